/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Syscall catching (dbg/syscall.h) on tests/inferiors/sys_loop.c, in the
 * PTRACE_SYSCALL mode and in the seccomp mode on the same inferior:
 * - one call (lseek) caught among many (getppid, getuid, futex ...) in
 *   four threads created after catching began: only lseek is reported,
 *   a number never called (acct) is caught too and never reported;
 * - entry and exit pair up per thread, and every exit carries the
 *   return value the inferior computed (the offset it sought to);
 * - both modes report exactly the same events;
 * - the same while the target is interrupted (dbg_proc_stop) and gets
 *   real-time signals passed without a stop, each one handled;
 * - a caught blocking call (clock_nanosleep) interrupted by stops and
 *   signals: entries and exits still pair, interrupted ones exit with
 *   the restart code -516 (ERESTART_RESTARTBLOCK);
 * - execve caught from a second thread: entry, exec, exit (from the pid);
 * - the seccomp filter once detached: the filtered call fails with ENOSYS;
 * - the target killed while catching: every call errors, nothing hangs.
 */
#include "../harness.h"

#include <sys/syscall.h>

#define NTHREADS 4
#define ITERS 20000
#define EVERY 100
#define PER_THREAD (ITERS / EVERY)

static const long filter_nrs[] = { SYS_lseek, SYS_acct, SYS_getuid, SYS_execve };

struct run {
	int seccomp;
	int disturb;
	/* per thread index k: the sum and count of exit values seen */
	long count[NTHREADS];
	long long sum[NTHREADS];
	int sent;
};

static const long *spawn_filter = filter_nrs;
static size_t spawn_nfilter = sizeof(filter_nrs) / sizeof(filter_nrs[0]);

static struct dbg_proc *spawn(const char *mode_arg, char **argv, int seccomp, int in_fd,
			      int out_fd)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/sys_loop", INFERIOR_DIR);
	argv[0] = path;
	(void)mode_arg;
	struct dbg_spawn_opts o = { .sz = sizeof(o), .stdin_fd = in_fd, .stdout_fd = out_fd };
	if (seccomp) {
		o.seccomp_sysnos = spawn_filter;
		o.seccomp_nsysnos = spawn_nfilter;
	}
	if (getenv("DBG_TEST_VERBOSE"))
		o.log_fn = verbose_log;
	struct dbg_proc *p = NULL;
	int r = dbg_proc_spawn(path, argv, &o, &p);
	if (r == -EPERM)
		skip("ptrace or seccomp not permitted");
	CHECK(r == 0, "spawn %s: %s", path, dbg_strerror(r));
	return p;
}

struct tstate {
	pid_t tid;
	int in;       /* entry seen, exit due */
	long nr;
	int k;        /* thread index from its first exit value */
	long next;    /* the exit value expected next */
};

static struct tstate *ts_get(struct tstate *ts, int *nts, pid_t tid)
{
	for (int i = 0; i < *nts; i++)
		if (ts[i].tid == tid)
			return &ts[i];
	CHECK(*nts < 64, "too many threads");
	ts[*nts] = (struct tstate){ .tid = tid, .k = -1 };
	return &ts[(*nts)++];
}

