/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exec from a non-leader thread. Documented behaviour: one DBG_EVENT_EXEC
 * whose tid is the process id and whose child is the former tid of the
 * thread that called execve; the thread list is then that one thread;
 * memory is read from the new program (the /proc/PID/mem fd is reopened).
 */
#include "../harness.h"

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "sleepers", "3", NULL);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	int before = dbg_proc_threads(p, NULL, 0);
	CHECK(before >= 5, "expected main + 3 sleepers + heartbeat, got %d", before);
	OK(dbg_proc_resume(p));

	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "exec %s/sleepers\n", INFERIOR_DIR);
	inferior_say(&inf, cmd);
	struct dbg_event ev = wait_for(p, DBG_EVENT_EXEC, 10000);
	CHECK(ev.tid == inf.pid, "exec event on %d, not the pid %d", ev.tid, inf.pid);
	CHECK(ev.child != inf.pid && ev.child > 0, "former tid %d should be a non-leader", ev.child);
	pid_t tids[16];
	int n = dbg_proc_threads(p, tids, 16);
	CHECK(n == 1 && tids[0] == inf.pid, "after exec: %d threads, first %d", n, tids[0]);
	CHECK(dbg_proc_thread_state(p, inf.pid) == DBG_THREAD_STOPPED, "stopped at exec");
	struct dbg_regs regs;
	OK(dbg_regs_get(p, inf.pid, &regs));

	/* Let the new program announce itself, then read its heartbeat both
	 * ways. */
	OK(dbg_proc_resume(p));
	char line[1024];
	serve_until_line(p, &inf, line, sizeof(line));
	CHECK(!strncmp(line, "ready", 5), "new program said '%s'", line);
	snprintf(inf.ready, sizeof(inf.ready), "%s", line + 6);
	uint64_t hb = ready_field(&inf, "heartbeat");
	/* Serve events (its threads) for a moment. */
	for (int i = 0; i < 50; i++) {
		int r = dbg_proc_wait(p, 2, &ev);
		if (r == 0 && ev.kind != DBG_EVENT_THREAD_EXIT)
			dbg_proc_resume_thread(p, ev.tid);
	}
	OK(dbg_proc_stop(p));
	uint64_t ours = 0;
	CHECK(dbg_mem_read(p, hb, &ours, 8) == 8, "read after exec: %s", dbg_proc_errmsg(p));
	CHECK(ours == peek_u64(inf.pid, hb), "heartbeat %llu differs from the raw read",
	      (unsigned long long)ours);
	dbg_proc_detach(p);
	uint64_t h0 = peek_u64(inf.pid, hb);
	sleep_ms(50);
	CHECK(peek_u64(inf.pid, hb) > h0, "new program does not run after detach");
	inferior_kill(&inf);
	printf("exec from thread %d: one EXEC event, one thread left, memory follows\n", ev.child);
	return 0;
}
