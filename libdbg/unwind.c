/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Remote unwinding with two backends over one memory source:
 *   - the stack comes from a snapshot, or from the target through libdbg's
 *     reader (whose page cache serves a stopped target);
 *   - unwind tables and code come from the local copies of the module
 *     files (sym.c), so no unwinder step costs a system call there.
 * In front of both, compiled rules (cfi.c) step through ordinary frames
 * with a few loads. libunwind gets its own accessors and a proc-info
 * lookup over each module's .eh_frame_hdr table (not libunwind-ptrace's
 * PEEKDATA per word and maps re-read per object); libdw gets Dwfl thread
 * callbacks over the same source. See doc/unwinding.md.
 */
#include "internal.h"
#include "arch/x86_64.h"

#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <libunwind.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libunwind exports this (libunwind-ptrace uses it) without declaring it:
 * search a remote .eh_frame_hdr table for @ip. */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
					       unw_dyn_info_t *di, unw_proc_info_t *pi,
					       int need_unwind_info, void *arg);

struct dbg_snapshot {
	pid_t tid;
	struct dbg_regs regs;
	uint64_t stack_lo; /* target address of stack[0] */
	size_t stack_len;
	size_t stack_cap;  /* bytes allocated after the struct */
	uint64_t vma_lo, vma_hi; /* the stack's VMA */
	uint8_t stack[];
};

/* One unwind in progress: where its registers and stack come from. */
struct uctx {
	struct dbg_unwinder *u;
	const struct dbg_regs *regs;
	const struct dbg_snapshot *snap; /* NULL: the live, stopped thread */
	bool read_failed; /* a read failed since the last frame */
};

/* Compiled rules by lookup address (direct-mapped). */
#define RULE_SLOTS 4096
struct rule_slot {
	uint64_t key; /* pc + 1; 0: empty */
	int status;  /* dbg__cfi_rule()'s */
	struct dbg__cfa_rule rule;
};
/* The direct-mapped slots index rules handed out in chunks as pcs come:
 * a run that meets a few dozen pcs touches a few pages, where one table
 * of 4,096 rules cost a page fault per pc. */
#define RULE_CHUNK 64
struct rule_cache {
	uint16_t slot[RULE_SLOTS]; /* rule index + 1; 0: none yet */
	struct rule_slot *chunk[RULE_SLOTS / RULE_CHUNK];
	unsigned int used;
};

static void free_rules(struct rule_cache *c)
{
	if (c)
		for (size_t i = 0; i < RULE_SLOTS / RULE_CHUNK; i++)
			free(c->chunk[i]);
	free(c);
}

struct dbg_unwinder {
	struct dbg_proc *proc;
	struct dbg_sym *sym;
	enum dbg_unwind_backend backend;
	bool fast;               /* compiled rules first */
	unsigned int generation; /* sym's, when the caches were filled */
	unw_addr_space_t as;
	struct dbg__cfi *cfi;    /* FDE lookup beyond .eh_frame_hdr */
	struct rule_cache *rules; /* allocated on first use */
	enum dbg_unwind_end last_end; /* why the last stack ended */
};

/* ---- the memory source -------------------------------------------------- */

/* libunwind reads a remote search table through access_mem. The tables
 * cfi.c builds (for .eh_frame without a header) live in our memory: they
 * are given to libunwind at non-canonical addresses no target maps,
 * SYN_TAG in the top byte, the module's index above bit 32. */
#define SYN_TAG 0xdbull
#define SYN_ADDR(idx) (SYN_TAG << 56 | (uint64_t)(idx) << 32)

static bool read_synthetic(struct uctx *c, uint64_t addr, uint64_t *val)
{
	struct dbg_sym *sym = c->u->sym;
	size_t idx = (size_t)(addr >> 32 & 0xffffff), off = (size_t)(addr & 0xffffffff);
	struct dbg__cfi_image *ci;
	if (idx >= sym->nimages || dbg__cfi_image_tables(c->u->cfi, &sym->images[idx], false, &ci) < 0)
		return false;
	size_t len = ci->neh * sizeof(*ci->eh);
	if (off > len || len - off < 8)
		return false;
	memcpy(val, (const uint8_t *)ci->eh + off, 8);
	return true;
}

