/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg-server: what gdbserver answers with libthread_db and its own
 * reader of the dynamic linker's list:
 *   qGetTLSAddr:TID,OFFSET,LM        dbg_tls_addr()
 *   qXfer:libraries-svr4:read        the link map list from r_debug
 * (qXfer:osdata, the /proc tables, is osdata.c.)
 * Over the public API only (memory reads, registers, dbg_tls_addr).
 */
#include "svr4.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "pPID.TID", "TID" (hex), "-1" or "0": the tid, 0 for any, -1 bad. */
static pid_t parse_tid(const char **sp, pid_t own_pid)
{
	const char *p = *sp;
	uint64_t v;
	if (*p == 'p') {
		p++;
		if (rsp_parse_hex(&p, &v) < 0 || v != (uint64_t)own_pid || *p++ != '.')
			return -1;
	}
	if (!strncmp(p, "-1", 2)) {
		*sp = p + 2;
		return 0;
	}
	if (rsp_parse_hex(&p, &v) < 0 || v > 0x7fffffff)
		return -1;
	*sp = p;
	return (pid_t)v;
}

/* ---------------------------------------------------------- qGetTLSAddr */

/* `monitor set libthread-db-search-path`: gdbserver users turn its
 * thread_db (and with it qGetTLSAddr) off with a path where no
 * libthread_db is found (gdb.server/no-thread-db.exp). dbg-server needs
 * no libthread_db, but keeps that switch: TLS lookups are off while the
 * path names neither $pdir nor $sdir nor a directory holding
 * libthread_db.so.1. */
static bool tls_off;

void tls_search_path(const char *path)
{
	tls_off = false;
	if (!path[0])
		return; /* reset to the default, "$pdir:$sdir" */
	tls_off = true;
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s", path);
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char lib[4200];
		snprintf(lib, sizeof(lib), "%s/libthread_db.so.1", dir);
		if (!strcmp(dir, "$pdir") || !strcmp(dir, "$sdir") || access(lib, R_OK) == 0)
			tls_off = false;
	}
}

void tls_packet(struct server *s, const char *pkt, struct buf *out)
{
	/* qGetTLSAddr:thread-id,offset,lm */
	const char *p = pkt + strlen("qGetTLSAddr:");
	uint64_t off, lm;
	pid_t tid = s->p ? parse_tid(&p, s->pid) : -1;
	if (tid < 0 || *p++ != ',' || rsp_parse_hex(&p, &off) < 0 || *p++ != ',' ||
	    rsp_parse_hex(&p, &lm) < 0 || *p) {
		buf_printf(out, "E01");
		return;
	}
	if (tid == 0) {
		pid_t one;
		if (dbg_proc_threads(s->p, &one, 1) < 1) {
			buf_printf(out, "E01");
			return;
		}
		tid = one;
	}
	if (tls_off) {
		buf_printf(out, "E01");
		return;
	}
	uint64_t addr;
	int r = dbg_tls_addr(s->p, tid, lm, off, &addr);
	if (r < 0) {
		if (s->debug)
			fprintf(stderr, "qGetTLSAddr: %s (%s)\n", dbg_strerror(r),
				dbg_proc_errmsg(s->p));
		/* gdb only tells an error from an address. */
		buf_printf(out, "E%02x", r == -DBG_ERRNO_TLS_UNALLOCATED ? 2 : 1);
		return;
	}
	buf_printf(out, "%llx", (unsigned long long)addr);
}

/* ------------------------------------------------------ libraries-svr4 */

static int auxv_get(pid_t pid, uint64_t type, uint64_t *ret)
{
	char path[64];
	uint64_t a[512];
	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, a, sizeof(a));
	close(fd);
	for (ssize_t i = 0; i + 1 < n / 8; i += 2)
		if (a[i] == type) {
			*ret = a[i + 1];
			return 0;
		}
	return -ENOENT;
}

static bool read_u64(struct dbg_proc *p, uint64_t addr, uint64_t *ret)
{
	return dbg_mem_read(p, addr, ret, 8) == 8;
}

/* The executable's DT_DEBUG, r_debug's address (0 until the dynamic
 * linker has run). False when there is no DT_DEBUG (a static
 * executable). */
static bool r_debug_addr(struct server *s, uint64_t *ret)
{
	uint64_t phdr = 0, phnum = 0;
	if (auxv_get(s->pid, AT_PHDR, &phdr) < 0 || auxv_get(s->pid, AT_PHNUM, &phnum) < 0 ||
	    !phnum || phnum > 128)
		return false;
	Elf64_Phdr ph[128];
	ssize_t len = (ssize_t)(phnum * sizeof(ph[0]));
	if (dbg_mem_read(s->p, phdr, ph, (size_t)len) != len)
		return false;
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
	for (int i = 0; dyn && i < 1024; i++) {
		Elf64_Dyn d;
		if (dbg_mem_read(s->p, dyn + (uint64_t)i * sizeof(d), &d, sizeof(d)) != sizeof(d) ||
		    d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_DEBUG) {
			*ret = d.d_un.d_ptr;
			return true;
		}
	}
	return false;
}

