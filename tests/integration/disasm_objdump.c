/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Disassembly against objdump -d (binutils), AT&T and Intel syntax, on
 * real code: the step_rec inferior's functions (-O0 and -O2) and libc's
 * (malloc, printf, the AVX memmove, qsort, ...), read from the running
 * target through dbg_disasm_read(). Every instruction boundary, length
 * and direct branch/call target must be objdump's; the symbol objdump
 * names for a target (<rec>, <leaf+0x4>, <printf@plt>) must be ours; the
 * mnemonics must agree after the spelling differences of the two tools
 * (AT&T size suffixes, "cs nopw" prefixes) are normalized. In the -O0
 * program a breakpoint sits on every instruction of rec and leaf (the
 * int3s are in the target, /proc/PID/mem shows them): the disassembly
 * must not see them.
 */
#include "step_common.h"

#include <ctype.h>

static size_t nunknown;

struct ref {
	uint64_t addr;
	int len;
	char mnem[64];
	bool has_target;
	uint64_t target;
	char sym[200];
};

/* Drop prefixes objdump spells as words, AT&T size suffixes. */
static void norm(const char *in, char *out, size_t cap)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", in);
	char *w = buf;
	for (;;) {
		static const char *pfx[] = { "cs ", "ds ", "es ", "ss ", "fs ", "gs ", "data16 ",
					     "notrack ", "bnd ", "lock ", "rex.w ", "rex ", "addr32 " };
		bool again = false;
		for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
			if (strncmp(w, pfx[i], strlen(pfx[i])) == 0) {
				w += strlen(pfx[i]);
				again = true;
			}
		if (!again)
			break;
	}
	w[strcspn(w, " \t")] = 0;
	snprintf(out, cap, "%s", w);
}

static bool mnem_same(const char *a, const char *b)
{
	char x[256], y[256];
	norm(a, x, sizeof(x));
	norm(b, y, sizeof(y));
	if (!strcmp(x, y))
		return true;
	/* 66 90: objdump's "xchg %ax,%ax", capstone's "nop". */
	if (!strcmp(x, "nop") && !strncmp(b, "xchg", 4) && strstr(b, "ax,"))
		return true;
	size_t lx = strlen(x), ly = strlen(y);
	/* AT&T: one tool writes the operand size, the other leaves it. */
	if (lx == ly + 1 && !strncmp(x, y, ly) && strchr("bwlq", x[lx - 1]))
		return true;
	if (ly == lx + 1 && !strncmp(x, y, lx) && strchr("bwlq", y[ly - 1]))
		return true;
	return false;
}

static size_t run_objdump(const char *path, uint64_t lo, uint64_t hi, bool intel, struct ref *refs,
			  size_t cap)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd),
		 "objdump -d -w %s --start-address=0x%llx --stop-address=0x%llx '%s' 2>/dev/null",
		 intel ? "-M intel" : "", (unsigned long long)lo, (unsigned long long)hi, path);
	FILE *f = popen(cmd, "r");
	CHECK(f, "popen objdump");
	char line[4096];
	size_t n = 0;
	while (fgets(line, sizeof(line), f) && n < cap) {
		line[strcspn(line, "\n")] = 0;
		char *p = line;
		while (*p == ' ')
			p++;
		char *end;
		unsigned long long a = strtoull(p, &end, 16);
		if (end == p || *end != ':' || end[1] != '\t')
			continue;
		char *bytes = end + 2, *text = strchr(bytes, '\t');
		struct ref *r = &refs[n];
		memset(r, 0, sizeof(*r));
		r->addr = a;
		int len = 0;
		for (char *b = bytes; b < (text ? text : bytes + strlen(bytes)); b++)
			if (isxdigit((unsigned char)b[0]) && isxdigit((unsigned char)b[1])) {
				len++;
				b++;
			}
		r->len = len;
		if (!text) { /* "(bad)" or a continuation */
			n++;
			continue;
		}
		text++;
		snprintf(r->mnem, sizeof(r->mnem), "%s", text);
		/* A direct target: the hex number before " <sym>". */
		char *lt = strchr(text, '<');
		if (lt && !strstr(text, "# ") && !strchr(text, '[') && !strchr(text, '(')) {
			char *q = lt - 1;
			while (q > text && *q == ' ')
				q--;
			while (q > text && isxdigit((unsigned char)q[-1]))
				q--;
			r->target = strtoull(q, NULL, 16);
			r->has_target = true;
			char *gt = strchr(lt, '>');
			if (gt)
				snprintf(r->sym, sizeof(r->sym), "%.*s", (int)(gt - lt + 1), lt);
		}
		n++;
	}
	pclose(f);
	return n;
}

