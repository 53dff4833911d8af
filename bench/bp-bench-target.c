/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The breakpoint benchmark's target: "go N" calls bp_here() N times and
 * prints "done n=N secs=S", the loop timed by the target itself, so a
 * debugger's round trip per hit is S / N whoever the debugger is. With
 * argv[1] = 2 an idle second thread exists (blocked in a read), so a
 * non-stop debugger has another running thread to care about.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile long calls;

__attribute__((noinline)) void bp_here(void)
{
	calls++;
}

static void *idle(void *arg)
{
	int *fd = arg;
	char c;
	while (read(fd[0], &c, 1) < 0)
		;
	return NULL;
}

int main(int argc, char **argv)
{
	int fd[2];
	pthread_t t;
	if (pipe(fd) < 0)
		return 1;
	if (argc > 1 && atoi(argv[1]) > 1)
		pthread_create(&t, NULL, idle, fd);
	printf("ready bp=%p\n", (void *)bp_here);
	fflush(stdout);
	char line[64];
	long n;
	while (fgets(line, sizeof(line), stdin) && sscanf(line, "go %ld", &n) == 1) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < n; i++)
			bp_here();
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("done n=%ld secs=%.6f\n", n, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9);
		fflush(stdout);
	}
	return 0;
}
