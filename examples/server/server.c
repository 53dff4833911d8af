/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg-server: a gdb remote-protocol server over libdbg's public API.
 *
 *   dbg-server [--once] [--multi] [--attach PID] HOST:PORT|stdio [PROG [ARGS...]]
 *
 * All-stop mode: when any thread reports an event, every thread is
 * stopped (dbg_proc_stop) and the event is reported; events met while
 * stopping are kept and reported, one per resume, before the target runs
 * again. See doc/server.md.
 */
#define _GNU_SOURCE
#include "server.h"
#include "osdata.h"
#include "svr4.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h> /* PTRACE_EVENT_STOP: the si_code of our stops */
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------------------------------------------------------- buffers */

void buf_add(struct buf *b, const void *d, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *nd = realloc(b->d, cap);
		if (!nd) {
			fprintf(stderr, "dbg-server: out of memory\n");
			exit(1);
		}
		b->d = nd;
		b->cap = cap;
	}
	memcpy(b->d + b->len, d, n);
	b->len += n;
	b->d[b->len] = 0;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		buf_add(b, tmp, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big)
		return;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_add(b, big, (size_t)n);
	free(big);
}

void buf_hex(struct buf *b, const void *d, size_t n)
{
	char tmp[1024];
	const uint8_t *p = d;
	while (n) {
		size_t k = n > sizeof(tmp) / 2 ? sizeof(tmp) / 2 : n;
		rsp_tohex(p, k, tmp);
		buf_add(b, tmp, 2 * k);
		p += k;
		n -= k;
	}
}

/* The length of the UTF-8 sequence at @s (1..4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned min;
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000;
	else
		return 0;
	unsigned cp = c & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void buf_xml(struct buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (*s) {
		size_t n = 1;
		switch (*s) {
		case '<': buf_printf(b, "&lt;"); break;
		case '>': buf_printf(b, "&gt;"); break;
		case '&': buf_printf(b, "&amp;"); break;
		case '"': buf_printf(b, "&quot;"); break;
		case '\'': buf_printf(b, "&apos;"); break;
		default:
			if (*s < 32 || *s == 127)
				break;
			n = utf8_len(s);
			if (n)
				buf_add(b, s, n);
			else
				buf_add(b, "?", 1), n = 1;
		}
		s += n;
	}
}

/* All of @path into @b (NUL-terminated, NULs inside kept); 0 or -errno. */
int buf_read_file(const char *path, struct buf *b)
{
	buf_reset(b);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char tmp[8192];
	ssize_t n;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(b, tmp, (size_t)n);
	int err = n < 0 ? -errno : 0;
	close(fd);
	if (!err && !b->d)
		buf_add(b, "", 0);
	return err;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->d)
		b->d[0] = 0;
}

/* ---------------------------------------------------------------- signals */

static const struct { int lx, gdb; } sigmap[] = {
	{ SIGHUP, 1 }, { SIGINT, 2 }, { SIGQUIT, 3 }, { SIGILL, 4 }, { SIGTRAP, 5 },
	{ SIGABRT, 6 }, { SIGFPE, 8 }, { SIGKILL, 9 }, { SIGBUS, 10 }, { SIGSEGV, 11 },
	{ SIGSYS, 12 }, { SIGPIPE, 13 }, { SIGALRM, 14 }, { SIGTERM, 15 }, { SIGURG, 16 },
	{ SIGSTOP, 17 }, { SIGTSTP, 18 }, { SIGCONT, 19 }, { SIGCHLD, 20 }, { SIGTTIN, 21 },
	{ SIGTTOU, 22 }, { SIGIO, 23 }, { SIGXCPU, 24 }, { SIGXFSZ, 25 }, { SIGVTALRM, 26 },
	{ SIGPROF, 27 }, { SIGWINCH, 28 }, { SIGUSR1, 30 }, { SIGUSR2, 31 }, { SIGPWR, 32 },
};

int sig_to_gdb(int s)
{
	for (size_t i = 0; i < sizeof(sigmap) / sizeof(sigmap[0]); i++)
		if (sigmap[i].lx == s)
			return sigmap[i].gdb;
	if (s == 32)
		return 77;
	if (s >= 33 && s <= 63)
		return 45 + (s - 33);
	if (s == 64)
		return 78;
	return s == 0 ? 0 : 143; /* GDB_SIGNAL_UNKNOWN */
}

int sig_from_gdb(int g)
{
	for (size_t i = 0; i < sizeof(sigmap) / sizeof(sigmap[0]); i++)
		if (sigmap[i].gdb == g)
			return sigmap[i].lx;
	if (g == 77)
		return 32;
	if (g >= 45 && g <= 75)
		return 33 + (g - 45);
	if (g == 78)
		return 64;
	return 0;
}

/* ---------------------------------------------------------------- state */

static struct server S;
static int g_listen_fd = -1;

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

static void lib_log(enum dbg_log_level lvl, const char *msg, void *ctx)
{
	(void)ctx;
	if (S.debug && (lvl <= DBG_LOG_WARN || getenv("DBG_SERVER_LIBDEBUG")))
		logmsg("dbg-server: libdbg: %s\n", msg);
}

static struct thr *thr_find(struct server *s, pid_t tid, bool create)
{
	for (size_t i = 0; i < s->nthr; i++)
		if (s->thr[i].tid == tid)
			return &s->thr[i];
	if (!create)
		return NULL;
	if (s->nthr == s->capthr) {
		size_t cap = s->capthr ? 2 * s->capthr : 64;
		struct thr *n = realloc(s->thr, cap * sizeof(*n));
		if (!n)
			return NULL;
		s->thr = n;
		s->capthr = cap;
	}
	struct thr *t = &s->thr[s->nthr++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	return t;
}

static void thr_drop(struct server *s, pid_t tid)
{
	for (size_t i = 0; i < s->nthr; i++)
		if (s->thr[i].tid == tid) {
			s->thr[i] = s->thr[--s->nthr];
			return;
		}
}

/* The process Hg names: the current one (Hg selects it). */
static struct dbg_proc *gproc(struct server *s)
{
	return s->p;
}

/* The live threads of every process gdb knows; *ret owned by the caller.
 * A fork child whose event is still queued behind another stop is left
 * out until that event is reported (gdbserver does the same). */
static int threads(struct server *s, pid_t **ret)
{
	*ret = NULL;
	pid_t *all = NULL;
	size_t n = 0;
	for (size_t i = 0; i < s->nprocs; i++) {
		if (!proc_listed(&s->procs[i]))
			continue;
		pid_t *t;
		int k = proc_threads(s->procs[i].p, &t);
		if (k <= 0)
			continue;
		pid_t *m = realloc(all, (n + (size_t)k) * sizeof(*m));
		if (!m) {
			free(t);
			free(all);
			return -ENOMEM;
		}
		all = m;
		memcpy(all + n, t, (size_t)k * sizeof(*t));
		n += (size_t)k;
		free(t);
	}
	*ret = all;
	return (int)n;
}

/* A live thread of a process gdb sees. */
static bool thread_alive(struct server *s, pid_t tid)
{
	struct sproc *sp = proc_of_tid(s, tid);
	if (!proc_visible(sp))
		return false;
	int st = dbg_proc_thread_state(sp->p, tid);
	return st >= 0 && st != DBG_THREAD_EXITED;
}

/* A thread of the current process to use when gdb names none: the last
 * event's, else the first. */
static pid_t any_thread(struct server *s)
{
	if (s->p && thread_alive(s, s->last_tid) && dbg_proc_thread_state(s->p, s->last_tid) >= 0)
		return s->last_tid;
	pid_t *t;
	int n = proc_threads(s->p, &t);
	pid_t r = n > 0 ? t[0] : 0;
	free(t);
	return r;
}

/* The thread an interrupt's SIGINT is reported for: one gdb resumed, as
 * the kernel gives a process's signal to a running thread (gdb, stepping
 * one thread over a breakpoint, asserts on a stop of another one); of the
 * process last run or attached if it has one (gdbserver signals that
 * process: gdb makes the stopped thread's inferior the current one, and
 * gdb.threads/detach-step-over.exp then detaches that inferior), its
 * leader first, as the kernel prefers. */
static pid_t interrupted_thread(struct server *s)
{
	pid_t r = 0;
	bool r_sig = false;
	for (size_t i = 0; i < s->nthr; i++) {
		pid_t tid = s->thr[i].tid;
		if (!s->thr[i].act || !thread_alive(s, tid))
			continue;
		struct sproc *sp = proc_of_tid(s, tid);
		bool sig = sp && sp->pid == s->signal_pid;
		if (sig && tid == s->signal_pid)
			return tid;
		if (!r || (sig && !r_sig)) {
			r = tid;
			r_sig = sig;
		}
	}
	return r ? r : any_thread(s);
}

/* A ^C that must wait: gdb steps a thread of another process (over a
 * breakpoint, the rest stopped) and leaves the process last run or
 * attached stopped. gdbserver's SIGINT goes to that process and is
 * reported once gdb resumes it; reported now for the stepping thread,
 * gdb stops in the other inferior and a `detach` then lets the wrong one
 * go (gdb.threads/detach-step-over.exp). Only a step waits, as it ends
 * by itself where a continue could run for ever, and for a second at
 * most (a step into a system call that blocks): then the stepping thread
 * gets the SIGINT after all, rather than gdb waiting for ever. */
static bool interrupt_waits(struct server *s)
{
	struct sproc *sig = proc_of_tid(s, s->signal_pid);
	if (!sig || !proc_visible(sig))
		return false;
	bool stepping = false;
	for (size_t i = 0; i < s->nthr; i++) {
		struct thr *t = &s->thr[i];
		if (!t->act || !thread_alive(s, t->tid))
			continue;
		if (proc_of_tid(s, t->tid) == sig)
			return false;
		stepping |= t->act == 's' || t->act == 'r';
	}
	if (!stepping)
		return false;
	int64_t now = rsp_now_ms();
	if (!s->interrupt_wait0)
		s->interrupt_wait0 = now;
	return now - s->interrupt_wait0 < 1000;
}

/* The thread g/G/p/P name: Hg's; none when that one is gone (another
 * thread's registers would be wrong ones), any when Hg named none. */
static pid_t reg_thread(struct server *s)
{
	if (s->gtid > 0)
		return s->p && dbg_proc_thread_state(s->p, s->gtid) >= 0 &&
		       thread_alive(s, s->gtid) ? s->gtid : 0;
	return any_thread(s);
}

/* The handle of the process @tid is a thread of (the current one if none). */
static struct dbg_proc *tid_proc(struct server *s, pid_t tid)
{
	struct sproc *sp = proc_of_tid(s, tid);
	return sp ? sp->p : s->p;
}

static void fmt_ptid(struct server *s, struct buf *b, pid_t tid)
{
	struct sproc *sp = s->mp ? proc_of_tid(s, tid) : NULL;
	if (s->mp)
		buf_printf(b, "p%x.%x", (unsigned)(sp ? sp->pid : s->pid), (unsigned)tid);
	else
		buf_printf(b, "%x", (unsigned)tid);
}

/*
 * Parse a thread id: "p<pid>.<tid>", "p<pid>", "<tid>", "-1", "0".
 * *ret_tid: -1 all, 0 any, else the tid; *ret_pid likewise (0 when absent).
 */
static int parse_ptid(const char **sp, pid_t *ret_pid, pid_t *ret_tid)
{
	const char *s = *sp;
	uint64_t v;
	pid_t pid = 0, tid;

	if (*s == 'p') {
		s++;
		if (!strncmp(s, "-1", 2)) {
			pid = -1;
			s += 2;
		} else {
			if (rsp_parse_hex(&s, &v) < 0 || v > INT_MAX)
				return -1;
			pid = (pid_t)v;
		}
		if (*s != '.') {
			*ret_pid = pid;
			*ret_tid = -1;
			*sp = s;
			return 0;
		}
		s++;
	}
	if (!strncmp(s, "-1", 2)) {
		tid = -1;
		s += 2;
	} else {
		if (rsp_parse_hex(&s, &v) < 0 || v > INT_MAX)
			return -1;
		tid = (pid_t)v;
	}
	*ret_pid = pid;
	*ret_tid = tid;
	*sp = s;
	return 0;
}

/* ---------------------------------------------------------------- target */

static int ensure_tdesc(struct server *s)
{
	if (s->td_built)
		return 0;
	uint64_t xcr0 = 0;
	pid_t tid = any_thread(s);
	struct dbg_xstate xs;
	if (tid > 0 && dbg_regs_get_xstate(s->p, tid, &xs) == 0)
		xcr0 = xs.xcr0;
	else if (!s->p)
		return -ESRCH;
	int r = tdesc_build(&s->td, xcr0, s->lldb);
	if (r == 0)
		s->td_built = true;
	return r;
}

static void reset_target_state(struct server *s)
{
	s->nzpts = 0; /* the watches die with their dbg_proc */
	s->nthr = 0;
	s->npending = 0;
	s->last_tid = 0;
	s->gtid = s->ctid = 0;
	s->running = false;
	s->interrupt_pending = false;
	free(s->last_stop);
	s->last_stop = NULL;
}

/* Our terminal (stdin), if we have one, to process group @pgrp: a program
 * we start reads it and gets its ^C, as under gdbserver; it comes back
 * to us when that program goes. */
static void terminal_to(pid_t pgrp)
{
	if (!isatty(0))
		return;
	signal(SIGTTOU, SIG_IGN); /* we may be in the background meanwhile */
	if (tcsetpgrp(0, pgrp) < 0)
		logmsg("dbg-server: cannot hand the terminal to %d: %s\n", (int)pgrp,
		       strerror(errno));
}

/* Let one process go: killed, or detached with the signals its threads
 * keep; the others go on. */
/* The signal a stop reply reports that the kernel gave (an interrupt's
 * SIGINT is ours, never sent), else 0. */
static int real_signal(const struct dbg_event *ev)
{
	return ev->kind == DBG_EVENT_SIGNAL && ev->siginfo.signo == ev->signo ? ev->signo : 0;
}

/* Does the client pass @sig to the program (QProgramSignals)? Without
 * one (lldb), a signal it was told of is taken as handled (lldb's own
 * function calls end in a SIGSEGV it expects), one it never saw as the
 * program's (but the debugger's SIGTRAP). */
static bool gdb_passes(const struct server *s, int sig, bool told)
{
	if (sig <= 0 || sig >= 128)
		return false;
	if (s->program_sig_set)
		return s->program_sig[sig];
	return !told && sig != SIGTRAP;
}

/* The signal a thread leaves with at a detach: one gdb passed or never
 * heard of (kept), else that of the stop gdb was told of or of a stop
 * kept for it, if gdb passes it. The program gets what it would have
 * got without us (gdb.threads/attach-into-signal.exp: a SIGALRM its
 * handler raised again was lost, and the program aborted). */
static int detach_signal(struct server *s, pid_t tid)
{
	struct thr *t = thr_find(s, tid, false);
	if (t && t->keep_sig)
		return t->keep_sig;
	if (t && gdb_passes(s, t->stop_sig, true))
		return t->stop_sig;
	for (size_t i = 0; i < s->npending; i++)
		if (s->pending[i].tid == tid && gdb_passes(s, real_signal(&s->pending[i]), false))
			return s->pending[i].signo;
	return 0;
}

static void release_proc(struct server *s, struct sproc *sp, bool kill_it)
{
	struct dbg_proc *p = sp->p;
	if (sp->pid != s->join_pid && isatty(0) && tcgetpgrp(0) == sp->pid)
		terminal_to(getpgrp());
	if (!kill_it) {
		pid_t *tids;
		int n = proc_threads(p, &tids);
		for (int i = 0; i < n; i++)
			dbg_proc_set_signal(p, tids[i], detach_signal(s, tids[i]));
		free(tids);
	}
	/* while its threads are still known */
	if (sp->pid == s->last_tid || (s->last_tid && dbg_proc_thread_state(p, s->last_tid) >= 0))
		s->last_tid = 0;
	proc_forget(s, sp->pid);
	if (kill_it)
		dbg_proc_kill(p);
	dbg_proc_detach(p);
	proc_remove(s, sp);
	free(s->last_stop);
	s->last_stop = NULL;
	if (!s->nprocs)
		reset_target_state(s);
}

/* Let every process go. */
static void release_target(struct server *s, bool kill_it)
{
	while (s->nprocs)
		release_proc(s, &s->procs[s->nprocs - 1], kill_it);
}

/* Let every process go as it came: an attached one is detached, one
 * the server started (or a fork child of it) is killed. */
static void release_all(struct server *s)
{
	while (s->nprocs) {
		struct sproc *sp = &s->procs[s->nprocs - 1];
		if (sp->attached)
			logmsg("Detaching from process %d\n", (int)sp->pid);
		release_proc(s, sp, !sp->attached);
	}
}

static void save_argv(struct server *s, char **argv)
{
	if (s->last_argv == argv)
		return;
	if (s->last_argv) {
		for (char **a = s->last_argv; *a; a++)
			free(*a);
		free(s->last_argv);
	}
	int n = 0;
	while (argv[n])
		n++;
	s->last_argv = calloc((size_t)n + 1, sizeof(char *));
	if (!s->last_argv)
		return;
	for (int i = 0; i < n; i++)
		s->last_argv[i] = strdup(argv[i]);
}

/* Run the wrapper's exec through to the program's (one more exec). */
static int through_wrapper(struct dbg_proc *p)
{
	struct dbg_event ev;
	if (dbg_proc_resume(p) < 0)
		return -1;
	for (;;) {
		int r = dbg_proc_wait(p, 10000, &ev);
		if (r < 0)
			return r;
		switch (ev.kind) {
		case DBG_EVENT_EXEC:
			return 0;
		case DBG_EVENT_EXITED:
		case DBG_EVENT_KILLED:
			return -ECHILD;
		default:
			dbg_proc_set_signal(p, ev.tid, ev.kind == DBG_EVENT_SIGNAL ? ev.signo : 0);
			dbg_proc_resume_thread(p, ev.tid);
		}
	}
}

static int do_spawn(struct server *s, char **argv)
{
	int saved = -1;
	char *path0 = NULL;
	save_argv(s, argv);
	/* A name without '/' that exists here is this directory's, as
	 * gdbserver makes it absolute; else PATH is searched. */
	if (!strchr(argv[0], '/') && access(argv[0], X_OK) == 0) {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) && asprintf(&path0, "%s/%s", cwd, argv[0]) < 0)
			path0 = NULL;
	}
	char **run = argv;
	char *wargv[512];
	if (s->nwrapper) {
		int k = 0;
		for (int i = 0; i < s->nwrapper && k < 255; i++)
			wargv[k++] = s->wrapper[i];
		for (int i = 0; argv[i] && k < 511; i++)
			wargv[k++] = i == 0 && path0 ? path0 : argv[i];
		wargv[k] = NULL;
		run = wargv;
	}
	if (s->disable_aslr) {
		saved = personality(0xffffffff);
		if (saved >= 0)
			personality((unsigned long)saved | ADDR_NO_RANDOMIZE);
	}
	/* A process group of its own, as gdbserver: when we end as our
	 * session's leader, the hang-up does not kill what gdb detached. */
	DBG_OPTS(dbg_spawn_opts, o, .log_fn = lib_log, .envp = s->env,
		 .cwd = s->cwd, .flags = DBG_ATTACH_FOLLOW_FORK, .new_pgrp = 1);
	/* stdio mode: the protocol owns our stdout; the program writes to stderr. */
	if (s->stdio) {
		o.stdout_fd = 2;
		logmsg("stdin/stdout redirected\n");
	}
	struct dbg_proc *p;
	const char *file = run == argv && path0 ? path0 : run[0];
	int r = dbg_proc_spawn(file, run, &o, &p);
	if (saved >= 0)
		personality((unsigned long)saved);
	if (r == 0 && s->nwrapper && through_wrapper(p) < 0) {
		dbg_proc_kill(p);
		dbg_proc_detach(p);
		logmsg("During startup program exited.\n");
		free(path0);
		return -ECHILD;
	}
	if (r < 0) {
		/* the shape of gdbserver's message, which scripts look for */
		logmsg("gdbserver: Cannot exec %s\ngdbserver: Error: %s\n\n"
		       "During startup program exited with code 127.\n",
		       argv[0], strerror(-r < 4000 ? -r : ENOEXEC));
		free(path0);
		return r;
	}
	if (!s->nprocs)
		reset_target_state(s);
	terminal_to(dbg_proc_pid(p));
	struct sproc *sp = proc_add(s, p, false);
	if (!sp) {
		dbg_proc_kill(p);
		dbg_proc_detach(p);
		logmsg("dbg-server: too many processes (%d)\n", MAX_PROCS);
		free(path0);
		return -EMFILE;
	}
	proc_select(s, sp);
	s->last_tid = s->pid;
	s->gtid = s->pid;
	s->signal_pid = s->pid;
	logmsg("Process %s created; pid = %d\n", path0 ? path0 : argv[0], (int)s->pid);
	free(path0);
	return 0;
}

