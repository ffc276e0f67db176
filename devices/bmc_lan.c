/* devices/bmc_lan.c — the pure half of the BMC part: validation of a wanted
 * LAN configuration, the ordered plan against the actual one, the mapping
 * of IPMI completion codes and FreeIPMI errors to netd codes, and address
 * packing.  No I/O; see devices/bmc.h for the decisions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <freeipmi/api/ipmi-api.h>

#include "devices/bmc.h"

/* ---- addresses ---- */

static uint32_t be32(const uint8_t b[4])
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

uint32_t dev_bmc_ipv4_to_field(const uint8_t ip[4])
{
	return (uint32_t)ip[0] | (uint32_t)ip[1] << 8 | (uint32_t)ip[2] << 16 | (uint32_t)ip[3] << 24;
}

void dev_bmc_ipv4_from_field(uint64_t v, uint8_t ip[4])
{
	for (int i = 0; i < 4; i++)
		ip[i] = (uint8_t)(v >> (8 * i));
}

void dev_bmc_mac_from_field(uint64_t v, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(v >> (8 * i));
}

const char *dev_bmc_ipv4_str(const uint8_t ip[4], char *buf, size_t len)
{
	if (len)
		snprintf(buf, len, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
	return buf;
}

int dev_bmc_ipv4_parse(const char *s, uint8_t out[4])
{
	uint8_t b[4];
	const char *p = s;
	if (!s)
		return NETD_EINVAL;
	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return NETD_EINVAL;
		b[i] = (uint8_t)v;
		if (i < 3 && *p++ != '.')
			return NETD_EINVAL;
	}
	if (*p != '\0')
		return NETD_EINVAL;
	memcpy(out, b, 4);
	return 0;
}

int dev_bmc_prefix_len(const uint8_t mask[4])
{
	uint32_t m = be32(mask);
	uint32_t inv = ~m;
	/* contiguous: the inverted mask is 2^k - 1 */
	if (inv & (inv + 1))
		return -1;
	return __builtin_popcount(m);
}

size_t dev_bmc_cipher_ids(const uint8_t *rec, size_t len, uint8_t *ids, size_t cap)
{
	size_t n = 0, i = 0;
	while (i < len) {
		/* algorithm bytes carry tag 00, 01 or 10 in their top bits; 0xC0
		 * starts a standard record, 0xC1 an OEM one (+ 3 octets IANA) */
		if ((rec[i] == 0xC0 || rec[i] == 0xC1) && i + 1 < len) {
			if (n < cap)
				ids[n++] = rec[i + 1] & 0x3F;
			i += rec[i] == 0xC1 ? 5 : 2;
		} else {
			i++;
		}
	}
	return n;
}

/* ---- names ---- */

const char *dev_bmc_param_name(enum dev_bmc_param p)
{
	switch (p) {
	case DEV_BMC_P_SET_IN_PROGRESS: return "Set In Progress";
	case DEV_BMC_P_IP: return "IP address";
	case DEV_BMC_P_IP_SOURCE: return "IP address source";
	case DEV_BMC_P_MAC: return "MAC address";
	case DEV_BMC_P_NETMASK: return "subnet mask";
	case DEV_BMC_P_GATEWAY: return "default gateway IP";
	case DEV_BMC_P_VLAN: return "802.1q VLAN ID";
	}
	return "LAN parameter";
}

const char *dev_bmc_source_name(uint8_t source)
{
	static const char *const names[] = { "unspecified", "static", "DHCP", "BIOS", "other" };
	return source < 5 ? names[source] : "reserved";
}

const char *dev_bmc_op_value(const struct dev_bmc_op *op, char *buf, size_t len)
{
	static const char *const progress[] = { "set complete", "set in progress", "commit write", "reserved" };
	if (!len)
		return buf;
	switch (op->param) {
	case DEV_BMC_P_SET_IN_PROGRESS:
		snprintf(buf, len, "%u (%s)", op->source & 3u, progress[op->source & 3]);
		break;
	case DEV_BMC_P_IP_SOURCE:
		snprintf(buf, len, "%s", dev_bmc_source_name(op->source));
		break;
	case DEV_BMC_P_VLAN:
		snprintf(buf, len, "%u (%s)", op->vlan_id, op->vlan_enabled ? "enabled" : "disabled");
		break;
	case DEV_BMC_P_IP:
	case DEV_BMC_P_NETMASK:
	case DEV_BMC_P_GATEWAY:
		dev_bmc_ipv4_str(op->ip, buf, len);
		break;
	default:
		buf[0] = '\0';
	}
	return buf;
}

const char *dev_bmc_op_print(const struct dev_bmc_op *op, char *buf, size_t len)
{
	char v[64];
	if (len)
		snprintf(buf, len, "%s = %s", dev_bmc_param_name(op->param), dev_bmc_op_value(op, v, sizeof v));
	return buf;
}

