/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Wait statuses to raw events. Waiting for our tracees without reaping
 * anyone else's children (reap_one), and turning each status into what
 * ptrace saw (dbg__handle_status): every status goes through that one
 * function, whoever waits for it (dbg_proc_wait, stop-all, detach, kill),
 * so a thread's state has one source of truth. What a trap means (which
 * breakpoint, a step) is for the run-control modules, asked through their stop hooks (dbg__hook_stop);
 * see doc/process.md.
 */
#include "internal.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- waiting ------------------------------------------------------- */

int64_t dbg__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t dbg__deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : dbg__now_ns() + (int64_t)timeout_ms * 1000000;
}

/* Is @pid ours to reap? Known threads, ghosts and children are; an unknown
 * tracee of ours is adopted: a clone child whose parent's clone event we
 * have not seen yet, or a fork child likewise. A thread of a fork child
 * (its PPid is ours too) or a process another handle owns is not. */
static bool claim(struct dbg_proc *p, pid_t pid)
{
	if (dbg__thread_find(p, pid) || dbg__child_find(p, pid))
		return true;
	for (size_t i = 0; i < p->nghosts; i++)
		if (p->ghosts[i] == pid)
			return true;
	struct dbg__task_status st;
	if (dbg__task_status(pid, &st) < 0 || st.tracer != p->tracer_tid)
		return false;
	if (st.tgid == p->pid) {
		struct dbg__thread *t = dbg__thread_add(p, pid);
		if (t)
			t->expect_initial_stop = true;
		return t != NULL;
	}
	/* A fork child (a leader whose parent is ours), unless another
	 * handle already owns it (dbg_proc_attach_child, or an attach). */
	if (st.ppid == p->pid && st.tgid == pid && !dbg__proc_owned_elsewhere(p, pid))
		return dbg__child_add(p, pid) != NULL;
	return false;
}

/* A status of a thread we interrupted, asked of each by its tid: the
 * kernel answers waitpid(tid) from that task alone, where waitid(P_ALL)
 * walks every tracee (stopping 1,000 threads made that walk a million
 * task visits, a fifth of dbg-stack's time). Interrupts go out in table
 * order and the stops come back roughly so: the probe resumes where the
 * last one succeeded and gives up after a few threads still running.
 * 1: got one; 0: none found. */
#define PROBE_MISSES 4
static int probe_interrupted(struct dbg_proc *p, pid_t *tid, int *status)
{
	size_t n = p->nthreads;
	int misses = 0;
	for (size_t k = 0; k < n && misses < PROBE_MISSES; k++) {
		size_t i = (p->reap_cursor + k) % n;
		const struct dbg__thread *t = &p->threads[i];
		if (t->state != T_RUNNING || !t->interrupt_pending)
			continue;
		pid_t r = waitpid(t->tid, status, __WALL | WNOHANG);
		if (r > 0) {
			p->reap_cursor = i + 1;
			*tid = r;
			return 1;
		}
		misses++;
	}
	return 0;
}

/* Reap one status of ours without blocking. 1: got one; 0: none. */
static int try_reap(struct dbg_proc *p, pid_t *tid, int *status)
{
	if (probe_interrupted(p, tid, status))
		return 1;
	siginfo_t si;
	si.si_pid = 0;
	if (waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) < 0)
		return errno == ECHILD ? -ECHILD : 0;
	if (!si.si_pid)
		return 0; /* nothing pending for any child of ours */
	if (claim(p, si.si_pid)) {
		pid_t r = waitpid(si.si_pid, status, __WALL | WNOHANG);
		if (r > 0) {
			*tid = r;
			return 1;
		}
	}
	/* The first in line belongs to someone else (the host or another
	 * proc of this thread): look at ours one by one. */
	for (size_t i = 0; i < p->nthreads + p->nghosts + p->nchildren; i++) {
		pid_t t = i < p->nthreads ? p->threads[i].tid
			: i < p->nthreads + p->nghosts ? p->ghosts[i - p->nthreads]
			: p->children[i - p->nthreads - p->nghosts].pid;
		pid_t r = waitpid(t, status, __WALL | WNOHANG);
		if (r > 0) {
			*tid = r;
			return 1;
		}
	}
	return 0;
}

