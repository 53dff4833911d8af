/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The perf events source: one software task-clock event per thread, with
 * the user registers and the top of the user stack in every sample
 * (PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER), written by the kernel
 * into a ring buffer we mmap and read. The target never stops for a
 * sample. Events are per thread and per CPU, all of a CPU writing into one
 * ring (as perf record's). Threads a sampled thread creates inherit its
 * events (attr.inherit), announced in the ring by a PERF_RECORD_FORK: they
 * are sampled from their first instruction, with no stop. A live thread no
 * event covers (born before its creator's events were opened) gets its
 * own. Each sample becomes a snapshot for dbg_unwind_snapshot().
 */
#include "prof_internal.h"

#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The user registers asked for, in the kernel's x86 perf_regs order:
 * ax bx cx dx si di bp sp ip flags cs ss (0-11), r8-r15 (16-23). The
 * segment registers ds-gs (12-15) are refused on x86_64. */
#define REGS_MASK (((1ull << 12) - 1) | (0xffull << 16))
#define NREGS 20

static uint64_t data_pages(const struct dbg_prof *p)
{
	/* A ring per CPU, where one thread at a time runs: room for 50 ms
	 * of samples at the rate (each record keeps room for the whole
	 * stack size; the loop wakes at half full and every 20 ms), a power
	 * of two from 16 to 256 pages. */
	uint64_t per = p->o.stack_size + 256;
	uint64_t want = (uint64_t)p->o.hz * per / 20 / DBG__PAGE_SIZE;
	uint64_t n = 16;
	while (n < want && n < 256)
		n *= 2;
	return n;
}

/* The online CPUs, from /sys/devices/system/cpu/online ("0-3,6"). */
static int online_cpus(struct dbg_prof *p)
{
	char buf[1024];
	if (p->ncpus)
		return 0;
	if (dbg__read_file("/sys/devices/system/cpu/online", buf, sizeof(buf)) <= 0)
		snprintf(buf, sizeof(buf), "0-%ld", sysconf(_SC_NPROCESSORS_ONLN) - 1);
	for (char *s = buf; *s && *s != '\n';) {
		char *end;
		long lo = strtol(s, &end, 10), hi = lo;
		if (end == s)
			break;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		for (long c = lo; c <= hi && p->ncpus < DBG__PROF_MAX_CPUS; c++)
			p->cpus[p->ncpus++] = (int)c;
		s = *end == ',' ? end + 1 : end;
	}
	return p->ncpus ? 0 : -ENOENT;
}

static int open_one(struct dbg_prof *p, pid_t tid, int cpu)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	/* task-clock: time the thread runs, as a per-thread cpu-clock is;
	 * a fixed period (the kernel turns a frequency into one anyway for
	 * the hrtimer-driven software clocks). */
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.sample_period = 1000000000ull / p->o.hz;
	a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_REGS_USER |
			PERF_SAMPLE_STACK_USER;
	a.sample_regs_user = REGS_MASK;
	a.sample_stack_user = p->o.stack_size > 65528 ? 65528 : p->o.stack_size;
	/* Samples that land in the kernel (a system call, a page fault)
	 * still carry the user registers and stack of the user code that
	 * entered it, so they are counted too where allowed; with
	 * perf_event_paranoid >= 2 an unprivileged profiler gets user-mode
	 * samples only (p->user_only, said in the note). */
	a.exclude_kernel = p->user_only;
	a.exclude_hv = 1;
	a.exclude_callchain_kernel = 1;
	/* Threads it creates inherit the event; their samples go to the
	 * same per-CPU ring. The kernel refuses to mmap an inherited
	 * event of one task on any CPU (cpu == -1), hence one per CPU. */
	a.inherit = 1;
	a.task = 1; /* PERF_RECORD_FORK: inherited threads announced */
	/* Counting starts with dbg_prof_run(), not while the caller sets up. */
	a.disabled = !p->running;
	a.watermark = 1;
	a.wakeup_watermark = (uint32_t)(data_pages(p) * DBG__PAGE_SIZE / 2);
	int fd = (int)syscall(SYS_perf_event_open, &a, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM) && !p->user_only && p->npb == 0) {
		p->user_only = true;
		snprintf(p->note, sizeof(p->note), "perf events count user-mode time only "
			 "(kernel.perf_event_paranoid >= 2 without CAP_PERFMON): time the target "
			 "spends in system calls is not sampled");
		return open_one(p, tid, cpu);
	}
	return fd < 0 ? -errno : fd;
}

