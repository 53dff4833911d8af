/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Corpus: C built -g -fno-asynchronous-unwind-tables -fno-unwind-tables:
 * its CFI is only in .debug_frame. The main thread blocks in read() under
 * level1..level7 (9 frames with main and read), a second thread the same
 * under a thread function. Prints "ready" once both are blocked.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
volatile int sink;

#define LEVEL(n, next)                                 \
	__attribute__((noinline)) void level##n(void) \
	{                                              \
		next();                                \
		sink++;                                \
	}

__attribute__((noinline)) void bottom(void)
{
	char c;
	while (read(fds[0], &c, 1) != 0)
		;
}
LEVEL(7, bottom)
LEVEL(6, level7)
LEVEL(5, level6)
LEVEL(4, level5)
LEVEL(3, level4)
LEVEL(2, level3)
LEVEL(1, level2)

static void *thread(void *arg)
{
	level3();
	return arg;
}

int main(void)
{
	if (pipe(fds) != 0)
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, thread, NULL);
	usleep(100000);
	printf("ready\n");
	fflush(stdout);
	level1();
	return 0;
}