static bool read_word(struct uctx *c, uint64_t addr, uint64_t *val)
{
	const struct dbg_snapshot *s = c->snap;
	if (s && s->stack_len >= 8 && addr >= s->stack_lo && addr - s->stack_lo <= s->stack_len - 8) {
		memcpy(val, s->stack + (addr - s->stack_lo), 8);
		return true;
	}
	if (dbg__sym_read_local(c->u->sym, addr, val, 8))
		return true;
	/* The stack of a snapshot is only what was copied: the live one has
	 * moved on since. */
	if (s && addr >= s->vma_lo && addr < s->vma_hi) {
		c->read_failed = true;
		return false;
	}
	if (__builtin_expect(addr >> 56 == SYN_TAG, 0))
		return read_synthetic(c, addr, val);
	if (dbg_mem_read(c->u->proc, addr, val, 8) == 8)
		return true;
	c->read_failed = true;
	return false;
}

/* The x86_64 signal-return trampoline (glibc's and musl's __restore_rt):
 * mov $15 (rt_sigreturn), %rax; syscall. The kernel returns from a
 * handler there, so a frame at it sits between the handler and the code
 * the signal interrupted. gdb and libunwind recognise it the same way. */
static bool is_sigreturn(struct uctx *c, uint64_t pc)
{
	static const uint8_t code[9] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	uint8_t buf[9];
	if (!dbg__sym_read_local(c->u->sym, pc, buf, sizeof(buf)) &&
	    dbg_mem_read(c->u->proc, pc, buf, sizeof(buf)) != sizeof(buf))
		return false;
	return memcmp(buf, code, sizeof(code)) == 0;
}

/* Flags that depend on the frame list: the trampoline, and the frame it
 * returns to, whose pc is exact. */
static void set_flags(struct uctx *c, struct dbg_frame *fr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fr[i].flags = 0;
		if (i == 0 || (fr[i - 1].flags & DBG_FRAME_SIGNAL))
			fr[i].flags |= DBG_FRAME_ACTIVATION;
		if (is_sigreturn(c, fr[i].pc))
			fr[i].flags |= DBG_FRAME_SIGNAL;
	}
}

/* Whether a frame at @pc, @sp after the @n frames found so far ends the
 * stack, the same test for every unwinder: a zero pc; a step that went
 * nowhere; a stack pointer that goes down, which a caller's frame never
 * does - except out of a signal handler, whose alternate stack may lie
 * anywhere. */
static bool stack_ends(struct uctx *c, const struct dbg_frame *fr, size_t n, uint64_t pc,
		       uint64_t sp)
{
	if (pc == 0)
		return true;
	if (n == 0)
		return false;
	const struct dbg_frame *prev = &fr[n - 1];
	if (pc == prev->pc && sp == prev->sp)
		return true;
	return sp < prev->sp && !is_sigreturn(c, prev->pc);
}

/* Whether @pc can be code: in a module, or in an executable mapping (JIT
 * code). A return address anywhere else is garbage the CFI of the frame
 * below pointed at (Go's runtime.clone reads one off the top of a new g0
 * stack): that frame is kept, as libdw keeps it, and the stack ends
 * there; guessing on (libunwind follows rbp from it) reads whatever the
 * target holds there now. */
static bool maybe_code(struct uctx *c, uint64_t pc)
{
	if (dbg__sym_image(c->u->sym, pc))
		return true;
	const struct dbg_maps *maps;
	if (dbg__maps_get(c->u->proc, &maps) < 0)
		return true;
	const struct dbg_vma *v = dbg_maps_find(maps, pc);
	return v && (v->prot & DBG_PROT_EXEC);
}

/* ---- the fast path: compiled rules ----------------------------------- */

static int cached_rule(struct dbg_unwinder *u, uint64_t pc, const struct dbg__cfa_rule **ret)
{
	if (!u->rules && !(u->rules = calloc(1, sizeof(*u->rules))))
		return -ENOMEM;
	struct rule_cache *c = u->rules;
	uint16_t *idx = &c->slot[(pc * 0x9e3779b97f4a7c15ull) >> 52 & (RULE_SLOTS - 1)];
	if (!*idx) {
		unsigned int k = c->used / RULE_CHUNK;
		if (!c->chunk[k] && !(c->chunk[k] = malloc(RULE_CHUNK * sizeof(*c->chunk[k]))))
			return -ENOMEM;
		c->chunk[k][c->used % RULE_CHUNK].key = 0;
		*idx = (uint16_t)(++c->used);
	}
	struct rule_slot *slot = &c->chunk[(*idx - 1) / RULE_CHUNK][(*idx - 1) % RULE_CHUNK];
	if (slot->key != pc + 1 || pc == UINT64_MAX) {
		slot->key = pc + 1;
		slot->status = dbg__cfi_rule(u->cfi, pc, &slot->rule);
	}
	*ret = &slot->rule;
	return slot->status;
}

