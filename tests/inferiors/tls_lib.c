/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The dlopen()ed library of tests/inferiors/tls_target.c: thread-local
 * variables in a module loaded after the threads started. */
__attribute__((visibility("default"))) __thread long lib_tls = 7;
__attribute__((visibility("default"))) __thread char lib_tls_bss[64];

__attribute__((visibility("default"))) long *lib_touch(long v)
{
	lib_tls = v;
	lib_tls_bss[3] = (char)v;
	return &lib_tls;
}
