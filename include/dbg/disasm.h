/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/disasm.h
 * Disassembly of target code (x86_64, capstone), read through the memory
 * layer so that software breakpoints are invisible: the bytes shown are
 * the program's own. Each instruction comes with its length, its kind
 * (call, jump, conditional branch, return, system call) and, for direct
 * branches and calls, its target, symbolized through a struct dbg_sym
 * ("call 0x401136 <fact>", "<puts@plt>" for PLT stubs).
 *
 * A struct dbg_disasm belongs to its proc and is used from the proc's
 * thread. See doc/runcontrol.md, "Disassembly".
 */
#ifndef DBG_DISASM_H
#define DBG_DISASM_H

#include <stdbool.h>
#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;
struct dbg_sym;
struct dbg_disasm;

/** Assembler syntax of dbg_insn.text. Since: 0.3 */
enum dbg_disasm_syntax {
	DBG_DISASM_ATT = 0,   /**< AT&T (objdump -d, gdb's default) */
	DBG_DISASM_INTEL = 1, /**< Intel (objdump -M intel) */
};

/** What an instruction does to the flow of control. Since: 0.3 */
enum dbg_insn_kind {
	DBG_INSN_OTHER = 0,   /**< falls through to addr + len */
	DBG_INSN_CALL,        /**< call (direct or indirect) */
	DBG_INSN_JMP,         /**< unconditional jump (direct or indirect) */
	DBG_INSN_COND,        /**< conditional branch: jcc, jrcxz, loop */
	DBG_INSN_RET,         /**< ret, iret */
	DBG_INSN_SYSCALL,     /**< syscall, sysenter, int 0x80 */
};

/** One decoded instruction. Since: 0.3 */
struct dbg_insn {
	uint64_t addr;
	uint8_t len;          /**< 1..15 */
	uint8_t bytes[15];    /**< the original bytes (breakpoints shadowed) */
	enum dbg_insn_kind kind;
	/** A direct call or branch: target is where it goes. */
	bool has_target;
	/** An indirect call or jump through rip-relative memory ("call
	 * *0x2fe2(%rip)"): target is the pointer read from there. */
	bool indirect;
	uint64_t target;
	/** Reads or writes memory relative to rip (displaced stepping must
	 * fix it up). */
	bool rip_relative;
	char mnemonic[32];
	char operands[160];
	/** "mnemonic operands", then " <symbol+0xoff>" when the target was
	 * symbolized (objdump's form: "<name>" at offset 0). */
	char text[256];
};

/** Options for dbg_disasm_new(). NULL means all defaults. Since: 0.3 */
struct dbg_disasm_opts {
	size_t sz;            /**< sizeof(struct dbg_disasm_opts) */
	enum dbg_disasm_syntax syntax;
	/** Symbolize targets with this (borrowed; must outlive the
	 * disassembler); NULL: no symbols in text. */
	struct dbg_sym *sym;
};

/**
 * A disassembler for @proc's code.
 * @param opts     options, or NULL (AT&T, no symbols).
 * @param ret_dis  owned; free with dbg_disasm_free() before @proc.
 * @return 0; -EINVAL bad arguments or options; -ENOMEM;
 *         -DBG_ERRNO_UNSUPPORTED capstone could not be opened for x86_64.
 * Since: 0.3
 */
DBG_API int dbg_disasm_new(struct dbg_proc *proc, const struct dbg_disasm_opts *opts,
			   struct dbg_disasm **ret_dis);

/** Free @dis. NULL-safe. Since: 0.3 */
DBG_API void dbg_disasm_free(struct dbg_disasm *dis);

/**
 * Change the syntax of the instructions decoded from now on.
 * @return 0; -EINVAL.
 * Since: 0.3
 */
DBG_API int dbg_disasm_set_syntax(struct dbg_disasm *dis, enum dbg_disasm_syntax syntax);

/**
 * Disassemble up to @count instructions of the target from @addr on,
 * reading its memory through dbg_mem_read() (breakpoint bytes are not
 * seen). Decoding stops at the first byte that cannot be read or decoded.
 * @param insns  filled with the instructions, in order.
 * @return how many were decoded (0 only when @count is 0); -EFAULT the
 *         memory at @addr cannot be read; -DBG_ERRNO_PARSE the bytes at
 *         @addr are not an instruction (the message says which); -ESRCH
 *         the target is gone; -EXDEV; -EINVAL.
 * Since: 0.3
 */
DBG_API int dbg_disasm_read(struct dbg_disasm *dis, uint64_t addr, size_t count,
			    struct dbg_insn *insns);

/**
 * Decode one instruction from @buf (@len bytes) as if it were at target
 * address @addr (no target memory is read, except a rip-relative pointer
 * for dbg_insn.indirect's target, and symbols).
 * @return 0 with *ret_insn; -DBG_ERRNO_PARSE not an instruction;
 *         -EINVAL.
 * Since: 0.3
 */
DBG_API int dbg_disasm_decode(struct dbg_disasm *dis, uint64_t addr, const void *buf,
			      size_t len, struct dbg_insn *ret_insn);

/** A static name for @kind ("call", "jmp", "cond", "ret", "syscall",
 * "other"). Since: 0.3 */
DBG_API const char *dbg_insn_kind_str(enum dbg_insn_kind kind);

DBG_END_DECLS

#endif /* DBG_DISASM_H */
