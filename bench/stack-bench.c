/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stack-bench: every thread's stack, libdbg against its peers, in one
 * run. Medians of several repetitions; each ratio next to its goal
 * (doc/unwinding.md).
 *
 *   (r) real programs (tests/corpus/build.sh builds them: Debian's
 *       python3 with 10 threads, C++ -O2 with 6, a Rust release build
 *       with 6, node with 10, a C program with 1,000): on each, in turns
 *       within every repetition, wall time of the tool, no frame limit:
 *       dbg-stack (functions, inlines, lines) against
 *       eu-stack -i -s                              goal: >= 5x faster
 *       dbg-stack --names-only against plain eu-stack  goal: >= 5x faster
 *       and the target's pause (dbg-stack --timing: how long its threads
 *       were stopped), with --before PATH an older dbg-stack's, measured
 *       on the same target in the same turns, next to it (goal: the
 *       pause unchanged or shorter). dbg-stack --no-cache shows a first
 *       run's cost (the debuginfo inflated, not read from the cache).
 * The synthetic target (bench/stack-target: 64 threads x ~100 frames and
 * one thread 10,000 frames deep, -O2 without frame pointers):
 *   (a) whole-process stacks, wall time of the tool, no frame limit:
 *       dbg-stack (symbols, inlined functions, lines) against
 *       eu-stack -i -s (the same information)      goal: >= 5x faster
 *       and gdb -batch "thread apply all bt"        goal: >= 50x faster
 *       (dbg-stack --addresses and plain eu-stack reported too)
 *   (b) unwinding a stopped thread (~100 frames), in process, warm:
 *       libdbg (its default: compiled rules, then libunwind with our
 *       accessors) against libunwind-ptrace (_UPT accessors)
 *                                                   goal: >= 10x per thread
 *       (rules then libdw, and each backend alone, reported)
 *   (c) snapshot mode, a profiler's loop: stop all threads, copy
 *       registers and stacks (into the snapshots of the previous sample),
 *       resume; the target's pause per thread       goal: <= 30 us
 * Usage: stack-bench [--reps N] [--gdb-reps N] [--threads N] [--depth N] [--deep N]
 *                    [--real-only | --no-real] [--corpus DIR] [--before DBG-STACK]
 */
#define _GNU_SOURCE
#include <dbg.h>

#include "stats.h"
#include <dirent.h>
#include <errno.h>
#include <libunwind-ptrace.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int reps = 5, gdb_reps = 1;
static int nthreads = 64, depth = 100, deep = 10000;
static bool real_only, no_real;
static const char *corpus = BENCH_DIR "/corpus", *before_tool;

static void die(const char *what, int err)
{
	fprintf(stderr, "stack-bench: %s: %s\n", what, dbg_strerror(err));
	exit(1);
}

static pid_t start_target(void)
{
	int o[2];
	if (pipe(o))
		die("pipe", -errno);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(o[1], 1);
		char a[3][16];
		snprintf(a[0], 16, "%d", nthreads);
		snprintf(a[1], 16, "%d", depth);
		snprintf(a[2], 16, "%d", deep);
		execl(BENCH_DIR "/stack-target", "stack-target", a[0], a[1], a[2], (char *)NULL);
		_exit(127);
	}
	close(o[1]);
	char line[64] = "";
	FILE *f = fdopen(o[0], "r");
	if (!f || !fgets(line, sizeof(line), f) || strncmp(line, "ready", 5))
		die("stack-target did not start", -EIO);
	return pid;
}

/* Run a shell command with output to /dev/null (or counted): its wall
 * time in seconds; *frames gets the number of lines starting with '#'. */
static double last_cpu; /* the last run_tool()'s CPU time (user + system), s */

static double cpu_children(void)
{
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec * 1e-6;
}

