/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hardware breakpoints and watchpoints in the debug registers of every
 * thread (DR0-DR3 addresses, DR7 control), DR6 decoding. See
 * doc/runcontrol.md, "Hardware breakpoints and watchpoints".
 *
 * The model is a wanted state per thread: the pieces of every active
 * watch that applies to the thread, at most four, each in a slot. A
 * change (insert, remove, a new thread) marks the threads it touches
 * dirty; a stopped thread is programmed at once, a running one is
 * stopped for it, and anything else (a new thread before its first
 * instruction, a group-stopped one) in the prepare hook, before it runs.
 * Every register written is first recorded in regs.c's dr_saved, so the
 * regs detach hook gives back what the thread had before us.
 *
 * Kernel behaviour this relies on (arch/x86/kernel/ptrace.c,
 * hw_breakpoint.c, traps.c, process.c in Linux 6.x):
 * - PTRACE_POKEUSER of DR0-3 registers a disabled perf breakpoint at that
 *   address (1 byte, write) and refuses kernel addresses (-EINVAL); DR7
 *   then enables it with the length and type of its field, checking the
 *   address's alignment against the length.
 * - DR6 as PTRACE_PEEKUSER reads it is a per-thread copy the kernel
 *   rewrites at each debug exception: BS from the hardware, B0-B3 for the
 *   breakpoints that fired. An int3 does not touch it, so we clear the
 *   bits we decoded.
 * - si_code is TRAP_TRACE when BS is set, TRAP_HWBKPT otherwise.
 * - An instruction breakpoint is a fault: the kernel sets EFLAGS.RF in the
 *   thread's saved flags, so the resumed instruction runs without firing
 *   again. When BS and an instruction breakpoint come together the
 *   breakpoint is left for the next exception.
 * - copy_thread() gives a new thread (and a fork child) no breakpoints
 *   but copies the parent's DR7 value as PEEKUSER shows it.
 * - exec flushes all of them (flush_ptrace_hw_breakpoint()).
 */
#include "internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#define NSLOTS 4
#define DR6_BS (1ull << 14)
/* The end of user space with 5-level paging. Below it the kernel decides
 * (with 4-level paging user space ends at 2^47 - 4096). */
#define USER_END ((1ull << 56) - 4096)

struct piece {
	uint64_t addr;
	uint8_t ctl; /* DBG__WATCH_CTL_USED | rw | len << 2 */
};

struct dbg_watch {
	struct dbg_watch *next;
	uint64_t addr;
	size_t len;
	enum dbg_watch_kind kind;
	pid_t tid;       /* 0: every thread */
	uint64_t hits;
	bool active;
	int npieces;
	struct piece piece[NSLOTS];
};

static long dr_off(int i)
{
	return (long)(offsetof(struct user, u_debugreg) + (size_t)i * sizeof(long));
}

/* DR7 R/W field: 00 execute, 01 write, 11 read or write. */
static uint8_t rw_bits(enum dbg_watch_kind k)
{
	return k == DBG_WATCH_EXEC ? 0 : k == DBG_WATCH_WRITE ? 1 : 3;
}

/* DR7 LEN field: 00 1 byte, 01 2, 11 4, 10 8. */
static uint8_t len_bits(size_t n)
{
	return n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 3 : 2;
}

/* The enable and control bits of slot @i in DR7. */
static uint64_t slot_mask(int i)
{
	return (3ull << (2 * i)) | (0xfull << (16 + 4 * i));
}

static uint64_t encode_dr7(const uint8_t ctl[NSLOTS])
{
	uint64_t v = 0;
	for (int i = 0; i < NSLOTS; i++)
		if (ctl[i])
			v |= 1ull << (2 * i) | (uint64_t)(ctl[i] & 0xf) << (16 + 4 * i);
	return v;
}

/* Split [addr, addr + len) exactly into naturally aligned pieces of 1, 2,
 * 4 or 8 bytes, largest first. Returns how many it takes (the first
 * NSLOTS are stored), or NSLOTS + 1 once it is sure to be more. */
static int split(uint64_t addr, size_t len, uint8_t rw, struct piece *out)
{
	int n = 0;
	while (len && n <= NSLOTS) {
		size_t s = 8;
		while (s > 1 && ((addr & (s - 1)) || s > len))
			s >>= 1;
		if (n < NSLOTS) {
			out[n].addr = addr;
			out[n].ctl = DBG__WATCH_CTL_USED | rw | len_bits(s) << 2;
		}
		n++;
		addr += s;
		len -= s;
	}
	return n;
}

