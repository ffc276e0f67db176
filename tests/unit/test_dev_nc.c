/* tests/unit/test_dev_nc.c — the pure half of devices/' NETCONF driver:
 * capability parsing and model detection, the switched-vlan a wanted port
 * gets (access, trunk, native), plans against a switch state (idempotent
 * diff, one-port change, VLAN creation and deletion rules, LAGs with and
 * without openconfig-if-aggregate, port naming), the <edit-config> XML
 * (golden text, and parsed by libyang against the test switch's YANG
 * modules), trunk ranges, and libyang trees into switch state and
 * yang-library module lists.  Links only the devices library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libyang/libyang.h>

#include "devices/devices.h"
#include "devices/nc.h"

#ifndef NCSWITCH_YANG
#define NCSWITCH_YANG "tests/peers/ncswitch/yang"
#endif
#define YUMA_DIR "/usr/share/yuma/modules/ietf"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void want_substr(const char *what, const char *got, const char *want)
{
	if (!strstr(got, want))
		fail_msg("%s: \"%s\" lacks \"%s\"", what, got, want);
}

/* ---- capabilities ---- */

static const char *const oc_caps[] = {
	"urn:ietf:params:netconf:base:1.0",
	"urn:ietf:params:netconf:base:1.1",
	"urn:ietf:params:netconf:capability:candidate:1.0",
	"urn:ietf:params:netconf:capability:confirmed-commit:1.1",
	"urn:ietf:params:netconf:capability:validate:1.1",
	"urn:ietf:params:netconf:capability:yang-library:1.1?revision=2019-01-04&content-id=43",
	"http://openconfig.net/yang/interfaces?module=openconfig-interfaces&revision=2024-01-01&deviations=dev-a,dev-b",
	"http://openconfig.net/yang/interfaces/ethernet?module=openconfig-if-ethernet&revision=2024-01-01",
	"http://openconfig.net/yang/vlan?module=openconfig-vlan&revision=2023-02-07",
	"http://openconfig.net/yang/vlan?module=openconfig-vlan&revision=2024-01-01",
	"urn:x:dev-a?module=dev-a&revision=2024-01-01",
	NULL,
};

static void test_caps_parse(void **state)
{
	(void)state;
	struct dev_nc_caps c;
	assert_int_equal(dev_nc_caps_parse(oc_caps, &c), 0);
	assert_true(c.base11 && c.candidate && c.confirmed_commit && c.validate && c.yang_library);
	assert_false(c.writable_running || c.rollback_on_error || c.confirmed_commit10 || c.yuma);
	assert_int_equal(c.n_mods, 4);   /* openconfig-vlan once, the later revision */
	const struct dev_nc_module *m = dev_nc_caps_module(&c, "openconfig-vlan");
	assert_non_null(m);
	assert_string_equal(m->revision, "2024-01-01");
	m = dev_nc_caps_module(&c, "openconfig-interfaces");
	assert_string_equal(m->ns, "http://openconfig.net/yang/interfaces");
	assert_string_equal(m->deviated_by, "dev-a,dev-b");
	assert_true(m->implemented);
	assert_null(dev_nc_caps_module(&c, "ietf-interfaces"));

	struct dev_nc_model model;
	struct netd_err e = { 0 };
	assert_int_equal(dev_nc_detect("sw1", &c, &model, &e), 0);
	assert_int_equal(model.family, DEV_NC_FAMILY_OPENCONFIG);
	assert_false(model.lag);
	assert_string_equal(model.vlan_module, "openconfig-vlan");

	char text[64];
	dev_nc_caps_text(&c, text, sizeof text);
	assert_int_equal(strlen(text), sizeof text - 1);
	assert_string_equal(text + strlen(text) - 3, "...");
	dev_nc_caps_free(&c);
	assert_null(c.mods);
}

