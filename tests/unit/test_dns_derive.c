/* Unit tests for dns/derive.c and dns/plan.c: record sets, zone lookup,
 * reverse names, derivation per kind of network (table), names refused
 * with their path and reason (table), plans for the changes that matter
 * (table of expected stages and prerequisites), and a seeded property
 * test: random windows of renames, aliases, deletions and address changes
 * over 20 nodes, each plan applied message by message (or group by group)
 * to a model of the zones with RFC 2136 semantics, checking after every
 * step that every PTR's target resolves forward to the PTR's address,
 * that no CNAME dangles, that every prerequisite holds, and at the end
 * that the zones equal the intent; and a large window (thousands of
 * groups per message) planned from sorted and from shuffled inputs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/model.h"
#include "dns/dns.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ID "t1"
#define OWN "netd owner=" ID

/* ---- fixtures --------------------------------------------------------- */

static struct model_network mknet(const char *name, bool primary, const char *domain)
{
	struct model_network n = {.primary = primary};
	snprintf(n.name, sizeof n.name, "%s", name);
	snprintf(n.dns_domain, sizeof n.dns_domain, "%s", domain);
	return n;
}

/* admin: primary; storage: secondary (domain with final dot); bmc: no
 * domain; ext: secondary in another domain, in mixed case. */
static struct model_network g_nets[4];

static void nets_init(void)
{
	g_nets[0] = mknet("admin", true, "lab.example");
	g_nets[1] = mknet("storage", false, "lab.example.");
	g_nets[2] = mknet("bmc", false, "");
	g_nets[3] = mknet("ext", false, "Ext.Example");
}

static struct model_alloc mkalloc(const char *net, const char *owner, const char *addr)
{
	struct model_alloc a = {.owner_kind = OWNER_NODE, .state = ALLOC_ACTIVE};
	snprintf(a.network, sizeof a.network, "%s", net);
	snprintf(a.owner, sizeof a.owner, "%s", owner);
	if (addr_parse(addr, &a.addr) != 0)
		fail_msg("bad address %s", addr);
	return a;
}

static const struct dns_zone g_zones[] = {
	{"lab.example.", DNS_ZONE_FORWARD},
	{"storage.lab.example", DNS_ZONE_FORWARD},
	{"ext.example.", DNS_ZONE_FORWARD},
	{"example.com.", DNS_ZONE_FORWARD},
	{"0.0.10.in-addr.arpa.", DNS_ZONE_REVERSE},
	{"1.10.in-addr.arpa.", DNS_ZONE_REVERSE},
	{"10.in-addr.arpa.", DNS_ZONE_REVERSE},
	{"5.168.192.in-addr.arpa.", DNS_ZONE_REVERSE},
	{"0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", DNS_ZONE_REVERSE},
	{"8.b.d.0.1.0.0.2.ip6.arpa.", DNS_ZONE_REVERSE},
};

static void rec_text(const struct dns_rec *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s", r->owner, dns_rec_type_name(r->type), r->data);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compare @s with @want (texts "owner TYPE data", any order). */
static void assert_set(const struct dns_recset *s, const char *const *want, size_t n_want, const char *what)
{
	char **got = calloc(s->n + 1, sizeof *got);
	const char **exp = calloc(n_want + 1, sizeof *exp);
	assert_non_null(got);
	assert_non_null(exp);
	for (size_t i = 0; i < s->n; i++) {
		got[i] = malloc(600);
		rec_text(&s->v[i], got[i], 600);
	}
	memcpy(exp, want, n_want * sizeof *want);
	qsort(got, s->n, sizeof *got, str_cmp);
	qsort(exp, n_want, sizeof *exp, str_cmp);
	for (size_t i = 0; i < s->n || i < n_want; i++) {
		const char *g = i < s->n ? got[i] : "(none)", *w = i < n_want ? exp[i] : "(none)";
		if (strcmp(g, w) != 0)
			fail_msg("%s: record %zu: got \"%s\", want \"%s\"", what, i, g, w);
	}
	for (size_t i = 0; i < s->n; i++)
		free(got[i]);
	free(got);
	free(exp);
}

static struct dns_rec mkrec(const char *owner, uint16_t type, const char *data, uint32_t ttl)
{
	struct dns_rec r = {.type = type, .ttl = ttl};
	snprintf(r.owner, sizeof r.owner, "%s", owner);
	snprintf(r.data, sizeof r.data, "%s", data);
	return r;
}

/* ---- record sets ------------------------------------------------------ */

static void test_recset_sort_diff(void **state)
{
	(void)state;
	struct dns_recset a = {0}, b = {0}, add = {0}, del = {0};
	/* out of order, a duplicate, and a TTL-only twin */
	struct dns_rec ra[] = {
		mkrec("b.x.", DNS_REC_A, "10.0.0.2", 60), mkrec("a.x.", DNS_REC_TXT, OWN, 60),
		mkrec("a.x.", DNS_REC_A, "10.0.0.1", 300), mkrec("a.x.", DNS_REC_A, "10.0.0.1", 60),
		mkrec("b.x.", DNS_REC_A, "10.0.0.2", 60),
	};
	for (size_t i = 0; i < N_ELEM(ra); i++)
		assert_int_equal(dns_recset_add(&a, &ra[i]), 0);
	dns_recset_sort(&a);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[0].owner, "a.x.");
	assert_int_equal(a.v[0].type, DNS_REC_A);
	assert_int_equal(a.v[0].ttl, 60);   /* lowest TTL kept */
	assert_int_equal(a.v[1].type, DNS_REC_TXT);
	assert_string_equal(a.v[2].owner, "b.x.");
	struct dns_rec probe = mkrec("b.x.", DNS_REC_A, "10.0.0.2", 999);
	assert_ptr_equal(dns_recset_find(&a, &probe), &a.v[2]);
	probe = mkrec("b.x.", DNS_REC_A, "10.0.0.3", 60);
	assert_null(dns_recset_find(&a, &probe));

	struct dns_rec rb[] = {
		mkrec("a.x.", DNS_REC_A, "10.0.0.1", 120), mkrec("a.x.", DNS_REC_TXT, OWN, 60),
		mkrec("c.x.", DNS_REC_AAAA, "fd00::3", 60),
	};
	for (size_t i = 0; i < N_ELEM(rb); i++)
		assert_int_equal(dns_recset_add(&b, &rb[i]), 0);
	dns_recset_sort(&b);
	assert_int_equal(dns_recset_diff(&a, &b, &add, &del), 0);
	const char *want_add[] = {"a.x. A 10.0.0.1", "c.x. AAAA fd00::3"};  /* TTL change = add */
	const char *want_del[] = {"b.x. A 10.0.0.2"};
	assert_set(&add, want_add, N_ELEM(want_add), "add");
	assert_set(&del, want_del, N_ELEM(want_del), "del");
	assert_int_equal(add.v[0].ttl, 120);
	dns_recset_clear(&a);
	dns_recset_clear(&b);
	dns_recset_clear(&add);
	dns_recset_clear(&del);
	dns_recset_clear(NULL);
}

static void test_recset_sort_deterministic(void **state)
{
	(void)state;
	/* Any input order gives the same array, byte for byte. */
	struct dns_rec r[] = {
		mkrec("a.x.", DNS_REC_A, "10.0.0.1", 60), mkrec("a.x.", DNS_REC_A, "10.0.0.1", 30),
		mkrec("a.x.", DNS_REC_AAAA, "fd00::1", 60), mkrec("_netd.a.x.", DNS_REC_TXT, OWN, 60),
		mkrec("a.x.", DNS_REC_TXT, OWN, 60), mkrec("1.0.0.10.in-addr.arpa.", DNS_REC_PTR, "a.x.", 60),
	};
	struct dns_recset first = {0};
	uint32_t seed = 7;
	for (int round = 0; round < 50; round++) {
		struct dns_recset s = {0};
		size_t idx[N_ELEM(r)];
		for (size_t i = 0; i < N_ELEM(r); i++)
			idx[i] = i;
		for (size_t i = N_ELEM(r) - 1; i > 0; i--) {
			seed = seed * 1103515245u + 12345u;
			size_t j = (seed >> 8) % (i + 1), t = idx[i];
			idx[i] = idx[j];
			idx[j] = t;
		}
		for (size_t i = 0; i < N_ELEM(r); i++)
			assert_int_equal(dns_recset_add(&s, &r[idx[i]]), 0);
		dns_recset_sort(&s);
		assert_int_equal(s.n, 5);
		if (round == 0)
			assert_int_equal(dns_recset_add_all(&first, &s), 0);
		else
			for (size_t i = 0; i < s.n; i++)
				assert_true(dns_rec_cmp(&s.v[i], &first.v[i]) == 0 && s.v[i].ttl == first.v[i].ttl);
		dns_recset_clear(&s);
	}
	dns_recset_clear(&first);
}

static void test_recset_check(void **state)
{
	(void)state;
	struct {
		struct dns_rec r[3];
		size_t n;
		const char *msg;  /* NULL: accepted */
	} cases[] = {
		{{mkrec("w.x.", DNS_REC_CNAME, "a.x.", 60), mkrec("_netd.w.x.", DNS_REC_TXT, OWN, 60)}, 2, NULL},
		{{mkrec("w.x.", DNS_REC_CNAME, "a.x.", 60), mkrec("w.x.", DNS_REC_A, "10.0.0.1", 60)}, 2,
		 "name w.x.: a CNAME and other records"},
		{{mkrec("w.x.", DNS_REC_CNAME, "a.x.", 60), mkrec("w.x.", DNS_REC_CNAME, "b.x.", 60)}, 2,
		 "name w.x.: 2 CNAME records"},
		{{mkrec("a.x.", DNS_REC_A, "10.0.0.1", 60), mkrec("a.x.", DNS_REC_A, "10.0.0.2", 60),
		  mkrec("a.x.", DNS_REC_TXT, OWN, 60)}, 3, NULL},
	};
	for (size_t i = 0; i < N_ELEM(cases); i++) {
		struct dns_recset s = {0};
		struct netd_err e = {0};
		for (size_t k = 0; k < cases[i].n; k++)
			assert_int_equal(dns_recset_add(&s, &cases[i].r[k]), 0);
		dns_recset_sort(&s);
		int rc = dns_recset_check(&s, &e);
		if (!cases[i].msg)
			assert_int_equal(rc, 0);
		else if (rc != NETD_EINVAL || !strstr(e.msg, cases[i].msg))
			fail_msg("case %zu: rc %d msg \"%s\"", i, rc, e.msg);
		dns_recset_clear(&s);
	}
}

