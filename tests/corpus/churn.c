/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Corpus: thread churn. Two spawners create and join threads without
 * pause, so that a stop catches threads at every point of their lives,
 * right after clone3 included. Prints "ready".
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *short_life(void *arg)
{
	for (volatile int i = 0; i < 2000; i++)
		;
	return arg;
}

static void *spawner(void *arg)
{
	for (;;) {
		pthread_t t[8];
		for (int i = 0; i < 8; i++)
			pthread_create(&t[i], NULL, short_life, NULL);
		for (int i = 0; i < 8; i++)
			pthread_join(t[i], NULL);
	}
	return arg;
}

int main(void)
{
	pthread_t s[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&s[i], NULL, spawner, NULL);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
