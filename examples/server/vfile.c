/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vFile: gdb reads the program and its libraries through the server
 * (sysroot "target:"). After vFile:setfs:PID, paths are resolved inside
 * that process's root and mount namespace: opened with openat2() under
 * /proc/PID/root with RESOLVE_IN_ROOT, so absolute symlinks in the
 * target's tree stay in it.
 */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* gdb's File-I/O errno values. */
static int fio_errno(int e)
{
	switch (e) {
	case EPERM: return 1;
	case ENOENT: return 2;
	case EINTR: return 4;
	case EBADF: return 9;
	case EACCES: return 13;
	case EFAULT: return 14;
	case EBUSY: return 16;
	case EEXIST: return 17;
	case ENODEV: return 19;
	case ENOTDIR: return 20;
	case EISDIR: return 21;
	case EINVAL: return 22;
	case ENFILE: return 23;
	case EMFILE: return 24;
	case EFBIG: return 27;
	case ENOSPC: return 28;
	case ESPIPE: return 29;
	case EROFS: return 30;
	case ENAMETOOLONG: return 91;
	default: return 9999;
	}
}

static void fail(struct buf *out, int e)
{
	buf_printf(out, "F-1,%x", fio_errno(e));
}

/* Decode a hex path argument up to the next ',' or the end. */
static int hex_path(const char **s, char *out, size_t cap)
{
	size_t n = 0;
	const char *p = *s;
	while (*p && *p != ',') {
		if (n + 1 >= cap || !p[1])
			return -1;
		uint8_t b;
		if (rsp_unhex(p, 1, &b) < 0 || b == 0)
			return -1;
		out[n++] = (char)b;
		p += 2;
	}
	out[n] = 0;
	*s = p;
	return 0;
}

static int get_num(const char **s, uint64_t *v)
{
	if (rsp_parse_hex(s, v) < 0)
		return -1;
	if (**s == ',')
		(*s)++;
	return 0;
}

/* Open @path as the current fs process sees it. */
static int fs_open(struct server *s, const char *path, int flags, mode_t mode)
{
	if (s->fs_pid <= 0)
		return open(path, flags | O_CLOEXEC, mode);
	char root[64];
	snprintf(root, sizeof(root), "/proc/%d/root", (int)s->fs_pid);
	int dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT,
	};
	int fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
	int e = errno;
	close(dfd);
	errno = e;
	return fd;
}

static int fd_slot(struct server *s, uint64_t n)
{
	if (n >= sizeof(s->fds) / sizeof(s->fds[0]) || s->fds[n] < 0)
		return -1;
	return s->fds[n];
}

