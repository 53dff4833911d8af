/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unwinding against eu-stack, and symbols against what the inferior says.
 * For each build of tests/inferiors/stacks.c (-O0 -g; -O2
 * -fomit-frame-pointer; that stripped with separate debuginfo):
 *   - the PCs of every frame of every thread equal eu-stack's, with both
 *     backends, on the stopped target and from snapshots unwound after
 *     the target was resumed;
 *   - every frame expanded into its inlined functions has the files and
 *     lines eu-stack -i -s prints (libc's through its separate, compressed
 *     debuginfo where the machine has it);
 *   - the frames in the inferior's own code, expanded into their inlined
 *     functions, are exactly the functions and lines it expects, with the
 *     signal trampoline and the interrupted frame flagged, and through
 *     code without CFI (the frame-pointer fallback).
 * Usage: test_unwind_stacks [BINARY...] (default: the three builds).
 */
#include "../stacks.h"

#define MAX_THREADS 8
#define DBG__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FRAMES 128

struct stack {
	pid_t tid;
	int n;
	uint64_t pc[MAX_FRAMES];
};

/* Run eu-stack on @pid: the oracle. */
static int eu_stack(pid_t pid, struct stack *st, int cap)
{
	char cmd[128], line[1024];
	snprintf(cmd, sizeof(cmd), "eu-stack -p %d 2>&1", pid);
	FILE *f = popen(cmd, "r");
	CHECK(f, "popen eu-stack");
	int n = -1;
	while (fgets(line, sizeof(line), f)) {
		int tid, idx;
		uint64_t pc;
		if (sscanf(line, "TID %d:", &tid) == 1) {
			CHECK(n + 1 < cap, "too many threads");
			st[++n] = (struct stack){ .tid = tid };
		} else if (n >= 0 && sscanf(line, "#%d 0x%" SCNx64, &idx, &pc) == 2) {
			CHECK(idx == st[n].n && idx < MAX_FRAMES, "eu-stack frame %d: %s", idx, line);
			st[n].pc[st[n].n++] = pc;
		}
	}
	int rc = pclose(f);
	CHECK(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) != 127, "eu-stack is not installed");
	return n + 1;
}

/* eu-stack -i -s: every frame expanded into its inlined functions, each
 * with its source line: the oracle for our symbol side. */
struct srcline {
	uint64_t pc;
	char file[160];
	int line;
};
struct srcstack {
	pid_t tid;
	int n;
	struct srcline l[MAX_FRAMES];
};

static int eu_stack_lines(pid_t pid, struct srcstack *st, int cap)
{
	char cmd[128], line[1024];
	snprintf(cmd, sizeof(cmd), "eu-stack -i -s -p %d 2>&1", pid);
	FILE *f = popen(cmd, "r");
	CHECK(f, "popen eu-stack");
	int n = -1;
	while (fgets(line, sizeof(line), f)) {
		int tid, idx, ln, col;
		uint64_t pc;
		char file[160];
		if (sscanf(line, "TID %d:", &tid) == 1) {
			CHECK(n + 1 < cap, "too many threads");
			st[++n] = (struct srcstack){ .tid = tid };
		} else if (n >= 0 && sscanf(line, "#%d 0x%" SCNx64, &idx, &pc) == 2) {
			CHECK(st[n].n < MAX_FRAMES, "too many frames");
			st[n].l[st[n].n++] = (struct srcline){ .pc = pc };
		} else if (n >= 0 && st[n].n > 0 && sscanf(line, " %159[^:]:%d:%d", file, &ln, &col) >= 2) {
			struct srcline *l = &st[n].l[st[n].n - 1];
			snprintf(l->file, sizeof(l->file), "%s", file);
			l->line = ln;
		}
	}
	pclose(f);
	return n + 1;
}

/* Our frames, expanded with dbg_sym_srclocs(), against eu-stack -i -s:
 * the same pcs, files and lines, inlined functions included. */
