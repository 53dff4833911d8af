/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process control: attach/spawn/detach, the thread table, waiting for and
 * interpreting ptrace stops, stop-all and resume.
 *
 * Every wait status goes through one function, handle_status(), whatever
 * waits for it (dbg_proc_wait, stop-all, detach, kill), so a thread's state
 * has one source of truth. See doc/process.md for the event model.
 */
#include "internal.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TRACE_OPTS (PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | \
		    PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD)
#define DEFAULT_STOP_TIMEOUT_MS 5000

static pid_t my_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

#define FORK_GUARD_MAGIC 0x64626721ull

/* Called first by every public function that takes a proc; on the hot
 * path of cached reads, so it makes no system call. */
int dbg__enter(struct dbg_proc *p)
{
	if (!p)
		return -EINVAL;
	if (p->fork_guard ? *p->fork_guard != FORK_GUARD_MAGIC : getpid() != p->tracer_pid)
		return -ECHILD;
	if (!pthread_equal(pthread_self(), p->owner))
		return -EXDEV;
	p->errmsg[0] = 0;
	return 0;
}

/* ---- module hooks ------------------------------------------------------
 * The modules with state per process or thread, in the order they hear
 * of things (fini in reverse): mem's exec reopen does not need the maps,
 * and the maps go last so that nothing reads a freed table.
 */
static const struct dbg__hooks *const modules[] = {
	&dbg__maps_hooks,
	&dbg__mem_hooks,
	&dbg__regs_hooks,
};

#define FOR_EACH_HOOK(member, ...)                                          \
	for (size_t i_ = 0; i_ < DBG__ARRAY_SIZE(modules); i_++)             \
		if (modules[i_]->member)                                     \
			modules[i_]->member(__VA_ARGS__)

void dbg__hook_init(struct dbg_proc *p)
{
	FOR_EACH_HOOK(init, p);
}

int dbg__hook_setup(struct dbg_proc *p)
{
	for (size_t i = 0; i < DBG__ARRAY_SIZE(modules); i++) {
		int r = modules[i]->setup ? modules[i]->setup(p) : 0;
		if (r < 0)
			return r;
	}
	return 0;
}

void dbg__hook_resume(struct dbg_proc *p, struct dbg__thread *t)
{
	FOR_EACH_HOOK(resume, p, t);
}

void dbg__hook_exec(struct dbg_proc *p, struct dbg__thread *t)
{
	FOR_EACH_HOOK(exec, p, t);
}

void dbg__hook_fork(struct dbg_proc *p, struct dbg__thread *t, pid_t child, bool followed)
{
	FOR_EACH_HOOK(fork, p, t, child, followed);
}

void dbg__hook_clone(struct dbg_proc *p, struct dbg__thread *t)
{
	FOR_EACH_HOOK(clone, p, t);
}

void dbg__hook_detach(struct dbg_proc *p, struct dbg__thread *t)
{
	FOR_EACH_HOOK(detach, p, t);
}

void dbg__hook_fini(struct dbg_proc *p)
{
	for (size_t i = DBG__ARRAY_SIZE(modules); i-- > 0;)
		if (modules[i]->fini)
			modules[i]->fini(p);
}

/* ---- tables ------------------------------------------------------- */

static void *grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *n = realloc(arr, ncap * elem);
	if (n)
		*cap = ncap;
	return n;
}

struct dbg__thread *dbg__thread_find(struct dbg_proc *p, pid_t tid)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].tid == tid)
			return &p->threads[i];
	return NULL;
}

static struct dbg__thread *thread_add(struct dbg_proc *p, pid_t tid)
{
	struct dbg__thread *t = dbg__thread_find(p, tid);
	if (t)
		return t;
	void *n = grow(p->threads, &p->cap_threads, p->nthreads + 1, sizeof(*p->threads));
	if (!n)
		return NULL;
	p->threads = n;
	t = &p->threads[p->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->state = T_RUNNING;
	dbg__hook_clone(p, t);
	return t;
}

static void thread_remove(struct dbg_proc *p, struct dbg__thread *t)
{
	size_t i = t - p->threads;
	pid_t tid = t->tid;
	memmove(&p->threads[i], &p->threads[i + 1], (p->nthreads - i - 1) * sizeof(*t));
	p->nthreads--;
	/* The address space is named by a live task: with a zombie leader,
	 * another thread once this one is gone (the fds opened through it
	 * pin the mm and stay good; process_vm_readv needs a live tid). */
	if (tid == p->mm_tid && p->leader_zombie)
		for (size_t j = 0; j < p->nthreads; j++)
			if (p->threads[j].state != T_EXITED) {
				p->mm_tid = p->threads[j].tid;
				break;
			}
}

static bool ghost_take(struct dbg_proc *p, pid_t tid)
{
	for (size_t i = 0; i < p->nghosts; i++) {
		if (p->ghosts[i] == tid) {
			p->ghosts[i] = p->ghosts[--p->nghosts];
			return true;
		}
	}
	return false;
}

static void ghost_add(struct dbg_proc *p, pid_t tid)
{
	void *n = grow(p->ghosts, &p->cap_ghosts, p->nghosts + 1, sizeof(pid_t));
	if (!n)
		return; /* worst case a zombie thread waits for our detach */
	p->ghosts = n;
	p->ghosts[p->nghosts++] = tid;
}

static struct dbg__child *child_find(struct dbg_proc *p, pid_t pid)
{
	for (size_t i = 0; i < p->nchildren; i++)
		if (p->children[i].pid == pid)
			return &p->children[i];
	return NULL;
}

static struct dbg__child *child_add(struct dbg_proc *p, pid_t pid)
{
	struct dbg__child *c = child_find(p, pid);
	if (c)
		return c;
	void *n = grow(p->children, &p->cap_children, p->nchildren + 1, sizeof(*c));
	if (!n)
		return NULL;
	p->children = n;
	c = &p->children[p->nchildren++];
	c->pid = pid;
	c->stopped = false;
	return c;
}

static void child_remove(struct dbg_proc *p, struct dbg__child *c)
{
	*c = p->children[--p->nchildren];
}

static int ev_push(struct dbg_proc *p, const struct dbg_event *ev)
{
	struct dbg__event_queue *q = &p->events;
	if (q->len == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 16;
		struct dbg_event *n = malloc(ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < q->len; i++)
			n[i] = q->ev[(q->head + i) % q->cap];
		free(q->ev);
		q->ev = n;
		q->cap = ncap;
		q->head = 0;
	}
	q->ev[(q->head + q->len) % q->cap] = *ev;
	q->len++;
	return 0;
}

static bool ev_pop(struct dbg_proc *p, struct dbg_event *ev)
{
	struct dbg__event_queue *q = &p->events;
	if (!q->len)
		return false;
	*ev = q->ev[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return true;
}

bool dbg__all_stopped(const struct dbg_proc *p)
{
	if (!p->nthreads)
		return false;
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].state == T_RUNNING)
			return false;
	return true;
}

