/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior: creates and destroys threads without pause, while the main
 * thread advances a heartbeat counter.
 * Expects: nothing, or "chain": then no thread but main lives long, each
 * creates its successor and exits (the shape of gdb's
 * attach-many-short-lived-threads test).
 * Runs until killed.
 * Prints: "ready heartbeat=ADDR".
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* "chain" mode: two kinds of links, each creating its successor and
 * exiting. Joinable links first join the link before them; detached
 * links take turns on a mutex, so most of them wait in it, alive. */
static pthread_attr_t detached;
static pthread_mutex_t turn = PTHREAD_MUTEX_INITIALIZER;

static void spawn(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	while (pthread_create(t, attr, fn, arg) != 0)
		usleep(100);
}

static void *joinable_link(void *arg)
{
	pthread_t *prev = arg; /* heap, handed down the chain */
	if (*prev)
		pthread_join(*prev, NULL);
	*prev = pthread_self();
	pthread_t next;
	spawn(&next, NULL, joinable_link, prev);
	return NULL;
}

static void *detached_link(void *arg)
{
	pthread_t next;
	pthread_mutex_lock(&turn);
	spawn(&next, &detached, detached_link, arg);
	pthread_mutex_unlock(&turn);
	return arg;
}

int main(int argc, char **argv)
{
	bool chain = argc > 1 && !strcmp(argv[1], "chain");
	pthread_attr_init(&detached);
	pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
	pthread_t t;
	for (int i = 0; i < (chain ? 50 : 2); i++) {
		if (!chain) {
			pthread_create(&t, NULL, spawner, NULL);
			continue;
		}
		pthread_t *prev = calloc(1, sizeof(*prev));
		spawn(&t, NULL, joinable_link, prev);
		spawn(&t, &detached, detached_link, NULL);
	}
	printf("ready heartbeat=%p\n", (void *)&heartbeat);
	fflush(stdout);
	for (;;) {
		heartbeat++;
		usleep(200);
	}
}
