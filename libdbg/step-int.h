/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run-control state of stepping: instruction, over calls, out of frames, lines, ranges (step.c):
 * what the module keeps per process (in struct dbg_proc) and per thread
 * (in struct dbg__thread). Included by internal.h only. Thread entries
 * are moved with memcpy when the table changes: no pointers into them.
 */
#ifndef DBG_STEP_INT_H
#define DBG_STEP_INT_H

struct dbg__step_proc {
	void *priv;
};

struct dbg__step_thread {
	int unused;
};

#endif
