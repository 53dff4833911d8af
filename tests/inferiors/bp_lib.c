/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loaded by bp_dlopen with dlopen: a breakpoint goes in after the load. */
__attribute__((noinline, visibility("default"))) int bp_lib_func(int x)
{
	return x + 1;
}
