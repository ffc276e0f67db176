/* conduits/actual.c — the actual state of a netns for the diff: links (kind,
 * master, lower link, MTU, group, alias, VLAN id, macvlan mode, bond
 * settings), addresses and the main table's unicast routes.
 *
 * As the inventory: pure parsers checked against nla_policy tables, a
 * collector over an ops table (apply_int.h), and the real backend — a dump
 * over the struct cdt_nl socket that apply.c uses for its changes too.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "conduits/apply_int.h"

#define DUMP_TRIES 3

/* ---- links ---- */

static const struct nla_policy link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { .type = NLA_STRING, .maxlen = IFNAMSIZ },
	[IFLA_MTU] = { .type = NLA_U32 },
	[IFLA_MASTER] = { .type = NLA_U32 },
	[IFLA_LINK] = { .type = NLA_U32 },
	[IFLA_LINK_NETNSID] = { .type = NLA_S32 },
	[IFLA_GROUP] = { .type = NLA_U32 },
	[IFLA_IFALIAS] = { .type = NLA_STRING, .maxlen = CDT_ALIAS_MAX },
	[IFLA_LINKINFO] = { .type = NLA_NESTED },
};

static const struct nla_policy info_policy[IFLA_INFO_MAX + 1] = {
	[IFLA_INFO_KIND] = { .type = NLA_STRING },
	[IFLA_INFO_DATA] = { .type = NLA_NESTED },
};

static const struct nla_policy vlan_policy[IFLA_VLAN_MAX + 1] = {
	[IFLA_VLAN_ID] = { .type = NLA_U16 },
};

static const struct nla_policy macvlan_policy[IFLA_MACVLAN_MAX + 1] = {
	[IFLA_MACVLAN_MODE] = { .type = NLA_U32 },
};

static const struct nla_policy bond_policy[IFLA_BOND_MAX + 1] = {
	[IFLA_BOND_MODE] = { .type = NLA_U8 },
	[IFLA_BOND_MIIMON] = { .type = NLA_U32 },
	[IFLA_BOND_AD_LACP_RATE] = { .type = NLA_U8 },
	[IFLA_BOND_XMIT_HASH_POLICY] = { .type = NLA_U8 },
};

static uint8_t kind_of(const char *k)
{
	if (!*k)
		return CDT_DEV_NIC;
	if (!strcmp(k, "bond"))
		return CDT_DEV_BOND;
	if (!strcmp(k, "vlan"))
		return CDT_DEV_VLAN;
	if (!strcmp(k, "macvlan"))
		return CDT_DEV_MACVLAN;
	if (!strcmp(k, "bridge"))
		return CDT_DEV_BRIDGE;
	return CDT_DEV_OTHER;
}

static int parse_info_data(struct nlattr *data, struct cdt_alink *l, struct netd_err *e)
{
	int rc = 0;
	if (l->kind == CDT_DEV_VLAN) {
		struct nlattr *tb[IFLA_VLAN_MAX + 1];
		rc = nla_parse_nested(tb, IFLA_VLAN_MAX, data, vlan_policy);
		if (rc == 0 && tb[IFLA_VLAN_ID])
			l->vlan_id = nla_get_u16(tb[IFLA_VLAN_ID]);
	} else if (l->kind == CDT_DEV_MACVLAN) {
		struct nlattr *tb[IFLA_MACVLAN_MAX + 1];
		rc = nla_parse_nested(tb, IFLA_MACVLAN_MAX, data, macvlan_policy);
		if (rc == 0 && tb[IFLA_MACVLAN_MODE])
			l->macvlan_mode = nla_get_u32(tb[IFLA_MACVLAN_MODE]);
	} else if (l->kind == CDT_DEV_BOND) {
		struct nlattr *tb[IFLA_BOND_MAX + 1];
		rc = nla_parse_nested(tb, IFLA_BOND_MAX, data, bond_policy);
		if (rc == 0) {
			l->bond_mode = tb[IFLA_BOND_MODE] ? nla_get_u8(tb[IFLA_BOND_MODE]) : 0;
			l->miimon = tb[IFLA_BOND_MIIMON] ? nla_get_u32(tb[IFLA_BOND_MIIMON]) : 0;
			l->lacp_fast = tb[IFLA_BOND_AD_LACP_RATE] ? nla_get_u8(tb[IFLA_BOND_AD_LACP_RATE]) : 0;
			l->xmit_hash = tb[IFLA_BOND_XMIT_HASH_POLICY] ? nla_get_u8(tb[IFLA_BOND_XMIT_HASH_POLICY]) : 0;
		}
	}
	if (rc < 0)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "link %s: bad IFLA_INFO_DATA: %s", l->name,
				    nl_geterror(rc));
	return 0;
}

