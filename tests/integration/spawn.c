/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Spawn: the child is stopped at its exec, before its first instruction;
 * exit statuses and kills are reported; the VMA table is read again
 * after the target ran; a missing program is -ENOENT.
 */
#include "../harness.h"
#include <sys/stat.h>

static bool has_libc(const struct dbg_maps *m)
{
	for (size_t i = 0; i < dbg_maps_count(m); i++)
		if (strstr(dbg_maps_get(m, i)->name, "/libc.so"))
			return true;
	return false;
}

int main(void)
{
	struct dbg_proc *p;
	char *argv_true[] = { "sh", "-c", "exit 3", NULL };
	int r = dbg_proc_spawn("sh", argv_true, NULL, &p);
	if (r == -EPERM)
		skip_unless_ptrace();
	OK(r);
	pid_t pid = dbg_proc_pid(p);
	CHECK(dbg_proc_threads(p, NULL, 0) == 1, "one thread");
	CHECK(dbg_proc_thread_state(p, pid) == DBG_THREAD_STOPPED, "stopped at exec");
	/* At the exec stop no instruction of the program has run: rip is the
	 * entry of its interpreter (AT_BASE in auxv) or, for a static
	 * program, its own entry (AT_ENTRY). */
	struct dbg_regs regs;
	OK(dbg_regs_get(p, pid, &regs));
	char auxv_path[64];
	uint64_t auxv[128] = { 0 }, at_base = 0, at_entry = 0;
	snprintf(auxv_path, sizeof(auxv_path), "/proc/%d/auxv", pid);
	int afd = open(auxv_path, O_RDONLY | O_CLOEXEC);
	CHECK(afd >= 0 && read(afd, auxv, sizeof(auxv)) > 0, "auxv");
	close(afd);
	for (int i = 0; i + 1 < 128 && auxv[i]; i += 2) {
		if (auxv[i] == 7)
			at_base = auxv[i + 1];
		if (auxv[i] == 9)
			at_entry = auxv[i + 1];
	}
	const struct dbg_maps *maps;
	OK(dbg_proc_maps(p, &maps));
	if (at_base) {
		const struct dbg_vma *v = dbg_maps_find(maps, regs.rip);
		const struct dbg_vma *interp = dbg_maps_find(maps, at_base);
		CHECK(v && interp && !strcmp(v->name, interp->name), "rip %llx is not in the interpreter",
		      (unsigned long long)regs.rip);
	} else {
		CHECK(regs.rip == at_entry, "static program: rip %llx, AT_ENTRY %llx",
		      (unsigned long long)regs.rip, (unsigned long long)at_entry);
	}
	OK(dbg_proc_resume(p));
	struct dbg_event ev = wait_for(p, DBG_EVENT_EXITED, 5000);
	CHECK(ev.status == 3, "exit status %d", ev.status);
	CHECK(dbg_proc_wait(p, 0, &ev) == -ESRCH, "after exit");
	dbg_proc_detach(p);

	/* Kill is reported as such. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/sleepers", INFERIOR_DIR);
	char *argv_s[] = { path, "1", NULL };
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	DBG_OPTS(dbg_spawn_opts, so, .stdout_fd = devnull, .stdin_fd = devnull);
	OK(dbg_proc_spawn(path, argv_s, &so, &p));
	/* The table taken at the exec stop has no libc yet; once the target
	 * ran (and is stopped again) dbg_proc_maps() reads it anew. */
	OK(dbg_proc_maps(p, &maps));
	CHECK(!has_libc(maps), "libc mapped at the exec stop");
	OK(dbg_proc_resume(p));
	sleep_ms(50);
	OK(dbg_proc_stop(p));
	OK(dbg_proc_maps(p, &maps));
	CHECK(has_libc(maps), "the table after the target ran has no libc (not re-read)");
	OK(dbg_proc_resume(p));
	kill(dbg_proc_pid(p), SIGKILL);
	ev = wait_for(p, DBG_EVENT_KILLED, 5000);
	CHECK(ev.signo == SIGKILL, "killed by %d", ev.signo);
	dbg_proc_detach(p);

	/* dbg_proc_kill; the child is in our process group by default */
	OK(dbg_proc_spawn(path, argv_s, &so, &p));
	CHECK(getpgid(dbg_proc_pid(p)) == getpgrp(), "default: pgrp %d, ours %d",
	      (int)getpgid(dbg_proc_pid(p)), (int)getpgrp());
	OK(dbg_proc_kill(p));
	CHECK(dbg_proc_stop(p) == -ESRCH, "stop after kill");
	dbg_proc_detach(p);

	/* new_pgrp: a process group of its own, set before the exec */
	DBG_OPTS(dbg_spawn_opts, pg, .stdout_fd = devnull, .stdin_fd = devnull, .new_pgrp = 1);
	OK(dbg_proc_spawn(path, argv_s, &pg, &p));
	CHECK(getpgid(dbg_proc_pid(p)) == dbg_proc_pid(p), "new_pgrp: pgrp %d of pid %d",
	      (int)getpgid(dbg_proc_pid(p)), (int)dbg_proc_pid(p));
	OK(dbg_proc_kill(p));
	CHECK(dbg_proc_stop(p) == -ESRCH, "stop after kill");
	dbg_proc_detach(p);

	char *argv_no[] = { "no-such-program-here", NULL };
	r = dbg_proc_spawn("no-such-program-here", argv_no, NULL, &p);
	CHECK(r == -ENOENT, "missing program: %d", r);
	char noexec[] = "/tmp/libdbg-noexec-XXXXXX";
	int fd = mkstemp(noexec);
	CHECK(fd >= 0 && fchmod(fd, 0644) == 0, "mkstemp");
	close(fd);
	r = dbg_proc_spawn(noexec, argv_no, NULL, &p);
	unlink(noexec);
	CHECK(r == -EACCES, "not executable: %d", r);
	DBG_OPTS(dbg_spawn_opts, bad, .cwd = "/no/such/dir");
	r = dbg_proc_spawn("sh", argv_true, &bad, &p);
	CHECK(r == -ENOENT, "bad cwd: %d", r);
	close(devnull);
	printf("spawn: stopped at exec, exit 3, kill, new_pgrp, ENOENT/EACCES\n");
	return 0;
}
