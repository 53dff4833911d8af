/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/core.h
 * Core files of live processes, laid out as the kernel writes them
 * (fs/binfmt_elf.c): the ELF header, one PT_NOTE first, then one PT_LOAD
 * per VMA, page-aligned, never-touched pages left as holes. See
 * doc/core.md for the layout, the dump rules and the modes.
 */
#ifndef DBG_CORE_H
#define DBG_CORE_H

#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;

/** What goes into the core. */
enum dbg_core_mode {
	/** Everything the kernel would dump under the coredump_filter. */
	DBG_CORE_FULL = 0,
	/**
	 * For crash collectors: the notes, each thread's stack from its sp
	 * (bounded by dbg_core_opts.stack_max), the first page (ELF header,
	 * program headers, build-id note) of every mapped ELF, the
	 * executable's and the dynamic linker's data (r_debug and the
	 * link_map chain), and [vdso]. Kilobytes; gdb and eu-stack load it
	 * with the binaries on disk.
	 */
	DBG_CORE_MINIMAL = 1,
	/**
	 * The full content, with the target stopped only for milliseconds.
	 * Two mechanisms, chosen at run time (dbg_core_info.snapshot says
	 * which ran):
	 *
	 * Pre-copy (DBG_CORE_SNAP_PRECOPY, the default where it works: a
	 * seekable regular file as output, Linux 6.7 or later with
	 * userfaultfd write-protection): a userfaultfd is made in the
	 * target (an injected system call during a sub-millisecond stop)
	 * and its VMAs registered in asynchronous write-protect mode; the
	 * memory is copied while the target runs, the pages it wrote
	 * meanwhile (PAGEMAP_SCAN's "written") copied again in up to
	 * three rounds; then the threads are stopped, their registers
	 * captured, the pages written since the last round copied, and the
	 * target resumed. The core is the memory at that stop. Registration
	 * ends (the userfaultfd is closed) before the call returns; the
	 * target's writes meanwhile took a minor fault each.
	 *
	 * Fork (DBG_CORE_SNAP_FORK, or with DBG_CORE_FORK_SNAPSHOT): a
	 * fork is injected into one stopped thread (dbg_inject_syscall),
	 * the child (stopped before its first instruction, never resumed)
	 * holds a copy-on-write snapshot of the memory, the target runs on
	 * at once, the memory is read from the child, and the child is
	 * killed. Regions a child does not get (MADV_DONTFORK,
	 * MADV_WIPEONFORK) are read from the running target and reported as
	 * DBG_CORE_REGION_FROM_PARENT. The fork copies the page tables: its
	 * pause grows with the resident memory.
	 */
	DBG_CORE_LOW_PAUSE = 2,
};
/** dbg-core and other callers can test for the low-pause mode. */
#define DBG_CORE_HAS_LOW_PAUSE 1

/** dbg_core_opts.flags. */
enum dbg_core_flags {
	/** Use dbg_core_opts.coredump_filter instead of the target's
	 * /proc/PID/coredump_filter (so that 0 can be asked for). */
	DBG_CORE_SET_FILTER = 1u << 0,
	/** Write from the calling thread only. By default a helper thread
	 * writes one chunk while the caller reads the next (it blocks all
	 * signals and ends before dbg_core_write() returns). */
	DBG_CORE_ONE_THREAD = 1u << 1,
	/** DBG_CORE_LOW_PAUSE: use the fork snapshot, not the pre-copy.
	 * Since: 0.3 */
	DBG_CORE_FORK_SNAPSHOT = 1u << 2,
	/** DBG_CORE_LOW_PAUSE: never fork the target (a fork charges its
	 * memory once more against overcommit limits and makes a sibling its
	 * parent sees): pre-copy only, copying at the stop whatever was
	 * written since the last round; -ENOTSUP where pre-copy is not
	 * possible. Since: 0.3 */
	DBG_CORE_NO_FORK = 1u << 3,
};

/** dbg_core_info.snapshot: how DBG_CORE_LOW_PAUSE took the memory. */
enum dbg_core_snapshot {
	DBG_CORE_SNAP_NONE = 0,    /**< not low-pause: the target was stopped */
	DBG_CORE_SNAP_FORK = 1,    /**< an injected fork's child */
	DBG_CORE_SNAP_PRECOPY = 2, /**< pre-copy with userfaultfd write-protection */
	/** pre-copy, then, as the target had written much since the last
	 * round, a fork at the stop for those pages (copied from the child
	 * after the resume) */
	DBG_CORE_SNAP_PRECOPY_FORK = 3,
};

/** dbg_core_region.kind. */
enum dbg_core_region_kind {
	/** Memory the core should hold but that could not be read: written
	 * as a hole (reads as zeros). err says why. */
	DBG_CORE_REGION_UNREADABLE = 1,
	/** DBG_CORE_LOW_PAUSE: not in the snapshot (MADV_DONTFORK or
	 * MADV_WIPEONFORK), read from the running target instead. */
	DBG_CORE_REGION_FROM_PARENT = 2,
};

/** A region of the target reported through dbg_core_opts.region_fn. */
struct dbg_core_region {
	uint64_t start, end;   /**< [start, end) */
	enum dbg_core_region_kind kind;
	int err;               /**< UNREADABLE: negative errno (-EFAULT, -EIO ...) */
};

/** Called for each region in a report; @r is borrowed for the call. */
typedef void (*dbg_core_region_fn)(const struct dbg_core_region *r, void *ctx);

/**
 * Progress: @done of @total bytes of memory content planned. Return
 * non-zero to cancel the dump (dbg_core_write() then fails with
 * -ECANCELED, the file truncated and marked).
 */
