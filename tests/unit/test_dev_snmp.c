/* tests/unit/test_dev_snmp.c — the pure half of devices/' SNMP driver:
 * SET varbinds (PortList encoding, order, undo), LLDP chassis/port id
 * decoding, FDB index parsing, agent replies into switch state, the
 * concurrent-change check, link learning, and (seeded random scenarios)
 * steps applied to the agent model converge: a second plan is empty.
 * Table-driven; links only the devices library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "devices/snmp.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void want_substr(const char *what, const char *got, const char *want)
{
	if (!strstr(got, want))
		fail_msg("%s: message \"%s\" lacks \"%s\"", what, got, want);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

static const char *oidtxt(const struct dev_setvb *vb)
{
	static char buf[256];
	return dev_oid_text(vb->oid, vb->oid_len, buf, sizeof buf);
}

/* "oid=type:value" of a varbind: i:4, g:10, x:c000, s:text */
static const char *vbtxt(const struct dev_setvb *vb)
{
	static char buf[1400];
	char v[1110];
	if (vb->type == DEV_ASN_OCTETS) {
		bool text = vb->len > 0;
		for (size_t i = 0; i < vb->len; i++)
			text &= vb->str[i] >= 0x20 && vb->str[i] < 0x7f && !(vb->str[i] >= '0' && vb->str[i] <= '9' && i == 0);
		if (text)
			snprintf(v, sizeof v, "s:%.*s", (int)vb->len, (const char *)vb->str);
		else {
			char h[1030];
			hex(vb->str, vb->len, h);
			snprintf(v, sizeof v, "x:%s", h);
		}
	} else {
		snprintf(v, sizeof v, "%c:%lld", vb->type == DEV_ASN_GAUGE ? 'g' : 'i', (long long)vb->num);
	}
	snprintf(buf, sizeof buf, "%s=%s", oidtxt(vb), v);
	return buf;
}

#define Q "1.3.6.1.2.1.17.7.1.4.3.1"
#define PVID "1.3.6.1.2.1.17.7.1.4.5.1.1"
#define ALIAS "1.3.6.1.2.1.31.1.1.1.18"

/* ---- a state by hand ---- */

static void st_init(struct dev_snmp_state *st, unsigned nports)
{
	memset(st, 0, sizeof *st);
	st->actual.nports = nports;
	st->ports = calloc(nports, sizeof *st->ports);
	assert_non_null(st->ports);
	for (unsigned p = 1; p <= nports; p++) {
		st->ports[p - 1].port = p;
		st->ports[p - 1].ifindex = 1000 + p;
		snprintf(st->ports[p - 1].ifname, sizeof st->ports[p - 1].ifname, "Gi1/0/%u", p);
		st->actual.pvid[p] = 1;
	}
	st->n_ports = nports;
	st->max_port = nports;
}

static void st_row(struct dev_snmp_state *st, uint16_t vlan, const char *name, uint8_t status, const unsigned *e,
		   const unsigned *u)
{
	size_t n = st->actual.n_rows;
	st->actual.rows = realloc(st->actual.rows, (n + 1) * sizeof *st->actual.rows);
	st->row_status = realloc(st->row_status, n + 1);
	assert_non_null(st->actual.rows);
	assert_non_null(st->row_status);
	struct dev_vlan_row *r = &st->actual.rows[n];
	memset(r, 0, sizeof *r);
	r->vlan = vlan;
	snprintf(r->name, sizeof r->name, "%s", name);
	for (; e && *e; e++)
		dev_portlist_set(&r->egress, *e);
	for (; u && *u; u++)
		dev_portlist_set(&r->untagged, *u);
	st->row_status[n] = status;
	st->actual.n_rows = n + 1;
}

/* ---- SET varbinds ---- */

