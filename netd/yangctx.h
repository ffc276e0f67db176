/* netd/yangctx.h — the libyang context with netd's embedded YANG modules.
 * Shared by the daemon, netctl, tests and fuzzers. */
#ifndef NETD_YANGCTX_H
#define NETD_YANGCTX_H

#include <libyang/libyang.h>

#include "core/err.h"

/* New context with ietf-inet-types, ietf-yang-types, ietf-yang-library (all
 * built into libyang), netd and netd-server, compiled. 0 or an error in @e. */
int yc_new(struct ly_ctx **out, struct netd_err *e);

/* Copy libyang's last error for @ctx into @e with @code (typically
 * NETD_EINVAL): the message and the data path libyang reports. Returns @code. */
int yc_err(const struct ly_ctx *ctx, int code, struct netd_err *e);

#endif