/* ---- zones and reverse names ------------------------------------------ */

static void test_zone_for(void **state)
{
	(void)state;
	static const struct {
		const char *owner, *zone;  /* zone NULL: none */
	} cases[] = {
		{"web1.lab.example.", "lab.example."},
		{"WEB1.Lab.Example", "lab.example."},
		{"lab.example.", "lab.example."},
		{"web1.storage.lab.example.", "storage.lab.example"},
		{"_netd.www.storage.lab.example.", "storage.lab.example"},
		{"storage.lab.example.", "storage.lab.example"},
		{"xlab.example.", NULL},
		{"example.", NULL},
		{"api.example.com.", "example.com."},
		{"5.0.0.10.in-addr.arpa.", "0.0.10.in-addr.arpa."},
		{"5.1.1.10.in-addr.arpa.", "1.10.in-addr.arpa."},
		{"5.0.2.10.in-addr.arpa.", "10.in-addr.arpa."},
		{"5.0.0.11.in-addr.arpa.", NULL},
		{"bad..name.", NULL},
	};
	for (size_t i = 0; i < N_ELEM(cases); i++) {
		const struct dns_zone *z = dns_zone_for(g_zones, N_ELEM(g_zones), cases[i].owner);
		const char *got = z ? z->name : NULL;
		if ((got == NULL) != (cases[i].zone == NULL) || (got && strcmp(got, cases[i].zone) != 0))
			fail_msg("%s: got %s, want %s", cases[i].owner, got ? got : "(none)",
				 cases[i].zone ? cases[i].zone : "(none)");
	}
	assert_null(dns_zone_for(NULL, 0, "a.b."));
}

static void test_reverse_names(void **state)
{
	(void)state;
	static const struct {
		const char *addr, *rev;
	} cases[] = {
		{"10.0.0.5", "5.0.0.10.in-addr.arpa."},
		{"192.168.1.255", "255.1.168.192.in-addr.arpa."},
		{"0.0.0.0", "0.0.0.0.in-addr.arpa."},
		/* RFC 3596 2.5's example */
		{"4321:0:1:2:3:4:567:89ab",
		 "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa."},
		{"fd00::5", "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa."},
		{"2001:db8::ff", "f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."},
	};
	for (size_t i = 0; i < N_ELEM(cases); i++) {
		struct addr a;
		char buf[DNS_REC_NAME_MAX];
		assert_int_equal(addr_parse(cases[i].addr, &a), 0);
		assert_int_equal(dns_reverse_name(&a, buf, sizeof buf), 0);
		assert_string_equal(buf, cases[i].rev);
	}
	struct addr none = {0};
	char buf[DNS_REC_NAME_MAX];
	assert_int_equal(dns_reverse_name(&none, buf, sizeof buf), NETD_EINVAL);
}

/* ---- derivation: table ------------------------------------------------ */

#define MAXA 6
#define MAXW 16

struct derive_case {
	const char *what;
	const char *node;
	const char *aliases[4];
	const char *allocs[MAXA][2];   /* network, address */
	struct dns_tmpl tmpl;           /* .network NULL: none */
	const char *want[MAXW];
};

static const struct derive_case derive_cases[] = {
	{"primary v4", "web1", {0}, {{"admin", "10.0.0.5"}}, {0},
	 {"web1.lab.example. A 10.0.0.5", "web1.lab.example. TXT " OWN,
	  "5.0.0.10.in-addr.arpa. PTR web1.lab.example.", "5.0.0.10.in-addr.arpa. TXT " OWN}},
	{"secondary (domain with final dot)", "web1", {0}, {{"storage", "10.1.0.5"}}, {0},
	 {"web1.storage.lab.example. A 10.1.0.5", "web1.storage.lab.example. TXT " OWN,
	  "5.0.1.10.in-addr.arpa. PTR web1.storage.lab.example.", "5.0.1.10.in-addr.arpa. TXT " OWN}},
	{"no domain: nothing", "web1", {"www"}, {{"bmc", "10.2.0.5"}}, {0}, {0}},
	{"v6 only, on the primary", "web1", {0}, {{"admin", "fd00::5"}}, {0},
	 {"web1.lab.example. AAAA fd00::5", "web1.lab.example. TXT " OWN,
	  "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR web1.lab.example.",
	  "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. TXT " OWN}},
	{"dual stack + secondary in another domain, mixed case", "Web1", {0},
	 {{"admin", "10.0.0.5"}, {"admin", "fd00::5"}, {"ext", "192.168.5.9"}}, {0},
	 {"web1.lab.example. A 10.0.0.5", "web1.lab.example. AAAA fd00::5", "web1.lab.example. TXT " OWN,
	  "5.0.0.10.in-addr.arpa. PTR web1.lab.example.", "5.0.0.10.in-addr.arpa. TXT " OWN,
	  "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR web1.lab.example.",
	  "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. TXT " OWN,
	  "web1.ext.ext.example. A 192.168.5.9", "web1.ext.ext.example. TXT " OWN,
	  "9.5.168.192.in-addr.arpa. PTR web1.ext.ext.example.", "9.5.168.192.in-addr.arpa. TXT " OWN}},
	{"aliases relative + absolute", "web1", {"www", "API.example.com.", "www.sub"}, {{"admin", "10.0.0.5"}},
	 {0},
	 {"web1.lab.example. A 10.0.0.5", "web1.lab.example. TXT " OWN,
	  "5.0.0.10.in-addr.arpa. PTR web1.lab.example.", "5.0.0.10.in-addr.arpa. TXT " OWN,
	  "www.lab.example. CNAME web1.lab.example.", "_netd.www.lab.example. TXT " OWN,
	  "api.example.com. CNAME web1.lab.example.", "_netd.api.example.com. TXT " OWN,
	  "www.sub.lab.example. CNAME web1.lab.example.", "_netd.www.sub.lab.example. TXT " OWN}},
	{"aliases without a primary name: none", "web1", {"www"}, {{"storage", "10.1.0.5"}}, {0},
	 {"web1.storage.lab.example. A 10.1.0.5", "web1.storage.lab.example. TXT " OWN,
	  "5.0.1.10.in-addr.arpa. PTR web1.storage.lab.example.", "5.0.1.10.in-addr.arpa. TXT " OWN}},
	{"template on a secondary", "web1", {0}, {{"storage", "10.1.0.5"}},
	 {"storage", "{node}-{network}.{domain}"},
	 {"web1-storage.lab.example. A 10.1.0.5", "web1-storage.lab.example. TXT " OWN,
	  "5.0.1.10.in-addr.arpa. PTR web1-storage.lab.example.", "5.0.1.10.in-addr.arpa. TXT " OWN}},
	{"template on the primary moves the alias target", "web1", {"www"}, {{"admin", "10.0.0.5"}},
	 {"admin", "{node}.hosts.{domain}."},
	 {"web1.hosts.lab.example. A 10.0.0.5", "web1.hosts.lab.example. TXT " OWN,
	  "5.0.0.10.in-addr.arpa. PTR web1.hosts.lab.example.", "5.0.0.10.in-addr.arpa. TXT " OWN,
	  "www.lab.example. CNAME web1.hosts.lab.example.", "_netd.www.lab.example. TXT " OWN}},
	{"held and foreign allocations skipped", "web1", {0},
	 {{"admin", "10.0.0.5"}, {"admin", "10.0.0.6"}, {"admin", "10.0.0.7"}}, {0},
	 {"web1.lab.example. A 10.0.0.5", "web1.lab.example. TXT " OWN,
	  "5.0.0.10.in-addr.arpa. PTR web1.lab.example.", "5.0.0.10.in-addr.arpa. TXT " OWN}},
};

static void run_derive_case(const struct derive_case *c)
{
	struct model_alloc allocs[MAXA];
	size_t n_allocs = 0;
	for (size_t i = 0; i < MAXA && c->allocs[i][0]; i++)
		allocs[n_allocs++] = mkalloc(c->allocs[i][0], c->node, c->allocs[i][1]);
	if (strcmp(c->what, "held and foreign allocations skipped") == 0) {
		allocs[1].state = ALLOC_HELD;
		snprintf(allocs[2].owner, sizeof allocs[2].owner, "other");
	}
	char *aliases[4];
	size_t n_aliases = 0;
	for (size_t i = 0; i < 4 && c->aliases[i]; i++)
		aliases[n_aliases++] = (char *)c->aliases[i];
	struct model_node node = {.aliases = aliases, .n_aliases = n_aliases};
	snprintf(node.name, sizeof node.name, "%s", c->node);
	struct dns_derive_opts o = {.installation_id = ID, .ttl = 300,
				    .tmpls = c->tmpl.network ? &c->tmpl : NULL, .n_tmpls = c->tmpl.network ? 1 : 0};
	struct dns_recset s = {0};
	struct netd_err e = {0};
	int rc = dns_derive_node(g_nets, N_ELEM(g_nets), &node, allocs, n_allocs, &o, &s, &e);
	if (rc)
		fail_msg("%s: %d %s", c->what, rc, e.msg);
	size_t n_want = 0;
	while (n_want < MAXW && c->want[n_want])
		n_want++;
	assert_set(&s, c->want, n_want, c->what);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(s.v[i].ttl, 300);
	for (size_t i = 1; i < s.n; i++)  /* appended sorted */
		assert_true(dns_rec_cmp(&s.v[i - 1], &s.v[i]) < 0);
	dns_recset_clear(&s);
}

