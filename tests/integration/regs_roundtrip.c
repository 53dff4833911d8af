/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Register round trip: set rip, rsp, xmm/ymm (and zmm, k where the CPU has
 * AVX-512) in a stopped inferior, resume it, and compare with what the
 * inferior itself observes. DR0/DR7 writes are read back.
 */
#include "../harness.h"
#include <cpuid.h>

static void fill(uint8_t *b, int n, uint8_t seed)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

static void tohex(const uint8_t *b, int n, char *out)
{
	for (int i = n - 1; i >= 0; i--)
		out += sprintf(out, "%02x", b[i]);
}

int main(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 28)))
		skip("this CPU has no AVX");
	struct inferior inf;
	inferior_start(&inf, "regs", NULL);
	uint64_t landing = ready_field(&inf, "landing");
	uint64_t stack = ready_field(&inf, "stack");
	uint64_t spin = ready_field(&inf, "spin");
	int avx512 = (int)ready_field(&inf, "avx512");
	struct dbg_proc *p = attach_or_skip(inf.pid, NULL);
	pid_t tid = inf.pid;

	/* Vector registers by id. */
	uint8_t ymm0[32], ymm1[32], xmm1[16], zmm2[64], back[64];
	fill(ymm0, 32, 0x10);
	fill(ymm1, 32, 0x40);
	fill(xmm1, 16, 0x90);
	fill(zmm2, 64, 0xa0);
	enum dbg_reg id;
	OK(dbg_reg_by_name("ymm0", &id));
	CHECK(dbg_reg_write(p, tid, id, ymm0, 32) == 32, "write ymm0");
	OK(dbg_reg_by_name("ymm1", &id));
	CHECK(dbg_reg_write(p, tid, id, ymm1, 32) == 32, "write ymm1");
	/* xmm1 replaces the low half of ymm1 and keeps the high half. */
	OK(dbg_reg_by_name("xmm1", &id));
	CHECK(dbg_reg_write(p, tid, id, xmm1, 16) == 16, "write xmm1");
	memcpy(ymm1, xmm1, 16);
	OK(dbg_reg_by_name("ymm1", &id));
	CHECK(dbg_reg_read(p, tid, id, back, 64) == 32 && !memcmp(back, ymm1, 32), "ymm1 readback");
	uint64_t k1 = 0xa5a5000000005a5aull;
	if (avx512) {
		OK(dbg_reg_by_name("zmm2", &id));
		CHECK(dbg_reg_write(p, tid, id, zmm2, 64) == 64, "write zmm2: %s", dbg_proc_errmsg(p));
		OK(dbg_reg_by_name("k1", &id));
		CHECK(dbg_reg_write(p, tid, id, &k1, 8) == 8, "write k1");
		struct dbg_xstate xs;
		OK(dbg_regs_get_xstate(p, tid, &xs));
		CHECK(xs.xcr0 & DBG_XFEATURE_HI16_ZMM, "xcr0 %llx lacks AVX-512", (unsigned long long)xs.xcr0);
		CHECK(!memcmp(xs.zmm_hi[2], zmm2 + 32, 32) && xs.opmask[1] == k1, "xstate decode");
	}

	/* Debug registers: DR0 watches spin_flag for writes, then is undone. */
	uint64_t dr7 = 1 | (1ull << 16) | (3ull << 18), v;
	OK(dbg_regs_set_debugreg(p, tid, 0, spin));
	OK(dbg_regs_set_debugreg(p, tid, 7, dr7));
	OK(dbg_regs_get_debugreg(p, tid, 0, &v));
	CHECK(v == spin, "DR0 read back %llx", (unsigned long long)v);
	OK(dbg_regs_get_debugreg(p, tid, 7, &v));
	CHECK((v & 0xffff00ffull) == dr7, "DR7 read back %llx, wrote %llx", (unsigned long long)v,
	      (unsigned long long)dr7);
	OK(dbg_regs_set_debugreg(p, tid, 7, 0));

	/* rip and rsp: into the landing pad with a stack of our choosing. */
	struct dbg_regs regs;
	OK(dbg_regs_get(p, tid, &regs));
	uint64_t new_rsp = stack + 32768;
	regs.rip = landing;
	regs.rsp = new_rsp;
	OK(dbg_regs_set(p, tid, &regs));
	OK(dbg_regs_get(p, tid, &regs));
	CHECK(regs.rip == landing && regs.rsp == new_rsp, "GPR read back");
	OK(dbg_proc_resume(p));

	char line[1024], want[256];
	inferior_line(&inf, line, sizeof(line));
	CHECK(!strncmp(line, "landed", 6), "inferior said '%s'", line);
	snprintf(want, sizeof(want), "rsp=0x%llx", (unsigned long long)new_rsp);
	CHECK(strstr(line, want), "%s not in '%s'", want, line);
	strcpy(want, "ymm0=");
	tohex(ymm0, 32, want + 5);
	CHECK(strstr(line, want), "%s not in '%s'", want, line);
	strcpy(want, "ymm1=");
	tohex(ymm1, 32, want + 5);
	CHECK(strstr(line, want), "%s not in '%s'", want, line);
	if (avx512) {
		strcpy(want, "zmm2=");
		tohex(zmm2, 64, want + 5);
		CHECK(strstr(line, want), "%s not in '%s'", want, line);
		snprintf(want, sizeof(want), "k1=0x%llx", (unsigned long long)k1);
		CHECK(strstr(line, want), "%s not in '%s'", want, line);
	}
	struct dbg_event ev = wait_for(p, DBG_EVENT_EXITED, 5000);
	CHECK(ev.status == 0, "exit status %d", ev.status);
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("rip, rsp, xmm, ymm%s and DR0/DR7 round-trip\n", avx512 ? ", zmm, k" : "");
	return 0;
}
