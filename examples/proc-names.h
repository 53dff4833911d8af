/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers the example tools share: a thread's name, its state, and
 * a path's last component.
 */
#ifndef DBG_EXAMPLES_PROC_NAMES_H
#define DBG_EXAMPLES_PROC_NAMES_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* From /proc/PID/stat (or /proc/PID/task/TID/stat with @tid > 0):
 * the state letter and the kernel's task flags. Returns 0, or -1 if the
 * file cannot be read or parsed. */
static inline int task_stat(pid_t pid, pid_t tid, char *state, unsigned long *flags)
{
	char path[64], buf[1024];
	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* "pid (comm) S ppid pgrp session tty tpgid flags ...": comm may
	 * hold spaces and parentheses, the last ')' ends it. */
	const char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", state, flags) != 2)
		return -1;
	return 0;
}

/* Whether some thread of @pid is alive (not a zombie, not dead). */
static inline bool any_live_thread(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return false;
	bool live = false;
	struct dirent *e;
	while (!live && (e = readdir(d))) {
		char st;
		unsigned long fl;
		pid_t tid = (pid_t)atoi(e->d_name);
		live = tid > 0 && task_stat(pid, tid, &st, &fl) == 0 && st != 'Z' && st != 'X';
	}
	closedir(d);
	return live;
}

/* @s for a terminal: control characters and DEL as \xNN (names are
 * target-controlled). A static buffer, overwritten by the next call;
 * long names are cut. */
static inline const char *printable(const char *s)
{
	static char out[4 * 256 + 1];
	size_t n = 0;
	for (; *s && n + 5 < sizeof(out); s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = 0;
	return out;
}

static inline const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

#endif