static int compare_fn(struct stepper *s, struct dbg_disasm *d, bool intel, const char *name,
		      size_t *ninsn, size_t *nmnem_bad)
{
	uint64_t addr;
	if (dbg_sym_addr(s->sym, name, &addr) < 0)
		return -1;
	struct dbg_symbol sy;
	OK(dbg_sym_lookup(s->sym, addr, &sy));
	if (sy.size == 0 || sy.addr != addr)
		return -1;
	struct dbg_module m;
	OK(dbg_sym_module(s->sym, addr, &m));
	static struct ref refs[20000];
	static struct dbg_insn ins[20000];
	size_t nref = run_objdump(m.path, addr - m.bias, addr - m.bias + sy.size, intel, refs, 20000);
	CHECK(nref > 0, "objdump gave nothing for %s in %s", name, m.path);
	size_t n = 0;
	uint64_t at = addr;
	while (at < addr + sy.size && n < 20000) {
		int r = dbg_disasm_read(d, at, 64, ins + n);
		CHECK(r > 0, "dbg_disasm_read(%s+0x%llx) = %d: %s", name,
		      (unsigned long long)(at - addr), r, dbg_proc_errmsg(s->p));
		for (int i = 0; i < r && ins[n].addr < addr + sy.size; i++)
			at = ins[n].addr + ins[n].len, n++;
	}
	CHECK(n == nref, "%s (%s): %zu instructions, objdump %zu", name, intel ? "intel" : "att", n,
	      nref);
	for (size_t i = 0; i < n; i++) {
		struct dbg_insn *x = &ins[i];
		struct ref *y = &refs[i];
		CHECK(x->addr - m.bias == y->addr && x->len == y->len,
		      "%s+0x%llx: libdbg '%s' len %u, objdump at 0x%llx '%s' len %d", name,
		      (unsigned long long)(x->addr - addr), x->text, x->len,
		      (unsigned long long)y->addr, y->mnem, y->len);
		if (y->has_target) {
			CHECK(x->has_target && x->target - m.bias == y->target,
			      "%s+0x%llx: '%s' target %llx, objdump '%s'", name,
			      (unsigned long long)(x->addr - addr), x->text,
			      (unsigned long long)(x->target - m.bias), y->mnem);
			CHECK(x->kind == DBG_INSN_CALL || x->kind == DBG_INSN_JMP ||
				      x->kind == DBG_INSN_COND,
			      "%s: '%s' has a target but kind %s", name, x->text,
			      dbg_insn_kind_str(x->kind));
			/* objdump names targets from .symtab, we from the
			 * symbol tables sym reads (debuginfo too); compare
			 * when objdump had a name in the same function or a
			 * PLT name. */
			if (y->sym[0] && (strstr(y->sym, "@plt") || strstr(m.path, "step_rec")))
				CHECK(strstr(x->text, y->sym), "%s: '%s', objdump '%s'", name, x->text,
				      y->mnem);
		}
		char mx[256];
		norm(y->mnem, mx, sizeof(mx));
		if (!strncmp(mx, "call", 4))
			CHECK(x->kind == DBG_INSN_CALL, "%s: '%s' not a call", name, x->text);
		else if (!strncmp(mx, "ret", 3))
			CHECK(x->kind == DBG_INSN_RET, "%s: '%s' not a ret", name, x->text);
		else if (!strcmp(mx, "syscall"))
			CHECK(x->kind == DBG_INSN_SYSCALL, "%s: '%s' not a syscall", name, x->text);
		else if (!strncmp(mx, "jmp", 3))
			CHECK(x->kind == DBG_INSN_JMP, "%s: '%s' not a jmp", name, x->text);
		else if (mx[0] == 'j')
			CHECK(x->kind == DBG_INSN_COND, "%s: '%s' not conditional", name, x->text);
		if (!strcmp(x->mnemonic, "(unknown)")) {
			/* AVX-512BW/mask instructions capstone 4 cannot name;
			 * their length (checked above) comes from libdbg's
			 * VEX/EVEX length decoder. */
			nunknown++;
		} else if (!mnem_same(x->mnemonic, y->mnem)) {
			if (*nmnem_bad < 20)
				printf("  mnemonic: %s+0x%llx libdbg '%s' objdump '%s'\n", name,
				       (unsigned long long)(x->addr - addr), x->text, y->mnem);
			(*nmnem_bad)++;
		}
	}
	*ninsn += n;
	return 0;
}

