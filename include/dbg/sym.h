/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/sym.h
 * Modules, symbols and source lines of a target, with the chain of
 * inlined functions at an address (elfutils libdw inside).
 *
 * A dbg_sym is built from the target's VMA table. Each mapped ELF file is
 * opened through /proc/PID/map_files (the very inode the target mapped,
 * so deleted files and other mount namespaces resolve), or through
 * /proc/PID/root/PATH when map_files is refused (it needs CAP_SYS_ADMIN),
 * checked against the device and inode in maps. The vdso is read from
 * target memory. Separate debuginfo is found through .gnu_debuglink and
 * /usr/lib/debug/.build-id, as seen from the target's root.
 */
#ifndef DBG_SYM_H
#define DBG_SYM_H

#include <stdbool.h>
#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;
struct dbg_sym;

/** Options for dbg_sym_new(). */
struct dbg_sym_opts {
	size_t sz; /**< sizeof(struct dbg_sym_opts) */
	/**
	 * Where to look for separate debuginfo, in libdw's syntax
	 * (":.debug:/usr/lib/debug" when NULL).
	 */
	const char *debuginfo_path;
	/**
	 * Threads libdbg may start, inside a lookup, to inflate compressed
	 * separate debuginfo (all are joined before the call returns and run
	 * with every signal blocked); 0 or 1: none, the calling thread does
	 * it. See doc/unwinding.md.
	 */
	unsigned int threads;
	/** enum dbg_sym_flags bits. Since: 0.2 */
	unsigned int flags;
	/**
	 * The persistent cache of prepared debuginfo (see doc/unwinding.md):
	 * its directory, NULL for $XDG_CACHE_HOME/libdbg or else
	 * $HOME/.cache/libdbg. A directory that cannot be made, is not owned
	 * by the effective user or is writable by others is not used.
	 * Since: 0.2
	 */
	const char *cache_dir;
	/** Bytes the cache may hold (oldest entries go first); 0: 1 GiB. Since: 0.2 */
	uint64_t cache_max;
};

/** dbg_sym_opts.flags bits. Since: 0.2 */
enum dbg_sym_flags {
	/**
	 * Names only: symbol tables, no DWARF (dbg_sym_srclocs() gives one
	 * entry per address, the ELF symbol, without file or line).
	 */
	DBG_SYM_NO_DWARF = 1u << 0,
	/** Do not use or fill the persistent cache of prepared debuginfo. */
	DBG_SYM_NO_CACHE = 1u << 1,
};

/**
 * Build the module table of @proc's target from its VMA table.
 * @param opts     may be NULL.
 * @param ret_sym  owned; free with dbg_sym_free(). It borrows @proc,
 *                 which must outlive it; use it from @proc's thread.
 * @return 0; -ESRCH; -EINVAL (also: unknown bits in @opts->flags);
 *         -ENOMEM; -DBG_ERRNO_PARSE.
 * A file that cannot be opened or parsed leaves its module without
 * symbols; it is not an error (see dbg_sym_module()). Nothing is read
 * from the debuginfo cache or written to it here: that happens on the
 * first lookup that needs a module's DWARF.
 * Since: 0.1
 */
DBG_API int dbg_sym_new(struct dbg_proc *proc, const struct dbg_sym_opts *opts,
			struct dbg_sym **ret_sym);

/** Free @sym. NULL-safe. */
DBG_API void dbg_sym_free(struct dbg_sym *sym);

/**
 * Rebuild the module table after the target mapped or unmapped files
 * (dlopen, exec). Strings from earlier lookups become invalid.
 * @return as dbg_sym_new().
 */
DBG_API int dbg_sym_refresh(struct dbg_sym *sym);

