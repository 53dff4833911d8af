/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A thread being single-stepped stays single-stepped when libdbg pauses
 * it to step another thread off a breakpoint (non-stop, doc/runcontrol.md):
 * the bp_spin target's spinner threads are each single-stepped
 * (dbg_proc_step_thread) and at once the hitter thread, stopped at its
 * breakpoint, is resumed with SIGUSR1. A step-off with a signal to deliver
 * cannot be displaced, so libdbg stops the spinners for an in-place step
 * (dbg__runctl_pause); its PTRACE_INTERRUPT often reaches a spinner before
 * its step's instruction has run. The pause's end resumed such a thread
 * as a continue: it ran on and its step never ended (through dbg-server,
 * gdb's displaced step of a thread in non-stop ran past the copy into
 * SIGSEGV: gdb.threads/non-stop-fair-events.exp). Every step must end
 * with a DBG_EVENT_TRAP one instruction on (spin_inc <-> spin_jmp, %rdi
 * one more each loop) and every SIGUSR1 must reach the handler once.
 * Usage: test_bp_pause_step [spinners rounds]
 */
#include "../harness.h"

#define MAXS 64

static int parse_tids(const char *ready, pid_t *out)
{
	const char *s = strstr(ready, "tids=");
	CHECK(s, "no tids in '%s'", ready);
	s += 5;
	int n = 0;
	while (*s && n < MAXS) {
		out[n++] = (pid_t)strtol(s, (char **)&s, 10);
		if (*s != ',')
			break;
		s++;
	}
	return n;
}

static uint64_t pc_of(struct dbg_proc *p, pid_t tid, uint64_t *ret_rdi)
{
	struct dbg_regs r;
	OK(dbg_regs_get(p, tid, &r));
	if (ret_rdi)
		*ret_rdi = r.rdi;
	return r.rip;
}

/* Step @tid alone (every other thread stopped) and wait for its trap. */
static void step_alone(struct dbg_proc *p, pid_t tid)
{
	OK(dbg_proc_step_thread(p, tid));
	struct dbg_event ev;
	OK(dbg_proc_wait(p, 5000, &ev));
	CHECK(ev.kind == DBG_EVENT_TRAP && ev.tid == tid, "event kind %d of %d, want the trap of %d",
	      ev.kind, ev.tid, tid);
}

