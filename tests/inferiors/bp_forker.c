/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fork/vfork-and-exec loop under breakpoints. "go SECONDS MAX" runs
 * iterations until SECONDS pass or MAX are done: each calls bp_parent()
 * (the breakpoint), then forks (argv[1] "vfork": vforks) a child that
 * calls bp_parent() too and execs /bin/true. The parent reaps it and
 * counts children that did not exit 0 (a SIGTRAP would kill one). Prints
 * "done iters=N fails=F".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile long calls;

__attribute__((noinline)) void bp_parent(void)
{
	calls++;
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	int use_vfork = argc > 1 && !strcmp(argv[1], "vfork");
	printf("ready bp=%p\n", (void *)bp_parent);
	fflush(stdout);
	char line[128];
	while (fgets(line, sizeof(line), stdin)) {
		double secs = 0;
		long max = 0;
		if (sscanf(line, "go %lf %ld", &secs, &max) != 2)
			break;
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		long iters = 0, fails = 0;
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 > secs || iters >= max)
				break;
			bp_parent();
			pid_t c = use_vfork ? vfork() : fork();
			if (c == 0) {
				bp_parent();
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			int st = 0;
			if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
				fails++;
			iters++;
		}
		printf("done iters=%ld fails=%ld\n", iters, fails);
		fflush(stdout);
	}
	return 0;
}