static bool applies(const struct dbg_watch *w, pid_t tid)
{
	return w->active && (w->tid == 0 || w->tid == tid);
}

/*
 * The wanted registers of thread @t (NULL: a thread not yet born, which
 * gets the watches of every thread only). Pieces already in a slot stay
 * there, so a change rewrites only what changes. Returns the number of
 * distinct pieces; more than NSLOTS means they do not fit (the slots are
 * then not all filled).
 */
static int plan(struct dbg_proc *p, const struct dbg__thread *t, uint64_t addr[NSLOTS],
		uint8_t ctl[NSLOTS])
{
	struct piece want[4 * NSLOTS];
	int n = 0;
	pid_t tid = t ? t->tid : 0;
	for (struct dbg_watch *w = p->watch.list; w; w = w->next) {
		if (!applies(w, tid) || (!t && w->tid))
			continue;
		for (int k = 0; k < w->npieces; k++) {
			bool dup = false;
			for (int j = 0; j < n && !dup; j++)
				dup = want[j].addr == w->piece[k].addr && want[j].ctl == w->piece[k].ctl;
			if (!dup && n < (int)DBG__ARRAY_SIZE(want))
				want[n++] = w->piece[k];
			else if (!dup)
				return n + 1;
		}
	}
	memset(ctl, 0, NSLOTS);
	memset(addr, 0, NSLOTS * sizeof(*addr));
	if (n > NSLOTS)
		return n;
	bool placed[4 * NSLOTS] = { false };
	if (t && t->watch.cur_valid)
		for (int j = 0; j < n; j++)
			for (int i = 0; i < NSLOTS; i++)
				if (!ctl[i] && t->watch.cur_ctl[i] == want[j].ctl &&
				    t->watch.cur_addr[i] == want[j].addr) {
					ctl[i] = want[j].ctl;
					addr[i] = want[j].addr;
					placed[j] = true;
					break;
				}
	for (int j = 0; j < n; j++) {
		if (placed[j])
			continue;
		for (int i = 0; i < NSLOTS; i++)
			if (!ctl[i]) {
				ctl[i] = want[j].ctl;
				addr[i] = want[j].addr;
				break;
			}
	}
	return n;
}

/* Read what a thread we have not programmed yet has. A slot enabled in
 * DR7 with no address is the copy of a parent's DR7 that a new thread
 * gets without the breakpoints behind it (copy_thread()): not a
 * breakpoint, and not something to restore at detach. */
static int load_current(struct dbg_proc *p, struct dbg__thread *t)
{
	struct dbg__watch_thread *wt = &t->watch;
	long v[8];
	static const int idx[] = { 0, 1, 2, 3, 7 };
	for (size_t k = 0; k < DBG__ARRAY_SIZE(idx); k++) {
		errno = 0;
		v[idx[k]] = ptrace(PTRACE_PEEKUSER, t->tid, dr_off(idx[k]), 0);
		if (errno)
			return dbg__fail(p, -errno, "PTRACE_PEEKUSER DR%d of thread %d", idx[k], t->tid);
	}
	uint64_t dr7 = (uint64_t)v[7], clean = dr7;
	for (int i = 0; i < NSLOTS; i++) {
		wt->cur_addr[i] = (uint64_t)v[i];
		wt->cur_ctl[i] = 0;
		if (!((dr7 >> (2 * i)) & 3))
			continue;
		if (v[i] == 0)
			clean &= ~slot_mask(i);
		else
			wt->cur_ctl[i] = DBG__WATCH_CTL_USED | ((dr7 >> (16 + 4 * i)) & 0xf);
	}
	wt->cur_dr7 = clean;
	wt->dr7_stale = clean != dr7;
	wt->cur_valid = true;
	return 0;
}

/* Write DR@idx of stopped @t, first recording its old value for the regs
 * module's detach (once per register, as dbg_regs_set_debugreg does). */
