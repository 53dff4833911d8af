/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The thread table of a dbg_proc: its traced threads and their states, the
 * tids whose exit we still have to reap (ghosts), fork children not yet
 * taken over, and the queue of events met while stopping. Nothing here
 * makes a ptrace request; the lifecycle (proc.c) and the wait-status
 * decoding (event.c) change the table through these functions.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables ------------------------------------------------------- */

static void *grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *n = realloc(arr, ncap * elem);
	if (n)
		*cap = ncap;
	return n;
}

struct dbg__thread *dbg__thread_find(struct dbg_proc *p, pid_t tid)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].tid == tid)
			return &p->threads[i];
	return NULL;
}

struct dbg__thread *dbg__thread_add(struct dbg_proc *p, pid_t tid)
{
	struct dbg__thread *t = dbg__thread_find(p, tid);
	if (t)
		return t;
	void *n = grow(p->threads, &p->cap_threads, p->nthreads + 1, sizeof(*p->threads));
	if (!n)
		return NULL;
	p->threads = n;
	t = &p->threads[p->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->state = T_RUNNING;
	dbg__hook_clone(p, t);
	return t;
}

void dbg__thread_remove(struct dbg_proc *p, struct dbg__thread *t)
{
	size_t i = t - p->threads;
	pid_t tid = t->tid;
	memmove(&p->threads[i], &p->threads[i + 1], (p->nthreads - i - 1) * sizeof(*t));
	p->nthreads--;
	/* The address space is named by a live task: with a zombie leader,
	 * another thread once this one is gone (the fds opened through it
	 * pin the mm and stay good; process_vm_readv needs a live tid). */
	if (tid == p->mm_tid && p->leader_zombie)
		for (size_t j = 0; j < p->nthreads; j++)
			if (p->threads[j].state != T_EXITED) {
				p->mm_tid = p->threads[j].tid;
				break;
			}
}

bool dbg__mm_tid_next(struct dbg_proc *p)
{
	if (!p->nthreads)
		return false;
	size_t at = 0;
	for (size_t j = 0; j < p->nthreads; j++)
		if (p->threads[j].tid == p->mm_tid)
			at = j;
	for (size_t k = 1; k <= p->nthreads; k++) {
		const struct dbg__thread *t = &p->threads[(at + k) % p->nthreads];
		if (t->state != T_EXITED && t->tid != p->mm_tid && t->tid != p->pid) {
			p->mm_tid = t->tid;
			return true;
		}
	}
	return false;
}

bool dbg__ghost_take(struct dbg_proc *p, pid_t tid)
{
	for (size_t i = 0; i < p->nghosts; i++) {
		if (p->ghosts[i] == tid) {
			p->ghosts[i] = p->ghosts[--p->nghosts];
			return true;
		}
	}
	return false;
}

void dbg__ghost_add(struct dbg_proc *p, pid_t tid)
{
	void *n = grow(p->ghosts, &p->cap_ghosts, p->nghosts + 1, sizeof(pid_t));
	if (!n)
		return; /* worst case a zombie thread waits for our detach */
	p->ghosts = n;
	p->ghosts[p->nghosts++] = tid;
}

struct dbg__child *dbg__child_find(struct dbg_proc *p, pid_t pid)
{
	for (size_t i = 0; i < p->nchildren; i++)
		if (p->children[i].pid == pid)
			return &p->children[i];
	return NULL;
}

struct dbg__child *dbg__child_add(struct dbg_proc *p, pid_t pid)
{
	struct dbg__child *c = dbg__child_find(p, pid);
	if (c)
		return c;
	void *n = grow(p->children, &p->cap_children, p->nchildren + 1, sizeof(*c));
	if (!n)
		return NULL;
	p->children = n;
	c = &p->children[p->nchildren++];
	c->pid = pid;
	c->stopped = false;
	return c;
}

void dbg__child_remove(struct dbg_proc *p, struct dbg__child *c)
{
	*c = p->children[--p->nchildren];
}

int dbg__event_push(struct dbg_proc *p, const struct dbg_event *ev)
{
	struct dbg__event_queue *q = &p->events;
	if (q->len == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 16;
		struct dbg_event *n = malloc(ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < q->len; i++)
			n[i] = q->ev[(q->head + i) % q->cap];
		free(q->ev);
		q->ev = n;
		q->cap = ncap;
		q->head = 0;
	}
	q->ev[(q->head + q->len) % q->cap] = *ev;
	q->len++;
	return 0;
}

bool dbg__event_pop(struct dbg_proc *p, struct dbg_event *ev)
{
	struct dbg__event_queue *q = &p->events;
	if (!q->len)
		return false;
	*ev = q->ev[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return true;
}

bool dbg__all_stopped(const struct dbg_proc *p)
{
	if (!p->nthreads)
		return false;
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].state == T_RUNNING)
			return false;
	return true;
}

