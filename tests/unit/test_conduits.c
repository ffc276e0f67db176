/* tests/unit/test_conduits.c — conduits/: references, bus order, resolution,
 * rules, validation.  Table-driven; links only the conduits library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conduits/conduits.h"
#include "core/model.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAXR 10

static void want_substr(const char *what, const char *got, const char *want)
{
	if (!strstr(got, want))
		fail_msg("%s: message \"%s\" lacks \"%s\"", what, got, want);
}

static size_t count_strs(const char *const *v, size_t max)
{
	size_t n = 0;
	while (n < max && v[n])
		n++;
	return n;
}

/* ---- inventories ---- */

#define NIC(nm, cls, bus) { .name = nm, .speed_class = cls, .pci = bus, .mtu = 1500, .ifindex = 1 }

/* Input order scrambled on purpose: bus order is 02:00.0 02:00.1 03:00.0 03:00.1. */
static const struct cdt_nic inv_mixed[] = {
	NIC("eth3", 10000, "0000:03:00.1"),
	NIC("eth0", 1000, "0000:02:00.0"),
	NIC("eth2", 10000, "0000:03:00.0"),
	{ .name = "eth1", .speed_class = 1000, .pci = "0000:02:00.1", .mac = { 0x52, 0x54, 0, 0xaa, 0xaa, 0xaa },
	  .has_perm_mac = true, .perm_mac = { 0x52, 0x54, 0, 0, 0, 0x03 } },
};
static const struct cdt_nic inv_10g[] = {
	NIC("p2p2", 10000, "0000:05:00.1"),
	NIC("p2p1", 10000, "0000:05:00.0"),
};
static const struct cdt_nic inv_slow[] = {
	NIC("eth0", 1000, "0000:01:00.0"),
	NIC("eth2", 100, "0000:02:00.1"),
	NIC("eth1", 100, "0000:02:00.0"),
};
/* A class no token names (56g) and a NIC of unknown speed without a bus path. */
static const struct cdt_nic inv_odd[] = {
	NIC("ib0", 56000, "0000:04:00.0"),
	NIC("veth0", 0, ""),
	NIC("eth0", 1000, "0000:01:00.0"),
};
/* Four 1g NICs on two buses, for the bus-order override. */
static const struct cdt_nic inv_buses[] = {
	NIC("em1", 1000, "0000:01:00.0"),
	NIC("em2", 1000, "0000:01:00.1"),
	NIC("p3p1", 1000, "0000:81:00.0"),
	NIC("p3p2", 1000, "0000:81:00.1"),
};

static const char *const pre_81[] = { "0000:81:" };
static const struct cdt_bus_order bo_81 = { "Test Box", pre_81, 1 };

/* ---- speeds, modes ---- */

static void test_speed(void **state)
{
	static const struct {
		uint32_t mbps;
		const char *text;
	} cases[] = {
		{ 10, "10m" },      { 100, "100m" },   { 1000, "1g" },     { 2500, "2.5g" },
		{ 5000, "5g" },     { 10000, "10g" },  { 25000, "25g" },   { 40000, "40g" },
		{ 50000, "50g" },   { 100000, "100g" }, { 200000, "200g" }, { 400000, "400g" },
	};
	char buf[16];
	uint32_t v = 7;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_string_equal(cdt_speed_print(cases[i].mbps, buf, sizeof buf), cases[i].text);
		assert_int_equal(cdt_speed_parse(cases[i].text, &v), 0);
		assert_int_equal(v, cases[i].mbps);
	}
	assert_string_equal(cdt_speed_print(0, buf, sizeof buf), "unknown speed");
	assert_string_equal(cdt_speed_print(56000, buf, sizeof buf), "56g");
	assert_string_equal(cdt_speed_print(1500, buf, sizeof buf), "1500m");
	assert_int_equal(cdt_speed_parse("10G", &v), 0);
	assert_int_equal(v, 10000);
	v = 7;
	assert_int_equal(cdt_speed_parse("3g", &v), NETD_EINVAL);
	assert_int_equal(cdt_speed_parse("", &v), NETD_EINVAL);
	assert_int_equal(cdt_speed_parse("100000000g", &v), NETD_EINVAL);
	assert_int_equal(v, 7);
}

static void test_mode(void **state)
{
	static const char *const names[] = { "*", "single", "dual", "team" };
	uint8_t m = 99;

	(void)state;
	for (uint8_t i = 0; i < 4; i++) {
		assert_int_equal(cdt_mode_parse(names[i], &m), 0);
		assert_int_equal(m, i);
		assert_string_equal(cdt_mode_name(i), names[i]);
	}
	m = 99;
	assert_int_equal(cdt_mode_parse("Team", &m), NETD_EINVAL);
	assert_int_equal(cdt_mode_parse(NULL, &m), NETD_EINVAL);
	assert_int_equal(m, 99);
	assert_string_equal(cdt_mode_name(4), "?");
}

/* ---- reference parse / print ---- */