/*
 * Unwind with compiled rules only. Returns the number of frames, or -1
 * when a frame needs more than a simple rule (no FDE, a signal frame, an
 * expression): the backend then unwinds the whole thread, so that one
 * unwinder decides every frame of a stack. The ends of the stack are the
 * backends': a zero pc, a stack pointer going down, a step that went
 * nowhere, a return address the CFI calls undefined, a stack read that
 * failed; *ret_end says which.
 */
static int unwind_fast(struct uctx *c, struct dbg_frame *frames, size_t cap,
		       enum dbg_unwind_end *ret_end)
{
	const struct dbg_regs *r = c->regs;
	uint64_t pc = r->rip, sp = r->rsp;
	uint64_t saved[DBG__CFI_SAVED];
	for (int i = 0; i < DBG__CFI_SAVED; i++)
		dbg__x86_dwarf_gpr(r, dbg__cfi_tracked[i], &saved[i]);
	size_t n = 0;
	for (;;) {
		if (stack_ends(c, frames, n, pc, sp)) {
			*ret_end = pc == 0 ? DBG_UNWIND_END_OUTERMOST : DBG_UNWIND_END_BAD_FRAME;
			break;
		}
		if (n == cap) {
			*ret_end = DBG_UNWIND_END_CAP; /* and the stack goes on */
			break;
		}
		frames[n] = (struct dbg_frame){ .pc = pc, .sp = sp,
						.flags = n == 0 ? DBG_FRAME_ACTIVATION : 0 };
		/* A return address is looked up as the call before it. */
		const struct dbg__cfa_rule *rule;
		if (cached_rule(c->u, pc - (n == 0 ? 0 : 1), &rule) < 0) {
			uint64_t at = n == 0 ? dbg__cfi_syscall_gap(c->u->cfi, pc) : 0;
			if (!at || cached_rule(c->u, at, &rule) < 0)
				return -1;
		}
		n++;
		if (rule->ra_undefined) {
			*ret_end = DBG_UNWIND_END_OUTERMOST;
			break;
		}
		uint64_t cfa = (rule->cfa_reg == 7 ? sp : saved[DBG__CFI_RBP]) + (int64_t)rule->cfa_off;
		uint64_t next[DBG__CFI_SAVED];
		memcpy(next, saved, sizeof(next));
		/* A read that fails ends the stack here: a backend would read
		 * the same word by the same rule (a snapshot's copy ends). */
		bool ok = read_word(c, cfa + (int64_t)rule->ra_off, &pc);
		for (int i = 0; ok && i < DBG__CFI_SAVED; i++)
			if (rule->saved_mask & (1u << i))
				ok = read_word(c, cfa + (int64_t)rule->saved_off[i], &next[i]);
		if (!ok) {
			*ret_end = DBG_UNWIND_END_READ;
			break;
		}
		memcpy(saved, next, sizeof(saved));
		sp = cfa;
	}
	return (int)n;
}

/* ---- libunwind accessors -------------------------------------------- */

/* libunwind's descriptor of a .debug_frame in local memory, which its
 * UNW_INFO_FORMAT_TABLE search takes (through u.ti.table_data) and
 * parses with .debug_frame's rules (CIE ids, section-relative CIE
 * pointers, link-time addresses plus segbase). Its layout is libunwind's
 * struct unw_debug_frame_list of 1.6 (include/dwarf.h), which the public
 * headers do not declare; Debian 12 ships 1.6.2. */
struct unw_debug_frame_desc {
	unw_word_t start, end, load_offset;
	char *debug_frame;
	size_t debug_frame_size;
	struct dbg__cfi_entry *index;
	size_t index_size; /* bytes */
	struct unw_debug_frame_desc *next;
};

/*
 * The FDE of @ip for libunwind, from the first of: .eh_frame_hdr's table
 * (read through access_mem, from the local copy); the table cfi.c built
 * from .eh_frame when there is no header (served at a synthetic address,
 * FDEs read from the local copy); the .debug_frame table, searched and
 * parsed by libunwind in our memory (UNW_INFO_FORMAT_TABLE). libunwind
 * has no other way in for a remote .debug_frame: its own reader
 * (dwarf_find_debug_frame) opens the file by path in the local process
 * and is not built on x86_64, and dynamic proc-info is not implemented
 * for DWARF targets.
 */
static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			  int need_unwind_info, struct uctx *c);