struct dbg__thread *dbg__any_stopped(struct dbg_proc *p)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].state == T_STOPPED)
			return &p->threads[i];
	return NULL;
}

int dbg__stopped_thread(struct dbg_proc *p, pid_t tid, struct dbg__thread **ret_t)
{
	struct dbg__thread *t = dbg__thread_find(p, tid);
	if (!t) {
		if (p->exited)
			return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
		if (tid == p->pid && p->leader_zombie)
			return dbg__fail(p, -ESRCH,
					 "thread %d (the leader) has exited; it stays a zombie "
					 "until the other threads exit", tid);
		return dbg__fail(p, -ENOENT, "thread %d is not a thread of %d", tid, p->pid);
	}
	if (t->state == T_EXITED)
		return dbg__fail(p, -ESRCH,
				 "thread %d (the leader) has exited; it stays a zombie "
				 "until the other threads exit", tid);
	if (p->foreign_arch)
		return dbg__fail(p, -DBG_ERRNO_ARCH, "pid %d is now a %s process (after exec)",
				 p->pid, p->foreign_arch);
	if (t->state != T_STOPPED)
		return dbg__fail(p, -DBG_ERRNO_RUNNING, "thread %d is not in a ptrace-stop", tid);
	*ret_t = t;
	return 0;
}

/* ---- /proc helpers -------------------------------------------------- */

struct task_status {
	pid_t tgid, ppid, tracer;
	char state;
};

static int read_status(pid_t tid, struct task_status *st)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	ssize_t n = dbg__read_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	memset(st, 0, sizeof(*st));
	const char *s;
	if ((s = strstr(buf, "\nState:\t")))
		st->state = s[8];
	if ((s = strstr(buf, "\nTgid:\t")))
		st->tgid = atoi(s + 7);
	if ((s = strstr(buf, "\nPPid:\t")))
		st->ppid = atoi(s + 7);
	if ((s = strstr(buf, "\nTracerPid:\t")))
		st->tracer = atoi(s + 12);
	if (!st->tgid)
		return -DBG_ERRNO_PARSE;
	return 0;
}

/* Explain an EPERM from PTRACE_SEIZE: the usual three causes. */
static int explain_eperm(struct dbg_proc *p, pid_t pid)
{
	char buf[64];
	struct task_status st;
	if (read_status(pid, &st) == 0 && st.tracer && st.tracer != p->tracer_tid) {
		char comm[64] = "?";
		snprintf(buf, sizeof(buf), "/proc/%d/comm", st.tracer);
		if (dbg__read_file(buf, comm, sizeof(comm)) > 0)
			comm[strcspn(comm, "\n")] = 0;
		return dbg__fail(p, -EPERM, "cannot attach to %d: already traced by %d (%s)",
				 pid, st.tracer, comm);
	}
	if (dbg__read_file("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf)) > 0 &&
	    buf[0] != '0')
		return dbg__fail(p, -EPERM,
				 "cannot attach to %d: Yama ptrace_scope is %c (needs 0, or "
				 "CAP_SYS_PTRACE, or the target's PR_SET_PTRACER)",
				 pid, buf[0]);
	return dbg__fail(p, -EPERM,
			 "cannot attach to %d: not permitted (different user, setuid "
			 "target, or no CAP_SYS_PTRACE)", pid);
}

/* ---- architecture ------------------------------------------------------ */

/*
 * What the program of @pid is, from the ELF header of the file it runs:
 * NULL for x86_64, else a description ("32-bit (i386)", "x32"). The
 * header is what the kernel chose the process's ABI from at exec (a
 * compat task, TIF_IA32/TIF_X32), and it is the only thing that tells
 * x32 apart: an x32 process runs in 64-bit mode (CS 0x33) with the
 * 64-bit register set. The CS selector or the size of the NT_PRSTATUS
 * regset say only which mode the thread is in at this stop, and an
 * x86_64 process may run 32-bit code for a while (a far jump to a
 * 0x23 code segment, as Wine's WoW64 does): that is still ours.
 * The leader's exe is gone when it is a zombie: ask a live thread's.
 * *ret_known is false when no exe could be read (a kernel thread, no
 * permission): the caller decides from the registers then.
 */
static const char *exe_arch(pid_t pid, bool *ret_known)
{
	char path[128];
	unsigned char h[EI_NIDENT + 4];
	*ret_known = false;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		DIR *d = opendir(path);
		struct dirent *de;
		while (d && fd < 0 && (de = readdir(d))) {
			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%.20s/exe", pid, de->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		if (d)
			closedir(d);
		if (fd < 0)
			return NULL;
	}
	ssize_t n = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h, ELFMAG, SELFMAG))
		return NULL; /* not ELF: not something we can judge */
	*ret_known = true;
	unsigned machine = h[EI_DATA] == ELFDATA2MSB ? (unsigned)h[18] << 8 | h[19]
						     : (unsigned)h[19] << 8 | h[18];
	if (h[EI_CLASS] == ELFCLASS64 && machine == EM_X86_64)
		return NULL;
	if (h[EI_CLASS] == ELFCLASS32 && machine == EM_386)
		return "32-bit (i386)";
	if (h[EI_CLASS] == ELFCLASS32 && machine == EM_X86_64)
		return "x32 (32-bit pointers on x86_64)";
	static const char *const other[] = { "non-x86_64 32-bit ELF", "non-x86_64 64-bit ELF" };
	return other[h[EI_CLASS] == ELFCLASS64];
}