static void test_ref_parse_ok(void **state)
{
	static const struct {
		const char *in, *out;
		uint8_t kind, sign;
		uint32_t speed, index;
	} cases[] = {
		{ "1g1", "1g1", CDT_REF_SPEED, 0, 1000, 1 },
		{ "+1g2", "+1g2", CDT_REF_SPEED, '+', 1000, 2 },
		{ "-10g1", "-10g1", CDT_REF_SPEED, '-', 10000, 1 },
		{ "?1g1", "?1g1", CDT_REF_SPEED, '?', 1000, 1 },
		{ "10m1", "10m1", CDT_REF_SPEED, 0, 10, 1 },
		{ "100m3", "100m3", CDT_REF_SPEED, 0, 100, 3 },
		{ "2.5g1", "2.5g1", CDT_REF_SPEED, 0, 2500, 1 },
		{ "5g1", "5g1", CDT_REF_SPEED, 0, 5000, 1 },
		{ "25g2", "25g2", CDT_REF_SPEED, 0, 25000, 2 },
		{ "40g1", "40g1", CDT_REF_SPEED, 0, 40000, 1 },
		{ "50g1", "50g1", CDT_REF_SPEED, 0, 50000, 1 },
		{ "100g1", "100g1", CDT_REF_SPEED, 0, 100000, 1 },
		{ "200g10", "200g10", CDT_REF_SPEED, 0, 200000, 10 },
		{ "400g12", "400g12", CDT_REF_SPEED, 0, 400000, 12 },
		{ "1G1", "1g1", CDT_REF_SPEED, 0, 1000, 1 },
		{ "+2.5G4", "+2.5g4", CDT_REF_SPEED, '+', 2500, 4 },
		{ "?100M1024", "?100m1024", CDT_REF_SPEED, '?', 100, 1024 },
		{ "mac:52:54:00:AB:cd:EF", "mac:52:54:00:ab:cd:ef", CDT_REF_MAC, 0, 0, 0 },
		{ "mac:02:00:00:00:00:00", "mac:02:00:00:00:00:00", CDT_REF_MAC, 0, 0, 0 },
		{ "pci:0000:03:00.1", "pci:0000:03:00.1", CDT_REF_PCI, 0, 0, 0 },
		{ "pci:0000:3A:1F.7", "pci:0000:3a:1f.7", CDT_REF_PCI, 0, 0, 0 },
		{ "pci:10000:00:00.0", "pci:10000:00:00.0", CDT_REF_PCI, 0, 0, 0 },
		{ "pci:000000ab:01:02.3", "pci:00ab:01:02.3", CDT_REF_PCI, 0, 0, 0 },
		{ "name:eth0", "name:eth0", CDT_REF_NAME, 0, 0, 0 },
		{ "name:enp3s0f1", "name:enp3s0f1", CDT_REF_NAME, 0, 0, 0 },
		{ "name:a-b_c.d@x", "name:a-b_c.d@x", CDT_REF_NAME, 0, 0, 0 },
		{ "name:123456789012345", "name:123456789012345", CDT_REF_NAME, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct cdt_ref r, back;
		struct netd_err e = { 0 };
		char buf[CDT_REF_STRLEN], buf2[CDT_REF_STRLEN];
		int rc = cdt_ref_parse(cases[i].in, &r, &e);

		if (rc != 0)
			fail_msg("parse(\"%s\") = %d (%s)", cases[i].in, rc, e.msg);
		assert_int_equal(r.kind, cases[i].kind);
		if (r.kind == CDT_REF_SPEED) {
			assert_int_equal(r.sign, cases[i].sign);
			assert_int_equal(r.speed, cases[i].speed);
			assert_int_equal(r.index, cases[i].index);
		}
		cdt_ref_print(&r, buf, sizeof buf);
		if (strcmp(buf, cases[i].out))
			fail_msg("print(parse(\"%s\")) = \"%s\", want \"%s\"", cases[i].in, buf, cases[i].out);
		assert_int_equal(cdt_ref_parse(buf, &back, &e), 0);
		assert_true(cdt_ref_equal(&r, &back));
		assert_string_equal(cdt_ref_print(&back, buf2, sizeof buf2), buf);
		assert_int_equal(e.code, 0);
	}
}

static void test_ref_fields(void **state)
{
	struct cdt_ref r;
	struct cdt_ref r2;

	(void)state;
	assert_int_equal(cdt_ref_parse("mac:52:54:00:12:34:56", &r, NULL), 0);
	assert_memory_equal(r.mac, ((uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0x56 }), 6);
	assert_int_equal(cdt_ref_parse("pci:0001:3a:1f.7", &r, NULL), 0);
	assert_int_equal(r.pci.domain, 1);
	assert_int_equal(r.pci.bus, 0x3a);
	assert_int_equal(r.pci.dev, 0x1f);
	assert_int_equal(r.pci.fn, 7);
	assert_int_equal(cdt_ref_parse("name:eth0", &r, NULL), 0);
	assert_string_equal(r.name, "eth0");
	/* equality is by kind and value */
	assert_int_equal(cdt_ref_parse("+1g1", &r, NULL), 0);
	assert_int_equal(cdt_ref_parse("1g1", &r2, NULL), 0);
	assert_false(cdt_ref_equal(&r, &r2));
	assert_int_equal(cdt_ref_parse("+1g2", &r2, NULL), 0);
	assert_false(cdt_ref_equal(&r, &r2));
	assert_int_equal(cdt_ref_parse("+10g1", &r2, NULL), 0);
	assert_false(cdt_ref_equal(&r, &r2));
	assert_int_equal(cdt_ref_parse("name:eth1", &r2, NULL), 0);
	assert_false(cdt_ref_equal(&r, &r2));
	/* a short buffer gets a cut, terminated string */
	char small[4];
	assert_int_equal(cdt_ref_parse("name:eth0", &r, NULL), 0);
	assert_string_equal(cdt_ref_print(&r, small, sizeof small), "nam");
}

static void test_ref_parse_errors(void **state)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "", "empty interface reference" },
		{ "3g1", "unknown speed \"3g\" (known: 10m 100m 1g 2.5g 5g 10g 25g 40g 50g 100g 200g 400g)" },
		{ "1.5g1", "unknown speed \"1.5g\"" },
		{ "2.5.g1", "unknown speed \"2.5.g\"" },
		{ "1000000000g1", "unknown speed \"10000000...\"" },
		{ "1g0", "\"1g0\": index 0: indexes start at 1" },
		{ "1g01", "index has a leading zero" },
		{ "1g00", "index has a leading zero" },
		{ "1g1025", "index out of range 1..1024" },
		{ "1g99999999999999999999", "index out of range 1..1024" },
		{ "1g", "missing index after speed 1g" },
		{ "+2.5g", "missing index after speed 2.5g" },
		{ "1gx", "expected an index after the speed, found x" },
		{ "1g1x", "trailing junk after the index: x" },
		{ "1g1 ", "trailing junk after the index:  " },
		{ "1g1\x01", "\"1g1\\x01\": trailing junk after the index: \\x01" },
		{ " 1g1", "expected [+-?]<speed><index>" },
		{ "g1", "expected [+-?]<speed><index>" },
		{ "+", "expected [+-?]<speed><index>" },
		{ "++1g1", "expected [+-?]<speed><index>" },
		{ "+-1g1", "expected [+-?]<speed><index>" },
		{ "MAC:52:54:00:00:00:01", "expected [+-?]<speed><index>" },
		{ "10", "speed without a unit (m or g): 10" },
		{ "10x1", "speed without a unit (m or g): 10" },
		{ "+mac:52:54:00:00:00:01", "a sign applies to speed references only" },
		{ "?name:eth0", "a sign applies to speed references only" },
		{ "mac:", "bad MAC: expected six hex pairs separated by ':'" },
		{ "mac:52:54:00:00:00", "bad MAC: expected six hex pairs" },
		{ "mac:52:54:00:00:00:0g", "bad MAC: expected six hex pairs" },
		{ "mac:52-54-00-00-00-01", "bad MAC: expected six hex pairs" },
		{ "mac:5:54:00:00:00:01", "bad MAC: expected six hex pairs" },
		{ "mac:52:54:00:00:00:01:02", "trailing junk after the MAC: :02" },
		{ "mac:01:00:5e:00:00:01", "bad MAC: a multicast address names no NIC" },
		{ "mac:00:00:00:00:00:00", "bad MAC: all zeroes names no NIC" },
		{ "pci:03:00.1", "bad PCI bus path: expected DDDD:BB:DD.F" },
		{ "pci:000:03:00.1", "bad PCI bus path" },
		{ "pci:123456789:00:00.0", "bad PCI bus path" },
		{ "pci:0000:03:00.8", "bad PCI bus path" },
		{ "pci:0000:03:00", "bad PCI bus path" },
		{ "pci:0000:3:00.1", "bad PCI bus path" },
		{ "pci:0000:03:20.0", "bad PCI bus path: device above 1f" },
		{ "pci:0000:03:00.1x", "trailing junk after the PCI bus path: x" },
		{ "name:", "empty interface name" },
		{ "name:1234567890123456", "interface name longer than 15 characters" },
		{ "name:eth 0", "interface name holds a space" },
		{ "name:a/b", "interface name holds a space, '/', ':'" },
		{ "name:a:b", "interface name holds a space, '/', ':'" },
		{ "name:\xc3\xa9th0", "non-ASCII" },
		{ "name:..", "interface name cannot be . or .." },
		{ "name:.", "interface name cannot be . or .." },
		{ "1g1111111111111111111111111111111111111111111111111111111111111111", "longer than 64 characters" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct cdt_ref r = { .kind = 99 };
		struct netd_err e = { 0 };
		int rc = cdt_ref_parse(cases[i].in, &r, &e);

		if (rc != NETD_EINVAL)
			fail_msg("parse(\"%s\") = %d, want NETD_EINVAL", cases[i].in, rc);
		assert_int_equal(e.code, NETD_EINVAL);
		assert_int_equal(r.kind, 99);  /* untouched */
		assert_string_equal(e.path, "");
		want_substr(cases[i].in, e.msg, cases[i].msg);
		if (cases[i].in[0] && strncmp(e.msg, "interface reference \"", 21))
			fail_msg("%s: message \"%s\" does not name the reference", cases[i].in, e.msg);
	}
	/* NULL text and NULL error are fine */
	struct cdt_ref r;
	assert_int_equal(cdt_ref_parse(NULL, &r, NULL), NETD_EINVAL);
	assert_int_equal(cdt_ref_parse("3g1", &r, NULL), NETD_EINVAL);
}

