/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The persistent cache of prepared debuginfo (libdbg/symcache.c), on a
 * real target: tests/inferiors/cold.cc stripped, its DWARF in a separate
 * file compressed with zlib (as distributions ship them) and found by
 * build-id under a private debuginfo directory. Every run's answer (each
 * frame's functions, files and lines) must equal the uncached one, and:
 *   - a first run stores <build-id>.debug; the next one uses it as it is;
 *   - a corrupt entry (a flipped byte in a section) and a truncated one
 *     are detected and rebuilt;
 *   - writers racing on one key (four processes, four targets) leave one
 *     valid entry and no temporary file;
 *   - the size bound evicts the oldest entries, and an entry bigger than
 *     the bound is not stored;
 *   - DBG_SYM_NO_CACHE reads and writes nothing; an unusable directory
 *     (under a file, writable by others, another owner's) is not used;
 *   - the default place: $XDG_CACHE_HOME/libdbg, else ~/.cache/libdbg;
 *   - DBG_SYM_NO_DWARF names the frames from the debuginfo's .symtab and
 *     inflates nothing (the cache stays empty).
 */
#include "../harness.h"

#include <elf.h>
#include <inttypes.h>
#include <sys/stat.h>

#define MAX_FRAMES 64

static char tmp[256], dbgdir[512], entry_name[256];

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	CHECK(rc == 0, "'%s' = %d", cmd, rc);
}

/* Every frame's chain of functions and lines, as one string. */
static void summary(struct dbg_proc *p, pid_t tid, const char *cache_dir, unsigned int flags,
		    uint64_t cache_max, char *out, size_t cap)
{
	DBG_OPTS(dbg_sym_opts, so, .debuginfo_path = dbgdir, .cache_dir = cache_dir, .flags = flags,
		 .cache_max = cache_max);
	struct dbg_sym *sym;
	OK(dbg_sym_new(p, &so, &sym));
	struct dbg_unwinder *u;
	OK(dbg_unwind_new(p, sym, NULL, &u));
	struct dbg_frame fr[MAX_FRAMES];
	int n = dbg_unwind_thread(u, tid, fr, MAX_FRAMES);
	CHECK(n > 3, "%d frames", n);
	size_t len = 0;
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		uint64_t at = fr[i].pc - (fr[i].flags & DBG_FRAME_ACTIVATION ? 0 : 1);
		struct dbg_srcloc l[8];
		int nl = dbg_sym_srclocs(sym, at, l, 8);
		for (int j = 0; j < nl && j < 8; j++)
			len += snprintf(out + len, len < cap ? cap - len : 0, "%s %s:%d|",
					l[j].function ? l[j].function : "??", l[j].file ? l[j].file : "-",
					l[j].line);
		len += snprintf(out + len, len < cap ? cap - len : 0, "\n");
	}
	CHECK(len < cap, "summary too long");
	dbg_unwind_free(u);
	dbg_sym_free(sym);
}

static bool exists(const char *dir, const char *name, struct stat *st)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct stat s;
	return stat(path, st ? st : &s) == 0;
}

/* Files in @dir (0 when it does not exist); temporary ones counted in *ntmp. */
static int count_files(const char *dir, int *ntmp)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (ntmp)
		*ntmp = 0;
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' || (de->d_name[1] && de->d_name[1] != '.')) {
			n++;
			if (ntmp && strncmp(de->d_name, ".tmp", 4) == 0)
				(*ntmp)++;
		}
	closedir(d);
	return n;
}

/* The same file, not rewritten: a rewrite is a new inode with a newer
 * change time (an inode number alone may be reused). */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static size_t read_all(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open %s", path);
	ssize_t n = read(fd, buf, cap);
	close(fd);
	CHECK(n >= 0 && (size_t)n < cap, "read %s", path);
	return n;
}

