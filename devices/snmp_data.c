/* devices/snmp_data.c — the SNMP driver's pure half: agent replies into
 * devices/ structures, LLDP id decoding, FDB index parsing, plans, SET
 * steps with their undo, a model of the agent for expected state, and the
 * concurrent-change check.  No net-snmp, no I/O; see devices/snmp.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/snmp.h"

/* ---- OIDs ---- */

#define IFX 1, 3, 6, 1, 2, 1, 31, 1, 1, 1
#define BASEPORT 1, 3, 6, 1, 2, 1, 17, 1, 4, 1
#define VSTATIC 1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 3, 1
#define PORTVLAN 1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 5, 1
#define TPFDB 1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1
#define LLDPREM 1, 0, 8802, 1, 1, 2, 1, 4, 1, 1

enum col {
	C_IFNAME, C_IFALIAS, C_BASEPORT, C_VNAME, C_VEGRESS, C_VUNTAGGED, C_VSTATUS, C_PVID,
	C_LCSUB, C_LCID, C_LPSUB, C_LPID, C_LSYSNAME, C_FDBPORT, C_FDBSTATUS, C__N
};

static const uint32_t o_ifname[] = { IFX, 1 }, o_ifalias[] = { IFX, 18 }, o_baseport[] = { BASEPORT, 2 },
		      o_vname[] = { VSTATIC, 1 }, o_vegress[] = { VSTATIC, 2 }, o_vuntagged[] = { VSTATIC, 4 },
		      o_vstatus[] = { VSTATIC, 5 }, o_pvid[] = { PORTVLAN, 1 }, o_lcsub[] = { LLDPREM, 4 },
		      o_lcid[] = { LLDPREM, 5 }, o_lpsub[] = { LLDPREM, 6 }, o_lpid[] = { LLDPREM, 7 },
		      o_lsysname[] = { LLDPREM, 9 }, o_fdbport[] = { TPFDB, 2 }, o_fdbstatus[] = { TPFDB, 3 };

#define COL(o, w, n, idx) { o, sizeof o / sizeof o[0], w, n, idx }
static const struct column {
	const uint32_t *oid;
	size_t len;
	unsigned what;           /* enum dev_read_what */
	const char *name;
	size_t index_len;        /* sub-identifiers after the column */
} cols[C__N] = {
	[C_IFNAME] = COL(o_ifname, DEV_READ_PORTS, "ifName", 1),
	[C_IFALIAS] = COL(o_ifalias, DEV_READ_PORTS, "ifAlias", 1),
	[C_BASEPORT] = COL(o_baseport, DEV_READ_PORTS, "dot1dBasePortIfIndex", 1),
	[C_VNAME] = COL(o_vname, DEV_READ_VLANS, "dot1qVlanStaticName", 1),
	[C_VEGRESS] = COL(o_vegress, DEV_READ_VLANS, "dot1qVlanStaticEgressPorts", 1),
	[C_VUNTAGGED] = COL(o_vuntagged, DEV_READ_VLANS, "dot1qVlanStaticUntaggedPorts", 1),
	[C_VSTATUS] = COL(o_vstatus, DEV_READ_VLANS, "dot1qVlanStaticRowStatus", 1),
	[C_PVID] = COL(o_pvid, DEV_READ_PVID, "dot1qPvid", 1),
	[C_LCSUB] = COL(o_lcsub, DEV_READ_LLDP, "lldpRemChassisIdSubtype", 3),
	[C_LCID] = COL(o_lcid, DEV_READ_LLDP, "lldpRemChassisId", 3),
	[C_LPSUB] = COL(o_lpsub, DEV_READ_LLDP, "lldpRemPortIdSubtype", 3),
	[C_LPID] = COL(o_lpid, DEV_READ_LLDP, "lldpRemPortId", 3),
	[C_LSYSNAME] = COL(o_lsysname, DEV_READ_LLDP, "lldpRemSysName", 3),
	[C_FDBPORT] = COL(o_fdbport, DEV_READ_FDB, "dot1qTpFdbPort", 7),
	[C_FDBSTATUS] = COL(o_fdbstatus, DEV_READ_FDB, "dot1qTpFdbStatus", 7),
};

size_t dev_read_columns(unsigned what, const uint32_t *roots[16], size_t lens[16])
{
	size_t n = 0;
	for (int c = 0; c < C__N && n < 16; c++) {
		if (!(cols[c].what & what))
			continue;
		roots[n] = cols[c].oid;
		lens[n++] = cols[c].len;
	}
	return n;
}

const char *dev_oid_text(const uint32_t *oid, size_t len, char *buf, size_t cap)
{
	size_t w = 0;
	if (cap == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < len && w < cap; i++) {
		int n = snprintf(buf + w, cap - w, "%s%" PRIu32, i ? "." : "", oid[i]);
		if (n < 0)
			break;
		w += (size_t)n;
	}
	return buf;
}

/* The column @oid falls under, with its index; -1 if none. */
static int find_column(const uint32_t *oid, size_t len, const uint32_t **idx, size_t *idx_len)
{
	for (int c = 0; c < C__N; c++) {
		if (len <= cols[c].len || memcmp(oid, cols[c].oid, cols[c].len * sizeof *oid))
			continue;
		*idx = oid + cols[c].len;
		*idx_len = len - cols[c].len;
		return c;
	}
	return -1;
}

/* ---- small helpers ---- */

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool printable(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* Octets as text: printable ASCII kept, anything else as '?', cut to fit. */
static void text_of(const uint8_t *s, size_t len, char *out, size_t cap)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (s[i] >= 0x20 && s[i] <= 0x7e) ? (char)s[i] : '?';
	out[n] = '\0';
}

static void hex_of(const uint8_t *s, size_t len, char *out, size_t cap)
{
	static const char hx[] = "0123456789abcdef";
	size_t w = 0;
	if (cap < 3) {
		if (cap)
			out[0] = '\0';
		return;
	}
	out[w++] = '0';
	out[w++] = 'x';
	for (size_t i = 0; i < len && w + 2 < cap; i++) {
		out[w++] = hx[s[i] >> 4];
		out[w++] = hx[s[i] & 15];
	}
	out[w] = '\0';
}