static int dr_write(struct dbg_proc *p, struct dbg__thread *t, int idx, uint64_t val)
{
	if (!(t->dr_saved_mask & (1u << idx))) {
		t->dr_saved[idx] = idx == 7 ? (t->watch.dr7_stale ? 0 : t->watch.cur_dr7)
					    : t->watch.cur_addr[idx];
		t->dr_saved_mask |= 1u << idx;
	}
	if (ptrace(PTRACE_POKEUSER, t->tid, dr_off(idx), (long)val) == 0)
		return 0;
	int e = errno;
	if (e == ESRCH)
		return dbg__fail(p, -ESRCH, "thread %d is gone", t->tid);
	if (e == ENOSPC)
		return dbg__fail(p, -ENOSPC, "DR7 = %#llx in thread %d: the kernel has no free "
				 "breakpoint slot (perf or another user of hardware breakpoints "
				 "holds them)", (unsigned long long)val, t->tid);
	if (idx < NSLOTS)
		return dbg__fail(p, -EINVAL, "the kernel refused DR%d = %#llx in thread %d (not a "
				 "user-space address)", idx, (unsigned long long)val, t->tid);
	return dbg__fail(p, e == EIO ? -EINVAL : -e, "the kernel refused DR%d = %#llx in thread %d",
			 idx, (unsigned long long)val, t->tid);
}

/* Bring stopped thread @t's registers to its wanted state. */
static int program(struct dbg_proc *p, struct dbg__thread *t)
{
	struct dbg__watch_thread *wt = &t->watch;
	uint64_t addr[NSLOTS];
	uint8_t ctl[NSLOTS];
	int n = plan(p, t, addr, ctl);
	if (n > NSLOTS)
		return dbg__fail(p, -ENOSPC, "thread %d would need %d debug registers", t->tid, n);
	if (!wt->cur_valid) {
		if (n == 0) {
			/* Never touched, nothing wanted: leave it as it is. */
			wt->dirty = false;
			return 0;
		}
		int r = load_current(p, t);
		if (r < 0)
			return r;
	}
	/* Disable the slots that change first: a new address under an
	 * enabled slot is checked against its old length and type. */
	uint64_t mid = wt->cur_dr7;
	for (int i = 0; i < NSLOTS; i++)
		if (wt->cur_ctl[i] && (wt->cur_ctl[i] != ctl[i] || wt->cur_addr[i] != addr[i]))
			mid &= ~slot_mask(i);
	int r;
	if (mid != wt->cur_dr7) {
		if ((r = dr_write(p, t, 7, mid)) < 0)
			return r;
		wt->cur_dr7 = mid;
		wt->dr7_stale = false;
		for (int i = 0; i < NSLOTS; i++)
			if (!(mid & slot_mask(i)))
				wt->cur_ctl[i] = 0;
	}
	for (int i = 0; i < NSLOTS; i++)
		if (ctl[i] && wt->cur_addr[i] != addr[i]) {
			if ((r = dr_write(p, t, i, addr[i])) < 0)
				return r;
			wt->cur_addr[i] = addr[i];
		}
	uint64_t dr7 = encode_dr7(ctl);
	if (dr7 != wt->cur_dr7 || wt->dr7_stale) {
		if ((r = dr_write(p, t, 7, dr7)) < 0)
			return r;
		wt->cur_dr7 = dr7;
		wt->dr7_stale = false;
	}
	memcpy(wt->cur_ctl, ctl, sizeof(ctl));
	wt->dirty = false;
	return 0;
}

/* Was an event of @tid queued after the first @since entries? (One queued
 * before may name a thread the caller has resumed since.) */
static bool event_queued(const struct dbg_proc *p, pid_t tid, size_t since)
{
	const struct dbg__event_queue *q = &p->events;
	for (size_t i = since; i < q->len; i++)
		if (q->ev[(q->head + i) % q->cap].tid == tid)
			return true;
	return false;
}

/*
 * Program every dirty thread that can be now: stopped ones; running ones
 * are stopped for it and let go again unless they stopped for an event
 * of their own (queued). A new thread that has not stopped yet and a
 * group-stopped one are programmed in the prepare hook before they run.
 * Returns the first error (its message kept), ignoring threads that died,
 * or -ESRCH when all of them had.
 */
