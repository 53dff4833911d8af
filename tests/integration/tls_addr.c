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
 *   of the process, NULL.
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

int main(void)
{
	run("tls_target", "tls_target", true);
	run("tls_static", "tls_static", false);
	run("tls_static_stripped", "tls_static", false);
	return 0;
}
