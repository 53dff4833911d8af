/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profiler's internals, shared by prof.c (sampling loop, ptrace
 * source, aggregation) and prof_perf.c (the perf events source).
 */
#ifndef DBG_PROF_INTERNAL_H
#define DBG_PROF_INTERNAL_H

#include "internal.h"
#include <dbg/prof.h>
#include <signal.h>

/* A snapshot from registers and a stack copy taken elsewhere (unwind.c,
 * next to struct dbg_snapshot). */
int dbg__snapshot_make(pid_t tid, const struct dbg_regs *regs, uint64_t stack_lo,
		       const void *stack, size_t len, uint64_t vma_lo, uint64_t vma_hi,
		       struct dbg_snapshot **ret);

/* One thread the profiler knows. */
struct dbg__pthr {
	struct dbg_prof_thread pub;
	bool alive;
	bool covered;           /* perf: an event samples it (own or inherited) */
	bool seen_this_round;
	int stat_fd;            /* /proc/PID/task/TID/stat, -1 */
	int sched_fd;           /* .../schedstat, -1 */
	uint64_t run_ns;        /* its CPU time at the last check */
	uint64_t check_ns;      /* ptrace cpu mode: when that was */
	uint64_t ask_ns;        /* ptrace: when it was asked to stop */
	bool asked;             /* ptrace: asked, its stop not taken yet */
	bool light;             /* ptrace: on CPU only part of the time */
	uint64_t weight;        /* ptrace: samples its next stop stands for */
	uint64_t first_ns, last_ns; /* alive time within the current run */
	uint64_t born_ns, comm_ns;  /* first seen; comm last read */
	uint64_t vma_lo, vma_hi; /* its stack's VMA, for perf samples */
};

/* One perf event and its ring buffer. */
struct dbg__perfbuf {
	int fd;
	pid_t tid;
	uint8_t *base;
	size_t map_len;
	uint64_t data_off, data_size;
	bool hup;
};

#define DBG__PROF_MAX_CPUS 1024

struct dbg__hent {
	uint64_t key;
	uint32_t idx; /* + 1; 0: empty */
};

/* Open-addressing table of key -> index. */
struct dbg__htab {
	struct dbg__hent *e;
	size_t cap, len; /* cap: power of two */
};

struct dbg__stacktab {
	struct dbg_prof_stack *v;
	size_t n, cap;
	struct dbg__htab h; /* hash of (tid, locs) -> index (chained by probing) */
};

struct dbg_prof {
	struct dbg_proc *proc;
	struct dbg_sym *sym;
	struct dbg_unwinder *uw;
	struct dbg_prof_opts o;
	enum dbg_prof_source source;
	char note[512];
	volatile sig_atomic_t stop;
	uint64_t rng;

	struct dbg_prof_stats st;
	uint64_t cpu_start_ticks;   /* the target's utime+stime */
	uint64_t target_cpu_ticks;  /* ... since, summed over runs */
	uint64_t last_refresh_ns;   /* sym refresh for unknown pcs */
	uint64_t last_poll_ns;      /* thread list, target CPU time */
	int nlive;

	struct dbg__pthr *thr;
	size_t nthr, cap_thr;

	struct dbg__perfbuf *pb;    /* per thread and CPU; base: a ring */
	int cpus[DBG__PROF_MAX_CPUS], ncpus;
	bool user_only;             /* exclude_kernel: the kernel insists */
	bool running;               /* events enabled (inside dbg_prof_run) */
	int ring_of_cpu[DBG__PROF_MAX_CPUS]; /* index in pb, -1 */
	size_t npb, cap_pb;
	uint8_t *rec;               /* a record copied out of a ring */
	size_t rec_cap;

	struct dbg_snapshot **snaps; /* ptrace: one, refilled per sample */
	pid_t *inflight;            /* ptrace: asked to stop, stop not taken */
	size_t ninflight, cap_inflight;
	bool queued;                /* ptrace: an event queued for handle_events() */
	uint64_t last_events_ns;    /* ptrace: handle_events() last called */
	uint64_t ask_wait_ns;       /* ptrace: summed ask-to-stop-seen time */
	pid_t *tids;
	size_t cap_snaps, cap_tids;
	struct dbg_snapshot *psnap;  /* perf: one, refilled per sample */
	struct dbg_frame *frames;
	uint32_t *ids;

	struct dbg_prof_loc *locs;
	size_t nlocs, cap_locs;
	size_t nsymbolized;         /* locs[0..nsymbolized) have names */
	struct dbg__htab loch;
	struct dbg_prof_mapping *maps;
	size_t nmaps, cap_maps;
	struct dbg__stacktab per_thread, total;
	char **strs;                /* every string the profile owns */
	size_t nstrs, cap_strs;
	void **blocks;              /* line and loc-id arrays */
	size_t nblocks, cap_blocks;
};

uint64_t dbg__prof_now(void);
struct dbg__pthr *dbg__prof_thread(struct dbg_prof *p, pid_t tid, bool create);
/* Count one sample of @tid whose unwind gave @frames (@n may be 0). */
int dbg__prof_add(struct dbg_prof *p, pid_t tid, const struct dbg_frame *frames, int n);
/* The same, counted @w times (a ptrace sample that stands for several). */
int dbg__prof_add_n(struct dbg_prof *p, pid_t tid, const struct dbg_frame *frames, int n, uint64_t w);

/* perf source (prof_perf.c) */
int dbg__prof_perf_open(struct dbg_prof *p, pid_t tid);
void dbg__prof_perf_close(struct dbg_prof *p);
int dbg__prof_perf_drain(struct dbg_prof *p);
int dbg__prof_perf_cover(struct dbg_prof *p);
void dbg__prof_perf_enable(struct dbg_prof *p, bool on);

#endif /* DBG_PROF_INTERNAL_H */
