/* netd/cdtjson.c — conduit plans and NIC inventories <-> libyang trees and
 * JSON (see cdtjson.h).  Trees are built with lyd_new_* under a holder
 * path (/netd:nodes/node[name=...]/conduit-state for a plan), so libyang
 * checks every value against the model; parsing goes the other way under
 * the same holder.
 */
#include "netd/cdtjson.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netd/yangctx.h"
#include "netd/yangmap.h"

static const char *const kind_names[] = {
	[CDT_DEV_NIC] = "nic", [CDT_DEV_BOND] = "bond", [CDT_DEV_VLAN] = "vlan",
	[CDT_DEV_MACVLAN] = "macvlan", [CDT_DEV_BRIDGE] = "bridge",
};
#define N_KINDS (sizeof kind_names / sizeof kind_names[0])

/* ------------------------------------------------------------- helpers */

static int ly_fail(const struct ly_ctx *ctx, struct netd_err *e)
{
	return yc_err(ctx, NETD_EINVAL, e);
}

static int put(struct lyd_node *parent, const char *name, const char *val, struct netd_err *e)
{
	if (lyd_new_term(parent, NULL, name, val, 0, NULL) != LY_SUCCESS)
		return ly_fail(LYD_CTX(parent), e);
	return 0;
}

static int put_u(struct lyd_node *parent, const char *name, uint64_t v, struct netd_err *e)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
	return put(parent, name, buf, e);
}

/* put() when @val is not empty. */
static int put_s(struct lyd_node *parent, const char *name, const char *val, struct netd_err *e)
{
	return val && *val ? put(parent, name, val, e) : 0;
}

static const char *node_name(const struct lyd_node *n)
{
	return n->schema ? n->schema->name : "";
}

static uint64_t leaf_u(const struct lyd_node *n, const char *name)
{
	const char *v = yc_leaf(n, name);
	return v ? strtoull(v, NULL, 10) : 0;
}

