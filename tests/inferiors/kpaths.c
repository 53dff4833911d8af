/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inferior for the kernel read paths. Sets up, each with pattern_at():
 *   untouched  16 anonymous pages never written (not present)
 *   secret     a memfd_secret() page, or 0 where the kernel has none
 *   huge       a 2 MiB MAP_HUGETLB page, or 0 where none is reserved
 *   present    16 written anonymous pages
 *   cold       512 anonymous pages never written (not present: each one
 *              read once by the test, which faults in the zero page)
 * and finally replaces the page of its own argv strings with a private
 * file mapping holding "FILEBACKED..." (CVE-2018-1120: /proc/PID/cmdline
 * must refuse to read file-backed memory). The main thread then blocks
 * for good, never touching that stack page again.
 * Prints: "ready untouched=.. secret=.. huge=.. present=.. argv=.. cold=.."
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../pattern.h"

#define PG 4096ul

static void *secret_page(void)
{
#ifdef SYS_memfd_secret
	int fd = (int)syscall(SYS_memfd_secret, 0);
	if (fd < 0 || ftruncate(fd, PG) < 0)
		return NULL;
	void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	pattern_fill(p, (uint64_t)(uintptr_t)p, PG);
	return p;
#else
	return NULL;
#endif
}

static void *huge_page(void)
{
	void *p = mmap(NULL, 2ul << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	pattern_fill(p, (uint64_t)(uintptr_t)p, 2ul << 20);
	return p;
}

int main(int argc, char **argv)
{
	(void)argc;
	void *untouched = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *present = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pattern_fill(present, (uint64_t)(uintptr_t)present, 16 * PG);
	void *cold = mmap(NULL, 512 * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *secret = secret_page();
	void *huge = huge_page();

	/* The file that takes the place of the argv page. */
	char path[] = "/tmp/libdbg-kpaths-XXXXXX";
	int fd = mkstemp(path);
	char page[PG];
	memset(page, 0, sizeof(page));
	for (size_t i = 0; i + 16 <= sizeof(page); i += 16)
		memcpy(page + i, "FILEBACKED......", 16);
	if (fd < 0 || write(fd, page, PG) != (ssize_t)PG)
		return 1;
	unlink(path);
	uintptr_t argpage = (uintptr_t)argv[0] & ~(PG - 1);
	printf("ready untouched=%p secret=%p huge=%p present=%p argv=%p cold=%p\n", untouched,
	       secret, huge, (void *)present, (void *)argpage, cold);
	fflush(stdout);
	/* From here on: no stack use beyond this frame, no libc that might
	 * touch the old argv strings; raw system calls only. */
	if (mmap((void *)argpage, PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED)
		syscall(SYS_exit_group, 2);
	for (;;)
		syscall(SYS_pause);
}
