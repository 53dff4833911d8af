/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stepping: one instruction, over calls, out of frames, source lines and
 * address ranges.
 * Not built yet: the hook table is empty.
 */
#include "internal.h"

const struct dbg__hooks dbg__step_hooks = {
	.name = "step",
};
