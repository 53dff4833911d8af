/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for dbg-server's breakpoint-condition tests (rsp_cond.py,
 * server_cond.sh). Built without PIE so the tests take addresses from nm.
 * main sets cond_var = i and calls cond_hit(i) for i = 0..19, then starts
 * four threads that each call cond_thr(j) for j = 0..199 (breakpoint hits
 * in threads that run at once), then calls cond_other() once and exits
 * with (sum of the threads' calls) % 256 == 800 % 256 = 32.
 * "srv_cond spin": 16 threads call cond_spin() in a tight loop without end
 * (a breakpoint there whose condition is false never stops them); main
 * exits after 60 s.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile int cond_var;
volatile int thr_calls;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) void cond_hit(long i)
{
	__asm__ volatile("" : : "r"(i) : "memory");
}

__attribute__((noinline)) void cond_thr(long j)
{
	__asm__ volatile("" : : "r"(j) : "memory");
	pthread_mutex_lock(&mu);
	thr_calls++;
	pthread_mutex_unlock(&mu);
}

__attribute__((noinline)) void cond_other(void)
{
	__asm__ volatile("" : : : "memory");
}

static void *worker(void *arg)
{
	(void)arg;
	for (long j = 0; j < 200; j++)
		cond_thr(j);
	return NULL;
}

__attribute__((noinline)) void cond_spin(void)
{
	__asm__ volatile("" : : : "memory");
}

static void *spinner(void *arg)
{
	(void)arg;
	for (;;)
		cond_spin();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "spin")) {
		pthread_t t[16];
		for (int k = 0; k < 16; k++)
			pthread_create(&t[k], NULL, spinner, NULL);
		sleep(60);
		return 0;
	}
	for (long i = 0; i < 20; i++) {
		cond_var = (int)i;
		cond_hit(i);
	}
	pthread_t t[4];
	for (int k = 0; k < 4; k++)
		pthread_create(&t[k], NULL, worker, NULL);
	for (int k = 0; k < 4; k++)
		pthread_join(t[k], NULL);
	cond_other();
	printf("calls %d\n", thr_calls);
	return thr_calls % 256;
}
