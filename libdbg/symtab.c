/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ELF symbol tables, read here rather than through libdwfl: an image's
 * table is built on its first lookup from its own .symtab, or, for a
 * stripped file, from the .symtab of its separate debuginfo (found by
 * build-id, then .gnu_debuglink checked by build-id or CRC), mapped and
 * read as it is - no debug section is inflated or parsed - or else from
 * its .dynsym. This is what DBG_SYM_NO_DWARF runs on, and what
 * dbg_sym_lookup() answers from in every mode.
 *
 * A lookup gives the symbol whose [start, start + size) holds the address
 * (split functions: "foo.cold" is its own symbol, and an address in it is
 * never reported as "foo" plus an offset past foo's end). A sizeless
 * symbol (an assembly label) holds the addresses after it up to the end
 * of its section or the next symbol's start or end. Anything else is
 * -ENOENT: no nearest-preceding guess. See doc/unwinding.md.
 */
#include "internal.h"

#include <assert.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>

struct dbg__symtab_ent {
	uint64_t start, size;  /* target addresses */
	uint64_t limit;        /* sizeless: end of its section */
	const char *name;
	uint8_t type, bind_rank;
};

/* One ELF symbol table, as it is in the mapped file. */
struct raw_table {
	const uint8_t *syms;
	size_t n;
	const char *str;
	size_t str_len;
	const Elf64_Shdr *sh;
	unsigned int shnum;
	uint64_t bias;
};

struct dbg__symtab {
	struct raw_table raw[2]; /* .symtab (own or the debuginfo's), .dynsym */
	unsigned int nraw;
	bool sorted;
	unsigned int scans;     /* lookups answered by scan_lookup() */
	struct dbg__symtab_ent *ents; /* by start, the best binding first */
	uint64_t *max_end;      /* max end of the sized ents[0..i] */
	size_t n;
};

/* A view of an ELF file's sections, every offset checked. */
struct elf_view {
	const uint8_t *d;
	size_t size;
	const Elf64_Shdr *sh;
	unsigned int shnum;
	const char *shstr;
	size_t shstr_len;
};

static bool view_init(struct elf_view *v, const uint8_t *d, size_t size)
{
	memset(v, 0, sizeof(*v));
	if (!d || size < sizeof(Elf64_Ehdr) || memcmp(d, ELFMAG, SELFMAG) != 0 ||
	    d[EI_CLASS] != ELFCLASS64 || d[EI_DATA] != ELFDATA2LSB)
		return false;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)d;
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size || eh->e_shoff % 8 ||
	    (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size - eh->e_shoff || eh->e_shnum == 0 ||
	    eh->e_shstrndx >= eh->e_shnum)
		return false;
	v->d = d;
	v->size = size;
	v->sh = (const Elf64_Shdr *)(d + eh->e_shoff);
	v->shnum = eh->e_shnum;
	const Elf64_Shdr *s = &v->sh[eh->e_shstrndx];
	if (s->sh_type != SHT_NOBITS && s->sh_offset <= size && s->sh_size <= size - s->sh_offset &&
	    s->sh_size > 0 && d[s->sh_offset + s->sh_size - 1] == 0) {
		v->shstr = (const char *)d + s->sh_offset;
		v->shstr_len = s->sh_size;
	}
	return true;
}

/* The bytes of section @i, or NULL when they are not all in the file. */
static const uint8_t *sec_data(const struct elf_view *v, unsigned int i)
{
	const Elf64_Shdr *s = &v->sh[i];
	if (s->sh_type == SHT_NOBITS || s->sh_offset > v->size || s->sh_size > v->size - s->sh_offset)
		return NULL;
	return v->d + s->sh_offset;
}

static const char *sec_name(const struct elf_view *v, unsigned int i)
{
	if (!v->shstr || v->sh[i].sh_name >= v->shstr_len)
		return "";
	return v->shstr + v->sh[i].sh_name;
}

static int find_sec(const struct elf_view *v, uint32_t type, const char *name)
{
	for (unsigned int i = 1; i < v->shnum; i++)
		if (v->sh[i].sh_type == type && (!name || strcmp(sec_name(v, i), name) == 0))
			return (int)i;
	return -1;
}

