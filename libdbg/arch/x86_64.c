/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * x86_64 register facts: names, DWARF numbers (System V psABI, "DWARF
 * Register Number Mapping"), sizes, and the XSAVE layout from CPUID.
 */
#include "../internal.h"
#include "x86_64.h"

#include <cpuid.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define GPR(field) offsetof(struct user_regs_struct, field)

static const struct {
	const char *name;
	size_t off;
	int dwarf;
} gprs[] = {
	[DBG_REG_RAX] = { "rax", GPR(rax), 0 },
	[DBG_REG_RBX] = { "rbx", GPR(rbx), 3 },
	[DBG_REG_RCX] = { "rcx", GPR(rcx), 2 },
	[DBG_REG_RDX] = { "rdx", GPR(rdx), 1 },
	[DBG_REG_RSI] = { "rsi", GPR(rsi), 4 },
	[DBG_REG_RDI] = { "rdi", GPR(rdi), 5 },
	[DBG_REG_RBP] = { "rbp", GPR(rbp), 6 },
	[DBG_REG_RSP] = { "rsp", GPR(rsp), 7 },
	[DBG_REG_R8] = { "r8", GPR(r8), 8 },
	[DBG_REG_R9] = { "r9", GPR(r9), 9 },
	[DBG_REG_R10] = { "r10", GPR(r10), 10 },
	[DBG_REG_R11] = { "r11", GPR(r11), 11 },
	[DBG_REG_R12] = { "r12", GPR(r12), 12 },
	[DBG_REG_R13] = { "r13", GPR(r13), 13 },
	[DBG_REG_R14] = { "r14", GPR(r14), 14 },
	[DBG_REG_R15] = { "r15", GPR(r15), 15 },
	[DBG_REG_RIP] = { "rip", GPR(rip), 16 },
	[DBG_REG_EFLAGS] = { "eflags", GPR(eflags), 49 },
	[DBG_REG_ORIG_RAX] = { "orig_rax", GPR(orig_rax), -1 },
	[DBG_REG_CS] = { "cs", GPR(cs), 51 },
	[DBG_REG_SS] = { "ss", GPR(ss), 52 },
	[DBG_REG_DS] = { "ds", GPR(ds), 53 },
	[DBG_REG_ES] = { "es", GPR(es), 50 },
	[DBG_REG_FS] = { "fs", GPR(fs), 54 },
	[DBG_REG_GS] = { "gs", GPR(gs), 55 },
	[DBG_REG_FS_BASE] = { "fs_base", GPR(fs_base), 58 },
	[DBG_REG_GS_BASE] = { "gs_base", GPR(gs_base), 59 },
};

/* Families of numbered registers: id base, count, size, DWARF number of
 * the first (-1 none) and of the 17th (xmm16 is not xmm15 + 1). */
static const struct family {
	enum dbg_reg base;
	int count;
	int size;
	int dwarf, dwarf16;
} families[] = {
	{ DBG_REG_ST0, 8, 10, 33, -1 },
	{ DBG_REG_XMM0, 32, 16, 17, 67 },
	{ DBG_REG_YMM0, 32, 32, -1, -1 },
	{ DBG_REG_ZMM0, 32, 64, -1, -1 },
	{ DBG_REG_K0, 8, 8, 118, -1 },
	{ DBG_REG_DR0, 8, 8, -1, -1 },
};

bool dbg__x86_is_gpr(enum dbg_reg id, size_t *ret_off)
{
	if ((unsigned)id >= DBG__ARRAY_SIZE(gprs) || !gprs[id].name)
		return false;
	*ret_off = gprs[id].off;
	return true;
}

bool dbg__x86_dwarf_gpr(const struct dbg_regs *r, int regno, uint64_t *ret_val)
{
	for (size_t i = 0; i < DBG__ARRAY_SIZE(gprs); i++)
		if (gprs[i].dwarf == regno && regno >= 0 && regno <= 16) {
			memcpy(ret_val, (const char *)r + gprs[i].off, sizeof(*ret_val));
			return true;
		}
	return false;
}

static const struct family *family_of(enum dbg_reg id, int *ret_idx)
{
	for (size_t i = 0; i < DBG__ARRAY_SIZE(families); i++) {
		const struct family *f = &families[i];
		if ((int)id >= (int)f->base && (int)id < (int)f->base + f->count) {
			*ret_idx = id - f->base;
			return f;
		}
	}
	return NULL;
}

const char *dbg_reg_name(enum dbg_reg id)
{
	static const char *const names[][32] = {
#define N8(p) p "0", p "1", p "2", p "3", p "4", p "5", p "6", p "7"
#define N32(p) N8(p), p "8", p "9", p "10", p "11", p "12", p "13", p "14", p "15", \
	p "16", p "17", p "18", p "19", p "20", p "21", p "22", p "23", p "24", p "25", \
	p "26", p "27", p "28", p "29", p "30", p "31"
		{ N8("st") }, { N32("xmm") }, { N32("ymm") }, { N32("zmm") },
		{ N8("k") }, { N8("dr") },
#undef N8
#undef N32
	};
	size_t off;
	if (dbg__x86_is_gpr(id, &off))
		return gprs[id].name;
	if (id == DBG_REG_MXCSR)
		return "mxcsr";
	int idx;
	const struct family *f = family_of(id, &idx);
	return f ? names[f - families][idx] : NULL;
}

int dbg_reg_size(enum dbg_reg id)
{
	size_t off;
	if (dbg__x86_is_gpr(id, &off))
		return 8;
	if (id == DBG_REG_MXCSR)
		return 4;
	int idx;
	const struct family *f = family_of(id, &idx);
	return f ? f->size : -EINVAL;
}

int dbg_reg_by_name(const char *name, enum dbg_reg *ret_id)
{
	if (!name || !ret_id)
		return -EINVAL;
	for (int id = 0; id < DBG_REG__COUNT; id++) {
		const char *n = dbg_reg_name(id);
		if (n && !strcmp(n, name)) {
			*ret_id = id;
			return 0;
		}
	}
	return -ENOENT;
}

int dbg_reg_dwarf(enum dbg_reg id)
{
	size_t off;
	if (dbg__x86_is_gpr(id, &off))
		return gprs[id].dwarf >= 0 ? gprs[id].dwarf : -ENOENT;
	if (id == DBG_REG_MXCSR)
		return 64;
	int idx;
	const struct family *f = family_of(id, &idx);
	if (!f || f->dwarf < 0)
		return -ENOENT;
	if (idx >= 16)
		return f->dwarf16 + idx - 16;
	return f->dwarf + idx;
}

int dbg_reg_by_dwarf(int dwarf_regno, enum dbg_reg *ret_id)
{
	if (!ret_id)
		return -EINVAL;
	for (int id = 0; id < DBG_REG__COUNT; id++) {
		if (dbg_reg_dwarf(id) == dwarf_regno) {
			*ret_id = id;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- XSAVE layout ---------------------------------------------------- */

static void cpuid_xsave(unsigned int sub, unsigned int *eax, unsigned int *ebx,
			unsigned int *ecx)
{
	unsigned int edx;
	*eax = *ebx = *ecx = 0;
	if (__get_cpuid_max(0, NULL) >= 0xd)
		__cpuid_count(0xd, sub, *eax, *ebx, *ecx, edx);
	(void)edx;
}

size_t dbg__x86_xsave_size(void)
{
	unsigned int eax, ebx, ecx;
	cpuid_xsave(0, &eax, &ebx, &ecx);
	/* ecx: the size needed for every component the CPU supports, which
	 * bounds what the kernel's regset (fpu_user_cfg.max_size) uses. */
	return ecx > 576 ? ecx : 576;
}

int dbg__x86_xsave_offset(int component, size_t *ret_off, size_t *ret_size)
{
	unsigned int eax, ebx, ecx;
	cpuid_xsave(component, &eax, &ebx, &ecx);
	if (!eax)
		return -DBG_ERRNO_UNSUPPORTED;
	*ret_off = ebx;
	*ret_size = eax;
	return 0;
}
