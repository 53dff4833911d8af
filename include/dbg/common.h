/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file dbg/common.h
 * Export macros, version queries, error codes and the log callback type.
 */
#ifndef DBG_COMMON_H
#define DBG_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define DBG_BEGIN_DECLS extern "C" {
#define DBG_END_DECLS }
#else
#define DBG_BEGIN_DECLS
#define DBG_END_DECLS
#endif

#if defined(__GNUC__) && !defined(DBG_STATIC_BUILD)
#define DBG_API __attribute__((visibility("default")))
#else
#define DBG_API
#endif

#include <dbg/version.h>

DBG_BEGIN_DECLS

/**
 * Library-specific error codes. They are returned negated, like errno
 * values, and start at 4000 so they never collide with errno.
 */
enum dbg_errno {
	DBG_ERRNO__START = 4000,
	/** The kernel or the target lacks a feature the call needs. */
	DBG_ERRNO_UNSUPPORTED = DBG_ERRNO__START,
	/** Something in /proc or in target memory could not be parsed. */
	DBG_ERRNO_PARSE,
	/** The thread is not stopped, and the operation needs it stopped. */
	DBG_ERRNO_RUNNING,
	/**
	 * The target is not an x86_64 process (a 32-bit i386 or x32
	 * program): libdbg debugs x86_64 targets only. Since: 0.2
	 */
	DBG_ERRNO_ARCH,
	/**
	 * The thread has no storage for that thread-local variable yet: its
	 * module's TLS block is allocated at the thread's first access
	 * (dbg_tls_addr()). Since: 0.4
	 */
	DBG_ERRNO_TLS_UNALLOCATED,
	DBG_ERRNO__END,
};

/**
 * Describe an error code returned by any libdbg function.
 * @param err  a negative errno, a negative DBG_ERRNO_* value, or their
 *             positive counterparts.
 * @return a static string; never NULL. Thread-safe.
 * Since: 0.1
 */
DBG_API const char *dbg_strerror(int err);

/**
 * The run-time library version, as DBG_VERSION_MAJOR * 10000 +
 * DBG_VERSION_MINOR * 100 + DBG_VERSION_PATCH. Thread-safe.
 * Since: 0.1
 */
DBG_API unsigned int dbg_version(void);

/** Levels passed to a dbg_log_fn. */
enum dbg_log_level {
	DBG_LOG_ERROR = 0,
	DBG_LOG_WARN = 1,
	DBG_LOG_INFO = 2,
	DBG_LOG_DEBUG = 3,
};

/**
 * Diagnostics sink a caller may give in an options struct. The library
 * never prints; without a callback it is silent.
 */
typedef void (*dbg_log_fn)(enum dbg_log_level level, const char *msg, void *ctx);

/**
 * Declare and zero an options struct with its size filled in, e.g.
 * `DBG_OPTS(dbg_attach_opts, opts, .stop_timeout_ms = 500);`
 */
#define DBG_OPTS(TYPE, NAME, ...) \
	struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }

DBG_END_DECLS

#endif /* DBG_COMMON_H */
