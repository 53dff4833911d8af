/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/inject.h
 * Running a system call in a stopped thread of the target, as if the
 * thread had made it, and putting the thread back exactly as it was.
 */
#ifndef DBG_INJECT_H
#define DBG_INJECT_H

#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;

/**
 * Make stopped thread @tid execute system call @nr with @args (rdi, rsi,
 * rdx, r10, r8, r9) and return its result in *ret_result (the raw rax: a
 * negative errno on failure).
 *
 * A `syscall` instruction is found in the target's [vdso]; if there is
 * none, two bytes at the thread's pc are replaced by one and restored.
 * The thread is single-stepped over it (other threads stay as they are:
 * stopped threads stay stopped), then its general registers are restored
 * exactly, so an interrupted system call restarts as it would have. The
 * thread must not be in a signal-delivery-stop with a signal to deliver
 * (-EBUSY: resume or filter it first). Only @tid is waited for: in
 * non-stop mode other threads keep running and their events stay queued
 * for dbg_proc_wait(). A fork or clone the call makes is tracked as its
 * DBG_EVENT_FORK/CLONE would be (the event itself is consumed); with
 * DBG_ATTACH_FOLLOW_FORK the child stays stopped before its first
 * instruction, and its pid is in *ret_child (may be NULL).
 *
 * @return 0 (the call ran; see *ret_result); -EBUSY; -ESRCH the target
 *         died (nothing to restore); -DBG_ERRNO_RUNNING @tid is not
 *         stopped; -EINTR a signal arrived for the thread during the call
 *         (it was kept pending for the thread and the registers restored;
 *         *ret_result then says whether the call itself completed);
 *         -EXDEV; -EINVAL.
 * Since: 0.2
 */
DBG_API int dbg_inject_syscall(struct dbg_proc *proc, pid_t tid, long nr, const uint64_t args[6],
			       int64_t *ret_result, pid_t *ret_child);

DBG_END_DECLS

#endif /* DBG_INJECT_H */
