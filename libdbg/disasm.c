/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Disassembly (capstone) of target code read through the memory layer,
 * so breakpoints the run-control layer inserted are never seen: mem's
 * read path gives back the original bytes. The stepping module uses the
 * same decoder (dbg__disasm_at) for the length and kind of the
 * instruction at pc.
 *
 * Capstone errors are mapped here and nowhere else.
 */
#include "internal.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>


struct dbg_disasm {
	struct dbg_proc *proc;
	struct dbg_sym *sym;
	csh cs;
	enum dbg_disasm_syntax syntax;
};

const char *dbg_insn_kind_str(enum dbg_insn_kind kind)
{
	switch (kind) {
	case DBG_INSN_CALL: return "call";
	case DBG_INSN_JMP: return "jmp";
	case DBG_INSN_COND: return "cond";
	case DBG_INSN_RET: return "ret";
	case DBG_INSN_SYSCALL: return "syscall";
	case DBG_INSN_OTHER: break;
	}
	return "other";
}

static int cs_open_x86(csh *ret, enum dbg_disasm_syntax syntax)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, ret) != CS_ERR_OK)
		return -DBG_ERRNO_UNSUPPORTED;
	cs_option(*ret, CS_OPT_DETAIL, CS_OPT_ON);
	cs_option(*ret, CS_OPT_SYNTAX, syntax == DBG_DISASM_INTEL ? CS_OPT_SYNTAX_INTEL
								   : CS_OPT_SYNTAX_ATT);
	return 0;
}

static bool in_group(const cs_insn *ci, uint8_t g)
{
	const cs_detail *d = ci->detail;
	for (uint8_t i = 0; i < d->groups_count; i++)
		if (d->groups[i] == g)
			return true;
	return false;
}

/*
 * Fill *out from capstone's decoding; kind and targets from its groups
 * and operands. A rip-relative indirect branch gets its pointer read
 * from the target (when @p is given), as objdump's "# 0x... <x@got>"
 * comment would lead a reader to.
 */
static void fill_insn(struct dbg_proc *p, const cs_insn *ci, struct dbg_insn *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = ci->address;
	out->len = (uint8_t)ci->size;
	memcpy(out->bytes, ci->bytes, ci->size > sizeof(out->bytes) ? sizeof(out->bytes) : ci->size);
	snprintf(out->mnemonic, sizeof(out->mnemonic), "%s", ci->mnemonic);
	snprintf(out->operands, sizeof(out->operands), "%s", ci->op_str);

	const cs_x86 *x = &ci->detail->x86;
	for (uint8_t i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP)
			out->rip_relative = true;

	if (in_group(ci, CS_GRP_CALL))
		out->kind = DBG_INSN_CALL;
	else if (in_group(ci, CS_GRP_RET) || in_group(ci, CS_GRP_IRET))
		out->kind = DBG_INSN_RET;
	else if (in_group(ci, CS_GRP_JUMP))
		out->kind = ci->id == X86_INS_JMP || ci->id == X86_INS_LJMP ? DBG_INSN_JMP
									    : DBG_INSN_COND;
	else if (ci->id == X86_INS_SYSCALL || ci->id == X86_INS_SYSENTER ||
		 (ci->id == X86_INS_INT && x->op_count == 1 && x->operands[0].type == X86_OP_IMM &&
		  x->operands[0].imm == 0x80))
		out->kind = DBG_INSN_SYSCALL;

	if ((out->kind == DBG_INSN_CALL || out->kind == DBG_INSN_JMP || out->kind == DBG_INSN_COND) &&
	    x->op_count == 1) {
		const cs_x86_op *op = &x->operands[0];
		if (op->type == X86_OP_IMM) {
			out->has_target = true;
			out->target = (uint64_t)op->imm;
		} else if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP &&
			   op->mem.index == X86_REG_INVALID && p) {
			uint64_t slot = ci->address + ci->size + (uint64_t)op->mem.disp, v;
			if (dbg_mem_read(p, slot, &v, sizeof(v)) == (ssize_t)sizeof(v)) {
				out->indirect = true;
				out->target = v;
			}
		}
	}
}

