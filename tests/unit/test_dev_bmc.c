/* tests/unit/test_dev_bmc.c — the pure half of devices/bmc.h: validation of
 * a wanted LAN configuration (netmask contiguity, gateway inside the subnet,
 * VLAN 1..4094, ...), the ordered plan against an actual configuration,
 * the packing of addresses into FreeIPMI field values, and the mapping of
 * completion codes and FreeIPMI errors.  Table-driven; no BMC, no I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <freeipmi/api/ipmi-api.h>

#include "devices/bmc.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ALL_HAVE (DEV_BMC_HAVE(DEV_BMC_P_IP) | DEV_BMC_HAVE(DEV_BMC_P_IP_SOURCE) | DEV_BMC_HAVE(DEV_BMC_P_MAC) | \
		  DEV_BMC_HAVE(DEV_BMC_P_NETMASK) | DEV_BMC_HAVE(DEV_BMC_P_GATEWAY) | DEV_BMC_HAVE(DEV_BMC_P_VLAN))

static void ip4(const char *s, uint8_t out[4])
{
	if (dev_bmc_ipv4_parse(s, out) != 0)
		fail_msg("bad test address %s", s);
}

static void want_substr(const char *what, const char *got, const char *want)
{
	if (!strstr(got, want))
		fail_msg("%s: message \"%s\" lacks \"%s\"", what, got, want);
}

/* ---- encodings ---- */

static void test_ipv4_parse(void **state)
{
	static const struct {
		const char *in;
		int rc;
		uint8_t out[4];
	} cases[] = {
		{ "10.1.2.3", 0, { 10, 1, 2, 3 } },
		{ "0.0.0.0", 0, { 0, 0, 0, 0 } },
		{ "255.255.255.255", 0, { 255, 255, 255, 255 } },
		{ "192.168.001.010", 0, { 192, 168, 1, 10 } },
		{ "256.1.1.1", NETD_EINVAL, { 0 } },
		{ "1.2.3", NETD_EINVAL, { 0 } },
		{ "1.2.3.4.5", NETD_EINVAL, { 0 } },
		{ "1.2.3.4 ", NETD_EINVAL, { 0 } },
		{ "1..3.4", NETD_EINVAL, { 0 } },
		{ "1.2.3.0004", NETD_EINVAL, { 0 } },
		{ "a.b.c.d", NETD_EINVAL, { 0 } },
		{ "", NETD_EINVAL, { 0 } },
		{ "-1.2.3.4", NETD_EINVAL, { 0 } },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint8_t out[4] = { 9, 9, 9, 9 }, untouched[4] = { 9, 9, 9, 9 };
		int rc = dev_bmc_ipv4_parse(cases[i].in, out);
		if (rc != cases[i].rc)
			fail_msg("\"%s\": rc %d, want %d", cases[i].in, rc, cases[i].rc);
		assert_memory_equal(out, rc ? untouched : cases[i].out, 4);
	}
	assert_int_equal(dev_bmc_ipv4_parse(NULL, (uint8_t[4]){ 0 }), NETD_EINVAL);
}

/* FreeIPMI packs fields least significant bit first: the first octet on the
 * wire is the value's low byte (IPMI sends addresses MS-byte first). */
static void test_field_packing(void **state)
{
	static const struct {
		const char *ip;
		uint32_t field;
	} cases[] = {
		{ "10.1.2.3", 0x0302010a },
		{ "192.168.1.10", 0x0a01a8c0 },
		{ "255.255.255.0", 0x00ffffff },
		{ "0.0.0.0", 0 },
		{ "1.0.0.0", 0x00000001 },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint8_t ip[4], back[4];
		ip4(cases[i].ip, ip);
		assert_int_equal(dev_bmc_ipv4_to_field(ip), cases[i].field);
		dev_bmc_ipv4_from_field(cases[i].field, back);
		assert_memory_equal(back, ip, 4);
	}
	/* bits above 32 are not part of the address */
	uint8_t ip[4];
	dev_bmc_ipv4_from_field(0xff0302010aULL, ip);
	assert_memory_equal(ip, ((uint8_t[]){ 10, 1, 2, 3 }), 4);

	uint8_t mac[6];
	dev_bmc_mac_from_field(0xefcdab005452ULL, mac);
	assert_memory_equal(mac, ((uint8_t[]){ 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef }), 6);
}