/* ---- bus order ---- */

static void check_order(const char *what, const struct cdt_nic *nics, size_t n, const struct cdt_bus_order *bo,
			const char *const *want)
{
	size_t order[16];

	cdt_nic_order(nics, n, bo, order);
	for (size_t i = 0; i < n; i++)
		if (strcmp(nics[order[i]].name, want[i]))
			fail_msg("%s: position %zu is %s, want %s", what, i, nics[order[i]].name, want[i]);
	for (size_t i = 0; i + 1 < n; i++)
		assert_true(cdt_nic_cmp(&nics[order[i]], &nics[order[i + 1]], bo) <= 0);
}

static void test_order_natural(void **state)
{
	static const struct cdt_nic nics[] = {
		NIC("zz", 1000, ""),
		NIC("a0a", 1000, "0000:0a:00.0"),
		NIC("a10", 1000, "0000:10:00.0"),
		NIC("d1", 1000, "0001:00:00.0"),
		NIC("aa", 1000, ""),
		NIC("b3", 1000, "0000:3:00.0"),   /* short field: numeric, not text order */
		NIC("a09", 1000, "0000:09:00.0"),
		NIC("d10000", 1000, "10000:00:00.0"),
		NIC("f1", 1000, "0000:09:00.1"),
		NIC("dev1f", 1000, "0000:09:1f.0"),
		NIC("dev02", 1000, "0000:09:02.0"),
	};
	static const char *const want[] = { "b3", "a09", "f1", "dev02", "dev1f", "a0a", "a10",
					    "d1", "d10000", "aa", "zz" };

	(void)state;
	check_order("natural", nics, ARRAY_LEN(nics), NULL, want);
	/* a bus order with no matching prefix changes nothing */
	check_order("unmatched", nics, ARRAY_LEN(nics), &bo_81, want);
	/* identical NICs compare equal; bus path before name */
	assert_int_equal(cdt_nic_cmp(&nics[0], &nics[0], NULL), 0);
	assert_true(cdt_nic_cmp(&nics[1], &nics[0], NULL) < 0);
	assert_true(cdt_nic_cmp(&nics[4], &nics[0], NULL) < 0);
}

static void test_order_override(void **state)
{
	static const char *const prefixes[] = { "0000:81:", "0000:01:00.1" };
	static const struct cdt_bus_order bo = { "R", prefixes, 2 };
	static const struct cdt_nic nics[] = {
		NIC("em1", 1000, "0000:01:00.0"),
		NIC("nobus", 1000, ""),
		NIC("em2", 1000, "0000:01:00.1"),
		NIC("p3p2", 1000, "0000:81:00.1"),
		NIC("x1", 1000, "0000:02:00.0"),
		NIC("p3p1", 1000, "0000:81:00.0"),
	};
	static const char *const want[] = { "p3p1", "p3p2", "em2", "em1", "x1", "nobus" };
	static const char *const want_nat[] = { "em1", "em2", "x1", "p3p1", "p3p2", "nobus" };

	(void)state;
	check_order("override", nics, ARRAY_LEN(nics), &bo, want);
	check_order("natural", nics, ARRAY_LEN(nics), NULL, want_nat);
	cdt_nic_order(nics, 0, &bo, NULL);  /* empty is fine */
}

