/* netd/devd.c — the devices service (see devd.h for the contract).
 *
 * Layout of this file:
 *   helpers            tree access, text, ranges, MACs, records as JSON
 *   configuration      the switches document -> struct swcfg (+ its checks)
 *   node bmc records   the bmc container kept beside the node record
 *   hooks              doc check, txn, RPCs, state for GET, commits
 *   node facts         what the model says of a node: networks, NICs, plan
 *   links              operator and learned links -> dev_link / dev_nic
 *   switch work        learn (dev_snmp_learn), reconcile (read, plan, apply):
 *                      SNMP (devices/snmp.h) or NETCONF (devices/nc.h)
 *   BMC work           the wanted LAN config, dev_bmc_apply
 *   states             the worker's results as JSON in the store
 *   the jig            devices: runs handed to the worker, ended on the loop
 *   the worker         one thread, queues by switch and by node
 *
 * The worker owns struct swq / struct bmq entries; fields marked "under mu"
 * are shared with the loop thread (commits, the jig) and readers (GET).
 */
#include "netd/devd.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "annealer/jig.h"
#include "core/log.h"
#include "core/text.h"
#include "devices/bmc.h"
#include "devices/devices.h"
#include "devices/nc.h"
#include "devices/snmp.h"
#include "netd/anneal.h"
#include "netd/cdtd.h"
#include "netd/cdtjson.h"
#include "netd/yangctx.h"
#include "netd/yangmap.h"

#define DOC_PATH "/netd:switches"
#define RANGES_MAX 64
#define NIC_TEXT_MAX 24          /* a NIC as configured: name (15) or MAC (17) */
#define TEXT_SHORT 256
#define SEQ_KEY "#seq"

enum { ST_UNKNOWN = 0, ST_PENDING = 1, ST_INSYNC = 2, ST_ERROR = 3 };
static const char *const state_names[] = { "unknown", "pending", "in-sync", "error" };
enum { SRC_NONE = 0, SRC_OPERATOR = 1, SRC_LLDP = 2, SRC_FDB = 3 };
static const char *const source_names[] = { "", "operator", "lldp", "fdb" };

/* ---------------------------------------------------------------- types */

struct swlink {
	unsigned port;
	char node[MODEL_NAME_MAX];
	char nic[NIC_TEXT_MAX];
	char conduit[MODEL_NAME_MAX];   /* "" = default */
};

/* One switch of the document. */
struct swcfg {
	char name[MODEL_NAME_MAX];
	char address[128];
	bool netconf;
	enum dev_snmp_version version;
	enum dev_snmp_auth auth;
	char user[40], auth_key[136], priv_key[136], community[72];   /* secrets: wiped */
	unsigned timeout_ms, retries;
	/* driver netconf: SSH to nc_host:nc_port (secrets: wiped) */
	char nc_host[128], nc_user[72], nc_password[136], nc_key_file[4096], nc_known_hosts[4096];
	unsigned nc_port, nc_timeout_ms;
	struct dev_range vlans[RANGES_MAX], ports[RANGES_MAX];
	size_t n_vlans, n_ports;
	uint16_t idle_vlan;
	uint32_t learn_interval;
	struct swlink *links;
	size_t n_links;
};

/* A node's bmc container. */
struct bmccfg {
	char user[DEV_BMC_USER_MAX];
	char password[DEV_BMC_PASS_MAX];   /* secret: wiped */
	char password_file[4096];
	bool has_password;
	char host[DEV_BMC_HOST_MAX];
	uint16_t port;
	uint8_t cipher, channel;
};

/* A learned link as kept. */
struct learned {
	unsigned port;
	char node[MODEL_NAME_MAX];
	char nic[DEV_IFNAME_MAX];
	uint8_t mac[6];
	int source;                     /* SRC_LLDP, SRC_FDB */
	char evidence[160];
	char note[TEXT_SHORT];          /* why it is not used (set by each reconcile) */
};

/* A bridge port as shown. */
struct portrow {
	unsigned port;
	uint32_t ifindex;
	char name[DEV_TEXT_MAX], alias[DEV_TEXT_MAX];
	uint16_t pvid, want_pvid;
	char tagged[TEXT_SHORT], want_tagged[TEXT_SHORT];
	char node[MODEL_NAME_MAX], nic[NIC_TEXT_MAX];
	int source;
	bool managed, wanted;
	char refused[NETD_ERR_MSG_MAX];
};

struct apply_counts {
	uint32_t steps, applied, set_pdus, set_varbinds, read_walks, undo_pdus;
	bool verified;
	char summary[NETD_ERR_MSG_MAX];
};

struct swq {
	char name[MODEL_NAME_MAX];
	/* under mu */
	bool dirty, learn_req, present, busy;
	uint64_t req_seen, done;        /* request ids: latest asked, latest done */
	uint64_t due_ms;                /* loop_now_ms(): not before (backoff) */
	uint64_t next_learn_ms;         /* 0 = not scheduled */
	unsigned backoff_ms;
	int state;
	/* worker only */
	struct swcfg cfg;
	struct learned *learned;
	size_t n_learned;
	uint64_t last_learn, last_sync; /* unix seconds, 0 = never */
	char error[NETD_ERR_MSG_MAX];
	unsigned bridge_ports;
	bool have_apply;
	struct apply_counts apply;
	struct portrow *rows;
	size_t n_rows;
};

struct bmq {
	char node[MODEL_NAME_MAX];
	/* under mu */
	bool dirty, present, busy;
	uint64_t req_seen, done, due_ms;
	unsigned backoff_ms;
	int state;
	/* worker only */
	char error[NETD_ERR_MSG_MAX];
	uint64_t last_sync;
	char network[MODEL_NAME_MAX];
	bool have_want;
	uint8_t ip[4], mask[4], gw[4];
	uint16_t vlan;
	uint8_t channel;
	bool have_mac;
	uint8_t mac[6];
	unsigned sets;
};

struct devjob {
	struct devjob *next;
	struct ann_jigs *J;
	struct ann_jig_run *run;        /* NULL once cancelled */
	char node[MODEL_NAME_MAX];
	bool ok;
	char summary[NETD_ERR_MSG_MAX + 64];
	char *log;
};

struct devd {
	struct netd *d;
	store_tbl t_sw, t_bmc, t_bmcst, t_req;
	struct loop_wake *wake;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* under mu */
	bool stopping, req_changed, all_dirty, bmc_scan;
	uint64_t conf_gen, conf_taken, conf_done;   /* switches document: changes, taken, loaded */
	uint64_t settle_until;          /* loop_now_ms(): no device work before */
	uint64_t settle_first;          /* the first commit not yet worked on (0 = none) */
	char (*nodes)[MODEL_NAME_MAX];  /* touched since the worker last looked */
	size_t n_nodes, cap_nodes;
	char (*renames)[2][MODEL_NAME_MAX];
	size_t n_renames, cap_renames;
	struct swq **sw;
	size_t n_sw;
	struct bmq **bm;
	size_t n_bm;
	struct devjob *jobs, *job_running, *done;
	uint64_t syncs, sync_errors, set_pdus, bmc_syncs, bmc_errors, bmc_sets;
};

/* --------------------------------------------------------------- helpers */

static unsigned long leaf_ul(const struct lyd_node *n, const char *name, unsigned long dflt)
{
	const char *v = yc_leaf(n, name);
	return v ? strtoul(v, NULL, 10) : dflt;
}

/* @src into @dst, cut to fit (NUL-terminated when @cap > 0). */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap ? cap - 1 : 0) : 0;
	if (!cap)
		return;
	memmove(dst, src ? src : "", n);
	dst[n] = '\0';
}

/* @src as printable ASCII ('?' for anything else): agents' texts. */
static void copy_printable(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < cap; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	if (cap)
		dst[i] = '\0';
}

/* "/netd:switches/switch[name='sw1']" + "/" + @below ("" = none). */
static const char *sw_path(const char *sw, const char *below, char *buf, size_t len)
{
	char key[MODEL_NAME_MAX + 8];
	snprintf(buf, len, DOC_PATH "/switch[name=%s]%s%s", netd_path_key(sw, key, sizeof key), below[0] ? "/" : "",
		 below);
	return buf;
}

static const char *node_path(const char *node, const char *below, char *buf, size_t len)
{
	char key[MODEL_NAME_MAX + 8];
	snprintf(buf, len, "/netd:nodes/node[name=%s]%s%s", netd_path_key(node, key, sizeof key), below[0] ? "/" : "",
		 below);
	return buf;
}

static int fail_oom(struct ops_result *r)
{
	return ops_fail(r, 500, "operation-failed", -ENOMEM, NULL, "%s", "out of memory");
}

/* "N" or "N-M" with lo <= N <= M <= hi. */
static int range_parse(const char *s, unsigned lo, unsigned hi, struct dev_range *out)
{
	char *end = NULL;
	unsigned long a = strtoul(s, &end, 10), b = a;
	if (end == s)
		return -1;
	if (*end == '-') {
		const char *p = end + 1;
		b = strtoul(p, &end, 10);
		if (end == p)
			return -1;
	}
	if (*end || a < lo || b > hi || a > b)
		return -1;
	out->first = (uint16_t)a;
	out->last = (uint16_t)b;
	return 0;
}

static bool in_ranges(const struct dev_range *r, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (v >= r[i].first && v <= r[i].last)
			return true;
	return false;
}

static bool mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	if (!s || strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return true;
}

