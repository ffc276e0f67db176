/* conduits/inventory.c — NIC inventory: discovery over rtnetlink, ethtool and
 * sysfs, and inventories stated as plain records.
 *
 * Layout (top to bottom):
 *   1. pure conversions: operstate names, sysfs speed text, link-mode
 *      bitmaps -> supported speeds and speed class, device paths -> PCI
 *      bus path, and the RTM_NEWLINK parser (nla_policy tables; no
 *      sockets);
 *   2. records -> struct cdt_nic (inventory files, mapped by the caller);
 *   3. cdt_inv_collect(): the logic, over an ops table (inv_int.h);
 *   4. the real ops: one libnl route socket for the link dump, one datagram
 *      socket for the ethtool ioctls, sysfs reads.  libnl's NLE_* codes are
 *      translated here, in cdt_nl_code(), and nowhere else.
 * Per-link ethtool and sysfs failures are not errors: the fact they would
 * have given stays unknown (0 / "").  Only the link dump itself can fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <net/if.h>
#include <net/if_arp.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "conduits/cdt_int.h"
#include "conduits/inv_int.h"

#define INV_PATH_ROOT "/inventory"
#define DUMP_TRIES 3

/* ======================================================================
 * 1. Pure conversions
 * ====================================================================== */

static const char *const oper_names[] = {
	[CDT_OPER_UNKNOWN] = "unknown",
	[CDT_OPER_NOTPRESENT] = "notpresent",
	[CDT_OPER_DOWN] = "down",
	[CDT_OPER_LOWERLAYERDOWN] = "lowerlayerdown",
	[CDT_OPER_TESTING] = "testing",
	[CDT_OPER_DORMANT] = "dormant",
	[CDT_OPER_UP] = "up",
};
#define N_OPER (sizeof oper_names / sizeof oper_names[0])

int cdt_operstate_parse(const char *text, uint8_t *out)
{
	if (!text)
		return NETD_EINVAL;
	for (size_t i = 0; i < N_OPER; i++) {
		if (strcasecmp(text, oper_names[i]) == 0) {
			*out = (uint8_t)i;
			return 0;
		}
	}
	return NETD_EINVAL;
}

const char *cdt_operstate_name(uint8_t st)
{
	return st < N_OPER ? oper_names[st] : oper_names[CDT_OPER_UNKNOWN];
}

