/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Symbols of targets whose binary is not at its path in our view:
 *   deleted  a copy of stacks_O2 started and then unlinked;
 *   mountns  a copy started in its own mount namespace (unshare -m) from
 *            a directory bind-mounted over another one; in our namespace
 *            that path holds a decoy (stacks_O0, other code and lines), so
 *            opening the path instead of the mapped inode gives wrong
 *            lines, not just missing ones.
 * In both, the inferior's frames must carry exactly the functions and lines
 * it expects.
 */
#include "../stacks.h"

#include <sys/stat.h>

static void copy_file(const char *from, const char *to)
{
	char cmd[8400];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	CHECK(system(cmd) == 0, "%s", cmd);
}

static void check_target(struct inferior *inf, const char *modpath, bool deleted)
{
	pid_t tid_inl = (pid_t)ready_field(inf, "inl"), tid_sig = (pid_t)ready_field(inf, "sig");
	struct expect ex[32];
	int nex = read_expectations(inf, ex, 32);
	struct dbg_proc *p = attach_or_skip(inf->pid, NULL);
	struct dbg_sym *sym;
	OK(dbg_sym_new(p, NULL, &sym));
	struct dbg_unwinder *u;
	OK(dbg_unwind_new(p, sym, NULL, &u));
	struct dbg_frame fr[64];
	int n = dbg_unwind_thread(u, tid_inl, fr, 64);
	OK(n);
	struct dbg_module m;
	OK(dbg_sym_module(sym, fr[n > 3 ? 3 : 0].pc - 1, &m));
	check_symbols(modpath, sym, "inl", fr, n, ex, nex);
	n = dbg_unwind_thread(u, tid_sig, fr, 64);
	OK(n);
	check_symbols(modpath, sym, "sig", fr, n, ex, nex);

	/* The module itself: found, marked deleted or not, with DWARF. */
	uint64_t addr;
	OK(dbg_sym_addr(sym, "middle", &addr));
	OK(dbg_sym_module(sym, addr, &m));
	CHECK(strcmp(m.path, modpath) == 0, "module %s", m.path);
	CHECK(m.deleted == deleted, "deleted flag %d", m.deleted);
	CHECK(m.has_dwarf && m.has_symbols && m.build_id_len == 20, "module without data: %s",
	      m.error ? m.error : "");
	dbg_unwind_free(u);
	dbg_sym_free(sym);
	dbg_proc_detach(p);
}

int main(void)
{
	char dir[] = "/tmp/libdbg-sympaths-XXXXXX";
	CHECK(mkdtemp(dir), "mkdtemp");
	char src[4096], bin[4200], real_dir[1024];
	snprintf(src, sizeof(src), "%s/stacks_O2", INFERIOR_DIR);
	CHECK(realpath(dir, real_dir), "realpath");

	/* deleted */
	snprintf(bin, sizeof(bin), "%s/deleted-stacks", real_dir);
	copy_file(src, bin);
	struct inferior inf;
	inferior_start(&inf, bin, NULL);
	CHECK(unlink(bin) == 0, "unlink");
	check_target(&inf, bin, true);
	inferior_kill(&inf);
	printf("deleted binary: symbols and lines as expected\n");

	/* mount namespace */
	char real_bin[1200], hidden[1100], shown[1100], decoy[1200], cmd[4096];
	snprintf(hidden, sizeof(hidden), "%s/real", real_dir);
	snprintf(shown, sizeof(shown), "%s/shown", real_dir);
	CHECK(mkdir(hidden, 0755) == 0 && mkdir(shown, 0755) == 0, "mkdir");
	snprintf(real_bin, sizeof(real_bin), "%s/stacks", hidden);
	copy_file(src, real_bin);
	snprintf(decoy, sizeof(decoy), "%s/stacks", shown);
	snprintf(src, sizeof(src), "%s/stacks_O0", INFERIOR_DIR);
	copy_file(src, decoy);
	snprintf(cmd, sizeof(cmd), "mount --bind '%s' '%s' && exec '%s'", hidden, shown, decoy);
	/* Can this machine make a mount namespace at all? (util-linux's
	 * unshare, or busybox's in the QEMU harness) */
	const char *unshare = access("/usr/bin/unshare", X_OK) == 0 ? "/usr/bin/unshare" : "/bin/unshare";
	if (system("unshare -m --propagation private true 2>/dev/null") != 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", real_dir);
		CHECK(system(cmd) == 0, "cleanup");
		skip("unshare -m is not permitted here (needs CAP_SYS_ADMIN)");
	}
	inferior_start(&inf, unshare, "-m", "--propagation", "private", "/bin/sh", "-c",
		       cmd, NULL);
	check_target(&inf, decoy, false);
	inferior_kill(&inf);
	printf("binary bind-mounted in another mount namespace over a decoy: symbols and lines "
	       "as expected\n");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", real_dir);
	CHECK(system(cmd) == 0, "cleanup");
	return 0;
}