/* ---- VEX and EVEX instructions capstone 4 does not know ------------------
 *
 * Capstone 4.0 (Debian 12) lacks some AVX-512 and mask-register
 * instructions (kmovd, vpcmpub, ...) that glibc's string functions use.
 * Their length follows from the encoding alone: the prefix says the
 * opcode map, then opcode, ModRM, SIB, displacement and an imm8 (map
 * 0F3A, and a few map 0F opcodes). Such an instruction is shown as
 * "(unknown)" with its bytes and kind OTHER: none of them branch.
 */
static size_t modrm_len(const uint8_t *b, size_t left, bool *rip)
{
	if (left < 1)
		return 0;
	uint8_t m = b[0], mod = m >> 6, rm = m & 7;
	size_t n = 1;
	if (mod != 3 && rm == 4) {
		if (left < 2)
			return 0;
		if (mod == 0 && (b[1] & 7) == 5)
			n += 4;
		n++;
	} else if (mod == 0 && rm == 5) {
		*rip = true;
		n += 4;
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n <= left ? n : 0;
}

static size_t vex_len(const uint8_t *b, size_t len, bool *rip)
{
	size_t i = 0;
	while (i < len && i < 4 && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3 ||
				    b[i] == 0x2e || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x36 ||
				    b[i] == 0x64 || b[i] == 0x65))
		i++;
	if (i >= len)
		return 0;
	unsigned map;
	if (b[i] == 0xc5) {
		map = 1;
		i += 2;
	} else if (b[i] == 0xc4) {
		if (i + 1 >= len)
			return 0;
		map = b[i + 1] & 0x1f;
		i += 3;
	} else if (b[i] == 0x62) {
		if (i + 1 >= len)
			return 0;
		map = b[i + 1] & 7;
		i += 4;
	} else {
		return 0;
	}
	if (i >= len || map == 0 || map > 6)
		return 0;
	uint8_t op = b[i++];
	if (map == 1 && (op == 0x77))
		return i; /* vzeroupper, vzeroall: no ModRM */
	size_t m = modrm_len(b + i, len - i, rip);
	if (!m)
		return 0;
	i += m;
	bool imm = map == 3 || (map == 1 && ((op >= 0x70 && op <= 0x73) || op == 0xc2 ||
					      op == 0xc4 || op == 0xc5 || op == 0xc6));
	if (imm)
		i++;
	return i <= len && i <= 15 ? i : 0;
}

static bool decode_unknown(const uint8_t *b, size_t len, uint64_t addr, struct dbg_insn *out)
{
	bool rip = false;
	size_t n = vex_len(b, len, &rip);
	if (!n)
		return false;
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	out->len = (uint8_t)n;
	memcpy(out->bytes, b, n);
	out->rip_relative = rip;
	snprintf(out->mnemonic, sizeof(out->mnemonic), "(unknown)");
	size_t o = 0;
	for (size_t k = 0; k < n && o + 6 < sizeof(out->operands); k++)
		o += (size_t)snprintf(out->operands + o, sizeof(out->operands) - o, "%s0x%02x",
				      k ? "," : ".byte ", b[k]);
	return true;
}

/* ---- PLT names ------------------------------------------------------ */

/* The section header of the ELF file @d holding link-time address @va. */
static const Elf64_Shdr *section_of(const uint8_t *d, size_t size, uint64_t va,
				    const char **ret_name)
{
	if (size < sizeof(Elf64_Ehdr) || memcmp(d, ELFMAG, SELFMAG) || d[EI_CLASS] != ELFCLASS64)
		return NULL;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)d;
	if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > size || (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum ||
	    eh->e_shstrndx >= eh->e_shnum)
		return NULL;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(d + eh->e_shoff);
	const Elf64_Shdr *str = &sh[eh->e_shstrndx];
	if (str->sh_offset > size || str->sh_size > size - str->sh_offset)
		return NULL;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (!(sh[i].sh_flags & SHF_ALLOC) || va < sh[i].sh_addr ||
		    va - sh[i].sh_addr >= sh[i].sh_size)
			continue;
		if (sh[i].sh_name >= str->sh_size || sh[i].sh_type == SHT_NOBITS)
			continue;
		const char *n = (const char *)d + str->sh_offset + sh[i].sh_name;
		if (!memchr(n, 0, str->sh_size - sh[i].sh_name))
			continue;
		*ret_name = n;
		return &sh[i];
	}
	return NULL;
}