static const char *mac_text(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

static bool mac_zero(const uint8_t mac[6])
{
	static const uint8_t z[6];
	return !memcmp(mac, z, 6);
}

/* The VLANs of @s as "10,200-210", cut with "..." to fit. */
static void vlans_text(const struct dev_vlanset *s, char *buf, size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (unsigned v = DEV_VLAN_MIN; v <= DEV_VLAN_MAX; v++) {
		if (!dev_vlanset_test(s, v))
			continue;
		unsigned last = v;
		while (last < DEV_VLAN_MAX && dev_vlanset_test(s, last + 1))
			last++;
		char part[24];
		int k = last == v ? snprintf(part, sizeof part, "%s%u", w ? "," : "", v) :
				    snprintf(part, sizeof part, "%s%u-%u", w ? "," : "", v, last);
		if (k < 0 || w + (size_t)k + 4 > len) {
			snprintf(buf + w, len - w, "...");
			return;
		}
		memcpy(buf + w, part, (size_t)k + 1);
		w += (size_t)k;
		v = last;
	}
}

/* ---- records ---- */

/* The stored value of @key in @tbl as a heap string (NULL when none). */
static int rec_get(struct store_txn *t, store_tbl tbl, const char *key, char **out)
{
	struct store_val v;
	*out = NULL;
	int rc = store_get(t, tbl, key, strlen(key), &v);
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	return (*out = strndup(v.p, v.n)) ? 0 : -ENOMEM;
}

static int rec_drop(struct store_txn *t, store_tbl tbl, const char *key)
{
	int rc = store_del(t, tbl, key, strlen(key));
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

static int rec_move(struct store_txn *t, store_tbl tbl, const char *from, const char *to)
{
	char *v = NULL;
	int rc = rec_get(t, tbl, from, &v);
	if (rc == 0 && v) {
		rc = store_put(t, tbl, to, strlen(to), v, strlen(v));
		rc = rc ? rc : rec_drop(t, tbl, from);
	}
	free(v);
	return rc;
}

static void be64_put(uint8_t b[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static uint64_t be64_get(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* Parse stored @json (a container printed alone, {"netd:x":{...}}) under
 * @entry.  0, NETD_ECORRUPT or -ENOMEM. */
static int json_under(struct lyd_node *entry, const char *json)
{
	struct ly_in *in = NULL;
	if (ly_in_new_memory(json, &in) != LY_SUCCESS)
		return -ENOMEM;
	LY_ERR lr = lyd_parse_data(LYD_CTX(entry), entry, in, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, NULL);
	ly_in_free(in, 0);
	return lr == LY_SUCCESS ? 0 : NETD_ECORRUPT;
}

/* Set leaf @name under @parent (replacing it). */
static int put(struct lyd_node *parent, const char *name, const char *val)
{
	struct lyd_node *old = yc_child(parent, name);
	if (old)
		lyd_free_tree(old);
	return lyd_new_term(parent, NULL, name, val, 0, NULL) == LY_SUCCESS ? 0 : NETD_EINVAL;
}

static int put_u(struct lyd_node *parent, const char *name, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%" PRIu64, v);
	return put(parent, name, buf);
}

static int put_time(struct lyd_node *parent, const char *name, uint64_t t)
{
	char buf[64];
	return t ? put(parent, name, ym_time_print(t, buf, sizeof buf)) : 0;
}

static int put_ip(struct lyd_node *parent, const char *name, const uint8_t ip[4])
{
	char buf[20];
	return put(parent, name, dev_bmc_ipv4_str(ip, buf, sizeof buf));
}

/* Copy the non-key children of @from under @to. */
static int dup_children(const struct lyd_node *from, struct lyd_node *to)
{
	const struct lyd_node *c;
	LY_LIST_FOR(lyd_child(from), c) {
		if (c->schema && (c->schema->flags & LYS_KEY))
			continue;
		if (lyd_dup_single(c, (struct lyd_node_inner *)to, LYD_DUP_RECURSIVE, NULL) != LY_SUCCESS)
			return -ENOMEM;
	}
	return 0;
}

/* A new tree holding the node entry of @node; *@entry points at it. */
static int node_tree(struct netd *d, const char *node, struct lyd_node **tree, struct lyd_node **entry)
{
	char path[NETD_ERR_PATH_MAX];
	*tree = *entry = NULL;
	node_path(node, "", path, sizeof path);
	if (lyd_new_path(NULL, d->ly, path, NULL, 0, tree) != LY_SUCCESS ||
	    lyd_find_path(*tree, path, 0, entry) != LY_SUCCESS) {
		lyd_free_all(*tree);
		*tree = NULL;
		return NETD_EINVAL;
	}
	return 0;
}

/* --------------------------------------------------------- configuration */

static void swcfg_clear(struct swcfg *c)
{
	free(c->links);
	explicit_bzero(c, sizeof *c);
}

static int ranges_from(const struct lyd_node *ent, const char *list, unsigned lo, unsigned hi, struct dev_range *out,
		       size_t *n, const char *sw, struct netd_err *e)
{
	const struct lyd_node *c;
	char path[NETD_ERR_PATH_MAX];
	*n = 0;
	LY_LIST_FOR(lyd_child(ent), c) {
		if (strcmp(yc_schema_name(c), list))
			continue;
		if (*n == RANGES_MAX)
			return netd_err_set(e, NETD_EINVAL, sw_path(sw, list, path, sizeof path),
					    "switch %s: more than %d %s entries", sw, RANGES_MAX, list);
		if (range_parse(lyd_get_value(c), lo, hi, &out[*n]) < 0)
			return netd_err_set(e, NETD_EINVAL, sw_path(sw, list, path, sizeof path),
					    "switch %s: %s '%s' is not N or N-M with %u <= N <= M <= %u", sw, list,
					    lyd_get_value(c), lo, hi);
		(*n)++;
	}
	return 0;
}

static void snmp_from(const struct lyd_node *sn, struct swcfg *c)
{
	const char *v = yc_leaf(sn, "version"), *a = yc_leaf(sn, "auth-protocol");
	c->version = v && !strcmp(v, "v2c") ? DEV_SNMP_V2C : DEV_SNMP_V3;
	c->auth = a && !strcmp(a, "sha1") ? DEV_AUTH_SHA1 : DEV_AUTH_SHA256;
	copy(c->user, sizeof c->user, yc_leaf(sn, "user"));
	copy(c->auth_key, sizeof c->auth_key, yc_leaf(sn, "auth-key"));
	copy(c->priv_key, sizeof c->priv_key, yc_leaf(sn, "priv-key"));
	copy(c->community, sizeof c->community, yc_leaf(sn, "community"));
	c->timeout_ms = (unsigned)leaf_ul(sn, "timeout", 1000);
	c->retries = (unsigned)leaf_ul(sn, "retries", 1);
}

static void netconf_from(const struct lyd_node *nc, struct swcfg *c)
{
	copy(c->nc_user, sizeof c->nc_user, yc_leaf(nc, "user"));
	copy(c->nc_password, sizeof c->nc_password, yc_leaf(nc, "password"));
	copy(c->nc_key_file, sizeof c->nc_key_file, yc_leaf(nc, "private-key-file"));
	copy(c->nc_known_hosts, sizeof c->nc_known_hosts, yc_leaf(nc, "known-hosts"));
	c->nc_timeout_ms = (unsigned)leaf_ul(nc, "timeout", 10000);
}

/* A netconf switch's address: HOST, HOST:PORT, [V6] or [V6]:PORT (a bare
 * IPv6 address has no port).  0, or -1 when it does not parse. */
static int nc_address(const char *addr, char *host, size_t cap, unsigned *port)
{
	const char *p = NULL, *h = addr, *he;
	*port = 0;
	if (addr[0] == '[') {
		h = addr + 1;
		if (!(he = strchr(h, ']')) || (he[1] && he[1] != ':'))
			return -1;
		p = he[1] ? he + 2 : NULL;
	} else {
		const char *c = strchr(addr, ':');
		he = addr + strlen(addr);
		if (c && !strchr(c + 1, ':')) {
			he = c;
			p = c + 1;
		}
	}
	if (he == h || (size_t)(he - h) >= cap)
		return -1;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	if (p) {
		char *end = NULL;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || *end || v < 1 || v > 65535)
			return -1;
		*port = (unsigned)v;
	}
	return 0;
}

static int links_from(const struct lyd_node *ent, struct swcfg *c)
{
	const struct lyd_node *l;
	size_t n = 0;
	LY_LIST_FOR(lyd_child(ent), l)
		n += !strcmp(yc_schema_name(l), "link");
	if (!(c->links = calloc(n ? n : 1, sizeof *c->links)))
		return -ENOMEM;
	LY_LIST_FOR(lyd_child(ent), l) {
		if (strcmp(yc_schema_name(l), "link"))
			continue;
		struct swlink *k = &c->links[c->n_links++];
		k->port = (unsigned)leaf_ul(l, "port", 0);
		copy(k->node, sizeof k->node, yc_leaf(l, "node"));
		copy(k->nic, sizeof k->nic, yc_leaf(l, "nic"));
		copy(k->conduit, sizeof k->conduit, yc_leaf(l, "conduit"));
	}
	return 0;
}

/* What YANG cannot say about one switch. */
static int swcfg_check(const struct swcfg *c, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX], host[sizeof c->nc_host];
	unsigned port = 0;
	if (!in_ranges(c->vlans, c->n_vlans, c->idle_vlan))
		return netd_err_set(e, NETD_EINVAL, sw_path(c->name, "idle-vlan", path, sizeof path),
				    "switch %s: idle VLAN %u is not in allowed-vlans", c->name, c->idle_vlan);
	if (c->netconf && nc_address(c->address, host, sizeof host, &port) < 0)
		return netd_err_set(e, NETD_EINVAL, sw_path(c->name, "address", path, sizeof path),
				    "switch %s: address '%s' is not HOST, HOST:PORT or [V6]:PORT (driver netconf)", c->name,
				    c->address);
	if (c->netconf && (!c->nc_user[0] || (!c->nc_key_file[0] && !c->nc_password[0])))
		return netd_err_set(e, NETD_EINVAL, sw_path(c->name, "netconf", path, sizeof path),
				    "switch %s: driver netconf needs netconf/user and netconf/private-key-file or "
				    "netconf/password", c->name);
	if (c->netconf)
		return 0;
	if (c->version == DEV_SNMP_V2C && !c->community[0])
		return netd_err_set(e, NETD_EINVAL, sw_path(c->name, "snmp/community", path, sizeof path),
				    "switch %s: SNMPv2c needs a community", c->name);
	if (c->version == DEV_SNMP_V3 && (!c->user[0] || !c->auth_key[0] || !c->priv_key[0]))
		return netd_err_set(e, NETD_EINVAL, sw_path(c->name, "snmp", path, sizeof path),
				    "switch %s: SNMPv3 needs user, auth-key and priv-key (authPriv)", c->name);
	return 0;
}

/* A switch entry into @c (zeroed first).  0 or an error in @e. */
static int swcfg_from(const struct lyd_node *ent, struct swcfg *c, struct netd_err *e)
{
	memset(c, 0, sizeof *c);
	copy(c->name, sizeof c->name, yc_leaf(ent, "name"));
	copy(c->address, sizeof c->address, yc_leaf(ent, "address"));
	const char *drv = yc_leaf(ent, "driver");
	c->netconf = drv && !strcmp(drv, "netconf");
	snmp_from(yc_child(ent, "snmp"), c);
	netconf_from(yc_child(ent, "netconf"), c);
	c->idle_vlan = (uint16_t)leaf_ul(ent, "idle-vlan", 0);
	/* link learning reads LLDP-MIB and the FDB over SNMP: never periodic on a netconf switch */
	c->learn_interval = c->netconf ? 0 : (uint32_t)leaf_ul(ent, "learn-interval", 300);
	int rc = ranges_from(ent, "allowed-vlans", DEV_VLAN_MIN, DEV_VLAN_MAX, c->vlans, &c->n_vlans, c->name, e);
	rc = rc ? rc : ranges_from(ent, "allowed-ports", 1, DEV_PORTS_MAX, c->ports, &c->n_ports, c->name, e);
	rc = rc ? rc : links_from(ent, c);
	if (rc == -ENOMEM)
		netd_err_set(e, rc, NULL, "%s", "out of memory");
	rc = rc ? rc : swcfg_check(c, e);
	if (rc == 0 && c->netconf)   /* checked above */
		nc_address(c->address, c->nc_host, sizeof c->nc_host, &c->nc_port);
	return rc;
}

/* ---------------------------------------------------- node bmc records */

static void bmccfg_from(const struct lyd_node *b, struct bmccfg *c)
{
	memset(c, 0, sizeof *c);
	copy(c->user, sizeof c->user, yc_leaf(b, "user"));
	c->has_password = yc_leaf(b, "password") != NULL;
	copy(c->password, sizeof c->password, yc_leaf(b, "password"));
	copy(c->password_file, sizeof c->password_file, yc_leaf(b, "password-file"));
	copy(c->host, sizeof c->host, yc_leaf(b, "host"));
	c->port = (uint16_t)leaf_ul(b, "port", DEV_BMC_PORT_DEFAULT);
	c->cipher = (uint8_t)leaf_ul(b, "cipher-suite", DEV_BMC_CIPHER_DEFAULT);
	c->channel = (uint8_t)leaf_ul(b, "channel", 0);
}

/* The stored bmc configuration of @node into @c; *@have false when none. */
static int bmccfg_load(struct devd *D, struct store_txn *t, const char *node, struct bmccfg *c, bool *have)
{
	struct lyd_node *tree = NULL, *entry = NULL;
	char *json = NULL;
	*have = false;
	int rc = rec_get(t, D->t_bmc, node, &json);
	if (rc == 0 && json && (rc = node_tree(D->d, node, &tree, &entry)) == 0 && (rc = json_under(entry, json)) == 0) {
		bmccfg_from(yc_child(entry, "bmc"), c);
		*have = true;
	}
	if (json)
		explicit_bzero(json, strlen(json));
	free(json);
	lyd_free_all(tree);
	return rc;
}

static struct bmq *bm_find(struct devd *D, const char *node)
{
	for (size_t i = 0; i < D->n_bm; i++)
		if (!strcmp(D->bm[i]->node, node))
			return D->bm[i];
	return NULL;
}

static struct swq *sw_find(struct devd *D, const char *name)
{
	for (size_t i = 0; i < D->n_sw; i++)
		if (!strcmp(D->sw[i]->name, name))
			return D->sw[i];
	return NULL;
}

/* Whether the worker has work for it (under mu): being worked on, asked
 * for, or a change noted (an error waiting for its retry shows as error). */
static bool sw_pending(const struct swq *q)
{
	return q->busy || q->req_seen > q->done || q->learn_req || (q->dirty && q->state != ST_ERROR);
}

static bool bm_pending(const struct bmq *q)
{
	return q->busy || q->req_seen > q->done || (q->dirty && q->state != ST_ERROR);
}

/* Show "pending" in @holder when the worker has work for it. */
static int overlay_pending(struct lyd_node *holder, bool pending)
{
	struct lyd_node *st = yc_child(holder, "state");
	if (pending)
		return put(holder, "state", state_names[ST_PENDING]);
	return st ? 0 : put(holder, "state", state_names[ST_UNKNOWN]);
}

static int bmc_state_under(struct devd *D, struct store_txn *t, struct lyd_node *entry, const char *node)
{
	struct lyd_node *bmc = yc_child(entry, "bmc"), *tree = NULL, *tent = NULL;
	char *json = NULL;
	int rc = rec_get(t, D->t_bmcst, node, &json);
	if (rc == 0 && json && (rc = node_tree(D->d, node, &tree, &tent)) == 0) {
		if ((rc = json_under(tent, json)) == 0)
			rc = dup_children(yc_child(tent, "bmc"), bmc);
		else if (rc == NETD_ECORRUPT)
			log_err("store: node %s: the stored bmc state does not parse; not shown", node), rc = 0;
	}
	free(json);
	lyd_free_all(tree);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&D->mu);
	struct bmq *q = bm_find(D, node);
	bool pending = q && bm_pending(q);
	pthread_mutex_unlock(&D->mu);
	return overlay_pending(bmc, pending);
}

int devd_node_entry(struct netd *d, struct store_txn *t, struct lyd_node *entry, const char *node, bool state)
{
	struct devd *D = d->devd;
	char *json = NULL;
	if (!D)
		return 0;
	int rc = rec_get(t, D->t_bmc, node, &json);
	if (rc == 0 && json && (rc = json_under(entry, json)) == NETD_ECORRUPT) {
		log_err("store: node %s: the stored bmc configuration does not parse; not shown", node);
		rc = 0;
	} else if (rc == 0 && json) {
		struct lyd_node *b = yc_child(entry, "bmc");   /* defaults, as the node's own leaves have */
		rc = lyd_new_implicit_tree(b, LYD_IMPLICIT_NO_STATE, NULL) == LY_SUCCESS ? 0 : -ENOMEM;
		rc = rc || !state ? rc : bmc_state_under(D, t, entry, node);
	}
	if (json)
		explicit_bzero(json, strlen(json));
	free(json);
	return rc;
}

int devd_node_put(struct netd *d, struct store_txn *t, const struct lyd_node *entry, const char *node,
		  struct ops_result *r)
{
	struct devd *D = d->devd;
	struct lyd_node *b = yc_child(entry, "bmc");
	char *json = NULL, *old = NULL;
	if (!D)
		return 0;
	if (b && (lyd_print_mem(&json, b, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS || !json))
		return fail_oom(r);
	int rc = rec_get(t, D->t_bmc, node, &old);
	bool same = (!json && !old) || (json && old && !strcmp(json, old));
	if (rc == 0 && !same)
		rc = json ? store_put(t, D->t_bmc, node, strlen(node), json, strlen(json)) : rec_drop(t, D->t_bmc, node);
	if (rc == 0 && !same)
		rc = ops_touch_node(&r->touched, node);
	if (json)
		explicit_bzero(json, strlen(json));
	if (old)
		explicit_bzero(old, strlen(old));
	free(json);
	free(old);
	if (rc < 0)
		return ops_fail(r, 500, "operation-failed", rc, NULL, "node %s: bmc: %s", node, netd_strerror(rc));
	return 0;
}

/* ----------------------------------------------------------------- hooks */

static int fail_e(struct ops_result *r, const struct netd_err *e, int rc)
{
	int code = e->code ? e->code : rc;
	if (code == -ENOMEM)
		return fail_oom(r);
	if (code == NETD_EINVAL)
		return ops_fail(r, 400, "invalid-value", code, e->path[0] ? e->path : NULL, "%s", e->msg);
	return ops_fail(r, 500, "operation-failed", code, e->path[0] ? e->path : NULL, "%s",
			e->msg[0] ? e->msg : netd_strerror(code));
}

int devd_doc_check(struct netd *d, struct store_txn *t, const struct lyd_node *top, struct ops_result *r)
{
	const struct lyd_node *ent;
	LY_LIST_FOR(top ? lyd_child(top) : NULL, ent) {
		struct swcfg c;
		struct netd_err e = { 0 };
		if (strcmp(yc_schema_name(ent), "switch"))
			continue;
		int rc = swcfg_from(ent, &c, &e);
		swcfg_clear(&c);
		if (rc < 0)
			return fail_e(r, &e, rc);
	}
	return 0;
}

/* The switches of the stored document (heap array). */
static int conf_load(struct netd *d, struct store_txn *t, struct swcfg **out, size_t *n)
{
	struct lyd_node *top = NULL;
	const struct lyd_node *ent;
	*out = NULL;
	*n = 0;
	int rc = ops_doc_load(d, t, OPS_DOC_SWITCHES, &top);
	size_t cap = 0;
	LY_LIST_FOR(top ? lyd_child(top) : NULL, ent)
		cap++;
	if (rc == 0 && !(*out = calloc(cap ? cap : 1, sizeof **out)))
		rc = -ENOMEM;
	LY_LIST_FOR(rc == 0 && top ? lyd_child(top) : NULL, ent) {
		struct netd_err e = { 0 };
		if (strcmp(yc_schema_name(ent), "switch"))
			continue;
		int x = swcfg_from(ent, &(*out)[*n], &e);
		if (x == -ENOMEM) {
			rc = x;
			break;
		}
		if (x < 0)   /* checked when stored; a newer rule may refuse it now */
			log_err("switch %s: %s; left alone", yc_leaf(ent, "name"), e.msg);
		else
			(*n)++;
	}
	lyd_free_all(top);
	return rc;
}

static void conf_free(struct swcfg *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		swcfg_clear(&v[i]);
	free(v);
}

/* Rename the operator's links naming @from. */
static int rename_links(struct netd *d, struct store_txn *t, const char *from, const char *to, struct ops_result *r)
{
	struct lyd_node *top = NULL, *ent, *l;
	bool changed = false;
	int rc = ops_doc_load(d, t, OPS_DOC_SWITCHES, &top);
	LY_LIST_FOR(rc == 0 && top ? lyd_child(top) : NULL, ent) {
		LY_LIST_FOR(lyd_child(ent), l) {
			struct lyd_node *n = !strcmp(yc_schema_name(l), "link") ? yc_child(l, "node") : NULL;
			if (n && !strcmp(lyd_get_value(n), from)) {
				rc = lyd_change_term(n, to) == LY_SUCCESS ? rc : NETD_EINVAL;
				changed = true;
			}
		}
	}
	if (rc == 0 && changed)
		rc = ops_doc_store(d, t, OPS_DOC_SWITCHES, top, r);
	lyd_free_all(top);
	return rc;
}

/* Request key: kind ('L', 'S', 'B') then the name. */
static size_t req_key(char kind, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%c%s", kind, name);
	return n < 0 ? 0 : (size_t)n;
}

static int req_drop(struct devd *D, struct store_txn *t, char kind, const char *name)
{
	char k[MODEL_NAME_MAX + 2];
	int rc = store_del(t, D->t_req, k, req_key(kind, name, k, sizeof k));
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

/* Keys of @tbl (heap array of names). */
static int table_keys(struct store_txn *t, store_tbl tbl, char (**out)[MODEL_NAME_MAX + 2], size_t *n)
{
	struct store_cursor *c = NULL;
	struct store_val k;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	int rc = store_cursor_open(t, tbl, &c);
	for (int x = rc ? rc : store_cursor_first(c, &k, NULL); rc == 0 && x == 0; x = store_cursor_next(c, &k, NULL)) {
		if (k.n >= MODEL_NAME_MAX + 2)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			void *v = realloc(*out, cap * sizeof **out);
			if (!v) {
				rc = -ENOMEM;
				break;
			}
			*out = v;
		}
		memcpy((*out)[*n], k.p, k.n);
		(*out)[(*n)++][k.n] = '\0';
	}
	store_cursor_close(c);
	return rc;
}

static bool conf_has(const struct swcfg *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return true;
	return false;
}

/* The state and requests of switches the document no longer has go. */
static int drop_stale_switches(struct devd *D, struct store_txn *t)
{
	struct swcfg *cs = NULL;
	size_t ncs = 0, nk = 0, nr = 0;
	char (*keys)[MODEL_NAME_MAX + 2] = NULL, (*reqs)[MODEL_NAME_MAX + 2] = NULL;
	int rc = conf_load(D->d, t, &cs, &ncs);
	rc = rc ? rc : table_keys(t, D->t_sw, &keys, &nk);
	rc = rc ? rc : table_keys(t, D->t_req, &reqs, &nr);
	for (size_t i = 0; rc == 0 && i < nk; i++)
		if (!conf_has(cs, ncs, keys[i]))
			rc = rec_drop(t, D->t_sw, keys[i]);
	for (size_t i = 0; rc == 0 && i < nr; i++)
		if ((reqs[i][0] == 'L' || reqs[i][0] == 'S') && !conf_has(cs, ncs, reqs[i] + 1))
			rc = rec_drop(t, D->t_req, reqs[i]);
	conf_free(cs, ncs);
	free(keys);
	free(reqs);
	return rc;
}

static bool node_exists(struct netd *d, struct store_txn *t, const char *node)
{
	struct store_val v;
	return store_get(t, d->mt.node, node, strlen(node), &v) == 0;
}

int devd_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now,
	     struct ops_result *r)
{
	struct devd *D = d->devd;
	int rc = 0;
	if (!D)
		return 0;
	if ((tc->flags & OPS_T_RENAME) && tc->n_nodes >= 2) {
		char from[MODEL_NAME_MAX], to[MODEL_NAME_MAX], kf[MODEL_NAME_MAX + 2], kt[MODEL_NAME_MAX + 2];
		copy(from, sizeof from, tc->nodes[0]);   /* rename_links may grow tc->nodes */
		copy(to, sizeof to, tc->nodes[1]);
		req_key('B', from, kf, sizeof kf);
		req_key('B', to, kt, sizeof kt);
		rc = rec_move(t, D->t_bmc, from, to);
		rc = rc ? rc : rec_move(t, D->t_bmcst, from, to);
		rc = rc ? rc : rec_move(t, D->t_req, kf, kt);
		rc = rc ? rc : rename_links(d, t, from, to, r);
	}
	for (size_t i = 0; rc == 0 && i < tc->n_nodes; i++) {
		if (node_exists(d, t, tc->nodes[i]))
			continue;
		rc = rec_drop(t, D->t_bmc, tc->nodes[i]);
		rc = rc ? rc : rec_drop(t, D->t_bmcst, tc->nodes[i]);
		rc = rc ? rc : req_drop(D, t, 'B', tc->nodes[i]);
	}
	if (rc == 0 && (tc->docs & OPS_DOC_BIT(OPS_DOC_SWITCHES)))
		rc = drop_stale_switches(D, t);
	if (rc < 0 && !r->err.code)
		return ops_fail(r, 500, "operation-failed", rc, NULL, "devices records: %s", netd_strerror(rc));
	return rc;
}

/* ---- RPCs ---- */

static int next_request(struct devd *D, struct store_txn *t, char kind, const char *name, uint64_t *id)
{
	struct store_val v;
	uint8_t b[8];
	char k[MODEL_NAME_MAX + 2];
	int rc = store_get(t, D->t_req, SEQ_KEY, strlen(SEQ_KEY), &v);
	*id = rc == 0 && v.n == 8 ? be64_get(v.p) + 1 : 1;
	if (rc < 0 && rc != NETD_ENOTFOUND)
		return rc;
	be64_put(b, *id);
	rc = store_put(t, D->t_req, SEQ_KEY, strlen(SEQ_KEY), b, 8);
	return rc ? rc : store_put(t, D->t_req, k, req_key(kind, name, k, sizeof k), b, 8);
}

static int rpc_done(struct devd *D, struct store_txn *t, struct ops_prep *p, char kind, const char *name,
		    struct ops_result *r)
{
	uint64_t id = 0;
	char num[24];
	int rc = next_request(D, t, kind, name, &id);
	snprintf(num, sizeof num, "%" PRIu64, id);
	rc = rc ? rc : ops_rpc_set_output(p, "request-id", num);
	if (rc < 0)
		return ops_fail(r, 500, "operation-failed", rc, NULL, "devices request: %s", netd_strerror(rc));
	r->touched.flags |= OPS_T_DEVICES;
	r->status = 200;
	return 0;
}

static int rpc_switch(struct devd *D, struct store_txn *t, struct ops_prep *p, const char *rpcname, char kind,
		      const struct lyd_node *rpc, struct ops_result *r)
{
	const char *sw = ops_rpc_leaf(rpc, "switch");
	struct swcfg *cs = NULL;
	size_t n = 0;
	char path[128];
	int rc = conf_load(D->d, t, &cs, &n);
	bool have = rc == 0 && conf_has(cs, n, sw);
	conf_free(cs, n);
	if (rc < 0)
		return ops_fail(r, 500, "operation-failed", rc, NULL, "switches: %s", netd_strerror(rc));
	snprintf(path, sizeof path, "/netd:%s/switch", rpcname);
	if (!have)
		return ops_fail(r, 404, "invalid-value", NETD_ENOTFOUND, path, "no switch named '%s'", sw);
	return rpc_done(D, t, p, kind, sw, r);
}

static int rpc_bmc(struct devd *D, struct store_txn *t, struct ops_prep *p, const struct lyd_node *rpc,
		   struct ops_result *r)
{
	const char *node = ops_rpc_leaf(rpc, "node");
	struct store_val v;
	char path[NETD_ERR_PATH_MAX];
	if (!node_exists(D->d, t, node))
		return ops_fail(r, 404, "invalid-value", NETD_ENOTFOUND, "/netd:bmc-sync/node", "no node named '%s'", node);
	if (store_get(t, D->t_bmc, node, strlen(node), &v) != 0)
		return ops_fail(r, 400, "invalid-value", NETD_EINVAL, "/netd:bmc-sync/node",
				"node %s has no bmc configuration (%s)", node, node_path(node, "bmc", path, sizeof path));
	return rpc_done(D, t, p, 'B', node, r);
}

int devd_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	     uint64_t now, struct ops_result *r, bool *handled)
{
	struct devd *D = d->devd;
	*handled = D != NULL;
	if (!D)
		return 0;
	if (!strcmp(name, "netd:switch-learn"))
		return rpc_switch(D, t, p, "switch-learn", 'L', rpc, r);
	if (!strcmp(name, "netd:switch-sync"))
		return rpc_switch(D, t, p, "switch-sync", 'S', rpc, r);
	if (!strcmp(name, "netd:bmc-sync"))
		return rpc_bmc(D, t, p, rpc, r);
	*handled = false;
	return 0;
}

/* ---- GET ---- */

static int sw_state_under(struct devd *D, struct store_txn *t, struct lyd_node *ent, const char *name)
{
	struct lyd_node *tree = NULL, *stored = NULL;
	char *json = NULL, path[NETD_ERR_PATH_MAX];
	int rc = rec_get(t, D->t_sw, name, &json);
	if (rc == 0 && json) {
		if (lyd_parse_data_mem(D->d->ly, json, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, &tree) ==
			    LY_SUCCESS &&
		    lyd_find_path(tree, sw_path(name, "", path, sizeof path), 0, &stored) == LY_SUCCESS)
			rc = dup_children(stored, ent);
		else
			log_err("store: switch %s: the stored state does not parse; not shown", name);
	}
	free(json);
	lyd_free_all(tree);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&D->mu);
	struct swq *q = sw_find(D, name);
	bool pending = q ? sw_pending(q) : D->conf_done != D->conf_gen;
	pthread_mutex_unlock(&D->mu);
	return overlay_pending(ent, pending);
}

