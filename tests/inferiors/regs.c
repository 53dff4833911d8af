/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for register round trips. The main thread spins; a debugger
 * sets rip to `landing`, rsp into `stack_area`, and vector registers, then
 * resumes. `landing` stores what it finds in ymm0/ymm1, zmm2, k1 and rsp
 * and prints them:
 *   "landed rsp=0x.. ymm0=<64 hex> ymm1=<64 hex> zmm2=<128 hex> k1=0x.."
 * Prints: "ready landing=ADDR stack=ADDR spin=ADDR avx512=0|1".
 */
#include <cpuid.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

uint8_t out_ymm0[32], out_ymm1[32], out_zmm2[64];
uint64_t out_rsp, out_k1;
int have_avx512;
__attribute__((aligned(64))) uint8_t stack_area[65536];
volatile int spin_flag = 1;

static char *hex(char *out, const char *label, const uint8_t *b, int n)
{
	static const char digits[] = "0123456789abcdef";
	while (*label)
		*out++ = *label++;
	for (int i = n - 1; i >= 0; i--) {
		*out++ = digits[b[i] >> 4];
		*out++ = digits[b[i] & 15];
	}
	return out;
}

/* Runs on a hijacked thread, which may have been stopped anywhere, even
 * inside stdio: so no stdio here, only write(2). */
__attribute__((used, noreturn)) void report(void)
{
	char line[512], *p = line;
	p += snprintf(p, 64, "landed rsp=0x%llx", (unsigned long long)out_rsp);
	p = hex(p, " ymm0=", out_ymm0, 32);
	p = hex(p, " ymm1=", out_ymm1, 32);
	if (have_avx512) {
		p = hex(p, " zmm2=", out_zmm2, 64);
		p += snprintf(p, 64, " k1=0x%llx", (unsigned long long)out_k1);
	}
	*p++ = '\n';
	if (write(1, line, p - line) < 0)
		_exit(2);
	_exit(0);
}

/* Entered with a fresh rsp and no return address. */
__asm__(".text\n"
	".globl landing\n"
	"landing:\n"
	"  movq %rsp, out_rsp(%rip)\n"
	"  vmovdqu %ymm0, out_ymm0(%rip)\n"
	"  vmovdqu %ymm1, out_ymm1(%rip)\n"
	"  cmpl $0, have_avx512(%rip)\n"
	"  je 1f\n"
	"  vmovdqu64 %zmm2, out_zmm2(%rip)\n"
	"  kmovq %k1, out_k1(%rip)\n"
	"1:\n"
	"  andq $-16, %rsp\n"
	"  call report\n");
void landing(void);

int main(void)
{
	unsigned a, b, c, d;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
		have_avx512 = (b >> 16) & 1;
	printf("ready landing=%p stack=%p spin=%p avx512=%d\n", (void *)landing,
	       (void *)stack_area, (void *)&spin_flag, have_avx512);
	fflush(stdout);
	while (spin_flag)
		;
	return 1;
}