static int ifindex_attr(struct nlattr *a, int self, int *out)
{
	uint32_t v = nla_get_u32(a);
	if (v > INT_MAX || (int)v == self)
		return NETD_ECORRUPT;
	*out = (int)v;
	return 0;
}

static int parse_link_tb(struct nlattr **tb, struct cdt_alink *l, struct netd_err *e)
{
	const char *name = nla_data(tb[IFLA_IFNAME]);
	size_t nl = strlen(name);
	if (nl == 0 || nl >= CDT_IFNAME_MAX)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "link %d: invalid name", l->ifindex);
	memcpy(l->name, name, nl + 1);
	if (tb[IFLA_MTU])
		l->mtu = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_GROUP])
		l->group = nla_get_u32(tb[IFLA_GROUP]);
	/* With IFLA_LINK_NETNSID the lower device lives in another namespace
	 * (a veth's peer, a macvlan over a NIC outside): its ifindex means
	 * nothing here and may even equal this link's own. */
	bool link_here = tb[IFLA_LINK] && !tb[IFLA_LINK_NETNSID];
	if ((tb[IFLA_MASTER] && ifindex_attr(tb[IFLA_MASTER], l->ifindex, &l->master) < 0) ||
	    (link_here && ifindex_attr(tb[IFLA_LINK], l->ifindex, &l->link) < 0))
		return netd_err_set(e, NETD_ECORRUPT, NULL, "link %s: invalid master or link", name);
	if (tb[IFLA_IFALIAS])
		snprintf(l->alias, sizeof l->alias, "%s", (const char *)nla_data(tb[IFLA_IFALIAS]));
	l->kind = CDT_DEV_NIC;
	if (!tb[IFLA_LINKINFO])
		return 0;
	struct nlattr *info[IFLA_INFO_MAX + 1];
	int rc = nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], info_policy);
	if (rc < 0)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "link %s: bad IFLA_LINKINFO: %s", name, nl_geterror(rc));
	if (info[IFLA_INFO_KIND])
		snprintf(l->kind_text, sizeof l->kind_text, "%s", (const char *)nla_data(info[IFLA_INFO_KIND]));
	l->kind = kind_of(l->kind_text);
	return info[IFLA_INFO_DATA] ? parse_info_data(info[IFLA_INFO_DATA], l, e) : 0;
}

int cdt_act_parse_link(const void *payload, size_t len, struct cdt_alink *out, bool *skip, struct netd_err *e)
{
	struct ifinfomsg ifi;
	struct nlattr *tb[IFLA_MAX + 1];
	struct cdt_alink l;
	const size_t hdr = NLMSG_ALIGN(sizeof ifi);
	if (!payload || len < hdr || len > INT_MAX)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "link message of %zu bytes", len);
	memcpy(&ifi, payload, sizeof ifi);
	if (ifi.ifi_flags & IFF_LOOPBACK) {
		*skip = true;
		return 0;
	}
	int rc = nla_parse(tb, IFLA_MAX, (struct nlattr *)((uintptr_t)payload + hdr), (int)(len - hdr), link_policy);
	if (rc < 0)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "link %d: %s", ifi.ifi_index, nl_geterror(rc));
	if (ifi.ifi_index <= 0 || !tb[IFLA_IFNAME])
		return netd_err_set(e, NETD_ECORRUPT, NULL, "link %d without a name", ifi.ifi_index);
	memset(&l, 0, sizeof l);
	l.ifindex = ifi.ifi_index;
	l.up = (ifi.ifi_flags & IFF_UP) != 0;
	if ((rc = parse_link_tb(tb, &l, e)) < 0)
		return rc;
	*out = l;
	*skip = false;
	return 0;
}

/* ---- addresses ---- */

static const struct nla_policy addr_policy[IFA_MAX + 1] = {
	[IFA_ADDRESS] = { .type = NLA_UNSPEC, .minlen = 4, .maxlen = 16 },
	[IFA_LOCAL] = { .type = NLA_UNSPEC, .minlen = 4, .maxlen = 16 },
};

