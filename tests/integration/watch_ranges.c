/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a watch covers and what it refuses: lengths 1, 2, 4, 8 aligned
 * fire on their bytes and not the next one; an unaligned range and an
 * aligned 16-byte one are split over registers and fire on every byte and
 * nothing outside; an unaligned 16-byte range and a fifth register fail
 * with -ENOSPC and a message; identical pieces share a register; kernel
 * and non-canonical addresses, length 0, a long exec breakpoint and a bad
 * kind are -EINVAL. Read/write versus write on a read. Exec breakpoints
 * stop before the instruction, once per call (EFLAGS.RF: clearing it by
 * hand makes the same breakpoint fire again at once). A watch hit by a
 * single-step reports the step too. A per-thread watch fires in its
 * thread only.
 */
#include "watch_util.h"

static struct dbg_proc *p;
static struct inferior inf;
static struct seen s;
static char line[256];
static uint64_t buf;

/* Write buf[k]; how many hits, and the address of the last. */
static int wb(int k, uint64_t *addr)
{
	char cmd[32];
	seen_reset(&s);
	snprintf(cmd, sizeof(cmd), "wb %d\n", k);
	ask(p, &inf, &s, cmd, "wb ", line, sizeof(line));
	CHECK(s.traps == 0, "raw trap writing buf[%d]", k);
	if (s.n && addr)
		*addr = s.hit[s.n - 1].addr;
	return s.n;
}

static bool la57(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char l[4096];
	bool r = false;
	while (f && fgets(l, sizeof(l), f))
		if (!strncmp(l, "flags", 5) && strstr(l, " la57"))
			r = true;
	if (f)
		fclose(f);
	return r;
}

