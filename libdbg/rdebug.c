/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Module-load events. The dynamic linker calls r_debug.r_brk (glibc's
 * _dl_debug_state, an empty function) before and after it changes the
 * list of loaded objects; a breakpoint there, internal to libdbg, is
 * reported as DBG_EVENT_MODULES with r_debug.r_state in event.status.
 * r_brk is found through the program's DT_DEBUG entry (filled in by the
 * dynamic linker once it has started), else, before that (a program
 * spawned and stopped at its exec), through the _dl_debug_state and
 * _r_debug symbols of the dynamic linker named by AT_BASE.
 */
#include "internal.h"
#include "bp-impl.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define R_BRK_OFF 16   /* struct r_debug: int r_version; r_map; r_brk; r_state */
#define R_STATE_OFF 24

static int read_auxv(struct dbg_proc *p, uint64_t *phdr, uint64_t *phnum, uint64_t *base)
{
	char path[64];
	uint64_t buf[512];
	snprintf(path, sizeof(path), "/proc/%d/auxv", p->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return -ESRCH;
	*phdr = *phnum = *base = 0;
	for (ssize_t i = 0; i + 1 < n / 8; i += 2) {
		if (buf[i] == AT_PHDR)
			*phdr = buf[i + 1];
		else if (buf[i] == AT_PHNUM)
			*phnum = buf[i + 1];
		else if (buf[i] == AT_BASE)
			*base = buf[i + 1];
	}
	return 0;
}

/* r_debug's address from the program's DT_DEBUG, or 0. */
static uint64_t dt_debug(struct dbg_proc *p, uint64_t phdr, uint64_t phnum)
{
	if (!phdr || !phnum || phnum > 64)
		return 0;
	Elf64_Phdr ph[64];
	if (dbg_mem_read(p, phdr, ph, phnum * sizeof(ph[0])) != (ssize_t)(phnum * sizeof(ph[0])))
		return 0;
	uint64_t bias = 0, dyn = 0;
	bool have_bias = false;
	for (uint64_t i = 0; i < phnum; i++)
		if (ph[i].p_type == PT_PHDR) {
			bias = phdr - ph[i].p_vaddr;
			have_bias = true;
		}
	for (uint64_t i = 0; i < phnum && have_bias; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = bias + ph[i].p_vaddr;
	if (!dyn)
		return 0;
	for (int i = 0; i < 512; i++) {
		Elf64_Dyn d;
		if (dbg_mem_read(p, dyn + i * sizeof(d), &d, sizeof(d)) != sizeof(d) ||
		    d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_DEBUG)
			return d.d_un.d_ptr;
	}
	return 0;
}

/* A symbol's value in the .dynsym/.symtab of the ELF file @path. */
static bool elf_symbol(const char *path, const char *name, uint64_t *ret)
{
	bool found = false;
	size_t size;
	const uint8_t *m = dbg__map_elf_file(path, &size);
	if (!m)
		return false;
	const Elf64_Ehdr *eh = (const void *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff > size || eh->e_shnum > (size - eh->e_shoff) / sizeof(Elf64_Shdr))
		goto out;
	const Elf64_Shdr *sh = (const void *)(m + eh->e_shoff);
	for (unsigned int i = 0; i < eh->e_shnum && !found; i++) {
		if (sh[i].sh_type != SHT_DYNSYM && sh[i].sh_type != SHT_SYMTAB)
			continue;
		if (sh[i].sh_link >= eh->e_shnum || sh[i].sh_offset > size ||
		    sh[i].sh_size > size - sh[i].sh_offset)
			continue;
		const Elf64_Shdr *str = &sh[sh[i].sh_link];
		if (str->sh_offset > size || str->sh_size > size - str->sh_offset)
			continue;
		const Elf64_Sym *sym = (const void *)(m + sh[i].sh_offset);
		size_t n = sh[i].sh_size / sizeof(*sym);
		for (size_t k = 0; k < n; k++) {
			if (sym[k].st_name >= str->sh_size)
				continue;
			const char *s = (const char *)m + str->sh_offset + sym[k].st_name;
			size_t left = str->sh_size - sym[k].st_name;
			if (strnlen(s, left) < left && !strcmp(s, name) && sym[k].st_value) {
				*ret = sym[k].st_value;
				found = true;
				break;
			}
		}
	}
out:
	munmap((void *)m, size);
	return found;
}

/* The dynamic linker's file, from the maps: the VMA at AT_BASE. */
static bool interp_path(struct dbg_proc *p, uint64_t base, char *path, size_t cap)
{
	const struct dbg_maps *m;
	if (dbg_proc_maps(p, &m) < 0)
		return false;
	const struct dbg_vma *v = dbg_maps_find(m, base);
	if (!v || !v->name[0] || v->name[0] != '/')
		return false;
	/* Through the target's root, as it sees the file. */
	snprintf(path, cap, "/proc/%d/root%s", p->pid, v->name);
	return true;
}

int dbg__rdebug_arm(struct dbg_proc *p)
{
	if (p->bp.rbrk)
		return 0;
	uint64_t phdr = 0, phnum = 0, base = 0;
	int r = read_auxv(p, &phdr, &phnum, &base);
	if (r < 0)
		return r;
	uint64_t rd = dt_debug(p, phdr, phnum), brk = 0;
	if (rd && dbg_mem_read(p, rd + R_BRK_OFF, &brk, 8) == 8 && brk) {
		p->bp.r_debug = rd;
	} else {
		char path[4200];
		uint64_t v;
		if (!base || !interp_path(p, base, path, sizeof(path)))
			return dbg__fail(p, -ENOENT, "process %d has no dynamic linker", p->pid);
		if (!elf_symbol(path, "_dl_debug_state", &v))
			return dbg__fail(p, -ENOENT, "no _dl_debug_state in %s", path);
		brk = base + v;
		if (elf_symbol(path, "_r_debug", &v))
			p->bp.r_debug = base + v;
	}
	struct dbg_bp *bp = dbg__bp_new(p, brk, 0, 0, true, &r);
	if (!bp)
		return dbg__fail(p, r, "cannot set the module breakpoint at %#llx",
				 (unsigned long long)brk);
	p->bp.rbrk = bp;
	dbg__log(p, DBG_LOG_DEBUG, "module events: r_brk at %#llx", (unsigned long long)brk);
	return 0;
}

enum dbg__disposition dbg__rdebug_hit(struct dbg_proc *p, struct dbg__thread *t,
				      struct dbg_bp *bp, struct dbg_event *ev)
{
	(void)t;
	bp->hits++;
	ev->kind = DBG_EVENT_MODULES;
	ev->bp = NULL;
	ev->addr = bp->addr;
	ev->status = 0;
	int32_t state;
	if (p->bp.r_debug && dbg_mem_read(p, p->bp.r_debug + R_STATE_OFF, &state, 4) == 4)
		ev->status = state;
	dbg__maps_invalidate(p);
	return D_REPORT;
}

int dbg_bp_modules_enable(struct dbg_proc *p)
{
	int r = dbg__enter(p);
	if (r < 0)
		return r;
	if (p->exited)
		return dbg__fail(p, -ESRCH, "process %d has exited", p->pid);
	p->bp.modules = true;
	return dbg__rdebug_arm(p);
}