/* Get Channel Cipher Suites records (IPMI 2.0 table 22-18), as ipmi_sim
 * sends them, with an OEM record whose IANA octets look like a start byte. */
static void test_cipher_ids(void **state)
{
	static const uint8_t sim[] = {
		0xc0, 0x00, 0x00, 0x40, 0x80, 0xc0, 0x01, 0x01, 0x40, 0x80, 0xc0, 0x02, 0x01, 0x41, 0x80,
		0xc0, 0x03, 0x01, 0x41, 0x81, 0xc0, 0x11, 0x03, 0x44, 0x81,
	};
	static const uint8_t oem[] = { 0xc1, 0x30, 0xc0, 0xc0, 0xc1, 0x01, 0x41, 0x81, 0xc0, 0x03, 0x01 };
	uint8_t ids[8];
	(void)state;
	assert_int_equal(dev_bmc_cipher_ids(sim, sizeof sim, ids, sizeof ids), 5);
	assert_memory_equal(ids, ((uint8_t[]){ 0, 1, 2, 3, 17 }), 5);
	assert_int_equal(dev_bmc_cipher_ids(oem, sizeof oem, ids, sizeof ids), 2);
	assert_memory_equal(ids, ((uint8_t[]){ 0x30, 3 }), 2);
	/* capped; a start byte at the very end has no ID */
	assert_int_equal(dev_bmc_cipher_ids(sim, sizeof sim, ids, 2), 2);
	assert_int_equal(dev_bmc_cipher_ids((const uint8_t[]){ 0x01, 0xc0 }, 2, ids, sizeof ids), 0);
	assert_int_equal(dev_bmc_cipher_ids(NULL, 0, ids, sizeof ids), 0);
}

static void test_prefix_len(void **state)
{
	static const struct {
		const char *mask;
		int len;
	} cases[] = {
		{ "255.255.255.0", 24 }, { "255.255.255.252", 30 }, { "255.255.255.255", 32 },
		{ "128.0.0.0", 1 },     { "0.0.0.0", 0 },          { "255.255.254.0", 23 },
		{ "255.0.255.0", -1 },  { "255.255.255.1", -1 },   { "0.255.255.255", -1 },
		{ "255.255.253.0", -1 },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint8_t m[4];
		ip4(cases[i].mask, m);
		if (dev_bmc_prefix_len(m) != cases[i].len)
			fail_msg("%s: prefix %d, want %d", cases[i].mask, dev_bmc_prefix_len(m), cases[i].len);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dev_bmc_param_name(DEV_BMC_P_IP_SOURCE), "IP address source");
	assert_string_equal(dev_bmc_param_name(DEV_BMC_P_VLAN), "802.1q VLAN ID");
	assert_string_equal(dev_bmc_param_name((enum dev_bmc_param)99), "LAN parameter");
	assert_string_equal(dev_bmc_source_name(DEV_BMC_SRC_STATIC), "static");
	assert_string_equal(dev_bmc_source_name(DEV_BMC_SRC_DHCP), "DHCP");
	assert_string_equal(dev_bmc_source_name(7), "reserved");

	char buf[96];
	struct dev_bmc_op op = { .param = DEV_BMC_P_GATEWAY };
	ip4("10.1.2.1", op.ip);
	assert_string_equal(dev_bmc_op_print(&op, buf, sizeof buf), "default gateway IP = 10.1.2.1");
	op = (struct dev_bmc_op){ .param = DEV_BMC_P_VLAN, .vlan_id = 100, .vlan_enabled = true };
	assert_string_equal(dev_bmc_op_print(&op, buf, sizeof buf), "802.1q VLAN ID = 100 (enabled)");
	op = (struct dev_bmc_op){ .param = DEV_BMC_P_IP_SOURCE, .source = 1 };
	assert_string_equal(dev_bmc_op_print(&op, buf, sizeof buf), "IP address source = static");
	assert_string_equal(dev_bmc_op_value(&op, buf, sizeof buf), "static");
	op = (struct dev_bmc_op){ .param = DEV_BMC_P_SET_IN_PROGRESS, .source = 2 };
	assert_string_equal(dev_bmc_op_value(&op, buf, sizeof buf), "2 (commit write)");
	op.source = 0;
	assert_string_equal(dev_bmc_op_print(&op, buf, sizeof buf), "Set In Progress = 0 (set complete)");
	op = (struct dev_bmc_op){ .param = DEV_BMC_P_IP_SOURCE, .source = 1 };
	/* cut to fit, always terminated */
	assert_string_equal(dev_bmc_op_print(&op, buf, 6), "IP ad");
}