/* Copy @v into @dst (@cap bytes); NETD_EINVAL naming @path when it does not fit. */
static int copy_str(char *dst, size_t cap, const char *v, const char *path, const char *what, struct netd_err *e)
{
	if (!v)
		v = "";
	if (strlen(v) >= cap)
		return netd_err_set(e, NETD_EINVAL, path, "%s \"%.40s...\" is longer than %zu characters", what, v,
				    cap - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static void mac_print(const uint8_t m[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static bool mac_parse(const char *s, uint8_t m[6])
{
	unsigned v[6];
	char tail;
	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)v[i];
	return true;
}

uint64_t cdtj_time_parse(const char *s)
{
	struct tm tm = { 0 };
	const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return 0;
	if (*rest == '.')
		rest += 1 + strspn(rest + 1, "0123456789");
	if (strcmp(rest, "Z") && strcmp(rest, "+00:00") && strcmp(rest, "-00:00"))
		return 0;
	time_t t = timegm(&tm);
	return t > 0 ? (uint64_t)t : 0;
}

/* A new tree holding @holder (an absolute path); the holder node in *@at. */
static int holder_new(const struct ly_ctx *ctx, const char *holder, struct lyd_node **tree, struct lyd_node **at,
		      struct netd_err *e)
{
	*tree = NULL;
	if (lyd_new_path(NULL, ctx, holder, NULL, 0, tree) != LY_SUCCESS ||
	    lyd_find_path(*tree, holder, 0, at) != LY_SUCCESS) {
		int rc = ly_fail(ctx, e);
		lyd_free_all(*tree);
		*tree = NULL;
		return rc;
	}
	return 0;
}

static void holder_path(char *buf, size_t len, const char *node, const char *below)
{
	char key[MODEL_NAME_MAX + 8];
	int n = snprintf(buf, len, "/netd:nodes/node[name=%s]%s",
			 netd_path_key(node && *node ? node : "node", key, sizeof key), below);
	if (n < 0 || (size_t)n >= len)
		buf[len - 1] = '\0';   /* cut: only for messages */
}

/* Parse @json under a new holder tree; the child @name of the holder in
 * *@found.  The caller frees *@tree. */
static int parse_under(const struct ly_ctx *ctx, const char *holder, const char *json, const char *name,
		       struct lyd_node **tree, struct lyd_node **found, struct netd_err *e)
{
	struct lyd_node *at = NULL;
	struct ly_in *in = NULL;
	ly_err_clean((struct ly_ctx *)ctx, NULL);
	int rc = holder_new(ctx, holder, tree, &at, e);
	if (rc < 0)
		return rc;
	if (json && yc_json_has_metadata(json)) {
		/* libyang 2.1 crashes on a top-level "@..." member under a parent */
		rc = netd_err_set(e, NETD_EINVAL, NULL, "%s JSON: metadata annotations (\"@...\") are not accepted", name);
		goto fail;
	}
	if (!json || ly_in_new_memory(json, &in) != LY_SUCCESS) {
		rc = json ? -ENOMEM : netd_err_set(e, NETD_EINVAL, NULL, "no %s JSON", name);
		goto fail;
	}
	LY_ERR lr = lyd_parse_data(ctx, at, in, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, NULL);
	ly_in_free(in, 0);
	if (lr != LY_SUCCESS) {
		rc = ly_fail(ctx, e);
		goto fail;
	}
	struct lyd_node *c;
	LY_LIST_FOR(lyd_child(at), c) {
		if (!strcmp(node_name(c), name)) {
			*found = c;
			return 0;
		}
	}
	rc = netd_err_set(e, NETD_EINVAL, NULL, "the JSON holds no netd:%s", name);
fail:
	lyd_free_all(*tree);
	*tree = NULL;
	return rc;
}

static int print_node(const struct lyd_node *n, char **json, struct netd_err *e)
{
	char *s = NULL;
	if (lyd_print_mem(&s, n, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS || !s) {
		free(s);
		return netd_err_set(e, -ENOMEM, NULL, "cannot print %s", node_name(n));
	}
	*json = s;
	return 0;
}

/* ---------------------------------------------------------------- plans */

static int dev_to_lyd(struct lyd_node *plan, const struct cdt_dev *d, struct netd_err *e)
{
	struct lyd_node *ent = NULL;
	if (d->kind == 0 || d->kind >= N_KINDS || !kind_names[d->kind])
		return netd_err_set(e, NETD_EINVAL, NULL, "device %s: kind %u cannot be planned", d->name, d->kind);
	if (lyd_new_list(plan, NULL, "device", 0, &ent, d->name) != LY_SUCCESS)
		return ly_fail(LYD_CTX(plan), e);
	int rc = put(ent, "kind", kind_names[d->kind], e);
	rc = rc ? rc : put_s(ent, "lower", d->lower, e);
	rc = rc ? rc : put_s(ent, "master", d->master, e);
	if (!rc && d->kind == CDT_DEV_VLAN)
		rc = put_u(ent, "vlan-id", d->vlan_id, e);
	if (!rc && d->kind == CDT_DEV_BOND) {
		const char *mode = model_team_mode_name(d->bond_mode);
		rc = mode ? put(ent, "bond-mode", mode, e)
			  : netd_err_set(e, NETD_EINVAL, NULL, "device %s: bond mode %u", d->name, d->bond_mode);
		rc = rc ? rc : put_u(ent, "miimon", d->miimon, e);
		rc = rc ? rc : put(ent, "lacp-rate", d->lacp_fast ? "fast" : "slow", e);
		rc = rc ? rc : put(ent, "xmit-hash-policy", d->xmit_hash == CDT_XMIT_LAYER34 ? "layer3+4" : "layer2", e);
	}
	if (!rc && d->mtu)
		rc = put_u(ent, "mtu", d->mtu, e);
	rc = rc ? rc : put_s(ent, "alias", d->alias, e);
	rc = rc ? rc : put_s(ent, "conduit", d->conduit, e);
	rc = rc ? rc : put_s(ent, "network", d->network, e);
	return rc;
}

static int addr_to_lyd(struct lyd_node *plan, const struct cdt_paddr *a, struct netd_err *e)
{
	char text[ADDR_STRLEN];
	struct lyd_node *ent = NULL;
	if (lyd_new_list(plan, NULL, "address", 0, &ent, a->dev, addr_print(&a->a, text, sizeof text)) != LY_SUCCESS)
		return ly_fail(LYD_CTX(plan), e);
	int rc = put_u(ent, "prefix-length", a->plen, e);
	return rc ? rc : put_s(ent, "network", a->network, e);
}

static int route_to_lyd(struct lyd_node *plan, const struct cdt_proute *r, struct netd_err *e)
{
	char dst[PREFIX_STRLEN], gw[ADDR_STRLEN];
	struct lyd_node *ent = NULL;
	if (lyd_new_list(plan, NULL, "route", 0, &ent, r->dev, prefix_print(&r->dst, dst, sizeof dst)) != LY_SUCCESS)
		return ly_fail(LYD_CTX(plan), e);
	int rc = r->has_gw ? put(ent, "gateway", addr_print(&r->gw, gw, sizeof gw), e) : 0;
	if (!rc && r->metric)
		rc = put_u(ent, "metric", r->metric, e);
	return rc ? rc : put_s(ent, "network", r->network, e);
}

static int meta_to_lyd(struct lyd_node *plan, const struct cdtj_meta *m, struct netd_err *e)
{
	char text[ADDR_STRLEN];
	int rc = 0;
	if (!m)
		return 0;
	if (m->has_mgmt)
		rc = put(plan, "management-address", addr_print(&m->mgmt, text, sizeof text), e);
	if (!rc && m->confirm_timeout)
		rc = put_u(plan, "confirm-timeout", m->confirm_timeout, e);
	if (!rc && m->has_self_confirm)
		rc = put(plan, "self-confirm", m->self_confirm ? "true" : "false", e);
	return rc;
}

int cdtj_plan_to_lyd(struct lyd_node *state, const struct cdt_plan *p, const struct cdtj_meta *m,
		     struct lyd_node **out, struct netd_err *e)
{
	struct lyd_node *plan = NULL;
	if (lyd_new_inner(state, NULL, "plan", 0, &plan) != LY_SUCCESS)
		return ly_fail(LYD_CTX(state), e);
	int rc = meta_to_lyd(plan, m, e);
	for (size_t i = 0; i < p->n_devs && !rc; i++)
		rc = dev_to_lyd(plan, &p->devs[i], e);
	for (size_t i = 0; i < p->n_addrs && !rc; i++)
		rc = addr_to_lyd(plan, &p->addrs[i], e);
	for (size_t i = 0; i < p->n_routes && !rc; i++)
		rc = route_to_lyd(plan, &p->routes[i], e);
	if (rc < 0) {
		lyd_free_tree(plan);
		return rc;
	}
	if (out)
		*out = plan;
	return 0;
}

int cdtj_plan_print(const struct ly_ctx *ctx, const struct cdt_plan *p, const struct cdtj_meta *m, char **json,
		    struct netd_err *e)
{
	char holder[NETD_ERR_PATH_MAX];
	struct lyd_node *tree = NULL, *state = NULL, *plan = NULL;
	holder_path(holder, sizeof holder, p->node, "/conduit-state");
	int rc = holder_new(ctx, holder, &tree, &state, e);
	if (rc == 0 && (rc = cdtj_plan_to_lyd(state, p, m, &plan, e)) == 0)
		rc = print_node(plan, json, e);
	lyd_free_all(tree);
	return rc;
}

/* Where plan errors point. */
static void plan_path(char *buf, size_t len, const char *node, const char *list, const char *key, const char *leafname)
{
	char below[NETD_ERR_PATH_MAX];
	if (list)
		snprintf(below, sizeof below, "/conduit-state/plan/%s[%s]%s%s", list, key ? key : "",
			 leafname ? "/" : "", leafname ? leafname : "");
	else
		snprintf(below, sizeof below, "/conduit-state/plan%s%s", leafname ? "/" : "", leafname ? leafname : "");
	holder_path(buf, len, node, below);
}

static int dev_from_lyd(const struct lyd_node *ent, const char *node, struct cdt_dev *d, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX], key[80], q[CDT_IFNAME_MAX + 8];
	const char *name = yc_leaf(ent, "name"), *kind = yc_leaf(ent, "kind");
	memset(d, 0, sizeof *d);
	snprintf(key, sizeof key, "name=%s", netd_path_key(name, q, sizeof q));
	plan_path(path, sizeof path, node, "device", key, NULL);
	int rc = copy_str(d->name, sizeof d->name, name, path, "device name", e);
	for (size_t k = 1; k < N_KINDS && kind; k++)
		if (kind_names[k] && !strcmp(kind, kind_names[k]))
			d->kind = (uint8_t)k;
	if (!rc && !d->kind)
		return netd_err_set(e, NETD_EINVAL, path, "device %s has no kind", d->name);
	rc = rc ? rc : copy_str(d->lower, sizeof d->lower, yc_leaf(ent, "lower"), path, "lower device", e);
	rc = rc ? rc : copy_str(d->master, sizeof d->master, yc_leaf(ent, "master"), path, "master", e);
	rc = rc ? rc : copy_str(d->alias, sizeof d->alias, yc_leaf(ent, "alias"), path, "alias", e);
	rc = rc ? rc : copy_str(d->conduit, sizeof d->conduit, yc_leaf(ent, "conduit"), path, "conduit", e);
	rc = rc ? rc : copy_str(d->network, sizeof d->network, yc_leaf(ent, "network"), path, "network", e);
	if (rc < 0)
		return rc;
	if ((d->kind == CDT_DEV_VLAN || d->kind == CDT_DEV_MACVLAN) && !d->lower[0])
		return netd_err_set(e, NETD_EINVAL, path, "%s %s has no lower device", kind, d->name);
	d->vlan_id = (uint16_t)leaf_u(ent, "vlan-id");
	if (d->kind == CDT_DEV_VLAN && !d->vlan_id)
		return netd_err_set(e, NETD_EINVAL, path, "VLAN %s has no vlan-id", d->name);
	const char *mode = yc_leaf(ent, "bond-mode"), *lacp = yc_leaf(ent, "lacp-rate"), *xh = yc_leaf(ent, "xmit-hash-policy");
	if (d->kind == CDT_DEV_BOND && (!mode || model_team_mode_parse(mode, &d->bond_mode) < 0))
		return netd_err_set(e, NETD_EINVAL, path, "bond %s has no bond-mode", d->name);
	d->miimon = (uint32_t)leaf_u(ent, "miimon");
	d->lacp_fast = lacp && !strcmp(lacp, "fast");
	d->xmit_hash = xh && !strcmp(xh, "layer3+4") ? CDT_XMIT_LAYER34 : CDT_XMIT_LAYER2;
	d->mtu = (uint32_t)leaf_u(ent, "mtu");
	return 0;
}

static bool plan_has_dev(const struct cdt_plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_devs; i++)
		if (!strcmp(p->devs[i].name, name))
			return true;
	return false;
}

static int addr_from_lyd(const struct lyd_node *ent, const char *node, const struct cdt_plan *p,
			 struct cdt_paddr *a, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX], key[160], q1[40], q2[64];
	const char *dev = yc_leaf(ent, "device"), *text = yc_leaf(ent, "address"), *plen = yc_leaf(ent, "prefix-length");
	memset(a, 0, sizeof *a);
	snprintf(key, sizeof key, "device=%s][address=%s", netd_path_key(dev, q1, sizeof q1),
		 netd_path_key(text, q2, sizeof q2));
	plan_path(path, sizeof path, node, "address", key, NULL);
	int rc = copy_str(a->dev, sizeof a->dev, dev, path, "device", e);
	rc = rc ? rc : copy_str(a->network, sizeof a->network, yc_leaf(ent, "network"), path, "network", e);
	if (rc < 0)
		return rc;
	if (!plan_has_dev(p, a->dev))
		return netd_err_set(e, NETD_EINVAL, path, "address %s on device %s, which the plan does not have",
				    text ? text : "", a->dev);
	if (!text || addr_parse(text, &a->a) < 0)
		return netd_err_set(e, NETD_EINVAL, path, "bad address \"%s\"", text ? text : "");
	unsigned long n = plen ? strtoul(plen, NULL, 10) : 999;
	if (n > (a->a.family == ADDR_V4 ? 32u : 128u))
		return netd_err_set(e, NETD_EINVAL, path, "address %s: bad or missing prefix-length", text);
	a->plen = (uint8_t)n;
	return 0;
}

static int route_from_lyd(const struct lyd_node *ent, const char *node, const struct cdt_plan *p,
			  struct cdt_proute *r, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX], key[160], q1[40], q2[64];
	const char *dev = yc_leaf(ent, "device"), *dst = yc_leaf(ent, "destination"), *gw = yc_leaf(ent, "gateway");
	memset(r, 0, sizeof *r);
	snprintf(key, sizeof key, "device=%s][destination=%s", netd_path_key(dev, q1, sizeof q1),
		 netd_path_key(dst, q2, sizeof q2));
	plan_path(path, sizeof path, node, "route", key, NULL);
	int rc = copy_str(r->dev, sizeof r->dev, dev, path, "device", e);
	rc = rc ? rc : copy_str(r->network, sizeof r->network, yc_leaf(ent, "network"), path, "network", e);
	if (rc < 0)
		return rc;
	if (!plan_has_dev(p, r->dev))
		return netd_err_set(e, NETD_EINVAL, path, "route via device %s, which the plan does not have", r->dev);
	if (!dst || prefix_parse(dst, true, &r->dst) < 0)
		return netd_err_set(e, NETD_EINVAL, path, "bad destination \"%s\"", dst ? dst : "");
	if (gw) {
		if (addr_parse(gw, &r->gw) < 0 || r->gw.family != r->dst.a.family)
			return netd_err_set(e, NETD_EINVAL, path, "gateway %s is not an address of the destination's family",
					    gw);
		r->has_gw = true;
	}
	r->metric = (uint32_t)leaf_u(ent, "metric");
	return 0;
}

