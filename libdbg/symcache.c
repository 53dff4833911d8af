/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The persistent cache of prepared debuginfo. Inflating a distribution's
 * compressed separate debuginfo (debuginfo.c) is most of what a first
 * symbolization costs, and a tool like dbg-stack is a new process each
 * time: the inflated file is kept on disk, keyed by build-id, and the
 * next run maps it instead.
 *
 * - Where: dbg_sym_opts.cache_dir, else $XDG_CACHE_HOME/libdbg (an
 *   absolute XDG_CACHE_HOME only), else $HOME/.cache/libdbg; created
 *   0700. A directory that is not ours (another owner, writable by group
 *   or others, a symlink) or cannot be made is not used: the file is
 *   inflated in memory as without a cache.
 * - What: only debuginfo found by build-id, so the key names the
 *   contents; an entry is "<build-id hex>.debug", the ELF file libdw
 *   opens, followed by a trailer: magic, the length and CRC-32 of the
 *   bytes its headers and sections refer to, a CRC-32 of the headers,
 *   and the build-id again; its mtime carries a stamp (open_entry()).
 *   An entry whose size, trailer, CRCs or build-id does not match
 *   (truncated, corrupt, foreign) is removed and rebuilt. The full CRC
 *   is computed only when the mtime lost its stamp (a write touched
 *   the file). Reading every byte of libc's debuginfo was 9% of a warm
 *   dbg-stack run's instructions, and faulted in pages libdw never reads.
 * - Writers: each writes a private temporary file and renames it into
 *   place, so a reader sees a whole entry or none; concurrent writers of
 *   one key each produce the same bytes, and the last rename wins.
 * - Size: after a write, entries are removed oldest first (by mtime,
 *   which a hit refreshes at most hourly) until the total is within
 *   dbg_sym_opts.cache_max (default 1 GiB); stale temporary files of
 *   crashed writers go too.
 * - DBG_SYM_NO_CACHE: neither read nor written.
 */
#include "internal.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libdeflate.h>

#define TRAILER_MAGIC "LIBDBGC\001"
#define DEFAULT_MAX (1ull << 30)

struct trailer {
	char magic[8];
	uint64_t data_len;     /* the bytes before the trailer */
	uint32_t crc;          /* of what the headers refer to */
	uint32_t id_len;
	uint8_t id[64];        /* then, for ids of up to 60 bytes, at 60: hdr_crc */
};

/* The CRC-32 of the ELF, program and section headers, kept in the last
 * bytes of the id field, which older libdbg writes as zeros and never
 * reads: the layout is unchanged, so entries written by either version
 * are whole to both, and they do not remove each other's. 0: none
 * (an older writer's entry; checked in full, then given one). */
static uint32_t hdr_crc(const struct trailer *t)
{
	uint32_t v = 0;
	if (t->id_len <= 60)
		memcpy(&v, t->id + 60, 4);
	return v;
}

static void set_hdr_crc(struct trailer *t, uint32_t v)
{
	if (t->id_len <= 60)
		memcpy(t->id + 60, &v, 4);
}

/* The nanoseconds of the mtime an entry is given when it is written or
 * its CRC found right: a value of its trailer's. A write since (an edit,
 * a truncation) sets the mtime to the kernel's clock, whose nanoseconds
 * are this value one time in 10^9. */
static long stamp_nsec(const struct trailer *t)
{
	return (long)(((uint64_t)t->crc << 32 | hdr_crc(t)) * 0x9e3779b97f4a7c15ull % 1000000000u);
}

/* CRC-32 of the bytes an ELF file's headers and sections refer to: not
 * every byte (the prepared file keeps the compressed originals no header
 * points at any more), but every byte libdw may read. false when the
 * headers themselves do not fit. */
static bool elf_crc(const uint8_t *d, size_t size, uint32_t *ret, uint32_t *ret_hdr)
{
	if (size < sizeof(Elf64_Ehdr) || memcmp(d, ELFMAG, SELFMAG) != 0 || d[EI_CLASS] != ELFCLASS64)
		return false;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)d;
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size || eh->e_shoff % 8 ||
	    (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size - eh->e_shoff)
		return false;
	if (eh->e_phnum && (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > size ||
			    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size - eh->e_phoff))
		return false;
	const Elf64_Shdr *sh0 = (const Elf64_Shdr *)(d + eh->e_shoff);
	for (unsigned int i = 0; i < eh->e_shnum; i++)
		if (sh0[i].sh_type != SHT_NOBITS && sh0[i].sh_size &&
		    (sh0[i].sh_offset > size || sh0[i].sh_size > size - sh0[i].sh_offset))
			return false;
	uint32_t c = libdeflate_crc32(0, d, sizeof(Elf64_Ehdr));
	if (eh->e_phnum)
		c = libdeflate_crc32(c, d + eh->e_phoff, (size_t)eh->e_phnum * sizeof(Elf64_Phdr));
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(d + eh->e_shoff);
	c = libdeflate_crc32(c, sh, (size_t)eh->e_shnum * sizeof(Elf64_Shdr));
	if (ret_hdr)
		*ret_hdr = c;
	if (!ret)
		return true;
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type == SHT_NOBITS || sh[i].sh_size == 0)
			continue;
		if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset)
			return false;
		c = libdeflate_crc32(c, d + sh[i].sh_offset, sh[i].sh_size);
	}
	*ret = c;
	return true;
}