int devd_state(struct netd *d, struct store_txn *t, struct lyd_node *top)
{
	struct devd *D = d->devd;
	struct lyd_node *ent;
	int rc = 0;
	LY_LIST_FOR(D && top ? lyd_child(top) : NULL, ent)
		if (rc == 0 && !strcmp(yc_schema_name(ent), "switch"))
			rc = sw_state_under(D, t, ent, yc_leaf(ent, "name"));
	return rc;
}

/* ---- commits ---- */

static int names_add(char (**v)[MODEL_NAME_MAX], size_t *n, size_t *cap, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], name))
			return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		void *nv = realloc(*v, c * sizeof **v);
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	copy((*v)[(*n)++], MODEL_NAME_MAX, name);
	return 0;
}

static void note_rename(struct devd *D, const char *from, const char *to)
{
	if (D->n_renames == D->cap_renames) {
		size_t c = D->cap_renames ? D->cap_renames * 2 : 4;
		void *nv = realloc(D->renames, c * sizeof *D->renames);
		if (!nv) {
			D->all_dirty = true;   /* the next learn repairs the names */
			return;
		}
		D->renames = nv;
		D->cap_renames = c;
	}
	copy(D->renames[D->n_renames][0], MODEL_NAME_MAX, from);
	copy(D->renames[D->n_renames++][1], MODEL_NAME_MAX, to);
}

void devd_committed(struct netd *d, const struct ops_touched *tc)
{
	struct devd *D = d->devd;
	if (!D)
		return;
	bool any = tc->n_nodes || tc->n_nets || (tc->flags & (OPS_T_NETWORKS_ALL | OPS_T_DEVICES)) ||
		   (tc->docs & OPS_DOC_BIT(OPS_DOC_SWITCHES));
	if (!any)
		return;
	pthread_mutex_lock(&D->mu);
	if (tc->docs & OPS_DOC_BIT(OPS_DOC_SWITCHES))
		D->conf_gen++;
	if (tc->n_nets || (tc->flags & OPS_T_NETWORKS_ALL))
		D->all_dirty = true;
	if (tc->flags & OPS_T_DEVICES)
		D->req_changed = true;
	if ((tc->flags & OPS_T_RENAME) && tc->n_nodes >= 2)
		note_rename(D, tc->nodes[0], tc->nodes[1]);
	for (size_t i = 0; i < tc->n_nodes; i++)
		if (names_add(&D->nodes, &D->n_nodes, &D->cap_nodes, tc->nodes[i]) < 0)
			D->all_dirty = true;
	if (tc->n_nodes)
		D->bmc_scan = true;
	uint64_t now = loop_now_ms();
	if (!D->settle_first)
		D->settle_first = now;
	D->settle_until = now + DEVD_SETTLE_MS;
	if (D->settle_until > D->settle_first + DEVD_SETTLE_MAX_MS)   /* a steady stream of commits */
		D->settle_until = D->settle_first + DEVD_SETTLE_MAX_MS;
	pthread_cond_signal(&D->cond);
	pthread_mutex_unlock(&D->mu);
}

/* ------------------------------------------------------------ node facts */

struct nnic {
	char name[DEV_IFNAME_MAX];
	uint8_t mac[6], perm[6];
	bool has_mac, has_perm;
};

struct ndev {
	char name[DEV_IFNAME_MAX], master[DEV_IFNAME_MAX], kind[8], mode[16];
	char conduit[MODEL_NAME_MAX];
};

/* What the model says of a node. */
struct nfact {
	char name[MODEL_NAME_MAX];
	bool exists, has_admin_mac;
	uint8_t admin_mac[6];
	struct model_network *nets;     /* its networks that exist */
	size_t n_nets;
	struct nnic *nics;              /* its inventory */
	size_t n_nics;
	struct ndev *devs;              /* its conduit plan's devices */
	size_t n_devs;
};

static void nfact_clear(struct nfact *f)
{
	for (size_t i = 0; i < f->n_nets; i++)
		model_network_clear(&f->nets[i]);
	free(f->nets);
	free(f->nics);
	free(f->devs);
	memset(f, 0, sizeof *f);
}

static size_t count_named(const struct lyd_node *n, const char *name)
{
	size_t k = 0;
	const struct lyd_node *c;
	LY_LIST_FOR(n ? lyd_child(n) : NULL, c)
		k += !strcmp(yc_schema_name(c), name);
	return k;
}

static int nfact_nics(struct nfact *f, const struct lyd_node *inv)
{
	const struct lyd_node *c;
	if (!(f->nics = calloc(count_named(inv, "nic") + 1, sizeof *f->nics)))
		return -ENOMEM;
	LY_LIST_FOR(inv ? lyd_child(inv) : NULL, c) {
		if (strcmp(yc_schema_name(c), "nic"))
			continue;
		struct nnic *n = &f->nics[f->n_nics++];
		copy(n->name, sizeof n->name, yc_leaf(c, "name"));
		n->has_mac = mac_parse(yc_leaf(c, "mac"), n->mac);
		n->has_perm = mac_parse(yc_leaf(c, "permanent-mac"), n->perm) && !mac_zero(n->perm);
	}
	return 0;
}

static int nfact_devs(struct nfact *f, const struct lyd_node *plan)
{
	const struct lyd_node *c;
	if (!(f->devs = calloc(count_named(plan, "device") + 1, sizeof *f->devs)))
		return -ENOMEM;
	LY_LIST_FOR(plan ? lyd_child(plan) : NULL, c) {
		if (strcmp(yc_schema_name(c), "device"))
			continue;
		struct ndev *v = &f->devs[f->n_devs++];
		copy(v->name, sizeof v->name, yc_leaf(c, "name"));
		copy(v->master, sizeof v->master, yc_leaf(c, "master"));
		copy(v->kind, sizeof v->kind, yc_leaf(c, "kind"));
		copy(v->mode, sizeof v->mode, yc_leaf(c, "bond-mode"));
		copy(v->conduit, sizeof v->conduit, yc_leaf(c, "conduit"));
	}
	return 0;
}

/* The node's inventory and conduit plan, as cdtd shows them. */
static int nfact_reported(struct netd *d, struct store_txn *t, struct nfact *f)
{
	struct lyd_node *tree = NULL, *entry = NULL;
	int rc = node_tree(d, f->name, &tree, &entry);
	rc = rc ? rc : cdtd_node_state(d, t, entry, f->name);
	rc = rc ? rc : nfact_nics(f, yc_child(entry, "inventory"));
	rc = rc ? rc : nfact_devs(f, yc_child(yc_child(entry, "conduit-state"), "plan"));
	lyd_free_all(tree);
	return rc;
}

static int nfact_load(struct netd *d, struct store_txn *t, const char *name, struct nfact *f)
{
	struct model_node n = { 0 };
	memset(f, 0, sizeof *f);
	copy(f->name, sizeof f->name, name);
	int rc = model_node_get(&d->mt, t, name, &n);
	if (rc == NETD_ENOTFOUND)
		return 0;
	f->exists = rc == 0;
	f->has_admin_mac = n.has_admin_mac;
	memcpy(f->admin_mac, n.admin_mac, 6);
	if (rc == 0 && !(f->nets = calloc(n.n_nets + 1, sizeof *f->nets)))
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n.n_nets; i++) {
		int x = model_network_get(&d->mt, t, n.nets[i].network, &f->nets[f->n_nets]);
		if (x == 0)
			f->n_nets++;
		else if (x != NETD_ENOTFOUND)
			rc = x;
	}
	model_node_clear(&n);
	rc = rc ? rc : nfact_reported(d, t, f);
	if (rc < 0)
		nfact_clear(f);
	return rc;
}