static void catch_run(struct run *run)
{
	int out[2];
	CHECK(pipe2(out, O_CLOEXEC) == 0, "pipe");
	char n[16], it[16], ev_s[16];
	snprintf(n, sizeof(n), "%d", NTHREADS);
	snprintf(it, sizeof(it), "%d", ITERS);
	snprintf(ev_s, sizeof(ev_s), "%d", EVERY);
	char *argv[] = { NULL, "loop", n, it, ev_s, NULL };
	struct dbg_proc *p = spawn("loop", argv, run->seccomp, 0, out[1]);
	close(out[1]);
	pid_t pid = dbg_proc_pid(p);
	long catch_nrs[] = { SYS_lseek, SYS_acct };
	OK(dbg_syscall_catch(p, catch_nrs, 2, 0));
	CHECK(dbg_syscall_mode(p) == (run->seccomp ? DBG_SYSCALL_MODE_SECCOMP : DBG_SYSCALL_MODE_PTRACE),
	      "mode %d", dbg_syscall_mode(p));
	int rt = SIGRTMIN + 4;
	OK(dbg_signal_policy_set(p, rt, DBG_SIGNAL_PASS));
	OK(dbg_proc_resume(p));
	struct tstate ts[64];
	int nts = 0, events = 0;
	for (;;) {
		struct dbg_event ev;
		int r = dbg_proc_wait(p, 30000, &ev);
		CHECK(r == 0, "wait: %s (%s)", dbg_strerror(r), dbg_proc_errmsg(p));
		if (ev.kind == DBG_EVENT_EXITED) {
			CHECK(ev.status == 0, "exit status %d", ev.status);
			break;
		}
		CHECK(ev.kind != DBG_EVENT_KILLED, "killed by %d", ev.signo);
		CHECK(ev.kind != DBG_EVENT_SIGNAL, "signal %d reported (policy: pass, no stop)",
		      ev.signo);
		if (ev.kind == DBG_EVENT_SYSCALL_ENTRY || ev.kind == DBG_EVENT_SYSCALL_EXIT) {
			events++;
			CHECK(ev.sysno == SYS_lseek, "syscall %ld reported, only lseek is called of "
			      "the caught ones", ev.sysno);
			struct tstate *t = ts_get(ts, &nts, ev.tid);
			if (ev.kind == DBG_EVENT_SYSCALL_ENTRY) {
				CHECK(!t->in, "thread %d: two entries without an exit", ev.tid);
				t->in = 1;
				t->nr = ev.sysno;
			} else {
				CHECK(t->in && t->nr == ev.sysno, "thread %d: exit of %ld without its entry",
				      ev.tid, ev.sysno);
				t->in = 0;
				if (t->k < 0) {
					t->k = (int)(ev.sysret / 1000000);
					CHECK(t->k >= 0 && t->k < NTHREADS && ev.sysret % 1000000 == 0,
					      "first lseek returned %lld", (long long)ev.sysret);
					t->next = ev.sysret;
				}
				CHECK(ev.sysret == t->next, "thread %d: lseek returned %lld, expected %ld",
				      ev.tid, (long long)ev.sysret, t->next);
				t->next += EVERY;
				run->count[t->k]++;
				run->sum[t->k] += ev.sysret;
			}
		}
		if (ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume(p));
		if (run->disturb && events && events % 53 == 0) {
			CHECK(kill(pid, rt) == 0, "kill");
			run->sent++;
		}
		if (run->disturb && events && events % 41 == 0) {
			int s = dbg_proc_stop(p);
			CHECK(s == 0, "stop: %s", dbg_proc_errmsg(p));
			OK(dbg_proc_resume(p));
		}
	}
	for (int i = 0; i < nts; i++)
		CHECK(!ts[i].in, "thread %d: entry without exit", ts[i].tid);
	char line[256];
	FILE *f = fdopen(out[0], "r");
	CHECK(f && fgets(line, sizeof(line), f), "no output");
	fclose(f);
	long lseeks = -1;
	int sigs = -1;
	CHECK(sscanf(line, "done lseeks=%ld sigs=%d", &lseeks, &sigs) == 2, "output '%s'", line);
	CHECK(lseeks == NTHREADS * PER_THREAD, "inferior did %ld lseeks", lseeks);
	CHECK(sigs == run->sent, "inferior handled %d signals, %d sent", sigs, run->sent);
	for (int k = 0; k < NTHREADS; k++)
		CHECK(run->count[k] == PER_THREAD, "thread index %d: %ld exits, expected %d", k,
		      run->count[k], PER_THREAD);
	dbg_proc_detach(p);
	printf("%s%s: %d events, %d signals passed\n", run->seccomp ? "seccomp" : "ptrace",
	       run->disturb ? " (interrupted, signalled)" : "", events, run->sent);
}

