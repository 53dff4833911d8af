/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Acceptance 1 and 5 of issue 11: 64 threads hit the same breakpoint 1,000
 * times each, at once, in all-stop or non-stop mode (argv[1]). Every hit
 * is reported with the pc rewound, no thread dies of SIGTRAP, no read
 * (cached, uncached, vectored) ever returns 0xCC at the breakpoint, the
 * target's own count is intact (and its rip-relative counter: the
 * breakpoint is on an `incq x(%rip)`, which a displaced copy must fix up).
 * Then detach: the text is byte-identical to before the attach (through
 * /proc/PID/mem), no signal is pending, and the target runs another round
 * untraced. In non-stop, a system call is injected into every 97th
 * stopped thread while the others run: none of their events is lost.
 * Usage: test_bp_hits allstop|nonstop [threads iters]
 */
#include "../harness.h"

#include <sys/syscall.h>

static uint8_t *read_text(pid_t pid, uint64_t start, uint64_t end)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open %s", path);
	uint8_t *buf = malloc(end - start);
	CHECK(pread(fd, buf, end - start, (off_t)start) == (ssize_t)(end - start), "read text");
	close(fd);
	return buf;
}

static uint64_t sig_pending(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	uint64_t v = 0;
	const char *s = strstr(buf, "SigPnd:");
	if (s)
		v |= strtoull(s + 7, NULL, 16);
	s = strstr(buf, "ShdPnd:");
	if (s)
		v |= strtoull(s + 7, NULL, 16);
	return v;
}