static void test_bus_order_pick(void **state)
{
	static const char *const p1[] = { "0000:00:19", "0000:01:" };
	static const char *const p2[] = { "0000:02:" };
	static const struct cdt_bus_order table[] = {
		{ "PowerEdge R7[0-9]0", p1, 2 },
		{ "ProLiant.*", p2, 1 },
	};
	static const struct cdt_bus_order bad[] = {
		{ "Fine", p2, 1 },
		{ "Broken(", p2, 1 },
	};
	static const struct {
		const char *product;
		int want;  /* entry index, -1 none */
	} cases[] = {
		{ "PowerEdge R740", 0 },
		{ "PowerEdge R720", 0 },
		{ "PowerEdge R740xd", -1 },  /* anchored: the whole name */
		{ "Dell PowerEdge R740", -1 },
		{ "ProLiant DL380 Gen10", 1 },
		{ "", -1 },
		{ NULL, -1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct cdt_bus_order *got = (const void *)1;
		struct netd_err e = { 0 };

		assert_int_equal(cdt_bus_order_pick(table, ARRAY_LEN(table), cases[i].product, &got, &e), 0);
		if (cases[i].want < 0)
			assert_null(got);
		else
			assert_ptr_equal(got, &table[cases[i].want]);
	}
	const struct cdt_bus_order *got = (const void *)1;
	struct netd_err e = { 0 };
	assert_int_equal(cdt_bus_order_pick(bad, 2, "Fine", &got, &e), 0);  /* stops at the first match */
	assert_ptr_equal(got, &bad[0]);
	got = (const void *)1;
	assert_int_equal(cdt_bus_order_pick(bad, 2, "Other", &got, &e), NETD_EINVAL);
	assert_ptr_equal(got, (const void *)1);
	want_substr("bad regex", e.msg, "bus-order entry 2: product regex \"Broken(\": ");
	assert_int_equal(cdt_bus_order_pick(table, 0, "x", &got, NULL), 0);
	assert_null(got);
}

/* ---- resolution ---- */

struct rcase {
	const char *name;
	const struct cdt_nic *inv;
	size_t n;
	const struct cdt_bus_order *bo;
	const char *refs[MAXR];
	int rc;
	const char *nics[MAXR];    /* expected picks, by name */
	uint8_t how[MAXR];         /* expected enum cdt_pick_how (0 = not checked) */
	const char *why[MAXR];     /* expected explanations */
	const char *err;           /* expected message on failure */
};

#define INV(a) a, ARRAY_LEN(a)

static const struct rcase rcases[] = {
	{ "exact first", INV(inv_mixed), NULL, { "1g1" }, 0, { "eth0" }, { CDT_PICK_ASKED }, { "1g1: eth0 (1g #1)" }, NULL },
	{ "exact second", INV(inv_mixed), NULL, { "1g2" }, 0, { "eth1" }, { 0 }, { "1g2: eth1 (1g #2)" }, NULL },
	{ "exact team", INV(inv_mixed), NULL, { "10g1", "10g2" }, 0, { "eth2", "eth3" }, { 0 },
	  { "10g1: eth2 (10g #1)", "10g2: eth3 (10g #2)" }, NULL },
	{ "plus faster", INV(inv_10g), NULL, { "+1g1" }, 0, { "p2p1" }, { CDT_PICK_FASTER },
	  { "+1g1: no 1g NIC, took the first faster one: p2p1 (10g #1)" }, NULL },
	{ "plus team faster", INV(inv_10g), NULL, { "+1g1", "+1g2" }, 0, { "p2p1", "p2p2" }, { 0 },
	  { "+1g1: no 1g NIC, took the first faster one: p2p1 (10g #1)",
	    "+1g2: no 1g NIC, took the first faster one: p2p2 (10g #2)" }, NULL },
	{ "plus asked", INV(inv_mixed), NULL, { "+1g1", "+1g2" }, 0, { "eth0", "eth1" },
	  { CDT_PICK_ASKED, CDT_PICK_ASKED }, { "+1g1: eth0 (1g #1)", "+1g2: eth1 (1g #2)" }, NULL },
	{ "plus index per class", INV(inv_mixed), NULL, { "+1g1", "+1g2", "+1g3" }, NETD_ENOTFOUND, { 0 }, { 0 },
	  { 0 },
	  "conduit intf0: +1g3: no 1g NIC #3 (only 2), none faster free; NICs seen: eth0 (1g, taken by +1g1), "
	  "eth1 (1g, taken by +1g2), eth2 (10g), eth3 (10g)" },
	{ "plus skips taken", INV(inv_mixed), NULL, { "1g1", "+1g1" }, 0, { "eth0", "eth2" },
	  { CDT_PICK_ASKED, CDT_PICK_FASTER },
	  { "1g1: eth0 (1g #1)", "+1g1: 1g #1 eth0 taken by 1g1, took the first faster one: eth2 (10g #1)" }, NULL },
	{ "minus asked", INV(inv_mixed), NULL, { "-10g1" }, 0, { "eth2" }, { CDT_PICK_ASKED },
	  { "-10g1: eth2 (10g #1)" }, NULL },
	{ "minus slower", INV(inv_slow), NULL, { "-10g1" }, 0, { "eth0" }, { CDT_PICK_SLOWER },
	  { "-10g1: no 10g NIC, took the first slower one: eth0 (1g #1)" }, NULL },
	{ "minus index", INV(inv_slow), NULL, { "-1g2" }, 0, { "eth2" }, { CDT_PICK_SLOWER },
	  { "-1g2: no 1g NIC #2 (only 1), took the first slower one: eth2 (100m #2)" }, NULL },
	{ "minus never faster", INV(inv_10g), NULL, { "-1g1" }, NETD_ENOTFOUND, { 0 }, { 0 }, { 0 },
	  "conduit intf0: -1g1: no 1g NIC, none slower free; NICs seen: p2p1 (10g), p2p2 (10g)" },
	{ "any asked", INV(inv_mixed), NULL, { "?1g1" }, 0, { "eth0" }, { CDT_PICK_ASKED }, { "?1g1: eth0 (1g #1)" }, NULL },
	{ "any faster first", INV(inv_10g), NULL, { "?1g1" }, 0, { "p2p1" }, { CDT_PICK_FASTER },
	  { "?1g1: no 1g NIC, took the first faster one: p2p1 (10g #1)" }, NULL },
	{ "any slower", INV(inv_slow), NULL, { "?10g1" }, 0, { "eth0" }, { CDT_PICK_SLOWER },
	  { "?10g1: no 10g NIC, none faster free, took the first slower one: eth0 (1g #1)" }, NULL },
	{ "any: faster before slower", INV(inv_odd), NULL, { "?10g1" }, 0, { "ib0" }, { CDT_PICK_FASTER },
	  { "?10g1: no 10g NIC, took the first faster one: ib0 (56g #1)" }, NULL },
	{ "unlisted class reachable", INV(inv_odd), NULL, { "+10g1" }, 0, { "ib0" }, { CDT_PICK_FASTER },
	  { "+10g1: no 10g NIC, took the first faster one: ib0 (56g #1)" }, NULL },
	{ "unlisted class slower", INV(inv_odd), NULL, { "?100g1" }, 0, { "ib0" }, { CDT_PICK_SLOWER },
	  { "?100g1: no 100g NIC, none faster free, took the first slower one: ib0 (56g #1)" }, NULL },
	{ "any falls to unknown speed", INV(inv_odd), NULL, { "?1g1", "?1g1", "?1g1" }, 0, { "eth0", "ib0", "veth0" },
	  { CDT_PICK_ASKED, CDT_PICK_FASTER, CDT_PICK_UNKNOWN },
	  { "?1g1: eth0 (1g #1)", "?1g1: 1g #1 eth0 taken by ?1g1, took the first faster one: ib0 (56g #1)",
	    "?1g1: 1g #1 eth0 taken by ?1g1, none of known speed free, took one of unknown speed: veth0 "
	    "(unknown speed #1)" }, NULL },
	{ "any exhausted", INV(inv_10g), NULL, { "?1g1", "?1g2", "?1g1" }, NETD_ENOTFOUND, { 0 }, { 0 }, { 0 },
	  "conduit intf0: ?1g1: no 1g NIC, none free at any speed; NICs seen: p2p1 (10g, taken by ?1g1), "
	  "p2p2 (10g, taken by ?1g2)" },
	{ "unknown speed only for ?", INV(inv_odd), NULL, { "-1g2" }, NETD_ENOTFOUND, { 0 }, { 0 }, { 0 },
	  "-1g2: no 1g NIC #2 (only 1), none slower free; NICs seen: eth0 (1g), ib0 (56g), veth0 (unknown speed)" },
	{ "exact missing", INV(inv_10g), NULL, { "1g1" }, NETD_ENOTFOUND, { 0 }, { 0 }, { 0 },
	  "conduit intf0: 1g1: no 1g NIC; NICs seen: p2p1 (10g), p2p2 (10g)" },
	{ "exact taken", INV(inv_mixed), NULL, { "name:eth0", "1g1" }, NETD_ENOTFOUND, { 0 }, { 0 }, { 0 },
	  "1g1: 1g #1 eth0 taken by name:eth0; NICs seen:" },
	{ "plus exhausted", INV(inv_10g), NULL, { "+10g1", "+10g2", "+10g3" }, NETD_ENOTFOUND, { 0 }, { 0 }, { 0 },
	  "conduit intf0: +10g3: no 10g NIC #3 (only 2), none faster free; NICs seen: p2p1 (10g, taken by +10g1), "
	  "p2p2 (10g, taken by +10g2)" },
	{ "empty inventory", NULL, 0, NULL, { "?1g1" }, NETD_ENOTFOUND, { 0 }, { 0 }, { 0 },
	  "conduit intf0: ?1g1: no 1g NIC, none free at any speed; NICs seen: none" },
	{ "mac by permanent MAC", INV(inv_mixed), NULL, { "mac:52:54:00:00:00:03" }, 0, { "eth1" }, { CDT_PICK_ASKED },
	  { "mac:52:54:00:00:00:03: eth1 (1g)" }, NULL },
	{ "mac not by current MAC when permanent known", INV(inv_mixed), NULL, { "mac:52:54:00:aa:aa:aa" },
	  NETD_ENOTFOUND, { 0 }, { 0 }, { 0 }, "mac:52:54:00:aa:aa:aa: no NIC has this MAC" },
	{ "pci", INV(inv_mixed), NULL, { "pci:0000:03:00.1" }, 0, { "eth3" }, { 0 }, { "pci:0000:03:00.1: eth3 (10g)" }, NULL },
	{ "pci missing", INV(inv_mixed), NULL, { "pci:0000:04:00.0" }, NETD_ENOTFOUND, { 0 }, { 0 }, { 0 },
	  "pci:0000:04:00.0: no NIC at this bus path" },
	{ "name", INV(inv_mixed), NULL, { "name:eth2" }, 0, { "eth2" }, { 0 }, { "name:eth2: eth2 (10g)" }, NULL },
	{ "name missing", INV(inv_mixed), NULL, { "name:eth9" }, NETD_ENOTFOUND, { 0 }, { 0 }, { 0 },
	  "name:eth9: no NIC of this name" },
	{ "selector then any", INV(inv_mixed), NULL, { "name:eth2", "?10g1" }, 0, { "eth2", "eth0" }, { 0 },
	  { "name:eth2: eth2 (10g)", "?10g1: 10g #1 eth2 taken by name:eth2, none faster free, took the first "
				     "slower one: eth0 (1g #1)" }, NULL },
	{ "selector taken", INV(inv_mixed), NULL, { "1g1", "name:eth0" }, NETD_ENOTFOUND, { 0 }, { 0 }, { 0 },
	  "name:eth0: eth0 is taken by 1g1" },
	{ "bus order natural", INV(inv_buses), NULL, { "1g1", "1g3" }, 0, { "em1", "p3p1" }, { 0 },
	  { "1g1: em1 (1g #1)", "1g3: p3p1 (1g #3)" }, NULL },
	{ "bus order override", INV(inv_buses), &bo_81, { "1g1", "1g3" }, 0, { "p3p1", "em1" }, { 0 },
	  { "1g1: p3p1 (1g #1)", "1g3: em1 (1g #3)" }, NULL },
	{ "no references", INV(inv_mixed), NULL, { 0 }, NETD_EINVAL, { 0 }, { 0 }, { 0 },
	  "conduit intf0: 0 references, expected 1..8" },
	{ "too many references", INV(inv_buses), NULL,
	  { "name:a", "name:b", "name:c", "name:d", "name:e", "name:f", "name:g", "name:h", "name:i" }, NETD_EINVAL,
	  { 0 }, { 0 }, { 0 }, "conduit intf0: 9 references, expected 1..8" },
};

static void run_rcase(const struct rcase *c)
{
	struct cdt_ref refs[MAXR];
	size_t nrefs = count_strs(c->refs, MAXR);
	struct cdt_resolution res, sentinel;
	struct netd_err e = { 0 };
	int rc;

	for (size_t i = 0; i < nrefs; i++)
		if (cdt_ref_parse(c->refs[i], &refs[i], NULL) != 0)
			fail_msg("%s: bad test reference %s", c->name, c->refs[i]);
	memset(&res, 0xa5, sizeof res);
	sentinel = res;
	rc = cdt_resolve("intf0", c->inv, c->n, refs, nrefs, c->bo, &res, &e);
	if (rc != c->rc)
		fail_msg("%s: rc %d, want %d (%s)", c->name, rc, c->rc, e.msg);
	if (rc != 0) {
		assert_memory_equal(&res, &sentinel, sizeof res);  /* untouched */
		assert_int_equal(e.code, rc);
		assert_string_equal(e.path, "/netd:conduits/conduit[name='intf0']");
		want_substr(c->name, e.msg, c->err);
		return;
	}
	assert_string_equal(res.conduit, "intf0");
	assert_int_equal(res.n, nrefs);
	for (size_t i = 0; i < nrefs; i++) {
		const struct cdt_pick *p = &res.picks[i];
		assert_true(p->nic < c->n);
		if (strcmp(c->inv[p->nic].name, c->nics[i]))
			fail_msg("%s: ref %zu picked %s, want %s", c->name, i, c->inv[p->nic].name, c->nics[i]);
		if (c->how[i] && p->how != c->how[i])
			fail_msg("%s: ref %zu how %u, want %u", c->name, i, p->how, c->how[i]);
		if (c->why[i] && strcmp(p->why, c->why[i]))
			fail_msg("%s: ref %zu why\n  \"%s\"\nwant\n  \"%s\"", c->name, i, p->why, c->why[i]);
	}
}

static void test_resolve(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rcases); i++)
		run_rcase(&rcases[i]);
}