static void corrupt_largest_section(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s", path);
	Elf64_Ehdr eh;
	CHECK(pread(fd, &eh, sizeof(eh), 0) == sizeof(eh), "read ehdr");
	uint64_t best_off = 0, best_size = 0;
	for (int i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr s;
		CHECK(pread(fd, &s, sizeof(s), eh.e_shoff + i * sizeof(s)) == sizeof(s), "read shdr");
		if (s.sh_type != SHT_NOBITS && s.sh_size > best_size) {
			best_size = s.sh_size;
			best_off = s.sh_offset;
		}
	}
	CHECK(best_size > 0, "no section in %s", path);
	unsigned char c;
	off_t at = best_off + best_size / 2;
	CHECK(pread(fd, &c, 1, at) == 1, "read");
	c ^= 0x5a;
	CHECK(pwrite(fd, &c, 1, at) == 1, "write");
	close(fd);
}

/* The scratch directory goes whichever way the test ends. */
static void cleanup(void)
{
	char cmd[300];
	if (tmp[0] && strlen(tmp) > 10) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp);
	}
}

int main(void)
{
	skip_unless_ptrace();
	if (system("command -v objcopy >/dev/null") != 0)
		skip("objcopy (binutils) is not installed");
	snprintf(tmp, sizeof(tmp), "/tmp/dbg-sym-cache.XXXXXX");
	CHECK(mkdtemp(tmp), "mkdtemp");
	atexit(cleanup);
	snprintf(dbgdir, sizeof(dbgdir), "%s/debug", tmp);

	struct inferior inf;
	inferior_start(&inf, "cold_stripped", NULL);
	for (int i = 0; i < 200 && thread_state(inf.pid, inf.pid) != 'S'; i++)
		sleep_ms(5);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);

	/* The debuginfo, compressed, where a build-id search finds it. */
	struct dbg_sym *s0;
	OK(dbg_sym_new(p, NULL, &s0));
	uint64_t main_addr;
	OK(dbg_sym_addr(s0, "main", &main_addr));
	struct dbg_module m;
	OK(dbg_sym_module(s0, main_addr, &m));
	CHECK(m.build_id && m.build_id_len > 2, "cold_stripped has no build-id");
	char hex[130] = "";
	for (size_t i = 0; i < m.build_id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", m.build_id[i]);
	dbg_sym_free(s0);
	sh("mkdir -p %s/.build-id/%.2s && objcopy --compress-debug-sections=zlib %s/cold_stripped.debug "
	   "%s/.build-id/%.2s/%s.debug", dbgdir, hex, INFERIOR_DIR, dbgdir, hex, hex + 2);
	snprintf(entry_name, sizeof(entry_name), "%s.debug", hex);

	static char ref[16384], got[16384];
	char cache[1024], path[1400];
	/* The reference: no cache. It has lines from the compressed file. */
	snprintf(cache, sizeof(cache), "%s/c1", tmp);
	summary(p, inf.pid, cache, DBG_SYM_NO_CACHE, 0, ref, sizeof(ref));
	CHECK(strstr(ref, "_Z7throweri.cold ") && strstr(ref, "cold.cc:"),
	      "no lines of the cold part from the compressed debuginfo:\n%s", ref);
	CHECK(count_files(cache, NULL) == 0, "DBG_SYM_NO_CACHE wrote into %s", cache);

	/* Miss, then hit. */
	summary(p, inf.pid, cache, 0, 0, got, sizeof(got));
	CHECK(strcmp(got, ref) == 0, "first cached run:\n%s\nexpected:\n%s", got, ref);
	struct stat st1, st2;
	CHECK(exists(cache, entry_name, &st1), "no entry %s in %s", entry_name, cache);
	snprintf(path, sizeof(path), "%s/%s", cache, entry_name);
	static char orig[1 << 20], now[1 << 20];
	size_t olen = read_all(path, orig, sizeof(orig));
	CHECK((st1.st_mode & 0777) == 0600, "entry mode %o", st1.st_mode & 0777);
	struct stat dst;
	CHECK(stat(cache, &dst) == 0 && (dst.st_mode & 0777) == 0700, "cache dir mode %o", dst.st_mode & 0777);
	summary(p, inf.pid, cache, 0, 0, got, sizeof(got));
	CHECK(strcmp(got, ref) == 0, "cached run:\n%s", got);
	CHECK(exists(cache, entry_name, &st2) && same_file(&st1, &st2), "a hit rewrote the entry");

	/* Corrupt, then truncated: detected, rebuilt, same answers. */
	corrupt_largest_section(path);
	summary(p, inf.pid, cache, 0, 0, got, sizeof(got));
	CHECK(strcmp(got, ref) == 0, "after corruption:\n%s", got);
	CHECK(read_all(path, now, sizeof(now)) == olen && memcmp(now, orig, olen) == 0,
	      "a corrupt entry was not rebuilt");
	CHECK(truncate(path, st1.st_size / 2) == 0, "truncate");
	summary(p, inf.pid, cache, 0, 0, got, sizeof(got));
	CHECK(strcmp(got, ref) == 0, "after truncation:\n%s", got);
	CHECK(read_all(path, now, sizeof(now)) == olen && memcmp(now, orig, olen) == 0,
	      "a truncated entry was not rebuilt");
	CHECK(truncate(path, 10) == 0, "truncate");
	summary(p, inf.pid, cache, 0, 0, got, sizeof(got));
	CHECK(strcmp(got, ref) == 0 && read_all(path, now, sizeof(now)) == olen &&
	      memcmp(now, orig, olen) == 0, "an entry of 10 bytes was not rebuilt");
	printf("miss, hit, corrupt, truncated: ok (entry %lld bytes)\n", (long long)st1.st_size);

	/* Racing writers: four processes, each with a target of its own. */
	snprintf(cache, sizeof(cache), "%s/c2", tmp);
	enum { RACERS = 4 };
	struct inferior t[RACERS];
	for (int i = 0; i < RACERS; i++)
		inferior_start(&t[i], "cold_stripped", NULL);
	for (int i = 0; i < RACERS; i++)
		for (int k = 0; k < 200 && thread_state(t[i].pid, t[i].pid) != 'S'; k++)
			sleep_ms(5);
	pid_t kids[RACERS];
	for (int i = 0; i < RACERS; i++) {
		kids[i] = fork();
		CHECK(kids[i] >= 0, "fork");
		if (kids[i] == 0) {
			struct dbg_proc *q;
			if (dbg_proc_attach(t[i].pid, NULL, &q) < 0)
				_exit(3);
			static char mine[16384];
			summary(q, t[i].pid, cache, 0, 0, mine, sizeof(mine));
			dbg_proc_detach(q);
			_exit(strcmp(mine, ref) == 0 ? 0 : 4);
		}
	}
	for (int i = 0; i < RACERS; i++) {
		int ws;
		CHECK(waitpid(kids[i], &ws, 0) == kids[i] && WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		      "racer %d: status %#x (4: wrong answer)", i, ws);
		inferior_kill(&t[i]);
	}
	int ntmp;
	CHECK(count_files(cache, &ntmp) == 1 && ntmp == 0, "after the race: %d files, %d temporary",
	      count_files(cache, NULL), ntmp);
	CHECK(exists(cache, entry_name, &st1), "no entry after the race");
	summary(p, inf.pid, cache, 0, 0, got, sizeof(got));
	CHECK(strcmp(got, ref) == 0 && exists(cache, entry_name, &st2) && same_file(&st1, &st2),
	      "the raced entry is not valid (it was rebuilt)");
	printf("racing writers: ok\n");

	/* The bound: two older 1 MiB entries of other builds; room for one. */
	uint64_t esize = (uint64_t)st1.st_blocks * 512;
	snprintf(cache, sizeof(cache), "%s/c3", tmp);
	sh("mkdir -m 700 %s && head -c 1048576 /dev/urandom > %s/aaaa.debug && "
	   "head -c 1048576 /dev/urandom > %s/bbbb.debug && touch -d '-2 days' %s/aaaa.debug && "
	   "touch -d '-1 day' %s/bbbb.debug", cache, cache, cache, cache, cache);
	summary(p, inf.pid, cache, 0, esize + 1536 * 1024, got, sizeof(got));
	CHECK(strcmp(got, ref) == 0, "bounded run:\n%s", got);
	CHECK(!exists(cache, "aaaa.debug", NULL) && exists(cache, "bbbb.debug", NULL) &&
	      exists(cache, entry_name, NULL), "eviction: aaaa %d bbbb %d entry %d (oldest first)",
	      exists(cache, "aaaa.debug", NULL), exists(cache, "bbbb.debug", NULL),
	      exists(cache, entry_name, NULL));
	snprintf(cache, sizeof(cache), "%s/c4", tmp);
	summary(p, inf.pid, cache, 0, esize / 2, got, sizeof(got));
	CHECK(strcmp(got, ref) == 0 && count_files(cache, NULL) == 0,
	      "an entry bigger than the bound was stored");
	printf("size bound: ok\n");

	/* Unusable directories: answers as without a cache, nothing written. */
	snprintf(path, sizeof(path), "%s/file", tmp);
	sh("echo x > %s", path);
	snprintf(cache, sizeof(cache), "%s/file/sub", tmp);
	summary(p, inf.pid, cache, 0, 0, got, sizeof(got));
	CHECK(strcmp(got, ref) == 0, "under a file:\n%s", got);
	snprintf(cache, sizeof(cache), "%s/open", tmp);
	sh("mkdir %s && chmod 777 %s", cache, cache);
	summary(p, inf.pid, cache, 0, 0, got, sizeof(got));
	CHECK(strcmp(got, ref) == 0 && count_files(cache, NULL) == 0,
	      "a directory writable by others was used");
	if (geteuid() == 0) {
		snprintf(cache, sizeof(cache), "%s/theirs", tmp);
		sh("mkdir -m 700 %s && chown 65534 %s", cache, cache);
		summary(p, inf.pid, cache, 0, 0, got, sizeof(got));
		CHECK(strcmp(got, ref) == 0 && count_files(cache, NULL) == 0,
		      "another user's directory was used");
	}
	printf("unusable directories: ok\n");

	/* The default place. */
	char xdg[600], home[600];
	snprintf(xdg, sizeof(xdg), "%s/xdg", tmp);
	setenv("XDG_CACHE_HOME", xdg, 1);
	summary(p, inf.pid, NULL, 0, 0, got, sizeof(got));
	snprintf(cache, sizeof(cache), "%s/libdbg", xdg);
	CHECK(strcmp(got, ref) == 0 && exists(cache, entry_name, NULL), "no entry under $XDG_CACHE_HOME");
	unsetenv("XDG_CACHE_HOME");
	snprintf(home, sizeof(home), "%s/home", tmp);
	sh("mkdir -m 700 %s", home);
	setenv("HOME", home, 1);
	summary(p, inf.pid, NULL, 0, 0, got, sizeof(got));
	snprintf(cache, sizeof(cache), "%s/.cache/libdbg", home);
	CHECK(strcmp(got, ref) == 0 && exists(cache, entry_name, NULL), "no entry under ~/.cache");
	printf("default directories: ok\n");

	/* Names only: the debuginfo's .symtab, nothing inflated. */
	snprintf(cache, sizeof(cache), "%s/c5", tmp);
	summary(p, inf.pid, cache, DBG_SYM_NO_DWARF, 0, got, sizeof(got));
	CHECK(strstr(got, "_Z7throweri.cold -:0|") && strstr(got, "_Z10block_herev -:0|") &&
	      !strstr(got, ".cc:"), "names only:\n%s", got);
	CHECK(count_files(cache, NULL) == 0, "names only inflated the debuginfo");
	printf("names only: ok\n");

	dbg_proc_detach(p);
	inferior_kill(&inf);
	return 0;
}
