/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stacks of real programs against eu-stack, in every mode.
 *
 * The corpus (tests/corpus, built here by its build.sh) is Go, Rust, C++
 * with exceptions, gcc -static, busybox, C whose CFI is only in
 * .debug_frame, thread churn, 1,000 threads, a zombie leader, python3 and
 * node. Each program is started, held still with SIGSTOP (a group-stop:
 * nothing runs between the oracle and us), and eu-stack is run on it;
 * then we attach and, for libunwind and libdw, each with and without the
 * compiled rules, unwind every thread stopped, and from snapshots after
 * the target was resumed. Every thread's PCs must be eu-stack's, frame by
 * frame; the names of the frames (first mode) eu-stack's.
 *
 * Where eu-stack is not the truth, the difference is allowed explicitly,
 * never silently, and counted in the summary line:
 *   - a thread caught right after clone/clone3, before its first
 *     instruction: it has no caller, our stack ends there (outermost);
 *     libdw follows the frame pointer it inherited from the parent into
 *     the new thread's struct pthread and prints one frame more.
 *   - the parent in the same gap after the syscall, which no FDE
 *     covers: eu-stack stops there or guesses one frame more; ours
 *     takes the row before the syscall and goes on to the outermost
 *     frame (tests/integration/unwind_clone.c checks that stack).
 *   - node: eu-stack stops at the first JIT frame (no module) or goes on
 *     with frame pointers; the frames up to the first pc in no module
 *     are compared, beyond it only that both go on.
 * Program-specific checks make the issue 9 items fail on their own:
 * Go's frameless leaf, futex sleep and stacks down to runtime.clone
 * (item 1), the 9-frame stack of the
 * .debug_frame-only C program (item 2), static and busybox stacks longer
 * than one frame (item 3), no stack of one repeated address (item 4).
 *
 * Usage: test_real_stacks [PROGRAM...] (default: the whole corpus).
 */
#include "../harness.h"

#include <inttypes.h>
#include <sys/stat.h>

#define MAX_FRAMES 512
#define DBG__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_THREADS 1100

struct ostack {
	pid_t tid;
	int n;
	uint64_t pc[MAX_FRAMES];
	char *name[MAX_FRAMES]; /* NULL: eu-stack printed none */
};

static struct ostack *oracle;
static int noracle;
static int tolerated_clone, tolerated_gap, tolerated_jit;

static void free_oracle(void)
{
	for (int i = 0; i < noracle; i++)
		for (int j = 0; j < oracle[i].n; j++)
			free(oracle[i].name[j]);
	noracle = 0;
}

/* eu-stack -p PID: PCs and (demangled) names of every thread. */
static void eu_stack(pid_t pid)
{
	char cmd[128], line[4096];
	snprintf(cmd, sizeof(cmd), "eu-stack -n %d -p %d 2>/dev/null", MAX_FRAMES, pid);
	FILE *f = popen(cmd, "r");
	CHECK(f, "popen eu-stack");
	free_oracle();
	int n = -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		int tid, idx, off = 0;
		uint64_t pc;
		if (sscanf(line, "TID %d:", &tid) == 1) {
			CHECK(n + 1 < MAX_THREADS, "too many threads");
			n++;
			oracle[n].tid = tid;
			oracle[n].n = 0;
			noracle = n + 1;
		} else if (n >= 0 && sscanf(line, "#%d 0x%" SCNx64 "%n", &idx, &pc, &off) == 2) {
			struct ostack *o = &oracle[n];
			CHECK(idx == o->n && idx < MAX_FRAMES, "eu-stack frame %d: %s", idx, line);
			const char *nm = line + off;
			while (*nm == ' ')
				nm++;
			o->pc[o->n] = pc;
			o->name[o->n++] = *nm ? strdup(nm) : NULL;
		}
	}
	int rc = pclose(f);
	CHECK(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) != 127, "eu-stack is not installed");
}

static const struct ostack *find_oracle(pid_t tid)
{
	for (int i = 0; i < noracle; i++)
		if (oracle[i].tid == tid)
			return &oracle[i];
	return NULL;
}

/* Hold @pid still: SIGSTOP, then wait until every live thread is in the
 * group-stop. */
static void hold_still(pid_t pid)
{
	CHECK(kill(pid, SIGSTOP) == 0, "SIGSTOP %d", pid);
	static pid_t tids[MAX_THREADS];
	for (int tries = 0; tries < 10000; tries++) {
		int n = list_tids(pid, tids, MAX_THREADS), still = 0, dead = 0;
		for (int i = 0; i < n; i++) {
			char s = thread_state(pid, tids[i]);
			still += s == 'T' || s == 't';
			dead += s == 'Z' || s == 'X' || s == 0;
		}
		if (n > 0 && still + dead == n && still > 0)
			return;
		sleep_ms(1);
	}
	CHECK(0, "%d did not stop", pid);
}

