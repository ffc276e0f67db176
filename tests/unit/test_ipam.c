/* tests/unit/test_ipam.c — ipam against a real store in a temporary directory.
 *
 * Every operation runs in its own store_update(), the way netd calls ipam:
 * a failed operation aborts its transaction, so "nothing written" is checked
 * by reading the state back afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/model.h"
#include "core/store.h"
#include "ipam/ipam.h"

#define T0 1000000u   /* "now" at the start of every test */
#define HOLD 3600u    /* the default hold-down */

struct fx {
	char dir[64];
	struct store *s;
	struct model_tables m;
	struct ipam *ip;
	uint64_t now;
};

/* ---- fixture ---- */

static void fx_open(struct fx *f)
{
	struct store_opts opts = { .no_sync = true };
	struct netd_err e = { 0 };

	assert_int_equal(store_open(f->dir, &opts, &f->s, &e), 0);
	assert_int_equal(model_open(f->s, &f->m), 0);
	assert_int_equal(ipam_open(f->s, &f->m, NULL, &f->ip), 0);
}

static void fx_close(struct fx *f)
{
	ipam_close(f->ip);
	store_close(f->s);
	f->ip = NULL;
	f->s = NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/netd-test-ipam-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	fx_open(f);
	f->now = T0;
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fx_close(f);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- builders ---- */

static struct addr A(const char *s)
{
	struct addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static struct prefix P(const char *s)
{
	struct prefix p;

	assert_int_equal(prefix_parse(s, true, &p), 0);
	return p;
}

static const char *S(const struct addr *a)
{
	static char buf[8][ADDR_STRLEN];
	static unsigned i;

	return addr_print(a, buf[i++ % 8], ADDR_STRLEN);
}

static void net_init(struct model_network *n, const char *name, const char *v4subnet)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->team_mode = TEAM_802_3AD;
	if (v4subnet) {
		n->has_v4 = true;
		n->v4_subnet = P(v4subnet);
	}
}

static void net_v6(struct model_network *n, const char *prefix)
{
	if (prefix) {
		n->v6_mode = MODEL_V6_EXPLICIT;
		n->v6_prefix = P(prefix);
	} else {
		n->v6_mode = MODEL_V6_AUTO;
	}
}

static void net_router(struct model_network *n, const char *r)
{
	struct addr a = A(r);

	if (a.family == ADDR_V4) {
		n->has_v4_router = true;
		n->v4_router = a;
	} else {
		n->has_v6_router = true;
		n->v6_router = a;
	}
}

/* Add a range to the family list given by @v6 (not by the addresses, so a
 * wrong-family range can be built). */
static void net_range_fam(struct model_network *n, bool v6, const char *name, const char *first, const char *last)
{
	struct model_range **rs = v6 ? &n->v6_ranges : &n->v4_ranges;
	size_t *nr = v6 ? &n->n_v6_ranges : &n->n_v4_ranges;
	struct model_range *r;

	*rs = realloc(*rs, (*nr + 1) * sizeof(**rs));
	assert_non_null(*rs);
	r = &(*rs)[(*nr)++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->first = A(first);
	r->last = A(last);
}

static void net_range(struct model_network *n, const char *name, const char *first, const char *last)
{
	net_range_fam(n, A(first).family == ADDR_V6, name, first, last);
}

static void node_init(struct model_node *n, const char *name)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
}

static struct model_attach *node_attach(struct model_node *n, const char *net)
{
	struct model_attach *at;

	n->nets = realloc(n->nets, (n->n_nets + 1) * sizeof(*n->nets));
	assert_non_null(n->nets);
	at = &n->nets[n->n_nets++];
	memset(at, 0, sizeof(*at));
	snprintf(at->network, sizeof(at->network), "%s", net);
	return at;
}

static void attach_hint(struct model_attach *at, const char *hint)
{
	struct addr a = A(hint);

	if (a.family == ADDR_V4) {
		at->has_v4_hint = true;
		at->v4_hint = a;
	} else {
		at->has_v6_hint = true;
		at->v6_hint = a;
	}
}

/* ---- operations, each one write transaction ---- */

struct op {
	struct fx *f;
	struct model_network *net;
	struct model_node *node;
	const char *name, *name2;
	struct ipam_request rq;
	struct addr addr;
	struct netd_err e;
};

static int net_put_fn(struct store_txn *t, void *arg)
{
	struct op *o = arg;
	struct model_network old = { 0 };
	int rc = model_network_get(&o->f->m, t, o->net->name, &old);

	netd_err_clear(&o->e);
	if (rc < 0 && rc != NETD_ENOTFOUND)
		return rc;
	rc = ipam_network_put(o->f->ip, t, rc == 0 ? &old : NULL, o->net, o->f->now, &o->e);
	model_network_clear(&old);
	return rc;
}

static int net_put(struct fx *f, struct model_network *n, struct netd_err *e)
{
	struct op o = { .f = f, .net = n };
	int rc = store_update(f->s, net_put_fn, &o);

	if (e)
		*e = o.e;
	return rc;
}

static void net_put_ok(struct fx *f, struct model_network *n)
{
	struct netd_err e = { 0 };
	int rc = net_put(f, n, &e);

	if (rc)
		print_error("net_put %s: %d %s: %s\n", n->name, rc, e.path, e.msg);
	assert_int_equal(rc, 0);
}

static int net_del_fn(struct store_txn *t, void *arg)
{
	struct op *o = arg;

	netd_err_clear(&o->e);
	return ipam_network_del(o->f->ip, t, o->name, &o->e);
}

static int net_del(struct fx *f, const char *name, struct netd_err *e)
{
	struct op o = { .f = f, .name = name };
	int rc = store_update(f->s, net_del_fn, &o);

	if (e)
		*e = o.e;
	return rc;
}

static int node_put_fn(struct store_txn *t, void *arg)
{
	struct op *o = arg;
	struct model_node old = { 0 };
	int rc = model_node_get(&o->f->m, t, o->node->name, &old);

	netd_err_clear(&o->e);
	if (rc < 0 && rc != NETD_ENOTFOUND)
		return rc;
	const struct model_node *po = rc == 0 ? &old : NULL;
	rc = ipam_node_sync(o->f->ip, t, po, o->node, o->f->now, &o->e);
	if (rc == 0)
		rc = model_node_put(&o->f->m, t, po, o->node, &o->e);
	model_node_clear(&old);
	return rc;
}

static int node_put(struct fx *f, struct model_node *n, struct netd_err *e)
{
	struct op o = { .f = f, .node = n };
	int rc = store_update(f->s, node_put_fn, &o);

	if (e)
		*e = o.e;
	return rc;
}

static void node_put_ok(struct fx *f, struct model_node *n)
{
	struct netd_err e = { 0 };
	int rc = node_put(f, n, &e);

	if (rc)
		print_error("node_put %s: %d %s: %s\n", n->name, rc, e.path, e.msg);
	assert_int_equal(rc, 0);
}

static int node_del_fn(struct store_txn *t, void *arg)
{
	struct op *o = arg;
	struct model_node old = { 0 };
	int rc = model_node_get(&o->f->m, t, o->name, &old);

	netd_err_clear(&o->e);
	if (rc == 0)
		rc = ipam_node_sync(o->f->ip, t, &old, NULL, o->f->now, &o->e);
	if (rc == 0)
		rc = model_node_del(&o->f->m, t, &old);
	model_node_clear(&old);
	return rc;
}

static void node_del_ok(struct fx *f, const char *name)
{
	struct op o = { .f = f, .name = name };

	assert_int_equal(store_update(f->s, node_del_fn, &o), 0);
}

static int rename_fn(struct store_txn *t, void *arg)
{
	struct op *o = arg;

	netd_err_clear(&o->e);
	return ipam_node_rename(o->f->ip, t, o->name, o->name2, &o->e);
}

static int vip_fn(struct store_txn *t, void *arg)
{
	struct op *o = arg;

	netd_err_clear(&o->e);
	return ipam_alloc(o->f->ip, t, &o->rq, o->f->now, &o->addr, &o->e);
}

/* Allocate a VIP; @hint may be NULL. */
static int vip(struct fx *f, const char *net, int fam, const char *owner, const char *hint, struct addr *out,
	       struct netd_err *e)
{
	struct addr h;
	struct op o = { .f = f, .rq = { .network = net, .family = fam, .owner_kind = OWNER_VIP, .owner = owner } };
	int rc;

	if (hint) {
		h = A(hint);
		o.rq.hint = &h;
	}
	rc = store_update(f->s, vip_fn, &o);
	if (rc == 0 && out)
		*out = o.addr;
	if (e)
		*e = o.e;
	return rc;
}

/* Allocate a VIP that must succeed; returns its address as text. */
static const char *vip_ok(struct fx *f, const char *net, int fam, const char *owner, const char *hint)
{
	struct netd_err e = { 0 };
	struct addr a;
	int rc = vip(f, net, fam, owner, hint, &a, &e);

	if (rc)
		print_error("vip %s: %d %s: %s\n", owner, rc, e.path, e.msg);
	assert_int_equal(rc, 0);
	return S(&a);
}

static int release_fn(struct store_txn *t, void *arg)
{
	struct op *o = arg;

	netd_err_clear(&o->e);
	return ipam_release(o->f->ip, t, o->name, &o->addr, o->f->now, &o->e);
}

static int release(struct fx *f, const char *net, const char *addr, struct netd_err *e)
{
	struct op o = { .f = f, .name = net, .addr = A(addr) };
	int rc = store_update(f->s, release_fn, &o);

	if (e)
		*e = o.e;
	return rc;
}

/* The address of (kind, owner) on (net, fam) as text, with its state, or "none". */
static const char *addr_of(struct fx *f, uint8_t kind, const char *owner, const char *net, int fam, uint8_t *state)
{
	struct store_txn *t;
	struct model_alloc a;
	int rc;

	assert_int_equal(store_read_begin(f->s, &t), 0);
	rc = model_alloc_by_owner(&f->m, t, kind, owner, net, fam, &a);
	store_read_end(t);
	if (rc == NETD_ENOTFOUND)
		return "none";
	assert_int_equal(rc, 0);
	if (state)
		*state = a.state;
	return S(&a.addr);
}

static const char *node_addr(struct fx *f, const char *node, const char *net, int fam)
{
	return addr_of(f, OWNER_NODE, node, net, fam, NULL);
}

static void net_get(struct fx *f, const char *name, struct model_network *out)
{
	struct store_txn *t;

	assert_int_equal(store_read_begin(f->s, &t), 0);
	assert_int_equal(model_network_get(&f->m, t, name, out), 0);
	store_read_end(t);
}

/* Utilization entry of range @range (family @fam) of network @name. */
static struct ipam_util util_of(struct fx *f, const char *name, int fam, const char *range)
{
	struct model_network n = { 0 };
	struct ipam_util *u = NULL, r = { 0 };
	struct store_txn *t;
	size_t nu = 0;
	bool found = false;

	assert_int_equal(store_read_begin(f->s, &t), 0);
	assert_int_equal(model_network_get(&f->m, t, name, &n), 0);
	assert_int_equal(ipam_utilization(f->ip, t, &n, &u, &nu), 0);
	store_read_end(t);
	for (size_t i = 0; i < nu; i++) {
		if (u[i].family == fam && strcmp(u[i].range, range) == 0) {
			r = u[i];
			found = true;
		}
	}
	free(u);
	model_network_clear(&n);
	assert_true(found);
	return r;
}

/* Entries in ipam's private table @tbl whose key starts with network NUL family. */
static uint64_t private_entries(struct fx *f, const char *tbl_name, const char *net, int fam)
{
	store_tbl tbl;
	struct store_txn *t;
	struct store_cursor *c;
	struct store_val k;
	uint8_t p[MODEL_NAME_MAX + 1];
	size_t pn = strlen(net) + 2;
	uint64_t n = 0;
	int rc;

	memcpy(p, net, pn - 2);
	p[pn - 2] = 0;
	p[pn - 1] = (uint8_t)fam;
	assert_int_equal(store_table(f->s, tbl_name, &tbl), 0);
	assert_int_equal(store_read_begin(f->s, &t), 0);
	assert_int_equal(store_cursor_open(t, tbl, &c), 0);
	for (rc = store_cursor_seek(c, p, pn, &k, NULL); rc == 0; rc = store_cursor_next(c, &k, NULL)) {
		if (k.n < pn || memcmp(k.p, p, pn) != 0)
			break;
		n++;
	}
	store_cursor_close(c);
	store_read_end(t);
	return n;
}

/* The usual admin network: 10.0.0.0/24, router .1, range host .10-.250. */
static void admin_net(struct model_network *n, const char *name, const char *subnet, bool primary)
{
	char first[32], last[32], router[32];
	struct prefix p = P(subnet);

	net_init(n, name, subnet);
	n->primary = primary;
	snprintf(router, sizeof(router), "%u.%u.%u.1", p.a.b[0], p.a.b[1], p.a.b[2]);
	snprintf(first, sizeof(first), "%u.%u.%u.10", p.a.b[0], p.a.b[1], p.a.b[2]);
	snprintf(last, sizeof(last), "%u.%u.%u.250", p.a.b[0], p.a.b[1], p.a.b[2]);
	net_router(n, router);
	net_range(n, "host", first, last);
}

static void create_admin(struct fx *f, const char *name, const char *subnet, bool primary)
{
	struct model_network n;

	admin_net(&n, name, subnet, primary);
	net_put_ok(f, &n);
	model_network_clear(&n);
}

/* ---- ipam_network_check: a table ---- */

static void m_overlap(struct model_network *n) { net_range(n, "dhcp", "10.0.0.200", "10.0.0.254"); }
static void m_range_outside(struct model_network *n) { n->v4_ranges[0].last = A("10.0.1.5"); }
static void m_first_gt_last(struct model_network *n) { n->v4_ranges[0].first = A("10.0.0.100"); n->v4_ranges[0].last = A("10.0.0.50"); }
static void m_router_outside(struct model_network *n) { n->v4_router = A("10.0.1.1"); }
static void m_router_network(struct model_network *n) { n->v4_router = A("10.0.0.0"); }
static void m_router_bcast(struct model_network *n) { n->v4_router = A("10.0.0.255"); }
static void m_router_in_range(struct model_network *n) { n->v4_router = A("10.0.0.20"); }
static void m_range_network(struct model_network *n) { n->v4_ranges[0].first = A("10.0.0.0"); }
static void m_range_bcast(struct model_network *n) { n->v4_ranges[0].last = A("10.0.0.255"); }
static void m_vlan_4095(struct model_network *n) { n->vlan = 4095; }
static void m_vlan_ok(struct model_network *n) { n->vlan = 4094; n->use_vlan = true; }
static void m_use_vlan_no_vlan(struct model_network *n) { n->use_vlan = true; }
static void m_v6_80(struct model_network *n) { net_v6(n, "fd00:1:2:3:4::/80"); }
static void m_v6_64(struct model_network *n) { net_v6(n, "fd00:1:2:3::/64"); }
static void m_v6_80_ranges(struct model_network *n) { net_v6(n, "fd00:1:2:3:4::/80"); net_range(n, "host", "fd00:1:2:3:4::10", "fd00:1:2:3:4::ff"); }
static void m_v6_range_outside(struct model_network *n) { net_v6(n, "fd00:1:2:3::/64"); net_range(n, "host", "fd00:1:2:3::10", "fd00:1:2:4::ff"); }
static void m_v6_auto(struct model_network *n) { net_v6(n, NULL); }
static void m_v4_range_v6_addr(struct model_network *n) { net_range_fam(n, false, "v6ish", "fd00::1", "fd00::2"); }
static void m_dup_names(struct model_network *n) { net_range(n, "host", "10.0.0.251", "10.0.0.252"); }
static void m_mtu_low(struct model_network *n) { n->mtu = 67; }
static void m_mtu_ok(struct model_network *n) { n->mtu = 68; }
static void m_team_bad(struct model_network *n) { n->team_mode = 7; }
static void m_slash31(struct model_network *n)
{
	n->v4_subnet = P("10.0.0.0/31");
	n->has_v4_router = false;
	n->v4_ranges[0].first = A("10.0.0.0");
	n->v4_ranges[0].last = A("10.0.0.1");
}

#define NP "/netd:networks/network[name='admin']"

static void test_network_check_table(void **state)
{
	static const struct {
		const char *what;
		void (*mutate)(struct model_network *n);
		int code;
		const char *path;
	} rows[] = {
		{ "base network", NULL, 0, "" },
		{ "overlapping ranges", m_overlap, NETD_EINVAL, NP "/ipv4/range[name='dhcp']/first" },
		{ "range outside subnet", m_range_outside, NETD_EINVAL, NP "/ipv4/range[name='host']/last" },
		{ "first > last", m_first_gt_last, NETD_EINVAL, NP "/ipv4/range[name='host']/last" },
		{ "router outside subnet", m_router_outside, NETD_EINVAL, NP "/ipv4/router" },
		{ "router = network", m_router_network, NETD_EINVAL, NP "/ipv4/router" },
		{ "router = broadcast", m_router_bcast, NETD_EINVAL, NP "/ipv4/router" },
		{ "router inside a range", m_router_in_range, 0, "" },
		{ "range covers network", m_range_network, NETD_EINVAL, NP "/ipv4/range[name='host']/first" },
		{ "range covers broadcast", m_range_bcast, NETD_EINVAL, NP "/ipv4/range[name='host']/last" },
		{ "vlan 4095", m_vlan_4095, NETD_EINVAL, NP "/vlan" },
		{ "vlan 4094 with use-vlan", m_vlan_ok, 0, "" },
		{ "use-vlan without vlan (0)", m_use_vlan_no_vlan, NETD_EINVAL, NP "/use-vlan" },
		{ "v6 /80 without ranges", m_v6_80, NETD_EINVAL, NP "/ipv6/prefix" },
		{ "v6 /64 without ranges", m_v6_64, 0, "" },
		{ "v6 /80 with ranges", m_v6_80_ranges, 0, "" },
		{ "v6 range outside prefix", m_v6_range_outside, NETD_EINVAL, NP "/ipv6/range[name='host']/last" },
		{ "v6 auto", m_v6_auto, 0, "" },
		{ "wrong-family range", m_v4_range_v6_addr, NETD_EINVAL, NP "/ipv4/range[name='v6ish']/first" },
		{ "duplicate range names", m_dup_names, NETD_EINVAL, NP "/ipv4/range[name='host']" },
		{ "mtu 67", m_mtu_low, NETD_EINVAL, NP "/mtu" },
		{ "mtu 68", m_mtu_ok, 0, "" },
		{ "team mode 7", m_team_bad, NETD_EINVAL, NP "/team-mode" },
		{ "/31 without network/broadcast", m_slash31, 0, "" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct model_network n;
		struct netd_err e = { 0 };
		int rc;

		admin_net(&n, "admin", "10.0.0.0/24", false);
		if (rows[i].mutate)
			rows[i].mutate(&n);
		rc = ipam_network_check(&n, &e);
		if (rc != rows[i].code || strcmp(e.path, rows[i].path) != 0)
			print_error("row '%s': got %d path '%s' msg '%s'\n", rows[i].what, rc, e.path, e.msg);
		assert_int_equal(rc, rows[i].code);
		assert_string_equal(e.path, rows[i].path);
		if (rc)
			assert_true(e.msg[0] != 0);
		model_network_clear(&n);
	}
}

static void test_network_check_messages(void **state)
{
	struct model_network n;
	struct netd_err e = { 0 };
	(void)state;

	admin_net(&n, "admin", "10.0.0.0/24", false);
	m_v6_80(&n);
	assert_int_equal(ipam_network_check(&n, &e), NETD_EINVAL);
	assert_string_equal(e.msg, "prefix /80 is too long for derived addressing: needs /64 or shorter, or give ranges");
	model_network_clear(&n);

	netd_err_clear(&e);
	admin_net(&n, "admin", "10.0.0.0/24", false);
	m_overlap(&n);
	assert_int_equal(ipam_network_check(&n, &e), NETD_EINVAL);
	assert_string_equal(e.msg, "10.0.0.200-10.0.0.254 overlaps range 'host' (10.0.0.10-10.0.0.250)");
	model_network_clear(&n);
}

/* ---- network put ---- */

static void test_second_primary_refused(void **state)
{
	struct fx *f = *state;
	struct model_network n;
	struct netd_err e = { 0 };

	create_admin(f, "admin", "10.0.0.0/24", true);
	admin_net(&n, "other", "10.1.0.0/24", true);
	assert_int_equal(net_put(f, &n, &e), NETD_EINVAL);
	assert_string_equal(e.path, "/netd:networks/network[name='other']/primary");
	assert_non_null(strstr(e.msg, "'admin'"));
	model_network_clear(&n);
	/* updating the primary itself is fine */
	create_admin(f, "admin", "10.0.0.0/24", true);
}

/* ---- allocation order ---- */

static void test_existing_is_idempotent(void **state)
{
	struct fx *f = *state;
	struct model_node n;

	create_admin(f, "admin", "10.0.0.0/24", true);
	node_init(&n, "n1");
	node_attach(&n, "admin");
	node_put_ok(f, &n);
	assert_string_equal(node_addr(f, "n1", "admin", ADDR_V4), "10.0.0.10");
	f->now += 10;
	node_put_ok(f, &n);
	node_put_ok(f, &n);
	assert_string_equal(node_addr(f, "n1", "admin", ADDR_V4), "10.0.0.10");
	assert_int_equal(util_of(f, "admin", ADDR_V4, "host").used, 1);
	/* VIPs too: the same name gets the same address */
	assert_string_equal(vip_ok(f, "admin", ADDR_V4, "vip1", NULL), "10.0.0.11");
	assert_string_equal(vip_ok(f, "admin", ADDR_V4, "vip1", NULL), "10.0.0.11");
	model_node_clear(&n);
}

static void test_hints(void **state)
{
	struct fx *f = *state;
	struct model_node n1, n2, n3;
	struct netd_err e = { 0 };

	create_admin(f, "admin", "10.0.0.0/24", true);
	node_init(&n1, "n1");
	attach_hint(node_attach(&n1, "admin"), "10.0.0.100");
	node_put_ok(f, &n1);
	assert_string_equal(node_addr(f, "n1", "admin", ADDR_V4), "10.0.0.100");

	/* taken by n1 */
	node_init(&n2, "n2");
	attach_hint(node_attach(&n2, "admin"), "10.0.0.100");
	assert_int_equal(node_put(f, &n2, &e), NETD_EEXIST);
	assert_string_equal(e.path, "/netd:nodes/node[name='n2']/network[name='admin']/ipv4-hint");
	assert_non_null(strstr(e.msg, "node 'n1'"));
	assert_string_equal(node_addr(f, "n2", "admin", ADDR_V4), "none");

	/* outside the subnet */
	node_init(&n3, "n3");
	attach_hint(node_attach(&n3, "admin"), "10.9.0.100");
	assert_int_equal(node_put(f, &n3, &e), NETD_EINVAL);
	assert_string_equal(e.path, "/netd:nodes/node[name='n3']/network[name='admin']/ipv4-hint");
	assert_non_null(strstr(e.msg, "10.9.0.100"));

	/* the router is never handed out, even on request */
	n3.nets[0].v4_hint = A("10.0.0.1");
	assert_int_equal(node_put(f, &n3, &e), NETD_EINVAL);

	/* the hint split the free interval: next-free still starts at .10 */
	n3.nets[0].has_v4_hint = false;
	node_put_ok(f, &n3);
	assert_string_equal(node_addr(f, "n3", "admin", ADDR_V4), "10.0.0.10");
	model_node_clear(&n1);
	model_node_clear(&n2);
	model_node_clear(&n3);
}

static void test_unknown_network_and_range(void **state)
{
	struct fx *f = *state;
	struct model_node n;
	struct netd_err e = { 0 };

	create_admin(f, "admin", "10.0.0.0/24", true);
	node_init(&n, "n1");
	node_attach(&n, "nope");
	assert_int_equal(node_put(f, &n, &e), NETD_ENOTFOUND);
	assert_string_equal(e.path, "/netd:nodes/node[name='n1']/network[name='nope']");
	model_node_clear(&n);

	netd_err_clear(&e);
	node_init(&n, "n1");
	snprintf(node_attach(&n, "admin")->range, MODEL_NAME_MAX, "dhcp");
	assert_int_equal(node_put(f, &n, &e), NETD_ENOTFOUND);
	assert_string_equal(e.path, "/netd:nodes/node[name='n1']/network[name='admin']/range");
	model_node_clear(&n);
}

static void test_range_choice(void **state)
{
	struct fx *f = *state;
	struct model_network net;
	struct model_node n;

	/* without "host", the first range is the default */
	net_init(&net, "svc", "10.5.0.0/24");
	net_range(&net, "bmc", "10.5.0.100", "10.5.0.120");
	net_range(&net, "dhcp", "10.5.0.10", "10.5.0.20");
	net_put_ok(f, &net);
	node_init(&n, "n1");
	node_attach(&n, "svc");
	node_put_ok(f, &n);
	assert_string_equal(node_addr(f, "n1", "svc", ADDR_V4), "10.5.0.100");
	model_node_clear(&n);
	/* an explicit range */
	node_init(&n, "n2");
	snprintf(node_attach(&n, "svc")->range, MODEL_NAME_MAX, "dhcp");
	node_put_ok(f, &n);
	assert_string_equal(node_addr(f, "n2", "svc", ADDR_V4), "10.5.0.10");
	model_node_clear(&n);
	model_network_clear(&net);
}

static void test_host_part_alignment(void **state)
{
	struct fx *f = *state;
	struct model_node n1, n2;
	struct model_attach *at;

	create_admin(f, "admin", "10.0.0.0/24", true);
	create_admin(f, "storage", "10.1.0.0/24", false);

	/* storage listed first: the primary is still allocated first */
	node_init(&n1, "n1");
	node_attach(&n1, "storage");
	attach_hint(node_attach(&n1, "admin"), "10.0.0.17");
	node_put_ok(f, &n1);
	assert_string_equal(node_addr(f, "n1", "admin", ADDR_V4), "10.0.0.17");
	assert_string_equal(node_addr(f, "n1", "storage", ADDR_V4), "10.1.0.17");

	/* .18 on storage is taken: n2 gets the first free there */
	assert_string_equal(vip_ok(f, "storage", ADDR_V4, "vip18", "10.1.0.18"), "10.1.0.18");
	node_init(&n2, "n2");
	at = node_attach(&n2, "admin");
	attach_hint(at, "10.0.0.18");
	node_attach(&n2, "storage");
	node_put_ok(f, &n2);
	assert_string_equal(node_addr(f, "n2", "admin", ADDR_V4), "10.0.0.18");
	assert_string_equal(node_addr(f, "n2", "storage", ADDR_V4), "10.1.0.10");
	model_node_clear(&n1);
	model_node_clear(&n2);
}

static void test_first_free_skips_reserved(void **state)
{
	struct fx *f = *state;
	struct model_network n;

	/* router .3 inside the range, range covers everything but .0 and .7 */
	net_init(&n, "tiny", "10.9.0.0/29");
	net_router(&n, "10.9.0.3");
	net_range(&n, "host", "10.9.0.1", "10.9.0.6");
	net_put_ok(f, &n);
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "a", NULL), "10.9.0.1");
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "b", NULL), "10.9.0.2");
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "c", NULL), "10.9.0.4");
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "d", NULL), "10.9.0.5");
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "e", NULL), "10.9.0.6");
	model_network_clear(&n);
}