/* The fallback when no exe can be read: the size of the general
 * registers of a stopped thread (the ia32 set is 68 bytes). */
static const char *regs_arch(struct dbg_proc *p)
{
	struct dbg__thread *t = dbg__any_stopped(p);
	if (!t)
		return NULL;
	struct user_regs_struct regs;
	struct iovec iov = { &regs, sizeof(regs) };
	if (ptrace(PTRACE_GETREGSET, t->tid, NT_PRSTATUS, &iov) < 0)
		return NULL;
	return iov.iov_len < sizeof(regs) ? "32-bit (i386)" : NULL;
}

/* -DBG_ERRNO_ARCH unless @p is an x86_64 process. */
static int check_arch(struct dbg_proc *p, bool stopped)
{
	bool known;
	const char *what = exe_arch(p->pid, &known);
	if (!known && stopped)
		what = regs_arch(p);
	if (!what)
		return 0;
	return dbg__fail(p, -DBG_ERRNO_ARCH, "pid %d is a %s process", p->pid, what);
}

/* ---- waiting ------------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ns() + (int64_t)timeout_ms * 1000000;
}

/* Is @pid ours to reap? Known threads, ghosts and children are; an unknown
 * tracee of ours is adopted: a clone child whose parent's clone event we
 * have not seen yet, or a fork child likewise. */
static bool claim(struct dbg_proc *p, pid_t pid)
{
	if (dbg__thread_find(p, pid) || child_find(p, pid))
		return true;
	for (size_t i = 0; i < p->nghosts; i++)
		if (p->ghosts[i] == pid)
			return true;
	struct task_status st;
	if (read_status(pid, &st) < 0 || st.tracer != p->tracer_tid)
		return false;
	if (st.tgid == p->pid) {
		struct dbg__thread *t = thread_add(p, pid);
		if (t) {
			t->expect_initial_stop = true;
		}
		return t != NULL;
	}
	if (st.ppid == p->pid)
		return child_add(p, pid) != NULL;
	return false;
}

/* Reap one status of ours without blocking. 1: got one; 0: none. */
static int try_reap(struct dbg_proc *p, pid_t *tid, int *status)
{
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
	return dbg__thread_find(p, pid) || child_find(p, pid) || pid == p->pid;
}

/*
 * Wait until one of our tracees has a status, or the deadline passes.
 * SIGCHLD is blocked in this thread only for the duration, so that the
 * signalfd sees it; a SIGCHLD that was about some other child of the host
 * is raised again once we restore the mask. Returns 1, 0 on timeout, or a
 * negative errno.
 */
static int reap_one(struct dbg_proc *p, int64_t deadline, pid_t *tid, int *status)
{
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &old);
	struct sigaction sa;
	sigaction(SIGCHLD, NULL, &sa);
	/* With SA_NOCLDSTOP the kernel sends no SIGCHLD for stops: poll. */
	bool nocldstop = sa.sa_flags & SA_NOCLDSTOP;
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
			int64_t left = deadline - now_ns();
			if (left <= 0)
				break;
			ms = (int)((left + 999999) / 1000000);
		}
		if (nocldstop && (ms < 0 || ms > 1))
			ms = 1;
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

enum disposition {
	D_REPORT,  /* *ev is an event for the caller */
	D_QUIET,   /* an internal stop: the thread is stopped, nothing to say */
	D_NONE,    /* nothing happened to a live thread we track */
};

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

static void mark_exited_if_empty(struct dbg_proc *p)
{
	if (!p->nthreads)
		p->exited = true;
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
			ghost_add(p, o->tid);
		thread_remove(p, o);
	}
	t = dbg__thread_find(p, tid);
	t->expect_initial_stop = false;
	/* A zombie leader (traced or not) is replaced by the thread that
	 * execed. */
	p->leader_zombie = false;
	p->mm_tid = p->pid;
	bool known;
	p->foreign_arch = exe_arch(p->pid, &known);
	if (p->foreign_arch)
		dbg__log(p, DBG_LOG_WARN, "pid %d execed a %s program: registers are refused",
			 p->pid, p->foreign_arch);
	dbg__hook_exec(p, t);
}

static void on_fork_child(struct dbg_proc *p, struct dbg__thread *t, pid_t child)
{
	struct dbg__child *c = child_add(p, child);
	if (c && (p->flags & DBG_ATTACH_FOLLOW_FORK)) {
		dbg__hook_fork(p, t, child, true);
		return;
	}
	if (!c)
		return;
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
	if (c->stopped)
		ptrace(PTRACE_DETACH, child, 0, 0);
	child_remove(p, c);
	dbg__hook_fork(p, t, child, false);
}

