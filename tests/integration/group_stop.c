/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Group-stop (SIGSTOP sent by someone else), then detach. Documented
 * behaviour: the SIGSTOP is reported and passed on; the threads report
 * group-stop; after detach the target stays in its job-control stop (state
 * T, untraced, heartbeat still) exactly as without us, and SIGCONT resumes
 * it. Also: attaching to an already stopped target leaves it stopped.
 */
#include "../harness.h"

static void check_job_stopped(pid_t pid)
{
	pid_t tids[64];
	int n = list_tids(pid, tids, 64);
	for (int i = 0; i < n; i++) {
		char st = 0;
		for (int k = 0; k < 200 && (st = thread_state(pid, tids[i])) != 'T'; k++)
			sleep_ms(1);
		CHECK(st == 'T', "thread %d in state %c, not T (stopped)", tids[i], st);
		CHECK(thread_tracer(pid, tids[i]) == 0, "thread %d still traced", tids[i]);
	}
}

static void check_runs(pid_t pid, uint64_t hb, bool expect)
{
	uint64_t h0 = peek_u64(pid, hb);
	sleep_ms(60);
	uint64_t h1 = peek_u64(pid, hb);
	CHECK(expect ? h1 > h0 : h1 == h0, "heartbeat %s: %llu -> %llu",
	      expect ? "stuck" : "moves while stopped", (unsigned long long)h0,
	      (unsigned long long)h1);
}

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "sleepers", "2", NULL);
	uint64_t hb = ready_field(&inf, "heartbeat");

	/* 1: SIGSTOP while we are attached. */
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_proc_resume(p));
	kill(inf.pid, SIGSTOP);
	struct dbg_event ev = wait_for(p, DBG_EVENT_SIGNAL, 5000);
	CHECK(ev.signo == SIGSTOP, "signal %d, not SIGSTOP", ev.signo);
	CHECK(ev.siginfo.pid == getpid(), "sender %d", ev.siginfo.pid);
	OK(dbg_proc_resume_thread(p, ev.tid)); /* passes SIGSTOP on */
	ev = wait_for(p, DBG_EVENT_GROUP_STOP, 5000);
	CHECK(ev.signo == SIGSTOP, "group-stop signal %d", ev.signo);
	dbg_proc_detach(p);
	check_job_stopped(inf.pid);
	check_runs(inf.pid, hb, false);
	kill(inf.pid, SIGCONT);
	check_runs(inf.pid, hb, true);

	/* 2: attach to a target that is already stopped, and detach. */
	kill(inf.pid, SIGSTOP);
	check_job_stopped(inf.pid);
	p = attach_or_skip(inf.pid, NULL);
	pid_t tids[64];
	int n = dbg_proc_threads(p, tids, 64);
	struct dbg_regs regs;
	for (int i = 0; i < n; i++)
		OK(dbg_regs_get(p, tids[i], &regs));
	/* Resuming keeps it in group-stop (PTRACE_LISTEN)... */
	OK(dbg_proc_resume(p));
	check_runs(inf.pid, hb, false);
	CHECK(dbg_proc_thread_state(p, tids[0]) == DBG_THREAD_GROUP_STOPPED, "state %d",
	      dbg_proc_thread_state(p, tids[0]));
	/* ...and stop-all brings it back into a ptrace-stop. */
	OK(dbg_proc_stop(p));
	CHECK(dbg_proc_thread_state(p, tids[0]) == DBG_THREAD_STOPPED, "state after stop");
	dbg_proc_detach(p);
	check_job_stopped(inf.pid);
	check_runs(inf.pid, hb, false);
	kill(inf.pid, SIGCONT);
	check_runs(inf.pid, hb, true);
	inferior_kill(&inf);
	printf("group-stop survives detach; SIGCONT resumes\n");
	return 0;
}