static void test_steps_encoding(void **state)
{
	struct dev_snmp_state st;
	static const struct dev_range all_v[] = { { 1, 4094 } };
	struct dev_range all_p[] = { { 1, 10 } };
	struct dev_switch sw = { .name = "s", .nports = 10, .vlans = all_v, .n_vlans = 1, .ports = all_p, .n_ports = 1,
				 .idle_vlan = 99 };
	struct dev_op ops[6];
	struct dev_alias_op al = { .port = 3, .ifindex = 1003, .alias = "netd: web1 eth0", .old = "old" };
	struct dev_snmp_plan p = { .ops = ops, .n_ops = 6, .aliases = &al, .n_aliases = 1 };
	struct dev_step *steps;
	size_t n;
	struct netd_err e = { 0 };
	(void)state;

	st_init(&st, 10);
	st_row(&st, 1, "default", 1, (unsigned[]){ 1, 2, 3, 9, 10, 0 }, (unsigned[]){ 1, 2, 3, 9, 10, 0 });
	st_row(&st, 30, "netd-old", 1, NULL, NULL);
	memset(ops, 0, sizeof ops);
	/* create VLAN 10 and add ports 3 (untagged), 9 (tagged) to it */
	ops[0].kind = DEV_OP_VLAN_CREATE;
	ops[0].vlan = 10;
	snprintf(ops[0].name, sizeof ops[0].name, "netd-admin");
	ops[1].kind = DEV_OP_VLAN_PORTS;
	ops[1].vlan = 10;
	dev_portlist_set(&ops[1].egress, 3);
	dev_portlist_set(&ops[1].egress, 9);
	dev_portlist_set(&ops[1].untagged, 3);
	ops[2].kind = DEV_OP_PVID;
	ops[2].vlan = ops[2].pvid = 10;
	ops[2].port = 3;
	ops[2].old_pvid = 1;
	/* remove port 3 from VLAN 1: untagged first */
	ops[3].kind = DEV_OP_VLAN_PORTS;
	ops[3].vlan = 1;
	ops[3].old_egress = st.actual.rows[0].egress;
	ops[3].old_untagged = st.actual.rows[0].untagged;
	ops[3].egress = ops[3].old_egress;
	ops[3].untagged = ops[3].old_untagged;
	dev_portlist_clear(&ops[3].egress, 3);
	dev_portlist_clear(&ops[3].untagged, 3);
	ops[4].kind = DEV_OP_VLAN_DELETE;
	ops[4].vlan = 30;
	/* port 9 leaves VLAN 1's untagged list only */
	ops[5] = ops[3];
	ops[5].old_egress = ops[3].egress;
	ops[5].old_untagged = ops[3].untagged;
	ops[5].egress = ops[3].egress;
	ops[5].untagged = ops[3].untagged;
	dev_portlist_clear(&ops[5].untagged, 9);

	assert_int_equal(dev_snmp_steps(&sw, &st, &p, &steps, &n, &e), 0);
	static const struct {
		uint8_t group;
		const char *vbs[4];
		const char *undo[4];
	} want[] = {
		{ 1, { Q ".5.10=i:4", Q ".1.10=s:netd-admin", Q ".2.10=x:2080", Q ".4.10=x:2000" }, { Q ".5.10=i:6" } },
		{ 1, { ALIAS ".1003=s:netd: web1 eth0" }, { ALIAS ".1003=s:old" } },
		{ 2, { PVID ".3=g:10" }, { PVID ".3=g:1" } },
		{ 3, { Q ".4.1=x:c0c0", Q ".2.1=x:c0c0" }, { Q ".2.1=x:e0c0", Q ".4.1=x:e0c0" } },
		{ 3, { Q ".4.1=x:c040" }, { Q ".4.1=x:c0c0" } },
		{ 4, { Q ".5.30=i:6" }, { Q ".5.30=i:4", Q ".1.30=s:netd-old" } },
	};
	assert_int_equal(n, ARRAY_LEN(want));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(steps[i].group, want[i].group);
		size_t k = 0;
		for (; k < 4 && want[i].vbs[k]; k++) {
			if (k >= steps[i].n_vbs || strcmp(vbtxt(&steps[i].vbs[k]), want[i].vbs[k]))
				fail_msg("step %zu (%s) varbind %zu: got %s, want %s", i, steps[i].label, k,
					 k < steps[i].n_vbs ? vbtxt(&steps[i].vbs[k]) : "none", want[i].vbs[k]);
		}
		assert_int_equal(steps[i].n_vbs, k);
		for (k = 0; k < 4 && want[i].undo[k]; k++) {
			if (k >= steps[i].n_undo || strcmp(vbtxt(&steps[i].undo[k]), want[i].undo[k]))
				fail_msg("step %zu undo %zu: got %s, want %s", i, k,
					 k < steps[i].n_undo ? vbtxt(&steps[i].undo[k]) : "none", want[i].undo[k]);
		}
		assert_int_equal(steps[i].n_undo, k);
	}
	assert_int_equal(steps[0].also, 1);   /* the create step carries op 1 */
	want_substr("label", steps[2].label, "port 3: PVID 10");
	free(steps);

	/* an op with a port beyond the switch does not encode */
	struct dev_op bad = { .kind = DEV_OP_VLAN_PORTS, .vlan = 1 };
	dev_portlist_set(&bad.egress, 11);
	struct dev_snmp_plan pb = { .ops = &bad, .n_ops = 1 };
	assert_int_equal(dev_snmp_steps(&sw, &st, &pb, &steps, &n, &e), NETD_EINVAL);
	want_substr("beyond", e.msg, "10 ports");
	dev_snmp_state_free(&st);
}

/* PortList octets of a ports op for several switch sizes. */
static void test_portlist_varbinds(void **state)
{
	static const struct {
		unsigned nports;
		unsigned ports[6];
		const char *hex;
	} cases[] = {
		{ 1, { 1 }, "80" },
		{ 8, { 1, 8 }, "81" },
		{ 9, { 9 }, "0080" },
		{ 24, { 1, 2, 24 }, "c00001" },
		{ 48, { 48 }, "000000000001" },
		{ 52, { 49, 52 }, "00000000000090" },
		{ 4096, { 4096 }, NULL },   /* 512 octets, last 01 */
	};
	static const struct dev_range all_v[] = { { 1, 4094 } };
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct dev_range all_p[] = { { 1, (uint16_t)cases[i].nports } };
		struct dev_switch sw = { .name = "s", .nports = cases[i].nports, .vlans = all_v, .n_vlans = 1,
					 .ports = all_p, .n_ports = 1, .idle_vlan = 99 };
		struct dev_snmp_state st;
		struct dev_op op = { .kind = DEV_OP_VLAN_PORTS, .vlan = 7 };
		struct dev_snmp_plan p = { .ops = &op, .n_ops = 1 };
		struct dev_step *steps;
		size_t n;
		memset(&st, 0, sizeof st);
		st.actual.nports = cases[i].nports;
		for (size_t k = 0; k < 6 && cases[i].ports[k]; k++)
			dev_portlist_set(&op.egress, cases[i].ports[k]);
		assert_int_equal(dev_snmp_steps(&sw, &st, &p, &steps, &n, NULL), 0);
		assert_int_equal(n, 1);
		assert_int_equal(steps[0].n_vbs, 1);   /* only egress changes */
		assert_int_equal(steps[0].vbs[0].len, (cases[i].nports + 7) / 8);
		if (cases[i].hex) {
			char h[64];
			hex(steps[0].vbs[0].str, steps[0].vbs[0].len, h);
			assert_string_equal(h, cases[i].hex);
		} else {
			assert_int_equal(steps[0].vbs[0].str[511], 0x01);
		}
		assert_string_equal(oidtxt(&steps[0].vbs[0]), Q ".2.7");
		free(steps);
	}
}

/* ---- LLDP ids, FDB indexes ---- */

