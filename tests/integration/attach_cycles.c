/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 200 attach / stop-all / detach cycles on a target that creates and
 * destroys threads without pause, then 200 on one whose threads each
 * create their successor and exit (churn chain: a thread missed by the
 * attach runs on untraced, and dies of the first breakpoint it meets).
 * After each attach and stop, every live thread of /proc/PID/task is ours
 * and in a tracing stop; after each detach no thread is traced or
 * stopped, and the heartbeat advances.
 */
#include "../harness.h"

static void check_all_stopped(struct dbg_proc *p, pid_t pid, const char *when, int cycle)
{
	pid_t ours[4096], proc_tids[4096];
	int n = dbg_proc_threads(p, ours, 4096);
	CHECK(n > 0, "%s: no threads", when);
	for (int i = 0; i < n; i++)
		CHECK(dbg_proc_thread_state(p, ours[i]) == DBG_THREAD_STOPPED,
		      "cycle %d %s: thread %d state %d", cycle, when, ours[i],
		      dbg_proc_thread_state(p, ours[i]));
	/* Three listings 1 ms apart: the kernel's walk of /proc/PID/task ends
	 * early at a thread that dies under it, but a missed thread that
	 * runs on is in a later one. */
	for (int pass = 0; pass < 3; pass++, sleep_ms(1)) {
		int m = list_tids(pid, proc_tids, 4096);
		for (int i = 0; i < m; i++) {
			char st = thread_state(pid, proc_tids[i]);
			if (st == 0 || st == 'Z' || st == 'X')
				continue; /* already dead, waiting to be reaped */
			bool found = false;
			for (int j = 0; j < n && !found; j++)
				found = ours[j] == proc_tids[i];
			if (!found) {
				/* Not listed by libdbg: an exiting thread of
				 * ours (PF_EXITING counts as gone), or one the
				 * attach missed, running untraced. */
				int tracer = thread_tracer(pid, proc_tids[i]);
				CHECK(tracer < 0 || tracer == getpid(),
				      "cycle %d %s: thread %d (state %c, tracer %d) was missed",
				      cycle, when, proc_tids[i], st, tracer);
				continue;
			}
			CHECK(st == 't', "cycle %d %s: thread %d is in state %c, not t", cycle,
			      when, proc_tids[i], st);
		}
	}
}

static void check_detached(pid_t pid, int cycle)
{
	pid_t tids[4096];
	int m = list_tids(pid, tids, 4096);
	CHECK(m > 0, "target gone");
	for (int i = 0; i < m; i++) {
		char st = thread_state(pid, tids[i]);
		int tracer = thread_tracer(pid, tids[i]);
		if (st == 0 || st == 'Z' || st == 'X' || tracer < 0)
			continue; /* exited meanwhile */
		CHECK(st != 't' && st != 'T', "cycle %d: thread %d left in state %c", cycle,
		      tids[i], st);
		CHECK(tracer == 0, "cycle %d: thread %d still traced by %d", cycle, tids[i], tracer);
	}
}

static void check_heartbeat(pid_t pid, uint64_t addr, int cycle)
{
	uint64_t h0 = peek_u64(pid, addr);
	for (int i = 0; i < 1000; i++) {
		if (peek_u64(pid, addr) > h0)
			return;
		sleep_ms(1);
	}
	CHECK(0, "cycle %d: heartbeat stuck at %llu after detach", cycle, (unsigned long long)h0);
}

static void cycles(const char *mode)
{
	struct inferior inf;
	inferior_start(&inf, "churn", mode, NULL);
	uint64_t hb = ready_field(&inf, "heartbeat");
	int max_threads = 0;
	for (int cycle = 0; cycle < 200; cycle++) {
		struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
		check_all_stopped(p, inf.pid, "after attach", cycle);
		int n = dbg_proc_threads(p, NULL, 0);
		if (n > max_threads)
			max_threads = n;
		OK(dbg_proc_resume(p));
		/* Serve the target's events for a moment: new threads must be
		 * let go, exits reaped. */
		struct dbg_event ev;
		for (int i = 0; i < 20; i++) {
			int r = dbg_proc_wait(p, 1, &ev);
			if (r == -ETIMEDOUT)
				continue;
			CHECK(r == 0, "wait: %s", dbg_strerror(r));
			if (ev.kind != DBG_EVENT_THREAD_EXIT)
				OK(dbg_proc_resume_thread(p, ev.tid));
		}
		int sr = dbg_proc_stop(p);
		if (sr < 0) {
			/* Say which thread, and what the kernel thinks of it. */
			const char *m = dbg_proc_errmsg(p);
			const char *t = strstr(m, "thread ");
			pid_t tid = t ? atoi(t + 7) : 0;
			char path[64], status[2048] = "";
			snprintf(path, sizeof(path), "/proc/%d/task/%d/status", inf.pid, tid);
			FILE *f = fopen(path, "r");
			if (f) {
				size_t got = fread(status, 1, sizeof(status) - 1, f);
				status[got] = 0;
				fclose(f);
			}
			CHECK(0, "cycle %d: stop: %s\n%s", cycle, m, status);
		}
		check_all_stopped(p, inf.pid, "after stop", cycle);
		dbg_proc_detach(p);
		check_detached(inf.pid, cycle);
		check_heartbeat(inf.pid, hb, cycle);
	}
	printf("churn %s: 200 cycles; up to %d threads seen at once\n", mode ? mode : "",
	       max_threads);
	CHECK(max_threads > 1, "the churn target never had more than one thread");
	inferior_kill(&inf);
}

int main(void)
{
	cycles(NULL);
	cycles("chain");
	return 0;
}
