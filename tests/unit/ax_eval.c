/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg-server's agent expression evaluator (examples/server/ax.c) against
 * a fake target: every opcode's stack effect and value, the edge cases
 * C leaves undefined (INT64_MIN / -1, shifts of 64 and more), the static
 * check of malformed bytecode, the run-time errors (underflow, overflow,
 * division by zero, unreadable memory, endless loops), the Z packet's
 * condition syntax, the condition table, and random bytecode that must
 * always end in a value or an error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/server/ax.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

#define MEMBASE 0x1000u
static uint8_t mem[64];
static uint64_t regs[4] = { 7, 0xfffffffffffffff0ull, 0x123456789abcdef0ull, 0 };
static unsigned long mem_reads;

static int f_reg(void *ctx, int regno, uint64_t *ret)
{
	(void)ctx;
	if (regno < 0 || regno >= 4)
		return -EINVAL;
	*ret = regs[regno];
	return 0;
}

static int f_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	mem_reads++;
	if (addr < MEMBASE || addr - MEMBASE > sizeof(mem) || len > sizeof(mem) - (addr - MEMBASE))
		return -EFAULT;
	memcpy(buf, mem + (addr - MEMBASE), len);
	return 0;
}

static const struct ax_target tgt = { f_reg, f_mem, NULL };

/* Run bytecode given as bytes; return ax_eval's result, value in *v. */
static int run(uint64_t *v, size_t n, const uint8_t *code)
{
	const char *why = NULL;
	*v = 0xdeadbeef;
	int r = ax_eval(code, n, &tgt, v, &why);
	if (r < 0)
		CHECK(why != NULL);
	return r;
}
#define RUN(v, ...) run(v, sizeof((const uint8_t[]){ __VA_ARGS__ }), (const uint8_t[]){ __VA_ARGS__ })

/* opcodes */
enum { ADD = 0x02, SUB, MUL, DIVS, DIVU, REMS, REMU, LSH, RSHS, RSHU, TRACE, TRACEQ, LNOT,
       BAND, BOR, BXOR, BNOT, EQ, LTS, LTU, EXT, REF8, REF16, REF32, REF64, REFF, REFD, REFLD,
       LTOD, DTOL, IFGOTO, GOTO, C8, C16, C32, C64, REG, END, DUP, POP, ZEXT, SWAP, GETV, SETV,
       TRACEV, TRACENZ, TRACE16, INVALID2, PICK, ROT, PRINTF };

#define K64(x) C64, (uint8_t)((uint64_t)(x) >> 56), (uint8_t)((uint64_t)(x) >> 48), \
	(uint8_t)((uint64_t)(x) >> 40), (uint8_t)((uint64_t)(x) >> 32), (uint8_t)((uint64_t)(x) >> 24), \
	(uint8_t)((uint64_t)(x) >> 16), (uint8_t)((uint64_t)(x) >> 8), (uint8_t)(x)

