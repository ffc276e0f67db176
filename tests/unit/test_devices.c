/* tests/unit/test_devices.c — devices/: Q-BRIDGE port lists, desired port
 * state, guardrails, and the difference against actual switch state, with
 * the idempotence property on seeded random scenarios.  Table-driven; links
 * only the devices library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "devices/devices.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void want_substr(const char *what, const char *got, const char *want)
{
	if (!strstr(got, want))
		fail_msg("%s: message \"%s\" lacks \"%s\"", what, got, want);
}

/* ---- port lists ---- */

static void test_portlist_bit_order(void **state)
{
	static const struct {
		unsigned port;
		size_t octet;
		uint8_t mask;
	} cases[] = {
		{ 1, 0, 0x80 }, { 2, 0, 0x40 }, { 8, 0, 0x01 }, { 9, 1, 0x80 },
		{ 16, 1, 0x01 }, { 48, 5, 0x01 }, { 4095, 511, 0x02 }, { 4096, 511, 0x01 },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct dev_portlist pl = { { 0 } }, want = { { 0 } };
		want.o[cases[i].octet] = cases[i].mask;
		assert_int_equal(dev_portlist_set(&pl, cases[i].port), 0);
		assert_memory_equal(&pl, &want, sizeof pl);
		assert_true(dev_portlist_test(&pl, cases[i].port));
		assert_int_equal(dev_portlist_count(&pl), 1);
		assert_int_equal(dev_portlist_clear(&pl, cases[i].port), 0);
		assert_false(dev_portlist_test(&pl, cases[i].port));
		assert_int_equal(dev_portlist_count(&pl), 0);
	}
	struct dev_portlist pl = { { 0 } }, zero = { { 0 } };
	assert_int_equal(dev_portlist_set(&pl, 0), NETD_EINVAL);
	assert_int_equal(dev_portlist_set(&pl, DEV_PORTS_MAX + 1), NETD_EINVAL);
	assert_int_equal(dev_portlist_clear(&pl, 0), NETD_EINVAL);
	assert_false(dev_portlist_test(&pl, 0));
	assert_false(dev_portlist_test(&pl, DEV_PORTS_MAX + 1));
	assert_memory_equal(&pl, &zero, sizeof pl);
}

static void test_portlist_codec(void **state)
{
	static const struct {
		unsigned nports;
		const char *in;
		size_t len;
		int rc;
		const char *hex;     /* of the re-encoding; "" when refused */
		const char *msg;     /* substring of the refusal */
	} cases[] = {
		{ 48, "\x80\x00\x00\x00\x00\x01", 6, 0, "800000000001", NULL },
		{ 48, "\x80", 1, 0, "800000000000", NULL },                 /* short: padded */
		{ 48, "\xff\xff\xff\xff\xff\xff\x00\x00\x00", 9, 0, "ffffffffffff", NULL }, /* zero tail */
		{ 48, "", 0, 0, "000000000000", NULL },
		{ 10, "\xff\xc0", 2, 0, "ffc0", NULL },
		{ 10, "\xff\xe0", 2, NETD_EINVAL, "", "port 11 is set but the switch has 10 ports" },
		{ 48, "\x00\x00\x00\x00\x00\x00\x00\x01", 8, NETD_EINVAL, "", "port 64" },
		{ 1, "\x80", 1, 0, "80", NULL },
		{ 0, "\x80", 1, NETD_EINVAL, "", "port count 0" },
		{ 4097, "", 0, NETD_EINVAL, "", "port count 4097" },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct dev_portlist pl, keep;
		struct netd_err e = { 0 };
		memset(&pl, 0x33, sizeof pl);
		keep = pl;
		int rc = dev_portlist_decode((const uint8_t *)cases[i].in, cases[i].len, cases[i].nports,
					     "egress of VLAN 10", &pl, &e);
		assert_int_equal(rc, cases[i].rc);
		if (rc) {
			assert_memory_equal(&pl, &keep, sizeof pl);
			want_substr("decode", e.msg, cases[i].msg);
			want_substr("decode", e.msg, "egress of VLAN 10");
			continue;
		}
		uint8_t enc[DEV_PORTLIST_OCTETS];
		char hex[DEV_PORTLIST_HEX_MAX];
		size_t n = (cases[i].nports + 7) / 8;
		assert_int_equal(dev_portlist_encode(&pl, cases[i].nports, enc, sizeof enc), (int)n);
		assert_string_equal(dev_portlist_hex(&pl, cases[i].nports, hex, sizeof hex), cases[i].hex);
		struct dev_portlist back;
		assert_int_equal(dev_portlist_decode(enc, n, cases[i].nports, "x", &back, &e), 0);
		assert_memory_equal(&back, &pl, sizeof pl);
		assert_int_equal(dev_portlist_encode(&pl, cases[i].nports, enc, n - 1), -ENOSPC);
	}
	/* encode refuses a list with a port beyond the switch; hex cuts to fit */
	struct dev_portlist pl = { { 0 } };
	uint8_t enc[8];
	char small[5];
	dev_portlist_set(&pl, 9);
	assert_int_equal(dev_portlist_encode(&pl, 8, enc, sizeof enc), NETD_EINVAL);
	dev_portlist_set(&pl, 1);
	assert_string_equal(dev_portlist_hex(&pl, 48, small, sizeof small), "8080");
}

