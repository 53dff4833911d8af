/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Thread-local storage without libthread_db (dbg/tls.h).
 *
 * On x86_64 glibc (TLS variant II) the thread pointer, fs_base, is the
 * thread's descriptor (struct pthread, whose first member is the TCB
 * header). The header holds a pointer to the thread's dynamic thread
 * vector: entry i is module i's TLS block for that thread; the entry
 * before the pointed-to one counts the entries there are. A module's TLS
 * id is in its link map. glibc does not promise any of these offsets;
 * it publishes them for libthread_db as read-only symbols of libc
 * (ld.so before 2.34, the static executable when linked statically):
 * each field descriptor is three 32-bit words, the field's size in bits
 * (for an array, its element's), the number of elements, and its byte
 * offset in the structure; `_thread_db_const_thread_area` says which
 * register holds the thread pointer (25, FS in <sys/reg.h>: fs_base).
 * We read those from the ELF file the target has mapped and read the
 * structures through the memory reader. See doc/process.md,
 * "Thread-local storage".
 *
 * Looked up on every call, nothing cached: a call costs one symbol scan
 * of libc (a few thousand dynamic symbols) and a few reads, and there is
 * nothing to invalidate on exec or dlopen.
 */
#include "internal.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbg/tls.h"

/* The thread-pointer register number glibc names (FS, <sys/reg.h>). */
#define TD_REG_FS 25

enum {
	D_DTVP,        /* pthread.header.dtv: the DTV pointer */
	D_DTV,         /* dtv.dtv: the entries (element size = sizeof(dtv_t)) */
	D_VAL,         /* dtv_t.pointer.val: a block's address */
	D_COUNTER,     /* dtv_t.counter: entry -1 counts the entries, 0 is
			* the generation the DTV is up to date with */
	D_MODID,       /* link_map.l_tls_modid */
	D_AREA,        /* const_thread_area: one word, the register */
	D_REQUIRED,    /* the ones above are needed; the rest refine */
	D_TLSOFF = D_REQUIRED, /* link_map.l_tls_offset: static TLS */
	D_RTLD_LIST,   /* rtld_global._dl_tls_dtv_slotinfo_list (dynamic) */
	D_LIST_VAR,    /* the variable _dl_tls_dtv_slotinfo_list (static) */
	D_SL_LEN,      /* dtv_slotinfo_list.len */
	D_SL_NEXT,     /* dtv_slotinfo_list.next */
	D_SL_SLOTS,    /* dtv_slotinfo_list.slotinfo[] */
	D_SI_GEN,      /* dtv_slotinfo.gen */
	D_SI_MAP,      /* dtv_slotinfo.map */
	D_N,
};

/* Variables (not descriptors) the slotinfo list is reached through. */
enum {
	V_RTLD_GLOBAL, /* libc's __nptl_rtld_global: &_rtld_global */
	V_LIST,        /* a static executable's _dl_tls_dtv_slotinfo_list */
	V_N,
};

static const char *const var_names[V_N] = {
	[V_RTLD_GLOBAL] = "__nptl_rtld_global",
	[V_LIST] = "_dl_tls_dtv_slotinfo_list",
};

static const char *const desc_names[D_N] = {
	[D_DTVP] = "_thread_db_pthread_dtvp",
	[D_DTV] = "_thread_db_dtv_dtv",
	[D_VAL] = "_thread_db_dtv_t_pointer_val",
	[D_COUNTER] = "_thread_db_dtv_t_counter",
	[D_MODID] = "_thread_db_link_map_l_tls_modid",
	[D_AREA] = "_thread_db_const_thread_area",
	[D_TLSOFF] = "_thread_db_link_map_l_tls_offset",
	[D_RTLD_LIST] = "_thread_db_rtld_global__dl_tls_dtv_slotinfo_list",
	[D_LIST_VAR] = "_thread_db__dl_tls_dtv_slotinfo_list",
	[D_SL_LEN] = "_thread_db_dtv_slotinfo_list_len",
	[D_SL_NEXT] = "_thread_db_dtv_slotinfo_list_next",
	[D_SL_SLOTS] = "_thread_db_dtv_slotinfo_list_slotinfo",
	[D_SI_GEN] = "_thread_db_dtv_slotinfo_gen",
	[D_SI_MAP] = "_thread_db_dtv_slotinfo_map",
};

struct desc {
	uint32_t bits, n, off;
};

struct layout {
	struct desc d[D_N];
	bool have[D_N];
	uint64_t var[V_N];    /* link-time addresses, 0: absent */
	uint64_t bias;        /* load address minus link-time address */
	char file[4200];
};

/* The 12 (or, for D_AREA, 4) bytes at virtual address @va of the ELF
 * image @m, found through the section that holds it. */
static bool file_bytes(const uint8_t *m, size_t size, const Elf64_Shdr *sh, unsigned shnum,
		       uint16_t shndx, uint64_t va, void *out, size_t len)
{
	if (shndx == SHN_UNDEF || shndx >= shnum || sh[shndx].sh_type == SHT_NOBITS)
		return false;
	const Elf64_Shdr *s = &sh[shndx];
	if (va < s->sh_addr || va - s->sh_addr > s->sh_size || len > s->sh_size - (va - s->sh_addr))
		return false;
	uint64_t off = s->sh_offset + (va - s->sh_addr);
	if (off > size || len > size - off)
		return false;
	memcpy(out, m + off, len);
	return true;
}

/* Fill @lay from the symbol tables of the ELF file @path; true when every
 * descriptor was found. */
static bool scan_file(const char *path, struct layout *lay)
{
	size_t size;
	const uint8_t *m = dbg__map_elf_file(path, &size);
	if (!m)
		return false;
	memset(lay->have, 0, sizeof(lay->have));
	memset(lay->var, 0, sizeof(lay->var));
	const Elf64_Ehdr *eh = (const void *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
	    eh->e_shnum > (size - eh->e_shoff) / sizeof(Elf64_Shdr))
		goto out;
	const Elf64_Shdr *sh = (const void *)(m + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM && sh[i].sh_type != SHT_SYMTAB)
			continue;
		if (sh[i].sh_link >= eh->e_shnum || sh[i].sh_offset > size ||
		    sh[i].sh_size > size - sh[i].sh_offset)
			continue;
		const Elf64_Shdr *str = &sh[sh[i].sh_link];
		if (str->sh_offset > size || str->sh_size > size - str->sh_offset)
			continue;
		const Elf64_Sym *sym = (const void *)(m + sh[i].sh_offset);
		const char *strs = (const char *)m + str->sh_offset;
		size_t n = sh[i].sh_size / sizeof(*sym);
		for (size_t k = 0; k < n; k++) {
			if (sym[k].st_name >= str->sh_size)
				continue;
			const char *s = strs + sym[k].st_name;
			size_t left = str->sh_size - sym[k].st_name;
			if (strnlen(s, left) == left)
				continue;
			for (int v = 0; v < V_N; v++)
				if (!lay->var[v] && sym[k].st_value && !strcmp(s, var_names[v]))
					lay->var[v] = sym[k].st_value;
			if (strncmp(s, "_thread_db_", 11) != 0)
				continue;
			for (int d = 0; d < D_N; d++) {
				if (lay->have[d] || strcmp(s, desc_names[d]) != 0)
					continue;
				uint32_t w[3] = { 0, 0, 0 };
				size_t len = d == D_AREA ? 4 : 12;
				if (file_bytes(m, size, sh, eh->e_shnum, sym[k].st_shndx,
					       sym[k].st_value, w, len)) {
					lay->d[d] = (struct desc){ w[0], w[1], w[2] };
					lay->have[d] = true;
				}
			}
		}
	}
	/* The link-time address of the first PT_LOAD, mapped at the file's
	 * offset-0 mapping: the bias. */
	lay->bias = 0;
	if (eh->e_phoff < size && eh->e_phentsize == sizeof(Elf64_Phdr) &&
	    eh->e_phnum <= (size - eh->e_phoff) / sizeof(Elf64_Phdr)) {
		const Elf64_Phdr *ph = (const void *)(m + eh->e_phoff);
		for (unsigned i = 0; i < eh->e_phnum; i++)
			if (ph[i].p_type == PT_LOAD) {
				lay->bias = ph[i].p_vaddr & ~(uint64_t)4095;
				break;
			}
	}
out:
	munmap((void *)m, size);
	for (int d = 0; d < D_REQUIRED; d++)
		if (!lay->have[d])
			return false;
	return true;
}

