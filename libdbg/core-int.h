/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to the core writer (core.c: VMAs, dump rules, layout and
 * memory; core-notes.c: the PT_NOTE contents).
 */
#ifndef DBG_CORE_INT_H
#define DBG_CORE_INT_H

#include "internal.h"

#include <dbg/core.h>

/* One VMA as /proc/PID/smaps shows it. */
struct core_vma {
	uint64_t start, end;
	uint64_t offset;        /* file offset in bytes */
	uint64_t inode;
	uint32_t prot;          /* DBG_PROT_* */
	bool shared;
	bool has_file;          /* backed by a file (also shmem, memfd) */
	bool deleted;           /* name ends in " (deleted)" */
	bool special;           /* a kernel-named mapping: [vdso], [vvar] ... */
	bool dd, io, ht;        /* VmFlags dd (VM_DONTDUMP), io, ht (hugetlb) */
	bool dc, wf;            /* VmFlags dc (MADV_DONTFORK), wf (MADV_WIPEONFORK) */
	bool from_parent;       /* low-pause: read from the target, not the child */
	uint64_t anon_kb;       /* Anonymous: + AnonHugePages: */
	char *name;             /* as smaps prints it, " (deleted)" kept */
	uint64_t dump;          /* full mode: bytes dumped from start */
};

/* A byte buffer that grows. */
struct core_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

void dbg__core_buf_add(struct core_buf *b, const void *data, size_t len);
void dbg__core_buf_pad(struct core_buf *b, size_t align);

/* One thread's registers, captured while it was stopped. */
struct core_thread {
	pid_t tid;
	struct dbg_regs regs;
	struct dbg_fpregs fp;
	bool fp_ok;
	uint8_t *xsave;         /* NT_X86_XSTATE as the kernel gives it */
	size_t xsave_len;
};

struct core_notes_in {
	pid_t pid;
	int signo;
	struct core_thread *threads;  /* first thread first */
	size_t nthreads;
	const struct core_vma *vmas;
	size_t nvmas;
	const uint8_t *auxv;
	size_t auxv_len;
};

/* Capture a stopped thread's registers into @t. */
int dbg__core_thread_regs(struct dbg_proc *p, pid_t tid, struct core_thread *t);

/* Build the whole PT_NOTE contents into @out, in the kernel's order. */
int dbg__core_notes(struct dbg_proc *p, const struct core_notes_in *in, struct core_buf *out);

#endif
