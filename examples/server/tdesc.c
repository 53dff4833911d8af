/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Target description and register conversion for dbg-server (tdesc.h). */
#define _GNU_SOURCE
#include "tdesc.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
	K_GP,      /* a dbg_regs field: arg = offset */
	K_ST,      /* arg = i */
	K_FCTRL, K_FSTAT, K_FTAG, K_FISEG, K_FIOFF, K_FOSEG, K_FOOFF, K_FOP,
	K_XMM, K_MXCSR, K_YMMH, K_K, K_ZMMH, K_ZMM,
};

struct tdesc_reg {
	char name[12];
	int size;        /* bytes */
	enum kind kind;
	int arg;
	const char *type;
	const char *group;
};

#define GP(n, f, sz, t) { n, sz, K_GP, offsetof(struct dbg_regs, f), t, NULL }
static const struct tdesc_reg core_regs[] = {
	GP("rax", rax, 8, "int64"), GP("rbx", rbx, 8, "int64"),
	GP("rcx", rcx, 8, "int64"), GP("rdx", rdx, 8, "int64"),
	GP("rsi", rsi, 8, "int64"), GP("rdi", rdi, 8, "int64"),
	GP("rbp", rbp, 8, "data_ptr"), GP("rsp", rsp, 8, "data_ptr"),
	GP("r8", r8, 8, "int64"), GP("r9", r9, 8, "int64"),
	GP("r10", r10, 8, "int64"), GP("r11", r11, 8, "int64"),
	GP("r12", r12, 8, "int64"), GP("r13", r13, 8, "int64"),
	GP("r14", r14, 8, "int64"), GP("r15", r15, 8, "int64"),
	GP("rip", rip, 8, "code_ptr"), GP("eflags", eflags, 4, "i386_eflags"),
	GP("cs", cs, 4, "int32"), GP("ss", ss, 4, "int32"),
	GP("ds", ds, 4, "int32"), GP("es", es, 4, "int32"),
	GP("fs", fs, 4, "int32"), GP("gs", gs, 4, "int32"),
};
static const struct tdesc_reg linux_regs[] = {
	GP("orig_rax", orig_rax, 8, "int"),
};
static const struct tdesc_reg seg_regs[] = {
	GP("fs_base", fs_base, 8, "int"), GP("gs_base", gs_base, 8, "int"),
};
static const struct tdesc_reg fpctl_regs[] = {
	{ "fctrl", 4, K_FCTRL, 0, "int", "float" },
	{ "fstat", 4, K_FSTAT, 0, "int", "float" },
	{ "ftag", 4, K_FTAG, 0, "int", "float" },
	{ "fiseg", 4, K_FISEG, 0, "int", "float" },
	{ "fioff", 4, K_FIOFF, 0, "int", "float" },
	{ "foseg", 4, K_FOSEG, 0, "int", "float" },
	{ "fooff", 4, K_FOOFF, 0, "int", "float" },
	{ "fop", 4, K_FOP, 0, "int", "float" },
};
static const struct tdesc_reg mxcsr_reg = { "mxcsr", 4, K_MXCSR, 0, "i386_mxcsr", "vector" };

/* Registers that come in numbered runs, made once. */
static struct tdesc_reg st_regs[8], xmm_regs[32], ymmh_regs[32], k_regs[8], zmmh_regs[32], zmm_regs[32];

static void make_runs(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	for (int i = 0; i < 8; i++) {
		st_regs[i] = (struct tdesc_reg){ "", 10, K_ST, i, "i387_ext", NULL };
		snprintf(st_regs[i].name, sizeof(st_regs[i].name), "st%d", i);
		k_regs[i] = (struct tdesc_reg){ "", 8, K_K, i, "uint64", NULL };
		snprintf(k_regs[i].name, sizeof(k_regs[i].name), "k%d", i);
	}
	for (int i = 0; i < 32; i++) {
		xmm_regs[i] = (struct tdesc_reg){ "", 16, K_XMM, i, "vec128", NULL };
		snprintf(xmm_regs[i].name, sizeof(xmm_regs[i].name), "xmm%d", i);
		ymmh_regs[i] = (struct tdesc_reg){ "", 16, K_YMMH, i, "uint128", NULL };
		snprintf(ymmh_regs[i].name, sizeof(ymmh_regs[i].name), "ymm%dh", i);
		zmmh_regs[i] = (struct tdesc_reg){ "", 32, K_ZMMH, i, "v2ui128", NULL };
		snprintf(zmmh_regs[i].name, sizeof(zmmh_regs[i].name), "zmm%dh", i);
		zmm_regs[i] = (struct tdesc_reg){ "", 64, K_ZMM, i, "vec512", "vector" };
		snprintf(zmm_regs[i].name, sizeof(zmm_regs[i].name), "zmm%d", i);
	}
}