int main(int argc, char **argv)
{
	const char *nspin = argc > 1 ? argv[1] : "6";
	int rounds = argc > 2 ? atoi(argv[2]) : 200;
	struct inferior inf;
	inferior_start(&inf, "bp_spin", nspin, NULL);
	uint64_t inc = ready_field(&inf, "spin_inc"), jmp = ready_field(&inf, "spin_jmp");
	uint64_t hit = ready_field(&inf, "hit"), usr1 = ready_field(&inf, "usr1");
	pid_t hitter = (pid_t)ready_field(&inf, "hitter");
	pid_t spin[MAXS];
	int ns = parse_tids(inf.ready, spin);
	CHECK(ns > 0, "no spinners in '%s'", inf.ready);

	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_runctl_set_mode(p, DBG_RUNCTL_NON_STOP));
	/* Everything is stopped: bring each spinner into its loop. */
	uint64_t want[MAXS], rdi[MAXS];
	for (int i = 0; i < ns; i++) {
		int k = 0;
		while (pc_of(p, spin[i], NULL) != inc && k++ < 100)
			step_alone(p, spin[i]);
		CHECK(pc_of(p, spin[i], &rdi[i]) == inc, "spinner %d is not in its loop", spin[i]);
	}
	struct dbg_bp *bp;
	OK(dbg_bp_insert(p, hit, NULL, &bp));
	OK(dbg_proc_resume_thread(p, inf.pid));
	OK(dbg_proc_resume_thread(p, hitter));

	bool hitter_at_bp = false;
	long steps = 0;
	for (int round = 0; round < rounds; round++) {
		struct dbg_event ev;
		while (!hitter_at_bp) {
			OK(dbg_proc_wait(p, 5000, &ev));
			CHECK(ev.kind == DBG_EVENT_BREAKPOINT && ev.tid == hitter && ev.addr == hit,
			      "round %d: event kind %d of %d at %#llx, want the hitter's breakpoint",
			      round, ev.kind, ev.tid, (unsigned long long)ev.addr);
			hitter_at_bp = true;
		}
		bool done[MAXS] = { false };
		for (int i = 0; i < ns; i++) {
			want[i] = pc_of(p, spin[i], NULL) == inc ? jmp : inc;
			OK(dbg_proc_step_thread(p, spin[i]));
		}
		/* Its step-off has a signal to deliver: not displaced, the
		 * spinners are paused for it, their steps in flight. */
		OK(dbg_proc_set_signal(p, hitter, SIGUSR1));
		OK(dbg_proc_resume_thread(p, hitter));
		hitter_at_bp = false;
		int left = ns;
		while (left > 0) {
			int r = dbg_proc_wait(p, 5000, &ev);
			if (r == -ETIMEDOUT) {
				for (int i = 0; i < ns; i++) {
					if (done[i])
						continue;
					OK(dbg_proc_stop_thread(p, spin[i]));
					uint64_t now_rdi;
					uint64_t pc = pc_of(p, spin[i], &now_rdi);
					CHECK(0,
					      "round %d: the step of spinner %d never ended: it ran on "
					      "(%%rdi %llu, was %llu; pc %#llx)",
					      round, spin[i], (unsigned long long)now_rdi,
					      (unsigned long long)rdi[i], (unsigned long long)pc);
				}
			}
			OK(r);
			if (ev.tid == hitter) {
				CHECK(ev.kind == DBG_EVENT_BREAKPOINT && ev.addr == hit && !hitter_at_bp,
				      "round %d: hitter event kind %d signo %d", round, ev.kind, ev.signo);
				hitter_at_bp = true;
				continue;
			}
			int i = 0;
			while (i < ns && spin[i] != ev.tid)
				i++;
			CHECK(i < ns && !done[i], "round %d: event kind %d signo %d of %d", round, ev.kind,
			      ev.signo, ev.tid);
			CHECK(ev.kind == DBG_EVENT_TRAP, "round %d: spinner %d: event kind %d signo %d",
			      round, ev.tid, ev.kind, ev.signo);
			uint64_t now_rdi;
			uint64_t pc = pc_of(p, ev.tid, &now_rdi);
			uint64_t want_rdi = want[i] == jmp ? rdi[i] + 1 : rdi[i];
			CHECK(pc == want[i] && now_rdi == want_rdi,
			      "round %d: spinner %d stepped to %#llx (%%rdi %llu), want %#llx (%%rdi %llu)",
			      round, ev.tid, (unsigned long long)pc, (unsigned long long)now_rdi,
			      (unsigned long long)want[i], (unsigned long long)want_rdi);
			rdi[i] = now_rdi;
			done[i] = true;
			left--;
			steps++;
		}
	}
	struct dbg_event ev;
	while (!hitter_at_bp) {
		OK(dbg_proc_wait(p, 5000, &ev));
		CHECK(ev.kind == DBG_EVENT_BREAKPOINT && ev.tid == hitter, "event kind %d of %d", ev.kind,
		      ev.tid);
		hitter_at_bp = true;
	}
	/* The handler ran before the hitter came back to its breakpoint. */
	uint64_t n = 0;
	OK(dbg_mem_read(p, usr1, &n, sizeof(n)));
	CHECK(n == (uint64_t)rounds, "SIGUSR1 handled %llu times, want %d", (unsigned long long)n,
	      rounds);
	struct dbg_bp_stats st;
	OK(dbg_bp_get_stats(p, &st));
	CHECK(st.paused >= (uint64_t)rounds, "%llu step-offs paused the others, want %d: nothing tested",
	      (unsigned long long)st.paused, rounds);
	OK(dbg_proc_stop(p));
	dbg_proc_detach(p);
	inferior_say(&inf, "exit\n");
	inferior_kill(&inf);
	printf("bp_pause_step: %d rounds, %ld single-steps of %d spinners each ended one instruction "
	       "on across %llu pauses\n",
	       rounds, steps, ns, (unsigned long long)st.paused);
	return 0;
}
