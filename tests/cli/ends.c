/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Target for tests/cli/ends.sh: stacks that end in different ways, each
 * thread blocked in pause().
 *   main   pause(): ends at the outermost frame (_start)
 *   deep   DEPTH nested calls of deep() (about DEPTH + 5 frames)
 *   nocfi  assembly with no CFI that leaves no frame pointer chain
 *          (rbp = 0x10), making the pause syscall itself
 *   jit    the same code copied to an anonymous executable mapping
 * Prints "ready deep=TID nocfi=TID jit=TID" once every thread started.
 * Usage: ends [DEPTH]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

void nocfi_pause(void);
__asm__(".text\n"
	".globl nocfi_pause\n"
	".type nocfi_pause, @function\n"
	"nocfi_pause:\n"
	"	mov $0x10, %rbp\n"
	"1:	mov $34, %eax\n" /* pause */
	"	syscall\n"
	"	jmp 1b\n"
	".size nocfi_pause, .-nocfi_pause\n");

/* mov $0x10,%rbp; 1: mov $34,%eax; syscall; jmp 1b */
static const unsigned char jit_code[] = { 0x48, 0xc7, 0xc5, 0x10, 0x00, 0x00, 0x00, 0xb8, 0x22, 0x00,
					  0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7 };

static volatile pid_t tid_deep, tid_nocfi, tid_jit;
static volatile int sink;

__attribute__((noinline)) static int deep(int n)
{
	if (n == 0) {
		tid_deep = (pid_t)syscall(SYS_gettid);
		while (!sink)
			pause();
		return 0;
	}
	int r = deep(n - 1) + 1;
	sink = r;
	return r;
}

static void *t_deep(void *arg)
{
	return (void *)(long)deep((int)(long)arg);
}

static void *t_nocfi(void *arg)
{
	(void)arg;
	tid_nocfi = (pid_t)syscall(SYS_gettid);
	nocfi_pause();
	return NULL;
}

static void *t_jit(void *arg)
{
	void *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		abort();
	memcpy(code, jit_code, sizeof(jit_code));
	tid_jit = (pid_t)syscall(SYS_gettid);
	((void (*)(void))code)();
	return arg;
}

int main(int argc, char **argv)
{
	long depth = argc > 1 ? atol(argv[1]) : 500;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 16 << 20);
	pthread_t t;
	pthread_create(&t, &a, t_deep, (void *)depth);
	pthread_create(&t, NULL, t_nocfi, NULL);
	pthread_create(&t, NULL, t_jit, NULL);
	while (!tid_deep || !tid_nocfi || !tid_jit)
		usleep(1000);
	printf("ready deep=%d nocfi=%d jit=%d\n", tid_deep, tid_nocfi, tid_jit);
	fflush(stdout);
	for (;;)
		pause();
}
