/* netd/yangmap.c — model records <-> libyang data trees (module "netd").
 *
 * Records to trees: every config leaf whose value differs from its YANG
 * default is created as an explicit node; the defaults themselves are then
 * added by lyd_new_implicit_tree() as default nodes (LYD_DEFAULT), so a
 * printer in with-defaults "explicit" mode prints the canonical, minimal
 * form and "report-all" prints everything.  Config-false state is created
 * only when asked for.
 *
 * Trees to records: the input is a list entry of a tree libyang has parsed
 * and validated, so types, ranges, patterns and "must" hold and leaves with
 * YANG defaults are present as default nodes.  What is checked here is what
 * YANG cannot say (address family inside the ipv4/ipv6 containers, host bits
 * of a prefix, first <= last of a range), each error naming the leaf by its
 * data path (lyd_path(..., LYD_PATH_STD, ...)).
 *
 * Caveats: libyang's ietf-inet-types plugins canonicalize ipv4-prefix and
 * ipv6-prefix values while parsing (host bits cleared), so for trees parsed
 * from JSON/XML the host-bits check only fires if the context's plugin
 * refuses them first (see yangctx.c); for trees built with canonical-format
 * values it fires here.
 */
#include "netd/yangmap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define YM_MODULE "netd"
#define YM_PATH_MAX NETD_ERR_PATH_MAX

/* ------------------------------------------------------------------ */
/* helpers shared by both directions */

/* libyang result -> netd code (the adapter's one translation). */
static int ym_ly(LY_ERR r)
{
	switch (r) {
	case LY_SUCCESS:
		return 0;
	case LY_EMEM:
		return -ENOMEM;
	default:
		return NETD_EINVAL;
	}
}

