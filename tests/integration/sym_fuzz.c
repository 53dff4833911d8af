/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Malformed ELF and DWARF in a target library: fuzzhost has a copy of
 * libfuzzlib.so loaded and a thread blocked in it. Each round rewrites
 * part of that copy in place (the target maps the same inode, so
 * /proc/PID/map_files shows the corruption) - bytes of the DWARF, the
 * symbol and string tables, .eh_frame and .eh_frame_hdr, the section
 * headers, the ELF and program headers - then builds a fresh module table
 * and unwinds and symbolizes every thread with both backends. Every call
 * must return (no crash, no hang, ASan clean in the sanitizer build), with
 * counts in range; a library we cannot use must say why.
 *   DBG_FUZZ_ROUNDS (default 300), DBG_FUZZ_SEED (default: time).
 */
#include "../stacks.h"

#include <elf.h>
#include <sys/stat.h>
#include <time.h>

struct region {
	uint64_t off, len;
};

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The parts of the library the dynamic linker no longer reads once it
 * is loaded: what a debugger reads and a corrupt file gets wrong. */
static int fuzz_regions(const uint8_t *d, size_t size, struct region *r, int cap)
{
	const Elf64_Ehdr *eh = (const void *)d;
	CHECK(size > sizeof(*eh) && eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) <= size,
	      "pristine library headers");
	const Elf64_Shdr *sh = (const void *)(d + eh->e_shoff);
	const char *names = (const char *)d + sh[eh->e_shstrndx].sh_offset;
	int n = 0;
	r[n++] = (struct region){ 0, eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) };
	r[n++] = (struct region){ eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) };
	for (int i = 0; i < eh->e_shnum && n < cap; i++) {
		const char *nm = names + sh[i].sh_name;
		if (sh[i].sh_type == SHT_NOBITS || sh[i].sh_size == 0)
			continue;
		if (!strncmp(nm, ".debug_", 7) || !strcmp(nm, ".symtab") || !strcmp(nm, ".strtab") ||
		    !strcmp(nm, ".eh_frame") || !strcmp(nm, ".eh_frame_hdr"))
			r[n++] = (struct region){ sh[i].sh_offset, sh[i].sh_size };
	}
	return n;
}

static void corrupt(int fd, const struct region *r)
{
	uint8_t buf[64];
	int mode = rnd() % 4;
	int count = 1 + rnd() % 8;
	for (int k = 0; k < count; k++) {
		uint64_t len = 1 + rnd() % (mode == 3 ? 64 : 8);
		if (len > r->len)
			len = r->len;
		uint64_t off = r->off + rnd() % (r->len - len + 1);
		for (uint64_t i = 0; i < len; i++)
			buf[i] = mode == 0 ? (uint8_t)rnd()               /* random bytes */
			       : mode == 1 ? 0xff                         /* huge values */
			       : mode == 2 ? (uint8_t)(1u << (rnd() % 8)) /* small ones */
			       : 0;                                       /* zeroed runs */
		CHECK(pwrite(fd, buf, len, off) == (ssize_t)len, "pwrite");
	}
}

/* Build a module table and unwind and symbolize every thread; return
 * whether the library's frames came out right (only expected when the
 * file is pristine). */
