/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Modules and symbols. The module table comes from our VMA table, not from
 * libdwfl's own /proc/PID/maps reader: each ELF file is opened once through
 * /proc/PID/map_files (the inode the target mapped) and mmapped here, so
 * the unwinder reads unwind tables and code locally instead of from the
 * target, and libdwfl gets the same descriptor for symbols and lines.
 * See doc/unwinding.md.
 */
#include "internal.h"

#include <elf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <dwarf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DW_EH_PE_omit 0xff
#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_datarel 0x30
#define EH_TABLE_ENC (DW_EH_PE_datarel | DW_EH_PE_sdata4)

static const char default_debuginfo_path[] = ":.debug:/usr/lib/debug";
static const char not_elf[] = "not an ELF file";

/* ---- the local copy of an image -------------------------------------- */

/* Open the file behind @v as the target sees it. map_files names the very
 * inode mapped (deleted files, other mount namespaces) but needs
 * CAP_SYS_ADMIN; the path under the target's root is checked against the
 * device and inode that maps reports. */
static int open_mapped_file(pid_t pid, const struct dbg_vma *v, const char **ret_err)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, v->start, v->end);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (v->flags & DBG_VMA_DELETED) {
		*ret_err = "deleted file, and /proc/PID/map_files is refused (needs CAP_SYS_ADMIN)";
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/root%s", pid, v->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*ret_err = "cannot open the file under /proc/PID/root";
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_ino != v->inode || major(st.st_dev) != v->dev_major ||
	    minor(st.st_dev) != v->dev_minor) {
		close(fd);
		*ret_err = "the file at the mapped path is not the mapped inode";
		return -1;
	}
	return fd;
}

/* Where the bytes at link-time address @vaddr are in the file, from the
 * program headers; false when no segment holds them in the file. */
static bool vaddr_to_offset(const Elf64_Phdr *ph, unsigned n, uint64_t vaddr, uint64_t len,
			    uint64_t *ret_off)
{
	for (unsigned i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD || vaddr < ph[i].p_vaddr ||
		    vaddr - ph[i].p_vaddr > ph[i].p_filesz || len > ph[i].p_filesz - (vaddr - ph[i].p_vaddr))
			continue;
		*ret_off = ph[i].p_offset + (vaddr - ph[i].p_vaddr);
		return true;
	}
	return false;
}

/* Read the program headers of the local copy and derive the bias, the
 * RELRO range and the .eh_frame_hdr table. Every offset and count comes
 * from a file the target controls: all are checked against the size. */
static const char *parse_elf(struct dbg__image *im, const struct dbg_vma *first)
{
	const uint8_t *d = im->data;
	if (im->size < sizeof(Elf64_Ehdr) || memcmp(d, ELFMAG, SELFMAG) != 0)
		return not_elf;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)d;
	if (d[EI_CLASS] != ELFCLASS64 || d[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
		return "not an x86_64 ELF file";
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > im->size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > im->size - eh->e_phoff || eh->e_phoff % 8)
		return "bad program headers";
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(d + eh->e_phoff);
	unsigned n = eh->e_phnum;

	/* The first VMA maps file offset first->offset: the PT_LOAD holding
	 * it says which link-time address that is. */
	im->bias = 0;
	bool found = false;
	for (unsigned i = 0; i < n && !found; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		uint64_t off = ph[i].p_offset & ~(uint64_t)(DBG__PAGE_SIZE - 1);
		if (first->offset < off || first->offset - off > ph[i].p_filesz)
			continue;
		uint64_t vaddr = (ph[i].p_vaddr & ~(uint64_t)(DBG__PAGE_SIZE - 1)) + (first->offset - off);
		im->bias = eh->e_type == ET_DYN ? first->start - vaddr : 0;
		found = true;
	}
	if (!found)
		return "no loadable segment matches the mapping";

	for (unsigned i = 0; i < n; i++) {
		if (ph[i].p_type == PT_GNU_RELRO) {
			im->relro_lo = im->bias + ph[i].p_vaddr;
			im->relro_hi = im->relro_lo + ph[i].p_memsz;
		} else if (ph[i].p_type == PT_GNU_EH_FRAME) {
			uint64_t off;
			if (!vaddr_to_offset(ph, n, ph[i].p_vaddr, 12, &off) || off > im->size - 12)
				continue;
			const uint8_t *h = d + off;
			/* version 1, a 4-byte eh_frame pointer, a 4-byte count
			 * and the sorted table libunwind can search. */
			if (h[0] != 1 || h[3] != EH_TABLE_ENC || (h[1] & 0x0f) != DW_EH_PE_sdata4 ||
			    h[2] != DW_EH_PE_udata4)
				continue;
			uint32_t count;
			memcpy(&count, h + 8, 4);
			uint64_t toff;
			if (!vaddr_to_offset(ph, n, ph[i].p_vaddr + 12, (uint64_t)count * 8, &toff))
				continue;
			im->eh_hdr = im->bias + ph[i].p_vaddr;
			im->eh_table = im->eh_hdr + 12;
			im->eh_count = count;
		}
	}
	return NULL;
}

