/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Compiled unwind rules: the .eh_frame row of an address reduced to the
 * few forms x86_64 compilers emit for ordinary code - the CFA is rsp or
 * rbp plus an offset, the return address and the callee-saved registers
 * (rbx, rbp, r12-r15) are at offsets from the CFA or unchanged. The
 * unwinder caches one rule per address and steps through recursion and
 * repeated call paths with a few loads, no interpreter. Anything else
 * (signal trampolines, DWARF expressions, a CFA in another register, no
 * FDE) is left to libunwind or libdw. See doc/unwinding.md.
 *
 * Every byte parsed comes from a file the target mapped: all reads are
 * bounded by the local copy, all counts and nesting are limited.
 */
#include "internal.h"

#include <string.h>

#define DW_EH_PE_absptr 0x00
#define DW_EH_PE_uleb128 0x01
#define DW_EH_PE_udata2 0x02
#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_udata8 0x04
#define DW_EH_PE_sleb128 0x09
#define DW_EH_PE_sdata2 0x0a
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_sdata8 0x0c
#define DW_EH_PE_pcrel 0x10
#define DW_EH_PE_datarel 0x30
#define DW_EH_PE_indirect 0x80
#define DW_EH_PE_omit 0xff

enum { RULE_SAME, RULE_OFFSET, RULE_UNDEF, RULE_OTHER };
#define NREGS 17 /* DWARF 0-15 and 16, the return address */
#define RA 16
#define MAX_STATES 8

struct row {
	int cfa_reg; /* -1: not a register plus offset */
	int64_t cfa_off;
	uint8_t rule[NREGS];
	int64_t off[NREGS];
};

/* A bounded reader over the local copy, knowing the target address of
 * its first byte (for pc-relative pointers). */
struct cur {
	const uint8_t *p, *end;
	uint64_t addr; /* target address of p */
	bool bad;
};

static void skip(struct cur *c, size_t n)
{
	if ((size_t)(c->end - c->p) < n) {
		c->bad = true;
		c->p = c->end;
		return;
	}
	c->p += n;
	c->addr += n;
}

static uint64_t get(struct cur *c, size_t n)
{
	uint64_t v = 0;
	if ((size_t)(c->end - c->p) < n) {
		c->bad = true;
		c->p = c->end;
		return 0;
	}
	memcpy(&v, c->p, n); /* x86_64: little-endian, like the file */
	skip(c, n);
	return v;
}

static uint64_t uleb(struct cur *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b = (uint8_t)get(c, 1);
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80) || c->bad)
			return v;
	}
	c->bad = true;
	return 0;
}

static int64_t sleb(struct cur *c)
{
	int64_t v = 0;
	unsigned shift = 0;
	uint8_t b;
	do {
		b = (uint8_t)get(c, 1);
		if (shift < 64)
			v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
		shift += 7;
	} while ((b & 0x80) && !c->bad && shift < 70);
	if (shift < 64 && (b & 0x40))
		v |= -(int64_t)((uint64_t)1 << shift);
	return v;
}

/* A pointer in encoding @enc; pc-relative ones against the field's own
 * address, data-relative ones against .eh_frame_hdr. */
static uint64_t pointer(struct cur *c, uint8_t enc, uint64_t datarel)
{
	uint64_t field = c->addr, v;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr: v = get(c, 8); break;
	case DW_EH_PE_uleb128: v = uleb(c); break;
	case DW_EH_PE_udata2: v = get(c, 2); break;
	case DW_EH_PE_udata4: v = get(c, 4); break;
	case DW_EH_PE_udata8: v = get(c, 8); break;
	case DW_EH_PE_sleb128: v = (uint64_t)sleb(c); break;
	case DW_EH_PE_sdata2: v = (uint64_t)(int64_t)(int16_t)get(c, 2); break;
	case DW_EH_PE_sdata4: v = (uint64_t)(int64_t)(int32_t)get(c, 4); break;
	case DW_EH_PE_sdata8: v = get(c, 8); break;
	default: c->bad = true; return 0;
	}
	switch (enc & 0x70) {
	case 0: break;
	case DW_EH_PE_pcrel: v += field; break;
	case DW_EH_PE_datarel: v += datarel; break;
	default: c->bad = true; /* textrel, funcrel: not in x86_64 .eh_frame */
	}
	if (enc & DW_EH_PE_indirect)
		c->bad = true; /* only personality routines use it; we skip those */
	return v;
}