/* ---- validation ---- */

#define WHO(w) (w) ? (w) : "", (w) ? ": " : ""

static int check_netmask(const struct dev_bmc_want *w, const char *who, struct netd_err *e)
{
	char m[16];
	int plen = dev_bmc_prefix_len(w->netmask);
	if (plen < 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "%s%snetmask %s is not contiguous", WHO(who),
				    dev_bmc_ipv4_str(w->netmask, m, sizeof m));
	if (plen < 1 || plen > 30)
		return netd_err_set(e, NETD_EINVAL, NULL,
				    "%s%snetmask %s (/%d) must have a prefix length of 1..30", WHO(who),
				    dev_bmc_ipv4_str(w->netmask, m, sizeof m), plen);
	return 0;
}

static int check_ip(const struct dev_bmc_want *w, const char *who, struct netd_err *e)
{
	char a[16];
	uint32_t ip = be32(w->ip), mask = be32(w->netmask);
	const char *why = NULL;
	if (w->ip[0] == 0)
		why = "is in 0.0.0.0/8";
	else if (w->ip[0] == 127)
		why = "is a loopback address";
	else if (w->ip[0] >= 224)
		why = "is a multicast or reserved address";
	else if ((ip & ~mask) == 0)
		why = "is the network address of its subnet";
	else if ((ip & ~mask) == ~mask)
		why = "is the broadcast address of its subnet";
	if (why)
		return netd_err_set(e, NETD_EINVAL, NULL, "%s%sip %s %s", WHO(who),
				    dev_bmc_ipv4_str(w->ip, a, sizeof a), why);
	return 0;
}

static int check_gateway(const struct dev_bmc_want *w, const char *who, struct netd_err *e)
{
	char g[16], a[16];
	uint32_t gw = be32(w->gateway), ip = be32(w->ip), mask = be32(w->netmask);
	const char *why = NULL;
	if (gw == 0)
		return 0;   /* no gateway */
	if ((gw & mask) != (ip & mask))
		why = "is outside the subnet of ip";
	else if ((gw & ~mask) == 0)
		why = "is the network address of the subnet of ip";
	else if ((gw & ~mask) == ~mask)
		why = "is the broadcast address of the subnet of ip";
	else if (gw == ip)
		why = "is ip itself";
	if (why)
		return netd_err_set(e, NETD_EINVAL, NULL, "%s%sgateway %s %s %s/%d", WHO(who),
				    dev_bmc_ipv4_str(w->gateway, g, sizeof g), why,
				    dev_bmc_ipv4_str(w->ip, a, sizeof a), dev_bmc_prefix_len(w->netmask));
	return 0;
}

static int check_vlan(const struct dev_bmc_want *w, const char *who, struct netd_err *e)
{
	switch (w->vlan_mode) {
	case DEV_BMC_VLAN_KEEP:
	case DEV_BMC_VLAN_OFF:
		return 0;
	case DEV_BMC_VLAN_ON:
		if (w->vlan_id < 1 || w->vlan_id > 4094)
			return netd_err_set(e, NETD_EINVAL, NULL, "%s%svlan_id %u is not 1..4094", WHO(who),
					    w->vlan_id);
		return 0;
	}
	return netd_err_set(e, NETD_EINVAL, NULL, "%s%svlan_mode %d is not keep, off or on", WHO(who),
			    (int)w->vlan_mode);
}

int dev_bmc_want_check(const struct dev_bmc_want *w, const char *who, struct netd_err *e)
{
	int rc = check_netmask(w, who, e);
	if (!rc)
		rc = check_ip(w, who, e);
	if (!rc)
		rc = check_gateway(w, who, e);
	if (!rc)
		rc = check_vlan(w, who, e);
	return rc;
}

/* ---- difference ---- */

static int need(const struct dev_bmc_lan *a, enum dev_bmc_param p, const char *who, struct netd_err *e)
{
	if (a->have & DEV_BMC_HAVE(p))
		return 0;
	return netd_err_set(e, NETD_EUNSUPPORTED, NULL,
			    "%s%s%s (LAN parameter %d) is not supported by the BMC", WHO(who),
			    dev_bmc_param_name(p), (int)p);
}

static void add_addr(struct dev_bmc_plan *pl, enum dev_bmc_param p, const uint8_t v[4])
{
	struct dev_bmc_op *op = &pl->ops[pl->n++];
	memset(op, 0, sizeof *op);
	op->param = p;
	memcpy(op->ip, v, 4);
}

