/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small shared library with DWARF, loaded by fuzzhost: the unwinding
 * fuzz test corrupts its symbols, DWARF, unwind tables and headers while
 * a thread of the host blocks inside it.
 */
#include <unistd.h>

#define NOIPA __attribute__((noipa))

static volatile int sink;

NOIPA static int fl_block(int fd)
{
	char c;
	return (int)read(fd, &c, 1) + sink;
}

static inline __attribute__((always_inline)) int fl_inline(int fd)
{
	int r = fl_block(fd);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}

__attribute__((visibility("default"))) NOIPA int fuzzlib_enter(int fd)
{
	int r = fl_inline(fd);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}
