/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for the dbg-server tests. "srv_target block": three named
 * threads and main block in system calls (a pipe nobody writes) after
 * printing "ready PID"; every attach sees the same registers and stacks.
 * "srv_target run": a short deterministic program for breakpoints and
 * stepping: calls add() five times, then spins until interrupted or for
 * 30 s (for ^C), then exits 7.
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

__attribute__((noinline)) int add(int a, int b)
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

int main(int argc, char **argv)
{
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
		s = add(s, i);
	printf("sum %d\n", s);
	fflush(stdout);
	time_t end = time(NULL) + 30;
	while (spinning && time(NULL) < end)
		spins++;
	return 7;
}
