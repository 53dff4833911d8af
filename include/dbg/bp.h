/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/bp.h
 * Software breakpoints and the run-control mode (all-stop or non-stop).
 *
 * A breakpoint is an int3 byte written into the target's code through the
 * memory layer. Reads through dbg_mem_read() and every other libdbg reader
 * return the original bytes; a dbg_mem_write() over a breakpoint changes the
 * saved original and keeps the int3. Any thread can hit a breakpoint; the
 * hit is reported by dbg_proc_wait() as DBG_EVENT_BREAKPOINT with event.bp
 * and event.addr, the thread's pc already rewound to the breakpoint
 * address. Resuming a thread that stands on a breakpoint executes the
 * original instruction without letting another thread run past it: in
 * place while the other threads are stopped, else as a displaced copy in a
 * scratch page of the target (see doc/runcontrol.md).
 *
 * Ownership: a struct dbg_bp is owned by the caller from dbg_bp_insert()
 * until dbg_bp_remove(); dbg_proc_detach() frees the ones still held (the
 * pointers are invalid after it). Same threading rules as dbg/proc.h.
 */
#ifndef DBG_BP_H
#define DBG_BP_H

#include <stdint.h>
#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;
struct dbg_bp;

/** Flags for dbg_bp_opts.flags. */
enum dbg_bp_flags {
	/** Removed from the target after its first reported hit (the handle
	 * stays valid, dbg_bp_info() then says inserted = 0). */
	DBG_BP_TEMPORARY = 1u << 0,
	/** Since 0.4: a thread already stopped at the address when the
	 * breakpoint goes in hits it as soon as it is resumed (a reported
	 * hit) instead of stepping over it. gdb's remote protocol works so:
	 * gdb puts a breakpoint at a thread's pc to get a stop there
	 * (dbg-server). */
	DBG_BP_STANDING_HIT = 1u << 1,
};

/** Options for dbg_bp_insert(). NULL means all defaults. */
struct dbg_bp_opts {
	size_t sz;          /**< sizeof(struct dbg_bp_opts) */
	unsigned int flags; /**< enum dbg_bp_flags */
	/** Report hits of this thread only (0: every thread). Other threads
	 * step over the breakpoint silently. */
	pid_t tid;
};

/**
 * Insert a software breakpoint at @addr.
 *
 * Several breakpoints may share an address (one int3); a hit is reported
 * for the first one, in insertion order, whose thread filter matches.
 * Works on read-only text (the write goes through /proc/PID/mem or
 * PTRACE_POKEDATA, whatever dbg_mem_set_backend() says). The target may be
 * running (non-stop); a thread already stopped at @addr steps over it when
 * resumed instead of reporting it (unless DBG_BP_STANDING_HIT).
 *
 * @param proc    the target.
 * @param addr    the address of an instruction's first byte.
 * @param opts    options, or NULL.
 * @param ret_bp  the new breakpoint, owned by the caller.
 * @return 0; -EFAULT @addr is not mapped or not writable; -EINVAL bad
 *         arguments or options; -ESRCH the target is gone; -ENOMEM; -EXDEV;
 *         -ECHILD.
 * Since: 0.3
 */
DBG_API int dbg_bp_insert(struct dbg_proc *proc, uint64_t addr, const struct dbg_bp_opts *opts,
			  struct dbg_bp **ret_bp);

/**
 * Remove @bp from the target (unless another breakpoint shares its
 * address) and free it. A thread that hit it and whose event is still
 * queued is handled: its trap is not delivered as a SIGTRAP. A breakpoint
 * already gone (temporary and hit, dropped by an exec) is just freed.
 * @return 0 (@bp is freed); -ESRCH the target is gone (@bp is freed
 *         anyway); -EINVAL @bp is NULL or not of @proc; -EXDEV; -ECHILD
 *         (@bp is not freed for these two).
 * Since: 0.3
 */
DBG_API int dbg_bp_remove(struct dbg_proc *proc, struct dbg_bp *bp);

/** What dbg_bp_info() tells. */
struct dbg_bp_info {
	uint64_t addr;      /**< the breakpoint's address */
	uint64_t hits;      /**< hits reported so far */
	unsigned int flags; /**< enum dbg_bp_flags, as inserted */
	pid_t tid;          /**< the thread filter (0: all) */
	int inserted;       /**< 1 while its int3 is in the target */
};

