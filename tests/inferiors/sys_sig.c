/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for the signal policy, siginfo and thread signals
 * (tests/integration/sys_signals.c). Three workers wait in pause(); a
 * SA_SIGINFO handler for SIGUSR1 and SIGUSR2 counts them and records the
 * last one's si_code, si_value and the tid that ran it. The ready line
 * names the workers: "ready tids=A,B,C". Each line on stdin is answered
 * with "usr1=N usr2=M code=C value=V tid=T".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, usr2, last_code, last_value, last_tid;
static volatile pid_t tids[3];

static void on_sig(int s, siginfo_t *si, void *uc)
{
	(void)uc;
	if (s == SIGUSR1)
		usr1++;
	else
		usr2++;
	last_code = si->si_code;
	last_value = si->si_value.sival_int;
	last_tid = (sig_atomic_t)syscall(SYS_gettid);
}

static void *worker(void *arg)
{
	tids[(long)arg] = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	/* The main thread answers questions: keep the signals for the
	 * workers, so a process-directed one never lands in the read. */
	pthread_t t[3];
	for (long k = 0; k < 3; k++)
		pthread_create(&t[k], NULL, worker, (void *)k);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	while (!tids[0] || !tids[1] || !tids[2])
		usleep(1000);
	printf("ready tids=%d,%d,%d\n", tids[0], tids[1], tids[2]);
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		printf("usr1=%d usr2=%d code=%d value=%d tid=%d\n", (int)usr1, (int)usr2,
		       (int)last_code, (int)last_value, (int)last_tid);
		fflush(stdout);
	}
	return 0;
}
