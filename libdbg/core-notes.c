/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PT_NOTE of a core, in the order the kernel writes it
 * (fs/binfmt_elf.c write_note_info, Linux 6.12): the first thread's
 * NT_PRSTATUS, then the process-wide NT_PRPSINFO, NT_SIGINFO, NT_AUXV and
 * NT_FILE, then the first thread's other regsets (NT_PRFPREG named
 * "CORE", NT_X86_XSTATE named "LINUX"), then every other thread's
 * NT_PRSTATUS and regsets, and last NT_X86_XSAVE_LAYOUT (kernels 6.11 and
 * later, arch/x86/kernel/fpu/xstate.c). Each note: a 12-byte header, the
 * name and the descriptor, each padded to 4 bytes.
 *
 * The process and thread fields come from /proc (stat, status, cmdline,
 * comm, auxv), the registers from the register API.
 */
#include "core-int.h"
#include "arch/x86_64.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef NT_X86_XSAVE_LAYOUT
#define NT_X86_XSAVE_LAYOUT 0x205
#endif

_Static_assert(sizeof(struct elf_prstatus) == 336, "x86_64 NT_PRSTATUS is 336 bytes");
_Static_assert(sizeof(struct elf_prpsinfo) == 136, "x86_64 NT_PRPSINFO is 136 bytes");
_Static_assert(sizeof(elf_gregset_t) == sizeof(struct dbg_regs), "pr_reg is user_regs_struct");

void dbg__core_buf_add(struct core_buf *b, const void *data, size_t len)
{
	if (b->oom)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (data)
		memcpy(b->p + b->len, data, len);
	else
		memset(b->p + b->len, 0, len);
	b->len += len;
}

void dbg__core_buf_pad(struct core_buf *b, size_t align)
{
	size_t r = b->len % align;
	if (r)
		dbg__core_buf_add(b, NULL, align - r);
}

static void note(struct core_buf *b, const char *name, uint32_t type, const void *desc,
		 size_t len)
{
	Elf64_Nhdr h = { .n_namesz = strlen(name) + 1, .n_descsz = len, .n_type = type };
	dbg__core_buf_add(b, &h, sizeof(h));
	dbg__core_buf_add(b, name, h.n_namesz);
	dbg__core_buf_pad(b, 4);
	dbg__core_buf_add(b, desc, len);
	dbg__core_buf_pad(b, 4);
}

int dbg__core_thread_regs(struct dbg_proc *p, pid_t tid, struct core_thread *t)
{
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	int r = dbg_regs_get(p, tid, &t->regs);
	if (r < 0)
		return r;
	t->fp_ok = dbg_regs_get_fp(p, tid, &t->fp) == 0;
	/* NT_X86_XSTATE is the regset's bytes as they are: the decoded
	 * struct dbg_xstate drops components the note must keep (PKRU,
	 * AMX) and the software-reserved bytes that name xcr0. So this one
	 * regset is read here, with the thread checked stopped first. */
	struct dbg__thread *th;
	r = dbg__stopped_thread(p, tid, &th);
	if (r < 0)
		return r;
	size_t sz = dbg__x86_xsave_size();
	t->xsave = calloc(1, sz);
	if (!t->xsave)
		return -ENOMEM;
	struct iovec iov = { t->xsave, sz };
	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) < 0) {
		int e = errno;
		free(t->xsave);
		t->xsave = NULL;
		if (e == ESRCH)
			return -ESRCH;
		/* No XSAVE on this CPU: the kernel writes no note either. */
		return 0;
	}
	t->xsave_len = iov.iov_len;
	return 0;
}

/* Fields of /proc/PID/task/TID/stat after the comm. */
struct stat_fields {
	char state;
	long ppid, pgrp, sid, flags, nice;
	unsigned long long utime, stime, cutime, cstime;
};

static int read_stat(pid_t pid, pid_t tid, struct stat_fields *sf)
{
	char path[64], buf[2048];
	memset(sf, 0, sizeof(*sf));
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	ssize_t n = dbg__read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	char *s = strrchr(buf, ')');
	if (!s)
		return -DBG_ERRNO_PARSE;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice */
	long tty, tpgid, prio;
	unsigned long mf[4];
	if (sscanf(s + 1, " %c %ld %ld %ld %ld %ld %ld %lu %lu %lu %lu %llu %llu %llu %llu %ld %ld",
		   &sf->state, &sf->ppid, &sf->pgrp, &sf->sid, &tty, &tpgid, &sf->flags,
		   &mf[0], &mf[1], &mf[2], &mf[3], &sf->utime, &sf->stime, &sf->cutime,
		   &sf->cstime, &prio, &sf->nice) != 17)
		return -DBG_ERRNO_PARSE;
	return 0;
}

