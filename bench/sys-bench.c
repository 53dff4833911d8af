/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Syscall catching benchmark (doc/runcontrol.md, "System calls and
 * signals"; issue 11 acceptance 7): the work rate of a syscall-heavy loop
 * (sys-bench-target: getppid in a loop, one getsid every 1,000 calls)
 *   - untraced,
 *   - under libdbg catching getsid with PTRACE_SYSCALL (the target stops
 *     at every call's entry and exit),
 *   - under libdbg catching getsid with the seccomp filter (it stops at
 *     getsid only),
 *   - under strace -f -e trace=getsid, and strace -f --seccomp-bpf,
 * in one run, interleaved, the median of several repetitions each, and
 * the slowdowns against the untraced rate.
 *
 *   sys-bench [-n ITERS] [-r REPS]   (ITERS: calls a run in the PTRACE_SYSCALL
 *   modes, default 100,000; 20 times more in the others)
 */
#define _GNU_SOURCE
#include <dbg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"

#define EVERY "1000"
#define MAXREPS 32

static const char *target = BENCH_DIR "/sys-bench-target";
/* Calls in a run: the modes that stop at every call run fewer (their
 * rate is what counts), the others 20 times more, so that their run is
 * long enough to measure (a few hundred ms). */
static char iters_s[32];
static long iters_slow = 100000;

static void set_iters(int stops_every_call)
{
	snprintf(iters_s, sizeof(iters_s), "%ld", stops_every_call ? iters_slow : iters_slow * 20);
}

static double parse_rate(int fd, long *ret_rare)
{
	char buf[256];
	ssize_t n, len = 0;
	while (len < (ssize_t)sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len > 0 ? len : 0] = 0;
	close(fd);
	double rate = 0;
	long rare = 0;
	if (sscanf(buf, "rate %lf rare %ld", &rate, &rare) != 2) {
		fprintf(stderr, "sys-bench: the target said '%s'\n", buf);
		exit(1);
	}
	*ret_rare = rare;
	return rate;
}

/* The target under a command (NULL: alone), its stdout to a pipe. */
static double run_cmd(const char *const *prefix)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		const char *argv[16];
		int n = 0;
		for (; prefix && prefix[n]; n++)
			argv[n] = prefix[n];
		argv[n++] = target;
		argv[n++] = iters_s;
		argv[n++] = EVERY;
		argv[n] = NULL;
		dup2(out[1], 1);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	long rare;
	double rate = parse_rate(out[0], &rare);
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "sys-bench: %s failed (%#x)\n", prefix ? prefix[0] : target, st);
		exit(1);
	}
	return rate;
}

/* The target spawned by libdbg, getsid caught, each event resumed. */
static double run_libdbg(int seccomp)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		exit(1);
	static const long nr[] = { SYS_getsid };
	struct dbg_spawn_opts o = { .sz = sizeof(o), .stdout_fd = out[1] };
	if (seccomp) {
		o.seccomp_sysnos = nr;
		o.seccomp_nsysnos = 1;
	}
	char *argv[] = { (char *)target, iters_s, EVERY, NULL };
	struct dbg_proc *p;
	int r = dbg_proc_spawn(target, argv, &o, &p);
	close(out[1]);
	if (r < 0) {
		fprintf(stderr, "sys-bench: spawn: %s\n", dbg_strerror(r));
		exit(1);
	}
	if ((r = dbg_syscall_catch(p, nr, 1, 0)) < 0 ||
	    dbg_syscall_mode(p) != (seccomp ? DBG_SYSCALL_MODE_SECCOMP : DBG_SYSCALL_MODE_PTRACE)) {
		fprintf(stderr, "sys-bench: catch: %s\n", dbg_strerror(r));
		exit(1);
	}
	dbg_proc_resume(p);
	long entries = 0, exits = 0;
	for (;;) {
		struct dbg_event ev;
		r = dbg_proc_wait(p, 60000, &ev);
		if (r < 0) {
			fprintf(stderr, "sys-bench: wait: %s\n", dbg_strerror(r));
			exit(1);
		}
		if (ev.kind == DBG_EVENT_EXITED || ev.kind == DBG_EVENT_KILLED)
			break;
		entries += ev.kind == DBG_EVENT_SYSCALL_ENTRY;
		exits += ev.kind == DBG_EVENT_SYSCALL_EXIT;
		if (ev.kind == DBG_EVENT_SYSCALL_ENTRY || ev.kind == DBG_EVENT_SYSCALL_EXIT)
			dbg_proc_resume_thread(p, ev.tid);
		else
			dbg_proc_resume(p);
	}
	dbg_proc_detach(p);
	long rare;
	double rate = parse_rate(out[0], &rare);
	if (entries != rare || exits != rare) {
		fprintf(stderr, "sys-bench: %ld getsid calls, %ld entries and %ld exits reported\n",
			rare, entries, exits);
		exit(1);
	}
	return rate;
}