static void test_exhaustion(void **state)
{
	struct fx *f = *state;
	struct model_network n;
	struct netd_err e = { 0 };
	char name[8];

	net_init(&n, "tiny", "10.9.0.0/29");
	net_router(&n, "10.9.0.1");
	net_range(&n, "host", "10.9.0.1", "10.9.0.6");
	net_put_ok(f, &n);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		vip_ok(f, "tiny", ADDR_V4, name, NULL);
	}
	assert_int_equal(vip(f, "tiny", ADDR_V4, "v5", NULL, NULL, &e), NETD_EEXHAUSTED);
	assert_string_equal(e.msg, "network 'tiny' ipv4 range 'host' (10.9.0.1-10.9.0.6) is exhausted");
	assert_string_equal(e.path, "/netd:networks/network[name='tiny']/ipv4/range[name='host']");
	struct ipam_util u = util_of(f, "tiny", ADDR_V4, "host");
	assert_string_equal(u.size, "6");
	assert_int_equal(u.used, 5);
	assert_string_equal(u.free, "0");
	model_network_clear(&n);
}

static void test_hold_down(void **state)
{
	struct fx *f = *state;
	struct model_network n;
	struct netd_err e = { 0 };
	uint8_t st = 0;

	net_init(&n, "tiny", "10.9.0.0/29");
	net_range(&n, "host", "10.9.0.1", "10.9.0.6");
	net_put_ok(f, &n);
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "a", NULL), "10.9.0.1");
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "b", NULL), "10.9.0.2");
	assert_int_equal(release(f, "tiny", "10.9.0.1", &e), 0);
	assert_int_equal(release(f, "tiny", "10.9.0.1", &e), 0);   /* idempotent */
	assert_string_equal(addr_of(f, OWNER_VIP, "a", "tiny", ADDR_V4, &st), "10.9.0.1");
	assert_int_equal(st, ALLOC_HELD);

	/* not reused while others are free */
	f->now += 10;
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "c", NULL), "10.9.0.3");
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "d", NULL), "10.9.0.4");
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "e", NULL), "10.9.0.5");
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "f", NULL), "10.9.0.6");
	assert_int_equal(util_of(f, "tiny", ADDR_V4, "host").held, 1);
	/* nothing else free: the held one is reused before its hold-down ends */
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "g", NULL), "10.9.0.1");
	assert_string_equal(addr_of(f, OWNER_VIP, "a", "tiny", ADDR_V4, NULL), "none");
	assert_int_equal(util_of(f, "tiny", ADDR_V4, "host").held, 0);
	assert_int_equal(util_of(f, "tiny", ADDR_V4, "host").used, 6);

	/* after the hold-down a released address is free again */
	assert_int_equal(release(f, "tiny", "10.9.0.2", &e), 0);
	assert_int_equal(vip(f, "tiny", ADDR_V4, "h", NULL, NULL, &e), 0);   /* takes the held .2 */
	assert_int_equal(release(f, "tiny", "10.9.0.4", &e), 0);
	f->now += HOLD - 1;
	assert_int_equal(util_of(f, "tiny", ADDR_V4, "host").held, 1);
	f->now += 1;
	assert_string_equal(vip_ok(f, "tiny", ADDR_V4, "i", NULL), "10.9.0.4");
	assert_int_equal(util_of(f, "tiny", ADDR_V4, "host").held, 0);
	assert_string_equal(addr_of(f, OWNER_VIP, "d", "tiny", ADDR_V4, NULL), "none");

	/* unknown address */
	assert_int_equal(release(f, "tiny", "10.9.0.7", &e), NETD_ENOTFOUND);
	model_network_clear(&n);
}

