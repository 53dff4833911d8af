/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A dbg_proc belongs to the thread that made it: other threads get
 * -EXDEV, a forked child of the tracer gets -ECHILD, and the target is
 * untouched.
 */
#include "../harness.h"
#include <pthread.h>

static struct dbg_proc *p;
static pid_t target;

static void *other(void *arg)
{
	struct dbg_regs regs;
	uint64_t v;
	struct dbg_event ev;
	CHECK(dbg_proc_stop(p) == -EXDEV, "stop from another thread");
	CHECK(dbg_proc_resume(p) == -EXDEV, "resume from another thread");
	CHECK(dbg_regs_get(p, target, &regs) == -EXDEV, "regs from another thread");
	CHECK(dbg_mem_read(p, 0x1000, &v, 8) == -EXDEV, "read from another thread");
	CHECK(dbg_proc_wait(p, 0, &ev) == -EXDEV, "wait from another thread");
	return arg;
}

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "sleepers", "1", NULL);
	target = inf.pid;
	p = attach_or_skip(inf.pid, NULL);
	pthread_t t;
	pthread_create(&t, NULL, other, NULL);
	pthread_join(t, NULL);
	pid_t c = fork();
	if (c == 0) {
		struct dbg_regs regs;
		_exit(dbg_regs_get(p, target, &regs) == -ECHILD ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "forked child did not get -ECHILD");
	struct dbg_regs regs;
	OK(dbg_regs_get(p, target, &regs));
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("wrong thread: -EXDEV; forked child: -ECHILD\n");
	return 0;
}