static const char eflags_type[] =
	"<flags id=\"i386_eflags\" size=\"4\">"
	"<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
	"<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
	"<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
	"<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
	"<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
	"<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>"
	"<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
	"<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>"
	"<field name=\"ID\" start=\"21\" end=\"21\"/></flags>\n";

static const char vec_types[] =
	"<vector id=\"v8bf16\" type=\"bfloat16\" count=\"8\"/>"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v8_bfloat16\" type=\"v8bf16\"/>"
	"<field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
	"<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>"
	"<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>"
	"<field name=\"uint128\" type=\"uint128\"/></union>\n";

static const char mxcsr_type[] =
	"<flags id=\"i386_mxcsr\" size=\"4\">"
	"<field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>"
	"<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/>"
	"<field name=\"UE\" start=\"4\" end=\"4\"/><field name=\"PE\" start=\"5\" end=\"5\"/>"
	"<field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>"
	"<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/>"
	"<field name=\"OM\" start=\"10\" end=\"10\"/><field name=\"UM\" start=\"11\" end=\"11\"/>"
	"<field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/></flags>\n";

static void add(struct tdesc *td, FILE *f, const struct tdesc_reg *r)
{
	td->regs[td->nregs++] = r;
	td->gsize += (size_t)r->size;
	fprintf(f, "<reg name=\"%s\" bitsize=\"%d\" type=\"%s\"", r->name, r->size * 8, r->type);
	if (r->group)
		fprintf(f, " group=\"%s\"", r->group);
	fputs("/>\n", f);
}

int tdesc_build(struct tdesc *td, uint64_t xcr0, int full_zmm)
{
	char *xml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&xml, &len);
	if (!f)
		return -ENOMEM;
	make_runs();
	memset(td, 0, sizeof(*td));
	td->xcr0 = xcr0;
	fputs("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	      "<target version=\"1.0\">\n<architecture>i386:x86-64</architecture>\n"
	      "<osabi>GNU/Linux</osabi>\n", f);

	fputs("<feature name=\"org.gnu.gdb.i386.core\">\n", f);
	fputs(eflags_type, f);
	for (size_t i = 0; i < sizeof(core_regs) / sizeof(core_regs[0]); i++)
		add(td, f, &core_regs[i]);
	for (int i = 0; i < 8; i++)
		add(td, f, &st_regs[i]);
	for (size_t i = 0; i < sizeof(fpctl_regs) / sizeof(fpctl_regs[0]); i++)
		add(td, f, &fpctl_regs[i]);
	fputs("</feature>\n<feature name=\"org.gnu.gdb.i386.sse\">\n", f);
	fputs(vec_types, f);
	fputs(mxcsr_type, f);
	for (int i = 0; i < 16; i++)
		add(td, f, &xmm_regs[i]);
	add(td, f, &mxcsr_reg);
	fputs("</feature>\n<feature name=\"org.gnu.gdb.i386.linux\">\n", f);
	add(td, f, &linux_regs[0]);
	fputs("</feature>\n<feature name=\"org.gnu.gdb.i386.segments\">\n", f);
	add(td, f, &seg_regs[0]);
	add(td, f, &seg_regs[1]);
	fputs("</feature>\n", f);
	if (xcr0 & DBG_XFEATURE_AVX) {
		fputs("<feature name=\"org.gnu.gdb.i386.avx\">\n", f);
		for (int i = 0; i < 16; i++)
			add(td, f, &ymmh_regs[i]);
		fputs("</feature>\n", f);
	}
	uint64_t avx512 = DBG_XFEATURE_OPMASK | DBG_XFEATURE_ZMM_HI256 | DBG_XFEATURE_HI16_ZMM;
	if ((xcr0 & avx512) == avx512 && (xcr0 & DBG_XFEATURE_AVX)) {
		fputs("<feature name=\"org.gnu.gdb.i386.avx512\">\n", f);
		fputs(vec_types, f);
		fputs("<vector id=\"v2ui128\" type=\"uint128\" count=\"2\"/>\n", f);
		for (int i = 16; i < 32; i++)
			add(td, f, &xmm_regs[i]);
		for (int i = 16; i < 32; i++)
			add(td, f, &ymmh_regs[i]);
		for (int i = 0; i < 8; i++)
			add(td, f, &k_regs[i]);
		for (int i = 0; i < 32; i++)
			add(td, f, &zmmh_regs[i]);
		fputs("</feature>\n", f);
		if (full_zmm) {
			fputs("<feature name=\"org.libdbg.x86.zmm\">\n"
			      "<vector id=\"vec512\" type=\"uint8\" count=\"64\"/>\n", f);
			for (int i = 0; i < 32; i++)
				add(td, f, &zmm_regs[i]);
			fputs("</feature>\n", f);
		}
	}
	fputs("</target>\n", f);
	if (fclose(f) != 0) {
		free(xml);
		return -ENOMEM;
	}
	td->xml = xml;
	td->xml_len = len;
	return 0;
}