/* The signals of thread @tid that it would take as soon as it ran: its
 * own and the process's pending ones it does not block, without SIGKILL
 * and the stop signals (a mask, bit N-1 for signal N). */
static uint64_t deliverable(pid_t pid, pid_t tid)
{
	char path[64];
	struct buf b = { 0 };
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	uint64_t m = 0;
	if (buf_read_file(path, &b) == 0) {
		const char *sp = strstr(b.d, "\nSigPnd:"), *sh = strstr(b.d, "\nShdPnd:"),
			   *bl = strstr(b.d, "\nSigBlk:");
		if (sp && sh && bl)
			m = (strtoull(sp + 9, NULL, 16) | strtoull(sh + 9, NULL, 16)) &
			    ~strtoull(bl + 9, NULL, 16);
	}
	free(b.d);
	static const int never[] = { SIGKILL, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		m &= ~(1ull << (never[i] - 1));
	return m;
}

/* A signal pending in a thread when the attach stopped it (PTRACE_SEIZE's
 * interrupt stops a thread before it dequeues one) is the stop gdb is to
 * see, as after gdbserver's PTRACE_ATTACH, whose SIGSTOP queues behind it
 * (gdb.threads/attach-into-signal.exp: the SIGALRM the handler raised
 * again, and gdb's $_siginfo of that thread, 14 and not our interrupt's
 * SIGTRAP). Such a thread is resumed: it takes the signal before it runs
 * an instruction and stops in its delivery, kept as a signal met while
 * stopping. Threads with an event already kept are left as they are. */
static void take_pending_signals(struct server *s, struct dbg_proc *p, pid_t pid)
{
	pid_t *tids;
	int n = proc_threads(p, &tids);
	for (int i = 0; i < n && s->npending < MAX_PENDING; i++) {
		bool kept = false;
		for (size_t k = 0; k < s->npending; k++)
			kept |= s->pending[k].tid == tids[i];
		/* not one in a group-stop: resumed, it would run on */
		if (kept || dbg_proc_thread_state(p, tids[i]) != DBG_THREAD_STOPPED ||
		    !deliverable(pid, tids[i]) ||
		    dbg_proc_resume_thread(p, tids[i]) < 0)
			continue;
		struct dbg_event ev;
		int r = dbg_proc_wait(p, 200, &ev);
		if (r == 0 && ev.kind == DBG_EVENT_SIGNAL) {
			s->pending[s->npending++] = ev;
			continue;
		}
		/* it did not stop in a signal (another thread took it, or it
		 * was blocked meanwhile): stopped again, its event kept */
		if (r < 0)
			dbg_proc_stop_thread(p, tids[i]);
		else if (ev.kind != DBG_EVENT_THREAD_EXIT)
			s->pending[s->npending++] = ev;
	}
	free(tids);
}

static int do_attach(struct server *s, pid_t pid)
{
	DBG_OPTS(dbg_attach_opts, o, .log_fn = lib_log, .flags = DBG_ATTACH_FOLLOW_FORK);
	struct dbg_proc *p;
	int r = dbg_proc_attach(pid, &o, &p);
	if (r < 0) {
		logmsg("Cannot attach to process %d: %s\n", (int)pid, dbg_strerror(r));
		return r;
	}
	if (!s->nprocs)
		reset_target_state(s);
	struct sproc *sp = proc_add(s, p, true);
	if (!sp) {
		dbg_proc_detach(p);
		logmsg("Cannot attach to process %d: too many processes\n", (int)pid);
		return -EMFILE;
	}
	proc_select(s, sp);
	s->last_tid = pid;
	s->signal_pid = pid;
	s->gtid = pid;
	/* Signals met while stopping are gdb's to see; the stop itself is ours. */
	struct dbg_event ev;
	while (dbg_proc_wait(p, 0, &ev) == 0) {
		if (ev.kind == DBG_EVENT_SIGNAL && s->npending < MAX_PENDING)
			s->pending[s->npending++] = ev;
	}
	take_pending_signals(s, p, pid);
	logmsg("Attached; pid = %d\n", (int)pid);
	return 0;
}

/* ---------------------------------------------------------------- stop replies */

static void expedite(struct server *s, struct buf *b, pid_t tid)
{
	struct dbg_regs r;
	/* Register numbers mean something only once the client has our
	 * description (a non-stop attach notifies before gdb reads it). */
	if (!s->td_built || s->no_expedite)
		return;
	if (dbg_regs_get(tid_proc(s, tid), tid, &r) < 0)
		return;
	buf_printf(b, "06:");
	buf_hex(b, &r.rbp, 8);
	buf_printf(b, ";07:");
	buf_hex(b, &r.rsp, 8);
	buf_printf(b, ";10:");
	buf_hex(b, &r.rip, 8);
	buf_printf(b, ";");
}

/* Build the stop reply for an event; false for events with none. */
static bool stop_reply(struct server *s, const struct dbg_event *ev, struct buf *b)
{
	buf_reset(b);
	switch ((int)ev->kind) {
	case DBG_EVENT_EXITED:
		/* an exit's tid is its process's pid */
		buf_printf(b, "W%02x", ev->status & 0xff);
		if (s->mp)
			buf_printf(b, ";process:%x", (unsigned)(ev->tid > 0 ? ev->tid : s->pid));
		return true;
	case DBG_EVENT_KILLED:
		buf_printf(b, "X%02x", sig_to_gdb(ev->signo));
		if (s->mp)
			buf_printf(b, ";process:%x", (unsigned)(ev->tid > 0 ? ev->tid : s->pid));
		return true;
	case DBG_EVENT_SIGNAL:
	case DBG_EVENT_TRAP:
	case DBG_EVENT_STOPPED:
	case DBG_EVENT_WATCHPOINT:
	case DBG_EVENT_SYSCALL_ENTRY:
	case DBG_EVENT_SYSCALL_EXIT:
	case DBG_EVENT_FORK:
	case DBG_EVENT_VFORK:
	case DBG_EVENT_VFORK_DONE:
	case DBG_EVENT_BREAKPOINT:
	case DBG_EVENT_EXEC: {
		int sig = ev->kind == DBG_EVENT_SIGNAL ? ev->signo
			: ev->kind == DBG_EVENT_STOPPED ? 0 : SIGTRAP;
		buf_printf(b, "T%02x", sig_to_gdb(sig));
		if (ev->kind == DBG_EVENT_FORK || ev->kind == DBG_EVENT_VFORK)
			buf_printf(b, "%s:p%x.%x;", ev->kind == DBG_EVENT_FORK ? "fork" : "vfork",
				   (unsigned)ev->child, (unsigned)ev->child);
		if (ev->kind == DBG_EVENT_VFORK_DONE)
			buf_printf(b, "vforkdone:;");
		/* no dbg_bp: a kept hardware breakpoint hit (kept_watch_gone) */
		if (ev->kind == DBG_EVENT_BREAKPOINT && !ev->bp)
			buf_printf(b, "hwbreak:;");
		else if (ev->kind == DBG_EVENT_BREAKPOINT && s->swbreak)
			buf_printf(b, "swbreak:;");
		if (ev->kind == DBG_EVENT_SYSCALL_ENTRY || ev->kind == DBG_EVENT_SYSCALL_EXIT)
			buf_printf(b, "%s:%lx;", ev->kind == DBG_EVENT_SYSCALL_ENTRY ? "syscall_entry"
				   : "syscall_return", (unsigned long)ev->sysno);
		if (ev->kind == DBG_EVENT_WATCHPOINT) {
			enum dbg_watch_kind k = ev->watch ? dbg_watch_kind(ev->watch) : DBG_WATCH_WRITE;
			if (k == DBG_WATCH_EXEC)
				buf_printf(b, "hwbreak:;");
			else
				buf_printf(b, "%s:%" PRIx64 ";", k == DBG_WATCH_WRITE ? "watch" : "awatch",
					   ev->addr);
		}
		if (ev->kind == DBG_EVENT_EXEC && s->exec_events) {
			char path[64], exe[PATH_MAX];
			struct sproc *sp = proc_of_tid(s, ev->tid);
			snprintf(path, sizeof(path), "/proc/%d/exe", (int)(sp ? sp->pid : s->pid));
			ssize_t n = readlink(path, exe, sizeof(exe));
			if (n > 0) {
				buf_printf(b, "exec:");
				buf_hex(b, exe, (size_t)n);
				buf_printf(b, ";");
			}
		}
		buf_printf(b, "thread:");
		fmt_ptid(s, b, ev->tid);
		buf_printf(b, ";");
		expedite(s, b, ev->tid);
		return true;
	}
	default:
		return false;
	}
}

static void set_last_stop(struct server *s, const char *r)
{
	free(s->last_stop);
	s->last_stop = strdup(r);
}

/* Is this event one gdb hears of (else it is handled here)? */
static bool reportable(const struct dbg_event *ev)
{
	switch ((int)ev->kind) {
	case DBG_EVENT_SIGNAL:
	case DBG_EVENT_TRAP:
	case DBG_EVENT_STOPPED:
	case DBG_EVENT_EXEC:
	case DBG_EVENT_EXITED:
	case DBG_EVENT_KILLED:
	case DBG_EVENT_WATCHPOINT:
	case DBG_EVENT_SYSCALL_ENTRY:
	case DBG_EVENT_SYSCALL_EXIT:
	case DBG_EVENT_FORK:
	case DBG_EVENT_VFORK:
	case DBG_EVENT_VFORK_DONE:
	case DBG_EVENT_BREAKPOINT:
		return true;
	default:
		return false;
	}
}

static void note_event(struct server *s, const struct dbg_event *ev)
{
	switch (ev->kind) {
	case DBG_EVENT_THREAD_EXIT:
		thr_drop(s, ev->tid);
		break;
	case DBG_EVENT_EXEC:
		/* every other thread is gone; the pid goes on */
		s->nthr = 0;
		/* libdbg dropped every breakpoint and watch (the old program's
		 * addresses): gdb inserts them again, often at the same
		 * addresses, which must not be taken as already there */
		for (size_t i = 0; i < s->nzpts; i++) {
			if (s->zpts[i].type == '0')
				dbg_bp_remove(s->p, s->zpts[i].bp);
			else
				dbg_watch_remove(s->p, s->zpts[i].w);
		}
		s->nzpts = 0;
		break;
	case DBG_EVENT_SIGNAL:
	case DBG_EVENT_TRAP:
		thr_find(s, ev->tid, true);
		break;
	default:
		break;
	}
}

/* gdb hears of vforks, and then of their vforkdone. */
static bool vforks_reported(const struct server *s)
{
	return s->vfork_events && s->mp;
}

static bool take_fork(struct server *s, struct sproc *sp, const struct dbg_event *ev);

/* Target-side breakpoint conditions (ConditionalBreakpoints+, ax.c):
 * registers and memory of the thread that hit the breakpoint. */
struct cond_ctx {
	struct server *s;
	struct dbg_proc *p;
	pid_t tid;
	bool have_gp, have_all; /* rb.gp read; rb read whole */
	struct regbuf rb;
};

static int cond_reg(void *ctx, int regno, uint64_t *ret_val)
{
	struct cond_ctx *cx = ctx;
	if (ensure_tdesc(cx->s) < 0)
		return -EIO;
	int sz = tdesc_reg_size(&cx->s->td, regno);
	if (sz <= 0 || sz > 64)
		return -EINVAL;
	/* the general registers alone unless the condition wants another
	 * (a frame's locals are rbp-relative: no xstate read per hit) */
	if (tdesc_reg_is_gp(&cx->s->td, regno) && !cx->have_gp) {
		int r = dbg_regs_get(cx->p, cx->tid, &cx->rb.gp);
		if (r < 0)
			return r;
		cx->have_gp = true;
	} else if (!tdesc_reg_is_gp(&cx->s->td, regno) && !cx->have_all) {
		int r = regbuf_read(cx->p, cx->tid, &cx->rb);
		if (r < 0)
			return r;
		cx->have_gp = cx->have_all = true;
	}
	uint8_t v[64];
	tdesc_reg_get(&cx->s->td, regno, &cx->rb, v);
	uint64_t x = 0;
	for (int i = sz < 8 ? sz : 8; i-- > 0;)
		x = x << 8 | v[i];
	*ret_val = x;
	return 0;
}

static int cond_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct cond_ctx *cx = ctx;
	ssize_t n = dbg_mem_read(cx->p, addr, buf, len);
	return n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EFAULT;
}