/* The NIC name of MAC @mac: inventory (permanent MAC first), else the admin MAC. */
static const char *nfact_nic_by_mac(const struct nfact *f, const uint8_t mac[6])
{
	for (size_t i = 0; i < f->n_nics; i++)
		if ((f->nics[i].has_perm && !memcmp(f->nics[i].perm, mac, 6)) ||
		    (f->nics[i].has_mac && !memcmp(f->nics[i].mac, mac, 6)))
			return f->nics[i].name;
	return f->has_admin_mac && !memcmp(f->admin_mac, mac, 6) ? DEVD_NIC_ADMIN : NULL;
}

static const struct ndev *nfact_dev(const struct nfact *f, const char *name)
{
	for (size_t i = 0; i < f->n_devs; i++)
		if (!strcmp(f->devs[i].name, name))
			return &f->devs[i];
	return NULL;
}

/* Facts of several nodes, each loaded once. */
struct facts {
	struct nfact *v;
	size_t n, cap;
};

static void facts_clear(struct facts *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		nfact_clear(&fs->v[i]);
	free(fs->v);
	memset(fs, 0, sizeof *fs);
}

static int facts_get(struct netd *d, struct store_txn *t, struct facts *fs, const char *name, const struct nfact **out)
{
	for (size_t i = 0; i < fs->n; i++)
		if (!strcmp(fs->v[i].name, name)) {
			*out = &fs->v[i];
			return 0;
		}
	if (fs->n == fs->cap) {
		size_t c = fs->cap ? fs->cap * 2 : 8;
		void *nv = realloc(fs->v, c * sizeof *fs->v);
		if (!nv)
			return -ENOMEM;
		fs->v = nv;
		fs->cap = c;
	}
	int rc = nfact_load(d, t, name, &fs->v[fs->n]);
	if (rc == 0)
		*out = &fs->v[fs->n++];
	return rc;
}

/* ----------------------------------------------------------------- links */

/* One link considered for a port. */
struct cand {
	unsigned port;
	int source;
	char node[MODEL_NAME_MAX];
	char nic[NIC_TEXT_MAX];             /* as configured or learned */
	char nicname[DEV_IFNAME_MAX];       /* resolved */
	uint8_t mac[6];
	char conduit[MODEL_NAME_MAX];       /* the operator's */
	struct learned *lrn;                /* a learned one's record (for its note) */
	bool dropped, ok;
	char refused[NETD_ERR_MSG_MAX];
	struct dev_net *nets;
	size_t n_nets;
	char bond[DEV_IFNAME_MAX];
	uint8_t team_mode;
};

struct linkset {
	struct cand *c;
	size_t n;
	struct dev_link *links;             /* the accepted ones */
	struct dev_nic *nics;
	size_t n_ok;
};

static void linkset_clear(struct linkset *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->c[i].nets);
	free(ls->c);
	free(ls->links);
	free(ls->nics);
	memset(ls, 0, sizeof *ls);
}

static void refuse(struct cand *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct cand *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->refused, sizeof c->refused, fmt, ap);
	va_end(ap);
	c->ok = false;
}

static int cands_from(struct swq *q, struct linkset *ls)
{
	if (!(ls->c = calloc(q->cfg.n_links + q->n_learned + 1, sizeof *ls->c)))
		return -ENOMEM;
	for (size_t i = 0; i < q->cfg.n_links; i++) {
		struct cand *c = &ls->c[ls->n++];
		const struct swlink *l = &q->cfg.links[i];
		*c = (struct cand){ .port = l->port, .source = SRC_OPERATOR, .ok = true };
		copy(c->node, sizeof c->node, l->node);
		copy(c->nic, sizeof c->nic, l->nic);
		copy(c->conduit, sizeof c->conduit, l->conduit);
	}
	for (size_t i = 0; i < q->n_learned; i++) {
		struct cand *c = &ls->c[ls->n++];
		struct learned *l = &q->learned[i];
		*c = (struct cand){ .port = l->port, .source = l->source, .lrn = l, .ok = true };
		copy(c->node, sizeof c->node, l->node);
		copy(c->nic, sizeof c->nic, l->nic);
		memcpy(c->mac, l->mac, 6);
		l->note[0] = '\0';
	}
	return 0;
}

/* The NIC's name from what the link says. */
static void resolve_nic(const struct swcfg *sw, struct cand *c, const struct nfact *f)
{
	uint8_t mac[6];
	if (!mac_parse(c->nic, mac)) {
		if (strlen(c->nic) >= DEV_IFNAME_MAX)
			refuse(c, "switch %s port %u: NIC '%s' of node %s: a NIC name has at most %d characters", sw->name,
			       c->port, c->nic, c->node, DEV_IFNAME_MAX - 1);
		copy(c->nicname, sizeof c->nicname, c->nic);
		return;
	}
	memcpy(c->mac, mac, 6);
	const char *name = f->exists ? nfact_nic_by_mac(f, mac) : NULL;
	if (name)
		copy(c->nicname, sizeof c->nicname, name);
	else if (f->exists)
		refuse(c, "switch %s port %u: node %s has no NIC with MAC %s (its inventory, or admin-mac)", sw->name,
		       c->port, c->node, c->nic);
}

/* The conduits of the node's networks other than bmc, as "a, b". */
static size_t other_conduits(const struct nfact *f, char *buf, size_t len, const char **one)
{
	size_t k = 0, w = 0;
	buf[0] = '\0';
	*one = NULL;
	for (size_t i = 0; i < f->n_nets; i++) {
		const char *cn = f->nets[i].conduit;
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(f->nets[j].conduit, cn);
		if (!cn[0] || !strcmp(cn, DEVD_BMC_CONDUIT) || seen)
			continue;
		*one = cn;
		k++;
		int n = snprintf(buf + w, w < len ? len - w : 0, "%s%s", w ? ", " : "", cn);
		w += n > 0 ? (size_t)n : 0;
	}
	return k;
}

/* The conduit the NIC serves (see devd.h), or NULL (refused or none). */
static const char *nic_conduit(const struct swcfg *sw, struct cand *c, const struct nfact *f)
{
	const struct ndev *v = nfact_dev(f, c->nicname);
	const struct ndev *m = v && v->master[0] ? nfact_dev(f, v->master) : NULL;
	if (m && !strcmp(m->kind, "bond")) {
		copy(c->bond, sizeof c->bond, m->name);
		if (m->mode[0])
			model_team_mode_parse(m->mode, &c->team_mode);
	}
	if (c->conduit[0])
		return c->conduit;
	if (v && v->conduit[0])
		return v->conduit;
	if (m && m->conduit[0])
		return m->conduit;
	char list[TEXT_SHORT];
	const char *one = NULL;
	size_t k = other_conduits(f, list, sizeof list, &one);
	if (k > 1)
		refuse(c, "switch %s port %u: node %s NIC %s: its conduit is unknown: the node's networks ride conduits %s "
			  "(set the link's conduit, or let the node's agent fetch its conduit plan)",
		       sw->name, c->port, c->node, c->nicname, list);
	return k == 1 ? one : NULL;
}

/* The networks of the NIC into c->nets. */
static int resolve_nets(const struct swcfg *sw, struct cand *c, const struct nfact *f)
{
	if (!f->exists)
		return 0;   /* released */
	const char *cn = nic_conduit(sw, c, f);
	if (!cn || !c->ok)
		return 0;
	if (!(c->nets = calloc(f->n_nets + 1, sizeof *c->nets)))
		return -ENOMEM;
	for (size_t i = 0; i < f->n_nets; i++) {
		if (strcmp(f->nets[i].conduit, cn))
			continue;
		struct dev_net *n = &c->nets[c->n_nets++];
		copy(n->name, sizeof n->name, f->nets[i].name);
		n->vlan = f->nets[i].vlan;
		n->use_vlan = f->nets[i].use_vlan;
	}
	return 0;
}

static void to_dev(const struct cand *c, struct dev_link *l, struct dev_nic *n)
{
	memset(l, 0, sizeof *l);
	memset(n, 0, sizeof *n);
	l->port = c->port;
	copy(l->node, sizeof l->node, c->node);
	copy(l->nic, sizeof l->nic, c->nicname);
	memcpy(l->mac, c->mac, 6);
	copy(n->node, sizeof n->node, c->node);
	copy(n->nic, sizeof n->nic, c->nicname);
	copy(n->bond, sizeof n->bond, c->bond);
	n->team_mode = c->team_mode;
	n->nets = c->nets;
	n->n_nets = c->n_nets;
}

/* The operator's links win: a learned link on their port, or of a NIC they
 * place, is dropped. */
static void drop_overridden(struct linkset *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		struct cand *l = &ls->c[i];
		for (size_t k = 0; l->source != SRC_OPERATOR && k < ls->n && !l->dropped; k++) {
			const struct cand *o = &ls->c[k];
			if (o->source != SRC_OPERATOR)
				continue;
			if (o->port == l->port)
				snprintf(l->lrn->note, sizeof l->lrn->note, "overridden by the operator's link on port %u",
					 o->port);
			else if (!strcmp(o->node, l->node) && o->nicname[0] && !strcmp(o->nicname, l->nicname))
				snprintf(l->lrn->note, sizeof l->lrn->note, "the operator links %s %s to port %u",
					 o->node, o->nicname, o->port);
			else
				continue;
			l->dropped = true;
		}
	}
}

/* Each link alone against the guardrails (the library's own checks). */
static int check_alone(const struct dev_switch *sw, struct cand *c)
{
	struct dev_link l;
	struct dev_nic n;
	struct dev_desired d = { 0 };
	struct netd_err e = { 0 };
	to_dev(c, &l, &n);
	int rc = dev_desired(sw, &l, 1, &n, 1, &d, &e);
	dev_desired_free(&d);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		refuse(c, "%s", e.msg);
	return 0;
}

/* The switch's links, resolved and checked: ls->links/nics the accepted. */
static int links_build(struct devd *D, struct swq *q, const struct dev_switch *sw, struct linkset *ls)
{
	struct store_txn *t = NULL;
	struct facts fs = { 0 };
	int rc = cands_from(q, ls);
	rc = rc ? rc : store_read_begin(D->d->store, &t);
	for (size_t i = 0; i < ls->n && rc == 0; i++) {
		const struct nfact *f = NULL;
		if ((rc = facts_get(D->d, t, &fs, ls->c[i].node, &f)) == 0)
			resolve_nic(&q->cfg, &ls->c[i], f);
	}
	if (rc == 0)
		drop_overridden(ls);   /* the operator's links win */
	for (size_t i = 0; i < ls->n && rc == 0; i++) {
		const struct nfact *f = NULL;
		struct cand *c = &ls->c[i];
		if (c->dropped || !c->ok || (rc = facts_get(D->d, t, &fs, c->node, &f)) < 0)
			continue;
		rc = resolve_nets(&q->cfg, c, f);
		if (!f->exists && c->lrn)
			snprintf(c->lrn->note, sizeof c->lrn->note, "node %s is not in the model: its port is released",
				 c->node);
	}
	store_read_end(t);
	facts_clear(&fs);
	ls->links = calloc(ls->n + 1, sizeof *ls->links);
	ls->nics = calloc(ls->n + 1, sizeof *ls->nics);
	if (rc == 0 && (!ls->links || !ls->nics))
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < ls->n; i++) {
		struct cand *c = &ls->c[i];
		if (c->dropped || !c->ok || (rc = check_alone(sw, c)) < 0 || !c->ok)
			continue;
		to_dev(c, &ls->links[ls->n_ok], &ls->nics[ls->n_ok]);
		ls->n_ok++;
	}
	for (size_t i = 0; i < ls->n; i++)
		if (ls->c[i].lrn && !ls->c[i].dropped && !ls->c[i].ok)
			copy(ls->c[i].lrn->note, sizeof ls->c[i].lrn->note, ls->c[i].refused);
	return rc;
}

/* ----------------------------------------------------------- switch work */

static void dev_switch_of(const struct swcfg *c, struct dev_switch *sw)
{
	memset(sw, 0, sizeof *sw);
	copy(sw->name, sizeof sw->name, c->name);
	sw->vlans = c->vlans;
	sw->n_vlans = c->n_vlans;
	sw->ports = c->ports;
	sw->n_ports = c->n_ports;
	sw->idle_vlan = c->idle_vlan;
}

static int snmp_open(const struct swcfg *c, struct dev_snmp **s, struct netd_err *e)
{
	if (c->netconf)
		return netd_err_set(e, NETD_EUNSUPPORTED, NULL,
				    "switch %s (%s, driver netconf): link learning needs SNMP (LLDP-MIB, FDB); set its links "
				    "by hand (link list)", c->name, c->address);
	struct dev_snmp_cfg cfg = {
		.name = c->name, .peer = c->address, .version = c->version, .user = c->user, .auth = c->auth,
		.auth_pass = c->auth_key, .priv = DEV_PRIV_AES128, .priv_pass = c->priv_key, .community = c->community,
		.timeout_ms = c->timeout_ms, .retries = c->retries,
	};
	return dev_snmp_open(&cfg, s, e);
}

/* The NIC-MAC table of every node (inventory NICs by permanent MAC, else
 * current MAC; an admin MAC no NIC has as NIC "admin"). */
struct nicmacs {
	struct dev_nicmac *v;
	size_t n, cap;
	char (*nodes)[MODEL_NAME_MAX];
	size_t n_nodes, cap_nodes;
};

static int nicmac_add(struct nicmacs *m, const char *node, const char *nic, const uint8_t mac[6])
{
	if (m->n == m->cap) {
		size_t c = m->cap ? m->cap * 2 : 64;
		void *nv = realloc(m->v, c * sizeof *m->v);
		if (!nv)
			return -ENOMEM;
		m->v = nv;
		m->cap = c;
	}
	struct dev_nicmac *x = &m->v[m->n++];
	memset(x, 0, sizeof *x);
	copy(x->node, sizeof x->node, node);
	copy(x->nic, sizeof x->nic, nic);
	memcpy(x->mac, mac, 6);
	return 0;
}

static int node_name_cb(const struct model_node *n, void *arg)
{
	struct nicmacs *m = arg;
	return names_add(&m->nodes, &m->n_nodes, &m->cap_nodes, n->name);
}

static int nicmacs_load(struct devd *D, struct nicmacs *m)
{
	struct store_txn *t = NULL;
	int rc = store_read_begin(D->d->store, &t);
	rc = rc ? rc : model_node_each(&D->d->mt, t, NULL, node_name_cb, m);
	for (size_t i = 0; rc == 0 && i < m->n_nodes; i++) {
		struct nfact f;
		if ((rc = nfact_load(D->d, t, m->nodes[i], &f)) < 0)
			break;
		bool admin_seen = false;
		for (size_t k = 0; rc == 0 && k < f.n_nics; k++) {
			const struct nnic *n = &f.nics[k];
			if (!n->has_perm && !n->has_mac)
				continue;
			const uint8_t *mac = n->has_perm ? n->perm : n->mac;
			admin_seen |= f.has_admin_mac && !memcmp(mac, f.admin_mac, 6);
			rc = nicmac_add(m, f.name, n->name, mac);
		}
		if (rc == 0 && f.has_admin_mac && !admin_seen)
			rc = nicmac_add(m, f.name, DEVD_NIC_ADMIN, f.admin_mac);
		nfact_clear(&f);
	}
	store_read_end(t);
	return rc;
}

static bool nicmacs_node(const struct nicmacs *m, const char *node)
{
	for (size_t i = 0; i < m->n_nodes; i++)
		if (!strcmp(m->nodes[i], node))
			return true;
	return false;
}

static bool learned_same(const struct learned *a, size_t na, const struct learned *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].port != b[i].port || a[i].source != b[i].source || strcmp(a[i].node, b[i].node) ||
		    strcmp(a[i].nic, b[i].nic))
			return false;
	return true;
}

static int cmp_learned(const void *a, const void *b)
{
	const struct learned *x = a, *y = b;
	return (x->port > y->port) - (x->port < y->port);
}

