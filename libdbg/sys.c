/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * System calls and signals: catching system calls (PTRACE_SYSCALL, or the
 * seccomp-bpf filter of a spawned target), the per-signal stop/pass
 * policy, raw siginfo, and signals sent to one thread.
 *
 * Through the run-control hooks only: prepare turns PTRACE_CONT into
 * PTRACE_SYSCALL when a thread must stop at its next syscall stop; stop
 * claims syscall-stops (and PTRACE_EVENT_SECCOMP stops, which event.c
 * hands over the same way) and signal-delivery-stops. Whether a stop is
 * an entry or an exit is asked of the kernel (PTRACE_GET_SYSCALL_INFO,
 * Linux 5.3), never guessed from a toggle: a toggle goes wrong across an
 * interrupt, a signal, an exec or a resume without PTRACE_SYSCALL.
 * See doc/runcontrol.md, "System calls and signals".
 */
#include "internal.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#define X32_BIT 0x40000000ul
#define ORIG_RAX_OFF offsetof(struct user_regs_struct, orig_rax)

static bool bit_get(const uint64_t *m, unsigned long nr)
{
	return nr < DBG__SYS_MAX && (m[nr / 64] >> (nr % 64)) & 1;
}

static void bit_set(uint64_t *m, unsigned long nr)
{
	m[nr / 64] |= 1ull << (nr % 64);
}

static bool sig_valid(int signo)
{
	return signo >= 1 && signo <= 64;
}

/* Is a call of @arch, number @nr, caught now? */
static bool caught(const struct dbg_proc *p, uint32_t arch, unsigned long nr)
{
	if (p->sys.mode == DBG__SYS_OFF || arch != AUDIT_ARCH_X86_64)
		return false;
	if (p->sys.all)
		return true;
	return bit_get(p->sys.caught, nr);
}

/* ---- the seccomp filter ------------------------------------------------ */

/*
 * The program: calls of another audit arch (int 0x80 from a 64-bit
 * process is AUDIT_ARCH_I386, with i386 numbers that would alias ours)
 * and x32 calls are allowed; each listed number returns
 * SECCOMP_RET_TRACE; the rest are allowed. Two instructions a number
 * (a compare that skips over its own return), so no jump offset depends
 * on how many there are (classic BPF jumps reach 255 instructions).
 */
int dbg__sys_filter_build(const long *nrs, size_t n, struct sock_fprog *ret)
{
	if (!nrs || n == 0 || n > DBG__SYS_MAX)
		return -EINVAL;
	uint64_t set[DBG__SYS_WORDS] = { 0 };
	unsigned count = 0;
	for (size_t i = 0; i < n; i++) {
		if (nrs[i] < 0 || nrs[i] >= DBG__SYS_MAX)
			return -EINVAL;
		if (!bit_get(set, (unsigned long)nrs[i]))
			count++;
		bit_set(set, (unsigned long)nrs[i]);
	}
	size_t len = 6 + 2 * (size_t)count + 1;
	struct sock_filter *f = calloc(len, sizeof(*f));
	if (!f)
		return -ENOMEM;
	size_t k = 0;
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 1);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (unsigned long nr = 0; nr < DBG__SYS_MAX; nr++) {
		if (!bit_get(set, nr))
			continue;
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	ret->len = (unsigned short)k;
	ret->filter = f;
	return 0;
}

void dbg__sys_filter_free(struct sock_fprog *f)
{
	free(f->filter);
	f->filter = NULL;
	f->len = 0;
}