static void opcodes(void)
{
	uint64_t v;
	/* constants: big-endian operands, no sign extension */
	CHECK(RUN(&v, C8, 0xff, END) == 0 && v == 0xff);
	CHECK(RUN(&v, C16, 0x12, 0x34, END) == 0 && v == 0x1234);
	CHECK(RUN(&v, C32, 0x80, 0, 0, 1, END) == 0 && v == 0x80000001u);
	CHECK(RUN(&v, K64(0x0102030405060708ull), END) == 0 && v == 0x0102030405060708ull);
	/* arithmetic: a b op, b on top */
	CHECK(RUN(&v, C8, 5, C8, 3, SUB, END) == 0 && v == 2);
	CHECK(RUN(&v, C8, 3, C8, 5, SUB, END) == 0 && v == (uint64_t)-2);
	CHECK(RUN(&v, C8, 3, C8, 5, ADD, END) == 0 && v == 8);
	CHECK(RUN(&v, K64(UINT64_MAX), C8, 1, ADD, END) == 0 && v == 0);
	CHECK(RUN(&v, C8, 6, C8, 7, MUL, END) == 0 && v == 42);
	CHECK(RUN(&v, K64((uint64_t)-7), C8, 2, DIVS, END) == 0 && v == (uint64_t)-3);
	CHECK(RUN(&v, K64((uint64_t)-7), C8, 2, REMS, END) == 0 && v == (uint64_t)-1);
	CHECK(RUN(&v, K64((uint64_t)-7), C8, 2, DIVU, END) == 0 && v == ((uint64_t)-7) / 2);
	CHECK(RUN(&v, C8, 7, C8, 4, REMU, END) == 0 && v == 3);
	CHECK(RUN(&v, K64(INT64_MIN), K64(-1), DIVS, END) == 0 && v == (uint64_t)INT64_MIN);
	CHECK(RUN(&v, K64(INT64_MIN), K64(-1), REMS, END) == 0 && v == 0);
	CHECK(RUN(&v, C8, 1, C8, 0, DIVS, END) == -EDOM);
	CHECK(RUN(&v, C8, 1, C8, 0, DIVU, END) == -EDOM);
	CHECK(RUN(&v, C8, 1, C8, 0, REMS, END) == -EDOM);
	CHECK(RUN(&v, C8, 1, C8, 0, REMU, END) == -EDOM);
	/* shifts, 64 and more included */
	CHECK(RUN(&v, C8, 1, C8, 63, LSH, END) == 0 && v == 1ull << 63);
	CHECK(RUN(&v, C8, 1, C8, 64, LSH, END) == 0 && v == 0);
	CHECK(RUN(&v, K64(-16), C8, 2, RSHS, END) == 0 && v == (uint64_t)-4);
	CHECK(RUN(&v, K64(-16), C8, 200, RSHS, END) == 0 && v == UINT64_MAX);
	CHECK(RUN(&v, C8, 16, C8, 200, RSHS, END) == 0 && v == 0);
	CHECK(RUN(&v, K64(-16), C8, 60, RSHU, END) == 0 && v == 0xf);
	CHECK(RUN(&v, K64(-16), K64(-1), RSHU, END) == 0 && v == 0);
	/* bits, logic, comparisons */
	CHECK(RUN(&v, C8, 0xc, C8, 0xa, BAND, END) == 0 && v == 8);
	CHECK(RUN(&v, C8, 0xc, C8, 0xa, BOR, END) == 0 && v == 0xe);
	CHECK(RUN(&v, C8, 0xc, C8, 0xa, BXOR, END) == 0 && v == 6);
	CHECK(RUN(&v, C8, 0, BNOT, END) == 0 && v == UINT64_MAX);
	CHECK(RUN(&v, C8, 0, LNOT, END) == 0 && v == 1);
	CHECK(RUN(&v, C8, 9, LNOT, END) == 0 && v == 0);
	CHECK(RUN(&v, C8, 9, C8, 9, EQ, END) == 0 && v == 1);
	CHECK(RUN(&v, C8, 9, C8, 8, EQ, END) == 0 && v == 0);
	CHECK(RUN(&v, K64(-1), C8, 1, LTS, END) == 0 && v == 1);
	CHECK(RUN(&v, K64(-1), C8, 1, LTU, END) == 0 && v == 0);
	CHECK(RUN(&v, C8, 1, C8, 1, LTS, END) == 0 && v == 0);
	/* widths */
	CHECK(RUN(&v, C8, 0x80, EXT, 8, END) == 0 && v == (uint64_t)-128);
	CHECK(RUN(&v, C8, 0x7f, EXT, 8, END) == 0 && v == 0x7f);
	CHECK(RUN(&v, C32, 0xff, 0xff, 0xff, 0xfe, EXT, 32, END) == 0 && v == (uint64_t)-2);
	CHECK(RUN(&v, K64(-2), EXT, 64, END) == 0 && v == (uint64_t)-2);
	CHECK(RUN(&v, K64(-2), ZEXT, 16, END) == 0 && v == 0xfffe);
	CHECK(RUN(&v, K64(-2), ZEXT, 64, END) == 0 && v == (uint64_t)-2);
	CHECK(RUN(&v, C8, 1, EXT, 0, END) == -EINVAL);
	/* memory, little endian */
	for (unsigned i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i + 1);
	CHECK(RUN(&v, C16, 0x10, 0x00, REF8, END) == 0 && v == 1);
	CHECK(RUN(&v, C16, 0x10, 0x00, REF16, END) == 0 && v == 0x0201);
	CHECK(RUN(&v, C16, 0x10, 0x01, REF32, END) == 0 && v == 0x05040302);
	CHECK(RUN(&v, C16, 0x10, 0x00, REF64, END) == 0 && v == 0x0807060504030201ull);
	CHECK(RUN(&v, C8, 0, REF32, END) == -EFAULT);
	CHECK(RUN(&v, C16, 0x10, 0x3e, REF32, END) == -EFAULT); /* runs past the end */
	/* registers */
	CHECK(RUN(&v, REG, 0, 0, END) == 0 && v == 7);
	CHECK(RUN(&v, REG, 0, 2, END) == 0 && v == 0x123456789abcdef0ull);
	CHECK(RUN(&v, REG, 0, 1, C8, 0, LTS, END) == 0 && v == 1);
	CHECK(RUN(&v, REG, 0x01, 0x00, END) == -EINVAL);
	/* stack shuffling */
	CHECK(RUN(&v, C8, 4, DUP, ADD, END) == 0 && v == 8);
	CHECK(RUN(&v, C8, 4, C8, 5, POP, END) == 0 && v == 4);
	CHECK(RUN(&v, C8, 4, C8, 5, SWAP, SUB, END) == 0 && v == 1);
	CHECK(RUN(&v, C8, 1, C8, 2, C8, 3, PICK, 2, END) == 0 && v == 1);
	CHECK(RUN(&v, C8, 1, C8, 2, C8, 3, PICK, 0, END) == 0 && v == 3);
	CHECK(RUN(&v, C8, 1, C8, 2, PICK, 2, END) == -ERANGE);
	/* rot: a b c => c a b: top b, then a, then c */
	CHECK(RUN(&v, C8, 1, C8, 2, C8, 3, ROT, END) == 0 && v == 2);
	CHECK(RUN(&v, C8, 1, C8, 2, C8, 3, ROT, POP, END) == 0 && v == 1);
	CHECK(RUN(&v, C8, 1, C8, 2, C8, 3, ROT, POP, POP, END) == 0 && v == 3);
	/* jumps: offsets from the start */
	CHECK(RUN(&v, C8, 1, IFGOTO, 0, 8, C8, 5, END, C8, 6, END) == 0 && v == 6);
	CHECK(RUN(&v, C8, 0, IFGOTO, 0, 8, C8, 5, END, C8, 6, END) == 0 && v == 5);
	CHECK(RUN(&v, GOTO, 0, 6, C8, 5, END, C8, 6, END) == 0 && v == 6);
	/* a counted loop: 10 down to 0, then the count of turns */
	CHECK(RUN(&v, C8, 0, C8, 10,                  /* 0: turns n */
		  DUP, LNOT, IFGOTO, 0, 20,           /* 4: n == 0: out */
		  C8, 1, SUB, SWAP, C8, 1, ADD, SWAP, /* 9: n-1, turns+1 */
		  GOTO, 0, 4,                         /* 17 */
		  POP, END) == 0 && v == 10);         /* 20 */
	/* tracing is nothing for a condition */
	CHECK(RUN(&v, C8, 9, TRACEQ, 4, END) == 0 && v == 9);
	CHECK(RUN(&v, C8, 9, TRACE16, 0, 4, END) == 0 && v == 9);
	CHECK(RUN(&v, C8, 9, C8, 1, C8, 2, TRACE, END) == 0 && v == 9);
	CHECK(RUN(&v, C8, 9, C8, 1, C8, 2, TRACENZ, END) == 0 && v == 9);
	/* not supported: an error, not a crash */
	CHECK(RUN(&v, C8, 1, DTOL, END) == -EINVAL);
	CHECK(RUN(&v, C8, 1, LTOD, END) == -EINVAL);
	CHECK(RUN(&v, C8, 1, REFD, END) == -EINVAL);
	CHECK(RUN(&v, 0x01, C8, 1, END) == -EINVAL);
	CHECK(RUN(&v, GETV, 0, 1, END) == -EINVAL);
	CHECK(RUN(&v, C8, 1, SETV, 0, 1, END) == -EINVAL);
}