int main(void)
{
	inferior_start(&inf, "watch_target", NULL);
	buf = ready_field(&inf, "buf");
	uint64_t var = ready_field(&inf, "var"), rvar = ready_field(&inf, "rvar");
	uint64_t tick = ready_field(&inf, "tick"), ticks = ready_field(&inf, "ticks");
	uint64_t store = ready_field(&inf, "store");
	p = attach_or_skip(inf.pid, NULL);
	OK(dbg_proc_resume(p));
	struct dbg_watch *w, *ws[6];
	uint64_t a;

	/* 1, 2, 4, 8 aligned: one register each, exactly their bytes. */
	for (size_t len = 1; len <= 8; len *= 2) {
		OK(dbg_watch_insert(p, buf + 16, len, DBG_WATCH_WRITE, &w));
		CHECK(dbg_watch_nregs(w) == 1, "len %zu takes %d registers", len, dbg_watch_nregs(w));
		CHECK(wb(16, &a) == 1 && a == buf + 16, "len %zu: first byte", len);
		CHECK(wb(16 + (int)len - 1, &a) == 1 && a == buf + 16, "len %zu: last byte", len);
		CHECK(wb(16 + (int)len, NULL) == 0, "len %zu: the byte after fired", len);
		CHECK(wb(15, NULL) == 0, "len %zu: the byte before fired", len);
		OK(dbg_watch_remove(p, w));
	}

	/* 3 bytes at an odd address: 1 + 2. */
	OK(dbg_watch_insert(p, buf + 1, 3, DBG_WATCH_WRITE, &w));
	CHECK(dbg_watch_nregs(w) == 2, "3 bytes at +1: %d registers", dbg_watch_nregs(w));
	CHECK(wb(0, NULL) == 0 && wb(4, NULL) == 0, "unaligned: a byte outside fired");
	CHECK(wb(1, &a) == 1 && a == buf + 1, "unaligned: +1");
	CHECK(wb(2, &a) == 1 && a == buf + 2, "unaligned: +2");
	CHECK(wb(3, &a) == 1 && a == buf + 2, "unaligned: +3 (in the piece at +2)");
	CHECK(dbg_watch_hits(w) == 3, "hits %llu", (unsigned long long)dbg_watch_hits(w));
	OK(dbg_watch_remove(p, w));

	/* 16 bytes aligned: 8 + 8. */
	OK(dbg_watch_insert(p, buf + 16, 16, DBG_WATCH_WRITE, &w));
	CHECK(dbg_watch_nregs(w) == 2, "16 aligned: %d registers", dbg_watch_nregs(w));
	CHECK(wb(16, &a) == 1 && a == buf + 16, "16: first");
	CHECK(wb(23, &a) == 1 && a == buf + 16, "16: +7");
	CHECK(wb(24, &a) == 1 && a == buf + 24, "16: +8");
	CHECK(wb(31, &a) == 1 && a == buf + 24, "16: last");
	CHECK(wb(15, NULL) == 0 && wb(32, NULL) == 0, "16: outside fired");
	OK(dbg_watch_remove(p, w));

	/* 16 bytes at +1 need 5 registers: a clear error. */
	int r = dbg_watch_insert(p, buf + 1, 16, DBG_WATCH_WRITE, &w);
	CHECK(r == -ENOSPC, "16 at +1: %d", r);
	CHECK(strstr(dbg_proc_errmsg(p), "more than 4 debug registers"), "message '%s'",
	      dbg_proc_errmsg(p));
	/* A 12-byte range at +4 is 4 + 8: fits. */
	OK(dbg_watch_insert(p, buf + 4, 12, DBG_WATCH_WRITE, &w));
	CHECK(dbg_watch_nregs(w) == 2, "12 at +4: %d", dbg_watch_nregs(w));
	CHECK(wb(4, &a) == 1 && a == buf + 4 && wb(15, &a) == 1 && a == buf + 8, "12 at +4");
	OK(dbg_watch_remove(p, w));

	/* Four registers, then the fifth. */
	for (int i = 0; i < 4; i++)
		OK(dbg_watch_insert(p, buf + 8 * i, 8, DBG_WATCH_WRITE, &ws[i]));
	r = dbg_watch_insert(p, buf + 32, 8, DBG_WATCH_WRITE, &w);
	CHECK(r == -ENOSPC, "fifth register: %d", r);
	CHECK(strstr(dbg_proc_errmsg(p), "no free debug register") &&
	      strstr(dbg_proc_errmsg(p), "4 are in use"), "message '%s'", dbg_proc_errmsg(p));
	/* The same piece again shares a register. */
	OK(dbg_watch_insert(p, buf + 8, 8, DBG_WATCH_WRITE, &ws[4]));
	CHECK(wb(9, &a) == 1 && s.hit[0].watch == ws[1] && a == buf + 8, "shared: the oldest reported");
	CHECK(dbg_watch_hits(ws[1]) == 1 && dbg_watch_hits(ws[4]) == 1, "shared: both counted");
	OK(dbg_watch_remove(p, ws[1]));
	CHECK(wb(9, NULL) == 1 && s.hit[0].watch == ws[4], "the sharer still fires");
	r = dbg_watch_insert(p, buf + 32, 8, DBG_WATCH_WRITE, &w);
	CHECK(r == -ENOSPC, "still full: %d", r);
	OK(dbg_watch_remove(p, ws[4]));
	OK(dbg_watch_insert(p, buf + 32, 8, DBG_WATCH_WRITE, &w));
	CHECK(wb(33, &a) == 1 && a == buf + 32, "the freed register is used");
	OK(dbg_watch_remove(p, w));
	OK(dbg_watch_remove(p, ws[0]));
	OK(dbg_watch_remove(p, ws[2]));
	OK(dbg_watch_remove(p, ws[3]));
	CHECK(wb(0, NULL) == 0 && wb(16, NULL) == 0, "removed watches fired");

	/* Refused. */
	CHECK(dbg_watch_insert(p, 0xffffffff81000000ull, 8, DBG_WATCH_WRITE, &w) == -EINVAL,
	      "kernel address");
	CHECK(strstr(dbg_proc_errmsg(p), "user-space"), "message '%s'", dbg_proc_errmsg(p));
	if (!la57()) {
		r = dbg_watch_insert(p, 1ull << 47, 8, DBG_WATCH_WRITE, &w);
		CHECK(r == -EINVAL, "2^47 (past user space on 4-level paging): %d", r);
		CHECK(strstr(dbg_proc_errmsg(p), "refused"), "message '%s'", dbg_proc_errmsg(p));
	}
	CHECK(dbg_watch_insert(p, UINT64_MAX - 3, 8, DBG_WATCH_WRITE, &w) == -EINVAL, "wraps");
	CHECK(dbg_watch_insert(p, var, 0, DBG_WATCH_WRITE, &w) == -EINVAL, "len 0");
	CHECK(dbg_watch_insert(p, tick, 4, DBG_WATCH_EXEC, &w) == -EINVAL, "exec len 4");
	CHECK(dbg_watch_insert(p, var, 8, (enum dbg_watch_kind)7, &w) == -EINVAL, "kind 7");
	CHECK(dbg_watch_insert_thread(p, 999999, var, 8, DBG_WATCH_WRITE, &w) == -ENOENT, "tid");
	CHECK(dbg_watch_remove(p, NULL) == -EINVAL, "remove NULL");
	/* Nothing refused left a register behind. */
	OK(dbg_proc_stop(p));
	check_dr7_zero(p, "after refused inserts");
	OK(dbg_proc_resume(p));

	/* Read/write fires on a read; write does not. */
	OK(dbg_watch_insert(p, rvar, 8, DBG_WATCH_READWRITE, &w));
	seen_reset(&s);
	ask(p, &inf, &s, "read\n", "read 5", line, sizeof(line));
	CHECK(s.n == 1 && s.hit[0].watch == w && s.hit[0].addr == rvar, "%d hits reading", s.n);
	OK(dbg_watch_remove(p, w));
	OK(dbg_watch_insert(p, rvar, 8, DBG_WATCH_WRITE, &w));
	seen_reset(&s);
	ask(p, &inf, &s, "read\n", "read 5", line, sizeof(line));
	CHECK(s.n == 0 && s.traps == 0, "a write watch fired on a read");
	OK(dbg_watch_remove(p, w));

	/* Exec breakpoints: before the instruction, once per call. */
	OK(dbg_watch_insert(p, tick, 1, DBG_WATCH_EXEC, &w));
	uint64_t base = peek_u64(inf.pid, ticks);
	inferior_say(&inf, "ticks 5\n");
	for (int i = 0; i < 5; i++) {
		struct dbg_event ev = wait_for(p, DBG_EVENT_WATCHPOINT, 5000);
		struct dbg_regs regs;
		OK(dbg_regs_get(p, ev.tid, &regs));
		CHECK(ev.watch == w && ev.addr == tick && regs.rip == tick, "hit %d at rip %#llx", i,
		      (unsigned long long)regs.rip);
		CHECK(ev.siginfo.code == TRAP_HWBKPT, "si_code %d", ev.siginfo.code);
		uint64_t now = peek_u64(inf.pid, ticks);
		CHECK(now == base + (uint64_t)i, "hit %d: ticks %llu, want %llu (fired twice?)", i,
		      (unsigned long long)now, (unsigned long long)(base + i));
		OK(dbg_proc_resume_thread(p, ev.tid));
	}
	seen_reset(&s);
	serve_line(p, &inf, &s, line, sizeof(line));
	CHECK(!strcmp(line, "ticked 5") && s.n == 0, "'%s', %d more hits", line, s.n);
	CHECK(dbg_watch_hits(w) == 5, "hits %llu", (unsigned long long)dbg_watch_hits(w));
	/* The kernel's RF is what makes the resumed call run: without it
	 * the breakpoint fires again before tick() has done anything. */
	inferior_say(&inf, "ticks 1\n");
	struct dbg_event ev = wait_for(p, DBG_EVENT_WATCHPOINT, 5000);
	struct dbg_regs regs;
	OK(dbg_regs_get(p, ev.tid, &regs));
	CHECK(regs.eflags & 0x10000, "RF not set at an exec breakpoint: %#llx",
	      (unsigned long long)regs.eflags);
	regs.eflags &= ~0x10000ull;
	OK(dbg_regs_set(p, ev.tid, &regs));
	OK(dbg_proc_resume_thread(p, ev.tid));
	ev = wait_for(p, DBG_EVENT_WATCHPOINT, 5000);
	CHECK(peek_u64(inf.pid, ticks) == base + 5, "without RF it ran on");
	OK(dbg_proc_resume_thread(p, ev.tid));
	seen_reset(&s);
	serve_line(p, &inf, &s, line, sizeof(line));
	CHECK(!strcmp(line, "ticked 6") && s.n == 0, "'%s'", line);
	/* A single-step from the breakpoint runs the instruction (RF), it
	 * does not stop at the breakpoint again. */
	inferior_say(&inf, "ticks 1\n");
	ev = wait_for(p, DBG_EVENT_WATCHPOINT, 5000);
	OK(dbg_proc_step_thread(p, ev.tid));
	OK(dbg_proc_wait(p, 5000, &ev));
	OK(dbg_regs_get(p, ev.tid, &regs));
	CHECK(ev.kind == DBG_EVENT_TRAP && ev.siginfo.code == TRAP_TRACE && regs.rip != tick,
	      "step from an exec breakpoint: kind %d code %d rip %#llx", ev.kind, ev.siginfo.code,
	      (unsigned long long)regs.rip);
	OK(dbg_proc_resume_thread(p, ev.tid));
	seen_reset(&s);
	serve_line(p, &inf, &s, line, sizeof(line));
	CHECK(!strcmp(line, "ticked 7") && s.n == 0, "'%s'", line);
	OK(dbg_watch_remove(p, w));

	/* Stepping into a write: one event, the watch, and the step done. */
	struct dbg_watch *bx;
	OK(dbg_watch_insert(p, store, 1, DBG_WATCH_EXEC, &bx));
	inferior_say(&inf, "store\n");
	ev = wait_for(p, DBG_EVENT_WATCHPOINT, 5000);
	CHECK(ev.watch == bx, "exec breakpoint at store_var");
	OK(dbg_watch_remove(p, bx));
	OK(dbg_watch_insert(p, var, 8, DBG_WATCH_WRITE, &w));
	pid_t t = ev.tid;
	int steps = 0;
	for (;;) {
		CHECK(++steps < 50, "no watchpoint after 50 steps");
		OK(dbg_proc_step_thread(p, t));
		OK(dbg_proc_wait(p, 5000, &ev));
		if (ev.kind == DBG_EVENT_WATCHPOINT)
			break;
		CHECK(ev.kind == DBG_EVENT_TRAP && ev.siginfo.code == TRAP_TRACE, "step %d: kind %d",
		      steps, ev.kind);
	}
	CHECK(ev.watch == w && ev.addr == var && ev.siginfo.code == TRAP_TRACE,
	      "step into a write: watch %p code %d", (void *)ev.watch, ev.siginfo.code);
	CHECK(peek_u64(inf.pid, var) == 99, "the write happened");
	OK(dbg_proc_resume_thread(p, t));
	seen_reset(&s);
	serve_line(p, &inf, &s, line, sizeof(line));
	CHECK(!strcmp(line, "stored") && s.n == 0 && s.traps == 0, "'%s'", line);
	OK(dbg_watch_remove(p, w));

	/* One thread only: the leader's watch does not fire in another. */
	OK(dbg_watch_insert_thread(p, inf.pid, var, 8, DBG_WATCH_WRITE, &w));
	CHECK(dbg_watch_thread(w) == inf.pid, "thread getter");
	seen_reset(&s);
	ask(p, &inf, &s, "thread\n", "thread ", line, sizeof(line));
	CHECK(s.n == 0 && s.traps == 0, "a leader-only watch fired in another thread");
	ask(p, &inf, &s, "write 1\n", "wrote", line, sizeof(line));
	CHECK(s.n == 1 && s.hit[0].tid == inf.pid && s.hit[0].watch == w, "%d hits in the leader", s.n);
	/* Its register is the leader's only: another thread has all four
	 * for its own watches, and then a watch of every thread fits
	 * nowhere in that thread. */
	pid_t other = 0;
	ask(p, &inf, &s, "spawn 1\n", "spawned 1", line, sizeof(line));
	OK(dbg_proc_stop(p));
	pid_t tids[8];
	int n = dbg_proc_threads(p, tids, 8);
	for (int i = 0; i < n; i++)
		if (tids[i] != inf.pid)
			other = tids[i];
	CHECK(other, "the spawned thread");
	for (int i = 0; i < 4; i++)
		OK(dbg_watch_insert_thread(p, other, buf + 8 * i, 8, DBG_WATCH_WRITE, &ws[i]));
	r = dbg_watch_insert(p, buf + 32, 8, DBG_WATCH_WRITE, &ws[4]);
	CHECK(r == -ENOSPC && strstr(dbg_proc_errmsg(p), "thread"), "%d '%s'", r, dbg_proc_errmsg(p));
	for (int i = 0; i < 4; i++)
		OK(dbg_watch_remove(p, ws[i]));
	OK(dbg_watch_remove(p, w));
	check_dr7_zero(p, "after the per-thread watches");
	OK(dbg_proc_resume(p));
	ask(p, &inf, &s, "release\n", "released", line, sizeof(line));

	dbg_proc_detach(p);
	check_raw_dr7_zero(inf.pid, "after detach");
	inferior_kill(&inf);
	printf("watch_ranges: lengths, splits, limits, kinds, exec breakpoints, steps, threads\n");
	return 0;
}
