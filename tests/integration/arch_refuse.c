/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdbg debugs x86_64 processes only. Documented behaviour
 * (doc/process.md, "Architecture"):
 *   - dbg_proc_attach() of a 32-bit (i386) process, and of an x32 one where
 *     the kernel runs them, fails with -DBG_ERRNO_ARCH and a message that
 *     says what the target is; the target is left exactly as it was:
 *     untraced, running (its heartbeat advances);
 *   - dbg_proc_spawn() of such a program fails the same way and leaves
 *     no child behind;
 *   - an x86_64 process one of whose threads runs 32-bit code (CS 0x23,
 *     where the kernel's NT_PRSTATUS regset is the 68-byte ia32 one) is
 *     an x86_64 process: attach works, and detach leaves it running.
 */
#include "../harness.h"

#include <spawn.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <elf.h>

static char last_err[1024];
static void keep_err(enum dbg_log_level lvl, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("DBG_TEST_VERBOSE"))
		fprintf(stderr, "libdbg[%d]: %s\n", lvl, msg);
	if (lvl == DBG_LOG_ERROR)
		snprintf(last_err, sizeof(last_err), "%s", msg);
}

/* Can this kernel run @path at all? (x32 needs CONFIG_X86_X32_ABI.) */
static bool runnable(const char *path)
{
	char *argv[] = { (char *)path, "0", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int r = posix_spawn(&pid, path, &fa, NULL, argv, NULL);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return false;
	int st;
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void check_refused(const char *abi, const char *what)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/sleepers_%s", INFERIOR_DIR, abi);
	if (!runnable(path)) {
		printf("NOT EXERCISED: %s: this kernel cannot run %s programs\n", abi, what);
		return;
	}
	struct inferior inf;
	inferior_start(&inf, path, "2", NULL);
	uint64_t hb = ready_field(&inf, "heartbeat");
	struct dbg_proc *p = NULL;
	DBG_OPTS(dbg_attach_opts, ao, .log_fn = keep_err);
	last_err[0] = 0;
	int r = dbg_proc_attach(inf.pid, &ao, &p);
	if (r == -EPERM)
		skip_unless_ptrace();
	CHECK(r == -DBG_ERRNO_ARCH, "attach to a %s process: %d (%s), expected -DBG_ERRNO_ARCH",
	      what, r, dbg_strerror(r));
	CHECK(!p, "ret_proc written on failure");
	char want[128];
	snprintf(want, sizeof(want), "pid %d is a %s process", inf.pid, what);
	CHECK(strstr(last_err, want) && strstr(last_err, "x86_64"), "message '%s', expected '%s'",
	      last_err, want);
	CHECK(strstr(dbg_strerror(r), "x86_64"), "dbg_strerror: '%s'", dbg_strerror(r));
	/* Left exactly as it was. */
	pid_t tids[16];
	int n = list_tids(inf.pid, tids, 16);
	CHECK(n >= 3, "%d threads", n);
	for (int i = 0; i < n; i++) {
		CHECK(thread_tracer(inf.pid, tids[i]) == 0, "thread %d traced by %d", tids[i],
		      thread_tracer(inf.pid, tids[i]));
		char s = thread_state(inf.pid, tids[i]);
		CHECK(s == 'S' || s == 'R', "thread %d in state %c", tids[i], s);
	}
	uint32_t h0 = (uint32_t)peek_u64(inf.pid, hb);
	sleep_ms(30);
	CHECK((uint32_t)peek_u64(inf.pid, hb) != h0, "the %s target does not run", what);
	inferior_kill(&inf);

	/* spawn: refused at its exec stop, the child killed and reaped. */
	char *argv[] = { path, "0", NULL };
	DBG_OPTS(dbg_spawn_opts, so, .log_fn = keep_err, .stdin_fd = -1);
	last_err[0] = 0;
	r = dbg_proc_spawn(path, argv, &so, &p);
	CHECK(r == -DBG_ERRNO_ARCH, "spawn of a %s program: %d (%s)", what, r, dbg_strerror(r));
	CHECK(strstr(last_err, what), "spawn message '%s'", last_err);
	int st;
	pid_t left = waitpid(-1, &st, WNOHANG);
	CHECK(left < 0 && errno == ECHILD, "spawn left a child behind: %d status %#x", left, st);
	printf("%s: attach and spawn refused: %s\n", abi, last_err);
}

static void check_compat_mode_thread(void)
{
	struct inferior inf;
	inferior_start(&inf, "compat32", NULL);
	pid_t spinner = (pid_t)ready_field(&inf, "tid");
	struct dbg_proc *p = NULL;
	DBG_OPTS(dbg_attach_opts, ao, .log_fn = keep_err);
	int r = dbg_proc_attach(inf.pid, &ao, &p);
	CHECK(r == 0, "attach to an x86_64 process with a thread in 32-bit mode: %d (%s): %s", r,
	      dbg_strerror(r), last_err);
	struct dbg_regs regs;
	OK(dbg_regs_get(p, spinner, &regs));
	CHECK(regs.cs == 0x23, "the spinner's cs is %#llx, not the 32-bit 0x23",
	      (unsigned long long)regs.cs);
	/* Why the ELF header decides and not the registers: the kernel's
	 * NT_PRSTATUS view of this thread is the ia32 one right now. */
	struct user_regs_struct raw;
	struct iovec iov = { &raw, sizeof(raw) };
	CHECK(ptrace(PTRACE_GETREGSET, spinner, NT_PRSTATUS, &iov) == 0, "GETREGSET");
	/* (A kernel without IA32 emulation, as the QEMU guests' tinyconfig
	 * ones, keeps the 64-bit view even there.) */
	char m32[4200];
	snprintf(m32, sizeof(m32), "%s/sleepers_m32", INFERIOR_DIR);
	if (access(m32, X_OK) == 0 && runnable(m32))
		CHECK(iov.iov_len == 68, "NT_PRSTATUS of a thread in 32-bit mode is %zu bytes",
		      iov.iov_len);
	dbg_proc_detach(p);
	CHECK(thread_tracer(inf.pid, spinner) == 0, "spinner still traced");
	sleep_ms(20);
	CHECK(thread_state(inf.pid, spinner) == 'R', "spinner is '%c', not running",
	      thread_state(inf.pid, spinner));
	inferior_kill(&inf);
	printf("x86_64 process with a thread in 32-bit mode (cs 0x23, 68-byte regset): attached\n");
}

int main(void)
{
	skip_unless_ptrace();
	int done = 0;
#ifdef HAVE_M32
	check_refused("m32", "32-bit (i386)");
	done++;
#endif
#ifdef HAVE_MX32
	check_refused("mx32", "x32 (32-bit pointers on x86_64)");
#else
	printf("NOT EXERCISED: x32: the compiler cannot build -mx32 programs\n");
#endif
	check_compat_mode_thread();
	if (!done)
		skip("gcc -m32 cannot build programs (gcc-multilib missing: run scripts/deps.sh); "
		     "32-bit refusal not tested");
	return 0;
}