static void mac_text(const uint8_t m[6], char *out, size_t cap)
{
	snprintf(out, cap, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static const char *type_name(uint8_t t)
{
	switch (t) {
	case DEV_ASN_INTEGER: return "INTEGER";
	case DEV_ASN_OCTETS: return "OCTET STRING";
	case DEV_ASN_NULL: return "NULL";
	case DEV_ASN_OID: return "OBJECT IDENTIFIER";
	case DEV_ASN_IPADDR: return "IpAddress";
	case DEV_ASN_COUNTER: return "Counter32";
	case DEV_ASN_GAUGE: return "Gauge32";
	case DEV_ASN_TIMETICKS: return "TimeTicks";
	case DEV_ASN_COUNTER64: return "Counter64";
	default: return "an unknown type";
	}
}

/* ---- LLDP ids and FDB indexes ---- */

static int decode_addr(const uint8_t *oct, size_t len, struct dev_lldp_id *out, struct netd_err *e)
{
	if (len >= 1 && oct[0] == 1) {
		if (len != 5)
			return netd_err_set(e, NETD_ECORRUPT, NULL, "LLDP IPv4 network address of %zu octets, not 4",
					    len - 1);
		snprintf(out->text, sizeof out->text, "%u.%u.%u.%u", oct[1], oct[2], oct[3], oct[4]);
		return 0;
	}
	if (len >= 1 && oct[0] == 2) {
		if (len != 17)
			return netd_err_set(e, NETD_ECORRUPT, NULL, "LLDP IPv6 network address of %zu octets, not 16",
					    len - 1);
		size_t w = 0;
		for (size_t i = 0; i < 16; i += 2)
			w += (size_t)snprintf(out->text + w, sizeof out->text - w, "%s%x", i ? ":" : "",
					      (unsigned)(oct[1 + i] << 8 | oct[2 + i]));
		return 0;
	}
	hex_of(oct, len, out->text, sizeof out->text);
	return 0;
}

int dev_lldp_id_decode(bool chassis, unsigned subtype, const uint8_t *oct, size_t len, struct dev_lldp_id *out,
		       struct netd_err *e)
{
	const char *what = chassis ? "chassis id" : "port id";
	unsigned mac_sub = chassis ? 4 : 3, addr_sub = chassis ? 5 : 4;
	struct dev_lldp_id id;
	int rc;

	if (subtype < 1 || subtype > 7)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "LLDP %s subtype %u is not 1..7", what, subtype);
	if (len < 1 || len > 255 || !oct)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "LLDP %s of %zu octets, not 1..255", what, len);
	memset(&id, 0, sizeof id);
	id.subtype = (uint8_t)subtype;
	if (subtype == mac_sub) {
		if (len != 6)
			return netd_err_set(e, NETD_ECORRUPT, NULL, "LLDP %s MAC address of %zu octets, not 6", what, len);
		id.kind = DEV_LLDP_MAC;
		memcpy(id.mac, oct, 6);
		mac_text(id.mac, id.text, sizeof id.text);
	} else if (subtype == addr_sub) {
		id.kind = DEV_LLDP_ADDR;
		if ((rc = decode_addr(oct, len, &id, e)) != 0)
			return rc;
	} else if (printable(oct, len)) {
		id.kind = DEV_LLDP_NAME;
		text_of(oct, len, id.text, sizeof id.text);
	} else {
		id.kind = DEV_LLDP_OTHER;
		hex_of(oct, len, id.text, sizeof id.text);
	}
	*out = id;
	return 0;
}

int dev_fdb_index_parse(const uint32_t *sub, size_t n, uint32_t *fid, uint8_t mac[6])
{
	if (n != 7)
		return NETD_ECORRUPT;
	for (size_t i = 1; i < 7; i++)
		if (sub[i] > 255)
			return NETD_ECORRUPT;
	*fid = sub[0];
	for (size_t i = 0; i < 6; i++)
		mac[i] = (uint8_t)sub[1 + i];
	return 0;
}

/* ---- the reply accumulator ---- */

struct iface {
	uint32_t ifindex;
	bool has_name, has_alias;
	char name[DEV_TEXT_MAX];
	char alias[DEV_TEXT_MAX];
};

struct vacc {
	uint8_t have;            /* bits: 1 name, 2 egress, 4 untagged, 8 status */
	uint8_t status;
	char name[DEV_VLAN_NAME_MAX];
	uint16_t elen, ulen;
	uint8_t egress[DEV_PORTLIST_OCTETS], untagged[DEV_PORTLIST_OCTETS];
};

struct lacc {
	uint32_t port, index;
	uint8_t have;            /* 1 csub, 2 cid, 4 psub, 8 pid, 16 sysname */
	int64_t csub, psub;
	uint8_t clen, plen;
	uint8_t cid[255], pid[255];
	char sysname[DEV_SYSNAME_MAX];
};

struct facc {
	uint32_t fid;
	uint8_t mac[6];
	bool has_port;
	unsigned port;
	uint8_t status;
};

struct dev_reply {
	char sw[DEV_NAME_MAX];
	struct iface *ifs;           /* sorted by ifindex */
	size_t n_ifs, cap_ifs;
	uint32_t port_ifindex[DEV_PORTS_MAX + 1];
	uint8_t port_listed[DEV_PORTLIST_OCTETS];
	uint16_t pvid[DEV_PORTS_MAX + 1];
	unsigned max_port;
	struct vacc *vl[DEV_VLAN_MAX + 1];
	struct lacc *ll;             /* sorted by (port, index) */
	size_t n_ll, cap_ll;
	struct facc *fdb;            /* sorted by (fid, mac) */
	size_t n_fdb, cap_fdb;
};

int dev_reply_new(const char *sw_name, struct dev_reply **ret)
{
	struct dev_reply *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	copy_str(r->sw, sizeof r->sw, sw_name ? sw_name : "");
	*ret = r;
	return 0;
}

void dev_reply_free(struct dev_reply *r)
{
	if (!r)
		return;
	for (size_t v = 0; v <= DEV_VLAN_MAX; v++)
		free(r->vl[v]);
	free(r->ifs);
	free(r->ll);
	free(r->fdb);
	free(r);
}

/* Find or insert the element with key @key in the sorted array @*arr.
 * @cmp compares a key with an element.  Returns the element or NULL
 * (-ENOMEM or over @max in *rc). */
static void *upsert(void **arr, size_t *n, size_t *cap, size_t size, size_t max, const void *key,
		    int (*cmp)(const void *key, const void *elem), int *rc)
{
	size_t lo = 0, hi = *n;
	char *a = *arr;

	if (*n && cmp(key, a + (*n - 1) * size) > 0) {
		lo = *n;   /* the common case: ascending order */
	} else {
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = cmp(key, a + mid * size);
			if (c == 0)
				return a + mid * size;
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	if (*n >= max) {
		*rc = NETD_ETOOBIG;
		return NULL;
	}
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 64;
		char *na = realloc(a, nc * size);
		if (!na) {
			*rc = -ENOMEM;
			return NULL;
		}
		*arr = a = na;
		*cap = nc;
	}
	memmove(a + (lo + 1) * size, a + lo * size, (*n - lo) * size);
	memset(a + lo * size, 0, size);
	(*n)++;
	return a + lo * size;
}

static int cmp_if(const void *k, const void *el)
{
	uint32_t a = *(const uint32_t *)k, b = ((const struct iface *)el)->ifindex;
	return (a > b) - (a < b);
}

static int cmp_ll(const void *k, const void *el)
{
	const uint32_t *x = k;
	const struct lacc *y = el;
	if (x[0] != y->port)
		return x[0] < y->port ? -1 : 1;
	return (x[1] > y->index) - (x[1] < y->index);
}

static int cmp_fdb(const void *k, const void *el)
{
	const struct facc *x = k, *y = el;
	if (x->fid != y->fid)
		return x->fid < y->fid ? -1 : 1;
	return memcmp(x->mac, y->mac, 6);
}

/* The error for a varbind that does not decode. */
static int bad(struct dev_reply *r, int c, const struct dev_vb *vb, struct netd_err *e, const char *why)
{
	char oid[256];
	return netd_err_set(e, NETD_ECORRUPT, NULL, "switch %s: %s (%s) from the agent: %s", r->sw, cols[c].name,
			    dev_oid_text(vb->oid, vb->oid_len, oid, sizeof oid), why);
}

