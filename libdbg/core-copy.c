/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core's bytes: the output (pwrite at absolute offsets, holes by not
 * writing; zeros on a pipe; the size limit), the helper thread that writes
 * while the tracing thread reads, and the copy of each segment through
 * dbg_mem_read() with never-populated (pagemap) and all-zero pages left
 * as holes and unreadable pages reported.
 */
#include "core-int.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The writer thread: while the tracing thread reads the next chunk (only
 * it may use the dbg_proc), this one scans the last for zero pages and
 * writes the rest, so reading and writing overlap on two CPUs. Two
 * buffers; offsets are fixed by the reader, so holes cost nothing. */
struct writer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;
	uint8_t *buf[2];
	size_t len[2];
	uint64_t off[2];
	bool ow[2];            /* overwrite: punch zero pages */
	int head, count;       /* the slot being written, how many are full */
	bool stop;
	int err;               /* first error (negative errno) */
	uint64_t err_off;      /* where it happened */
	uint64_t data, holes;
};

/* ---- output ------------------------------------------------------------ */

static int punch(int fd, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	/* No holes on this file system: write the zeros. */
	static const uint8_t zeros[PAGE];
	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
		ssize_t w = pwrite(fd, zeros, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -ENOSPC;
		off += w;
		len -= w;
	}
	return 0;
}

int dbg__core_out_punch(struct out *o, uint64_t off, uint64_t len)
{
	if (o->err)
		return o->err;
	if (o->limit && off + len > o->limit)
		len = off < o->limit ? o->limit - off : 0;
	int r = punch(o->fd, off, len);
	if (r < 0) {
		o->err = r;
		o->off = off;
	}
	return r;
}

int dbg__core_out_write(struct out *o, const void *buf, size_t len)
{
	if (o->err)
		return o->err;
	if (o->limit && o->off + len > o->limit) {
		len = o->off < o->limit ? o->limit - o->off : 0;
		o->limited = true;
	}
	const uint8_t *b = buf;
	while (len) {
		ssize_t n = o->seekable ? pwrite(o->fd, b, len, o->off) : write(o->fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->err = n < 0 ? -errno : -ENOSPC;
			return o->err;
		}
		b += n;
		len -= n;
		o->off += n;
	}
	return o->limited ? -EFBIG : 0;
}

int dbg__core_out_skip(struct out *o, uint64_t len)
{
	if (o->err)
		return o->err;
	if (o->limit && o->off + len > o->limit) {
		len = o->off < o->limit ? o->limit - o->off : 0;
		o->limited = true;
	}
	if (o->seekable) {
		if (o->overwrite) {
			int r = punch(o->fd, o->off, len);
			if (r < 0)
				return o->err = r;
		}
		o->off += len;
	} else {
		static const uint8_t zeros[PAGE];
		while (len) {
			size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
			uint64_t lim = o->limit;
			o->limit = 0;
			int r = dbg__core_out_write(o, zeros, n);
			o->limit = lim;
			if (r < 0)
				return r;
			len -= n;
		}
	}
	return o->limited ? -EFBIG : 0;
}

/* ---- memory ------------------------------------------------------------ */

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	for (size_t i = 0; i < PAGE / 8; i += 4)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
			return false;
	return true;
}

static void bad_flush(struct dump *d)
{
	const struct core_vma *v = d->bad.end > d->bad.start ? dbg__core_vma_at(d, d->bad.start) : NULL;
	/* [vvar], [vsyscall]: pages no one can read (VM_PFNMAP, or
	 * execute-only); the kernel's dump leaves the same holes, so they
	 * are not reported. */
	if (v && v->special) {
		;
	} else if (d->bad.end > d->bad.start) {
		d->info.unreadable_bytes += d->bad.end - d->bad.start;
		if (d->o->region_fn)
			d->o->region_fn(&d->bad, d->o->region_ctx);
		dbg__log(d->p, DBG_LOG_WARN, "core: %#llx-%#llx unreadable (%s), written as a hole",
			 (unsigned long long)d->bad.start, (unsigned long long)d->bad.end,
			 dbg_strerror(d->bad.err));
	}
	d->bad.start = d->bad.end = 0;
}

static void bad_add(struct dump *d, uint64_t start, uint64_t end, int err)
{
	if (d->bad.end == start && d->bad.err == err && d->bad.end > d->bad.start) {
		d->bad.end = end;
		return;
	}
	bad_flush(d);
	d->bad = (struct dbg_core_region){ start, end, DBG_CORE_REGION_UNREADABLE, err };
}

/* Is the target still there (not a zombie, not gone)? A dying process's
 * memory reads fail like unreadable pages, so each failure asks. */
