/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Register access for stopped threads: GETREGS (cached until the thread
 * runs), FXSAVE, the XSAVE regset, debug registers, and by-id access.
 */
#include "internal.h"
#include "arch/x86_64.h"

#include <elf.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

_Static_assert(sizeof(struct dbg_regs) == sizeof(struct user_regs_struct),
	       "dbg_regs mirrors user_regs_struct");
_Static_assert(sizeof(struct dbg_fpregs) == 512, "FXSAVE area is 512 bytes");

static int enter_stopped(struct dbg_proc *p, pid_t tid, struct dbg__thread **ret_t)
{
	int r = dbg__enter(p);
	return r < 0 ? r : dbg__stopped_thread(p, tid, ret_t);
}

static int ptrace_err(struct dbg_proc *p, const char *what, pid_t tid)
{
	int e = errno;
	return dbg__fail(p, -e, "%s of thread %d", what, tid);
}

static int load_regs(struct dbg_proc *p, struct dbg__thread *t)
{
	if (t->regs_valid)
		return 0;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs) < 0)
		return ptrace_err(p, "PTRACE_GETREGS", t->tid);
	t->regs_valid = true;
	return 0;
}

int dbg_regs_get(struct dbg_proc *p, pid_t tid, struct dbg_regs *ret_regs)
{
	struct dbg__thread *t;
	int r = enter_stopped(p, tid, &t);
	if (r < 0)
		return r;
	if (!ret_regs)
		return -EINVAL;
	r = load_regs(p, t);
	if (r == 0)
		memcpy(ret_regs, &t->regs, sizeof(*ret_regs));
	return r;
}

int dbg_regs_set(struct dbg_proc *p, pid_t tid, const struct dbg_regs *regs)
{
	struct dbg__thread *t;
	int r = enter_stopped(p, tid, &t);
	if (r < 0)
		return r;
	if (!regs)
		return -EINVAL;
	struct user_regs_struct u;
	memcpy(&u, regs, sizeof(u));
	t->regs_valid = false;
	if (ptrace(PTRACE_SETREGS, tid, 0, &u) < 0)
		return ptrace_err(p, "PTRACE_SETREGS", tid);
	return 0;
}

int dbg_regs_get_fp(struct dbg_proc *p, pid_t tid, struct dbg_fpregs *ret_fp)
{
	struct dbg__thread *t;
	int r = enter_stopped(p, tid, &t);
	if (r < 0)
		return r;
	if (!ret_fp)
		return -EINVAL;
	struct user_fpregs_struct u;
	if (ptrace(PTRACE_GETFPREGS, tid, 0, &u) < 0)
		return ptrace_err(p, "PTRACE_GETFPREGS", tid);
	memcpy(ret_fp, &u, sizeof(*ret_fp));
	return 0;
}

int dbg_regs_set_fp(struct dbg_proc *p, pid_t tid, const struct dbg_fpregs *fp)
{
	struct dbg__thread *t;
	int r = enter_stopped(p, tid, &t);
	if (r < 0)
		return r;
	if (!fp)
		return -EINVAL;
	struct user_fpregs_struct u;
	memcpy(&u, fp, sizeof(u));
	if (ptrace(PTRACE_SETFPREGS, tid, 0, &u) < 0)
		return ptrace_err(p, "PTRACE_SETFPREGS", tid);
	return 0;
}

/* ---- XSAVE --------------------------------------------------------- */

/* The decoded components: XSAVE component number, and where it lives in
 * struct dbg_xstate. */
static const struct {
	int component;
	size_t off, size;
} xparts[] = {
	{ 2, offsetof(struct dbg_xstate, ymm_hi), sizeof(((struct dbg_xstate *)0)->ymm_hi) },
	{ 5, offsetof(struct dbg_xstate, opmask), sizeof(((struct dbg_xstate *)0)->opmask) },
	{ 6, offsetof(struct dbg_xstate, zmm_hi), sizeof(((struct dbg_xstate *)0)->zmm_hi) },
	{ 7, offsetof(struct dbg_xstate, hi16_zmm), sizeof(((struct dbg_xstate *)0)->hi16_zmm) },
};

