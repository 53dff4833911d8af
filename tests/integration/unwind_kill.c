/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The target is killed (SIGKILL from outside) while it is being unwound and
 * symbolized, at a different moment each round: every call must return,
 * either with an answer or with -ESRCH (the unwinders may end a stack
 * early when reads fail); nothing may crash or hang. Then, once libdbg has
 * reported the death, a fresh module table must fail with -ESRCH.
 */
#include "../harness.h"

#include <time.h>

#define ROUNDS 40

static int unwind_all(struct dbg_proc *p, struct dbg_sym *sym, struct dbg_unwinder *u)
{
	pid_t tids[16];
	int nt = dbg_proc_threads(p, tids, 16);
	if (nt < 0)
		return nt;
	struct dbg_frame fr[128];
	for (int i = 0; i < nt && i < 16; i++) {
		int n = dbg_unwind_thread(u, tids[i], fr, 128);
		if (n < 0)
			return n;
		CHECK(n <= 128, "%d frames", n);
		for (int k = 0; k < n; k++) {
			struct dbg_srcloc locs[4];
			int r = dbg_sym_srclocs(sym, fr[k].pc, locs, 4);
			CHECK(r >= 1 || r == -ENOENT, "srclocs = %d", r);
		}
		struct dbg_snapshot *s;
		int r = dbg_snapshot_take(p, tids[i], 1 << 20, &s);
		if (r < 0)
			return r;
		n = dbg_unwind_snapshot(u, s, fr, 128);
		dbg_snapshot_free(s);
		if (n < 0)
			return n;
	}
	return 0;
}

int main(void)
{
	srand((unsigned)time(NULL));
	int died_mid = 0;
	for (int round = 0; round < ROUNDS; round++) {
		struct inferior inf;
		inferior_start(&inf, "stacks_O2", NULL);
		char line[256];
		while (strcmp(inferior_line(&inf, line, sizeof(line)), "end") != 0)
			;
		struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
		struct dbg_sym *sym;
		OK(dbg_sym_new(p, NULL, &sym));
		DBG_OPTS(dbg_unwind_opts, o, .backend = (enum dbg_unwind_backend)(round % 2));
		struct dbg_unwinder *u;
		OK(dbg_unwind_new(p, sym, &o, &u));
		OK(unwind_all(p, sym, u));

		/* A killer that strikes somewhere in the next few unwinds. */
		pid_t killer = fork();
		CHECK(killer >= 0, "fork");
		if (killer == 0) {
			struct timespec ts = { 0, (rand() % 3000) * 1000L };
			nanosleep(&ts, NULL);
			kill(inf.pid, SIGKILL);
			_exit(0);
		}
		int r = 0;
		for (int k = 0; k < 100000 && r == 0; k++)
			r = unwind_all(p, sym, u);
		CHECK(r == -ESRCH, "after the kill: %d (%s)", r, dbg_strerror(r));
		died_mid++;
		waitpid(killer, NULL, 0);

		/* Once libdbg has reported the death, new objects fail cleanly.
		 * (Before that the dying threads may still hold the memory.) */
		struct dbg_event ev;
		while ((r = dbg_proc_wait(p, 5000, &ev)) == 0 && ev.kind != DBG_EVENT_KILLED &&
		       ev.kind != DBG_EVENT_EXITED)
			;
		CHECK(r == 0 || r == -ESRCH || r == -ECHILD, "waiting for the death: %d", r);
		struct dbg_sym *sym2 = NULL;
		r = dbg_sym_new(p, NULL, &sym2);
		CHECK(r == -ESRCH, "dbg_sym_new on a dead target: %d (%s)", r, dbg_strerror(r));
		CHECK(!sym2, "an object from a failed call");
		dbg_unwind_free(u);
		dbg_sym_free(sym);
		dbg_proc_detach(p);
		inferior_kill(&inf);
	}
	printf("%d rounds: killed mid-unwind, every call returned, -ESRCH after\n", died_mid);
	return 0;
}
