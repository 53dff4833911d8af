/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/prof.h
 * A sampling profiler over an attached process: every thread, including
 * threads born during the run, at a rate per thread, for a duration or
 * until stopped. Two sources feed one unwinder and one aggregation:
 *
 *  - perf events: one software task-clock event per thread (inherited by
 *    the threads it creates), each sample carrying the user registers and
 *    a copy of the top of the user stack, read from mmapped ring buffers.
 *    The target is never stopped to take a sample.
 *  - ptrace snapshots: one thread at a time, at its own slot in the
 *    period, is stopped (the others run on), its registers and stack are
 *    copied (dbg_snapshot_take_threads()), it is resumed, and the copy is
 *    unwound. The fallback where perf_event_open is refused, and the only
 *    source that sees threads off CPU (DBG_PROF_WALL).
 *
 * Each distinct address is symbolized once, at the end of the run (or
 * before an exec replaces the modules), not while sampling; a profile
 * stays readable after the target exec'd or exited. Stacks are
 * counted per thread and in total. See doc/profiling.md.
 */
#ifndef DBG_PROF_H
#define DBG_PROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <dbg/common.h>

DBG_BEGIN_DECLS

struct dbg_proc;
struct dbg_prof;

/** Where samples come from. */
enum dbg_prof_source {
	/** perf events where perf_event_open on the target is allowed
	 * (cpu mode only), else ptrace; dbg_prof_source_note() says why. */
	DBG_PROF_SOURCE_AUTO = 0,
	DBG_PROF_SOURCE_PERF = 1,
	DBG_PROF_SOURCE_PTRACE = 2,
};

/** dbg_prof_opts.flags bits. */
enum dbg_prof_flags {
	/**
	 * Wall-clock mode: every live thread is sampled at each tick,
	 * running or not (a thread blocked in a system call shows where it
	 * waits). ptrace source only. By default (cpu mode) a thread is
	 * sampled only while it is on CPU or runnable.
	 */
	DBG_PROF_WALL = 1u << 0,
};

/** Options for dbg_prof_new(). */
struct dbg_prof_opts {
	size_t sz;                    /**< sizeof(struct dbg_prof_opts) */
	enum dbg_prof_source source;
	unsigned int flags;           /**< enum dbg_prof_flags */
	/** Samples per second per thread; 0: 99. At most 10000. */
	unsigned int hz;
	/** Bytes of user stack copied per sample; 0: 32768. perf caps it
	 * at 65528; a deeper stack ends its unwind where the copy ends. */
	unsigned int stack_size;
	/** Frames kept per stack; 0: 128. At most 1024. */
	unsigned int max_frames;
};

/**
 * A profiler of @proc's target. It builds its own symbol table and
 * unwinder for @proc. For the perf source every thread gets its event
 * here; a refusal is reported (with source AUTO the ptrace source is used
 * and dbg_prof_source_note() says why).
 * @param proc  attached (dbg_proc_attach(), stopped or not); borrowed, it
 *              must outlive the profiler; use both from one thread.
 * @param opts  may be NULL (AUTO, cpu mode, 99 Hz).
 * @param ret   owned; free with dbg_prof_free().
 * @return 0; -EINVAL bad options (DBG_PROF_WALL with the perf source);
 *         -EACCES/-EPERM/-ENOENT/-EOPNOTSUPP perf_event_open refused with
 *         source PERF (the message in dbg_proc_errmsg()); -ESRCH; -ENOMEM.
 * Since: 0.2
 */
DBG_API int dbg_prof_new(struct dbg_proc *proc, const struct dbg_prof_opts *opts,
			 struct dbg_prof **ret);

/** Free @prof and the profile it holds. NULL-safe. */
DBG_API void dbg_prof_free(struct dbg_prof *prof);

/**
 * Sample until @duration_ms has passed (negative: until dbg_prof_stop()
 * or the target's end), or until the target exits. The target runs
 * between samples; clone, exec and signal events of @proc are handled
 * (new threads are sampled, exec rebuilds the symbol table, signals are
 * delivered). May be called again to add to the profile. With the
 * ptrace source SIGCHLD is blocked in the calling thread during the call
 * (the stops wake it through the proc's signalfd, see dbg_proc_fd());
 * in a host whose other threads do not block SIGCHLD the stops are still
 * seen, polled every 1-2 ms.
 * @return 0, also when stopped by dbg_prof_stop() or when the target
 *         exited (see dbg_prof_stats.exited); -ENOMEM; -EXDEV/-ECHILD
 *         wrong calling thread; another negative errno from the target's
 *         events (what was sampled so far stays in the profile).
 * Since: 0.2
 */
DBG_API int dbg_prof_run(struct dbg_prof *prof, int duration_ms);

/**
 * Make a dbg_prof_run() in progress return soon. Async-signal-safe and
 * callable from any thread (it sets a flag). NULL-safe.
 * Since: 0.2
 */
DBG_API void dbg_prof_stop(struct dbg_prof *prof);