static int ua_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			     int need_unwind_info, void *arg)
{
	struct uctx *c = arg;
	int r = find_proc_info(as, ip, pi, need_unwind_info, c);
	uint64_t at;
	if (r == -UNW_ENOINFO && ip == c->regs->rip && (at = dbg__cfi_syscall_gap(c->u->cfi, ip))) {
		/* The innermost frame, in the gap after a syscall: the row
		 * before it holds (dbg__cfi_syscall_gap()). */
		r = find_proc_info(as, at, pi, need_unwind_info, c);
		if (r == 0)
			pi->end_ip = ip + 1;
	}
	return r;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			  int need_unwind_info, struct uctx *c)
{
	void *arg = c;
	struct dbg_sym *sym = c->u->sym;
	struct dbg__image *im = dbg__sym_image(sym, ip);
	if (!im)
		return -UNW_ENOINFO;
	int r = -UNW_ENOINFO;
	unw_dyn_info_t di = {
		.start_ip = im->start,
		.end_ip = im->end,
		.format = UNW_INFO_FORMAT_REMOTE_TABLE,
	};
	if (im->eh_hdr) {
		di.u.rti = (unw_dyn_remote_table_info_t){
			.segbase = im->eh_hdr,
			.table_len = im->eh_count * 8 / sizeof(unw_word_t),
			.table_data = im->eh_table,
		};
		r = _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, arg);
		if (r != -UNW_ENOINFO)
			return r;
	}
	struct dbg__cfi_image *ci;
	if (dbg__cfi_image_tables(c->u->cfi, im, false, &ci) < 0)
		return -UNW_ENOMEM;
	if (!im->eh_hdr && ci->neh) {
		di.u.rti = (unw_dyn_remote_table_info_t){
			.segbase = ci->eh_base,
			.table_len = ci->neh * sizeof(*ci->eh) / sizeof(unw_word_t),
			.table_data = SYN_ADDR(im - sym->images),
		};
		r = _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, arg);
		if (r != -UNW_ENOINFO)
			return r;
	}
	if (dbg__cfi_image_tables(c->u->cfi, im, true, &ci) < 0)
		return -UNW_ENOMEM;
	if (ci->ndf) {
		struct unw_debug_frame_desc d = {
			.start = im->start,
			.end = im->end,
			.debug_frame = (char *)ci->df_data,
			.debug_frame_size = ci->df_size,
			.index = ci->df,
			.index_size = ci->ndf * sizeof(*ci->df),
		};
		di.format = UNW_INFO_FORMAT_TABLE;
		di.u.ti = (unw_dyn_table_info_t){
			.segbase = ci->df_bias,
			.table_len = sizeof(d) / sizeof(unw_word_t),
			.table_data = (unw_word_t *)&d,
		};
		r = _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, arg);
	}
	return r;
}

static void ua_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	/* libunwind frees what it parsed from an FDE itself. */
	(void)as, (void)pi, (void)arg;
}

static int ua_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
	(void)as, (void)addr, (void)arg;
	return -UNW_ENOINFO;
}

static int ua_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
			 void *arg)
{
	(void)as;
	if (write)
		return -UNW_EREADONLYREG;
	uint64_t v;
	if (!read_word(arg, addr, &v))
		return -UNW_EINVAL;
	*val = v;
	return 0;
}

static int ua_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write,
			 void *arg)
{
	(void)as;
	struct uctx *c = arg;
	uint64_t v;
	if (write || !dbg__x86_dwarf_gpr(c->regs, reg, &v))
		return -UNW_EBADREG;
	*val = v;
	return 0;
}

static int ua_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
			   void *arg)
{
	(void)as, (void)reg, (void)val, (void)write, (void)arg;
	return -UNW_EBADREG;
}

static int ua_resume(unw_addr_space_t as, unw_cursor_t *cur, void *arg)
{
	(void)as, (void)cur, (void)arg;
	return -UNW_EINVAL;
}

static int ua_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len,
			    unw_word_t *off, void *arg)
{
	(void)as;
	struct uctx *c = arg;
	struct dbg_symbol s;
	if (dbg_sym_lookup(c->u->sym, addr, &s) < 0)
		return -UNW_ENOINFO;
	snprintf(buf, len, "%s", s.name);
	*off = s.offset;
	return 0;
}

static unw_accessors_t accessors = {
	.find_proc_info = ua_find_proc_info,
	.put_unwind_info = ua_put_unwind_info,
	.get_dyn_info_list_addr = ua_get_dyn_info_list_addr,
	.access_mem = ua_access_mem,
	.access_reg = ua_access_reg,
	.access_fpreg = ua_access_fpreg,
	.resume = ua_resume,
	.get_proc_name = ua_get_proc_name,
};

/* Why a backend stopped after @n frames, when it did not say: the last
 * frame's pc in no module, or in code without CFI (the frame-pointer
 * guess from there failed too), or a read that failed. */
