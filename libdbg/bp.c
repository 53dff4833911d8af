/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Software breakpoints: int3 bytes written through the memory layer's
 * own writers, the shadow that mem.c applies to every read and write,
 * run control's trap interpreter for int3 (the stop hook), and the resume
 * policy for a thread standing on a breakpoint (the prepare hook): step
 * over it in place while every other thread is stopped, else as a
 * displaced copy (displaced.c), else with the others stopped for the
 * step. fork, vfork and exec are handled here too; the r_debug module
 * events in rdebug.c. See doc/runcontrol.md.
 */
#include "internal.h"
#include "bp-impl.h"

#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define INT3 0xcc

/* ---- sites and handles ---------------------------------------------- */

/* The index of the first site at or above @addr. */
static size_t site_lower(const struct dbg__bp_proc *b, uint64_t addr)
{
	size_t lo = 0, hi = b->nsites;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (b->sites[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct dbg__bp_site *dbg__bp_site_find(struct dbg_proc *p, uint64_t addr)
{
	struct dbg__bp_proc *b = &p->bp;
	size_t lo = site_lower(b, addr);
	return lo < b->nsites && b->sites[lo].addr == addr ? &b->sites[lo] : NULL;
}

/* Write one byte into the target, past page protections: /proc/PID/mem
 * (FOLL_FORCE), else PTRACE_POKEDATA through a stopped thread. Not the
 * public writer: that one keeps int3s in place. */
int dbg__bp_poke(struct dbg_proc *p, pid_t pid, int mem_fd, uint64_t addr, const void *buf,
		 size_t len)
{
	p->mem.generation++;
	if (mem_fd >= 0 && pwrite(mem_fd, buf, len, (off_t)addr) == (ssize_t)len)
		return 0;
	pid_t tid = pid;
	if (pid == p->pid || pid == p->mm_tid) {
		struct dbg__thread *t = dbg__any_stopped(p);
		if (!t)
			return -DBG_ERRNO_RUNNING;
		tid = t->tid;
	}
	size_t done = 0;
	while (done < len) {
		uint64_t w = (addr + done) & ~7ull;
		size_t skip = addr + done - w, n = 8 - skip;
		if (n > len - done)
			n = len - done;
		errno = 0;
		long v = ptrace(PTRACE_PEEKDATA, tid, (void *)(uintptr_t)w, 0);
		if (errno)
			return -errno;
		memcpy((char *)&v + skip, (const char *)buf + done, n);
		if (ptrace(PTRACE_POKEDATA, tid, (void *)(uintptr_t)w, (void *)v) < 0)
			return -errno;
		done += n;
	}
	return 0;
}

static int poke_self(struct dbg_proc *p, uint64_t addr, const void *buf, size_t len)
{
	return dbg__bp_poke(p, p->pid, p->mem.mem_fd, addr, buf, len);
}

/* Put the int3 of @s in (or take it out). */
int dbg__bp_site_arm(struct dbg_proc *p, struct dbg__bp_site *s, bool arm)
{
	uint8_t b = arm ? INT3 : s->orig;
	int r = poke_self(p, s->addr, &b, 1);
	if (r == 0)
		s->lifted = !arm;
	return r;
}

static void moribund_add(struct dbg_proc *p, uint64_t addr)
{
	struct dbg__bp_proc *b = &p->bp;
	b->moribund[b->nmoribund++ % DBG__BP_MORIBUND] = addr;
}

static bool moribund_has(const struct dbg_proc *p, uint64_t addr)
{
	const struct dbg__bp_proc *b = &p->bp;
	unsigned int n = b->nmoribund < DBG__BP_MORIBUND ? b->nmoribund : DBG__BP_MORIBUND;
	for (unsigned int i = 0; i < n; i++)
		if (b->moribund[i] == addr)
			return true;
	return false;
}

/* ---- memory shared with other handles ------------------------------------ */

/* The pid whose memory @p runs on: a followed vfork child runs on its
 * parent's until it execs or exits. */
static pid_t mm_of(const struct dbg_proc *p)
{
	return p->bp.mm_owner ? p->bp.mm_owner : p->pid;
}

/* A site at @addr of another handle on the same memory (a followed vfork
 * child and its parent); @armed: only one whose int3 is in. */
static struct dbg__bp_site *peer_site(struct dbg_proc *p, uint64_t addr, bool armed)
{
	for (struct dbg_proc *q = NULL; (q = dbg__proc_next_peer(p, q));) {
		if (q->exited || mm_of(q) != mm_of(p))
			continue;
		struct dbg__bp_site *s = dbg__bp_site_find(q, addr);
		if (s && (!armed || !s->lifted))
			return s;
	}
	return NULL;
}

/* Write the original bytes of @p's sites into @pid's memory (a fork child,
 * or the parent whose memory a vfork child leaves); @unwanted: only int3s
 * in that no other handle on that memory has armed. Returns the failures. */
static int restore_in(struct dbg_proc *p, pid_t pid, bool unwanted)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDWR | O_CLOEXEC), bad = 0;
	for (size_t i = 0; i < p->bp.nsites; i++) {
		const struct dbg__bp_site *s = &p->bp.sites[i];
		if (unwanted && (s->lifted || peer_site(p, s->addr, true)))
			continue;
		if (dbg__bp_poke(p, pid, fd, s->addr, &s->orig, 1) < 0)
			bad++;
	}
	if (fd >= 0)
		close(fd);
	return bad;
}

/* A followed vfork child leaves its parent's memory (exec, exit): the
 * int3s it put there and nobody else wants go. */
static void leave_owner_mm(struct dbg_proc *p)
{
	pid_t owner = p->bp.mm_owner;
	if (!owner)
		return;
	int bad = restore_in(p, owner, true);
	p->bp.mm_owner = 0;
	if (bad)
		dbg__log(p, DBG_LOG_WARN, "%d breakpoints could not be taken out of %d, whose memory "
			 "vfork child %d ran on", bad, owner, p->pid);
}

/* Drop one reference to the site at @addr; the last one takes the int3
 * out of the target (when @write: not after an exec). */
static int site_unref(struct dbg_proc *p, uint64_t addr, bool write)
{
	struct dbg__bp_proc *b = &p->bp;
	struct dbg__bp_site *s = dbg__bp_site_find(p, addr);
	if (!s)
		return 0;
	if (--s->refs > 0)
		return 0;
	int r = 0;
	if (write && !s->lifted && !p->exited)
		r = dbg__bp_site_arm(p, s, false);
	size_t i = s - b->sites;
	memmove(&b->sites[i], &b->sites[i + 1], (b->nsites - i - 1) * sizeof(*s));
	b->nsites--;
	moribund_add(p, addr);
	return r;
}

/* A new site (or one more reference to it): reads the original byte,
 * writes the int3. */
int dbg__bp_site_ref(struct dbg_proc *p, uint64_t addr)
{
	struct dbg__bp_proc *b = &p->bp;
	struct dbg__bp_site *s = dbg__bp_site_find(p, addr);
	if (s) {
		s->refs++;
		return 0;
	}
	uint8_t orig;
	const struct dbg__bp_site *ps = peer_site(p, addr, false);
	ssize_t n = ps ? 1 : dbg_mem_read(p, addr, &orig, 1);
	if (ps)
		orig = ps->orig; /* the byte there may be a peer's int3 */
	if (n != 1)
		return n < 0 ? (int)n : -EFAULT;
	if (b->nsites == b->cap_sites) {
		size_t cap = b->cap_sites ? b->cap_sites * 2 : 16;
		void *m = realloc(b->sites, cap * sizeof(*b->sites));
		if (!m)
			return -ENOMEM;
		b->sites = m;
		b->cap_sites = cap;
	}
	size_t i = site_lower(b, addr);
	memmove(&b->sites[i + 1], &b->sites[i], (b->nsites - i) * sizeof(*b->sites));
	b->nsites++;
	s = &b->sites[i];
	memset(s, 0, sizeof(*s));
	s->addr = addr;
	s->orig = orig;
	s->refs = 1;
	s->lifted = true;
	int r = b->vfork_lifted ? 0 : dbg__bp_site_arm(p, s, true);
	if (r < 0) {
		memmove(&b->sites[i], &b->sites[i + 1], (b->nsites - i - 1) * sizeof(*s));
		b->nsites--;
		return r == -DBG_ERRNO_RUNNING ? r : -EFAULT;
	}
	return 0;
}

static int handle_add(struct dbg_proc *p, struct dbg_bp *bp)
{
	struct dbg__bp_proc *b = &p->bp;
	if (b->nbps == b->cap_bps) {
		size_t cap = b->cap_bps ? b->cap_bps * 2 : 16;
		void *m = realloc(b->bps, cap * sizeof(*b->bps));
		if (!m)
			return -ENOMEM;
		b->bps = m;
		b->cap_bps = cap;
	}
	b->bps[b->nbps++] = bp;
	return 0;
}

static void handle_drop(struct dbg_proc *p, struct dbg_bp *bp)
{
	struct dbg__bp_proc *b = &p->bp;
	for (size_t i = 0; i < b->nbps; i++)
		if (b->bps[i] == bp) {
			memmove(&b->bps[i], &b->bps[i + 1], (b->nbps - i - 1) * sizeof(bp));
			b->nbps--;
			return;
		}
}

static bool handle_known(const struct dbg_proc *p, const struct dbg_bp *bp)
{
	for (size_t i = 0; i < p->bp.nbps; i++)
		if (p->bp.bps[i] == bp)
			return true;
	return false;
}

/* Threads stopped at @addr right now step over a new breakpoint there
 * rather than report it (they did not hit it); with !@step_over
 * (DBG_BP_STANDING_HIT) they hit it when resumed, even one that stopped
 * there by hitting an earlier breakpoint. */
static void mark_standing(struct dbg_proc *p, uint64_t addr, bool step_over)
{
	for (size_t i = 0; i < p->nthreads; i++) {
		struct dbg__thread *t = &p->threads[i];
		uint64_t pc;
		if (t->state == T_STOPPED && dbg__bp_get_pc(t, &pc) == 0 && pc == addr)
			t->bp.on_site = step_over ? addr : 0;
	}
}

struct dbg_bp *dbg__bp_new(struct dbg_proc *p, uint64_t addr, unsigned int flags, pid_t tid,
			   bool internal, int *ret_err)
{
	struct dbg_bp *bp = calloc(1, sizeof(*bp));
	if (!bp) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	bp->proc = p;
	bp->addr = addr;
	bp->flags = flags;
	bp->tid = tid;
	bp->internal = internal;
	int r = handle_add(p, bp);
	if (r == 0)
		r = dbg__bp_site_ref(p, addr);
	if (r < 0) {
		handle_drop(p, bp);
		free(bp);
		*ret_err = r;
		return NULL;
	}
	bp->inserted = true;
	mark_standing(p, addr, !(flags & DBG_BP_STANDING_HIT));
	return bp;
}

int dbg_bp_insert(struct dbg_proc *p, uint64_t addr, const struct dbg_bp_opts *opts,
		  struct dbg_bp **ret_bp)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!ret_bp || !dbg__opts_valid(opts, sizeof(*opts)))
		return -EINVAL;
	unsigned int flags = opts ? opts->flags : 0;
	pid_t tid = opts ? opts->tid : 0;
	if (flags & ~(unsigned)(DBG_BP_TEMPORARY | DBG_BP_STANDING_HIT))
		return dbg__fail(p, -EINVAL, "unknown breakpoint flags %#x", flags);
	if (tid < 0 || (tid && !dbg__thread_find(p, tid)))
		return dbg__fail(p, -EINVAL, "no thread %d in process %d", tid, p->pid);
	if (p->exited)
		return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	struct dbg_bp *bp = dbg__bp_new(p, addr, flags, tid, false, &r);
	if (!bp)
		return dbg__fail(p, r, "cannot insert a breakpoint at %#llx in %d",
				 (unsigned long long)addr, p->pid);
	*ret_bp = bp;
	return 0;
}

