/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gdb's agent expression bytecode, evaluated for target-side breakpoint
 * conditions (ax.h). Written from the opcode numbers and stack effects
 * the manual's "Bytecode Descriptions" give: multi-byte operands are big
 * endian, jump offsets are from the start of the expression, values are
 * 64-bit, memory and registers are little endian (x86_64).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ax.h"
#include "rsp.h"

/* Opcode numbers. */
enum {
	OP_FLOAT = 0x01, OP_ADD, OP_SUB, OP_MUL, OP_DIV_S, OP_DIV_U, OP_REM_S, OP_REM_U,
	OP_LSH, OP_RSH_S, OP_RSH_U, OP_TRACE, OP_TRACE_QUICK, OP_LOG_NOT, OP_BIT_AND,
	OP_BIT_OR, OP_BIT_XOR, OP_BIT_NOT, OP_EQUAL, OP_LESS_S, OP_LESS_U, OP_EXT,
	OP_REF8, OP_REF16, OP_REF32, OP_REF64, OP_REF_FLOAT, OP_REF_DOUBLE,
	OP_REF_LONG_DOUBLE, OP_L_TO_D, OP_D_TO_L, OP_IF_GOTO, OP_GOTO, OP_CONST8,
	OP_CONST16, OP_CONST32, OP_CONST64, OP_REG, OP_END, OP_DUP, OP_POP, OP_ZERO_EXT,
	OP_SWAP, OP_GETV, OP_SETV, OP_TRACEV, OP_TRACENZ, OP_TRACE16, OP_INVALID2,
	OP_PICK, OP_ROT, OP_PRINTF,
};

/* Bytes of operand after opcode @op; -1 for one this evaluator never
 * accepts (unknown, `invalid2`, `printf` whose operands only breakpoint
 * commands use). */
static int operand_size(uint8_t op)
{
	switch (op) {
	case OP_TRACE_QUICK:
	case OP_EXT:
	case OP_CONST8:
	case OP_ZERO_EXT:
	case OP_PICK:
		return 1;
	case OP_IF_GOTO:
	case OP_GOTO:
	case OP_CONST16:
	case OP_REG:
	case OP_GETV:
	case OP_SETV:
	case OP_TRACEV:
	case OP_TRACE16:
		return 2;
	case OP_CONST32:
		return 4;
	case OP_CONST64:
		return 8;
	case OP_INVALID2:
	case OP_PRINTF:
		return -1;
	default:
		return op >= OP_FLOAT && op <= OP_ROT ? 0 : -1;
	}
}

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int ax_check(const uint8_t *code, size_t len, const char **ret_why)
{
	const char *why = NULL;
	if (len == 0 || len > AX_MAX_LEN) {
		why = len ? "expression too long" : "empty expression";
		goto bad;
	}
	/* where instructions start, for the jumps */
	uint8_t *start = calloc(len, 1);
	if (!start) {
		*ret_why = "out of memory";
		return -ENOMEM;
	}
	for (size_t pc = 0; pc < len;) {
		int n = operand_size(code[pc]);
		if (n < 0) {
			why = "unknown or unsupported opcode";
			break;
		}
		if ((size_t)n >= len - pc) {
			why = "operand past the end of the expression";
			break;
		}
		start[pc] = 1;
		pc += 1 + (size_t)n;
	}
	for (size_t pc = 0; pc < len && !why;) {
		int n = operand_size(code[pc]);
		if (code[pc] == OP_IF_GOTO || code[pc] == OP_GOTO) {
			uint64_t to = be(code + pc + 1, 2);
			if (to >= len || !start[to])
				why = "jump outside the expression or into an operand";
		}
		pc += 1 + (size_t)n;
	}
	free(start);
	if (!why)
		return 0;
bad:
	*ret_why = why;
	return -EINVAL;
}

/* Sign-extend the low @bits bits of @v (1..64). */
static uint64_t sext(uint64_t v, unsigned bits)
{
	if (bits >= 64)
		return v;
	uint64_t m = 1ull << (bits - 1);
	v &= (m << 1) - 1;
	return (v ^ m) - m;
}

