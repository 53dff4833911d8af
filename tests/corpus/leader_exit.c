/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Corpus: the main thread calls pthread_exit while three threads live on
 * (a zombie leader), blocked in read() a few frames deep. Prints "ready"
 * from the last thread to block, after the leader has exited.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static pthread_barrier_t bar;
volatile int sink;

__attribute__((noinline)) static void block(int depth)
{
	if (depth > 0) {
		block(depth - 1);
		sink++;
		return;
	}
	char c;
	while (read(fds[0], &c, 1) != 0)
		;
}

static void *thread(void *arg)
{
	pthread_barrier_wait(&bar);
	if (arg == (void *)3) {
		usleep(100000); /* the leader is gone by now */
		printf("ready\n");
		fflush(stdout);
	}
	block((int)(long)arg);
	return NULL;
}

int main(void)
{
	if (pipe(fds) != 0)
		return 1;
	pthread_barrier_init(&bar, NULL, 4);
	pthread_t t[3];
	for (long i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, thread, (void *)(i + 1));
	pthread_barrier_wait(&bar);
	pthread_exit(NULL);
}
