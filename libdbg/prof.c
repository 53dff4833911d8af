/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sampling profiler: the run loop, the ptrace source (stop, snapshot,
 * resume, unwind after), and the aggregation both sources feed (each
 * distinct address symbolized once, stacks counted per thread and in
 * total). The perf source is in prof_perf.c. See doc/profiling.md.
 */
#include "prof_internal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HZ 99
#define DEFAULT_STACK 32768
#define DEFAULT_FRAMES 128
#define MAX_LINES 16
/* ptrace: dbg_proc_wait() at least this often */
#define EVENTS_EVERY_NS 2000000ull
/* ptrace: a slot this close is taken without sleeping for it */
#define SLOT_SLACK_NS 500000ull

uint64_t dbg__prof_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- small containers --------------------------------------------------- */

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	while (c < need)
		c *= 2;
	void *n = realloc(*v, c * elem);
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = c;
	return 0;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

/* Find @key; *ret_slot is where it is or would go. */
static struct dbg__hent *hfind(struct dbg__htab *h, uint64_t key)
{
	size_t i = (size_t)(key ^ (key >> 29)) & (h->cap - 1);
	while (h->e[i].idx && h->e[i].key != key)
		i = (i + 1) & (h->cap - 1);
	return &h->e[i];
}

static int hreserve(struct dbg__htab *h)
{
	if (h->cap && (h->len + 1) * 2 <= h->cap)
		return 0;
	size_t nc = h->cap ? h->cap * 2 : 1024;
	struct dbg__hent *ne = calloc(nc, sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	struct dbg__htab n = { ne, nc, h->len };
	for (size_t i = 0; i < h->cap; i++)
		if (h->e[i].idx)
			*hfind(&n, h->e[i].key) = h->e[i];
	free(h->e);
	*h = n;
	return 0;
}

static const char *keep_str(struct dbg_prof *p, const char *s)
{
	if (!s)
		return NULL;
	if (grow((void **)&p->strs, &p->cap_strs, p->nstrs + 1, sizeof(char *)) < 0)
		return NULL;
	char *d = strdup(s);
	if (d)
		p->strs[p->nstrs++] = d;
	return d;
}

static void *keep_block(struct dbg_prof *p, const void *src, size_t len)
{
	if (grow((void **)&p->blocks, &p->cap_blocks, p->nblocks + 1, sizeof(void *)) < 0)
		return NULL;
	void *d = malloc(len ? len : 1);
	if (!d)
		return NULL;
	memcpy(d, src, len);
	p->blocks[p->nblocks++] = d;
	return d;
}

/* A name demangled (C++, Rust), or as it is; kept in the profile. */
static const char *keep_name(struct dbg_prof *p, const char *name)
{
	char buf[1024];
	if (!name)
		return NULL;
	int n = dbg_sym_demangle(name, buf, sizeof(buf));
	if (n >= 0 && (size_t)n < sizeof(buf))
		return keep_str(p, buf);
	if (n >= 0) {
		char *big = malloc((size_t)n + 1);
		if (big && dbg_sym_demangle(name, big, (size_t)n + 1) == n) {
			const char *r = keep_str(p, big);
			free(big);
			return r;
		}
		free(big);
	}
	return keep_str(p, name);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* ---- threads ------------------------------------------------------------ */

static void read_comm(struct dbg_prof *p, struct dbg__pthr *t)
{
	char path[96], comm[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)p->proc->pid, (int)t->pub.tid);
	ssize_t n = dbg__read_file(path, comm, sizeof(comm));
	t->comm_ns = dbg__prof_now();
	if (n > 0) {
		comm[strcspn(comm, "\n")] = 0;
		comm[sizeof(t->pub.comm) - 1] = 0;
		memcpy(t->pub.comm, comm, strlen(comm) + 1);
	}
}

struct dbg__pthr *dbg__prof_thread(struct dbg_prof *p, pid_t tid, bool create)
{
	for (size_t i = p->nthr; i-- > 0;)
		if (p->thr[i].pub.tid == tid && (p->thr[i].alive || !create))
			return &p->thr[i];
	if (!create || grow((void **)&p->thr, &p->cap_thr, p->nthr + 1, sizeof(*p->thr)) < 0)
		return NULL;
	struct dbg__pthr *t = &p->thr[p->nthr++];
	memset(t, 0, sizeof(*t));
	t->pub.tid = tid;
	t->alive = true;
	t->stat_fd = t->sched_fd = -1;
	t->first_ns = t->last_ns = t->born_ns = dbg__prof_now();
	read_comm(p, t);
	return t;
}

static void thread_gone(struct dbg_prof *p, struct dbg__pthr *t)
{
	if (!t->alive)
		return;
	t->alive = false;
	p->st.thread_seconds_ns += t->last_ns - t->first_ns;
	if (t->stat_fd >= 0)
		close(t->stat_fd);
	if (t->sched_fd >= 0)
		close(t->sched_fd);
	t->stat_fd = t->sched_fd = -1;
}

/* Bring the table up to the proc's live threads: new ones start their
 * alive time, missing ones end it. Returns the live count or -errno. */
static int update_threads(struct dbg_prof *p)
{
	int n = dbg_proc_threads(p->proc, p->tids, p->cap_tids);
	if (n < 0)
		return n;
	if ((size_t)n > p->cap_tids) {
		if (grow((void **)&p->tids, &p->cap_tids, (size_t)n + 16, sizeof(pid_t)) < 0)
			return -ENOMEM;
		n = dbg_proc_threads(p->proc, p->tids, p->cap_tids);
		if (n < 0)
			return n;
		if ((size_t)n > p->cap_tids)
			n = (int)p->cap_tids;
	}
	uint64_t now = dbg__prof_now();
	for (size_t i = 0; i < p->nthr; i++)
		p->thr[i].seen_this_round = false;
	for (int i = 0; i < n; i++) {
		struct dbg__pthr *t = dbg__prof_thread(p, p->tids[i], true);
		if (!t)
			return -ENOMEM;
		t->seen_this_round = true;
		t->last_ns = now;
		/* A new thread is often named just after it starts. */
		if (now - t->born_ns < 1000000000ull && now - t->comm_ns > 100000000ull)
			read_comm(p, t);
	}
	for (size_t i = 0; i < p->nthr; i++)
		if (p->thr[i].alive && !p->thr[i].seen_this_round)
			thread_gone(p, &p->thr[i]);
	return n;
}

/* ---- aggregation ---------------------------------------------------------- */

static int mapping_for(struct dbg_prof *p, const struct dbg_module *m)
{
	for (size_t i = 0; i < p->nmaps; i++)
		if (p->maps[i].start == m->start && p->maps[i].end == m->end &&
		    strcmp(p->maps[i].path, m->path) == 0)
			return (int)i;
	if (grow((void **)&p->maps, &p->cap_maps, p->nmaps + 1, sizeof(*p->maps)) < 0)
		return -1;
	struct dbg_prof_mapping *mp = &p->maps[p->nmaps];
	memset(mp, 0, sizeof(*mp));
	mp->start = m->start;
	mp->end = m->end;
	mp->path = keep_str(p, m->path);
	if (!mp->path)
		return -1;
	mp->is_main = strcmp(m->path, p->sym->exe) == 0;
	if (m->build_id && m->build_id_len) {
		mp->build_id = keep_block(p, m->build_id, m->build_id_len);
		mp->build_id_len = mp->build_id ? m->build_id_len : 0;
	}
	struct dbg_vma v;
	if (m->path[0] != '[' && dbg_proc_vma_query(p->proc, m->start, &v, NULL, 0) == 0)
		mp->file_offset = v.offset;
	return (int)p->nmaps++;
}

/* Symbolize a new location. */
static int loc_fill(struct dbg_prof *p, struct dbg_prof_loc *l)
{
	uint64_t at = l->addr - (l->activation ? 0 : 1);
	struct dbg_module mod;
	bool have_mod = dbg_sym_module(p->sym, at, &mod) == 0;
	if (!have_mod && dbg__prof_now() - p->last_refresh_ns > 500000000ull) {
		/* A library mapped since the table was built (dlopen). */
		p->last_refresh_ns = dbg__prof_now();
		if (dbg_sym_refresh(p->sym) == 0)
			have_mod = dbg_sym_module(p->sym, at, &mod) == 0;
	}
	l->mapping = have_mod ? mapping_for(p, &mod) : -1;
	struct dbg_symbol s;
	bool have_sym = have_mod && dbg_sym_lookup(p->sym, at, &s) == 0;
	char buf[512];
	if (have_sym)
		l->name = keep_name(p, s.name);
	else if (have_mod) {
		snprintf(buf, sizeof(buf), "[%s+0x%" PRIx64 "]", base_name(mod.path), at - mod.start);
		l->name = keep_str(p, buf);
	} else {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, l->addr);
		l->name = keep_str(p, buf);
	}
	if (!l->name)
		return -ENOMEM;
	struct dbg_srcloc locs[MAX_LINES];
	int nl = have_mod ? dbg_sym_srclocs(p->sym, at, locs, MAX_LINES) : 0;
	if (nl > MAX_LINES)
		nl = MAX_LINES;
	struct dbg_prof_line lines[MAX_LINES];
	size_t n = 0;
	for (int i = 0; i < nl; i++) {
		struct dbg_prof_line *ln = &lines[n];
		/* The function holding the code by its symbol, as dbg-stack
		 * and eu-stack name it (a clone "f [clone .cold]" is not its
		 * DWARF function "f"); inlined ones by their DWARF names. */
		if (!locs[i].inlined && have_sym)
			ln->function = l->name;
		else
			ln->function = locs[i].function ? keep_name(p, locs[i].function) : l->name;
		ln->file = locs[i].file ? keep_str(p, locs[i].file) : NULL;
		ln->line = locs[i].line;
		ln->inlined = locs[i].inlined;
		if (!ln->function)
			return -ENOMEM;
		n++;
		if (!locs[i].inlined)
			break;
	}
	if (n == 0 || lines[n - 1].inlined) {
		/* No DWARF, or a chain cut at MAX_LINES: end with the holder. */
		if (n == MAX_LINES)
			n--;
		lines[n++] = (struct dbg_prof_line){ .function = l->name };
	}
	l->lines = keep_block(p, lines, n * sizeof(lines[0]));
	if (!l->lines)
		return -ENOMEM;
	l->nlines = n;
	return 0;
}