/* Take @bp out of the target (the handle stays). */
static int bp_uninsert(struct dbg_proc *p, struct dbg_bp *bp)
{
	if (!bp->inserted)
		return 0;
	bp->inserted = false;
	return site_unref(p, bp->addr, true);
}

void dbg__bp_free(struct dbg_proc *p, struct dbg_bp *bp)
{
	bp_uninsert(p, bp);
	handle_drop(p, bp);
	free(bp);
}

/* Queued hits of @bp, not yet reported, go with it: the threads stand at
 * its address (pc rewound) and run the original instruction when resumed.
 * In non-stop nobody would resume them, so they are resumed here. */
static void scrub_queue(struct dbg_proc *p, struct dbg_bp *bp)
{
	struct dbg__event_queue *q = &p->events;
	size_t keep = 0;
	pid_t resume[64];
	size_t nresume = 0;
	for (size_t i = 0; i < q->len; i++) {
		struct dbg_event *e = &q->ev[(q->head + i) % q->cap];
		if (e->kind == DBG_EVENT_BREAKPOINT && e->bp == bp) {
			if (nresume < DBG__ARRAY_SIZE(resume))
				resume[nresume++] = e->tid;
			continue;
		}
		q->ev[(q->head + keep++) % q->cap] = *e;
	}
	q->len = keep;
	if (p->bp.mode == DBG_RUNCTL_ALL_STOP) {
		dbg__runctl_release(p);
		return;
	}
	for (size_t i = 0; i < nresume; i++)
		dbg_proc_resume_thread(p, resume[i]);
}

