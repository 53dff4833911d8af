/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dbg-prof's output formats, over the public profile accessors. */
#ifndef PROF_FORMATS_H
#define PROF_FORMATS_H

#include <stdbool.h>
#include <stdio.h>
#include <dbg.h>

struct prof_out {
	const struct dbg_prof *prof;
	const char *title;      /* e.g. "dbg-prof 1234 (cpu, perf, 99 Hz)" */
	bool per_thread;        /* folded/svg: a "comm-tid" root frame */
	bool wall;
	unsigned int hz;
	uint64_t duration_ns;
	uint64_t start_unix_ns;
};

int prof_write_folded(FILE *f, const struct prof_out *o);
int prof_write_svg(FILE *f, const struct prof_out *o);
int prof_write_speedscope(FILE *f, const struct prof_out *o);
/* Writes gzip itself to @path. -ENOTSUP when built without protobuf-c. */
int prof_write_pprof(const char *path, const struct prof_out *o);

#endif