static int loc_id(struct dbg_prof *p, const struct dbg_frame *f, uint32_t *ret)
{
	bool act = f->flags & DBG_FRAME_ACTIVATION;
	uint64_t key = f->pc * 2 + act;
	if (hreserve(&p->loch) < 0)
		return -ENOMEM;
	struct dbg__hent *e = hfind(&p->loch, key);
	if (e->idx) {
		*ret = e->idx - 1;
		return 0;
	}
	if (grow((void **)&p->locs, &p->cap_locs, p->nlocs + 1, sizeof(*p->locs)) < 0)
		return -ENOMEM;
	struct dbg_prof_loc *l = &p->locs[p->nlocs];
	memset(l, 0, sizeof(*l));
	l->addr = f->pc;
	l->activation = act;
	l->mapping = -1;
	e->key = key;
	e->idx = (uint32_t)++p->nlocs;
	p->loch.len++;
	*ret = e->idx - 1;
	return 0;
}

static int stack_count(struct dbg_prof *p, struct dbg__stacktab *t, pid_t tid, const uint32_t *ids,
		       size_t n, uint64_t w)
{
	uint64_t h = mix(0x51ed27, (uint64_t)tid);
	for (size_t i = 0; i < n; i++)
		h = mix(h, ids[i]);
	h |= 1; /* never 0 */
	if (hreserve(&t->h) < 0)
		return -ENOMEM;
	size_t i = (size_t)(h ^ (h >> 29)) & (t->h.cap - 1);
	for (; t->h.e[i].idx; i = (i + 1) & (t->h.cap - 1)) {
		if (t->h.e[i].key != h)
			continue;
		struct dbg_prof_stack *s = &t->v[t->h.e[i].idx - 1];
		if (s->tid == tid && s->nlocs == n && !memcmp(s->locs, ids, n * sizeof(*ids))) {
			s->count += w;
			return 0;
		}
	}
	if (grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)) < 0)
		return -ENOMEM;
	uint32_t *copy = keep_block(p, ids, n * sizeof(*ids));
	if (!copy)
		return -ENOMEM;
	t->v[t->n] = (struct dbg_prof_stack){ .tid = tid, .count = w, .locs = copy, .nlocs = n };
	t->h.e[i].key = h;
	t->h.e[i].idx = (uint32_t)++t->n;
	t->h.len++;
	return 0;
}