static void test_expiry_merges_free_intervals(void **state)
{
	struct fx *f = *state;
	struct netd_err e = { 0 };
	const char *order[] = { "10.0.0.12", "10.0.0.10", "10.0.0.14", "10.0.0.11", "10.0.0.13" };
	char name[8];

	create_admin(f, "admin", "10.0.0.0/24", true);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		vip_ok(f, "admin", ADDR_V4, name, NULL);
	}
	assert_int_equal(private_entries(f, "ipam_free", "admin", ADDR_V4), 1);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(release(f, "admin", order[i], &e), 0);
		f->now += 1;
	}
	f->now += HOLD;
	/* the allocation expires all five holds, merging them back */
	assert_string_equal(vip_ok(f, "admin", ADDR_V4, "w", NULL), "10.0.0.10");
	assert_int_equal(private_entries(f, "ipam_free", "admin", ADDR_V4), 1);
	assert_int_equal(private_entries(f, "ipam_held", "admin", ADDR_V4), 0);
	assert_int_equal(release(f, "admin", "10.0.0.10", &e), 0);
	f->now += HOLD;
	assert_string_equal(vip_ok(f, "admin", ADDR_V4, "x", "10.0.0.12"), "10.0.0.12");
	/* .10-.11 and .13-.250 */
	assert_int_equal(private_entries(f, "ipam_free", "admin", ADDR_V4), 2);
}

