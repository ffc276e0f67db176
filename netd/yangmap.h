/* netd/yangmap.h — model records <-> libyang data trees (netd module).
 *
 * The edge of the house rule "libyang validates every input and prints every
 * output; inside, modules work on plain C records".  Conversions only: no
 * store access.  All paths in errors are YANG instance identifiers such as
 * /netd:networks/network[name='admin']/ipv4/range[name='host']/first.
 */
#ifndef NETD_YANGMAP_H
#define NETD_YANGMAP_H

#include <stdbool.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "core/err.h"
#include "core/model.h"
#include "ipam/ipam.h"

/* Operational extras printed with a network (all may be NULL / 0). */
struct ym_network_state {
	const struct ipam_util *util;
	size_t n_util;
};

/* Create the list entry /netd:networks/network[name=...] for @n under
 * @parent (the /netd:networks container; NULL = create a new top-level
 * container) and return the entry in *out. With @st, also the config-false
 * utilization and effective-ipv6-prefix. 0 or -ENOMEM/NETD_EINVAL. */
int ym_network_to_lyd(const struct ly_ctx *ctx, struct lyd_node *parent, const struct model_network *n,
		      const struct ym_network_state *st, struct lyd_node **out);

/* Same for /netd:nodes/node[name=...]; with @addrs (n_addrs entries), the
 * config-false address list. */
int ym_node_to_lyd(const struct ly_ctx *ctx, struct lyd_node *parent, const struct model_node *n,
		   const struct model_alloc *addrs, size_t n_addrs, struct lyd_node **out);

/* /netd:allocations/allocation entry under @parent (NULL = new container).
 * hold-until = released_at + @hold_down_s for held ones. */
int ym_alloc_to_lyd(const struct ly_ctx *ctx, struct lyd_node *parent, const struct model_alloc *a,
		    uint64_t hold_down_s, struct lyd_node **out);

/* Read a validated network list entry into @out (zeroed first; config leaves
 * only, defaults applied). v6 prefix "auto" gives MODEL_V6_AUTO with an empty
 * prefix (ipam assigns it); keep_from (may be NULL) is the stored record whose
 * derived v6 prefix and subnet id are carried over for an auto network.
 * Errors name the leaf path. */
int ym_network_from_lyd(const struct lyd_node *entry, const struct model_network *keep_from,
			struct model_network *out, struct netd_err *e);
int ym_node_from_lyd(const struct lyd_node *entry, struct model_node *out, struct netd_err *e);

/* Unix seconds <-> yang:date-and-time (UTC, "2026-11-25T12:00:00Z"). */
char *ym_time_print(uint64_t t, char *buf, size_t len);

#endif
