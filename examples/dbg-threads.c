/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg-threads PID: attach, print every thread with its name, state, rip
 * and rsp (and the VMA rip lies in), a summary of the memory map and what
 * the memory layer did, then detach and leave the target running.
 */
#define _GNU_SOURCE
#include <dbg.h>

#include "proc-names.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void log_err(enum dbg_log_level lvl, const char *msg, void *ctx)
{
	(void)ctx;
	if (lvl <= DBG_LOG_WARN)
		fprintf(stderr, "dbg-threads: %s\n", msg);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PID\n", argv[0]);
		return 2;
	}
	pid_t pid = atoi(argv[1]);
	struct dbg_proc *p;
	DBG_OPTS(dbg_attach_opts, opts, .log_fn = log_err);
	int r = dbg_proc_attach(pid, &opts, &p);
	if (r < 0) {
		fprintf(stderr, "dbg-threads: cannot attach to %d: %s\n", pid, dbg_strerror(r));
		return r == -ESRCH ? 3 : r == -EPERM ? 4 : 1;
	}
	const struct dbg_maps *maps;
	r = dbg_proc_maps(p, &maps);
	if (r < 0) {
		fprintf(stderr, "dbg-threads: %s\n", dbg_proc_errmsg(p));
		dbg_proc_detach(p);
		return 1;
	}
	pid_t tids[1024];
	int n = dbg_proc_threads(p, tids, 1024);
	printf("process %d: %d threads\n", pid, n);
	printf("  %-7s %-16s %-18s %-18s %s\n", "tid", "name", "rip", "rsp", "rip in");
	for (int i = 0; i < n && i < 1024; i++) {
		struct dbg_regs regs;
		char name[32];
		thread_name(pid, tids[i], name, sizeof(name));
		if (dbg_regs_get(p, tids[i], &regs) < 0) {
			printf("  %-7d %-16s (registers unavailable: %s)\n", tids[i], name,
			       dbg_proc_errmsg(p));
			continue;
		}
		const struct dbg_vma *v = dbg_maps_find(maps, regs.rip);
		/* The word at the top of the stack, read through the memory
		 * layer: proof that the stack is readable. */
		uint64_t top = 0;
		ssize_t got = dbg_mem_read(p, regs.rsp, &top, sizeof(top));
		printf("  %-7d %-16s 0x%016llx 0x%016llx %s+0x%llx%s\n", tids[i], name,
		       (unsigned long long)regs.rip, (unsigned long long)regs.rsp,
		       v && v->name[0] ? base(v->name) : "?",
		       v ? (unsigned long long)(regs.rip - v->start + v->offset) : 0ull,
		       got == 8 ? "" : "  (stack unreadable)");
	}
	uint64_t total = 0, anon = 0, file = 0;
	size_t nfile = 0, nanon = 0, nspecial = 0, nnone = 0;
	for (size_t i = 0; i < dbg_maps_count(maps); i++) {
		const struct dbg_vma *v = dbg_maps_get(maps, i);
		uint64_t sz = v->end - v->start;
		total += sz;
		if (!v->prot)
			nnone++;
		if (v->flags & DBG_VMA_SPECIAL)
			nspecial++;
		else if (v->name[0] == '/') {
			nfile++;
			file += sz;
		} else {
			nanon++;
			anon += sz;
		}
	}
	printf("memory map: %zu VMAs, %.1f MiB mapped: %zu file-backed (%.1f MiB), "
	       "%zu anonymous (%.1f MiB), %zu special ([heap], [stack], [vdso]...), %zu PROT_NONE\n",
	       dbg_maps_count(maps), total / 1048576.0, nfile, file / 1048576.0, nanon,
	       anon / 1048576.0, nspecial, nnone);
	struct dbg_mem_stats st;
	dbg_mem_get_stats(p, &st);
	printf("memory layer: %llu process_vm_readv, %llu /proc/PID/mem, %llu PEEKDATA calls; "
	       "cache %llu hits / %llu misses; kernel fast path: %s\n",
	       (unsigned long long)st.calls[DBG_MEM_PVR], (unsigned long long)st.calls[DBG_MEM_PROCMEM],
	       (unsigned long long)st.calls[DBG_MEM_PEEK], (unsigned long long)st.cache_hits,
	       (unsigned long long)st.cache_misses, st.kernel_fast_path ? "yes" : "no");
	dbg_proc_detach(p);
	printf("detached; %d keeps running\n", pid);
	return 0;
}
