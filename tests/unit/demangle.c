/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg_sym_demangle(): known C++ and Rust names (legacy and v0, GCC
 * clones), snprintf-style truncation, refusals; every _Z symbol of
 * libstdc++.so.6 against libstdc++'s own __cxa_demangle (what eu-stack
 * prints), from four threads at once; then random, mutated and truncated
 * names, which must be refused or demangled, never crash (the sanitizer
 * build runs this under ASan and UBSan).
 */
#include "../harness.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>

static void expect(const char *mangled, const char *want)
{
	char buf[512];
	int n = dbg_sym_demangle(mangled, buf, sizeof(buf));
	CHECK(n == (int)strlen(want) && !strcmp(buf, want), "%s: %d '%s', want '%s'", mangled, n,
	      n >= 0 ? buf : "", want);
}

static void expect_refused(const char *name)
{
	char buf[64] = "untouched";
	int n = dbg_sym_demangle(name, buf, sizeof(buf));
	CHECK(n == -EINVAL, "'%s': %d '%s', want -EINVAL", name ? name : "(null)", n, buf);
}

/* The _Z symbols of libstdc++.so.6's .dynsym. */
static char **names;
static size_t nnames;
static char *(*cxa_demangle)(const char *, char *, size_t *, int *);

static void load_names(const char *path)
{
	elf_version(EV_CURRENT);
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	CHECK(e, "elf_begin %s", path);
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		names = calloc(n, sizeof(*names));
		CHECK(names, "calloc");
		for (size_t i = 0; i < n; i++) {
			GElf_Sym s;
			const char *nm;
			if (gelf_getsym(d, (int)i, &s) && (nm = elf_strptr(e, sh.sh_link, s.st_name)) &&
			    nm[0] == '_' && nm[1] == 'Z')
				names[nnames++] = strdup(nm);
		}
	}
	elf_end(e);
	close(fd);
}

