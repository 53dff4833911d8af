/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for tests/integration/sys_event_exit.c: the system calls that
 * stop at a ptrace event before they return, one after the other, from
 * the main thread: vfork() (the child _exits at once), fork() (glibc's
 * is a clone), pthread_create() (clone3) and join, then execv() of
 * itself with "true", which exits 0. Exits 1 if a call fails.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *worker(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "true") == 0)
		return 0;
	pid_t c = vfork();
	if (c == 0)
		_exit(0);
	if (c < 0 || waitpid(c, NULL, 0) != c)
		return 1;
	c = fork();
	if (c == 0)
		_exit(0);
	if (c < 0 || waitpid(c, NULL, 0) != c)
		return 1;
	pthread_t th;
	if (pthread_create(&th, NULL, worker, NULL) != 0 || pthread_join(th, NULL) != 0)
		return 1;
	char *args[] = { argv[0], "true", NULL };
	execv("/proc/self/exe", args);
	return 1;
}