static void test_resolve_conduit_name(void **state)
{
	struct cdt_ref r;
	struct cdt_resolution res;
	struct netd_err e = { 0 };

	(void)state;
	assert_int_equal(cdt_ref_parse("1g9", &r, NULL), 0);
	assert_int_equal(cdt_resolve("it's", inv_mixed, ARRAY_LEN(inv_mixed), &r, 1, NULL, &res, &e), NETD_ENOTFOUND);
	assert_string_equal(e.path, "/netd:conduits/conduit[name=\"it's\"]");
	want_substr("quoted", e.msg, "conduit it's: 1g9: no 1g NIC #9 (only 2)");
	/* NULL error is fine */
	assert_int_equal(cdt_resolve(NULL, inv_mixed, ARRAY_LEN(inv_mixed), &r, 1, NULL, &res, NULL), NETD_ENOTFOUND);
}

static void resolve_texts(const char *conduit, const struct cdt_nic *inv, size_t n, const char *const *texts,
			  struct cdt_resolution *out)
{
	struct cdt_ref refs[MAXR];
	size_t k = count_strs(texts, MAXR);
	struct netd_err e = { 0 };

	for (size_t i = 0; i < k; i++)
		assert_int_equal(cdt_ref_parse(texts[i], &refs[i], NULL), 0);
	if (cdt_resolve(conduit, inv, n, refs, k, NULL, out, &e) != 0)
		fail_msg("resolve %s: %s", conduit, e.msg);
}

