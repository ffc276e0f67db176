/* Unit tests for dns/compare.c (and the pure record conversion of
 * dns/axfr.c): dns_compare() over a table of cases — identical sets, a
 * missing record, extra records at owned names, foreign data at intended
 * names, CNAME owners claimed through "_netd.W", a foreign TXT next to
 * netd's own, another installation's name, an address name turned alias,
 * records outside the zone, reverse zones — each with the exact missing /
 * extra / foreign sets, the counts and the per-record states; refusals;
 * dns_export_zone() against exact expected text (relative owners, $TTL and
 * per-record TTLs, TXT escapes, reverse zones); dns_rec_from_rr() for the
 * carried types and the ones it refuses.
 *
 * And dns_axfr()'s TSIG on multi-message streams (RFC 8945 5.3.1) against
 * crafted streams from a loopback TCP listener in a thread: Knot and BIND
 * sign every message of a transfer, so unsigned messages between signed
 * ones, tampering, a late bad time, an unsigned last message and a run of
 * 100 unsigned ones can only be produced here.  The test signs the stream
 * itself, from the RFC (prior MAC, unsigned messages, this message, timers
 * hashed in one buffer with OpenSSL's HMAC()), not with axfr.c's code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/err.h"
#include "dns/dns.h"
#include "dns/tsig.h"
#include "dns/verify.h"
#include "dns/wire.h"
#include "dns/xfer.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ID "t1"
#define OWN "netd owner=" ID
#define MAXR 16

/* ---- helpers -------------------------------------------------------------- */

static uint16_t type_of(const char *t)
{
	static const struct { const char *name; uint16_t type; } types[] = {
		{"A", DNS_REC_A}, {"AAAA", DNS_REC_AAAA}, {"CNAME", DNS_REC_CNAME},
		{"PTR", DNS_REC_PTR}, {"TXT", DNS_REC_TXT},
	};
	for (size_t i = 0; i < N_ELEM(types); i++)
		if (strcmp(types[i].name, t) == 0)
			return types[i].type;
	fail_msg("bad type %s in test table", t);
	return 0;
}

/* "owner TYPE data..." (data is the rest of the line, spaces included). */
static struct dns_rec parse_rec(const char *text)
{
	struct dns_rec r = {.ttl = 300};
	char type[16];
	int off = 0;
	if (sscanf(text, "%255s %15s %n", r.owner, type, &off) != 2 || off == 0)
		fail_msg("bad record \"%s\" in test table", text);
	r.type = type_of(type);
	snprintf(r.data, sizeof r.data, "%s", text + off);
	return r;
}

static void fill(struct dns_recset *s, const char *const *texts)
{
	for (size_t i = 0; i < MAXR && texts[i]; i++) {
		struct dns_rec r = parse_rec(texts[i]);
		assert_int_equal(dns_recset_add(s, &r), 0);
	}
}

static void rec_text(const struct dns_rec *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s", r->owner, dns_rec_type_name(r->type), r->data);
}

/* @s must equal @want exactly, in this order (the outputs are sorted). */
static void assert_recs(const struct dns_recset *s, const char *const *want, const char *what,
			const char *name)
{
	size_t nw = 0;
	while (nw < MAXR && want[nw])
		nw++;
	for (size_t i = 0; i < s->n || i < nw; i++) {
		char got[600] = "(none)";
		if (i < s->n)
			rec_text(&s->v[i], got, sizeof got);
		const char *w = i < nw ? want[i] : "(none)";
		if (strcmp(got, w) != 0)
			fail_msg("%s: %s record %zu: got \"%s\", want \"%s\"", name, what, i, got, w);
	}
}

/* ---- dns_compare: table ---------------------------------------------------- */

struct state_want {
	const char *rec;
	unsigned state;
};

struct cmp_case {
	const char *name;
	const char *zone;
	const char *intended[MAXR];  /* sorted by the test before use */
	const char *actual[MAXR];    /* any order */
	const char *missing[MAXR];   /* exact, in sorted order */
	const char *extra[MAXR];
	const char *foreign[MAXR];
	size_t verified, conflicts;
	struct state_want states[MAXR];
};

/* The records of one node (in dns_rec_cmp() order types go by number:
 * A 1, CNAME 5, PTR 12, TXT 16, AAAA 28). */
#define WEB1 "web1.lab.example. A 10.0.0.5", "web1.lab.example. TXT " OWN, \
	     "web1.lab.example. AAAA fd00::5"

