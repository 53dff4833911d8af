/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Steps and signals, deterministic (bp_real found these on Go's SIGURG):
 * a signal made pending in a stopped thread (tgkill while it is in a
 * ptrace-stop) comes at the step's first resume.
 *   1. policy PASS only, a single-step: the signal is held, the step
 *      ends with DBG_EVENT_STEP at the next instruction (no handler ran),
 *      and the handler runs once the thread is resumed;
 *   2. policy PASS only, a finish: the handler runs while the step runs
 *      free (for the signal held in 1 and a new one), the step ends at
 *      the return address;
 *   3. policy STOP|PASS (reported), a single-step: DBG_EVENT_SIGNAL ends
 *      it; a single-step resumed with that signal ends at the handler's
 *      first instruction (DBG_EVENT_STEP, no stray SIGTRAP);
 *   4. 300 single-steps, each with dbg_proc_stop() right after its
 *      resume: every one reports its step (the stop does not end it);
 * then detach, and the target runs on. Without the fixes 1 and 2 wait
 * for a step event that never comes, 3 reports a stray TRAP.
 * Usage: test_step_signals allstop|nonstop
 */
#include "../harness.h"

#include <inttypes.h>
#include <sys/syscall.h>

static struct dbg_proc *p;
static pid_t pid;
static uint64_t step_from; /* part 4: where the last step began */
static uint64_t hist[8][3]; /* part 4: start, busy at the stop, taken from the queue */
static int nhist;

static void log_stderr(enum dbg_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "[%d] %s\n", (int)level, msg);
}

static struct dbg_event next(void)
{
	struct dbg_event ev;
	for (;;) {
		int r = dbg_proc_wait(p, 10000, &ev);
		CHECK(r == 0, "dbg_proc_wait = %d (%s): %s", r, dbg_strerror(r), dbg_proc_errmsg(p));
		if (ev.kind == DBG_EVENT_TRAP) {
			struct dbg_regs rr;
			int e = dbg_regs_get(p, ev.tid, &rr);
			for (int i = nhist > 8 ? nhist - 8 : 0; i < nhist; i++)
				fprintf(stderr, "round %d: from %" PRIx64 " busy %d queued %d\n", i,
					hist[i % 8][0], (int)hist[i % 8][1], (int)hist[i % 8][2]);
			CHECK(0, "a stray SIGTRAP (si_code %d) in %d at %" PRIx64 " (last step from %" PRIx64 ")",
			      ev.siginfo.code, ev.tid, e == 0 ? rr.rip : 0, step_from);
		}
		return ev;
	}
}

static uint64_t rip(pid_t tid)
{
	struct dbg_regs r;
	OK(dbg_regs_get(p, tid, &r));
	return r.rip;
}