/*
 * All-stop: events were dropped from the queue (their breakpoint or watch
 * was removed). If they were what held back the caller's last
 * dbg_proc_resume() and nothing else queued names a stopped thread, do
 * that resume now; otherwise every thread stays stopped with no event to
 * report, and a dbg_proc_wait() waits for nothing (bp_real: a breakpoint
 * removed right after a resume in a program whose threads all hit it).
 */
void dbg__runctl_release(struct dbg_proc *p)
{
	if (p->bp.mode != DBG_RUNCTL_ALL_STOP || !p->bp.resume_held || p->exited)
		return;
	const struct dbg__event_queue *q = &p->events;
	for (size_t i = 0; i < q->len; i++) {
		const struct dbg__thread *t = dbg__thread_find(p, q->ev[(q->head + i) % q->cap].tid);
		if (t && t->state == T_STOPPED)
			return;
	}
	dbg_proc_resume(p);
}

int dbg_bp_remove(struct dbg_proc *p, struct dbg_bp *bp)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!bp || !handle_known(p, bp))
		return -EINVAL;
	if (bp == p->bp.rbrk)
		p->bp.rbrk = NULL;
	bool gone = p->exited;
	r = bp_uninsert(p, bp);
	handle_drop(p, bp);
	scrub_queue(p, bp);
	free(bp);
	if (gone)
		return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	return r < 0 ? dbg__fail(p, r, "removing a breakpoint in %d", p->pid) : 0;
}

int dbg_bp_info(const struct dbg_bp *bp, struct dbg_bp_info *ret)
{
	if (!bp || !ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	ret->addr = bp->addr;
	ret->hits = bp->hits;
	ret->flags = bp->flags;
	ret->tid = bp->tid;
	ret->inserted = bp->inserted;
	return bp->dropped || bp->proc->exited ? -ESRCH : 0;
}

uint64_t dbg_bp_addr(const struct dbg_bp *bp)
{
	return bp ? bp->addr : 0;
}

uint64_t dbg_bp_hits(const struct dbg_bp *bp)
{
	return bp ? bp->hits : 0;
}

int dbg_bp_list(struct dbg_proc *p, struct dbg_bp **buf, size_t cap)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!buf && cap)
		return -EINVAL;
	size_t n = 0;
	for (size_t i = 0; i < p->bp.nbps; i++) {
		if (p->bp.bps[i]->internal)
			continue;
		if (n < cap)
			buf[n] = p->bp.bps[i];
		n++;
	}
	return (int)n;
}

int dbg_runctl_set_mode(struct dbg_proc *p, enum dbg_runctl_mode mode)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (mode != DBG_RUNCTL_NON_STOP && mode != DBG_RUNCTL_ALL_STOP)
		return -EINVAL;
	p->bp.mode = mode;
	return 0;
}

int dbg_runctl_mode(const struct dbg_proc *p)
{
	return p ? p->bp.mode : -EINVAL;
}

int dbg_bp_get_stats(const struct dbg_proc *p, struct dbg_bp_stats *ret)
{
	if (!p || !ret)
		return -EINVAL;
	*ret = p->bp.stats;
	return 0;
}

