/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The memory benchmark's target. Regions:
 *   buf     64 MiB, populated           bulk and random 4 KiB reads
 *   stack   256 KiB, populated          the unwinder's small scattered reads
 *   small   256 one-page VMAs (r--/rw- alternating)   reads across VMAs
 *   probe   4 KiB                        reads under contention
 * and a "hammer" thread that, once running, mprotect()s a large populated
 * region (no THP, so one PTE per 4 KiB) between PROT_READ and
 * PROT_READ|PROT_WRITE forever: each call holds the mmap_lock for write
 * for as long as it takes to walk those PTEs.
 * Usage: bench-target [HAMMER_MIB]  (default 1024)
 * Prints: "ready buf=.. stack=.. small=.. probe=.. hammer_tid=.."
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MiB (1ul << 20)
#define PG 4096ul

static size_t hammer_len;
static uint8_t *hammer_mem;
static volatile pid_t hammer_tid;

static void *hammer(void *arg)
{
	hammer_tid = (pid_t)syscall(SYS_gettid);
	for (;;) {
		mprotect(hammer_mem, hammer_len, PROT_READ);
		mprotect(hammer_mem, hammer_len, PROT_READ | PROT_WRITE);
	}
	return arg;
}

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	hammer_len = (argc > 1 ? strtoul(argv[1], NULL, 0) : 1024) * MiB;
	uint8_t *buf = map(64 * MiB);
	memset(buf, 0x5a, 64 * MiB);
	uint8_t *stack = map(256 * 1024);
	memset(stack, 0x33, 256 * 1024);
	uint8_t *small = map(256 * PG);
	memset(small, 0x44, 256 * PG);
	for (int i = 0; i < 256; i += 2)
		mprotect(small + i * PG, PG, PROT_READ);
	uint8_t *probe = map(PG);
	memset(probe, 0x77, PG);
	hammer_mem = map(hammer_len);
	madvise(hammer_mem, hammer_len, MADV_NOHUGEPAGE);
	memset(hammer_mem, 1, hammer_len);
	pthread_t t;
	pthread_create(&t, NULL, hammer, NULL);
	while (!hammer_tid)
		usleep(100);
	printf("ready buf=%p stack=%p small=%p probe=%p hammer_tid=%d\n", (void *)buf,
	       (void *)stack, (void *)small, (void *)probe, hammer_tid);
	fflush(stdout);
	pause();
	return 0;
}