static void test_sticky_readd(void **state)
{
	struct fx *f = *state;
	struct model_node n1, n2;
	uint8_t st = 0;

	create_admin(f, "admin", "10.0.0.0/24", true);
	node_init(&n1, "n1");
	node_attach(&n1, "admin");
	node_put_ok(f, &n1);
	assert_string_equal(node_addr(f, "n1", "admin", ADDR_V4), "10.0.0.10");
	f->now += 5;
	node_del_ok(f, "n1");
	assert_string_equal(addr_of(f, OWNER_NODE, "n1", "admin", ADDR_V4, &st), "10.0.0.10");
	assert_int_equal(st, ALLOC_HELD);

	node_init(&n2, "n2");
	node_attach(&n2, "admin");
	node_put_ok(f, &n2);
	assert_string_equal(node_addr(f, "n2", "admin", ADDR_V4), "10.0.0.11");

	f->now += 100;
	node_put_ok(f, &n1);
	assert_string_equal(addr_of(f, OWNER_NODE, "n1", "admin", ADDR_V4, &st), "10.0.0.10");
	assert_int_equal(st, ALLOC_ACTIVE);
	assert_int_equal(util_of(f, "admin", ADDR_V4, "host").used, 2);
	assert_int_equal(util_of(f, "admin", ADDR_V4, "host").held, 0);
	assert_int_equal(private_entries(f, "ipam_held", "admin", ADDR_V4), 0);

	/* detaching (not deleting) holds as well */
	free(n1.nets);
	n1.nets = NULL;
	n1.n_nets = 0;
	node_put_ok(f, &n1);
	assert_int_equal(util_of(f, "admin", ADDR_V4, "host").held, 1);
	model_node_clear(&n1);
	model_node_clear(&n2);
}

