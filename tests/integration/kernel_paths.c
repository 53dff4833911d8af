/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's remote read paths, checked on whichever kernel runs this:
 *  - /proc/PID/cmdline refuses an argv area that is file-backed
 *    (CVE-2018-1120: FOLL_ANON), and shows nothing of that file;
 *  - PROT_NONE pages read with FOLL_FORCE (mem_layout covers every
 *    backend; here the raw path), secretmem is refused, hugetlb reads;
 *  - 20,000 random reads of present and untouched memory return the
 *    expected bytes (the pattern, or zeros for untouched pages).
 * Where the kernel has libdbg's series (remote_vm_fast in /proc/vmstat),
 * also that the counters show the per-VMA-lock path for single-VMA reads
 * of present pages and of the zero page, through /proc/PID/mem and
 * process_vm_readv, and a fallback counted by its cause for reads that
 * cross VMAs (range) or find pages not present (fault); and that libdbg
 * prefers /proc/PID/mem there.
 */
#include "../harness.h"
#include "../pattern.h"

#include <sys/uio.h>

#define PG 4096ull

static int memfd;

/* The series' counters (kernel/patches, patch 5 and 6). */
enum { C_FAST, C_PIN_FAST, C_RANGE, C_LOCK, C_FAULT, C_FLAGS, C_N };
static const char *const cnames[C_N] = {
	"remote_vm_fast",	    "remote_vm_pin_fast",	"remote_vm_fallback_range",
	"remote_vm_fallback_lock", "remote_vm_fallback_fault", "remote_vm_fallback_flags",
};

static bool vmstat(uint64_t *c)
{
	char buf[65536], key[64];
	int fd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	int found = 0;
	for (int i = 0; i < C_N; i++) {
		snprintf(key, sizeof(key), "\n%s ", cnames[i]);
		char *f = strstr(buf, key);
		if (f) {
			c[i] = strtoull(f + strlen(key), NULL, 10);
			found++;
		}
	}
	return found == C_N;
}

static ssize_t raw(uint64_t addr, void *buf, size_t len)
{
	return pread(memfd, buf, len, (off_t)addr);
}

static ssize_t raw_pvr(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
	return process_vm_readv(pid, &l, 1, &r, 1, 0);
}

/* Run @n reads of @len at @addr + i * @stride (through process_vm_readv
 * of @pid if non-zero, else /proc/PID/mem); the counter deltas in @d. */
static void deltas(pid_t pid, uint64_t addr, uint64_t stride, size_t len, int n, uint64_t *d)
{
	uint64_t c0[C_N], c1[C_N];
	char buf[8192];
	vmstat(c0);
	for (int i = 0; i < n; i++) {
		if (pid)
			raw_pvr(pid, addr + i * stride, buf, len);
		else
			raw(addr + i * stride, buf, len);
	}
	vmstat(c1);
	for (int i = 0; i < C_N; i++)
		d[i] = c1[i] - c0[i];
}