int dbg__sys_filter_install(const struct sock_fprog *f)
{
	/* Without CAP_SYS_ADMIN the kernel wants no_new_privs (a setuid
	 * program must not run under a filter its caller chose); with it,
	 * the target keeps its privileges across exec. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, f) == 0)
		return 0;
	if (errno != EACCES)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, f) == 0 ? 0 : -errno;
}

void dbg__sys_filter_record(struct dbg_proc *p, const long *nrs, size_t n)
{
	memset(p->sys.filter, 0, sizeof(p->sys.filter));
	p->sys.nfilter = 0;
	for (size_t i = 0; i < n; i++) {
		if (!bit_get(p->sys.filter, (unsigned long)nrs[i]))
			p->sys.nfilter++;
		bit_set(p->sys.filter, (unsigned long)nrs[i]);
	}
}

/* ---- public: catching -------------------------------------------------- */

int dbg_syscall_catch(struct dbg_proc *p, const long *nrs, size_t n, unsigned int flags)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (flags & ~(unsigned)(DBG_SYSCALL_CATCH_ALL | DBG_SYSCALL_NO_EXIT))
		return dbg__fail(p, -EINVAL, "unknown syscall catch flags %#x", flags);
	bool all = flags & DBG_SYSCALL_CATCH_ALL;
	if (!all && n && !nrs)
		return dbg__fail(p, -EINVAL, "no system call numbers");
	uint64_t set[DBG__SYS_WORDS] = { 0 };
	for (size_t i = 0; !all && i < n; i++) {
		if (nrs[i] < 0 || nrs[i] >= DBG__SYS_MAX)
			return dbg__fail(p, -EINVAL, "system call number %ld out of range (0..%d)",
					 nrs[i], DBG__SYS_MAX - 1);
		bit_set(set, (unsigned long)nrs[i]);
	}
	if (p->exited)
		return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	memcpy(p->sys.caught, set, sizeof(set));
	p->sys.all = all;
	p->sys.no_exit = flags & DBG_SYSCALL_NO_EXIT;
	if (!all && n == 0) {
		p->sys.mode = DBG__SYS_OFF;
		return 0;
	}
	bool subset = !all && p->sys.nfilter;
	for (unsigned w = 0; subset && w < DBG__SYS_WORDS; w++)
		subset = !(set[w] & ~p->sys.filter[w]);
	p->sys.mode = subset ? DBG__SYS_SECCOMP : DBG__SYS_PTRACE;
	dbg__log(p, DBG_LOG_DEBUG, "catching %s system calls of %d with %s",
		 all ? "all" : "some", p->pid, subset ? "the seccomp filter" : "PTRACE_SYSCALL");
	return 0;
}

int dbg_syscall_mode(const struct dbg_proc *p)
{
	if (!p)
		return -EINVAL;
	return p->sys.mode == DBG__SYS_SECCOMP ? DBG_SYSCALL_MODE_SECCOMP
	       : p->sys.mode == DBG__SYS_PTRACE ? DBG_SYSCALL_MODE_PTRACE
						: DBG_SYSCALL_MODE_OFF;
}

int dbg_syscall_filter(const struct dbg_proc *p, long *buf, size_t cap)
{
	if (!p || (cap && !buf))
		return -EINVAL;
	size_t k = 0;
	for (unsigned long nr = 0; nr < DBG__SYS_MAX; nr++)
		if (bit_get(p->sys.filter, nr)) {
			if (k < cap)
				buf[k] = (long)nr;
			k++;
		}
	return (int)k;
}

/* ---- public: signals --------------------------------------------------- */

int dbg_signal_policy_set(struct dbg_proc *p, int signo, unsigned int policy)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!sig_valid(signo) || signo == SIGKILL)
		return dbg__fail(p, -EINVAL, "signal %d: no policy can be set", signo);
	if (policy & ~(unsigned)(DBG_SIGNAL_STOP | DBG_SIGNAL_PASS))
		return dbg__fail(p, -EINVAL, "unknown signal policy %#x", policy);
	uint64_t bit = 1ull << (signo - 1);
	p->sys.sig_nostop = (policy & DBG_SIGNAL_STOP) ? p->sys.sig_nostop & ~bit
						       : p->sys.sig_nostop | bit;
	p->sys.sig_nopass = (policy & DBG_SIGNAL_PASS) ? p->sys.sig_nopass & ~bit
						       : p->sys.sig_nopass | bit;
	return 0;
}

