/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mem_stress_mm: readers inside the target's own mm and outside it, while
 * the target's other threads make the kernel change its page tables in
 * every way that flushes TLBs while holding a page-table lock.
 *
 * The target (a forked child of this test) maps six regions and runs a
 * writer per region that stamps every 8-byte word with (a tag of its
 * address, the region's generation) in passes: gen g starts, every word
 * gets g, g is done. A word read at any time must hold the right tag and a
 * generation between the one done before the read began and the one
 * started after it ended, byte by byte (the kernel copies bytes, not
 * words); 0 only while a destructive operation (a zap, a punched hole) is
 * in flight on that region. A stale read (a page copied before a COW, a
 * swap-in of an old copy, a migrated page's old frame) or a read of the
 * wrong page fails it.
 *
 * Regions and what the target does to them, all at once:
 *   anon   4 KiB pages: COW faults after fork (a child that lives 30 ms),
 *          move_pages() between NUMA nodes, mbind(MPOL_MF_MOVE),
 *          MADV_PAGEOUT to swap;
 *   thp    two 2 MiB anonymous THPs: MADV_DONTNEED half of one each pass
 *          (splits the PMD), MADV_COLLAPSE again, migration, pageout;
 *   ksm    MADV_MERGEABLE pages with identical contents, rewritten every
 *          2 s (write faults break the merged pages);
 *   shmem  a memfd with shmem THP: a punched hole splits the huge folio,
 *          MADV_COLLAPSE builds it again (collapse_file, page-table
 *          retraction in this mm and the fork child's);
 *   file   the same on a file in $DBG_STRESS_DIR (a tmpfs mount with
 *          huge= in the harness guest; default /dev/shm, else /tmp);
 *   uffd   userfaultfd in missing mode: zapped every pass, a handler
 *          thread fills each fault with UFFDIO_COPY.
 * Readers: in the target's mm, a thread reading /proc/self/mem, one
 * reading a sibling's /proc/TID/mem, one using process_vm_readv on its own
 * pid (pinned to another CPU than the mutators when there are two); from
 * this process, libdbg through /proc/PID/mem, PTRACE_PEEKDATA (target
 * stopped), its automatic choice and process_vm_readv (the only one that
 * reads the uffd region: access_remote_vm cannot wait for its handler).
 *
 * $DBG_STRESS_SECS seconds (default 10; the kernel harness runs 300 on its
 * debug kernel); DBG_STRESS_SAME_MM=0 leaves out the same-mm readers. What the machine does not have (one NUMA node, no swap,
 * KSM not running, no userfaultfd) is reported, not failed.
 */
#include "../harness.h"

#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MPOL_MF_MOVE
#define MPOL_DEFAULT 0
#define MPOL_BIND 2
#define MPOL_MF_MOVE (1 << 1)
#endif

#define PG 4096ul
#define HP (2ul << 20)

enum { R_ANON, R_THP, R_KSM, R_SHMEM, R_FILE, R_UFFD, NR_REG };
static const char *const reg_name[NR_REG] = { "anon", "thp", "ksm", "shmem", "file", "uffd" };
static const size_t reg_len[NR_REG] = { 2 * HP, 2 * HP, 128 * PG, 2 * HP, 2 * HP, 256 * PG };

enum { RD_PROCMEM, RD_PEEK, RD_AUTO, RD_PVR, RD_SELF, RD_SIBLING, RD_SELF_PVR, NR_RD };
static const char *const rd_name[NR_RD] = {
	"procmem", "peek", "auto", "pvr", "self-mem", "sibling-mem", "self-pvr"
};

struct region {
	uint64_t addr, len;
	_Atomic uint64_t started, done; /* generations */
	_Atomic uint64_t zapseq;        /* odd while words may read 0 */
	uint32_t salt;
	bool same_contents;             /* ksm: every page alike */
};

/* Shared between the test and the target (MAP_SHARED, made before fork). */
struct ctl {
	struct region r[NR_REG];
	_Atomic int ready, stop, finished, failed;
	char msg[1024];
	int cpus, nodes, have_uffd, sibling_tid;
	_Atomic uint64_t reads[NR_RD], bytes[NR_RD], short_reads[NR_RD];
	_Atomic uint64_t passes[NR_REG], zaps, punches, forks, uffd_copies;
	_Atomic uint64_t collapse_ok[NR_REG], collapse_fail[NR_REG];
	_Atomic uint64_t moved, move_fail, mbinds, pageouts;
	int collapse_errno[NR_REG], move_errno, mbind_errno;
};

static struct ctl *ctl;

static void fail(const char *fmt, ...)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&ctl->failed, &expected, 1))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctl->msg, sizeof(ctl->msg), fmt, ap);
	va_end(ap);
}

