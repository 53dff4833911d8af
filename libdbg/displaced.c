/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Displaced stepping: a thread standing on a breakpoint executes a copy of
 * the original instruction in a scratch page of the target while the other
 * threads keep running and the int3 stays where it is, so none of them can
 * run past it. capstone decodes the instruction: a rip-relative operand
 * gets its displacement adjusted for the copy's address (the scratch page
 * is mapped within 1 GiB of the code so the disp32 still reaches), and
 * after the step the pc is moved back: relative to the original address
 * for ordinary instructions and relative branches (a taken branch traps
 * at its target before executing anything there), kept for absolute
 * branches; a call's pushed return address is rewritten. System calls,
 * interrupts, privileged and transactional instructions are not displaced
 * (bp.c then stops the other threads for an in-place step).
 *
 * The scratch pages are mapped by a system call injected into the
 * stepping thread (inject.c's loop, which waits for that thread alone and
 * so can run inside the wait path).
 */
#include "internal.h"
#include "bp-impl.h"

#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#define NEAR (1ll << 30)

/* ---- decoding ----------------------------------------------------------- */

static bool gpr_known(int reg)
{
	return (reg >= X86_REG_RAX && reg <= X86_REG_RSP && reg != X86_REG_RIP &&
		(reg == X86_REG_RAX || reg == X86_REG_RBX || reg == X86_REG_RCX ||
		 reg == X86_REG_RDX || reg == X86_REG_RSI || reg == X86_REG_RDI ||
		 reg == X86_REG_RBP || reg == X86_REG_RSP)) ||
	       (reg >= X86_REG_R8 && reg <= X86_REG_R15);
}

static csh cs_handle(struct dbg_proc *p)
{
	if (!p->bp.cs) {
		csh h;
		if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
			return 0;
		cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
		p->bp.cs = (size_t)h;
	}
	return (csh)p->bp.cs;
}

int dbg__insn_decode(struct dbg_proc *p, uint64_t addr, struct dbg__insn *d)
{
	memset(d, 0, sizeof(*d));
	csh h = cs_handle(p);
	if (!h)
		return -ENOMEM;
	uint8_t buf[16];
	/* Through the shadow: the original bytes, not our int3. */
	ssize_t n = dbg_mem_read(p, addr, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 ? (int)n : -EFAULT;
	cs_insn *insn;
	if (cs_disasm(h, buf, (size_t)n, addr, 1, &insn) != 1)
		return -EINVAL;
	d->len = insn->size;
	memcpy(d->bytes, buf, d->len);
	const cs_x86 *x = &insn->detail->x86;
	unsigned int id = insn->id;
	d->syscall = id == X86_INS_SYSCALL || id == X86_INS_SYSENTER || id == X86_INS_INT ||
		     id == X86_INS_INT1 || id == X86_INS_INTO || cs_insn_group(h, insn, CS_GRP_INT);
	d->cannot = d->syscall || id == X86_INS_XBEGIN || id == X86_INS_INT3 ||
		    cs_insn_group(h, insn, CS_GRP_PRIVILEGE) || cs_insn_group(h, insn, CS_GRP_IRET);
	d->call = cs_insn_group(h, insn, CS_GRP_CALL);
	bool jump = d->call || cs_insn_group(h, insn, CS_GRP_JUMP) || cs_insn_group(h, insn, CS_GRP_RET);
	d->rel_branch = cs_insn_group(h, insn, CS_GRP_BRANCH_RELATIVE) ||
			(jump && x->op_count > 0 && x->operands[0].type == X86_OP_IMM);
	d->abs_branch = jump && !d->rel_branch;
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		if (op->type != X86_OP_MEM || op->mem.base != X86_REG_RIP)
			continue;
		if (x->encoding.disp_size != 4 || !x->encoding.disp_offset)
			d->cannot = true;
		d->disp_off = x->encoding.disp_offset;
		d->disp = op->mem.disp;
	}
	/* The few instructions that start most functions, emulated: no
	 * flags, no faults but the stack or a load. */
	const cs_x86_op *o = x->operands;
	bool no_prefix = !x->prefix[0] && !x->prefix[1] && !x->prefix[3];
	if (id == X86_INS_NOP || id == X86_INS_ENDBR64)
		d->emu = EMU_NOP;
	else if (id == X86_INS_PUSH && x->op_count == 1 && o[0].type == X86_OP_REG && o[0].size == 8 &&
		 no_prefix && !x->prefix[2] && gpr_known(o[0].reg))
		d->emu = EMU_PUSH, d->reg_src = o[0].reg;
	else if (id == X86_INS_MOV && x->op_count == 2 && no_prefix && !x->prefix[2] &&
		 o[0].type == X86_OP_REG && o[0].size == 8 && gpr_known(o[0].reg) &&
		 o[1].type == X86_OP_REG && o[1].size == 8 && gpr_known(o[1].reg))
		d->emu = EMU_MOV_RR, d->reg_dst = o[0].reg, d->reg_src = o[1].reg;
	else if (id == X86_INS_MOV && x->op_count == 2 && no_prefix && !x->prefix[2] &&
		 o[0].type == X86_OP_REG && o[0].size == 8 && gpr_known(o[0].reg) &&
		 o[1].type == X86_OP_MEM && o[1].size == 8 && o[1].mem.base == X86_REG_RIP &&
		 o[1].mem.index == X86_REG_INVALID && o[1].mem.segment == X86_REG_INVALID)
		d->emu = EMU_LOAD_RIP, d->reg_dst = o[0].reg;
	cs_free(insn, 1);
	return 0;
}

