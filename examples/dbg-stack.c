/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg-stack: print the stack of every thread of a running process, like
 * pstack or eu-stack, symbolized with functions, inlined functions and
 * source lines. Text by default, JSON with --json.
 *
 * Two ways to stop the target:
 *   (default)   keep every thread stopped while it is unwound;
 *   --snapshot  copy each thread's registers and stack, let the target
 *               run again, then unwind the copies.
 *
 * Exit status: 0 stacks printed; 1 usage; 2 no such process; 3 not
 * allowed to trace it (the reason is printed); 4 the target exited while
 * we worked; 5 any other error; 6 not an x86_64 process (i386, x32).
 */
#define _GNU_SOURCE
#include <dbg.h>

#include "proc-names.h"
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* -n 0 ("no limit") means this many; --stack-max's bounds (the library
 * needs 8 bytes; 1 GiB is more than any thread's stack VMA). */
#define MAX_FRAMES (1u << 20)
#define PF_KTHREAD 0x00200000 /* include/linux/sched.h: a kernel thread */
#define MIN_STACK 8u
#define MAX_STACK (1u << 30)

enum { EXIT_USAGE = 1, EXIT_NOPROC = 2, EXIT_PERM = 3, EXIT_GONE = 4, EXIT_OTHER = 5, EXIT_ARCH = 6 };

struct opts {
	bool json, snapshot, no_symbols, timing, raw_names;
	enum dbg_unwind_backend backend;
	unsigned int unwind_flags; /* enum dbg_unwind_flags */
	unsigned int sym_flags;    /* enum dbg_sym_flags */
	size_t max_frames;
	size_t stack_max;
	pid_t *tids;
	size_t ntids;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dbg-stack [options] PID\n"
		"  -j, --json             JSON instead of text\n"
		"  -n, --max-frames N     at most N frames per thread (default 256; 0: no limit, 1048576)\n"
		"  -t, --thread TID       only this thread (may be repeated)\n"
		"  -s, --snapshot         copy registers and stacks, resume, then unwind\n"
		"      --stack-max BYTES  stack copied per thread in --snapshot (default 1 MiB; 8 to 1 GiB)\n"
		"  -b, --backend NAME     libunwind (default) or libdw\n"
		"  -a, --addresses        frames without symbols or lines\n"
		"      --names-only       symbol names only: no DWARF, so no lines or inlined functions\n"
		"      --raw-names        symbol names as in the symbol table (no demangling)\n"
		"      --no-rules         every frame through the backend (no compiled CFI rules)\n"
		"      --no-cache         do not use or fill the persistent debuginfo cache\n"
		"      --timing           print how long the target was stopped (stderr)\n"
		"  -h, --help\n");
}

/* The length of the valid UTF-8 sequence at @s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned int cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* @s as a JSON string. Names come from the target (thread names, paths,
 * symbols) and may hold any byte: control characters and DEL are escaped
 * (\u00XX), every byte that is not part of valid UTF-8 becomes U+FFFD, so
 * the output is always valid UTF-8 and valid JSON. */
static void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_len(p);
		if (n == 0) {
			fputs("\\ufffd", f);
			p++;
		} else if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
	fputc('"', f);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* libdbg never prints; its error messages come here, so that a failed
 * attach can say why (Yama, capabilities, another tracer). */
static char last_error[512];
static void log_fn(enum dbg_log_level lvl, const char *msg, void *ctx)
{
	(void)ctx;
	if (lvl == DBG_LOG_ERROR)
		snprintf(last_error, sizeof(last_error), "%s", msg);
}

#define MAX_LOCS 16

/* A printable name: @name demangled (C++, Rust) unless --raw-names, or
 * as it is when it is not a mangled name. Valid until the next call with
 * the same @slot (a frame prints a symbol and up to MAX_LOCS functions). */
static const char *pretty(const struct opts *o, const char *name, int slot)
{
	static char *bufs[MAX_LOCS + 1];
	static size_t caps[MAX_LOCS + 1];
	if (!name || o->raw_names || slot < 0 || slot > MAX_LOCS)
		return name;
	int n = dbg_sym_demangle(name, bufs[slot], caps[slot]);
	if (n >= 0 && (size_t)n >= caps[slot]) {
		char *b = realloc(bufs[slot], (size_t)n + 1);
		if (!b)
			return name;
		bufs[slot] = b;
		caps[slot] = (size_t)n + 1;
		n = dbg_sym_demangle(name, bufs[slot], caps[slot]);
	}
	return n >= 0 && (size_t)n < caps[slot] ? bufs[slot] : name;
}