/* Symbolize the locations found since the last call: at the end of a
 * run and before an exec replaces the modules, not while sampling (a
 * module's first DWARF lookup can take a while, and the target's ticks
 * or ring would wait for it). */
static int symbolize_pending(struct dbg_prof *p)
{
	for (; p->nsymbolized < p->nlocs; p->nsymbolized++) {
		int r = loc_fill(p, &p->locs[p->nsymbolized]);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Cut a stack where the unwinder went on through garbage: the same
 * return address again and again outside every module (seen for a thread
 * at its first stop in clone3's child, whose CFI still describes the
 * parent: the heap pointer given as the thread's argument came back as
 * the return address for the rest of the frames). A repeated address in
 * a module is recursion and stays.
 */
static int trim_garbage(struct dbg_prof *p, const struct dbg_frame *frames, int n)
{
	for (int i = 1; i < n; i++) {
		if (frames[i].pc != frames[i - 1].pc)
			continue;
		struct dbg_module m;
		if (dbg_sym_module(p->sym, frames[i].pc - 1, &m) != 0)
			return i;
	}
	return n;
}

int dbg__prof_add(struct dbg_prof *p, pid_t tid, const struct dbg_frame *frames, int n)
{
	return dbg__prof_add_n(p, tid, frames, n, 1);
}

int dbg__prof_add_n(struct dbg_prof *p, pid_t tid, const struct dbg_frame *frames, int n, uint64_t w)
{
	if (n < 0)
		n = 0;
	n = trim_garbage(p, frames, n);
	for (int i = 0; i < n; i++) {
		int r = loc_id(p, &frames[i], &p->ids[i]);
		if (r < 0)
			return r;
	}
	int r = stack_count(p, &p->per_thread, tid, p->ids, (size_t)n, w);
	if (r == 0)
		r = stack_count(p, &p->total, 0, p->ids, (size_t)n, w);
	if (r < 0)
		return r;
	struct dbg__pthr *t = dbg__prof_thread(p, tid, false);
	if (!t)
		t = dbg__prof_thread(p, tid, true);
	if (t) {
		if (!t->pub.samples)
			p->st.threads++;
		t->pub.samples += w;
	}
	p->st.samples += w;
	return 0;
}

/* ---- setup ----------------------------------------------------------------- */

static int read_paranoid(void)
{
	char buf[32];
	if (dbg__read_file("/proc/sys/kernel/perf_event_paranoid", buf, sizeof(buf)) <= 0)
		return -100;
	return atoi(buf);
}

static int open_perf_all(struct dbg_prof *p)
{
	int n = update_threads(p);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct dbg__pthr *t = dbg__prof_thread(p, p->tids[i], false);
		if (!t || t->covered)
			continue;
		int r = dbg__prof_perf_open(p, p->tids[i]);
		if (r == -ESRCH)
			continue; /* it just exited */
		if (r < 0)
			return r;
		t->covered = true;
	}
	return 0;
}

static const char *errname(int e)
{
	switch (e) {
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENOMEM: return "ENOMEM";
	default: return "error";
	}
}

int dbg_prof_new(struct dbg_proc *proc, const struct dbg_prof_opts *opts, struct dbg_prof **ret)
{
	if (!proc || !ret)
		return -EINVAL;
	int r = dbg__enter(proc);
	if (r < 0)
		return r;
	if (opts && (!opts->sz || !dbg__opts_valid(opts, sizeof(*opts))))
		return dbg__fail(proc, -EINVAL, "dbg_prof_new: bad options size");
	struct dbg_prof_opts o = { .sz = sizeof(o) };
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (!o.hz)
		o.hz = DEFAULT_HZ;
	if (!o.stack_size)
		o.stack_size = DEFAULT_STACK;
	if (!o.max_frames)
		o.max_frames = DEFAULT_FRAMES;
	if (o.hz > 10000 || o.max_frames > 1024 || o.stack_size < 256 || o.stack_size > (1u << 24) ||
	    (unsigned)o.source > DBG_PROF_SOURCE_PTRACE || (o.flags & ~DBG_PROF_WALL))
		return dbg__fail(proc, -EINVAL, "dbg_prof_new: bad options");
	bool wall = o.flags & DBG_PROF_WALL;
	if (wall && o.source == DBG_PROF_SOURCE_PERF)
		return dbg__fail(proc, -EINVAL, "wall-clock mode needs the ptrace source: a perf "
				 "cpu-clock event sees a thread only while it runs");
	o.stack_size &= ~7u;

	struct dbg_prof *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->proc = proc;
	p->o = o;
	p->st.hz = o.hz;
	p->st.wall = wall;
	p->st.exit_status = -1;
	p->frames = calloc(o.max_frames, sizeof(*p->frames));
	p->ids = calloc(o.max_frames, sizeof(*p->ids));
	if (!p->frames || !p->ids) {
		r = -ENOMEM;
		goto fail;
	}
	r = dbg_sym_new(proc, NULL, &p->sym);
	if (r < 0)
		goto fail;
	r = dbg_unwind_new(proc, p->sym, NULL, &p->uw);
	if (r < 0)
		goto fail;

	p->source = DBG_PROF_SOURCE_PTRACE;
	if (wall && o.source == DBG_PROF_SOURCE_AUTO)
		snprintf(p->note, sizeof(p->note), "wall-clock mode uses the ptrace source");
	if (!wall && o.source != DBG_PROF_SOURCE_PTRACE) {
		r = open_perf_all(p);
		if (r == 0) {
			p->source = DBG_PROF_SOURCE_PERF;
		} else {
			int paranoid = read_paranoid();
			snprintf(p->note, sizeof(p->note),
				 "perf_event_open refused: %s (%s; kernel.perf_event_paranoid = %d; "
				 "sampling another user's process needs CAP_PERFMON or paranoid <= 1, "
				 "paranoid 3 forbids it without CAP_PERFMON)",
				 errname(-r), strerror(-r), paranoid);
			dbg__prof_perf_close(p);
			for (size_t i = 0; i < p->nthr; i++)
				p->thr[i].covered = false;
			if (o.source == DBG_PROF_SOURCE_PERF || r == -ESRCH || r == -ENOMEM) {
				dbg__fail(proc, r, "%s", p->note);
				goto fail;
			}
			dbg__log(proc, DBG_LOG_INFO, "%s; using the ptrace source", p->note);
		}
	}
	p->st.source = p->source;
	*ret = p;
	return 0;
fail:
	dbg_prof_free(p);
	return r;
}

void dbg_prof_free(struct dbg_prof *p)
{
	if (!p)
		return;
	dbg__prof_perf_close(p);
	for (size_t i = 0; i < p->nthr; i++)
		thread_gone(p, &p->thr[i]);
	for (size_t i = 0; i < p->cap_snaps; i++)
		dbg_snapshot_free(p->snaps[i]);
	dbg_snapshot_free(p->psnap);
	dbg_unwind_free(p->uw);
	dbg_sym_free(p->sym);
	for (size_t i = 0; i < p->nstrs; i++)
		free(p->strs[i]);
	for (size_t i = 0; i < p->nblocks; i++)
		free(p->blocks[i]);
	free(p->strs);
	free(p->blocks);
	free(p->per_thread.v);
	free(p->per_thread.h.e);
	free(p->total.v);
	free(p->total.h.e);
	free(p->loch.e);
	free(p->locs);
	free(p->maps);
	free(p->thr);
	free(p->pb);
	free(p->rec);
	free(p->snaps);
	free(p->inflight);
	free(p->tids);
	free(p->frames);
	free(p->ids);
	free(p);
}

/* ---- the run loop ----------------------------------------------------------- */

/* The target's utime + stime (clock ticks, over all its threads, the
 * dead ones too); 0 when it is gone. */
static uint64_t target_cpu_ticks(struct dbg_prof *p)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->proc->pid);
	if (dbg__read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	char *s = strrchr(buf, ')');
	if (!s)
		return 0;
	/* fields after the comm: state(3) ... utime(14) stime(15) */
	unsigned long long ut = 0, stt = 0;
	if (sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt) != 2)
		return 0;
	return ut + stt;
}

