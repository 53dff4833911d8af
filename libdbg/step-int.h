/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run-control state of stepping: instruction, over calls, out of frames, lines, ranges (step.c):
 * what the module keeps per process (in struct dbg_proc) and per thread
 * (in struct dbg__thread). Included by internal.h only. Thread entries
 * are moved with memcpy when the table changes: no pointers into them.
 */
#ifndef DBG_STEP_INT_H
#define DBG_STEP_INT_H

#include <stdbool.h>
#include <stdint.h>

struct dbg_proc;
struct dbg_sym;
struct dbg_insn;

struct dbg__step_proc {
	/* The capstone handle of dbg__disasm_at() (a csh), opened on first
	 * use, closed by the fini hook. */
	size_t cs;
	bool cs_open;
};

/* Where a step that left its range waits to come back. */
struct dbg__step_ret {
	uint64_t pc, sp;   /* the return address and the sp after return */
};

struct dbg__step_thread {
	/* enum dbg_step_kind + 1 of the step in progress; 0: none. */
	uint8_t active;
	/* The phase of a line or over step (step.c, enum phase). */
	uint8_t phase;
	/* We asked for a PTRACE_SINGLESTEP and have not seen its trap: a
	 * stop some other module claimed (or no module saw) ended the step. */
	bool inflight;
	/* The instruction being stepped is a syscall: its trap comes as
	 * TRAP_BRKPT (user_single_step_report() on x86). */
	bool stepping_syscall;
	/* dbg_step() decoded the first instruction and set inflight: the
	 * first prepare (or the bp module's step-off in its place) uses it. */
	bool primed;
	/* The step ended on a breakpoint: one more single-step runs into
	 * its int3 so that the bp module reports the hit. */
	bool into_bp;
	/* Where the last single-step was asked from, and the bp module's
	 * count of swallowed hits then (a silent breakpoint hit in between
	 * means bp stepped our instruction for us). */
	uint64_t last_pc;
	uint64_t bp_quiet;
	/* The stepped instruction is a call made from the stepping frame. */
	bool stepping_call;
	uint64_t call_ret_pc, call_ret_sp;
	uint64_t start, end;        /* the range stepped in */
	struct dbg__step_ret ret;   /* OVER/OUT/FINISH/NEXT: where to stop coming back */
	uint64_t runto;             /* LINE into a function: its post-prologue pc */
	int line;                   /* LINE/NEXT: the line stepped from */
	uint64_t file_hash;         /* and its file (FNV-1a of the name) */
	uint64_t nsteps;
	struct dbg_sym *sym;        /* borrowed from the caller's options */
	/* OVER/OUT/NEXT/FINISH running free (PTRACE_CONT) to the internal
	 * breakpoint at ret.pc, and bp's reported-hit count then. */
	bool free;
	bool free_ran;              /* resumed since (the resume hook) */
	uint32_t free_reported;
	/* Signals the caller passes without an event (policy PASS, no
	 * STOP) that came while a single-step was in flight: held, since
	 * a handler entered under the step's trap flag would report a
	 * trap of its own, and given back when the step ends or runs free
	 * (Go's SIGURG, bp_real). resend: the single-step is asked again
	 * (its trap has not come). */
	uint64_t held_sigs;
	bool resend;
	/* The last step's outcome (dbg_step_result()). */
	bool has_result;
	uint8_t res_kind;
	uint8_t res_end;
	uint64_t res_pc, res_steps, res_rax, res_rdx;
};

/* The step in progress in @t resumes it with single-steps (not running
 * free to a return address): a step-off of a breakpoint is the step's
 * own instruction, never a displaced step that lets the thread go. */
bool dbg__step_wants_single(const struct dbg__thread *t);

/* Decode the instruction at @addr of @p's memory (read through mem, so
 * breakpoints are shadowed) without symbols: 0, -EFAULT, -ESRCH,
 * -DBG_ERRNO_PARSE, -ENOMEM. (disasm.c) */
int dbg__disasm_at(struct dbg_proc *p, uint64_t addr, struct dbg_insn *ret);
void dbg__disasm_close(struct dbg_proc *p);

#endif
