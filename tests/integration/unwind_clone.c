/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A thread caught before its first instruction after clone3 (issue 9
 * item 4). tests/inferiors/churn creates threads without pause; each
 * clone event is followed at once by a stop of the whole process, which
 * finds the new thread still at the instruction after the syscall (it has
 * not been scheduled yet). Its stack is that one frame, in __clone3 (or
 * __clone), and it ends there as the outermost frame, in every mode:
 * both backends, with and without compiled rules, stopped and from a
 * snapshot. Before the fix, libunwind's frame-pointer guess followed the
 * rbp the thread inherited into its struct pthread: 100+ frames of one
 * heap address; libdw gave one bogus frame. The main thread's stack,
 * unwound at the same stop, must go on (the rule is for new threads).
 * The parent, stopped in the same gap after the syscall that no FDE
 * covers, must unwind down to the inferior's spawner (but with libdw
 * alone, which looks up CFI itself and stops there like eu-stack).
 */
#include "../harness.h"

#include <inttypes.h>

#define DBG__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WANT 4

static const struct {
	const char *name;
	enum dbg_unwind_backend backend;
	unsigned int flags;
} modes[] = {
	{ "libunwind+rules", DBG_UNWIND_LIBUNWIND, 0 },
	{ "libdw+rules", DBG_UNWIND_LIBDW, 0 },
	{ "libunwind", DBG_UNWIND_LIBUNWIND, DBG_UNWIND_BACKEND_ONLY },
	{ "libdw", DBG_UNWIND_LIBDW, DBG_UNWIND_BACKEND_ONLY },
};

static void check_child(struct dbg_sym *sym, const char *what, pid_t tid, const struct dbg_frame *fr,
			int n, enum dbg_unwind_end end)
{
	if (n != 1) {
		fprintf(stderr, "%s: new thread %d: %d frames\n", what, tid, n);
		for (int i = 0; i < n && i < 8; i++)
			fprintf(stderr, "  #%d %#" PRIx64 " sp %#" PRIx64 "\n", i, fr[i].pc, fr[i].sp);
	}
	CHECK(n == 1, "%s: a new thread's stack has %d frames, not 1", what, n);
	struct dbg_symbol s;
	OK(dbg_sym_lookup(sym, fr[0].pc, &s));
	CHECK(strstr(s.name, "clone"), "%s: new thread in %s, not in clone", what, s.name);
	CHECK(end == DBG_UNWIND_END_OUTERMOST, "%s: ended: %s", what, dbg_unwind_end_str(end));
}

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "churn", NULL);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	struct dbg_sym *sym;
	OK(dbg_sym_new(p, NULL, &sym));
	struct dbg_unwinder *u[DBG__ARRAY_SIZE(modes)];
	for (size_t m = 0; m < DBG__ARRAY_SIZE(modes); m++) {
		DBG_OPTS(dbg_unwind_opts, o, .backend = modes[m].backend, .flags = modes[m].flags);
		OK(dbg_unwind_new(p, sym, &o, &u[m]));
	}
	OK(dbg_proc_resume(p));
	int caught = 0, events = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (caught < WANT) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		CHECK(t.tv_sec - t0.tv_sec < 60, "caught %d new threads before their first instruction in "
		      "60 s (%d clone events)", caught, events);
		struct dbg_event ev;
		OK(dbg_proc_wait(p, 5000, &ev));
		if (ev.kind != DBG_EVENT_CLONE) {
			if (ev.kind != DBG_EVENT_THREAD_EXIT)
				dbg_proc_resume_thread(p, ev.tid);
			continue;
		}
		events++;
		OK(dbg_proc_stop(p));
		pid_t child = ev.child;
		struct dbg_regs r;
		uint8_t code[2];
		if (dbg_regs_get(p, child, &r) < 0 || r.rax != 0 || (r.orig_rax != 435 && r.orig_rax != 56) ||
		    dbg_mem_read(p, r.rip - 2, code, 2) != 2 || code[0] != 0x0f || code[1] != 0x05) {
			OK(dbg_proc_resume(p)); /* it ran already: try the next one */
			continue;
		}
		caught++;
		struct dbg_snapshot *snap;
		OK(dbg_snapshot_take(p, child, 1 << 20, &snap));
		struct dbg_frame fr[256];
		for (size_t m = 0; m < DBG__ARRAY_SIZE(modes); m++) {
			char what[128];
			snprintf(what, sizeof(what), "%s, stopped", modes[m].name);
			int n = dbg_unwind_thread(u[m], child, fr, 256);
			check_child(sym, what, child, fr, n, dbg_unwind_last_end(u[m]));
			/* The parent, in its clone event stop, sits in the same
			 * gap after the syscall, no FDE at its pc: the row before
			 * the syscall holds, and its stack goes on down to the
			 * inferior's spawner. libdw alone does its own CFI lookup
			 * and, like eu-stack, stops there. */
			n = dbg_unwind_thread(u[m], ev.tid, fr, 256);
			bool spawner = false;
			for (int k = 1; k < n; k++) {
				struct dbg_symbol s;
				spawner |= dbg_sym_lookup(sym, fr[k].pc - 1, &s) == 0 && !strcmp(s.name, "spawner");
			}
			if (modes[m].backend == DBG_UNWIND_LIBDW && modes[m].flags)
				CHECK(n >= 1, "%s: the parent has no frame", what);
			else
				CHECK(spawner && dbg_unwind_last_end(u[m]) == DBG_UNWIND_END_OUTERMOST,
				      "%s: the parent's %d frames do not reach spawner (%s)", what, n,
				      dbg_unwind_end_str(dbg_unwind_last_end(u[m])));
			/* The main thread (in usleep) goes on past its first
			 * frame: the rule is for new threads only. */
			n = dbg_unwind_thread(u[m], inf.pid, fr, 256);
			CHECK(n >= 3, "%s: the main thread has %d frames (%s)", what, n,
			      dbg_unwind_end_str(dbg_unwind_last_end(u[m])));
		}
		OK(dbg_proc_resume(p));
		for (size_t m = 0; m < DBG__ARRAY_SIZE(modes); m++) {
			char what[128];
			snprintf(what, sizeof(what), "%s, snapshot", modes[m].name);
			int n = dbg_unwind_snapshot(u[m], snap, fr, 256);
			check_child(sym, what, child, fr, n, dbg_unwind_last_end(u[m]));
		}
		dbg_snapshot_free(snap);
	}
	for (size_t m = 0; m < DBG__ARRAY_SIZE(modes); m++)
		dbg_unwind_free(u[m]);
	dbg_sym_free(sym);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("%d new threads caught before their first instruction (%d clone events): one frame, "
	       "outermost, in %zu modes, stopped and snapshot\n", caught, events, DBG__ARRAY_SIZE(modes));
	return 0;
}