static int xsave_get(struct dbg_proc *p, pid_t tid, uint8_t **ret_buf, size_t *ret_len)
{
	size_t sz = dbg__x86_xsave_size();
	uint8_t *buf = calloc(1, sz);
	if (!buf)
		return -ENOMEM;
	struct iovec iov = { buf, sz };
	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) < 0) {
		int r = errno == ENODEV || errno == EINVAL ? -DBG_ERRNO_UNSUPPORTED : -errno;
		free(buf);
		return dbg__fail(p, r, "PTRACE_GETREGSET NT_X86_XSTATE of thread %d", tid);
	}
	if (iov.iov_len < DBG__XSAVE_HDR_OFFSET + 64) {
		free(buf);
		return dbg__fail(p, -DBG_ERRNO_PARSE, "short XSAVE regset (%zu bytes)", iov.iov_len);
	}
	*ret_buf = buf;
	*ret_len = iov.iov_len;
	return 0;
}

int dbg_regs_get_xstate(struct dbg_proc *p, pid_t tid, struct dbg_xstate *ret_xs)
{
	struct dbg__thread *t;
	int r = enter_stopped(p, tid, &t);
	if (r < 0)
		return r;
	if (!ret_xs)
		return -EINVAL;
	uint8_t *buf;
	size_t len;
	r = xsave_get(p, tid, &buf, &len);
	if (r < 0)
		return r;
	memset(ret_xs, 0, sizeof(*ret_xs));
	memcpy(&ret_xs->xcr0, buf + DBG__XSAVE_XCR0_OFFSET, 8);
	memcpy(&ret_xs->xstate_bv, buf + DBG__XSAVE_HDR_OFFSET, 8);
	memcpy(&ret_xs->fx, buf, DBG__FX_USER_BYTES);
	for (size_t i = 0; i < DBG__ARRAY_SIZE(xparts); i++) {
		size_t off, size;
		uint64_t bit = 1ull << xparts[i].component;
		/* A component not in xstate_bv is in its initial state: 0. */
		if (!(ret_xs->xstate_bv & bit) ||
		    dbg__x86_xsave_offset(xparts[i].component, &off, &size) < 0 ||
		    size != xparts[i].size || off + size > len)
			continue;
		memcpy((uint8_t *)ret_xs + xparts[i].off, buf + off, size);
	}
	free(buf);
	return 0;
}

int dbg_regs_set_xstate(struct dbg_proc *p, pid_t tid, const struct dbg_xstate *xs)
{
	struct dbg__thread *t;
	int r = enter_stopped(p, tid, &t);
	if (r < 0)
		return r;
	if (!xs)
		return -EINVAL;
	uint8_t *buf;
	size_t len;
	r = xsave_get(p, tid, &buf, &len);
	if (r < 0)
		return r;
	uint64_t xcr0, bv;
	memcpy(&xcr0, buf + DBG__XSAVE_XCR0_OFFSET, 8);
	memcpy(&bv, buf + DBG__XSAVE_HDR_OFFSET, 8);
	memcpy(buf, &xs->fx, DBG__FX_USER_BYTES);
	bv |= xcr0 & (DBG_XFEATURE_X87 | DBG_XFEATURE_SSE);
	for (size_t i = 0; i < DBG__ARRAY_SIZE(xparts); i++) {
		size_t off, size;
		uint64_t bit = 1ull << xparts[i].component;
		if (!(xcr0 & bit) || dbg__x86_xsave_offset(xparts[i].component, &off, &size) < 0 ||
		    size != xparts[i].size || off + size > len)
			continue;
		memcpy(buf + off, (const uint8_t *)xs + xparts[i].off, size);
		bv |= bit;
	}
	memcpy(buf + DBG__XSAVE_HDR_OFFSET, &bv, 8);
	struct iovec iov = { buf, len };
	r = 0;
	if (ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov) < 0)
		r = ptrace_err(p, "PTRACE_SETREGSET NT_X86_XSTATE", tid);
	free(buf);
	return r;
}

