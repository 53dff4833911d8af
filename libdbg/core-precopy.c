/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DBG_CORE_LOW_PAUSE by pre-copy: the memory is copied into the core
 * while the target runs, and only what it wrote since is copied again
 * while it is stopped.
 *
 * Write tracking is userfaultfd's asynchronous write-protect mode (Linux
 * 6.7, UFFD_FEATURE_WP_ASYNC) read through /proc/PID/pagemap's
 * PAGEMAP_SCAN ioctl: a userfaultfd made in the target (core.c injects
 * the system call and takes the descriptor over with pidfd_getfd) is
 * registered on every VMA to dump; UFFDIO_WRITEPROTECT sets the uffd-wp
 * bit of their page table entries; a write to such a page takes a minor
 * fault the kernel resolves itself by clearing the bit, and PAGEMAP_SCAN
 * reports a present or swapped page without the bit as "written". (The
 * soft-dirty bits CRIU uses need CONFIG_MEM_SOFT_DIRTY, which this
 * project's host kernel lacks; the userfaultfd bits are the same idea
 * and are only ours: clear_refs would reset soft-dirty for everyone.)
 *
 * Order, so that no write is missed: a range is write-protected before
 * it is copied, so a write that lands after the copy read it is seen as
 * "written". Rounds: scan for written pages, write-protect each written
 * range, copy it. At the stop: scan again, copy what is written; an
 * anonymous page that is neither present nor swapped any more
 * (MADV_DONTNEED, munmap and mmap again) is punched out of the file.
 * VMAs that are new, moved, grown or no longer registered at the stop
 * are copied whole then.
 *
 * Layout: the pre-copied bytes of VMA i are at off[i], after data_base
 * bytes left for the ELF header, program headers and notes; a segment of
 * the core at the stop points at the bytes of the pre-copied VMA that
 * contains it, new ones are appended. Program headers and notes that do
 * not fit before data_base go at the end (e_phoff says where).
 */
#include "core-int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1ull << 12)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1ull << 15)
#endif

/* PAGEMAP_SCAN, from Linux 6.7's include/uapi/linux/fs.h (Debian 12's
 * headers are older); our own names. */
