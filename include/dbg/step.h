/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/step.h
 * Stepping one thread: an instruction, over a call, out of the current
 * frame, a source line (into or over calls, as gdb's step and next),
 * finish (out, with the return value) and an address range (gdb's
 * vCont;r).
 *
 * dbg_step() starts the step and resumes only @tid; the other threads keep
 * the state they have (call dbg_proc_resume() to let stopped ones run too,
 * as an all-stop debugger does). The step ends with a DBG_EVENT_STEP from
 * dbg_proc_wait() for @tid, event.addr its pc; dbg_step_result() then says
 * how many instructions ran and, for FINISH, the return value registers.
 * Anything else the thread meets on the way (a breakpoint, a watchpoint,
 * a signal, an exit, an event, a stop by dbg_proc_stop()) is reported as
 * it is and ends the step (dbg_step_result() says DBG_STEP_END_INTERRUPTED);
 * a hit of a breakpoint that does not report for @tid does not, nor does
 * an event inside a system call the step runs (the clone event of a
 * pthread_create() stepped over: resume the thread and the step goes on). A step
 * that ends on a breakpoint of @tid is reported as that breakpoint's hit
 * (DBG_EVENT_BREAKPOINT), as gdb does. The step advances while the caller
 * waits in dbg_proc_wait() (or polls dbg_proc_fd()). To stop a stepping
 * thread, dbg_step_cancel() it first.
 *
 * Steps are made of single-steps, except that OVER and NEXT over a call
 * and OUT and FINISH run the thread free (PTRACE_CONT) to an internal
 * breakpoint at the return address that only @tid stops at (other
 * threads step over it unreported); its hit counts only when the stack
 * pointer is back above the frame, so recursion cannot stop a step early
 * (a frame is left when its return address is reached with the
 * stack pointer back above the frame). See doc/runcontrol.md, "Stepping".
 */
#ifndef DBG_STEP_H
#define DBG_STEP_H

#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;
struct dbg_sym;
struct dbg_unwinder;

/** What a step does. Since: 0.3 */
enum dbg_step_kind {
	/** One instruction (into calls). */
	DBG_STEP_INSN = 0,
	/** One instruction; a call is run until it returns (gdb's nexti). */
	DBG_STEP_OVER = 1,
	/** Run until the current frame returns: the step ends in the caller
	 * at the return address, with the stack pointer above the frame, so
	 * a recursive call returning to the same address does not end it.
	 * Needs opts.sym (the frame is found by the unwinder). */
	DBG_STEP_OUT = 2,
	/** Source line, into called functions that have line information
	 * (gdb's step; stops after the callee's prologue). Needs opts.sym. */
	DBG_STEP_LINE = 3,
	/** Source line, calls run to their return (gdb's next). Needs
	 * opts.sym. */
	DBG_STEP_NEXT = 4,
	/** As OUT; dbg_step_result() gives rax and rdx at the return. */
	DBG_STEP_FINISH = 5,
	/** Step while pc stays in [opts.start, opts.end): at least one
	 * instruction; the step ends at the first pc outside (gdb's
	 * vCont;r). No symbols needed. */
	DBG_STEP_RANGE = 6,
};

/** Options for dbg_step(). Since: 0.3 */
struct dbg_step_opts {
	size_t sz;                  /**< sizeof(struct dbg_step_opts) */
	/** Line tables and frames (OUT, LINE, NEXT, FINISH); borrowed,
	 * must outlive the step. */
	struct dbg_sym *sym;
	/** The unwinder for OUT and FINISH, or NULL: one is made over
	 * sym for the call. Borrowed. */
	struct dbg_unwinder *unwinder;
	uint64_t start, end;        /**< RANGE: the address range */
};

/**
 * Start a step of stopped thread @tid and resume it.
 * @param opts  may be NULL for INSN, OVER (no symbols needed).
 * @return 0 (the thread runs; wait for its DBG_EVENT_STEP); -ENOENT no
 *         such thread; -DBG_ERRNO_RUNNING it is not stopped; -EBUSY a step
 *         of @tid is in progress (dbg_step_cancel() it); -EINVAL bad kind
 *         or options (LINE, NEXT, OUT, FINISH without sym; RANGE with
 *         start >= end); -ENOENT OUT/FINISH: the frame has no caller the
 *         unwinder can find (the message says so); -EFAULT the code at pc
 *         cannot be read; -ESRCH the target is gone; -EXDEV.
 * Since: 0.3
 */
DBG_API int dbg_step(struct dbg_proc *proc, pid_t tid, enum dbg_step_kind kind,
		     const struct dbg_step_opts *opts);

/**
 * Forget the step in progress in @tid (it may be running; it is not
 * stopped: a single-step already asked for still ends with a trap, which
 * is then reported as DBG_EVENT_TRAP; a step running free to a return
 * address has its internal breakpoint taken out and the thread runs on).
 * No step: 0.
 * @return 0; -ENOENT; -EXDEV.
 * Since: 0.3
 */
DBG_API int dbg_step_cancel(struct dbg_proc *proc, pid_t tid);

/** How a step ended. Since: 0.3 */
enum dbg_step_end {
	DBG_STEP_END_DONE = 0,        /**< as asked; DBG_EVENT_STEP was reported */
	DBG_STEP_END_INTERRUPTED = 1, /**< another event of the thread ended it */
	DBG_STEP_END_CANCELLED = 2,   /**< dbg_step_cancel() */
};

/** The outcome of a thread's last step. Since: 0.3 */
struct dbg_step_result {
	enum dbg_step_kind kind;
	enum dbg_step_end end;
	uint64_t pc;        /**< where it ended (DONE) */
	uint64_t steps;     /**< instructions single-stepped */
	/** FINISH: the return value registers at the return (integers and
	 * pointers in rax, 128-bit values in rdx:rax; floating point is in
	 * xmm0, read it with dbg_regs_get_fp()). */
	uint64_t rax, rdx;
};

/**
 * The outcome of @tid's last step, once it has ended.
 * @return 0; -ENOENT no such thread or it never finished a step;
 *         -EBUSY its step is still in progress; -EINVAL; -EXDEV.
 * Since: 0.3
 */
DBG_API int dbg_step_result(struct dbg_proc *proc, pid_t tid, struct dbg_step_result *ret);

DBG_END_DECLS

#endif /* DBG_STEP_H */