/* The new learned links: what was learned, plus earlier links of nodes
 * that left the model on ports nothing was learned on (their ports stay
 * managed, released). */
static int learned_merge(struct swq *q, const struct dev_learn_result *res, const struct nicmacs *m,
			 struct learned **out, size_t *n_out)
{
	struct learned *v = calloc(res->n_links + q->n_learned + 1, sizeof *v);
	size_t n = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < res->n_links; i++) {
		const struct dev_learned *l = &res->links[i];
		struct learned *x = &v[n++];
		x->port = l->link.port;
		copy(x->node, sizeof x->node, l->link.node);
		copy(x->nic, sizeof x->nic, l->link.nic);
		memcpy(x->mac, l->link.mac, 6);
		x->source = l->source == DEV_LINK_LLDP ? SRC_LLDP : SRC_FDB;
		copy_printable(x->evidence, sizeof x->evidence, l->evidence);
		for (size_t k = 0; k < q->n_learned; k++)   /* its note holds until the next reconcile */
			if (q->learned[k].port == x->port && !strcmp(q->learned[k].node, x->node) &&
			    !strcmp(q->learned[k].nic, x->nic))
				copy(x->note, sizeof x->note, q->learned[k].note);
	}
	for (size_t i = 0; i < q->n_learned; i++) {
		const struct learned *o = &q->learned[i];
		bool taken = false;
		for (size_t k = 0; k < res->n_links; k++)
			taken |= res->links[k].link.port == o->port;
		if (!taken && !nicmacs_node(m, o->node))
			v[n++] = *o;
	}
	qsort(v, n, sizeof *v, cmp_learned);
	*out = v;
	*n_out = n;
	return 0;
}

/* Learn the links; *@changed when they differ from the kept ones. */
static int sw_learn(struct devd *D, struct swq *q, bool *changed, struct netd_err *e)
{
	struct nicmacs m = { 0 };
	struct dev_snmp *s = NULL;
	struct dev_learn_result res = { 0 };
	struct learned *v = NULL;
	size_t n = 0;
	*changed = false;
	if (q->cfg.netconf)   /* the error naming what learning needs */
		return snmp_open(&q->cfg, &s, e);
	int rc = nicmacs_load(D, &m);
	if (rc < 0)
		netd_err_set(e, rc, NULL, "switch %s: the nodes' NICs: %s", q->name, netd_strerror(rc));
	rc = rc ? rc : snmp_open(&q->cfg, &s, e);
	rc = rc ? rc : dev_snmp_learn(s, m.v, m.n, &res, e);
	dev_snmp_close(s);
	rc = rc ? rc : learned_merge(q, &res, &m, &v, &n);
	if (rc == 0) {
		*changed = !learned_same(q->learned, q->n_learned, v, n);
		for (size_t i = 0; i < res.n_notes; i++)
			log_debug("switch %s: learning port %u: %s", q->name, res.notes[i].port, res.notes[i].text);
		if (*changed)
			log_info("switch %s: %zu links learned (%zu LLDP/FDB notes)", q->name, n, res.n_notes);
		free(q->learned);
		q->learned = v;
		q->n_learned = n;
		q->last_learn = wall_now_s();
	}
	dev_learn_result_free(&res);
	free(m.v);
	free(m.nodes);
	return rc;
}

static const struct cand *cand_on(const struct linkset *ls, unsigned port)
{
	const struct cand *best = NULL;
	for (size_t i = 0; i < ls->n; i++)
		if (ls->c[i].port == port && !ls->c[i].dropped && (!best || ls->c[i].ok))
			best = &ls->c[i];
	return best;
}

static const struct dev_port_want *want_on(const struct dev_desired *d, unsigned port)
{
	for (size_t i = 0; d && i < d->n_ports; i++)
		if (d->ports[i].port == port)
			return &d->ports[i];
	return NULL;
}

/* The link on the port and what netd wants of it. */
static void row_want(struct portrow *r, const struct cand *c, const struct dev_desired *d)
{
	if (c) {
		copy(r->node, sizeof r->node, c->node);
		copy(r->nic, sizeof r->nic, c->nicname[0] ? c->nicname : c->nic);
		r->source = c->source;
		r->managed = c->ok;
		if (!c->ok)
			copy(r->refused, sizeof r->refused, c->refused);
	}
	const struct dev_port_want *w = want_on(d, r->port);
	if (w) {
		r->wanted = true;
		r->want_pvid = w->pvid;
		vlans_text(&w->tagged, r->want_tagged, sizeof r->want_tagged);
	}
}

static void row_fill(struct portrow *r, const struct dev_snmp_state *st, const struct dev_port_info *pi,
		     const struct cand *c, const struct dev_desired *d)
{
	struct dev_vlanset tagged;
	memset(&tagged, 0, sizeof tagged);
	r->port = pi->port;
	r->ifindex = pi->ifindex;
	copy_printable(r->name, sizeof r->name, pi->ifname);
	copy_printable(r->alias, sizeof r->alias, pi->alias);
	r->pvid = pi->port <= DEV_PORTS_MAX ? st->actual.pvid[pi->port] : 0;
	for (size_t k = 0; k < st->actual.n_rows; k++) {
		const struct dev_vlan_row *row = &st->actual.rows[k];
		if (dev_portlist_test(&row->egress, pi->port) && !dev_portlist_test(&row->untagged, pi->port))
			dev_vlanset_add(&tagged, row->vlan);
	}
	vlans_text(&tagged, r->tagged, sizeof r->tagged);
	row_want(r, c, d);
}

/* The ports as read, with their links and wants. */
static int rows_build(struct swq *q, const struct dev_snmp_state *st, const struct linkset *ls,
		      const struct dev_desired *d)
{
	struct portrow *v = calloc(st->n_ports + ls->n + 1, sizeof *v);
	size_t n = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < st->n_ports; i++)
		row_fill(&v[n++], st, &st->ports[i], cand_on(ls, st->ports[i].port), d);
	for (size_t i = 0; i < ls->n; i++) {   /* links to ports the switch does not list */
		const struct cand *c = &ls->c[i];
		if (c->dropped || dev_snmp_port(st, c->port) || c != cand_on(ls, c->port))
			continue;
		struct dev_port_info pi = { .port = c->port };
		row_fill(&v[n++], st, &pi, c, d);
	}
	free(q->rows);
	q->rows = v;
	q->n_rows = n;
	q->bridge_ports = st->actual.nports;
	return 0;
}

static void apply_from(struct apply_counts *a, const struct dev_snmp_report *rep)
{
	memset(a, 0, sizeof *a);
	a->steps = (uint32_t)rep->n_steps;
	a->applied = (uint32_t)rep->n_applied;
	a->set_pdus = rep->set_pdus;
	a->set_varbinds = rep->set_varbinds;
	a->read_walks = rep->read_walks;
	a->undo_pdus = rep->undo_pdus;
	a->verified = rep->verified || !rep->n_steps;   /* nothing to send: the read matched */
	if (rep->n_steps)
		dev_snmp_report_text(rep, a->summary, sizeof a->summary);
	else
		copy(a->summary, sizeof a->summary, "nothing to change");
}

static void log_lags(const struct swq *q, const struct dev_desired *d)
{
	for (size_t i = 0; i < d->n_lags; i++)
		log_warn("switch %s: bond %s of node %s (%s) over %zu ports needs a LAG: not supported over SNMP", q->name,
			 d->lags[i].bond, d->lags[i].node, model_team_mode_name(d->lags[i].team_mode), d->lags[i].n_ports);
}

/* ---- the NETCONF driver (devices/nc.h) ---- */

/* The session settings of netconf switch @c (pointing into it). */
static void nc_cfg_of(const struct swcfg *c, struct dev_nc_cfg *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->name = c->name;
	cfg->host = c->nc_host;
	cfg->port = c->nc_port;
	cfg->user = c->nc_user;
	cfg->key_file = c->nc_key_file[0] ? c->nc_key_file : NULL;
	cfg->password = cfg->key_file ? NULL : c->nc_password;
	cfg->known_hosts = c->nc_known_hosts[0] ? c->nc_known_hosts : NULL;   /* NULL: unchecked (lab use) */
	cfg->timeout_ms = c->nc_timeout_ms;
}

/* The bridge port interface @name stands for (as dev_nc_port_name()
 * names ports), 0 = none (a LAG, a VLAN interface...). */
static unsigned nc_port_of(const struct dev_nc_cfg *cfg, const char *name)
{
	const char *p = name + strcspn(name, "0123456789");
	char *end = NULL, buf[DEV_NC_IFNAME_MAX];
	if (!*p || *p == '0')
		return 0;
	unsigned long v = strtoul(p, &end, 10);
	if (v < 1 || v > DEV_PORTS_MAX || dev_nc_port_name(cfg, (unsigned)v, false, buf, sizeof buf) < 0 ||
	    strcmp(buf, name))
		return 0;
	return (unsigned)v;
}

static void row_fill_nc(struct portrow *r, unsigned port, const struct dev_nc_if *f, const struct cand *c,
			const struct dev_desired *d)
{
	r->port = port;
	if (f) {
		const struct dev_nc_swvlan *v = &f->vlan;
		copy_printable(r->name, sizeof r->name, f->name);
		r->pvid = v->mode == DEV_NC_MODE_TRUNK ? v->native_vlan : v->access_vlan;
		if (v->mode == DEV_NC_MODE_TRUNK)
			vlans_text(&v->trunk, r->tagged, sizeof r->tagged);
	}
	row_want(r, c, d);
}

/* The ports of a netconf switch as read, with their links and wants. */
static int rows_build_nc(struct swq *q, const struct dev_nc_cfg *cfg, const struct dev_nc_state *st,
			 const struct linkset *ls, const struct dev_desired *d)
{
	struct portrow *v = calloc(st->n_ifs + ls->n + 1, sizeof *v);
	size_t n = 0;
	unsigned nports = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < st->n_ifs; i++) {
		unsigned p = nc_port_of(cfg, st->ifs[i].name);
		if (!p)
			continue;
		nports = p > nports ? p : nports;
		row_fill_nc(&v[n++], p, &st->ifs[i], cand_on(ls, p), d);
	}
	for (size_t i = 0; i < ls->n; i++) {   /* links to ports the switch does not list */
		const struct cand *c = &ls->c[i];
		char name[DEV_NC_IFNAME_MAX];
		if (c->dropped || c != cand_on(ls, c->port) ||
		    (dev_nc_port_name(cfg, c->port, false, name, sizeof name) == 0 && dev_nc_state_if(st, name)))
			continue;
		row_fill_nc(&v[n++], c->port, NULL, c, d);
	}
	free(q->rows);
	q->rows = v;
	q->n_rows = n;
	q->bridge_ports = nports;
	return 0;
}

static unsigned nc_nports(const struct dev_nc_cfg *cfg, const struct dev_nc_state *st)
{
	unsigned nports = 0;
	for (size_t i = 0; i < st->n_ifs; i++) {
		unsigned p = nc_port_of(cfg, st->ifs[i].name);
		nports = p > nports ? p : nports;
	}
	return nports;
}

static void apply_from_nc(struct apply_counts *a, const struct dev_nc_report *rep, const struct dev_nc_stats *ns,
			  bool ok)
{
	memset(a, 0, sizeof *a);
	a->steps = (uint32_t)rep->n_changes;
	a->applied = ok ? (uint32_t)rep->n_changes : 0;
	a->read_walks = (uint32_t)ns->get_configs;
	a->undo_pdus = (uint32_t)ns->cancels;
	a->verified = ok && (rep->verified || !rep->n_changes);
	if (!rep->n_changes) {
		copy(a->summary, sizeof a->summary, "nothing to change");
		return;
	}
	snprintf(a->summary, sizeof a->summary, "%.400s (%u edit-config%s to %s%s%s)", rep->text, rep->edit_configs,
		 rep->edit_configs == 1 ? "" : "s", rep->candidate ? "candidate" : "running",
		 rep->confirmed ? ", confirmed commit" : rep->candidate ? ", commit" : "",
		 rep->verified ? ", verified" : "");
}

/* Read, plan, apply over NETCONF: dev_nc_apply() reads running, plans,
 * commits and reads back itself. */
static int sw_reconcile_nc(struct devd *D, struct swq *q, struct netd_err *e)
{
	struct dev_nc_cfg cfg;
	struct dev_nc *s = NULL;
	struct dev_nc_state st = { 0 }, st2 = { 0 };
	struct dev_desired want = { 0 };
	struct dev_nc_report rep;
	struct dev_nc_stats ns = { 0 };
	struct linkset ls = { 0 };
	struct dev_switch sw;
	struct netd_err e2 = { 0 };
	memset(&rep, 0, sizeof rep);
	nc_cfg_of(&q->cfg, &cfg);
	dev_switch_of(&q->cfg, &sw);
	int rc = dev_nc_open(&cfg, &s, e);
	rc = rc ? rc : dev_nc_read(s, &st, e);
	bool have_state = rc == 0;
	sw.nports = have_state ? nc_nports(&cfg, &st) : 0;
	if (rc == 0 && (rc = links_build(D, q, &sw, &ls)) < 0)
		netd_err_set(e, rc, NULL, "switch %s: links: %s", q->name, netd_strerror(rc));
	rc = rc ? rc : dev_desired(&sw, ls.links, ls.n_ok, ls.nics, ls.n_ok, &want, e);
	if (rc == 0) {
		rc = dev_nc_apply(s, &sw, &want, 0, &rep, e);
		if (rep.n_changes && dev_nc_read(s, &st2, &e2) == 0) {
			dev_nc_state_free(&st);
			st = st2;
		}
	}
	if (s)
		dev_nc_stats(s, &ns);
	if (rc == 0 || rep.n_changes) {
		apply_from_nc(&q->apply, &rep, &ns, rc == 0);
		q->have_apply = true;
	}
	if (have_state && rows_build_nc(q, &cfg, &st, &ls, rc == 0 ? &want : NULL) < 0 && rc == 0)
		rc = netd_err_set(e, -ENOMEM, NULL, "%s", "out of memory");
	if (rc == 0 && rep.notes[0])
		log_warn("switch %s: %s", q->name, rep.notes);
	dev_nc_close(s);
	dev_desired_free(&want);
	dev_nc_state_free(&st);
	linkset_clear(&ls);
	return rc;
}

/* Read, plan, apply, read again (see devd.h). */
static int sw_reconcile(struct devd *D, struct swq *q, struct netd_err *e)
{
	if (q->cfg.netconf)
		return sw_reconcile_nc(D, q, e);
	struct dev_snmp *s = NULL;
	struct dev_snmp_state st = { 0 }, st2 = { 0 };
	struct dev_desired want = { 0 };
	struct dev_snmp_plan plan = { 0 };
	struct dev_snmp_report rep = { 0 };
	struct linkset ls = { 0 };
	struct dev_switch sw;
	struct netd_err e2 = { 0 };
	bool have_state = false;
	dev_switch_of(&q->cfg, &sw);
	int rc = snmp_open(&q->cfg, &s, e);
	rc = rc ? rc : dev_snmp_read(s, &sw, &st, e);
	have_state = rc == 0;
	sw.nports = st.actual.nports;
	if (rc == 0 && (rc = links_build(D, q, &sw, &ls)) < 0)
		netd_err_set(e, rc, NULL, "switch %s: links: %s", q->name, netd_strerror(rc));
	rc = rc ? rc : dev_desired(&sw, ls.links, ls.n_ok, ls.nics, ls.n_ok, &want, e);
	rc = rc ? rc : dev_snmp_plan(&sw, &want, &st, &plan, e);
	if (rc == 0 && dev_snmp_plan_size(&plan) > 0) {
		rc = dev_snmp_apply(s, &sw, &want, &st, &plan, &rep, e);
		if (dev_snmp_read(s, &sw, &st2, &e2) == 0) {
			dev_snmp_state_free(&st);
			st = st2;
		}
	}
	if (rc == 0 || rep.n_steps) {
		apply_from(&q->apply, &rep);
		q->have_apply = true;
		__atomic_add_fetch(&D->set_pdus, rep.set_pdus, __ATOMIC_RELAXED);
	}
	if (have_state && rows_build(q, &st, &ls, rc == 0 ? &want : NULL) < 0 && rc == 0)
		rc = netd_err_set(e, -ENOMEM, NULL, "%s", "out of memory");
	if (rc == 0)
		log_lags(q, &want);
	dev_snmp_close(s);
	dev_snmp_report_free(&rep);
	dev_snmp_plan_free(&plan);
	dev_desired_free(&want);
	dev_snmp_state_free(&st);
	linkset_clear(&ls);
	return rc;
}

