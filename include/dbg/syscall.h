/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/syscall.h
 * System calls and signals: catching system calls at entry and exit
 * (PTRACE_SYSCALL, or a seccomp-bpf filter set up by dbg_proc_spawn()),
 * the per-signal stop/pass policy, a thread's raw siginfo, and sending a
 * signal to one chosen thread. See doc/runcontrol.md, "System calls and
 * signals".
 *
 * Threading and errors as in dbg/proc.h: calls from a thread other than
 * the one that made @proc fail with -EXDEV, from a forked child with
 * -ECHILD; dbg_proc_errmsg() says more after a failure.
 * Since: 0.3
 */
#ifndef DBG_SYSCALL_H
#define DBG_SYSCALL_H

#include <stddef.h>
#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;

/** Flags for dbg_syscall_catch(). */
enum dbg_syscall_flags {
	/** Catch every system call of the x86_64 ABI (the numbers are
	 * ignored); always in the PTRACE_SYSCALL mode. */
	DBG_SYSCALL_CATCH_ALL = 1u << 0,
	/** Report entries only: no DBG_EVENT_SYSCALL_EXIT (in the seccomp
	 * mode a caught call then costs one stop instead of two). */
	DBG_SYSCALL_NO_EXIT = 1u << 1,
};

/** How the caught system calls are stopped, see dbg_syscall_mode(). */
enum dbg_syscall_mode {
	DBG_SYSCALL_MODE_OFF = 0,     /**< not catching */
	/** Every thread resumes with PTRACE_SYSCALL: it stops at every
	 * system call's entry and exit, and the ones not caught are
	 * resumed at once without an event. */
	DBG_SYSCALL_MODE_PTRACE = 1,
	/** The spawn's seccomp filter (dbg_spawn_opts.seccomp_sysnos)
	 * stops the target only at the calls it lists; an exit stop
	 * follows only for a caught one. */
	DBG_SYSCALL_MODE_SECCOMP = 2,
};

/** The largest system call number dbg_syscall_catch() accepts, plus one. */
#define DBG_SYSCALL_NR_MAX 1024

/**
 * Catch the system calls @nrs[0..@n) of every thread of @proc, including
 * threads created later: a thread entering one stops with
 * DBG_EVENT_SYSCALL_ENTRY (event.sysno), and, unless DBG_SYSCALL_NO_EXIT,
 * leaving it with DBG_EVENT_SYSCALL_EXIT (event.sysno, event.sysret: the
 * raw return value, a negative errno on failure, -512..-516 for a call
 * interrupted to be restarted). Entry and exit of a thread come in pairs
 * with the same number; the exit of execve comes from the thread that
 * survives the exec (the pid). Only system calls of the x86_64 ABI are
 * caught: x32 calls (bit 0x40000000) and int 0x80 (i386) ones are not,
 * except x32 ones under DBG_SYSCALL_CATCH_ALL (sysno has the bit).
 *
 * The call replaces the previous set; @n == 0 without CATCH_ALL stops
 * catching. It takes effect for each thread at its next resume: call it
 * while the target is stopped (after attach or spawn) to miss nothing.
 * A thread already between the entry and exit of a call reports that
 * exit only if the call is still caught. A thread stopped at a ptrace
 * event inside a call (DBG_EVENT_FORK, VFORK, CLONE, EXEC, and the
 * vfork-done stop) when its number becomes caught reports that call's
 * exit without an entry (the child's id as sysret): the one exception to
 * the pairing, as gdb expects it after `catch syscall` at a vfork stop
 * (Since 0.4). When @proc was spawned with a
 * seccomp filter and every number is in it, the seccomp mode is used;
 * otherwise PTRACE_SYSCALL (see dbg_syscall_mode()).
 *
 * @param proc   the target.
 * @param nrs    system call numbers (0 .. DBG_SYSCALL_NR_MAX - 1), in any
 *               order, repeats allowed; may be NULL when @n is 0. Copied.
 * @param n      how many.
 * @param flags  enum dbg_syscall_flags.
 * @return 0; -EINVAL a number out of range, unknown flags, NULL @nrs with
 *         @n > 0; -ESRCH the target has exited; -EXDEV; -ECHILD.
 * Since: 0.3
 */
DBG_API int dbg_syscall_catch(struct dbg_proc *proc, const long *nrs, size_t n,
			      unsigned int flags);

/**
 * @return the enum dbg_syscall_mode catching uses now; -EINVAL for NULL.
 * Since: 0.3
 */
