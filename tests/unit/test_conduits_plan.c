/* Unit tests: conduits/ desired stack (plan.c), diff (diff.c) and the
 * actual-state collector over a fake dump (actual.c).  Table-driven where
 * the cases share a shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "conduits/apply_int.h"
#include "conduits/conduits.h"

/* ---- builders ---- */

static struct model_network net(const char *name, const char *conduit, uint16_t vlan, bool bridge, uint16_t mtu,
				uint32_t pref, const char *v4, const char *r4)
{
	struct model_network n;
	memset(&n, 0, sizeof n);
	snprintf(n.name, sizeof n.name, "%s", name);
	snprintf(n.conduit, sizeof n.conduit, "%s", conduit);
	n.use_vlan = vlan != 0;
	n.vlan = vlan;
	n.use_bridge = bridge;
	n.mtu = mtu;
	n.router_pref = pref;
	if (v4) {
		n.has_v4 = true;
		assert_int_equal(prefix_parse(v4, false, &n.v4_subnet), 0);
	}
	if (r4) {
		n.has_v4_router = true;
		assert_int_equal(addr_parse(r4, &n.v4_router), 0);
	}
	return n;
}

static struct cdt_plan_conduit cdt1(const char *name, const char *nic)
{
	struct cdt_plan_conduit c;
	memset(&c, 0, sizeof c);
	snprintf(c.name, sizeof c.name, "%s", name);
	snprintf(c.nics[0], CDT_IFNAME_MAX, "%s", nic);
	c.n = 1;
	return c;
}

static struct cdt_plan_conduit team2(const char *name, const char *a, const char *b, uint8_t mode)
{
	struct cdt_plan_conduit c = cdt1(name, a);
	snprintf(c.nics[1], CDT_IFNAME_MAX, "%s", b);
	c.n = 2;
	c.team = true;
	c.team_mode = mode;
	return c;
}

static struct cdt_plan_addr paddr(const char *network, const char *a)
{
	struct cdt_plan_addr x = { .network = network };
	assert_int_equal(addr_parse(a, &x.a), 0);
	return x;
}

static const struct cdt_dev *dev(const struct cdt_plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_devs; i++)
		if (!strcmp(p->devs[i].name, name))
			return &p->devs[i];
	fail_msg("no device %s in the plan", name);
	return NULL;
}

static int build(const struct cdt_plan_conduit *c, size_t nc, const struct model_network *n, size_t nn,
		 const struct cdt_plan_addr *a, size_t na, struct cdt_plan *out, struct netd_err *e)
{
	struct cdt_plan_input in = { .node = "n1", .conduits = c, .n_conduits = nc, .nets = n, .n_nets = nn,
				     .addrs = a, .n_addrs = na };
	return cdt_plan_build(&in, out, e);
}

/* ---- plan: stacks, table-driven ---- */

struct stack_case {
	const char *title;
	bool team;
	uint16_t vlan;
	bool bridge;
	uint16_t mtu;
	const char *want;     /* "name:kind:lower:master:mtu" per device, ' '-separated */
	const char *top;      /* device carrying the address */
};

static const struct stack_case stacks[] = {
	{ "single NIC", false, 0, false, 0, "eth0:1:::1500", "eth0" },
	{ "single NIC + bridge", false, 0, true, 0, "eth0:1::br-admin:1500 br-admin:5:::1500", "br-admin" },
	{ "NIC + VLAN", false, 42, false, 9000, "eth0:1:::9000 eth0.42:3:eth0::9000", "eth0.42" },
	{ "NIC + VLAN + bridge", false, 42, true, 0,
	  "eth0:1:::1500 eth0.42:3:eth0:br-admin:1500 br-admin:5:::1500", "br-admin" },
	{ "team", true, 0, false, 9000, "eth0:1::bond-intf0:9000 eth1:1::bond-intf0:9000 bond-intf0:2:::9000",
	  "bond-intf0" },
	{ "team + VLAN + bridge", true, 200, true, 0,
	  "eth0:1::bond-intf0:1500 eth1:1::bond-intf0:1500 bond-intf0:2:::1500 "
	  "bond-intf0.200:3:bond-intf0:br-admin:1500 br-admin:5:::1500", "br-admin" },
};

