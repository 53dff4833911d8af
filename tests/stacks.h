/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What tests/inferiors/stacks.c expects of its stacks, and the check of an
 * unwound thread against it. Included by the unwinding tests.
 */
#ifndef DBG_TEST_STACKS_H
#define DBG_TEST_STACKS_H

#include "harness.h"

#include <inttypes.h>

struct expect {
	char thread[8];
	char func[64];
	int line;
	bool inlined, activation;
};

/* The inferior's own frames of one thread (those in module @real, the
 * path as the target's maps show it), expanded into inlined functions,
 * must be exactly its expectations for that thread. */
static inline void check_symbols(const char *real, struct dbg_sym *sym, const char *thread,
				 const struct dbg_frame *fr, int n, const struct expect *ex, int nex)
{
	const char *bin = real;
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
			bool lines = ex[k].line >= 0; /* -1: code without line information */
			CHECK(locs[j].function && strcmp(locs[j].function, ex[k].func) == 0 &&
			      (!lines || locs[j].line == ex[k].line) && locs[j].inlined == ex[k].inlined,
			      "%s thread %s frame #%d: got %s line %d%s, expected %s line %d%s", bin, thread,
			      i, locs[j].function ? locs[j].function : "??", locs[j].line,
			      locs[j].inlined ? " inlined" : "", ex[k].func, ex[k].line,
			      ex[k].inlined ? " inlined" : "");
			CHECK(!lines || (locs[j].file && strstr(locs[j].file, "stacks.c")), "%s: file %s",
			      ex[k].func, locs[j].file ? locs[j].file : "(none)");
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

/* Read the inferior's "expect" lines up to "end". */
static inline int read_expectations(struct inferior *inf, struct expect *ex, int cap)
{
	int nex = 0;
	char line[256];
	while (strcmp(inferior_line(inf, line, sizeof(line)), "end") != 0) {
		CHECK(nex < cap, "too many expectations");
		struct expect *e = &ex[nex++];
		char flags[64] = "";
		CHECK(sscanf(line, "expect %7s %63s %d %63[a-z ]", e->thread, e->func, &e->line, flags) >= 3,
		      "bad line '%s'", line);
		e->inlined = strstr(flags, "inlined");
		e->activation = strstr(flags, "activation");
	}
	return nex;
}

/* Wait until every thread of @pid sits in read() or pause() (x86_64
 * syscalls 0 and 34), where the inferior parks them: its "end" line is
 * printed just before the main thread gets to pause(), and an oracle run
 * in between would see another stack than ours. */
static inline void wait_parked(pid_t pid)
{
	pid_t tids[64];
	for (int tries = 0; tries < 5000; tries++) {
		int n = list_tids(pid, tids, 64), parked = 0;
		for (int i = 0; i < n; i++) {
			char path[96], buf[64] = "";
			snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tids[i]);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				ssize_t r = read(fd, buf, sizeof(buf) - 1);
				buf[r > 0 ? r : 0] = 0;
				close(fd);
			}
			parked += strncmp(buf, "0 ", 2) == 0 || strncmp(buf, "34 ", 3) == 0;
		}
		if (n > 0 && parked == n)
			return;
		sleep_ms(1);
	}
	CHECK(0, "the threads of %d did not park in read() or pause()", pid);
}

#endif
