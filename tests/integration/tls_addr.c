/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg_tls_addr() against the addresses the threads of
 * tests/inferiors/tls_target.c print of their own copies (&exe_tls,
 * &exe_tls_bss, &lib_tls), with each variable's offset in its module's
 * TLS block from the symbol table (nm: an STT_TLS symbol's value is that
 * offset):
 * - the dynamically linked program: the executable's variables with
 *   link_map 0 (module 1), the dlopen()ed library's through its link map
 *   (what dlinfo(RTLD_DI_LINKMAP) gave), in every thread;
 * - the thread that never touched the library: -DBG_ERRNO_TLS_UNALLOCATED;
 * - the program built static (descriptors from its .symtab) and the
 *   same stripped (no descriptors: the PT_TLS fallback), link_map 0;
 * - a link map whose TLS id is 0 (-ENOENT), a running thread, a tid not
 *   of the process, NULL;
 * - tests/inferiors/tls_reuse.c: a library dlclose()d and another
 *   dlopen()ed into its TLS id: unallocated in the thread whose DTV still
 *   holds the old block (the slotinfo generation check), found in the
 *   thread that touched it; initial-exec TLS of a dlopen()ed library in
 *   both threads, whose DTVs do not have it (l_tls_offset).
 */
#include "../harness.h"

#define NT 4 /* main + 3 threads */

static uint64_t tls_offset(const char *file, const char *sym)
{
	char cmd[8192], line[512];
	snprintf(cmd, sizeof(cmd), "nm '%s'", file);
	FILE *f = popen(cmd, "r");
	CHECK(f, "popen nm");
	uint64_t v = UINT64_MAX;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char type, name[256];
		if (sscanf(line, "%llx %c %255s", &a, &type, name) == 3 && !strcmp(name, sym))
			v = a;
	}
	pclose(f);
	CHECK(v != UINT64_MAX, "no %s in %s (nm)", sym, file);
	return v;
}

struct thr {
	pid_t tid;
	uint64_t exe, bss, lib;
};

static void run(const char *name, const char *symfile, bool dynamic)
{
	char path[4096], sympath[4096], lib[4096];
	snprintf(path, sizeof(path), "%s/%s", INFERIOR_DIR, name);
	snprintf(sympath, sizeof(sympath), "%s/%s", INFERIOR_DIR, symfile);
	snprintf(lib, sizeof(lib), "%s/libtls_lib.so", INFERIOR_DIR);
	uint64_t off_exe = tls_offset(sympath, "exe_tls");
	uint64_t off_bss = tls_offset(sympath, "exe_tls_bss");
	uint64_t off_lib = dynamic ? tls_offset(lib, "lib_tls") : 0;

	struct inferior inf;
	inferior_start(&inf, path, NULL);
	struct thr t[NT];
	char line[256];
	for (int k = 0; k < NT; k++) {
		unsigned long long e, b, l;
		inferior_line(&inf, line, sizeof(line));
		CHECK(sscanf(line, "thr %d %llx %llx %llx", &t[k].tid, &e, &b, &l) == 4, "'%s'", line);
		t[k].exe = e;
		t[k].bss = b;
		t[k].lib = l;
	}
	unsigned long long lm;
	CHECK(sscanf(inferior_line(&inf, line, sizeof(line)), "lm %llx", &lm) == 1, "'%s'", line);
	CHECK(!strcmp(inferior_line(&inf, line, sizeof(line)), "end"), "'%s'", line);

	struct dbg_proc *p = NULL;
	int r = dbg_proc_attach(inf.pid, NULL, &p);
	if (r == -EPERM)
		skip("ptrace not permitted");
	OK(r);
	for (int k = 0; k < NT; k++) {
		uint64_t a = 0;
		OK(dbg_tls_addr(p, t[k].tid, 0, off_exe, &a));
		CHECK(a == t[k].exe, "%s thread %d: exe_tls at %#llx, the thread says %#llx", name,
		      t[k].tid, (unsigned long long)a, (unsigned long long)t[k].exe);
		OK(dbg_tls_addr(p, t[k].tid, 0, off_bss, &a));
		CHECK(a == t[k].bss, "%s thread %d: exe_tls_bss at %#llx, the thread says %#llx",
		      name, t[k].tid, (unsigned long long)a, (unsigned long long)t[k].bss);
		if (!dynamic)
			continue;
		a = 0;
		r = dbg_tls_addr(p, t[k].tid, lm, off_lib, &a);
		if (t[k].lib) {
			CHECK(r == 0, "%s thread %d: lib_tls: %s (%s)", name, t[k].tid, dbg_strerror(r),
			      dbg_proc_errmsg(p));
			CHECK(a == t[k].lib, "%s thread %d: lib_tls at %#llx, the thread says %#llx",
			      name, t[k].tid, (unsigned long long)a, (unsigned long long)t[k].lib);
		} else {
			CHECK(r == -DBG_ERRNO_TLS_UNALLOCATED && a == 0,
			      "%s thread %d never touched lib_tls: %d (%s), %#llx", name, t[k].tid, r,
			      dbg_proc_errmsg(p), (unsigned long long)a);
		}
	}
	uint64_t a = 0;
	CHECK(dbg_tls_addr(p, t[0].tid, 0, 0, NULL) == -EINVAL, "NULL ret_addr");
	CHECK(dbg_tls_addr(p, 1, 0, 0, &a) == -ENOENT, "a tid not ours");
	if (dynamic) {
		/* A link map whose TLS id reads 0 (a module without TLS):
		 * zeros written into the main thread's unused stack. */
		uint8_t zero[2048] = { 0 };
		struct dbg_regs regs;
		OK(dbg_regs_get(p, t[0].tid, &regs));
		uint64_t scratch = (regs.rsp - 8192) & ~15ull;
		OK(dbg_mem_write(p, scratch, zero, sizeof(zero)));
		r = dbg_tls_addr(p, t[0].tid, scratch, off_lib, &a);
		CHECK(r == -ENOENT, "a link map with TLS id 0: %d (%s)", r, dbg_proc_errmsg(p));
	}
	OK(dbg_proc_resume_thread(p, t[1].tid));
	r = dbg_tls_addr(p, t[1].tid, 0, off_exe, &a);
	CHECK(r == -DBG_ERRNO_RUNNING, "a running thread: %d", r);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("%s: %d threads, exe_tls/exe_tls_bss%s as the threads see them\n", name, NT,
	       dynamic ? ", lib_tls (and unallocated in the thread that never used it)" : "");
}

