/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core-bench: dbg-core against gcore on one target with 1 GiB of
 * populated heap, in the same run (issue 12, acceptance 4).
 *
 *   core-bench [-m MiB] [-n RUNS] [-d DIR]     (default 1024, 3, /dev/shm)
 *
 * For each writer (gcore, dbg-core, dbg-core --one-thread, dbg-core
 * --no-pause (pre-copy), dbg-core --no-pause --fork, dbg-core --minimal):
 * the median wall time, the target's pause as the target
 * itself saw it (the longest gap of a thread that reads the clock every
 * 50 us, less its gap when nobody dumps), dbg-core's own pause figure,
 * and the core's apparent and allocated size. Then the goals: >= 3x
 * faster than gcore; low-pause <= 20 ms for 1 GiB; minimal <= 1 MiB, each
 * MET or NOT MET, with the load average before and after. Last, a busy
 * target (a thread rewriting 16 MiB all the time): the two low-pause
 * mechanisms' pause and that thread's longest stall (its page faults
 * wait for whatever holds its mmap lock).
 */
#define _GNU_SOURCE
#include "stats.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DBG_CORE_PATH
#define DBG_CORE_PATH "dbg-core"
#endif

/* Shared with the target (MAP_SHARED before the fork). */
struct shared {
	volatile double max_gap;   /* seconds */
	volatile int reset;
	volatile int ready;
	volatile int fork_req;     /* the target forks itself, times it */
	volatile double fork_s;
	volatile double busy_gap;   /* the busy thread's longest gap, seconds */
	volatile int busy_reset;
};

static struct shared *sh;

static void *ticker(void *a)
{
	(void)a;
	double last = now();
	for (;;) {
		usleep(50);
		double t = now();
		if (sh->fork_req) {
			/* The floor of a fork snapshot: the same fork, made by
			 * the target itself. */
			double t0 = now();
			pid_t c = fork();
			if (c == 0)
				_exit(0);
			sh->fork_s = now() - t0;
			waitpid(c, NULL, 0);
			sh->fork_req = 0;
			last = now();
			continue;
		}
		if (sh->reset) {
			sh->max_gap = 0;
			sh->reset = 0;
		} else if (t - last > sh->max_gap) {
			sh->max_gap = t - last;
		}
		last = t;
	}
	return NULL;
}

/* The busy target's writer: one word in each page of 16 MiB, pass after
 * pass; the longest time between two groups of 64 pages. */
static void *busy(void *a)
{
	volatile uint8_t *m = a;
	double last = now();
	for (uint64_t gen = 1;; gen++) {
		for (size_t i = 0; i < (16u << 20); i += 4096) {
			m[i] = (uint8_t)gen;
			if ((i & (64 * 4096 - 1)) == 0) {
				double t = now();
				if (sh->busy_reset) {
					sh->busy_gap = 0;
					sh->busy_reset = 0;
				} else if (t - last > sh->busy_gap) {
					sh->busy_gap = t - last;
				}
				last = t;
			}
		}
	}
	return NULL;
}

/* @sparse: the same size mapped, one page in 4096 written. */
static void target(size_t mib, bool sparse, bool with_busy)
{
	size_t n = mib << 20;
	uint8_t *heap = malloc(n);
	if (!heap)
		_exit(2);
	for (size_t i = 0; i < n; i += sparse ? 4096 * 4096 : 64)
		heap[i] = (uint8_t)(i >> 6) | 1;
	pthread_t t;
	pthread_create(&t, NULL, ticker, NULL);
	if (with_busy) {
		uint8_t *m = malloc(16u << 20);
		if (!m)
			_exit(2);
		memset(m, 1, 16u << 20);
		pthread_create(&t, NULL, busy, m);
	}
	sh->ready = 1;
	for (;;)
		pause();
}

struct result {
	double wall, tpause, libpause;
	long long apparent, allocated;
};

/* Run @cmd (a shell command line), timing it; the core is @core. */
static int run(const char *cmd, const char *core, double base_gap, struct result *res)
{
	unlink(core);
	sh->reset = 1;
	usleep(20000);
	char out[256] = "";
	double t0 = now();
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	char line[512];
	while (fgets(line, sizeof(line), f))
		;
	int st = pclose(f);
	res->wall = now() - t0;
	usleep(20000);
	res->tpause = sh->max_gap - base_gap;
	if (res->tpause < 0)
		res->tpause = 0;
	(void)out;
	struct stat s;
	if (st != 0 || stat(core, &s) < 0) {
		fprintf(stderr, "core-bench: '%s' failed (status %d)\n", cmd, st);
		return -1;
	}
	res->apparent = s.st_size;
	res->allocated = (long long)s.st_blocks * 512;
	return 0;
}

static double libpause_of(const char *errfile)
{
	FILE *f = fopen(errfile, "r");
	double ms = -1;
	char line[1024];
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "target paused ");
		if (p)
			ms = strtod(p + 14, NULL);
	}
	if (f)
		fclose(f);
	return ms;
}

