/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for the dbg-server tests. "srv_target block": three named
 * threads and main block in system calls (a pipe nobody writes) after
 * printing "ready PID"; every attach sees the same registers and stacks.
 * "srv_target run": a short deterministic program for breakpoints and
 * stepping: calls srv_add() five times, then spins until interrupted or for
 * 30 s (for ^C), then exits 7.
 * "srv_target vec": loads a known pattern into zmm5 (bytes 0..63), ymm3
 * (0..31) and k2 (0x5a5a) where the CPU has AVX-512 (else exits 77), and
 * reaches the global label vec_loaded with them in place.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int global_var = 42;
uint64_t table[8] = { 1, 2, 3, 5, 8, 13, 21, 34 };
static int pipefd[2];
volatile int spinning = 1;
volatile uint64_t spins;

__attribute__((noinline)) int srv_add(int a, int b)
{
	return a + b;
}

__attribute__((noinline)) static void block_here(void)
{
	char c;
	while (read(pipefd[0], &c, 1) < 0)
		;
}

static void *worker(void *arg)
{
	char name[16];
	snprintf(name, sizeof(name), "worker%d", (int)(intptr_t)arg);
	pthread_setname_np(pthread_self(), name);
	block_here();
	return NULL;
}

static const uint8_t pattern[64] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
	22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61,
	62, 63 };

static int vec(void)
{
	if (!__builtin_cpu_supports("avx512f"))
		return 77;
	__asm__ volatile("vmovdqu64 (%0), %%zmm5\n\t"
			 "vmovdqu (%0), %%ymm3\n\t"
			 "movl $0x5a5a, %%eax\n\t"
			 "kmovw %%eax, %%k2\n\t"
			 ".globl vec_loaded\n"
			 "vec_loaded:\n\t"
			 "nop\n\t"
			 : : "r"(pattern) : "eax", "xmm3", "xmm5", "memory");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "vec"))
		return vec();
	if (pipe(pipefd) < 0)
		return 1;
	if (argc > 1 && !strcmp(argv[1], "block")) {
		pthread_t t[3];
		for (int i = 0; i < 3; i++)
			pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
		sleep(1); /* let them reach read() */
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		block_here();
		return 0;
	}
	int s = 0;
	for (int i = 0; i < 5; i++)
		s = srv_add(s, i);
	printf("sum %d\n", s);
	fflush(stdout);
	time_t end = time(NULL) + 30;
	while (spinning && time(NULL) < end)
		spins++;
	return 7;
}
