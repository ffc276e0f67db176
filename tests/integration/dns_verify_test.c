/* Integration test of dns/verify.h (queries, AXFR, comparison, export)
 * against a real Knot or BIND started by tests/peers/dns/start.sh.
 *
 *   dns_verify_test knot|bind PORT WORKDIR
 *
 * WORKDIR holds tsig.key / tsig.spec (key ddns-key, hmac-sha256).  The
 * records go in with knsupdate (Knot) or nsupdate (BIND) through popen(),
 * not with netd's own UPDATE code, so this test does not depend on it:
 *   - three owned nodes (A, AAAA, their PTRs in both reverse zones, the
 *     TXT "netd owner=test-install" at every name), one CNAME alias owned
 *     through "_netd.www", a stale owned name netd no longer intends, a
 *     foreign A without TXT at a name netd intends, a name with enough TXT
 *     RRs to truncate a UDP answer, and 1,000 owned A names in one batch.
 * Then, against that server:
 *  1. dns_axfr() of each zone (IPv4, and lab.example. over IPv6) equals
 *     what was put, RR for RR with TTLs, every message TSIG-verified; a
 *     wrong secret and an unknown key name give NETD_EAUTH, an unsigned
 *     request and a zone not served NETD_EPERM;
 *  2. dns_query_batch() for 2,000 items returns exactly the RRsets put
 *     (rate printed for 256 and 1 outstanding, and over IPv6); NXDOMAIN,
 *     NODATA, a CNAME at the asked owner, REFUSED for a zone not served,
 *     a truncated answer completed over TCP; a dead port gives negative
 *     per-item codes;
 *  3. dns_compare() on the AXFR classifies verified / missing / extra /
 *     foreign exactly as arranged; then one A is deleted and one changed
 *     behind netd's back (knsupdate/nsupdate) and the diff follows, both
 *     from a new AXFR and from the query answers for the intended owners;
 *  4. dns_export_zone() of the intent of each zone passes named-checkzone
 *     (under a SOA, via $INCLUDE), and its dump holds exactly the intent,
 *     escapes included.
 * Prints one line per check; exits 1 if any failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "core/addr.h"
#include "core/err.h"
#include "dns/dns.h"
#include "dns/tsig.h"
#include "dns/verify.h"
#include "dns/xfer.h"

#define INSTALL "test-install"
#define OWN "netd owner=" INSTALL
#define TTL 300u
#define TIMEOUT_MS 3000u
#define N_BATCH 1000

static const char *const zones[] = {"lab.example.", "10.in-addr.arpa.",
				    "0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa."};
#define N_ZONES (sizeof zones / sizeof zones[0])

static const char *kind;  /* "knot" or "bind" */
static int port;
static const char *workdir;
static char spec[600];    /* hmac-sha256:ddns-key:SECRET */
static struct dns_server srv4, srv6;
static struct dns_tsig_key key;
static int checks, failures;
static struct dns_recset model;   /* what the server holds (the five types) */
static struct dns_recset intent;  /* what netd intends */

static void result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void result(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s %s: ", ok ? "ok  " : "FAIL", kind);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	checks++;
	if (!ok)
		failures++;
}

static void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", kind, what);
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct dns_rec mkrec(const char *owner, uint16_t type, const char *data)
{
	struct dns_rec r = {.type = type, .ttl = TTL};
	snprintf(r.owner, sizeof r.owner, "%s", owner);
	snprintf(r.data, sizeof r.data, "%s", data);
	return r;
}

static void rec_text(const struct dns_rec *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s %u %s %s", r->owner, r->ttl, dns_rec_type_name(r->type), r->data);
}

static bool in_zone(const char *owner, const char *zone)
{
	struct dns_zone z = {.kind = DNS_ZONE_FORWARD};
	snprintf(z.name, sizeof z.name, "%s", zone);
	return dns_zone_for(&z, 1, owner) != NULL;
}

/* Records of sorted @s in @zone, sorted. */
static void zone_part(const struct dns_recset *s, const char *zone, struct dns_recset *out)
{
	for (size_t i = 0; i < s->n; i++)
		if (in_zone(s->v[i].owner, zone) && dns_recset_add(out, &s->v[i]) != 0)
			die("out of memory");
	dns_recset_sort(out);
}

