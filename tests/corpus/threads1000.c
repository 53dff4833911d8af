/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Corpus: a 1,000-thread server: 999 workers blocked in a condition
 * variable (futex) a few frames deep, the main thread in pause(). Small
 * stacks, so that it fits anywhere. Prints "ready" once all wait.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int waiting;
volatile int sink;

__attribute__((noinline)) static void serve(int depth)
{
	if (depth > 0) {
		serve(depth - 1);
		sink++;
		return;
	}
	pthread_mutex_lock(&m);
	waiting++;
	for (;;)
		pthread_cond_wait(&cv, &m);
}

static void *worker(void *arg)
{
	serve((int)(long)arg % 4);
	return NULL;
}

int main(void)
{
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	for (long i = 0; i < 999; i++) {
		pthread_t t;
		if (pthread_create(&t, &a, worker, (void *)i) != 0)
			return 1;
	}
	for (;;) {
		pthread_mutex_lock(&m);
		int w = waiting;
		pthread_mutex_unlock(&m);
		if (w == 999)
			break;
		usleep(1000);
	}
	usleep(100000);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