static bool examine(struct dbg_proc *p, const char *lib, int backend, int *lib_errors)
{
	struct dbg_sym *sym;
	OK(dbg_sym_new(p, NULL, &sym));
	DBG_OPTS(dbg_unwind_opts, o, .backend = (enum dbg_unwind_backend)backend);
	struct dbg_unwinder *u;
	OK(dbg_unwind_new(p, sym, &o, &u));
	pid_t tids[4];
	int nt = dbg_proc_threads(p, tids, 4);
	CHECK(nt == 2, "%d threads", nt);
	bool right = false;
	for (int t = 0; t < nt; t++) {
		struct dbg_frame fr[256];
		int n = dbg_unwind_thread(u, tids[t], fr, 256);
		CHECK(n >= 1 && n <= 256, "unwind = %d", n);
		char seq[512] = "";
		for (int i = 0; i < n; i++) {
			uint64_t at = fr[i].pc - ((fr[i].flags & DBG_FRAME_ACTIVATION) ? 0 : 1);
			struct dbg_module m;
			int r = dbg_sym_module(sym, at, &m);
			CHECK(r == 0 || r == -ENOENT, "dbg_sym_module = %d", r);
			if (r == 0 && strcmp(m.path, lib) == 0 && m.error)
				(*lib_errors)++;
			struct dbg_symbol s;
			r = dbg_sym_lookup(sym, at, &s);
			CHECK(r == 0 || r == -ENOENT, "dbg_sym_lookup = %d", r);
			CHECK(r != 0 || s.name, "symbol without a name");
			struct dbg_srcloc locs[16];
			r = dbg_sym_srclocs(sym, at, locs, 16);
			CHECK(r >= 1 || r == -ENOENT, "dbg_sym_srclocs = %d", r);
			for (int j = 0; j < r && j < 16; j++)
				if (locs[j].function && strlen(seq) + strlen(locs[j].function) + 2 < sizeof(seq)) {
					strcat(seq, locs[j].function);
					strcat(seq, " ");
				}
		}
		if (strstr(seq, "fl_block fl_inline fuzzlib_enter "))
			right = true;
	}
	uint64_t addr;
	int r = dbg_sym_addr(sym, "fuzzlib_enter", &addr);
	CHECK(r == 0 || r == -ENOENT, "dbg_sym_addr = %d", r);
	dbg_unwind_free(u);
	dbg_sym_free(sym);
	return right;
}

int main(void)
{
	const char *e = getenv("DBG_FUZZ_ROUNDS");
	int rounds = e ? atoi(e) : 300;
	e = getenv("DBG_FUZZ_SEED");
	rng_state = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) * 2654435761u + getpid();
	if (!rng_state)
		rng_state = 1;
	printf("seed %#" PRIx64 " (DBG_FUZZ_SEED), %d rounds\n", rng_state, rounds);

	char dir[] = "/tmp/libdbg-fuzz-XXXXXX", lib[256], src[4096], cmd[4500];
	CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(lib, sizeof(lib), "%s/libfuzzlib.so", dir);
	snprintf(src, sizeof(src), "%s/libfuzzlib.so", INFERIOR_DIR);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, lib);
	CHECK(system(cmd) == 0, "%s", cmd);
	int fd = open(lib, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s", lib);
	struct stat st;
	CHECK(fstat(fd, &st) == 0, "fstat");
	uint8_t *pristine = malloc(st.st_size);
	CHECK(pristine && pread(fd, pristine, st.st_size, 0) == st.st_size, "read the library");
	struct region regions[64];
	int nregions = fuzz_regions(pristine, st.st_size, regions, 64);

	struct inferior inf;
	inferior_start(&inf, "fuzzhost", lib, NULL);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	int lib_errors = 0;
	CHECK(examine(p, lib, 0, &lib_errors) && examine(p, lib, 1, &lib_errors),
	      "the pristine library does not symbolize as fl_block, fl_inline, fuzzlib_enter");
	int still_right = 0;
	for (int i = 0; i < rounds; i++) {
		CHECK(pwrite(fd, pristine, st.st_size, 0) == st.st_size, "restore");
		corrupt(fd, &regions[rnd() % nregions]);
		still_right += examine(p, lib, i % 2, &lib_errors);
	}
	CHECK(pwrite(fd, pristine, st.st_size, 0) == st.st_size, "restore");
	CHECK(examine(p, lib, 0, &lib_errors), "the restored library does not symbolize right");
	printf("%d rounds over %d regions: no crash; %d rounds still fully right, %d frames in "
	       "a library we reported unusable\n", rounds, nregions, still_right, lib_errors);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	close(fd);
	free(pristine);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
	return 0;
}