/* How likely a mapped file is to hold the descriptors: libc first (glibc
 * 2.34 and later), then libpthread (before), then the executable (a
 * static one). Others are not looked at. */
static int file_rank(const char *path, const char *exe)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5))
		return 0;
	if (!strncmp(base, "libpthread", 10))
		return 1;
	if (exe && !strcmp(path, exe))
		return 2;
	return -1;
}

static bool find_layout(struct dbg_proc *p, struct layout *lay)
{
	/* Re-read: the cached table is not marked stale when the target
	 * runs (only on exec), so one taken at a spawn's exec stop lacks
	 * every library loaded since. */
	const struct dbg_maps *maps;
	if (dbg__maps_refresh(p) < 0 || dbg__maps_get(p, &maps) < 0)
		return false;
	char exe[4096] = "", link[64];
	snprintf(link, sizeof(link), "/proc/%d/exe", p->pid);
	ssize_t n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	for (int want = 0; want <= 2; want++) {
		const char *last = NULL;
		for (size_t i = 0; i < dbg_maps_count(maps); i++) {
			const struct dbg_vma *v = dbg_maps_get(maps, i);
			if (v->offset != 0 || v->name[0] != '/' || (last && !strcmp(last, v->name)))
				continue;
			last = v->name;
			if (file_rank(v->name, exe[0] ? exe : NULL) != want)
				continue;
			/* Through the target's root: its mount namespace. */
			snprintf(lay->file, sizeof(lay->file), "/proc/%d/root%s", p->pid, v->name);
			if (scan_file(lay->file, lay)) {
				lay->bias = v->start - lay->bias;
				return true;
			}
		}
	}
	return false;
}

