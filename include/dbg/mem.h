/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/mem.h
 * Reading and writing the target's memory.
 *
 * A read is planned as pieces that each lie in one VMA of the target's
 * table (so every kernel call touches exactly one VMA), and each piece goes
 * to a backend: process_vm_readv (batched), pread on /proc/PID/mem (the
 * path a kernel with the per-VMA-lock fast path serves, preferred where the
 * kernel has it), or PTRACE_PEEKDATA (aligned words, needs a stopped
 * thread). A short count from a backend is data: the next backend goes on
 * from there. Non-readable (PROT_NONE) pages are read as gdb reads them,
 * with FOLL_FORCE through /proc/PID/mem or PEEKDATA. See doc/memory.md.
 */
#ifndef DBG_MEM_H
#define DBG_MEM_H

#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;

/** Memory backends. */
enum dbg_mem_backend {
	DBG_MEM_AUTO = 0,     /**< choose per piece (default) */
	DBG_MEM_PVR = 1,      /**< process_vm_readv / process_vm_writev */
	DBG_MEM_PROCMEM = 2,  /**< pread/pwrite on /proc/PID/mem */
	DBG_MEM_PEEK = 3,     /**< PTRACE_PEEKDATA / POKEDATA */
	DBG_MEM__NR_BACKENDS
};

/**
 * Read up to @len bytes at @addr.
 * @return how many bytes from @addr were read, contiguously: a short count
 *         stops exactly at the first byte a debugger cannot read; or
 *         -EFAULT not even the first byte is readable (a hole); -ESRCH
 *         the target is gone; -EXDEV wrong thread; -EINVAL.
 * Since: 0.1
 */
DBG_API ssize_t dbg_mem_read(struct dbg_proc *proc, uint64_t addr, void *buf, size_t len);

/**
 * Write @len bytes at @addr, reaching read-only code: through
 * /proc/PID/mem, else PTRACE_POKEDATA (read-modify-write at unaligned
 * edges, needs a stopped thread). Invalidates the read cache.
 * @return bytes written from @addr (short at the first unwritable byte),
 *         or -EFAULT/-EIO nothing written; -ESRCH; -EXDEV; -EINVAL.
 * Since: 0.1
 */
DBG_API ssize_t dbg_mem_write(struct dbg_proc *proc, uint64_t addr, const void *buf, size_t len);

/** One range of a vectored read. */
struct dbg_mem_range {
	uint64_t addr;
	void *buf;
	size_t len;
	/** Out: as dbg_mem_read() would return for this range. */
	ssize_t result;
};

/**
 * Read many ranges in as few kernel calls as possible (process_vm_readv
 * takes up to 1024 pieces per call). Each range gets its own result.
 * @return 0 when every range has its result; -ESRCH; -EXDEV; -EINVAL.
 */
DBG_API int dbg_mem_readv(struct dbg_proc *proc, struct dbg_mem_range *ranges, size_t n);

/**
 * Force one backend for reads and writes (DBG_MEM_AUTO restores the
 * default choice). A forced backend that fails is not replaced by another.
 * @return 0; -EINVAL.
 */
DBG_API int dbg_mem_set_backend(struct dbg_proc *proc, enum dbg_mem_backend backend);

/**
 * Size the page cache that serves small reads while every thread is
 * stopped (it is dropped on any resume and on writes). 0 disables it.
 * Default: 256 pages (1 MiB). A cached read costs no system call, so it
 * does not notice that a stopped target was killed until libdbg reaps the
 * death (the next wait, stop or resume); it returns the bytes the target
 * had when it stopped.
 */
DBG_API int dbg_mem_set_cache(struct dbg_proc *proc, size_t pages);

/** Per-proc statistics. */
struct dbg_mem_stats {
	uint64_t calls[DBG_MEM__NR_BACKENDS];  /**< kernel calls per backend */
	uint64_t bytes[DBG_MEM__NR_BACKENDS];  /**< bytes read per backend */
	uint64_t pieces;        /**< single-VMA pieces planned */
	uint64_t splits;        /**< reads split at a VMA boundary */
	uint64_t fallbacks;     /**< pieces finished by a later backend */
	uint64_t cache_hits, cache_misses;
	uint64_t maps_refreshes;
	uint64_t writes, bytes_written;
	/** The kernel has the per-VMA-lock remote read fast path. */
	int kernel_fast_path;
};

/** Copy the statistics into @ret_stats. @return 0; -EINVAL. */
DBG_API int dbg_mem_get_stats(const struct dbg_proc *proc, struct dbg_mem_stats *ret_stats);

/** Zero the counters. */
DBG_API void dbg_mem_reset_stats(struct dbg_proc *proc);

DBG_END_DECLS

#endif /* DBG_MEM_H */