int ax_eval(const uint8_t *code, size_t len, const struct ax_target *t, uint64_t *ret_val,
	    const char **ret_why)
{
	uint64_t st[AX_STACK];
	size_t sp = 0; /* values on the stack */
	size_t pc = 0;
	const char *why = NULL;
	int err = -EINVAL;

/* the stack holds at least N values / has room for N more */
#define NEED(N) do { if (sp < (N)) { why = "stack underflow"; err = -ERANGE; goto out; } } while (0)
#define ROOM(N) do { if (AX_STACK - sp < (N)) { why = "stack overflow"; err = -EOVERFLOW; goto out; } } while (0)

	for (unsigned long steps = 0;; steps++) {
		if (steps >= AX_STEPS) {
			why = "too many steps";
			err = -ELOOP;
			goto out;
		}
		if (pc >= len) {
			why = "ran past the end without `end`";
			goto out;
		}
		uint8_t op = code[pc];
		int n = operand_size(op);
		if (n < 0) {
			why = "unknown or unsupported opcode";
			goto out;
		}
		if ((size_t)n >= len - pc) {
			why = "operand past the end of the expression";
			goto out;
		}
		uint64_t arg = be(code + pc + 1, n);
		size_t next = pc + 1 + (size_t)n;
		uint64_t a, b;

		switch (op) {
		case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV_S: case OP_DIV_U:
		case OP_REM_S: case OP_REM_U: case OP_LSH: case OP_RSH_S: case OP_RSH_U:
		case OP_BIT_AND: case OP_BIT_OR: case OP_BIT_XOR: case OP_EQUAL:
		case OP_LESS_S: case OP_LESS_U:
			NEED(2);
			b = st[--sp];
			a = st[sp - 1];
			switch (op) {
			case OP_ADD: a += b; break;
			case OP_SUB: a -= b; break;
			case OP_MUL: a *= b; break;
			case OP_DIV_S: case OP_REM_S:
				if (b == 0) {
					why = "division by zero";
					err = -EDOM;
					goto out;
				}
				if ((int64_t)b == -1) /* INT64_MIN / -1 must not trap */
					a = op == OP_DIV_S ? 0 - a : 0;
				else
					a = op == OP_DIV_S ? (uint64_t)((int64_t)a / (int64_t)b)
						: (uint64_t)((int64_t)a % (int64_t)b);
				break;
			case OP_DIV_U: case OP_REM_U:
				if (b == 0) {
					why = "division by zero";
					err = -EDOM;
					goto out;
				}
				a = op == OP_DIV_U ? a / b : a % b;
				break;
			case OP_LSH: a = b >= 64 ? 0 : a << b; break;
			case OP_RSH_U: a = b >= 64 ? 0 : a >> b; break;
			case OP_RSH_S:
				if (b >= 64)
					a = (int64_t)a < 0 ? ~0ull : 0;
				else if ((int64_t)a < 0)
					a = ~(~a >> b);
				else
					a >>= b;
				break;
			case OP_BIT_AND: a &= b; break;
			case OP_BIT_OR: a |= b; break;
			case OP_BIT_XOR: a ^= b; break;
			case OP_EQUAL: a = a == b; break;
			case OP_LESS_S: a = (int64_t)a < (int64_t)b; break;
			case OP_LESS_U: a = a < b; break;
			}
			st[sp - 1] = a;
			break;
		case OP_LOG_NOT:
			NEED(1);
			st[sp - 1] = !st[sp - 1];
			break;
		case OP_BIT_NOT:
			NEED(1);
			st[sp - 1] = ~st[sp - 1];
			break;
		case OP_EXT:
		case OP_ZERO_EXT:
			NEED(1);
			if (arg == 0) {
				why = "extension to 0 bits";
				goto out;
			}
			if (op == OP_EXT)
				st[sp - 1] = sext(st[sp - 1], (unsigned)arg);
			else if (arg < 64)
				st[sp - 1] &= (1ull << arg) - 1;
			break;
		case OP_REF8: case OP_REF16: case OP_REF32: case OP_REF64: {
			NEED(1);
			size_t sz = (size_t)1 << (op - OP_REF8);
			uint8_t v[8] = { 0 };
			int r = t->mem(t->ctx, st[sp - 1], v, sz);
			if (r < 0) {
				why = "memory not readable";
				err = r;
				goto out;
			}
			a = 0;
			for (size_t i = sz; i-- > 0;)
				a = a << 8 | v[i];
			st[sp - 1] = a;
			break;
		}
		case OP_IF_GOTO:
			NEED(1);
			if (st[--sp] != 0)
				next = (size_t)arg;
			break;
		case OP_GOTO:
			next = (size_t)arg;
			break;
		case OP_CONST8: case OP_CONST16: case OP_CONST32: case OP_CONST64:
			ROOM(1);
			st[sp++] = arg;
			break;
		case OP_REG: {
			ROOM(1);
			int r = t->reg(t->ctx, (int)arg, &a);
			if (r < 0) {
				why = "register not available";
				err = r;
				goto out;
			}
			st[sp++] = a;
			break;
		}
		case OP_END:
			NEED(1);
			*ret_val = st[sp - 1];
			return 0;
		case OP_DUP:
			NEED(1);
			ROOM(1);
			st[sp] = st[sp - 1];
			sp++;
			break;
		case OP_POP:
			NEED(1);
			sp--;
			break;
		case OP_SWAP:
			NEED(2);
			a = st[sp - 1];
			st[sp - 1] = st[sp - 2];
			st[sp - 2] = a;
			break;
		case OP_PICK:
			/* pick N copies the value N below the top (pick 0 = dup) */
			NEED((size_t)arg + 1);
			ROOM(1);
			st[sp] = st[sp - 1 - (size_t)arg];
			sp++;
			break;
		case OP_ROT:
			/* a b c => c a b */
			NEED(3);
			a = st[sp - 1];
			st[sp - 1] = st[sp - 2];
			st[sp - 2] = st[sp - 3];
			st[sp - 3] = a;
			break;
		/* tracepoint collection: nothing is collected for a condition */
		case OP_TRACE:
		case OP_TRACENZ:
			NEED(2);
			sp -= 2;
			break;
		case OP_TRACE_QUICK:
		case OP_TRACE16:
			NEED(1);
			break;
		case OP_GETV: case OP_SETV: case OP_TRACEV:
			why = "trace state variables are not supported";
			goto out;
		default:
			/* float, ref_float, ref_double, ref_long_double, l_to_d, d_to_l */
			why = "floating point is not supported";
			goto out;
		}
		if (next >= len) {
			why = next == len ? "ran past the end without `end`" : "jump outside the expression";
			goto out;
		}
		pc = next;
	}
#undef NEED
#undef ROOM
out:
	*ret_why = why;
	return err;
}

