/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Corpus: gcc -static with threads (.eh_frame, no .eh_frame_hdr). Four
 * threads a few frames deep blocked in read() of a pipe nobody writes.
 * Prints "ready" once they are blocked.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
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
	block((int)(long)arg);
	return NULL;
}

int main(void)
{
	if (pipe(fds) != 0)
		return 1;
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread, (void *)(i + 1));
	usleep(100000);
	printf("ready\n");
	fflush(stdout);
	block(2);
	return 0;
}