/* ---- fixtures ---- */

static const struct dev_range allowed_vlans[] = { { 10, 20 }, { 100, 110 }, { 999, 999 } };
static const struct dev_range allowed_ports[] = { { 1, 40 } };

static struct dev_switch sw48(void)
{
	struct dev_switch sw = { .name = "sw1", .nports = 48, .vlans = allowed_vlans, .n_vlans = 3,
				 .ports = allowed_ports, .n_ports = 1, .idle_vlan = 999 };
	return sw;
}

static const struct dev_net n_admin = { "admin", 10, false };
static const struct dev_net n_stor = { "storage", 100, true };
static const struct dev_net n_pub = { "public", 101, true };
static const struct dev_net n_bmc = { "bmc", 11, false };
static const struct dev_net n_outside = { "lab", 50, true };
static const struct dev_net n_novlan = { "flat", 0, false };

#define NETS(...) ((const struct dev_net[]){ __VA_ARGS__ }), (sizeof((const struct dev_net[]){ __VA_ARGS__ }) / sizeof(struct dev_net))

/* ---- desired state ---- */

struct want_case {
	const char *name;
	struct dev_link links[4];
	size_t n_links;
	struct dev_nic nics[4];
	size_t n_nics;
	unsigned port;                 /* port checked */
	uint16_t pvid;
	uint16_t tagged[4];            /* 0-terminated */
	bool released;
	size_t n_lags;
	unsigned lag_ports[2];
};

static void check_want(const struct want_case *c)
{
	struct dev_switch sw = sw48();
	struct dev_desired d;
	struct netd_err e = { 0 };

	int rc = dev_desired(&sw, c->links, c->n_links, c->nics, c->n_nics, &d, &e);
	if (rc)
		fail_msg("%s: %d %s", c->name, rc, e.msg);
	const struct dev_port_want *w = NULL;
	for (size_t i = 0; i < d.n_ports; i++)
		if (d.ports[i].port == c->port)
			w = &d.ports[i];
	assert_non_null(w);
	assert_int_equal(w->pvid, c->pvid);
	assert_int_equal(w->released, c->released);
	size_t nt = 0;
	for (unsigned v = 1; v <= DEV_VLAN_MAX; v++)
		nt += dev_vlanset_test(&w->tagged, v);
	size_t k = 0;
	for (; k < 4 && c->tagged[k]; k++)
		assert_true(dev_vlanset_test(&w->tagged, c->tagged[k]));
	assert_int_equal(nt, k);
	assert_int_equal(d.n_lags, c->n_lags);
	if (c->n_lags) {
		assert_true(d.lags[0].snmp_unsupported);
		assert_int_equal(d.lags[0].n_ports, 2);
		assert_int_equal(d.lags[0].ports[0], c->lag_ports[0]);
		assert_int_equal(d.lags[0].ports[1], c->lag_ports[1]);
	}
	dev_desired_free(&d);
	dev_desired_free(&d);
	dev_desired_free(NULL);
}

