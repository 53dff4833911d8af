/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Syscall catching (PTRACE_SYSCALL, or a seccomp-bpf filter for spawned
 * targets) and the per-signal stop/pass/ignore policy.
 * Not built yet: the hook table is empty.
 */
#include "internal.h"

const struct dbg__hooks dbg__sys_hooks = {
	.name = "sys",
};