static int meta_from_lyd(const struct lyd_node *plan, const char *node, struct cdtj_meta *m, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX];
	const char *mg = yc_leaf(plan, "management-address"), *sc = yc_leaf(plan, "self-confirm");
	memset(m, 0, sizeof *m);
	if (mg) {
		if (addr_parse(mg, &m->mgmt) < 0) {
			plan_path(path, sizeof path, node, NULL, NULL, "management-address");
			return netd_err_set(e, NETD_EINVAL, path, "bad address \"%s\"", mg);
		}
		m->has_mgmt = true;
	}
	m->confirm_timeout = (uint32_t)leaf_u(plan, "confirm-timeout");
	m->has_self_confirm = sc != NULL;
	m->self_confirm = sc && !strcmp(sc, "true");
	return 0;
}

static int dev_depth(uint8_t kind)
{
	return kind == CDT_DEV_BRIDGE ? 3 : kind == CDT_DEV_VLAN || kind == CDT_DEV_MACVLAN ? 2 : kind == CDT_DEV_BOND;
}

/* Stable: lower devices before upper ones. */
static void sort_devs(struct cdt_plan *p)
{
	for (size_t i = 1; i < p->n_devs; i++) {
		struct cdt_dev x = p->devs[i];
		size_t j = i;
		for (; j > 0 && dev_depth(p->devs[j - 1].kind) > dev_depth(x.kind); j--)
			p->devs[j] = p->devs[j - 1];
		p->devs[j] = x;
	}
}