/* The read-only file-backed VMAs of an image, as local ranges. */
static int add_seg(struct dbg__image *im, const struct dbg_vma *v)
{
	if ((v->prot & (DBG_PROT_WRITE | DBG_PROT_READ)) != DBG_PROT_READ || v->offset >= im->size)
		return 0;
	struct dbg__seg *n = realloc(im->segs, (im->nsegs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	im->segs = n;
	uint64_t len = v->end - v->start;
	if (len > im->size - v->offset)
		len = im->size - v->offset; /* past the end of the file: not ours to serve */
	n[im->nsegs++] = (struct dbg__seg){ v->start, v->start + len, v->offset };
	return 0;
}

static void free_cuindex(struct dbg__image *im);
static void free_symcache(struct dbg_sym *s);

static void image_fini(struct dbg__image *im)
{
	dbg__symtab_free(im); /* names point into the data */
	free_cuindex(im);
	if (im->data) {
		if (im->vdso)
			free((void *)im->data);
		else
			munmap((void *)im->data, im->size);
	}
	free(im->segs);
	free(im->path);
	memset(im, 0, sizeof(*im));
}

/* ---- building the table ------------------------------------------- */

/* Separate debuginfo, found here (dbg__debug_open()) so that a
 * compressed file found by build-id can be handed over inflated, from the
 * persistent cache (symcache.c, debuginfo.c); libdwfl's own search would
 * keep the handle it opened to check the build-id, and would load the
 * debuginfod client (a dlopen of libcurl and TLS libraries: a few
 * milliseconds of each run) even when no server is configured. It is
 * asked only when DEBUGINFOD_URLS names servers. Each module's userdata
 * is its dbg_sym. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			  char **debuginfo_file_name)
{
	struct dbg_sym *s = *userdata;
	struct dbg__image *im = NULL;
	for (size_t i = 0; s && i < s->nimages && !im; i++)
		if (s->images[i].mod == mod)
			im = &s->images[i];
	if (im && im->data) {
		char path[PATH_MAX];
		bool by_id;
		int fd = dbg__debug_open(s, im->path, im->vdso, im->data, im->size, &by_id, path,
					 sizeof(path));
		if (fd >= 0) {
			*debuginfo_file_name = strdup(path);
			const unsigned char *id;
			GElf_Addr vaddr;
			int len = by_id ? dwfl_module_build_id(mod, &id, &vaddr) : 0;
			int inflated = len > 1 ? dbg__symcache_debuginfo(s, fd, id, len) : -1;
			if (inflated < 0)
				return fd;
			close(fd);
			return inflated;
		}
		const char *urls = getenv("DEBUGINFOD_URLS");
		if (!urls || !urls[strspn(urls, " ")])
			return -1;
	}
	return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					    debuglink_crc, debuginfo_file_name);
}

static void free_images(struct dbg_sym *s)
{
	for (size_t i = 0; i < s->nimages; i++)
		image_fini(&s->images[i]);
	free(s->images);
	s->images = NULL;
	s->nimages = 0;
	s->hint = 0;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	s->dwfl = NULL;
	s->dwfl_attached = false;
	free_symcache(s);
}

static bool same_file(const struct dbg_vma *a, const struct dbg_vma *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
	       strcmp(a->name, b->name) == 0;
}

/* Hand an image to libdwfl: a duplicate of the descriptor we mapped (a
 * memfd holding the bytes for the vdso), under the path as seen from the
 * target's root so that .gnu_debuglink is looked up there. */
static void report_image(struct dbg_sym *s, struct dbg__image *im, int fd)
{
	int dfd;
	if (im->vdso) {
		dfd = memfd_create("dbg-vdso", MFD_CLOEXEC);
		if (dfd >= 0 && write(dfd, im->data, im->size) != (ssize_t)im->size) {
			close(dfd);
			dfd = -1;
		}
	} else {
		dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	}
	if (dfd < 0) {
		im->error = "cannot duplicate the file descriptor";
		return;
	}
	char file[PATH_MAX + 64];
	if (im->vdso)
		snprintf(file, sizeof(file), "[vdso: %d]", s->proc->pid);
	else
		snprintf(file, sizeof(file), "/proc/%d/root%s", s->proc->mm_tid, im->path);
	im->mod = dwfl_report_elf(s->dwfl, im->path, file, dfd, im->bias, true);
	if (!im->mod) {
		close(dfd);
		im->error = "libdwfl refused the file";
		return;
	}
	void **userdata;
	dwfl_module_info(im->mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	*userdata = s;
}

static int add_image(struct dbg_sym *s, const struct dbg_maps *maps, size_t *idx)
{
	size_t begin = *idx;
	const struct dbg_vma *first = dbg_maps_get(maps, begin);
	size_t end = begin + 1;
	bool vdso = strcmp(first->name, "[vdso]") == 0;
	if (!vdso) {
		/* The file's VMAs follow each other; the next mapping of the
		 * file at offset 0 is another image. */
		while (end < dbg_maps_count(maps)) {
			const struct dbg_vma *v = dbg_maps_get(maps, end);
			if (!same_file(first, v) || v->offset == 0)
				break;
			end++;
		}
	}
	const struct dbg_vma *last = dbg_maps_get(maps, end - 1);
	*idx = end;

	struct dbg__image im = { .vdso = vdso, .start = first->start, .end = last->end,
				 .deleted = first->flags & DBG_VMA_DELETED };
	im.path = strdup(first->name);
	if (!im.path)
		return -ENOMEM;
	int fd = -1;
	if (vdso) {
		size_t len = first->end - first->start;
		uint8_t *buf = malloc(len);
		if (!buf) {
			image_fini(&im);
			return -ENOMEM;
		}
		if (dbg_mem_read(s->proc, first->start, buf, len) != (ssize_t)len) {
			free(buf);
			im.error = "cannot read the vdso";
		} else {
			im.data = buf;
			im.size = len;
		}
	} else {
		fd = open_mapped_file(s->proc->mm_tid, first, &im.error);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) {
			void *m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (m != MAP_FAILED) {
				im.data = m;
				im.size = st.st_size;
			} else {
				im.error = "cannot map the file";
			}
		} else if (fd >= 0) {
			im.error = "empty or unreadable file";
		}
	}
	if (im.data) {
		im.error = parse_elf(&im, first);
		if (im.error == not_elf && !vdso) {
			/* A font, a locale archive: not a module. */
			if (fd >= 0)
				close(fd);
			image_fini(&im);
			return 0;
		}
	}
	if (im.data && !im.error) {
		for (size_t i = begin; i < end; i++)
			if (add_seg(&im, dbg_maps_get(maps, i)) < 0) {
				if (fd >= 0)
					close(fd);
				image_fini(&im);
				return -ENOMEM;
			}
		report_image(s, &im, fd);
	}
	if (fd >= 0)
		close(fd);
	struct dbg__image *n = realloc(s->images, (s->nimages + 1) * sizeof(*n));
	if (!n) {
		image_fini(&im);
		return -ENOMEM;
	}
	s->images = n;
	n[s->nimages++] = im;
	return 0;
}

static int build(struct dbg_sym *s)
{
	static const Dwfl_Callbacks callbacks_template = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = find_debuginfo,
	};
	free_images(s);
	s->generation++;
	Dwfl_Callbacks *cb = (Dwfl_Callbacks *)(s + 1);
	*cb = callbacks_template;
	cb->debuginfo_path = &s->debuginfo_path;
	s->dwfl = dwfl_begin(cb);
	if (!s->dwfl)
		return dbg__fail(s->proc, -ENOMEM, "dwfl_begin: %s", dwfl_errmsg(-1));

	/* A fresh table: the files mapped now, and -ESRCH for a dead target
	 * (whose maps are empty) rather than a table of what it had. */
	const struct dbg_maps *maps;
	int r = dbg__maps_refresh(s->proc);
	if (r == 0)
		r = dbg__maps_get(s->proc, &maps);
	if (r < 0)
		return r;
	char link[64];
	snprintf(link, sizeof(link), "/proc/%d/exe", s->proc->mm_tid);
	ssize_t n = readlink(link, s->exe, sizeof(s->exe) - 1);
	s->exe[n > 0 ? n : 0] = 0;
	if (n > 10 && strcmp(s->exe + n - 10, " (deleted)") == 0)
		s->exe[n - 10] = 0;

	dwfl_report_begin(s->dwfl);
	for (size_t i = 0; i < dbg_maps_count(maps);) {
		const struct dbg_vma *v = dbg_maps_get(maps, i);
		bool file = v->name[0] == '/' && !(v->flags & DBG_VMA_SPECIAL) && v->inode != 0;
		if (!file && strcmp(v->name, "[vdso]") != 0) {
			i++;
			continue;
		}
		/* A library's first mapping is at offset 0; a VMA in the middle
		 * of a file we did not see the start of is not an image. */
		if (file && v->offset != 0) {
			i++;
			continue;
		}
		r = add_image(s, maps, &i);
		if (r < 0) {
			dwfl_report_end(s->dwfl, NULL, NULL);
			return dbg__fail(s->proc, r, "building the module table");
		}
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	return 0;
}

/* ---- public: lifetime ------------------------------------------------ */

int dbg_sym_new(struct dbg_proc *proc, const struct dbg_sym_opts *opts, struct dbg_sym **ret_sym)
{
	int r = dbg__enter(proc);
	if (r < 0)
		return r;
	if (!ret_sym || !dbg__opts_valid(opts, sizeof(struct dbg_sym_opts)))
		return -EINVAL;
	/* The Dwfl_Callbacks libdwfl keeps a pointer to live right after
	 * the struct, so one allocation holds both. */
	struct dbg_sym *s = calloc(1, sizeof(*s) + sizeof(Dwfl_Callbacks));
	if (!s)
		return -ENOMEM;
	s->proc = proc;
	s->threads = opts ? opts->threads : 0;
	s->flags = opts ? opts->flags : 0;
	if (s->flags & ~(unsigned int)(DBG_SYM_NO_DWARF | DBG_SYM_NO_CACHE)) {
		free(s);
		return -EINVAL;
	}
	const char *dpath = opts && opts->debuginfo_path ? opts->debuginfo_path : default_debuginfo_path;
	s->debuginfo_path = strdup(dpath);
	if (opts && opts->sz >= offsetof(struct dbg_sym_opts, cache_max) + sizeof(opts->cache_max)) {
		s->cache_max = opts->cache_max;
		s->cache_dir = opts->cache_dir ? strdup(opts->cache_dir) : NULL;
		if (opts->cache_dir && !s->cache_dir) {
			free(s->debuginfo_path);
			s->debuginfo_path = NULL;
		}
	}
	if (!s->debuginfo_path) {
		free(s);
		return -ENOMEM;
	}
	r = build(s);
	if (r < 0) {
		dbg_sym_free(s);
		return r;
	}
	*ret_sym = s;
	return 0;
}

void dbg_sym_free(struct dbg_sym *sym)
{
	if (!sym)
		return;
	free_images(sym);
	free(sym->debuginfo_path);
	free(sym->cache_dir);
	free(sym);
}

int dbg_sym_refresh(struct dbg_sym *sym)
{
	if (!sym)
		return -EINVAL;
	int r = dbg__enter(sym->proc);
	return r < 0 ? r : build(sym);
}

/* ---- lookups ----------------------------------------------------------- */

struct dbg__image *dbg__sym_image(struct dbg_sym *s, uint64_t addr)
{
	if (s->hint < s->nimages) {
		struct dbg__image *im = &s->images[s->hint];
		if (addr >= im->start && addr < im->end)
			return im;
	}
	size_t lo = 0, hi = s->nimages;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct dbg__image *im = &s->images[mid];
		if (addr < im->start)
			hi = mid;
		else if (addr >= im->end)
			lo = mid + 1;
		else {
			s->hint = mid;
			return im;
		}
	}
	return NULL;
}

const uint8_t *dbg__sym_local(struct dbg_sym *s, uint64_t addr, size_t *ret_avail)
{
	struct dbg__image *im = dbg__sym_image(s, addr);
	if (!im || (addr >= im->relro_lo && addr < im->relro_hi))
		return NULL;
	for (size_t i = 0; i < im->nsegs; i++) {
		const struct dbg__seg *g = &im->segs[i];
		if (addr >= g->start && addr < g->end) {
			uint64_t avail = g->end - addr;
			/* Stop short of the RELRO range if it starts later. */
			if (im->relro_lo > addr && im->relro_lo - addr < avail)
				avail = im->relro_lo - addr;
			*ret_avail = avail;
			return im->data + g->offset + (addr - g->start);
		}
	}
	return NULL;
}

bool dbg__sym_read_local(struct dbg_sym *s, uint64_t addr, void *buf, size_t len)
{
	size_t avail;
	const uint8_t *p = dbg__sym_local(s, addr, &avail);
	if (!p || avail < len)
		return false;
	memcpy(buf, p, len);
	return true;
}

/* The cache slot of @addr, reset for it if another address held it;
 * NULL when there is no memory for a cache. */
/* The slots index entries handed out in chunks as addresses come: a run
 * that asks about a few dozen addresses touches a few pages, where one
 * table of 1,024 entries (400 KB, every address on a page of its own)
 * cost a page fault per address. */
#define SYMCACHE_CHUNK 32
struct dbg__symcache {
	uint16_t slot[DBG__SYMCACHE_SLOTS]; /* entry index + 1; 0: none yet */
	struct dbg__symcache_entry *chunk[DBG__SYMCACHE_SLOTS / SYMCACHE_CHUNK];
	unsigned int used;
};

static void free_symcache(struct dbg_sym *s)
{
	if (s->cache)
		for (size_t i = 0; i < DBG__SYMCACHE_SLOTS / SYMCACHE_CHUNK; i++)
			free(s->cache->chunk[i]);
	free(s->cache);
	s->cache = NULL;
}

static struct dbg__symcache_entry *cache_slot(struct dbg_sym *sym, uint64_t addr)
{
	if (addr == UINT64_MAX)
		return NULL;
	if (!sym->cache && !(sym->cache = calloc(1, sizeof(*sym->cache))))
		return NULL;
	struct dbg__symcache *c = sym->cache;
	uint16_t *slot = &c->slot[(addr * 0x9e3779b97f4a7c15ull) >> 54 & (DBG__SYMCACHE_SLOTS - 1)];
	if (!*slot) {
		unsigned int k = c->used / SYMCACHE_CHUNK;
		if (!c->chunk[k] && !(c->chunk[k] = malloc(SYMCACHE_CHUNK * sizeof(*c->chunk[k]))))
			return NULL;
		c->chunk[k][c->used % SYMCACHE_CHUNK].key = 0;
		*slot = (uint16_t)(++c->used);
	}
	struct dbg__symcache_entry *e = &c->chunk[(*slot - 1) / SYMCACHE_CHUNK][(*slot - 1) % SYMCACHE_CHUNK];
	if (e->key != addr + 1) {
		e->key = addr + 1;
		e->sym_rc = 1;
		e->nlocs = 0;
	}
	return e;
}

static int module_of(struct dbg_sym *sym, uint64_t addr, struct dbg__image **ret)
{
	if (!sym)
		return -EINVAL;
	struct dbg__image *im = dbg__sym_image(sym, addr);
	if (!im)
		return -ENOENT;
	*ret = im;
	return 0;
}

int dbg_sym_module(struct dbg_sym *sym, uint64_t addr, struct dbg_module *ret_mod)
{
	struct dbg__image *im;
	int r = module_of(sym, addr, &im);
	if (r < 0)
		return r;
	if (!ret_mod)
		return -EINVAL;
	struct dbg_module m = { .start = im->start, .end = im->end, .bias = im->bias,
				.path = im->path, .deleted = im->deleted, .error = im->error };
	/* Asked once per frame by a stack printer: the answers are kept. */
	if (!im->mod_info) {
		const uint8_t *bits = NULL;
		int len = im->data ? dbg__elf_build_id(im->data, im->size, &bits) : 0;
		if (len <= 0 && im->mod) {
			GElf_Addr vaddr;
			const unsigned char *b;
			len = dwfl_module_build_id(im->mod, &b, &vaddr);
			bits = b;
		}
		im->build_id = len > 0 ? bits : NULL;
		im->build_id_len = len > 0 ? len : 0;
		int n = im->data && !im->error ? dbg__symtab_count(sym, im) : 0;
		if (n == -ENOMEM)
			return n;
		im->has_symbols = n > 0;
		/* Names only: DWARF is not looked for, so not reported. */
		if (im->mod && !(sym->flags & DBG_SYM_NO_DWARF)) {
			Dwarf_Addr bias;
			im->has_dwarf = dwfl_module_getdwarf(im->mod, &bias) != NULL;
		}
		im->mod_info = true;
	}
	m.build_id = im->build_id;
	m.build_id_len = im->build_id_len;
	m.has_symbols = im->has_symbols;
	m.has_dwarf = im->has_dwarf;
	*ret_mod = m;
	return 0;
}

int dbg_sym_lookup(struct dbg_sym *sym, uint64_t addr, struct dbg_symbol *ret_symbol)
{
	struct dbg__image *im;
	int r = module_of(sym, addr, &im);
	if (r < 0)
		return r;
	if (!ret_symbol)
		return -EINVAL;
	struct dbg__symcache_entry *e = cache_slot(sym, addr);
	if (e && e->sym_rc != 1) {
		if (e->sym_rc == 0)
			*ret_symbol = e->sym;
		return e->sym_rc;
	}
	struct dbg_symbol s = { 0 };
	r = im->data && !im->error ? dbg__symtab_lookup(sym, im, addr, &s) : -ENOENT;
	if (r == -ENOMEM)
		return r; /* not an answer to keep */
	if (e) {
		e->sym_rc = r;
		e->sym = s;
	}
	if (r == 0)
		*ret_symbol = s;
	return r;
}

/* ---- address -> compile unit ---------------------------------------- */

/* Which unit holds an address: libdwfl's answer (dwfl_module_addrdie(),
 * and dwfl_module_getsrc() through it) reads every .debug_aranges entry
 * into a list and sorts it with qsort on the first lookup of each run:
 * 41% of a dbg-stack run on a C++ program, most of it for libc's ~4,000
 * units. This index reads the same table into a flat array once and
 * radix-sorts it; a lookup is a binary search, and the unit's DIE comes
 * from dwarf_offdie() at the unit header's end. An address the table
 * does not hold (no .debug_aranges: LLVM's units; a unit left out; a
 * section still compressed) gets libdwfl's answer, as before. */
struct cu_range {
	uint64_t lo, hi; /* DWARF addresses (no bias), [lo, hi) */
	uint64_t cu;     /* offset of the unit's header in .debug_info */
};
struct dbg__cuindex {
	struct cu_range *r;
	size_t n;
};

static uint64_t rd_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Parse .debug_aranges (@d, @len) into @x; false on any malformed set
 * (the caller then leaves the module to libdwfl). Every field is checked
 * against the section's size: the file is the target's. */
static bool parse_aranges(const uint8_t *d, size_t len, struct dbg__cuindex *x)
{
	size_t cap = len / 16 + 1, n = 0, off = 0;
	struct cu_range *r = malloc(cap * sizeof(*r));
	if (!r)
		return false;
	while (off + 4 <= len) {
		uint64_t unit = rd_le(d + off, 4);
		size_t hdr = 4;
		int osz = 4;
		if (unit == 0xffffffff) {
			if (off + 12 > len)
				goto bad;
			unit = rd_le(d + off + 4, 8);
			hdr = 12;
			osz = 8;
		} else if (unit >= 0xfffffff0) {
			goto bad;
		}
		if (unit > len - off - hdr)
			goto bad;
		size_t set = off, end = off + hdr + unit, p = off + hdr;
		if (p + 2 + osz + 2 > end)
			goto bad;
		unsigned version = rd_le(d + p, 2);
		uint64_t cu = rd_le(d + p + 2, osz);
		unsigned asz = d[p + 2 + osz], ssz = d[p + 3 + osz];
		if (version != 2 || asz != 8 || ssz != 0)
			goto bad;
		p += 4 + osz;
		p = set + ((p - set + 15) & ~(size_t)15); /* tuples align to 2 x address size */
		for (; p + 16 <= end; p += 16) {
			uint64_t lo = rd_le(d + p, 8), sz = rd_le(d + p + 8, 8);
			if (lo == 0 && sz == 0)
				break;
			if (sz == 0 || lo + sz < lo)
				continue;
			if (n == cap)
				goto bad; /* cannot happen: 16 bytes a tuple */
			r[n++] = (struct cu_range){ lo, lo + sz, cu };
		}
		off = end;
	}
	/* LSD radix sort on lo, 11 bits a pass, skipping digits all share. */
	struct cu_range *tmp = malloc((n ? n : 1) * sizeof(*tmp));
	if (!tmp)
		goto bad;
	uint64_t vary = 0;
	for (size_t i = 0; i < n; i++)
		vary |= r[i].lo ^ r[0].lo;
	enum { BITS = 11, DIG = 1 << BITS };
	size_t count[DIG + 1];
	for (int shift = 0; shift < 64; shift += BITS) {
		if (!(vary >> shift & (DIG - 1)))
			continue;
		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[1 + (r[i].lo >> shift & (DIG - 1))]++;
		for (int i = 1; i <= DIG; i++)
			count[i] += count[i - 1];
		for (size_t i = 0; i < n; i++)
			tmp[count[r[i].lo >> shift & (DIG - 1)]++] = r[i];
		struct cu_range *t = r;
		r = tmp;
		tmp = t;
	}
	free(tmp);
	x->r = r;
	x->n = n;
	return true;
bad:
	free(r);
	return false;
}

static void build_cuindex(struct dbg__image *im, Dwarf *dw)
{
	im->cus = calloc(1, sizeof(*im->cus));
	if (!im->cus)
		return;
	Elf *elf = dwarf_getelf(dw);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".debug_aranges") != 0)
			continue;
		Elf_Data *data;
		/* libdw inflates the sections it reads when it opens the file;
		 * one still compressed is left to libdwfl. */
		if (!(sh.sh_flags & SHF_COMPRESSED) && sh.sh_type == SHT_PROGBITS &&
		    (data = elf_getdata(scn, NULL)) && data->d_buf)
			parse_aranges(data->d_buf, data->d_size, im->cus);
		return;
	}
}

