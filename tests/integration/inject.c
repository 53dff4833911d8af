/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg_inject_syscall(): a system call run in a thread stopped inside
 * pause() returns its result, the thread's registers and the target's
 * code are exactly as before, and the thread's pause() restarts (the
 * target still works: it answers a signal afterwards); a fork injected
 * with forks followed gives a child stopped before its first instruction;
 * a target killed first gives -ESRCH, no hang.
 */
#define _GNU_SOURCE
#include <dbg.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); \
	if (child > 0) { kill(child, SIGKILL); } exit(1); } } while (0)

static pid_t child = -1;

static pid_t start(void)
{
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0) {
		dup2(pfd[1], 1);
		execl(INFERIOR_DIR "/coretarget", "coretarget", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	char buf[512] = { 0 };
	CHECK(read(pfd[0], buf, sizeof(buf) - 1) > 0 && strstr(buf, "READY"));
	close(pfd[0]);
	return p;
}

static char state_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *s = strrchr(buf, ')');
	return s ? s[2] : 0;
}

int main(void)
{
	child = start();
	struct dbg_proc *p;
	int r = dbg_proc_attach(child, NULL, &p);
	if (r == -EPERM) {
		printf("SKIP: ptrace not allowed\n");
		kill(child, SIGKILL);
		return 77;
	}
	CHECK(r == 0);
	struct dbg_regs before, after;
	CHECK(dbg_regs_get(p, child, &before) == 0);
	uint8_t code[64], code_after[64];
	CHECK(dbg_mem_read(p, before.rip - 32, code, sizeof(code)) == sizeof(code));
	const uint64_t none[6] = { 0 };
	int64_t res = 0;
	CHECK(dbg_inject_syscall(p, child, SYS_getpid, none, &res, NULL) == 0);
	CHECK(res == child);
	const uint64_t gt[6] = { 0 };
	CHECK(dbg_inject_syscall(p, child, SYS_gettid, gt, &res, NULL) == 0 && res == child);
	/* An error comes back as -errno in the result. */
	const uint64_t badfd[6] = { (uint64_t)-1 };
	CHECK(dbg_inject_syscall(p, child, SYS_close, badfd, &res, NULL) == 0 && res == -EBADF);
	CHECK(dbg_regs_get(p, child, &after) == 0);
	CHECK(!memcmp(&before, &after, sizeof(before)));
	CHECK(dbg_mem_read(p, before.rip - 32, code_after, sizeof(code)) == sizeof(code));
	CHECK(!memcmp(code, code_after, sizeof(code)));
	printf("getpid/gettid/close(-1) injected: results right, registers and code unchanged\n");

	/* A fork, with forks followed for the call: the child is stopped. */
	DBG_OPTS(dbg_attach_opts, fo, .flags = DBG_ATTACH_FOLLOW_FORK);
	dbg_proc_detach(p);
	CHECK(dbg_proc_attach(child, &fo, &p) == 0);
	const uint64_t fk[6] = { SIGCHLD };
	pid_t fchild = 0;
	CHECK(dbg_inject_syscall(p, child, SYS_clone, fk, &res, &fchild) == 0);
	CHECK(res > 0 && fchild == res);
	/* Born in the kernel, it reaches its first stop (before any user
	 * instruction) a moment later. */
	char st = 0;
	for (int i = 0; i < 1000 && st != 't' && st != 'T'; i++) {
		st = state_of(fchild);
		if (st != 't' && st != 'T')
			usleep(1000);
	}
	CHECK(st == 't' || st == 'T');
	struct dbg_proc *cp;
	CHECK(dbg_proc_attach_child(p, fchild, &cp) == 0);
	CHECK(dbg_proc_kill(cp) == 0);
	dbg_proc_detach(cp);
	printf("fork injected: child %d stopped at birth (%c), killed\n", (int)fchild, st);

	/* Resumed, the target works: its pause() restarted, and SIGTERM
	 * (default action) still ends it. */
	dbg_proc_detach(p);
	usleep(50000);
	st = state_of(child);
	CHECK(st == 'S');
	/* The fork child was ours to reap too (we are the target's parent
	 * only for the target; its child is reaped by the target or init). */
	CHECK(kill(child, SIGTERM) == 0);
	int ws;
	CHECK(waitpid(child, &ws, 0) == child && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM);

	/* A dead target: -ESRCH at once. */
	child = start();
	CHECK(dbg_proc_attach(child, NULL, &p) == 0);
	kill(child, SIGKILL);
	usleep(20000);
	r = dbg_inject_syscall(p, child, SYS_getpid, none, &res, NULL);
	printf("killed target: %s\n", dbg_strerror(r));
	CHECK(r == -ESRCH || r == -DBG_ERRNO_RUNNING);
	dbg_proc_detach(p);
	waitpid(child, NULL, 0);
	printf("PASS\n");
	return 0;
}