/* Is @ev a hit of one of gdb's breakpoints (Z0, or Z1 not ending a step)
 * whose conditions all evaluate false in the thread that hit it? A thread
 * gdb single-steps is always reported (its step is done), and so is a hit
 * whose evaluation fails. */
static bool cond_false(struct server *s, struct sproc *sp, const struct dbg_event *ev)
{
	char type;
	uint64_t addr;
	if (!s->bpconds.n)
		return false;
	if (ev->kind == DBG_EVENT_BREAKPOINT) {
		type = '0';
		addr = ev->addr;
	} else if (ev->kind == DBG_EVENT_WATCHPOINT && ev->watch &&
		   dbg_watch_kind(ev->watch) == DBG_WATCH_EXEC && ev->siginfo.code != 2 /* TRAP_TRACE */) {
		type = '1';
		addr = dbg_watch_addr(ev->watch);
	} else {
		return false;
	}
	struct thr *t = thr_find(s, ev->tid, false);
	if (t && (t->act == 's' || t->act == 'r'))
		return false;
	bool known = false;
	for (size_t i = 0; i < s->nzpts && !known; i++)
		known = s->zpts[i].pid == sp->pid && s->zpts[i].type == type && s->zpts[i].addr == addr;
	const struct ax_conds *c = known ? ax_table_get(&s->bpconds, sp->pid, type, addr) : NULL;
	if (!c)
		return false;
	struct cond_ctx cx = { .s = s, .p = sp->p, .tid = ev->tid };
	struct ax_target tg = { .reg = cond_reg, .mem = cond_mem, .ctx = &cx };
	const char *why;
	int r = ax_conds_true(c, &tg, &why);
	if (s->debug)
		logmsg("dbg-server: Z%c %" PRIx64 " hit by %d: condition %s%s%s\n", type, addr,
		       (int)ev->tid, r ? "true" : "false", why ? ": " : "", why ? why : "");
	return r == 0;
}

/* Hits resumed silently (conditions false) since gdb's input was last
 * looked at: threads looping over a breakpoint whose condition is false
 * make them without end, and they must not keep the server from reading
 * gdb's packets (an interrupt, non-stop's next command). */
static unsigned cond_silent;
#define COND_SILENT_MAX 64
/* Non-stop: the thread a vCont;t is stopping now (its false hit must not
 * set it running again). */
static pid_t cond_stopping;

/* Take the events one process has now, while stopping: kept for gdb. */
static void collect_events(struct server *s, struct sproc *sp)
{
	struct dbg_event ev;
	while (dbg_proc_wait(sp->p, 0, &ev) == 0) {
		note_event(s, &ev);
		if (ev.kind == DBG_EVENT_SIGNAL && ev.signo < 128 && s->pass_sig[ev.signo]) {
			struct thr *t = thr_find(s, ev.tid, true);
			if (t)
				t->keep_sig = ev.signo;
			continue;
		}
		if (ev.kind == DBG_EVENT_STOPPED)
			continue;
		if ((ev.kind == DBG_EVENT_FORK || ev.kind == DBG_EVENT_VFORK) && !take_fork(s, sp, &ev))
			continue;
		/* not gdb's: the thread leaves vfork() at its next resume */
		if (ev.kind == DBG_EVENT_VFORK_DONE && !vforks_reported(s))
			continue;
		/* a hit whose conditions are all false: the thread stays
		 * stopped on the breakpoint, the next resume steps it off */
		if (cond_false(s, sp, &ev))
			continue;
		if (reportable(&ev) && s->npending < MAX_PENDING)
			s->pending[s->npending++] = ev;
	}
}

/* After a reportable event: stop everything, every process (gdb's
 * all-stop covers all inferiors), keep what came on the way. A released
 * vfork child runs on: gdb no longer sees it. */
static void stop_all_and_collect(struct server *s)
{
	for (size_t i = 0; i < s->nprocs; i++) {
		struct sproc *sp = &s->procs[i];
		if (!proc_visible(sp))
			continue;
		/* an exited one still has its exit to give */
		dbg_proc_stop(sp->p);
		collect_events(s, sp);
	}
}

static int send_reply(struct server *s, struct buf *b)
{
	return rsp_send(s->c, b->d ? b->d : "", b->len);
}

/* Report one event to gdb (the target is stopped). */
static void report(struct server *s, const struct dbg_event *ev, struct buf *b)
{
	stop_reply(s, ev, b);
	proc_fork_reported(s, ev);
	set_last_stop(s, b->d);
	s->running = false;
	if (ev->kind == DBG_EVENT_EXITED || ev->kind == DBG_EVENT_KILLED) {
		if (ev->kind == DBG_EVENT_EXITED)
			logmsg("\nChild exited with status %d\n", ev->status);
		else
			logmsg("\nChild terminated with signal = %d\n", ev->signo);
		/* that process is gone; the others stay */
		struct sproc *sp = proc_find(s, ev->tid > 0 ? ev->tid : s->pid);
		if (sp) {
			char *keep = strdup(b->d ? b->d : "");
			release_proc(s, sp, false);
			set_last_stop(s, keep);
			free(keep);
		}
	} else {
		struct sproc *sp = proc_of_tid(s, ev->tid);
		struct thr *t = thr_find(s, ev->tid, true);
		if (t)
			t->stop_sig = real_signal(ev);
		if (sp)
			proc_select(s, sp); /* the stop's thread is gdb's general thread */
		s->last_tid = ev->tid;
		s->gtid = ev->tid;
	}
}

/* Is a thread gdb resumed (all-stop) still there to report something? */
static bool any_resumed(struct server *s)
{
	for (size_t i = 0; i < s->nthr; i++)
		if (s->thr[i].act)
			return true;
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].released)
			return true; /* its vforkdone is to come */
	return false;
}

/* Resume one thread by its action; the pending signal was set before. */
static int resume_thr(struct server *s, struct thr *t)
{
	struct dbg_proc *p = tid_proc(s, t->tid);
	if (t->act == 's' || t->act == 'r')
		return dbg_proc_step_thread(p, t->tid);
	if (t->act == 'c')
		return dbg_proc_resume_thread(p, t->tid);
	return 0;
}

/* A fork child is gdb's (fork-events+ with multiprocess+): a process of
 * its own in the table, stopped, which gdb cleans of breakpoints and
 * detaches, follows, or keeps debugging (detach-on-fork off). Without
 * those it is let go at once. */
static bool take_fork(struct server *s, struct sproc *sp, const struct dbg_event *ev)
{
	struct dbg_proc *cp = NULL;
	if (dbg_proc_attach_child(sp->p, ev->child, &cp) < 0)
		return false;
	bool vf = ev->kind == DBG_EVENT_VFORK;
	struct sproc *k;
	if ((vf ? vforks_reported(s) : s->fork_events && s->mp) &&
	    (k = proc_add(s, cp, sp->attached))) {
		k->vfork = vf;
		k->parent_tid = ev->tid;
		k->unreported = true;
		return true;
	}
	dbg_proc_set_signal(cp, ev->child, 0);
	dbg_proc_detach(cp);
	return false;
}

/* After an event gdb does not hear of: the thread goes on as gdb last
 * resumed it (a thread new to us simply runs). */
static void resume_on(struct server *s, struct dbg_proc *p, pid_t tid)
{
	struct thr *t = thr_find(s, tid, true);
	if (t && t->act)
		resume_thr(s, t);
	else
		dbg_proc_resume_thread(p, tid);
}

/* Handle an event of @sp while running; true when it is to be reported. */
static bool handle_running_event(struct server *s, struct sproc *sp, struct dbg_event *ev)
{
	struct thr *t;
	struct dbg_proc *p = sp->p;

	note_event(s, ev);
	switch (ev->kind) {
	case DBG_EVENT_BREAKPOINT:
	case DBG_EVENT_WATCHPOINT:
		if (!cond_false(s, sp, ev))
			return true;
		/* every condition false: on as gdb resumed it, stepped off
		 * the breakpoint by libdbg, without a word to gdb */
		cond_silent++;
		dbg_proc_set_signal(p, ev->tid, 0);
		t = thr_find(s, ev->tid, true);
		/* a thread gdb is stopping, or was told is stopped, stays
		 * stopped on the breakpoint (its next resume steps it off) */
		if (ev->tid == cond_stopping || (t && t->told_stopped))
			return false;
		resume_on(s, p, ev->tid);
		return false;
	case DBG_EVENT_SIGNAL:
		if (ev->signo < 128 && s->pass_sig[ev->signo]) {
			/* QPassSignals: delivered without a word to gdb */
			resume_on(s, p, ev->tid);
			return false;
		}
		return true;
	case DBG_EVENT_TRAP:
		t = thr_find(s, ev->tid, false);
		if (t && t->act == 'r' && ev->siginfo.code == 2 /* TRAP_TRACE */) {
			struct dbg_regs r;
			if (dbg_regs_get(p, ev->tid, &r) == 0 && r.rip >= t->r0 && r.rip < t->r1) {
				dbg_proc_set_signal(p, ev->tid, 0);
				dbg_proc_step_thread(p, ev->tid);
				return false;
			}
		}
		return true;
	case DBG_EVENT_CLONE: {
		/* the child first: adding it may move the table, and with
		 * it a parent pointer taken before */
		struct thr *child = thr_find(s, ev->child, true);
		if (child) {
			child->act = 'c';
			child->sig = 0;
			dbg_proc_resume_thread(p, ev->child);
		}
		struct thr *parent = thr_find(s, ev->tid, true);
		if (parent && parent->act)
			resume_thr(s, parent);
		else
			dbg_proc_resume_thread(p, ev->tid);
		return false;
	}
	case DBG_EVENT_FORK:
	case DBG_EVENT_VFORK: {
		/* A fork child is gdb's to clean of breakpoints and let go
		 * (fork-events+); a vfork child, or any without fork events,
		 * is let go at once. */
		if (take_fork(s, sp, ev))
			return true;
		resume_on(s, p, ev->tid);
		return false;
	}
	case DBG_EVENT_VFORK_DONE:
		if (vforks_reported(s))
			return true;
		resume_on(s, p, ev->tid);
		return false;
	case DBG_EVENT_GROUP_STOP:
		dbg_proc_resume_thread(p, ev->tid);
		return false;
	case DBG_EVENT_THREAD_EXIT:
	case DBG_EVENT_NONE:
		return false;
	default:
		return true;
	}
}

/* A vfork child gdb let go of runs on its parent's memory, traced (its
 * detach would take the parent's breakpoints out with it), until it
 * execs or exits; then it goes, and the parent's vforkdone follows. */
static void run_released(struct server *s)
{
	for (size_t i = 0; i < s->nprocs; i++) {
		struct sproc *k = &s->procs[i];
		struct dbg_event e;
		if (!k->released)
			continue;
		int r;
		while ((r = dbg_proc_wait(k->p, 0, &e)) == 0) {
			if (e.kind == DBG_EVENT_EXEC || e.kind == DBG_EVENT_EXITED ||
			    e.kind == DBG_EVENT_KILLED)
				break;
			if (e.kind == DBG_EVENT_SIGNAL)
				dbg_proc_resume_thread(k->p, e.tid);
			else if (e.kind != DBG_EVENT_THREAD_EXIT) {
				dbg_proc_set_signal(k->p, e.tid, 0);
				dbg_proc_resume_thread(k->p, e.tid);
			}
		}
		if (r == 0 || r == -ESRCH) {
			proc_forget(s, k->pid);
			dbg_proc_detach(k->p);
			proc_remove(s, k);
			i--; /* the table moved */
		}
	}
}

/* Wait up to @ms for gdb's input or an event of any process (each
 * handle's fd; libdbg has no single fd for several). 1: gdb sent
 * something; 0: not (an event may be there); -1: poll failed. */
static int poll_input(struct server *s, int ms)
{
	if (rsp_conn_buffered(s->c))
		return 1;
	struct pollfd pf[1 + MAX_PROCS];
	nfds_t n = 0;
	pf[n++] = (struct pollfd){ .fd = s->c->in_fd, .events = POLLIN };
	for (size_t i = 0; i < s->nprocs; i++)
		pf[n++] = (struct pollfd){ .fd = dbg_proc_fd(s->procs[i].p), .events = POLLIN };
	int pr = poll(pf, n, ms);
	if (pr < 0)
		return errno == EINTR ? 0 : -1;
	return pr > 0 && pf[0].revents != 0;
}

/* A kept breakpoint hit whose breakpoint gdb has taken out since: the
 * thread stands before the instruction and runs it when resumed, or
 * hits the breakpoint again should gdb put it back (DBG_BP_STANDING_HIT).
 * Checked as the thread is resumed, as gdbserver discards such a stop:
 * gdb asserts when told of a hit at a breakpoint it removed to step
 * another thread over it (gdb.threads/detach-step-over.exp). */
static bool hit_gone(struct server *s, const struct dbg_event *ev)
{
	struct sproc *sp = proc_of_tid(s, ev->tid);
	if (ev->kind != DBG_EVENT_BREAKPOINT || !sp)
		return false;
	for (size_t i = 0; i < s->nzpts; i++)
		if (s->zpts[i].pid == sp->pid && s->zpts[i].type == '1' && s->zpts[i].addr == ev->addr)
			return false;
	struct dbg_bp *bps[1024];
	int n = dbg_bp_list(sp->p, bps, 1024);
	for (int i = 0; i < n && i < 1024; i++)
		if (dbg_bp_addr(bps[i]) == ev->addr)
			return false;
	return true;
}

static void pending_drop(struct server *s, size_t i)
{
	memmove(s->pending + i, s->pending + i + 1, (s->npending - i - 1) * sizeof(s->pending[0]));
	s->npending--;
}