static int sync_all(struct dbg_proc *p)
{
	size_t n = p->nthreads;
	pid_t *tids = malloc((n ? n : 1) * sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (p->threads[i].watch.dirty)
			tids[k++] = p->threads[i].tid;
	int err = 0;
	size_t gone = 0, done = 0;
	char msg[sizeof(p->errmsg)] = "";
	for (size_t i = 0; i < k && !p->exited; i++) {
		struct dbg__thread *t = dbg__thread_find(p, tids[i]);
		if (!t || !t->watch.dirty)
			continue;
		int r = 0;
		if (t->state == T_STOPPED) {
			r = program(p, t);
		} else if (t->state == T_RUNNING && !t->expect_initial_stop) {
			size_t queued = p->events.len;
			r = dbg_proc_stop_thread(p, tids[i]);
			t = dbg__thread_find(p, tids[i]);
			if (r == -ESRCH || r == -ENOENT || !t) {
				gone++; /* it exited: its exit is queued */
				continue;
			}
			if (r == 0 && t->state == T_STOPPED)
				r = program(p, t);
			else if (r == 0)
				continue; /* group-stopped: the prepare hook does it */
			if (t->state == T_STOPPED && !event_queued(p, tids[i], queued)) {
				int rr = dbg_proc_resume_thread(p, tids[i]);
				if (r == 0 && rr < 0 && rr != -ESRCH)
					r = rr;
			}
		}
		if (r == -ESRCH)
			gone++;
		else if (r == 0)
			done++;
		if (r < 0 && r != -ESRCH && !err) {
			err = r;
			snprintf(msg, sizeof(msg), "%s", p->errmsg);
		}
	}
	free(tids);
	if (err)
		snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg);
	else if (gone && !done)
		/* Killed under our feet: every thread is gone, its exit
		 * status not yet reaped. */
		err = dbg__fail(p, -ESRCH, "the threads of %d are gone (killed?)", p->pid);
	return err;
}

static void mark_dirty(struct dbg_proc *p, const struct dbg_watch *w)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (w->tid == 0 || w->tid == p->threads[i].tid)
			p->threads[i].watch.dirty = true;
}

static void unlink_watch(struct dbg_proc *p, struct dbg_watch *w)
{
	for (struct dbg_watch **pp = &p->watch.list; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			if (w->active)
				p->watch.nactive--;
			return;
		}
}

static const char *kind_name(enum dbg_watch_kind k)
{
	return k == DBG_WATCH_EXEC ? "exec" : k == DBG_WATCH_WRITE ? "write" : "read/write";
}

/* ---- public --------------------------------------------------------- */