/* ---- the shadow (mem.c) ---------------------------------------------- */

void dbg__bp_shadow_read(struct dbg_proc *p, uint64_t addr, void *buf, size_t len)
{
	const struct dbg__bp_proc *b = &p->bp;
	if (!b->nsites || !len)
		return;
	for (size_t i = site_lower(b, addr); i < b->nsites && b->sites[i].addr - addr < len; i++)
		((uint8_t *)buf)[b->sites[i].addr - addr] = b->sites[i].orig;
}

const void *dbg__bp_shadow_write(struct dbg_proc *p, uint64_t addr, const void *buf, size_t len,
				 void **ret_copy)
{
	struct dbg__bp_proc *b = &p->bp;
	*ret_copy = NULL;
	if (!b->nsites || !len)
		return buf;
	/* An instruction that starts up to 15 bytes before the write may
	 * change: decode it again when needed. */
	for (size_t k = site_lower(b, addr > 15 ? addr - 15 : 0);
	     k < b->nsites && b->sites[k].addr < addr + len; k++)
		b->sites[k].decoded = false;
	size_t i = site_lower(b, addr);
	if (i >= b->nsites || b->sites[i].addr - addr >= len)
		return buf;
	uint8_t *copy = malloc(len);
	if (!copy)
		return NULL;
	memcpy(copy, buf, len);
	for (; i < b->nsites && b->sites[i].addr - addr < len; i++) {
		struct dbg__bp_site *s = &b->sites[i];
		s->orig = copy[s->addr - addr];
		if (!s->lifted)
			copy[s->addr - addr] = INT3;
	}
	*ret_copy = copy;
	return copy;
}

/* ---- registers -------------------------------------------------------- */

#define RIP_OFF offsetof(struct user, regs.rip)

int dbg__bp_get_pc(struct dbg__thread *t, uint64_t *ret)
{
	if (t->regs_valid) {
		*ret = t->regs.rip;
		return 0;
	}
	errno = 0;
	long v = ptrace(PTRACE_PEEKUSER, t->tid, (void *)RIP_OFF, 0);
	if (errno)
		return -errno;
	*ret = (uint64_t)v;
	return 0;
}

int dbg__bp_set_pc(struct dbg__thread *t, uint64_t pc)
{
	if (ptrace(PTRACE_POKEUSER, t->tid, (void *)RIP_OFF, (void *)(uintptr_t)pc) < 0)
		return -errno;
	if (t->regs_valid)
		t->regs.rip = pc;
	return 0;
}

/* ---- the stop hook ------------------------------------------------------ */

/* SIGKILL is pending for @tid or its process (or it is gone). */
static bool killed(struct dbg_proc *p, pid_t tid)
{
	char path[96], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", p->pid, tid);
	if (dbg__read_file(path, buf, sizeof(buf)) <= 0)
		return true;
	const char *keys[] = { "\nSigPnd:\t", "\nShdPnd:\t" };
	for (int i = 0; i < 2; i++) {
		const char *s = strstr(buf, keys[i]);
		if (s && (strtoull(s + 9, NULL, 16) & (1ull << (SIGKILL - 1))))
			return true;
	}
	return false;
}

/* The breakpoint at @addr to report for thread @tid, or NULL (all of
 * them filter it out). */
static struct dbg_bp *pick(struct dbg_proc *p, uint64_t addr, pid_t tid)
{
	for (size_t i = 0; i < p->bp.nbps; i++) {
		struct dbg_bp *bp = p->bp.bps[i];
		if (bp->addr == addr && bp->inserted && (!bp->tid || bp->tid == tid))
			return bp;
	}
	return NULL;
}

static enum dbg__disposition bp_stop(struct dbg_proc *p, struct dbg__thread *t,
				     struct dbg_event *ev)
{
	bool sigtrap = ev->signo == SIGTRAP &&
		       (ev->kind == DBG_EVENT_TRAP || ev->kind == DBG_EVENT_SIGNAL);
	if (t->bp.stepping_off) {
		/* Our own single-step (step-off, displaced copy) ended: a
		 * SIGTRAP that is not an int3 (TRAP_TRACE, or SI_USER when the
		 * step entered a signal handler). */
		t->bp.stepping_off = false;
		if (sigtrap && ev->siginfo.code != SI_KERNEL) {
			t->bp.stepped = true;
			t->pending_sig = 0;
			return t->bp.user_step ? D_NONE : D_QUIET;
		}
	}
	if (t->bp.step_pending) {
		t->bp.step_pending = false;
		if (sigtrap && ev->siginfo.code != SI_KERNEL) {
			t->pending_sig = 0;
			return t->bp.user_step ? D_NONE : D_QUIET;
		}
	}
	uint64_t pc0;
	if (sigtrap && ev->siginfo.code != SI_KERNEL && p->bp.nsites &&
	    dbg__bp_get_pc(t, &pc0) == -ESRCH)
		return D_QUIET; /* killed out of the stop (no siginfo): its exit follows */
	if (ev->kind != DBG_EVENT_TRAP || ev->signo != SIGTRAP || ev->siginfo.code != SI_KERNEL)
		return D_NONE;
	/* All the registers at once: emulating the instruction on resume
	 * needs them, and it is one request like PEEKUSER of the pc. */
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs) < 0)
		return D_QUIET; /* killed out of its stop: its exit follows */
	t->regs_valid = true;
	uint64_t pc = t->regs.rip;
	uint64_t a = pc - 1;
	struct dbg__bp_site *s = dbg__bp_site_find(p, a);
	if (!s) {
		/* A trap of a breakpoint removed after the thread hit it
		 * (non-stop): ours if the byte there is no int3 now. */
		uint8_t now;
		if (moribund_has(p, a) && dbg_mem_read(p, a, &now, 1) == 1 && now != INT3 &&
		    dbg__bp_set_pc(t, a) == 0) {
			t->pending_sig = 0;
			p->bp.stats.late_traps++;
			return D_QUIET;
		}
		/* Not ours: delivered, as without us; unless the process
		 * is being killed (this stop raced with the SIGKILL). */
		bool k = killed(p, t->tid);
		dbg__log(p, DBG_LOG_DEBUG, "int3 trap of %d at %#llx is not a breakpoint of ours%s",
			 t->tid, (unsigned long long)a, k ? " (being killed)" : "");
		return k ? D_QUIET : D_NONE;
	}
	if (dbg__bp_set_pc(t, a) < 0)
		return D_QUIET; /* killed in the meantime: its exit follows */
	t->pending_sig = 0;
	t->bp.on_site = a;
	struct dbg_bp *bp = pick(p, a, t->tid);
	if (!bp && t->bp.internal_addr == a) {
		/* A module's own breakpoint for this thread: its stop hook
		 * (after ours) claims the stop, before any step-off. */
		t->bp.internal_hit = true;
		return D_NONE;
	}
	if (!bp) {
		p->bp.stats.silent++;
		return D_QUIET;
	}
	if (bp->internal)
		return dbg__rdebug_hit(p, t, bp, ev);
	bp->hits++;
	p->bp.stats.hits++;
	t->bp.reported++;
	ev->kind = DBG_EVENT_BREAKPOINT;
	ev->bp = bp;
	ev->addr = a;
	if (bp->flags & DBG_BP_TEMPORARY)
		bp_uninsert(p, bp);
	return D_REPORT;
}

