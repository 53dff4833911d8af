/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Signals are reported and passed on unless the caller filters them: a
 * SIGUSR1 reaches the target's handler after we resume; a filtered one
 * does not.
 */
#include "../harness.h"

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "sleepers", "2", NULL);
	uint64_t usr1 = ready_field(&inf, "usr1");
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_proc_resume(p));
	char line[256];

	inferior_say(&inf, "usr1\n");
	struct dbg_event ev = wait_for(p, DBG_EVENT_SIGNAL, 5000);
	CHECK(ev.signo == SIGUSR1 && ev.siginfo.signo == SIGUSR1, "signal %d", ev.signo);
	CHECK(ev.siginfo.pid == inf.pid, "sender %d", ev.siginfo.pid);
	OK(dbg_proc_resume_thread(p, ev.tid));
	serve_until_line(p, &inf, line, sizeof(line));
	for (int i = 0; i < 500 && peek_u64(inf.pid, usr1) != 1; i++)
		sleep_ms(1);
	CHECK(peek_u64(inf.pid, usr1) == 1, "handler ran %llu times, want 1",
	      (unsigned long long)peek_u64(inf.pid, usr1));

	inferior_say(&inf, "usr1\n");
	ev = wait_for(p, DBG_EVENT_SIGNAL, 5000);
	OK(dbg_proc_set_signal(p, ev.tid, 0));
	OK(dbg_proc_resume_thread(p, ev.tid));
	serve_until_line(p, &inf, line, sizeof(line));
	sleep_ms(50);
	CHECK(peek_u64(inf.pid, usr1) == 1, "a filtered signal reached the handler");

	/* A signal pending in a stopped thread at detach is delivered. */
	inferior_say(&inf, "usr1\n");
	ev = wait_for(p, DBG_EVENT_SIGNAL, 5000);
	dbg_proc_detach(p);
	for (int i = 0; i < 500 && peek_u64(inf.pid, usr1) != 2; i++)
		sleep_ms(1);
	CHECK(peek_u64(inf.pid, usr1) == 2, "signal swallowed by detach");
	inferior_kill(&inf);
	printf("signals passed, filtered, and kept across detach\n");
	return 0;
}