static int read_u64(struct dbg_proc *p, uint64_t addr, const char *what, uint64_t *ret)
{
	if (dbg_mem_read(p, addr, ret, 8) != 8)
		return dbg__fail(p, -DBG_ERRNO_PARSE, "cannot read the %s at %#llx", what,
				 (unsigned long long)addr);
	return 0;
}

/* A field descriptor for one 64-bit word (a pointer or a size_t). */
static bool word_desc(const struct desc *d)
{
	return d->bits == 64 && d->off < 65536;
}

/* Are the optional descriptors for the slotinfo list all there, and
 * is one way to its head known? */
static bool have_slotinfo(const struct layout *lay)
{
	for (int d = D_SL_LEN; d <= D_SI_MAP; d++)
		if (!lay->have[d] || (d != D_SL_SLOTS && !word_desc(&lay->d[d])))
			return false;
	if (lay->d[D_SL_SLOTS].bits % 8 || lay->d[D_SL_SLOTS].bits < 128 ||
	    lay->d[D_SL_SLOTS].off > 65536)
		return false;
	return (lay->var[V_RTLD_GLOBAL] && lay->have[D_RTLD_LIST] &&
		word_desc(&lay->d[D_RTLD_LIST])) ||
	       (lay->var[V_LIST] && lay->have[D_LIST_VAR] && word_desc(&lay->d[D_LIST_VAR]));
}

/*
 * Module @modid's entry in the dynamic linker's slotinfo list (a chain
 * of arrays, `len` entries each): the generation of the link-map change
 * that gave the module that id, and its link map. 0 with both when
 * found, 1 when the list does not reach that far, negative on a failed
 * read.
 */
static int slotinfo(struct dbg_proc *p, const struct layout *lay, uint64_t modid,
		    uint64_t *ret_gen, uint64_t *ret_map)
{
	const struct desc *dd = lay->d;
	uint64_t node, v;
	int r;
	if (lay->var[V_RTLD_GLOBAL] && lay->have[D_RTLD_LIST]) {
		if ((r = read_u64(p, lay->bias + lay->var[V_RTLD_GLOBAL], "__nptl_rtld_global",
				  &v)) < 0 ||
		    (r = read_u64(p, v + dd[D_RTLD_LIST].off, "slotinfo list head", &node)) < 0)
			return r;
	} else if ((r = read_u64(p, lay->bias + lay->var[V_LIST] + dd[D_LIST_VAR].off,
				 "_dl_tls_dtv_slotinfo_list", &node)) < 0) {
		return r;
	}
	uint64_t esize = dd[D_SL_SLOTS].bits / 8, idx = modid;
	for (int guard = 0; node && guard < 4096; guard++) {
		uint64_t len;
		if ((r = read_u64(p, node + dd[D_SL_LEN].off, "slotinfo list length", &len)) < 0)
			return r;
		if (idx < len) {
			uint64_t slot = node + dd[D_SL_SLOTS].off + idx * esize;
			if ((r = read_u64(p, slot + dd[D_SI_GEN].off, "slotinfo generation", ret_gen)) < 0 ||
			    (r = read_u64(p, slot + dd[D_SI_MAP].off, "slotinfo map", ret_map)) < 0)
				return r;
			return 0;
		}
		idx -= len;
		if ((r = read_u64(p, node + dd[D_SL_NEXT].off, "slotinfo list link", &node)) < 0)
			return r;
	}
	return 1;
}