static int get_ip(struct nlattr *a, int family, struct addr *out)
{
	size_t want = family == AF_INET ? 4 : 16;
	if (!a || (size_t)nla_len(a) != want)
		return NETD_ECORRUPT;
	addr_from_bytes(out, family == AF_INET ? ADDR_V4 : ADDR_V6, nla_data(a));
	return 0;
}

int cdt_act_parse_addr(const void *payload, size_t len, struct cdt_aaddr *out, bool *skip, struct netd_err *e)
{
	struct ifaddrmsg ifa;
	struct nlattr *tb[IFA_MAX + 1];
	struct cdt_aaddr a;
	const size_t hdr = NLMSG_ALIGN(sizeof ifa);
	if (!payload || len < hdr || len > INT_MAX)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "address message of %zu bytes", len);
	memcpy(&ifa, payload, sizeof ifa);
	if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6) {
		*skip = true;
		return 0;
	}
	int rc = nla_parse(tb, IFA_MAX, (struct nlattr *)((uintptr_t)payload + hdr), (int)(len - hdr), addr_policy);
	if (rc < 0)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "address on link %u: %s", ifa.ifa_index, nl_geterror(rc));
	memset(&a, 0, sizeof a);
	struct nlattr *ip = ifa.ifa_family == AF_INET && tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	unsigned maxlen = ifa.ifa_family == AF_INET ? 32 : 128;
	if (get_ip(ip, ifa.ifa_family, &a.a) < 0 || ifa.ifa_prefixlen > maxlen || ifa.ifa_index == 0 ||
	    ifa.ifa_index > INT_MAX)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "address on link %u: bad address or length",
				    ifa.ifa_index);
	a.ifindex = (int)ifa.ifa_index;
	a.plen = ifa.ifa_prefixlen;
	a.scope = ifa.ifa_scope;
	*out = a;
	*skip = false;
	return 0;
}

/* ---- routes ---- */

static const struct nla_policy route_policy[RTA_MAX + 1] = {
	[RTA_DST] = { .type = NLA_UNSPEC, .minlen = 4, .maxlen = 16 },
	[RTA_GATEWAY] = { .type = NLA_UNSPEC, .minlen = 4, .maxlen = 16 },
	[RTA_OIF] = { .type = NLA_U32 },
	[RTA_PRIORITY] = { .type = NLA_U32 },
	[RTA_TABLE] = { .type = NLA_U32 },
};

int cdt_act_parse_route(const void *payload, size_t len, struct cdt_aroute *out, bool *skip, struct netd_err *e)
{
	struct rtmsg rtm;
	struct nlattr *tb[RTA_MAX + 1];
	struct cdt_aroute r;
	const size_t hdr = NLMSG_ALIGN(sizeof rtm);
	if (!payload || len < hdr || len > INT_MAX)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "route message of %zu bytes", len);
	memcpy(&rtm, payload, sizeof rtm);
	*skip = true;
	if ((rtm.rtm_family != AF_INET && rtm.rtm_family != AF_INET6) || rtm.rtm_type != RTN_UNICAST)
		return 0;
	int rc = nla_parse(tb, RTA_MAX, (struct nlattr *)((uintptr_t)payload + hdr), (int)(len - hdr), route_policy);
	if (rc < 0)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "route: %s", nl_geterror(rc));
	uint32_t table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm.rtm_table;
	if (table != RT_TABLE_MAIN)
		return 0;
	memset(&r, 0, sizeof r);
	int fam = rtm.rtm_family == AF_INET ? ADDR_V4 : ADDR_V6;
	r.dst.a.family = (uint8_t)fam;
	r.dst.len = rtm.rtm_dst_len;
	if ((tb[RTA_DST] && get_ip(tb[RTA_DST], rtm.rtm_family, &r.dst.a) < 0) ||
	    (tb[RTA_GATEWAY] && get_ip(tb[RTA_GATEWAY], rtm.rtm_family, &r.gw) < 0) ||
	    rtm.rtm_dst_len > (fam == ADDR_V4 ? 32 : 128))
		return netd_err_set(e, NETD_ECORRUPT, NULL, "route: bad destination or gateway");
	r.has_gw = tb[RTA_GATEWAY] != NULL;
	if (tb[RTA_OIF] && nla_get_u32(tb[RTA_OIF]) <= INT_MAX)
		r.oif = (int)nla_get_u32(tb[RTA_OIF]);
	r.metric = tb[RTA_PRIORITY] ? nla_get_u32(tb[RTA_PRIORITY]) : 0;
	r.protocol = rtm.rtm_protocol;
	*out = r;
	*skip = false;
	return 0;
}