/* The dynamic symbol a relocation of GOT slot @slot (link-time) names;
 * an IRELATIVE one (no symbol) as objdump does, "*ABS*+0xaddend", in @tmp. */
static const char *reloc_name(const uint8_t *d, size_t size, uint64_t slot, char *tmp, size_t cap)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)d;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(d + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_RELA || sh[i].sh_entsize != sizeof(Elf64_Rela) ||
		    sh[i].sh_link >= eh->e_shnum || sh[i].sh_offset > size ||
		    sh[i].sh_size > size - sh[i].sh_offset)
			continue;
		const Elf64_Shdr *sy = &sh[sh[i].sh_link];
		if (sy->sh_link >= eh->e_shnum || sy->sh_offset > size ||
		    sy->sh_size > size - sy->sh_offset)
			continue;
		const Elf64_Shdr *st = &sh[sy->sh_link];
		if (st->sh_offset > size || st->sh_size > size - st->sh_offset)
			continue;
		const Elf64_Rela *r = (const Elf64_Rela *)(d + sh[i].sh_offset);
		size_t n = sh[i].sh_size / sizeof(*r);
		for (size_t k = 0; k < n; k++) {
			if (r[k].r_offset != slot)
				continue;
			uint64_t si = ELF64_R_SYM(r[k].r_info);
			if (si == 0 && ELF64_R_TYPE(r[k].r_info) == R_X86_64_IRELATIVE) {
				snprintf(tmp, cap, "*ABS*+0x%" PRIx64, (uint64_t)r[k].r_addend);
				return tmp;
			}
			if (si == 0 || si >= sy->sh_size / sizeof(Elf64_Sym))
				return NULL;
			const Elf64_Sym *s = (const Elf64_Sym *)(d + sy->sh_offset) + si;
			if (s->st_name >= st->sh_size)
				return NULL;
			const char *name = (const char *)d + st->sh_offset + s->st_name;
			return memchr(name, 0, st->sh_size - s->st_name) ? name : NULL;
		}
	}
	return NULL;
}

/*
 * "name@plt" for a PLT stub at @addr, as objdump synthesizes it: the stub's
 * jmp *slot(%rip) names a GOT slot, and the relocation of that slot names
 * the function. Handles .plt, .plt.sec (IBT: endbr64; bnd jmp) and .plt.got.
 */
static bool plt_name(struct dbg_disasm *dis, uint64_t addr, char *buf, size_t cap)
{
	if (!dis->sym)
		return false;
	struct dbg__image *im = dbg__sym_image(dis->sym, addr);
	if (!im || !im->data || im->vdso)
		return false;
	const char *sec;
	const Elf64_Shdr *sh = section_of(im->data, im->size, addr - im->bias, &sec);
	if (!sh || strncmp(sec, ".plt", 4) != 0)
		return false;
	uint8_t code[16];
	if (dbg_mem_read(dis->proc, addr, code, sizeof(code)) != (ssize_t)sizeof(code))
		return false;
	/* The first rip-relative indirect jmp of the stub (at most 3 short
	 * instructions in). */
	const uint8_t *c = code;
	size_t left = sizeof(code);
	uint64_t a = addr;
	cs_insn *ci = cs_malloc(dis->cs);
	if (!ci)
		return false;
	bool found = false;
	uint64_t slot = 0;
	for (int i = 0; i < 3 && cs_disasm_iter(dis->cs, &c, &left, &a, ci); i++) {
		const cs_x86 *x = &ci->detail->x86;
		if (ci->id == X86_INS_JMP && x->op_count == 1 && x->operands[0].type == X86_OP_MEM &&
		    x->operands[0].mem.base == X86_REG_RIP) {
			slot = ci->address + ci->size + (uint64_t)x->operands[0].mem.disp;
			found = true;
			break;
		}
		if (ci->id != X86_INS_ENDBR64 && ci->id != X86_INS_NOP)
			break;
	}
	cs_free(ci, 1);
	if (!found)
		return false;
	char tmp[64];
	const char *name = reloc_name(im->data, im->size, slot - im->bias, tmp, sizeof(tmp));
	if (!name)
		return false;
	snprintf(buf, cap, "%s@plt", name);
	return true;
}