static void test_lldp_ids(void **state)
{
	static const struct {
		bool chassis;
		unsigned subtype;
		const char *oct;
		size_t len;
		int rc;
		enum dev_lldp_kind kind;
		const char *text;
	} cases[] = {
		{ true, 4, "\x52\x54\x00\x00\x01\x00", 6, 0, DEV_LLDP_MAC, "52:54:00:00:01:00" },
		{ false, 3, "\x52\x54\x00\x00\x01\x00", 6, 0, DEV_LLDP_MAC, "52:54:00:00:01:00" },
		{ false, 4, "\x52\x54\x00\x00\x01\x00", 6, 0, DEV_LLDP_ADDR, "0x525400000100" }, /* port 4: address,
											      family 82 */
		{ true, 4, "\x52\x54\x00\x00\x01", 5, NETD_ECORRUPT, 0, "" },            /* MAC of 5 octets */
		{ false, 5, "eth0", 4, 0, DEV_LLDP_NAME, "eth0" },
		{ false, 7, "Gi1/0/3", 7, 0, DEV_LLDP_NAME, "Gi1/0/3" },
		{ false, 1, "uplink to core", 14, 0, DEV_LLDP_NAME, "uplink to core" },
		{ true, 7, "\x01\xff", 2, 0, DEV_LLDP_OTHER, "0x01ff" },
		{ true, 5, "\x01\xc0\x00\x02\x01", 5, 0, DEV_LLDP_ADDR, "192.0.2.1" },
		{ false, 4, "\x02\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 17, 0, DEV_LLDP_ADDR,
		  "2001:db8:0:0:0:0:0:1" },
		{ true, 5, "\x01\xc0\x00\x02", 4, NETD_ECORRUPT, 0, "" },                /* IPv4 of 3 octets */
		{ true, 5, "\x06\x00\x11", 3, 0, DEV_LLDP_ADDR, "0x060011" },             /* other family */
		{ true, 0, "x", 1, NETD_ECORRUPT, 0, "" },
		{ false, 8, "x", 1, NETD_ECORRUPT, 0, "" },
		{ true, 6, "", 0, NETD_ECORRUPT, 0, "" },
		{ true, 2, "port\x07", 5, 0, DEV_LLDP_OTHER, "0x706f727407" },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct dev_lldp_id id;
		struct netd_err e = { 0 };
		memset(&id, 0x5a, sizeof id);
		int rc = dev_lldp_id_decode(cases[i].chassis, cases[i].subtype, (const uint8_t *)cases[i].oct, cases[i].len,
					    &id, &e);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, e.msg);
		if (rc) {
			assert_true(e.msg[0] != '\0');
			continue;
		}
		assert_int_equal(id.kind, cases[i].kind);
		assert_int_equal(id.subtype, cases[i].subtype);
		assert_string_equal(id.text, cases[i].text);
	}
	/* 255 non-printable octets: all of them in hex */
	uint8_t big[255];
	struct dev_lldp_id id;
	memset(big, 0xab, sizeof big);
	assert_int_equal(dev_lldp_id_decode(false, 7, big, sizeof big, &id, NULL), 0);
	assert_int_equal(strlen(id.text), 2 + 2 * 255);
	assert_int_equal(dev_lldp_id_decode(false, 7, big, 256, &id, NULL), NETD_ECORRUPT);
}

static void test_fdb_index(void **state)
{
	static const struct {
		uint32_t sub[8];
		size_t n;
		int rc;
		uint32_t fid;
		uint8_t mac[6];
	} cases[] = {
		{ { 1, 82, 84, 0, 0, 3, 0 }, 7, 0, 1, { 0x52, 0x54, 0, 0, 3, 0 } },
		{ { 4094, 255, 255, 255, 255, 255, 255 }, 7, 0, 4094, { 255, 255, 255, 255, 255, 255 } },
		{ { 4294967295u, 0, 0, 0, 0, 0, 1 }, 7, 0, 4294967295u, { 0, 0, 0, 0, 0, 1 } },
		{ { 1, 82, 84, 0, 0, 3 }, 6, NETD_ECORRUPT, 0, { 0 } },
		{ { 1, 82, 84, 0, 0, 3, 0, 9 }, 8, NETD_ECORRUPT, 0, { 0 } },
		{ { 1, 256, 84, 0, 0, 3, 0 }, 7, NETD_ECORRUPT, 0, { 0 } },
		{ { 0 }, 0, NETD_ECORRUPT, 0, { 0 } },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint32_t fid = 77;
		uint8_t mac[6] = { 9, 9, 9, 9, 9, 9 };
		assert_int_equal(dev_fdb_index_parse(cases[i].sub, cases[i].n, &fid, mac), cases[i].rc);
		if (cases[i].rc) {
			assert_int_equal(fid, 77);
			continue;
		}
		assert_int_equal(fid, cases[i].fid);
		assert_memory_equal(mac, cases[i].mac, 6);
	}
}

/* ---- replies ---- */

struct rvb {
	const char *oid;
	uint8_t type;
	int64_t num;
	const char *str;
	size_t len;
};

static int feed(struct dev_reply *r, const struct rvb *v, size_t n, struct netd_err *e)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t oid[DEV_OID_MAX];
		size_t len = 0;
		const char *p = v[i].oid;
		while (*p && len < DEV_OID_MAX) {
			oid[len++] = (uint32_t)strtoul(p, (char **)&p, 10);
			if (*p == '.')
				p++;
		}
		struct dev_vb vb = { oid, len, v[i].type, v[i].num, (const uint8_t *)v[i].str, v[i].len };
		int rc = dev_reply_add(r, &vb, e);
		if (rc)
			return rc;
	}
	return 0;
}

#define OCT(s) DEV_ASN_OCTETS, 0, s, sizeof s - 1
#define INT(n) DEV_ASN_INTEGER, n, NULL, 0

