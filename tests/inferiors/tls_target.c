/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for dbg_tls_addr() (tests/integration/tls_addr.c) and for
 * qGetTLSAddr through dbg-server (tests/integration/server_tls.sh).
 * Thread-local variables in the executable (initialised and zeroed), and,
 * unless built with -DTLS_STATIC, in tests/inferiors/libtls_lib.so,
 * dlopen()ed after the threads started. NTHREADS threads each set their
 * own copies (thread k: exe_tls = 100 + k); the last thread never touches
 * the library's variables, so its block for that module is not allocated.
 * Then it prints "ready", one line per thread (main first),
 *   "thr TID EXE_TLS_ADDR EXE_BSS_ADDR LIB_TLS_ADDR"  (0: not touched)
 * then "lm LIB_LINK_MAP" (0 when static) and "end", calls tls_ready()
 * (a breakpoint spot) and sleeps until killed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifndef TLS_STATIC
#include <dlfcn.h>
#include <link.h>
#endif

#define NTHREADS 3

__thread int exe_tls = 11;
__thread long exe_tls_bss;

static long *(*touch)(long);
static pthread_barrier_t set_b, print_b;
static char lines[NTHREADS + 1][160];

/* The threads take turns (main, 1, 2, 3), so each allocates its block
 * of the library's TLS in the same order every run: the addresses gdb
 * prints then repeat from run to run (malloc arenas go by order). */
static pthread_mutex_t turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static int turn;

static void report(int k, int use_lib)
{
	pthread_mutex_lock(&turn_mu);
	while (turn != k)
		pthread_cond_wait(&turn_cv, &turn_mu);
	pthread_mutex_unlock(&turn_mu);
	exe_tls = 100 + k;
	exe_tls_bss = 1000 + k;
	long *lib = use_lib && touch ? touch(200 + k) : NULL;
	snprintf(lines[k], sizeof(lines[k]), "thr %d %#lx %#lx %#lx", gettid(),
		 (unsigned long)&exe_tls, (unsigned long)&exe_tls_bss, (unsigned long)lib);
	pthread_mutex_lock(&turn_mu);
	turn++;
	pthread_cond_broadcast(&turn_cv);
	pthread_mutex_unlock(&turn_mu);
}

static void *worker(void *arg)
{
	long k = (long)arg;
	pthread_barrier_wait(&set_b);   /* the library is loaded */
	report((int)k, k != NTHREADS);
	pthread_barrier_wait(&print_b);
	for (;;)
		pause();
	return NULL;
}

__attribute__((noinline)) void tls_ready(void)
{
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	(void)argc;
	pthread_barrier_init(&set_b, NULL, NTHREADS + 1);
	pthread_barrier_init(&print_b, NULL, NTHREADS + 1);
	pthread_t th[NTHREADS];
	for (long k = 1; k <= NTHREADS; k++)
		if (pthread_create(&th[k - 1], NULL, worker, (void *)k))
			return 1;
	void *lm = NULL;
#ifndef TLS_STATIC
	/* next to this program: argv[0]'s directory */
	char path[4096];
	snprintf(path, sizeof(path), "%s", argv[0]);
	char *slash = strrchr(path, '/');
	snprintf(slash ? slash + 1 : path, sizeof(path) - (size_t)(slash ? slash + 1 - path : 0),
		 "libtls_lib.so");
	void *h = dlopen(path, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	touch = (long *(*)(long))dlsym(h, "lib_touch");
	if (!touch || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0)
		return 1;
#else
	(void)argv;
#endif
	pthread_barrier_wait(&set_b);
	report(0, 1);
	pthread_barrier_wait(&print_b);
	printf("ready\n");
	for (int k = 0; k <= NTHREADS; k++)
		printf("%s\n", lines[k]);
	printf("lm %#lx\nend\n", (unsigned long)lm);
	fflush(stdout);
	tls_ready();
	for (;;)
		pause();
}