static int rename_nodes(struct fx *f, const char *from, const char *to, struct netd_err *e)
{
	struct op o = { .f = f, .name = from, .name2 = to };
	int rc = store_update(f->s, rename_fn, &o);

	if (e)
		*e = o.e;
	return rc;
}

static void test_rename(void **state)
{
	struct fx *f = *state;
	struct model_node n1, n2;
	struct netd_err e = { 0 };

	create_admin(f, "admin", "10.0.0.0/24", true);
	node_init(&n1, "n1");
	node_attach(&n1, "admin");
	node_put_ok(f, &n1);
	node_init(&n2, "n2");
	node_attach(&n2, "admin");
	node_put_ok(f, &n2);
	assert_int_equal(rename_nodes(f, "n1", "n9", &e), 0);
	assert_string_equal(node_addr(f, "n1", "admin", ADDR_V4), "none");
	assert_string_equal(node_addr(f, "n9", "admin", ADDR_V4), "10.0.0.10");

	/* onto a name with active allocations: refused */
	assert_int_equal(rename_nodes(f, "n9", "n2", &e), NETD_EEXIST);
	assert_string_equal(e.path, "/netd:nodes/node[name='n2']");
	assert_string_equal(node_addr(f, "n9", "admin", ADDR_V4), "10.0.0.10");

	/* onto a deleted node's name: its hold ends, the address is free again */
	node_del_ok(f, "n2");
	assert_int_equal(rename_nodes(f, "n9", "n2", &e), 0);
	assert_string_equal(node_addr(f, "n2", "admin", ADDR_V4), "10.0.0.10");
	assert_int_equal(util_of(f, "admin", ADDR_V4, "host").held, 0);
	assert_int_equal(private_entries(f, "ipam_held", "admin", ADDR_V4), 0);
	assert_string_equal(vip_ok(f, "admin", ADDR_V4, "v", NULL), "10.0.0.11");
	model_node_clear(&n1);
	model_node_clear(&n2);
}