bool dbg__core_alive(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (dbg__read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	const char *s = strrchr(buf, ')');
	return s && s[1] == ' ' && s[2] != 'Z' && s[2] != 'X' && s[2] != 'x';
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->count && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->count)
			break;
		int slot = w->head;
		const uint8_t *buf = w->buf[slot];
		size_t len = w->len[slot];
		uint64_t off = w->off[slot];
		bool ow = w->ow[slot];
		bool failed = w->err != 0;
		pthread_mutex_unlock(&w->mu);
		uint64_t data = 0, holes = 0;
		int err = 0;
		uint64_t err_off = 0;
		for (size_t i = 0; i < len && !failed && !err;) {
			size_t j = i;
			bool zero = page_is_zero(buf + i);
			while (j < len && page_is_zero(buf + j) == zero)
				j += PAGE;
			if (j > len)
				j = len;
			if (zero) {
				holes += j - i;
				if (ow) {
					err = punch(w->fd, off + i, j - i);
					if (err)
						err_off = off + i;
				}
			} else {
				for (size_t k = i; k < j;) {
					ssize_t n = pwrite(w->fd, buf + k, j - k, off + k);
					if (n < 0 && errno == EINTR)
						continue;
					if (n <= 0) {
						err = n < 0 ? -errno : -ENOSPC;
						err_off = off + k;
						break;
					}
					k += n;
					data += n;
				}
			}
			i = j;
		}
		pthread_mutex_lock(&w->mu);
		w->data += data;
		w->holes += holes;
		if (err && !w->err) {
			w->err = err;
			w->err_off = err_off;
		}
		w->head ^= 1;
		w->count--;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int dbg__core_writer_start(struct dump *d, int fd)
{
	struct writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->buf[0] = d->buf;
	w->buf[1] = malloc(CHUNK);
	if (!w->buf[1]) {
		free(w);
		return -ENOMEM;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	/* The new thread must not take signals meant for the host. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&w->th, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		free(w->buf[1]);
		free(w);
		return -r;
	}
	d->w = w;
	return 0;
}

/* Wait until everything handed over is written; stop the thread. The
 * writer's first error and where it happened go into @o. */
void dbg__core_writer_finish(struct dump *d, struct out *o)
{
	struct writer *w = d->w;
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	d->info.data_bytes += w->data;
	d->info.hole_bytes += w->holes;
	if (w->err && !o->err) {
		o->err = w->err;
		o->off = w->err_off;
	}
	/* d->buf is one of the two; free the other. */
	free(w->buf[0] == d->buf ? w->buf[1] : w->buf[0]);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	d->w = NULL;
}

int dbg__core_writer_drain(struct dump *d, struct out *o)
{
	struct writer *w = d->w;
	if (!w)
		return o->err;
	pthread_mutex_lock(&w->mu);
	while (w->count)
		pthread_cond_wait(&w->cv, &w->mu);
	int err = w->err;
	uint64_t err_off = w->err_off;
	pthread_mutex_unlock(&w->mu);
	if (err && !o->err) {
		o->err = err;
		o->off = err_off;
	}
	return o->err;
}

/* Hand @len bytes of d->buf to the writer at the output's offset, and
 * make d->buf a free buffer. */
static int writer_submit(struct dump *d, struct out *o, size_t len)
{
	struct writer *w = d->w;
	if (o->limit && o->off + len > o->limit) {
		len = o->off < o->limit ? o->limit - o->off : 0;
		o->limited = true;
	}
	pthread_mutex_lock(&w->mu);
	int slot = (w->head + w->count) % 2;
	w->len[slot] = len;
	w->off[slot] = o->off;
	w->ow[slot] = o->overwrite;
	w->count++;
	pthread_cond_broadcast(&w->cv);
	while (w->count == 2)
		pthread_cond_wait(&w->cv, &w->mu);
	int err = w->err;
	uint64_t err_off = w->err_off;
	d->buf = w->buf[(w->head + w->count) % 2];
	pthread_mutex_unlock(&w->mu);
	o->off += len;
	if (err) {
		o->err = err;
		o->off = err_off;
		return err;
	}
	return o->limited ? -EFBIG : 0;
}

/* Write @len bytes of page-aligned data in @buf at the output, all-zero
 * pages as holes. */
static int emit_pages(struct dump *d, struct out *o, const uint8_t *buf, size_t len)
{
	if (d->w && buf == d->buf)
		return writer_submit(d, o, len);
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		if (page_is_zero(buf + i)) {
			while (j < len && page_is_zero(buf + j))
				j += PAGE;
			d->info.hole_bytes += j - i;
			int r = dbg__core_out_skip(o, j - i);   /* punches when overwriting */
			if (r < 0)
				return r;
		} else {
			while (j < len && !page_is_zero(buf + j))
				j += PAGE;
			d->info.data_bytes += j - i;
			int r = dbg__core_out_write(o, buf + i, j - i);
			if (r < 0)
				return r;
		}
		i = j;
	}
	return 0;
}

/* Read [addr, addr + len) (pages that exist) and write it. */
static int copy_run(struct dump *d, struct out *o, uint64_t addr, size_t len)
{
	const struct core_vma *v = dbg__core_vma_at(d, addr);
	bool parent = v && v->from_parent;
	struct dbg_proc *src = parent ? d->p : d->mem;
	pid_t src_pid = parent ? d->pid : d->mem_pid;
	while (len) {
		ssize_t n = dbg_mem_read(src, addr, d->buf, len);
		/* Low-pause: the snapshot is whole even if the target died
		 * meanwhile; only what had to come from the target is lost
		 * (holes, reported as unreadable). */
		if (n == -ESRCH && !parent)
			return dbg__fail(d->p, -ESRCH, "the target exited during the dump");
		if (n < 0 && n != -EFAULT && n != -EIO && n != -EPERM && n != -EACCES &&
		    n != -ESRCH)
			return n;
		size_t good = n > 0 ? (size_t)n : 0;
		if (good < len) {
			if (!parent && !dbg__core_alive(src_pid))
				return dbg__fail(d->p, -ESRCH, "the target exited during the dump");
			/* Keep the good bytes, zero the rest of their page, and
			 * call the next page unreadable. */
			size_t upto = (good + PAGE - 1) & ~(size_t)(PAGE - 1);
			if (upto == good)
				upto = good + PAGE;
			if (upto > len)
				upto = len;
			memset(d->buf + good, 0, upto - good);
			bad_add(d, addr + (good & ~(size_t)(PAGE - 1)), addr + upto,
				n < 0 ? (int)n : -EFAULT);
			good = upto;
		} else {
			bad_flush(d);
		}
		int r = emit_pages(d, o, d->buf, good);
		if (r < 0)
			return r;
		addr += good;
		len -= good;
	}
	return 0;
}

static int progress(struct dump *d)
{
	if (d->o->progress_fn && d->o->progress_fn(d->done, d->total, d->o->progress_ctx))
		return dbg__fail(d->p, -ECANCELED, "the dump was cancelled");
	return 0;
}

/* The bytes of one segment. For memory without a file, pages that were
 * never populated (neither present nor swapped, per /proc/PID/pagemap)
 * are skipped without reading: they would read as zeros. */
int dbg__core_copy_segment(struct dump *d, struct out *o, const struct seg *s)
{
	const struct core_vma *v = &d->v[s->vma];
	bool use_pagemap = d->pagemap_fd >= 0 && !v->has_file && !v->special && !v->from_parent;
	if (v->from_parent && s->filesz && d->o->region_fn) {
		struct dbg_core_region reg = { s->vaddr, s->vaddr + s->filesz,
					       DBG_CORE_REGION_FROM_PARENT, 0 };
		d->o->region_fn(&reg, d->o->region_ctx);
	}
	uint64_t pm[CHUNK / PAGE];
	for (uint64_t at = s->vaddr; at < s->vaddr + s->filesz;) {
		uint64_t left = s->vaddr + s->filesz - at;
		size_t len = left < CHUNK ? left : CHUNK;
		int r;
		if (!use_pagemap) {
			r = copy_run(d, o, at, len);
		} else {
			size_t np = len / PAGE;
			ssize_t n = pread(d->pagemap_fd, pm, np * 8, at / PAGE * 8);
			if (n != (ssize_t)(np * 8)) {
				r = copy_run(d, o, at, len);
			} else {
				r = 0;
				for (size_t i = 0; i < np && r == 0;) {
					/* bit 63 present, bit 62 swapped */
					bool here = pm[i] >> 62;
					size_t j = i;
					while (j < np && (bool)(pm[j] >> 62) == here)
						j++;
					if (here) {
						r = copy_run(d, o, at + i * PAGE, (j - i) * PAGE);
					} else {
						d->info.hole_bytes += (j - i) * PAGE;
						r = dbg__core_out_skip(o, (j - i) * PAGE);
					}
					i = j;
				}
			}
		}
		if (r < 0)
			return r;
		at += len;
		d->done += len;
		r = progress(d);
		if (r < 0)
			return r;
	}
	bad_flush(d);
	return 0;
}
