/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg-server's process table: every process gdb debugs at once (a fork
 * child gdb keeps with `detach-on-fork off`, a second vAttach or vRun in
 * extended-remote), one struct dbg_proc handle each with its own threads.
 * The thread state of struct thr is keyed by tid, which is unique across
 * processes; breakpoints and watchpoints (struct zpt) name their process.
 * s->p, s->pid and s->attached mirror the current process: the one Hg
 * selected, or the last stop's, as gdb expects in all-stop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

struct sproc *proc_find(struct server *s, pid_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

/* The process @tid is a thread of (libdbg knows it), or NULL. */
struct sproc *proc_of_tid(struct server *s, pid_t tid)
{
	if (tid <= 0)
		return NULL;
	/* most lookups are about the current process */
	if (s->p && dbg_proc_thread_state(s->p, tid) >= 0)
		return proc_find(s, s->pid);
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].p != s->p && dbg_proc_thread_state(s->procs[i].p, tid) >= 0)
			return &s->procs[i];
	return NULL;
}

/* Add a process the server now owns; NULL when the table is full. */
struct sproc *proc_add(struct server *s, struct dbg_proc *p, bool attached)
{
	if (s->nprocs == MAX_PROCS)
		return NULL;
	struct sproc *sp = &s->procs[s->nprocs++];
	memset(sp, 0, sizeof(*sp));
	sp->p = p;
	sp->pid = dbg_proc_pid(p);
	sp->attached = attached;
	return sp;
}

/* Is it one of gdb's inferiors (a released vfork child is not)? */
bool proc_visible(const struct sproc *sp)
{
	return sp && !sp->released;
}

/* Does gdb know it: visible, and its fork event reported? */
bool proc_listed(const struct sproc *sp)
{
	return proc_visible(sp) && !sp->unreported;
}

/* A fork or vfork stop reply goes to gdb: from now on it knows the child. */
void proc_fork_reported(struct server *s, const struct dbg_event *ev)
{
	if (ev->kind != DBG_EVENT_FORK && ev->kind != DBG_EVENT_VFORK)
		return;
	struct sproc *k = proc_find(s, ev->child);
	if (k)
		k->unreported = false;
}

/* Make @sp the current process; NULL: the first one gdb knows, or none. */
void proc_select(struct server *s, struct sproc *sp)
{
	for (size_t i = 0; !sp && i < s->nprocs; i++)
		if (proc_listed(&s->procs[i]))
			sp = &s->procs[i];
	s->p = sp ? sp->p : NULL;
	s->pid = sp ? sp->pid : 0;
	s->attached = sp ? sp->attached : false;
}

/* The live threads of one process; *ret owned by the caller. */
int proc_threads(struct dbg_proc *p, pid_t **ret)
{
	*ret = NULL;
	if (!p)
		return 0;
	size_t cap = 256;
	for (;;) {
		pid_t *t = malloc(cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		int n = dbg_proc_threads(p, t, cap);
		if (n < 0) {
			free(t);
			return n;
		}
		if (n == 0) {
			free(t); /* none: *ret stays NULL, nothing to free */
			return 0;
		}
		if ((size_t)n <= cap) {
			*ret = t;
			return n;
		}
		free(t);
		cap = (size_t)n + 64;
	}
}

/* Forget what the server keeps about process @pid (its handle still
 * open, so its threads can be told): breakpoints, watchpoints (they go
 * with the handle), per-thread state, kept events. */
void proc_forget(struct server *s, pid_t pid)
{
	struct sproc *sp = proc_find(s, pid);
	for (size_t i = 0; i < s->nzpts;)
		if (s->zpts[i].pid == pid)
			s->zpts[i] = s->zpts[--s->nzpts];
		else
			i++;
	for (size_t i = 0; i < s->npending;) {
		const struct dbg_event *ev = &s->pending[i];
		if (ev->tid == pid || (sp && dbg_proc_thread_state(sp->p, ev->tid) >= 0)) {
			memmove(s->pending + i, s->pending + i + 1,
				(s->npending - i - 1) * sizeof(*ev));
			s->npending--;
		} else {
			i++;
		}
	}
	pid_t *tids = NULL;
	int n = sp ? proc_threads(sp->p, &tids) : 0;
	for (int k = 0; k < n; k++)
		for (size_t i = 0; i < s->nthr; i++)
			if (s->thr[i].tid == tids[k]) {
				s->thr[i] = s->thr[--s->nthr];
				break;
			}
	free(tids);
	for (size_t i = 0; i < s->nthr; i++)
		if (s->thr[i].tid == pid) {
			s->thr[i] = s->thr[--s->nthr];
			break;
		}
}

/* Take @sp (its handle already released) out of the table; the current
 * process, if it was that one, becomes another. */
void proc_remove(struct server *s, struct sproc *sp)
{
	bool cur = sp->p == s->p;
	*sp = s->procs[--s->nprocs];
	if (cur) {
		proc_select(s, NULL);
	} else if (s->p) {
		/* the entries moved: the current one is found again by pid */
		proc_select(s, proc_find(s, s->pid));
	}
}