/* Anonymous executable mappings (a scratch page left behind). */
static int anon_exec(pid_t pid)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	int n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char perms[8];
		unsigned long inode = 1;
		if (sscanf(line, "%*x-%*x %7s %*x %*s %lu", perms, &inode) == 2 && perms[2] == 'x' &&
		    inode == 0 && !strstr(line, "[vdso]") && !strstr(line, "[vsyscall]"))
			n++;
	}
	if (f)
		fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	bool allstop = argc > 1 && !strcmp(argv[1], "allstop");
	const char *nthr = argc > 2 ? argv[2] : "64", *niter = argc > 3 ? argv[3] : "1000";
	long want = atol(nthr) * atol(niter);
	struct inferior inf;
	inferior_start(&inf, "bp_threads", nthr, niter, NULL);
	uint64_t bp_addr = ready_field(&inf, "bp");
	uint64_t text = ready_field(&inf, "text") & ~4095ull, etext = ready_field(&inf, "etext");
	uint8_t *before = read_text(inf.pid, text, etext);

	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_runctl_set_mode(p, allstop ? DBG_RUNCTL_ALL_STOP : DBG_RUNCTL_NON_STOP));
	CHECK(dbg_runctl_mode(p) == (allstop ? DBG_RUNCTL_ALL_STOP : DBG_RUNCTL_NON_STOP), "mode");
	struct dbg_bp *bp;
	OK(dbg_bp_insert(p, bp_addr, NULL, &bp));
	CHECK(dbg_bp_addr(bp) == bp_addr, "addr");
	/* The int3 is in the target; libdbg's reads do not show it. */
	uint8_t raw = 0, seen = 0;
	struct iovec l = { &raw, 1 }, r = { (void *)(uintptr_t)bp_addr, 1 };
	int fd;
	{
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", inf.pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	CHECK(pread(fd, &raw, 1, (off_t)bp_addr) == 1 && raw == 0xcc, "raw byte %#x", raw);
	OK(dbg_mem_read(p, bp_addr, &seen, 1));
	CHECK(seen == before[bp_addr - text], "shadowed read %#x, want %#x", seen, before[bp_addr - text]);
	(void)l;
	(void)r;

	OK(dbg_proc_resume(p));
	inferior_say(&inf, "go\n");
	long hits = 0, reads = 0;
	char line[256] = "";
	int64_t t0 = 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec;
	for (;;) {
		struct dbg_event ev;
		int rc = dbg_proc_wait(p, 200, &ev);
		if (rc == -ETIMEDOUT) {
			if (line_ready(&inf))
				break;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			CHECK(ts.tv_sec - t0 < 240, "no progress: %ld hits", hits);
			continue;
		}
		CHECK(rc == 0, "wait = %d (%s): %s", rc, dbg_strerror(rc), dbg_proc_errmsg(p));
		CHECK(ev.kind != DBG_EVENT_KILLED && ev.kind != DBG_EVENT_EXITED,
		      "target ended: kind %d signo %d after %ld hits", ev.kind, ev.signo, hits);
		CHECK(!(ev.kind == DBG_EVENT_SIGNAL && ev.signo == SIGTRAP) &&
		      ev.kind != DBG_EVENT_TRAP, "a SIGTRAP reached the caller (kind %d) after %ld hits",
		      ev.kind, hits);
		if (ev.kind == DBG_EVENT_BREAKPOINT) {
			hits++;
			CHECK(ev.bp == bp && ev.addr == bp_addr, "event bp %p addr %#llx", (void *)ev.bp,
			      (unsigned long long)ev.addr);
			if (hits % 97 == 1) {
				struct dbg_regs regs;
				OK(dbg_regs_get(p, ev.tid, &regs));
				CHECK(regs.rip == bp_addr, "pc %#llx not rewound", (unsigned long long)regs.rip);
				uint8_t b[16];
				OK(dbg_mem_read(p, bp_addr - 8, b, 16));
				CHECK(b[8] != 0xcc, "a read returned 0xCC at the breakpoint");
				uint8_t big[8192];
				ssize_t n = dbg_mem_read(p, (bp_addr & ~4095ull) - 4096, big, sizeof(big));
				CHECK(n == (ssize_t)sizeof(big) && big[4096 + (bp_addr & 4095)] != 0xcc,
				      "a large read returned 0xCC");
				struct dbg_mem_range rg = { .addr = bp_addr, .buf = b, .len = 1 };
				OK(dbg_mem_readv(p, &rg, 1));
				CHECK(rg.result == 1 && b[0] != 0xcc, "readv returned 0xCC");
				reads++;
				if (!allstop) {
					/* A system call injected into this thread
					 * while the others run and hit: their
					 * events must stay queued for us. */
					const uint64_t none[6] = { 0 };
					int64_t res = 0;
					OK(dbg_inject_syscall(p, ev.tid, SYS_getpid, none, &res, NULL));
					CHECK(res == inf.pid, "injected getpid = %lld", (long long)res);
				}
			}
		}
		if (allstop)
			OK(dbg_proc_resume(p)); /* every thread was stopped for it */
		else if (ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume_thread(p, ev.tid));
	}
	inferior_line(&inf, line, sizeof(line));
	long count = -1, data = -1;
	CHECK(sscanf(line, "done count=%ld data=%ld", &count, &data) == 2, "line '%s'", line);
	CHECK(count == want && data == want, "target counted %ld (data %ld), want %ld", count, data, want);
	CHECK(hits == want, "%ld hits reported, want %ld", hits, want);
	CHECK(dbg_bp_hits(bp) == (uint64_t)want, "hit count %llu", (unsigned long long)dbg_bp_hits(bp));
	struct dbg_bp_stats st;
	OK(dbg_bp_get_stats(p, &st));
	printf("%s: %ld hits; step-overs in place %llu, displaced %llu, paused %llu; %llu scratch pages\n",
	       allstop ? "all-stop" : "non-stop", hits, (unsigned long long)st.inplace,
	       (unsigned long long)st.displaced, (unsigned long long)st.paused,
	       (unsigned long long)st.scratch_pages);
	if (!allstop) {
		CHECK(st.displaced > 0 && st.paused == 0, "non-stop did not use displaced stepping");
		CHECK(anon_exec(inf.pid) == 1, "no scratch page while attached");
	}

	/* Acceptance 5: detach leaves the text as it was and the target
	 * runs on, no signal pending. */
	OK(dbg_proc_stop(p));
	dbg_proc_detach(p);
	uint8_t *after = read_text(inf.pid, text, etext);
	for (uint64_t a = text; a < etext; a++)
		CHECK(before[a - text] == after[a - text], "text differs at %#llx: %#x, was %#x",
		      (unsigned long long)a, after[a - text], before[a - text]);
	CHECK(anon_exec(inf.pid) == 0, "a scratch page is still mapped after detach");
	CHECK(sig_pending(inf.pid) == 0, "signals pending after detach: %#llx",
	      (unsigned long long)sig_pending(inf.pid));
	CHECK(thread_tracer(inf.pid, inf.pid) == 0, "still traced");
	inferior_say(&inf, "go\n");
	inferior_line(&inf, line, sizeof(line));
	CHECK(sscanf(line, "done count=%ld data=%ld", &count, &data) == 2 && count == want && data == want,
	      "after detach: '%s'", line);
	close(fd);
	free(before);
	free(after);
	inferior_say(&inf, "exit\n");
	inferior_kill(&inf);
	printf("bp_hits %s: every hit reported, count intact, text identical after detach\n",
	       allstop ? "all-stop" : "non-stop");
	return 0;
}