int cdt_inv_speed_parse(const char *text, uint32_t *out)
{
	if (!text)
		return NETD_EINVAL;
	size_t len = strlen(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len == 0)
		return NETD_EINVAL;
	if ((len == 7 && strncasecmp(text, "unknown", 7) == 0) || (len == 2 && strncmp(text, "-1", 2) == 0)) {
		*out = 0;
		return 0;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9' || i >= 10)
			return NETD_EINVAL;
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	if (v > UINT32_MAX)
		return NETD_EINVAL;
	/* SPEED_UNKNOWN is (u32)-1; some drivers print it unsigned. */
	*out = v == UINT32_MAX ? 0 : (uint32_t)v;
	return 0;
}

/* Speed of every link mode that has one, from the kernel's bit names. */
static const struct {
	uint16_t bit;
	uint32_t mbps;
} mode_speeds[] = {
	{ ETHTOOL_LINK_MODE_10baseT1L_Full_BIT, 10 },
	{ ETHTOOL_LINK_MODE_10baseT_Full_BIT, 10 },
	{ ETHTOOL_LINK_MODE_10baseT_Half_BIT, 10 },
	{ ETHTOOL_LINK_MODE_100baseFX_Full_BIT, 100 },
	{ ETHTOOL_LINK_MODE_100baseFX_Half_BIT, 100 },
	{ ETHTOOL_LINK_MODE_100baseT1_Full_BIT, 100 },
	{ ETHTOOL_LINK_MODE_100baseT_Full_BIT, 100 },
	{ ETHTOOL_LINK_MODE_100baseT_Half_BIT, 100 },
	{ ETHTOOL_LINK_MODE_1000baseKX_Full_BIT, 1000 },
	{ ETHTOOL_LINK_MODE_1000baseT1_Full_BIT, 1000 },
	{ ETHTOOL_LINK_MODE_1000baseT_Full_BIT, 1000 },
	{ ETHTOOL_LINK_MODE_1000baseT_Half_BIT, 1000 },
	{ ETHTOOL_LINK_MODE_1000baseX_Full_BIT, 1000 },
	{ ETHTOOL_LINK_MODE_2500baseT_Full_BIT, 2500 },
	{ ETHTOOL_LINK_MODE_2500baseX_Full_BIT, 2500 },
	{ ETHTOOL_LINK_MODE_5000baseT_Full_BIT, 5000 },
	{ ETHTOOL_LINK_MODE_10000baseCR_Full_BIT, 10000 },
	{ ETHTOOL_LINK_MODE_10000baseER_Full_BIT, 10000 },
	{ ETHTOOL_LINK_MODE_10000baseKR_Full_BIT, 10000 },
	{ ETHTOOL_LINK_MODE_10000baseKX4_Full_BIT, 10000 },
	{ ETHTOOL_LINK_MODE_10000baseLRM_Full_BIT, 10000 },
	{ ETHTOOL_LINK_MODE_10000baseLR_Full_BIT, 10000 },
	{ ETHTOOL_LINK_MODE_10000baseR_FEC_BIT, 10000 },
	{ ETHTOOL_LINK_MODE_10000baseSR_Full_BIT, 10000 },
	{ ETHTOOL_LINK_MODE_10000baseT_Full_BIT, 10000 },
	{ ETHTOOL_LINK_MODE_20000baseKR2_Full_BIT, 20000 },
	{ ETHTOOL_LINK_MODE_20000baseMLD2_Full_BIT, 20000 },
	{ ETHTOOL_LINK_MODE_25000baseCR_Full_BIT, 25000 },
	{ ETHTOOL_LINK_MODE_25000baseKR_Full_BIT, 25000 },
	{ ETHTOOL_LINK_MODE_25000baseSR_Full_BIT, 25000 },
	{ ETHTOOL_LINK_MODE_40000baseCR4_Full_BIT, 40000 },
	{ ETHTOOL_LINK_MODE_40000baseKR4_Full_BIT, 40000 },
	{ ETHTOOL_LINK_MODE_40000baseLR4_Full_BIT, 40000 },
	{ ETHTOOL_LINK_MODE_40000baseSR4_Full_BIT, 40000 },
	{ ETHTOOL_LINK_MODE_50000baseCR2_Full_BIT, 50000 },
	{ ETHTOOL_LINK_MODE_50000baseCR_Full_BIT, 50000 },
	{ ETHTOOL_LINK_MODE_50000baseDR_Full_BIT, 50000 },
	{ ETHTOOL_LINK_MODE_50000baseKR2_Full_BIT, 50000 },
	{ ETHTOOL_LINK_MODE_50000baseKR_Full_BIT, 50000 },
	{ ETHTOOL_LINK_MODE_50000baseLR_ER_FR_Full_BIT, 50000 },
	{ ETHTOOL_LINK_MODE_50000baseSR2_Full_BIT, 50000 },
	{ ETHTOOL_LINK_MODE_50000baseSR_Full_BIT, 50000 },
	{ ETHTOOL_LINK_MODE_56000baseCR4_Full_BIT, 56000 },
	{ ETHTOOL_LINK_MODE_56000baseKR4_Full_BIT, 56000 },
	{ ETHTOOL_LINK_MODE_56000baseLR4_Full_BIT, 56000 },
	{ ETHTOOL_LINK_MODE_56000baseSR4_Full_BIT, 56000 },
	{ ETHTOOL_LINK_MODE_100000baseCR2_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseCR4_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseCR_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseDR2_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseDR_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseKR2_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseKR4_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseKR_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseLR2_ER2_FR2_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseLR4_ER4_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseLR_ER_FR_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseSR2_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseSR4_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_100000baseSR_Full_BIT, 100000 },
	{ ETHTOOL_LINK_MODE_200000baseCR2_Full_BIT, 200000 },
	{ ETHTOOL_LINK_MODE_200000baseCR4_Full_BIT, 200000 },
	{ ETHTOOL_LINK_MODE_200000baseDR2_Full_BIT, 200000 },
	{ ETHTOOL_LINK_MODE_200000baseDR4_Full_BIT, 200000 },
	{ ETHTOOL_LINK_MODE_200000baseKR2_Full_BIT, 200000 },
	{ ETHTOOL_LINK_MODE_200000baseKR4_Full_BIT, 200000 },
	{ ETHTOOL_LINK_MODE_200000baseLR2_ER2_FR2_Full_BIT, 200000 },
	{ ETHTOOL_LINK_MODE_200000baseLR4_ER4_FR4_Full_BIT, 200000 },
	{ ETHTOOL_LINK_MODE_200000baseSR2_Full_BIT, 200000 },
	{ ETHTOOL_LINK_MODE_200000baseSR4_Full_BIT, 200000 },
	{ ETHTOOL_LINK_MODE_400000baseCR4_Full_BIT, 400000 },
	{ ETHTOOL_LINK_MODE_400000baseCR8_Full_BIT, 400000 },
	{ ETHTOOL_LINK_MODE_400000baseDR4_Full_BIT, 400000 },
	{ ETHTOOL_LINK_MODE_400000baseDR8_Full_BIT, 400000 },
	{ ETHTOOL_LINK_MODE_400000baseKR4_Full_BIT, 400000 },
	{ ETHTOOL_LINK_MODE_400000baseKR8_Full_BIT, 400000 },
	{ ETHTOOL_LINK_MODE_400000baseLR4_ER4_FR4_Full_BIT, 400000 },
	{ ETHTOOL_LINK_MODE_400000baseLR8_ER8_FR8_Full_BIT, 400000 },
	{ ETHTOOL_LINK_MODE_400000baseSR4_Full_BIT, 400000 },
	{ ETHTOOL_LINK_MODE_400000baseSR8_Full_BIT, 400000 },
};

const uint32_t cdt_link_speeds[CDT_LINK_SPEEDS] = { 10, 100, 1000, 2500, 5000, 10000, 20000,
						   25000, 40000, 50000, 56000, 100000, 200000, 400000 };

uint32_t cdt_link_speed_bit(uint32_t mbps)
{
	for (unsigned k = 0; k < CDT_LINK_SPEEDS; k++)
		if (cdt_link_speeds[k] == mbps)
			return 1u << k;
	return 0;
}

uint32_t cdt_link_speeds_max(uint32_t mask)
{
	uint32_t best = 0;
	for (unsigned k = 0; k < CDT_LINK_SPEEDS; k++)
		if (mask >> k & 1u)
			best = cdt_link_speeds[k];
	return best;
}

uint32_t cdt_inv_modes_speeds(const uint32_t *modes, size_t nwords)
{
	uint32_t mask = 0;
	for (size_t i = 0; i < sizeof mode_speeds / sizeof mode_speeds[0]; i++) {
		size_t w = mode_speeds[i].bit / 32u, b = mode_speeds[i].bit % 32u;
		if (w < nwords && (modes[w] >> b & 1u))
			mask |= cdt_link_speed_bit(mode_speeds[i].mbps);
	}
	return mask;
}

uint32_t cdt_inv_modes_class(const uint32_t *modes, size_t nwords)
{
	return cdt_link_speeds_max(cdt_inv_modes_speeds(modes, nwords));
}

uint32_t cdt_inv_class(uint32_t modes_class, uint32_t cur_speed, uint32_t drv_speed)
{
	if (modes_class)
		return modes_class;
	return cur_speed ? cur_speed : drv_speed;
}

const char *cdt_inv_basename(const char *path)
{
	if (!path)
		return "";
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* The @k-th component of @path counted from its end (0 = last) as
 * [*@start, *@start + *@len).  false when there are not that many. */
static bool path_component(const char *path, unsigned k, const char **start, size_t *len)
{
	const char *end = path + strlen(path);
	for (;;) {
		const char *s = end;
		while (s > path && s[-1] != '/')
			s--;
		if (k == 0) {
			*start = s;
			*len = (size_t)(end - s);
			return *len > 0;
		}
		if (s == path)
			return false;
		end = s - 1;
		k--;
	}
}

/* @s[0..len) is a PCI bus path in cdt_ref_parse's pci: grammar. */
static bool is_pci_path(const char *s, size_t len)
{
	char text[CDT_REF_TEXT_MAX];
	struct cdt_ref r;
	struct netd_err e = { 0 };
	if (len == 0 || len + 5 > sizeof text || memchr(s, ',', len))
		return false;
	memcpy(text, "pci:", 4);
	memcpy(text + 4, s, len);
	text[4 + len] = '\0';
	return cdt_ref_parse(text, &r, &e) == 0;
}

int cdt_inv_pci_from_path(const char *devpath, const char *subsystem, char *buf, size_t len)
{
	const char *comp = NULL;
	size_t clen = 0;
	unsigned k;
	if (len == 0)
		return NETD_ETOOBIG;
	buf[0] = '\0';
	if (!devpath || !subsystem)
		return 0;
	if (strcmp(subsystem, "pci") == 0)
		k = 0;
	else if (strcmp(subsystem, "virtio") == 0)
		k = 1;       /* .../0000:00:03.0/virtio0 */
	else
		return 0;
	if (!path_component(devpath, k, &comp, &clen) || !is_pci_path(comp, clen))
		return 0;
	if (clen >= len)
		return NETD_ETOOBIG;
	memcpy(buf, comp, clen);
	buf[clen] = '\0';
	return 0;
}

/* Kernel interface name rules (dev_valid_name): 1..15 bytes, not "." or
 * "..", no '/', ':' or whitespace. */
static bool ifname_valid(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len >= CDT_IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r'))
			return false;
	}
	return true;
}

static bool mac_zero(const uint8_t *m)
{
	static const uint8_t z[6];
	return memcmp(m, z, 6) == 0;
}

/* Lengths are checked here; the rest (exact MAC size, name rules, ranges)
 * in cdt_inv_parse_link.  Attributes not listed are ignored. */
static const struct nla_policy link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { .type = NLA_STRING, .maxlen = IFNAMSIZ },
	[IFLA_ADDRESS] = { .type = NLA_UNSPEC, .minlen = 6, .maxlen = 6 },
	[IFLA_PERM_ADDRESS] = { .type = NLA_UNSPEC, .minlen = 6, .maxlen = 6 },
	[IFLA_MTU] = { .type = NLA_U32 },
	[IFLA_OPERSTATE] = { .type = NLA_U8 },
	[IFLA_CARRIER] = { .type = NLA_U8 },
	[IFLA_MASTER] = { .type = NLA_U32 },
	[IFLA_LINKINFO] = { .type = NLA_NESTED },
};