int dbg_signal_policy(const struct dbg_proc *p, int signo)
{
	if (!p || !sig_valid(signo))
		return -EINVAL;
	uint64_t bit = 1ull << (signo - 1);
	return (p->sys.sig_nostop & bit ? 0 : DBG_SIGNAL_STOP) |
	       (p->sys.sig_nopass & bit ? 0 : DBG_SIGNAL_PASS);
}

static int stopped_or_fail(struct dbg_proc *p, pid_t tid, struct dbg__thread **ret_t)
{
	int r = dbg__stopped_thread(p, tid, ret_t);
	if (r == -ENOENT)
		return dbg__fail(p, r, "no thread %d in process %d", tid, p->pid);
	if (r < 0)
		return dbg__fail(p, r, "thread %d is not in a ptrace-stop", tid);
	return 0;
}

int dbg_signal_siginfo(struct dbg_proc *p, pid_t tid, void *ret_buf)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!ret_buf)
		return -EINVAL;
	struct dbg__thread *t;
	if ((r = stopped_or_fail(p, tid, &t)) < 0)
		return r;
	siginfo_t si;
	_Static_assert(sizeof(si) == DBG_SIGINFO_SIZE, "siginfo_t is 128 bytes");
	if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) < 0)
		return dbg__fail(p, -errno, "PTRACE_GETSIGINFO of thread %d", tid);
	memcpy(ret_buf, &si, sizeof(si));
	return 0;
}

int dbg_signal_siginfo_set(struct dbg_proc *p, pid_t tid, const void *buf)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!buf)
		return -EINVAL;
	struct dbg__thread *t;
	if ((r = stopped_or_fail(p, tid, &t)) < 0)
		return r;
	siginfo_t si;
	memcpy(&si, buf, sizeof(si));
	if (ptrace(PTRACE_SETSIGINFO, tid, 0, &si) < 0)
		return dbg__fail(p, -errno, "PTRACE_SETSIGINFO of thread %d", tid);
	return 0;
}

int dbg_signal_inject(struct dbg_proc *p, pid_t tid, int signo)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (!sig_valid(signo))
		return dbg__fail(p, -EINVAL, "bad signal %d", signo);
	struct dbg__thread *t = dbg__thread_find(p, tid);
	if (!t || t->state == T_EXITED)
		return dbg__fail(p, t ? -ESRCH : -ENOENT, "no live thread %d in process %d",
				 tid, p->pid);
	/* The one case where the resume itself delivers it: a
	 * signal-delivery-stop with nothing to deliver. Anywhere else the
	 * kernel would queue it (a syscall-stop) or ignore it (an event
	 * stop), so queue it to that thread ourselves. */
	if (t->state == T_STOPPED && t->sys.at_signal && !t->pending_sig && !t->group_stop) {
		t->pending_sig = signo;
		return 0;
	}
	if (syscall(SYS_tgkill, p->pid, tid, signo) < 0)
		return dbg__fail(p, -errno, "tgkill(%d, %d, %d)", p->pid, tid, signo);
	return 0;
}

/* ---- hooks ------------------------------------------------------------- */

static long orig_rax(pid_t tid)
{
	errno = 0;
	long v = ptrace(PTRACE_PEEKUSER, tid, ORIG_RAX_OFF, 0);
	return errno ? -1 : v;
}

/* The calls that stop at a ptrace event before they return. */
static const unsigned long event_calls[] = {
	SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_execve, SYS_execveat,
};

/*
 * @t is about to leave a stop with no entry of a call behind it (catching
 * began after the entry, or the entry was not caught then). If that stop
 * is a ptrace event inside a call (PTRACE_EVENT_FORK, VFORK, CLONE, EXEC,
 * VFORK_DONE) whose number is caught now, the thread is in that call and
 * its exit is the next syscall-stop: record the call as entered, so the
 * exit is reported (gdb stops at a vfork event, then sets `catch syscall
 * vfork` and waits for the parent's return). The kernel tells the event
 * (the stop's siginfo: SIGTRAP | event << 8) and the call's audit arch
 * (PTRACE_GET_SYSCALL_INFO at a non-syscall stop still fills it);
 * orig_rax holds the number. Only asked when one of those calls is
 * caught, so other resumes pay nothing.
 */
