/* tests/unit/test_cdtjson.c — conduit plans and NIC inventories as the
 * model's JSON (netd/cdtjson.h).
 *
 * Round trips: a plan with every device kind, both families, routes with
 * and without gateways, and the commit-confirm settings, printed and parsed
 * back field by field (and printed again to the same text); an inventory
 * with every leaf, a speed without a token (20g), supported speeds (stated,
 * and derived from the class when a NIC states none) and masters; supported
 * speeds and class settling each other.  Then the refusals, each with the
 * data path it must name: devices without a kind, addresses and routes on
 * devices the plan lacks, a gateway of the other family, prefix lengths out
 * of range, JSON of the wrong container or none, a NIC without a MAC, two
 * NICs on one PCI path, a supported speed that is no link speed, a class
 * slower than a supported speed; and what the partial (override file) mode
 * lets through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netd/cdtjson.h"
#include "netd/yangctx.h"

static struct ly_ctx *ctx;

static int group_setup(void **state)
{
	struct netd_err e = { 0 };
	ly_log_options(LY_LOSTORE_LAST);
	if (yc_new(&ctx, &e) < 0) {
		fprintf(stderr, "yc_new: %s at %s\n", e.msg, e.path);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	ly_ctx_destroy(ctx);
	return 0;
}

static struct addr A(const char *s)
{
	struct addr a;
	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static struct prefix P(const char *s)
{
	struct prefix p;
	assert_int_equal(prefix_parse(s, true, &p), 0);
	return p;
}

/* Every device kind, in depth order, both families, four routes. */
static void sample_plan(struct cdt_plan *p)
{
	static const struct cdt_dev devs[] = {
		{ .name = "eth0", .kind = CDT_DEV_NIC, .master = "bond-intf1", .mtu = 9000, .conduit = "intf1" },
		{ .name = "eth1", .kind = CDT_DEV_NIC, .master = "bond-intf1", .mtu = 9000, .conduit = "intf1" },
		{ .name = "eth2", .kind = CDT_DEV_NIC, .mtu = 1500, .conduit = "intf0" },
		{ .name = "bond-intf1", .kind = CDT_DEV_BOND, .bond_mode = TEAM_802_3AD, .miimon = 100, .lacp_fast = 1,
		  .xmit_hash = CDT_XMIT_LAYER34, .mtu = 9000, .alias = "netd:intf1", .conduit = "intf1" },
		{ .name = "bond-intf1.200", .kind = CDT_DEV_VLAN, .lower = "bond-intf1", .vlan_id = 200,
		  .master = "br-storage", .mtu = 9000, .alias = "netd:intf1/storage", .conduit = "intf1",
		  .network = "storage" },
		{ .name = "eth2.300", .kind = CDT_DEV_MACVLAN, .lower = "eth2", .mtu = 1500,
		  .alias = "netd:intf0/public", .conduit = "intf0", .network = "public" },
		{ .name = "br-storage", .kind = CDT_DEV_BRIDGE, .mtu = 9000, .alias = "netd:intf1/storage",
		  .conduit = "intf1", .network = "storage" },
	};
	memset(p, 0, sizeof *p);
	snprintf(p->node, sizeof p->node, "n1");
	for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++)
		assert_int_equal(cdt_plan_add_dev(p, &devs[i]), 0);
	struct cdt_paddr a1 = { .dev = "br-storage", .a = A("10.20.0.5"), .plen = 24, .network = "storage" };
	struct cdt_paddr a2 = { .dev = "br-storage", .a = A("fd00:20::5"), .plen = 64, .network = "storage" };
	struct cdt_paddr a3 = { .dev = "eth2", .a = A("198.18.0.10"), .plen = 24 };
	assert_int_equal(cdt_plan_add_addr(p, &a1), 0);
	assert_int_equal(cdt_plan_add_addr(p, &a2), 0);
	assert_int_equal(cdt_plan_add_addr(p, &a3), 0);
	struct cdt_proute r1 = { .dev = "eth2", .dst = P("0.0.0.0/0"), .has_gw = true, .gw = A("198.18.0.1"),
				 .network = "admin" };
	struct cdt_proute r2 = { .dev = "br-storage", .dst = P("::/0"), .has_gw = true, .gw = A("fd00:20::1"),
				 .metric = 1024, .network = "storage" };
	struct cdt_proute r3 = { .dev = "eth2.300", .dst = P("192.0.2.0/24"), .metric = 7 };
	assert_int_equal(cdt_plan_add_route(p, &r1), 0);
	assert_int_equal(cdt_plan_add_route(p, &r2), 0);
	assert_int_equal(cdt_plan_add_route(p, &r3), 0);
}

