/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior: a 64-page window whose VMAs change without pause. It is mapped
 * from a memfd that holds pattern_at(address) for every address of the
 * window, so any page that is mapped shows the pattern and nothing else.
 * Three threads, each on random page ranges, forever:
 *   - munmap, then map the range again;
 *   - mprotect to PROT_NONE, PROT_READ, then PROT_READ|PROT_WRITE;
 *   - map the range again in place, read-only (replacing its VMAs).
 * Prints: "ready window=ADDR pages=64".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
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

int main(void)
{
	win = mmap(NULL, NPAGES * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mfd = memfd_create("racer", MFD_CLOEXEC);
	if (win == MAP_FAILED || mfd < 0 || ftruncate(mfd, NPAGES * PG))
		return 1;
	uint8_t *init = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	pattern_fill(init, (uint64_t)(uintptr_t)win, NPAGES * PG);
	munmap(init, NPAGES * PG);
	remap(0, NPAGES, PROT_READ | PROT_WRITE);
	pthread_t t[3];
	pthread_create(&t[0], NULL, unmapper, NULL);
	pthread_create(&t[1], NULL, protector, NULL);
	pthread_create(&t[2], NULL, replacer, NULL);
	printf("ready window=%p pages=%d\n", (void *)win, NPAGES);
	fflush(stdout);
	pause();
	return 0;
}