static void take_up_event_call(struct dbg_proc *p, struct dbg__thread *t)
{
	if (p->sys.mode == DBG__SYS_OFF || p->sys.no_exit || t->sys.in_syscall ||
	    t->sys.at_sysstop || t->sys.at_signal || t->sys.first_stop || t->group_stop)
		return;
	bool any = false;
	for (size_t i = 0; !any && i < DBG__ARRAY_SIZE(event_calls); i++)
		any = caught(p, AUDIT_ARCH_X86_64, event_calls[i]);
	if (!any)
		return;
	siginfo_t si;
	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si) < 0 || si.si_signo != SIGTRAP)
		return;
	switch (si.si_code >> 8) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_EXEC:
	case PTRACE_EVENT_VFORK_DONE:
		break;
	default:
		return;
	}
	struct __ptrace_syscall_info info;
	memset(&info, 0, sizeof(info));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info) <= 0)
		return;
	long nr = orig_rax(t->tid);
	if (nr < 0 || !caught(p, info.arch, (unsigned long)nr))
		return;
	t->sys.in_syscall = true;
	t->sys.nr = nr;
	t->sys.arch = info.arch;
	dbg__log(p, DBG_LOG_DEBUG, "thread %d resumes inside system call %ld (event %d): "
		 "its exit is caught", t->tid, nr, si.si_code >> 8);
}

static int sys_prepare(struct dbg_proc *p, struct dbg__thread *t, int *req)
{
	take_up_event_call(p, t);
	/* Inside a caught call whose exit is wanted: the seccomp mode needs
	 * PTRACE_SYSCALL for the exit (after the seccomp stop, and again
	 * after any event stop on the way, such as vfork-done); the ptrace
	 * mode resumes every thread so anyway. */
	bool want_exit = t->sys.in_syscall && t->sys.nr >= 0 && !p->sys.no_exit &&
			 caught(p, t->sys.arch, (unsigned long)t->sys.nr);
	if (*req == PTRACE_CONT && (want_exit || p->sys.mode == DBG__SYS_PTRACE))
		*req = PTRACE_SYSCALL;
	/* Without PTRACE_SYSCALL no exit stop comes for the call it is in:
	 * the next syscall-stop is not that call's exit. */
	if (*req != PTRACE_SYSCALL)
		t->sys.in_syscall = false;
	return 0;
}

static void sys_resume(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)p;
	t->sys.at_signal = false;
	t->sys.at_sysstop = false;
	t->sys.first_stop = false;
}

static enum dbg__disposition syscall_stop(struct dbg_proc *p, struct dbg__thread *t,
					  struct dbg_event *ev)
{
	struct __ptrace_syscall_info info;
	memset(&info, 0, sizeof(info));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info) <= 0) {
		/* Gone (its exit status follows), or a kernel before 5.3. */
		if (errno != ESRCH)
			dbg__log(p, DBG_LOG_WARN, "PTRACE_GET_SYSCALL_INFO of %d: %s", t->tid,
				 strerror(errno));
		return D_QUIET;
	}
	t->sys.at_sysstop = true;
	switch (info.op) {
	case PTRACE_SYSCALL_INFO_ENTRY:
	case PTRACE_SYSCALL_INFO_SECCOMP: {
		unsigned long nr = info.op == PTRACE_SYSCALL_INFO_ENTRY ? info.entry.nr
									: info.seccomp.nr;
		t->sys.in_syscall = true;
		t->sys.nr = (long)nr;
		t->sys.arch = info.arch;
		if (!caught(p, info.arch, nr))
			return D_QUIET;
		/* In the seccomp mode the exit needs one PTRACE_SYSCALL; in
		 * the ptrace mode every resume is one already. A seccomp stop
		 * in the ptrace mode (the set is not all in the filter)
		 * follows the entry stop we reported: quiet. */
		if (info.op == PTRACE_SYSCALL_INFO_SECCOMP && p->sys.mode != DBG__SYS_SECCOMP)
			return D_QUIET;
		ev->kind = DBG_EVENT_SYSCALL_ENTRY;
		ev->signo = 0;
		ev->sysno = (long)nr;
		return D_REPORT;
	}
	case PTRACE_SYSCALL_INFO_EXIT: {
		/* An exit whose entry we did not see is not reported, so
		 * that exits always pair with entries: the first resume of a
		 * spawned target (stopped in its execve) meets one. */
		bool paired = t->sys.in_syscall;
		long nr = t->sys.nr;
		t->sys.in_syscall = false;
		if (!paired || nr < 0 || p->sys.no_exit || !caught(p, t->sys.arch, (unsigned long)nr))
			return D_QUIET;
		ev->kind = DBG_EVENT_SYSCALL_EXIT;
		ev->signo = 0;
		ev->sysno = nr;
		ev->sysret = info.exit.rval;
		return D_REPORT;
	}
	default:
		return D_QUIET;
	}
}

