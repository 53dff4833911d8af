/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg_proc_stop_thread(): one thread stops, the others run on. Checked
 * from outside (the kernel's state letter, the heartbeat the main thread
 * keeps advancing), 300 times in a row with the resume and the next stop
 * racing (a late interrupt trap must be absorbed, not reported), with a
 * signal sent just before the stop (reported once, delivered once), and for unknown and exited threads.
 */
#include "../harness.h"
#include <sys/syscall.h>

static int tid_at(const char *ready, int k)
{
	const char *s = strstr(ready, "tids=");
	CHECK(s, "no tids in '%s'", ready);
	s += 5;
	for (int i = 0; i < k; i++) {
		s = strchr(s, ',');
		CHECK(s, "fewer than %d tids", k + 1);
		s++;
	}
	return atoi(s);
}

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "sleepers", "3", NULL);
	struct dbg_attach_opts o = { .sz = sizeof(o), .flags = DBG_ATTACH_NO_STOP };
	struct dbg_proc *p = attach_or_skip(inf.pid, &o);
	uint64_t hb = ready_field(&inf, "heartbeat");
	pid_t victim = tid_at(inf.ready, 1), other = tid_at(inf.ready, 0);

	for (int round = 0; round < 300; round++) {
		OK(dbg_proc_stop_thread(p, victim));
		CHECK(dbg_proc_thread_state(p, victim) == DBG_THREAD_STOPPED, "round %d", round);
		CHECK(dbg_proc_thread_state(p, other) == DBG_THREAD_RUNNING, "round %d: other %d",
		      round, dbg_proc_thread_state(p, other));
		CHECK(dbg_proc_thread_state(p, inf.pid) == DBG_THREAD_RUNNING, "round %d", round);
		if (round % 50 == 0) {
			/* The kernel agrees, and the rest of the process runs. */
			CHECK(thread_state(inf.pid, victim) == 't', "round %d: '%c'", round,
			      thread_state(inf.pid, victim));
			uint64_t b0 = peek_u64(inf.pid, hb);
			sleep_ms(20);
			CHECK(peek_u64(inf.pid, hb) != b0, "round %d: heartbeat stood still", round);
			CHECK(thread_state(inf.pid, victim) == 't', "round %d", round);
		}
		OK(dbg_proc_resume_thread(p, victim));
		/* A stop of a stopped thread is a no-op. */
		if (round == 7) {
			OK(dbg_proc_stop_thread(p, victim));
			OK(dbg_proc_stop_thread(p, victim));
			OK(dbg_proc_resume_thread(p, victim));
		}
	}
	/* Our interrupts never surface as events. */
	struct dbg_event ev;
	int r = dbg_proc_wait(p, 50, &ev);
	CHECK(r == -ETIMEDOUT, "unexpected event %d of %d (r %d)", ev.kind, ev.tid, r);

	/* A signal sent just before the stop is not lost: the interrupt
	 * trap comes first (the kernel handles it before dequeuing
	 * signals) or the signal's stop does; either way the signal is
	 * reported by the time the thread has run again, and delivered. */
	uint64_t usr1 = ready_field(&inf, "usr1");
	uint64_t before = peek_u64(inf.pid, usr1);
	CHECK(syscall(SYS_tgkill, inf.pid, victim, SIGUSR1) == 0, "tgkill");
	OK(dbg_proc_stop_thread(p, victim));
	CHECK(dbg_proc_thread_state(p, victim) == DBG_THREAD_STOPPED, "victim runs");
	OK(dbg_proc_resume_thread(p, victim));
	bool seen = false;
	while (!seen && (r = dbg_proc_wait(p, 1000, &ev)) == 0) {
		seen = ev.kind == DBG_EVENT_SIGNAL && ev.signo == SIGUSR1 && ev.tid == victim;
		OK(dbg_proc_resume_thread(p, ev.tid));
	}
	CHECK(seen, "SIGUSR1 to %d not reported (r %d)", victim, r);
	for (int i = 0; i < 100 && peek_u64(inf.pid, usr1) == before; i++)
		sleep_ms(10);
	CHECK(peek_u64(inf.pid, usr1) == before + 1, "SIGUSR1 not delivered once");

	/* Unknown and exited threads. */
	CHECK(dbg_proc_stop_thread(p, 1) == -ENOENT, "tid 1");
	char line[128];
	inferior_say(&inf, "exit\n");
	serve_until_line(p, &inf, line, sizeof(line));
	pid_t gone = atoi(line + 7);
	for (int i = 0; i < 50 && dbg_proc_thread_state(p, gone) != -ENOENT; i++)
		if (dbg_proc_wait(p, 20, &ev) == 0 && ev.kind != DBG_EVENT_THREAD_EXIT)
			dbg_proc_resume_thread(p, ev.tid);
	r = dbg_proc_stop_thread(p, gone);
	CHECK(r == -ENOENT || r == -ESRCH, "exited thread %d: %d", gone, r);

	/* Detach leaves everything running and untraced. */
	dbg_proc_detach(p);
	sleep_ms(20);
	CHECK(thread_tracer(inf.pid, victim) == 0, "still traced");
	CHECK(thread_state(inf.pid, victim) != 't', "still stopped");
	inferior_kill(&inf);
	printf("ok\n");
	return 0;
}
