/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/regs.h
 * Registers of a stopped thread (x86_64): general, FP/SSE, the full
 * XSAVE state (AVX, AVX-512), debug registers, and lookup by name and by
 * DWARF number.
 *
 * Every getter and setter needs the thread in a ptrace-stop
 * (DBG_THREAD_STOPPED) and fails with -DBG_ERRNO_RUNNING otherwise.
 * General registers are cached while the thread stays stopped.
 */
#ifndef DBG_REGS_H
#define DBG_REGS_H

#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;

/** General registers; the layout of the kernel's user_regs_struct. */
struct dbg_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10;
	uint64_t r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax;
	uint64_t rip, cs, eflags, rsp, ss, fs_base, gs_base;
	uint64_t ds, es, fs, gs;
};

/** The 512-byte FXSAVE area (NT_PRFPREG). */
struct dbg_fpregs {
	uint16_t cwd, swd, ftw, fop;
	uint64_t rip, rdp;
	uint32_t mxcsr, mxcsr_mask;
	uint8_t st[8][16];    /**< st0-st7 (80 bits each, padded to 16) */
	uint8_t xmm[16][16];  /**< xmm0-xmm15 */
	uint8_t reserved[96];
};

/** XSAVE state components this API decodes (bits of xcr0/xstate_bv). */
enum dbg_xfeature {
	DBG_XFEATURE_X87 = 1u << 0,
	DBG_XFEATURE_SSE = 1u << 1,
	DBG_XFEATURE_AVX = 1u << 2,       /**< upper halves of ymm0-15 */
	DBG_XFEATURE_OPMASK = 1u << 5,    /**< k0-k7 */
	DBG_XFEATURE_ZMM_HI256 = 1u << 6, /**< upper halves of zmm0-15 */
	DBG_XFEATURE_HI16_ZMM = 1u << 7,  /**< zmm16-31 */
};

/** The decoded XSAVE state (NT_X86_XSTATE). */
struct dbg_xstate {
	uint64_t xcr0;       /**< components the kernel enabled */
	uint64_t xstate_bv;  /**< components not in their initial state */
	struct dbg_fpregs fx;
	uint8_t ymm_hi[16][16];   /**< bits 128-255 of ymm0-15 */
	uint64_t opmask[8];       /**< k0-k7 */
	uint8_t zmm_hi[16][32];   /**< bits 256-511 of zmm0-15 */
	uint8_t hi16_zmm[16][64]; /**< zmm16-31 */
};

/** Get/set the general registers of stopped thread @tid. */
DBG_API int dbg_regs_get(struct dbg_proc *proc, pid_t tid, struct dbg_regs *ret_regs);
DBG_API int dbg_regs_set(struct dbg_proc *proc, pid_t tid, const struct dbg_regs *regs);

/** Get/set the FXSAVE area (x87, SSE, mxcsr). */
DBG_API int dbg_regs_get_fp(struct dbg_proc *proc, pid_t tid, struct dbg_fpregs *ret_fp);
DBG_API int dbg_regs_set_fp(struct dbg_proc *proc, pid_t tid, const struct dbg_fpregs *fp);

/**
 * Get the whole XSAVE state decoded. Components in xstate_bv's zero bits
 * are in their initial state and read as zero.
 * @return 0; -DBG_ERRNO_UNSUPPORTED no XSAVE; -ESRCH; -DBG_ERRNO_RUNNING.
 */
DBG_API int dbg_regs_get_xstate(struct dbg_proc *proc, pid_t tid, struct dbg_xstate *ret_xs);

/**
 * Write back an XSAVE state: the FXSAVE part and every component that
 * xcr0 enables; their xstate_bv bits are set so the kernel loads them.
 */
DBG_API int dbg_regs_set_xstate(struct dbg_proc *proc, pid_t tid, const struct dbg_xstate *xs);

/**
 * Read or write debug register DR@idx (0-3, 6 or 7). The kernel validates
 * DR7 and the addresses in DR0-3 (-EINVAL/-EIO). Registers libdbg writes
 * are restored to their old values on detach.
 */
DBG_API int dbg_regs_get_debugreg(struct dbg_proc *proc, pid_t tid, int idx, uint64_t *ret_val);
DBG_API int dbg_regs_set_debugreg(struct dbg_proc *proc, pid_t tid, int idx, uint64_t val);

/** Register ids for the by-id accessors. New ids may be added. */
enum dbg_reg {
	DBG_REG_RAX, DBG_REG_RBX, DBG_REG_RCX, DBG_REG_RDX,
	DBG_REG_RSI, DBG_REG_RDI, DBG_REG_RBP, DBG_REG_RSP,
	DBG_REG_R8, DBG_REG_R9, DBG_REG_R10, DBG_REG_R11,
	DBG_REG_R12, DBG_REG_R13, DBG_REG_R14, DBG_REG_R15,
	DBG_REG_RIP, DBG_REG_EFLAGS, DBG_REG_ORIG_RAX,
	DBG_REG_CS, DBG_REG_SS, DBG_REG_DS, DBG_REG_ES, DBG_REG_FS, DBG_REG_GS,
	DBG_REG_FS_BASE, DBG_REG_GS_BASE,
	DBG_REG_ST0,                      /* st0..st7: 10 bytes each */
	DBG_REG_MXCSR = DBG_REG_ST0 + 8,
	DBG_REG_XMM0,                     /* xmm0..xmm31: 16 bytes */
	DBG_REG_YMM0 = DBG_REG_XMM0 + 32, /* ymm0..ymm31: 32 bytes */
	DBG_REG_ZMM0 = DBG_REG_YMM0 + 32, /* zmm0..zmm31: 64 bytes */
	DBG_REG_K0 = DBG_REG_ZMM0 + 32,   /* k0..k7: 8 bytes */
	DBG_REG_DR0 = DBG_REG_K0 + 8,     /* dr0..dr7: 8 bytes */
	DBG_REG__COUNT = DBG_REG_DR0 + 8,
};

/** Register id from a name such as "rip", "xmm3", "ymm17", "k2", "dr7". */
DBG_API int dbg_reg_by_name(const char *name, enum dbg_reg *ret_id);
/** Register id from an x86_64 SysV ABI DWARF register number. */
DBG_API int dbg_reg_by_dwarf(int dwarf_regno, enum dbg_reg *ret_id);
/** DWARF number of @id, or -ENOENT where the ABI has none (ymm, zmm, dr). */
DBG_API int dbg_reg_dwarf(enum dbg_reg id);
/** Name of @id ("rax"), or NULL for an invalid id. Static string. */
DBG_API const char *dbg_reg_name(enum dbg_reg id);
/** Size of @id in bytes, or -EINVAL. */
DBG_API int dbg_reg_size(enum dbg_reg id);

/**
 * Read register @id of stopped thread @tid into @buf (little-endian).
 * @return its size in bytes; -ENOSPC @len too small; -EINVAL;
 *         -DBG_ERRNO_UNSUPPORTED (e.g. zmm on a CPU without AVX-512).
 */
DBG_API int dbg_reg_read(struct dbg_proc *proc, pid_t tid, enum dbg_reg id,
			 void *buf, size_t len);
/** Write register @id from @buf, which holds dbg_reg_size(id) bytes. */
DBG_API int dbg_reg_write(struct dbg_proc *proc, pid_t tid, enum dbg_reg id,
			  const void *buf, size_t len);

DBG_END_DECLS

#endif /* DBG_REGS_H */