static const struct cmp_case cmp_cases[] = {
	{"identical", "lab.example.",
	 {WEB1, "www.lab.example. CNAME web1.lab.example.", "_netd.www.lab.example. TXT " OWN},
	 {"_netd.www.lab.example. TXT " OWN, "www.lab.example. CNAME web1.lab.example.", WEB1},
	 {0}, {0}, {0}, 5, 0,
	 {{"web1.lab.example. A 10.0.0.5", DNS_STATE_VERIFIED},
	  {"www.lab.example. CNAME web1.lab.example.", DNS_STATE_VERIFIED}}},

	{"one missing A (deleted behind netd's back)", "lab.example.",
	 {WEB1},
	 {"web1.lab.example. AAAA fd00::5", "web1.lab.example. TXT " OWN},
	 {"web1.lab.example. A 10.0.0.5"}, {0}, {0}, 2, 0,
	 {{"web1.lab.example. A 10.0.0.5", DNS_STATE_DRIFT},
	  {"web1.lab.example. AAAA fd00::5", DNS_STATE_VERIFIED}}},

	{"A changed behind netd's back: missing + extra", "lab.example.",
	 {WEB1},
	 {"web1.lab.example. A 10.0.0.99", "web1.lab.example. AAAA fd00::5", "web1.lab.example. TXT " OWN},
	 {"web1.lab.example. A 10.0.0.5"}, {"web1.lab.example. A 10.0.0.99"}, {0}, 2, 0,
	 {{"web1.lab.example. A 10.0.0.5", DNS_STATE_DRIFT}}},

	{"extra RR at an owned name, and an owned name nothing intends", "lab.example.",
	 {WEB1},
	 {WEB1, "web1.lab.example. A 10.0.0.6", "old.lab.example. A 10.0.0.7",
	  "old.lab.example. TXT " OWN},
	 {0},
	 {"old.lab.example. A 10.0.0.7", "old.lab.example. TXT " OWN, "web1.lab.example. A 10.0.0.6"},
	 {0}, 3, 0, {{0}}},

	{"foreign A at an intended name without TXT: conflict, not missing", "lab.example.",
	 {WEB1, "web2.lab.example. A 10.0.0.8", "web2.lab.example. TXT " OWN},
	 {WEB1, "web2.lab.example. A 10.9.9.9"},
	 {0}, {0}, {"web2.lab.example. A 10.9.9.9"}, 3, 2,
	 {{"web2.lab.example. A 10.0.0.8", DNS_STATE_CONFLICT},
	  {"web2.lab.example. TXT " OWN, DNS_STATE_CONFLICT},
	  {"web1.lab.example. A 10.0.0.5", DNS_STATE_VERIFIED}}},

	{"the very A netd intends, but no ownership TXT: still a conflict", "lab.example.",
	 {"web2.lab.example. A 10.0.0.8", "web2.lab.example. TXT " OWN},
	 {"web2.lab.example. A 10.0.0.8"},
	 {0}, {0}, {"web2.lab.example. A 10.0.0.8"}, 0, 2,
	 {{"web2.lab.example. A 10.0.0.8", DNS_STATE_CONFLICT}}},

	{"free intended names: everything missing", "lab.example.",
	 {WEB1, "www.lab.example. CNAME web1.lab.example.", "_netd.www.lab.example. TXT " OWN},
	 {"ns1.lab.example. A 127.0.0.1"},
	 {"_netd.www.lab.example. TXT " OWN, "web1.lab.example. A 10.0.0.5", "web1.lab.example. TXT " OWN,
	  "web1.lab.example. AAAA fd00::5", "www.lab.example. CNAME web1.lab.example."},
	 {0}, {0}, 0, 0,
	 {{"www.lab.example. CNAME web1.lab.example.", DNS_STATE_DRIFT}}},

	{"CNAME owned via _netd.W, repointed behind netd's back", "lab.example.",
	 {"www.lab.example. CNAME web1.lab.example.", "_netd.www.lab.example. TXT " OWN},
	 {"www.lab.example. CNAME evil.lab.example.", "_netd.www.lab.example. TXT " OWN},
	 {"www.lab.example. CNAME web1.lab.example."}, {"www.lab.example. CNAME evil.lab.example."},
	 {0}, 1, 0,
	 {{"www.lab.example. CNAME web1.lab.example.", DNS_STATE_DRIFT},
	  {"_netd.www.lab.example. TXT " OWN, DNS_STATE_VERIFIED}}},

	{"CNAME without its _netd TXT: the alias is foreign, the TXT name free", "lab.example.",
	 {"www.lab.example. CNAME web1.lab.example.", "_netd.www.lab.example. TXT " OWN},
	 {"www.lab.example. CNAME web1.lab.example."},
	 {"_netd.www.lab.example. TXT " OWN}, {0}, {"www.lab.example. CNAME web1.lab.example."}, 0, 1,
	 {{"www.lab.example. CNAME web1.lab.example.", DNS_STATE_CONFLICT},
	  {"_netd.www.lab.example. TXT " OWN, DNS_STATE_DRIFT}}},

	{"foreign TXT next to netd's TXT: the name stays owned, the TXT is extra", "lab.example.",
	 {WEB1},
	 {WEB1, "web1.lab.example. TXT v=spf1 -all"},
	 {0}, {"web1.lab.example. TXT v=spf1 -all"}, {0}, 3, 0,
	 {{"web1.lab.example. TXT " OWN, DNS_STATE_VERIFIED}}},

	{"another installation's name: conflict; its TXT is foreign", "lab.example.",
	 {WEB1},
	 {"web1.lab.example. A 10.0.0.5", "web1.lab.example. TXT netd owner=t2"},
	 {0}, {0}, {"web1.lab.example. A 10.0.0.5", "web1.lab.example. TXT netd owner=t2"}, 0, 3,
	 {{"web1.lab.example. AAAA fd00::5", DNS_STATE_CONFLICT}}},

	{"address name turned alias: owned through its old TXT", "lab.example.",
	 {"www.lab.example. CNAME web1.lab.example.", "_netd.www.lab.example. TXT " OWN},
	 {"www.lab.example. A 10.0.0.9", "www.lab.example. TXT " OWN},
	 {"_netd.www.lab.example. TXT " OWN, "www.lab.example. CNAME web1.lab.example."},
	 {"www.lab.example. A 10.0.0.9", "www.lab.example. TXT " OWN}, {0}, 0, 0, {{0}}},

	{"records outside the zone are ignored on both sides", "lab.example.",
	 {WEB1, "x.other.example. A 10.1.1.1", "x.other.example. TXT " OWN,
	  "5.0.0.10.in-addr.arpa. PTR web1.lab.example."},
	 {WEB1, "y.other.example. A 10.1.1.2", "y.other.example. TXT " OWN, "xlab.example. A 10.1.1.3",
	  "xlab.example. TXT " OWN},
	 {0}, {0}, {0}, 3, 0,
	 {{"x.other.example. A 10.1.1.1", DNS_STATE_PENDING},
	  {"5.0.0.10.in-addr.arpa. PTR web1.lab.example.", DNS_STATE_PENDING}}},

	{"names neither owned nor intended are not netd's business", "lab.example.",
	 {WEB1},
	 {WEB1, "ns1.lab.example. A 127.0.0.1", "mail.lab.example. TXT netd owner=t2",
	  "lab.example. TXT google-site-verification=x"},
	 {0}, {0}, {0}, 3, 0, {{0}}},

	{"reverse zone (in-addr.arpa): verified, missing, extra, forward ignored", "10.in-addr.arpa.",
	 {"5.0.0.10.in-addr.arpa. PTR web1.lab.example.", "5.0.0.10.in-addr.arpa. TXT " OWN,
	  "6.0.0.10.in-addr.arpa. PTR web2.lab.example.", "6.0.0.10.in-addr.arpa. TXT " OWN, WEB1},
	 {"5.0.0.10.in-addr.arpa. PTR web1.lab.example.", "5.0.0.10.in-addr.arpa. TXT " OWN,
	  "6.0.0.10.in-addr.arpa. TXT " OWN, "7.0.0.10.in-addr.arpa. PTR gone.lab.example.",
	  "7.0.0.10.in-addr.arpa. TXT " OWN, "9.0.0.10.in-addr.arpa. PTR someone.else."},
	 {"6.0.0.10.in-addr.arpa. PTR web2.lab.example."},
	 {"7.0.0.10.in-addr.arpa. PTR gone.lab.example.", "7.0.0.10.in-addr.arpa. TXT " OWN},
	 {0}, 3, 0,
	 {{"6.0.0.10.in-addr.arpa. PTR web2.lab.example.", DNS_STATE_DRIFT},
	  {"web1.lab.example. A 10.0.0.5", DNS_STATE_PENDING}}},

	{"reverse zone (ip6.arpa): a foreign PTR", "0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa.",
	 {"5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR web1.lab.example."},
	 {"5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR x.example."},
	 {0}, {0},
	 {"5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR x.example."},
	 0, 1, {{0}}},

	{"empty intent, empty server", "lab.example.", {0}, {0}, {0}, {0}, {0}, 0, 0, {{0}}},
};

