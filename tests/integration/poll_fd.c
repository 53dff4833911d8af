/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A host's own event loop: with SIGCHLD blocked, dbg_proc_fd() becomes
 * readable when the target has an event, and dbg_proc_wait(.., 0, ..)
 * then returns it without blocking.
 */
#include "../harness.h"
#include <poll.h>

int main(void)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, NULL);
	struct inferior inf;
	inferior_start(&inf, "sleepers", "1", NULL);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_proc_resume(p));
	struct dbg_event ev;
	while (dbg_proc_wait(p, 0, &ev) == 0)
		dbg_proc_resume_thread(p, ev.tid);
	CHECK(dbg_proc_wait(p, 0, &ev) == -EAGAIN, "no event pending");
	/* ...and the fd is quiet: a wait drains it even when it finds
	 * nothing, so a host's loop does not spin. */
	struct pollfd quiet = { .fd = dbg_proc_fd(p), .events = POLLIN };
	CHECK(poll(&quiet, 1, 0) == 0, "fd readable with no event pending");

	inferior_say(&inf, "spawn\n");
	bool got_clone = false;
	for (int i = 0; i < 100 && !got_clone; i++) {
		struct pollfd pfd = { .fd = dbg_proc_fd(p), .events = POLLIN };
		int n = poll(&pfd, 1, 5000);
		CHECK(n == 1, "the fd never became readable");
		while (dbg_proc_wait(p, 0, &ev) == 0) {
			if (ev.kind == DBG_EVENT_CLONE)
				got_clone = true;
			dbg_proc_resume_thread(p, ev.tid);
		}
	}
	CHECK(got_clone, "no clone event through the fd");
	char line[128];
	serve_until_line(p, &inf, line, sizeof(line));
	CHECK(!strncmp(line, "spawned", 7), "inferior said %s", line);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("pollable fd delivers events\n");
	return 0;
}