/* ---- validation ---- */

struct want_case {
	const char *ip, *mask, *gw;
	enum dev_bmc_vlan_mode mode;
	unsigned vlan;
	int rc;
	const char *msg;   /* substring of the refusal */
};

static void test_want_check(void **state)
{
	static const struct want_case cases[] = {
		{ "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, 0, NULL },
		{ "10.1.2.3", "255.255.255.0", "0.0.0.0", DEV_BMC_VLAN_KEEP, 0, 0, NULL },   /* no gateway */
		{ "10.1.2.3", "255.255.255.0", "10.1.2.254", DEV_BMC_VLAN_ON, 1, 0, NULL },
		{ "10.1.2.3", "255.255.255.0", "10.1.2.254", DEV_BMC_VLAN_ON, 4094, 0, NULL },
		{ "10.1.2.3", "255.255.255.0", "10.1.2.254", DEV_BMC_VLAN_OFF, 0, 0, NULL },
		{ "10.1.2.1", "255.255.255.252", "10.1.2.2", DEV_BMC_VLAN_KEEP, 0, 0, NULL }, /* /30 */
		{ "10.200.3.4", "255.0.0.0", "10.0.0.1", DEV_BMC_VLAN_KEEP, 0, 0, NULL },
		/* netmask */
		{ "10.1.2.3", "255.0.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL,
		  "netmask 255.0.255.0 is not contiguous" },
		{ "10.1.2.3", "255.255.255.1", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL, "not contiguous" },
		{ "10.1.2.3", "0.0.0.0", "0.0.0.0", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL,
		  "netmask 0.0.0.0 (/0) must have a prefix length of 1..30" },
		{ "10.1.2.3", "255.255.255.254", "0.0.0.0", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL, "(/31)" },
		{ "10.1.2.3", "255.255.255.255", "0.0.0.0", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL, "(/32)" },
		/* ip */
		{ "0.0.0.0", "255.255.255.0", "0.0.0.0", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL, "ip 0.0.0.0 is in 0.0.0.0/8" },
		{ "127.0.0.5", "255.0.0.0", "0.0.0.0", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL, "ip 127.0.0.5 is a loopback" },
		{ "224.0.0.5", "255.255.255.0", "0.0.0.0", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL, "multicast" },
		{ "250.1.1.1", "255.255.255.0", "0.0.0.0", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL, "reserved" },
		{ "10.1.2.0", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL,
		  "ip 10.1.2.0 is the network address" },
		{ "10.1.2.255", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL,
		  "ip 10.1.2.255 is the broadcast address" },
		/* gateway */
		{ "10.1.2.3", "255.255.255.0", "10.1.3.1", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL,
		  "gateway 10.1.3.1 is outside the subnet of ip 10.1.2.3/24" },
		{ "10.1.2.3", "255.255.255.0", "192.168.0.1", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL, "outside the subnet" },
		{ "10.1.2.3", "255.255.255.0", "10.1.2.0", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL,
		  "gateway 10.1.2.0 is the network address" },
		{ "10.1.2.3", "255.255.255.0", "10.1.2.255", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL,
		  "gateway 10.1.2.255 is the broadcast address" },
		{ "10.1.2.3", "255.255.255.0", "10.1.2.3", DEV_BMC_VLAN_KEEP, 0, NETD_EINVAL, "gateway 10.1.2.3 is ip itself" },
		/* vlan */
		{ "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_ON, 0, NETD_EINVAL, "vlan_id 0 is not 1..4094" },
		{ "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_ON, 4095, NETD_EINVAL, "vlan_id 4095 is not 1..4094" },
		{ "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 4095, 0, NULL },  /* id unused */
		{ "10.1.2.3", "255.255.255.0", "10.1.2.1", (enum dev_bmc_vlan_mode)3, 10, NETD_EINVAL, "vlan_mode 3" },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct want_case *c = &cases[i];
		struct dev_bmc_want w = { .vlan_mode = c->mode, .vlan_id = (uint16_t)c->vlan };
		struct netd_err e = { 0 };
		ip4(c->ip, w.ip);
		ip4(c->mask, w.netmask);
		ip4(c->gw, w.gateway);
		int rc = dev_bmc_want_check(&w, i % 2 ? "BMC 10.0.0.9:623" : NULL, &e);
		if (rc != c->rc)
			fail_msg("case %zu (%s/%s gw %s): rc %d, want %d (%s)", i, c->ip, c->mask, c->gw, rc, c->rc,
				 e.msg);
		if (c->msg) {
			want_substr("want_check", e.msg, c->msg);
			if (i % 2)
				want_substr("want_check prefix", e.msg, "BMC 10.0.0.9:623: ");
		}
	}
}

/* ---- difference ---- */

struct lan_text {
	uint8_t source;
	const char *ip, *mask, *gw;
	bool vlan_on;
	unsigned vlan;
	unsigned have;
};

static struct dev_bmc_lan lan_of(const struct lan_text *t)
{
	struct dev_bmc_lan a = { .channel = 2, .ip_source = t->source, .vlan_enabled = t->vlan_on,
				 .vlan_id = (uint16_t)t->vlan, .have = t->have ? t->have : ALL_HAVE };
	ip4(t->ip, a.ip);
	ip4(t->mask, a.netmask);
	ip4(t->gw, a.gateway);
	return a;
}

/* The plan as "op; op; ..." text. */
static void plan_text(const struct dev_bmc_plan *p, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < p->n && o < len; i++) {
		char one[96];
		int n = snprintf(buf + o, len - o, "%s%s", i ? "; " : "", dev_bmc_op_print(&p->ops[i], one, sizeof one));
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static void test_diff(void **state)
{
	static const struct {
		struct lan_text actual;
		const char *ip, *mask, *gw;
		enum dev_bmc_vlan_mode mode;
		unsigned vlan;
		int rc;
		const char *plan;   /* or the refusal's substring */
	} cases[] = {
		/* DHCP -> static: source first, then everything, even what matches */
		{ { DEV_BMC_SRC_DHCP, "10.20.0.57", "255.255.0.0", "10.20.0.1", false, 0, 0 },
		  "10.20.30.5", "255.255.255.0", "10.20.30.1", DEV_BMC_VLAN_KEEP, 0, 0,
		  "IP address source = static; IP address = 10.20.30.5; subnet mask = 255.255.255.0; "
		  "default gateway IP = 10.20.30.1" },
		{ { DEV_BMC_SRC_UNSPECIFIED, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 0, 0 },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, 0,
		  "IP address source = static; IP address = 10.1.2.3; subnet mask = 255.255.255.0; "
		  "default gateway IP = 10.1.2.1" },
		/* the same: nothing */
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 0, 0 },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, 0, "" },
		/* only what differs, in the order address, mask, gateway */
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 0, 0 },
		  "10.1.2.3", "255.255.255.0", "10.1.2.254", DEV_BMC_VLAN_KEEP, 0, 0, "default gateway IP = 10.1.2.254" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 0, 0 },
		  "10.1.2.9", "255.255.0.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, 0,
		  "IP address = 10.1.2.9; subnet mask = 255.255.0.0" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 0, 0 },
		  "10.1.2.3", "255.255.255.0", "0.0.0.0", DEV_BMC_VLAN_KEEP, 0, 0, "default gateway IP = 0.0.0.0" },
		/* VLAN: last, only when asked */
		{ { DEV_BMC_SRC_DHCP, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 0, 0 },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_ON, 100, 0,
		  "IP address source = static; IP address = 10.1.2.3; subnet mask = 255.255.255.0; "
		  "default gateway IP = 10.1.2.1; 802.1q VLAN ID = 100 (enabled)" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", true, 100, 0 },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_ON, 100, 0, "" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", true, 100, 0 },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_ON, 200, 0, "802.1q VLAN ID = 200 (enabled)" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 100, 0 },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_ON, 100, 0, "802.1q VLAN ID = 100 (enabled)" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", true, 100, 0 },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_OFF, 0, 0, "802.1q VLAN ID = 100 (disabled)" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 7, 0 },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_OFF, 0, 0, "" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", true, 100, 0 },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, 0, "" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", true, 100, 0 },
		  "10.1.2.4", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_ON, 101, 0,
		  "IP address = 10.1.2.4; 802.1q VLAN ID = 101 (enabled)" },
		/* parameters the BMC does not have */
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 0,
		    ALL_HAVE & ~DEV_BMC_HAVE(DEV_BMC_P_VLAN) },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_ON, 100, NETD_EUNSUPPORTED,
		  "802.1q VLAN ID (LAN parameter 20) is not supported by the BMC" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 0,
		    ALL_HAVE & ~DEV_BMC_HAVE(DEV_BMC_P_VLAN) },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, 0, "" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 0,
		    ALL_HAVE & ~DEV_BMC_HAVE(DEV_BMC_P_GATEWAY) },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, NETD_EUNSUPPORTED,
		  "default gateway IP (LAN parameter 12) is not supported" },
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 0,
		    ALL_HAVE & ~DEV_BMC_HAVE(DEV_BMC_P_IP_SOURCE) },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, NETD_EUNSUPPORTED,
		  "IP address source (LAN parameter 4)" },
		/* MAC is read for reporting only: not needed */
		{ { DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", false, 0,
		    ALL_HAVE & ~DEV_BMC_HAVE(DEV_BMC_P_MAC) },
		  "10.1.2.3", "255.255.255.0", "10.1.2.1", DEV_BMC_VLAN_KEEP, 0, 0, "" },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct dev_bmc_lan a = lan_of(&cases[i].actual);
		struct dev_bmc_want w = { .vlan_mode = cases[i].mode, .vlan_id = (uint16_t)cases[i].vlan };
		struct dev_bmc_plan p = { .n = 99 }, untouched = { .n = 99 };
		struct netd_err e = { 0 };
		char text[512];
		ip4(cases[i].ip, w.ip);
		ip4(cases[i].mask, w.netmask);
		ip4(cases[i].gw, w.gateway);
		assert_int_equal(dev_bmc_want_check(&w, NULL, NULL), 0);
		int rc = dev_bmc_diff(&w, &a, "BMC x:623", &p, &e);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, e.msg);
		if (rc) {
			want_substr("diff", e.msg, cases[i].plan);
			want_substr("diff prefix", e.msg, "BMC x:623: ");
			assert_memory_equal(&p, &untouched, sizeof p);   /* written only on success */
			continue;
		}
		plan_text(&p, text, sizeof text);
		if (strcmp(text, cases[i].plan))
			fail_msg("case %zu: plan \"%s\", want \"%s\"", i, text, cases[i].plan);
		assert_true(p.n <= DEV_BMC_PLAN_MAX);
	}
}