/* Open a cursor on the local copy at target address @addr. */
static bool open_at(struct dbg_sym *s, uint64_t addr, struct cur *c)
{
	size_t avail;
	const uint8_t *p = dbg__sym_local(s, addr, &avail);
	if (!p)
		return false;
	*c = (struct cur){ p, p + avail, addr, false };
	return true;
}

/* An entry (CIE or FDE): its length, and a cursor limited to its body. */
static bool entry(struct cur *c, struct cur *body)
{
	uint64_t len = get(c, 4);
	if (len == 0xffffffff)
		len = get(c, 8);
	if (c->bad || len == 0 || len > (uint64_t)(c->end - c->p))
		return false;
	*body = (struct cur){ c->p, c->p + len, c->addr, false };
	return true;
}

struct cie {
	uint64_t code_align;
	int64_t data_align;
	uint8_t fde_enc;
	bool has_z, signal;
	struct cur init; /* its initial instructions */
};

static bool parse_cie(struct dbg_sym *s, uint64_t addr, uint64_t datarel, struct cie *ret)
{
	struct cur c, b;
	if (!open_at(s, addr, &c) || !entry(&c, &b) || get(&b, 4) != 0)
		return false;
	uint8_t version = (uint8_t)get(&b, 1);
	if (version != 1 && version != 3)
		return false;
	char aug[8];
	size_t n = 0;
	for (;;) {
		char ch = (char)get(&b, 1);
		if (b.bad || n == sizeof(aug))
			return false;
		aug[n++] = ch;
		if (!ch)
			break;
	}
	*ret = (struct cie){ .fde_enc = DW_EH_PE_absptr };
	if (aug[0] == 'e' && aug[1] == 'h')
		get(&b, 8);
	ret->code_align = uleb(&b);
	ret->data_align = sleb(&b);
	uint64_t ra = version == 1 ? get(&b, 1) : uleb(&b);
	if (ra != RA)
		return false;
	const char *a = aug;
	if (*a == 'z') {
		ret->has_z = true;
		uint64_t alen = uleb(&b);
		struct cur ad = { b.p, b.p + (alen < (uint64_t)(b.end - b.p) ? alen : 0), b.addr, false };
		if (alen > (uint64_t)(b.end - b.p))
			return false;
		skip(&b, alen);
		for (a++; *a; a++) {
			if (*a == 'R')
				ret->fde_enc = (uint8_t)get(&ad, 1);
			else if (*a == 'L')
				get(&ad, 1);
			else if (*a == 'P') {
				uint8_t enc = (uint8_t)get(&ad, 1);
				pointer(&ad, enc & ~DW_EH_PE_indirect, datarel);
			} else if (*a == 'S')
				ret->signal = true;
			else if (*a != 'B')
				return false;
		}
		if (ad.bad)
			return false;
	} else if (*a && strcmp(aug, "eh") != 0) {
		return false;
	}
	ret->init = b;
	return !b.bad && ret->code_align != 0;
}

/* Run CFA instructions from @c over @r, up to and including address
 * @pc, starting at location @loc. @init is the row after the CIE's
 * instructions (for DW_CFA_restore). */