/* Sorted sets equal, TTL included?  The first difference into @why. */
static bool same_set(const struct dns_recset *a, const struct dns_recset *b, char *why, size_t len)
{
	for (size_t i = 0; i < a->n || i < b->n; i++) {
		char x[600] = "(none)", y[600] = "(none)";
		if (i < a->n)
			rec_text(&a->v[i], x, sizeof x);
		if (i < b->n)
			rec_text(&b->v[i], y, sizeof y);
		if (strcmp(x, y) != 0) {
			snprintf(why, len, " [record %zu: got \"%.200s\", want \"%.200s\"]", i, x, y);
			return false;
		}
	}
	why[0] = '\0';
	return true;
}

/* ---- putting records in with the servers' own tools --------------------- */

struct upd {
	FILE *f;
	char zone[DNS_REC_NAME_MAX];
	int lines;
};

static void upd_begin(struct upd *u, const char *zone)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s -v -y '%s' >>'%s/update.log' 2>&1",
		 strcmp(kind, "knot") == 0 ? "knsupdate" : "nsupdate", spec, workdir);
	u->f = popen(cmd, "w");
	if (!u->f)
		die("popen knsupdate/nsupdate");
	snprintf(u->zone, sizeof u->zone, "%s", zone);
	u->lines = 0;
	fprintf(u->f, "server 127.0.0.1 %d\nzone %s\n", port, zone);
}

static void upd_line(struct upd *u, const char *op, const struct dns_rec *r)
{
	bool txt = r->type == DNS_REC_TXT;
	fprintf(u->f, "update %s %s %u %s %s%s%s\n", op, r->owner, r->ttl, dns_rec_type_name(r->type),
		txt ? "\"" : "", r->data, txt ? "\"" : "");
	u->lines++;
}

/* Add to the server (and to the model of what it holds). */
static void put(struct upd *u, const struct dns_rec *r)
{
	upd_line(u, "add", r);
	if (dns_recset_add(&model, r) != 0)
		die("out of memory");
}

/* Delete one RR from the server and from the model. */
static void del(struct upd *u, const struct dns_rec *r)
{
	upd_line(u, "delete", r);
	size_t k = 0;
	for (size_t i = 0; i < model.n; i++)
		if (dns_rec_cmp(&model.v[i], r) != 0)
			model.v[k++] = model.v[i];
	model.n = k;
}

static void upd_send(struct upd *u, const char *what)
{
	fprintf(u->f, "send\nquit\n");
	int st = pclose(u->f);
	bool ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	result(ok, "%s: %s with %d changes in %s (exit %d)", what,
	       strcmp(kind, "knot") == 0 ? "knsupdate" : "nsupdate", u->lines, u->zone,
	       st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	dns_recset_sort(&model);
}

static void intend(const struct dns_rec *r)
{
	if (dns_recset_add(&intent, r) != 0)
		die("out of memory");
}

static void reverse(const char *addr_text, char *out)
{
	struct addr a;
	if (addr_parse(addr_text, &a) != 0 || dns_reverse_name(&a, out, DNS_REC_NAME_MAX) != 0)
		die("bad test address");
}

/* Put a record and intend it. */
static void own(struct upd *u, const char *owner, uint16_t type, const char *data)
{
	struct dns_rec r = mkrec(owner, type, data);
	put(u, &r);
	intend(&r);
}

static const struct { const char *name, *v4, *v6; } nodes[] = {
	{"web1.lab.example.", "10.77.0.1", "fd00:0:10::1"},
	{"web2.lab.example.", "10.77.0.2", "fd00:0:10::2"},
	{"db1.lab.example.", "10.77.0.3", NULL},
};

static void setup_forward(void)
{
	struct upd u;
	upd_begin(&u, "lab.example.");
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
		own(&u, nodes[i].name, DNS_REC_A, nodes[i].v4);
		if (nodes[i].v6)
			own(&u, nodes[i].name, DNS_REC_AAAA, nodes[i].v6);
		own(&u, nodes[i].name, DNS_REC_TXT, OWN);
	}
	own(&u, "www.lab.example.", DNS_REC_CNAME, "web1.lab.example.");
	own(&u, "_netd.www.lab.example.", DNS_REC_TXT, OWN);
	/* stale: owned, no longer intended */
	struct dns_rec r = mkrec("old1.lab.example.", DNS_REC_A, "10.77.0.9");
	put(&u, &r);
	r = mkrec("old1.lab.example.", DNS_REC_TXT, OWN);
	put(&u, &r);
	/* foreign: netd intends printer, someone else holds it */
	r = mkrec("printer.lab.example.", DNS_REC_A, "10.77.0.50");
	put(&u, &r);
	intend(&r);
	r = mkrec("printer.lab.example.", DNS_REC_TXT, OWN);
	intend(&r);
	/* truncation: ~1.3 KB of TXT at one name, neither owned nor intended */
	for (int i = 0; i < 20; i++) {
		char t[80];
		snprintf(t, sizeof t, "filler %02d: the quick brown fox jumps over the lazy dog", i);
		r = mkrec("big.lab.example.", DNS_REC_TXT, t);
		put(&u, &r);
	}
	upd_send(&u, "setup: owned nodes, alias, stale, foreign, big");
}

