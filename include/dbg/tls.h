/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/tls.h
 * Thread-local storage: the address of a thread's copy of a `__thread`
 * variable, without libthread_db. See doc/process.md, "Thread-local
 * storage".
 *
 * Threading and errors as in dbg/proc.h: calls from a thread other than
 * the one that made @proc fail with -EXDEV, from a forked child with
 * -ECHILD; dbg_proc_errmsg() says more after a failure.
 * Since: 0.4
 */
#ifndef DBG_TLS_H
#define DBG_TLS_H

#include <stdint.h>
#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;

/**
 * The address of the thread-local object at @offset in the TLS block of
 * one module, as thread @tid sees it (what gdb's qGetTLSAddr asks, and
 * what libthread_db's td_thr_tls_get_addr answers).
 *
 * The thread pointer is @tid's fs_base; the module's TLS block comes from
 * the thread's dynamic thread vector (DTV), at the module's TLS id. The
 * layout of the C library's structures (the DTV's place in the thread
 * descriptor, the size of a DTV entry, the TLS id's place in the link
 * map) is read from the descriptors glibc exports for libthread_db
 * (`_thread_db_pthread_dtvp`, `_thread_db_dtv_dtv`,
 * `_thread_db_link_map_l_tls_modid`, ...) in the target's libc, or in a
 * static executable's symbol table; nothing about glibc's layout is
 * compiled in but glibc's two "no static offset" values. A DTV that is
 * older than the module's TLS id (the slotinfo list's generation) is not
 * trusted; a module in the static TLS area (loaded at start-up, or
 * initial-exec TLS) is found at its fixed offset below the thread pointer
 * even where the thread's DTV lacks it. A static executable without those symbols (stripped) is
 * served for @link_map 0 from its PT_TLS header: x86_64 puts the
 * executable's block right below the thread pointer, at
 * tp - roundup(p_memsz, p_align).
 *
 * @param tid       a thread of @proc in a ptrace-stop.
 * @param link_map  the address of the module's `struct link_map` in the
 *                  target (from r_debug's list, as gdb sends it), or 0 for
 *                  the main executable (TLS module 1), the only choice in
 *                  a static executable.
 * @param offset    the variable's offset in the module's TLS block (its
 *                  st_value / DW_OP_form_tls_address operand).
 * @param ret_addr  the address, on success only.
 * @return 0; -DBG_ERRNO_TLS_UNALLOCATED the thread has no block for that
 *         module yet (glibc allocates a dlopen()ed module's block at the
 *         thread's first access; or the thread has not brought its
 *         DTV up to date since the module was loaded, or since another
 *         module's dlclose() freed the id it now has; or the thread
 *         pointer is not set up yet); -ENOENT the module has no TLS (TLS id 0, no
 *         PT_TLS); -DBG_ERRNO_UNSUPPORTED a dynamically linked target
 *         whose C library exports no descriptors (not glibc, or glibc
 *         with its dynamic symbols stripped); -DBG_ERRNO_PARSE a
 *         descriptor with a layout this code does not understand, or
 *         unreadable target memory on the way (the message says which
 *         read); -DBG_ERRNO_RUNNING / -ESRCH / -ENOENT for @tid as
 *         dbg_reg_read(); -EINVAL.
 * Since: 0.4
 */
DBG_API int dbg_tls_addr(struct dbg_proc *proc, pid_t tid, uint64_t link_map, uint64_t offset,
			 uint64_t *ret_addr);

DBG_END_DECLS

#endif /* DBG_TLS_H */