static void test_stacks(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof stacks / sizeof stacks[0]; i++) {
		const struct stack_case *t = &stacks[i];
		struct cdt_plan_conduit c = t->team ? team2("intf0", "eth0", "eth1", TEAM_802_3AD) : cdt1("intf0", "eth0");
		struct model_network n = net("admin", "intf0", t->vlan, t->bridge, t->mtu, 0, "10.0.0.0/24", NULL);
		struct cdt_plan_addr a = paddr("admin", "10.0.0.5");
		struct cdt_plan p;
		struct netd_err e = { 0 };
		char got[512] = "";
		print_message("stack: %s\n", t->title);
		assert_int_equal(build(&c, 1, &n, 1, &a, 1, &p, &e), 0);
		for (size_t k = 0; k < p.n_devs; k++) {
			const struct cdt_dev *d = &p.devs[k];
			size_t l = strlen(got);
			snprintf(got + l, sizeof got - l, "%s%s:%u:%s:%s:%u", k ? " " : "", d->name, d->kind, d->lower,
				 d->master, d->mtu);
		}
		assert_string_equal(got, t->want);
		assert_int_equal(p.n_addrs, 1);
		assert_string_equal(p.addrs[0].dev, t->top);
		assert_int_equal(p.addrs[0].plen, 24);
		for (size_t k = 0; k < p.n_devs; k++)
			assert_string_equal(p.devs[k].alias, p.devs[k].kind == CDT_DEV_NIC ? "" :
					    p.devs[k].kind == CDT_DEV_BOND ? "netd:intf0" : "netd:intf0/admin");
		cdt_plan_clear(&p);
	}
}