static bool is_ours(struct dbg_proc *p, pid_t pid)
{
	return dbg__thread_find(p, pid) || dbg__child_find(p, pid) || pid == p->pid;
}

/*
 * Wait until one of our tracees has a status, or the deadline passes.
 * SIGCHLD is blocked in this thread only for the duration, so that the
 * signalfd sees it; a SIGCHLD that was about some other child of the host
 * is raised again once we restore the mask. Returns 1, 0 on timeout, or a
 * negative errno.
 */
int dbg__reap_one(struct dbg_proc *p, int64_t deadline, pid_t *tid, int *status)
{
	/* A stop already there needs neither the mask nor the signalfd
	 * (four system calls an event, while stopping many threads). */
	if (probe_interrupted(p, tid, status))
		return 1;
	/* A few threads: ask each running one directly first. A debugger
	 * resuming one thread and waiting for its next stop (a breakpoint
	 * round trip) mostly finds the stop already there, and this is one
	 * system call where the signalfd path below takes six. */
	if (p->nthreads <= 8)
		for (size_t i = 0; i < p->nthreads; i++) {
			const struct dbg__thread *t = &p->threads[i];
			if (t->state != T_RUNNING && t->state != T_LISTENING)
				continue;
			pid_t r = waitpid(t->tid, status, __WALL | WNOHANG);
			if (r > 0) {
				*tid = r;
				return 1;
			}
		}
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &old);
	struct sigaction sa;
	sigaction(SIGCHLD, NULL, &sa);
	/* With SA_NOCLDSTOP the kernel sends no SIGCHLD for stops: poll.
	 * In a host with other threads, SIGCHLD (process-directed) may go
	 * to one of them that does not block it, and our signalfd never
	 * sees it: poll too, backing off from 1 ms to 16 ms, so a stop is
	 * found late but never missed until the deadline. The thread count
	 * is the link count of /proc/self/task (one stat). */
	bool nocldstop = sa.sa_flags & SA_NOCLDSTOP;
	struct stat task;
	bool threaded = stat("/proc/self/task", &task) == 0 && task.st_nlink > 3;
	int backoff = 1;
	bool foreign = false;
	int r;
	for (;;) {
		/* Drain first, then look: a SIGCHLD that comes after the
		 * drain stays pending and wakes the next poll, ours or the
		 * host's, so no event is missed and the fd never stays
		 * readable for nothing. */
		struct signalfd_siginfo ssi;
		while (read(p->sigfd, &ssi, sizeof(ssi)) == sizeof(ssi))
			if ((pid_t)ssi.ssi_pid != getpid() && !is_ours(p, ssi.ssi_pid))
				foreign = true;
		r = try_reap(p, tid, status);
		if (r)
			break;
		int ms = -1;
		if (deadline >= 0) {
			int64_t left = deadline - dbg__now_ns();
			if (left <= 0)
				break;
			ms = (int)((left + 999999) / 1000000);
		}
		if (nocldstop && (ms < 0 || ms > 1))
			ms = 1;
		if (threaded && (ms < 0 || ms > backoff)) {
			ms = backoff;
			if (backoff < 16)
				backoff *= 2;
		}
		struct pollfd pfd = { .fd = p->sigfd, .events = POLLIN };
		if (poll(&pfd, 1, ms) < 0 && errno == EINTR) {
			r = -EINTR;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (foreign)
		kill(getpid(), SIGCHLD);
	return r;
}

/* ---- interpreting statuses ----------------------------------------- */

static void fill_siginfo(struct dbg_siginfo *d, const siginfo_t *si)
{
	d->signo = si->si_signo;
	d->code = si->si_code;
	d->err = si->si_errno;
	d->pid = si->si_pid;
	d->uid = si->si_uid;
	d->addr = 0;
	if (si->si_code > 0 && (si->si_signo == SIGSEGV || si->si_signo == SIGBUS ||
				si->si_signo == SIGILL || si->si_signo == SIGFPE ||
				si->si_signo == SIGTRAP))
		d->addr = (uint64_t)(uintptr_t)si->si_addr;
}

static void on_exec(struct dbg_proc *p, struct dbg__thread *t, pid_t former)
{
	pid_t tid = t->tid;
	/* Every other thread is dead now. The former tid of the execing
	 * thread and the old leader report nothing more; the others report
	 * an exit we must reap (man 2 ptrace, "execve(2) under ptrace"). */
	for (size_t i = 0; i < p->nthreads;) {
		struct dbg__thread *o = &p->threads[i];
		if (o->tid == tid) {
			i++;
			continue;
		}
		if (o->tid != former)
			dbg__ghost_add(p, o->tid);
		dbg__thread_remove(p, o);
	}
	t = dbg__thread_find(p, tid);
	t->expect_initial_stop = false;
	/* A zombie leader (traced or not) is replaced by the thread that
	 * execed. */
	p->leader_zombie = false;
	p->mm_tid = p->pid;
	bool known;
	p->foreign_arch = dbg__exe_arch(p->pid, &known);
	if (p->foreign_arch)
		dbg__log(p, DBG_LOG_WARN, "pid %d execed a %s program: registers are refused",
			 p->pid, p->foreign_arch);
	dbg__hook_exec(p, t);
}

static void on_fork_child(struct dbg_proc *p, struct dbg__thread *t, pid_t child, bool vfork)
{
	struct dbg__child *c = dbg__child_add(p, child);
	p->vforking = vfork;
	if (c && (p->flags & DBG_ATTACH_FOLLOW_FORK)) {
		c->vfork = vfork;
		dbg__hook_fork(p, t, child, true);
		p->vforking = false;
		return;
	}
	if (!c) {
		p->vforking = false;
		return;
	}
	/* Not followed: wait for the child's first stop (it comes at once)
	 * and let it go untraced. */
	int st;
	if (!c->stopped) {
		pid_t r;
		while ((r = waitpid(child, &st, __WALL)) < 0 && errno == EINTR)
			;
		if (r == child && WIFSTOPPED(st))
			c->stopped = true;
	}
	/* The hook first, while the child is stopped: run control takes
	 * its breakpoints out of the child's memory before it runs. */
	dbg__hook_fork(p, t, child, false);
	p->vforking = false;
	if (c->stopped)
		ptrace(PTRACE_DETACH, child, 0, 0);
	dbg__child_remove(p, c);
}

static bool recently_reaped(const struct dbg_proc *p, pid_t tid)
{
	for (size_t i = 0; i < DBG__ARRAY_SIZE(p->reaped); i++)
		if (p->reaped[i] == tid)
			return true;
	return false;
}

/* Is a SIGTRAP pending for thread @tid itself (its SigPnd)? */
static bool sigtrap_pending(pid_t pid, pid_t tid)
{
	/* the thread's own queue, where a trap of its int3 or step goes:
	 * one request while it is in a ptrace-stop */
	struct __ptrace_peeksiginfo_args a = { .off = 0, .flags = 0, .nr = 8 };
	siginfo_t q[8];
	long n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, q);
	if (n >= 0) {
		for (long i = 0; i < n; i++)
			if (q[i].si_signo == SIGTRAP)
				return true;
		if (n < 8)
			return false;
	}
	char path[96], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	if (dbg__read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	const char *s = strstr(buf, "\nSigPnd:\t");
	return s && (strtoull(s + 9, NULL, 16) & (1ull << (SIGTRAP - 1)));
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

enum dbg__disposition dbg__handle_status(struct dbg_proc *p, pid_t tid, int status,
				      struct dbg_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->tid = tid;
	struct dbg__thread *t = dbg__thread_find(p, tid);
	dbg__log(p, DBG_LOG_DEBUG, "status %06x of %d (%s, state %d)", status, tid,
		 t ? "thread" : "other", t ? (int)t->state : -1);
	/* A worker execs while the leader is a zombie: it comes back as the
	 * pid (de_thread() gives it the leader's), which we do not track. */
	if (!t && tid == p->pid && p->leader_zombie && WIFSTOPPED(status) &&
	    ((unsigned)status >> 16) == PTRACE_EVENT_EXEC)
		t = dbg__thread_add(p, tid);
	if (!t) {
		if (dbg__ghost_take(p, tid))
			return D_NONE;
		struct dbg__child *c = dbg__child_find(p, tid);
		if (c) {
			if (WIFSTOPPED(status))
				c->stopped = true;
			else
				dbg__child_remove(p, c);
			return D_NONE;
		}
		return D_NONE;
	}

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		bool leader = tid == p->pid;
		p->reaped[p->nreaped++ % DBG__ARRAY_SIZE(p->reaped)] = tid;
		dbg__hook_thread_exit(p, t);
		dbg__thread_remove(p, t);
		dbg__mark_exited_if_empty(p);
		if (leader) {
			p->exited = true;
			ev->kind = WIFEXITED(status) ? DBG_EVENT_EXITED : DBG_EVENT_KILLED;
			ev->status = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
			ev->signo = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
			/* The leader is reaped last; anything else left over
			 * (an unreaped thread) is gone with it. */
			p->nthreads = 0;
		} else {
			ev->kind = DBG_EVENT_THREAD_EXIT;
			ev->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			if (p->exited && p->leader_zombie) {
				/* The last thread of a process whose leader is
				 * an untraced zombie: its status is the group's
				 * (do_group_exit), the process exit follows. */
				struct dbg_event *f = &p->final_event;
				memset(f, 0, sizeof(*f));
				f->tid = p->pid;
				f->kind = WIFEXITED(status) ? DBG_EVENT_EXITED : DBG_EVENT_KILLED;
				f->status = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
				f->signo = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
				p->final_pending = true;
			}
		}
		return D_REPORT;
	}
	if (!WIFSTOPPED(status))
		return D_NONE;

	enum dbg__tstate prev = t->state;
	int sig = WSTOPSIG(status);
	int event = (unsigned)status >> 16;
	unsigned long msg = 0;
	siginfo_t si;

	t->state = T_STOPPED;
	t->regs_valid = false;
	t->group_stop = false;
	bool was_stepping = t->single_stepping;
	t->single_stepping = false;
	t->restep = false;
	t->sig_stop = false;
	/* Any trap clears a pending PTRACE_INTERRUPT ("any trap clears
	 * pending STOP trap", ptrace_stop() in kernel/signal.c). One sent
	 * after the trap began stays pending and shows up after the next
	 * resume as a PTRACE_EVENT_STOP, which is absorbed as quiet. */
	if (event == PTRACE_EVENT_STOP)
		t->interrupt_stale = false;
	else if (t->interrupt_pending)
		t->interrupt_stale = true;
	t->interrupt_pending = false;
	t->interrupted = false;

	switch (event) {
	case PTRACE_EVENT_STOP:
		if (is_stop_signal(sig)) {
			t->group_stop = true;
			if (prev == T_LISTENING)
				return D_QUIET; /* re-trapped by our INTERRUPT */
			ev->kind = DBG_EVENT_GROUP_STOP;
			ev->signo = sig;
			return D_REPORT;
		}
		/* An INTERRUPT trap, the first trap of an auto-attached
		 * clone child, or a LISTENing thread woken by SIGCONT. An
		 * interrupt left pending by a stop-all traps as soon as the
		 * thread is resumed, before a single-step's instruction has
		 * run: undone as a continue, the step would be lost and the
		 * thread would run on (gdb's step off a breakpoint, through
		 * dbg-server, ran into the next one). */
		t->expect_initial_stop = false;
		t->interrupted = true;
		t->restep = was_stepping;
		if ((was_stepping || p->bp.nsites) && sigtrap_pending(p->pid, tid)) {
			/* The step is done and its trap waits behind our
			 * interrupt (the kernel takes a pending interrupt
			 * before it dequeues signals): reported as a plain
			 * stop, the step would look cut short (gdb's displaced
			 * step left the thread in its scratch copy). So with
			 * an int3 the thread ran just before: the pc is past
			 * it (gdb, reading it, put a breakpoint inside that
			 * instruction and the program ran a corrupted one,
			 * gdb.threads/sigstep-threads.exp). A single-step
			 * resume dequeues the trap before any instruction
			 * runs: this stop becomes the trap's. */
			int st2;
			pid_t r = -1;
			if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) == 0)
				while ((r = waitpid(tid, &st2, __WALL)) < 0 && errno == EINTR)
					;
			if (r == tid) {
				t->state = T_RUNNING;
				t->single_stepping = true;
				return dbg__handle_status(p, tid, st2, ev);
			}
		}
		return D_QUIET;
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
		ev->child = (pid_t)msg;
		if (event == PTRACE_EVENT_CLONE) {
			/* The child may be known already (its first stop came
			 * first and adopted it), or even be dead and reaped. */
			if (!dbg__thread_find(p, (pid_t)msg) && !recently_reaped(p, (pid_t)msg)) {
				struct dbg__thread *n = dbg__thread_add(p, (pid_t)msg);
				if (n)
					n->expect_initial_stop = true;
			}
			ev->kind = DBG_EVENT_CLONE;
		} else {
			on_fork_child(p, t, (pid_t)msg, event == PTRACE_EVENT_VFORK);
			ev->kind = event == PTRACE_EVENT_FORK ? DBG_EVENT_FORK : DBG_EVENT_VFORK;
		}
		return D_REPORT;
	case PTRACE_EVENT_EXEC:
		ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
		ev->kind = DBG_EVENT_EXEC;
		ev->child = (pid_t)msg;
		on_exec(p, t, (pid_t)msg);
		return D_REPORT;
	case PTRACE_EVENT_VFORK_DONE:
		/* The vfork child execed or exited: our memory is ours
		 * again (run control puts its breakpoints back). The thread
		 * is still in vfork(): a host that follows forks hears of it
		 * here, where a single-step ends at the syscall's return. */
		dbg__hook_vfork_done(p, t);
		if (!(p->flags & DBG_ATTACH_FOLLOW_FORK))
			return D_QUIET;
		ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
		ev->kind = DBG_EVENT_VFORK_DONE;
		ev->child = (pid_t)msg;
		return D_REPORT;
	case PTRACE_EVENT_SECCOMP:
		/* A SECCOMP_RET_TRACE of the spawn's filter (sys.c): a
		 * syscall-entry in all but name, handed over as one. */
		ev->kind = DBG_EVENT_TRAP;
		ev->signo = SIGTRAP | 0x80;
		return dbg__hook_stop(p, t, ev);
	case 0:
		break;
	default:
		return D_QUIET; /* events we did not ask for */
	}

	if (sig == (SIGTRAP | 0x80)) {
		/* A syscall-stop: the syscall module says which and whether
		 * anyone asked for it. */
		ev->kind = DBG_EVENT_TRAP;
		ev->signo = sig;
		return dbg__hook_stop(p, t, ev);
	}
	memset(&si, 0, sizeof(si));
	if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) < 0)
		si.si_signo = sig;
	fill_siginfo(&ev->siginfo, &si);
	ev->signo = sig;
	if (sig == SIGTRAP && si.si_code > 0) {
		/* Sent by the kernel: a breakpoint, single-step or int3. A
		 * step or hardware trap is ours; an int3 is delivered unless
		 * the caller filters it (no breakpoint module claims it yet). */
		ev->kind = DBG_EVENT_TRAP;
		t->sig_stop = true;
		t->pending_sig = (si.si_code == TRAP_TRACE || si.si_code == TRAP_HWBKPT) ? 0 : SIGTRAP;
		return dbg__hook_stop(p, t, ev);
	}
	ev->kind = DBG_EVENT_SIGNAL;
	t->sig_stop = true;
	t->pending_sig = sig;
	if (t->injected_sig == sig && si.si_code == SI_TKILL && si.si_pid == getpid()) {
		/* The signal a resume was given from a stop that could not
		 * deliver it (resume_issue): it is the caller's, not news. */
		t->injected_sig = 0;
		t->restep = was_stepping;
		return D_QUIET;
	}
	return dbg__hook_stop(p, t, ev);
}
