/* Unit tests for conduits/ inventory: the pure conversions (link modes ->
 * supported speeds and speed class, sysfs speed text, PCI bus paths, operstates, RTM_NEWLINK
 * payloads), collection over a fake ops table, and records.  Table-driven;
 * no sockets, no sysfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>
#include <net/if_arp.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>

#include "conduits/conduits.h"
#include "conduits/inv_int.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define END 0xffff

/* ---- link modes -> class ---- */

static void test_modes_class(void **state)
{
	static const struct {
		const char *what;
		uint16_t bits[6];     /* END-terminated */
		size_t nwords;
		uint32_t want;
	} cases[] = {
		{ "none", { END }, 4, 0 },
		{ "only port/pause/autoneg bits",
		  { ETHTOOL_LINK_MODE_TP_BIT, ETHTOOL_LINK_MODE_Autoneg_BIT, ETHTOOL_LINK_MODE_Pause_BIT, END }, 4, 0 },
		{ "1g copper", { ETHTOOL_LINK_MODE_10baseT_Half_BIT, ETHTOOL_LINK_MODE_100baseT_Full_BIT,
				 ETHTOOL_LINK_MODE_1000baseT_Full_BIT, ETHTOOL_LINK_MODE_TP_BIT, END }, 4, 1000 },
		{ "10g over 1g", { ETHTOOL_LINK_MODE_1000baseKX_Full_BIT, ETHTOOL_LINK_MODE_10000baseKR_Full_BIT, END },
		  4, 10000 },
		{ "2.5g", { ETHTOOL_LINK_MODE_2500baseX_Full_BIT, END }, 4, 2500 },
		{ "5g", { ETHTOOL_LINK_MODE_1000baseT_Full_BIT, ETHTOOL_LINK_MODE_5000baseT_Full_BIT, END }, 4, 5000 },
		{ "25g in word 0", { ETHTOOL_LINK_MODE_25000baseSR_Full_BIT, END }, 4, 25000 },
		{ "100g in word 1", { ETHTOOL_LINK_MODE_25000baseCR_Full_BIT, ETHTOOL_LINK_MODE_100000baseSR4_Full_BIT, END },
		  4, 100000 },
		{ "400g in word 2", { ETHTOOL_LINK_MODE_400000baseCR8_Full_BIT, END }, 4, 400000 },
		{ "beyond nwords ignored", { ETHTOOL_LINK_MODE_1000baseT_Full_BIT,
					     ETHTOOL_LINK_MODE_100000baseSR4_Full_BIT, END }, 1, 1000 },
		{ "56g (no class token)", { ETHTOOL_LINK_MODE_56000baseSR4_Full_BIT, END }, 4, 56000 },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint32_t modes[CDT_INV_MODE_WORDS] = { 0 };
		for (size_t k = 0; cases[i].bits[k] != END; k++)
			modes[cases[i].bits[k] / 32] |= 1u << (cases[i].bits[k] % 32);
		uint32_t got = cdt_inv_modes_class(modes, cases[i].nwords);
		if (got != cases[i].want)
			fail_msg("%s: class %u, want %u", cases[i].what, got, cases[i].want);
	}
}

/* Link modes -> the supported-speeds mask; its fastest is the class. */
static void test_modes_speeds(void **state)
{
#define B(m) cdt_link_speed_bit(m)
	static const struct {
		const char *what;
		uint16_t bits[6];     /* END-terminated */
		size_t nwords;
	} cases[] = {
		{ "none", { END }, 4 },
		{ "only port/pause/autoneg bits",
		  { ETHTOOL_LINK_MODE_TP_BIT, ETHTOOL_LINK_MODE_Autoneg_BIT, ETHTOOL_LINK_MODE_Pause_BIT, END }, 4 },
		{ "1g copper, half and full", { ETHTOOL_LINK_MODE_10baseT_Half_BIT, ETHTOOL_LINK_MODE_10baseT_Full_BIT,
						ETHTOOL_LINK_MODE_100baseT_Full_BIT, ETHTOOL_LINK_MODE_1000baseT_Full_BIT,
						ETHTOOL_LINK_MODE_TP_BIT, END }, 4 },
		{ "10g/25g SFP28", { ETHTOOL_LINK_MODE_10000baseSR_Full_BIT, ETHTOOL_LINK_MODE_25000baseSR_Full_BIT,
				     ETHTOOL_LINK_MODE_FIBRE_BIT, END }, 4 },
		{ "20g and 56g", { ETHTOOL_LINK_MODE_20000baseKR2_Full_BIT, ETHTOOL_LINK_MODE_56000baseSR4_Full_BIT, END },
		  4 },
		{ "100g in word 1, 400g in word 2",
		  { ETHTOOL_LINK_MODE_100000baseSR4_Full_BIT, ETHTOOL_LINK_MODE_400000baseCR8_Full_BIT, END }, 4 },
		{ "beyond nwords ignored", { ETHTOOL_LINK_MODE_1000baseT_Full_BIT,
					     ETHTOOL_LINK_MODE_100000baseSR4_Full_BIT, END }, 1 },
	};
	/* cdt_link_speed_bit() is no constant: the masks apart */
	const uint32_t want[ARRAY_LEN(cases)] = { 0, 0, B(10) | B(100) | B(1000), B(10000) | B(25000),
						  B(20000) | B(56000), B(100000) | B(400000), B(1000) };
#undef B
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint32_t modes[CDT_INV_MODE_WORDS] = { 0 };
		for (size_t k = 0; cases[i].bits[k] != END; k++)
			modes[cases[i].bits[k] / 32] |= 1u << (cases[i].bits[k] % 32);
		uint32_t got = cdt_inv_modes_speeds(modes, cases[i].nwords);
		if (got != want[i])
			fail_msg("%s: mask %#x, want %#x", cases[i].what, got, want[i]);
		if (cdt_link_speeds_max(got) != cdt_inv_modes_class(modes, cases[i].nwords))
			fail_msg("%s: fastest supported %u, class %u", cases[i].what, cdt_link_speeds_max(got),
				 cdt_inv_modes_class(modes, cases[i].nwords));
	}
}