static void exec_run(int seccomp)
{
	char *argv[] = { NULL, "exec", NULL };
	struct dbg_proc *p = spawn("exec", argv, seccomp, 0, 0);
	pid_t pid = dbg_proc_pid(p);
	long nr = SYS_execve;
	OK(dbg_syscall_catch(p, &nr, 1, 0));
	OK(dbg_proc_resume(p));
	int stage = 0; /* 0: entry due; 1: exec due; 2: exit due; 3: done */
	pid_t execer = 0;
	for (;;) {
		struct dbg_event ev;
		int r = dbg_proc_wait(p, 10000, &ev);
		CHECK(r == 0, "wait: %s", dbg_strerror(r));
		if (ev.kind == DBG_EVENT_EXITED)
			break;
		if (ev.kind == DBG_EVENT_SYSCALL_ENTRY) {
			CHECK(stage == 0 && ev.sysno == SYS_execve && ev.tid != pid,
			      "entry %ld of %d at stage %d", ev.sysno, ev.tid, stage);
			execer = ev.tid;
			stage = 1;
		} else if (ev.kind == DBG_EVENT_EXEC) {
			CHECK(stage == 1 && ev.child == execer, "exec at stage %d from %d", stage,
			      ev.child);
			stage = 2;
		} else if (ev.kind == DBG_EVENT_SYSCALL_EXIT) {
			CHECK(stage == 2 && ev.sysno == SYS_execve && ev.tid == pid && ev.sysret == 0,
			      "exit %ld = %lld of %d at stage %d", ev.sysno, (long long)ev.sysret,
			      ev.tid, stage);
			stage = 3;
		}
		if (ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume(p));
	}
	CHECK(stage == 3, "%s: stopped at stage %d", seccomp ? "seccomp" : "ptrace", stage);
	dbg_proc_detach(p);
	printf("%s: execve entry, exec, exit\n", seccomp ? "seccomp" : "ptrace");
}

static void sleep_run(int seccomp)
{
	static const long nrs[] = { SYS_clock_nanosleep };
	spawn_filter = nrs;
	spawn_nfilter = 1;
	char *argv[] = { NULL, "sleep", "150", NULL };
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct dbg_proc *p = spawn("sleep", argv, seccomp, 0, devnull);
	close(devnull);
	spawn_filter = filter_nrs;
	spawn_nfilter = sizeof(filter_nrs) / sizeof(filter_nrs[0]);
	pid_t pid = dbg_proc_pid(p);
	OK(dbg_syscall_catch(p, nrs, 1, 0));
	CHECK(dbg_syscall_mode(p) == (seccomp ? DBG_SYSCALL_MODE_SECCOMP : DBG_SYSCALL_MODE_PTRACE),
	      "mode");
	int rt = SIGRTMIN + 4;
	OK(dbg_signal_policy_set(p, rt, DBG_SIGNAL_PASS));
	OK(dbg_proc_resume(p));
	struct tstate ts[64];
	int nts = 0, entries = 0, exits = 0, restarts = 0;
	for (;;) {
		struct dbg_event ev;
		int r = dbg_proc_wait(p, 10000, &ev);
		CHECK(r == 0, "wait: %s", dbg_strerror(r));
		if (ev.kind == DBG_EVENT_EXITED)
			break;
		if (ev.kind == DBG_EVENT_SYSCALL_ENTRY || ev.kind == DBG_EVENT_SYSCALL_EXIT) {
			CHECK(ev.sysno == SYS_clock_nanosleep, "syscall %ld", ev.sysno);
			struct tstate *t = ts_get(ts, &nts, ev.tid);
			if (ev.kind == DBG_EVENT_SYSCALL_ENTRY) {
				CHECK(!t->in, "thread %d: two entries without an exit", ev.tid);
				t->in = 1;
				entries++;
			} else {
				CHECK(t->in, "thread %d: exit without its entry", ev.tid);
				t->in = 0;
				exits++;
				restarts += ev.sysret == -516;
				CHECK(ev.sysret == 0 || ev.sysret == -516 || ev.sysret == -EINTR,
				      "clock_nanosleep returned %lld", (long long)ev.sysret);
			}
		}
		if (ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume(p));
		if (ev.kind == DBG_EVENT_SYSCALL_ENTRY) {
			/* Catch it asleep: an interrupt, or a signal. */
			sleep_ms(1);
			if (entries % 2) {
				int s = dbg_proc_stop(p);
				CHECK(s == 0, "stop: %s", dbg_proc_errmsg(p));
				OK(dbg_proc_resume(p));
			} else {
				CHECK(syscall(SYS_tgkill, pid, ev.tid, rt) == 0, "tgkill");
			}
		}
	}
	/* Each signal ends a sleep with EINTR, and the inferior sleeps again:
	 * more entries than its 150 sleeps. An interrupt's restart goes
	 * through restart_syscall, which is not caught. */
	CHECK(entries == exits && entries > 150, "%d entries, %d exits", entries, exits);
	/* The exit stop comes before signal delivery turns the restart code
	 * into EINTR for a handler: interrupted calls all show -516. */
	CHECK(restarts > 0, "%d exits interrupted for a restart", restarts);
	dbg_proc_detach(p);
	printf("%s: clock_nanosleep %d pairs, %d interrupted (-516)\n",
	       seccomp ? "seccomp" : "ptrace", entries, restarts);
}

