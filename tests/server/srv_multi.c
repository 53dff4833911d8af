/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A parent and its fork child, each calling its own function three times,
 * for gdb with `detach-on-fork off` through dbg-server
 * (tests/integration/server_multi.sh). The parent waits for the child and
 * exits with 10 + the child's exit code, or 20 + the signal that killed it;
 * the child exits (7) only after the parent's three calls. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

volatile int counter;

__attribute__((noinline)) void in_parent(int i)
{
	counter += i;
}

__attribute__((noinline)) void in_child(int i)
{
	counter += i;
}

int main(void)
{
	/* The child exits only once the parent is past its calls (it
	 * closes the pipe): a debugger sees all six calls before either
	 * exit, whatever the order in between. */
	int fds[2];
	if (pipe(fds) < 0)
		return 1;
	pid_t c = fork();
	if (c < 0)
		return 1;
	if (c == 0) {
		close(fds[1]);
		for (int i = 0; i < 3; i++)
			in_child(i);
		char b;
		while (read(fds[0], &b, 1) > 0)
			;
		return 7;
	}
	close(fds[0]);
	for (int i = 0; i < 3; i++)
		in_parent(i);
	close(fds[1]);
	int st;
	if (waitpid(c, &st, 0) != c)
		return 2;
	return WIFEXITED(st) ? 10 + WEXITSTATUS(st) : 20 + WTERMSIG(st);
}
