/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/proc.h
 * Process control: attach, spawn, threads, stop/resume, events, detach.
 *
 * Threading: a struct dbg_proc may be used only from the thread that
 * created it, because ptrace requests belong to the tracing thread. Calls
 * from any other thread fail with -EXDEV; calls from a forked child of the
 * tracer fail with -ECHILD. Functions without a proc argument are
 * thread-safe.
 *
 * Threads of the target are named by their tid. A tid stays valid until an
 * event reports that thread's exit (or an exec that replaced it).
 */
#ifndef DBG_PROC_H
#define DBG_PROC_H

#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;

/** Flags for dbg_attach_opts.flags and dbg_spawn_opts.flags. */
enum dbg_attach_flags {
	/**
	 * Keep fork and vfork children traced (stopped at their first
	 * stop) and report them with DBG_EVENT_FORK/VFORK so the caller can
	 * take them over with dbg_proc_attach_child(). By default children
	 * are detached at once and run untraced.
	 */
	DBG_ATTACH_FOLLOW_FORK = 1u << 0,
	/** Leave all threads running once attached (default: all stopped). */
	DBG_ATTACH_NO_STOP = 1u << 1,
};

/** Options for dbg_proc_attach(). NULL means all defaults. */
struct dbg_attach_opts {
	size_t sz;            /**< sizeof(struct dbg_attach_opts) */
	unsigned int flags;   /**< enum dbg_attach_flags */
	/**
	 * How long stopping all threads may take before giving up with
	 * -ETIMEDOUT (a thread in uninterruptible sleep cannot stop).
	 * 0 means the default, 5000 ms; negative means forever.
	 */
	int stop_timeout_ms;
	dbg_log_fn log_fn;    /**< optional diagnostics sink */
	void *log_ctx;
};

/**
 * Attach to every thread of @pid with PTRACE_SEIZE.
 *
 * Threads are discovered from /proc/PID/task in rounds until a round finds
 * none that is new; each is seized and interrupted. Unless
 * DBG_ATTACH_NO_STOP is given, all threads are stopped on return; signals
 * and other events met while stopping them are queued for dbg_proc_wait().
 *
 * @param pid       the process (thread group) id.
 * @param opts      options, or NULL.
 * @param ret_proc  on success, the new handle; owned by the caller, release
 *                  with dbg_proc_detach().
 * A process whose leader has exited (pthread_exit) while other threads
 * live is attached: the leader is not a live thread (see
 * dbg_proc_thread_state()).
 *
 * @return 0; -ESRCH no such process, or a zombie; -EPERM not allowed (the
 *         message from dbg_strerror and the log explain ptrace_scope,
 *         CAP_SYS_PTRACE or the existing tracer); -DBG_ERRNO_ARCH not an
 *         x86_64 process (i386, x32: the log says which; the target is
 *         not touched); -ETIMEDOUT a thread would not stop; -EINVAL bad
 *         arguments; -ENOMEM.
 * Since: 0.1 (-DBG_ERRNO_ARCH, zombie leaders: 0.2)
 */
DBG_API int dbg_proc_attach(pid_t pid, const struct dbg_attach_opts *opts,
			    struct dbg_proc **ret_proc);

