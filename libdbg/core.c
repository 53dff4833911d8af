/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core writer: the target's VMAs from /proc/PID/smaps, the kernel's
 * dump rules (fs/coredump.c vma_dump_size, Linux 6.12), the file layout
 * of fs/binfmt_elf.c elf_core_dump, and the memory copied through
 * dbg_mem_read() with never-populated and all-zero pages left as holes.
 *
 * Layout: ELF header; program headers (PT_NOTE first, then PT_LOADs in
 * address order); the notes; padding to a page; each PT_LOAD's bytes at a
 * page-aligned offset; and, past 65534 segments, one section header that
 * holds the real count (PN_XNUM). See doc/core.md.
 */
#include "core-int.h"

#include <dbg/inject.h>

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* coredump_filter bits (include/linux/sched/coredump.h). */
enum {
	F_ANON_PRIVATE = 1u << 0,
	F_ANON_SHARED = 1u << 1,
	F_MAPPED_PRIVATE = 1u << 2,
	F_MAPPED_SHARED = 1u << 3,
	F_ELF_HEADERS = 1u << 4,
	F_HUGETLB_PRIVATE = 1u << 5,
	F_HUGETLB_SHARED = 1u << 6,
	F_DAX_PRIVATE = 1u << 7,
	F_DAX_SHARED = 1u << 8,
};
#define DEFAULT_FILTER 0x33u


/* The mark of a cut core: e_ident[EI_PAD..], bytes readers ignore. */
static const char cut_mark[] = "DBGCUT";

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* ---- VMAs from smaps ------------------------------------------------ */

static bool is_header_line(const char *l)
{
	/* "start-end perms ..." has no ':' in its first word; the
	 * "Key: value" lines do. */
	for (; *l && *l != ' '; l++)
		if (*l == ':')
			return false;
	return true;
}

static int parse_header(const char *l, struct core_vma *v)
{
	unsigned long long start, end, off, inode;
	unsigned int maj, min;
	char perms[8];
	int n = 0;
	memset(v, 0, sizeof(*v));
	if (sscanf(l, "%llx-%llx %7s %llx %x:%x %llu%n", &start, &end, perms, &off, &maj,
		   &min, &inode, &n) != 7 || strlen(perms) != 4 || end <= start)
		return -DBG_ERRNO_PARSE;
	const char *name = l + n;
	while (*name == ' ' || *name == '\t')
		name++;
	v->start = start;
	v->end = end;
	v->offset = off;
	v->inode = inode;
	v->prot = (perms[0] == 'r' ? DBG_PROT_READ : 0) | (perms[1] == 'w' ? DBG_PROT_WRITE : 0) |
		  (perms[2] == 'x' ? DBG_PROT_EXEC : 0);
	v->shared = perms[3] == 's';
	size_t len = strcspn(name, "\n");
	v->name = strndup(name, len);
	if (!v->name)
		return -ENOMEM;
	v->deleted = len > 10 && !strcmp(v->name + len - 10, " (deleted)");
	v->has_file = v->name[0] == '/' || inode != 0;
	/* Names the kernel gives special mappings ([vdso], [vvar],
	 * [vsyscall], [uprobes]): those have a vm_ops->name or are the gate
	 * VMA, and always_dump_vma() dumps them whole. [heap], [stack] and
	 * [anon:...] are ordinary memory. */
	v->special = v->name[0] == '[' && strcmp(v->name, "[heap]") &&
		     strncmp(v->name, "[stack", 6) && strncmp(v->name, "[anon", 5);
	return 0;
}

static bool has_flag(const char *flags, const char *f)
{
	for (const char *s = flags; (s = strstr(s, f)); s += 2)
		if ((s == flags || s[-1] == ' ') && (s[2] == ' ' || s[2] == '\n' || !s[2]))
			return true;
	return false;
}

/* The VMAs from /proc/PID/smaps, or from /proc/PID/maps with @maps (no
 * page counts, no VmFlags, but no walk of the page tables either). */
static int read_vma_file(struct dump *d, pid_t pid, bool only_dontfork, bool maps)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, maps ? "maps" : "smaps");
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = -errno;
		return dbg__fail(d->p, e == -ENOENT ? -ESRCH : e, "open %s", path);
	}
	char *line = NULL;
	size_t cap = 0;
	int r = 0;
	struct core_vma *cur = NULL;
	while (getline(&line, &cap, f) > 0) {
		if (is_header_line(line)) {
			if (cur && only_dontfork && !cur->dc && !cur->wf) {
				/* The child has this one: forget the parent's copy. */
				free(cur->name);
				d->nv--;
			}
			cur = NULL;
			if (d->nv == d->capv) {
				size_t nc = d->capv ? d->capv * 2 : 256;
				struct core_vma *nvp = realloc(d->v, nc * sizeof(*nvp));
				if (!nvp) {
					r = -ENOMEM;
					break;
				}
				d->v = nvp;
				d->capv = nc;
			}
			cur = &d->v[d->nv];
			r = parse_header(line, cur);
			if (r < 0) {
				r = dbg__fail(d->p, r, "%s: bad line: %.80s", path, line);
				break;
			}
			cur->from_parent = only_dontfork;
			d->nv++;
		} else if (cur && !strncmp(line, "Anonymous:", 10)) {
			cur->anon_kb += strtoull(line + 10, NULL, 10);
		} else if (cur && !strncmp(line, "AnonHugePages:", 14)) {
			cur->anon_kb += strtoull(line + 14, NULL, 10);
		} else if (cur && !strncmp(line, "VmFlags:", 8)) {
			cur->dd = has_flag(line + 8, "dd");
			cur->io = has_flag(line + 8, "io");
			cur->ht = has_flag(line + 8, "ht");
			cur->dc = has_flag(line + 8, "dc");
			cur->wf = has_flag(line + 8, "wf");
			cur->uw = has_flag(line + 8, "uw");
		}
	}
	if (cur && only_dontfork && !cur->dc && !cur->wf) {
		free(cur->name);
		d->nv--;
	}
	free(line);
	fclose(f);
	if (only_dontfork)
		return r;
	if (r == 0 && d->nv == 0)
		r = dbg__fail(d->p, -ESRCH, "%s is empty: the process is exiting", path);
	return r;
}

