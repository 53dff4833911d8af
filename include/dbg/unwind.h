/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/unwind.h
 * Remote stack unwinding of a stopped thread, or of a snapshot (registers
 * and a copy of the stack) taken while it was stopped and unwound after
 * the target runs again. Ordinary frames are stepped with CFI rules
 * compiled once per address; a stack that needs more (signal frames, code
 * without CFI, DWARF expressions) goes to one of two backends: libunwind
 * (the default) or elfutils libdw. All read target memory through libdbg:
 * the stack from the snapshot or the stopped-target cache, unwind tables
 * and code from the module files mapped locally. See doc/unwinding.md.
 */
#ifndef DBG_UNWIND_H
#define DBG_UNWIND_H

#include <stdbool.h>
#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;
struct dbg_sym;
struct dbg_unwinder;
struct dbg_snapshot;

/** Unwinder implementations. */
enum dbg_unwind_backend {
	DBG_UNWIND_LIBUNWIND = 0, /**< libunwind's DWARF CFI unwinder */
	DBG_UNWIND_LIBDW = 1,     /**< elfutils libdwfl's unwinder */
};

/** dbg_unwind_opts.flags bits. */
enum dbg_unwind_flags {
	/**
	 * Every frame through the backend. By default a stack whose frames
	 * all have simple CFI rules (the CFA at rsp or rbp plus an offset,
	 * registers saved at offsets from it: nearly all compiled code) is
	 * unwound with rules compiled once per address, and only other
	 * stacks (signal frames, code without CFI, DWARF expressions) go to
	 * the backend.
	 */
	DBG_UNWIND_BACKEND_ONLY = 1u << 0,
};

/** Options for dbg_unwind_new(). */
struct dbg_unwind_opts {
	size_t sz; /**< sizeof(struct dbg_unwind_opts) */
	enum dbg_unwind_backend backend;
	unsigned int flags; /**< enum dbg_unwind_flags */
};

/**
 * An unwinder over @sym's modules (which must belong to @proc).
 * @param opts  may be NULL (libunwind).
 * @param ret   owned; free with dbg_unwind_free() before @sym and @proc.
 * @return 0; -EINVAL; -ENOMEM; -DBG_ERRNO_UNSUPPORTED (backend).
 * Since: 0.1
 */
DBG_API int dbg_unwind_new(struct dbg_proc *proc, struct dbg_sym *sym,
			   const struct dbg_unwind_opts *opts, struct dbg_unwinder **ret);

/** Free @u. NULL-safe. */
DBG_API void dbg_unwind_free(struct dbg_unwinder *u);

/** dbg_frame.flags bits. */
enum dbg_frame_flags {
	/**
	 * pc is where the thread was interrupted (the innermost frame, or
	 * the frame a signal interrupted), not a return address: look it up
	 * as is, not as pc - 1.
	 */
	DBG_FRAME_ACTIVATION = 1u << 0,
	/** The signal-return trampoline between a handler and the code the
	 * signal interrupted. */
	DBG_FRAME_SIGNAL = 1u << 1,
};

/** One frame, innermost first. */
struct dbg_frame {
	uint64_t pc;
	uint64_t sp;      /**< the stack pointer in this frame */
	uint32_t flags;   /**< enum dbg_frame_flags */
};

/**
 * Unwind stopped thread @tid of @u's target.
 * @param frames  filled with up to @cap frames, innermost first.
 * @return the number of frames (>= 1 when the thread's registers could be
 *         read); -ESRCH; -DBG_ERRNO_RUNNING the thread is not stopped;
 *         -EINVAL.
 * A frame the unwinder cannot get past ends the stack; it is not an error.
 */
DBG_API int dbg_unwind_thread(struct dbg_unwinder *u, pid_t tid,
			      struct dbg_frame *frames, size_t cap);

/**
 * Capture stopped thread @tid's registers and its stack from the stack
 * pointer (less the 128-byte red zone) up to the end of its VMA, at most
 * @stack_max bytes, so that it can be unwound after the target resumes.
 * This is all the target waits for: a register read and one copy.
 * @param ret  owned; free with dbg_snapshot_free().
 * @return 0; -ESRCH; -DBG_ERRNO_RUNNING; -EINVAL; -ENOMEM; -EFAULT the
 *         stack pointer is in no readable VMA.
 */