/* ---- debug registers ----------------------------------------------- */

static long dr_offset(int idx)
{
	return offsetof(struct user, u_debugreg) + idx * sizeof(long);
}

static bool dr_valid(int idx)
{
	return idx >= 0 && idx < 8 && idx != 4 && idx != 5;
}

int dbg_regs_get_debugreg(struct dbg_proc *p, pid_t tid, int idx, uint64_t *ret_val)
{
	struct dbg__thread *t;
	int r = enter_stopped(p, tid, &t);
	if (r < 0)
		return r;
	if (!dr_valid(idx) || !ret_val)
		return -EINVAL;
	errno = 0;
	long v = ptrace(PTRACE_PEEKUSER, tid, dr_offset(idx), 0);
	if (errno)
		return ptrace_err(p, "PTRACE_PEEKUSER debug register", tid);
	*ret_val = (uint64_t)v;
	return 0;
}

int dbg_regs_set_debugreg(struct dbg_proc *p, pid_t tid, int idx, uint64_t val)
{
	struct dbg__thread *t;
	int r = enter_stopped(p, tid, &t);
	if (r < 0)
		return r;
	if (!dr_valid(idx))
		return -EINVAL;
	if (!(t->dr_saved_mask & (1u << idx))) {
		errno = 0;
		long old = ptrace(PTRACE_PEEKUSER, tid, dr_offset(idx), 0);
		if (errno)
			return ptrace_err(p, "PTRACE_PEEKUSER debug register", tid);
		t->dr_saved[idx] = (uint64_t)old;
		t->dr_saved_mask |= 1u << idx;
	}
	if (ptrace(PTRACE_POKEUSER, tid, dr_offset(idx), (long)val) < 0)
		return ptrace_err(p, "PTRACE_POKEUSER debug register", tid);
	return 0;
}

/* Detach: give back the debug registers we changed. */
static void regs_on_detach(struct dbg_proc *p, struct dbg__thread *t)
{
	/* DR7 first, so no address register is live while it changes. */
	static const int order[] = { 7, 0, 1, 2, 3, 6 };
	for (size_t i = 0; i < DBG__ARRAY_SIZE(order); i++) {
		int idx = order[i];
		if (t->dr_saved_mask & (1u << idx))
			if (ptrace(PTRACE_POKEUSER, t->tid, dr_offset(idx), (long)t->dr_saved[idx]) < 0)
				dbg__log(p, DBG_LOG_WARN, "restoring DR%d of %d failed", idx, t->tid);
	}
	t->dr_saved_mask = 0;
}

/* The registers change when the thread runs. */
static void regs_on_resume(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)p;
	t->regs_valid = false;
}

/* exec flushes hardware breakpoints (flush_ptrace_hw_breakpoint()):
 * nothing is left to restore. */
static void regs_on_exec(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)p;
	t->dr_saved_mask = 0;
	t->regs_valid = false;
}

const struct dbg__hooks dbg__regs_hooks = {
	.name = "regs",
	.resume = regs_on_resume,
	.exec = regs_on_exec,
	.detach = regs_on_detach,
};

/* ---- by id ---------------------------------------------------------- */