/* What getppid() returns in the inferior: attached (the seccomp stop is
 * quiet), or after detach. */
static void enosys_run(int seccomp, int detach_first)
{
	int in[2], out[2];
	CHECK(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0, "pipe");
	char *argv[] = { NULL, "enosys", NULL };
	static const long ppid_nr = SYS_getppid;
	spawn_filter = &ppid_nr;
	spawn_nfilter = 1;
	struct dbg_proc *p = spawn("enosys", argv, seccomp, in[0], out[1]);
	spawn_filter = filter_nrs;
	spawn_nfilter = sizeof(filter_nrs) / sizeof(filter_nrs[0]);
	if (seccomp) {
		long got[4];
		CHECK(dbg_syscall_filter(p, got, 4) == 1 && got[0] == SYS_getppid, "filter list");
	}
	close(in[0]);
	close(out[1]);
	pid_t pid = dbg_proc_pid(p);
	OK(dbg_proc_resume(p));
	CHECK(write(in[1], "go\n", 3) == 3, "write");
	if (detach_first) {
		dbg_proc_detach(p);
		p = NULL;
	}
	(void)detach_first;
	char line[128];
	FILE *f = fdopen(out[0], "r");
	if (p) {
		/* Attached: pump events until the exit. */
		for (;;) {
			struct dbg_event ev;
			int r = dbg_proc_wait(p, 10000, &ev);
			CHECK(r == 0, "wait: %s", dbg_strerror(r));
			if (ev.kind == DBG_EVENT_EXITED)
				break;
			OK(dbg_proc_resume(p));
		}
		dbg_proc_detach(p);
	}
	CHECK(f && fgets(line, sizeof(line), f), "no output");
	fclose(f);
	close(in[1]);
	if (detach_first) {
		int st;
		CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "detached child status %#x", st);
	}
	long ret;
	int e;
	CHECK(sscanf(line, "ret=%ld errno=%d", &ret, &e) == 2, "output '%s'", line);
	if (seccomp && detach_first)
		CHECK(ret == -1 && e == ENOSYS, "getppid after detach under the filter: %s", line);
	else
		CHECK(ret == getpid() && e == 0, "getppid: %s (expected %d)", line, getpid());
	printf("%s, %s: getppid: %s", seccomp ? "filter" : "no filter",
	       detach_first ? "detached" : "attached", line);
}