static void assert_dev_equal(const struct cdt_dev *a, const struct cdt_dev *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->kind, b->kind);
	assert_string_equal(a->lower, b->lower);
	assert_string_equal(a->master, b->master);
	assert_int_equal(a->vlan_id, b->vlan_id);
	assert_int_equal(a->mtu, b->mtu);
	assert_string_equal(a->alias, b->alias);
	assert_string_equal(a->conduit, b->conduit);
	assert_string_equal(a->network, b->network);
	if (a->kind == CDT_DEV_BOND) {
		assert_int_equal(a->bond_mode, b->bond_mode);
		assert_int_equal(a->miimon, b->miimon);
		assert_int_equal(a->lacp_fast, b->lacp_fast);
		assert_int_equal(a->xmit_hash, b->xmit_hash);
	}
}

static void assert_plan_equal(const struct cdt_plan *a, const struct cdt_plan *b)
{
	assert_string_equal(a->node, b->node);
	assert_int_equal(a->n_devs, b->n_devs);
	assert_int_equal(a->n_addrs, b->n_addrs);
	assert_int_equal(a->n_routes, b->n_routes);
	for (size_t i = 0; i < a->n_devs; i++)
		assert_dev_equal(&a->devs[i], &b->devs[i]);
	for (size_t i = 0; i < a->n_addrs; i++) {
		assert_string_equal(a->addrs[i].dev, b->addrs[i].dev);
		assert_true(addr_eq(&a->addrs[i].a, &b->addrs[i].a));
		assert_int_equal(a->addrs[i].plen, b->addrs[i].plen);
		assert_string_equal(a->addrs[i].network, b->addrs[i].network);
	}
	for (size_t i = 0; i < a->n_routes; i++) {
		const struct cdt_proute *x = &a->routes[i], *y = &b->routes[i];
		assert_string_equal(x->dev, y->dev);
		assert_true(addr_eq(&x->dst.a, &y->dst.a));
		assert_int_equal(x->dst.len, y->dst.len);
		assert_int_equal(x->has_gw, y->has_gw);
		if (x->has_gw)
			assert_true(addr_eq(&x->gw, &y->gw));
		assert_int_equal(x->metric, y->metric);
		assert_string_equal(x->network, y->network);
	}
}

static void test_plan_round_trip(void **state)
{
	struct cdt_plan p, q = { 0 };
	struct cdtj_meta m = { .has_mgmt = true, .mgmt = A("198.18.0.10"), .confirm_timeout = 45,
			       .has_self_confirm = true, .self_confirm = false }, mq;
	struct netd_err e = { 0 };
	char *json = NULL, *again = NULL;
	sample_plan(&p);
	assert_int_equal(cdtj_plan_print(ctx, &p, &m, &json, &e), 0);
	assert_non_null(strstr(json, "{\"netd:plan\":{\"management-address\":\"198.18.0.10\",\"confirm-timeout\":45,"
				     "\"self-confirm\":false,"));
	assert_non_null(strstr(json, "\"kind\":\"bond\",\"bond-mode\":\"802.3ad\",\"miimon\":100,\"lacp-rate\":\"fast\","
				     "\"xmit-hash-policy\":\"layer3+4\""));
	assert_int_equal(cdtj_plan_parse(ctx, "n1", json, &q, &mq, &e), 0);
	assert_plan_equal(&p, &q);
	assert_true(mq.has_mgmt && addr_eq(&mq.mgmt, &m.mgmt));
	assert_int_equal(mq.confirm_timeout, 45);
	assert_true(mq.has_self_confirm && !mq.self_confirm);
	assert_int_equal(cdtj_plan_print(ctx, &q, &mq, &again, &e), 0);
	assert_string_equal(json, again);
	free(json);
	free(again);
	cdt_plan_clear(&p);
	cdt_plan_clear(&q);
}

