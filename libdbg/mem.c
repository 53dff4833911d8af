/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The memory layer. A read becomes a plan of pieces, each inside one VMA
 * of the cached table; each piece goes to a chain of backends that go on
 * from wherever the previous one stopped. See doc/memory.md.
 */
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#define PVR_MAX_IOV 1024   /* UIO_MAXIOV */
#define CACHE_MAX_READ 512 /* the unwinder's words; larger reads go straight through */
#define DEFAULT_CACHE_PAGES 256

static const char *const backend_names[] = { "auto", "process_vm_readv", "/proc/PID/mem",
					     "PTRACE_PEEKDATA" };

/* ---- setup ---------------------------------------------------------- */

static int open_mem_fd(struct dbg_proc *p)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", p->mm_tid);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The kernel patch in kernel/ adds these vmstat counters; their presence
 * says remote reads inside one VMA skip the mmap_lock, which only
 * /proc/PID/mem and PEEKDATA benefit from. */
static bool detect_fast_path(void)
{
	enum { VMSTAT_MAX = 32768 };
	char *buf = malloc(VMSTAT_MAX);
	if (!buf)
		return false;
	bool yes = dbg__read_file("/proc/vmstat", buf, VMSTAT_MAX) > 0 &&
		   strstr(buf, "\nremote_vm_fast ");
	free(buf);
	return yes;
}

static void mem_init(struct dbg_proc *p)
{
	p->mem.mem_fd = -1;
}

static int mem_setup(struct dbg_proc *p)
{
	struct dbg__mem *m = &p->mem;
	m->mem_fd = open_mem_fd(p);
	if (m->mem_fd < 0) {
		dbg__log(p, DBG_LOG_WARN, "/proc/%d/mem unavailable: %s", p->pid,
			 dbg_strerror(m->mem_fd));
		m->unavailable[DBG_MEM_PROCMEM] = true;
	}
	m->kernel_fast_path = detect_fast_path();
	m->stats.kernel_fast_path = m->kernel_fast_path;
	m->cache_cap = DEFAULT_CACHE_PAGES;
	return 0;
}

static void cache_free(struct dbg__mem *m)
{
	free(m->cache);
	free(m->cache_mem);
	m->cache = NULL;
	m->cache_mem = NULL;
}

static void mem_fini(struct dbg_proc *p)
{
	if (p->mem.mem_fd >= 0)
		close(p->mem.mem_fd);
	p->mem.mem_fd = -1;
	cache_free(&p->mem);
}

/* A thread runs (resumed, or new): memory may change, the cache ages. */
static void mem_on_resume(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)t;
	p->mem.generation++;
}

static int mem_reopen(struct dbg_proc *p)
{
	struct dbg__mem *m = &p->mem;
	m->generation++;
	/* The fd pins the mm it was opened on; after exec it reads EOF. */
	if (m->mem_fd >= 0)
		close(m->mem_fd);
	m->mem_fd = open_mem_fd(p);
	m->unavailable[DBG_MEM_PROCMEM] = m->mem_fd < 0;
	return m->mem_fd < 0 ? m->mem_fd : 0;
}

static void mem_on_exec(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)t;
	mem_reopen(p);
}

const struct dbg__hooks dbg__mem_hooks = {
	.name = "mem",
	.init = mem_init,
	.setup = mem_setup,
	.resume = mem_on_resume,
	.exec = mem_on_exec,
	.clone = mem_on_resume,
	.fini = mem_fini,
};

/* ---- backends --------------------------------------------------------
 * Each reads [addr, addr+len) into buf and returns the bytes read from
 * addr (possibly short), or a negative errno if it could not even try.
 */

/* process_vm_readv of many single-VMA pieces in one call. Returns the
 * bytes read from the first piece on, contiguously. */
static ssize_t pvr_batch(struct dbg_proc *p, struct iovec *local, struct iovec *remote, size_t n)
{
	p->mem.stats.calls[DBG_MEM_PVR]++;
	ssize_t r;
	/* a thread naming the address space may be gone meanwhile */
	for (size_t tries = 0;; tries++) {
		r = process_vm_readv(p->mm_tid, local, n, remote, n, 0);
		if (r >= 0 || errno != ESRCH || tries >= p->nthreads || !dbg__mm_tid_next(p))
			break;
		errno = ESRCH;
	}
	if (r < 0) {
		int e = errno;
		if (e == ENOSYS || e == EPERM)
			p->mem.unavailable[DBG_MEM_PVR] = true;
		return e == EFAULT ? 0 : -e;
	}
	p->mem.stats.bytes[DBG_MEM_PVR] += r;
	return r;
}