static void killed_run(int seccomp)
{
	int out[2];
	CHECK(pipe2(out, O_CLOEXEC) == 0, "pipe");
	char *argv[] = { NULL, "loop", "4", "100000000", "10", NULL };
	struct dbg_proc *p = spawn("loop", argv, seccomp, 0, out[1]);
	close(out[1]);
	pid_t pid = dbg_proc_pid(p);
	long nr = SYS_lseek;
	OK(dbg_syscall_catch(p, &nr, 1, seccomp ? 0 : DBG_SYSCALL_CATCH_ALL));
	OK(dbg_proc_resume(p));
	int events = 0, killed = 0;
	pid_t last = pid;
	for (int i = 0; i < 100000; i++) {
		struct dbg_event ev;
		int64_t t0 = 0;
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		int r = dbg_proc_wait(p, 10000, &ev);
		clock_gettime(CLOCK_MONOTONIC, &b);
		t0 = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
		CHECK(t0 < 9000, "a wait took %lld ms", (long long)t0);
		if (r == -ESRCH)
			break;
		CHECK(r == 0, "wait: %s", dbg_strerror(r));
		if (ev.kind == DBG_EVENT_KILLED) {
			CHECK(ev.signo == SIGKILL, "killed by %d", ev.signo);
			killed = 1;
			continue;
		}
		CHECK(!killed, "event %d after the process was killed", ev.kind);
		if (ev.kind == DBG_EVENT_SYSCALL_ENTRY || ev.kind == DBG_EVENT_SYSCALL_EXIT)
			events++;
		last = ev.tid;
		if (events == 500) {
			CHECK(kill(pid, SIGKILL) == 0, "kill");
			/* The thread is still in our stop or already dying:
			 * any answer but a hang or a crash. */
			unsigned char si[DBG_SIGINFO_SIZE];
			(void)dbg_signal_siginfo(p, last, si);
			(void)dbg_signal_inject(p, last, SIGUSR1);
		}
		if (ev.kind != DBG_EVENT_THREAD_EXIT)
			(void)dbg_proc_resume(p);
	}
	CHECK(killed, "no KILLED event");
	unsigned char si[DBG_SIGINFO_SIZE];
	CHECK(dbg_syscall_catch(p, &nr, 1, 0) == -ESRCH, "catch after death");
	CHECK(dbg_signal_siginfo(p, last, si) < 0, "siginfo after death");
	CHECK(dbg_signal_inject(p, last, SIGUSR1) < 0, "inject after death");
	CHECK(dbg_proc_resume(p) < 0, "resume after death");
	struct dbg_event ev;
	CHECK(dbg_proc_wait(p, 1000, &ev) == -ESRCH, "wait after death");
	dbg_proc_detach(p);
	close(out[0]);
	printf("%s: killed after %d events, every call errs\n", seccomp ? "seccomp" : "ptrace",
	       events);
}

int main(void)
{
	skip_unless_ptrace();
	struct run r[4] = { { .seccomp = 0 }, { .seccomp = 1 }, { .seccomp = 0, .disturb = 1 },
			    { .seccomp = 1, .disturb = 1 } };
	for (int i = 0; i < 4; i++)
		catch_run(&r[i]);
	/* The same events in both modes, with and without disturbance. */
	for (int i = 1; i < 4; i++)
		for (int k = 0; k < NTHREADS; k++)
			CHECK(r[i].count[k] == r[0].count[k] && r[i].sum[k] == r[0].sum[k],
			      "run %d thread index %d differs from the ptrace run", i, k);
	CHECK(r[2].sent > 0 && r[3].sent > 0, "no signals sent");
	sleep_run(0);
	sleep_run(1);
	exec_run(0);
	exec_run(1);
	enosys_run(0, 0);
	enosys_run(0, 1);
	enosys_run(1, 0);
	enosys_run(1, 1);
	killed_run(0);
	killed_run(1);
	printf("ok\n");
	return 0;
}