static void test_plan_empty_and_no_meta(void **state)
{
	struct cdt_plan p = { .node = "n2" }, q = { 0 };
	struct cdtj_meta mq;
	struct netd_err e = { 0 };
	char *json = NULL;
	assert_int_equal(cdtj_plan_print(ctx, &p, NULL, &json, &e), 0);
	assert_string_equal(json, "{\"netd:plan\":{}}");
	assert_int_equal(cdtj_plan_parse(ctx, "n2", json, &q, &mq, &e), 0);
	assert_int_equal(q.n_devs + q.n_addrs + q.n_routes, 0);
	assert_false(mq.has_mgmt);
	assert_false(mq.has_self_confirm);
	assert_int_equal(mq.confirm_timeout, 0);
	free(json);
	cdt_plan_clear(&q);
}

/* Devices come back lower before upper, whatever the JSON's order. */
static void test_plan_order(void **state)
{
	const char *json = "{\"netd:plan\":{\"device\":["
			   "{\"name\":\"br-x\",\"kind\":\"bridge\"},"
			   "{\"name\":\"eth0.5\",\"kind\":\"vlan\",\"lower\":\"bond0\",\"vlan-id\":5,\"master\":\"br-x\"},"
			   "{\"name\":\"bond0\",\"kind\":\"bond\",\"bond-mode\":\"active-backup\"},"
			   "{\"name\":\"eth0\",\"kind\":\"nic\",\"master\":\"bond0\"}]}}";
	struct cdt_plan q = { 0 };
	struct netd_err e = { 0 };
	assert_int_equal(cdtj_plan_parse(ctx, "n1", json, &q, NULL, &e), 0);
	assert_int_equal(q.n_devs, 4);
	assert_string_equal(q.devs[0].name, "eth0");
	assert_string_equal(q.devs[1].name, "bond0");
	assert_int_equal(q.devs[1].bond_mode, TEAM_ACTIVE_BACKUP);
	assert_string_equal(q.devs[2].name, "eth0.5");
	assert_string_equal(q.devs[3].name, "br-x");
	cdt_plan_clear(&q);
}