/**
 * Describe @bp into *ret_info.
 * @return 0; -ESRCH the breakpoint was dropped because the target execed
 *         another program or is gone (*ret_info is still filled: its
 *         address and hit count); -EINVAL.
 * Since: 0.3
 */
DBG_API int dbg_bp_info(const struct dbg_bp *bp, struct dbg_bp_info *ret_info);

/** The address of @bp (0 for NULL). Since: 0.3 */
DBG_API uint64_t dbg_bp_addr(const struct dbg_bp *bp);

/** The hits of @bp reported so far (0 for NULL). Since: 0.3 */
DBG_API uint64_t dbg_bp_hits(const struct dbg_bp *bp);

/**
 * List the breakpoints @proc holds (inserted or not, not yet removed) into
 * @buf, at most @cap, in insertion order. Borrowed pointers.
 * @return how many there are (may exceed @cap); -EINVAL; -EXDEV; -ECHILD.
 * Since: 0.3
 */
DBG_API int dbg_bp_list(struct dbg_proc *proc, struct dbg_bp **buf, size_t cap);

/** Run-control modes, see dbg_runctl_set_mode(). */
enum dbg_runctl_mode {
	/**
	 * The default: when dbg_proc_wait() reports an event only that
	 * thread is stopped; the others keep running. Stepping over a
	 * breakpoint uses displaced stepping so no other thread is held
	 * (instructions that cannot be displaced stop the others briefly).
	 */
	DBG_RUNCTL_NON_STOP = 0,
	/**
	 * When dbg_proc_wait() reports an event every other thread is
	 * stopped too (events met on the way are queued and reported by the
	 * next waits). dbg_proc_resume() resumes every thread, except while
	 * a queued event names a stopped thread: then nothing is resumed
	 * and the next dbg_proc_wait() reports that event at once, so no
	 * event is reported about a thread that runs.
	 */
	DBG_RUNCTL_ALL_STOP = 1,
};

/**
 * Choose the run-control mode of @proc (any time; it applies from the
 * next dbg_proc_wait() / dbg_proc_resume()).
 * @return 0; -EINVAL unknown mode; -EXDEV; -ECHILD.
 * Since: 0.3
 */
DBG_API int dbg_runctl_set_mode(struct dbg_proc *proc, enum dbg_runctl_mode mode);

/** The current mode of @proc, or -EINVAL for NULL. Since: 0.3 */
DBG_API int dbg_runctl_mode(const struct dbg_proc *proc);

/** Counters of how threads were moved off breakpoints. */
struct dbg_bp_stats {
	uint64_t hits;        /**< breakpoint hits reported */
	uint64_t silent;      /**< hits swallowed (thread filter, module bp) */
	uint64_t emulated;    /**< step-overs done by emulating the instruction */
	uint64_t inplace;     /**< step-overs in place (others stopped) */
	uint64_t displaced;   /**< step-overs as a displaced copy */
	uint64_t paused;      /**< step-overs that had to stop other threads */
	uint64_t late_traps;  /**< traps of removed breakpoints absorbed */
	uint64_t scratch_pages; /**< scratch pages mapped in the target */
};

/**
 * Copy @proc's counters into *ret_stats.
 * @return 0; -EINVAL. Since: 0.3
 */
DBG_API int dbg_bp_get_stats(const struct dbg_proc *proc, struct dbg_bp_stats *ret_stats);

/**
 * Ask for DBG_EVENT_MODULES events: a breakpoint on the dynamic linker's
 * r_debug.r_brk (found through DT_DEBUG in the program's dynamic section,
 * else the dynamic linker's _dl_debug_state symbol), hit each time the
 * list of loaded modules changes (dlopen, dlclose, the start-up). The
 * event's status is r_debug.r_state (0 consistent, 1 adding, 2
 * deleting); the maps are re-read. Kept across exec (set again in the new
 * program when it has a dynamic linker).
 * @return 0; -ENOENT the program has no dynamic linker (static); -EFAULT;
 *         -ESRCH; -EXDEV; -ECHILD.
 * Since: 0.3
 */
DBG_API int dbg_bp_modules_enable(struct dbg_proc *proc);

DBG_END_DECLS

#endif /* DBG_BP_H */