static void test_caps_yuma_unsupported(void **state)
{
	(void)state;
	static const char *const caps[] = {
		"urn:ietf:params:netconf:base:1.0",
		"urn:ietf:params:netconf:capability:writable-running:1.0",
		"urn:ietf:params:netconf:capability:rollback-on-error:1.0",
		"urn:ietf:params:netconf:capability:confirmed-commit:1.0",
		"urn:ietf:params:xml:ns:yang:ietf-interfaces?module=ietf-interfaces&revision=2014-05-08&features=if-mib",
		"http://netconfcentral.org/ns/yuma-ncx?module=yuma-ncx&revision=2012-01-13",
		"http://openconfig.net/yang/vlan?module=openconfig-vlan&revision=2024-01-01",
		NULL,
	};
	struct dev_nc_caps c;
	struct dev_nc_model model;
	struct netd_err e = { 0 };
	assert_int_equal(dev_nc_caps_parse(caps, &c), 0);
	assert_true(c.writable_running && c.rollback_on_error && c.confirmed_commit10 && c.yuma);
	assert_false(c.confirmed_commit || c.candidate);
	assert_int_equal(dev_nc_detect("edge-7", &c, &model, &e), NETD_EUNSUPPORTED);
	want_substr("detect", e.msg, "switch edge-7 advertises no VLAN model netd knows");
	want_substr("detect", e.msg, "ietf-interfaces@2014-05-08");
	want_substr("detect", e.msg, ":writable-running");
	dev_nc_caps_free(&c);

	/* with openconfig-if-aggregate: LAGs */
	static const char *const lag[] = {
		"http://openconfig.net/yang/interfaces?module=openconfig-interfaces",
		"http://openconfig.net/yang/interfaces/ethernet?module=openconfig-if-ethernet",
		"http://openconfig.net/yang/vlan?module=openconfig-vlan",
		"http://openconfig.net/yang/interfaces/aggregate?module=openconfig-if-aggregate",
		NULL,
	};
	assert_int_equal(dev_nc_caps_parse(lag, &c), 0);
	assert_int_equal(dev_nc_detect("sw", &c, &model, &e), 0);
	assert_true(model.lag);
	dev_nc_caps_free(&c);
}

/* ---- desired state ---- */

static const struct dev_range vlans_allowed[] = { { 1, 100 } };
static const struct dev_range ports_allowed[] = { { 1, 20 } };
static const struct dev_switch sw = {
	.name = "sw1", .nports = 24, .vlans = vlans_allowed, .n_vlans = 1,
	.ports = ports_allowed, .n_ports = 1, .idle_vlan = 99,
};

/* port 1 access 10; port 2 native 10 + 20,30; port 3 trunk 40 (native idle 99);
 * with @lag ports 4+5 a bond (802.3ad) with native 10 + 20. */
static void want3(struct dev_desired *d, bool lag, bool port2_without_30)
{
	static const struct dev_net admin = { "admin", 10, false }, storage = { "storage", 20, true },
				    vm = { "vm", 30, true }, backup = { "backup", 40, true };
	struct dev_link links[5] = {
		{ .port = 1, .node = "n1", .nic = "eth0" }, { .port = 2, .node = "n2", .nic = "eth0" },
		{ .port = 3, .node = "n3", .nic = "eth0" }, { .port = 4, .node = "n4", .nic = "eth0" },
		{ .port = 5, .node = "n4", .nic = "eth1" },
	};
	struct dev_net n1[] = { admin }, n2[] = { admin, storage, vm }, n3[] = { backup }, n4[] = { admin, storage };
	struct dev_nic nics[5] = {
		{ .node = "n1", .nic = "eth0", .nets = n1, .n_nets = 1 },
		{ .node = "n2", .nic = "eth0", .nets = n2, .n_nets = port2_without_30 ? 2 : 3 },
		{ .node = "n3", .nic = "eth0", .nets = n3, .n_nets = 1 },
		{ .node = "n4", .nic = "eth0", .bond = "bond0", .team_mode = 4, .nets = n4, .n_nets = 2 },
		{ .node = "n4", .nic = "eth1", .bond = "bond0", .team_mode = 4, .nets = n4, .n_nets = 2 },
	};
	struct netd_err e = { 0 };
	size_t n = lag ? 5 : 3;
	if (dev_desired(&sw, links, n, nics, n, d, &e) < 0)
		fail_msg("dev_desired: %s", e.msg);
}