/** Counters of a profile (dbg_prof_get_stats()). */
struct dbg_prof_stats {
	enum dbg_prof_source source;  /**< the source in use */
	bool wall;                    /**< DBG_PROF_WALL */
	unsigned int hz;              /**< requested, per thread */
	/** Stacks counted. ptrace cpu mode: a stop counts for the CPU time
	 * the thread used since its last check, in periods (more than one
	 * when it waited for a CPU past its slots); wall mode: for the slots
	 * it waited. */
	uint64_t samples;
	/** Samples the kernel dropped (PERF_RECORD_LOST); ptrace: periods
	 * missed because the profiler fell behind, and threads asked to stop
	 * that were gone (exited, exec) before their stop came. */
	uint64_t lost;
	uint64_t no_stack;            /**< samples with no user registers */
	uint64_t ticks;               /**< ptrace: sampling rounds done */
	/** The rate achieved against hz: perf source, samples per second of
	 * the target's CPU time (a task-clock period is CPU time); ptrace
	 * source, sampling rounds per second (each samples every thread on
	 * CPU, or every live thread in wall mode). */
	double achieved_hz;
	uint64_t thread_seconds_ns;   /**< the summed alive time */
	uint64_t elapsed_ns;          /**< sampling time */
	/** Time the target's threads were held stopped by the profiler,
	 * summed over threads: ptrace source, from when the profiler sees a
	 * thread's stop to its resume (one thread per stop); perf source,
	 * the ptrace event stops (clone, exec) until resumed. */
	uint64_t pause_ns;
	uint64_t pauses;              /**< how many of them */
	uint64_t cpu_ns;              /**< the profiler's own CPU time */
	uint64_t threads;             /**< distinct threads sampled */
	uint64_t execs;               /**< exec events during sampling */
	bool exited;                  /**< the target ended */
	int exit_status;              /**< its exit status, or -1 */
	int exit_signal;              /**< the signal that killed it, or 0 */
};

/** @return 0; -EINVAL. Since: 0.2 */
DBG_API int dbg_prof_get_stats(const struct dbg_prof *prof, struct dbg_prof_stats *ret_stats);

/**
 * Why the source is what it is, e.g. "perf_event_open refused: EACCES
 * (kernel.perf_event_paranoid = 3; needs CAP_PERFMON)" when AUTO fell back
 * to ptrace; NULL when nothing needs saying. Borrowed, lives with @prof.
 * Since: 0.2
 */
DBG_API const char *dbg_prof_source_note(const struct dbg_prof *prof);

/** A short name of @source ("perf", "ptrace", "auto"). Since: 0.2 */
DBG_API const char *dbg_prof_source_str(enum dbg_prof_source source);

/** A mapped file a location lies in. Strings borrowed from the profile. */
struct dbg_prof_mapping {
	uint64_t start, end;       /**< the module's span in the target */
	uint64_t file_offset;      /**< file offset at start */
	const char *path;
	const uint8_t *build_id;   /**< NULL when none */
	size_t build_id_len;
	bool is_main;              /**< the target's main executable */
};

/** One function at a location: inlined ones first, as dbg_sym_srclocs(). */
struct dbg_prof_line {
	const char *function;      /**< demangled; never NULL ("??") */
	const char *file;          /**< NULL without line information */
	int line;
	bool inlined;              /**< inlined into the next entry */
};

/** A distinct address seen in the stacks, symbolized once. */
struct dbg_prof_loc {
	uint64_t addr;             /**< the pc as unwound */
	bool activation;           /**< addr is exact (innermost, or interrupted
				    *   by a signal), not a return address */
	int mapping;               /**< index for dbg_prof_mapping_at(), or -1 */
	/** The name of the function holding the code: its demangled symbol
	 * ("[module+0xoff]" without one; "0x..." outside any module). */
	const char *name;
	const struct dbg_prof_line *lines; /**< innermost first */
	size_t nlines;             /**< >= 1 */
};

/** A distinct stack and how often it was sampled. */
struct dbg_prof_stack {
	pid_t tid;                 /**< 0 in the total (merged) list */
	uint64_t count;
	const uint32_t *locs;      /**< dbg_prof_loc_at() indices, leaf first */
	size_t nlocs;              /**< 0: the sample could not be unwound */
};

/** A thread that was sampled. */
struct dbg_prof_thread {
	pid_t tid;
	char comm[16];             /**< its name (read during its first second) */
	uint64_t samples;
};

/** Counts and accessors of the profile; an index past the end gives
 * NULL. Pointers stay valid until the next dbg_prof_run() or free.
 * Since: 0.2 */
DBG_API size_t dbg_prof_nlocs(const struct dbg_prof *prof);
DBG_API const struct dbg_prof_loc *dbg_prof_loc_at(const struct dbg_prof *prof, size_t idx);
DBG_API size_t dbg_prof_nmappings(const struct dbg_prof *prof);
DBG_API const struct dbg_prof_mapping *dbg_prof_mapping_at(const struct dbg_prof *prof, size_t idx);
/** @param total  true: stacks merged over all threads (tid 0); false:
 *                one entry per thread and stack. */
DBG_API size_t dbg_prof_nstacks(const struct dbg_prof *prof, bool total);
DBG_API const struct dbg_prof_stack *dbg_prof_stack_at(const struct dbg_prof *prof, bool total,
						       size_t idx);
DBG_API size_t dbg_prof_nthreads(const struct dbg_prof *prof);
DBG_API const struct dbg_prof_thread *dbg_prof_thread_at(const struct dbg_prof *prof, size_t idx);

DBG_END_DECLS

#endif /* DBG_PROF_H */