static void run_cmp_case(const struct cmp_case *c)
{
	struct dns_recset in = {0}, act = {0};
	struct dns_diff d;
	struct netd_err e = {0};
	memset(&d, 0xa5, sizeof d);
	fill(&in, c->intended);
	fill(&act, c->actual);
	dns_recset_sort(&in);
	int rc = dns_compare(&in, &act, c->zone, ID, &d, &e);
	if (rc)
		fail_msg("%s: dns_compare: %s (%s)", c->name, netd_strerror(rc), e.msg);
	assert_recs(&d.missing, c->missing, "missing", c->name);
	assert_recs(&d.extra, c->extra, "extra", c->name);
	assert_recs(&d.foreign, c->foreign, "foreign", c->name);
	if (d.verified != c->verified || d.conflicts != c->conflicts)
		fail_msg("%s: verified %zu conflicts %zu, want %zu %zu", c->name, d.verified, d.conflicts,
			 c->verified, c->conflicts);
	/* Each in-zone intended record is exactly one of verified, missing or
	 * in conflict. */
	size_t in_zone = 0;
	for (size_t i = 0; i < in.n; i++)
		in_zone += dns_diff_state(&d, &in.v[i]) != DNS_STATE_PENDING;
	assert_int_equal(in_zone, d.verified + d.missing.n + d.conflicts);
	for (size_t i = 0; i < MAXR && c->states[i].rec; i++) {
		struct dns_rec r = parse_rec(c->states[i].rec);
		unsigned s = dns_diff_state(&d, &r);
		if (s != c->states[i].state)
			fail_msg("%s: state of \"%s\": %s, want %s", c->name, c->states[i].rec,
				 dns_rec_state_name(s), dns_rec_state_name(c->states[i].state));
	}
	dns_diff_clear(&d);
	dns_diff_clear(&d);  /* idempotent */
	dns_recset_clear(&in);
	dns_recset_clear(&act);
}

static void test_compare_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEM(cmp_cases); i++)
		run_cmp_case(&cmp_cases[i]);
}

/* The actual side may come in any order and with duplicates (answers of
 * several queries); the result must not depend on it. */
static void test_compare_actual_order(void **state)
{
	(void)state;
	const struct cmp_case *c = &cmp_cases[3];
	struct dns_recset in = {0}, act = {0};
	fill(&in, c->intended);
	dns_recset_sort(&in);
	for (int round = 0; round < 3; round++) {
		dns_recset_clear(&act);
		for (size_t k = 0; k < MAXR && c->actual[k]; k++) {
			size_t n = 0;
			while (n < MAXR && c->actual[n])
				n++;
			struct dns_rec r = parse_rec(c->actual[(k * (size_t)(round + 2)) % n]);
			assert_int_equal(dns_recset_add(&act, &r), 0);
			assert_int_equal(dns_recset_add(&act, &r), 0);
		}
		fill(&act, c->actual);
		struct dns_diff d;
		assert_int_equal(dns_compare(&in, &act, c->zone, ID, &d, NULL), 0);
		assert_recs(&d.extra, c->extra, "extra", "any order");
		assert_int_equal(d.verified, c->verified);
		dns_diff_clear(&d);
	}
	dns_recset_clear(&in);
	dns_recset_clear(&act);
}

