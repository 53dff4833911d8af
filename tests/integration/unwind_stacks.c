/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unwinding against eu-stack, and symbols against what the inferior says.
 * For each build of tests/inferiors/stacks.c (-O0 -g; -O2
 * -fomit-frame-pointer; that stripped with separate debuginfo):
 *   - the PCs of every frame of every thread equal eu-stack's, with both
 *     backends, on the stopped target and from snapshots unwound after
 *     the target was resumed;
 *   - the frames in the inferior's own code, expanded into their inlined
 *     functions, are exactly the functions and lines it expects, with the
 *     signal trampoline and the interrupted frame flagged.
 * Usage: test_unwind_stacks [BINARY...] (default: the three builds).
 */
#include "../harness.h"

#include <inttypes.h>

#define MAX_THREADS 8
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

struct expect {
	char thread[8];
	char func[64];
	int line;
	bool inlined, activation;
};

/* The inferior's own frames of one thread, expanded into inlined
 * functions, must be exactly its expectations for that thread. */
static void check_symbols(const char *bin, struct dbg_sym *sym, const char *thread,
			  const struct dbg_frame *fr, int n, const struct expect *ex, int nex)
{
	char path[4096], real[4096];
	if (bin[0] == '/')
		snprintf(path, sizeof(path), "%s", bin);
	else
		snprintf(path, sizeof(path), "%s/%s", INFERIOR_DIR, bin);
	CHECK(realpath(path, real), "realpath %s", path);
	int k = 0;
	while (k < nex && strcmp(ex[k].thread, thread) != 0)
		k++;
	for (int i = 0; i < n; i++) {
		bool act = fr[i].flags & DBG_FRAME_ACTIVATION;
		uint64_t at = fr[i].pc - (act ? 0 : 1);
		struct dbg_module m;
		if (dbg_sym_module(sym, at, &m) < 0 || strcmp(m.path, real) != 0)
			continue;
		struct dbg_srcloc locs[8];
		int nl = dbg_sym_srclocs(sym, at, locs, 8);
		CHECK(nl >= 1 && nl <= 8, "srclocs of %#" PRIx64 " = %d", at, nl);
		for (int j = 0; j < nl; j++, k++) {
			CHECK(k < nex && strcmp(ex[k].thread, thread) == 0,
			      "%s thread %s: unexpected frame %s at %s:%d", bin, thread,
			      locs[j].function ? locs[j].function : "??",
			      locs[j].file ? locs[j].file : "??", locs[j].line);
			CHECK(locs[j].function && strcmp(locs[j].function, ex[k].func) == 0 &&
			      locs[j].line == ex[k].line && locs[j].inlined == ex[k].inlined,
			      "%s thread %s frame #%d: got %s line %d%s, expected %s line %d%s", bin, thread,
			      i, locs[j].function ? locs[j].function : "??", locs[j].line,
			      locs[j].inlined ? " inlined" : "", ex[k].func, ex[k].line,
			      ex[k].inlined ? " inlined" : "");
			CHECK(locs[j].file && strstr(locs[j].file, "stacks.c"), "%s: file %s", ex[k].func,
			      locs[j].file ? locs[j].file : "(none)");
			if (j == nl - 1) {
				CHECK(act == ex[k].activation, "%s: activation flag %d", ex[k].func, act);
				if (ex[k].activation)
					CHECK(i > 0 && (fr[i - 1].flags & DBG_FRAME_SIGNAL),
					      "the frame below %s is not flagged as the signal frame",
					      ex[k].func);
				/* The symbol table agrees with the DWARF (a
				 * stripped file has it from the debuginfo). */
				struct dbg_symbol s;
				OK(dbg_sym_lookup(sym, at, &s));
				CHECK(strncmp(s.name, ex[k].func, strlen(ex[k].func)) == 0,
				      "symbol %s for %s", s.name, ex[k].func);
			}
		}
	}
	CHECK(k == nex || strcmp(ex[k].thread, thread) != 0, "%s thread %s: frame %s missing", bin,
	      thread, k < nex ? ex[k].func : "");
}

static void run(const char *bin)
{
	struct inferior inf;
	inferior_start(&inf, bin, NULL);
	pid_t tid_inl = (pid_t)ready_field(&inf, "inl"), tid_sig = (pid_t)ready_field(&inf, "sig");
	struct expect ex[32];
	int nex = 0;
	char line[256];
	while (strcmp(inferior_line(&inf, line, sizeof(line)), "end") != 0) {
		CHECK(nex < 32, "too many expectations");
		struct expect *e = &ex[nex++];
		char flags[64] = "";
		CHECK(sscanf(line, "expect %7s %63s %d %63[a-z ]", e->thread, e->func, &e->line, flags) >= 3,
		      "bad line '%s'", line);
		e->inlined = strstr(flags, "inlined");
		e->activation = strstr(flags, "activation");
	}

	struct stack oracle[MAX_THREADS];
	int noracle = eu_stack(inf.pid, oracle, MAX_THREADS);
	CHECK(noracle == 3, "eu-stack saw %d threads", noracle);

	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	struct dbg_sym *sym;
	OK(dbg_sym_new(p, NULL, &sym));
	pid_t tids[MAX_THREADS];
	int nt = dbg_proc_threads(p, tids, MAX_THREADS);
	CHECK(nt == 3, "%d threads", nt);

	static const char *const names[] = { "libunwind", "libdw" };
	struct dbg_frame fr[MAX_FRAMES];
	struct dbg_snapshot *snaps[MAX_THREADS];
	for (int i = 0; i < nt; i++)
		OK(dbg_snapshot_take(p, tids[i], 1 << 20, &snaps[i]));
	for (int b = 0; b < 2; b++) {
		DBG_OPTS(dbg_unwind_opts, o, .backend = (enum dbg_unwind_backend)b);
		struct dbg_unwinder *u;
		OK(dbg_unwind_new(p, sym, &o, &u));
		for (int i = 0; i < nt; i++) {
			char what[256];
			snprintf(what, sizeof(what), "%s, %s, stopped", bin, names[b]);
			int n = dbg_unwind_thread(u, tids[i], fr, MAX_FRAMES);
			CHECK(n > 0, "%s: unwind thread %d = %d: %s", what, tids[i], n, dbg_proc_errmsg(p));
			same_pcs(what, tids[i], fr, n, find_stack(oracle, noracle, tids[i]));
			if (tids[i] == tid_inl)
				check_symbols(bin, sym, "inl", fr, n, ex, nex);
			if (tids[i] == tid_sig)
				check_symbols(bin, sym, "sig", fr, n, ex, nex);
		}
		dbg_unwind_free(u);
	}
	/* Snapshots, unwound while the target runs. */
	OK(dbg_proc_resume(p));
	for (int b = 0; b < 2; b++) {
		DBG_OPTS(dbg_unwind_opts, o, .backend = (enum dbg_unwind_backend)b);
		struct dbg_unwinder *u;
		OK(dbg_unwind_new(p, sym, &o, &u));
		for (int i = 0; i < nt; i++) {
			char what[256];
			snprintf(what, sizeof(what), "%s, %s, snapshot", bin, names[b]);
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
	printf("%s: %d threads match eu-stack (both backends, stopped and snapshot); "
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
