/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VMA table: a strict parser for /proc/PID/maps text, the live table
 * of a proc, and single-address lookups with the PROCMAP_QUERY ioctl.
 *
 * Refresh policy (doc/memory.md): the memory reader keeps using the table
 * it has while the target runs, because re-reading maps takes the target's
 * mmap_lock (the very lock the reader avoids). A read that meets a hole or
 * comes up short refreshes the one address it stopped at and retries once;
 * exec drops the table. dbg_proc_maps() re-reads if the target ran since.
 */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct dbg_maps {
	struct dbg_vma *v;
	size_t n, cap;
	char *text;      /* names of parsed entries point in here */
	char **extra;    /* names of entries patched in later */
	size_t nextra;
};

/* ---- parsing -------------------------------------------------------- */

static bool parse_hex(const char **s, const char *end, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	int digits = 0;
	for (; p < end; p++, digits++) {
		int d;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (digits >= 16)
			return false;
		v = v << 4 | d;
	}
	if (!digits)
		return false;
	*s = p;
	*out = v;
	return true;
}

static bool parse_dec(const char **s, const char *end, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	int digits = 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (!digits)
		return false;
	*s = p;
	*out = v;
	return true;
}

static bool expect(const char **s, const char *end, char c)
{
	if (*s >= end || **s != c)
		return false;
	(*s)++;
	return true;
}

static const char deleted_suffix[] = " (deleted)";

/* Parse one line [s, end) (no newline). The name is NUL-terminated in
 * place, which is why the line is writable. */
static bool parse_line(char *s, char *end, struct dbg_vma *v)
{
	const char *p = s;
	uint64_t major, minor;
	memset(v, 0, sizeof(*v));
	if (!parse_hex(&p, end, &v->start) || !expect(&p, end, '-') ||
	    !parse_hex(&p, end, &v->end) || !expect(&p, end, ' '))
		return false;
	if (end - p < 5)
		return false;
	if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
	    (p[2] != 'x' && p[2] != '-') || (p[3] != 'p' && p[3] != 's') || p[4] != ' ')
		return false;
	v->prot = (p[0] == 'r' ? DBG_PROT_READ : 0) | (p[1] == 'w' ? DBG_PROT_WRITE : 0) |
		  (p[2] == 'x' ? DBG_PROT_EXEC : 0);
	v->flags = p[3] == 's' ? DBG_VMA_SHARED : 0;
	p += 5;
	if (!parse_hex(&p, end, &v->offset) || !expect(&p, end, ' ') ||
	    !parse_hex(&p, end, &major) || !expect(&p, end, ':') ||
	    !parse_hex(&p, end, &minor) || !expect(&p, end, ' ') ||
	    !parse_dec(&p, end, &v->inode))
		return false;
	if (v->start >= v->end || major > UINT32_MAX || minor > UINT32_MAX)
		return false;
	v->dev_major = (uint32_t)major;
	v->dev_minor = (uint32_t)minor;
	if (p < end && *p != ' ')
		return false;
	while (p < end && *p == ' ')
		p++;
	char *name = s + (p - s);
	size_t nlen = end - name;
	if (nlen >= sizeof(deleted_suffix) - 1 &&
	    !memcmp(end - (sizeof(deleted_suffix) - 1), deleted_suffix, sizeof(deleted_suffix) - 1)) {
		v->flags |= DBG_VMA_DELETED;
		nlen -= sizeof(deleted_suffix) - 1;
	}
	if (nlen && name[0] == '[')
		v->flags |= DBG_VMA_SPECIAL;
	name[nlen] = 0;
	v->name = name;
	return true;
}