static double run_tool(const char *cmd, long *frames)
{
	double c0 = cpu_children();
	double t0 = now();
	FILE *f = popen(cmd, "r");
	if (!f)
		die(cmd, -errno);
	char line[4096];
	long n = 0;
	while (fgets(line, sizeof(line), f))
		n += line[0] == '#';
	int rc = pclose(f);
	double t = now() - t0;
	last_cpu = cpu_children() - c0; /* the shell and the tool, reaped */
	if (rc == -1 || !WIFEXITED(rc) || (WEXITSTATUS(rc) != 0 && WEXITSTATUS(rc) != 1)) {
		fprintf(stderr, "stack-bench: '%s' failed (%d)\n", cmd, rc);
		exit(1);
	}
	if (frames)
		*frames = n;
	return t;
}

struct row {
	const char *name;
	double median;
	long frames;
};

/* Time "@before PID@after". */
static struct row tool(const char *name, const char *before, pid_t pid, const char *after, int n)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s %d%s", before, pid, after);
	double t[32];
	long frames = 0;
	run_tool(cmd, &frames); /* warm the page cache: both sides read the same files */
	for (int i = 0; i < n; i++)
		t[i] = run_tool(cmd, &frames);
	struct row r = { name, median(t, n), frames };
	printf("  %-44s %9.1f ms  %7ld frames\n", name, r.median * 1e3, frames);
	return r;
}

static void verdict(const char *what, double ratio, double goal, bool lower_is_better)
{
	bool met = lower_is_better ? ratio <= goal : ratio >= goal;
	printf("  %-44s %9.1fx   goal %s %gx  %s\n", what, ratio, lower_is_better ? "<=" : ">=", goal,
	       met ? "MEETS" : "MISSES");
}

/* ---- (r) real programs -------------------------------------------------- */

struct real_target {
	const char *label, *prog;
};

static const struct real_target real_targets[] = {
	{ "python3, 10 threads", "py_threads" },
	{ "C++ -O2, 6 threads", "cxx_exc" },
	{ "Rust release, 6 threads", "rust_threads" },
	{ "node, 10 threads", "node_workers" },
	{ "1,000 threads", "threads1000" },
};
enum { NREAL = sizeof(real_targets) / sizeof(real_targets[0]) };

/* The tools timed on each real program, in this order in every turn. */
enum { T_FULL, T_EU_FULL, T_NAMES, T_EU_NAMES, T_NOCACHE, T_BEFORE, NTOOLS };
static const char *const tool_names[NTOOLS] = {
	"dbg-stack", "eu-stack -i -s", "dbg-stack --names-only", "eu-stack",
	"dbg-stack --no-cache (first run)", "dbg-stack --before",
};

struct real_row {
	bool done;
	int threads;
	double t[NTOOLS];     /* medians, seconds */
	long frames[NTOOLS];
	double pause[NTOOLS]; /* dbg-stack --timing: us the threads were stopped */
	double cpu[NTOOLS];   /* medians, seconds of CPU (user + system) */
};
static struct real_row real_rows[NREAL];

/* Start @path; wait for its "ready" line. 0 when it cannot start. */
static pid_t start_real(const char *path)
{
	int o[2];
	if (pipe(o))
		die("pipe", -errno);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(o[1], 1);
		close(o[0]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(o[1]);
	FILE *f = fdopen(o[0], "r");
	char line[256] = "";
	bool ok = f && fgets(line, sizeof(line), f) && strncmp(line, "ready", 5) == 0;
	if (f)
		fclose(f); /* the program's later output goes to a closed pipe: none expected */
	if (!ok) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 0;
	}
	return pid;
}

static int count_threads(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* Run @cmd; its wall time; frames counted; the pause from --timing. */
static double run_timed(const char *cmd, long *frames, double *pause_us)
{
	char full[1024];
	snprintf(full, sizeof(full), "%s 2>/tmp/stack-bench.%d.err", cmd, (int)getpid());
	double t = run_tool(full, frames);
	*pause_us = 0;
	char path[64], line[512];
	snprintf(path, sizeof(path), "/tmp/stack-bench.%d.err", (int)getpid());
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "stopped ");
		if (p && strstr(line, "dbg-stack:"))
			*pause_us = atof(p + 8);
	}
	if (f)
		fclose(f);
	unlink(path);
	return t;
}

