/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shared library of coretarget: a thread parks here, a few frames deep,
 * in a blocking read, so cores must find the library to unwind it. */
#include <unistd.h>

__attribute__((noinline, visibility("default"))) int corelib_wait(int fd, int depth)
{
	char c;
	if (depth > 0)
		return corelib_wait(fd, depth - 1) + 1;
	for (;;)
		if (read(fd, &c, 1) == 1)
			return c;
}