static ssize_t rd_pvr(struct dbg_proc *p, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
	return pvr_batch(p, &l, &r, 1);
}

static ssize_t rd_procmem(struct dbg_proc *p, uint64_t addr, void *buf, size_t len)
{
	struct dbg__mem *m = &p->mem;
	size_t done = 0;
	bool reopened = false;
	if (addr > (uint64_t)INT64_MAX)
		return 0;
	while (done < len) {
		m->stats.calls[DBG_MEM_PROCMEM]++;
		ssize_t n = pread(m->mem_fd, (char *)buf + done, len - done, (off_t)(addr + done));
		if (n > 0) {
			done += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EIO && errno != EFAULT) {
			if (errno == EACCES || errno == EPERM)
				m->unavailable[DBG_MEM_PROCMEM] = true;
			if (!done)
				return -errno;
			break;
		}
		if (n == 0 && !reopened) {
			/* EOF: the mm we opened is gone, by exec (whose event
			 * we have not seen yet) or by exit. Look again once. */
			reopened = true;
			if (mem_reopen(p) == 0)
				continue;
			return -ESRCH;
		}
		if (n == 0)
			return done ? (ssize_t)done : -ESRCH;
		break; /* EIO: the first byte at addr+done is unreadable */
	}
	m->stats.bytes[DBG_MEM_PROCMEM] += done;
	return done;
}

static ssize_t rd_peek(struct dbg_proc *p, uint64_t addr, void *buf, size_t len)
{
	struct dbg__thread *t = dbg__any_stopped(p);
	if (!t)
		return -DBG_ERRNO_RUNNING;
	/* Aligned words only: an unaligned one could straddle into the next
	 * VMA or page and fail as a whole (see reference/memreaders.md). */
	size_t done = 0;
	uint64_t w = addr & ~7ull;
	while (done < len) {
		errno = 0;
		p->mem.stats.calls[DBG_MEM_PEEK]++;
		long v = ptrace(PTRACE_PEEKDATA, t->tid, (void *)(uintptr_t)w, 0);
		if (errno) {
			if (errno == ESRCH && !done)
				return -errno;
			break;
		}
		size_t skip = addr + done - w;
		size_t n = 8 - skip;
		if (n > len - done)
			n = len - done;
		memcpy((char *)buf + done, (char *)&v + skip, n);
		done += n;
		w += 8;
	}
	p->mem.stats.bytes[DBG_MEM_PEEK] += done;
	return done;
}

typedef ssize_t (*reader_fn)(struct dbg_proc *, uint64_t, void *, size_t);
static const reader_fn readers[] = { NULL, rd_pvr, rd_procmem, rd_peek };

/* The backends to try for one VMA, best first. */
static int chain_for(const struct dbg_proc *p, const struct dbg_vma *v, enum dbg_mem_backend out[3])
{
	const struct dbg__mem *m = &p->mem;
	if (m->forced) {
		out[0] = m->forced;
		return 1;
	}
	int n = 0;
	if (v && !(v->prot & DBG_PROT_READ)) {
		/* PROT_NONE and friends: only FOLL_FORCE paths can read. */
		out[n++] = DBG_MEM_PROCMEM;
	} else if (m->kernel_fast_path) {
		out[n++] = DBG_MEM_PROCMEM;
		out[n++] = DBG_MEM_PVR;
	} else {
		out[n++] = DBG_MEM_PVR;
		out[n++] = DBG_MEM_PROCMEM;
	}
	out[n++] = DBG_MEM_PEEK;
	return n;
}

/* Read one piece through its chain. Returns bytes read (maybe short) or
 * -ESRCH when the target is gone. */
static ssize_t read_piece(struct dbg_proc *p, const struct dbg_vma *v, uint64_t addr, void *buf,
			  size_t len, int first)
{
	enum dbg_mem_backend chain[3];
	int n = chain_for(p, v, chain);
	size_t done = 0;
	for (int i = first; i < n && done < len; i++) {
		if (p->mem.unavailable[chain[i]] && !p->mem.forced)
			continue;
		if (i > 0)
			p->mem.stats.fallbacks++;
		ssize_t r = readers[chain[i]](p, addr + done, (char *)buf + done, len - done);
		if (r == -ESRCH)
			return done ? (ssize_t)done : -ESRCH;
		if (r > 0)
			done += r;
	}
	return done;
}