static inline uint32_t tag_of(const struct region *r, uint64_t waddr)
{
	uint64_t key = r->same_contents ? (waddr & (PG - 1)) : waddr;
	return (uint32_t)(((key >> 3) + 1) * 0x9e3779b1u) ^ r->salt;
}

static inline uint64_t word_of(const struct region *r, uint64_t waddr, uint64_t gen)
{
	return (uint64_t)tag_of(r, waddr) << 32 | (uint32_t)gen;
}

static void fill(const struct region *r, uint64_t off, uint64_t len, uint64_t gen)
{
	volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)(r->addr + off);
	for (uint64_t i = 0; i < len / 8; i++)
		w[i] = word_of(r, r->addr + off + i * 8, gen);
}

/*
 * Check @n bytes read at @addr of region @r: each byte is the byte of a
 * word some generation in [lo, hi] wrote there, or 0 if @zapped.
 */
static bool verify(const struct region *r, uint64_t addr, const uint8_t *buf, size_t n,
		   uint64_t lo, uint64_t hi, bool zapped, char *why, size_t whylen)
{
	for (size_t i = 0; i < n;) {
		uint64_t a = addr + i, wa = a & ~7ull;
		size_t k = a & 7;
		if (k == 0 && i + 8 <= n) {
			uint64_t v;
			memcpy(&v, buf + i, 8);
			uint64_t g = (uint32_t)v;
			if (v >> 32 == tag_of(r, wa) && g >= (uint32_t)lo && g <= (uint32_t)hi) {
				i += 8;
				continue;
			}
			if (v == 0 && zapped) {
				i += 8;
				continue;
			}
		}
		/* Byte by byte: a torn copy mixes generations. */
		uint8_t b = buf[i];
		bool ok = zapped && b == 0;
		if (k >= 4)
			ok |= b == (uint8_t)(tag_of(r, wa) >> (8 * (k - 4)));
		else {
			/* Byte k of the generations lo..hi: the low byte of
			 * every integer in [lo >> 8k, hi >> 8k]. */
			uint64_t glo = lo >> (8 * k), ghi = hi >> (8 * k);
			ok |= ghi - glo >= 255 || (uint8_t)(b - (uint8_t)glo) <= ghi - glo;
		}
		if (!ok) {
			uint64_t v = 0;
			size_t s = i - k <= n ? i - k : 0;
			memcpy(&v, buf + s, s + 8 <= n ? 8 : n - s);
			snprintf(why, whylen,
				 "%s+0x%llx: byte %02x at word offset %zu (word read %016llx), want "
				 "tag %08x gen %llu..%llu%s",
				 reg_name[r - ctl->r], (unsigned long long)(a - r->addr), b, k,
				 (unsigned long long)v, tag_of(r, wa), (unsigned long long)lo,
				 (unsigned long long)hi, zapped ? " or 0" : "");
			return false;
		}
		i++;
	}
	return true;
}

/* Pick a region (one the caller may read), an offset and a length. */
static struct region *pick(unsigned *seed, bool uffd_ok, uint64_t *addr, size_t *len)
{
	int ri;
	do
		ri = rand_r(seed) % NR_REG;
	while (ri == R_UFFD && (!uffd_ok || !ctl->have_uffd));
	struct region *r = &ctl->r[ri];
	size_t n = rand_r(seed) % 10 < 6 ? 1 + (size_t)rand_r(seed) % 64
						 : 1 + (size_t)rand_r(seed) % (3 * PG);
	uint64_t off = ((uint64_t)rand_r(seed) << 16 ^ rand_r(seed)) % (r->len - n);
	*addr = r->addr + off;
	*len = n;
	return r;
}