static enum dbg_unwind_end backend_end(struct uctx *c, const struct dbg_frame *fr, size_t n)
{
	if (n > 0) {
		uint64_t pc = fr[n - 1].pc - (n == 1 ? 0 : 1);
		if (!dbg__sym_image(c->u->sym, pc))
			return DBG_UNWIND_END_NO_MODULE;
		struct dbg__cfa_rule rule;
		if (dbg__cfi_rule(c->u->cfi, pc, &rule) == -ENOENT)
			return DBG_UNWIND_END_NO_CFI;
	}
	return c->read_failed ? DBG_UNWIND_END_READ : DBG_UNWIND_END_OTHER;
}

static int unwind_libunwind(struct uctx *c, struct dbg_frame *frames, size_t cap,
			    enum dbg_unwind_end *ret_end)
{
	unw_cursor_t cur;
	*ret_end = DBG_UNWIND_END_OTHER;
	if (unw_init_remote(&cur, c->u->as, c) < 0)
		return 0;
	size_t n = 0;
	for (;;) {
		unw_word_t ip, sp;
		c->read_failed = false;
		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || unw_get_reg(&cur, UNW_REG_SP, &sp) < 0) {
			*ret_end = DBG_UNWIND_END_OTHER;
			break;
		}
		if (stack_ends(c, frames, n, ip, sp)) {
			*ret_end = ip == 0 ? DBG_UNWIND_END_OUTERMOST : DBG_UNWIND_END_BAD_FRAME;
			break;
		}
		if (n == cap) {
			*ret_end = DBG_UNWIND_END_CAP;
			break;
		}
		frames[n++] = (struct dbg_frame){ .pc = ip, .sp = sp };
		if (n > 1 && !maybe_code(c, ip)) {
			*ret_end = DBG_UNWIND_END_NO_MODULE;
			break;
		}
		int r = unw_step(&cur);
		if (r == 0) {
			*ret_end = c->read_failed ? backend_end(c, frames, n) : DBG_UNWIND_END_OUTERMOST;
			break;
		}
		if (r < 0) {
			*ret_end = r == -UNW_EBADFRAME && !c->read_failed ? DBG_UNWIND_END_BAD_FRAME
									  : backend_end(c, frames, n);
			break;
		}
	}
	return (int)n;
}

/* ---- libdw thread callbacks ------------------------------------------- */

static pid_t dw_next_thread(Dwfl *dwfl, void *dwfl_arg, void **thread_argp)
{
	(void)dwfl, (void)dwfl_arg, (void)thread_argp;
	return 0; /* threads are asked for by tid only */
}

static bool dw_get_thread(Dwfl *dwfl, pid_t tid, void *dwfl_arg, void **thread_argp)
{
	(void)dwfl, (void)tid;
	*thread_argp = dwfl_arg;
	return true;
}

static bool dw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *dwfl_arg)
{
	(void)dwfl;
	struct dbg_sym *sym = dwfl_arg;
	uint64_t v;
	if (!sym->unwind_ctx || !read_word(sym->unwind_ctx, addr, &v))
		return false;
	*result = v;
	return true;
}

static bool dw_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct dbg_sym *sym = thread_arg;
	const struct uctx *c = sym->unwind_ctx;
	Dwarf_Word regs[17];
	for (int i = 0; i < 17; i++)
		dbg__x86_dwarf_gpr(c->regs, i, &regs[i]);
	return dwfl_thread_state_registers(thread, 0, 17, regs);
}

static const Dwfl_Thread_Callbacks dw_callbacks = {
	.next_thread = dw_next_thread,
	.get_thread = dw_get_thread,
	.memory_read = dw_memory_read,
	.set_initial_registers = dw_set_initial_registers,
};

struct dw_walk {
	struct uctx *c;
	struct dbg_frame *frames;
	size_t cap, n;
	enum dbg_unwind_end end; /* DBG_UNWIND_END_OTHER: libdw stopped */
};

