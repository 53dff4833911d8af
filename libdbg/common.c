/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Error strings, version, option validation, messages, small file reads.
 */
#include "internal.h"

#include <elf.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const lib_errors[] = {
	[DBG_ERRNO_UNSUPPORTED - DBG_ERRNO__START] = "Not supported by this kernel or target",
	[DBG_ERRNO_PARSE - DBG_ERRNO__START] = "Malformed data from /proc or the target",
	[DBG_ERRNO_RUNNING - DBG_ERRNO__START] = "Thread is not stopped",
	[DBG_ERRNO_ARCH - DBG_ERRNO__START] = "Target is not an x86_64 process (libdbg debugs x86_64 only)",
	[DBG_ERRNO_TLS_UNALLOCATED - DBG_ERRNO__START] = "Thread-local storage not allocated yet in this thread",
};

const char *dbg_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= DBG_ERRNO__START && err < DBG_ERRNO__END)
		return lib_errors[err - DBG_ERRNO__START];
	if (err == 0)
		return "Success";
	/* strerrordesc_np is thread-safe and returns static strings. */
	const char *s = strerrordesc_np(err);
	return s ? s : "Unknown error";
}

unsigned int dbg_version(void)
{
	return DBG_VERSION_MAJOR * 10000 + DBG_VERSION_MINOR * 100 + DBG_VERSION_PATCH;
}

bool dbg__opts_valid(const void *opts, size_t known_sz)
{
	if (!opts)
		return true;
	size_t sz = *(const size_t *)opts;
	if (sz < sizeof(size_t))
		return false;
	/* A newer caller may pass a bigger struct: fine if the tail we do
	 * not know is all zero. */
	for (size_t i = known_sz; i < sz; i++)
		if (((const unsigned char *)opts)[i])
			return false;
	return true;
}

static void vlog(struct dbg_proc *p, enum dbg_log_level lvl, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	p->log_fn(lvl, buf, p->log_ctx);
}

void dbg__log(struct dbg_proc *p, enum dbg_log_level lvl, const char *fmt, ...)
{
	if (!p || !p->log_fn)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(p, lvl, fmt, ap);
	va_end(ap);
}

int dbg__fail(struct dbg_proc *p, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(p->errmsg, sizeof(p->errmsg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(p->errmsg))
		snprintf(p->errmsg + n, sizeof(p->errmsg) - n, ": %s", dbg_strerror(err));
	if (p->log_fn)
		p->log_fn(DBG_LOG_ERROR, p->errmsg, p->log_ctx);
	return err;
}

const char *dbg_proc_errmsg(const struct dbg_proc *p)
{
	if (!p)
		return "no process";
	return p->errmsg;
}

const uint8_t *dbg__map_elf_file(const char *path, size_t *ret_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return NULL;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return NULL;
	*ret_size = (size_t)st.st_size;
	return m;
}

ssize_t dbg__read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off + 1 < size) {
		ssize_t n = read(fd, buf + off, size - 1 - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		off += n;
	}
	close(fd);
	buf[off] = 0;
	return off;
}