/* A breakpoint on every instruction of rec and leaf. */
static void plant_breakpoints(struct stepper *s)
{
	struct dbg_disasm *d;
	OK(dbg_disasm_new(s->p, NULL, &d));
	const char *fn[] = { "rec", "leaf" };
	size_t n = 0;
	uint64_t first = 0;
	for (int f = 0; f < 2; f++) {
		uint64_t a;
		struct dbg_symbol sy;
		OK(dbg_sym_addr(s->sym, fn[f], &a));
		OK(dbg_sym_lookup(s->sym, a, &sy));
		struct dbg_insn in[64];
		int k = dbg_disasm_read(d, a, 64, in);
		CHECK(k > 0, "disasm %s", fn[f]);
		for (int i = 0; i < k && in[i].addr < a + sy.size; i++) {
			struct dbg_bp *bp;
			OK(dbg_bp_insert(s->p, in[i].addr, NULL, &bp));
			n++;
		}
		if (!first)
			first = a;
	}
	dbg_disasm_free(d);
	/* They are really there. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", dbg_proc_pid(s->p));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open %s", path);
	uint8_t b = 0;
	CHECK(pread(fd, &b, 1, (off_t)first) == 1 && b == 0xcc, "no int3 at rec: 0x%02x", b);
	close(fd);
	printf("%zu breakpoints planted in rec and leaf\n", n);
}

int main(void)
{
	if (access("/usr/bin/objdump", X_OK) != 0)
		skip("no /usr/bin/objdump (binutils, scripts/deps.sh)");
	ptrace_or_skip();
	static const char *fns[] = { "main", "rec", "leaf", "start_here", "loop_forever",
				     "malloc", "free", "printf", "qsort", "__libc_start_call_main", "__memmove_avx512_unaligned_erms", "__strchr_evex",
				     "__memcmp_evex_movbe",
				     "__memmove_avx_unaligned_erms", "__strlen_avx2",
				     "__memset_evex_unaligned_erms", "_IO_new_file_xsputn", "getpid",
				     "__pthread_create_2_1", "__vfprintf_internal" };
	const char *progs[] = { "step_rec_O0", "step_rec_O2" };
	size_t total = 0, bad = 0, nfn = 0;
	for (int pi = 0; pi < 2; pi++) {
		struct stepper s;
		stepper_start(&s, progs[pi], NULL);
		if (pi == 0)
			plant_breakpoints(&s);
		for (int intel = 0; intel < 2; intel++) {
			struct dbg_disasm *d;
			struct dbg_disasm_opts o = { .sz = sizeof(o), .sym = s.sym,
						     .syntax = intel ? DBG_DISASM_INTEL : DBG_DISASM_ATT };
			OK(dbg_disasm_new(s.p, &o, &d));
			for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
				if (pi == 1 && i >= 5) /* the program only */
					break; /* libc once is enough */
				size_t before = total;
				if (compare_fn(&s, d, intel, fns[i], &total, &bad) == 0) {
					nfn++;
					printf("%s %-30s %-5s %5zu instructions agree\n", progs[pi], fns[i],
					       intel ? "intel" : "att", total - before);
				} else {
					printf("%s %-30s not found, skipped\n", progs[pi], fns[i]);
				}
			}
			dbg_disasm_free(d);
		}
		stepper_end(&s);
	}
	printf("%zu functions, %zu instructions; %zu mnemonics spelled differently, %zu VEX/EVEX "
	       "instructions capstone 4 cannot name (lengths still objdump's)\n", nfn, total, bad, nunknown);
	CHECK(nfn >= 20, "too few functions compared");
	CHECK(bad * 200 <= total, "more than 0.5%% of the mnemonics differ");
	return 0;
}