static void test_plan_refusals(void **state)
{
	static const struct {
		const char *json, *path, *msg;
	} bad[] = {
		{ "{\"netd:plan\":{\"device\":[{\"name\":\"eth0\"}]}}", "/plan/device[name='eth0']", "has no kind" },
		{ "{\"netd:plan\":{\"device\":[{\"name\":\"v\",\"kind\":\"vlan\",\"lower\":\"eth0\"}]}}",
		  "/plan/device[name='v']", "has no vlan-id" },
		{ "{\"netd:plan\":{\"device\":[{\"name\":\"b\",\"kind\":\"bond\"}]}}", "/plan/device[name='b']",
		  "has no bond-mode" },
		{ "{\"netd:plan\":{\"device\":[{\"name\":\"m\",\"kind\":\"macvlan\"}]}}", "/plan/device[name='m']",
		  "has no lower device" },
		{ "{\"netd:plan\":{\"address\":[{\"device\":\"eth9\",\"address\":\"10.0.0.1\",\"prefix-length\":24}]}}",
		  "/plan/address[device='eth9'][address='10.0.0.1']", "which the plan does not have" },
		{ "{\"netd:plan\":{\"device\":[{\"name\":\"eth0\",\"kind\":\"nic\"}],"
		  "\"address\":[{\"device\":\"eth0\",\"address\":\"10.0.0.1\",\"prefix-length\":33}]}}",
		  "/plan/address[device='eth0'][address='10.0.0.1']", "prefix-length" },
		{ "{\"netd:plan\":{\"device\":[{\"name\":\"eth0\",\"kind\":\"nic\"}],"
		  "\"address\":[{\"device\":\"eth0\",\"address\":\"10.0.0.1\"}]}}",
		  "/plan/address[device='eth0'][address='10.0.0.1']", "prefix-length" },
		{ "{\"netd:plan\":{\"device\":[{\"name\":\"eth0\",\"kind\":\"nic\"}],"
		  "\"route\":[{\"device\":\"eth0\",\"destination\":\"0.0.0.0/0\",\"gateway\":\"fd00::1\"}]}}",
		  "/plan/route[device='eth0'][destination='0.0.0.0/0']", "not an address of the destination's family" },
		{ "{\"netd:plan\":{\"route\":[{\"device\":\"eth0\",\"destination\":\"0.0.0.0/0\"}]}}",
		  "/plan/route[device='eth0'][destination='0.0.0.0/0']", "which the plan does not have" },
		{ "{\"netd:plan\":{\"device\":[{\"name\":\"eth0\",\"kind\":\"token-ring\"}]}}", "kind", NULL },
		{ "{\"netd:inventory\":{}}", NULL, NULL },
		{ "{\"netd:plan\":", NULL, NULL },
		{ "", NULL, "holds no netd:plan" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cdt_plan q = { 0 };
		struct netd_err e = { 0 };
		int rc = cdtj_plan_parse(ctx, "n1", bad[i].json, &q, NULL, &e);
		if (rc != NETD_EINVAL)
			fail_msg("bad plan %zu: rc %d, want NETD_EINVAL (%s)", i, rc, bad[i].json);
		if (bad[i].path && !strstr(e.path, bad[i].path))
			fail_msg("bad plan %zu: path \"%s\" lacks \"%s\"", i, e.path, bad[i].path);
		if (bad[i].msg && !strstr(e.msg, bad[i].msg))
			fail_msg("bad plan %zu: message \"%s\" lacks \"%s\"", i, e.msg, bad[i].msg);
		assert_int_equal(q.n_devs, 0);   /* untouched on failure */
	}
}

static void sample_inventory(struct cdtj_inventory *inv)
{
	memset(inv, 0, sizeof *inv);
	inv->n = 2;
	inv->nics = calloc(2, sizeof *inv->nics);
	inv->masters = calloc(2, sizeof *inv->masters);
	assert_non_null(inv->nics);
	assert_non_null(inv->masters);
	snprintf(inv->product, sizeof inv->product, "PowerEdge R740");
	inv->reported_at = 1795680000;   /* 2026-11-26T08:00:00Z */
	struct cdt_nic *a = &inv->nics[0], *b = &inv->nics[1];
	*a = (struct cdt_nic){ .name = "eno1", .ifindex = 2, .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
			       .has_perm_mac = true, .perm_mac = { 0x52, 0x54, 0, 0xab, 0xcd, 0xef }, .mtu = 9000,
			       .operstate = CDT_OPER_UP, .link_up = true, .speed_class = 25000, .speed = 10000,
			       .supported = cdt_link_speed_bit(1000) | cdt_link_speed_bit(10000) | cdt_link_speed_bit(25000),
			       .pci = "0000:3b:00.0", .driver = "ice" };
	*b = (struct cdt_nic){ .name = "eno2", .ifindex = 3, .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
			       .mtu = 1500, .operstate = CDT_OPER_LOWERLAYERDOWN, .speed_class = 20000,
			       .pci = "0000:3b:00.1" };
	snprintf(inv->masters[0], sizeof inv->masters[0], "bond-intf0");
}

static void test_inventory_round_trip(void **state)
{
	struct cdtj_inventory inv, out = { 0 };
	struct netd_err e = { 0 };
	char *json = NULL, *again = NULL;
	sample_inventory(&inv);
	assert_int_equal(cdtj_inventory_print(ctx, &inv, &json, &e), 0);
	assert_non_null(strstr(json, "{\"netd:inventory\":{\"reported-at\":"));
	assert_non_null(strstr(json, "\"speed-class\":20000"));
	assert_non_null(strstr(json, "\"speed-class\":25000,\"supported-speed\":[1000,10000,25000],"));
	assert_null(strstr(json, "\"supported-speed\":[20000]"));   /* eno2 states none */
	assert_int_equal(cdtj_inventory_parse(ctx, json, 0, "/x/inventory", &out, &e), 0);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.product, inv.product);
	assert_int_equal(out.reported_at, inv.reported_at);
	for (size_t i = 0; i < 2; i++) {
		const struct cdt_nic *x = &inv.nics[i], *y = &out.nics[i];
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->ifindex, y->ifindex);
		assert_memory_equal(x->mac, y->mac, 6);
		assert_int_equal(x->has_perm_mac, y->has_perm_mac);
		if (x->has_perm_mac)
			assert_memory_equal(x->perm_mac, y->perm_mac, 6);
		assert_int_equal(x->mtu, y->mtu);
		assert_int_equal(x->operstate, y->operstate);
		assert_int_equal(x->link_up, y->link_up);
		assert_int_equal(x->speed_class, y->speed_class);
		assert_int_equal(x->speed, y->speed);
		/* eno2 states no supported speeds: its class (20g) alone */
		assert_int_equal(y->supported, x->supported ? x->supported : cdt_link_speed_bit(20000));
		assert_string_equal(x->pci, y->pci);
		assert_string_equal(x->driver, y->driver);
		assert_string_equal(inv.masters[i], out.masters[i]);
	}
	/* what was read prints as stated, plus eno2's derived speed; read
	 * and printed again it stays the same */
	assert_int_equal(cdtj_inventory_print(ctx, &out, &again, &e), 0);
	assert_non_null(strstr(again, "\"speed-class\":20000,\"supported-speed\":[20000],"));
	inv.nics[1].supported = cdt_link_speed_bit(20000);
	free(json);
	assert_int_equal(cdtj_inventory_print(ctx, &inv, &json, &e), 0);
	assert_string_equal(json, again);
	cdtj_inventory_clear(&out);
	assert_int_equal(cdtj_inventory_parse(ctx, again, 0, "/x/inventory", &out, &e), 0);
	free(again);
	assert_int_equal(cdtj_inventory_print(ctx, &out, &again, &e), 0);
	assert_string_equal(json, again);
	free(json);
	free(again);
	cdtj_inventory_clear(&inv);
	cdtj_inventory_clear(&out);
	cdtj_inventory_clear(NULL);
}

