/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Software breakpoints: int3 through the memory layer, shadowed reads, stepping
 * off a breakpoint, non-stop and displaced stepping, fork/exec cleaning,
 * module-load events. Run control's trap interpreter for int3.
 * Not built yet: the hook table is empty.
 */
#include "internal.h"

const struct dbg__hooks dbg__bp_hooks = {
	.name = "bp",
};