void tdesc_free(struct tdesc *td)
{
	free(td->xml);
	td->xml = NULL;
}

int regbuf_read(struct dbg_proc *p, pid_t tid, struct regbuf *rb)
{
	int r = dbg_regs_get(p, tid, &rb->gp);
	if (r < 0)
		return r;
	r = dbg_regs_get_xstate(p, tid, &rb->xs);
	rb->have_xs = r == 0;
	if (r < 0) {
		memset(&rb->xs, 0, sizeof(rb->xs));
		r = dbg_regs_get_fp(p, tid, &rb->xs.fx);
	}
	return r;
}

int regbuf_write(struct dbg_proc *p, pid_t tid, const struct regbuf *rb, int gp, int xs)
{
	int r = 0;
	if (gp)
		r = dbg_regs_set(p, tid, &rb->gp);
	if (r == 0 && xs)
		r = rb->have_xs ? dbg_regs_set_xstate(p, tid, &rb->xs)
				: dbg_regs_set_fp(p, tid, &rb->xs.fx);
	return r;
}

int tdesc_reg_size(const struct tdesc *td, int n)
{
	if (n < 0 || n >= td->nregs)
		return -1;
	return td->regs[n]->size;
}

int tdesc_reg_is_gp(const struct tdesc *td, int n)
{
	return td->regs[n]->kind == K_GP;
}

/* The full x87 tag word (2 bits per physical register) from FXSAVE's
 * abridged one (1 bit: not empty) and the registers' contents. */
static uint32_t full_tag(const struct dbg_fpregs *fx)
{
	unsigned top = (fx->swd >> 11) & 7;
	uint32_t tag = 0;
	for (unsigned phys = 0; phys < 8; phys++) {
		unsigned t;
		if (!(fx->ftw & (1u << phys))) {
			t = 3;
		} else {
			const uint8_t *v = fx->st[(phys - top) & 7];
			unsigned exp = (unsigned)(v[9] & 0x7f) << 8 | v[8];
			int integer = v[7] >> 7;
			int mant_zero = 1;
			for (int i = 0; i < 8; i++)
				if (v[i])
					mant_zero = 0;
			if (exp == 0x7fff)
				t = 2;
			else if (exp == 0)
				t = mant_zero ? 1 : 2;
			else
				t = integer ? 0 : 2;
		}
		tag |= t << (2 * phys);
	}
	return tag;
}

static uint8_t abridged_tag(uint32_t full)
{
	uint8_t t = 0;
	for (int i = 0; i < 8; i++)
		if (((full >> (2 * i)) & 3) != 3)
			t |= (uint8_t)(1u << i);
	return t;
}

static void put32(uint8_t *out, uint32_t v)
{
	memcpy(out, &v, 4);
}

static uint32_t get32(const uint8_t *in)
{
	uint32_t v;
	memcpy(&v, in, 4);
	return v;
}