static bool recently_reaped(const struct dbg_proc *p, pid_t tid)
{
	for (size_t i = 0; i < DBG__ARRAY_SIZE(p->reaped); i++)
		if (p->reaped[i] == tid)
			return true;
	return false;
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static enum disposition handle_status(struct dbg_proc *p, pid_t tid, int status,
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
		t = thread_add(p, tid);
	if (!t) {
		if (ghost_take(p, tid))
			return D_NONE;
		struct dbg__child *c = child_find(p, tid);
		if (c) {
			if (WIFSTOPPED(status))
				c->stopped = true;
			else
				child_remove(p, c);
			return D_NONE;
		}
		return D_NONE;
	}

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		bool leader = tid == p->pid;
		p->reaped[p->nreaped++ % DBG__ARRAY_SIZE(p->reaped)] = tid;
		thread_remove(p, t);
		mark_exited_if_empty(p);
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
	/* Any trap clears a pending PTRACE_INTERRUPT ("any trap clears
	 * pending STOP trap", ptrace_stop() in kernel/signal.c). One sent
	 * after the trap began stays pending and shows up after the next
	 * resume as a PTRACE_EVENT_STOP, which is absorbed as quiet. */
	t->interrupt_pending = false;

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
		 * clone child, or a LISTENing thread woken by SIGCONT. */
		t->expect_initial_stop = false;
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
				struct dbg__thread *n = thread_add(p, (pid_t)msg);
				if (n)
					n->expect_initial_stop = true;
			}
			ev->kind = DBG_EVENT_CLONE;
		} else {
			on_fork_child(p, t, (pid_t)msg);
			ev->kind = event == PTRACE_EVENT_FORK ? DBG_EVENT_FORK : DBG_EVENT_VFORK;
		}
		return D_REPORT;
	case PTRACE_EVENT_EXEC:
		ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
		ev->kind = DBG_EVENT_EXEC;
		ev->child = (pid_t)msg;
		on_exec(p, t, (pid_t)msg);
		return D_REPORT;
	case 0:
		break;
	default:
		return D_QUIET; /* events we did not ask for */
	}

	if (sig == (SIGTRAP | 0x80))
		return D_QUIET; /* syscall-stop: not used yet */
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
		t->pending_sig = (si.si_code == TRAP_TRACE || si.si_code == TRAP_HWBKPT) ? 0 : SIGTRAP;
		return D_REPORT;
	}
	ev->kind = DBG_EVENT_SIGNAL;
	t->pending_sig = sig;
	return D_REPORT;
}

/* ---- resuming ------------------------------------------------------ */

static int resume_thread(struct dbg_proc *p, struct dbg__thread *t, bool step)
{
	if (t->state != T_STOPPED)
		return 0;
	long r = -1;
	if (t->group_stop && !step) {
		/* Stay in group-stop as job control wants, yet let the
		 * kernel tell us about SIGCONT. */
		r = ptrace(PTRACE_LISTEN, t->tid, 0, 0);
		if (r == 0)
			t->state = T_LISTENING;
		else if (errno == EINVAL)
			t->group_stop = false; /* SIGCONT came first */
	}
	if (!t->group_stop || step) {
		r = ptrace(step ? PTRACE_SINGLESTEP : PTRACE_CONT, t->tid, 0, t->pending_sig);
		if (r == 0) {
			t->pending_sig = 0;
			t->state = T_RUNNING;
			t->group_stop = false;
		}
	}
	dbg__hook_resume(p, t);
	if (r < 0) {
		/* Killed under our feet: its exit status is on its way. */
		if (errno == ESRCH) {
			t->state = T_RUNNING;
			return -ESRCH;
		}
		return -errno;
	}
	return 0;
}

/* Outside stop-all, an internal stop is undone at once. */
static int settle(struct dbg_proc *p, pid_t tid, enum disposition d)
{
	if (d != D_QUIET)
		return 0;
	struct dbg__thread *t = dbg__thread_find(p, tid);
	return t ? resume_thread(p, t, false) : 0;
}

/*
 * A traced leader that exits alone (pthread_exit) while other threads run
 * becomes a zombie that never stops and that we cannot reap until the
 * group is empty (delay_group_leader() in kernel/exit.c): PTRACE_INTERRUPT
 * succeeds on it, but no stop follows. Seen as 'Z' in /proc/PID/stat, it
 * stays in the table as T_EXITED so that its exit status, which comes to
 * us once the other threads are gone, is reaped and reported as the
 * process's; it is not listed, has no registers, and is not waited for.
 */
#define LEADER_LOOK_NS (10 * 1000000ll)

/* Is thread @tid of @pid on its way out: gone, a zombie, in do_exit
 * (PF_EXITING in the flags of /proc/TID/stat), or with SIGKILL pending
 * (a group exit or fatal signal marks every thread so)? */