static bool pvr_first(const struct dbg_proc *p, const struct dbg_vma *v)
{
	enum dbg_mem_backend chain[3];
	chain_for(p, v, chain);
	return chain[0] == DBG_MEM_PVR && !p->mem.unavailable[DBG_MEM_PVR];
}

/*
 * The planner. Pieces are cut at VMA boundaries of the cached table; runs
 * of pieces that start with process_vm_readv go in one batched call, the
 * others piece by piece. Where the table has a hole, or a piece comes up
 * short, the table is corrected for that address once and the read goes
 * on; the second time, the read ends there.
 */
static ssize_t read_planned(struct dbg_proc *p, uint64_t addr, void *buf, size_t len)
{
	const struct dbg_maps *maps;
	int r = dbg__maps_get(p, &maps);
	if (r < 0)
		return r;
	size_t done = 0, npieces = 0;
	bool refreshed = false;
	struct iovec local[PVR_MAX_IOV], remote[PVR_MAX_IOV];
	while (done < len) {
		uint64_t a = addr + done;
		const struct dbg_vma *v = dbg_maps_find(p->maps, a);
		if (!v) {
			if (refreshed || dbg__maps_refresh_addr(p, a) < 0 || !p->maps)
				break;
			refreshed = true;
			continue;
		}
		/* Gather consecutive pieces that process_vm_readv takes. */
		size_t n = 0, want = 0;
		uint64_t pos = a;
		const struct dbg_vma *w = v;
		while (w && pvr_first(p, w) && n < PVR_MAX_IOV && done + want < len) {
			size_t piece = len - done - want;
			if (piece > w->end - pos)
				piece = w->end - pos;
			local[n].iov_base = (char *)buf + done + want;
			local[n].iov_len = piece;
			remote[n].iov_base = (void *)(uintptr_t)pos;
			remote[n].iov_len = piece;
			n++;
			want += piece;
			pos += piece;
			w = (pos == w->end && done + want < len) ? dbg_maps_find(p->maps, pos) : NULL;
		}
		npieces += n ? n : 1;
		ssize_t got;
		size_t this_len;
		if (n) {
			got = pvr_batch(p, local, remote, n);
			this_len = want;
			if (got >= 0 && (size_t)got < want) {
				/* Finish the piece where it stopped with the
				 * rest of its chain, then plan again. */
				size_t k = 0, acc = 0;
				while (acc + local[k].iov_len <= (size_t)got)
					acc += local[k++].iov_len;
				const struct dbg_vma *kv = dbg_maps_find(p->maps, a + got);
				size_t rest = acc + local[k].iov_len - got;
				ssize_t more = kv ? read_piece(p, kv, a + got, (char *)buf + done + got, rest, 1) : 0;
				if (more > 0)
					got += more;
				this_len = acc + local[k].iov_len;
			}
		} else {
			this_len = len - done;
			if (this_len > v->end - a)
				this_len = v->end - a;
			got = read_piece(p, v, a, (char *)buf + done, this_len, 0);
		}
		if (got < 0)
			return done ? (ssize_t)done : got;
		done += got;
		if ((size_t)got < this_len) {
			if (refreshed || dbg__maps_refresh_addr(p, addr + done) < 0 || !p->maps)
				break;
			refreshed = true;
		}
	}
	p->mem.stats.pieces += npieces;
	if (npieces > 1)
		p->mem.stats.splits += npieces - 1;
	if (done)
		return done;
	return p->exited ? -ESRCH : -EFAULT;
}

/* ---- the page cache ---------------------------------------------------- */

static bool cache_usable(struct dbg_proc *p)
{
	struct dbg__mem *m = &p->mem;
	if (!m->cache_cap || m->forced == DBG_MEM_PEEK)
		return false;
	/* "All stopped" is remembered per generation: any resume, and any
	 * new thread, bumps the generation. */
	if (m->stopped_gen != m->generation + 1) {
		if (!dbg__all_stopped(p))
			return false;
		m->stopped_gen = m->generation + 1;
	}
	if (!m->cache) {
		m->cache = calloc(m->cache_cap, sizeof(*m->cache));
		m->cache_mem = malloc(m->cache_cap * DBG__PAGE_SIZE);
		if (!m->cache || !m->cache_mem) {
			cache_free(m);
			return false;
		}
		for (size_t i = 0; i < m->cache_cap; i++) {
			m->cache[i].addr = UINT64_MAX;
			m->cache[i].data = m->cache_mem + i * DBG__PAGE_SIZE;
		}
	}
	return true;
}