/* One pass over @plan's list entries named @list. */
static int plan_pass(const struct lyd_node *plan, const char *node, const char *list, struct cdt_plan *p,
		     struct netd_err *e)
{
	const struct lyd_node *c;
	int rc = 0;
	LY_LIST_FOR(lyd_child(plan), c) {
		if (strcmp(node_name(c), list))
			continue;
		if (!strcmp(list, "device")) {
			struct cdt_dev d;
			if ((rc = dev_from_lyd(c, node, &d, e)) == 0 && plan_has_dev(p, d.name))
				rc = netd_err_set(e, NETD_EINVAL, NULL, "device %s twice in the plan", d.name);
			rc = rc ? rc : cdt_plan_add_dev(p, &d);
		} else if (!strcmp(list, "address")) {
			struct cdt_paddr a;
			rc = addr_from_lyd(c, node, p, &a, e);
			rc = rc ? rc : cdt_plan_add_addr(p, &a);
		} else {
			struct cdt_proute r;
			rc = route_from_lyd(c, node, p, &r, e);
			rc = rc ? rc : cdt_plan_add_route(p, &r);
		}
		if (rc < 0)
			return e && !e->code ? netd_err_set(e, rc, NULL, "plan of node %s: %s", node, netd_strerror(rc))
					     : rc;
	}
	return 0;
}

