/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * System-call injection: point a stopped thread at a `syscall`
 * instruction with the call's registers, single-step it, and restore the
 * registers. orig_rax is set to -1 for the step, so the kernel's restart
 * logic for a system call the thread was stopped in does not rewind our
 * pc; the saved registers (with the original orig_rax and rax) come back
 * afterwards, so that call restarts when the thread resumes.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const uint8_t syscall_insn[2] = { 0x0f, 0x05 };

/* A `syscall` instruction in the [vdso] (its fallback paths have one). */
uint64_t dbg__find_syscall_insn(struct dbg_proc *p)
{
	const struct dbg_maps *m;
	if (dbg_proc_maps(p, &m) < 0)
		return 0;
	for (size_t i = 0; i < dbg_maps_count(m); i++) {
		const struct dbg_vma *v = dbg_maps_get(m, i);
		if (strcmp(v->name, "[vdso]") || !(v->prot & DBG_PROT_EXEC))
			continue;
		size_t len = v->end - v->start;
		uint64_t start = v->start;
		uint8_t *buf = malloc(len);
		if (!buf)
			return 0;
		ssize_t n = dbg_mem_read(p, start, buf, len);
		uint64_t at = 0;
		for (ssize_t k = 0; k + 1 < n; k++)
			if (buf[k] == syscall_insn[0] && buf[k + 1] == syscall_insn[1]) {
				at = start + k;
				break;
			}
		free(buf);
		return at;
	}
	return 0;
}

int dbg_inject_syscall(struct dbg_proc *p, pid_t tid, long nr, const uint64_t args[6],
		       int64_t *ret_result, pid_t *ret_child)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!args || !ret_result)
		return -EINVAL;
	struct dbg__thread *t;
	r = dbg__stopped_thread(p, tid, &t);
	if (r < 0)
		return r;
	if (t->pending_sig)
		return dbg__fail(p, -EBUSY, "thread %d has signal %d to deliver", tid,
				 t->pending_sig);
	struct dbg_regs saved, call;
	int signal_seen = 0;
	pid_t child = 0;
	r = dbg_regs_get(p, tid, &saved);
	if (r < 0)
		return r;
	uint64_t at = dbg__find_syscall_insn(p);
	uint8_t orig[2];
	bool patched = false;
	if (!at) {
		at = saved.rip;
		if (dbg_mem_read(p, at, orig, 2) != 2 || dbg_mem_write(p, at, syscall_insn, 2) != 2)
			return dbg__fail(p, -EFAULT, "no place for a syscall instruction at %#llx",
					 (unsigned long long)at);
		patched = true;
	}
	call = saved;
	call.rax = nr;
	call.orig_rax = (uint64_t)-1;
	call.rdi = args[0];
	call.rsi = args[1];
	call.rdx = args[2];
	call.r10 = args[3];
	call.r8 = args[4];
	call.r9 = args[5];
	call.rip = at;
	r = dbg_regs_set(p, tid, &call);
	if (r < 0)
		goto restore;
	r = dbg_proc_step_thread(p, tid);
	while (r == 0) {
		struct dbg_event ev;
		r = dbg_proc_wait(p, 10000, &ev);
		if (r < 0)
			break;
		if (ev.kind == DBG_EVENT_EXITED || ev.kind == DBG_EVENT_KILLED ||
		    (ev.kind == DBG_EVENT_THREAD_EXIT && ev.tid == tid)) {
			r = dbg__fail(p, -ESRCH, "the target died during an injected system call");
			break;
		}
		if (ev.tid != tid)
			continue;   /* others are stopped; nothing of theirs to do */
		if (ev.kind == DBG_EVENT_FORK || ev.kind == DBG_EVENT_VFORK ||
		    ev.kind == DBG_EVENT_CLONE) {
			child = ev.child;
			r = dbg_proc_step_thread(p, tid);
			continue;
		}
		if (ev.kind == DBG_EVENT_SIGNAL) {
			/* Keep it for the thread's next resume, finish the
			 * step without it. */
			if (!signal_seen)
				signal_seen = ev.signo;
			dbg_proc_set_signal(p, tid, 0);
			r = dbg_proc_step_thread(p, tid);
			continue;
		}
		if (ev.kind == DBG_EVENT_TRAP || ev.kind == DBG_EVENT_STOPPED) {
			struct dbg_regs now;
			dbg_proc_set_signal(p, tid, 0);   /* our step's SIGTRAP */
			r = dbg_regs_get(p, tid, &now);
			if (r < 0)
				break;
			if (now.rip == at + 2) {
				*ret_result = (int64_t)now.rax;
				break;
			}
			r = dbg_proc_step_thread(p, tid);
		}
	}
	if (r == -ESRCH)
		return r;   /* nothing left to restore */
	if (ret_child)
		*ret_child = child;
restore:;
	int r2 = dbg_regs_set(p, tid, &saved);
	if (patched && dbg_mem_write(p, at, orig, 2) != 2 && r2 == 0)
		r2 = -EIO;
	if (r == 0 && r2 < 0)
		r = r2;
	if (r == 0 && signal_seen) {
		/* The thread stands in a trap stop now, from which a signal
		 * given on resume is not delivered: send it again. */
		syscall(SYS_tgkill, dbg_proc_pid(p), tid, signal_seen);
		r = -EINTR;
	}
	return r;
}