/* Whether the frame at @pc is in no module (JIT code, or garbage). */
static bool in_no_module(struct dbg_sym *sym, uint64_t pc)
{
	struct dbg_module m;
	return dbg_sym_module(sym, pc, &m) < 0;
}

/* A thread right after the syscall of clone/clone3: 1 the child before
 * its first instruction (the return value 0 in rax), 2 the parent, 0
 * neither. */
static int after_clone(struct dbg_proc *p, pid_t tid)
{
	struct dbg_regs r;
	uint8_t code[2];
	if (dbg_regs_get(p, tid, &r) < 0 || (r.orig_rax != 56 && r.orig_rax != 435) ||
	    dbg_mem_read(p, r.rip - 2, code, 2) != 2 || code[0] != 0x0f || code[1] != 0x05)
		return 0;
	return r.rax == 0 ? 1 : 2;
}

struct mode {
	const char *name;
	enum dbg_unwind_backend backend;
	unsigned int flags;
};
static const struct mode modes[] = {
	{ "libunwind+rules", DBG_UNWIND_LIBUNWIND, 0 },
	{ "libdw+rules", DBG_UNWIND_LIBDW, 0 },
	{ "libunwind", DBG_UNWIND_LIBUNWIND, DBG_UNWIND_BACKEND_ONLY },
	{ "libdw", DBG_UNWIND_LIBDW, DBG_UNWIND_BACKEND_ONLY },
};

static void dump(const char *what, pid_t tid, const struct dbg_frame *fr, int n,
		 const struct ostack *o)
{
	fprintf(stderr, "%s, thread %d: %d frames, eu-stack %d\n", what, tid, n, o ? o->n : -1);
	for (int i = 0; i < n || (o && i < o->n); i++)
		fprintf(stderr, "  #%-3d ours %#18" PRIx64 " sp %#14" PRIx64 "  eu-stack %#18" PRIx64 " %s\n",
			i, i < n ? fr[i].pc : 0, i < n ? fr[i].sp : 0, o && i < o->n ? o->pc[i] : 0,
			o && i < o->n && o->name[i] ? o->name[i] : "");
}

/* Our frames against eu-stack's, PC by PC; the allowed differences are
 * the ones the header lists, each counted. */
static void same_pcs(const char *what, bool jit, int child, struct dbg_sym *sym, pid_t tid,
		     const struct dbg_frame *fr, int n, enum dbg_unwind_end end,
		     const struct ostack *o)
{
	if (!o) {
		dump(what, tid, fr, n, o);
		CHECK(0, "%s: eu-stack has no thread %d", what, tid);
	}
	int i = 0;
	while (i < n && i < o->n && fr[i].pc == o->pc[i])
		i++;
	if (i == n && i == o->n)
		return;
	/* The new thread: one frame, ours says outermost; eu-stack's extra
	 * frames start with its guess from the inherited frame pointer. */
	if (child == 1 && n == 1 && i == 1 && end == DBG_UNWIND_END_OUTERMOST) {
		tolerated_clone++;
		return;
	}
	/* The parent, in the gap after the syscall no FDE covers: libdw
	 * (eu-stack) stops there or guesses one frame by the frame pointer;
	 * ours goes on with the row before the syscall, to the outermost
	 * frame (unwind_clone checks that stack). */
	if (child == 2 && i >= 1 && o->n <= 2 && n > 2 && end == DBG_UNWIND_END_OUTERMOST) {
		tolerated_gap++;
		return;
	}
	/* node: equal up to the first frame in no module, and both go on
	 * past it or both stop there. */
	if (jit && i < n && i < o->n && i > 0 && in_no_module(sym, o->pc[i - 1] - 1)) {
		tolerated_jit++;
		return;
	}
	if (jit && i > 0 && (i == n || i == o->n) && in_no_module(sym, fr[i - 1].pc - 1)) {
		tolerated_jit++;
		return;
	}
	dump(what, tid, fr, n, o);
	CHECK(0, "%s: thread %d differs from eu-stack at frame #%d (%s)", what, tid, i,
	      dbg_unwind_end_str(end));
}

