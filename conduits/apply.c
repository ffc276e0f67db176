/* conduits/apply.c — execute a diff over one libnl route socket, read back,
 * and roll back on failure (see "desired stack, diff, apply" in conduits.h).
 *
 * Each change has a do and an undo.  Changes done are remembered; on the
 * first kernel error (or a non-empty diff after reading back) the undos run
 * in reverse order.  Bridges, macvlans and VLANs are created with
 * rtnl_link_*; bonds, link settings (MTU, master, flags, alias, group) and
 * the bulk delete with hand-built RTM_NEWLINK / RTM_DELLINK (libnl 3.7 has
 * no bond options); addresses with rtnl_addr_*, routes with rtnl_route_*.
 * Every request waits for the kernel's ack; its error (errno plus the
 * extended-ack text) is kept by the socket's error callback (actual.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/route.h>

#include "conduits/apply_int.h"

struct name_ix {
	char name[CDT_IFNAME_MAX];
	int ifindex;
};

struct actx {
	struct cdt_nl nl;
	struct name_ix *names;
	size_t n_names;
	struct cdt_actual act;
	bool have_act;
};

/* ---- names -> ifindex ---- */

static int names_put(struct actx *x, const char *name, int ifindex)
{
	for (size_t i = 0; i < x->n_names; i++)
		if (strcmp(x->names[i].name, name) == 0) {
			x->names[i].ifindex = ifindex;
			return 0;
		}
	struct name_ix *nv = realloc(x->names, (x->n_names + 1) * sizeof *nv);
	if (!nv)
		return -ENOMEM;
	x->names = nv;
	snprintf(nv[x->n_names].name, CDT_IFNAME_MAX, "%s", name);
	nv[x->n_names++].ifindex = ifindex;
	return 0;
}

/* ifindex of @name: the cache, else one RTM_GETLINK.  0 when absent. */
static int ifindex_of(struct actx *x, const char *name)
{
	struct rtnl_link *l = NULL;
	if (!*name)
		return 0;
	for (size_t i = 0; i < x->n_names; i++)
		if (strcmp(x->names[i].name, name) == 0 && x->names[i].ifindex > 0)
			return x->names[i].ifindex;
	if (rtnl_link_get_kernel(x->nl.sk, 0, name, &l) < 0)
		return 0;
	int ix = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	(void)names_put(x, name, ix);
	return ix;
}

/* ---- requests ---- */

/* Send @msg (consumed), wait for the ack.  0 or a libnl code (<0). */
static int sync_send(struct actx *x, struct nl_msg *msg)
{
	x->nl.msgs++;
	x->nl.kerr = 0;
	return nl_send_sync(x->nl.sk, msg);
}

/* A kernel request as libnl reports it: count it and reset the error. */
static void pre(struct actx *x)
{
	x->nl.msgs++;
	x->nl.kerr = 0;
}

struct link_set {
	bool mtu, master, group, alias;
	uint32_t v_mtu, v_group;
	int v_master;
	const char *v_alias;
	int up;          /* -1 leave, 0 down, 1 up */
};

static int link_msg(struct actx *x, int ifindex, const struct link_set *s)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	if (s->up >= 0) {
		ifi.ifi_change = IFF_UP;
		ifi.ifi_flags = s->up ? IFF_UP : 0;
	}
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST);
	if (!msg)
		return -NLE_NOMEM;
	int rc = nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO);
	if (rc == 0 && s->mtu)
		rc = nla_put_u32(msg, IFLA_MTU, s->v_mtu);
	if (rc == 0 && s->master)
		rc = nla_put_u32(msg, IFLA_MASTER, (uint32_t)s->v_master);
	if (rc == 0 && s->group)
		rc = nla_put_u32(msg, IFLA_GROUP, s->v_group);
	if (rc == 0 && s->alias)
		rc = nla_put_string(msg, IFLA_IFALIAS, s->v_alias);
	if (rc < 0) {
		nlmsg_free(msg);
		return rc;
	}
	return sync_send(x, msg);
}

static int link_up(struct actx *x, int ifindex, bool up)
{
	struct link_set s = { .up = up };
	return link_msg(x, ifindex, &s);
}

static int link_del(struct actx *x, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_DELLINK, NLM_F_REQUEST);
	if (!msg)
		return -NLE_NOMEM;
	if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	return sync_send(x, msg);
}