static const struct nla_policy linkinfo_policy[IFLA_INFO_MAX + 1] = {
	[IFLA_INFO_KIND] = { .type = NLA_STRING },
};

static int parse_link_attrs(struct nlattr **tb, int ifindex, struct cdt_inv_link *l, struct netd_err *e)
{
	const char *name = nla_data(tb[IFLA_IFNAME]);
	if (!ifname_valid(name))
		return netd_err_set(e, NETD_ECORRUPT, NULL, "link %d: invalid interface name", ifindex);
	memcpy(l->nic.name, name, strlen(name) + 1);
	l->nic.ifindex = ifindex;
	memcpy(l->nic.mac, nla_data(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_PERM_ADDRESS] && !mac_zero(nla_data(tb[IFLA_PERM_ADDRESS]))) {
		memcpy(l->nic.perm_mac, nla_data(tb[IFLA_PERM_ADDRESS]), 6);
		l->nic.has_perm_mac = true;
	}
	if (tb[IFLA_MTU])
		l->nic.mtu = nla_get_u32(tb[IFLA_MTU]);
	l->nic.operstate = CDT_OPER_UNKNOWN;
	if (tb[IFLA_OPERSTATE] && nla_get_u8(tb[IFLA_OPERSTATE]) < N_OPER)
		l->nic.operstate = nla_get_u8(tb[IFLA_OPERSTATE]);
	l->nic.link_up = tb[IFLA_CARRIER] ? nla_get_u8(tb[IFLA_CARRIER]) != 0 : l->nic.operstate == CDT_OPER_UP;
	if (tb[IFLA_MASTER]) {
		uint32_t m = nla_get_u32(tb[IFLA_MASTER]);
		if (m > INT_MAX || m == (uint32_t)ifindex)
			return netd_err_set(e, NETD_ECORRUPT, NULL, "link %s: invalid master %u", name, m);
		l->master = (int)m;
	}
	if (tb[IFLA_LINKINFO]) {
		struct nlattr *info[IFLA_INFO_MAX + 1];
		int rc = nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], linkinfo_policy);
		if (rc < 0)
			return netd_err_set(e, cdt_nl_code(rc), NULL, "link %s: bad IFLA_LINKINFO: %s", name,
					    nl_geterror(rc));
		if (info[IFLA_INFO_KIND])
			snprintf(l->kind, sizeof l->kind, "%s", (const char *)nla_data(info[IFLA_INFO_KIND]));
	}
	return 0;
}