static void errors(void)
{
	uint64_t v;
	/* underflow */
	CHECK(RUN(&v, END) == -ERANGE);
	CHECK(RUN(&v, ADD, END) == -ERANGE);
	CHECK(RUN(&v, C8, 1, ADD, END) == -ERANGE);
	CHECK(RUN(&v, POP, END) == -ERANGE);
	CHECK(RUN(&v, C8, 1, C8, 1, ROT, END) == -ERANGE);
	CHECK(RUN(&v, IFGOTO, 0, 0, END) == -ERANGE);
	/* overflow: AX_STACK + 1 pushes */
	size_t n = 2 * (AX_STACK + 1) + 1;
	uint8_t *code = malloc(n);
	for (size_t i = 0; i + 1 < n; i += 2) {
		code[i] = C8;
		code[i + 1] = 1;
	}
	code[n - 1] = END;
	const char *why;
	CHECK(ax_eval(code, n, &tgt, &v, &why) == -EOVERFLOW);
	CHECK(ax_eval(code + 2, n - 2, &tgt, &v, &why) == 0 && v == 1); /* exactly full */
	free(code);
	/* DUP in a loop overflows too */
	CHECK(RUN(&v, C8, 1, DUP, GOTO, 0, 2) == -EOVERFLOW);
	/* endless loops end */
	CHECK(RUN(&v, GOTO, 0, 0) == -ELOOP);
	mem_reads = 0;
	CHECK(RUN(&v, C16, 0x10, 0, REF8, POP, GOTO, 0, 0) == -ELOOP);
	CHECK(mem_reads <= AX_STEPS);
	/* running past the end, jumps outside (ax_eval checks too) */
	CHECK(RUN(&v, C8, 1) == -EINVAL);
	CHECK(RUN(&v, GOTO, 0, 3) == -EINVAL);
	CHECK(RUN(&v, GOTO, 0xff, 0xff, END) == -EINVAL);
	CHECK(RUN(&v, C16, 1) == -EINVAL);
	CHECK(RUN(&v, 0x00) == -EINVAL);
	CHECK(RUN(&v, 0xff, END) == -EINVAL);
}