/* Supported speeds without a class: the fastest becomes the class; a class
 * alone: its speed is the one supported; 20g and 56g are link speeds. */
static void test_inventory_speeds(void **state)
{
	const char *json = "{\"netd:inventory\":{\"nic\":["
			   "{\"name\":\"a\",\"mac\":\"52:54:00:00:00:01\",\"supported-speed\":[10000,1000,100]},"
			   "{\"name\":\"b\",\"mac\":\"52:54:00:00:00:02\",\"speed-class\":2500},"
			   "{\"name\":\"c\",\"mac\":\"52:54:00:00:00:03\",\"speed-class\":56000,"
			   "\"supported-speed\":[20000,56000]},"
			   "{\"name\":\"d\",\"mac\":\"52:54:00:00:00:04\",\"speed-class\":12345},"
			   "{\"name\":\"e\",\"mac\":\"52:54:00:00:00:05\"}]}}";
	struct cdtj_inventory out = { 0 };
	struct netd_err e = { 0 };
	char *again = NULL;
	assert_int_equal(cdtj_inventory_parse(ctx, json, 0, "/x/inventory", &out, &e), 0);
	assert_int_equal(out.n, 5);
	assert_int_equal(out.nics[0].speed_class, 10000);
	assert_int_equal(out.nics[0].supported,
			 cdt_link_speed_bit(100) | cdt_link_speed_bit(1000) | cdt_link_speed_bit(10000));
	assert_int_equal(out.nics[1].speed_class, 2500);
	assert_int_equal(out.nics[1].supported, cdt_link_speed_bit(2500));
	assert_int_equal(out.nics[2].speed_class, 56000);
	assert_int_equal(out.nics[2].supported, cdt_link_speed_bit(20000) | cdt_link_speed_bit(56000));
	assert_int_equal(out.nics[3].speed_class, 12345);   /* not a link speed: nothing to derive */
	assert_int_equal(out.nics[3].supported, 0);
	assert_int_equal(out.nics[4].speed_class, 0);
	assert_int_equal(out.nics[4].supported, 0);
	assert_int_equal(cdtj_inventory_print(ctx, &out, &again, &e), 0);
	assert_non_null(strstr(again, "\"speed-class\":10000,\"supported-speed\":[100,1000,10000]}"));
	assert_non_null(strstr(again, "\"speed-class\":2500,\"supported-speed\":[2500]}"));
	assert_non_null(strstr(again, "\"name\":\"e\",\"mac\":\"52:54:00:00:00:05\",\"operstate\":\"unknown\","
				      "\"link-up\":false}"));
	free(again);
	cdtj_inventory_clear(&out);

	/* an override file: supported speeds checked, nothing derived */
	const char *part = "{\"netd:inventory\":{\"nic\":[{\"name\":\"up0\",\"speed-class\":1000},"
			   "{\"name\":\"nic1\",\"supported-speed\":[1000,25000]}]}}";
	assert_int_equal(cdtj_inventory_parse(ctx, part, CDTJ_INV_PARTIAL, "/f", &out, &e), 0);
	assert_int_equal(out.nics[0].speed_class, 1000);
	assert_int_equal(out.nics[0].supported, 0);
	assert_int_equal(out.nics[1].speed_class, 0);
	assert_int_equal(out.nics[1].supported, cdt_link_speed_bit(1000) | cdt_link_speed_bit(25000));
	cdtj_inventory_clear(&out);
	const char *bad = "{\"netd:inventory\":{\"nic\":[{\"name\":\"nic1\",\"supported-speed\":[3000]}]}}";
	memset(&e, 0, sizeof e);
	assert_int_equal(cdtj_inventory_parse(ctx, bad, CDTJ_INV_PARTIAL, "/f", &out, &e), NETD_EINVAL);
	assert_string_equal(e.path, "/f/nic[name='nic1']/supported-speed");
	assert_non_null(strstr(e.msg, "3000 Mb/s is not the speed of a link mode"));
	assert_null(out.nics);
}