/* Open (making it if need be) the cache directory; -1 when there is
 * none to use. */
static int open_dir(const struct dbg_sym *s)
{
	char path[PATH_MAX];
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int w;
	if (s->cache_dir)
		w = snprintf(path, sizeof(path), "%s", s->cache_dir);
	else if (xdg && xdg[0] == '/')
		w = snprintf(path, sizeof(path), "%s", xdg);
	else if (home && home[0] == '/')
		w = snprintf(path, sizeof(path), "%s/.cache", home);
	else
		return -1;
	if (w <= 0 || (size_t)w >= sizeof(path) - 8)
		return -1;
	if (!s->cache_dir) {
		/* The base directory may not exist yet (a fresh account). */
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -1;
		strcat(path, "/libdbg");
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	struct stat st;
	/* Entries decide what names and lines are printed: a directory
	 * others can write to is not trusted. */
	if (fstat(dfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022) ||
	    faccessat(dfd, ".", W_OK | X_OK, AT_EACCESS) < 0) {
		close(dfd);
		return -1;
	}
	return dfd;
}

/* Stamp entry @fd (whose trailer is @t) as checked now: its mtime is now,
 * with stamp_nsec() for nanoseconds. */
static void stamp(int fd, const struct trailer *t)
{
	struct timespec now[2];
	clock_gettime(CLOCK_REALTIME, &now[1]);
	now[0].tv_sec = 0;
	now[0].tv_nsec = UTIME_OMIT;
	now[1].tv_nsec = stamp_nsec(t);
	futimens(fd, now);
}

/* The entry @name if it is whole and carries build-id @id: its fd.
 * Checked on every hit: size, trailer, build-id, and a CRC of the ELF
 * headers (what tells libdw where everything is). The CRC of all the
 * bytes the headers refer to is checked when the entry's mtime does not
 * carry its stamp (stamp_nsec()): a write since (a truncation, an edit)
 * changed it, and the entry is rebuilt unless the CRC still matches; a
 * filesystem without nanosecond times gets the full check every time.
 * Not caught: bytes that change on the medium without a write (left to
 * the disk's and the filesystem's own checks), a write whose mtime hits
 * the stamp (one in 10^9), and a same-user process forging an entry
 * (which could forge a CRC as well; the directory is the user's own,
 * mode 0700). */
static int open_entry(int dfd, const char *name, const uint8_t *id, int idlen)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	struct trailer t;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		  st.st_size > (off_t)sizeof(t) &&
		  pread(fd, &t, sizeof(t), st.st_size - sizeof(t)) == (ssize_t)sizeof(t) &&
		  memcmp(t.magic, TRAILER_MAGIC, 8) == 0 && t.data_len == (uint64_t)st.st_size - sizeof(t) &&
		  t.id_len == (uint32_t)idlen && memcmp(t.id, id, idlen) == 0;
	uint32_t stored = ok ? hdr_crc(&t) : 0, hdr = 0;
	bool full = !ok || !stored || st.st_mtim.tv_nsec != stamp_nsec(&t);
	if (ok) {
		void *m = mmap(NULL, t.data_len, PROT_READ, MAP_PRIVATE, fd, 0);
		uint32_t crc;
		const uint8_t *bid;
		ok = m != MAP_FAILED && elf_crc(m, t.data_len, full ? &crc : NULL, &hdr) &&
		     (!stored || hdr == stored) &&
		     (!full || crc == t.crc) && dbg__elf_build_id(m, t.data_len, &bid) == idlen &&
		     memcmp(bid, id, idlen) == 0;
		if (m != MAP_FAILED)
			munmap(m, t.data_len);
	}
	if (!ok) {
		close(fd);
		unlinkat(dfd, name, 0); /* rebuilt below */
		return -1;
	}
	/* Checked in full now; or recently used, kept from eviction
	 * without a write per run. */
	struct timespec nowts;
	clock_gettime(CLOCK_REALTIME, &nowts);
	if (full || nowts.tv_sec - st.st_mtim.tv_sec > 3600) {
		int wfd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat wst;
		bool same = wfd >= 0 && fstat(wfd, &wst) == 0 && wst.st_ino == st.st_ino &&
			    wst.st_dev == st.st_dev;
		if (same && !stored && hdr && t.id_len <= 60) {
			/* An older writer's entry, found whole: give it the
			 * headers' CRC so later hits can skip the full one. */
			set_hdr_crc(&t, hdr);
			same = pwrite(wfd, &t, sizeof(t), st.st_size - sizeof(t)) == (ssize_t)sizeof(t);
		}
		if (same)
			stamp(wfd, &t);
		if (wfd >= 0)
			close(wfd);
	}
	return fd;
}