static void target_ended(struct dbg_prof *p, const struct dbg_event *ev)
{
	/* A call that found the target gone (-ESRCH from a stop or a read)
	 * can come before the exit event is taken: take what is queued, so
	 * that the exit status is not lost. */
	struct dbg_event last;
	for (int i = 0; !ev && i < 64; i++) {
		if (dbg_proc_wait(p->proc, 50, &last) < 0)
			break;
		if (last.kind == DBG_EVENT_EXITED || last.kind == DBG_EVENT_KILLED)
			ev = &last;
	}
	p->st.exited = true;
	if (ev && ev->kind == DBG_EVENT_EXITED)
		p->st.exit_status = ev->status;
	if (ev && ev->kind == DBG_EVENT_KILLED)
		p->st.exit_signal = ev->signo;
}

/* Take every event the target has for us, then let every thread that
 * stopped for one (clone, exec, signal) go on. Returns how many there
 * were, or -ESRCH when the target ended. */
static int handle_events(struct dbg_prof *p)
{
	int seen = 0;
	bool exec_seen = false;
	uint64_t t0 = 0;
	for (;;) {
		struct dbg_event ev;
		int r = dbg_proc_wait(p->proc, 0, &ev);
		if (r == -EAGAIN || r == -EINTR)
			break;
		if (r == -ESRCH) {
			target_ended(p, NULL);
			return -ESRCH;
		}
		if (r < 0)
			return r;
		if (!seen++)
			t0 = dbg__prof_now();
		switch (ev.kind) {
		case DBG_EVENT_EXITED:
		case DBG_EVENT_KILLED:
			target_ended(p, &ev);
			return -ESRCH;
		case DBG_EVENT_EXEC: {
			p->st.execs++;
			/* Samples still in the rings belong to the old image. */
			/* Samples still in the rings belong to the old image:
			 * unwind them now, while the exec'ing thread waits; name
			 * them and load the new image after it runs on. */
			if (p->source == DBG_PROF_SOURCE_PERF)
				dbg__prof_perf_drain(p);
			exec_seen = true;
			break;
		}
		default:
			break;
		}
	}
	/* Also threads whose first stop was absorbed without an event (the
	 * initial stop of a clone child). */
	int r = dbg_proc_resume(p->proc);
	if (r == -ESRCH) {
		target_ended(p, NULL);
		return -ESRCH;
	}
	if (seen && p->source == DBG_PROF_SOURCE_PERF) {
		p->st.pause_ns += dbg__prof_now() - t0;
		p->st.pauses += (uint64_t)seen;
	}
	if (exec_seen) {
		r = symbolize_pending(p);
		if (r < 0)
			return r;
		dbg_sym_refresh(p->sym);
		for (size_t i = 0; i < p->nthr; i++)
			p->thr[i].vma_lo = p->thr[i].vma_hi = 0;
	}
	return seen;
}

