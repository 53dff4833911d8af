/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg-server: qXfer:osdata:read, the tables gdb's `info os [TYPE]` shows,
 * read from /proc when gdb asks (offset 0): processes, process groups,
 * threads, file descriptors, internet sockets, SysV shared memory,
 * semaphores and message queues, CPUs and kernel modules. The column
 * names and their order are the ones Debian's gdbserver 13.1 sends, so
 * gdb prints the same tables.
 *
 * /proc changes under the reader: a process that is gone halfway, or
 * whose fds or files we may not read, loses its rows (or, for a file
 * descriptor whose link we may not read, gets its number as name, as
 * gdbserver shows it); a line we cannot parse is left out. Every value is
 * XML-escaped, control bytes dropped and bytes that are not UTF-8 shown
 * as '?', so the document always parses. The system-wide files (net,
 * sysvipc, cpuinfo, modules) are read under $DBG_SERVER_OSDATA_PROC when
 * it is set, for tests with made-up contents.
 */
#include "osdata.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- output */

static void column(struct buf *b, const char *name, const char *val)
{
	buf_printf(b, "<column name=\"%s\">", name);
	buf_xml(b, val);
	buf_printf(b, "</column>");
}

static void column_int(struct buf *b, const char *name, long long v)
{
	buf_printf(b, "<column name=\"%s\">%lld</column>", name, v);
}

/* --------------------------------------------------------------- reading */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* The numeric entries of directory @path, ascending, in a malloc()ed
 * array (*ret_n of them); NULL if it cannot be read. */
static int *numeric_entries(const char *path, size_t *ret_n)
{
	*ret_n = 0;
	DIR *d = opendir(path);
	if (!d)
		return NULL;
	int *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *s = e->d_name;
		if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			int *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[n++] = atoi(s);
	}
	closedir(d);
	if (!v)
		v = malloc(sizeof(*v));
	if (v)
		qsort(v, n, sizeof(*v), cmp_int);
	*ret_n = v ? n : 0;
	return v;
}

/* /proc/PID/stat (or task/TID/stat): the name into @name (cut to 15
 * bytes, TASK_COMM_LEN - 1, as the kernel keeps it) and a pointer to the
 * fields after it (field 3, the state), in @b. NULL if gone. */
static const char *read_stat(const char *path, struct buf *b, char name[16])
{
	if (buf_read_file(path, b) < 0 || !b->len)
		return NULL;
	char *l = strchr(b->d, '(');
	char *r = strrchr(b->d, ')');
	if (!l || !r || r < l)
		return NULL;
	size_t n = (size_t)(r - l - 1);
	if (n > 15)
		n = 15;
	memcpy(name, l + 1, n);
	name[n] = 0;
	return r + 1;
}

/* Field @k (3 = the state, 5 = pgid, 39 = the cpu) of the stat fields
 * from read_stat(); -1 if there are fewer. */
static long long stat_field(const char *p, int k)
{
	for (int f = 3; *p; f++) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (f == k)
			return strtoll(p, NULL, 10);
		while (*p && *p != ' ')
			p++;
	}
	return -1;
}

/* A process's name as gdbserver shows it in `command` columns: its stat
 * name, or its number when it is gone (or is 0, "no process"). */
static void task_name(long long pid, char *out, size_t cap)
{
	char path[64], name[16];
	struct buf b = { 0 };
	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	if (pid > 0 && read_stat(path, &b, name))
		snprintf(out, cap, "%s", name);
	else
		snprintf(out, cap, "%lld", pid);
	free(b.d);
}

/* The command line with spaces between (and after) the arguments, or,
 * for a process without one (a kernel thread, a zombie), "[name]". 0, or
 * -1 when the process is gone. */
static int command_line(int pid, struct buf *out)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	if (buf_read_file(path, out) < 0)
		return -1;
	for (size_t i = 0; i < out->len; i++)
		if (!out->d[i])
			out->d[i] = ' ';
	if (out->len)
		return 0;
	char name[16];
	struct buf st = { 0 };
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	const char *ok = read_stat(path, &st, name);
	free(st.d);
	if (!ok)
		return -1;
	buf_printf(out, "[%s]", name);
	return 0;
}

static void user_name(long long uid, char *out, size_t cap)
{
	struct passwd pw, *pwp = NULL;
	char tmp[1024];
	if (uid >= 0 && getpwuid_r((uid_t)uid, &pw, tmp, sizeof(tmp), &pwp) == 0 && pwp)
		snprintf(out, cap, "%s", pw.pw_name);
	else
		snprintf(out, cap, "%lld", uid);
}