static void setup_reverse(void)
{
	char rev[DNS_REC_NAME_MAX];
	struct upd u;
	upd_begin(&u, zones[1]);
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
		reverse(nodes[i].v4, rev);
		own(&u, rev, DNS_REC_PTR, nodes[i].name);
		own(&u, rev, DNS_REC_TXT, OWN);
	}
	upd_send(&u, "setup: in-addr.arpa PTRs");
	upd_begin(&u, zones[2]);
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
		if (!nodes[i].v6)
			continue;
		reverse(nodes[i].v6, rev);
		own(&u, rev, DNS_REC_PTR, nodes[i].name);
		own(&u, rev, DNS_REC_TXT, OWN);
	}
	upd_send(&u, "setup: ip6.arpa PTRs");
}

static void batch_name(int i, char *out, size_t len)
{
	snprintf(out, len, "q%d.lab.example.", i);
}

/* 1,000 owned A names (every 10th with a second A) in one UPDATE. */
static void setup_batch(void)
{
	struct upd u;
	upd_begin(&u, "lab.example.");
	for (int i = 0; i < N_BATCH; i++) {
		char name[64], a[32];
		batch_name(i, name, sizeof name);
		snprintf(a, sizeof a, "10.78.%d.%d", i / 256, i % 256);
		own(&u, name, DNS_REC_A, a);
		if (i % 10 == 0) {
			snprintf(a, sizeof a, "10.79.%d.%d", i / 256, i % 256);
			own(&u, name, DNS_REC_A, a);
		}
		own(&u, name, DNS_REC_TXT, OWN);
	}
	upd_send(&u, "setup: 1,000 A names in one batch");
}

/* ---- 1. AXFR -------------------------------------------------------------- */

static int axfr(const struct dns_server *s, const char *zone, const struct dns_tsig_key *k,
		struct dns_recset *out, size_t *n_other, struct dns_axfr_stats *st,
		struct netd_err *e)
{
	netd_err_clear(e);
	return dns_axfr(s, zone, k, TIMEOUT_MS, out, n_other, st, e);
}

static void check_axfr_equals_model(const struct dns_server *s, const char *zone)
{
	struct dns_recset got = {0}, want = {0};
	struct dns_axfr_stats st = {0};
	struct netd_err e = {0};
	size_t other = 0;
	double t0 = now_s();
	int rc = axfr(s, zone, &key, &got, &other, &st, &e);
	double dt = now_s() - t0;
	zone_part(&model, zone, &want);
	char why[512] = "";
	bool same = rc == 0 && same_set(&got, &want, why, sizeof why);
	result(same && other == 2 && st.messages > 0 && st.signed_ == st.messages,
	       "AXFR %s over %s = what was put: %zu records + %zu other (SOA, NS), %zu messages "
	       "(%zu TSIG-verified), %zu bytes, %.3f s%s%s", zone, s->text, got.n, other, st.messages,
	       st.signed_, st.bytes, dt, rc ? " -- " : why, rc ? e.msg : "");
	dns_recset_clear(&got);
	dns_recset_clear(&want);
}

static void check_axfr_refusals(void)
{
	struct dns_recset got = {0};
	struct netd_err e = {0};
	size_t other = 77;
	struct dns_tsig_key wrong = key;
	for (size_t i = 0; i < wrong.secret_len; i++)
		wrong.secret[i] ^= 0x5a;
	int rc = axfr(&srv4, "lab.example.", &wrong, &got, &other, NULL, &e);
	result(rc == NETD_EAUTH && strstr(e.msg, "BADSIG") && got.n == 0 && other == 77,
	       "AXFR with a wrong secret -> NETD_EAUTH (got %s: %s)", netd_strerror(rc), e.msg);

	struct dns_tsig_key unknown;
	if (dns_tsig_key_set(&unknown, "no-such-key.", DNS_TSIG_HMAC_SHA256, key.secret, key.secret_len,
			     &e) != 0)
		die("key");
	rc = axfr(&srv4, "lab.example.", &unknown, &got, &other, NULL, &e);
	result(rc == NETD_EAUTH && strstr(e.msg, "BADKEY"),
	       "AXFR with an unknown key name -> NETD_EAUTH (got %s: %s)", netd_strerror(rc), e.msg);

	rc = axfr(&srv4, "lab.example.", NULL, &got, &other, NULL, &e);
	result(rc == NETD_EPERM, "unsigned AXFR -> NETD_EPERM (got %s: %s)", netd_strerror(rc), e.msg);

	rc = axfr(&srv4, "nothere.example.", &key, &got, &other, NULL, &e);
	result(rc == NETD_EPERM || rc == NETD_EAUTH,
	       "AXFR of a zone not served -> refused (got %s: %s)", netd_strerror(rc), e.msg);
	result(got.n == 0 && other == 77, "failed transfers left the outputs alone");
	dns_tsig_key_clear(&wrong);
	dns_tsig_key_clear(&unknown);
}