int cdtj_plan_from_lyd(const struct lyd_node *plan, const char *node, struct cdt_plan *out, struct cdtj_meta *m,
		       struct netd_err *e)
{
	struct cdt_plan p = { 0 };
	struct cdtj_meta meta;
	int rc = meta_from_lyd(plan, node, &meta, e);
	static const char *const lists[] = { "device", "address", "route" };
	snprintf(p.node, sizeof p.node, "%s", node ? node : "");
	for (size_t i = 0; i < 3 && rc == 0; i++)
		rc = plan_pass(plan, node, lists[i], &p, e);
	if (rc < 0) {
		cdt_plan_clear(&p);
		return rc;
	}
	sort_devs(&p);
	memset(out, 0, sizeof *out);
	*out = p;
	if (m)
		*m = meta;
	return 0;
}

int cdtj_plan_parse(const struct ly_ctx *ctx, const char *node, const char *json, struct cdt_plan *out,
		    struct cdtj_meta *m, struct netd_err *e)
{
	char holder[NETD_ERR_PATH_MAX];
	struct lyd_node *tree = NULL, *plan = NULL;
	holder_path(holder, sizeof holder, node, "/conduit-state");
	int rc = parse_under(ctx, holder, json, "plan", &tree, &plan, e);
	if (rc == 0)
		rc = cdtj_plan_from_lyd(plan, node, out, m, e);
	lyd_free_all(tree);
	return rc;
}

