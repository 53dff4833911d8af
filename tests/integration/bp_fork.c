/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Acceptance 4 (and 5 after it) of issue 11: a fork-and-exec loop runs
 * under a breakpoint that parent and children both execute. Modes:
 *   fork    unfollowed children: each is cleaned of the int3 before it
 *           runs on, none dies of SIGTRAP, every parent hit is reported;
 *           5 s, or DBG_BP_FORK_SECONDS (30 for the figure);
 *   vfork   the same with vfork: the child runs on the parent's memory,
 *           the breakpoint must neither fire in it nor be lost for the
 *           parent (every parent hit reported);
 *   follow  DBG_ATTACH_FOLLOW_FORK: the child's handle inherits the
 *           breakpoint, reports the child's own hit, and after the
 *           child's exec the breakpoint is dropped (-ESRCH).
 *   vfollow the same with vfork (the child runs on the parent's
 *           memory): at the first vfork the parent removes its breakpoint
 *           and the child inserts its own again, as gdb does with
 *           follow-fork child; the child must hit it, and after its exec
 *           the parent's text must be clean (the int3 was the child's).
 * Then detach: the parent's text is as before attaching.
 */
#include "../harness.h"

static void follow_child(struct dbg_proc *p, pid_t child, uint64_t addr)
{
	struct dbg_proc *c;
	OK(dbg_proc_attach_child(p, child, &c));
	struct dbg_bp *list[4];
	CHECK(dbg_bp_list(c, list, 4) == 1 && dbg_bp_addr(list[0]) == addr,
	      "the child did not inherit the breakpoint");
	CHECK(raw_byte(child, addr) == 0xcc, "no int3 in the child");
	OK(dbg_proc_resume(c));
	struct dbg_event ev = wait_for(c, DBG_EVENT_BREAKPOINT, 10000);
	CHECK(ev.bp == list[0] && ev.tid == child, "the child's hit");
	OK(dbg_proc_resume(c));
	ev = wait_for(c, DBG_EVENT_EXEC, 10000);
	struct dbg_bp_info info;
	CHECK(dbg_bp_info(list[0], &info) == -ESRCH && !info.inserted && info.addr == addr,
	      "exec did not drop the breakpoint");
	OK(dbg_bp_remove(c, list[0]));
	OK(dbg_proc_resume(c));
	ev = wait_for(c, DBG_EVENT_EXITED, 10000);
	CHECK(ev.status == 0, "child status %d", ev.status);
	dbg_proc_detach(c);
}

