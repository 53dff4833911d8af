/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior: a memory layout with every kind of VMA, at fixed page offsets
 * from `base`, each page filled with pattern_at(address):
 *   page  0- 3  anonymous rw-p
 *   page  4- 5  anonymous r--p (same mapping, mprotect'ed: its own VMA)
 *   page  6     PROT_NONE guard (filled before mprotect: gdb reads it)
 *   page  7- 8  anonymous rw-p
 *   page  9     hole (unmapped)
 *   page 10-12  file-backed private r--p
 *   page 13-14  file-backed shared rw-s
 *   page 15-16  file-backed private r--p of a file deleted after mmap
 *   page 17-19  hole
 *   page 20     anonymous rw-p
 *   page 21-    hole
 * plus a 4 MiB anonymous region at `thp`, 2 MiB aligned, with MADV_HUGEPAGE
 * (a transparent huge page where the kernel allows), same pattern, and the
 * function `answer` (returns 41) that a test may patch in read-only text.
 * Commands on stdin: "answer" prints "answer N" with answer()'s result.
 * The two files still named (/tmp/libdbg-layout-*) are the test's to
 * remove. Prints: "ready base=ADDR thp=ADDR answer=ADDR".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../pattern.h"

#define PG 4096ul

__attribute__((noinline)) int answer(void)
{
	return 41;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* A temp file whose bytes at @off.. hold the pattern of the addresses they
 * will be mapped at. */
static int pattern_file(uint64_t addr, size_t len, char *path)
{
	strcpy(path, "/tmp/libdbg-layout-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		die("mkstemp");
	uint8_t *buf = malloc(len);
	pattern_fill(buf, addr, len);
	if (write(fd, buf, len) != (ssize_t)len)
		die("write");
	free(buf);
	return fd;
}

static void map_file(uint8_t *at, size_t len, int prot, int flags, int fd)
{
	if (mmap(at, len, prot, flags | MAP_FIXED, fd, 0) != at)
		die("mmap file");
}

int main(void)
{
	uint8_t *base = mmap(NULL, 32 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		die("mmap");
	uint64_t b = (uint64_t)(uintptr_t)base;
	/* Anonymous pages 0-8, filled, then carved by mprotect. */
	if (mprotect(base, 9 * PG, PROT_READ | PROT_WRITE))
		die("mprotect");
	pattern_fill(base, b, 9 * PG);
	mprotect(base + 4 * PG, 2 * PG, PROT_READ);
	mprotect(base + 6 * PG, PG, PROT_NONE);
	munmap(base + 9 * PG, PG);
	char path[64];
	int fd = pattern_file(b + 10 * PG, 3 * PG, path);
	map_file(base + 10 * PG, 3 * PG, PROT_READ, MAP_PRIVATE, fd);
	close(fd);
	fd = pattern_file(b + 13 * PG, 2 * PG, path);
	map_file(base + 13 * PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	close(fd);
	fd = pattern_file(b + 15 * PG, 2 * PG, path);
	map_file(base + 15 * PG, 2 * PG, PROT_READ, MAP_PRIVATE, fd);
	close(fd);
	unlink(path); /* the mapping keeps the inode; the name goes */
	munmap(base + 17 * PG, 3 * PG);
	if (mprotect(base + 20 * PG, PG, PROT_READ | PROT_WRITE))
		die("mprotect 20");
	pattern_fill(base + 20 * PG, b + 20 * PG, PG);
	munmap(base + 21 * PG, 11 * PG);

	/* THP: 4 MiB, 2 MiB aligned. */
	size_t thp_len = 4ul << 20;
	uint8_t *t = mmap(NULL, thp_len + (2ul << 20), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		die("mmap thp");
	uint8_t *ta = (uint8_t *)(((uintptr_t)t + (2ul << 20) - 1) & ~((2ul << 20) - 1));
	madvise(ta, thp_len, MADV_HUGEPAGE);
	pattern_fill(ta, (uint64_t)(uintptr_t)ta, thp_len);

	printf("ready base=%p thp=%p answer=%p\n", (void *)base, (void *)ta, (void *)answer);
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "answer", 6))
			printf("answer %d\n", answer());
		fflush(stdout);
	}
	return 0;
}