/* ---- 2. queries ------------------------------------------------------------- */

/* The model's RRset at (owner, type), sorted, into @out. */
static void model_rrset(const char *owner, uint16_t type, struct dns_recset *out)
{
	for (size_t i = 0; i < model.n; i++)
		if (strcmp(model.v[i].owner, owner) == 0 && model.v[i].type == type &&
		    dns_recset_add(out, &model.v[i]) != 0)
			die("out of memory");
	dns_recset_sort(out);
}

static struct dns_query_item item(const char *owner, uint16_t type)
{
	struct dns_query_item it = {.type = type};
	snprintf(it.owner, sizeof it.owner, "%s", owner);
	return it;
}

/* Answers equal the model exactly (NOERROR, same RRs, same TTLs)?  The
 * number of mismatches; the first described in @why. */
static size_t check_answers(const struct dns_query_item *it, const struct dns_answer *a, size_t n,
			    char *why, size_t len)
{
	size_t bad = 0;
	why[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		struct dns_recset want = {0};
		char d[512];
		model_rrset(it[i].owner, it[i].type, &want);
		bool ok = a[i].rcode == 0 && same_set(&a[i].rrs, &want, d, sizeof d);
		if (!ok && bad++ == 0)
			snprintf(why, len, " [%s %s: rcode %d%s]", it[i].owner, dns_rec_type_name(it[i].type),
				 a[i].rcode, a[i].rcode == 0 ? d : "");
		dns_recset_clear(&want);
	}
	return bad;
}

static void answers_clear(struct dns_answer *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dns_answer_clear(&a[i]);
}

static void timed_batch(const struct dns_server *s, const struct dns_query_item *it, size_t n,
			unsigned parallel, struct dns_answer *a)
{
	struct netd_err e = {0};
	double t0 = now_s();
	int rc = dns_query_batch(s, it, n, parallel, TIMEOUT_MS, a, &e);
	double dt = now_s() - t0;
	char why[700] = "";
	size_t bad = rc ? n : check_answers(it, a, n, why, sizeof why);
	result(rc == 0 && bad == 0, "%zu queries to %s, %u outstanding: exact RRsets, %.3f s, "
	       "%.0f queries/s%s%s%s", n, s->text, parallel ? parallel : 256, dt, n / dt, why,
	       rc ? " -- " : "", rc ? e.msg : "");
	if (bad)
		printf("       %zu of %zu answers differ\n", bad, n);
	if (rc == 0)
		answers_clear(a, n);
}

static void check_query_batch(void)
{
	size_t n = 2 * N_BATCH;
	struct dns_query_item *it = calloc(n, sizeof *it);
	struct dns_answer *a = calloc(n, sizeof *a);
	if (!it || !a)
		die("out of memory");
	for (int i = 0; i < N_BATCH; i++) {
		char name[64];
		batch_name(i, name, sizeof name);
		it[2 * i] = item(name, DNS_REC_A);
		it[2 * i + 1] = item(name, DNS_REC_TXT);
	}
	timed_batch(&srv4, it, n, 0, a);
	timed_batch(&srv4, it, n, 128, a);
	timed_batch(&srv4, it, n, 1, a);
	timed_batch(&srv6, it, n, 0, a);
	free(it);
	free(a);
}

/* One answer against an expectation: rcode and records as "TYPE data|...". */
static void expect_answer(const struct dns_query_item *it, const struct dns_answer *a, int rcode,
			  const char *want)
{
	char got[2048] = "";
	size_t o = 0;
	for (size_t i = 0; i < a->rrs.n && o < sizeof got; i++) {
		int k = snprintf(got + o, sizeof got - o, "%s%s %s", i ? "|" : "",
				 dns_rec_type_name(a->rrs.v[i].type), a->rrs.v[i].data);
		o += k > 0 ? (size_t)k : 0;
	}
	bool ok = a->rcode == rcode && strcmp(got, want) == 0;
	result(ok, "query %s %s -> rcode %d \"%.120s%s\"", it->owner, dns_rec_type_name(it->type),
	       rcode, want, strlen(want) > 120 ? "..." : "");
	if (!ok)
		printf("       got rcode %d \"%.300s\"\n", a->rcode, got);
}