/* ------------------------------------------------------------ inventories */

void cdtj_inventory_clear(struct cdtj_inventory *inv)
{
	if (!inv)
		return;
	free(inv->nics);
	free(inv->masters);
	memset(inv, 0, sizeof *inv);
}

static int nic_to_lyd(struct lyd_node *inv, const struct cdt_nic *n, const char *master, struct netd_err *e)
{
	char mac[18];
	struct lyd_node *ent = NULL;
	if (lyd_new_list(inv, NULL, "nic", 0, &ent, n->name) != LY_SUCCESS)
		return ly_fail(LYD_CTX(inv), e);
	int rc = n->ifindex > 0 ? put_u(ent, "ifindex", (uint64_t)n->ifindex, e) : 0;
	mac_print(n->mac, mac);
	rc = rc ? rc : put(ent, "mac", mac, e);
	if (!rc && n->has_perm_mac) {
		mac_print(n->perm_mac, mac);
		rc = put(ent, "permanent-mac", mac, e);
	}
	if (!rc && n->mtu)
		rc = put_u(ent, "mtu", n->mtu, e);
	rc = rc ? rc : put(ent, "operstate", cdt_operstate_name(n->operstate), e);
	rc = rc ? rc : put(ent, "link-up", n->link_up ? "true" : "false", e);
	rc = rc ? rc : put_s(ent, "master", master, e);
	if (!rc && n->speed)
		rc = put_u(ent, "speed", n->speed, e);
	if (!rc && n->speed_class)
		rc = put_u(ent, "speed-class", n->speed_class, e);
	for (unsigned k = 0; k < CDT_LINK_SPEEDS && !rc; k++)
		if (n->supported >> k & 1u)
			rc = put_u(ent, "supported-speed", cdt_link_speeds[k], e);
	rc = rc ? rc : put_s(ent, "pci", n->pci, e);
	return rc ? rc : put_s(ent, "driver", n->driver, e);
}

int cdtj_inventory_to_lyd(struct lyd_node *node_entry, const struct cdtj_inventory *inv, struct lyd_node **out,
			  struct netd_err *e)
{
	struct lyd_node *c = NULL;
	char when[64];
	if (lyd_new_inner(node_entry, NULL, "inventory", 0, &c) != LY_SUCCESS)
		return ly_fail(LYD_CTX(node_entry), e);
	int rc = inv->reported_at ? put(c, "reported-at", ym_time_print(inv->reported_at, when, sizeof when), e) : 0;
	rc = rc ? rc : put_s(c, "product-name", inv->product, e);
	for (size_t i = 0; i < inv->n && !rc; i++)
		rc = nic_to_lyd(c, &inv->nics[i], inv->masters ? inv->masters[i] : "", e);
	if (rc < 0) {
		lyd_free_tree(c);
		return rc;
	}
	if (out)
		*out = c;
	return 0;
}

