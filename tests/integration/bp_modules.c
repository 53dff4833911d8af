/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Module-load events: with dbg_bp_modules_enable() a dlopen() is reported
 * as DBG_EVENT_MODULES (r_state adding, then consistent); at the
 * consistent one the new library's function is found and a breakpoint
 * set in it, which then fires when the target calls it. Attached to a
 * running program (r_brk through DT_DEBUG) and spawned (stopped at its
 * exec, before the dynamic linker ran: through _dl_debug_state; the
 * start-up's own module events come first). A static program has none.
 */
#include "../harness.h"

static void load_and_hit(struct dbg_proc *p, struct inferior *inf, FILE *out, int in)
{
	char line[128];
	CHECK(write(in, "load\n", 5) == 5, "say load");
	struct dbg_event ev;
	bool adding = false;
	for (;;) {
		ev = wait_for(p, DBG_EVENT_MODULES, 10000);
		if (ev.status == 1)
			adding = true;
		if (ev.status == 0 && adding)
			break;
		OK(dbg_proc_resume_thread(p, ev.tid));
	}
	struct dbg_sym *sym;
	OK(dbg_sym_new(p, NULL, &sym));
	uint64_t f = 0;
	OK(dbg_sym_addr(sym, "bp_lib_func", &f));
	if (getenv("DBG_TEST_VERBOSE"))
		fprintf(stderr, "bp_lib_func at %#llx\n", (unsigned long long)f);
	dbg_sym_free(sym);
	struct dbg_bp *bp;
	OK(dbg_bp_insert(p, f, NULL, &bp));
	OK(dbg_proc_resume_thread(p, ev.tid));
	ev = wait_for(p, DBG_EVENT_BREAKPOINT, 10000);
	CHECK(ev.bp == bp && ev.addr == f, "the breakpoint in the loaded library");
	OK(dbg_proc_resume_thread(p, ev.tid));
	(void)inf;
	for (int i = 0; i < 20000; i++) {
		struct pollfd pfd = { .fd = fileno(out), .events = POLLIN };
		if (poll(&pfd, 1, 1) == 1)
			break;
		while (dbg_proc_wait(p, 0, &ev) == 0)
			if (ev.kind != DBG_EVENT_EXITED && ev.kind != DBG_EVENT_THREAD_EXIT)
				dbg_proc_resume_thread(p, ev.tid);
	}
	CHECK(fgets(line, sizeof(line), out) && !strcmp(line, "called 42\n"), "'%s'", line);
	OK(dbg_bp_remove(p, bp));
}

int main(void)
{
	char lib[4096];
	snprintf(lib, sizeof(lib), "%s/libbp_lib.so", INFERIOR_DIR);
	/* Attached: DT_DEBUG is filled in. */
	struct inferior inf;
	inferior_start(&inf, "bp_dlopen", lib, NULL);
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	OK(dbg_bp_modules_enable(p));
	OK(dbg_proc_resume(p));
	load_and_hit(p, &inf, inf.out, inf.in);
	dbg_proc_detach(p);
	inferior_say(&inf, "exit\n");
	inferior_kill(&inf);

	/* Spawned, stopped at the exec: the start-up reports too. */
	int o[2], i[2];
	CHECK(pipe2(o, O_CLOEXEC) == 0 && pipe2(i, O_CLOEXEC) == 0, "pipe");
	char path[4096];
	snprintf(path, sizeof(path), "%s/bp_dlopen", INFERIOR_DIR);
	char *argv[] = { path, lib, NULL };
	DBG_OPTS(dbg_spawn_opts, so, .stdin_fd = i[0], .stdout_fd = o[1]);
	struct dbg_proc *s;
	int r = dbg_proc_spawn(path, argv, &so, &s);
	if (r == -EPERM)
		skip_unless_ptrace();
	OK(r);
	close(o[1]);
	close(i[0]);
	OK(dbg_bp_modules_enable(s));
	OK(dbg_proc_resume(s));
	struct dbg_event ev = wait_for(s, DBG_EVENT_MODULES, 10000);
	OK(dbg_proc_resume_thread(s, ev.tid));
	FILE *out = fdopen(o[0], "r");
	setvbuf(out, NULL, _IONBF, 0);
	char line[64];
	for (int k = 0; k < 20000; k++) {
		struct pollfd pfd = { .fd = o[0], .events = POLLIN };
		if (poll(&pfd, 1, 1) == 1)
			break;
		while (dbg_proc_wait(s, 0, &ev) == 0)
			dbg_proc_resume_thread(s, ev.tid);
	}
	CHECK(fgets(line, sizeof(line), out) && !strcmp(line, "ready\n"), "spawned said '%s'", line);
	load_and_hit(s, NULL, out, i[1]);
	OK(dbg_proc_kill(s));
	dbg_proc_detach(s);
	fclose(out);
	close(i[1]);
	printf("bp_modules: dlopen reported, breakpoint in the new library hit (attached and spawned)\n");
	return 0;
}