static int dw_frame(Dwfl_Frame *state, void *arg)
{
	struct dw_walk *w = arg;
	Dwarf_Addr pc;
	/* Without asking whether it is an activation: libdw would unwind the
	 * next frame to know, here, and a read that fails then would not be
	 * seen as the end's reason. set_flags() decides, the same way for
	 * both backends. */
	w->c->read_failed = false;
	if (!dwfl_frame_pc(state, &pc, NULL))
		return DWARF_CB_ABORT;
	Dwarf_Word sp = 0;
	dwfl_frame_reg(state, 7, &sp);
	if (stack_ends(w->c, w->frames, w->n, pc, sp)) {
		w->end = pc == 0 ? DBG_UNWIND_END_OUTERMOST : DBG_UNWIND_END_BAD_FRAME;
		return DWARF_CB_ABORT;
	}
	if (w->n == w->cap) {
		w->end = DBG_UNWIND_END_CAP; /* a frame past the last one: it goes on */
		return DWARF_CB_ABORT;
	}
	w->frames[w->n++] = (struct dbg_frame){ .pc = pc, .sp = sp };
	if (w->n > 1 && !maybe_code(w->c, pc)) {
		w->end = DBG_UNWIND_END_NO_MODULE;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

static int unwind_libdw(struct uctx *c, pid_t tid, struct dbg_frame *frames, size_t cap,
			enum dbg_unwind_end *ret_end)
{
	*ret_end = DBG_UNWIND_END_OTHER;
	struct dbg_sym *sym = c->u->sym;
	if (!sym->dwfl_attached) {
		if (!dwfl_attach_state(sym->dwfl, NULL, sym->proc->pid, &dw_callbacks, sym))
			return dbg__fail(sym->proc, -DBG_ERRNO_UNSUPPORTED, "dwfl_attach_state: %s",
					 dwfl_errmsg(-1));
		sym->dwfl_attached = true;
	}
	struct dw_walk w = { c, frames, cap, 0, DBG_UNWIND_END_OTHER };
	sym->unwind_ctx = c;
	/* 0 when it reached the outermost frame (an undefined return
	 * address); otherwise an error ("no matching address range" and the
	 * like), and the frames before it are what there is. */
	int r = dwfl_getthread_frames(sym->dwfl, tid, dw_frame, &w);
	sym->unwind_ctx = NULL;
	if (w.end != DBG_UNWIND_END_OTHER)
		*ret_end = w.end;
	else if (c->read_failed)
		*ret_end = backend_end(c, frames, w.n); /* it takes a return address it cannot read for undefined */
	else if (r == 0)
		*ret_end = DBG_UNWIND_END_OUTERMOST;
	else
		*ret_end = backend_end(c, frames, w.n);
	return (int)w.n;
}

/* ---- public ------------------------------------------------------------ */

int dbg_unwind_new(struct dbg_proc *proc, struct dbg_sym *sym, const struct dbg_unwind_opts *opts,
		   struct dbg_unwinder **ret)
{
	int r = dbg__enter(proc);
	if (r < 0)
		return r;
	if (!sym || sym->proc != proc || !ret || !dbg__opts_valid(opts, sizeof(struct dbg_unwind_opts)))
		return -EINVAL;
	enum dbg_unwind_backend b = opts ? opts->backend : DBG_UNWIND_LIBUNWIND;
	if (b != DBG_UNWIND_LIBUNWIND && b != DBG_UNWIND_LIBDW)
		return -EINVAL;
	struct dbg_unwinder *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->proc = proc;
	u->sym = sym;
	u->backend = b;
	u->fast = !(opts && (opts->flags & DBG_UNWIND_BACKEND_ONLY));
	u->generation = sym->generation;
	u->last_end = DBG_UNWIND_END_OTHER;
	u->cfi = dbg__cfi_new(sym);
	if (!u->cfi) {
		free(u);
		return -ENOMEM;
	}
	if (b == DBG_UNWIND_LIBUNWIND) {
		u->as = unw_create_addr_space(&accessors, 0);
		if (!u->as) {
			dbg__cfi_free(u->cfi);
			free(u);
			return -ENOMEM;
		}
		/* Keyed by pc: a frame seen before is not parsed again. */
		unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
	}
	*ret = u;
	return 0;
}

void dbg_unwind_free(struct dbg_unwinder *u)
{
	if (!u)
		return;
	if (u->as)
		unw_destroy_addr_space(u->as);
	dbg__cfi_free(u->cfi);
	free_rules(u->rules);
	free(u);
}

/*
 * A thread that has not run its first instruction since clone or clone3
 * created it: the syscall's return value 0 in rax, the syscall just
 * before pc, and no FDE at pc (glibc's wrappers end the parent's CFI
 * before the syscall and start the child's, with an undefined return
 * address, after the branch that follows it). It is the outermost frame:
 * the new stack holds nothing yet, and following the frame pointer the
 * thread inherited from its parent walks into its struct pthread - the
 * stacks of one repeated heap address. libunwind, libdw and the frame
 * pointer fallbacks would all guess; the stack ends here in every mode.
 */
static bool clone_child(struct uctx *c)
{
	const struct dbg_regs *r = c->regs;
	if (r->rax != 0 || (r->orig_rax != 56 && r->orig_rax != 435) || r->rip < 2)
		return false;
	uint8_t code[2];
	if (!dbg__sym_read_local(c->u->sym, r->rip - 2, code, 2))
		return false;
	struct dbg__cfa_rule rule;
	return code[0] == 0x0f && code[1] == 0x05 && dbg__cfi_rule(c->u->cfi, r->rip, &rule) == -ENOENT;
}

static int run(struct dbg_unwinder *u, struct uctx *c, pid_t tid, struct dbg_frame *frames,
	       size_t cap)
{
	if (u->generation != u->sym->generation) {
		/* The module table was rebuilt: cached unwind info and the
		 * Dwfl the libdw state hung on are gone. */
		if (u->as)
			unw_flush_cache(u->as, 0, 0);
		free_rules(u->rules);
		u->rules = NULL;
		u->generation = u->sym->generation;
	}
	if (cap == 0) {
		u->last_end = DBG_UNWIND_END_CAP;
		return 0;
	}
	if (clone_child(c)) {
		frames[0] = (struct dbg_frame){ .pc = c->regs->rip, .sp = c->regs->rsp,
						.flags = DBG_FRAME_ACTIVATION };
		u->last_end = DBG_UNWIND_END_OUTERMOST;
		return 1;
	}
	if (u->fast) {
		int n = unwind_fast(c, frames, cap, &u->last_end);
		if (n >= 0)
			return n; /* no signal frame on this path: flags are set */
	}
	int n = u->backend == DBG_UNWIND_LIBDW ? unwind_libdw(c, tid, frames, cap, &u->last_end)
					       : unwind_libunwind(c, frames, cap, &u->last_end);
	if (n > 0)
		set_flags(c, frames, n);
	return n;
}

int dbg_unwind_thread(struct dbg_unwinder *u, pid_t tid, struct dbg_frame *frames, size_t cap)
{
	if (!u || (!frames && cap))
		return -EINVAL;
	int r = dbg__enter(u->proc);
	if (r < 0)
		return r;
	struct dbg_regs regs;
	r = dbg_regs_get(u->proc, tid, &regs);
	if (r < 0)
		return r;
	struct uctx c = { .u = u, .regs = &regs };
	return run(u, &c, tid, frames, cap);
}

int dbg_unwind_snapshot(struct dbg_unwinder *u, const struct dbg_snapshot *s,
			struct dbg_frame *frames, size_t cap)
{
	if (!u || !s || (!frames && cap))
		return -EINVAL;
	int r = dbg__enter(u->proc);
	if (r < 0)
		return r;
	struct uctx c = { .u = u, .regs = &s->regs, .snap = s };
	return run(u, &c, s->tid, frames, cap);
}

#define RED_ZONE 128

/* Registers and the stack's extent of one thread: a snapshot with room
 * for its stack, not yet read. *ret, when set, is reused if it has room. */
static int prepare(struct dbg_proc *proc, pid_t tid, size_t stack_max, struct dbg_snapshot **ret)
{
	struct dbg_regs regs;
	int r = dbg_regs_get(proc, tid, &regs);
	if (r < 0)
		return r;
	const struct dbg_maps *maps;
	r = dbg__maps_get(proc, &maps);
	if (r < 0)
		return r;
	uint64_t lo = regs.rsp >= RED_ZONE ? regs.rsp - RED_ZONE : 0;
	const struct dbg_vma *v = dbg_maps_find(maps, regs.rsp);
	if (!v || !(v->prot & DBG_PROT_READ)) {
		/* The table may predate this stack (a new thread's mmap). */
		if (dbg__maps_refresh(proc) == 0 && dbg__maps_get(proc, &maps) == 0)
			v = dbg_maps_find(maps, regs.rsp);
		if (!v || !(v->prot & DBG_PROT_READ))
			return dbg__fail(proc, -EFAULT, "thread %d: stack pointer %#" PRIx64
					 " is in no readable VMA", tid, regs.rsp);
	}
	if (lo < v->start)
		lo = v->start;
	uint64_t hi = v->end - lo > stack_max ? lo + stack_max : v->end;
	struct dbg_snapshot *s = *ret;
	if (!s || s->stack_cap < hi - lo) {
		free(s);
		*ret = NULL;
		s = malloc(sizeof(*s) + (hi - lo));
		if (!s)
			return -ENOMEM;
		s->stack_cap = hi - lo;
	}
	s->tid = tid;
	s->regs = regs;
	s->stack_lo = lo;
	s->stack_len = hi - lo;
	s->vma_lo = v->start;
	s->vma_hi = v->end;
	*ret = s;
	return 0;
}

/* Capture @n threads: registers one by one, then every stack in one
 * vectored read (process_vm_readv takes 1024 ranges per call). */
static int take(struct dbg_proc *proc, const pid_t *tids, size_t n, size_t stack_max,
		struct dbg_snapshot **ret, int *errs)
{
	struct dbg_mem_range one, *rg = n == 1 ? &one : calloc(n, sizeof(*rg));
	if (!rg)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		errs[i] = prepare(proc, tids[i], stack_max, &ret[i]);
		if (errs[i] < 0 && ret[i]) {
			free(ret[i]);
			ret[i] = NULL;
		}
		rg[i] = ret[i] ? (struct dbg_mem_range){ ret[i]->stack_lo, ret[i]->stack, ret[i]->stack_len, 0 }
			       : (struct dbg_mem_range){ 0, NULL, 0, 0 };
	}
	int r = dbg_mem_readv(proc, rg, n);
	int taken = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ret[i])
			continue;
		if (r < 0 || rg[i].result < 0) {
			errs[i] = r < 0 ? r : (int)rg[i].result;
			free(ret[i]);
			ret[i] = NULL;
			continue;
		}
		ret[i]->stack_len = rg[i].result;
		taken++;
	}
	if (rg != &one)
		free(rg);
	return taken;
}

