/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A software breakpoint on an instruction that writes a watched variable
 * (needs the bp module, include/dbg/bp.h: built once it is there). When
 * the thread is resumed from the breakpoint, bp steps it over the
 * instruction (displaced in non-stop, in place in all-stop); that step
 * writes the variable, and the single trap the kernel gives carries the
 * watch hit (DR6 B0 and BS, si_code TRAP_TRACE). The hit must be reported
 * as DBG_EVENT_WATCHPOINT, not swallowed as the end of bp's step: bp's
 * stop hook hands such a trap to dbg__watch_claim(). Then the breakpoint
 * and the watch keep working, round after round, in both modes, and
 * detach leaves DR7 0.
 */
#include "watch_util.h"
#include <dbg/bp.h>

static void run(enum dbg_runctl_mode mode)
{
	struct inferior inf;
	inferior_start(&inf, "watch_target", NULL);
	uint64_t var = ready_field(&inf, "var"), store = ready_field(&inf, "store");
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_runctl_set_mode(p, mode));
	/* store_var at -O0: push %rbp; mov %rsp,%rbp; movq $0x63,var(%rip). */
	struct dbg_bp *bp;
	struct dbg_watch *w;
	OK(dbg_bp_insert(p, store + 4, NULL, &bp));
	OK(dbg_watch_insert(p, var, 8, DBG_WATCH_WRITE, &w));
	OK(dbg_proc_resume(p));
	char line[256];
	struct seen s;
	for (int round = 0; round < 3; round++) {
		inferior_say(&inf, "store\n");
		struct dbg_event ev = wait_for(p, DBG_EVENT_BREAKPOINT, 5000);
		CHECK(ev.bp == bp && ev.addr == store + 4, "mode %d round %d: breakpoint", mode, round);
		OK(dbg_proc_resume_thread(p, ev.tid));
		int r = dbg_proc_wait(p, 5000, &ev);
		CHECK(r == 0 && ev.kind == DBG_EVENT_WATCHPOINT, "mode %d round %d: after stepping "
		      "off the breakpoint: %d kind %d (the watch hit of bp's step was lost)",
		      mode, round, r, ev.kind);
		CHECK(ev.watch == w && ev.addr == var && ev.siginfo.code == TRAP_TRACE,
		      "mode %d: watch %p addr %#llx code %d", mode, (void *)ev.watch,
		      (unsigned long long)ev.addr, ev.siginfo.code);
		CHECK(peek_u64(inf.pid, var) == 99, "the write happened");
		OK(dbg_proc_resume_thread(p, ev.tid));
		seen_reset(&s);
		serve_line(p, &inf, &s, line, sizeof(line));
		CHECK(!strcmp(line, "stored") && s.n == 0 && s.traps == 0, "mode %d: '%s' %d hits "
		      "%d traps", mode, line, s.n, s.traps);
	}
	CHECK(dbg_bp_hits(bp) == 3 && dbg_watch_hits(w) == 3, "hits %llu %llu",
	      (unsigned long long)dbg_bp_hits(bp), (unsigned long long)dbg_watch_hits(w));
	dbg_proc_detach(p);
	check_raw_dr7_zero(inf.pid, "after detach");
	inferior_kill(&inf);
}

int main(void)
{
	run(DBG_RUNCTL_NON_STOP);
	run(DBG_RUNCTL_ALL_STOP);
	printf("watch_bp: a watch hit during bp's step over a breakpoint is reported\n");
	return 0;
}
