/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Breakpoint options and the memory shadow, on 4 threads x 50 calls:
 * - a write over a breakpoint changes the saved byte, the int3 stays;
 * - a temporary breakpoint reports one hit and is gone;
 * - a DBG_BP_STANDING_HIT breakpoint inserted where a thread stands is
 *   hit when that thread is resumed; one resumed and at once interrupted
 *   is never seen with its pc past the int3 (1000 rounds);
 * - a per-thread breakpoint reports only its thread's 50 hits, the other
 *   threads step over it silently (the target's count stays exact);
 * - single-stepping a thread that stands on a breakpoint executes the
 *   original instruction (one TRAP, pc past it);
 * - removing a breakpoint whose hits are still queued (all-stop) drops
 *   them and no thread gets a SIGTRAP;
 * - bad arguments get errors.
 */
#include "../harness.h"

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "bp_threads", "4", "50", NULL);
	uint64_t insn = ready_field(&inf, "bp"), func = ready_field(&inf, "func");
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);

	/* Errors. */
	struct dbg_bp *bp = NULL, *tmp = NULL, *mine = NULL;
	CHECK(dbg_bp_insert(p, 8, NULL, &bp) == -EFAULT, "unmapped address");
	DBG_OPTS(dbg_bp_opts, badf, .flags = 0x100);
	CHECK(dbg_bp_insert(p, func, &badf, &bp) == -EINVAL, "bad flags");
	DBG_OPTS(dbg_bp_opts, badt, .tid = 1);
	CHECK(dbg_bp_insert(p, func, &badt, &bp) == -EINVAL, "bad tid");
	CHECK(dbg_bp_remove(p, NULL) == -EINVAL, "remove NULL");
	CHECK(dbg_bp_insert(p, func, NULL, NULL) == -EINVAL, "NULL ret");

	/* Writes over a breakpoint. */
	uint8_t orig, b;
	OK(dbg_mem_read(p, func, &orig, 1));
	OK(dbg_bp_insert(p, func, NULL, &bp));
	CHECK(raw_byte(inf.pid, func) == 0xcc, "int3 not written");
	uint8_t x = orig ^ 0x5a;
	OK(dbg_mem_write(p, func, &x, 1));
	CHECK(raw_byte(inf.pid, func) == 0xcc, "a write took the int3 out");
	OK(dbg_mem_read(p, func, &b, 1));
	CHECK(b == x, "read %#x after writing %#x", b, x);
	OK(dbg_mem_write(p, func, &orig, 1));
	OK(dbg_bp_remove(p, bp));
	CHECK(raw_byte(inf.pid, func) == orig, "removal left %#x, want %#x", raw_byte(inf.pid, func), orig);

	/* A temporary breakpoint at the function, then a per-thread one at
	 * the instruction for the first thread that hit it. */
	DBG_OPTS(dbg_bp_opts, to, .flags = DBG_BP_TEMPORARY);
	OK(dbg_bp_insert(p, func, &to, &tmp));
	OK(dbg_proc_resume(p));
	inferior_say(&inf, "go\n");
	struct dbg_event ev = wait_for(p, DBG_EVENT_BREAKPOINT, 10000);
	CHECK(ev.bp == tmp && ev.addr == func, "temporary hit");
	struct dbg_bp_info info;
	OK(dbg_bp_info(tmp, &info));
	CHECK(info.hits == 1 && !info.inserted && info.flags == DBG_BP_TEMPORARY, "temporary after hit");
	CHECK(raw_byte(inf.pid, func) == orig, "temporary breakpoint still in");
	pid_t who = ev.tid;
	/* A DBG_BP_STANDING_HIT breakpoint where `who` stands is hit as
	 * soon as it is resumed (a plain one is stepped over: below). */
	struct dbg_bp *stand;
	DBG_OPTS(dbg_bp_opts, sh, .flags = DBG_BP_STANDING_HIT, .tid = who);
	OK(dbg_bp_insert(p, func, &sh, &stand));
	OK(dbg_proc_resume_thread(p, who));
	ev = wait_for(p, DBG_EVENT_BREAKPOINT, 5000);
	CHECK(ev.bp == stand && ev.tid == who && ev.addr == func, "standing hit: bp %p of %d at %#llx",
	      (void *)ev.bp, ev.tid, (unsigned long long)ev.addr);
	OK(dbg_bp_remove(p, stand));
	struct dbg_bp_stats st0; /* the others stepped over `stand` silently */
	OK(dbg_bp_get_stats(p, &st0));
	DBG_OPTS(dbg_bp_opts, mo, .tid = who);
	OK(dbg_bp_insert(p, insn, &mo, &mine));
	OK(dbg_proc_resume_thread(p, who));
	long hits = 0;
	bool stepped = false;
	for (;;) {
		int rc = dbg_proc_wait(p, 200, &ev);
		if (rc == -ETIMEDOUT && line_ready(&inf))
			break;
		if (rc == -ETIMEDOUT)
			continue;
		CHECK(rc == 0, "wait %d: %s", rc, dbg_proc_errmsg(p));
		CHECK(ev.kind != DBG_EVENT_KILLED && ev.kind != DBG_EVENT_EXITED, "target died");
		CHECK(ev.kind != DBG_EVENT_TRAP || ev.tid == who, "stray TRAP in %d", ev.tid);
		CHECK(ev.kind != DBG_EVENT_BREAKPOINT || (ev.bp == mine && ev.tid == who),
		      "hit of %p by %d", (void *)ev.bp, ev.tid);
		if (ev.kind == DBG_EVENT_BREAKPOINT && !stepped) {
			stepped = true;
			hits++;
			OK(dbg_proc_step_thread(p, who));
			struct dbg_event s = wait_for(p, DBG_EVENT_TRAP, 5000);
			CHECK(s.tid == who, "step trap of %d", s.tid);
			struct dbg_regs regs;
			OK(dbg_regs_get(p, who, &regs));
			CHECK(regs.rip == insn + 8, "pc %#llx after the step, want %#llx",
			      (unsigned long long)regs.rip, (unsigned long long)insn + 8);
			OK(dbg_proc_set_signal(p, who, 0));
			OK(dbg_proc_resume_thread(p, who));
			continue;
		}
		if (ev.kind == DBG_EVENT_BREAKPOINT)
			hits++;
		if (ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume_thread(p, ev.tid));
	}
	char line[256];
	inferior_line(&inf, line, sizeof(line));
	CHECK(!strcmp(line, "done count=200 data=200 sinks=200 leafs=200"), "'%s'", line);
	CHECK(hits == 50 && dbg_bp_hits(mine) == 50, "%ld hits of the per-thread breakpoint", hits);
	struct dbg_bp_stats st;
	OK(dbg_bp_get_stats(p, &st));
	/* The other three threads ran on while `who` stood at the temporary
	 * breakpoint, so some of their 150 passes may come before `mine` was
	 * inserted (CI under ASan saw 50 swallowed): at most 150, at least
	 * one. That none was reported is checked per event above. */
	st.silent -= st0.silent;
	CHECK(st.silent > 0 && st.silent <= 150, "%llu silent step-overs", (unsigned long long)st.silent);
	struct dbg_bp *list[4];
	CHECK(dbg_bp_list(p, list, 4) == 2 && list[0] == tmp && list[1] == mine, "list");
	OK(dbg_bp_remove(p, tmp));
	OK(dbg_bp_remove(p, mine));

	/* All-stop: remove a breakpoint while hits of it are queued. */
	OK(dbg_runctl_set_mode(p, DBG_RUNCTL_ALL_STOP));
	OK(dbg_bp_insert(p, insn, NULL, &bp));
	inferior_say(&inf, "go\n");
	long seen = 0;
	for (;;) {
		int rc = dbg_proc_wait(p, 200, &ev);
		if (rc == -ETIMEDOUT && line_ready(&inf))
			break;
		if (rc == -ETIMEDOUT)
			continue;
		CHECK(rc == 0, "wait %d: %s", rc, dbg_proc_errmsg(p));
		CHECK(ev.kind != DBG_EVENT_KILLED && ev.kind != DBG_EVENT_EXITED, "target died");
		CHECK(ev.kind != DBG_EVENT_TRAP && ev.kind != DBG_EVENT_SIGNAL, "kind %d", ev.kind);
		if (ev.kind == DBG_EVENT_BREAKPOINT) {
			CHECK(bp && ev.bp == bp, "event of a removed breakpoint");
			if (++seen == 20) {
				OK(dbg_bp_remove(p, bp));
				bp = NULL;
			}
		}
		OK(dbg_proc_resume(p));
	}
	inferior_line(&inf, line, sizeof(line));
	CHECK(!strcmp(line, "done count=200 data=200 sinks=200 leafs=200"), "'%s'", line);

	/* An int3 run just before our interrupt: its trap waits behind the
	 * interrupt's stop, and the pc must not be seen past the int3 (a
	 * debugger would put its next breakpoint inside the instruction). */
	OK(dbg_runctl_set_mode(p, DBG_RUNCTL_NON_STOP));
	OK(dbg_bp_insert(p, func, &to, &tmp));
	inferior_say(&inf, "go\n");
	ev = wait_for(p, DBG_EVENT_BREAKPOINT, 10000);
	who = ev.tid;
	OK(dbg_bp_remove(p, tmp));
	sh.tid = who;
	int raced = 0;
	for (int i = 0; i < 1000; i++) {
		OK(dbg_bp_insert(p, func, &sh, &stand));
		OK(dbg_proc_resume_thread(p, who));
		OK(dbg_proc_stop_thread(p, who));
		struct dbg_regs rg;
		OK(dbg_regs_get(p, who, &rg));
		CHECK(rg.rip == func, "round %d: pc %#llx, the breakpoint is at %#llx", i,
		      (unsigned long long)rg.rip, (unsigned long long)func);
		while (dbg_proc_wait(p, 0, &ev) == 0)
			if (ev.kind == DBG_EVENT_BREAKPOINT && ev.tid == who)
				raced++;
			else if (ev.kind != DBG_EVENT_THREAD_EXIT && ev.tid != who)
				OK(dbg_proc_resume_thread(p, ev.tid));
		OK(dbg_bp_remove(p, stand));
	}
	printf("bp_options: %d of 1000 interrupted resumes had run the int3\n", raced);
	OK(dbg_proc_resume(p));
	for (;;) {
		int rc = dbg_proc_wait(p, 200, &ev);
		if (rc == -ETIMEDOUT && line_ready(&inf))
			break;
		if (rc == 0 && ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume_thread(p, ev.tid));
	}
	inferior_line(&inf, line, sizeof(line));
	CHECK(!strncmp(line, "done", 4), "'%s'", line);
	dbg_proc_detach(p);
	inferior_say(&inf, "exit\n");
	inferior_kill(&inf);
	printf("bp_options: write shadow, temporary, per-thread, step, removal with queued hits\n");
	return 0;
}
