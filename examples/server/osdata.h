/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dbg-server: qXfer:osdata, the tables of gdb's `info os` (osdata.c). */
#ifndef DBG_SERVER_OSDATA_H
#define DBG_SERVER_OSDATA_H

#include "server.h"

/* The qXfer:osdata document for @annex into @doc: "" lists the types,
 * else one of them (processes, procgroups, threads, files, sockets, shm,
 * semaphores, msg, cpus, modules), read from /proc now. An unknown type
 * leaves @doc empty (gdb: "Empty data returned by target"). Returns 0. */
int osdata_read(struct server *s, const char *annex, struct buf *doc);

#endif