static void check_query_cases(void)
{
	char rev4[DNS_REC_NAME_MAX], rev6[DNS_REC_NAME_MAX], big[2048] = "";
	reverse("10.77.0.1", rev4);
	reverse("fd00:0:10::1", rev6);
	struct dns_recset bigset = {0};
	model_rrset("big.lab.example.", DNS_REC_TXT, &bigset);
	for (size_t i = 0, o = 0; i < bigset.n; i++) {
		int k = snprintf(big + o, sizeof big - o, "%sTXT %s", i ? "|" : "", bigset.v[i].data);
		o += k > 0 ? (size_t)k : 0;
	}
	dns_recset_clear(&bigset);
	const struct { struct dns_query_item it; int rcode; const char *want; } cases[] = {
		{item("nx1.lab.example.", DNS_REC_A), 3, ""},
		{item("db1.lab.example.", DNS_REC_AAAA), 0, ""},
		{item("Web1.LAB.example", DNS_REC_AAAA), 0, "AAAA fd00:0:10::1"},
		{item("www.lab.example.", DNS_REC_A), 0, "CNAME web1.lab.example."},
		{item("www.lab.example.", DNS_REC_CNAME), 0, "CNAME web1.lab.example."},
		{item("_netd.www.lab.example.", DNS_REC_TXT), 0, "TXT " OWN},
		{item("printer.lab.example.", DNS_REC_TXT), 0, ""},
		{item(rev4, DNS_REC_PTR), 0, "PTR web1.lab.example."},
		{item(rev6, DNS_REC_PTR), 0, "PTR web1.lab.example."},
		{item("x.nothere.example.", DNS_REC_A), 5, ""},
		{item("big.lab.example.", DNS_REC_TXT), 0, big},
	};
	size_t n = sizeof cases / sizeof cases[0];
	struct dns_query_item it[sizeof cases / sizeof cases[0]];
	struct dns_answer a[sizeof cases / sizeof cases[0]];
	struct netd_err e = {0};
	for (size_t i = 0; i < n; i++)
		it[i] = cases[i].it;
	int rc = dns_query_batch(&srv4, it, n, 4, TIMEOUT_MS, a, &e);
	result(rc == 0, "query batch of special cases (%s)", rc ? e.msg : "ran");
	if (rc)
		return;
	for (size_t i = 0; i < n; i++)
		expect_answer(&it[i], &a[i], cases[i].rcode, cases[i].want);
	answers_clear(a, n);

	/* refusals of the call itself */
	struct dns_query_item bad[2] = {item("ok.lab.example.", DNS_REC_A), item("a..b.", DNS_REC_A)};
	a[0].rcode = 4242;
	rc = dns_query_batch(&srv4, bad, 2, 0, TIMEOUT_MS, a, &e);
	result(rc == NETD_EINVAL && strstr(e.msg, "item 1") && a[0].rcode == 4242,
	       "a bad owner refuses the batch before anything is sent (%s)", e.msg);
	netd_err_clear(&e);
	bad[1] = item("ok.lab.example.", 15);
	rc = dns_query_batch(&srv4, bad, 2, 0, TIMEOUT_MS, a, &e);
	result(rc == NETD_EINVAL && strstr(e.msg, "type 15"), "an MX item is refused (%s)", e.msg);

	/* nobody listening: every item gets a negative code, the call succeeds */
	struct dns_server dead;
	if (dns_server_parse("127.0.0.1:9", 53, &dead, &e) != 0)
		die("server");
	double t0 = now_s();
	rc = dns_query_batch(&dead, it, 3, 0, 200, a, &e);
	double dt = now_s() - t0;
	result(rc == 0 && a[0].rcode < 0 && a[1].rcode < 0 && a[2].rcode < 0 && a[0].rrs.n == 0,
	       "3 queries to a dead port: rcodes %d %d %d (%s), %.2f s", a[0].rcode, a[1].rcode,
	       a[2].rcode, netd_strerror(a[0].rcode), dt);
	if (rc == 0)
		answers_clear(a, 3);
}

/* ---- 3. comparison -------------------------------------------------------------- */