static void test_bond_settings(void **state)
{
	static const struct {
		uint8_t mode, lacp, hash;
	} t[] = {
		{ TEAM_802_3AD, 1, CDT_XMIT_LAYER34 },
		{ TEAM_BALANCE_XOR, 0, CDT_XMIT_LAYER34 },
		{ TEAM_ACTIVE_BACKUP, 0, CDT_XMIT_LAYER2 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct cdt_plan_conduit c = team2("intf0", "eth0", "eth1", t[i].mode);
		struct model_network n = net("admin", "intf0", 0, false, 0, 0, "10.0.0.0/24", NULL);
		struct cdt_plan p;
		assert_int_equal(build(&c, 1, &n, 1, NULL, 0, &p, NULL), 0);
		const struct cdt_dev *b = dev(&p, "bond-intf0");
		assert_int_equal(b->bond_mode, t[i].mode);
		assert_int_equal(b->miimon, 100);
		assert_int_equal(b->lacp_fast, t[i].lacp);
		assert_int_equal(b->xmit_hash, t[i].hash);
		cdt_plan_clear(&p);
	}
}

static void test_mtu_propagation(void **state)
{
	(void)state;
	struct cdt_plan_conduit c = team2("intf1", "eth2", "eth3", TEAM_802_3AD);
	struct model_network n[] = {
		net("storage", "intf1", 200, true, 9000, 0, "10.2.0.0/24", NULL),
		net("public", "intf1", 300, false, 0, 0, "10.3.0.0/24", NULL),
		net("mgmt", "intf1", 400, false, 1400, 0, "10.4.0.0/24", NULL),
	};
	struct cdt_plan p;
	assert_int_equal(build(&c, 1, n, 3, NULL, 0, &p, NULL), 0);
	assert_int_equal(dev(&p, "eth2")->mtu, 9000);
	assert_int_equal(dev(&p, "eth3")->mtu, 9000);
	assert_int_equal(dev(&p, "bond-intf1")->mtu, 9000);
	assert_int_equal(dev(&p, "bond-intf1.200")->mtu, 9000);
	assert_int_equal(dev(&p, "br-storage")->mtu, 9000);
	assert_int_equal(dev(&p, "bond-intf1.300")->mtu, 1500);
	assert_int_equal(dev(&p, "bond-intf1.400")->mtu, 1400);
	/* lower devices first */
	assert_int_equal(p.devs[0].kind, CDT_DEV_NIC);
	assert_int_equal(p.devs[p.n_devs - 1].kind, CDT_DEV_BRIDGE);
	cdt_plan_clear(&p);
}

static void test_default_route(void **state)
{
	(void)state;
	struct cdt_plan_conduit c[] = { cdt1("intf0", "eth0"), cdt1("intf1", "eth1") };
	struct model_network n[] = {
		net("admin", "intf0", 0, false, 0, 20, "10.0.0.0/24", "10.0.0.1"),
		net("public", "intf1", 0, true, 0, 10, "10.1.0.0/24", "10.1.0.1"),
		net("nogw", "intf1", 9, false, 0, 1, "10.9.0.0/24", NULL),
	};
	n[0].v6_mode = MODEL_V6_EXPLICIT;
	assert_int_equal(prefix_parse("fd00::/64", false, &n[0].v6_prefix), 0);
	n[0].has_v6_router = true;
	assert_int_equal(addr_parse("fd00::1", &n[0].v6_router), 0);
	struct cdt_plan_addr a[] = { paddr("admin", "10.0.0.5"), paddr("admin", "fd00::5"),
				     paddr("public", "10.1.0.5"), paddr("nogw", "10.9.0.5") };
	struct cdt_plan p;
	char t[ADDR_STRLEN];
	assert_int_equal(build(c, 2, n, 3, a, 4, &p, NULL), 0);
	assert_int_equal(p.n_routes, 2);
	assert_int_equal(p.routes[0].dst.a.family, ADDR_V4);
	assert_string_equal(p.routes[0].dev, "br-public");           /* pref 10 beats 20; nogw has none */
	assert_string_equal(addr_print(&p.routes[0].gw, t, sizeof t), "10.1.0.1");
	assert_int_equal(p.routes[1].dst.a.family, ADDR_V6);
	assert_string_equal(p.routes[1].dev, "eth0");                /* the only v6 router */
	assert_int_equal(p.routes[1].metric, 1024);
	cdt_plan_clear(&p);

	/* without an address of the family on the node: no route */
	assert_int_equal(build(c, 2, n, 3, a + 2, 1, &p, NULL), 0);
	assert_int_equal(p.n_routes, 1);
	assert_string_equal(p.routes[0].dev, "br-public");
	cdt_plan_clear(&p);
}

static void test_names(void **state)
{
	static const struct {
		const char *full;
		size_t keep;
		const char *want;    /* NULL: shortened, checked for shape */
	} t[] = {
		{ "br-admin", 0, "br-admin" },
		{ "123456789012345", 0, "123456789012345" },
		{ "br-storage-backend", 0, NULL },
		{ "enp129s0f1np1.4000", 5, NULL },
	};
	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char a[CDT_IFNAME_MAX], b[CDT_IFNAME_MAX];
		assert_int_equal(cdt_ifname_make(t[i].full, t[i].keep, a), 0);
		assert_int_equal(cdt_ifname_make(t[i].full, t[i].keep, b), 0);
		assert_string_equal(a, b);                           /* deterministic */
		if (t[i].want) {
			assert_string_equal(a, t[i].want);
			continue;
		}
		assert_int_equal(strlen(a), 15);
		assert_memory_equal(a, t[i].full, 15 - 5 - t[i].keep);   /* head kept */
		assert_int_equal(a[15 - 5 - t[i].keep], '-');
		assert_string_equal(a + 15 - t[i].keep, t[i].full + strlen(t[i].full) - t[i].keep);
	}
	char x[CDT_IFNAME_MAX], y[CDT_IFNAME_MAX];
	assert_int_equal(cdt_ifname_make("br-storage-backend-a", 0, x), 0);
	assert_int_equal(cdt_ifname_make("br-storage-backend-b", 0, y), 0);
	assert_string_not_equal(x, y);
	assert_int_equal(cdt_ifname_make("", 0, x), NETD_EINVAL);

	/* in a plan: bridge of a long network name */
	struct cdt_plan_conduit c = cdt1("intf0", "eth0");
	struct model_network n = net("storage-backend-east", "intf0", 0, true, 0, 0, "10.0.0.0/24", NULL);
	struct cdt_plan p;
	assert_int_equal(build(&c, 1, &n, 1, NULL, 0, &p, NULL), 0);
	assert_int_equal(strlen(p.devs[1].name), 15);
	assert_memory_equal(p.devs[1].name, "br-storag", 9);
	cdt_plan_clear(&p);
}

