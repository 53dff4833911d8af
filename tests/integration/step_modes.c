/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stepping beyond the gdb script (step_gdb):
 *  - range stepping (vCont;r): stays in [start, end) across a recursion
 *    without an event per instruction, ends at the first pc outside;
 *  - non-stop: a step of one thread while another runs (its counter
 *    keeps moving), and two threads stepping at once;
 *  - a signal during a step ends it (reported as the signal), cancelling
 *    a step, and argument errors;
 *  - a thread that ends while running free leaves no int3 behind;
 *  - the target killed mid-step (from outside and with dbg_proc_kill):
 *    every call returns an error, nothing hangs.
 */
#include "step_common.h"

#include <sys/syscall.h>

static uint64_t sym_addr(struct stepper *s, const char *name)
{
	uint64_t a;
	OK(dbg_sym_addr(s->sym, name, &a));
	return a;
}

/* main's text as the target has it (int3s included): /proc/PID/mem. */
static size_t main_size(struct stepper *s, size_t cap)
{
	struct dbg_symbol fs;
	OK(dbg_sym_lookup(s->sym, s->main_addr, &fs));
	return fs.size < cap ? (size_t)fs.size : cap;
}

static void raw_main(struct stepper *s, pid_t pid, uint8_t *buf, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open %s", path);
	CHECK(pread(fd, buf, n, (off_t)s->main_addr) == (ssize_t)n, "pread main");
	close(fd);
}

