/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior: a 64-page window whose VMAs change without pause. It is mapped
 * from a memfd that holds pattern_at(address) for every address of the
 * window, so any page that is mapped shows the pattern and nothing else.
 * Three threads, each on random page ranges, forever:
 *   - munmap, then map the range again;
 *   - mprotect to PROT_NONE, PROT_READ, then PROT_READ|PROT_WRITE;
 *   - map the range again in place, read-only (replacing its VMAs).
 * With the argument "stress", four more:
 *   - shrink a range with mremap(), then map its tail again;
 *   - MADV_DONTNEED a range (the memfd keeps the bytes; pages refault);
 *   - fork a child that exits at once;
 *   - in a separate 4 MiB anonymous region ("thp"), split the huge
 *     mapping with mprotect() of one page, and MADV_COLLAPSE it again.
 * Prints: "ready window=ADDR pages=64 thp=ADDR thp_len=BYTES".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../pattern.h"

#define PG 4096ul
#define NPAGES 64

static uint8_t *win;
static int mfd;

static void range(unsigned *seed, size_t *first, size_t *n)
{
	*first = rand_r(seed) % NPAGES;
	*n = 1 + rand_r(seed) % 8;
	if (*first + *n > NPAGES)
		*n = NPAGES - *first;
}

static void remap(size_t first, size_t n, int prot)
{
	mmap(win + first * PG, n * PG, prot, MAP_SHARED | MAP_FIXED, mfd, first * PG);
}

static void *unmapper(void *arg)
{
	unsigned seed = 1;
	for (;;) {
		size_t f, n;
		range(&seed, &f, &n);
		munmap(win + f * PG, n * PG);
		usleep(rand_r(&seed) % 50);
		remap(f, n, PROT_READ | PROT_WRITE);
	}
	return arg;
}

static void *protector(void *arg)
{
	unsigned seed = 2;
	for (;;) {
		size_t f, n;
		range(&seed, &f, &n);
		mprotect(win + f * PG, n * PG, PROT_NONE);
		mprotect(win + f * PG, n * PG, PROT_READ);
		mprotect(win + f * PG, n * PG, PROT_READ | PROT_WRITE);
	}
	return arg;
}

static void *replacer(void *arg)
{
	unsigned seed = 3;
	for (;;) {
		size_t f, n;
		range(&seed, &f, &n);
		remap(f, n, PROT_READ);
		usleep(rand_r(&seed) % 50);
	}
	return arg;
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#define THP_LEN (4ul << 20)
static uint8_t *thp;

static void *shrinker(void *arg)
{
	unsigned seed = 4;
	for (;;) {
		size_t f, n;
		range(&seed, &f, &n);
		if (n < 2)
			continue;
		mremap(win + f * PG, n * PG, (n / 2) * PG, 0);
		remap(f + n / 2, n - n / 2, PROT_READ | PROT_WRITE);
	}
	return arg;
}

static void *dropper(void *arg)
{
	unsigned seed = 5;
	for (;;) {
		size_t f, n;
		range(&seed, &f, &n);
		madvise(win + f * PG, n * PG, MADV_DONTNEED);
		usleep(rand_r(&seed) % 100);
	}
	return arg;
}

static void *forker(void *arg)
{
	for (;;) {
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		if (c > 0)
			waitpid(c, NULL, 0);
		usleep(1000);
	}
	return arg;
}

static void *collapser(void *arg)
{
	unsigned seed = 6;
	for (;;) {
		size_t page = rand_r(&seed) % (THP_LEN / PG);
		mprotect(thp + page * PG, PG, PROT_READ);
		mprotect(thp + page * PG, PG, PROT_READ | PROT_WRITE);
		madvise(thp, THP_LEN, MADV_COLLAPSE);
	}
	return arg;
}

int main(int argc, char **argv)
{
	bool stress = argc > 1 && !strcmp(argv[1], "stress");
	win = mmap(NULL, NPAGES * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mfd = memfd_create("racer", MFD_CLOEXEC);
	if (win == MAP_FAILED || mfd < 0 || ftruncate(mfd, NPAGES * PG))
		return 1;
	uint8_t *init = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	pattern_fill(init, (uint64_t)(uintptr_t)win, NPAGES * PG);
	munmap(init, NPAGES * PG);
	remap(0, NPAGES, PROT_READ | PROT_WRITE);
	uint8_t *t0 = mmap(NULL, 2 * THP_LEN, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	thp = (uint8_t *)(((uintptr_t)t0 + THP_LEN - 1) & ~(THP_LEN - 1));
	madvise(thp, THP_LEN, MADV_HUGEPAGE);
	pattern_fill(thp, (uint64_t)(uintptr_t)thp, THP_LEN);
	pthread_t t[8];
	pthread_create(&t[0], NULL, unmapper, NULL);
	pthread_create(&t[1], NULL, protector, NULL);
	pthread_create(&t[2], NULL, replacer, NULL);
	if (stress) {
		pthread_create(&t[3], NULL, shrinker, NULL);
		pthread_create(&t[4], NULL, dropper, NULL);
		pthread_create(&t[5], NULL, forker, NULL);
		pthread_create(&t[6], NULL, collapser, NULL);
	}
	printf("ready window=%p pages=%d thp=%p thp_len=%lu\n", (void *)win, NPAGES, (void *)thp,
	       THP_LEN);
	fflush(stdout);
	pause();
	return 0;
}