static bool thread_dying(pid_t pid, pid_t tid)
{
	char path[96], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	if (dbg__read_file(path, buf, sizeof(buf)) <= 0)
		return true;
	const char *s = strrchr(buf, ')');
	char state;
	unsigned long flags = 0;
	if (!s || sscanf(s + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return true;
	if (state == 'Z' || state == 'X' || (flags & 0x4 /* PF_EXITING */))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	if (dbg__read_file(path, buf, sizeof(buf)) <= 0)
		return true;
	s = strstr(buf, "\nSigPnd:\t");
	return s && (strtoull(s + 9, NULL, 16) & (1ull << (SIGKILL - 1)));
}

static bool leader_exited(struct dbg_proc *p)
{
	struct task_status st;
	struct dbg__thread *l = dbg__thread_find(p, p->pid);
	if (!l || read_status(p->pid, &st) < 0 || st.state != 'Z')
		return false;
	/* A leader that exited alone, not a process that is dying as a
	 * whole (SIGKILL, exit_group): then every status, the leader's
	 * last, is on its way and we wait for it. */
	bool alone = false;
	for (size_t i = 0; i < p->nthreads && !alone; i++)
		if (p->threads[i].tid != p->pid)
			alone = !thread_dying(p->pid, p->threads[i].tid);
	if (!alone)
		return false;
	l->state = T_EXITED;
	l->interrupt_pending = false;
	p->leader_zombie = true;
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].state != T_EXITED) {
			p->mm_tid = p->threads[i].tid;
			break;
		}
	dbg__log(p, DBG_LOG_DEBUG, "the leader %d exited; %zu threads live on", p->pid,
		 p->nthreads - 1);
	return true;
}

static bool any_running(const struct dbg_proc *p)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].state == T_RUNNING || p->threads[i].state == T_LISTENING)
			return true;
	/* An exited leader left alone: its exit status is due. */
	return p->nthreads == 1 && p->threads[0].state == T_EXITED;
}

static void interrupt_thread(struct dbg_proc *p, struct dbg__thread *t)
{
	if (t->state == T_STOPPED || t->state == T_EXITED || t->expect_initial_stop)
		return;
	if (t->state == T_RUNNING && t->interrupt_pending)
		return;
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) == 0) {
		t->interrupt_pending = true;
		return;
	}
	/* The thread is dying or dead. If no status will ever come for it
	 * (reaped elsewhere), forget it so nobody waits forever. */
	int st;
	pid_t r = waitpid(t->tid, &st, __WALL | WNOHANG | WNOWAIT);
	if (r < 0 && errno == ECHILD) {
		thread_remove(p, t);
		mark_exited_if_empty(p);
	}
}

/*
 * Stop every thread. New threads born meanwhile report their first stop
 * and are stopped too. Events other than our interrupt are queued.
 */
static int stop_all(struct dbg_proc *p, int timeout_ms)
{
	int64_t deadline = deadline_after(timeout_ms);
	for (size_t i = 0; i < p->nthreads;) {
		size_t n = p->nthreads;
		interrupt_thread(p, &p->threads[i]);
		if (p->nthreads == n)
			i++;
	}
	while (any_running(p)) {
		pid_t tid;
		int status;
		/* The leader is the one thread that may never stop: see
		 * leader_exited(). Look at it now and then. */
		struct dbg__thread *l = dbg__thread_find(p, p->pid);
		bool look = l && l->state == T_RUNNING && p->nthreads > 1;
		int64_t soon = now_ns() + LEADER_LOOK_NS;
		int r = reap_one(p, look && (deadline < 0 || soon < deadline) ? soon : deadline,
				 &tid, &status);
		if (r < 0)
			return dbg__fail(p, r, "waiting for threads of %d to stop", p->pid);
		if (r == 0 && look && leader_exited(p))
			continue;
		if (r == 0 && look && (deadline < 0 || now_ns() < deadline))
			continue;
		if (r == 0) {
			for (size_t i = 0; i < p->nthreads; i++)
				if (p->threads[i].state != T_STOPPED)
					return dbg__fail(p, -ETIMEDOUT,
							 "thread %d of %d did not stop in %d ms",
							 p->threads[i].tid, p->pid, timeout_ms);
			break;
		}
		struct dbg_event ev;
		if (handle_status(p, tid, status, &ev) == D_REPORT)
			ev_push(p, &ev);
		/* New threads found by the clone events are interrupted too
		 * (their first stop suffices). */
		for (size_t i = 0; i < p->nthreads;) {
			size_t n = p->nthreads;
			if (p->threads[i].state == T_RUNNING)
				interrupt_thread(p, &p->threads[i]);
			if (p->nthreads == n)
				i++;
		}
	}
	if (p->exited)
		return dbg__fail(p, -ESRCH, "process %d exited", p->pid);
	return 0;
}

/* ---- construction ---------------------------------------------------- */

static struct dbg_proc *proc_new(pid_t pid, unsigned int flags, int stop_timeout_ms,
				 dbg_log_fn log_fn, void *log_ctx)
{
	struct dbg_proc *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->mm_tid = pid;
	p->tracer_tid = my_tid();
	p->tracer_pid = getpid();
	p->owner = pthread_self();
	void *guard = mmap(NULL, DBG__PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard != MAP_FAILED && madvise(guard, DBG__PAGE_SIZE, MADV_WIPEONFORK) == 0) {
		*(uint64_t *)guard = FORK_GUARD_MAGIC;
		p->fork_guard = guard;
	} else if (guard != MAP_FAILED) {
		munmap(guard, DBG__PAGE_SIZE); /* before Linux 4.14 */
	}
	p->flags = flags;
	p->stop_timeout_ms = stop_timeout_ms ? stop_timeout_ms : DEFAULT_STOP_TIMEOUT_MS;
	p->log_fn = log_fn;
	p->log_ctx = log_ctx;
	dbg__hook_init(p);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	p->sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (p->sigfd < 0) {
		if (p->fork_guard)
			munmap((void *)p->fork_guard, DBG__PAGE_SIZE);
		free(p);
		return NULL;
	}
	return p;
}

static void proc_free(struct dbg_proc *p)
{
	dbg__hook_fini(p);
	if (p->sigfd >= 0)
		close(p->sigfd);
	free(p->threads);
	free(p->ghosts);
	free(p->children);
	free(p->events.ev);
	if (p->fork_guard)
		munmap((void *)p->fork_guard, DBG__PAGE_SIZE);
	free(p);
}

