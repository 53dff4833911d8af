// SPDX-License-Identifier: LGPL-2.1-or-later
// A split function (issue 9, item 9): built -O2, thrower(int)'s unlikely
// path goes to its own symbol _Z7throweri.cold, placed apart from the hot
// part. The main thread blocks in read() called from that cold part and
// prints "ready" first.
#include <cstdio>
#include <stdexcept>
#include <unistd.h>

static int fds[2];

__attribute__((noinline, cold)) void block_here()
{
	std::printf("ready\n");
	std::fflush(stdout);
	char c;
	if (read(fds[0], &c, 1) < 0)
		_exit(1);
}

__attribute__((noinline)) int thrower(int x)
{
	if (__builtin_expect(x > 100, 0)) {
		block_here();
		throw std::runtime_error("big");
	}
	return x * 2;
}

int main(int argc, char **)
{
	if (pipe(fds))
		return 1;
	try {
		return thrower(argc + 200);
	} catch (...) {
		return 3;
	}
}