/* Append " <sym+0xoff>" for @target to the instruction's text. */
static void symbolize(struct dbg_disasm *dis, uint64_t target, struct dbg_insn *insn)
{
	char name[200];
	struct dbg_symbol s;
	size_t n = strlen(insn->text);
	if (plt_name(dis, target, name, sizeof(name))) {
		snprintf(insn->text + n, sizeof(insn->text) - n, " <%s>", name);
		return;
	}
	if (!dis->sym || dbg_sym_lookup(dis->sym, target, &s) < 0 || !s.name)
		return;
	if (s.offset)
		snprintf(insn->text + n, sizeof(insn->text) - n, " <%s+0x%" PRIx64 ">", s.name,
			 s.offset);
	else
		snprintf(insn->text + n, sizeof(insn->text) - n, " <%s>", s.name);
}

static void finish_text(struct dbg_disasm *dis, struct dbg_insn *insn)
{
	if (insn->operands[0])
		snprintf(insn->text, sizeof(insn->text), "%s %s", insn->mnemonic, insn->operands);
	else
		snprintf(insn->text, sizeof(insn->text), "%s", insn->mnemonic);
	if (insn->has_target || insn->indirect)
		symbolize(dis, insn->target, insn);
}

/* ---- public --------------------------------------------------------- */

int dbg_disasm_new(struct dbg_proc *proc, const struct dbg_disasm_opts *opts,
		   struct dbg_disasm **ret_dis)
{
	if (!proc || !ret_dis)
		return -EINVAL;
	if (opts && !dbg__opts_valid(opts, sizeof(*opts)))
		return -EINVAL;
	enum dbg_disasm_syntax syn = opts ? opts->syntax : DBG_DISASM_ATT;
	if (syn != DBG_DISASM_ATT && syn != DBG_DISASM_INTEL)
		return -EINVAL;
	if (opts && opts->sym && opts->sym->proc != proc)
		return -EINVAL;
	struct dbg_disasm *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	int r = cs_open_x86(&d->cs, syn);
	if (r < 0) {
		free(d);
		return dbg__fail(proc, r, "capstone cannot disassemble x86_64");
	}
	d->proc = proc;
	d->sym = opts ? opts->sym : NULL;
	d->syntax = syn;
	*ret_dis = d;
	return 0;
}

void dbg_disasm_free(struct dbg_disasm *dis)
{
	if (!dis)
		return;
	cs_close(&dis->cs);
	free(dis);
}

int dbg_disasm_set_syntax(struct dbg_disasm *dis, enum dbg_disasm_syntax syntax)
{
	if (!dis || (syntax != DBG_DISASM_ATT && syntax != DBG_DISASM_INTEL))
		return -EINVAL;
	cs_option(dis->cs, CS_OPT_SYNTAX, syntax == DBG_DISASM_INTEL ? CS_OPT_SYNTAX_INTEL
								      : CS_OPT_SYNTAX_ATT);
	dis->syntax = syntax;
	return 0;
}