static void print_frame(FILE *f, const struct opts *o, struct dbg_sym *sym, int idx,
			const struct dbg_frame *fr)
{
	/* A return address points after the call: look up the call. */
	uint64_t at = fr->pc - ((fr->flags & DBG_FRAME_ACTIVATION) ? 0 : 1);
	struct dbg_module mod;
	bool have_mod = !o->no_symbols && dbg_sym_module(sym, at, &mod) == 0;
	struct dbg_symbol s;
	bool have_sym = have_mod && dbg_sym_lookup(sym, at, &s) == 0;
	uint64_t off = have_sym ? fr->pc - s.addr : 0;
	const char *sname = have_sym ? pretty(o, s.name, MAX_LOCS) : NULL;
	struct dbg_srcloc locs[MAX_LOCS];
	int nlocs = have_mod ? dbg_sym_srclocs(sym, at, locs, MAX_LOCS) : 0;
	if (nlocs > MAX_LOCS)
		nlocs = MAX_LOCS;
	if (nlocs < 0)
		nlocs = 0;
	for (int i = 0; i < nlocs; i++)
		locs[i].function = pretty(o, locs[i].function, i);

	if (o->json) {
		fprintf(f, "%s{\"pc\":\"0x%" PRIx64 "\",\"sp\":\"0x%" PRIx64 "\"", idx ? "," : "",
			fr->pc, fr->sp);
		if (fr->flags & DBG_FRAME_SIGNAL)
			fputs(",\"signal_frame\":true", f);
		if (have_mod) {
			fputs(",\"module\":", f);
			json_str(f, mod.path);
		}
		if (have_sym) {
			fputs(",\"symbol\":", f);
			json_str(f, sname);
			fprintf(f, ",\"offset\":%" PRIu64, off);
		}
		fputs(",\"locations\":[", f);
		for (int i = 0; i < nlocs; i++) {
			fputs(i ? ",{\"function\":" : "{\"function\":", f);
			json_str(f, locs[i].function);
			fputs(",\"file\":", f);
			json_str(f, locs[i].file);
			fprintf(f, ",\"line\":%d,\"inlined\":%s}", locs[i].line,
				locs[i].inlined ? "true" : "false");
		}
		fputs("]}", f);
		return;
	}

	fprintf(f, "#%-3d 0x%016" PRIx64, idx, fr->pc);
	if (!have_mod) {
		fputs(fr->flags & DBG_FRAME_SIGNAL ? " <signal handler called>\n" : "\n", f);
		return;
	}
	/* The innermost inlined function first, each on its own line, the
	 * function holding the code last, by its symbol's name (as eu-stack
	 * prints it: a clone such as "f(int) [clone .cold]" is not its
	 * DWARF function "f") and offset. */
	for (int i = 0; i < nlocs; i++) {
		const struct dbg_srcloc *l = &locs[i];
		const char *fn = l->function ? l->function : have_sym ? sname : "??";
		if (i > 0)
			fputs("                          ", f);
		if (l->inlined)
			fprintf(f, " %s (inlined)", fn);
		else if (have_sym)
			fprintf(f, " %s+0x%" PRIx64, sname, off);
		else
			fprintf(f, " %s", fn);
		fprintf(f, " in %s", base(mod.path));
		if (l->file)
			fprintf(f, " at %s:%d", l->file, l->line);
		fputc('\n', f);
	}
	if (nlocs == 0)
		fprintf(f, " ?? in %s\n", base(mod.path));
	if (fr->flags & DBG_FRAME_SIGNAL)
		fputs("     <signal handler called>\n", f);
}

/* Keep the frames an unwind left in @scratch: @n, or its error. The
 * unwind was asked for @max + 1 frames, so that more than @max says the
 * stack goes on past the limit; otherwise the unwinder says why it ended. */
static int keep(struct dbg_frame **ret, size_t *ret_n, enum dbg_unwind_end *ret_end,
		const struct dbg_unwinder *u, const struct dbg_frame *scratch, int n, size_t max)
{
	if (n < 0)
		return n;
	*ret_end = (size_t)n > max ? DBG_UNWIND_END_CAP : dbg_unwind_last_end(u);
	if ((size_t)n > max)
		n = (int)max;
	*ret = malloc((n ? n : 1) * sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, scratch, n * sizeof(**ret));
	*ret_n = n;
	return 0;
}