static void test_reply_state(void **state)
{
	static const struct rvb ok[] = {
		{ "1.3.6.1.2.1.31.1.1.1.1.1001", OCT("Gi1/0/1") },
		{ "1.3.6.1.2.1.31.1.1.1.1.1002", OCT("Gi1/0/2") },
		{ "1.3.6.1.2.1.31.1.1.1.18.1002", OCT("netd: a eth\x01") },
		{ "1.3.6.1.2.1.31.1.1.1.18.1001", OCT("") },
		{ "1.3.6.1.2.1.17.1.4.1.2.2", INT(1002) },
		{ "1.3.6.1.2.1.17.1.4.1.2.1", INT(1001) },
		{ "1.3.6.1.2.1.17.1.4.1.2.9", INT(0) },
		{ Q ".1.10", OCT("netd-admin") },
		{ Q ".2.10", OCT("\xc0\x80") },
		{ Q ".4.10", OCT("\x80") },
		{ Q ".5.10", INT(1) },
		{ Q ".1.5000", OCT("vendor") },            /* implementation-specific VLAN: ignored */
		{ Q ".1.1", OCT("default") },
		{ Q ".2.1", OCT("\x3f\x00") },
		{ Q ".4.1", OCT("\x3f\x00") },
		{ Q ".5.1", INT(2) },
		{ PVID ".1", DEV_ASN_GAUGE, 10, NULL, 0 },
		{ PVID ".2", INT(1) },
		{ "1.3.6.1.2.1.17.7.1.4.2.1.4.0.10", OCT("\xff") },   /* dot1qVlanCurrent: not ours */
		{ "1.3.6.1.2.1.2.2.1.2.1001", OCT("descr") },
		{ PVID ".3", DEV_ASN_NOSUCHINSTANCE, 0, NULL, 0 },
	};
	struct dev_reply *r;
	struct dev_snmp_state st;
	struct netd_err e = { 0 };
	(void)state;

	assert_int_equal(dev_reply_new("swx", &r), 0);
	assert_int_equal(feed(r, ok, ARRAY_LEN(ok), &e), 0);
	assert_int_equal(dev_reply_state(r, 10, &st, &e), 0);
	assert_int_equal(st.actual.nports, 10);
	assert_int_equal(st.max_port, 9);
	assert_int_equal(st.actual.n_rows, 2);
	assert_int_equal(st.actual.rows[0].vlan, 1);
	assert_int_equal(st.row_status[0], 2);
	assert_string_equal(st.actual.rows[1].name, "netd-admin");
	assert_true(dev_portlist_test(&st.actual.rows[1].egress, 9));
	assert_true(dev_portlist_test(&st.actual.rows[1].untagged, 1));
	assert_false(dev_portlist_test(&st.actual.rows[1].untagged, 2));
	assert_int_equal(st.actual.pvid[1], 10);
	assert_int_equal(st.actual.pvid[3], 0);
	assert_int_equal(st.n_ports, 3);
	assert_int_equal(st.ports[1].ifindex, 1002);
	assert_string_equal(st.ports[1].ifname, "Gi1/0/2");
	assert_string_equal(st.ports[1].alias, "netd: a eth?");
	assert_int_equal(st.ports[2].port, 9);
	assert_int_equal(st.ports[2].ifindex, 0);
	assert_non_null(dev_snmp_port(&st, 9));
	assert_null(dev_snmp_port(&st, 4));

	struct dev_snmp_state c;
	assert_int_equal(dev_snmp_state_copy(&st, &c), 0);
	assert_memory_equal(c.actual.rows, st.actual.rows, st.actual.n_rows * sizeof *st.actual.rows);
	dev_snmp_state_free(&c);
	dev_snmp_state_free(&st);

	/* port lists naming ports the switch has not: refused naming the VLAN */
	memset(&e, 0, sizeof e);
	assert_int_equal(dev_reply_state(r, 8, &st, &e), NETD_ECORRUPT);
	want_substr("port 9", e.msg, "bridge port 9");
	memset(&e, 0, sizeof e);
	static const struct rvb wide[] = { { Q ".2.10", OCT("\xc0\x81") } };
	assert_int_equal(feed(r, wide, 1, &e), 0);
	assert_int_equal(dev_reply_state(r, 12, &st, &e), NETD_ECORRUPT);
	want_substr("VLAN 10", e.msg, "VLAN 10 egress");
	dev_reply_free(r);

	static const struct {
		struct rvb vb;
		const char *msg;
	} bad[] = {
		{ { Q ".2.10", INT(1) }, "has type INTEGER, expected OCTET STRING" },
		{ { Q ".5.10", INT(7) }, "RowStatus out of 1..6" },
		{ { Q ".5.10.1", INT(1) }, "index of the wrong length" },
		{ { PVID ".0", INT(1) }, "bridge port out of 1..4096" },
		{ { PVID ".4", INT(4095) }, "PVID out of 1..4094" },
		{ { PVID ".4", OCT("x") }, "has type OCTET STRING" },
		{ { "1.3.6.1.2.1.17.1.4.1.2.4097", INT(1) }, "bridge port out of 1..4096" },
		{ { "1.3.6.1.2.1.31.1.1.1.1.0", OCT("x") }, "ifIndex out of" },
		{ { "1.0.8802.1.1.2.1.4.1.1.5.0.3", OCT("x") }, "index of the wrong length" },
		{ { "1.0.8802.1.1.2.1.4.1.1.5.0.0.1", OCT("x") }, "lldpRemLocalPortNum" },
		{ { "1.3.6.1.2.1.17.7.1.2.2.1.2.1.82.84.0.0.3.256", INT(3) }, "FDB id and 6 MAC octets" },
		{ { "1.3.6.1.2.1.17.7.1.2.2.1.3.1.82.84.0.0.3.0", INT(9) }, "status out of 1..5" },
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		memset(&e, 0, sizeof e);
		assert_int_equal(dev_reply_new("swx", &r), 0);
		assert_int_equal(feed(r, &bad[i].vb, 1, &e), NETD_ECORRUPT);
		want_substr(bad[i].vb.oid, e.msg, bad[i].msg);
		want_substr(bad[i].vb.oid, e.msg, "swx");
		dev_reply_free(r);
	}

	/* a row without its RowStatus */
	static const struct rvb half[] = { { Q ".2.10", OCT("\x80") }, { Q ".4.10", OCT("") } };
	memset(&e, 0, sizeof e);
	assert_int_equal(dev_reply_new("swx", &r), 0);
	assert_int_equal(feed(r, half, 2, &e), 0);
	assert_int_equal(dev_reply_state(r, 8, &st, &e), NETD_ECORRUPT);
	want_substr("half row", e.msg, "without its RowStatus");
	dev_reply_free(r);

	/* two bridge ports on one ifIndex */
	static const struct rvb twice[] = { { "1.3.6.1.2.1.17.1.4.1.2.1", INT(5) },
					    { "1.3.6.1.2.1.17.1.4.1.2.2", INT(5) } };
	memset(&e, 0, sizeof e);
	assert_int_equal(dev_reply_new("swx", &r), 0);
	assert_int_equal(feed(r, twice, 2, &e), 0);
	assert_int_equal(dev_reply_state(r, 8, &st, &e), NETD_ECORRUPT);
	want_substr("twice", e.msg, "ifIndex 5");
	dev_reply_free(r);
}