int dbg_watch_insert_thread(struct dbg_proc *p, pid_t tid, uint64_t addr, size_t len,
			    enum dbg_watch_kind kind, struct dbg_watch **ret_watch)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!ret_watch || tid < 0)
		return -EINVAL;
	if (kind != DBG_WATCH_EXEC && kind != DBG_WATCH_WRITE && kind != DBG_WATCH_READWRITE)
		return dbg__fail(p, -EINVAL, "unknown watch kind %d", (int)kind);
	if (len == 0)
		return dbg__fail(p, -EINVAL, "a watch of 0 bytes at %#llx", (unsigned long long)addr);
	if (kind == DBG_WATCH_EXEC && len != 1)
		return dbg__fail(p, -EINVAL, "a hardware breakpoint (DBG_WATCH_EXEC) is 1 byte, "
				 "not %zu", len);
	if (addr + len < addr || addr + len > USER_END)
		return dbg__fail(p, -EINVAL, "%zu bytes at %#llx: not a user-space address (kernel "
				 "space or not canonical); the kernel watches user addresses only",
				 len, (unsigned long long)addr);
	if (p->exited)
		return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	if (p->foreign_arch)
		return dbg__fail(p, -DBG_ERRNO_ARCH, "pid %d runs a %s program", p->pid,
				 p->foreign_arch);
	struct dbg__thread *only = tid ? dbg__thread_find(p, tid) : NULL;
	if (tid && (!only || only->state == T_EXITED))
		return dbg__fail(p, -ENOENT, "no thread %d in process %d", tid, p->pid);
	struct dbg_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->addr = addr;
	w->len = len;
	w->kind = kind;
	w->tid = tid;
	w->active = true;
	w->npieces = split(addr, len, rw_bits(kind), w->piece);
	if (w->npieces > NSLOTS) {
		free(w);
		return dbg__fail(p, -ENOSPC, "%zu bytes at %#llx take more than 4 debug registers "
				 "(aligned pieces of 1, 2, 4 or 8 bytes, one register each; a thread "
				 "has 4)", len, (unsigned long long)addr);
	}
	/* Does it fit in every thread it applies to, and in threads to come? */
	uint64_t a[NSLOTS];
	uint8_t c[NSLOTS];
	for (size_t i = 0; i <= p->nthreads; i++) {
		const struct dbg__thread *t = i < p->nthreads ? &p->threads[i] : NULL;
		if (t ? t->state == T_EXITED || (tid && t->tid != tid) : tid != 0)
			continue;
		int before = plan(p, t, a, c);
		w->next = p->watch.list;
		p->watch.list = w;
		int after = plan(p, t, a, c);
		p->watch.list = w->next;
		if (after > NSLOTS) {
			int need = w->npieces;
			free(w);
			if (t)
				return dbg__fail(p, -ENOSPC, "no free debug register in thread %d: "
						 "%d of its 4 are in use, the %s watch of %zu bytes at "
						 "%#llx needs %d", t->tid, before, kind_name(kind), len,
						 (unsigned long long)addr, need);
			return dbg__fail(p, -ENOSPC, "no free debug register: %d of 4 are in use "
					 "by the watches of every thread, the %s watch of %zu bytes at "
					 "%#llx needs %d", before, kind_name(kind), len,
					 (unsigned long long)addr, need);
		}
	}
	/* Append: the oldest watch is reported first. */
	struct dbg_watch **pp = &p->watch.list;
	while (*pp)
		pp = &(*pp)->next;
	w->next = NULL;
	*pp = w;
	p->watch.nactive++;
	p->watch.used = true;
	mark_dirty(p, w);
	r = sync_all(p);
	if (r < 0 || p->exited) {
		char msg[sizeof(p->errmsg)];
		snprintf(msg, sizeof(msg), "%s", p->errmsg);
		unlink_watch(p, w);
		w->active = false;
		mark_dirty(p, w);
		if (!p->exited)
			sync_all(p);
		free(w);
		if (p->exited)
			return dbg__fail(p, -ESRCH, "process %d exited", p->pid);
		snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg);
		return r;
	}
	*ret_watch = w;
	return 0;
}

int dbg_watch_insert(struct dbg_proc *p, uint64_t addr, size_t len, enum dbg_watch_kind kind,
		     struct dbg_watch **ret_watch)
{
	return dbg_watch_insert_thread(p, 0, addr, len, kind, ret_watch);
}

int dbg_watch_remove(struct dbg_proc *p, struct dbg_watch *w)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!w)
		return -EINVAL;
	struct dbg_watch *x = p->watch.list;
	while (x && x != w)
		x = x->next;
	if (!x)
		return dbg__fail(p, -EINVAL, "not a watch of process %d", p->pid);
	bool was_active = w->active;
	unlink_watch(p, w);
	w->active = false;
	/* Queued reports of it are dropped, as bp drops a removed
	 * breakpoint's (in non-stop their threads are resumed: nobody else
	 * would); one that also ended a single-step stays, without a
	 * watch, for the step module. None may point at freed memory. */
	struct dbg__event_queue *q = &p->events;
	size_t keep = 0;
	pid_t resume[64];
	size_t nresume = 0;
	for (size_t i = 0; i < q->len; i++) {
		struct dbg_event *ev = &q->ev[(q->head + i) % q->cap];
		if (ev->kind == DBG_EVENT_WATCHPOINT && ev->watch == w) {
			struct dbg__thread *t = dbg__thread_find(p, ev->tid);
			if (t && !t->watch.stepped && !t->step.active) {
				t->watch.fired = 0;
				if (nresume < DBG__ARRAY_SIZE(resume))
					resume[nresume++] = ev->tid;
				continue;
			}
			ev->watch = NULL;
		}
		q->ev[(q->head + keep++) % q->cap] = *ev;
	}
	q->len = keep;
	int err = 0;
	if (p->exited) {
		err = dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	} else if (was_active) {
		mark_dirty(p, w);
		err = sync_all(p);
	}
	free(w);
	if (p->bp.mode != DBG_RUNCTL_ALL_STOP && !p->exited)
		for (size_t i = 0; i < nresume; i++)
			dbg_proc_resume_thread(p, resume[i]);
	else if (nresume)
		dbg__runctl_release(p);
	return err;
}