char *ym_time_print(uint64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (len == 0)
		return buf;
	if ((uint64_t)tt != t || !gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* records -> trees */

/* Create leaf @name = @val under @parent. */
static int ym_leaf(struct lyd_node *parent, const char *name, const char *val)
{
	return ym_ly(lyd_new_term(parent, NULL, name, val, 0, NULL));
}

static int ym_leaf_bool(struct lyd_node *parent, const char *name, bool v)
{
	return ym_leaf(parent, name, v ? "true" : "false");
}

static int ym_leaf_u64(struct lyd_node *parent, const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRIu64, v);
	return ym_leaf(parent, name, buf);
}

static int ym_leaf_addr(struct lyd_node *parent, const char *name, const struct addr *a)
{
	char buf[ADDR_STRLEN];

	return ym_leaf(parent, name, addr_print(a, buf, sizeof buf));
}

static int ym_leaf_prefix(struct lyd_node *parent, const char *name, const struct prefix *p)
{
	char buf[PREFIX_STRLEN];

	return ym_leaf(parent, name, prefix_print(p, buf, sizeof buf));
}

static int ym_leaf_time(struct lyd_node *parent, const char *name, uint64_t t)
{
	char buf[32];

	return ym_leaf(parent, name, ym_time_print(t, buf, sizeof buf));
}

static const char *ym_family_name(int family)
{
	return family == ADDR_V6 ? "ipv6" : "ipv4";
}

/* The top-level container @name of module netd: @parent, or a new one
 * (*created set so the caller can free it on failure). */
static int ym_top(const struct ly_ctx *ctx, struct lyd_node *parent, const char *name, struct lyd_node **top,
		  struct lyd_node **created)
{
	*created = NULL;
	if (parent) {
		*top = parent;
		return 0;
	}
	const struct lys_module *mod = ly_ctx_get_module_implemented(ctx, YM_MODULE);
	if (!mod)
		return NETD_EINVAL;
	int r = ym_ly(lyd_new_inner(NULL, mod, name, 0, created));
	if (r < 0)
		return r;
	*top = *created;
	return 0;
}

/* Undo a failed *_to_lyd: the entry, or the whole new container. */
static void ym_undo(struct lyd_node *created, struct lyd_node *entry)
{
	if (created)
		lyd_free_all(created);
	else if (entry)
		lyd_free_tree(entry);
}

static int ym_ranges_to_lyd(struct lyd_node *parent, const struct model_range *rs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct lyd_node *r = NULL;
		int rc = ym_ly(lyd_new_list(parent, NULL, "range", 0, &r, rs[i].name));
		if (rc == 0)
			rc = ym_leaf_addr(r, "first", &rs[i].first);
		if (rc == 0)
			rc = ym_leaf_addr(r, "last", &rs[i].last);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int ym_v4_to_lyd(struct lyd_node *entry, const struct model_network *n)
{
	struct lyd_node *c = NULL;
	int r = ym_ly(lyd_new_inner(entry, NULL, "ipv4", 0, &c));

	if (r == 0)
		r = ym_leaf_prefix(c, "subnet", &n->v4_subnet);
	if (r == 0 && n->has_v4_router)
		r = ym_leaf_addr(c, "router", &n->v4_router);
	if (r == 0 && n->router_pref != 100)
		r = ym_leaf_u64(c, "router-pref", n->router_pref);
	if (r == 0)
		r = ym_ranges_to_lyd(c, n->v4_ranges, n->n_v4_ranges);
	return r;
}

static int ym_v6_to_lyd(struct lyd_node *entry, const struct model_network *n)
{
	struct lyd_node *c = NULL;
	int r = ym_ly(lyd_new_inner(entry, NULL, "ipv6", 0, &c));

	if (r == 0) {
		if (n->v6_mode == MODEL_V6_AUTO)
			r = ym_leaf(c, "prefix", "auto");
		else
			r = ym_leaf_prefix(c, "prefix", &n->v6_prefix);
	}
	if (r == 0 && n->has_v6_router)
		r = ym_leaf_addr(c, "router", &n->v6_router);
	if (r == 0)
		r = ym_ranges_to_lyd(c, n->v6_ranges, n->n_v6_ranges);
	return r;
}

/* Config leaves of a network entry, defaults left out. */
static int ym_network_config(struct lyd_node *e, const struct model_network *n)
{
	int r = 0;

	if (r == 0 && n->conduit[0])
		r = ym_leaf(e, "conduit", n->conduit);
	if (r == 0 && n->primary)
		r = ym_leaf_bool(e, "primary", true);
	if (r == 0 && n->vlan)
		r = ym_leaf_u64(e, "vlan", n->vlan);
	if (r == 0 && n->use_vlan)
		r = ym_leaf_bool(e, "use-vlan", true);
	if (r == 0 && n->use_bridge)
		r = ym_leaf_bool(e, "use-bridge", true);
	if (r == 0 && n->use_team)
		r = ym_leaf_bool(e, "use-team", true);
	if (r == 0 && n->team_mode != TEAM_802_3AD) {
		const char *m = model_team_mode_name(n->team_mode);
		r = m ? ym_leaf(e, "team-mode", m) : NETD_EINVAL;
	}
	if (r == 0 && n->mtu != 0 && n->mtu != 1500)
		r = ym_leaf_u64(e, "mtu", n->mtu);
	if (r == 0 && n->has_v4)
		r = ym_v4_to_lyd(e, n);
	if (r == 0 && n->v6_mode != MODEL_V6_NONE)
		r = ym_v6_to_lyd(e, n);
	if (r == 0 && n->dns_domain[0])
		r = ym_leaf(e, "dns-domain", n->dns_domain);
	if (r == 0 && n->dns_template[0])
		r = ym_leaf(e, "dns-name-template", n->dns_template);
	return r;
}

static int ym_util_to_lyd(struct lyd_node *util, const struct ipam_util *u)
{
	struct lyd_node *r = NULL;
	const char *name = u->range[0] ? u->range : "derived";
	int rc = ym_ly(lyd_new_list(util, NULL, "range", 0, &r, ym_family_name(u->family), name));

	if (rc == 0 && u->first.family)
		rc = ym_leaf_addr(r, "first", &u->first);
	if (rc == 0 && u->last.family)
		rc = ym_leaf_addr(r, "last", &u->last);
	if (rc == 0 && u->size[0])
		rc = ym_leaf(r, "size", u->size);
	if (rc == 0)
		rc = ym_leaf_u64(r, "used", u->used);
	if (rc == 0)
		rc = ym_leaf_u64(r, "held", u->held);
	if (rc == 0 && u->free[0])
		rc = ym_leaf(r, "free", u->free);
	return rc;
}

/* Config-false extras of a network entry. */
static int ym_network_state(struct lyd_node *e, const struct model_network *n, const struct ym_network_state *st)
{
	int r = 0;

	if (st->n_util > 0 && st->util) {
		struct lyd_node *util = NULL;
		r = ym_ly(lyd_new_inner(e, NULL, "utilization", 0, &util));
		for (size_t i = 0; r == 0 && i < st->n_util; i++)
			r = ym_util_to_lyd(util, &st->util[i]);
	}
	if (r == 0 && n->v6_mode != MODEL_V6_NONE && n->v6_prefix.a.family == ADDR_V6)
		r = ym_leaf_prefix(e, "effective-ipv6-prefix", &n->v6_prefix);
	return r;
}

int ym_network_to_lyd(const struct ly_ctx *ctx, struct lyd_node *parent, const struct model_network *n,
		      const struct ym_network_state *st, struct lyd_node **out)
{
	struct lyd_node *top = NULL, *created = NULL, *entry = NULL;
	int r = ym_top(ctx, parent, "networks", &top, &created);

	if (r < 0)
		return r;
	r = ym_ly(lyd_new_list(top, NULL, "network", 0, &entry, n->name));
	if (r == 0)
		r = ym_network_config(entry, n);
	if (r == 0 && st)
		r = ym_network_state(entry, n, st);
	if (r == 0)
		r = ym_ly(lyd_new_implicit_tree(entry, LYD_IMPLICIT_NO_STATE, NULL));
	if (r < 0) {
		ym_undo(created, entry);
		return r;
	}
	*out = entry;
	return 0;
}

static int ym_attach_to_lyd(struct lyd_node *node, const struct model_attach *a)
{
	struct lyd_node *e = NULL;
	int r = ym_ly(lyd_new_list(node, NULL, "network", 0, &e, a->network));

	if (r == 0 && a->range[0])
		r = ym_leaf(e, "range", a->range);
	if (r == 0 && a->has_v4_hint)
		r = ym_leaf_addr(e, "ipv4-hint", &a->v4_hint);
	if (r == 0 && a->has_v6_hint)
		r = ym_leaf_addr(e, "ipv6-hint", &a->v6_hint);
	return r;
}

/* Did an earlier active allocation in @as[0..i) already give (network,
 * family) its entry? (A scan of the caller's array: an XPath lookup in the
 * tree per address cost a fifth of a GET.) */
static bool ym_seen_address(const struct model_alloc *as, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (as[k].state == ALLOC_ACTIVE && as[k].addr.family == as[i].addr.family &&
		    !strcmp(as[k].network, as[i].network))
			return true;
	return false;
}

/* One config-false address entry per active allocation (first one wins if
 * a (network, family) pair repeats). */
static int ym_addresses_to_lyd(struct lyd_node *node, const struct model_alloc *as, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct model_alloc *a = &as[i];
		struct lyd_node *e = NULL;

		if (a->state != ALLOC_ACTIVE || ym_seen_address(as, i))
			continue;
		int r = ym_ly(lyd_new_list(node, NULL, "address", 0, &e, a->network, ym_family_name(a->addr.family)));
		if (r == 0)
			r = ym_leaf_addr(e, "address", &a->addr);
		if (r < 0)
			return r;
	}
	return 0;
}

static int ym_node_config(struct lyd_node *e, const struct model_node *n)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < n->n_aliases; i++)
		r = ym_leaf(e, "alias", n->aliases[i]);
	if (r == 0 && n->has_admin_mac) {
		char mac[18];
		const uint8_t *m = n->admin_mac;
		snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		r = ym_leaf(e, "admin-mac", mac);
	}
	for (size_t i = 0; r == 0 && i < n->n_nets; i++)
		r = ym_attach_to_lyd(e, &n->nets[i]);
	return r;
}