static void test_derive_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEM(derive_cases); i++)
		run_derive_case(&derive_cases[i]);
}

static void test_derive_appends(void **state)
{
	(void)state;
	struct dns_recset s = {0};
	struct dns_rec keep = mkrec("keep.x.", DNS_REC_A, "10.9.9.9", 1);
	assert_int_equal(dns_recset_add(&s, &keep), 0);
	struct model_alloc a = mkalloc("admin", "web1", "10.0.0.5");
	struct model_node node = {.name = "web1"};
	struct dns_derive_opts o = {.installation_id = ID, .ttl = 60};
	assert_int_equal(dns_derive_node(g_nets, N_ELEM(g_nets), &node, &a, 1, &o, &s, NULL), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.v[0].owner, "keep.x.");
	dns_recset_clear(&s);
}

/* ---- derivation: refused names ---------------------------------------- */

struct bad_case {
	const char *node;
	const char *alias;
	const char *net, *domain;    /* network of the allocation; domain override ("" keep) */
	const char *tmpl;
	const char *id;
	int code;
	const char *path, *msg1, *msg2;
};

static char long_domain[300], long_label_domain[80], long_alias[260];

static void long_names_init(void)
{
	/* 4 x 62 + 3 dots = 251 characters: any node name pushes it past 253 */
	char *p = long_domain;
	for (int i = 0; i < 4; i++) {
		memset(p, 'a' + i, 62);
		p += 62;
		*p++ = i < 3 ? '.' : '\0';
	}
	memset(long_label_domain, 'x', 64);
	strcpy(long_label_domain + 64, ".example");
	/* 3 x 63 + 60 + 3 dots + final dot = 253 + 1: valid, but "_netd." does not fit */
	p = long_alias;
	for (int i = 0; i < 4; i++) {
		size_t l = i < 3 ? 63 : 60;
		memset(p, 'k' + i, l);
		p += l;
		*p++ = '.';
	}
	*p = '\0';
}

static const struct bad_case bad_cases[] = {
	{"web_1", NULL, "admin", "", NULL, ID, NETD_EINVAL, "node[name='web_1']", "network admin",
	 "character '_' is not allowed"},
	{"web1", NULL, "admin", long_label_domain, NULL, ID, NETD_EINVAL, "node[name='web1']", "network admin",
	 "more than 63"},
	{"web1", NULL, "admin", long_domain, NULL, ID, NETD_EINVAL, "node[name='web1']", "network admin",
	 "longer than 253"},
	{"web1", NULL, "storage", "", "{host}.{domain}", ID, NETD_EINVAL, "node[name='web1']",
	 "network storage: name template \"{host}.{domain}\"", "unknown placeholder"},
	{"web1", NULL, "storage", "", "{node}}.{domain}", ID, NETD_EINVAL, "node[name='web1']",
	 "network storage", "'}' without '{'"},
	{"web1", NULL, "storage", "", "{node}..{domain}", ID, NETD_EINVAL, "node[name='web1']",
	 "network storage", "label 2 is empty"},
	{"web1", "bad_alias", "admin", "", NULL, ID, NETD_EINVAL, "node[name='web1']", "alias bad_alias",
	 "character '_'"},
	{"web1", "-www", "admin", "", NULL, ID, NETD_EINVAL, "node[name='web1']", "alias -www", "starts with '-'"},
	{"web1", "web1", "admin", "", NULL, ID, NETD_EINVAL, "node[name='web1']", "alias web1",
	 "already an address name"},
	{"web1", long_alias, "admin", "", NULL, ID, NETD_EINVAL, "node[name='web1']", "alias kkk",
	 "no room for its ownership record"},
	{"web1", NULL, "admin", "", NULL, "bad id", NETD_EINVAL, "", "installation id \"bad id\"", NULL},
	{"web1", NULL, "admin", "", NULL, NULL, NETD_EINVAL, "", "installation id", NULL},
	{"web1", NULL, "gone", "", NULL, ID, NETD_ENOTFOUND, "node[name='web1']", "network gone", "not given"},
};

static void test_derive_refused(void **state)
{
	(void)state;
	long_names_init();
	for (size_t i = 0; i < N_ELEM(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct model_network nets[N_ELEM(g_nets)];
		memcpy(nets, g_nets, sizeof nets);
		for (size_t k = 0; k < N_ELEM(nets); k++)
			if (strcmp(nets[k].name, c->net) == 0 && c->domain[0])
				snprintf(nets[k].dns_domain, sizeof nets[k].dns_domain, "%s", c->domain);
		struct model_alloc a = mkalloc(c->net, c->node, "10.0.0.5");
		char *aliases[1] = {(char *)c->alias};
		struct model_node node = {.aliases = aliases, .n_aliases = c->alias ? 1 : 0};
		snprintf(node.name, sizeof node.name, "%s", c->node);
		struct dns_tmpl t = {c->net, c->tmpl};
		struct dns_derive_opts o = {.installation_id = c->id, .ttl = 60, .tmpls = &t, .n_tmpls = c->tmpl ? 1 : 0};
		struct dns_recset s = {0};
		struct dns_rec keep = mkrec("keep.x.", DNS_REC_A, "10.9.9.9", 1);
		assert_int_equal(dns_recset_add(&s, &keep), 0);
		struct netd_err e = {0};
		int rc = dns_derive_node(nets, N_ELEM(nets), &node, &a, 1, &o, &s, &e);
		if (rc != c->code || !strstr(e.path, c->path) || !strstr(e.msg, c->msg1) ||
		    (c->msg2 && !strstr(e.msg, c->msg2)))
			fail_msg("case %zu: rc %d path \"%s\" msg \"%s\"", i, rc, e.path, e.msg);
		assert_int_equal(s.n, 1);   /* output untouched on failure */
		dns_recset_clear(&s);
	}
}

/* ---- the zone simulator ------------------------------------------------ */

/* What a primary server holds for all the test zones, with RFC 2136
 * semantics for updates. */
struct sim {
	struct dns_recset r;
	char why[700];
	/* statistics */
	unsigned long checks, ptr_checks, steps;
};

static int sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sim_fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof s->why, fmt, ap);
	va_end(ap);
	return -1;
}

static bool sim_has(const struct sim *s, const char *owner, int type)
{
	for (size_t i = 0; i < s->r.n; i++)
		if (strcmp(s->r.v[i].owner, owner) == 0 && (type < 0 || s->r.v[i].type == type))
			return true;
	return false;
}

static bool sim_has_non_cname(const struct sim *s, const char *owner)
{
	for (size_t i = 0; i < s->r.n; i++)
		if (strcmp(s->r.v[i].owner, owner) == 0 && s->r.v[i].type != DNS_REC_CNAME)
			return true;
	return false;
}

static void sim_remove_at(struct sim *s, size_t i)
{
	s->r.v[i] = s->r.v[--s->r.n];
}

/* Prerequisites of @pre[0..n): FREE owners are unused; the OWNED RRs of
 * each owner are exactly its TXT RRset. */
static int sim_prereqs(struct sim *s, const struct dns_prereq *pre, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct dns_prereq *p = &pre[i];
		if (p->kind == DNS_PRE_FREE) {
			if (sim_has(s, p->rec.owner, -1))
				return sim_fail(s, "prerequisite failed: %s is in use (YXDOMAIN)", p->rec.owner);
		} else if (p->kind == DNS_PRE_OWNED) {
			size_t want = 0, have = 0;
			for (size_t k = 0; k < n; k++)
				if (pre[k].kind == DNS_PRE_OWNED && strcmp(pre[k].rec.owner, p->rec.owner) == 0)
					want++;
			bool found = false;
			for (size_t k = 0; k < s->r.n; k++)
				if (s->r.v[k].type == DNS_REC_TXT && strcmp(s->r.v[k].owner, p->rec.owner) == 0) {
					have++;
					found |= strcmp(s->r.v[k].data, p->rec.data) == 0;
				}
			if (!found || have != want)
				return sim_fail(s, "prerequisite failed: TXT RRset at %s is not ours (NXRRSET)",
						p->rec.owner);
		} else {
			return sim_fail(s, "unexpected prerequisite kind %u at %s", p->kind, p->rec.owner);
		}
	}
	return 0;
}

/* One update, RFC 2136 3.4.2; a silently ignored add is a failure here. */
static int sim_update(struct sim *s, const struct dns_change *c)
{
	const struct dns_rec *r = &c->rec;
	if (c->op == DNS_CHG_DEL) {
		for (size_t i = 0; i < s->r.n; i++)
			if (dns_rec_cmp(&s->r.v[i], r) == 0) {
				sim_remove_at(s, i);
				return 0;
			}
		return sim_fail(s, "delete of a record the zone lacks: %s %s %s", r->owner,
				dns_rec_type_name(r->type), r->data);
	}
	if (r->type == DNS_REC_CNAME && sim_has_non_cname(s, r->owner))
		return sim_fail(s, "CNAME add at %s ignored: other data there", r->owner);
	if (r->type != DNS_REC_CNAME && sim_has(s, r->owner, DNS_REC_CNAME))
		return sim_fail(s, "%s add at %s ignored: a CNAME there", dns_rec_type_name(r->type), r->owner);
	for (size_t i = 0; i < s->r.n; i++)
		if ((r->type == DNS_REC_CNAME && s->r.v[i].type == DNS_REC_CNAME &&
		     strcmp(s->r.v[i].owner, r->owner) == 0) || dns_rec_cmp(&s->r.v[i], r) == 0) {
			s->r.v[i] = *r;   /* CNAME replaced; duplicate: TTL replaced */
			return 0;
		}
	return dns_recset_add(&s->r, r) ? sim_fail(s, "out of memory") : 0;
}