static void plan_vlan(const struct dev_bmc_want *w, const struct dev_bmc_lan *a, struct dev_bmc_plan *pl)
{
	bool on = w->vlan_mode == DEV_BMC_VLAN_ON;
	if (w->vlan_mode == DEV_BMC_VLAN_KEEP)
		return;
	if (on ? (a->vlan_enabled && a->vlan_id == w->vlan_id) : !a->vlan_enabled)
		return;
	struct dev_bmc_op *op = &pl->ops[pl->n++];
	memset(op, 0, sizeof *op);
	op->param = DEV_BMC_P_VLAN;
	op->vlan_enabled = on;
	op->vlan_id = on ? w->vlan_id : a->vlan_id;
}

int dev_bmc_diff(const struct dev_bmc_want *w, const struct dev_bmc_lan *a, const char *who,
		 struct dev_bmc_plan *out, struct netd_err *e)
{
	static const enum dev_bmc_param needed[] = { DEV_BMC_P_IP_SOURCE, DEV_BMC_P_IP, DEV_BMC_P_NETMASK,
						      DEV_BMC_P_GATEWAY };
	for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
		int rc = need(a, needed[i], who, e);
		if (rc)
			return rc;
	}
	if (w->vlan_mode != DEV_BMC_VLAN_KEEP) {
		int rc = need(a, DEV_BMC_P_VLAN, who, e);
		if (rc)
			return rc;
	}
	struct dev_bmc_plan pl;
	memset(&pl, 0, sizeof pl);
	bool all = a->ip_source != DEV_BMC_SRC_STATIC;
	if (all) {
		pl.ops[0].param = DEV_BMC_P_IP_SOURCE;
		pl.ops[0].source = DEV_BMC_SRC_STATIC;
		pl.n = 1;
	}
	if (all || memcmp(a->ip, w->ip, 4))
		add_addr(&pl, DEV_BMC_P_IP, w->ip);
	if (all || memcmp(a->netmask, w->netmask, 4))
		add_addr(&pl, DEV_BMC_P_NETMASK, w->netmask);
	if (all || memcmp(a->gateway, w->gateway, 4))
		add_addr(&pl, DEV_BMC_P_GATEWAY, w->gateway);
	plan_vlan(w, a, &pl);
	*out = pl;
	return 0;
}

/* ---- error mapping ---- */

int dev_bmc_cc_code(uint8_t cc)
{
	switch (cc) {
	case 0x00:
		return 0;
	case 0x80:   /* parameter not supported */
	case 0x82:   /* attempt to write a read-only parameter */
	case 0x83:   /* attempt to read a write-only parameter */
	case 0xC1:   /* invalid command */
	case 0xC2:   /* command invalid for this LUN */
		return NETD_EUNSUPPORTED;
	case 0x81:   /* set in progress by another session */
	case 0xD5:   /* not supported in present state */
		return NETD_ECONFLICT;
	case 0xC7:   /* request data length invalid */
	case 0xC8:   /* request data field length limit exceeded */
	case 0xC9:   /* parameter out of range */
	case 0xCC:   /* invalid data field in request */
		return NETD_EINVAL;
	case 0xCB:   /* requested sensor, data or record not present */
		return NETD_ENOTFOUND;
	case 0xD4:   /* insufficient privilege */
		return NETD_EPERM;
	case 0xC0:   /* node busy */
	case 0xD2:   /* BMC initialization in progress */
		return -EBUSY;
	case 0xC3:   /* timeout while processing the command */
		return -ETIMEDOUT;
	}
	return -EIO;
}

int dev_bmc_ipmi_errnum_code(int errnum)
{
	switch (errnum) {
	case IPMI_ERR_SUCCESS:
		return 0;
	case IPMI_ERR_USERNAME_INVALID:
	case IPMI_ERR_PASSWORD_INVALID:
	case IPMI_ERR_K_G_INVALID:
	case IPMI_ERR_PASSWORD_VERIFICATION_TIMEOUT:
		return NETD_EAUTH;
	case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
	case IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED:
	case IPMI_ERR_PERMISSION:
		return NETD_EPERM;
	case IPMI_ERR_AUTHENTICATION_TYPE_UNAVAILABLE:
	case IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
	case IPMI_ERR_IPMI_2_0_UNAVAILABLE:
	case IPMI_ERR_COMMAND_INVALID_OR_UNSUPPORTED:
		return NETD_EUNSUPPORTED;
	case IPMI_ERR_CONNECTION_TIMEOUT:
	case IPMI_ERR_SESSION_TIMEOUT:
	case IPMI_ERR_MESSAGE_TIMEOUT:
		return -ETIMEDOUT;
	case IPMI_ERR_HOSTNAME_INVALID:
	case IPMI_ERR_PARAMETERS:
		return NETD_EINVAL;
	case IPMI_ERR_BMC_BUSY:
		return -EBUSY;
	case IPMI_ERR_OUT_OF_MEMORY:
		return -ENOMEM;
	}
	return -EIO;
}
