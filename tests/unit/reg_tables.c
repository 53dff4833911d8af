/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Register names, sizes and DWARF numbers (x86_64 psABI) round-trip. */
#include "../harness.h"

int main(void)
{
	static const struct { const char *name; int dwarf; int size; } known[] = {
		{ "rax", 0, 8 }, { "rdx", 1, 8 }, { "rcx", 2, 8 }, { "rbx", 3, 8 },
		{ "rsi", 4, 8 }, { "rdi", 5, 8 }, { "rbp", 6, 8 }, { "rsp", 7, 8 },
		{ "r8", 8, 8 }, { "r15", 15, 8 }, { "rip", 16, 8 }, { "xmm0", 17, 16 },
		{ "xmm15", 32, 16 }, { "st0", 33, 10 }, { "st7", 40, 10 }, { "eflags", 49, 8 },
		{ "es", 50, 8 }, { "gs", 55, 8 }, { "fs_base", 58, 8 }, { "gs_base", 59, 8 },
		{ "mxcsr", 64, 4 }, { "xmm16", 67, 16 }, { "xmm31", 82, 16 }, { "k0", 118, 8 },
		{ "k7", 125, 8 }, { "ymm3", -1, 32 }, { "zmm31", -1, 64 }, { "dr7", -1, 8 },
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		enum dbg_reg id;
		OK(dbg_reg_by_name(known[i].name, &id));
		CHECK(!strcmp(dbg_reg_name(id), known[i].name), "name of %s", known[i].name);
		CHECK(dbg_reg_size(id) == known[i].size, "size of %s: %d", known[i].name,
		      dbg_reg_size(id));
		if (known[i].dwarf < 0) {
			CHECK(dbg_reg_dwarf(id) == -ENOENT, "%s has no DWARF number", known[i].name);
			continue;
		}
		CHECK(dbg_reg_dwarf(id) == known[i].dwarf, "DWARF of %s: %d", known[i].name,
		      dbg_reg_dwarf(id));
		enum dbg_reg back;
		OK(dbg_reg_by_dwarf(known[i].dwarf, &back));
		CHECK(back == id, "DWARF %d back to %s", known[i].dwarf, known[i].name);
	}
	/* Every id has a unique name and a size. */
	for (int id = 0; id < DBG_REG__COUNT; id++) {
		const char *n = dbg_reg_name(id);
		CHECK(n, "id %d has no name", id);
		CHECK(dbg_reg_size(id) > 0, "id %d has no size", id);
		enum dbg_reg back;
		OK(dbg_reg_by_name(n, &back));
		CHECK((int)back == id, "name %s is not unique", n);
	}
	enum dbg_reg id;
	CHECK(dbg_reg_by_name("eax", &id) == -ENOENT, "unknown name");
	CHECK(dbg_reg_by_dwarf(1000, &id) == -ENOENT, "unknown DWARF number");
	CHECK(dbg_reg_name(DBG_REG__COUNT) == NULL && dbg_reg_size(-1) == -EINVAL, "bad ids");
	CHECK(dbg_version() == DBG_VERSION_MAJOR * 10000 + DBG_VERSION_MINOR * 100 +
	      DBG_VERSION_PATCH, "version");
	printf("%d register ids checked\n", DBG_REG__COUNT);
	return 0;
}
