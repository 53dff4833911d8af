/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A target for tests/integration/server_threads.sh: main starts N threads
 * (argv[1], default 200) that meet at a barrier with it, each calls hit()
 * and exits; main joins them and calls done(). More than 64 threads: the
 * server's thread table grows while clone events come in. With "exec",
 * a second thread execs the program again (with "1"), main waiting in
 * pthread_join: the new program must stop at gdb's breakpoints again.
 * With "fork" or "vfork", four threads fork (vfork) children that exit
 * at once, in a loop, while main goes round a loop gdb steps through with
 * `next` (lines marked "step A" and "step B"): fork events keep coming
 * while gdb steps and stops the others. With "vfork1", main vforks one
 * child that exits at once (gdb steps over the syscall by instruction).
 * With "alarm", main raises SIGALRM, whose handler raises it again, for
 * ever: a SIGALRM lost by a debugger that attaches and detaches makes
 * raise() return, and the program aborts. "alarm2" does the same in a
 * second thread while main waits in pthread_join
 * (gdb.threads/attach-into-signal.c, threaded).
 * With "signals", main sends SIGUSR1 to four threads blocked in read(2)
 * at once and exits 0 when every handler ran within 20 s (else 3): a
 * signal gdb passes to one thread while another's stop is kept must not
 * be lost. It prints how many handlers saw si_errno 77 (what gdb wrote
 * into $_siginfo).
 * With "nap", a thread calls spin() in a loop while main sleeps 2 s
 * (line "nap here") and then calls done(): gdb `next`s over the sleep
 * while the other thread hits a breakpoint whose condition is false.
 * With "busy", four threads and main go round a loop (line "busy here")
 * that gdb has a breakpoint in and `next`s through: steps of one thread
 * are cut short by the others' hits all the time.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_barrier_t barrier;
volatile int hits;

__attribute__((noinline)) void hit(void)
{
	__atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST);
}

__attribute__((noinline)) void done(int n)
{
	printf("done %d %d\n", n, hits);
	fflush(stdout);
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&barrier);
	hit();
	return NULL;
}

static int use_vfork;

static void *forker(void *arg)
{
	(void)arg;
	for (;;) {
		pid_t c = use_vfork ? vfork() : fork();
		if (c == 0)
			_exit(7);
		int st;
		while (waitpid(c, &st, 0) < 0)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
			abort();
		usleep(20 * 1000);
	}
	return NULL;
}

__attribute__((noinline)) static void nap(void)
{
	usleep(25 * 1000);
}

static void forkers(void)
{
	alarm(240);
	for (int i = 0; i < 4; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, forker, NULL) != 0)
			exit(1);
	}
	for (;;) {
		nap(); /* step A */
		nap(); /* step B */
	}
}

static volatile int handled, errno77;
static int sigpipe[2];
static pid_t sig_tids[4];

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	__atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
	if (si->si_errno == 77)
		__atomic_add_fetch(&errno77, 1, __ATOMIC_SEQ_CST);
}

static void on_alarm(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	raise(SIGALRM);
}

static void *alarm_loop(void *arg)
{
	(void)arg;
	struct sigaction sa = { .sa_sigaction = on_alarm, .sa_flags = SA_RESTART | SA_SIGINFO };
	sigaction(SIGALRM, &sa, NULL);
	raise(SIGALRM);
	abort();
}

static void *reader(void *arg)
{
	sig_tids[(long)arg] = (pid_t)syscall(SYS_gettid);
	char c;
	while (read(sigpipe[0], &c, 1) < 0)
		;
	return NULL;
}

static int signals(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_RESTART | SA_SIGINFO };
	sigaction(SIGUSR1, &sa, NULL);
	if (pipe(sigpipe) < 0)
		return 1;
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, reader, (void *)i) != 0)
			return 1;
	for (int i = 0; i < 4; i++)
		while (!__atomic_load_n(&sig_tids[i], __ATOMIC_SEQ_CST))
			usleep(1000);
	usleep(100 * 1000); /* all in read() */
	for (int i = 0; i < 4; i++)
		syscall(SYS_tgkill, getpid(), sig_tids[i], SIGUSR1);
	for (int i = 0; i < 20000 && handled < 4; i++)
		usleep(1000);
	printf("handled %d, with si_errno 77: %d\n", handled, errno77);
	return handled == 4 ? 0 : 3;
}

volatile int never;

__attribute__((noinline)) void spin(void)
{
	usleep(1);
}

static void *spinner(void *arg)
{
	(void)arg;
	for (;;)
		spin();
	return NULL;
}

static int nap_over_sleep(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, spinner, NULL) != 0)
		return 1;
	usleep(100 * 1000);
	sleep(2); /* nap here */
	done(0); /* after nap */
	return 0;
}

static volatile unsigned long busy_count[5];

static void *busy(void *arg)
{
	long i = (long)arg;
	for (;;)
		busy_count[i]++; /* busy here */
	return NULL;
}

static int busy_threads(void)
{
	alarm(240);
	pthread_t t;
	for (long i = 1; i < 5; i++)
		if (pthread_create(&t, NULL, busy, (void *)i) != 0)
			return 1;
	busy(0);
	return 0;
}

static char *self;

static void *execer(void *arg)
{
	(void)arg;
	execl(self, self, "1", (char *)NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec")) {
		pthread_t t;
		self = argv[0];
		if (pthread_create(&t, NULL, execer, NULL) != 0)
			return 1;
		pthread_join(t, NULL);
		return 1; /* the exec failed */
	}
	if (argc > 1 && !strcmp(argv[1], "alarm"))
		alarm_loop(NULL);
	if (argc > 1 && !strcmp(argv[1], "alarm2")) {
		pthread_t t;
		if (pthread_create(&t, NULL, alarm_loop, NULL) != 0)
			return 1;
		pthread_join(t, NULL);
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "vfork1")) {
		pid_t c = vfork();
		if (c == 0)
			_exit(0);
		return c > 0 && waitpid(c, NULL, 0) == c ? 0 : 1;
	}
	if (argc > 1 && !strcmp(argv[1], "busy"))
		return busy_threads();
	if (argc > 1 && !strcmp(argv[1], "nap"))
		return nap_over_sleep();
	if (argc > 1 && !strcmp(argv[1], "signals"))
		return signals();
	if (argc > 1 && (!strcmp(argv[1], "fork") || !strcmp(argv[1], "vfork"))) {
		use_vfork = argv[1][0] == 'v';
		forkers();
	}
	int n = argc > 1 ? atoi(argv[1]) : 200;
	if (n < 1 || n > 4096)
		return 2;
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	if (!t)
		return 1;
	pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, NULL) != 0)
			return 1;
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	done(n);
	free(t);
	return 0;
}
