/* conduits/diff.c — desired plan vs actual state -> ordered minimal changes
 * (order and ownership rules in conduits.h, "desired stack, diff, apply").
 * Pure: no netlink.
 *
 * Changes are collected per phase and concatenated at the end, so each
 * phase can be filled in whatever order is natural (plan order = lower
 * devices first; reversed for shrinking MTUs; stale devices upper first).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "conduits/cdt_int.h"

enum { GONE_STALE = 1, GONE_REPLACED = 2 };

enum phase {
	PH_DEL_ROUTE, PH_DEL_ADDR, PH_REPLACE, PH_MTU_GROW, PH_CREATE, PH_ENSLAVE, PH_MTU_SHRINK,
	PH_UP, PH_ADD_ADDR, PH_ROUTE, PH_DEL_LINK, PH_N
};

struct list {
	struct cdt_change *v;
	size_t n, cap;
};

struct dctx {
	const struct cdt_plan *p;
	const struct cdt_actual *act;
	struct list ph[PH_N];
	uint8_t *gone;         /* per actual link: GONE_STALE or GONE_REPLACED */
	const struct cdt_alink **match;   /* per plan device: the link to reconcile, NULL = create */
	struct netd_err *e;
};

static int emit(struct dctx *d, enum phase ph, const struct cdt_change *c)
{
	struct list *l = &d->ph[ph];
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct cdt_change *nv = realloc(l->v, cap * sizeof *nv);
		if (!nv)
			return netd_err_set(d->e, -ENOMEM, NULL, "node %s: diff", d->p->node);
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = *c;
	return 0;
}

static void chg_init(struct cdt_change *c, uint8_t op, const char *dev, const char *conduit, const char *network)
{
	memset(c, 0, sizeof *c);
	c->op = op;
	snprintf(c->dev, sizeof c->dev, "%s", dev);
	snprintf(c->conduit, sizeof c->conduit, "%s", conduit ? conduit : "");
	snprintf(c->network, sizeof c->network, "%s", network ? network : "");
}

static const struct cdt_dev *plan_dev(const struct cdt_plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_devs; i++)
		if (strcmp(p->devs[i].name, name) == 0)
			return &p->devs[i];
	return NULL;
}

static const char *link_name(const struct cdt_actual *a, int ifindex)
{
	const struct cdt_alink *l = cdt_actual_link_at(a, ifindex);
	return l ? l->name : "";
}

static size_t link_idx(const struct cdt_actual *a, const struct cdt_alink *l)
{
	return (size_t)(l - a->links);
}

/* conduit and network from a mark "netd:<conduit>[/<network>]". */
static void parse_mark(const char *alias, struct cdt_dev *d)
{
	const char *s = alias + sizeof CDT_MARK - 1, *slash = strchr(s, '/');
	if (slash) {
		snprintf(d->conduit, sizeof d->conduit, "%.*s", (int)(slash - s), s);
		snprintf(d->network, sizeof d->network, "%s", slash + 1);
	} else {
		snprintf(d->conduit, sizeof d->conduit, "%s", s);
	}
}

/* The device as it is, for undo and messages. */
static void dev_from_actual(const struct cdt_actual *a, const struct cdt_alink *l, struct cdt_dev *d)
{
	memset(d, 0, sizeof *d);
	memcpy(d->name, l->name, sizeof d->name);
	d->kind = l->kind;
	snprintf(d->lower, sizeof d->lower, "%s", link_name(a, l->link));
	snprintf(d->master, sizeof d->master, "%s", link_name(a, l->master));
	d->vlan_id = l->vlan_id;
	d->bond_mode = l->bond_mode;
	d->miimon = l->miimon;
	d->lacp_fast = l->lacp_fast;
	d->xmit_hash = l->xmit_hash;
	d->mtu = l->mtu;
	memcpy(d->alias, l->alias, sizeof d->alias);
	if (cdt_owned(l->alias))
		parse_mark(l->alias, d);
}

