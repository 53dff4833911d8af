/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Watches across fork and exec. A followed fork child (DBG_ATTACH_FOLLOW_FORK,
 * dbg_proc_attach_child) has none of the parent's: its DR7 reads 0 and its
 * write to the watched variable does not stop it; a watch inserted through
 * its own handle fires in it (issue 11, acceptance 2). The parent's watch
 * keeps firing in the parent. An exec drops the watches (the kernel clears
 * the debug registers): dbg_watch_active() is 0, DR7 is 0, the new
 * program's writes do not stop it, a new watch works, the old handle is
 * removed without error. Detach leaves DR7 0 in both processes.
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

	DBG_OPTS(dbg_attach_opts, o, .flags = DBG_ATTACH_FOLLOW_FORK);
	struct dbg_proc *p = attach_or_skip(inf.pid, &o);
	struct dbg_watch *w;
	OK(dbg_watch_insert(p, var, 8, DBG_WATCH_WRITE, &w));
	OK(dbg_proc_resume(p));
	ask(p, &inf, &s, "write 1\n", "wrote", line, sizeof(line));
	CHECK(s.n == 1 && s.hit[0].tid == inf.pid, "%d hits in the parent", s.n);

	/* fork: the child is kept stopped for us. */
	seen_reset(&s);
	inferior_say(&inf, "fork\n");
	struct dbg_event ev;
	do {
		OK(dbg_proc_wait(p, 5000, &ev));
		CHECK(ev.kind != DBG_EVENT_WATCHPOINT && ev.kind != DBG_EVENT_TRAP, "kind %d before fork",
		      ev.kind);
		if (ev.kind != DBG_EVENT_FORK)
			OK(dbg_proc_resume_thread(p, ev.tid));
	} while (ev.kind != DBG_EVENT_FORK);
	pid_t child = ev.child, forker = ev.tid;
	struct dbg_proc *c;
	OK(dbg_proc_attach_child(p, child, &c));
	uint64_t dr7 = 1;
	OK(dbg_regs_get_debugreg(c, child, 7, &dr7));
	CHECK(dr7 == 0, "the fork child's DR7 is %#llx (the parent's copied)", (unsigned long long)dr7);
	/* Its own watch fires in it. */
	struct dbg_watch *cw;
	OK(dbg_watch_insert(c, var, 8, DBG_WATCH_WRITE, &cw));
	OK(dbg_proc_resume(c));
	ev = wait_for(c, DBG_EVENT_WATCHPOINT, 5000);
	CHECK(ev.tid == child && ev.watch == cw && ev.addr == var, "child hit: tid %d", ev.tid);
	CHECK(peek_u64(child, var) == 7, "the child wrote");
	OK(dbg_watch_remove(c, cw));
	OK(dbg_regs_get_debugreg(c, child, 7, &dr7));
	CHECK(dr7 == 0, "the child's DR7 after removal: %#llx", (unsigned long long)dr7);
	OK(dbg_proc_resume(c));
	ev = wait_for(c, DBG_EVENT_EXITED, 5000);
	CHECK(ev.status == 0, "child status %d", ev.status);
	dbg_proc_detach(c);
	OK(dbg_proc_resume_thread(p, forker));
	serve_line(p, &inf, &s, line, sizeof(line));
	char want[64];
	snprintf(want, sizeof(want), "child %d status 0", child);
	CHECK(!strcmp(line, want), "'%s', want '%s'", line, want);
	CHECK(s.n == 0 && s.traps == 0, "%d hits in the parent while the child wrote", s.n);

	/* A child followed but given no watch: its write does not stop it. */
	inferior_say(&inf, "fork\n");
	do {
		OK(dbg_proc_wait(p, 5000, &ev));
		if (ev.kind != DBG_EVENT_FORK)
			OK(dbg_proc_resume_thread(p, ev.tid));
	} while (ev.kind != DBG_EVENT_FORK);
	child = ev.child;
	forker = ev.tid;
	OK(dbg_proc_attach_child(p, child, &c));
	OK(dbg_proc_resume(c));
	OK(dbg_proc_wait(c, 5000, &ev));
	CHECK(ev.kind == DBG_EVENT_EXITED && ev.status == 0, "the child stopped: kind %d signo %d",
	      ev.kind, ev.signo);
	dbg_proc_detach(c);
	OK(dbg_proc_resume_thread(p, forker));
	serve_line(p, &inf, &s, line, sizeof(line));
	CHECK(!strncmp(line, "child", 5), "'%s'", line);

	/* The parent's watch still fires. */
	seen_reset(&s);
	ask(p, &inf, &s, "write 2\n", "wrote", line, sizeof(line));
	CHECK(s.n == 1 && s.hit[0].watch == w, "%d hits in the parent after the forks", s.n);

	/* exec: dropped. */
	inferior_say(&inf, "exec\n");
	ev = wait_for(p, DBG_EVENT_EXEC, 5000);
	CHECK(!dbg_watch_active(w), "a watch survived exec");
	OK(dbg_regs_get_debugreg(p, inf.pid, 7, &dr7));
	CHECK(dr7 == 0, "DR7 after exec: %#llx", (unsigned long long)dr7);
	OK(dbg_proc_resume(p));
	serve_line(p, &inf, &s, line, sizeof(line));
	CHECK(!strncmp(line, "ready ", 6), "after exec: '%s'", line);
	snprintf(inf.ready, sizeof(inf.ready), "%s", line + 6);
	uint64_t var2 = ready_field(&inf, "var");
	seen_reset(&s);
	ask(p, &inf, &s, "write 3\n", "wrote", line, sizeof(line));
	CHECK(s.n == 0 && s.traps == 0, "the dropped watch fired");
	struct dbg_watch *w2;
	OK(dbg_watch_insert(p, var2, 8, DBG_WATCH_WRITE, &w2));
	ask(p, &inf, &s, "write 4\n", "wrote", line, sizeof(line));
	CHECK(s.n == 1 && s.hit[0].watch == w2 && s.hit[0].addr == var2, "%d hits after exec", s.n);
	OK(dbg_watch_remove(p, w));
	dbg_proc_detach(p);
	check_raw_dr7_zero(inf.pid, "after detach");
	inferior_say(&inf, "write 5\n");
	inferior_line(&inf, line, sizeof(line));
	CHECK(!strcmp(line, "wrote"), "after detach: '%s'", line);
	inferior_kill(&inf);
	printf("watch_fork: fork children start with none and get their own, exec drops them\n");
	return 0;
}
