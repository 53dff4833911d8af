/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run-control corpus: C threads, built as gcc -static (rc_static, 4
 * threads) and dynamically as rc_1000 (1,000 threads, argument 1000).
 * Each thread calls rc_hot() in a loop (it adds to the global rc_counter
 * and calls rc_leaf()), writes one byte to /dev/null and sleeps (300 us;
 * 100 ms with 1,000 threads). Prints "ready" once all run; on a line (or
 * EOF) on stdin it stops them and prints "done ok CALLS" if rc_counter
 * equals the calls counted, then exits 0.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

unsigned long rc_counter;
static int stop, fd, nthreads = 4;
static unsigned long *calls;

__attribute__((noinline)) unsigned long rc_leaf(unsigned long x)
{
	return x * 2654435761u + 1;
}

__attribute__((noinline)) unsigned long rc_hot(unsigned long x)
{
	__atomic_fetch_add(&rc_counter, 1, __ATOMIC_SEQ_CST);
	return rc_leaf(x) ^ (x >> 3);
}

static void *worker(void *arg)
{
	long i = (long)arg;
	unsigned long x = i, n = 0;
	while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST)) {
		x = rc_hot(x);
		n++;
		if (write(fd, "x", 1) != 1)
			abort();
		usleep(nthreads > 100 ? 100000 : 300);
	}
	calls[i * 8] = n;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		nthreads = atoi(argv[1]);
	fd = open("/dev/null", O_WRONLY);
	calls = calloc(nthreads * 8, sizeof(*calls));
	pthread_t *t = calloc(nthreads, sizeof(*t));
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], &a, worker, (void *)i) != 0)
			return 1;
	while (__atomic_load_n(&rc_counter, __ATOMIC_SEQ_CST) < (unsigned long)nthreads)
		usleep(1000);
	printf("ready\n");
	fflush(stdout);
	char line[64];
	if (!fgets(line, sizeof(line), stdin))
		line[0] = 0;
	__atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
	unsigned long total = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		total += calls[i * 8];
	}
	if (total == rc_counter)
		printf("done ok %lu\n", total);
	else
		printf("done BAD %lu %lu\n", total, rc_counter);
	return 0;
}
