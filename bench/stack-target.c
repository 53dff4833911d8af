/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stack-target [THREADS [DEPTH [DEEP]]]: the unwinding benchmark's target.
 * THREADS threads (default 64) each recurse DEPTH frames (default 100)
 * and block in read(); one more recurses DEEP frames (default 10,000).
 * Built -O2 -fomit-frame-pointer: unwinding needs the CFI. Prints "ready"
 * once every thread is at the bottom of its recursion.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int block_fd[2], ready_fd[2];

__attribute__((noipa)) static int rec(int depth)
{
	volatile char pad[16];
	pad[0] = (char)depth;
	if (depth == 0) {
		char c = 0;
		if (write(ready_fd[1], &c, 1) != 1)
			return -1;
		return (int)read(block_fd[0], &c, 1);
	}
	int r = rec(depth - 1);
	__asm__ volatile("" ::: "memory");
	return r + pad[0];
}

static void *thread(void *arg)
{
	rec((int)(long)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 64;
	int depth = argc > 2 ? atoi(argv[2]) : 100;
	int deep = argc > 3 ? atoi(argv[3]) : 10000;
	if (pipe(block_fd) || pipe(ready_fd))
		return 1;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 16 << 20);
	for (int i = 0; i <= threads; i++) {
		pthread_t t;
		if (pthread_create(&t, &a, thread, (void *)(long)(i < threads ? depth : deep)))
			return 1;
	}
	char c;
	for (int i = 0; i <= threads; i++)
		if (read(ready_fd[0], &c, 1) != 1)
			return 1;
	usleep(100000); /* every thread is now blocked in read() */
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