/* The GNU build-id note in @v's sections, or 0. */
static int view_build_id(const struct elf_view *v, const uint8_t **ret)
{
	for (unsigned int i = 1; i < v->shnum; i++) {
		if (v->sh[i].sh_type != SHT_NOTE)
			continue;
		const uint8_t *p = sec_data(v, i);
		if (!p)
			continue;
		size_t len = v->sh[i].sh_size, off = 0;
		while (len - off >= 12) {
			uint32_t namesz, descsz, type;
			memcpy(&namesz, p + off, 4);
			memcpy(&descsz, p + off + 4, 4);
			memcpy(&type, p + off + 8, 4);
			size_t nlen = ((size_t)namesz + 3) & ~(size_t)3, dlen = ((size_t)descsz + 3) & ~(size_t)3;
			if (namesz > len || descsz > len || nlen + dlen > len - off - 12)
				break;
			if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(p + off + 12, "GNU", 4) == 0 &&
			    descsz > 0 && descsz <= 64) {
				*ret = p + off + 12 + nlen;
				return (int)descsz;
			}
			off += 12 + nlen + dlen;
		}
	}
	return 0;
}

int dbg__elf_build_id(const uint8_t *d, size_t size, const uint8_t **ret)
{
	struct elf_view v;
	if (!view_init(&v, d, size))
		return 0;
	return view_build_id(&v, ret);
}

static int rank(unsigned int bind)
{
	return bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
}

/* Sorting: by start, and at one start sized before sizeless, then
 * global, weak, local, then table order. An LSD radix sort of
 * (start << 3 | tie) keys in 11-bit digits, over the bits that vary: a
 * table has thousands to a million symbols, and qsort()'s comparisons
 * were 15% of a names-only run. Target addresses are below 2^61. */
struct sort_key {
	uint64_t key;
	uint64_t idx;
};

#define DIGIT_BITS 11
#define DIGITS (1u << DIGIT_BITS)

static void radix_pass(const struct sort_key *from, struct sort_key *to, size_t n, int shift)
{
	static_assert(DIGITS <= 4096, "the count array lives on the stack");
	size_t count[DIGITS + 1];
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++)
		count[1 + ((from[i].key >> shift) & (DIGITS - 1))]++;
	for (unsigned int i = 1; i <= DIGITS; i++)
		count[i] += count[i - 1];
	for (size_t i = 0; i < n; i++)
		to[count[(from[i].key >> shift) & (DIGITS - 1)]++] = from[i];
}

/* Sort t->ents in place; returns the key buffer (at least 8 bytes an
 * entry), whose pages are already mapped, for the caller's max_end; or
 * NULL on ENOMEM. The entries are permuted along the cycles of the
 * sorted order rather than copied to a second array: for libc's 10,000
 * symbols that array was 400 KB of fresh pages, ~100 page faults of a
 * names-only run. */
static uint64_t *sort_ents(struct dbg__symtab *t)
{
	size_t n = t->n;
	struct sort_key *k = malloc(2 * (n ? n : 1) * sizeof(*k));
	if (!k)
		return NULL;
	uint64_t vary = 0;
	for (size_t i = 0; i < n; i++) {
		const struct dbg__symtab_ent *e = &t->ents[i];
		k[i] = (struct sort_key){ e->start << 3 | (e->size == 0) << 2 | e->bind_rank, i };
		vary |= k[i].key ^ k[0].key;
	}
	struct sort_key *a = k, *b = k + (n ? n : 1);
	for (int shift = 0; shift < 64; shift += DIGIT_BITS) {
		if (!(vary >> shift & (DIGITS - 1)))
			continue; /* every key has the same digit here */
		radix_pass(a, b, n, shift);
		struct sort_key *x = a;
		a = b;
		b = x;
	}
	/* Position j gets entry a[j].idx; a[j].idx = j marks it placed. */
	for (size_t i = 0; i < n; i++) {
		if (a[i].idx == i)
			continue;
		struct dbg__symtab_ent tmp = t->ents[i];
		size_t j = i;
		while (a[j].idx != i) {
			size_t from = a[j].idx;
			t->ents[j] = t->ents[from];
			a[j].idx = j;
			j = from;
		}
		t->ents[j] = tmp;
		a[j].idx = j;
	}
	return (uint64_t *)k;
}

