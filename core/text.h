/* core/text.h — a growing text for messages, logs and explanations.
 *
 * text_add() appends printf-style; on allocation failure the text stops
 * growing and remembers it (oom), so a caller builds a whole text and
 * checks once at the end.  The string is NUL-terminated whenever s is not
 * NULL.  Free with free(t->s).
 */
#ifndef NETD_CORE_TEXT_H
#define NETD_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct text {
	char *s;      /* NULL until something is added */
	size_t len, cap;
	bool oom;     /* an append failed: the text is incomplete */
};

void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
