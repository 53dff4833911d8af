/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A target killed by SIGKILL from outside while we attach, stop all
 * threads, wait, and read registers. Every call must return success or an
 * error of the ESRCH family; nothing may crash or hang (ctest TIMEOUT),
 * and under ASan nothing may leak.
 */
#include "../harness.h"
#include <pthread.h>

static pid_t victim;
static int delay_us;

static void *killer(void *arg)
{
	usleep(delay_us);
	kill(victim, SIGKILL);
	return arg;
}

static bool esrch_family(int r)
{
	/* ESRCH: gone. EPERM: the kernel refuses PTRACE_SEIZE of a task that
	 * is already exiting (ptrace_attach: exit_state). */
	return r == -ESRCH || r == -EPERM;
}

enum op { OP_ATTACH, OP_STOP, OP_WAIT, OP_REGS, OP_MEM, OP__N };
static const char *const op_names[] = { "attach", "stop", "wait", "regs", "mem" };

static void run(enum op op, int iter)
{
	struct inferior inf;
	inferior_start(&inf, "sleepers", "8", NULL);
	uint64_t hb = ready_field(&inf, "heartbeat");
	victim = inf.pid;
	delay_us = (iter * 397) % 3000;
	struct dbg_proc *p = NULL;
	if (op != OP_ATTACH)
		p = attach_or_skip(inf.pid, NULL);
	/* Reads of a stopped target come from the page cache, which learns
	 * of a SIGKILL only when the death is reaped: read a running one. */
	if (op == OP_MEM)
		OK(dbg_proc_resume(p));
	pthread_t k;
	pthread_create(&k, NULL, killer, NULL);
	int r = 0;
	for (int spins = 0; spins < 100000 && r >= 0; spins++) {
		switch (op) {
		case OP_ATTACH:
			r = dbg_proc_attach(inf.pid, NULL, &p);
			if (r == 0) {
				dbg_proc_detach(p);
				p = NULL;
			}
			break;
		case OP_STOP:
			r = dbg_proc_resume(p);
			if (r >= 0)
				r = dbg_proc_stop(p);
			break;
		case OP_WAIT: {
			struct dbg_event ev;
			r = dbg_proc_resume(p);
			if (r >= 0)
				r = dbg_proc_wait(p, 1, &ev);
			if (r == -ETIMEDOUT)
				r = 0;
			break;
		}
		case OP_REGS: {
			pid_t tids[64];
			int n = dbg_proc_threads(p, tids, 64);
			struct dbg_regs regs;
			struct dbg_xstate xs;
			for (int i = 0; i < n && r >= 0; i++) {
				r = dbg_regs_get(p, tids[i], &regs);
				if (r >= 0)
					r = dbg_regs_get_xstate(p, tids[i], &xs);
			}
			if (n <= 0)
				r = n ? n : -ESRCH;
			break;
		}
		case OP_MEM: {
			uint64_t v;
			ssize_t n = dbg_mem_read(p, hb, &v, 8);
			r = n == 8 ? 0 : (int)n;
			break;
		}
		default:
			break;
		}
	}
	pthread_join(k, NULL);
	CHECK(r < 0, "%s: the target never died", op_names[op]);
	CHECK(esrch_family(r), "%s, iteration %d: error %d (%s), not ESRCH", op_names[op], iter, r,
	      dbg_strerror(r));
	if (p) {
		/* Every later call fails cleanly too. */
		struct dbg_event ev;
		int w;
		while ((w = dbg_proc_wait(p, 2000, &ev)) == 0)
			;
		CHECK(w == -ESRCH, "%s: wait after death = %d (%s)", op_names[op], w, dbg_strerror(w));
		CHECK(dbg_proc_stop(p) == -ESRCH, "stop after death");
		uint64_t v;
		CHECK(dbg_mem_read(p, hb, &v, 8) == -ESRCH, "read after death");
		dbg_proc_detach(p);
	}
	inferior_kill(&inf);
}

int main(void)
{
	for (int op = 0; op < OP__N; op++)
		for (int iter = 0; iter < 12; iter++)
			run(op, iter);
	printf("all operations fail cleanly with ESRCH when the target is killed\n");
	return 0;
}