static void test_reply_links(void **state)
{
	static const struct rvb v[] = {
		{ "1.0.8802.1.1.2.1.4.1.1.4.0.3.1", INT(4) },
		{ "1.0.8802.1.1.2.1.4.1.1.5.0.3.1", OCT("\x52\x54\x00\x00\x01\x00") },
		{ "1.0.8802.1.1.2.1.4.1.1.6.0.3.1", INT(5) },
		{ "1.0.8802.1.1.2.1.4.1.1.7.0.3.1", OCT("eth0") },
		{ "1.0.8802.1.1.2.1.4.1.1.9.0.3.1", OCT("web1") },
		{ "1.0.8802.1.1.2.1.4.1.1.4.0.1.2", INT(4) },                 /* port 1: a MAC of 5 octets */
		{ "1.0.8802.1.1.2.1.4.1.1.5.0.1.2", OCT("\x52\x54\x00\x00\x01") },
		{ "1.0.8802.1.1.2.1.4.1.1.6.0.1.2", INT(3) },
		{ "1.0.8802.1.1.2.1.4.1.1.7.0.1.2", OCT("\x52\x54\x00\x00\x01\x00") },
		{ "1.0.8802.1.1.2.1.4.1.1.4.0.2.1", INT(4) },                 /* port 2: no port id */
		{ "1.3.6.1.2.1.17.7.1.2.2.1.2.20.82.84.0.0.3.1", INT(7) },
		{ "1.3.6.1.2.1.17.7.1.2.2.1.3.20.82.84.0.0.3.1", INT(3) },
		{ "1.3.6.1.2.1.17.7.1.2.2.1.2.1.82.84.0.0.3.0", INT(5) },
		{ "1.3.6.1.2.1.17.7.1.2.2.1.3.1.82.84.0.0.3.0", INT(3) },
		{ "1.3.6.1.2.1.17.7.1.2.2.1.2.1.2.0.0.0.0.9", INT(0) },      /* port unknown: left out */
	};
	struct dev_reply *r;
	struct dev_lldp_rem *ll;
	struct dev_fdb_entry *fdb;
	size_t nl, nf, skipped;
	struct netd_err e = { 0 };
	(void)state;

	assert_int_equal(dev_reply_new("swx", &r), 0);
	assert_int_equal(feed(r, v, ARRAY_LEN(v), &e), 0);
	assert_int_equal(dev_reply_lldp(r, &ll, &nl, &skipped), 0);
	assert_int_equal(nl, 1);
	assert_int_equal(skipped, 2);
	assert_int_equal(ll[0].port, 3);
	assert_int_equal(ll[0].chassis.kind, DEV_LLDP_MAC);
	assert_string_equal(ll[0].port_id.text, "eth0");
	assert_string_equal(ll[0].sysname, "web1");
	assert_int_equal(dev_reply_fdb(r, &fdb, &nf), 0);
	assert_int_equal(nf, 2);
	assert_int_equal(fdb[0].port, 5);   /* sorted by MAC: ..03:00 first */
	assert_int_equal(fdb[0].fid, 1);
	assert_int_equal(fdb[1].port, 7);
	assert_int_equal(fdb[1].status, 3);
	free(ll);
	free(fdb);
	dev_reply_free(r);
}

/* ---- the concurrent-change check ---- */

static void test_fresh(void **state)
{
	static const struct dev_range all_v[] = { { 1, 4094 } };
	struct dev_range all_p[] = { { 1, 8 } };
	struct dev_switch sw = { .name = "swf", .nports = 8, .vlans = all_v, .n_vlans = 1, .ports = all_p, .n_ports = 1,
				 .idle_vlan = 99 };
	struct dev_snmp_state x, f;
	struct dev_step steps[4];
	struct netd_err e = { 0 };
	(void)state;

	st_init(&x, 8);
	st_row(&x, 10, "netd-a", 1, (unsigned[]){ 1, 2, 0 }, (unsigned[]){ 1, 0 });
	memset(steps, 0, sizeof steps);
	steps[0] = (struct dev_step){ .kind = DEV_STEP_OP, .group = 1, .vlan = 20 };          /* create 20 */
	steps[1] = (struct dev_step){ .kind = DEV_STEP_OP, .group = 3, .vlan = 10 };          /* ports of 10 */
	steps[2] = (struct dev_step){ .kind = DEV_STEP_OP, .group = 2, .vlan = 10, .port = 2 };
	steps[3] = (struct dev_step){ .kind = DEV_STEP_ALIAS, .group = 1, .port = 1 };

	static const struct {
		const char *what;
		int rc;
		const char *msg;
	} cases[] = {
		{ "same", 0, "" },
		{ "egress", NETD_ECONFLICT, "swf VLAN 10: egress ports changed since the switch was read (were c0, are e0)" },
		{ "untagged", NETD_ECONFLICT, "VLAN 10: untagged ports changed" },
		{ "appeared", NETD_ECONFLICT, "VLAN 20: a row \"x\" appeared" },
		{ "gone", NETD_ECONFLICT, "VLAN 10: row \"netd-a\" disappeared" },
		{ "pvid", NETD_ECONFLICT, "port 2: PVID changed from 1 to 30" },
		{ "alias", NETD_ECONFLICT, "port 1: ifAlias changed" },
		{ "pvid elsewhere", 0, "" },
		{ "other vlan", 0, "" },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(dev_snmp_state_copy(&x, &f), 0);
		switch (i) {
		case 1: dev_portlist_set(&f.actual.rows[0].egress, 3); break;
		case 2: dev_portlist_set(&f.actual.rows[0].untagged, 2); break;
		case 3: st_row(&f, 20, "x", 1, NULL, NULL); break;
		case 4: f.actual.n_rows = 0; break;
		case 5: f.actual.pvid[2] = 30; break;
		case 6: snprintf(f.ports[0].alias, sizeof f.ports[0].alias, "hand"); break;
		case 7: f.actual.pvid[5] = 30; break;
		case 8: st_row(&f, 30, "y", 1, (unsigned[]){ 4, 0 }, NULL); break;
		}
		memset(&e, 0, sizeof e);
		int rc = dev_snmp_fresh(&sw, &x, &f, steps, 4, &e);
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d (%s)", cases[i].what, rc, e.msg);
		want_substr(cases[i].what, e.msg, cases[i].msg);
		dev_snmp_state_free(&f);
	}
	dev_snmp_state_free(&x);
}

/* ---- learning ---- */

static const struct dev_nicmac lnics[] = {
	{ "web1", "eth0", { 2, 0, 0, 0, 1, 0 } }, { "web1", "eth1", { 2, 0, 0, 0, 1, 1 } },
	{ "web2", "eth0", { 2, 0, 0, 0, 2, 0 } }, { "db1", "eth0", { 2, 0, 0, 0, 3, 0 } },
	{ "db1", "eth1", { 2, 0, 0, 0, 3, 1 } },  { "x1", "eth0", { 2, 0, 0, 0, 9, 9 } },
	{ "x2", "eth0", { 2, 0, 0, 0, 9, 9 } },   /* the same MAC twice: ambiguous */
};

