/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Breakpoint target: NTHREADS threads call bp_here() ITERS times each, all
 * released at once; the count they keep must come out exact. Commands on
 * stdin: "go" runs one round and prints "done count=N"; "exit" ends.
 * The ready line gives bp_here's address (the breakpoint goes there),
 * bp_data's address (a rip-relative operand in it), and the code range of
 * this program's text for the byte-identity check.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int nthreads = 64, iters = 1000;
static pthread_barrier_t start;
static atomic_long count;
long bp_data;

/* Its first instruction updates bp_data rip-relative (a displaced copy must
 * fix the displacement), and the call to it is a relative call. */
__attribute__((noinline)) void bp_here(long *sink)
{
	__asm__ volatile(".globl bp_insn\nbp_insn: lock incq bp_data(%%rip)" ::: "memory");
	atomic_fetch_add(&count, 1);
	*sink += 1;
}

static void *worker(void *arg)
{
	long sink = 0;
	(void)arg;
	pthread_barrier_wait(&start);
	for (int i = 0; i < iters; i++)
		bp_here(&sink);
	return (void *)sink;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		nthreads = atoi(argv[1]);
	if (argc > 2)
		iters = atoi(argv[2]);
	extern char __executable_start[], etext[], bp_insn[];
	printf("ready bp=%p func=%p data=%p text=%p etext=%p\n", (void *)bp_insn, (void *)bp_here,
	       (void *)&bp_data,
	       (void *)__executable_start, (void *)etext);
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "go", 2))
			break;
		atomic_store(&count, 0);
		bp_data = 0;
		pthread_t *t = calloc(nthreads, sizeof(*t));
		pthread_barrier_init(&start, NULL, nthreads);
		long sinks = 0;
		for (int i = 0; i < nthreads; i++)
			pthread_create(&t[i], NULL, worker, NULL);
		for (int i = 0; i < nthreads; i++) {
			void *r;
			pthread_join(t[i], &r);
			sinks += (long)r;
		}
		pthread_barrier_destroy(&start);
		free(t);
		printf("done count=%ld data=%ld sinks=%ld\n", (long)atomic_load(&count), bp_data, sinks);
		fflush(stdout);
	}
	return 0;
}