static void test_plan_errors(void **state)
{
	(void)state;
	struct cdt_plan_conduit c = cdt1("intf0", "eth0");
	struct cdt_plan p;
	struct netd_err e = { 0 };
	struct model_network two[] = { net("a", "intf0", 0, true, 0, 0, "10.0.0.0/24", NULL),
				       net("b", "intf0", 0, false, 0, 0, "10.1.0.0/24", NULL) };
	assert_int_equal(build(&c, 1, two, 2, NULL, 0, &p, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "untagged network a bridges"));

	struct model_network sv[] = { net("a", "intf0", 5, false, 0, 0, NULL, NULL),
				      net("b", "intf0", 5, false, 0, 0, NULL, NULL) };
	netd_err_clear(&e);
	assert_int_equal(build(&c, 1, sv, 2, NULL, 0, &p, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "both use VLAN 5"));

	struct model_network one = net("a", "intf0", 0, false, 0, 0, "10.0.0.0/24", NULL);
	struct cdt_plan_addr out = paddr("a", "10.9.9.9");
	netd_err_clear(&e);
	assert_int_equal(build(&c, 1, &one, 1, &out, 1, &p, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "not in its subnet"));

	struct model_network other = net("a", "intf9", 0, false, 0, 0, "10.0.0.0/24", NULL);
	netd_err_clear(&e);
	assert_int_equal(build(&c, 1, &other, 1, NULL, 0, &p, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "conduit intf9 is not resolved"));
}

/* ---- diff ---- */

/* The actual state a correct apply of @p leaves (every device up). */
static void actual_of(const struct cdt_plan *p, struct cdt_actual *a)
{
	memset(a, 0, sizeof *a);
	a->links = calloc(p->n_devs + 4, sizeof *a->links);
	a->addrs = calloc(p->n_addrs + 4, sizeof *a->addrs);
	a->routes = calloc(p->n_routes + 4, sizeof *a->routes);
	assert_true(a->links && a->addrs && a->routes);
	a->n_links = p->n_devs;
	for (size_t i = 0; i < p->n_devs; i++) {
		struct cdt_alink *l = &a->links[i];
		snprintf(l->name, sizeof l->name, "%s", p->devs[i].name);
		l->ifindex = (int)i + 10;
		l->kind = p->devs[i].kind;
		l->mtu = p->devs[i].mtu;
		l->up = true;
		snprintf(l->alias, sizeof l->alias, "%s", p->devs[i].alias);
		l->vlan_id = p->devs[i].vlan_id;
		l->macvlan_mode = MACVLAN_MODE_BRIDGE;
		l->bond_mode = p->devs[i].bond_mode;
		l->miimon = p->devs[i].miimon;
		l->lacp_fast = p->devs[i].lacp_fast;
		l->xmit_hash = p->devs[i].xmit_hash;
	}
	for (size_t i = 0; i < p->n_devs; i++) {
		const struct cdt_alink *m = cdt_actual_link(a, p->devs[i].master);
		const struct cdt_alink *lo = cdt_actual_link(a, p->devs[i].lower);
		a->links[i].master = m ? m->ifindex : 0;
		a->links[i].link = lo ? lo->ifindex : 0;
	}
	for (size_t i = 0; i < p->n_addrs; i++) {
		a->addrs[i].ifindex = cdt_actual_link(a, p->addrs[i].dev)->ifindex;
		a->addrs[i].a = p->addrs[i].a;
		a->addrs[i].plen = p->addrs[i].plen;
	}
	a->n_addrs = p->n_addrs;
	for (size_t i = 0; i < p->n_routes; i++) {
		struct cdt_aroute *r = &a->routes[i];
		r->oif = cdt_actual_link(a, p->routes[i].dev)->ifindex;
		r->dst = p->routes[i].dst;
		r->has_gw = p->routes[i].has_gw;
		r->gw = p->routes[i].gw;
		r->metric = p->routes[i].metric;
		r->protocol = CDT_RTPROT;
	}
	a->n_routes = p->n_routes;
}

