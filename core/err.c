/* core/err.c — error texts, user-facing errors, key quoting for data paths.
 *
 * netd's own codes map to fixed strings; -errno goes through
 * strerrordesc_np(), which returns static text and so is thread-safe without
 * a caller buffer (strerror() is not, strerror_r() would need one).
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const own_text[] = {
	[-(NETD_EINVAL - NETD_E_BASE)] = "invalid value",
	[-(NETD_ENOTFOUND - NETD_E_BASE)] = "not found",
	[-(NETD_EEXIST - NETD_E_BASE)] = "already exists",
	[-(NETD_EEXHAUSTED - NETD_E_BASE)] = "no free address in range",
	[-(NETD_EINUSE - NETD_E_BASE)] = "still in use",
	[-(NETD_ECONFLICT - NETD_E_BASE)] = "concurrent change, retry",
	[-(NETD_ESTORE - NETD_E_BASE)] = "store failure",
	[-(NETD_ESCHEMA - NETD_E_BASE)] = "store written by an incompatible netd",
	[-(NETD_EMAPFULL - NETD_E_BASE)] = "store map full",
	[-(NETD_ECORRUPT - NETD_E_BASE)] = "corrupt record or message",
	[-(NETD_EAUTH - NETD_E_BASE)] = "not authenticated",
	[-(NETD_EPERM - NETD_E_BASE)] = "not allowed",
	[-(NETD_ETOOBIG - NETD_E_BASE)] = "size limit exceeded",
	[-(NETD_EUNSUPPORTED - NETD_E_BASE)] = "not supported",
};

const char *netd_strerror(int code)
{
	if (code == 0)
		return "success";
	if (code > 0)
		return "unknown error (positive code)";
	if (code < NETD_E_BASE) {
		size_t i = (size_t)(NETD_E_BASE - code);
		if (i < sizeof own_text / sizeof own_text[0] && own_text[i])
			return own_text[i];
		return "unknown netd error";
	}
	if (code == NETD_E_BASE)
		return "unknown netd error";
	const char *t = strerrordesc_np(-code);
	return t ? t : "unknown system error";
}

int netd_err_set(struct netd_err *e, int code, const char *path, const char *fmt, ...)
{
	if (!e || e->code != 0)
		return code;
	e->code = code;
	snprintf(e->path, sizeof e->path, "%s", path ? path : "");
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
	} else {
		e->msg[0] = '\0';
	}
	return code;
}

void netd_err_clear(struct netd_err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->path[0] = '\0';
	e->msg[0] = '\0';
}

const char *netd_path_key(const char *s, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	if (len < 3) {
		buf[0] = '\0';
		return buf;
	}
	if (!s)
		s = "";
	bool has_sq = strchr(s, '\'') != NULL;
	bool has_dq = strchr(s, '"') != NULL;
	char q = has_sq ? '"' : '\'';
	bool escape_dq = has_sq && has_dq;

	/* Room for the value: everything but the two quotes and the NUL. */
	size_t room = len - 3, o = 0;
	buf[o++] = q;
	for (const char *c = s; *c; c++) {
		size_t need = (escape_dq && *c == '"') ? 2 : 1;
		if (need > room)
			break;  /* never cut an escape in half */
		if (need == 2)
			buf[o++] = '\\';
		buf[o++] = *c;
		room -= need;
	}
	buf[o++] = q;
	buf[o] = '\0';
	return buf;
}
