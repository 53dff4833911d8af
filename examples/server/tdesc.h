/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The register set dbg-server offers gdb: a target description built from
 * the features the machine's XSAVE enables (core, sse, linux, segments,
 * avx, avx512), and the conversion of libdbg's registers to and from the
 * order and sizes that description gives (g/G, p/P).
 */
#ifndef DBG_SERVER_TDESC_H
#define DBG_SERVER_TDESC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <dbg.h>

struct tdesc_reg;

struct tdesc {
	uint64_t xcr0;
	int nregs;
	const struct tdesc_reg *regs[200];
	size_t gsize;        /* bytes of a g packet's data */
	char *xml;           /* target.xml */
	size_t xml_len;
};

/* One thread's registers as read from libdbg. */
struct regbuf {
	struct dbg_regs gp;
	struct dbg_xstate xs;  /* with xcr0 0 when only FXSAVE could be read */
	int have_xs;
};

/* Build the description for an xcr0 (from a stopped thread's xstate).
 * full_zmm adds zmm0-31 whole (64 bytes each) after the gdb pieces: lldb
 * 14 builds ymm from xmm + ymmNh itself, but not zmm. */
int tdesc_build(struct tdesc *td, uint64_t xcr0, int full_zmm);
void tdesc_free(struct tdesc *td);

int regbuf_read(struct dbg_proc *p, pid_t tid, struct regbuf *rb);
int regbuf_write(struct dbg_proc *p, pid_t tid, const struct regbuf *rb, int gp, int xs);

/* Size of register n, or -1 for a number outside the description. */
int tdesc_reg_size(const struct tdesc *td, int n);
/* Is register n in the general block (dbg_regs), else in the xstate. */
int tdesc_reg_is_gp(const struct tdesc *td, int n);
/* Copy register n out of / into a regbuf (td->regs[n]'s size bytes). */
void tdesc_reg_get(const struct tdesc *td, int n, const struct regbuf *rb, uint8_t *out);
void tdesc_reg_set(const struct tdesc *td, int n, struct regbuf *rb, const uint8_t *in);

#endif