/* Same immutable identity: kind, mark, lower device and kind settings. */
static bool same_identity(const struct cdt_actual *a, const struct cdt_dev *d, const struct cdt_alink *l)
{
	if (d->kind != l->kind || strcmp(d->alias, l->alias) != 0)
		return false;
	switch (d->kind) {
	case CDT_DEV_VLAN:
		return l->vlan_id == d->vlan_id && strcmp(link_name(a, l->link), d->lower) == 0;
	case CDT_DEV_MACVLAN:
		return l->macvlan_mode == MACVLAN_MODE_BRIDGE && strcmp(link_name(a, l->link), d->lower) == 0;
	case CDT_DEV_BOND:
		return l->bond_mode == d->bond_mode && l->miimon == d->miimon && l->xmit_hash == d->xmit_hash &&
		       (d->bond_mode != TEAM_802_3AD || l->lacp_fast == d->lacp_fast);
	default:
		return true;
	}
}

static bool is_linklocal(const struct cdt_aaddr *x)
{
	return x->scope >= RT_SCOPE_LINK;
}

static bool planned_addr(const struct cdt_plan *p, const char *dev, const struct addr *a, uint8_t plen)
{
	for (size_t i = 0; i < p->n_addrs; i++)
		if (strcmp(p->addrs[i].dev, dev) == 0 && addr_eq(&p->addrs[i].a, a) && p->addrs[i].plen == plen)
			return true;
	return false;
}

/* Inside the subnet of an address the plan puts on this node. */
static bool in_planned_subnet(const struct cdt_plan *p, const struct addr *a)
{
	for (size_t i = 0; i < p->n_addrs; i++) {
		struct prefix s;
		if (prefix_make(&p->addrs[i].a, p->addrs[i].plen, &s) == 0 && prefix_contains(&s, a))
			return true;
	}
	return false;
}

