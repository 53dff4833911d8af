/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fork children: detached at once by default (the child runs and exits
 * normally); with DBG_ATTACH_FOLLOW_FORK kept traced and taken over with
 * dbg_proc_attach_child().
 */
#include "../harness.h"

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "sleepers", "1", NULL);
	char line[256];

	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_proc_resume(p));
	inferior_say(&inf, "fork\n");
	struct dbg_event ev = wait_for(p, DBG_EVENT_FORK, 5000);
	pid_t child = ev.child;
	CHECK(child > 0, "child pid");
	OK(dbg_proc_resume_thread(p, ev.tid));
	serve_until_line(p, &inf, line, sizeof(line));
	char want[64];
	snprintf(want, sizeof(want), "child %d status 0", child);
	CHECK(!strcmp(line, want), "'%s', want '%s'", line, want);
	dbg_proc_detach(p);

	DBG_OPTS(dbg_attach_opts, o, .flags = DBG_ATTACH_FOLLOW_FORK);
	p = attach_or_skip(inf.pid, &o);
	OK(dbg_proc_resume(p));
	inferior_say(&inf, "fork\n");
	ev = wait_for(p, DBG_EVENT_FORK, 5000);
	child = ev.child;
	struct dbg_proc *c;
	OK(dbg_proc_attach_child(p, child, &c));
	CHECK(dbg_proc_pid(c) == child, "child handle pid");
	CHECK(dbg_proc_thread_state(c, child) == DBG_THREAD_STOPPED, "child stopped");
	struct dbg_regs regs;
	OK(dbg_regs_get(c, child, &regs));
	OK(dbg_proc_resume(c));
	ev = wait_for(c, DBG_EVENT_EXITED, 5000);
	CHECK(ev.status == 0, "child status %d", ev.status);
	dbg_proc_detach(c);
	OK(dbg_proc_resume(p));
	serve_until_line(p, &inf, line, sizeof(line));
	CHECK(!strncmp(line, "child", 5), "parent said '%s'", line);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("fork: detached by default, followed on request\n");
	return 0;
}
