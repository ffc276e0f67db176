/* tests/unit/test_model.c — core/model.c: encodings, helpers, tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"

/* ---- builders ---- */

static struct addr A(const char *s)
{
	struct addr a = { 0 };
	if (addr_parse(s, &a) != 0)
		fail_msg("bad test address %s", s);
	return a;
}

static struct prefix P(const char *s)
{
	struct prefix p = { 0 };
	if (prefix_parse(s, true, &p) != 0)
		fail_msg("bad test prefix %s", s);
	return p;
}

static struct model_range R(const char *name, const char *first, const char *last)
{
	struct model_range r = { .first = A(first), .last = A(last) };
	snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
}

static void net_v4_only(struct model_network *n)
{
	static struct model_range r[2];
	r[0] = R("default", "10.0.0.10", "10.0.0.200");
	r[1] = R("dhcp", "10.0.0.201", "10.0.0.250");
	*n = (struct model_network){
		.name = "admin", .conduit = "eth0", .primary = true, .mtu = 9000,
		.has_v4 = true, .v4_subnet = P("10.0.0.0/24"), .has_v4_router = true,
		.v4_router = A("10.0.0.1"), .router_pref = 10, .v4_ranges = r, .n_v4_ranges = 2,
		.dns_domain = "example.com", .created = 1700000000,
	};
}

static void net_v6_explicit(struct model_network *n)
{
	static struct model_range r[1];
	r[0] = R("", "2001:db8:1::100", "2001:db8:1::ffff");
	*n = (struct model_network){
		.name = "storage", .vlan = 100, .use_vlan = true, .use_bridge = true, .use_team = true,
		.team_mode = TEAM_802_3AD, .v6_mode = MODEL_V6_EXPLICIT, .v6_prefix = P("2001:db8:1::/64"),
		.has_v6_router = true, .v6_router = A("2001:db8:1::1"), .v6_ranges = r, .n_v6_ranges = 1,
		.router_pref = UINT32_MAX, .created = UINT64_MAX,
	};
}

static void net_v6_auto(struct model_network *n)
{
	*n = (struct model_network){
		.name = "cluster", .conduit = "team0", .has_v4 = true, .v4_subnet = P("192.168.0.0/16"),
		.v6_mode = MODEL_V6_AUTO, .v6_prefix = P("fd12:3456:789a:2a::/64"), .v6_subnet_id = 42,
		.dns_domain = "c.example.org", .dns_template = "{node}-{network}.{domain}",
	};
}

static void net_many_ranges(struct model_network *n)
{
	static struct model_range r4[300], r6[40];
	for (unsigned i = 0; i < 300; i++) {
		char name[16], a[32], b[32];
		snprintf(name, sizeof(name), "r%u", i);
		snprintf(a, sizeof(a), "10.%u.%u.1", i / 256, i % 256);
		snprintf(b, sizeof(b), "10.%u.%u.254", i / 256, i % 256);
		r4[i] = R(name, a, b);
	}
	for (unsigned i = 0; i < 40; i++) {
		char name[MODEL_NAME_MAX], a[64], b[64];
		snprintf(name, sizeof(name), "range-with-a-rather-long-name-number-%u", i);
		snprintf(a, sizeof(a), "fd00:%x::1", i);
		snprintf(b, sizeof(b), "fd00:%x::ffff:ffff", i);
		r6[i] = R(name, a, b);
	}
	*n = (struct model_network){
		.name = "big", .has_v4 = true, .v4_subnet = P("10.0.0.0/8"), .v4_ranges = r4,
		.n_v4_ranges = 300, .v6_mode = MODEL_V6_EXPLICIT, .v6_prefix = P("fd00::/16"),
		.v6_ranges = r6, .n_v6_ranges = 40,
	};
}

static void net_empty(struct model_network *n)
{
	*n = (struct model_network){ 0 };
}

static void (*const net_cases[])(struct model_network *) = {
	net_v4_only, net_v6_explicit, net_v6_auto, net_many_ranges, net_empty,
};
#define N_NET_CASES (sizeof(net_cases) / sizeof(net_cases[0]))

static char *aliases2[] = { "www", "db.example.com" };

static void node_full(struct model_node *n)
{
	static struct model_attach at[3];
	at[0] = (struct model_attach){ .network = "admin", .has_v4_hint = true, .v4_hint = A("10.0.0.5") };
	at[1] = (struct model_attach){ .network = "storage", .range = "fast", .has_v6_hint = true,
				       .v6_hint = A("2001:db8:1::5") };
	at[2] = (struct model_attach){ .network = "cluster", .has_v4_hint = true, .has_v6_hint = true,
				       .v4_hint = A("192.168.1.1"), .v6_hint = A("fd12:3456:789a:2a::1") };
	*n = (struct model_node){
		.name = "node1", .aliases = aliases2, .n_aliases = 2, .has_admin_mac = true,
		.admin_mac = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef }, .nets = at, .n_nets = 3,
		.created = 42,
	};
}

static void node_no_mac(struct model_node *n)
{
	static struct model_attach at[1];
	at[0] = (struct model_attach){ .network = "admin" };
	*n = (struct model_node){ .name = "n2", .nets = at, .n_nets = 1 };
}

