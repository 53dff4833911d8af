/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run-control state of hardware breakpoints and watchpoints in the debug
 * registers (watch.c): what the module keeps per process (in struct
 * dbg_proc) and per thread (in struct dbg__thread). Included by
 * internal.h only. Thread entries are moved with memcpy when the table
 * changes: no pointers into them.
 */
#ifndef DBG_WATCH_INT_H
#define DBG_WATCH_INT_H

#include <stdbool.h>
#include <stdint.h>

struct dbg_watch;
struct dbg_proc;
struct dbg__thread;
struct dbg_event;

struct dbg__watch_proc {
	struct dbg_watch *list;   /* insertion order (the oldest reported first) */
	unsigned int nactive;     /* watches programmed (not dropped by exec) */
	bool used;                /* ever had one: new threads get programmed */
	bool setup_done;          /* threads added from now on are clone children */
};

/* One thread's debug registers as watch.c programmed them. A slot's ctl
 * is 0 when unused, else DBG__WATCH_CTL_USED | rw | len << 2 (the DR7
 * field of that slot). */
#define DBG__WATCH_CTL_USED 0x10
struct dbg__watch_thread {
	bool dirty;       /* the wanted state changed: program before it runs */
	bool cur_valid;   /* cur_* are what the thread has */
	/* A clone child: the kernel copied its parent's DR7 value (what
	 * PEEKUSER shows) but none of the breakpoints behind it; write DR7
	 * once so what it shows is true. */
	bool dr7_stale;
	uint8_t cur_ctl[4];
	uint64_t cur_addr[4];
	uint64_t cur_dr7;
	/* The last stop reported as DBG_EVENT_WATCHPOINT: the slots that
	 * fired, and whether it also ended a single-step (DR6.BS). Valid
	 * until the thread is resumed. */
	uint8_t fired;
	bool stepped;
};

/* For other run-control modules (step): did the last stop of @t, reported
 * as DBG_EVENT_WATCHPOINT, also end a single-step? Valid until @t runs. */
bool dbg__watch_stepped(const struct dbg__thread *t);
/* The watch module's stop hook, for a module asked before it that claims
 * a trap of its own (bp: the single-step over a breakpoint) which may
 * also carry a watch hit: returns D_REPORT after rewriting *ev into
 * DBG_EVENT_WATCHPOINT, else D_NONE (an enum dbg__disposition). */
int dbg__watch_claim(struct dbg_proc *p, struct dbg__thread *t, struct dbg_event *ev);

#endif