/* ---- stepping off ------------------------------------------------------- */

/*
 * waitpid(@tid) that cannot hang on a dying process: a killed leader's
 * status comes only once every other thread is reaped (delay_group_leader
 * in kernel/exit.c), and nobody reaps them while we wait here. So the
 * leader is polled, and a leader that is a zombie (or has SIGKILL
 * pending) ends the wait with 0: gone, its status left for later.
 * @nohang: one look only. Returns the pid, 0, or -1 with errno.
 */
pid_t dbg__bp_waitpid(struct dbg_proc *p, pid_t tid, int *st, bool nohang)
{
	/* Alone, the leader's exit is not delayed by anyone. */
	if ((tid != p->pid || p->nthreads == 1) && !nohang)
		return waitpid(tid, st, __WALL);
	long ns = 5000;
	int64_t last = dbg__now_ns();
	for (int spin = 0;; spin++) {
		pid_t w = waitpid(tid, st, __WALL | WNOHANG);
		if (w != 0 || nohang)
			return w;
		/* A step takes microseconds: spin a little before sleeping. */
		if (spin < 2000) {
			sched_yield();
			continue;
		}
		if (dbg__now_ns() - last > 10000000) {
			last = dbg__now_ns();
			struct dbg__task_status ts;
			char path[64], buf[2048];
			if (dbg__task_status(tid, &ts) < 0 || ts.state == 'Z' || ts.state == 'X')
				return 0;
			snprintf(path, sizeof(path), "/proc/%d/status", tid);
			const char *s;
			if (dbg__read_file(path, buf, sizeof(buf)) > 0 &&
			    (s = strstr(buf, "\nSigPnd:\t")) &&
			    (strtoull(s + 9, NULL, 16) & (1ull << (SIGKILL - 1))))
				return 0;
		}
		struct timespec t = { 0, ns };
		nanosleep(&t, NULL);
		if (ns < 1000000)
			ns *= 2;
	}
}

/*
 * Wait for @tid alone after we resumed it, and put the status through
 * event.c like any other (events it makes are queued). @slow: the
 * instruction may block in the kernel (a system call): give up waiting
 * once the thread is inside it (/proc/TID/syscall names the call and a pc
 * past @addr), which is as good as stepped for putting the int3 back.
 * Returns 1 stepped, 0 stopped for something else (or still in its slow
 * call: *ret_pending), -ESRCH gone.
 */
int dbg__bp_wait_step(struct dbg_proc *p, pid_t tid, uint64_t addr, bool slow, bool *ret_pending)
{
	*ret_pending = false;
	int64_t start = dbg__now_ns();
	for (;;) {
		int st;
		pid_t w = dbg__bp_waitpid(p, tid, &st, slow);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 || (w == 0 && !slow))
			return -ESRCH;
		if (w == 0) {
			/* Still running: is it in the call already? */
			char path[64], buf[256];
			snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", p->pid, tid);
			unsigned long long nr, a[6], sp, pc;
			if (dbg__read_file(path, buf, sizeof(buf)) > 0 &&
			    sscanf(buf, "%llu %llx %llx %llx %llx %llx %llx %llx %llx", &nr, &a[0],
				   &a[1], &a[2], &a[3], &a[4], &a[5], &sp, &pc) == 9 &&
			    pc > addr && pc <= addr + 16 && dbg__now_ns() - start > 1000000) {
				*ret_pending = true;
				return 0;
			}
			struct dbg__task_status ts;
			if (dbg__now_ns() - start > 10000000 &&
			    (dbg__task_status(tid, &ts) < 0 || ts.state == 'Z' || ts.state == 'X'))
				return -ESRCH;
			struct timespec nap = { 0, 20000 };
			nanosleep(&nap, NULL);
			continue;
		}
		struct dbg__thread *t = dbg__thread_find(p, tid);
		struct dbg_event ev;
		enum dbg__disposition d = dbg__handle_status(p, tid, st, &ev);
		if (d == D_REPORT)
			dbg__event_push(p, &ev);
		t = dbg__thread_find(p, tid);
		if (!t || t->state == T_EXITED)
			return -ESRCH;
		if (t->bp.stepped) {
			t->bp.stepped = false;
			return 1;
		}
		if (t->state != T_STOPPED)
			continue;
		if (d == D_QUIET && !t->group_stop) {
			/* An interrupt left over from a stop-all: step again. */
			t->bp.stepping_off = true;
			if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) < 0)
				return -ESRCH;
			t->state = T_RUNNING;
			continue;
		}
		t->bp.stepping_off = false;
		return 0;
	}
}