/** Options for dbg_proc_spawn(). NULL means all defaults. */
struct dbg_spawn_opts {
	size_t sz;             /**< sizeof(struct dbg_spawn_opts) */
	unsigned int flags;    /**< enum dbg_attach_flags (NO_STOP ignored) */
	char *const *envp;     /**< environment; NULL inherits ours */
	const char *cwd;       /**< working directory; NULL keeps ours */
	/** Descriptors for the child's stdin/stdout/stderr; 0 or negative
	 * inherits ours, so zeroed options inherit all three. */
	int stdin_fd, stdout_fd, stderr_fd;
	/** Do not kill the child if the tracer exits without detaching. */
	int no_exit_kill;
	dbg_log_fn log_fn;
	void *log_ctx;
	/**
	 * Since 0.3: system call numbers for a seccomp-bpf filter installed
	 * in the child before execve (as `strace --seccomp-bpf`): the program
	 * then stops only at these calls, so dbg_syscall_catch() of a subset
	 * of them costs the others nothing (dbg/syscall.h). The filter
	 * cannot be removed: once the target is detached (dbg_proc_detach(),
	 * or a fork child not followed), these calls fail with ENOSYS
	 * without running (SECCOMP_RET_TRACE with no tracer); see
	 * doc/runcontrol.md. Without CAP_SYS_ADMIN the child gets
	 * PR_SET_NO_NEW_PRIVS first. NULL or 0: no filter.
	 */
	const long *seccomp_sysnos;
	size_t seccomp_nsysnos;   /**< how many, at most DBG_SYSCALL_NR_MAX */
	/**
	 * Since 0.4: nonzero puts the child in a process group of its own
	 * (setpgid(0, 0)) before execve, as debuggers do: a ^C or a hang-up
	 * meant for the tracer's process group (the tracer's session leader
	 * exiting, say) does not reach the program. Handing it the terminal
	 * (tcsetpgrp()) is the caller's choice.
	 */
	int new_pgrp;
};

/**
 * Start @path with @argv, traced from its first instruction: on success the
 * single thread is stopped at the exec event, before any code of the new
 * program has run. A @path without '/' is searched in PATH. The child's
 * signal mask is emptied; its descriptors are ours unless redirected.
 *
 * @return 0; -ENOENT, -EACCES, -ENOEXEC ... (the errno of execve in the
 *         child; or of installing the seccomp filter); -DBG_ERRNO_ARCH the
 *         program is not x86_64 (the child is killed and reaped); -EINVAL
 *         (also a seccomp number out of range); -ENOMEM.
 * Since: 0.1 (-DBG_ERRNO_ARCH: 0.2; seccomp_sysnos: 0.3; new_pgrp: 0.4)
 */
DBG_API int dbg_proc_spawn(const char *path, char *const argv[],
			   const struct dbg_spawn_opts *opts,
			   struct dbg_proc **ret_proc);

/**
 * Detach from the target and free @proc and all it owns. NULL is a no-op.
 *
 * Everything libdbg put in the target is removed first (debug registers it
 * set are restored). Every thread is then detached with the signal it was
 * stopped with, unless the caller filtered it, so no signal is swallowed
 * and no SIGSTOP is added. Threads that were in a group-stop (someone sent
 * SIGSTOP) stay in that job-control stop, as they would be without a
 * tracer; SIGCONT resumes them. All other threads run on. A dead target is
 * just released.
 * Since: 0.1
 */
DBG_API void dbg_proc_detach(struct dbg_proc *proc);

/**
 * Take over a fork/vfork child reported with DBG_EVENT_FORK or
 * DBG_EVENT_VFORK (needs DBG_ATTACH_FOLLOW_FORK). The child is stopped.
 * @return 0; -ENOENT no such pending child; -EXDEV; -ENOMEM.
 * Since: 0.1
 */
DBG_API int dbg_proc_attach_child(struct dbg_proc *proc, pid_t child,
				  struct dbg_proc **ret_child);

/** The target's process id. */
DBG_API pid_t dbg_proc_pid(const struct dbg_proc *proc);

/**
 * The message of the last failed call on @proc, with context (which tid,
 * which /proc file, why EPERM). Borrowed; valid until the next call.
 */
DBG_API const char *dbg_proc_errmsg(const struct dbg_proc *proc);

/** State of one traced thread, see dbg_proc_thread_state(). */
enum dbg_thread_state {
	DBG_THREAD_RUNNING = 0,
	/** In a ptrace-stop: registers and PEEKDATA are available. */
	DBG_THREAD_STOPPED = 1,
	/** In a job-control stop (group-stop), resumed by SIGCONT only. */
	DBG_THREAD_GROUP_STOPPED = 2,
	DBG_THREAD_EXITED = 3,
};

/**
 * List the tids of the live threads into @buf (at most @cap). A leader
 * that has exited (pthread_exit) while other threads live is not listed.
 * @return the number of live threads (may exceed @cap), or -EXDEV/-ECHILD.
 */
DBG_API int dbg_proc_threads(struct dbg_proc *proc, pid_t *buf, size_t cap);

