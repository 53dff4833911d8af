/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Acceptance 3: step, next, finish, step-out, stepi and nexti on the
 * recursive inferior (argv[1]: step_rec_O0 or step_rec_O2) land where
 * gdb's do. gdb runs the same program in batch mode with the same
 * command script and prints $pc - &main (and $rax) after each command;
 * libdbg does the same sequence with dbg_step() and must land on the same
 * pcs, and FINISH's return value must be gdb's "Value returned".
 */
#include "step_common.h"

#include <limits.h>

struct cmd {
	const char *gdb;
	enum dbg_step_kind kind;
};

static const struct cmd script[] = {
	{ "step", DBG_STEP_LINE },     /* out of start_here into main */
	{ "next", DBG_STEP_NEXT },
	{ "step", DBG_STEP_LINE },     /* into rec(3) */
	{ "step", DBG_STEP_LINE },
	{ "step", DBG_STEP_LINE },     /* into rec(2) */
	{ "step", DBG_STEP_LINE },
	{ "step", DBG_STEP_LINE },     /* into rec(1) */
	{ "finish", DBG_STEP_FINISH }, /* rec(0) returns to the same address first */
	{ "next", DBG_STEP_NEXT },
	{ "next", DBG_STEP_NEXT },
	{ "next", DBG_STEP_NEXT },
	{ "next", DBG_STEP_NEXT },     /* returns into rec(3) */
	{ "step", DBG_STEP_LINE },
	{ "stepi", DBG_STEP_INSN },
	{ "stepi", DBG_STEP_INSN },
	{ "nexti", DBG_STEP_OVER },
	{ "step", DBG_STEP_LINE },
	{ "step", DBG_STEP_LINE },     /* back into main */
	{ "step", DBG_STEP_LINE },     /* into leaf */
	{ "finish", DBG_STEP_OUT },    /* step-out: gdb's finish lands there too */
	{ "next", DBG_STEP_NEXT },
	{ "next", DBG_STEP_NEXT },
	{ "nexti", DBG_STEP_OVER },    /* -O0: over the call of rec(2) */
	{ "nexti", DBG_STEP_OVER },
	{ "nexti", DBG_STEP_OVER },
	{ "next", DBG_STEP_NEXT },
	{ "next", DBG_STEP_NEXT },     /* over printf */
};
#define N (sizeof(script) / sizeof(script[0]))

struct landing {
	long off;
	long rax;
	long dsp;   /* rsp minus rsp at the int3: the same frame */
	long value; /* gdb's "Value returned", LONG_MIN if none */
	bool have;
	bool error; /* gdb refused the command (finish in main, no process) */
};

static void run_gdb(const char *path, struct landing *out)
{
	char cmd[16384];
	size_t n = (size_t)snprintf(cmd, sizeof(cmd),
				    "gdb -nx -batch -ex 'set pagination off' -ex 'set confirm off' -ex run"
				    " -ex 'set $sp0 = $rsp'");
	for (size_t i = 0; i < N; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n,
				      " -ex 'echo CMD\\n' -ex '%s' -ex 'printf \"PC %zu %%ld %%ld %%ld\\n\", $pc - (long)&main, $rax, $rsp - $sp0'",
				      script[i].gdb, i);
	snprintf(cmd + n, sizeof(cmd) - n, " -ex kill %s </dev/null 2>&1", path);
	FILE *f = popen(cmd, "r");
	CHECK(f, "popen gdb");
	char line[4096];
	long pending_value = LONG_MIN;
	bool err = false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "CMD", 3) == 0)
			err = false;
		if (strstr(line, "not meaningful") || strstr(line, "No registers") ||
		    strstr(line, "not being run"))
			err = true;
		size_t i;
		long off, rax, dsp, v;
		if (sscanf(line, "Value returned is $%*d = %ld", &v) == 1)
			pending_value = v;
		if (sscanf(line, "PC %zu %ld %ld %ld", &i, &off, &rax, &dsp) == 4 && i < N) {
			out[i] = (struct landing){ off, rax, dsp, pending_value, true, err };
			pending_value = LONG_MIN;
		}
	}
	int st = pclose(f);
	CHECK(st != -1, "pclose");
}

int main(int argc, char **argv)
{
	const char *prog = argc > 1 ? argv[1] : "step_rec_O0";
	if (access("/usr/bin/gdb", X_OK) != 0)
		skip("no /usr/bin/gdb (scripts/deps.sh installs it)");
	ptrace_or_skip();
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", INFERIOR_DIR, prog);

	struct landing want[N] = { 0 };
	run_gdb(path, want);
	CHECK(want[0].have, "gdb printed no pc (is gdb working?)");

	struct stepper s;
	stepper_start(&s, prog, NULL);
	/* Compare up to where gdb left the program (or refused a command):
	 * the -O2 code reaches the end of main sooner. */
	struct dbg_module mod;
	OK(dbg_sym_module(s.sym, s.main_addr, &mod));
	size_t n = 0;
	while (n < N && want[n].have && !want[n].error &&
	       s.main_addr + (uint64_t)want[n].off >= mod.start &&
	       s.main_addr + (uint64_t)want[n].off < mod.end)
		n++;
	for (size_t i = 0; n < 16 && i < N; i++)
		fprintf(stderr, "gdb %zu: %s have %d error %d off %ld\n", i, script[i].gdb, want[i].have, want[i].error, want[i].off);
	CHECK(n >= 16, "only %zu of gdb's landings are in the program", n);

	struct dbg_regs r0;
	OK(dbg_regs_get(s.p, s.tid, &r0));
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t pc = step_once(&s, script[i].kind, NULL);
		long off = (long)(pc - s.main_addr);
		struct dbg_step_result res;
		OK(dbg_step_result(s.p, s.tid, &res));
		CHECK(res.end == DBG_STEP_END_DONE && res.pc == pc && res.steps >= 1, "result");
		char sl[256] = "";
		struct dbg_srcloc loc;
		if (dbg_sym_srclocs(s.sym, pc, &loc, 1) > 0 && loc.file)
			snprintf(sl, sizeof(sl), "%s:%d", strrchr(loc.file, '/') ? strrchr(loc.file, '/') + 1 : loc.file, loc.line);
		struct dbg_regs ri;
		OK(dbg_regs_get(s.p, s.tid, &ri));
		long dsp = (long)(ri.rsp - r0.rsp);
		bool ok = off == want[i].off && dsp == want[i].dsp;
		if (script[i].kind == DBG_STEP_FINISH && want[i].value != LONG_MIN)
			ok = ok && (long)(int)res.rax == want[i].value;
		printf("%2zu %-6s gdb %+5ld sp%+5ld  libdbg %+5ld sp%+5ld  %-18s steps %-5llu%s%s\n", i,
		       script[i].gdb, want[i].off, want[i].dsp, off, dsp, sl, (unsigned long long)res.steps,
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
	printf("all %zu landings match gdb's (%s)\n", n, prog);
	return 0;
}