static bool run(struct cur c, const struct cie *cie, uint64_t loc, uint64_t pc, struct row *r,
		const struct row *init, uint64_t datarel)
{
	struct row stack[MAX_STATES];
	unsigned depth = 0;
	while (c.p < c.end && !c.bad) {
		uint8_t op = (uint8_t)get(&c, 1);
		uint64_t reg = 0, delta = 0;
		int64_t off;
		switch (op >> 6) {
		case 1: /* advance_loc */
			delta = op & 0x3f;
			goto advance;
		case 2: /* offset */
			reg = op & 0x3f;
			off = (int64_t)uleb(&c) * cie->data_align;
			goto set_offset;
		case 3: /* restore */
			reg = op & 0x3f;
			goto restore;
		}
		switch (op) {
		case 0x00: /* nop */
			break;
		case 0x01: /* set_loc */
			loc = pointer(&c, cie->fde_enc, datarel);
			if (loc > pc)
				return !c.bad;
			break;
		case 0x02: delta = get(&c, 1); goto advance;
		case 0x03: delta = get(&c, 2); goto advance;
		case 0x04: delta = get(&c, 4); goto advance;
		case 0x05: /* offset_extended */
			reg = uleb(&c);
			off = (int64_t)uleb(&c) * cie->data_align;
			goto set_offset;
		case 0x11: /* offset_extended_sf */
			reg = uleb(&c);
			off = sleb(&c) * cie->data_align;
			goto set_offset;
		case 0x06: /* restore_extended */
			reg = uleb(&c);
			goto restore;
		case 0x07: /* undefined */
		case 0x08: /* same_value */
			reg = uleb(&c);
			if (reg < NREGS)
				r->rule[reg] = op == 0x07 ? RULE_UNDEF : RULE_SAME;
			break;
		case 0x09: /* register */
			reg = uleb(&c);
			uleb(&c);
			if (reg < NREGS)
				r->rule[reg] = RULE_OTHER;
			break;
		case 0x0a: /* remember_state */
			if (depth == MAX_STATES)
				return false;
			stack[depth++] = *r;
			break;
		case 0x0b: /* restore_state: the whole row, CFA included (GCC
			    * puts an epilogue in the middle of a function
			    * between remember and restore) */
			if (depth == 0)
				return false;
			*r = stack[--depth];
			break;
		case 0x0c: /* def_cfa */
			r->cfa_reg = (int)uleb(&c);
			r->cfa_off = (int64_t)uleb(&c);
			break;
		case 0x12: /* def_cfa_sf */
			r->cfa_reg = (int)uleb(&c);
			r->cfa_off = sleb(&c) * cie->data_align;
			break;
		case 0x0d: /* def_cfa_register */
			r->cfa_reg = (int)uleb(&c);
			break;
		case 0x0e: /* def_cfa_offset */
			r->cfa_off = (int64_t)uleb(&c);
			break;
		case 0x13: /* def_cfa_offset_sf */
			r->cfa_off = sleb(&c) * cie->data_align;
			break;
		case 0x0f: /* def_cfa_expression */
			skip(&c, uleb(&c));
			r->cfa_reg = -1;
			break;
		case 0x10: /* expression */
		case 0x16: /* val_expression */
			reg = uleb(&c);
			skip(&c, uleb(&c));
			if (reg < NREGS)
				r->rule[reg] = RULE_OTHER;
			break;
		case 0x14: /* val_offset */
			reg = uleb(&c);
			uleb(&c);
			if (reg < NREGS)
				r->rule[reg] = RULE_OTHER;
			break;
		case 0x15: /* val_offset_sf */
			reg = uleb(&c);
			sleb(&c);
			if (reg < NREGS)
				r->rule[reg] = RULE_OTHER;
			break;
		case 0x2e: /* GNU_args_size */
			uleb(&c);
			break;
		default: /* GNU_negative_offset_extended and unknown ops */
			return false;
		}
		continue;
advance:
		if (init && loc + delta * cie->code_align > pc)
			return !c.bad; /* the row for pc is complete */
		loc += delta * cie->code_align;
		continue;
set_offset:
		if (reg < NREGS) {
			r->rule[reg] = RULE_OFFSET;
			r->off[reg] = off;
		}
		continue;
restore:
		if (reg < NREGS && init) {
			r->rule[reg] = init->rule[reg];
			r->off[reg] = init->off[reg];
		}
		continue;
	}
	return !c.bad;
}