static void test_compare_refused(void **state)
{
	(void)state;
	struct dns_recset in = {0}, act = {0};
	struct dns_diff d = {.verified = 77};
	struct netd_err e = {0};
	const char *unsorted[MAXR] = {"b.lab.example. A 10.0.0.2", "a.lab.example. A 10.0.0.1"};
	fill(&in, unsorted);
	assert_int_equal(dns_compare(&in, &act, "lab.example.", ID, &d, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "not sorted"));
	assert_non_null(strstr(e.msg, "a.lab.example."));
	assert_int_equal(d.verified, 77);  /* untouched */
	dns_recset_sort(&in);

	netd_err_clear(&e);
	assert_int_equal(dns_compare(&in, &act, "lab..example.", ID, &d, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "zone \"lab..example.\""));
	netd_err_clear(&e);
	assert_int_equal(dns_compare(&in, &act, "lab.example.", "", &d, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "installation id"));
	netd_err_clear(&e);
	assert_int_equal(dns_compare(&in, &act, "lab.example.", "a b", &d, &e), NETD_EINVAL);
	assert_int_equal(d.verified, 77);
	dns_recset_clear(&in);
}

static void test_state_names(void **state)
{
	(void)state;
	static const char *const want[] = {"pending", "published", "verified", "error", "conflict",
					   "drift"};
	for (unsigned i = 0; i < N_ELEM(want); i++)
		assert_string_equal(dns_rec_state_name(i), want[i]);
	assert_string_equal(dns_rec_state_name(6), "?");
	assert_string_equal(dns_rec_state_name(~0u), "?");
}

/* ---- export ------------------------------------------------------------------ */

struct export_case {
	const char *name;
	const char *zone;
	const char *recs[MAXR];
	uint32_t ttls[MAXR];       /* 0: 300 */
	const char *want;
};

static const struct export_case export_cases[] = {
	{"small forward zone", "lab.example.",
	 {"www.lab.example. CNAME web1.lab.example.", "web1.lab.example. A 10.0.0.5",
	  "web1.lab.example. AAAA fd00::5", "web1.lab.example. TXT " OWN,
	  "_netd.www.lab.example. TXT " OWN, "lab.example. TXT " OWN,
	  "x.other.example. A 10.9.9.9"},
	 {0},
	 "; zone lab.example. as netd installation t1 intends it: 6 records\n"
	 "; A, AAAA, CNAME, PTR and TXT only: load it under the zone's SOA and NS\n"
	 "$ORIGIN lab.example.\n"
	 "$TTL 300\n"
	 "_netd.www\tIN\tTXT\t\"netd owner=t1\"\n"
	 "@\tIN\tTXT\t\"netd owner=t1\"\n"
	 "web1\tIN\tA\t10.0.0.5\n"
	 "web1\tIN\tTXT\t\"netd owner=t1\"\n"
	 "web1\tIN\tAAAA\tfd00::5\n"
	 "www\tIN\tCNAME\tweb1.lab.example.\n"},

	{"TTLs: the most common one is $TTL, the smallest on a tie", "lab.example.",
	 {"a.lab.example. A 10.0.0.1", "b.lab.example. A 10.0.0.2", "c.lab.example. A 10.0.0.3",
	  "d.lab.example. A 10.0.0.4"},
	 {60, 3600, 3600, 60},
	 "; zone lab.example. as netd installation t1 intends it: 4 records\n"
	 "; A, AAAA, CNAME, PTR and TXT only: load it under the zone's SOA and NS\n"
	 "$ORIGIN lab.example.\n"
	 "$TTL 60\n"
	 "a\tIN\tA\t10.0.0.1\n"
	 "b\t3600\tIN\tA\t10.0.0.2\n"
	 "c\t3600\tIN\tA\t10.0.0.3\n"
	 "d\tIN\tA\t10.0.0.4\n"},

	{"TXT escapes", "lab.example.",
	 {"t.lab.example. TXT say \"hi\"", "t.lab.example. TXT back\\slash; (not a comment)",
	  "t.lab.example. TXT tab\there \x01\x7f\xc3\xa9"},
	 {0},
	 "; zone lab.example. as netd installation t1 intends it: 3 records\n"
	 "; A, AAAA, CNAME, PTR and TXT only: load it under the zone's SOA and NS\n"
	 "$ORIGIN lab.example.\n"
	 "$TTL 300\n"
	 "t\tIN\tTXT\t\"back\\\\slash; (not a comment)\"\n"
	 "t\tIN\tTXT\t\"say \\\"hi\\\"\"\n"
	 "t\tIN\tTXT\t\"tab\\009here \\001\\127\\195\\169\"\n"},

	{"reverse zone", "10.in-addr.arpa",
	 {"5.0.0.10.in-addr.arpa. PTR web1.lab.example.", "5.0.0.10.in-addr.arpa. TXT " OWN,
	  "web1.lab.example. A 10.0.0.5", "10.in-addr.arpa. TXT " OWN},
	 {0},
	 "; zone 10.in-addr.arpa. as netd installation t1 intends it: 3 records\n"
	 "; A, AAAA, CNAME, PTR and TXT only: load it under the zone's SOA and NS\n"
	 "$ORIGIN 10.in-addr.arpa.\n"
	 "$TTL 300\n"
	 "@\tIN\tTXT\t\"netd owner=t1\"\n"
	 "5.0.0\tIN\tPTR\tweb1.lab.example.\n"
	 "5.0.0\tIN\tTXT\t\"netd owner=t1\"\n"},

	{"data in canonical form: names absolute and lowercase, addresses re-printed", "lab.example.",
	 {"a.lab.example. CNAME Web1.LAB.example", "b.lab.example. AAAA FD00:0:0::0005"},
	 {0},
	 "; zone lab.example. as netd installation t1 intends it: 2 records\n"
	 "; A, AAAA, CNAME, PTR and TXT only: load it under the zone's SOA and NS\n"
	 "$ORIGIN lab.example.\n"
	 "$TTL 300\n"
	 "a\tIN\tCNAME\tweb1.lab.example.\n"
	 "b\tIN\tAAAA\tfd00::5\n"},

	{"nothing in the zone", "Empty.Example",
	 {"web1.lab.example. A 10.0.0.5"},
	 {0},
	 "; zone empty.example. as netd installation t1 intends it: 0 records\n"
	 "; A, AAAA, CNAME, PTR and TXT only: load it under the zone's SOA and NS\n"
	 "$ORIGIN empty.example.\n"},
};