/*
 * A module in the static TLS area (loaded at start-up, or dlopen()ed with
 * initial-exec TLS into the surplus) has its block at a fixed distance
 * below the thread pointer, l_tls_offset, in every thread, whatever the
 * thread's DTV says. glibc's "no offset" values on x86_64 (NO_TLS_OFFSET
 * 0, FORCED_DYNAMIC_TLS_OFFSET -1) mean a dynamic block. 0 with the
 * address, 1 when the module's TLS is not static.
 */
static int static_block(struct dbg_proc *p, const struct layout *lay, uint64_t map, uint64_t tp,
			uint64_t *ret_block)
{
	uint64_t off;
	if (!map || !lay->have[D_TLSOFF] || !word_desc(&lay->d[D_TLSOFF]))
		return 1;
	int r = read_u64(p, map + lay->d[D_TLSOFF].off, "link map TLS offset", &off);
	if (r < 0)
		return r;
	if (off == 0 || off == UINT64_MAX || off > tp)
		return 1;
	*ret_block = tp - off;
	return 0;
}

static int tls_dtv(struct dbg_proc *p, pid_t tid, const struct layout *lay, uint64_t tp,
		   uint64_t link_map, uint64_t offset, uint64_t *ret_addr)
{
	const struct desc *dd = lay->d;
	uint32_t esize = dd[D_DTV].bits / 8;
	if (!word_desc(&dd[D_DTVP]) || !word_desc(&dd[D_VAL]) || !word_desc(&dd[D_COUNTER]) ||
	    (dd[D_MODID].bits != 64 && dd[D_MODID].bits != 32) || dd[D_MODID].off > 65536 ||
	    dd[D_DTV].bits % 8 || esize < 8 || esize > 64 || dd[D_VAL].off + 8 > esize ||
	    dd[D_COUNTER].off + 8 > esize || dd[D_AREA].bits != TD_REG_FS)
		return dbg__fail(p, -DBG_ERRNO_PARSE,
				 "the libthread_db descriptors in %s have a layout libdbg does not "
				 "know (thread register %u, DTV entry of %u bits)",
				 lay->file, dd[D_AREA].bits, dd[D_DTV].bits);
	uint64_t modid = 1;
	if (link_map) {
		uint64_t v = 0;
		size_t len = dd[D_MODID].bits / 8;
		if (dbg_mem_read(p, link_map + dd[D_MODID].off, &v, len) != (ssize_t)len)
			return dbg__fail(p, -DBG_ERRNO_PARSE, "cannot read the TLS id of the link map "
					 "at %#llx", (unsigned long long)link_map);
		modid = v;
		if (modid == 0)
			return dbg__fail(p, -ENOENT, "the module of link map %#llx has no TLS",
					 (unsigned long long)link_map);
	}
	/* The module's generation and map from the slotinfo list, when the
	 * descriptors for it are there (link_map 0: the map is found there). */
	uint64_t gen = 0, map = link_map;
	bool have_gen = false;
	int r;
	if (have_slotinfo(lay)) {
		uint64_t smap = 0;
		if ((r = slotinfo(p, lay, modid, &gen, &smap)) < 0)
			return r;
		have_gen = r == 0;
		if (have_gen && !map)
			map = smap;
	}
	uint64_t dtv, count, dtvgen, block;
	if ((r = read_u64(p, tp + dd[D_DTVP].off, "DTV pointer", &dtv)) < 0)
		return r;
	if (!dtv)
		return dbg__fail(p, -DBG_ERRNO_TLS_UNALLOCATED, "thread %d has no DTV yet", tid);
	uint64_t base = dtv + dd[D_DTV].off;
	if ((r = read_u64(p, base - esize + dd[D_COUNTER].off, "DTV length", &count)) < 0 ||
	    (r = read_u64(p, base + dd[D_COUNTER].off, "DTV generation", &dtvgen)) < 0)
		return r;
	const char *why = NULL;
	if (modid > count) {
		why = "its DTV is shorter";
	} else if (have_gen && gen > dtvgen) {
		/* The thread has not brought its DTV up to date since the
		 * module got this id: the entry, if any, is an older
		 * module's. */
		why = "its DTV predates the module";
	} else {
		if ((r = read_u64(p, base + modid * esize + dd[D_VAL].off, "DTV entry", &block)) < 0)
			return r;
		/* glibc marks an entry whose block is not allocated yet with
		 * (void *)-1 (TLS_DTV_UNALLOCATED); an entry the thread has
		 * not updated since the module was loaded is still zero.
		 * Blocks are aligned, so an odd value is never one. */
		if (block == 0 || (block & 1))
			why = "the block is not allocated";
	}
	if (why) {
		if ((r = static_block(p, lay, map, tp, &block)) < 0)
			return r;
		if (r > 0)
			return dbg__fail(p, -DBG_ERRNO_TLS_UNALLOCATED,
					 "thread %d has no TLS block for module %llu yet (%s)", tid,
					 (unsigned long long)modid, why);
	}
	*ret_addr = block + offset;
	return 0;
}

