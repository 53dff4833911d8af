/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run-control state of software breakpoints, stepping over them, non-stop and displaced stepping (bp.c, runctl):
 * what the module keeps per process (in struct dbg_proc) and per thread
 * (in struct dbg__thread). Included by internal.h only. Thread entries
 * are moved with memcpy when the table changes: no pointers into them.
 */
#ifndef DBG_BP_INT_H
#define DBG_BP_INT_H

struct dbg__bp_proc {
	void *priv;
};

struct dbg__bp_thread {
	int unused;
};

#endif