static void node_empty(struct model_node *n)
{
	*n = (struct model_node){ 0 };
}

static void (*const node_cases[])(struct model_node *) = { node_full, node_no_mac, node_empty };
#define N_NODE_CASES (sizeof(node_cases) / sizeof(node_cases[0]))

static const struct model_alloc alloc_cases_tmpl[] = {
	{ .network = "admin", .owner_kind = OWNER_NODE, .owner = "node1", .range = "default",
	  .state = ALLOC_ACTIVE, .allocated_at = 1700000000 },
	{ .network = "storage", .owner_kind = OWNER_VIP, .owner = "vip-db", .range = "",
	  .state = ALLOC_HELD, .allocated_at = 1, .released_at = UINT64_MAX },
	{ .network = "" },   /* everything empty or zero */
};
static const char *const alloc_case_addrs[] = { "10.0.0.5", "2001:db8:1::abcd", NULL };
#define N_ALLOC_CASES (sizeof(alloc_cases_tmpl) / sizeof(alloc_cases_tmpl[0]))

static struct model_alloc alloc_case(size_t i)
{
	struct model_alloc a = alloc_cases_tmpl[i];
	if (alloc_case_addrs[i])
		a.addr = A(alloc_case_addrs[i]);
	return a;
}

/* ---- generic encoding checks ---- */

typedef void (*encode_fn)(const void *rec, struct codec_w *w);
typedef int (*decode_fn)(const void *p, size_t n, void *out);

static void enc_network(const void *rec, struct codec_w *w) { model_network_encode(rec, w); }
static int dec_network(const void *p, size_t n, void *out) { return model_network_decode(p, n, out); }
static void enc_node(const void *rec, struct codec_w *w) { model_node_encode(rec, w); }
static int dec_node(const void *p, size_t n, void *out) { return model_node_decode(p, n, out); }
static void enc_alloc(const void *rec, struct codec_w *w) { model_alloc_encode(rec, w); }
static int dec_alloc(const void *p, size_t n, void *out) { return model_alloc_decode(p, n, out); }

static void clear_network(void *r) { model_network_clear(r); }
static void clear_node(void *r) { model_node_clear(r); }
static void clear_alloc(void *r) { memset(r, 0, sizeof(struct model_alloc)); }

struct kind {
	encode_fn enc;
	decode_fn dec;
	void (*clear)(void *);
	size_t size;
};

static const struct kind K_NET = { enc_network, dec_network, clear_network, sizeof(struct model_network) };
static const struct kind K_NODE = { enc_node, dec_node, clear_node, sizeof(struct model_node) };
static const struct kind K_ALLOC = { enc_alloc, dec_alloc, clear_alloc, sizeof(struct model_alloc) };

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Encode @rec, decode it back, re-encode: same bytes. Returns the encoding. */
static struct codec_w roundtrip(const struct kind *k, const void *rec, void *out)
{
	struct codec_w w, w2;

	codec_w_init(&w);
	k->enc(rec, &w);
	assert_int_equal(w.err, 0);
	assert_true(w.len >= 2);
	assert_int_equal(k->dec(w.buf, w.len, out), 0);
	codec_w_init(&w2);
	k->enc(out, &w2);
	assert_int_equal(w2.err, 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.buf, w.buf, w.len);
	codec_w_free(&w2);
	return w;
}

/* Every proper prefix, one trailing byte, another version or tag: refused,
 * and the output left zeroed. Corrupting each byte must not crash. */
static void check_refusals(const struct kind *k, const struct codec_w *w)
{
	uint8_t *buf = malloc(w->len + 1);
	void *out = malloc(k->size);

	assert_non_null(buf);
	assert_non_null(out);
	for (size_t n = 0; n < w->len; n++) {
		memcpy(buf, w->buf, n);
		memset(out, 0xa5, k->size);
		if (k->dec(n ? buf : NULL, n, out) != NETD_ECORRUPT)
			fail_msg("truncation to %zu of %zu bytes accepted", n, w->len);
		assert_true(all_zero(out, k->size));
	}
	memcpy(buf, w->buf, w->len);
	buf[w->len] = 0;
	assert_int_equal(k->dec(buf, w->len + 1, out), NETD_ECORRUPT);
	assert_true(all_zero(out, k->size));
	for (unsigned v = 0; v < 256; v++) {
		if (v == w->buf[1])
			continue;
		buf[1] = (uint8_t)v;
		assert_int_equal(k->dec(buf, w->len, out), NETD_ECORRUPT);
	}
	buf[1] = w->buf[1];
	buf[0] = 'Z';
	assert_int_equal(k->dec(buf, w->len, out), NETD_ECORRUPT);
	for (size_t i = 2; i < w->len; i++) {
		static const uint8_t junk[] = { 0x00, 0x01, 0x05, 0x7f, 0x80, 0xff };
		for (size_t j = 0; j < sizeof(junk); j++) {
			int rc;
			memcpy(buf, w->buf, w->len);
			buf[i] = junk[j];
			rc = k->dec(buf, w->len, out);
			assert_true(rc == 0 || rc == NETD_ECORRUPT);
			k->clear(out);
		}
	}
	free(out);
	free(buf);
}