static int maps_push(struct dbg_maps *m, const struct dbg_vma *v, size_t at)
{
	if (m->n == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		struct dbg_vma *nv = realloc(m->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		m->v = nv;
		m->cap = ncap;
	}
	memmove(&m->v[at + 1], &m->v[at], (m->n - at) * sizeof(*v));
	m->v[at] = *v;
	m->n++;
	return 0;
}

/*
 * @seams: the text is a live /proc/PID/maps, which the kernel writes in
 * page-sized chunks, dropping the mmap_lock between them: a VMA that
 * changes meanwhile can make an entry at a seam overlap or precede the one
 * before it. Such an entry is dropped (the table is a plan; a read that
 * misses refreshes that address). Malformed lines are errors either way.
 */
static int maps_parse(const char *text, size_t len, bool seams, struct dbg_maps **ret_maps)
{
	struct dbg_maps *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->text = malloc(len + 1);
	if (!m->text) {
		free(m);
		return -ENOMEM;
	}
	if (len)
		memcpy(m->text, text, len);
	m->text[len] = 0;
	int r = 0;
	char *s = m->text, *end = m->text + len;
	while (s < end) {
		char *nl = memchr(s, '\n', end - s);
		char *le = nl ? nl : end;
		struct dbg_vma v;
		if (!parse_line(s, le, &v)) {
			r = -DBG_ERRNO_PARSE;
			break;
		}
		s = le + 1;
		if (m->n && v.start < m->v[m->n - 1].end) {
			if (seams)
				continue;
			r = -DBG_ERRNO_PARSE;
			break;
		}
		if ((r = maps_push(m, &v, m->n)) < 0)
			break;
	}
	if (r < 0) {
		dbg_maps_free(m);
		return r;
	}
	*ret_maps = m;
	return 0;
}

int dbg_maps_parse(const char *text, size_t len, struct dbg_maps **ret_maps)
{
	if ((!text && len) || !ret_maps)
		return -EINVAL;
	return maps_parse(text, len, false, ret_maps);
}

void dbg_maps_free(struct dbg_maps *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nextra; i++)
		free(m->extra[i]);
	free(m->extra);
	free(m->v);
	free(m->text);
	free(m);
}

size_t dbg_maps_count(const struct dbg_maps *m)
{
	return m ? m->n : 0;
}

const struct dbg_vma *dbg_maps_get(const struct dbg_maps *m, size_t idx)
{
	return m && idx < m->n ? &m->v[idx] : NULL;
}

/* Index of the first VMA whose end is above @addr. */
static size_t lower_bound(const struct dbg_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct dbg_vma *dbg_maps_find(const struct dbg_maps *m, uint64_t addr)
{
	if (!m)
		return NULL;
	size_t i = lower_bound(m, addr);
	return i < m->n && m->v[i].start <= addr ? &m->v[i] : NULL;
}

/* Replace whatever the table says about [start, end) with @v (NULL: a
 * hole). Used to patch in the result of a single-address query. */
static int maps_patch(struct dbg_maps *m, uint64_t start, uint64_t end, const struct dbg_vma *v)
{
	size_t i = lower_bound(m, start);
	size_t j = i;
	while (j < m->n && m->v[j].start < end)
		j++;
	/* Entries partly outside [start, end) are dropped whole: the next
	 * miss there looks them up again. */
	memmove(&m->v[i], &m->v[j], (m->n - j) * sizeof(*m->v));
	m->n -= j - i;
	if (!v)
		return 0;
	char **ne = realloc(m->extra, (m->nextra + 1) * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	m->extra = ne;
	char *name = strdup(v->name ? v->name : "");
	if (!name)
		return -ENOMEM;
	m->extra[m->nextra++] = name;
	struct dbg_vma nv = *v;
	nv.name = name;
	return maps_push(m, &nv, i);
}

/* ---- the live table -------------------------------------------------- */

static int maps_fd(struct dbg_proc *p)
{
	if (p->maps_fd >= 0)
		return p->maps_fd;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", p->mm_tid);
	p->maps_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->maps_fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return p->maps_fd;
}

static int maps_read(struct dbg_proc *p);

/* With a zombie leader the table is read through another thread, which
 * may have exited since (an empty table, or ESRCH): through the next. */
static bool maps_next_task(struct dbg_proc *p, int r, size_t tries)
{
	if (r != -ESRCH || tries >= p->nthreads || !dbg__mm_tid_next(p))
		return false;
	if (p->maps_fd >= 0)
		close(p->maps_fd);
	p->maps_fd = -1;
	return true;
}

int dbg__maps_refresh(struct dbg_proc *p)
{
	int r;
	for (size_t tries = 0; maps_next_task(p, r = maps_read(p), tries); tries++)
		;
	return r;
}

static int maps_read(struct dbg_proc *p)
{
	int fd = maps_fd(p);
	if (fd < 0)
		return dbg__fail(p, fd, "opening /proc/%d/maps", p->pid);
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	int r = 0;
	if (lseek(fd, 0, SEEK_SET) < 0)
		r = -errno;
	while (r == 0) {
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno != EINTR)
				r = -errno;
			continue;
		}
		if (n == 0)
			break;
		len += n;
	}
	struct dbg_maps *m = NULL;
	if (r == 0)
		r = maps_parse(buf, len, true, &m);
	free(buf);
	if (r < 0)
		return dbg__fail(p, r, "reading /proc/%d/maps", p->pid);
	/* An exited (zombie) process has an empty table. */
	if (!m->n) {
		dbg_maps_free(m);
		return dbg__fail(p, -ESRCH, "process %d has no memory map (exited)", p->pid);
	}
	dbg_maps_free(p->maps);
	p->maps = m;
	p->maps_stale = false;
	p->mem.stats.maps_refreshes++;
	return 0;
}

