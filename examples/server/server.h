/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dbg-server's state, shared by its source files. */
#ifndef DBG_SERVER_SERVER_H
#define DBG_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <dbg.h>

#include "ax.h"
#include "rsp.h"
#include "tdesc.h"

/* A growing reply buffer. */
struct buf {
	char *d;
	size_t len, cap;
};
void buf_add(struct buf *b, const void *d, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_hex(struct buf *b, const void *d, size_t n);
void buf_reset(struct buf *b);
/* @s as XML character data or attribute text: markup escaped, control
 * bytes dropped, bytes that are not UTF-8 as '?' (gdb drops a whole
 * document that is not well-formed). */
void buf_xml(struct buf *b, const char *s);
/* All of @path into @b (reset first; NUL-terminated, NULs inside kept);
 * 0 or -errno. */
int buf_read_file(const char *path, struct buf *b);

/* What the server knows of one thread beyond libdbg. */
struct thr {
	pid_t tid;
	char act;            /* resume action: 'c', 's', 'r', or 0 (stay) */
	int sig;             /* Linux signal to resume with */
	uint64_t r0, r1;     /* range-stepping range */
	int keep_sig;        /* a signal of an unreported or passed stop */
	int stop_sig;        /* the signal of the stop gdb was told of and
				has not resumed it from (a detach passes it) */
	bool told_stopped;   /* non-stop: gdb has this thread's stop reply and
				has not resumed it since */
};

#define MAX_PENDING 4096

/* One traced process, one of gdb's inferiors (procs.c). */
struct sproc {
	pid_t pid;
	struct dbg_proc *p;
	bool attached;       /* let go by detaching (else killed) */
	bool vfork;          /* a vfork child: runs on its parent's memory */
	bool released;       /* a vfork child gdb detached: traced, hidden from
				gdb, until it execs or exits (then vforkdone) */
	pid_t parent_tid;    /* a fork child: the thread that forked it */
	bool unreported;     /* a fork child whose fork event gdb has not had
				yet: left out of thread lists (gdb would take
				it for a new inferior it knows nothing of) */
};
#define MAX_PROCS 64

struct server {
	struct rsp_conn *c;
	bool multi, once, debug;
	bool extended;           /* the client sent '!' */
	bool mp;                 /* multiprocess+ agreed */
	bool exec_events;
	bool no_ack_ok;
	bool exit_requested;     /* monitor exit */
	bool noack_pending;
	/* non-stop (QNonStop:1): stop replies queued for %Stop / vStopped */
	bool nonstop;
	char **nsq;
	size_t nsq_n, nsq_cap;
	bool stdio;

	struct dbg_proc *p;
	pid_t pid;
	bool attached;           /* attached (detach on quit) vs spawned (kill) */
	pid_t join_pid;          /* a program we started, detached: we end when it does */
	bool running;
	bool interrupt_pending;  /* a ^C came while all was stopped */
	int64_t interrupt_wait0; /* when a ^C began to wait for a step (ms), or 0 */
	pid_t signal_pid;        /* the process last run or attached: a ^C's
				    SIGINT is its (gdbserver signals that one) */
	pid_t gtid, ctid;        /* Hg, Hc: 0 any, -1 all */
	bool fork_events;        /* gdb said fork-events+ */
	/* every process gdb debugs (procs.c); s->p, s->pid and s->attached
	 * are the current one's: Hg's, or the last stop's */
	struct sproc procs[MAX_PROCS];
	size_t nprocs;
	bool no_expedite;        /* stop replies without registers, for now */
	bool vfork_events;
	bool swbreak;            /* gdb said swbreak+: Z0 with the pc at the breakpoint */
	bool no_resumed;         /* gdb said no-resumed+: 'N' when nothing it resumed is left */
	bool lldb;               /* the client is lldb (qSupported's xmlRegisters list) */
	pid_t last_tid;
	struct thr *thr;
	size_t nthr, capthr;
	struct dbg_event pending[MAX_PENDING];
	size_t npending;
	char *last_stop;         /* for '?' */

	struct tdesc td;
	bool td_built;
	uint8_t pass_sig[128];   /* QPassSignals, Linux numbers */
	uint8_t program_sig[128]; /* QProgramSignals: what gdb passes */
	bool program_sig_set;

	/* --wrapper ARGS -- : run the program through it */
	char **wrapper;
	int nwrapper;
	/* the last program run, for R (restart) */
	char **last_argv;
	/* vRun's defaults: the command line program */
	char **prog_argv;
	int prog_argc;
	bool disable_aslr;
	char **env;              /* QEnvironment*; NULL: ours */
	size_t nenv;
	char *cwd;

	/* Z1, Z2, Z4: hardware breakpoints and watchpoints (dbg/watch.h) */
	struct zpt {
		char type;       /* '0', '1', '2', '4' */
		uint64_t addr, len;
		struct dbg_watch *w;
		struct dbg_bp *bp;
		pid_t pid;       /* the process it is in */
	} zpts[1024];
	size_t nzpts;
	/* target-side conditions of Z0/Z1 (ConditionalBreakpoints+, ax.c) */
	struct ax_table bpconds;

	/* vFile */
	pid_t fs_pid;
	int fds[64];
};

/* Linux signal <-> gdb's signal numbers. */
int sig_to_gdb(int linux_sig);
int sig_from_gdb(int gdb_sig);

/* procs.c: the process table */
struct sproc *proc_find(struct server *s, pid_t pid);
struct sproc *proc_of_tid(struct server *s, pid_t tid);
struct sproc *proc_add(struct server *s, struct dbg_proc *p, bool attached);
void proc_select(struct server *s, struct sproc *sp);
bool proc_visible(const struct sproc *sp);
bool proc_listed(const struct sproc *sp);
void proc_fork_reported(struct server *s, const struct dbg_event *ev);
int proc_threads(struct dbg_proc *p, pid_t **ret);
void proc_forget(struct server *s, pid_t pid);
void proc_remove(struct server *s, struct sproc *sp);

/* vfile.c */
void vfile_packet(struct server *s, const char *pkt, size_t len, struct buf *out);
void vfile_close_all(struct server *s);

#endif
