/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Symbol demangling over libiberty (Debian's libiberty-dev, the GNU
 * demangler binutils and gdb use, the same cp-demangle.c that libstdc++'s
 * __cxa_demangle is built from), through its allocation-free callback
 * entry points:
 *
 *   _Z...  cplus_demangle_v3_callback(DMGL_PARAMS | DMGL_TYPES): the
 *          options __cxa_demangle uses, so names print as eu-stack prints
 *          them. Rust's legacy mangling is Itanium C++ mangling, so
 *          _ZN10rusttarget7recurse17h0123456789abcdefE gives
 *          "rusttarget::recurse::h0123456789abcdef" (hash kept, $LT$-style
 *          escapes left as they are), as with eu-stack and c++filt -s gnu-v3.
 *          GCC's clones keep their suffix: "thrower(int) [clone .cold]".
 *   _R...  rust_demangle_callback(DMGL_VERBOSE): Rust v0, with crate
 *          disambiguators, as rustc-demangle's default format prints it
 *          (eu-stack prints these raw).
 *
 * Thread safety: neither entry point touches global state (the global
 * demangling style is read only by cplus_demangle(), not used here), and
 * each call keeps its state on the caller's stack. The C++ demangler
 * sizes that state by the length of the name (about 80 bytes of stack
 * per input byte) and both bound their recursion; names longer than
 * DEMANGLE_MAX are refused, so that a target-controlled name cannot
 * overflow a small thread stack. Garbage is refused, never aborted on:
 * tests/unit/demangle.c fuzzes it.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <dbg/sym.h>

#include <libiberty/demangle.h>

/* Longest name demangled, in bytes (real C++ names are rarely above a
 * few hundred; a few KiB covers deep template nests). */
#define DEMANGLE_MAX 4096

struct out {
	char *buf;
	size_t cap;
	size_t len; /* of the whole output, as if @buf had no end */
};

static void sink(const char *s, size_t n, void *opaque)
{
	struct out *o = opaque;
	if (n == 0) /* libiberty may pass (NULL, 0) */
		return;
	if (o->len < o->cap) {
		size_t room = o->cap - 1 - o->len; /* keep one byte for the NUL */
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

int dbg_sym_demangle(const char *name, char *buf, size_t cap)
{
	if (!name || (!buf && cap > 0))
		return -EINVAL;
	size_t len = strnlen(name, DEMANGLE_MAX + 1);
	if (len < 3 || len > DEMANGLE_MAX || name[0] != '_')
		return -EINVAL;
	struct out o = { .buf = buf, .cap = cap };
	int ok;
	if (name[1] == 'Z')
		ok = cplus_demangle_v3_callback(name, DMGL_PARAMS | DMGL_TYPES, sink, &o);
	else if (name[1] == 'R')
		ok = rust_demangle_callback(name, DMGL_VERBOSE, sink, &o);
	else
		return -EINVAL;
	if (!ok || o.len == 0 || o.len > (size_t)INT_MAX) {
		if (cap > 0)
			buf[0] = 0;
		return -EINVAL;
	}
	if (cap > 0)
		buf[o.len < cap ? o.len : cap - 1] = 0;
	return (int)o.len;
}
