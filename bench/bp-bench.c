/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Breakpoint hit round trip (the target hits, the debugger gets the event,
 * resumes it past the breakpoint) with libdbg against gdb doing the same
 * with a `commands; silent; continue; end` breakpoint, on the same target
 * (bench-target's bp_here) in the same run. The target times its own
 * loop, so both are measured alike. Medians of ROUNDS rounds; the goal is
 * libdbg >= 20x faster. Rows: one thread; and one idle thread more, where
 * libdbg's all-stop stops it at every hit and non-stop steps over the
 * breakpoint with a displaced copy instead.
 * Usage: bp-bench [rounds] [hits per round]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <stdint.h>
#include <sys/user.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include <dbg.h>
#include "stats.h"

#define TARGET BENCH_DIR "/bp-bench-target"
#define GOAL 20.0

struct target {
	pid_t pid;
	FILE *out;
	int in;
	unsigned long long bp;
};

static void start(struct target *t, const char *threads)
{
	int o[2], i[2];
	if (pipe2(o, O_CLOEXEC) || pipe2(i, O_CLOEXEC))
		exit(1);
	t->pid = fork();
	if (t->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(o[1], 1);
		dup2(i[0], 0);
		execl(TARGET, TARGET, threads, (char *)NULL);
		_exit(127);
	}
	close(o[1]);
	close(i[0]);
	t->out = fdopen(o[0], "r");
	setvbuf(t->out, NULL, _IONBF, 0);
	t->in = i[1];
	char line[128];
	if (!fgets(line, sizeof(line), t->out) || sscanf(line, "ready bp=%llx", &t->bp) != 1) {
		fprintf(stderr, "target did not start\n");
		exit(1);
	}
}

static void stop(struct target *t)
{
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	fclose(t->out);
	close(t->in);
}

/* One libdbg round: N hits; returns seconds per hit. */
static double dbg_round(struct dbg_proc *p, struct target *t, long n, bool allstop)
{
	char cmd[64], line[128];
	snprintf(cmd, sizeof(cmd), "go %ld\n", n);
	if (write(t->in, cmd, strlen(cmd)) < 0)
		exit(1);
	long hits = 0;
	for (;;) {
		struct dbg_event ev;
		int r = dbg_proc_wait(p, hits < n ? 5000 : 50, &ev);
		if (r == -ETIMEDOUT && hits >= n)
			break;
		if (r < 0) {
			fprintf(stderr, "wait: %s\n", dbg_strerror(r));
			exit(1);
		}
		if (ev.kind == DBG_EVENT_BREAKPOINT)
			hits++;
		if (allstop)
			dbg_proc_resume(p);
		else
			dbg_proc_resume_thread(p, ev.tid);
	}
	double secs;
	if (!fgets(line, sizeof(line), t->out) || sscanf(line, "done n=%*d secs=%lf", &secs) != 1)
		exit(1);
	if (hits != n)
		fprintf(stderr, "libdbg: %ld hits of %ld\n", hits, n);
	return secs / n;
}

static double bench_dbg(const char *threads, bool allstop, int rounds, long n,
			struct dbg_bp_stats *ret_st)
{
	struct target t;
	start(&t, threads);
	struct dbg_proc *p;
	int r = dbg_proc_attach(t.pid, NULL, &p);
	if (r < 0) {
		fprintf(stderr, "attach: %s\n", dbg_strerror(r));
		exit(77);
	}
	dbg_runctl_set_mode(p, allstop ? DBG_RUNCTL_ALL_STOP : DBG_RUNCTL_NON_STOP);
	struct dbg_bp *bp;
	if (dbg_bp_insert(p, t.bp, NULL, &bp) < 0)
		exit(1);
	dbg_proc_resume(p);
	double v[64];
	dbg_round(p, &t, n / 10, allstop); /* warm-up */
	for (int i = 0; i < rounds; i++)
		v[i] = dbg_round(p, &t, n, allstop);
	dbg_bp_get_stats(p, ret_st);
	dbg_proc_detach(p);
	stop(&t);
	return median(v, rounds);
}

/*
 * The floor: a raw ptrace loop doing the least a debugger can for the same
 * hit (wait4, GETREGS, PEEKDATA of the loaded word, SETREGS with the
 * instruction emulated, CONT: no siginfo, no breakpoint table), on the
 * one-thread target in the same run. What libdbg adds is the difference.
 */
static double bench_raw(int rounds, long n)
{
	struct target t;
	start(&t, "1");
	pid_t pid = t.pid;
	int st;
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0 || ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 ||
	    waitpid(pid, &st, __WALL) != pid) {
		stop(&t);
		return 0;
	}
	/* bp_here starts with mov disp32(%rip),%rax (48 8b 05 disp32). */
	errno = 0;
	long word = ptrace(PTRACE_PEEKDATA, pid, (void *)t.bp, 0);
	const uint8_t *b = (const uint8_t *)&word;
	if (errno || b[0] != 0x48 || b[1] != 0x8b || b[2] != 0x05) {
		fprintf(stderr, "raw: bp_here does not start with a rip-relative mov to rax\n");
		stop(&t);
		return 0;
	}
	int32_t disp;
	memcpy(&disp, b + 3, 4);
	uint64_t var = t.bp + 7 + (int64_t)disp;
	long patched = (word & ~0xffL) | 0xcc;
	ptrace(PTRACE_POKEDATA, pid, (void *)t.bp, (void *)patched);
	ptrace(PTRACE_CONT, pid, 0, 0);
	double v[64];
	for (int i = 0; i <= rounds; i++) {
		long want = i ? n : n / 10;
		char cmd[64], line[128];
		snprintf(cmd, sizeof(cmd), "go %ld\n", want);
		if (write(t.in, cmd, strlen(cmd)) < 0)
			exit(1);
		for (long h = 0; h < want; h++) {
			if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st)) {
				stop(&t);
				return 0;
			}
			struct user_regs_struct r;
			ptrace(PTRACE_GETREGS, pid, 0, &r);
			if (WSTOPSIG(st) != SIGTRAP || r.rip != t.bp + 1) {
				ptrace(PTRACE_CONT, pid, 0, 0); /* not our hit */
				h--;
				continue;
			}
			r.rax = (uint64_t)ptrace(PTRACE_PEEKDATA, pid, (void *)var, 0);
			r.rip = t.bp + 7;
			ptrace(PTRACE_SETREGS, pid, 0, &r);
			ptrace(PTRACE_CONT, pid, 0, 0);
		}
		double secs;
		if (!fgets(line, sizeof(line), t.out) || sscanf(line, "done n=%*d secs=%lf", &secs) != 1)
			exit(1);
		if (i)
			v[i - 1] = secs / n;
	}
	stop(&t);
	return median(v, rounds);
}