static void test_want_vlan(void **state)
{
	(void)state;
	struct dev_desired d = { 0 };
	struct dev_nc_swvlan v;
	want3(&d, false, false);
	assert_int_equal(d.n_ports, 3);
	dev_nc_want_vlan(&d.ports[0], &v);
	assert_int_equal(v.mode, DEV_NC_MODE_ACCESS);
	assert_int_equal(v.access_vlan, 10);
	assert_int_equal(v.native_vlan, 0);
	assert_int_equal(v.n_trunk, 0);
	dev_nc_want_vlan(&d.ports[1], &v);
	assert_int_equal(v.mode, DEV_NC_MODE_TRUNK);
	assert_int_equal(v.native_vlan, 10);
	assert_int_equal(v.access_vlan, 0);
	assert_int_equal(v.n_trunk, 2);
	assert_true(dev_vlanset_test(&v.trunk, 20) && dev_vlanset_test(&v.trunk, 30));
	dev_nc_want_vlan(&d.ports[2], &v);
	assert_int_equal(v.mode, DEV_NC_MODE_TRUNK);
	assert_int_equal(v.native_vlan, 99);   /* tagged only: the idle VLAN is native */
	assert_int_equal(v.n_trunk, 1);
	dev_desired_free(&d);
}

static const struct dev_nc_model oc = { .family = DEV_NC_FAMILY_OPENCONFIG, .lag = false, .vlan_module = "openconfig-vlan" };
static const struct dev_nc_model oc_lag = { .family = DEV_NC_FAMILY_OPENCONFIG, .lag = true, .vlan_module = "openconfig-vlan" };

/* A switch with eth1..eth8 (no VLAN settings), VLAN 1 "default",
 * VLAN 77 "netd-stale", VLAN 200 "netd-far" (outside the allowed VLANs),
 * VLAN 50 "users" (foreign, unused). */
static void base_state(struct dev_nc_state *st)
{
	memset(st, 0, sizeof *st);
	st->n_ifs = 8;
	st->ifs = calloc(st->n_ifs, sizeof *st->ifs);
	for (size_t i = 0; i < st->n_ifs; i++)
		snprintf(st->ifs[i].name, sizeof st->ifs[i].name, "eth%zu", i + 1);
	static const struct dev_nc_vlan v[] = { { 1, "default" }, { 77, "netd-stale" }, { 200, "netd-far" }, { 50, "users" } };
	st->n_vlans = ARRAY_LEN(v);
	st->vlans = malloc(sizeof v);
	memcpy(st->vlans, v, sizeof v);
}

/* Apply a plan to a state as a switch would (for the idempotence check). */
static void apply_plan(struct dev_nc_state *st, const struct dev_nc_plan *p)
{
	for (size_t i = 0; i < p->n_changes; i++) {
		const struct dev_nc_change *c = &p->changes[i];
		struct dev_nc_if *f = NULL;
		if (c->kind == DEV_NC_VLAN_CREATE) {
			st->vlans = realloc(st->vlans, (st->n_vlans + 1) * sizeof *st->vlans);
			st->vlans[st->n_vlans].id = c->vlan;
			snprintf(st->vlans[st->n_vlans++].name, DEV_VLAN_NAME_MAX, "%s", c->name);
			continue;
		}
		if (c->kind == DEV_NC_VLAN_DELETE) {
			for (size_t k = 0; k < st->n_vlans; k++)
				if (st->vlans[k].id == c->vlan)
					st->vlans[k] = st->vlans[--st->n_vlans];
			continue;
		}
		for (size_t k = 0; k < st->n_ifs; k++)
			if (!strcmp(st->ifs[k].name, c->ifname))
				f = &st->ifs[k];
		if (!f) {
			st->ifs = realloc(st->ifs, (st->n_ifs + 1) * sizeof *st->ifs);
			f = &st->ifs[st->n_ifs++];
			memset(f, 0, sizeof *f);
			snprintf(f->name, sizeof f->name, "%s", c->ifname);
		}
		if (c->kind == DEV_NC_PORT) {
			f->vlan = c->want;
			f->has_vlan = true;
			f->aggregate_id[0] = '\0';
		} else if (c->kind == DEV_NC_LAG) {
			f->vlan = c->want;
			f->has_vlan = true;
			f->is_lag = true;
			f->lag_type = c->lag_type;
		} else if (c->kind == DEV_NC_MEMBER) {
			snprintf(f->aggregate_id, sizeof f->aggregate_id, "%s", c->lag);
			memset(&f->vlan, 0, sizeof f->vlan);
			f->has_vlan = false;
		}
	}
}

