/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reads while the target's VMAs change without pause (munmap/mmap,
 * mprotect, remapping in place): 100,000 reads with the automatic backend
 * choice and 30,000 with each backend forced (PEEKDATA in batches while
 * the target is stopped). Every byte returned is the pattern of its
 * address, and a count never covers a byte that was not read: the buffer
 * is poisoned with zeros, which the pattern never contains.
 */
#include "../harness.h"
#include "../pattern.h"

#define PG 4096ull

static uint64_t win;
static int npages;

static void one_read(struct dbg_proc *p, unsigned *seed, uint8_t *buf, uint64_t *nbytes,
		     uint64_t *nfault, const char *name)
{
	uint64_t span = (uint64_t)npages * PG;
	size_t len = rand_r(seed) % 10 < 7 ? 1 + (size_t)rand_r(seed) % 64 : 1 + (size_t)rand_r(seed) % (3 * PG);
	uint64_t off = rand_r(seed) % (span - len + 1);
	memset(buf, 0, len);
	ssize_t r = dbg_mem_read(p, win + off, buf, len);
	CHECK(r == -EFAULT || (r > 0 && (size_t)r <= len), "%s: read(+0x%llx, %zu) = %zd (%s)",
	      name, (unsigned long long)off, len, r, dbg_proc_errmsg(p));
	if (r < 0) {
		(*nfault)++;
		return;
	}
	for (ssize_t i = 0; i < r; i++)
		CHECK(buf[i] == pattern_at(win + off + i),
		      "%s: read(+0x%llx, %zu) = %zd: byte %zd is %02x, want %02x", name,
		      (unsigned long long)off, len, r, i, buf[i], pattern_at(win + off + i));
	*nbytes += r;
}

static void run(struct dbg_proc *p, enum dbg_mem_backend b, int reads, const char *name)
{
	static uint8_t buf[3 * PG];
	unsigned seed = 42 + b;
	uint64_t nbytes = 0, nfault = 0;
	OK(dbg_mem_set_backend(p, b));
	dbg_mem_reset_stats(p);
	for (int i = 0; i < reads;) {
		if (b == DBG_MEM_PEEK) {
			/* PEEKDATA needs a stopped thread: read in batches
			 * while stopped, and let the target churn between. */
			OK(dbg_proc_stop(p));
			for (int k = 0; k < 500 && i < reads; k++, i++)
				one_read(p, &seed, buf, &nbytes, &nfault, name);
			OK(dbg_proc_resume(p));
			sleep_ms(1);
			continue;
		}
		one_read(p, &seed, buf, &nbytes, &nfault, name);
		i++;
	}
	struct dbg_mem_stats st;
	dbg_mem_get_stats(p, &st);
	printf("%-8s %6d reads: %llu bytes verified, %llu reads started in a hole; "
	       "%llu maps refreshes, %llu fallbacks\n", name, reads, (unsigned long long)nbytes,
	       (unsigned long long)nfault, (unsigned long long)st.maps_refreshes,
	       (unsigned long long)st.fallbacks);
	CHECK(nbytes > 0, "%s read nothing at all", name);
}

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "racer", NULL);
	win = ready_field(&inf, "window");
	npages = (int)ready_field(&inf, "pages");
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_proc_resume(p));
	run(p, DBG_MEM_AUTO, 100000, "auto");
	run(p, DBG_MEM_PVR, 30000, "pvr");
	run(p, DBG_MEM_PROCMEM, 30000, "procmem");
	run(p, DBG_MEM_PEEK, 30000, "peek");
	dbg_proc_detach(p);
	inferior_kill(&inf);
	return 0;
}
