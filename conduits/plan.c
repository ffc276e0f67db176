/* conduits/plan.c — the desired stack of a node: devices, addresses, default
 * routes (see "desired stack" in conduits.h).  Pure: plain data in, plain
 * data out; no netlink.
 *
 * Per conduit with networks on it: the base (the NIC, or a bond over the
 * NICs), then per network an optional VLAN (or macvlan stand-in) and an
 * optional bridge; the network's addresses go on the top device.  MTUs are
 * filled in a second pass: each device gets the largest MTU of the networks
 * whose stack passes through it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conduits/cdt_int.h"

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

int cdt_ifname_make(const char *full, size_t keep_suffix, char out[CDT_IFNAME_MAX])
{
	size_t len = full ? strlen(full) : 0;
	if (len == 0 || keep_suffix >= 10 || keep_suffix > len)
		return NETD_EINVAL;
	if (len < CDT_IFNAME_MAX) {
		memcpy(out, full, len + 1);
		return 0;
	}
	/* head + "-xxxx" + suffix = 15 bytes */
	size_t head = CDT_IFNAME_MAX - 1 - 5 - keep_suffix;
	snprintf(out, CDT_IFNAME_MAX, "%.*s-%04x%s", (int)head, full, (unsigned)(fnv1a(full) & 0xffffu),
		 full + len - keep_suffix);
	return 0;
}

/* ---- growing arrays ---- */

static int grow(void **v, size_t n, size_t size)
{
	if (n >= CDT_PLAN_MAX)
		return NETD_ETOOBIG;
	if (n == 0 || (n & (n - 1)) == 0) {   /* capacity doubles at powers of 2 */
		size_t cap = n ? n * 2 : 8;
		void *nv = realloc(*v, cap * size);
		if (!nv)
			return -ENOMEM;
		*v = nv;
	}
	return 0;
}

int cdt_plan_add_dev(struct cdt_plan *p, const struct cdt_dev *d)
{
	int rc = grow((void **)&p->devs, p->n_devs, sizeof *d);
	if (rc == 0)
		p->devs[p->n_devs++] = *d;
	return rc;
}

int cdt_plan_add_addr(struct cdt_plan *p, const struct cdt_paddr *a)
{
	int rc = grow((void **)&p->addrs, p->n_addrs, sizeof *a);
	if (rc == 0)
		p->addrs[p->n_addrs++] = *a;
	return rc;
}

int cdt_plan_add_route(struct cdt_plan *p, const struct cdt_proute *r)
{
	int rc = grow((void **)&p->routes, p->n_routes, sizeof *r);
	if (rc == 0)
		p->routes[p->n_routes++] = *r;
	return rc;
}

void cdt_plan_clear(struct cdt_plan *p)
{
	if (!p)
		return;
	free(p->devs);
	free(p->addrs);
	free(p->routes);
	memset(p, 0, sizeof *p);
}

int cdt_plan_conduit_from(const struct cdt_resolution *r, const struct cdt_rule *rule,
			  const struct cdt_nic *nics, size_t n_nics, struct cdt_plan_conduit *out)
{
	struct cdt_plan_conduit c;
	if (r->n == 0 || r->n > CDT_TEAM_MAX)
		return NETD_EINVAL;
	memset(&c, 0, sizeof c);
	snprintf(c.name, sizeof c.name, "%s", r->conduit);
	for (size_t i = 0; i < r->n; i++) {
		if (r->picks[i].nic >= n_nics)
			return NETD_EINVAL;
		memcpy(c.nics[i], nics[r->picks[i].nic].name, CDT_IFNAME_MAX);
	}
	c.n = r->n;
	c.team = rule && rule->team;
	c.team_mode = rule ? rule->team_mode : 0;
	*out = c;
	return 0;
}

/* ---- building ---- */

struct build {
	const struct cdt_plan_input *in;
	struct cdt_plan p;
	char (*top)[CDT_IFNAME_MAX];   /* per input network: its top device, "" none */
	struct netd_err *e;
};

static uint32_t net_mtu(const struct model_network *n)
{
	return n->mtu ? n->mtu : CDT_MTU_DEFAULT;
}

