/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Target for the watchpoint tests. Prints "ready" with the addresses of
 * what it touches, then obeys one command per line on stdin, answering
 * each with a line:
 *   write V     var = V                      -> "wrote"
 *   read        reads rvar                   -> "read N"
 *   wb K        buf[K] = 1                   -> "wb K"
 *   thread      a new thread writes var = 42 -> "thread TID" (after join)
 *   spawn N     N threads that wait for "release" -> "spawned TID..."
 *   release     each spawned thread writes var, all joined -> "released"
 *   fork        the child writes var = 7 and exits 0 -> "child PID status S"
 *   ticks N     calls tick() N times          -> "ticked T" (ticks after)
 *   store       calls store_var() once        -> "stored"
 *   exec        execs itself (prints a new ready line)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile uint64_t var;
volatile uint64_t rvar = 5;
volatile uint8_t buf[64] __attribute__((aligned(64)));
volatile uint64_t ticks;

__attribute__((noinline)) void tick(void)
{
	ticks++;
}

__attribute__((noinline)) void store_var(void)
{
	var = 99;
}

static void *writer(void *arg)
{
	(void)arg;
	var = 42;
	return (void *)(intptr_t)gettid();
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;

static void *waiter(void *arg)
{
	pthread_mutex_lock(&mu);
	while (!go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	var = (uint64_t)(intptr_t)arg;
	return NULL;
}

int main(int argc, char **argv)
{
	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready var=%p rvar=%p buf=%p tick=%p ticks=%p store=%p\n", (void *)&var,
	       (void *)&rvar, (void *)buf, (void *)tick, (void *)&ticks, (void *)store_var);
	char line[256];
	pthread_t spawned[64];
	int nspawned = 0;
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "write ", 6)) {
			var = strtoull(line + 6, NULL, 0);
			printf("wrote\n");
		} else if (!strcmp(line, "read\n")) {
			uint64_t x = rvar;
			printf("read %llu\n", (unsigned long long)x);
		} else if (!strncmp(line, "wb ", 3)) {
			int k = atoi(line + 3);
			buf[k] = 1;
			printf("wb %d\n", k);
		} else if (!strcmp(line, "thread\n")) {
			pthread_t th;
			void *ret;
			pthread_create(&th, NULL, writer, NULL);
			pthread_join(th, &ret);
			printf("thread %d\n", (int)(intptr_t)ret);
		} else if (!strncmp(line, "spawn ", 6)) {
			int n = atoi(line + 6);
			go = 0;
			for (int i = 0; i < n && nspawned < 64; i++)
				pthread_create(&spawned[nspawned++], NULL, waiter, (void *)(intptr_t)(i + 1));
			printf("spawned %d\n", nspawned);
		} else if (!strcmp(line, "release\n")) {
			pthread_mutex_lock(&mu);
			go = 1;
			pthread_cond_broadcast(&cv);
			pthread_mutex_unlock(&mu);
			for (int i = 0; i < nspawned; i++)
				pthread_join(spawned[i], NULL);
			nspawned = 0;
			printf("released\n");
		} else if (!strcmp(line, "fork\n")) {
			pid_t c = fork();
			if (c == 0) {
				var = 7;
				_exit(0);
			}
			int st = -1;
			waitpid(c, &st, 0);
			printf("child %d status %d\n", c, st);
		} else if (!strncmp(line, "ticks ", 6)) {
			int n = atoi(line + 6);
			for (int i = 0; i < n; i++)
				tick();
			printf("ticked %llu\n", (unsigned long long)ticks);
		} else if (!strcmp(line, "store\n")) {
			store_var();
			printf("stored\n");
		} else if (!strcmp(line, "exec\n")) {
			execv("/proc/self/exe", argv);
			printf("exec failed\n");
		}
	}
	return 0;
}
