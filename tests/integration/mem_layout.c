/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reads at every VMA boundary of the layout inferior (anonymous, file
 * private/shared, deleted file, PROT_NONE guard, holes, THP, [vdso]) return
 * exactly the expected bytes and count, for the automatic backend choice
 * and for each backend forced alone, with the target stopped (page cache)
 * and running. A read starting in a hole is -EFAULT. PROT_NONE reads as gdb
 * reads it (FOLL_FORCE), except through process_vm_readv, which cannot.
 */
#include "../harness.h"
#include "../pattern.h"

#define PG 4096ull
#define NPAGES 24
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* 'r' readable, 'n' PROT_NONE (debugger-readable), '.' hole. */
static const char layout[NPAGES + 1] = "rrrrrrnrr.rrrrrrr...r...";

static uint64_t base, thp;
static pid_t pid;

static bool readable(uint64_t addr, enum dbg_mem_backend b)
{
	if (addr < base || addr >= base + NPAGES * PG)
		return false;
	char c = layout[(addr - base) / PG];
	return c == 'r' || (c == 'n' && b != DBG_MEM_PVR);
}

static ssize_t expected(uint64_t addr, size_t len, enum dbg_mem_backend b)
{
	size_t n = 0;
	while (n < len && readable(addr + n, b)) {
		uint64_t page_end = (addr + n + PG) & ~(PG - 1);
		n += page_end - (addr + n);
	}
	if (n > len)
		n = len;
	return n ? (ssize_t)n : -EFAULT;
}

static const char *const bnames[] = { "auto", "pvr", "procmem", "peek" };

static void check_read(struct dbg_proc *p, uint64_t addr, size_t len, enum dbg_mem_backend b,
		       const char *mode, uint8_t *buf)
{
	memset(buf, 0, len);
	ssize_t got = dbg_mem_read(p, addr, buf, len);
	ssize_t want = expected(addr, len, b);
	CHECK(got == want, "%s/%s: read(base+0x%llx, %zu) = %zd, want %zd (%s)", bnames[b], mode,
	      (unsigned long long)(addr - base), len, got, want, dbg_proc_errmsg(p));
	for (ssize_t i = 0; i < got; i++)
		CHECK(buf[i] == pattern_at(addr + i), "%s/%s: byte at base+0x%llx is %02x, want %02x",
		      bnames[b], mode, (unsigned long long)(addr + i - base), buf[i],
		      pattern_at(addr + i));
}

static void boundary_suite(struct dbg_proc *p, enum dbg_mem_backend b, const char *mode)
{
	static const int offs[] = { -9, -1, 0, 1, 7, 4000 };
	static const size_t lens[] = { 1, 8, 17, 4096, 4097, 3 * 4096, NPAGES * 4096 };
	static uint8_t buf[NPAGES * 4096 + 64];
	int n = 0;
	OK(dbg_mem_set_backend(p, b));
	for (int pg = 0; pg <= NPAGES; pg++)
		for (size_t i = 0; i < ARRAY_LEN(offs); i++)
			for (size_t j = 0; j < ARRAY_LEN(lens); j++) {
				int64_t off = (int64_t)pg * PG + offs[i];
				if (off < 0)
					continue;
				check_read(p, base + off, lens[j], b, mode, buf);
				n++;
			}
	/* The THP region: whole, and in odd pieces. */
	static uint8_t big[4 << 20];
	if (b != DBG_MEM_PEEK) {
		memset(big, 0, sizeof(big));
		CHECK(dbg_mem_read(p, thp, big, sizeof(big)) == (ssize_t)sizeof(big), "thp whole");
		for (size_t i = 0; i < sizeof(big); i += 4093)
			CHECK(big[i] == pattern_at(thp + i), "thp byte %zu", i);
	}
	for (int k = 0; k < 64; k++) {
		uint64_t off = ((uint64_t)k * 2654435761u) % ((4 << 20) - 9000);
		size_t len = 1 + (k * 977) % 9000;
		memset(big, 0, len);
		CHECK(dbg_mem_read(p, thp + off, big, len) == (ssize_t)len, "thp piece");
		for (size_t i = 0; i < len; i++)
			CHECK(big[i] == pattern_at(thp + off + i), "thp piece byte");
	}
	printf("%-8s %-8s %d boundary reads exact\n", bnames[b], mode, n);
}

/* Vectored reads: many ranges, each with the result a single read gives,
 * whether the ranges go batched into process_vm_readv or one by one. */
static void readv_suite(struct dbg_proc *p, const char *mode)
{
	enum { N = 600 };
	static struct dbg_mem_range rg[N];
	static uint8_t bufs[N][5000];
	unsigned seed = 5;
	for (int i = 0; i < N; i++) {
		rg[i].addr = base + rand_r(&seed) % (NPAGES * PG);
		rg[i].len = 1 + rand_r(&seed) % (i % 3 ? 64 : 5000);
		rg[i].buf = bufs[i];
		rg[i].result = 12345;
		memset(bufs[i], 0, sizeof(bufs[i]));
	}
	OK(dbg_mem_set_backend(p, DBG_MEM_AUTO));
	OK(dbg_mem_readv(p, rg, N));
	for (int i = 0; i < N; i++) {
		ssize_t want = expected(rg[i].addr, rg[i].len, DBG_MEM_AUTO);
		CHECK(rg[i].result == want, "%s readv range %d (base+0x%llx, %zu): %zd, want %zd", mode,
		      i, (unsigned long long)(rg[i].addr - base), rg[i].len, rg[i].result, want);
		for (ssize_t k = 0; k < rg[i].result; k++)
			CHECK(bufs[i][k] == pattern_at(rg[i].addr + k), "%s readv range %d byte %zd", mode,
			      i, k);
	}
	printf("readv    %-8s %d ranges exact\n", mode, N);
}