/* The address a reverse owner maps, or false. */
static bool rev_to_addr(const char *owner, struct addr *out)
{
	char lab[40][64];
	size_t n = 0;
	const char *p = owner;
	while (*p && n < 40) {
		const char *dot = strchr(p, '.');
		if (!dot)
			break;
		snprintf(lab[n++], sizeof lab[0], "%.*s", (int)(dot - p), p);
		p = dot + 1;
	}
	char text[300];
	if (n == 6 && strcmp(lab[4], "in-addr") == 0) {
		snprintf(text, sizeof text, "%s.%s.%s.%s", lab[3], lab[2], lab[1], lab[0]);
	} else if (n == 34 && strcmp(lab[32], "ip6") == 0) {
		size_t o = 0;
		for (int i = 31; i >= 0; i--) {
			text[o++] = lab[i][0];
			if (i % 4 == 0 && i)
				text[o++] = ':';
		}
		text[o] = '\0';
	} else {
		return false;
	}
	return addr_parse(text, out) == 0;
}

/* Does @name resolve (following CNAMEs) to address @a? */
static bool sim_resolves(const struct sim *s, const char *name, const struct addr *a, int depth)
{
	for (size_t i = 0; i < s->r.n; i++) {
		const struct dns_rec *r = &s->r.v[i];
		if (strcmp(r->owner, name) != 0)
			continue;
		if (r->type == DNS_REC_CNAME)
			return depth < 8 && sim_resolves(s, r->data, a, depth + 1);
		struct addr got;
		if ((r->type == DNS_REC_A || r->type == DNS_REC_AAAA) && addr_parse(r->data, &got) == 0 &&
		    addr_eq(&got, a))
			return true;
	}
	return false;
}

/* The invariants: FCrDNS for every PTR, no dangling CNAME, no CNAME
 * beside other data. */
static int sim_check(struct sim *s)
{
	s->checks++;
	for (size_t i = 0; i < s->r.n; i++) {
		const struct dns_rec *r = &s->r.v[i];
		if (r->type == DNS_REC_PTR) {
			struct addr a;
			s->ptr_checks++;
			if (!rev_to_addr(r->owner, &a))
				return sim_fail(s, "PTR owner %s is not a reverse name", r->owner);
			if (!sim_resolves(s, r->data, &a, 0))
				return sim_fail(s, "FCrDNS broken: %s PTR %s, which does not resolve to it",
						r->owner, r->data);
		} else if (r->type == DNS_REC_CNAME) {
			if (!sim_has(s, r->data, DNS_REC_A) && !sim_has(s, r->data, DNS_REC_AAAA))
				return sim_fail(s, "dangling CNAME %s -> %s", r->owner, r->data);
			if (sim_has_non_cname(s, r->owner))
				return sim_fail(s, "CNAME and other data at %s", r->owner);
		}
	}
	return 0;
}

static int sim_equals(struct sim *s, const struct dns_recset *want)
{
	struct dns_recset a = {0};
	if (dns_recset_add_all(&a, &s->r))
		return sim_fail(s, "out of memory");
	dns_recset_sort(&a);
	int rc = 0;
	if (a.n != want->n)
		rc = sim_fail(s, "zones hold %zu records, intent %zu", a.n, want->n);
	for (size_t i = 0; !rc && i < a.n; i++)
		if (dns_rec_cmp(&a.v[i], &want->v[i]) != 0 || a.v[i].ttl != want->v[i].ttl)
			rc = sim_fail(s, "zones differ from intent at %s %s %s", a.v[i].owner,
				      dns_rec_type_name(a.v[i].type), a.v[i].data);
	dns_recset_clear(&a);
	return rc;
}

/* Apply @p.  @by_group: each group of a message as its own UPDATE with
 * only its own prerequisites (the split the header allows). */
static int sim_apply_plan(struct sim *s, const struct dns_plan *p, bool by_group)
{
	unsigned last_stage = 0;
	for (size_t m = 0; m < p->n_msg; m++) {
		const struct dns_plan_msg *msg = &p->msg[m];
		if (msg->stage < last_stage || dns_stage_phase(msg->stage) != msg->phase || msg->n_chg == 0)
			return sim_fail(s, "message %zu: stage %u out of order or empty", m, msg->stage);
		last_stage = msg->stage;
		size_t g = 0;
		while (g < msg->n_chg) {
			size_t ge = g + 1;
			if (by_group)
				while (ge < msg->n_chg && strcmp(msg->chg[ge].group, msg->chg[g].group) == 0)
					ge++;
			else
				ge = msg->n_chg;
			const struct dns_change *c0 = &msg->chg[g];
			const struct dns_prereq *pre = by_group ? msg->pre + c0->pre_first : msg->pre;
			size_t n_pre = by_group ? c0->n_pre : msg->n_pre;
			if (sim_prereqs(s, pre, n_pre))
				return -1;
			for (size_t c = g; c < ge; c++)
				if (sim_update(s, &msg->chg[c]))
					return -1;
			s->steps++;
			if (sim_check(s))
				return -1;
			g = ge;
		}
	}
	return 0;
}

/* Every change of a message lies in its zone. */
static void assert_plan_zones(const struct dns_plan *p, const struct dns_zone *zones, size_t n_zones)
{
	for (size_t m = 0; m < p->n_msg; m++)
		for (size_t c = 0; c < p->msg[m].n_chg; c++) {
			const struct dns_zone *z = dns_zone_for(zones, n_zones, p->msg[m].chg[c].rec.owner);
			assert_non_null(z);
			assert_int_equal((size_t)(z - zones), p->msg[m].zone);
		}
	for (size_t i = 0; i < p->n_unzoned; i++)
		assert_null(dns_zone_for(zones, n_zones, p->unzoned[i].rec.owner));
}

/* ---- a world of nodes ------------------------------------------------- */

#define W_NODES 20
#define W_ALIASES 4
#define W_ALLOCS 6
#define POOL 44

struct wnode {
	bool used;
	char name[MODEL_NAME_MAX];
	char alias[W_ALIASES][MODEL_DOMAIN_MAX];
	size_t n_alias;
	struct model_alloc a[W_ALLOCS];
	size_t n_a;
};

struct world {
	struct wnode n[W_NODES];
	uint32_t ttl;
};

static int world_derive(const struct world *w, struct dns_recset *out, struct netd_err *e)
{
	struct dns_derive_opts o = {.installation_id = ID, .ttl = w->ttl};
	for (size_t i = 0; i < W_NODES; i++) {
		const struct wnode *wn = &w->n[i];
		if (!wn->used)
			continue;
		char *aliases[W_ALIASES];
		for (size_t k = 0; k < wn->n_alias; k++)
			aliases[k] = (char *)wn->alias[k];
		struct model_node node = {.aliases = aliases, .n_aliases = wn->n_alias};
		snprintf(node.name, sizeof node.name, "%s", wn->name);
		int rc = dns_derive_node(g_nets, N_ELEM(g_nets), &node, wn->a, wn->n_a, &o, out, e);
		if (rc)
			return rc;
	}
	dns_recset_sort(out);
	return 0;
}

static struct wnode *wadd(struct world *w, const char *name)
{
	for (size_t i = 0; i < W_NODES; i++)
		if (!w->n[i].used) {
			memset(&w->n[i], 0, sizeof w->n[i]);
			w->n[i].used = true;
			snprintf(w->n[i].name, sizeof w->n[i].name, "%s", name);
			return &w->n[i];
		}
	fail_msg("world full");
	return NULL;
}

static void wnode_alloc(struct wnode *n, const char *net, const char *addr)
{
	assert_true(n->n_a < W_ALLOCS);
	n->a[n->n_a++] = mkalloc(net, n->name, addr);
}

static void wnode_alias(struct wnode *n, const char *alias)
{
	assert_true(n->n_alias < W_ALIASES);
	snprintf(n->alias[n->n_alias++], MODEL_DOMAIN_MAX, "%s", alias);
}

static void wnode_rename(struct wnode *n, const char *name)
{
	snprintf(n->name, sizeof n->name, "%.63s", name);
	for (size_t k = 0; k < n->n_a; k++)
		snprintf(n->a[k].owner, sizeof n->a[k].owner, "%.63s", name);
}

/* ---- plans: table ----------------------------------------------------- */

/* One expected change: stage, op, "owner TYPE data", prerequisite kind and
 * owner ("" for none). */
struct want_chg {
	unsigned stage;
	uint8_t op;
	const char *rec;
	uint8_t pre;
	const char *pre_owner;
};

#define MAXC 24

struct plan_case {
	const char *what;
	void (*before)(struct world *w);
	void (*after)(struct world *w);
	struct want_chg want[MAXC];
	const char *unzoned[4];
};

static void w_web1(struct world *w)
{
	struct wnode *n = wadd(w, "web1");
	wnode_alloc(n, "admin", "10.0.0.5");
	wnode_alias(n, "www");
}

static void w_empty(struct world *w) { (void)w; }

static void w_web2(struct world *w)
{
	struct wnode *n = wadd(w, "web2");
	wnode_alloc(n, "admin", "10.0.0.5");
	wnode_alias(n, "www");
}

static void w_web1_api(struct world *w)
{
	struct wnode *n = wadd(w, "web1");
	wnode_alloc(n, "admin", "10.0.0.5");
	wnode_alias(n, "api.example.com.");
}

static void w_web1_moved(struct world *w)
{
	struct wnode *n = wadd(w, "web1");
	wnode_alloc(n, "admin", "10.0.0.6");
	wnode_alias(n, "www");
}

static void w_web1_storage(struct world *w)
{
	struct wnode *n = wadd(w, "web1");
	wnode_alloc(n, "admin", "10.0.0.5");
	wnode_alloc(n, "storage", "10.1.0.5");
}

static void w_web1_nostorage(struct world *w)
{
	struct wnode *n = wadd(w, "web1");
	wnode_alloc(n, "admin", "10.0.0.5");
}

/* web1 (alias www) and db1; then db1 is gone and web1 takes "db1" as an
 * alias (an address name becomes a CNAME) — and back. */
static void w_db1_node(struct world *w)
{
	w_web1(w);
	wnode_alloc(wadd(w, "db1"), "admin", "10.0.0.9");
}

