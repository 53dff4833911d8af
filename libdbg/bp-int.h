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
	/* All-stop: the caller's last dbg_proc_resume() was held back by
	 * a queued event about a stopped thread, and no event has been
	 * reported since. Dropping those events (a removed breakpoint's or
	 * watch's) must then do the resume, or nothing ever runs. */
	bool resume_held;
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
	/* This proc is a followed vfork child: the pid whose memory it runs
	 * on until it execs or exits (0: its own). Detach leaves its int3s
	 * there; its exec or exit takes out those its parent has not. */
	pid_t mm_owner;
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
	/* A module-internal breakpoint for this thread alone (the step
	 * module's at a return address): its address (0: none) and owner
	 * tag. Not a dbg_bp handle: it is a reference on the site, which
	 * user breakpoints at the same address share. */
	uint64_t internal_addr;
	int internal_owner;
	/* The stop being handled is a hit of it (pc rewound, passed on). */
	bool internal_hit;
	/* Hits of this thread reported as DBG_EVENT_BREAKPOINT. */
	uint32_t reported;
};

/*
 * Module-internal breakpoints (for step.c): one per thread. Its hit in
 * @t is not reported: bp rewinds the pc, sets internal_hit and returns
 * D_NONE so that the owner's stop hook (later in the list) claims the
 * stop with dbg__bp_internal_hit(); a breakpoint of the user that reports
 * for @t at the same address wins (DBG_EVENT_BREAKPOINT). Other threads
 * step over it silently. Exec and detach take it out with every site.
 */
enum { DBG__BP_OWNER_STEP = 1 };
/* Insert one at @addr for @tid (replacing the one it had): 0, -ENOENT,
 * -EFAULT, -ENOMEM, -DBG_ERRNO_RUNNING. */
int dbg__bp_internal_insert(struct dbg_proc *p, pid_t tid, uint64_t addr, int owner);
/* Take @t's out (none: nothing). The int3 goes if no one else uses it. */
void dbg__bp_internal_remove(struct dbg_proc *p, struct dbg__thread *t);
/* Is the stop of @t being handled a hit of its internal breakpoint of
 * @owner? (Consumes the mark.) */
bool dbg__bp_internal_hit(struct dbg__thread *t, int owner);
/* What the step module needs to know of bp's own stepping: the count of
 * swallowed int3 traps (silent hits and late traps) of the process; the
 * thread's step-off single-step is in flight; it just ended (bp waits for
 * it in its prepare hook); the count of hits reported for the thread. */
uint64_t dbg__bp_quiet_count(const struct dbg_proc *p);
/* All-stop: do the caller's held-back dbg_proc_resume() once dropped
 * events no longer hold it (bp.c; watch.c calls it too). */
void dbg__runctl_release(struct dbg_proc *p);
bool dbg__bp_stepping_off(const struct dbg__thread *t);
bool dbg__bp_stepped_off(const struct dbg__thread *t);
uint32_t dbg__bp_reported(const struct dbg__thread *t);

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
