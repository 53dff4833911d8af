/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run control on real programs: Go (async preemption by SIGURG, many
 * runtime threads), Rust, C++ -O2 throwing and catching, gcc -static,
 * 1,000 threads, busybox (static, stripped), python3 and node (their JIT,
 * GC and worker threads), in all-stop and non-stop mode.
 *
 * The programs are tests/corpus/rc_* (built here by rc_build.sh; each
 * calls one function over and over in several threads, writes a byte to
 * /dev/null in the same loop, and on a line on stdin stops and prints
 * "done ok N"). For each, started untraced and attached once it runs:
 *   1. a breakpoint on the function (Go's main.hot, Rust's rc_hot, C++'s
 *      catcher(int), rc_hot in the static and 1,000-thread programs,
 *      libc's write under python3 and malloc under node), its address
 *      checked against the symbol table of the file (nm) plus the load
 *      bias from /proc/PID/maps; busybox has no symbols: the syscall
 *      instruction of its write(2) wrapper, found by catching a write
 *      (0f 05 before the entry stop's pc); the int3 seen in
 *      /proc/PID/mem, never in dbg_mem_read();
 *   2. N hits, each: event.addr == rip == the address, the symbol there
 *      is the function at offset 0, the unwinder's frame 1 is the return
 *      address the raw stack holds at *(rsp) with sp == rsp + 8 (and for
 *      our own programs, the caller's symbol); hits from several threads;
 *      in C++ from a call whose callee throws;
 *   3. at one more hit: a single-step (pc = next instruction, or the
 *      callee's entry), step-overs (a call runs to its return: pc = the
 *      instruction after it), a finish (pc = that return address, rsp =
 *      the entry's + 8, the end DONE);
 *   4. the breakpoint removed: no hit after, the original byte back;
 *   5. a hardware write watchpoint on a global that changes (the
 *      program's counter; for python3 a word of _PyRuntime, for node one
 *      of libc's main_arena, for busybox, whose data does not change, one
 *      of its heap; picked by watching them change): hits at that
 *      address, the value moved;
 *   6. write(2) caught: entries with orig_rax == sysno and exits in the
 *      same thread returning the count asked for;
 *   7. detach: no thread traced, every file-backed executable mapping
 *      byte-identical through /proc/PID/mem to before the attach; then the
 *      program runs on untraced for a while, is told to stop, and must
 *      print "done ok" and exit 0 (no SIGTRAP death, no lost signal).
 * Every signal met is passed on (Go's SIGURG); a SIGTRAP reaching the
 * program (DBG_EVENT_TRAP or a SIGTRAP signal) fails the test.
 *
 * Usage: test_bp_real allstop|nonstop PROGRAM...
 *        (PROGRAM: go rust cxx static 1000 busybox python node; none: all)
 * Exit 77 only when a program's toolchain is missing (saying which).
 */
#include "../harness.h"

#include <elf.h>
#include <inttypes.h>

#define NOW_MS() now_ms()

/* busybox: ash reads stdin with a 1 ms timeout (poll), and writes a line
 * to /dev/null (its builtin echo: write(2)) each time round. */
#define BUSYBOX_SCRIPT                                                               \
	"echo ready; n=0; while ! read -t 0.001 l; do echo x >/dev/null; n=$((n+1)); " \
	"done; echo \"done ok $n\""


struct prog {
	const char *name;
	const char *tool;   /* the interpreter or compiler it needs */
	const char *pkg;
	const char *file;   /* corpus binary, or the script (run by tool) */
	const char *arg;
	const char *func;   /* breakpoint symbol */
	const char *caller; /* demangled caller must contain this; NULL: any */
	const char *watch;  /* global to watch (8 bytes at its start) */
	bool watch_scan;    /* watch a word of that object seen changing */
	int hits;
	int min_threads;    /* distinct threads among the hits */
	bool step_odd_arg;  /* step from a hit whose first argument is odd */
	bool goroutines;    /* M:N threads: a step may be ended by another
			     * goroutine's hit on its thread */
};

static const struct prog progs[] = {
	{ "go", "/usr/bin/go", "golang-go", "rc_go", NULL, "main.hot", "main.worker",
	  "main.counter", false, 40, 2, false, true },
	{ "rust", "/usr/bin/rustc", "rustc", "rc_rust", NULL, "rc_hot", "__rust_begin_short_backtrace",
	  "RC_COUNTER", false, 40, 2, false, false },
	{ "cxx", "/usr/bin/g++", "g++", "rc_cxx", NULL, "_Z7catcheri", "main",
	  "rc_counter", false, 40, 2, true, false },
	{ "static", "/usr/bin/gcc", "gcc", "rc_static", NULL, "rc_hot", "worker", "rc_counter",
	  false, 40, 2, false, false },
	{ "1000", "/usr/bin/gcc", "gcc", "rc_1000", "1000", "rc_hot", "worker", "rc_counter",
	  false, 12, 2, false, false },
	{ "busybox", "/bin/busybox", "busybox-static", "@@busybox", NULL, NULL, NULL, "@heap",
	  true, 30, 1, false, false },
	{ "python", "/usr/bin/python3", "python3", "@rc_py.py", NULL, "write", NULL,
	  "_PyRuntime", true, 40, 2, false, false },
	{ "node", "/usr/bin/node", "nodejs", "@rc_node.js", NULL, "malloc", NULL, "main_arena",
	  true, 40, 2, false, false },
};

static const struct prog *P;
static bool allstop;
static struct dbg_proc *proc;
static struct dbg_sym *sym;
static struct dbg_unwinder *unw;
static struct dbg_disasm *dis;
static struct inferior inf;
static uint64_t bp_addr;
static struct dbg_bp *bp;
static bool bp_live;
static struct dbg_watch *watch;
static uint64_t watch_addr, watch_last;
static int nsig[65], nhits_other, nwatch_other, nsys_other;
static pid_t hit_tids[64];
static int nhit_tids;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *kind_str(enum dbg_event_kind k)
{
	static const char *n[] = { "NONE", "STOPPED", "SIGNAL", "TRAP", "CLONE", "FORK", "VFORK",
				   "EXEC", "THREAD_EXIT", "EXITED", "KILLED", "GROUP_STOP",
				   "BREAKPOINT", "WATCHPOINT", "STEP", "SYSCALL_ENTRY",
				   "SYSCALL_EXIT", "MODULES" };
	return (unsigned)k < sizeof(n) / sizeof(n[0]) ? n[k] : "?";
}

/* ---- oracles independent of libdbg ---- */

/* The symbol's value in FILE's symbol table (nm), dynamic table as a
 * fallback; a versioned name ("malloc@@GLIBC_2.2.5") matches. */
static bool nm_value(const char *file, const char *name, uint64_t *ret)
{
	static const char *const flags[] = { "--defined-only", "-D --defined-only" };
	for (int i = 0; i < 2; i++) {
		char cmd[4200], line[1024];
		snprintf(cmd, sizeof(cmd), "nm %s '%s' 2>/dev/null", flags[i], file);
		FILE *f = popen(cmd, "r");
		CHECK(f, "popen nm");
		bool found = false;
		while (!found && fgets(line, sizeof(line), f)) {
			char t[8], n[900];
			unsigned long long v;
			if (sscanf(line, "%llx %7s %899s", &v, t, n) != 3)
				continue;
			n[strcspn(n, "@")] = 0;
			if (!strcmp(n, name) && strchr("TtWiBbDd", t[0])) {
				*ret = v;
				found = true;
			}
		}
		pclose(f);
		if (found)
			return true;
	}
	return false;
}

/* The load bias of FILE in PID: 0 for ET_EXEC, else the start of its
 * mapping at file offset 0 (the corpus' and Debian's libraries and PIEs
 * link their first PT_LOAD at 0). */
static uint64_t maps_bias(pid_t pid, const char *file)
{
	Elf64_Ehdr eh;
	FILE *e = fopen(file, "rb");
	CHECK(e && fread(&eh, sizeof(eh), 1, e) == 1, "read ELF header of %s", file);
	fclose(e);
	if (eh.e_type == ET_EXEC)
		return 0;
	char path[64], line[4200];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	CHECK(f, "open %s", path);
	uint64_t bias = 0;
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long s, off;
		char p[4096] = "";
		if (sscanf(line, "%llx-%*x %*s %llx %*s %*u %4095s", &s, &off, p) >= 2 &&
		    off == 0 && !strcmp(p, file)) {
			bias = s;
			found = true;
		}
	}
	fclose(f);
	CHECK(found, "%s not mapped in %d", file, pid);
	return bias;
}

/* Every file-backed executable mapping, read through /proc/PID/mem. */
struct textmap {
	uint64_t start, end;
	uint8_t *bytes;
};
static struct textmap before[256];
static int nbefore;

static int read_texts(pid_t pid, struct textmap *out, int cap)
{
	char path[64], line[4200];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	CHECK(f, "open %s", path);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open %s", path);
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, ino;
		char perms[8], p[4096] = "";
		if (sscanf(line, "%llx-%llx %7s %*x %*s %llu %4095s", &s, &e, perms, &ino, p) < 4 ||
		    perms[2] != 'x' || ino == 0 || p[0] != '/')
			continue;
		CHECK(n < cap, "too many executable mappings");
		out[n].start = s;
		out[n].end = e;
		out[n].bytes = malloc(e - s);
		CHECK(out[n].bytes, "malloc");
		CHECK(pread(fd, out[n].bytes, e - s, (off_t)s) == (ssize_t)(e - s),
		      "read %llx-%llx (%s)", s, e, p);
		n++;
	}
	close(fd);
	fclose(f);
	return n;
}

/* ---- the event loop ---- */

static void resume_after(const struct dbg_event *ev)
{
	if (ev->kind == DBG_EVENT_THREAD_EXIT)
		return;
	if (allstop || ev->kind == DBG_EVENT_CLONE || ev->kind == DBG_EVENT_STOPPED)
		OK(dbg_proc_resume(proc));
	else
		OK(dbg_proc_resume_thread(proc, ev->tid));
}

static char *demangled(const char *name, char *buf, size_t cap)
{
	if (dbg_sym_demangle(name, buf, cap) < 0)
		snprintf(buf, cap, "%s", name);
	return buf;
}

/* Every reported breakpoint hit is checked, whoever waits for it. */
static void check_hit(const struct dbg_event *ev, struct dbg_frame *ret_caller)
{
	CHECK(ev->bp == bp && bp_live, "%s: hit of an unknown or removed breakpoint %p",
	      P->name, (void *)ev->bp);
	CHECK(ev->addr == bp_addr, "%s: event.addr %" PRIx64 " != %" PRIx64, P->name, ev->addr,
	      bp_addr);
	struct dbg_regs r;
	OK(dbg_regs_get(proc, ev->tid, &r));
	CHECK(r.rip == bp_addr, "%s: tid %d rip %" PRIx64 " != breakpoint %" PRIx64, P->name,
	      ev->tid, r.rip, bp_addr);
	struct dbg_symbol s;
	if (P->func) {
		OK(dbg_sym_lookup(sym, r.rip, &s));
		CHECK(s.addr == bp_addr && s.offset == 0 && strstr(s.name, P->func),
		      "%s: symbol at the hit is %s+%" PRIu64 ", not %s", P->name, s.name, s.offset,
		      P->func);
	} else {
		struct dbg_module m;
		OK(dbg_sym_module(sym, r.rip, &m));
		char real[4096];
		CHECK(realpath(P->tool, real), "realpath %s", P->tool);
		CHECK(!strcmp(m.path, real) && dbg_sym_lookup(sym, r.rip, &s) == -ENOENT,
		      "%s: the hit is in %s, a stripped %s was expected", P->name, m.path, P->tool);
	}
	struct dbg_frame f[2];
	int n = dbg_unwind_thread(unw, ev->tid, f, 2);
	CHECK(n == 2, "%s: tid %d: %d frames at the hit", P->name, ev->tid, n);
	uint64_t ret = peek_u64(inf.pid, r.rsp);
	CHECK(f[0].pc == bp_addr && f[1].pc == ret && f[1].sp == r.rsp + 8,
	      "%s: tid %d frames %" PRIx64 " %" PRIx64 "/%" PRIx64 ", the stack says return to %" PRIx64
	      " with sp %" PRIx64,
	      P->name, ev->tid, f[0].pc, f[1].pc, f[1].sp, ret, r.rsp + 8);
	if (P->caller) {
		char buf[1024];
		CHECK(dbg_sym_lookup(sym, f[1].pc - 1, &s) == 0 &&
			      strstr(demangled(s.name, buf, sizeof(buf)), P->caller),
		      "%s: caller of the hit is %s, not %s", P->name, buf, P->caller);
	}
	bool seen = false;
	for (int i = 0; i < nhit_tids; i++)
		seen |= hit_tids[i] == ev->tid;
	if (!seen && nhit_tids < 64)
		hit_tids[nhit_tids++] = ev->tid;
	if (ret_caller)
		*ret_caller = f[1];
}

static void dump_thread(void);

typedef bool (*want_fn)(const struct dbg_event *ev, void *ctx);

/* Wait until want() takes an event (its thread is left stopped), handling
 * and resuming everything else; fail after timeout_ms. want may be NULL:
 * drain for timeout_ms. */
static void ev_wait(want_fn want, void *ctx, struct dbg_event *ev, int timeout_ms,
		     const char *what)
{
	uint64_t end = NOW_MS() + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t now = NOW_MS();
		if (now >= end) {
			if (want)
				dump_thread();
			CHECK(!want, "%s %s: no %s within %d ms", P->name,
			      allstop ? "allstop" : "nonstop", what, timeout_ms);
			return;
		}
		int r = dbg_proc_wait(proc, (int)(end - now), ev);
		if (r == -ETIMEDOUT || r == -EAGAIN)
			continue;
		CHECK(r == 0, "%s: dbg_proc_wait = %d (%s) waiting for %s: %s", P->name, r,
		      dbg_strerror(r), what, dbg_proc_errmsg(proc));
		switch (ev->kind) {
		case DBG_EVENT_TRAP:
			CHECK(0, "%s: stray SIGTRAP in tid %d (si_code %d, pc?) while waiting for %s",
			      P->name, ev->tid, ev->siginfo.code, what);
			break;
		case DBG_EVENT_SIGNAL:
			CHECK(ev->signo != SIGTRAP && ev->signo != SIGSEGV && ev->signo != SIGILL &&
				      ev->signo != SIGBUS,
			      "%s: tid %d got signal %d (code %d addr %" PRIx64 ") waiting for %s",
			      P->name, ev->tid, ev->signo, ev->siginfo.code, ev->siginfo.addr, what);
			if (ev->signo > 0 && ev->signo < 65)
				nsig[ev->signo]++;
			break;
		case DBG_EVENT_EXITED:
		case DBG_EVENT_KILLED:
			CHECK(0, "%s: the program ended (%s, status %d signo %d) waiting for %s",
			      P->name, kind_str(ev->kind), ev->status, ev->signo, what);
			break;
		case DBG_EVENT_BREAKPOINT:
			check_hit(ev, NULL);
			break;
		case DBG_EVENT_WATCHPOINT:
			CHECK(ev->watch == watch && watch,
			      "%s: watchpoint event of an unknown or removed watch", P->name);
			break;
		default:
			break;
		}
		if (want && want(ev, ctx))
			return;
		switch (ev->kind) {
		case DBG_EVENT_BREAKPOINT:
			nhits_other++;
			break;
		case DBG_EVENT_WATCHPOINT:
			nwatch_other++;
			break;
		case DBG_EVENT_SYSCALL_ENTRY:
		case DBG_EVENT_SYSCALL_EXIT:
			nsys_other++;
			break;
		case DBG_EVENT_STEP:
			CHECK(0, "%s: a step event of tid %d nobody waits for", P->name, ev->tid);
			break;
		default:
			break;
		}
		resume_after(ev);
	}
}

static bool want_bp(const struct dbg_event *ev, void *ctx)
{
	(void)ctx;
	return ev->kind == DBG_EVENT_BREAKPOINT;
}

struct step_wait {
	pid_t tid;
	const char *what;
	bool interrupted;
};

static bool want_step(const struct dbg_event *ev, void *ctx)
{
	struct step_wait *w = ctx;
	if (ev->tid != w->tid)
		return false;
	if (ev->kind == DBG_EVENT_STEP)
		return true;
	/* Anything else of the stepping thread that ends its step. */
	struct dbg_step_result res;
	int r = dbg_step_result(proc, w->tid, &res);
	/* Go runs goroutines M:N: the stepped goroutine may be
	 * descheduled inside the call (a preemption request makes the
	 * callee's prologue call morestack, then schedule) and another one
	 * on the same thread hit the breakpoint: reported, it ends the step
	 * (as in gdb, whose steps are per thread too). Start again there. */
	if (P->goroutines && ev->kind == DBG_EVENT_BREAKPOINT && r == 0 &&
	    res.end == DBG_STEP_END_INTERRUPTED) {
		w->interrupted = true;
		return true;
	}
	CHECK(r == -EBUSY, "%s %s: tid %d: %s at %" PRIx64 " ended its %s (end %d)", P->name,
	      allstop ? "allstop" : "nonstop", w->tid, kind_str(ev->kind), ev->addr, w->what,
	      r == 0 ? (int)res.end : r);
	return false;
}

static bool want_entry(const struct dbg_event *ev, void *ctx)
{
	(void)ctx;
	return ev->kind == DBG_EVENT_SYSCALL_ENTRY;
}

/* ---- the phases ---- */

static int nhits_taken;

/* N hits, and on until they came from min_threads threads (node's main
 * thread calls malloc far more often than its workers), at most 5,000. */
static void phase_hits(void)
{
	struct dbg_event ev;
	int i = 0;
	for (; i < P->hits || (nhit_tids < P->min_threads && i < 5000); i++) {
		ev_wait(want_bp, NULL, &ev, 20000, "breakpoint hit");
		resume_after(&ev);
	}
	nhits_taken = i;
	CHECK(nhit_tids >= P->min_threads, "%s: %d hits in %d threads, want >= %d", P->name, i,
	      nhit_tids, P->min_threads);
}

static pid_t dump_tid;

static void dump_thread(void)
{
	if (!dump_tid)
		return;
	struct dbg_regs r;
	int e = dbg_regs_get(proc, dump_tid, &r);
	char path[96], buf[256] = "";
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", inf.pid, dump_tid);
	FILE *f = fopen(path, "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	fprintf(stderr, "tid %d: libdbg state %d, /proc state %c, regs %d rip %" PRIx64
		" rsp %" PRIx64 ", syscall '%s', bp stats:", dump_tid,
		dbg_proc_thread_state(proc, dump_tid), thread_state(inf.pid, dump_tid), e,
		e == 0 ? r.rip : 0, e == 0 ? r.rsp : 0, buf);
	struct dbg_bp_stats st;
	if (dbg_bp_get_stats(proc, &st) == 0)
		fprintf(stderr, " emulated %" PRIu64 " inplace %" PRIu64 " displaced %" PRIu64
			" paused %" PRIu64 "\n", st.emulated, st.inplace, st.displaced, st.paused);
}

static bool step_wait(pid_t tid, struct dbg_event *ev, const char *what)
{
	dump_tid = tid;
	struct step_wait w = { tid, what, false };
	ev_wait(want_step, &w, ev, 20000, what);
	return !w.interrupted;
}

static int nstep_retries;

static int phase_steps(void)
{
	struct dbg_event ev;
	struct dbg_frame caller;
	struct dbg_regs r;
	for (;;) {
		ev_wait(want_bp, NULL, &ev, 20000, "breakpoint hit to step from");
	retry:
		check_hit(&ev, &caller);
		OK(dbg_regs_get(proc, ev.tid, &r));
		/* C++: from a call whose thrower(int) throws (odd argument). */
		if (!P->step_odd_arg || (r.rdi & 1))
			break;
		resume_after(&ev);
	}
	pid_t tid = ev.tid;
	if (getenv("BP_REAL_LOG"))
		fprintf(stderr, "STEPPING %d\n", tid);
	uint64_t entry_sp = r.rsp;
	int nsteps = 0;
	bool threw = false;

	/* One instruction. */
	struct dbg_insn in;
	CHECK(dbg_disasm_read(dis, r.rip, 1, &in) == 1, "decode at %" PRIx64, r.rip);
	OK(dbg_step(proc, tid, DBG_STEP_INSN, NULL));
	if (!step_wait(tid, &ev, "single-step"))
		goto interrupted;
	OK(dbg_regs_get(proc, tid, &r));
	uint64_t want = in.addr + in.len;
	if (in.kind == DBG_INSN_CALL || in.kind == DBG_INSN_JMP)
		want = in.has_target ? in.target : r.rip;
	if (in.kind == DBG_INSN_COND && r.rip == in.target)
		want = in.target;
	CHECK(ev.addr == r.rip && r.rip == want,
	      "%s: single-step of '%s' at %" PRIx64 " ended at %" PRIx64 " (event %" PRIx64
	      "), want %" PRIx64,
	      P->name, in.text, in.addr, r.rip, ev.addr, want);
	nsteps++;

	/* Step-overs until a branch out, at most 8. */
	for (int i = 0; i < 8; i++) {
		CHECK(dbg_disasm_read(dis, r.rip, 1, &in) == 1, "decode at %" PRIx64, r.rip);
		if (in.kind == DBG_INSN_RET || in.kind == DBG_INSN_JMP)
			break;
		uint64_t sp0 = r.rsp;
		OK(dbg_step(proc, tid, DBG_STEP_OVER, NULL));
		if (allstop && in.kind == DBG_INSN_CALL)
			OK(dbg_proc_resume(proc)); /* the callee may need the others */
		if (!step_wait(tid, &ev, in.kind == DBG_INSN_CALL ? "step over a call" : "step-over"))
			goto interrupted;
		OK(dbg_regs_get(proc, tid, &r));
		bool ok = r.rip == in.addr + in.len ||
			  (in.kind == DBG_INSN_COND && r.rip == in.target);
		CHECK(ok && ev.addr == r.rip && (in.kind != DBG_INSN_CALL || r.rsp == sp0),
		      "%s: step over '%s' at %" PRIx64 " ended at %" PRIx64 " sp %" PRIx64
		      ", want %" PRIx64 " sp %" PRIx64,
		      P->name, in.text, in.addr, r.rip, r.rsp, in.addr + in.len, sp0);
		/* The call of thrower(odd) threw; the step ends where the
		 * catch rejoins the frame, with what() 's first letter. */
		if (P->step_odd_arg && in.kind == DBG_INSN_CALL) {
			CHECK((r.rax & 0xffffffff) == 'o',
			      "%s: after stepping over the throwing call eax is %#" PRIx64
			      ", not 'o' (caught)", P->name, r.rax);
			threw = true;
		}
		nsteps++;
	}

	CHECK(!P->step_odd_arg || threw, "%s: no step over the throwing call", P->name);

	/* Finish: the caller's return address, the frame popped. */
	struct dbg_step_opts so = { .sz = sizeof(so), .sym = sym, .unwinder = unw };
	OK(dbg_step(proc, tid, DBG_STEP_FINISH, &so));
	if (allstop)
		OK(dbg_proc_resume(proc));
	if (!step_wait(tid, &ev, "finish"))
		goto interrupted;
	OK(dbg_regs_get(proc, tid, &r));
	struct dbg_step_result res;
	OK(dbg_step_result(proc, tid, &res));
	CHECK(res.end == DBG_STEP_END_DONE && res.pc == caller.pc && r.rip == caller.pc &&
		      r.rsp == entry_sp + 8 && ev.addr == caller.pc,
	      "%s: finish ended %d at %" PRIx64 " sp %" PRIx64 ", want the return address %" PRIx64
	      " sp %" PRIx64,
	      P->name, (int)res.end, r.rip, r.rsp, caller.pc, entry_sp + 8);
	nsteps++;
	dump_tid = 0;
	resume_after(&ev);
	return nsteps;
interrupted:
	CHECK(++nstep_retries < 20, "%s: 20 steps interrupted by other goroutines' hits",
	      P->name);
	goto retry;
}

static void phase_remove_bp(void)
{
	OK(dbg_bp_remove(proc, bp));
	bp_live = false;
	bp = NULL;
	struct dbg_event ev;
	/* Hits already queued were dropped; none may come now. */
	ev_wait(NULL, NULL, &ev, 300, "nothing");
}

static bool want_watch(const struct dbg_event *ev, void *ctx)
{
	(void)ctx;
	return ev->kind == DBG_EVENT_WATCHPOINT;
}

/* The word of the object at @base (@size bytes) that changes most often
 * over 8 looks 15 ms apart (at least 4 of the 7 intervals): one written
 * all the time, not one that moved once (a freed block reused). */
static uint64_t scan_changing(uint64_t base, uint64_t size)
{
	if (size > 1 << 20)
		size = 1 << 20;
	size &= ~7ull;
	size_t nw = size / 8;
	uint64_t *prev = malloc(size), *cur = malloc(size);
	uint8_t *changes = calloc(nw, 1);
	CHECK(prev && cur && changes, "malloc");
	struct iovec l = { prev, size }, rv = { (void *)(uintptr_t)base, size };
	CHECK(process_vm_readv(inf.pid, &l, 1, &rv, 1, 0) == (ssize_t)size, "read object");
	for (int round = 0; round < 7; round++) {
		sleep_ms(15);
		l.iov_base = cur;
		CHECK(process_vm_readv(inf.pid, &l, 1, &rv, 1, 0) == (ssize_t)size, "read object");
		for (size_t i = 0; i < nw; i++)
			changes[i] += cur[i] != prev[i];
		uint64_t *t = prev;
		prev = cur;
		cur = t;
	}
	size_t best = 0;
	for (size_t i = 1; i < nw; i++)
		if (changes[i] > changes[best])
			best = i;
	int n = changes[best];
	free(prev), free(cur), free(changes);
	CHECK(n >= 4, "%s: no word of %s changes often (at most %d of 7 times)", P->name, P->watch,
	      n);
	return base + best * 8;
}

/* The program's [heap]: busybox's data and bss do not change while ash
 * loops (its state is malloc'ed), a word of the heap does. */
static void heap_range(uint64_t *ret_start, uint64_t *ret_size)
{
	char path[64], line[4200];
	snprintf(path, sizeof(path), "/proc/%d/maps", inf.pid);
	FILE *f = fopen(path, "r");
	CHECK(f, "open %s", path);
	uint64_t start = 0, end = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		if (strstr(line, "[heap]") && sscanf(line, "%llx-%llx", &s, &e) == 2) {
			start = s;
			end = e;
		}
	}
	fclose(f);
	CHECK(start, "%s: no [heap]", P->name);
	*ret_start = start;
	*ret_size = end - start;
}

static void phase_watch(void)
{
	uint64_t a;
	if (!strcmp(P->watch, "@heap")) {
		uint64_t size;
		heap_range(&a, &size);
		a = scan_changing(a, size);
	} else {
		OK(dbg_sym_addr(sym, P->watch, &a));
		if (P->watch_scan) {
			struct dbg_symbol s;
			OK(dbg_sym_lookup(sym, a, &s));
			a = scan_changing(a, s.size ? s.size : 8);
		}
	}
	watch_addr = a;
	watch_last = peek_u64(inf.pid, a);
	uint64_t watch_first = watch_last;
	OK(dbg_watch_insert(proc, a, 8, DBG_WATCH_WRITE, &watch));
	struct dbg_event ev;
	for (int i = 0; i < 4; i++) {
		char what[64];
		snprintf(what, sizeof(what), "watchpoint hit %d", i + 1);
		ev_wait(want_watch, NULL, &ev, 20000, what);
		CHECK(ev.addr == watch_addr, "%s: watch event addr %" PRIx64 " != %" PRIx64,
		      P->name, ev.addr, watch_addr);
		uint64_t v = peek_u64(inf.pid, a);
		/* The counters only grow (hits of several threads may be
		 * reported in another order than their writes); a scanned
		 * word is written, not always changed (a lock taken and
		 * released). */
		CHECK(P->watch_scan || (v != watch_first && v >= watch_last),
		      "%s: watch hit in tid %d but %" PRIx64 " holds %" PRIu64 " (at the insert %" PRIu64
		      ", the last hit %" PRIu64 ")",
		      P->name, ev.tid, a, v, watch_first, watch_last);
		watch_last = v;
		resume_after(&ev);
	}
	CHECK(dbg_watch_hits(watch) >= 4, "watch hits %" PRIu64, dbg_watch_hits(watch));
	OK(dbg_watch_remove(proc, watch));
	watch = NULL;
	ev_wait(NULL, NULL, &ev, 200, "nothing");
}

struct sys_wait {
	pid_t tid[1100];
	uint64_t count[1100];
	int n, pairs;
};

static bool want_sys(const struct dbg_event *ev, void *ctx)
{
	struct sys_wait *w = ctx;
	struct dbg_regs r;
	if (ev->kind == DBG_EVENT_SYSCALL_ENTRY) {
		CHECK(ev->sysno == 1, "%s: entry of %ld, only write is caught", P->name, ev->sysno);
		OK(dbg_regs_get(proc, ev->tid, &r));
		CHECK(r.orig_rax == 1, "%s: entry of write with orig_rax %" PRIu64, P->name,
		      r.orig_rax);
		for (int i = 0; i < w->n; i++)
			CHECK(w->tid[i] != ev->tid, "%s: two entries in tid %d", P->name, ev->tid);
		CHECK(w->n < 1100, "too many threads in write");
		w->tid[w->n] = ev->tid;
		w->count[w->n++] = r.rdx;
		return false;
	}
	if (ev->kind != DBG_EVENT_SYSCALL_EXIT)
		return false;
	int i = 0;
	while (i < w->n && w->tid[i] != ev->tid)
		i++;
	CHECK(i < w->n, "%s: exit of %ld in tid %d without its entry", P->name, ev->sysno,
	      ev->tid);
	OK(dbg_regs_get(proc, ev->tid, &r));
	CHECK(ev->sysno == 1 && ev->sysret == (int64_t)w->count[i] && r.rax == w->count[i],
	      "%s: write exit in tid %d: sysno %ld returned %" PRId64 " (rax %" PRIu64
	      "), asked %" PRIu64,
	      P->name, ev->tid, ev->sysno, ev->sysret, r.rax, w->count[i]);
	w->tid[i] = w->tid[--w->n];
	w->count[i] = w->count[w->n];
	w->pairs++;
	return true;
}

static void phase_syscall(void)
{
	long nr = 1; /* write */
	OK(dbg_proc_stop(proc));
	OK(dbg_syscall_catch(proc, &nr, 1, 0));
	OK(dbg_proc_resume(proc));
	static struct sys_wait w;
	memset(&w, 0, sizeof(w));
	struct dbg_event ev;
	while (w.pairs < 6) {
		ev_wait(want_sys, &w, &ev, 20000, "write entry and exit");
		resume_after(&ev);
	}
	OK(dbg_proc_stop(proc));
	OK(dbg_syscall_catch(proc, NULL, 0, 0));
	OK(dbg_proc_resume(proc));
	ev_wait(NULL, NULL, &ev, 200, "nothing");
}

static void log_stderr(enum dbg_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "[%d] %s\n", (int)level, msg);
}