/**
 * @return an enum dbg_thread_state, or -ENOENT for an unknown tid. The
 *         pid of a process whose leader has exited (pthread_exit, a zombie
 *         until the other threads exit) gives DBG_THREAD_EXITED; its
 *         registers are -ESRCH. Since: 0.1 (the zombie leader: 0.2)
 */
DBG_API int dbg_proc_thread_state(struct dbg_proc *proc, pid_t tid);

/**
 * Stop every thread and wait until all are stopped. Events met on the way
 * (signals, clones, exits) are queued for dbg_proc_wait(); their threads
 * count as stopped. Threads in group-stop are brought into a ptrace-stop.
 * @return 0; -ESRCH the process is gone; -ETIMEDOUT; -EXDEV; -ECHILD.
 */
DBG_API int dbg_proc_stop(struct dbg_proc *proc);

/**
 * Resume every stopped thread, each with the signal it stopped with unless
 * filtered by dbg_proc_set_signal(). Threads in group-stop are left in it
 * (PTRACE_LISTEN) until SIGCONT.
 * @return 0; -ESRCH; -EXDEV; -ECHILD.
 */
DBG_API int dbg_proc_resume(struct dbg_proc *proc);

/**
 * Resume one thread; a thread that already runs is left as it is.
 * @return 0; -ENOENT unknown tid; -ESRCH; -EXDEV.
 */
DBG_API int dbg_proc_resume_thread(struct dbg_proc *proc, pid_t tid);

/** Execute one instruction in @tid; a DBG_EVENT_TRAP follows. */
DBG_API int dbg_proc_step_thread(struct dbg_proc *proc, pid_t tid);

/**
 * Stop one running thread and wait until it is in a ptrace-stop; the other
 * threads keep running. Events met on the way (the thread's own signal,
 * other threads' events) are queued for dbg_proc_wait(); a thread that
 * stops for one of them counts as stopped. A thread already stopped
 * returns 0 at once.
 * @return 0; -ENOENT unknown tid; -ESRCH the thread exited (its exit is
 *         queued); -ETIMEDOUT (the attach options' stop timeout); -EXDEV.
 * Since: 0.3
 */
DBG_API int dbg_proc_stop_thread(struct dbg_proc *proc, pid_t tid);

/**
 * Set the signal that @tid will get when resumed: 0 filters out the signal
 * it stopped with, anything else replaces it.
 * @return 0; -ENOENT; -EINVAL bad signal; -DBG_ERRNO_RUNNING.
 */
DBG_API int dbg_proc_set_signal(struct dbg_proc *proc, pid_t tid, int signo);

/** Kinds of dbg_event. New kinds may be added. */
enum dbg_event_kind {
	DBG_EVENT_NONE = 0,
	/** Stopped by our request (PTRACE_INTERRUPT) outside dbg_proc_stop. */
	DBG_EVENT_STOPPED,
	/** Signal-delivery-stop; delivered on resume unless filtered. */
	DBG_EVENT_SIGNAL,
	/** SIGTRAP of a breakpoint, single-step or int3. */
	DBG_EVENT_TRAP,
	/** New thread event.child in the target; both threads are traced. */
	DBG_EVENT_CLONE,
	/** fork/vfork: the child's pid in event.child. */
	DBG_EVENT_FORK,
	DBG_EVENT_VFORK,
	/** exec: the target's memory map and caches are reset; the former
	 * tid of the execing thread is event.child. */
	DBG_EVENT_EXEC,
	/** One thread exited (status in event.status). Since 0.4 also the
	 *  leader (event.tid == pid, status 0) when it exits alone
	 *  (pthread_exit) while other threads live: the kernel gives no
	 *  status for that until the group ends, so dbg_proc_wait() looks at
	 *  /proc every 10 ms while it waits for events. */
	DBG_EVENT_THREAD_EXIT,
	/** The process exited; exit status in event.status. */
	DBG_EVENT_EXITED,
	/** The process was killed by signal event.signo. */
	DBG_EVENT_KILLED,
	/** The thread entered group-stop on stop signal event.signo. */
	DBG_EVENT_GROUP_STOP,
	/** Run control (Since 0.3; see dbg/bp.h and the run-control
	 * headers). The thread hit software breakpoint event.bp; its pc
	 * is already the breakpoint address (event.addr). */
	DBG_EVENT_BREAKPOINT,
	/** A hardware watchpoint or breakpoint event.watch fired;
	 * event.addr is the start of the watched piece that fired (x86
	 * does not report the byte touched; see dbg/watch.h). */
	DBG_EVENT_WATCHPOINT,
	/** A step the caller asked for (instruction, range, line, out of a
	 * frame) ended; event.addr is the thread's pc. */
	DBG_EVENT_STEP,
	/** Syscall-entry stop of a caught system call event.sysno. */
	DBG_EVENT_SYSCALL_ENTRY,
	/** Syscall-exit stop of event.sysno, returning event.sysret. */
	DBG_EVENT_SYSCALL_EXIT,
	/** The dynamic linker changed the list of loaded modules (the
	 * r_debug breakpoint): look at the maps and symbols again. */
	DBG_EVENT_MODULES,
	/** Since 0.4, with DBG_ATTACH_FOLLOW_FORK only: the vfork child
	 * event.child of thread event.tid execed or exited, so the parent
	 * has its memory back; the thread is stopped inside vfork(), which
	 * returns when it is resumed (a single-step ends at the
	 * instruction after the syscall). */
	DBG_EVENT_VFORK_DONE,
};