/* Every name: ours equals __cxa_demangle's; returns how many matched. */
static void *compare_all(void *arg)
{
	(void)arg;
	char buf[4096];
	for (size_t i = 0; i < nnames; i++) {
		int st;
		char *want = cxa_demangle(names[i], NULL, NULL, &st);
		int n = dbg_sym_demangle(names[i], buf, sizeof(buf));
		if (!want) {
			CHECK(n == -EINVAL, "%s: __cxa_demangle refuses it, we give '%s'", names[i], buf);
			continue;
		}
		CHECK(n == (int)strlen(want) && !strcmp(buf, want), "%s:\n  ours '%s'\n  __cxa_demangle '%s'",
		      names[i], n >= 0 ? buf : "(refused)", want);
		free(want);
	}
	return NULL;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Demangle @s (refused or not) and check the result is a string of the
 * length returned. */
static void survive(const char *s)
{
	char small[8], buf[1024];
	int n = dbg_sym_demangle(s, buf, sizeof(buf));
	CHECK(n == -EINVAL || (n > 0 && strlen(buf) == ((size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1)),
	      "'%s': %d", s, n);
	int m = dbg_sym_demangle(s, small, sizeof(small));
	CHECK(m == n, "'%s': %d with a small buffer, %d with a big one", s, m, n);
	CHECK(m < 0 || strlen(small) == ((size_t)m < sizeof(small) ? (size_t)m : sizeof(small) - 1), "small");
	CHECK(dbg_sym_demangle(s, NULL, 0) == n, "'%s': counting only", s);
}

int main(void)
{
	/* C++, as eu-stack and c++filt print it. */
	expect("_Z7throweri", "thrower(int)");
	expect("_Z7throweri.cold", "thrower(int) [clone .cold]");
	expect("_ZN2ns1C3getEv.constprop.0.isra.0", "ns::C::get() [clone .constprop.0] [clone .isra.0]");
	expect("_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back(int const&)");
	expect("_ZNKSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE4sizeEv",
	       "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::size() const");
	expect("_ZZ4mainENKUlvE_clEv", "main::{lambda()#1}::operator()() const");
	expect("_ZTV9Exception", "vtable for Exception");
	/* Rust legacy: Itanium mangling, hash kept, escapes as they are
	 * (what eu-stack prints). */
	expect("_ZN10rusttarget7recurse17h0123456789abcdefE", "rusttarget::recurse::h0123456789abcdef");
	expect("_ZN1t10S$LT$T$GT$3get17he1b8202be2fb68baE", "t::S$LT$T$GT$::get::he1b8202be2fb68ba");
	/* Rust v0 (rustc -C symbol-mangling-version=v0). */
	expect("_RNvCs6Bq21TOhnQv_1t7recurse", "t[4cea6422a110c80d]::recurse");
	expect("_RNvMCs6Bq21TOhnQv_1tINtB2_1ShE3getB2_", "<t[4cea6422a110c80d]::S<u8>>::get");

	/* Not mangled, or not a name. */
	expect_refused(NULL);
	expect_refused("");
	expect_refused("main");
	expect_refused("_start");
	expect_refused("_Z");
	expect_refused("_R");
	expect_refused("_Zfoo");
	expect_refused("_RNv");
	expect_refused("__libc_start_call_main");
	char b1[4];
	CHECK(dbg_sym_demangle("_Z1fv", NULL, 4) == -EINVAL, "NULL buffer with a capacity");

	/* snprintf semantics: the whole length, the buffer cut and ended. */
	char cut[8];
	memset(cut, 'x', sizeof(cut));
	CHECK(dbg_sym_demangle("_Z7throweri", cut, sizeof(cut)) == 12 && !strcmp(cut, "thrower"), "cut: '%.8s'", cut);
	CHECK(dbg_sym_demangle("_Z7throweri", b1, 1) == 12 && b1[0] == 0, "cap 1");
	CHECK(dbg_sym_demangle("_Z7throweri", NULL, 0) == 12, "count only");

	/* Names longer than the limit are refused, a long nest below it is
	 * demangled. */
	size_t big = 1 << 16;
	char *s = malloc(big + 8);
	CHECK(s, "malloc");
	memset(s, 'P', big);
	memcpy(s, "_Z1fP", 5);
	memcpy(s + big - 1, "i", 2);
	expect_refused(s);
	memcpy(s + 3000, "i", 2);
	survive(s);

	/* The oracle: libstdc++'s own demangler, on libstdc++'s names. */
	void *h = dlopen("libstdc++.so.6", RTLD_NOW);
	CHECK(h, "dlopen libstdc++.so.6: %s", dlerror());
	*(void **)&cxa_demangle = dlsym(h, "__cxa_demangle");
	CHECK(cxa_demangle, "no __cxa_demangle");
	Dl_info info;
	CHECK(dladdr((void *)cxa_demangle, &info) && info.dli_fname, "dladdr");
	load_names(info.dli_fname);
	CHECK(nnames > 3000, "only %zu _Z names in %s", nnames, info.dli_fname);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&th[i], NULL, compare_all, NULL) == 0, "pthread_create");
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	printf("ok: %zu names of %s as __cxa_demangle prints them, 4 threads at once\n", nnames,
	       info.dli_fname);

	/* Garbage: random bytes after each prefix, every truncation and
	 * random byte changes of real names. */
	static const char *const prefixes[] = { "_Z", "_ZN", "_R", "_RN", "_ZL", "_ZZ" };
	static const char alphabet[] = "0123456789_ENSZIJLRCDTSvbcdfijlmstxyPKVRVOMFXYBAHGhqpnseu$.CsNvNtMIBQ";
	size_t rounds = 0;
	for (int i = 0; i < 300000; i++) {
		char g[200];
		const char *p = prefixes[rnd() % 6];
		size_t len = strlen(p), n = 1 + rnd() % 150;
		memcpy(g, p, len);
		for (size_t k = 0; k < n; k++)
			g[len + k] = (i & 1) ? (char)(1 + rnd() % 255) : alphabet[rnd() % (sizeof(alphabet) - 1)];
		g[len + n] = 0;
		survive(g);
		rounds++;
	}
	static const char *const v0[] = {
		"_RNvCs6Bq21TOhnQv_1t7recurse", "_RNvMCs6Bq21TOhnQv_1tINtB2_1ShE3getB2_",
		"_RINvNtC3std3mem8align_ofjdE", "_RNvNvMs1_NtNtCs9ltgdHTiPiY_4core3ptr8non_nullINtB8_7NonNullReE3new16precondition_check",
		"_RNCINkXs25_NgCsbmNqQUJIY6D_4core5sliceINyB9_4IterhENuNgNoBb_4iter8iterator8Iterator9rpositionNCNgNpB9_6memchr7memrchrs_0E0Bb_",
	};
	for (size_t i = 0; i < nnames + 5 * 200; i++) {
		const char *name = i < nnames ? names[i] : v0[(i - nnames) % 5];
		char g[4200];
		size_t len = strlen(name);
		if (len >= sizeof(g) - 1 || len < 3)
			continue;
		for (size_t cut_at = 2; i % 7 == 0 && cut_at < len; cut_at++) {
			memcpy(g, name, cut_at);
			g[cut_at] = 0;
			survive(g);
			rounds++;
		}
		memcpy(g, name, len + 1);
		for (int k = 0; k < 16; k++) {
			g[2 + rnd() % (len - 2)] = alphabet[rnd() % (sizeof(alphabet) - 1)];
			survive(g);
			rounds++;
		}
	}
	printf("ok: %zu random, truncated and mutated names refused or demangled\n", rounds);
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(s);
	dlclose(h);
	return 0;
}