/* busybox-static is stripped: no symbol names a function. Its write(2)
 * wrapper is found by catching a write: the syscall instruction is the
 * two bytes before the pc at the entry stop. */
static uint64_t find_write_insn(void)
{
	long nr = 1;
	OK(dbg_syscall_catch(proc, &nr, 1, DBG_SYSCALL_NO_EXIT));
	OK(dbg_proc_resume(proc));
	struct dbg_event ev;
	ev_wait(want_entry, NULL, &ev, 20000, "a write entry");
	struct dbg_regs r;
	OK(dbg_regs_get(proc, ev.tid, &r));
	uint8_t b[2] = { raw_byte(inf.pid, r.rip - 2), raw_byte(inf.pid, r.rip - 1) };
	CHECK(b[0] == 0x0f && b[1] == 0x05, "%s: no syscall instruction before %" PRIx64,
	      P->name, r.rip);
	OK(dbg_proc_stop(proc));
	OK(dbg_syscall_catch(proc, NULL, 0, 0));
	return r.rip - 2;
}

static void run(const struct prog *p)
{
	P = p;
	memset(nsig, 0, sizeof(nsig));
	nhits_other = nwatch_other = nsys_other = nhit_tids = nstep_retries = 0;
	uint64_t t0 = NOW_MS();
	char file[4096];
	if (p->file[0] == '@')
		snprintf(file, sizeof(file), "%s/%s", CORPUS_SRC, p->file + 1);
	else
		snprintf(file, sizeof(file), "%s/%s", CORPUS_DIR, p->file);
	if (!strcmp(p->file, "@@busybox"))
		inferior_start(&inf, p->tool, "sh", "-c", BUSYBOX_SCRIPT, NULL);
	else if (p->file[0] == '@')
		inferior_start(&inf, p->tool, file, NULL);
	else
		inferior_start(&inf, file, p->arg, NULL);
	sleep_ms(100);
	nbefore = read_texts(inf.pid, before, 256);

	struct dbg_attach_opts ao = { .sz = sizeof(ao) };
	if (getenv("BP_REAL_LOG"))
		ao.log_fn = log_stderr;
	OK(dbg_proc_attach(inf.pid, &ao, &proc));
	OK(dbg_runctl_set_mode(proc, allstop ? DBG_RUNCTL_ALL_STOP : DBG_RUNCTL_NON_STOP));
	OK(dbg_sym_new(proc, NULL, &sym));
	OK(dbg_unwind_new(proc, sym, NULL, &unw));
	struct dbg_disasm_opts dop = { .sz = sizeof(dop), .sym = sym };
	OK(dbg_disasm_new(proc, &dop, &dis));

	if (p->func) {
		/* The address against the file's symbol table. */
		OK(dbg_sym_addr(sym, p->func, &bp_addr));
		struct dbg_module m;
		OK(dbg_sym_module(sym, bp_addr, &m));
		uint64_t v;
		CHECK(nm_value(m.path, p->func, &v), "%s: nm finds no %s in %s", p->name, p->func,
		      m.path);
		uint64_t bias = maps_bias(inf.pid, m.path);
		CHECK(bp_addr == v + bias,
		      "%s: %s at %" PRIx64 ", the symbol table says %" PRIx64 " + bias %" PRIx64,
		      p->name, p->func, bp_addr, v, bias);
	} else {
		bp_addr = find_write_insn();
	}
	uint8_t orig = raw_byte(inf.pid, bp_addr);

	OK(dbg_bp_insert(proc, bp_addr, NULL, &bp));
	bp_live = true;
	uint8_t seen;
	CHECK(raw_byte(inf.pid, bp_addr) == 0xcc, "%s: no int3 in /proc/PID/mem", p->name);
	CHECK(dbg_mem_read(proc, bp_addr, &seen, 1) == 1 && seen == orig,
	      "%s: dbg_mem_read shows %02x, the original is %02x", p->name, seen, orig);
	OK(dbg_proc_resume(proc));

	phase_hits();
	/* From here on SIGURG (Go's preemption) is passed without a stop,
	 * as gdb's default `handle SIGURG nostop noprint pass`: a stop
	 * would end a step (a reported signal does); one that is not
	 * reported must not. */
	OK(dbg_signal_policy_set(proc, SIGURG, DBG_SIGNAL_PASS));
	int nsteps = phase_steps();
	phase_remove_bp();
	CHECK(raw_byte(inf.pid, bp_addr) == orig, "%s: original byte not back", p->name);
	phase_watch();
	phase_syscall();

	int nthreads = dbg_proc_threads(proc, NULL, 0);
	struct dbg_bp_stats st;
	OK(dbg_bp_get_stats(proc, &st));
	dbg_disasm_free(dis);
	dbg_unwind_free(unw);
	dbg_sym_free(sym);
	dbg_proc_detach(proc);
	proc = NULL;

	/* Untraced now, with its text as before. */
	pid_t tids[1100];
	int nt = 0;
	{
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/task", inf.pid);
		DIR *d = opendir(path);
		struct dirent *de;
		while (d && (de = readdir(d)) && nt < 1100)
			if (de->d_name[0] != '.')
				tids[nt++] = atoi(de->d_name);
		if (d)
			closedir(d);
	}
	for (int i = 0; i < nt; i++)
		CHECK(thread_tracer(inf.pid, tids[i]) <= 0, "%s: tid %d still traced", p->name,
		      tids[i]);
	static struct textmap after[256];
	int nafter = read_texts(inf.pid, after, 256);
	int compared = 0;
	for (int i = 0; i < nbefore; i++)
		for (int j = 0; j < nafter; j++)
			if (before[i].start == after[j].start && before[i].end == after[j].end) {
				for (uint64_t k = 0; k < before[i].end - before[i].start; k++)
					CHECK(before[i].bytes[k] == after[j].bytes[k],
					      "%s: text at %" PRIx64 " is %02x, was %02x", p->name,
					      before[i].start + k, after[j].bytes[k],
					      before[i].bytes[k]);
				compared++;
			}
	CHECK(compared == nbefore, "%s: %d of %d executable mappings still there", p->name,
	      compared, nbefore);
	uint64_t tbytes = 0;
	for (int i = 0; i < nbefore; i++) {
		tbytes += before[i].end - before[i].start;
		free(before[i].bytes);
	}
	for (int i = 0; i < nafter; i++)
		free(after[i].bytes);

	/* It runs on untraced, then ends as it would have. */
	sleep_ms(300);
	inferior_say(&inf, "quit\n");
	char line[1024];
	bool ok = false;
	while (fgets(line, sizeof(line), inf.out)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "done", 4)) {
			CHECK(!strncmp(line, "done ok", 7), "%s said '%s'", p->name, line);
			ok = true;
		}
	}
	CHECK(ok, "%s: no done line", p->name);
	int status;
	CHECK(waitpid(inf.pid, &status, 0) == inf.pid, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: ended with status %#x%s",
	      p->name, status,
	      WIFSIGNALED(status) && WTERMSIG(status) == SIGTRAP ? " (SIGTRAP)" : "");
	inf.pid = 0;
	fclose(inf.out);
	close(inf.in);
	int sigs = 0;
	for (int i = 1; i < 65; i++)
		sigs += nsig[i];
	printf("%s %s: %d threads; %d hits (+%d more) in %d threads at %s %" PRIx64
	       "; %d steps (%d restarts); watch %" PRIx64 " hit; %d writes caught; %d signals passed "
	       "(SIGURG %d); steps-off emulated %" PRIu64 " in place %" PRIu64 " displaced %" PRIu64
	       " paused %" PRIu64 "; %" PRIu64 " text bytes identical; %s; %.1f s\n",
	       p->name, allstop ? "allstop" : "nonstop", nthreads, nhits_taken, nhits_other, nhit_tids,
	       p->func ? p->func : "its write syscall instruction", bp_addr, nsteps, nstep_retries, watch_addr, 6, sigs, nsig[SIGURG], st.emulated,
	       st.inplace, st.displaced, st.paused, tbytes, "done ok, exit 0",
	       (double)(NOW_MS() - t0) / 1000);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	CHECK(argc >= 2, "usage: test_bp_real allstop|nonstop PROGRAM...");
	allstop = !strcmp(argv[1], "allstop");
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "%s/rc_build.sh %s", CORPUS_SRC, CORPUS_DIR);
	int r = system(cmd);
	CHECK(WIFEXITED(r) && (WEXITSTATUS(r) == 0 || WEXITSTATUS(r) == 2), "rc_build.sh failed");
	signal(SIGPIPE, SIG_IGN);
	int ran = 0, skipped = 0;
	char why[1024] = "";
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		bool sel = argc == 2;
		for (int a = 2; a < argc; a++)
			sel |= !strcmp(argv[a], progs[i].name);
		if (!sel)
			continue;
		if (access(progs[i].tool, X_OK) != 0) {
			size_t l = strlen(why);
			snprintf(why + l, sizeof(why) - l, "%s: %s missing (apt-get install %s); ",
				 progs[i].name, progs[i].tool, progs[i].pkg);
			skipped++;
			continue;
		}
		run(&progs[i]);
		ran++;
	}
	if (!ran)
		skip(why[0] ? why : "no program selected");
	if (skipped)
		printf("not run: %s\n", why);
	return 0;
}