/* tls_reuse: a TLS id freed and taken again, and initial-exec TLS in a
 * dlopen()ed library. */
static void run_reuse(void)
{
	char lib2[4096], ielib[4096];
	snprintf(lib2, sizeof(lib2), "%s/libtls_lib2.so", INFERIOR_DIR);
	snprintf(ielib, sizeof(ielib), "%s/libtls_ie.so", INFERIOR_DIR);
	uint64_t off_lib = tls_offset(lib2, "lib_tls"), off_ie = tls_offset(ielib, "ie_tls");
	struct inferior inf;
	inferior_start(&inf, "tls_reuse", NULL);
	char line[256];
	unsigned long long id1, id2, lm2, lmie;
	CHECK(sscanf(inferior_line(&inf, line, sizeof(line)), "modids %llu %llu", &id1, &id2) == 2,
	      "'%s'", line);
	CHECK(sscanf(inferior_line(&inf, line, sizeof(line)), "lm %llx %llx", &lm2, &lmie) == 2,
	      "'%s'", line);
	struct thr t[2];
	for (int k = 0; k < 2; k++) {
		unsigned long long l, i;
		CHECK(sscanf(inferior_line(&inf, line, sizeof(line)), "thr %d %llx %llx", &t[k].tid, &l,
			     &i) == 3, "'%s'", line);
		t[k].lib = l;
		t[k].exe = i; /* the ie_tls address */
	}
	CHECK(!strcmp(inferior_line(&inf, line, sizeof(line)), "end"), "'%s'", line);
	CHECK(id1 == id2, "libtls_lib2.so did not take libtls_lib.so's TLS id (%llu, %llu): the "
	      "stale DTV entry is not exercised", id1, id2);
	struct dbg_proc *p = NULL;
	int r = dbg_proc_attach(inf.pid, NULL, &p);
	if (r == -EPERM)
		skip("ptrace not permitted");
	OK(r);
	uint64_t a = 0;
	OK(dbg_tls_addr(p, t[0].tid, lm2, off_lib, &a));
	CHECK(a == t[0].lib, "main's lib_tls of libtls_lib2.so at %#llx, it says %#llx",
	      (unsigned long long)a, (unsigned long long)t[0].lib);
	a = 0;
	r = dbg_tls_addr(p, t[1].tid, lm2, off_lib, &a);
	CHECK(r == -DBG_ERRNO_TLS_UNALLOCATED, "the thread's DTV entry for TLS id %llu is the closed "
	      "library's (%#llx): %d (%s), %#llx", id2, (unsigned long long)t[1].lib, r,
	      dbg_proc_errmsg(p), (unsigned long long)a);
	for (int k = 0; k < 2; k++) {
		OK(dbg_tls_addr(p, t[k].tid, lmie, off_ie, &a));
		CHECK(a == t[k].exe, "thread %d: initial-exec ie_tls at %#llx, it says %#llx", t[k].tid,
		      (unsigned long long)a, (unsigned long long)t[k].exe);
	}
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("tls_reuse: a reused TLS id is unallocated in the thread whose DTV predates it; "
	       "initial-exec TLS of a dlopen()ed library found in both threads\n");
}

int main(void)
{
	run_reuse();
	run("tls_target", "tls_target", true);
	run("tls_static", "tls_static", false);
	run("tls_static_stripped", "tls_static", false);
	return 0;
}
