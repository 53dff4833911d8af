/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A thread that exits while we stop all threads. Documented behaviour:
 * dbg_proc_stop() succeeds, the exit is queued as a THREAD_EXIT event, and
 * the tid leaves the thread list; nothing waits for a thread that is gone.
 * Repeated 50 times with the exit and the stop racing.
 */
#include "../harness.h"

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "sleepers", "2", NULL);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	int exits_while_stopping = 0;
	for (int round = 0; round < 50; round++) {
		char line[128];
		OK(dbg_proc_resume(p));
		inferior_say(&inf, "spawn\n");
		serve_until_line(p, &inf, line, sizeof(line));
		pid_t victim = atoi(line + 8);
		CHECK(victim > 0, "'%s'", line);
		/* Serve until the new thread runs, then race exit and stop. */
		struct dbg_event ev;
		while (dbg_proc_wait(p, 5, &ev) == 0)
			dbg_proc_resume_thread(p, ev.tid);
		inferior_say(&inf, "exit\n");
		usleep((round % 10) * 100);
		OK(dbg_proc_stop(p));
		pid_t tids[64];
		int n = dbg_proc_threads(p, tids, 64);
		bool listed = false;
		for (int i = 0; i < n; i++) {
			listed |= tids[i] == victim;
			CHECK(dbg_proc_thread_state(p, tids[i]) == DBG_THREAD_STOPPED, "not stopped");
		}
		/* Either it exited before the stop (queued event, gone), or it
		 * is stopped and exits after the next resume. */
		bool exited = false;
		while (dbg_proc_wait(p, 0, &ev) == 0)
			exited |= ev.kind == DBG_EVENT_THREAD_EXIT && ev.tid == victim;
		CHECK(exited != listed, "round %d: thread %d listed %d, exit reported %d", round, victim,
		      listed, exited);
		exits_while_stopping += exited;
		OK(dbg_proc_resume(p));
		serve_until_line(p, &inf, line, sizeof(line));
		CHECK(!strncmp(line, "exited", 6), "'%s'", line);
		/* Serving events while waiting for that line may have consumed
		 * the exit already; if not, it comes as an event now. */
		exited |= dbg_proc_thread_state(p, victim) == -ENOENT;
		if (!exited) {
			while (!exited) {
				int r = dbg_proc_wait(p, 10000, &ev);
				CHECK(r == 0, "exit of %d never reported", victim);
				exited = ev.kind == DBG_EVENT_THREAD_EXIT && ev.tid == victim;
				if (!exited)
					dbg_proc_resume_thread(p, ev.tid);
			}
		}
		CHECK(dbg_proc_thread_state(p, victim) == -ENOENT, "exited thread still listed");
	}
	printf("50 rounds; %d exits landed inside dbg_proc_stop()\n", exits_while_stopping);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	return 0;
}