static int group_del(struct actx *x, uint32_t group)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_DELLINK, NLM_F_REQUEST);
	if (!msg)
		return -NLE_NOMEM;
	if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 || nla_put_u32(msg, IFLA_GROUP, group) < 0) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	return sync_send(x, msg);
}

/* The bond by hand: IFLA_LINKINFO { KIND "bond", DATA { mode, miimon,
 * lacp rate, xmit hash policy } }. */
static int bond_create(struct actx *x, const struct cdt_dev *d, bool up)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_change = IFF_UP, .ifi_flags = up ? IFF_UP : 0 };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *info, *data;
	if (!msg)
		return -NLE_NOMEM;
	if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 || nla_put_string(msg, IFLA_IFNAME, d->name) < 0 ||
	    (d->mtu && nla_put_u32(msg, IFLA_MTU, d->mtu) < 0) || !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "bond") < 0 || !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
	    nla_put_u8(msg, IFLA_BOND_MODE, d->bond_mode) < 0 || nla_put_u32(msg, IFLA_BOND_MIIMON, d->miimon) < 0 ||
	    (d->bond_mode == TEAM_802_3AD && nla_put_u8(msg, IFLA_BOND_AD_LACP_RATE, d->lacp_fast) < 0) ||
	    nla_put_u8(msg, IFLA_BOND_XMIT_HASH_POLICY, d->xmit_hash) < 0) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return sync_send(x, msg);
}

