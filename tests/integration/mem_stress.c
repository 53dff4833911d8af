/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stress: the racer inferior in "stress" mode (munmap/mmap, mprotect,
 * in-place remaps, mremap shrinks, MADV_DONTNEED, fork and exit, THP split
 * and MADV_COLLAPSE, all at once) while libdbg reads through
 * /proc/PID/mem and PEEKDATA (and the automatic choice) for
 * $DBG_STRESS_SECS seconds (default 10; the kernel harness runs it for 300
 * on its debug kernel). Zero wrong bytes, no count that overstates.
 */
#include "../harness.h"
#include "../pattern.h"

#define PG 4096ull

static uint64_t win, win_len, thp, thp_len;

static void check_one(struct dbg_proc *p, unsigned *seed, uint8_t *buf, uint64_t *bytes)
{
	bool in_thp = rand_r(seed) % 4 == 0;
	uint64_t base = in_thp ? thp : win, span = in_thp ? thp_len : win_len;
	size_t len = rand_r(seed) % 10 < 7 ? 1 + (size_t)rand_r(seed) % 64
					  : 1 + (size_t)rand_r(seed) % (3 * PG);
	uint64_t off = ((uint64_t)rand_r(seed) << 16 ^ rand_r(seed)) % (span - len);
	memset(buf, 0, len);
	ssize_t r = dbg_mem_read(p, base + off, buf, len);
	CHECK(r == -EFAULT || (r > 0 && (size_t)r <= len), "read(0x%llx, %zu) = %zd (%s)",
	      (unsigned long long)(base + off), len, r, dbg_proc_errmsg(p));
	for (ssize_t i = 0; i < r; i++)
		CHECK(buf[i] == pattern_at(base + off + i), "wrong byte at 0x%llx: %02x, want %02x",
		      (unsigned long long)(base + off + i), buf[i], pattern_at(base + off + i));
	if (r > 0)
		*bytes += r;
}

int main(void)
{
	const char *env = getenv("DBG_STRESS_SECS");
	double secs = env ? atof(env) : 10;
	struct inferior inf;
	inferior_start(&inf, "racer", "stress", NULL);
	win = ready_field(&inf, "window");
	win_len = ready_field(&inf, "pages") * PG;
	thp = ready_field(&inf, "thp");
	thp_len = ready_field(&inf, "thp_len");
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_proc_resume(p));
	static uint8_t buf[3 * PG];
	static const enum dbg_mem_backend order[] = { DBG_MEM_PROCMEM, DBG_MEM_PEEK, DBG_MEM_AUTO };
	static const char *const names[] = { "procmem", "peek", "auto" };
	uint64_t reads[3] = { 0 }, bytes[3] = { 0 };
	unsigned seed = 77;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int round = 0;; round++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) * 1e-9 >= secs)
			break;
		int b = round % 3;
		OK(dbg_mem_set_backend(p, order[b]));
		if (order[b] == DBG_MEM_PEEK)
			OK(dbg_proc_stop(p));
		for (int i = 0; i < 300; i++, reads[b]++)
			check_one(p, &seed, buf, &bytes[b]);
		if (order[b] == DBG_MEM_PEEK)
			OK(dbg_proc_resume(p));
		/* Serve the target's events: its forks report, its threads
		 * must be let go. */
		struct dbg_event ev;
		while (dbg_proc_wait(p, 0, &ev) == 0)
			if (ev.kind != DBG_EVENT_THREAD_EXIT)
				dbg_proc_resume_thread(p, ev.tid);
	}
	for (int b = 0; b < 3; b++)
		printf("%-8s %8llu reads, %10llu bytes verified\n", names[b],
		       (unsigned long long)reads[b], (unsigned long long)bytes[b]);
	printf("stress %.0f s: zero wrong bytes\n", secs);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	return 0;
}