/* gdb runs the target itself, with a script of rounds on its stdin. */
static double bench_gdb(const char *threads, int rounds, long n)
{
	char input[] = "/tmp/bp-bench-in.XXXXXX", script[] = "/tmp/bp-bench-gdb.XXXXXX";
	int fi = mkstemp(input), fs = mkstemp(script);
	FILE *f = fdopen(fi, "w");
	for (int i = 0; i <= rounds; i++)
		fprintf(f, "go %ld\n", i ? n : n / 10);
	fprintf(f, "exit\n");
	fclose(f);
	f = fdopen(fs, "w");
	fprintf(f, "set pagination off\nset confirm off\n"
		   "break bp_here\ncommands\nsilent\ncontinue\nend\nrun %s < %s\nquit\n",
		threads, input);
	fclose(f);
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "gdb -nx -batch -x %s %s 2>/dev/null", script, TARGET);
	FILE *g = popen(cmd, "r");
	double v[64];
	int k = 0;
	char line[256];
	while (g && fgets(line, sizeof(line), g)) {
		long got;
		double secs;
		if (sscanf(line, "done n=%ld secs=%lf", &got, &secs) == 2 && got == n && k < rounds)
			v[k++] = secs / n;
	}
	if (g)
		pclose(g);
	unlink(input);
	unlink(script);
	if (k < rounds) {
		fprintf(stderr, "gdb gave %d of %d rounds\n", k, rounds);
		return 0;
	}
	return median(v, rounds);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	long n = argc > 2 ? atol(argv[2]) : 20000;
	long gn = n / 10 > 100 ? n / 10 : 100; /* gdb is slower: fewer hits */
	if (rounds < 1 || rounds > 63)
		rounds = 5;
	bool have_gdb = access("/usr/bin/gdb", X_OK) == 0;
	printf("breakpoint hit round trip (hit, event, resume past it), median of %d rounds\n", rounds);
	printf("%-34s %12s %12s %10s %8s\n", "", "libdbg us", "gdb us", "ratio", "goal");
	const char *rows[] = { "1", "2" };
	for (int r = 0; r < 2; r++) {
		struct dbg_bp_stats as, ns;
		double all = bench_dbg(rows[r], true, rounds, n, &as);
		double non = bench_dbg(rows[r], false, rounds, n, &ns);
		double gdb = have_gdb ? bench_gdb(rows[r], rounds, gn) : 0;
		char name[64];
		snprintf(name, sizeof(name), "%s thread%s, all-stop", rows[r], r ? "s (1 idle)" : "");
		printf("%-34s %12.2f %12.2f %9.1fx %7.0fx\n", name, all * 1e6, gdb * 1e6,
		       gdb ? gdb / all : 0, GOAL);
		snprintf(name, sizeof(name), "%s thread%s, non-stop%s", rows[r], r ? "s (1 idle)" : "",
			 ns.displaced ? " (displaced)" : "");
		printf("%-34s %12.2f %12.2f %9.1fx %7.0fx\n", name, non * 1e6, gdb * 1e6,
		       gdb ? gdb / non : 0, GOAL);
	}
	double raw = bench_raw(rounds, n);
	if (raw > 0)
		printf("%-34s %12.2f %12s %10s   (libdbg's 1-thread rows over it: the library's share)\n",
		       "raw ptrace floor, 1 thread", raw * 1e6, "-", "-");
	if (!have_gdb)
		printf("(no /usr/bin/gdb: no ratios)\n");
	return 0;
}
