/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libunwind-ptrace sampling loop the benchmark compares against, the
 * way uwpmp-style tools sample: every 1/HZ s, stop every thread
 * (PTRACE_INTERRUPT), unwind each with libunwind's _UPT accessors
 * (PEEKDATA per word), resume. Written for the benchmark; prints its
 * samples and CPU per sample.
 * Usage: prof-uwpmp HZ SECONDS PID
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <libunwind-ptrace.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	int hz = atoi(argv[1]);
	double secs = atof(argv[2]);
	pid_t pid = atoi(argv[3]);
	pid_t tids[1024];
	int n = 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return 1;
	struct dirent *e;
	while ((e = readdir(d)) && n < 1024)
		if (e->d_name[0] != '.')
			tids[n++] = atoi(e->d_name);
	closedir(d);
	for (int i = 0; i < n; i++)
		if (ptrace(PTRACE_SEIZE, tids[i], 0, 0) < 0) {
			perror("PTRACE_SEIZE");
			return 1;
		}
	unw_addr_space_t as = unw_create_addr_space(&_UPT_accessors, 0);
	long samples = 0, frames = 0;
	double t0 = now(), next = t0, pause = 0;
	char alive[1024];
	memset(alive, 1, sizeof(alive));
	int nalive = n;
	while (now() - t0 < secs && nalive > 0) {
		double a = now();
		for (int i = 0; i < n; i++)
			if (alive[i] && ptrace(PTRACE_INTERRUPT, tids[i], 0, 0) < 0) {
				alive[i] = 0;
				nalive--;
			}
		/* Collect the stops in any order: a dying leader is reported
		 * only after its other threads, so waiting for it first would
		 * never end. */
		int need = nalive;
		while (need > 0) {
			int st;
			pid_t w = waitpid(-1, &st, __WALL);
			if (w < 0)
				break;
			int i = 0;
			while (i < n && tids[i] != w)
				i++;
			if (i == n)
				continue;
			if (!WIFSTOPPED(st) && alive[i]) {
				alive[i] = 0;
				nalive--;
			}
			need--;
		}
		for (int i = 0; i < n; i++) {
			if (!alive[i])
				continue;
			void *ui = _UPT_create(tids[i]);
			unw_cursor_t c;
			if (ui && unw_init_remote(&c, as, ui) == 0) {
				int k = 0;
				do {
					unw_word_t ip;
					unw_get_reg(&c, UNW_REG_IP, &ip);
					k++;
				} while (k < 128 && unw_step(&c) > 0);
				frames += k;
				samples++;
			}
			if (ui)
				_UPT_destroy(ui);
		}
		for (int i = 0; i < n; i++)
			if (alive[i])
				ptrace(PTRACE_CONT, tids[i], 0, 0);
		pause += now() - a;
		next += 1.0 / hz;
		double w = next - now();
		if (w > 0)
			usleep((useconds_t)(w * 1e6));
		else
			next = now();
	}
	for (int i = 0; i < n; i++) {
		if (!alive[i] || ptrace(PTRACE_INTERRUPT, tids[i], 0, 0) < 0)
			continue;
		int st;
		if (waitpid(tids[i], &st, __WALL | WNOHANG) >= 0)
			ptrace(PTRACE_DETACH, tids[i], 0, 0);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
		     ru.ru_stime.tv_usec / 1e6;
	fprintf(stderr, "uwpmp: %ld samples, %.1f frames/sample, paused %.1f ms, CPU %.1f us/sample\n",
		samples, samples ? (double)frames / samples : 0, pause * 1e3,
		samples ? cpu * 1e6 / samples : 0);
	return 0;
}