/* vfollow: the child of the @nth vfork. */
static void vfollow_child(struct dbg_proc *p, struct dbg_bp **bp, pid_t child, uint64_t addr,
			  uint8_t orig, long nth)
{
	struct dbg_proc *c;
	OK(dbg_proc_attach_child(p, child, &c));
	struct dbg_bp *list[4];
	int n = dbg_bp_list(c, list, 4);
	CHECK(n == (*bp ? 1 : 0), "vfork %ld: the child has %d breakpoints", nth, n);
	if (nth == 1) {
		/* gdb's follow-fork child: the parent's goes (from their
		 * memory too), the child's is put in again */
		OK(dbg_bp_remove(p, *bp));
		*bp = NULL;
		CHECK(raw_byte(child, addr) == orig, "the parent's int3 stayed");
		OK(dbg_bp_remove(c, list[0]));
		OK(dbg_bp_insert(c, addr, NULL, &list[0]));
		OK(dbg_proc_resume(c));
		struct dbg_event ev = wait_for(c, DBG_EVENT_BREAKPOINT, 10000);
		CHECK(ev.bp == list[0] && ev.tid == child, "the child's hit");
	}
	OK(dbg_proc_resume(c));
	wait_for(c, DBG_EVENT_EXEC, 10000);
	CHECK(raw_byte(dbg_proc_pid(p), addr) == orig,
	      "vfork %ld: the child's int3 stayed in the parent after its exec", nth);
	if (nth == 1)
		OK(dbg_bp_remove(c, list[0]));
	OK(dbg_proc_resume(c));
	struct dbg_event ev = wait_for(c, DBG_EVENT_EXITED, 10000);
	CHECK(ev.status == 0, "child status %d", ev.status);
	dbg_proc_detach(c);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "fork";
	bool vfollow = !strcmp(mode, "vfollow");
	bool follow = vfollow || !strcmp(mode, "follow");
	bool vfork = vfollow || !strcmp(mode, "vfork");
	const char *env = getenv("DBG_BP_FORK_SECONDS");
	double secs = env ? atof(env) : 5;
	long max = follow ? 3 : 1000000;
	struct inferior inf;
	inferior_start(&inf, "bp_forker", vfork ? "vfork" : "fork", NULL);
	uint64_t addr = ready_field(&inf, "bp");
	uint8_t orig = raw_byte(inf.pid, addr);
	DBG_OPTS(dbg_attach_opts, ao, .flags = follow ? DBG_ATTACH_FOLLOW_FORK : 0);
	struct dbg_proc *p = attach_or_skip(inf.pid, &ao);
	struct dbg_bp *bp;
	OK(dbg_bp_insert(p, addr, NULL, &bp));
	OK(dbg_proc_resume(p));
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "go %g %ld\n", secs, max);
	inferior_say(&inf, cmd);
	long hits = 0, forks = 0;
	for (;;) {
		struct dbg_event ev;
		int rc = dbg_proc_wait(p, 100, &ev);
		if (rc == -ETIMEDOUT && line_ready(&inf))
			break;
		if (rc == -ETIMEDOUT)
			continue;
		CHECK(rc == 0, "wait %d (%s): %s", rc, dbg_strerror(rc), dbg_proc_errmsg(p));
		CHECK(ev.kind != DBG_EVENT_KILLED && ev.kind != DBG_EVENT_EXITED, "the parent died");
		CHECK(ev.kind != DBG_EVENT_TRAP && !(ev.kind == DBG_EVENT_SIGNAL && ev.signo == SIGTRAP),
		      "a SIGTRAP reached the parent");
		if (ev.kind == DBG_EVENT_BREAKPOINT) {
			CHECK(ev.bp == bp && ev.tid == inf.pid, "hit");
			hits++;
		}
		if (ev.kind == DBG_EVENT_FORK || ev.kind == DBG_EVENT_VFORK) {
			forks++;
			if (vfollow)
				vfollow_child(p, &bp, ev.child, addr, orig, forks);
			else if (follow)
				follow_child(p, ev.child, addr);
		}
		OK(dbg_proc_resume_thread(p, ev.tid));
	}
	char line[128];
	inferior_line(&inf, line, sizeof(line));
	long iters = -1, fails = -1;
	CHECK(sscanf(line, "done iters=%ld fails=%ld", &iters, &fails) == 2, "'%s'", line);
	CHECK(fails == 0, "%ld of %ld children failed (SIGTRAP?)", fails, iters);
	/* vfollow: the parent's breakpoint went at the first vfork */
	CHECK(hits == (vfollow ? 1 : iters), "%ld parent hits reported, %ld iterations", hits,
	      iters);
	CHECK(forks == iters, "%ld fork events, %ld iterations", forks, iters);
	CHECK(iters > 0, "no iterations");
	CHECK(raw_byte(inf.pid, addr) == (vfollow ? orig : 0xcc), "the parent has %#x",
	      raw_byte(inf.pid, addr));
	OK(!bp || dbg_bp_hits(bp) == (uint64_t)hits ? 0 : -1);
	dbg_proc_detach(p);
	CHECK(raw_byte(inf.pid, addr) == orig, "detach left %#x", raw_byte(inf.pid, addr));
	snprintf(cmd, sizeof(cmd), "go 0.2 50\n");
	inferior_say(&inf, cmd);
	inferior_line(&inf, line, sizeof(line));
	CHECK(sscanf(line, "done iters=%ld fails=%ld", &iters, &fails) == 2 && fails == 0,
	      "after detach: '%s'", line);
	inferior_say(&inf, "exit\n");
	inferior_kill(&inf);
	printf("bp_fork %s: %ld iterations in %g s, every parent hit reported, no child failed\n", mode,
	       hits, secs);
	return 0;
}