static void w_db1_alias(struct world *w)
{
	w_web1(w);
	wnode_alias(&w->n[0], "db1");
}

static const struct plan_case plan_cases[] = {
	{"add", w_empty, w_web1,
	 {{1, DNS_CHG_ADD, "web1.lab.example. A 10.0.0.5", DNS_PRE_FREE, "web1.lab.example."},
	  {1, DNS_CHG_ADD, "web1.lab.example. TXT " OWN, DNS_PRE_FREE, "web1.lab.example."},
	  {2, DNS_CHG_ADD, "www.lab.example. CNAME web1.lab.example.", DNS_PRE_FREE, "www.lab.example."},
	  {2, DNS_CHG_ADD, "_netd.www.lab.example. TXT " OWN, DNS_PRE_FREE, "_netd.www.lab.example."},
	  {3, DNS_CHG_ADD, "5.0.0.10.in-addr.arpa. PTR web1.lab.example.", DNS_PRE_FREE, "5.0.0.10.in-addr.arpa."},
	  {3, DNS_CHG_ADD, "5.0.0.10.in-addr.arpa. TXT " OWN, DNS_PRE_FREE, "5.0.0.10.in-addr.arpa."}}, {0}},
	{"delete", w_web1, w_empty,
	 {{3, DNS_CHG_DEL, "5.0.0.10.in-addr.arpa. PTR web1.lab.example.", DNS_PRE_OWNED, "5.0.0.10.in-addr.arpa."},
	  {3, DNS_CHG_DEL, "5.0.0.10.in-addr.arpa. TXT " OWN, DNS_PRE_OWNED, "5.0.0.10.in-addr.arpa."},
	  {4, DNS_CHG_DEL, "www.lab.example. CNAME web1.lab.example.", DNS_PRE_OWNED, "_netd.www.lab.example."},
	  {4, DNS_CHG_DEL, "_netd.www.lab.example. TXT " OWN, DNS_PRE_OWNED, "_netd.www.lab.example."},
	  {5, DNS_CHG_DEL, "web1.lab.example. A 10.0.0.5", DNS_PRE_OWNED, "web1.lab.example."},
	  {5, DNS_CHG_DEL, "web1.lab.example. TXT " OWN, DNS_PRE_OWNED, "web1.lab.example."}}, {0}},
	{"rename", w_web1, w_web2,
	 {{1, DNS_CHG_ADD, "web2.lab.example. A 10.0.0.5", DNS_PRE_FREE, "web2.lab.example."},
	  {1, DNS_CHG_ADD, "web2.lab.example. TXT " OWN, DNS_PRE_FREE, "web2.lab.example."},
	  {2, DNS_CHG_DEL, "www.lab.example. CNAME web1.lab.example.", DNS_PRE_OWNED, "_netd.www.lab.example."},
	  {2, DNS_CHG_ADD, "www.lab.example. CNAME web2.lab.example.", DNS_PRE_OWNED, "_netd.www.lab.example."},
	  {3, DNS_CHG_DEL, "5.0.0.10.in-addr.arpa. PTR web1.lab.example.", DNS_PRE_OWNED, "5.0.0.10.in-addr.arpa."},
	  {3, DNS_CHG_ADD, "5.0.0.10.in-addr.arpa. PTR web2.lab.example.", DNS_PRE_OWNED, "5.0.0.10.in-addr.arpa."},
	  {5, DNS_CHG_DEL, "web1.lab.example. A 10.0.0.5", DNS_PRE_OWNED, "web1.lab.example."},
	  {5, DNS_CHG_DEL, "web1.lab.example. TXT " OWN, DNS_PRE_OWNED, "web1.lab.example."}}, {0}},
	{"alias change (relative -> absolute, other zone)", w_web1, w_web1_api,
	 {{2, DNS_CHG_ADD, "api.example.com. CNAME web1.lab.example.", DNS_PRE_FREE, "api.example.com."},
	  {2, DNS_CHG_ADD, "_netd.api.example.com. TXT " OWN, DNS_PRE_FREE, "_netd.api.example.com."},
	  {4, DNS_CHG_DEL, "www.lab.example. CNAME web1.lab.example.", DNS_PRE_OWNED, "_netd.www.lab.example."},
	  {4, DNS_CHG_DEL, "_netd.www.lab.example. TXT " OWN, DNS_PRE_OWNED, "_netd.www.lab.example."}}, {0}},
	{"address change", w_web1, w_web1_moved,
	 {{1, DNS_CHG_ADD, "web1.lab.example. A 10.0.0.6", DNS_PRE_OWNED, "web1.lab.example."},
	  {3, DNS_CHG_DEL, "5.0.0.10.in-addr.arpa. PTR web1.lab.example.", DNS_PRE_OWNED, "5.0.0.10.in-addr.arpa."},
	  {3, DNS_CHG_DEL, "5.0.0.10.in-addr.arpa. TXT " OWN, DNS_PRE_OWNED, "5.0.0.10.in-addr.arpa."},
	  {3, DNS_CHG_ADD, "6.0.0.10.in-addr.arpa. PTR web1.lab.example.", DNS_PRE_FREE, "6.0.0.10.in-addr.arpa."},
	  {3, DNS_CHG_ADD, "6.0.0.10.in-addr.arpa. TXT " OWN, DNS_PRE_FREE, "6.0.0.10.in-addr.arpa."},
	  {5, DNS_CHG_DEL, "web1.lab.example. A 10.0.0.5", DNS_PRE_OWNED, "web1.lab.example."}}, {0}},
	{"network removal", w_web1_storage, w_web1_nostorage,
	 {{3, DNS_CHG_DEL, "5.0.1.10.in-addr.arpa. PTR web1.storage.lab.example.", DNS_PRE_OWNED,
	   "5.0.1.10.in-addr.arpa."},
	  {3, DNS_CHG_DEL, "5.0.1.10.in-addr.arpa. TXT " OWN, DNS_PRE_OWNED, "5.0.1.10.in-addr.arpa."},
	  {5, DNS_CHG_DEL, "web1.storage.lab.example. A 10.1.0.5", DNS_PRE_OWNED, "web1.storage.lab.example."},
	  {5, DNS_CHG_DEL, "web1.storage.lab.example. TXT " OWN, DNS_PRE_OWNED, "web1.storage.lab.example."}},
	 {0}},
	{"address name becomes an alias", w_db1_node, w_db1_alias,
	 {{3, DNS_CHG_DEL, "9.0.0.10.in-addr.arpa. PTR db1.lab.example.", DNS_PRE_OWNED, "9.0.0.10.in-addr.arpa."},
	  {3, DNS_CHG_DEL, "9.0.0.10.in-addr.arpa. TXT " OWN, DNS_PRE_OWNED, "9.0.0.10.in-addr.arpa."},
	  {5, DNS_CHG_DEL, "db1.lab.example. A 10.0.0.9", DNS_PRE_OWNED, "db1.lab.example."},
	  {5, DNS_CHG_DEL, "db1.lab.example. TXT " OWN, DNS_PRE_OWNED, "db1.lab.example."},
	  {6, DNS_CHG_ADD, "db1.lab.example. CNAME web1.lab.example.", DNS_PRE_FREE, "db1.lab.example."},
	  {6, DNS_CHG_ADD, "_netd.db1.lab.example. TXT " OWN, DNS_PRE_FREE, "_netd.db1.lab.example."}}, {0}},
	{"alias becomes an address name", w_db1_alias, w_db1_node,
	 {{1, DNS_CHG_DEL, "db1.lab.example. CNAME web1.lab.example.", DNS_PRE_OWNED, "_netd.db1.lab.example."},
	  {1, DNS_CHG_ADD, "db1.lab.example. A 10.0.0.9", DNS_PRE_OWNED, "_netd.db1.lab.example."},
	  {1, DNS_CHG_ADD, "db1.lab.example. TXT " OWN, DNS_PRE_OWNED, "_netd.db1.lab.example."},
	  {3, DNS_CHG_ADD, "9.0.0.10.in-addr.arpa. PTR db1.lab.example.", DNS_PRE_FREE, "9.0.0.10.in-addr.arpa."},
	  {3, DNS_CHG_ADD, "9.0.0.10.in-addr.arpa. TXT " OWN, DNS_PRE_FREE, "9.0.0.10.in-addr.arpa."},
	  {4, DNS_CHG_DEL, "_netd.db1.lab.example. TXT " OWN, DNS_PRE_OWNED, "_netd.db1.lab.example."}}, {0}},
};

/* The change of @p equal to @w (its message's stage in *stage), or NULL. */
static const struct dns_change *find_change(const struct dns_plan *p, const struct want_chg *w,
					    const struct dns_plan_msg **msg)
{
	for (size_t m = 0; m < p->n_msg; m++)
		for (size_t c = 0; c < p->msg[m].n_chg; c++) {
			const struct dns_change *ch = &p->msg[m].chg[c];
			char t[700];
			rec_text(&ch->rec, t, sizeof t);
			if (ch->op == w->op && strcmp(t, w->rec) == 0) {
				*msg = &p->msg[m];
				return ch;
			}
		}
	return NULL;
}

static size_t plan_changes(const struct dns_plan *p)
{
	size_t n = 0;
	for (size_t m = 0; m < p->n_msg; m++)
		n += p->msg[m].n_chg;
	return n;
}