struct dbg__thread *dbg__any_stopped(struct dbg_proc *p)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].state == T_STOPPED)
			return &p->threads[i];
	return NULL;
}

int dbg__stopped_thread(struct dbg_proc *p, pid_t tid, struct dbg__thread **ret_t)
{
	struct dbg__thread *t = dbg__thread_find(p, tid);
	if (!t) {
		if (p->exited)
			return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
		if (tid == p->pid && p->leader_zombie)
			return dbg__fail(p, -ESRCH,
					 "thread %d (the leader) has exited; it stays a zombie "
					 "until the other threads exit", tid);
		return dbg__fail(p, -ENOENT, "thread %d is not a thread of %d", tid, p->pid);
	}
	if (t->state == T_EXITED)
		return dbg__fail(p, -ESRCH,
				 "thread %d (the leader) has exited; it stays a zombie "
				 "until the other threads exit", tid);
	if (p->foreign_arch)
		return dbg__fail(p, -DBG_ERRNO_ARCH, "pid %d is now a %s process (after exec)",
				 p->pid, p->foreign_arch);
	if (t->state != T_STOPPED)
		return dbg__fail(p, -DBG_ERRNO_RUNNING, "thread %d is not in a ptrace-stop", tid);
	*ret_t = t;
	return 0;
}

void dbg__mark_exited_if_empty(struct dbg_proc *p)
{
	if (!p->nthreads)
		p->exited = true;
}

/* ---- /proc/TID/status ---------------------------------------------- */

int dbg__task_status(pid_t tid, struct dbg__task_status *st)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	ssize_t n = dbg__read_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	memset(st, 0, sizeof(*st));
	const char *s;
	if ((s = strstr(buf, "\nState:\t")))
		st->state = s[8];
	if ((s = strstr(buf, "\nTgid:\t")))
		st->tgid = atoi(s + 7);
	if ((s = strstr(buf, "\nPPid:\t")))
		st->ppid = atoi(s + 7);
	if ((s = strstr(buf, "\nTracerPid:\t")))
		st->tracer = atoi(s + 12);
	if ((s = strstr(buf, "\nThreads:\t")))
		st->threads = atoi(s + 10);
	if (!st->tgid)
		return -DBG_ERRNO_PARSE;
	return 0;
}

/* ---- public queries ------------------------------------------------- */

int dbg_proc_threads(struct dbg_proc *p, pid_t *buf, size_t cap)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	dbg__leader_look(p, true);
	size_t n = 0;
	for (size_t i = 0; i < p->nthreads; i++) {
		if (p->threads[i].state == T_EXITED)
			continue; /* a zombie leader is not a live thread */
		if (n < cap)
			buf[n] = p->threads[i].tid;
		n++;
	}
	return (int)n;
}

int dbg_proc_thread_state(struct dbg_proc *p, pid_t tid)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	struct dbg__thread *t = dbg__thread_find(p, tid);
	if (!t)
		return tid == p->pid && p->leader_zombie ? DBG_THREAD_EXITED : -ENOENT;
	return t->state;
}
