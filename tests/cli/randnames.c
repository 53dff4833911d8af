/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Target for tests/cli/json_names.sh: threads whose names are random
 * bytes. Each line on stdin renames every thread (the main one too) to
 * fresh random bytes (anything but NUL: invalid UTF-8, control
 * characters, quotes, backslashes, surrogates and overlong forms), then
 * prints "names TID:HEX TID:HEX ..." and every thread blocks again.
 * Usage: randnames NTHREADS SEED
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int nthreads;
static pthread_t th[64];
static pid_t tids[65];
static unsigned long long rng;

static unsigned int rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)rng;
}

static void *park(void *arg)
{
	tids[(long)arg + 1] = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

/* 1 to 15 bytes, none NUL, biased towards what breaks JSON and UTF-8. */
static void random_name(char *buf)
{
	static const char *const tricky[] = {
		"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\xff", "\x80", "\"", "\\",
		"\x1b[2J", "\n", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\t", "/",
	};
	size_t n = 0, want = 1 + rnd() % 15;
	while (n < want) {
		if (rnd() % 3 == 0) {
			const char *t = tricky[rnd() % (sizeof(tricky) / sizeof(tricky[0]))];
			size_t l = strlen(t);
			if (n + l > 15)
				break;
			memcpy(buf + n, t, l);
			n += l;
		} else {
			buf[n++] = (char)(1 + rnd() % 255);
		}
	}
	if (n == 0)
		buf[n++] = (char)(1 + rnd() % 255);
	buf[n] = 0;
}

int main(int argc, char **argv)
{
	nthreads = argc > 1 ? atoi(argv[1]) : 4;
	rng = argc > 2 ? strtoull(argv[2], NULL, 0) | 1 : 1;
	if (nthreads < 0 || nthreads > 64)
		return 2;
	tids[0] = getpid();
	for (long i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, park, (void *)i);
	for (int i = 1; i <= nthreads; i++)
		while (!__atomic_load_n(&tids[i], __ATOMIC_SEQ_CST))
			usleep(1000);
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		printf("names");
		for (int i = 0; i <= nthreads; i++) {
			char name[16];
			random_name(name);
			if (pthread_setname_np(i ? th[i - 1] : pthread_self(), name) != 0)
				return 3;
			printf(" %d:", tids[i]);
			for (const char *p = name; *p; p++)
				printf("%02x", (unsigned char)*p);
		}
		printf("\n");
		fflush(stdout);
	}
	return 0;
}