static void run_plan_case(const struct plan_case *pc, const struct dns_zone *zones, size_t n_zones)
{
	struct world before = {.ttl = 300}, after = {.ttl = 300};
	struct dns_recset old = {0}, new_ = {0};
	struct netd_err e = {0};
	pc->before(&before);
	pc->after(&after);
	assert_int_equal(world_derive(&before, &old, &e), 0);
	assert_int_equal(world_derive(&after, &new_, &e), 0);
	struct dns_plan p = {0};
	int rc = dns_plan(&old, &new_, zones, n_zones, &p, &e);
	if (rc)
		fail_msg("%s: plan %d %s", pc->what, rc, e.msg);
	assert_plan_zones(&p, zones, n_zones);
	size_t n_want = 0;
	for (; n_want < MAXC && pc->want[n_want].rec; n_want++) {
		const struct want_chg *w = &pc->want[n_want];
		const struct dns_plan_msg *m = NULL;
		const struct dns_change *c = find_change(&p, w, &m);
		if (!c)
			fail_msg("%s: change %s not planned", pc->what, w->rec);
		if (m->stage != w->stage)
			fail_msg("%s: %s in stage %u, want %u", pc->what, w->rec, m->stage, w->stage);
		bool pre_ok = false;
		for (size_t k = 0; k < c->n_pre; k++) {
			const struct dns_prereq *q = &m->pre[c->pre_first + k];
			pre_ok |= q->kind == w->pre && strcmp(q->rec.owner, w->pre_owner) == 0;
		}
		if (!pre_ok)
			fail_msg("%s: %s lacks prerequisite %u at %s (has %zu)", pc->what, w->rec, w->pre,
				 w->pre_owner, c->n_pre);
	}
	if (plan_changes(&p) != n_want)
		fail_msg("%s: %zu changes planned, %zu expected", pc->what, plan_changes(&p), n_want);
	/* and the plan holds the invariants, applied whole and split by group */
	for (int split = 0; split < 2; split++) {
		struct sim s = {0};
		assert_int_equal(dns_recset_add_all(&s.r, &old), 0);
		if (sim_apply_plan(&s, &p, split) || sim_equals(&s, &new_))
			fail_msg("%s%s: %s", pc->what, split ? " (split)" : "", s.why);
		dns_recset_clear(&s.r);
	}
	dns_plan_clear(&p);
	dns_recset_clear(&old);
	dns_recset_clear(&new_);
}

static void test_plan_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEM(plan_cases); i++)
		run_plan_case(&plan_cases[i], g_zones, N_ELEM(g_zones));
}

static void test_plan_order_and_shape(void **state)
{
	(void)state;
	/* Rename of web1 with two nodes more: messages by stage then zone name,
	 * changes contiguous per group, each group's prerequisites its own. */
	struct world before = {.ttl = 300}, after = {.ttl = 300};
	w_web1_storage(&before);
	wnode_alias(&before.n[0], "www");
	wnode_alias(&before.n[0], "api.example.com.");
	wnode_alloc(&before.n[0], "admin", "fd00::5");
	after = before;
	wnode_rename(&after.n[0], "web9");
	struct dns_recset old = {0}, new_ = {0};
	assert_int_equal(world_derive(&before, &old, NULL), 0);
	assert_int_equal(world_derive(&after, &new_, NULL), 0);
	struct dns_plan p = {0}, p2 = {0};
	assert_int_equal(dns_plan(&old, &new_, g_zones, N_ELEM(g_zones), &p, NULL), 0);
	/* reversed inputs give the same plan */
	struct dns_recset rold = {0}, rnew = {0};
	for (size_t i = old.n; i-- > 0;)
		assert_int_equal(dns_recset_add(&rold, &old.v[i]), 0);
	for (size_t i = new_.n; i-- > 0;)
		assert_int_equal(dns_recset_add(&rnew, &new_.v[i]), 0);
	assert_int_equal(dns_plan(&rold, &rnew, g_zones, N_ELEM(g_zones), &p2, NULL), 0);
	assert_int_equal(p.n_msg, p2.n_msg);
	for (size_t m = 0; m < p.n_msg; m++) {
		assert_int_equal(p.msg[m].n_chg, p2.msg[m].n_chg);
		assert_int_equal(p.msg[m].n_pre, p2.msg[m].n_pre);
		for (size_t c = 0; c < p.msg[m].n_chg; c++)
			assert_int_equal(dns_rec_cmp(&p.msg[m].chg[c].rec, &p2.msg[m].chg[c].rec), 0);
	}
	static const struct {
		unsigned stage;
		const char *zone;
	} want[] = {
		{1, "lab.example."}, {1, "storage.lab.example"},
		{2, "example.com."}, {2, "lab.example."},
		{3, "0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa."}, {3, "0.0.10.in-addr.arpa."},
		{3, "1.10.in-addr.arpa."},
		{5, "lab.example."}, {5, "storage.lab.example"},
	};
	assert_int_equal(p.n_msg, N_ELEM(want));
	for (size_t m = 0; m < p.n_msg; m++) {
		const struct dns_plan_msg *msg = &p.msg[m];
		assert_int_equal(msg->stage, want[m].stage);
		assert_int_equal(msg->phase, dns_stage_phase(want[m].stage));
		assert_string_equal(g_zones[msg->zone].name, want[m].zone);
		size_t next_pre = 0;
		for (size_t c = 0; c < msg->n_chg; c++) {
			const struct dns_change *ch = &msg->chg[c];
			bool first = c == 0 || strcmp(msg->chg[c - 1].group, ch->group) != 0;
			if (first) {   /* a new group starts where the last one's prerequisites ended */
				assert_int_equal(ch->pre_first, next_pre);
				next_pre = ch->pre_first + ch->n_pre;
				for (size_t k = 0; k < c; k++)   /* groups are contiguous */
					assert_string_not_equal(msg->chg[k].group, ch->group);
			} else {
				assert_int_equal(ch->pre_first, msg->chg[c - 1].pre_first);
			}
		}
		assert_int_equal(next_pre, msg->n_pre);
	}
	/* stage 1 in lab.example.: A then AAAA then TXT of web9 */
	assert_int_equal(p.msg[0].n_chg, 3);
	assert_int_equal(p.msg[0].chg[0].rec.type, DNS_REC_A);
	assert_int_equal(p.msg[0].chg[1].rec.type, DNS_REC_AAAA);
	assert_int_equal(p.msg[0].chg[2].rec.type, DNS_REC_TXT);
	/* stage 3: deletions before additions */
	assert_int_equal(p.msg[5].chg[0].op, DNS_CHG_DEL);
	assert_int_equal(p.msg[5].chg[1].op, DNS_CHG_ADD);
	dns_plan_clear(&p);
	dns_plan_clear(&p2);
	dns_plan_clear(NULL);
	dns_recset_clear(&old);
	dns_recset_clear(&new_);
	dns_recset_clear(&rold);
	dns_recset_clear(&rnew);
}

static void test_plan_unzoned_and_refused(void **state)
{
	(void)state;
	/* no example.com. zone: the absolute alias is reported, not planned */
	static const struct dns_zone few[] = {
		{"lab.example", DNS_ZONE_FORWARD}, {"10.in-addr.arpa", DNS_ZONE_REVERSE},
	};
	struct world w = {.ttl = 60};
	w_web1_api(&w);
	struct dns_recset old = {0}, new_ = {0};
	assert_int_equal(world_derive(&w, &new_, NULL), 0);
	struct dns_plan p = {0};
	assert_int_equal(dns_plan(&old, &new_, few, N_ELEM(few), &p, NULL), 0);
	assert_int_equal(p.n_unzoned, 2);
	assert_string_equal(p.unzoned[0].rec.owner, "api.example.com.");
	assert_int_equal(p.unzoned[0].rec.type, DNS_REC_CNAME);
	assert_string_equal(p.unzoned[1].rec.owner, "_netd.api.example.com.");
	assert_int_equal(plan_changes(&p), 4);
	assert_plan_zones(&p, few, N_ELEM(few));
	dns_plan_clear(&p);

	/* refused: CNAME beside other data in the new set; bad or repeated zones */
	struct netd_err e = {0};
	struct dns_rec clash = mkrec("web1.lab.example.", DNS_REC_CNAME, "x.lab.example.", 60);
	assert_int_equal(dns_recset_add(&new_, &clash), 0);
	assert_int_equal(dns_plan(&old, &new_, few, N_ELEM(few), &p, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "new records: name web1.lab.example.: a CNAME and other"));
	assert_null(p.msg);
	assert_int_equal(dns_plan(&new_, &old, few, N_ELEM(few), &p, &e), NETD_EINVAL);
	netd_err_clear(&e);
	assert_int_equal(dns_plan(&new_, &old, few, N_ELEM(few), &p, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "old records"));
	static const struct dns_zone twice[] = {{"lab.example", 1}, {"LAB.example.", 1}};
	netd_err_clear(&e);
	assert_int_equal(dns_plan(&old, &old, twice, 2, &p, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "zone lab.example. is configured twice"));
	static const struct dns_zone bad[] = {{"a..b", 1}};
	netd_err_clear(&e);
	assert_int_equal(dns_plan(&old, &old, bad, 1, &p, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "zone 0"));
	/* nothing to do */
	assert_int_equal(dns_plan(&old, &old, few, N_ELEM(few), &p, NULL), 0);
	assert_int_equal(p.n_msg, 0);
	dns_plan_clear(&p);
	dns_recset_clear(&old);
	dns_recset_clear(&new_);
}

/* ---- property test ---------------------------------------------------- */

struct rng {
	uint64_t s;
};

static uint32_t rnd(struct rng *r, uint32_t n)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (uint32_t)((r->s >> 16) % n);
}

/* Pool names: "h0".."h43" serve as node names and relative aliases (so
 * address names and CNAMEs trade places); absolute aliases live in
 * example.com. */
static bool pool_taken(const struct world *w, const char *name)
{
	for (size_t i = 0; i < W_NODES; i++) {
		const struct wnode *n = &w->n[i];
		if (!n->used)
			continue;
		if (strcmp(n->name, name) == 0)
			return true;
		for (size_t k = 0; k < n->n_alias; k++)
			if (strcmp(n->alias[k], name) == 0)
				return true;
	}
	return false;
}

static bool free_pool_name(const struct world *w, struct rng *r, bool absolute, char *out, size_t len)
{
	for (int tries = 0; tries < 64; tries++) {
		unsigned k = rnd(r, POOL);
		snprintf(out, len, absolute ? "h%u.example.com." : "h%u", k);
		if (!pool_taken(w, out))
			return true;
	}
	return false;
}

