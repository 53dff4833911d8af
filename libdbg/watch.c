/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hardware breakpoints and watchpoints in the debug registers of every
 * thread (DR0-DR3, DR7), DR6 decoding.
 * Not built yet: the hook table is empty.
 */
#include "internal.h"

const struct dbg__hooks dbg__watch_hooks = {
	.name = "watch",
};