static void test_inventory_refusals(void **state)
{
	static const struct {
		const char *json, *path, *msg;
	} bad[] = {
		{ "{\"netd:inventory\":{\"nic\":[{\"name\":\"eth0\"}]}}", "/x/inventory/nic[name='eth0']/mac", "MAC" },
		{ "{\"netd:inventory\":{\"nic\":[{\"name\":\"eth0\",\"mac\":\"52:54:00:00:00:01\",\"pci\":\"0000:03:00.0\"},"
		  "{\"name\":\"eth1\",\"mac\":\"52:54:00:00:00:02\",\"pci\":\"0000:03:00.0\"}]}}",
		  "/x/inventory/nic[name='eth1']/pci", "same value as NIC" },
		{ "{\"netd:inventory\":{\"nic\":[{\"name\":\"eth0\",\"mac\":\"52:54:00:00:00:01\","
		  "\"permanent-mac\":\"52:54:00:00:00:09\"},{\"name\":\"eth1\",\"mac\":\"52:54:00:00:00:02\","
		  "\"permanent-mac\":\"52:54:00:00:00:09\"}]}}",
		  "/x/inventory/nic[name='eth1']/permanent-mac", "same value" },
		{ "{\"netd:inventory\":{\"nic\":[{\"name\":\"eth0\",\"mac\":\"52:54:00:00:00:01\",\"pci\":\"3:0.0\"}]}}",
		  "/x/inventory/nic[name='eth0']/pci", "PCI" },
		{ "{\"netd:inventory\":{\"nic\":[{\"name\":\"eth0/1\",\"mac\":\"52:54:00:00:00:01\"}]}}", "name", NULL },
		{ "{\"netd:inventory\":{\"nic\":[{\"name\":\"eth0\",\"mac\":\"52:54:00:00:00:0g\"}]}}", "mac", NULL },
		{ "{\"netd:inventory\":{\"nic\":[{\"name\":\"eth0\",\"speed\":\"fast\"}]}}", "speed", NULL },
		{ "{\"netd:inventory\":{\"nic\":[{\"name\":\"eth0\",\"mac\":\"52:54:00:00:00:01\","
		  "\"supported-speed\":[1000,3000]}]}}",
		  "/x/inventory/nic[name='eth0']/supported-speed", "3000 Mb/s is not the speed of a link mode" },
		{ "{\"netd:inventory\":{\"nic\":[{\"name\":\"eth0\",\"mac\":\"52:54:00:00:00:01\","
		  "\"speed-class\":1000,\"supported-speed\":[1000,10000]}]}}",
		  "/x/inventory/nic[name='eth0']/speed-class",
		  "speed class 1000 Mb/s is not its fastest supported speed (10000 Mb/s)" },
		{ "{\"netd:inventory\":{\"nic\":[{\"name\":\"eth0\",\"mac\":\"52:54:00:00:00:01\","
		  "\"supported-speed\":[\"fast\"]}]}}", "supported-speed", NULL },
		{ "{\"netd:plan\":{}}", NULL, "not found" },
		{ "{}", NULL, "holds no netd:inventory" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cdtj_inventory out = { 0 };
		struct netd_err e = { 0 };
		int rc = cdtj_inventory_parse(ctx, bad[i].json, 0, "/x/inventory", &out, &e);
		if (rc != NETD_EINVAL)
			fail_msg("bad inventory %zu: rc %d, want NETD_EINVAL (%s)", i, rc, bad[i].json);
		if (bad[i].path && !strstr(e.path, bad[i].path))
			fail_msg("bad inventory %zu: path \"%s\" lacks \"%s\"", i, e.path, bad[i].path);
		if (bad[i].msg && !strstr(e.msg, bad[i].msg))
			fail_msg("bad inventory %zu: message \"%s\" lacks \"%s\"", i, e.msg, bad[i].msg);
		assert_null(out.nics);
	}
}

/* An override file: names only, the rest as stated. */
static void test_inventory_partial(void **state)
{
	const char *json = "{\"netd:inventory\":{\"product-name\":\"lab\",\"nic\":[{\"name\":\"up0\",\"speed-class\":1000},"
			   "{\"name\":\"nic1\",\"speed-class\":10000,\"pci\":\"0000:03:00.0\",\"driver\":\"veth\"}]}}";
	struct cdtj_inventory out = { 0 };
	struct netd_err e = { 0 };
	assert_int_equal(cdtj_inventory_parse(ctx, json, 0, "/f", &out, &e), NETD_EINVAL);   /* no MACs */
	memset(&e, 0, sizeof e);
	assert_int_equal(cdtj_inventory_parse(ctx, json, CDTJ_INV_PARTIAL, "/f", &out, &e), 0);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.product, "lab");
	assert_string_equal(out.nics[0].name, "up0");
	assert_int_equal(out.nics[0].speed_class, 1000);
	assert_string_equal(out.nics[1].pci, "0000:03:00.0");
	assert_string_equal(out.nics[1].driver, "veth");
	assert_false(out.nics[1].has_perm_mac);
	cdtj_inventory_clear(&out);
}

static void test_time_parse(void **state)
{
	assert_int_equal(cdtj_time_parse("2026-11-26T08:00:00Z"), 1795680000);
	assert_int_equal(cdtj_time_parse("2026-11-26T08:00:00+00:00"), 1795680000);
	assert_int_equal(cdtj_time_parse("2026-11-26T08:00:00.250Z"), 1795680000);
	assert_int_equal(cdtj_time_parse("2026-11-26T08:00:00+01:00"), 0);   /* only UTC is written */
	assert_int_equal(cdtj_time_parse("yesterday"), 0);
	assert_int_equal(cdtj_time_parse(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_round_trip),
		cmocka_unit_test(test_plan_empty_and_no_meta),
		cmocka_unit_test(test_plan_order),
		cmocka_unit_test(test_plan_refusals),
		cmocka_unit_test(test_inventory_round_trip),
		cmocka_unit_test(test_inventory_refusals),
		cmocka_unit_test(test_inventory_partial),
		cmocka_unit_test(test_inventory_speeds),
		cmocka_unit_test(test_time_parse),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