/* Where a vector register's 16-byte lanes live in dbg_xstate. */
static int vector_lanes(struct dbg_xstate *xs, enum dbg_reg id, uint8_t *lanes[4], int *nlanes)
{
	int base = id >= DBG_REG_ZMM0 ? DBG_REG_ZMM0 : id >= DBG_REG_YMM0 ? DBG_REG_YMM0 : DBG_REG_XMM0;
	int n = id - base;
	*nlanes = base == DBG_REG_ZMM0 ? 4 : base == DBG_REG_YMM0 ? 2 : 1;
	uint64_t need = n >= 16 || *nlanes == 4 ? 0xe0 : *nlanes == 2 ? DBG_XFEATURE_AVX : 0;
	if ((xs->xcr0 & need) != need)
		return -DBG_ERRNO_UNSUPPORTED;
	for (int i = 0; i < *nlanes; i++) {
		if (n >= 16)
			lanes[i] = xs->hi16_zmm[n - 16] + 16 * i;
		else if (i == 0)
			lanes[i] = xs->fx.xmm[n];
		else if (i == 1)
			lanes[i] = xs->ymm_hi[n];
		else
			lanes[i] = xs->zmm_hi[n] + 16 * (i - 2);
	}
	return 0;
}

static int reg_access(struct dbg_proc *p, pid_t tid, enum dbg_reg id, void *buf, size_t len,
		      bool write)
{
	int size = dbg_reg_size(id);
	if (size < 0 || !buf)
		return -EINVAL;
	if (len < (size_t)size)
		return -ENOSPC;
	size_t off;
	int r;
	if (dbg__x86_is_gpr(id, &off)) {
		struct dbg_regs regs;
		if ((r = dbg_regs_get(p, tid, &regs)) < 0)
			return r;
		if (!write) {
			memcpy(buf, (uint8_t *)&regs + off, 8);
			return size;
		}
		memcpy((uint8_t *)&regs + off, buf, 8);
		return (r = dbg_regs_set(p, tid, &regs)) < 0 ? r : size;
	}
	if (id >= DBG_REG_DR0 && id < DBG_REG_DR0 + 8) {
		uint64_t v;
		if (write) {
			memcpy(&v, buf, 8);
			return (r = dbg_regs_set_debugreg(p, tid, id - DBG_REG_DR0, v)) < 0 ? r : size;
		}
		if ((r = dbg_regs_get_debugreg(p, tid, id - DBG_REG_DR0, &v)) < 0)
			return r;
		memcpy(buf, &v, 8);
		return size;
	}
	/* Everything else lives in the XSAVE state. */
	struct dbg_xstate *xs = malloc(sizeof(*xs));
	if (!xs)
		return -ENOMEM;
	r = dbg_regs_get_xstate(p, tid, xs);
	uint8_t *field = NULL, *lanes[4];
	int nlanes = 0;
	if (r == 0) {
		if (id == DBG_REG_MXCSR)
			field = (uint8_t *)&xs->fx.mxcsr;
		else if (id >= DBG_REG_ST0 && id < DBG_REG_ST0 + 8)
			field = xs->fx.st[id - DBG_REG_ST0];
		else if (id >= DBG_REG_K0 && id < DBG_REG_K0 + 8 && (xs->xcr0 & DBG_XFEATURE_OPMASK))
			field = (uint8_t *)&xs->opmask[id - DBG_REG_K0];
		else if (id >= DBG_REG_K0 && id < DBG_REG_K0 + 8)
			r = -DBG_ERRNO_UNSUPPORTED;
		else
			r = vector_lanes(xs, id, lanes, &nlanes);
	}
	if (r == 0) {
		for (int i = 0; i < (field ? 1 : nlanes); i++) {
			uint8_t *dst = field ? field : lanes[i];
			size_t n = field ? (size_t)size : 16;
			if (write)
				memcpy(dst, (const uint8_t *)buf + 16 * i, n);
			else
				memcpy((uint8_t *)buf + 16 * i, dst, n);
		}
		if (write)
			r = dbg_regs_set_xstate(p, tid, xs);
	}
	free(xs);
	return r < 0 ? r : size;
}

int dbg_reg_read(struct dbg_proc *p, pid_t tid, enum dbg_reg id, void *buf, size_t len)
{
	return reg_access(p, tid, id, buf, len, false);
}

int dbg_reg_write(struct dbg_proc *p, pid_t tid, enum dbg_reg id, const void *buf, size_t len)
{
	return reg_access(p, tid, id, (void *)buf, len, true);
}