static const char *txt_of(const struct dns_recset *s, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < s->n && o < len; i++) {
		int k = snprintf(buf + o, len - o, "%s%s %s %s", i ? "|" : "", s->v[i].owner,
				 dns_rec_type_name(s->v[i].type), s->v[i].data);
		o += k > 0 ? (size_t)k : 0;
	}
	return buf;
}

struct want_diff {
	const char *missing, *extra, *foreign;
	size_t conflicts;
};

static void check_diff(const char *what, const char *zone, const struct dns_recset *actual,
		       const struct want_diff *w)
{
	struct dns_diff d;
	struct netd_err e = {0};
	struct dns_recset iz = {0};
	zone_part(&intent, zone, &iz);
	int rc = dns_compare(&intent, actual, zone, INSTALL, &d, &e);
	if (rc) {
		result(false, "%s: dns_compare %s: %s", what, zone, e.msg);
		dns_recset_clear(&iz);
		return;
	}
	char m[2048], x[2048], f[2048];
	size_t n_missing = 0;
	for (const char *p = w->missing; *p; p++)
		n_missing += *p == '|';
	n_missing += w->missing[0] != '\0';
	size_t want_verified = iz.n - n_missing - w->conflicts;
	bool ok = strcmp(txt_of(&d.missing, m, sizeof m), w->missing) == 0 &&
		  strcmp(txt_of(&d.extra, x, sizeof x), w->extra) == 0 &&
		  strcmp(txt_of(&d.foreign, f, sizeof f), w->foreign) == 0 &&
		  d.conflicts == w->conflicts && d.verified == want_verified;
	result(ok, "%s: %s: %zu verified, missing {%s}, extra {%.300s}, foreign {%s}, %zu in conflict",
	       what, zone, d.verified, m, x, f, d.conflicts);
	if (!ok)
		printf("       want %zu verified, missing {%s}, extra {%s}, foreign {%s}, %zu in conflict\n",
		       want_verified, w->missing, w->extra, w->foreign, w->conflicts);
	/* per-record states agree with the sets */
	size_t st[6] = {0};
	for (size_t i = 0; i < iz.n; i++)
		st[dns_diff_state(&d, &iz.v[i]) % 6]++;
	result(st[DNS_STATE_VERIFIED] == d.verified && st[DNS_STATE_DRIFT] == d.missing.n &&
	       st[DNS_STATE_CONFLICT] == d.conflicts && st[DNS_STATE_PENDING] == 0,
	       "%s: %s: states %zu verified, %zu drift, %zu conflict", what, zone,
	       st[DNS_STATE_VERIFIED], st[DNS_STATE_DRIFT], st[DNS_STATE_CONFLICT]);
	dns_diff_clear(&d);
	dns_recset_clear(&iz);
}

static void axfr_zone(const char *zone, struct dns_recset *out)
{
	struct netd_err e = {0};
	size_t other;
	if (axfr(&srv4, zone, &key, out, &other, NULL, &e) != 0) {
		result(false, "AXFR %s for the comparison: %s", zone, e.msg);
		return;
	}
}

static void check_compare_initial(void)
{
	static const struct want_diff lab = {
		"", "old1.lab.example. A 10.77.0.9|old1.lab.example. TXT " OWN,
		"printer.lab.example. A 10.77.0.50", 2};
	static const struct want_diff clean = {"", "", "", 0};
	for (size_t z = 0; z < N_ZONES; z++) {
		struct dns_recset act = {0};
		axfr_zone(zones[z], &act);
		check_diff("as arranged (AXFR)", zones[z], &act, z == 0 ? &lab : &clean);
		dns_recset_clear(&act);
	}
}

static void drift(void)
{
	struct upd u;
	upd_begin(&u, "lab.example.");
	struct dns_rec r = mkrec("db1.lab.example.", DNS_REC_A, "10.77.0.3");
	del(&u, &r);
	r = mkrec("web2.lab.example.", DNS_REC_A, "10.77.0.2");
	del(&u, &r);
	r = mkrec("web2.lab.example.", DNS_REC_A, "10.77.0.22");
	put(&u, &r);
	upd_send(&u, "behind netd's back: delete db1 A, change web2 A");
}