/* Networks a random node may use, and their address patterns. */
static const struct {
	const char *net, *fmt;
	unsigned max;
} addr_spaces[] = {
	{"admin", "10.0.0.%u", 250}, {"admin", "fd00::%x", 250}, {"storage", "10.1.0.%u", 250},
	{"bmc", "10.2.0.%u", 250}, {"ext", "192.168.5.%u", 250}, {"ext", "2001:db8::%x", 250},
};

static bool addr_taken(const struct world *w, const struct addr *a)
{
	for (size_t i = 0; i < W_NODES; i++)
		for (size_t k = 0; w->n[i].used && k < w->n[i].n_a; k++)
			if (addr_eq(&w->n[i].a[k].addr, a))
				return true;
	return false;
}

static void free_addr(const struct world *w, struct rng *r, size_t space, char *out, size_t len)
{
	for (;;) {
		snprintf(out, len, addr_spaces[space].fmt, 1 + rnd(r, addr_spaces[space].max));
		struct addr a;
		assert_int_equal(addr_parse(out, &a), 0);
		if (!addr_taken(w, &a))
			return;
	}
}

static struct wnode *pick_node(struct world *w, struct rng *r)
{
	size_t start = rnd(r, W_NODES);
	for (size_t i = 0; i < W_NODES; i++) {
		struct wnode *n = &w->n[(start + i) % W_NODES];
		if (n->used)
			return n;
	}
	return NULL;
}

static void op_add_node(struct world *w, struct rng *r)
{
	char name[MODEL_NAME_MAX], a[ADDR_STRLEN];
	size_t used = 0;
	for (size_t i = 0; i < W_NODES; i++)
		used += w->n[i].used;
	if (used == W_NODES || !free_pool_name(w, r, false, name, sizeof name))
		return;
	struct wnode *n = wadd(w, name);
	for (size_t s = 0; s < N_ELEM(addr_spaces); s++)
		if (s == 0 || rnd(r, 3) == 0) {
			free_addr(w, r, s, a, sizeof a);
			wnode_alloc(n, addr_spaces[s].net, a);
		}
}

static void op_delete(struct world *w, struct rng *r)
{
	struct wnode *n = pick_node(w, r);
	if (n)
		n->used = false;
}

static void op_rename(struct world *w, struct rng *r)
{
	char name[MODEL_NAME_MAX];
	struct wnode *n = pick_node(w, r);
	if (n && free_pool_name(w, r, false, name, sizeof name))
		wnode_rename(n, name);
}

static void op_alias_add(struct world *w, struct rng *r)
{
	char name[MODEL_DOMAIN_MAX];
	struct wnode *n = pick_node(w, r);
	if (n && n->n_alias < W_ALIASES && free_pool_name(w, r, rnd(r, 3) == 0, name, sizeof name))
		wnode_alias(n, name);
}

static void op_alias_del(struct world *w, struct rng *r)
{
	struct wnode *n = pick_node(w, r);
	if (!n || n->n_alias == 0)
		return;
	size_t k = rnd(r, (uint32_t)n->n_alias);
	memmove(n->alias[k], n->alias[n->n_alias - 1], sizeof n->alias[k]);
	n->n_alias--;
}

static void op_readdress(struct world *w, struct rng *r)
{
	struct wnode *n = pick_node(w, r);
	if (!n || n->n_a == 0)
		return;
	size_t k = rnd(r, (uint32_t)n->n_a);
	for (size_t s = 0; s < N_ELEM(addr_spaces); s++) {
		char a[ADDR_STRLEN];
		if (strcmp(addr_spaces[s].net, n->a[k].network) != 0 ||
		    (n->a[k].addr.family == ADDR_V4) != (strchr(addr_spaces[s].fmt, ':') == NULL))
			continue;
		free_addr(w, r, s, a, sizeof a);
		assert_int_equal(addr_parse(a, &n->a[k].addr), 0);
		return;
	}
}

static void op_attach_toggle(struct world *w, struct rng *r)
{
	struct wnode *n = pick_node(w, r);
	if (!n)
		return;
	size_t s = 1 + rnd(r, N_ELEM(addr_spaces) - 1);   /* never the admin v4 */
	for (size_t k = 0; k < n->n_a; k++)
		if (strcmp(n->a[k].network, addr_spaces[s].net) == 0) {   /* detach from that network */
			n->a[k] = n->a[--n->n_a];
			return;
		}
	char a[ADDR_STRLEN];
	free_addr(w, r, s, a, sizeof a);
	wnode_alloc(n, addr_spaces[s].net, a);
}

/* Node a's alias becomes node b's name, or node a's name becomes node b's
 * alias, in one window: CNAME <-> address records at one owner. */
static void op_trade(struct world *w, struct rng *r)
{
	struct wnode *a = pick_node(w, r), *b = pick_node(w, r);
	if (!a || !b || a == b)
		return;
	if (rnd(r, 2) && a->n_alias > 0 && strchr(a->alias[0], '.') == NULL) {
		char name[MODEL_DOMAIN_MAX];
		snprintf(name, sizeof name, "%s", a->alias[0]);
		memmove(a->alias[0], a->alias[a->n_alias - 1], sizeof a->alias[0]);
		a->n_alias--;
		wnode_rename(b, name);
	} else if (b->n_alias < W_ALIASES) {
		char name[MODEL_NAME_MAX];
		snprintf(name, sizeof name, "%s", a->name);
		a->used = false;
		wnode_alias(b, name);
	}
}

struct prop_stats {
	unsigned long plans, msgs, changes, steps, checks, ptr_checks, stage[7], max_changes;
	unsigned long pre_free, pre_owned;
};

static void prop_run(uint64_t seed, unsigned iterations, struct prop_stats *st)
{
	struct rng r = {seed};
	struct world w = {.ttl = 300};
	struct sim s = {0};
	void (*const ops[])(struct world *, struct rng *) = {
		op_add_node, op_add_node, op_delete, op_rename, op_rename, op_alias_add, op_alias_add,
		op_alias_del, op_readdress, op_attach_toggle, op_trade, op_trade,
	};
	for (int i = 0; i < 14; i++)
		op_add_node(&w, &r);
	/* the first window starts from empty zones: everything is added */
	struct dns_recset cur = {0};
	for (unsigned it = 0; it < iterations; it++) {
		struct world next = w;
		unsigned n_ops = 1 + rnd(&r, 8);
		for (unsigned k = 0; k < n_ops; k++)
			ops[rnd(&r, N_ELEM(ops))](&next, &r);
		if (rnd(&r, 50) == 0)
			next.ttl = next.ttl == 300 ? 600 : 300;
		struct dns_recset nset = {0};
		struct netd_err e = {0};
		int rc = world_derive(&next, &nset, &e);
		if (rc)
			fail_msg("seed %llu iteration %u: derive: %s", (unsigned long long)seed, it, e.msg);
		struct dns_plan p = {0};
		rc = dns_plan(&cur, &nset, g_zones, N_ELEM(g_zones), &p, &e);
		if (rc)
			fail_msg("seed %llu iteration %u: plan: %s", (unsigned long long)seed, it, e.msg);
		assert_int_equal(p.n_unzoned, 0);
		assert_plan_zones(&p, g_zones, N_ELEM(g_zones));
		if (sim_apply_plan(&s, &p, it % 2 == 1) || sim_equals(&s, &nset))
			fail_msg("seed %llu iteration %u (%s): %s", (unsigned long long)seed, it,
				 it % 2 ? "split by group" : "whole messages", s.why);
		st->plans++;
		st->msgs += p.n_msg;
		size_t nc = plan_changes(&p);
		st->changes += nc;
		if (nc > st->max_changes)
			st->max_changes = nc;
		for (size_t m = 0; m < p.n_msg; m++) {
			st->stage[p.msg[m].stage] += p.msg[m].n_chg;
			for (size_t q = 0; q < p.msg[m].n_pre; q++)
				*(p.msg[m].pre[q].kind == DNS_PRE_FREE ? &st->pre_free : &st->pre_owned) += 1;
		}
		dns_plan_clear(&p);
		dns_recset_clear(&cur);
		cur = nset;
		w = next;
	}
	st->steps += s.steps;
	st->checks += s.checks;
	st->ptr_checks += s.ptr_checks;
	dns_recset_clear(&cur);
	dns_recset_clear(&s.r);
}

static void test_plan_property(void **state)
{
	(void)state;
	struct prop_stats st = {0};
	static const uint64_t seeds[] = {0x9e3779b97f4a7c15ull, 42, 20240601, 7};
	for (size_t i = 0; i < N_ELEM(seeds); i++)
		prop_run(seeds[i], 200, &st);
	print_message("property: %zu seeds x 200 windows over 20 nodes: %lu plans, %lu messages, %lu changes "
		      "(max %lu in one plan), %lu applied steps, %lu invariant checks covering %lu PTRs, "
		      "0 violations\n",
		      N_ELEM(seeds), st.plans, st.msgs, st.changes, st.max_changes, st.steps, st.checks,
		      st.ptr_checks);
	print_message("property: changes per stage: fwd-add %lu, alias-add %lu, reverse %lu, alias-del %lu, "
		      "fwd-del %lu, alias-late %lu; prerequisites FREE %lu, OWNED %lu\n",
		      st.stage[1], st.stage[2], st.stage[3], st.stage[4], st.stage[5], st.stage[6], st.pre_free,
		      st.pre_owned);
	assert_true(st.stage[6] > 0);   /* the trades happened */
	assert_true(st.stage[1] > 0 && st.stage[3] > 0 && st.stage[5] > 0);
}

/* ---- a large window ---------------------------------------------------- */

#define BIG_NODES 2000

