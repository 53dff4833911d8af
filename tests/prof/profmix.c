/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for the profiler's accuracy test. Thread "worker" spends 70%
 * of its own CPU time in spin_f() and 30% in spin_g() (measured with its
 * thread CPU clock, so preemption does not skew it; cycles of random
 * length); thread "sleeper"
 * waits in nanosleep() inside sleep_here(); the main thread waits for
 * stdin. Prints "ready".
 * Args: [mode]: "exit=MS" exits with status 7 after MS ms; "exec=MS"
 * execs itself (with no argument) after MS ms from a second thread;
 * "churn" also creates and joins short-lived threads without pause;
 * "busy=N" adds N threads that spin in busy_loop() (named "busy").
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

volatile uint64_t sink;

/* Inlined into spin_f(): its samples have a location with two lines. */
static inline __attribute__((always_inline)) void mix_f(int i)
{
	sink += (uint64_t)i * 3;
}

/* Spin for @ns of this thread's CPU time. */
__attribute__((noinline)) static void spin_f(uint64_t ns)
{
	uint64_t end = cpu_ns() + ns;
	do {
		for (int i = 0; i < 20000; i++)
			mix_f(i);
	} while (cpu_ns() < end);
}

__attribute__((noinline)) static void spin_g(uint64_t ns)
{
	uint64_t end = cpu_ns() + ns;
	do {
		for (int i = 0; i < 20000; i++)
			sink ^= (uint64_t)i * 5;
	} while (cpu_ns() < end);
}

static void *worker(void *arg)
{
	(void)arg;
	/* Cycles of random length (5-15 ms), so that no sampling period
	 * beats with them (a fixed 10 ms cycle aliases with a 499 Hz
	 * task-clock period: 5 periods drift by only 20 us a cycle). */
	unsigned int seed = 12345;
	for (;;) {
		uint64_t len = 5000000 + (uint64_t)(rand_r(&seed) % 10000) * 1000;
		spin_f(len * 7 / 10);
		spin_g(len * 3 / 10);
	}
	return NULL;
}

__attribute__((noinline)) static void sleep_here(void)
{
	struct timespec ts = { 0, 200000000 };
	nanosleep(&ts, NULL);
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		sleep_here();
	return NULL;
}

/* 3 ms of CPU: more than one period of the test's 499 Hz, since a perf
 * counter starts at zero in each new thread. */
__attribute__((noinline)) static void *short_life(void *arg)
{
	uint64_t end = cpu_ns() + 3000000;
	while (cpu_ns() < end)
		for (int i = 0; i < 2000; i++)
			sink += (uint64_t)i;
	return arg;
}

static void *churner(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t t[4];
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, short_life, NULL);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		usleep(5000);
	}
	return NULL;
}

__attribute__((noinline)) static void *busy_loop(void *arg)
{
	for (;;)
		for (int i = 0; i < 2000; i++)
			sink += (uint64_t)i;
	return arg;
}

static char *self;
static int exec_ms;

static void *execer(void *arg)
{
	(void)arg;
	usleep((useconds_t)exec_ms * 1000);
	char *argv[] = { self, NULL };
	execv("/proc/self/exe", argv);
	_exit(99);
}

int main(int argc, char **argv)
{
	self = argv[0];
	pthread_t t;
	pthread_create(&t, NULL, worker, NULL);
	pthread_setname_np(t, "worker");
	pthread_create(&t, NULL, sleeper, NULL);
	pthread_setname_np(t, "sleeper");
	int exit_ms = 0;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "exit=", 5) == 0)
			exit_ms = atoi(argv[i] + 5);
		else if (strncmp(argv[i], "exec=", 5) == 0)
			exec_ms = atoi(argv[i] + 5);
		else if (strncmp(argv[i], "busy=", 5) == 0) {
			for (int k = atoi(argv[i] + 5); k > 0; k--) {
				pthread_create(&t, NULL, busy_loop, NULL);
				pthread_setname_np(t, "busy");
			}
		} else if (strcmp(argv[i], "churn") == 0) {
			pthread_create(&t, NULL, churner, NULL);
			pthread_setname_np(t, "churner");
		}
	}
	if (exec_ms) {
		pthread_create(&t, NULL, execer, NULL);
		pthread_setname_np(t, "execer");
	}
	printf("ready\n");
	fflush(stdout);
	if (exit_ms) {
		usleep((useconds_t)exit_ms * 1000);
		exit(7);
	}
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