uint64_t dbg_watch_addr(const struct dbg_watch *w)
{
	return w ? w->addr : 0;
}

size_t dbg_watch_len(const struct dbg_watch *w)
{
	return w ? w->len : 0;
}

enum dbg_watch_kind dbg_watch_kind(const struct dbg_watch *w)
{
	return w ? w->kind : (enum dbg_watch_kind)0;
}

pid_t dbg_watch_thread(const struct dbg_watch *w)
{
	return w ? w->tid : 0;
}

uint64_t dbg_watch_hits(const struct dbg_watch *w)
{
	return w ? w->hits : 0;
}

int dbg_watch_nregs(const struct dbg_watch *w)
{
	return w ? w->npieces : 0;
}

int dbg_watch_active(const struct dbg_watch *w)
{
	return w && w->active;
}

/* ---- hooks ---------------------------------------------------------- */

bool dbg__watch_stepped(const struct dbg__thread *t)
{
	return t->watch.fired && t->watch.stepped;
}

int dbg__watch_claim(struct dbg_proc *p, struct dbg__thread *t, struct dbg_event *ev)
{
	if (ev->kind != DBG_EVENT_TRAP || ev->signo != SIGTRAP ||
	    (ev->siginfo.code != TRAP_HWBKPT && ev->siginfo.code != TRAP_TRACE))
		return D_NONE;
	struct dbg__watch_thread *wt = &t->watch;
	uint8_t armed = 0;
	for (int i = 0; i < NSLOTS; i++)
		if (wt->cur_ctl[i])
			armed |= 1u << i;
	/* A hit of a register we have since disarmed: the debug exception
	 * came while the watch was armed, but its SIGTRAP was still queued
	 * when our interrupt stopped the thread (the kernel takes a jobctl
	 * trap before it dequeues signals), the registers were reprogrammed
	 * then, and the SIGTRAP is dequeued after the resume. TRAP_HWBKPT
	 * with a B0-3 bit set comes only from DR0-3, which only a tracer
	 * sets: once this module has used them, it is ours. Delivered, it
	 * would kill the program. */
	bool hw = ev->siginfo.code == TRAP_HWBKPT && p->watch.used;
	if (!armed && !hw)
		return D_NONE; /* a plain step costs no system call */
	errno = 0;
	long dr6 = ptrace(PTRACE_PEEKUSER, t->tid, dr_off(6), 0);
	if (errno)
		return D_NONE;
	uint8_t fired = (uint8_t)((uint64_t)dr6 & armed);
	uint8_t stale = hw ? (uint8_t)((uint64_t)dr6 & 0xf & ~armed) : 0;
	if (!fired && !stale)
		return D_NONE;
	/* An int3 or a signal later leaves the kernel's DR6 copy as it is:
	 * clear what we decoded so it is not decoded twice. BS stays for
	 * whoever looks at the step. */
	ptrace(PTRACE_POKEUSER, t->tid, dr_off(6),
	       (long)((uint64_t)dr6 & ~(uint64_t)(fired | stale)));
	bool stepped = (uint64_t)dr6 & DR6_BS;
	struct dbg_watch *hit = NULL;
	uint64_t hit_addr = 0;
	for (struct dbg_watch *w = p->watch.list; w; w = w->next) {
		if (!applies(w, t->tid))
			continue;
		bool match = false;
		for (int i = 0; i < NSLOTS && !match; i++) {
			if (!(fired & (1u << i)))
				continue;
			for (int k = 0; k < w->npieces && !match; k++)
				if (w->piece[k].addr == wt->cur_addr[i] && w->piece[k].ctl == wt->cur_ctl[i]) {
					match = true;
					if (!hit) {
						hit = w;
						hit_addr = wt->cur_addr[i];
					}
				}
		}
		if (match)
			w->hits++;
	}
	t->pending_sig = 0;
	dbg__log(p, DBG_LOG_DEBUG, "watch: thread %d DR6 %#lx armed %#x fired %#x stale %#x: %s",
		 t->tid, dr6, armed, fired, stale, hit ? "a watch" : "none of ours");
	if (!hit) {
		/* A register of a watch removed while this thread ran (not
		 * yet reprogrammed, or since disarmed: stale): ours, and
		 * nobody's to report. A step that ended with it is still the
		 * step module's. */
		return stepped ? D_NONE : D_QUIET;
	}
	wt->fired = fired;
	wt->stepped = stepped;
	ev->kind = DBG_EVENT_WATCHPOINT;
	ev->watch = hit;
	ev->addr = hit_addr;
	return D_REPORT;
}

