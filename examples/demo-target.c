/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bundled demo target: a small "server" with named threads doing
 * different things, so a debugger has something to look at.
 *   main      waits for its workers
 *   worker-N  computes in a loop (CPU-bound), a few frames deep
 *   sleeper   blocks in nanosleep
 *   reader    blocks in read() on a pipe nobody writes to
 * Prints its pid, then runs until killed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile uint64_t work_done;

__attribute__((noinline)) static uint64_t crunch(uint64_t x)
{
	for (int i = 0; i < 1000; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}

__attribute__((noinline)) static void work_loop(int id)
{
	uint64_t x = (uint64_t)id;
	for (;;) {
		x = crunch(x);
		work_done++;
		if (work_done % 64 == 0)
			usleep(100); /* leave some CPU to the rest of the machine */
	}
}

static void *worker(void *arg)
{
	work_loop((int)(intptr_t)arg);
	return NULL;
}

static void *sleeper(void *arg)
{
	for (;;) {
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
	}
	return arg;
}

static void *reader(void *arg)
{
	int fds[2];
	char c;
	if (pipe(fds) == 0)
		while (read(fds[0], &c, 1) >= 0)
			;
	return arg;
}

int main(void)
{
	pthread_t t[4];
	char name[24]; /* room for any int; thread names stop at 15 */
	for (int i = 0; i < 2; i++) {
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
		snprintf(name, sizeof(name), "worker-%d", i);
		pthread_setname_np(t[i], name);
	}
	pthread_create(&t[2], NULL, sleeper, NULL);
	pthread_setname_np(t[2], "sleeper");
	pthread_create(&t[3], NULL, reader, NULL);
	pthread_setname_np(t[3], "reader");
	printf("%d\n", getpid());
	fflush(stdout);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}