/* A hex or first-number field of /proc/.../status. */
static bool status_field(const char *text, const char *key, unsigned long long *ret, int base)
{
	const char *s = strstr(text, key);
	if (!s)
		return false;
	s += strlen(key);
	char *end;
	*ret = strtoull(s, &end, base);
	return end != s;
}

static struct timeval ticks_tv(unsigned long long ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	struct timeval tv = { .tv_sec = ticks / hz, .tv_usec = (ticks % hz) * 1000000 / hz };
	return tv;
}

static void prstatus(struct core_buf *b, pid_t pid, int signo, const struct core_thread *t)
{
	struct elf_prstatus ps;
	memset(&ps, 0, sizeof(ps));
	ps.pr_info.si_signo = signo;
	ps.pr_cursig = signo;
	ps.pr_pid = t->tid;
	struct stat_fields sf;
	if (read_stat(pid, t->tid, &sf) == 0) {
		ps.pr_ppid = sf.ppid;
		ps.pr_pgrp = sf.pgrp;
		ps.pr_sid = sf.sid;
		ps.pr_utime = ticks_tv(sf.utime);
		ps.pr_stime = ticks_tv(sf.stime);
		ps.pr_cutime = ticks_tv(sf.cutime);
		ps.pr_cstime = ticks_tv(sf.cstime);
	}
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, t->tid);
	if (dbg__read_file(path, buf, sizeof(buf)) > 0) {
		unsigned long long v;
		/* The kernel writes the thread's own pending set and its mask. */
		if (status_field(buf, "\nSigPnd:", &v, 16))
			ps.pr_sigpend = v;
		if (status_field(buf, "\nSigBlk:", &v, 16))
			ps.pr_sighold = v;
	}
	memcpy(&ps.pr_reg, &t->regs, sizeof(ps.pr_reg));
	ps.pr_fpvalid = t->fp_ok;
	note(b, "CORE", NT_PRSTATUS, &ps, sizeof(ps));
}

static void prpsinfo(struct core_buf *b, pid_t pid)
{
	struct elf_prpsinfo pi;
	memset(&pi, 0, sizeof(pi));
	struct stat_fields sf;
	if (read_stat(pid, pid, &sf) == 0) {
		/* pr_state is the kernel's index into "RSDTZW". */
		static const char states[] = "RSDTZW";
		const char *at = strchr(states, sf.state == 't' ? 'T' : sf.state);
		pi.pr_state = at && sf.state ? at - states : 0;
		pi.pr_sname = pi.pr_state > 5 ? '.' : states[(int)pi.pr_state];
		pi.pr_zomb = pi.pr_sname == 'Z';
		pi.pr_nice = sf.nice;
		pi.pr_flag = sf.flags;
		pi.pr_ppid = sf.ppid;
		pi.pr_pgrp = sf.pgrp;
		pi.pr_sid = sf.sid;
	}
	pi.pr_pid = pid;
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (dbg__read_file(path, buf, sizeof(buf)) > 0) {
		unsigned long long v;
		if (status_field(buf, "\nUid:", &v, 10))
			pi.pr_uid = v;
		if (status_field(buf, "\nGid:", &v, 10))
			pi.pr_gid = v;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	ssize_t n = dbg__read_file(path, buf, sizeof(buf));
	if (n > 0) {
		if (buf[n - 1] == '\n')
			buf[--n] = 0;
		memcpy(pi.pr_fname, buf, (size_t)n < sizeof(pi.pr_fname) - 1 ? (size_t)n : sizeof(pi.pr_fname) - 1);
	}
	/* The start of the command line, NULs turned into spaces. */
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, pi.pr_psargs, sizeof(pi.pr_psargs) - 1);
		close(fd);
		for (ssize_t i = 0; i < n - 1; i++)
			if (!pi.pr_psargs[i])
				pi.pr_psargs[i] = ' ';
	}
	note(b, "CORE", NT_PRPSINFO, &pi, sizeof(pi));
}

static void siginfo(struct core_buf *b, int signo)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = signo;
	note(b, "CORE", NT_SIGINFO, &si, sizeof(si));
}

/* The limit the kernel puts on NT_FILE; above it the note is left out. */
static size_t file_note_limit(void)
{
	char buf[64];
	if (dbg__read_file("/proc/sys/kernel/core_file_note_size_limit", buf, sizeof(buf)) > 0) {
		unsigned long v = strtoul(buf, NULL, 10);
		if (v)
			return v;
	}
	return 4u << 20;
}