int dbg_snapshot_take(struct dbg_proc *proc, pid_t tid, size_t stack_max, struct dbg_snapshot **ret)
{
	int r = dbg__enter(proc);
	if (r < 0)
		return r;
	if (!ret || stack_max < 8)
		return -EINVAL;
	int err;
	*ret = NULL;
	r = take(proc, &tid, 1, stack_max, ret, &err);
	return r < 0 ? r : r == 1 ? 0 : err;
}

int dbg_snapshot_take_threads(struct dbg_proc *proc, const pid_t *tids, size_t n, size_t stack_max,
			      struct dbg_snapshot **ret)
{
	int r = dbg__enter(proc);
	if (r < 0)
		return r;
	if (!tids || !ret || !n || n > INT32_MAX || stack_max < 8)
		return -EINVAL;
	int *errs = calloc(n, sizeof(*errs));
	if (!errs)
		return -ENOMEM;
	r = take(proc, tids, n, stack_max, ret, errs);
	/* None at all: say why, as for one thread. */
	if (r == 0)
		r = errs[0] ? errs[0] : -ESRCH;
	free(errs);
	return r;
}

/* A snapshot from registers and a stack copy taken elsewhere (a perf
 * sample), for the profiler (prof_internal.h). *ret is refilled in place
 * when it has room. [vma_lo, vma_hi) is the stack's VMA: reads in it past
 * the copy fail instead of reading the live stack. */