DBG_API int dbg_syscall_mode(const struct dbg_proc *proc);

/**
 * The numbers the seccomp filter of a spawned @proc stops at
 * (dbg_spawn_opts.seccomp_sysnos), ascending, into @buf (at most @cap).
 * @return how many the filter has (0: @proc has no filter; may exceed
 *         @cap); -EINVAL.
 * Since: 0.3
 */
DBG_API int dbg_syscall_filter(const struct dbg_proc *proc, long *buf, size_t cap);

/** Bits of a signal's policy, see dbg_signal_policy_set(). */
enum dbg_signal_policy {
	/** Report it: a signal-delivery-stop becomes a DBG_EVENT_SIGNAL. */
	DBG_SIGNAL_STOP = 1u << 0,
	/** Deliver it: the thread resumes with it. A reported signal is
	 * delivered unless dbg_proc_set_signal() changes that; one that is
	 * not reported is delivered at once. */
	DBG_SIGNAL_PASS = 1u << 1,
};

/**
 * Set what happens when a thread of @proc is about to receive @signo (as
 * gdb's `handle`): DBG_SIGNAL_STOP | DBG_SIGNAL_PASS (the default for
 * every signal) reports it and delivers it on resume; DBG_SIGNAL_STOP
 * alone reports it and drops it on resume (dbg_proc_set_signal() can
 * still give it); DBG_SIGNAL_PASS alone delivers it without an event;
 * 0 drops it without an event. Stops of the kernel's own SIGTRAP
 * (breakpoints, steps: DBG_EVENT_TRAP) are not signals here. SIGKILL
 * never stops a thread; its policy cannot be set.
 *
 * @return 0; -EINVAL bad @signo (1 .. 64, not SIGKILL) or @policy;
 *         -EXDEV; -ECHILD.
 * Since: 0.3
 */
DBG_API int dbg_signal_policy_set(struct dbg_proc *proc, int signo, unsigned int policy);

/**
 * @return the enum dbg_signal_policy bits of @signo; -EINVAL.
 * Since: 0.3
 */
DBG_API int dbg_signal_policy(const struct dbg_proc *proc, int signo);

/** The size of a raw siginfo (the kernel's siginfo_t on x86_64). */
#define DBG_SIGINFO_SIZE 128

/**
 * Read the raw siginfo of the stop @tid is in (PTRACE_GETSIGINFO): the
 * kernel's 128-byte siginfo_t, as gdb's qXfer:siginfo wants it. In a
 * signal-delivery-stop it is the signal's; in a syscall or event stop the
 * kernel's SIGTRAP record of that stop.
 *
 * @param ret_buf  DBG_SIGINFO_SIZE bytes, written on success only.
 * @return 0; -ENOENT unknown tid; -DBG_ERRNO_RUNNING not in a
 *         ptrace-stop; -EINVAL; -ESRCH the thread is gone; -EXDEV.
 * Since: 0.3
 */
DBG_API int dbg_signal_siginfo(struct dbg_proc *proc, pid_t tid, void *ret_buf);

/**
 * Replace the raw siginfo of @tid's stop (PTRACE_SETSIGINFO). In a
 * signal-delivery-stop, the signal delivered on resume carries it (its
 * si_code, si_value, si_pid ...) if it is delivered with the same signal
 * number; given another number, the kernel makes a fresh SI_USER one.
 *
 * @param buf  DBG_SIGINFO_SIZE bytes.
 * @return as dbg_signal_siginfo().
 * Since: 0.3
 */
DBG_API int dbg_signal_siginfo_set(struct dbg_proc *proc, pid_t tid, const void *buf);

/**
 * Send @signo to thread @tid alone. A thread stopped in a
 * signal-delivery-stop whose signal is filtered out resumes with @signo,
 * delivered then without another stop. Otherwise (a running thread, a
 * thread stopped for another reason or with a signal of its own) the
 * signal is queued to that thread with tgkill(2): it arrives when the
 * thread runs, and its signal-delivery-stop is reported or not by the
 * policy (dbg_signal_policy_set()) like any signal.
 *
 * @return 0; -ENOENT unknown tid; -EINVAL bad signal (1 .. 64);
 *         -ESRCH the thread is gone; -EXDEV; -ECHILD.
 * Since: 0.3
 */
DBG_API int dbg_signal_inject(struct dbg_proc *proc, pid_t tid, int signo);

DBG_END_DECLS

#endif /* DBG_SYSCALL_H */