static bool raw_read(pid_t pid, uint64_t addr, uint8_t *buf, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && pread(fd, buf, n, (off_t)addr) == (ssize_t)n;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The int3s in main now that were not in @before. */
static int new_int3s(const uint8_t *before, const uint8_t *now, size_t n)
{
	int k = 0;
	for (size_t i = 0; i < n; i++) {
		if (before[i] == now[i])
			continue;
		CHECK(now[i] == 0xcc, "main+%zu changed to 0x%02x", i, now[i]);
		k++;
	}
	return k;
}

static uint64_t read_u64(struct stepper *s, uint64_t addr)
{
	uint64_t v = 0;
	CHECK(dbg_mem_read(s->p, addr, &v, 8) == 8, "read 0x%llx", (unsigned long long)addr);
	return v;
}

static void test_range(void)
{
	struct stepper s;
	stepper_start(&s, "step_rec_O0", NULL);
	uint64_t rec = sym_addr(&s, "rec"), leaf = sym_addr(&s, "leaf");
	struct dbg_symbol rs;
	OK(dbg_sym_lookup(s.sym, rec, &rs));
	/* Into main, then over to the line calling rec(3), into rec. */
	step_once(&s, DBG_STEP_LINE, NULL);
	step_once(&s, DBG_STEP_NEXT, NULL);
	uint64_t pc = step_once(&s, DBG_STEP_LINE, NULL);
	CHECK(pc > rec && pc < rec + rs.size, "not in rec");
	/* The whole of rec as the range: rec(3) .. rec(0) run without an
	 * event, the step ends at leaf's entry, called from rec(0). */
	struct dbg_step_opts o = { .sz = sizeof(o), .start = rec, .end = rec + rs.size };
	pc = step_once(&s, DBG_STEP_RANGE, &o);
	struct dbg_step_result res;
	OK(dbg_step_result(s.p, s.tid, &res));
	CHECK(pc == leaf, "range step ended at 0x%llx, not leaf 0x%llx", (unsigned long long)pc,
	      (unsigned long long)leaf);
	CHECK(res.steps > 30, "only %llu steps", (unsigned long long)res.steps);
	printf("range: [rec, rec+%llu) left at leaf after %llu instructions, one event\n",
	       (unsigned long long)rs.size, (unsigned long long)res.steps);
	/* Outside the range from the start: exactly one instruction. */
	o.start = rec;
	o.end = rec + 1;
	uint64_t before = pc;
	pc = step_once(&s, DBG_STEP_RANGE, &o);
	OK(dbg_step_result(s.p, s.tid, &res));
	CHECK(res.steps == 1 && pc != before, "one step expected, %llu", (unsigned long long)res.steps);
	stepper_end(&s);
}

static void test_nonstop(void)
{
	struct stepper s;
	stepper_start(&s, "step_rec_O0", "spin");
	pid_t tids[8];
	int n = dbg_proc_threads(s.p, tids, 8);
	CHECK(n == 2, "%d threads", n);
	pid_t spin = tids[0] == s.tid ? tids[1] : tids[0];
	CHECK(dbg_proc_thread_state(s.p, spin) == DBG_THREAD_RUNNING, "spinner not running");
	uint64_t spins = sym_addr(&s, "spins");
	/* A step of a running thread is refused. */
	int r = dbg_step(s.p, spin, DBG_STEP_INSN, NULL);
	CHECK(r == -DBG_ERRNO_RUNNING, "dbg_step(running) = %d", r);

	uint64_t c0 = read_u64(&s, spins);
	step_once(&s, DBG_STEP_LINE, NULL);
	step_once(&s, DBG_STEP_NEXT, NULL);
	uint64_t pc = step_once(&s, DBG_STEP_NEXT, NULL); /* over rec(3) */
	struct dbg_srcloc loc;
	CHECK(dbg_sym_srclocs(s.sym, pc, &loc, 1) > 0 && loc.line == 64, "next landed on line %d",
	      loc.line);
	/* The spinner runs on while main is stopped after its step (on a
	 * loaded machine it may not have had a CPU during the steps). The
	 * test serves events meanwhile, as a host's event loop does: an
	 * interrupt that met a stop already there traps once more after
	 * the resume, a quiet stop that only a wait absorbs. */
	uint64_t c1 = read_u64(&s, spins);
	for (int i = 0; i < 500 && c1 == c0; i++) {
		struct dbg_event ev;
		if (dbg_proc_wait(s.p, 10, &ev) == 0) {
			CHECK(ev.tid == spin, "event %d of main while it is stopped", ev.kind);
			OK(dbg_proc_resume_thread(s.p, spin));
		}
		c1 = read_u64(&s, spins);
	}
	CHECK(c1 > c0, "the other thread did not run (%llu, %llu)", (unsigned long long)c0,
	      (unsigned long long)c1);
	CHECK(dbg_proc_thread_state(s.p, s.tid) == DBG_THREAD_STOPPED, "main not stopped");
	CHECK(dbg_proc_thread_state(s.p, spin) == DBG_THREAD_RUNNING, "spinner stopped");

	/* A breakpoint for the spinner only, on leaf's entry: main steps
	 * into leaf through it (bp swallows the hit and steps the
	 * instruction in place, the spinner paused for it: it is the
	 * step's own) and the step goes on to leaf's first line, as
	 * without it. */
	struct dbg_bp *other;
	struct dbg_bp_opts bo = { .sz = sizeof(bo), .tid = spin };
	OK(dbg_bp_insert(s.p, sym_addr(&s, "leaf"), &bo, &other));
	struct dbg_bp_stats bs0, bs1;
	OK(dbg_bp_get_stats(s.p, &bs0));
	pc = step_once(&s, DBG_STEP_LINE, NULL);
	OK(dbg_bp_get_stats(s.p, &bs1));
	CHECK(dbg_sym_srclocs(s.sym, pc, &loc, 1) > 0 && loc.line == 25,
	      "step into leaf through another thread's breakpoint: line %d", loc.line);
	CHECK(bs1.silent == bs0.silent + 1, "the hit was not swallowed (%llu -> %llu)",
	      (unsigned long long)bs0.silent, (unsigned long long)bs1.silent);
	OK(dbg_bp_remove(s.p, other));
	step_once(&s, DBG_STEP_FINISH, NULL);

	/* Both threads stepping at once: the spinner instruction by
	 * instruction, main over leaf(a); the events come interleaved. */
	OK(dbg_proc_stop_thread(s.p, spin));
	OK(dbg_step(s.p, spin, DBG_STEP_INSN, NULL));
	struct dbg_step_opts so = { .sz = sizeof(so), .sym = s.sym };
	int spin_steps = 0;
	struct dbg_step_result res;
	/* next over leaf(a), sink = a + b, rec(2), printf: lines 65..68. */
	for (int line = 65; line <= 68; line++) {
		OK(dbg_step(s.p, s.tid, DBG_STEP_NEXT, &so));
		for (;;) {
			struct dbg_event ev = next_event(s.p);
			CHECK(ev.kind == DBG_EVENT_STEP, "event %d", (int)ev.kind);
			if (ev.tid == s.tid)
				break;
			CHECK(ev.tid == spin, "tid %d", ev.tid);
			spin_steps++;
			OK(dbg_step(s.p, spin, DBG_STEP_INSN, NULL));
		}
		OK(dbg_step_result(s.p, s.tid, &res));
		CHECK(dbg_sym_srclocs(s.sym, res.pc, &loc, 1) > 0 && loc.line == line,
		      "line %d, not %d", loc.line, line);
	}
	/* The spinner's last step is still under way: take its event. */
	struct dbg_event ev = next_event(s.p);
	CHECK(ev.kind == DBG_EVENT_STEP && ev.tid == spin, "spinner's event %d", (int)ev.kind);
	spin_steps++;
	printf("non-stop: the other thread ran %llu loops while main stepped or stood; %d single-steps of it "
	       "interleaved with a next of main\n", (unsigned long long)(c1 - c0), spin_steps);
	/* next runs the calls free to their return (milliseconds), so the
	 * four nexts may all end before the spinner's second step. */
	CHECK(spin_steps >= 1, "the spinner stepped %d times", spin_steps);
	stepper_end(&s);
}

static void test_signal_cancel_errors(void)
{
	struct stepper s;
	stepper_start(&s, "step_rec_O0", "loop");
	struct dbg_step_opts so = { .sz = sizeof(so), .sym = s.sym };
	CHECK(dbg_step(s.p, s.tid, (enum dbg_step_kind)99, &so) == -EINVAL, "bad kind");
	CHECK(dbg_step(s.p, s.tid, DBG_STEP_LINE, NULL) == -EINVAL, "LINE without sym");
	struct dbg_step_opts bad = { .sz = sizeof(bad), .start = 10, .end = 10 };
	CHECK(dbg_step(s.p, s.tid, DBG_STEP_RANGE, &bad) == -EINVAL, "empty range");
	CHECK(dbg_step(s.p, 1, DBG_STEP_INSN, NULL) == -ENOENT, "unknown tid");
	struct dbg_step_result res;
	CHECK(dbg_step_result(s.p, s.tid, &res) == -ENOENT, "no result yet");

	step_once(&s, DBG_STEP_LINE, NULL);            /* main: if (argc ... "loop") */
	step_once(&s, DBG_STEP_NEXT, NULL);            /* loop_forever(); */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	OK(dbg_step(s.p, s.tid, DBG_STEP_NEXT, &so)); /* never returns */
	CHECK(dbg_step(s.p, s.tid, DBG_STEP_INSN, NULL) == -DBG_ERRNO_RUNNING ||
		      dbg_step(s.p, s.tid, DBG_STEP_INSN, NULL) == -EBUSY, "second step");
	CHECK(dbg_step_result(s.p, s.tid, &res) == -EBUSY, "result while stepping");
	/* The step advances while we wait; no event for 200 ms. */
	struct dbg_event ev;
	int r = dbg_proc_wait(s.p, 200, &ev);
	CHECK(r == -ETIMEDOUT, "wait during an endless step = %d (event %d)", r, (int)ev.kind);
	/* A signal ends the step and is reported as it is. */
	CHECK(syscall(SYS_tgkill, dbg_proc_pid(s.p), s.tid, SIGWINCH) == 0, "tgkill");
	ev = next_event(s.p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(ev.kind == DBG_EVENT_SIGNAL && ev.signo == SIGWINCH, "event %d signo %d", (int)ev.kind,
	      ev.signo);
	OK(dbg_step_result(s.p, s.tid, &res));
	/* The next runs loop_forever() free to its return address: a
	 * single-step or a few, not one per instruction. */
	CHECK(res.end == DBG_STEP_END_INTERRUPTED && res.steps >= 1 && res.steps < 100,
	      "end %d after %llu steps", (int)res.end, (unsigned long long)res.steps);
	printf("signal: the next (running free in loop_forever) ended after %llu single-steps, "
	       "SIGWINCH reported\n", (unsigned long long)res.steps);
	/* A range step single-steps every instruction: a signal ends it too. */
	OK(dbg_proc_set_signal(s.p, s.tid, 0));
	struct dbg_step_opts every = { .sz = sizeof(every), .start = 0, .end = UINT64_MAX };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	OK(dbg_step(s.p, s.tid, DBG_STEP_RANGE, &every)); /* never leaves */
	r = dbg_proc_wait(s.p, 200, &ev);
	CHECK(r == -ETIMEDOUT, "wait during an endless range step = %d (event %d)", r, (int)ev.kind);
	CHECK(syscall(SYS_tgkill, dbg_proc_pid(s.p), s.tid, SIGWINCH) == 0, "tgkill");
	ev = next_event(s.p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(ev.kind == DBG_EVENT_SIGNAL && ev.signo == SIGWINCH, "event %d signo %d", (int)ev.kind,
	      ev.signo);
	OK(dbg_step_result(s.p, s.tid, &res));
	CHECK(res.end == DBG_STEP_END_INTERRUPTED && res.steps > 100, "end %d after %llu steps",
	      (int)res.end, (unsigned long long)res.steps);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("signal: the range step ended after %llu instructions, SIGWINCH reported "
	       "(%.0f single-steps/s, %.1f us each)\n",
	       (unsigned long long)res.steps, (double)res.steps / secs, secs * 1e6 / (double)res.steps);
	/* Cancel: the single-step already asked for ends as a plain trap. */
	OK(dbg_proc_set_signal(s.p, s.tid, 0));
	struct dbg_step_opts all = { .sz = sizeof(all), .start = 0, .end = UINT64_MAX };
	OK(dbg_step(s.p, s.tid, DBG_STEP_RANGE, &all)); /* never leaves */
	CHECK(dbg_proc_wait(s.p, 50, &ev) == -ETIMEDOUT, "an event during an endless step");
	OK(dbg_step_cancel(s.p, s.tid));
	ev = next_event(s.p);
	CHECK(ev.kind == DBG_EVENT_TRAP && ev.tid == s.tid, "after cancel: event %d", (int)ev.kind);
	OK(dbg_step_result(s.p, s.tid, &res));
	CHECK(res.end == DBG_STEP_END_CANCELLED, "end %d", (int)res.end);
	step_once(&s, DBG_STEP_INSN, NULL); /* and stepping goes on */
	stepper_end(&s);
}

/* Cancel a next that runs free in loop_forever(): the int3 at the return
 * address goes, the thread runs on, no event comes. */
static void test_cancel_free(void)
{
	struct stepper s;
	stepper_start(&s, "step_rec_O0", "loop");
	struct dbg_step_opts so = { .sz = sizeof(so), .sym = s.sym };
	struct dbg_event ev;
	pid_t pid = dbg_proc_pid(s.p);
	uint8_t before[4096], now[4096];
	size_t n = main_size(&s, sizeof(before));
	raw_main(&s, pid, before, n);
	step_once(&s, DBG_STEP_LINE, NULL);
	step_once(&s, DBG_STEP_NEXT, NULL); /* loop_forever(); */
	OK(dbg_step(s.p, s.tid, DBG_STEP_NEXT, &so));
	CHECK(dbg_proc_wait(s.p, 100, &ev) == -ETIMEDOUT, "an event during an endless next");
	raw_main(&s, pid, now, n);
	CHECK(new_int3s(before, now, n) == 1, "no internal breakpoint while running free");
	OK(dbg_step_cancel(s.p, s.tid));
	raw_main(&s, pid, now, n);
	CHECK(memcmp(before, now, n) == 0, "an int3 left in main after cancel");
	CHECK(dbg_proc_wait(s.p, 100, &ev) == -ETIMEDOUT, "an event after cancel (%d)", (int)ev.kind);
	CHECK(dbg_proc_thread_state(s.p, s.tid) == DBG_THREAD_RUNNING, "stopped after cancel");
	struct dbg_step_result res;
	OK(dbg_step_result(s.p, s.tid, &res));
	CHECK(res.end == DBG_STEP_END_CANCELLED, "end %d", (int)res.end);
	printf("cancel while running free: the int3 went, the thread ran on\n");
	stepper_end(&s);
}

/* A watchpoint and a breakpoint hit while a next runs free over a call
 * end the step (reported as they are) and take the return address's
 * int3 out. */
static void test_free_interrupted(void)
{
	struct stepper s;
	stepper_start(&s, "step_rec_O0", NULL);
	pid_t pid = dbg_proc_pid(s.p);
	uint8_t before[4096], now[4096];
	size_t n = main_size(&s, sizeof(before));
	raw_main(&s, pid, before, n);
	step_once(&s, DBG_STEP_LINE, NULL); /* main: if (argc ... "loop") */
	step_once(&s, DBG_STEP_NEXT, NULL); /* int a = rec(3); */
	struct dbg_watch *w;
	OK(dbg_watch_insert(s.p, sym_addr(&s, "sink"), 4, DBG_WATCH_WRITE, &w));
	struct dbg_step_opts so = { .sz = sizeof(so), .sym = s.sym };
	OK(dbg_step(s.p, s.tid, DBG_STEP_NEXT, &so));
	struct dbg_event ev = next_event(s.p);
	CHECK(ev.kind == DBG_EVENT_WATCHPOINT && ev.tid == s.tid,
	      "next over rec(3): event %d at 0x%llx, watch hits %llu", (int)ev.kind,
	      (unsigned long long)ev.addr, (unsigned long long)dbg_watch_hits(w));
	struct dbg_step_result res;
	OK(dbg_step_result(s.p, s.tid, &res));
	CHECK(res.end == DBG_STEP_END_INTERRUPTED, "after the watchpoint: end %d", (int)res.end);
	raw_main(&s, pid, now, n);
	CHECK(memcmp(before, now, n) == 0, "an int3 left in main after the watchpoint");
	OK(dbg_watch_remove(s.p, w));
	/* Then next over leaf(a) with a breakpoint on leaf. */
	/* In leaf under rec(0..3): out of each, back into main. */
	uint64_t pc = 0;
	for (int i = 0; i < 5; i++) {
		pc = step_once(&s, DBG_STEP_OUT, NULL);
		struct dbg_symbol fs;
		if (getenv("STEP_DEBUG") && dbg_sym_lookup(s.sym, pc, &fs) == 0)
			fprintf(stderr, "out %d: %s+%llu\n", i, fs.name, (unsigned long long)fs.offset);
	}
	CHECK(pc > s.main_addr && pc < s.main_addr + n, "not back in main: 0x%llx",
	      (unsigned long long)pc);
	step_once(&s, DBG_STEP_NEXT, NULL); /* int b = leaf(a); */
	struct dbg_bp *bp;
	OK(dbg_bp_insert(s.p, sym_addr(&s, "leaf"), NULL, &bp));
	OK(dbg_step(s.p, s.tid, DBG_STEP_NEXT, &so));
	ev = next_event(s.p);
	CHECK(ev.kind == DBG_EVENT_BREAKPOINT && ev.bp == bp, "next over leaf: event %d", (int)ev.kind);
	OK(dbg_bp_remove(s.p, bp));
	/* The next step starts at once (the interrupted one is over). */
	step_once(&s, DBG_STEP_OUT, NULL);
	raw_main(&s, pid, now, n);
	CHECK(memcmp(before, now, n) == 0, "an int3 left in main after the breakpoint");
	printf("running free: a watchpoint and a breakpoint ended the next, no int3 left\n");
	stepper_end(&s);
}

/* A thread that ends while it runs free (a finish out of a function
 * that calls pthread_exit) takes its internal breakpoint with it: no int3
 * stays in the text while the process runs on. */
static void test_exit_free(void)
{
	struct stepper s;
	stepper_start(&s, "step_clone", "exit");
	OK(dbg_runctl_set_mode(s.p, DBG_RUNCTL_NON_STOP));
	pid_t pid = dbg_proc_pid(s.p);
	uint64_t at[2] = { sym_addr(&s, "dies"), sym_addr(&s, "dying") };
	uint8_t before[2][128], now[128];
	for (int i = 0; i < 2; i++)
		CHECK(raw_read(pid, at[i], before[i], sizeof(now)), "raw read");
	struct dbg_bp *bp;
	OK(dbg_bp_insert(s.p, at[0], NULL, &bp));
	OK(dbg_proc_resume_thread(s.p, s.tid));
	pid_t w = 0;
	while (!w) {
		struct dbg_event ev = next_event(s.p);
		CHECK(ev.kind != DBG_EVENT_EXITED && ev.kind != DBG_EVENT_KILLED, "target ended");
		if (ev.kind == DBG_EVENT_BREAKPOINT && ev.bp == bp)
			w = ev.tid;
		else if (ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume_thread(s.p, ev.tid));
	}
	OK(dbg_bp_remove(s.p, bp));
	struct dbg_step_opts so = { .sz = sizeof(so), .sym = s.sym };
	OK(dbg_step(s.p, w, DBG_STEP_OUT, &so));
	bool gone = false;
	for (;;) {
		struct dbg_event ev = next_event(s.p);
		CHECK(ev.kind != DBG_EVENT_EXITED && ev.kind != DBG_EVENT_KILLED, "target ended");
		CHECK(ev.kind != DBG_EVENT_STEP, "the finish out of dies() ended");
		if (ev.kind == DBG_EVENT_THREAD_EXIT && ev.tid == w)
			gone = true;
		if (ev.kind == DBG_EVENT_TRAP && ev.tid == s.tid)
			break; /* main joined it and is in start_here() again */
		if (ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume_thread(s.p, ev.tid));
	}
	OK(dbg_proc_set_signal(s.p, s.tid, 0));
	/* pthread_join returns before the kernel reports the exit. */
	while (!gone) {
		struct dbg_event ev = next_event(s.p);
		gone = ev.kind == DBG_EVENT_THREAD_EXIT && ev.tid == w;
	}
	for (int i = 0; i < 2; i++) {
		CHECK(raw_read(pid, at[i], now, sizeof(now)), "raw read");
		for (size_t k = 0; k < sizeof(now); k++)
			CHECK(now[k] == before[i][k], "%s+%zu is 0x%02x, was 0x%02x, after its thread ended",
			      i ? "dying" : "dies", k, now[k], before[i][k]);
	}
	printf("exit while running free: the thread's internal int3 went with it\n");
	stepper_end(&s);
}

static void test_killed(bool from_outside)
{
	struct stepper s;
	stepper_start(&s, "step_rec_O0", "loop");
	struct dbg_step_opts so = { .sz = sizeof(so), .sym = s.sym };
	step_once(&s, DBG_STEP_LINE, NULL);
	step_once(&s, DBG_STEP_NEXT, NULL);
	OK(dbg_step(s.p, s.tid, DBG_STEP_NEXT, &so)); /* never returns */
	struct dbg_event ev0;
	CHECK(dbg_proc_wait(s.p, 100, &ev0) == -ETIMEDOUT, "an event during an endless step");
	pid_t pid = dbg_proc_pid(s.p);
	if (from_outside) {
		CHECK(kill(pid, SIGKILL) == 0, "kill");
		struct dbg_event ev;
		int r;
		int64_t t0 = (int64_t)time(NULL);
		do
			r = dbg_proc_wait(s.p, 10000, &ev);
		while (r == 0 && ev.kind != DBG_EVENT_KILLED && time(NULL) - t0 < 20);
		CHECK(r == 0 && ev.kind == DBG_EVENT_KILLED && ev.signo == SIGKILL, "wait = %d kind %d",
		      r, r == 0 ? (int)ev.kind : -1);
	} else {
		OK(dbg_proc_kill(s.p));
	}
	int r = dbg_step(s.p, s.tid, DBG_STEP_INSN, NULL);
	CHECK(r < 0, "dbg_step on a dead target = %d", r);
	r = dbg_step(s.p, s.tid, DBG_STEP_LINE, &so);
	CHECK(r < 0, "dbg_step LINE on a dead target = %d", r);
	/* dbg_proc_kill queued the KILLED event; then the end. */
	struct dbg_event ev;
	int nev = 0;
	while ((r = dbg_proc_wait(s.p, 1000, &ev)) == 0 && nev < 100)
		nev++;
	CHECK(r == -ESRCH, "wait after the end = %d", r);
	struct dbg_step_result res;
	CHECK(dbg_step_result(s.p, s.tid, &res) < 0, "result of a dead thread");
	printf("killed mid-step (%s): dbg_step = %d (%s), wait = -ESRCH\n",
	       from_outside ? "SIGKILL from outside" : "dbg_proc_kill", r, dbg_strerror(r));
	dbg_sym_free(s.sym);
	dbg_proc_detach(s.p);
}

/* next over pthread_create: the clone event is reported, the thread is
 * resumed, and the next goes on to the following line, as gdb's does. */
static void test_clone(void)
{
	struct stepper s;
	stepper_start(&s, "step_clone", NULL);
	struct dbg_srcloc loc;
	uint64_t pc = step_once(&s, DBG_STEP_NEXT, NULL); /* out of start_here */
	CHECK(dbg_sym_srclocs(s.sym, pc, &loc, 1) > 0 && loc.line == 28, "line %d, not 28", loc.line);
	struct dbg_step_opts so = { .sz = sizeof(so), .sym = s.sym };
	OK(dbg_step(s.p, s.tid, DBG_STEP_NEXT, &so));
	int clones = 0;
	for (;;) {
		struct dbg_event ev = next_event(s.p);
		if (ev.kind == DBG_EVENT_STEP && ev.tid == s.tid) {
			pc = ev.addr;
			break;
		}
		CHECK(ev.kind == DBG_EVENT_CLONE || ev.kind == DBG_EVENT_THREAD_EXIT,
		      "event %d of %d during the next", (int)ev.kind, ev.tid);
		if (ev.kind == DBG_EVENT_CLONE) {
			clones++;
			CHECK(ev.tid == s.tid, "clone of %d", ev.tid);
		}
		if (ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume_thread(s.p, ev.tid));
	}
	CHECK(clones == 1, "%d clone events", clones);
	CHECK(dbg_sym_srclocs(s.sym, pc, &loc, 1) > 0 && loc.line == 29,
	      "next over pthread_create landed on line %d", loc.line);
	printf("clone: next over pthread_create reported the clone and went on to line %d\n",
	       loc.line);
	stepper_end(&s);
}

/* All-stop (the bp module's mode): a step's event stops the other
 * threads too; a step with dbg_proc_resume() after it lets them run
 * during it, as gdb's all-stop step does. */
static void test_allstop(void)
{
	struct stepper s;
	stepper_start(&s, "step_rec_O0", "spin");
	OK(dbg_runctl_set_mode(s.p, DBG_RUNCTL_ALL_STOP));
	pid_t tids[8];
	CHECK(dbg_proc_threads(s.p, tids, 8) == 2, "threads");
	pid_t spin = tids[0] == s.tid ? tids[1] : tids[0];
	OK(dbg_proc_stop(s.p));
	uint64_t spins = sym_addr(&s, "spins");
	struct dbg_srcloc loc;
	step_once(&s, DBG_STEP_LINE, NULL);
	CHECK(dbg_proc_thread_state(s.p, spin) == DBG_THREAD_STOPPED, "spinner runs after the step");
	uint64_t c0 = read_u64(&s, spins);
	struct dbg_step_opts so = { .sz = sizeof(so), .sym = s.sym };
	OK(dbg_step(s.p, s.tid, DBG_STEP_NEXT, &so));
	OK(dbg_proc_resume(s.p));
	struct dbg_event ev = next_event(s.p);
	CHECK(ev.kind == DBG_EVENT_STEP && ev.tid == s.tid, "event %d of %d", (int)ev.kind, ev.tid);
	CHECK(dbg_sym_srclocs(s.sym, ev.addr, &loc, 1) > 0 && loc.line == 63, "line %d", loc.line);
	CHECK(dbg_proc_thread_state(s.p, spin) == DBG_THREAD_STOPPED, "spinner runs after the step");
	uint64_t c1 = read_u64(&s, spins);
	CHECK(read_u64(&s, spins) == c1, "spinner moves while stopped");
	printf("all-stop: every thread stopped at the step's end; the spinner ran %llu loops "
	       "during it\n", (unsigned long long)(c1 - c0));
	stepper_end(&s);
}

/* Detach in the middle of an endless step: the target runs on, not
 * killed by a stray SIGTRAP, and is no longer traced. */
static void test_detach_mid_step(void)
{
	struct stepper s;
	stepper_start(&s, "step_rec_O0", "loop");
	struct dbg_step_opts so = { .sz = sizeof(so), .sym = s.sym };
	step_once(&s, DBG_STEP_LINE, NULL);
	step_once(&s, DBG_STEP_NEXT, NULL);
	pid_t pid = dbg_proc_pid(s.p);
	uint8_t before[4096], now[4096];
	size_t n = main_size(&s, sizeof(before));
	raw_main(&s, pid, before, n);
	OK(dbg_step(s.p, s.tid, DBG_STEP_NEXT, &so)); /* never returns */
	struct dbg_event ev;
	CHECK(dbg_proc_wait(s.p, 100, &ev) == -ETIMEDOUT, "event during an endless step");
	/* It runs free to an int3 at loop_forever()'s return address. */
	raw_main(&s, pid, now, n);
	CHECK(new_int3s(before, now, n) == 1, "no internal breakpoint in main while running free");
	dbg_sym_free(s.sym);
	/* The spawned child is ours: detach with no_exit_kill unset still
	 * leaves it alive while we live. */
	dbg_proc_detach(s.p);
	sleep_ms(300);
	int st;
	CHECK(waitpid(pid, &st, WNOHANG) == 0, "the target died after detach (status 0x%x)", st);
	CHECK(thread_tracer(pid, pid) == 0, "still traced by %d", thread_tracer(pid, pid));
	char c = thread_state(pid, pid);
	CHECK(c == 'R' || c == 'S', "state %c after detach", c);
	raw_main(&s, pid, now, n);
	CHECK(memcmp(before, now, n) == 0, "main's text differs after detaching mid-step");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "it ran on until our SIGKILL (0x%x)", st);
	printf("detach mid-step: the target ran on untraced, main's text as before\n");
}

int main(void)
{
	ptrace_or_skip();
	test_detach_mid_step();
	test_cancel_free();
	test_free_interrupted();
	test_allstop();
	test_clone();
	test_exit_free();
	test_range();
	test_nonstop();
	test_signal_cancel_errors();
	test_killed(true);
	test_killed(false);
	printf("ok\n");
	return 0;
}
