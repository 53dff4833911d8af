/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Acceptance 3: step, next, finish, step-out, stepi and nexti on the
 * recursive inferior (argv[1]: step_rec_O0 or step_rec_O2) land where
 * gdb's do. gdb runs the same program in batch mode with the same
 * command script and prints $pc - &main (and $rax) after each command;
 * libdbg does the same sequence with dbg_step() and must land on the same
 * pcs, and FINISH's return value must be gdb's "Value returned".
 * With argv[2] "bp" the script sets breakpoints (break *rec, tbreak
 * *leaf): steps that start on a breakpoint and steps that run into one
 * must stop where gdb's do, reported as breakpoint hits where gdb says
 * "Breakpoint N, ".
 */
#include "step_common.h"

#include <limits.h>
#include <time.h>

/* CPU time (ns) of the traced process's threads other than the stepper's,
 * from /proc/PID/task/TID/schedstat. */
static int64_t other_cpu_ns(const struct stepper *s)
{
	pid_t tids[16];
	int n = dbg_proc_threads(s->p, tids, 16);
	int64_t sum = 0;
	for (int i = 0; i < n && i < 16; i++) {
		if (tids[i] == s->tid)
			continue;
		char path[96], buf[128];
		snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", dbg_proc_pid(s->p), tids[i]);
		FILE *f = fopen(path, "r");
		long long ns = 0;
		if (f && fgets(buf, sizeof(buf), f))
			ns = atoll(buf);
		if (f)
			fclose(f);
		sum += ns;
	}
	return sum;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Besides the step kinds: breakpoints, continue. */
enum { K_BREAK = 100, K_TBREAK, K_CONT, K_DELETE };

struct cmd {
	const char *gdb;
	int kind;         /* enum dbg_step_kind or K_* */
	const char *sym;  /* K_BREAK, K_TBREAK: at this function's entry */
	bool slow;        /* runs a callee of ~66M instructions: must take < 1 s */
};

static const struct cmd plain[] = {
	{ "step", DBG_STEP_LINE, NULL, false },     /* out of start_here into main */
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "step", DBG_STEP_LINE, NULL, false },     /* into rec(3) */
	{ "step", DBG_STEP_LINE, NULL, false },
	{ "step", DBG_STEP_LINE, NULL, false },     /* into rec(2) */
	{ "step", DBG_STEP_LINE, NULL, false },
	{ "step", DBG_STEP_LINE, NULL, false },     /* into rec(1) */
	{ "finish", DBG_STEP_FINISH, NULL, false }, /* rec(0) returns to the same address first */
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },     /* returns into rec(3) */
	{ "step", DBG_STEP_LINE, NULL, false },
	{ "stepi", DBG_STEP_INSN, NULL, false },
	{ "stepi", DBG_STEP_INSN, NULL, false },
	{ "nexti", DBG_STEP_OVER, NULL, false },
	{ "step", DBG_STEP_LINE, NULL, false },
	{ "step", DBG_STEP_LINE, NULL, false },     /* back into main */
	{ "step", DBG_STEP_LINE, NULL, false },     /* into leaf */
	{ "finish", DBG_STEP_OUT, NULL, false },    /* step-out: gdb's finish lands there too */
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "nexti", DBG_STEP_OVER, NULL, false },    /* -O0: over the call of rec(2) */
	{ "nexti", DBG_STEP_OVER, NULL, false },
	{ "nexti", DBG_STEP_OVER, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },     /* over printf */
	{ NULL, 0, NULL, false },
};

/* Steps that start on a breakpoint (the bp module steps the instruction
 * off it) and steps that run into one (it ends them, reported as the
 * breakpoint, as gdb reports it). */
static const struct cmd with_bp[] = {
	{ "break *rec", K_BREAK, "rec", false },
	{ "continue", K_CONT, NULL, false },  /* rec(3)'s entry */
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false }, /* over rec(2): its breakpoint ends the next */
	{ "step", DBG_STEP_LINE, NULL, false }, /* from the breakpoint */
	{ "step", DBG_STEP_LINE, NULL, false },
	{ "step", DBG_STEP_LINE, NULL, false }, /* into rec(1): onto the breakpoint */
	{ "stepi", DBG_STEP_INSN, NULL, false }, /* off it */
	{ "delete", K_DELETE, NULL, false },
	{ "tbreak *leaf", K_TBREAK, "leaf", false },
	{ "continue", K_CONT, NULL, false },
	{ "finish", DBG_STEP_FINISH, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "finish", DBG_STEP_FINISH, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "finish", DBG_STEP_OUT, NULL, false },
	{ NULL, 0, NULL, false },
};

