/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The signal policy, raw siginfo and thread signals (dbg/syscall.h) on
 * tests/inferiors/sys_sig.c, whose handler counts what it really got:
 * - stop+pass: reported, then handled; stop alone: reported, not handled;
 *   pass alone: handled without an event; neither: no event, not handled;
 * - siginfo read (SI_USER from us), rewritten to SI_QUEUE with a value,
 *   read back byte for byte, and the handler sees the rewritten one;
 * - a signal injected into a chosen thread runs its handler in that
 *   thread (the handler reports gettid): stopped by an interrupt, stopped
 *   in a signal-delivery-stop whose own signal is filtered, and running;
 * - bad arguments fail with the documented errors.
 */
#include "../harness.h"

#include <sys/syscall.h>

struct counts {
	int usr1, usr2, code, value, tid;
};

static struct counts ask(struct inferior *inf)
{
	char line[256];
	struct counts c;
	inferior_say(inf, "q\n");
	inferior_line(inf, line, sizeof(line));
	CHECK(sscanf(line, "usr1=%d usr2=%d code=%d value=%d tid=%d", &c.usr1, &c.usr2, &c.code,
		     &c.value, &c.tid) == 5, "answer '%s'", line);
	return c;
}

/* Let the target run for @ms, resuming whatever stops: the first SIGNAL
 * event is returned (1, the thread left stopped), else 0. */
static int run_for(struct dbg_proc *p, int ms, struct dbg_event *ret)
{
	for (;;) {
		struct dbg_event ev;
		int r = dbg_proc_wait(p, ms, &ev);
		if (r == -ETIMEDOUT)
			return 0;
		CHECK(r == 0, "wait: %s", dbg_strerror(r));
		if (ev.kind == DBG_EVENT_SIGNAL) {
			*ret = ev;
			return 1;
		}
		OK(dbg_proc_resume(p));
	}
}