/* The executable's PT_TLS and whether it has a PT_INTERP, from its
 * program headers in memory (AT_PHDR). */
static int exe_tls(struct dbg_proc *p, Elf64_Phdr *ret_tls, bool *ret_dynamic)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/auxv", p->pid);
	ssize_t n = dbg__read_file(path, buf, sizeof(buf));
	if (n <= 0)
		return dbg__fail(p, -ESRCH, "cannot read %s", path);
	uint64_t phdr = 0, phnum = 0;
	const uint64_t *a = (const uint64_t *)buf;
	for (ssize_t i = 0; i + 1 < n / 8; i += 2) {
		if (a[i] == AT_PHDR)
			phdr = a[i + 1];
		else if (a[i] == AT_PHNUM)
			phnum = a[i + 1];
	}
	if (!phdr || !phnum || phnum > 128)
		return dbg__fail(p, -DBG_ERRNO_PARSE, "no program headers in the auxv of %d", p->pid);
	Elf64_Phdr ph[128];
	ssize_t len = (ssize_t)(phnum * sizeof(ph[0]));
	if (dbg_mem_read(p, phdr, ph, (size_t)len) != len)
		return dbg__fail(p, -DBG_ERRNO_PARSE, "cannot read the program headers at %#llx",
				 (unsigned long long)phdr);
	bool found = false;
	*ret_dynamic = false;
	for (uint64_t i = 0; i < phnum; i++) {
		if (ph[i].p_type == PT_INTERP)
			*ret_dynamic = true;
		if (ph[i].p_type == PT_TLS) {
			*ret_tls = ph[i];
			found = true;
		}
	}
	if (!found)
		return dbg__fail(p, -ENOENT, "the executable of %d has no TLS segment", p->pid);
	return 0;
}

/*
 * A static executable without the descriptors: module 1 only. Variant II
 * puts its block right below the thread pointer, at the block's size
 * rounded up to its alignment (glibc's static start-up sets the main
 * map's TLS offset so; the block's image is copied there).
 */
static int tls_static(struct dbg_proc *p, uint64_t tp, uint64_t link_map, uint64_t offset,
		      uint64_t *ret_addr)
{
	Elf64_Phdr tls;
	memset(&tls, 0, sizeof(tls));
	bool dynamic = false;
	int r = exe_tls(p, &tls, &dynamic);
	if (r < 0)
		return r;
	if (dynamic || link_map)
		return dbg__fail(p, -DBG_ERRNO_UNSUPPORTED,
				 "no libthread_db descriptors (_thread_db_*) in the C library or the "
				 "executable of %d: without them only a static executable's own TLS "
				 "is found", p->pid);
	uint64_t align = tls.p_align ? tls.p_align : 1;
	if (align & (align - 1) || tls.p_memsz > (1ull << 40))
		return dbg__fail(p, -DBG_ERRNO_PARSE, "a TLS segment of %#llx bytes aligned %#llx",
				 (unsigned long long)tls.p_memsz, (unsigned long long)align);
	uint64_t size = (tls.p_memsz + align - 1) & ~(align - 1);
	*ret_addr = tp - size + offset;
	return 0;
}

int dbg_tls_addr(struct dbg_proc *p, pid_t tid, uint64_t link_map, uint64_t offset,
		 uint64_t *ret_addr)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!ret_addr)
		return dbg__fail(p, -EINVAL, "no place for the address");
	uint64_t tp = 0;
	r = dbg_reg_read(p, tid, DBG_REG_FS_BASE, &tp, sizeof(tp));
	if (r < 0)
		return r;
	if (!tp)
		return dbg__fail(p, -DBG_ERRNO_TLS_UNALLOCATED,
				 "thread %d has no thread pointer yet (fs_base is 0)", tid);
	struct layout lay;
	if (find_layout(p, &lay)) {
		dbg__log(p, DBG_LOG_DEBUG, "TLS layout from %s: dtv at +%u, entries of %u bytes, "
			 "TLS id at +%u of the link map", lay.file, lay.d[D_DTVP].off,
			 lay.d[D_DTV].bits / 8, lay.d[D_MODID].off);
		return tls_dtv(p, tid, &lay, tp, link_map, offset, ret_addr);
	}
	return tls_static(p, tp, link_map, offset, ret_addr);
}
