/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to the core writer: core.c (the API, VMAs, dump rules,
 * segments, the file, low-pause), core-notes.c (the PT_NOTE contents),
 * core-minimal.c (what a minimal core keeps), core-copy.c (the output, the
 * writer thread, the memory copy).
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

/* ---- shared by core.c, core-minimal.c and core-copy.c --------------- */

#define CHUNK (1u << 20)         /* bytes read per call */
#define PAGE DBG__PAGE_SIZE
#define DEFAULT_STACK_MAX (64u << 10)

/* A range of a VMA whose bytes go into the file. */
struct keep {
	uint64_t start, end;
};

/* One PT_LOAD. */
struct seg {
	uint64_t vaddr, memsz, filesz, offset;
	uint32_t flags;
	uint32_t vma;          /* index into the VMA table */
};

struct out {
	int fd;
	bool seekable;
	uint64_t off;          /* where the next byte goes */
	uint64_t limit;        /* 0: none */
	bool limited;          /* the limit was hit */
	int err;               /* first write error (negative errno) */
};

/* The writer thread's state is private to core-copy.c. */
struct writer;

struct dump {
	struct dbg_proc *p;
	struct writer *w;      /* NULL: write from the calling thread */
	/* Where memory is read from: p, or the low-pause snapshot child. */
	struct dbg_proc *mem;
	pid_t mem_pid;
	const struct dbg_core_opts *o;
	pid_t pid;
	struct core_vma *v;
	size_t nv, capv;
	struct seg *s;
	size_t ns, caps;
	int pagemap_fd;
	uint8_t *buf;
	uint64_t done, total;
	struct dbg_core_info info;
	struct dbg_core_region bad;   /* the unreadable run being gathered */
};

struct keeps {
	struct keep *k;
	size_t n, cap;
};

const struct core_vma *dbg__core_vma_at_n(const struct core_vma *v, size_t n, uint64_t addr);
const struct core_vma *dbg__core_vma_at(const struct dump *d, uint64_t addr);

/* core-minimal.c: the ranges a minimal core keeps, sorted and merged. */
int dbg__core_minimal_keeps(struct dump *d, const struct core_thread *t, size_t nt,
			    const uint8_t *auxv, size_t auxv_len, struct keeps *ks);

/* core-copy.c: the output, the writer thread and the memory copy. */
int dbg__core_out_write(struct out *o, const void *buf, size_t len);
int dbg__core_out_skip(struct out *o, uint64_t len);
bool dbg__core_alive(pid_t pid);
int dbg__core_writer_start(struct dump *d, int fd);
void dbg__core_writer_finish(struct dump *d, struct out *o);
int dbg__core_copy_segment(struct dump *d, struct out *o, const struct seg *s);

#endif