static void test_export_table(void **state)
{
	(void)state;
	for (size_t k = 0; k < N_ELEM(export_cases); k++) {
		const struct export_case *c = &export_cases[k];
		struct dns_recset s = {0};
		for (size_t i = 0; i < MAXR && c->recs[i]; i++) {
			struct dns_rec r = parse_rec(c->recs[i]);
			r.ttl = c->ttls[i] ? c->ttls[i] : 300;
			assert_int_equal(dns_recset_add(&s, &r), 0);
		}
		char *out = NULL;
		struct netd_err e = {0};
		int rc = dns_export_zone(&s, c->zone, ID, &out, &e);
		if (rc)
			fail_msg("%s: %s (%s)", c->name, netd_strerror(rc), e.msg);
		if (strcmp(out, c->want) != 0)
			fail_msg("%s: got\n%s\nwant\n%s", c->name, out, c->want);
		free(out);
		dns_recset_clear(&s);
	}
}

static void test_export_refused(void **state)
{
	(void)state;
	static const struct { const char *rec; uint16_t type; const char *zone, *id, *says; } cases[] = {
		{"a..lab.example. A 10.0.0.1", 0, "lab.example.", ID, "record owner \"a..lab.example.\""},
		{"a.lab.example. CNAME b..lab.example.", 0, "lab.example.", ID, "is not a valid DNS name"},
		{"a.lab.example. A 10.0.0.1", 15, "lab.example.", ID, "type 15"},
		{"a.lab.example. A fd00::1", 0, "lab.example.", ID, "is not a valid IPv4 address"},
		{"a.lab.example. AAAA 10.0.0.1", 0, "lab.example.", ID, "is not a valid IPv6 address"},
		{"a.lab.example. A 10.0.0.1", 0, "lab.example..", ID, "zone \"lab.example..\""},
		{"a.lab.example. A 10.0.0.1", 0, "lab.example.", "bad\nid", "installation id"},
	};
	for (size_t i = 0; i < N_ELEM(cases); i++) {
		struct dns_recset s = {0};
		struct dns_rec r = parse_rec(cases[i].rec);
		if (cases[i].type)
			r.type = cases[i].type;
		assert_int_equal(dns_recset_add(&s, &r), 0);
		char *out = (char *)"untouched";
		struct netd_err e = {0};
		assert_int_equal(dns_export_zone(&s, cases[i].zone, cases[i].id, &out, &e), NETD_EINVAL);
		if (!strstr(e.msg, cases[i].says))
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, e.msg, cases[i].says);
		assert_string_equal(out, "untouched");
		dns_recset_clear(&s);
	}
}

/* ---- dns_rec_from_rr --------------------------------------------------------- */

static struct dns_name wname(const char *text)
{
	struct dns_name n;
	if (dns_name_parse(text, 0, &n, NULL) != 0)
		fail_msg("bad name %s", text);
	return n;
}

