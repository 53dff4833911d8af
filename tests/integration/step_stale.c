/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A single-step must stay a single-step when the thread carries an
 * interrupt left over from a stop-all (all-stop, doc/runcontrol.md):
 * 64 threads hit one breakpoint at once; every hit, the one reported and
 * each one that stop-all collected on the way, is handled as gdb does
 * through dbg-server: the breakpoint is removed, that thread alone is
 * single-stepped (dbg_proc_step_thread), the breakpoint is put back. The
 * threads whose hits were collected were interrupted while their trap was
 * under way: their PTRACE_INTERRUPT stays pending and traps as soon as
 * they are resumed, before the instruction runs. That trap was undone as
 * a continue, so the step was lost and the thread ran on (gdb.threads/
 * print-threads.exp hung through dbg-server). Each step must end in the
 * same thread one instruction on (bp + 8), and the target's count must
 * be exact.
 * Usage: test_step_stale [threads iters]
 */
#include "../harness.h"

#define QCAP 4096

int main(int argc, char **argv)
{
	const char *nthr = argc > 1 ? argv[1] : "64", *niter = argc > 2 ? argv[2] : "40";
	long want = atol(nthr) * atol(niter);
	struct inferior inf;
	inferior_start(&inf, "bp_threads", nthr, niter, NULL);
	uint64_t insn = ready_field(&inf, "bp");
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_runctl_set_mode(p, DBG_RUNCTL_ALL_STOP));
	struct dbg_bp *bp;
	OK(dbg_bp_insert(p, insn, NULL, &bp));
	OK(dbg_proc_resume(p));
	inferior_say(&inf, "go\n");

	static struct dbg_event q[QCAP];
	size_t qn = 0;
	long hits = 0, queued_steps = 0;
	time_t t0 = time(NULL);
	for (;;) {
		struct dbg_event ev;
		bool from_queue = qn > 0;
		if (from_queue) {
			ev = q[0];
			memmove(q, q + 1, --qn * sizeof(*q));
		} else {
			int rc = dbg_proc_wait(p, 200, &ev);
			if (rc == -ETIMEDOUT) {
				if (line_ready(&inf))
					break;
				CHECK(time(NULL) - t0 < 200, "no progress after %ld hits", hits);
				continue;
			}
			CHECK(rc == 0, "wait = %d: %s", rc, dbg_proc_errmsg(p));
			/* Every thread is stopped now; what stop-all met on
			 * the way is ours to handle before anything runs. */
			struct dbg_event e;
			while (dbg_proc_wait(p, 0, &e) == 0) {
				CHECK(qn < QCAP, "queue full");
				q[qn++] = e;
			}
		}
		CHECK(ev.kind != DBG_EVENT_KILLED && ev.kind != DBG_EVENT_EXITED, "target ended");
		if (ev.kind == DBG_EVENT_THREAD_EXIT || ev.kind == DBG_EVENT_CLONE) {
			if (!qn)
				OK(dbg_proc_resume(p));
			continue;
		}
		CHECK(ev.kind == DBG_EVENT_BREAKPOINT && ev.addr == insn,
		      "event kind %d signo %d of %d after %ld hits", ev.kind, ev.signo, ev.tid, hits);
		hits++;
		queued_steps += from_queue;
		OK(dbg_bp_remove(p, bp));
		OK(dbg_proc_step_thread(p, ev.tid));
		struct dbg_event s;
		int rc = dbg_proc_wait(p, 5000, &s);
		CHECK(rc == 0, "step of %d (%s hit %ld): wait = %d: %s", ev.tid,
		      from_queue ? "a collected" : "the reported", hits, rc, dbg_proc_errmsg(p));
		CHECK(s.kind == DBG_EVENT_TRAP && s.tid == ev.tid,
		      "step of %d (%s hit %ld) ended in event kind %d of %d", ev.tid,
		      from_queue ? "a collected" : "the reported", hits, s.kind, s.tid);
		struct dbg_regs regs;
		OK(dbg_regs_get(p, ev.tid, &regs));
		CHECK(regs.rip == insn + 8, "step of %d (%s hit %ld): pc %#llx, want %#llx", ev.tid,
		      from_queue ? "a collected" : "the reported", hits, (unsigned long long)regs.rip,
		      (unsigned long long)insn + 8);
		OK(dbg_proc_set_signal(p, ev.tid, 0));
		OK(dbg_bp_insert(p, insn, NULL, &bp));
		if (!qn)
			OK(dbg_proc_resume(p));
	}
	char line[256];
	inferior_line(&inf, line, sizeof(line));
	long count = -1, data = -1;
	CHECK(sscanf(line, "done count=%ld data=%ld", &count, &data) == 2, "line '%s'", line);
	CHECK(count == want && data == want, "target counted %ld (data %ld), want %ld", count, data, want);
	CHECK(hits == want, "%ld hits, want %ld", hits, want);
	CHECK(queued_steps > 0, "no hit was collected by a stop-all: nothing tested");
	OK(dbg_proc_stop(p));
	dbg_proc_detach(p);
	inferior_say(&inf, "exit\n");
	inferior_kill(&inf);
	printf("step_stale: %ld hits stepped over one by one, %ld of them collected by stop-all\n", hits,
	       queued_steps);
	return 0;
}