/* ------------------------------------------------------------- BMC work */

/* What the BMC should be. */
struct bmcwant {
	struct bmccfg cfg;
	char network[MODEL_NAME_MAX];
	struct dev_bmc_want w;
	char ip[20];
};

static void mask_of(unsigned len, uint8_t m[4])
{
	uint32_t v = len ? 0xffffffffu << (32 - len) : 0;
	m[0] = (uint8_t)(v >> 24);
	m[1] = (uint8_t)(v >> 16);
	m[2] = (uint8_t)(v >> 8);
	m[3] = (uint8_t)v;
}

/* The node's address on its bmc network into @bw. */
static int bmc_address(struct devd *D, struct store_txn *t, const char *node, struct bmcwant *bw, struct netd_err *e)
{
	struct model_node n = { 0 };
	int rc = model_node_get(&D->d->mt, t, node, &n);
	bool found = false;
	for (size_t i = 0; rc == 0 && !found && i < n.n_nets; i++) {
		struct model_network net = { 0 };
		struct model_alloc a;
		if (model_network_get(&D->d->mt, t, n.nets[i].network, &net) == 0 && !strcmp(net.conduit, DEVD_BMC_CONDUIT) &&
		    net.has_v4 &&
		    model_alloc_by_owner(&D->d->mt, t, OWNER_NODE, node, net.name, ADDR_V4, &a) == 0 &&
		    a.state == ALLOC_ACTIVE) {
			found = true;
			copy(bw->network, sizeof bw->network, net.name);
			memcpy(bw->w.ip, a.addr.b, 4);
			mask_of(net.v4_subnet.len, bw->w.netmask);
			if (net.has_v4_router)
				memcpy(bw->w.gateway, net.v4_router.b, 4);
			bw->w.vlan_mode = net.use_vlan && net.vlan ? DEV_BMC_VLAN_ON : DEV_BMC_VLAN_OFF;
			bw->w.vlan_id = net.use_vlan ? net.vlan : 0;
			dev_bmc_ipv4_str(bw->w.ip, bw->ip, sizeof bw->ip);
		}
		model_network_clear(&net);
	}
	model_node_clear(&n);
	if (rc < 0)
		return netd_err_set(e, rc, NULL, "node %s: %s", node, netd_strerror(rc));
	if (!found)
		return netd_err_set(e, NETD_ENOTFOUND, NULL,
				    "node %s: no IPv4 address on a network whose conduit is %s (attach the node to the "
				    "BMC network)", node, DEVD_BMC_CONDUIT);
	return 0;
}

/* The wanted state of @node's BMC; *@have false when it has no bmc container. */
static int bmc_want(struct devd *D, const char *node, struct bmcwant *bw, bool *have, struct netd_err *e)
{
	struct store_txn *t = NULL;
	memset(bw, 0, sizeof *bw);
	int rc = store_read_begin(D->d->store, &t);
	rc = rc ? rc : bmccfg_load(D, t, node, &bw->cfg, have);
	if (rc < 0)
		netd_err_set(e, rc, NULL, "node %s: the bmc configuration: %s", node, netd_strerror(rc));
	if (rc == 0 && *have)
		rc = bmc_address(D, t, node, bw, e);
	store_read_end(t);
	return rc;
}

/* The first line of @path as the password. */
static int password_file(const char *node, const char *path, char *out, size_t cap, struct netd_err *e)
{
	char buf[256];
	FILE *f = fopen(path, "re");
	if (!f)
		return netd_err_set(e, -errno, NULL, "node %s: BMC password file %s: %s", node, path, strerror(errno));
	bool got = fgets(buf, sizeof buf, f) != NULL;
	fclose(f);
	buf[got ? strcspn(buf, "\r\n") : 0] = '\0';
	size_t n = strlen(buf);
	int rc = 0;
	if (n == 0 || n >= cap)
		rc = netd_err_set(e, NETD_EINVAL, NULL, "node %s: BMC password file %s: the first line must hold 1..%zu "
				  "characters", node, path, cap - 1);
	else
		memcpy(out, buf, n + 1);
	explicit_bzero(buf, sizeof buf);
	return rc;
}

/* Open a session to the BMC and apply @bw. */
static int bmc_apply(const char *node, const struct bmcwant *bw, struct dev_bmc_result *res, struct netd_err *e)
{
	struct dev_bmc_target tg = { .port = bw->cfg.port, .cipher_suite = bw->cfg.cipher, .channel = bw->cfg.channel,
				     .timeout_ms = DEVD_BMC_TIMEOUT_MS };
	struct dev_bmc_cred cr;
	struct dev_bmc *b = NULL;
	char who[MODEL_NAME_MAX + 16];
	memset(&cr, 0, sizeof cr);
	copy(tg.host, sizeof tg.host, bw->cfg.host[0] ? bw->cfg.host : bw->ip);
	copy(cr.user, sizeof cr.user, bw->cfg.user);
	snprintf(who, sizeof who, "node %s BMC", node);
	int rc = dev_bmc_want_check(&bw->w, who, e);
	if (rc == 0 && bw->cfg.has_password)
		copy(cr.password, sizeof cr.password, bw->cfg.password);
	else if (rc == 0)
		rc = password_file(node, bw->cfg.password_file, cr.password, sizeof cr.password, e);
	rc = rc ? rc : dev_bmc_open(&tg, &cr, &b, e);
	rc = rc ? rc : dev_bmc_apply(b, &bw->w, res, e);
	dev_bmc_close(b);
	explicit_bzero(&cr, sizeof cr);
	if (rc < 0 && strncmp(e->msg, "node ", 5)) {
		char msg[NETD_ERR_MSG_MAX];
		memcpy(msg, e->msg, sizeof msg);
		if ((size_t)snprintf(e->msg, sizeof e->msg, "node %s: %s", node, msg) >= sizeof e->msg)
			e->msg[sizeof e->msg - 1] = '\0';
	}
	return rc;
}

static bool bmc_same_want(const struct bmq *q, const struct bmcwant *bw)
{
	uint16_t vlan = bw->w.vlan_mode == DEV_BMC_VLAN_ON ? bw->w.vlan_id : 0;
	return q->have_want && !memcmp(q->ip, bw->w.ip, 4) && !memcmp(q->mask, bw->w.netmask, 4) &&
	       !memcmp(q->gw, bw->w.gateway, 4) && q->vlan == vlan && !strcmp(q->network, bw->network);
}

static void bmq_note_want(struct bmq *q, const struct bmcwant *bw)
{
	copy(q->network, sizeof q->network, bw->network);
	memcpy(q->ip, bw->w.ip, 4);
	memcpy(q->mask, bw->w.netmask, 4);
	memcpy(q->gw, bw->w.gateway, 4);
	q->vlan = bw->w.vlan_mode == DEV_BMC_VLAN_ON ? bw->w.vlan_id : 0;
	q->have_want = true;
}

/* Bring the BMC to what the model wants.  *@skipped: nothing was asked of
 * it (in sync with the same want); *@gone: no bmc container any more. */
static int bmc_sync(struct devd *D, struct bmq *q, bool force, bool *skipped, bool *gone, struct netd_err *e)
{
	struct bmcwant bw;
	struct dev_bmc_result res;
	bool have = false;
	*skipped = *gone = false;
	int rc = bmc_want(D, q->node, &bw, &have, e);
	if (rc == 0 && !have) {
		*gone = true;
	} else if (rc == 0 && !force && q->state == ST_INSYNC && bmc_same_want(q, &bw)) {
		*skipped = true;
	} else if (rc == 0) {
		bmq_note_want(q, &bw);
		memset(&res, 0, sizeof res);
		rc = bmc_apply(q->node, &bw, &res, e);
		if (rc == 0) {
			q->channel = res.channel;
			q->have_mac = (res.after.have & DEV_BMC_HAVE(DEV_BMC_P_MAC)) != 0;
			memcpy(q->mac, res.after.mac, 6);
			q->sets = res.sets;
			__atomic_add_fetch(&D->bmc_sets, res.sets, __ATOMIC_RELAXED);
		}
	}
	explicit_bzero(&bw.cfg, sizeof bw.cfg);
	return rc;
}

/* ---------------------------------------------------------------- states */

struct putrec {
	store_tbl tbl;
	const char *key;
	const char *json;   /* NULL: delete */
};

static int putrec_fn(struct store_txn *t, void *arg)
{
	const struct putrec *p = arg;
	if (!p->json)
		return rec_drop(t, p->tbl, p->key);
	return store_put(t, p->tbl, p->key, strlen(p->key), p->json, strlen(p->json));
}

static int store_json(struct devd *D, store_tbl tbl, const char *key, const char *json)
{
	struct putrec p = { tbl, key, json };
	return store_update(D->d->store, putrec_fn, &p);
}

static int port_to_lyd(struct lyd_node *ent, const struct portrow *r)
{
	struct lyd_node *pe = NULL;
	char num[16];
	snprintf(num, sizeof num, "%u", r->port);
	if (lyd_new_list(ent, NULL, "port", 0, &pe, num) != LY_SUCCESS)
		return NETD_EINVAL;
	int rc = r->ifindex ? put_u(pe, "ifindex", r->ifindex) : 0;
	rc = rc || !r->name[0] ? rc : put(pe, "name", r->name);
	rc = rc || !r->alias[0] ? rc : put(pe, "alias", r->alias);
	rc = rc || !r->pvid ? rc : put_u(pe, "pvid", r->pvid);
	rc = rc || !r->tagged[0] ? rc : put(pe, "tagged", r->tagged);
	rc = rc || !r->node[0] ? rc : put(pe, "node", r->node);
	rc = rc || !r->nic[0] ? rc : put(pe, "nic", r->nic);
	rc = rc || !r->source ? rc : put(pe, "source", source_names[r->source]);
	rc = rc ? rc : put(pe, "managed", r->managed ? "true" : "false");
	rc = rc || !r->wanted ? rc : put_u(pe, "want-pvid", r->want_pvid);
	rc = rc || !r->wanted || !r->want_tagged[0] ? rc : put(pe, "want-tagged", r->want_tagged);
	rc = rc || !r->refused[0] ? rc : put(pe, "refused", r->refused);
	return rc;
}

static int learned_to_lyd(struct lyd_node *ent, const struct learned *l)
{
	struct lyd_node *le = NULL;
	char num[16], mac[20];
	snprintf(num, sizeof num, "%u", l->port);
	if (lyd_new_list(ent, NULL, "learned-link", 0, &le, num) != LY_SUCCESS)
		return NETD_EINVAL;
	int rc = put(le, "node", l->node);
	rc = rc ? rc : put(le, "nic", l->nic);
	rc = rc || mac_zero(l->mac) ? rc : put(le, "mac", mac_text(l->mac, mac, sizeof mac));
	rc = rc ? rc : put(le, "source", source_names[l->source]);
	rc = rc || !l->evidence[0] ? rc : put(le, "evidence", l->evidence);
	rc = rc || !l->note[0] ? rc : put(le, "note", l->note);
	return rc;
}

static int apply_to_lyd(struct lyd_node *ent, const struct apply_counts *a)
{
	struct lyd_node *la = NULL;
	if (lyd_new_inner(ent, NULL, "last-apply", 0, &la) != LY_SUCCESS)
		return NETD_EINVAL;
	int rc = put_u(la, "steps", a->steps);
	rc = rc ? rc : put_u(la, "applied", a->applied);
	rc = rc ? rc : put_u(la, "set-pdus", a->set_pdus);
	rc = rc ? rc : put_u(la, "set-varbinds", a->set_varbinds);
	rc = rc ? rc : put_u(la, "read-walks", a->read_walks);
	rc = rc ? rc : put_u(la, "undo-pdus", a->undo_pdus);
	rc = rc ? rc : put(la, "verified", a->verified ? "true" : "false");
	char s[NETD_ERR_MSG_MAX];
	copy_printable(s, sizeof s, a->summary);
	return rc ? rc : put(la, "summary", s);
}