/* A two-conduit node; @variant: 0 base, 1 + network "backup" (VLAN 300),
 * 2 storage at MTU 9000, 3 admin address changed. */
static void node_plan(int variant, struct cdt_plan *p)
{
	struct cdt_plan_conduit c[] = { cdt1("intf0", "eth0"), team2("intf1", "eth1", "eth2", TEAM_802_3AD) };
	struct model_network n[] = {
		net("admin", "intf0", 0, false, 0, 10, "10.0.0.0/24", "10.0.0.1"),
		net("storage", "intf1", 200, true, variant == 2 ? 9000 : 0, 20, "10.2.0.0/24", NULL),
		net("backup", "intf1", 300, false, 0, 30, "10.3.0.0/24", NULL),
	};
	struct cdt_plan_addr a[] = { paddr("admin", variant == 3 ? "10.0.0.6" : "10.0.0.5"),
				     paddr("storage", "10.2.0.5"), paddr("backup", "10.3.0.5") };
	size_t nn = variant == 1 ? 3 : 2;
	assert_int_equal(build(c, 2, n, nn, a, nn, p, NULL), 0);
}

/* Changes as "op:dev" words. */
static void ops_text(const struct cdt_changes *ch, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < ch->n; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, len - l, "%s%u:%s", i ? " " : "", ch->v[i].op, ch->v[i].dev);
	}
}

/* ENSLAVE changes as "dev:master:old_master:master_is_bond:was_up" words. */
static void enslave_text(const struct cdt_changes *ch, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < ch->n; i++) {
		const struct cdt_change *c = &ch->v[i];
		size_t l = strlen(buf);
		if (c->op != CDT_CHG_ENSLAVE)
			continue;
		snprintf(buf + l, len - l, "%s%s:%s:%s:%d:%d", l ? " " : "", c->dev, c->master, c->old_master,
			 c->master_is_bond, c->was_up);
	}
}

struct diff_case {
	const char *title;
	int have, want;       /* node_plan variants; have -1 = bare NICs only, -2 = stale bond (stale_bond()) */
	const char *ops;
	const char *enslaves; /* enslave_text(), NULL = not checked */
};

static const struct diff_case diffs[] = {
	{ "no-op", 0, 0, "", NULL },
	{ "create from scratch", -1, 0,
	  /* MTU none (NICs at 1500); creates bond, VLAN, bridge; enslave; addresses; route */
	  "5:bond-intf1 5:bond-intf1.200 5:br-storage 6:eth1 6:eth2 6:bond-intf1.200 "
	  "8:eth0 8:br-storage 9:eth0", NULL },
	{ "add a network", 0, 1, "5:bond-intf1.300 8:bond-intf1.300", NULL },
	{ "remove a network", 1, 0, "10:bond-intf1.300", NULL },
	{ "MTU grows: lower first (bond ports follow their bond)", 0, 2, "4:bond-intf1 4:bond-intf1.200 4:br-storage",
	  NULL },
	{ "MTU shrinks: upper first", 2, 0, "4:br-storage 4:bond-intf1.200 4:bond-intf1", NULL },
	{ "address change", 0, 3, "2:eth0 8:eth0", NULL },
	/* release_ports(): the foreign ports eth5/eth6 of the stale bond are
	 * released (master "", down/up cycle so they end up up) before the bond
	 * is deleted; eth0, also its port but planned, leaves it once, through
	 * diff_master, not a second time through release_ports. */
	{ "stale bond: its ports released before it goes, planned port once", -2, 0,
	  "6:eth5 6:eth6 6:eth0 10:bond-old",
	  "eth5::bond-old:1:1 eth6::bond-old:1:1 eth0::bond-old:1:1" },
};

