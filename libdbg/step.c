/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stepping: one instruction, over calls, out of frames, source lines and
 * address ranges.
 *
 * Every step is a run of PTRACE_SINGLESTEPs of one thread that this
 * module drives from two hooks: prepare turns the thread's resume into a
 * single-step (and decodes the instruction about to run: is it a call, a
 * syscall?), stop claims the single-step trap and decides whether the
 * step is over (DBG_EVENT_STEP) or goes on (D_QUIET: proc resumes the
 * thread at once, and prepare makes it another single-step).
 *
 * Waiting for a call or a frame to return (OVER/NEXT over a call,
 * OUT/FINISH) is not single-stepped: the thread runs free (PTRACE_CONT,
 * st->free) to a module-internal breakpoint of bp.c at the return address
 * that only this thread stops at; its hit comes to our stop hook, which
 * checks the frame (the sp back where the call left it, so a recursive
 * activation returning to the same address runs on), takes it out and
 * goes on single-stepping. Every end of a step takes it out (finish()).
 *
 * Source-line steps follow gdb's rules (infrun.c's process_event_stop_test,
 * read to learn, not copied), so that a debugger built on libdbg lands
 * where gdb does:
 *  - the step range is the line-table row holding pc: [its address, the
 *    next row's); leaving it at the start of a row (is_stmt) of another
 *    line ends the step; landing in the middle of a row (a return into the
 *    caller) takes that row as the new range and line and goes on; the
 *    start of a row of another line that is not a statement gives only
 *    its range;
 *  - code without line information ends the step;
 *  - a call made from the stepping frame: next runs it to its return; step
 *    goes into it if the callee (through a PLT stub: the function the stub
 *    names) has line information, stopping after its prologue as gdb's
 *    amd64 prologue analyzer places it (past endbr64; push %rbp; mov
 *    %rsp,%rbp, then to the end of that line-table row), else runs it to
 *    its return.
 */
#include "internal.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>


enum phase {
	P_FIRST,   /* OVER: the first instruction */
	P_RANGE,   /* RANGE, LINE, NEXT: stepping in [start, end) */
	P_RETURN,  /* waiting for pc == ret.pc with sp >= ret.sp */
	P_RUNTO,   /* LINE: waiting for pc == runto (or the callee's return) */
};

enum verdict { V_GO_ON, V_DONE };

/* ---- line table rows ------------------------------------------------ */

struct row {
	uint64_t start, end;
	int line;
	const char *file;
	bool is_stmt;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static Dwarf_Addr line_addr(Dwarf_Lines *lines, size_t i)
{
	Dwarf_Addr a = 0;
	dwarf_lineaddr(dwarf_onesrcline(lines, i), &a);
	return a;
}

static bool line_stmt(Dwarf_Lines *lines, size_t i)
{
	bool b = false;
	dwarf_linebeginstatement(dwarf_onesrcline(lines, i), &b);
	return b;
}

static int line_no(Dwarf_Lines *lines, size_t i)
{
	int l = 0;
	dwarf_lineno(dwarf_onesrcline(lines, i), &l);
	return l;
}

/*
 * The row of @pc's unit's line table that holds @pc, as gdb's
 * find_pc_line() picks it: the last row at the greatest address <= pc
 * (an is_stmt one at that address if there is one); it ends at the next
 * greater address. End-of-sequence rows have no line. False: no line.
 */
static bool line_row(struct dbg_sym *s, uint64_t pc, struct row *r)
{
	if (!s || (s->flags & DBG_SYM_NO_DWARF))
		return false;
	struct dbg__image *im = dbg__sym_image(s, pc);
	if (!im || !im->mod)
		return false;
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(im->mod, pc, &bias);
	Dwarf_Lines *lines;
	size_t n;
	if (!cu || dwarf_getsrclines(cu, &lines, &n) != 0 || n == 0)
		return false;
	Dwarf_Addr a = pc - bias;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (line_addr(lines, mid) <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	size_t b = lo - 1;
	bool end_seq = false;
	dwarf_lineendsequence(dwarf_onesrcline(lines, b), &end_seq);
	if (end_seq || line_no(lines, b) == 0)
		return false;
	if (!line_stmt(lines, b)) {
		size_t k = b;
		while (k > 0 && line_addr(lines, k - 1) == line_addr(lines, k) &&
		       line_no(lines, k - 1) != 0 && !line_stmt(lines, k))
			k--;
		if (line_stmt(lines, k))
			b = k;
	}
	r->start = line_addr(lines, b) + bias;
	r->end = lo < n ? line_addr(lines, lo) + bias : UINT64_MAX;
	r->line = line_no(lines, b);
	r->file = dwarf_linesrc(dwarf_onesrcline(lines, b), NULL, NULL);
	r->is_stmt = line_stmt(lines, b);
	return true;
}

/*
 * Where "step" into function @fn stops, as gdb places it for code from
 * GCC: past endbr64, push %rbp, mov %rsp,%rbp when the function sets up
 * a frame pointer (else the entry itself), then, when that is inside a
 * row, the end of that row if it is still in the function.
 */
static uint64_t after_prologue(struct dbg_proc *p, struct dbg_sym *s, uint64_t fn)
{
	uint8_t c[12];
	ssize_t got = dbg_mem_read(p, fn, c, sizeof(c));
	if (got < (ssize_t)sizeof(c))
		return fn;
	size_t i = 0;
	uint64_t pc = fn;
	if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
		i = 4;
	if (c[i] == 0x55) {
		const uint8_t *m = &c[i + 1];
		if ((m[0] == 0x48 && m[1] == 0x89 && m[2] == 0xe5) ||
		    (m[0] == 0x48 && m[1] == 0x8b && m[2] == 0xec))
			pc = fn + i + 4;
		else if ((m[0] == 0x89 && m[1] == 0xe5) || (m[0] == 0x8b && m[1] == 0xec))
			pc = fn + i + 3;
	}
	struct row r;
	struct dbg_symbol sy;
	uint64_t fn_end = dbg_sym_lookup(s, fn, &sy) == 0 && sy.size ? sy.addr + sy.size : 0;
	if (line_row(s, pc, &r) && r.start != pc && r.end != UINT64_MAX && r.end < fn_end)
		pc = r.end;
	return pc;
}

/* The function a PLT stub at @pc leads to, found by the name the stub's
 * relocation gives (so lazy binding need not have happened); 0: not a
 * stub, or the function is not found. */
static uint64_t plt_target(struct dbg_proc *p, struct dbg_sym *s, uint64_t pc)
{
	struct dbg_disasm *d;
	struct dbg_disasm_opts o = { .sz = sizeof(o), .sym = s };
	if (dbg_disasm_new(p, &o, &d) < 0)
		return 0;
	/* A call to the stub's address is symbolized "<name@plt>". */
	uint8_t call[5] = { 0xe8, 0, 0, 0, 0 };
	int32_t rel = (int32_t)(pc - (pc - 5) - 5);
	memcpy(call + 1, &rel, 4);
	struct dbg_insn in;
	uint64_t fn = 0;
	if (dbg_disasm_decode(d, pc - 5, call, sizeof(call), &in) == 0) {
		char *lt = strrchr(in.text, '<'), *at = lt ? strstr(lt, "@plt>") : NULL;
		if (lt && at) {
			*at = 0;
			if (dbg_sym_addr(s, lt + 1, &fn) < 0)
				fn = 0;
		}
	}
	dbg_disasm_free(d);
	return fn;
}

/* ---- the step machine -------------------------------------------------- */

/* Give back the signals held during single-steps: the first with the
 * thread's next resume (unless it has one to deliver already), the others
 * sent again (they come back as new signal stops, passed quietly). */
static void release_held(struct dbg_proc *p, struct dbg__thread *t)
{
	uint64_t m = t->step.held_sigs;
	t->step.held_sigs = 0;
	for (int sig = 1; m && sig <= 64; sig++) {
		if (!(m & (1ull << (sig - 1))))
			continue;
		m &= ~(1ull << (sig - 1));
		if (!t->pending_sig)
			t->pending_sig = sig;
		else
			syscall(SYS_tgkill, p->pid, t->tid, sig);
	}
}

/* The thread is about to be single-stepped: a signal it would be given
 * that the caller passes without an event is held instead (see
 * held_sigs), so that no handler is entered under the trap flag. A
 * reported signal the caller resumes with is the caller's: it is given,
 * and the step ends in the handler. */
static void hold_quiet(struct dbg_proc *p, struct dbg__thread *t)
{
	int sig = t->pending_sig;
	if (sig <= 0 || sig > 64)
		return;
	int pol = dbg_signal_policy(p, sig);
	if (pol < 0 || (pol & DBG_SIGNAL_STOP))
		return;
	if (pol & DBG_SIGNAL_PASS)
		t->step.held_sigs |= 1ull << (sig - 1);
	t->pending_sig = 0;
}

static void finish(struct dbg_proc *p, struct dbg__thread *t, enum dbg_step_end end,
		   const struct dbg_regs *r)
{
	struct dbg__step_thread *st = &t->step;
	/* Never an int3 of ours left behind, whatever ended the step. */
	dbg__bp_internal_remove(p, t);
	st->free = false;
	st->has_result = true;
	st->res_kind = (uint8_t)(st->active - 1);
	st->res_end = (uint8_t)end;
	st->res_steps = st->nsteps;
	st->res_pc = r ? r->rip : 0;
	st->res_rax = r ? r->rax : 0;
	st->res_rdx = r ? r->rdx : 0;
	st->active = 0;
	st->inflight = false;
	st->resend = false;
	release_held(p, t);
}

/*
 * The thread is to run until it is back at st->ret (a call stepped over,
 * a frame stepped out of): rather than single-step the callee, put an
 * internal breakpoint for this thread at the return address and let it
 * run free (PTRACE_CONT) to it. Cannot (no int3 there): single-steps, as
 * before.
 */
static void go_free(struct dbg_proc *p, struct dbg__thread *t)
{
	struct dbg__step_thread *st = &t->step;
	pid_t tid = t->tid;
	int e = dbg__bp_internal_insert(p, tid, st->ret.pc, DBG__BP_OWNER_STEP);
	t = dbg__thread_find(p, tid);
	if (!t)
		return;
	st = &t->step;
	if (e < 0) {
		dbg__log(p, DBG_LOG_DEBUG, "step: no breakpoint at return address %#llx (%d): single-stepping",
			 (unsigned long long)st->ret.pc, e);
		return;
	}
	st->free = true;
	st->free_ran = false;
	st->free_reported = dbg__bp_reported(t);
	release_held(p, t); /* running free, a handler may run */
}

/* Since it last ran free, the thread stopped for a breakpoint or a
 * watchpoint another module reported (watch.fired is the last stop's,
 * cleared at each resume). */
static bool free_ended(const struct dbg__thread *t)
{
	const struct dbg__step_thread *st = &t->step;
	return st->free_ran && (dbg__bp_reported(t) != st->free_reported || t->watch.fired);
}

static void step_resume(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)p;
	if (t->step.active && t->step.free)
		t->step.free_ran = true;
}

bool dbg__step_wants_single(const struct dbg__thread *t)
{
	return t->step.active && !t->step.free;
}

/* A call from the stepping frame just ran (pc is the callee's entry):
 * what a line step does with it. */
static enum verdict entered_call(struct dbg_proc *p, struct dbg__thread *t, uint64_t pc)
{
	struct dbg__step_thread *st = &t->step;
	st->ret.pc = st->call_ret_pc;
	st->ret.sp = st->call_ret_sp;
	st->phase = P_RETURN;
	if (st->active - 1 != DBG_STEP_LINE) {
		go_free(p, t);
		return V_GO_ON;
	}
	struct row r;
	uint64_t fn = pc;
	if (!line_row(st->sym, fn, &r)) {
		uint64_t real = plt_target(p, st->sym, pc);
		if (!real || !line_row(st->sym, real, &r)) {
			go_free(p, t); /* no line information: run it to its return */
			return V_GO_ON;
		}
		fn = real;
	}
	st->runto = after_prologue(p, st->sym, fn);
	if (st->runto == pc)
		return V_DONE;
	st->phase = P_RUNTO;
	return V_GO_ON;
}

/* Leaving the range of a line step at @pc, not through a call. */
static enum verdict left_range(struct dbg__thread *t, uint64_t pc)
{
	struct dbg__step_thread *st = &t->step;
	struct row r;
	if (!line_row(st->sym, pc, &r))
		return V_DONE; /* code without line information */
	uint64_t fh = hash_str(r.file);
	/* The row's range is stepped next in any case; its line becomes the
	 * line stepped from unless this is the start of a row of another
	 * line that is not a statement: then a statement row of that same
	 * line further on still ends the step. */
	st->start = r.start;
	st->end = r.end;
	if (pc == r.start && (r.line != st->line || fh != st->file_hash)) {
		if (r.is_stmt)
			return V_DONE;
		return V_GO_ON;
	}
	st->line = r.line;
	st->file_hash = fh;
	return V_GO_ON;
}

/* Is a breakpoint that reports hits of @tid inserted at @pc? */
static bool bp_here(struct dbg_proc *p, pid_t tid, uint64_t pc)
{
	struct dbg_bp *buf[64], **bps = buf;
	int n = dbg_bp_list(p, buf, 64);
	if (n > 64) {
		bps = malloc((size_t)n * sizeof(*bps));
		if (!bps)
			return false;
		n = dbg_bp_list(p, bps, (size_t)n);
	}
	bool hit = false;
	for (int i = 0; i < n && !hit; i++) {
		struct dbg_bp_info in;
		hit = dbg_bp_info(bps[i], &in) == 0 && in.addr == pc && in.inserted &&
		      (!in.tid || in.tid == tid);
	}
	if (bps != buf)
		free(bps);
	return hit;
}

/* The thread completed one single-step and stands at @r: is the step over? */
static enum verdict advance(struct dbg_proc *p, struct dbg__thread *t, const struct dbg_regs *r)
{
	struct dbg__step_thread *st = &t->step;
	enum dbg_step_kind kind = (enum dbg_step_kind)(st->active - 1);
	uint64_t pc = r->rip, sp = r->rsp;
	st->nsteps++;
	switch (kind) {
	case DBG_STEP_INSN:
		return V_DONE;
	case DBG_STEP_RANGE:
		return pc >= st->start && pc < st->end ? V_GO_ON : V_DONE;
	case DBG_STEP_OVER:
		if (st->phase == P_FIRST) {
			if (!st->stepping_call || pc == st->call_ret_pc)
				return V_DONE;
			st->ret.pc = st->call_ret_pc;
			st->ret.sp = st->call_ret_sp;
			st->phase = P_RETURN;
			go_free(p, t);
			return V_GO_ON;
		}
		/* fallthrough */
	case DBG_STEP_OUT:
	case DBG_STEP_FINISH:
		/* Back in the frame, or it was unwound past (longjmp). */
		if ((pc == st->ret.pc && sp >= st->ret.sp) || sp > st->ret.sp)
			return V_DONE;
		return V_GO_ON;
	case DBG_STEP_LINE:
	case DBG_STEP_NEXT:
		break;
	}
	switch (st->phase) {
	case P_RETURN:
		if (sp < st->ret.sp)
			return V_GO_ON;
		st->phase = P_RANGE;
		break; /* back in the caller: where are we? */
	case P_RUNTO:
		if (pc == st->runto)
			return V_DONE;
		if (sp < st->ret.sp)
			return V_GO_ON;
		st->phase = P_RANGE; /* it returned before its prologue ended */
		break;
	default:
		if (st->stepping_call && pc != st->call_ret_pc)
			return entered_call(p, t, pc);
		break;
	}
	if (pc >= st->start && pc < st->end)
		return V_GO_ON;
	return left_range(t, pc);
}

/* ---- hooks ------------------------------------------------------------ */

static uint64_t bp_quiet_count(const struct dbg_proc *p)
{
	return dbg__bp_quiet_count(p);
}

/* Decode the instruction the thread is about to single-step. */
static int arm(struct dbg_proc *p, struct dbg__thread *t)
{
	struct dbg__step_thread *st = &t->step;
	struct dbg_regs r;
	int e = dbg_regs_get(p, t->tid, &r);
	if (e < 0)
		return e;
	struct dbg_insn in;
	st->stepping_call = st->stepping_syscall = false;
	if (dbg__disasm_at(p, r.rip, &in) == 0) {
		st->stepping_call = in.kind == DBG_INSN_CALL;
		st->stepping_syscall = in.kind == DBG_INSN_SYSCALL;
		st->call_ret_pc = r.rip + in.len;
		st->call_ret_sp = r.rsp;
	}
	st->last_pc = r.rip;
	st->bp_quiet = bp_quiet_count(p);
	st->inflight = true;
	return 0;
}

static enum dbg__disposition stepped(struct dbg_proc *p, struct dbg__thread *t,
				     struct dbg_event *ev);

/* Our single-step of a syscall instruction is in flight and the thread
 * stopped with its pc past the instruction, before the trap: a ptrace
 * event inside the call (clone, fork, vfork, an interrupt). */
static bool in_syscall_stop(struct dbg_proc *p, struct dbg__thread *t)
{
	struct dbg__step_thread *st = &t->step;
	struct dbg_regs r;
	return st->inflight && st->stepping_syscall && !st->primed && dbg_regs_get(p, t->tid, &r) == 0 &&
	       r.rip == st->call_ret_pc;
}

static int step_prepare(struct dbg_proc *p, struct dbg__thread *t, int *req)
{
	struct dbg__step_thread *st = &t->step;
	if (!st->active)
		return 0;
	if (st->free) {
		/* Running free to the return address. A breakpoint or
		 * watchpoint reported for the thread meanwhile (another
		 * module's stop, which we do not see) ended the step; any
		 * other stop (swallowed, a syscall-stop, an event inside a
		 * call) lets it run on. */
		if (free_ended(t)) {
			finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
			return 0;
		}
		if (*req == PTRACE_SINGLESTEP)
			*req = PTRACE_CONT;
		st->inflight = false;
		return 0;
	}
	if (st->primed) {
		st->primed = false;
		hold_quiet(p, t);
		*req = PTRACE_SINGLESTEP;
		return 0;
	}
	if (st->inflight && in_syscall_stop(p, t)) {
		/* Stopped inside the system call we are stepping (a clone,
		 * fork or exec event, or an interrupt while it blocks): the
		 * instruction has not ended; its trap comes once the call
		 * returns. */
		*req = PTRACE_SINGLESTEP;
		return 0;
	}
	if (st->inflight && st->resend) {
		/* A signal passed without an event stopped the thread before
		 * the single-step's trap; it is held (step_stop()). */
		st->resend = false;
		hold_quiet(p, t);
		*req = PTRACE_SINGLESTEP;
		return 0;
	}
	if (st->inflight && t->interrupted) {
		/* Our interrupt stopped it (a stop of every thread in
		 * all-stop, dbg_proc_stop(), a stale interrupt after the
		 * resume) before the single-step's trap: either the
		 * instruction has not run, or it has and its SIGTRAP is
		 * still pending (the kernel takes a jobctl trap before
		 * dequeuing signals). Either way asking again is right: the
		 * step runs the instruction, or the pending trap is reported
		 * at once. Not re-armed: the trap belongs to the instruction
		 * decoded before. */
		hold_quiet(p, t);
		*req = PTRACE_SINGLESTEP;
		return 0;
	}
	if (st->inflight) {
		/* Our last single-step's trap never reached us. If the
		 * thread ran into a breakpoint that the bp module swallowed
		 * (another thread's, an internal one) and bp has just stepped
		 * over it for us, that instruction was ours: take it as our
		 * trap. Anything else stopped the thread for an event of its
		 * own, which ended the step. */
		struct dbg_regs r;
		if (bp_quiet_count(p) != st->bp_quiet && dbg_regs_get(p, t->tid, &r) == 0 &&
		    r.rip != st->last_pc) {
			struct dbg_event ev = { .kind = DBG_EVENT_TRAP, .tid = t->tid, .signo = SIGTRAP };
			ev.siginfo.signo = SIGTRAP;
			ev.siginfo.code = TRAP_TRACE;
			enum dbg__disposition d = stepped(p, t, &ev);
			if (d == D_REPORT) {
				dbg__event_push(p, &ev);
				return 1; /* stays stopped; its event is queued */
			}
			if (!st->active)
				return 0;
		} else {
			finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
			return 0;
		}
	}
	int e = arm(p, t);
	if (e < 0)
		return e;
	hold_quiet(p, t);
	*req = PTRACE_SINGLESTEP;
	return 0;
}

/* Our single-step ended (*ev is its trap): go on or report the step. */
static enum dbg__disposition stepped(struct dbg_proc *p, struct dbg__thread *t,
				     struct dbg_event *ev)
{
	struct dbg__step_thread *st = &t->step;
	st->inflight = false;
	st->primed = false;
	t->pending_sig = 0;
	if (st->into_bp) {
		/* The int3 we stepped into was not reported (removed
		 * meanwhile): the step ends here. */
		struct dbg_regs r;
		if (dbg_regs_get(p, t->tid, &r) < 0) {
			finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
			return D_NONE;
		}
		finish(p, t, DBG_STEP_END_DONE, &r);
		memset(ev, 0, sizeof(*ev));
		ev->kind = DBG_EVENT_STEP;
		ev->tid = t->tid;
		ev->addr = r.rip;
		return D_REPORT;
	}
	struct dbg_regs r;
	if (dbg_regs_get(p, t->tid, &r) < 0) {
		finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
		return D_NONE;
	}
	if (advance(p, t, &r) == V_GO_ON)
		return D_QUIET;
	if (bp_here(p, t->tid, r.rip) && !st->into_bp) {
		/* The step ends on a breakpoint: as gdb, report it as hit.
		 * One more single-step runs into the int3, and the bp module
		 * reports the hit (pc rewound to here, counted), which ends
		 * the step. */
		st->into_bp = true;
		return D_QUIET;
	}
	finish(p, t, DBG_STEP_END_DONE, &r);
	memset(ev, 0, sizeof(*ev));
	ev->kind = DBG_EVENT_STEP;
	ev->tid = t->tid;
	ev->addr = r.rip;
	return D_REPORT;
}

/* A stop of a thread running free to the return address. */
static enum dbg__disposition free_stop(struct dbg_proc *p, struct dbg__thread *t,
				       struct dbg_event *ev, bool ibp)
{
	struct dbg__step_thread *st = &t->step;
	if (!ibp) {
		if (ev->kind == DBG_EVENT_TRAP && ev->signo == (SIGTRAP | 0x80))
			return D_NONE; /* a syscall-stop: the sys module's */
		/* A signal the caller does not want to hear of (no
		 * DBG_SIGNAL_STOP, as gdb's `handle SIGURG nostop`): the sys
		 * module passes it on without an event, its handler runs and
		 * returns, and the thread runs on to the return address.
		 * Ending the step here would end it with no event at all:
		 * the caller would wait for a step that never comes (Go's
		 * SIGURG preemption during a finish, bp_real). */
		if (ev->kind == DBG_EVENT_SIGNAL && ev->signo > 0 &&
		    !(dbg_signal_policy(p, ev->signo) & DBG_SIGNAL_STOP))
			return D_NONE;
		/* A signal (or a trap of the program's own) ended it. */
		finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
		return D_NONE;
	}
	struct dbg_regs r;
	if (dbg_regs_get(p, t->tid, &r) < 0) {
		finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
		return D_QUIET;
	}
	if (r.rsp < st->ret.sp)
		return D_QUIET; /* a deeper activation returning there: run on */
	/* Back in the frame: the internal breakpoint goes, and the step
	 * goes on from here as after a single-step to here. */
	dbg__bp_internal_remove(p, t);
	st->free = false;
	enum dbg__disposition d = stepped(p, t, ev);
	if (d == D_QUIET && st->active) {
		/* The next instruction is single-stepped: decode it now, as
		 * dbg_step() does, in case the bp module steps it off a
		 * breakpoint (another thread's) in our place. */
		if (arm(p, t) < 0) {
			finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
			return D_NONE;
		}
		st->primed = true;
	}
	return d;
}

static enum dbg__disposition step_stop(struct dbg_proc *p, struct dbg__thread *t,
				       struct dbg_event *ev)
{
	struct dbg__step_thread *st = &t->step;
	bool ibp = dbg__bp_internal_hit(t, DBG__BP_OWNER_STEP);
	if (st->active && st->free)
		return free_stop(p, t, ev, ibp);
	if (!st->active || !st->inflight)
		return D_NONE;
	/* si_code SIGTRAP: the kernel entered a signal handler for the
	 * signal the thread was single-stepped with (signal_setup_done()
	 * reports a stepping thread at the handler's first instruction):
	 * the step's end, as gdb's stepi with a signal lands there. */
	bool mine = ev->kind == DBG_EVENT_TRAP && ev->signo == SIGTRAP &&
		    (ev->siginfo.code == TRAP_TRACE || ev->siginfo.code == SIGTRAP ||
		     (ev->siginfo.code == TRAP_BRKPT && st->stepping_syscall));
	if (!mine && ev->kind == DBG_EVENT_SIGNAL && ev->signo > 0 && ev->signo <= 64) {
		/* A signal the caller does not want to hear of: ending the
		 * step would end it with no event (the caller would wait for
		 * ever), and delivering it under the trap flag would enter
		 * the handler with a trap of the kernel's (si_code SIGTRAP)
		 * nobody claims. Held until the step ends or runs free; the
		 * single-step is asked again. */
		int pol = dbg_signal_policy(p, ev->signo);
		if (pol >= 0 && !(pol & DBG_SIGNAL_STOP)) {
			if (pol & DBG_SIGNAL_PASS)
				st->held_sigs |= 1ull << (ev->signo - 1);
			t->pending_sig = 0;
			st->resend = true;
			return D_QUIET;
		}
	}
	if (!mine) {
		/* A signal (or a trap of the program's own) ended it. */
		st->inflight = false;
		finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
		return D_NONE;
	}
	if (st->stepping_syscall && ev->siginfo.code == TRAP_BRKPT) {
		/* The call was interrupted (our stop while it blocked: a
		 * stop-all, dbg_proc_stop()) and leaves the kernel only
		 * after it is restarted at the next resume: rax holds an
		 * -ERESTART* code and, resumed without a signal, the kernel
		 * puts pc back on the syscall instruction. The trap of that
		 * exit is the step's, not this one: reported now, the step
		 * would end at pc + 2 and the restart's trap would come as a
		 * stray SIGTRAP in the next step (step_signals). */
		struct dbg_regs r;
		if (dbg_regs_get(p, t->tid, &r) == 0) {
			int64_t rv = (int64_t)r.rax;
			if (rv == -512 || rv == -513 || rv == -514 || rv == -516) {
				t->pending_sig = 0;
				st->resend = true;
				return D_QUIET;
			}
		}
	}
	enum dbg__disposition d = stepped(p, t, ev);
	if (d == D_QUIET && dbg__bp_stepped_off(t)) {
		/* The bp module single-stepped our instruction off its
		 * breakpoint (a step that starts on one) and waits for this
		 * trap inside its prepare hook, which then tells proc the
		 * thread was resumed: resume it ourselves, as our prepare
		 * would have. */
		if (st->free) {
			/* The call went into a callee that runs free: through
			 * the prepare chain (sys may catch its syscalls). */
			int req = PTRACE_CONT, e = dbg__hook_prepare(p, t, &req);
			if (e == 1)
				return D_QUIET;
			if (e == 0 && st->active && ptrace(req, t->tid, 0, 0) == 0) {
				t->state = T_RUNNING;
				dbg__hook_resume(p, t);
				return D_QUIET;
			}
			finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
			return D_QUIET;
		}
		if (arm(p, t) < 0 || ptrace(PTRACE_SINGLESTEP, t->tid, 0, 0) < 0) {
			st->inflight = false;
			finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
			return D_QUIET;
		}
		t->state = T_RUNNING;
		dbg__hook_resume(p, t);
	}
	return d;
}

static void step_exec(struct dbg_proc *p, struct dbg__thread *t)
{
	if (t->step.active)
		finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
}

static void step_detach(struct dbg_proc *p, struct dbg__thread *t)
{
	dbg__bp_internal_remove(p, t);
	t->step.free = false;
	t->step.active = 0;
	t->step.inflight = false;
	t->step.resend = false;
	release_held(p, t); /* detached with the first, the others sent again */
}

static void step_fini(struct dbg_proc *p)
{
	dbg__disasm_close(p);
}

const struct dbg__hooks dbg__step_hooks = {
	.name = "step",
	.prepare = step_prepare,
	.resume = step_resume,
	.stop = step_stop,
	.exec = step_exec,
	.detach = step_detach,
	.fini = step_fini,
};

/* ---- public ------------------------------------------------------------ */

/*
 * A thread in a ptrace-stop with our single-step still in flight stopped
 * for an event another module claimed and reported (a breakpoint or
 * watchpoint hit during the step): that ended the step. (Our own
 * continuing stops clear inflight before the thread is resumed.)
 */
static void ended_elsewhere(struct dbg_proc *p, struct dbg__thread *t)
{
	struct dbg__step_thread *st = &t->step;
	if (st->active && st->free && t->state == T_STOPPED && free_ended(t)) {
		finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
		return;
	}
	if (st->active && st->inflight && !st->primed && t->state == T_STOPPED &&
	    !t->interrupted && !st->resend && !dbg__bp_stepping_off(t) && !in_syscall_stop(p, t))
		finish(p, t, DBG_STEP_END_INTERRUPTED, NULL);
}

static int setup_out(struct dbg_proc *p, pid_t tid, const struct dbg_step_opts *o,
		     struct dbg__step_ret *ret)
{
	struct dbg_unwinder *u = o->unwinder;
	int r = 0;
	if (!u && (r = dbg_unwind_new(p, o->sym, NULL, &u)) < 0)
		return dbg__fail(p, r, "stepping out of thread %d's frame: no unwinder", tid);
	struct dbg_frame f[2];
	int n = dbg_unwind_thread(u, tid, f, 2);
	if (!o->unwinder)
		dbg_unwind_free(u);
	if (n < 0)
		return dbg__fail(p, n, "stepping out of thread %d's frame: cannot unwind", tid);
	if (n < 2)
		return dbg__fail(p, -ENOENT, "stepping out of thread %d's frame: it has no caller",
				 tid);
	ret->pc = f[1].pc;
	ret->sp = f[1].sp;
	return 0;
}

int dbg_step(struct dbg_proc *p, pid_t tid, enum dbg_step_kind kind, const struct dbg_step_opts *opts)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (opts && !dbg__opts_valid(opts, sizeof(*opts)))
		return dbg__fail(p, -EINVAL, "dbg_step: bad options");
	struct dbg_step_opts o = { 0 };
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if ((unsigned)kind > DBG_STEP_RANGE)
		return dbg__fail(p, -EINVAL, "dbg_step: unknown kind %d", (int)kind);
	bool need_sym = kind == DBG_STEP_OUT || kind == DBG_STEP_FINISH || kind == DBG_STEP_LINE ||
			kind == DBG_STEP_NEXT;
	if (need_sym && (!o.sym || o.sym->proc != p))
		return dbg__fail(p, -EINVAL, "dbg_step: this kind needs the proc's struct dbg_sym");
	if (kind == DBG_STEP_RANGE && o.start >= o.end)
		return dbg__fail(p, -EINVAL, "dbg_step: empty range [0x%" PRIx64 ", 0x%" PRIx64 ")",
				 o.start, o.end);
	struct dbg__thread *t;
	r = dbg__stopped_thread(p, tid, &t);
	if (r < 0)
		return r;
	ended_elsewhere(p, t);
	if (t->step.active)
		return dbg__fail(p, -EBUSY, "thread %d is already stepping", tid);
	struct dbg_regs regs;
	if ((r = dbg_regs_get(p, tid, &regs)) < 0)
		return r;
	struct dbg__step_thread st = { 0 };
	st.sym = o.sym;
	st.phase = P_RANGE;
	switch (kind) {
	case DBG_STEP_OVER:
		st.phase = P_FIRST;
		break;
	case DBG_STEP_RANGE:
		st.start = o.start;
		st.end = o.end;
		break;
	case DBG_STEP_OUT:
	case DBG_STEP_FINISH:
		if ((r = setup_out(p, tid, &o, &st.ret)) < 0)
			return r;
		st.phase = P_RETURN;
		break;
	case DBG_STEP_LINE:
	case DBG_STEP_NEXT: {
		struct row row;
		struct dbg_symbol fs;
		if (line_row(o.sym, regs.rip, &row)) {
			st.start = row.start;
			st.end = row.end;
			st.line = row.line;
			st.file_hash = hash_str(row.file);
		} else if (dbg_sym_lookup(o.sym, regs.rip, &fs) == 0 && fs.size) {
			/* No line here: run to the end of the function. */
			st.start = fs.addr;
			st.end = fs.addr + fs.size;
		} else {
			st.start = regs.rip;
			st.end = regs.rip + 1;
		}
		break;
	}
	case DBG_STEP_INSN:
		break;
	}
	/* Looking at the thread may have moved the table: find it again. */
	t = dbg__thread_find(p, tid);
	if (!t)
		return dbg__fail(p, -ESRCH, "thread %d is gone", tid);
	st.active = (uint8_t)(kind + 1);
	t->step = st;
	/* Before the bp module's prepare, which may single-step the first
	 * instruction off a breakpoint in our place. */
	if (kind != DBG_STEP_OUT && kind != DBG_STEP_FINISH)
		hold_quiet(p, t);
	if (kind == DBG_STEP_OUT || kind == DBG_STEP_FINISH) {
		/* Run free to the return address (an internal breakpoint
		 * for this thread); single-steps if it cannot be put there. */
		go_free(p, t);
		t = dbg__thread_find(p, tid);
		if (!t)
			return dbg__fail(p, -ESRCH, "thread %d is gone", tid);
		if (t->step.free) {
			r = dbg_proc_resume_thread(p, tid);
			if (r < 0) {
				t = dbg__thread_find(p, tid);
				if (t) {
					dbg__bp_internal_remove(p, t);
					memset(&t->step, 0, sizeof(t->step));
				}
				return r;
			}
			return 0;
		}
	}
	/* Decode the first instruction now: if the thread stands on a
	 * breakpoint, the bp module's prepare runs before ours, steps it
	 * off and waits for the trap itself. */
	if ((r = arm(p, t)) < 0) {
		memset(&t->step, 0, sizeof(t->step));
		return r;
	}
	t->step.primed = true;
	r = dbg_proc_step_thread(p, tid);
	if (r < 0) {
		t = dbg__thread_find(p, tid);
		if (t)
			memset(&t->step, 0, sizeof(t->step));
		return r;
	}
	return 0;
}

int dbg_step_cancel(struct dbg_proc *p, pid_t tid)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	struct dbg__thread *t = dbg__thread_find(p, tid);
	if (!t)
		return dbg__fail(p, -ENOENT, "no thread %d in process %d", tid, p->pid);
	if (t->step.active)
		finish(p, t, DBG_STEP_END_CANCELLED, NULL);
	return 0;
}

int dbg_step_result(struct dbg_proc *p, pid_t tid, struct dbg_step_result *ret)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!ret)
		return -EINVAL;
	struct dbg__thread *t = dbg__thread_find(p, tid);
	if (!t)
		return dbg__fail(p, -ENOENT, "no thread %d in process %d", tid, p->pid);
	ended_elsewhere(p, t);
	if (t->step.active)
		return -EBUSY;
	if (!t->step.has_result)
		return dbg__fail(p, -ENOENT, "thread %d has not finished a step", tid);
	struct dbg__step_thread *st = &t->step;
	*ret = (struct dbg_step_result){
		.kind = (enum dbg_step_kind)st->res_kind,
		.end = (enum dbg_step_end)st->res_end,
		.pc = st->res_pc,
		.steps = st->res_steps,
		.rax = st->res_rax,
		.rdx = st->res_rdx,
	};
	return 0;
}