struct pm_region {
	uint64_t start, end, categories;
};
struct pm_scan {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PM_WRITTEN (1ull << 1)
#define PM_PRESENT (1ull << 3)
#define PM_SWAPPED (1ull << 4)
#define PM_SCAN_IOCTL _IOWR('f', 16, struct pm_scan)

/* More written than this after a round: another round. */
#define ROUND_MIN (4ull << 20)
#define MAX_ROUNDS 3

struct range {
	uint64_t start, end;
};

struct ranges {
	struct range *r;
	size_t n, cap;
};

static int ranges_add(struct ranges *rs, uint64_t start, uint64_t end)
{
	/* No merging: a range must not run from one VMA into the next
	 * (the kernel merges what it reports within a VMA already). */
	if (rs->n == rs->cap) {
		size_t nc = rs->cap ? rs->cap * 2 : 64;
		struct range *np = realloc(rs->r, nc * sizeof(*np));
		if (!np)
			return -ENOMEM;
		rs->r = np;
		rs->cap = nc;
	}
	rs->r[rs->n++] = (struct range){ start, end };
	return 0;
}

/* PAGEMAP_SCAN over [start, end): pages whose categories include all of
 * @mask, reported with @ret_mask's categories, merged into runs. */
typedef int (*scan_fn)(void *ctx, uint64_t start, uint64_t end, uint64_t cat);

static int scan(int pm_fd, uint64_t start, uint64_t end, uint64_t mask, uint64_t ret_mask,
		scan_fn fn, void *ctx)
{
	struct pm_region vec[256];
	while (start < end) {
		struct pm_scan a = { .size = sizeof(a), .start = start, .end = end,
				     .vec = (uintptr_t)vec, .vec_len = 256,
				     .category_mask = mask, .return_mask = ret_mask };
		long n = ioctl(pm_fd, PM_SCAN_IOCTL, &a);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (long i = 0; i < n; i++) {
			int r = fn(ctx, vec[i].start, vec[i].end, vec[i].categories);
			if (r)
				return r;
		}
		if (a.walk_end <= start || a.walk_end > end)
			return n ? 0 : -EIO;
		start = a.walk_end;
	}
	return 0;
}

static int collect_written(void *ctx, uint64_t start, uint64_t end, uint64_t cat)
{
	(void)cat;
	return ranges_add(ctx, start, end);
}

static int uffd_register_wp(int uffd, uint64_t start, uint64_t len)
{
	struct uffdio_register reg = { .range = { start, len }, .mode = UFFDIO_REGISTER_MODE_WP };
	return ioctl(uffd, UFFDIO_REGISTER, &reg) < 0 ? -errno : 0;
}

static int uffd_protect(int uffd, uint64_t start, uint64_t len)
{
	struct uffdio_writeprotect w = { .range = { start, len },
					 .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	for (;;) {
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &w) == 0)
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

/* Copy [start, end) of VMA @vma (an index into d->v) to file offset @off. */
static int copy_range(struct dump *d, struct out *o, uint32_t vma, uint64_t start, uint64_t end,
		      uint64_t off, bool overwrite)
{
	struct seg s = { .vaddr = start, .memsz = end - start, .filesz = end - start, .vma = vma,
			 .reuse = -1 };
	o->off = off;
	o->overwrite = overwrite;
	int r = dbg__core_copy_segment(d, o, &s);
	o->overwrite = false;
	return r;
}

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

int dbg__core_precopy_run(struct dump *d, struct out *o, struct precopy *pc, int uffd)
{
	pc->uffd = uffd;
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_HUGETLBFS_SHMEM };
	if (ioctl(uffd, UFFDIO_API, &api) < 0 || !(api.features & UFFD_FEATURE_WP_ASYNC)) {
		dbg__log(d->p, DBG_LOG_DEBUG, "core: pre-copy: no asynchronous userfaultfd "
			 "write-protection (%s)", strerror(errno));
		return -ENOTSUP;
	}
	if (d->pagemap_fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/pagemap", d->pid);
		d->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (d->pagemap_fd < 0)
			return dbg__fail(d->p, errno == ENOENT ? -ESRCH : -errno, "open %s", path);
	}
	int r = dbg__core_read_vmas(d, d->pid, false);
	if (r < 0)
		return r;
	dbg__core_apply_rules(d);
	/* PAGEMAP_SCAN is there (6.7)? A scan of the first page tells. */
	struct ranges probe = { 0 };
	r = scan(d->pagemap_fd, d->v[0].start, d->v[0].start + PAGE, 0, PM_WRITTEN, collect_written,
		 &probe);
	free(probe.r);
	if (r == -ENOTTY || r == -EINVAL || r == -EOPNOTSUPP) {
		dbg__log(d->p, DBG_LOG_DEBUG, "core: pre-copy: no PAGEMAP_SCAN (%s)", strerror(-r));
		return -ENOTSUP;
	}
	if (r < 0)
		return dbg__fail(d->p, r, "PAGEMAP_SCAN of %d", d->pid);

	pc->tracked = calloc(d->nv, sizeof(*pc->tracked));
	pc->off = calloc(d->nv, sizeof(*pc->off));
	if (!pc->tracked || !pc->off)
		return -ENOMEM;
	/* Room for the headers and notes at the stop: the program headers
	 * of twice as many VMAs, and notes of 8 KiB per thread plus the
	 * file names, twice over. Whatever does not fit goes at the end. */
	uint64_t names = 0;
	for (size_t i = 0; i < d->nv; i++)
		names += 32 + strlen(d->v[i].name);
	pc->data_base = page_up(64 + (2 * d->nv + 64) * 56 + 2 * (names + 8192u * d->info.nthreads) +
				(64u << 10));
	uint64_t off = pc->data_base;
	size_t ntracked = 0, nfail = 0;
	for (size_t i = 0; i < d->nv; i++) {
		struct core_vma *v = &d->v[i];
		if (!v->dump)
			continue;
		pc->off[i] = off;
		off += v->dump;
		/* Registration needs VM_MAYWRITE and a VMA no other
		 * userfaultfd has: those that fail are copied at the stop. */
		r = uffd_register_wp(uffd, v->start, v->end - v->start);
		if (r == 0)
			r = uffd_protect(uffd, v->start, v->dump);
		if (r == -ENOMEM || r == -ESRCH)
			return dbg__fail(d->p, -ESRCH, "the target exited during the dump");
		if (r < 0) {
			nfail++;
			dbg__log(d->p, DBG_LOG_DEBUG, "core: pre-copy: %#llx-%#llx %s not tracked (%s)",
				 (unsigned long long)v->start, (unsigned long long)v->end, v->name,
				 strerror(-r));
			continue;
		}
		pc->tracked[i] = true;
		ntracked++;
		d->total += v->dump;
		pc->tracked_bytes += v->dump;
	}
	pc->end = page_up(off);
	dbg__log(d->p, DBG_LOG_DEBUG, "core: pre-copy: %zu VMAs tracked, %zu not", ntracked, nfail);

	/* Round 0: everything. */
	r = 0;
	for (size_t i = 0; i < d->nv && r == 0; i++) {
		if (pc->tracked[i])
			r = copy_range(d, o, i, d->v[i].start, d->v[i].start + d->v[i].dump, pc->off[i],
				       false);
	}
	if (r < 0)
		return r;
	/* Then what was written meanwhile, while it shrinks. */
	pc->rounds = 1;
	uint64_t last = UINT64_MAX;
	while (pc->rounds <= MAX_ROUNDS) {
		struct ranges w = { 0 };
		uint64_t bytes = 0;
		for (size_t i = 0; i < d->nv && r == 0; i++) {
			if (!pc->tracked[i])
				continue;
			size_t n0 = w.n;
			r = scan(d->pagemap_fd, d->v[i].start, d->v[i].start + d->v[i].dump, PM_WRITTEN,
				 PM_WRITTEN, collect_written, &w);
			for (size_t k = n0; k < w.n; k++)
				bytes += w.r[k].end - w.r[k].start;
		}
		dbg__log(d->p, DBG_LOG_DEBUG, "core: pre-copy: %llu KiB written during round %u",
			 (unsigned long long)bytes >> 10, pc->rounds);
		if (r < 0 || bytes < ROUND_MIN || (last != UINT64_MAX && bytes > last / 4 * 3)) {
			free(w.r);
			break;
		}
		last = bytes;
		d->total += bytes;
		for (size_t k = 0; k < w.n && r == 0; k++) {
			const struct core_vma *v = dbg__core_vma_at(d, w.r[k].start);
			if (!v)
				continue;
			size_t i = v - d->v;
			/* Protect, then copy: a write after the read is seen. */
			r = uffd_protect(uffd, w.r[k].start, w.r[k].end - w.r[k].start);
			if (r == 0)
				r = copy_range(d, o, i, w.r[k].start, w.r[k].end,
					       pc->off[i] + (w.r[k].start - v->start), true);
		}
		free(w.r);
		if (r < 0)
			break;
		pc->rounds++;
	}
	if (r == -ENOMEM || r == -ESRCH)
		return dbg__core_alive(d->pid) ? r :
		       dbg__fail(d->p, -ESRCH, "the target exited during the dump");
	if (r < 0)
		return r;
	r = dbg__core_writer_drain(d, o);
	if (r < 0)
		return r;
	/* The VMAs as pre-copied move to pc; d->v is read again at the stop. */
	pc->v = d->v;
	pc->nv = d->nv;
	d->v = NULL;
	d->nv = d->capv = 0;
	return 0;
}

#define PM_FILE (1ull << 2)

/* Does [start, end) have an anonymous page (for a file VMA: one that is
 * not the file's page cache)? */
static bool has_anon(int pm_fd, const struct core_vma *v)
{
	struct pm_region reg;
	struct pm_scan a = { .size = sizeof(a), .start = v->start, .end = v->end,
			     .vec = (uintptr_t)&reg, .vec_len = 1, .max_pages = 1,
			     .category_anyof_mask = PM_PRESENT | PM_SWAPPED,
			     .return_mask = PM_PRESENT | PM_SWAPPED };
	if (v->has_file) {
		a.category_inverted = PM_FILE;
		a.category_mask = PM_FILE;
		a.return_mask |= PM_FILE;
	}
	long n = ioctl(pm_fd, PM_SCAN_IOCTL, &a);
	return n != 0;   /* an error: say yes, the dump rules then keep it */
}

int dbg__core_precopy_adopt(struct dump *d, const struct precopy *pc)
{
	for (size_t i = 0; i < d->nv; i++) {
		struct core_vma *v = &d->v[i];
		const struct core_vma *ov = dbg__core_vma_at_n(pc->v, pc->nv, v->start);
		if (!ov || ov->start != v->start || ov->end != v->end || ov->prot != v->prot ||
		    ov->shared != v->shared || ov->offset != v->offset || ov->inode != v->inode ||
		    strcmp(ov->name, v->name))
			return 1;
		v->anon_kb = ov->anon_kb;
		v->dd = ov->dd;
		v->io = ov->io;
		v->ht = ov->ht;
		v->dc = ov->dc;
		v->wf = ov->wf;
		v->uw = ov->uw || pc->tracked[ov - pc->v];
		/* Anonymous pages that came since decide the dump rule. */
		if (!v->anon_kb && !v->shared && !v->special && has_anon(d->pagemap_fd, v))
			v->anon_kb = 4;
	}
	return 0;
}

/* The pre-copied VMA whose bytes hold segment @s as it is now, or -1. */
static int reusable(const struct dump *d, const struct precopy *pc, const struct seg *s)
{
	const struct core_vma *v = &d->v[s->vma];
	if (!v->uw || v->special || !s->filesz)
		return -1;
	const struct core_vma *ov = dbg__core_vma_at_n(pc->v, pc->nv, s->vaddr);
	if (!ov)
		return -1;
	size_t j = ov - pc->v;
	if (!pc->tracked[j] || s->vaddr + s->filesz > ov->start + ov->dump ||
	    ov->has_file != v->has_file || ov->shared != v->shared || ov->inode != v->inode ||
	    strcmp(ov->name, v->name))
		return -1;
	if (v->has_file && v->offset - ov->offset != v->start - ov->start)
		return -1;
	return (int)j;
}

int dbg__core_precopy_place(struct dump *d, struct precopy *pc, uint64_t *ret_end)
{
	uint64_t end = pc->end;
	for (size_t i = 0; i < d->ns; i++) {
		struct seg *s = &d->s[i];
		s->reuse = reusable(d, pc, s);
		if (s->reuse >= 0) {
			s->offset = pc->off[s->reuse] + (s->vaddr - pc->v[s->reuse].start);
		} else {
			s->offset = end;
			end += s->filesz;
		}
	}
	*ret_end = end;
	return 0;
}

static int plan_add(struct precopy_plan *pl, uint32_t vma, uint64_t start, uint64_t end,
		    uint64_t off, bool overwrite)
{
	if (pl->n == pl->cap) {
		size_t nc = pl->cap ? pl->cap * 2 : 64;
		struct precopy_run *np = realloc(pl->r, nc * sizeof(*np));
		if (!np)
			return -ENOMEM;
		pl->r = np;
		pl->cap = nc;
	}
	pl->r[pl->n++] = (struct precopy_run){ start, end, off, vma, overwrite };
	pl->bytes += end - start;
	return 0;
}

struct plan_ctx {
	struct dump *d;
	struct out *o;
	struct precopy_plan *pl;
	const struct seg *s;
};

static int plan_run(void *arg, uint64_t start, uint64_t end, uint64_t cat)
{
	struct plan_ctx *c = arg;
	const struct seg *s = c->s;
	uint64_t off = s->offset + (start - s->vaddr);
	if (cat & PM_WRITTEN)
		return plan_add(c->pl, s->vma, start, end, off, true);
	/* Not written: the pre-copied bytes stand, unless an anonymous page
	 * is gone (dropped, unmapped and mapped again): zeros now. */
	if (!(cat & (PM_PRESENT | PM_SWAPPED)) && !c->d->v[s->vma].has_file)
		return dbg__core_out_punch(c->o, off, end - start);
	return 0;
}

int dbg__core_precopy_plan(struct dump *d, struct out *o, struct precopy *pc,
			   struct precopy_plan *pl)
{
	(void)pc;
	int r = 0;
	for (size_t i = 0; i < d->ns && r == 0; i++) {
		const struct seg *s = &d->s[i];
		if (!s->filesz)
			continue;
		if (s->reuse >= 0) {
			struct plan_ctx c = { d, o, pl, s };
			r = scan(d->pagemap_fd, s->vaddr, s->vaddr + s->filesz, 0,
				 PM_WRITTEN | PM_PRESENT | PM_SWAPPED, plan_run, &c);
		} else {
			r = plan_add(pl, s->vma, s->vaddr, s->vaddr + s->filesz, s->offset, false);
		}
	}
	return r;
}

int dbg__core_precopy_copy(struct dump *d, struct out *o, struct precopy *pc,
			   const struct precopy_plan *pl, int which)
{
	int r = 0;
	for (size_t i = 0; i < pl->n && r == 0; i++) {
		const struct precopy_run *run = &pl->r[i];
		const struct core_vma *v = &d->v[run->vma];
		bool nofork = v->dc || v->wf;   /* a fork child lacks or wipes it */
		if ((which == 1 && !nofork) || (which == 2 && nofork))
			continue;
		pc->pause_bytes += run->end - run->start;
		r = copy_range(d, o, run->vma, run->start, run->end, run->off, run->overwrite);
	}
	return r;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

void dbg__core_precopy_trim(struct dump *d, struct out *o, struct precopy *pc)
{
	if (dbg__core_writer_drain(d, o) < 0)
		return;
	struct ranges used = { 0 };
	for (size_t i = 0; i < d->ns; i++)
		if (d->s[i].reuse >= 0 && d->s[i].filesz &&
		    ranges_add(&used, d->s[i].offset, d->s[i].offset + d->s[i].filesz) < 0)
			goto out;
	qsort(used.r, used.n, sizeof(*used.r), cmp_range);
	size_t k = 0;
	for (size_t j = 0; j < pc->nv; j++) {
		if (!pc->tracked[j])
			continue;
		uint64_t cur = pc->off[j], end = pc->off[j] + pc->v[j].dump;
		while (k < used.n && used.r[k].start < end) {
			if (used.r[k].start > cur)
				(void)dbg__core_out_punch(o, cur, used.r[k].start - cur);
			if (used.r[k].end > cur)
				cur = used.r[k].end;
			k++;
		}
		if (cur < end)
			(void)dbg__core_out_punch(o, cur, end - cur);
	}
out:
	free(used.r);
}

void dbg__core_precopy_unprotect(struct precopy *pc)
{
	/* Closing the userfaultfd clears the uffd-wp bits of every tracked
	 * page with the target's mmap lock held for writing: tens of
	 * milliseconds per GiB in which its page faults wait. Unregister 8
	 * MiB at a time instead: each step holds the lock for that much
	 * (the VMA is split for a moment and merges back as the next step
	 * clears the same flags). */
	for (size_t i = 0; pc->uffd >= 0 && i < pc->nv; i++) {
		if (!pc->tracked[i])
			continue;
		const uint64_t step = 8u << 20;
		for (uint64_t a = pc->v[i].start; a < pc->v[i].end; a += step) {
			uint64_t len = pc->v[i].end - a < step ? pc->v[i].end - a : step;
			struct uffdio_range rg = { a, len };
			if (ioctl(pc->uffd, UFFDIO_UNREGISTER, &rg) < 0)
				break;   /* the VMA changed: the close does the rest */
		}
	}
}

void dbg__core_precopy_free(struct precopy *pc)
{
	/* Closing the last descriptor ends the registration: the kernel
	 * clears the VMAs' userfaultfd flags and the uffd-wp bits. */
	if (pc->uffd >= 0)
		close(pc->uffd);
	pc->uffd = -1;
	for (size_t i = 0; i < pc->nv; i++)
		free(pc->v[i].name);
	free(pc->v);
	free(pc->off);
	free(pc->tracked);
	pc->v = NULL;
	pc->off = NULL;
	pc->tracked = NULL;
	pc->nv = 0;
}