struct dbg_bp;
struct dbg_watch;

/** The parts of the kernel's siginfo a debugger needs. */
struct dbg_siginfo {
	int signo;
	int code;       /**< si_code: SI_USER, SEGV_MAPERR, TRAP_BRKPT, ... */
	int err;
	pid_t pid;      /**< sender, for SI_USER/SI_QUEUE */
	uint32_t uid;
	uint64_t addr;  /**< fault address for SIGSEGV/SIGBUS/SIGILL/SIGFPE */
};

/** An event of the target. */
struct dbg_event {
	enum dbg_event_kind kind;
	pid_t tid;      /**< thread the event is about */
	int signo;      /**< SIGNAL, GROUP_STOP, KILLED, TRAP */
	int status;     /**< THREAD_EXIT, EXITED: the exit status */
	pid_t child;    /**< CLONE: new tid; FORK/VFORK/VFORK_DONE: child pid; EXEC: former tid */
	struct dbg_siginfo siginfo; /**< SIGNAL and TRAP */
	/* Since 0.3 (run control). */
	struct dbg_bp *bp;          /**< BREAKPOINT: the breakpoint hit */
	struct dbg_watch *watch;    /**< WATCHPOINT: the watch that fired */
	uint64_t addr;              /**< BREAKPOINT, STEP: pc; WATCHPOINT: the piece hit */
	long sysno;                 /**< SYSCALL_ENTRY/EXIT: the system call number */
	int64_t sysret;             /**< SYSCALL_EXIT: its return value */
};

/**
 * Wait for the next event. After an event the thread it names is stopped
 * (unless it is an exit); other threads keep their state.
 * @param timeout_ms  0 polls, negative waits forever.
 * @return 0 with *ret_event filled; -EAGAIN no event and timeout_ms == 0;
 *         -ETIMEDOUT; -ESRCH the process is gone and every exit has been
 *         reported; -EINTR a signal arrived for the host; -EXDEV; -ECHILD.
 */
DBG_API int dbg_proc_wait(struct dbg_proc *proc, int timeout_ms,
			  struct dbg_event *ret_event);

/**
 * A file descriptor that becomes readable when dbg_proc_wait() may have an
 * event, for a host's own poll/epoll loop. It is a signalfd for SIGCHLD:
 * the host must keep SIGCHLD blocked in all its threads while it polls it
 * (as for any signalfd); dbg_proc_wait() drains it. Borrowed: owned by
 * @proc, closed by dbg_proc_detach().
 */
DBG_API int dbg_proc_fd(const struct dbg_proc *proc);

/**
 * Kill the target with SIGKILL and reap it. @proc stays valid; free it with
 * dbg_proc_detach(). @return 0; -EXDEV; -ECHILD.
 */
DBG_API int dbg_proc_kill(struct dbg_proc *proc);

DBG_END_DECLS

#endif /* DBG_PROC_H */