static ssize_t pread_proc(struct dbg_prof *p, int *fd, pid_t tid, const char *file, char *buf,
			  size_t cap)
{
	if (*fd < 0) {
		char path[96];
		snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", (int)p->proc->pid, (int)tid, file);
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0 && (errno == EMFILE || errno == ENFILE))
			return dbg__read_file(path, buf, cap); /* out of fds: read without keeping one */
		if (*fd < 0)
			return -errno;
	}
	ssize_t n = pread(*fd, buf, cap - 1, 0);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

/*
 * How many samples cpu mode takes of thread @t now (0: none): the CPU
 * time it used since its last check (schedstat's run time), in periods,
 * rounded at random (so 0.3 of a period is a sample three times in ten),
 * if it is runnable now (state R). Each thread has its own slot in the
 * period, so the time since its last check is usually one period; it is
 * longer when its last stop was still to come at its slot (a thread
 * waiting for a CPU), and the one sample then stands for the whole time.
 * So each thread's samples follow its CPU time. The state alone is not
 * enough: a sleeping thread is runnable for a moment after a stop wakes
 * it (its interrupted system call restarts), and on a busy machine for
 * longer. Sets t->light when the thread ran for less than the time since
 * its last check (see take_stopped()).
 */
static uint64_t thread_on_cpu(struct dbg_prof *p, struct dbg__pthr *t, uint64_t now)
{
	char buf[512];
	uint64_t period = 1000000000ull / p->o.hz;
	uint64_t since = t->check_ns ? now - t->check_ns : 0;
	t->check_ns = now;
	t->light = false;
	uint64_t w = 1;
	if (pread_proc(p, &t->sched_fd, t->pub.tid, "schedstat", buf, sizeof(buf)) > 0) {
		uint64_t run = strtoull(buf, NULL, 10);
		uint64_t delta = run - t->run_ns;
		/* (A tid taken over by an exec'ing thread has its run time.) */
		bool first = t->run_ns == 0 || since == 0 || run < t->run_ns;
		t->run_ns = run;
		if (delta > since)
			delta = since;
		if (!first) {
			if (delta == 0)
				return 0;
			/* xorshift64 */
			uint64_t x = p->rng ? p->rng : 0x2545f4914f6cdd1dull;
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p->rng = x;
			w = delta / period + ((x % period) < delta % period);
			if (w == 0)
				return 0;
			t->light = delta < since;
		}
	}
	/* Drawn (or no schedstat): it must be runnable now. The state is
	 * read only for the threads drawn, a read less for the others. */
	if (pread_proc(p, &t->stat_fd, t->pub.tid, "stat", buf, sizeof(buf)) <= 0)
		return 0;
	char *s = strrchr(buf, ')');
	return s && s[1] == ' ' && s[2] == 'R' ? w : 0;
}

/*
 * The ptrace source samples each thread alone: at its slot it is asked
 * to stop (PTRACE_INTERRUPT, as dbg_proc_stop_thread() does, but without
 * waiting), the other threads keep running, and when its stop comes (the
 * proc's signalfd wakes the loop) its registers and stack are copied, it
 * is resumed, and the copy is unwound while it runs. A thread that is
 * runnable but waiting for a CPU (8 busy threads on 2 CPUs) reaches the
 * stop only when the scheduler gets to it; meanwhile the loop goes on
 * with the other threads' slots. Its pause is its own sample only.
 */
static int ask_stop(struct dbg_prof *p, struct dbg__pthr *pt)
{
	struct dbg__thread *t = dbg__thread_find(p->proc, pt->pub.tid);
	if (!t || t->state == T_EXITED || t->state == T_LISTENING || t->expect_initial_stop)
		return -ESRCH;
	if (t->state == T_RUNNING && !t->interrupt_pending) {
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0)
			return -ESRCH; /* dying: its exit will be reported */
		t->interrupt_pending = true;
	}
	pt->asked = true;
	pt->ask_ns = dbg__prof_now();
	if (grow((void **)&p->inflight, &p->cap_inflight, p->ninflight + 1, sizeof(pid_t)) < 0)
		return -ENOMEM;
	p->inflight[p->ninflight++] = pt->pub.tid;
	return 0;
}