/* The unit holding @addr (a target address) in @im's DWARF, from the
 * index; false to ask libdwfl. */
static bool index_cu(struct dbg__image *im, uint64_t addr, Dwarf_Die *ret_cu, Dwarf_Addr *ret_bias)
{
	Dwarf_Addr bias;
	Dwarf *dw = dwfl_module_getdwarf(im->mod, &bias);
	if (!dw)
		return false;
	if (!im->cus)
		build_cuindex(im, dw);
	if (!im->cus || !im->cus->n)
		return false;
	uint64_t a = addr - bias;
	const struct cu_range *r = im->cus->r;
	size_t lo = 0, hi = im->cus->n; /* the last range starting at or below a */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || a >= r[lo - 1].hi)
		return false;
	uint64_t cu = r[lo - 1].cu, next;
	size_t hsize;
	Dwarf_Half version;
	if (dwarf_next_unit(dw, cu, &next, &hsize, &version, NULL, NULL, NULL, NULL, NULL) != 0 ||
	    !dwarf_offdie(dw, cu + hsize, ret_cu))
		return false;
	*ret_bias = bias;
	return true;
}

static void free_cuindex(struct dbg__image *im)
{
	if (im->cus)
		free(im->cus->r);
	free(im->cus);
	im->cus = NULL;
}