static const char golden_base[] =
	"<interfaces xmlns=\"http://openconfig.net/yang/interfaces\">"
	"<interface><name>eth1</name><ethernet xmlns=\"http://openconfig.net/yang/interfaces/ethernet\">"
	"<switched-vlan xmlns=\"http://openconfig.net/yang/vlan\"><config xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" "
	"nc:operation=\"replace\"><interface-mode>ACCESS</interface-mode><access-vlan>10</access-vlan></config>"
	"</switched-vlan></ethernet></interface>"
	"<interface><name>eth2</name><ethernet xmlns=\"http://openconfig.net/yang/interfaces/ethernet\">"
	"<switched-vlan xmlns=\"http://openconfig.net/yang/vlan\"><config xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" "
	"nc:operation=\"replace\"><interface-mode>TRUNK</interface-mode><native-vlan>10</native-vlan>"
	"<trunk-vlans>20</trunk-vlans><trunk-vlans>30</trunk-vlans></config></switched-vlan></ethernet></interface>"
	"<interface><name>eth3</name><ethernet xmlns=\"http://openconfig.net/yang/interfaces/ethernet\">"
	"<switched-vlan xmlns=\"http://openconfig.net/yang/vlan\"><config xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" "
	"nc:operation=\"replace\"><interface-mode>TRUNK</interface-mode><native-vlan>99</native-vlan>"
	"<trunk-vlans>40</trunk-vlans></config></switched-vlan></ethernet></interface>"
	"</interfaces>"
	"<vlans xmlns=\"http://openconfig.net/yang/vlan\">"
	"<vlan><vlan-id>10</vlan-id><config><vlan-id>10</vlan-id><name>netd-admin</name></config></vlan>"
	"<vlan><vlan-id>20</vlan-id><config><vlan-id>20</vlan-id><name>netd-storage</name></config></vlan>"
	"<vlan><vlan-id>30</vlan-id><config><vlan-id>30</vlan-id><name>netd-vm</name></config></vlan>"
	"<vlan><vlan-id>40</vlan-id><config><vlan-id>40</vlan-id><name>netd-backup</name></config></vlan>"
	"<vlan><vlan-id>99</vlan-id><config><vlan-id>99</vlan-id><name>netd-idle</name></config></vlan>"
	"<vlan xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"delete\"><vlan-id>77</vlan-id></vlan>"
	"</vlans>";

static void test_plan_edit_golden(void **state)
{
	(void)state;
	struct dev_desired d = { 0 };
	struct dev_nc_state st;
	struct dev_nc_plan p;
	struct dev_nc_cfg cfg = { .name = "sw1" };
	struct netd_err e = { 0 };
	char *xml = NULL;
	want3(&d, false, false);
	base_state(&st);
	assert_int_equal(dev_nc_plan(&sw, &cfg, &oc, &d, &st, &p, &e), 0);
	assert_int_equal(p.n_changes, 9);
	assert_int_equal(dev_nc_edit_xml(&p, &xml), 0);
	assert_string_equal(xml, golden_base);
	free(xml);
	char text[512];
	dev_nc_plan_text(&p, text, sizeof text);
	want_substr("plan text", text, "eth3: TRUNK native 99 tagged 40 (was none)");
	want_substr("plan text", text, "VLAN 77: delete netd-stale (unused)");

	/* applied, planned again: nothing (idempotent); no edit XML */
	apply_plan(&st, &p);
	dev_nc_plan_free(&p);
	assert_int_equal(dev_nc_plan(&sw, &cfg, &oc, &d, &st, &p, &e), 0);
	assert_int_equal(p.n_changes, 0);
	assert_int_equal(dev_nc_edit_xml(&p, &xml), 0);
	assert_null(xml);
	dev_nc_plan_free(&p);

	/* port 2 drops VLAN 30: one port change, netd-vm deleted, nothing else */
	dev_desired_free(&d);
	want3(&d, false, true);
	assert_int_equal(dev_nc_plan(&sw, &cfg, &oc, &d, &st, &p, &e), 0);
	assert_int_equal(p.n_changes, 2);
	assert_int_equal(p.changes[0].kind, DEV_NC_PORT);
	assert_string_equal(p.changes[0].ifname, "eth2");
	assert_int_equal(p.changes[1].kind, DEV_NC_VLAN_DELETE);
	assert_int_equal(p.changes[1].vlan, 30);
	dev_nc_plan_free(&p);
	dev_nc_state_free(&st);
	dev_desired_free(&d);
}

