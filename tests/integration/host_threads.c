/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A host with another thread that does not block SIGCHLD: the kernel may
 * give the process-directed SIGCHLD of our tracees' stops to that thread,
 * so our signalfd never hears of them. Stops and waits must still find
 * the statuses promptly (they poll in threaded hosts), not sit until the
 * stop timeout. Before the poll, each stop-all here took the whole 5 s.
 */
#include "../harness.h"
#include <pthread.h>

static void *idler(void *a)
{
	(void)a;
	sigset_t none;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	for (;;)
		pause();
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void)
{
	struct inferior inf;
	inferior_start(&inf, "sleepers", "3", NULL);
	/* Only the idler may take SIGCHLD: block it here, as a host that
	 * runs its signal handling in another thread does. */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, idler, NULL) == 0, "pthread_create");
	pthread_sigmask(SIG_BLOCK, &chld, NULL);
	struct dbg_attach_opts o = { .sz = sizeof(o), .flags = DBG_ATTACH_NO_STOP };
	struct dbg_proc *p = attach_or_skip(inf.pid, &o);
	int64_t worst = 0;
	for (int round = 0; round < 20; round++) {
		int64_t t0 = now_ms();
		OK(dbg_proc_stop(p));
		int64_t d = now_ms() - t0;
		if (d > worst)
			worst = d;
		OK(dbg_proc_resume(p));
	}
	CHECK(worst < 1000, "a stop-all took %lld ms", (long long)worst);
	/* An event that comes while we wait is seen without the signal. */
	inferior_say(&inf, "usr1\n");
	struct dbg_event ev;
	int64_t t0 = now_ms();
	int r;
	while ((r = dbg_proc_wait(p, 3000, &ev)) == 0 && ev.kind != DBG_EVENT_SIGNAL)
		OK(dbg_proc_resume_thread(p, ev.tid));
	CHECK(r == 0, "no signal event: %d", r);
	CHECK(now_ms() - t0 < 1000, "the signal event took %lld ms", (long long)(now_ms() - t0));
	dbg_proc_detach(p);
	inferior_kill(&inf);
	printf("ok: worst stop-all %lld ms\n", (long long)worst);
	return 0;
}