static void test_link_speeds(void **state)
{
	uint32_t all = 0;
	for (size_t k = 0; k < CDT_LINK_SPEEDS; k++) {
		uint32_t b = cdt_link_speed_bit(cdt_link_speeds[k]);
		assert_int_equal(b, 1u << k);
		assert_int_equal(cdt_link_speeds_max(b), cdt_link_speeds[k]);
		if (k)
			assert_true(cdt_link_speeds[k] > cdt_link_speeds[k - 1]);
		all |= b;
	}
	assert_int_equal(cdt_link_speeds_max(all), 400000);
	assert_int_equal(cdt_link_speeds_max(0), 0);
	/* every class token is a link speed */
	static const char *const toks[] = { "10m", "100m", "1g", "2.5g", "5g", "10g", "25g", "40g", "50g", "100g",
					    "200g", "400g" };
	for (size_t i = 0; i < ARRAY_LEN(toks); i++) {
		uint32_t m = 0;
		assert_int_equal(cdt_speed_parse(toks[i], &m), 0);
		if (!cdt_link_speed_bit(m))
			fail_msg("class %s (%u Mb/s) is not a link speed", toks[i], m);
	}
	assert_int_equal(cdt_link_speed_bit(0), 0);
	assert_int_equal(cdt_link_speed_bit(3000), 0);
	assert_int_equal(cdt_link_speed_bit(800000), 0);
}

static void test_class_fallback(void **state)
{
	assert_int_equal(cdt_inv_class(10000, 1000, 100), 10000);   /* modes win */
	assert_int_equal(cdt_inv_class(0, 10000, 0), 10000);        /* veth: current */
	assert_int_equal(cdt_inv_class(0, 0, 10000), 10000);        /* veth down: driver */
	assert_int_equal(cdt_inv_class(0, 0, 0), 0);
}

/* ---- sysfs speed ---- */

static void test_speed_parse(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint32_t want;
	} cases[] = {
		{ "10000\n", 0, 10000 },  { "1000", 0, 1000 },         { "100 \n", 0, 100 },
		{ "-1\n", 0, 0 },         { "-1", 0, 0 },              { "unknown\n", 0, 0 },
		{ "Unknown", 0, 0 },      { "4294967295\n", 0, 0 },    { "0\n", 0, 0 },
		{ "400000\n", 0, 400000 },
		{ "", NETD_EINVAL, 0 },   { "\n", NETD_EINVAL, 0 },    { "abc\n", NETD_EINVAL, 0 },
		{ "12a", NETD_EINVAL, 0 }, { " 100", NETD_EINVAL, 0 }, { "-2", NETD_EINVAL, 0 },
		{ "4294967296", NETD_EINVAL, 0 }, { "99999999999999999999", NETD_EINVAL, 0 },
		{ "1e3", NETD_EINVAL, 0 },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint32_t got = 777;
		int rc = cdt_inv_speed_parse(cases[i].text, &got);
		if (rc != cases[i].rc)
			fail_msg("\"%s\": rc %d, want %d", cases[i].text, rc, cases[i].rc);
		if (rc == 0 && got != cases[i].want)
			fail_msg("\"%s\": %u, want %u", cases[i].text, got, cases[i].want);
		if (rc < 0 && got != 777)
			fail_msg("\"%s\": output written on failure", cases[i].text);
	}
	assert_int_equal(cdt_inv_speed_parse(NULL, &(uint32_t){ 0 }), NETD_EINVAL);
}

/* ---- PCI bus path ---- */