static int libnl_create(struct actx *x, const struct cdt_dev *d, bool up)
{
	struct rtnl_link *l = NULL;
	int rc = -NLE_NOMEM;
	switch (d->kind) {
	case CDT_DEV_BRIDGE:
		l = rtnl_link_bridge_alloc();
		break;
	case CDT_DEV_MACVLAN:
		if ((l = rtnl_link_macvlan_alloc()))
			rtnl_link_macvlan_set_mode(l, MACVLAN_MODE_BRIDGE);
		break;
	case CDT_DEV_VLAN:
		if ((l = rtnl_link_vlan_alloc()))
			rtnl_link_vlan_set_id(l, d->vlan_id);
		break;
	default:
		return -NLE_OPNOTSUPP;
	}
	if (!l)
		return rc;
	rtnl_link_set_name(l, d->name);
	if (d->mtu)
		rtnl_link_set_mtu(l, d->mtu);
	if (*d->lower) {
		int lower = ifindex_of(x, d->lower);
		if (lower <= 0) {
			rtnl_link_put(l);
			return -NLE_NODEV;
		}
		rtnl_link_set_link(l, lower);
	}
	if (up)
		rtnl_link_set_flags(l, IFF_UP);
	pre(x);
	rc = rtnl_link_add(x->nl.sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	return rc;
}

/* Create @d (up when @up) and mark it: the kernel ignores IFLA_IFALIAS in
 * a create request, so the mark is a second request. */
static int dev_create(struct actx *x, const struct cdt_dev *d, bool up)
{
	int rc = d->kind == CDT_DEV_BOND ? bond_create(x, d, up) : libnl_create(x, d, up);
	if (rc < 0)
		return rc;
	(void)names_put(x, d->name, 0);
	int ix = ifindex_of(x, d->name);
	if (ix <= 0)
		return -NLE_OBJ_NOTFOUND;
	struct link_set s = { .alias = true, .v_alias = d->alias, .up = -1 };
	if ((rc = link_msg(x, ix, &s)) < 0) {
		/* never leave an unmarked device behind: keep the first error */
		int kerr = x->nl.kerr;
		char kmsg[sizeof x->nl.kmsg];
		memcpy(kmsg, x->nl.kmsg, sizeof kmsg);
		(void)link_del(x, ix);
		(void)names_put(x, d->name, 0);
		x->nl.kerr = kerr;
		memcpy(x->nl.kmsg, kmsg, sizeof kmsg);
	}
	return rc;
}

static struct nl_addr *mk_addr(const struct addr *a, unsigned plen)
{
	struct nl_addr *n = nl_addr_build(a->family == ADDR_V4 ? AF_INET : AF_INET6, a->b, addr_len(a));
	if (n)
		nl_addr_set_prefixlen(n, (int)plen);
	return n;
}

static int addr_op(struct actx *x, const char *dev, const struct addr *a, uint8_t plen, bool add)
{
	int ix = ifindex_of(x, dev), rc = -NLE_NOMEM;
	if (ix <= 0)
		return -NLE_NODEV;
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = mk_addr(a, plen);
	if (!ra || !local)
		goto out;
	rtnl_addr_set_ifindex(ra, ix);
	rtnl_addr_set_family(ra, a->family == ADDR_V4 ? AF_INET : AF_INET6);
	if ((rc = rtnl_addr_set_local(ra, local)) < 0)
		goto out;
	rtnl_addr_set_prefixlen(ra, plen);
	pre(x);
	rc = add ? rtnl_addr_add(x->nl.sk, ra, NLM_F_EXCL) : rtnl_addr_delete(x->nl.sk, ra, 0);
out:
	nl_addr_put(local);
	rtnl_addr_put(ra);
	return rc;
}

static int route_op(struct actx *x, const struct cdt_proute *r, uint8_t protocol, bool add)
{
	int fam = r->dst.a.family == ADDR_V4 ? AF_INET : AF_INET6, rc = -NLE_NOMEM;
	int ix = ifindex_of(x, r->dev);
	struct rtnl_route *rt = rtnl_route_alloc();
	struct nl_addr *dst = mk_addr(&r->dst.a, r->dst.len), *gw = NULL;
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	if (!rt || !dst || !nh)
		goto out;
	if (add && ix <= 0) {
		rc = -NLE_NODEV;
		goto out;
	}
	rtnl_route_set_family(rt, (uint8_t)fam);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_type(rt, RTN_UNICAST);
	rtnl_route_set_protocol(rt, protocol);
	rtnl_route_set_scope(rt, r->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	rtnl_route_set_priority(rt, r->metric);
	if ((rc = rtnl_route_set_dst(rt, dst)) < 0)
		goto out;
	if (ix > 0)
		rtnl_route_nh_set_ifindex(nh, ix);
	if (r->has_gw) {
		struct addr g = r->gw;
		if (!(gw = mk_addr(&g, g.family == ADDR_V4 ? 32 : 128))) {
			rc = -NLE_NOMEM;
			goto out;
		}
		rtnl_route_nh_set_gateway(nh, gw);
	}
	rtnl_route_add_nexthop(rt, nh);
	nh = NULL;   /* the route owns it */
	pre(x);
	rc = add ? rtnl_route_add(x->nl.sk, rt, NLM_F_REPLACE) : rtnl_route_delete(x->nl.sk, rt, 0);
out:
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(gw);
	nl_addr_put(dst);
	if (rt)
		rtnl_route_put(rt);
	return rc;
}

/* ---- changes: do and undo ---- */

static int enslave(struct actx *x, const struct cdt_change *c, const char *to, bool back)
{
	int ix = ifindex_of(x, c->dev), m = *to ? ifindex_of(x, to) : 0, rc;
	if (ix <= 0 || (*to && m <= 0))
		return -NLE_NODEV;
	bool cycle = c->master_is_bond && c->was_up;
	if (cycle && (rc = link_up(x, ix, false)) < 0)
		return rc;
	struct link_set s = { .master = true, .v_master = m, .up = -1 };
	rc = link_msg(x, ix, &s);
	(void)back;
	if (cycle) {     /* up again, also after a failed enslave */
		int kerr = x->nl.kerr, up = link_up(x, ix, true);
		if (rc < 0)
			x->nl.kerr = kerr;
		else
			rc = up;
	}
	return rc;
}

static int set_mtu(struct actx *x, const char *dev, uint32_t mtu)
{
	int ix = ifindex_of(x, dev);
	struct link_set s = { .mtu = true, .v_mtu = mtu, .up = -1 };
	return ix <= 0 ? -NLE_NODEV : link_msg(x, ix, &s);
}

static int delete_dev(struct actx *x, const char *dev)
{
	int ix = ifindex_of(x, dev);
	if (ix <= 0)
		return -NLE_NODEV;
	int rc = link_del(x, ix);
	if (rc == 0)
		(void)names_put(x, dev, 0);
	return rc;
}

static int do_change(struct actx *x, const struct cdt_change *c)
{
	switch (c->op) {
	case CDT_CHG_DEL_ROUTE:
		return route_op(x, &c->route, CDT_RTPROT, false);
	case CDT_CHG_DEL_ADDR:
		return addr_op(x, c->dev, &c->a, c->plen, false);
	case CDT_CHG_REPLACE:
		return delete_dev(x, c->dev);
	case CDT_CHG_MTU:
		return set_mtu(x, c->dev, c->mtu);
	case CDT_CHG_CREATE:
		return dev_create(x, &c->want, true);
	case CDT_CHG_ENSLAVE:
		return enslave(x, c, c->master, false);
	case CDT_CHG_UP: {
		int ix = ifindex_of(x, c->dev);
		return ix <= 0 ? -NLE_NODEV : link_up(x, ix, true);
	}
	case CDT_CHG_ADD_ADDR:
		return addr_op(x, c->dev, &c->a, c->plen, true);
	case CDT_CHG_ROUTE:
		return route_op(x, &c->route, CDT_RTPROT, true);
	case CDT_CHG_DEL_LINK:
		return delete_dev(x, c->dev);
	default:
		return -NLE_INVAL;
	}
}

static int undo_change(struct actx *x, const struct cdt_change *c)
{
	switch (c->op) {
	case CDT_CHG_DEL_ROUTE:
		return route_op(x, &c->route, CDT_RTPROT, true);
	case CDT_CHG_DEL_ADDR:
		return addr_op(x, c->dev, &c->a, c->plen, true);
	case CDT_CHG_REPLACE:
	case CDT_CHG_DEL_LINK: {
		struct cdt_dev d = c->want;
		d.master[0] = '\0';      /* its ports come back by their own undo */
		int rc = dev_create(x, &d, c->was_up);
		if (rc == 0 && *c->want.master) {
			struct cdt_change e = *c;
			e.master_is_bond = false;
			rc = enslave(x, &e, c->want.master, true);
		}
		return rc;
	}
	case CDT_CHG_MTU:
		return set_mtu(x, c->dev, c->old_mtu);
	case CDT_CHG_CREATE:
		return delete_dev(x, c->dev);
	case CDT_CHG_ENSLAVE:
		return enslave(x, c, c->old_master, true);
	case CDT_CHG_UP: {
		int ix = ifindex_of(x, c->dev);
		return ix <= 0 ? -NLE_NODEV : link_up(x, ix, false);
	}
	case CDT_CHG_ADD_ADDR:
		return addr_op(x, c->dev, &c->a, c->plen, false);
	case CDT_CHG_ROUTE:
		return c->has_old_route ? route_op(x, &c->old_route, c->old_protocol, true)
					: route_op(x, &c->route, CDT_RTPROT, false);
	default:
		return -NLE_INVAL;
	}
}

/* Stale devices from @v[i] on, as one bulk delete: each is moved into
 * CDT_TEARDOWN_GROUP, then the group is deleted in one request (one
 * unregister batch in the kernel instead of one per device).  Returns the
 * number of changes consumed via *@used; on failure the groups are put
 * back. */
static int bulk_delete(struct actx *x, const struct cdt_change *v, size_t n, size_t *used, size_t *failed_at)
{
	size_t k = 0;
	int rc = 0;
	while (k < n && v[k].op == CDT_CHG_DEL_LINK)
		k++;
	*used = k;
	*failed_at = 0;
	if (k == 1)
		return delete_dev(x, v[0].dev);
	size_t set = 0;
	for (; set < k && rc == 0; set++) {
		int ix = ifindex_of(x, v[set].dev);
		struct link_set s = { .group = true, .v_group = CDT_TEARDOWN_GROUP, .up = -1 };
		rc = ix <= 0 ? -NLE_NODEV : link_msg(x, ix, &s);
	}
	if (rc == 0)
		rc = group_del(x, CDT_TEARDOWN_GROUP);
	if (rc == 0) {
		for (size_t i = 0; i < k; i++)
			(void)names_put(x, v[i].dev, 0);
		return 0;
	}
	*failed_at = set ? set - 1 : 0;
	int krc = rc, kerr = x->nl.kerr;
	char kmsg[sizeof x->nl.kmsg];
	memcpy(kmsg, x->nl.kmsg, sizeof kmsg);
	for (size_t i = 0; i < set; i++) {
		int ix = ifindex_of(x, v[i].dev);
		struct link_set s = { .group = true, .v_group = v[i].old_group, .up = -1 };
		if (ix > 0)
			(void)link_msg(x, ix, &s);
	}
	x->nl.kerr = kerr;
	memcpy(x->nl.kmsg, kmsg, sizeof kmsg);
	return krc;
}

/* ---- the whole apply ---- */

static int kernel_code(const struct actx *x, int rc)
{
	return x->nl.kerr ? -x->nl.kerr : cdt_nl_code(rc);
}

static void kernel_text(const struct actx *x, int rc, char *buf, size_t len)
{
	if (x->nl.kerr)
		snprintf(buf, len, "%s%s%s%s", strerror(x->nl.kerr), *x->nl.kmsg ? " (" : "", x->nl.kmsg,
			 *x->nl.kmsg ? ")" : "");
	else
		snprintf(buf, len, "%s", nl_geterror(rc));
}

static int fail_msg(const struct cdt_plan *p, const struct cdt_change *c, int code, const char *what,
		    struct netd_err *e)
{
	char t[200];
	return netd_err_set(e, code, NULL, "node %s conduit %s%s%s device %s: %s: %s", p->node,
			    *c->conduit ? c->conduit : "-", *c->network ? " network " : "", c->network, c->dev,
			    cdt_change_print(c, t, sizeof t), what);
}

static int run_changes(struct actx *x, const struct cdt_plan *p, const struct cdt_changes *ch, size_t *done,
		       struct netd_err *e)
{
	char what[400];
	size_t i = 0;
	while (i < ch->n) {
		const struct cdt_change *c = &ch->v[i];
		size_t used = 1, failed_at = 0;
		int rc = c->op == CDT_CHG_DEL_LINK ? bulk_delete(x, c, ch->n - i, &used, &failed_at) : do_change(x, c);
		if (rc < 0) {
			kernel_text(x, rc, what, sizeof what);
			return fail_msg(p, &ch->v[i + failed_at], kernel_code(x, rc), what, e);
		}
		i += used;
		*done = i;
	}
	return 0;
}

/* Undo @ch->v[0..done) in reverse; the first undo error is appended to
 * @e's message.  Returns the number undone. */
static unsigned rollback(struct actx *x, const struct cdt_changes *ch, size_t done, struct netd_err *e)
{
	unsigned undone = 0;
	bool bad = false;
	for (size_t i = done; i > 0; i--) {
		const struct cdt_change *c = &ch->v[i - 1];
		int rc = undo_change(x, c);
		if (rc < 0 && !bad && e) {
			char t[200], what[300];
			size_t l = strlen(e->msg);
			kernel_text(x, rc, what, sizeof what);
			snprintf(e->msg + l, sizeof e->msg - l, "; rollback incomplete: undo of \"%s\": %s",
				 cdt_change_print(c, t, sizeof t), what);
			bad = true;
		}
		undone += rc == 0;
	}
	return undone;
}

/* The state read back must need no change. */
static int verify(struct actx *x, const struct cdt_plan *p, struct netd_err *e)
{
	struct cdt_actual act;
	struct cdt_changes ch = { 0 };
	char t[200];
	int rc = cdt_act_collect(&cdt_act_real_ops, &x->nl, &act, e);
	if (rc < 0)
		return rc;
	rc = cdt_diff(p, &act, &ch, e);
	if (rc == 0 && ch.n)
		rc = netd_err_set(e, NETD_ECONFLICT, NULL, "node %s: read back after apply, %zu changes remain, first: %s",
				  p->node, ch.n, cdt_change_print(&ch.v[0], t, sizeof t));
	cdt_changes_clear(&ch);
	cdt_actual_clear(&act);
	return rc;
}

int cdt_apply(const struct cdt_plan *p, struct cdt_apply_stats *st, struct netd_err *e)
{
	struct actx x = { 0 };
	struct cdt_changes ch = { 0 };
	struct cdt_apply_stats s = { 0 };
	size_t done = 0;
	int rc = cdt_nl_open(&x.nl, e);
	if (rc < 0)
		return rc;
	if ((rc = cdt_act_collect(&cdt_act_real_ops, &x.nl, &x.act, e)) < 0)
		goto out;
	x.have_act = true;
	for (size_t i = 0; i < x.act.n_links && rc == 0; i++)
		rc = names_put(&x, x.act.links[i].name, x.act.links[i].ifindex);
	if (rc < 0 || (rc = cdt_diff(p, &x.act, &ch, e)) < 0)
		goto out;
	if (ch.n == 0)
		goto out;     /* nothing to do; nothing to read back */
	rc = run_changes(&x, p, &ch, &done, e);
	if (rc == 0)
		rc = verify(&x, p, e);
	s.changes = (unsigned)done;
	if (rc < 0) {
		s.undone = rollback(&x, &ch, done, e);
		s.changes = 0;
	}
out:
	s.nl_msgs = x.nl.msgs;
	if (st)
		*st = s;
	cdt_changes_clear(&ch);
	if (x.have_act)
		cdt_actual_clear(&x.act);
	free(x.names);
	cdt_nl_close(&x.nl);
	return rc;
}