int dbg__snapshot_make(pid_t tid, const struct dbg_regs *regs, uint64_t stack_lo,
		       const void *stack, size_t len, uint64_t vma_lo, uint64_t vma_hi,
		       struct dbg_snapshot **ret)
{
	struct dbg_snapshot *s = *ret;
	if (!s || s->stack_cap < len) {
		s = malloc(sizeof(*s) + (len ? len : 1));
		if (!s)
			return -ENOMEM;
		free(*ret);
		s->stack_cap = len;
	}
	s->tid = tid;
	s->regs = *regs;
	s->stack_lo = stack_lo;
	s->stack_len = len;
	memcpy(s->stack, stack, len);
	s->vma_lo = vma_lo;
	s->vma_hi = vma_hi;
	*ret = s;
	return 0;
}

void dbg_snapshot_free(struct dbg_snapshot *s)
{
	free(s);
}

pid_t dbg_snapshot_tid(const struct dbg_snapshot *s)
{
	return s ? s->tid : -1;
}

size_t dbg_snapshot_stack_size(const struct dbg_snapshot *s)
{
	return s ? s->stack_len : 0;
}

enum dbg_unwind_end dbg_unwind_last_end(const struct dbg_unwinder *u)
{
	return u ? u->last_end : DBG_UNWIND_END_OTHER;
}

const char *dbg_unwind_end_str(enum dbg_unwind_end end)
{
	static const char *const names[] = {
		[DBG_UNWIND_END_OUTERMOST] = "outermost frame",
		[DBG_UNWIND_END_CAP] = "frame limit reached",
		[DBG_UNWIND_END_NO_CFI] = "no unwind information for this code",
		[DBG_UNWIND_END_NO_MODULE] = "pc in no mapped module",
		[DBG_UNWIND_END_READ] = "stack unreadable (or the snapshot's copy ended)",
		[DBG_UNWIND_END_BAD_FRAME] = "next frame not above this one",
		[DBG_UNWIND_END_OTHER] = "unwinder stopped",
	};
	if ((unsigned int)end < sizeof(names) / sizeof(names[0]) && names[end])
		return names[end];
	return "unknown";
}