static int read_vmas(struct dump *d, pid_t pid, bool only_dontfork)
{
	return read_vma_file(d, pid, only_dontfork, false);
}

static unsigned int read_filter(struct dump *d)
{
	if (d->o->flags & DBG_CORE_SET_FILTER)
		return d->o->coredump_filter;
	char path[64], buf[64];
	snprintf(path, sizeof(path), "/proc/%d/coredump_filter", d->pid);
	if (dbg__read_file(path, buf, sizeof(buf)) <= 0)
		return DEFAULT_FILTER;
	return strtoul(buf, NULL, 16);
}

/* The file is executable by someone (the kernel's first test for the
 * ELF-header page), or -1 when it cannot be told. */
static int file_executable(struct dump *d, const struct core_vma *v)
{
	char path[4200];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", d->pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	if (stat(path, &st) == 0)
		return (st.st_mode & 0111) != 0;
	if (v->deleted)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/root%s", d->pid, v->name);
	if (stat(path, &st) == 0 && st.st_ino == v->inode)
		return (st.st_mode & 0111) != 0;
	return -1;
}

static bool starts_with_elfmag(struct dump *d, uint64_t addr)
{
	char mag[SELFMAG];
	return dbg_mem_read(d->mem, addr, mag, SELFMAG) == SELFMAG && !memcmp(mag, ELFMAG, SELFMAG);
}

/* fs/coredump.c vma_dump_size(), from what smaps tells of the VMA:
 * "has an anon_vma" is taken as "has anonymous pages" (Anonymous: or
 * AnonHugePages: non-zero), as gdb's gcore does; a VMA whose anonymous
 * pages were all dropped again (MADV_DONTNEED) keeps its anon_vma in the
 * kernel, so the kernel dumps it whole, as holes, where we dump nothing. */
static uint64_t dump_size(struct dump *d, const struct core_vma *v, unsigned int filter)
{
	uint64_t whole = v->end - v->start;
	if (v->special)
		return whole;
	if (v->dd)
		return 0;
	if (v->ht) {
		unsigned int bit = v->shared ? F_HUGETLB_SHARED : F_HUGETLB_PRIVATE;
		return filter & bit ? whole : 0;
	}
	if (v->io)
		return 0;
	if (v->shared) {
		/* i_nlink == 0: shmem of MAP_SHARED|MAP_ANONYMOUS, SysV shm,
		 * memfd and deleted files all show " (deleted)". */
		unsigned int bit = v->deleted ? F_ANON_SHARED : F_MAPPED_SHARED;
		return filter & bit ? whole : 0;
	}
	if (v->anon_kb && (filter & F_ANON_PRIVATE))
		return whole;
	if (!v->has_file)
		return 0;
	if (filter & F_MAPPED_PRIVATE)
		return whole;
	if ((filter & F_ELF_HEADERS) && v->offset == 0 && (v->prot & DBG_PROT_READ)) {
		int x = file_executable(d, v);
		if (x == 1 || starts_with_elfmag(d, v->start))
			return PAGE;
	}
	return 0;
}

int dbg__core_read_vmas(struct dump *d, pid_t pid, bool only_dontfork)
{
	return read_vmas(d, pid, only_dontfork);
}

void dbg__core_apply_rules(struct dump *d)
{
	unsigned int filter = read_filter(d);
	d->info.coredump_filter = filter;
	for (size_t i = 0; i < d->nv; i++)
		d->v[i].dump = dump_size(d, &d->v[i], filter);
}

const struct core_vma *dbg__core_vma_at_n(const struct core_vma *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (addr < v[mid].start)
			hi = mid;
		else if (addr >= v[mid].end)
			lo = mid + 1;
		else
			return &v[mid];
	}
	return NULL;
}

const struct core_vma *dbg__core_vma_at(const struct dump *d, uint64_t addr)
{
	return dbg__core_vma_at_n(d->v, d->nv, addr);
}

/* ---- segments ---------------------------------------------------------- */

static int seg_add(struct dump *d, uint32_t vma, uint64_t vaddr, uint64_t memsz, uint64_t filesz)
{
	if (d->ns == d->caps) {
		size_t nc = d->caps ? d->caps * 2 : 256;
		struct seg *np = realloc(d->s, nc * sizeof(*np));
		if (!np)
			return -ENOMEM;
		d->s = np;
		d->caps = nc;
	}
	const struct core_vma *v = &d->v[vma];
	uint32_t fl = (v->prot & DBG_PROT_READ ? PF_R : 0) | (v->prot & DBG_PROT_WRITE ? PF_W : 0) |
		      (v->prot & DBG_PROT_EXEC ? PF_X : 0);
	d->s[d->ns++] = (struct seg){ .vaddr = vaddr, .memsz = memsz, .filesz = filesz,
				      .flags = fl, .vma = vma, .reuse = -1 };
	return 0;
}