int main(void)
{
	skip_unless_ptrace();
	struct inferior inf;
	inferior_start(&inf, "sys_sig", NULL);
	pid_t tids[3];
	CHECK(sscanf(inf.ready, "tids=%d,%d,%d", &tids[0], &tids[1], &tids[2]) == 3, "ready '%s'",
	      inf.ready);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_proc_resume(p));
	struct dbg_event ev;
	struct counts c;

	/* The policy. */
	CHECK(dbg_signal_policy(p, SIGUSR1) == (DBG_SIGNAL_STOP | DBG_SIGNAL_PASS), "default");
	CHECK(kill(inf.pid, SIGUSR1) == 0, "kill");
	CHECK(run_for(p, 5000, &ev) && ev.signo == SIGUSR1, "stop+pass: not reported");
	OK(dbg_proc_resume(p));
	CHECK(!run_for(p, 200, &ev), "another signal %d", ev.signo);
	c = ask(&inf);
	CHECK(c.usr1 == 1, "stop+pass: handled %d times", c.usr1);

	OK(dbg_signal_policy_set(p, SIGUSR1, DBG_SIGNAL_STOP));
	CHECK(dbg_signal_policy(p, SIGUSR1) == DBG_SIGNAL_STOP, "get");
	CHECK(kill(inf.pid, SIGUSR1) == 0, "kill");
	CHECK(run_for(p, 5000, &ev) && ev.signo == SIGUSR1, "stop: not reported");
	OK(dbg_proc_resume(p));
	CHECK(!run_for(p, 200, &ev), "another signal %d", ev.signo);
	c = ask(&inf);
	CHECK(c.usr1 == 1, "stop (no pass): handled, count %d", c.usr1);

	OK(dbg_signal_policy_set(p, SIGUSR1, DBG_SIGNAL_PASS));
	CHECK(kill(inf.pid, SIGUSR1) == 0, "kill");
	CHECK(!run_for(p, 300, &ev), "pass (no stop): reported %d", ev.signo);
	c = ask(&inf);
	CHECK(c.usr1 == 2, "pass (no stop): count %d", c.usr1);

	OK(dbg_signal_policy_set(p, SIGUSR1, 0));
	CHECK(kill(inf.pid, SIGUSR1) == 0, "kill");
	CHECK(!run_for(p, 300, &ev), "ignore: reported %d", ev.signo);
	c = ask(&inf);
	CHECK(c.usr1 == 2, "ignore: handled, count %d", c.usr1);
	printf("policy: stop+pass, stop, pass, ignore as the handler saw them\n");

	/* siginfo round trip. */
	CHECK(kill(inf.pid, SIGUSR2) == 0, "kill");
	CHECK(run_for(p, 5000, &ev) && ev.signo == SIGUSR2, "SIGUSR2 not reported");
	unsigned char raw[DBG_SIGINFO_SIZE], back[DBG_SIGINFO_SIZE];
	OK(dbg_signal_siginfo(p, ev.tid, raw));
	siginfo_t si;
	memcpy(&si, raw, sizeof(si));
	CHECK(si.si_signo == SIGUSR2 && si.si_code == SI_USER && si.si_pid == getpid(),
	      "siginfo signo %d code %d pid %d", si.si_signo, si.si_code, si.si_pid);
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 0x5eed;
	memcpy(raw, &si, sizeof(si));
	OK(dbg_signal_siginfo_set(p, ev.tid, raw));
	OK(dbg_signal_siginfo(p, ev.tid, back));
	CHECK(!memcmp(raw, back, sizeof(raw)), "siginfo read back differs");
	OK(dbg_proc_resume(p));
	CHECK(!run_for(p, 200, &ev), "another signal %d", ev.signo);
	c = ask(&inf);
	CHECK(c.usr2 == 1 && c.code == SI_QUEUE && c.value == 0x5eed,
	      "handler saw usr2=%d code %d value %#x", c.usr2, c.code, c.value);
	printf("siginfo: rewritten SI_QUEUE value 0x5eed reached the handler\n");

	/* A chosen thread, stopped by an interrupt. */
	OK(dbg_proc_stop(p));
	OK(dbg_signal_inject(p, tids[1], SIGUSR2));
	OK(dbg_proc_resume(p));
	CHECK(run_for(p, 5000, &ev) && ev.signo == SIGUSR2 && ev.tid == tids[1],
	      "injected SIGUSR2 reported in %d, not %d", ev.tid, tids[1]);
	OK(dbg_proc_resume(p));
	CHECK(!run_for(p, 200, &ev), "another signal %d", ev.signo);
	c = ask(&inf);
	CHECK(c.usr2 == 2 && c.tid == tids[1], "handler ran in %d (count %d), not %d", c.tid,
	      c.usr2, tids[1]);

	/* Stopped in a signal-delivery-stop whose signal is filtered: it
	 * resumes with ours, without another stop. */
	OK(dbg_signal_policy_set(p, SIGUSR1, DBG_SIGNAL_STOP));
	CHECK(syscall(SYS_tgkill, inf.pid, tids[2], SIGUSR1) == 0, "tgkill");
	CHECK(run_for(p, 5000, &ev) && ev.signo == SIGUSR1 && ev.tid == tids[2], "SIGUSR1 stop");
	OK(dbg_signal_inject(p, tids[2], SIGUSR2));
	OK(dbg_proc_resume(p));
	CHECK(!run_for(p, 300, &ev), "a stop for the injected signal %d", ev.signo);
	c = ask(&inf);
	CHECK(c.usr2 == 3 && c.tid == tids[2] && c.usr1 == 2, "handler usr1=%d usr2=%d in %d, not %d",
	      c.usr1, c.usr2, c.tid, tids[2]);

	/* A running thread. */
	OK(dbg_signal_policy_set(p, SIGUSR2, DBG_SIGNAL_PASS));
	OK(dbg_signal_inject(p, tids[0], SIGUSR2));
	CHECK(!run_for(p, 300, &ev), "reported %d", ev.signo);
	c = ask(&inf);
	CHECK(c.usr2 == 4 && c.tid == tids[0], "handler ran in %d (count %d), not %d", c.tid,
	      c.usr2, tids[0]);
	printf("inject: each signal ran in the chosen thread\n");

	/* Errors. */
	CHECK(dbg_signal_policy_set(p, SIGKILL, 0) == -EINVAL, "SIGKILL policy");
	CHECK(dbg_signal_policy_set(p, 0, 0) == -EINVAL, "signal 0");
	CHECK(dbg_signal_policy_set(p, 65, 0) == -EINVAL, "signal 65");
	CHECK(dbg_signal_policy_set(p, SIGUSR1, 4) == -EINVAL, "bad policy");
	CHECK(dbg_signal_policy(p, 0) == -EINVAL, "policy of 0");
	CHECK(dbg_signal_inject(p, tids[0], 0) == -EINVAL, "inject 0");
	CHECK(dbg_signal_inject(p, 1, SIGUSR1) == -ENOENT, "inject into pid 1");
	CHECK(dbg_signal_siginfo(p, tids[0], raw) == -DBG_ERRNO_RUNNING, "siginfo of a running thread: %d",
	      dbg_signal_siginfo(p, tids[0], raw));
	CHECK(dbg_signal_siginfo(p, tids[0], NULL) == -EINVAL, "NULL buffer");
	long big = DBG_SYSCALL_NR_MAX;
	CHECK(dbg_syscall_catch(p, &big, 1, 0) == -EINVAL, "number out of range");
	CHECK(dbg_syscall_catch(p, NULL, 1, 0) == -EINVAL, "NULL numbers");
	CHECK(dbg_syscall_catch(p, NULL, 0, 4) == -EINVAL, "bad flags");
	CHECK(dbg_syscall_filter(p, NULL, 0) == 0, "an attached target has no filter");

	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("ok\n");
	return 0;
}