static void test_desired(void **state)
{
	const struct want_case cases[] = {
		{ "access", { { 1, "n1", "eth0", { 0 } } }, 1, { { "n1", "eth0", "", 0, NETS(n_admin) } }, 1,
		  1, 10, { 0 }, false, 0, { 0 } },
		{ "trunk", { { 2, "n1", "eth1", { 0 } } }, 1, { { "n1", "eth1", "", 0, NETS(n_stor, n_pub) } }, 1,
		  2, 999, { 100, 101, 0 }, false, 0, { 0 } },
		{ "mixed", { { 3, "n1", "eth0", { 0 } } }, 1, { { "n1", "eth0", "", 0, NETS(n_admin, n_stor) } }, 1,
		  3, 10, { 100, 0 }, false, 0, { 0 } },
		{ "released (no networks)", { { 4, "n2", "eth0", { 0 } } }, 1, { { "n2", "eth0", "", 0, NULL, 0 } }, 1,
		  4, 999, { 0 }, true, 0, { 0 } },
		{ "released (no NIC entry)", { { 5, "n3", "eth0", { 0 } } }, 1, { { "", "", "", 0, NULL, 0 } }, 0,
		  5, 999, { 0 }, true, 0, { 0 } },
		{ "LAG 802.3ad", { { 7, "n1", "eth1", { 0 } }, { 6, "n1", "eth0", { 0 } } }, 2,
		  { { "n1", "eth0", "bond0", TEAM_802_3AD, NETS(n_admin) },
		    { "n1", "eth1", "bond0", TEAM_802_3AD, NETS(n_admin) } }, 2,
		  6, 10, { 0 }, false, 1, { 7, 6 } },
		{ "no LAG for balance-alb", { { 7, "n1", "eth1", { 0 } }, { 6, "n1", "eth0", { 0 } } }, 2,
		  { { "n1", "eth0", "bond0", TEAM_BALANCE_ALB, NETS(n_admin) },
		    { "n1", "eth1", "bond0", TEAM_BALANCE_ALB, NETS(n_admin) } }, 2,
		  7, 10, { 0 }, false, 0, { 0 } },
		{ "no LAG for one port", { { 8, "n1", "eth0", { 0 } } }, 1,
		  { { "n1", "eth0", "bond0", TEAM_ACTIVE_BACKUP, NETS(n_admin) } }, 1, 8, 10, { 0 }, false, 0, { 0 } },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		check_want(&cases[i]);
}

static void test_guardrails(void **state)
{
	static const struct dev_range only_10[] = { { 10, 10 } };
	const struct {
		const char *name;
		struct dev_link link;
		struct dev_nic nic;
		bool idle_not_allowed, dup_link;
		int rc;
		const char *msg[3];
	} cases[] = {
		{ "port not allowed", { 41, "n1", "eth0", { 0 } }, { "n1", "eth0", "", 0, NETS(n_admin) }, false, false,
		  NETD_EPERM, { "switch sw1 port 41", "not in the allowed ports", "n1" } },
		{ "port beyond switch", { 49, "n1", "eth0", { 0 } }, { "n1", "eth0", "", 0, NETS(n_admin) }, false, false,
		  NETD_EINVAL, { "switch sw1 port 49", "48 ports", "" } },
		{ "VLAN not allowed", { 1, "n1", "eth0", { 0 } }, { "n1", "eth0", "", 0, NETS(n_admin, n_outside) }, false,
		  false, NETD_EPERM, { "switch sw1 port 1", "VLAN 50", "not in the allowed VLANs" } },
		{ "two untagged", { 1, "n1", "eth0", { 0 } }, { "n1", "eth0", "", 0, NETS(n_admin, n_bmc) }, false, false,
		  NETD_EINVAL, { "switch sw1 port 1", "different untagged VLANs 10 and 11", "admin and bmc" } },
		{ "untagged without VLAN id", { 1, "n1", "eth0", { 0 } }, { "n1", "eth0", "", 0, NETS(n_novlan) }, false,
		  false, NETD_EINVAL, { "switch sw1 port 1", "network flat has VLAN 0", "" } },
		{ "tagged and untagged", { 1, "n1", "eth0", { 0 } },
		  { "n1", "eth0", "", 0, NETS(n_admin, ((struct dev_net){ "adm-t", 10, true })) }, false, false,
		  NETD_EINVAL, { "switch sw1 port 1", "VLAN 10", "both untagged and tagged" } },
		{ "idle VLAN not allowed", { 1, "n1", "eth0", { 0 } }, { "n1", "eth0", "", 0, NETS(n_admin) }, true, false,
		  NETD_EPERM, { "switch sw1", "idle VLAN 999", "not in the allowed VLANs" } },
		{ "two links on one port", { 1, "n1", "eth0", { 0 } }, { "n1", "eth0", "", 0, NETS(n_admin) }, false, true,
		  NETD_EINVAL, { "switch sw1 port 1", "linked to both", "" } },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct dev_switch sw = sw48();
		struct dev_desired d;
		struct dev_link links[2] = { cases[i].link, cases[i].link };
		struct netd_err e = { 0 };
		if (cases[i].idle_not_allowed) {
			sw.vlans = only_10;
			sw.n_vlans = 1;
		}
		memset(&d, 0x44, sizeof d);
		struct dev_desired keep = d;
		strcpy(links[1].node, "n9");
		int rc = dev_desired(&sw, links, cases[i].dup_link ? 2 : 1, &cases[i].nic, 1, &d, &e);
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, want %d (%s)", cases[i].name, rc, cases[i].rc, e.msg);
		assert_memory_equal(&d, &keep, sizeof d);
		for (size_t k = 0; k < 3; k++)
			want_substr(cases[i].name, e.msg, cases[i].msg[k]);
		want_substr(cases[i].name, e.path, "switch[name='sw1']");
	}
}

/* ---- diffs ---- */

static struct dev_actual *actual_new(unsigned nports)
{
	struct dev_actual *a = calloc(1, sizeof *a);
	assert_non_null(a);
	a->nports = nports;
	return a;
}

static void actual_del(struct dev_actual *a)
{
	dev_actual_free(a);
	free(a);
}

static void add_row(struct dev_actual *a, uint16_t vlan, const char *name, const unsigned *e, const unsigned *u)
{
	a->rows = realloc(a->rows, (a->n_rows + 1) * sizeof *a->rows);
	assert_non_null(a->rows);
	struct dev_vlan_row *r = &a->rows[a->n_rows++];
	memset(r, 0, sizeof *r);
	r->vlan = vlan;
	snprintf(r->name, sizeof r->name, "%s", name);
	for (; e && *e; e++)
		dev_portlist_set(&r->egress, *e);
	for (; u && *u; u++)
		dev_portlist_set(&r->untagged, *u);
}

/* Diff, compare op texts with @want (NULL-terminated), apply, and check a
 * second diff is empty. */
static void diff_expect(const char *name, const struct dev_switch *sw, const struct dev_link *links, size_t nl,
			const struct dev_nic *nics, size_t nn, struct dev_actual *a, const char *const *want)
{
	struct dev_desired d;
	struct dev_op *ops;
	size_t n;
	struct netd_err e = { 0 };
	char buf[256];

	assert_int_equal(dev_desired(sw, links, nl, nics, nn, &d, &e), 0);
	if (dev_diff(sw, &d, a, &ops, &n, &e))
		fail_msg("%s: diff: %s", name, e.msg);
	size_t k = 0;
	for (; want[k]; k++) {
		if (k >= n)
			fail_msg("%s: op %zu missing, want \"%s\"", name, k, want[k]);
		dev_op_print(&ops[k], sw->nports, buf, sizeof buf);
		if (strcmp(buf, want[k]))
			fail_msg("%s: op %zu is \"%s\", want \"%s\"", name, k, buf, want[k]);
	}
	if (k != n)
		fail_msg("%s: %zu ops, want %zu (extra: %s)", name, n, k, dev_op_print(&ops[k], sw->nports, buf, sizeof buf));
	assert_int_equal(dev_apply_to_state(a, ops, n), 0);
	free(ops);
	assert_int_equal(dev_diff(sw, &d, a, &ops, &n, &e), 0);
	if (n)
		fail_msg("%s: second diff not empty: %s", name, dev_op_print(&ops[0], sw->nports, buf, sizeof buf));
	assert_null(ops);
	dev_desired_free(&d);
}

static void test_diff_sequence(void **state)
{
	struct dev_switch sw = sw48();
	struct dev_actual *a = actual_new(48);
	struct dev_nic nics[2] = { { "n1", "eth0", "", 0, NETS(n_admin) }, { "n1", "eth1", "", 0, NETS(n_stor) } };
	const struct dev_link links[2] = { { 1, "n1", "eth0", { 0 } }, { 2, "n1", "eth1", { 0 } } };
	(void)state;

	/* A foreign row (not ours, not allowed port 45 in it) and a foreign
	 * allowed row with port 1: port 1 leaves it, the row stays. */
	const unsigned p45[] = { 45, 0 }, p1_45[] = { 1, 45, 0 };
	add_row(a, 1, "default", p45, p45);
	add_row(a, 12, "ops-vlan", p1_45, p1_45);
	/* A foreign row left empty once port 2 leaves it: never deleted. */
	const unsigned p2[] = { 2, 0 };
	add_row(a, 13, "ops-13", p2, NULL);
	a->pvid[1] = 12;
	a->pvid[45] = 1;

	static const char *const scratch[] = {
		"create 10 netd-admin", "create 100 netd-storage", "create 999 netd-idle",
		"ports 10 egress 800000000000 untagged 800000000000",
		"ports 100 egress 400000000000 untagged 000000000000",
		"ports 999 egress 400000000000 untagged 400000000000",
		"pvid 1 10", "pvid 2 999",
		"ports 12 egress 000000000008 untagged 000000000008",
		"ports 13 egress 000000000000 untagged 000000000000", NULL
	};
	diff_expect("from scratch", &sw, links, 2, nics, 2, a, scratch);
	assert_int_equal(a->pvid[45], 1);

	static const char *const noop[] = { NULL };
	diff_expect("no-op", &sw, links, 2, nics, 2, a, noop);

	/* VLAN added: eth1 also carries public (101) tagged. */
	nics[1].nets = (const struct dev_net[]){ n_stor, n_pub };
	nics[1].n_nets = 2;
	static const char *const added[] = {
		"create 101 netd-public", "ports 101 egress 400000000000 untagged 000000000000", NULL
	};
	diff_expect("VLAN added", &sw, links, 2, nics, 2, a, added);

	/* Port moved: eth0's untagged network becomes bmc (11); VLAN 10 is
	 * netd's and left empty, so it goes. */
	nics[0].nets = &n_bmc;
	static const char *const moved[] = {
		"create 11 netd-bmc", "ports 11 egress 800000000000 untagged 800000000000", "pvid 1 11",
		"ports 10 egress 000000000000 untagged 000000000000", "delete 10", NULL
	};
	diff_expect("port moved", &sw, links, 2, nics, 2, a, moved);

	/* Released: both NICs lose their networks. */
	nics[0].n_nets = nics[1].n_nets = 0;
	static const char *const released[] = {
		"ports 999 egress c00000000000 untagged c00000000000", "pvid 1 999",
		"ports 11 egress 000000000000 untagged 000000000000",
		"ports 100 egress 000000000000 untagged 000000000000",
		"ports 101 egress 000000000000 untagged 000000000000",
		"delete 11", "delete 100", "delete 101", NULL
	};
	diff_expect("released", &sw, links, 2, nics, 2, a, released);
	assert_int_equal(a->n_rows, 4);   /* default, ops-vlan, ops-13, netd-idle */
	for (size_t i = 0; i < a->n_rows; i++)
		assert_true(a->rows[i].vlan == 1 || a->rows[i].vlan == 12 || a->rows[i].vlan == 13 ||
			    a->rows[i].vlan == 999);
	actual_del(a);
}

static void test_diff_refusals(void **state)
{
	struct dev_switch sw = sw48();
	struct dev_actual *a = actual_new(48);
	struct dev_desired d = { 0 };
	struct dev_op *ops = (struct dev_op *)&d;
	size_t n = 77;
	struct netd_err e = { 0 };
	(void)state;

	/* actual state of another size */
	struct dev_actual *b = actual_new(24);
	assert_int_equal(dev_diff(&sw, &d, b, &ops, &n, &e), NETD_EINVAL);
	want_substr("size", e.msg, "24 ports");
	assert_int_equal(n, 77);
	actual_del(b);

	/* hand-made ops outside the guardrails */
	struct dev_op bad[4];
	memset(bad, 0, sizeof bad);
	bad[0].kind = DEV_OP_PVID, bad[0].port = 45, bad[0].pvid = 10;
	bad[1].kind = DEV_OP_VLAN_CREATE, bad[1].vlan = 4000;
	bad[2].kind = DEV_OP_VLAN_PORTS, bad[2].vlan = 10;
	dev_portlist_set(&bad[2].egress, 41);
	add_row(a, 12, "ops-vlan", NULL, NULL);
	bad[3].kind = DEV_OP_VLAN_DELETE, bad[3].vlan = 12;
	const char *msgs[] = { "port 45 VLAN 10: port is not in the allowed ports",
			       "VLAN 4000: VLAN is not in the allowed VLANs",
			       "port 41 VLAN 10: port is not in the allowed ports",
			       "row \"ops-vlan\" was not created by netd" };
	for (size_t i = 0; i < 4; i++) {
		netd_err_clear(&e);
		assert_int_equal(dev_ops_check(&sw, a, &bad[i], 1, &e), NETD_EPERM);
		want_substr("ops_check", e.msg, "switch sw1");
		want_substr("ops_check", e.msg, msgs[i]);
	}
	/* apply: conflicts and missing rows */
	struct dev_op op;
	memset(&op, 0, sizeof op);
	op.kind = DEV_OP_VLAN_PORTS, op.vlan = 12;
	dev_portlist_set(&op.old_egress, 3);
	assert_int_equal(dev_apply_to_state(a, &op, 1), NETD_ECONFLICT);
	op.vlan = 13;
	assert_int_equal(dev_apply_to_state(a, &op, 1), NETD_ENOTFOUND);
	op.kind = DEV_OP_VLAN_CREATE, op.vlan = 12;
	assert_int_equal(dev_apply_to_state(a, &op, 1), NETD_EEXIST);
	op.kind = DEV_OP_PVID, op.port = 3, op.old_pvid = 5, op.pvid = 10;
	assert_int_equal(dev_apply_to_state(a, &op, 1), NETD_ECONFLICT);
	actual_del(a);
}

/* ---- random scenarios ---- */

static uint64_t rng;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

#define RP 48
static const uint16_t rvlans[8] = { 10, 11, 12, 100, 101, 102, 999, 4000 };   /* 4000: not allowed */

static void random_actual(struct dev_actual *a)
{
	for (size_t i = 0; i < 8; i++) {
		if (rnd(2))
			continue;
		char name[16];
		snprintf(name, sizeof name, "%s%u", rnd(2) ? "netd-" : "ops-", rvlans[i]);
		add_row(a, rvlans[i], name, NULL, NULL);
		struct dev_vlan_row *r = &a->rows[a->n_rows - 1];
		for (unsigned p = 1; p <= RP; p++) {
			if (!rnd(4))
				dev_portlist_set(&r->egress, p);
			if (!rnd(6))
				dev_portlist_set(&r->untagged, p);
		}
	}
	for (unsigned p = 1; p <= RP; p++)
		a->pvid[p] = rnd(3) ? rvlans[rnd(8)] : 1;
}

struct rscen {
	struct dev_link links[RP];
	struct dev_nic nics[RP];
	struct dev_net nets[RP][8];
	size_t n;
};

static void random_links(struct rscen *s)
{
	memset(s, 0, sizeof *s);
	for (unsigned p = 1; p <= 40; p++) {   /* allowed ports only */
		if (rnd(3) == 0)
			continue;
		struct dev_link *l = &s->links[s->n];
		struct dev_nic *ni = &s->nics[s->n];
		struct dev_net *nets = s->nets[s->n];
		size_t k = 0;
		l->port = p;
		snprintf(l->node, sizeof l->node, "n%u", p / 2);
		snprintf(l->nic, sizeof l->nic, "eth%u", p % 2);
		memcpy(ni->node, l->node, sizeof ni->node);
		memcpy(ni->nic, l->nic, sizeof ni->nic);
		int untag = rnd(7) < 3 ? (int)rnd(7) : -1;   /* index into allowed rvlans[0..6] */
		if (untag >= 0 && rvlans[untag] != 999)
			nets[k++] = (struct dev_net){ "u", rvlans[untag], false };
		for (int v = 0; v < 6; v++)
			if (v != untag && !rnd(3))
				nets[k++] = (struct dev_net){ "t", rvlans[v], true };
		ni->nets = nets;
		ni->n_nets = rnd(8) ? k : 0;   /* sometimes released */
		s->n++;
	}
}

/* The state after the ops: managed ports exactly as desired for allowed
 * VLANs; everything else as it was. */
static void check_converged(const struct dev_switch *sw, const struct dev_desired *d, const struct dev_actual *before,
			    const struct dev_actual *after)
{
	for (unsigned p = 1; p <= RP; p++) {
		const struct dev_port_want *w = NULL;
		for (size_t k = 0; k < d->n_ports; k++)
			if (d->ports[k].port == p)
				w = &d->ports[k];
		assert_int_equal(after->pvid[p], w ? w->pvid : before->pvid[p]);
		for (size_t i = 0; i < 8; i++) {
			const struct dev_vlan_row *rb = NULL, *ra = NULL;
			for (size_t k = 0; k < before->n_rows; k++)
				if (before->rows[k].vlan == rvlans[i])
					rb = &before->rows[k];
			for (size_t k = 0; k < after->n_rows; k++)
				if (after->rows[k].vlan == rvlans[i])
					ra = &after->rows[k];
			bool ae = ra && dev_portlist_test(&ra->egress, p), au = ra && dev_portlist_test(&ra->untagged, p);
			bool be = rb && dev_portlist_test(&rb->egress, p), bu = rb && dev_portlist_test(&rb->untagged, p);
			if (rvlans[i] == 4000) {
				assert_true(ra == rb || (ra && rb));
				assert_int_equal(ae, be);
				assert_int_equal(au, bu);
			} else if (w) {
				assert_int_equal(ae, w->pvid == rvlans[i] || dev_vlanset_test(&w->tagged, rvlans[i]));
				assert_int_equal(au, w->pvid == rvlans[i]);
			} else if (ra) {
				assert_int_equal(ae, be);
				assert_int_equal(au, bu);
			}
			if (rb && !ra)
				assert_true(dev_vlan_owned(rb->name));
		}
	}
	(void)sw;
}

static struct dev_actual *actual_copy(const struct dev_actual *a)
{
	struct dev_actual *c = actual_new(a->nports);
	memcpy(c->pvid, a->pvid, sizeof c->pvid);
	for (size_t i = 0; i < a->n_rows; i++) {
		add_row(c, a->rows[i].vlan, a->rows[i].name, NULL, NULL);
		c->rows[i] = a->rows[i];
	}
	return c;
}

static void test_diff_random(void **state)
{
	static const struct dev_range rv[] = { { 10, 12 }, { 100, 102 }, { 999, 999 } };
	struct dev_switch sw = { .name = "rsw", .nports = RP, .vlans = rv, .n_vlans = 3,
				 .ports = allowed_ports, .n_ports = 1, .idle_vlan = 999 };
	struct rscen *s = malloc(sizeof *s);
	(void)state;
	assert_non_null(s);
	for (unsigned it = 0; it < 100; it++) {
		rng = 0x9e3779b97f4a7c15ull ^ (it * 0x100000001b3ull + 1);
		struct dev_actual *a = actual_new(RP), *before;
		struct dev_desired d;
		struct dev_op *ops;
		size_t n;
		struct netd_err e = { 0 };

		random_actual(a);
		before = actual_copy(a);
		random_links(s);
		if (dev_desired(&sw, s->links, s->n, s->nics, s->n, &d, &e))
			fail_msg("iteration %u: desired: %s", it, e.msg);
		if (dev_diff(&sw, &d, a, &ops, &n, &e))
			fail_msg("iteration %u: diff: %s", it, e.msg);
		assert_int_equal(dev_ops_check(&sw, a, ops, n, &e), 0);
		if (dev_apply_to_state(a, ops, n))
			fail_msg("iteration %u: apply failed", it);
		free(ops);
		check_converged(&sw, &d, before, a);
		assert_int_equal(dev_diff(&sw, &d, a, &ops, &n, &e), 0);
		if (n) {
			char buf[256];
			fail_msg("iteration %u: second diff has %zu ops, first %s", it, n,
				 dev_op_print(&ops[0], RP, buf, sizeof buf));
		}
		dev_desired_free(&d);
		actual_del(a);
		actual_del(before);
	}
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_portlist_bit_order),
		cmocka_unit_test(test_portlist_codec),
		cmocka_unit_test(test_desired),
		cmocka_unit_test(test_guardrails),
		cmocka_unit_test(test_diff_sequence),
		cmocka_unit_test(test_diff_refusals),
		cmocka_unit_test(test_diff_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