/* One PT_LOAD per VMA in full mode (filesz = the dump size from the
 * start); in minimal mode a VMA with kept ranges inside it is split so
 * each kept range starts a segment. */
static int make_segments(struct dump *d, const struct keeps *ks, bool minimal)
{
	size_t k = 0;
	for (size_t i = 0; i < d->nv; i++) {
		const struct core_vma *v = &d->v[i];
		int r;
		if (!minimal) {
			r = seg_add(d, i, v->start, v->end - v->start, v->dump);
			if (r < 0)
				return r;
			continue;
		}
		while (k < ks->n && ks->k[k].end <= v->start)
			k++;
		uint64_t at = v->start;
		size_t j = k;
		if (j >= ks->n || ks->k[j].start >= v->end) {
			r = seg_add(d, i, v->start, v->end - v->start, 0);
			if (r < 0)
				return r;
			continue;
		}
		for (; j < ks->n && ks->k[j].start < v->end; j++) {
			uint64_t ks0 = ks->k[j].start > v->start ? ks->k[j].start : v->start;
			uint64_t ke = ks->k[j].end < v->end ? ks->k[j].end : v->end;
			if (ks0 > at) {
				r = seg_add(d, i, at, ks0 - at, 0);
				if (r < 0)
					return r;
			}
			uint64_t next = j + 1 < ks->n && ks->k[j + 1].start < v->end ?
						ks->k[j + 1].start : v->end;
			r = seg_add(d, i, ks0, next - ks0, ke - ks0);
			if (r < 0)
				return r;
			at = next;
		}
	}
	return 0;
}

/* ---- the file ---------------------------------------------------------- */

static void fill_ehdr(Elf64_Ehdr *eh, size_t nseg, uint64_t shoff)
{
	memset(eh, 0, sizeof(*eh));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	if (nseg >= PN_XNUM) {
		/* The real count lives in section header 0's sh_info. */
		eh->e_phnum = PN_XNUM;
		eh->e_shoff = shoff;
		eh->e_shentsize = sizeof(Elf64_Shdr);
		eh->e_shnum = 1;
		eh->e_shstrndx = SHN_UNDEF;
	} else {
		eh->e_phnum = nseg;
	}
}

static void fill_phdrs(Elf64_Phdr *ph, const struct dump *d, uint64_t note_off, uint64_t note_len)
{
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = note_off, .p_filesz = note_len,
			      .p_align = 4 };
	for (size_t i = 0; i < d->ns; i++) {
		const struct seg *s = &d->s[i];
		ph[i + 1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = s->flags,
					  .p_offset = s->offset, .p_vaddr = s->vaddr,
					  .p_filesz = s->filesz, .p_memsz = s->memsz,
					  .p_align = PAGE };
	}
}

/* The file could not be finished: cut it to what was written, make the
 * headers agree with the cut (segments past it get a shorter or zero
 * p_filesz, the notes likewise) and mark it. */
static void cut_file(struct dump *d, struct out *o, Elf64_Ehdr *eh, Elf64_Phdr *ph, size_t nph)
{
	if (!o->seekable)
		return;
	uint64_t cut = o->off;
	size_t hdr = sizeof(*eh) + nph * sizeof(*ph);
	if (cut < hdr) {
		/* Not even the headers fit: leave nothing that looks like a
		 * core. */
		if (ftruncate(o->fd, 0) == 0)
			d->info.file_size = 0;
		return;
	}
	if (ftruncate(o->fd, cut) < 0)
		return;
	for (size_t i = 0; i < nph; i++) {
		if (ph[i].p_offset + ph[i].p_filesz > cut)
			ph[i].p_filesz = ph[i].p_offset < cut ? cut - ph[i].p_offset : 0;
	}
	memcpy(eh->e_ident + EI_PAD, cut_mark, sizeof(cut_mark) - 1);
	if (eh->e_phnum == PN_XNUM && eh->e_shoff + sizeof(Elf64_Shdr) > cut) {
		/* The section header with the count is lost: keep what fits. */
		eh->e_phnum = PN_XNUM - 1;
		eh->e_shoff = 0;
		eh->e_shnum = 0;
		eh->e_shentsize = 0;
	}
	/* Overwrites bytes already on disk: needs no new space. */
	if (pwrite(o->fd, eh, sizeof(*eh), 0) != sizeof(*eh))
		return;
	size_t nwrite = eh->e_phnum == PN_XNUM - 1 && nph > PN_XNUM - 1 ? PN_XNUM - 1 : nph;
	if (pwrite(o->fd, ph, nwrite * sizeof(*ph), sizeof(*eh)) < 0)
		return;
	d->info.file_size = cut;
}

static int stop_all(struct dbg_proc *p, pid_t *tids, size_t n, bool *ret_was_running)
{
	bool running = false;
	for (size_t i = 0; i < n; i++)
		if (dbg_proc_thread_state(p, tids[i]) == DBG_THREAD_RUNNING)
			running = true;
	*ret_was_running = running;
	return running ? dbg_proc_stop(p) : 0;
}