static const char *team_name(uint8_t m)
{
	const char *s = model_team_mode_name(m);
	return s ? s : "?";
}

static const char *node_name(const struct build *b)
{
	return b->in->node ? b->in->node : "?";
}

static struct cdt_dev *find_dev(struct cdt_plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_devs; i++)
		if (strcmp(p->devs[i].name, name) == 0)
			return &p->devs[i];
	return NULL;
}

static int add_dev(struct build *b, const struct cdt_dev *d)
{
	int rc = cdt_plan_add_dev(&b->p, d);
	if (rc < 0)
		return netd_err_set(b->e, rc, NULL, "node %s: plan of more than %d devices", node_name(b),
				    CDT_PLAN_MAX);
	return 0;
}

/* The team settings of @c: the rule's, else those of its use_team networks,
 * which must agree. */
static int conduit_team(struct build *b, const struct cdt_plan_conduit *c, bool *team, uint8_t *mode)
{
	const char *from = NULL;
	*team = c->team;
	*mode = c->team_mode;
	for (size_t i = 0; i < b->in->n_nets; i++) {
		const struct model_network *n = &b->in->nets[i];
		if (strcmp(n->conduit, c->name) != 0 || !n->use_team)
			continue;
		if (*team && n->team_mode != *mode)
			return netd_err_set(b->e, NETD_EINVAL, NULL,
					    "node %s conduit %s: network %s wants team mode %s, %s gives %s",
					    node_name(b), c->name, n->name, team_name(n->team_mode),
					    from ? from : "the conduit rule", team_name(*mode));
		*team = true;
		*mode = n->team_mode;
		from = n->name;
	}
	if (!*team && c->n != 1)
		return netd_err_set(b->e, NETD_EINVAL, NULL, "node %s conduit %s: %zu NICs without a team",
				    node_name(b), c->name, c->n);
	return 0;
}

static void mark(char *alias, const char *conduit, const char *network)
{
	if (network && *network)
		snprintf(alias, CDT_ALIAS_MAX, CDT_MARK "%s/%s", conduit, network);
	else
		snprintf(alias, CDT_ALIAS_MAX, CDT_MARK "%s", conduit);
}

/* The base of conduit @c (NIC or bond) into @base; adds its devices. */
static int add_base(struct build *b, const struct cdt_plan_conduit *c, char base[CDT_IFNAME_MAX])
{
	bool team;
	uint8_t mode;
	char full[CDT_NAME_MAX + 8];
	int rc = conduit_team(b, c, &team, &mode);
	if (rc < 0)
		return rc;
	struct cdt_dev bond = { .kind = CDT_DEV_BOND };
	if (team) {
		if (mode > TEAM_BALANCE_ALB)
			return netd_err_set(b->e, NETD_EINVAL, NULL, "node %s conduit %s: team mode %u",
					    node_name(b), c->name, mode);
		snprintf(full, sizeof full, "bond-%s", c->name);
		(void)cdt_ifname_make(full, 0, bond.name);
		bond.bond_mode = mode;
		bond.miimon = CDT_MIIMON;
		bond.lacp_fast = mode == TEAM_802_3AD;
		bond.xmit_hash = (mode == TEAM_802_3AD || mode == TEAM_BALANCE_XOR) ? CDT_XMIT_LAYER34 : CDT_XMIT_LAYER2;
		mark(bond.alias, c->name, NULL);
		snprintf(bond.conduit, sizeof bond.conduit, "%s", c->name);
	}
	for (size_t i = 0; i < c->n; i++) {
		struct cdt_dev *have = find_dev(&b->p, c->nics[i]);
		if (have && strcmp(have->master, team ? bond.name : "") != 0)
			return netd_err_set(b->e, NETD_EINVAL, NULL,
					    "node %s conduit %s: NIC %s is also on conduit %s, teamed otherwise",
					    node_name(b), c->name, c->nics[i], have->conduit);
		if (have)
			continue;
		struct cdt_dev nic = { .kind = CDT_DEV_NIC };
		snprintf(nic.name, sizeof nic.name, "%s", c->nics[i]);
		snprintf(nic.conduit, sizeof nic.conduit, "%s", c->name);
		if (team)
			memcpy(nic.master, bond.name, sizeof nic.master);
		if ((rc = add_dev(b, &nic)) < 0)
			return rc;
	}
	if (team && !find_dev(&b->p, bond.name) && (rc = add_dev(b, &bond)) < 0)
		return rc;
	memcpy(base, team ? bond.name : c->nics[0], CDT_IFNAME_MAX);
	return 0;
}