/* The base node as applied, plus a stale netd bond "bond-old" (conduit
 * intf9, no longer planned) whose ports are two foreign NICs eth5 and eth6
 * and the planned NIC eth0. */
static void stale_bond(struct cdt_actual *a)
{
	struct cdt_plan p;
	node_plan(0, &p);
	actual_of(&p, a);     /* room for 4 more links */
	cdt_plan_clear(&p);
	struct cdt_alink *b = &a->links[a->n_links++];
	memset(b, 0, sizeof *b);
	snprintf(b->name, sizeof b->name, "bond-old");
	b->ifindex = 50;
	b->kind = CDT_DEV_BOND;
	b->mtu = 1500;
	b->up = true;
	snprintf(b->alias, sizeof b->alias, "netd:intf9");
	b->bond_mode = TEAM_802_3AD;
	b->miimon = CDT_MIIMON;
	static const char *const ports[] = { "eth5", "eth6" };
	for (int i = 0; i < 2; i++) {
		struct cdt_alink *l = &a->links[a->n_links++];
		memset(l, 0, sizeof *l);
		snprintf(l->name, sizeof l->name, "%s", ports[i]);
		l->ifindex = 51 + i;
		l->kind = CDT_DEV_NIC;
		l->mtu = 1500;
		l->up = true;
		l->master = b->ifindex;
	}
	((struct cdt_alink *)cdt_actual_link(a, "eth0"))->master = b->ifindex;
}

static void bare_nics(struct cdt_actual *a)
{
	static const char *const names[] = { "eth0", "eth1", "eth2" };
	memset(a, 0, sizeof *a);
	a->links = calloc(3, sizeof *a->links);
	assert_non_null(a->links);
	for (int i = 0; i < 3; i++) {
		snprintf(a->links[i].name, CDT_IFNAME_MAX, "%s", names[i]);
		a->links[i].ifindex = i + 2;
		a->links[i].kind = CDT_DEV_NIC;
		a->links[i].mtu = 1500;
		a->links[i].up = true;
	}
	a->n_links = 3;
}

static void test_diffs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof diffs / sizeof diffs[0]; i++) {
		const struct diff_case *t = &diffs[i];
		struct cdt_plan have = { 0 }, want;
		struct cdt_actual act;
		struct cdt_changes ch = { 0 };
		char got[1024];
		print_message("diff: %s\n", t->title);
		if (t->have == -2) {
			stale_bond(&act);
		} else if (t->have < 0) {
			bare_nics(&act);
		} else {
			node_plan(t->have, &have);
			actual_of(&have, &act);
		}
		node_plan(t->want, &want);
		assert_int_equal(cdt_diff(&want, &act, &ch, NULL), 0);
		ops_text(&ch, got, sizeof got);
		assert_string_equal(got, t->ops);
		if (t->enslaves) {
			enslave_text(&ch, got, sizeof got);
			assert_string_equal(got, t->enslaves);
		}
		cdt_changes_clear(&ch);
		/* applying the plan's own picture gives no change */
		cdt_actual_clear(&act);
		actual_of(&want, &act);
		assert_int_equal(cdt_diff(&want, &act, &ch, NULL), 0);
		assert_int_equal(ch.n, 0);
		cdt_actual_clear(&act);
		cdt_plan_clear(&have);
		cdt_plan_clear(&want);
	}
}