/* Single-step @t over the instruction at @a with the int3 out, every
 * other thread stopped (or not able to reach @a: paused). 1: done, the
 * thread stopped after it; 0: stopped for another reason (event
 * queued) or left running inside a slow call; <0. */
static int step_inplace(struct dbg_proc *p, struct dbg__thread *t, uint64_t a, bool user_step,
			bool slow)
{
	pid_t tid = t->tid;
	struct dbg__bp_site *s = dbg__bp_site_find(p, a);
	if (s && !s->lifted) {
		int r = dbg__bp_site_arm(p, s, false);
		if (r < 0)
			return r;
	}
	t->bp.stepping_off = true;
	t->bp.stepped = false;
	t->bp.user_step = user_step;
	int sig = t->pending_sig;
	long pr = ptrace(PTRACE_SINGLESTEP, tid, 0, sig);
	int r;
	bool pending = false;
	if (pr < 0) {
		t->bp.stepping_off = false;
		r = -errno;
	} else {
		t->pending_sig = 0;
		t->state = T_RUNNING;
		dbg__hook_resume(p, t);
		r = dbg__bp_wait_step(p, tid, a, slow, &pending);
	}
	/* Put the int3 back (the site may be gone: an exec, a removal). */
	s = dbg__bp_site_find(p, a);
	if (s && s->lifted && !p->exited && !p->bp.vfork_lifted)
		dbg__bp_site_arm(p, s, true);
	t = dbg__thread_find(p, tid);
	if (t && pending) {
		t->bp.stepping_off = false;
		t->bp.step_pending = true;
	}
	if (t && r == 0 && !pending && t->state == T_STOPPED) {
		uint64_t pc;
		if (dbg__bp_get_pc(t, &pc) == 0 && pc == a)
			t->bp.on_site = a; /* not stepped yet */
	}
	p->bp.stats.inplace++;
	return r;
}

const struct dbg__insn *dbg__bp_site_insn(struct dbg_proc *p, uint64_t a)
{
	struct dbg__bp_site *s = dbg__bp_site_find(p, a);
	if (!s)
		return NULL;
	if (!s->decoded) {
		if (dbg__insn_decode(p, a, &s->insn) < 0)
			return NULL;
		s = dbg__bp_site_find(p, a); /* the read may not move sites, but be sure */
		if (!s)
			return NULL;
		s->decoded = true;
	}
	return &s->insn;
}

/* A system call instruction (may block): step-offs of it wait only until
 * the thread is inside the call. */
static bool slow_insn(struct dbg_proc *p, uint64_t a)
{
	const struct dbg__insn *d = dbg__bp_site_insn(p, a);
	return d && d->syscall;
}

static bool others_running(const struct dbg_proc *p, const struct dbg__thread *t)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (&p->threads[i] != t && p->threads[i].state == T_RUNNING)
			return true;
	return false;
}

/*
 * The prepare hook: @t is about to be resumed with *req. If it stands on
 * a breakpoint it hit, execute the original instruction first so no
 * other thread can run past the breakpoint meanwhile.
 */
/* Is @t stopped inside a system call that the kernel restarts when it
 * resumes (rax -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND or
 * -ERESTART_RESTARTBLOCK, orig_rax the call): its pc is the return
 * address, and the kernel moves it back two bytes onto the `syscall`
 * instruction as it resumes. */
static bool in_restarting_syscall(struct dbg__thread *t)
{
	long rax, orig;
	if (t->regs_valid) {
		rax = (long)t->regs.rax;
		orig = (long)t->regs.orig_rax;
	} else {
		errno = 0;
		orig = ptrace(PTRACE_PEEKUSER, t->tid, (void *)offsetof(struct user, regs.orig_rax), 0);
		rax = errno ? 0 : ptrace(PTRACE_PEEKUSER, t->tid, (void *)offsetof(struct user, regs.rax), 0);
		if (errno)
			return false;
	}
	return orig >= 0 && (rax == -512 || rax == -513 || rax == -514 || rax == -516);
}