int main(int argc, char **argv)
{
	size_t mib = 1024;
	int runs = 3;
	const char *dir = "/dev/shm";
	int c;
	while ((c = getopt(argc, argv, "m:n:d:")) != -1) {
		switch (c) {
		case 'm': mib = strtoul(optarg, NULL, 10); break;
		case 'n': runs = atoi(optarg); break;
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: core-bench [-m MiB] [-n RUNS] [-d DIR]\n");
			return 1;
		}
	}
	if (runs < 1 || runs > 50 || !mib)
		return 1;
	bool have_gcore = system("command -v gcore > /dev/null 2>&1") == 0;
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	double la0[3] = { 0 }, la1[3] = { 0 };
	getloadavg(la0, 3);
	pid_t pid = fork();
	if (pid == 0)
		target(mib, false, false);
	while (!sh->ready)
		usleep(10000);
	/* The target's own gap with nobody dumping. */
	sh->reset = 1;
	usleep(300000);
	double base_gap = sh->max_gap;

	struct {
		const char *name, *opt;
		bool gdb;
	} writers[] = {
		{ "gcore", "", true },
		{ "dbg-core", "", false },
		{ "dbg-core --one-thread", "--one-thread", false },
		{ "dbg-core --no-pause (pre-copy)", "--no-pause", false },
		{ "dbg-core --no-pause --fork", "--no-pause --fork", false },
		{ "dbg-core --minimal", "--minimal", false },
	};
	enum { NW = 6, W_GCORE = 0, W_FULL = 1, W_LP = 3, W_FORK = 4, W_MIN = 5 };
	const char *cores[NW] = { "bench-gcore", "bench-full", "bench-one", "bench-lp", "bench-fork",
				  "bench-min" };
	struct result med[NW];
	memset(med, 0, sizeof(med));
	printf("core-bench: target %d with %zu MiB populated heap, cores in %s, %d runs each, "
	       "median; the target's idle gap %.3f ms\n", pid, mib, dir, runs, base_gap * 1e3);
	int ok[NW] = { 0 };
	for (int w = 0; w < NW; w++) {
		if (writers[w].gdb && !have_gcore)
			continue;
		double wall[50], tp[50], lp[50];
		struct result r = { 0 };
		int good = 0;
		for (int i = 0; i < runs; i++) {
			char cmd[1024], core[512], err[512];
			snprintf(core, sizeof(core), "%s/%s.%d", dir, cores[w], pid);
			snprintf(err, sizeof(err), "%s/bench.err", dir);
			if (writers[w].gdb)
				snprintf(cmd, sizeof(cmd), "gcore -o %s/%s %d > /dev/null 2>&1", dir,
					 cores[w], pid);
			else
				snprintf(cmd, sizeof(cmd), "%s -q %s -o %s/%s %d 2> %s", DBG_CORE_PATH,
					 writers[w].opt, dir, cores[w], pid, err);
			if (run(cmd, core, base_gap, &r) < 0)
				break;
			wall[good] = r.wall;
			tp[good] = r.tpause;
			lp[good] = writers[w].gdb ? -1 : libpause_of(err);
			good++;
			unlink(core);
		}
		if (!good)
			continue;
		ok[w] = 1;
		med[w] = r;
		med[w].wall = median(wall, good);
		med[w].tpause = median(tp, good);
		med[w].libpause = median(lp, good);
	}
	double forks[5];
	for (int i = 0; i < 5; i++) {
		sh->fork_req = 1;
		while (sh->fork_req)
			usleep(1000);
		forks[i] = sh->fork_s;
	}
	double fork_med = median(forks, 5);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	printf("\n| writer | wall (s) | target's pause, seen by it (ms) | pause dbg-core reports (ms) "
	       "| apparent (MiB) | allocated (MiB) |\n|---|---|---|---|---|---|\n");
	for (int w = 0; w < NW; w++) {
		if (!ok[w])
			continue;
		char lps[32] = "-";
		if (med[w].libpause >= 0)
			snprintf(lps, sizeof(lps), "%.2f", med[w].libpause);
		printf("| %s | %.3f | %.2f | %s | %.1f | %.2f |\n", writers[w].name, med[w].wall,
		       med[w].tpause * 1e3, lps, med[w].apparent / 1048576.0,
		       med[w].allocated / 1048576.0);
	}
	/* The same size mapped but almost never written: what the pagemap
	 * saves (gcore reads every page). */
	sh->ready = 0;
	pid = fork();
	if (pid == 0)
		target(mib, true, false);
	while (!sh->ready)
		usleep(10000);
	struct result sp[2];
	bool sp_ok[2] = { false, false };
	for (int w = 0; w < 2; w++) {
		if (w == 0 && !have_gcore)
			continue;
		double wall[50];
		struct result r = { 0 };
		int good = 0;
		for (int i = 0; i < runs; i++) {
			char cmd[1024], core[512];
			snprintf(core, sizeof(core), "%s/bench-sparse%d.%d", dir, w, pid);
			if (w == 0)
				snprintf(cmd, sizeof(cmd), "gcore -o %s/bench-sparse0 %d > /dev/null 2>&1",
					 dir, pid);
			else
				snprintf(cmd, sizeof(cmd), "%s -q -o %s/bench-sparse1 %d 2> /dev/null",
					 DBG_CORE_PATH, dir, pid);
			if (run(cmd, core, base_gap, &r) < 0)
				break;
			wall[good++] = r.wall;
			unlink(core);
		}
		if (!good)
			continue;
		sp[w] = r;
		sp[w].wall = median(wall, good);
		sp_ok[w] = true;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	char errpath[512];
	snprintf(errpath, sizeof(errpath), "%s/bench.err", dir);
	unlink(errpath);
	printf("\nsparse target (%zu MiB malloc'ed, one page in 4096 written):\n", mib);
	for (int w = 0; w < 2; w++)
		if (sp_ok[w])
			printf("| %s | %.3f s | %.1f MiB apparent | %.2f MiB allocated |\n",
			       w ? "dbg-core" : "gcore", sp[w].wall, sp[w].apparent / 1048576.0,
			       sp[w].allocated / 1048576.0);
	if (sp_ok[0] && sp_ok[1])
		printf("  dbg-core %.1fx faster than gcore on it\n", sp[0].wall / sp[1].wall);

	printf("\nfork() of the target by itself (the floor of a fork snapshot), median of 5: "
	       "%.2f ms\n", fork_med * 1e3);
	/* A busy target: 256 MiB of heap and a thread rewriting 16 MiB. */
	sh->ready = 0;
	size_t busy_mib = mib < 256 ? mib : 256;
	pid = fork();
	if (pid == 0)
		target(busy_mib, false, true);
	while (!sh->ready)
		usleep(10000);
	usleep(200000);
	sh->busy_reset = 1;
	usleep(300000);
	double busy_base = sh->busy_gap;
	double bp[2] = { -1, -1 }, bs[2] = { -1, -1 };
	for (int w = 0; w < 2; w++) {
		double lp[50], st[50];
		int good = 0;
		for (int i = 0; i < runs; i++) {
			char cmd[1024], core[512], err[512];
			snprintf(core, sizeof(core), "%s/bench-busy.%d", dir, pid);
			snprintf(err, sizeof(err), "%s/bench.err", dir);
			snprintf(cmd, sizeof(cmd), "%s -q --no-pause %s -o %s/bench-busy %d 2> %s",
				 DBG_CORE_PATH, w ? "--fork" : "", dir, pid, err);
			struct result r;
			sh->busy_reset = 1;
			usleep(20000);
			if (run(cmd, core, base_gap, &r) < 0)
				break;
			lp[good] = libpause_of(err);
			st[good] = sh->busy_gap - busy_base;
			good++;
			unlink(core);
		}
		if (good) {
			bp[w] = median(lp, good);
			bs[w] = median(st, good);
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(errpath);
	printf("\nbusy target (%zu MiB heap, a thread writing one word per page of 16 MiB without "
	       "end; its idle longest gap %.3f ms):\n", busy_mib, busy_base * 1e3);
	printf("| writer | pause dbg-core reports (ms) | the busy thread's longest stall, less idle (ms) |\n"
	       "|---|---|---|\n");
	for (int w = 0; w < 2; w++)
		if (bp[w] >= 0)
			printf("| dbg-core --no-pause%s | %.2f | %.2f |\n", w ? " --fork" : " (pre-copy)",
			       bp[w], bs[w] * 1e3);

	getloadavg(la1, 3);
	printf("\nload average: %.2f %.2f %.2f before, %.2f %.2f %.2f after (2 vCPUs, shared)\n",
	       la0[0], la0[1], la0[2], la1[0], la1[1], la1[2]);
	printf("\ngoals:\n");
	if (ok[W_GCORE] && ok[W_FULL])
		printf("  dbg-core >= 3x faster than gcore: %.1fx (%.3f s against %.3f s)  %s\n",
		       med[W_GCORE].wall / med[W_FULL].wall, med[W_FULL].wall, med[W_GCORE].wall,
		       med[W_GCORE].wall / med[W_FULL].wall >= 3 ? "MET" : "NOT MET");
	if (ok[W_LP])
		printf("  low-pause pause <= 20 ms for %zu MiB: %.2f ms (dbg-core), %.2f ms (target)  %s\n",
		       mib, med[W_LP].libpause, med[W_LP].tpause * 1e3,
		       med[W_LP].libpause <= 20 && med[W_LP].tpause * 1e3 <= 20 ? "MET" : "NOT MET");
	if (ok[W_FORK])
		printf("    (the fork snapshot in the same run: %.2f ms, %.2f ms; fork floor %.2f ms)\n",
		       med[W_FORK].libpause, med[W_FORK].tpause * 1e3, fork_med * 1e3);
	if (ok[W_MIN])
		printf("  minimal <= 1 MiB: %.0f KiB allocated, %.0f KiB apparent  %s\n",
		       med[W_MIN].allocated / 1024.0, med[W_MIN].apparent / 1024.0,
		       med[W_MIN].apparent <= 1 << 20 ? "MET" : "NOT MET");
	return 0;
}