static void test_diff_foreign(void **state)
{
	(void)state;
	struct cdt_plan p;
	struct cdt_actual a;
	struct cdt_changes ch = { 0 };
	struct netd_err e = { 0 };
	node_plan(0, &p);
	actual_of(&p, &a);
	/* a foreign bridge, a foreign address on eth0 outside netd's subnets,
	 * a foreign route: left alone */
	struct cdt_alink *f = &a.links[a.n_links++];
	memset(f, 0, sizeof *f);
	snprintf(f->name, sizeof f->name, "docker0");
	f->ifindex = 99;
	f->kind = CDT_DEV_BRIDGE;
	f->mtu = 1500;
	struct cdt_aaddr *x = &a.addrs[a.n_addrs++];
	x->ifindex = cdt_actual_link(&a, "eth0")->ifindex;
	assert_int_equal(addr_parse("192.0.2.9", &x->a), 0);
	x->plen = 24;
	struct cdt_aroute *r = &a.routes[a.n_routes++];
	memset(r, 0, sizeof *r);
	r->oif = 99;
	assert_int_equal(prefix_parse("172.17.0.0/16", false, &r->dst), 0);
	r->protocol = RTPROT_KERNEL;
	assert_int_equal(cdt_diff(&p, &a, &ch, &e), 0);
	assert_int_equal(ch.n, 0);

	/* a stale address of netd's subnet on the NIC goes */
	assert_int_equal(addr_parse("10.0.0.77", &x->a), 0);
	assert_int_equal(cdt_diff(&p, &a, &ch, &e), 0);
	assert_int_equal(ch.n, 1);
	assert_int_equal(ch.v[0].op, CDT_CHG_DEL_ADDR);
	cdt_changes_clear(&ch);

	/* the planned bridge's name held by a foreign device: refused */
	struct cdt_alink *br = (struct cdt_alink *)cdt_actual_link(&a, "br-storage");
	br->alias[0] = '\0';
	assert_int_equal(cdt_diff(&p, &a, &ch, &e), NETD_EEXIST);
	assert_non_null(strstr(e.msg, "br-storage exists and is not netd's"));
	snprintf(br->alias, sizeof br->alias, "netd:intf1/storage");

	/* a NIC in a foreign bridge: refused */
	netd_err_clear(&e);
	((struct cdt_alink *)cdt_actual_link(&a, "eth0"))->master = 99;
	assert_int_equal(cdt_diff(&p, &a, &ch, &e), NETD_EINUSE);
	assert_non_null(strstr(e.msg, "eth0 is a port of docker0"));
	cdt_actual_clear(&a);
	cdt_plan_clear(&p);
}

static void test_diff_replace(void **state)
{
	(void)state;
	struct cdt_plan p;
	struct cdt_actual a;
	struct cdt_changes ch = { 0 };
	node_plan(0, &p);
	actual_of(&p, &a);
	((struct cdt_alink *)cdt_actual_link(&a, "bond-intf1"))->bond_mode = TEAM_ACTIVE_BACKUP;
	assert_int_equal(cdt_diff(&p, &a, &ch, NULL), 0);
	char got[512];
	ops_text(&ch, got, sizeof got);
	/* replaced early, created again, ports re-enslaved (down/up inside) */
	assert_string_equal(got, "3:bond-intf1 5:bond-intf1 6:eth1 6:eth2");
	assert_true(ch.v[2].master_is_bond);
	cdt_changes_clear(&ch);
	cdt_actual_clear(&a);
	cdt_plan_clear(&p);
}

/* ---- the collector over a fake dump ---- */