static void test_network_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_NET_CASES; i++) {
		struct model_network n, d;
		struct codec_w w;

		net_cases[i](&n);
		w = roundtrip(&K_NET, &n, &d);
		assert_true(model_network_equal(&n, &d));
		assert_true(d.created == n.created);
		check_refusals(&K_NET, &w);
		model_network_clear(&d);
		codec_w_free(&w);
	}
}

static void test_node_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_NODE_CASES; i++) {
		struct model_node n, d;
		struct codec_w w;

		node_cases[i](&n);
		w = roundtrip(&K_NODE, &n, &d);
		assert_true(model_node_equal(&n, &d));
		assert_true(d.created == n.created);
		check_refusals(&K_NODE, &w);
		model_node_clear(&d);
		codec_w_free(&w);
	}
}

static void test_alloc_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ALLOC_CASES; i++) {
		struct model_alloc a = alloc_case(i), d;
		struct codec_w w = roundtrip(&K_ALLOC, &a, &d);

		assert_memory_equal(&a, &d, sizeof(a));
		check_refusals(&K_ALLOC, &w);
		codec_w_free(&w);
	}
}

/* A network record as netd 0.1 wrote it (version 1, no name template)
 * still decodes, with an empty template, and is re-encoded as version 2. */
static void test_network_v1(void **state)
{
	static const uint8_t v1[] = {
		'N', 1,
		0, 5, 'a', 'd', 'm', 'i', 'n',          /* name */
		0, 0,                                   /* conduit */
		0x11,                                   /* flags: primary, has_v4 */
		0, 0, 4, 0x05, 0xdc,                    /* vlan, team_mode 802.3ad, mtu 1500 */
		4, 10, 0, 0, 0, 24,                     /* v4 subnet 10.0.0.0/24 */
		0,                                      /* v4 router: none */
		0, 0, 0, 100,                           /* router_pref */
		0, 0,                                   /* v4 ranges */
		0, 0, 0, 0, 0, 0,                       /* v6 mode, prefix (family 0, len 0), subnet id, router */
		0, 0,                                   /* v6 ranges */
		0, 11, 'l', 'a', 'b', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
		0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00,     /* created 1700000000 */
	};
	struct model_network n;
	struct codec_w w;

	(void)state;
	assert_int_equal(model_network_decode(v1, sizeof v1, &n), 0);
	assert_string_equal(n.name, "admin");
	assert_true(n.primary && n.has_v4);
	assert_int_equal(n.v4_subnet.len, 24);
	assert_int_equal(n.mtu, 1500);
	assert_int_equal(n.router_pref, 100);
	assert_string_equal(n.dns_domain, "lab.example");
	assert_string_equal(n.dns_template, "");
	assert_true(n.created == 1700000000u);
	codec_w_init(&w);
	model_network_encode(&n, &w);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.buf[1], 2);
	assert_int_equal(w.len, sizeof v1 + 2);   /* + the empty template */
	codec_w_free(&w);
	/* a v1 record with a trailing template-like string is refused */
	uint8_t longer[sizeof v1 + 2];
	memcpy(longer, v1, sizeof v1);
	longer[sizeof v1] = 0;
	longer[sizeof v1 + 1] = 0;
	assert_int_equal(model_network_decode(longer, sizeof longer, &n), NETD_ECORRUPT);
	/* the template takes part in equality and copies */
	struct model_network a, c;
	net_v6_auto(&a);
	assert_int_equal(model_network_copy(&c, &a), 0);
	assert_true(model_network_equal(&a, &c));
	assert_string_equal(c.dns_template, "{node}-{network}.{domain}");
	c.dns_template[0] = '\0';
	assert_false(model_network_equal(&a, &c));
	model_network_clear(&c);
}

static void test_wrong_tag(void **state)
{
	struct model_network n, dn;
	struct model_node dh;
	struct codec_w w;

	(void)state;
	net_v4_only(&n);
	codec_w_init(&w);
	model_network_encode(&n, &w);
	assert_int_equal(model_node_decode(w.buf, w.len, &dh), NETD_ECORRUPT);
	assert_int_equal(model_network_decode(w.buf, w.len, &dn), 0);
	model_network_clear(&dn);
	/* A bad prefix length is refused: v4_subnet's length byte follows its
	 * address; find "/24" and make it /33. */
	bool found = false;
	for (size_t i = 2; i + 5 < w.len && !found; i++) {
		if (w.buf[i] == 4 && w.buf[i + 1] == 10 && w.buf[i + 5] == 24) {
			w.buf[i + 5] = 33;
			assert_int_equal(model_network_decode(w.buf, w.len, &dn), NETD_ECORRUPT);
			w.buf[i + 5] = 24;
			found = true;
		}
	}
	assert_true(found);
	codec_w_free(&w);
}

