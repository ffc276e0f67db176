/* conduits/cdt_int.h — helpers shared by the conduits module's files.
 * Private: nothing outside conduits/ includes this. */
#ifndef NETD_CONDUITS_INT_H
#define NETD_CONDUITS_INT_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "conduits/conduits.h"

#define CDT_PATH_ROOT "/netd:conduits"
#define CDT_QUOTE_MAX 48   /* a quoted user string in a message */

/* Copy @s into @buf for a message: printable ASCII kept, other bytes as
 * \xNN, cut with "..." when longer than fits.  Returns @buf. */
const char *cdt_quote(const char *s, char *buf, size_t len);

/* The known speed classes, ascending. */
extern const uint32_t cdt_speed_classes[];
extern const size_t cdt_n_speed_classes;

/* Compile ERE @pattern into @re so that it matches whole strings only
 * ("^(pattern)$", REG_NOSUB).  The pattern is first compiled on its own, so
 * text such as "a)|(b" cannot escape the anchoring.  Returns 0, -ENOMEM, or
 * NETD_EINVAL with regerror()'s text in @why (@re then holds nothing). */
int cdt_regcomp_whole(regex_t *re, const char *pattern, char *why, size_t whylen);

/* "/netd:conduits/conduit[name='x']" into @buf.  Returns @buf. */
const char *cdt_conduit_path(const char *name, char *buf, size_t len);

/* libnl's NLE_* codes (either sign) -> netd's codes.  Defined in
 * inventory.c: the one place NLE_* is translated. */
int cdt_nl_code(int nle);

#endif