DBG_API int dbg_snapshot_take(struct dbg_proc *proc, pid_t tid, size_t stack_max,
			      struct dbg_snapshot **ret);

/**
 * dbg_snapshot_take() for @n stopped threads at once: the registers of
 * each, then all the stacks in one vectored read (the profiler's sample:
 * stop, take, resume).
 * @param ret  @n entries. On return each is an owned snapshot (free with
 *             dbg_snapshot_free()), or NULL for a thread that could not
 *             be captured (it exited, or is not stopped). An entry that
 *             holds a snapshot from an earlier call is refilled in place
 *             when its memory is large enough: a profiler that keeps its
 *             array between samples takes no page faults while the
 *             target waits. Other entries must be NULL.
 * @return how many snapshots were taken (>= 1); when none: the error of
 *         the first thread, as dbg_snapshot_take() would return it;
 *         -EINVAL; -ENOMEM.
 * Since: 0.1
 */
DBG_API int dbg_snapshot_take_threads(struct dbg_proc *proc, const pid_t *tids, size_t n,
				      size_t stack_max, struct dbg_snapshot **ret);

/** Free @s. NULL-safe. */
DBG_API void dbg_snapshot_free(struct dbg_snapshot *s);

/** The thread @s was taken from. */
DBG_API pid_t dbg_snapshot_tid(const struct dbg_snapshot *s);

/** Bytes of stack @s holds; a stack cut at stack_max ends its unwind early. */
DBG_API size_t dbg_snapshot_stack_size(const struct dbg_snapshot *s);

/**
 * Unwind a snapshot. Stack reads come from the snapshot only; code and
 * unwind tables from the module files; any other read from the target,
 * which may be running.
 * @return as dbg_unwind_thread().
 */
DBG_API int dbg_unwind_snapshot(struct dbg_unwinder *u, const struct dbg_snapshot *s,
				struct dbg_frame *frames, size_t cap);

/** Why the last stack ended (dbg_unwind_last_end()). */
enum dbg_unwind_end {
	/** The CFI marks the outermost frame (an undefined return address:
	 * _start, clone, clone3), or the frame pointer chain ends at 0, or
	 * the thread has not run its first instruction since clone. */
	DBG_UNWIND_END_OUTERMOST = 0,
	/** The frames array was full; the stack goes on. */
	DBG_UNWIND_END_CAP,
	/** The pc is in code without unwind information (no CFI, and no
	 * frame pointer chain to follow). */
	DBG_UNWIND_END_NO_CFI,
	/** The pc is in no mapped module (JIT code, garbage); a return
	 * address outside any executable mapping ends the stack there. */
	DBG_UNWIND_END_NO_MODULE,
	/** A stack read failed; for a snapshot: the copy ended (stack_max). */
	DBG_UNWIND_END_READ,
	/** The next frame would not be above this one (sp did not grow, or
	 * the same frame repeated): a corrupt or unusual stack. */
	DBG_UNWIND_END_BAD_FRAME,
	/** The backend stopped for another reason. */
	DBG_UNWIND_END_OTHER,
};

/**
 * Why the stack of the last dbg_unwind_thread() or dbg_unwind_snapshot()
 * call on @u ended, whichever path unwound it (compiled rules, libunwind,
 * libdw). DBG_UNWIND_END_CAP only when the stack goes on past the frames
 * array (a stack of exactly @cap frames ends for its own reason). After
 * a call that failed (a negative return) the value is unspecified;
 * before the first call it is DBG_UNWIND_END_OTHER.
 * Since: 0.2
 */
DBG_API enum dbg_unwind_end dbg_unwind_last_end(const struct dbg_unwinder *u);

/**
 * A short English description of @end ("outermost frame", ...); a static
 * string, never NULL. Thread-safe.
 * Since: 0.2
 */
DBG_API const char *dbg_unwind_end_str(enum dbg_unwind_end end);

DBG_END_DECLS

#endif /* DBG_UNWIND_H */