static void test_pci_from_path(void **state)
{
	static const struct {
		const char *path, *subsystem, *want;
	} cases[] = {
		{ "../../../0000:03:00.1", "pci", "0000:03:00.1" },
		{ "/sys/devices/pci0000:00/0000:00:1c.0/0000:03:00.1", "pci", "0000:03:00.1" },
		{ "/sys/devices/pci0000:00/0000:00:1c.0/0000:03:00.1", "virtio", "0000:00:1c.0" },
		{ "/sys/devices/pci0000:00/0000:00:03.0/virtio0", "virtio", "0000:00:03.0" },
		{ "../../../virtio0", "virtio", "" },           /* no parent in a relative link */
		{ "../../../0000:03:00.1", "virtio", "" },
		{ "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0", "usb", "" },
		{ "../../../0000:03:00.1", "usb", "" },
		{ "../../../0000:03:00.8", "pci", "" },         /* function 0..7 */
		{ "../../../0000:03:20.1", "pci", "" },         /* device 0..31 */
		{ "../../../000:03:00.1", "pci", "" },          /* domain 4+ digits */
		{ "../../../10000:03:00.1", "pci", "10000:03:00.1" },
		{ "../../../0000:03:00.1/", "pci", "" },
		{ "../../../0000:03:00.1x", "pci", "" },
		{ "0000:03:00.1", "pci", "0000:03:00.1" },
		{ "", "pci", "" },
		{ "/", "pci", "" },
		{ "//", "virtio", "" },
		{ "../../../pci0000:00", "pci", "" },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char buf[CDT_PCI_MAX] = "junk";
		int rc = cdt_inv_pci_from_path(cases[i].path, cases[i].subsystem, buf, sizeof buf);
		if (rc != 0 || strcmp(buf, cases[i].want) != 0)
			fail_msg("%s (%s): rc %d \"%s\", want \"%s\"", cases[i].path, cases[i].subsystem, rc, buf,
				 cases[i].want);
	}
	char small[8];
	assert_int_equal(cdt_inv_pci_from_path("../0000:03:00.1", "pci", small, sizeof small), NETD_ETOOBIG);
	char one[1] = { 'x' };
	assert_int_equal(cdt_inv_pci_from_path(NULL, "pci", one, sizeof one), 0);
	assert_int_equal(one[0], '\0');
	assert_string_equal(cdt_inv_basename("../../../../bus/pci/drivers/ixgbe"), "ixgbe");
	assert_string_equal(cdt_inv_basename("ixgbe"), "ixgbe");
	assert_string_equal(cdt_inv_basename("/sys/bus/pci/"), "");
	assert_string_equal(cdt_inv_basename(NULL), "");
}

/* ---- operstate ---- */

static void test_operstate(void **state)
{
	static const struct {
		const char *name;
		uint8_t st;
	} cases[] = {
		{ "unknown", CDT_OPER_UNKNOWN }, { "notpresent", CDT_OPER_NOTPRESENT }, { "down", CDT_OPER_DOWN },
		{ "lowerlayerdown", CDT_OPER_LOWERLAYERDOWN }, { "testing", CDT_OPER_TESTING },
		{ "dormant", CDT_OPER_DORMANT }, { "up", CDT_OPER_UP },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint8_t st = 99;
		assert_int_equal(cdt_operstate_parse(cases[i].name, &st), 0);
		assert_int_equal(st, cases[i].st);
		assert_string_equal(cdt_operstate_name(cases[i].st), cases[i].name);
	}
	uint8_t st = 99;
	assert_int_equal(cdt_operstate_parse("UP", &st), 0);   /* as `ip` prints it */
	assert_int_equal(st, CDT_OPER_UP);
	st = 99;
	static const char *const bad[] = { "", "upp", "u", "lower layer down", NULL };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(cdt_operstate_parse(bad[i], &st), NETD_EINVAL);
	assert_int_equal(st, 99);
	assert_string_equal(cdt_operstate_name(7), "unknown");
	assert_string_equal(cdt_operstate_name(255), "unknown");
}

/* ---- RTM_NEWLINK payloads ---- */

struct pb {
	uint32_t words[256];   /* 4-byte aligned, as nlmsg_data() */
	size_t len;
};

static uint8_t *pb_bytes(struct pb *p)
{
	return (uint8_t *)p->words;
}

static void pb_init(struct pb *p, unsigned short type, int index, unsigned flags)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_type = type, .ifi_index = index, .ifi_flags = flags };
	memset(p, 0, sizeof *p);
	memcpy(pb_bytes(p), &ifi, sizeof ifi);
	p->len = NLMSG_ALIGN(sizeof ifi);
}

/* Append an attribute; returns its offset (for nests). */
static size_t pb_attr(struct pb *p, unsigned short type, const void *data, size_t dlen)
{
	struct nlattr a = { .nla_len = (unsigned short)(NLA_HDRLEN + dlen), .nla_type = type };
	size_t at = p->len;
	assert_true(at + NLA_ALIGN(NLA_HDRLEN + dlen) <= sizeof p->words);
	memcpy(pb_bytes(p) + at, &a, sizeof a);
	if (dlen)
		memcpy(pb_bytes(p) + at + NLA_HDRLEN, data, dlen);
	p->len += NLA_ALIGN(NLA_HDRLEN + dlen);
	return at;
}

