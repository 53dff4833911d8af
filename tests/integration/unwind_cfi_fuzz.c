/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The FDE tables libdbg builds itself, on a shared library (so with a load
 * bias): libfuzzlib built without .eh_frame_hdr (-Wl,--no-eh-frame-hdr:
 * the table comes from .eh_frame, issue 9 item 3) and built without
 * unwind tables (-fno-asynchronous-unwind-tables -fno-unwind-tables: its
 * CFI only in .debug_frame, item 2), loaded by fuzzhost with a thread
 * blocked in it.
 *   - Pristine: in every mode the thread's PCs are those of libdw alone
 *     (which reads both sections itself), through fl_block and
 *     fuzzlib_enter, ending at the outermost frame.
 *   - Corrupt: each round rewrites bytes of the copy's .eh_frame,
 *     .debug_frame or section headers in place, builds a fresh module
 *     table and unwinds every thread in every mode. Every call returns
 *     (no crash, no hang, ASan clean in the sanitizer build), in range,
 *     with a valid reason for the end.
 *   DBG_FUZZ_ROUNDS (default 150 per library), DBG_FUZZ_SEED (default: time).
 */
#include "../harness.h"

#include <elf.h>
#include <inttypes.h>
#include <sys/stat.h>

#define DBG__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	enum dbg_unwind_backend backend;
	unsigned int flags;
} modes[] = {
	{ "libunwind+rules", DBG_UNWIND_LIBUNWIND, 0 },
	{ "libdw+rules", DBG_UNWIND_LIBDW, 0 },
	{ "libunwind", DBG_UNWIND_LIBUNWIND, DBG_UNWIND_BACKEND_ONLY },
	{ "libdw", DBG_UNWIND_LIBDW, DBG_UNWIND_BACKEND_ONLY }, /* the oracle: last */
};

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct region {
	uint64_t off, len;
};

static int regions_of(const uint8_t *d, size_t size, struct region *r, int cap, bool *has_hdr,
		      bool *has_df)
{
	const Elf64_Ehdr *eh = (const void *)d;
	CHECK(size > sizeof(*eh) && eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) <= size,
	      "pristine library headers");
	const Elf64_Shdr *sh = (const void *)(d + eh->e_shoff);
	const char *names = (const char *)d + sh[eh->e_shstrndx].sh_offset;
	int n = 0;
	r[n++] = (struct region){ eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) };
	*has_hdr = *has_df = false;
	for (int i = 0; i < eh->e_shnum && n < cap; i++) {
		const char *nm = names + sh[i].sh_name;
		*has_hdr |= !strcmp(nm, ".eh_frame_hdr");
		*has_df |= !strcmp(nm, ".debug_frame");
		if ((!strcmp(nm, ".eh_frame") || !strcmp(nm, ".debug_frame")) && sh[i].sh_size) {
			/* Twice, for twice the weight of the section headers. */
			r[n++] = (struct region){ sh[i].sh_offset, sh[i].sh_size };
			r[n++] = (struct region){ sh[i].sh_offset, sh[i].sh_size };
		}
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
			buf[i] = mode == 0 ? (uint8_t)rnd() : mode == 1 ? 0xff
			       : mode == 2 ? (uint8_t)(1u << (rnd() % 8)) : 0;
		CHECK(pwrite(fd, buf, len, off) == (ssize_t)len, "pwrite");
	}
}

/* Unwind every thread in every mode. Pristine: each mode's PCs equal
 * libdw's, and the library thread goes through fl_block and
 * fuzzlib_enter to the outermost frame. */