/* At most one untagged network may bridge the base, and then alone. */
static int check_untagged(struct build *b, const struct cdt_plan_conduit *c)
{
	const struct model_network *bridged = NULL, *other = NULL;
	for (size_t i = 0; i < b->in->n_nets; i++) {
		const struct model_network *n = &b->in->nets[i];
		if (strcmp(n->conduit, c->name) != 0 || n->use_vlan)
			continue;
		if (n->use_bridge && !bridged)
			bridged = n;
		else
			other = n;
	}
	if (bridged && other)
		return netd_err_set(b->e, NETD_EINVAL, NULL,
				    "node %s conduit %s: untagged network %s bridges the conduit, so untagged network %s cannot share it",
				    node_name(b), c->name, bridged->name, other->name);
	return 0;
}

static int add_vlan(struct build *b, const struct cdt_plan_conduit *c, const struct model_network *n,
		    const char *base, char top[CDT_IFNAME_MAX])
{
	char full[CDT_IFNAME_MAX + 8], sfx[8];
	if (n->vlan < 1 || n->vlan > 4094)
		return netd_err_set(b->e, NETD_EINVAL, NULL, "node %s network %s: use-vlan with VLAN id %u",
				    node_name(b), n->name, n->vlan);
	for (size_t i = 0; i < b->in->n_nets; i++) {
		const struct model_network *o = &b->in->nets[i];
		if (o != n && o->use_vlan && o->vlan == n->vlan && strcmp(o->conduit, n->conduit) == 0)
			return netd_err_set(b->e, NETD_EINVAL, NULL,
					    "node %s conduit %s: networks %s and %s both use VLAN %u",
					    node_name(b), c->name, o->name, n->name, n->vlan);
	}
	struct cdt_dev v = { .kind = b->in->vlan_as_macvlan ? CDT_DEV_MACVLAN : CDT_DEV_VLAN, .vlan_id = n->vlan };
	snprintf(sfx, sizeof sfx, ".%u", n->vlan);
	snprintf(full, sizeof full, "%s%s", base, sfx);
	(void)cdt_ifname_make(full, strlen(sfx), v.name);
	snprintf(v.lower, sizeof v.lower, "%s", base);
	mark(v.alias, c->name, n->name);
	snprintf(v.conduit, sizeof v.conduit, "%s", c->name);
	snprintf(v.network, sizeof v.network, "%s", n->name);
	if (b->in->vlan_as_macvlan)
		v.vlan_id = 0;
	memcpy(top, v.name, CDT_IFNAME_MAX);
	return add_dev(b, &v);
}

static int add_bridge(struct build *b, const struct cdt_plan_conduit *c, const struct model_network *n,
		      char top[CDT_IFNAME_MAX])
{
	char full[MODEL_NAME_MAX + 4];
	struct cdt_dev br = { .kind = CDT_DEV_BRIDGE };
	snprintf(full, sizeof full, "br-%s", n->name);
	(void)cdt_ifname_make(full, 0, br.name);
	mark(br.alias, c->name, n->name);
	snprintf(br.conduit, sizeof br.conduit, "%s", c->name);
	snprintf(br.network, sizeof br.network, "%s", n->name);
	struct cdt_dev *port = find_dev(&b->p, top);
	if (port)
		memcpy(port->master, br.name, CDT_IFNAME_MAX);
	memcpy(top, br.name, CDT_IFNAME_MAX);
	return add_dev(b, &br);
}

