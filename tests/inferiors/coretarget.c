/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core writer's inferior: a PIE with a shared library, threads parked
 * in known frames, a heap and a global with known bytes, and vector
 * registers with known values (zmm/k with AVX-512, else ymm).
 *
 *   coretarget [big MiB]   park; with "big", also populate MiB of heap
 *   coretarget vmas N      also make N one-page VMAs (alternate protections)
 *   coretarget seccomp 1   run under a seccomp filter (one that allows all)
 *   coretarget writer MiB  also run a thread that rewrites MiB of memory
 *                          for ever (generation numbers, see core_writer)
 *
 * It prints "READY heap=ADDR global=ADDR avx512=0|1 avxtid=TID" once
 * every thread is parked, then waits for signals (SIGABRT makes the
 * kernel's core of the same process).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int corelib_wait(int fd, int depth);

unsigned char core_global[8192];
static int pipefd[2];
static volatile int parked;
static volatile pid_t avx_tid;
static int has512;

/* The vector values: byte i of zmm1 is 0x10 + i, of zmm17 0x80 + i, k1
 * is 0x5a5a0000a5a5f00f; without AVX-512 ymm1 gets the first 32 bytes. */
static uint8_t pat1[64], pat17[64];
static const uint64_t kval = 0x5a5a0000a5a5f00full;

__attribute__((noinline)) static void avx_park(void)
{
	__sync_fetch_and_add(&parked, 1);
	if (has512)
		__asm__ volatile("vmovdqu64 %0, %%zmm1\n\t"
				 "vmovdqu64 %1, %%zmm17\n\t"
				 "kmovq %2, %%k1"
				 :: "m"(pat1), "m"(pat17), "r"(kval) : "memory");
	else
		__asm__ volatile("vmovdqu %0, %%ymm1" :: "m"(pat1) : "memory");
	/* pause() as a raw system call: nothing between here and the
	 * kernel touches a vector register. */
	for (;;) {
		long ret;
		__asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_pause) : "rcx", "r11", "memory");
	}
}

static void *avx_thread(void *a)
{
	(void)a;
	avx_tid = gettid();
	avx_park();
	return NULL;
}

static void *lib_thread(void *a)
{
	(void)a;
	__sync_fetch_and_add(&parked, 1);
	corelib_wait(pipefd[0], 3);
	return NULL;
}

__attribute__((noinline)) static void sleep_park(void)
{
	__sync_fetch_and_add(&parked, 1);
	for (;;) {
		struct timespec ts = { 1000, 0 };
		nanosleep(&ts, NULL);
	}
}

static void *sleep_thread(void *a)
{
	(void)a;
	sleep_park();
	return NULL;
}

/* "writer": the first and last word of every page of wbuf get the
 * generation number gen, page i after page i - 1, pass after pass. At any
 * instant: pages before i hold gen, pages after i hold gen - 1, page i
 * either (its last word gen only if its first is); between passes
 * (i == wpages) all pages hold gen or all gen - 1. gen and i are this
 * frame's locals (-O0: on its stack), so a core shows them as they were
 * at the thread's registers' moment. */
static uint64_t *wbuf;
static size_t wpages;
static volatile pid_t writer_tid;

__attribute__((noinline)) static void core_writer(void)
{
	volatile uint64_t *w = wbuf;
	uint64_t gen, i;
	for (gen = 1;; gen++)
		for (i = 0; i < wpages; i++) {
			w[i * 512] = gen;
			w[i * 512 + 511] = gen;
		}
}

static void *writer_thread(void *a)
{
	(void)a;
	writer_tid = gettid();
	core_writer();
	return NULL;
}

__attribute__((noinline)) static void main_park(void)
{
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	has512 = __builtin_cpu_supports("avx512f");
	for (int i = 0; i < 64; i++) {
		pat1[i] = 0x10 + i;
		pat17[i] = 0x80 + i;
	}
	if (pipe(pipefd) < 0)
		return 1;
	if (argc > 2 && !strcmp(argv[1], "seccomp")) {
		struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
		struct sock_fprog prog = { 1, allow };
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
			return 7;
	}
	size_t heap_len = 256 << 10;
	unsigned char *heap = malloc(heap_len);
	for (size_t i = 0; i < heap_len; i++)
		heap[i] = (unsigned char)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(core_global); i++)
		core_global[i] = (unsigned char)(i ^ 0xa5);
	if (argc > 2 && !strcmp(argv[1], "big")) {
		size_t n = strtoul(argv[2], NULL, 10) << 20;
		unsigned char *big = malloc(n);
		for (size_t i = 0; i < n; i += 4096)
			big[i] = (unsigned char)(i >> 12) | 1;
	}
	if (argc > 2 && !strcmp(argv[1], "vmas")) {
		size_t n = strtoul(argv[2], NULL, 10);
		unsigned char *m = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return 2;
		for (size_t i = 0; i < n; i++) {
			m[i * 4096] = (unsigned char)i | 1;
			if ((i & 1) && mprotect(m + i * 4096, 4096, PROT_READ) < 0)
				return 3;
		}
	}
	/* A page a fork child does not get, and one it gets zeroed. */
	unsigned char *dontfork = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *wipe = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dontfork == MAP_FAILED || wipe == MAP_FAILED)
		return 4;
	memset(dontfork, 0xdf, 4096);
	memset(wipe, 0x3e, 4096);
	madvise(dontfork, 4096, MADV_DONTFORK);
	madvise(wipe, 4096, MADV_WIPEONFORK);
	/* Two pages of a one-page file, the first written: the VMA is dumped
	 * whole, and its second page (past the end of the file) cannot be
	 * read by anyone. */
	char tmpl[] = "/tmp/coretarget.XXXXXX";
	int tfd = mkstemp(tmpl);
	unsigned char *eof = MAP_FAILED;
	if (tfd >= 0 && ftruncate(tfd, 4096) == 0)
		eof = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, tfd, 0);
	if (tfd >= 0) {
		unlink(tmpl);
		close(tfd);
	}
	if (eof == MAP_FAILED)
		return 5;
	eof[0] = 0x77;
	pthread_t t;
	if (argc > 2 && !strcmp(argv[1], "writer")) {
		wpages = strtoul(argv[2], NULL, 10) << 8;
		wbuf = mmap(NULL, wpages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
		if (wbuf == MAP_FAILED)
			return 6;
		memset(wbuf, 0, wpages * 4096);
		pthread_create(&t, NULL, writer_thread, NULL);
		while (!writer_tid)
			usleep(1000);
	}
	pthread_create(&t, NULL, lib_thread, NULL);
	pthread_create(&t, NULL, avx_thread, NULL);
	pthread_create(&t, NULL, sleep_thread, NULL);
	while (parked < 3 || !avx_tid)
		usleep(1000);
	usleep(20000);  /* each thread is in its system call by now */
	printf("READY heap=%p global=%p avx512=%d avxtid=%d dontfork=%p wipe=%p eof=%p "
	       "wbuf=%p wpages=%zu wtid=%d\n",
	       (void *)heap, (void *)core_global, has512 ? 1 : 0, (int)avx_tid, (void *)dontfork,
	       (void *)wipe, (void *)eof, (void *)wbuf, wpages, (int)writer_tid);
	fflush(stdout);
	main_park();
	return 0;
}