#define CACHE_READAHEAD 4

static struct dbg__cache_page *cache_slot(struct dbg__mem *m, uint64_t page)
{
	/* Direct-mapped: the cap is a power of two. Stacks and the data an
	 * unwinder touches are contiguous, so neighbours never collide. */
	return &m->cache[(page / DBG__PAGE_SIZE) & (m->cache_cap - 1)];
}

static bool cache_valid(const struct dbg__mem *m, const struct dbg__cache_page *c, uint64_t page)
{
	return c->addr == page && c->generation == m->generation;
}

/*
 * A miss fills the page and up to CACHE_READAHEAD - 1 following pages of
 * the same VMA that are missing too, in one kernel call.
 */
static struct dbg__cache_page *cache_page(struct dbg_proc *p, uint64_t page)
{
	struct dbg__mem *m = &p->mem;
	struct dbg__cache_page *c = cache_slot(m, page);
	if (cache_valid(m, c, page)) {
		m->stats.cache_hits++;
		return c;
	}
	m->stats.cache_misses++;
	const struct dbg_vma *v = p->maps ? dbg_maps_find(p->maps, page) : NULL;
	if (v && pvr_first(p, v)) {
		struct iovec local[CACHE_READAHEAD], remote[CACHE_READAHEAD];
		struct dbg__cache_page *slot[CACHE_READAHEAD];
		/* Consecutive pages have distinct slots while n <= cache_cap. */
		size_t n = 0, most = m->cache_cap < CACHE_READAHEAD ? m->cache_cap : CACHE_READAHEAD;
		for (uint64_t pg = page; n < most && pg < v->end; pg += DBG__PAGE_SIZE) {
			struct dbg__cache_page *s = cache_slot(m, pg);
			if (n && cache_valid(m, s, pg))
				break;
			local[n].iov_base = s->data;
			local[n].iov_len = DBG__PAGE_SIZE;
			remote[n].iov_base = (void *)(uintptr_t)pg;
			remote[n].iov_len = DBG__PAGE_SIZE;
			slot[n++] = s;
		}
		ssize_t got = pvr_batch(p, local, remote, n);
		for (size_t i = 0; i < n; i++) {
			bool whole = got >= (ssize_t)((i + 1) * DBG__PAGE_SIZE);
			slot[i]->addr = whole ? page + i * DBG__PAGE_SIZE : UINT64_MAX;
			slot[i]->generation = m->generation;
		}
		if (got >= (ssize_t)DBG__PAGE_SIZE)
			return c;
	}
	/* Not a plain readable page (or the table was wrong): the planner
	 * with all its fallbacks. */
	if (read_planned(p, page, c->data, DBG__PAGE_SIZE) != DBG__PAGE_SIZE) {
		c->addr = UINT64_MAX;
		return NULL;
	}
	c->addr = page;
	c->generation = m->generation;
	return c;
}

static ssize_t read_cached(struct dbg_proc *p, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		uint64_t page = a & ~(uint64_t)(DBG__PAGE_SIZE - 1);
		struct dbg__cache_page *c = cache_page(p, page);
		if (!c) {
			/* Not a whole readable page: read the exact bytes. */
			ssize_t r = read_planned(p, a, (char *)buf + done, len - done);
			if (r < 0)
				return done ? (ssize_t)done : r;
			return done + r;
		}
		size_t off = a - page, n = DBG__PAGE_SIZE - off;
		if (n > len - done)
			n = len - done;
		memcpy((char *)buf + done, c->data + off, n);
		done += n;
	}
	return done;
}

/* ---- public API ------------------------------------------------------ */

static int mem_enter(struct dbg_proc *p, const void *buf, size_t *len, uint64_t addr)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!buf && *len)
		return -EINVAL;
	if (*len > SSIZE_MAX)
		*len = SSIZE_MAX;
	if (addr + *len < addr)
		*len = -addr; /* stop at the top of the address space */
	if (p->exited)
		return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	return 0;
}

