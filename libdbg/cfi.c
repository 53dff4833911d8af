/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Compiled unwind rules: the CFI row of an address reduced to the
 * few forms x86_64 compilers emit for ordinary code - the CFA is rsp or
 * rbp plus an offset, the return address and the callee-saved registers
 * (rbx, rbp, r12-r15) are at offsets from the CFA or unchanged. The
 * unwinder caches one rule per address and steps through recursion and
 * repeated call paths with a few loads, no interpreter. Anything else
 * (signal trampolines, DWARF expressions, a CFA in another register, no
 * FDE) is left to libunwind or libdw. See doc/unwinding.md.
 *
 * The FDE of an address is found in, in this order:
 *   - .eh_frame_hdr's sorted table, when the module has one;
 *   - a table built here from .eh_frame when it has no header (gcc
 *     -static, busybox), once per module, on first use;
 *   - a table built from .debug_frame (Go binaries; C built without
 *     unwind tables), inflated first when SHF_COMPRESSED or .zdebug_.
 * The tables are also what libunwind is given (unwind.c).
 *
 * Every byte parsed comes from a file the target mapped: all reads are
 * bounded by the local copy, all counts and nesting are limited.
 */
#include "internal.h"

#include <elf.h>
#include <libdeflate.h>
#include <stdlib.h>
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
	uint64_t loc_bias; /* added to absolute locations: .debug_frame's are link-time */
	struct cur init;   /* its initial instructions */
};

/* The CIE at @c: an .eh_frame one (id 0), or a .debug_frame one (id all
 * ones, versions 1, 3 and 4) when @debug. */
static bool parse_cie(struct cur c, bool debug, uint64_t datarel, struct cie *ret)
{
	struct cur b;
	bool dw64 = false;
	if (c.end - c.p >= 4) {
		uint32_t l;
		memcpy(&l, c.p, 4);
		dw64 = l == 0xffffffff;
	}
	if (!entry(&c, &b))
		return false;
	uint64_t id = get(&b, dw64 ? 8 : 4);
	if (id != (debug ? (dw64 ? UINT64_MAX : 0xffffffff) : 0))
		return false;
	uint8_t version = (uint8_t)get(&b, 1);
	if (version != 1 && version != 3 && !(debug && version == 4))
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
	if (version == 4 && (get(&b, 1) != 8 || get(&b, 1) != 0))
		return false; /* address size 8, no segment selector */
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
			loc = pointer(&c, cie->fde_enc, datarel) + cie->loc_bias;
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

/* ---- finding the FDE ---------------------------------------------- */

/* Tables are bounded by the sections they index: an FDE takes at least
 * 16 bytes. A section larger than this is not indexed. */
#define MAX_SECTION (1u << 30)
/* An inflated .debug_frame larger than this, or than 1000 times its
 * compressed size, is taken for garbage. */
#define MAX_INFLATED (256u << 20)

struct dbg__cfi {
	struct dbg_sym *sym;
	struct dbg__cfi_image *img; /* sym->nimages, by image index */
	size_t nimg;
	unsigned int generation;
};

static void image_free(struct dbg__cfi_image *ci)
{
	free(ci->eh);
	free(ci->df);
	free(ci->df_own);
	memset(ci, 0, sizeof(*ci));
}

struct dbg__cfi *dbg__cfi_new(struct dbg_sym *s)
{
	struct dbg__cfi *c = calloc(1, sizeof(*c));
	if (c) {
		c->sym = s;
		c->generation = s->generation - 1; /* filled on first use */
	}
	return c;
}

void dbg__cfi_free(struct dbg__cfi *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nimg; i++)
		image_free(&c->img[i]);
	free(c->img);
	free(c);
}

/* A section of the local copy of @im by name, checked against its size:
 * its bytes, header, and whether there is one. */
static const uint8_t *find_section(const struct dbg__image *im, const char *name, Elf64_Shdr *ret)
{
	const uint8_t *d = im->data;
	if (!d || im->size < sizeof(Elf64_Ehdr))
		return NULL;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)d;
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff == 0 || eh->e_shoff > im->size ||
	    (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > im->size - eh->e_shoff ||
	    eh->e_shstrndx >= eh->e_shnum)
		return NULL;
	Elf64_Shdr str;
	memcpy(&str, d + eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof(Elf64_Shdr), sizeof(str));
	if (str.sh_type == SHT_NOBITS || str.sh_offset > im->size || str.sh_size > im->size - str.sh_offset)
		return NULL;
	size_t nlen = strlen(name) + 1;
	for (unsigned i = 1; i < eh->e_shnum; i++) {
		Elf64_Shdr sh;
		memcpy(&sh, d + eh->e_shoff + (uint64_t)i * sizeof(Elf64_Shdr), sizeof(sh));
		if (sh.sh_name >= str.sh_size || str.sh_size - sh.sh_name < nlen ||
		    memcmp(d + str.sh_offset + sh.sh_name, name, nlen) != 0)
			continue;
		if (sh.sh_type == SHT_NOBITS || sh.sh_offset > im->size ||
		    sh.sh_size > im->size - sh.sh_offset || sh.sh_size > MAX_SECTION)
			return NULL;
		*ret = sh;
		return d + sh.sh_offset;
	}
	return NULL;
}