/* Into libc (its line tables from libc6-dbg's separate debuginfo):
 * step into printf through its PLT stub, next in it, finish out. */
static const struct cmd into_libc[] = {
	{ "step", DBG_STEP_LINE, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "step", DBG_STEP_LINE, NULL, false },     /* printf@plt -> __printf's first line */
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "finish", DBG_STEP_FINISH, NULL, false }, /* its return value */
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ NULL, 0, NULL, false },
};

/* step_long: next over a call and finish out of frames whose callees run
 * ~66 million instructions (hours single-stepped), and a finish from a
 * recursive frame whose deeper activation returns to the same address
 * after its long call; with "long-threads" another thread runs through
 * the return address of work()'s call of compute() all the while. */
static const struct cmd long_run[] = {
	{ "step", DBG_STEP_LINE, NULL, false },     /* out of start_here into main */
	{ "step", DBG_STEP_LINE, NULL, false },     /* into work */
	{ "next", DBG_STEP_NEXT, NULL, true },      /* over compute(6000000) */
	{ "finish", DBG_STEP_FINISH, NULL, false }, /* back in main */
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "step", DBG_STEP_LINE, NULL, false },     /* into the second work */
	{ "finish", DBG_STEP_FINISH, NULL, true },  /* out of it: compute runs */
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "break *deep", K_BREAK, "deep", false },
	{ "continue", K_CONT, NULL, false },        /* deep(3) */
	{ "continue", K_CONT, NULL, false },        /* deep(2) */
	{ "continue", K_CONT, NULL, false },        /* deep(1) */
	{ "delete", K_DELETE, NULL, false },
	{ "finish", DBG_STEP_FINISH, NULL, true },  /* deep(0) returns to the same address first */
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "nexti", DBG_STEP_OVER, NULL, false },
	{ "finish", DBG_STEP_OUT, NULL, false },    /* into deep(3) */
	{ "finish", DBG_STEP_FINISH, NULL, false }, /* into main */
	{ "next", DBG_STEP_NEXT, NULL, false },
	{ "next", DBG_STEP_NEXT, NULL, false },     /* over printf */
	{ NULL, 0, NULL, false },
};

static const struct cmd *script;
static const char *prog_arg;
static size_t N;
#define NMAX 64

struct landing {
	long off;
	long rax;
	long dsp;   /* rsp minus rsp at the int3: the same frame */
	long value; /* gdb's "Value returned", LONG_MIN if none */
	bool have;
	bool error; /* gdb refused the command (finish in main, no process) */
	bool bp;    /* gdb said "Breakpoint N, " (or Temporary) */
	long offp;  /* pc - &printf: landings in libc, mapped elsewhere here */
};

static void run_gdb(const char *path, struct landing *out)
{
	char cmd[16384];
	size_t n = (size_t)snprintf(cmd, sizeof(cmd),
				    "gdb -nx -batch -ex 'set pagination off' -ex 'set confirm off' -ex 'run %s'"
				    " -ex 'set $sp0 = $rsp'", prog_arg ? prog_arg : "");
	for (size_t i = 0; i < N; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n,
				      " -ex 'echo CMD\\n' -ex '%s' -ex 'printf \"PC %zu %%ld %%ld %%ld %%ld\\n\", $pc - (long)&main, $rax, $rsp - $sp0, $pc - (long)&printf'",
				      script[i].gdb, i);
	snprintf(cmd + n, sizeof(cmd) - n, " -ex kill %s </dev/null 2>&1", path);
	FILE *f = popen(cmd, "r");
	CHECK(f, "popen gdb");
	char line[4096];
	long pending_value = LONG_MIN;
	bool err = false, bp = false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "CMD", 3) == 0)
			err = bp = false;
		/* A hit: "Breakpoint 1, rec (n=3) at ..." (not "... 1 at 0x"). */
		/* With threads: "Thread 1 "prog" hit Breakpoint 1, deep (...". */
		const char *h = !strncmp(line, "Thread ", 7) ? strstr(line, " hit ") : NULL;
		const char *l = h ? h + 5 : line;
		const char *q = !strncmp(l, "Breakpoint ", 11) ? l + 11
				: !strncmp(l, "Temporary breakpoint ", 21) ? l + 21 : NULL;
		if (q) {
			while (*q >= '0' && *q <= '9')
				q++;
			bp = bp || *q == ',';
		}
		if (strstr(line, "not meaningful") || strstr(line, "No registers") ||
		    strstr(line, "not being run"))
			err = true;
		size_t i;
		long off, rax, dsp, v, offp;
		if (sscanf(line, "Value returned is $%*d = %ld", &v) == 1)
			pending_value = v;
		if (sscanf(line, "PC %zu %ld %ld %ld %ld", &i, &off, &rax, &dsp, &offp) == 5 && i < N) {
			out[i] = (struct landing){ off, rax, dsp, pending_value, true, err, bp, offp };
			pending_value = LONG_MIN;
		}
	}
	int st = pclose(f);
	CHECK(st != -1, "pclose");
}

