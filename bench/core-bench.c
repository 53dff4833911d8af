/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core-bench: dbg-core against gcore on one target with 1 GiB of
 * populated heap, in the same run (issue 12, acceptance 4).
 *
 *   core-bench [-m MiB] [-n RUNS] [-d DIR]     (default 1024, 3, /dev/shm)
 *
 * For each writer (gcore, dbg-core, dbg-core --no-pause, dbg-core
 * --minimal): the median wall time, the target's pause as the target
 * itself saw it (the longest gap of a thread that reads the clock every
 * 50 us, less its gap when nobody dumps), dbg-core's own pause figure,
 * and the core's apparent and allocated size. Then the goals: >= 3x
 * faster than gcore; low-pause <= 20 ms for 1 GiB; minimal <= 1 MiB.
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

/* @sparse: the same size mapped, one page in 4096 written. */
static void target(size_t mib, bool sparse)
{
	size_t n = mib << 20;
	uint8_t *heap = malloc(n);
	if (!heap)
		_exit(2);
	for (size_t i = 0; i < n; i += sparse ? 4096 * 4096 : 64)
		heap[i] = (uint8_t)(i >> 6) | 1;
	pthread_t t;
	pthread_create(&t, NULL, ticker, NULL);
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
	pid_t pid = fork();
	if (pid == 0)
		target(mib, false);
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
		{ "dbg-core --no-pause", "--no-pause", false },
		{ "dbg-core --minimal", "--minimal", false },
	};
	const char *cores[] = { "bench-gcore", "bench-full", "bench-one", "bench-lp", "bench-min" };
	struct result med[5];
	memset(med, 0, sizeof(med));
	printf("core-bench: target %d with %zu MiB populated heap, cores in %s, %d runs each, "
	       "median; the target's idle gap %.3f ms\n", pid, mib, dir, runs, base_gap * 1e3);
	int ok[5] = { 0 };
	for (int w = 0; w < 5; w++) {
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
	for (int w = 0; w < 5; w++) {
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
		target(mib, true);
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
	printf("\ngoals:\n");
	if (ok[0] && ok[1])
		printf("  dbg-core >= 3x faster than gcore: %.1fx  %s\n", med[0].wall / med[1].wall,
		       med[0].wall / med[1].wall >= 3 ? "MET" : "NOT MET");
	if (ok[3])
		printf("  low-pause pause <= 20 ms for %zu MiB: %.2f ms (dbg-core), %.2f ms (target)  %s\n",
		       mib, med[3].libpause, med[3].tpause * 1e3,
		       med[3].libpause <= 20 && med[3].tpause * 1e3 <= 20 ? "MET" : "NOT MET");
	if (ok[4])
		printf("  minimal <= 1 MiB: %.0f KiB allocated, %.0f KiB apparent  %s\n",
		       med[4].allocated / 1024.0, med[4].apparent / 1024.0,
		       med[4].apparent <= 1 << 20 ? "MET" : "NOT MET");
	return 0;
}