static void same_lines(struct dbg_sym *sym, pid_t tid, const struct dbg_frame *fr, int n,
		       const struct srcstack *o)
{
	CHECK(o, "eu-stack -i -s has no thread %d", tid);
	int k = 0;
	for (int i = 0; i < n; i++) {
		uint64_t at = fr[i].pc - ((fr[i].flags & DBG_FRAME_ACTIVATION) ? 0 : 1);
		struct dbg_srcloc locs[8];
		int nl = dbg_sym_srclocs(sym, at, locs, 8);
		if (nl == -ENOENT)
			nl = 0; /* no module: eu-stack prints the frame alone */
		CHECK(nl >= 0 && nl <= 8, "srclocs = %d", nl);
		for (int j = 0; j < (nl ? nl : 1); j++, k++) {
			const char *file = nl && locs[j].file ? locs[j].file : "";
			int line = nl && locs[j].file ? locs[j].line : 0;
			CHECK(k < o->n, "thread %d: more source lines than eu-stack -i -s", tid);
			CHECK(o->l[k].pc == fr[i].pc && strcmp(o->l[k].file, file) == 0 && o->l[k].line == line,
			      "thread %d line #%d: ours %#" PRIx64 " %s:%d, eu-stack -i -s %#" PRIx64 " %s:%d", tid,
			      k, fr[i].pc, file, line, o->l[k].pc, o->l[k].file, o->l[k].line);
		}
	}
	CHECK(k == o->n, "thread %d: %d source lines, eu-stack -i -s %d", tid, k, o->n);
}

static const struct stack *find_stack(const struct stack *st, int n, pid_t tid)
{
	for (int i = 0; i < n; i++)
		if (st[i].tid == tid)
			return &st[i];
	return NULL;
}

static void same_pcs(const char *what, pid_t tid, const struct dbg_frame *fr, int n,
		     const struct stack *oracle)
{
	CHECK(oracle, "%s: eu-stack has no thread %d", what, tid);
	bool same = n == oracle->n;
	for (int i = 0; same && i < n; i++)
		same = fr[i].pc == oracle->pc[i];
	if (!same) {
		fprintf(stderr, "%s, thread %d: %d frames, eu-stack %d\n", what, tid, n, oracle->n);
		for (int i = 0; i < n || i < oracle->n; i++)
			fprintf(stderr, "  #%-2d ours %#18" PRIx64 "  eu-stack %#18" PRIx64 "\n", i,
				i < n ? fr[i].pc : 0, i < oracle->n ? oracle->pc[i] : 0);
	}
	CHECK(same, "%s: thread %d differs from eu-stack", what, tid);
}

