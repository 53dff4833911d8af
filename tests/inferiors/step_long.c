/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Long-running callees for the stepping tests (step_gdb_long*): next over
 * a call and finish out of a frame whose callee runs ~66 million
 * instructions (compute()), and a finish from a recursive frame whose
 * deeper activation returns to the same address after the long call.
 * Single-stepped (~30 us an instruction) each would take half an hour;
 * run free to the return address they take milliseconds. With the
 * argument "threads" a second thread calls work() in a loop, so it runs
 * through the return address of work()'s call of compute() all the time
 * while the first thread steps over that call.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LONG_N 6000000ul /* 11 instructions an iteration at -O0: 66 million */

static volatile unsigned long sink;
static volatile unsigned long churns;

__attribute__((noinline, noipa)) void start_here(void)
{
	__asm__ volatile("int3");
}

__attribute__((noinline, noipa)) unsigned long compute(unsigned long n)
{
	unsigned long x = 1;
	for (unsigned long i = 0; i < n; i++)
		x = x * 33 + i;
	return x;
}

__attribute__((noinline, noipa)) unsigned long work(unsigned long n)
{
	unsigned long r = compute(n);
	sink += r;
	return r & 0xffff;
}

__attribute__((noinline, noipa)) unsigned long deep(int n, unsigned long k)
{
	if (n <= 0)
		return compute(k) & 0xff;
	unsigned long r = deep(n - 1, k);
	sink += r;
	return r + (unsigned long)n;
}

static void *churn(void *arg)
{
	(void)arg;
	for (;;) {
		work(10);
		churns++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	if (argc > 1 && strcmp(argv[1], "threads") == 0)
		pthread_create(&th, NULL, churn, NULL);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	start_here();
	unsigned long a = work(LONG_N);
	unsigned long b = work(LONG_N);
	unsigned long c = deep(3, LONG_N);
	sink = a + b + c;
	printf("%lu %lu %lu %lu\n", a, b, c, churns);
	return 0;
}