/* Applying the plan to the actual state gives a state whose plan is empty:
 * the idempotence a second apply relies on, over a grid of states. */
static void test_diff_converges(void **state)
{
	static const struct lan_text actuals[] = {
		{ DEV_BMC_SRC_DHCP, "10.20.0.57", "255.255.0.0", "10.20.0.1", false, 0, 0 },
		{ DEV_BMC_SRC_STATIC, "10.1.2.3", "255.255.255.0", "10.1.2.1", true, 5, 0 },
		{ DEV_BMC_SRC_UNSPECIFIED, "0.0.0.0", "0.0.0.0", "0.0.0.0", false, 0, 0 },
		{ DEV_BMC_SRC_BIOS, "192.168.0.120", "255.255.255.0", "0.0.0.0", true, 4094, 0 },
	};
	static const enum dev_bmc_vlan_mode modes[] = { DEV_BMC_VLAN_KEEP, DEV_BMC_VLAN_OFF, DEV_BMC_VLAN_ON };
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(actuals); i++) {
		for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
			struct dev_bmc_lan a = lan_of(&actuals[i]);
			struct dev_bmc_want w = { .vlan_mode = modes[m], .vlan_id = 100 };
			struct dev_bmc_plan p, again;
			ip4("10.1.2.3", w.ip);
			ip4("255.255.255.0", w.netmask);
			ip4("10.1.2.1", w.gateway);
			assert_int_equal(dev_bmc_diff(&w, &a, NULL, &p, NULL), 0);
			for (size_t k = 0; k < p.n; k++) {
				const struct dev_bmc_op *op = &p.ops[k];
				switch (op->param) {
				case DEV_BMC_P_IP_SOURCE: a.ip_source = op->source; break;
				case DEV_BMC_P_IP: memcpy(a.ip, op->ip, 4); break;
				case DEV_BMC_P_NETMASK: memcpy(a.netmask, op->ip, 4); break;
				case DEV_BMC_P_GATEWAY: memcpy(a.gateway, op->ip, 4); break;
				case DEV_BMC_P_VLAN:
					a.vlan_id = op->vlan_id;
					a.vlan_enabled = op->vlan_enabled;
					/* the VLAN is always the last op */
					assert_int_equal(k, p.n - 1);
					break;
				default: fail_msg("unexpected op %d", (int)op->param);
				}
			}
			assert_int_equal(dev_bmc_diff(&w, &a, NULL, &again, NULL), 0);
			assert_int_equal(again.n, 0);
		}
	}
}

