/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test helpers: checks that fail loudly, skips that say why, and starting
 * inferiors that announce themselves with a "ready" line on stdout.
 */
#ifndef DBG_TEST_HARNESS_H
#define DBG_TEST_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dbg.h>

#define SKIP_CODE 77

#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__,   \
				__LINE__, #cond);                                \
			fprintf(stderr, __VA_ARGS__);                            \
			fprintf(stderr, "\n");                                   \
			exit(1);                                                 \
		}                                                                \
	} while (0)

/* A libdbg call that must succeed. */
#define OK(call)                                                                 \
	do {                                                                     \
		long long _r = (long long)(call);                                \
		CHECK(_r >= 0, "%s = %lld (%s)", #call, _r, dbg_strerror((int)_r)); \
	} while (0)

/* The sanitizer build's inferiors exit while traced, where
 * LeakSanitizer's exit check cannot run (it ptraces the process itself)
 * and turns the exit status into 1: every target a test starts runs with
 * it off. The test's own check is unchanged (ASan read its options
 * before any constructor). */
__attribute__((constructor)) static void harness_no_lsan_in_targets(void)
{
	const char *o = getenv("ASAN_OPTIONS");
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s%sdetect_leaks=0", o ? o : "", o && *o ? ":" : "");
	setenv("ASAN_OPTIONS", buf, 1);
}

static inline void skip(const char *why)
{
	printf("SKIP: %s\n", why);
	exit(SKIP_CODE);
}

struct inferior {
	pid_t pid;
	FILE *out;        /* the inferior's stdout */
	int in;           /* the inferior's stdin */
	char ready[1024]; /* its ready line, without "ready " */
};

/* Start tests/inferiors/NAME (or NAME itself when it is an absolute
 * path) with args; wait for its "ready ..." line. */
static inline void inferior_start(struct inferior *inf, const char *name, ...)
{
	const char *argv[16];
	char path[4096];
	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", INFERIOR_DIR, name);
	int n = 0;
	argv[n++] = path;
	va_list ap;
	va_start(ap, name);
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 15)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	int o[2], i[2];
	CHECK(pipe2(o, O_CLOEXEC) == 0 && pipe2(i, O_CLOEXEC) == 0, "pipe");
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		/* Die with the test, whichever way the test ends. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(o[1], 1);
		dup2(i[0], 0);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(o[1]);
	close(i[0]);
	inf->pid = pid;
	inf->in = i[1];
	inf->out = fdopen(o[0], "r");
	/* Unbuffered, so poll() on the fd tells whether a line is there. */
	setvbuf(inf->out, NULL, _IONBF, 0);
	char line[1024];
	CHECK(fgets(line, sizeof(line), inf->out), "inferior %s said nothing", name);
	CHECK(!strncmp(line, "ready", 5), "inferior %s said '%s'", name, line);
	line[strcspn(line, "\n")] = 0;
	snprintf(inf->ready, sizeof(inf->ready), "%s", line[5] ? line + 6 : "");
}

/* Send a command line to the inferior's stdin. */
static inline void inferior_say(struct inferior *inf, const char *cmd)
{
	size_t n = strlen(cmd);
	CHECK(write(inf->in, cmd, n) == (ssize_t)n, "write to inferior");
}

/* Read the next line the inferior prints. */
static inline char *inferior_line(struct inferior *inf, char *buf, size_t len)
{
	CHECK(fgets(buf, len, inf->out), "inferior %d closed its stdout", inf->pid);
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static inline void inferior_kill(struct inferior *inf)
{
	if (inf->pid > 0) {
		kill(inf->pid, SIGKILL);
		waitpid(inf->pid, NULL, __WALL);
	}
	if (inf->out)
		fclose(inf->out);
	if (inf->in >= 0)
		close(inf->in);
	inf->pid = 0;
	inf->out = NULL;
	inf->in = -1;
}

/* The value of a named field "key=0x..." in the ready line. */
static inline uint64_t ready_field(const struct inferior *inf, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "%s=", key);
	const char *s = strstr(inf->ready, pat);
	CHECK(s, "no %s in ready line '%s'", key, inf->ready);
	return strtoull(s + strlen(pat), NULL, 0);
}

/* Read target memory with the raw syscall: an oracle independent of us. */
static inline uint64_t peek_u64(pid_t pid, uint64_t addr)
{
	uint64_t v = 0;
	struct iovec l = { &v, 8 }, r = { (void *)(uintptr_t)addr, 8 };
	CHECK(process_vm_readv(pid, &l, 1, &r, 1, 0) == 8, "process_vm_readv %d", pid);
	return v;
}

/* One byte as the target has it (a breakpoint's 0xCC shows), through
 * /proc/PID/mem: not through libdbg's shadowing reads. */