static int list_tasks(struct dbg_proc *p, bool *found_new)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", p->pid);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	struct dirent *de;
	int err = 0;
	*found_new = false;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		pid_t tid = atoi(de->d_name);
		if (dbg__thread_find(p, tid))
			continue;
		if (ptrace(PTRACE_SEIZE, tid, 0, TRACE_OPTS) == 0) {
			struct dbg__thread *t = thread_add(p, tid);
			if (!t) {
				err = -ENOMEM;
				break;
			}
			*found_new = true;
			continue;
		}
		int e = errno;
		if (e == ESRCH)
			continue; /* exited before we got to it */
		struct task_status st;
		if (e == EPERM) {
			int sr = read_status(tid, &st);
			if (sr < 0 || st.state == 'Z' || st.state == 'X')
				continue; /* exiting: ptrace_attach refuses exit_state */
			if (st.tracer == p->tracer_tid) {
				/* A clone child of a thread we had seized:
				 * already ours, its first stop is coming. */
				struct dbg__thread *t = thread_add(p, tid);
				if (!t) {
					err = -ENOMEM;
					break;
				}
				t->expect_initial_stop = true;
				*found_new = true;
				continue;
			}
		}
		err = e == EPERM ? explain_eperm(p, tid)
				 : dbg__fail(p, -e, "PTRACE_SEIZE of thread %d", tid);
		break;
	}
	closedir(d);
	return err;
}

static int seize_all(struct dbg_proc *p)
{
	/* Rounds: threads can be created while we attach; a round that finds
	 * no new thread once every known one is stopped ends it. */
	for (int round = 0; round < 1000; round++) {
		bool found_new = false;
		int r = list_tasks(p, &found_new);
		if (r < 0)
			return r;
		if (!p->nthreads && p->leader_zombie)
			return dbg__fail(p, -ESRCH, "process %d is a zombie (it exited; its parent "
					 "has not reaped it)", p->pid);
		if (!p->nthreads)
			return dbg__fail(p, -ESRCH, "process %d has no threads", p->pid);
		if (p->leader_zombie && p->mm_tid == p->pid)
			p->mm_tid = p->threads[0].tid;
		if (!found_new && dbg__all_stopped(p))
			return 0;
		r = stop_all(p, p->stop_timeout_ms);
		if (r < 0)
			return r;
	}
	return dbg__fail(p, -EAGAIN, "threads of %d keep appearing", p->pid);
}

static int proc_finish_setup(struct dbg_proc *p)
{
	int r = check_arch(p, true);
	return r < 0 ? r : dbg__hook_setup(p);
}

int dbg_proc_attach(pid_t pid, const struct dbg_attach_opts *opts, struct dbg_proc **ret_proc)
{
	if (pid <= 0 || !ret_proc || !dbg__opts_valid(opts, sizeof(*opts)))
		return -EINVAL;
	if (pid == getpid())
		return -EPERM;
	unsigned int flags = opts ? opts->flags : 0;
	struct dbg_proc *p = proc_new(pid, flags, opts ? opts->stop_timeout_ms : 0,
				      opts ? opts->log_fn : NULL, opts ? opts->log_ctx : NULL);
	if (!p)
		return -ENOMEM;
	struct task_status st;
	int r = read_status(pid, &st);
	if (r < 0)
		r = dbg__fail(p, r == -ENOENT ? -ESRCH : r, "no process %d", pid);
	else if (st.tgid != pid)
		r = dbg__fail(p, -EINVAL, "%d is a thread of %d, not a process", pid, st.tgid);
	/* Refuse what is not x86_64 before touching it: the target is left
	 * exactly as it was. */
	if (r == 0)
		r = check_arch(p, false);
	if (r < 0) {
		proc_free(p);
		return r;
	}
	/* The leader first, so a permission problem has a clear message. */
	if (ptrace(PTRACE_SEIZE, pid, 0, TRACE_OPTS) < 0) {
		int e = errno;
		if (e == ESRCH)
			r = dbg__fail(p, -ESRCH, "no process %d", pid);
		else if (e == EPERM && (st.state == 'Z' || st.state == 'X') && !st.tracer)
			p->leader_zombie = true; /* the other threads are seized below */
		else
			r = e == EPERM ? explain_eperm(p, pid) : dbg__fail(p, -e, "PTRACE_SEIZE %d", pid);
	} else if (!thread_add(p, pid)) {
		r = -ENOMEM;
	}
	if (r == 0)
		r = seize_all(p);
	if (r == 0)
		r = proc_finish_setup(p);
	if (r == 0 && (flags & DBG_ATTACH_NO_STOP))
		r = dbg_proc_resume(p);
	if (r < 0) {
		/* The message went to the log callback; the handle goes. */
		dbg_proc_detach(p);
		return r;
	}
	*ret_proc = p;
	return 0;
}

/* Resolve @file as execvp would, before fork (the child must only call
 * async-signal-safe functions). */
