/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for tests/integration/tls_addr.c: TLS ids reused and static
 * TLS of a dlopen()ed library. A second thread allocates its block of
 * libtls_lib.so's lib_tls; the library is dlclose()d and libtls_lib2.so
 * (the same source) dlopen()ed, taking the freed TLS id; only the main
 * thread touches it, so the second thread's DTV entry for that id is
 * the first library's, stale. Then libtls_ie.so (initial-exec TLS) is
 * dlopen()ed and both threads touch its variable, which does not update
 * their DTVs. Prints "ready", then
 *   "modids ID1 ID2"                  (dlinfo RTLD_DI_TLS_MODID)
 *   "lm LIB2_LINK_MAP IE_LINK_MAP"
 *   "thr TID LIB_TLS_ADDR IE_TLS_ADDR" for main (lib2) and the thread
 *                                      (lib1, before the dlclose)
 * and "end", then sleeps until killed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t b;
static long *(*touch)(long), *(*ie)(long);
static long *thr_lib, *thr_ie;
static pid_t thr_tid;

static void *worker(void *arg)
{
	(void)arg;
	thr_tid = gettid();
	pthread_barrier_wait(&b);  /* lib1 loaded */
	thr_lib = touch(300);
	pthread_barrier_wait(&b);  /* lib1 closed, lib2 and ie loaded */
	pthread_barrier_wait(&b);
	thr_ie = ie(301);
	pthread_barrier_wait(&b);
	for (;;)
		pause();
	return NULL;
}

static void *open_next_to(const char *argv0, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", argv0);
	char *slash = strrchr(path, '/');
	snprintf(slash ? slash + 1 : path, sizeof(path) - (size_t)(slash ? slash + 1 - path : 0),
		 "%s", name);
	void *h = dlopen(path, RTLD_NOW);
	if (!h)
		fprintf(stderr, "%s\n", dlerror());
	return h;
}

int main(int argc, char **argv)
{
	(void)argc;
	pthread_barrier_init(&b, NULL, 2);
	pthread_t th;
	if (pthread_create(&th, NULL, worker, NULL))
		return 1;
	void *h1 = open_next_to(argv[0], "libtls_lib.so");
	size_t id1 = 0, id2 = 0;
	if (!h1 || !(touch = (long *(*)(long))dlsym(h1, "lib_touch")) ||
	    dlinfo(h1, RTLD_DI_TLS_MODID, &id1))
		return 1;
	pthread_barrier_wait(&b);
	pthread_barrier_wait(&b);  /* the thread has its block */
	dlclose(h1);
	void *h2 = open_next_to(argv[0], "libtls_lib2.so");
	void *hi = open_next_to(argv[0], "libtls_ie.so");
	void *lm2 = NULL, *lmi = NULL;
	if (!h2 || !hi || dlinfo(h2, RTLD_DI_TLS_MODID, &id2) || dlinfo(h2, RTLD_DI_LINKMAP, &lm2) ||
	    dlinfo(hi, RTLD_DI_LINKMAP, &lmi))
		return 1;
	touch = (long *(*)(long))dlsym(h2, "lib_touch");
	ie = (long *(*)(long))dlsym(hi, "ie_touch");
	if (!touch || !ie)
		return 1;
	long *main_lib = touch(400), *main_ie = ie(401);
	pthread_barrier_wait(&b);
	pthread_barrier_wait(&b);  /* the thread touched ie */
	printf("ready\nmodids %zu %zu\nlm %#lx %#lx\n", id1, id2, (unsigned long)lm2,
	       (unsigned long)lmi);
	printf("thr %d %#lx %#lx\n", gettid(), (unsigned long)main_lib, (unsigned long)main_ie);
	printf("thr %d %#lx %#lx\nend\n", thr_tid, (unsigned long)thr_lib, (unsigned long)thr_ie);
	fflush(stdout);
	for (;;)
		pause();
}
