/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg-core: write a core file of a running process, like gcore.
 *
 *   dbg-core [-o FILE] [--minimal] [--no-pause [--fork]] [--filter HEX] [--one-thread] PID
 *
 * Writes FILE.PID (default core.PID) as the kernel would have written it
 * had the process crashed, and lets the process run on. --minimal keeps
 * only what a backtrace needs (stacks, ELF headers, the link map);
 * --no-pause copies the memory while the target runs and stops it only
 * for what it wrote since (pre-copy), or, where that cannot be done or
 * with --fork, takes it from a copy-on-write fork snapshot: the target
 * stops for milliseconds only; a second line says which ran. A progress
 * line is shown when stderr is a terminal.
 *
 * Exit status (as dbg-stack's): 0 core written; 1 usage; 2 no such
 * process; 3 not allowed to trace it; 4 the target exited while we
 * worked; 5 any other error (a full disk: the partial core is cut and
 * marked, see doc/core.md).
 */
#define _GNU_SOURCE
#include <dbg.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_USAGE = 1, EXIT_NOPROC = 2, EXIT_PERM = 3, EXIT_GONE = 4, EXIT_OTHER = 5 };

static char last_error[512];

static void log_fn(enum dbg_log_level lvl, const char *msg, void *ctx)
{
	(void)ctx;
	if (lvl == DBG_LOG_ERROR)
		snprintf(last_error, sizeof(last_error), "%s", msg);
	if (lvl == DBG_LOG_DEBUG && getenv("DBG_CORE_DEBUG"))
		fprintf(stderr, "dbg-core: %s\n", msg);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dbg-core [options] PID\n"
		"Write a core file of the running process PID to FILE.PID (core.PID).\n"
		"  -o, --output FILE   the file name's prefix (default: core)\n"
		"  -m, --minimal       stacks, ELF headers and the link map only\n"
		"  -n, --no-pause      the target pauses milliseconds: pre-copy while it runs\n"
		"                      (userfaultfd write-protection), else a fork snapshot\n"
		"      --fork          with --no-pause: always the fork snapshot\n"
		"  -f, --filter HEX    coredump_filter bits (default: the target's)\n"
		"  -q, --quiet         no progress line\n"
		"      --one-thread    read and write from one thread (no helper)\n"
		"  -h, --help\n");
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct prog {
	double last;
	bool shown;
};

static int progress(uint64_t done, uint64_t total, void *ctx)
{
	struct prog *pg = ctx;
	double t = now_s();
	if (t - pg->last < 0.1 && done != total)
		return 0;
	pg->last = t;
	pg->shown = true;
	fprintf(stderr, "\rdbg-core: %" PRIu64 " of %" PRIu64 " MiB (%3.0f%%)", done >> 20,
		total >> 20, total ? 100.0 * done / total : 100.0);
	return 0;
}

static void region(const struct dbg_core_region *r, void *ctx)
{
	unsigned *n = ctx;
	if (r->kind == DBG_CORE_REGION_FROM_PARENT) {
		fprintf(stderr, "dbg-core: %#" PRIx64 "-%#" PRIx64 " is not in the snapshot "
			"(MADV_DONTFORK/WIPEONFORK): read from the running process\n", r->start, r->end);
		return;
	}
	if ((*n)++ < 8)
		fprintf(stderr, "dbg-core: %#" PRIx64 "-%#" PRIx64 " unreadable (%s), left as a hole\n",
			r->start, r->end, dbg_strerror(r->err));
}

static int exit_code(int err)
{
	switch (err) {
	case -ESRCH: return EXIT_GONE;
	case -EPERM: return EXIT_PERM;
	default: return EXIT_OTHER;
	}
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "minimal", no_argument, NULL, 'm' },
		{ "no-pause", no_argument, NULL, 'n' },
		{ "filter", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "one-thread", no_argument, NULL, '1' },
		{ "fork", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *prefix = "core";
	bool minimal = false, no_pause = false, quiet = false, set_filter = false, one = false;
	bool use_fork = false;
	unsigned long filter = 0;
	int c;
	while ((c = getopt_long(argc, argv, "o:mnf:qh", lopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'o': prefix = optarg; break;
		case 'm': minimal = true; break;
		case 'n': no_pause = true; break;
		case 'q': quiet = true; break;
		case '1': one = true; break;
		case 'F': use_fork = true; break;
		case 'f':
			errno = 0;
			filter = strtoul(optarg, &end, 16);
			if (*end || !*optarg || errno || filter > 0x1ff) {
				fprintf(stderr, "dbg-core: bad filter '%s' (hex, at most 1ff)\n", optarg);
				return EXIT_USAGE;
			}
			set_filter = true;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (use_fork && !no_pause) {
		fprintf(stderr, "dbg-core: --fork goes with --no-pause\n");
		return 1;
	}
	if (minimal && no_pause) {
		fprintf(stderr, "dbg-core: --minimal and --no-pause do not go together\n");
		return EXIT_USAGE;
	}
	char *end;
	long lpid = strtol(argv[optind], &end, 10);
	if (*end || lpid <= 0 || lpid > 0x7fffffff) {
		fprintf(stderr, "dbg-core: bad pid '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	pid_t pid = (pid_t)lpid;
#ifndef DBG_CORE_HAS_LOW_PAUSE
	if (no_pause) {
		fprintf(stderr, "dbg-core: --no-pause needs the low-pause mode, which this "
				"libdbg does not have yet\n");
		return EXIT_OTHER;
	}
#endif

	struct dbg_proc *proc;
	/* Attached running: dbg_core_write() stops the threads and tells
	 * how long they were stopped. */
	DBG_OPTS(dbg_attach_opts, aopts, .flags = DBG_ATTACH_NO_STOP, .log_fn = log_fn);
	int r = dbg_proc_attach(pid, &aopts, &proc);
	if (r < 0) {
		if (r == -ESRCH) {
			fprintf(stderr, "dbg-core: no process %d\n", pid);
			return EXIT_NOPROC;
		}
		if (last_error[0])
			fprintf(stderr, "dbg-core: %s\n", last_error);
		else
			fprintf(stderr, "dbg-core: cannot attach to %d: %s\n", pid, dbg_strerror(r));
		return exit_code(r);
	}

	char path[4096];
	snprintf(path, sizeof(path), "%s.%d", prefix, pid);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "dbg-core: %s: %s\n", path, strerror(errno));
		dbg_proc_detach(proc);
		return EXIT_OTHER;
	}
	struct prog pg = { 0 };
	unsigned nbad = 0;
	DBG_OPTS(dbg_core_info, info);
	DBG_OPTS(dbg_core_opts, copts, .mode = minimal ? DBG_CORE_MINIMAL : DBG_CORE_FULL,
		 .flags = (set_filter ? DBG_CORE_SET_FILTER : 0) | (one ? DBG_CORE_ONE_THREAD : 0) |
			  (use_fork ? DBG_CORE_FORK_SNAPSHOT : 0),
		 .coredump_filter = (unsigned)filter, .log_fn = log_fn,
		 .region_fn = region, .region_ctx = &nbad, .info = &info);
#ifdef DBG_CORE_HAS_LOW_PAUSE
	if (no_pause)
		copts.mode = DBG_CORE_LOW_PAUSE;
#endif
	if (!quiet && isatty(STDERR_FILENO)) {
		copts.progress_fn = progress;
		copts.progress_ctx = &pg;
	}
	double t0 = now_s();
	r = dbg_core_write(proc, fd, &copts);
	double t1 = now_s();
	if (pg.shown)
		fputc('\n', stderr);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		const char *msg = dbg_proc_errmsg(proc);
		fprintf(stderr, "dbg-core: %s: %s%s%s\n", path, dbg_strerror(r), msg && *msg ? ": " : "",
			msg ? msg : "");
		if (info.truncated)
			fprintf(stderr, "dbg-core: %s is cut at %" PRIu64 " bytes and marked as cut\n",
				path, info.file_size);
		dbg_proc_detach(proc);
		return r == -ESRCH ? EXIT_GONE : exit_code(r);
	}
	dbg_proc_detach(proc);
	if (nbad > 8)
		fprintf(stderr, "dbg-core: %u unreadable regions in all\n", nbad);
	fprintf(stderr, "dbg-core: wrote %s: %u threads, %u segments, %" PRIu64 " bytes (%" PRIu64
		" of memory), %.3f s, target paused %.3f ms%s\n", path, info.nthreads,
		info.nsegments, info.file_size, info.data_bytes, t1 - t0, info.pause_ns / 1e6,
		info.truncated ? " (cut at the size limit)" : "");
	if (info.snapshot == DBG_CORE_SNAP_PRECOPY || info.snapshot == DBG_CORE_SNAP_PRECOPY_FORK)
		fprintf(stderr, "dbg-core: snapshot: pre-copy, %u rounds, %" PRIu64 " KiB copied "
			"%s, set-up stop %.3f ms\n", info.precopy_rounds,
			info.pause_copy_bytes >> 10,
			info.snapshot == DBG_CORE_SNAP_PRECOPY ? "at the stop" :
			"after the stop from a fork child", info.setup_pause_ns / 1e6);
	else if (info.snapshot == DBG_CORE_SNAP_FORK)
		fprintf(stderr, "dbg-core: snapshot: fork%s%s%s\n",
			info.precopy_fallback ? " (no pre-copy: " : "",
			info.precopy_fallback ? dbg_strerror(info.precopy_fallback) : "",
			info.precopy_fallback ? ")" : "");
	printf("%s\n", path);
	return 0;
}