static void test_resolutions_disjoint(void **state)
{
	static const struct {
		const char *name;
		const char *a[MAXR], *b[MAXR];
		const char *conduit_b;
		const char *err;
	} cases[] = {
		{ "disjoint", { "+1g1", "+1g2" }, { "10g1" }, "intf1", NULL },
		{ "equal as sets", { "+1g1", "+1g2" }, { "1g2", "?1g1" }, "intf1", NULL },
		{ "same conduit", { "+1g1", "+1g2" }, { "?1g1" }, "intf0", NULL },
		{ "overlap", { "+1g1", "+1g2" }, { "?1g1" }, "intf1",
		  "conduits intf0 and intf1 share NIC eth0 but not all their NICs" },
		{ "overlap other way", { "1g2" }, { "+1g1", "+1g2" }, "intf1", "share NIC eth1" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct cdt_resolution res[3];
		struct netd_err e = { 0 };
		int rc;

		resolve_texts("intf0", inv_mixed, ARRAY_LEN(inv_mixed), cases[i].a, &res[0]);
		resolve_texts(cases[i].conduit_b, inv_mixed, ARRAY_LEN(inv_mixed), cases[i].b, &res[1]);
		resolve_texts("intf2", inv_mixed, ARRAY_LEN(inv_mixed), (const char *const[]){ "name:eth3", NULL },
			      &res[2]);
		rc = cdt_resolutions_disjoint_check(res, 3, inv_mixed, ARRAY_LEN(inv_mixed), &e);
		if (!cases[i].err) {
			if (rc != 0)
				fail_msg("%s: %s", cases[i].name, e.msg);
			continue;
		}
		assert_int_equal(rc, NETD_EINVAL);
		assert_string_equal(e.path, "/netd:conduits/conduit[name='intf1']");
		want_substr(cases[i].name, e.msg, cases[i].err);
	}
}

/* ---- rules ---- */

#define REFS(...) (const char *const[]){ __VA_ARGS__ }, ARRAY_LEN(((const char *const[]){ __VA_ARGS__ }))

static void build_ok(const char *name, const struct cdt_rule_spec *specs, size_t n, struct cdt_conduit *out)
{
	struct netd_err e = { 0 };

	if (cdt_conduit_build(name, specs, n, out, &e) != 0)
		fail_msg("build %s: %s (%s)", name, e.msg, e.path);
}

static const struct cdt_rule_spec pick_specs[] = {
	{ CDT_MODE_TEAM, 2, "", REFS("+10g1", "+10g2"), true, TEAM_802_3AD },
	{ CDT_MODE_TEAM, 0, "storage|ceph-.*", REFS("+1g1", "+1g2"), true, TEAM_ACTIVE_BACKUP },
	{ CDT_MODE_TEAM, 0, NULL, REFS("+1g1", "+1g2"), true, TEAM_BALANCE_ALB },
	{ CDT_MODE_DUAL, 0, "", REFS("+1g1"), false, 0 },
	{ CDT_MODE_ANY, 0, "", REFS("?1g1"), false, 0 },
};

static void test_pick(void **state)
{
	static const struct {
		uint8_t mode;
		uint32_t count;
		const char *roles[4];
		size_t want;  /* 1-based rule */
	} cases[] = {
		{ CDT_MODE_TEAM, 2, { 0 }, 1 },
		{ CDT_MODE_TEAM, 2, { "storage" }, 1 },          /* first match wins */
		{ CDT_MODE_TEAM, 3, { "storage" }, 2 },
		{ CDT_MODE_TEAM, 3, { "web", "ceph-osd" }, 2 },  /* any role */
		{ CDT_MODE_TEAM, 3, { "nova-storage" }, 3 },     /* anchored */
		{ CDT_MODE_TEAM, 3, { "storage2" }, 3 },
		{ CDT_MODE_TEAM, 4, { 0 }, 3 },
		{ CDT_MODE_DUAL, 2, { "storage" }, 4 },
		{ CDT_MODE_SINGLE, 1, { 0 }, 5 },
		{ CDT_MODE_SINGLE, 2, { "storage" }, 5 },
	};
	struct cdt_conduit c;
	char pat[300];

	(void)state;
	build_ok("intf0", pick_specs, ARRAY_LEN(pick_specs), &c);
	assert_int_equal(c.n_rules, 5);
	assert_int_equal(cdt_conduit_check(&c, NULL), 0);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct cdt_rule *r = NULL;
		struct netd_err e = { 0 };
		int rc = cdt_conduit_pick(&c, cases[i].mode, cases[i].count, cases[i].roles,
					  count_strs(cases[i].roles, 4), &r, &e);
		if (rc != 0)
			fail_msg("case %zu: %s", i, e.msg);
		if ((size_t)(r - c.rules) + 1 != cases[i].want)
			fail_msg("case %zu: rule %zu, want %zu", i, (size_t)(r - c.rules) + 1, cases[i].want);
	}
	assert_string_equal(cdt_rule_pattern(&c.rules[0], pat, sizeof pat), "team/2/.*");
	assert_string_equal(cdt_rule_pattern(&c.rules[1], pat, sizeof pat), "team/*/storage|ceph-.*");
	assert_string_equal(cdt_rule_pattern(&c.rules[4], pat, sizeof pat), "*/*/.*");
	assert_int_equal(c.rules[0].team_mode, TEAM_802_3AD);
	assert_int_equal(c.rules[0].n_refs, 2);

	/* mode ANY is not a node's mode */
	const struct cdt_rule *r = NULL;
	struct netd_err e = { 0 };
	assert_int_equal(cdt_conduit_pick(&c, CDT_MODE_ANY, 1, NULL, 0, &r, &e), NETD_EINVAL);
	want_substr("any", e.msg, "network mode 0 is not single, dual or team");
	assert_null(r);
	cdt_conduit_clear(&c);
	assert_null(c.rules);
	cdt_conduit_clear(&c);
	cdt_conduit_clear(NULL);
}

static void test_pick_none(void **state)
{
	const struct cdt_rule_spec specs[] = {
		{ CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, TEAM_802_3AD },
		{ CDT_MODE_SINGLE, 2, "compute", REFS("1g1"), false, 0 },
	};
	static const char *const roles[] = { "web", "db" };
	struct cdt_conduit c;
	const struct cdt_rule *r = NULL;
	struct netd_err e = { 0 };

	(void)state;
	build_ok("intf1", specs, ARRAY_LEN(specs), &c);
	assert_int_equal(cdt_conduit_pick(&c, CDT_MODE_SINGLE, 2, roles, 2, &r, &e), NETD_ENOTFOUND);
	assert_null(r);
	assert_string_equal(e.path, "/netd:conduits/conduit[name='intf1']");
	assert_string_equal(e.msg, "conduit intf1: no rule matches mode single, 2 NICs, roles web, db");
	netd_err_clear(&e);
	assert_int_equal(cdt_conduit_pick(&c, CDT_MODE_DUAL, 1, NULL, 0, &r, &e), NETD_ENOTFOUND);
	want_substr("no roles", e.msg, "mode dual, 1 NICs, roles none");
	/* a rule with a role regex never matches a node without roles */
	assert_int_equal(cdt_conduit_pick(&c, CDT_MODE_SINGLE, 2, NULL, 0, &r, NULL), NETD_ENOTFOUND);
	assert_int_equal(cdt_conduit_pick(&c, CDT_MODE_SINGLE, 2, (const char *const[]){ "compute" }, 1, &r, NULL), 0);
	assert_ptr_equal(r, &c.rules[1]);
	cdt_conduit_clear(&c);
}

static const char *const many[CDT_RULE_REFS_MAX + 1] = { 0 };
struct bcase {
	const char *name;
	const char *conduit;
	struct cdt_rule_spec specs[2];
	size_t n;
	int rc;
	const char *path, *msg;
};