static inline uint8_t raw_byte(pid_t pid, uint64_t addr)
{
	char path[64];
	uint8_t b = 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && pread(fd, &b, 1, (off_t)addr) == 1, "raw read");
	close(fd);
	return b;
}

/* The inferior has printed a line we have not read yet. */
static inline bool line_ready(struct inferior *inf)
{
	struct pollfd pfd = { .fd = fileno(inf->out), .events = POLLIN };
	return poll(&pfd, 1, 0) == 1;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The state letter of a thread in /proc/PID/task/TID/stat, or 0. */
static inline char thread_state(pid_t pid, pid_t tid)
{
	char path[128], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* TracerPid of a thread, or -1. */
static inline int thread_tracer(pid_t pid, pid_t tid)
{
	char path[128], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strstr(buf, "TracerPid:");
	return p ? atoi(p + 10) : -1;
}

/* List the tids in /proc/PID/task. */
static inline int list_tids(pid_t pid, pid_t *buf, int cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' && n < cap)
			buf[n++] = atoi(de->d_name);
	closedir(d);
	return n;
}

static inline void verbose_log(enum dbg_log_level lvl, const char *msg, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "libdbg[%d]: %s\n", lvl, msg);
}

/* Skip the test if this machine forbids ptrace altogether: seize a fresh
 * child of our own, independently of libdbg. */
static inline void skip_unless_ptrace(void)
{
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	long r = ptrace(PTRACE_SEIZE, c, 0, 0);
	int e = errno;
	kill(c, SIGKILL);
	waitpid(c, NULL, __WALL);
	if (r < 0 && (e == EPERM || e == EACCES || e == ENOSYS))
		skip("ptrace is not permitted here (Yama ptrace_scope, seccomp or no CAP_SYS_PTRACE)");
}

/* Attach, skipping only where ptrace is forbidden altogether. With
 * DBG_TEST_VERBOSE set, libdbg's debug log goes to stderr. */
static inline struct dbg_proc *attach_or_skip(pid_t pid, const struct dbg_attach_opts *opts)
{
	struct dbg_proc *p = NULL;
	struct dbg_attach_opts o = { .sz = sizeof(o) };
	if (opts)
		o = *opts;
	if (getenv("DBG_TEST_VERBOSE") && !o.log_fn)
		o.log_fn = verbose_log;
	int r = dbg_proc_attach(pid, &o, &p);
	if (r == -EPERM)
		skip_unless_ptrace();
	CHECK(r == 0, "dbg_proc_attach(%d) = %d (%s)", pid, r, dbg_strerror(r));
	return p;
}

/* Wait for an event of @kind, with a deadline; fails the test otherwise. */
static inline struct dbg_event wait_for(struct dbg_proc *p, enum dbg_event_kind kind, int ms)
{
	struct dbg_event ev;
	for (;;) {
		int r = dbg_proc_wait(p, ms, &ev);
		CHECK(r == 0, "dbg_proc_wait = %d (%s) waiting for kind %d: %s", r, dbg_strerror(r),
		      kind, dbg_proc_errmsg(p));
		if (getenv("DBG_TEST_VERBOSE"))
			fprintf(stderr, "event kind %d tid %d signo %d child %d status %d\n",
				ev.kind, ev.tid, ev.signo, ev.child, ev.status);
		if (ev.kind == kind)
			return ev;
		/* Anything else: keep the thread going. */
		if (ev.kind != DBG_EVENT_THREAD_EXIT && ev.kind != DBG_EVENT_EXITED &&
		    ev.kind != DBG_EVENT_KILLED)
			dbg_proc_resume_thread(p, ev.tid);
	}
}



/*
 * Read the inferior's next line while serving @p's events: a traced
 * target that stops (a clone, a SIGCHLD) waits for its tracer, so a tracer
 * that just blocks on the target's output would deadlock.
 */
static inline char *serve_until_line(struct dbg_proc *p, struct inferior *inf, char *buf,
				     size_t len)
{
	for (int i = 0; i < 20000; i++) {
		struct pollfd pfd = { .fd = fileno(inf->out), .events = POLLIN };
		if (poll(&pfd, 1, 1) == 1)
			return inferior_line(inf, buf, len);
		struct dbg_event ev;
		while (dbg_proc_wait(p, 0, &ev) == 0)
			if (ev.kind != DBG_EVENT_THREAD_EXIT && ev.kind != DBG_EVENT_EXITED &&
			    ev.kind != DBG_EVENT_KILLED)
				dbg_proc_resume_thread(p, ev.tid);
	}
	CHECK(0, "no line from inferior %d in 20 s", inf->pid);
	return NULL;
}

#endif
