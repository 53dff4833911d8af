/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Acceptance 6 of issue 11: the target is SIGKILLed from outside at a
 * random moment while 16 threads hit a breakpoint and are stepped over it
 * (non-stop: displaced copies; all-stop: in place), with breakpoints
 * inserted. Every call after that returns an error, none hangs (an alarm
 * fails the test), the handle is released cleanly (run under ASan too).
 * Rounds alternate the modes; each round's kill delay differs.
 */
#include "../harness.h"

static void round_once(int round, bool allstop, int delay_us, long *in_resume)
{
	struct inferior inf;
	inferior_start(&inf, "bp_threads", "16", "100000", NULL);
	uint64_t addr = ready_field(&inf, "bp"), func = ready_field(&inf, "func");
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_runctl_set_mode(p, allstop ? DBG_RUNCTL_ALL_STOP : DBG_RUNCTL_NON_STOP));
	struct dbg_bp *bp, *bp2;
	OK(dbg_bp_insert(p, addr, NULL, &bp));
	OK(dbg_bp_insert(p, func, NULL, &bp2));
	OK(dbg_proc_resume(p));
	inferior_say(&inf, "go\n");
	pid_t killer = fork();
	CHECK(killer >= 0, "fork");
	if (killer == 0) {
		/* A grandchild does the kill: a zombie child of ours would sit
		 * first in waitid()'s line (see doc/runcontrol.md). */
		if (fork() == 0) {
			struct timespec ts = { delay_us / 1000000, (delay_us % 1000000) * 1000L };
			nanosleep(&ts, NULL);
			kill(inf.pid, SIGKILL);
		}
		_exit(0);
	}
	waitpid(killer, NULL, 0);
	bool dead = false, seen_in_resume = false;
	long hits = 0;
	while (!dead) {
		struct dbg_event ev;
		int r = dbg_proc_wait(p, 5000, &ev);
		if (r == -ESRCH)
			break;
		CHECK(r == 0, "round %d: wait %d (%s)", round, r, dbg_strerror(r));
		if (ev.kind == DBG_EVENT_KILLED || ev.kind == DBG_EVENT_EXITED) {
			CHECK(ev.kind == DBG_EVENT_KILLED && ev.signo == SIGKILL,
			      "round %d: ended by kind %d signo %d, not our SIGKILL", round, ev.kind, ev.signo);
			dead = true;
			break;
		}
		if (ev.kind == DBG_EVENT_TRAP || (ev.kind == DBG_EVENT_SIGNAL && ev.signo == SIGTRAP)) {
			struct dbg_regs regs = { 0 };
			dbg_regs_get(p, ev.tid, &regs);
			CHECK(0, "round %d: SIGTRAP reached the caller: kind %d code %d tid %d pc %#llx "
			      "(bp %#llx, func %#llx)", round, ev.kind, ev.siginfo.code, ev.tid,
			      (unsigned long long)regs.rip, (unsigned long long)addr,
			      (unsigned long long)func);
		}
		if (ev.kind == DBG_EVENT_BREAKPOINT)
			hits++;
		if (ev.kind == DBG_EVENT_THREAD_EXIT && !allstop)
			continue;
		r = allstop ? dbg_proc_resume(p) : dbg_proc_resume_thread(p, ev.tid);
		if (r < 0) {
			CHECK(r == -ESRCH || r == -ENOENT, "round %d: resume %d (%s)", round, r, dbg_strerror(r));
			seen_in_resume = true;
		}
	}
	/* Drain to the end; then everything says the target is gone. */
	struct dbg_event ev;
	int r;
	while ((r = dbg_proc_wait(p, 5000, &ev)) == 0)
		;
	CHECK(r == -ESRCH, "round %d: final wait %d", round, r);
	struct dbg_bp *n;
	CHECK(dbg_bp_insert(p, addr, NULL, &n) == -ESRCH, "insert after death");
	struct dbg_bp_info info;
	CHECK(dbg_bp_info(bp, &info) == -ESRCH, "info after death");
	CHECK(dbg_bp_remove(p, bp) == -ESRCH, "remove after death");
	CHECK(dbg_proc_resume(p) == -ESRCH, "resume after death");
	CHECK(dbg_proc_resume_thread(p, inf.pid) < 0, "resume_thread after death");
	uint8_t b;
	CHECK(dbg_mem_read(p, addr, &b, 1) < 0, "read after death");
	CHECK(dbg_mem_write(p, addr, &b, 1) < 0, "write after death");
	CHECK(dbg_bp_modules_enable(p) < 0, "modules after death");
	dbg_proc_detach(p); /* frees bp2 */
	waitpid(inf.pid, NULL, 0);
	inf.pid = 0;
	inferior_kill(&inf);
	(void)hits;
	if (seen_in_resume)
		(*in_resume)++;
}

int main(int argc, char **argv)
{
	alarm(240);
	long in_resume = 0;
	int rounds = argc > 1 ? atoi(argv[1]) : 24;
	const char *only = argc > 2 ? argv[2] : "both";
	for (int i = 0; i < rounds; i++) {
		bool allstop = !strcmp(only, "both") ? i % 2 : !strcmp(only, "allstop");
		round_once(i, allstop, 2000 + (i * 7919) % 60000, &in_resume);
	}
	printf("bp_kill: %d rounds killed mid-run, %ld of them seen first by a resume (mid step-over); "
	       "no hang, every call failed cleanly\n", rounds, in_resume);
	return 0;
}