static void test_encode_errors(void **state)
{
	struct model_network n = { .name = "x" };
	struct codec_w w;

	(void)state;
	n.v4_router.family = 5;
	codec_w_init(&w);
	model_network_encode(&n, &w);
	assert_int_not_equal(w.err, 0);
	codec_w_free(&w);
}

/* ---- helpers ---- */

static void test_copy_equal(void **state)
{
	struct model_network n, c;
	struct model_node h, hc;

	(void)state;
	for (size_t i = 0; i < N_NET_CASES; i++) {
		net_cases[i](&n);
		assert_int_equal(model_network_copy(&c, &n), 0);
		assert_true(model_network_equal(&n, &c));
		assert_true(c.n_v4_ranges == 0 || c.v4_ranges != n.v4_ranges);
		c.created = n.created + 1;
		assert_true(model_network_equal(&n, &c));
		if (c.n_v4_ranges) {
			c.v4_ranges[c.n_v4_ranges - 1].last.b[3]++;
			assert_false(model_network_equal(&n, &c));
		}
		model_network_clear(&c);
		assert_true(all_zero(&c, sizeof(c)));
	}
	net_v4_only(&n);
	assert_int_equal(model_network_copy(&c, &n), 0);
	c.mtu = 1500;
	assert_false(model_network_equal(&n, &c));
	model_network_clear(&c);

	for (size_t i = 0; i < N_NODE_CASES; i++) {
		node_cases[i](&h);
		assert_int_equal(model_node_copy(&hc, &h), 0);
		assert_true(model_node_equal(&h, &hc));
		if (hc.n_aliases) {
			assert_ptr_not_equal(hc.aliases[0], h.aliases[0]);
			hc.aliases[0][0] = 'X';
			assert_false(model_node_equal(&h, &hc));
		}
		model_node_clear(&hc);
	}
	node_full(&h);
	assert_int_equal(model_node_copy(&hc, &h), 0);
	hc.nets[2].has_v6_hint = false;
	assert_false(model_node_equal(&h, &hc));
	model_node_clear(&hc);
	model_node_clear(NULL);
	model_network_clear(NULL);
}

static void test_fqdn(void **state)
{
	static const struct {
		const char *net, *domain;
		bool primary, null_net;
		const char *want;
	} cases[] = {
		{ "admin", "example.com", true, false, "node1.example.com" },
		{ "storage", "example.com", false, false, "node1.storage.example.com" },
		{ "storage", "", false, false, "node1" },
		{ "admin", "", true, false, "node1" },
		{ NULL, NULL, false, true, "node1" },
	};
	struct model_node node = { .name = "node1" };
	char buf[MODEL_DOMAIN_MAX], tiny[6];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct model_network net = { .primary = cases[i].primary };
		if (cases[i].net) {
			snprintf(net.name, sizeof(net.name), "%s", cases[i].net);
			snprintf(net.dns_domain, sizeof(net.dns_domain), "%s", cases[i].domain);
		}
		model_node_fqdn(&node, cases[i].null_net ? NULL : &net, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
	model_node_fqdn(&node, NULL, tiny, sizeof(tiny));
	assert_string_equal(tiny, "node1");
	struct model_network net = { .name = "n", .dns_domain = "d" };
	model_node_fqdn(&node, &net, tiny, sizeof(tiny));
	assert_string_equal(tiny, "node1");   /* truncated, terminated */
}

static void test_team_modes(void **state)
{
	static const struct { const char *name; uint8_t mode; } cases[] = {
		{ "balance-rr", TEAM_BALANCE_RR }, { "active-backup", TEAM_ACTIVE_BACKUP },
		{ "balance-xor", TEAM_BALANCE_XOR }, { "broadcast", TEAM_BROADCAST },
		{ "802.3ad", TEAM_802_3AD }, { "balance-tlb", TEAM_BALANCE_TLB },
		{ "balance-alb", TEAM_BALANCE_ALB },
	};
	uint8_t m = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(model_team_mode_name(cases[i].mode), cases[i].name);
		assert_int_equal(model_team_mode_parse(cases[i].name, &m), 0);
		assert_int_equal(m, cases[i].mode);
	}
	m = 99;
	assert_int_equal(model_team_mode_parse("802.3AD", &m), NETD_EINVAL);
	assert_int_equal(model_team_mode_parse("", &m), NETD_EINVAL);
	assert_int_equal(m, 99);
	assert_null(model_team_mode_name(7));
}

static void test_keys(void **state)
{
	static const uint8_t want_v4[] = { 'n', 'e', 't', 0, 4, 10, 0, 0, 5 };
	static const uint8_t want_owner[] = { OWNER_VIP, 'v', 'i', 'p', 0, 'n', 'e', 't', 0, 6 };
	uint8_t buf[MODEL_OWNER_KEY_MAX + MODEL_ALLOC_KEY_MAX];
	struct addr a4 = A("10.0.0.5"), a6 = A("2001:db8::1");
	char longname[MODEL_NAME_MAX];

	(void)state;
	assert_int_equal(model_alloc_key(buf, "net", &a4), sizeof(want_v4));
	assert_memory_equal(buf, want_v4, sizeof(want_v4));
	assert_int_equal(model_alloc_key(buf, "net", &a6), 3 + 1 + 1 + 16);
	assert_int_equal(buf[4], 6);
	assert_memory_equal(buf + 5, a6.b, 16);
	assert_int_equal(model_alloc_key_prefix(buf, "net", 4), 5);
	assert_int_equal(model_alloc_key_prefix(buf, "net", 0), 4);
	assert_int_equal(model_owner_key(buf, OWNER_VIP, "vip", "net", 6), sizeof(want_owner));
	assert_memory_equal(buf, want_owner, sizeof(want_owner));
	/* The longest names fit the declared maxima. */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_true(model_alloc_key(buf, longname, &a6) <= MODEL_ALLOC_KEY_MAX);
	assert_true(model_owner_key(buf, OWNER_NODE, longname, longname, 6) <= MODEL_OWNER_KEY_MAX);
}

