/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the step_* tests: spawn step_rec and run it to its int3. */
#ifndef STEP_COMMON_H
#define STEP_COMMON_H

#include "../harness.h"

struct stepper {
	struct dbg_proc *p;
	struct dbg_sym *sym;
	pid_t tid;
	uint64_t main_addr;
};

static inline void ptrace_or_skip(void)
{
	pid_t c = fork();
	if (c == 0) {
		_exit(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0 ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		skip("ptrace is not allowed here");
}

/* The next event, which must come within 30 s. */
static inline struct dbg_event next_event(struct dbg_proc *p)
{
	struct dbg_event ev;
	int r = dbg_proc_wait(p, 30000, &ev);
	CHECK(r == 0, "dbg_proc_wait = %d (%s): %s", r, dbg_strerror(r), dbg_proc_errmsg(p));
	return ev;
}

/* Spawn @prog (an inferior) with @arg and run it to start_here()'s int3. */
static inline void stepper_start(struct stepper *s, const char *prog, const char *arg)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", INFERIOR_DIR, prog);
	char *argv[] = { path, (char *)arg, NULL };
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct dbg_spawn_opts so = { .sz = sizeof(so), .stdout_fd = devnull };
	OK(dbg_proc_spawn(path, argv, &so, &s->p));
	close(devnull);
	s->tid = dbg_proc_pid(s->p);
	OK(dbg_proc_resume(s->p));
	for (;;) {
		struct dbg_event ev = next_event(s->p);
		CHECK(ev.kind != DBG_EVENT_EXITED && ev.kind != DBG_EVENT_KILLED, "target ended");
		if (ev.kind == DBG_EVENT_TRAP && ev.tid == s->tid)
			break;
		OK(dbg_proc_resume_thread(s->p, ev.tid));
	}
	/* The int3 is the program's own: do not deliver its SIGTRAP. */
	OK(dbg_proc_set_signal(s->p, s->tid, 0));
	OK(dbg_sym_new(s->p, NULL, &s->sym));
	OK(dbg_sym_addr(s->sym, "main", &s->main_addr));
}

static inline void stepper_end(struct stepper *s)
{
	dbg_sym_free(s->sym);
	dbg_proc_kill(s->p);
	dbg_proc_detach(s->p);
}

/* One step of kind @k; its event must be DBG_EVENT_STEP of s->tid. */
static inline uint64_t step_once(struct stepper *s, enum dbg_step_kind k,
				 const struct dbg_step_opts *o)
{
	struct dbg_step_opts def = { .sz = sizeof(def), .sym = s->sym };
	int r = dbg_step(s->p, s->tid, k, o ? o : &def);
	CHECK(r == 0, "dbg_step(%d) = %d (%s): %s", (int)k, r, dbg_strerror(r), dbg_proc_errmsg(s->p));
	struct dbg_event ev = next_event(s->p);
	CHECK(ev.kind == DBG_EVENT_STEP && ev.tid == s->tid, "step %d ended with event %d (signo %d)",
	      (int)k, (int)ev.kind, ev.signo);
	struct dbg_regs regs;
	OK(dbg_regs_get(s->p, s->tid, &regs));
	CHECK(regs.rip == ev.addr, "event.addr 0x%llx != pc 0x%llx", (unsigned long long)ev.addr,
	      (unsigned long long)regs.rip);
	return ev.addr;
}

#endif