int main(int argc, char **argv)
{
	bool allstop = argc > 1 && !strcmp(argv[1], "allstop");
	struct inferior inf;
	inferior_start(&inf, "step_sig", NULL);
	pid = inf.pid;
	uint64_t mid = ready_field(&inf, "mid"), handler = ready_field(&inf, "handler");
	uint64_t handled = ready_field(&inf, "handled");
	struct dbg_attach_opts ao = { .sz = sizeof(ao) };
	if (getenv("STEP_SIGNALS_LOG"))
		ao.log_fn = log_stderr;
	OK(dbg_proc_attach(pid, &ao, &p));
	OK(dbg_runctl_set_mode(p, allstop ? DBG_RUNCTL_ALL_STOP : DBG_RUNCTL_NON_STOP));
	struct dbg_sym *sym;
	OK(dbg_sym_new(p, NULL, &sym));
	struct dbg_disasm *dis;
	OK(dbg_disasm_new(p, NULL, &dis));
	struct dbg_bp *bp;
	OK(dbg_bp_insert(p, mid, NULL, &bp));
	OK(dbg_proc_resume(p));
	struct dbg_event ev = next();
	CHECK(ev.kind == DBG_EVENT_BREAKPOINT && ev.addr == mid, "event %d at %" PRIx64, ev.kind,
	      ev.addr);
	pid_t tid = ev.tid;
	OK(dbg_bp_remove(p, bp));
	/* Off the breakpoint's address first: the signal steps start at
	 * mid's second instruction. */
	OK(dbg_step(p, tid, DBG_STEP_INSN, NULL));
	ev = next();
	CHECK(ev.kind == DBG_EVENT_STEP, "first step: event %d", ev.kind);

	/* 1. PASS only, single-step: held. */
	OK(dbg_signal_policy_set(p, SIGUSR1, DBG_SIGNAL_PASS));
	long h0 = (long)peek_u64(pid, handled);
	struct dbg_insn in;
	uint64_t pc = rip(tid);
	CHECK(dbg_disasm_read(dis, pc, 1, &in) == 1 && in.kind == DBG_INSN_OTHER,
	      "mid's second instruction '%s' is not a plain one", in.text);
	CHECK(syscall(SYS_tgkill, pid, tid, SIGUSR1) == 0, "tgkill");
	OK(dbg_step(p, tid, DBG_STEP_INSN, NULL));
	ev = next();
	CHECK(ev.kind == DBG_EVENT_STEP && ev.tid == tid && ev.addr == pc + in.len,
	      "1: event %d at %" PRIx64 ", want the step to %" PRIx64, ev.kind, ev.addr,
	      pc + in.len);
	CHECK((long)peek_u64(pid, handled) == h0, "1: the handler ran under the single-step");
	struct dbg_step_result res;
	OK(dbg_step_result(p, tid, &res));
	CHECK(res.end == DBG_STEP_END_DONE, "1: end %d", (int)res.end);
	printf("1. single-step with SIGUSR1 (pass, no stop) pending: step to %" PRIx64
	       ", handler held\n", ev.addr);

	/* 2. PASS only, finish: the held one and a new one run free. */
	CHECK(syscall(SYS_tgkill, pid, tid, SIGUSR1) == 0, "tgkill");
	struct dbg_unwinder *u;
	OK(dbg_unwind_new(p, sym, NULL, &u));
	struct dbg_frame f[2];
	CHECK(dbg_unwind_thread(u, tid, f, 2) == 2, "unwind");
	struct dbg_step_opts so = { .sz = sizeof(so), .sym = sym, .unwinder = u };
	OK(dbg_step(p, tid, DBG_STEP_FINISH, &so));
	if (allstop)
		OK(dbg_proc_resume(p));
	ev = next();
	CHECK(ev.kind == DBG_EVENT_STEP && ev.tid == tid && ev.addr == f[1].pc,
	      "2: event %d at %" PRIx64 ", want the finish to %" PRIx64, ev.kind, ev.addr,
	      f[1].pc);
	long h2 = (long)peek_u64(pid, handled);
	/* The one held in 1 (given back with the resume) and the new one. */
	CHECK(h2 == h0 + 2, "2: handled %ld times during the finish, want 2 (held, new)", h2 - h0);
	printf("2. finish with SIGUSR1 pending and one held: at the return address %" PRIx64
	       ", the handler ran twice\n", ev.addr);

	/* 3. Reported: the signal ends the step; stepping with it lands in
	 * the handler. */
	OK(dbg_signal_policy_set(p, SIGUSR1, DBG_SIGNAL_STOP | DBG_SIGNAL_PASS));
	CHECK(syscall(SYS_tgkill, pid, tid, SIGUSR1) == 0, "tgkill");
	OK(dbg_step(p, tid, DBG_STEP_INSN, NULL));
	ev = next();
	CHECK(ev.kind == DBG_EVENT_SIGNAL && ev.signo == SIGUSR1 && ev.tid == tid,
	      "3: event %d signo %d, want SIGUSR1 reported", ev.kind, ev.signo);
	OK(dbg_step_result(p, tid, &res));
	CHECK(res.end == DBG_STEP_END_INTERRUPTED, "3: end %d", (int)res.end);
	OK(dbg_step(p, tid, DBG_STEP_INSN, NULL));
	ev = next();
	CHECK(ev.kind == DBG_EVENT_STEP && ev.tid == tid && ev.addr == handler,
	      "3: event %d at %" PRIx64 ", want the step into the handler at %" PRIx64, ev.kind,
	      ev.addr, handler);
	printf("3. SIGUSR1 reported ends the step; a step with it ends at the handler %" PRIx64 "\n",
	       ev.addr);

	/* 4. A stop of every thread between a single-step's resume and its
	 * trap (an all-stop of another thread's event does this): the step
	 * goes on at the next resume and reports. */
	int interrupted = 0;
	for (int i = 0; i < 300; i++) {
		uint64_t before = rip(tid);
		step_from = before;
		OK(dbg_step(p, tid, DBG_STEP_INSN, NULL));
		OK(dbg_proc_stop(p));
		struct dbg_step_result r4;
		bool busy = dbg_step_result(p, tid, &r4) == -EBUSY;
		interrupted += busy;
		/* A trap reaped by the stop is queued: take it first (in
		 * non-stop, dbg_proc_resume() would resume its thread too,
		 * and the event would be about a running thread). */
		int r = dbg_proc_wait(p, 0, &ev);
		hist[nhist % 8][0] = before;
		hist[nhist % 8][1] = busy;
		hist[nhist % 8][2] = r == 0;
		nhist++;
		if (r == -EAGAIN) {
			OK(dbg_proc_resume(p));
			ev = next();
		} else {
			CHECK(r == 0, "dbg_proc_wait = %d", r);
		}
		CHECK(ev.kind == DBG_EVENT_STEP && ev.tid == tid,
		      "4: round %d from %" PRIx64 ": event %d, want the step", i, before, ev.kind);
	}
	printf("4. 300 single-steps with a stop between resume and trap: all reported (%d still "
	       "in flight at the stop)\n", interrupted);

	dbg_unwind_free(u);
	dbg_disasm_free(dis);
	dbg_sym_free(sym);
	dbg_proc_detach(p);
	long h3 = (long)peek_u64(pid, handled);
	sleep_ms(50);
	CHECK(thread_state(pid, pid) != 0 && thread_tracer(pid, pid) == 0, "not running untraced");
	CHECK((long)peek_u64(pid, handled) >= h3, "handled went back");
	inferior_kill(&inf);
	return 0;
}