/* The ring of @cpu: the first event opened there maps it; every other
 * event on that CPU writes into it (PERF_EVENT_IOC_SET_OUTPUT), as perf
 * record does. */
static int attach_ring(struct dbg_prof *p, struct dbg__perfbuf *b, int ci)
{
	if (p->ring_of_cpu[ci] >= 0) {
		int leader = p->pb[p->ring_of_cpu[ci]].fd;
		return ioctl(b->fd, PERF_EVENT_IOC_SET_OUTPUT, leader) < 0 ? -errno : 0;
	}
	/* Locked memory is limited (perf_event_mlock_kb, RLIMIT_MEMLOCK)
	 * for the unprivileged: fall back to smaller rings. */
	uint64_t pages = data_pages(p);
	void *m = MAP_FAILED;
	for (; pages >= 2; pages /= 2) {
		m = mmap(NULL, (pages + 1) * DBG__PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
		if (m != MAP_FAILED || (errno != EPERM && errno != ENOMEM))
			break;
	}
	if (m == MAP_FAILED)
		return -errno;
	struct perf_event_mmap_page *mp = m;
	b->base = m;
	b->map_len = (pages + 1) * DBG__PAGE_SIZE;
	b->data_off = mp->data_offset ? mp->data_offset : DBG__PAGE_SIZE;
	b->data_size = mp->data_size ? mp->data_size : pages * DBG__PAGE_SIZE;
	p->ring_of_cpu[ci] = (int)(b - p->pb);
	return 0;
}

int dbg__prof_perf_open(struct dbg_prof *p, pid_t tid)
{
	int r = online_cpus(p);
	if (r < 0)
		return r;
	if (p->npb == 0)
		for (int i = 0; i < DBG__PROF_MAX_CPUS; i++)
			p->ring_of_cpu[i] = -1;
	if (p->npb + (size_t)p->ncpus > p->cap_pb) {
		size_t nc = (p->cap_pb ? p->cap_pb * 2 : 64) + (size_t)p->ncpus;
		struct dbg__perfbuf *n = realloc(p->pb, nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		p->pb = n;
		p->cap_pb = nc;
	}
	size_t first = p->npb;
	for (int ci = 0; ci < p->ncpus; ci++) {
		int fd = open_one(p, tid, p->cpus[ci]);
		if (fd < 0) {
			r = fd;
			goto undo;
		}
		struct dbg__perfbuf *b = &p->pb[p->npb++];
		memset(b, 0, sizeof(*b));
		b->fd = fd;
		b->tid = tid;
		r = attach_ring(p, b, ci);
		if (r < 0)
			goto undo;
	}
	return 0;
undo:
	/* Rings mapped by this call go with it. */
	while (p->npb > first) {
		struct dbg__perfbuf *b = &p->pb[--p->npb];
		if (b->base) {
			munmap(b->base, b->map_len);
			for (int ci = 0; ci < p->ncpus; ci++)
				if (p->ring_of_cpu[ci] == (int)p->npb)
					p->ring_of_cpu[ci] = -1;
		}
		close(b->fd);
	}
	return r;
}

void dbg__prof_perf_close(struct dbg_prof *p)
{
	for (size_t i = 0; i < p->npb; i++) {
		if (p->pb[i].base)
			munmap(p->pb[i].base, p->pb[i].map_len);
		close(p->pb[i].fd);
	}
	p->npb = 0;
	for (int i = 0; i < DBG__PROF_MAX_CPUS; i++)
		p->ring_of_cpu[i] = -1;
}

/* The VMA of @t's stack around @sp: cached per thread, stacks stay put. */
static void stack_vma(struct dbg_prof *p, struct dbg__pthr *t, uint64_t sp, size_t len,
		      uint64_t *lo, uint64_t *hi)
{
	if (t && sp >= t->vma_lo && sp < t->vma_hi) {
		*lo = t->vma_lo;
		*hi = t->vma_hi;
		return;
	}
	struct dbg_vma v;
	if (dbg_proc_vma_query(p->proc, sp, &v, NULL, 0) == 0) {
		*lo = v.start;
		*hi = v.end;
		if (t) {
			t->vma_lo = v.start;
			t->vma_hi = v.end;
		}
		return;
	}
	/* Unknown: only the copy is the stack. */
	*lo = sp;
	*hi = sp + len;
}

/* Copy @n bytes at ring position @pos (a running offset) out of ring @b. */
static void ring_read(const struct dbg__perfbuf *b, uint64_t pos, void *dst, size_t n)
{
	const uint8_t *data = b->base + b->data_off;
	uint64_t o = pos % b->data_size;
	size_t first = b->data_size - o;
	if (first >= n) {
		memcpy(dst, data + o, n);
	} else {
		memcpy(dst, data + o, first);
		memcpy((uint8_t *)dst + first, data, n - first);
	}
}

/*
 * A PERF_RECORD_SAMPLE of @size bytes at ring position @pos, read where
 * it lies: the fields, then only the part of the stack copy the kernel
 * filled (dyn_size; a thread's stack ends a few KiB above its stack
 * pointer, and the record keeps room for the whole --stack-size), taken
 * straight into the snapshot. Copying whole records out first was most
 * of the profiler's CPU per sample. The record's ring space is given
 * back (*@tail_done) as soon as the snapshot holds the copy, before the
 * unwind.
 */
static int on_sample(struct dbg_prof *p, struct dbg__perfbuf *b, uint64_t pos, size_t size,
		     uint64_t end)
{
	struct perf_event_mmap_page *mp = (void *)b->base;
	size_t off = sizeof(struct perf_event_header);
#define TAKE(dst, n)                                   \
	do {                                           \
		if (off + (n) > size)                  \
			goto release;                  \
		ring_read(b, pos + off, (dst), (n));   \
		off += (n);                            \
	} while (0)
	uint32_t pid_tid[2];
	uint64_t v, abi, ssize, dyn;
	uint64_t pr[NREGS];
	TAKE(pid_tid, 8);
	TAKE(&v, 8); /* time */
	TAKE(&abi, 8);
	pid_t tid = (pid_t)pid_tid[1];
	if (abi == PERF_SAMPLE_REGS_ABI_NONE) {
		p->st.no_stack++;
		goto release;
	}
	TAKE(pr, sizeof(pr));
	TAKE(&ssize, 8);
	if (off + ssize + 8 > size)
		goto release;
	size_t stack_off = off;
	off += ssize;
	TAKE(&dyn, 8);
#undef TAKE
	if (dyn > ssize)
		dyn = ssize;
	if (abi != PERF_SAMPLE_REGS_ABI_64) {
		p->st.no_stack++; /* a 32-bit task: not ours to unwind */
		goto release;
	}
	struct dbg_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rax = pr[0];
	regs.rbx = pr[1];
	regs.rcx = pr[2];
	regs.rdx = pr[3];
	regs.rsi = pr[4];
	regs.rdi = pr[5];
	regs.rbp = pr[6];
	regs.rsp = pr[7];
	regs.rip = pr[8];
	regs.eflags = pr[9];
	regs.cs = pr[10];
	regs.ss = pr[11];
	regs.r8 = pr[12];
	regs.r9 = pr[13];
	regs.r10 = pr[14];
	regs.r11 = pr[15];
	regs.r12 = pr[16];
	regs.r13 = pr[17];
	regs.r14 = pr[18];
	regs.r15 = pr[19];
	struct dbg__pthr *t = dbg__prof_thread(p, tid, false);
	uint64_t lo, hi;
	stack_vma(p, t, regs.rsp, dyn, &lo, &hi);
	/* The filled part of the stack: in place when it does not wrap
	 * around the ring's end, else through p->rec. */
	const uint8_t *stack;
	uint64_t so = (pos + stack_off) % b->data_size;
	if (so + dyn <= b->data_size) {
		stack = b->base + b->data_off + so;
	} else {
		if (dyn > p->rec_cap) {
			uint8_t *n = realloc(p->rec, dyn);
			if (!n)
				return -ENOMEM;
			p->rec = n;
			p->rec_cap = dyn;
		}
		ring_read(b, pos + stack_off, p->rec, dyn);
		stack = p->rec;
	}
	int e = dbg__snapshot_make(tid, &regs, regs.rsp, stack, dyn, lo, hi, &p->psnap);
	__atomic_store_n(&mp->data_tail, end, __ATOMIC_RELEASE);
	if (e < 0)
		return e;
	int n = dbg_unwind_snapshot(p->uw, p->psnap, p->frames, p->o.max_frames);
	return dbg__prof_add(p, tid, p->frames, n);
release:
	__atomic_store_n(&mp->data_tail, end, __ATOMIC_RELEASE);
	return 0;
}

static int on_record(struct dbg_prof *p, const uint8_t *r, size_t size)
{
	const struct perf_event_header *h = (const void *)r;
	switch (h->type) {
	case PERF_RECORD_LOST: {
		uint64_t idlost[2];
		if (size >= sizeof(*h) + 16) {
			memcpy(idlost, r + sizeof(*h), 16);
			p->st.lost += idlost[1];
		}
		return 0;
	}
	case PERF_RECORD_FORK: {
		/* u32 pid, ppid, tid, ptid: a thread born inheriting an event
		 * of ours, so it is sampled already. */
		uint32_t f[4];
		if (size >= sizeof(*h) + 16) {
			memcpy(f, r + sizeof(*h), 16);
			if (f[0] == (uint32_t)p->proc->pid && f[2] != f[0]) {
				struct dbg__pthr *t = dbg__prof_thread(p, (pid_t)f[2], false);
				if (!t || !t->alive)
					t = dbg__prof_thread(p, (pid_t)f[2], true);
				if (t)
					t->covered = true;
			}
		}
		return 0;
	}
	default:
		return 0;
	}
}

int dbg__prof_perf_drain(struct dbg_prof *p)
{
	for (size_t i = 0; i < p->npb; i++) {
		struct dbg__perfbuf *b = &p->pb[i];
		if (!b->base)
			continue;
		struct perf_event_mmap_page *mp = (void *)b->base;
		uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
		uint64_t tail = mp->data_tail;
		int err = 0;
		while (tail + sizeof(struct perf_event_header) <= head) {
			struct perf_event_header h;
			ring_read(b, tail, &h, sizeof(h));
			if (h.size < sizeof(h) || tail + h.size > head)
				break;
			uint64_t start = tail;
			tail += h.size;
			if (h.type == PERF_RECORD_SAMPLE) {
				/* Read in place; gives the space back itself. */
				err = on_sample(p, b, start, h.size, tail);
			} else {
				/* The others are small: copied out, given back. */
				if (h.size > p->rec_cap) {
					uint8_t *n = realloc(p->rec, h.size);
					if (!n) {
						err = -ENOMEM;
						break;
					}
					p->rec = n;
					p->rec_cap = h.size;
				}
				ring_read(b, start, p->rec, h.size);
				__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
				err = on_record(p, p->rec, h.size);
			}
			if (err < 0)
				break;
			if (tail + sizeof(h) > head)
				head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
		}
		__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
		if (err < 0)
			return err;
	}
	return 0;
}

/* Give an event of its own to every live thread no event covers yet.
 * Called after handle_events() and a drain: a thread whose creator had
 * an event inherited it, and its PERF_RECORD_FORK was written before the
 * ptrace clone event was (both at clone time, the record first). */
int dbg__prof_perf_cover(struct dbg_prof *p)
{
	int err = 0;
	for (size_t i = 0; i < p->nthr; i++) {
		struct dbg__pthr *t = &p->thr[i];
		if (!t->alive || t->covered)
			continue;
		int r = dbg__prof_perf_open(p, t->pub.tid);
		if (r == 0)
			t->covered = true;
		else if (r != -ESRCH && !err)
			err = r;
	}
	return err;
}

/* Start or stop counting on every event (inherited ones follow). */
void dbg__prof_perf_enable(struct dbg_prof *p, bool on)
{
	p->running = on;
	for (size_t i = 0; i < p->npb; i++)
		ioctl(p->pb[i].fd, on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
}
