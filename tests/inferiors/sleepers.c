/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior: N threads that sleep in a loop; the main thread advances a
 * heartbeat and obeys one-line commands on stdin:
 *   spawn        start one more sleeper; prints "spawned TID"
 *   exit         the newest sleeper exits; prints "exited TID"
 *   exec PATH    a non-leader thread execs PATH (argv: PATH sleepers 0)
 *   fork         fork a child that prints "child PID" and exits 0 at once
 *   usr1         raise SIGUSR1 in the process; its handler counts it
 * Prints: "ready heartbeat=ADDR usr1=ADDR tids=T1,T2,..." once all its
 * threads (sleepers and the heartbeat thread) run.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

volatile uint64_t heartbeat;
volatile uint64_t usr1_count;
static char exec_path[4096];
static volatile int stop_me[256];
static pthread_t threads[256];
static pid_t tids[256];
static int nthreads;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

static void *sleeper(void *arg)
{
	int idx = (int)(intptr_t)arg;
	tids[idx] = (pid_t)syscall(SYS_gettid);
	while (!stop_me[idx])
		usleep(1000);
	return NULL;
}

static void *execer(void *arg)
{
	char *argv[] = { exec_path, "0", NULL };
	(void)arg;
	execv(exec_path, argv);
	perror("execv");
	_exit(126);
}

static void *beat(void *a)
{
	for (;;) {
		heartbeat++;
		usleep(500);
	}
	return a;
}

static void spawn(void)
{
	int i = nthreads++;
	pthread_create(&threads[i], NULL, sleeper, (void *)(intptr_t)i);
	while (!tids[i])
		usleep(100);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < n; i++)
		spawn();
	/* The heartbeat has its own thread, so that commands on stdin do not
	 * stop it. */
	pthread_t hb;
	pthread_create(&hb, NULL, beat, NULL);
	printf("ready heartbeat=%p usr1=%p tids=", (void *)&heartbeat, (void *)&usr1_count);
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", tids[i]);
	printf("\n");
	fflush(stdout);
	char line[4200];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "spawn")) {
			spawn();
			printf("spawned %d\n", tids[nthreads - 1]);
		} else if (!strcmp(line, "exit") && nthreads) {
			int i = nthreads - 1;
			stop_me[i] = 1;
			pthread_join(threads[i], NULL);
			printf("exited %d\n", tids[i]);
			nthreads--;
			tids[i] = 0;
			stop_me[i] = 0;
		} else if (!strncmp(line, "exec ", 5)) {
			snprintf(exec_path, sizeof(exec_path), "%s", line + 5);
			pthread_t t;
			pthread_create(&t, NULL, execer, NULL);
		} else if (!strcmp(line, "fork")) {
			pid_t c = fork();
			if (c == 0)
				_exit(0);
			int st;
			waitpid(c, &st, 0);
			printf("child %d status %d\n", c, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		} else if (!strcmp(line, "usr1")) {
			kill(getpid(), SIGUSR1);
			printf("raised\n");
		}
		fflush(stdout);
	}
	return 0;
}