static void test_plan_rules(void **state)
{
	(void)state;
	struct dev_desired d = { 0 };
	struct dev_nc_state st;
	struct dev_nc_plan p;
	struct dev_nc_cfg cfg = { .name = "sw1" };
	struct netd_err e = { 0 };
	want3(&d, false, false);
	base_state(&st);
	/* a port with leftover leaves of the other mode differs; extra trunk VLANs too */
	st.ifs[0].vlan = (struct dev_nc_swvlan){ .mode = DEV_NC_MODE_ACCESS, .access_vlan = 10, .native_vlan = 5 };
	st.ifs[0].has_vlan = true;
	/* port 3 is a member of a LAG netd does not want: it leaves it */
	snprintf(st.ifs[2].aggregate_id, sizeof st.ifs[2].aggregate_id, "lag9");
	/* an unmanaged port uses netd-stale: it stays */
	st.ifs[7].vlan = (struct dev_nc_swvlan){ .mode = DEV_NC_MODE_ACCESS, .access_vlan = 77 };
	st.ifs[7].has_vlan = true;
	assert_int_equal(dev_nc_plan(&sw, &cfg, &oc, &d, &st, &p, &e), 0);
	bool del77 = false, del200 = false, del50 = false, eth1 = false, eth3_leaves = false;
	for (size_t i = 0; i < p.n_changes; i++) {
		const struct dev_nc_change *c = &p.changes[i];
		del77 |= c->kind == DEV_NC_VLAN_DELETE && c->vlan == 77;
		del200 |= c->kind == DEV_NC_VLAN_DELETE && c->vlan == 200;
		del50 |= c->kind == DEV_NC_VLAN_DELETE && c->vlan == 50;
		eth1 |= c->kind == DEV_NC_PORT && !strcmp(c->ifname, "eth1");
		eth3_leaves |= c->kind == DEV_NC_PORT && !strcmp(c->ifname, "eth3") && c->leave_lag;
	}
	assert_false(del77);    /* still used by eth8 */
	assert_false(del200);   /* outside the allowed VLANs */
	assert_false(del50);    /* not netd's */
	assert_true(eth1);
	assert_true(eth3_leaves);
	char *xml = NULL;
	assert_int_equal(dev_nc_edit_xml(&p, &xml), 0);
	want_substr("leave lag", xml, "<aggregate-id xmlns=\"http://openconfig.net/yang/interfaces/aggregate\" "
				      "xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"remove\"/>");
	free(xml);
	dev_nc_plan_free(&p);

	/* names: a table first, then the format; interfaces absent get created with their type */
	const char *const names[] = { "Ethernet1/1", NULL, "Ethernet1/3" };
	cfg.port_names = names;
	cfg.n_port_names = 3;
	cfg.port_format = "ge-0/0/%u";
	assert_int_equal(dev_nc_plan(&sw, &cfg, &oc, &d, &st, &p, &e), 0);
	assert_int_equal(dev_nc_edit_xml(&p, &xml), 0);
	want_substr("names", xml, "<name>Ethernet1/1</name><config><name>Ethernet1/1</name><type "
				  "xmlns:ianaift=\"urn:ietf:params:xml:ns:yang:iana-if-type\">ianaift:ethernetCsmacd</type></config>");
	want_substr("names", xml, "<name>ge-0/0/2</name>");
	want_substr("names", xml, "<name>Ethernet1/3</name>");
	free(xml);
	dev_nc_plan_free(&p);
	char buf[16];
	cfg.port_format = "eth%s";
	assert_int_equal(dev_nc_port_name(&cfg, 5, false, buf, sizeof buf), NETD_EINVAL);
	cfg.port_format = "a-very-long-interface-name-%u";
	assert_int_equal(dev_nc_port_name(&cfg, 5, false, buf, sizeof buf), NETD_EINVAL);
	cfg.port_format = NULL;
	assert_int_equal(dev_nc_port_name(&cfg, 7, true, buf, sizeof buf), 0);
	assert_string_equal(buf, "lag7");
	dev_nc_state_free(&st);
	dev_desired_free(&d);
}