int cdtj_inventory_print(const struct ly_ctx *ctx, const struct cdtj_inventory *inv, char **json,
			 struct netd_err *e)
{
	char holder[NETD_ERR_PATH_MAX];
	struct lyd_node *tree = NULL, *entry = NULL, *c = NULL;
	holder_path(holder, sizeof holder, "node", "");
	int rc = holder_new(ctx, holder, &tree, &entry, e);
	if (rc == 0 && (rc = cdtj_inventory_to_lyd(entry, inv, &c, e)) == 0)
		rc = print_node(c, json, e);
	lyd_free_all(tree);
	return rc;
}

/* The library's record paths start "/inventory"; put @where in front and
 * use the model's leaf names. */
static void rebase_path(struct netd_err *e, const char *where)
{
	char buf[NETD_ERR_PATH_MAX * 2];
	const char *rest = !strncmp(e->path, "/inventory", 10) ? e->path + 10 : e->path;
	const char *pm = strstr(rest, "/perm-mac");
	if (pm)
		snprintf(buf, sizeof buf, "%s%.*s/permanent-mac", where, (int)(pm - rest), rest);
	else
		snprintf(buf, sizeof buf, "%s%s", where, rest);
	if ((size_t)snprintf(e->path, sizeof e->path, "%s", buf) >= sizeof e->path)
		e->path[sizeof e->path - 1] = '\0';
}

/* The supported-speed entries of NIC entry @ent into @out (when not NULL;
 * room for all of them); their number. */
static size_t supported_list(const struct lyd_node *ent, uint32_t *out)
{
	const struct lyd_node *c;
	size_t k = 0;
	LY_LIST_FOR(lyd_child(ent), c) {
		if (strcmp(node_name(c), "supported-speed"))
			continue;
		if (out)
			out[k] = (uint32_t)strtoul(lyd_get_value(c), NULL, 10);
		k++;
	}
	return k;
}

/* NICs with only what an override file states. */
static int nics_partial(const struct lyd_node *const *ents, size_t n, const char *where, struct cdt_nic *v,
			struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX], q[CDT_IFNAME_MAX + 8];
	for (size_t i = 0; i < n; i++) {
		const char *name = yc_leaf(ents[i], "name");
		const struct lyd_node *c;
		snprintf(path, sizeof path, "%s/nic[name=%s]", where, netd_path_key(name, q, sizeof q));
		int rc = copy_str(v[i].name, sizeof v[i].name, name, path, "NIC name", e);
		rc = rc ? rc : copy_str(v[i].pci, sizeof v[i].pci, yc_leaf(ents[i], "pci"), path, "PCI path", e);
		if (rc < 0)
			return rc;
		LY_LIST_FOR(lyd_child(ents[i]), c) {
			if (strcmp(node_name(c), "supported-speed"))
				continue;
			uint32_t bit = cdt_link_speed_bit((uint32_t)strtoul(lyd_get_value(c), NULL, 10));
			if (!bit) {
				size_t l = strlen(path);
				snprintf(path + l, sizeof path - l, "/supported-speed");
				return netd_err_set(e, NETD_EINVAL, path, "NIC %s: %s Mb/s is not the speed of a link mode",
						    v[i].name, lyd_get_value(c));
			}
			v[i].supported |= bit;
		}
		snprintf(v[i].driver, sizeof v[i].driver, "%s", yc_leaf(ents[i], "driver") ? yc_leaf(ents[i], "driver") : "");
		v[i].has_perm_mac = mac_parse(yc_leaf(ents[i], "permanent-mac"), v[i].perm_mac);
		(void)mac_parse(yc_leaf(ents[i], "mac"), v[i].mac);
		v[i].mtu = (uint32_t)leaf_u(ents[i], "mtu");
		v[i].ifindex = (int)(leaf_u(ents[i], "ifindex") & 0x7fffffff);
	}
	return 0;
}

