/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A dlopen()ed library with initial-exec TLS (tests/inferiors/tls_reuse.c):
 * its block is in the static TLS area of every thread, and an access does
 * not go through (or update) the thread's DTV. */
__attribute__((visibility("default"))) __thread long ie_tls
	__attribute__((tls_model("initial-exec"))) = 5;

__attribute__((visibility("default"))) long *ie_touch(long v)
{
	ie_tls = v;
	return &ie_tls;
}
