/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The syscall benchmark's target (bench/sys-bench.c): ITERS getppid()
 * calls, and every EVERY-th time one getsid(0), the rare call a tracer
 * catches. Times its own loop (clock_gettime is the vdso's: no system
 * call) and prints "rate CALLS_PER_SECOND rare N".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 1000000;
	long every = argc > 2 ? atol(argv[2]) : 1000;
	if (iters < 1 || every < 1)
		return 2;
	struct timespec a, b;
	long rare = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < iters; i++) {
		syscall(SYS_getppid);
		if (i % every == 0) {
			syscall(SYS_getsid, 0);
			rare++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
	printf("rate %.0f rare %ld\n", (iters + rare) / s, rare);
	return 0;
}