static void bench_real(int k, const char *dbg_stack)
{
	const struct real_target *rt = &real_targets[k];
	struct real_row *row = &real_rows[k];
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", corpus, rt->prog);
	if (access(path, X_OK) != 0) {
		printf("  %-26s not built (see tests/corpus/build.sh's message)\n", rt->label);
		return;
	}
	pid_t pid = start_real(path);
	if (!pid) {
		printf("  %-26s did not start\n", rt->label);
		return;
	}
	usleep(300000); /* threads a runtime starts after "ready" (node) */
	row->threads = count_threads(pid);
	char cmd[NTOOLS][1024];
	snprintf(cmd[T_FULL], sizeof(cmd[0]), "%s -n 0 --timing %d", dbg_stack, pid);
	snprintf(cmd[T_EU_FULL], sizeof(cmd[0]), "eu-stack -n 0 -i -s -p %d", pid);
	snprintf(cmd[T_NAMES], sizeof(cmd[0]), "%s -n 0 --names-only --timing %d", dbg_stack, pid);
	snprintf(cmd[T_EU_NAMES], sizeof(cmd[0]), "eu-stack -n 0 -p %d", pid);
	snprintf(cmd[T_NOCACHE], sizeof(cmd[0]), "%s -n 0 --no-cache --timing %d", dbg_stack, pid);
	snprintf(cmd[T_BEFORE], sizeof(cmd[0]), "%s -n 0 --timing %d", before_tool ? before_tool : "", pid);
	int ntools = before_tool ? NTOOLS : T_BEFORE;
	double t[NTOOLS][32], pz[NTOOLS][32], cpu[NTOOLS][32], dummy;
	long fr;
	/* Warm: the page cache for both sides, and libdbg's debuginfo cache
	 * (a user's second run onwards). */
	for (int i = 0; i < ntools; i++)
		run_timed(cmd[i], &fr, &dummy);
	for (int r = 0; r < reps; r++)
		for (int i = 0; i < ntools; i++)
			t[i][r] = run_timed(cmd[i], &row->frames[i], &pz[i][r]), cpu[i][r] = last_cpu;
	for (int i = 0; i < ntools; i++) {
		row->t[i] = median(t[i], reps);
		row->pause[i] = median(pz[i], reps);
		row->cpu[i] = median(cpu[i], reps);
	}
	row->done = true;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	printf("  %s (%s, %d threads)\n", rt->label, rt->prog, row->threads);
	for (int i = 0; i < ntools; i++) {
		printf("    %-40s %9.1f ms  (cpu %6.1f ms) %7ld frames", tool_names[i], row->t[i] * 1e3,
		       row->cpu[i] * 1e3, row->frames[i]);
		if (i != T_EU_FULL && i != T_EU_NAMES)
			printf("  paused %8.0f us", row->pause[i]);
		printf("\n");
	}
	if (row->frames[T_FULL] != row->frames[T_EU_NAMES] || row->frames[T_NAMES] != row->frames[T_EU_NAMES])
		printf("    note: frames: dbg-stack %ld, --names-only %ld, eu-stack %ld\n", row->frames[T_FULL],
		       row->frames[T_NAMES], row->frames[T_EU_NAMES]);
	printf("  ");
	verdict("  eu-stack -i -s / dbg-stack", row->t[T_EU_FULL] / row->t[T_FULL], 5, false);
	printf("  ");
	verdict("  eu-stack / dbg-stack --names-only", row->t[T_EU_NAMES] / row->t[T_NAMES], 5, false);
	printf("      %-44s %9.1fx and %.1fx\n", "  the same in CPU time (full, names only)",
	       row->cpu[T_EU_FULL] / row->cpu[T_FULL], row->cpu[T_EU_NAMES] / row->cpu[T_NAMES]);
	if (before_tool) {
		printf("  ");
		verdict("  pause: dbg-stack / --before", row->pause[T_FULL] / row->pause[T_BEFORE], 1, true);
	}
}

