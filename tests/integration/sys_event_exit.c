/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Catching a system call while its thread stands at a ptrace event
 * inside it (tests/inferiors/sys_events.c): the target runs without
 * catching; at each DBG_EVENT_VFORK, FORK, CLONE and EXEC the test turns
 * on catching of that call (vfork; clone/clone3; execve) and resumes.
 * The next syscall event of that thread must be the call's exit, with
 * the child's id (fork, vfork, clone) or 0 (execve) as its return value,
 * as gdb expects when it sets `catch syscall` at a vfork stop
 * (gdb.base/catch-syscall.exp, "mid-vfork"). Then catching is turned off
 * and nothing more may be reported. In the PTRACE_SYSCALL mode and in the
 * seccomp mode (where the exit needs a PTRACE_SYSCALL resume after the
 * event stops, vfork-done included). Between a vfork's event and its
 * exit comes DBG_EVENT_VFORK_DONE of that thread, naming the child.
 */
#include "../harness.h"

#include <sys/syscall.h>

static const long filter_nrs[] = { SYS_vfork, SYS_clone, SYS_clone3, SYS_execve };

static void run(int seccomp)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/sys_events", INFERIOR_DIR);
	char *argv[] = { path, NULL };
	struct dbg_spawn_opts o = { .sz = sizeof(o), .flags = DBG_ATTACH_FOLLOW_FORK };
	if (seccomp) {
		o.seccomp_sysnos = filter_nrs;
		o.seccomp_nsysnos = sizeof(filter_nrs) / sizeof(filter_nrs[0]);
	}
	if (getenv("DBG_TEST_VERBOSE"))
		o.log_fn = verbose_log;
	struct dbg_proc *p = NULL;
	int r = dbg_proc_spawn(path, argv, &o, &p);
	if (r == -EPERM)
		skip("ptrace or seccomp not permitted");
	CHECK(r == 0, "spawn %s: %s", path, dbg_strerror(r));
	OK(dbg_proc_resume(p));

	/* What the thread at the last event waits for: its call's exit. */
	pid_t want_tid = 0;
	long want_ret = 0;
	const char *what = NULL;
	int exits = 0, events = 0, vfork_dones = 0;
	for (;;) {
		struct dbg_event ev;
		r = dbg_proc_wait(p, 20000, &ev);
		CHECK(r == 0, "%s mode: wait: %s (%s)%s%s", seccomp ? "seccomp" : "ptrace",
		      dbg_strerror(r), dbg_proc_errmsg(p), what ? ", waiting for the exit of " : "",
		      what ? what : "");
		if (ev.kind == DBG_EVENT_EXITED) {
			CHECK(ev.status == 0, "exit status %d", ev.status);
			break;
		}
		CHECK(ev.kind != DBG_EVENT_KILLED, "killed by %d", ev.signo);
		long nrs[2];
		size_t n = 0;
		switch (ev.kind) {
		case DBG_EVENT_VFORK:
			nrs[n++] = SYS_vfork;
			what = "vfork";
			break;
		case DBG_EVENT_FORK:
			nrs[n++] = SYS_clone;
			what = "fork (clone)";
			break;
		case DBG_EVENT_CLONE:
			nrs[n++] = SYS_clone;
			nrs[n++] = SYS_clone3;
			what = "pthread_create (clone3)";
			break;
		case DBG_EVENT_EXEC:
			nrs[n++] = SYS_execve;
			what = "execve";
			break;
		case DBG_EVENT_VFORK_DONE:
			CHECK(want_tid == ev.tid && ev.child == want_ret && what && !strcmp(what, "vfork"),
			      "vfork-done of thread %d, child %d, while waiting for the exit of %s in %d",
			      ev.tid, ev.child, what ? what : "nothing", want_tid);
			vfork_dones++;
			break;
		case DBG_EVENT_SYSCALL_ENTRY:
			CHECK(0, "entry of %ld reported in thread %d", ev.sysno, ev.tid);
			break;
		case DBG_EVENT_SYSCALL_EXIT:
			CHECK(want_tid == ev.tid, "exit of %ld in thread %d, not the one at the event (%d)",
			      ev.sysno, ev.tid, want_tid);
			CHECK(ev.sysret == want_ret, "%s returned %lld, the event said %ld", what,
			      (long long)ev.sysret, want_ret);
			OK(dbg_syscall_catch(p, NULL, 0, 0));
			want_tid = 0;
			exits++;
			break;
		default:
			break;
		}
		if (n) {
			CHECK(want_tid == 0, "event %d of %d before the exit of %s", ev.kind, ev.tid, what);
			events++;
			OK(dbg_syscall_catch(p, nrs, n, 0));
			CHECK(dbg_syscall_mode(p) == (seccomp ? DBG_SYSCALL_MODE_SECCOMP
							     : DBG_SYSCALL_MODE_PTRACE),
			      "mode %d", dbg_syscall_mode(p));
			want_tid = ev.tid;
			want_ret = ev.kind == DBG_EVENT_EXEC ? 0 : ev.child;
			if (ev.kind == DBG_EVENT_FORK || ev.kind == DBG_EVENT_VFORK) {
				struct dbg_proc *c = NULL;
				OK(dbg_proc_attach_child(p, ev.child, &c));
				dbg_proc_detach(c);
			}
		}
		OK(dbg_proc_resume(p));
	}
	CHECK(events == 4 && exits == 4 && vfork_dones == 1,
	      "%s mode: %d events, %d exits, %d vfork-done (want 4, 4, 1)",
	      seccomp ? "seccomp" : "ptrace", events, exits, vfork_dones);
	dbg_proc_detach(p);
	printf("%s mode: the exits of vfork, fork, clone3 and execve caught from their events\n",
	       seccomp ? "seccomp" : "ptrace");
}

int main(void)
{
	run(0);
	run(1);
	return 0;
}