/* ---- tables in a real store ---- */

struct fx {
	char dir[256];
	struct store *s;
	struct model_tables m;
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct store_opts o = { .no_sync = true, .initial_map_size = 1u << 20 };
	struct netd_err e = { 0 };
	const char *tmp = getenv("TMPDIR");

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/netd-model-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(store_open(fx->dir, &o, &fx->s, &e), 0);
	assert_int_equal(model_open(fx->s, &fx->m), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	store_close(fx->s);
	nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* Run one step in a write transaction. */
struct step {
	struct fx *fx;
	const struct model_node *old, *node;
	struct netd_err e;
};

static int node_put_fn(struct store_txn *t, void *arg)
{
	struct step *st = arg;
	return model_node_put(&st->fx->m, t, st->old, st->node, &st->e);
}

static int node_del_fn(struct store_txn *t, void *arg)
{
	struct step *st = arg;
	return model_node_del(&st->fx->m, t, st->node);
}

static int node_put(struct fx *fx, const struct model_node *old, const struct model_node *n,
		    struct netd_err *e)
{
	struct step st = { .fx = fx, .old = old, .node = n };
	int rc = store_update(fx->s, node_put_fn, &st);
	if (e)
		*e = st.e;
	return rc;
}

/* The node named by the node_mac entry of @mac, or "" when absent. */
static void mac_owner(struct fx *fx, const uint8_t *mac, char *out, size_t cap)
{
	struct store_txn *t;
	struct store_val v;

	assert_int_equal(store_read_begin(fx->s, &t), 0);
	if (store_get(t, fx->m.node_mac, mac, 6, &v) == 0)
		snprintf(out, cap, "%.*s", (int)v.n, (const char *)v.p);
	else
		out[0] = '\0';
	store_read_end(t);
}

static int node_get(struct fx *fx, const char *name, struct model_node *out)
{
	struct store_txn *t;
	int rc;

	assert_int_equal(store_read_begin(fx->s, &t), 0);
	rc = model_node_get(&fx->m, t, name, out);
	store_read_end(t);
	return rc;
}

static void test_node_mac_index(void **state)
{
	static const uint8_t mac1[6] = { 2, 0, 0, 0, 0, 1 }, mac2[6] = { 2, 0, 0, 0, 0, 2 };
	struct fx *fx = *state;
	struct model_node a = { .name = "a", .has_admin_mac = true };
	struct model_node a2 = { .name = "a", .has_admin_mac = true, .created = 5 };
	struct model_node a3 = { .name = "a" };
	struct model_node b = { .name = "b", .has_admin_mac = true };
	struct model_node got;
	struct netd_err e = { 0 };
	struct step st = { .fx = fx };
	char owner[MODEL_NAME_MAX];

	memcpy(a.admin_mac, mac1, 6);
	memcpy(a2.admin_mac, mac2, 6);
	memcpy(b.admin_mac, mac1, 6);

	assert_int_equal(node_put(fx, NULL, &a, NULL), 0);
	mac_owner(fx, mac1, owner, sizeof(owner));
	assert_string_equal(owner, "a");
	/* Same MAC again for the same node: fine. */
	assert_int_equal(node_put(fx, &a, &a, NULL), 0);

	/* Another node with a's MAC. */
	assert_int_equal(node_put(fx, NULL, &b, &e), NETD_EEXIST);
	assert_int_equal(e.code, NETD_EEXIST);
	assert_string_equal(e.path, "/netd:nodes/node[name='b']/admin-mac");
	assert_non_null(strstr(e.msg, "'a'"));
	assert_non_null(strstr(e.msg, "02:00:00:00:00:01"));
	assert_int_equal(node_get(fx, "b", &got), NETD_ENOTFOUND);

	/* a moves to mac2: mac1 is free again. */
	assert_int_equal(node_put(fx, &a, &a2, NULL), 0);
	mac_owner(fx, mac1, owner, sizeof(owner));
	assert_string_equal(owner, "");
	mac_owner(fx, mac2, owner, sizeof(owner));
	assert_string_equal(owner, "a");
	assert_int_equal(node_put(fx, NULL, &b, NULL), 0);
	mac_owner(fx, mac1, owner, sizeof(owner));
	assert_string_equal(owner, "b");

	/* a drops its MAC; old not given, so the stored record is used. */
	assert_int_equal(node_put(fx, NULL, &a3, NULL), 0);
	mac_owner(fx, mac2, owner, sizeof(owner));
	assert_string_equal(owner, "");
	assert_int_equal(node_get(fx, "a", &got), 0);
	assert_true(model_node_equal(&got, &a3));
	model_node_clear(&got);

	/* old must be the same node. */
	assert_int_equal(node_put(fx, &a3, &b, NULL), NETD_EINVAL);

	/* Deleting b frees mac1, even when the caller's copy lacks the MAC. */
	struct model_node b_stale = { .name = "b" };
	st.node = &b_stale;
	assert_int_equal(store_update(fx->s, node_del_fn, &st), 0);
	mac_owner(fx, mac1, owner, sizeof(owner));
	assert_string_equal(owner, "");
	assert_int_equal(node_get(fx, "b", &got), NETD_ENOTFOUND);
	assert_int_equal(store_update(fx->s, node_del_fn, &st), NETD_ENOTFOUND);

	/* A name quoted in the path. */
	struct model_node q = { .name = "it's", .has_admin_mac = true };
	memcpy(q.admin_mac, mac2, 6);
	assert_int_equal(node_put(fx, NULL, &a2, NULL), 0);
	netd_err_clear(&e);
	assert_int_equal(node_put(fx, NULL, &q, &e), NETD_EEXIST);
	assert_string_equal(e.path, "/netd:nodes/node[name=\"it's\"]/admin-mac");
}

/* Networks and nodes: put, get, each, del. */
struct tbl_ctx {
	struct fx *fx;
	char seen[8][MODEL_NAME_MAX];
	size_t n_seen, stop_after;
};

static int net_collect(const struct model_network *n, void *arg)
{
	struct tbl_ctx *c = arg;
	if (c->n_seen < 8)
		snprintf(c->seen[c->n_seen++], MODEL_NAME_MAX, "%s", n->name);
	return c->stop_after && c->n_seen >= c->stop_after ? 1 : 0;
}

static int node_collect(const struct model_node *n, void *arg)
{
	struct tbl_ctx *c = arg;
	if (c->n_seen < 8)
		snprintf(c->seen[c->n_seen++], MODEL_NAME_MAX, "%s", n->name);
	return 0;
}

static int fail_visit(const struct model_network *n, void *arg)
{
	(void)n; (void)arg;
	return -EIO;
}

static int nets_put_fn(struct store_txn *t, void *arg)
{
	struct tbl_ctx *c = arg;
	int rc = 0;
	for (size_t i = 0; i < N_NET_CASES && rc == 0; i++) {
		struct model_network n;
		net_cases[i](&n);
		if (n.name[0])
			rc = model_network_put(&c->fx->m, t, &n);
		else
			rc = model_network_put(&c->fx->m, t, &n) == NETD_EINVAL ? 0 : -1;
	}
	return rc;
}

static int net_del_fn(struct store_txn *t, void *arg)
{
	struct tbl_ctx *c = arg;
	return model_network_del(&c->fx->m, t, "cluster");
}

static void test_networks_table(void **state)
{
	struct fx *fx = *state;
	struct tbl_ctx c = { .fx = fx };
	struct model_network n, want;
	struct store_txn *t;

	assert_int_equal(store_update(fx->s, nets_put_fn, &c), 0);
	assert_int_equal(store_read_begin(fx->s, &t), 0);
	for (size_t i = 0; i < N_NET_CASES; i++) {
		net_cases[i](&want);
		if (!want.name[0])
			continue;
		assert_int_equal(model_network_get(&fx->m, t, want.name, &n), 0);
		assert_true(model_network_equal(&n, &want));
		assert_true(n.created == want.created);
		model_network_clear(&n);
	}
	assert_int_equal(model_network_get(&fx->m, t, "nope", &n), NETD_ENOTFOUND);
	assert_int_equal(model_network_each(&fx->m, t, NULL, net_collect, &c), 0);
	assert_int_equal(c.n_seen, 4);
	assert_string_equal(c.seen[0], "admin");
	assert_string_equal(c.seen[1], "big");
	assert_string_equal(c.seen[2], "cluster");
	assert_string_equal(c.seen[3], "storage");
	c.n_seen = 0;
	assert_int_equal(model_network_each(&fx->m, t, "bz", net_collect, &c), 0);
	assert_int_equal(c.n_seen, 2);
	assert_string_equal(c.seen[0], "cluster");
	c.n_seen = 0;
	c.stop_after = 1;
	assert_int_equal(model_network_each(&fx->m, t, "", net_collect, &c), 0);
	assert_int_equal(c.n_seen, 1);
	assert_int_equal(model_network_each(&fx->m, t, NULL, fail_visit, &c), -EIO);
	store_read_end(t);

	assert_int_equal(store_update(fx->s, net_del_fn, &c), 0);
	assert_int_equal(store_update(fx->s, net_del_fn, &c), NETD_ENOTFOUND);
	assert_int_equal(store_read_begin(fx->s, &t), 0);
	assert_int_equal(model_network_get(&fx->m, t, "cluster", &n), NETD_ENOTFOUND);
	c.n_seen = 0;
	c.stop_after = 0;
	assert_int_equal(model_network_each(&fx->m, t, NULL, net_collect, &c), 0);
	assert_int_equal(c.n_seen, 3);
	store_read_end(t);
}

static void test_nodes_each(void **state)
{
	struct fx *fx = *state;
	struct tbl_ctx c = { .fx = fx };
	struct model_node n1, n2, got;
	struct store_txn *t;

	node_full(&n1);
	node_no_mac(&n2);
	assert_int_equal(node_put(fx, NULL, &n2, NULL), 0);
	assert_int_equal(node_put(fx, NULL, &n1, NULL), 0);
	assert_int_equal(node_get(fx, "node1", &got), 0);
	assert_true(model_node_equal(&got, &n1));
	model_node_clear(&got);
	assert_int_equal(store_read_begin(fx->s, &t), 0);
	assert_int_equal(model_node_each(&fx->m, t, NULL, node_collect, &c), 0);
	assert_int_equal(c.n_seen, 2);
	assert_string_equal(c.seen[0], "n2");
	assert_string_equal(c.seen[1], "node1");
	c.n_seen = 0;
	assert_int_equal(model_node_each(&fx->m, t, "n3", node_collect, &c), 0);
	assert_int_equal(c.n_seen, 1);
	assert_string_equal(c.seen[0], "node1");
	store_read_end(t);
}

/* Allocations. */
static const struct { const char *net, *addr, *owner; uint8_t kind; } allocs[] = {
	{ "net", "10.0.0.6", "vip1", OWNER_VIP },
	{ "net", "2001:db8::5", "a", OWNER_NODE },
	{ "net", "10.0.0.5", "a", OWNER_NODE },
	{ "net2", "10.1.0.1", "a", OWNER_NODE },
	{ "ne", "10.2.0.1", "b", OWNER_NODE },
	{ "neu", "10.3.0.1", "b", OWNER_NODE },
};
#define N_ALLOCS (sizeof(allocs) / sizeof(allocs[0]))

static struct model_alloc mk_alloc(size_t i)
{
	struct model_alloc a = { .addr = A(allocs[i].addr), .owner_kind = allocs[i].kind,
				 .state = ALLOC_ACTIVE, .allocated_at = 100 + i, .range = "default" };
	snprintf(a.network, sizeof(a.network), "%s", allocs[i].net);
	snprintf(a.owner, sizeof(a.owner), "%s", allocs[i].owner);
	return a;
}

struct alloc_ctx {
	struct fx *fx;
	struct model_alloc del;
	char seen[8][ADDR_STRLEN];
	size_t n_seen;
	int stop;
};

static int allocs_put_fn(struct store_txn *t, void *arg)
{
	struct alloc_ctx *c = arg;
	for (size_t i = 0; i < N_ALLOCS; i++) {
		struct model_alloc a = mk_alloc(i);
		int rc = model_alloc_put(&c->fx->m, t, &a);
		if (rc)
			return rc;
	}
	return 0;
}

static int alloc_del_fn(struct store_txn *t, void *arg)
{
	struct alloc_ctx *c = arg;
	return model_alloc_del(&c->fx->m, t, &c->del);
}

static int alloc_collect(const struct model_alloc *a, void *arg)
{
	struct alloc_ctx *c = arg;
	if (c->n_seen < 8)
		addr_print(&a->addr, c->seen[c->n_seen++], ADDR_STRLEN);
	return c->stop;
}

static void expect_each(struct fx *fx, const char *net, const char *const *want, size_t n)
{
	struct alloc_ctx c = { .fx = fx };
	struct store_txn *t;

	assert_int_equal(store_read_begin(fx->s, &t), 0);
	assert_int_equal(model_alloc_each(&fx->m, t, net, alloc_collect, &c), 0);
	store_read_end(t);
	assert_int_equal(c.n_seen, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(c.seen[i], want[i]);
}

static void test_allocs(void **state)
{
	static const char *const want_net[] = { "10.0.0.5", "10.0.0.6", "2001:db8::5" };
	static const char *const want_ne[] = { "10.2.0.1" };
	static const char *const want_all[] = { "10.2.0.1", "10.0.0.5", "10.0.0.6", "2001:db8::5",
						"10.1.0.1", "10.3.0.1" };
	struct fx *fx = *state;
	struct alloc_ctx c = { .fx = fx };
	struct model_alloc got;
	struct store_txn *t;
	struct addr a4 = A("10.0.0.5");

	assert_int_equal(store_update(fx->s, allocs_put_fn, &c), 0);
	assert_int_equal(store_read_begin(fx->s, &t), 0);
	for (size_t i = 0; i < N_ALLOCS; i++) {
		struct model_alloc want = mk_alloc(i);
		assert_int_equal(model_alloc_get(&fx->m, t, want.network, &want.addr, &got), 0);
		assert_memory_equal(&got, &want, sizeof(got));
		memset(&got, 0, sizeof(got));
		assert_int_equal(model_alloc_by_owner(&fx->m, t, want.owner_kind, want.owner, want.network,
						      want.addr.family, &got), 0);
		assert_memory_equal(&got, &want, sizeof(got));
	}
	assert_int_equal(model_alloc_by_owner(&fx->m, t, OWNER_VIP, "a", "net", ADDR_V4, &got), NETD_ENOTFOUND);
	assert_int_equal(model_alloc_by_owner(&fx->m, t, OWNER_NODE, "a", "ne", ADDR_V4, &got), NETD_ENOTFOUND);
	assert_int_equal(model_alloc_by_owner(&fx->m, t, OWNER_NODE, "vip1", "net", ADDR_V6, &got), NETD_ENOTFOUND);
	assert_int_equal(model_alloc_get(&fx->m, t, "net2", &a4, &got), NETD_ENOTFOUND);
	c.stop = 1;
	assert_int_equal(model_alloc_each(&fx->m, t, "net", alloc_collect, &c), 0);
	assert_int_equal(c.n_seen, 1);
	store_read_end(t);

	expect_each(fx, "net", want_net, 3);
	expect_each(fx, "ne", want_ne, 1);
	expect_each(fx, "nope", NULL, 0);
	expect_each(fx, NULL, want_all, 6);
	expect_each(fx, "", want_all, 6);

	/* Delete net 10.0.0.5 (owner a). */
	c.del = mk_alloc(2);
	assert_int_equal(store_update(fx->s, alloc_del_fn, &c), 0);
	assert_int_equal(store_update(fx->s, alloc_del_fn, &c), NETD_ENOTFOUND);
	assert_int_equal(store_read_begin(fx->s, &t), 0);
	assert_int_equal(model_alloc_get(&fx->m, t, "net", &a4, &got), NETD_ENOTFOUND);
	assert_int_equal(model_alloc_by_owner(&fx->m, t, OWNER_NODE, "a", "net", ADDR_V4, &got), NETD_ENOTFOUND);
	assert_int_equal(model_alloc_by_owner(&fx->m, t, OWNER_NODE, "a", "net", ADDR_V6, &got), 0);
	store_read_end(t);
	expect_each(fx, "net", want_net + 1, 2);
}

/* Deleting an allocation whose owner moved on keeps the owner's new entry. */
static int alloc_move_fn(struct store_txn *t, void *arg)
{
	struct alloc_ctx *c = arg;
	struct model_alloc a = mk_alloc(2), b = mk_alloc(2);
	int rc;

	b.addr = A("10.0.0.9");
	if ((rc = model_alloc_put(&c->fx->m, t, &a)) || (rc = model_alloc_put(&c->fx->m, t, &b)))
		return rc;
	return model_alloc_del(&c->fx->m, t, &a);
}

static void test_alloc_owner_moved(void **state)
{
	struct fx *fx = *state;
	struct alloc_ctx c = { .fx = fx };
	struct model_alloc got;
	struct store_txn *t;
	char buf[ADDR_STRLEN];

	assert_int_equal(store_update(fx->s, alloc_move_fn, &c), 0);
	assert_int_equal(store_read_begin(fx->s, &t), 0);
	assert_int_equal(model_alloc_by_owner(&fx->m, t, OWNER_NODE, "a", "net", ADDR_V4, &got), 0);
	assert_string_equal(addr_print(&got.addr, buf, sizeof(buf)), "10.0.0.9");
	store_read_end(t);
}

struct meta_ctx {
	struct fx *fx;
};

static int meta_put_fn(struct store_txn *t, void *arg)
{
	struct meta_ctx *c = arg;
	return model_meta_put(&c->fx->m, t, "ula", "\xfd\x12\x34\x56\x78", 5);
}

static void test_meta(void **state)
{
	struct fx *fx = *state;
	struct meta_ctx c = { fx };
	uint8_t buf[8] = { 0 };
	size_t len = 77;
	struct store_txn *t;

	assert_int_equal(store_update(fx->s, meta_put_fn, &c), 0);
	assert_int_equal(store_read_begin(fx->s, &t), 0);
	assert_int_equal(model_meta_get(&fx->m, t, "ula", buf, 4, &len), -ERANGE);
	assert_int_equal(len, 77);
	assert_int_equal(model_meta_get(&fx->m, t, "ula", buf, 5, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "\xfd\x12\x34\x56\x78", 5);
	assert_int_equal(model_meta_get(&fx->m, t, "absent", buf, sizeof(buf), &len), NETD_ENOTFOUND);
	/* The store's schema record lives here too. */
	assert_int_equal(model_meta_get(&fx->m, t, "schema", buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(buf[3], STORE_SCHEMA_VERSION);
	store_read_end(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network_roundtrip),
		cmocka_unit_test(test_node_roundtrip),
		cmocka_unit_test(test_alloc_roundtrip),
		cmocka_unit_test(test_network_v1),
		cmocka_unit_test(test_wrong_tag),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_copy_equal),
		cmocka_unit_test(test_fqdn),
		cmocka_unit_test(test_team_modes),
		cmocka_unit_test(test_keys),
		cmocka_unit_test_setup_teardown(test_node_mac_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_networks_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allocs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_owner_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