static void real_summary(void)
{
	printf("(r) summary, medians of %d runs (wall ms; cpu: the ratios in CPU time; pause: us the "
	       "target was stopped)\n", reps);
	printf("  | target | dbg-stack | eu-stack -i -s | ratio (cpu) | --names-only | eu-stack | "
	       "ratio (cpu) | pause%s |\n", before_tool ? " (before)" : "");
	printf("  |---|---|---|---|---|---|---|---|\n");
	for (int k = 0; k < NREAL; k++) {
		const struct real_row *r = &real_rows[k];
		if (!r->done)
			continue;
		printf("  | %s | %.1f | %.1f | %.1fx (%.1fx) | %.1f | %.1f | %.1fx (%.1fx) | %.0f",
		       real_targets[k].label, r->t[T_FULL] * 1e3, r->t[T_EU_FULL] * 1e3,
		       r->t[T_EU_FULL] / r->t[T_FULL], r->cpu[T_EU_FULL] / r->cpu[T_FULL],
		       r->t[T_NAMES] * 1e3, r->t[T_EU_NAMES] * 1e3, r->t[T_EU_NAMES] / r->t[T_NAMES],
		       r->cpu[T_EU_NAMES] / r->cpu[T_NAMES], r->pause[T_FULL]);
		if (before_tool)
			printf(" (%.0f)", r->pause[T_BEFORE]);
		printf(" |\n");
	}
}

