/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profiler while the target changes under it.
 * Usage: prof_lifecycle churn|exec perf|ptrace
 *  churn: threads are created and joined without pause; those born
 *    during the run are sampled (short_life() shows, many tids), and
 *    sampling ends on time.
 *  exec: a thread execs the program again 600 ms in; the exec is
 *    counted, the worker is sampled before and after it (two worker
 *    tids, both with spin_f), and the profile is named right after it.
 * (The target exiting while sampled is checked through dbg-prof, in
 * formats.sh.)
 */
#include "prof_common.h"

#define HZ 499
#define RUN_MS 3000

/* Threads (by tid) with a sample in @fn. */
static size_t tids_with(const struct dbg_prof *p, const char *fn)
{
	size_t n = 0;
	for (size_t i = 0; i < dbg_prof_nthreads(p); i++) {
		const struct dbg_prof_thread *t = dbg_prof_thread_at(p, i);
		if (!t->samples)
			continue;
		bool has = false;
		for (size_t j = 0; j < dbg_prof_nstacks(p, false) && !has; j++) {
			const struct dbg_prof_stack *s = dbg_prof_stack_at(p, false, j);
			has = s->tid == t->tid && stack_has(p, s, fn);
		}
		n += has;
	}
	return n;
}

int main(int argc, char **argv)
{
	CHECK(argc == 3, "usage: prof_lifecycle churn|exec perf|ptrace");
	bool churn = strcmp(argv[1], "churn") == 0;
	bool perf = strcmp(argv[2], "perf") == 0;
	skip_unless_ptrace();
	struct inferior inf;
	inferior_start(&inf, "profmix", churn ? "churn" : "exec=600", NULL);
	struct dbg_attach_opts ao = { .sz = sizeof(ao), .flags = DBG_ATTACH_NO_STOP };
	struct dbg_proc *proc = attach_or_skip(inf.pid, &ao);
	struct dbg_prof_opts po = { .sz = sizeof(po), .hz = HZ,
				    .source = perf ? DBG_PROF_SOURCE_PERF : DBG_PROF_SOURCE_PTRACE };
	struct dbg_prof *p;
	int r = dbg_prof_new(proc, &po, &p);
	if (perf && (r == -EACCES || r == -EPERM)) {
		char why[600];
		snprintf(why, sizeof(why), "perf_event_open refused here: %s", dbg_proc_errmsg(proc));
		inferior_kill(&inf);
		skip(why);
	}
	OK(r);
	uint64_t t0 = now_ms();
	OK(dbg_prof_run(p, RUN_MS));
	uint64_t took = now_ms() - t0;
	struct dbg_prof_stats st;
	OK(dbg_prof_get_stats(p, &st));
	print_stats(argv[1], p);
	print_top(p);
	CHECK(took < RUN_MS + 2000, "sampling took %llu ms for %d", (unsigned long long)took, RUN_MS);
	CHECK(!st.exited, "the target lives on");
	CHECK(st.source == (perf ? DBG_PROF_SOURCE_PERF : DBG_PROF_SOURCE_PTRACE), "source");
	if (churn) {
		uint64_t born = count_with(p, "short_life", NULL);
		printf("short_life samples: %llu, threads sampled: %llu\n", (unsigned long long)born,
		       (unsigned long long)st.threads);
		CHECK(born > 0, "no sample of a thread born during the run");
		CHECK(st.threads >= 5, "only %llu threads sampled", (unsigned long long)st.threads);
		CHECK(count_with(p, "short_life", "start_thread") >= born * 9 / 10,
		      "short-lived threads' stacks do not unwind to start_thread");
	} else {
		size_t before_after = tids_with(p, "spin_f");
		printf("execs %llu, threads with spin_f: %zu\n", (unsigned long long)st.execs,
		       before_after);
		CHECK(st.execs == 1, "%llu execs counted", (unsigned long long)st.execs);
		CHECK(before_after >= 2, "the worker is not sampled both before and after the exec");
		CHECK(count_with(p, "spin_f", "worker") * 100 >= count_with(p, "spin_f", NULL) * 95,
		      "spin_f stacks after the exec do not unwind to worker()");
	}
	/* Sampling again after the run adds to the profile. */
	uint64_t before = st.samples;
	OK(dbg_prof_run(p, 300));
	OK(dbg_prof_get_stats(p, &st));
	CHECK(st.samples > before, "a second run added nothing");
	dbg_prof_free(p);
	dbg_proc_detach(proc);
	inferior_kill(&inf);
	printf("ok\n");
	return 0;
}