/* Copy the stopped thread @pt, resume it, unwind the copy. */
static int take_stopped(struct dbg_prof *p, struct dbg__pthr *pt, uint64_t t0)
{
	pid_t tid = pt->pub.tid;
	if (!p->snaps) {
		p->snaps = calloc(1, sizeof(*p->snaps));
		if (!p->snaps)
			return -ENOMEM;
		p->cap_snaps = 1;
	}
	/* A thread that ran only part of the period and now sits in a
	 * system call is off CPU: it was runnable only for a moment (woken,
	 * or on its way into the call). */
	struct dbg_regs regs;
	bool skip = pt->light && dbg_regs_get(p->proc, tid, &regs) == 0 &&
		    (int64_t)regs.orig_rax >= 0;
	int taken = skip ? 0 : dbg_snapshot_take_threads(p->proc, &tid, 1, p->o.stack_size, p->snaps);
	int rr = dbg_proc_resume_thread(p->proc, tid);
	uint64_t t1 = dbg__prof_now();
	p->st.pause_ns += t1 - t0;
	p->st.pauses++;
	p->ask_wait_ns += t0 - pt->ask_ns;
	if (rr < 0 && rr != -ESRCH && rr != -ENOENT)
		return rr;
	if (taken == -ENOMEM)
		return -ENOMEM;
	if (taken <= 0 || !p->snaps[0])
		return 0;
	int n = dbg_unwind_snapshot(p->uw, p->snaps[0], p->frames, p->o.max_frames);
	return dbg__prof_add_n(p, tid, p->frames, n, pt->weight);
}

/*
 * Take the stops of the threads asked to stop that have come: reaped by
 * their own tid (cheap), handled as dbg_proc_stop_thread() would (other
 * events are queued for handle_events()). A thread whose interrupt was
 * consumed elsewhere (reaped by a dbg_proc_wait() and resumed), or that
 * is gone, is dropped. With @block, wait for each (the end of a run).
 */
static int collect_stops(struct dbg_prof *p, bool block)
{
	size_t k = 0;
	int err = 0;
	for (size_t i = 0; i < p->ninflight; i++) {
		pid_t tid = p->inflight[i];
		struct dbg__pthr *pt = dbg__prof_thread(p, tid, false);
		int got = 0; /* 1 stopped, -1 gone, 0 not yet */
		for (;;) {
			struct dbg__thread *t = dbg__thread_find(p->proc, tid);
			if (!t || t->state == T_EXITED) {
				got = -1;
				break;
			}
			if (t->state == T_STOPPED) {
				got = 1;
				break;
			}
			if (!t->interrupt_pending) {
				got = -1; /* its stop was taken and resumed elsewhere */
				break;
			}
			if (block) {
				/* The end of a run: wait for it (with the proc's
				 * stop timeout), then let it go. */
				got = dbg_proc_stop_thread(p->proc, tid) == 0 ? 1 : -1;
				break;
			}
			int status;
			pid_t w = waitpid(tid, &status, __WALL | WNOHANG);
			if (w == 0)
				break;
			if (w < 0) {
				got = -1;
				break;
			}
			struct dbg_event ev;
			if (dbg__handle_status(p->proc, tid, status, &ev) == D_REPORT) {
				dbg__event_push(p->proc, &ev);
				p->queued = true;
			}
		}
		if (got == 0) {
			p->inflight[k++] = tid;
			continue;
		}
		if (pt)
			pt->asked = false;
		if (got < 0 || !pt) {
			p->st.lost++;
			continue;
		}
		int r = block ? (dbg_proc_resume_thread(p->proc, tid), 0)
			      : take_stopped(p, pt, dbg__prof_now());
		if (r < 0 && !err)
			err = r;
	}
	p->ninflight = k;
	return err;
}

/* Ask thread @tid to stop for its sample, if it is to be sampled. */
static int ptrace_sample(struct dbg_prof *p, pid_t tid)
{
	struct dbg__pthr *t = dbg__prof_thread(p, tid, false);
	if (!t || !t->alive)
		return 0;
	bool wall = p->o.flags & DBG_PROF_WALL;
	if (t->asked) {
		/* Its last stop has not come yet (it waits for a CPU): that
		 * sample will stand for this slot too (wall mode), or for
		 * the CPU time until it is next checked (cpu mode). */
		if (wall)
			t->weight++;
		return 0;
	}
	uint64_t w = wall ? 1 : thread_on_cpu(p, t, dbg__prof_now());
	if (!w)
		return 0;
	t->weight = w;
	int r = ask_stop(p, t);
	if (r == -ENOMEM)
		return r;
	return r < 0 ? 0 : collect_stops(p, false);
}

/* Sleep until @t (monotonic ns), or until SIGCHLD comes (blocked during
 * a ptrace run, it makes the proc's signalfd readable): the stop of a
 * thread asked to stop, or a clone or exec event whose thread waits for
 * handle_events() to let it go. SIGCHLD reaches the signalfd only when
 * every thread of the host blocks it (it goes to one that does not), so
 * the sleep is cut to 1 ms while a stop is due, 2 ms otherwise. */
static void sleep_until(struct dbg_prof *p, uint64_t t)
{
	uint64_t now = dbg__prof_now();
	uint64_t d = t > now ? t - now : 0;
	uint64_t cap = p->ninflight ? 1000000ull : EVENTS_EVERY_NS;
	if (d > cap)
		d = cap;
	struct timespec ts = { (time_t)(d / 1000000000ull), (long)(d % 1000000000ull) };
	struct pollfd fd = { .fd = dbg_proc_fd(p->proc), .events = POLLIN };
	ppoll(&fd, 1, &ts, NULL);
}

