/* netd/cdtjson.h — a node's conduit plan and NIC inventory as JSON.
 *
 * The JSON is the model's own: a plan is the config-false container
 * /netd:nodes/node/conduit-state/plan, an inventory the container
 * /netd:nodes/node/inventory (yang/netd.yang), printed and parsed by libyang
 * (decisions.md D11), so what conduit-plan hands out, what GET shows, what
 * report-inventory takes and what the agent reads are one format, checked
 * against the YANG types at both ends:
 *
 *   {"netd:plan":{"management-address":"198.18.0.10","confirm-timeout":60,
 *     "device":[{"name":"br-public","kind":"bridge","mtu":1500,
 *                "alias":"netd:intf1/public",...}],
 *     "address":[{"device":"br-public","address":"10.0.0.5","prefix-length":24}],
 *     "route":[{"device":"br-public","destination":"0.0.0.0/0","gateway":"10.0.0.1"}]}}
 *   {"netd:inventory":{"product-name":"...","nic":[{"name":"eth0",
 *     "mac":"52:54:00:12:34:56","speed-class":10000,
 *     "supported-speed":[1000,10000],"pci":"0000:03:00.0",...}]}}
 *
 * Speeds are Mb/s (a NIC of 20g has no speed token but is still a class).
 * supported-speed lists the speeds of the NIC's link modes, ascending; it
 * is optional in what a reporter sends (an inventory file, a virtual NIC
 * without link modes): a full read then takes the speed-class alone, and a
 * NIC stating only supported speeds gets the fastest as its class.
 * Conversions only: no store, no I/O.  Functions return 0 or a negative code
 * (core/err.h) with @e naming the data path and the reason; outputs are
 * written only on success.
 *
 * Caveats:
 *  - Parsing checks types and the plan's own consistency (every device has a
 *    kind, addresses and routes name a planned device); whether the plan
 *    fits the node is cdt_diff()'s business.
 *  - Devices come back ordered by depth (NICs, bonds, VLANs/macvlans,
 *    bridges), input order kept within a depth, whatever order the JSON had.
 */
#ifndef NETD_CDTJSON_H
#define NETD_CDTJSON_H

#include <stdbool.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "conduits/conduits.h"
#include "core/addr.h"
#include "core/err.h"

#define CDTJ_PRODUCT_MAX 256

/* What a plan carries besides the stack: the commit-confirm settings. */
struct cdtj_meta {
	bool has_mgmt;
	struct addr mgmt;              /* the node's management address */
	uint32_t confirm_timeout;      /* seconds; 0 = not stated */
	bool has_self_confirm;
	bool self_confirm;
};

/* Add the container "plan" for @p and @m under @state (a
 * /netd:nodes/node/conduit-state node); the new container in *@out (may be
 * NULL).  0, -ENOMEM or NETD_EINVAL (a value libyang refuses). */
int cdtj_plan_to_lyd(struct lyd_node *state, const struct cdt_plan *p, const struct cdtj_meta *m,
		     struct lyd_node **out, struct netd_err *e);

/* {"netd:plan":{...}} for @p (node name p->node, which must be a valid node
 * name) and @m into *@json (malloc'd).  0, -ENOMEM or NETD_EINVAL. */
int cdtj_plan_print(const struct ly_ctx *ctx, const struct cdt_plan *p, const struct cdtj_meta *m, char **json,
		    struct netd_err *e);

/* Read a "plan" container into *@out (zeroed first; release with
 * cdt_plan_clear) and *@m; @node becomes out->node.  0, NETD_EINVAL (a
 * device without a kind or name, an address or route on a device the plan
 * does not have, a bad prefix length...), NETD_ETOOBIG, -ENOMEM. */
int cdtj_plan_from_lyd(const struct lyd_node *plan, const char *node, struct cdt_plan *out, struct cdtj_meta *m,
		       struct netd_err *e);

/* Parse {"netd:plan":{...}} (as cdtj_plan_print() writes it) for node
 * @node.  Errors as cdtj_plan_from_lyd(), plus NETD_EINVAL for JSON that
 * does not parse or holds no plan. */
int cdtj_plan_parse(const struct ly_ctx *ctx, const char *node, const char *json, struct cdt_plan *out,
		    struct cdtj_meta *m, struct netd_err *e);

/* A node's inventory: NICs with the name of their master ("" none). */
struct cdtj_inventory {
	char product[CDTJ_PRODUCT_MAX];  /* DMI product name, "" unknown */
	uint64_t reported_at;            /* unix seconds, 0 = not stated */
	struct cdt_nic *nics;            /* owned */
	char (*masters)[CDT_IFNAME_MAX]; /* owned, one per NIC */
	size_t n;
};

void cdtj_inventory_clear(struct cdtj_inventory *inv);   /* accepts NULL; leaves it zeroed */

/* Add the container "inventory" for @inv under @node_entry (a
 * /netd:nodes/node entry); the container in *@out (may be NULL). */
int cdtj_inventory_to_lyd(struct lyd_node *node_entry, const struct cdtj_inventory *inv, struct lyd_node **out,
			  struct netd_err *e);

/* {"netd:inventory":{...}} for @inv into *@json (malloc'd). */
int cdtj_inventory_print(const struct ly_ctx *ctx, const struct cdtj_inventory *inv, char **json,
			 struct netd_err *e);

enum cdtj_inv_flags {
	CDTJ_INV_PARTIAL = 1u << 0,  /* an override file: only names required, nothing cross-checked */
};

/* Read an "inventory" container into *@out (zeroed first).  Without
 * CDTJ_INV_PARTIAL every NIC goes through cdt_inventory_from_records():
 * names and MACs required, names, ifindexes, permanent MACs and PCI paths
 * unique, PCI paths well-formed, supported speeds link speeds and the
 * class the fastest of them (each settled from the other when one is
 * missing); with it, supported speeds are only checked to be link speeds
 * and nothing is derived.  Errors carry the path
 * <@where>/nic[name='eth0']/<leaf> (@where e.g. "/netd:nodes/node[name='n1']/inventory").
 * 0, NETD_EINVAL, NETD_ETOOBIG, -ENOMEM. */
int cdtj_inventory_from_lyd(const struct lyd_node *inv, unsigned flags, const char *where,
			    struct cdtj_inventory *out, struct netd_err *e);

/* Parse {"netd:inventory":{...}}.  Errors as cdtj_inventory_from_lyd(),
 * plus NETD_EINVAL for JSON that does not parse or holds no inventory. */
int cdtj_inventory_parse(const struct ly_ctx *ctx, const char *json, unsigned flags, const char *where,
			 struct cdtj_inventory *out, struct netd_err *e);

/* yang:date-and-time in UTC ("...Z" or "+00:00", as ym_time_print() writes
 * it) -> unix seconds; 0 for anything else. */
uint64_t cdtj_time_parse(const char *s);

#endif