/* ---- emulation ------------------------------------------------------------ */

static unsigned long long *gpr(struct user_regs_struct *r, int reg)
{
	switch (reg) {
	case X86_REG_RAX: return &r->rax;
	case X86_REG_RBX: return &r->rbx;
	case X86_REG_RCX: return &r->rcx;
	case X86_REG_RDX: return &r->rdx;
	case X86_REG_RSI: return &r->rsi;
	case X86_REG_RDI: return &r->rdi;
	case X86_REG_RBP: return &r->rbp;
	case X86_REG_RSP: return &r->rsp;
	case X86_REG_R8: return &r->r8;
	case X86_REG_R9: return &r->r9;
	case X86_REG_R10: return &r->r10;
	case X86_REG_R11: return &r->r11;
	case X86_REG_R12: return &r->r12;
	case X86_REG_R13: return &r->r13;
	case X86_REG_R14: return &r->r14;
	case X86_REG_R15: return &r->r15;
	default: return NULL;
	}
}

int dbg__bp_emulate(struct dbg_proc *p, struct dbg__thread *t, uint64_t a)
{
	const struct dbg__insn *d = dbg__bp_site_insn(p, a);
	if (!d || d->emu == EMU_NONE)
		return 0;
	if (!t->regs_valid) {
		if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs) < 0)
			return -errno;
		t->regs_valid = true;
	}
	struct user_regs_struct r = t->regs;
	uint64_t v;
	switch (d->emu) {
	case EMU_NOP:
		break;
	case EMU_PUSH:
		v = *gpr(&r, d->reg_src);
		r.rsp -= 8;
		/* The stack is plain memory: through the raw writer (no
		 * breakpoint lives there). A fault: let the CPU do it. */
		if (dbg__bp_poke(p, p->pid, p->mem.mem_fd, r.rsp, &v, 8) < 0)
			return 0;
		break;
	case EMU_MOV_RR:
		*gpr(&r, d->reg_dst) = *gpr(&r, d->reg_src);
		break;
	case EMU_LOAD_RIP:
		if (dbg_mem_read(p, a + d->len + (uint64_t)d->disp, &v, 8) != 8)
			return 0;
		*gpr(&r, d->reg_dst) = v;
		break;
	default:
		return 0;
	}
	r.rip = a + d->len;
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0)
		return -errno;
	t->regs = r;
	p->bp.stats.emulated++;
	return 1;
}

/* ---- system calls in one thread ------------------------------------------ */

static int scratch_syscall(struct dbg_proc *p, struct dbg__thread *t, long nr,
			   const uint64_t a[6], int64_t *ret)
{
	uint64_t at = dbg__find_syscall_insn(p);
	if (!at)
		return -ENOTSUP;
	return dbg__syscall_in_thread(p, t, at, nr, a, ret, NULL, NULL);
}

/* ---- scratch pages -------------------------------------------------------- */

static bool near(uint64_t a, uint64_t b)
{
	int64_t d = (int64_t)(a - b);
	return d < NEAR && d > -NEAR;
}

static uint64_t scratch_near(struct dbg_proc *p, struct dbg__thread *t, uint64_t a)
{
	struct dbg__bp_proc *b = &p->bp;
	for (unsigned int i = 0; i < b->nscratch; i++)
		if (near(b->scratch[i], a))
			return b->scratch[i];
	if (b->nscratch == DBG__BP_SCRATCH || b->scratch_failed)
		return 0;
	uint64_t page = a & ~(uint64_t)(DBG__PAGE_SIZE - 1);
	/* Hints below the code first (the heap grows up above a program),
	 * then above it; the kernel takes a free hint as it is. */
	static const int64_t steps[] = { -(16ll << 20), -(64ll << 20), -(256ll << 20),
					 (256ll << 20), (512ll << 20), -(768ll << 20) };
	for (size_t k = 0; k < DBG__ARRAY_SIZE(steps); k++) {
		uint64_t hint = page + (uint64_t)steps[k];
		if ((int64_t)hint < (1ll << 20) || hint >= (1ull << 47))
			continue;
		uint64_t args[6] = { hint, DBG__PAGE_SIZE, PROT_READ | PROT_EXEC,
				     MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0 };
		int64_t res;
		int r = scratch_syscall(p, t, SYS_mmap, args, &res);
		if (r < 0) {
			if (r == -ENOTSUP)
				b->scratch_failed = true;
			return 0;
		}
		if (res < 0 && res > -4096)
			continue;
		if (near((uint64_t)res, a)) {
			b->scratch[b->nscratch++] = (uint64_t)res;
			b->stats.scratch_pages++;
			dbg__maps_invalidate(p);
			dbg__log(p, DBG_LOG_DEBUG, "scratch page for displaced stepping at %#llx",
				 (unsigned long long)res);
			return (uint64_t)res;
		}
		uint64_t un[6] = { (uint64_t)res, DBG__PAGE_SIZE, 0, 0, 0, 0 };
		scratch_syscall(p, t, SYS_munmap, un, &res);
	}
	return 0;
}