/* libunwind-ptrace's way: one _UPT context per thread, PEEKDATA reads. */
static int upt_unwind(unw_addr_space_t as, pid_t tid, int cap)
{
	void *ui = _UPT_create(tid);
	unw_cursor_t c;
	int n = 0;
	if (ui && unw_init_remote(&c, as, ui) == 0) {
		do
			n++;
		while (n < cap && unw_step(&c) > 0);
	}
	_UPT_destroy(ui);
	return n;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* progress as it comes, even into a file */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--real-only") || !strcmp(argv[i], "--no-real")) {
			*(argv[i][2] == 'r' ? &real_only : &no_real) = true;
			continue;
		}
		if ((!strcmp(argv[i], "--corpus") || !strcmp(argv[i], "--before")) && i + 1 < argc) {
			*(argv[i][2] == 'c' ? &corpus : &before_tool) = argv[i + 1];
			i++;
			continue;
		}
		int *v = !strcmp(argv[i], "--reps") ? &reps : !strcmp(argv[i], "--gdb-reps") ? &gdb_reps
			: !strcmp(argv[i], "--threads") ? &nthreads : !strcmp(argv[i], "--depth") ? &depth
			: !strcmp(argv[i], "--deep") ? &deep : NULL;
		if (!v || i + 1 >= argc) {
			fprintf(stderr, "usage: stack-bench [--reps N] [--gdb-reps N] [--threads N] "
				"[--depth N] [--deep N] [--real-only | --no-real] [--corpus DIR] "
				"[--before DBG-STACK]\n");
			return 2;
		}
		*v = atoi(argv[++i]);
	}
	if (reps < 1 || reps > 31 || gdb_reps < 0 || gdb_reps > 31)
		die("--reps and --gdb-reps: 1..31", -EINVAL);
	const char *dbg_stack = BENCH_DIR "/../examples/dbg-stack -n 0";
	if (!no_real) {
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "%s %s", CORPUS_BUILD, corpus);
		int rc = system(cmd);
		if (rc == -1 || !WIFEXITED(rc) || (WEXITSTATUS(rc) != 0 && WEXITSTATUS(rc) != 2))
			die("tests/corpus/build.sh failed", -EIO);
		printf("(r) real programs: wall time of the tool, no frame limit, medians of %d runs "
		       "taken in turns%s\n", reps, before_tool ? "; --before: the older dbg-stack" : "");
		for (int k = 0; k < NREAL; k++)
			bench_real(k, BENCH_DIR "/../examples/dbg-stack");
		real_summary();
		if (real_only)
			return 0;
	}
	pid_t pid = start_target();
	printf("stack-bench: target %d: %d threads x %d frames + 1 x %d frames, -O2 -fomit-frame-pointer; "
	       "medians of %d runs\n", pid, nthreads, depth, deep, reps);

	printf("(a) whole-process stacks, no frame limit, wall time of the tool\n");
	struct row ours = tool("dbg-stack", dbg_stack, pid, "", reps);
	tool("dbg-stack --snapshot", dbg_stack, pid, " --snapshot", reps);
	struct row ours_a = tool("dbg-stack --addresses", dbg_stack, pid, " --addresses", reps);
	struct row eu = tool("eu-stack -i -s (the same information)", "eu-stack -n 0 -i -s -p", pid,
			     " 2>&1", reps);
	struct row eu_plain = tool("eu-stack (function names only)", "eu-stack -n 0 -p", pid, " 2>&1",
				   reps);
	struct row gdb = { "gdb", 0, 0 };
	if (gdb_reps)
		gdb = tool("gdb -batch 'thread apply all bt'", "gdb -nx -batch -p", pid,
			   " -ex 'thread apply all bt' 2>/dev/null", gdb_reps);
	if (ours.frames != eu_plain.frames)
		printf("  note: dbg-stack printed %ld frames, eu-stack %ld\n", ours.frames, eu_plain.frames);
	verdict("eu-stack -i -s / dbg-stack", eu.median / ours.median, 5, false);
	printf("  %-44s %9.1fx\n", "eu-stack / dbg-stack --addresses", eu_plain.median / ours_a.median);
	if (gdb_reps)
		verdict("gdb / dbg-stack", gdb.median / ours.median, 50, false);

	/* (b) and (c) in process, attached once. */
	struct dbg_proc *p;
	int r = dbg_proc_attach(pid, NULL, &p);
	if (r < 0)
		die("attach", r);
	pid_t tids[1024];
	int nt = dbg_proc_threads(p, tids, 1024);
	struct dbg_sym *sym;
	if ((r = dbg_sym_new(p, NULL, &sym)) < 0)
		die("dbg_sym_new", r);
	/* libdbg's unwinders: the default (compiled rules, then libunwind),
	 * rules then libdw, and each backend alone. */
	static const struct {
		const char *name;
		enum dbg_unwind_backend backend;
		unsigned int flags;
	} cfg[] = {
		{ "libdbg (compiled rules, then libunwind)", DBG_UNWIND_LIBUNWIND, 0 },
		{ "libdbg (compiled rules, then libdw)", DBG_UNWIND_LIBDW, 0 },
		{ "libdbg, libunwind backend alone", DBG_UNWIND_LIBUNWIND, DBG_UNWIND_BACKEND_ONLY },
		{ "libdbg, libdw backend alone", DBG_UNWIND_LIBDW, DBG_UNWIND_BACKEND_ONLY },
	};
	enum { NCFG = sizeof(cfg) / sizeof(cfg[0]) };
	struct dbg_unwinder *u[NCFG];
	for (int b = 0; b < NCFG; b++) {
		DBG_OPTS(dbg_unwind_opts, o, .backend = cfg[b].backend, .flags = cfg[b].flags);
		if ((r = dbg_unwind_new(p, sym, &o, &u[b])) < 0)
			die("dbg_unwind_new", r);
	}
	static struct dbg_frame fr[20000];
	/* The threads of ~depth frames: all but the main thread and the deep one. */
	pid_t mid[1024];
	int nmid = 0;
	for (int i = 0; i < nt; i++) {
		int n = dbg_unwind_thread(u[0], tids[i], fr, 20000);
		if (n > depth && n < depth + 20)
			mid[nmid++] = tids[i];
	}
	unw_addr_space_t as = unw_create_addr_space(&_UPT_accessors, 0);
	/* Per thread, medians; row NCFG is libunwind-ptrace. */
	double t[NCFG + 1][32];
	long nframes[NCFG + 1];
	for (int k = 0; k < reps; k++)
		for (int b = 0; b <= NCFG; b++) {
			double t0 = now();
			nframes[b] = 0;
			for (int i = 0; i < nmid; i++)
				nframes[b] += b < NCFG ? dbg_unwind_thread(u[b], mid[i], fr, 20000)
						      : upt_unwind(as, mid[i], 20000);
			t[b][k] = (now() - t0) / nmid;
		}
	printf("(b) unwinding one stopped thread of ~%d frames (%d threads, warm)\n", depth, nmid);
	double m[NCFG + 1];
	for (int b = 0; b <= NCFG; b++) {
		m[b] = median(t[b], reps);
		printf("  %-44s %9.1f us  %7.1f frames/thread\n",
		       b < NCFG ? cfg[b].name : "libunwind-ptrace (_UPT accessors)", m[b] * 1e6,
		       (double)nframes[b] / nmid);
	}
	verdict("libunwind-ptrace / libdbg per thread", m[NCFG] / m[0], 10, false);
	unw_destroy_addr_space(as);

	/* (c) the profiler's loop: stop, copy, resume; unwind afterwards. */
	if ((r = dbg_proc_resume(p)) < 0)
		die("resume", r);
	usleep(20000);
	static struct dbg_snapshot *snaps[1024];
	/* Samples are cheap: 31 of them, whatever --reps says. */
	enum { SAMPLES = 31 };
	double t_pause[SAMPLES], t_stop[SAMPLES], t_copy[SAMPLES], t_resume[SAMPLES];
	for (int k = 0; k < SAMPLES; k++) {
		double t0 = now();
		if ((r = dbg_proc_stop(p)) < 0)
			die("stop", r);
		double t1 = now();
		if ((r = dbg_snapshot_take_threads(p, tids, nt, 1 << 20, snaps)) != nt)
			die("snapshot", r < 0 ? r : -ESRCH);
		double t2 = now();
		if ((r = dbg_proc_resume(p)) < 0)
			die("resume", r);
		double t3 = now();
		t_pause[k] = (t3 - t0) / nt;
		t_stop[k] = (t1 - t0) / nt;
		t_copy[k] = (t2 - t1) / nt;
		t_resume[k] = (t3 - t2) / nt;
		long frames = 0;
		for (int i = 0; i < nt; i++)
			frames += dbg_unwind_snapshot(u[0], snaps[i], fr, 20000);
		if (k == 0)
			printf("(c) snapshot mode, %d samples: %d threads, %ld frames unwound from the copies "
			       "after resuming\n", SAMPLES, nt, frames);
		usleep(10000);
	}
	for (int i = 0; i < nt; i++)
		dbg_snapshot_free(snaps[i]);
	double m_pause = median(t_pause, SAMPLES);
	printf("  %-44s %9.1f us  (%.2f ms for the whole process)\n",
	       "target paused per thread (stop, copy, resume)", m_pause * 1e6, m_pause * nt * 1e3);
	printf("  %-44s %9.1f us + %.1f us + %.1f us\n", "  of which stop + copy + resume",
	       median(t_stop, SAMPLES) * 1e6, median(t_copy, SAMPLES) * 1e6,
	       median(t_resume, SAMPLES) * 1e6);
	printf("  %-44s %9.1f us   goal <= 30 us  %s\n", "pause per thread", m_pause * 1e6,
	       m_pause * 1e6 <= 30 ? "MEETS" : "MISSES");

	for (int b = 0; b < NCFG; b++)
		dbg_unwind_free(u[b]);
	dbg_sym_free(sym);
	dbg_proc_detach(p);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}