/* Keep table @tab (SHT_SYMTAB or SHT_DYNSYM) of @v, checked. */
static void add_raw(struct dbg__symtab *t, const struct elf_view *v, int tab, uint64_t bias)
{
	const Elf64_Shdr *ts = &v->sh[tab];
	const uint8_t *syms = sec_data(v, tab);
	if (!syms || ts->sh_entsize != sizeof(Elf64_Sym) || ts->sh_link >= v->shnum || t->nraw == 2)
		return;
	const char *str = (const char *)sec_data(v, ts->sh_link);
	size_t len = v->sh[ts->sh_link].sh_size;
	if (!str || len == 0 || str[len - 1] != 0)
		return;
	t->raw[t->nraw++] = (struct raw_table){ syms, ts->sh_size / sizeof(Elf64_Sym), str, len, v->sh,
						 v->shnum, bias };
}

/* Symbol @i of @r as an entry, if it is one lookups consider. */
static bool entry(const struct raw_table *r, size_t i, struct dbg__symtab_ent *ret)
{
	Elf64_Sym s;
	memcpy(&s, r->syms + i * sizeof(s), sizeof(s));
	unsigned int type = ELF64_ST_TYPE(s.st_info);
	if ((type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT && type != STT_NOTYPE) ||
	    s.st_shndx == SHN_UNDEF || s.st_shndx >= SHN_LORESERVE || s.st_shndx >= r->shnum ||
	    s.st_name == 0 || s.st_name >= r->str_len || s.st_value == 0)
		return false;
	const Elf64_Shdr *sec = &r->sh[s.st_shndx];
	if (!(sec->sh_flags & SHF_ALLOC))
		return false;
	const char *name = r->str + s.st_name;
	/* Mapping symbols and local labels say nothing useful. */
	if (type == STT_NOTYPE && (name[0] == '$' || (name[0] == '.' && name[1] == 'L')))
		return false;
	*ret = (struct dbg__symtab_ent){
		.start = s.st_value + r->bias, .size = s.st_size,
		.limit = sec->sh_addr + sec->sh_size + r->bias, .name = name, .type = type,
		.bind_rank = rank(ELF64_ST_BIND(s.st_info)),
	};
	return true;
}

/* Open the file at @path if it is the debuginfo of an image with
 * build-id @id (or, without one, whose .gnu_debuglink CRC is @crc). */
static int open_debug_file(const char *path, const uint8_t *id, int idlen, bool check_crc,
			   uint32_t crc)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	void *m = MAP_FAILED;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	bool ok = m != MAP_FAILED;
	if (ok) {
		const uint8_t *bid;
		int blen = dbg__elf_build_id(m, st.st_size, &bid);
		if (idlen > 0)
			ok = blen == idlen && memcmp(bid, id, idlen) == 0;
		else
			ok = check_crc && libdeflate_crc32(0, m, st.st_size) == crc;
		munmap(m, st.st_size);
	}
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

static int try_path(char *path, size_t cap, int w, const uint8_t *id, int idlen, bool check_crc,
		    uint32_t crc)
{
	if (w <= 0 || (size_t)w >= cap)
		return -1;
	return open_debug_file(path, id, idlen, check_crc, crc);
}

