/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior: creates and destroys threads without pause, while the main
 * thread advances a heartbeat counter.
 * Expects: nothing; it runs until killed.
 * Prints: "ready heartbeat=ADDR".
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

volatile uint64_t heartbeat;

static void *short_life(void *arg)
{
	/* A few microseconds of work, then exit. */
	for (volatile int i = 0; i < 1000; i++)
		;
	return arg;
}

static void *spawner(void *arg)
{
	for (;;) {
		pthread_t t[4];
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, short_life, NULL);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
	}
	return arg;
}

int main(void)
{
	pthread_t s[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&s[i], NULL, spawner, NULL);
	printf("ready heartbeat=%p\n", (void *)&heartbeat);
	fflush(stdout);
	for (;;) {
		heartbeat++;
		usleep(200);
	}
}
