/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A process whose main thread called pthread_exit: the leader is a zombie
 * (it cannot be traced: PTRACE_SEIZE refuses a task with exit_state) while
 * the other threads run. Documented behaviour (doc/process.md):
 *   - attach succeeds and stops every live thread; dbg_proc_threads lists
 *     the live threads only; dbg_proc_thread_state(pid) is
 *     DBG_THREAD_EXITED and the leader's registers are -ESRCH;
 *   - memory and the memory map are read through a live thread (the
 *     leader's /proc/PID/mem and maps are empty), and every live thread
 *     unwinds through zl_inner -> zl_middle -> zl_outer with both
 *     backends, with eu-stack's PCs (eu-stack asked per thread: its -p PID
 *     reads the leader's empty /proc/PID/maps and fails);
 *   - detach leaves every thread untraced and running, the leader a zombie;
 *   - an exec from a worker in this state is one DBG_EVENT_EXEC on the pid
 *     (the worker takes over the leader's pid), after which the process is
 *     an ordinary one again;
 *   - when the last thread exits, the process exit is reported
 *     (DBG_EVENT_EXITED) after the thread exits, then -ESRCH; attaching
 *     to the unreaped zombie is -ESRCH with a message that says so;
 *   - a leader that exits while traced (a zombie that never stops) does
 *     not make stop-all wait, and its exit is reported when the process
 *     ends; detach of the other threads works.
 */
#include "../harness.h"

#include <inttypes.h>

#define NW 3
/* How long (in 1 ms polls) a thread may take to exit: in the QEMU guest
 * (TCG, a loaded host) the leader's pthread_exit, which loads libgcc_s
 * for its unwinding, was seen to take over 2 s. */
#define PATIENCE 10000

/* The workers' tids from the ready line ("tids=T1,T2,..."). */
static void ready_tids(const struct inferior *inf, pid_t *workers)
{
	const char *t = strstr(inf->ready, "tids=");
	CHECK(t, "no tids in '%s'", inf->ready);
	t += 5;
	for (int i = 0; i < NW; i++) {
		workers[i] = (pid_t)strtol(t, (char **)&t, 10);
		if (*t == ',')
			t++;
	}
}

static void wait_zombie_leader(pid_t pid)
{
	for (int i = 0; i < PATIENCE && thread_state(pid, pid) != 'Z'; i++)
		sleep_ms(1);
	CHECK(thread_state(pid, pid) == 'Z', "leader of %d is not a zombie (%c)", pid,
	      thread_state(pid, pid));
}

static char last_log[1024];
static void keep_log(enum dbg_log_level lvl, const char *msg, void *ctx)
{
	(void)ctx;
	if (getenv("DBG_TEST_VERBOSE"))
		fprintf(stderr, "libdbg[%d]: %s\n", lvl, msg);
	if (lvl == DBG_LOG_ERROR)
		snprintf(last_log, sizeof(last_log), "%s", msg);
}

/* eu-stack's PCs for one thread (eu-stack -p TID of a live thread works
 * where -p PID does not: it reads /proc/PID/maps, empty for a zombie). */
static int eu_pcs(pid_t tid, uint64_t *pc, int cap)
{
	char cmd[128], line[1024];
	snprintf(cmd, sizeof(cmd), "eu-stack -1 -p %d 2>/dev/null", tid);
	FILE *f = popen(cmd, "r");
	CHECK(f, "popen eu-stack");
	int n = 0, idx;
	uint64_t v;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "#%d 0x%" SCNx64, &idx, &v) == 2 && n < cap && idx == n)
			pc[n++] = v;
	int rc = pclose(f);
	CHECK(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) != 127, "eu-stack is not installed");
	return n;
}

/* The functions of the call chain, from the ready line. */
static uint64_t fn_inner, fn_middle, fn_outer;

/* The first of frames [i..] whose return address (or pc) lies in the
 * function that starts at @fn, by its symbol (a sanitizer build makes
 * the functions several times larger). */
static int find_in(struct dbg_sym *s, const struct dbg_frame *f, int i, int n, uint64_t fn)
{
	for (; i < n; i++) {
		struct dbg_symbol sy;
		uint64_t at = f[i].pc - !(f[i].flags & DBG_FRAME_ACTIVATION);
		if (dbg_sym_lookup(s, at, &sy) == 0 && sy.addr == fn)
			return i;
	}
	return -1;
}