static int check(size_t n, const uint8_t *code)
{
	const char *why = NULL;
	int r = ax_check(code, n, &why);
	if (r < 0)
		CHECK(why != NULL);
	return r;
}
#define CHK(...) check(sizeof((const uint8_t[]){ __VA_ARGS__ }), (const uint8_t[]){ __VA_ARGS__ })

static void static_check(void)
{
	CHECK(CHK(C8, 1, END) == 0);
	CHECK(CHK(C8, 1, IFGOTO, 0, 6, END, END) == 0);
	CHECK(ax_check((const uint8_t *)"", 0, &(const char *){ 0 }) == -EINVAL);
	CHECK(CHK(0x00, END) == -EINVAL);
	CHECK(CHK(0x35, END) == -EINVAL);
	CHECK(CHK(0xff, END) == -EINVAL);
	CHECK(CHK(INVALID2, END) == -EINVAL);
	CHECK(CHK(PRINTF, 0, END) == -EINVAL);
	CHECK(CHK(C8) == -EINVAL);                    /* operand missing */
	CHECK(CHK(C64, 1, 2, 3, 4, 5, 6, 7) == -EINVAL);
	CHECK(CHK(REG, 0) == -EINVAL);
	CHECK(CHK(GOTO, 0, 5, END) == -EINVAL);       /* past the end */
	CHECK(CHK(GOTO, 0, 4, END) == -EINVAL);       /* at the end */
	CHECK(CHK(GOTO, 0, 1, END) == -EINVAL);       /* into its own operand */
	CHECK(CHK(C16, 0x27, 0x27, GOTO, 0, 1, END) == -EINVAL); /* into a constant */
	CHECK(CHK(GOTO, 0, 3, END) == 0);
	/* what runs can fail later is accepted here */
	CHECK(CHK(END) == 0);
	CHECK(CHK(LTOD, END) == 0);
}

static void conds(void)
{
	struct ax_conds *c;
	const char *why;
	/* C8 7, reg 0, EQ, END: r0 == 7 (true); C8 8 ...: false */
	const char *t = "X7,22072600001327", *f = "X7,22082600001327";
	char pkt[256];
	CHECK(ax_conds_parse("", &c, &why) == 0 && c == NULL);
	snprintf(pkt, sizeof(pkt), ";%s", t);
	CHECK(ax_conds_parse(pkt, &c, &why) == 0 && c && c->n == 1 && c->e[0].len == 7);
	CHECK(ax_conds_true(c, &tgt, &why) == 1 && why == NULL);
	ax_conds_free(c);
	snprintf(pkt, sizeof(pkt), ";%s", f);
	CHECK(ax_conds_parse(pkt, &c, &why) == 0 && c && c->n == 1);
	CHECK(ax_conds_true(c, &tgt, &why) == 0);
	ax_conds_free(c);
	/* any true: report */
	snprintf(pkt, sizeof(pkt), ";%s;%s", f, t);
	CHECK(ax_conds_parse(pkt, &c, &why) == 0 && c && c->n == 2);
	CHECK(ax_conds_true(c, &tgt, &why) == 1);
	ax_conds_free(c);
	snprintf(pkt, sizeof(pkt), ";%s;%s", f, f);
	CHECK(ax_conds_parse(pkt, &c, &why) == 0 && c && c->n == 2);
	CHECK(ax_conds_true(c, &tgt, &why) == 0);
	ax_conds_free(c);
	/* an evaluation error: report, and say why */
	CHECK(ax_conds_parse(";X4,22001927", &c, &why) == 0 && c);
	CHECK(ax_conds_true(c, &tgt, &why) == 1 && why != NULL);
	ax_conds_free(c);
	/* commands are ignored */
	snprintf(pkt, sizeof(pkt), ";%s;cmds:1,X3,220127", f);
	CHECK(ax_conds_parse(pkt, &c, &why) == 0 && c && c->n == 1);
	ax_conds_free(c);
	CHECK(ax_conds_parse(";cmds:1,X3,220127", &c, &why) == 0 && c == NULL);
	CHECK(ax_conds_parse(";X3,220127", &c, &why) == 0 && c);
	ax_conds_free(c);
	CHECK(ax_conds_parse(";X3,220127;", &c, &why) == -EINVAL);
	/* malformed */
	const char *bad[] = { ";", ";X", ";X,", ";X3", ";X3,", ";X3,2201", ";X3,22012", ";X3,2201zz",
			      ";X0,", ";Xzz,00", ";X3,220127junk", ";Y3,220127", "junk", ";X3,ff0127",
			      ";X3,210027", ";X3,210001", ";X100000000,00", ";Xfffffffff,00",
			      ";X2,22", ";X10001,00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = (struct ax_conds *)&c;
		why = NULL;
		int r = ax_conds_parse(bad[i], &c, &why);
		if (r != -EINVAL || c != NULL || why == NULL) {
			fprintf(stderr, "FAIL: %s accepted (%d)\n", bad[i], r);
			failures++;
		}
	}
	/* too many conditions */
	char big[40 * 12 + 1] = "";
	for (int i = 0; i < AX_MAX_CONDS + 1; i++)
		strcat(big, ";X3,220127");
	CHECK(ax_conds_parse(big, &c, &why) == -EINVAL);
	big[strlen(big) - 10] = 0;
	CHECK(ax_conds_parse(big, &c, &why) == 0 && c && c->n == AX_MAX_CONDS);
	ax_conds_free(c);
}