static int bp_prepare(struct dbg_proc *p, struct dbg__thread *t, int *req)
{
	uint64_t a = t->bp.on_site, pc = 0;
	if (!a || p->exited)
		return 0;
	struct dbg__bp_site *s = dbg__bp_site_find(p, a);
	if (!s || s->lifted || dbg__bp_get_pc(t, &pc) < 0 || pc != a) {
		t->bp.on_site = 0;
		return 0;
	}
	/* A thread blocked in a call whose return address is @a (the
	 * breakpoint went in meanwhile) has not begun the instruction
	 * there: it finishes the call, then meets the breakpoint. Stepping
	 * it off would be wrong: the restarted call goes two bytes back
	 * from the pc, which for a displaced copy is outside the scratch
	 * page (a forking thread in waitpid died of SIGSEGV under gdb's
	 * `next` in another thread, gdb.threads/next-fork-other-thread). */
	if (in_restarting_syscall(t)) {
		t->bp.on_site = 0;
		return 0;
	}
	pid_t tid = t->tid;
	/* A step in progress that single-steps: the instruction off the
	 * breakpoint is its own, whatever request proc passes. */
	bool user_step = *req == PTRACE_SINGLESTEP || dbg__step_wants_single(t);
	int r;
again:
	/* The common first instructions of a function are done for the
	 * thread: no step, no other thread involved. */
	r = user_step ? 0 : dbg__bp_emulate(p, t, a);
	if (r == 1) {
		t->bp.on_site = 0;
		return 0;
	}
	if (r < 0)
		return r;
	if (!others_running(p, t)) {
		r = step_inplace(p, t, a, user_step, slow_insn(p, a));
	} else {
		r = user_step ? -ENOTSUP : dbg__displaced_step(p, t, a);
		if (r == -ENOTSUP) {
			/* Cannot be displaced: hold the others for the step. */
			pid_t *paused = NULL;
			size_t n = 0;
			r = dbg__runctl_pause(p, tid, &paused, &n);
			t = dbg__thread_find(p, tid);
			if (r == 0 && t && t->state == T_STOPPED) {
				p->bp.stats.paused++;
				r = step_inplace(p, t, a, user_step, slow_insn(p, a));
			} else if (r == 0) {
				r = -ESRCH;
			}
			dbg__runctl_unpause(p, paused, n);
			free(paused);
		}
	}
	t = dbg__thread_find(p, tid);
	if (r < 0)
		return r;
	if (!t)
		return -ESRCH;
	if (r == 0)
		return 1; /* stopped for an event (queued), or runs on by itself */
	t->bp.on_site = 0;
	if (user_step)
		return 1; /* that was the caller's step; its trap is queued */
	/* A rep-prefixed string instruction traps after each round with
	 * the pc still on it: step it again until it is done. */
	if (dbg__bp_get_pc(t, &pc) == 0 && pc == a && dbg__bp_site_find(p, a))
		goto again;
	return 0;
}

/* ---- module-internal breakpoints ---------------------------------------- */

int dbg__bp_internal_insert(struct dbg_proc *p, pid_t tid, uint64_t addr, int owner)
{
	struct dbg__thread *t = dbg__thread_find(p, tid);
	if (!t)
		return -ENOENT;
	if (t->bp.internal_addr)
		dbg__bp_internal_remove(p, t);
	int r = dbg__bp_site_ref(p, addr);
	if (r < 0)
		return r;
	t = dbg__thread_find(p, tid);
	if (!t) {
		site_unref(p, addr, true);
		return -ENOENT;
	}
	t->bp.internal_addr = addr;
	t->bp.internal_owner = owner;
	t->bp.internal_hit = false;
	mark_standing(p, addr, true);
	return 0;
}

void dbg__bp_internal_remove(struct dbg_proc *p, struct dbg__thread *t)
{
	uint64_t a = t->bp.internal_addr;
	t->bp.internal_addr = 0;
	t->bp.internal_owner = 0;
	t->bp.internal_hit = false;
	if (a && !p->bp.detached)
		site_unref(p, a, true);
}

bool dbg__bp_internal_hit(struct dbg__thread *t, int owner)
{
	bool hit = t->bp.internal_hit && t->bp.internal_owner == owner;
	t->bp.internal_hit = false;
	return hit;
}

uint64_t dbg__bp_quiet_count(const struct dbg_proc *p)
{
	return p->bp.stats.silent + p->bp.stats.late_traps;
}

bool dbg__bp_stepping_off(const struct dbg__thread *t)
{
	return t->bp.stepping_off;
}

bool dbg__bp_stepped_off(const struct dbg__thread *t)
{
	return t->bp.stepped;
}

uint32_t dbg__bp_reported(const struct dbg__thread *t)
{
	return t->bp.reported;
}

static void bp_resume(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)p;
	t->bp.on_site = 0;
}

/* ---- fork, vfork, exec, detach ------------------------------------------- */

/* Write every original byte into @child's memory. */
static void clean_child(struct dbg_proc *p, pid_t child)
{
	int bad = restore_in(p, child, false);
	if (bad)
		dbg__log(p, DBG_LOG_WARN, "%d breakpoints could not be taken out of child %d", bad,
			 child);
}

static void lift_all(struct dbg_proc *p, bool lift)
{
	for (size_t i = 0; i < p->bp.nsites; i++) {
		struct dbg__bp_site *s = &p->bp.sites[i];
		if (s->lifted != lift)
			dbg__bp_site_arm(p, s, !lift);
	}
}

static void bp_fork(struct dbg_proc *p, struct dbg__thread *t, pid_t child, bool followed)
{
	(void)t;
	bool vfork = p->vforking;
	if (!p->bp.nsites || followed)
		return;
	if (!vfork) {
		clean_child(p, child);
		return;
	}
	/* The child runs on our memory until it execs or exits: take the
	 * int3s out of it (it would die on one, untraced) and put them
	 * back at VFORK_DONE. */
	lift_all(p, true);
	p->bp.vfork_lifted = true;
	dbg__log(p, DBG_LOG_DEBUG, "vfork child %d: %zu breakpoints lifted until it leaves our memory",
		 child, p->bp.nsites);
}

static void bp_vfork_done(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)t;
	if (!p->bp.vfork_lifted)
		return;
	p->bp.vfork_lifted = false;
	lift_all(p, false);
}