static int have_strace(void)
{
	return system("strace -V > /dev/null 2>&1") == 0;
}

int main(int argc, char **argv)
{
	int reps = 5;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			iters_slow = atol(argv[++i]);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: sys-bench [-n ITERS] [-r REPS]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > MAXREPS)
		reps = 5;
	if (iters_slow < 1000)
		iters_slow = 100000;
	int strace = have_strace();
	static const char *const st_ptrace[] = { "strace", "-f", "-qq", "-o", "/dev/null",
						 "-e", "trace=getsid", NULL };
	static const char *const st_seccomp[] = { "strace", "-f", "-qq", "--seccomp-bpf", "-o",
						  "/dev/null", "-e", "trace=getsid", NULL };
	enum { UNTRACED, DBG_PTRACE, DBG_SECCOMP, ST_PTRACE, ST_SECCOMP, NMODES };
	static const char *const name[NMODES] = {
		"untraced", "libdbg, PTRACE_SYSCALL", "libdbg, seccomp filter",
		"strace -f -e trace=getsid", "strace -f --seccomp-bpf -e trace=getsid",
	};
	double v[NMODES][MAXREPS];
	for (int r = 0; r < reps; r++)
		for (int m = 0; m < NMODES; m++) {
			if ((m == ST_PTRACE || m == ST_SECCOMP) && !strace)
				continue;
			set_iters(m == DBG_PTRACE || m == ST_PTRACE);
			v[m][r] = m == UNTRACED ? run_cmd(NULL)
				: m == DBG_PTRACE ? run_libdbg(0)
				: m == DBG_SECCOMP ? run_libdbg(1)
				: run_cmd(m == ST_PTRACE ? st_ptrace : st_seccomp);
		}
	double med[NMODES];
	printf("syscall catching: getppid calls (%ld a run under PTRACE_SYSCALL, %ld else), "
	       "one getsid each %s, catching getsid; median of %d runs\n\n", iters_slow,
	       iters_slow * 20, EVERY, reps);
	printf("| tracer | calls/s | slowdown |\n|---|---:|---:|\n");
	for (int m = 0; m < NMODES; m++) {
		if ((m == ST_PTRACE || m == ST_SECCOMP) && !strace) {
			printf("| %s | (no strace) | |\n", name[m]);
			continue;
		}
		med[m] = median(v[m], reps);
		printf("| %s | %.3g | %.1fx |\n", name[m], med[m], med[UNTRACED] / med[m]);
	}
	if (strace)
		printf("\nlibdbg against strace, same mode: PTRACE_SYSCALL %.2fx, seccomp %.2fx "
		       "(>1: libdbg's target runs faster)\n",
		       med[DBG_PTRACE] / med[ST_PTRACE], med[DBG_SECCOMP] / med[ST_SECCOMP]);
	printf("seccomp filter against PTRACE_SYSCALL (libdbg): %.1fx faster\n",
	       med[DBG_SECCOMP] / med[DBG_PTRACE]);
	return 0;
}