static void test_plan_trunk_ranges(void **state)
{
	(void)state;
	struct dev_nc_plan p = { 0 };
	struct dev_nc_change c = { .kind = DEV_NC_PORT, .ifname = "eth9" };
	c.want.mode = DEV_NC_MODE_TRUNK;
	c.want.native_vlan = 1;
	for (unsigned v = 20; v <= 23; v++)
		dev_vlanset_add(&c.want.trunk, v);
	dev_vlanset_add(&c.want.trunk, 30);
	dev_vlanset_add(&c.want.trunk, 31);
	c.want.n_trunk = 6;
	p.changes = &c;
	p.n_changes = 1;
	char *xml = NULL;
	assert_int_equal(dev_nc_edit_xml(&p, &xml), 0);
	want_substr("ranges", xml, "<native-vlan>1</native-vlan><trunk-vlans>20..23</trunk-vlans>"
				   "<trunk-vlans>30</trunk-vlans><trunk-vlans>31</trunk-vlans></config>");
	free(xml);

	struct dev_vlanset s = { 0 };
	unsigned n = 0;
	assert_int_equal(dev_nc_trunk_parse("10", &s, &n), 0);
	assert_int_equal(dev_nc_trunk_parse("10..12", &s, &n), 0);
	assert_int_equal(n, 3);
	assert_true(dev_vlanset_test(&s, 11));
	static const char *const bad[] = { "0", "4095", "12..10", "abc", "10..", "..10", "1..2..3", "", "10.5" };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (dev_nc_trunk_parse(bad[i], &s, &n) != NETD_ECORRUPT)
			fail_msg("trunk-vlans \"%s\" accepted", bad[i]);
}

static void test_plan_lag(void **state)
{
	(void)state;
	struct dev_desired d = { 0 };
	struct dev_nc_state st;
	struct dev_nc_plan p;
	struct dev_nc_cfg cfg = { .name = "sw1" };
	struct netd_err e = { 0 };
	want3(&d, true, false);
	base_state(&st);
	assert_int_equal(d.n_lags, 1);
	/* no openconfig-if-aggregate: a note, the ports one by one */
	assert_int_equal(dev_nc_plan(&sw, &cfg, &oc, &d, &st, &p, &e), 0);
	assert_int_equal(p.n_notes, 1);
	want_substr("note", p.notes[0], "bond bond0 of node n4 (ports 4, 5): switch sw1 does not advertise openconfig-if-aggregate");
	size_t ports = 0;
	for (size_t i = 0; i < p.n_changes; i++)
		ports += p.changes[i].kind == DEV_NC_PORT;
	assert_int_equal(ports, 5);
	dev_nc_plan_free(&p);

	assert_int_equal(dev_nc_plan(&sw, &cfg, &oc_lag, &d, &st, &p, &e), 0);
	assert_int_equal(p.n_notes, 0);
	size_t lags = 0, members = 0;
	for (size_t i = 0; i < p.n_changes; i++) {
		const struct dev_nc_change *c = &p.changes[i];
		if (c->kind == DEV_NC_LAG) {
			lags++;
			assert_string_equal(c->ifname, "lag4");
			assert_int_equal(c->lag_type, DEV_NC_LAG_LACP);
			assert_true(c->create_if);
			assert_int_equal(c->want.native_vlan, 10);
		}
		if (c->kind == DEV_NC_MEMBER) {
			members++;
			assert_string_equal(c->lag, "lag4");
		}
	}
	assert_int_equal(lags, 1);
	assert_int_equal(members, 2);
	char *xml = NULL;
	assert_int_equal(dev_nc_edit_xml(&p, &xml), 0);
	want_substr("lag", xml, "<interface><name>lag4</name><config><name>lag4</name><type "
				"xmlns:ianaift=\"urn:ietf:params:xml:ns:yang:iana-if-type\">ianaift:ieee8023adLag</type></config>"
				"<aggregation xmlns=\"http://openconfig.net/yang/interfaces/aggregate\"><config><lag-type>LACP"
				"</lag-type></config>");
	want_substr("member", xml, "<name>eth4</name><ethernet xmlns=\"http://openconfig.net/yang/interfaces/ethernet\">"
				   "<config><aggregate-id xmlns=\"http://openconfig.net/yang/interfaces/aggregate\">lag4"
				   "</aggregate-id></config></ethernet>");
	assert_true(strstr(xml, "<name>lag4</name>") < strstr(xml, "<name>eth1</name>"));   /* the LAG first */
	free(xml);
	apply_plan(&st, &p);
	dev_nc_plan_free(&p);
	assert_int_equal(dev_nc_plan(&sw, &cfg, &oc_lag, &d, &st, &p, &e), 0);
	assert_int_equal(p.n_changes, 0);
	dev_nc_plan_free(&p);
	dev_nc_state_free(&st);
	dev_desired_free(&d);
}