/* An interrupt's stop reply: the first kept event of a thread gdb
 * resumed. Those of the threads it left stopped wait for their own
 * resume (a kept hit of a thread gdb was not stepping, given for a ^C
 * during a step-over, made gdb assert: detach-step-over). */
static bool pending_take_resumed(struct server *s, struct dbg_event *ret)
{
	for (size_t i = 0; i < s->npending;) {
		struct thr *t = thr_find(s, s->pending[i].tid, false);
		if (!t || !t->act) {
			i++;
		} else if (hit_gone(s, &s->pending[i])) {
			pending_drop(s, i);
		} else {
			*ret = s->pending[i];
			pending_drop(s, i);
			return true;
		}
	}
	return false;
}

/* Wait for the running target's next reported stop and send it.
 * Returns -1 when the connection ended. */
static int wait_and_report(struct server *s, struct buf *b)
{
	struct dbg_event ev;

	s->interrupt_wait0 = 0; /* a ^C waits for one resume's step at most */
	while (s->running) {
		run_released(s);
		bool busy = false;
		for (size_t i = 0; i < s->nprocs; i++) {
			struct sproc *sp = &s->procs[i];
			if (!proc_visible(sp))
				continue;
			int r = dbg_proc_wait(sp->p, 0, &ev);
			if (r == 0) {
				busy = true;
				if (!handle_running_event(s, sp, &ev)) {
					/* the threads gdb resumed have all exited (the
					 * rest stay stopped, scheduler-locking): 'N'; but
					 * with none left at all the process's exit is on
					 * its way (a group exit: `W`, not 'N',
					 * gdb.threads/process-dies-while-detaching) */
					if (ev.kind == DBG_EVENT_THREAD_EXIT && s->no_resumed &&
					    !any_resumed(s) && dbg_proc_threads(sp->p, NULL, 0) > 0) {
						s->running = false;
						buf_reset(b);
						buf_printf(b, "N");
						return send_reply(s, b);
					}
					continue;
				}
				stop_all_and_collect(s);
				report(s, &ev, b);
				return send_reply(s, b);
			}
			if (r == -ESRCH) {
				/* gone without a final event we saw */
				struct dbg_event x = { .kind = DBG_EVENT_EXITED, .tid = sp->pid };
				stop_all_and_collect(s);
				report(s, &x, b);
				return send_reply(s, b);
			}
			if (r != -EAGAIN && r != -EINTR && r != -ETIMEDOUT) {
				logmsg("dbg-server: wait: %s\n", dbg_strerror(r));
				struct dbg_event x = { .kind = DBG_EVENT_KILLED, .signo = SIGKILL,
						       .tid = sp->pid };
				dbg_proc_kill(sp->p);
				stop_all_and_collect(s);
				report(s, &x, b);
				return send_reply(s, b);
			}
		}
		bool intr = s->interrupt_pending && !interrupt_waits(s);
		if (busy && cond_silent < COND_SILENT_MAX && !intr)
			continue;
		int ci = intr ? 1 : poll_input(s, busy ? 0 : 100);
		cond_silent = 0;
		if (ci < 0)
			return -1;
		if (ci) {
			int e = intr ? RSP_EV_INTERRUPT : rsp_conn_next(s->c, 0);
			if (intr)
				s->interrupt_pending = false;
			if (e < 0)
				return -1;
			if (e == RSP_EV_INTERRUPT ||
			    (e == RSP_EV_PACKET && !strcmp(s->c->p.data, "vCtrlC"))) {
				if (e == RSP_EV_PACKET)
					rsp_send_str(s->c, "OK");
				if (interrupt_waits(s)) {
					s->interrupt_pending = true;
					continue;
				}
				stop_all_and_collect(s);
				/* a kept event goes first; the interrupt stays for
				 * a later resume, as gdbserver's SIGINT would come
				 * (gdb waits for it) */
				if (pending_take_resumed(s, &ev))
					s->interrupt_pending = true;
				else
					ev = (struct dbg_event){ .kind = DBG_EVENT_SIGNAL,
						.signo = SIGINT, .tid = interrupted_thread(s) };
				report(s, &ev, b);
				return send_reply(s, b);
			}
			/* anything else while running is ignored (all-stop) */
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- non-stop */

/* Queue a stop reply; the first of a batch goes out as %Stop at once. */
static void ns_queue(struct server *s, const char *reply)
{
	if (s->nsq_n == s->nsq_cap) {
		size_t cap = s->nsq_cap ? 2 * s->nsq_cap : 16;
		char **n = realloc(s->nsq, cap * sizeof(*n));
		if (!n)
			return;
		s->nsq = n;
		s->nsq_cap = cap;
	}
	s->nsq[s->nsq_n++] = strdup(reply);
	if (s->nsq_n == 1 && s->c) {
		struct buf b = { 0 };
		buf_printf(&b, "Stop:%s", reply);
		rsp_send_notif(s->c, b.d);
		free(b.d);
	}
}

static void ns_forks_acked(struct server *s);

static void ns_clear(struct server *s)
{
	for (size_t i = 0; i < s->nsq_n; i++)
		free(s->nsq[i]);
	s->nsq_n = 0;
	ns_forks_acked(s);
}

/* A fork child gdb has not acknowledged the fork stop of (non-stop:
 * queued, or sent and not acked by vStopped) stays out of thread lists
 * and out of wildcard resumes: gdb sent those without knowing it. */
static void ns_forks_acked(struct server *s)
{
	for (size_t i = 0; i < s->nprocs; i++) {
		struct sproc *k = &s->procs[i];
		if (!k->unreported)
			continue;
		char key[32];
		snprintf(key, sizeof(key), "fork:p%x.", (unsigned)k->pid);
		bool queued = false;
		for (size_t j = 0; j < s->nsq_n && !queued; j++)
			queued = strstr(s->nsq[j], key) != NULL;
		if (!queued)
			k->unreported = false;
	}
}

/* vStopped: the head was seen; answer with the next, or OK. */
static void ns_vstopped(struct server *s, struct buf *out)
{
	if (s->nsq_n) {
		free(s->nsq[0]);
		memmove(s->nsq, s->nsq + 1, --s->nsq_n * sizeof(*s->nsq));
		ns_forks_acked(s);
	}
	if (s->nsq_n)
		buf_printf(out, "%s", s->nsq[0]);
	else
		buf_printf(out, "OK");
}

static void ns_report(struct server *s, const struct dbg_event *ev)
{
	struct buf b = { 0 };
	stop_reply(s, ev, &b);
	if (ev->kind == DBG_EVENT_EXITED || ev->kind == DBG_EVENT_KILLED) {
		struct buf tmp = { 0 };
		report(s, ev, &tmp); /* releases the target */
		free(tmp.d);
	} else {
		s->last_tid = ev->tid;
		struct thr *t = thr_find(s, ev->tid, ev->tid > 0);
		if (t) {
			t->act = 0; /* stopped, and gdb will know it */
			t->told_stopped = true;
			t->stop_sig = real_signal(ev);
		}
	}
	ns_queue(s, b.d ? b.d : "");
	free(b.d);
}

/* Is a stop reply about @tid queued for gdb (sent or not, not acked)? */
static bool ns_queued_for(struct server *s, pid_t tid)
{
	struct buf b = { 0 };
	buf_printf(&b, "thread:");
	fmt_ptid(s, &b, tid);
	buf_printf(&b, ";");
	bool found = false;
	for (size_t i = 0; i < s->nsq_n && !found; i++)
		found = strstr(s->nsq[i], b.d) != NULL;
	free(b.d);
	return found;
}

/* Take every event libdbg has now, of every process; reportable ones
 * are queued. */
static void ns_poll_events(struct server *s)
{
	struct dbg_event ev;
	run_released(s);
	cond_silent = 0;
	for (size_t i = 0; i < s->nprocs && cond_silent < COND_SILENT_MAX;) {
		struct sproc *sp = &s->procs[i];
		if (!proc_visible(sp)) {
			i++;
			continue;
		}
		int r = dbg_proc_wait(sp->p, 0, &ev);
		if (r == -ESRCH) {
			/* reported and released: the table moved */
			struct dbg_event x = { .kind = DBG_EVENT_EXITED, .tid = sp->pid };
			ns_report(s, &x);
			continue;
		}
		if (r < 0) {
			i++;
			continue;
		}
		if (handle_running_event(s, sp, &ev))
			ns_report(s, &ev); /* an exit releases sp: i is the next one */
	}
}

/* '?' in non-stop: every thread stopped, one stop reply each. */
static void ns_status(struct server *s, struct buf *out)
{
	ns_clear(s);
	if (!s->p) {
		buf_printf(out, "OK"); /* non-stop: nothing to report */
		return;
	}
	pid_t *tids;
	int n = threads(s, &tids);
	for (int i = 0; i < n; i++) {
		struct dbg_proc *p = tid_proc(s, tids[i]);
		if (dbg_proc_thread_state(p, tids[i]) == DBG_THREAD_RUNNING)
			dbg_proc_stop_thread(p, tids[i]);
		struct thr *t = thr_find(s, tids[i], false);
		if (t)
			t->act = 0; /* stopped, as the replies say */
	}
	pid_t first = any_thread(s);
	struct buf b = { 0 };
	/* One stop, the first thread's, as gdbserver: gdb 13 asserts (remote.c
	 * wait: async_event_handler_marked) when '?' lists several at attach. */
	for (int pass = 0; pass < 1; pass++)
		for (int i = 0; i < n; i++) {
			if ((tids[i] == first) != (pass == 0))
				continue;
			/* a spawned program's first thread stopped at its exec (SIGTRAP);
			 * everything else was stopped by us (signal 0) */
			bool trap = tids[i] == first && !s->attached;
			struct dbg_event ev = { .kind = trap ? DBG_EVENT_TRAP : DBG_EVENT_STOPPED,
						.tid = tids[i] };
			stop_reply(s, &ev, &b);
			if (s->nsq_n == s->nsq_cap) {
				size_t cap = s->nsq_cap ? 2 * s->nsq_cap : 16;
				char **nq = realloc(s->nsq, cap * sizeof(*nq));
				if (!nq)
					break;
				s->nsq = nq;
				s->nsq_cap = cap;
			}
			s->nsq[s->nsq_n++] = strdup(b.d);
		}
	free(b.d);
	free(tids);
	if (s->nsq_n)
		buf_printf(out, "%s", s->nsq[0]);
	else
		buf_printf(out, "OK");
}

/* ---------------------------------------------------------------- resume */

struct action {
	char a;
	int sig;
	uint64_t r0, r1;
	pid_t tid;  /* -1 all, else one thread */
	pid_t pid;  /* 0 any process, else that one's threads */
};

/* The first action that applies to thread @tid of process @pid, or NULL. */
static const struct action *action_for(const struct action *acts, int nact, pid_t pid, pid_t tid)
{
	for (int k = 0; k < nact; k++)
		if ((acts[k].pid <= 0 || acts[k].pid == pid) &&
		    (acts[k].tid == -1 || acts[k].tid == tid))
			return &acts[k];
	return NULL;
}

/* Apply resume actions to every thread and wait for the next stop. */
static int resume_nonstop(struct server *s, struct action *acts, int nact, struct buf *b);

static int resume(struct server *s, struct action *acts, int nact, struct buf *b)
{
	if (s->nonstop)
		return resume_nonstop(s, acts, nact, b);
	pid_t *tids;
	int n = threads(s, &tids);
	if (n <= 0) {
		free(tids);
		buf_reset(b);
		buf_printf(b, "E01");
		return send_reply(s, b);
	}
	for (int i = 0; i < n; i++) {
		struct thr *t = thr_find(s, tids[i], true);
		if (!t)
			continue;
		t->act = 0;
		struct sproc *sp = proc_of_tid(s, tids[i]);
		const struct action *a = action_for(acts, nact, sp ? sp->pid : s->pid, tids[i]);
		if (a) {
			t->act = a->a == 't' ? 0 : a->a;
			if (t->act)
				t->stop_sig = 0; /* passed or not, by the action */
			t->sig = a->sig;
			t->r0 = a->r0;
			t->r1 = a->r1;
		}
	}
	/* A kept event of a thread gdb resumes is reported first. */
	for (size_t i = 0; i < s->npending;) {
		struct dbg_event ev = s->pending[i];
		struct thr *t = thr_find(s, ev.tid, false);
		bool gone = ev.kind == DBG_EVENT_EXITED || ev.kind == DBG_EVENT_KILLED;
		/* the end of an earlier step, met while everything stopped:
		 * gdb, which has read the thread's pc since, now continues
		 * it; reported, it is a spurious SIGTRAP (gdb.threads/
		 * pending-step.exp) */
		bool stale_step = !gone && t && t->act == 'c' && ev.kind == DBG_EVENT_TRAP &&
				  ev.siginfo.code == 2 /* TRAP_TRACE */;
		/* an exit waits until gdb resumes that process (a step of
		 * another one must not get it) */
		bool now = (gone && action_for(acts, nact, ev.tid, ev.tid)) || (!gone && t && t->act);
		if (!stale_step && !now) {
			i++;
			continue;
		}
		pending_drop(s, i);
		if (!stale_step && !hit_gone(s, &ev)) {
			/* Nothing runs now: a signal gdb gave a thread in this
			 * vCont is kept for its next resume, which may name
			 * none (gdbserver queues it so too); else it is lost
			 * (siginfo-threads: a SIGUSR1 gdb passed was never
			 * delivered). */
			for (int k = 0; k < n; k++) {
				struct thr *o = thr_find(s, tids[k], false);
				if (o && o->act && o->sig && !o->keep_sig)
					o->keep_sig = o->sig;
			}
			free(tids);
			if (t && ev.kind == DBG_EVENT_SIGNAL)
				t->keep_sig = 0;
			report(s, &ev, b);
			return send_reply(s, b);
		}
	}
	for (int i = 0; i < n; i++) {
		struct thr *t = thr_find(s, tids[i], false);
		if (!t || !t->act)
			continue;
		int sig = t->sig ? t->sig : t->keep_sig;
		t->keep_sig = 0;
		dbg_proc_set_signal(tid_proc(s, tids[i]), tids[i], sig);
		resume_thr(s, t);
	}
	free(tids);
	s->running = true;
	return wait_and_report(s, b);
}

/* Non-stop vCont: each thread as its action says, at once; OK. */
static int resume_nonstop(struct server *s, struct action *acts, int nact, struct buf *b)
{
	pid_t *tids;
	/* Stops libdbg has and gdb has not had yet go out first: their
	 * threads stay stopped until gdb, having seen them, resumes them
	 * (a wildcard 'c' would let them run on with their stop reported
	 * after, and the next 't' would report a second one) */
	ns_poll_events(s);
	if (!s->p) {
		buf_reset(b);
		buf_printf(b, "OK");
		return send_reply(s, b);
	}
	int n = threads(s, &tids);
	buf_reset(b);
	for (int i = 0; i < n; i++) {
		struct sproc *sp = proc_of_tid(s, tids[i]);
		if (!sp)
			continue;
		const struct action *a = action_for(acts, nact, sp->pid, tids[i]);
		if (!a)
			continue;
		struct thr *t = thr_find(s, tids[i], true);
		if (!t)
			continue;
		int st = dbg_proc_thread_state(sp->p, tids[i]);
		if (a->a == 't') {
			/* one stop per thread gdb thinks running (a thread the
			 * server holds stopped included, and one gdb has not
			 * heard of stopping since an attach); none for one whose
			 * stop gdb has had or is about to get (an event met
			 * while stopping it): 'vCont;t' names every thread,
			 * and a second stop trips gdb (skip_inline_frames) */
			if (st != DBG_THREAD_RUNNING || dbg_proc_stop_thread(sp->p, tids[i]) == 0) {
				cond_stopping = tids[i];
				ns_poll_events(s); /* may release processes: sp is not used after */
				cond_stopping = 0;
				if (!s->p)
					break;
				t = thr_find(s, tids[i], false);
				if (!(t && t->told_stopped) && !ns_queued_for(s, tids[i])) {
					struct dbg_event ev = { .kind = DBG_EVENT_STOPPED, .tid = tids[i] };
					ns_report(s, &ev);
				}
			}
			continue;
		}
		if (st != DBG_THREAD_STOPPED && st != DBG_THREAD_GROUP_STOPPED)
			continue;
		if (t->act) {
			/* gdb resumed this thread before and has not had its
			 * stop: a request to resume it again is ignored, as
			 * gdbserver does (the trailing 'c' of a vCont names
			 * threads gdb still has stepping). libdbg may hold its
			 * stop already: a step-off earlier in this loop paused
			 * the others and collected their traps. Resumed on the
			 * new action, a step whose trap was waiting became a
			 * continue and the trap was reported for a running
			 * thread, then its next stop too (gdb 13:
			 * skip_inline_frames assertion; gdb.threads/
			 * non-stop-fair-events). */
			ns_poll_events(s); /* may release processes: sp is not used after */
			if (!s->p)
				break;
			t = thr_find(s, tids[i], false);
			struct dbg_proc *tp = t ? tid_proc(s, tids[i]) : NULL;
			if (!t || !tp || ns_queued_for(s, tids[i]))
				continue;
			st = dbg_proc_thread_state(tp, tids[i]);
			if (st != DBG_THREAD_STOPPED && st != DBG_THREAD_GROUP_STOPPED)
				continue;
			if (t->act) {
				resume_thr(s, t); /* its own request goes on */
				continue;
			}
			sp = proc_of_tid(s, tids[i]);
			if (!sp)
				continue;
		}
		if (ns_queued_for(s, tids[i]))
			continue;
		t->told_stopped = false;
		t->act = a->a;
		t->sig = a->sig;
		t->r0 = a->r0;
		t->r1 = a->r1;
		int sig = t->sig ? t->sig : t->keep_sig;
		t->keep_sig = 0;
		dbg_proc_set_signal(sp->p, tids[i], sig);
		resume_thr(s, t);
	}
	free(tids);
	buf_printf(b, "OK");
	return send_reply(s, b);
}

static int parse_vcont(struct server *s, const char *p, struct action *acts, int cap)
{
	int n = 0;
	while (*p == ';') {
		p++;
		if (n == cap)
			return -1;
		struct action *a = &acts[n];
		memset(a, 0, sizeof(*a));
		a->tid = -1;
		a->a = *p++;
		uint64_t v;
		switch (a->a) {
		case 'C':
		case 'S':
			if (rsp_parse_hex(&p, &v) < 0 || v > 255)
				return -1;
			a->sig = sig_from_gdb((int)v);
			a->a = (char)tolower(a->a);
			break;
		case 'c':
		case 's':
		case 't':
			break;
		case 'r':
			if (rsp_parse_hex(&p, &a->r0) < 0 || *p++ != ',' ||
			    rsp_parse_hex(&p, &a->r1) < 0)
				return -1;
			break;
		default:
			return -1;
		}
		if (*p == ':') {
			p++;
			pid_t pid, tid;
			if (parse_ptid(&p, &pid, &tid) < 0)
				return -1;
			if (pid > 0 && !proc_visible(proc_find(s, pid)))
				continue; /* a process we do not have */
			a->pid = pid > 0 ? pid : 0;
			a->tid = tid <= 0 ? -1 : tid;
		}
		n++;
	}
	if (*p)
		return -1;
	return n;
}

/* ---------------------------------------------------------------- qXfer */

static void xfer_slice(struct buf *out, const char *obj, size_t len, uint64_t off, uint64_t want)
{
	if (off >= len) {
		buf_add(out, "l", 1);
		return;
	}
	size_t n = len - off;
	if (n > want)
		n = want;
	buf_add(out, off + n < len ? "m" : "l", 1);
	buf_add(out, obj + off, n);
}

static int thread_core(pid_t pid, pid_t tid)
{
	char path[64], tmp[1024];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, tmp, sizeof(tmp) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	tmp[n] = 0;
	char *p = strrchr(tmp, ')');
	if (!p)
		return -1;
	/* field 39 is processor; p points at field 2's end */
	int field = 2;
	for (; *p && field < 39; p++)
		if (*p == ' ')
			field++;
	return atoi(p);
}

static void thread_name(pid_t pid, pid_t tid, char *out, size_t cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	out[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, cap - 1);
	close(fd);
	if (n < 0)
		n = 0;
	out[n] = 0;
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
}

static void build_threads_xml(struct server *s, struct buf *x)
{
	pid_t *tids;
	int n = threads(s, &tids);
	buf_printf(x, "<?xml version=\"1.0\"?>\n<threads>\n");
	for (int i = 0; i < n; i++) {
		char name[64];
		struct sproc *sp = proc_of_tid(s, tids[i]);
		pid_t pid = sp ? sp->pid : s->pid;
		buf_printf(x, "<thread id=\"");
		fmt_ptid(s, x, tids[i]);
		buf_printf(x, "\" core=\"%d\"", thread_core(pid, tids[i]));
		thread_name(pid, tids[i], name, sizeof(name));
		if (name[0]) {
			buf_printf(x, " name=\"");
			buf_xml(x, name);
			buf_printf(x, "\"");
		}
		buf_printf(x, "/>\n");
	}
	buf_printf(x, "</threads>\n");
	free(tids);
}

/* A thread in a stop of ours (PTRACE_INTERRUPT: the attach, a stop-all,
 * gdb's vCont;t) has the kernel's siginfo of that trap, SIGTRAP with
 * PTRACE_EVENT_STOP in si_code. gdbserver and gdb's native target stop
 * threads with SIGSTOP, and gdb (its tests too) takes a debugger's stop
 * to read as that: a SIGSTOP sent by us (gdb.threads/attach-into-signal.exp
 * asks a thread the attach stopped for its $_siginfo: 14, a SIGALRM,
 * or 19). */
static void stop_as_sigstop(uint8_t *raw)
{
	siginfo_t si;
	_Static_assert(sizeof(si) == DBG_SIGINFO_SIZE, "siginfo size");
	memcpy(&si, raw, sizeof(si));
	if (si.si_signo != SIGTRAP || si.si_code != (SIGTRAP | PTRACE_EVENT_STOP << 8))
		return;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGSTOP;
	si.si_code = SI_USER;
	si.si_pid = getpid();
	si.si_uid = getuid();
	memcpy(raw, &si, sizeof(si));
}

/* qXfer:siginfo:write::offset:data (the data already unescaped): gdb
 * changed $_siginfo of the selected thread, which the kernel delivers
 * with the signal on the next resume. */
static void siginfo_write(struct server *s, const char *q, size_t qlen, struct buf *out)
{
	const char *end = q + qlen;
	uint64_t off;
	uint8_t si[DBG_SIGINFO_SIZE];
	pid_t tid = s->p ? reg_thread(s) : 0;
	if (rsp_parse_hex(&q, &off) < 0 || q >= end || *q++ != ':' || off > sizeof(si)) {
		buf_printf(out, "E00");
		return;
	}
	size_t n = (size_t)(end - q);
	if (n > sizeof(si) - off)
		n = sizeof(si) - (size_t)off;
	if (!tid || dbg_signal_siginfo(s->p, tid, si) < 0) {
		buf_printf(out, "E01");
		return;
	}
	memcpy(si + off, q, n);
	if (dbg_signal_siginfo_set(s->p, tid, si) < 0) {
		buf_printf(out, "E01");
		return;
	}
	buf_printf(out, "%zx", n);
}

static void handle_qxfer(struct server *s, const char *pkt, size_t plen, struct buf *out)
{
	/* qXfer:object:read:annex:offset,length */
	char obj[32], annex[256];
	const char *p = pkt + 6;
	const char *c1 = strchr(p, ':');
	if (!c1 || (size_t)(c1 - p) >= sizeof(obj)) {
		buf_printf(out, "E00");
		return;
	}
	memcpy(obj, p, (size_t)(c1 - p));
	obj[c1 - p] = 0;
	if (!strcmp(obj, "siginfo") && !strncmp(c1 + 1, "write::", 7)) {
		siginfo_write(s, c1 + 8, plen - (size_t)(c1 + 8 - pkt), out);
		return;
	}
	if (strncmp(c1 + 1, "read:", 5)) {
		buf_reset(out); /* no other object is written */
		return;
	}
	const char *a = c1 + 6;
	const char *c2 = strchr(a, ':');
	if (!c2 || (size_t)(c2 - a) >= sizeof(annex)) {
		buf_printf(out, "E00");
		return;
	}
	memcpy(annex, a, (size_t)(c2 - a));
	annex[c2 - a] = 0;
	const char *q = c2 + 1;
	uint64_t off, len;
	if (rsp_parse_hex(&q, &off) < 0 || *q++ != ',' || rsp_parse_hex(&q, &len) < 0) {
		buf_printf(out, "E00");
		return;
	}
	struct buf x = { 0 };
	if (!strcmp(obj, "features")) {
		if (strcmp(annex, "target.xml") || ensure_tdesc(s) < 0) {
			buf_printf(out, "E00");
			return;
		}
		xfer_slice(out, s->td.xml, s->td.xml_len, off, len);
		return;
	}
	if (!strcmp(obj, "osdata")) {
		/* built at offset 0, sliced from that copy (as threads) */
		static struct buf osdoc;
		if (off == 0 || !osdoc.d) {
			buf_reset(&osdoc);
			if (osdata_read(s, annex, &osdoc) < 0) {
				buf_printf(out, "E01");
				return;
			}
		}
		xfer_slice(out, osdoc.d ? osdoc.d : "", osdoc.len, off, len);
		return;
	}
	if (!s->p) {
		buf_printf(out, "E01");
		return;
	}
	if (!strcmp(obj, "auxv")) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/auxv", (int)s->pid);
		if (buf_read_file(path, &x) < 0) {
			buf_printf(out, "E01");
			goto done;
		}
	} else if (!strcmp(obj, "exec-file")) {
		uint64_t pid = (uint64_t)s->pid;
		const char *ap = annex;
		if (*ap)
			rsp_parse_hex(&ap, &pid);
		char path[64], exe[PATH_MAX];
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		ssize_t n = readlink(path, exe, sizeof(exe));
		if (n <= 0) {
			buf_printf(out, "E01");
			goto done;
		}
		buf_add(&x, exe, (size_t)n);
	} else if (!strcmp(obj, "threads")) {
		/* gdb reads the document in PacketSize slices: build it at
		 * offset 0 and serve the later slices from that copy, so a
		 * 1,000-thread list is one pass over /proc, not one per
		 * slice (45 passes, 90,000 opens, half of an attach). */
		static struct buf doc;
		if (off == 0 || !doc.d) {
			buf_reset(&doc);
			build_threads_xml(s, &doc);
		}
		xfer_slice(out, doc.d ? doc.d : "", doc.len, off, len);
		goto done;
	} else if (!strcmp(obj, "libraries-svr4")) {
		if (svr4_libraries(s, annex, &x) < 0) {
			buf_printf(out, "E01");
			goto done;
		}
	} else if (!strcmp(obj, "siginfo")) {
		uint8_t si[DBG_SIGINFO_SIZE];
		if (dbg_signal_siginfo(s->p, reg_thread(s), si) < 0) {
			buf_printf(out, "E01");
			goto done;
		}
		stop_as_sigstop(si);
		buf_add(&x, si, sizeof(si));
	} else {
		buf_reset(out);
		goto done;
	}
	xfer_slice(out, x.d ? x.d : "", x.len, off, len);
done:
	free(x.d);
}

/* ---------------------------------------------------------------- packets */

static void reply_thread_list(struct server *s, struct buf *out, bool first)
{
	static pid_t *list;
	static int nlist, pos;
	if (first) {
		free(list);
		list = NULL;
		nlist = threads(s, &list);
		if (nlist < 0)
			nlist = 0;
		pos = 0;
	}
	if (pos >= nlist) {
		buf_printf(out, "l");
		return;
	}
	buf_printf(out, "m");
	for (int k = 0; pos < nlist && k < 512; k++, pos++) {
		if (k)
			buf_printf(out, ",");
		fmt_ptid(s, out, list[pos]);
	}
}

static void q_supported(struct server *s, const char *pkt, struct buf *out)
{
	s->mp = strstr(pkt, "multiprocess+") != NULL;
	s->exec_events = strstr(pkt, "exec-events+") != NULL;
	s->fork_events = strstr(pkt, "fork-events+") != NULL;
	s->vfork_events = strstr(pkt, "vfork-events+") != NULL;
	s->swbreak = strstr(pkt, "swbreak+") != NULL;
	s->no_resumed = strstr(pkt, "no-resumed+") != NULL;
	/* lldb lists its architectures; gdb names only i386 */
	s->lldb = strstr(pkt, "xmlRegisters=i386,") != NULL;
	buf_printf(out, "PacketSize=%x;QStartNoAckMode+;multiprocess+;"
		   "qXfer:features:read+;qXfer:auxv:read+;qXfer:exec-file:read+;"
		   "qXfer:threads:read+;qXfer:siginfo:read+;qXfer:siginfo:write+;QPassSignals+;"
		   "QProgramSignals+;QDisableRandomization+;QEnvironmentHexEncoded+;"
		   "QEnvironmentReset+;QEnvironmentUnset+;QSetWorkingDir+;QStartupWithShell+;"
		   "vContSupported+;exec-events+;fork-events+;vfork-events+;no-resumed+;hwbreak+;swbreak+;ConditionalBreakpoints+;QCatchSyscalls+;QNonStop+;qXfer:osdata:read+;qXfer:libraries-svr4:read+",
		   RSP_ADVERTISED_PACKET);
}

static void parse_signal_list(const char *p, uint8_t *tab)
{
	memset(tab, 0, 128);
	while (*p) {
		uint64_t v;
		if (rsp_parse_hex(&p, &v) < 0)
			return;
		int lx = sig_from_gdb((int)v);
		if (lx > 0 && lx < 128)
			tab[lx] = 1;
		if (*p == ';')
			p++;
		else
			return;
	}
}

/* QCatchSyscalls:0, :1 (all), :1;NR;NR... (hex) */
static void q_catch_syscalls(struct server *s, const char *p, struct buf *out)
{
	long nrs[DBG_SYSCALL_NR_MAX];
	size_t n = 0;
	unsigned flags = 0;
	if (!s->p || (*p != '0' && *p != '1')) {
		buf_printf(out, "E01");
		return;
	}
	if (*p == '1') {
		p++;
		if (!*p)
			flags = DBG_SYSCALL_CATCH_ALL;
		while (*p == ';') {
			uint64_t v;
			p++;
			if (rsp_parse_hex(&p, &v) < 0 || v >= DBG_SYSCALL_NR_MAX || n == DBG_SYSCALL_NR_MAX) {
				buf_printf(out, "E01");
				return;
			}
			nrs[n++] = (long)v;
		}
		if (*p) {
			buf_printf(out, "E01");
			return;
		}
	} else if (p[1]) {
		buf_printf(out, "E01");
		return;
	}
	/* gdb's catch applies to every inferior */
	int r = 0;
	for (size_t i = 0; i < s->nprocs; i++)
		if (proc_visible(&s->procs[i]) && dbg_syscall_catch(s->procs[i].p, nrs, n, flags) < 0)
			r = -1;
	buf_printf(out, r < 0 ? "E01" : "OK");
}

static char *unhex_str(const char *p, size_t n)
{
	char *r = malloc(n / 2 + 1);
	if (!r)
		return NULL;
	if (rsp_unhex(p, n / 2, (uint8_t *)r) < 0 || (n & 1)) {
		free(r);
		return NULL;
	}
	r[n / 2] = 0;
	return r;
}

static void env_set(struct server *s, const char *kv)
{
	if (!s->env) {
		extern char **environ;
		size_t n = 0;
		while (environ[n])
			n++;
		s->env = calloc(n + 2, sizeof(char *));
		if (!s->env)
			return;
		for (size_t i = 0; i < n; i++)
			s->env[i] = strdup(environ[i]);
		s->nenv = n;
	}
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	for (size_t i = 0; i < s->nenv; i++)
		if (!strncmp(s->env[i], kv, klen) && s->env[i][klen] == '=') {
			free(s->env[i]);
			if (eq) {
				s->env[i] = strdup(kv);
			} else {
				s->env[i] = s->env[--s->nenv];
				s->env[s->nenv] = NULL;
			}
			return;
		}
	if (!eq)
		return;
	char **n = realloc(s->env, (s->nenv + 2) * sizeof(char *));
	if (!n)
		return;
	s->env = n;
	s->env[s->nenv++] = strdup(kv);
	s->env[s->nenv] = NULL;
}

/* Monitor output: an O packet of hex text. */
static void o_printf(struct server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void o_printf(struct server *s, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	struct buf o = { 0 };
	buf_printf(&o, "O");
	buf_hex(&o, tmp, strlen(tmp));
	rsp_send(s->c, o.d, o.len);
	free(o.d);
}

static void q_rcmd(struct server *s, const char *hex, struct buf *out)
{
	char *cmd = unhex_str(hex, strlen(hex));
	if (!cmd) {
		buf_printf(out, "E01");
		return;
	}
	const char *msg = NULL;
	bool unknown = false;
	if (!strcmp(cmd, "exit")) {
		s->exit_requested = true;
	} else if (!strcmp(cmd, "help")) {
		msg = "The following monitor commands are supported:\n"
		      "  exit  -- Quit dbg-server (the target is killed, or detached if attached)\n"
		      "  help  -- Print this message\n"
		      "  set debug 0|1 -- Print packets to stderr\n";
	} else if (!strcmp(cmd, "set debug 1") || !strcmp(cmd, "set debug 0")) {
		s->debug = cmd[10] == '1';
		msg = s->debug ? "Debug output enabled.\n" : "Debug output disabled.\n";
	} else if (!strcmp(cmd, "set remote-debug 1") || !strcmp(cmd, "set remote-debug 0")) {
		s->c->trace = cmd[17] == '1';
		msg = s->c->trace ? "Protocol debug output enabled.\n" : "Protocol debug output disabled.\n";
	} else if (!strncmp(cmd, "set libthread-db-search-path", 28)) {
		/* no libthread_db here: accepted, as gdbserver words it */
		const char *path = cmd[28] == ' ' ? cmd + 29 : "";
		tls_search_path(path);
		o_printf(s, "libthread-db-search-path set to `%s'\n", path);
	} else if (!strcmp(cmd, "set debug-format all")) {
		msg = "All extra debug format options enabled.\n";
	} else if (!strcmp(cmd, "set debug-format none")) {
		msg = "All extra debug format options disabled.\n";
	} else {
		msg = "Unknown monitor command.\n\n";
		unknown = true;
	}
	if (msg) {
		struct buf o = { 0 };
		buf_printf(&o, "O");
		buf_hex(&o, msg, strlen(msg));
		rsp_send(s->c, o.d, o.len);
		free(o.d);
	}
	buf_printf(out, unknown ? "E01" : "OK");
	free(cmd);
}

static void read_regs(struct server *s, struct buf *out)
{
	pid_t tid = reg_thread(s);
	struct regbuf rb;
	if (!s->p || ensure_tdesc(s) < 0 || regbuf_read(gproc(s), tid, &rb) < 0) {
		buf_printf(out, "E01");
		return;
	}
	uint8_t tmp[64];
	for (int i = 0; i < s->td.nregs; i++) {
		int sz = tdesc_reg_size(&s->td, i);
		tdesc_reg_get(&s->td, i, &rb, tmp);
		buf_hex(out, tmp, (size_t)sz);
	}
}

static void write_regs(struct server *s, const char *hex, size_t len, struct buf *out)
{
	pid_t tid = reg_thread(s);
	struct regbuf rb;
	if (!s->p || ensure_tdesc(s) < 0 || regbuf_read(gproc(s), tid, &rb) < 0) {
		buf_printf(out, "E01");
		return;
	}
	size_t pos = 0;
	uint8_t tmp[64];
	for (int i = 0; i < s->td.nregs && pos < len; i++) {
		int sz = tdesc_reg_size(&s->td, i);
		if (pos + 2 * (size_t)sz > len)
			break;
		/* "xx" marks a register gdb does not have: left as it is */
		if (hex[pos] != 'x') {
			if (rsp_unhex(hex + pos, (size_t)sz, tmp) < 0) {
				buf_printf(out, "E01");
				return;
			}
			tdesc_reg_set(&s->td, i, &rb, tmp);
		}
		pos += 2 * (size_t)sz;
	}
	if (regbuf_write(gproc(s), tid, &rb, 1, 1) < 0)
		buf_printf(out, "E01");
	else
		buf_printf(out, "OK");
}

static void read_reg(struct server *s, const char *p, struct buf *out)
{
	uint64_t n;
	struct regbuf rb;
	if (rsp_parse_hex(&p, &n) < 0 || *p || !s->p || ensure_tdesc(s) < 0 ||
	    tdesc_reg_size(&s->td, (int)n) < 0 || n > INT_MAX) {
		buf_printf(out, "E01");
		return;
	}
	if (regbuf_read(gproc(s), reg_thread(s), &rb) < 0) {
		buf_printf(out, "E01");
		return;
	}
	uint8_t tmp[64];
	tdesc_reg_get(&s->td, (int)n, &rb, tmp);
	buf_hex(out, tmp, (size_t)tdesc_reg_size(&s->td, (int)n));
}

static void write_reg(struct server *s, const char *p, struct buf *out)
{
	uint64_t n;
	struct regbuf rb;
	uint8_t tmp[64];
	if (rsp_parse_hex(&p, &n) < 0 || *p++ != '=' || !s->p || ensure_tdesc(s) < 0 ||
	    n > INT_MAX || tdesc_reg_size(&s->td, (int)n) < 0) {
		buf_printf(out, "E01");
		return;
	}
	int sz = tdesc_reg_size(&s->td, (int)n);
	if (strlen(p) != 2 * (size_t)sz || rsp_unhex(p, (size_t)sz, tmp) < 0) {
		buf_printf(out, "E01");
		return;
	}
	pid_t tid = reg_thread(s);
	if (regbuf_read(gproc(s), tid, &rb) < 0) {
		buf_printf(out, "E01");
		return;
	}
	tdesc_reg_set(&s->td, (int)n, &rb, tmp);
	int gp = tdesc_reg_is_gp(&s->td, (int)n);
	if (regbuf_write(gproc(s), tid, &rb, gp, !gp) < 0)
		buf_printf(out, "E01");
	else
		buf_printf(out, "OK");
}

static int parse_addr_len(const char **p, uint64_t *addr, uint64_t *len)
{
	if (rsp_parse_hex(p, addr) < 0 || *(*p)++ != ',' || rsp_parse_hex(p, len) < 0)
		return -1;
	return 0;
}

static void mem_read(struct server *s, const char *p, struct buf *out, bool binary)
{
	uint64_t addr, len;
	if (parse_addr_len(&p, &addr, &len) < 0 || *p) {
		buf_printf(out, "E01");
		return;
	}
	if (!s->p) {
		buf_printf(out, "E01");
		return;
	}
	size_t max = binary ? RSP_MAX_PACKET / 2 : RSP_MAX_PACKET / 2 - 16;
	if (len > max)
		len = max;
	if (binary && len == 0) {
		buf_printf(out, "b");
		return;
	}
	uint8_t *tmp = malloc(len ? len : 1);
	if (!tmp) {
		buf_printf(out, "E01");
		return;
	}
	ssize_t n = len ? dbg_mem_read(gproc(s), addr, tmp, len) : 0;
	if (n < 0 || (n == 0 && len)) {
		buf_printf(out, "E01");
	} else if (binary) {
		buf_add(out, "b", 1);
		buf_add(out, tmp, (size_t)n);
	} else {
		buf_hex(out, tmp, (size_t)n);
	}
	free(tmp);
}

static void mem_write(struct server *s, const char *p, size_t plen, const char *pkt, struct buf *out, bool binary)
{
	uint64_t addr, len;
	if (parse_addr_len(&p, &addr, &len) < 0 || *p++ != ':' || !s->p) {
		buf_printf(out, "E01");
		return;
	}
	size_t avail = plen - (size_t)(p - pkt);
	if ((binary && avail != len) || (!binary && avail != 2 * len)) {
		buf_printf(out, "E01");
		return;
	}
	if (len == 0) {
		buf_printf(out, "OK");
		return;
	}
	uint8_t *tmp = malloc(len);
	if (!tmp) {
		buf_printf(out, "E01");
		return;
	}
	if (binary)
		memcpy(tmp, p, len);
	else if (rsp_unhex(p, len, tmp) < 0) {
		free(tmp);
		buf_printf(out, "E01");
		return;
	}
	ssize_t n = dbg_mem_write(gproc(s), addr, tmp, len);
	free(tmp);
	buf_printf(out, n == (ssize_t)len ? "OK" : "E01");
}

static void v_run(struct server *s, const char *p, struct buf *out)
{
	char *argv[256];
	int argc = 0;
	p += 4;
	while (*p == ';' && argc < 255) {
		p++;
		const char *e = strchr(p, ';');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *a = unhex_str(p, n);
		if (!a)
			goto bad;
		argv[argc++] = a;
		p += n;
	}
	argv[argc] = NULL;
	if (argc == 0 || !argv[0][0]) {
		/* the command line's program, else the last one run (another
		 * inferior gdb runs without its own exec-file), with gdb's
		 * arguments if any */
		bool last = !s->prog_argc;
		if (last && (!s->last_argv || !s->last_argv[0]))
			goto bad;
		if (argc)
			free(argv[0]);
		char *nargv[256];
		int k = 0;
		nargv[k++] = strdup(last ? s->last_argv[0] : s->prog_argv[0]);
		if (argc > 1)
			for (int i = 1; i < argc && k < 255; i++)
				nargv[k++] = argv[i];
		else if (!last)
			for (int i = 1; i < s->prog_argc && k < 255; i++)
				nargv[k++] = strdup(s->prog_argv[i]);
		nargv[k] = NULL;
		memcpy(argv, nargv, sizeof(char *) * ((size_t)k + 1));
		argc = k;
	}
	/* extended-remote: processes gdb has already stay (its other
	 * inferiors; gdb kills the one it reruns itself) */
	int r = do_spawn(s, argv);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	if (r < 0) {
		buf_printf(out, "E01");
		return;
	}
	struct dbg_event ev = { .kind = DBG_EVENT_TRAP, .tid = s->pid, .signo = SIGTRAP };
	report(s, &ev, out);
	return;
bad:
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	buf_printf(out, "E01");
}

/* A breakpoint of the current process at @addr that is in no zpt: one a
 * fork child inherited from its parent (dbg_proc_attach_child). */
static struct dbg_bp *inherited_bp(struct server *s, uint64_t addr)
{
	struct dbg_bp *bps[1024];
	int n = dbg_bp_list(s->p, bps, 1024);
	for (int i = 0; i < n && i < 1024; i++) {
		if (dbg_bp_addr(bps[i]) != addr)
			continue;
		bool known = false;
		for (size_t k = 0; k < s->nzpts && !known; k++)
			known = s->zpts[k].bp == bps[i];
		if (!known)
			return bps[i];
	}
	return NULL;
}

/* Keep the conditions of a Z0/Z1 of the current process (NULL: none). */
static int cond_keep(void *ctx, const struct ax_entry *e)
{
	struct server *s = ctx;
	for (size_t i = 0; i < s->nzpts; i++)
		if (s->zpts[i].pid == e->pid && s->zpts[i].type == e->type && s->zpts[i].addr == e->addr)
			return 1;
	return 0;
}

/* Set the conditions of the current process's Z0/Z1 at @addr (its zpt
 * is in the table already); @c is the table's from now on. */
static void cond_set(struct server *s, char type, uint64_t addr, struct ax_conds *c)
{
	/* full: drop entries of breakpoints gone with an exec or a process */
	if (c && s->bpconds.n == sizeof(s->bpconds.e) / sizeof(s->bpconds.e[0]))
		ax_table_sweep(&s->bpconds, cond_keep, s);
	if (ax_table_set(&s->bpconds, s->pid, type, addr, c) < 0 && s->debug)
		logmsg("dbg-server: no room for the conditions at %" PRIx64 ": every hit is reported\n",
		       addr);
}

/* gdb takes out a watch whose hits are kept (all-stop: several threads
 * stopped at once): the event must not point at the freed watch. A data
 * watch's hit has happened and stays, reported as a write ("watch", as
 * gdbserver reports every kind). A hardware breakpoint's is a
 * breakpoint hit from now on: hit_gone() drops it at the thread's
 * resume unless gdb has put a breakpoint back there. */
static void kept_watch_gone(struct server *s, const struct dbg_watch *w)
{
	bool exec = dbg_watch_kind(w) == DBG_WATCH_EXEC;
	for (size_t i = 0; i < s->npending; i++) {
		struct dbg_event *ev = &s->pending[i];
		if (ev->kind != DBG_EVENT_WATCHPOINT || ev->watch != w)
			continue;
		ev->watch = NULL;
		if (exec) {
			ev->kind = DBG_EVENT_BREAKPOINT;
			ev->bp = NULL;
		}
	}
}

/* Z1/z1 hardware breakpoints, Z2/z2 write and Z4/z4 access watchpoints
 * (x86 has no read-only watch: Z3 is not supported, as with gdbserver).
 * Z0 is left to gdb, which then writes int3 itself. Z0 and Z1 may carry
 * conditions (`;X<len>,<bytecode>`, ax.c): a hit is reported only when
 * one is true; a Z at the same address replaces them. */
static void z_packet(struct server *s, const char *pkt, struct buf *out)
{
	char type = pkt[1];
	const char *p = pkt + 3;
	uint64_t addr, len;
	/* Z0 reports hits with the pc at the breakpoint: gdb must know (swbreak) */
	if (type == '0' && !s->swbreak && !s->lldb)
		return;
	if (type != '0' && type != '1' && type != '2' && type != '4')
		return; /* empty: not supported */
	if (pkt[2] != ',' || parse_addr_len(&p, &addr, &len) < 0 || (*p && *p != ';') || !s->p) {
		buf_printf(out, "E01");
		return;
	}
	if (type == '1' || type == '0')
		len = 1;
	/* A process whose exit is kept for gdb's next resume of it has no
	 * threads and no memory: nothing to put in or take out */
	pid_t one;
	if (dbg_proc_threads(s->p, &one, 1) == 0) {
		buf_printf(out, "OK");
		return;
	}
	/* Each applies to the process Hg selected (s->p). */
	if (pkt[0] == 'z') {
		for (size_t i = 0; i < s->nzpts; i++)
			if (s->zpts[i].pid == s->pid && s->zpts[i].type == type &&
			    s->zpts[i].addr == addr && s->zpts[i].len == len) {
				if (type == '0') {
					dbg_bp_remove(s->p, s->zpts[i].bp);
				} else {
					kept_watch_gone(s, s->zpts[i].w);
					dbg_watch_remove(s->p, s->zpts[i].w);
				}
				s->zpts[i] = s->zpts[--s->nzpts];
				cond_set(s, type, addr, NULL);
				buf_printf(out, "OK");
				return;
			}
		/* a fork child's int3s inherited from its parent
		 * (dbg_proc_attach_child) are its own, not in our list:
		 * gdb takes them out before it lets the child go */
		if (type == '0' && inherited_bp(s, addr)) {
			dbg_bp_remove(s->p, inherited_bp(s, addr));
			buf_printf(out, "OK");
			return;
		}
		/* a fork child has none of its parent's debug registers:
		 * nothing to take out */
		struct sproc *sp = proc_find(s, s->pid);
		buf_printf(out, type != '0' && sp && sp->parent_tid ? "OK" : "E01");
		return;
	}
	struct ax_conds *conds = NULL;
	const char *why;
	if (ax_conds_parse(p, &conds, &why) < 0) {
		if (s->debug)
			logmsg("dbg-server: Z%c %" PRIx64 ": %s\n", type, addr, why);
		buf_printf(out, "E01");
		return;
	}
	if (type == '0' || type == '1') {
		/* gdb sends Z again when the conditions change: they are replaced */
		for (size_t i = 0; i < s->nzpts; i++)
			if (s->zpts[i].pid == s->pid && s->zpts[i].type == type && s->zpts[i].addr == addr) {
				cond_set(s, type, addr, conds);
				buf_printf(out, "OK"); /* already there */
				return;
			}
	} else {
		ax_conds_free(conds); /* gdb sends none for watchpoints */
		conds = NULL;
	}
	if (s->nzpts == sizeof(s->zpts) / sizeof(s->zpts[0])) {
		ax_conds_free(conds);
		buf_printf(out, "E01");
		return;
	}
	if (type == '0') {
		/* one the process inherited is taken as gdb's; but a vfork
		 * child's memory is its parent's, where gdb may have taken the
		 * int3 out (z0 to the parent): there it is put in afresh */
		struct dbg_bp *bp = inherited_bp(s, addr);
		struct sproc *cur = proc_find(s, s->pid);
		if (bp && cur && cur->vfork) {
			dbg_bp_remove(s->p, bp);
			bp = NULL;
		}
		/* a thread stopped at @addr hits it when resumed: gdb puts
		 * one at a stepping thread's pc to get a stop there */
		DBG_OPTS(dbg_bp_opts, bo, .flags = DBG_BP_STANDING_HIT);
		int r = bp ? 0 : dbg_bp_insert(s->p, addr, &bo, &bp);
		if (r < 0) {
			ax_conds_free(conds);
			buf_printf(out, "E01");
			return;
		}
		s->zpts[s->nzpts++] = (struct zpt){ .type = '0', .addr = addr, .len = 1, .bp = bp,
						    .pid = s->pid };
		cond_set(s, '0', addr, conds);
		buf_printf(out, "OK");
		return;
	}
	enum dbg_watch_kind k = type == '1' ? DBG_WATCH_EXEC
		: type == '2' ? DBG_WATCH_WRITE : DBG_WATCH_READWRITE;
	struct dbg_watch *w;
	int r = dbg_watch_insert(s->p, addr, (size_t)len, k, &w);
	if (r < 0) {
		ax_conds_free(conds);
		if (s->debug)
			logmsg("dbg-server: Z%c %" PRIx64 ",%" PRIu64 ": %s\n", type, addr, len,
			       dbg_proc_errmsg(s->p));
		buf_printf(out, "E01");
		return;
	}
	s->zpts[s->nzpts++] = (struct zpt){ .type = type, .addr = addr, .len = len, .w = w,
					    .pid = s->pid };
	if (type == '1')
		cond_set(s, '1', addr, conds);
	buf_printf(out, "OK");
}

/* Detach one process (D;PID), or every one (D). A vfork child runs on
 * its parent's memory: it stays traced, out of gdb's sight, until it
 * execs or exits (then vforkdone). */
static void detach_proc(struct server *s, struct sproc *sp)
{
	struct sproc *parent = sp->parent_tid ? proc_of_tid(s, sp->parent_tid) : NULL;
	if (sp->vfork && !sp->released && proc_visible(parent)) {
		sp->released = true;
		dbg_proc_set_signal(sp->p, sp->pid, 0);
		dbg_proc_resume(sp->p);
		if (sp->p == s->p)
			proc_select(s, NULL);
		return;
	}
	/* Its fork children gdb was never told of (the fork event still
	 * queued) and its released vfork children go with it: the server
	 * would otherwise keep them stopped, and kill them when it ends. */
	pid_t pid = sp->pid;
	for (size_t i = s->nprocs; i-- > 0;) {
		struct sproc *k = &s->procs[i];
		sp = proc_find(s, pid);
		if (k != sp && (k->unreported || k->released) && k->parent_tid &&
		    proc_of_tid(s, k->parent_tid) == sp)
			release_proc(s, k, false);
	}
	sp = proc_find(s, pid);
	logmsg("Detaching from process %d\n", (int)sp->pid);
	/* gdbserver's way (remote, not extended-remote): a program we
	 * started and gdb detached keeps the terminal, and we end only when
	 * it does (main) */
	if (!s->extended && !sp->attached && !sp->parent_tid)
		s->join_pid = sp->pid;
	release_proc(s, sp, false);
}

static void detach_target(struct server *s)
{
	/* one detach may take several entries (children go with parents) */
	for (size_t i = s->nprocs; i-- > 0;)
		if (i < s->nprocs && proc_visible(&s->procs[i]))
			detach_proc(s, &s->procs[i]);
}

/* Hg: select the process (and thread) later g/G/p/P/m/M/X/Z/z apply to.
 * "p<pid>.<tid>", "p<pid>" (any of its threads), "<tid>", 0, -1. */
static int h_select(struct server *s, pid_t pid, pid_t tid)
{
	struct sproc *sp = NULL;
	if (pid > 0) {
		sp = proc_find(s, pid);
		if (!proc_visible(sp))
			return -1;
		/* a process whose exit is kept for a later resume has no
		 * threads left, yet gdb may still clean its breakpoints */
		if (tid > 0 && proc_of_tid(s, tid) != sp) {
			pid_t one;
			if (dbg_proc_threads(sp->p, &one, 1) > 0 || tid != pid)
				return -1;
			proc_select(s, sp);
			s->gtid = tid;
			return 0;
		}
	} else if (tid > 0) {
		sp = proc_of_tid(s, tid);
		if (!proc_visible(sp))
			return -1;
	}
	if (tid > 0 && !thread_alive(s, tid)) {
		/* gone, but its process is not: gdb 13 goes on with memory
		 * reads and writes whatever the reply, and they are to go to
		 * that process, not the one selected before (gdb.threads/
		 * access-mem-running-thread-exit.exp: two inferiors whose
		 * threads come and go); registers are refused (reg_thread) */
		if (pid > 0 && sp) {
			proc_select(s, sp);
			s->gtid = tid;
		}
		return -1;
	}
	if (sp)
		proc_select(s, sp);
	s->gtid = tid;
	return 0;
}

/* Handle one packet; returns -1 when the connection is to end. */
static int handle(struct server *s, char *pkt, size_t len, struct buf *out)
{
	buf_reset(out);
	const char *p;
	pid_t pid, tid;
	uint64_t v;

	switch (pkt[0]) {
	case '!':
		s->extended = true;
		buf_printf(out, "OK");
		break;
	case '?':
		if (s->nonstop)
			ns_status(s, out);
		else if (!s->p)
			buf_printf(out, "W00");
		else if (s->last_stop)
			buf_printf(out, "%s", s->last_stop);
		else {
			struct dbg_event ev = { .kind = DBG_EVENT_TRAP, .tid = any_thread(s) };
			stop_reply(s, &ev, out);
			set_last_stop(s, out->d);
		}
		break;
	case 'g':
		if (len != 1)
			buf_printf(out, "E01");
		else
			read_regs(s, out);
		break;
	case 'G':
		write_regs(s, pkt + 1, len - 1, out);
		break;
	case 'p':
		read_reg(s, pkt + 1, out);
		break;
	case 'P':
		write_reg(s, pkt + 1, out);
		break;
	case 'm':
		mem_read(s, pkt + 1, out, false);
		break;
	case 'x':
		mem_read(s, pkt + 1, out, true);
		break;
	case 'M':
		mem_write(s, pkt + 1, len, pkt, out, false);
		break;
	case 'X':
		mem_write(s, pkt + 1, len, pkt, out, true);
		break;
	case 'H':
		p = pkt + 2;
		if ((pkt[1] != 'g' && pkt[1] != 'c') || parse_ptid(&p, &pid, &tid) < 0 || *p) {
			buf_printf(out, "E01");
			break;
		}
		if (pkt[1] == 'g' && h_select(s, pid, tid) < 0) {
			buf_printf(out, "E01");
			break;
		}
		if (pkt[1] == 'c') {
			if (tid > 0 && !thread_alive(s, tid)) {
				buf_printf(out, "E01");
				break;
			}
			s->ctid = tid;
		}
		buf_printf(out, "OK");
		break;
	case 'T':
		p = pkt + 1;
		if (parse_ptid(&p, &pid, &tid) < 0 || *p || !thread_alive(s, tid) ||
		    (pid > 0 && proc_of_tid(s, tid) != proc_find(s, pid)))
			buf_printf(out, "E01");
		else
			buf_printf(out, "OK");
		break;
	case 'c':
	case 's':
	case 'C':
	case 'S': {
		if (!s->p) {
			buf_printf(out, "E01");
			break;
		}
		struct action a[2] = { 0 };
		int n = 0;
		int sig = 0;
		p = pkt + 1;
		if (pkt[0] == 'C' || pkt[0] == 'S') {
			if (rsp_parse_hex(&p, &v) < 0 || v > 255) {
				buf_printf(out, "E01");
				break;
			}
			sig = sig_from_gdb((int)v);
		}
		pid_t step = s->ctid > 0 ? s->ctid : any_thread(s);
		if (tolower(pkt[0]) == 's')
			a[n++] = (struct action){ .a = 's', .sig = sig, .tid = step };
		else if (s->ctid > 0)
			a[n++] = (struct action){ .a = 'c', .sig = sig, .tid = s->ctid };
		a[n++] = (struct action){ .a = 'c', .tid = -1, .sig = tolower(pkt[0]) == 's' || s->ctid > 0 ? 0 : sig };
		return resume(s, a, n, out);
	}
	case 'v':
		if (!strncmp(pkt, "vCont?", 6)) {
			buf_printf(out, "vCont;c;C;s;S;t;r");
		} else if (!strncmp(pkt, "vCont;", 6)) {
			struct action acts[64];
			int n = parse_vcont(s, pkt + 5, acts, 64);
			/* non-stop: a process whose exit gdb has yet to take
			 * from the queue is gone already; asking it to stop is
			 * no error (its actions are dropped) */
			if (n < 0 || (!s->p && !s->nonstop)) {
				buf_printf(out, "E01");
				break;
			}
			return resume(s, acts, n, out);
		} else if (!strncmp(pkt, "vCont", 5)) {
			buf_printf(out, "E01");
		} else if (!strcmp(pkt, "vStopped")) {
			ns_vstopped(s, out);
		} else if (!strcmp(pkt, "vCtrlC")) {
			buf_printf(out, "OK");
			if (s->nonstop && s->p) {
				pid_t *tids;
				int n = threads(s, &tids);
				for (int i = 0; i < n; i++)
					if (dbg_proc_thread_state(tid_proc(s, tids[i]), tids[i]) == DBG_THREAD_RUNNING &&
					    dbg_proc_stop_thread(tid_proc(s, tids[i]), tids[i]) == 0) {
						struct thr *t = thr_find(s, tids[i], true);
						if (t)
							t->act = 0;
						send_reply(s, out);
						struct dbg_event ev = { .kind = DBG_EVENT_SIGNAL,
							.signo = SIGINT, .tid = tids[i] };
						ns_report(s, &ev);
						free(tids);
						return 0;
					}
				free(tids);
			}
		} else if (!strncmp(pkt, "vAttach;", 8)) {
			p = pkt + 8;
			if (rsp_parse_hex(&p, &v) < 0 || *p || v > INT_MAX || v == 0) {
				buf_printf(out, "E01");
				break;
			}
			/* extended-remote: the other processes stay (gdb's other
			 * inferiors); one we have already is refused */
			if (proc_find(s, (pid_t)v) || do_attach(s, (pid_t)v) < 0) {
				buf_printf(out, "E01");
				break;
			}
			if (s->nonstop) {
				/* non-stop: OK now, the stop as a notification */
				struct dbg_event ev = { .kind = DBG_EVENT_STOPPED, .tid = s->pid };
				send_reply(s, (buf_printf(out, "OK"), out));
				/* without registers: the notification comes before
				 * gdb knows this process's architecture (an added
				 * inferior with no file would misread them) */
				s->no_expedite = true;
				ns_report(s, &ev);
				s->no_expedite = false;
				return 0;
			}
			/* a signal met while stopping is the attach's stop, as
			 * with gdbserver (gdb.threads/attach-into-signal.exp) */
			struct dbg_event ev = { .kind = DBG_EVENT_TRAP, .tid = s->pid };
			for (size_t i = 0; i < s->npending; i++)
				if (s->pending[i].kind == DBG_EVENT_SIGNAL &&
				    proc_of_tid(s, s->pending[i].tid) == proc_find(s, (pid_t)v)) {
					ev = s->pending[i];
					s->pending[i] = s->pending[--s->npending];
					break;
				}
			report(s, &ev, out);
		} else if (!strncmp(pkt, "vRun;", 5)) {
			v_run(s, pkt, out);
		} else if (!strncmp(pkt, "vKill;", 6)) {
			/* that process only; the others run on or stay stopped */
			p = pkt + 6;
			struct sproc *k;
			if (rsp_parse_hex(&p, &v) < 0 || *p || !(k = proc_find(s, (pid_t)v)) ||
			    !proc_visible(k)) {
				buf_printf(out, "E01");
				break;
			}
			release_proc(s, k, true);
			buf_printf(out, "OK");
		} else if (!strncmp(pkt, "vFile:", 6)) {
			vfile_packet(s, pkt, len, out);
		} else if (!strcmp(pkt, "vMustReplyEmpty")) {
			/* empty */
		}
		break;
	case 'Z':
	case 'z':
		z_packet(s, pkt, out);
		break;
	case 'R':
		/* extended-remote restart: run the last program again; no reply */
		if (s->extended && s->last_argv) {
			release_all(s);
			do_spawn(s, s->last_argv);
		}
		return 0;
	case 'k':
		/* gdb does not wait for an answer to k; lldb does */
		if (s->lldb && s->p) {
			buf_printf(out, "X09");
			if (s->mp)
				buf_printf(out, ";process:%x", (unsigned)s->pid);
			send_reply(s, out);
		}
		/* every process, as gdbserver */
		release_target(s, true);
		if (!s->extended)
			return -1;
		return 0;
	case 'D':
		if (pkt[1] == ';') {
			/* D;PID: that process (a fork child gdb lets go, or
			 * the parent when gdb follows the child); the others
			 * stay */
			p = pkt + 2;
			struct sproc *k;
			if (rsp_parse_hex(&p, &v) < 0 || *p || !(k = proc_find(s, (pid_t)v)) ||
			    !proc_visible(k)) {
				buf_printf(out, "E01");
				break;
			}
			detach_proc(s, k);
			buf_printf(out, "OK");
			if (s->p || s->extended)
				break;
			send_reply(s, out);
			return -1;
		}
		if (!s->p) {
			buf_printf(out, "E01");
			break;
		}
		detach_target(s);
		buf_printf(out, "OK");
		if (!s->extended) {
			send_reply(s, out);
			return -1;
		}
		break;
	case 'q':
		if (!strncmp(pkt, "qSupported", 10)) {
			q_supported(s, pkt, out);
		} else if (!strcmp(pkt, "qC")) {
			if (s->p) {
				buf_printf(out, "QC");
				fmt_ptid(s, out, any_thread(s));
			}
		} else if (!strcmp(pkt, "qfThreadInfo")) {
			reply_thread_list(s, out, true);
		} else if (!strcmp(pkt, "qsThreadInfo")) {
			reply_thread_list(s, out, false);
		} else if (!strncmp(pkt, "qAttached", 9)) {
			struct sproc *sp = NULL;
			p = pkt + 9;
			if (*p == ':' && (p++, rsp_parse_hex(&p, &v) == 0))
				sp = proc_find(s, (pid_t)v);
			buf_printf(out, (sp ? sp->attached : s->attached) ? "1" : "0");
		} else if (!strncmp(pkt, "qXfer:", 6)) {
			handle_qxfer(s, pkt, len, out);
		} else if (!strncmp(pkt, "qRcmd,", 6)) {
			q_rcmd(s, pkt + 6, out);
		} else if (!strncmp(pkt, "qGetTLSAddr:", 12)) {
			tls_packet(s, pkt, out);
		} else if (!strncmp(pkt, "qSymbol:", 8)) {
			buf_printf(out, "OK");
		} else if (!strncmp(pkt, "qThreadExtraInfo,", 17)) {
			p = pkt + 17;
			if (parse_ptid(&p, &pid, &tid) == 0 && s->p) {
				char name[64];
				struct sproc *sp = proc_of_tid(s, tid);
				thread_name(sp ? sp->pid : s->pid, tid, name, sizeof(name));
				buf_hex(out, name, strlen(name));
			} else {
				buf_printf(out, "E01");
			}
		}
		/* qTStatus, qOffsets, qCRC, ...: empty, not supported */
		break;
	case 'Q':
		if (!strcmp(pkt, "QStartNoAckMode")) {
			buf_printf(out, "OK");
			s->noack_pending = true;
		} else if (!strncmp(pkt, "QPassSignals:", 13)) {
			parse_signal_list(pkt + 13, s->pass_sig);
			buf_printf(out, "OK");
		} else if (!strncmp(pkt, "QCatchSyscalls:", 15)) {
			q_catch_syscalls(s, pkt + 15, out);
		} else if (!strncmp(pkt, "QProgramSignals:", 16)) {
			parse_signal_list(pkt + 16, s->program_sig);
			s->program_sig_set = true;
			buf_printf(out, "OK");
		} else if (!strncmp(pkt, "QDisableRandomization:", 22)) {
			s->disable_aslr = pkt[22] == '1';
			buf_printf(out, "OK");
		} else if (!strcmp(pkt, "QEnvironmentReset")) {
			if (s->env) {
				for (size_t i = 0; i < s->nenv; i++)
					free(s->env[i]);
				free(s->env);
				s->env = NULL;
				s->nenv = 0;
			}
			buf_printf(out, "OK");
		} else if (!strncmp(pkt, "QEnvironmentHexEncoded:", 23) ||
			   !strncmp(pkt, "QEnvironmentUnset:", 18)) {
			const char *h = strchr(pkt, ':') + 1;
			char *kv = unhex_str(h, strlen(h));
			if (!kv) {
				buf_printf(out, "E01");
				break;
			}
			if (pkt[12] == 'U') {
				char *eq = strchr(kv, '=');
				if (eq)
					*eq = 0;
			}
			env_set(s, kv);
			free(kv);
			buf_printf(out, "OK");
		} else if (!strncmp(pkt, "QSetWorkingDir:", 15)) {
			free(s->cwd);
			s->cwd = pkt[15] ? unhex_str(pkt + 15, strlen(pkt + 15)) : NULL;
			buf_printf(out, "OK");
		} else if (!strncmp(pkt, "QStartupWithShell:", 18)) {
			buf_printf(out, "OK");
		} else if (!strncmp(pkt, "QNonStop:", 9)) {
			if (pkt[9] == '1' && !s->nonstop && s->p) {
				/* everything is stopped now: gdb sees that with '?' */
			}
			if (pkt[9] == '0' && s->nonstop && s->p) {
				/* all-stop: everything stops */
				for (size_t i = 0; i < s->nprocs; i++)
					if (proc_visible(&s->procs[i]))
						dbg_proc_stop(s->procs[i].p);
				s->npending = 0;
			}
			s->nonstop = pkt[9] == '1';
			ns_clear(s);
			/* everything is stopped: no resume of all-stop's is in force */
			for (size_t i = 0; i < s->nthr; i++)
				s->thr[i].act = 0;
			buf_printf(out, "OK");
		}
		break;
	default:
		/* unknown: empty reply */
		break;
	}
	if (send_reply(s, out) < 0)
		return -1;
	if (s->noack_pending) {
		s->c->noack = true;
		s->noack_pending = false;
	}
	return 0;
}

/* A packet that only reads (memory, registers, qXfer documents, vFile):
 * it neither resumes nor stops a thread, so it makes no event libdbg
 * would queue without a SIGCHLD. */
static bool reads_only(const char *pkt)
{
	return strchr("mxgpqT", pkt[0]) || !strncmp(pkt, "vFile:", 6);
}

/* Non-stop, after a packet that only reads, or idle: has a tracee a
 * status to reap? The last event wait took every queued event, so when
 * none has there is nothing to wait for, and the nine system calls of an
 * empty wait are not spent on every `m` of a gdb that reads running
 * memory (the contention row of doc/server.md). One waitid that reaps
 * nothing asks the kernel: SIGCHLD (the signalfds) is no answer, as one
 * signal stands for all the statuses that came before it was taken, and
 * a wait of one process takes it for all (a parent's vforkdone was
 * missed so). */
static bool status_waiting(void)
{
	siginfo_t si;
	si.si_pid = 0;
	if (waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) < 0)
		return errno != ECHILD;
	return si.si_pid != 0;
}

static void serve(struct server *s, struct rsp_conn *c)
{
	struct buf out = { 0 };
	s->c = c;
	s->extended = false;
	s->mp = false;
	s->lldb = false;
	if (s->td_built) {
		/* the next client may want another description */
		tdesc_free(&s->td);
		s->td_built = false;
	}
	/* Since the last event wait libdbg can have queued no event of its
	 * own: the last packet only read, or the server sat idle. */
	bool quiet = false;
	for (;;) {
		int e;
		if (s->nonstop && s->p) {
			/* threads may run: their events and gdb's packets, as they come */
			if (!quiet || status_waiting())
				ns_poll_events(s);
			/* events left for later (silent hits): do not sleep on them */
			bool more = cond_silent >= COND_SILENT_MAX;
			quiet = !more;
			int ci = poll_input(s, more ? 0 : 100);
			if (ci < 0)
				break;
			if (!ci)
				continue;
			e = rsp_conn_next(c, 0);
			if (e == RSP_EV_NONE)
				continue;
			quiet = false;
		} else {
			e = rsp_conn_next(c, -1);
		}
		if (e < 0)
			break;
		if (e == RSP_EV_INTERRUPT && !s->nonstop) {
			/* gdb's ^C crossed a stop reply: it waits for the
			 * SIGINT stop after its next resume (gdbserver sends
			 * the program a SIGINT; gdb.threads/detach-step-over.exp) */
			s->interrupt_pending = true;
			continue;
		}
		if (e != RSP_EV_PACKET)
			continue;
		if (c->p.len == 0) {
			rsp_send_str(c, "");
			continue;
		}
		quiet = reads_only(c->p.data);
		if (handle(s, c->p.data, c->p.len, &out) < 0)
			break;
		if (s->exit_requested)
			break;
	}
	free(out.d);
	s->c = NULL;
}

/* ---------------------------------------------------------------- main */

/* Listen on HOST:PORT, [V6]:PORT, V6ADDR:PORT or :PORT (every address). */
static int listen_on(const char *spec, int *ret_port)
{
	char host[256] = "";
	const char *colon = strrchr(spec, ':');
	const char *port = colon ? colon + 1 : spec;
	if (colon) {
		size_t n = (size_t)(colon - spec);
		if (n >= sizeof(host))
			n = sizeof(host) - 1;
		memcpy(host, spec, n);
		host[n] = 0;
	}
	if (host[0] == '[') {
		char *rb = strchr(host, ']');
		if (rb)
			*rb = 0;
		memmove(host, host + 1, strlen(host));
	}
	char *end;
	long pn = strtol(port, &end, 10);
	if (*port == 0 || *end || pn < 0 || pn > 65535) {
		logmsg("dbg-server: bad port '%s'\n", spec);
		return -1;
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	if (!host[0]) {
		struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
		sa->sin_family = AF_INET;
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
		sl = sizeof(*sa);
	} else {
		/* IPv4 first (gdb tries every address of "localhost"), then IPv6. */
		struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
		int g = getaddrinfo(host, NULL, &hints, &ai);
		if (g != 0) {
			hints.ai_family = AF_INET6;
			g = getaddrinfo(host, NULL, &hints, &ai);
		}
		if (g != 0) {
			logmsg("%s: cannot resolve name: %s\n", host, gai_strerror(g));
			return -1;
		}
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		sl = ai->ai_addrlen;
		freeaddrinfo(ai);
	}
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)pn);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)pn);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		logmsg("Can't bind address: %s.\n", strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, 1) < 0) {
		logmsg("Can't listen on socket: %s.\n", strerror(errno));
		close(fd);
		return -1;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*ret_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
			  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void usage(void)
{
	fprintf(stderr,
		"Usage: dbg-server [--once] [--multi] [--debug] COMM PROG [ARGS...]\n"
		"       dbg-server [--once] [--multi] [--debug] --attach COMM PID\n"
		"       dbg-server [--once] --attach PID COMM\n"
		"       dbg-server --multi COMM\n"
		"COMM is HOST:PORT, :PORT or 'stdio'.\n");
}

int main(int argc, char **argv)
{
	struct server *s = &S;
	const char *comm = NULL;
	long attach_pid = 0;
	bool attach_flag = false;
	int i;

	memset(s->fds, -1, sizeof(s->fds));
	s->disable_aslr = true; /* as gdbserver, until gdb says otherwise */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--once"))
			s->once = true;
		else if (!strcmp(a, "--multi"))
			s->multi = true;
		else if (!strcmp(a, "--debug") || !strcmp(a, "--remote-debug"))
			s->debug = true;
		else if (!strncmp(a, "--debug", 7) || !strncmp(a, "--remote-debug", 14) ||
			 !strncmp(a, "--debug-file=", 13) || !strncmp(a, "--debug-format=", 15) ||
			 !strcmp(a, "--no-startup-with-shell") || !strcmp(a, "--startup-with-shell") ||
			 !strncmp(a, "--disable-packet", 16))
			; /* accepted for compatibility */
		else if (!strcmp(a, "--disable-randomization"))
			s->disable_aslr = true;
		else if (!strcmp(a, "--no-disable-randomization"))
			s->disable_aslr = false;
		else if (!strcmp(a, "--wrapper")) {
			s->wrapper = argv + i + 1;
			while (i + 1 < argc && strcmp(argv[i + 1], "--"))
				i++, s->nwrapper++;
			if (i + 1 >= argc) {
				logmsg("dbg-server: --wrapper needs a closing --\n");
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--attach")) {
			attach_flag = true;
			if (i + 1 < argc && isdigit((unsigned char)argv[i + 1][0]) && !strchr(argv[i + 1], ':'))
				attach_pid = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(a, "--selftest")) {
			/* gdbserver's own unit tests; dbg-server's are in ctest */
			printf("Selftests have been disabled for this build.\n");
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("dbg-server (libdbg %u)\n", dbg_version());
			return 0;
		} else if (!strcmp(a, "--help")) {
			usage();
			return 0;
		} else if (a[0] == '-' && a[1] == '-') {
			logmsg("dbg-server: unknown option %s\n", a);
			usage();
			return 2;
		} else if (!comm) {
			/* options may follow COMM too, before PROG (as gdbserver) */
			comm = a;
		} else
			break;
	}
	if (!comm) {
		usage();
		return 2;
	}
	if (attach_flag && !attach_pid) {
		if (i >= argc) {
			usage();
			return 2;
		}
		attach_pid = strtol(argv[i++], NULL, 10);
		if (attach_pid <= 0) {
			usage();
			return 2;
		}
	}
	if (i < argc) {
		s->prog_argv = argv + i;
		s->prog_argc = argc - i;
	}
	if (!attach_flag && !s->prog_argc && !s->multi) {
		logmsg("dbg-server: no program to run (PROG, --attach PID or --multi)\n");
		usage();
		return 2;
	}

	/* dbg_proc_fd() is a signalfd: SIGCHLD stays blocked. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* gdb's ^C reaches the terminal's process group, us too */
	signal(SIGINT, SIG_IGN);

	bool stdio = !strcmp(comm, "stdio") || !strcmp(comm, "-");
	s->stdio = stdio;
	if (attach_flag) {
		if (do_attach(s, (pid_t)attach_pid) < 0)
			return 1;
	} else if (s->prog_argc) {
		if (do_spawn(s, s->prog_argv) < 0) {
			logmsg("Exiting\n");
			return 1;
		}
	}

	int port = 0;
	if (!stdio) {
		g_listen_fd = listen_on(comm, &port);
		if (g_listen_fd < 0) {
			release_all(s);
			return 1;
		}
	}
	for (;;) {
		struct rsp_conn *c = malloc(sizeof(*c));
		if (!c)
			return 1;
		if (stdio) {
			logmsg("Remote debugging using stdio\n");
			rsp_conn_init(c, 0, 1);
		} else {
			logmsg("Listening on port %d\n", port);
			int cfd;
			do
				cfd = accept4(g_listen_fd, NULL, NULL, SOCK_CLOEXEC);
			while (cfd < 0 && errno == EINTR);
			if (cfd < 0) {
				logmsg("dbg-server: accept: %s\n", strerror(errno));
				free(c);
				break;
			}
			int one = 1;
			setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			struct sockaddr_storage peer;
			socklen_t pl = sizeof(peer);
			char hbuf[128], pbuf[16];
			if (getpeername(cfd, (struct sockaddr *)&peer, &pl) == 0 &&
			    getnameinfo((struct sockaddr *)&peer, pl, hbuf, sizeof(hbuf), pbuf,
					sizeof(pbuf), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
				logmsg("Remote debugging from host %s, port %s\n", hbuf, pbuf);
			rsp_conn_init(c, cfd, cfd);
		}
		c->trace = s->debug;
		serve(s, c);
		if (!stdio)
			close(c->in_fd);
		rsp_conn_fini(c);
		free(c);
		vfile_close_all(s);
		if (stdio || s->once || s->exit_requested || (!s->multi && !s->p))
			break;
	}
	release_all(s);
	if (g_listen_fd >= 0)
		close(g_listen_fd);
	if (s->join_pid > 0 && !s->p) {
		int st;
		while (waitpid(s->join_pid, &st, 0) < 0 && errno == EINTR)
			;
		/* the terminal back to us before we end: the hang-up of a
		 * session leader's exit goes to the foreground group, where
		 * children the program left (a fork child gdb detached,
		 * still running) would be */
		if (isatty(0) && tcgetpgrp(0) == s->join_pid)
			terminal_to(getpgrp());
	}
	return 0;
}