/* ---- collecting ---- */

struct acc {
	int type;
	struct cdt_actual a;
	size_t cap[3];
	struct netd_err *e;
};

static int push(void **v, size_t *n, size_t *cap, const void *item, size_t size, struct netd_err *e)
{
	if (*n >= CDT_ACT_MAX)
		return netd_err_set(e, NETD_ETOOBIG, NULL, "more than %d links, addresses or routes", CDT_ACT_MAX);
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		void *nv = realloc(*v, nc * size);
		if (!nv)
			return netd_err_set(e, -ENOMEM, NULL, "actual state");
		*v = nv;
		*cap = nc;
	}
	memcpy((char *)*v + *n * size, item, size);
	(*n)++;
	return 0;
}

static int acc_each(void *arg, const void *payload, size_t len)
{
	struct acc *c = arg;
	bool skip = true;
	int rc;
	if (c->type == RTM_GETLINK) {
		struct cdt_alink l;
		rc = cdt_act_parse_link(payload, len, &l, &skip, c->e);
		if (rc == 0 && !skip)
			rc = push((void **)&c->a.links, &c->a.n_links, &c->cap[0], &l, sizeof l, c->e);
	} else if (c->type == RTM_GETADDR) {
		struct cdt_aaddr a;
		rc = cdt_act_parse_addr(payload, len, &a, &skip, c->e);
		if (rc == 0 && !skip)
			rc = push((void **)&c->a.addrs, &c->a.n_addrs, &c->cap[1], &a, sizeof a, c->e);
	} else {
		struct cdt_aroute r;
		rc = cdt_act_parse_route(payload, len, &r, &skip, c->e);
		if (rc == 0 && !skip)
			rc = push((void **)&c->a.routes, &c->a.n_routes, &c->cap[2], &r, sizeof r, c->e);
	}
	return rc;
}

void cdt_actual_clear(struct cdt_actual *a)
{
	if (!a)
		return;
	free(a->links);
	free(a->addrs);
	free(a->routes);
	memset(a, 0, sizeof *a);
}

int cdt_act_collect(const struct cdt_act_ops *ops, void *ctx, struct cdt_actual *out, struct netd_err *e)
{
	static const int types[] = { RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE };
	struct acc c = { .e = e };
	int rc = NETD_ECONFLICT;
	for (int t = 0; t < DUMP_TRIES && rc == NETD_ECONFLICT; t++) {
		cdt_actual_clear(&c.a);
		memset(c.cap, 0, sizeof c.cap);
		rc = 0;
		for (size_t i = 0; i < 3 && rc == 0; i++) {
			c.type = types[i];
			rc = ops->dump(ctx, types[i], acc_each, &c, e);
		}
	}
	if (rc == NETD_ECONFLICT)
		netd_err_set(e, rc, NULL, "dump interrupted %d times by concurrent changes", DUMP_TRIES);
	if (rc < 0) {
		cdt_actual_clear(&c.a);
		return rc;
	}
	*out = c.a;
	return 0;
}

const struct cdt_alink *cdt_actual_link(const struct cdt_actual *a, const char *name)
{
	for (size_t i = 0; i < a->n_links; i++)
		if (strcmp(a->links[i].name, name) == 0)
			return &a->links[i];
	return NULL;
}

const struct cdt_alink *cdt_actual_link_at(const struct cdt_actual *a, int ifindex)
{
	for (size_t i = 0; ifindex > 0 && i < a->n_links; i++)
		if (a->links[i].ifindex == ifindex)
			return &a->links[i];
	return NULL;
}

bool cdt_owned(const char *alias)
{
	return strncmp(alias, CDT_MARK, sizeof CDT_MARK - 1) == 0;
}

/* ---- the real backend ---- */

/* Called by libnl for an NLMSG_ERROR carrying an error: keep errno and the
 * extended-ack text for the caller's message, then let libnl fail. */
