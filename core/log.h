/* core/log.h — logging to stderr or syslog, with levels.
 * Libraries log only at debug; callers log once (see STYLE.md). Thread-safe. */
#ifndef NETD_CORE_LOG_H
#define NETD_CORE_LOG_H

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Parse "error", "warning", "info", "debug". Returns 0 or NETD_EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
/* Send further messages to syslog (ident) instead of stderr. */
void log_use_syslog(const char *ident);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { if (log_get_level() >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
