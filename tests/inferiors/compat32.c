/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior: an x86_64 process one of whose threads runs 32-bit code: it
 * far-jumps to the 32-bit user code segment (selector 0x23) and spins
 * there ("jmp ." in a page below 4 GiB), as Wine's WoW64 or a JIT may.
 * The process is still an x86_64 one; only that thread's mode differs.
 * Prints "ready tid=TID" once the thread is about to jump; the main
 * thread then sleeps.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile pid_t spinner_tid;

static void *spin32(void *arg)
{
	uint8_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (code == MAP_FAILED)
		return arg;
	code[0] = 0xeb; /* jmp . */
	code[1] = 0xfe;
	struct __attribute__((packed)) {
		uint32_t off;
		uint16_t sel;
	} far = { (uint32_t)(uintptr_t)code, 0x23 };
	spinner_tid = (pid_t)syscall(SYS_gettid);
	__asm__ volatile("ljmpl *%0" : : "m"(far) : "memory");
	return arg; /* not reached */
}

int main(void)
{
	pthread_t t;
	pthread_create(&t, NULL, spin32, NULL);
	while (!spinner_tid)
		usleep(100);
	usleep(20000); /* past the jump */
	printf("ready tid=%d\n", spinner_tid);
	fflush(stdout);
	for (;;)
		pause();
}
