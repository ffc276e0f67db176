/* core/log.c — logging to stderr or syslog.
 *
 * stderr lines look like
 *     2024-05-01T12:00:00.123Z netd[4242]: warning: message
 * Each line is formatted into a local buffer and written with one write(),
 * so lines from different threads never interleave (pipes and terminals
 * keep writes up to PIPE_BUF atomic; the buffer is smaller than that).
 * The level and the destination are atomics: no lock on the hot path.
 */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"

#define LOG_LINE_MAX 2048

static atomic_int cur_level = LOG_LVL_INFO;
static atomic_bool to_syslog = false;
/* openlog() keeps the pointer, so the ident must outlive it. */
static char syslog_ident[64];

static const char *const level_name[] = {
	[LOG_LVL_ERR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void log_set_level(enum log_level lvl)
{
	if (lvl > LOG_LVL_DEBUG)
		lvl = LOG_LVL_DEBUG;
	atomic_store_explicit(&cur_level, (int)lvl, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&cur_level, memory_order_relaxed);
}

int log_level_parse(const char *s, enum log_level *out)
{
	if (!s)
		return NETD_EINVAL;
	for (size_t i = 0; i < sizeof level_name / sizeof level_name[0]; i++) {
		if (strcasecmp(s, level_name[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return NETD_EINVAL;
}

/* Call before starting threads: the ident buffer is not protected. */
void log_use_syslog(const char *ident)
{
	snprintf(syslog_ident, sizeof syslog_ident, "%s", ident ? ident : "netd");
	openlog(syslog_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store_explicit(&to_syslog, true, memory_order_release);
}

static int syslog_prio(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LVL_ERR: return LOG_ERR;
	case LOG_LVL_WARN: return LOG_WARNING;
	case LOG_LVL_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

/* "2024-05-01T12:00:00.123Z" into @buf; returns the length written. */
static size_t format_time(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm))
		return 0;
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return 0;
	int m = snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000L);
	return (m > 0 && (size_t)m < len - n) ? n + (size_t)m : n;
}

/* Keep one message on one line: a newline inside would let a value from a
 * client forge a log line. */
static void flatten(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;  /* nowhere left to report it */
		}
		p += w;
		n -= (size_t)w;
	}
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if (lvl > log_get_level())
		return;
	int saved_errno = errno;  /* callers may log between a call and errno use */
	char msg[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(msg, sizeof msg, "(bad log format)");
	else if ((size_t)n >= sizeof msg)
		memcpy(msg + sizeof msg - 4, "...", 4);
	size_t ml = strlen(msg);
	while (ml > 0 && msg[ml - 1] == '\n')
		msg[--ml] = '\0';
	flatten(msg);

	const char *lname = lvl <= LOG_LVL_DEBUG ? level_name[lvl] : "debug";
	if (atomic_load_explicit(&to_syslog, memory_order_acquire)) {
		syslog(syslog_prio(lvl), "%s: %s", lname, msg);
		errno = saved_errno;
		return;
	}

	char line[LOG_LINE_MAX + 128];
	size_t o = format_time(line, sizeof line);
	int m = snprintf(line + o, sizeof line - o, " netd[%ld]: %s: %s\n", (long)getpid(), lname, msg);
	if (m < 0) {
		errno = saved_errno;
		return;
	}
	o += (size_t)m < sizeof line - o ? (size_t)m : sizeof line - o - 1;
	line[o - 1] = '\n';  /* a cut line still ends the line */
	write_all(STDERR_FILENO, line, o);
	errno = saved_errno;
}
