/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Target of bench/server-bench.sh. Modes (each prints "ready PID ..."
 * when set up, then waits to be attached):
 *   big MiB        a buffer of MiB MiB of pseudo-random bytes; "ready PID ADDR"
 *   zeros MiB      the same of zeros
 *   threads N      N threads blocked in read(); "ready PID"
 *   hits N         calls hit() N times (a breakpoint target), then exits 0
 *   mprotect MiB   one thread mprotect()s a MiB MiB region in a loop while
 *                  the main thread blocks; "ready PID ADDR" (a small buffer)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int pipefd[2];
volatile uint64_t hits;
static char small[4096] = "server-bench";
static size_t mp_len;
static char *mp_region;

__attribute__((noinline)) void hit(void)
{
	hits++;
}

static void block(void)
{
	char c;
	while (read(pipefd[0], &c, 1) < 0)
		;
}

static void *blocker(void *arg)
{
	block();
	return arg;
}

static void *protector(void *arg)
{
	for (;;) {
		mprotect(mp_region, mp_len, PROT_READ);
		mprotect(mp_region, mp_len, PROT_READ | PROT_WRITE);
	}
	return arg;
}

int main(int argc, char **argv)
{
	if (argc < 3 || pipe(pipefd) < 0)
		return 2;
	long n = atol(argv[2]);
	if (!strcmp(argv[1], "big") || !strcmp(argv[1], "zeros")) {
		size_t len = (size_t)n << 20;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 1;
		/* Bytes that do not repeat: both servers run-length encode
		 * their replies, so zeros measure the RLE, not the reads
		 * ("zeros": touched, so the pages are there). */
		uint64_t x = 88172645463325252ull;
		if (argv[1][0] == 'z')
			for (size_t i = 0; i < len; i += 4096)
				p[i] = 0;
		for (size_t i = 0; argv[1][0] == 'b' && i + 8 <= len; i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(p + i, &x, 8);
		}
		printf("ready %d %p\n", (int)getpid(), (void *)p);
		fflush(stdout);
		block();
	} else if (!strcmp(argv[1], "threads")) {
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 64 * 1024);
		for (long i = 0; i < n; i++) {
			pthread_t t;
			if (pthread_create(&t, &a, blocker, NULL))
				return 1;
		}
		sleep(1);
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		block();
	} else if (!strcmp(argv[1], "hits")) {
		for (long i = 0; i < n; i++)
			hit();
		return 0;
	} else if (!strcmp(argv[1], "mprotect")) {
		mp_len = (size_t)n << 20;
		mp_region = mmap(NULL, mp_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mp_region == MAP_FAILED)
			return 1;
		for (size_t i = 0; i < mp_len; i += 4096)
			mp_region[i] = 1;
		pthread_t t;
		pthread_create(&t, NULL, protector, NULL);
		printf("ready %d %p\n", (int)getpid(), (void *)small);
		fflush(stdout);
		block();
	}
	return 0;
}