static void pb_str(struct pb *p, unsigned short type, const char *s)
{
	pb_attr(p, type, s, strlen(s) + 1);
}

static void pb_u32(struct pb *p, unsigned short type, uint32_t v)
{
	pb_attr(p, type, &v, sizeof v);
}

static void pb_u8(struct pb *p, unsigned short type, uint8_t v)
{
	pb_attr(p, type, &v, 1);
}

static void pb_nest_end(struct pb *p, size_t at)
{
	unsigned short len = (unsigned short)(p->len - at);
	memcpy(pb_bytes(p) + at, &len, sizeof len);
}

static const uint8_t mac1[6] = { 0x02, 0, 0x5e, 0x10, 0, 1 };
static const uint8_t perm1[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

/* A complete Ethernet link; @variant breaks one thing. */
static void pb_link(struct pb *p, int variant)
{
	pb_init(p, variant == 1 ? ARPHRD_LOOPBACK : variant == 2 ? ARPHRD_NONE : ARPHRD_ETHER,
		variant == 3 ? 0 : 7, variant == 4 ? IFF_LOOPBACK | IFF_UP : IFF_UP);
	if (variant != 5)
		pb_str(p, IFLA_IFNAME, variant == 6 ? "bad/name" : variant == 7 ? "waytoolongname16" : "eth7");
	if (variant == 8)
		pb_attr(p, IFLA_ADDRESS, mac1, 4);
	else if (variant != 9)
		pb_attr(p, IFLA_ADDRESS, mac1, 6);
	pb_attr(p, IFLA_PERM_ADDRESS, perm1, 6);
	if (variant == 10)
		pb_attr(p, IFLA_MTU, "\x01\x02", 2);
	else
		pb_u32(p, IFLA_MTU, 9000);
	pb_u8(p, IFLA_OPERSTATE, variant == 11 ? 42 : CDT_OPER_UP);
	pb_u8(p, IFLA_CARRIER, 1);
	pb_u32(p, IFLA_MASTER, variant == 12 ? 7 : 3);
	size_t nest = pb_attr(p, IFLA_LINKINFO, NULL, 0);
	if (variant == 13)
		pb_attr(p, IFLA_INFO_KIND, "veth", 4);    /* not NUL-terminated */
	else
		pb_str(p, IFLA_INFO_KIND, variant == 14 ? "averyveryverylongkindname-beyond32" : "veth");
	pb_nest_end(p, nest);
	pb_u32(p, IFLA_GROUP, 0);                         /* ignored */
}

static void test_parse_link(void **state)
{
	static const struct {
		int variant;
		int rc;
		bool skip;
		const char *msg;     /* part of the message on failure */
	} cases[] = {
		{ 0, 0, false, NULL },
		{ 1, 0, true, NULL },      /* loopback type */
		{ 2, 0, true, NULL },      /* not Ethernet */
		{ 4, 0, true, NULL },      /* IFF_LOOPBACK */
		{ 3, NETD_ECORRUPT, false, "ifindex 0" },
		{ 5, NETD_ECORRUPT, false, "no name" },
		{ 6, NETD_ECORRUPT, false, "invalid interface name" },
		{ 7, NETD_ECORRUPT, false, "wrong size" },     /* > IFNAMSIZ */
		{ 8, NETD_ECORRUPT, false, "wrong size" },     /* 4-byte MAC */
		{ 9, NETD_ECORRUPT, false, "no MAC" },
		{ 10, NETD_ECORRUPT, false, "wrong size" },    /* 2-byte MTU */
		{ 11, 0, false, NULL },     /* operstate 42 -> unknown */
		{ 12, NETD_ECORRUPT, false, "invalid master" },
		{ 13, NETD_ECORRUPT, false, "IFLA_LINKINFO" },
		{ 14, 0, false, NULL },     /* long kind cut */
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct pb p;
		struct cdt_inv_link l;
		struct netd_err e = { 0 };
		bool skip = !cases[i].skip;
		memset(&l, 0x5a, sizeof l);
		pb_link(&p, cases[i].variant);
		int rc = cdt_inv_parse_link(p.words, p.len, &l, &skip, &e);
		if (rc != cases[i].rc)
			fail_msg("variant %d: rc %d (%s), want %d", cases[i].variant, rc, e.msg, cases[i].rc);
		if (rc < 0) {
			if (!strstr(e.msg, cases[i].msg))
				fail_msg("variant %d: message \"%s\" lacks \"%s\"", cases[i].variant, e.msg, cases[i].msg);
			assert_int_equal(((uint8_t *)&l)[0], 0x5a);
			continue;
		}
		if (skip != cases[i].skip)
			fail_msg("variant %d: skip %d", cases[i].variant, skip);
		if (skip)
			continue;
		assert_string_equal(l.nic.name, "eth7");
		assert_int_equal(l.nic.ifindex, 7);
		assert_memory_equal(l.nic.mac, mac1, 6);
		assert_true(l.nic.has_perm_mac);
		assert_memory_equal(l.nic.perm_mac, perm1, 6);
		assert_int_equal(l.nic.mtu, 9000);
		assert_int_equal(l.nic.operstate, cases[i].variant == 11 ? CDT_OPER_UNKNOWN : CDT_OPER_UP);
		assert_true(l.nic.link_up);
		assert_int_equal(l.master, 3);
		assert_string_equal(l.kind, cases[i].variant == 14 ? "averyveryverylongkindname-beyon" : "veth");
		assert_int_equal(l.nic.speed_class, 0);
		assert_string_equal(l.nic.pci, "");
	}
}

static void test_parse_link_short(void **state)
{
	struct pb p;
	struct cdt_inv_link l;
	bool skip;
	pb_link(&p, 0);
	/* Every truncation either fails cleanly or parses what is whole. */
	for (size_t len = 0; len <= p.len; len++) {
		struct netd_err e = { 0 };
		uint32_t *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, p.words, len);
		int rc = cdt_inv_parse_link(copy, len, &l, &skip, &e);
		assert_true(rc == 0 || rc == NETD_ECORRUPT);
		if (len < 16)
			assert_int_equal(rc, NETD_ECORRUPT);
		free(copy);
	}
	struct netd_err e = { 0 };
	assert_int_equal(cdt_inv_parse_link(NULL, 100, &l, &skip, &e), NETD_ECORRUPT);
}