/** A module: one mapped ELF file or the vdso. Strings are borrowed. */
struct dbg_module {
	uint64_t start, end;   /**< span of its mappings */
	uint64_t bias;         /**< load address minus link-time address */
	const char *path;      /**< as in maps ("[vdso]" for the vdso) */
	const uint8_t *build_id; /**< NULL when it has none */
	size_t build_id_len;
	bool deleted;          /**< the file was deleted after mapping */
	bool has_symbols;      /**< an ELF symbol table was found */
	bool has_dwarf;        /**< DWARF (in the file or separate); not under DBG_SYM_NO_DWARF */
	/** Why the file could not be used, or NULL. */
	const char *error;
};

/**
 * The module containing @addr.
 * @return 0; -ENOENT no module there; -EINVAL.
 */
DBG_API int dbg_sym_module(struct dbg_sym *sym, uint64_t addr, struct dbg_module *ret_mod);

/** The ELF symbol containing an address. */
struct dbg_symbol {
	const char *name;   /**< borrowed, as in the symbol table (mangled) */
	uint64_t addr;      /**< its start address in the target */
	uint64_t size;
	uint64_t offset;    /**< the address asked for minus addr */
};

/**
 * The symbol containing @addr: the ELF symbol (function, object or label)
 * whose [addr, addr + size) holds it, from the module's .symtab, its
 * separate debuginfo's .symtab, or its .dynsym. The cold part of a split
 * function ("foo.cold") is its own symbol. A sizeless symbol holds what
 * follows it up to the next symbol or the end of its section. At one
 * address a global name wins over weak and local ones.
 * @return 0; -ENOENT no module there, or no symbol holds @addr (never the
 *         nearest symbol before it with an offset past its size); -EINVAL;
 *         -ENOMEM.
 * Since: 0.1 (the holding rule and -ENOMEM: 0.2)
 */
DBG_API int dbg_sym_lookup(struct dbg_sym *sym, uint64_t addr, struct dbg_symbol *ret_symbol);

/** One source location of an address: a function, inlined or not. */
struct dbg_srcloc {
	const char *function; /**< borrowed; NULL when unknown */
	const char *file;     /**< borrowed; NULL without line information */
	int line, column;     /**< 0 when unknown */
	bool inlined;         /**< function was inlined into the next entry */
};

/**
 * The source locations of @addr, innermost first: for code inlined into
 * other code, the inlined function at the line of @addr, then each caller
 * at the line of its call, ending with the function that holds the
 * machine code (named as the symbol table names the part or clone that
 * holds @addr, "foo.cold", when the symbol is the DWARF name plus a
 * dotted suffix). For a return address, pass the address minus one.
 * Under DBG_SYM_NO_DWARF: one entry, the symbol's name, no file or line.
 * @param locs  filled with up to @cap entries.
 * @return the number of entries the chain has (may exceed @cap); at least
 *         1 when @addr is in a module (a symbol name without lines when
 *         there is no DWARF); -ENOENT no module there; -EINVAL.
 */
DBG_API int dbg_sym_srclocs(struct dbg_sym *sym, uint64_t addr,
			    struct dbg_srcloc *locs, size_t cap);

/**
 * The address of the function or object called @name (as in the symbol
 * table). With several matches the first module in address order wins,
 * the main executable before libraries.
 * @return 0; -ENOENT; -EINVAL.
 */
DBG_API int dbg_sym_addr(struct dbg_sym *sym, const char *name, uint64_t *ret_addr);

/**
 * Demangle a C++ (Itanium ABI) or Rust (legacy and v0) symbol name.
 * @param buf  receives the demangled name, NUL-terminated, cut to @cap.
 * @return the length of the whole demangled name (may be >= @cap, as
 *         snprintf); -EINVAL @name is not a mangled name (or @buf is NULL
 *         with @cap > 0). Thread-safe; allocates nothing the caller owns.
 * Since: 0.2
 */
DBG_API int dbg_sym_demangle(const char *name, char *buf, size_t cap);

DBG_END_DECLS

#endif /* DBG_SYM_H */