static void examine(struct dbg_proc *p, const char *lib, bool pristine)
{
	struct dbg_sym *sym;
	OK(dbg_sym_new(p, NULL, &sym));
	pid_t tids[4];
	int nt = dbg_proc_threads(p, tids, 4);
	CHECK(nt == 2, "%d threads", nt);
	static struct dbg_frame fr[DBG__ARRAY_SIZE(modes)][4][256];
	int n[DBG__ARRAY_SIZE(modes)][4];
	for (size_t m = 0; m < DBG__ARRAY_SIZE(modes); m++) {
		DBG_OPTS(dbg_unwind_opts, o, .backend = modes[m].backend, .flags = modes[m].flags);
		struct dbg_unwinder *u;
		OK(dbg_unwind_new(p, sym, &o, &u));
		for (int t = 0; t < nt; t++) {
			n[m][t] = dbg_unwind_thread(u, tids[t], fr[m][t], 256);
			enum dbg_unwind_end end = dbg_unwind_last_end(u);
			CHECK(n[m][t] >= 1 && n[m][t] <= 256, "%s: unwind = %d", modes[m].name, n[m][t]);
			CHECK(end <= DBG_UNWIND_END_OTHER && strcmp(dbg_unwind_end_str(end), "unknown"),
			      "%s: end %d", modes[m].name, end);
			if (!pristine)
				continue;
			CHECK(end == DBG_UNWIND_END_OUTERMOST, "%s, %s: ended: %s", lib, modes[m].name,
			      dbg_unwind_end_str(end));
		}
		dbg_unwind_free(u);
	}
	if (pristine) {
		const size_t o = DBG__ARRAY_SIZE(modes) - 1;
		bool through = false;
		for (int t = 0; t < nt; t++) {
			for (size_t m = 0; m < o; m++) {
				bool same = n[m][t] == n[o][t];
				for (int i = 0; same && i < n[m][t]; i++)
					same = fr[m][t][i].pc == fr[o][t][i].pc;
				if (!same)
					for (int i = 0; i < n[m][t] || i < n[o][t]; i++)
						fprintf(stderr, "  #%d %s %#" PRIx64 "  libdw %#" PRIx64 "\n", i,
							modes[m].name, i < n[m][t] ? fr[m][t][i].pc : 0,
							i < n[o][t] ? fr[o][t][i].pc : 0);
				CHECK(same, "%s, %s, thread %d: %d frames, not libdw's %d", lib, modes[m].name,
				      tids[t], n[m][t], n[o][t]);
			}
			char seq[512] = "";
			for (int i = 0; i < n[0][t]; i++) {
				struct dbg_symbol s;
				if (dbg_sym_lookup(sym, fr[0][t][i].pc - (i > 0), &s) == 0 &&
				    strlen(seq) + strlen(s.name) + 2 < sizeof(seq)) {
					strcat(seq, s.name);
					strcat(seq, " ");
				}
			}
			through |= strstr(seq, "fl_block fuzzlib_enter thread start_thread") != NULL;
		}
		CHECK(through, "%s: no thread unwinds through fl_block and fuzzlib_enter", lib);
	}
	dbg_sym_free(sym);
}

static void run(const char *name, bool want_df, int rounds)
{
	char dir[] = "/tmp/libdbg-cfi-XXXXXX", lib[256], src[4096], cmd[4500];
	CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(lib, sizeof(lib), "%s/%s", dir, name);
	snprintf(src, sizeof(src), "%s/%s", INFERIOR_DIR, name);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, lib);
	CHECK(system(cmd) == 0, "%s", cmd);
	int fd = open(lib, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s", lib);
	struct stat st;
	CHECK(fstat(fd, &st) == 0, "fstat");
	uint8_t *pristine = malloc(st.st_size);
	CHECK(pristine && pread(fd, pristine, st.st_size, 0) == st.st_size, "read the library");
	struct region regions[16];
	bool has_hdr, has_df;
	int nregions = regions_of(pristine, st.st_size, regions, 16, &has_hdr, &has_df);
	CHECK(!has_hdr && has_df == want_df, "%s: .eh_frame_hdr %d, .debug_frame %d", name, has_hdr,
	      has_df);

	struct inferior inf;
	inferior_start(&inf, "fuzzhost", lib, NULL);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	examine(p, name, true);
	for (int i = 0; i < rounds; i++) {
		CHECK(pwrite(fd, pristine, st.st_size, 0) == st.st_size, "restore");
		corrupt(fd, &regions[rnd() % nregions]);
		examine(p, name, false);
	}
	CHECK(pwrite(fd, pristine, st.st_size, 0) == st.st_size, "restore");
	examine(p, name, true);
	printf("%s: every mode equals libdw alone; %d corrupt rounds over %d regions: no crash\n",
	       name, rounds, nregions);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	close(fd);
	free(pristine);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

int main(void)
{
	const char *e = getenv("DBG_FUZZ_ROUNDS");
	int rounds = e ? atoi(e) : 150;
	e = getenv("DBG_FUZZ_SEED");
	rng_state = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) * 2654435761u + getpid();
	if (!rng_state)
		rng_state = 1;
	printf("seed %#" PRIx64 " (DBG_FUZZ_SEED), %d rounds per library\n", rng_state, rounds);
	run("libfuzzlib_nohdr.so", false, rounds);
	run("libfuzzlib_df.so", true, rounds);
	return 0;
}
