/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Profiler accuracy: the inferior's worker thread spends 70% of its CPU
 * time in spin_f() and 30% in spin_g(); a sleeper waits in sleep_here().
 * Usage: prof_accuracy perf|ptrace|wall|refused
 *  perf, ptrace: cpu mode with that source; the shares of spin_f and
 *    spin_g are within 5 points of 70/30, the sleeper is (almost) absent,
 *    the stacks unwind down to worker(), the rate is near the request.
 *  wall: ptrace wall-clock mode: every thread each tick, so the sleeper
 *    has about a third of the samples, and spin_f:spin_g stays 70:30.
 *  refused: perf_event_open fails with EACCES (a seccomp filter, as a
 *    kernel with perf_event_paranoid=3 would refuse): AUTO says why and
 *    uses ptrace; PERF fails with -EACCES.
 */
#include "prof_common.h"

#include <math.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#define HZ 499
#define RUN_MS 2000
#define MAX_MS 40000

static void refuse_perf_event_open(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_perf_event_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { (unsigned short)(sizeof(f) / sizeof(f[0])), f };
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "no_new_privs: %s", strerror(errno));
	CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0, "seccomp: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: prof_accuracy perf|ptrace|wall|refused");
	const char *mode = argv[1];
	skip_unless_ptrace();
	bool refused = strcmp(mode, "refused") == 0;
	if (refused)
		refuse_perf_event_open();

	struct inferior inf;
	inferior_start(&inf, "profmix", NULL);
	struct dbg_attach_opts ao = { .sz = sizeof(ao), .flags = DBG_ATTACH_NO_STOP };
	struct dbg_proc *proc = attach_or_skip(inf.pid, &ao);
	struct dbg_prof_opts po = { .sz = sizeof(po), .hz = HZ };
	if (strcmp(mode, "perf") == 0)
		po.source = DBG_PROF_SOURCE_PERF;
	else if (strcmp(mode, "ptrace") == 0)
		po.source = DBG_PROF_SOURCE_PTRACE;
	else if (strcmp(mode, "wall") == 0)
		po.flags = DBG_PROF_WALL;
	else
		CHECK(refused, "unknown mode %s", mode);

	struct dbg_prof *p;
	if (refused) {
		struct dbg_prof_opts pp = po;
		pp.source = DBG_PROF_SOURCE_PERF;
		int r = dbg_prof_new(proc, &pp, &p);
		CHECK(r == -EACCES, "source perf under a refusing kernel: %d (%s)", r, dbg_strerror(r));
		CHECK(strstr(dbg_proc_errmsg(proc), "EACCES") &&
		      strstr(dbg_proc_errmsg(proc), "perf_event_paranoid"),
		      "the reason: %s", dbg_proc_errmsg(proc));
	}
	int r = dbg_prof_new(proc, &po, &p);
	if (r == -EACCES || r == -EPERM) {
		char why[600];
		snprintf(why, sizeof(why), "perf_event_open refused here: %s", dbg_proc_errmsg(proc));
		inferior_kill(&inf);
		skip(why);
	}
	OK(r);
	struct dbg_prof_stats st;
	OK(dbg_prof_get_stats(p, &st));
	if (refused) {
		const char *note = dbg_prof_source_note(p);
		printf("note: %s\n", note ? note : "(none)");
		CHECK(st.source == DBG_PROF_SOURCE_PTRACE, "AUTO fell back to %s", dbg_prof_source_str(st.source));
		CHECK(note && strstr(note, "EACCES") && strstr(note, "perf_event_paranoid"), "note: %s",
		      note ? note : "(none)");
	} else if (strcmp(mode, "perf") == 0) {
		CHECK(st.source == DBG_PROF_SOURCE_PERF, "source %s", dbg_prof_source_str(st.source));
	} else {
		CHECK(st.source == DBG_PROF_SOURCE_PTRACE, "source %s", dbg_prof_source_str(st.source));
	}

	/* The machine may be busy: sample until the worker has enough
	 * samples for 5 points to be > 3 sigma of the binomial noise (600),
	 * in rounds of RUN_MS, at most MAX_MS. */
	uint64_t t0 = now_ms(), took = 0;
	int rounds = 0;
	do {
		uint64_t r0 = now_ms();
		OK(dbg_prof_run(p, RUN_MS));
		uint64_t rt = now_ms() - r0;
		CHECK(rt < RUN_MS + 1500, "a %d ms run took %llu ms", RUN_MS, (unsigned long long)rt);
		rounds++;
		took = now_ms() - t0;
	} while (count_with(p, "spin_f", NULL) + count_with(p, "spin_g", NULL) < 600 && took < MAX_MS);
	OK(dbg_prof_get_stats(p, &st));
	printf("%d rounds, %llu ms\n", rounds, (unsigned long long)took);
	print_stats(mode, p);
	print_top(p);
	CHECK(!st.exited, "the target did not exit");

	uint64_t total = total_samples(p), f = count_with(p, "spin_f", NULL),
		 g = count_with(p, "spin_g", NULL), s = count_with(p, "sleep_here", NULL);
	uint64_t f_deep = count_with(p, "spin_f", "worker"), g_deep = count_with(p, "spin_g", "worker");
	CHECK(total == st.samples, "stack counts %llu, samples %llu", (unsigned long long)total,
	      (unsigned long long)st.samples);
	double fs = 100.0 * f / total, gs = 100.0 * g / total, ss = 100.0 * s / total;
	double ffg = 100.0 * f / (f + g ? f + g : 1);
	printf("shares: spin_f %.1f%%, spin_g %.1f%%, sleep_here %.1f%%; f/(f+g) %.1f%%; "
	       "unwound to worker(): %.1f%%\n", fs, gs, ss, ffg, 100.0 * (f_deep + g_deep) / (f + g ? f + g : 1));
	/* Enough samples for 5 points to be > 3 sigma of the binomial noise. */
	CHECK(f + g >= 600, "only %llu worker samples", (unsigned long long)(f + g));
	CHECK(f_deep + g_deep >= (f + g) * 95 / 100, "stacks unwound down to worker(): %llu of %llu",
	      (unsigned long long)(f_deep + g_deep), (unsigned long long)(f + g));
	CHECK(ffg > 65 && ffg < 75, "spin_f is %.1f%% of the worker's samples, not 70 +- 5", ffg);
	if (strcmp(mode, "wall") == 0) {
		/* main, worker and sleeper: a third each. */
		CHECK(ss > 28 && ss < 38.4, "the sleeper has %.1f%%, not 33.3 +- 5", ss);
		CHECK(fs + gs > 28 && fs + gs < 38.4, "the worker has %.1f%%, not 33.3 +- 5", fs + gs);
		CHECK(st.pauses > 0 && st.pause_ns > 0, "pauses counted");
	} else {
		CHECK(fs > 65 && fs < 75, "spin_f has %.1f%%, not 70 +- 5", fs);
		CHECK(gs > 25 && gs < 35, "spin_g has %.1f%%, not 30 +- 5", gs);
		CHECK(ss < 1.0, "the sleeper shows in cpu mode: %.1f%%", ss);
	}
	double secs = st.elapsed_ns / 1e9;
	if (st.source == DBG_PROF_SOURCE_PERF) {
		/* Samples per CPU second of the target: the kernel samples. */
		CHECK(st.achieved_hz > HZ * 0.6 && st.achieved_hz < HZ * 1.2, "achieved %.1f Hz of %d",
		      st.achieved_hz, HZ);
	} else {
		/* Rounds per second, and every round the schedule had is
		 * either done or counted lost: how close to the request it
		 * gets depends on how loaded the machine is. No more rounds
		 * than scheduled; lost also counts threads' stops that never
		 * came (prof.h), so it bounds from below only. */
		CHECK(fabs(st.achieved_hz - st.ticks / secs) < 1.0, "achieved %.1f Hz, %llu rounds in %.2f s",
		      st.achieved_hz, (unsigned long long)st.ticks, secs);
		double sched = HZ * secs;
		CHECK(st.ticks + st.lost > sched * 0.9 && st.ticks < sched * 1.05,
		      "%llu rounds + %llu lost, %.0f scheduled", (unsigned long long)st.ticks,
		      (unsigned long long)st.lost, sched);
		CHECK(st.achieved_hz > HZ * 0.1, "achieved only %.1f Hz of %d", st.achieved_hz, HZ);
	}
	if (st.source == DBG_PROF_SOURCE_PERF)
		CHECK(st.pauses == 0, "perf source stopped the target %llu times", (unsigned long long)st.pauses);
	dbg_prof_free(p);
	dbg_proc_detach(proc);
	inferior_kill(&inf);
	printf("ok\n");
	return 0;
}
