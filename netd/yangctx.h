/* netd/yangctx.h — the libyang context with netd's embedded YANG modules.
 * Shared by the daemon, netctl, tests and fuzzers. */
#ifndef NETD_YANGCTX_H
#define NETD_YANGCTX_H

#include <stdbool.h>

#include <libyang/libyang.h>

#include "core/err.h"

/* New context with ietf-inet-types, ietf-yang-types, ietf-yang-library (all
 * built into libyang), netd and netd-server, compiled. 0 or an error in @e. */
int yc_new(struct ly_ctx **out, struct netd_err *e);

/* Add the modules a NETCONF server needs (ietf-netconf with
 * writable-running, ietf-netconf-acm it imports, ietf-netconf-monitoring for
 * <get-schema>) from the YANG files in @dir (file names "NAME@REV.yang", the
 * newest revision wins), recompile and check prefixes again. Call before any
 * other thread uses @ctx. 0, or NETD_EINVAL naming the missing file. */
int yc_add_netconf(struct ly_ctx *ctx, const char *dir, struct netd_err *e);

/* Small readers of data trees, NULL-safe: the schema name of @n ("" for
 * an opaque node or NULL), the value of @n's child leaf @name (NULL if
 * absent), @n's first child named @name (NULL if absent). */
const char *yc_schema_name(const struct lyd_node *n);
const char *yc_leaf(const struct lyd_node *n, const char *name);
struct lyd_node *yc_child(const struct lyd_node *n, const char *name);

/* True if the JSON text @json has an object member whose name starts with
 * '@' (an RFC 7952 metadata annotation) anywhere.  netd accepts none in
 * what clients send: libyang 2.1 crashes (a NULL read) on such a member at
 * the top of data parsed under a parent node, and netd defines no
 * annotations anyway.  A plain scan that respects strings and escapes; it
 * does not validate the JSON (libyang does that next). */
bool yc_json_has_metadata(const char *json);

/* Copy libyang's last error for @ctx into @e with @code (typically
 * NETD_EINVAL): the message and the data path libyang reports. Returns @code. */
int yc_err(const struct ly_ctx *ctx, int code, struct netd_err *e);

#endif