/* ---- against the test switch's YANG modules (libyang) ---- */

static struct ly_ctx *oc_ctx(void)
{
	struct ly_ctx *ctx = NULL;
	static const char *const mods[] = { "ietf-netconf", "iana-if-type", "openconfig-interfaces", "openconfig-if-ethernet",
					    "openconfig-if-aggregate", "openconfig-vlan", "ncswitch-deviations" };
	if (access(YUMA_DIR "/ietf-interfaces@2014-05-08.yang", R_OK) != 0)
		return NULL;
	assert_int_equal(ly_ctx_new(NCSWITCH_YANG, 0, &ctx), LY_SUCCESS);
	assert_int_equal(ly_ctx_set_searchdir(ctx, YUMA_DIR), LY_SUCCESS);
	for (size_t i = 0; i < ARRAY_LEN(mods); i++)
		if (!ly_ctx_load_module(ctx, mods[i], NULL, NULL))
			fail_msg("load %s: %s", mods[i], ly_errmsg(ctx));
	return ctx;
}

static void test_edit_parses(void **state)
{
	(void)state;
	struct ly_ctx *ctx = oc_ctx();
	if (!ctx)
		skip();   /* libyuma-base not installed */
	struct dev_desired d = { 0 };
	struct dev_nc_state st;
	struct dev_nc_plan p;
	struct dev_nc_cfg cfg = { .name = "sw1" };
	struct netd_err e = { 0 };
	struct lyd_node *tree = NULL;
	char *xml = NULL;
	want3(&d, true, false);
	base_state(&st);
	free(st.ifs);   /* interfaces absent: created with their types */
	st.ifs = NULL;
	st.n_ifs = 0;
	assert_int_equal(dev_nc_plan(&sw, &cfg, &oc_lag, &d, &st, &p, &e), 0);
	assert_int_equal(dev_nc_edit_xml(&p, &xml), 0);
	if (lyd_parse_data_mem(ctx, xml, LYD_XML, LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, &tree) != LY_SUCCESS)
		fail_msg("edit XML does not parse: %s\n%s", ly_errmsg(ctx), xml);
	/* without the operation attributes, the edit is a valid configuration of its own */
	struct lyd_node *vlans = NULL;
	assert_int_equal(lyd_find_path(tree, "/openconfig-vlan:vlans/vlan[vlan-id='77']", 0, &vlans), LY_SUCCESS);
	lyd_free_tree(vlans);
	assert_int_equal(lyd_validate_all(&tree, ctx, LYD_VALIDATE_NO_STATE, NULL), LY_SUCCESS);

	/* that configuration read back into a state: planned again, nothing left */
	struct dev_nc_state back;
	assert_int_equal(dev_nc_state_from_tree("sw1", tree, &back, &e), 0);
	const struct dev_nc_if *lag = dev_nc_state_if(&back, "lag4"), *eth2 = dev_nc_state_if(&back, "eth2");
	assert_non_null(lag);
	assert_true(lag->is_lag);
	assert_int_equal(lag->lag_type, DEV_NC_LAG_LACP);
	assert_string_equal(dev_nc_state_if(&back, "eth5")->aggregate_id, "lag4");
	assert_int_equal(eth2->vlan.mode, DEV_NC_MODE_TRUNK);
	assert_int_equal(eth2->vlan.n_trunk, 2);
	assert_string_equal(dev_nc_state_vlan(&back, 99)->name, "netd-idle");
	dev_nc_plan_free(&p);
	dev_nc_state_free(&st);
	assert_int_equal(dev_nc_plan(&sw, &cfg, &oc_lag, &d, &back, &p, &e), 0);
	if (p.n_changes) {
		char text[600];
		fail_msg("read back, planned again: %s", dev_nc_plan_text(&p, text, sizeof text));
	}
	dev_nc_plan_free(&p);
	dev_nc_state_free(&back);
	lyd_free_all(tree);
	free(xml);
	dev_desired_free(&d);
	ly_ctx_destroy(ctx);
}

