/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg-prof: a sampling profiler for a running process.
 *
 *   dbg-prof [-F HZ] [-d SECONDS] [--wall] [--source perf|ptrace]
 *            [--threads] [-o FILE] PID
 *
 * Folded stacks ("f1;f2;f3 count", root first) on stdout by default; -o
 * picks the format from the name: .folded, .speedscope.json, .svg (a flame
 * graph), .pb.gz (pprof). A summary goes to stderr. Ctrl-C ends sampling
 * early and still writes the profile. See doc/profiling.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <dbg.h>
#include "prof-formats.h"

static struct dbg_prof *g_prof;

static void on_signal(int sig)
{
	(void)sig;
	dbg_prof_stop(g_prof);
}

static void usage(FILE *f)
{
	fputs("usage: dbg-prof [-F HZ] [-d SECONDS] [--wall] [--source perf|ptrace] [--threads]\n"
	      "                [-o FILE] PID\n"
	      "  -F HZ            samples per second per thread (default 99, at most 10000)\n"
	      "  -d SECONDS       how long to sample (default: until Ctrl-C or the target exits)\n"
	      "  --wall           wall-clock mode: sample threads off CPU too (ptrace source)\n"
	      "  --source S       perf (no stops; needs perf_event_open) or ptrace; default:\n"
	      "                   perf where allowed, else ptrace\n"
	      "  --threads        folded/svg: one root frame per thread (comm-tid)\n"
	      "  --stack-size N   bytes of stack copied per sample (default 32768)\n"
	      "  -o FILE          .folded, .speedscope.json, .svg or .pb.gz (pprof)\n", f);
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return false;
	*ret = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "wall", no_argument, NULL, 'w' },
		{ "source", required_argument, NULL, 's' },
		{ "threads", no_argument, NULL, 't' },
		{ "stack-size", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dbg_prof_opts po = { .sz = sizeof(po) };
	double seconds = -1;
	const char *out = NULL;
	bool per_thread = false;
	int c;
	unsigned long v;
	while ((c = getopt_long(argc, argv, "F:d:o:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (!parse_uint(optarg, 10000, &v) || v == 0) {
				fprintf(stderr, "dbg-prof: -F wants a rate from 1 to 10000 Hz, not '%s'\n", optarg);
				return 2;
			}
			po.hz = (unsigned)v;
			break;
		case 'd': {
			char *end;
			errno = 0;
			seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(seconds > 0) || seconds > 86400) {
				fprintf(stderr, "dbg-prof: -d wants seconds (> 0), not '%s'\n", optarg);
				return 2;
			}
			break;
		}
		case 'o':
			out = optarg;
			break;
		case 'w':
			po.flags |= DBG_PROF_WALL;
			break;
		case 't':
			per_thread = true;
			break;
		case 'S':
			if (!parse_uint(optarg, 65528, &v) || v < 256) {
				fprintf(stderr, "dbg-prof: --stack-size wants 256 to 65528 bytes\n");
				return 2;
			}
			po.stack_size = (unsigned)v;
			break;
		case 's':
			if (strcmp(optarg, "perf") == 0)
				po.source = DBG_PROF_SOURCE_PERF;
			else if (strcmp(optarg, "ptrace") == 0)
				po.source = DBG_PROF_SOURCE_PTRACE;
			else {
				fprintf(stderr, "dbg-prof: --source is perf or ptrace, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (!parse_uint(argv[optind], INT_MAX, &v) || v == 0) {
		fprintf(stderr, "dbg-prof: not a process id: '%s'\n", argv[optind]);
		return 2;
	}
	pid_t pid = (pid_t)v;
	enum { F_FOLDED, F_SVG, F_SPEEDSCOPE, F_PPROF } fmt = F_FOLDED;
	if (out) {
		if (ends_with(out, ".folded"))
			fmt = F_FOLDED;
		else if (ends_with(out, ".speedscope.json"))
			fmt = F_SPEEDSCOPE;
		else if (ends_with(out, ".svg"))
			fmt = F_SVG;
		else if (ends_with(out, ".pb.gz"))
			fmt = F_PPROF;
		else {
			fprintf(stderr, "dbg-prof: -o %s: the name must end in .folded, .speedscope.json, "
				".svg or .pb.gz\n", out);
			return 2;
		}
	}
	if ((po.flags & DBG_PROF_WALL) && po.source == DBG_PROF_SOURCE_PERF) {
		fprintf(stderr, "dbg-prof: --wall needs the ptrace source (a perf clock event sees a "
			"thread only while it runs)\n");
		return 2;
	}

	/* The perf source holds an event per thread and CPU: allow as many
	 * descriptors as the hard limit does. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct dbg_attach_opts ao = { .sz = sizeof(ao), .flags = DBG_ATTACH_NO_STOP };
	struct dbg_proc *proc;
	int r = dbg_proc_attach(pid, &ao, &proc);
	if (r < 0) {
		fprintf(stderr, "dbg-prof: attach %d: %s\n", (int)pid, dbg_strerror(r));
		return 1;
	}
	r = dbg_prof_new(proc, &po, &g_prof);
	if (r < 0) {
		fprintf(stderr, "dbg-prof: %s: %s\n", dbg_strerror(r), dbg_proc_errmsg(proc));
		dbg_proc_detach(proc);
		return 1;
	}
	const char *note = dbg_prof_source_note(g_prof);
	if (note)
		fprintf(stderr, "dbg-prof: %s\n", note);
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct timespec wall0;
	clock_gettime(CLOCK_REALTIME, &wall0);
	r = dbg_prof_run(g_prof, seconds > 0 ? (int)(seconds * 1000) : -1);
	int rc = 0;
	if (r < 0) {
		fprintf(stderr, "dbg-prof: sampling stopped: %s: %s\n", dbg_strerror(r),
			dbg_proc_errmsg(proc));
		rc = 1; /* what was sampled is still written */
	}
	struct dbg_prof_stats st;
	dbg_prof_get_stats(g_prof, &st);

	char title[256];
	snprintf(title, sizeof(title), "dbg-prof %d (%s, %s source, %u Hz)", (int)pid,
		 st.wall ? "wall" : "cpu", dbg_prof_source_str(st.source), st.hz);
	struct prof_out o = {
		.prof = g_prof, .title = title, .per_thread = per_thread, .wall = st.wall,
		.hz = st.hz, .duration_ns = st.elapsed_ns,
		.start_unix_ns = (uint64_t)wall0.tv_sec * 1000000000ull + (uint64_t)wall0.tv_nsec,
	};
	int w;
	if (fmt == F_PPROF) {
		w = prof_write_pprof(out, &o);
		if (w == -ENOTSUP)
			fprintf(stderr, "dbg-prof: built without protobuf-c: no pprof output\n");
	} else {
		FILE *f = out ? fopen(out, "w") : stdout;
		if (!f) {
			fprintf(stderr, "dbg-prof: %s: %s\n", out, strerror(errno));
			w = -errno;
		} else {
			w = fmt == F_SVG ? prof_write_svg(f, &o)
			    : fmt == F_SPEEDSCOPE ? prof_write_speedscope(f, &o)
						  : prof_write_folded(f, &o);
			if (fflush(f) != 0 && !w)
				w = -EIO;
			if (out && fclose(f) != 0 && !w)
				w = -EIO;
		}
	}
	if (w < 0) {
		if (w != -ENOTSUP)
			fprintf(stderr, "dbg-prof: writing %s: %s\n", out ? out : "stdout", strerror(-w));
		rc = 1;
	}

	double secs = (double)st.elapsed_ns / 1e9;
	fprintf(stderr, "dbg-prof: %" PRIu64 " samples from %" PRIu64 " threads in %.2f s (%s, %s source)\n",
		st.samples, st.threads, secs, st.wall ? "wall" : "cpu", dbg_prof_source_str(st.source));
	fprintf(stderr, "dbg-prof: rate %u Hz requested, %.1f Hz achieved (%s); lost %" PRIu64
		"%s\n", st.hz, st.achieved_hz,
		st.source == DBG_PROF_SOURCE_PERF ? "samples per CPU second of the target" : "sampling rounds per second",
		st.lost, st.source == DBG_PROF_SOURCE_PERF ? " (kernel ring overflow)" : " (ticks missed)");
	double tsecs = (double)st.thread_seconds_ns / 1e9;
	fprintf(stderr, "dbg-prof: target paused %.3f ms in %" PRIu64 " stops (%s; %.2f%% of its threads' time)\n",
		(double)st.pause_ns / 1e6, st.pauses,
		st.source == DBG_PROF_SOURCE_PERF ? "ptrace clone/exec event stops only"
						  : "one thread each: stop, copy, resume",
		tsecs > 0 ? 100.0 * (double)st.pause_ns / 1e9 / tsecs : 0.0);
	fprintf(stderr, "dbg-prof: profiler CPU %.1f us/sample, %.1f ms in all (%.2f%% of one CPU over the sampling time)\n",
		st.samples ? (double)st.cpu_ns / 1e3 / (double)st.samples : 0.0, (double)st.cpu_ns / 1e6,
		secs > 0 ? 100.0 * (double)st.cpu_ns / 1e9 / secs : 0.0);
	if (st.no_stack)
		fprintf(stderr, "dbg-prof: %" PRIu64 " samples had no user stack\n", st.no_stack);
	if (st.execs)
		fprintf(stderr, "dbg-prof: the target exec'd %" PRIu64 " times\n", st.execs);
	if (st.exited) {
		if (st.exit_signal)
			fprintf(stderr, "dbg-prof: the target was killed by signal %d\n", st.exit_signal);
		else if (st.exit_status >= 0)
			fprintf(stderr, "dbg-prof: the target exited with status %d\n", st.exit_status);
		else
			fprintf(stderr, "dbg-prof: the target exited\n");
	}
	struct dbg_prof *pp = g_prof;
	g_prof = NULL;
	dbg_prof_free(pp);
	dbg_proc_detach(proc);
	return rc;
}