static void big_node(struct dns_recset *s, const char *name, unsigned addr_ix, bool alias)
{
	char fq[DNS_REC_NAME_MAX], a4[ADDR_STRLEN], a6[ADDR_STRLEN], rev[DNS_REC_NAME_MAX];
	struct addr a;
	snprintf(fq, sizeof fq, "%s.lab.example.", name);
	snprintf(a4, sizeof a4, "10.%u.%u.%u", addr_ix / 62500, addr_ix / 250 % 250, 1 + addr_ix % 250);
	snprintf(a6, sizeof a6, "fd00::%x", addr_ix + 1);
	const char *addrs[2] = {a4, a6};
	for (int k = 0; k < 2; k++) {
		assert_int_equal(addr_parse(addrs[k], &a), 0);
		assert_int_equal(dns_reverse_name(&a, rev, sizeof rev), 0);
		struct dns_rec recs[3] = {mkrec(fq, k ? DNS_REC_AAAA : DNS_REC_A, addrs[k], 300),
					  mkrec(rev, DNS_REC_PTR, fq, 300), mkrec(rev, DNS_REC_TXT, OWN, 300)};
		for (int i = 0; i < 3; i++)
			assert_int_equal(dns_recset_add(s, &recs[i]), 0);
	}
	struct dns_rec own = mkrec(fq, DNS_REC_TXT, OWN, 300);
	assert_int_equal(dns_recset_add(s, &own), 0);
	if (alias) {
		char w[DNS_REC_NAME_MAX], sib[DNS_REC_NAME_MAX + 8];
		snprintf(w, sizeof w, "a-%s.example.com.", name);
		snprintf(sib, sizeof sib, "_netd.%s", w);
		struct dns_rec c = mkrec(w, DNS_REC_CNAME, fq, 300), t = mkrec(sib, DNS_REC_TXT, OWN, 300);
		assert_int_equal(dns_recset_add(s, &c), 0);
		assert_int_equal(dns_recset_add(s, &t), 0);
	}
}

static void assert_rec_same(const struct dns_rec *a, const struct dns_rec *b, const char *what)
{
	if (dns_rec_cmp(a, b) != 0 || a->ttl != b->ttl)
		fail_msg("%s: %s %u %s differs from %s %u %s", what, a->owner, a->type, a->data, b->owner, b->type,
			 b->data);
}

static void assert_plans_same(const struct dns_plan *a, const struct dns_plan *b)
{
	assert_int_equal(a->n_msg, b->n_msg);
	assert_int_equal(a->n_unzoned, b->n_unzoned);
	for (size_t i = 0; i < a->n_msg; i++) {
		const struct dns_plan_msg *x = &a->msg[i], *y = &b->msg[i];
		assert_int_equal(x->stage, y->stage);
		assert_int_equal(x->zone, y->zone);
		assert_int_equal(x->n_pre, y->n_pre);
		assert_int_equal(x->n_chg, y->n_chg);
		for (size_t k = 0; k < x->n_pre; k++) {
			assert_int_equal(x->pre[k].kind, y->pre[k].kind);
			assert_rec_same(&x->pre[k].rec, &y->pre[k].rec, "prerequisite");
		}
		for (size_t k = 0; k < x->n_chg; k++) {
			assert_int_equal(x->chg[k].op, y->chg[k].op);
			assert_string_equal(x->chg[k].group, y->chg[k].group);
			assert_int_equal(x->chg[k].pre_first, y->chg[k].pre_first);
			assert_int_equal(x->chg[k].n_pre, y->chg[k].n_pre);
			assert_rec_same(&x->chg[k].rec, &y->chg[k].rec, "change");
		}
	}
}

static int prereq_cmp(const void *pa, const void *pb)
{
	const struct dns_prereq *a = pa, *b = pb;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return dns_rec_cmp(&a->rec, &b->rec);
}

/* A message's groups are contiguous, their prerequisites tile the
 * message's list in group order, lie at the group's guard names, and no
 * prerequisite is listed twice. */
static void assert_msg_prereqs(const struct dns_plan_msg *m, unsigned long *n_free, unsigned long *n_owned)
{
	size_t next = 0;
	for (size_t i = 0; i < m->n_chg;) {
		size_t e = i;
		while (e < m->n_chg && strcmp(m->chg[e].group, m->chg[i].group) == 0) {
			assert_int_equal(m->chg[e].pre_first, m->chg[i].pre_first);
			assert_int_equal(m->chg[e].n_pre, m->chg[i].n_pre);
			e++;
		}
		for (size_t k = e; k < m->n_chg; k++)
			if (strcmp(m->chg[k].group, m->chg[i].group) == 0)
				fail_msg("group %s is not contiguous", m->chg[i].group);
		assert_int_equal(m->chg[i].pre_first, next);
		next += m->chg[i].n_pre;
		for (size_t k = m->chg[i].pre_first; k < next; k++) {
			const char *o = m->pre[k].rec.owner;
			if (strcmp(o, m->chg[i].group) != 0 &&
			    (strncmp(o, "_netd.", 6) != 0 || strcmp(o + 6, m->chg[i].group) != 0))
				fail_msg("group %s guarded at %s", m->chg[i].group, o);
		}
		i = e;
	}
	assert_int_equal(next, m->n_pre);
	struct dns_prereq *v = malloc((m->n_pre ? m->n_pre : 1) * sizeof *v);
	assert_non_null(v);
	if (m->n_pre > 1) {
		memcpy(v, m->pre, m->n_pre * sizeof *v);
		qsort(v, m->n_pre, sizeof *v, prereq_cmp);
	} else if (m->n_pre) {
		v[0] = m->pre[0];
	}
	for (size_t k = 0; k < m->n_pre; k++) {
		if (k > 0 && prereq_cmp(&v[k - 1], &v[k]) == 0)
			fail_msg("prerequisite at %s listed twice", v[k].rec.owner);
		*(v[k].kind == DNS_PRE_FREE ? n_free : n_owned) += 1;
	}
	free(v);
}

/* A window like the benchmark's, with renames, new addresses, deletions,
 * new nodes and aliases: thousands of groups per message.  The plan of
 * sorted inputs equals the plan of the same inputs shuffled with
 * duplicates (the same inputs give the same plan), and every message's
 * prerequisites are shaped as dns.h says. */
static void test_plan_large_window(void **state)
{
	(void)state;
	struct dns_recset old = {0}, new_ = {0}, old_mixed = {0}, new_mixed = {0};
	char name[32];
	for (unsigned i = 0; i < BIG_NODES; i++) {
		snprintf(name, sizeof name, "n%05u", i);
		big_node(&old, name, i, i % 5 == 0);
		if (i % 7 == 6)
			continue;   /* deleted */
		if (i % 3 == 0)
			snprintf(name, sizeof name, "r%05u", i);   /* renamed */
		big_node(&new_, name, i % 3 == 1 ? BIG_NODES * 2 + i : i, i % 5 == 0 || i % 11 == 0);
	}
	for (unsigned i = BIG_NODES; i < BIG_NODES + BIG_NODES / 4; i++) {
		snprintf(name, sizeof name, "n%05u", i);
		big_node(&new_, name, i, i % 4 == 0);
	}
	struct rng r = {0x5eed};
	const struct dns_recset *in[2] = {&old, &new_};
	struct dns_recset *mixed[2] = {&old_mixed, &new_mixed};
	for (int k = 0; k < 2; k++) {
		assert_int_equal(dns_recset_add_all(mixed[k], in[k]), 0);
		for (size_t i = 0; i < in[k]->n / 10; i++) {   /* duplicates, some with a higher TTL */
			struct dns_rec d = in[k]->v[rnd(&r, (uint32_t)in[k]->n)];
			d.ttl += rnd(&r, 2) * 100;
			assert_int_equal(dns_recset_add(mixed[k], &d), 0);
		}
		for (size_t i = mixed[k]->n; i > 1; i--) {   /* shuffled */
			size_t j = rnd(&r, (uint32_t)i);
			struct dns_rec t = mixed[k]->v[i - 1];
			mixed[k]->v[i - 1] = mixed[k]->v[j];
			mixed[k]->v[j] = t;
		}
	}
	dns_recset_sort(&old);
	dns_recset_sort(&new_);
	struct dns_plan a = {0}, b = {0};
	struct netd_err e = {0};
	assert_int_equal(dns_plan(&old, &new_, g_zones, N_ELEM(g_zones), &a, &e), 0);
	assert_int_equal(dns_plan(&old_mixed, &new_mixed, g_zones, N_ELEM(g_zones), &b, &e), 0);
	assert_plans_same(&a, &b);
	unsigned long n_free = 0, n_owned = 0;
	size_t most = 0;
	for (size_t i = 0; i < a.n_msg; i++) {
		assert_msg_prereqs(&a.msg[i], &n_free, &n_owned);
		most = a.msg[i].n_pre > most ? a.msg[i].n_pre : most;
	}
	assert_int_equal(a.n_unzoned, 0);
	assert_true(most > 1000 && n_free > 1000 && n_owned > 1000);
	print_message("large window: %zu -> %zu records, %zu messages, prerequisites FREE %lu, OWNED %lu "
		      "(at most %zu in one message)\n", old.n, new_.n, a.n_msg, n_free, n_owned, most);
	dns_plan_clear(&a);
	dns_plan_clear(&b);
	dns_recset_clear(&old);
	dns_recset_clear(&new_);
	dns_recset_clear(&old_mixed);
	dns_recset_clear(&new_mixed);
}

static int setup(void **state)
{
	(void)state;
	nets_init();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recset_sort_diff),
		cmocka_unit_test(test_recset_sort_deterministic),
		cmocka_unit_test(test_recset_check),
		cmocka_unit_test(test_zone_for),
		cmocka_unit_test(test_reverse_names),
		cmocka_unit_test(test_derive_table),
		cmocka_unit_test(test_derive_appends),
		cmocka_unit_test(test_derive_refused),
		cmocka_unit_test(test_plan_table),
		cmocka_unit_test(test_plan_order_and_shape),
		cmocka_unit_test(test_plan_unzoned_and_refused),
		cmocka_unit_test(test_plan_property),
		cmocka_unit_test(test_plan_large_window),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