int ym_node_to_lyd(const struct ly_ctx *ctx, struct lyd_node *parent, const struct model_node *n,
		   const struct model_alloc *addrs, size_t n_addrs, struct lyd_node **out)
{
	struct lyd_node *top = NULL, *created = NULL, *entry = NULL;
	int r = ym_top(ctx, parent, "nodes", &top, &created);

	if (r < 0)
		return r;
	r = ym_ly(lyd_new_list(top, NULL, "node", 0, &entry, n->name));
	if (r == 0)
		r = ym_node_config(entry, n);
	if (r == 0 && addrs)
		r = ym_addresses_to_lyd(entry, addrs, n_addrs);
	if (r < 0) {
		ym_undo(created, entry);
		return r;
	}
	*out = entry;
	return 0;
}

static int ym_alloc_leaves(struct lyd_node *e, const struct model_alloc *a, uint64_t hold_down_s)
{
	bool held = a->state == ALLOC_HELD;
	int r = ym_leaf(e, "family", ym_family_name(a->addr.family));

	if (r == 0)
		r = ym_leaf(e, "owner", a->owner);
	if (r == 0 && (a->owner_kind == OWNER_NODE || a->owner_kind == OWNER_VIP))
		r = ym_leaf(e, "owner-kind", a->owner_kind == OWNER_NODE ? "node" : "vip");
	if (r == 0 && a->range[0])
		r = ym_leaf(e, "range", a->range);
	if (r == 0)
		r = ym_leaf(e, "state", held ? "held" : "active");
	if (r == 0)
		r = ym_leaf_time(e, "allocated-at", a->allocated_at);
	if (r == 0 && held)
		r = ym_leaf_time(e, "released-at", a->released_at);
	if (r == 0 && held)
		r = ym_leaf_time(e, "hold-until", a->released_at + hold_down_s);
	return r;
}