int main(int argc, char **argv)
{
	const char *prog = argc > 1 ? argv[1] : "step_rec_O0";
	script = argc > 2 && !strcmp(argv[2], "bp") ? with_bp : plain;
	if (argc > 2 && !strcmp(argv[2], "libc"))
		script = into_libc;
	if (argc > 2 && !strncmp(argv[2], "long", 4))
		script = long_run;
	if (argc > 2 && !strcmp(argv[2], "long-threads"))
		prog_arg = "threads";
	for (N = 0; script[N].gdb; N++)
		;
	if (access("/usr/bin/gdb", X_OK) != 0)
		skip("no /usr/bin/gdb (scripts/deps.sh installs it)");
	ptrace_or_skip();
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", INFERIOR_DIR, prog);

	struct landing want[NMAX] = { 0 };
	run_gdb(path, want);
	CHECK(want[0].have, "gdb printed no pc (is gdb working?)");

	struct stepper s;
	stepper_start(&s, prog, prog_arg);
	/* Compare up to where gdb left the program (or refused a command):
	 * the -O2 code reaches the end of main sooner. */
	struct dbg_module mod;
	OK(dbg_sym_module(s.sym, s.main_addr, &mod));
	uint64_t printf_addr = 0;
	dbg_sym_addr(s.sym, "printf", &printf_addr);
	struct dbg_module lmod = { 0 };
	if (printf_addr)
		dbg_sym_module(s.sym, printf_addr, &lmod);
	size_t n = 0;
	while (n < N && want[n].have && !want[n].error &&
	       ((s.main_addr + (uint64_t)want[n].off >= mod.start &&
		 s.main_addr + (uint64_t)want[n].off < mod.end) ||
		(script == into_libc && printf_addr)))
		n++;
	size_t need = script == plain ? 16 : script == long_run ? N - 1 : N;
	for (size_t i = 0; n < need && i < N; i++)
		fprintf(stderr, "gdb %zu: %s have %d error %d off %ld\n", i, script[i].gdb, want[i].have, want[i].error, want[i].off);
	CHECK(n >= need, "only %zu of gdb's landings are in the program", n);

	struct dbg_regs r0;
	OK(dbg_regs_get(s.p, s.tid, &r0));
	int bad = 0;
	/* The other thread's passes through compute()'s return address
	 * during the long nexts, and the CPU time it got meanwhile: on a
	 * loaded machine it may get none during a 10 ms next, and then the
	 * case was not exercised; with CPU it must have passed. */
	unsigned long long passes = 0;
	int64_t other_cpu = 0;
	struct dbg_bp *bps[8];
	size_t nbps = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cmd *c = &script[i];
		uint64_t pc;
		bool hit = false;
		struct dbg_step_result res = { 0 };
		struct dbg_event ev;
		int64_t t0 = now_ns();
		struct dbg_bp_stats bs0 = { 0 }, bs1 = { 0 };
		OK(dbg_bp_get_stats(s.p, &bs0));
		int64_t cpu0 = other_cpu_ns(&s);
		if (c->kind == K_BREAK || c->kind == K_TBREAK) {
			uint64_t a;
			OK(dbg_sym_addr(s.sym, c->sym, &a));
			struct dbg_bp_opts bo = { .sz = sizeof(bo),
						  .flags = c->kind == K_TBREAK ? DBG_BP_TEMPORARY : 0 };
			OK(dbg_bp_insert(s.p, a, &bo, &bps[nbps++]));
		} else if (c->kind == K_DELETE) {
			while (nbps)
				OK(dbg_bp_remove(s.p, bps[--nbps]));
		} else if (c->kind == K_CONT) {
			OK(dbg_proc_resume_thread(s.p, s.tid));
			ev = next_event(s.p);
			CHECK(ev.kind == DBG_EVENT_BREAKPOINT && ev.tid == s.tid, "continue: event %d",
			      (int)ev.kind);
			hit = true;
		} else {
			struct dbg_step_opts so = { .sz = sizeof(so), .sym = s.sym };
			int r = dbg_step(s.p, s.tid, (enum dbg_step_kind)c->kind, &so);
			CHECK(r == 0, "dbg_step = %d: %s", r, dbg_proc_errmsg(s.p));
			if (c->slow) {
				/* Single-stepped it would take half an hour. */
				r = dbg_proc_wait(s.p, 2000, &ev);
				CHECK(r == 0, "%s %zu: no event within 2 s (%d: the callee is "
				      "single-stepped?)", c->gdb, i, r);
			} else {
				ev = next_event(s.p);
			}
			CHECK(ev.tid == s.tid && (ev.kind == DBG_EVENT_STEP || ev.kind == DBG_EVENT_BREAKPOINT),
			      "step: event %d signo %d", (int)ev.kind, ev.signo);
			hit = ev.kind == DBG_EVENT_BREAKPOINT;
			OK(dbg_step_result(s.p, s.tid, &res));
			CHECK(hit ? res.end == DBG_STEP_END_INTERRUPTED
				  : res.end == DBG_STEP_END_DONE && res.pc == ev.addr && res.steps >= 1,
			      "result: end %d", (int)res.end);
		}
		double ms = (double)(now_ns() - t0) / 1e6;
		if (c->slow) {
			printf("   %s over ~66M instructions: %.1f ms\n", c->gdb, ms);
			CHECK(ms < 1000.0, "%s %zu took %.0f ms (the callee was single-stepped?)",
			      c->gdb, i, ms);
			OK(dbg_bp_get_stats(s.p, &bs1));
			if (prog_arg && c->kind == DBG_STEP_NEXT) {
				/* The other thread ran through the return address
				 * of compute() meanwhile: stepped over, unreported. */
				printf("   the other thread went through the return address %llu times\n",
				       (unsigned long long)(bs1.silent - bs0.silent));
				passes += bs1.silent - bs0.silent;
				other_cpu += other_cpu_ns(&s) - cpu0;
			}
		}
		struct dbg_regs rr;
		OK(dbg_regs_get(s.p, s.tid, &rr));
		pc = rr.rip;
		long off = (long)(pc - s.main_addr);
		bool in_libc = pc >= lmod.start && pc < lmod.end && lmod.end;
		if (in_libc) {
			/* Another load address here: compare from printf. */
			off = (long)(pc - printf_addr);
			want[i].off = want[i].offp;
		}
		char sl[256] = "";
		struct dbg_srcloc loc;
		if (dbg_sym_srclocs(s.sym, pc, &loc, 1) > 0 && loc.file)
			snprintf(sl, sizeof(sl), "%s:%d", strrchr(loc.file, '/') ? strrchr(loc.file, '/') + 1 : loc.file, loc.line);
		struct dbg_regs ri;
		OK(dbg_regs_get(s.p, s.tid, &ri));
		long dsp = (long)(ri.rsp - r0.rsp);
		bool ok = off == want[i].off && dsp == want[i].dsp && hit == want[i].bp;
		if (script[i].kind == DBG_STEP_FINISH && want[i].value != LONG_MIN)
			ok = ok && (long)(int)res.rax == want[i].value;
		printf("%2zu %-12s gdb %+5ld sp%+5ld%s  libdbg %+5ld sp%+5ld%s  %-18s steps %-5llu%s%s\n",
		       i, script[i].gdb, want[i].off, want[i].dsp, want[i].bp ? " bp" : "   ", off, dsp,
		       hit ? " bp" : "   ", sl, (unsigned long long)res.steps,
		       script[i].kind == DBG_STEP_FINISH ? " value " : "",
		       ok ? "" : "   <-- MISMATCH");
		if (script[i].kind == DBG_STEP_FINISH)
			printf("          returned gdb %ld libdbg %ld\n", want[i].value, (long)(int)res.rax);
		bad += !ok;
		if (!ok)
			break; /* later steps start from elsewhere */
	}
	stepper_end(&s);
	CHECK(bad == 0, "%d landings differ from gdb's", bad);
	if (prog_arg && !passes && other_cpu < 2000000)
		printf("   the other thread had %.1f ms of CPU during the long nexts: not exercised\n",
		       other_cpu / 1e6);
	else if (prog_arg)
		CHECK(passes > 0, "the other thread ran %.1f ms during the long nexts and never met "
		      "the return address's breakpoint", other_cpu / 1e6);
	printf("all %zu landings match gdb's (%s%s)\n", n, prog,
	       script == plain ? "" : script == with_bp ? ", breakpoints"
			: script == long_run ? ", long callees" : ", into libc");
	return 0;
}