void tdesc_reg_get(const struct tdesc *td, int n, const struct regbuf *rb, uint8_t *out)
{
	const struct tdesc_reg *r = td->regs[n];
	const struct dbg_fpregs *fx = &rb->xs.fx;
	const struct dbg_xstate *xs = &rb->xs;
	int i = r->arg;

	switch (r->kind) {
	case K_GP:
		memcpy(out, (const uint8_t *)&rb->gp + r->arg, (size_t)r->size);
		break;
	case K_ST: memcpy(out, fx->st[i], 10); break;
	case K_FCTRL: put32(out, fx->cwd); break;
	case K_FSTAT: put32(out, fx->swd); break;
	case K_FTAG: put32(out, full_tag(fx)); break;
	case K_FISEG: put32(out, (uint32_t)(fx->rip >> 32) & 0xffff); break;
	case K_FIOFF: put32(out, (uint32_t)fx->rip); break;
	case K_FOSEG: put32(out, (uint32_t)(fx->rdp >> 32) & 0xffff); break;
	case K_FOOFF: put32(out, (uint32_t)fx->rdp); break;
	case K_FOP: put32(out, fx->fop & 0x7ffu); break;
	case K_MXCSR: put32(out, fx->mxcsr); break;
	case K_XMM:
		memcpy(out, i < 16 ? fx->xmm[i] : xs->hi16_zmm[i - 16], 16);
		break;
	case K_YMMH:
		memcpy(out, i < 16 ? xs->ymm_hi[i] : xs->hi16_zmm[i - 16] + 16, 16);
		break;
	case K_K: memcpy(out, &xs->opmask[i], 8); break;
	case K_ZMMH:
		memcpy(out, i < 16 ? xs->zmm_hi[i] : xs->hi16_zmm[i - 16] + 32, 32);
		break;
	case K_ZMM:
		if (i < 16) {
			memcpy(out, fx->xmm[i], 16);
			memcpy(out + 16, xs->ymm_hi[i], 16);
			memcpy(out + 32, xs->zmm_hi[i], 32);
		} else {
			memcpy(out, xs->hi16_zmm[i - 16], 64);
		}
		break;
	}
}

void tdesc_reg_set(const struct tdesc *td, int n, struct regbuf *rb, const uint8_t *in)
{
	const struct tdesc_reg *r = td->regs[n];
	struct dbg_fpregs *fx = &rb->xs.fx;
	struct dbg_xstate *xs = &rb->xs;
	int i = r->arg;
	uint32_t v = r->size >= 4 ? get32(in) : 0;

	switch (r->kind) {
	case K_GP:
		if (r->size == 4) {
			uint64_t w = v;
			memcpy((uint8_t *)&rb->gp + r->arg, &w, 8);
		} else {
			memcpy((uint8_t *)&rb->gp + r->arg, in, 8);
		}
		break;
	case K_ST: memcpy(fx->st[i], in, 10); break;
	case K_FCTRL: fx->cwd = (uint16_t)v; break;
	case K_FSTAT: fx->swd = (uint16_t)v; break;
	case K_FTAG: fx->ftw = abridged_tag(v); break;
	case K_FISEG: fx->rip = (fx->rip & 0xffffffffu) | (uint64_t)(v & 0xffff) << 32; break;
	case K_FIOFF: fx->rip = (fx->rip & ~0xffffffffull) | v; break;
	case K_FOSEG: fx->rdp = (fx->rdp & 0xffffffffu) | (uint64_t)(v & 0xffff) << 32; break;
	case K_FOOFF: fx->rdp = (fx->rdp & ~0xffffffffull) | v; break;
	case K_FOP: fx->fop = (uint16_t)(v & 0x7ff); break;
	case K_MXCSR: fx->mxcsr = v; break;
	case K_XMM:
		memcpy(i < 16 ? fx->xmm[i] : xs->hi16_zmm[i - 16], in, 16);
		break;
	case K_YMMH:
		memcpy(i < 16 ? xs->ymm_hi[i] : xs->hi16_zmm[i - 16] + 16, in, 16);
		break;
	case K_K: memcpy(&xs->opmask[i], in, 8); break;
	case K_ZMMH:
		memcpy(i < 16 ? xs->zmm_hi[i] : xs->hi16_zmm[i - 16] + 32, in, 32);
		break;
	case K_ZMM:
		if (i < 16) {
			memcpy(fx->xmm[i], in, 16);
			memcpy(xs->ymm_hi[i], in + 16, 16);
			memcpy(xs->zmm_hi[i], in + 32, 32);
		} else {
			memcpy(xs->hi16_zmm[i - 16], in, 64);
		}
		break;
	}
}