int cdt_inv_parse_link(const void *payload, size_t len, struct cdt_inv_link *out, bool *skip,
		       struct netd_err *e)
{
	struct ifinfomsg ifi;
	struct nlattr *tb[IFLA_MAX + 1];
	struct cdt_inv_link l;
	const size_t hdr = NLMSG_ALIGN(sizeof ifi);

	if (!payload || len < hdr || len > INT_MAX)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "link message of %zu bytes", len);
	memcpy(&ifi, payload, sizeof ifi);
	/* First: other link types have addresses of other sizes (tunnels: 4). */
	if (ifi.ifi_type != ARPHRD_ETHER || (ifi.ifi_flags & IFF_LOOPBACK)) {
		*skip = true;
		return 0;
	}
	/* nla_parse only reads: the cast drops const for libnl's prototype. */
	int rc = nla_parse(tb, IFLA_MAX, (struct nlattr *)((uintptr_t)payload + hdr), (int)(len - hdr),
			   link_policy);
	if (rc < 0)
		return netd_err_set(e, cdt_nl_code(rc), NULL, "link %d: attribute of the wrong size: %s",
				    ifi.ifi_index, nl_geterror(rc));
	if (ifi.ifi_index <= 0)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "link with ifindex %d", ifi.ifi_index);
	if (!tb[IFLA_IFNAME] || !tb[IFLA_ADDRESS])
		return netd_err_set(e, NETD_ECORRUPT, NULL, "link %d: no %s", ifi.ifi_index,
				    tb[IFLA_IFNAME] ? "MAC address" : "name");
	memset(&l, 0, sizeof l);
	rc = parse_link_attrs(tb, ifi.ifi_index, &l, e);
	if (rc < 0)
		return rc;
	*out = l;
	*skip = false;
	return 0;
}

/* ======================================================================
 * 2. Records (inventory files)
 * ====================================================================== */

static const char *rec_path(char *path, size_t len, const char *name, size_t i, const char *field)
{
	char key[CDT_QUOTE_MAX + 8];
	if (name && ifname_valid(name))
		snprintf(path, len, INV_PATH_ROOT "/nic[name=%s]/%s", netd_path_key(name, key, sizeof key), field);
	else
		snprintf(path, len, INV_PATH_ROOT "/nic[%zu]/%s", i + 1, field);
	return path;
}