static uint64_t fallbacks(const uint64_t *d)
{
	return d[C_RANGE] + d[C_LOCK] + d[C_FAULT] + d[C_FLAGS];
}

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "kpaths", NULL);
	uint64_t untouched = ready_field(&inf, "untouched"), secret = ready_field(&inf, "secret");
	uint64_t huge = ready_field(&inf, "huge"), present = ready_field(&inf, "present");
	uint64_t cold = ready_field(&inf, "cold");
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/mem", inf.pid);
	memfd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(memfd >= 0, "open mem");
	/* Let it finish remapping its argv page. */
	for (int i = 0; i < 200 && thread_state(inf.pid, inf.pid) != 'S'; i++)
		sleep_ms(5);
	sleep_ms(50);

	/* CVE-2018-1120: first make sure the setup took (the inferior is
	 * alive and its argv page is a deleted file's mapping). */
	uint64_t argv_page = ready_field(&inf, "argv");
	struct dbg_proc *q = attach_or_skip(inf.pid, NULL);
	struct dbg_vma av;
	char avname[256];
	OK(dbg_proc_vma_query(q, argv_page, &av, avname, sizeof(avname)));
	CHECK((av.flags & DBG_VMA_DELETED) && strstr(av.name, "libdbg-kpaths"),
	      "argv page is '%s', not the file", av.name);
	dbg_proc_detach(q);
	/* CVE-2018-1120. */
	snprintf(path, sizeof(path), "/proc/%d/cmdline", inf.pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	CHECK(n <= 0 || !memmem(buf, n, "FILEBACKED", 10), "cmdline shows the file: '%.40s'", buf);
	printf("cmdline of a file-backed argv area: %zd bytes, nothing of the file\n", n);

	/* secretmem: refused by every path. */
	if (secret) {
		CHECK(raw(secret, buf, 64) < 0, "secretmem read through /proc/PID/mem");
		printf("secretmem: refused\n");
	} else {
		printf("secretmem: this kernel has no memfd_secret(); not checked\n");
	}
	/* hugetlb: read (by the mmap_lock path). */
	if (huge) {
		CHECK(raw(huge + 12345, buf, 4096) == 4096, "hugetlb read");
		for (int i = 0; i < 4096; i++)
			CHECK((uint8_t)buf[i] == pattern_at(huge + 12345 + i), "hugetlb byte %d", i);
		printf("hugetlb: read, bytes exact\n");
	} else {
		printf("hugetlb: no huge page reserved here; not checked\n");
	}

	/* Random reads: present pages hold the pattern, untouched ones 0. */
	unsigned seed = 9;
	for (int i = 0; i < 20000; i++) {
		bool p = rand_r(&seed) & 1;
		uint64_t base = p ? present : untouched;
		size_t len = 1 + rand_r(&seed) % 300;
		uint64_t off = rand_r(&seed) % (16 * PG - len);
		CHECK(raw(base + off, buf, len) == (ssize_t)len, "random read %d", i);
		for (size_t k = 0; k < len; k++)
			CHECK((uint8_t)buf[k] == (p ? pattern_at(base + off + k) : 0), "random read %d byte %zu", i, k);
	}
	printf("20000 random reads of present and untouched pages: exact\n");

	uint64_t c[C_N];
	if (!vmstat(c)) {
		printf("this kernel has no remote_vm_* counters (not libdbg's series): counters not checked\n");
	} else {
		uint64_t d[C_N];
		deltas(0, present + 100, 0, 64, 1000, d);
		printf("1000 reads inside one VMA, present: fast +%llu, fallback +%llu\n",
		       (unsigned long long)d[C_FAST], (unsigned long long)fallbacks(d));
		CHECK(d[C_FAST] >= 1000 && fallbacks(d) < 50,
		      "present single-VMA reads did not take the per-VMA lock");
		deltas(inf.pid, present + 100, 0, 64, 1000, d);
		printf("1000 process_vm_readv inside one VMA, present: pin fast +%llu, fallback +%llu\n",
		       (unsigned long long)d[C_PIN_FAST], (unsigned long long)fallbacks(d));
		CHECK(d[C_PIN_FAST] >= 1000 && fallbacks(d) < 50,
		      "process_vm_readv inside one VMA did not pin under the per-VMA lock");
		/* Crossing from the present VMA into the next: the two were
		 * mapped one after the other; find a real boundary instead. */
		struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
		const struct dbg_maps *maps;
		OK(dbg_proc_maps(p, &maps));
		uint64_t boundary = 0;
		for (size_t i = 1; i < dbg_maps_count(maps) && !boundary; i++) {
			const struct dbg_vma *a = dbg_maps_get(maps, i - 1), *v = dbg_maps_get(maps, i);
			if (a->end == v->start && (a->prot & DBG_PROT_READ) && (v->prot & DBG_PROT_READ) &&
			    !(a->flags & DBG_VMA_SPECIAL) && !(v->flags & DBG_VMA_SPECIAL))
				boundary = a->end;
		}
		CHECK(boundary, "no two adjacent readable VMAs");
		deltas(0, boundary - 32, 0, 64, 500, d);
		printf("500 reads across a VMA boundary: fast +%llu, fallback range +%llu\n",
		       (unsigned long long)d[C_FAST], (unsigned long long)d[C_RANGE]);
		CHECK(d[C_RANGE] >= 500, "cross-VMA reads did not fall back (range)");
		/* 500 pages never touched: each read needs a fault... */
		deltas(0, cold + 5, PG, 64, 500, d);
		printf("500 reads of pages not present: fast +%llu, fallback fault +%llu\n",
		       (unsigned long long)d[C_FAST], (unsigned long long)d[C_FAULT]);
		CHECK(d[C_FAULT] >= 500, "reads of pages not present did not fall back (fault)");
		/* ...which mapped the zero page there: found without a fault. */
		deltas(0, cold + 5, PG, 64, 500, d);
		printf("500 reads of the zero page: fast +%llu, fallback +%llu\n",
		       (unsigned long long)d[C_FAST], (unsigned long long)fallbacks(d));
		CHECK(d[C_FAST] >= 500, "zero page reads did not take the per-VMA lock");
		for (int i = 0; i < 500; i++) {
			CHECK(raw(cold + i * PG + 5, buf, 64) == 64, "zero page read");
			for (int k = 0; k < 64; k++)
				CHECK(buf[k] == 0, "zero page byte %d", k);
		}
		struct dbg_mem_stats st;
		OK(dbg_mem_get_stats(p, &st));
		CHECK(st.kernel_fast_path, "libdbg did not detect the fast path");
		dbg_mem_reset_stats(p);
		OK(dbg_proc_resume(p));
		uint64_t v;
		CHECK(dbg_mem_read(p, present, &v, 8) == 8, "read");
		OK(dbg_mem_get_stats(p, &st));
		CHECK(st.calls[DBG_MEM_PROCMEM] == 1 && st.calls[DBG_MEM_PVR] == 0,
		      "libdbg did not prefer /proc/PID/mem on this kernel");
		printf("libdbg detects the fast path and reads through /proc/PID/mem\n");
		dbg_proc_detach(p);
	}
	close(memfd);
	inferior_kill(&inf);
	return 0;
}
