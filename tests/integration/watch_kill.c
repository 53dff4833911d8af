/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A target killed (SIGKILL from outside) with watches inserted: every
 * watch call returns an error, none hangs, the handle is freed cleanly
 * (run under ASan too). Three moments: killed while stopped and not yet
 * reaped (the threads' ptrace requests fail with ESRCH), killed while
 * running and reaped (the process is known to be gone), and killed while
 * a thread sits at a watchpoint hit.
 */
#include "watch_util.h"

static void killed_while_stopped(void)
{
	struct inferior inf;
	inferior_start(&inf, "watch_target", NULL);
	uint64_t var = ready_field(&inf, "var"), tick = ready_field(&inf, "tick");
	char line[256];
	struct seen s;
	seen_reset(&s);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	struct dbg_watch *w, *b, *x;
	OK(dbg_watch_insert(p, var, 8, DBG_WATCH_WRITE, &w));
	OK(dbg_watch_insert(p, tick, 1, DBG_WATCH_EXEC, &b));
	OK(dbg_proc_resume(p));
	ask(p, &inf, &s, "spawn 3\n", "spawned 3", line, sizeof(line));
	OK(dbg_proc_stop(p));
	kill(inf.pid, SIGKILL);
	/* Not reaped yet: the threads are gone under our feet. */
	int r = dbg_watch_insert(p, var + 8, 8, DBG_WATCH_WRITE, &x);
	CHECK(r == -ESRCH, "insert into a killed target: %d (%s)", r, dbg_proc_errmsg(p));
	r = dbg_watch_remove(p, w);
	CHECK(r == -ESRCH, "remove from a killed target: %d (%s)", r, dbg_proc_errmsg(p));
	struct dbg_event ev;
	do {
		r = dbg_proc_wait(p, 5000, &ev);
	} while (r == 0 && ev.kind != DBG_EVENT_KILLED);
	CHECK(r == 0 && ev.kind == DBG_EVENT_KILLED, "wait: %d kind %d", r, ev.kind);
	r = dbg_watch_remove(p, b);
	CHECK(r == -ESRCH, "remove after the exit: %d", r);
	CHECK(dbg_watch_insert(p, var, 8, DBG_WATCH_WRITE, &x) == -ESRCH, "insert after the exit");
	dbg_proc_detach(p);
	inf.pid = 0;
	inferior_kill(&inf);
}

static void killed_while_running(void)
{
	struct inferior inf;
	inferior_start(&inf, "watch_target", NULL);
	uint64_t var = ready_field(&inf, "var");
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	struct dbg_watch *w, *x;
	OK(dbg_watch_insert(p, var, 8, DBG_WATCH_WRITE, &w));
	OK(dbg_proc_resume(p));
	kill(inf.pid, SIGKILL);
	sleep_ms(50);
	/* The insert meets the death while stopping the running thread. */
	int r = dbg_watch_insert(p, var + 8, 8, DBG_WATCH_WRITE, &x);
	CHECK(r == -ESRCH, "insert into a dying target: %d (%s)", r, dbg_proc_errmsg(p));
	r = dbg_watch_remove(p, w);
	CHECK(r == -ESRCH, "remove: %d", r);
	dbg_proc_detach(p); /* frees nothing twice, waits for nothing */
	inf.pid = 0;
	inferior_kill(&inf);
}

static void killed_at_a_hit(void)
{
	struct inferior inf;
	inferior_start(&inf, "watch_target", NULL);
	uint64_t var = ready_field(&inf, "var");
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	struct dbg_watch *w;
	OK(dbg_watch_insert(p, var, 8, DBG_WATCH_WRITE, &w));
	OK(dbg_proc_resume(p));
	inferior_say(&inf, "write 1\n");
	struct dbg_event ev = wait_for(p, DBG_EVENT_WATCHPOINT, 5000);
	CHECK(ev.watch == w, "the hit");
	OK(dbg_proc_kill(p));
	int r = dbg_watch_remove(p, w);
	CHECK(r == -ESRCH, "remove after dbg_proc_kill: %d", r);
	CHECK(dbg_proc_resume_thread(p, ev.tid) < 0, "resume a killed thread");
	dbg_proc_detach(p);
	inf.pid = 0;
	inferior_kill(&inf);
}

int main(void)
{
	int64_t t0 = 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec;
	killed_while_stopped();
	killed_while_running();
	killed_at_a_hit();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	CHECK(ts.tv_sec - t0 < 20, "took %lld s", (long long)(ts.tv_sec - t0));
	printf("watch_kill: a killed target gives errors, no hang\n");
	return 0;
}
