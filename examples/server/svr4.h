/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dbg-server: thread-local storage, the dynamic linker's list (svr4.c). */
#ifndef DBG_SERVER_SVR4_H
#define DBG_SERVER_SVR4_H

#include "server.h"

/* Answer qGetTLSAddr:TID,OFFSET,LM into @out (hex address or Enn). */
void tls_packet(struct server *s, const char *pkt, struct buf *out);
/* `monitor set libthread-db-search-path PATH`: qGetTLSAddr is refused
 * while PATH has no libthread_db.so.1 (gdbserver's way to turn it off). */
void tls_search_path(const char *path);
/* The qXfer:libraries-svr4 document for @annex ("" or
 * "start=ADDR;prev=ADDR") into @doc; 0, or -ENOENT (no r_debug yet: a
 * static executable, or the dynamic linker has not run), -EINVAL. */
int svr4_libraries(struct server *s, const char *annex, struct buf *doc);

#endif
