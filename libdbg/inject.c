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
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static const uint8_t syscall_insn[2] = { 0x0f, 0x05 };

/* A `syscall` instruction in the [vdso] (its fallback paths have one),
 * looked for once per address space (bp.c forgets it at exec). */
uint64_t dbg__find_syscall_insn(struct dbg_proc *p)
{
	if (p->bp.syscall_insn)
		return p->bp.syscall_insn;
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
		p->bp.syscall_insn = at;
		return at;
	}
	return 0;
}

/*
 * The one injection loop: stopped thread @t runs system call @nr at the
 * `syscall` instruction at @at, and only @t is waited for (never through
 * dbg_proc_wait(), so other threads' events stay where they are and this
 * is safe inside the wait path itself, which displaced stepping needs).
 * A fork/vfork/clone event stop goes through event.c so the child is
 * tracked (the event itself is consumed: *ret_child); a signal that
 * arrives first is kept in t->pending_sig (*ret_sig) for the thread's
 * next resume. The general registers come back exactly as they were.
 */
int dbg__syscall_in_thread(struct dbg_proc *p, struct dbg__thread *t, uint64_t at, long nr,
			   const uint64_t a[6], int64_t *ret, pid_t *ret_child, int *ret_sig)
{
	pid_t tid = t->tid;
	struct user_regs_struct saved, call;
	if (ptrace(PTRACE_GETREGS, tid, 0, &saved) < 0)
		return -errno;
	call = saved;
	call.rax = nr;
	call.orig_rax = (unsigned long long)-1;
	call.rdi = a[0];
	call.rsi = a[1];
	call.rdx = a[2];
	call.r10 = a[3];
	call.r8 = a[4];
	call.r9 = a[5];
	call.rip = at;
	if (ptrace(PTRACE_SETREGS, tid, 0, &call) < 0)
		return -errno;
	t->regs_valid = false;
	enum dbg__tstate state = t->state;
	int keep_sig = 0, r = 0;
	if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) < 0)
		r = -errno;
	while (r == 0) {
		int st;
		pid_t w = dbg__bp_waitpid(p, tid, &st, false);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 || !WIFSTOPPED(st)) {
			if (w == tid) {
				struct dbg_event ev;
				t->state = T_RUNNING;
				if (dbg__handle_status(p, tid, st, &ev) == D_REPORT)
					dbg__event_push(p, &ev);
			}
			return dbg__fail(p, -ESRCH, "the target died during an injected system call");
		}
		/* An event stop inside the call (its pc is past the
		 * instruction already), then the step's trap after it. */
		unsigned int event = (unsigned)st >> 16;
		if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
		    event == PTRACE_EVENT_CLONE) {
			struct dbg_event ev;
			t->state = T_RUNNING;
			if (dbg__handle_status(p, tid, st, &ev) == D_REPORT && ret_child)
				*ret_child = ev.child;
			t = dbg__thread_find(p, tid);
			if (!t)
				return -ESRCH;
			if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) < 0)
				r = -ESRCH;
			continue;
		}
		/* A signal before the step's trap: keep it for later. */
		if (event == 0 && WSTOPSIG(st) != SIGTRAP && !keep_sig)
			keep_sig = WSTOPSIG(st);
		struct user_regs_struct now;
		if (ptrace(PTRACE_GETREGS, tid, 0, &now) < 0)
			return -ESRCH;
		if (now.rip == at + 2 && event != PTRACE_EVENT_STOP) {
			*ret = (int64_t)now.rax;
			break;
		}
		if (event == PTRACE_EVENT_STOP)
			t->interrupt_pending = false;
		if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) < 0)
			r = -ESRCH;
	}
	if (ptrace(PTRACE_SETREGS, tid, 0, &saved) < 0 && r == 0)
		r = -errno;
	t->state = state;
	t->regs_valid = false;
	p->mem.generation++;
	if (keep_sig && !t->pending_sig)
		t->pending_sig = keep_sig;
	if (ret_sig)
		*ret_sig = keep_sig;
	return r;
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
	if (ret_child)
		*ret_child = 0;
	uint64_t at = dbg__find_syscall_insn(p);
	uint8_t orig[2];
	bool patched = false;
	if (!at) {
		struct dbg_regs regs;
		r = dbg_regs_get(p, tid, &regs);
		if (r < 0)
			return r;
		at = regs.rip;
		if (dbg_mem_read(p, at, orig, 2) != 2 || dbg_mem_write(p, at, syscall_insn, 2) != 2)
			return dbg__fail(p, -EFAULT, "no place for a syscall instruction at %#llx",
					 (unsigned long long)at);
		patched = true;
	}
	int sig = 0;
	r = dbg__syscall_in_thread(p, t, at, nr, args, ret_result, ret_child, &sig);
	if (r == -ESRCH)
		return r;   /* nothing left to restore */
	if (patched && dbg_mem_write(p, at, orig, 2) != 2 && r == 0)
		r = -EIO;
	if (r == 0 && sig)
		r = -EINTR;
	return r;
}