static int resolve_path(const char *file, char *const *envp, char *out, size_t outlen)
{
	if (strchr(file, '/')) {
		if (strlen(file) >= outlen)
			return -ENAMETOOLONG;
		strcpy(out, file);
		return 0;
	}
	const char *path = NULL;
	for (char *const *e = envp; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	int err = -ENOENT;
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n + strlen(file) + 2 <= outlen) {
			memcpy(out, path, n);
			out[n] = '/';
			strcpy(out + n + 1, file);
			if (access(out, X_OK) == 0)
				return 0;
			if (errno == EACCES)
				err = -EACCES;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return err;
}

int dbg_proc_spawn(const char *path, char *const argv[], const struct dbg_spawn_opts *opts,
		   struct dbg_proc **ret_proc)
{
	if (!path || !argv || !argv[0] || !ret_proc || !dbg__opts_valid(opts, sizeof(*opts)))
		return -EINVAL;
	char *const *envp = opts && opts->envp ? opts->envp : environ;
	char resolved[PATH_MAX];
	int r = resolve_path(path, envp, resolved, sizeof(resolved));
	if (r < 0)
		return r;
	int go[2], err[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err, O_CLOEXEC) < 0) {
		r = -errno;
		close(go[0]);
		close(go[1]);
		return r;
	}
	int fds[3] = { opts ? opts->stdin_fd : 0, opts ? opts->stdout_fd : 0,
		       opts ? opts->stderr_fd : 0 };
	const char *cwd = opts ? opts->cwd : NULL;
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		close(go[0]); close(go[1]); close(err[0]); close(err[1]);
		return r;
	}
	if (pid == 0) {
		char c;
		int e;
		close(go[1]);
		close(err[0]);
		/* Wait until the parent has seized us. */
		while (read(go[0], &c, 1) < 0 && errno == EINTR)
			;
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int i = 0; i < 3; i++)
			if (fds[i] > 0 && fds[i] != i && dup2(fds[i], i) < 0)
				goto fail;
		if (cwd && chdir(cwd) < 0)
			goto fail;
		execve(resolved, argv, envp);
fail:
		e = errno;
		if (write(err[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(go[0]);
	close(err[1]);
	unsigned int flags = opts ? opts->flags & ~DBG_ATTACH_NO_STOP : 0;
	long topts = TRACE_OPTS | (opts && opts->no_exit_kill ? 0 : PTRACE_O_EXITKILL);
	struct dbg_proc *p = proc_new(pid, flags, 0, opts ? opts->log_fn : NULL,
				      opts ? opts->log_ctx : NULL);
	if (!p || ptrace(PTRACE_SEIZE, pid, 0, topts) < 0) {
		r = p ? -errno : -ENOMEM;
		kill(pid, SIGKILL);
		close(go[1]);
		close(err[0]);
		waitpid(pid, NULL, __WALL);
		if (p)
			proc_free(p);
		return r;
	}
	if (write(go[1], "g", 1) < 0)
		r = -errno;
	close(go[1]);
	/* Run the child to its exec event, passing on any signal. */
	for (;;) {
		int st;
		pid_t w = waitpid(pid, &st, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			int e = 0;
			r = read(err[0], &e, sizeof(e)) == sizeof(e) ? -e : -ECHILD;
			p->exited = true;
			break;
		}
		if (WIFSTOPPED(st) && ((unsigned)st >> 16) == PTRACE_EVENT_EXEC) {
			struct dbg__thread *t = thread_add(p, pid);
			if (!t) {
				r = -ENOMEM;
				break;
			}
			t->state = T_STOPPED;
			r = 0;
			break;
		}
		int sig = WIFSTOPPED(st) && ((unsigned)st >> 16) == 0 ? WSTOPSIG(st) : 0;
		ptrace(PTRACE_CONT, pid, 0, sig);
	}
	close(err[0]);
	if (r == 0)
		r = proc_finish_setup(p);
	if (r < 0) {
		if (!p->exited) {
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
				;
		}
		proc_free(p);
		return r;
	}
	*ret_proc = p;
	return 0;
}

int dbg_proc_attach_child(struct dbg_proc *p, pid_t child, struct dbg_proc **ret_child)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!ret_child)
		return -EINVAL;
	struct dbg__child *c = child_find(p, child);
	if (!c)
		return dbg__fail(p, -ENOENT, "%d is not a pending child of %d", child, p->pid);
	if (!c->stopped) {
		int st;
		pid_t w;
		while ((w = waitpid(child, &st, __WALL)) < 0 && errno == EINTR)
			;
		if (w != child || !WIFSTOPPED(st)) {
			child_remove(p, c);
			return dbg__fail(p, -ESRCH, "child %d exited", child);
		}
	}
	struct dbg_proc *n = proc_new(child, p->flags, p->stop_timeout_ms, p->log_fn, p->log_ctx);
	if (!n)
		return -ENOMEM;
	struct dbg__thread *t = thread_add(n, child);
	if (!t) {
		proc_free(n);
		return -ENOMEM;
	}
	t->state = T_STOPPED;
	r = proc_finish_setup(n);
	if (r < 0) {
		proc_free(n);
		return r;
	}
	child_remove(p, c);
	*ret_child = n;
	return 0;
}

/* ---- public control --------------------------------------------------- */

pid_t dbg_proc_pid(const struct dbg_proc *p)
{
	return p ? p->pid : -1;
}

int dbg_proc_fd(const struct dbg_proc *p)
{
	return p ? p->sigfd : -EINVAL;
}

int dbg_proc_threads(struct dbg_proc *p, pid_t *buf, size_t cap)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	size_t n = 0;
	for (size_t i = 0; i < p->nthreads; i++) {
		if (p->threads[i].state == T_EXITED)
			continue; /* a zombie leader is not a live thread */
		if (n < cap)
			buf[n] = p->threads[i].tid;
		n++;
	}
	return (int)n;
}

int dbg_proc_thread_state(struct dbg_proc *p, pid_t tid)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	struct dbg__thread *t = dbg__thread_find(p, tid);
	if (!t)
		return tid == p->pid && p->leader_zombie ? DBG_THREAD_EXITED : -ENOENT;
	return t->state;
}

int dbg_proc_stop(struct dbg_proc *p)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (p->exited)
		return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	return stop_all(p, p->stop_timeout_ms);
}

