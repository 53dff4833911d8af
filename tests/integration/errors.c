/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bad input to attach: a dead pid, a thread id, an invalid pid, a process
 * someone else traces. Each gets its own error and an explaining message.
 */
#include "../harness.h"
#include <sys/ptrace.h>

static char last_msg[512];
static void log_fn(enum dbg_log_level lvl, const char *msg, void *ctx)
{
	(void)lvl;
	(void)ctx;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

int main(void)
{
	struct dbg_proc *p = NULL;
	DBG_OPTS(dbg_attach_opts, o, .log_fn = log_fn);
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	CHECK(dbg_proc_attach(dead, &o, &p) == -ESRCH && !p, "dead pid");
	CHECK(dbg_proc_attach(0, &o, &p) == -EINVAL, "pid 0");
	CHECK(dbg_proc_attach(-5, &o, &p) == -EINVAL, "negative pid");
	CHECK(dbg_proc_attach(getpid(), &o, &p) == -EPERM, "self");
	CHECK(dbg_proc_attach(1, NULL, NULL) == -EINVAL, "NULL out");
	/* Unknown non-zero bytes past the known options are refused. */
	struct { struct dbg_attach_opts o; long extra; } big = { .o = { .sz = sizeof(big) }, .extra = 1 };
	CHECK(dbg_proc_attach(1, &big.o, &p) == -EINVAL, "unknown option bytes");

	struct inferior inf;
	inferior_start(&inf, "sleepers", "1", NULL);
	pid_t tid = (pid_t)ready_field(&inf, "tids");
	CHECK(dbg_proc_attach(tid, &o, &p) == -EINVAL, "a thread id");
	CHECK(strstr(last_msg, "is a thread of"), "message: %s", last_msg);

	/* Someone else traces it: a child of ours seizes it first. */
	int go[2];
	CHECK(pipe(go) == 0, "pipe");
	pid_t other = fork();
	if (other == 0) {
		if (ptrace(PTRACE_SEIZE, inf.pid, 0, 0) < 0)
			_exit(1);
		write(go[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	CHECK(read(go[0], &c, 1) == 1, "the other tracer failed");
	int r = dbg_proc_attach(inf.pid, &o, &p);
	if (r == -EPERM) {
		CHECK(strstr(last_msg, "already traced by"), "message: %s", last_msg);
	} else {
		CHECK(0, "attach to a traced process = %d", r);
	}
	printf("EPERM message: %s\n", last_msg);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	inferior_kill(&inf);
	CHECK(strcmp(dbg_strerror(-ESRCH), "No such process") == 0, "strerror");
	CHECK(strcmp(dbg_strerror(-DBG_ERRNO_RUNNING), "Thread is not stopped") == 0, "strerror lib");
	return 0;
}
