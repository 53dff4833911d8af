/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dlopen()s argv[1] on "load" and calls its bp_lib_func(41), printing
 * "called 42"; "exit" ends.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	printf("ready\n");
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin) && !strncmp(line, "load", 4)) {
		void *h = dlopen(argv[1], RTLD_NOW);
		int (*f)(int) = h ? (int (*)(int))dlsym(h, "bp_lib_func") : NULL;
		printf("called %d\n", f ? f(41) : -1);
		fflush(stdout);
	}
	return 0;
}
