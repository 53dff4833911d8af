/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DBG_CORE_LOW_PAUSE by pre-copy (issue 12, acceptance 3 and 4): a thread
 * of the target rewrites 64 MiB with generation numbers all through the
 * dump, and the core must be the memory at the moment of the stop: gdb on
 * the core reads the writer's locals gen and i (its frame, through its
 * registers), and every page of the buffer must agree with them (pages
 * before i hold gen, after i gen - 1, see core_writer in coretarget.c).
 * A stale page (a write the tracking missed) breaks that. The same check
 * on the fork snapshot. Then: the target's userfaultfd and registration
 * are gone after the dump, after a cancel in the middle of the pre-copy
 * (the target running on, unharmed), and a target killed in the middle
 * of the pre-copy gives -ESRCH at once and an empty file; a pipe and a
 * target under a seccomp filter fall back to the fork snapshot and say
 * why.
 */
#define _GNU_SOURCE
#include <dbg.h>

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child = -1;
static char dir[] = "/tmp/core_precopy.XXXXXX";
static struct dbg_proc *proc;

static void cleanup(void)
{
	if (proc)
		dbg_proc_detach(proc);
	proc = NULL;
	if (child > 0) {
		kill(child, SIGKILL);
		while (waitpid(child, NULL, __WALL) < 0 && errno == EINTR)
			;
		child = -1;
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); \
	cleanup(); exit(1); } } while (0)

static char ready[512];

static pid_t start(const char *a1, const char *a2)
{
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(INFERIOR_DIR "/coretarget", "coretarget", a1, a2, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	size_t n = 0;
	while (n < sizeof(ready) - 1) {
		ssize_t r = read(pfd[0], ready + n, sizeof(ready) - 1 - n);
		if (r <= 0)
			break;
		n += r;
		ready[n] = 0;
		if (strchr(ready, '\n'))
			break;
	}
	close(pfd[0]);
	ready[n] = 0;
	CHECK(strstr(ready, "READY"));
	return p;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The core's PT_LOADs, to read target memory out of it. */
static Elf64_Phdr *ph;
static size_t nph;

static void load_phdrs(int fd)
{
	Elf64_Ehdr eh;
	CHECK(pread(fd, &eh, sizeof(eh), 0) == sizeof(eh));
	CHECK(!memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_type == ET_CORE);
	free(ph);
	nph = eh.e_phnum;
	ph = calloc(nph, sizeof(*ph));
	CHECK(ph && pread(fd, ph, nph * sizeof(*ph), eh.e_phoff) == (ssize_t)(nph * sizeof(*ph)));
}

static uint64_t core_u64(int fd, uint64_t addr)
{
	for (size_t i = 0; i < nph; i++) {
		if (ph[i].p_type != PT_LOAD || addr < ph[i].p_vaddr ||
		    addr + 8 > ph[i].p_vaddr + ph[i].p_filesz)
			continue;
		uint64_t v;
		CHECK(pread(fd, &v, 8, ph[i].p_offset + addr - ph[i].p_vaddr) == 8);
		return v;
	}
	CHECK(!"address not in the core");
	return 0;
}

/* The userfaultfd and its registration are gone from the target. */
static void no_uffd_left(pid_t pid)
{
	char path[64], link[256];
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	CHECK(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		char fp[400];
		snprintf(fp, sizeof(fp), "%s/%s", path, e->d_name);
		ssize_t n = readlink(fp, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			CHECK(!strstr(link, "userfaultfd"));
		}
	}
	closedir(d);
	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	FILE *f = fopen(path, "r");
	CHECK(f);
	char line[512];
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmFlags:", 8))
			CHECK(!strstr(line, " uw"));
	fclose(f);
}

/* gdb on the core: the writer thread's gen and i. */
static void writer_locals(const char *core, uint64_t *gen, uint64_t *i)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "gdb -nx -batch -ex 'set debuginfod enabled off' "
		 "-ex 'thread apply all -s -q printf \"WRITER %%lu %%lu\\n\", gen, i' "
		 "%s/coretarget %s 2>&1", INFERIOR_DIR, core);
	FILE *f = popen(cmd, "r");
	CHECK(f);
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long g, k;
		if (sscanf(line, "WRITER %lu %lu", &g, &k) == 2) {
			*gen = g;
			*i = k;
			found++;
		}
	}
	pclose(f);
	CHECK(found == 1);
}

/* Every page against gen and i; returns how many disagree. */
static size_t check_pages(int fd, uint64_t wbuf, size_t wpages, uint64_t gen, uint64_t i)
{
	size_t bad = 0;
	uint64_t first0 = core_u64(fd, wbuf);
	for (size_t j = 0; j < wpages; j++) {
		uint64_t f = core_u64(fd, wbuf + j * 4096), l = core_u64(fd, wbuf + j * 4096 + 4088);
		bool ok;
		if (i >= wpages)        /* between passes: all alike */
			ok = f == l && f == first0 && (f == gen || f + 1 == gen);
		else if (j < i)
			ok = f == gen && l == gen;
		else if (j > i)
			ok = f + 1 == gen && l + 1 == gen;
		else
			ok = (f == gen || f + 1 == gen) && (l + 1 == gen || (l == gen && f == gen));
		if (!ok && bad++ < 5)
			fprintf(stderr, "page %zu: first %" PRIu64 " last %" PRIu64 " (gen %" PRIu64
				", i %" PRIu64 ")\n", j, f, l, gen, i);
	}
	return bad;
}

