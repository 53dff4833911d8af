/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profiler benchmark's target: N threads each doing units of work
 * (a 24-deep call chain, then arithmetic) for S seconds, then printing
 * the units done per second over all threads: the target's own work rate,
 * which a profiler slows down by stopping it or taking its CPU.
 * Usage: prof-target THREADS SECONDS. Prints "ready PID" first, then
 * "rate UNITS_PER_SECOND cpurate UNITS_PER_CPU_SECOND" at the end: the
 * second is the work per second of CPU the target got (user + system),
 * which the machine's other load does not change, but time the kernel
 * spends in the target for a profiler (perf copying stacks) does.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static volatile int go, stop;
static uint64_t counts[1024];

__attribute__((noinline)) static uint64_t work(uint64_t x)
{
	for (int i = 0; i < 2000; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}

__attribute__((noinline)) static uint64_t chain(int depth, uint64_t x)
{
	if (depth == 0)
		return work(x);
	uint64_t r = chain(depth - 1, x + 1);
	__asm__ volatile("" : "+r"(r)); /* no tail call */
	return r;
}

static void *run(void *arg)
{
	uint64_t *c = arg, x = 1;
	while (!go)
		;
	while (!stop) {
		x = chain(24, x);
		(*c)++;
	}
	return (void *)(uintptr_t)x;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	double secs = argc > 2 ? atof(argv[2]) : 3;
	if (n < 1 || n > 1024)
		return 2;
	pthread_t t[1024];
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, run, &counts[i * 8 % 1024]);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	/* The profiler attaches within this second; the window starts after. */
	usleep(1000000);
	double t0 = now();
	uint64_t c0 = 0, c1 = 0;
	struct rusage u0, u1;
	getrusage(RUSAGE_SELF, &u0);
	go = 1;
	for (int i = 0; i < n; i++)
		c0 += __atomic_load_n(&counts[i * 8 % 1024], __ATOMIC_RELAXED);
	while (now() - t0 < secs)
		usleep(10000);
	for (int i = 0; i < n; i++)
		c1 += __atomic_load_n(&counts[i * 8 % 1024], __ATOMIC_RELAXED);
	double dt = now() - t0;
	getrusage(RUSAGE_SELF, &u1);
	double cpu = (u1.ru_utime.tv_sec - u0.ru_utime.tv_sec) + (u1.ru_utime.tv_usec - u0.ru_utime.tv_usec) / 1e6 +
		     (u1.ru_stime.tv_sec - u0.ru_stime.tv_sec) + (u1.ru_stime.tv_usec - u0.ru_stime.tv_usec) / 1e6;
	stop = 1;
	printf("rate %.1f cpurate %.1f\n", (double)(c1 - c0) / dt, cpu > 0 ? (double)(c1 - c0) / cpu : 0);
	fflush(stdout);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