/* Actual records from queries: every (owner, type) netd intends in @zone. */
static void query_intent(const char *zone, struct dns_recset *out)
{
	struct dns_recset iz = {0};
	zone_part(&intent, zone, &iz);
	struct dns_query_item *it = calloc(iz.n + 1, sizeof *it);
	struct dns_answer *a = calloc(iz.n + 1, sizeof *a);
	size_t n = 0;
	if (!it || !a)
		die("out of memory");
	for (size_t i = 0; i < iz.n; i++)
		if (n == 0 || strcmp(it[n - 1].owner, iz.v[i].owner) != 0 || it[n - 1].type != iz.v[i].type)
			it[n++] = item(iz.v[i].owner, iz.v[i].type);
	struct netd_err e = {0};
	int rc = dns_query_batch(&srv4, it, n, 0, TIMEOUT_MS, a, &e);
	size_t answered = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		answered += a[i].rcode >= 0;
		if (dns_recset_add_all(out, &a[i].rrs) != 0)
			die("out of memory");
		dns_answer_clear(&a[i]);
	}
	result(rc == 0 && answered == n, "%zu queries for the intent in %s: %zu answered", n, zone,
	       answered);
	free(it);
	free(a);
	dns_recset_clear(&iz);
}

static void check_compare_drift(void)
{
	drift();
	static const struct want_diff lab = {
		"db1.lab.example. A 10.77.0.3|web2.lab.example. A 10.77.0.2",
		"old1.lab.example. A 10.77.0.9|old1.lab.example. TXT " OWN "|web2.lab.example. A 10.77.0.22",
		"printer.lab.example. A 10.77.0.50", 2};
	struct dns_recset act = {0};
	axfr_zone("lab.example.", &act);
	check_diff("after drift (AXFR)", "lab.example.", &act, &lab);
	dns_recset_clear(&act);

	/* From queries only the intended owners are seen: old1 is not asked. */
	static const struct want_diff lab_q = {
		"db1.lab.example. A 10.77.0.3|web2.lab.example. A 10.77.0.2",
		"web2.lab.example. A 10.77.0.22", "printer.lab.example. A 10.77.0.50", 2};
	query_intent("lab.example.", &act);
	check_diff("after drift (queries)", "lab.example.", &act, &lab_q);
	dns_recset_clear(&act);
}

/* ---- 4. export ------------------------------------------------------------------ */

/* One character-string list of presentation text ("a" "b\"c" \DDD) ->
 * concatenated bytes. */
