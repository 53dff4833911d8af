/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DBG_ARCH_X86_64_H
#define DBG_ARCH_X86_64_H

#include <stdbool.h>
#include <stddef.h>
#include <dbg/regs.h>

/* Offsets in the XSAVE (standard format) area, per the SDM. */
#define DBG__XSAVE_XCR0_OFFSET 464   /* kernel's xstate_fx_sw_bytes[0] */
#define DBG__XSAVE_HDR_OFFSET 512    /* xstate_bv */
#define DBG__FX_USER_BYTES 416       /* cwd..xmm15; the rest is reserved */

/* A general register and its offset in struct user_regs_struct. */
bool dbg__x86_is_gpr(enum dbg_reg id, size_t *ret_off);
/* The value in @r of DWARF register @regno, 0-16 (rax..r15 and rip):
 * what unwinders start from. */
bool dbg__x86_dwarf_gpr(const struct dbg_regs *r, int regno, uint64_t *ret_val);
/* Bytes NT_X86_XSTATE may take on this CPU. */
size_t dbg__x86_xsave_size(void);
/* Offset and size of XSAVE component @component (CPUID leaf 0xd). */
int dbg__x86_xsave_offset(int component, size_t *ret_off, size_t *ret_size);

#endif