static int want_type(struct dev_reply *r, int c, const struct dev_vb *vb, uint8_t t1, uint8_t t2, struct netd_err *e)
{
	char why[96];
	if (vb->type == t1 || vb->type == t2)
		return 0;
	snprintf(why, sizeof why, "has type %s, expected %s", type_name(vb->type), type_name(t1));
	return bad(r, c, vb, e, why);
}

static int add_iface(struct dev_reply *r, int c, const struct dev_vb *vb, uint32_t ifindex, struct netd_err *e)
{
	int rc = 0;
	if (ifindex < 1 || ifindex > INT32_MAX)
		return bad(r, c, vb, e, "ifIndex out of 1..2147483647");
	if ((rc = want_type(r, c, vb, DEV_ASN_OCTETS, DEV_ASN_OCTETS, e)) != 0)
		return rc;
	struct iface *f = upsert((void **)&r->ifs, &r->n_ifs, &r->cap_ifs, sizeof *f, DEV_REPLY_MAX_IFACES, &ifindex,
				 cmp_if, &rc);
	if (!f)
		return rc == NETD_ETOOBIG ? netd_err_set(e, rc, NULL, "switch %s: more than %d interfaces", r->sw,
							   DEV_REPLY_MAX_IFACES) : rc;
	f->ifindex = ifindex;
	if (c == C_IFNAME) {
		text_of(vb->str, vb->len, f->name, sizeof f->name);
		f->has_name = true;
	} else {
		text_of(vb->str, vb->len, f->alias, sizeof f->alias);
		f->has_alias = true;
	}
	return 0;
}

static int add_port(struct dev_reply *r, int c, const struct dev_vb *vb, uint32_t port, struct netd_err *e)
{
	int rc;
	if (port < 1 || port > DEV_PORTS_MAX)
		return bad(r, c, vb, e, "bridge port out of 1..4096");
	if (c == C_BASEPORT) {
		if ((rc = want_type(r, c, vb, DEV_ASN_INTEGER, DEV_ASN_INTEGER, e)) != 0)
			return rc;
		if (vb->num < 0 || vb->num > INT32_MAX)
			return bad(r, c, vb, e, "ifIndex out of 0..2147483647");
		r->port_ifindex[port] = (uint32_t)vb->num;
		r->port_listed[(port - 1) / 8] |= (uint8_t)(0x80u >> ((port - 1) % 8));
	} else {
		if ((rc = want_type(r, c, vb, DEV_ASN_GAUGE, DEV_ASN_INTEGER, e)) != 0)
			return rc;
		if (vb->num < DEV_VLAN_MIN || vb->num > DEV_VLAN_MAX)
			return bad(r, c, vb, e, "PVID out of 1..4094");
		r->pvid[port] = (uint16_t)vb->num;
	}
	if (port > r->max_port)
		r->max_port = port;
	return 0;
}

static int add_vlan(struct dev_reply *r, int c, const struct dev_vb *vb, uint32_t vlan, struct netd_err *e)
{
	int rc;
	if (vlan < DEV_VLAN_MIN || vlan > DEV_VLAN_MAX)
		return 0;   /* implementation-specific VLAN ids: not ours */
	rc = c == C_VSTATUS ? want_type(r, c, vb, DEV_ASN_INTEGER, DEV_ASN_INTEGER, e)
			    : want_type(r, c, vb, DEV_ASN_OCTETS, DEV_ASN_OCTETS, e);
	if (rc)
		return rc;
	if (c != C_VSTATUS && c != C_VNAME && vb->len > DEV_PORTLIST_OCTETS)
		return bad(r, c, vb, e, "port list longer than 512 octets");
	if (c == C_VSTATUS && (vb->num < 1 || vb->num > 6))
		return bad(r, c, vb, e, "RowStatus out of 1..6");
	struct vacc *a = r->vl[vlan];
	if (!a && !(a = r->vl[vlan] = calloc(1, sizeof *a)))
		return -ENOMEM;
	switch (c) {
	case C_VNAME:
		text_of(vb->str, vb->len, a->name, sizeof a->name);
		a->have |= 1;
		break;
	case C_VEGRESS:
		if (vb->len)
			memcpy(a->egress, vb->str, vb->len);
		a->elen = (uint16_t)vb->len;
		a->have |= 2;
		break;
	case C_VUNTAGGED:
		if (vb->len)
			memcpy(a->untagged, vb->str, vb->len);
		a->ulen = (uint16_t)vb->len;
		a->have |= 4;
		break;
	default:
		a->status = (uint8_t)vb->num;
		a->have |= 8;
	}
	return 0;
}

static int add_lldp(struct dev_reply *r, int c, const struct dev_vb *vb, const uint32_t *idx, struct netd_err *e)
{
	int rc = 0;
	uint32_t key[2] = { idx[1], idx[2] };
	if (idx[1] < 1 || idx[1] > DEV_PORTS_MAX)
		return bad(r, c, vb, e, "lldpRemLocalPortNum out of 1..4096");
	if (idx[2] < 1 || idx[2] > INT32_MAX)
		return bad(r, c, vb, e, "lldpRemIndex out of 1..2147483647");
	bool is_int = c == C_LCSUB || c == C_LPSUB;
	if ((rc = want_type(r, c, vb, is_int ? DEV_ASN_INTEGER : DEV_ASN_OCTETS, is_int ? DEV_ASN_INTEGER : DEV_ASN_OCTETS,
			    e)) != 0)
		return rc;
	if (!is_int && c != C_LSYSNAME && vb->len > 255)
		return bad(r, c, vb, e, "longer than 255 octets");
	struct lacc *l = upsert((void **)&r->ll, &r->n_ll, &r->cap_ll, sizeof *l, DEV_REPLY_MAX_LLDP, key, cmp_ll, &rc);
	if (!l)
		return rc == NETD_ETOOBIG ? netd_err_set(e, rc, NULL, "switch %s: more than %d LLDP neighbours", r->sw,
							   DEV_REPLY_MAX_LLDP) : rc;
	l->port = idx[1];
	l->index = idx[2];
	switch (c) {
	case C_LCSUB: l->csub = vb->num; l->have |= 1; break;
	case C_LPSUB: l->psub = vb->num; l->have |= 4; break;
	case C_LCID:
		if (vb->len)
			memcpy(l->cid, vb->str, vb->len);
		l->clen = (uint8_t)vb->len;
		l->have |= 2;
		break;
	case C_LPID:
		if (vb->len)
			memcpy(l->pid, vb->str, vb->len);
		l->plen = (uint8_t)vb->len;
		l->have |= 8;
		break;
	default:
		text_of(vb->str, vb->len, l->sysname, sizeof l->sysname);
		l->have |= 16;
	}
	return 0;
}

