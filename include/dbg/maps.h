/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/maps.h
 * The target's VMA table, parsed from /proc/PID/maps, and single-address
 * lookups through the PROCMAP_QUERY ioctl (Linux 6.11+).
 */
#ifndef DBG_MAPS_H
#define DBG_MAPS_H

#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;
struct dbg_maps;

/** dbg_vma.prot bits. */
enum dbg_prot {
	DBG_PROT_READ = 1u << 0,
	DBG_PROT_WRITE = 1u << 1,
	DBG_PROT_EXEC = 1u << 2,
};

/** dbg_vma.flags bits. */
enum dbg_vma_flags {
	DBG_VMA_SHARED = 1u << 0,    /**< 's' in maps, else private 'p' */
	DBG_VMA_DELETED = 1u << 1,   /**< the file was deleted; path has no suffix */
	DBG_VMA_SPECIAL = 1u << 2,   /**< [heap], [stack], [vdso], [anon:x] ... */
};

/** One VMA. Strings are borrowed from the table that holds it. */
struct dbg_vma {
	uint64_t start, end;   /**< [start, end) */
	uint64_t offset;       /**< file offset of start */
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	uint32_t prot;         /**< enum dbg_prot */
	uint32_t flags;        /**< enum dbg_vma_flags */
	/** File path, "[heap]"-style name, or "" for anonymous memory. */
	const char *name;
};

/**
 * Parse the text of a maps file (@len bytes, need not be NUL-terminated).
 * Lines must be complete and well formed; anything else fails with
 * -DBG_ERRNO_PARSE and no table. Entries must be sorted and disjoint, as
 * the kernel writes them.
 * @param ret_maps  owned; free with dbg_maps_free().
 * @return 0; -DBG_ERRNO_PARSE; -ENOMEM; -EINVAL.
 * Since: 0.1. Thread-safe.
 */
DBG_API int dbg_maps_parse(const char *text, size_t len, struct dbg_maps **ret_maps);

/** Free a table from dbg_maps_parse(). NULL-safe. */
DBG_API void dbg_maps_free(struct dbg_maps *maps);

/** Number of VMAs in @maps. */
DBG_API size_t dbg_maps_count(const struct dbg_maps *maps);

/** The @idx-th VMA in address order (borrowed), or NULL past the end. */
DBG_API const struct dbg_vma *dbg_maps_get(const struct dbg_maps *maps, size_t idx);

/** The VMA containing @addr (borrowed), or NULL if @addr is in a hole. */
DBG_API const struct dbg_vma *dbg_maps_find(const struct dbg_maps *maps, uint64_t addr);

/**
 * The target's current VMA table (borrowed from @proc). It is re-read
 * when stale: after the target ran, after exec, or after a read found a
 * VMA missing. The pointer is valid until the next call on @proc.
 * @return 0; -ESRCH; -EXDEV; -DBG_ERRNO_PARSE; -ENOMEM.
 */
DBG_API int dbg_proc_maps(struct dbg_proc *proc, const struct dbg_maps **ret_maps);

/**
 * Look up the VMA containing @addr now, with PROCMAP_QUERY where the
 * kernel has it (no full re-read), else from a fresh parse. The name is
 * copied into @name_buf (may be NULL) and ret_vma->name points to it.
 * @return 0; -ENOENT @addr is in a hole; -ESRCH; -EXDEV.
 */
DBG_API int dbg_proc_vma_query(struct dbg_proc *proc, uint64_t addr,
			       struct dbg_vma *ret_vma, char *name_buf,
			       size_t name_len);

DBG_END_DECLS

#endif /* DBG_MAPS_H */