static int stop_at(uint64_t done, uint64_t total, void *ctx)
{
	(void)done; (void)total;
	int *calls = ctx;
	return ++*calls == 3;   /* cancel: the pre-copy is under way */
}

static int kill_at_first(uint64_t done, uint64_t total, void *ctx)
{
	(void)done; (void)total;
	int *calls = ctx;
	if ((*calls)++ == 0)
		kill(child, SIGKILL);
	return 0;
}

static int open_core(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	return fd;
}

int main(void)
{
	CHECK(mkdtemp(dir));
	if (system("command -v gdb > /dev/null") != 0) {
		printf("SKIP: no gdb\n");
		cleanup();
		return 77;
	}
	child = start("writer", "64");
	uint64_t wbuf = 0;
	size_t wpages = 0;
	CHECK(sscanf(strstr(ready, "wbuf="), "wbuf=%" SCNx64 " wpages=%zu", &wbuf, &wpages) == 2);
	if (!wbuf || wpages != 64 << 8)
		fprintf(stderr, "READY line: %s\n", ready);
	CHECK(wbuf && wpages == 64 << 8);
	struct dbg_proc *p;
	DBG_OPTS(dbg_attach_opts, running, .flags = DBG_ATTACH_NO_STOP);
	CHECK(dbg_proc_attach(child, &running, &p) == 0);
	proc = p;
	usleep(100000);   /* a few passes: gen well above 1 */

	bool have_precopy = true;
	/* Three pre-copies (a writer that happens not to run between the
	 * last round and the stop would hide a missed page once), then the
	 * fork snapshot. */
	for (int pass = 0; pass < 4; pass++) {
		bool fork_mode = pass == 3, no_fork = pass == 2;
		char path[256];
		int fd = open_core(fork_mode ? "fork" : "precopy", path, sizeof(path));
		struct dbg_core_info info = { .sz = sizeof(info) };
		DBG_OPTS(dbg_core_opts, o, .mode = DBG_CORE_LOW_PAUSE, .info = &info,
			 .flags = fork_mode ? DBG_CORE_FORK_SNAPSHOT : no_fork ? DBG_CORE_NO_FORK : 0);
		double t0 = now();
		int r = dbg_core_write(p, fd, &o);
		double dt = now() - t0;
		if (r)
			fprintf(stderr, "dbg_core_write: %s (%s)\n", dbg_strerror(r), dbg_proc_errmsg(p));
		CHECK(r == 0);
		if (no_fork && r == -ENOTSUP && !have_precopy) {
			close(fd);
			continue;
		}
		if (!fork_mode && info.snapshot == DBG_CORE_SNAP_FORK) {
			printf("note: no pre-copy on this kernel (%s): the fork snapshot ran\n",
			       dbg_strerror(info.precopy_fallback));
			have_precopy = false;
		} else if (fork_mode) {
			CHECK(info.snapshot == DBG_CORE_SNAP_FORK);
		} else if (no_fork) {
			CHECK(info.snapshot == DBG_CORE_SNAP_PRECOPY);
		} else {
			/* 64 MiB written all the time: a fork at the stop. */
			CHECK(info.snapshot == DBG_CORE_SNAP_PRECOPY ||
			      info.snapshot == DBG_CORE_SNAP_PRECOPY_FORK);
		}
		load_phdrs(fd);
		uint64_t gen = 0, i = 0;
		writer_locals(path, &gen, &i);
		size_t bad = check_pages(fd, wbuf, wpages, gen, i);
		static const char *const kind[] = { "none", "fork", "pre-copy", "pre-copy + fork" };
		printf("%s (%s): %.3f s, paused %.3f ms, %u rounds, %" PRIu64 " KiB copied at the stop; "
		       "writer at gen %" PRIu64 " page %" PRIu64 ", %zu of %zu pages disagree\n",
		       fork_mode ? "fork snapshot" : no_fork ? "no fork" : "default",
		       kind[info.snapshot & 3], dt, info.pause_ns / 1e6,
		       info.precopy_rounds, info.pause_copy_bytes >> 10, gen, i, bad, wpages);
		CHECK(gen > 1);
		CHECK(bad == 0);
		if (info.snapshot >= DBG_CORE_SNAP_PRECOPY) {
			/* The writer wrote during the dump: pages were copied again. */
			CHECK(info.pause_copy_bytes > 0 && info.precopy_rounds >= 1);
			no_uffd_left(child);
		}
		close(fd);
	}
	/* The writer runs on. */
	uint64_t g0 = 0, g1 = 0;
	char mp[64];
	snprintf(mp, sizeof(mp), "/proc/%d/mem", child);
	int mfd = open(mp, O_RDONLY);
	CHECK(mfd >= 0 && pread(mfd, &g0, 8, wbuf) == 8);
	usleep(50000);
	CHECK(pread(mfd, &g1, 8, wbuf) == 8 && g1 > g0);
	close(mfd);

	if (have_precopy) {
		/* Cancelled during the pre-copy: an empty file, nothing left in
		 * the target. */
		char path[256];
		int fd = open_core("cancel", path, sizeof(path));
		int calls = 0;
		struct dbg_core_info info = { .sz = sizeof(info) };
		DBG_OPTS(dbg_core_opts, c, .mode = DBG_CORE_LOW_PAUSE, .progress_fn = stop_at,
			 .progress_ctx = &calls, .info = &info);
		int r = dbg_core_write(p, fd, &c);
		struct stat st;
		CHECK(fstat(fd, &st) == 0);
		printf("cancelled mid-pre-copy: %s, file %lld bytes\n", dbg_strerror(r),
		       (long long)st.st_size);
		CHECK(r == -ECANCELED && st.st_size == 0 && info.truncated);
		no_uffd_left(child);
		close(fd);
	}

	/* A pipe: no pre-copy, the fork snapshot, and the reason. */
	{
		int pfd[2];
		CHECK(pipe(pfd) == 0);
		pid_t cat = fork();
		CHECK(cat >= 0);
		if (cat == 0) {
			close(pfd[1]);
			char b[65536];
			while (read(pfd[0], b, sizeof(b)) > 0)
				;
			_exit(0);
		}
		close(pfd[0]);
		struct dbg_core_info info = { .sz = sizeof(info) };
		DBG_OPTS(dbg_core_opts, o, .mode = DBG_CORE_LOW_PAUSE, .info = &info);
		int r = dbg_core_write(p, pfd[1], &o);
		close(pfd[1]);
		waitpid(cat, NULL, 0);
		printf("to a pipe: %s, snapshot %u, fallback %s\n", dbg_strerror(r), info.snapshot,
		       dbg_strerror(info.precopy_fallback));
		CHECK(r == 0 && info.snapshot == DBG_CORE_SNAP_FORK && info.precopy_fallback == -ESPIPE);
	}
	dbg_proc_detach(p);
	proc = NULL;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	child = -1;

	/* Under a seccomp filter: not tried (an injected userfaultfd could
	 * be refused or kill the target), the fork instead. */
	{
		child = start("seccomp", "1");
		CHECK(dbg_proc_attach(child, &running, &p) == 0);
		proc = p;
		char path[256];
		int fd = open_core("seccomp", path, sizeof(path));
		struct dbg_core_info info = { .sz = sizeof(info) };
		DBG_OPTS(dbg_core_opts, o, .mode = DBG_CORE_LOW_PAUSE, .info = &info);
		int r = dbg_core_write(p, fd, &o);
		printf("under seccomp: %s, snapshot %u, fallback %s\n", dbg_strerror(r), info.snapshot,
		       dbg_strerror(info.precopy_fallback));
		CHECK(r == 0 && info.snapshot == DBG_CORE_SNAP_FORK && info.precopy_fallback == -EPERM);
		close(fd);
		dbg_proc_detach(p);
		proc = NULL;
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}

	if (have_precopy) {
		/* Killed during the pre-copy: -ESRCH at once, an empty file, no
		 * child of ours left. */
		child = start("big", "256");
		CHECK(dbg_proc_attach(child, &running, &p) == 0);
		proc = p;
		char path[256];
		int fd = open_core("killed", path, sizeof(path));
		int calls = 0;
		struct dbg_core_info info = { .sz = sizeof(info) };
		DBG_OPTS(dbg_core_opts, k, .mode = DBG_CORE_LOW_PAUSE, .progress_fn = kill_at_first,
			 .progress_ctx = &calls, .info = &info);
		double t0 = now();
		int r = dbg_core_write(p, fd, &k);
		double dt = now() - t0;
		struct stat st;
		CHECK(fstat(fd, &st) == 0);
		printf("killed mid-pre-copy: %s (%s) after %.3f s, file %lld bytes\n", dbg_strerror(r),
		       dbg_proc_errmsg(p), dt, (long long)st.st_size);
		CHECK(r == -ESRCH && dt < 10 && st.st_size == 0 && info.truncated);
		close(fd);
		dbg_proc_detach(p);
		proc = NULL;
		int ws;
		pid_t w = waitpid(child, &ws, 0);
		CHECK((w == child && WIFSIGNALED(ws)) || (w < 0 && errno == ECHILD));
		child = -1;
		CHECK(waitpid(-1, &ws, WNOHANG | __WALL) < 0 && errno == ECHILD);
	}
	cleanup();
	if (!have_precopy) {
		printf("SKIP: the pre-copy checks need userfaultfd write-protection and "
		       "PAGEMAP_SCAN (Linux 6.7)\n");
		return 77;
	}
	printf("PASS\n");
	return 0;
}