static int add_fdb(struct dev_reply *r, int c, const struct dev_vb *vb, const uint32_t *idx, size_t n,
		   struct netd_err *e)
{
	struct facc key;
	int rc = 0;
	memset(&key, 0, sizeof key);
	if (dev_fdb_index_parse(idx, n, &key.fid, key.mac) != 0)
		return bad(r, c, vb, e, "index is not an FDB id and 6 MAC octets");
	if ((rc = want_type(r, c, vb, DEV_ASN_INTEGER, DEV_ASN_INTEGER, e)) != 0)
		return rc;
	if (c == C_FDBPORT && (vb->num < 0 || vb->num > DEV_PORTS_MAX))
		return bad(r, c, vb, e, "port out of 0..4096");
	if (c == C_FDBSTATUS && (vb->num < 1 || vb->num > 5))
		return bad(r, c, vb, e, "status out of 1..5");
	struct facc *f = upsert((void **)&r->fdb, &r->n_fdb, &r->cap_fdb, sizeof *f, DEV_REPLY_MAX_FDB, &key, cmp_fdb, &rc);
	if (!f)
		return rc == NETD_ETOOBIG ? netd_err_set(e, rc, NULL, "switch %s: more than %d FDB entries", r->sw,
							   DEV_REPLY_MAX_FDB) : rc;
	f->fid = key.fid;
	memcpy(f->mac, key.mac, 6);
	if (c == C_FDBPORT) {
		f->port = (unsigned)vb->num;
		f->has_port = true;
	} else {
		f->status = (uint8_t)vb->num;
	}
	return 0;
}

int dev_reply_add(struct dev_reply *r, const struct dev_vb *vb, struct netd_err *e)
{
	const uint32_t *idx;
	size_t n;

	if (vb->type == DEV_ASN_NOSUCHOBJECT || vb->type == DEV_ASN_NOSUCHINSTANCE || vb->type == DEV_ASN_ENDOFMIBVIEW)
		return 0;
	int c = find_column(vb->oid, vb->oid_len, &idx, &n);
	if (c < 0)
		return 0;
	if (n != cols[c].index_len && c != C_FDBPORT && c != C_FDBSTATUS)
		return bad(r, c, vb, e, "index of the wrong length");
	if (vb->type == DEV_ASN_OCTETS && vb->len && !vb->str)
		return bad(r, c, vb, e, "no value");
	switch (c) {
	case C_IFNAME:
	case C_IFALIAS:
		return add_iface(r, c, vb, idx[0], e);
	case C_BASEPORT:
	case C_PVID:
		return add_port(r, c, vb, idx[0], e);
	case C_VNAME:
	case C_VEGRESS:
	case C_VUNTAGGED:
	case C_VSTATUS:
		return add_vlan(r, c, vb, idx[0], e);
	case C_FDBPORT:
	case C_FDBSTATUS:
		return add_fdb(r, c, vb, idx, n, e);
	default:
		return add_lldp(r, c, vb, idx, e);
	}
}

/* ---- state ---- */

void dev_snmp_state_free(struct dev_snmp_state *st)
{
	if (!st)
		return;
	dev_actual_free(&st->actual);
	free(st->row_status);
	free(st->ports);
	memset(st, 0, sizeof *st);
}

int dev_snmp_state_copy(const struct dev_snmp_state *from, struct dev_snmp_state *to)
{
	struct dev_snmp_state c;
	c = *from;
	c.actual.rows = NULL;
	c.row_status = NULL;
	c.ports = NULL;
	size_t nr = from->actual.n_rows ? from->actual.n_rows : 1, np = from->n_ports ? from->n_ports : 1;
	c.actual.rows = malloc(nr * sizeof *c.actual.rows);
	c.row_status = malloc(nr);
	c.ports = malloc(np * sizeof *c.ports);
	if (!c.actual.rows || !c.row_status || !c.ports) {
		dev_snmp_state_free(&c);
		return -ENOMEM;
	}
	if (from->actual.n_rows) {
		memcpy(c.actual.rows, from->actual.rows, from->actual.n_rows * sizeof *c.actual.rows);
		memcpy(c.row_status, from->row_status, from->actual.n_rows);
	}
	if (from->n_ports)
		memcpy(c.ports, from->ports, from->n_ports * sizeof *c.ports);
	*to = c;
	return 0;
}