static int rec_err(struct netd_err *e, const char *name, size_t i, const char *field, const char *fmt,
		   const char *val)
{
	char path[NETD_ERR_PATH_MAX], q[CDT_QUOTE_MAX];
	return netd_err_set(e, NETD_EINVAL, rec_path(path, sizeof path, name, i, field), fmt,
			    val ? cdt_quote(val, q, sizeof q) : "");
}

/* Supported speeds of @r into @n, then class and supported speeds agree
 * (see cdt_inventory_from_records). */
static int record_speeds(const struct cdt_inventory_record *r, size_t i, struct cdt_nic *n, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX];
	for (size_t k = 0; k < r->n_supported; k++) {
		uint32_t bit = cdt_link_speed_bit(r->supported[k]);
		if (!bit)
			return netd_err_set(e, NETD_EINVAL, rec_path(path, sizeof path, r->name, i, "supported-speed"),
					    "NIC %s: %u Mb/s is not the speed of a link mode (10, 100, 1000, 2500, "
					    "5000, 10000, 20000, 25000, 40000, 50000, 56000, 100000, 200000, 400000)",
					    r->name, r->supported[k]);
		n->supported |= bit;
	}
	uint32_t fastest = cdt_link_speeds_max(n->supported);
	if (!n->supported)
		n->supported = cdt_link_speed_bit(n->speed_class);
	else if (!n->speed_class)
		n->speed_class = fastest;
	else if (n->speed_class != fastest)
		return netd_err_set(e, NETD_EINVAL, rec_path(path, sizeof path, r->name, i, "speed-class"),
				    "NIC %s: speed class %u Mb/s is not its fastest supported speed (%u Mb/s)", r->name,
				    n->speed_class, fastest);
	return 0;
}

static int mac_text(const char *text, uint8_t mac[6])
{
	char buf[CDT_REF_TEXT_MAX];
	struct cdt_ref r;
	struct netd_err e = { 0 };
	if (snprintf(buf, sizeof buf, "mac:%s", text) >= (int)sizeof buf || cdt_ref_parse(buf, &r, &e) < 0)
		return NETD_EINVAL;
	memcpy(mac, r.mac, 6);
	return 0;
}

static int record_to_nic(const struct cdt_inventory_record *r, size_t i, struct cdt_nic *n, struct netd_err *e)
{
	const char *nm = r->name;
	memset(n, 0, sizeof *n);
	if (!nm || !ifname_valid(nm))
		return rec_err(e, nm, i, "name", "bad interface name \"%s\"", nm ? nm : "");
	memcpy(n->name, nm, strlen(nm) + 1);
	if (r->ifindex < 0)
		return rec_err(e, nm, i, "ifindex", "negative ifindex%s", "");
	n->ifindex = r->ifindex;
	if (!r->mac || mac_text(r->mac, n->mac) < 0)
		return rec_err(e, nm, i, "mac", "bad or missing MAC \"%s\"", r->mac ? r->mac : "");
	if (r->perm_mac) {
		if (mac_text(r->perm_mac, n->perm_mac) < 0)
			return rec_err(e, nm, i, "perm-mac", "bad MAC \"%s\"", r->perm_mac);
		n->has_perm_mac = true;
	}
	n->mtu = r->mtu;
	if (r->operstate && cdt_operstate_parse(r->operstate, &n->operstate) < 0)
		return rec_err(e, nm, i, "operstate", "unknown operstate \"%s\"", r->operstate);
	n->link_up = r->link_up;
	n->speed_class = r->class_mbps;
	n->speed = r->speed_mbps;
	if (r->speed_class && cdt_speed_parse(r->speed_class, &n->speed_class) < 0)
		return rec_err(e, nm, i, "speed-class", "unknown speed \"%s\"", r->speed_class);
	if (r->speed && cdt_speed_parse(r->speed, &n->speed) < 0)
		return rec_err(e, nm, i, "speed", "unknown speed \"%s\"", r->speed);
	int rc = record_speeds(r, i, n, e);
	if (rc < 0)
		return rc;
	if (r->pci) {
		size_t len = strlen(r->pci);
		if (len >= sizeof n->pci || !is_pci_path(r->pci, len))
			return rec_err(e, nm, i, "pci", "bad PCI bus path \"%s\" (want DDDD:BB:DD.F)", r->pci);
		memcpy(n->pci, r->pci, len + 1);
	}
	if (r->driver)
		snprintf(n->driver, sizeof n->driver, "%s", r->driver);
	return 0;
}

/* Names, non-zero ifindexes, permanent MACs and PCI paths are unique. */
static int records_unique(const struct cdt_nic *v, size_t n, struct netd_err *e)
{
	for (size_t i = 1; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			const char *what = NULL;
			if (strcmp(v[i].name, v[j].name) == 0)
				what = "name";
			else if (v[i].ifindex && v[i].ifindex == v[j].ifindex)
				what = "ifindex";
			else if (v[i].has_perm_mac && v[j].has_perm_mac && memcmp(v[i].perm_mac, v[j].perm_mac, 6) == 0)
				what = "perm-mac";
			else if (v[i].pci[0] && strcasecmp(v[i].pci, v[j].pci) == 0)
				what = "pci";
			if (what)
				return rec_err(e, v[i].name, i, what, "same value as NIC \"%s\"", v[j].name);
		}
	}
	return 0;
}