static void group_name(long long gid, char *out, size_t cap)
{
	struct group gr, *grp = NULL;
	char tmp[1024];
	if (gid >= 0 && getgrgid_r((gid_t)gid, &gr, tmp, sizeof(tmp), &grp) == 0 && grp)
		snprintf(out, cap, "%s", gr.gr_name);
	else
		snprintf(out, cap, "%lld", gid);
}

/* A time as ctime() writes it (without its newline), "" for 0 (never). */
static void time_text(long long t, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;
	out[0] = 0;
	if (t > 0 && localtime_r(&tt, &tm))
		strftime(out, cap, "%a %b %e %H:%M:%S %Y", &tm);
}

/* The next line of @*p (NUL-terminated in place), NULL at the end. */
static char *next_line(char **p)
{
	char *s = *p;
	if (!s || !*s)
		return NULL;
	char *nl = strchr(s, '\n');
	if (nl) {
		*nl = 0;
		*p = nl + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

/* Split @line at blanks into at most @max tokens; their number. */
static int split(char *line, char **tok, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " \t", &save); t && n < max; t = strtok_r(NULL, " \t", &save))
		tok[n++] = t;
	return n;
}

/* @s is a decimal integer (optionally negative) that fits a long long. */
static int is_number(const char *s, long long *ret)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno)
		return 0;
	*ret = v;
	return 1;
}

/* The system-wide tables (net, sysvipc, cpuinfo, modules) are read under
 * $DBG_SERVER_OSDATA_PROC if set, else /proc: a test's made-up files. */
static int read_table(const char *name, struct buf *b)
{
	const char *root = getenv("DBG_SERVER_OSDATA_PROC");
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", root && *root ? root : "/proc", name);
	return buf_read_file(path, b);
}

/* ------------------------------------------------------------------ types */

static void processes(struct buf *doc)
{
	size_t n;
	int *pids = numeric_entries("/proc", &n);
	struct buf cmd = { 0 }, st = { 0 };
	for (size_t i = 0; i < n; i++) {
		char path[96], user[64], name[16];
		snprintf(path, sizeof(path), "/proc/%d", pids[i]);
		struct stat sb;
		if (stat(path, &sb) < 0 || command_line(pids[i], &cmd) < 0)
			continue;
		user_name(sb.st_uid, user, sizeof(user));
		/* the cores its threads last ran on, "0,3" */
		size_t nt;
		snprintf(path, sizeof(path), "/proc/%d/task", pids[i]);
		int *tids = numeric_entries(path, &nt);
		int *cores = malloc((nt ? nt : 1) * sizeof(int));
		size_t nc = 0;
		for (size_t t = 0; cores && t < nt; t++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pids[i], tids[t]);
			const char *f = read_stat(path, &st, name);
			long long c = f ? stat_field(f, 39) : -1;
			if (c >= 0 && c <= 1 << 20)
				cores[nc++] = (int)c;
		}
		char list[256] = "";
		size_t len = 0;
		if (cores)
			qsort(cores, nc, sizeof(int), cmp_int);
		for (size_t c = 0; c < nc && len + 12 < sizeof(list); c++)
			if (!c || cores[c] != cores[c - 1])
				len += (size_t)snprintf(list + len, sizeof(list) - len, len ? ",%d" : "%d",
							cores[c]);
		free(cores);
		free(tids);
		buf_printf(doc, "<item>");
		column_int(doc, "pid", pids[i]);
		column(doc, "user", user);
		column(doc, "command", cmd.d);
		column(doc, "cores", list);
		buf_printf(doc, "</item>\n");
	}
	free(pids);
	free(cmd.d);
	free(st.d);
}

struct pg {
	int pgid, pid;
};

