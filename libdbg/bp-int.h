/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run-control state of software breakpoints, stepping over them, non-stop
 * and displaced stepping (bp.c): what the module keeps per process (in
 * struct dbg_proc) and per thread (in struct dbg__thread), and the few
 * functions the memory layer and proc call. Included by internal.h only.
 * Thread entries are moved with memcpy when the table changes: no pointers
 * into them.
 */
#ifndef DBG_BP_INT_H
#define DBG_BP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <dbg/bp.h>

struct dbg_proc;
struct dbg__thread;
struct dbg__bp_site;

#define DBG__BP_MORIBUND 32
#define DBG__BP_SCRATCH 8

struct dbg__bp_proc {
	/* Addresses with an int3, sorted by address. */
	struct dbg__bp_site *sites;
	size_t nsites, cap_sites;
	/* Every handle not yet removed, in insertion order (owned). */
	struct dbg_bp **bps;
	size_t nbps, cap_bps;
	int mode; /* enum dbg_runctl_mode */
	/* Addresses whose int3 went away recently: a thread that trapped on
	 * one before the removal must not get its SIGTRAP. */
	uint64_t moribund[DBG__BP_MORIBUND];
	unsigned int nmoribund;
	/* Scratch pages of displaced stepping (target addresses). */
	uint64_t scratch[DBG__BP_SCRATCH];
	unsigned int nscratch;
	bool scratch_failed;
	uint64_t syscall_insn; /* a `syscall` in the [vdso], 0: not looked */
	size_t cs;             /* capstone handle, 0: not opened */
	/* Module-load events (r_debug). */
	bool modules;
	struct dbg_bp *rbrk;
	uint64_t r_debug;
	/* A vfork child runs on our memory: int3s lifted until VFORK_DONE. */
	bool vfork_lifted;
	/* This proc is a followed vfork child: its memory is its parent's
	 * until it execs; detach must not take the int3s out. */
	bool shared_mm;
	bool detached;
	struct dbg_bp_stats stats;
};

struct dbg__bp_thread {
	/* The site this thread stopped on (by a hit): resuming it steps
	 * over that instruction. 0: none. */
	uint64_t on_site;
	/* A step-off single-step of ours is in flight. */
	bool stepping_off;
	/* ... and the trap that ends it was seen. */
	bool stepped;
	/* A step-off left to finish by itself (a slow system call); its
	 * trap is swallowed unless the caller's own request was a step. */
	bool step_pending;
	bool user_step;
};

/* mem.c's read path: put the original bytes over every int3 in
 * [addr, addr + len) of @buf. */
void dbg__bp_shadow_read(struct dbg_proc *p, uint64_t addr, void *buf, size_t len);
/* mem.c's write path: @buf as it must reach the target (int3s kept, the
 * saved originals updated); *ret_copy is malloced when a copy was made
 * (free it), else NULL. NULL on ENOMEM. */
const void *dbg__bp_shadow_write(struct dbg_proc *p, uint64_t addr, const void *buf, size_t len,
				 void **ret_copy);

/* proc.c, for run control: stop every running thread but @keep, return
 * the tids of the ones this stopped (malloced) to give to unpause, which
 * resumes those that have no queued event. */
int dbg__runctl_pause(struct dbg_proc *p, pid_t keep, pid_t **ret_tids, size_t *ret_n);
void dbg__runctl_unpause(struct dbg_proc *p, pid_t *tids, size_t n);

#endif
