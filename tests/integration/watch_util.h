/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the watchpoint tests: serving a target's events while
 * waiting for its next line (recording the watchpoint hits and any raw
 * trap), and reading every thread's DR7 with raw ptrace after libdbg has
 * let go (an oracle that does not go through libdbg).
 */
#ifndef DBG_TEST_WATCH_UTIL_H
#define DBG_TEST_WATCH_UTIL_H

#include "../harness.h"

#include <stddef.h>
#include <sys/user.h>

#define MAX_SEEN 256

struct seen {
	int n;            /* watchpoint hits */
	struct dbg_event hit[MAX_SEEN];
	int traps;        /* TRAP or SIGTRAP events nobody claimed */
	struct dbg_event trap;
};

static inline void seen_reset(struct seen *s)
{
	s->n = 0;
	s->traps = 0;
}

/* Serve @p's events until the inferior prints a line: watchpoint hits
 * are recorded and resumed; a TRAP or SIGTRAP is recorded and filtered
 * (a hit we failed to decode would otherwise kill the target). */
static inline char *serve_line(struct dbg_proc *p, struct inferior *inf, struct seen *s,
			       char *buf, size_t len)
{
	for (int i = 0; i < 20000; i++) {
		struct pollfd pfd = { .fd = fileno(inf->out), .events = POLLIN };
		if (poll(&pfd, 1, 1) == 1)
			return inferior_line(inf, buf, len);
		struct dbg_event ev;
		while (dbg_proc_wait(p, 0, &ev) == 0) {
			if (getenv("DBG_TEST_VERBOSE"))
				fprintf(stderr, "event kind %d tid %d signo %d code %d addr %#llx\n",
					ev.kind, ev.tid, ev.signo, ev.siginfo.code,
					(unsigned long long)ev.addr);
			if (ev.kind == DBG_EVENT_WATCHPOINT) {
				if (s->n < MAX_SEEN)
					s->hit[s->n] = ev;
				s->n++;
			} else if (ev.kind == DBG_EVENT_TRAP ||
				   (ev.kind == DBG_EVENT_SIGNAL && ev.signo == SIGTRAP)) {
				s->trap = ev;
				s->traps++;
				dbg_proc_set_signal(p, ev.tid, 0);
			}
			if (ev.kind != DBG_EVENT_THREAD_EXIT && ev.kind != DBG_EVENT_EXITED &&
			    ev.kind != DBG_EVENT_KILLED)
				dbg_proc_resume_thread(p, ev.tid);
		}
	}
	CHECK(0, "no line from inferior %d in 20 s", inf->pid);
	return NULL;
}

/* Say @cmd and serve until the answer, which must start with @want. */
static inline void ask(struct dbg_proc *p, struct inferior *inf, struct seen *s,
		       const char *cmd, const char *want, char *buf, size_t len)
{
	inferior_say(inf, cmd);
	serve_line(p, inf, s, buf, len);
	CHECK(!strncmp(buf, want, strlen(want)), "after '%.*s': '%s', want '%s'",
	      (int)strcspn(cmd, "\n"), cmd, buf, want);
}

static inline long dr7_off(void)
{
	return (long)(offsetof(struct user, u_debugreg) + 7 * sizeof(long));
}

/* DR7 of every thread of @pid, read with raw ptrace (seize, interrupt,
 * PEEKUSER, detach) while nobody traces it. Fails the test on a nonzero
 * one; returns how many threads were read. */
static inline int check_raw_dr7_zero(pid_t pid, const char *when)
{
	pid_t tids[256];
	int n = list_tids(pid, tids, 256);
	CHECK(n > 0, "no threads of %d", pid);
	int read = 0;
	for (int i = 0; i < n; i++) {
		if (ptrace(PTRACE_SEIZE, tids[i], 0, 0) < 0)
			continue; /* exited meanwhile */
		CHECK(ptrace(PTRACE_INTERRUPT, tids[i], 0, 0) == 0, "interrupt %d", tids[i]);
		int st;
		CHECK(waitpid(tids[i], &st, __WALL) == tids[i] && WIFSTOPPED(st), "stop %d", tids[i]);
		errno = 0;
		long v = ptrace(PTRACE_PEEKUSER, tids[i], dr7_off(), 0);
		CHECK(errno == 0, "PEEKUSER DR7 of %d: %s", tids[i], strerror(errno));
		ptrace(PTRACE_DETACH, tids[i], 0, 0);
		CHECK(v == 0, "%s: DR7 of thread %d is %#lx", when, tids[i], v);
		read++;
	}
	return read;
}

/* DR7 of every thread of @p through libdbg (all must be stopped). */
static inline void check_dr7_zero(struct dbg_proc *p, const char *when)
{
	pid_t tids[256];
	int n = dbg_proc_threads(p, tids, 256);
	CHECK(n > 0, "no threads");
	for (int i = 0; i < n && i < 256; i++) {
		uint64_t v = 1;
		OK(dbg_regs_get_debugreg(p, tids[i], 7, &v));
		CHECK(v == 0, "%s: DR7 of thread %d is %#llx", when, tids[i], (unsigned long long)v);
	}
}

#endif
