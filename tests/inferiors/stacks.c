/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for the unwinding tests, built several ways (-O0 -g;
 * -O2 -fomit-frame-pointer -g; that stripped, with its DWARF in a separate
 * file found through .gnu_debuglink). It states the stacks it expects.
 *
 *   main thread   blocks in pause()
 *   thread "inl"  inl_entry -> inl_thread -> outer -> middle -> leaf (always inlined)
 *                 -> block, which blocks in read()
 *   thread "sig"  sig_entry -> sig_thread -> spin, interrupted by SIGUSR1; the handler
 *                 runs on an alternate signal stack mapped above the
 *                 thread's stack (so unwinding from the handler into spin
 *                 goes down in addresses) and calls handler_leaf -> block
 *   thread "fp"   fp_entry -> fp_thread -> nocfi_call (assembly with a frame
 *                 pointer and no CFI: unwinders must follow the rbp chain)
 *                 -> fp_leaf -> block
 *
 * It prints "ready inl=TID sig=TID fp=TID", then one line per frame of its
 * own code, innermost first, then "end":
 *   expect THREAD FUNCTION LINE [inlined] [activation]
 * where LINE is the line of the call the frame is in (for block, of the
 * read; for spin, of its loop; -1 for code without line information),
 * "inlined" says FUNCTION was inlined into
 * the next line's function, and "activation" that a signal interrupted
 * FUNCTION (the frame below it is the signal trampoline).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOIPA __attribute__((noipa))
/* Something after each call, so no call becomes a jump. */
#define AFTER_CALL() __asm__ volatile("" ::: "memory")

static int block_fd[2]; /* never written: a read blocks for good */
static int ready_fd[2];
static volatile int sink;
static volatile int spinning, go_block;
static struct {
	int block, leaf, middle, outer, inl_thread;
	int handler_leaf, handler, spin, sig_thread;
	int inl_entry, sig_entry;
	int fp_leaf, fp_thread, fp_entry;
} lines;

NOIPA static int block(void)
{
	char c = 0;
	if (write(ready_fd[1], &c, 1) != 1)
		return -1;
	lines.block = __LINE__; return (int)read(block_fd[0], &c, 1) + sink;
}

static inline __attribute__((always_inline)) int leaf(void)
{
	int r;
	lines.leaf = __LINE__; r = block();
	AFTER_CALL();
	return r + 1;
}

NOIPA static int middle(void)
{
	int r;
	lines.middle = __LINE__; r = leaf();
	AFTER_CALL();
	return r + 1;
}

NOIPA static int outer(void)
{
	int r;
	lines.outer = __LINE__; r = middle();
	AFTER_CALL();
	return r + 1;
}

NOIPA static void *inl_thread(void *arg)
{
	(void)arg;
	lines.inl_thread = __LINE__; sink += outer();
	AFTER_CALL();
	return NULL;
}

NOIPA static void handler_leaf(void)
{
	lines.handler_leaf = __LINE__; sink += block();
	AFTER_CALL();
}

NOIPA static void handler(int sig)
{
	(void)sig;
	lines.handler = __LINE__; handler_leaf();
	AFTER_CALL();
}

NOIPA static void spin(void)
{
	spinning = 1;
	lines.spin = __LINE__; while (!go_block) sink++;
}

NOIPA static void *sig_thread(void *arg)
{
	(void)arg;
	lines.sig_thread = __LINE__; spin();
	AFTER_CALL();
	return NULL;
}

/* Code without CFI, framed with rbp as hand-written or JIT-less code is:
 * int nocfi_call(int (*fn)(void)) calls fn. */
__asm__(".text\n"
	".globl nocfi_call\n"
	".type nocfi_call, @function\n"
	"nocfi_call:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	call *%rdi\n"
	"	pop %rbp\n"
	"	ret\n"
	".size nocfi_call, .-nocfi_call\n");
int nocfi_call(int (*fn)(void));

NOIPA static int fp_leaf(void)
{
	int r;
	lines.fp_leaf = __LINE__; r = block();
	AFTER_CALL();
	return r + 1;
}

NOIPA static void *fp_thread(void *arg)
{
	(void)arg;
	lines.fp_thread = __LINE__; sink += nocfi_call(fp_leaf);
	AFTER_CALL();
	return NULL;
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static pid_t tid_inl, tid_sig, tid_fp;

static void *inl_entry(void *arg)
{
	void *r;
	tid_inl = gettid_();
	lines.inl_entry = __LINE__; r = inl_thread(arg);
	AFTER_CALL();
	return r;
}

#define ALTSTACK_SIZE (256 * 1024)
static void *altstack;

static void *sig_entry(void *arg)
{
	void *r;
	tid_sig = gettid_();
	stack_t ss = { .ss_sp = altstack, .ss_size = ALTSTACK_SIZE };
	/* mmap hands out addresses downwards: the alternate stack, mapped
	 * before this thread's stack, lies above it. */
	if (sigaltstack(&ss, NULL) || (uintptr_t)altstack < (uintptr_t)&r)
		return NULL;
	lines.sig_entry = __LINE__; r = sig_thread(arg);
	AFTER_CALL();
	return r;
}

static void *fp_entry(void *arg)
{
	void *r;
	tid_fp = gettid_();
	lines.fp_entry = __LINE__; r = fp_thread(arg);
	AFTER_CALL();
	return r;
}

int main(void)
{
	if (pipe(block_fd) || pipe(ready_fd))
		return 1;
	altstack = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (altstack == MAP_FAILED)
		return 1;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t a, b, c;
	pthread_create(&a, NULL, inl_entry, NULL);
	pthread_create(&b, NULL, sig_entry, NULL);
	pthread_create(&c, NULL, fp_entry, NULL);
	while (!spinning)
		usleep(1000);
	usleep(20000); /* let it settle in the loop */
	pthread_kill(b, SIGUSR1);
	char ch;
	for (int i = 0; i < 3; i++) /* the three threads are about to block */
		if (read(ready_fd[0], &ch, 1) != 1)
			return 1;
	usleep(50000); /* and now they are blocked in read() */
	printf("ready inl=%d sig=%d fp=%d\n", tid_inl, tid_sig, tid_fp);
	printf("expect inl block %d\n", lines.block);
	printf("expect inl leaf %d inlined\n", lines.leaf);
	printf("expect inl middle %d\n", lines.middle);
	printf("expect inl outer %d\n", lines.outer);
	printf("expect inl inl_thread %d\n", lines.inl_thread);
	printf("expect inl inl_entry %d\n", lines.inl_entry);
	printf("expect sig block %d\n", lines.block);
	printf("expect sig handler_leaf %d\n", lines.handler_leaf);
	printf("expect sig handler %d\n", lines.handler);
	printf("expect sig spin %d activation\n", lines.spin);
	printf("expect sig sig_thread %d\n", lines.sig_thread);
	printf("expect sig sig_entry %d\n", lines.sig_entry);
	printf("expect fp block %d\n", lines.block);
	printf("expect fp fp_leaf %d\n", lines.fp_leaf);
	printf("expect fp nocfi_call -1\n");
	printf("expect fp fp_thread %d\n", lines.fp_thread);
	printf("expect fp fp_entry %d\n", lines.fp_entry);
	printf("end\n");
	fflush(stdout);
	for (;;)
		pause();
}