int dbg_disasm_decode(struct dbg_disasm *dis, uint64_t addr, const void *buf, size_t len,
		      struct dbg_insn *ret_insn)
{
	if (!dis || !buf || !ret_insn)
		return -EINVAL;
	cs_insn *ci = cs_malloc(dis->cs);
	if (!ci)
		return -ENOMEM;
	const uint8_t *c = buf;
	uint64_t a = addr;
	int r = 0;
	if (cs_disasm_iter(dis->cs, &c, &len, &a, ci)) {
		fill_insn(dis->proc, ci, ret_insn);
		finish_text(dis, ret_insn);
	} else if (decode_unknown(buf, len, addr, ret_insn)) {
		finish_text(dis, ret_insn);
	} else {
		r = -DBG_ERRNO_PARSE;
	}
	cs_free(ci, 1);
	return r;
}

int dbg_disasm_read(struct dbg_disasm *dis, uint64_t addr, size_t count, struct dbg_insn *insns)
{
	if (!dis || (!insns && count))
		return -EINVAL;
	struct dbg_proc *p = dis->proc;
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (count == 0)
		return 0;
	cs_insn *ci = cs_malloc(dis->cs);
	if (!ci)
		return -ENOMEM;
	/* Read in chunks of up to 4 KiB; an instruction cut at a chunk's
	 * end is decoded again from the next chunk. */
	uint8_t buf[4096];
	size_t done = 0;
	uint64_t at = addr;
	while (done < count) {
		size_t want = (count - done) * 15 < sizeof(buf) ? (count - done) * 15 : sizeof(buf);
		ssize_t got = dbg_mem_read(p, at, buf, want);
		if (got < 0) {
			if (done == 0) {
				r = dbg__fail(p, (int)got, "disassembling at 0x%" PRIx64 ": cannot read",
					      at);
				goto out;
			}
			break;
		}
		const uint8_t *c = buf;
		size_t left = (size_t)got;
		uint64_t a = at;
		size_t before = done;
		while (done < count && left > 0) {
			const uint8_t *c0 = c;
			size_t l0 = left;
			uint64_t a0 = a;
			if (cs_disasm_iter(dis->cs, &c, &left, &a, ci)) {
				fill_insn(p, ci, &insns[done]);
			} else if (decode_unknown(c0, l0, a0, &insns[done])) {
				c = c0 + insns[done].len;
				left = l0 - insns[done].len;
				a = a0 + insns[done].len;
			} else {
				/* Cut at the chunk's end (read more), or bad bytes. */
				c = c0, left = l0, a = a0;
				break;
			}
			finish_text(dis, &insns[done]);
			done++;
		}
		if (done == before) {
			if (done == 0) {
				r = dbg__fail(p, -DBG_ERRNO_PARSE,
					      "disassembling at 0x%" PRIx64 ": not an instruction", at);
				goto out;
			}
			break;
		}
		at = a;
		if ((size_t)got < want && left == 0)
			break; /* the readable memory ends here */
	}
	r = (int)done;
out:
	cs_free(ci, 1);
	return r;
}

/* ---- for the stepping module ------------------------------------------ */

int dbg__disasm_at(struct dbg_proc *p, uint64_t addr, struct dbg_insn *ret)
{
	if (!p->step.cs_open) {
		csh h;
		if (cs_open_x86(&h, DBG_DISASM_ATT) < 0)
			return -DBG_ERRNO_UNSUPPORTED;
		p->step.cs = (size_t)h;
		p->step.cs_open = true;
	}
	uint8_t buf[15];
	ssize_t got = dbg_mem_read(p, addr, buf, sizeof(buf));
	if (got <= 0)
		return got < 0 ? (int)got : -EFAULT;
	csh h = (csh)p->step.cs;
	cs_insn *ci = cs_malloc(h);
	if (!ci)
		return -ENOMEM;
	const uint8_t *c = buf;
	size_t left = (size_t)got;
	uint64_t a = addr;
	int r = 0;
	if (cs_disasm_iter(h, &c, &left, &a, ci))
		fill_insn(p, ci, ret);
	else if (!decode_unknown(buf, (size_t)got, addr, ret))
		r = -DBG_ERRNO_PARSE;
	cs_free(ci, 1);
	return r;
}

void dbg__disasm_close(struct dbg_proc *p)
{
	if (p->step.cs_open) {
		csh h = (csh)p->step.cs;
		cs_close(&h);
		p->step.cs_open = false;
	}
}