static int cmp_pg(const void *a, const void *b)
{
	const struct pg *x = a, *y = b;
	if (x->pgid != y->pgid)
		return (x->pgid > y->pgid) - (x->pgid < y->pgid);
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Every process in a group (pgid > 0), by group then pid. */
static void procgroups(struct buf *doc)
{
	size_t n, m = 0;
	int *pids = numeric_entries("/proc", &n);
	struct pg *v = malloc((n ? n : 1) * sizeof(*v));
	struct buf st = { 0 }, cmd = { 0 };
	for (size_t i = 0; v && i < n; i++) {
		char path[64], name[16];
		snprintf(path, sizeof(path), "/proc/%d/stat", pids[i]);
		const char *f = read_stat(path, &st, name);
		long long pgid = f ? stat_field(f, 5) : -1;
		if (pgid > 0 && pgid <= 0x7fffffff)
			v[m++] = (struct pg){ (int)pgid, pids[i] };
	}
	if (v)
		qsort(v, m, sizeof(*v), cmp_pg);
	for (size_t i = 0; i < m; i++) {
		char leader[32];
		if (command_line(v[i].pid, &cmd) < 0)
			continue;
		task_name(v[i].pgid, leader, sizeof(leader));
		buf_printf(doc, "<item>");
		column_int(doc, "pgid", v[i].pgid);
		column(doc, "leader command", leader);
		column_int(doc, "pid", v[i].pid);
		column(doc, "command line", cmd.d);
		buf_printf(doc, "</item>\n");
	}
	free(v);
	free(pids);
	free(st.d);
	free(cmd.d);
}

static void threads(struct buf *doc)
{
	size_t n;
	int *pids = numeric_entries("/proc", &n);
	struct buf st = { 0 };
	for (size_t i = 0; i < n; i++) {
		char path[96], pname[32], name[16];
		task_name(pids[i], pname, sizeof(pname));
		size_t nt;
		snprintf(path, sizeof(path), "/proc/%d/task", pids[i]);
		int *tids = numeric_entries(path, &nt);
		for (size_t t = 0; t < nt; t++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pids[i], tids[t]);
			const char *f = read_stat(path, &st, name);
			if (!f)
				continue;
			buf_printf(doc, "<item>");
			column_int(doc, "pid", pids[i]);
			column(doc, "command", pname);
			column_int(doc, "tid", tids[t]);
			column_int(doc, "core", stat_field(f, 39));
			buf_printf(doc, "</item>\n");
		}
		free(tids);
	}
	free(pids);
	free(st.d);
}

static void files(struct buf *doc)
{
	size_t n;
	int *pids = numeric_entries("/proc", &n);
	for (size_t i = 0; i < n; i++) {
		char path[96], pname[32];
		size_t nf;
		snprintf(path, sizeof(path), "/proc/%d/fd", pids[i]);
		int *fds = numeric_entries(path, &nf);
		if (!fds)
			continue; /* another user's, or gone */
		task_name(pids[i], pname, sizeof(pname));
		for (size_t f = 0; f < nf; f++) {
			char target[4097];
			snprintf(path, sizeof(path), "/proc/%d/fd/%d", pids[i], fds[f]);
			ssize_t len = readlink(path, target, sizeof(target) - 1);
			if (len < 0)
				len = snprintf(target, sizeof(target), "%d", fds[f]);
			target[len] = 0;
			buf_printf(doc, "<item>");
			column_int(doc, "pid", pids[i]);
			column(doc, "command", pname);
			column_int(doc, "file descriptor", fds[f]);
			column(doc, "name", target);
			buf_printf(doc, "</item>\n");
		}
		free(fds);
	}
	free(pids);
}

/* An address of /proc/net/{tcp,udp}[6]: 8 or 32 hex digits, 32-bit words
 * in the kernel's (this host's) byte order. 0, or -1 if malformed. */
static int net_addr(const char *hex, int family, char *out, size_t cap)
{
	size_t words = family == AF_INET ? 1 : 4;
	if (strlen(hex) != words * 8 || strspn(hex, "0123456789abcdefABCDEF") != words * 8)
		return -1;
	uint32_t a[4];
	for (size_t w = 0; w < words; w++) {
		char part[9];
		memcpy(part, hex + 8 * w, 8);
		part[8] = 0;
		a[w] = (uint32_t)strtoul(part, NULL, 16);
	}
	return inet_ntop(family, a, out, (socklen_t)cap) ? 0 : -1;
}