/* Our name of each frame against eu-stack's. */
static void same_names(const char *prog, struct dbg_sym *sym, pid_t tid, const struct dbg_frame *fr,
		       int n, const struct ostack *o)
{
	for (int i = 0; i < n && i < o->n; i++) {
		if (fr[i].pc != o->pc[i])
			break;
		uint64_t at = fr[i].pc - ((fr[i].flags & DBG_FRAME_ACTIVATION) ? 0 : 1);
		struct dbg_symbol s;
		int r = dbg_sym_lookup(sym, at, &s);
		const char *theirs = o->name[i];
		if (r < 0) {
			CHECK(!theirs, "%s thread %d #%d %#" PRIx64 ": no symbol, eu-stack says %s", prog,
			      tid, i, fr[i].pc, theirs);
			continue;
		}
		CHECK(theirs, "%s thread %d #%d %#" PRIx64 ": ours %s, eu-stack has no name", prog, tid,
		      i, fr[i].pc, s.name);
		if (strcmp(s.name, theirs) == 0)
			continue;
		char dem[1024];
		int d = dbg_sym_demangle(s.name, dem, sizeof(dem));
		if (d >= 0 && strcmp(dem, theirs) == 0)
			continue;
		/* eu-stack picked another symbol at the same address (an alias:
		 * wait4 for __GI___wait4). */
		uint64_t a;
		if (dbg_sym_addr(sym, theirs, &a) == 0 && a == s.addr)
			continue;
		CHECK(0, "%s thread %d #%d %#" PRIx64 ": ours %s, eu-stack %s", prog, tid, i, fr[i].pc,
		      s.name, theirs);
	}
}

/* Whether some thread of the oracle has a frame named @name. */
static bool oracle_has(const char *name)
{
	for (int i = 0; i < noracle; i++)
		for (int j = 0; j < oracle[i].n; j++)
			if (oracle[i].name[j] && strcmp(oracle[i].name[j], name) == 0)
				return true;
	return false;
}

/* What each program's stacks must show, beyond equality with eu-stack:
 * the issue 9 items, so that a wrong eu-stack cannot hide them. */
static void program_checks(const char *prog, const int *nframes, int nt, int max_repeat)
{
	int longest = 0;
	for (int i = 0; i < nt; i++)
		longest = nframes[i] > longest ? nframes[i] : longest;
	CHECK(max_repeat < 20, "%s: a stack repeats one pc %d times", prog, max_repeat);
	if (!strcmp(prog, "go_threads") && !oracle_has("main.busy2"))
		for (int i = 0; i < noracle; i++)
			for (int j = 0; j < oracle[i].n; j++)
				fprintf(stderr, "%d #%d %#" PRIx64 " %s\n", oracle[i].tid, j, oracle[i].pc[j],
					oracle[i].name[j] ? oracle[i].name[j] : "");
	if (!strcmp(prog, "go_threads")) {
		CHECK(oracle_has("main.busy2") && oracle_has("main.busy1"), "go: no busy2/busy1 frames");
		/* Goroutines blocked on channels are off the threads' stacks
		 * (their threads sleep in the scheduler, on g0). */
		CHECK(oracle_has("runtime.futexsleep") && oracle_has("runtime.clone.abi0"),
		      "go: no futexsleep/clone frames");
	} else if (!strcmp(prog, "nounwind")) {
		CHECK(oracle_has("level1") && oracle_has("level7") && oracle_has("bottom"),
		      "nounwind: levels missing");
		CHECK(longest >= 9, "nounwind: the longest stack has %d frames", longest);
	} else if (!strcmp(prog, "static_threads") || !strcmp(prog, "busybox")) {
		CHECK(longest >= 3, "%s: the longest stack has %d frames", prog, longest);
	}
}

static pid_t tids[MAX_THREADS];
static struct dbg_snapshot *snaps[MAX_THREADS], *small[MAX_THREADS];
static int child[MAX_THREADS];
static int nframes[MAX_THREADS];

