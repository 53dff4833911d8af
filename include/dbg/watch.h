/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/watch.h
 * Hardware watchpoints and breakpoints: the x86 debug registers DR0-DR3
 * (addresses) and DR7 (control) of every thread of the target, DR6
 * decoded when one fires.
 *
 * A watch is programmed into every traced thread, threads created later
 * included (the kernel starts a new thread with none: libdbg programs it
 * before it runs its first instruction), or into one thread only
 * (dbg_watch_insert_thread()). There are four address registers per
 * thread. A watched range of 1, 2, 4 or 8 bytes aligned to its length
 * takes one; any other range is split exactly into aligned pieces of
 * those sizes, one register each (3 bytes at an odd address: a 1-byte and
 * a 2-byte piece; 16 bytes aligned to 8: two 8-byte pieces). Identical
 * pieces of different watches share a register.
 *
 * When one fires, dbg_proc_wait() reports DBG_EVENT_WATCHPOINT: event.watch
 * is the watch, event.addr the start of the piece whose register matched.
 * The processor reports which register matched, not which byte was
 * accessed: event.addr lies in [dbg_watch_addr(), + dbg_watch_len()), and
 * it is dbg_watch_addr() for a range of one piece. A write or access watch
 * stops the thread after the instruction that touched the range; an exec
 * breakpoint stops it before the instruction at the address runs (its pc
 * is the address), and resuming runs that instruction without firing
 * again (the kernel sets EFLAGS.RF for the return to the thread). When
 * the same instruction also ended a single-step (DR6.BS),
 * event.siginfo.code is TRAP_TRACE instead of TRAP_HWBKPT: the step is
 * done as well.
 *
 * exec: the kernel clears every debug register (a new program, a new
 * address space): the watches of the process are dropped. Their handles
 * stay valid (dbg_watch_active() is 0 from then on) until
 * dbg_watch_remove() or the end of the process handle. fork: the child
 * has none; a followed child (dbg_proc_attach_child()) gets watches of
 * its own through its own handle. Detach restores the debug registers of
 * every thread to what they were before libdbg wrote them (DR7 = 0 for a
 * thread nobody else had set).
 *
 * Watches and dbg_regs_set_debugreg() use the same registers: a caller
 * that writes DR0-DR3 or DR7 by hand while watches are inserted gets what
 * it wrote overwritten at the next change of the watches.
 * Since: 0.3
 */
#ifndef DBG_WATCH_H
#define DBG_WATCH_H

#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;
struct dbg_watch;

/** What a watch stops on. */
enum dbg_watch_kind {
	/** A hardware breakpoint: the instruction at the address is about
	 * to run (len 1). */
	DBG_WATCH_EXEC = 1,
	/** A data write to any byte of the range. */
	DBG_WATCH_WRITE = 2,
	/** A data read or write of any byte of the range (x86 has no
	 * read-only watch). */
	DBG_WATCH_READWRITE = 3,
};

/**
 * Insert a hardware watchpoint or breakpoint into every thread of @proc,
 * now and created later.
 *
 * Threads that are stopped are programmed at once; running threads are
 * stopped for it (dbg_proc_stop_thread()) and resumed, unless they stop
 * for an event of their own meanwhile (it is queued for dbg_proc_wait());
 * threads in a group-stop and new threads are programmed before they
 * next run.
 *
 * @param proc       the process.
 * @param addr       first byte watched (a user-space address).
 * @param len        bytes watched; 1 for DBG_WATCH_EXEC. Ranges that are
 *                   not one aligned piece of 1, 2, 4 or 8 bytes take one
 *                   register per piece (see the file comment).
 * @param kind       enum dbg_watch_kind.
 * @param ret_watch  on success the watch; owned by @proc: freed by
 *                   dbg_watch_remove() or with @proc (dbg_proc_detach()).
 * @return 0; -EINVAL bad kind, len 0, an exec breakpoint longer than 1, a
 *         range that wraps, or an address the kernel refuses (kernel
 *         space, not canonical; the message says which); -ENOSPC the four
 *         debug registers of some thread are in use (the message says how
 *         many the range needs and how many are free); -ESRCH the process
 *         is gone; -DBG_ERRNO_ARCH the target is not an x86_64 process any
 *         more; -ENOMEM; -EXDEV/-ECHILD (wrong thread, see dbg/proc.h).
 * Since: 0.3
 */
DBG_API int dbg_watch_insert(struct dbg_proc *proc, uint64_t addr, size_t len,
			     enum dbg_watch_kind kind, struct dbg_watch **ret_watch);

/**
 * dbg_watch_insert() for one thread only: the watch is programmed into
 * @tid's debug registers and fires in no other thread. When @tid exits
 * the watch stays (it matches no thread) until removed. @tid 0 means
 * every thread, as dbg_watch_insert().
 * @return as dbg_watch_insert(), and -ENOENT for an unknown @tid.
 * Since: 0.3
 */
DBG_API int dbg_watch_insert_thread(struct dbg_proc *proc, pid_t tid, uint64_t addr, size_t len,
				    enum dbg_watch_kind kind, struct dbg_watch **ret_watch);

/**
 * Remove @watch from every thread and free it. The registers of stopped
 * threads are cleared at once, those of running threads as for
 * dbg_watch_insert(). A DBG_EVENT_WATCHPOINT of @watch still queued has
 * event.watch NULL once it is removed. NULL is -EINVAL.
 * @return 0; -ESRCH the process is gone (@watch is freed all the same);
 *         -EINVAL @watch is not one of @proc's; a negative errno when a
 *         thread's registers could not be cleared (the message says
 *         which; @watch is freed); -EXDEV/-ECHILD.
 * Since: 0.3
 */
DBG_API int dbg_watch_remove(struct dbg_proc *proc, struct dbg_watch *watch);

/** The first address watched. Since: 0.3 */
DBG_API uint64_t dbg_watch_addr(const struct dbg_watch *watch);
/** The number of bytes watched. Since: 0.3 */
DBG_API size_t dbg_watch_len(const struct dbg_watch *watch);
/** The kind, or 0 for NULL. Since: 0.3 */
DBG_API enum dbg_watch_kind dbg_watch_kind(const struct dbg_watch *watch);
/** The thread it is limited to, or 0 for every thread. Since: 0.3 */
DBG_API pid_t dbg_watch_thread(const struct dbg_watch *watch);
/** How many times it was reported (DBG_EVENT_WATCHPOINT). Since: 0.3 */
DBG_API uint64_t dbg_watch_hits(const struct dbg_watch *watch);
/** How many debug registers it takes in each thread (1-4). Since: 0.3 */
DBG_API int dbg_watch_nregs(const struct dbg_watch *watch);
/** 1 while programmed; 0 once an exec dropped it (or for NULL). Since: 0.3 */
DBG_API int dbg_watch_active(const struct dbg_watch *watch);

DBG_END_DECLS

#endif /* DBG_WATCH_H */