int dbg__debug_open(struct dbg_sym *s, const char *file, bool vdso, const uint8_t *d, size_t size,
		    bool *ret_by_id, char *path, size_t cap)
{
	struct elf_view v;
	if (!view_init(&v, d, size))
		return -1;
	char root[64];
	const uint8_t *id;
	int idlen = view_build_id(&v, &id), fd;
	*ret_by_id = false;
	if (idlen > 1) {
		char hex[130];
		for (int i = 0; i < idlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", id[i]);
		for (const char *p = s->debuginfo_path; *p;) {
			size_t n = strcspn(p, ":");
			for (int ours = 0; ours < 2 && p[0] == '/'; ours++) {
				root[0] = 0;
				if (!ours)
					snprintf(root, sizeof(root), "/proc/%d/root", s->proc->mm_tid);
				fd = try_path(path, cap, snprintf(path, cap, "%s%.*s/.build-id/%.2s/%s.debug", root,
								  (int)n, p, hex, hex + 2),
					      id, idlen, false, 0);
				if (fd >= 0) {
					*ret_by_id = true;
					return fd;
				}
			}
			p += n + (p[n] == ':');
		}
	}
	int link = find_sec(&v, SHT_PROGBITS, ".gnu_debuglink");
	const char *lname = link > 0 ? (const char *)sec_data(&v, link) : NULL;
	if (!lname || vdso)
		return -1;
	size_t llen = v.sh[link].sh_size, nlen = strnlen(lname, llen);
	if (nlen == 0 || nlen >= llen || strchr(lname, '/'))
		return -1;
	size_t crc_off = (nlen + 4) & ~(size_t)3;
	if (crc_off + 4 > llen)
		return -1;
	uint32_t crc;
	memcpy(&crc, lname + crc_off, 4);
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", file);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return -1;
	*slash = 0;
	snprintf(root, sizeof(root), "/proc/%d/root", s->proc->mm_tid);
	/* Next to the file, in .debug/ there, and under each absolute
	 * directory of the search path, as seen from the target's root. */
	fd = try_path(path, cap, snprintf(path, cap, "%s%s/%s", root, dir, lname), id, idlen, true, crc);
	if (fd < 0)
		fd = try_path(path, cap, snprintf(path, cap, "%s%s/.debug/%s", root, dir, lname), id, idlen,
			      true, crc);
	for (const char *p = s->debuginfo_path; fd < 0 && *p;) {
		size_t n = strcspn(p, ":");
		if (p[0] == '/')
			fd = try_path(path, cap, snprintf(path, cap, "%s%.*s%s/%s", root, (int)n, p, dir, lname),
				      id, idlen, true, crc);
		p += n + (p[n] == ':');
	}
	return fd;
}

/* The separate debuginfo of @im, mapped. */
static bool find_debug(struct dbg_sym *s, struct dbg__image *im, const uint8_t **ret, size_t *ret_size)
{
	char path[PATH_MAX];
	bool by_id;
	int fd = dbg__debug_open(s, im->path, im->vdso, im->data, im->size, &by_id, path, sizeof(path));
	if (fd < 0)
		return false;
	struct stat st;
	void *m = MAP_FAILED;
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return false;
	*ret = m;
	*ret_size = st.st_size;
	return true;
}

static int build_table(struct dbg_sym *s, struct dbg__image *im)
{
	struct dbg__symtab *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	im->symtab = t;
	struct elf_view v;
	if (!view_init(&v, im->data, im->size))
		return 0;
	int tab = find_sec(&v, SHT_SYMTAB, NULL);
	if (tab > 0) {
		add_raw(t, &v, tab, im->bias);
		return 0;
	}
	struct elf_view dv;
	int dtab = -1;
	if (find_debug(s, im, &im->debug_data, &im->debug_size) &&
	    view_init(&dv, im->debug_data, im->debug_size))
		dtab = find_sec(&dv, SHT_SYMTAB, NULL);
	/* The debuginfo (of this very build: its build-id or CRC matched)
	 * has every symbol .dynsym has; else .dynsym is all there is. */
	if (dtab > 0) {
		add_raw(t, &dv, dtab, im->bias);
		return 0;
	}
	int dyn = find_sec(&v, SHT_DYNSYM, NULL);
	if (dyn > 0)
		add_raw(t, &v, dyn, im->bias);
	return 0;
}

/* The sorted copy lookups search, made at the first. */
static int sort_table(struct dbg__symtab *t)
{
	size_t total = 0;
	for (unsigned int k = 0; k < t->nraw; k++)
		total += t->raw[k].n;
	t->ents = malloc((total ? total : 1) * sizeof(*t->ents));
	if (!t->ents)
		return -ENOMEM;
	for (unsigned int k = 0; k < t->nraw; k++)
		for (size_t i = 1; i < t->raw[k].n; i++)
			if (entry(&t->raw[k], i, &t->ents[t->n]))
				t->n++;
	uint64_t *spare = sort_ents(t);
	if (!spare)
		return -ENOMEM;
	/* One entry per (start, name): .symtab and .dynsym repeat names. */
	size_t w = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (w > 0 && t->ents[w - 1].start == t->ents[i].start &&
		    t->ents[w - 1].size == t->ents[i].size && strcmp(t->ents[w - 1].name, t->ents[i].name) == 0)
			continue;
		t->ents[w++] = t->ents[i];
	}
	t->n = w;
	t->max_end = spare; /* 2 x 16 bytes an entry: room for 8 */
	uint64_t m = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint64_t end = t->ents[i].start + t->ents[i].size;
		if (t->ents[i].size && end > m)
			m = end;
		t->max_end[i] = m;
	}
	t->sorted = true;
	return 0;
}