/* [vdso] and [vvar] against a raw pread of /proc/PID/mem. */
static void special_suite(struct dbg_proc *p)
{
	const struct dbg_maps *maps;
	OK(dbg_proc_maps(p, &maps));
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open mem");
	int seen = 0;
	for (size_t i = 0; i < dbg_maps_count(maps); i++) {
		const struct dbg_vma *v = dbg_maps_get(maps, i);
		if (strcmp(v->name, "[vdso]") && strcmp(v->name, "[vvar]"))
			continue;
		size_t len = v->end - v->start;
		uint8_t *a = calloc(1, len), *o = calloc(1, len);
		ssize_t ours = dbg_mem_read(p, v->start, a, len);
		ssize_t raw = pread(fd, o, len, (off_t)v->start);
		if (raw <= 0)
			CHECK(ours == -EFAULT, "%s: raw read fails, ours = %zd", v->name, ours);
		else
			CHECK(ours == raw && !memcmp(a, o, raw), "%s: ours %zd raw %zd", v->name, ours, raw);
		printf("%s: %zu bytes mapped, %zd readable, same as /proc/PID/mem\n", v->name, len, ours);
		free(a);
		free(o);
		seen++;
	}
	close(fd);
	CHECK(seen >= 1, "no [vdso]");
}

static void maps_suite(struct dbg_proc *p)
{
	const struct dbg_maps *maps;
	OK(dbg_proc_maps(p, &maps));
	const struct dbg_vma *v = dbg_maps_find(maps, base + 6 * PG);
	CHECK(v && v->prot == 0 && v->start == base + 6 * PG && v->end == base + 7 * PG, "guard");
	v = dbg_maps_find(maps, base + 4 * PG);
	CHECK(v && v->prot == DBG_PROT_READ && v->start == base + 4 * PG, "r-- part");
	CHECK(!dbg_maps_find(maps, base + 9 * PG), "hole at page 9");
	v = dbg_maps_find(maps, base + 13 * PG);
	CHECK(v && (v->flags & DBG_VMA_SHARED) && !(v->flags & DBG_VMA_DELETED), "shared file");
	v = dbg_maps_find(maps, base + 15 * PG);
	CHECK(v && (v->flags & DBG_VMA_DELETED) && !strncmp(v->name, "/tmp/libdbg-layout-", 19),
	      "deleted file: '%s'", v ? v->name : "");
	/* Single-address queries (PROCMAP_QUERY where the kernel has it). */
	struct dbg_vma q;
	char name[256];
	OK(dbg_proc_vma_query(p, base + 6 * PG + 5, &q, name, sizeof(name)));
	CHECK(q.start == base + 6 * PG && q.end == base + 7 * PG && q.prot == 0, "query guard");
	CHECK(dbg_proc_vma_query(p, base + 9 * PG, &q, name, sizeof(name)) == -ENOENT, "query hole");
	OK(dbg_proc_vma_query(p, base + 15 * PG, &q, name, sizeof(name)));
	CHECK((q.flags & DBG_VMA_DELETED) && !strncmp(q.name, "/tmp/libdbg-layout-", 19),
	      "query deleted: '%s'", q.name);
	OK(dbg_proc_vma_query(p, base + 10 * PG, &q, name, sizeof(name)));
	CHECK(q.offset == 0 && q.inode != 0 && !(q.flags & DBG_VMA_DELETED), "query file");
	/* Remove the two named temp files of this inferior. */
	unlink(dbg_maps_find(maps, base + 10 * PG)->name);
	unlink(dbg_maps_find(maps, base + 13 * PG)->name);
}

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "layout", NULL);
	base = ready_field(&inf, "base");
	thp = ready_field(&inf, "thp");
	pid = inf.pid;
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	maps_suite(p);
	special_suite(p);
	/* Stopped: reads may come from the page cache (not for PEEK). */
	for (int b = DBG_MEM_AUTO; b < DBG_MEM__NR_BACKENDS; b++)
		boundary_suite(p, b, "stopped");
	readv_suite(p, "stopped");
	struct dbg_mem_stats st;
	OK(dbg_mem_get_stats(p, &st));
	CHECK(st.cache_hits > 0 && st.splits > 0 && st.fallbacks > 0,
	      "stats: hits %llu splits %llu fallbacks %llu", (unsigned long long)st.cache_hits,
	      (unsigned long long)st.splits, (unsigned long long)st.fallbacks);
	for (int b = DBG_MEM_AUTO; b < DBG_MEM__NR_BACKENDS; b++)
		CHECK(st.calls[b] > 0 || b == DBG_MEM_AUTO, "backend %s never called", bnames[b]);
	/* Running: no cache; PEEKDATA needs a stopped thread. */
	OK(dbg_proc_resume(p));
	for (int b = DBG_MEM_AUTO; b < DBG_MEM_PEEK; b++)
		boundary_suite(p, b, "running");
	readv_suite(p, "running");
	OK(dbg_mem_set_backend(p, DBG_MEM_PEEK));
	uint8_t x;
	CHECK(dbg_mem_read(p, base, &x, 1) == -EFAULT, "PEEK with no stopped thread reads nothing");
	dbg_proc_detach(p);
	inferior_kill(&inf);
	return 0;
}