static const char *const tcp_states[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV", [4] = "FIN_WAIT1",
	[5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE", [8] = "CLOSE_WAIT",
	[9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
};

static void sockets(struct buf *doc)
{
	static const struct {
		const char *path, *family, *protocol;
		int af;
	} tables[] = {
		{ "net/tcp", "INET", "STREAM", AF_INET },
		{ "net/udp", "INET", "DGRAM", AF_INET },
		{ "net/tcp6", "INET6", "STREAM", AF_INET6 },
		{ "net/udp6", "INET6", "DGRAM", AF_INET6 },
	};
	struct buf b = { 0 };
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		if (read_table(tables[t].path, &b) < 0)
			continue;
		char *p = b.d, *line;
		next_line(&p); /* the header */
		while ((line = next_line(&p))) {
			/* sl local rem st queues tr:when retrnsmt uid ... */
			char *tok[8];
			if (split(line, tok, 8) < 8)
				continue;
			char *lport = strchr(tok[1], ':'), *rport = strchr(tok[2], ':');
			if (!lport || !rport)
				continue;
			*lport++ = 0;
			*rport++ = 0;
			char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN], user[64], *end;
			unsigned long lp = strtoul(lport, &end, 16);
			if (*end || lp > 65535)
				continue;
			unsigned long rp = strtoul(rport, &end, 16);
			if (*end || rp > 65535)
				continue;
			unsigned long st = strtoul(tok[3], &end, 16);
			long long uid;
			if (*end || !is_number(tok[7], &uid) ||
			    net_addr(tok[1], tables[t].af, la, sizeof(la)) < 0 ||
			    net_addr(tok[2], tables[t].af, ra, sizeof(ra)) < 0)
				continue;
			char state[16];
			if (st < sizeof(tcp_states) / sizeof(tcp_states[0]) && tcp_states[st])
				snprintf(state, sizeof(state), "%s", tcp_states[st]);
			else
				snprintf(state, sizeof(state), "%lu", st);
			user_name(uid, user, sizeof(user));
			buf_printf(doc, "<item>");
			column(doc, "local address", la);
			column_int(doc, "local port", (long long)lp);
			column(doc, "remote address", ra);
			column_int(doc, "remote port", (long long)rp);
			column(doc, "state", state);
			column(doc, "user", user);
			column(doc, "family", tables[t].family);
			column(doc, "protocol", tables[t].protocol);
			buf_printf(doc, "</item>\n");
		}
	}
	free(b.d);
}

/* SysV IPC, /proc/sysvipc/{shm,sem,msg}: a header line, then one line of
 * numbers per object; each column takes one field, shown as it is or as
 * the command of a pid, a user, a group, a time. */
enum ipc_kind { RAW, CMD, USER, GROUP, TIME };
struct ipc_column {
	const char *name;
	int field;
	enum ipc_kind kind;
};

static const struct ipc_column shm_columns[] = {
	{ "key", 0, RAW }, { "shmid", 1, RAW }, { "permissions", 2, RAW },
	{ "size", 3, RAW }, { "creator command", 4, CMD }, { "last op. command", 5, CMD },
	{ "num attached", 6, RAW }, { "user", 7, USER }, { "group", 8, GROUP },
	{ "creator user", 9, USER }, { "creator group", 10, GROUP },
	{ "last shmat() time", 11, TIME }, { "last shmdt() time", 12, TIME },
	{ "last shmctl() time", 13, TIME }, { NULL, 0, RAW },
};
static const struct ipc_column sem_columns[] = {
	{ "key", 0, RAW }, { "semid", 1, RAW }, { "permissions", 2, RAW },
	{ "num semaphores", 3, RAW }, { "user", 4, USER }, { "group", 5, GROUP },
	{ "creator user", 6, USER }, { "creator group", 7, GROUP },
	{ "last semop() time", 8, TIME }, { "last semctl() time", 9, TIME }, { NULL, 0, RAW },
};
static const struct ipc_column msg_columns[] = {
	{ "key", 0, RAW }, { "msqid", 1, RAW }, { "permissions", 2, RAW },
	{ "num used bytes", 3, RAW }, { "num messages", 4, RAW },
	{ "last msgsnd() command", 5, CMD }, { "last msgrcv() command", 6, CMD },
	{ "user", 7, USER }, { "group", 8, GROUP }, { "creator user", 9, USER },
	{ "creator group", 10, GROUP }, { "last msgsnd() time", 11, TIME },
	{ "last msgrcv() time", 12, TIME }, { "last msgctl() time", 13, TIME }, { NULL, 0, RAW },
};

static void ipc_table(struct buf *doc, const char *path, const struct ipc_column *cols)
{
	struct buf b = { 0 };
	if (read_table(path, &b) < 0) {
		free(b.d);
		return;
	}
	int need = 0;
	for (const struct ipc_column *c = cols; c->name; c++)
		if (c->field + 1 > need)
			need = c->field + 1;
	char *p = b.d, *line;
	next_line(&p);
	while ((line = next_line(&p))) {
		char *tok[32];
		long long v[32];
		int n = split(line, tok, 32), ok = n >= need;
		for (int i = 0; ok && i < need; i++)
			ok = is_number(tok[i], &v[i]);
		if (!ok)
			continue;
		buf_printf(doc, "<item>");
		for (const struct ipc_column *c = cols; c->name; c++) {
			char val[96];
			long long x = v[c->field];
			switch (c->kind) {
			case RAW: snprintf(val, sizeof(val), "%s", tok[c->field]); break;
			case CMD: task_name(x, val, sizeof(val)); break;
			case USER: user_name(x, val, sizeof(val)); break;
			case GROUP: group_name(x, val, sizeof(val)); break;
			case TIME: time_text(x, val, sizeof(val)); break;
			}
			column(doc, c->name, val);
		}
		buf_printf(doc, "</item>\n");
	}
	free(b.d);
}