void vfile_close_all(struct server *s)
{
	for (size_t i = 0; i < sizeof(s->fds) / sizeof(s->fds[0]); i++) {
		if (s->fds[i] >= 0)
			close(s->fds[i]);
		s->fds[i] = -1;
	}
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void vfile_packet(struct server *s, const char *pkt, size_t len, struct buf *out)
{
	char path[PATH_MAX];
	uint64_t a, b, c;
	const char *q;

	if (!strncmp(pkt, "vFile:setfs:", 12)) {
		q = pkt + 12;
		if (rsp_parse_hex(&q, &a) < 0)
			return fail(out, EINVAL);
		s->fs_pid = (pid_t)a;
		buf_printf(out, "F0");
	} else if (!strncmp(pkt, "vFile:open:", 11)) {
		q = pkt + 11;
		if (hex_path(&q, path, sizeof(path)) < 0 || *q++ != ',' ||
		    get_num(&q, &a) < 0 || get_num(&q, &b) < 0)
			return fail(out, EINVAL);
		/* gdb's flags: RDONLY 0, WRONLY 1, RDWR 2, APPEND 8, CREAT 0x200, TRUNC 0x400, EXCL 0x800 */
		int fl = (int)(a & 3);
		if (a & 8) fl |= O_APPEND;
		if (a & 0x200) fl |= O_CREAT;
		if (a & 0x400) fl |= O_TRUNC;
		if (a & 0x800) fl |= O_EXCL;
		size_t slot;
		for (slot = 0; slot < sizeof(s->fds) / sizeof(s->fds[0]); slot++)
			if (s->fds[slot] < 0)
				break;
		if (slot == sizeof(s->fds) / sizeof(s->fds[0]))
			return fail(out, EMFILE);
		int fd = fs_open(s, path, fl, (mode_t)(b & 07777));
		if (fd < 0)
			return fail(out, errno);
		s->fds[slot] = fd;
		buf_printf(out, "F%zx", slot);
	} else if (!strncmp(pkt, "vFile:close:", 12)) {
		q = pkt + 12;
		if (rsp_parse_hex(&q, &a) < 0 || fd_slot(s, a) < 0)
			return fail(out, EBADF);
		close(s->fds[a]);
		s->fds[a] = -1;
		buf_printf(out, "F0");
	} else if (!strncmp(pkt, "vFile:pread:", 12)) {
		q = pkt + 12;
		if (get_num(&q, &a) < 0 || get_num(&q, &b) < 0 || get_num(&q, &c) < 0)
			return fail(out, EINVAL);
		int fd = fd_slot(s, a);
		if (fd < 0)
			return fail(out, EBADF);
		if (b > RSP_MAX_PACKET / 2)
			b = RSP_MAX_PACKET / 2;
		char *data = malloc(b ? b : 1);
		if (!data)
			return fail(out, ENOMEM);
		ssize_t n = pread(fd, data, b, (off_t)c);
		if (n < 0) {
			fail(out, errno);
		} else {
			buf_printf(out, "F%zx;", (size_t)n);
			buf_add(out, data, (size_t)n);
		}
		free(data);
	} else if (!strncmp(pkt, "vFile:pwrite:", 13)) {
		q = pkt + 13;
		if (get_num(&q, &a) < 0 || get_num(&q, &b) < 0)
			return fail(out, EINVAL);
		int fd = fd_slot(s, a);
		if (fd < 0)
			return fail(out, EBADF);
		size_t n = len - (size_t)(q - pkt);
		ssize_t w = pwrite(fd, q, n, (off_t)b);
		if (w < 0)
			return fail(out, errno);
		buf_printf(out, "F%zx", (size_t)w);
	} else if (!strncmp(pkt, "vFile:fstat:", 12)) {
		q = pkt + 12;
		struct stat st;
		if (rsp_parse_hex(&q, &a) < 0 || fd_slot(s, a) < 0)
			return fail(out, EBADF);
		if (fstat(s->fds[a], &st) < 0)
			return fail(out, errno);
		uint8_t r[64];
		put_be(r + 0, st.st_dev, 4);
		put_be(r + 4, st.st_ino, 4);
		put_be(r + 8, st.st_mode, 4);
		put_be(r + 12, st.st_nlink, 4);
		put_be(r + 16, st.st_uid, 4);
		put_be(r + 20, st.st_gid, 4);
		put_be(r + 24, st.st_rdev, 4);
		put_be(r + 28, (uint64_t)st.st_size, 8);
		put_be(r + 36, (uint64_t)st.st_blksize, 8);
		put_be(r + 44, (uint64_t)st.st_blocks, 8);
		put_be(r + 52, (uint64_t)st.st_atime, 4);
		put_be(r + 56, (uint64_t)st.st_mtime, 4);
		put_be(r + 60, (uint64_t)st.st_ctime, 4);
		buf_printf(out, "F%x;", (unsigned)sizeof(r));
		buf_add(out, r, sizeof(r));
	} else if (!strncmp(pkt, "vFile:unlink:", 13)) {
		q = pkt + 13;
		if (hex_path(&q, path, sizeof(path)) < 0)
			return fail(out, EINVAL);
		char full[PATH_MAX + 64];
		if (s->fs_pid > 0)
			snprintf(full, sizeof(full), "/proc/%d/root%s", (int)s->fs_pid, path);
		else
			snprintf(full, sizeof(full), "%s", path);
		if (unlink(full) < 0)
			return fail(out, errno);
		buf_printf(out, "F0");
	} else if (!strncmp(pkt, "vFile:readlink:", 15)) {
		q = pkt + 15;
		if (hex_path(&q, path, sizeof(path)) < 0)
			return fail(out, EINVAL);
		char link[PATH_MAX];
		ssize_t n;
		if (s->fs_pid > 0) {
			/* The link itself, found inside the target's root. */
			int fd = fs_open(s, path, O_PATH | O_NOFOLLOW, 0);
			if (fd < 0)
				return fail(out, errno);
			n = readlinkat(fd, "", link, sizeof(link));
			int e = errno;
			close(fd);
			errno = e;
		} else {
			n = readlink(path, link, sizeof(link));
		}
		if (n < 0)
			return fail(out, errno);
		buf_printf(out, "F%zx;", (size_t)n);
		buf_add(out, link, (size_t)n);
	} else {
		/* Unknown vFile operation: empty reply (not supported). */
	}
}