/* NICs through cdt_inventory_from_records(): every check of a report. */
static int nics_full(const struct lyd_node *const *ents, size_t n, const char *where, struct cdt_nic **out,
		     struct netd_err *e)
{
	struct cdt_inventory_record *recs = calloc(n ? n : 1, sizeof *recs);
	struct cdt_nic *v = NULL;
	size_t nv = 0, ns = 0;
	for (size_t i = 0; i < n; i++)
		ns += supported_list(ents[i], NULL);
	uint32_t *speeds = calloc(ns ? ns : 1, sizeof *speeds);
	if (!recs || !speeds) {
		free(recs);
		free(speeds);
		return -ENOMEM;
	}
	ns = 0;
	for (size_t i = 0; i < n; i++) {
		const struct lyd_node *x = ents[i];
		const char *up = yc_leaf(x, "link-up");
		uint64_t ix = leaf_u(x, "ifindex");
		size_t k = supported_list(x, speeds + ns);
		recs[i] = (struct cdt_inventory_record){
			.name = yc_leaf(x, "name"), .ifindex = ix > 0x7fffffff ? -1 : (int)ix, .mac = yc_leaf(x, "mac"),
			.perm_mac = yc_leaf(x, "permanent-mac"), .mtu = (uint32_t)leaf_u(x, "mtu"),
			.operstate = yc_leaf(x, "operstate"), .link_up = up && !strcmp(up, "true"),
			.pci = yc_leaf(x, "pci"), .driver = yc_leaf(x, "driver"),
			.class_mbps = (uint32_t)leaf_u(x, "speed-class"), .speed_mbps = (uint32_t)leaf_u(x, "speed"),
			.supported = speeds + ns, .n_supported = k,
		};
		ns += k;
	}
	int rc = cdt_inventory_from_records(recs, n, &v, &nv, e);
	free(recs);
	free(speeds);
	if (rc < 0) {
		if (e)
			rebase_path(e, where);
		return rc;
	}
	*out = v;
	return 0;
}

int cdtj_inventory_from_lyd(const struct lyd_node *inv, unsigned flags, const char *where,
			    struct cdtj_inventory *out, struct netd_err *e)
{
	struct cdtj_inventory r = { 0 };
	const struct lyd_node **ents = NULL, *c;
	size_t n = 0;
	int rc = 0;
	LY_LIST_FOR(lyd_child(inv), c)
		n += !strcmp(node_name(c), "nic");
	if (n > CDT_INVENTORY_MAX)
		return netd_err_set(e, NETD_ETOOBIG, where, "%zu NICs, at most %d", n, CDT_INVENTORY_MAX);
	ents = calloc(n ? n : 1, sizeof *ents);
	r.masters = calloc(n ? n : 1, sizeof *r.masters);
	if (!ents || !r.masters) {
		rc = -ENOMEM;
		goto out;
	}
	n = 0;
	LY_LIST_FOR(lyd_child(inv), c)
		if (!strcmp(node_name(c), "nic"))
			ents[n++] = c;
	if (flags & CDTJ_INV_PARTIAL) {
		r.nics = calloc(n ? n : 1, sizeof *r.nics);
		rc = r.nics ? nics_partial(ents, n, where, r.nics, e) : -ENOMEM;
	} else {
		rc = nics_full(ents, n, where, &r.nics, e);
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (flags & CDTJ_INV_PARTIAL) {   /* a full read settled the speeds already */
			r.nics[i].speed_class = (uint32_t)leaf_u(ents[i], "speed-class");
			r.nics[i].speed = (uint32_t)leaf_u(ents[i], "speed");
		}
		snprintf(r.masters[i], sizeof r.masters[i], "%.15s", yc_leaf(ents[i], "master") ? yc_leaf(ents[i], "master") : "");
	}
	r.n = n;
	snprintf(r.product, sizeof r.product, "%s", yc_leaf(inv, "product-name") ? yc_leaf(inv, "product-name") : "");
	r.reported_at = cdtj_time_parse(yc_leaf(inv, "reported-at"));
	*out = r;
	memset(&r, 0, sizeof r);
out:
	free(ents);
	cdtj_inventory_clear(&r);
	if (rc == -ENOMEM)
		netd_err_set(e, rc, where, "inventory of %zu NICs: out of memory", n);
	return rc;
}

int cdtj_inventory_parse(const struct ly_ctx *ctx, const char *json, unsigned flags, const char *where,
			 struct cdtj_inventory *out, struct netd_err *e)
{
	char holder[NETD_ERR_PATH_MAX];
	struct lyd_node *tree = NULL, *inv = NULL;
	holder_path(holder, sizeof holder, "node", "");
	int rc = parse_under(ctx, holder, json, "inventory", &tree, &inv, e);
	if (rc == 0)
		rc = cdtj_inventory_from_lyd(inv, flags, where, out, e);
	lyd_free_all(tree);
	return rc;
}