int dbg_prof_run(struct dbg_prof *p, int duration_ms)
{
	if (!p)
		return -EINVAL;
	int r = dbg__enter(p->proc);
	if (r < 0)
		return r;
	if (p->st.exited)
		return 0;
	p->stop = 0;
	uint64_t cpu0 = thread_cpu_ns();
	uint64_t start = dbg__prof_now();
	uint64_t end = duration_ms >= 0 ? start + (uint64_t)duration_ms * 1000000ull : UINT64_MAX;
	uint64_t ticks0 = target_cpu_ticks(p), ticks_last = ticks0;
	uint64_t period = 1000000000ull / p->o.hz;
	uint64_t next = start;
	p->nlive = 0;
	p->last_poll_ns = start;
	/* The stops of the threads asked to stop (ptrace) and the ptrace
	 * events (both sources) wake the loop through the proc's signalfd,
	 * which sees SIGCHLD only while it is blocked in this thread. */
	sigset_t chld, oldmask;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	bool masked = pthread_sigmask(SIG_BLOCK, &chld, &oldmask) == 0;
	pid_t *slots = NULL; /* ptrace: the threads of this period's slots */
	size_t nslots = 0, slot = 0, cap_slots = 0;
	uint64_t pstart = start;
	for (size_t i = 0; i < p->nthr; i++)
		if (p->thr[i].alive)
			p->thr[i].first_ns = p->thr[i].last_ns = start;
	r = dbg_proc_resume(p->proc);
	if (r == -ESRCH)
		target_ended(p, NULL);
	if (p->source == DBG_PROF_SOURCE_PERF)
		dbg__prof_perf_enable(p, true);
	while (!p->stop && !p->st.exited) {
		uint64_t now = dbg__prof_now();
		if (now >= end)
			break;
		if (p->ninflight) {
			r = collect_stops(p, false);
			if (r < 0)
				goto out;
		}
		if (p->source == DBG_PROF_SOURCE_PTRACE && !p->queued && p->nlive > 0 &&
		    now - p->last_events_ns < EVENTS_EVERY_NS) {
			/* dbg_proc_wait() costs a few system calls even with
			 * nothing to take: ask it when SIGCHLD came (the
			 * signalfd is readable), a stop queued an event, or
			 * every 2 ms (SIGCHLD goes to another thread of the
			 * host that does not block it). */
			struct pollfd fd = { .fd = dbg_proc_fd(p->proc), .events = POLLIN };
			r = 0;
			if (poll(&fd, 1, 0) > 0) {
				p->last_events_ns = now;
				r = handle_events(p);
			}
		} else {
			p->queued = false;
			p->last_events_ns = now;
			r = handle_events(p);
		}
		if (r == -ESRCH)
			break;
		if (r < 0)
			goto out;
		/* The thread list changes only with events; the perf source
		 * looks again every 100 ms for the alive-time accounting. */
		int nlive = p->nlive;
		bool periodic = now - p->last_poll_ns >= 100000000ull;
		if (r > 0 || periodic || nlive == 0 ||
		    (p->source == DBG_PROF_SOURCE_PTRACE && slot >= nslots))
			nlive = p->nlive = update_threads(p);
		if (nlive < 0) {
			if (nlive == -ESRCH) {
				target_ended(p, NULL);
				break;
			}
			r = nlive;
			goto out;
		}
		if (periodic) {
			p->last_poll_ns = now;
			uint64_t c = target_cpu_ticks(p);
			if (c)
				ticks_last = c;
		}
		if (p->source == DBG_PROF_SOURCE_PERF) {
			r = dbg__prof_perf_drain(p);
			if (r < 0)
				goto out;
			r = dbg__prof_perf_cover(p);
			if (r < 0 && r != -ESRCH)
				goto out;
			/* Wake for a ring half full, a ptrace event (SIGCHLD
			 * makes the proc's signalfd readable), or every 20 ms.
			 * Each wakeup of the profiler takes a CPU from a target
			 * thread: waking every 5 ms and at a quarter-full ring
			 * doubled the profiler's CPU per sample at 999 Hz. */
			struct pollfd fds[1 + 256];
			size_t nf = 0;
			fds[nf++] = (struct pollfd){ .fd = dbg_proc_fd(p->proc), .events = POLLIN };
			for (size_t i = 0; i < p->npb && nf < DBG__ARRAY_SIZE(fds); i++)
				if (!p->pb[i].hup && p->pb[i].base)
					fds[nf++] = (struct pollfd){ .fd = p->pb[i].fd, .events = POLLIN };
			uint64_t left = end - dbg__prof_now();
			int wait_ms = 20;
			if (end != UINT64_MAX && left < (uint64_t)wait_ms * 1000000ull)
				wait_ms = (int)(left / 1000000ull) + 1;
			if (poll(fds, nf, wait_ms) > 0)
				for (size_t i = 1; i < nf; i++)
					if (fds[i].revents & (POLLHUP | POLLERR))
						for (size_t j = 0; j < p->npb; j++)
							if (p->pb[j].fd == fds[i].fd)
								p->pb[j].hup = true;
			continue;
		}
		/* ptrace: a period (1/hz) at fixed times, cut into one slot
		 * per thread alive at its start, so the threads' samples are
		 * spread over it and each thread is stopped alone; periods we
		 * are too late for are lost, not made up. */
		if (slot >= nslots) {
			if (now < next) {
				sleep_until(p, next < end ? next : end);
				continue;
			}
			if (now >= next + period) {
				uint64_t missed = (now - next) / period;
				p->st.lost += missed;
				next += missed * period;
			}
			pstart = next;
			next += period;
			p->st.ticks++;
			if ((size_t)nlive > cap_slots) {
				pid_t *ns = realloc(slots, ((size_t)nlive + 16) * sizeof(*ns));
				if (!ns) {
					r = -ENOMEM;
					goto out;
				}
				slots = ns;
				cap_slots = (size_t)nlive + 16;
			}
			memcpy(slots, p->tids, (size_t)nlive * sizeof(*slots));
			nslots = (size_t)nlive;
			slot = 0;
			if (nslots == 0)
				continue;
		}
		/* Slots less than SLOT_SLACK_NS ahead are taken now: with
		 * many threads (64 at 99 Hz: a slot every 158 us) a wakeup
		 * per slot cost more than the samples. */
		uint64_t at = pstart + period * slot / nslots;
		if (now + SLOT_SLACK_NS < at) {
			sleep_until(p, at < end ? at : end);
			continue;
		}
		r = ptrace_sample(p, slots[slot++]);
		if (r < 0)
			goto out;
	}
	r = 0;
out:;
	/* Threads still asked to stop: take their stops (samples like the
	 * others), polling, since SIGCHLD may go to another thread of the
	 * host; the proc's stop timeout for the last ones. */
	uint64_t until = dbg__prof_now() + (uint64_t)p->proc->stop_timeout_ms * 1000000ull;
	while (p->ninflight && dbg__prof_now() < until) {
		int c = collect_stops(p, false);
		if (c < 0) {
			if (r == 0)
				r = c;
			break;
		}
		if (p->ninflight)
			sleep_until(p, dbg__prof_now() + 1000000ull);
	}
	if (p->ninflight) {
		int c = collect_stops(p, true);
		if (r == 0 && c < 0 && c != -ESRCH)
			r = c;
	}
	if (masked)
		pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	/* The sampling time ends here; naming what was found comes after. */
	uint64_t stop = dbg__prof_now();
	if (p->source == DBG_PROF_SOURCE_PERF) {
		dbg__prof_perf_enable(p, false);
		int d = dbg__prof_perf_drain(p);
		if (r == 0)
			r = d;
	}
	int sr = symbolize_pending(p);
	if (r == 0)
		r = sr;
	uint64_t c_end = target_cpu_ticks(p);
	if (c_end)
		ticks_last = c_end;
	p->st.elapsed_ns += stop - start;
	for (size_t i = 0; i < p->nthr; i++)
		if (p->thr[i].alive) {
			if (!p->st.exited)
				p->thr[i].last_ns = stop;
			p->st.thread_seconds_ns += p->thr[i].last_ns - p->thr[i].first_ns;
			p->thr[i].first_ns = p->thr[i].last_ns;
		}
	if (p->st.exited)
		for (size_t i = 0; i < p->nthr; i++)
			thread_gone(p, &p->thr[i]);
	if (ticks_last > ticks0)
		p->target_cpu_ticks += ticks_last - ticks0;
	p->st.cpu_ns += thread_cpu_ns() - cpu0;
	free(slots);
	return r;
}