static int cmp_ent(const void *a, const void *b)
{
	const struct dbg__cfi_entry *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort @n entries, keeping the first of equal starts. */
static size_t sort_table(struct dbg__cfi_entry *t, size_t n)
{
	qsort(t, n, sizeof(*t), cmp_ent);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || t[k - 1].start != t[i].start)
			t[k++] = t[i];
	return k;
}

/* The CIE pointer of an FDE and whether the entry is a CIE: in
 * .eh_frame, 0 marks a CIE and others count back from the field; in
 * .debug_frame, all ones marks a CIE and others are section offsets. */
static bool cie_of(struct cur *b, bool dw64, bool debug, uint64_t *ret_cie, bool *ret_is_cie)
{
	uint64_t field = b->addr;
	uint64_t id = get(b, dw64 ? 8 : 4);
	if (b->bad)
		return false;
	if (debug) {
		*ret_is_cie = id == (dw64 ? UINT64_MAX : 0xffffffff);
		*ret_cie = id;
	} else {
		*ret_is_cie = id == 0;
		if (!*ret_is_cie && id > field)
			return false;
		*ret_cie = field - id;
	}
	return true;
}

/* Walk the entries of a section (.eh_frame at target address @addr, or
 * .debug_frame at offset 0) and index its FDEs: starts relative to
 * @start_base, FDEs relative to the section. Malformed entries end the
 * walk; what was indexed before them stays usable. */
static size_t index_section(const uint8_t *p, size_t size, uint64_t addr, bool debug,
			    uint64_t bias, uint64_t start_base, struct dbg__cfi_entry **ret)
{
	size_t cap = size / 16 + 1, n = 0;
	struct dbg__cfi_entry *t = malloc(cap * sizeof(*t));
	if (!t)
		return 0;
	struct cur sec = { p, p + size, addr, false };
	uint64_t last_cie = UINT64_MAX;
	struct cie cie = { 0 };
	bool cie_ok = false;
	while (sec.p < sec.end && n < cap) {
		const uint8_t *at = sec.p;
		uint32_t l;
		if (sec.end - sec.p < 4)
			break;
		memcpy(&l, sec.p, 4);
		if (l == 0) { /* .eh_frame's terminator; skip padding elsewhere */
			skip(&sec, 4);
			if (!debug)
				break;
			continue;
		}
		bool dw64 = l == 0xffffffff;
		struct cur b;
		if (!entry(&sec, &b))
			break;
		skip(&sec, (size_t)(b.end - b.p));
		uint64_t cptr;
		bool is_cie;
		if (!cie_of(&b, dw64, debug, &cptr, &is_cie))
			break;
		if (is_cie)
			continue;
		if (cptr != last_cie) {
			/* The CIE, by section offset (debug) or address. */
			uint64_t off = debug ? cptr : cptr - addr;
			last_cie = cptr;
			cie_ok = off < size &&
				 parse_cie((struct cur){ p + off, p + size, addr + off, false }, debug, 0, &cie);
		}
		if (!cie_ok)
			continue;
		uint64_t start = pointer(&b, cie.fde_enc, 0);
		uint64_t range = pointer(&b, cie.fde_enc & 0x0f, 0);
		if (b.bad || range == 0 || start == 0)
			continue; /* discarded code (start 0), or nothing covered */
		if (debug)
			start += bias;
		int64_t rs = (int64_t)(start - start_base), rf = (int64_t)(at - p);
		if (rs < INT32_MIN || rs > INT32_MAX || rf > INT32_MAX)
			continue;
		t[n++] = (struct dbg__cfi_entry){ (int32_t)rs, (int32_t)rf };
	}
	n = sort_table(t, n);
	if (n == 0) {
		free(t);
		return 0;
	}
	*ret = t;
	return n;
}

/* Inflate a compressed .debug_frame: SHF_COMPRESSED (ELF zlib header)
 * or a GNU .zdebug_frame ("ZLIB", big-endian size). */