static int table(struct dbg_sym *s, struct dbg__image *im, struct dbg__symtab **ret)
{
	if (!im->symtab) {
		int r = build_table(s, im);
		if (r < 0) {
			dbg__symtab_free(im);
			return r;
		}
	}
	*ret = im->symtab;
	return 0;
}

void dbg__symtab_free(struct dbg__image *im)
{
	if (im->symtab) {
		free(im->symtab->ents);
		free(im->symtab->max_end);
		free(im->symtab);
		im->symtab = NULL;
	}
	if (im->debug_data)
		munmap((void *)im->debug_data, im->debug_size);
	im->debug_data = NULL;
	im->debug_size = 0;
}

/* Better by the sorted order: sized before sizeless (not compared
 * here), global, weak, local; then table order (scan order: the first
 * seen wins). */
static bool better_rank(const struct dbg__symtab_ent *a, const struct dbg__symtab_ent *b)
{
	return a->bind_rank < b->bind_rank;
}

/*
 * The answer the sorted table gives (see dbg__symtab_lookup()), from the
 * raw tables in one or two passes and no allocation. A dbg-stack run asks
 * about a few dozen addresses; sorting libc's 10,000 symbols for them was
 * half of a names-only run's instructions and ~1 MB of fresh pages.
 * Pass 1: the sized symbol holding @addr with the greatest start, then
 * the best binding, then table order (what the walk back from the last
 * start finds). Only when there is none, pass 2: the sizeless label at
 * the greatest start at or below @addr, if no sized symbol that starts
 * at or before it ends after it, and @addr is inside its section.
 */
static int scan_lookup(const struct dbg__symtab *t, uint64_t addr, struct dbg_symbol *ret)
{
	struct dbg__symtab_ent best = { 0 }, e;
	bool found = false;
	for (unsigned int k = 0; k < t->nraw; k++) {
		const struct raw_table *r = &t->raw[k];
		for (size_t i = 1; i < r->n; i++) {
			Elf64_Sym sy;
			memcpy(&sy, r->syms + i * sizeof(sy), sizeof(sy));
			uint64_t start = sy.st_value + r->bias;
			if (sy.st_size == 0 || start > addr || addr - start >= sy.st_size)
				continue;
			if (!entry(r, i, &e))
				continue;
			if (!found || e.start > best.start || (e.start == best.start && better_rank(&e, &best))) {
				best = e;
				found = true;
			}
		}
	}
	if (found) {
		*ret = (struct dbg_symbol){ .name = best.name, .addr = best.start, .size = best.size,
					    .offset = addr - best.start };
		return 0;
	}
	uint64_t top = 0, max_end = 0;
	bool any = false, label = false;
	for (unsigned int k = 0; k < t->nraw; k++) {
		const struct raw_table *r = &t->raw[k];
		for (size_t i = 1; i < r->n; i++) {
			Elf64_Sym sy;
			memcpy(&sy, r->syms + i * sizeof(sy), sizeof(sy));
			if (sy.st_value + r->bias > addr || !entry(r, i, &e))
				continue;
			if (e.size && e.start + e.size > max_end)
				max_end = e.start + e.size;
			if (!any || e.start > top) {
				top = e.start;
				label = false;
				any = true;
			}
			if (e.start == top && e.size == 0 && (!label || better_rank(&e, &best))) {
				best = e;
				label = true;
			}
		}
	}
	if (label && addr < best.limit && max_end <= best.start) {
		*ret = (struct dbg_symbol){ .name = best.name, .addr = best.start, .size = 0,
					    .offset = addr - best.start };
		return 0;
	}
	return -ENOENT;
}