int dbg_proc_resume(struct dbg_proc *p)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (p->exited)
		return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	int err = 0;
	for (size_t i = 0; i < p->nthreads; i++) {
		r = resume_thread(p, &p->threads[i], false);
		if (r < 0 && r != -ESRCH && !err)
			err = dbg__fail(p, r, "resuming thread %d", p->threads[i].tid);
	}
	return err;
}

static int resume_one(struct dbg_proc *p, pid_t tid, bool step)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	struct dbg__thread *t = dbg__thread_find(p, tid);
	/* Resuming a running thread is a no-op: an event queued by stop-all
	 * may name a thread that dbg_proc_resume() has let go since. */
	if (!step && t && (t->state == T_RUNNING || t->state == T_LISTENING))
		return 0;
	r = dbg__stopped_thread(p, tid, &t);
	if (r < 0)
		return r;
	r = resume_thread(p, t, step);
	return r < 0 ? dbg__fail(p, r, "resuming thread %d", tid) : 0;
}

int dbg_proc_resume_thread(struct dbg_proc *p, pid_t tid)
{
	return resume_one(p, tid, false);
}

int dbg_proc_step_thread(struct dbg_proc *p, pid_t tid)
{
	return resume_one(p, tid, true);
}

int dbg_proc_set_signal(struct dbg_proc *p, pid_t tid, int signo)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (signo < 0 || signo >= NSIG)
		return -EINVAL;
	struct dbg__thread *t;
	r = dbg__stopped_thread(p, tid, &t);
	if (r < 0)
		return r;
	t->pending_sig = signo;
	return 0;
}

int dbg_proc_wait(struct dbg_proc *p, int timeout_ms, struct dbg_event *ret_event)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!ret_event)
		return -EINVAL;
	int64_t deadline = deadline_after(timeout_ms);
	for (;;) {
		if (ev_pop(p, ret_event))
			return 0;
		if (p->exited && p->final_pending) {
			p->final_pending = false;
			*ret_event = p->final_event;
			return 0;
		}
		if (p->exited)
			return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
		pid_t tid;
		int status;
		r = reap_one(p, deadline, &tid, &status);
		if (r < 0)
			return r;
		if (r == 0)
			return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
		struct dbg_event ev;
		enum disposition d = handle_status(p, tid, status, &ev);
		if (d == D_REPORT) {
			*ret_event = ev;
			return 0;
		}
		settle(p, tid, d);
	}
}

static void reap_all(struct dbg_proc *p, int timeout_ms)
{
	int64_t deadline = deadline_after(timeout_ms);
	while (!p->exited) {
		pid_t tid;
		int status;
		if (reap_one(p, deadline, &tid, &status) <= 0)
			break;
		struct dbg_event ev;
		if (handle_status(p, tid, status, &ev) == D_REPORT)
			ev_push(p, &ev);
	}
}

int dbg_proc_kill(struct dbg_proc *p)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (p->exited)
		return 0;
	if (kill(p->pid, SIGKILL) < 0 && errno != ESRCH)
		return dbg__fail(p, -errno, "kill %d", p->pid);
	reap_all(p, 5000);
	return p->exited ? 0 : dbg__fail(p, -ETIMEDOUT, "process %d did not die", p->pid);
}

void dbg_proc_detach(struct dbg_proc *p)
{
	if (!p)
		return;
	if (dbg__enter(p) < 0) {
		/* Not our thread: ptrace would fail. The kernel detaches
		 * when the tracing thread exits; we can only free. */
		proc_free(p);
		return;
	}
	if (!p->exited) {
		/* Everything must be in a ptrace-stop to be detached, and to
		 * undo what we changed. Events met now are dropped, but the
		 * signals they carry are kept per thread and given back. */
		bool dying = stop_all(p, p->stop_timeout_ms) == -ESRCH;
		for (size_t i = 0; i < p->nthreads;) {
			struct dbg__thread *t = &p->threads[i];
			if (t->state == T_STOPPED) {
				dbg__hook_detach(p, t);
				int sig = t->group_stop ? 0 : t->pending_sig;
				if (ptrace(PTRACE_DETACH, t->tid, 0, sig) == 0) {
					thread_remove(p, t);
					continue;
				}
				dying |= errno == ESRCH;
			}
			i++;
		}
		/* Threads of a target killed meanwhile are zombies only their
		 * tracer can reap; until they are, the leader cannot be reaped
		 * by its parent. Reap them now. */
		if (dying && p->nthreads)
			reap_all(p, p->stop_timeout_ms);
		struct dbg__thread *l = dbg__thread_find(p, p->pid);
		if (l && l->state == T_EXITED && p->nthreads > 1)
			dbg__log(p, DBG_LOG_WARN,
				 "the leader %d exited while traced: a zombie cannot be detached "
				 "(PTRACE_DETACH needs a ptrace-stop); its parent learns of the "
				 "process's exit once this thread stops tracing", p->pid);
		else if (p->nthreads)
			dbg__log(p, DBG_LOG_WARN, "%zu threads of %d could not be detached",
				 p->nthreads, p->pid);
	}
	for (size_t i = 0; i < p->nchildren; i++) {
		struct dbg__child *c = &p->children[i];
		int st;
		if (!c->stopped && waitpid(c->pid, &st, __WALL) == c->pid && WIFSTOPPED(st))
			c->stopped = true;
		if (c->stopped)
			ptrace(PTRACE_DETACH, c->pid, 0, 0);
	}
	/* Reap threads that died in an exec so they do not linger. */
	for (size_t i = 0; i < p->nghosts; i++)
		waitpid(p->ghosts[i], NULL, __WALL | WNOHANG);
	proc_free(p);
}