/* A followed child's proc, set up: the int3s it inherited are its own. */
static int bp_setup(struct dbg_proc *p)
{
	struct dbg_proc *parent = p->forked_from;
	if (!parent)
		return 0;
	p->bp.mode = parent->bp.mode;
	p->bp.mm_owner = p->vfork_child ? mm_of(parent) : 0;
	for (size_t i = 0; i < parent->bp.nbps; i++) {
		const struct dbg_bp *o = parent->bp.bps[i];
		if (!o->inserted || o->internal)
			continue;
		int err;
		/* The parent's shadow gives the original byte even if the
		 * int3 in the child's copy is there. */
		/* A thread filter names a parent's thread: none in the child
		 * but its one thread, a copy of the forking one. */
		struct dbg_bp *n = dbg__bp_new(p, o->addr, o->flags, 0, false, &err);
		if (!n)
			return err;
		struct dbg__bp_site *s = dbg__bp_site_find(p, o->addr);
		struct dbg__bp_site *ps = dbg__bp_site_find(parent, o->addr);
		if (s && ps)
			s->orig = ps->orig;
	}
	/* The parent's module-internal breakpoints (a step running to a
	 * return address) are no breakpoints of the child: put the original
	 * bytes back in its copy unless a breakpoint of its own is there. */
	for (size_t i = 0; i < parent->nthreads; i++) {
		uint64_t a = parent->threads[i].bp.internal_addr;
		struct dbg__bp_site *ps = a ? dbg__bp_site_find(parent, a) : NULL;
		if (ps && !dbg__bp_site_find(p, a))
			dbg__bp_poke(p, p->pid, p->mem.mem_fd, a, &ps->orig, 1);
	}
	return 0;
}

static void drop_all(struct dbg_proc *p, const char *why)
{
	struct dbg__bp_proc *b = &p->bp;
	size_t n = 0;
	for (size_t i = 0; i < b->nbps; i++) {
		struct dbg_bp *bp = b->bps[i];
		if (bp->inserted && !bp->internal)
			n++;
		bp->inserted = false;
		bp->dropped = true;
	}
	b->nsites = 0;
	b->nmoribund = 0;
	b->nscratch = 0;
	b->syscall_insn = 0;
	b->vfork_lifted = false;
	b->mm_owner = 0;
	for (size_t i = 0; i < p->nthreads; i++) {
		p->threads[i].bp.on_site = 0;
		p->threads[i].bp.step_pending = false;
		p->threads[i].bp.internal_addr = 0;
		p->threads[i].bp.internal_hit = false;
	}
	if (n)
		dbg__log(p, DBG_LOG_INFO, "%s: %zu breakpoints dropped (dbg_bp_info says -ESRCH)",
			 why, n);
}

static void bp_exec(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)t;
	leave_owner_mm(p);
	drop_all(p, "exec");
	/* The internal r_debug breakpoint goes with the old program. */
	if (p->bp.rbrk) {
		dbg__bp_free(p, p->bp.rbrk);
		p->bp.rbrk = NULL;
	}
	p->bp.r_debug = 0;
	if (p->bp.modules)
		dbg__rdebug_arm(p);
}

/* Before the first thread is detached (all are stopped): take every int3
 * out and unmap the scratch pages. */
static void bp_detach(struct dbg_proc *p, struct dbg__thread *t)
{
	struct dbg__bp_proc *b = &p->bp;
	if (b->detached)
		return;
	b->detached = true;
	/* A followed vfork child's int3s are in its parent's memory too:
	 * they stay for the parent (gdb takes them out of the parent first). */
	if (!b->mm_owner)
		for (size_t i = 0; i < b->nsites; i++)
			if (!b->sites[i].lifted && dbg__bp_site_arm(p, &b->sites[i], false) < 0)
				dbg__log(p, DBG_LOG_WARN, "breakpoint at %#llx could not be removed",
					 (unsigned long long)b->sites[i].addr);
	b->nsites = 0;
	/* The munmap runs in a thread that is in a plain ptrace-stop: one
	 * in a group-stop would leave it when stepped. */
	struct dbg__thread *u = t->group_stop ? NULL : t;
	for (size_t i = 0; !u && i < p->nthreads; i++)
		if (p->threads[i].state == T_STOPPED && !p->threads[i].group_stop)
			u = &p->threads[i];
	if (u)
		dbg__displaced_unmap(p, u);
	else if (b->nscratch)
		dbg__log(p, DBG_LOG_WARN, "every thread is in a group-stop: %u scratch pages left mapped",
			 b->nscratch);
}

static void bp_fini(struct dbg_proc *p)
{
	struct dbg__bp_proc *b = &p->bp;
	for (size_t i = 0; i < b->nbps; i++)
		free(b->bps[i]);
	free(b->bps);
	free(b->sites);
	dbg__displaced_fini(p);
	memset(b, 0, sizeof(*b));
}

/* A thread that ends while running free to its internal breakpoint (a
 * finish out of a function that calls pthread_exit) takes it along; the
 * last thread's exit leaves nothing to write to. */
static void bp_thread_exit(struct dbg_proc *p, struct dbg__thread *t)
{
	if (t->bp.internal_addr && p->nthreads > 1)
		dbg__bp_internal_remove(p, t);
	if (p->nthreads <= 1)
		leave_owner_mm(p); /* a vfork child's _exit */
}

const struct dbg__hooks dbg__bp_hooks = {
	.name = "bp",
	.setup = bp_setup,
	.prepare = bp_prepare,
	.resume = bp_resume,
	.stop = bp_stop,
	.exec = bp_exec,
	.fork = bp_fork,
	.vfork_done = bp_vfork_done,
	.thread_exit = bp_thread_exit,
	.detach = bp_detach,
	.fini = bp_fini,
};