/* A hex length of at most 32 bits at *s; -1 without one. */
static int parse_len(const char **s, uint64_t *ret)
{
	return rsp_parse_hex(s, ret) == 0 && *ret <= UINT32_MAX ? 0 : -1;
}

void ax_conds_free(struct ax_conds *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].code);
	free(c);
}

int ax_conds_parse(const char *s, struct ax_conds **ret, const char **ret_why)
{
	struct ax_conds *c = NULL;
	*ret = NULL;
	while (*s == ';') {
		s++;
		if (!strncmp(s, "cmds:", 5))
			break; /* commands: not offered (no BreakpointCommands+), ignored */
		uint64_t len;
		if (*s++ != 'X' || parse_len(&s, &len) < 0 || *s++ != ',') {
			*ret_why = "bad condition syntax";
			goto bad;
		}
		if (len == 0 || len > AX_MAX_LEN) {
			*ret_why = len ? "expression too long" : "empty expression";
			goto bad;
		}
		if (strnlen(s, 2 * len) < 2 * len) {
			*ret_why = "condition shorter than its length";
			goto bad;
		}
		if (!c && !(c = calloc(1, sizeof(*c)))) {
			*ret_why = "out of memory";
			return -ENOMEM;
		}
		if (c->n == AX_MAX_CONDS) {
			*ret_why = "too many conditions";
			goto bad;
		}
		uint8_t *code = malloc(len);
		if (!code) {
			*ret_why = "out of memory";
			ax_conds_free(c);
			return -ENOMEM;
		}
		if (rsp_unhex(s, len, code) < 0) {
			free(code);
			*ret_why = "bad hex in condition";
			goto bad;
		}
		if (ax_check(code, len, ret_why) < 0) {
			free(code);
			goto bad;
		}
		c->e[c->n].code = code;
		c->e[c->n++].len = len;
		s += 2 * len;
	}
	if (*s && strncmp(s, "cmds:", 5)) {
		*ret_why = "bad condition syntax";
		goto bad;
	}
	*ret = c;
	return 0;
bad:
	ax_conds_free(c);
	return -EINVAL;
}

int ax_conds_true(const struct ax_conds *c, const struct ax_target *t, const char **ret_why)
{
	*ret_why = NULL;
	if (!c || c->n == 0)
		return 1;
	for (size_t i = 0; i < c->n; i++) {
		uint64_t v;
		if (ax_eval(c->e[i].code, c->e[i].len, t, &v, ret_why) < 0)
			return 1;
		if (v)
			return 1;
	}
	return 0;
}

static struct ax_entry *find(struct ax_table *t, pid_t pid, char type, uint64_t addr)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].pid == pid && t->e[i].type == type && t->e[i].addr == addr)
			return &t->e[i];
	return NULL;
}

int ax_table_set(struct ax_table *t, pid_t pid, char type, uint64_t addr, struct ax_conds *c)
{
	struct ax_entry *e = find(t, pid, type, addr);
	if (e) {
		ax_conds_free(e->c);
		if (c) {
			e->c = c;
		} else {
			*e = t->e[--t->n];
		}
		return 0;
	}
	if (!c)
		return 0;
	if (t->n == sizeof(t->e) / sizeof(t->e[0])) {
		ax_conds_free(c);
		return -ENOSPC;
	}
	t->e[t->n++] = (struct ax_entry){ .pid = pid, .type = type, .addr = addr, .c = c };
	return 0;
}

const struct ax_conds *ax_table_get(const struct ax_table *t, pid_t pid, char type, uint64_t addr)
{
	struct ax_entry *e = find((struct ax_table *)t, pid, type, addr);
	return e ? e->c : NULL;
}

void ax_table_sweep(struct ax_table *t, int (*keep)(void *ctx, const struct ax_entry *e), void *ctx)
{
	for (size_t i = 0; i < t->n;) {
		if (keep(ctx, &t->e[i])) {
			i++;
			continue;
		}
		ax_conds_free(t->e[i].c);
		t->e[i] = t->e[--t->n];
	}
}