static void run(const char *dir, const char *prog)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, prog);
	if (access(path, X_OK) != 0) {
		printf("SKIP %s: not built (its toolchain is missing: see scripts/deps.sh)\n", prog);
		return;
	}
	struct inferior inf;
	inferior_start(&inf, path, NULL);
	if (!strcmp(prog, "busybox")) {
		/* The launcher prints ready, then execs busybox. */
		for (int tries = 0; tries < 5000; tries++) {
			char exe[4096] = "", p2[64];
			snprintf(p2, sizeof(p2), "/proc/%d/exe", inf.pid);
			ssize_t l = readlink(p2, exe, sizeof(exe) - 1);
			exe[l > 0 ? l : 0] = 0;
			if (strstr(exe, "busybox"))
				break;
			sleep_ms(1);
		}
	}
	/* Its ready line is printed just before the last thread blocks. */
	sleep_ms(100);
	hold_still(inf.pid);
	eu_stack(inf.pid);
	if (noracle == 0) {
		/* A zombie leader: eu-stack -p PID finds no maps; given a live
		 * thread's tid it reports the whole process. */
		pid_t all[16];
		int n = list_tids(inf.pid, all, 16);
		for (int i = 0; i < n && noracle == 0; i++)
			if (thread_state(inf.pid, all[i]) == 'T')
				eu_stack(all[i]);
	}
	CHECK(noracle > 0, "%s: eu-stack saw no thread", prog);

	struct dbg_proc *p = NULL;
	struct dbg_sym *sym = NULL;
	int r = dbg_proc_attach(inf.pid, NULL, &p);
	const char *step = "attach";
	if (r >= 0) {
		step = "dbg_sym_new";
		r = dbg_sym_new(p, NULL, &sym);
	}
	CHECK(r >= 0, "%s: %s: %s", prog, step, dbg_strerror(r));
	int nt = dbg_proc_threads(p, tids, MAX_THREADS);
	CHECK(nt > 0, "%s: threads = %d", prog, nt);
	bool jit = !strcmp(prog, "node_workers");
	/* A zombie thread (the leader that called pthread_exit) has no
	 * registers to unwind: neither eu-stack nor we give it frames. */
	int live = 0;
	for (int i = 0; i < nt; i++)
		if (thread_state(inf.pid, tids[i]) != 'Z')
			tids[live++] = tids[i];
	nt = live;
	for (int i = 0; i < nt; i++)
		child[i] = after_clone(p, tids[i]);

	static struct dbg_frame fr[MAX_FRAMES];
	int max_repeat = 0, ends[DBG_UNWIND_END_OTHER + 1] = { 0 }, cut = 0;
	for (size_t m = 0; m < DBG__ARRAY_SIZE(modes); m++) {
		DBG_OPTS(dbg_unwind_opts, o, .backend = modes[m].backend, .flags = modes[m].flags);
		struct dbg_unwinder *u;
		OK(dbg_unwind_new(p, sym, &o, &u));
		char what[256];
		snprintf(what, sizeof(what), "%s, %s, stopped", prog, modes[m].name);
		for (int i = 0; i < nt; i++) {
			int n = dbg_unwind_thread(u, tids[i], fr, MAX_FRAMES);
			CHECK(n > 0, "%s: unwind thread %d = %d: %s", what, tids[i], n, dbg_proc_errmsg(p));
			const struct ostack *or = find_oracle(tids[i]);
			enum dbg_unwind_end end = dbg_unwind_last_end(u);
			same_pcs(what, jit, child[i], sym, tids[i], fr, n, end, or);
			CHECK(n < MAX_FRAMES || end == DBG_UNWIND_END_CAP, "%s: %d frames, ended: %s", what,
			      n, dbg_unwind_end_str(end));
			if (m == 0) {
				same_names(prog, sym, tids[i], fr, n, or);
				nframes[i] = n;
				ends[end < DBG_UNWIND_END_OTHER ? end : DBG_UNWIND_END_OTHER]++;
			}
			/* A frame short: the stack goes on past the array. */
			if (n > 1) {
				static struct dbg_frame fr2[MAX_FRAMES];
				int n2 = dbg_unwind_thread(u, tids[i], fr2, n - 1);
				CHECK(n2 == n - 1 && dbg_unwind_last_end(u) == DBG_UNWIND_END_CAP,
				      "%s: %d frames into %d: %d, ended: %s", what, n, n - 1, n2,
				      dbg_unwind_end_str(dbg_unwind_last_end(u)));
				n2 = dbg_unwind_thread(u, tids[i], fr2, n);
				CHECK(n2 == n && dbg_unwind_last_end(u) == end,
				      "%s: %d frames into %d: %d, ended: %s, not %s", what, n, n, n2,
				      dbg_unwind_end_str(dbg_unwind_last_end(u)), dbg_unwind_end_str(end));
			}
			for (int k = 0, run = 1; k + 1 < n; k++) {
				run = fr[k + 1].pc == fr[k].pc ? run + 1 : 1;
				max_repeat = run > max_repeat ? run : max_repeat;
			}
		}
		dbg_unwind_free(u);
	}
	/* Snapshots of every thread, unwound after the target runs again. */
	int taken = dbg_snapshot_take_threads(p, tids, nt, 1 << 20, snaps);
	CHECK(taken == nt, "%s: %d of %d snapshots", prog, taken, nt);
	/* And snapshots cut short: 512 bytes of each stack. */
	taken = dbg_snapshot_take_threads(p, tids, nt, 512, small);
	CHECK(taken == nt, "%s: %d of %d small snapshots", prog, taken, nt);
	OK(dbg_proc_resume(p));
	kill(inf.pid, SIGCONT);
	for (size_t m = 0; m < DBG__ARRAY_SIZE(modes); m++) {
		DBG_OPTS(dbg_unwind_opts, o, .backend = modes[m].backend, .flags = modes[m].flags);
		struct dbg_unwinder *u;
		OK(dbg_unwind_new(p, sym, &o, &u));
		char what[256];
		snprintf(what, sizeof(what), "%s, %s, snapshot", prog, modes[m].name);
		for (int i = 0; i < nt; i++) {
			int n = dbg_unwind_snapshot(u, snaps[i], fr, MAX_FRAMES);
			CHECK(n > 0, "%s: unwind snapshot %d = %d", what, tids[i], n);
			same_pcs(what, jit, child[i], sym, tids[i], fr, n, dbg_unwind_last_end(u),
				 find_oracle(tids[i]));
			/* The copy cut short: a prefix of the stack, then "the
			 * snapshot's copy ended" - unless the stack ended within. */
			static struct dbg_frame fr2[MAX_FRAMES];
			enum dbg_unwind_end full = dbg_unwind_last_end(u);
			int n2 = dbg_unwind_snapshot(u, small[i], fr2, MAX_FRAMES);
			enum dbg_unwind_end end2 = dbg_unwind_last_end(u);
			CHECK(n2 > 0 && n2 <= n, "%s, 512 bytes: %d frames of %d", what, n2, n);
			for (int k = 0; k < n2 - 1; k++)
				CHECK(fr2[k].pc == fr[k].pc, "%s, 512 bytes: frame #%d differs", what, k);
			if (!(end2 == DBG_UNWIND_END_READ || (n2 == n && end2 == full))) {
				fprintf(stderr, "full (%s):\n", dbg_unwind_end_str(full));
				dump(what, tids[i], fr, n, NULL);
				fprintf(stderr, "cut (%s):\n", dbg_unwind_end_str(end2));
				dump(what, tids[i], fr2, n2, NULL);
			}
			CHECK(end2 == DBG_UNWIND_END_READ || (n2 == n && end2 == full),
			      "%s, 512 bytes, thread %d: %d of %d frames, ended: %s", what, tids[i], n2, n,
			      dbg_unwind_end_str(end2));
			cut += end2 == DBG_UNWIND_END_READ;
		}
		dbg_unwind_free(u);
	}
	for (int i = 0; i < nt; i++) {
		dbg_snapshot_free(snaps[i]);
		dbg_snapshot_free(small[i]);
		snaps[i] = small[i] = NULL;
	}
	program_checks(prog, nframes, nt, max_repeat);
	dbg_sym_free(sym);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("%s: %d threads match eu-stack in %zu modes, stopped and snapshot; ends:", prog, nt,
	       DBG__ARRAY_SIZE(modes));
	for (int e = 0; e <= DBG_UNWIND_END_OTHER; e++)
		if (ends[e])
			printf(" %d %s,", ends[e], dbg_unwind_end_str(e));
	printf(" %d cut snapshots ended as such\n", cut);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	skip_unless_ptrace();
	oracle = calloc(MAX_THREADS, sizeof(*oracle));
	CHECK(oracle, "calloc");
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "%s/build.sh %s", CORPUS_SRC, CORPUS_DIR);
	int rc = system(cmd);
	CHECK(rc != -1 && WIFEXITED(rc) && (WEXITSTATUS(rc) == 0 || WEXITSTATUS(rc) == 2),
	      "%s failed", cmd);
	static const char *const all[] = { "go_threads", "rust_threads", "cxx_exc", "static_threads",
					   "busybox", "nounwind", "churn", "threads1000",
					   "leader_exit", "py_threads", "node_workers" };
	if (argc > 1)
		for (int i = 1; i < argc; i++)
			run(CORPUS_DIR, argv[i]);
	else
		for (size_t i = 0; i < DBG__ARRAY_SIZE(all); i++)
			run(CORPUS_DIR, all[i]);
	free_oracle();
	free(oracle);
	printf("allowed differences from eu-stack: %d clone children, %d clone parents, %d JIT stacks\n",
	       tolerated_clone, tolerated_gap, tolerated_jit);
	if (WEXITSTATUS(rc) == 2) {
		printf("SKIP: part of the corpus was not built (missing toolchains)\n");
		return SKIP_CODE;
	}
	return 0;
}