typedef int (*dbg_core_progress_fn)(uint64_t done, uint64_t total, void *ctx);

/** What a dump did; filled when dbg_core_opts.info is set. */
struct dbg_core_info {
	size_t sz;              /**< set by the caller: sizeof(struct dbg_core_info) */
	uint64_t file_size;     /**< apparent size of the core */
	uint64_t data_bytes;    /**< memory bytes written (not holes) */
	uint64_t hole_bytes;    /**< memory bytes left as holes */
	uint64_t unreadable_bytes; /**< of those, bytes that could not be read */
	uint32_t nthreads;
	uint32_t nsegments;     /**< program headers, PT_NOTE included */
	uint32_t coredump_filter; /**< the filter used */
	int truncated;          /**< the size limit cut the file (marked) */
	/** How long the target's threads were kept stopped by the call, in
	 * nanoseconds (0 if the caller had them stopped already). */
	uint64_t pause_ns;
	/** enum dbg_core_snapshot. Since: 0.3 */
	uint32_t snapshot;
	/** DBG_CORE_SNAP_PRECOPY: copy rounds made while the target ran. */
	uint32_t precopy_rounds;
	/** DBG_CORE_SNAP_PRECOPY: the short stop that made the userfaultfd
	 * in the target, in nanoseconds (not in pause_ns). */
	uint64_t setup_pause_ns;
	/** DBG_CORE_SNAP_PRECOPY: bytes copied again while the target was
	 * stopped (pages it wrote after the last round, VMAs it changed). */
	uint64_t pause_copy_bytes;
	/** Why DBG_CORE_LOW_PAUSE fell back to the fork (0: it did not),
	 * a negative errno: -ENOTSUP no userfaultfd write-protection or
	 * PAGEMAP_SCAN, -ESPIPE the output is not a seekable regular file,
	 * -EFBIG a size limit is set, -EPERM the target is under a seccomp
	 * filter (an injected userfaultfd could kill it),
	 * or the error that made the userfaultfd fail. */
	int precopy_fallback;
};

/** Options for dbg_core_write(). NULL means all defaults. */
struct dbg_core_opts {
	size_t sz;              /**< sizeof(struct dbg_core_opts) */
	unsigned int flags;     /**< enum dbg_core_flags */
	enum dbg_core_mode mode;
	/** The thread written first (the "signalled" one tools show as
	 * current); 0: the thread-group leader, else the first live one. */
	pid_t first_tid;
	/** Signal recorded in NT_PRSTATUS.pr_cursig and NT_SIGINFO; 0 none. */
	int signo;
	/** With DBG_CORE_SET_FILTER: the bits of coredump_filter(5). */
	unsigned int coredump_filter;
	/** Stop writing at this many bytes, like RLIMIT_CORE (0: none). The
	 * core is cut and marked as a truncated one (see doc/core.md). */
	uint64_t size_limit;
	/** DBG_CORE_MINIMAL: bytes of each stack kept from sp up (0: 64 KiB). */
	uint64_t stack_max;
	dbg_core_progress_fn progress_fn;
	void *progress_ctx;
	/** Told about every unreadable region (written as a hole). */
	dbg_core_region_fn region_fn;
	void *region_ctx;
	dbg_log_fn log_fn;
	void *log_ctx;
	/** Out, optional: filled on success and on failure after the
	 * layout was known. Its sz must be set. */
	struct dbg_core_info *info;
};

/**
 * Write a core file of the target to @fd.
 *
 * Threads that run are stopped for the dump and resumed after it; the
 * threads the caller had stopped stay stopped. Registers come from the
 * register API (NT_PRSTATUS, NT_FPREGSET, NT_X86_XSTATE as the kernel
 * gives them to ptrace) and memory only through dbg_mem_read(), so
 * anything the memory layer hides (breakpoints) never reaches the file.
 *
 * @fd is written from its current offset on, which must be 0 for a
 * seekable file (the core's offsets are absolute). Holes are left with
 * lseek (the file is sparse); on a pipe they are written as zeros.
 *
 * @param proc  the attached target.
 * @param fd    where to write; not closed.
 * @param opts  options, or NULL.
 * @return 0; -ENOSPC / -EFBIG / -EIO the file could not be written (a
 *         seekable file is truncated to what was written, its headers
 *         cut to match and marked, see doc/core.md); -ESRCH the target
 *         exited during the dump (likewise cut and marked); -ECANCELED
 *         the progress callback asked to stop; -EINVAL bad arguments or
 *         @fd not at offset 0; -ENOENT first_tid is not a live thread;
 *         -EXDEV wrong thread; -ENOMEM. DBG_CORE_LOW_PAUSE also: the
 *         injected fork's own error (-EAGAIN, -ENOMEM ...); -EBUSY every
 *         thread has a signal to deliver. In low-pause mode a target
 *         that dies after the fork still gives a whole core (the memory
 *         is the child's); only the regions read from the target are
 *         then holes, reported as unreadable.
 *
 * A helper thread (all signals blocked) writes while the calling thread
 * reads, unless DBG_CORE_ONE_THREAD; it has ended when the call returns.
 * Since: 0.2
 */
DBG_API int dbg_core_write(struct dbg_proc *proc, int fd, const struct dbg_core_opts *opts);

/**
 * Whether the core in @fd was cut short by dbg_core_write() (size limit,
 * a full disk, the target exiting, a cancel), from its mark.
 * @return 1 cut, 0 complete, -DBG_ERRNO_PARSE not an ELF core, -errno
 *         reading @fd. Thread-safe.
 * Since: 0.2
 */
DBG_API int dbg_core_is_truncated(int fd);

DBG_END_DECLS

#endif /* DBG_CORE_H */
