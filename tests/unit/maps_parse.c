/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The maps parser: every name form the kernel writes, and garbage. */
#include "../harness.h"

static const char good[] =
	"55d4c0a00000-55d4c0a02000 r--p 00000000 fe:01 1234567                    /usr/bin/my prog\n"
	"55d4c0a02000-55d4c0a03000 r-xp 00002000 fe:01 1234567                    /usr/bin/my prog\n"
	"55d4c1000000-55d4c1021000 rw-p 00000000 00:00 0                          [heap]\n"
	"7f0000000000-7f0000001000 ---p 00000000 00:00 0 \n"
	"7f0000001000-7f0000002000 rw-s 00000000 00:05 99                         /memfd:x (deleted)\n"
	"7f0000002000-7f0000003000 rw-p 00000000 00:00 0                          [anon:my name]\n"
	"7f0000003000-7f0000004000 r--p 00001000 103:02 7                         /tmp/gone (deleted)\n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
	"7ffd001fe000-7ffd00200000 r-xp 00000000 00:00 0                          [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static void expect_bad(const char *text, const char *why)
{
	struct dbg_maps *m = (struct dbg_maps *)0x1;
	int r = dbg_maps_parse(text, strlen(text), &m);
	CHECK(r == -DBG_ERRNO_PARSE, "%s: parse = %d", why, r);
	CHECK(m == (struct dbg_maps *)0x1, "%s: output written on failure", why);
}

int main(void)
{
	struct dbg_maps *m;
	OK(dbg_maps_parse(good, strlen(good), &m));
	CHECK(dbg_maps_count(m) == 10, "count %zu", dbg_maps_count(m));
	const struct dbg_vma *v = dbg_maps_get(m, 0);
	CHECK(v->start == 0x55d4c0a00000 && v->end == 0x55d4c0a02000, "range");
	CHECK(!strcmp(v->name, "/usr/bin/my prog"), "name with a space: '%s'", v->name);
	CHECK(v->prot == DBG_PROT_READ && !(v->flags & DBG_VMA_SHARED), "prot");
	CHECK(v->dev_major == 0xfe && v->dev_minor == 1 && v->inode == 1234567, "dev/inode");
	v = dbg_maps_get(m, 1);
	CHECK(v->offset == 0x2000 && v->prot == (DBG_PROT_READ | DBG_PROT_EXEC), "offset, r-x");
	v = dbg_maps_get(m, 2);
	CHECK(!strcmp(v->name, "[heap]") && (v->flags & DBG_VMA_SPECIAL), "heap");
	v = dbg_maps_get(m, 3);
	CHECK(v->prot == 0 && !strcmp(v->name, ""), "guard: prot %u name '%s'", v->prot, v->name);
	v = dbg_maps_get(m, 4);
	CHECK((v->flags & DBG_VMA_SHARED) && (v->flags & DBG_VMA_DELETED) &&
	      !strcmp(v->name, "/memfd:x"), "memfd deleted: '%s'", v->name);
	v = dbg_maps_get(m, 5);
	CHECK(!strcmp(v->name, "[anon:my name]"), "anon name '%s'", v->name);
	v = dbg_maps_get(m, 6);
	CHECK(v->dev_major == 0x103 && (v->flags & DBG_VMA_DELETED) && !strcmp(v->name, "/tmp/gone"),
	      "deleted file");
	v = dbg_maps_get(m, 9);
	CHECK(v->start == 0xffffffffff600000ull && v->prot == DBG_PROT_EXEC, "vsyscall");
	CHECK(dbg_maps_find(m, 0x55d4c0a02fff) == dbg_maps_get(m, 1), "find inside");
	CHECK(dbg_maps_find(m, 0x55d4c0a03000) == NULL, "find in a hole");
	CHECK(dbg_maps_find(m, 0x7f0000000000) == dbg_maps_get(m, 3), "find at start");
	CHECK(dbg_maps_find(m, 0) == NULL, "find below all");
	CHECK(dbg_maps_get(m, 10) == NULL, "past the end");
	dbg_maps_free(m);

	/* No trailing newline is fine; an empty text is an empty table. */
	OK(dbg_maps_parse("1000-2000 r--p 0 0:0 0", 22, &m));
	CHECK(dbg_maps_count(m) == 1, "no newline");
	dbg_maps_free(m);
	OK(dbg_maps_parse("", 0, &m));
	CHECK(dbg_maps_count(m) == 0, "empty");
	dbg_maps_free(m);

	expect_bad("hello\n", "words");
	expect_bad("2000-1000 r--p 0 0:0 0\n", "start after end");
	expect_bad("1000-1000 r--p 0 0:0 0\n", "empty range");
	expect_bad("1000-2000 rwzp 0 0:0 0\n", "bad perms");
	expect_bad("1000-2000 r--p 0 0:0\n", "no inode");
	expect_bad("1000-2000 r--p 0 0-0 0\n", "bad dev");
	expect_bad("1000-2000 r--p 0 0:0 0x\n", "inode junk");
	expect_bad("11112222333344445-2000 r--p 0 0:0 0\n", "17 hex digits");
	expect_bad("1000-3000 r--p 0 0:0 0\n2000-4000 r--p 0 0:0 0\n", "overlap");
	expect_bad("3000-4000 r--p 0 0:0 0\n1000-2000 r--p 0 0:0 0\n", "unsorted");
	expect_bad("1000-2000 r--p 0 0:0 99999999999999999999999\n", "inode overflow");
	expect_bad("1000-2000 r--p 0 0:0 0\n\n", "empty line");
	CHECK(dbg_maps_parse(NULL, 5, &m) == -EINVAL, "NULL text");
	printf("maps parser: all forms and garbage\n");
	return 0;
}
