/* netd/rcpath.h — RESTCONF data-resource URIs <-> libyang paths. */
#ifndef NETD_RCPATH_H
#define NETD_RCPATH_H

#include <stddef.h>

#include <libyang/libyang.h>

#include "core/err.h"

#define RC_PATH_MAX 2048

/* URI path after /restconf/data (e.g. "/netd:networks/network=admin/ipv4")
 * -> path "/netd:networks/network[name='admin']/ipv4" in @out. Keys are
 * percent-decoded per segment. Returns 0, NETD_ENOTFOUND (no such schema
 * node) or NETD_EINVAL (malformed), with the reason in @e. "" or "/" gives "". */
int rc_uri_to_xpath(const struct ly_ctx *ctx, const char *uri, char *out, size_t len, struct netd_err *e);

/* The reverse, for Location headers: predicates become "=v1,v2" with
 * reserved characters percent-encoded. 0, or -1 if @out is too small or
 * @xpath is not of the form this module writes. */
int rc_xpath_to_uri(const char *xpath, char *out, size_t len);

#endif