/* Unwind every worker with backend @be; each stack must go through
 * zl_inner, zl_middle, zl_outer in that order and on past them. @ret_n
 * gets each stack's depth, @ret_fixed the number of its outermost frames,
 * zl_middle's on, that do not depend on where in its loop the worker was
 * caught (inside usleep or between two calls of it). */
static void check_stacks(struct dbg_proc *p, pid_t *workers, enum dbg_unwind_backend be,
			 struct dbg_frame (*ret)[64], int *ret_n, int *ret_fixed)
{
	struct dbg_sym *s;
	OK(dbg_sym_new(p, NULL, &s));
	struct dbg_unwinder *u;
	DBG_OPTS(dbg_unwind_opts, uo, .backend = be);
	OK(dbg_unwind_new(p, s, &uo, &u));
	for (int w = 0; w < NW; w++) {
		struct dbg_frame *f = ret[w];
		int n = dbg_unwind_thread(u, workers[w], f, 64);
		CHECK(n > 0, "unwinding worker %d (backend %d): %d %s", workers[w], be, n,
		      dbg_proc_errmsg(p));
		int a = find_in(s, f, 0, n, fn_inner);
		int b = a < 0 ? -1 : find_in(s, f, a + 1, n, fn_middle);
		int c = b < 0 ? -1 : find_in(s, f, b + 1, n, fn_outer);
		CHECK(a >= 0 && b > a && c > b && n > c + 1,
		      "worker %d (backend %d): %d frames, inner at %d, middle at %d, outer at %d",
		      workers[w], be, n, a, b, c);
		ret_n[w] = n;
		ret_fixed[w] = n - b;
	}
	dbg_unwind_free(u);
	dbg_sym_free(s);
}