static int add_conduit(struct build *b, const struct cdt_plan_conduit *c)
{
	char base[CDT_IFNAME_MAX];
	bool used = false;
	int rc;
	for (size_t i = 0; i < b->in->n_nets; i++)
		used |= strcmp(b->in->nets[i].conduit, c->name) == 0;
	if (!used)
		return 0;
	if (c->n == 0 || c->n > CDT_TEAM_MAX)
		return netd_err_set(b->e, NETD_EINVAL, NULL, "node %s conduit %s: %zu NICs", node_name(b),
				    c->name, c->n);
	if ((rc = check_untagged(b, c)) < 0 || (rc = add_base(b, c, base)) < 0)
		return rc;
	for (size_t i = 0; i < b->in->n_nets; i++) {
		const struct model_network *n = &b->in->nets[i];
		if (strcmp(n->conduit, c->name) != 0)
			continue;
		memcpy(b->top[i], base, CDT_IFNAME_MAX);
		if (n->use_vlan && (rc = add_vlan(b, c, n, base, b->top[i])) < 0)
			return rc;
		if (n->use_bridge && (rc = add_bridge(b, c, n, b->top[i])) < 0)
			return rc;
	}
	return 0;
}

/* Every device gets the largest MTU of the networks stacked on it: from
 * each network's top device down through lower devices and ports. */
static void push_mtu(struct cdt_plan *p, struct cdt_dev *d, uint32_t mtu, int guard)
{
	if (!d || guard > 8)
		return;
	if (d->mtu < mtu)
		d->mtu = mtu;
	if (d->lower[0])
		push_mtu(p, find_dev(p, d->lower), mtu, guard + 1);
	for (size_t k = 0; k < p->n_devs; k++)
		if (strcmp(p->devs[k].master, d->name) == 0)
			push_mtu(p, &p->devs[k], mtu, guard + 1);
}

static void fill_mtu(struct build *b)
{
	for (size_t i = 0; i < b->in->n_nets; i++)
		if (b->top[i][0])
			push_mtu(&b->p, find_dev(&b->p, b->top[i]), net_mtu(&b->in->nets[i]), 0);
}