static void test_rec_from_rr(void **state)
{
	(void)state;
	struct dns_rr rr = {.owner = wname("Web1.LAB.example"), .type = DNS_T_A, .cls = DNS_C_IN, .ttl = 60,
			    .rd.a = {10, 0, 0, 5}};
	struct dns_rec r;
	assert_int_equal(dns_rec_from_rr(&rr, &r), 0);
	assert_string_equal(r.owner, "web1.lab.example.");
	assert_string_equal(r.data, "10.0.0.5");
	assert_int_equal(r.type, DNS_REC_A);
	assert_int_equal(r.ttl, 60);

	rr.type = DNS_T_AAAA;
	memset(rr.rd.aaaa, 0, 16);
	rr.rd.aaaa[0] = 0xfd;
	rr.rd.aaaa[15] = 5;
	assert_int_equal(dns_rec_from_rr(&rr, &r), 0);
	assert_string_equal(r.data, "fd00::5");

	rr.type = DNS_T_CNAME;
	rr.rd.target = wname("WEB2.Lab.Example.");
	assert_int_equal(dns_rec_from_rr(&rr, &r), 0);
	assert_string_equal(r.data, "web2.lab.example.");
	rr.type = DNS_T_PTR;
	assert_int_equal(dns_rec_from_rr(&rr, &r), 0);
	assert_int_equal(r.type, DNS_REC_PTR);

	/* TXT: strings concatenated; case kept */
	static const uint8_t txt[] = "\x05netd \x08owner=T1";
	rr.type = DNS_T_TXT;
	rr.rd.raw.data = txt;
	rr.rd.raw.len = sizeof txt - 1;
	assert_int_equal(dns_rec_from_rr(&rr, &r), 0);
	assert_string_equal(r.data, "netd owner=T1");

	static const uint8_t nul[] = "\x03" "a\0b";
	rr.rd.raw.data = nul;
	rr.rd.raw.len = 4;
	memset(&r, 0x5a, sizeof r);
	assert_int_equal(dns_rec_from_rr(&rr, &r), NETD_ETOOBIG);
	assert_int_equal((uint8_t)r.owner[0], 0x5a);  /* untouched */

	uint8_t big[258];
	big[0] = 255;
	memset(big + 1, 'x', 255);
	big[256] = 1;
	big[257] = 'y';
	rr.rd.raw.data = big;
	rr.rd.raw.len = 256;
	assert_int_equal(dns_rec_from_rr(&rr, &r), 0);  /* 255 bytes: fits */
	assert_int_equal(strlen(r.data), 255);
	rr.rd.raw.len = 258;
	assert_int_equal(dns_rec_from_rr(&rr, &r), NETD_ETOOBIG);

	rr.type = DNS_T_SOA;
	assert_int_equal(dns_rec_from_rr(&rr, &r), NETD_EUNSUPPORTED);
	rr.type = 15;  /* MX */
	assert_int_equal(dns_rec_from_rr(&rr, &r), NETD_EUNSUPPORTED);
	rr.type = DNS_T_A;
	rr.cls = 3;  /* CH */
	assert_int_equal(dns_rec_from_rr(&rr, &r), NETD_EUNSUPPORTED);
}

/* ---- dns_axfr: TSIG over crafted multi-message streams ------------------------ */

#define AX_MSGS_MAX 110

struct ax_case {
	const char *name;
	unsigned n_msgs;        /* messages in the stream (>= 1) */
	const char *signed_;    /* per message: 's' signed, '-' unsigned; "" = first and last only */
	int tamper;             /* message whose A byte is flipped after signing, -1 none */
	int skew_msg;           /* message signed 1000 s in the future, -1 none */
	uint16_t rcode;         /* of every message */
	bool no_soa, wrong_id;
	bool client_key;        /* the client asks with the key */
	int want_rc;
	const char *says;       /* in the error message */
	size_t want_signed;
};

static const struct ax_case ax_cases[] = {
	{"3 messages, all signed", 3, "sss", -1, -1, 0, false, false, true, 0, NULL, 3},
	{"the middle one unsigned", 3, "s-s", -1, -1, 0, false, false, true, 0, NULL, 2},
	{"first and last of 101 signed (99 unsigned in a row)", 101, "", -1, -1, 0, false, false, true,
	 0, NULL, 2},
	{"100 unsigned in a row", 102, "", -1, -1, 0, false, false, true, NETD_EAUTH,
	 "100 messages in a row without TSIG", 0},
	{"unsigned middle message tampered", 3, "s-s", 1, -1, 0, false, false, true, NETD_EAUTH,
	 "message 3: TSIG does not verify with key k. (BADSIG)", 0},
	{"signed middle message tampered", 3, "sss", 1, -1, 0, false, false, true, NETD_EAUTH,
	 "message 2: TSIG does not verify", 0},
	{"first message tampered", 2, "ss", 0, -1, 0, false, false, true, NETD_EAUTH,
	 "message 1: TSIG does not verify", 0},
	{"last message unsigned", 3, "ss-", -1, -1, 0, false, false, true, NETD_EAUTH,
	 "the last message is not signed", 0},
	{"first message unsigned", 3, "-ss", -1, -1, 0, false, false, true, NETD_EAUTH,
	 "the answer is not signed", 0},
	{"second message signed 1000 s ahead", 3, "sss", -1, 1, 0, false, false, true, NETD_EAUTH,
	 "message 2: TSIG does not verify with key k. (BADTIME)", 0},
	{"REFUSED", 1, "s", -1, -1, DNS_RC_REFUSED, false, false, true, NETD_EPERM, "REFUSED", 0},
	{"SERVFAIL", 1, "s", -1, -1, DNS_RC_SERVFAIL, false, false, true, -EIO, "SERVFAIL", 0},
	{"not starting with the SOA", 2, "ss", -1, -1, 0, true, false, true, NETD_ECORRUPT,
	 "does not start with the zone's SOA", 0},
	{"another ID", 2, "ss", -1, -1, 0, false, true, true, NETD_ECORRUPT,
	 "not an answer to our request", 0},
	{"no key asked: signatures not checked", 3, "s-s", -1, -1, 0, false, false, false, 0, NULL, 0},
	{"one message: SOA, records, SOA", 1, "s", -1, -1, 0, false, false, true, 0, NULL, 1},
};

struct ax_server {
	const struct ax_case *c;
	struct dns_tsig_key key;
	int lfd;
	uint16_t port;
};

static struct dns_name ax_name(const char *text)
{
	struct dns_name n;
	if (dns_name_parse(text, 0, &n, NULL) != 0)
		abort();
	return n;
}

static bool ax_read(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	while (n > 0) {
		ssize_t k = recv(fd, b, n, 0);
		if (k <= 0)
			return false;
		b += k;
		n -= (size_t)k;
	}
	return true;
}