static uint8_t *inflate_section(const uint8_t *p, size_t size, bool gnu, size_t *ret_size)
{
	uint64_t out;
	size_t hdr;
	if (gnu) {
		if (size < 12 || memcmp(p, "ZLIB", 4) != 0)
			return NULL;
		out = 0;
		for (int i = 0; i < 8; i++)
			out = out << 8 | p[4 + i];
		hdr = 12;
	} else {
		Elf64_Chdr ch;
		if (size < sizeof(ch))
			return NULL;
		memcpy(&ch, p, sizeof(ch));
		if (ch.ch_type != ELFCOMPRESS_ZLIB)
			return NULL;
		out = ch.ch_size;
		hdr = sizeof(ch);
	}
	if (out == 0 || out > MAX_INFLATED || out / 1000 > size)
		return NULL;
	uint8_t *buf = malloc(out);
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	size_t got = 0;
	if (!buf || !d ||
	    libdeflate_zlib_decompress(d, p + hdr, size - hdr, buf, out, &got) != LIBDEFLATE_SUCCESS ||
	    got != out) {
		free(buf);
		buf = NULL;
	}
	libdeflate_free_decompressor(d);
	*ret_size = got;
	return buf;
}

/* The state of @im, its tables built the first time they are asked for. */
static struct dbg__cfi_image *image_state(struct dbg__cfi *c, struct dbg__image *im)
{
	struct dbg_sym *s = c->sym;
	if (c->generation != s->generation) {
		for (size_t i = 0; i < c->nimg; i++)
			image_free(&c->img[i]);
		free(c->img);
		c->img = calloc(s->nimages ? s->nimages : 1, sizeof(*c->img));
		c->nimg = c->img ? s->nimages : 0;
		c->generation = s->generation;
	}
	size_t i = (size_t)(im - s->images);
	return i < c->nimg ? &c->img[i] : NULL;
}

static void build_eh(struct dbg__cfi_image *ci, const struct dbg__image *im)
{
	ci->eh_done = true;
	if (im->eh_hdr || im->vdso)
		return; /* the header's table serves */
	Elf64_Shdr sh;
	const uint8_t *p = find_section(im, ".eh_frame", &sh);
	if (!p || !(sh.sh_flags & SHF_ALLOC) || sh.sh_size < 8)
		return;
	ci->eh_base = im->bias + sh.sh_addr;
	ci->neh = index_section(p, sh.sh_size, ci->eh_base, false, 0, ci->eh_base, &ci->eh);
}

static void build_df(struct dbg__cfi_image *ci, const struct dbg__image *im)
{
	ci->df_done = true;
	if (im->vdso)
		return;
	Elf64_Shdr sh;
	bool gnu = false;
	const uint8_t *p = find_section(im, ".debug_frame", &sh);
	if (!p && (p = find_section(im, ".zdebug_frame", &sh)))
		gnu = true;
	if (!p || sh.sh_size < 8)
		return;
	size_t size = sh.sh_size;
	if (gnu || (sh.sh_flags & SHF_COMPRESSED)) {
		ci->df_own = inflate_section(p, sh.sh_size, gnu, &size);
		if (!ci->df_own)
			return;
		p = ci->df_own;
	}
	ci->df_bias = im->bias;
	ci->ndf = index_section(p, size, 0, true, im->bias, im->bias, &ci->df);
	if (ci->ndf) {
		ci->df_data = p;
		ci->df_size = size;
	}
}

int dbg__cfi_image_tables(struct dbg__cfi *c, struct dbg__image *im, bool debug_frame,
			  struct dbg__cfi_image **ret)
{
	struct dbg__cfi_image *ci = image_state(c, im);
	if (!ci)
		return -ENOMEM;
	if (!ci->eh_done)
		build_eh(ci, im);
	if (debug_frame && !ci->df_done)
		build_df(ci, im);
	*ret = ci;
	return 0;
}

/* Binary search: the last entry starting at or before @rel. */
static const struct dbg__cfi_entry *search(const uint8_t *t, size_t n, int64_t rel)
{
	if (n == 0)
		return NULL;
	size_t lo = 0, hi = n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		int32_t v;
		memcpy(&v, t + mid * 8, 4);
		if (v <= rel)
			lo = mid;
		else
			hi = mid;
	}
	int32_t v;
	memcpy(&v, t + lo * 8, 4);
	return v <= rel ? (const struct dbg__cfi_entry *)(t + lo * 8) : NULL;
}

