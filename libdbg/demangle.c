/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Symbol demangling (issue 9): to be backed by a maintained demangler. */
#include <errno.h>
#include <dbg/sym.h>

int dbg_sym_demangle(const char *name, char *buf, size_t cap)
{
	(void)name;
	(void)buf;
	(void)cap;
	return -EINVAL;
}