static const struct bcase bcases[] = {
	{ "bad ref", "intf0",
	  { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, 4 }, { CDT_MODE_ANY, 0, "", REFS("3g1"), false, 0 } },
	  2, NETD_EINVAL, "/netd:conduits/conduit[name='intf0']/rule[2]/if-list[.='3g1']",
	  "interface reference \"3g1\": unknown speed \"3g\"" },
	{ "bad regex", "intf0", { { CDT_MODE_ANY, 0, "comp(ute", REFS("1g1"), false, 0 } }, 1, NETD_EINVAL,
	  "/netd:conduits/conduit[name='intf0']/rule[1]", "role regex \"comp(ute\": " },
	{ "regex escaping the anchors", "intf0", { { CDT_MODE_ANY, 0, "a)|(b", REFS("1g1"), false, 0 } }, 1,
	  NETD_EINVAL, "/netd:conduits/conduit[name='intf0']/rule[1]", "role regex \"a)|(b\": " },
	{ "bad mode", "intf0", { { 7, 0, "", REFS("1g1"), false, 0 } }, 1, NETD_EINVAL,
	  "/netd:conduits/conduit[name='intf0']/rule[1]", "mode 7 is not single, dual, team or any" },
	{ "empty name", "", { { CDT_MODE_ANY, 0, "", REFS("1g1"), false, 0 } }, 1, NETD_EINVAL,
	  "/netd:conduits/conduit/name", "conduit name \"\": must be 1..63 characters" },
	{ "long name", "a123456789012345678901234567890123456789012345678901234567890123",
	  { { CDT_MODE_ANY, 0, "", REFS("1g1"), false, 0 } }, 1, NETD_EINVAL, "/netd:conduits/conduit/name",
	  "must be 1..63 characters" },
	{ "control char", "in\ttf", { { CDT_MODE_ANY, 0, "", REFS("1g1"), false, 0 } }, 1, NETD_EINVAL,
	  "/netd:conduits/conduit/name", "conduit name \"in\\x09tf\": holds a control character" },
	{ "too many refs", "intf0", { { CDT_MODE_ANY, 0, "", many, ARRAY_LEN(many), true, 4 } }, 1, NETD_ETOOBIG,
	  "/netd:conduits/conduit[name='intf0']/rule[1]", "65 interface references, at most 64" },
};


static void test_build_errors(void **state)
{
	const struct bcase *cases = bcases;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bcases); i++) {
		struct cdt_conduit c, sentinel;
		struct netd_err e = { 0 };
		int rc;

		memset(&c, 0x5a, sizeof c);
		sentinel = c;
		rc = cdt_conduit_build(cases[i].conduit, cases[i].specs, cases[i].n, &c, &e);
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, want %d (%s)", cases[i].name, rc, cases[i].rc, e.msg);
		assert_memory_equal(&c, &sentinel, sizeof c);
		assert_string_equal(e.path, cases[i].path);
		want_substr(cases[i].name, e.msg, cases[i].msg);
	}
	struct cdt_conduit c;
	assert_int_equal(cdt_conduit_build(NULL, NULL, 0, &c, NULL), NETD_EINVAL);
	assert_int_equal(cdt_conduit_build("x", NULL, CDT_RULES_MAX + 1, &c, NULL), NETD_ETOOBIG);
}

struct ccase {
	const char *name;
	struct cdt_rule_spec specs[3];
	size_t n;
	const char *path;  /* NULL = valid */
	const char *msg;
};

#define P(n) "/netd:conduits/conduit[name='intf0']/rule[" #n "]"

static const char *const nine[] = { "+1g1", "+1g2", "+1g3", "+1g4", "+1g5", "+1g6", "+1g7", "+1g8", "+1g9" };

static const struct ccase ccases[] = {
	{ "valid", { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, TEAM_802_3AD },
		     { CDT_MODE_ANY, 0, "", REFS("?1g1"), false, 0 } }, 2, NULL, NULL },
	{ "team of 8", { { CDT_MODE_ANY, 0, "", nine, 8, true, TEAM_BALANCE_RR } }, 1, NULL, NULL },
	{ "selector team", { { CDT_MODE_ANY, 0, "", REFS("name:eth0", "mac:52:54:00:00:00:01"), true, 1 } }, 1, NULL,
	  NULL },
	{ "same roles, other count", { { CDT_MODE_TEAM, 2, "compute", REFS("1g1"), false, 0 },
				       { CDT_MODE_TEAM, 0, "compute", REFS("1g2"), false, 0 } }, 2, NULL, NULL },
	{ "other roles", { { CDT_MODE_TEAM, 0, "compute", REFS("1g1"), false, 0 },
			   { CDT_MODE_TEAM, 2, "storage", REFS("1g2"), false, 0 } }, 2, NULL, NULL },
	{ "no rules", { { 0 } }, 0, "/netd:conduits/conduit[name='intf0']", "conduit intf0 has no rules" },
	{ "non-team two refs", { { CDT_MODE_DUAL, 0, "", REFS("1g1", "1g2"), false, 0 } }, 1, P(1),
	  "conduit intf0 rule 1 (dual/*/.*): a non-team rule has exactly 1 interface reference, this one 2" },
	{ "team of 1", { { CDT_MODE_TEAM, 0, "", REFS("+1g1"), true, 4 } }, 1, P(1),
	  "conduit intf0 rule 1 (team/*/.*): a team has 2..8 members, this one 1" },
	{ "team of 9", { { CDT_MODE_TEAM, 3, "x", nine, 9, true, 4 } }, 1, P(1),
	  "conduit intf0 rule 1 (team/3/x): a team has 2..8 members, this one 9" },
	{ "team mode", { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, 7 } }, 1, P(1),
	  "team mode 7 is not valid (0 balance-rr" },
	{ "sign differs", { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "1g2"), true, 4 } }, 1, P(1),
	  "team members +1g1 and 1g2 differ: members of a team share sign and speed" },
	{ "speed differs", { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+10g1"), true, 4 } }, 1, P(1),
	  "team members +1g1 and +10g1 differ" },
	{ "kind differs", { { CDT_MODE_TEAM, 0, "", REFS("name:eth0", "+1g1", "+1g2"), true, 4 } }, 1, P(1),
	  "team members +1g1 and name:eth0 differ" },
	{ "duplicate", { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g1"), true, 4 } }, 1, P(1),
	  "reference +1g1 appears twice" },
	{ "no refs", { { CDT_MODE_TEAM, 0, "", NULL, 0, true, 4 } }, 1, P(1), "no interface references" },
	{ "shadowed by catch-all", { { CDT_MODE_ANY, 0, "", REFS("?1g1"), false, 0 },
				     { CDT_MODE_TEAM, 2, "", REFS("+1g1", "+1g2"), true, 4 } }, 2, P(2),
	  "conduit intf0 rule 2 (team/2/.*): never applies: rule 1 (*/*/.*) comes first and matches every node it "
	  "would" },
	{ "shadowed, same roles", { { CDT_MODE_TEAM, 0, "compute", REFS("1g1"), false, 0 },
				    { CDT_MODE_TEAM, 2, "compute", REFS("1g2"), false, 0 } }, 2, P(2),
	  "never applies: rule 1 (team/*/compute)" },
	{ "first error only", { { CDT_MODE_TEAM, 0, "", REFS("+1g1"), true, 4 },
					 { CDT_MODE_DUAL, 0, "", REFS("1g1", "1g2"), false, 0 } }, 2, P(1),
	  "a team has 2..8 members" },
};

static void test_check(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(ccases); i++) {
		const struct ccase *k = &ccases[i];
		struct cdt_conduit c;
		struct netd_err e = { 0 };
		int rc;

		build_ok("intf0", k->specs, k->n, &c);
		rc = cdt_conduit_check(&c, &e);
		if (!k->path) {
			if (rc != 0)
				fail_msg("%s: %s", k->name, e.msg);
		} else {
			if (rc != NETD_EINVAL)
				fail_msg("%s: rc %d, want NETD_EINVAL", k->name, rc);
			if (strcmp(e.path, k->path))
				fail_msg("%s: path %s, want %s", k->name, e.path, k->path);
			want_substr(k->name, e.msg, k->msg);
		}
		cdt_conduit_clear(&c);
	}
}