static int fake_dump(void *ctx, int type, cdt_inv_each_fn each, void *arg, struct netd_err *e)
{
	struct nl_msg *m = nlmsg_alloc();
	int rc = 0;
	(void)ctx;
	(void)e;
	assert_non_null(m);
	if (type == RTM_GETLINK) {
		struct ifinfomsg ifi = { .ifi_index = 7, .ifi_flags = IFF_UP };
		nlmsg_append(m, &ifi, sizeof ifi, NLMSG_ALIGNTO);
		nla_put_string(m, IFLA_IFNAME, "bond-intf1");
		nla_put_u32(m, IFLA_MTU, 9000);
		nla_put_string(m, IFLA_IFALIAS, "netd:intf1");
		struct nlattr *li = nla_nest_start(m, IFLA_LINKINFO);
		nla_put_string(m, IFLA_INFO_KIND, "bond");
		struct nlattr *d = nla_nest_start(m, IFLA_INFO_DATA);
		nla_put_u8(m, IFLA_BOND_MODE, TEAM_802_3AD);
		nla_put_u32(m, IFLA_BOND_MIIMON, 100);
		nla_put_u8(m, IFLA_BOND_AD_LACP_RATE, 1);
		nla_put_u8(m, IFLA_BOND_XMIT_HASH_POLICY, 1);
		nla_nest_end(m, d);
		nla_nest_end(m, li);
	} else if (type == RTM_GETADDR) {
		struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = 7 };
		uint8_t ip[4] = { 10, 2, 0, 5 };
		nlmsg_append(m, &ifa, sizeof ifa, NLMSG_ALIGNTO);
		nla_put(m, IFA_LOCAL, 4, ip);
	} else {
		struct rtmsg rtm = { .rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = CDT_RTPROT,
				     .rtm_type = RTN_UNICAST };
		uint8_t gw[4] = { 10, 2, 0, 1 };
		nlmsg_append(m, &rtm, sizeof rtm, NLMSG_ALIGNTO);
		nla_put(m, RTA_GATEWAY, 4, gw);
		nla_put_u32(m, RTA_OIF, 7);
	}
	struct nlmsghdr *h = nlmsg_hdr(m);
	rc = each(arg, nlmsg_data(h), (size_t)nlmsg_datalen(h));
	nlmsg_free(m);
	return rc;
}

static void test_collect_fake(void **state)
{
	static const struct cdt_act_ops ops = { .dump = fake_dump };
	struct cdt_actual a;
	char t[ADDR_STRLEN];
	(void)state;
	assert_int_equal(cdt_act_collect(&ops, NULL, &a, NULL), 0);
	assert_int_equal(a.n_links, 1);
	assert_string_equal(a.links[0].name, "bond-intf1");
	assert_int_equal(a.links[0].kind, CDT_DEV_BOND);
	assert_int_equal(a.links[0].bond_mode, TEAM_802_3AD);
	assert_int_equal(a.links[0].lacp_fast, 1);
	assert_int_equal(a.links[0].xmit_hash, 1);
	assert_int_equal(a.links[0].miimon, 100);
	assert_true(a.links[0].up);
	assert_true(cdt_owned(a.links[0].alias));
	assert_int_equal(a.n_addrs, 1);
	assert_string_equal(addr_print(&a.addrs[0].a, t, sizeof t), "10.2.0.5");
	assert_int_equal(a.n_routes, 1);
	assert_int_equal(a.routes[0].dst.len, 0);
	assert_int_equal(a.routes[0].oif, 7);
	assert_string_equal(addr_print(&a.routes[0].gw, t, sizeof t), "10.2.0.1");
	cdt_actual_clear(&a);

	/* a truncated payload is refused */
	struct cdt_alink l;
	bool skip;
	uint8_t junk[4] = { 0 };
	struct netd_err e = { 0 };
	assert_int_equal(cdt_act_parse_link(junk, sizeof junk, &l, &skip, &e), NETD_ECORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stacks),
		cmocka_unit_test(test_bond_settings),
		cmocka_unit_test(test_mtu_propagation),
		cmocka_unit_test(test_default_route),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_diffs),
		cmocka_unit_test(test_diff_foreign),
		cmocka_unit_test(test_diff_replace),
		cmocka_unit_test(test_collect_fake),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
