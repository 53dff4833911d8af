/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run-control target: NSPIN threads spin in a two-instruction loop in
 * assembly (spin_inc: `incq %rdi`, spin_jmp: `jmp spin_inc`), so a
 * single-step of one of them ends at a known pc with %rdi one more every
 * second step, and one that is let run never stops by itself. One hitter
 * thread runs through hit_insn (`lock incq hits(%rip)`: neither emulated
 * nor, with a signal to deliver, displaced by libdbg) forever; SIGUSR1's
 * handler counts in usr1. stdin: "exit" (or EOF) ends.
 * Prints: "ready spin_inc=ADDR spin_jmp=ADDR hit=ADDR usr1=ADDR
 * hitter=TID tids=T1,T2,..." (the spinners) once every spinner is in its
 * loop or about to enter it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

volatile uint64_t usr1;
long hits;
static pid_t tids[64];
static atomic_int started;
static pid_t hitter_tid;

void spin_loop(void) __attribute__((noreturn));
__asm__(".text\n.globl spin_loop\n.type spin_loop,@function\nspin_loop:\n"
	"\txor %edi, %edi\n"
	".globl spin_inc\nspin_inc:\tincq %rdi\n"
	".globl spin_jmp\nspin_jmp:\tjmp spin_inc\n"
	".size spin_loop, .-spin_loop\n");

__attribute__((noinline)) void hit_here(void)
{
	__asm__ volatile(".globl hit_insn\nhit_insn: lock incq hits(%%rip)\n" ::: "memory", "cc");
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static void *spinner(void *arg)
{
	int idx = (int)(intptr_t)arg;
	tids[idx] = (pid_t)syscall(SYS_gettid);
	atomic_fetch_add(&started, 1);
	spin_loop();
}

static void *hitter(void *arg)
{
	(void)arg;
	hitter_tid = (pid_t)syscall(SYS_gettid);
	atomic_fetch_add(&started, 1);
	for (;;)
		hit_here();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 6;
	if (n < 1 || n > 64)
		n = 6;
	signal(SIGUSR1, on_usr1);
	pthread_t t;
	/* The hitter first: a debugger that goes through the threads in
	 * the order they were born meets it before the spinners. */
	pthread_create(&t, NULL, hitter, NULL);
	for (int i = 0; i < n; i++)
		pthread_create(&t, NULL, spinner, (void *)(intptr_t)i);
	while (atomic_load(&started) < n + 1)
		usleep(1000);
	extern char spin_inc[], spin_jmp[], hit_insn[];
	char list[64 * 12] = "";
	for (int i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i ? "," : "",
			 (int)tids[i]);
	printf("ready spin_inc=%p spin_jmp=%p hit=%p usr1=%p hitter=%d tids=%s\n", (void *)spin_inc,
	       (void *)spin_jmp, (void *)hit_insn, (void *)&usr1, (int)hitter_tid, list);
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "exit", 4))
		;
	_exit(0);
}
