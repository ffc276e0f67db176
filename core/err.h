/* core/err.h — error codes and user-facing errors.
 *
 * Convention: 0 is success, negative is failure.  System errors are -errno
 * (-ENOMEM, -EIO, ...); netd's own codes live below NETD_E_BASE.  Each foreign
 * library's codes are translated exactly once, in its adapter.
 *
 * An error meant for a user also carries a data path (a YANG instance
 * identifier such as /netd:networks/network[name='admin']/ipv4/subnet) and a
 * reason; struct netd_err holds both and becomes the RESTCONF error.
 */
#ifndef NETD_CORE_ERR_H
#define NETD_CORE_ERR_H

#include <stddef.h>

enum netd_errcode {
	NETD_OK = 0,
	NETD_E_BASE = -1000,
	NETD_EINVAL = -1001,     /* invalid input: bad value, failed constraint */
	NETD_ENOTFOUND = -1002,  /* the named thing does not exist */
	NETD_EEXIST = -1003,     /* the thing to create exists already */
	NETD_EEXHAUSTED = -1004, /* an address range has no free address */
	NETD_EINUSE = -1005,     /* still referenced (network with allocations) */
	NETD_ECONFLICT = -1006,  /* concurrent change detected; retry */
	NETD_ESTORE = -1007,     /* the store failed (I/O, LMDB internal) */
	NETD_ESCHEMA = -1008,    /* store written by an incompatible netd */
	NETD_EMAPFULL = -1009,   /* store map full; store_update() grows + retries */
	NETD_ECORRUPT = -1010,   /* a stored record or wire message does not decode */
	NETD_EAUTH = -1011,      /* not authenticated */
	NETD_EPERM = -1012,      /* authenticated, not allowed */
	NETD_ETOOBIG = -1013,    /* a client-controlled size limit was exceeded */
	NETD_EUNSUPPORTED = -1014, /* valid but not supported by this netd */
};

#define NETD_ERR_PATH_MAX 512
#define NETD_ERR_MSG_MAX 512

struct netd_err {
	int code;                     /* one of the codes above or -errno */
	char path[NETD_ERR_PATH_MAX]; /* data path the error is about, or "" */
	char msg[NETD_ERR_MSG_MAX];   /* human reason, or "" */
};

/* Text for any code: netd's own, -errno, or 0 ("success"). Never NULL. */
const char *netd_strerror(int code);

/* Fill @e (may be NULL) with @code, @path (may be NULL) and a printf-style
 * reason. Returns @code so callers can write `return netd_err_set(...)`.
 * An error already set in @e is kept (first error wins) unless it is 0. */
int netd_err_set(struct netd_err *e, int code, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void netd_err_clear(struct netd_err *e);

/* Quote @s as the value of a YANG key predicate and write the whole quoted
 * token, quotes included, into @buf:
 *     abc   ->  'abc'       (used as  [name='abc'])
 *     ab'c  ->  "ab'c"      (a ' in the value switches to double quotes)
 * so callers write "network[name=%s]" with the result, never their own quotes.
 * YANG/XPath literals have no escapes, so a value holding both ' and " cannot
 * be expressed exactly: it is written in double quotes with each " replaced
 * by \" (readable in an error message, not a valid instance-identifier).
 * A value too long for @buf is cut, but the closing quote is always written.
 * @len < 3 gives "" (if @len > 0).  @s NULL is treated as "".  Returns @buf. */
const char *netd_path_key(const char *s, char *buf, size_t len);

#endif
