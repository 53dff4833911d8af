/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run-control state of syscall catching and the signal policy (sys.c):
 * what the module keeps per process (in struct dbg_proc) and per thread
 * (in struct dbg__thread). Included by internal.h only. Thread entries
 * are moved with memcpy when the table changes: no pointers into them.
 */
#ifndef DBG_SYS_INT_H
#define DBG_SYS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* System call numbers a caller can name: x86_64's are below 512; the
 * bitmaps leave room. */
#define DBG__SYS_MAX 1024
#define DBG__SYS_WORDS (DBG__SYS_MAX / 64)

enum dbg__sys_mode {
	DBG__SYS_OFF = 0,     /* not catching: threads resume with PTRACE_CONT */
	DBG__SYS_PTRACE = 1,  /* every thread resumes with PTRACE_SYSCALL */
	DBG__SYS_SECCOMP = 2, /* the spawn filter stops the caught calls */
};

struct dbg__sys_proc {
	enum dbg__sys_mode mode;
	bool all;             /* catch every call (PTRACE mode only) */
	bool no_exit;         /* entries only */
	uint64_t caught[DBG__SYS_WORDS];
	/* The numbers the spawn's seccomp filter traces (SECCOMP_RET_TRACE);
	 * nfilter == 0: no filter. */
	uint64_t filter[DBG__SYS_WORDS];
	unsigned int nfilter;
	bool warned_detach;
	/* Signal policy, bit (signo - 1): report it (stop), deliver it
	 * (pass). Both all-ones by default: every signal is reported and
	 * delivered on resume unless the caller filters it. */
	uint64_t sig_nostop;  /* inverted so that zeroed state is the default */
	uint64_t sig_nopass;
};

struct dbg__sys_thread {
	/* Between a syscall-entry (or seccomp) stop and its exit stop: the
	 * call's number and audit arch, for the exit (which has neither). */
	bool in_syscall;
	uint32_t arch;
	long nr;
	/* Stopped at a syscall-stop (entry, exit or seccomp) that went
	 * through our hook; cleared on resume. */
	bool at_sysstop;
	/* In the stop it was in when attached or spawned. */
	bool first_stop;
	/* Stopped in a signal-delivery-stop that went through our hook:
	 * a signal given on resume is delivered as it is. */
	bool at_signal;
};

#endif

/* ---- the spawn's seccomp filter (sys.c, used by proc.c's spawn) ---- */

struct dbg_proc;
struct sock_fprog;

/* Build the filter that traces @nrs (checked: 0 <= nr < DBG__SYS_MAX,
 * n >= 1) into *ret (its filter array malloced; free with
 * dbg__sys_filter_free). 0, -EINVAL, -ENOMEM. Before fork. */
int dbg__sys_filter_build(const long *nrs, size_t n, struct sock_fprog *ret);
void dbg__sys_filter_free(struct sock_fprog *f);
/* In the spawned child, before execve: install @f (without
 * PR_SET_NO_NEW_PRIVS when privileged enough). Async-signal-safe;
 * 0 or -errno. */
int dbg__sys_filter_install(const struct sock_fprog *f);
/* Record on the new handle which numbers its filter traces. */
void dbg__sys_filter_record(struct dbg_proc *p, const long *nrs, size_t n);