static int collect_threads(struct dump *d, pid_t **ret_tids, size_t *ret_n)
{
	size_t cap = 64;
	for (;;) {
		pid_t *t = malloc(cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		int n = dbg_proc_threads(d->p, t, cap);
		if (n < 0) {
			free(t);
			return n;
		}
		if ((size_t)n <= cap) {
			*ret_tids = t;
			*ret_n = n;
			return 0;
		}
		free(t);
		cap = n + 16;
	}
}

static ssize_t read_auxv(struct dump *d, uint8_t **ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/auxv", d->pid);
	size_t cap = 8192;
	uint8_t *b = malloc(cap);
	if (!b)
		return -ENOMEM;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(b);
		return -errno == -ENOENT ? -ESRCH : -errno;
	}
	ssize_t n = read(fd, b, cap);
	int e = errno;
	close(fd);
	if (n < 0) {
		free(b);
		return -e;
	}
	*ret = b;
	return n;
}

/* Resume the threads that ran when we were called and those born since;
 * the ones the caller had stopped stay stopped. */
static void resume_ours(struct dbg_proc *p, const pid_t *tids, size_t ntids, const pid_t *tids0,
			size_t ntids0, const bool *was_running)
{
	for (size_t i = 0; i < ntids; i++) {
		bool keep_stopped = false;
		for (size_t j = 0; j < ntids0; j++)
			if (tids0[j] == tids[i])
				keep_stopped = !was_running[j];
		if (!keep_stopped)
			(void)dbg_proc_resume_thread(p, tids[i]);
	}
}

/* Low-pause: fork the stopped target by injecting clone(SIGCHLD) into one
 * of its threads. PTRACE_O_TRACEFORK (always set by proc) makes the child
 * a tracee stopped before its first instruction; following forks for the
 * call keeps proc from letting it go. It is never resumed: killed after. */
