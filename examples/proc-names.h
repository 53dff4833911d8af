/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers the example tools share: a thread's name and a path's
 * last component.
 */
#ifndef DBG_EXAMPLES_PROC_NAMES_H
#define DBG_EXAMPLES_PROC_NAMES_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

/* The name of thread @tid of @pid (its comm), or "" if it is gone. */
static inline void thread_name(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	FILE *f = fopen(path, "r");
	buf[0] = 0;
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

static inline const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

#endif