/* The switch's state as stored: {"netd:switches":{"switch":[{...}]}}. */
static int sw_json(struct devd *D, const struct swq *q, int state, uint64_t done, char **out)
{
	struct lyd_node *tree = NULL, *ent = NULL;
	char path[NETD_ERR_PATH_MAX], err[NETD_ERR_MSG_MAX];
	*out = NULL;
	if (lyd_new_path(NULL, D->d->ly, sw_path(q->name, "", path, sizeof path), NULL, 0, &tree) != LY_SUCCESS ||
	    lyd_find_path(tree, path, 0, &ent) != LY_SUCCESS) {
		lyd_free_all(tree);
		return NETD_EINVAL;
	}
	copy_printable(err, sizeof err, q->error);
	int rc = put(ent, "state", state_names[state]);
	rc = rc || !err[0] ? rc : put(ent, "last-error", err);
	rc = rc ? rc : put_time(ent, "last-sync", q->last_sync);
	rc = rc ? rc : put_time(ent, "last-learn", q->last_learn);
	rc = rc ? rc : put_u(ent, "request-done", done);
	rc = rc || !q->bridge_ports ? rc : put_u(ent, "bridge-ports", q->bridge_ports);
	rc = rc || !q->have_apply ? rc : apply_to_lyd(ent, &q->apply);
	for (size_t i = 0; rc == 0 && i < q->n_rows; i++)
		rc = port_to_lyd(ent, &q->rows[i]);
	for (size_t i = 0; rc == 0 && i < q->n_learned; i++)
		rc = learned_to_lyd(ent, &q->learned[i]);
	if (rc == 0 && (lyd_print_mem(out, tree, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS || !*out))
		rc = -ENOMEM;
	lyd_free_all(tree);
	return rc;
}

static void learned_from_lyd(struct swq *q, const struct lyd_node *ent)
{
	const struct lyd_node *c;
	size_t n = count_named(ent, "learned-link");
	free(q->learned);
	q->n_learned = 0;
	if (!(q->learned = calloc(n + 1, sizeof *q->learned)))
		return;
	LY_LIST_FOR(lyd_child(ent), c) {
		if (strcmp(yc_schema_name(c), "learned-link"))
			continue;
		struct learned *l = &q->learned[q->n_learned++];
		const char *src = yc_leaf(c, "source");
		l->port = (unsigned)leaf_ul(c, "port", 0);
		copy(l->node, sizeof l->node, yc_leaf(c, "node"));
		copy(l->nic, sizeof l->nic, yc_leaf(c, "nic"));
		mac_parse(yc_leaf(c, "mac"), l->mac);
		l->source = src && !strcmp(src, "lldp") ? SRC_LLDP : SRC_FDB;
		copy(l->evidence, sizeof l->evidence, yc_leaf(c, "evidence"));
	}
}

static int state_parse(const char *s)
{
	for (int i = 0; s && i < 4; i++)
		if (!strcmp(s, state_names[i]))
			return i;
	return ST_UNKNOWN;
}

/* What the store kept of a switch: learned links, times, request-done. */
static void sw_restore(struct devd *D, struct swq *q)
{
	struct store_txn *t = NULL;
	struct lyd_node *tree = NULL, *ent = NULL;
	char *json = NULL, path[NETD_ERR_PATH_MAX];
	if (store_read_begin(D->d->store, &t) == 0)
		rec_get(t, D->t_sw, q->name, &json);
	store_read_end(t);
	if (json && lyd_parse_data_mem(D->d->ly, json, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, &tree) == LY_SUCCESS &&
	    lyd_find_path(tree, sw_path(q->name, "", path, sizeof path), 0, &ent) == LY_SUCCESS) {
		learned_from_lyd(q, ent);
		q->last_learn = cdtj_time_parse(yc_leaf(ent, "last-learn"));
		q->last_sync = cdtj_time_parse(yc_leaf(ent, "last-sync"));
		q->done = strtoull(yc_leaf(ent, "request-done") ? yc_leaf(ent, "request-done") : "0", NULL, 10);
		q->state = state_parse(yc_leaf(ent, "state"));
		copy(q->error, sizeof q->error, yc_leaf(ent, "last-error"));
	}
	lyd_free_all(tree);
	free(json);
}

static int bmc_json(struct devd *D, const struct bmq *q, int state, uint64_t done, char **out)
{
	struct lyd_node *tree = NULL, *entry = NULL, *b = NULL;
	char err[NETD_ERR_MSG_MAX], mac[20];
	*out = NULL;
	int rc = node_tree(D->d, q->node, &tree, &entry);
	if (rc == 0 && lyd_new_inner(entry, NULL, "bmc", 0, &b) != LY_SUCCESS)
		rc = NETD_EINVAL;
	copy_printable(err, sizeof err, q->error);
	rc = rc ? rc : put(b, "state", state_names[state]);
	rc = rc || !err[0] ? rc : put(b, "last-error", err);
	rc = rc ? rc : put_time(b, "last-sync", q->last_sync);
	rc = rc || !q->network[0] ? rc : put(b, "network", q->network);
	rc = rc || !q->have_want ? rc : put_ip(b, "address", q->ip);
	rc = rc || !q->have_want ? rc : put_ip(b, "netmask", q->mask);
	rc = rc || !q->have_want ? rc : put_ip(b, "gateway", q->gw);
	rc = rc || !q->have_want ? rc : put_u(b, "vlan", q->vlan);
	rc = rc || !q->channel ? rc : put_u(b, "lan-channel", q->channel);
	rc = rc || !q->have_mac ? rc : put(b, "mac", mac_text(q->mac, mac, sizeof mac));
	rc = rc ? rc : put_u(b, "sets", q->sets);
	rc = rc ? rc : put_u(b, "request-done", done);
	if (rc == 0 && (lyd_print_mem(out, b, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS || !*out))
		rc = -ENOMEM;
	lyd_free_all(tree);
	return rc;
}

static void bm_restore(struct devd *D, struct bmq *q)
{
	struct store_txn *t = NULL;
	struct lyd_node *tree = NULL, *entry = NULL;
	char *json = NULL;
	if (store_read_begin(D->d->store, &t) == 0)
		rec_get(t, D->t_bmcst, q->node, &json);
	store_read_end(t);
	if (json && node_tree(D->d, q->node, &tree, &entry) == 0 && json_under(entry, json) == 0) {
		const struct lyd_node *b = yc_child(entry, "bmc");
		q->state = state_parse(yc_leaf(b, "state"));
		q->done = strtoull(yc_leaf(b, "request-done") ? yc_leaf(b, "request-done") : "0", NULL, 10);
		q->last_sync = cdtj_time_parse(yc_leaf(b, "last-sync"));
		copy(q->error, sizeof q->error, yc_leaf(b, "last-error"));
		copy(q->network, sizeof q->network, yc_leaf(b, "network"));
		q->have_want = dev_bmc_ipv4_parse(yc_leaf(b, "address") ? yc_leaf(b, "address") : "", q->ip) == 0 &&
			       dev_bmc_ipv4_parse(yc_leaf(b, "netmask") ? yc_leaf(b, "netmask") : "", q->mask) == 0 &&
			       dev_bmc_ipv4_parse(yc_leaf(b, "gateway") ? yc_leaf(b, "gateway") : "", q->gw) == 0;
		q->vlan = (uint16_t)leaf_ul(b, "vlan", 0);
		q->channel = (uint8_t)leaf_ul(b, "lan-channel", 0);
		q->have_mac = mac_parse(yc_leaf(b, "mac"), q->mac);
		q->sets = (unsigned)leaf_ul(b, "sets", 0);
	}
	lyd_free_all(tree);
	free(json);
}

/* ------------------------------------------------------------ the worker */

static void backoff(struct swq *sq, struct bmq *bq, bool failed)
{
	unsigned *b = sq ? &sq->backoff_ms : &bq->backoff_ms;
	uint64_t *due = sq ? &sq->due_ms : &bq->due_ms;
	if (!failed) {
		*b = 0;
		*due = 0;
		return;
	}
	*b = *b ? (*b * 2 > DEVD_BACKOFF_MAX_MS ? DEVD_BACKOFF_MAX_MS : *b * 2) : DEVD_BACKOFF_MIN_MS;
	*due = loop_now_ms() + *b;
}

/* Record the outcome of a switch's work and persist it. */
static void sw_finish(struct devd *D, struct swq *q, int rc, const struct netd_err *e, uint64_t target, bool synced,
		      bool learn_failed)
{
	char *json = NULL;
	int old = q->state;
	char olderr[NETD_ERR_MSG_MAX];
	copy(olderr, sizeof olderr, q->error);
	if (rc < 0 || synced)
		copy(q->error, sizeof q->error, rc < 0 ? (e->msg[0] ? e->msg : netd_strerror(rc)) : "");
	if (rc == 0 && synced)
		q->last_sync = wall_now_s();
	pthread_mutex_lock(&D->mu);
	if (rc < 0 || synced)
		q->state = rc < 0 ? ST_ERROR : ST_INSYNC;
	if (target > q->done)
		q->done = target;
	backoff(q, NULL, rc < 0);
	if (rc < 0)
		q->dirty = true;   /* retried after the backoff */
	if (learn_failed && q->cfg.learn_interval)
		q->next_learn_ms = q->due_ms;
	uint64_t done = q->done;
	int state = q->state;
	pthread_mutex_unlock(&D->mu);
	if (rc < 0 || synced)
		__atomic_add_fetch(rc < 0 ? &D->sync_errors : &D->syncs, 1, __ATOMIC_RELAXED);
	if (rc < 0 && (old != ST_ERROR || strcmp(olderr, q->error)))
		log_warn("%s", q->error);
	else if (rc == 0 && (old != ST_INSYNC || q->apply.steps) && q->cfg.netconf)
		log_info("switch %s: in sync (%s)", q->name, q->apply.summary);
	else if (rc == 0 && (old != ST_INSYNC || q->apply.steps))
		log_info("switch %s: in sync (%s; %u SET PDUs)", q->name, q->apply.summary, q->apply.set_pdus);
	if (sw_json(D, q, state, done, &json) == 0)
		store_json(D, D->t_sw, q->name, json);
	else
		log_err("switch %s: cannot record its state", q->name);
	free(json);
	pthread_mutex_lock(&D->mu);
	q->busy = false;   /* readers see the stored result from now on */
	pthread_mutex_unlock(&D->mu);
}

/* Learn (when asked or due) and reconcile (when dirty, forced, or the
 * links changed).  Returns the outcome. */
static int sw_work(struct devd *D, struct swq *q, bool force, struct netd_err *e)
{
	pthread_mutex_lock(&D->mu);
	uint64_t now = loop_now_ms();
	bool learn = q->learn_req || (q->next_learn_ms && now >= q->next_learn_ms);
	bool sync = force || q->dirty;
	uint64_t target = q->req_seen;
	q->learn_req = q->dirty = false;
	q->busy = true;
	pthread_mutex_unlock(&D->mu);
	bool changed = false, synced = false;
	int rc = learn ? sw_learn(D, q, &changed, e) : 0;
	if (learn) {
		pthread_mutex_lock(&D->mu);
		q->next_learn_ms = q->cfg.learn_interval ? loop_now_ms() + (uint64_t)q->cfg.learn_interval * 1000u : 0;
		pthread_mutex_unlock(&D->mu);
	}
	/* a learn that changed nothing writes nothing, unless the last sync failed */
	if (rc == 0 && (sync || changed || q->state != ST_INSYNC)) {
		rc = sw_reconcile(D, q, e);
		synced = true;
	}
	sw_finish(D, q, rc, e, target, synced, learn && !synced && rc < 0);
	return rc;
}

static void bm_finish(struct devd *D, struct bmq *q, int rc, const struct netd_err *e, uint64_t target)
{
	char *json = NULL;
	int old = q->state;
	copy(q->error, sizeof q->error, rc < 0 ? (e->msg[0] ? e->msg : netd_strerror(rc)) : "");
	if (rc == 0)
		q->last_sync = wall_now_s();
	pthread_mutex_lock(&D->mu);
	q->state = rc < 0 ? ST_ERROR : ST_INSYNC;
	if (target > q->done)
		q->done = target;
	backoff(NULL, q, rc < 0);
	if (rc < 0)
		q->dirty = true;
	uint64_t done = q->done;
	pthread_mutex_unlock(&D->mu);
	__atomic_add_fetch(rc < 0 ? &D->bmc_errors : &D->bmc_syncs, 1, __ATOMIC_RELAXED);
	if (rc < 0 && old != ST_ERROR)
		log_warn("%s", q->error);
	else if (rc == 0)
		log_info("node %s: BMC in sync (%s/%d gateway %u.%u.%u.%u vlan %u, %u Set commands)", q->node,
			 dev_bmc_ipv4_str(q->ip, (char[20]){ 0 }, 20), dev_bmc_prefix_len(q->mask), q->gw[0], q->gw[1],
			 q->gw[2], q->gw[3], q->vlan, q->sets);
	if (bmc_json(D, q, q->state, done, &json) == 0)
		store_json(D, D->t_bmcst, q->node, json);
	else
		log_err("node %s: cannot record the BMC state", q->node);
	free(json);
}

static void bm_remove(struct devd *D, struct bmq *q);

/* Sync the BMC when its want changed, it is not in sync, or @force.
 * 0, a negative code (recorded as its state), or 1: the node has no bmc
 * container any more (dropped from the queue). */
static int bm_work(struct devd *D, struct bmq *q, bool force, struct netd_err *e)
{
	bool skipped = false, gone = false;
	pthread_mutex_lock(&D->mu);
	uint64_t target = q->req_seen;
	force |= target > q->done;
	q->dirty = false;
	q->busy = true;
	pthread_mutex_unlock(&D->mu);
	int rc = bmc_sync(D, q, force, &skipped, &gone, e);
	if (gone) {
		bm_remove(D, q);
		return 1;
	}
	if (!skipped)
		bm_finish(D, q, rc, e, target);
	pthread_mutex_lock(&D->mu);
	q->busy = false;
	pthread_mutex_unlock(&D->mu);
	return rc;
}

/* ---- queue maintenance (worker) ---- */

static void swq_free(struct swq *q)
{
	if (!q)
		return;
	swcfg_clear(&q->cfg);
	free(q->learned);
	free(q->rows);
	free(q);
}

static void bm_remove(struct devd *D, struct bmq *q)
{
	pthread_mutex_lock(&D->mu);
	for (size_t i = 0; i < D->n_bm; i++)
		if (D->bm[i] == q)
			D->bm[i] = D->bm[--D->n_bm];
	pthread_mutex_unlock(&D->mu);
	free(q);
}

static int sw_add(struct devd *D, const struct swcfg *c)
{
	struct swq *q = calloc(1, sizeof *q);
	void *nv = realloc(D->sw, (D->n_sw + 1) * sizeof *D->sw);
	if (!q || !nv) {
		free(q);
		if (nv)
			D->sw = nv;
		return -ENOMEM;
	}
	D->sw = nv;
	copy(q->name, sizeof q->name, c->name);
	sw_restore(D, q);
	q->dirty = true;   /* reconciled once at start and when added */
	q->next_learn_ms = !c->learn_interval ? 0 :
			   q->last_learn ? loop_now_ms() + (uint64_t)c->learn_interval * 1000u : loop_now_ms();
	pthread_mutex_lock(&D->mu);
	D->sw[D->n_sw++] = q;
	pthread_mutex_unlock(&D->mu);
	return 0;
}

/* The switches document changed (or first look): follow it. */
static void refresh_conf(struct devd *D)
{
	struct store_txn *t = NULL;
	struct swcfg *cs = NULL;
	size_t n = 0;
	int rc = store_read_begin(D->d->store, &t);
	rc = rc ? rc : conf_load(D->d, t, &cs, &n);
	store_read_end(t);
	if (rc < 0) {
		log_err("switches: cannot read the configuration: %s", netd_strerror(rc));
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!sw_find(D, cs[i].name) && sw_add(D, &cs[i]) < 0)
			log_err("switch %s: out of memory", cs[i].name);
	char (*gone)[MODEL_NAME_MAX] = calloc(D->n_sw + 1, sizeof *gone);
	size_t n_gone = 0;
	pthread_mutex_lock(&D->mu);
	for (size_t i = 0; i < D->n_sw;) {
		struct swq *q = D->sw[i];
		struct swcfg *c = NULL;
		for (size_t k = 0; k < n && !c; k++)
			c = strcmp(cs[k].name, q->name) ? NULL : &cs[k];
		if (!c) {
			if (gone)
				copy(gone[n_gone++], MODEL_NAME_MAX, q->name);
			D->sw[i] = D->sw[--D->n_sw];
			swq_free(q);
			continue;
		}
		bool learn_on = c->learn_interval && !q->cfg.learn_interval;
		swcfg_clear(&q->cfg);
		q->cfg = *c;   /* takes its links */
		c->links = NULL;
		c->n_links = 0;
		q->dirty = true;
		if (!c->learn_interval)
			q->next_learn_ms = 0;
		else if (learn_on || !q->next_learn_ms)
			q->next_learn_ms = loop_now_ms();
		i++;
	}
	pthread_mutex_unlock(&D->mu);
	conf_free(cs, n);   /* wipes the secrets of the copies */
	for (size_t i = 0; i < n_gone; i++)   /* a result recorded while the switch was being removed */
		store_json(D, D->t_sw, gone[i], NULL);
	free(gone);
}

/* The BMC queue follows the "dev_bmc" table. */
static void refresh_bmcs(struct devd *D)
{
	struct store_txn *t = NULL;
	char (*keys)[MODEL_NAME_MAX + 2] = NULL;
	size_t n = 0;
	int rc = store_read_begin(D->d->store, &t);
	rc = rc ? rc : table_keys(t, D->t_bmc, &keys, &n);
	store_read_end(t);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (bm_find(D, keys[i]))
			continue;
		struct bmq *q = calloc(1, sizeof *q);
		void *nv = q ? realloc(D->bm, (D->n_bm + 1) * sizeof *D->bm) : NULL;
		if (!nv) {
			free(q);
			rc = -ENOMEM;
			break;
		}
		D->bm = nv;
		copy(q->node, sizeof q->node, keys[i]);
		bm_restore(D, q);
		q->dirty = true;   /* checked: synced only when not in sync with its want */
		pthread_mutex_lock(&D->mu);
		D->bm[D->n_bm++] = q;
		pthread_mutex_unlock(&D->mu);
	}
	if (rc < 0)
		log_err("devices: BMC list: %s", netd_strerror(rc));
	free(keys);
}

/* A request as read from the store. */
struct req {
	char kind;
	char name[MODEL_NAME_MAX];
	uint64_t id;
};

static int reqs_read(struct devd *D, struct req **out, size_t *n)
{
	struct store_txn *t = NULL;
	struct store_cursor *c = NULL;
	struct store_val k, v;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	int rc = store_read_begin(D->d->store, &t);
	rc = rc ? rc : store_cursor_open(t, D->t_req, &c);
	for (int x = rc ? rc : store_cursor_first(c, &k, &v); rc == 0 && x == 0; x = store_cursor_next(c, &k, &v)) {
		const char *kp = k.p;
		if (v.n != 8 || k.n < 2 || k.n > MODEL_NAME_MAX || (kp[0] != 'L' && kp[0] != 'S' && kp[0] != 'B'))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			void *nv = realloc(*out, cap * sizeof **out);
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			*out = nv;
		}
		struct req *r = &(*out)[(*n)++];
		r->kind = kp[0];
		memcpy(r->name, kp + 1, k.n - 1);
		r->name[k.n - 1] = '\0';
		r->id = be64_get(v.p);
	}
	store_cursor_close(c);
	store_read_end(t);
	return rc;
}

