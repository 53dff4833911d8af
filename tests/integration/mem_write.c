/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes: into read-only text (the target then runs what we wrote), into
 * a read-only private file mapping, at unaligned edges through POKEDATA
 * (the neighbouring bytes survive), through each forced backend, and into
 * holes. A write drops the stopped-target cache: a read after it sees the
 * new bytes. Every result is checked against a raw /proc/PID/mem read.
 */
#include "../harness.h"
#include "../pattern.h"

#define PG 4096ull

static int memfd;

static void raw_read(uint64_t addr, void *buf, size_t len)
{
	CHECK(pread(memfd, buf, len, (off_t)addr) == (ssize_t)len, "raw read");
}

static void expect_bytes(uint64_t addr, const uint8_t *want, size_t len, const char *what)
{
	uint8_t got[64];
	raw_read(addr, got, len);
	CHECK(!memcmp(got, want, len), "%s: raw bytes differ", what);
}

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "layout", NULL);
	uint64_t base = ready_field(&inf, "base");
	uint64_t answer = ready_field(&inf, "answer");
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/mem", inf.pid);
	memfd = open(path, O_RDONLY | O_CLOEXEC);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);

	/* 1. Read-only text: make answer() return 42. */
	static const uint8_t mov42[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };
	uint8_t orig[sizeof(mov42)], back[sizeof(mov42)];
	CHECK(dbg_mem_read(p, answer, orig, sizeof(orig)) == sizeof(orig), "read text");
	CHECK(dbg_mem_write(p, answer, mov42, sizeof(mov42)) == sizeof(mov42), "write text: %s",
	      dbg_proc_errmsg(p));
	CHECK(dbg_mem_read(p, answer, back, sizeof(back)) == sizeof(back) &&
	      !memcmp(back, mov42, sizeof(mov42)), "text read back");
	expect_bytes(answer, mov42, sizeof(mov42), "text");
	OK(dbg_proc_resume(p));
	inferior_say(&inf, "answer\n");
	serve_until_line(p, &inf, line, sizeof(line));
	CHECK(!strcmp(line, "answer 42"), "patched code said '%s'", line);
	OK(dbg_proc_stop(p));
	CHECK(dbg_mem_write(p, answer, orig, sizeof(orig)) == sizeof(orig), "restore text");
	OK(dbg_proc_resume(p));
	inferior_say(&inf, "answer\n");
	serve_until_line(p, &inf, line, sizeof(line));
	CHECK(!strcmp(line, "answer 41"), "restored code said '%s'", line);
	OK(dbg_proc_stop(p));

	/* 2. The cache: fill it, write, read again. */
	uint64_t a = base + 100;
	uint8_t v[16], w[16];
	CHECK(dbg_mem_read(p, a, v, 16) == 16, "read");
	struct dbg_mem_stats st0, st1;
	dbg_mem_get_stats(p, &st0);
	CHECK(dbg_mem_read(p, a, v, 16) == 16, "read again");
	dbg_mem_get_stats(p, &st1);
	CHECK(st1.cache_hits > st0.cache_hits, "second read not from the cache");
	for (int i = 0; i < 16; i++)
		w[i] = (uint8_t)(0x11 * i + 1);
	CHECK(dbg_mem_write(p, a, w, 16) == 16, "write rw");
	CHECK(dbg_mem_read(p, a, v, 16) == 16 && !memcmp(v, w, 16), "cache served stale bytes");

	/* 3. Unaligned edges through POKEDATA: 3 bytes at an odd address. */
	OK(dbg_mem_set_backend(p, DBG_MEM_PEEK));
	uint64_t odd = base + PG + 5;
	uint8_t around[16], want[16];
	raw_read(odd - 5, around, 16);
	memcpy(want, around, 16);
	want[5] = 0xde, want[6] = 0xad, want[7] = 0xbe;
	CHECK(dbg_mem_write(p, odd, want + 5, 3) == 3, "poke write");
	expect_bytes(odd - 5, want, 16, "poke edges");
	/* Across a word boundary too. */
	want[6] = 1, want[7] = 2, want[8] = 3, want[9] = 4;
	CHECK(dbg_mem_write(p, odd + 1, want + 6, 4) == 4, "poke across words");
	expect_bytes(odd - 5, want, 16, "poke across words");

	/* 4. Read-only private file mapping, through /proc/PID/mem. */
	OK(dbg_mem_set_backend(p, DBG_MEM_PROCMEM));
	uint64_t f = base + 10 * PG + 10;
	CHECK(dbg_mem_write(p, f, w, 16) == 16, "write r--p file: %s", dbg_proc_errmsg(p));
	expect_bytes(f, w, 16, "r--p file");

	/* 5. process_vm_writev respects protections: rw yes, r-- no. */
	OK(dbg_mem_set_backend(p, DBG_MEM_PVR));
	CHECK(dbg_mem_write(p, base + 2 * PG, w, 16) == 16, "pvw into rw");
	expect_bytes(base + 2 * PG, w, 16, "pvw");
	CHECK(dbg_mem_write(p, base + 4 * PG, w, 16) == -EFAULT, "pvw into r-- must fail");

	/* 6. Holes: none, or up to the hole. */
	OK(dbg_mem_set_backend(p, DBG_MEM_AUTO));
	CHECK(dbg_mem_write(p, base + 9 * PG, w, 8) == -EFAULT, "write into a hole");
	CHECK(dbg_mem_write(p, base + 9 * PG - 4, w, 8) == 4, "write up to a hole");
	OK(dbg_mem_set_backend(p, DBG_MEM_PEEK));
	CHECK(dbg_mem_write(p, base + 9 * PG - 4, w, 8) == 4, "poke up to a hole");
	CHECK(dbg_mem_write(p, base + 9 * PG, w, 8) == -EFAULT, "poke into a hole");

	OK(dbg_mem_get_stats(p, &st1));
	CHECK(st1.writes >= 10 && st1.bytes_written > 0, "write stats");
	const struct dbg_maps *maps;
	OK(dbg_proc_maps(p, &maps));
	unlink(dbg_maps_find(maps, base + 10 * PG)->name);
	unlink(dbg_maps_find(maps, base + 13 * PG)->name);
	dbg_proc_detach(p);
	close(memfd);
	inferior_kill(&inf);
	printf("writes: text, file r--p, POKE edges, pvw, holes, cache invalidation\n");
	return 0;
}
