/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Forks a child that starts 4 threads, each sending itself SIGUSR1 five
 * times; the child exits 0, the parent waits for it and exits with its
 * status (100 + signal if it was killed). For tests/integration/fork_handles.c. */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_usr1(int s)
{
	(void)s;
}

static void *worker(void *a)
{
	(void)a;
	for (int i = 0; i < 5; i++)
		syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR1);
	return NULL;
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	pid_t c = fork();
	if (c < 0)
		return 1;
	if (c == 0) {
		pthread_t t[4];
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, worker, NULL);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		return 0;
	}
	int st;
	if (waitpid(c, &st, 0) != c)
		return 2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}