/* ---- collection over a fake ops table ---- */

struct fake {
	int conflicts;           /* dump_links answers NETD_ECONFLICT this often first */
	int fail;                /* dump_links fails with this */
	int dumps;
	bool corrupt;            /* send a bad message */
};

static int fake_dump(void *ctx, cdt_inv_each_fn each, void *arg, struct netd_err *e)
{
	struct fake *f = ctx;
	struct pb p;
	int rc;
	f->dumps++;
	if (f->fail)
		return netd_err_set(e, f->fail, NULL, "fake failure");
	/* lo, then eth0 (physical, ifindex 3), then veth0 (ifindex 2) */
	pb_init(&p, ARPHRD_LOOPBACK, 1, IFF_LOOPBACK);
	pb_str(&p, IFLA_IFNAME, "lo");
	if ((rc = each(arg, p.words, p.len)) != 0)
		return rc;
	if (f->conflicts > 0) {
		f->conflicts--;
		return NETD_ECONFLICT;
	}
	pb_init(&p, ARPHRD_ETHER, 3, IFF_UP);
	pb_str(&p, IFLA_IFNAME, "eth0");
	pb_attr(&p, IFLA_ADDRESS, mac1, f->corrupt ? 5 : 6);
	pb_u32(&p, IFLA_MTU, 1500);
	pb_u8(&p, IFLA_OPERSTATE, CDT_OPER_UP);
	pb_u8(&p, IFLA_CARRIER, 1);
	if ((rc = each(arg, p.words, p.len)) != 0)
		return rc;
	pb_init(&p, ARPHRD_ETHER, 2, 0);
	pb_str(&p, IFLA_IFNAME, "veth0");
	pb_attr(&p, IFLA_ADDRESS, perm1, 6);
	pb_u32(&p, IFLA_MTU, 9000);
	pb_u8(&p, IFLA_OPERSTATE, CDT_OPER_DOWN);
	pb_u8(&p, IFLA_CARRIER, 0);
	pb_u32(&p, IFLA_MASTER, 9);
	size_t nest = pb_attr(&p, IFLA_LINKINFO, NULL, 0);
	pb_str(&p, IFLA_INFO_KIND, "veth");
	pb_nest_end(&p, nest);
	return each(arg, p.words, p.len);
}

static int fake_modes(void *ctx, const char *ifname, uint32_t *modes, uint32_t *speed)
{
	memset(modes, 0, CDT_INV_MODE_WORDS * sizeof *modes);
	if (strcmp(ifname, "eth0") == 0) {
		modes[ETHTOOL_LINK_MODE_10000baseT_Full_BIT / 32] |= 1u << (ETHTOOL_LINK_MODE_10000baseT_Full_BIT % 32);
		modes[ETHTOOL_LINK_MODE_1000baseT_Full_BIT / 32] |= 1u << (ETHTOOL_LINK_MODE_1000baseT_Full_BIT % 32);
		*speed = 1000;
		return 0;
	}
	*speed = 10000;      /* veth: no modes, a speed */
	return 0;
}

static int fake_perm(void *ctx, const char *ifname, uint8_t mac[6])
{
	if (strcmp(ifname, "eth0") != 0)
		return -EOPNOTSUPP;
	memcpy(mac, perm1, 6);
	return 0;
}

static int fake_read(void *ctx, const char *ifname, const char *attr, char *buf, size_t len)
{
	if (strcmp(attr, "speed") != 0)
		return -ENOENT;
	if (strcmp(ifname, "eth0") == 0) {
		snprintf(buf, len, "1000\n");
		return 0;
	}
	return -EINVAL;     /* a down link */
}

