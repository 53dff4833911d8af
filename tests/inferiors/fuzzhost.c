/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzzhost LIBRARY: dlopen LIBRARY (a copy of libfuzzlib.so) and block in
 * its fuzzlib_enter() on a thread; prints "ready" once the thread is in
 * there.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int (*enter)(int);
static int block_fd[2];

static void *thread(void *arg)
{
	(void)arg;
	enter(block_fd[0]);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2 || pipe(block_fd))
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW);
	if (!h || !(enter = (int (*)(int))dlsym(h, "fuzzlib_enter"))) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, thread, NULL);
	usleep(50000);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