ssize_t dbg_mem_read(struct dbg_proc *p, uint64_t addr, void *buf, size_t len)
{
	int r = mem_enter(p, buf, &len, addr);
	if (r < 0)
		return r;
	if (!len)
		return 0;
	ssize_t n = len <= CACHE_MAX_READ && cache_usable(p) ? read_cached(p, addr, buf, len)
							     : read_planned(p, addr, buf, len);
	/* Breakpoints are invisible: the one place every read passes. */
	if (n > 0)
		dbg__bp_shadow_read(p, addr, buf, (size_t)n);
	if (n == -EFAULT)
		dbg__fail(p, -EFAULT, "0x%llx is not readable in %d", (unsigned long long)addr, p->pid);
	return n;
}

int dbg_mem_readv(struct dbg_proc *p, struct dbg_mem_range *ranges, size_t n)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!ranges && n)
		return -EINVAL;
	if (p->exited)
		return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	const struct dbg_maps *maps;
	if ((r = dbg__maps_get(p, &maps)) < 0)
		return r;
	bool cached = cache_usable(p);
	struct iovec local[PVR_MAX_IOV], remote[PVR_MAX_IOV];
	size_t idx[PVR_MAX_IOV];
	size_t i = 0;
	while (i < n) {
		/* Batch the ranges that lie inside one readable VMA and go to
		 * process_vm_readv first, unless the stopped-target cache
		 * would serve them (small ones, as in dbg_mem_read()); every
		 * other range is read alone. */
		size_t k = 0;
		for (; i < n && k < PVR_MAX_IOV; i++) {
			struct dbg_mem_range *rg = &ranges[i];
			const struct dbg_vma *v = dbg_maps_find(p->maps, rg->addr);
			bool from_cache = cached && rg->len <= CACHE_MAX_READ;
			bool batch = !from_cache && rg->len && v && rg->addr + rg->len <= v->end &&
				     rg->addr + rg->len > rg->addr && pvr_first(p, v);
			if (!batch) {
				rg->result = dbg_mem_read(p, rg->addr, rg->buf, rg->len);
				if (rg->result == -ESRCH)
					return -ESRCH;
				continue;
			}
			local[k].iov_base = rg->buf;
			local[k].iov_len = rg->len;
			remote[k].iov_base = (void *)(uintptr_t)rg->addr;
			remote[k].iov_len = rg->len;
			idx[k++] = i;
		}
		if (!k)
			continue;
		p->mem.stats.pieces += k;
		ssize_t got = pvr_batch(p, local, remote, k);
		if (got == -ESRCH)
			return dbg__fail(p, -ESRCH, "process %d is gone", p->pid);
		size_t left = got > 0 ? (size_t)got : 0;
		for (size_t j = 0; j < k; j++) {
			struct dbg_mem_range *rg = &ranges[idx[j]];
			if (left >= rg->len) {
				rg->result = rg->len;
				left -= rg->len;
				dbg__bp_shadow_read(p, rg->addr, rg->buf, rg->len);
				continue;
			}
			/* This one stopped short; it and the ones after it
			 * were not (fully) read: read each on its own. */
			for (; j < k; j++) {
				rg = &ranges[idx[j]];
				rg->result = dbg_mem_read(p, rg->addr, rg->buf, rg->len);
				if (rg->result == -ESRCH)
					return -ESRCH;
			}
		}
	}
	return 0;
}

/* ---- writes ---------------------------------------------------------- */

static ssize_t wr_procmem(struct dbg_proc *p, uint64_t addr, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		p->mem.stats.calls[DBG_MEM_PROCMEM]++;
		ssize_t n = pwrite(p->mem.mem_fd, (const char *)buf + done, len - done,
				   (off_t)(addr + done));
		if (n > 0) {
			done += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && !done)
			return -ESRCH;
		break;
	}
	return done;
}

static ssize_t wr_pvw(struct dbg_proc *p, uint64_t addr, const void *buf, size_t len)
{
	struct iovec l = { (void *)buf, len }, r = { (void *)(uintptr_t)addr, len };
	p->mem.stats.calls[DBG_MEM_PVR]++;
	ssize_t n;
	for (size_t tries = 0;; tries++) {
		n = process_vm_writev(p->mm_tid, &l, 1, &r, 1, 0);
		if (n >= 0 || errno != ESRCH || tries >= p->nthreads || !dbg__mm_tid_next(p))
			break;
		errno = ESRCH;
	}
	return n < 0 ? (errno == ESRCH ? -ESRCH : 0) : n;
}