int dbg__maps_get(struct dbg_proc *p, const struct dbg_maps **ret)
{
	if (!p->maps) {
		int r = dbg__maps_refresh(p);
		if (r < 0)
			return r;
	}
	*ret = p->maps;
	return 0;
}

void dbg__maps_invalidate(struct dbg_proc *p)
{
	/* exec: the old table and the fd (it pins the old mm) are useless. */
	dbg_maps_free(p->maps);
	p->maps = NULL;
	p->maps_stale = true;
	if (p->maps_fd >= 0)
		close(p->maps_fd);
	p->maps_fd = -1;
}

static void maps_init(struct dbg_proc *p)
{
	p->maps_fd = -1;
	p->maps_stale = true;
}

static void maps_on_exec(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)t;
	dbg__maps_invalidate(p);
}

/* Once the target ran, the table may be out of date (what maps.h says):
 * dbg_proc_maps() reads it again. Memory reads keep using it and refresh
 * it on a miss. */
static void maps_on_resume(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)t;
	p->maps_stale = true;
}

const struct dbg__hooks dbg__maps_hooks = {
	.name = "maps",
	.init = maps_init,
	.resume = maps_on_resume,
	.exec = maps_on_exec,
	.fini = dbg__maps_invalidate,
};

int dbg_proc_maps(struct dbg_proc *p, const struct dbg_maps **ret_maps)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!ret_maps)
		return -EINVAL;
	if (p->exited)
		return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	/* The target may have changed its map since we last looked, unless
	 * it has been stopped all along. */
	if (!p->maps || p->maps_stale || !dbg__all_stopped(p)) {
		r = dbg__maps_refresh(p);
		if (r < 0)
			return r;
	}
	*ret_maps = p->maps;
	return 0;
}

/* ---- PROCMAP_QUERY ---------------------------------------------------- */

/* The UAPI of Linux 6.11 (include/uapi/linux/fs.h); Debian 12's headers
 * predate it, so the layout is spelled out here. */
struct procmap_query_abi {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};
#define PMQ_IOCTL _IOWR('f', 17, struct procmap_query_abi)
#define PMQ_VMA_READABLE 0x01
#define PMQ_VMA_WRITABLE 0x02
#define PMQ_VMA_EXECUTABLE 0x04
#define PMQ_VMA_SHARED 0x08

/* Ask the kernel for the VMA containing @addr. 0: found; -ENOENT: a hole;
 * -DBG_ERRNO_UNSUPPORTED: no PROCMAP_QUERY here. */
static int procmap_query_once(struct dbg_proc *p, uint64_t addr, struct dbg_vma *v, char *name,
			      size_t name_len);

static int procmap_query(struct dbg_proc *p, uint64_t addr, struct dbg_vma *v, char *name,
			 size_t name_len)
{
	int r;
	for (size_t tries = 0;
	     maps_next_task(p, r = procmap_query_once(p, addr, v, name, name_len), tries); tries++)
		;
	return r;
}