static void test_family_removal_refused(void **state)
{
	struct fx *f = *state;
	struct model_network n;
	struct netd_err e = { 0 };

	net_init(&n, "dual", "10.2.0.0/24");
	net_range(&n, "host", "10.2.0.10", "10.2.0.20");
	net_v6(&n, "fd00:2::/64");
	net_put_ok(f, &n);
	vip_ok(f, "dual", ADDR_V6, "a", NULL);
	n.v6_mode = MODEL_V6_NONE;
	assert_int_equal(net_put(f, &n, &e), NETD_EINVAL);
	assert_string_equal(e.path, "/netd:networks/network[name='dual']/ipv6");
	/* released (held) ones do not block it; they are dropped */
	struct addr a = A(addr_of(f, OWNER_VIP, "a", "dual", ADDR_V6, NULL));
	char as[ADDR_STRLEN];
	assert_int_equal(release(f, "dual", addr_print(&a, as, sizeof(as)), &e), 0);
	net_put_ok(f, &n);
	assert_string_equal(addr_of(f, OWNER_VIP, "a", "dual", ADDR_V6, NULL), "none");
	assert_int_equal(private_entries(f, "ipam_held", "dual", ADDR_V6), 0);
	assert_int_equal(private_entries(f, "ipam_count", "dual", ADDR_V6), 0);
	model_network_clear(&n);
}

/* ---- v6 ---- */

static void derived_net(struct fx *f, const char *name, const char *prefix)
{
	struct model_network n;

	net_init(&n, name, NULL);
	n.primary = true;
	snprintf(n.dns_domain, sizeof(n.dns_domain), "example.com");
	net_v6(&n, prefix);
	net_put_ok(f, &n);
	model_network_clear(&n);
}

static void test_v6_derived(void **state)
{
	struct fx *f = *state;
	struct model_node n1, n2;
	struct model_network net;
	struct addr c0;
	char a1[ADDR_STRLEN];

	derived_net(f, "v6", "fd00:1:2:3::/64");
	net_get(f, "v6", &net);
	node_init(&n1, "n1");
	node_attach(&n1, "v6");
	node_put_ok(f, &n1);
	snprintf(a1, sizeof(a1), "%s", node_addr(f, "n1", "v6", ADDR_V6));
	ipam_derived_candidate(&net.v6_prefix, "n1.example.com", 0, &c0);
	assert_string_equal(a1, S(&c0));
	assert_true(prefix_contains(&net.v6_prefix, &c0));
	/* a fixed hash: this value must never change between versions */
	assert_string_equal(S(&c0), S(&c0));

	/* stable across calls and re-creation after the hold-down */
	node_put_ok(f, &n1);
	assert_string_equal(node_addr(f, "n1", "v6", ADDR_V6), a1);
	node_del_ok(f, "n1");
	f->now += HOLD + 1;
	node_put_ok(f, &n1);
	assert_string_equal(node_addr(f, "n1", "v6", ADDR_V6), a1);

	node_init(&n2, "n2");
	node_attach(&n2, "v6");
	node_put_ok(f, &n2);
	assert_string_not_equal(node_addr(f, "n2", "v6", ADDR_V6), a1);
	assert_int_equal(util_of(f, "v6", ADDR_V6, "derived").used, 2);
	model_node_clear(&n1);
	model_node_clear(&n2);
	model_network_clear(&net);
}

static void test_v6_derived_golden(void **state)
{
	struct addr a, b;
	struct prefix p = P("fd00:1:2:3::/64"), p48 = P("fd00:1:2::/48");
	(void)state;

	/* The derivation is a contract (addresses must survive upgrades):
	 * SipHash-2-4, key "netd-ipam-v6-iid", input name || be32(k). */
	ipam_derived_candidate(&p, "n1.example.com", 0, &a);
	ipam_derived_candidate(&p, "n1.example.com", 1, &b);
	assert_false(addr_eq(&a, &b));
	assert_string_equal(S(&a), "fd00:1:2:3:75a3:b5da:852e:71fa");
	/* a /48 keeps the upper 16 host bits zero */
	ipam_derived_candidate(&p48, "n1.example.com", 0, &b);
	assert_int_equal(b.b[6], 0);
	assert_int_equal(b.b[7], 0);
	assert_memory_equal(a.b + 8, b.b + 8, 8);
}

static void test_v6_derived_collision(void **state)
{
	struct fx *f = *state;
	struct model_network net;
	struct model_node n3;
	struct addr c0, c1;
	char hint[ADDR_STRLEN];

	derived_net(f, "v6", "fd00:1:2:3::/64");
	net_get(f, "v6", &net);
	ipam_derived_candidate(&net.v6_prefix, "n3.example.com", 0, &c0);
	ipam_derived_candidate(&net.v6_prefix, "n3.example.com", 1, &c1);
	snprintf(hint, sizeof(hint), "%s", S(&c0));
	/* someone else holds n3's first candidate */
	assert_string_equal(vip_ok(f, "v6", ADDR_V6, "squatter", hint), hint);
	node_init(&n3, "n3");
	node_attach(&n3, "v6");
	node_put_ok(f, &n3);
	assert_string_equal(node_addr(f, "n3", "v6", ADDR_V6), S(&c1));
	model_node_clear(&n3);
	model_network_clear(&net);
}

static void test_v6_auto_prefix(void **state)
{
	struct fx *f = *state;
	struct model_network a, b, c;
	char pa[PREFIX_STRLEN];

	derived_net(f, "auto1", NULL);
	net_get(f, "auto1", &a);
	assert_int_equal(a.v6_prefix.a.family, ADDR_V6);
	assert_int_equal(a.v6_prefix.len, 64);
	assert_int_equal(a.v6_prefix.a.b[0], 0xfd);
	assert_int_equal(a.v6_subnet_id, 1);
	assert_int_equal(a.v6_prefix.a.b[6], 0);
	assert_int_equal(a.v6_prefix.a.b[7], 1);
	prefix_print(&a.v6_prefix, pa, sizeof(pa));
	print_message("auto prefix: %s\n", pa);

	/* an update keeps it */
	a.mtu = 9000;
	net_put_ok(f, &a);
	model_network_clear(&a);

	/* it survives a reopen, and the next network gets the next subnet id
	 * under the same global id */
	fx_close(f);
	fx_open(f);
	net_get(f, "auto1", &a);
	char pa2[PREFIX_STRLEN];
	assert_string_equal(prefix_print(&a.v6_prefix, pa2, sizeof(pa2)), pa);
	assert_int_equal(a.mtu, 9000);
	net_init(&b, "auto2", NULL);
	net_v6(&b, NULL);
	net_put_ok(f, &b);
	assert_int_equal(b.v6_subnet_id, 2);
	net_get(f, "auto2", &c);
	assert_int_equal(c.v6_subnet_id, 2);
	assert_memory_equal(c.v6_prefix.a.b, a.v6_prefix.a.b, 6);
	assert_int_equal(c.v6_prefix.a.b[7], 2);
	/* a node gets an address in it */
	struct model_node n;
	node_init(&n, "n1");
	node_attach(&n, "auto2");
	node_put_ok(f, &n);
	struct addr got = A(node_addr(f, "n1", "auto2", ADDR_V6));
	assert_true(prefix_contains(&c.v6_prefix, &got));
	model_node_clear(&n);
	model_network_clear(&a);
	model_network_clear(&b);
	model_network_clear(&c);
}

static void test_v6_ranges_and_dual_stack(void **state)
{
	struct fx *f = *state;
	struct model_network n;
	struct model_node node;

	net_init(&n, "dual", "10.2.0.0/24");
	net_range(&n, "host", "10.2.0.10", "10.2.0.20");
	net_v6(&n, "2001:db8:0:2::/64");
	net_router(&n, "2001:db8:0:2::1");
	net_range(&n, "host", "2001:db8:0:2::1", "2001:db8:0:2::ff");
	net_put_ok(f, &n);
	node_init(&node, "n1");
	node_attach(&node, "dual");
	node_put_ok(f, &node);
	assert_string_equal(node_addr(f, "n1", "dual", ADDR_V4), "10.2.0.10");
	assert_string_equal(node_addr(f, "n1", "dual", ADDR_V6), "2001:db8:0:2::2");
	model_node_clear(&node);
	model_network_clear(&n);
}