static int fake_path(void *ctx, const char *ifname, const char *rel, char *buf, size_t len)
{
	static const struct {
		const char *rel, *target;
	} eth0[] = {
		{ "device", "/sys/devices/pci0000:00/0000:00:1c.0/0000:03:00.1" },
		{ "device/subsystem", "/sys/bus/pci" },
		{ "device/driver", "/sys/bus/pci/drivers/ixgbe" },
	};
	if (strcmp(ifname, "eth0") != 0)
		return -ENOENT;
	for (size_t i = 0; i < ARRAY_LEN(eth0); i++) {
		if (strcmp(rel, eth0[i].rel) == 0) {
			snprintf(buf, len, "%s", eth0[i].target);
			return 0;
		}
	}
	return -ENOENT;
}

static const struct cdt_inv_ops fake_ops = {
	.dump_links = fake_dump,
	.link_modes = fake_modes,
	.perm_addr = fake_perm,
	.sysfs_read = fake_read,
	.sysfs_path = fake_path,
};

static void test_collect(void **state)
{
	struct fake f = { 0 };
	struct cdt_inv_link *v = NULL;
	size_t n = 0;
	struct netd_err e = { 0 };
	assert_int_equal(cdt_inv_collect(&fake_ops, &f, NULL, &v, &n, &e), 0);
	assert_int_equal(n, 2);
	/* ifindex order */
	assert_string_equal(v[0].nic.name, "veth0");
	assert_string_equal(v[0].kind, "veth");
	assert_int_equal(v[0].master, 9);
	assert_int_equal(v[0].nic.speed, 0);
	assert_int_equal(v[0].nic.speed_class, 10000);
	assert_int_equal(v[0].nic.supported, 0);       /* veth: no link modes, none supported */
	assert_false(v[0].nic.has_perm_mac);
	assert_int_equal(v[0].nic.operstate, CDT_OPER_DOWN);
	assert_string_equal(v[0].nic.pci, "");
	assert_string_equal(v[1].nic.name, "eth0");
	assert_string_equal(v[1].kind, "");
	assert_int_equal(v[1].nic.speed, 1000);
	assert_int_equal(v[1].nic.speed_class, 10000);
	assert_int_equal(v[1].nic.supported, cdt_link_speed_bit(1000) | cdt_link_speed_bit(10000));
	assert_true(v[1].nic.has_perm_mac);
	assert_memory_equal(v[1].nic.perm_mac, perm1, 6);
	assert_string_equal(v[1].nic.pci, "0000:03:00.1");
	assert_string_equal(v[1].nic.driver, "ixgbe");
	assert_true(v[1].nic.link_up);
	free(v);

	struct cdt_inventory_opts opts = { .physical_only = true, .no_ethtool = true };
	assert_int_equal(cdt_inv_collect(&fake_ops, &f, &opts, &v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].nic.name, "eth0");
	assert_int_equal(v[0].nic.speed_class, 1000);   /* no ethtool: current speed */
	assert_int_equal(v[0].nic.supported, 0);        /* and no link modes */
	assert_false(v[0].nic.has_perm_mac);
	free(v);
}

static void test_collect_errors(void **state)
{
	static const struct {
		struct fake f;
		int rc;
		int dumps;
	} cases[] = {
		{ { .conflicts = 2 }, 0, 3 },
		{ { .conflicts = 3 }, NETD_ECONFLICT, 3 },
		{ { .fail = -EPERM }, -EPERM, 1 },
		{ { .corrupt = true }, NETD_ECORRUPT, 1 },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct fake f = cases[i].f;
		struct cdt_inv_link *v = (void *)&f;
		size_t n = 12345;
		struct netd_err e = { 0 };
		int rc = cdt_inv_collect(&fake_ops, &f, NULL, &v, &n, &e);
		if (rc != cases[i].rc || f.dumps != cases[i].dumps)
			fail_msg("case %zu: rc %d after %d dumps, want %d after %d", i, rc, f.dumps, cases[i].rc,
				 cases[i].dumps);
		if (rc == 0) {
			assert_int_equal(n, 2);
			free(v);
			continue;
		}
		assert_int_equal(e.code, rc);
		assert_true(e.msg[0] != '\0');
		assert_ptr_equal(v, (void *)&f);
		assert_int_equal(n, 12345);
	}
}

/* ---- records ---- */