static int on_error(struct sockaddr_nl *who, struct nlmsgerr *err, void *arg)
{
	struct cdt_nl *nl = arg;
	const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)err - NLMSG_HDRLEN);
	(void)who;
	nl->kerr = -err->error;
	nl->kmsg[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	size_t off = NLMSG_HDRLEN + sizeof *err;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - NLMSG_HDRLEN;
	if (err->msg.nlmsg_len < NLMSG_HDRLEN || off >= h->nlmsg_len)
		return NL_STOP;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((uintptr_t)h + off), (int)(h->nlmsg_len - off),
		      NULL) == 0 && tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->kmsg, sizeof nl->kmsg, "%.*s", nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	return NL_STOP;
}

int cdt_nl_open(struct cdt_nl *nl, struct netd_err *e)
{
	int one = 1, rc;
	memset(nl, 0, sizeof *nl);
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return netd_err_set(e, -ENOMEM, NULL, "netlink socket");
	rc = nl_connect(nl->sk, NETLINK_ROUTE);
	if (rc < 0) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return netd_err_set(e, cdt_nl_code(rc), NULL, "netlink connect: %s", nl_geterror(rc));
	}
	nl_socket_enable_msg_peek(nl->sk);
	(void)nl_socket_set_buffer_size(nl->sk, 1 << 20, 1 << 20);
	(void)setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
	(void)setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
	nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, on_error, nl);
	return 0;
}

void cdt_nl_close(struct cdt_nl *nl)
{
	if (nl && nl->sk) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
	}
}

struct dump_cb {
	cdt_inv_each_fn each;
	void *arg;
	int type;
	int rc;
};

static int on_valid(struct nl_msg *msg, void *varg)
{
	struct dump_cb *d = varg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	int want = d->type == RTM_GETLINK ? RTM_NEWLINK : d->type == RTM_GETADDR ? RTM_NEWADDR : RTM_NEWROUTE;
	if (h->nlmsg_type != want || nlmsg_datalen(h) < 0)
		return NL_SKIP;
	d->rc = d->each(d->arg, nlmsg_data(h), (size_t)nlmsg_datalen(h));
	return d->rc ? NL_STOP : NL_OK;
}

static int send_dump(struct nl_sock *sk, int type)
{
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
		struct rtmsg rtm;
	} h;
	size_t len = type == RTM_GETLINK ? sizeof h.ifi : type == RTM_GETADDR ? sizeof h.ifa : sizeof h.rtm;
	memset(&h, 0, sizeof h);
	struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_DUMP);
	if (!msg)
		return -NLE_NOMEM;
	int rc = nlmsg_append(msg, &h, len, NLMSG_ALIGNTO);
	if (rc == 0 && type == RTM_GETLINK)
		rc = nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (rc == 0)
		rc = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	return rc < 0 ? rc : 0;
}

static int real_dump(void *vctx, int type, cdt_inv_each_fn each, void *arg, struct netd_err *e)
{
	struct cdt_nl *nl = vctx;
	struct dump_cb d = { .each = each, .arg = arg, .type = type };
	struct nl_cb *base = nl_socket_get_cb(nl->sk);   /* a new reference */
	struct nl_cb *cb = base ? nl_cb_clone(base) : NULL;
	int rc;
	if (base)
		nl_cb_put(base);
	if (!cb)
		return netd_err_set(e, -ENOMEM, NULL, "netlink callbacks");
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &d);
	rc = send_dump(nl->sk, type);
	if (rc == 0)
		rc = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	if (d.rc)
		return d.rc;
	if (rc >= 0)
		return 0;
	if (cdt_nl_code(rc) == NETD_ECONFLICT)
		return NETD_ECONFLICT;
	return netd_err_set(e, cdt_nl_code(rc), NULL, "netlink dump %d: %s", type, nl_geterror(rc));
}

const struct cdt_act_ops cdt_act_real_ops = { .dump = real_dump };

int cdt_actual_read(struct cdt_actual *out, struct netd_err *e)
{
	struct cdt_nl nl;
	int rc = cdt_nl_open(&nl, e);
	if (rc < 0)
		return rc;
	rc = cdt_act_collect(&cdt_act_real_ops, &nl, out, e);
	cdt_nl_close(&nl);
	return rc;
}