static enum dbg__disposition watch_on_stop(struct dbg_proc *p, struct dbg__thread *t,
					   struct dbg_event *ev)
{
	return (enum dbg__disposition)dbg__watch_claim(p, t, ev);
}

static int watch_on_setup(struct dbg_proc *p)
{
	p->watch.setup_done = true;
	return 0;
}

static void watch_on_clone(struct dbg_proc *p, struct dbg__thread *t)
{
	memset(&t->watch, 0, sizeof(t->watch));
	/* Found while attaching: whatever it has is read when first needed. */
	if (!p->watch.setup_done)
		return;
	/* A new thread: no breakpoints, its parent's DR7 value. Programmed
	 * before its first instruction when watches exist. */
	t->watch.cur_valid = true;
	t->watch.dr7_stale = true;
	t->watch.dirty = p->watch.nactive > 0;
}

static int watch_on_prepare(struct dbg_proc *p, struct dbg__thread *t, int *req)
{
	(void)req;
	if (!t->watch.dirty)
		return 0;
	int r = program(p, t);
	if (r < 0 && r != -ESRCH)
		dbg__log(p, DBG_LOG_WARN, "programming the debug registers of thread %d: %s", t->tid,
			 p->errmsg);
	return 0;
}

static void watch_on_resume(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)p;
	t->watch.fired = 0;
	t->watch.stepped = false;
}

static void watch_on_exec(struct dbg_proc *p, struct dbg__thread *t)
{
	unsigned int n = 0;
	for (struct dbg_watch *w = p->watch.list; w; w = w->next)
		if (w->active) {
			w->active = false;
			n++;
		}
	p->watch.nactive = 0;
	/* flush_ptrace_hw_breakpoint(): nothing left, DR7 reads 0. */
	memset(&t->watch, 0, sizeof(t->watch));
	t->watch.cur_valid = true;
	if (n)
		dbg__log(p, DBG_LOG_INFO, "exec in %d: the kernel cleared the debug registers; "
			 "%u watches dropped", t->tid, n);
}

/* A fork child has no breakpoints but shows the forking thread's DR7:
 * make it show the truth, so that its own handle (or anyone attaching
 * later) does not take it for breakpoints to keep or restore. A followed
 * child is stopped at its first stop for that; an unfollowed one is
 * already gone from us (the write fails, and it runs untraced). */
static void watch_on_fork(struct dbg_proc *p, struct dbg__thread *t, pid_t child, bool followed)
{
	if (!t->watch.cur_valid || (!t->watch.cur_dr7 && !t->watch.dr7_stale))
		return;
	struct dbg__child *c = dbg__child_find(p, child);
	if (followed && c && !c->stopped) {
		int st;
		pid_t r;
		while ((r = waitpid(child, &st, __WALL)) < 0 && errno == EINTR)
			;
		if (r == child && WIFSTOPPED(st))
			c->stopped = true;
		else if (r == child)
			dbg__child_remove(p, c);
		if (r != child || !WIFSTOPPED(st))
			return;
	}
	ptrace(PTRACE_POKEUSER, child, dr_off(7), 0L);
}

/* The regs module (before us) has given back every register we wrote.
 * A new thread we never had to program still shows its parent's DR7. */
static void watch_on_detach(struct dbg_proc *p, struct dbg__thread *t)
{
	if (p->watch.used && t->watch.dr7_stale)
		ptrace(PTRACE_POKEUSER, t->tid, dr_off(7), 0L);
}

static void watch_on_fini(struct dbg_proc *p)
{
	struct dbg_watch *w = p->watch.list;
	while (w) {
		struct dbg_watch *n = w->next;
		free(w);
		w = n;
	}
	p->watch.list = NULL;
}

const struct dbg__hooks dbg__watch_hooks = {
	.name = "watch",
	.setup = watch_on_setup,
	.prepare = watch_on_prepare,
	.resume = watch_on_resume,
	.stop = watch_on_stop,
	.exec = watch_on_exec,
	.fork = watch_on_fork,
	.clone = watch_on_clone,
	.detach = watch_on_detach,
	.fini = watch_on_fini,
};