static int snapshot(struct dump *d, const struct core_thread *th, size_t nth,
		    struct dbg_proc **ret_child)
{
	struct dbg_proc *p = d->p;
	unsigned int flags = p->flags;
	p->flags |= DBG_ATTACH_FOLLOW_FORK;
	int r = -EBUSY;
	int64_t res = 0;
	pid_t child = 0;
	/* CLONE_PARENT: the child is the target's sibling, so the target
	 * gets no SIGCHLD and keeps no zombie of a child it never made; its
	 * parent reaps it. Not allowed for a namespace's init: a plain fork
	 * there. */
	uint64_t cflags = CLONE_PARENT | SIGCHLD;
	for (size_t i = 0; i < nth && r == -EBUSY; i++) {
		const uint64_t args[6] = { cflags, 0, 0, 0, 0, 0 };
		child = 0;
		r = dbg_inject_syscall(p, th[i].tid, SYS_clone, args, &res, &child);
		if (r == 0 && res == -EINVAL && cflags != SIGCHLD) {
			cflags = SIGCHLD;
			r = -EBUSY;
			i--;
		}
	}
	p->flags = flags;
	if (r == 0 && res < 0)
		r = dbg__fail(p, (int)res, "the injected fork failed: %s", dbg_strerror((int)res));
	if (r == 0 && child <= 0)
		r = dbg__fail(p, -ECHILD, "the injected fork reported no child");
	if (r == 0) {
		r = dbg_proc_attach_child(p, child, ret_child);
		if (r < 0)
			dbg__fail(p, r, "taking over the snapshot child %d", child);
	}
	if (r < 0 && child > 0) {
		/* Never leave it behind: it is our tracee, stopped. */
		kill(child, SIGKILL);
		while (waitpid(child, NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	return r;
}

/* Pre-copy's set-up: stop the target for a moment, make a userfaultfd in
 * it (an injected userfaultfd(2), so that the context is the target's
 * mm), take the descriptor over with pidfd_getfd and close the target's.
 * Returns our descriptor, -ENOTSUP where the kernel has no userfaultfd
 * (fall back to the fork), or another negative errno. */
/* Under a seccomp filter (Seccomp: 2 in /proc/PID/status) an injected
 * userfaultfd(2) may be refused or kill the target (Docker's default
 * profile and many systemd units filter it): not tried there. */
static bool under_seccomp_filter(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	ssize_t n = dbg__read_file(path, buf, sizeof(buf));
	if (n <= 0)
		return false;
	const char *s = strstr(buf, "\nSeccomp:");
	return s && strtol(s + 9, NULL, 10) == 2;
}

static int precopy_uffd(struct dump *d, uint64_t *ret_ns)
{
	struct dbg_proc *p = d->p;
	if (under_seccomp_filter(d->pid)) {
		dbg__log(p, DBG_LOG_DEBUG, "core: pre-copy: the target runs under a seccomp filter, "
			 "which may refuse userfaultfd or kill it");
		return -EPERM;
	}
	pid_t *tids = NULL;
	size_t n = 0;
	int r = collect_threads(d, &tids, &n);
	if (r < 0)
		return r;
	bool *was = calloc(n ? n : 1, sizeof(*was));
	if (!was) {
		free(tids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		was[i] = dbg_proc_thread_state(p, tids[i]) == DBG_THREAD_RUNNING;
	uint64_t t0 = now_ns();
	bool stopped = false;
	r = stop_all(p, tids, n, &stopped);
	int64_t tfd = -1;
	int ours = -1;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (dbg_proc_thread_state(p, tids[i]) != DBG_THREAD_STOPPED)
			continue;
		/* O_CLOEXEC: an exec in the target drops it. User-mode only
		 * where unprivileged userfaultfd is refused: the asynchronous
		 * write-protect faults never reach the handler anyway. */
		uint64_t args[6] = { O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0, 0 };
		int q = dbg_inject_syscall(p, tids[i], SYS_userfaultfd, args, &tfd, NULL);
		if (q == 0 && tfd == -EPERM) {
			args[0] |= 1; /* UFFD_USER_MODE_ONLY */
			q = dbg_inject_syscall(p, tids[i], SYS_userfaultfd, args, &tfd, NULL);
		}
		if (q == -EBUSY || q == -DBG_ERRNO_RUNNING)
			continue;
		if (q < 0) {
			r = q;
			break;
		}
		if (tfd < 0) {
			r = tfd == -ENOSYS || tfd == -EPERM || tfd == -EINVAL ? -ENOTSUP : (int)tfd;
			dbg__log(p, DBG_LOG_DEBUG, "core: pre-copy: userfaultfd in the target: %s",
				 dbg_strerror((int)tfd));
			break;
		}
		int pidfd = syscall(SYS_pidfd_open, d->pid, 0);
		if (pidfd >= 0) {
			ours = syscall(SYS_pidfd_getfd, pidfd, (int)tfd, 0);
			if (ours < 0)
				r = errno == ENOSYS ? -ENOTSUP : -errno;
			close(pidfd);
		} else {
			r = errno == ENOSYS ? -ENOTSUP : -errno;
		}
		const uint64_t cargs[6] = { (uint64_t)tfd, 0, 0, 0, 0, 0 };
		int64_t cres = 0;
		int q2 = dbg_inject_syscall(p, tids[i], SYS_close, cargs, &cres, NULL);
		if (q2 < 0 && r == 0)
			r = q2;
		break;
	}
	if (r == 0 && ours < 0)
		r = -EBUSY;
	if (stopped)
		resume_ours(p, tids, n, tids, n, was);
	*ret_ns = now_ns() - t0;
	free(tids);
	free(was);
	if (r < 0 && ours >= 0)
		close(ours);
	return r < 0 ? r : ours;
}

static int cmp_vma(const void *a, const void *b)
{
	const struct core_vma *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int dbg_core_write(struct dbg_proc *p, int fd, const struct dbg_core_opts *opts)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	static const struct dbg_core_opts defaults = { .sz = sizeof(defaults) };
	struct dbg_core_opts o = defaults;
	if (opts) {
		if (!dbg__opts_valid(opts, sizeof(*opts)))
			return dbg__fail(p, -EINVAL, "bad dbg_core_opts");
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	}
	if (fd < 0 || (o.mode != DBG_CORE_FULL && o.mode != DBG_CORE_MINIMAL &&
		       o.mode != DBG_CORE_LOW_PAUSE) || o.signo < 0 ||
	    o.signo >= 65 || (o.info && o.info->sz < sizeof(size_t)))
		return dbg__fail(p, -EINVAL, "bad arguments to dbg_core_write");
	struct out out = { .fd = fd, .limit = o.size_limit };
	off_t pos = lseek(fd, 0, SEEK_CUR);
	if (pos > 0)
		return dbg__fail(p, -EINVAL, "the core's descriptor must be at offset 0");
	out.seekable = pos == 0;

	struct dump d = { .p = p, .mem = p, .o = &o, .pid = dbg_proc_pid(p), .pagemap_fd = -1 };
	d.mem_pid = d.pid;
	struct dbg_proc *snap = NULL;
	d.info.sz = sizeof(d.info);
	pid_t *tids = NULL, *tids0 = NULL;
	size_t ntids = 0, ntids0 = 0;
	struct core_thread *th = NULL;
	size_t nth = 0;
	uint8_t *auxv = NULL;
	struct core_buf notes = { 0 };
	Elf64_Phdr *ph = NULL;
	struct keeps ks = { 0 };
	bool we_stopped = false;
	bool *was_running = NULL;
	uint64_t t_stop = 0;
	Elf64_Ehdr eh;
	size_t nph = 0;
	struct precopy pc = { .uffd = -1 };
	bool pc_started = false;

	if (o.mode == DBG_CORE_LOW_PAUSE && !(o.flags & DBG_CORE_FORK_SNAPSHOT)) {
		/* Pre-copy needs a file it can write anywhere in and punch
		 * holes into; the fork snapshot is the fallback. */
		struct stat st;
		int why = 0;
		if (!out.seekable || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			why = -ESPIPE;
		} else if (o.size_limit) {
			why = -EFBIG;
		} else {
			uint64_t ns = 0;
			int ufd = precopy_uffd(&d, &ns);
			d.info.setup_pause_ns = ns;
			if (ufd == -ESRCH) {
				r = dbg__fail(p, -ESRCH, "the target exited during the dump");
				goto done;
			}
			if (ufd < 0) {
				why = ufd;
			} else {
				pid_t tb[1];
				int nt = dbg_proc_threads(p, tb, 1);
				d.info.nthreads = nt > 0 ? nt : 1;
				d.buf = malloc(CHUNK);
				if (!d.buf) {
					close(ufd);
					r = -ENOMEM;
					goto done;
				}
				if (!(o.flags & DBG_CORE_ONE_THREAD) && dbg__core_writer_start(&d, fd) < 0)
					d.w = NULL;
				pc_started = true;
				r = dbg__core_precopy_run(&d, &out, &pc, ufd);
				if (r == -ENOTSUP) {
					/* Nothing was written yet. */
					why = r;
					r = 0;
					pc_started = false;
					dbg__core_writer_finish(&d, &out);
					dbg__core_precopy_free(&pc);
					for (size_t i = 0; i < d.nv; i++)
						free(d.v[i].name);
					d.nv = 0;
					d.total = 0;
					if (d.pagemap_fd >= 0)
						close(d.pagemap_fd);
					d.pagemap_fd = -1;
				} else if (r < 0) {
					goto done;
				} else {
					pc.active = true;
				}
			}
		}
		if (why && (o.flags & DBG_CORE_NO_FORK)) {
			r = dbg__fail(p, -ENOTSUP, "low-pause without a fork: pre-copy is not "
				      "possible here (%s)", dbg_strerror(why));
			goto done;
		}
		if (why) {
			d.info.precopy_fallback = why;
			dbg__log(p, DBG_LOG_DEBUG, "core: low-pause: pre-copy not possible (%s), "
				 "fork snapshot instead", dbg_strerror(why));
		}
	}

	r = collect_threads(&d, &tids, &ntids);
	if (r < 0)
		goto done;
	was_running = calloc(ntids ? ntids : 1, sizeof(*was_running));
	if (!was_running) {
		r = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < ntids; i++)
		was_running[i] = dbg_proc_thread_state(p, tids[i]) == DBG_THREAD_RUNNING;
	t_stop = now_ns();
	r = stop_all(p, tids, ntids, &we_stopped);
	if (r < 0)
		goto done;
	/* Threads born while stopping: the list again. */
	tids0 = tids;
	ntids0 = ntids;
	tids = NULL;
	ntids = 0;
	r = collect_threads(&d, &tids, &ntids);
	if (r < 0)
		goto done;
	if (!ntids) {
		r = dbg__fail(p, -ESRCH, "the target has no live thread");
		goto done;
	}

	/* First thread first, then the others in the table's order. */
	pid_t first = o.first_tid ? o.first_tid : d.pid;
	size_t fi = 0;
	bool found = false;
	for (size_t i = 0; i < ntids; i++)
		if (tids[i] == first) {
			fi = i;
			found = true;
		}
	if (o.first_tid && !found) {
		r = dbg__fail(p, -ENOENT, "first_tid %d is not a live thread of %d", o.first_tid,
			      d.pid);
		goto done;
	}
	th = calloc(ntids, sizeof(*th));
	if (!th) {
		r = -ENOMEM;
		goto done;
	}
	for (size_t k = 0; k < ntids; k++) {
		size_t i = k == 0 ? fi : (k <= fi ? k - 1 : k);
		int state = dbg_proc_thread_state(p, tids[i]);
		if (state == DBG_THREAD_EXITED)
			continue;
		r = dbg__core_thread_regs(p, tids[i], &th[nth]);
		if (r == -ESRCH || r == -ENOENT) {
			free(th[nth].xsave);
			continue;   /* died meanwhile */
		}
		if (r < 0)
			goto done;
		nth++;
	}
	if (!nth) {
		r = dbg__fail(p, -ESRCH, "the target exited before its registers were read");
		goto done;
	}
	d.info.nthreads = nth;

	if (pc.active)
		d.info.snapshot = DBG_CORE_SNAP_PRECOPY;
	if (o.mode == DBG_CORE_LOW_PAUSE && !pc.active) {
		d.info.snapshot = DBG_CORE_SNAP_FORK;
		uint64_t t_regs = now_ns();
		r = snapshot(&d, th, nth, &snap);
		dbg__log(p, DBG_LOG_DEBUG, "core: low-pause: stop+registers %.3f ms, fork %.3f ms",
			 (t_regs - t_stop) / 1e6, (now_ns() - t_regs) / 1e6);
		if (r < 0)
			goto done;
		d.mem = snap;
		d.mem_pid = dbg_proc_pid(snap);
		/* The registers are ours and the memory is the child's: the
		 * target runs on from here. */
		if (we_stopped) {
			resume_ours(p, tids, ntids, tids0, ntids0, was_running);
			d.info.pause_ns = now_ns() - t_stop;
			we_stopped = false;
		}
	}
	/* The VMAs of the memory's owner; in low-pause mode also the
	 * target's MADV_DONTFORK ones the child lacks. */
	uint64_t t_vmas = now_ns();
	if (pc.active) {
		/* smaps would walk every page table (milliseconds per GiB, the
		 * target stopped): maps, with what smaps said during the
		 * pre-copy, unless a VMA is new. */
		r = read_vma_file(&d, d.pid, false, true);
		if (r == 0 && dbg__core_precopy_adopt(&d, &pc) > 0) {
			for (size_t i = 0; i < d.nv; i++)
				free(d.v[i].name);
			d.nv = 0;
			r = read_vmas(&d, d.pid, false);
		}
	} else {
		r = read_vmas(&d, d.mem_pid, false);
	}
	if (pc.active)
		dbg__log(p, DBG_LOG_DEBUG, "core: pre-copy: stop+registers %.3f ms, VMAs %.3f ms",
			 (t_vmas - t_stop) / 1e6, (now_ns() - t_vmas) / 1e6);
	if (r == 0 && snap) {
		size_t n0 = d.nv;
		r = read_vmas(&d, d.pid, true);
		/* The target's MADV_WIPEONFORK VMAs are in the child, empty:
		 * take their page counts from the target, drop the copies. */
		size_t k = n0;
		for (size_t i = n0; i < d.nv; i++) {
			struct core_vma *pv = &d.v[i];
			const struct core_vma *cv = pv->dc ? NULL : dbg__core_vma_at_n(d.v, n0, pv->start);
			if (cv) {
				d.v[cv - d.v].anon_kb = pv->anon_kb;
				free(pv->name);
				continue;
			}
			d.v[k++] = *pv;
		}
		d.nv = k;
		if (d.nv > n0)
			qsort(d.v, d.nv, sizeof(*d.v), cmp_vma);
		for (size_t i = 0; i < d.nv; i++)
			if (d.v[i].wf || d.v[i].dc)
				d.v[i].from_parent = true;
	}
	if (r < 0)
		goto done;
	unsigned int filter = read_filter(&d);
	d.info.coredump_filter = filter;
	for (size_t i = 0; i < d.nv; i++)
		d.v[i].dump = dump_size(&d, &d.v[i], filter);
	ssize_t auxv_len = read_auxv(&d, &auxv);
	if (auxv_len < 0) {
		r = dbg__fail(p, auxv_len, "reading /proc/%d/auxv", d.pid);
		goto done;
	}
	if (o.mode == DBG_CORE_MINIMAL) {
		r = dbg__core_minimal_keeps(&d, th, nth, auxv, auxv_len, &ks);
		if (r < 0)
			goto done;
	}
	r = make_segments(&d, &ks, o.mode == DBG_CORE_MINIMAL);
	if (r < 0)
		goto done;

	struct core_notes_in nin = { .pid = d.pid, .signo = o.signo, .threads = th,
				     .nthreads = nth, .vmas = d.v, .nvmas = d.nv,
				     .auxv = auxv, .auxv_len = auxv_len };
	r = dbg__core_notes(p, &nin, &notes);
	if (r < 0)
		goto done;

	/* Layout. */
	nph = d.ns + 1;
	uint64_t note_off = sizeof(Elf64_Ehdr) + nph * sizeof(Elf64_Phdr);
	uint64_t off = (note_off + notes.len + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	uint64_t phoff = sizeof(Elf64_Ehdr);
	if (pc.active) {
		/* Segments keep the pre-copied bytes where they can; the
		 * headers and notes go before them if they fit. */
		r = dbg__core_precopy_place(&d, &pc, &off);
		if (r < 0)
			goto done;
		if (note_off + notes.len > pc.data_base) {
			phoff = off;
			note_off = phoff + nph * sizeof(Elf64_Phdr);
			off = (note_off + notes.len + 7) & ~(uint64_t)7;
		}
		for (size_t i = 0; i < d.ns; i++)
			if (d.s[i].reuse < 0)
				d.total += d.s[i].filesz;
	} else {
		for (size_t i = 0; i < d.ns; i++) {
			d.s[i].offset = off;
			off += d.s[i].filesz;
			d.total += d.s[i].filesz;
		}
	}
	uint64_t shoff = off;
	uint64_t end = off + (nph >= PN_XNUM ? sizeof(Elf64_Shdr) : 0);
	d.info.nsegments = nph;
	d.info.file_size = end;
	fill_ehdr(&eh, nph, shoff);
	eh.e_phoff = phoff;
	ph = calloc(nph, sizeof(*ph));
	if (!ph) {
		r = -ENOMEM;
		goto done;
	}
	fill_phdrs(ph, &d, note_off, notes.len);

	if (!d.buf)
		d.buf = malloc(CHUNK);
	if (!d.buf) {
		r = -ENOMEM;
		goto done;
	}
	char pmpath[64];
	snprintf(pmpath, sizeof(pmpath), "/proc/%d/pagemap", d.mem_pid);
	if (d.pagemap_fd < 0)
		d.pagemap_fd = open(pmpath, O_RDONLY | O_CLOEXEC);

	out.off = 0;
	r = dbg__core_out_write(&out, &eh, sizeof(eh));
	out.off = phoff;
	if (r == 0)
		r = dbg__core_out_write(&out, ph, nph * sizeof(*ph));
	if (r == 0)
		r = dbg__core_out_write(&out, notes.p, notes.len);
	if (r == 0 && !pc.active)
		r = dbg__core_out_skip(&out, (d.ns ? d.s[0].offset : off) - out.off);
	/* Without a second thread (or on a pipe) everything is written
	 * from here. */
	if (r == 0 && !d.w && !pc_started && out.seekable && !(o.flags & DBG_CORE_ONE_THREAD) &&
	    dbg__core_writer_start(&d, fd) < 0)
		d.w = NULL;
	if (pc.active) {
		uint64_t t_copy = now_ns();
		struct precopy_plan plan = { 0 };
		if (r == 0)
			r = dbg__core_precopy_plan(&d, &out, &pc, &plan);
		/* Much written since the last round (a busy target): copying
		 * it now would stop the target longer than a fork, whose
		 * page-table copy costs about 1/64 of copying the memory (16
		 * ms per GiB against 1 ms per MiB here). Then fork, resume,
		 * and copy those pages from the child. */
		bool forked = false;
		int target_pm = d.pagemap_fd;
		if (r == 0 && !(o.flags & DBG_CORE_NO_FORK) && plan.bytes > (4u << 20) &&
		    plan.bytes > pc.tracked_bytes / 64) {
			r = dbg__core_precopy_copy(&d, &out, &pc, &plan, 1);
			if (r == 0 && snapshot(&d, th, nth, &snap) == 0) {
				forked = true;
				d.mem = snap;
				d.mem_pid = dbg_proc_pid(snap);
				char cpm[64];
				snprintf(cpm, sizeof(cpm), "/proc/%d/pagemap", d.mem_pid);
				d.pagemap_fd = open(cpm, O_RDONLY | O_CLOEXEC);
				d.info.snapshot = DBG_CORE_SNAP_PRECOPY_FORK;
				if (we_stopped) {
					resume_ours(p, tids, ntids, tids0, ntids0, was_running);
					d.info.pause_ns = now_ns() - t_stop;
					we_stopped = false;
				}
			}
		}
		if (r == 0)
			r = dbg__core_precopy_copy(&d, &out, &pc, &plan, forked ? 2 : 0);
		free(plan.r);
		if (forked) {
			if (d.pagemap_fd >= 0)
				close(d.pagemap_fd);
			d.pagemap_fd = target_pm;
		}
		/* Everything is read: the target runs on. */
		if (we_stopped) {
			resume_ours(p, tids, ntids, tids0, ntids0, was_running);
			d.info.pause_ns = now_ns() - t_stop;
			we_stopped = false;
		}
		d.info.precopy_rounds = pc.rounds;
		d.info.pause_copy_bytes = pc.pause_bytes;
		dbg__log(p, DBG_LOG_DEBUG, "core: pre-copy: at the stop %.3f ms for %llu KiB%s; "
			 "pause %.3f ms", (now_ns() - t_copy) / 1e6,
			 (unsigned long long)pc.pause_bytes >> 10,
			 forked ? " (from a fork child)" : "", d.info.pause_ns / 1e6);
		if (r == 0)
			dbg__core_precopy_trim(&d, &out, &pc);
		uint64_t t_unp = now_ns();
		dbg__core_precopy_unprotect(&pc);
		uint64_t t_close = now_ns();
		dbg__core_precopy_free(&pc);
		dbg__log(p, DBG_LOG_DEBUG, "core: pre-copy: unregistering %.3f ms, closing the "
			 "userfaultfd %.3f ms", (t_close - t_unp) / 1e6, (now_ns() - t_close) / 1e6);
		out.off = shoff;
	} else {
		for (size_t i = 0; i < d.ns && r == 0; i++)
			r = dbg__core_copy_segment(&d, &out, &d.s[i]);
	}
	if (d.w) {
		int r0 = r;
		dbg__core_writer_finish(&d, &out);
		if (out.err && (r0 == 0 || r0 == -EFBIG))
			r = out.err;
	}
	if (r == 0 && nph >= PN_XNUM) {
		Elf64_Shdr sh = { .sh_type = SHT_NULL, .sh_size = 1, .sh_link = SHN_UNDEF,
				  .sh_info = nph };
		r = dbg__core_out_write(&out, &sh, sizeof(sh));
	}
	if (r == 0 && out.seekable && ftruncate(fd, out.off) < 0)
		r = dbg__fail(p, -errno, "ftruncate of the core");
	/* A target that died while we read may have read as holes. */
	if (r == 0 && !dbg__core_alive(d.mem_pid))
		r = dbg__fail(p, -ESRCH, "the target exited during the dump");
	if (r == -EFBIG && out.limited && !out.err) {
		/* The size limit: a cut core, as RLIMIT_CORE gives. */
		d.info.truncated = 1;
		cut_file(&d, &out, &eh, ph, nph);
		r = 0;
	} else if (r < 0) {
		if (out.err)
			dbg__fail(p, out.err, "writing the core at offset %llu",
				  (unsigned long long)out.off);
		d.info.truncated = 1;
		if (!pc_started)
			cut_file(&d, &out, &eh, ph, nph);
	}

done:
	if (d.w)
		dbg__core_writer_finish(&d, &out);
	if (pc_started && r < 0 && out.seekable) {
		/* The pre-copied bytes are no core: leave nothing. */
		if (ftruncate(fd, 0) == 0)
			d.info.file_size = 0;
		d.info.truncated = 1;
	}
	dbg__core_precopy_free(&pc);
	if (snap) {
		dbg_proc_kill(snap);
		dbg_proc_detach(snap);
	}
	if (we_stopped) {
		resume_ours(p, tids, ntids, tids0, ntids0, was_running);
		d.info.pause_ns = now_ns() - t_stop;
	}
	if (o.info) {
		size_t n = o.info->sz < sizeof(d.info) ? o.info->sz : sizeof(d.info);
		size_t sz = o.info->sz;
		memcpy(o.info, &d.info, n);
		o.info->sz = sz;
	}
	if (d.pagemap_fd >= 0)
		close(d.pagemap_fd);
	free(d.buf);
	free(ph);
	free(notes.p);
	free(auxv);
	free(ks.k);
	for (size_t i = 0; i < nth; i++)
		free(th[i].xsave);
	free(th);
	for (size_t i = 0; i < d.nv; i++)
		free(d.v[i].name);
	free(d.v);
	free(d.s);
	free(tids);
	free(tids0);
	free(was_running);
	return r;
}

int dbg_core_is_truncated(int fd)
{
	Elf64_Ehdr eh;
	ssize_t n = pread(fd, &eh, sizeof(eh), 0);
	if (n < 0)
		return -errno;
	if (n != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_type != ET_CORE)
		return -DBG_ERRNO_PARSE;
	return !memcmp(eh.e_ident + EI_PAD, cut_mark, sizeof(cut_mark) - 1);
}