/* Pending requests from the store (switch-learn, switch-sync, bmc-sync). */
static void refresh_requests(struct devd *D)
{
	struct req *v = NULL;
	size_t n = 0;
	int rc = reqs_read(D, &v, &n);
	if (rc < 0)
		log_err("devices: requests: %s", netd_strerror(rc));
	pthread_mutex_lock(&D->mu);
	for (size_t i = 0; i < n; i++) {
		struct swq *sq = v[i].kind != 'B' ? sw_find(D, v[i].name) : NULL;
		struct bmq *bq = v[i].kind == 'B' ? bm_find(D, v[i].name) : NULL;
		uint64_t *seen = sq ? &sq->req_seen : bq ? &bq->req_seen : NULL;
		uint64_t done = sq ? sq->done : bq ? bq->done : 0;
		if (!seen || v[i].id <= done)
			continue;
		if (v[i].id > *seen)
			*seen = v[i].id;
		if (v[i].kind == 'L')
			sq->learn_req = true;
		else if (sq)
			sq->dirty = true;
	}
	pthread_mutex_unlock(&D->mu);
	free(v);
}

static bool sw_links_node(const struct swq *q, const char *node)
{
	for (size_t i = 0; i < q->cfg.n_links; i++)
		if (!strcmp(q->cfg.links[i].node, node))
			return true;
	for (size_t i = 0; i < q->n_learned; i++)
		if (!strcmp(q->learned[i].node, node))
			return true;
	return false;
}

/* Take what the commits noted and mark the queues. */
static void refresh(struct devd *D)
{
	pthread_mutex_lock(&D->mu);
	bool conf = D->conf_gen != D->conf_taken, reqs = D->req_changed, all = D->all_dirty, scan = D->bmc_scan;
	uint64_t gen = D->conf_taken = D->conf_gen;
	char (*nodes)[MODEL_NAME_MAX] = D->nodes, (*ren)[2][MODEL_NAME_MAX] = D->renames;
	size_t n_nodes = D->n_nodes, n_ren = D->n_renames;
	D->req_changed = D->all_dirty = D->bmc_scan = false;
	D->nodes = NULL;
	D->renames = NULL;
	D->n_nodes = D->cap_nodes = D->n_renames = D->cap_renames = 0;
	pthread_mutex_unlock(&D->mu);
	for (size_t r = 0; r < n_ren; r++) {   /* learned links follow a renamed node */
		for (size_t i = 0; i < D->n_sw; i++)
			for (size_t k = 0; k < D->sw[i]->n_learned; k++)
				if (!strcmp(D->sw[i]->learned[k].node, ren[r][0]))
					copy(D->sw[i]->learned[k].node, MODEL_NAME_MAX, ren[r][1]);
		struct bmq *q = bm_find(D, ren[r][0]);
		if (q) {
			pthread_mutex_lock(&D->mu);
			copy(q->node, sizeof q->node, ren[r][1]);
			pthread_mutex_unlock(&D->mu);
		}
	}
	if (conf)
		refresh_conf(D);
	if (conf) {
		pthread_mutex_lock(&D->mu);
		D->conf_done = gen;
		pthread_mutex_unlock(&D->mu);
	}
	if (scan || conf)
		refresh_bmcs(D);
	if (reqs)
		refresh_requests(D);
	pthread_mutex_lock(&D->mu);
	for (size_t i = 0; i < D->n_sw; i++) {
		bool hit = all;
		for (size_t k = 0; k < n_nodes && !hit; k++)
			hit = sw_links_node(D->sw[i], nodes[k]);
		D->sw[i]->dirty |= hit;
	}
	for (size_t i = 0; i < D->n_bm; i++) {
		bool hit = all;
		for (size_t k = 0; k < n_nodes && !hit; k++)
			hit = !strcmp(D->bm[i]->node, nodes[k]);
		D->bm[i]->dirty |= hit;
	}
	pthread_mutex_unlock(&D->mu);
	free(nodes);
	free(ren);
}

/* ------------------------------------------------------------- the jig */

static void job_free(struct devjob *j)
{
	if (!j)
		return;
	free(j->log);
	free(j);
}

/* Run a jig's work: the switch named like the node, else the switches
 * linked to it, and its BMC. */
static void job_run(struct devd *D, struct devjob *j)
{
	struct text log = { 0 };
	size_t n = 0, bad = 0;
	struct swq *named = sw_find(D, j->node);
	for (size_t i = 0; i < D->n_sw; i++) {
		struct swq *q = D->sw[i];
		struct netd_err e = { 0 };
		if (named ? q != named : !sw_links_node(q, j->node))
			continue;
		int rc = sw_work(D, q, true, &e);
		n++;
		if (rc < 0 && !bad++)
			snprintf(j->summary, sizeof j->summary, "%s", q->error);
		text_add(&log, "switch %s: %s%s\n", q->name, rc < 0 ? "error: " : "in sync: ", rc < 0 ? q->error : q->apply.summary);
	}
	struct bmq *b = named ? NULL : bm_find(D, j->node);
	if (b) {
		struct netd_err e = { 0 };
		int rc = bm_work(D, b, true, &e);
		n += rc <= 0;
		if (rc < 0 && !bad++)
			snprintf(j->summary, sizeof j->summary, "%s", e.msg[0] ? e.msg : netd_strerror(rc));
		if (rc <= 0)
			text_add(&log, "BMC of %s: %s%s\n", j->node, rc < 0 ? "error: " : "in sync",
				 rc < 0 ? (e.msg[0] ? e.msg : netd_strerror(rc)) : "");
	}
	j->ok = bad == 0;
	if (j->ok && n)
		snprintf(j->summary, sizeof j->summary, "%zu device%s in sync", n, n == 1 ? "" : "s");
	else if (j->ok)
		snprintf(j->summary, sizeof j->summary, "node %s: no switch port or BMC to configure", j->node);
	else if (bad > 1)
		snprintf(j->summary + strlen(j->summary), sizeof j->summary - strlen(j->summary), " (and %zu more)", bad - 1);
	j->log = log.oom ? NULL : log.s;
	if (log.oom)
		free(log.s);
}

/* Loop thread: end the runs the worker finished. */
static void on_wake(struct loop *l, void *arg)
{
	struct devd *D = arg;
	pthread_mutex_lock(&D->mu);
	struct devjob *j = D->done;
	D->done = NULL;
	pthread_mutex_unlock(&D->mu);
	while (j) {
		struct devjob *next = j->next;
		if (j->run)
			ann_jig_finish(j->J, j->run, j->ok, j->summary, j->log);
		job_free(j);
		j = next;
	}
}

static int jig_start(void *ctx, struct ann_jigs *J, const struct ann_jig_input *in, struct ann_jig_run *run,
		     struct netd_err *e)
{
	struct devd *D = ctx;
	struct devjob *j = calloc(1, sizeof *j), **p;
	if (!j)
		return netd_err_set(e, -ENOMEM, NULL, "%s", "devices jig: out of memory");
	j->J = J;
	j->run = run;
	copy(j->node, sizeof j->node, in->node);
	pthread_mutex_lock(&D->mu);
	for (p = &D->jobs; *p; p = &(*p)->next)
		;
	*p = j;
	pthread_cond_signal(&D->cond);
	pthread_mutex_unlock(&D->mu);
	return 0;
}

/* Unlink the job of @run from list *@head; true if found. */
static bool job_unlink(struct devjob **head, struct ann_jig_run *run)
{
	for (struct devjob **p = head; *p; p = &(*p)->next) {
		if ((*p)->run != run)
			continue;
		struct devjob *j = *p;
		*p = j->next;
		job_free(j);
		return true;
	}
	return false;
}

static void jig_cancel(void *ctx, struct ann_jig_run *run)
{
	struct devd *D = ctx;
	pthread_mutex_lock(&D->mu);
	if (!job_unlink(&D->jobs, run) && !job_unlink(&D->done, run) && D->job_running && D->job_running->run == run)
		D->job_running->run = NULL;   /* the worker drops it when done */
	pthread_mutex_unlock(&D->mu);
}

static const struct ann_jig_ops devices_jig = { .name = "devices", .start = jig_start, .cancel = jig_cancel };

/* ---- the loop of the worker ---- */

static bool sw_has_work(const struct swq *q, uint64_t now, uint64_t *next)
{
	bool asked = q->req_seen > q->done || q->learn_req;
	bool learn_due = q->next_learn_ms && now >= q->next_learn_ms;
	if (asked || ((q->dirty || learn_due) && q->due_ms <= now))
		return true;
	if (q->dirty && q->due_ms < *next)
		*next = q->due_ms;
	uint64_t at = q->next_learn_ms > q->due_ms ? q->next_learn_ms : q->due_ms;
	if (q->next_learn_ms && at < *next)
		*next = at;
	return false;
}

static bool bm_has_work(const struct bmq *q, uint64_t now, uint64_t *next)
{
	if (q->req_seen > q->done || (q->dirty && q->due_ms <= now))
		return true;
	if (q->dirty && q->due_ms < *next)
		*next = q->due_ms;
	return false;
}

static void wait_until(struct devd *D, uint64_t at_ms)
{
	uint64_t now = loop_now_ms();
	if (at_ms == UINT64_MAX) {
		pthread_cond_wait(&D->cond, &D->mu);
		return;
	}
	if (at_ms <= now)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t ns = (uint64_t)ts.tv_nsec + (at_ms - now) * 1000000u;
	ts.tv_sec += (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	pthread_cond_timedwait(&D->cond, &D->mu, &ts);
}

static bool flags_pending(const struct devd *D)
{
	return D->conf_gen != D->conf_taken || D->req_changed || D->all_dirty || D->bmc_scan || D->n_nodes || D->n_renames;
}

/* One turn under mu: 1 did something, 0 waited. */
static int turn(struct devd *D)
{
	if (flags_pending(D)) {
		pthread_mutex_unlock(&D->mu);
		refresh(D);
		pthread_mutex_lock(&D->mu);
		return 1;
	}
	if (D->jobs) {
		struct devjob *j = D->jobs;
		D->jobs = j->next;
		j->next = NULL;
		D->job_running = j;
		pthread_mutex_unlock(&D->mu);
		job_run(D, j);
		pthread_mutex_lock(&D->mu);
		D->job_running = NULL;
		if (j->run) {
			j->next = D->done;
			D->done = j;
			loop_wake(D->wake);
		} else {
			job_free(j);
		}
		return 1;
	}
	uint64_t now = loop_now_ms(), next = UINT64_MAX;
	if (now < D->settle_until) {
		wait_until(D, D->settle_until);
		return 0;
	}
	D->settle_first = 0;
	for (size_t i = 0; i < D->n_sw; i++) {
		struct swq *q = D->sw[i];
		if (!sw_has_work(q, now, &next))
			continue;
		struct netd_err e = { 0 };
		pthread_mutex_unlock(&D->mu);
		sw_work(D, q, false, &e);
		pthread_mutex_lock(&D->mu);
		return 1;
	}
	for (size_t i = 0; i < D->n_bm; i++) {
		struct bmq *q = D->bm[i];
		if (!bm_has_work(q, now, &next))
			continue;
		struct netd_err e = { 0 };
		pthread_mutex_unlock(&D->mu);
		bm_work(D, q, false, &e);
		pthread_mutex_lock(&D->mu);
		return 1;
	}
	wait_until(D, next);
	return 0;
}

static void *worker(void *arg)
{
	struct devd *D = arg;
	pthread_mutex_lock(&D->mu);
	while (!D->stopping)
		turn(D);
	pthread_mutex_unlock(&D->mu);
	return NULL;
}

/* ----------------------------------------------------------- start, stop */

int devd_start(struct netd *d, struct netd_err *e)
{
	struct devd *D = calloc(1, sizeof *D);
	int rc;
	if (!D)
		return netd_err_set(e, -ENOMEM, NULL, "%s", "devices: out of memory");
	D->d = d;
	pthread_mutex_init(&D->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&D->cond, &ca);
	pthread_condattr_destroy(&ca);
	d->devd = D;
	if ((rc = store_table(d->store, "dev_switch", &D->t_sw)) < 0 ||
	    (rc = store_table(d->store, "dev_bmc", &D->t_bmc)) < 0 ||
	    (rc = store_table(d->store, "dev_bmc_state", &D->t_bmcst)) < 0 ||
	    (rc = store_table(d->store, "dev_req", &D->t_req)) < 0)
		return netd_err_set(e, rc, NULL, "devices: store tables: %s", netd_strerror(rc));
	if ((rc = loop_wake_new(d->loop, on_wake, D, &D->wake)) < 0)
		return netd_err_set(e, rc, NULL, "devices: wake-up: %s", netd_strerror(rc));
	if ((rc = anneal_jig_register(d, &devices_jig, D, e)) < 0)
		return rc;
	D->req_changed = D->bmc_scan = true;   /* the worker's first look */
	D->conf_gen = 1;
	return 0;
}

int devd_run(struct netd *d, struct netd_err *e)
{
	struct devd *D = d->devd;
	int rc = D ? pthread_create(&D->thread, NULL, worker, D) : 0;
	if (rc)
		return netd_err_set(e, -rc, NULL, "devices: worker thread: %s", strerror(rc));
	if (D)
		D->started = true;
	return 0;
}

void devd_stop(struct netd *d)
{
	struct devd *D = d->devd;
	if (!D)
		return;
	pthread_mutex_lock(&D->mu);
	D->stopping = true;
	pthread_cond_broadcast(&D->cond);
	pthread_mutex_unlock(&D->mu);
	if (D->started)
		pthread_join(D->thread, NULL);
	for (struct devjob *j = D->jobs, *n; j; j = n) {
		n = j->next;
		job_free(j);
	}
	for (struct devjob *j = D->done, *n; j; j = n) {
		n = j->next;
		job_free(j);
	}
	for (size_t i = 0; i < D->n_sw; i++)
		swq_free(D->sw[i]);
	for (size_t i = 0; i < D->n_bm; i++)
		free(D->bm[i]);
	free(D->sw);
	free(D->bm);
	free(D->nodes);
	free(D->renames);
	pthread_cond_destroy(&D->cond);
	pthread_mutex_destroy(&D->mu);
	free(D);
	d->devd = NULL;
}

void devd_figures(struct netd *d, struct devd_figures *out)
{
	struct devd *D = d->devd;
	memset(out, 0, sizeof *out);
	if (!D)
		return;
	pthread_mutex_lock(&D->mu);
	for (size_t i = 0; i < D->n_sw; i++) {
		const struct swq *q = D->sw[i];
		out->switches[sw_pending(q) ? ST_PENDING : q->state]++;
	}
	for (size_t i = 0; i < D->n_bm; i++)
		out->bmcs[bm_pending(D->bm[i]) ? ST_PENDING : D->bm[i]->state]++;
	pthread_mutex_unlock(&D->mu);
	out->syncs = __atomic_load_n(&D->syncs, __ATOMIC_RELAXED);
	out->sync_errors = __atomic_load_n(&D->sync_errors, __ATOMIC_RELAXED);
	out->set_pdus = __atomic_load_n(&D->set_pdus, __ATOMIC_RELAXED);
	out->bmc_syncs = __atomic_load_n(&D->bmc_syncs, __ATOMIC_RELAXED);
	out->bmc_errors = __atomic_load_n(&D->bmc_errors, __ATOMIC_RELAXED);
	out->bmc_sets = __atomic_load_n(&D->bmc_sets, __ATOMIC_RELAXED);
}