static void test_state_from_tree(void **state)
{
	(void)state;
	struct ly_ctx *ctx = oc_ctx();
	if (!ctx)
		skip();
	static const char xml[] =
		"<interfaces xmlns=\"http://openconfig.net/yang/interfaces\"><interface><name>xe1</name><config><name>xe1</name>"
		"<type xmlns:i=\"urn:ietf:params:xml:ns:yang:iana-if-type\">i:ethernetCsmacd</type></config>"
		"<ethernet xmlns=\"http://openconfig.net/yang/interfaces/ethernet\"><switched-vlan "
		"xmlns=\"http://openconfig.net/yang/vlan\"><config><interface-mode>TRUNK</interface-mode>"
		"<native-vlan>7</native-vlan><trunk-vlans>100..103</trunk-vlans><trunk-vlans>5</trunk-vlans></config>"
		"</switched-vlan></ethernet></interface></interfaces>"
		"<vlans xmlns=\"http://openconfig.net/yang/vlan\"><vlan><vlan-id>5</vlan-id><config><vlan-id>5</vlan-id>"
		"<name>a-name-longer-than-thirty-two-octets-is-cut</name></config></vlan></vlans>";
	struct lyd_node *tree = NULL;
	struct dev_nc_state st;
	struct netd_err e = { 0 };
	assert_int_equal(lyd_parse_data_mem(ctx, xml, LYD_XML, LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, &tree), LY_SUCCESS);
	assert_int_equal(dev_nc_state_from_tree("sw1", tree, &st, &e), 0);
	assert_int_equal(st.n_ifs, 1);
	assert_int_equal(st.ifs[0].vlan.native_vlan, 7);
	assert_int_equal(st.ifs[0].vlan.n_trunk, 5);
	assert_true(dev_vlanset_test(&st.ifs[0].vlan.trunk, 102));
	assert_false(st.ifs[0].is_lag);
	assert_int_equal(strlen(st.vlans[0].name), 32);
	dev_nc_state_free(&st);
	lyd_free_all(tree);

	/* yang-library data of the context: modules, and who deviates whom */
	struct lyd_node *yl = NULL;
	struct dev_nc_caps c = { 0 };
	assert_int_equal(ly_ctx_get_yanglib_data(ctx, &yl, "%u", 1), LY_SUCCESS);
	assert_int_equal(dev_nc_caps_add_yanglib(&c, yl), 0);
	const struct dev_nc_module *m = dev_nc_caps_module(&c, "openconfig-interfaces");
	assert_non_null(m);
	assert_string_equal(m->deviated_by, "ncswitch-deviations");
	assert_string_equal(m->ns, "http://openconfig.net/yang/interfaces");
	assert_true(m->implemented);
	assert_non_null(dev_nc_caps_module(&c, "openconfig-vlan-types"));
	dev_nc_caps_free(&c);
	lyd_free_all(yl);
	ly_ctx_destroy(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_parse),
		cmocka_unit_test(test_caps_yuma_unsupported),
		cmocka_unit_test(test_want_vlan),
		cmocka_unit_test(test_plan_edit_golden),
		cmocka_unit_test(test_plan_rules),
		cmocka_unit_test(test_plan_trunk_ranges),
		cmocka_unit_test(test_plan_lag),
		cmocka_unit_test(test_edit_parses),
		cmocka_unit_test(test_state_from_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