void dbg__displaced_unmap(struct dbg_proc *p, struct dbg__thread *t)
{
	struct dbg__bp_proc *b = &p->bp;
	for (unsigned int i = 0; i < b->nscratch; i++) {
		uint64_t un[6] = { b->scratch[i], DBG__PAGE_SIZE, 0, 0, 0, 0 };
		int64_t res = 0;
		if (p->exited || scratch_syscall(p, t, SYS_munmap, un, &res) < 0 || res != 0)
			dbg__log(p, DBG_LOG_WARN, "scratch page %#llx left mapped in %d",
				 (unsigned long long)b->scratch[i], p->pid);
	}
	if (b->nscratch)
		dbg__maps_invalidate(p);
	b->nscratch = 0;
}

void dbg__displaced_fini(struct dbg_proc *p)
{
	if (p->bp.cs) {
		csh h = (csh)p->bp.cs;
		cs_close(&h);
		p->bp.cs = 0;
	}
}

/* ---- the step ---------------------------------------------------------------- */

int dbg__displaced_step(struct dbg_proc *p, struct dbg__thread *t, uint64_t a)
{
	/* A signal to deliver would leave a handler frame whose return
	 * address is in the scratch page. */
	if (t->pending_sig)
		return -ENOTSUP;
	const struct dbg__insn *dp = dbg__bp_site_insn(p, a);
	if (!dp || dp->cannot)
		return -ENOTSUP;
	struct dbg__insn d = *dp;
	uint64_t s = scratch_near(p, t, a);
	if (!s)
		return -ENOTSUP;
	uint8_t copy[16];
	memcpy(copy, d.bytes, d.len);
	if (d.disp_off) {
		int64_t nd = d.disp + (int64_t)(a - s);
		if (nd > INT32_MAX || nd < INT32_MIN)
			return -ENOTSUP;
		int32_t v = (int32_t)nd;
		memcpy(copy + d.disp_off, &v, 4);
	}
	if (dbg__bp_poke(p, p->pid, p->mem.mem_fd, s, copy, d.len) < 0)
		return -ENOTSUP;
	pid_t tid = t->tid;
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, tid, 0, &regs) < 0)
		return -errno;
	regs.rip = s;
	if (ptrace(PTRACE_SETREGS, tid, 0, &regs) < 0)
		return -errno;
	t->regs_valid = false;
	t->bp.stepping_off = true;
	t->bp.stepped = false;
	t->bp.user_step = false;
	if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) < 0) {
		int e = errno;
		t->bp.stepping_off = false;
		regs.rip = a;
		ptrace(PTRACE_SETREGS, tid, 0, &regs);
		return -e;
	}
	t->state = T_RUNNING;
	dbg__hook_resume(p, t);
	bool pending;
	int r = dbg__bp_wait_step(p, tid, s, false, &pending);
	t = dbg__thread_find(p, tid);
	if (!t || t->state != T_STOPPED)
		return r < 0 ? r : -ESRCH;
	p->bp.stats.displaced++;
	if (ptrace(PTRACE_GETREGS, tid, 0, &regs) < 0)
		return -errno;
	uint64_t pc = regs.rip;
	bool in_copy = pc >= s && pc < s + DBG__PAGE_SIZE;
	if (r == 1) {
		if (!d.abs_branch || in_copy)
			pc = pc - s + a;
		if (d.call) {
			uint64_t ra = a + d.len;
			if (dbg__bp_poke(p, p->pid, p->mem.mem_fd, regs.rsp, &ra, 8) < 0)
				return -EFAULT;
		}
	} else if (in_copy) {
		pc = pc - s + a; /* stopped before it ran (a signal) */
	}
	if (pc != regs.rip) {
		regs.rip = pc;
		if (ptrace(PTRACE_SETREGS, tid, 0, &regs) < 0)
			return -errno;
	}
	t->regs_valid = false;
	return r;
}