static int procmap_query_once(struct dbg_proc *p, uint64_t addr, struct dbg_vma *v, char *name,
			      size_t name_len)
{
	if (p->procmap_query < 0)
		return -DBG_ERRNO_UNSUPPORTED;
	int fd = maps_fd(p);
	if (fd < 0)
		return fd;
	struct procmap_query_abi q = {
		.size = sizeof(q),
		.query_addr = addr,
		.vma_name_size = name && name_len <= UINT32_MAX ? (uint32_t)name_len : 0,
		.vma_name_addr = name ? (uint64_t)(uintptr_t)name : 0,
	};
	if (ioctl(fd, PMQ_IOCTL, &q) < 0) {
		int e = errno;
		if (e == ENOTTY || e == EINVAL || e == EOPNOTSUPP) {
			p->procmap_query = -1;
			return -DBG_ERRNO_UNSUPPORTED;
		}
		if (e == ENOENT)
			return -ENOENT;
		return e == ESRCH ? -ESRCH : -e;
	}
	p->procmap_query = 1;
	memset(v, 0, sizeof(*v));
	v->start = q.vma_start;
	v->end = q.vma_end;
	v->offset = q.vma_offset;
	v->inode = q.inode;
	v->dev_major = q.dev_major;
	v->dev_minor = q.dev_minor;
	v->prot = (q.vma_flags & PMQ_VMA_READABLE ? DBG_PROT_READ : 0) |
		  (q.vma_flags & PMQ_VMA_WRITABLE ? DBG_PROT_WRITE : 0) |
		  (q.vma_flags & PMQ_VMA_EXECUTABLE ? DBG_PROT_EXEC : 0);
	v->flags = q.vma_flags & PMQ_VMA_SHARED ? DBG_VMA_SHARED : 0;
	v->name = "";
	if (name && name_len) {
		name[q.vma_name_size ? name_len - 1 : 0] = 0;
		if (!q.vma_name_size)
			name[0] = 0;
		size_t n = strlen(name);
		if (n >= sizeof(deleted_suffix) - 1 &&
		    !strcmp(name + n - (sizeof(deleted_suffix) - 1), deleted_suffix)) {
			v->flags |= DBG_VMA_DELETED;
			name[n - (sizeof(deleted_suffix) - 1)] = 0;
		}
		if (name[0] == '[')
			v->flags |= DBG_VMA_SPECIAL;
		v->name = name;
	}
	return 0;
}

/*
 * The table was wrong about @addr (a read found a hole or stopped short):
 * learn the truth about that one address. With PROCMAP_QUERY this patches
 * one entry; without, it re-reads the whole file.
 */
int dbg__maps_refresh_addr(struct dbg_proc *p, uint64_t addr)
{
	if (!p->maps)
		return dbg__maps_refresh(p);
	struct dbg_vma v;
	char name[4096];
	int r = procmap_query(p, addr, &v, name, sizeof(name));
	if (r == -DBG_ERRNO_UNSUPPORTED)
		return dbg__maps_refresh(p);
	p->mem.stats.maps_refreshes++;
	if (r == -ENOENT) {
		/* A hole now: drop any entry that claims this page. */
		uint64_t pg = addr & ~(uint64_t)(DBG__PAGE_SIZE - 1);
		return maps_patch(p->maps, pg, pg + DBG__PAGE_SIZE, NULL);
	}
	if (r < 0)
		return r;
	return maps_patch(p->maps, v.start, v.end, &v);
}

int dbg_proc_vma_query(struct dbg_proc *p, uint64_t addr, struct dbg_vma *ret_vma,
		       char *name_buf, size_t name_len)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!ret_vma)
		return -EINVAL;
	if (p->exited)
		return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	r = procmap_query(p, addr, ret_vma, name_buf, name_len);
	if (r != -DBG_ERRNO_UNSUPPORTED)
		return r;
	if ((r = dbg__maps_refresh(p)) < 0)
		return r;
	const struct dbg_vma *v = dbg_maps_find(p->maps, addr);
	if (!v)
		return -ENOENT;
	*ret_vma = *v;
	if (name_buf && name_len) {
		snprintf(name_buf, name_len, "%s", v->name);
		ret_vma->name = name_buf;
	} else {
		ret_vma->name = "";
	}
	return 0;
}