int cdt_inventory_from_records(const struct cdt_inventory_record *recs, size_t n, struct cdt_nic **out,
			       size_t *n_out, struct netd_err *e)
{
	if (n > CDT_INVENTORY_MAX)
		return netd_err_set(e, NETD_ETOOBIG, INV_PATH_ROOT, "%zu NICs, at most %d", n, CDT_INVENTORY_MAX);
	if (n == 0) {
		*out = NULL;
		*n_out = 0;
		return 0;
	}
	struct cdt_nic *v = calloc(n, sizeof *v);
	if (!v)
		return netd_err_set(e, -ENOMEM, NULL, "inventory of %zu NICs", n);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = record_to_nic(&recs[i], i, &v[i], e);
	if (rc == 0)
		rc = records_unique(v, n, e);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* ======================================================================
 * 3. Collection over the ops table
 * ====================================================================== */

struct acc {
	struct cdt_inv_link *v;
	size_t n, cap;
	bool physical_only;
	struct netd_err *e;
};

static int acc_each(void *arg, const void *payload, size_t len)
{
	struct acc *a = arg;
	struct cdt_inv_link l;
	bool skip = true;
	int rc = cdt_inv_parse_link(payload, len, &l, &skip, a->e);
	if (rc < 0 || skip || (a->physical_only && l.kind[0]))
		return rc;
	if (a->n == CDT_INVENTORY_MAX)
		return netd_err_set(a->e, NETD_ETOOBIG, NULL, "more than %d links", CDT_INVENTORY_MAX);
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct cdt_inv_link *nv = realloc(a->v, cap * sizeof *nv);
		if (!nv)
			return netd_err_set(a->e, -ENOMEM, NULL, "inventory of %zu links", cap);
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n++] = l;
	return 0;
}

static int by_ifindex(const void *pa, const void *pb)
{
	const struct cdt_inv_link *a = pa, *b = pb;
	return (a->nic.ifindex > b->nic.ifindex) - (a->nic.ifindex < b->nic.ifindex);
}

/* Speed, supported speeds, class and (without IFLA_PERM_ADDRESS) the
 * permanent MAC.  Supported speeds come from the link modes only: a NIC
 * without them (veth, virtio) keeps none, its class comes from a speed. */
static void enrich_speed(const struct cdt_inv_ops *ops, void *ctx, bool ethtool, struct cdt_nic *nic)
{
	char text[64];
	uint32_t cur = 0, drv = 0, mcls = 0;
	nic->supported = 0;
	if (ops->sysfs_read(ctx, nic->name, "speed", text, sizeof text) == 0)
		(void)cdt_inv_speed_parse(text, &cur);   /* garbage stays unknown */
	if (ethtool) {
		uint32_t modes[CDT_INV_MODE_WORDS] = { 0 };
		if (ops->link_modes(ctx, nic->name, modes, &drv) == 0) {
			nic->supported = cdt_inv_modes_speeds(modes, CDT_INV_MODE_WORDS);
			mcls = cdt_link_speeds_max(nic->supported);
		} else {
			drv = 0;
		}
		uint8_t mac[6];
		if (!nic->has_perm_mac && ops->perm_addr(ctx, nic->name, mac) == 0 && !mac_zero(mac)) {
			memcpy(nic->perm_mac, mac, 6);
			nic->has_perm_mac = true;
		}
	}
	nic->speed = nic->link_up ? cur : 0;   /* sysfs reports it without carrier too */
	nic->speed_class = cdt_inv_class(mcls, cur, drv);
}

/* PCI bus path and driver from the device links. */
static void enrich_device(const struct cdt_inv_ops *ops, void *ctx, struct cdt_nic *nic)
{
	char *dev = malloc(CDT_INV_PATH_MAX), *other = malloc(CDT_INV_PATH_MAX);
	if (!dev || !other)
		goto out;
	if (ops->sysfs_path(ctx, nic->name, "device", dev, CDT_INV_PATH_MAX) < 0)
		goto out;
	if (ops->sysfs_path(ctx, nic->name, "device/subsystem", other, CDT_INV_PATH_MAX) == 0 &&
	    cdt_inv_pci_from_path(dev, cdt_inv_basename(other), nic->pci, sizeof nic->pci) < 0)
		nic->pci[0] = '\0';
	if (ops->sysfs_path(ctx, nic->name, "device/driver", other, CDT_INV_PATH_MAX) == 0)
		snprintf(nic->driver, sizeof nic->driver, "%s", cdt_inv_basename(other));
out:
	free(dev);
	free(other);
}