static void file_note(struct core_buf *b, const struct core_notes_in *in)
{
	struct core_buf d = { 0 };
	uint64_t count = 0;
	for (size_t i = 0; i < in->nvmas; i++)
		count += in->vmas[i].has_file;
	uint64_t page = DBG__PAGE_SIZE;
	dbg__core_buf_add(&d, &count, 8);
	dbg__core_buf_add(&d, &page, 8);
	for (size_t i = 0; i < in->nvmas; i++) {
		const struct core_vma *v = &in->vmas[i];
		if (!v->has_file)
			continue;
		uint64_t e[3] = { v->start, v->end, v->offset / DBG__PAGE_SIZE };
		dbg__core_buf_add(&d, e, sizeof(e));
	}
	for (size_t i = 0; i < in->nvmas; i++)
		if (in->vmas[i].has_file)
			dbg__core_buf_add(&d, in->vmas[i].name, strlen(in->vmas[i].name) + 1);
	if (d.oom) {
		b->oom = true;
	} else if (d.len <= file_note_limit()) {
		note(b, "CORE", NT_FILE, d.p, d.len);
	}
	free(d.p);
}

/* The smallest NT_X86_XSTATE gdb up to 14 accepts for @xcr0: it reads
 * the note with a fixed layout (gdbsupport/x86-xstate.h X86_XSTATE_SIZE)
 * and ignores a shorter one ("Section `.reg-xstate' in core file too
 * small": every ymm/zmm/k register unavailable). A CPU without MPX gives
 * the kernel a shorter regset (2432 bytes for AVX-512 here), so the
 * kernel's bytes are written as they are and zeros appended up to this
 * size; readers that follow xcr0 or NT_X86_XSAVE_LAYOUT never look past
 * the kernel's size. */
static size_t gdb_xstate_size(uint64_t xcr0)
{
	if (xcr0 & (1u << 9))
		return 2696;
	if (xcr0 & (7u << 5))
		return 2688;
	if (xcr0 & (1u << 4))
		return 1088;
	if (xcr0 & (1u << 3))
		return 1024;
	if (xcr0 & (1u << 2))
		return 832;
	return 576;
}

static void thread_regsets(struct core_buf *b, const struct core_thread *t)
{
	if (t->fp_ok)
		note(b, "CORE", NT_PRFPREG, &t->fp, sizeof(t->fp));
	if (!t->xsave)
		return;
	uint64_t xcr0 = 0;
	if (t->xsave_len >= DBG__XSAVE_XCR0_OFFSET + 8)
		memcpy(&xcr0, t->xsave + DBG__XSAVE_XCR0_OFFSET, 8);
	size_t want = gdb_xstate_size(xcr0);
	if (t->xsave_len >= want) {
		note(b, "LINUX", NT_X86_XSTATE, t->xsave, t->xsave_len);
		return;
	}
	uint8_t *pad = calloc(1, want);
	if (!pad) {
		b->oom = true;
		return;
	}
	memcpy(pad, t->xsave, t->xsave_len);
	note(b, "LINUX", NT_X86_XSTATE, pad, want);
	free(pad);
}

/* The kernel writes NT_X86_XSAVE_LAYOUT from 6.11 on. */
static bool kernel_has_layout_note(void)
{
	struct utsname u;
	int maj = 0, min = 0;
	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &maj, &min) != 2)
		return true;
	return maj > 6 || (maj == 6 && min >= 11);
}

static void xsave_layout(struct core_buf *b, const struct core_thread *t)
{
	if (!t->xsave || t->xsave_len < DBG__XSAVE_XCR0_OFFSET + 8 || !kernel_has_layout_note())
		return;
	uint64_t xcr0;
	memcpy(&xcr0, t->xsave + DBG__XSAVE_XCR0_OFFSET, 8);
	struct core_buf d = { 0 };
	/* One {type, size, offset, flags} per extended component enabled
	 * for user space (components 0 and 1 live in the legacy area). */
	for (int i = 2; i < 64; i++) {
		size_t off, size;
		if (!(xcr0 & (1ull << i)) || dbg__x86_xsave_offset(i, &off, &size) < 0)
			continue;
		uint32_t rec[4] = { i, size, off, 0 };
		dbg__core_buf_add(&d, rec, sizeof(rec));
	}
	if (d.len)
		note(b, "LINUX", NT_X86_XSAVE_LAYOUT, d.p, d.len);
	if (d.oom)
		b->oom = true;
	free(d.p);
}

int dbg__core_notes(struct dbg_proc *p, const struct core_notes_in *in, struct core_buf *out)
{
	for (size_t i = 0; i < in->nthreads; i++) {
		const struct core_thread *t = &in->threads[i];
		prstatus(out, in->pid, in->signo, t);
		if (i == 0) {
			prpsinfo(out, in->pid);
			siginfo(out, in->signo);
			note(out, "CORE", NT_AUXV, in->auxv, in->auxv_len);
			file_note(out, in);
		}
		thread_regsets(out, t);
	}
	if (in->nthreads)
		xsave_layout(out, &in->threads[0]);
	return out->oom ? -ENOMEM : 0;
}
