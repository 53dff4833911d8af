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

int main(void)
{
	pthread_t q;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	start_here();
	pthread_create(&q, NULL, quick, NULL);
	pthread_join(q, NULL);
	sink = 7;
	return 0;
}