static int keep_odd(void *ctx, const struct ax_entry *e)
{
	(void)ctx;
	return e->addr & 1;
}

static void table(void)
{
	static struct ax_table t;
	const char *why;
	struct ax_conds *a, *b;
	CHECK(ax_conds_parse(";X3,220127", &a, &why) == 0);
	CHECK(ax_conds_parse(";X3,220027;X3,220127", &b, &why) == 0);
	CHECK(ax_table_set(&t, 10, '0', 0x100, a) == 0);
	CHECK(ax_table_get(&t, 10, '0', 0x100) == a);
	CHECK(ax_table_get(&t, 11, '0', 0x100) == NULL);
	CHECK(ax_table_get(&t, 10, '1', 0x100) == NULL);
	CHECK(ax_table_set(&t, 10, '0', 0x100, b) == 0); /* replaced, a freed */
	CHECK(ax_table_get(&t, 10, '0', 0x100) == b && t.n == 1);
	CHECK(ax_table_set(&t, 10, '0', 0x100, NULL) == 0 && t.n == 0);
	CHECK(ax_table_set(&t, 10, '0', 0x200, NULL) == 0 && t.n == 0);
	size_t cap = sizeof(t.e) / sizeof(t.e[0]);
	for (size_t i = 0; i < cap; i++) {
		CHECK(ax_conds_parse(";X3,220127", &a, &why) == 0);
		CHECK(ax_table_set(&t, 1, '0', i, a) == 0);
	}
	CHECK(ax_conds_parse(";X3,220127", &a, &why) == 0);
	CHECK(ax_table_set(&t, 1, '0', cap, a) == -ENOSPC); /* a freed */
	ax_table_sweep(&t, keep_odd, NULL);
	CHECK(t.n == cap / 2 && ax_table_get(&t, 1, '0', 3) && !ax_table_get(&t, 1, '0', 4));
	for (size_t i = 1; i < cap; i += 2)
		ax_table_set(&t, 1, '0', i, NULL);
	CHECK(t.n == 0);
}

/* Random bytecode: always a value or an error, within the step bound. */
static void random_code(void)
{
	uint64_t seed = 12345, v;
	const char *why;
	for (int k = 0; k < 200000; k++) {
		uint8_t code[48];
		size_t n = 1 + (size_t)(seed % sizeof(code));
		for (size_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			uint8_t b = (uint8_t)(seed >> 33);
			/* mostly real opcodes, small operands */
			code[i] = (b & 0x80) ? (uint8_t)(b % 0x36) : (uint8_t)(b & 0x0f);
		}
		int c = ax_check(code, n, &why);
		int r = ax_eval(code, n, &tgt, &v, &why);
		CHECK(r == 0 || r < 0);
		(void)c;
	}
}

int main(void)
{
	opcodes();
	errors();
	static_check();
	conds();
	table();
	random_code();
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return 1;
	}
	printf("PASS: agent expressions\n");
	return 0;
}
