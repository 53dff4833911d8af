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
 *  alone (ptrace only): 6 busy threads, churn and an exec at 1.2 s:
 *    the ptrace source stops one thread at a time, the others run on
 *    (a watcher reading /proc/PID/task/TID/stat sees more than
 *    MAX_STOPPED of them in a stop at once in at most 3% of its looks, all
 *    6 in at most 1% (the threads an exec kills stop on their way out),
 *    where stopping every thread for a sample shows all of them); every
 *    busy thread is sampled, and births and the exec are still right.
 * (The target exiting while sampled is checked through dbg-prof, in
 * formats.sh.)
 */
#include "prof_common.h"

#include <dirent.h>
#include <pthread.h>

#define HZ 499
#define RUN_MS 3000
#define MAX_STOPPED 3 /* of the 6 busy threads, but for a few looks */

/* The watcher: how many of the target's busy threads /proc shows
 * stopped (t: ptrace-stop, T: group stop) at once, at most, over the
 * run. */
static pid_t watch_pid;
static volatile int watch_stop;
static int watch_looks, watch_any, watch_hist[8];

static void *watcher(void *arg)
{
	(void)arg;
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)watch_pid);
	while (!watch_stop) {
		DIR *d = opendir(dir);
		if (!d)
			break;
		int stopped = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char path[352], buf[512];
			snprintf(path, sizeof(path), "%s/%s/stat", dir, e->d_name);
			FILE *f = fopen(path, "r");
			if (!f)
				continue;
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = 0;
			char *s = strrchr(buf, ')');
			/* The busy threads only: the churner and the threads
			 * it creates also stop for their clone events. */
			unsigned long flags = 0;
			if (s)
				sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags);
			/* Not the threads an exec kills: they stop on their way
			 * out (PF_EXITING), every one at once. */
			if (s && (s[2] == 't' || s[2] == 'T') && strstr(buf, "(busy)") && !(flags & 0x4))
				stopped++;
		}
		closedir(d);
		watch_looks++;
		watch_any += stopped > 0;
		watch_hist[stopped < 7 ? stopped : 7]++;
		usleep(200);
	}
	return NULL;
}

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
	CHECK(argc == 3, "usage: prof_lifecycle churn|exec|alone perf|ptrace");
	bool alone = strcmp(argv[1], "alone") == 0;
	bool churn = strcmp(argv[1], "churn") == 0;
	bool perf = strcmp(argv[2], "perf") == 0;
	CHECK(!alone || !perf, "alone is a ptrace source test");
	skip_unless_ptrace();
	struct inferior inf;
	if (alone)
		inferior_start(&inf, "profmix", "churn", "busy=6", "exec=1200", NULL);
	else
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
	pthread_t w;
	watch_pid = inf.pid;
	if (alone)
		CHECK(pthread_create(&w, NULL, watcher, NULL) == 0, "watcher thread");
	uint64_t t0 = now_ms();
	OK(dbg_prof_run(p, RUN_MS));
	uint64_t took = now_ms() - t0;
	if (alone) {
		watch_stop = 1;
		pthread_join(w, NULL);
		printf("watcher: %d looks, %d saw a stopped busy thread; looks with N stopped:",
		       watch_looks, watch_any);
		for (int i = 0; i < 8; i++)
			printf(" %d:%d", i, watch_hist[i]);
		printf("\n");
		CHECK(watch_looks >= 100, "the watcher looked only %d times", watch_looks);
		/* Stopping every thread for a sample shows all 6 in a stop in
		 * a good share of the looks (the share of the time the target
		 * is held). One at a time, several are stopped together only
		 * when their stops come while the profiler waits for a CPU. */
		CHECK(watch_hist[6] * 100 <= watch_looks,
		      "all 6 busy threads were stopped at once in %d of %d looks", watch_hist[6], watch_looks);
		CHECK((watch_hist[MAX_STOPPED + 1] + watch_hist[5] + watch_hist[6]) * 100 <= watch_looks * 3,
		      "more than %d busy threads were stopped at once in %d of %d looks", MAX_STOPPED,
		      watch_hist[MAX_STOPPED + 1] + watch_hist[5] + watch_hist[6], watch_looks);
	}
	struct dbg_prof_stats st;
	OK(dbg_prof_get_stats(p, &st));
	print_stats(argv[1], p);
	print_top(p);
	CHECK(took < RUN_MS + 2000, "sampling took %llu ms for %d", (unsigned long long)took, RUN_MS);
	CHECK(!st.exited, "the target lives on");
	CHECK(st.source == (perf ? DBG_PROF_SOURCE_PERF : DBG_PROF_SOURCE_PTRACE), "source");
	if (alone) {
		size_t busy = tids_with(p, "busy_loop");
		printf("busy threads sampled %zu; short_life %llu; execs %llu; threads with spin_f %zu\n",
		       busy,
		       (unsigned long long)count_with(p, "short_life", NULL),
		       (unsigned long long)st.execs, tids_with(p, "spin_f"));
		CHECK(busy == 6, "%zu of the 6 busy threads sampled", busy);
		CHECK(count_with(p, "busy_loop", "start_thread") * 100 >= count_with(p, "busy_loop", NULL) * 95,
		      "busy_loop stacks do not unwind to start_thread");
		CHECK(count_with(p, "short_life", NULL) > 0, "no sample of a thread born during the run");
		CHECK(st.execs == 1, "%llu execs counted", (unsigned long long)st.execs);
		CHECK(tids_with(p, "spin_f") >= 2, "the worker is not sampled both before and after the exec");
	} else if (churn) {
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
	print_stats("second run", p);
	CHECK(st.samples > before, "a second run added nothing");
	dbg_prof_free(p);
	dbg_proc_detach(proc);
	inferior_kill(&inf);
	printf("ok\n");
	return 0;
}