static void test_records(void **state)
{
	const struct cdt_inventory_record recs[] = {
		{ .name = "eth0", .ifindex = 2, .mac = "52:54:00:12:34:56", .perm_mac = "52:54:00:12:34:56",
		  .mtu = 1500, .operstate = "up", .link_up = true, .speed_class = "10g", .speed = "1g",
		  .pci = "0000:03:00.0", .driver = "ixgbe" },
		{ .name = "eth1", .mac = "52:54:00:12:34:56" },   /* same current MAC: fine */
	};
	struct cdt_nic *v = NULL;
	size_t n = 0;
	struct netd_err e = { 0 };
	assert_int_equal(cdt_inventory_from_records(recs, ARRAY_LEN(recs), &v, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "eth0");
	assert_int_equal(v[0].speed_class, 10000);
	assert_int_equal(v[0].speed, 1000);
	assert_int_equal(v[0].operstate, CDT_OPER_UP);
	assert_true(v[0].has_perm_mac);
	assert_string_equal(v[0].pci, "0000:03:00.0");
	assert_string_equal(v[0].driver, "ixgbe");
	assert_int_equal(v[0].supported, cdt_link_speed_bit(10000));   /* the class alone */
	assert_int_equal(v[1].speed_class, 0);
	assert_int_equal(v[1].supported, 0);
	assert_false(v[1].has_perm_mac);
	assert_int_equal(v[1].operstate, CDT_OPER_UNKNOWN);
	free(v);

	assert_int_equal(cdt_inventory_from_records(NULL, 0, &v, &n, &e), 0);
	assert_null(v);
	assert_int_equal(n, 0);
}

/* Supported speeds in records: stated, settled with the class. */
static void test_records_speeds(void **state)
{
	static const uint32_t s1[] = { 1000, 10000, 25000 }, s2[] = { 25000, 1000, 1000 }, s3[] = { 20000 };
	const struct cdt_inventory_record recs[] = {
		{ .name = "a", .mac = "02:00:00:00:00:01", .speed_class = "25g", .supported = s1, .n_supported = 3 },
		{ .name = "b", .mac = "02:00:00:00:00:02", .supported = s2, .n_supported = 3 },    /* no class */
		{ .name = "c", .mac = "02:00:00:00:00:03", .class_mbps = 20000 },                /* no token */
		{ .name = "d", .mac = "02:00:00:00:00:04", .class_mbps = 20000, .speed_mbps = 10000,
		  .supported = s3, .n_supported = 1 },
		{ .name = "e", .mac = "02:00:00:00:00:05", .class_mbps = 777 },                  /* no link speed */
		{ .name = "f", .mac = "02:00:00:00:00:06", .speed_class = "1g", .class_mbps = 999 },   /* token wins */
	};
	struct cdt_nic *v = NULL;
	size_t n = 0;
	struct netd_err e = { 0 };
	const uint32_t g1 = cdt_link_speed_bit(1000), g10 = cdt_link_speed_bit(10000), g25 = cdt_link_speed_bit(25000);
	assert_int_equal(cdt_inventory_from_records(recs, ARRAY_LEN(recs), &v, &n, &e), 0);
	assert_int_equal(n, ARRAY_LEN(recs));
	assert_int_equal(v[0].speed_class, 25000);
	assert_int_equal(v[0].supported, g1 | g10 | g25);
	assert_int_equal(v[1].speed_class, 25000);
	assert_int_equal(v[1].supported, g1 | g25);
	assert_int_equal(v[2].speed_class, 20000);
	assert_int_equal(v[2].supported, cdt_link_speed_bit(20000));
	assert_int_equal(v[3].speed_class, 20000);
	assert_int_equal(v[3].speed, 10000);
	assert_int_equal(v[4].speed_class, 777);
	assert_int_equal(v[4].supported, 0);
	assert_int_equal(v[5].speed_class, 1000);
	assert_int_equal(v[5].supported, g1);
	free(v);

	static const uint32_t bad_speed[] = { 1000, 3000 }, fast[] = { 1000, 10000 };
	const struct {
		struct cdt_inventory_record r;
		const char *path, *msg;
	} bad[] = {
		{ { .name = "eth0", .mac = "02:00:00:00:00:01", .supported = bad_speed, .n_supported = 2 },
		  "/inventory/nic[name='eth0']/supported-speed", "3000 Mb/s is not the speed of a link mode" },
		{ { .name = "eth0", .mac = "02:00:00:00:00:01", .speed_class = "1g", .supported = fast, .n_supported = 2 },
		  "/inventory/nic[name='eth0']/speed-class", "speed class 1000 Mb/s is not its fastest supported speed "
							     "(10000 Mb/s)" },
		{ { .name = "eth0", .mac = "02:00:00:00:00:01", .class_mbps = 40000, .supported = fast, .n_supported = 2 },
		  "/inventory/nic[name='eth0']/speed-class", "40000 Mb/s is not its fastest" },
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		v = (void *)&e;
		n = 77;
		memset(&e, 0, sizeof e);
		int rc = cdt_inventory_from_records(&bad[i].r, 1, &v, &n, &e);
		if (rc != NETD_EINVAL || strcmp(e.path, bad[i].path) || !strstr(e.msg, bad[i].msg))
			fail_msg("bad %zu: rc %d %s: %s; want %s: ...%s...", i, rc, e.path, e.msg, bad[i].path, bad[i].msg);
		assert_ptr_equal(v, (void *)&e);
		assert_int_equal(n, 77);
	}
}

static int sentinel;

static void test_records_errors(void **state)
{
#define OK_MAC .mac = "02:00:00:00:00:01"
	static const struct {
		struct cdt_inventory_record r[2];
		const char *path, *msg;
	} cases[] = {
		{ { { .name = "eth/0", OK_MAC }, { .name = "x", OK_MAC } }, "/inventory/nic[1]/name", "eth/0" },
		{ { { .name = NULL, OK_MAC }, { .name = "x", OK_MAC } }, "/inventory/nic[1]/name", "bad interface" },
		{ { { .name = "eth0", OK_MAC }, { .name = "waytoolongname16", OK_MAC } }, "/inventory/nic[2]/name", "" },
		{ { { .name = "eth0" }, { .name = "x", OK_MAC } }, "/inventory/nic[name='eth0']/mac", "missing MAC" },
		{ { { .name = "eth0", .mac = "02:00:00:00:00" }, { .name = "x", OK_MAC } },
		  "/inventory/nic[name='eth0']/mac", "02:00:00:00:00" },
		{ { { .name = "eth0", OK_MAC, .perm_mac = "zz" }, { .name = "x", OK_MAC } },
		  "/inventory/nic[name='eth0']/perm-mac", "zz" },
		{ { { .name = "eth0", OK_MAC, .operstate = "sideways" }, { .name = "x", OK_MAC } },
		  "/inventory/nic[name='eth0']/operstate", "sideways" },
		{ { { .name = "eth0", OK_MAC, .speed_class = "3g" }, { .name = "x", OK_MAC } },
		  "/inventory/nic[name='eth0']/speed-class", "3g" },
		{ { { .name = "eth0", OK_MAC, .speed = "fast" }, { .name = "x", OK_MAC } },
		  "/inventory/nic[name='eth0']/speed", "fast" },
		{ { { .name = "eth0", OK_MAC, .pci = "03:00.0" }, { .name = "x", OK_MAC } },
		  "/inventory/nic[name='eth0']/pci", "DDDD:BB:DD.F" },
		{ { { .name = "eth0", OK_MAC, .ifindex = -1 }, { .name = "x", OK_MAC } },
		  "/inventory/nic[name='eth0']/ifindex", "negative" },
		{ { { .name = "eth0", OK_MAC }, { .name = "eth0", OK_MAC } }, "/inventory/nic[name='eth0']/name",
		  "same value as NIC \"eth0\"" },
		{ { { .name = "eth0", OK_MAC, .ifindex = 4 }, { .name = "eth1", OK_MAC, .ifindex = 4 } },
		  "/inventory/nic[name='eth1']/ifindex", "eth0" },
		{ { { .name = "eth0", OK_MAC, .pci = "0000:03:00.0" }, { .name = "eth1", OK_MAC, .pci = "0000:03:00.0" } },
		  "/inventory/nic[name='eth1']/pci", "eth0" },
		{ { { .name = "eth0", OK_MAC, .perm_mac = "02:00:00:00:00:09" },
		    { .name = "eth1", OK_MAC, .perm_mac = "02:00:00:00:00:09" } },
		  "/inventory/nic[name='eth1']/perm-mac", "eth0" },
	};
#undef OK_MAC
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct cdt_nic *v = (void *)&sentinel;
		size_t n = 77;
		struct netd_err e = { 0 };
		int rc = cdt_inventory_from_records(cases[i].r, 2, &v, &n, &e);
		if (rc != NETD_EINVAL)
			fail_msg("case %zu: rc %d, want NETD_EINVAL", i, rc);
		if (strcmp(e.path, cases[i].path) != 0 || !strstr(e.msg, cases[i].msg))
			fail_msg("case %zu: %s: %s; want %s: ...%s...", i, e.path, e.msg, cases[i].path, cases[i].msg);
		assert_ptr_equal(v, (void *)&sentinel);
		assert_int_equal(n, 77);
	}
	struct cdt_nic *v = NULL;
	size_t n = 0;
	struct netd_err e = { 0 };
	static const struct cdt_inventory_record one = { .name = "eth0", .mac = "02:00:00:00:00:01" };
	assert_int_equal(cdt_inventory_from_records(&one, CDT_INVENTORY_MAX + 1, &v, &n, &e), NETD_ETOOBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes_class),     cmocka_unit_test(test_modes_speeds),
		cmocka_unit_test(test_link_speeds),     cmocka_unit_test(test_class_fallback),
		cmocka_unit_test(test_speed_parse),     cmocka_unit_test(test_pci_from_path),
		cmocka_unit_test(test_operstate),       cmocka_unit_test(test_parse_link),
		cmocka_unit_test(test_parse_link_short), cmocka_unit_test(test_collect),
		cmocka_unit_test(test_collect_errors),  cmocka_unit_test(test_records),
		cmocka_unit_test(test_records_speeds),  cmocka_unit_test(test_records_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