static int find_net(const struct build *b, const char *name)
{
	for (size_t i = 0; i < b->in->n_nets; i++)
		if (name && strcmp(b->in->nets[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int add_addrs(struct build *b)
{
	char t[ADDR_STRLEN];
	for (size_t i = 0; i < b->in->n_addrs; i++) {
		const struct cdt_plan_addr *pa = &b->in->addrs[i];
		int k = find_net(b, pa->network);
		if (k < 0)
			return netd_err_set(b->e, NETD_EINVAL, NULL, "node %s: address %s on unknown network %s",
					    node_name(b), addr_print(&pa->a, t, sizeof t), pa->network ? pa->network : "(null)");
		const struct model_network *n = &b->in->nets[k];
		const struct prefix *sub = pa->a.family == ADDR_V4 ? (n->has_v4 ? &n->v4_subnet : NULL)
					 : (n->v6_mode != MODEL_V6_NONE ? &n->v6_prefix : NULL);
		if (!sub || !prefix_contains(sub, &pa->a))
			return netd_err_set(b->e, NETD_EINVAL, NULL, "node %s network %s: address %s is not in its subnet",
					    node_name(b), n->name, addr_print(&pa->a, t, sizeof t));
		if (!b->top[k][0])
			return netd_err_set(b->e, NETD_EINVAL, NULL, "node %s network %s: no conduit on this node",
					    node_name(b), n->name);
		struct cdt_paddr a = { .a = pa->a, .plen = pa->plen ? pa->plen : sub->len };
		memcpy(a.dev, b->top[k], CDT_IFNAME_MAX);
		snprintf(a.network, sizeof a.network, "%s", n->name);
		int rc = cdt_plan_add_addr(&b->p, &a);
		if (rc < 0)
			return netd_err_set(b->e, rc, NULL, "node %s: too many addresses", node_name(b));
	}
	return 0;
}

static bool has_addr_of(const struct build *b, const char *net, int family)
{
	for (size_t i = 0; i < b->p.n_addrs; i++)
		if (b->p.addrs[i].a.family == family && strcmp(b->p.addrs[i].network, net) == 0)
			return true;
	return false;
}

static int add_default(struct build *b, int family)
{
	int best = -1;
	for (size_t i = 0; i < b->in->n_nets; i++) {
		const struct model_network *n = &b->in->nets[i];
		bool router = family == ADDR_V4 ? n->has_v4_router : n->has_v6_router;
		if (!router || !has_addr_of(b, n->name, family))
			continue;
		const struct model_network *o = best < 0 ? NULL : &b->in->nets[best];
		if (!o || n->router_pref < o->router_pref ||
		    (n->router_pref == o->router_pref && strcmp(n->name, o->name) < 0))
			best = (int)i;
	}
	if (best < 0)
		return 0;
	const struct model_network *n = &b->in->nets[best];
	struct cdt_proute r = { .has_gw = true };
	r.dst.a.family = (uint8_t)family;
	r.gw = family == ADDR_V4 ? n->v4_router : n->v6_router;
	r.metric = family == ADDR_V6 ? 1024 : 0;   /* what the kernel makes of 0 */
	memcpy(r.dev, b->top[best], CDT_IFNAME_MAX);
	snprintf(r.network, sizeof r.network, "%s", n->name);
	int rc = cdt_plan_add_route(&b->p, &r);
	return rc < 0 ? netd_err_set(b->e, rc, NULL, "node %s: routes", node_name(b)) : 0;
}

static int depth(uint8_t kind)
{
	switch (kind) {
	case CDT_DEV_NIC: return 0;
	case CDT_DEV_BOND: return 1;
	case CDT_DEV_VLAN:
	case CDT_DEV_MACVLAN: return 2;
	default: return 3;
	}
}

/* Stable: insertion sort by depth (plans are small). */
static void sort_by_depth(struct cdt_plan *p)
{
	for (size_t i = 1; i < p->n_devs; i++) {
		struct cdt_dev d = p->devs[i];
		size_t j = i;
		for (; j > 0 && depth(p->devs[j - 1].kind) > depth(d.kind); j--)
			p->devs[j] = p->devs[j - 1];
		p->devs[j] = d;
	}
}

static int check_names(struct build *b)
{
	for (size_t i = 0; i < b->p.n_devs; i++)
		for (size_t j = i + 1; j < b->p.n_devs; j++)
			if (strcmp(b->p.devs[i].name, b->p.devs[j].name) == 0)
				return netd_err_set(b->e, NETD_EINVAL, NULL,
						    "node %s: device name %s planned twice (networks %s and %s)",
						    node_name(b), b->p.devs[i].name, b->p.devs[i].network,
						    b->p.devs[j].network);
	return 0;
}

static int check_nets(struct build *b)
{
	for (size_t i = 0; i < b->in->n_nets; i++) {
		const struct model_network *n = &b->in->nets[i];
		bool found = !n->conduit[0];
		for (size_t k = 0; k < b->in->n_conduits && !found; k++)
			found = strcmp(b->in->conduits[k].name, n->conduit) == 0;
		if (!found)
			return netd_err_set(b->e, NETD_EINVAL, NULL, "node %s network %s: conduit %s is not resolved",
					    node_name(b), n->name, n->conduit);
	}
	return 0;
}

int cdt_plan_build(const struct cdt_plan_input *in, struct cdt_plan *out, struct netd_err *e)
{
	struct build b = { .in = in, .e = e };
	int rc = 0;
	if (in->n_nets > CDT_PLAN_MAX || in->n_conduits > CDT_PLAN_MAX)
		return netd_err_set(e, NETD_ETOOBIG, NULL, "plan input too large");
	b.top = calloc(in->n_nets ? in->n_nets : 1, sizeof *b.top);
	if (!b.top)
		return -ENOMEM;
	snprintf(b.p.node, sizeof b.p.node, "%s", node_name(&b));
	if ((rc = check_nets(&b)) < 0)
		goto out;
	for (size_t i = 0; i < in->n_conduits; i++)
		if ((rc = add_conduit(&b, &in->conduits[i])) < 0)
			goto out;
	fill_mtu(&b);
	sort_by_depth(&b.p);
	if ((rc = check_names(&b)) < 0 || (rc = add_addrs(&b)) < 0)
		goto out;
	if ((rc = add_default(&b, ADDR_V4)) < 0 || (rc = add_default(&b, ADDR_V6)) < 0)
		goto out;
	*out = b.p;
	memset(&b.p, 0, sizeof b.p);
out:
	cdt_plan_clear(&b.p);
	free(b.top);
	return rc;
}
