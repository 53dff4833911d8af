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
void bp_leaf(void);

long bp_leafs;

/* A leaf in assembly: a rip-relative update and a `ret` (bp_ret), for
 * displaced copies of an absolute branch. */
__asm__(".text\n.globl bp_leaf\n.type bp_leaf,@function\nbp_leaf:\n"
	"\tlock incq bp_leafs(%rip)\n.globl bp_ret\nbp_ret:\tret\n.size bp_leaf, .-bp_leaf\n");

/* bp_insn updates bp_data rip-relative (a displaced copy must fix the
 * displacement); bp_call is a relative call (its pushed return address
 * must be the original one), bp_jmp a relative jump and bp_jcc a taken
 * conditional one: a copy that branched wrong lands on a ud2. */
__attribute__((noinline)) void bp_here(long *sink)
{
	__asm__ volatile(".globl bp_insn\nbp_insn: lock incq bp_data(%%rip)\n"
			 "lea -128(%%rsp), %%rsp\n" /* past the red zone */
			 ".globl bp_call\nbp_call: call bp_leaf\n"
			 "lea 128(%%rsp), %%rsp\n"
			 ".globl bp_jmp\nbp_jmp: jmp 1f\n\tud2\n"
			 "1: test %%rsp, %%rsp\n"
			 ".globl bp_jcc\nbp_jcc: jnz 2f\n\tud2\n"
			 "2:\n" ::: "memory", "cc");
	/* getpid through a raw `syscall` (bp_sys): not displaceable. */
	long pid;
	__asm__ volatile("mov $39, %%eax\n.globl bp_sys\nbp_sys: syscall"
			 : "=a"(pid) : : "rcx", "r11", "memory");
	(void)pid;
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
	extern char __executable_start[], etext[], bp_insn[], bp_call[], bp_jmp[], bp_jcc[], bp_ret[], bp_sys[];
	printf("ready bp=%p func=%p call=%p jmp=%p jcc=%p ret=%p sys=%p leaf=%p data=%p text=%p etext=%p\n",
	       (void *)bp_insn, (void *)bp_here, (void *)bp_call, (void *)bp_jmp, (void *)bp_jcc,
	       (void *)bp_ret, (void *)bp_sys, (void *)bp_leaf, (void *)&bp_data,
	       (void *)__executable_start, (void *)etext);
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "go", 2))
			break;
		atomic_store(&count, 0);
		bp_data = 0;
		bp_leafs = 0;
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
		printf("done count=%ld data=%ld sinks=%ld leafs=%ld\n", (long)atomic_load(&count), bp_data,
		       sinks, bp_leafs);
		fflush(stdout);
	}
	return 0;
}