static void run(const char *bin)
{
	struct inferior inf;
	inferior_start(&inf, bin, NULL);
	pid_t tid_inl = (pid_t)ready_field(&inf, "inl"), tid_sig = (pid_t)ready_field(&inf, "sig");
	pid_t tid_fp = (pid_t)ready_field(&inf, "fp");
	struct expect ex[32];
	int nex = read_expectations(&inf, ex, 32);
	char path[4096], real[4096];
	snprintf(path, sizeof(path), "%s/%s", INFERIOR_DIR, bin);
	CHECK(realpath(path, real), "realpath %s", path);

	wait_parked(inf.pid);
	struct stack oracle[MAX_THREADS];
	int noracle = eu_stack(inf.pid, oracle, MAX_THREADS);
	CHECK(noracle == 4, "eu-stack saw %d threads", noracle);
	static struct srcstack lines[MAX_THREADS];
	CHECK(eu_stack_lines(inf.pid, lines, MAX_THREADS) == 4, "eu-stack -i -s threads");

	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	struct dbg_sym *sym;
	OK(dbg_sym_new(p, NULL, &sym));
	pid_t tids[MAX_THREADS];
	int nt = dbg_proc_threads(p, tids, MAX_THREADS);
	CHECK(nt == 4, "%d threads", nt);

	/* Each backend alone, and each behind the compiled-rule fast path
	 * (the default), which leaves signal frames and code without CFI to
	 * the backend. */
	static const struct {
		const char *name;
		enum dbg_unwind_backend backend;
		unsigned int flags;
	} cfg[] = {
		{ "libunwind+rules", DBG_UNWIND_LIBUNWIND, 0 },
		{ "libdw+rules", DBG_UNWIND_LIBDW, 0 },
		{ "libunwind", DBG_UNWIND_LIBUNWIND, DBG_UNWIND_BACKEND_ONLY },
		{ "libdw", DBG_UNWIND_LIBDW, DBG_UNWIND_BACKEND_ONLY },
	};
	struct dbg_frame fr[MAX_FRAMES];
	/* Snapshots of all threads at once, taken twice into the same array:
	 * the second refills the first's memory in place. */
	struct dbg_snapshot *snaps[MAX_THREADS] = { 0 };
	CHECK(dbg_snapshot_take_threads(p, tids, nt, 1 << 20, snaps) == nt, "snapshots");
	const void *first = snaps[0];
	CHECK(dbg_snapshot_take_threads(p, tids, nt, 1 << 20, snaps) == nt, "snapshots again");
	CHECK(snaps[0] == first, "the second snapshot did not reuse the first");
	struct dbg_snapshot *single;
	OK(dbg_snapshot_take(p, tids[0], 1 << 20, &single));
	CHECK(dbg_snapshot_stack_size(single) == dbg_snapshot_stack_size(snaps[0]), "one vs all");
	dbg_snapshot_free(single);
	for (size_t b = 0; b < DBG__ARRAY_SIZE(cfg); b++) {
		DBG_OPTS(dbg_unwind_opts, o, .backend = cfg[b].backend, .flags = cfg[b].flags);
		struct dbg_unwinder *u;
		OK(dbg_unwind_new(p, sym, &o, &u));
		for (int i = 0; i < nt; i++) {
			char what[256];
			snprintf(what, sizeof(what), "%s, %s, stopped", bin, cfg[b].name);
			int n = dbg_unwind_thread(u, tids[i], fr, MAX_FRAMES);
			CHECK(n > 0, "%s: unwind thread %d = %d: %s", what, tids[i], n, dbg_proc_errmsg(p));
			same_pcs(what, tids[i], fr, n, find_stack(oracle, noracle, tids[i]));
			if (b == 0)
				for (int t = 0; t < 4; t++)
					if (lines[t].tid == tids[i])
						same_lines(sym, tids[i], fr, n, &lines[t]);
			if (tids[i] == tid_inl)
				check_symbols(real, sym, "inl", fr, n, ex, nex);
			if (tids[i] == tid_sig)
				check_symbols(real, sym, "sig", fr, n, ex, nex);
			if (tids[i] == tid_fp)
				check_symbols(real, sym, "fp", fr, n, ex, nex);
		}
		dbg_unwind_free(u);
	}
	/* Snapshots, unwound while the target runs. */
	OK(dbg_proc_resume(p));
	for (size_t b = 0; b < DBG__ARRAY_SIZE(cfg); b++) {
		DBG_OPTS(dbg_unwind_opts, o, .backend = cfg[b].backend, .flags = cfg[b].flags);
		struct dbg_unwinder *u;
		OK(dbg_unwind_new(p, sym, &o, &u));
		for (int i = 0; i < nt; i++) {
			char what[256];
			snprintf(what, sizeof(what), "%s, %s, snapshot", bin, cfg[b].name);
			int n = dbg_unwind_snapshot(u, snaps[i], fr, MAX_FRAMES);
			OK(n);
			same_pcs(what, tids[i], fr, n, find_stack(oracle, noracle, tids[i]));
		}
		dbg_unwind_free(u);
	}
	for (int i = 0; i < nt; i++)
		dbg_snapshot_free(snaps[i]);
	dbg_sym_free(sym);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("%s: %d threads match eu-stack (both backends, with and without compiled rules, "
	       "stopped and snapshot); "
	       "%d expected frames found\n", bin, nt, nex);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run(argv[i]);
		return 0;
	}
	run("stacks_O0");
	run("stacks_O2");
	run("stacks_stripped");
	return 0;
}
