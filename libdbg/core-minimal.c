/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Minimal cores (DBG_CORE_MINIMAL): which ranges of which VMAs a backtrace
 * needs: stacks from sp, thread descriptors, ELF headers and build-id
 * notes, the written data of every ELF, r_debug and the link_map chain,
 * the kernel's special mappings. See doc/core.md.
 */
#include "core-int.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- minimal mode ----------------------------------------------------- */


static int keep_add(struct keeps *ks, uint64_t start, uint64_t end)
{
	start &= ~(uint64_t)(PAGE - 1);
	end = (end + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	if (end <= start)
		return 0;
	if (ks->n == ks->cap) {
		size_t nc = ks->cap ? ks->cap * 2 : 64;
		struct keep *nk = realloc(ks->k, nc * sizeof(*nk));
		if (!nk)
			return -ENOMEM;
		ks->k = nk;
		ks->cap = nc;
	}
	ks->k[ks->n++] = (struct keep){ start, end };
	return 0;
}

static int cmp_keep(const void *a, const void *b)
{
	const struct keep *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort and merge overlapping or touching ranges. */
static void keeps_normalize(struct keeps *ks)
{
	if (!ks->n)
		return;
	qsort(ks->k, ks->n, sizeof(*ks->k), cmp_keep);
	size_t o = 0;
	for (size_t i = 1; i < ks->n; i++) {
		if (ks->k[i].start <= ks->k[o].end) {
			if (ks->k[i].end > ks->k[o].end)
				ks->k[o].end = ks->k[i].end;
		} else {
			ks->k[++o] = ks->k[i];
		}
	}
	ks->n = o + 1;
}


static bool rd(struct dump *d, uint64_t addr, void *buf, size_t len)
{
	return dbg_mem_read(d->mem, addr, buf, len) == (ssize_t)len;
}

/* Keep a range clipped to the VMA that holds @addr. */
static int keep_in_vma(struct dump *d, struct keeps *ks, uint64_t addr, uint64_t len)
{
	const struct core_vma *v = dbg__core_vma_at(d, addr);
	if (!v || !len)
		return 0;
	uint64_t end = addr + len < v->end ? addr + len : v->end;
	return keep_add(ks, addr, end);
}

/* The ELF at a pgoff-0 mapping: its first page, and the pages of its
 * PT_NOTE (the build-id) and, for the executable, of PT_DYNAMIC. Returns
 * the address of PT_DYNAMIC in *ret_dyn (0 if none). */
static int keep_elf(struct dump *d, struct keeps *ks, const struct core_vma *v, uint64_t *ret_dyn)
{
	Elf64_Ehdr eh;
	*ret_dyn = 0;
	if (!rd(d, v->start, &eh, sizeof(eh)) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phnum > 512)
		return 0;
	int r = keep_add(ks, v->start, v->start + PAGE);
	if (r < 0)
		return r;
	Elf64_Phdr ph[512];
	size_t n = eh.e_phnum;
	if (!rd(d, v->start + eh.e_phoff, ph, n * sizeof(ph[0])))
		return 0;
	r = keep_in_vma(d, ks, v->start + eh.e_phoff, n * sizeof(ph[0]));
	uint64_t low = UINT64_MAX;
	for (size_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < low)
			low = ph[i].p_vaddr;
	if (low == UINT64_MAX)
		return r;
	uint64_t bias = v->start - (low & ~(uint64_t)(PAGE - 1));
	for (size_t i = 0; i < n && r == 0; i++) {
		if (ph[i].p_type == PT_NOTE)
			r = keep_in_vma(d, ks, bias + ph[i].p_vaddr, ph[i].p_memsz);
		else if (ph[i].p_type == PT_DYNAMIC) {
			*ret_dyn = bias + ph[i].p_vaddr;
			r = keep_in_vma(d, ks, bias + ph[i].p_vaddr, ph[i].p_memsz);
		}
	}
	return r;
}

/* r_debug and the link_map chain: how gdb and libdwfl find the shared
 * libraries of a core (DT_DEBUG in the executable's .dynamic). */
static int keep_link_map(struct dump *d, struct keeps *ks, uint64_t dyn)
{
	Elf64_Dyn e;
	uint64_t rdebug = 0;
	for (int i = 0; i < 512 && rd(d, dyn + i * sizeof(e), &e, sizeof(e)); i++) {
		if (e.d_tag == DT_NULL)
			break;
		if (e.d_tag == DT_DEBUG)
			rdebug = e.d_un.d_ptr;
	}
	if (!rdebug)
		return 0;
	/* struct r_debug: int r_version; link_map *r_map; r_brk; r_state;
	 * r_ldbase (40 bytes); the r_debug_extended of glibc 2.35 adds
	 * r_next (8 more). */
	int r = keep_in_vma(d, ks, rdebug, 48);
	uint64_t lm;
	if (r < 0 || !rd(d, rdebug + 8, &lm, 8))
		return r;
	/* struct link_map: l_addr, l_name, l_ld, l_next, l_prev. */
	for (int i = 0; lm && i < 4096 && r == 0; i++) {
		uint64_t f[5];
		if (!rd(d, lm, f, sizeof(f)))
			break;
		r = keep_in_vma(d, ks, lm, sizeof(f));
		if (r == 0 && f[1])
			r = keep_in_vma(d, ks, f[1], 256);   /* the name string */
		lm = f[3];
	}
	return r;
}

int dbg__core_minimal_keeps(struct dump *d, const struct core_thread *t, size_t nt,
			 const uint8_t *auxv, size_t auxv_len, struct keeps *ks)
{
	uint64_t stack_max = d->o->stack_max ? d->o->stack_max : DEFAULT_STACK_MAX;
	int r = 0;
	for (size_t i = 0; i < nt && r == 0; i++) {
		/* From below the red zone up, at most stack_max bytes. */
		uint64_t sp = t[i].regs.rsp - 128;
		r = keep_in_vma(d, ks, sp, stack_max);
		/* The thread's descriptor (struct pthread at the thread
		 * pointer): libthread_db reads it to name the thread. */
		if (r == 0 && t[i].regs.fs_base)
			r = keep_in_vma(d, ks, t[i].regs.fs_base, 4096);
	}
	uint64_t phdr = 0;
	for (size_t i = 0; i + 16 <= auxv_len; i += 16) {
		uint64_t k, val;
		memcpy(&k, auxv + i, 8);
		memcpy(&val, auxv + i + 8, 8);
		if (k == AT_PHDR)
			phdr = val;
	}
	const struct core_vma *exe = phdr ? dbg__core_vma_at(d, phdr) : NULL;
	for (size_t i = 0; i < d->nv && r == 0; i++) {
		const struct core_vma *v = &d->v[i];
		if (v->special && (v->prot & DBG_PROT_READ)) {
			r = keep_add(ks, v->start, v->end);
			continue;
		}
		/* The written data of every ELF (.data, .bss, .got, the
		 * dynamic linker's _rtld_global with the thread list): what
		 * gdb's libthread_db and the link map walk read. */
		if (v->has_file && !v->shared && (v->prot & DBG_PROT_WRITE) && v->anon_kb)
			r = keep_add(ks, v->start, v->end);
		/* ... and its .bss past the file's last page: the unnamed
		 * anonymous VMA right after it. */
		if (r == 0 && i > 0 && !v->has_file && !v->name[0] && v->anon_kb &&
		    (v->prot & DBG_PROT_WRITE) && d->v[i - 1].end == v->start &&
		    d->v[i - 1].has_file && (d->v[i - 1].prot & DBG_PROT_WRITE))
			r = keep_add(ks, v->start, v->end);
		if (r < 0 || !v->has_file || v->offset != 0 || !(v->prot & DBG_PROT_READ))
			continue;
		uint64_t dyn;
		r = keep_elf(d, ks, v, &dyn);
		if (r == 0 && dyn && exe && exe->has_file && !strcmp(exe->name, v->name))
			r = keep_link_map(d, ks, dyn);
	}
	keeps_normalize(ks);
	return r;
}