int main(void)
{
	skip_unless_ptrace();
	struct inferior inf;
	inferior_start(&inf, "zleader", "3", NULL);
	pid_t pid = inf.pid;
	wait_zombie_leader(pid);
	pid_t workers[NW];
	ready_tids(&inf, workers);
	uint64_t hb = ready_field(&inf, "heartbeat");
	fn_inner = ready_field(&inf, "inner");
	fn_middle = ready_field(&inf, "middle");
	fn_outer = ready_field(&inf, "outer");

	/* 1. attach, thread list, leader state. */
	struct dbg_proc *p;
	DBG_OPTS(dbg_attach_opts, ao, .log_fn = keep_log);
	int r = dbg_proc_attach(pid, &ao, &p);
	CHECK(r == 0, "attach to a process with a zombie leader: %d (%s): %s", r,
	      dbg_strerror(r), last_log);
	pid_t tids[16];
	int n = dbg_proc_threads(p, tids, 16);
	CHECK(n == NW + 1, "%d live threads listed, expected %d (3 workers, commander)", n, NW + 1);
	for (int i = 0; i < n; i++) {
		CHECK(tids[i] != pid, "the zombie leader %d is listed as a live thread", pid);
		CHECK(dbg_proc_thread_state(p, tids[i]) == DBG_THREAD_STOPPED, "thread %d not stopped",
		      tids[i]);
		CHECK(thread_state(pid, tids[i]) == 't', "thread %d is '%c', not in a ptrace-stop",
		      tids[i], thread_state(pid, tids[i]));
	}
	CHECK(dbg_proc_thread_state(p, pid) == DBG_THREAD_EXITED, "leader state %d, not EXITED",
	      dbg_proc_thread_state(p, pid));
	struct dbg_regs regs;
	r = dbg_regs_get(p, pid, &regs);
	CHECK(r == -ESRCH, "registers of the zombie leader: %d, expected -ESRCH", r);
	CHECK(strstr(dbg_proc_errmsg(p), "zombie"), "message for the leader: '%s'",
	      dbg_proc_errmsg(p));
	OK(dbg_regs_get(p, workers[0], &regs));

	/* 2. memory and map through a live thread. */
	uint64_t v = 0;
	CHECK(dbg_mem_read(p, hb, &v, 8) == 8, "reading the heartbeat: %s", dbg_proc_errmsg(p));
	CHECK(v == peek_u64(workers[0], hb), "heartbeat %" PRIu64 " differs from the raw read", v);
	const struct dbg_maps *maps;
	OK(dbg_proc_maps(p, &maps));
	CHECK(dbg_maps_find(maps, hb), "the heartbeat is in no VMA of the map");

	/* 3. stacks of every live thread, both backends; then, detached,
	 * against eu-stack (it needs the threads untraced; it stops them
	 * itself). The workers sit in their usleep loop; eu-stack stops
	 * them later than we did, so either may catch one between two
	 * usleep calls (in zl_inner itself, no libc frames inside it: under
	 * TCG that is no rare chance). The frames from zl_middle's on must
	 * be the same, and eu-stack must show at least one inside them. */
	static struct dbg_frame stk[2][NW][64];
	int nst[2][NW], fixed[2][NW];
	/* sym opens the module files through /proc/<live tid>/map_files
	 * and /proc/<live tid>/root: the leader's are gone with its mm and
	 * fs. */
	{
		struct dbg_sym *s;
		struct dbg_module mod;
		OK(dbg_sym_new(p, NULL, &s));
		CHECK(dbg_sym_module(s, fn_inner, &mod) == 0 && !mod.error && mod.has_symbols,
		      "no symbols for the workers' module of a zombie-leader process");
		dbg_sym_free(s);
	}
	check_stacks(p, workers, DBG_UNWIND_LIBUNWIND, stk[0], nst[0], fixed[0]);
	check_stacks(p, workers, DBG_UNWIND_LIBDW, stk[1], nst[1], fixed[1]);
	dbg_proc_detach(p);
	for (int w = 0; w < NW; w++) {
		uint64_t eu[64];
		int ne = eu_pcs(workers[w], eu, 64);
		for (int b = 0; b < 2; b++) {
			int no = nst[b][w], k = fixed[b][w], same = 0;
			for (int i = 0; i < k && i < ne; i++)
				same += stk[b][w][no - 1 - i].pc == eu[ne - 1 - i];
			CHECK(ne > k && same == k,
			      "worker %d backend %d: %d frames (%d outermost fixed), eu-stack %d, "
			      "%d equal from the outermost",
			      workers[w], b, no, k, ne, same);
		}
	}

	/* 4. after detach: untraced, running, leader still a zombie. */
	for (int i = 0; i < NW; i++)
		CHECK(thread_tracer(pid, workers[i]) == 0, "worker %d still traced", workers[i]);
	uint64_t h0 = peek_u64(workers[0], hb);
	sleep_ms(50);
	CHECK(peek_u64(workers[0], hb) > h0, "worker 0 does not run after detach");
	CHECK(thread_state(pid, pid) == 'Z', "leader is '%c' after detach", thread_state(pid, pid));

	/* 5. attach again, then exec from a worker: one EXEC on the pid. */
	r = dbg_proc_attach(pid, &ao, &p);
	CHECK(r == 0, "second attach: %d %s", r, last_log);
	OK(dbg_proc_resume(p));
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "exec %s/sleepers\n", INFERIOR_DIR);
	inferior_say(&inf, cmd);
	struct dbg_event ev = wait_for(p, DBG_EVENT_EXEC, 10000);
	CHECK(ev.tid == pid, "exec event on %d, not the pid %d", ev.tid, pid);
	n = dbg_proc_threads(p, tids, 16);
	CHECK(n == 1 && tids[0] == pid, "after exec: %d threads, first %d", n, tids[0]);
	CHECK(dbg_proc_thread_state(p, pid) == DBG_THREAD_STOPPED, "new leader not stopped");
	OK(dbg_regs_get(p, pid, &regs));
	OK(dbg_proc_resume(p));
	char line[1024];
	serve_until_line(p, &inf, line, sizeof(line));
	CHECK(!strncmp(line, "ready", 5), "new program said '%s'", line);
	OK(dbg_proc_stop(p));
	dbg_proc_detach(p);
	CHECK(thread_tracer(pid, pid) == 0, "leader still traced after detach");
	inferior_kill(&inf);

	/* 6. the process exit, with a zombie leader, is reported. */
	inferior_start(&inf, "zleader", "3", NULL);
	pid = inf.pid;
	wait_zombie_leader(pid);
	r = dbg_proc_attach(pid, &ao, &p);
	CHECK(r == 0, "third attach: %d %s", r, last_log);
	OK(dbg_proc_resume(p));
	inferior_say(&inf, "exit 7\n");
	int exits = 0;
	for (;;) {
		r = dbg_proc_wait(p, 10000, &ev);
		CHECK(r == 0, "waiting for the exit: %d %s", r, dbg_proc_errmsg(p));
		if (ev.kind == DBG_EVENT_THREAD_EXIT) {
			exits++;
			continue;
		}
		CHECK(ev.kind == DBG_EVENT_EXITED, "event kind %d while exiting", ev.kind);
		break;
	}
	CHECK(ev.status == 7 && exits == NW + 1, "exit status %d after %d thread exits", ev.status,
	      exits);
	CHECK(dbg_proc_wait(p, 0, &ev) == -ESRCH, "an event after the exit");
	dbg_proc_detach(p);
	/* Not reaped yet: a zombie process, which attach names as such. */
	last_log[0] = 0;
	r = dbg_proc_attach(pid, &ao, &p);
	CHECK(r == -ESRCH && strstr(last_log, "zombie"), "attach to a zombie: %d '%s'", r, last_log);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7,
	      "the parent reaps the process with status 7");
	inf.pid = 0;
	inferior_kill(&inf);

	/* 7. the leader exits while we are attached: a traced zombie that
	 * never stops and cannot be detached. Stopping does not wait for it
	 * (no 5 s timeout), it is reported as exited, and when the process
	 * ends its exit comes to us and is reported; detaching the others
	 * works (the leader stays ours: doc/process.md says why). */
	for (int variant = 0; variant < 2; variant++) {
		inferior_start(&inf, "zleader", "3", "wait", NULL);
		pid = inf.pid;
		hb = ready_field(&inf, "heartbeat");
		ready_tids(&inf, workers);
		r = dbg_proc_attach(pid, &ao, &p);
		CHECK(r == 0, "attach before the leader exits: %d %s", r, last_log);
		OK(dbg_proc_resume(p));
		inferior_say(&inf, "go\n");
		/* Serve its events (the commander's clone) until the leader
		 * is a zombie. */
		bool leader_exit = false;
		for (int i = 0; i < PATIENCE && thread_state(pid, pid) != 'Z'; i++)
			if (dbg_proc_wait(p, 1, &ev) == 0 && ev.kind != DBG_EVENT_THREAD_EXIT)
				dbg_proc_resume_thread(p, ev.tid);
			else if (ev.kind == DBG_EVENT_THREAD_EXIT && ev.tid == pid)
				leader_exit = true;
		wait_zombie_leader(pid);
		/* The leader's exit gives no status of its own while the
		 * others run: dbg_proc_wait looks for it and reports it as a
		 * thread exit (dbg-server's 'N' when gdb resumed only it). */
		for (int i = 0; i < 200 && !leader_exit; i++) {
			r = dbg_proc_wait(p, 10, &ev);
			if (r == 0 && ev.kind == DBG_EVENT_THREAD_EXIT && ev.tid == pid)
				leader_exit = true;
			else if (r == 0 && ev.kind != DBG_EVENT_THREAD_EXIT)
				dbg_proc_resume_thread(p, ev.tid);
		}
		CHECK(leader_exit, "no thread exit event for the leader %d", pid);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = dbg_proc_stop(p);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double stop_s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		CHECK(r == 0 && stop_s < 1.0, "stop after the leader's exit: %d in %.3f s: %s", r,
		      stop_s, dbg_proc_errmsg(p));
		CHECK(dbg_proc_thread_state(p, pid) == DBG_THREAD_EXITED, "leader state %d",
		      dbg_proc_thread_state(p, pid));
		n = dbg_proc_threads(p, tids, 16);
		CHECK(n == NW + 1, "%d live threads after the leader's exit", n);
		CHECK(dbg_regs_get(p, pid, &regs) == -ESRCH, "registers of the exited leader");
		OK(dbg_regs_get(p, workers[0], &regs));
		CHECK(dbg_mem_read(p, hb, &v, 8) == 8, "read after the leader's exit: %s",
		      dbg_proc_errmsg(p));
		OK(dbg_proc_resume(p));
		if (variant == 0) {
			inferior_say(&inf, "exit 3\n");
			int nexit = 0;
			for (;;) {
				r = dbg_proc_wait(p, 10000, &ev);
				CHECK(r == 0, "waiting for the exit: %d %s", r, dbg_proc_errmsg(p));
				if (ev.kind == DBG_EVENT_THREAD_EXIT) {
					nexit++;
					continue;
				}
				break;
			}
			CHECK(ev.kind == DBG_EVENT_EXITED && ev.tid == pid && ev.status == 3 &&
			      nexit == NW + 1, "event %d tid %d status %d after %d thread exits",
			      ev.kind, ev.tid, ev.status, nexit);
			dbg_proc_detach(p);
			/* We are its parent too: reaping it as tracer reaped it. */
			CHECK(kill(pid, 0) < 0 && errno == ESRCH, "process %d is still there", pid);
			inf.pid = 0;
		} else {
			OK(dbg_proc_stop(p));
			dbg_proc_detach(p);
			for (int i = 0; i < NW; i++)
				CHECK(thread_tracer(pid, workers[i]) == 0, "worker %d still traced",
				      workers[i]);
			uint64_t h1 = peek_u64(workers[0], hb);
			sleep_ms(30);
			CHECK(peek_u64(workers[0], hb) > h1, "workers do not run after detach");
		}
		inferior_kill(&inf);
	}

	/* 8. Memory of a running process whose leader is gone: the thread
	 * that names its address space (process_vm_readv needs a live one)
	 * exits, its exit not reaped yet; reads go on through another
	 * (gdb.threads/access-mem-running-thread-exit.exp). */
	inferior_start(&inf, "zleader", "3", NULL);
	pid = inf.pid;
	hb = ready_field(&inf, "heartbeat");
	ready_tids(&inf, workers);
	wait_zombie_leader(pid);
	r = dbg_proc_attach(pid, &ao, &p);
	CHECK(r == 0, "attach for the reads: %d %s", r, last_log);
	OK(dbg_proc_resume(p));
	for (int i = 0; i < NW - 1; i++) {
		char end_cmd[32];
		snprintf(end_cmd, sizeof(end_cmd), "end %d\n", i);
		inferior_say(&inf, end_cmd);
		for (int k = 0; k < PATIENCE; k++) {
			char ws = thread_state(pid, workers[i]);
			if (!ws || ws == 'Z' || ws == 'X')
				break;
			sleep_ms(1);
		}
		uint64_t before = 0, after = 0;
		CHECK(dbg_mem_read(p, hb + 8 * (NW - 1), &before, 8) == 8,
		      "read after worker %d exited: %s", i, dbg_proc_errmsg(p));
		sleep_ms(20);
		CHECK(dbg_mem_read(p, hb + 8 * (NW - 1), &after, 8) == 8 && after > before,
		      "second read after worker %d exited: %s", i, dbg_proc_errmsg(p));
	}
	OK(dbg_proc_stop(p));
	dbg_proc_detach(p);
	inferior_kill(&inf);

	/* 9. The leader exits while the others run and nobody waits: the
	 * thread list drops it at once (dbg-server lists the threads right
	 * after the stop of a thread that joined the leader:
	 * gdb.threads/gcore-stale-thread.exp). */
	inferior_start(&inf, "zleader", "3", "wait", NULL);
	pid = inf.pid;
	r = dbg_proc_attach(pid, &ao, &p);
	CHECK(r == 0, "attach for the list: %d %s", r, last_log);
	OK(dbg_proc_resume(p));
	inferior_say(&inf, "go\n");
	/* the commander's clone stops the leader until served */
	for (int i = 0; i < 100; i++) {
		if (dbg_proc_wait(p, 100, &ev) != 0)
			continue;
		if (ev.kind != DBG_EVENT_THREAD_EXIT)
			OK(dbg_proc_resume_thread(p, ev.tid));
		if (ev.kind == DBG_EVENT_CLONE)
			break;
	}
	bool listed = true;
	for (int i = 0; i < PATIENCE && listed; i++) {
		pid_t all[16];
		n = dbg_proc_threads(p, all, 16);
		listed = false;
		for (int k = 0; k < n && k < 16; k++)
			listed |= all[k] == pid;
		if (listed)
			sleep_ms(1);
	}
	CHECK(!listed && thread_state(pid, pid) == 'Z',
	      "the leader is still listed after it exited (state %c)", thread_state(pid, pid));
	OK(dbg_proc_stop(p));
	dbg_proc_detach(p);
	inferior_kill(&inf);

	printf("zombie leader: %d live threads stopped, %s, detached running; exec from a "
	       "worker, the process exit and a leader exiting while attached are reported\n",
	       NW + 1, "unwound with both backends as eu-stack");
	return 0;
}