/* ---- next-free on a nearly full /16 ---- */

#define BIG_TOTAL 65534u
#define BIG_FILL 64880u
#define BIG_FREE (BIG_TOTAL - BIG_FILL)   /* 654 */
#define BIG_BATCH 5000u
#define BIG_TIMED 1000u
#define HOLE_START 60000u   /* offsets of the free holes: 60000 + 8k, k < 654 */
#define HOLE_STEP 8u

static bool is_hole(unsigned off)
{
	return off >= HOLE_START && (off - HOLE_START) % HOLE_STEP == 0 && (off - HOLE_START) / HOLE_STEP < BIG_FREE;
}

struct batch {
	struct fx *f;
	const char *net;
	struct addr base;       /* first address of the range */
	unsigned from, to;      /* offsets [from, to) */
	bool fill;              /* take every non-hole offset by hint */
	bool probe;             /* allocate in a child transaction and abort it */
	const char *owner;      /* owner name prefix */
	struct addr *out;       /* one per allocation made */
	size_t n_out;
	struct netd_err e;
};

static int batch_alloc(struct batch *b, struct store_txn *t, unsigned i, const struct addr *hint)
{
	char owner[16];
	struct ipam_request rq = { .network = b->net, .family = ADDR_V4, .owner_kind = OWNER_VIP, .owner = owner,
				   .hint = hint };
	struct store_txn *child = NULL;
	struct addr a;
	int rc;

	snprintf(owner, sizeof(owner), "%s%u", b->owner, i);
	netd_err_clear(&b->e);
	if (b->probe) {
		rc = store_child_begin(t, &child);
		if (rc < 0)
			return rc;
		rc = ipam_alloc(b->f->ip, child, &rq, b->f->now, &a, &b->e);
		store_child_abort(child);
	} else {
		rc = ipam_alloc(b->f->ip, t, &rq, b->f->now, &a, &b->e);
	}
	if (rc == 0 && b->out)
		b->out[b->n_out++] = a;
	return rc;
}

static int batch_fn(struct store_txn *t, void *arg)
{
	struct batch *b = arg;
	int rc = 0;

	b->n_out = 0;
	for (unsigned i = b->from; rc == 0 && i < b->to; i++) {
		struct addr h = b->base;
		if (!b->fill) {
			rc = batch_alloc(b, t, i, NULL);
			continue;
		}
		if (is_hole(i))
			continue;
		assert_int_equal(addr_add(&h, i), 0);
		rc = batch_alloc(b, t, i, &h);
	}
	return rc;
}

/* @n next-free probes, each in a child transaction that is aborted, so all
 * of them see the same (nearly full or empty) state. Milliseconds. */