const int dbg__cfi_tracked[DBG__CFI_SAVED] = { 3, 6, 12, 13, 14, 15 }; /* rbx rbp r12-r15 */

/* Reduce a row to a rule, if it has the simple form. */
static int compile(const struct row *r, struct dbg__cfa_rule *ret)
{
	if (r->cfa_reg != 6 && r->cfa_reg != 7)
		return -ENOTSUP;
	if (r->cfa_off < INT32_MIN || r->cfa_off > INT32_MAX)
		return -ENOTSUP;
	struct dbg__cfa_rule rule = { .cfa_reg = (uint8_t)r->cfa_reg, .cfa_off = (int32_t)r->cfa_off };
	if (r->rule[RA] == RULE_UNDEF)
		rule.ra_undefined = 1;
	else if (r->rule[RA] == RULE_OFFSET && r->off[RA] >= INT32_MIN && r->off[RA] <= INT32_MAX)
		rule.ra_off = (int32_t)r->off[RA];
	else
		return -ENOTSUP;
	for (int i = 0; i < DBG__CFI_SAVED; i++) {
		int reg = dbg__cfi_tracked[i];
		if (r->rule[reg] == RULE_OFFSET && r->off[reg] >= INT32_MIN && r->off[reg] <= INT32_MAX) {
			rule.saved_mask |= 1u << i;
			rule.saved_off[i] = (int32_t)r->off[reg];
		} else if (r->rule[reg] != RULE_SAME) {
			return -ENOTSUP;
		}
	}
	*ret = rule;
	return 0;
}

int dbg__cfi_rule(struct dbg_sym *s, uint64_t pc, struct dbg__cfa_rule *ret)
{
	struct dbg__image *im = dbg__sym_image(s, pc);
	if (!im || !im->eh_hdr)
		return -ENOENT;
	/* The .eh_frame_hdr table: sorted (initial location, FDE) pairs,
	 * both relative to the header. */
	size_t avail;
	const uint8_t *t = dbg__sym_local(s, im->eh_table, &avail);
	if (!t || avail / 8 < im->eh_count || im->eh_count == 0)
		return -ENOENT;
	size_t lo = 0, hi = im->eh_count;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		int32_t v;
		memcpy(&v, t + mid * 8, 4);
		if (im->eh_hdr + (int64_t)v <= pc)
			lo = mid;
		else
			hi = mid;
	}
	int32_t fde_rel;
	memcpy(&fde_rel, t + lo * 8 + 4, 4);
	uint64_t fde = im->eh_hdr + (int64_t)fde_rel;

	struct cur c, b;
	if (!open_at(s, fde, &c) || !entry(&c, &b))
		return -EINVAL;
	uint64_t cie_field = b.addr;
	uint32_t cie_ptr = (uint32_t)get(&b, 4);
	if (cie_ptr == 0 || cie_ptr > cie_field)
		return -EINVAL;
	struct cie cie;
	if (!parse_cie(s, cie_field - cie_ptr, im->eh_hdr, &cie))
		return -EINVAL;
	if (cie.signal)
		return -ENOTSUP;
	uint64_t start = pointer(&b, cie.fde_enc, im->eh_hdr);
	uint64_t range = pointer(&b, cie.fde_enc & 0x0f, im->eh_hdr);
	if (b.bad)
		return -EINVAL;
	if (pc < start || pc - start >= range)
		return -ENOENT;
	if (cie.has_z)
		skip(&b, uleb(&b));

	struct row init = { .cfa_reg = -1 };
	if (!run(cie.init, &cie, start, UINT64_MAX, &init, NULL, im->eh_hdr))
		return -EINVAL;
	struct row r = init;
	if (!run(b, &cie, start, pc, &r, &init, im->eh_hdr))
		return -EINVAL;
	return compile(&r, ret);
}