static int del_addrs_of(struct dctx *d, const struct cdt_alink *l, const struct cdt_dev *want, bool all)
{
	for (size_t i = 0; i < d->act->n_addrs; i++) {
		const struct cdt_aaddr *x = &d->act->addrs[i];
		if (x->ifindex != l->ifindex || is_linklocal(x))
			continue;
		if (!all && planned_addr(d->p, l->name, &x->a, x->plen))
			continue;
		if (!all && want->kind == CDT_DEV_NIC && !in_planned_subnet(d->p, &x->a))
			continue;
		struct cdt_change c;
		chg_init(&c, CDT_CHG_DEL_ADDR, l->name, want->conduit, want->network);
		c.a = x->a;
		c.plen = x->plen;
		int rc = emit(d, PH_DEL_ADDR, &c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int add_addrs_of(struct dctx *d, const struct cdt_dev *want, const struct cdt_alink *l)
{
	for (size_t i = 0; i < d->p->n_addrs; i++) {
		const struct cdt_paddr *pa = &d->p->addrs[i];
		bool have = false;
		if (strcmp(pa->dev, want->name) != 0)
			continue;
		for (size_t k = 0; l && k < d->act->n_addrs && !have; k++) {
			const struct cdt_aaddr *x = &d->act->addrs[k];
			have = x->ifindex == l->ifindex && addr_eq(&x->a, &pa->a) && x->plen == pa->plen;
		}
		if (have)
			continue;
		struct cdt_change c;
		chg_init(&c, CDT_CHG_ADD_ADDR, want->name, want->conduit, pa->network);
		c.a = pa->a;
		c.plen = pa->plen;
		int rc = emit(d, PH_ADD_ADDR, &c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int check_nic(struct dctx *d, const struct cdt_dev *w, const struct cdt_alink *l)
{
	if (!l)
		return netd_err_set(d->e, NETD_ENOTFOUND, NULL, "node %s conduit %s: NIC %s is not present",
				    d->p->node, w->conduit, w->name);
	const struct cdt_alink *m = cdt_actual_link_at(d->act, l->master);
	if (m && !cdt_owned(m->alias) && strcmp(m->name, w->master) != 0)
		return netd_err_set(d->e, NETD_EINUSE, NULL,
				    "node %s conduit %s: NIC %s is a port of %s, which netd does not own",
				    d->p->node, w->conduit, w->name, m->name);
	return 0;
}

/* Returns the actual link to reconcile @w with, NULL when it is created. */
static int match_owned(struct dctx *d, const struct cdt_dev *w, const struct cdt_alink **lp)
{
	const struct cdt_alink *l = *lp;
	int rc;
	if (!l)
		return 0;
	if (!cdt_owned(l->alias))
		return netd_err_set(d->e, NETD_EEXIST, NULL,
				    "node %s conduit %s network %s: device %s exists and is not netd's (no \"%s\" alias); it is left alone",
				    d->p->node, w->conduit, w->network, w->name, CDT_MARK);
	if (same_identity(d->act, w, l))
		return 0;
	struct cdt_change c;
	chg_init(&c, CDT_CHG_REPLACE, l->name, w->conduit, w->network);
	dev_from_actual(d->act, l, &c.want);
	c.was_up = l->up;
	c.old_group = l->group;
	if ((rc = del_addrs_of(d, l, w, true)) < 0 || (rc = emit(d, PH_REPLACE, &c)) < 0)
		return rc;
	d->gone[link_idx(d->act, l)] = GONE_REPLACED;
	*lp = NULL;
	return 0;
}

static bool master_is_bond(const struct dctx *d, const char *name)
{
	const struct cdt_dev *m = plan_dev(d->p, name);
	const struct cdt_alink *l = m ? NULL : cdt_actual_link(d->act, name);
	return (m && m->kind == CDT_DEV_BOND) || (l && l->kind == CDT_DEV_BOND);
}

static int diff_master(struct dctx *d, const struct cdt_dev *w, const struct cdt_alink *l)
{
	const struct cdt_alink *m = l ? cdt_actual_link_at(d->act, l->master) : NULL;
	/* A replaced master is deleted early: its ports are free by then.  A
	 * stale one lives until the end: its ports leave it explicitly. */
	const char *have = m && d->gone[link_idx(d->act, m)] != GONE_REPLACED ? m->name : "";
	if (strcmp(have, w->master) == 0)
		return 0;
	struct cdt_change c;
	chg_init(&c, CDT_CHG_ENSLAVE, w->name, w->conduit, w->network);
	memcpy(c.master, w->master, sizeof c.master);
	snprintf(c.old_master, sizeof c.old_master, "%s", m ? m->name : "");
	c.master_is_bond = master_is_bond(d, w->master) || (*c.old_master && master_is_bond(d, c.old_master));
	c.was_up = l ? l->up : true;
	return emit(d, PH_ENSLAVE, &c);
}

static int diff_mtu(struct dctx *d, const struct cdt_dev *w, const struct cdt_alink *l)
{
	if (!l || l->mtu == w->mtu || w->mtu == 0 || (*w->master && master_is_bond(d, w->master)))
		return 0;
	struct cdt_change c;
	chg_init(&c, CDT_CHG_MTU, w->name, w->conduit, w->network);
	c.mtu = w->mtu;
	c.old_mtu = l->mtu;
	return emit(d, w->mtu > l->mtu ? PH_MTU_GROW : PH_MTU_SHRINK, &c);
}

/* Pass 1: which planned devices exist as they should, which are replaced
 * or created. */
static int match_all(struct dctx *d)
{
	for (size_t i = 0; i < d->p->n_devs; i++) {
		const struct cdt_dev *w = &d->p->devs[i];
		const struct cdt_alink *l = cdt_actual_link(d->act, w->name);
		int rc = w->kind == CDT_DEV_NIC ? check_nic(d, w, l) : match_owned(d, w, &l);
		if (rc < 0)
			return rc;
		d->match[i] = l;
	}
	return 0;
}

/* Pass 2: the changes of one planned device. */
static int diff_dev(struct dctx *d, size_t i)
{
	const struct cdt_dev *w = &d->p->devs[i];
	const struct cdt_alink *l = d->match[i];
	struct cdt_change c;
	int rc;
	if (!l) {
		chg_init(&c, CDT_CHG_CREATE, w->name, w->conduit, w->network);
		c.want = *w;
		if ((rc = emit(d, PH_CREATE, &c)) < 0)
			return rc;
	} else if ((rc = del_addrs_of(d, l, w, false)) < 0 || (rc = diff_mtu(d, w, l)) < 0) {
		return rc;
	}
	if ((rc = diff_master(d, w, l)) < 0 || (rc = add_addrs_of(d, w, l)) < 0)
		return rc;
	if (l && !l->up) {     /* created devices are created up */
		chg_init(&c, CDT_CHG_UP, w->name, w->conduit, w->network);
		rc = emit(d, PH_UP, &c);
	}
	return rc;
}

static int kind_depth(uint8_t k)
{
	return k == CDT_DEV_BRIDGE ? 3 : k == CDT_DEV_VLAN || k == CDT_DEV_MACVLAN ? 2 : k == CDT_DEV_BOND ? 1 : 0;
}

/* The ports of stale netd bond @b that the plan does not name (planned
 * NICs leave it in diff_master): released explicitly, before the bond is
 * deleted.  Deleting a bond releases its ports too, but the kernel closes
 * them on release (a former member ends up admin-down), and the undo of the
 * delete could not enslave them again.  The release cycles the port
 * down/up like every netd enslave; its undo enslaves it back. */
static int release_ports(struct dctx *d, const struct cdt_alink *b, const char *conduit)
{
	for (size_t k = 0; k < d->act->n_links; k++) {
		const struct cdt_alink *pl = &d->act->links[k];
		if (pl->master != b->ifindex || cdt_owned(pl->alias) || plan_dev(d->p, pl->name))
			continue;
		struct cdt_change c;
		chg_init(&c, CDT_CHG_ENSLAVE, pl->name, conduit, NULL);
		memcpy(c.old_master, b->name, sizeof c.old_master);
		c.master_is_bond = true;
		c.was_up = pl->up;
		int rc = emit(d, PH_ENSLAVE, &c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Stale netd devices, upper first; none may share their teardown group
 * with a foreign device. */
static int diff_stale(struct dctx *d)
{
	int rc;
	bool any = false;
	for (int depth = 3; depth >= 0; depth--) {
		for (size_t i = 0; i < d->act->n_links; i++) {
			const struct cdt_alink *l = &d->act->links[i];
			if (!cdt_owned(l->alias) || plan_dev(d->p, l->name) || kind_depth(l->kind) != depth)
				continue;
			struct cdt_change c;
			chg_init(&c, CDT_CHG_DEL_LINK, l->name, NULL, NULL);
			dev_from_actual(d->act, l, &c.want);
			memcpy(c.conduit, c.want.conduit, sizeof c.conduit);
			memcpy(c.network, c.want.network, sizeof c.network);
			c.was_up = l->up;
			c.old_group = l->group;
			d->gone[i] = GONE_STALE;
			any = true;
			if ((rc = emit(d, PH_DEL_LINK, &c)) < 0 ||
			    (l->kind == CDT_DEV_BOND && (rc = release_ports(d, l, c.conduit)) < 0))
				return rc;
		}
	}
	for (size_t i = 0; any && i < d->act->n_links; i++)
		if (!d->gone[i] && d->act->links[i].group == CDT_TEARDOWN_GROUP)
			return netd_err_set(d->e, NETD_EINUSE, NULL,
					    "node %s: link %s is in group %u, which netd uses to delete stale devices",
					    d->p->node, d->act->links[i].name, CDT_TEARDOWN_GROUP);
	return 0;
}

/* The kernel stores an IPv6 route of metric 0 with metric 1024. */
static uint32_t eff_metric(int family, uint32_t metric)
{
	return family == ADDR_V6 && metric == 0 ? 1024 : metric;
}

static bool route_key_eq(const struct cdt_proute *r, const struct cdt_aroute *x)
{
	return r->dst.a.family == x->dst.a.family && r->dst.len == x->dst.len && addr_eq(&r->dst.a, &x->dst.a) &&
	       eff_metric(r->dst.a.family, r->metric) == x->metric;
}

static void route_from_actual(const struct cdt_actual *a, const struct cdt_aroute *x, struct cdt_proute *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->dev, sizeof r->dev, "%s", link_name(a, x->oif));
	r->dst = x->dst;
	r->has_gw = x->has_gw;
	r->gw = x->gw;
	r->metric = x->metric;
}

static bool link_gone(const struct dctx *d, int ifindex)
{
	const struct cdt_alink *l = cdt_actual_link_at(d->act, ifindex);
	return l && d->gone[link_idx(d->act, l)];
}

static int diff_routes(struct dctx *d)
{
	int rc;
	for (size_t i = 0; i < d->p->n_routes; i++) {
		const struct cdt_proute *r = &d->p->routes[i];
		const struct cdt_alink *dev = cdt_actual_link(d->act, r->dev);
		const struct cdt_aroute *x = NULL;
		for (size_t k = 0; k < d->act->n_routes && !x; k++)
			if (route_key_eq(r, &d->act->routes[k]))
				x = &d->act->routes[k];
		if (x && dev && !d->gone[link_idx(d->act, dev)] && x->oif == dev->ifindex && x->has_gw == r->has_gw &&
		    (!r->has_gw || addr_eq(&x->gw, &r->gw)) && x->protocol == CDT_RTPROT)
			continue;
		struct cdt_change c;
		chg_init(&c, CDT_CHG_ROUTE, r->dev, NULL, r->network);
		c.route = *r;
		if (x) {     /* restored on undo; a deleted device comes back first */
			c.has_old_route = true;
			route_from_actual(d->act, x, &c.old_route);
			c.old_protocol = x->protocol;
		}
		if ((rc = emit(d, PH_ROUTE, &c)) < 0)
			return rc;
	}
	for (size_t k = 0; k < d->act->n_routes; k++) {
		const struct cdt_aroute *x = &d->act->routes[k];
		bool want = false;
		if (x->protocol != CDT_RTPROT || link_gone(d, x->oif))
			continue;
		for (size_t i = 0; i < d->p->n_routes && !want; i++)
			want = route_key_eq(&d->p->routes[i], x);
		if (want)
			continue;
		struct cdt_change c;
		chg_init(&c, CDT_CHG_DEL_ROUTE, link_name(d->act, x->oif), NULL, NULL);
		route_from_actual(d->act, x, &c.route);
		if ((rc = emit(d, PH_DEL_ROUTE, &c)) < 0)
			return rc;
	}
	return 0;
}

static int concat(struct dctx *d, struct cdt_changes *out)
{
	size_t n = 0, k = 0;
	for (int i = 0; i < PH_N; i++)
		n += d->ph[i].n;
	struct cdt_change *v = n ? malloc(n * sizeof *v) : NULL;
	if (n && !v)
		return netd_err_set(d->e, -ENOMEM, NULL, "node %s: diff", d->p->node);
	for (int i = 0; i < PH_N; i++) {
		if (i == PH_MTU_SHRINK) {   /* upper devices first */
			for (size_t j = d->ph[i].n; j > 0; j--)
				v[k++] = d->ph[i].v[j - 1];
			continue;
		}
		if (d->ph[i].n)
			memcpy(v + k, d->ph[i].v, d->ph[i].n * sizeof *v);
		k += d->ph[i].n;
	}
	out->v = v;
	out->n = n;
	return 0;
}

int cdt_diff(const struct cdt_plan *p, const struct cdt_actual *act, struct cdt_changes *out, struct netd_err *e)
{
	struct dctx d = { .p = p, .act = act, .e = e };
	int rc = 0;
	d.gone = calloc(act->n_links ? act->n_links : 1, sizeof *d.gone);
	d.match = calloc(p->n_devs ? p->n_devs : 1, sizeof *d.match);
	if (!d.gone || !d.match) {
		rc = netd_err_set(e, -ENOMEM, NULL, "node %s: diff", p->node);
		goto out;
	}
	/* Stale and replaced first: ports of those masters must know. */
	if ((rc = diff_stale(&d)) < 0 || (rc = match_all(&d)) < 0)
		goto out;
	for (size_t i = 0; i < p->n_devs; i++)
		if ((rc = diff_dev(&d, i)) < 0)
			goto out;
	if ((rc = diff_routes(&d)) < 0 || (rc = concat(&d, out)) < 0)
		goto out;
out:
	for (int i = 0; i < PH_N; i++)
		free(d.ph[i].v);
	free(d.gone);
	free(d.match);
	return rc;
}

void cdt_changes_clear(struct cdt_changes *c)
{
	if (!c)
		return;
	free(c->v);
	memset(c, 0, sizeof *c);
}

static const char *kind_name(uint8_t k)
{
	static const char *const names[] = { "?", "NIC", "bond", "VLAN", "macvlan", "bridge", "link" };
	return k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static const char *route_text(const struct cdt_proute *r, char *buf, size_t len)
{
	char dst[PREFIX_STRLEN], gw[ADDR_STRLEN];
	if (r->dst.len == 0)
		snprintf(dst, sizeof dst, "default%s", r->dst.a.family == ADDR_V6 ? " (v6)" : "");
	else
		prefix_print(&r->dst, dst, sizeof dst);
	snprintf(buf, len, "%s%s%s dev %s metric %u", dst, r->has_gw ? " via " : "",
		 r->has_gw ? addr_print(&r->gw, gw, sizeof gw) : "", r->dev, r->metric);
	return buf;
}

const char *cdt_change_print(const struct cdt_change *c, char *buf, size_t len)
{
	char a[ADDR_STRLEN], r[160];
	switch (c->op) {
	case CDT_CHG_DEL_ROUTE:
		snprintf(buf, len, "delete route %s", route_text(&c->route, r, sizeof r));
		break;
	case CDT_CHG_ROUTE:
		snprintf(buf, len, "%s route %s", c->has_old_route ? "replace" : "add", route_text(&c->route, r, sizeof r));
		break;
	case CDT_CHG_DEL_ADDR:
	case CDT_CHG_ADD_ADDR:
		snprintf(buf, len, "%s address %s/%u %s %s", c->op == CDT_CHG_ADD_ADDR ? "add" : "delete",
			 addr_print(&c->a, a, sizeof a), c->plen, c->op == CDT_CHG_ADD_ADDR ? "to" : "from", c->dev);
		break;
	case CDT_CHG_REPLACE:
		snprintf(buf, len, "replace %s %s", kind_name(c->want.kind), c->dev);
		break;
	case CDT_CHG_MTU:
		snprintf(buf, len, "set mtu of %s %u -> %u", c->dev, c->old_mtu, c->mtu);
		break;
	case CDT_CHG_CREATE:
		snprintf(buf, len, "create %s %s%s%s", kind_name(c->want.kind), c->dev, *c->want.lower ? " on " : "",
			 c->want.lower);
		break;
	case CDT_CHG_ENSLAVE:
		if (*c->master)
			snprintf(buf, len, "enslave %s to %s", c->dev, c->master);
		else
			snprintf(buf, len, "release %s from %s", c->dev, c->old_master);
		break;
	case CDT_CHG_UP:
		snprintf(buf, len, "set %s up", c->dev);
		break;
	case CDT_CHG_DEL_LINK:
		snprintf(buf, len, "delete stale %s %s", kind_name(c->want.kind), c->dev);
		break;
	default:
		snprintf(buf, len, "change %u on %s", c->op, c->dev);
	}
	return buf;
}