/* Lookups a table answers by scanning before it is sorted: a scan costs
 * about 8 instructions a symbol, a sort about 250. */
#ifndef SCAN_LOOKUPS
#define SCAN_LOOKUPS 16
#endif

int dbg__symtab_lookup(struct dbg_sym *s, struct dbg__image *im, uint64_t addr,
		       struct dbg_symbol *ret)
{
	struct dbg__symtab *t;
	int r = table(s, im, &t);
	if (r < 0)
		return r;
	if (!t->sorted && t->scans < SCAN_LOOKUPS) {
		t->scans++;
		return scan_lookup(t, addr, ret);
	}
	if (!t->sorted && (r = sort_table(t)) < 0)
		return r;
	/* The last entry starting at or before addr. */
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->ents[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -ENOENT;
	size_t last = lo - 1;
	/* The nearest sized symbol holding addr: walk back while some
	 * earlier symbol still ends past addr. */
	for (size_t i = last + 1; i-- > 0 && t->max_end[i] > addr;) {
		const struct dbg__symtab_ent *e = &t->ents[i];
		if (e->size && addr - e->start < e->size) {
			/* The best binding among those at this start and holding
			 * addr: the first of them (they are sorted by binding). */
			for (size_t j = i; j > 0 && t->ents[j - 1].start == e->start;) {
				const struct dbg__symtab_ent *p = &t->ents[--j];
				if (p->size && addr - p->start < p->size)
					e = p;
			}
			*ret = (struct dbg_symbol){ .name = e->name, .addr = e->start, .size = e->size,
						    .offset = addr - e->start };
			return 0;
		}
	}
	/* A sizeless label (sorted after sized symbols at its address):
	 * when it is the nearest symbol, its section goes that far, and no
	 * sized symbol that started before it ends after it. */
	const struct dbg__symtab_ent *e = &t->ents[last];
	/* The best binding among the labels there (sorted after sized ones). */
	while (last > 0 && e->size == 0 && t->ents[last - 1].start == e->start && t->ents[last - 1].size == 0)
		e = &t->ents[--last];
	if (e->size == 0 && addr < e->limit && (last == 0 || t->max_end[last - 1] <= e->start)) {
		*ret = (struct dbg_symbol){ .name = e->name, .addr = e->start, .size = 0,
					    .offset = addr - e->start };
		return 0;
	}
	return -ENOENT;
}

int dbg__symtab_count(struct dbg_sym *s, struct dbg__image *im)
{
	struct dbg__symtab *t;
	int r = table(s, im, &t);
	if (r < 0)
		return r;
	size_t n = 0;
	for (unsigned int k = 0; k < t->nraw; k++)
		n += t->raw[k].n > 0 ? t->raw[k].n - 1 : 0;
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

bool dbg__symtab_find(struct dbg_sym *s, struct dbg__image *im, const char *name, uint64_t *ret)
{
	struct dbg__symtab *t;
	if (table(s, im, &t) < 0)
		return false;
	/* The lowest address of that name, whichever table has it. */
	bool found = false;
	struct dbg__symtab_ent e;
	for (unsigned int k = 0; k < t->nraw; k++)
		for (size_t i = 1; i < t->raw[k].n; i++)
			if (entry(&t->raw[k], i, &e) && e.type != STT_NOTYPE && strcmp(e.name, name) == 0 &&
			    (!found || e.start < *ret)) {
				*ret = e.start;
				found = true;
			}
	return found;
}