struct window {
	uint64_t lo, z0;
};

static inline struct window window_open(struct region *r)
{
	struct window w = { atomic_load(&r->done), atomic_load(&r->zapseq) };
	return w;
}

/* Verify a read; returns false (and records why) on a wrong byte. */
static bool window_check(struct region *r, struct window w, uint64_t addr, const uint8_t *buf,
			 ssize_t got, int reader)
{
	uint64_t hi = atomic_load(&r->started), z1 = atomic_load(&r->zapseq);
	char why[512];
	if (got <= 0 && r == &ctl->r[R_UFFD]) {
		/* /proc/PID/mem and PEEK fault without FAULT_FLAG_ALLOW_RETRY
		 * (access_remote_vm passes no "locked"), and a missing uffd
		 * page then is SIGBUS: EFAULT/EIO, by design. */
		atomic_fetch_add(&ctl->short_reads[reader], 1);
		return true;
	}
	if (got <= 0) {
		fail("%s reader: read of %s+0x%llx failed: %zd", rd_name[reader],
		     reg_name[r - ctl->r], (unsigned long long)(addr - r->addr), got);
		return false;
	}
	if (!verify(r, addr, buf, (size_t)got, w.lo, hi, (w.z0 & 1) || w.z0 != z1, why,
		    sizeof(why))) {
		fail("%s reader: wrong byte: %s", rd_name[reader], why);
		return false;
	}
	atomic_fetch_add(&ctl->reads[reader], 1);
	atomic_fetch_add(&ctl->bytes[reader], (uint64_t)got);
	return true;
}

/* ---- the target --------------------------------------------------------- */

static int mutator_cpu = -1, reader_cpu = -1;
static int shm_fd[NR_REG] = { -1, -1, -1, -1, -1, -1 };
static int uffd = -1;
static _Atomic int uffd_writer_done;