int cdt_inv_collect(const struct cdt_inv_ops *ops, void *ctx, const struct cdt_inventory_opts *opts,
		    struct cdt_inv_link **out, size_t *n, struct netd_err *e)
{
	static const struct cdt_inventory_opts defaults = { 0 };
	struct acc a = { .e = e };
	int rc = NETD_ECONFLICT;
	if (!opts)
		opts = &defaults;
	a.physical_only = opts->physical_only;
	for (int t = 0; t < DUMP_TRIES && rc == NETD_ECONFLICT; t++) {
		a.n = 0;
		rc = ops->dump_links(ctx, acc_each, &a, e);
	}
	if (rc == NETD_ECONFLICT)
		netd_err_set(e, rc, NULL, "link dump interrupted %d times by concurrent changes", DUMP_TRIES);
	if (rc < 0) {
		free(a.v);
		return rc;
	}
	if (a.n)
		qsort(a.v, a.n, sizeof *a.v, by_ifindex);
	for (size_t i = 0; i < a.n; i++) {
		enrich_speed(ops, ctx, !opts->no_ethtool, &a.v[i].nic);
		enrich_device(ops, ctx, &a.v[i].nic);
	}
	if (a.n == 0) {
		free(a.v);
		a.v = NULL;
	}
	*out = a.v;
	*n = a.n;
	return 0;
}

/* ======================================================================
 * 4. The real backend
 * ====================================================================== */

/* libnl's codes (either sign) -> netd's.  The one place NLE_* is known. */
int cdt_nl_code(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_SUCCESS:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
	case NLE_NOACCESS:
		return -EPERM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NODEV:
	case NLE_OBJ_NOTFOUND:
		return -ENODEV;
	case NLE_OPNOTSUPP:
	case NLE_AF_NOSUPPORT:
	case NLE_MSGTYPE_NOSUPPORT:
		return -EOPNOTSUPP;
	case NLE_DUMP_INTR:
		return NETD_ECONFLICT;
	case NLE_INVAL:
	case NLE_RANGE:
	case NLE_ATTRSIZE:
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_MSG_OVERFLOW:
	case NLE_MSGSIZE:
	case NLE_PARSE_ERR:
	case NLE_SEQ_MISMATCH:
	case NLE_PROTO_MISMATCH:
		return NETD_ECORRUPT;
	default:
		return -EIO;
	}
}

struct real_ctx {
	int fd;     /* for the ethtool ioctls, opened on first use; -1 = not yet */
};

static int ioctl_fd(struct real_ctx *c)
{
	if (c->fd < 0)
		c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return c->fd < 0 ? -errno : c->fd;
}

struct nl_dump {
	cdt_inv_each_fn each;
	void *arg;
	int rc;
};

static int nl_valid(struct nl_msg *msg, void *varg)
{
	struct nl_dump *d = varg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	if (h->nlmsg_type != RTM_NEWLINK || nlmsg_datalen(h) < 0)
		return NL_SKIP;
	d->rc = d->each(d->arg, nlmsg_data(h), (size_t)nlmsg_datalen(h));
	return d->rc ? NL_STOP : NL_OK;
}

static int send_getlink(struct nl_sock *sk)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
	int rc;
	if (!msg)
		return -NLE_NOMEM;
	rc = nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO);
	if (rc == 0)
		rc = nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (rc == 0)
		rc = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	return rc < 0 ? rc : 0;
}

static int real_dump_links(void *vctx, cdt_inv_each_fn each, void *arg, struct netd_err *e)
{
	struct nl_dump d = { .each = each, .arg = arg };
	const char *step = "socket";
	int rc = -NLE_NOMEM;
	(void)vctx;
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		goto fail;
	step = "connect";
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc < 0)
		goto fail;
	nl_socket_enable_msg_peek(sk);
	rc = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, nl_valid, &d);
	step = "RTM_GETLINK";
	if (rc == 0)
		rc = send_getlink(sk);
	if (rc == 0)
		rc = nl_recvmsgs_default(sk);
	if (d.rc) {
		rc = d.rc;    /* already in netd's terms, message set */
		goto out;
	}
	if (rc >= 0) {
		rc = 0;
		goto out;
	}
fail:
	if (cdt_nl_code(rc) == NETD_ECONFLICT) {   /* retried by the caller */
		rc = NETD_ECONFLICT;
		goto out;
	}
	rc = netd_err_set(e, cdt_nl_code(rc), NULL, "link dump: %s: %s", step, nl_geterror(rc));
out:
	nl_socket_free(sk);
	return rc;
}

static void ifreq_set_name(struct ifreq *ifr, const char *ifname)
{
	memset(ifr, 0, sizeof *ifr);
	snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", ifname);
}

#define LM_WORDS_MAX (3 * 127)   /* supported, advertising, peer; s8 count */

