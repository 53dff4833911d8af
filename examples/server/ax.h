/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Target-side breakpoint conditions: gdb's agent expressions (the
 * "Agent Expressions" appendix of its manual), sent with Z0/Z1 as
 * `;X<len>,<bytecode hex>` once the server offers ConditionalBreakpoints+.
 *
 * The evaluator is a stack machine of 64-bit values with a bounded stack
 * (AX_STACK) and a bounded number of steps (AX_STEPS): whatever a client
 * sends, an evaluation ends with a value or an error, never a crash or a
 * hang. Bytecode is checked when the breakpoint is set (every opcode
 * known, its operands inside the expression, every jump to the start of
 * an instruction); what only running can find (stack underflow or
 * overflow, division by zero, an unreadable address, a register the
 * target does not have, floating point, trace state variables) is an
 * evaluation error, which the server treats as "report the stop".
 */
#ifndef DBG_SERVER_AX_H
#define DBG_SERVER_AX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AX_STACK 1024         /* values on the stack at most */
#define AX_STEPS 100000       /* bytecodes run per evaluation at most */
#define AX_MAX_LEN 65536      /* bytes of one expression at most */
#define AX_MAX_CONDS 32       /* conditions of one breakpoint at most */

/* What an expression reads: both return 0 or a negative errno. */
struct ax_target {
	/* register @regno (gdb's number) into *ret_val, zero-extended (the
	 * low 8 bytes of a wider one) */
	int (*reg)(void *ctx, int regno, uint64_t *ret_val);
	/* exactly @len bytes at @addr */
	int (*mem)(void *ctx, uint64_t addr, void *buf, size_t len);
	void *ctx;
};

/* Check @code statically. 0, or -EINVAL with *ret_why set (static text). */
int ax_check(const uint8_t *code, size_t len, const char **ret_why);

/* Run @code. 0 with the value on top of the stack at `end` in *ret_val;
 * a negative errno with *ret_why (static text): -EINVAL malformed or
 * unsupported bytecode, -EOVERFLOW stack overflow, -ERANGE stack
 * underflow, -EDOM division by zero, -ELOOP too many steps, or what
 * ax_target's callbacks returned (-EFAULT, ...). */
int ax_eval(const uint8_t *code, size_t len, const struct ax_target *t, uint64_t *ret_val,
	    const char **ret_why);

/* The conditions of one breakpoint. */
struct ax_conds {
	size_t n;
	struct ax_expr {
		size_t len;
		uint8_t *code;
	} e[AX_MAX_CONDS];
};

/* Parse the part of a Z packet after `addr,kind`: empty, or
 * `;X<hexlen>,<hex>` one or more times, then optionally `;cmds:...`
 * (breakpoint commands: not offered, ignored). *ret is NULL when there
 * is no condition. 0, or -EINVAL (bad syntax, bad bytecode; *ret_why). */
int ax_conds_parse(const char *s, struct ax_conds **ret, const char **ret_why);
void ax_conds_free(struct ax_conds *c);

/* Should a hit be reported? 1 when any condition is true or an
 * evaluation fails (*ret_why then says why, else NULL), 0 when every one
 * is false. */
int ax_conds_true(const struct ax_conds *c, const struct ax_target *t, const char **ret_why);

/* The conditions of every breakpoint, by process, Z type and address. */
struct ax_table {
	size_t n;
	struct ax_entry {
		pid_t pid;
		char type;
		uint64_t addr;
		struct ax_conds *c;
	} e[1024];
};

/* Replace the conditions of (@pid, @type, @addr) by @c (owned by the
 * table from now on; NULL removes them). -ENOSPC when the table is full
 * (@c is freed). */
int ax_table_set(struct ax_table *t, pid_t pid, char type, uint64_t addr, struct ax_conds *c);
/* The conditions of (@pid, @type, @addr), or NULL. */
const struct ax_conds *ax_table_get(const struct ax_table *t, pid_t pid, char type, uint64_t addr);
/* Drop every entry @keep says is not wanted any more. */
void ax_table_sweep(struct ax_table *t, int (*keep)(void *ctx, const struct ax_entry *e), void *ctx);

#endif