/* ---- disjointness across conduits ---- */

struct dcase {
	const char *name;
	struct cdt_rule_spec a[2], b[2];
	size_t na, nb;
	const char *bname;
	const char *path, *msg;   /* NULL = fine */
};

static const struct dcase dcases[] = {
	{ "equal", { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, 4 } },
	  { { CDT_MODE_TEAM, 0, "", REFS("+1g2", "+1g1"), true, 4 } }, 1, 1, "intf1", NULL, NULL },
	{ "disjoint", { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, 4 } },
	  { { CDT_MODE_TEAM, 0, "", REFS("+10g1", "+10g2"), true, 4 } }, 1, 1, "intf1", NULL, NULL },
	{ "single mode shares one NIC", { { CDT_MODE_ANY, 0, "", REFS("?1g1"), false, 0 } },
	  { { CDT_MODE_ANY, 0, "", REFS("?1g1"), false, 0 } }, 1, 1, "intf1", NULL, NULL },
	{ "same conduit twice", { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, 4 } },
	  { { CDT_MODE_ANY, 0, "", REFS("+1g2"), false, 0 } }, 1, 1, "intf0", NULL, NULL },
	{ "modes never meet", { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, 4 } },
	  { { CDT_MODE_SINGLE, 0, "", REFS("+1g2"), false, 0 } }, 1, 1, "intf1", NULL, NULL },
	{ "counts never meet", { { CDT_MODE_TEAM, 2, "", REFS("+1g1", "+1g2"), true, 4 } },
	  { { CDT_MODE_TEAM, 4, "", REFS("+1g2"), false, 0 } }, 1, 1, "intf1", NULL, NULL },
	{ "shadowed by a role-agnostic rule",
	  { { CDT_MODE_TEAM, 2, "", REFS("+1g1", "+1g2"), true, 4 } },
	  { { CDT_MODE_TEAM, 2, "", REFS("+1g1", "+1g2"), true, 4 }, { CDT_MODE_TEAM, 0, "", REFS("+1g2"), false, 0 } },
	  1, 2, "intf1", NULL, NULL },
	{ "overlap", { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, 4 } },
	  { { CDT_MODE_ANY, 0, "", REFS("+1g2"), false, 0 } }, 1, 1, "intf1",
	  "/netd:conduits/conduit[name='intf1']/rule[1]",
	  "conduits intf0 and intf1 share +1g2: intf0 rule 1 (team/*/.*) has +1g1 +1g2, intf1 rule 1 (*/*/.*) has "
	  "+1g2; a node in mode team with any number of NICs can pick both" },
	{ "overlap at a count", { { CDT_MODE_TEAM, 4, "", REFS("+1g1", "+1g2"), true, 4 } },
	  { { CDT_MODE_TEAM, 2, "", REFS("+1g1"), false, 0 }, { CDT_MODE_TEAM, 0, "", REFS("+1g2"), false, 0 } }, 1, 2,
	  "intf1", "/netd:conduits/conduit[name='intf1']/rule[2]", "a node in mode team with 4 NICs can pick both" },
	{ "roles can meet", { { CDT_MODE_TEAM, 0, "compute", REFS("+10g1", "+10g2"), true, 4 } },
	  { { CDT_MODE_TEAM, 0, "storage", REFS("+10g2"), false, 0 } }, 1, 1, "intf1",
	  "/netd:conduits/conduit[name='intf1']/rule[1]", "share +10g2" },
	{ "team mode differs", { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, 4 } },
	  { { CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, 1 } }, 1, 1, "intf1",
	  "/netd:conduits/conduit[name='intf1']/rule[1]",
	  "conduits intf0 and intf1 bond the same NICs differently (team, team mode) at +1g1" },
};

static void test_disjoint(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(dcases); i++) {
		const struct dcase *k = &dcases[i];
		struct cdt_conduit a, b, other;
		struct netd_err e = { 0 };
		int rc;

		build_ok("intf0", k->a, k->na, &a);
		build_ok(k->bname, k->b, k->nb, &b);
		build_ok("bmc", (const struct cdt_rule_spec[]){ { CDT_MODE_ANY, 0, "", REFS("name:bmc0"), false, 0 } }, 1,
			 &other);
		assert_int_equal(cdt_conduit_check(&a, NULL), 0);
		assert_int_equal(cdt_conduit_check(&b, NULL), 0);
		const struct cdt_conduit *const cs[] = { &other, &a, &a, &b };
		rc = cdt_conduits_disjoint_check(cs, ARRAY_LEN(cs), &e);
		if (!k->path) {
			if (rc != 0)
				fail_msg("%s: %s", k->name, e.msg);
		} else {
			if (rc != NETD_EINVAL)
				fail_msg("%s: rc %d, want NETD_EINVAL", k->name, rc);
			if (strcmp(e.path, k->path))
				fail_msg("%s: path %s, want %s", k->name, e.path, k->path);
			want_substr(k->name, e.msg, k->msg);
		}
		cdt_conduit_clear(&a);
		cdt_conduit_clear(&b);
		cdt_conduit_clear(&other);
	}
}

/* The whole path a caller walks: build, check, pick, resolve, explain. */
static void test_end_to_end(void **state)
{
	const struct cdt_rule_spec specs[] = {
		{ CDT_MODE_TEAM, 0, "", REFS("+1g1", "+1g2"), true, TEAM_802_3AD },
		{ CDT_MODE_ANY, 0, "", REFS("?1g1"), false, 0 },
	};
	struct cdt_conduit c;
	const struct cdt_rule *r;
	struct cdt_resolution res;
	struct netd_err e = { 0 };

	(void)state;
	build_ok("intf0", specs, ARRAY_LEN(specs), &c);
	assert_int_equal(cdt_conduit_check(&c, &e), 0);
	assert_int_equal(cdt_conduit_pick(&c, CDT_MODE_TEAM, 2, NULL, 0, &r, &e), 0);
	assert_int_equal(cdt_resolve(c.name, inv_10g, ARRAY_LEN(inv_10g), r->refs, r->n_refs, NULL, &res, &e), 0);
	assert_int_equal(res.n, 2);
	assert_string_equal(inv_10g[res.picks[0].nic].name, "p2p1");
	assert_string_equal(inv_10g[res.picks[1].nic].name, "p2p2");
	assert_int_equal(cdt_conduit_pick(&c, CDT_MODE_SINGLE, 2, NULL, 0, &r, &e), 0);
	assert_int_equal(cdt_resolve(c.name, inv_10g, ARRAY_LEN(inv_10g), r->refs, r->n_refs, NULL, &res, &e), 0);
	assert_string_equal(res.picks[0].why, "?1g1: no 1g NIC, took the first faster one: p2p1 (10g #1)");
	cdt_conduit_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_speed),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_ref_parse_ok),
		cmocka_unit_test(test_ref_fields),
		cmocka_unit_test(test_ref_parse_errors),
		cmocka_unit_test(test_order_natural),
		cmocka_unit_test(test_order_override),
		cmocka_unit_test(test_bus_order_pick),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_resolve_conduit_name),
		cmocka_unit_test(test_resolutions_disjoint),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_pick_none),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_disjoint),
		cmocka_unit_test(test_end_to_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