/* The name of a subprogram or inlined subroutine, through its abstract
 * origin; the linkage name for languages that have one. */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr))
		name = dwarf_formstring(&attr);
	if (!name && dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		name = dwarf_formstring(&attr);
	if (!name && dwarf_attr_integrate(die, DW_AT_name, &attr))
		name = dwarf_formstring(&attr);
	return name;
}

/* Where an inlined subroutine was called from. */
static void call_site(Dwarf_Die *cudie, Dwarf_Die *inl, struct dbg_srcloc *loc)
{
	Dwarf_Attribute attr;
	Dwarf_Word v;
	loc->file = NULL;
	loc->line = loc->column = 0;
	if (dwarf_attr(inl, DW_AT_call_file, &attr) && dwarf_formudata(&attr, &v) == 0) {
		Dwarf_Files *files;
		size_t nfiles;
		if (dwarf_getsrcfiles(cudie, &files, &nfiles) == 0 && v < nfiles)
			loc->file = dwarf_filesrc(files, v, NULL, NULL);
	}
	if (dwarf_attr(inl, DW_AT_call_line, &attr) && dwarf_formudata(&attr, &v) == 0)
		loc->line = v > INT32_MAX ? 0 : (int)v;
	if (dwarf_attr(inl, DW_AT_call_column, &attr) && dwarf_formudata(&attr, &v) == 0)
		loc->column = v > INT32_MAX ? 0 : (int)v;
}