static struct dev_lldp_rem lrem(unsigned port, const uint8_t *cmac, const char *pname, const uint8_t *pmac,
				const char *sysname)
{
	struct dev_lldp_rem r;
	memset(&r, 0, sizeof r);
	r.port = port;
	r.index = port;
	if (cmac)
		assert_int_equal(dev_lldp_id_decode(true, 4, cmac, 6, &r.chassis, NULL), 0);
	else
		assert_int_equal(dev_lldp_id_decode(true, 7, (const uint8_t *)"host", 4, &r.chassis, NULL), 0);
	if (pmac)
		assert_int_equal(dev_lldp_id_decode(false, 3, pmac, 6, &r.port_id, NULL), 0);
	else
		assert_int_equal(dev_lldp_id_decode(false, 5, (const uint8_t *)pname, strlen(pname), &r.port_id, NULL), 0);
	snprintf(r.sysname, sizeof r.sysname, "%s", sysname ? sysname : "");
	return r;
}

static struct dev_fdb_entry fdbe(uint32_t fid, uint8_t m4, uint8_t m5, unsigned port, uint8_t status)
{
	struct dev_fdb_entry f = { fid, { 2, 0, 0, 0, m4, m5 }, port, status };
	return f;
}

struct lcase {
	const char *name;
	struct dev_lldp_rem lldp[4];
	size_t nl;
	struct dev_fdb_entry fdb[48];
	size_t nf;
	const char *want;       /* "port:node/nic:source ..." */
	const char *note;       /* a substring of some note, or NULL */
};

static void check_learn(const struct lcase *c)
{
	struct dev_learn_result lr;
	char got[512] = "";
	size_t w = 0;
	assert_int_equal(dev_learn(lnics, ARRAY_LEN(lnics), c->lldp, c->nl, c->fdb, c->nf, &lr), 0);
	for (size_t i = 0; i < lr.n_links; i++)
		w += (size_t)snprintf(got + w, sizeof got - w, "%s%u:%s/%s:%s", i ? " " : "", lr.links[i].link.port,
				      lr.links[i].link.node, lr.links[i].link.nic, dev_link_source_name(lr.links[i].source));
	if (strcmp(got, c->want))
		fail_msg("%s: learned \"%s\", want \"%s\"", c->name, got, c->want);
	if (c->note) {
		bool found = false;
		for (size_t i = 0; i < lr.n_notes; i++)
			found |= strstr(lr.notes[i].text, c->note) != NULL;
		if (!found)
			fail_msg("%s: no note contains \"%s\" (%zu notes%s%s)", c->name, c->note, lr.n_notes,
				 lr.n_notes ? ", first: " : "", lr.n_notes ? lr.notes[0].text : "");
	}
	dev_learn_result_free(&lr);
}

static void test_learn(void **state)
{
	static const uint8_t w1e0[6] = { 2, 0, 0, 0, 1, 0 }, w2e0[6] = { 2, 0, 0, 0, 2, 0 }, amb[6] = { 2, 0, 0, 0, 9, 9 },
			     other[6] = { 2, 0, 0, 0, 7, 7 };
	struct lcase *c = calloc(1, sizeof *c);
	(void)state;
	assert_non_null(c);

	*c = (struct lcase){ "lldp by port MAC", { lrem(1, NULL, "", w1e0, NULL) }, 1, { { 0 } }, 0, "1:web1/eth0:lldp", NULL };
	check_learn(c);
	*c = (struct lcase){ "lldp by chassis MAC + ifname", { lrem(2, w2e0, "eth0", NULL, NULL) }, 1, { { 0 } }, 0,
			     "2:web2/eth0:lldp", NULL };
	check_learn(c);
	*c = (struct lcase){ "lldp by sysName FQDN + ifname", { lrem(4, NULL, "eth1", NULL, "DB1.lab.example") }, 1,
			     { { 0 } }, 0, "4:db1/eth1:lldp", NULL };
	check_learn(c);
	*c = (struct lcase){ "lldp sysName prefix is not the node", { lrem(4, NULL, "eth1", NULL, "db10") }, 1, { { 0 } },
			     0, "", "no known node NIC" };
	check_learn(c);
	*c = (struct lcase){ "lldp node known, NIC name not", { lrem(4, w2e0, "eth7", NULL, NULL) }, 1, { { 0 } }, 0, "",
			     "names none of its NICs" };
	check_learn(c);
	*c = (struct lcase){ "lldp ambiguous MAC", { lrem(4, NULL, "", amb, NULL) }, 1, { { 0 } }, 0, "",
			     "MAC of several NICs" };
	check_learn(c);
	*c = (struct lcase){ "lldp: two NICs on one port", { lrem(1, NULL, "", w1e0, NULL), lrem(1, NULL, "", w2e0, NULL) },
			     2, { { 0 } }, 0, "", "names both" };
	c->lldp[1].index = 9;
	check_learn(c);
	*c = (struct lcase){ "lldp: one NIC on two ports", { lrem(1, NULL, "", w1e0, NULL), lrem(3, NULL, "", w1e0, NULL) },
			     2, { { 0 } }, 0, "", "on ports 1 and 3" };
	check_learn(c);
	*c = (struct lcase){ "lldp: an unknown neighbour", { lrem(24, other, "te1/0/1", NULL, "core") }, 1, { { 0 } }, 0,
			     "", "core" };
	check_learn(c);

	/* FDB */
	*c = (struct lcase){ "fdb single", { { 0 } }, 0, { fdbe(1, 3, 0, 5, 3) }, 1, "5:db1/eth0:fdb", NULL };
	check_learn(c);
	*c = (struct lcase){ "fdb: self and invalid entries do not count", { { 0 } }, 0,
			     { fdbe(1, 3, 0, 5, 4), fdbe(2, 3, 0, 6, 2), fdbe(3, 3, 1, 7, 5) }, 3, "7:db1/eth1:fdb", NULL };
	check_learn(c);
	*c = (struct lcase){ "fdb: echoes on an uplink", { { 0 } }, 0,
			     { fdbe(1, 3, 0, 5, 3), fdbe(30, 3, 0, 24, 3), fdbe(1, 3, 1, 7, 3), fdbe(30, 3, 1, 24, 3),
			       fdbe(30, 2, 0, 24, 3) },
			     5, "5:db1/eth0:fdb 7:db1/eth1:fdb", "web2/eth0: FDB sees MAC 02:00:00:00:02:00 on port 24" };
	check_learn(c);
	/* an access port and an uplink with one known MAC among many unknown ones */
	*c = (struct lcase){ "fdb: one known MAC on a busy uplink", { { 0 } }, 0, { fdbe(1, 3, 0, 5, 3) }, 1, "", NULL };
	for (unsigned i = 0; i < 30; i++)
		c->fdb[c->nf++] = fdbe(10, 0x40, (uint8_t)i, 24, 3);
	c->fdb[c->nf++] = fdbe(30, 3, 0, 24, 3);
	c->want = "5:db1/eth0:fdb";
	check_learn(c);
	*c = (struct lcase){ "fdb: two ports both quiet", { { 0 } }, 0, { fdbe(1, 3, 0, 5, 3), fdbe(2, 3, 0, 6, 3) }, 2, "",
			     "no single access port" };
	check_learn(c);
	*c = (struct lcase){ "fdb: same MAC in two FDB ids on one port", { { 0 } }, 0,
			     { fdbe(1, 3, 0, 5, 3), fdbe(2, 3, 0, 5, 3) }, 2, "5:db1/eth0:fdb", NULL };
	check_learn(c);
	*c = (struct lcase){ "fdb: the ambiguous MAC is never used", { { 0 } }, 0, { fdbe(1, 9, 9, 5, 3) }, 1, "", NULL };
	check_learn(c);
	/* LLDP wins: over a NIC and over a port */
	*c = (struct lcase){ "lldp wins over fdb", { lrem(1, NULL, "", w1e0, NULL) }, 1,
			     { fdbe(1, 1, 0, 9, 3), fdbe(1, 3, 0, 1, 3) }, 2, "1:web1/eth0:lldp", NULL };
	check_learn(c);
	free(c);
}