const struct dev_port_info *dev_snmp_port(const struct dev_snmp_state *st, unsigned port)
{
	size_t lo = 0, hi = st->n_ports;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (st->ports[mid].port == port)
			return &st->ports[mid];
		if (st->ports[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct iface *find_iface(const struct dev_reply *r, uint32_t ifindex)
{
	size_t lo = 0, hi = r->n_ifs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->ifs[mid].ifindex == ifindex)
			return &r->ifs[mid];
		if (r->ifs[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Two bridge ports on one ifIndex would make an ifAlias write ambiguous. */
static int check_ifindexes(const struct dev_reply *r, struct netd_err *e)
{
	uint32_t *v = malloc((DEV_PORTS_MAX + 1) * sizeof *v);
	size_t n = 0;
	int rc = 0;
	if (!v)
		return -ENOMEM;
	for (unsigned p = 1; p <= DEV_PORTS_MAX; p++)
		if (r->port_ifindex[p] && ((r->port_listed[(p - 1) / 8] >> (7 - (p - 1) % 8)) & 1))
			v[n++] = r->port_ifindex[p];
	qsort(v, n, sizeof *v, cmp_u32);
	for (size_t i = 1; i < n && !rc; i++)
		if (v[i] == v[i - 1])
			rc = netd_err_set(e, NETD_ECORRUPT, NULL,
					  "switch %s: the agent maps two bridge ports to ifIndex %u (dot1dBasePortIfIndex)",
					  r->sw, (unsigned)v[i]);
	free(v);
	return rc;
}

static int state_ports(const struct dev_reply *r, struct dev_snmp_state *st)
{
	size_t n = 0;
	for (unsigned p = 1; p <= DEV_PORTS_MAX; p++)
		n += (r->port_listed[(p - 1) / 8] >> (7 - (p - 1) % 8)) & 1;
	st->ports = calloc(n ? n : 1, sizeof *st->ports);
	if (!st->ports)
		return -ENOMEM;
	for (unsigned p = 1; p <= DEV_PORTS_MAX; p++) {
		if (!((r->port_listed[(p - 1) / 8] >> (7 - (p - 1) % 8)) & 1))
			continue;
		struct dev_port_info *pi = &st->ports[st->n_ports++];
		pi->port = p;
		pi->ifindex = r->port_ifindex[p];
		const struct iface *f = pi->ifindex ? find_iface(r, pi->ifindex) : NULL;
		if (f) {
			copy_str(pi->ifname, sizeof pi->ifname, f->name);
			copy_str(pi->alias, sizeof pi->alias, f->alias);
		}
	}
	return 0;
}

static int state_row(const struct dev_reply *r, unsigned v, unsigned nports, struct dev_snmp_state *st,
		     struct netd_err *e)
{
	const struct vacc *a = r->vl[v];
	struct dev_vlan_row *row = &st->actual.rows[st->actual.n_rows];
	struct netd_err pe = { 0 };
	char what[96];

	if ((a->have & 14) != 14)
		return netd_err_set(e, NETD_ECORRUPT, NULL,
				    "switch %s VLAN %u: the agent listed the row without its %s", r->sw, v,
				    !(a->have & 2) ? "egress ports" : !(a->have & 4) ? "untagged ports" : "RowStatus");
	memset(row, 0, sizeof *row);
	row->vlan = (uint16_t)v;
	copy_str(row->name, sizeof row->name, a->name);
	snprintf(what, sizeof what, "switch %s VLAN %u egress ports", r->sw, v);
	if (dev_portlist_decode(a->egress, a->elen, nports, what, &row->egress, &pe) != 0)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "%s", pe.msg);
	snprintf(what, sizeof what, "switch %s VLAN %u untagged ports", r->sw, v);
	if (dev_portlist_decode(a->untagged, a->ulen, nports, what, &row->untagged, &pe) != 0)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "%s", pe.msg);
	st->row_status[st->actual.n_rows++] = a->status;
	return 0;
}

int dev_reply_state(const struct dev_reply *r, unsigned nports, struct dev_snmp_state *out, struct netd_err *e)
{
	struct dev_snmp_state st;
	size_t nrows = 0;
	int rc;

	memset(&st, 0, sizeof st);
	unsigned n = nports ? nports : (r->max_port ? r->max_port : 1);
	if (n > DEV_PORTS_MAX)
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: %u ports is more than %d", r->sw, n, DEV_PORTS_MAX);
	if (r->max_port > n)
		return netd_err_set(e, NETD_ECORRUPT, NULL,
				    "switch %s: the agent has bridge port %u, the switch is configured with %u ports",
				    r->sw, r->max_port, n);
	for (unsigned v = DEV_VLAN_MIN; v <= DEV_VLAN_MAX; v++)
		nrows += r->vl[v] != NULL;
	st.actual.nports = n;
	st.max_port = r->max_port;
	st.actual.rows = calloc(nrows ? nrows : 1, sizeof *st.actual.rows);
	st.row_status = calloc(nrows ? nrows : 1, 1);
	if (!st.actual.rows || !st.row_status) {
		rc = -ENOMEM;
		goto fail;
	}
	for (unsigned v = DEV_VLAN_MIN; v <= DEV_VLAN_MAX; v++)
		if (r->vl[v] && (rc = state_row(r, v, n, &st, e)) != 0)
			goto fail;
	for (unsigned p = 1; p <= n; p++)
		st.actual.pvid[p] = r->pvid[p];
	if ((rc = check_ifindexes(r, e)) != 0 || (rc = state_ports(r, &st)) != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	dev_snmp_state_free(&st);
	return rc;
}

static int cmp_lrem(const void *a, const void *b)
{
	const struct dev_lldp_rem *x = a, *y = b;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

int dev_reply_lldp(const struct dev_reply *r, struct dev_lldp_rem **ret, size_t *ret_n, size_t *ret_skipped)
{
	struct dev_lldp_rem *v = calloc(r->n_ll ? r->n_ll : 1, sizeof *v);
	size_t n = 0, skipped = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_ll; i++) {
		const struct lacc *l = &r->ll[i];
		struct dev_lldp_rem *o = &v[n];
		if ((l->have & 15) != 15 || l->csub < 1 || l->csub > 7 || l->psub < 1 || l->psub > 7 ||
		    dev_lldp_id_decode(true, (unsigned)l->csub, l->cid, l->clen, &o->chassis, NULL) != 0 ||
		    dev_lldp_id_decode(false, (unsigned)l->psub, l->pid, l->plen, &o->port_id, NULL) != 0) {
			skipped++;
			continue;
		}
		o->port = l->port;
		o->index = l->index;
		copy_str(o->sysname, sizeof o->sysname, l->sysname);
		n++;
	}
	qsort(v, n, sizeof *v, cmp_lrem);
	*ret = v;
	*ret_n = n;
	if (ret_skipped)
		*ret_skipped = skipped;
	return 0;
}

static int cmp_fdbe(const void *a, const void *b)
{
	const struct dev_fdb_entry *x = a, *y = b;
	int c = memcmp(x->mac, y->mac, 6);
	if (c)
		return c;
	return (x->fid > y->fid) - (x->fid < y->fid);
}

int dev_reply_fdb(const struct dev_reply *r, struct dev_fdb_entry **ret, size_t *ret_n)
{
	struct dev_fdb_entry *v = calloc(r->n_fdb ? r->n_fdb : 1, sizeof *v);
	size_t n = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_fdb; i++) {
		const struct facc *f = &r->fdb[i];
		if (!f->has_port || f->port == 0)
			continue;
		v[n].fid = f->fid;
		memcpy(v[n].mac, f->mac, 6);
		v[n].port = f->port;
		v[n].status = f->status;
		n++;
	}
	qsort(v, n, sizeof *v, cmp_fdbe);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- the agent model: SET varbinds applied to a state ---- */

static struct dev_vlan_row *st_row(const struct dev_snmp_state *st, unsigned v, size_t *at)
{
	for (size_t i = 0; i < st->actual.n_rows; i++) {
		if (st->actual.rows[i].vlan == v) {
			if (at)
				*at = i;
			return &st->actual.rows[i];
		}
	}
	return NULL;
}

static struct dev_port_info *port_by_ifindex(const struct dev_snmp_state *st, uint32_t ifindex)
{
	for (size_t i = 0; i < st->n_ports; i++)
		if (st->ports[i].ifindex == ifindex)
			return &st->ports[i];
	return NULL;
}

/* Which object a SET varbind writes: its column and index. */
static int vb_target(const struct dev_setvb *vb, uint32_t *index)
{
	const uint32_t *idx;
	size_t n;
	int c = find_column(vb->oid, vb->oid_len, &idx, &n);
	if (c < 0 || n != 1)
		return -1;
	if (c != C_IFALIAS && c != C_VNAME && c != C_VEGRESS && c != C_VUNTAGGED && c != C_VSTATUS && c != C_PVID)
		return -1;
	*index = idx[0];
	return c;
}

static int add_row(struct dev_snmp_state *st, unsigned v)
{
	size_t n = st->actual.n_rows;
	struct dev_vlan_row *nr = realloc(st->actual.rows, (n + 1) * sizeof *nr);
	if (!nr)
		return -ENOMEM;
	st->actual.rows = nr;
	uint8_t *ns = realloc(st->row_status, n + 1);
	if (!ns)
		return -ENOMEM;
	st->row_status = ns;
	memset(&nr[n], 0, sizeof nr[n]);
	nr[n].vlan = (uint16_t)v;
	ns[n] = 1;
	st->actual.n_rows = n + 1;
	return 0;
}

static void del_row(struct dev_snmp_state *st, size_t at)
{
	size_t last = --st->actual.n_rows;
	st->actual.rows[at] = st->actual.rows[last];
	st->row_status[at] = st->row_status[last];
}

static int set_status(struct dev_snmp_state *st, unsigned v, int64_t val, struct netd_err *e)
{
	size_t at = 0;
	struct dev_vlan_row *row = st_row(st, v, &at);
	switch (val) {
	case 4:
		if (row && st->row_status[at] != 3)
			return netd_err_set(e, NETD_EINVAL, NULL, "VLAN %u: createAndGo of an existing row", v);
		if (!row)
			return add_row(st, v);
		st->row_status[at] = 1;
		return 0;
	case 1:
	case 2:
		if (!row)
			return netd_err_set(e, NETD_EINVAL, NULL, "VLAN %u: RowStatus %d of a missing row", v, (int)val);
		st->row_status[at] = (uint8_t)val;
		return 0;
	case 6:
		if (row)
			del_row(st, at);
		return 0;
	}
	return netd_err_set(e, NETD_EINVAL, NULL, "VLAN %u: RowStatus %d is not written by netd", v, (int)val);
}

int dev_snmp_state_set(struct dev_snmp_state *st, const struct dev_setvb *vb, struct netd_err *e)
{
	uint32_t idx;
	int c = vb_target(vb, &idx);
	struct dev_vlan_row *row;
	struct netd_err pe = { 0 };

	if (c < 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "a SET of an object netd never writes");
	if (c == C_VSTATUS)
		return set_status(st, idx, vb->num, e);
	if (c == C_PVID) {
		if (idx < 1 || idx > st->actual.nports)
			return netd_err_set(e, NETD_EINVAL, NULL, "PVID of port %u beyond the switch", idx);
		st->actual.pvid[idx] = (uint16_t)vb->num;
		return 0;
	}
	if (c == C_IFALIAS) {
		struct dev_port_info *pi = port_by_ifindex(st, idx);
		if (pi)
			text_of(vb->str, vb->len, pi->alias, sizeof pi->alias);
		return 0;
	}
	if (!(row = st_row(st, idx, NULL)))
		return netd_err_set(e, NETD_EINVAL, NULL, "VLAN %u: a column of a missing row", idx);
	if (c == C_VNAME) {
		text_of(vb->str, vb->len, row->name, sizeof row->name);
		return 0;
	}
	struct dev_portlist pl;
	if (dev_portlist_decode(vb->str, vb->len, st->actual.nports, "port list", &pl, &pe) != 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "VLAN %u: %s", idx, pe.msg);
	*(c == C_VEGRESS ? &row->egress : &row->untagged) = pl;
	return 0;
}

bool dev_snmp_state_holds(const struct dev_snmp_state *st, const struct dev_setvb *vb)
{
	uint32_t idx;
	int c = vb_target(vb, &idx);
	size_t at = 0;
	const struct dev_vlan_row *row;
	char txt[DEV_TEXT_MAX];

	switch (c) {
	case C_VSTATUS:
		row = st_row(st, idx, &at);
		if (vb->num == 6)
			return row == NULL;
		return row && st->row_status[at] == (vb->num == 4 ? 1 : vb->num);
	case C_PVID:
		return idx >= 1 && idx <= st->actual.nports && st->actual.pvid[idx] == vb->num;
	case C_IFALIAS: {
		const struct dev_port_info *pi = port_by_ifindex(st, idx);
		text_of(vb->str, vb->len, txt, sizeof txt);
		return pi && !strcmp(pi->alias, txt);
	}
	case C_VNAME:
		row = st_row(st, idx, NULL);
		text_of(vb->str, vb->len, txt, sizeof txt);
		return row && !strncmp(row->name, txt, sizeof row->name - 1);
	case C_VEGRESS:
	case C_VUNTAGGED: {
		struct dev_portlist pl;
		row = st_row(st, idx, NULL);
		if (!row || dev_portlist_decode(vb->str, vb->len, st->actual.nports, NULL, &pl, NULL) != 0)
			return false;
		return !memcmp(&pl, c == C_VEGRESS ? &row->egress : &row->untagged, sizeof pl);
	}
	}
	return false;
}

/* ---- plans ---- */

const char *dev_port_alias(const struct dev_port_want *w, char *buf, size_t cap)
{
	char raw[3 * DEV_NAME_MAX];
	size_t n;
	if (w->released)
		snprintf(raw, sizeof raw, "netd: idle");
	else
		snprintf(raw, sizeof raw, "netd: %s %s", w->node, w->nic);
	n = strlen(raw);
	if (n > DEV_ALIAS_LEN)
		n = DEV_ALIAS_LEN;
	text_of((const uint8_t *)raw, n, buf, cap);
	return buf;
}

void dev_snmp_plan_free(struct dev_snmp_plan *p)
{
	if (!p)
		return;
	free(p->ops);
	free(p->aliases);
	free(p->activate);
	memset(p, 0, sizeof *p);
}

size_t dev_snmp_plan_size(const struct dev_snmp_plan *p)
{
	return p->n_ops + p->n_aliases + p->n_activate;
}

static int plan_aliases(const struct dev_switch *sw, const struct dev_desired *d, const struct dev_snmp_state *st,
			struct dev_snmp_plan *p, struct netd_err *e)
{
	p->aliases = calloc(d->n_ports ? d->n_ports : 1, sizeof *p->aliases);
	if (!p->aliases)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_ports; i++) {
		const struct dev_port_want *w = &d->ports[i];
		const struct dev_port_info *pi = dev_snmp_port(st, w->port);
		char want[DEV_TEXT_MAX];
		if (!pi || !pi->ifindex)
			return netd_err_set(e, NETD_ECORRUPT, NULL,
					    "switch %s port %u: the agent gives no ifIndex for this bridge port "
					    "(dot1dBasePortIfIndex), so its ifAlias cannot be written",
					    sw->name, w->port);
		dev_port_alias(w, want, sizeof want);
		if (!strcmp(pi->alias, want))
			continue;
		struct dev_alias_op *a = &p->aliases[p->n_aliases++];
		a->port = w->port;
		a->ifindex = pi->ifindex;
		copy_str(a->alias, sizeof a->alias, want);
		copy_str(a->old, sizeof a->old, pi->alias);
	}
	return 0;
}

static bool vlan_used(const struct dev_desired *d, unsigned v)
{
	for (size_t i = 0; i < d->n_ports; i++)
		if (d->ports[i].pvid == v || dev_vlanset_test(&d->ports[i].tagged, v))
			return true;
	return false;
}

static int plan_activate(const struct dev_switch *sw, const struct dev_desired *d, const struct dev_snmp_state *st,
			 struct dev_snmp_plan *p, struct netd_err *e)
{
	p->activate = calloc(st->actual.n_rows ? st->actual.n_rows : 1, sizeof *p->activate);
	if (!p->activate)
		return -ENOMEM;
	for (size_t i = 0; i < st->actual.n_rows; i++) {
		const struct dev_vlan_row *r = &st->actual.rows[i];
		uint8_t s = st->row_status[i];
		if (s == 0 || s == 1 || !vlan_used(d, r->vlan))
			continue;
		if (!dev_vlan_owned(r->name))
			return netd_err_set(e, NETD_EINVAL, NULL,
					    "switch %s VLAN %u: row \"%s\" is %s, was not created by netd, and netd "
					    "does not activate it",
					    sw->name, r->vlan, r->name, s == 2 ? "notInService" : "notReady");
		p->activate[p->n_activate++] = r->vlan;
	}
	return 0;
}

int dev_snmp_plan(const struct dev_switch *sw, const struct dev_desired *d, const struct dev_snmp_state *st,
		  struct dev_snmp_plan *out, struct netd_err *e)
{
	struct dev_snmp_plan p;
	int rc;

	memset(&p, 0, sizeof p);
	if ((rc = dev_diff(sw, d, &st->actual, &p.ops, &p.n_ops, e)) != 0)
		return rc;
	if ((rc = plan_aliases(sw, d, st, &p, e)) != 0 || (rc = plan_activate(sw, d, st, &p, e)) != 0) {
		dev_snmp_plan_free(&p);
		return rc;
	}
	*out = p;
	return 0;
}

/* ---- steps ---- */

static void vb_oid(struct dev_setvb *vb, const uint32_t *col, size_t len, uint32_t index)
{
	memcpy(vb->oid, col, len * sizeof *col);
	vb->oid[len] = index;
	vb->oid_len = len + 1;
}

static struct dev_setvb *vb_int(struct dev_setvb *vb, const uint32_t *col, size_t len, uint32_t index, uint8_t type,
				int64_t num)
{
	memset(vb, 0, offsetof(struct dev_setvb, str));
	vb->len = 0;
	vb_oid(vb, col, len, index);
	vb->type = type;
	vb->num = num;
	return vb;
}

static struct dev_setvb *vb_str(struct dev_setvb *vb, const uint32_t *col, size_t len, uint32_t index,
				const void *s, size_t n)
{
	memset(vb, 0, offsetof(struct dev_setvb, str));
	vb_oid(vb, col, len, index);
	vb->type = DEV_ASN_OCTETS;
	if (n)
		memcpy(vb->str, s, n);
	vb->len = n;
	return vb;
}

#define OLEN(o) (sizeof o / sizeof o[0])

static int vb_list(struct dev_setvb *vb, bool egress, unsigned vlan, const struct dev_portlist *pl, unsigned nports)
{
	uint8_t oct[DEV_PORTLIST_OCTETS];
	int n = dev_portlist_encode(pl, nports, oct, sizeof oct);
	if (n < 0)
		return n;
	vb_str(vb, egress ? o_vegress : o_vuntagged, OLEN(o_vegress), vlan, oct, (size_t)n);
	return 0;
}

static bool superset(const struct dev_portlist *a, const struct dev_portlist *b)
{
	for (size_t i = 0; i < DEV_PORTLIST_OCTETS; i++)
		if ((a->o[i] & b->o[i]) != b->o[i])
			return false;
	return true;
}

static bool is_add(const struct dev_op *op)
{
	return superset(&op->egress, &op->old_egress) && superset(&op->untagged, &op->old_untagged);
}

/* "3, 5, 7" of the ports whose bits differ between two pairs of lists. */
static void changed_ports(const struct dev_op *op, unsigned nports, char *buf, size_t cap)
{
	size_t w = 0;
	buf[0] = '\0';
	for (unsigned p = 1; p <= nports; p++) {
		if (dev_portlist_test(&op->egress, p) == dev_portlist_test(&op->old_egress, p) &&
		    dev_portlist_test(&op->untagged, p) == dev_portlist_test(&op->old_untagged, p))
			continue;
		int n = snprintf(buf + w, cap - w, "%s%u", w ? "," : "", p);
		if (n < 0 || (size_t)n >= cap - w) {
			if (cap > 4)
				memcpy(buf + cap - 4, "...", 4);
			return;
		}
		w += (size_t)n;
	}
}

/* Egress and untagged varbinds of a ports op (only the lists that change),
 * add order (egress first) or remove order (untagged first), with undo. */
static int ports_vbs(struct dev_step *s, const struct dev_op *op, unsigned nports, bool add)
{
	bool ce = memcmp(&op->egress, &op->old_egress, sizeof op->egress) != 0;
	bool cu = memcmp(&op->untagged, &op->old_untagged, sizeof op->untagged) != 0;
	int rc = 0;
	for (int k = 0; k < 2 && !rc; k++) {
		bool egress = (k == 0) == add;
		if (!(egress ? ce : cu))
			continue;
		rc = vb_list(&s->vbs[s->n_vbs++], egress, op->vlan, egress ? &op->egress : &op->untagged, nports);
	}
	/* undo in the opposite order */
	for (int k = 1; k >= 0 && !rc; k--) {
		bool egress = (k == 0) == add;
		if (!(egress ? ce : cu))
			continue;
		rc = vb_list(&s->undo[s->n_undo++], egress, op->vlan, egress ? &op->old_egress : &op->old_untagged,
			     nports);
	}
	return rc;
}

/* The first ports op for @vlan after @from, if it only adds. */
static size_t first_add(const struct dev_snmp_plan *p, size_t from, unsigned vlan)
{
	for (size_t j = from + 1; j < p->n_ops; j++) {
		if (p->ops[j].vlan != vlan || p->ops[j].kind != DEV_OP_VLAN_PORTS)
			continue;
		return is_add(&p->ops[j]) ? j : SIZE_MAX;
	}
	return SIZE_MAX;
}

static int op_step(const struct dev_switch *sw, const struct dev_snmp_state *st, const struct dev_snmp_plan *p,
		   size_t i, struct dev_step *s)
{
	const struct dev_op *op = &p->ops[i];
	char ports[64];
	int rc = 0;

	s->kind = DEV_STEP_OP;
	s->index = i;
	s->vlan = op->vlan;
	switch (op->kind) {
	case DEV_OP_VLAN_CREATE:
		s->group = 1;
		vb_int(&s->vbs[s->n_vbs++], o_vstatus, OLEN(o_vstatus), op->vlan, DEV_ASN_INTEGER, 4);
		vb_str(&s->vbs[s->n_vbs++], o_vname, OLEN(o_vname), op->vlan, op->name, strlen(op->name));
		vb_int(&s->undo[s->n_undo++], o_vstatus, OLEN(o_vstatus), op->vlan, DEV_ASN_INTEGER, 6);
		snprintf(s->label, sizeof s->label, "VLAN %u: create %s", op->vlan, op->name);
		if ((s->also = first_add(p, i, op->vlan)) != SIZE_MAX) {
			const struct dev_op *po = &p->ops[s->also];
			/* a new row's lists start empty: only non-empty ones are sent */
			if (dev_portlist_count(&po->egress))
				rc = vb_list(&s->vbs[s->n_vbs++], true, op->vlan, &po->egress, sw->nports);
			if (!rc && dev_portlist_count(&po->untagged))
				rc = vb_list(&s->vbs[s->n_vbs++], false, op->vlan, &po->untagged, sw->nports);
			changed_ports(po, sw->nports, ports, sizeof ports);
			snprintf(s->label, sizeof s->label, "VLAN %u: create %s with port %s", op->vlan, op->name, ports);
		}
		return rc;
	case DEV_OP_VLAN_PORTS: {
		bool add = is_add(op);
		s->group = add ? 1 : 3;
		changed_ports(op, sw->nports, ports, sizeof ports);
		snprintf(s->label, sizeof s->label, "VLAN %u: %s port %s", op->vlan, add ? "add" : "remove", ports);
		return ports_vbs(s, op, sw->nports, add);
	}
	case DEV_OP_PVID:
		s->group = 2;
		s->port = op->port;
		vb_int(&s->vbs[s->n_vbs++], o_pvid, OLEN(o_pvid), op->port, DEV_ASN_GAUGE, op->pvid);
		if (op->old_pvid)
			vb_int(&s->undo[s->n_undo++], o_pvid, OLEN(o_pvid), op->port, DEV_ASN_GAUGE, op->old_pvid);
		snprintf(s->label, sizeof s->label, "port %u: PVID %u (was %u)", op->port, op->pvid, op->old_pvid);
		return 0;
	case DEV_OP_VLAN_DELETE: {
		const struct dev_vlan_row *r = st_row(st, op->vlan, NULL);
		const char *name = r ? r->name : "";
		s->group = 4;
		vb_int(&s->vbs[s->n_vbs++], o_vstatus, OLEN(o_vstatus), op->vlan, DEV_ASN_INTEGER, 6);
		vb_int(&s->undo[s->n_undo++], o_vstatus, OLEN(o_vstatus), op->vlan, DEV_ASN_INTEGER, 4);
		vb_str(&s->undo[s->n_undo++], o_vname, OLEN(o_vname), op->vlan, name, strlen(name));
		snprintf(s->label, sizeof s->label, "VLAN %u: destroy %s", op->vlan, name);
		return 0;
	}
	}
	return NETD_EINVAL;
}

static void alias_step(const struct dev_alias_op *a, size_t i, struct dev_step *s)
{
	s->kind = DEV_STEP_ALIAS;
	s->index = i;
	s->group = 1;
	s->port = a->port;
	vb_str(&s->vbs[s->n_vbs++], o_ifalias, OLEN(o_ifalias), a->ifindex, a->alias, strlen(a->alias));
	vb_str(&s->undo[s->n_undo++], o_ifalias, OLEN(o_ifalias), a->ifindex, a->old, strlen(a->old));
	snprintf(s->label, sizeof s->label, "port %u: ifAlias \"%.60s\"", a->port, a->alias);
}

static void activate_step(const struct dev_snmp_state *st, uint16_t vlan, size_t i, struct dev_step *s)
{
	size_t at = 0;
	const struct dev_vlan_row *r = st_row(st, vlan, &at);
	s->kind = DEV_STEP_ACTIVATE;
	s->index = i;
	s->group = 1;
	s->vlan = vlan;
	vb_int(&s->vbs[s->n_vbs++], o_vstatus, OLEN(o_vstatus), vlan, DEV_ASN_INTEGER, 1);
	if (r && st->row_status[at] == 2)
		vb_int(&s->undo[s->n_undo++], o_vstatus, OLEN(o_vstatus), vlan, DEV_ASN_INTEGER, 2);
	snprintf(s->label, sizeof s->label, "VLAN %u: activate %s", vlan, r ? r->name : "");
}

int dev_snmp_steps(const struct dev_switch *sw, const struct dev_snmp_state *st, const struct dev_snmp_plan *p,
		   struct dev_step **ret, size_t *ret_n, struct netd_err *e)
{
	size_t total = dev_snmp_plan_size(p), n = 0;
	struct dev_step *raw = calloc(total ? total : 1, sizeof *raw), *out = NULL;
	bool *carried = calloc(p->n_ops ? p->n_ops : 1, sizeof *carried);
	int rc = -ENOMEM;

	if (!raw || !carried)
		goto done;
	for (size_t i = 0; i < p->n_ops; i++) {
		if (carried[i])
			continue;
		struct dev_step *s = &raw[n++];
		s->also = SIZE_MAX;
		if ((rc = op_step(sw, st, p, i, s)) != 0) {
			rc = netd_err_set(e, NETD_EINVAL, NULL, "switch %s: operation %zu (VLAN %u) does not fit the "
					  "switch's %u ports", sw->name, i, p->ops[i].vlan, sw->nports);
			goto done;
		}
		if (s->also != SIZE_MAX)
			carried[s->also] = true;
	}
	for (size_t i = 0; i < p->n_aliases; i++) {
		raw[n].also = SIZE_MAX;
		alias_step(&p->aliases[i], i, &raw[n++]);
	}
	for (size_t i = 0; i < p->n_activate; i++) {
		raw[n].also = SIZE_MAX;
		activate_step(st, p->activate[i], i, &raw[n++]);
	}
	/* stable by group */
	if (!(out = calloc(n ? n : 1, sizeof *out)))
		goto done;
	size_t w = 0;
	for (uint8_t g = 1; g <= 4; g++)
		for (size_t i = 0; i < n; i++)
			if (raw[i].group == g)
				out[w++] = raw[i];
	*ret = out;
	*ret_n = w;
	out = NULL;
	rc = 0;
done:
	free(out);
	free(raw);
	free(carried);
	return rc;
}

/* ---- concurrent-change check ---- */

static int conflict_row(const struct dev_switch *sw, const struct dev_snmp_state *x, const struct dev_snmp_state *f,
			unsigned v, bool lists, struct netd_err *e)
{
	size_t ax = 0, af = 0;
	const struct dev_vlan_row *rx = st_row(x, v, &ax), *rf = st_row(f, v, &af);
	char h1[DEV_PORTLIST_HEX_MAX], h2[DEV_PORTLIST_HEX_MAX];

	if (!rx && !rf)
		return 0;
	if (!rx)
		return netd_err_set(e, NETD_ECONFLICT, NULL,
				    "switch %s VLAN %u: a row \"%s\" appeared since the switch was read", sw->name, v,
				    rf->name);
	if (!rf)
		return netd_err_set(e, NETD_ECONFLICT, NULL,
				    "switch %s VLAN %u: row \"%s\" disappeared since the switch was read", sw->name, v,
				    rx->name);
	if (x->row_status[ax] && f->row_status[af] && x->row_status[ax] != f->row_status[af])
		return netd_err_set(e, NETD_ECONFLICT, NULL,
				    "switch %s VLAN %u: RowStatus changed from %u to %u since the switch was read",
				    sw->name, v, x->row_status[ax], f->row_status[af]);
	if (!lists)
		return 0;
	if (memcmp(&rx->egress, &rf->egress, sizeof rx->egress))
		return netd_err_set(e, NETD_ECONFLICT, NULL,
				    "switch %s VLAN %u: egress ports changed since the switch was read (were %s, are %s)",
				    sw->name, v, dev_portlist_hex(&rx->egress, sw->nports, h1, sizeof h1),
				    dev_portlist_hex(&rf->egress, sw->nports, h2, sizeof h2));
	if (memcmp(&rx->untagged, &rf->untagged, sizeof rx->untagged))
		return netd_err_set(e, NETD_ECONFLICT, NULL,
				    "switch %s VLAN %u: untagged ports changed since the switch was read (were %s, are %s)",
				    sw->name, v, dev_portlist_hex(&rx->untagged, sw->nports, h1, sizeof h1),
				    dev_portlist_hex(&rf->untagged, sw->nports, h2, sizeof h2));
	return 0;
}

static int fresh_step(const struct dev_switch *sw, const struct dev_snmp_state *x, const struct dev_snmp_state *f,
		      const struct dev_step *s, struct netd_err *e)
{
	if (s->kind == DEV_STEP_ALIAS) {
		const struct dev_port_info *px = dev_snmp_port(x, s->port), *pf = dev_snmp_port(f, s->port);
		if (px && pf && strcmp(px->alias, pf->alias))
			return netd_err_set(e, NETD_ECONFLICT, NULL,
					    "switch %s port %u: ifAlias changed since the switch was read (was \"%s\", "
					    "is \"%s\")", sw->name, s->port, px->alias, pf->alias);
		return 0;
	}
	if (s->kind == DEV_STEP_ACTIVATE)
		return conflict_row(sw, x, f, s->vlan, false, e);
	if (s->port && s->group == 2) {
		unsigned p = s->port;
		if (p <= sw->nports && x->actual.pvid[p] != f->actual.pvid[p])
			return netd_err_set(e, NETD_ECONFLICT, NULL,
					    "switch %s port %u: PVID changed from %u to %u since the switch was read",
					    sw->name, p, x->actual.pvid[p], f->actual.pvid[p]);
		return 0;
	}
	return conflict_row(sw, x, f, s->vlan, true, e);
}

int dev_snmp_fresh(const struct dev_switch *sw, const struct dev_snmp_state *expected,
		   const struct dev_snmp_state *fresh, const struct dev_step *steps, size_t n, struct netd_err *e)
{
	for (size_t i = 0; i < n; i++) {
		int rc = fresh_step(sw, expected, fresh, &steps[i], e);
		if (rc)
			return rc;
	}
	return 0;
}