static void pin(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

static bool stopping(void)
{
	return atomic_load(&ctl->stop) || atomic_load(&ctl->failed);
}

static void collapse(int ri, uint64_t off, uint64_t len)
{
	struct region *r = &ctl->r[ri];
	if (madvise((void *)(uintptr_t)(r->addr + off), len, MADV_COLLAPSE) == 0) {
		atomic_fetch_add(&ctl->collapse_ok[ri], 1);
	} else {
		atomic_fetch_add(&ctl->collapse_fail[ri], 1);
		ctl->collapse_errno[ri] = errno;
	}
}

/* One writer per region: passes of generations, with the region's
 * destructive operation inside a zap window. */
static void *writer(void *arg)
{
	int ri = (int)(intptr_t)arg;
	struct region *r = &ctl->r[ri];
	unsigned seed = 100 + ri;
	pin(mutator_cpu);
	if (ri == R_THP)
		ctl->sibling_tid = (int)gettid();
	for (uint64_t g = 2; !stopping(); g++) {
		atomic_store(&r->started, g);
		uint64_t half = (g & 1) * (HP / 2), which = (g >> 1 & 1) * HP;
		switch (ri) {
		case R_THP:
			/* Zap half of one THP: the PMD is split under its lock. */
			atomic_fetch_add(&r->zapseq, 1);
			madvise((void *)(uintptr_t)(r->addr + which + half), HP / 2, MADV_DONTNEED);
			fill(r, which + half, HP / 2, g);
			atomic_fetch_add(&r->zapseq, 1);
			atomic_fetch_add(&ctl->zaps, 1);
			if (g % 4 == 0)
				collapse(ri, 0, r->len);
			break;
		case R_SHMEM:
		case R_FILE:
			/* A hole splits the huge folio; collapse builds it again. */
			if (g % 2 == 0) {
				uint64_t off = which + (rand_r(&seed) % (HP / PG)) * PG;
				atomic_fetch_add(&r->zapseq, 1);
				fallocate(shm_fd[ri], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					  (off_t)off, PG);
				fill(r, off, PG, g);
				atomic_fetch_add(&r->zapseq, 1);
				atomic_fetch_add(&ctl->punches, 1);
			} else {
				collapse(ri, which, HP);
			}
			break;
		case R_UFFD:
			/* Every page faults again, to the handler (or reads 0
			 * where userfaultfd is not available). */
			atomic_fetch_add(&r->zapseq, 1);
			madvise((void *)(uintptr_t)r->addr, r->len, MADV_DONTNEED);
			if (!ctl->have_uffd)
				fill(r, 0, r->len, g);
			atomic_fetch_add(&r->zapseq, 1);
			break;
		}
		fill(r, 0, r->len, g);
		atomic_store(&r->done, g);
		atomic_fetch_add(&ctl->passes[ri], 1);
		if (ri == R_KSM) /* let ksmd merge the alike pages */
			for (int i = 0; i < 20 && !stopping(); i++)
				usleep(100000);
		else
			usleep(rand_r(&seed) % 2000);
	}
	if (ri == R_UFFD)
		atomic_store(&uffd_writer_done, 1);
	return NULL;
}

/* Fork children that keep the parent's anonymous pages shared for 30 ms:
 * the writers' next stores take COW faults (wp_page_copy flushes the old
 * PTE under its lock). */
static void *forker(void *arg)
{
	pin(mutator_cpu);
	while (!stopping()) {
		pid_t c = fork();
		if (c == 0) {
			usleep(30000);
			_exit(0);
		}
		if (c > 0) {
			waitpid(c, NULL, 0);
			atomic_fetch_add(&ctl->forks, 1);
		}
		usleep(5000);
	}
	return arg;
}

/* Migration between nodes, and pageout to swap. */
static void *mover(void *arg)
{
	unsigned seed = 7;
	pin(mutator_cpu);
	static const int movable[] = { R_ANON, R_THP, R_KSM, R_SHMEM, R_FILE };
	for (uint64_t round = 0; !stopping(); round++) {
		struct region *r = &ctl->r[movable[rand_r(&seed) % 5]];
		if (ctl->nodes >= 2) {
			void *pages[16];
			int nodes[16], status[16];
			for (int i = 0; i < 16; i++) {
				pages[i] = (void *)(uintptr_t)(r->addr +
							     (rand_r(&seed) % (r->len / PG)) * PG);
				nodes[i] = rand_r(&seed) % 2;
			}
			long rc = syscall(SYS_move_pages, 0, 16ul, pages, nodes, status, MPOL_MF_MOVE);
			if (rc < 0) {
				atomic_fetch_add(&ctl->move_fail, 1);
				ctl->move_errno = errno;
			} else {
				for (int i = 0; i < 16; i++)
					if (status[i] >= 0)
						atomic_fetch_add(&ctl->moved, 1);
			}
			if (round % 8 == 0) {
				/* mbind a 64 KiB piece of anon to a node, moving its
				 * pages (splits the VMA), then back to the default. */
				struct region *a = &ctl->r[R_ANON];
				uint64_t off = (rand_r(&seed) % (a->len / PG - 16)) * PG;
				unsigned long mask = 1ul << (rand_r(&seed) % 2);
				void *p = (void *)(uintptr_t)(a->addr + off);
				if (syscall(SYS_mbind, p, 16 * PG, MPOL_BIND, &mask, 64ul,
					    MPOL_MF_MOVE) == 0 &&
				    syscall(SYS_mbind, p, 16 * PG, MPOL_DEFAULT, NULL, 0ul, 0) == 0)
					atomic_fetch_add(&ctl->mbinds, 1);
				else
					ctl->mbind_errno = errno;
			}
		}
		if (round % 4 == 0) {
			uint64_t off = (rand_r(&seed) % (r->len / (64 * PG) ? r->len / (64 * PG) : 1)) *
				       64 * PG;
			uint64_t len = r->len - off < 64 * PG ? r->len - off : 64 * PG;
			if (madvise((void *)(uintptr_t)(r->addr + off), len, MADV_PAGEOUT) == 0)
				atomic_fetch_add(&ctl->pageouts, 1);
		}
		usleep(2000);
	}
	return arg;
}

/* The userfaultfd handler: every missing page gets the current
 * generation's words. */
static void *uffd_handler(void *arg)
{
	struct region *r = &ctl->r[R_UFFD];
	static uint8_t page[PG] __attribute__((aligned(4096)));
	/* Until the uffd writer is done: it may be waiting for a fault. */
	while (!atomic_load(&uffd_writer_done)) {
		struct pollfd pfd = { .fd = uffd, .events = POLLIN };
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		struct uffd_msg m;
		if (read(uffd, &m, sizeof(m)) != sizeof(m) || m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		uint64_t at = m.arg.pagefault.address & ~(PG - 1);
		uint64_t g = atomic_load(&r->started);
		for (size_t i = 0; i < PG / 8; i++)
			((uint64_t *)page)[i] = word_of(r, at + i * 8, g);
		struct uffdio_copy c = { .dst = at, .src = (uintptr_t)page, .len = PG };
		if (ioctl(uffd, UFFDIO_COPY, &c) == 0)
			atomic_fetch_add(&ctl->uffd_copies, 1);
	}
	return arg;
}

/* Readers in the target's own mm. */
static void *same_mm_reader(void *arg)
{
	int reader = (int)(intptr_t)arg;
	unsigned seed = 1000 + reader;
	static __thread uint8_t buf[3 * PG];
	pin(reader_cpu);
	char path[64];
	int fd = -1;
	if (reader == RD_SELF) {
		fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	} else if (reader == RD_SIBLING) {
		while (!ctl->sibling_tid && !stopping())
			usleep(1000);
		snprintf(path, sizeof(path), "/proc/%d/mem", ctl->sibling_tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (reader != RD_SELF_PVR && fd < 0) {
		fail("%s reader: open: %s", rd_name[reader], strerror(errno));
		return NULL;
	}
	while (!stopping()) {
		uint64_t addr;
		size_t len;
		/* Not the uffd region: a read of a missing page there sleeps
		 * for the handler, unkillable, and would hold up a stop. */
		struct region *r = pick(&seed, false, &addr, &len);
		struct window w = window_open(r);
		ssize_t got;
		if (reader == RD_SELF_PVR) {
			struct iovec l = { buf, len }, rv = { (void *)(uintptr_t)addr, len };
			got = process_vm_readv(getpid(), &l, 1, &rv, 1, 0);
		} else {
			got = pread(fd, buf, len, (off_t)addr);
		}
		if (!window_check(r, w, addr, buf, got, reader))
			break;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void map_regions(void)
{
	for (int ri = 0; ri < NR_REG; ri++) {
		struct region *r = &ctl->r[ri];
		size_t len = reg_len[ri];
		int flags = MAP_PRIVATE | MAP_ANONYMOUS, fd = -1;
		if (ri == R_SHMEM) {
			fd = memfd_create("stress-shmem", MFD_CLOEXEC);
		} else if (ri == R_FILE) {
			const char *dir = getenv("DBG_STRESS_DIR");
			if (!dir)
				dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
			char path[4096];
			snprintf(path, sizeof(path), "%s/mem_stress_mm.%d", dir, (int)getpid());
			fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			unlink(path);
		}
		if (ri == R_SHMEM || ri == R_FILE) {
			CHECK(fd >= 0 && ftruncate(fd, (off_t)len) == 0, "%s file: %s", reg_name[ri],
			      strerror(errno));
			flags = MAP_SHARED;
			shm_fd[ri] = fd;
		}
		/* 2 MiB aligned, so that THPs can map it. */
		uint8_t *p = mmap(NULL, len + HP, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(p != MAP_FAILED, "mmap");
		uint8_t *a = (uint8_t *)(((uintptr_t)p + HP - 1) & ~(HP - 1));
		CHECK(mmap(a, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0) == a, "mmap %s",
		      reg_name[ri]);
		if (ri == R_THP || ri == R_SHMEM || ri == R_FILE)
			madvise(a, len, MADV_HUGEPAGE);
		if (ri == R_ANON)
			madvise(a, len, MADV_NOHUGEPAGE);
		if (ri == R_KSM)
			madvise(a, len, MADV_MERGEABLE);
		r->addr = (uintptr_t)a;
		r->len = len;
		r->salt = 0x5a000000u + (uint32_t)ri * 0x01010101u;
		r->same_contents = ri == R_KSM;
		atomic_store(&r->started, 1);
		fill(r, 0, len, 1);
		atomic_store(&r->done, 1);
	}
	struct region *u = &ctl->r[R_UFFD];
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd >= 0) {
		struct uffdio_api api = { .api = UFFD_API };
		struct uffdio_register reg = {
			.range = { .start = u->addr, .len = u->len },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};
		ctl->have_uffd = ioctl(uffd, UFFDIO_API, &api) == 0 &&
				 ioctl(uffd, UFFDIO_REGISTER, &reg) == 0;
	}
}

static int target_main(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	ctl->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ctl->cpus >= 2) {
		mutator_cpu = 0;
		reader_cpu = 1;
	}
	char node1[] = "/sys/devices/system/node/node1";
	ctl->nodes = access(node1, F_OK) == 0 ? 2 : 1;
	/* SIGCHLD (the fork children) would put a thread in a
	 * signal-delivery stop until the test resumes it: the uffd handler
	 * stopped so, with the test inside a read that waits for it, would
	 * never be resumed. Blocked in every thread, waitpid() still works. */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	map_regions();
	pthread_t t[16];
	int n = 0;
	for (int ri = 0; ri < NR_REG; ri++)
		pthread_create(&t[n++], NULL, writer, (void *)(intptr_t)ri);
	pthread_create(&t[n++], NULL, forker, NULL);
	pthread_create(&t[n++], NULL, mover, NULL);
	if (ctl->have_uffd)
		pthread_create(&t[n++], NULL, uffd_handler, NULL);
	/* DBG_STRESS_SAME_MM=0: no readers in the target's mm (to run the
	 * rest on a kernel where those deadlock, as the v1 series did). */
	const char *same = getenv("DBG_STRESS_SAME_MM");
	if (!same || strcmp(same, "0"))
		for (int rd = RD_SELF; rd <= RD_SELF_PVR; rd++)
			pthread_create(&t[n++], NULL, same_mm_reader, (void *)(intptr_t)rd);
	atomic_store(&ctl->ready, 1);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	atomic_store(&ctl->finished, 1);
	pause();
	return 0;
}

/* ---- the test ----------------------------------------------------------- */

static const char *const vmstat_keys[] = {
	"pswpin", "pswpout", "pgmigrate_success", "pgmigrate_fail", "thp_split_pmd",
	"thp_collapse_alloc", "thp_fault_alloc", "thp_file_alloc", "thp_file_mapped",
	"thp_split_page", NULL
};

/* The counters of /proc/vmstat this stress reports: the ones above and
 * every remote_vm_* the kernel has. */
static int vmstat_read(char names[][64], uint64_t *vals, int cap)
{
	FILE *f = fopen("/proc/vmstat", "r");
	int n = 0;
	char name[64];
	unsigned long long v;
	while (f && n < cap && fscanf(f, "%63s %llu", name, &v) == 2) {
		bool want = !strncmp(name, "remote_vm_", 10);
		for (int i = 0; !want && vmstat_keys[i]; i++)
			want = !strcmp(name, vmstat_keys[i]);
		if (want) {
			snprintf(names[n], 64, "%s", name);
			vals[n++] = v;
		}
	}
	if (f)
		fclose(f);
	return n;
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int swap_devices(void)
{
	FILE *f = fopen("/proc/swaps", "r");
	int n = -1;
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		fclose(f);
	return n < 0 ? 0 : n;
}

/* The TLB-shootdown and function-call IPIs every CPU received so far
 * (x86's /proc/interrupts rows TLB and CAL), summed. */
static uint64_t ipis(const char *row)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[4096];
	uint64_t sum = 0;
	size_t n = strlen(row);
	while (f && fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " ");
		if (strncmp(s, row, n))
			continue;
		for (char *e = s + n;;) {
			char *end;
			unsigned long long v = strtoull(e, &end, 10);
			if (end == e)
				break;
			sum += v;
			e = end;
		}
	}
	if (f)
		fclose(f);
	return sum;
}

static void serve(struct dbg_proc *p)
{
	struct dbg_event ev;
	while (dbg_proc_wait(p, 0, &ev) == 0)
		if (ev.kind != DBG_EVENT_THREAD_EXIT && ev.kind != DBG_EVENT_EXITED &&
		    ev.kind != DBG_EVENT_KILLED)
			dbg_proc_resume_thread(p, ev.tid);
}

int main(void)
{
	const char *env = getenv("DBG_STRESS_SECS");
	double secs = env ? atof(env) : 10;
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(ctl != MAP_FAILED, "mmap ctl");
	char vn[64][64];
	uint64_t v0[64], v1[64];
	int nv = vmstat_read(vn, v0, 64);
	long ksm_run = read_long("/sys/kernel/mm/ksm/run");
	long ksm_full0 = read_long("/sys/kernel/mm/ksm/full_scans");
	uint64_t tlb0 = ipis("TLB:"), cal0 = ipis("CAL:");

	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0)
		_exit(target_main());
	struct inferior inf = { .pid = pid, .in = -1 };
	for (int i = 0; i < 30000 && !atomic_load(&ctl->ready) && !atomic_load(&ctl->failed); i++)
		sleep_ms(1);
	CHECK(atomic_load(&ctl->ready), "the target did not start: %s", ctl->msg);
	printf("cpus %d (readers in the target's mm on cpu %d, mutators on cpu %d), numa nodes %d, "
	       "swap devices %d, ksm run %ld, userfaultfd %s\n",
	       ctl->cpus, ctl->cpus >= 2 ? 1 : -1, ctl->cpus >= 2 ? 0 : -1, ctl->nodes,
	       swap_devices(), ksm_run, ctl->have_uffd ? "yes" : "no");
	fflush(stdout);

	struct dbg_attach_opts o = { .sz = sizeof(o), .flags = DBG_ATTACH_NO_STOP };
	struct dbg_proc *p = attach_or_skip(pid, &o);
	static uint8_t buf[3 * PG];
	static const enum dbg_mem_backend backend[] = { DBG_MEM_PROCMEM, DBG_MEM_PEEK, DBG_MEM_AUTO,
							DBG_MEM_PVR };
	unsigned seed = 77;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int round = 0; !atomic_load(&ctl->failed); round++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) * 1e-9 >= secs)
			break;
		int b = round % 4;
		OK(dbg_mem_set_backend(p, backend[b]));
		if (b == RD_PEEK)
			OK(dbg_proc_stop(p));
		for (int i = 0; i < 100 && !atomic_load(&ctl->failed); i++) {
			uint64_t addr;
			size_t len;
			/* The uffd region only through process_vm_readv, which
			 * faults with FAULT_FLAG_ALLOW_RETRY and so can wait for
			 * the handler: /proc/PID/mem and PEEK (access_remote_vm)
			 * cannot, and get SIGBUS (EFAULT) with a DEBUG_VM stack
			 * dump; and a stopped target's handler serves nothing. */
			struct region *r = pick(&seed, b == RD_PVR, &addr, &len);
			struct window w = window_open(r);
			memset(buf, 0xee, len);
			ssize_t got = dbg_mem_read(p, addr, buf, len);
			CHECK(got == -EFAULT || got == -EIO || (got > 0 && (size_t)got <= len),
			      "%s read(0x%llx, %zu) = %zd (%s)", rd_name[b], (unsigned long long)addr,
			      len, got, dbg_proc_errmsg(p));
			window_check(r, w, addr, buf, got, b);
		}
		if (b == RD_PEEK)
			OK(dbg_proc_resume(p));
		serve(p);
	}
	atomic_store(&ctl->stop, 1);
	for (int i = 0; i < 60000 && !atomic_load(&ctl->finished); i++) {
		serve(p);
		sleep_ms(1);
	}
	bool finished = atomic_load(&ctl->finished);
	long ksm_sharing = read_long("/sys/kernel/mm/ksm/pages_sharing");
	long ksm_full1 = read_long("/sys/kernel/mm/ksm/full_scans");
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ksm_merging_pages", pid);
	long ksm_mine = read_long(path);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	int nv1 = vmstat_read(vn, v1, 64);
	uint64_t tlb1 = ipis("TLB:"), cal1 = ipis("CAL:");

	uint64_t total = 0;
	for (int rd = 0; rd < NR_RD; rd++) {
		printf("reader %-12s %-9s %9llu reads, %11llu bytes verified, %llu failed reads\n",
		       rd_name[rd], rd >= RD_SELF ? "same mm" : "remote",
		       (unsigned long long)ctl->reads[rd], (unsigned long long)ctl->bytes[rd],
		       (unsigned long long)ctl->short_reads[rd]);
		total += ctl->bytes[rd];
	}
	printf("passes:");
	for (int ri = 0; ri < NR_REG; ri++)
		printf(" %s %llu", reg_name[ri], (unsigned long long)ctl->passes[ri]);
	printf("\nforks (COW) %llu, THP half zaps %llu, punched holes %llu, uffd copies %llu\n",
	       (unsigned long long)ctl->forks, (unsigned long long)ctl->zaps,
	       (unsigned long long)ctl->punches, (unsigned long long)ctl->uffd_copies);
	printf("MADV_COLLAPSE ok/failed(last errno):");
	for (int ri = R_THP; ri <= R_FILE; ri++)
		if (ri != R_KSM)
			printf(" %s %llu/%llu(%d)", reg_name[ri],
			       (unsigned long long)ctl->collapse_ok[ri],
			       (unsigned long long)ctl->collapse_fail[ri], ctl->collapse_errno[ri]);
	printf("\nmove_pages: %llu pages moved, %llu calls failed (errno %d); mbind moves %llu "
	       "(errno %d); MADV_PAGEOUT calls %llu\n",
	       (unsigned long long)ctl->moved, (unsigned long long)ctl->move_fail, ctl->move_errno,
	       (unsigned long long)ctl->mbinds, ctl->mbind_errno,
	       (unsigned long long)ctl->pageouts);
	printf("ksm: run %ld, full scans %ld, pages_sharing %ld at the end, target's merging "
	       "pages %ld\n",
	       ksm_run, ksm_full1 >= 0 && ksm_full0 >= 0 ? ksm_full1 - ksm_full0 : -1, ksm_sharing,
	       ksm_mine);
	printf("IPIs received: TLB shootdowns %llu, function calls %llu\n",
	       (unsigned long long)(tlb1 - tlb0), (unsigned long long)(cal1 - cal0));
	printf("vmstat deltas:");
	for (int i = 0; i < nv && i < nv1; i++)
		printf(" %s %llu", vn[i], (unsigned long long)(v1[i] - v0[i]));
	printf("\n");
	CHECK(!atomic_load(&ctl->failed), "%s", ctl->msg);
	CHECK(finished, "the target's threads did not finish within 60 s of the stop");
	const char *same = getenv("DBG_STRESS_SAME_MM");
	for (int rd = 0; rd < (same && !strcmp(same, "0") ? RD_SELF : NR_RD); rd++)
		CHECK(ctl->reads[rd] > 0, "reader %s verified no read", rd_name[rd]);
	printf("stress %.0f s: %llu bytes verified, zero wrong bytes\n", secs,
	       (unsigned long long)total);
	return 0;
}
