/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Separate debuginfo with compressed sections (Debian's libc6-dbg and
 * most distributions' -dbg/-debuginfo packages: SHF_COMPRESSED zlib).
 * libdw inflates every debug section, one after the other, when it first
 * opens such a file: for glibc that is 40 ms, .debug_info alone 25 ms,
 * and most of what a first symbolization costs. Here the file is rewritten
 * into a memfd with its sections inflated - in parallel when the caller
 * allows threads - and .debug_loc/.debug_loclists (variable locations,
 * which libdbg never asks for) left out, and libdwfl opens that instead.
 *
 * The rewrite keeps every byte of the original and appends the inflated
 * sections and a new section header table; only a file found by build-id
 * is rewritten (libdwfl checked the build-id note, which is kept), never
 * one validated by .gnu_debuglink's CRC of its bytes. Anything unexpected
 * returns the original file untouched.
 */
#include "internal.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>

#define MAX_JOBS 64

struct job {
	const uint8_t *src; /* the zlib stream */
	size_t src_len;
	uint8_t *dst;
	size_t dst_len;
};

struct work {
	struct job jobs[MAX_JOBS];
	unsigned int njobs;
	atomic_uint next;
	atomic_bool failed;
};

/* libdeflate: whole-buffer inflate, about twice zlib's speed, and the
 * sizes are known from each section's compression header. */
static void *worker(void *arg)
{
	struct work *w = arg;
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	if (!d) {
		atomic_store(&w->failed, true);
		return NULL;
	}
	unsigned int i;
	while ((i = atomic_fetch_add(&w->next, 1)) < w->njobs && !atomic_load(&w->failed)) {
		const struct job *j = &w->jobs[i];
		size_t got = 0;
		if (libdeflate_zlib_decompress(d, j->src, j->src_len, j->dst, j->dst_len, &got) !=
			    LIBDEFLATE_SUCCESS || got != j->dst_len)
			atomic_store(&w->failed, true);
	}
	libdeflate_free_decompressor(d);
	return NULL;
}

static int cmp_jobs(const void *a, const void *b)
{
	const struct job *x = a, *y = b;
	return x->src_len < y->src_len ? 1 : x->src_len > y->src_len ? -1 : 0;
}

/* Run the jobs on @threads threads (this one included); helpers start
 * with every signal blocked, so none is delivered to them. */
static bool run_jobs(struct work *w, unsigned int threads)
{
	qsort(w->jobs, w->njobs, sizeof(w->jobs[0]), cmp_jobs); /* biggest first */
	pthread_t helpers[8];
	unsigned int nhelpers = 0;
	if (threads > 1) {
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (unsigned int i = 1; i < threads && i <= 8 && i < w->njobs; i++)
			if (pthread_create(&helpers[nhelpers], NULL, worker, w) == 0)
				nhelpers++;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	worker(w);
	for (unsigned int i = 0; i < nhelpers; i++)
		pthread_join(helpers[i], NULL);
	return !atomic_load(&w->failed);
}

static bool dropped(const char *name)
{
	return strcmp(name, ".debug_loc") == 0 || strcmp(name, ".debug_loclists") == 0;
}

int dbg__debuginfo_inflate(int fd, unsigned int threads)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr))
		return -1;
	size_t size = st.st_size;
	const uint8_t *in = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (in == MAP_FAILED)
		return -1;
	int out_fd = -1;
	uint8_t *out = MAP_FAILED;
	size_t out_size = 0;
	struct work *w = calloc(1, sizeof(*w));
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)in;
	if (!w || memcmp(in, ELFMAG, SELFMAG) != 0 || in[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size || eh->e_shoff % 8 ||
	    (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size - eh->e_shoff ||
	    eh->e_shstrndx >= eh->e_shnum)
		goto fail;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(in + eh->e_shoff);
	const Elf64_Shdr *strs = &sh[eh->e_shstrndx];
	if (strs->sh_offset > size || strs->sh_size > size - strs->sh_offset || strs->sh_size == 0 ||
	    in[strs->sh_offset + strs->sh_size - 1] != 0)
		goto fail;
	const char *names = (const char *)in + strs->sh_offset;

	/* Plan: the original bytes, each inflated section (16-aligned),
	 * then the new section header table. */
	uint64_t end = (size + 15) & ~(uint64_t)15;
	uint64_t new_off[MAX_JOBS];
	unsigned int idx[MAX_JOBS];
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		if (!(sh[i].sh_flags & SHF_COMPRESSED) || sh[i].sh_type == SHT_NOBITS ||
		    sh[i].sh_name >= strs->sh_size || strncmp(names + sh[i].sh_name, ".debug_", 7) != 0 ||
		    dropped(names + sh[i].sh_name))
			continue;
		if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset ||
		    sh[i].sh_size < sizeof(Elf64_Chdr) || w->njobs == MAX_JOBS)
			goto fail;
		const Elf64_Chdr *ch = (const Elf64_Chdr *)(in + sh[i].sh_offset);
		if (ch->ch_type != ELFCOMPRESS_ZLIB || ch->ch_size > (1ull << 34))
			goto fail; /* zstd and others: libdw's own path */
		struct job *j = &w->jobs[w->njobs];
		j->src = in + sh[i].sh_offset + sizeof(*ch);
		j->src_len = sh[i].sh_size - sizeof(*ch);
		j->dst_len = ch->ch_size;
		new_off[w->njobs] = end;
		idx[w->njobs++] = i;
		end = (end + ch->ch_size + 15) & ~(uint64_t)15;
	}
	if (w->njobs == 0)
		goto fail; /* nothing compressed: the file as it is */
	uint64_t shoff = end;
	out_size = shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr);

	out_fd = memfd_create("dbg-debuginfo", MFD_CLOEXEC);
	if (out_fd < 0 || ftruncate(out_fd, out_size) < 0)
		goto fail;
	out = mmap(NULL, out_size, PROT_READ | PROT_WRITE, MAP_SHARED, out_fd, 0);
	if (out == MAP_FAILED)
		goto fail;
	memcpy(out, in, size);
	Elf64_Shdr *nsh = (Elf64_Shdr *)(out + shoff);
	memcpy(nsh, sh, (size_t)eh->e_shnum * sizeof(Elf64_Shdr));
	((Elf64_Ehdr *)out)->e_shoff = shoff;
	for (unsigned int k = 0; k < w->njobs; k++) {
		const Elf64_Chdr *ch = (const Elf64_Chdr *)(in + sh[idx[k]].sh_offset);
		Elf64_Shdr *s = &nsh[idx[k]];
		s->sh_offset = new_off[k];
		s->sh_size = ch->ch_size;
		s->sh_addralign = ch->ch_addralign ? ch->ch_addralign : 1;
		s->sh_flags &= ~(uint64_t)SHF_COMPRESSED;
		w->jobs[k].dst = out + new_off[k];
	}
	/* Sections libdbg never reads: nameless, so libdw does not inflate
	 * them either. */
	for (unsigned int i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_name < strs->sh_size && dropped(names + sh[i].sh_name))
			nsh[i].sh_name = 0;
	if (!run_jobs(w, threads ? threads : 1))
		goto fail;
	munmap(out, out_size);
	munmap((void *)in, size);
	free(w);
	return out_fd;
fail:
	if (out != MAP_FAILED)
		munmap(out, out_size);
	if (out_fd >= 0)
		close(out_fd);
	munmap((void *)in, size);
	free(w);
	return -1;
}