/* Parse the FDE at @fde (a cursor on it) covering @pc into its rule. */
static int rule_from_fde(struct dbg_sym *s, struct cur c, bool debug, const uint8_t *sec,
			 size_t sec_size, uint64_t bias, uint64_t datarel, uint64_t pc,
			 struct dbg__cfa_rule *ret)
{
	struct cur b;
	bool dw64 = false;
	if (c.end - c.p >= 4) {
		uint32_t l;
		memcpy(&l, c.p, 4);
		dw64 = l == 0xffffffff;
	}
	if (!entry(&c, &b))
		return -EINVAL;
	uint64_t cptr;
	bool is_cie;
	if (!cie_of(&b, dw64, debug, &cptr, &is_cie) || is_cie)
		return -EINVAL;
	struct cie cie;
	struct cur cc;
	if (debug) {
		if (cptr >= sec_size)
			return -EINVAL;
		cc = (struct cur){ sec + cptr, sec + sec_size, cptr, false };
	} else if (!open_at(s, cptr, &cc)) {
		return -EINVAL;
	}
	if (!parse_cie(cc, debug, datarel, &cie))
		return -EINVAL;
	if (cie.signal)
		return -ENOTSUP;
	uint64_t start = pointer(&b, cie.fde_enc, datarel);
	uint64_t range = pointer(&b, cie.fde_enc & 0x0f, datarel);
	if (b.bad)
		return -EINVAL;
	if (debug) {
		start += bias;
		cie.loc_bias = bias;
	}
	if (pc < start || pc - start >= range)
		return -ENOENT;
	if (cie.has_z)
		skip(&b, uleb(&b));

	struct row init = { .cfa_reg = -1 };
	if (!run(cie.init, &cie, start, UINT64_MAX, &init, NULL, datarel))
		return -EINVAL;
	struct row r = init;
	if (!run(b, &cie, start, pc, &r, &init, datarel))
		return -EINVAL;
	return compile(&r, ret);
}

int dbg__cfi_rule(struct dbg__cfi *c, uint64_t pc, struct dbg__cfa_rule *ret)
{
	struct dbg_sym *s = c->sym;
	struct dbg__image *im = dbg__sym_image(s, pc);
	if (!im)
		return -ENOENT;
	int r = -ENOENT;
	/* .eh_frame: through its header's table, whose entries are relative
	 * to the header, or through ours, relative to the section. */
	const uint8_t *t = NULL;
	size_t n = 0;
	uint64_t base = 0;
	if (im->eh_hdr) {
		size_t avail;
		t = dbg__sym_local(s, im->eh_table, &avail);
		n = t && avail / 8 >= im->eh_count ? im->eh_count : 0;
		base = im->eh_hdr;
	} else {
		struct dbg__cfi_image *ci;
		if (dbg__cfi_image_tables(c, im, false, &ci) < 0)
			return -ENOMEM;
		t = (const uint8_t *)ci->eh;
		n = ci->neh;
		base = ci->eh_base;
	}
	const struct dbg__cfi_entry *e = search(t, n, (int64_t)(pc - base));
	if (e) {
		struct dbg__cfi_entry ent;
		memcpy(&ent, e, sizeof(ent));
		struct cur cur;
		if (!open_at(s, base + (int64_t)ent.fde, &cur))
			return -EINVAL;
		r = rule_from_fde(s, cur, false, NULL, 0, 0, im->eh_hdr ? im->eh_hdr : base, pc, ret);
		if (r != -ENOENT)
			return r;
	}
	/* .debug_frame, for code .eh_frame does not cover. */
	struct dbg__cfi_image *ci;
	if (dbg__cfi_image_tables(c, im, true, &ci) < 0)
		return -ENOMEM;
	e = search((const uint8_t *)ci->df, ci->ndf, (int64_t)(pc - ci->df_bias));
	if (!e)
		return r;
	struct dbg__cfi_entry ent;
	memcpy(&ent, e, sizeof(ent));
	if ((size_t)ent.fde >= ci->df_size)
		return -EINVAL;
	struct cur cur = { ci->df_data + ent.fde, ci->df_data + ci->df_size, (uint64_t)ent.fde, false };
	return rule_from_fde(s, cur, true, ci->df_data, ci->df_size, ci->df_bias, 0, pc, ret);
}

uint64_t dbg__cfi_syscall_gap(struct dbg__cfi *c, uint64_t pc)
{
	uint8_t code[2];
	struct dbg__cfa_rule rule;
	if (pc < 3 || !dbg__sym_read_local(c->sym, pc - 2, code, 2) || code[0] != 0x0f ||
	    code[1] != 0x05 || dbg__cfi_rule(c, pc, &rule) != -ENOENT ||
	    dbg__cfi_rule(c, pc - 3, &rule) == -ENOENT)
		return 0;
	return pc - 3;
}
