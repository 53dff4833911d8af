/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for syscall catching (tests/integration/sys_catch.c). Modes:
 *   loop NTHREADS ITERS EVERY  NTHREADS threads, started after main runs
 *       (so after the tracer set up catching), each calling getppid()
 *       ITERS times and, every EVERY-th time, lseek(fd, k * 1000000 + i)
 *       on its own memfd, whose return value is that offset; getuid()
 *       every 7th time. Prints "done lseeks=N sigs=S" (S: how many
 *       SIGRTMIN+4 it handled; a real-time signal, so none coalesce)
 *       and exits 0.
 *   exec      a second thread execs this program with "true".
 *   sleep N   N sleeps of 2 ms (clock_nanosleep, resumed after EINTR)
 *             in a second thread; prints "done" and exits 0.
 *   true      exits 0.
 *   enosys    waits for a line on stdin, then prints what getppid()
 *             returns: "ret=R errno=E".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long iters, every;
static volatile sig_atomic_t sigs;
static long lseeks[64];

static void on_rt(int s)
{
	(void)s;
	sigs++;
}

static void *worker(void *arg)
{
	long k = (long)arg;
	int fd = memfd_create("sys_loop", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	for (long i = 0; i < iters; i++) {
		syscall(SYS_getppid);
		if (i % 7 == 0)
			syscall(SYS_getuid);
		if (i % every == 0) {
			long off = k * 1000000 + i;
			if (syscall(SYS_lseek, fd, off, SEEK_SET) != off)
				abort();
			lseeks[k]++;
		}
	}
	close(fd);
	return NULL;
}

static void *sleeper(void *arg)
{
	long n = (long)arg;
	for (long i = 0; i < n; i++) {
		struct timespec ts = { 0, 2000000 };
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;
	}
	return NULL;
}

static void *execer(void *arg)
{
	char *argv[] = { (char *)arg, "true", NULL };
	execv("/proc/self/exe", argv);
	abort();
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "true"))
		return 0;
	if (argc >= 2 && !strcmp(argv[1], "exec")) {
		pthread_t t;
		pthread_create(&t, NULL, execer, argv[0]);
		for (;;)
			pause();
	}
	if (argc >= 3 && !strcmp(argv[1], "sleep")) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_rt;
		sigaction(SIGRTMIN + 4, &sa, NULL);
		pthread_t t;
		pthread_create(&t, NULL, sleeper, (void *)atol(argv[2]));
		pthread_join(t, NULL);
		printf("done\n");
		fflush(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "enosys")) {
		char line[16];
		if (!fgets(line, sizeof(line), stdin))
			return 1;
		errno = 0;
		long r = syscall(SYS_getppid);
		printf("ret=%ld errno=%d\n", r, errno);
		fflush(stdout);
		return 0;
	}
	if (argc < 5 || strcmp(argv[1], "loop"))
		return 2;
	int n = atoi(argv[2]);
	iters = atol(argv[3]);
	every = atol(argv[4]);
	if (n < 1 || n > 64 || every < 1)
		return 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_rt;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGRTMIN + 4, &sa, NULL);
	pthread_t t[64];
	for (long k = 0; k < n; k++)
		pthread_create(&t[k], NULL, worker, (void *)k);
	long total = 0;
	for (int k = 0; k < n; k++) {
		pthread_join(t[k], NULL);
		total += lseeks[k];
	}
	printf("done lseeks=%ld sigs=%d\n", total, (int)sigs);
	fflush(stdout);
	return 0;
}