/* The JSON "end" of a stack (doc/unwinding.md lists them). */
static const char *end_name(enum dbg_unwind_end e)
{
	switch (e) {
	case DBG_UNWIND_END_OUTERMOST: return "outermost";
	case DBG_UNWIND_END_CAP: return "frame-limit";
	case DBG_UNWIND_END_NO_CFI: return "no-cfi";
	case DBG_UNWIND_END_NO_MODULE: return "no-module";
	case DBG_UNWIND_END_READ: return "read";
	case DBG_UNWIND_END_BAD_FRAME: return "bad-frame";
	case DBG_UNWIND_END_OTHER: return "other";
	}
	return "other";
}

/* Why a stack ended, in words: after its frames in text (only when it
 * did not end at the outermost frame), as "end_text" in JSON. */
static void end_text(char *buf, size_t len, const struct opts *o, enum dbg_unwind_end e)
{
	if (e == DBG_UNWIND_END_CAP)
		snprintf(buf, len, "stack cut at %zu frames (-n N; -n 0: no limit)", o->max_frames);
	else if (e == DBG_UNWIND_END_READ && o->snapshot)
		snprintf(buf, len, "the snapshot's copy of the stack ended (--stack-max %zu bytes)",
			 o->stack_max);
	else
		snprintf(buf, len, "%s", dbg_unwind_end_str(e));
}

/* A process with no user stack to print: a kernel thread, or a zombie
 * (every thread exited; a zombie leader with live threads is fine). Says
 * so and returns the exit status, or returns 0. */
static int check_target(pid_t pid)
{
	char state, comm[64];
	unsigned long flags;
	if (task_stat(pid, 0, &state, &flags) < 0)
		return 0; /* gone, or no /proc: attaching says which */
	thread_name(pid, pid, comm, sizeof(comm));
	if (flags & PF_KTHREAD) {
		fprintf(stderr, "dbg-stack: %d (%s) is a kernel thread, it has no user stack\n", pid,
			printable(comm));
		return EXIT_OTHER;
	}
	if ((state == 'Z' || state == 'X') && !any_live_thread(pid)) {
		fprintf(stderr, "dbg-stack: process %d (%s) is a zombie: it exited, its parent has not "
			"reaped it yet\n", pid, printable(comm));
		return EXIT_NOPROC;
	}
	return 0;
}

