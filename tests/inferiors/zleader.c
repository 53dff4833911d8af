/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior: the main thread starts N workers and then calls pthread_exit,
 * so the thread group leader is a zombie while the workers live on (as
 * eu-stack and gdb can still show). Each worker sits in a known call chain
 * zl_outer -> zl_middle -> zl_inner and advances its own counter.
 * A worker thread reads one-line commands from stdin:
 *   exec PATH   that worker execs PATH (argv: PATH 0): an exec from a
 *               non-leader thread while the leader is a zombie
 *   exit N      exit the process with status N (_exit: no atexit handlers,
 *               where a sanitizer build's leak check would fail under ptrace)
 *   end I       worker I leaves its loop and exits (pthread_exit)
 * Prints "ready heartbeat=ADDR inner=ADDR middle=ADDR outer=ADDR
 * tids=T1,T2,..." (the three functions' addresses) before the leader exits;
 * the caller waits for /proc/PID/stat to show the leader as a zombie.
 * With a second argument "wait", the leader first waits for a line on
 * stdin (so that it exits while a debugger is attached).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_WORKERS 64

volatile uint64_t heartbeat[MAX_WORKERS];
static pid_t tids[MAX_WORKERS];
static volatile int ending[MAX_WORKERS];

__attribute__((noinline)) static void zl_inner(int idx)
{
	for (;;) {
		heartbeat[idx]++;
		usleep(1000);
		if (ending[idx])
			pthread_exit(NULL);
	}
}

__attribute__((noinline)) static void zl_middle(int idx)
{
	zl_inner(idx);
	__asm__ volatile("" ::: "memory"); /* not a tail call */
}

__attribute__((noinline)) static void zl_outer(int idx)
{
	zl_middle(idx);
	__asm__ volatile("" ::: "memory");
}

static void *worker(void *arg)
{
	int idx = (int)(intptr_t)arg;
	tids[idx] = (pid_t)syscall(SYS_gettid);
	zl_outer(idx);
	return NULL;
}

static void *commander(void *arg)
{
	char line[4200];
	(void)arg;
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "exec ", 5)) {
			char *argv[] = { line + 5, "0", NULL };
			execv(line + 5, argv);
			perror("execv");
			_exit(126);
		} else if (!strncmp(line, "exit ", 5)) {
			_exit(atoi(line + 5));
		} else if (!strncmp(line, "end ", 4)) {
			int i = atoi(line + 4);
			if (i >= 0 && i < MAX_WORKERS)
				ending[i] = 1;
		}
	}
	_exit(0);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	if (n < 1 || n > MAX_WORKERS)
		n = 3;
	pthread_t t;
	for (int i = 0; i < n; i++) {
		pthread_create(&t, NULL, worker, (void *)(intptr_t)i);
		while (!tids[i])
			usleep(100);
	}
	printf("ready heartbeat=%p inner=%p middle=%p outer=%p tids=", (void *)heartbeat,
	       (void *)zl_inner, (void *)zl_middle, (void *)zl_outer);
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", tids[i]);
	printf("\n");
	fflush(stdout);
	if (argc > 2 && !strcmp(argv[2], "wait")) {
		char line[64];
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	pthread_create(&t, NULL, commander, NULL);
	pthread_exit(NULL);
}