void dbg_prof_stop(struct dbg_prof *p)
{
	if (p)
		p->stop = 1;
}

int dbg_prof_get_stats(const struct dbg_prof *p, struct dbg_prof_stats *ret)
{
	if (!p || !ret)
		return -EINVAL;
	*ret = p->st;
	/* The rate per thread against the time threads could be sampled:
	 * wall mode, the time each was alive; cpu mode, the CPU time the
	 * target used. */
	if (p->source == DBG_PROF_SOURCE_PTRACE) {
		/* Sampling rounds per second: each samples every thread that
		 * is on CPU (cpu mode) or alive (wall mode). */
		double secs = (double)p->st.elapsed_ns / 1e9;
		ret->achieved_hz = secs > 0 ? (double)p->st.ticks / secs : 0;
	} else {
		/* Samples per second of the target's CPU time: the period of a
		 * task-clock event is CPU time. */
		long tck = sysconf(_SC_CLK_TCK);
		double secs = (double)p->target_cpu_ticks / (double)(tck > 0 ? tck : 100);
		ret->achieved_hz = secs > 0 ? (double)(p->st.samples + p->st.no_stack) / secs : 0;
	}
	return 0;
}

const char *dbg_prof_source_note(const struct dbg_prof *p)
{
	return p && p->note[0] ? p->note : NULL;
}

const char *dbg_prof_source_str(enum dbg_prof_source s)
{
	switch (s) {
	case DBG_PROF_SOURCE_AUTO: return "auto";
	case DBG_PROF_SOURCE_PERF: return "perf";
	case DBG_PROF_SOURCE_PTRACE: return "ptrace";
	}
	return "unknown";
}

size_t dbg_prof_nlocs(const struct dbg_prof *p)
{
	return p ? p->nlocs : 0;
}

const struct dbg_prof_loc *dbg_prof_loc_at(const struct dbg_prof *p, size_t i)
{
	return p && i < p->nlocs ? &p->locs[i] : NULL;
}

size_t dbg_prof_nmappings(const struct dbg_prof *p)
{
	return p ? p->nmaps : 0;
}

const struct dbg_prof_mapping *dbg_prof_mapping_at(const struct dbg_prof *p, size_t i)
{
	return p && i < p->nmaps ? &p->maps[i] : NULL;
}

size_t dbg_prof_nstacks(const struct dbg_prof *p, bool total)
{
	return p ? (total ? p->total.n : p->per_thread.n) : 0;
}

const struct dbg_prof_stack *dbg_prof_stack_at(const struct dbg_prof *p, bool total, size_t i)
{
	if (!p)
		return NULL;
	const struct dbg__stacktab *t = total ? &p->total : &p->per_thread;
	return i < t->n ? &t->v[i] : NULL;
}

size_t dbg_prof_nthreads(const struct dbg_prof *p)
{
	return p ? p->nthr : 0;
}

const struct dbg_prof_thread *dbg_prof_thread_at(const struct dbg_prof *p, size_t i)
{
	return p && i < p->nthr ? &p->thr[i].pub : NULL;
}