static void unquote(const char *s, char *out, size_t len)
{
	size_t o = 0;
	bool in = false;
	for (; *s && o + 1 < len; s++) {
		if (*s == '"') {
			in = !in;
			continue;
		}
		if (!in)
			continue;
		if (*s == '\\' && s[1] >= '0' && s[1] <= '9') {
			out[o++] = (char)((s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
			s += 3;
		} else if (*s == '\\' && s[1]) {
			out[o++] = *++s;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

static uint16_t type_from(const char *t)
{
	static const uint16_t types[] = {DNS_REC_A, DNS_REC_AAAA, DNS_REC_CNAME, DNS_REC_PTR, DNS_REC_TXT};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dns_rec_type_name(types[i]), t) == 0)
			return types[i];
	return 0;
}

/* Load @file as @zone with named-checkzone; its dump's five-type records
 * into @out.  The exit status. */
static int checkzone(const char *zone, const char *file, struct dns_recset *out, char *log, size_t len)
{
	char cmd[1024], line[4096];
	snprintf(cmd, sizeof cmd, "named-checkzone -i local -k fail -D -o - '%s' '%s' 2>&1", zone, file);
	FILE *f = popen(cmd, "r");
	if (!f)
		die("popen named-checkzone");
	log[0] = '\0';
	while (fgets(line, sizeof line, f)) {
		char owner[DNS_REC_NAME_MAX], cls[16], type[16];
		unsigned ttl;
		int off = 0;
		if (sscanf(line, "%255s %u %15s %15s %n", owner, &ttl, cls, type, &off) == 4 && off > 0 &&
		    type_from(type)) {
			struct dns_rec r = {.type = type_from(type), .ttl = ttl};
			snprintf(r.owner, sizeof r.owner, "%s", owner);
			line[strcspn(line, "\n")] = '\0';
			if (r.type == DNS_REC_TXT)
				unquote(line + off, r.data, sizeof r.data);
			else
				snprintf(r.data, sizeof r.data, "%s", line + off);
			if (dns_recset_add(out, &r) != 0)
				die("out of memory");
		} else if (strlen(log) + strlen(line) + 1 < len) {
			strcat(log, line);
		}
	}
	dns_recset_sort(out);
	int st = pclose(f);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void check_export_zone(const char *zone, const struct dns_recset *recs, const char *what)
{
	char *text = NULL, path[512], wrap[512], log[2048];
	struct netd_err e = {0};
	int rc = dns_export_zone(recs, zone, INSTALL, &text, &e);
	if (rc) {
		result(false, "export %s: %s", zone, e.msg);
		return;
	}
	snprintf(path, sizeof path, "%s/export-%s.zone", workdir, zone);
	snprintf(wrap, sizeof wrap, "%s/wrap-%s.zone", workdir, zone);
	FILE *f = fopen(path, "w"), *w = fopen(wrap, "w");
	if (!f || !w)
		die("cannot write the export");
	fputs(text, f);
	fclose(f);
	fprintf(w, "$TTL 300\n@ IN SOA ns1.example.net. hostmaster.example.net. 1 3600 600 86400 300\n"
		   "@ IN NS ns1.example.net.\n$INCLUDE %s\n", path);
	fclose(w);
	struct dns_recset got = {0}, want = {0};
	zone_part(recs, zone, &want);
	int st = checkzone(zone, wrap, &got, log, sizeof log);
	char why[512];
	bool same = same_set(&got, &want, why, sizeof why);
	result(st == 0 && same, "export of %s (%s, %zu bytes) passes named-checkzone and holds exactly "
	       "the %zu intended records%s%s", zone, what, strlen(text), want.n, why,
	       st ? " -- named-checkzone said:" : "");
	if (st)
		printf("%s", log);
	free(text);
	dns_recset_clear(&got);
	dns_recset_clear(&want);
}

static void check_export(void)
{
	for (size_t z = 0; z < N_ZONES; z++)
		check_export_zone(zones[z], &intent, "the intent");
	/* TXT escapes survive a real master-file parser */
	struct dns_recset odd = {0};
	struct dns_rec r[] = {
		mkrec("t.lab.example.", DNS_REC_TXT, "say \"hi\" \\ back; (paren) $ORIGIN"),
		mkrec("t.lab.example.", DNS_REC_TXT, "ctl \x01\x1f\x7f utf8 \xc3\xa9 tab\t."),
		mkrec("lab.example.", DNS_REC_TXT, OWN),
		mkrec("_netd.www.lab.example.", DNS_REC_TXT, OWN),
		mkrec("a.b.c.lab.example.", DNS_REC_A, "10.1.2.3"),
	};
	r[4].ttl = 60;
	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
		if (dns_recset_add(&odd, &r[i]) != 0)
			die("out of memory");
	dns_recset_sort(&odd);
	check_export_zone("lab.example.", &odd, "escapes, apex, deep name, own TTL");
	dns_recset_clear(&odd);
}

/* ---- main ---------------------------------------------------------------------- */

static void load_key(void)
{
	char path[512];
	struct netd_err e = {0};
	snprintf(path, sizeof path, "%s/tsig.key", workdir);
	if (dns_tsig_key_load(path, &key, &e) != 0)
		die(e.msg);
	snprintf(path, sizeof path, "%s/tsig.spec", workdir);
	FILE *f = fopen(path, "r");
	if (!f || !fgets(spec, sizeof spec, f))
		die("cannot read tsig.spec");
	fclose(f);
	spec[strcspn(spec, "\n")] = '\0';
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s knot|bind PORT WORKDIR\n", argv[0]);
		return 2;
	}
	kind = argv[1];
	port = atoi(argv[2]);
	workdir = argv[3];
	struct netd_err e = {0};
	char t4[64], t6[64];
	snprintf(t4, sizeof t4, "127.0.0.1:%d", port);
	snprintf(t6, sizeof t6, "[::1]:%d", port);
	if (dns_server_parse(t4, 53, &srv4, &e) || dns_server_parse(t6, 53, &srv6, &e))
		die(e.msg);
	load_key();
	double t0 = now_s();
	struct dns_rec ns1 = mkrec("ns1.lab.example.", DNS_REC_A, "127.0.0.1");  /* zone file */
	if (dns_recset_add(&model, &ns1) != 0)
		die("out of memory");

	setup_forward();
	setup_reverse();
	setup_batch();
	dns_recset_sort(&intent);

	for (size_t z = 0; z < N_ZONES; z++)
		check_axfr_equals_model(&srv4, zones[z]);
	check_axfr_equals_model(&srv6, "lab.example.");
	check_axfr_refusals();
	check_query_batch();
	check_query_cases();
	check_compare_initial();
	check_compare_drift();
	check_export();

	printf("%s: %d checks, %d failed, %.2f s\n", kind, checks, failures, now_s() - t0);
	dns_recset_clear(&model);
	dns_recset_clear(&intent);
	dns_tsig_key_clear(&key);
	return failures ? 1 : 0;
}
