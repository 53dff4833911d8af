/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What bp.c, displaced.c and rdebug.c share. Private to those three.
 */
#ifndef DBG_BP_IMPL_H
#define DBG_BP_IMPL_H

#include "internal.h"

struct dbg_bp {
	struct dbg_proc *proc;
	uint64_t addr;
	uint64_t hits;
	unsigned int flags;
	pid_t tid;
	bool inserted; /* holds a reference on its site */
	bool dropped;  /* by an exec: dbg_bp_info() says -ESRCH */
	bool internal; /* the r_debug breakpoint, not listed */
};


struct dbg__bp_site *dbg__bp_site_find(struct dbg_proc *p, uint64_t addr);
int dbg__bp_site_ref(struct dbg_proc *p, uint64_t addr);
int dbg__bp_site_arm(struct dbg_proc *p, struct dbg__bp_site *s, bool arm);
/* Raw write past the shadow, into @pid (our target or a fork child) via
 * @mem_fd, else POKEDATA. */
int dbg__bp_poke(struct dbg_proc *p, pid_t pid, int mem_fd, uint64_t addr, const void *buf,
		 size_t len);
struct dbg_bp *dbg__bp_new(struct dbg_proc *p, uint64_t addr, unsigned int flags, pid_t tid,
			   bool internal, int *ret_err);
void dbg__bp_free(struct dbg_proc *p, struct dbg_bp *bp);
/* Wait for @tid alone after a step of ours (bp.c): 1 stepped, 0 stopped
 * for something else (*ret_pending: left inside a slow call), -ESRCH. */
int dbg__bp_wait_step(struct dbg_proc *p, pid_t tid, uint64_t addr, bool slow, bool *ret_pending);
int dbg__bp_get_pc(struct dbg__thread *t, uint64_t *ret);
int dbg__bp_set_pc(struct dbg__thread *t, uint64_t pc);

/* displaced.c: one decoded instruction. */
struct dbg__insn {
	uint8_t bytes[16];
	size_t len;
	bool syscall;     /* syscall, sysenter, int n: may block, cannot move */
	bool cannot;      /* cannot run anywhere but where it is */
	bool call;        /* pushes a return address */
	bool rel_branch;  /* jumps relative to its own address */
	bool abs_branch;  /* jumps to an absolute target (register, memory, ret) */
	int disp_off;     /* offset of a rip-relative disp32, or 0 */
	int64_t disp;
	/* Emulated without running the thread (see emulate() in
	 * displaced.c): what, and the capstone register ids. */
	enum { EMU_NONE, EMU_NOP, EMU_PUSH, EMU_MOV_RR, EMU_LOAD_RIP } emu;
	int reg_dst, reg_src;
};

/* An address with an int3 (one for all breakpoints there). */
struct dbg__bp_site {
	uint64_t addr;
	int refs;
	uint8_t orig;  /* the target's byte under the int3 */
	bool lifted;   /* the original byte is in the target right now */
	bool decoded;  /* insn holds the original instruction */
	struct dbg__insn insn;
};
int dbg__insn_decode(struct dbg_proc *p, uint64_t addr, struct dbg__insn *ret);
/* Execute the instruction at @a as a copy in a scratch page while the
 * other threads run: 1 done; 0 stopped for another reason (event queued);
 * -ENOTSUP cannot (the caller falls back); other negative errno. */
int dbg__displaced_step(struct dbg_proc *p, struct dbg__thread *t, uint64_t a);
/* The site's instruction, decoded once (NULL: cannot be decoded). */
const struct dbg__insn *dbg__bp_site_insn(struct dbg_proc *p, uint64_t a);
/* Do what the instruction at @a does to stopped @t without running it:
 * 1 done (pc past it), 0 not an instruction we emulate, <0. */
int dbg__bp_emulate(struct dbg_proc *p, struct dbg__thread *t, uint64_t a);
void dbg__displaced_unmap(struct dbg_proc *p, struct dbg__thread *t);
void dbg__displaced_fini(struct dbg_proc *p);

/* rdebug.c */
int dbg__rdebug_arm(struct dbg_proc *p);
enum dbg__disposition dbg__rdebug_hit(struct dbg_proc *p, struct dbg__thread *t,
				      struct dbg_bp *bp, struct dbg_event *ev);

#endif
