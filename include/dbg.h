/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg.h
 * libdbg: a debugger backend for Linux. This umbrella header includes
 * every public module header.
 */
#ifndef DBG_H
#define DBG_H

#include <dbg/common.h>
#include <dbg/proc.h>
#include <dbg/regs.h>
#include <dbg/maps.h>
#include <dbg/mem.h>
#include <dbg/sym.h>
#include <dbg/unwind.h>
#include <dbg/core.h>
#include <dbg/inject.h>
#include <dbg/syscall.h>
#include <dbg/prof.h>
#include <dbg/bp.h>
#include <dbg/watch.h>
#include <dbg/disasm.h>
#include <dbg/step.h>
#include <dbg/tls.h>

#endif /* DBG_H */
