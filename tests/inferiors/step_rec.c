/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A recursive program for the stepping tests (step_gdb, step_modes): it
 * stops itself with int3 in start_here(), then runs the code that gdb and
 * libdbg step through the same way. Built -O0 and -O2 (step_rec_O0,
 * step_rec_O2). With an argument "spin" it runs a hot loop in a second
 * thread too (non-stop stepping), and "loop" makes main spin forever after
 * the int3 (the target is killed mid-step).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int sink;
static volatile unsigned long spins;

__attribute__((noinline, noipa)) void start_here(void)
{
	__asm__ volatile("int3");
}

__attribute__((noinline, noipa)) int leaf(int n)
{
	sink = n;
	return n * 2 + 1;
}

__attribute__((noinline, noipa)) int rec(int n)
{
	if (n <= 0)
		return leaf(n);
	int r = rec(n - 1);
	sink += r;
	return r + n;
}

static void *spinner(void *arg)
{
	(void)arg;
	for (;;)
		spins++;
	return NULL;
}

__attribute__((noinline, noipa)) int loop_forever(void)
{
	for (;;)
		sink = rec(5);
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t th;
	if (argc > 1 && strcmp(argv[1], "spin") == 0)
		pthread_create(&th, NULL, spinner, NULL);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	start_here();
	if (argc > 1 && strcmp(argv[1], "loop") == 0)
		loop_forever();
	int a = rec(3);
	int b = leaf(a);
	sink = a + b;
	a = rec(2);
	printf("%d %d %lu\n", a, b, spins);
	return 0;
}