static void shm(struct buf *doc)
{
	ipc_table(doc, "sysvipc/shm", shm_columns);
}

static void semaphores(struct buf *doc)
{
	ipc_table(doc, "sysvipc/sem", sem_columns);
}

static void msg(struct buf *doc)
{
	ipc_table(doc, "sysvipc/msg", msg_columns);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

/* /proc/cpuinfo: an item per block ("name : value" lines, a blank line
 * after each), a column per line, the value without the blanks around. */
static void cpus(struct buf *doc)
{
	struct buf b = { 0 };
	if (read_table("cpuinfo", &b) < 0) {
		free(b.d);
		return;
	}
	char *p = b.d, *line;
	int open = 0;
	while ((line = next_line(&p))) {
		char *colon = strchr(line, ':');
		if (!*trim(line) || !colon) {
			if (open && !*trim(line))
				buf_printf(doc, "</item>\n"), open = 0;
			continue;
		}
		*colon = 0;
		char *name = trim(line), *val = trim(colon + 1);
		if (!*name)
			continue;
		if (!open)
			buf_printf(doc, "<item>"), open = 1;
		buf_printf(doc, "<column name=\"");
		buf_xml(doc, name);
		buf_printf(doc, "\">");
		buf_xml(doc, val);
		buf_printf(doc, "</column>");
	}
	if (open)
		buf_printf(doc, "</item>\n");
	free(b.d);
}

/* /proc/modules: "name size uses deps state 0xADDRESS [taints]"; the
 * address without its 0x, as gdbserver shows it. */
static void modules(struct buf *doc)
{
	static const char *const names[] = { "name", "size", "num uses", "dependencies",
					      "status", "address" };
	struct buf b = { 0 };
	if (read_table("modules", &b) < 0) {
		free(b.d);
		return;
	}
	char *p = b.d, *line;
	while ((line = next_line(&p))) {
		char *tok[6];
		if (split(line, tok, 6) < 6)
			continue;
		if (!strncmp(tok[5], "0x", 2) && tok[5][2] &&
		    strspn(tok[5] + 2, "0123456789abcdefABCDEF") == strlen(tok[5] + 2))
			tok[5] += 2;
		buf_printf(doc, "<item>");
		for (int i = 0; i < 6; i++)
			column(doc, names[i], tok[i]);
		buf_printf(doc, "</item>\n");
	}
	free(b.d);
}

static const struct osdata_type {
	const char *type, *description, *title;
	void (*fill)(struct buf *doc);
} types[] = {
	{ "cpus", "Listing of all cpus/cores on the system", "CPUs", cpus },
	{ "files", "Listing of all file descriptors", "File descriptors", files },
	{ "modules", "Listing of all loaded kernel modules", "Kernel modules", modules },
	{ "msg", "Listing of all message queues", "Message queues", msg },
	{ "processes", "Listing of all processes", "Processes", processes },
	{ "procgroups", "Listing of all process groups", "Process groups", procgroups },
	{ "semaphores", "Listing of all semaphores", "Semaphores", semaphores },
	{ "shm", "Listing of all shared-memory regions", "Shared-memory regions", shm },
	{ "sockets", "Listing of all internet-domain sockets", "Sockets", sockets },
	{ "threads", "Listing of all threads", "Threads", threads },
};

static void doc_start(struct buf *doc, const char *type)
{
	buf_printf(doc, "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"osdata.dtd\">\n"
			"<osdata type=\"%s\">\n", type);
}

int osdata_read(struct server *s, const char *annex, struct buf *doc)
{
	(void)s;
	size_t ntypes = sizeof(types) / sizeof(types[0]);
	if (!annex[0]) {
		doc_start(doc, "types");
		for (size_t i = 0; i < ntypes; i++) {
			buf_printf(doc, "<item>");
			column(doc, "Type", types[i].type);
			column(doc, "Description", types[i].description);
			column(doc, "Title", types[i].title);
			buf_printf(doc, "</item>\n");
		}
		buf_printf(doc, "</osdata>\n");
		return 0;
	}
	for (size_t i = 0; i < ntypes; i++) {
		if (strcmp(annex, types[i].type))
			continue;
		doc_start(doc, types[i].type);
		types[i].fill(doc);
		buf_printf(doc, "</osdata>\n");
		return 0;
	}
	return 0; /* unknown: an empty document */
}
