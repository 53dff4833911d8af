/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process control: the lifecycle of a dbg_proc (attach, spawn, attach to a
 * fork child, detach, kill), stop-all and resume, the architecture check,
 * and the module hook table. The thread table is in thread.c, the decoding
 * of wait statuses into raw events in event.c. See doc/process.md for the
 * layering and the event model.
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
#include <linux/filter.h>
#include <stddef.h>
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
		    PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEVFORKDONE)
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
	/* Hardware traps first: DR6 says what fired whatever step the
	 * trap came with, the bp module's own step off a breakpoint
	 * included (that step then ends as an event, not silently). */
	&dbg__watch_hooks,
	&dbg__bp_hooks,
	&dbg__step_hooks,
	&dbg__sys_hooks,
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

int dbg__hook_prepare(struct dbg_proc *p, struct dbg__thread *t, int *req)
{
	for (size_t i = 0; i < DBG__ARRAY_SIZE(modules); i++) {
		int r = modules[i]->prepare ? modules[i]->prepare(p, t, req) : 0;
		if (r != 0)
			return r;
	}
	return 0;
}

enum dbg__disposition dbg__hook_stop(struct dbg_proc *p, struct dbg__thread *t,
				     struct dbg_event *ev)
{
	for (size_t i = 0; i < DBG__ARRAY_SIZE(modules); i++) {
		enum dbg__disposition d = modules[i]->stop ? modules[i]->stop(p, t, ev) : D_NONE;
		if (d != D_NONE)
			return d;
	}
	if (ev->kind == DBG_EVENT_TRAP && ev->signo == (SIGTRAP | 0x80))
		return D_QUIET; /* a syscall-stop nobody asked for */
	return D_REPORT;
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

void dbg__hook_vfork_done(struct dbg_proc *p, struct dbg__thread *t)
{
	FOR_EACH_HOOK(vfork_done, p, t);
}

void dbg__hook_clone(struct dbg_proc *p, struct dbg__thread *t)
{
	FOR_EACH_HOOK(clone, p, t);
}

void dbg__hook_thread_exit(struct dbg_proc *p, struct dbg__thread *t)
{
	FOR_EACH_HOOK(thread_exit, p, t);
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

/* ---- /proc helpers -------------------------------------------------- */

/* Explain an EPERM from PTRACE_SEIZE: the usual three causes. */
static int explain_eperm(struct dbg_proc *p, pid_t pid)
{
	char buf[64];
	struct dbg__task_status st;
	if (dbg__task_status(pid, &st) == 0 && st.tracer && st.tracer != p->tracer_tid) {
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
const char *dbg__exe_arch(pid_t pid, bool *ret_known)
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
	const char *what = dbg__exe_arch(p->pid, &known);
	if (!known && stopped)
		what = regs_arch(p);
	if (!what)
		return 0;
	return dbg__fail(p, -DBG_ERRNO_ARCH, "pid %d is a %s process", p->pid, what);
}

/* ---- resuming ------------------------------------------------------ */

/*
 * Resuming is two steps so that a resume-all can ask every module first
 * (run control steps threads off breakpoints while all the others are
 * still stopped) and only then let the threads go: prepare gives the
 * request to issue, 1 when a module resumed the thread (or left it
 * stopped for a new event), or a negative errno.
 */
static int resume_prepare(struct dbg_proc *p, struct dbg__thread *t, bool step, int *req)
{
	*req = step ? PTRACE_SINGLESTEP : PTRACE_CONT;
	if (t->state != T_STOPPED || (t->group_stop && !step))
		return 0;
	return dbg__hook_prepare(p, t, req);
}

static int resume_issue(struct dbg_proc *p, struct dbg__thread *t, bool step, int req)
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
		/* Only a signal-delivery-stop delivers the resume's signal;
		 * from an interrupt, event or syscall-stop the kernel drops
		 * it (gdb's `queue-signal` to a thread stopped by a stop-all
		 * was lost): send it, and its stop is undone with it. */
		if (t->pending_sig && !t->sig_stop &&
		    syscall(SYS_tgkill, p->pid, t->tid, t->pending_sig) == 0) {
			t->injected_sig = t->pending_sig;
			t->pending_sig = 0;
		}
		r = ptrace(req, t->tid, 0, t->pending_sig);
		if (r == 0) {
			t->pending_sig = 0;
			t->state = T_RUNNING;
			t->group_stop = false;
			t->single_stepping = step && req == PTRACE_SINGLESTEP;
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

static int resume_thread(struct dbg_proc *p, struct dbg__thread *t, bool step)
{
	pid_t tid = t->tid;
	int req;
	int h = resume_prepare(p, t, step, &req);
	if (h < 0)
		return h;
	if (h > 0)
		return 0; /* a module resumed it (and told its hooks) */
	t = dbg__thread_find(p, tid);
	return t ? resume_issue(p, t, step, req) : -ESRCH;
}

/* Is an event about @tid queued? */
static bool queued_for(const struct dbg_proc *p, pid_t tid)
{
	const struct dbg__event_queue *q = &p->events;
	for (size_t i = 0; i < q->len; i++)
		if (q->ev[(q->head + i) % q->cap].tid == tid)
			return true;
	return false;
}

/* Is an event queued about a thread that is stopped? */
static bool queued_stop(struct dbg_proc *p)
{
	const struct dbg__event_queue *q = &p->events;
	for (size_t i = 0; i < q->len; i++) {
		const struct dbg__thread *t = dbg__thread_find(p, q->ev[(q->head + i) % q->cap].tid);
		if (t && t->state == T_STOPPED)
			return true;
	}
	return false;
}

/* Outside stop-all, an internal stop is undone at once: the thread is
 * resumed as it was, so a single-step that a late PTRACE_INTERRUPT trap
 * preempted (the instruction not yet run) is issued again, not turned
 * into a continue. */
static int settle(struct dbg_proc *p, pid_t tid, enum dbg__disposition d)
{
	if (d != D_QUIET)
		return 0;
	struct dbg__thread *t = dbg__thread_find(p, tid);
	/* A single-step cut short by a stale interrupt is issued again. */
	return t ? resume_thread(p, t, t->restep) : 0;
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
	/* a zombie, or on its way (PF_EXITING): a thread that returns from
	 * pthread_join on it runs before the leader is a zombie */
	struct dbg__thread *l = dbg__thread_find(p, p->pid);
	if (!l || !thread_dying(p->pid, p->pid))
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

bool dbg__leader_look(struct dbg_proc *p, bool now)
{
	struct dbg__thread *l = dbg__thread_find(p, p->pid);
	if (!l || l->state != T_RUNNING || p->nthreads < 2 ||
	    (!now && dbg__now_ns() < p->leader_look_ns))
		return false;
	p->leader_look_ns = dbg__now_ns() + LEADER_LOOK_NS;
	if (!leader_exited(p))
		return false;
	struct dbg_event ev = { .kind = DBG_EVENT_THREAD_EXIT, .tid = p->pid };
	dbg__event_push(p, &ev);
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
	if (t->state == T_RUNNING && t->interrupt_stale) {
		/* Resumed with our last interrupt perhaps still pending: it
		 * re-trapped the thread at once, before it ran an
		 * instruction. Interrupted again now, that new interrupt
		 * would land in the trap, stay pending and re-trap it at its
		 * next resume too: under a stop-all after every event
		 * (all-stop, threads hitting breakpoints all the time) the
		 * thread never ran again (bp_real, 1,000 threads: a step
		 * never ended). Take the stop that is there instead. */
		int st;
		pid_t tid = t->tid;
		if (waitpid(tid, &st, __WALL | WNOHANG) == tid) {
			struct dbg_event ev;
			if (dbg__handle_status(p, tid, st, &ev) == D_REPORT)
				dbg__event_push(p, &ev);
			return;
		}
	}
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) == 0) {
		t->interrupt_pending = true;
		return;
	}
	/* The thread is dying or dead. If no status will ever come for it
	 * (reaped elsewhere), forget it so nobody waits forever. */
	int st;
	pid_t r = waitpid(t->tid, &st, __WALL | WNOHANG | WNOWAIT);
	if (r < 0 && errno == ECHILD) {
		dbg__hook_thread_exit(p, t);
		dbg__thread_remove(p, t);
		dbg__mark_exited_if_empty(p);
	}
}

/*
 * Stop every thread. New threads born meanwhile report their first stop
 * and are stopped too. Events other than our interrupt are queued.
 */
static int stop_all(struct dbg_proc *p, int timeout_ms)
{
	int64_t deadline = dbg__deadline_after(timeout_ms);
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
		int64_t soon = dbg__now_ns() + LEADER_LOOK_NS;
		int r = dbg__reap_one(p, look && (deadline < 0 || soon < deadline) ? soon : deadline,
				 &tid, &status);
		if (r < 0)
			return dbg__fail(p, r, "waiting for threads of %d to stop", p->pid);
		if (r == 0 && look && leader_exited(p))
			continue;
		if (r == 0 && look && (deadline < 0 || dbg__now_ns() < deadline))
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
		if (dbg__handle_status(p, tid, status, &ev) == D_REPORT)
			dbg__event_push(p, &ev);
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

/* Every live handle of this process, for dbg__proc_owned_elsewhere(). */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dbg_proc *live_head;

bool dbg__proc_owned_elsewhere(const struct dbg_proc *p, pid_t tgid)
{
	bool r = false;
	pthread_mutex_lock(&live_lock);
	for (const struct dbg_proc *q = live_head; q && !r; q = q->next_live)
		r = q != p && q->pid == tgid && q->tracer_tid == p->tracer_tid;
	pthread_mutex_unlock(&live_lock);
	return r;
}

struct dbg_proc *dbg__proc_next_peer(const struct dbg_proc *p, const struct dbg_proc *q)
{
	pthread_mutex_lock(&live_lock);
	struct dbg_proc *r = q ? q->next_live : live_head;
	while (r && (r == p || r->tracer_tid != p->tracer_tid))
		r = r->next_live;
	pthread_mutex_unlock(&live_lock);
	return r;
}

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
	pthread_mutex_lock(&live_lock);
	p->next_live = live_head;
	live_head = p;
	pthread_mutex_unlock(&live_lock);
	return p;
}

static void proc_free(struct dbg_proc *p)
{
	pthread_mutex_lock(&live_lock);
	for (struct dbg_proc **pp = &live_head; *pp; pp = &(*pp)->next_live)
		if (*pp == p) {
			*pp = p->next_live;
			break;
		}
	pthread_mutex_unlock(&live_lock);
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

/* One pass over /proc/PID/task, seizing the threads not known yet. *again
 * says another pass is needed: a thread was new, vanished or was exiting,
 * or the pass may have been cut short. The kernel's walk of a thread list
 * ends, silently, at a thread released while the walk stands on it, and
 * every thread after it is left out: new ones too, such as the child of
 * a thread seized inside clone() (the child is not traced; it runs on,
 * and dies of the first breakpoint it meets). Such a walk has fewer
 * entries than the thread group had when it began: the count in
 * /proc/PID/status tells. Once every thread is ours and stopped nothing
 * is released (our zombies wait for us), and a pass is whole. */
static int list_tasks(struct dbg_proc *p, bool *again)
{
	char path[64];
	struct dbg__task_status st;
	int before = dbg__task_status(p->pid, &st) == 0 ? st.threads : 0;
	snprintf(path, sizeof(path), "/proc/%d/task", p->pid);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	struct dirent *de;
	int err = 0, listed = 0;
	*again = false;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		listed++;
		pid_t tid = atoi(de->d_name);
		if (dbg__thread_find(p, tid))
			continue;
		if (ptrace(PTRACE_SEIZE, tid, 0, TRACE_OPTS) == 0) {
			struct dbg__thread *t = dbg__thread_add(p, tid);
			if (!t) {
				err = -ENOMEM;
				break;
			}
			*again = true;
			continue;
		}
		int e = errno;
		if (e == ESRCH) {
			*again = true; /* exited before we got to it */
			continue;
		}
		if (e == EPERM) {
			int sr = dbg__task_status(tid, &st);
			if (sr < 0 || st.state == 'Z' || st.state == 'X') {
				/* Exiting: ptrace_attach refuses exit_state. Our
				 * own zombies (their status is ours to reap) and
				 * a zombie leader stay; they are no reason to go on. */
				*again |= sr < 0 || (st.tracer != p->tracer_tid &&
						     (tid != p->pid || !p->leader_zombie));
				continue;
			}
			if (st.tracer == p->tracer_tid) {
				/* A clone child of a thread we had seized:
				 * already ours, its first stop is coming. */
				struct dbg__thread *t = dbg__thread_add(p, tid);
				if (!t) {
					err = -ENOMEM;
					break;
				}
				t->expect_initial_stop = true;
				*again = true;
				continue;
			}
		}
		err = e == EPERM ? explain_eperm(p, tid)
				 : dbg__fail(p, -e, "PTRACE_SEIZE of thread %d", tid);
		break;
	}
	closedir(d);
	*again |= listed < before;
	return err;
}

static int seize_all(struct dbg_proc *p)
{
	/* Rounds: threads can be created while we attach; a round that finds
	 * nothing new or gone once every known one is stopped ends it. */
	for (int round = 0; round < 1000; round++) {
		bool again = false;
		int r = list_tasks(p, &again);
		if (r < 0)
			return r;
		if (!p->nthreads && p->leader_zombie)
			return dbg__fail(p, -ESRCH, "process %d is a zombie (it exited; its parent "
					 "has not reaped it)", p->pid);
		if (!p->nthreads)
			return dbg__fail(p, -ESRCH, "process %d has no threads", p->pid);
		if (p->leader_zombie && p->mm_tid == p->pid)
			p->mm_tid = p->threads[0].tid;
		if (!again && dbg__all_stopped(p))
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
	struct dbg__task_status st;
	int r = dbg__task_status(pid, &st);
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
	} else if (!dbg__thread_add(p, pid)) {
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
	int new_pgrp = opts && opts->sz >= offsetof(struct dbg_spawn_opts, new_pgrp) + sizeof(int) &&
		       opts->new_pgrp;
	/* The seccomp filter of syscall catching (sys.c), built before
	 * fork; fields past the caller's sz are not there. */
	struct sock_fprog filter = { 0 };
	const long *sysnos = NULL;
	size_t nsysnos = 0;
	if (opts && opts->sz >= offsetof(struct dbg_spawn_opts, seccomp_nsysnos) + sizeof(size_t) &&
	    opts->seccomp_nsysnos) {
		sysnos = opts->seccomp_sysnos;
		nsysnos = opts->seccomp_nsysnos;
		r = dbg__sys_filter_build(sysnos, nsysnos, &filter);
		if (r < 0) {
			close(go[0]); close(go[1]); close(err[0]); close(err[1]);
			return r;
		}
	}
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		close(go[0]); close(go[1]); close(err[0]); close(err[1]);
		dbg__sys_filter_free(&filter);
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
		if (new_pgrp && setpgid(0, 0) < 0)
			goto fail;
		for (int i = 0; i < 3; i++)
			if (fds[i] > 0 && fds[i] != i && dup2(fds[i], i) < 0)
				goto fail;
		if (cwd && chdir(cwd) < 0)
			goto fail;
		if (filter.len && (e = -dbg__sys_filter_install(&filter)) > 0)
			goto fail_e;
		execve(resolved, argv, envp);
fail:
		e = errno;
fail_e:
		if (write(err[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(go[0]);
	close(err[1]);
	dbg__sys_filter_free(&filter);
	unsigned int flags = opts ? opts->flags & ~DBG_ATTACH_NO_STOP : 0;
	long topts = TRACE_OPTS | (opts && opts->no_exit_kill ? 0 : PTRACE_O_EXITKILL) |
		     (nsysnos ? PTRACE_O_TRACESECCOMP : 0);
	struct dbg_proc *p = proc_new(pid, flags, 0, opts ? opts->log_fn : NULL,
				      opts ? opts->log_ctx : NULL);
	if (p && nsysnos)
		dbg__sys_filter_record(p, sysnos, nsysnos);
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
			struct dbg__thread *t = dbg__thread_add(p, pid);
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
	struct dbg__child *c = dbg__child_find(p, child);
	if (!c)
		return dbg__fail(p, -ENOENT, "%d is not a pending child of %d", child, p->pid);
	if (!c->stopped) {
		int st;
		pid_t w;
		while ((w = waitpid(child, &st, __WALL)) < 0 && errno == EINTR)
			;
		if (w != child || !WIFSTOPPED(st)) {
			dbg__child_remove(p, c);
			return dbg__fail(p, -ESRCH, "child %d exited", child);
		}
	}
	struct dbg_proc *n = proc_new(child, p->flags, p->stop_timeout_ms, p->log_fn, p->log_ctx);
	if (!n)
		return -ENOMEM;
	struct dbg__thread *t = dbg__thread_add(n, child);
	if (!t) {
		proc_free(n);
		return -ENOMEM;
	}
	t->state = T_STOPPED;
	/* The modules' setup may take over what the parent had in the
	 * child (run control: the breakpoints it inherited). */
	n->forked_from = p;
	n->vfork_child = c->vfork;
	r = proc_finish_setup(n);
	n->forked_from = NULL;
	if (r < 0) {
		proc_free(n);
		return r;
	}
	dbg__child_remove(p, c);
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
	/* All-stop: an event still queued about a stopped thread is
	 * reported before anything runs again (see dbg/bp.h). */
	if (p->bp.mode == DBG_RUNCTL_ALL_STOP && queued_stop(p)) {
		p->bp.resume_held = true;
		return 0;
	}
	p->bp.resume_held = false;
	size_t n = p->nthreads;
	struct { pid_t tid; int req; } *todo = calloc(n ? n : 1, sizeof(*todo));
	if (!todo)
		return -ENOMEM;
	/* Prepare every thread first (steps off breakpoints happen while
	 * the others are all still stopped), then let them go. */
	size_t k = 0;
	int err = 0;
	for (size_t i = 0; i < n && i < p->nthreads; i++) {
		struct dbg__thread *t = &p->threads[i];
		pid_t tid = t->tid;
		int req;
		r = resume_prepare(p, t, false, &req);
		if (r == 0) {
			todo[k].tid = tid;
			todo[k++].req = req;
		} else if (r < 0 && r != -ESRCH && !err) {
			err = dbg__fail(p, r, "resuming thread %d", tid);
		}
	}
	for (size_t i = 0; i < k; i++) {
		struct dbg__thread *t = dbg__thread_find(p, todo[i].tid);
		if (!t)
			continue;
		r = resume_issue(p, t, false, todo[i].req);
		if (r < 0 && r != -ESRCH && !err)
			err = dbg__fail(p, r, "resuming thread %d", todo[i].tid);
	}
	free(todo);
	return err;
}

/* ---- run control: pausing the others ------------------------------------ */

/* The threads that were not running before the pause (and @keep) stay
 * as they are after it; every other one that stopped without an event to
 * report (new threads born meanwhile too) runs on. */
int dbg__runctl_pause(struct dbg_proc *p, pid_t keep, pid_t **ret_tids, size_t *ret_n)
{
	*ret_tids = NULL;
	*ret_n = 0;
	pid_t *tids = malloc((p->nthreads + 1) * sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	size_t n = 0;
	tids[n++] = keep;
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].tid != keep && p->threads[i].state != T_RUNNING)
			tids[n++] = p->threads[i].tid;
	*ret_tids = tids;
	*ret_n = n;
	return stop_all(p, p->stop_timeout_ms);
}

void dbg__runctl_unpause(struct dbg_proc *p, pid_t *held, size_t n)
{
	for (size_t i = 0; i < p->nthreads; i++) {
		struct dbg__thread *t = &p->threads[i];
		bool was_held = false;
		for (size_t k = 0; k < n && !was_held; k++)
			was_held = held[k] == t->tid;
		if (was_held || t->state != T_STOPPED || queued_for(p, t->tid))
			continue;
		size_t before = p->nthreads;
		/* As it was before the pause: a single-step our interrupt
		 * preempted (the instruction not run yet) is issued again.
		 * As a continue, a thread gdb was stepping through its
		 * displaced copy ran on past the copy's end (SIGSEGV,
		 * gdb.threads/non-stop-fair-events through dbg-server). */
		resume_thread(p, t, t->restep);
		if (p->nthreads != before)
			i = (size_t)-1; /* the table changed: look again from the start */
	}
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

int dbg_proc_stop_thread(struct dbg_proc *p, pid_t tid)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	struct dbg__thread *t = dbg__thread_find(p, tid);
	if (!t)
		return dbg__fail(p, -ENOENT, "no thread %d in process %d", tid, p->pid);
	if (t->state == T_STOPPED)
		return 0;
	if (t->state == T_EXITED)
		return dbg__fail(p, -ESRCH, "thread %d has exited", tid);
	/* A stop that is already there (a signal's) needs no interrupt,
	 * which would only trap again after the next resume. */
	int status;
	if (waitpid(tid, &status, __WALL | WNOHANG) == tid) {
		struct dbg_event ev;
		if (dbg__handle_status(p, tid, status, &ev) == D_REPORT)
			dbg__event_push(p, &ev);
		t = dbg__thread_find(p, tid);
		if (!t)
			return dbg__fail(p, -ESRCH, "thread %d exited", tid);
	}
	if (t->state != T_STOPPED)
		interrupt_thread(p, t);
	int64_t deadline = dbg__deadline_after(p->stop_timeout_ms);
	for (;;) {
		t = dbg__thread_find(p, tid);
		if (!t)
			return dbg__fail(p, -ESRCH, "thread %d exited", tid);
		if (t->state == T_STOPPED)
			return 0;
		pid_t got;
		/* Its own status first: a waitpid on the one tid is cheap. */
		pid_t w = waitpid(tid, &status, __WALL | WNOHANG);
		if (w == tid) {
			got = tid;
		} else {
			r = dbg__reap_one(p, deadline, &got, &status);
			if (r < 0)
				return dbg__fail(p, r, "waiting for thread %d to stop", tid);
			if (r == 0)
				return dbg__fail(p, -ETIMEDOUT, "thread %d did not stop in %d ms",
						 tid, p->stop_timeout_ms);
		}
		struct dbg_event ev;
		enum dbg__disposition d = dbg__handle_status(p, got, status, &ev);
		if (d == D_REPORT)
			dbg__event_push(p, &ev);
		else if (got != tid)
			settle(p, got, d); /* others' quiet stops: let them run on */
	}
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

/* All-stop mode: an event is reported with every thread stopped (the
 * events met while stopping them are queued). A target that died
 * meanwhile still gets its event reported. */
static int all_stop(struct dbg_proc *p)
{
	p->bp.resume_held = false; /* an event is reported: the caller resumes again */
	if (p->bp.mode != DBG_RUNCTL_ALL_STOP || p->exited)
		return 0;
	int r = stop_all(p, p->stop_timeout_ms);
	if (r < 0 && r != -ESRCH)
		dbg__log(p, DBG_LOG_WARN, "all-stop: %s", p->errmsg);
	return 0;
}

int dbg_proc_wait(struct dbg_proc *p, int timeout_ms, struct dbg_event *ret_event)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!ret_event)
		return -EINVAL;
	int64_t deadline = dbg__deadline_after(timeout_ms);
	for (;;) {
		if (dbg__event_pop(p, ret_event))
			return all_stop(p);
		if (p->exited && p->final_pending) {
			p->final_pending = false;
			*ret_event = p->final_event;
			return 0;
		}
		if (p->exited)
			return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
		pid_t tid;
		int status;
		/* A leader that exits alone while the others run gives no
		 * status (leader_exited()): looked at now and then, its exit
		 * is reported like any thread's. */
		struct dbg__thread *l = dbg__thread_find(p, p->pid);
		bool look = l && l->state == T_RUNNING && p->nthreads > 1;
		int64_t until = deadline;
		if (look && (deadline < 0 || dbg__now_ns() + LEADER_LOOK_NS < deadline))
			until = dbg__now_ns() + LEADER_LOOK_NS;
		r = dbg__reap_one(p, until, &tid, &status);
		if (r < 0)
			return r;
		if (r == 0 && look && dbg__leader_look(p, false))
			continue; /* its exit is queued */
		if (r == 0 && until != deadline)
			continue;
		if (r == 0)
			return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
		struct dbg_event ev;
		enum dbg__disposition d = dbg__handle_status(p, tid, status, &ev);
		if (d == D_REPORT) {
			*ret_event = ev;
			return all_stop(p);
		}
		settle(p, tid, d);
	}
}

static void reap_all(struct dbg_proc *p, int timeout_ms)
{
	int64_t deadline = dbg__deadline_after(timeout_ms);
	while (!p->exited) {
		pid_t tid;
		int status;
		if (dbg__reap_one(p, deadline, &tid, &status) <= 0)
			break;
		struct dbg_event ev;
		if (dbg__handle_status(p, tid, status, &ev) == D_REPORT)
			dbg__event_push(p, &ev);
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
					dbg__thread_remove(p, t);
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