static int exit_code(int err)
{
	switch (err) {
	case -ESRCH: return EXIT_GONE;
	case -EPERM: return EXIT_PERM;
	case -DBG_ERRNO_ARCH: return EXIT_ARCH;
	default: return EXIT_OTHER;
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .max_frames = 256, .stack_max = 1 << 20 };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "max-frames", required_argument, NULL, 'n' },
		{ "thread", required_argument, NULL, 't' },
		{ "snapshot", no_argument, NULL, 's' },
		{ "stack-max", required_argument, NULL, 'S' },
		{ "backend", required_argument, NULL, 'b' },
		{ "addresses", no_argument, NULL, 'a' },
		{ "timing", no_argument, NULL, 'T' },
		{ "names-only", no_argument, NULL, 'N' },
		{ "raw-names", no_argument, NULL, 'R' },
		{ "no-rules", no_argument, NULL, 'U' },
		{ "no-cache", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "jn:t:sb:ah", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'j': o.json = true; break;
		case 's': o.snapshot = true; break;
		case 'a': o.no_symbols = true; break;
		case 'T': o.timing = true; break;
		case 'N': o.sym_flags |= DBG_SYM_NO_DWARF; break;
		case 'C': o.sym_flags |= DBG_SYM_NO_CACHE; break;
		case 'R': o.raw_names = true; break;
		case 'U': o.unwind_flags |= DBG_UNWIND_BACKEND_ONLY; break;
		case 'n':
		case 'S': {
			/* strtoull takes "-1" as ULLONG_MAX: digits only. */
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 0);
			if (*end || !*optarg || *optarg < '0' || *optarg > '9' || errno) {
				fprintf(stderr, "dbg-stack: bad number '%s' for %s\n", optarg,
					c == 'n' ? "--max-frames" : "--stack-max");
				return EXIT_USAGE;
			}
			if (c == 'n' && v > MAX_FRAMES) {
				fprintf(stderr, "dbg-stack: --max-frames %s: at most %u frames (0: no limit)\n",
					optarg, MAX_FRAMES);
				return EXIT_USAGE;
			}
			if (c == 'S' && (v < MIN_STACK || v > MAX_STACK)) {
				fprintf(stderr, "dbg-stack: --stack-max %s: must be from %u bytes to %u GiB\n", optarg,
					MIN_STACK, MAX_STACK >> 30);
				return EXIT_USAGE;
			}
			if (c == 'n')
				o.max_frames = v ? v : MAX_FRAMES;
			else
				o.stack_max = v;
			break;
		}
		case 't': {
			long v = strtol(optarg, &end, 10);
			pid_t *n = realloc(o.tids, (o.ntids + 1) * sizeof(*n));
			if (*end || v <= 0 || !n) {
				fprintf(stderr, "dbg-stack: bad thread id '%s'\n", optarg);
				free(n ? n : o.tids);
				return EXIT_USAGE;
			}
			o.tids = n;
			o.tids[o.ntids++] = (pid_t)v;
			break;
		}
		case 'b':
			if (strcmp(optarg, "libunwind") == 0)
				o.backend = DBG_UNWIND_LIBUNWIND;
			else if (strcmp(optarg, "libdw") == 0)
				o.backend = DBG_UNWIND_LIBDW;
			else {
				fprintf(stderr, "dbg-stack: unknown backend '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	char *end;
	long lpid = strtol(argv[optind], &end, 10);
	if (*end || lpid <= 0) {
		fprintf(stderr, "dbg-stack: bad pid '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	pid_t pid = (pid_t)lpid;

	/* What ptrace would only answer with EPERM or ESRCH. */
	int rc = check_target(pid);
	if (rc)
		return rc;

	double t0 = now_us();
	struct dbg_proc *proc;
	DBG_OPTS(dbg_attach_opts, aopts, .log_fn = log_fn);
	int r = dbg_proc_attach(pid, &aopts, &proc);
	if (r < 0) {
		/* It may have become a zombie since the check. */
		if ((r == -ESRCH || r == -EPERM) && (rc = check_target(pid)))
			return rc;
		if (r == -ESRCH) {
			fprintf(stderr, "dbg-stack: no process %d\n", pid);
			return EXIT_NOPROC;
		}
		if (last_error[0])
			fprintf(stderr, "dbg-stack: %s\n", last_error);
		else
			fprintf(stderr, "dbg-stack: cannot attach to %d: %s\n", pid, dbg_strerror(r));
		return exit_code(r);
	}
	double t_stopped = now_us();
	int status = 0;
	struct dbg_sym *sym = NULL;
	struct dbg_unwinder *u = NULL;
	struct dbg_snapshot **snaps = NULL;
	struct dbg_frame *frames = NULL, **stacks = NULL;
	size_t *nframes = NULL;
	enum dbg_unwind_end *ends = NULL;
	pid_t *tids = NULL;
	int ntids = dbg_proc_threads(proc, NULL, 0);
	if (ntids > 0 && (tids = calloc(ntids, sizeof(*tids))))
		ntids = dbg_proc_threads(proc, tids, ntids);
	if (ntids <= 0 || !tids) {
		r = ntids < 0 ? ntids : -ENOMEM;
		goto fail;
	}
	for (size_t k = 0; k < o.ntids; k++) {
		bool found = false;
		for (int i = 0; i < ntids; i++)
			found |= tids[i] == o.tids[k];
		if (!found) {
			fprintf(stderr, "dbg-stack: no thread %d in process %d\n", o.tids[k], pid);
			status = EXIT_NOPROC;
			goto out;
		}
	}
	/* Phase 1, target stopped: registers and a stack copy per thread
	 * (--snapshot), or the whole unwind. */
	bool *wanted = calloc(ntids, sizeof(*wanted));
	nframes = calloc(ntids, sizeof(*nframes));
	stacks = calloc(ntids, sizeof(*stacks));
	frames = calloc(o.max_frames + 1, sizeof(*frames));
	ends = calloc(ntids, sizeof(*ends));
	snaps = calloc(ntids, sizeof(*snaps));
	if (!wanted || !nframes || !stacks || !frames || !snaps || !ends) {
		free(wanted);
		r = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < ntids; i++) {
		wanted[i] = o.ntids == 0;
		for (size_t k = 0; k < o.ntids; k++)
			wanted[i] |= o.tids[k] == tids[i];
	}
	DBG_OPTS(dbg_unwind_opts, uopts, .backend = o.backend, .flags = o.unwind_flags);
	/* Compressed debuginfo (libc's) is inflated on every CPU. */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	DBG_OPTS(dbg_sym_opts, sopts, .threads = ncpu > 1 ? (unsigned int)ncpu : 1,
		 .flags = o.sym_flags);
	if (!o.snapshot &&
	    ((r = dbg_sym_new(proc, &sopts, &sym)) < 0 || (r = dbg_unwind_new(proc, sym, &uopts, &u)) < 0))
		goto fail_wanted;
	if (o.snapshot) {
		/* Every thread in one call (unwanted ones are freed unused). */
		r = dbg_snapshot_take_threads(proc, tids, ntids, o.stack_max, snaps);
		if (r < 0)
			goto fail_wanted;
		for (int i = 0; i < ntids; i++)
			if (wanted[i] && !snaps[i]) {
				r = -ESRCH;
				goto fail_wanted;
			}
	} else {
		for (int i = 0; i < ntids; i++)
			if (wanted[i] &&
			    (r = keep(&stacks[i], &nframes[i], &ends[i], u, frames,
				      dbg_unwind_thread(u, tids[i], frames, o.max_frames + 1), o.max_frames)) < 0)
				goto fail_wanted;
	}
	/* Phase 2: the target runs again; unwind the copies, then read
	 * symbols and lines, which may take a while the first time. */
	if ((r = dbg_proc_resume(proc)) < 0)
		goto fail_wanted;
	double t_resumed = now_us();
	if (o.snapshot) {
		if ((r = dbg_sym_new(proc, &sopts, &sym)) < 0 || (r = dbg_unwind_new(proc, sym, &uopts, &u)) < 0)
			goto fail_wanted;
		for (int i = 0; i < ntids; i++)
			if (wanted[i] &&
			    (r = keep(&stacks[i], &nframes[i], &ends[i], u, frames,
				      dbg_unwind_snapshot(u, snaps[i], frames, o.max_frames + 1), o.max_frames)) < 0)
				goto fail_wanted;
	}
	FILE *f = stdout;
	if (o.json)
		fprintf(f, "{\"pid\":%d,\"threads\":[", pid);
	bool first = true;
	for (int i = 0; i < ntids; i++) {
		if (!wanted[i])
			continue;
		char name[64];
		thread_name(pid, tids[i], name, sizeof(name));
		if (o.json) {
			fprintf(f, "%s{\"tid\":%d,\"name\":", first ? "" : ",", tids[i]);
			json_str(f, name);
			fputs(",\"frames\":[", f);
		} else {
			fprintf(f, "%sTID %d (%s):\n", first ? "" : "\n", tids[i], printable(name));
		}
		for (size_t k = 0; k < nframes[i]; k++)
			print_frame(f, &o, sym, (int)k, &stacks[i][k]);
		char why[160];
		end_text(why, sizeof(why), &o, ends[i]);
		if (o.json) {
			fprintf(f, "],\"end\":\"%s\",\"end_text\":", end_name(ends[i]));
			json_str(f, why);
			fputc('}', f);
		} else if (ends[i] != DBG_UNWIND_END_OUTERMOST) {
			fprintf(f, "-- %s\n", why);
		}
		first = false;
	}
	if (o.json)
		fputs("]}\n", f);
	free(wanted);
	if (o.timing)
		fprintf(stderr, "dbg-stack: %d threads; attach+stop %.0f us; stopped %.0f us (%.1f us/thread); "
			"then unwinding, symbols and output %.0f us\n", ntids, t_stopped - t0,
			t_resumed - t_stopped, (t_resumed - t_stopped) / ntids, now_us() - t_resumed);
	goto out;
fail_wanted:
	free(wanted);
fail:
	if (r == -ESRCH || r == -ECHILD)
		fprintf(stderr, "dbg-stack: process %d exited while it was examined\n", pid);
	else
		fprintf(stderr, "dbg-stack: %s: %s\n", dbg_proc_errmsg(proc)[0] ? dbg_proc_errmsg(proc) : "error",
			dbg_strerror(r));
	status = exit_code(r);
out:
#ifndef __SANITIZE_ADDRESS__
	/* About to exit: the kernel takes the whole address space back at
	 * once, where freeing libdw's trees node by node was ~4% of a run.
	 * And it detaches every tracee when the tracer exits (exit_ptrace():
	 * running threads run on, a group-stopped one stays stopped, a
	 * pending signal is delivered), where dbg_proc_detach() must stop
	 * every thread again to PTRACE_DETACH it: a second pause of the
	 * target, and a fifth of the time with 1,000 threads. Nothing here
	 * changed the target (no registers, memory or breakpoints written),
	 * so there is nothing to undo. The ASan build takes the library's
	 * path, so its leak check keeps covering the frees and the detach. */
	return status;
#endif
	for (int i = 0; i < ntids; i++) {
		if (snaps)
			dbg_snapshot_free(snaps[i]);
		if (stacks)
			free(stacks[i]);
	}
	free(snaps);
	free(stacks);
	free(nframes);
	free(ends);
	free(frames);
	free(tids);
	free(o.tids);
	dbg_unwind_free(u);
	dbg_sym_free(sym);
	dbg_proc_detach(proc);
	return status;
}