static enum dbg__disposition sys_stop(struct dbg_proc *p, struct dbg__thread *t,
				      struct dbg_event *ev)
{
	if (ev->kind == DBG_EVENT_TRAP && ev->signo == (SIGTRAP | 0x80))
		return syscall_stop(p, t, ev);
	if (ev->kind == DBG_EVENT_TRAP) {
		t->sys.at_signal = true;
		return D_NONE;
	}
	if (ev->kind != DBG_EVENT_SIGNAL || !sig_valid(ev->signo))
		return D_NONE;
	t->sys.at_signal = true;
	uint64_t bit = 1ull << (ev->signo - 1);
	if (p->sys.sig_nopass & bit)
		t->pending_sig = 0;
	return (p->sys.sig_nostop & bit) ? D_QUIET : D_NONE;
}

static void sys_exec(struct dbg_proc *p, struct dbg__thread *t)
{
	/* The thread that execed may have taken over another's entry (the
	 * leader's): it is inside execve, whose exit is still to come. */
	long nr = orig_rax(t->tid);
	t->sys.in_syscall = nr >= 0;
	t->sys.nr = nr;
	t->sys.arch = AUDIT_ARCH_X86_64;
}

static void sys_clone(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)p;
	memset(&t->sys, 0, sizeof(t->sys));
}

/* Attached or spawned: the stops threads are in now are not events of a
 * call the caller could catch the exit of. A spawned target's one thread
 * stands at the exec event of the execve that started it, whose exit is
 * not reported (it has no entry for the caller). */
static int sys_setup(struct dbg_proc *p)
{
	for (size_t i = 0; i < p->nthreads; i++)
		p->threads[i].sys.first_stop = true;
	return 0;
}

static void sys_fork(struct dbg_proc *p, struct dbg__thread *t, pid_t child, bool followed)
{
	(void)t;
	if (!followed && p->sys.nfilter)
		dbg__log(p, DBG_LOG_WARN,
			 "fork child %d runs on untraced under the seccomp filter: its "
			 "filtered system calls fail with ENOSYS", child);
}

static void sys_detach(struct dbg_proc *p, struct dbg__thread *t)
{
	(void)t;
	if (p->sys.nfilter && !p->sys.warned_detach) {
		p->sys.warned_detach = true;
		dbg__log(p, DBG_LOG_WARN,
			 "%d keeps its seccomp filter after detach: its %u filtered system "
			 "calls now fail with ENOSYS", p->pid, p->sys.nfilter);
	}
}

const struct dbg__hooks dbg__sys_hooks = {
	.name = "sys",
	.setup = sys_setup,
	.prepare = sys_prepare,
	.resume = sys_resume,
	.stop = sys_stop,
	.exec = sys_exec,
	.fork = sys_fork,
	.clone = sys_clone,
	.detach = sys_detach,
};
