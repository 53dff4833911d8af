/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Split functions (issue 9, item 9): a C++ -O2 program blocked in the
 * .cold part of thrower(int), unstripped and stripped (its .symtab only in
 * the separate debuginfo). For each frame eu-stack -r names, with DWARF
 * and names only (DBG_SYM_NO_DWARF):
 *   - dbg_sym_lookup() gives eu-stack's symbol (_Z7throweri.cold for the
 *     cold part, not _Z7throweri), and the symbol holds the address;
 *   - the function dbg_sym_srclocs() gives for the machine code agrees;
 *   - dbg_sym_demangle(), where it demangles, gives eu-stack's name.
 * And an address in the padding after a function no symbol holds is
 * -ENOENT, never the function before it plus an offset past its end.
 */
#include "../harness.h"

#include <inttypes.h>

#define MAX_FRAMES 64

struct oracle {
	int n;
	uint64_t pc[MAX_FRAMES];
	char name[MAX_FRAMES][256];
};

/* eu-stack's frames of @pid's main thread: raw (-r) or demangled names. */
static void eu_stack(pid_t pid, bool raw, struct oracle *o)
{
	char cmd[128], line[1024];
	snprintf(cmd, sizeof(cmd), "eu-stack %s-p %d 2>&1", raw ? "-r " : "", pid);
	FILE *f = popen(cmd, "r");
	CHECK(f, "popen eu-stack");
	o->n = 0;
	while (fgets(line, sizeof(line), f)) {
		int idx;
		uint64_t pc;
		int used = 0;
		if (sscanf(line, "#%d %" SCNx64 " %n", &idx, &pc, &used) < 2 || o->n >= MAX_FRAMES)
			continue;
		line[strcspn(line, "\n")] = 0;
		o->pc[o->n] = pc;
		snprintf(o->name[o->n], sizeof(o->name[0]), "%s", used ? line + used : "");
		o->n++;
	}
	int rc = pclose(f);
	CHECK(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) != 127, "eu-stack is not installed");
	CHECK(o->n > 0, "eu-stack printed no frames of %d", pid);
}

static void check_binary(const char *bin)
{
	struct inferior inf;
	inferior_start(&inf, bin, NULL);
	/* ready is printed just before read(): wait until it sleeps there. */
	for (int i = 0; i < 200 && thread_state(inf.pid, inf.pid) != 'S'; i++)
		sleep_ms(5);
	sleep_ms(50);
	struct oracle raw, dem;
	eu_stack(inf.pid, true, &raw);
	eu_stack(inf.pid, false, &dem);
	CHECK(raw.n == dem.n, "eu-stack: %d and %d frames", raw.n, dem.n);
	bool cold_seen = false;
	for (int i = 0; i < raw.n; i++)
		cold_seen |= strcmp(raw.name[i], "_Z7throweri.cold") == 0;
	CHECK(cold_seen, "%s: eu-stack shows no frame in _Z7throweri.cold: is the inferior split?", bin);

	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	for (int mode = 0; mode < 2; mode++) {
		DBG_OPTS(dbg_sym_opts, so, .flags = mode ? DBG_SYM_NO_DWARF | DBG_SYM_NO_CACHE : 0);
		struct dbg_sym *sym;
		OK(dbg_sym_new(p, &so, &sym));
		struct dbg_unwinder *u;
		OK(dbg_unwind_new(p, sym, NULL, &u));
		struct dbg_frame fr[MAX_FRAMES];
		int n = dbg_unwind_thread(u, inf.pid, fr, MAX_FRAMES);
		CHECK(n == raw.n, "%s: %d frames, eu-stack %d", bin, n, raw.n);
		int cold = 0;
		for (int i = 0; i < n; i++) {
			CHECK(fr[i].pc == raw.pc[i], "%s frame #%d: pc %#" PRIx64 ", eu-stack %#" PRIx64, bin, i,
			      fr[i].pc, raw.pc[i]);
			uint64_t at = fr[i].pc - (fr[i].flags & DBG_FRAME_ACTIVATION ? 0 : 1);
			struct dbg_symbol s;
			int r = dbg_sym_lookup(sym, at, &s);
			if (!raw.name[i][0]) {
				CHECK(r == -ENOENT || r == 0, "lookup = %d", r);
				continue;
			}
			/* eu-stack prints a versioned name for a .dynsym-only symbol. */
			const char *want = raw.name[i];
			CHECK(r == 0, "%s mode %d frame #%d: no symbol, eu-stack says %s", bin, mode, i, want);
			CHECK(strncmp(s.name, want, strlen(s.name)) == 0 &&
			      (want[strlen(s.name)] == 0 || want[strlen(s.name)] == '@'),
			      "%s mode %d frame #%d: symbol %s, eu-stack %s", bin, mode, i, s.name, want);
			CHECK(s.addr + s.offset == at && (s.size == 0 || s.offset < s.size),
			      "%s frame #%d: %s+%#" PRIx64 " is past its size %#" PRIx64, bin, i, s.name,
			      s.offset, s.size);
			struct dbg_srcloc locs[8];
			int nl = dbg_sym_srclocs(sym, at, locs, 8);
			CHECK(nl >= 1 && nl <= 8, "srclocs = %d", nl);
			if (mode == 1)
				CHECK(nl == 1 && !locs[0].file, "names only: %d entries, file %s", nl,
				      locs[0].file ? locs[0].file : "-");
			/* The function that holds the code: the last entry. */
			const char *fn = locs[nl - 1].function;
			bool ours = strstr(s.name, "thrower") || strstr(s.name, "block_here");
			if (ours)
				CHECK(fn && strcmp(fn, s.name) == 0,
				      "%s mode %d frame #%d: srclocs names %s, the symbol is %s", bin, mode, i,
				      fn ? fn : "??", s.name);
			cold += strcmp(s.name, "_Z7throweri.cold") == 0;
			char d[512];
			int dl = dbg_sym_demangle(s.name, d, sizeof(d));
			if (dl >= 0 && ours)
				CHECK(strcmp(d, dem.name[i]) == 0, "demangled %s, eu-stack %s", d, dem.name[i]);
		}
		CHECK(cold == 1, "%s mode %d: %d frames in _Z7throweri.cold", bin, mode, cold);

		/* The padding after thrower's hot part: no symbol holds it. */
		uint64_t hot;
		OK(dbg_sym_addr(sym, "_Z7throweri", &hot));
		struct dbg_symbol hs, ps;
		OK(dbg_sym_lookup(sym, hot, &hs));
		CHECK(hs.addr == hot && hs.size > 0, "thrower at %#" PRIx64 " size %" PRIu64, hs.addr, hs.size);
		uint64_t pad = hot + hs.size;
		if (pad % 16) {
			int r = dbg_sym_lookup(sym, pad, &ps);
			CHECK(r == -ENOENT || (r == 0 && ps.addr <= pad && pad - ps.addr < ps.size),
			      "%#" PRIx64 " (after thrower's %" PRIu64 " bytes): %d %s+%#" PRIx64, pad,
			      hs.size, r, r == 0 ? ps.name : "", r == 0 ? ps.offset : 0);
		}
		dbg_unwind_free(u);
		dbg_sym_free(sym);
	}
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("%s: ok\n", bin);
}

int main(void)
{
	skip_unless_ptrace();
	check_binary("cold_O2");
	check_binary("cold_stripped");
	return 0;
}
