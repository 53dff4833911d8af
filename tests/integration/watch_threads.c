/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A write watchpoint in every thread (issue 11, acceptance 2): set before
 * a thread exists, it fires in that thread; threads that exist when it is
 * inserted get it too (stopped, running, group-stopped); each hit names the thread, the watch and the
 * address. After removal DR7 is 0 in every thread (threads born since
 * included), read through libdbg; after detach, with a watch still
 * inserted, DR7 is 0 in every thread read with raw ptrace, and the target
 * runs on writing the variable without a SIGTRAP.
 */
#include "watch_util.h"

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "watch_target", NULL);
	uint64_t var = ready_field(&inf, "var");
	char line[256];
	struct seen s;
	seen_reset(&s);

	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	struct dbg_watch *w;
	OK(dbg_watch_insert(p, var, 8, DBG_WATCH_WRITE, &w));
	CHECK(dbg_watch_addr(w) == var && dbg_watch_len(w) == 8, "getters");
	CHECK(dbg_watch_kind(w) == DBG_WATCH_WRITE && dbg_watch_thread(w) == 0, "getters");
	CHECK(dbg_watch_nregs(w) == 1 && dbg_watch_active(w) && dbg_watch_hits(w) == 0, "getters");
	uint64_t dr7;
	OK(dbg_regs_get_debugreg(p, inf.pid, 7, &dr7));
	CHECK(dr7 != 0, "DR7 of the leader is 0 after insert");
	OK(dbg_proc_resume(p));

	/* A thread created after the insert. */
	ask(p, &inf, &s, "thread\n", "thread ", line, sizeof(line));
	pid_t tid = atoi(line + 7);
	CHECK(s.traps == 0, "a raw trap in %d (code %d)", s.trap.tid, s.trap.siginfo.code);
	CHECK(s.n == 1, "%d hits for one write in a new thread", s.n);
	CHECK(s.hit[0].tid == tid && tid != inf.pid, "hit in %d, the writer is %d", s.hit[0].tid, tid);
	CHECK(s.hit[0].watch == w && s.hit[0].addr == var, "hit names %p %#llx",
	      (void *)s.hit[0].watch, (unsigned long long)s.hit[0].addr);
	CHECK(dbg_watch_hits(w) == 1, "hit count %llu", (unsigned long long)dbg_watch_hits(w));

	/* The leader. */
	seen_reset(&s);
	ask(p, &inf, &s, "write 5\n", "wrote", line, sizeof(line));
	CHECK(s.n == 1 && s.hit[0].tid == inf.pid && s.traps == 0, "%d hits in the leader", s.n);

	/* 32 threads born with the watch in place, each writes once. */
	seen_reset(&s);
	ask(p, &inf, &s, "spawn 32\n", "spawned 32", line, sizeof(line));
	ask(p, &inf, &s, "release\n", "released", line, sizeof(line));
	CHECK(s.traps == 0, "a raw trap in %d", s.trap.tid);
	CHECK(s.n == 32, "%d hits for 32 writing threads", s.n);
	for (int i = 0; i < 32; i++) {
		CHECK(s.hit[i].tid != inf.pid && s.hit[i].watch == w, "hit %d in %d", i, s.hit[i].tid);
		for (int j = 0; j < i; j++)
			CHECK(s.hit[i].tid != s.hit[j].tid, "thread %d hit twice", s.hit[i].tid);
	}
	CHECK(dbg_watch_hits(w) == 34, "hit count %llu", (unsigned long long)dbg_watch_hits(w));

	/* Remove it while threads exist; every DR7 is 0, and a write does
	 * not stop anyone. */
	seen_reset(&s);
	ask(p, &inf, &s, "spawn 4\n", "spawned 4", line, sizeof(line));
	OK(dbg_proc_stop(p));
	OK(dbg_watch_remove(p, w));
	check_dr7_zero(p, "after removal");
	OK(dbg_proc_resume(p));
	ask(p, &inf, &s, "write 6\n", "wrote", line, sizeof(line));
	ask(p, &inf, &s, "thread\n", "thread ", line, sizeof(line));
	CHECK(s.n == 0 && s.traps == 0, "%d hits, %d traps after removal", s.n, s.traps);
	OK(dbg_proc_stop(p));
	check_dr7_zero(p, "threads born after removal");

	/* Inserted while four threads exist and wait: each of them fires. */
	struct dbg_watch *w2;
	OK(dbg_watch_insert(p, var, 8, DBG_WATCH_WRITE, &w2));
	OK(dbg_proc_resume(p));
	ask(p, &inf, &s, "release\n", "released", line, sizeof(line));
	CHECK(s.n == 4 && s.traps == 0, "%d hits from 4 threads that existed at insert", s.n);

	/* Removal while the target runs (threads are stopped for it). */
	seen_reset(&s);
	OK(dbg_watch_remove(p, w2));
	ask(p, &inf, &s, "write 8\n", "wrote", line, sizeof(line));
	CHECK(s.n == 0 && s.traps == 0, "%d hits after a removal while running", s.n);

	/* A group-stopped (SIGSTOP) thread cannot be written: it is
	 * programmed when SIGCONT lets it run. */
	kill(inf.pid, SIGSTOP);
	struct dbg_event ev;
	do {
		OK(dbg_proc_wait(p, 5000, &ev));
		if (ev.kind != DBG_EVENT_GROUP_STOP && ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume_thread(p, ev.tid));
	} while (ev.kind != DBG_EVENT_GROUP_STOP);
	OK(dbg_proc_resume_thread(p, ev.tid));
	CHECK(dbg_proc_thread_state(p, inf.pid) == DBG_THREAD_GROUP_STOPPED, "not group-stopped");
	OK(dbg_watch_insert(p, var, 8, DBG_WATCH_WRITE, &w2));
	kill(inf.pid, SIGCONT);
	seen_reset(&s);
	ask(p, &inf, &s, "write 11\n", "wrote", line, sizeof(line));
	CHECK(s.n == 1 && s.hit[0].tid == inf.pid && s.traps == 0, "%d hits after SIGCONT", s.n);
	OK(dbg_watch_remove(p, w2));

	/* Inserted while it runs, then detach with it in place. */
	seen_reset(&s);
	ask(p, &inf, &s, "spawn 3\n", "spawned 3", line, sizeof(line));
	OK(dbg_watch_insert(p, var, 8, DBG_WATCH_WRITE, &w2));
	ask(p, &inf, &s, "write 9\n", "wrote", line, sizeof(line));
	CHECK(s.n == 1 && s.hit[0].tid == inf.pid, "%d hits after an insert while running", s.n);
	seen_reset(&s);
	ask(p, &inf, &s, "release\n", "released", line, sizeof(line));
	CHECK(s.n == 3 && s.traps == 0, "%d hits from 3 threads running at the insert", s.n);
	ask(p, &inf, &s, "spawn 3\n", "spawned 3", line, sizeof(line));
	dbg_proc_detach(p);
	int nread = check_raw_dr7_zero(inf.pid, "after detach");
	CHECK(nread == 4, "read DR7 of %d threads, want 4", nread);
	/* It runs on: its writes do not kill it with SIGTRAP. */
	inferior_say(&inf, "release\n");
	inferior_line(&inf, line, sizeof(line));
	CHECK(!strcmp(line, "released"), "after detach: '%s'", line);
	inferior_say(&inf, "write 10\n");
	inferior_line(&inf, line, sizeof(line));
	CHECK(!strcmp(line, "wrote"), "after detach: '%s'", line);
	inferior_kill(&inf);
	printf("watch_threads: a watch fires in threads born after it (32 at once), is 0 in every DR7 after "
	       "removal and detach\n");
	return 0;
}