/* ---- steps on the agent model converge ---- */

static uint64_t rng;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

#define RP 24
static const uint16_t rv[] = { 1, 10, 11, 20, 99, 300 };   /* 300: not allowed */

static void test_model_converges(void **state)
{
	static const struct dev_range vl[] = { { 1, 99 } };
	static const struct dev_range pl[] = { { 1, 20 } };
	struct dev_switch sw = { .name = "m", .nports = RP, .vlans = vl, .n_vlans = 1, .ports = pl, .n_ports = 1,
				 .idle_vlan = 99 };
	unsigned ran = 0, with_steps = 0;
	(void)state;
	for (unsigned it = 0; it < 200; it++) {
		rng = 0x2545f4914f6cdd1dull ^ (it * 0x9e3779b97f4a7c15ull + 7);
		struct dev_snmp_state st;
		st_init(&st, RP);
		for (size_t i = 0; i < ARRAY_LEN(rv); i++) {
			if (rv[i] != 1 && rnd(2))
				continue;
			char name[16];
			snprintf(name, sizeof name, "%s%u", rnd(2) ? "netd-" : "ops-", rv[i]);
			st_row(&st, rv[i], name, rnd(6) ? 1 : (uint8_t)(2 + rnd(2)), NULL, NULL);
			struct dev_vlan_row *r = &st.actual.rows[st.actual.n_rows - 1];
			for (unsigned p = 1; p <= RP; p++) {
				if (!rnd(3))
					dev_portlist_set(&r->egress, p);
				if (!rnd(5))
					dev_portlist_set(&r->untagged, p);
			}
		}
		for (unsigned p = 1; p <= RP; p++) {
			st.actual.pvid[p] = rnd(2) ? 1 : rv[rnd(ARRAY_LEN(rv))];
			if (rnd(3) == 0)
				snprintf(st.ports[p - 1].alias, sizeof st.ports[p - 1].alias, "netd: n%u eth0", p);
		}
		struct dev_link links[RP];
		struct dev_nic nics[RP];
		struct dev_net nets[RP][3];
		size_t n = 0;
		for (unsigned p = 1; p <= 20; p++) {
			if (rnd(3) == 0)
				continue;
			size_t k = 0;
			links[n] = (struct dev_link){ .port = p };
			snprintf(links[n].node, sizeof links[n].node, "n%u", p);
			snprintf(links[n].nic, sizeof links[n].nic, "eth0");
			nics[n] = (struct dev_nic){ .nets = nets[n] };
			memcpy(nics[n].node, links[n].node, sizeof nics[n].node);
			memcpy(nics[n].nic, links[n].nic, sizeof nics[n].nic);
			if (rnd(2))
				nets[n][k++] = (struct dev_net){ "u", rnd(2) ? 10 : 11, false };
			if (rnd(2))
				nets[n][k++] = (struct dev_net){ "t", 20, true };
			nics[n].n_nets = rnd(6) ? k : 0;
			n++;
		}
		struct dev_desired d;
		struct dev_snmp_plan p;
		struct dev_step *steps;
		size_t ns;
		struct netd_err e = { 0 };
		if (dev_desired(&sw, links, n, nics, n, &d, &e))
			fail_msg("iteration %u: desired: %s", it, e.msg);
		int rc = dev_snmp_plan(&sw, &d, &st, &p, &e);
		if (rc == NETD_EINVAL && strstr(e.msg, "does not activate")) {   /* a foreign non-active row in use */
			dev_desired_free(&d);
			dev_snmp_state_free(&st);
			continue;
		}
		if (rc)
			fail_msg("iteration %u: plan: %s", it, e.msg);
		assert_int_equal(dev_snmp_steps(&sw, &st, &p, &steps, &ns, &e), 0);
		ran++;
		with_steps += ns > 0;
		uint8_t last = 0;
		for (size_t i = 0; i < ns; i++) {
			assert_true(steps[i].group >= last);   /* groups in order */
			last = steps[i].group;
			for (size_t k = 0; k < steps[i].n_vbs; k++)
				if (dev_snmp_state_set(&st, &steps[i].vbs[k], &e))
					fail_msg("iteration %u: step %s: %s", it, steps[i].label, e.msg);
		}
		free(steps);
		dev_snmp_plan_free(&p);
		assert_int_equal(dev_snmp_plan(&sw, &d, &st, &p, &e), 0);
		if (dev_snmp_plan_size(&p)) {
			assert_int_equal(dev_snmp_steps(&sw, &st, &p, &steps, &ns, &e), 0);
			fail_msg("iteration %u: a second plan has %zu steps, first %s", it, ns, steps[0].label);
		}
		dev_snmp_plan_free(&p);
		dev_desired_free(&d);
		dev_snmp_state_free(&st);
	}
	/* the property was exercised, not skipped */
	if (ran < 150 || with_steps < ran - 5)
		fail_msg("only %u of 200 scenarios ran, %u with steps", ran, with_steps);
}

