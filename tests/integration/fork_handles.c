/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Two handles at once, a parent and its followed fork child
 * (dbg_proc_attach_child), both running and waited for in turn, as a
 * debugger with several inferiors does (dbg-server with gdb's
 * detach-on-fork off). The child's new threads have the parent's pid as
 * their PPid: the parent's handle must never take them (or any task of
 * the child) for its own. Every SIGUSR1 of the child's 4 threads must be
 * reported by the child's handle, none by the parent's, and both must
 * exit 0. Before the fix the parent's waits adopted the child's threads
 * as fork children and swallowed their stops: the child hung.
 */
#include "../harness.h"

#include <poll.h>
#include <time.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void)
{
	skip_unless_ptrace();
	char path[512];
	snprintf(path, sizeof(path), "%s/fork_threads", INFERIOR_DIR);
	char *argv[] = { path, NULL };
	DBG_OPTS(dbg_spawn_opts, o, .flags = DBG_ATTACH_FOLLOW_FORK);
	struct dbg_proc *p, *c = NULL;
	OK(dbg_proc_spawn(path, argv, &o, &p));
	pid_t ppid = dbg_proc_pid(p);
	OK(dbg_proc_resume(p));
	struct dbg_event ev = wait_for(p, DBG_EVENT_FORK, 10000);
	pid_t cpid = ev.child;
	OK(dbg_proc_attach_child(p, cpid, &c));
	OK(dbg_proc_resume_thread(p, ev.tid));
	OK(dbg_proc_resume(c));

	int usr1 = 0, clones = 0, child_status = -1, parent_status = -1;
	int64_t end = now_ms() + 20000;
	while (parent_status < 0 && now_ms() < end) {
		bool any = false;
		if (p && dbg_proc_wait(p, 0, &ev) == 0) {
			any = true;
			CHECK(ev.tid == ppid, "the parent's handle reported task %d (kind %d; the child is %d)",
			      ev.tid, ev.kind, cpid);
			if (ev.kind == DBG_EVENT_EXITED || ev.kind == DBG_EVENT_KILLED) {
				parent_status = ev.kind == DBG_EVENT_EXITED ? ev.status : 100 + ev.signo;
			} else {
				OK(dbg_proc_resume_thread(p, ev.tid));
			}
		}
		if (c && dbg_proc_wait(c, 0, &ev) == 0) {
			any = true;
			CHECK(ev.tid != ppid, "the child's handle reported the parent");
			switch (ev.kind) {
			case DBG_EVENT_SIGNAL:
				usr1 += ev.signo == SIGUSR1;
				OK(dbg_proc_resume_thread(c, ev.tid));
				break;
			case DBG_EVENT_CLONE:
				clones++;
				dbg_proc_resume_thread(c, ev.child);
				OK(dbg_proc_resume_thread(c, ev.tid));
				break;
			case DBG_EVENT_THREAD_EXIT:
				break;
			case DBG_EVENT_EXITED:
			case DBG_EVENT_KILLED:
				child_status = ev.kind == DBG_EVENT_EXITED ? ev.status : 100 + ev.signo;
				dbg_proc_detach(c);
				c = NULL;
				break;
			default:
				OK(dbg_proc_resume_thread(c, ev.tid));
			}
		}
		if (!any) {
			struct pollfd pf[2] = { { .fd = dbg_proc_fd(p), .events = POLLIN },
						{ .fd = c ? dbg_proc_fd(c) : -1, .events = POLLIN } };
			poll(pf, 2, 10);
		}
	}
	CHECK(child_status == 0, "child status %d (SIGUSR1s seen %d, clones %d)", child_status, usr1,
	      clones);
	CHECK(usr1 == 20, "%d of 20 SIGUSR1s reported by the child's handle", usr1);
	CHECK(clones == 4, "%d of 4 clones", clones);
	CHECK(parent_status == 0, "parent status %d", parent_status);
	dbg_proc_detach(p);
	printf("fork_handles: parent and followed child waited for in turn, %d signals, %d clones\n",
	       usr1, clones);
	return 0;
}
