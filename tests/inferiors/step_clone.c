/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A "next" over pthread_create meets a clone event (step_modes): stops
 * itself with int3 in start_here(), then main starts a thread at line 28.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static volatile int sink;

__attribute__((noinline, noipa)) void start_here(void)
{
	__asm__ volatile("int3");
}

static void *quick(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t q;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	start_here();
	pthread_create(&q, NULL, quick, NULL);
	pthread_join(q, NULL);
	sink = 7;
	if (argc > 1) {
		void *dying(void *);
		pthread_create(&q, NULL, dying, argv[1]);
		pthread_join(q, NULL);
		start_here();
	}
	return 0;
}

/* With an argument, a thread then runs dying(), whose dies() ends the
 * thread, and main stops in start_here() again after joining it (after
 * main, so the lines above stay where step_modes expects them). */
__attribute__((noinline, noipa)) void dies(void *arg)
{
	sink = arg != NULL;
	pthread_exit(arg);
}

__attribute__((noinline, noipa)) void *dying(void *arg)
{
	dies(arg);
	sink = 8;
	return NULL;
}