/* The undo of every step restores the state before it. */
static void test_undo_restores(void **state)
{
	static const struct dev_range vl[] = { { 1, 99 } };
	static const struct dev_range pl[] = { { 1, 8 } };
	struct dev_switch sw = { .name = "u", .nports = 8, .vlans = vl, .n_vlans = 1, .ports = pl, .n_ports = 1,
				 .idle_vlan = 99 };
	struct dev_snmp_state st;
	struct dev_net both[] = { { "a", 10, false }, { "b", 20, true } };
	struct dev_link links[] = { { .port = 1, .node = "n1", .nic = "eth0" }, { .port = 2, .node = "n2", .nic = "eth0" } };
	struct dev_nic nics[] = { { "n1", "eth0", "", 0, both, 2 } };   /* n2 released */
	struct dev_desired d;
	struct dev_snmp_plan p;
	struct dev_step *steps;
	size_t ns;
	struct netd_err e = { 0 };
	(void)state;

	st_init(&st, 8);
	st_row(&st, 1, "default", 1, (unsigned[]){ 1, 2, 3, 0 }, (unsigned[]){ 1, 2, 3, 0 });
	st_row(&st, 30, "netd-gone", 1, NULL, NULL);
	st_row(&st, 20, "netd-b", 2, NULL, NULL);   /* notInService: activated */
	assert_int_equal(dev_desired(&sw, links, 2, nics, 1, &d, &e), 0);
	assert_int_equal(dev_snmp_plan(&sw, &d, &st, &p, &e), 0);
	assert_int_equal(p.n_activate, 1);
	assert_int_equal(dev_snmp_steps(&sw, &st, &p, &steps, &ns, &e), 0);
	for (size_t i = 0; i < ns; i++) {
		struct dev_snmp_state before, after;
		assert_int_equal(dev_snmp_state_copy(&st, &before), 0);
		for (size_t k = 0; k < steps[i].n_vbs; k++)
			assert_int_equal(dev_snmp_state_set(&st, &steps[i].vbs[k], &e), 0);
		for (size_t k = 0; k < steps[i].n_vbs; k++)
			assert_true(dev_snmp_state_holds(&st, &steps[i].vbs[k]));
		assert_int_equal(dev_snmp_state_copy(&st, &after), 0);
		for (size_t k = 0; k < steps[i].n_undo; k++)
			assert_int_equal(dev_snmp_state_set(&after, &steps[i].undo[k], &e), 0);
		for (size_t k = 0; k < steps[i].n_undo; k++)
			assert_true(dev_snmp_state_holds(&after, &steps[i].undo[k]));
		/* rows, PVIDs and aliases are back (row order may differ) */
		assert_int_equal(after.actual.n_rows, before.actual.n_rows);
		for (size_t r = 0; r < before.actual.n_rows; r++) {
			bool found = false;
			for (size_t q = 0; q < after.actual.n_rows; q++)
				if (after.actual.rows[q].vlan == before.actual.rows[r].vlan) {
					found = true;
					assert_memory_equal(&after.actual.rows[q].egress, &before.actual.rows[r].egress,
							    sizeof after.actual.rows[q].egress);
					assert_memory_equal(&after.actual.rows[q].untagged, &before.actual.rows[r].untagged,
							    sizeof after.actual.rows[q].untagged);
					if (steps[i].kind != DEV_STEP_ACTIVATE || before.row_status[r] == 2)
						assert_int_equal(after.row_status[q], before.row_status[r]);
				}
			if (!found)
				fail_msg("step %s: undo lost VLAN %u", steps[i].label, before.actual.rows[r].vlan);
		}
		assert_memory_equal(after.actual.pvid, before.actual.pvid, sizeof after.actual.pvid);
		for (size_t q = 0; q < before.n_ports; q++)
			assert_string_equal(after.ports[q].alias, before.ports[q].alias);
		dev_snmp_state_free(&before);
		dev_snmp_state_free(&after);
	}
	free(steps);
	dev_snmp_plan_free(&p);
	assert_int_equal(dev_snmp_plan(&sw, &d, &st, &p, &e), 0);
	assert_int_equal(dev_snmp_plan_size(&p), 0);
	dev_snmp_plan_free(&p);
	dev_desired_free(&d);

	/* a foreign non-active row in use is refused */
	st.row_status[0] = 2;   /* "default", now notInService */
	struct dev_nic n2[] = { { "n1", "eth0", "", 0, (struct dev_net[]){ { "d", 1, false } }, 1 } };
	assert_int_equal(dev_desired(&sw, links, 1, n2, 1, &d, &e), 0);
	assert_int_equal(dev_snmp_plan(&sw, &d, &st, &p, &e), NETD_EINVAL);
	want_substr("foreign", e.msg, "VLAN 1: row \"default\" is notInService");
	dev_desired_free(&d);
	dev_snmp_state_free(&st);
}

static void test_alias_text(void **state)
{
	struct dev_port_want w;
	char buf[DEV_TEXT_MAX];
	(void)state;
	memset(&w, 0, sizeof w);
	snprintf(w.node, sizeof w.node, "web1");
	snprintf(w.nic, sizeof w.nic, "eth0");
	assert_string_equal(dev_port_alias(&w, buf, sizeof buf), "netd: web1 eth0");
	w.released = true;
	assert_string_equal(dev_port_alias(&w, buf, sizeof buf), "netd: idle");
	w.released = false;
	memset(w.node, 'n', sizeof w.node - 1);
	dev_port_alias(&w, buf, sizeof buf);
	assert_int_equal(strlen(buf), DEV_ALIAS_LEN);
	assert_memory_equal(buf, "netd: nnn", 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steps_encoding),
		cmocka_unit_test(test_portlist_varbinds),
		cmocka_unit_test(test_lldp_ids),
		cmocka_unit_test(test_fdb_index),
		cmocka_unit_test(test_reply_state),
		cmocka_unit_test(test_reply_links),
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_learn),
		cmocka_unit_test(test_model_converges),
		cmocka_unit_test(test_undo_restores),
		cmocka_unit_test(test_alias_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