/* ---- error mapping ---- */

static void test_cc_code(void **state)
{
	static const struct {
		uint8_t cc;
		int code;
	} cases[] = {
		{ 0x00, 0 },
		{ 0x80, NETD_EUNSUPPORTED }, { 0x82, NETD_EUNSUPPORTED }, { 0x83, NETD_EUNSUPPORTED },
		{ 0xC1, NETD_EUNSUPPORTED }, { 0xC2, NETD_EUNSUPPORTED },
		{ 0x81, NETD_ECONFLICT },    { 0xD5, NETD_ECONFLICT },
		{ 0xC7, NETD_EINVAL },       { 0xC8, NETD_EINVAL }, { 0xC9, NETD_EINVAL }, { 0xCC, NETD_EINVAL },
		{ 0xCB, NETD_ENOTFOUND },
		{ 0xD4, NETD_EPERM },
		{ 0xC0, -EBUSY },            { 0xD2, -EBUSY },
		{ 0xC3, -ETIMEDOUT },
		{ 0xFF, -EIO },              { 0xCE, -EIO }, { 0x01, -EIO },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (dev_bmc_cc_code(cases[i].cc) != cases[i].code)
			fail_msg("cc 0x%02X: %d, want %d", cases[i].cc, dev_bmc_cc_code(cases[i].cc), cases[i].code);
}

static void test_errnum_code(void **state)
{
	static const struct {
		int errnum;
		int code;
	} cases[] = {
		{ IPMI_ERR_SUCCESS, 0 },
		{ IPMI_ERR_USERNAME_INVALID, NETD_EAUTH },
		{ IPMI_ERR_PASSWORD_INVALID, NETD_EAUTH },
		{ IPMI_ERR_K_G_INVALID, NETD_EAUTH },
		{ IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED, NETD_EPERM },
		{ IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT, NETD_EPERM },
		{ IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE, NETD_EUNSUPPORTED },
		{ IPMI_ERR_IPMI_2_0_UNAVAILABLE, NETD_EUNSUPPORTED },
		{ IPMI_ERR_SESSION_TIMEOUT, -ETIMEDOUT },
		{ IPMI_ERR_CONNECTION_TIMEOUT, -ETIMEDOUT },
		{ IPMI_ERR_HOSTNAME_INVALID, NETD_EINVAL },
		{ IPMI_ERR_BMC_BUSY, -EBUSY },
		{ IPMI_ERR_OUT_OF_MEMORY, -ENOMEM },
		{ IPMI_ERR_BAD_COMPLETION_CODE, -EIO },
		{ IPMI_ERR_SYSTEM_ERROR, -EIO },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (dev_bmc_ipmi_errnum_code(cases[i].errnum) != cases[i].code)
			fail_msg("errnum %d: %d, want %d", cases[i].errnum, dev_bmc_ipmi_errnum_code(cases[i].errnum),
				 cases[i].code);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_parse),
		cmocka_unit_test(test_field_packing),
		cmocka_unit_test(test_cipher_ids),
		cmocka_unit_test(test_prefix_len),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_want_check),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_converges),
		cmocka_unit_test(test_cc_code),
		cmocka_unit_test(test_errnum_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