struct victim {
	char name[NAME_MAX + 1];
	struct timespec mtime;
	uint64_t size;
};

static int cmp_victims(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : x->mtime.tv_nsec > y->mtime.tv_nsec;
}

/* Remove the oldest entries until the total is within @max, and
 * temporary files older than an hour. */
static void evict(int dfd, uint64_t max)
{
	int d2 = dup(dfd);
	DIR *dir = d2 >= 0 ? fdopendir(d2) : NULL;
	if (!dir) {
		if (d2 >= 0)
			close(d2);
		return;
	}
	struct victim *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = 0;
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(dir))) {
		struct stat st;
		size_t len = strlen(de->d_name);
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (strncmp(de->d_name, ".tmp.", 5) == 0) {
			if (now - st.st_mtim.tv_sec > 3600)
				unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (len < 7 || strcmp(de->d_name + len - 6, ".debug") != 0)
			continue;
		if (n == cap) {
			struct victim *nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
		v[n].mtime = st.st_mtim;
		v[n].size = (uint64_t)st.st_blocks * 512;
		total += v[n++].size;
	}
	closedir(dir);
	if (total > max) {
		qsort(v, n, sizeof(*v), cmp_victims);
		for (size_t i = 0; i < n && total > max; i++)
			if (unlinkat(dfd, v[i].name, 0) == 0 || errno == ENOENT)
				total -= v[i].size;
	}
	free(v);
}

/* Write the prepared file in @src (a memfd) as entry @name. */
static void store(const struct dbg_sym *s, int dfd, const char *name, int src, const uint8_t *id,
		  int idlen)
{
	struct stat st;
	if (fstat(src, &st) < 0 || st.st_size <= 0)
		return;
	size_t size = st.st_size;
	void *m = mmap(NULL, size, PROT_READ, MAP_SHARED, src, 0);
	if (m == MAP_FAILED)
		return;
	struct trailer t = { .data_len = size, .id_len = (uint32_t)idlen };
	memcpy(t.magic, TRAILER_MAGIC, 8);
	memcpy(t.id, id, idlen);
	uint32_t hdr;
	if (!elf_crc(m, size, &t.crc, &hdr)) {
		munmap(m, size);
		return;
	}
	set_hdr_crc(&t, hdr);
	/* Make room first, so the new entry is not the one evicted. */
	uint64_t max = s->cache_max ? s->cache_max : DEFAULT_MAX;
	if (size + sizeof(t) > max) {
		munmap(m, size);
		return;
	}
	evict(dfd, max - size - sizeof(t));
	char tmp[NAME_MAX + 1];
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(tmp, sizeof(tmp), ".tmp.%d.%lx.%s", (int)getpid(),
		 (unsigned long)(ts.tv_nsec ^ (uintptr_t)&t), name);
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		munmap(m, size);
		return;
	}
	bool ok = true;
	for (size_t off = 0; ok && off < size;) {
		ssize_t w = write(fd, (const uint8_t *)m + off, size - off);
		ok = w > 0;
		off += ok ? (size_t)w : 0;
	}
	ok = ok && write(fd, &t, sizeof(t)) == (ssize_t)sizeof(t);
	if (ok)
		stamp(fd, &t); /* written from the bytes just checked */
	/* On disk before its name is: after a crash an entry is whole or
	 * absent (the CRC catches what this cannot). */
	ok = ok && fdatasync(fd) == 0;
	ok = close(fd) == 0 && ok;
	munmap(m, size);
	if (!ok || renameat(dfd, tmp, dfd, name) < 0)
		unlinkat(dfd, tmp, 0);
}

int dbg__symcache_debuginfo(struct dbg_sym *s, int fd, const uint8_t *id, int idlen)
{
	int dfd = -1;
	if (!(s->flags & DBG_SYM_NO_CACHE) && idlen > 1 && idlen <= 64)
		dfd = open_dir(s);
	if (dfd < 0)
		return dbg__debuginfo_inflate(fd, s->threads);
	char name[NAME_MAX + 1];
	for (int i = 0; i < idlen; i++)
		snprintf(name + 2 * i, 3, "%02x", id[i]);
	strcat(name, ".debug");
	int cached = open_entry(dfd, name, id, idlen);
	if (cached >= 0) {
		close(dfd);
		return cached;
	}
	int out = dbg__debuginfo_inflate(fd, s->threads);
	if (out >= 0) {
		store(s, dfd, name, out, id, idlen);
	}
	close(dfd);
	return out;
}