static double time_probes(struct fx *f, const char *net, unsigned n, struct addr *out)
{
	struct batch b = { .f = f, .net = net, .from = 0, .to = n, .probe = true, .owner = "p",
			   .out = out };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_update(f->s, batch_fn, &b), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(b.n_out, n);
	return (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

static int addr_qsort(const void *x, const void *y)
{
	return addr_cmp(x, y);
}

static void check_unique_in_range(const struct addr *v, size_t n, const char *first, const char *last)
{
	struct addr *s = malloc(n * sizeof(*s));
	struct addr lo = A(first), hi = A(last);

	assert_non_null(s);
	memcpy(s, v, n * sizeof(*s));
	for (size_t i = 0; i < n; i++)
		assert_true(addr_cmp(&lo, &s[i]) <= 0 && addr_cmp(&s[i], &hi) <= 0);
	qsort(s, n, sizeof(*s), addr_qsort);
	for (size_t i = 1; i < n; i++)
		assert_false(addr_eq(&s[i - 1], &s[i]));
	free(s);
}

static void test_next_free_full_slash16(void **state)
{
	struct fx *f = *state;
	struct model_network n;
	struct addr *full = calloc(BIG_TIMED, sizeof(struct addr)), *empty = calloc(BIG_TIMED, sizeof(struct addr));
	struct addr *rest = calloc(BIG_FREE, sizeof(struct addr)), first_hole = A("10.20.0.1"), expect;
	struct netd_err e = { 0 };
	double ms_full, ms_empty;

	assert_non_null(full);
	assert_non_null(empty);
	assert_non_null(rest);
	net_init(&n, "big", "10.20.0.0/16");
	net_range(&n, "host", "10.20.0.1", "10.20.255.254");
	net_put_ok(f, &n);
	model_network_clear(&n);
	net_init(&n, "empty", "10.21.0.0/16");
	net_range(&n, "host", "10.21.0.1", "10.21.255.254");
	net_put_ok(f, &n);
	model_network_clear(&n);

	/* Fill 64,880 of 65,534 by hint, leaving 654 single-address holes spread
	 * over the top 5,500 addresses: a range walk would pass 60,000 taken
	 * addresses before the first free one. */
	for (unsigned from = 0; from < BIG_TOTAL; from += BIG_BATCH) {
		struct batch b = { .f = f, .net = "big", .base = A("10.20.0.1"), .from = from, .fill = true, .owner = "v",
				   .to = from + BIG_BATCH < BIG_TOTAL ? from + BIG_BATCH : BIG_TOTAL };
		int rc = store_update(f->s, batch_fn, &b);
		if (rc)
			print_error("fill %u: %d %s\n", from, rc, b.e.msg);
		assert_int_equal(rc, 0);
	}
	struct ipam_util u = util_of(f, "big", ADDR_V4, "host");
	assert_int_equal(u.used, BIG_FILL);
	assert_string_equal(u.size, "65534");
	assert_string_equal(u.free, "654");
	assert_int_equal(private_entries(f, "ipam_free", "big", ADDR_V4), BIG_FREE);

	ms_full = time_probes(f, "big", BIG_TIMED, full);
	ms_empty = time_probes(f, "empty", BIG_TIMED, empty);
	printf("next-free x%u: 99%%-full /16 %.3f ms, empty /16 %.3f ms\n", BIG_TIMED, ms_full, ms_empty);

	/* every probe saw the first hole / the first address */
	assert_int_equal(addr_add(&first_hole, HOLE_START), 0);
	for (unsigned i = 0; i < BIG_TIMED; i++) {
		assert_true(addr_eq(&full[i], &first_hole));
		assert_string_equal(S(&empty[i]), "10.21.0.1");
	}
	assert_int_equal(util_of(f, "big", ADDR_V4, "host").used, BIG_FILL);

	/* the remaining 654 for real: exactly the holes, unique, in order */
	struct batch b = { .f = f, .net = "big", .from = 0, .to = BIG_FREE, .owner = "r", .out = rest };
	assert_int_equal(store_update(f->s, batch_fn, &b), 0);
	check_unique_in_range(rest, BIG_FREE, "10.20.0.1", "10.20.255.254");
	for (unsigned k = 0; k < BIG_FREE; k++) {
		expect = A("10.20.0.1");
		assert_int_equal(addr_add(&expect, HOLE_START + HOLE_STEP * k), 0);
		assert_true(addr_eq(&rest[k], &expect));
	}
	assert_int_equal(vip(f, "big", ADDR_V4, "last", NULL, NULL, &e), NETD_EEXHAUSTED);
	assert_string_equal(util_of(f, "big", ADDR_V4, "host").free, "0");
	free(full);
	free(empty);
	free(rest);
}

/* ---- utilization ---- */

static void test_utilization(void **state)
{
	struct fx *f = *state;
	struct model_network n;
	struct ipam_util u;
	struct netd_err e = { 0 };

	net_init(&n, "u", "10.3.0.0/24");
	net_router(&n, "10.3.0.10");   /* inside the range: never handed out */
	net_range(&n, "host", "10.3.0.10", "10.3.0.19");
	net_v6(&n, "fd00:3::/48");
	net_range(&n, "big", "fd00:3::", "fd00:3::ffff:ffff:ffff:ffff");
	net_range(&n, "small", "fd00:3:0:1::", "fd00:3:0:1::ff");
	net_put_ok(f, &n);
	assert_string_equal(vip_ok(f, "u", ADDR_V4, "a", NULL), "10.3.0.11");
	assert_string_equal(vip_ok(f, "u", ADDR_V4, "b", NULL), "10.3.0.12");
	assert_string_equal(vip_ok(f, "u", ADDR_V4, "c", NULL), "10.3.0.13");
	assert_int_equal(release(f, "u", "10.3.0.12", &e), 0);
	u = util_of(f, "u", ADDR_V4, "host");
	assert_string_equal(S(&u.first), "10.3.0.10");
	assert_string_equal(S(&u.last), "10.3.0.19");
	assert_string_equal(u.size, "10");
	assert_int_equal(u.used, 2);
	assert_int_equal(u.held, 1);
	assert_string_equal(u.free, "6");   /* 10 - 2 - 1 - router */

	/* v6: the subnet-router anycast address fd00:3:: is reserved */
	assert_string_equal(vip_ok(f, "u", ADDR_V6, "a", NULL), "fd00:3::1");
	u = util_of(f, "u", ADDR_V6, "big");
	assert_string_equal(u.size, "18446744073709551616");
	assert_int_equal(u.used, 1);
	assert_string_equal(u.free, "18446744073709551614");
	u = util_of(f, "u", ADDR_V6, "small");
	assert_string_equal(u.size, "256");
	assert_string_equal(u.free, "256");
	model_network_clear(&n);

	/* derived space of a /48 */
	derived_net(f, "d48", "fd00:4:4::/48");
	u = util_of(f, "d48", ADDR_V6, "derived");
	assert_string_equal(S(&u.first), "fd00:4:4::1");
	assert_string_equal(S(&u.last), "fd00:4:4:ffff:ffff:ffff:ffff:ff7f");
	assert_string_equal(u.size, "1208925819614629174706047");   /* 2^80 - 129 */
	assert_string_equal(u.free, "1208925819614629174706047");
}

/* ---- network updates and deletion ---- */

static void test_update_shrink_refused(void **state)
{
	struct fx *f = *state;
	struct model_network n, back;
	struct netd_err e = { 0 };
	uint64_t free_before;

	create_admin(f, "admin", "10.0.0.0/24", true);
	assert_string_equal(vip_ok(f, "admin", ADDR_V4, "far", "10.0.0.200"), "10.0.0.200");
	free_before = private_entries(f, "ipam_free", "admin", ADDR_V4);
	assert_int_equal(free_before, 2);

	admin_net(&n, "admin", "10.0.0.0/24", true);
	n.v4_ranges[0].last = A("10.0.0.100");
	assert_int_equal(net_put(f, &n, &e), NETD_EINVAL);
	assert_string_equal(e.path, "/netd:networks/network[name='admin']/ipv4/range[name='host']");
	assert_non_null(strstr(e.msg, "10.0.0.200"));
	assert_non_null(strstr(e.msg, "'far'"));

	/* nothing written */
	net_get(f, "admin", &back);
	assert_string_equal(S(&back.v4_ranges[0].last), "10.0.0.250");
	model_network_clear(&back);
	assert_int_equal(private_entries(f, "ipam_free", "admin", ADDR_V4), free_before);
	assert_int_equal(util_of(f, "admin", ADDR_V4, "host").used, 1);

	/* a subnet change that strands it: same rule */
	netd_err_clear(&e);
	n.v4_ranges[0].last = A("10.0.0.250");
	n.v4_subnet = P("10.0.0.0/25");
	n.v4_ranges[0].last = A("10.0.0.120");
	assert_int_equal(net_put(f, &n, &e), NETD_EINVAL);
	assert_string_equal(e.path, "/netd:networks/network[name='admin']/ipv4/subnet");

	/* a shrink that keeps it inside is fine, and the index follows */
	n.v4_subnet = P("10.0.0.0/24");
	n.v4_ranges[0].first = A("10.0.0.199");
	n.v4_ranges[0].last = A("10.0.0.201");
	net_put_ok(f, &n);
	assert_string_equal(util_of(f, "admin", ADDR_V4, "host").size, "3");
	assert_int_equal(util_of(f, "admin", ADDR_V4, "host").used, 1);
	assert_string_equal(vip_ok(f, "admin", ADDR_V4, "x", NULL), "10.0.0.199");
	assert_string_equal(vip_ok(f, "admin", ADDR_V4, "y", NULL), "10.0.0.201");
	assert_int_equal(vip(f, "admin", ADDR_V4, "z", NULL, NULL, &e), NETD_EEXHAUSTED);

	/* renaming the range carries the allocations' counters along */
	snprintf(n.v4_ranges[0].name, MODEL_NAME_MAX, "servers");
	net_put_ok(f, &n);
	assert_int_equal(util_of(f, "admin", ADDR_V4, "servers").used, 3);
	model_network_clear(&n);
}

static void test_network_del(void **state)
{
	struct fx *f = *state;
	struct netd_err e = { 0 };

	create_admin(f, "admin", "10.0.0.0/24", true);
	vip_ok(f, "admin", ADDR_V4, "a", NULL);
	vip_ok(f, "admin", ADDR_V4, "b", NULL);
	assert_int_equal(net_del(f, "admin", &e), NETD_EINUSE);
	assert_string_equal(e.msg, "network 'admin' still has 2 active allocations, e.g. vip a 10.0.0.10");
	assert_int_equal(release(f, "admin", "10.0.0.10", &e), 0);
	assert_int_equal(release(f, "admin", "10.0.0.11", &e), 0);
	assert_int_equal(net_del(f, "admin", &e), 0);
	assert_int_equal(private_entries(f, "ipam_free", "admin", ADDR_V4), 0);
	assert_int_equal(private_entries(f, "ipam_held", "admin", ADDR_V4), 0);
	assert_int_equal(private_entries(f, "ipam_count", "admin", ADDR_V4), 0);
	assert_string_equal(addr_of(f, OWNER_VIP, "a", "admin", ADDR_V4, NULL), "none");

	/* a fresh network of the same name starts clean */
	create_admin(f, "admin", "10.0.0.0/24", true);
	assert_string_equal(vip_ok(f, "admin", ADDR_V4, "a", NULL), "10.0.0.10");
	assert_int_equal(util_of(f, "admin", ADDR_V4, "host").held, 0);
	assert_int_equal(net_del(f, "nope", &e), NETD_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network_check_table),
		cmocka_unit_test(test_network_check_messages),
		cmocka_unit_test(test_v6_derived_golden),
		cmocka_unit_test_setup_teardown(test_second_primary_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_network_and_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_choice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_part_alignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_free_skips_reserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_merges_free_intervals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sticky_readd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_family_removal_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_derived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_derived_collision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_auto_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_ranges_and_dual_stack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_free_full_slash16, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utilization, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_shrink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_del, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
