/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A signal given to a resume is delivered whatever stopped the thread.
 * The kernel delivers PTRACE_CONT's signal only from a signal-delivery-
 * stop; a thread stopped by an interrupt (dbg_proc_stop_thread, a
 * stop-all) lost it: gdb's `queue-signal` through dbg-server never
 * reached the program (gdb.threads/queue-signal.exp). The sleepers
 * target counts SIGUSR1 in its handler: a sleeper thread is interrupted,
 * given SIGUSR1 with dbg_proc_set_signal, resumed; the count must become
 * 1 and no SIGUSR1 stop may be reported for it (the signal is the
 * caller's, not news). Then the same with a single-step resume.
 * Usage: test_signal_resume
 */
#include "../harness.h"

static uint64_t count_of(struct dbg_proc *p, uint64_t addr)
{
	uint64_t v = 0;
	OK(dbg_mem_read(p, addr, &v, sizeof(v)));
	return v;
}

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "sleepers", "2", NULL);
	uint64_t usr1 = ready_field(&inf, "usr1");
	const char *t = strstr(inf.ready, "tids=");
	CHECK(t, "no tids in '%s'", inf.ready);
	pid_t tid = (pid_t)atoi(t + 5);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_runctl_set_mode(p, DBG_RUNCTL_NON_STOP));
	OK(dbg_proc_resume(p));
	for (int round = 0; round < 2; round++) {
		bool step = round == 1;
		sleep_ms(100);
		OK(dbg_proc_stop_thread(p, tid));
		struct dbg_event ev;
		while (dbg_proc_wait(p, 0, &ev) == 0)
			if (ev.kind != DBG_EVENT_THREAD_EXIT && ev.tid != tid)
				OK(dbg_proc_resume_thread(p, ev.tid));
		uint64_t before = count_of(p, usr1);
		OK(dbg_proc_set_signal(p, tid, SIGUSR1));
		if (step)
			OK(dbg_proc_step_thread(p, tid));
		else
			OK(dbg_proc_resume_thread(p, tid));
		bool stepped = false;
		for (int i = 0; i < 100 && count_of(p, usr1) == before; i++) {
			if (dbg_proc_wait(p, 20, &ev) != 0)
				continue;
			CHECK(!(ev.kind == DBG_EVENT_SIGNAL && ev.signo == SIGUSR1),
			      "the SIGUSR1 given to the resume came back as a stop of %d", ev.tid);
			if (ev.tid == tid && ev.kind == DBG_EVENT_TRAP && step) {
				stepped = true; /* the step ended in the handler */
				OK(dbg_proc_resume_thread(p, tid));
			} else if (ev.kind != DBG_EVENT_THREAD_EXIT) {
				OK(dbg_proc_resume_thread(p, ev.tid));
			}
		}
		CHECK(count_of(p, usr1) == before + 1, "%s: SIGUSR1 not delivered (count %llu, was %llu)",
		      step ? "step" : "continue", (unsigned long long)count_of(p, usr1),
		      (unsigned long long)before);
		if (step)
			CHECK(stepped, "the step's trap was not reported");
	}
	OK(dbg_proc_stop(p));
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("signal_resume: a signal given to a resume from an interrupt stop was delivered "
	       "(continue and step)\n");
	return 0;
}
