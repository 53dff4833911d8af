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
	bool uw;                /* VmFlags uw: registered for userfaultfd write-protect */
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
	int32_t reuse;         /* pre-copy: index of the pre-copied VMA whose bytes it uses, -1 */
};

struct out {
	int fd;
	bool seekable;
	uint64_t off;          /* where the next byte goes */
	uint64_t limit;        /* 0: none */
	bool limited;          /* the limit was hit */
	int err;               /* first write error (negative errno) */
	/* Pre-copy: the bytes at off may hold an older copy, so zero
	 * pages and skipped pages are punched out, not just skipped. */
	bool overwrite;
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
/* Wait until the writer thread has written everything handed to it. */
int dbg__core_writer_drain(struct dump *d, struct out *o);
/* Make [off, off + len) of the output read as zeros (a hole). */
int dbg__core_out_punch(struct out *o, uint64_t off, uint64_t len);

/* ---- core-precopy.c: DBG_CORE_LOW_PAUSE by pre-copy ------------------- */

struct precopy {
	bool active;
	int uffd;              /* ours (pidfd_getfd of the target's), -1 none */
	int pm_fd;             /* /proc/PID/pagemap of the target */
	struct core_vma *v;    /* the VMAs as pre-copied (names owned) */
	size_t nv;
	uint64_t *off;         /* file offset of v[i]'s bytes */
	bool *tracked;         /* v[i] registered and pre-copied */
	uint64_t data_base;    /* room before it for headers and notes */
	uint64_t end;          /* end of the pre-copied data */
	uint64_t setup_ns;
	uint32_t rounds;
	uint64_t pause_bytes;
	uint64_t tracked_bytes;  /* pre-copied: what a fork would copy page tables of */
};

/* Set up the userfaultfd (the target stopped for it by core.c), read and
 * register the VMAs, copy everything while the target runs. d->v ends
 * up empty; the VMAs are in pc. 0 or a negative errno. */
int dbg__core_precopy_run(struct dump *d, struct out *o, struct precopy *pc, int target_uffd);
/* With the target stopped and d->v/d->s the VMAs and segments now: give
 * each segment an offset (reusing pre-copied bytes where the VMA is
 * unchanged), copy what changed. Returns the end of the data. */
/* At the stop, d->v read from maps: take each VMA's smaps facts from the
 * pre-copy's list, the anonymous pages from PAGEMAP_SCAN. Returns 1 if a
 * VMA is new (then smaps must be read), 0. */
int dbg__core_precopy_adopt(struct dump *d, const struct precopy *pc);
int dbg__core_precopy_place(struct dump *d, struct precopy *pc, uint64_t *ret_end);
/* What is left to copy at the stop: the pages written since the last
 * round, and the segments with no pre-copied bytes. */
struct precopy_run {
	uint64_t start, end, off;
	uint32_t vma;
	bool overwrite;
};
struct precopy_plan {
	struct precopy_run *r;
	size_t n, cap;
	uint64_t bytes;
};
/* Scan (the target stopped): fill @pl, punch pages that are gone. */
int dbg__core_precopy_plan(struct dump *d, struct out *o, struct precopy *pc,
			   struct precopy_plan *pl);
/* Copy @pl's runs from d->mem: @which 0 all, 1 those in VMAs a fork child
 * lacks (MADV_DONTFORK, MADV_WIPEONFORK), 2 the others. */
int dbg__core_precopy_copy(struct dump *d, struct out *o, struct precopy *pc,
			   const struct precopy_plan *pl, int which);
/* After the resume: punch pre-copied bytes no segment uses. */
void dbg__core_precopy_trim(struct dump *d, struct out *o, struct precopy *pc);
/* After the resume: unregister in small steps. */
void dbg__core_precopy_unprotect(struct precopy *pc);
void dbg__core_precopy_free(struct precopy *pc);

/* core.c, for core-precopy.c */
int dbg__core_read_vmas(struct dump *d, pid_t pid, bool only_dontfork);
void dbg__core_apply_rules(struct dump *d);

#endif