/* The scopes holding @pc below @parent, outermost first, appended to
 * path[*n]: the subprogram, then lexical blocks and inlined instances
 * down to the innermost. dwarf_getscopes() visits every DIE of the unit
 * up to the address and dwarf_getscopes_die() does it again: 70% of a
 * dbg-stack run on a C++ program, whose units hold every declaration of
 * the headers they include. This looks inside namespaces and inside the
 * scopes that hold @pc only, and skips the rest sibling by sibling.
 * Only for GCC's DWARF (see units_with_siblings()), whose DW_AT_sibling
 * makes a skip one step. True when a scope holding @pc was found. */
#define SCOPE_MAX 128
static bool walk_scopes(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *path, int *n, int depth)
{
	Dwarf_Die die;
	if (depth >= SCOPE_MAX || dwarf_child(parent, &die) != 0)
		return false;
	do {
		switch (dwarf_tag(&die)) {
		case DW_TAG_namespace:
			if (depth < 32 && walk_scopes(&die, pc, path, n, depth + 1))
				return true;
			break;
		case DW_TAG_lexical_block:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
			/* A block without addresses of its own may still hold
			 * scopes that have some. */
			if (!dwarf_hasattr(&die, DW_AT_low_pc) && !dwarf_hasattr(&die, DW_AT_ranges)) {
				if (walk_scopes(&die, pc, path, n, depth + 1))
					return true;
				break;
			}
			/* fallthrough */
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
			if (dwarf_haspc(&die, pc) == 1) {
				if (*n < SCOPE_MAX)
					path[(*n)++] = die;
				walk_scopes(&die, pc, path, n, depth + 1);
				return true;
			}
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&die, &die) == 0);
	return false;
}

