/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for the profiler tests: shares of named functions in a profile. */
#ifndef PROF_COMMON_H
#define PROF_COMMON_H

#include "../harness.h"

static inline uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Whether any frame (any inlined line too) of @s is named @fn. */
static inline bool stack_has(const struct dbg_prof *p, const struct dbg_prof_stack *s, const char *fn)
{
	for (size_t i = 0; i < s->nlocs; i++) {
		const struct dbg_prof_loc *l = dbg_prof_loc_at(p, s->locs[i]);
		for (size_t j = 0; j < l->nlines; j++)
			if (strcmp(l->lines[j].function, fn) == 0)
				return true;
	}
	return false;
}

/* Samples whose stack holds @fn (and @also, when not NULL), over all. */
static inline uint64_t count_with(const struct dbg_prof *p, const char *fn, const char *also)
{
	uint64_t n = 0;
	for (size_t i = 0; i < dbg_prof_nstacks(p, true); i++) {
		const struct dbg_prof_stack *s = dbg_prof_stack_at(p, true, i);
		if (stack_has(p, s, fn) && (!also || stack_has(p, s, also)))
			n += s->count;
	}
	return n;
}

static inline uint64_t total_samples(const struct dbg_prof *p)
{
	uint64_t n = 0;
	for (size_t i = 0; i < dbg_prof_nstacks(p, true); i++)
		n += dbg_prof_stack_at(p, true, i)->count;
	return n;
}

static inline void print_stats(const char *what, const struct dbg_prof *p)
{
	struct dbg_prof_stats st;
	dbg_prof_get_stats(p, &st);
	printf("%s: source %s, %llu samples, %llu threads, achieved %.1f Hz of %u, lost %llu, "
	       "paused %.3f ms in %llu stops, profiler %.1f us/sample, exited %d (status %d)\n",
	       what, dbg_prof_source_str(st.source), (unsigned long long)st.samples,
	       (unsigned long long)st.threads, st.achieved_hz, st.hz, (unsigned long long)st.lost,
	       st.pause_ns / 1e6, (unsigned long long)st.pauses,
	       st.samples ? st.cpu_ns / 1e3 / st.samples : 0.0, st.exited, st.exit_status);
}

/* The five stacks with the most samples, for the log. */
static inline void print_top(const struct dbg_prof *p)
{
	size_t n = dbg_prof_nstacks(p, true);
	for (int k = 0; k < 5; k++) {
		const struct dbg_prof_stack *best = NULL;
		static const struct dbg_prof_stack *shown[5];
		for (size_t i = 0; i < n; i++) {
			const struct dbg_prof_stack *s = dbg_prof_stack_at(p, true, i);
			bool seen = false;
			for (int j = 0; j < k; j++)
				seen |= shown[j] == s;
			if (!seen && (!best || s->count > best->count))
				best = s;
		}
		if (!best)
			break;
		shown[k] = best;
		printf("  %6llu ", (unsigned long long)best->count);
		for (size_t i = best->nlocs; i-- > 0;)
			printf("%s%s", dbg_prof_loc_at(p, best->locs[i])->name, i ? ";" : "\n");
		if (!best->nlocs)
			printf("[unknown]\n");
	}
}

#endif