/* The request's ID and MAC (its TSIG RR is the last RR). */
static bool ax_request_mac(const uint8_t *q, size_t len, uint16_t *id, uint8_t *mac, size_t *mac_len)
{
	struct dns_msg_iter it;
	struct dns_msg_ref ref, last = {0};
	if (dns_msg_iter_init(&it, q, len) != 0)
		return false;
	*id = it.hdr.id;
	*mac_len = 0;
	while (dns_msg_iter_next(&it, &ref) == 1)
		last = ref;
	if (last.type != DNS_T_TSIG)
		return true;  /* unsigned request */
	struct dns_rd r;
	struct dns_name n;
	dns_rd_init(&r, q, len);
	r.pos = last.off;
	dns_rd_name(&r, &n);
	dns_rd_take(&r, 10);  /* type, class, TTL, rdlength */
	dns_rd_name(&r, &n);  /* algorithm */
	dns_rd_take(&r, 8);   /* time, fudge */
	*mac_len = dns_rd_u16(&r);
	dns_rd_bytes(&r, mac, *mac_len);
	return r.err == 0;
}

static void ax_rr(struct dns_wr *w, const char *owner, uint16_t type, const void *rd, uint16_t rdlen)
{
	struct dns_name o = ax_name(owner);
	dns_wr_name(w, &o);
	dns_wr_u16(w, type);
	dns_wr_u16(w, DNS_C_IN);
	dns_wr_u32(w, 300);
	dns_wr_u16(w, rdlen);
	dns_wr_bytes(w, rd, rdlen);
}

static void ax_soa(struct dns_wr *w)
{
	struct dns_rr soa = {.owner = ax_name("t.example."), .type = DNS_T_SOA, .cls = DNS_C_IN, .ttl = 300};
	soa.rd.soa.mname = ax_name("ns.t.example.");
	soa.rd.soa.rname = ax_name("h.t.example.");
	soa.rd.soa.serial = 7;
	dns_wr_rr(w, &soa);
}

/* Message @k of @n: its length; *a_off is the offset of the last byte of
 * its A rdata. */
static size_t ax_message(const struct ax_case *c, unsigned k, unsigned n, uint16_t id, uint8_t *buf,
			 size_t *a_off)
{
	struct dns_wr w;
	struct dns_header h = {.id = c->wrong_id ? (uint16_t)(id + 1) : id,
			       .flags = (uint16_t)(DNS_F_QR | DNS_F_AA | c->rcode)};
	unsigned an = 1 + (k == 0) + (k == n - 1);
	h.qdcount = k == 0;
	h.ancount = (uint16_t)(c->rcode ? 0 : an);
	dns_wr_init(&w, buf, DNS_MSG_MAX);
	dns_wr_header(&w, &h);
	if (k == 0) {
		struct dns_question q = {.name = ax_name("t.example."), .type = DNS_T_AXFR, .cls = DNS_C_IN};
		dns_wr_question(&w, &q);
	}
	if (!c->rcode) {
		if (k == 0 && !c->no_soa)
			ax_soa(&w);
		else if (k == 0)
			ax_rr(&w, "z.t.example.", DNS_T_A, (const uint8_t[]){10, 0, 0, 99}, 4);
		char owner[32];
		uint8_t a[4] = {10, 0, (uint8_t)(k >> 8), (uint8_t)k};
		snprintf(owner, sizeof owner, "a%u.t.example.", k);
		ax_rr(&w, owner, DNS_T_A, a, 4);
		*a_off = w.pos - 1;
		if (k == n - 1)
			ax_soa(&w);
	}
	assert_int_equal(w.err, 0);
	return w.pos;
}

/* Sign message @m (@len) as a continuation: HMAC over the prior MAC, the
 * unsigned messages since (@pending, @plen), this message and the timers;
 * append the TSIG RR. */
static void ax_sign_next(const struct dns_tsig_key *key, uint8_t *m, size_t *len, const uint8_t *prior,
			 size_t prior_len, const uint8_t *pending, size_t plen, uint64_t t)
{
	size_t cap = 2 + prior_len + plen + *len + 8;
	uint8_t *d = malloc(cap), mac[EVP_MAX_MD_SIZE];
	unsigned ml = 0;
	assert_non_null(d);
	size_t o = 0;
	d[o++] = (uint8_t)(prior_len >> 8);
	d[o++] = (uint8_t)prior_len;
	memcpy(d + o, prior, prior_len), o += prior_len;
	memcpy(d + o, pending, plen), o += plen;
	memcpy(d + o, m, *len), o += *len;
	for (int i = 5; i >= 0; i--)
		d[o++] = (uint8_t)(t >> (8 * i));
	d[o++] = 300 >> 8;
	d[o++] = 300 & 0xff;
	assert_non_null(HMAC(EVP_sha256(), key->secret, (int)key->secret_len, d, o, mac, &ml));
	free(d);
	struct dns_wr w;
	struct dns_name alg = ax_name("hmac-sha256.");
	dns_wr_init(&w, m, DNS_MSG_MAX);
	w.pos = *len;
	dns_wr_name(&w, &key->name);
	dns_wr_u16(&w, DNS_T_TSIG);
	dns_wr_u16(&w, DNS_C_ANY);
	dns_wr_u32(&w, 0);
	dns_wr_u16(&w, (uint16_t)(alg.len + 16 + ml));
	dns_wr_name(&w, &alg);
	dns_wr_u48(&w, t);
	dns_wr_u16(&w, 300);
	dns_wr_u16(&w, (uint16_t)ml);
	dns_wr_bytes(&w, mac, ml);
	dns_wr_u16(&w, (uint16_t)(m[0] << 8 | m[1]));
	dns_wr_u16(&w, 0);
	dns_wr_u16(&w, 0);
	assert_int_equal(w.err, 0);
	m[11]++;  /* ARCOUNT */
	*len = w.pos;
}