/* Whether @cudie's unit came from GCC, which gives every DIE with
 * children a DW_AT_sibling. Without it (LLVM: clang, rustc) skipping a
 * namespace walks all of it, and walk_scopes() would be slower than
 * libdw's walk. */
static bool units_with_siblings(Dwarf_Die *cudie)
{
	Dwarf_Attribute attr;
	const char *producer = dwarf_attr(cudie, DW_AT_producer, &attr) ? dwarf_formstring(&attr) : NULL;
	return producer && strncmp(producer, "GNU ", 4) == 0;
}

/* The machine code of one DWARF subprogram may be split (hot and
 * "foo.cold" parts) or cloned ("foo.isra.0", "foo.constprop.0"); DWARF
 * names the source function, the symbol table the part that holds @addr.
 * Name the part, as the symbol table (and eu-stack) do, when the symbol
 * holding @addr is @name plus a dotted suffix. */
static const char *clone_name(struct dbg_sym *sym, uint64_t addr, const char *name)
{
	struct dbg_symbol s;
	if (!name || dbg_sym_lookup(sym, addr, &s) < 0)
		return name;
	size_t n = strlen(name);
	return strncmp(s.name, name, n) == 0 && s.name[n] == '.' ? s.name : name;
}

int dbg_sym_srclocs(struct dbg_sym *sym, uint64_t addr, struct dbg_srcloc *locs, size_t cap)
{
	struct dbg__image *im;
	int r = module_of(sym, addr, &im);
	if (r < 0)
		return r;
	if (!locs && cap)
		return -EINVAL;
	struct dbg__symcache_entry *e = cache_slot(sym, addr);
	if (e && e->nlocs > 0) {
		if (cap)
			memcpy(locs, e->locs, (cap < (size_t)e->nlocs ? cap : (size_t)e->nlocs) * sizeof(*locs));
		return e->nlocs;
	}
	/* The line of the address itself: the innermost entry's. */
	struct dbg_srcloc here = { 0 };
	bool dwarf = im->mod && !(sym->flags & DBG_SYM_NO_DWARF);
	Dwarf_Addr bias = 0;
	Dwarf_Die cu_mem, *cudie = NULL;
	if (dwarf && index_cu(im, addr, &cu_mem, &bias)) {
		cudie = &cu_mem;
		Dwarf_Line *line = dwarf_getsrc_die(cudie, addr - bias);
		if (line) {
			int l = 0, c = 0;
			here.file = dwarf_linesrc(line, NULL, NULL);
			dwarf_lineno(line, &l);
			dwarf_linecol(line, &c);
			here.line = l;
			here.column = c;
		}
	} else if (dwarf) {
		Dwfl_Line *line = dwfl_module_getsrc(im->mod, addr);
		if (line) {
			int l = 0, c = 0;
			here.file = dwfl_lineinfo(line, NULL, &l, &c, NULL, NULL);
			here.line = l;
			here.column = c;
		}
		cudie = dwfl_module_addrdie(im->mod, addr, &bias);
	}
	size_t n = 0;
	Dwarf_Die *scopes = NULL, *chain = NULL;
	Dwarf_Die path[SCOPE_MAX];
	int npath = 0, nchain = 0;
	if (cudie && units_with_siblings(cudie) && walk_scopes(cudie, addr - bias, path, &npath, 0) &&
	    npath > 0 && dwarf_tag(&path[0]) == DW_TAG_subprogram) {
		/* Innermost first, as dwarf_getscopes_die() gives them. */
		chain = malloc(npath * sizeof(*chain));
		for (int i = 0; chain && i < npath; i++)
			chain[i] = path[npath - 1 - i];
		nchain = chain ? npath : 0;
	} else if (cudie) {
		int nscopes = dwarf_getscopes(cudie, addr - bias, &scopes);
		/* dwarf_getscopes() stops at the innermost inlined instance;
		 * the instances it was inlined into come from the DIE tree. */
		for (int i = 0; i < nscopes && nchain <= 0; i++) {
			int tag = dwarf_tag(&scopes[i]);
			if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine)
				nchain = dwarf_getscopes_die(&scopes[i], &chain);
		}
	}
	for (int i = 0; i < nchain; i++) {
		int tag = dwarf_tag(&chain[i]);
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		if (n < cap) {
			locs[n] = here;
			locs[n].function = die_name(&chain[i]);
			locs[n].inlined = tag == DW_TAG_inlined_subroutine;
			if (tag == DW_TAG_subprogram)
				locs[n].function = clone_name(sym, addr, locs[n].function);
		}
		n++;
		if (tag == DW_TAG_subprogram)
			break;
		call_site(cudie, &chain[i], &here); /* the caller's line */
	}
	free(chain);
	free(scopes);
	if (n == 0) {
		/* No DWARF here: the symbol table's name, and the line table's
		 * line if there is one. */
		struct dbg_symbol s;
		if (cap) {
			locs[0] = here;
			locs[0].function = dbg_sym_lookup(sym, addr, &s) == 0 ? s.name : NULL;
		}
		n = 1;
	}
	/* Only complete chains are kept. */
	e = cache_slot(sym, addr);
	if (e && n <= DBG__SYMCACHE_LOCS && n <= cap) {
		memcpy(e->locs, locs, n * sizeof(*locs));
		e->nlocs = (int)n;
	}
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

static bool find_in(struct dbg_sym *sym, struct dbg__image *im, const char *name, uint64_t *ret)
{
	return im->data && !im->error && dbg__symtab_find(sym, im, name, ret);
}

int dbg_sym_addr(struct dbg_sym *sym, const char *name, uint64_t *ret_addr)
{
	if (!sym || !name || !ret_addr)
		return -EINVAL;
	for (size_t i = 0; i < sym->nimages; i++)
		if (strcmp(sym->images[i].path, sym->exe) == 0 && find_in(sym, &sym->images[i], name, ret_addr))
			return 0;
	for (size_t i = 0; i < sym->nimages; i++)
		if (strcmp(sym->images[i].path, sym->exe) != 0 && find_in(sym, &sym->images[i], name, ret_addr))
			return 0;
	return -ENOENT;
}
