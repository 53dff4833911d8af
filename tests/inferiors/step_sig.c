/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Target of step_signals: one thread calling mid() (which calls leaf())
 * in a loop, with a SIGUSR1 handler that counts. Prints
 * "ready mid=ADDR leaf=ADDR handler=ADDR handled=ADDR" and loops until
 * killed. Built -O0 -g: mid() has a frame.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile long handled;
volatile long sink;

static void handler(int sig)
{
	(void)sig;
	handled++;
}

__attribute__((noinline)) long leaf(long x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) long mid(long x)
{
	long y = leaf(x);
	sink = y;
	return y + 1;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	printf("ready mid=%p leaf=%p handler=%p handled=%p\n", (void *)mid, (void *)leaf,
	       (void *)handler, (void *)&handled);
	fflush(stdout);
	long x = 0;
	for (;;) {
		x = mid(x) & 0xffff;
		usleep(100);
	}
}