static bool ax_is_signed(const struct ax_case *c, unsigned k)
{
	if (c->signed_[0] == '\0')
		return k == 0 || k == c->n_msgs - 1;
	return c->signed_[k] == 's';
}

static void ax_send(int fd, const uint8_t *m, size_t len)
{
	uint8_t lb[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	(void)!send(fd, lb, 2, MSG_NOSIGNAL);
	(void)!send(fd, m, len, MSG_NOSIGNAL);
}

/* Serve one transfer of the case's stream. */
static void *ax_serve(void *arg)
{
	struct ax_server *sv = arg;
	const struct ax_case *c = sv->c;
	int fd = accept(sv->lfd, NULL, NULL);
	uint8_t lb[2], q[DNS_MSG_MAX], prior[DNS_TSIG_MAC_MAX], m[DNS_MSG_MAX];
	uint8_t *pending = malloc((size_t)AX_MSGS_MAX * 200);
	size_t prior_len = 0, plen = 0, qlen;
	uint16_t id = 0;
	if (fd < 0 || !pending || !ax_read(fd, lb, 2) || !ax_read(fd, q, qlen = (size_t)(lb[0] << 8 | lb[1])) ||
	    !ax_request_mac(q, qlen, &id, prior, &prior_len))
		goto out;
	bool first = true;
	for (unsigned k = 0; k < c->n_msgs; k++) {
		size_t a_off = 0, len = ax_message(c, k, c->n_msgs, id, m, &a_off);
		uint64_t t = (uint64_t)time(NULL) + ((int)k == c->skew_msg ? 1000 : 0);
		if (ax_is_signed(c, k) && first) {
			assert_int_equal(dns_tsig_sign(m, &len, sizeof m, &sv->key, prior, prior_len, t, prior,
						       &prior_len), 0);
			first = false;
			plen = 0;
		} else if (ax_is_signed(c, k)) {
			uint8_t mac_at[DNS_TSIG_MAC_MAX];
			size_t before = len;
			ax_sign_next(&sv->key, m, &len, prior, prior_len, pending, plen, t);
			/* the new prior: the MAC just written (after name, fixed part, alg, 10 bytes) */
			memcpy(mac_at, m + before + sv->key.name.len + 10 + 13 + 10, 32);
			memcpy(prior, mac_at, 32);
			prior_len = 32;
			plen = 0;
		} else {
			memcpy(pending + plen, m, len);
			plen += len;
		}
		if ((int)k == c->tamper && a_off)
			m[a_off] ^= 0x01;
		ax_send(fd, m, len);
	}
out:
	if (fd >= 0)
		close(fd);
	free(pending);
	return NULL;
}

static void ax_run(const struct ax_case *c, const struct dns_tsig_key *key)
{
	struct ax_server sv = {.c = c, .key = *key};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	sv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(sv.lfd >= 0);
	assert_int_equal(bind(sv.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(sv.lfd, 1), 0);
	assert_int_equal(getsockname(sv.lfd, (struct sockaddr *)&sa, &sl), 0);
	char text[64];
	struct dns_server srv;
	snprintf(text, sizeof text, "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(dns_server_parse(text, 53, &srv, NULL), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, ax_serve, &sv), 0);

	struct dns_recset out = {0};
	struct dns_axfr_stats st = {0};
	struct netd_err e = {0};
	size_t other = 4242;
	int rc = dns_axfr(&srv, "t.example.", c->client_key ? key : NULL, 2000, &out, &other, &st, &e);
	pthread_join(th, NULL);
	close(sv.lfd);
	if (rc != c->want_rc)
		fail_msg("%s: got %s (%s), want %s", c->name, netd_strerror(rc), e.msg, netd_strerror(c->want_rc));
	if (c->says && !strstr(e.msg, c->says))
		fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, e.msg, c->says);
	if (rc == 0) {
		if (out.n != c->n_msgs || other != 1 || st.messages != c->n_msgs || st.signed_ != c->want_signed)
			fail_msg("%s: %zu records, %zu other, %zu messages, %zu signed", c->name, out.n, other,
				 st.messages, st.signed_);
		assert_string_equal(out.v[0].owner, "a0.t.example.");
		assert_string_equal(out.v[0].data, "10.0.0.0");
	} else if (out.n != 0 || other != 4242) {
		fail_msg("%s: outputs written on failure", c->name);
	}
	dns_recset_clear(&out);
	dns_tsig_key_clear(&sv.key);
}

static void test_axfr_tsig_streams(void **state)
{
	(void)state;
	struct dns_tsig_key key;
	const uint8_t secret[32] = "0123456789abcdef0123456789abcdef";
	assert_int_equal(dns_tsig_key_set(&key, "k.", DNS_TSIG_HMAC_SHA256, secret, sizeof secret, NULL), 0);
	for (size_t i = 0; i < N_ELEM(ax_cases); i++)
		ax_run(&ax_cases[i], &key);
	dns_tsig_key_clear(&key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compare_table),
		cmocka_unit_test(test_compare_actual_order),
		cmocka_unit_test(test_compare_refused),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_export_table),
		cmocka_unit_test(test_export_refused),
		cmocka_unit_test(test_rec_from_rr),
		cmocka_unit_test(test_axfr_tsig_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