static int real_link_modes(void *vctx, const char *ifname, uint32_t *modes, uint32_t *speed)
{
	struct ifreq ifr;
	int fd = ioctl_fd(vctx), rc = 0;
	if (fd < 0)
		return fd;
	struct ethtool_link_settings *s = calloc(1, sizeof *s + LM_WORDS_MAX * sizeof(uint32_t));
	if (!s)
		return -ENOMEM;
	ifreq_set_name(&ifr, ifname);
	ifr.ifr_data = (void *)s;
	s->cmd = ETHTOOL_GLINKSETTINGS;   /* handshake: learn the word count */
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		rc = -errno;
		goto out;
	}
	int nw = -s->link_mode_masks_nwords;
	if (nw <= 0 || nw > LM_WORDS_MAX / 3) {
		rc = -EPROTO;
		goto out;
	}
	memset(s, 0, sizeof *s + LM_WORDS_MAX * sizeof(uint32_t));
	s->cmd = ETHTOOL_GLINKSETTINGS;
	s->link_mode_masks_nwords = (int8_t)nw;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		rc = -errno;
		goto out;
	}
	if (s->link_mode_masks_nwords != nw) {
		rc = -EPROTO;
		goto out;
	}
	memset(modes, 0, CDT_INV_MODE_WORDS * sizeof *modes);
	memcpy(modes, s->link_mode_masks, (size_t)(nw < CDT_INV_MODE_WORDS ? nw : CDT_INV_MODE_WORDS) * sizeof *modes);
	*speed = s->speed == (uint32_t)SPEED_UNKNOWN ? 0 : s->speed;
out:
	free(s);
	return rc;
}

#define PERM_ADDR_MAX 32

static int real_perm_addr(void *vctx, const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd = ioctl_fd(vctx), rc = 0;
	if (fd < 0)
		return fd;
	struct ethtool_perm_addr *p = calloc(1, sizeof *p + PERM_ADDR_MAX);
	if (!p)
		return -ENOMEM;
	ifreq_set_name(&ifr, ifname);
	ifr.ifr_data = (void *)p;
	p->cmd = ETHTOOL_GPERMADDR;
	p->size = PERM_ADDR_MAX;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		rc = -errno;
	else if (p->size != 6)
		rc = -EPROTO;
	else
		memcpy(mac, p->data, 6);
	free(p);
	return rc;
}

static int sysfs_name(char *buf, size_t len, const char *ifname, const char *rel)
{
	int w = snprintf(buf, len, "/sys/class/net/%s/%s", ifname, rel);
	return w < 0 || (size_t)w >= len || !ifname_valid(ifname) ? -ENAMETOOLONG : 0;
}

static int real_sysfs_read(void *vctx, const char *ifname, const char *attr, char *buf, size_t len)
{
	char path[CDT_INV_PATH_MAX];
	ssize_t r;
	(void)vctx;
	if (len == 0 || sysfs_name(path, sizeof path, ifname, attr) < 0)
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		r = read(fd, buf, len - 1);
	while (r < 0 && errno == EINTR);
	int rc = r < 0 ? -errno : 0;
	close(fd);
	if (rc == 0)
		buf[r] = '\0';
	return rc;
}

static int real_sysfs_path(void *vctx, const char *ifname, const char *rel, char *buf, size_t len)
{
	char path[CDT_INV_PATH_MAX];
	(void)vctx;
	if (sysfs_name(path, sizeof path, ifname, rel) < 0)
		return -ENAMETOOLONG;
	char *real = realpath(path, NULL);
	if (!real)
		return -errno;
	size_t rl = strlen(real);
	int rc = rl < len ? 0 : -ENAMETOOLONG;
	if (rc == 0)
		memcpy(buf, real, rl + 1);
	free(real);
	return rc;
}

const struct cdt_inv_ops cdt_inv_real_ops = {
	.dump_links = real_dump_links,
	.link_modes = real_link_modes,
	.perm_addr = real_perm_addr,
	.sysfs_read = real_sysfs_read,
	.sysfs_path = real_sysfs_path,
};

int cdt_inventory_read_links(struct cdt_inv_link **out, size_t *n, const struct cdt_inventory_opts *opts,
			     struct netd_err *e)
{
	struct real_ctx c = { .fd = -1 };
	int rc = cdt_inv_collect(&cdt_inv_real_ops, &c, opts, out, n, e);
	if (c.fd >= 0)
		close(c.fd);
	return rc;
}

int cdt_inventory_read(struct cdt_nic **out, size_t *n, const struct cdt_inventory_opts *opts,
		       struct netd_err *e)
{
	struct cdt_inv_link *links = NULL;
	struct cdt_nic *nics = NULL;
	size_t nl = 0;
	int rc = cdt_inventory_read_links(&links, &nl, opts, e);
	if (rc < 0)
		return rc;
	if (nl) {
		nics = malloc(nl * sizeof *nics);
		if (!nics) {
			free(links);
			return netd_err_set(e, -ENOMEM, NULL, "inventory of %zu NICs", nl);
		}
		for (size_t i = 0; i < nl; i++)
			nics[i] = links[i].nic;
	}
	free(links);
	*out = nics;
	*n = nl;
	return 0;
}