static ssize_t wr_poke(struct dbg_proc *p, uint64_t addr, const void *buf, size_t len)
{
	struct dbg__thread *t = dbg__any_stopped(p);
	if (!t)
		return -DBG_ERRNO_RUNNING;
	size_t done = 0;
	uint64_t w = addr & ~7ull;
	while (done < len) {
		size_t skip = addr + done - w;
		size_t n = 8 - skip;
		if (n > len - done)
			n = len - done;
		long v = 0;
		if (skip || n < 8) {
			/* Partial word: keep the bytes around ours. */
			errno = 0;
			p->mem.stats.calls[DBG_MEM_PEEK]++;
			v = ptrace(PTRACE_PEEKDATA, t->tid, (void *)(uintptr_t)w, 0);
			if (errno)
				break;
		}
		memcpy((char *)&v + skip, (const char *)buf + done, n);
		p->mem.stats.calls[DBG_MEM_PEEK]++;
		if (ptrace(PTRACE_POKEDATA, t->tid, (void *)(uintptr_t)w, (void *)v) < 0)
			break;
		done += n;
		w += 8;
	}
	return done;
}

ssize_t dbg_mem_write(struct dbg_proc *p, uint64_t addr, const void *buf, size_t len)
{
	int r = mem_enter(p, buf, &len, addr);
	if (r < 0)
		return r;
	if (!len)
		return 0;
	/* Over a breakpoint: the saved original byte takes the new value,
	 * the int3 stays in the target. */
	void *copy;
	const void *orig_buf = buf;
	buf = dbg__bp_shadow_write(p, addr, orig_buf, len, &copy);
	if (!buf)
		return -ENOMEM;
	struct dbg__mem *m = &p->mem;
	m->generation++; /* the cache may hold these bytes */
	m->stats.writes++;
	ssize_t done = 0;
	if (m->forced == DBG_MEM_PVR) {
		done = wr_pvw(p, addr, buf, len);
	} else {
		if (m->forced != DBG_MEM_PEEK && m->mem_fd >= 0)
			done = wr_procmem(p, addr, buf, len);
		if (done >= 0 && (size_t)done < len && m->forced != DBG_MEM_PROCMEM) {
			ssize_t more = wr_poke(p, addr + done, (const char *)buf + done, len - done);
			if (more > 0)
				done += more;
			else if (!done && more < 0)
				done = more;
		}
	}
	free(copy);
	if (done > 0)
		m->stats.bytes_written += done;
	if (done == 0)
		return dbg__fail(p, -EFAULT, "0x%llx is not writable in %d",
				 (unsigned long long)addr, p->pid);
	if (done < 0)
		return dbg__fail(p, (int)done, "writing 0x%llx in %d",
				 (unsigned long long)addr, p->pid);
	return done;
}

/* ---- knobs and statistics ---------------------------------------------- */

int dbg_mem_set_backend(struct dbg_proc *p, enum dbg_mem_backend backend)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if ((unsigned)backend >= DBG_MEM__NR_BACKENDS)
		return -EINVAL;
	p->mem.forced = backend;
	p->mem.generation++;
	dbg__log(p, DBG_LOG_DEBUG, "memory backend: %s", backend_names[backend]);
	return 0;
}

int dbg_mem_set_cache(struct dbg_proc *p, size_t pages)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	size_t cap = 0;
	if (pages) {
		cap = 1;
		while (cap < pages && cap < (1u << 20))
			cap <<= 1;
	}
	cache_free(&p->mem);
	p->mem.cache_cap = cap;
	return 0;
}

int dbg_mem_get_stats(const struct dbg_proc *p, struct dbg_mem_stats *ret_stats)
{
	if (!p || !ret_stats)
		return -EINVAL;
	*ret_stats = p->mem.stats;
	return 0;
}

void dbg_mem_reset_stats(struct dbg_proc *p)
{
	if (!p)
		return;
	int fast = p->mem.stats.kernel_fast_path;
	memset(&p->mem.stats, 0, sizeof(p->mem.stats));
	p->mem.stats.kernel_fast_path = fast;
}