int ym_alloc_to_lyd(const struct ly_ctx *ctx, struct lyd_node *parent, const struct model_alloc *a,
		    uint64_t hold_down_s, struct lyd_node **out)
{
	struct lyd_node *top = NULL, *created = NULL, *entry = NULL;
	char abuf[ADDR_STRLEN];
	int r = ym_top(ctx, parent, "allocations", &top, &created);

	if (r < 0)
		return r;
	r = ym_ly(lyd_new_list(top, NULL, "allocation", 0, &entry, a->network, addr_print(&a->addr, abuf, sizeof abuf)));
	if (r == 0)
		r = ym_alloc_leaves(entry, a, hold_down_s);
	if (r < 0) {
		ym_undo(created, entry);
		return r;
	}
	*out = entry;
	return 0;
}

/* ------------------------------------------------------------------ */
/* trees -> records */

/* NETD_EINVAL at @node's data path with a printf-style reason. */
static int ym_fail(struct netd_err *e, const struct lyd_node *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int ym_fail(struct netd_err *e, const struct lyd_node *node, const char *fmt, ...)
{
	char path[YM_PATH_MAX] = "", msg[NETD_ERR_MSG_MAX];
	va_list ap;

	if (node && !lyd_path(node, LYD_PATH_STD, path, sizeof path))
		path[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return netd_err_set(e, NETD_EINVAL, path, "%s", msg);
}

static const char *ym_name(const struct lyd_node *n)
{
	return n->schema ? n->schema->name : "";
}

static bool ym_is(const struct lyd_node *n, const char *name)
{
	return n->schema && strcmp(n->schema->name, name) == 0;
}

/* Config-false nodes are skipped when reading config. */
static bool ym_is_state(const struct lyd_node *n)
{
	return n->schema && (n->schema->flags & LYS_CONFIG_R);
}

static const char *ym_val(const struct lyd_node *n)
{
	const char *v = lyd_get_value(n);
	return v ? v : "";
}

static int ym_str(const struct lyd_node *n, char *dst, size_t cap, struct netd_err *e)
{
	const char *v = ym_val(n);
	size_t len = strlen(v);

	if (len >= cap)
		return ym_fail(e, n, "too long (at most %zu characters)", cap - 1);
	memcpy(dst, v, len + 1);
	return 0;
}

static int ym_bool(const struct lyd_node *n, bool *out, struct netd_err *e)
{
	const char *v = ym_val(n);

	if (strcmp(v, "true") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0)
		*out = false;
	else
		return ym_fail(e, n, "not a boolean: \"%s\"", v);
	return 0;
}

/* Unsigned decimal in [lo, hi]. */
static int ym_uint(const struct lyd_node *n, uint64_t lo, uint64_t hi, uint64_t *out, struct netd_err *e)
{
	const char *v = ym_val(n);
	char *end = NULL;

	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (!*v || *v == '-' || *end || errno || x < lo || x > hi)
		return ym_fail(e, n, "not a number in %" PRIu64 "..%" PRIu64 ": \"%s\"", lo, hi, v);
	*out = x;
	return 0;
}

static int ym_u16(const struct lyd_node *n, uint16_t lo, uint16_t hi, uint16_t *out, struct netd_err *e)
{
	uint64_t v;
	int r = ym_uint(n, lo, hi, &v, e);

	if (r == 0)
		*out = (uint16_t)v;
	return r;
}

static int ym_team_mode(const struct lyd_node *n, uint8_t *out, struct netd_err *e)
{
	if (model_team_mode_parse(ym_val(n), out) < 0)
		return ym_fail(e, n, "unknown team mode \"%s\"", ym_val(n));
	return 0;
}

static int ym_addr(const struct lyd_node *n, int family, struct addr *out, struct netd_err *e)
{
	const char *v = ym_val(n);

	if (addr_parse_family(v, family, out) < 0)
		return ym_fail(e, n, "not an %s address: \"%s\"", ym_family_name(family), v);
	return 0;
}

/* Prefix of @family; refuses host bits with the corrected prefix. */
static int ym_prefix(const struct lyd_node *n, int family, struct prefix *out, struct netd_err *e)
{
	const char *v = ym_val(n);
	struct prefix p, strict;
	char buf[PREFIX_STRLEN];

	if (prefix_parse(v, false, &p) < 0 || p.a.family != family)
		return ym_fail(e, n, "not an %s prefix: \"%s\"", ym_family_name(family), v);
	if (prefix_parse(v, true, &strict) < 0)
		return ym_fail(e, n, "host bits set: did you mean %s?", prefix_print(&p, buf, sizeof buf));
	*out = p;
	return 0;
}

static int ym_mac(const struct lyd_node *n, uint8_t out[6], struct netd_err *e)
{
	const char *v = ym_val(n);
	uint8_t m[6];

	for (int i = 0; i < 6; i++) {
		const char *p = v + 3 * i;
		unsigned x;
		if (sscanf(p, "%2x", &x) != 1 || !p[0] || !p[1] || p[2] != (i == 5 ? '\0' : ':') ||
		    !strchr("0123456789abcdefABCDEF", p[0]) || !strchr("0123456789abcdefABCDEF", p[1]))
			return ym_fail(e, n, "not a MAC address (aa:bb:cc:dd:ee:ff): \"%s\"", v);
		m[i] = (uint8_t)x;
	}
	memcpy(out, m, 6);
	return 0;
}

/* One range entry of an ipv4/ipv6 container. */
static int ym_range(const struct lyd_node *entry, int family, struct model_range *out, struct netd_err *e)
{
	const struct lyd_node *first = NULL, *last = NULL;
	int r = 0;

	memset(out, 0, sizeof *out);
	for (const struct lyd_node *c = lyd_child(entry); c && r == 0; c = c->next) {
		if (ym_is(c, "name"))
			r = ym_str(c, out->name, sizeof out->name, e);
		else if (ym_is(c, "first"))
			r = ym_addr(first = c, family, &out->first, e);
		else if (ym_is(c, "last"))
			r = ym_addr(last = c, family, &out->last, e);
	}
	if (r < 0)
		return r;
	if (!first || !last)
		return ym_fail(e, entry, "a range needs first and last");
	if (addr_cmp(&out->first, &out->last) > 0)
		return ym_fail(e, last, "last is below first");
	return 0;
}

/* All range entries of @container into a heap array (NULL if none). */
static int ym_ranges(const struct lyd_node *container, int family, struct model_range **out, size_t *n_out,
		     struct netd_err *e)
{
	struct model_range *rs = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	for (const struct lyd_node *c = lyd_child(container); c; c = c->next)
		if (ym_is(c, "range"))
			cap++;
	if (cap) {
		rs = calloc(cap, sizeof *rs);
		if (!rs)
			return netd_err_set(e, -ENOMEM, NULL, "out of memory");
	}
	for (const struct lyd_node *c = lyd_child(container); c && r == 0; c = c->next)
		if (ym_is(c, "range"))
			r = ym_range(c, family, &rs[n++], e);
	if (r < 0) {
		free(rs);
		return r;
	}
	*out = rs;
	*n_out = n;
	return 0;
}

static int ym_v4_from_lyd(const struct lyd_node *c4, struct model_network *n, struct netd_err *e)
{
	bool subnet = false;
	uint64_t v;
	int r = 0;

	n->has_v4 = true;
	n->router_pref = 100;
	for (const struct lyd_node *c = lyd_child(c4); c && r == 0; c = c->next) {
		if (ym_is(c, "subnet")) {
			r = ym_prefix(c, ADDR_V4, &n->v4_subnet, e);
			subnet = true;
		} else if (ym_is(c, "router")) {
			r = ym_addr(c, ADDR_V4, &n->v4_router, e);
			n->has_v4_router = true;
		} else if (ym_is(c, "router-pref")) {
			r = ym_uint(c, 0, UINT32_MAX, &v, e);
			n->router_pref = (uint32_t)v;
		}
	}
	if (r == 0 && !subnet)
		r = ym_fail(e, c4, "ipv4 needs a subnet");
	if (r == 0)
		r = ym_ranges(c4, ADDR_V4, &n->v4_ranges, &n->n_v4_ranges, e);
	return r;
}

static int ym_v6_prefix(const struct lyd_node *c, const struct model_network *keep_from, struct model_network *n,
			struct netd_err *e)
{
	if (strcmp(ym_val(c), "auto") != 0) {
		n->v6_mode = MODEL_V6_EXPLICIT;
		return ym_prefix(c, ADDR_V6, &n->v6_prefix, e);
	}
	n->v6_mode = MODEL_V6_AUTO;
	if (keep_from && keep_from->v6_mode == MODEL_V6_AUTO) {
		n->v6_prefix = keep_from->v6_prefix;
		n->v6_subnet_id = keep_from->v6_subnet_id;
	}
	return 0;
}

static int ym_v6_from_lyd(const struct lyd_node *c6, const struct model_network *keep_from,
			  struct model_network *n, struct netd_err *e)
{
	int r = 0;

	for (const struct lyd_node *c = lyd_child(c6); c && r == 0; c = c->next) {
		if (ym_is(c, "prefix")) {
			r = ym_v6_prefix(c, keep_from, n, e);
		} else if (ym_is(c, "router")) {
			r = ym_addr(c, ADDR_V6, &n->v6_router, e);
			n->has_v6_router = true;
		}
	}
	if (r == 0 && n->v6_mode == MODEL_V6_NONE)
		r = ym_fail(e, c6, "ipv6 needs a prefix");
	if (r == 0)
		r = ym_ranges(c6, ADDR_V6, &n->v6_ranges, &n->n_v6_ranges, e);
	return r;
}

/* One direct child of a network entry. */
static int ym_network_leaf(const struct lyd_node *c, const struct model_network *keep_from,
			   struct model_network *n, struct netd_err *e)
{
	const char *name = ym_name(c);
	int r = 0;

	if (!strcmp(name, "name"))
		r = ym_str(c, n->name, sizeof n->name, e);
	else if (!strcmp(name, "conduit"))
		r = ym_str(c, n->conduit, sizeof n->conduit, e);
	else if (!strcmp(name, "primary"))
		r = ym_bool(c, &n->primary, e);
	else if (!strcmp(name, "vlan"))
		r = ym_u16(c, 1, 4094, &n->vlan, e);
	else if (!strcmp(name, "use-vlan"))
		r = ym_bool(c, &n->use_vlan, e);
	else if (!strcmp(name, "use-bridge"))
		r = ym_bool(c, &n->use_bridge, e);
	else if (!strcmp(name, "use-team"))
		r = ym_bool(c, &n->use_team, e);
	else if (!strcmp(name, "team-mode"))
		r = ym_team_mode(c, &n->team_mode, e);
	else if (!strcmp(name, "mtu"))
		r = ym_u16(c, 68, 65535, &n->mtu, e);
	else if (!strcmp(name, "ipv4"))
		r = ym_v4_from_lyd(c, n, e);
	else if (!strcmp(name, "ipv6"))
		r = ym_v6_from_lyd(c, keep_from, n, e);
	else if (!strcmp(name, "dns-domain"))
		r = ym_str(c, n->dns_domain, sizeof n->dns_domain, e);
	else if (!strcmp(name, "dns-name-template"))
		r = ym_str(c, n->dns_template, sizeof n->dns_template, e);
	return r;
}

/* Is @entry a list entry named @list of module netd? */
static int ym_check_entry(const struct lyd_node *entry, const char *list, struct netd_err *e)
{
	if (!entry || !entry->schema || entry->schema->nodetype != LYS_LIST || strcmp(entry->schema->name, list) ||
	    strcmp(lyd_owner_module(entry)->name, YM_MODULE))
		return ym_fail(e, entry, "not a /netd:%ss/%s entry", list, list);
	return 0;
}

int ym_network_from_lyd(const struct lyd_node *entry, const struct model_network *keep_from,
			struct model_network *out, struct netd_err *e)
{
	struct model_network n;
	int r = ym_check_entry(entry, "network", e);

	if (r < 0)
		return r;
	memset(&n, 0, sizeof n);
	n.team_mode = TEAM_802_3AD;
	n.mtu = 1500;
	for (const struct lyd_node *c = lyd_child(entry); c && r == 0; c = c->next) {
		if (!c->schema)
			r = ym_fail(e, entry, "unexpected opaque node");
		else if (!ym_is_state(c))
			r = ym_network_leaf(c, keep_from, &n, e);
	}
	if (r < 0) {
		model_network_clear(&n);
		return r;
	}
	*out = n;
	return 0;
}

static int ym_attach_from_lyd(const struct lyd_node *entry, struct model_attach *a, struct netd_err *e)
{
	int r = 0;

	memset(a, 0, sizeof *a);
	for (const struct lyd_node *c = lyd_child(entry); c && r == 0; c = c->next) {
		if (ym_is(c, "name")) {
			r = ym_str(c, a->network, sizeof a->network, e);
		} else if (ym_is(c, "range")) {
			r = ym_str(c, a->range, sizeof a->range, e);
		} else if (ym_is(c, "ipv4-hint")) {
			r = ym_addr(c, ADDR_V4, &a->v4_hint, e);
			a->has_v4_hint = true;
		} else if (ym_is(c, "ipv6-hint")) {
			r = ym_addr(c, ADDR_V6, &a->v6_hint, e);
			a->has_v6_hint = true;
		}
	}
	return r;
}

/* Count the children named @name (config only). */
static size_t ym_count(const struct lyd_node *entry, const char *name)
{
	size_t n = 0;

	for (const struct lyd_node *c = lyd_child(entry); c; c = c->next)
		if (ym_is(c, name) && !ym_is_state(c))
			n++;
	return n;
}

static int ym_alias(const struct lyd_node *c, struct model_node *n, struct netd_err *e)
{
	char buf[MODEL_DOMAIN_MAX];
	int r = ym_str(c, buf, sizeof buf, e);

	if (r < 0)
		return r;
	n->aliases[n->n_aliases] = strdup(buf);
	if (!n->aliases[n->n_aliases])
		return netd_err_set(e, -ENOMEM, NULL, "out of memory");
	n->n_aliases++;
	return 0;
}

/* Arrays for aliases and attachments, sized from the entry. */
static int ym_node_alloc(const struct lyd_node *entry, struct model_node *n, struct netd_err *e)
{
	size_t na = ym_count(entry, "alias"), nn = ym_count(entry, "network");

	if (na && !(n->aliases = calloc(na, sizeof *n->aliases)))
		return netd_err_set(e, -ENOMEM, NULL, "out of memory");
	if (nn && !(n->nets = calloc(nn, sizeof *n->nets)))
		return netd_err_set(e, -ENOMEM, NULL, "out of memory");
	return 0;
}

int ym_node_from_lyd(const struct lyd_node *entry, struct model_node *out, struct netd_err *e)
{
	struct model_node n;
	int r = ym_check_entry(entry, "node", e);

	if (r < 0)
		return r;
	memset(&n, 0, sizeof n);
	r = ym_node_alloc(entry, &n, e);
	for (const struct lyd_node *c = lyd_child(entry); c && r == 0; c = c->next) {
		if (!c->schema) {
			r = ym_fail(e, entry, "unexpected opaque node");
		} else if (ym_is_state(c)) {
			continue;
		} else if (ym_is(c, "name")) {
			r = ym_str(c, n.name, sizeof n.name, e);
		} else if (ym_is(c, "alias")) {
			r = ym_alias(c, &n, e);
		} else if (ym_is(c, "admin-mac")) {
			r = ym_mac(c, n.admin_mac, e);
			n.has_admin_mac = true;
		} else if (ym_is(c, "network")) {
			r = ym_attach_from_lyd(c, &n.nets[n.n_nets], e);
			n.n_nets++;
		}
	}
	if (r < 0) {
		model_node_clear(&n);
		return r;
	}
	*out = n;
	return 0;
}