static void read_string(struct dbg_proc *p, uint64_t addr, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = 0;
	while (addr && n + 1 < cap) {
		char chunk[256];
		size_t want = sizeof(chunk) < cap - 1 - n ? sizeof(chunk) : cap - 1 - n;
		ssize_t got = dbg_mem_read(p, addr + n, chunk, want);
		if (got <= 0)
			break;
		char *z = memchr(chunk, 0, (size_t)got);
		size_t take = z ? (size_t)(z - chunk) : (size_t)got;
		memcpy(out + n, chunk, take);
		n += take;
		if (z || (size_t)got < want)
			break;
	}
	out[n] = 0;
}

/* struct link_map's public part (<link.h>): l_addr, l_name, l_ld,
 * l_next, l_prev. struct r_debug: r_version (int), r_map; glibc 2.35's
 * r_debug_extended (r_version 2) adds r_next at 40, the next namespace's
 * (dlmopen) r_debug. */
enum { LM_ADDR = 0, LM_NAME = 8, LM_LD = 16, LM_NEXT = 24, LM_PREV = 32 };
enum { RD_VERSION = 0, RD_MAP = 8, RD_NEXT = 40 };

/* One namespace's entries from @lm on; each must point back at the one
 * before (a list changing under us, or a bad start, ends the walk). gdb
 * names the namespace by its r_debug's address (lmid). */
static void walk_maps(struct server *s, struct buf *doc, uint64_t lmid, uint64_t lm,
		      uint64_t prev)
{
	for (int guard = 0; lm && guard < 100000; guard++) {
		uint64_t f[5];
		if (dbg_mem_read(s->p, lm, f, sizeof(f)) != sizeof(f) || f[LM_PREV / 8] != prev)
			break;
		char name[4096];
		read_string(s->p, f[LM_NAME / 8], name, sizeof(name));
		if (name[0]) {
			buf_printf(doc, "<library name=\"");
			buf_xml(doc, name);
			buf_printf(doc, "\" lm=\"0x%llx\" l_addr=\"0x%llx\" l_ld=\"0x%llx\" "
					"lmid=\"0x%llx\"/>",
				   (unsigned long long)lm, (unsigned long long)f[LM_ADDR / 8],
				   (unsigned long long)f[LM_LD / 8], (unsigned long long)lmid);
		}
		prev = lm;
		lm = f[LM_NEXT / 8];
	}
}

int svr4_libraries(struct server *s, const char *annex, struct buf *doc)
{
	/* "start=ADDR;prev=ADDR;lmid=ADDR": gdb's incremental read of one
	 * namespace from a solib event on; other keys are skipped. */
	uint64_t start = 0, prev = 0, lmid = 0;
	for (const char *a = annex; *a;) {
		const char *eq = strchr(a, '=');
		const char *semi = strchr(a, ';');
		if (!eq || (semi && semi < eq))
			return -EINVAL;
		uint64_t *dst = NULL;
		if (eq - a == 5 && !strncmp(a, "start", 5))
			dst = &start;
		else if (eq - a == 4 && !strncmp(a, "prev", 4))
			dst = &prev;
		else if (eq - a == 4 && !strncmp(a, "lmid", 4))
			dst = &lmid;
		const char *v = eq + 1;
		uint64_t val;
		if (dst) {
			if (rsp_parse_hex(&v, &val) < 0 || (*v && *v != ';'))
				return -EINVAL;
			*dst = val;
		}
		a = semi ? semi + 1 : a + strlen(a);
	}
	buf_printf(doc, "<library-list-svr4 version=\"1.0\"");
	if (start) {
		buf_printf(doc, ">");
		walk_maps(s, doc, lmid, start, prev);
		buf_printf(doc, "</library-list-svr4>");
		return 0;
	}
	uint64_t rd;
	if (!r_debug_addr(s, &rd))
		return -ENOENT; /* no DT_DEBUG: a static executable */
	/* The executable heads the first namespace's list: main-lm. */
	bool first = true;
	for (int ns = 0; rd && ns < 256; ns++) {
		int32_t version = 0;
		uint64_t lm = 0;
		if (dbg_mem_read(s->p, rd + RD_VERSION, &version, 4) != 4 || version < 1 ||
		    !read_u64(s->p, rd + RD_MAP, &lm))
			break;
		prev = 0;
		if (first) {
			first = false;
			if (lm)
				buf_printf(doc, " main-lm=\"0x%llx\"", (unsigned long long)lm);
			buf_printf(doc, ">");
			prev = lm;
			if (lm && !read_u64(s->p, lm + LM_NEXT, &lm))
				break;
		}
		walk_maps(s, doc, rd, lm, prev);
		if (version < 2 || !read_u64(s->p, rd + RD_NEXT, &rd))
			break;
	}
	if (first)
		buf_printf(doc, ">");
	buf_printf(doc, "</library-list-svr4>");
	return 0;
}
