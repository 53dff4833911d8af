/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A breakpoint inserted at the return address of a system call a thread
 * is blocked in (gdb puts one at any pc it likes: a step-resume or
 * finish breakpoint in libc's read or waitpid). The thread has not
 * begun the instruction there: resumed, it must finish its call and then
 * report the breakpoint. It was "stepped off" like a thread standing on
 * the breakpoint, in non-stop mode through a displaced copy, and the
 * kernel's restart of the call moved the pc two bytes before the scratch
 * copy: SIGSEGV (gdb.threads/next-fork-other-thread.exp through
 * dbg-server). In all-stop the step-off is in place and must end the
 * same way.
 * Usage: test_bp_syscall_pc nonstop|allstop
 */
#include "../harness.h"

int main(int argc, char **argv)
{
	bool allstop = argc > 1 && !strcmp(argv[1], "allstop");
	struct inferior inf;
	/* sleepers: two threads in nanosleep loops, the heartbeat thread,
	 * and the main thread blocked in read() on its stdin */
	inferior_start(&inf, "sleepers", "2", NULL);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_runctl_set_mode(p, allstop ? DBG_RUNCTL_ALL_STOP : DBG_RUNCTL_NON_STOP));
	OK(dbg_proc_resume(p));
	sleep_ms(200);
	pid_t tid = inf.pid;
	OK(dbg_proc_stop_thread(p, tid));
	struct dbg_event ev;
	while (dbg_proc_wait(p, 0, &ev) == 0)
		CHECK(ev.kind == DBG_EVENT_STOPPED || ev.kind == DBG_EVENT_THREAD_EXIT, "event %d", ev.kind);
	struct dbg_regs r;
	OK(dbg_regs_get(p, tid, &r));
	CHECK((int64_t)r.orig_rax == 0 /* read */ && (int64_t)r.rax == -512 /* -ERESTARTSYS */,
	      "main thread not blocked in read: orig_rax %lld rax %lld", (long long)r.orig_rax,
	      (long long)r.rax);
	uint64_t pc = r.rip;
	struct dbg_bp *bp;
	OK(dbg_bp_insert(p, pc, NULL, &bp));
	if (allstop)
		OK(dbg_proc_resume(p));
	else
		OK(dbg_proc_resume_thread(p, tid));
	sleep_ms(100);
	CHECK(thread_state(inf.pid, tid) == 'S', "the thread left its read: state %c",
	      thread_state(inf.pid, tid));
	inferior_say(&inf, "spawn\n"); /* read returns: the next instruction is the breakpoint */
	for (;;) {
		int rc = dbg_proc_wait(p, 5000, &ev);
		CHECK(rc == 0, "wait = %d: %s", rc, dbg_proc_errmsg(p));
		if (ev.kind == DBG_EVENT_CLONE || ev.kind == DBG_EVENT_STOPPED)
			continue; /* not before the read returned: the spawn is after it */
		break;
	}
	CHECK(ev.kind == DBG_EVENT_BREAKPOINT && ev.tid == tid && ev.addr == pc,
	      "after the read: event kind %d signo %d of %d (want the breakpoint at %#llx in %d)",
	      ev.kind, ev.signo, ev.tid, (unsigned long long)pc, tid);
	OK(dbg_regs_get(p, tid, &r));
	CHECK(r.rip == pc, "pc %#llx at the hit", (unsigned long long)r.rip);
	OK(dbg_bp_remove(p, bp));
	OK(dbg_proc_resume(p));
	/* serve events until the spawn is done (all-stop: every event
	 * stopped every thread) */
	char line[256];
	for (int i = 0;; i++) {
		struct pollfd pfd = { .fd = fileno(inf.out), .events = POLLIN };
		if (poll(&pfd, 1, 0) == 1)
			break;
		CHECK(i < 1000, "no line after the hit");
		if (dbg_proc_wait(p, 20, &ev) == 0 && ev.kind != DBG_EVENT_THREAD_EXIT) {
			if (allstop)
				OK(dbg_proc_resume(p));
			else
				OK(dbg_proc_resume_thread(p, ev.tid));
		}
	}
	inferior_line(&inf, line, sizeof(line));
	CHECK(!strncmp(line, "spawned ", 8), "after the hit: '%s'", line);
	OK(dbg_proc_stop(p));
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("bp_syscall_pc %s: the blocked thread finished its read and then hit the breakpoint\n",
	       allstop ? "all-stop" : "non-stop");
	return 0;
}
