/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fix-ups of displaced stepping, each on an instruction the target
 * really executes while its other threads run (non-stop): a rip-relative
 * update (bp_insn, bp_leaf), a relative call (its return address must be
 * rewritten), a relative jump and a taken conditional jump (a wrong pc
 * lands on a ud2: SIGILL), a `ret` (absolute: the pc is kept), and the
 * function's `push %rbp` (emulated, not stepped), and a raw `syscall`
 * (not displaceable: the other threads are paused for it). 4 threads x 200 calls,
 * every hit of the 6 breakpoints reported, the target's counts exact.
 * In all-stop the same breakpoints go in place (second half).
 */
#include "../harness.h"

static void run(struct dbg_proc *p, struct inferior *inf, struct dbg_bp **bps, int nbps,
		bool allstop)
{
	long hits[8] = { 0 };
	inferior_say(inf, "go\n");
	for (;;) {
		struct dbg_event ev;
		int rc = dbg_proc_wait(p, 200, &ev);
		if (rc == -ETIMEDOUT && line_ready(inf))
			break;
		if (rc == -ETIMEDOUT)
			continue;
		CHECK(rc == 0, "wait %d: %s", rc, dbg_proc_errmsg(p));
		CHECK(ev.kind != DBG_EVENT_KILLED && ev.kind != DBG_EVENT_EXITED, "the target died");
		CHECK(ev.kind != DBG_EVENT_SIGNAL && ev.kind != DBG_EVENT_TRAP,
		      "signal %d in %d (a wrong fix-up?)", ev.signo, ev.tid);
		if (ev.kind == DBG_EVENT_BREAKPOINT)
			for (int i = 0; i < nbps; i++)
				if (ev.bp == bps[i])
					hits[i]++;
		if (allstop)
			OK(dbg_proc_resume(p));
		else if (ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume_thread(p, ev.tid));
	}
	char line[256];
	inferior_line(inf, line, sizeof(line));
	CHECK(!strcmp(line, "done count=800 data=800 sinks=800 leafs=800"), "'%s'", line);
	for (int i = 0; i < nbps; i++)
		CHECK(hits[i] == 800, "breakpoint %d: %ld hits", i, hits[i]);
}

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "bp_threads", "4", "200", NULL);
	const char *names[] = { "bp", "call", "jmp", "jcc", "ret", "func", "sys" };
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	struct dbg_bp *bps[7];
	for (int i = 0; i < 7; i++)
		OK(dbg_bp_insert(p, ready_field(&inf, names[i]), NULL, &bps[i]));
	OK(dbg_proc_resume(p));
	run(p, &inf, bps, 7, false);
	struct dbg_bp_stats st;
	OK(dbg_bp_get_stats(p, &st));
	printf("non-stop: displaced %llu, emulated %llu, in place %llu, paused %llu\n",
	       (unsigned long long)st.displaced, (unsigned long long)st.emulated,
	       (unsigned long long)st.inplace, (unsigned long long)st.paused);
	CHECK(st.displaced >= 5 * 800 - 50 && st.emulated >= 800, "not displaced/emulated");
	CHECK(st.paused > 0, "the syscall breakpoint did not pause the others");
	OK(dbg_runctl_set_mode(p, DBG_RUNCTL_ALL_STOP));
	run(p, &inf, bps, 7, true);
	dbg_proc_detach(p);
	inferior_say(&inf, "exit\n");
	inferior_kill(&inf);
	printf("bp_displaced: call, jmp, jcc, ret, rip-relative, push and syscall stepped over in both modes\n");
	return 0;
}
