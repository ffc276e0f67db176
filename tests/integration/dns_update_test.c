/* Integration test of dns/ (wire, TSIG, UPDATE, transport) against a real
 * Knot or BIND started by tests/peers/dns/start.sh.
 *
 *   dns_update_test knot|bind PORT KEYFILE
 *
 * Against the server on 127.0.0.1/::1 PORT with the TSIG key in KEYFILE:
 *  1. one UPDATE per zone adding A, AAAA, CNAME and TXT (forward) and the
 *     PTRs (in-addr.arpa over IPv4, ip6.arpa over IPv6), read back with
 *     kdig (Knot) or dig (BIND);
 *  2. prerequisites: name-not-in-use (YXDOMAIN the second time), RRset
 *     does-not-exist (YXRRSET), value-dependent RRset exists (NXRRSET the
 *     second time);
 *  3. deletes: one RR, an RRset, a whole name, PTRs; checked gone;
 *  4. 5,000 A records in as few UPDATEs as fit in 64 KiB, over TCP; counted
 *     in an AXFR (dig -y) and spot-checked; the rate is printed;
 *  5. a wrong secret (BADSIG), an unknown key name (BADKEY), an unsigned
 *     update (REFUSED from BIND, NOTAUTH from Knot), each recognized by
 *     dns_update_check();
 * and the TSIG of every signed response is verified.  Prints one line per
 * check; exits 1 if any failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/addr.h"
#include "core/err.h"
#include "dns/tsig.h"
#include "dns/update.h"
#include "dns/wire.h"
#include "dns/xfer.h"

#define BATCH 5000
#define TIMEOUT_MS 5000

static const char *server_kind;  /* "knot" or "bind" */
static int port;
static struct dns_server srv4, srv6;
static struct dns_tsig_key key;
static int failures, checks, responses_verified, responses_to_verify;
static uint16_t next_id = 0x1234;

static void result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void result(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s %s: ", ok ? "ok  " : "FAIL", server_kind);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	checks++;
	if (!ok)
		failures++;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct dns_name name(const char *text)
{
	struct dns_name n;
	struct netd_err e = {0};
	if (dns_name_parse(text, 0, &n, &e) != 0) {
		fprintf(stderr, "bad test name %s: %s\n", text, e.msg);
		exit(2);
	}
	return n;
}

/* RR builders; TXT rdata lives in the caller's buffer. */
static struct dns_rr rr_addr(const char *owner, const char *text)
{
	struct dns_rr rr = {.owner = name(owner), .cls = DNS_C_IN, .ttl = 300};
	struct addr a;
	if (addr_parse(text, &a) != 0)
		exit(2);
	rr.type = a.family == ADDR_V4 ? DNS_T_A : DNS_T_AAAA;
	memcpy(a.family == ADDR_V4 ? rr.rd.a : rr.rd.aaaa, a.b, addr_len(&a));
	return rr;
}

static struct dns_rr rr_target(const char *owner, uint16_t type, const char *target)
{
	struct dns_rr rr = {.owner = name(owner), .type = type, .cls = DNS_C_IN, .ttl = 300};
	rr.rd.target = name(target);
	return rr;
}

static struct dns_rr rr_ptr(const char *addr_text, const char *target)
{
	struct dns_rr rr = {.type = DNS_T_PTR, .cls = DNS_C_IN, .ttl = 300};
	struct addr a;
	if (addr_parse(addr_text, &a) != 0 || dns_name_reverse(&a, &rr.owner) != 0)
		exit(2);
	rr.rd.target = name(target);
	return rr;
}

static struct dns_rr rr_txt(const char *owner, const char *text, uint8_t *buf, size_t cap)
{
	struct dns_rr rr = {.owner = name(owner), .type = DNS_T_TXT, .cls = DNS_C_IN, .ttl = 300};
	int n = dns_txt_rdata(text, buf, cap);
	if (n < 0)
		exit(2);
	rr.rd.raw.data = buf;
	rr.rd.raw.len = (uint16_t)n;
	return rr;
}

/* A message under construction and what happened to it. */
struct upd {
	struct dns_update u;
	struct dns_name zone;
	const struct dns_tsig_key *key;
	uint8_t buf[DNS_MSG_MAX];
	struct dns_update_result res;
	struct dns_xfer_info info;
	struct netd_err err;
	size_t len;
};

static void upd_begin(struct upd *p, const char *zone, const struct dns_tsig_key *k)
{
	memset(&p->res, 0, sizeof p->res);
	netd_err_clear(&p->err);
	p->zone = name(zone);
	p->key = k;
	if (dns_update_init(&p->u, p->buf, sizeof p->buf, 0, &p->zone, next_id++, k) != 0)
		exit(2);
}

/* Finish, send, parse, verify, map.  Returns dns_update_check()'s code, or
 * the transport/parse error. */
static int upd_send(struct upd *p, const struct dns_server *s, unsigned flags)
{
	uint8_t mac[DNS_TSIG_MAC_MAX], reply[DNS_MSG_MAX];
	size_t mac_len = 0, rlen = 0;
	int rc = dns_update_finish(&p->u, p->key, (uint64_t)time(NULL), &p->len, mac, &mac_len);
	if (rc)
		return netd_err_set(&p->err, rc, NULL, "finish: %s", netd_strerror(rc));
	rc = dns_xfer(s, p->buf, p->len, reply, sizeof reply, &rlen, TIMEOUT_MS, flags, &p->info,
		      &p->err);
	if (rc)
		return rc;
	rc = dns_update_parse_response(reply, rlen, p->u.id, &p->zone, p->key, mac, mac_len,
				       (uint64_t)time(NULL), &p->res);
	if (rc)
		return netd_err_set(&p->err, rc, NULL, "response from %s does not parse", s->text);
	/* Every signed answer must verify, except the unsigned error answers a
	 * server sends when it rejected our TSIG (remote error set). */
	if (p->key && p->res.tsig.remote == 0)
		responses_to_verify++;
	if (p->key && p->res.tsig.remote == 0 && p->res.tsig.local == 0)
		responses_verified++;
	return dns_update_check(&p->res, s->text, &p->zone, &p->err);
}

/* Ask the server with kdig (Knot) or dig (BIND); all answer lines, sorted,
 * joined by '|'. */
static void query(const char *qname, const char *type, char *out, size_t cap)
{
	char cmd[512];
	bool knot = strcmp(server_kind, "knot") == 0;
	snprintf(cmd, sizeof cmd, "%s +short +time=2 %s -p %d @127.0.0.1 %s %s 2>&1 | sort",
		 knot ? "kdig" : "dig", knot ? "+retry=0" : "+tries=1", port, qname, type);
	FILE *f = popen(cmd, "r");
	out[0] = '\0';
	if (!f)
		return;
	char line[512];
	size_t o = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		int n = snprintf(out + o, cap - o, "%s%s", o ? "|" : "", line);
		if (n < 0 || (size_t)n >= cap - o)
			break;
		o += (size_t)n;
	}
	pclose(f);
}

static void expect_query(const char *qname, const char *type, const char *want)
{
	char got[2048];
	query(qname, type, got, sizeof got);
	bool ok = strcmp(got, want) == 0;
	result(ok, "%s %s = \"%s\"%s%.200s%s", qname, type, want, ok ? "" : " (got \"",
	       ok ? "" : got, ok ? "" : "\")");
}

static void expect_rc(struct upd *p, int rc, int want, const char *what, const char *must_say)
{
	bool ok = rc == want && (!must_say || strstr(p->err.msg, must_say));
	result(ok, "%s -> %s%s%s [%s, %zu bytes]", what, want == 0 ? "NOERROR" : netd_strerror(want),
	       rc == want ? "" : ", got ", rc == want ? "" : netd_strerror(rc),
	       p->info.tcp ? "tcp" : "udp", p->len);
	if (p->err.msg[0])
		printf("       message: %s\n", p->err.msg);
}

static void test_adds(void)
{
	static const struct { const char *host, *v4, *v6; } h[] = {
		{"web1", "10.20.0.11", "fd00:0:10::11"},
		{"web2", "10.20.0.12", "fd00:0:10::12"},
		{"db1", "10.20.0.13", "fd00:0:10::13"},
	};
	static struct upd p;
	uint8_t txt[3][64];
	char fq[3][64];
	upd_begin(&p, "lab.example.", &key);
	for (int i = 0; i < 3; i++) {
		snprintf(fq[i], sizeof fq[i], "%s.lab.example.", h[i].host);
		struct dns_rr a = rr_addr(fq[i], h[i].v4), aaaa = rr_addr(fq[i], h[i].v6);
		struct dns_rr t = rr_txt(fq[i], "netd owner", txt[i], sizeof txt[i]);
		if (dns_update_add(&p.u, &a) || dns_update_add(&p.u, &aaaa) || dns_update_add(&p.u, &t))
			exit(2);
	}
	struct dns_rr cn = rr_target("www.lab.example.", DNS_T_CNAME, "web1.lab.example.");
	if (dns_update_add(&p.u, &cn))
		exit(2);
	expect_rc(&p, upd_send(&p, &srv4, 0), 0, "add A+AAAA+TXT x3 + CNAME, one UPDATE", NULL);

	upd_begin(&p, "10.in-addr.arpa.", &key);
	for (int i = 0; i < 3; i++) {
		struct dns_rr ptr = rr_ptr(h[i].v4, fq[i]);
		if (dns_update_add(&p.u, &ptr))
			exit(2);
	}
	expect_rc(&p, upd_send(&p, &srv4, 0), 0, "add 3 PTR (in-addr.arpa), one UPDATE", NULL);

	upd_begin(&p, "0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", &key);
	for (int i = 0; i < 3; i++) {
		struct dns_rr ptr = rr_ptr(h[i].v6, fq[i]);
		if (dns_update_add(&p.u, &ptr))
			exit(2);
	}
	expect_rc(&p, upd_send(&p, &srv6, 0), 0, "add 3 PTR (ip6.arpa) over IPv6, one UPDATE", NULL);

	for (int i = 0; i < 3; i++) {
		expect_query(fq[i], "A", h[i].v4);
		expect_query(fq[i], "AAAA", h[i].v6);
		expect_query(fq[i], "TXT", "\"netd owner\"");
		char rev[128];
		snprintf(rev, sizeof rev, "-x %s", h[i].v4);
		expect_query(rev, "", fq[i]);
		snprintf(rev, sizeof rev, "-x %s", h[i].v6);
		expect_query(rev, "", fq[i]);
	}
	expect_query("www.lab.example.", "CNAME", "web1.lab.example.");
}

static void test_prereqs(void)
{
	static struct upd p;
	struct dns_name n = name("new1.lab.example.");
	struct dns_rr a = rr_addr("new1.lab.example.", "10.20.1.1");
	for (int round = 0; round < 2; round++) {
		upd_begin(&p, "lab.example.", &key);
		if (dns_update_prereq_name_not_in_use(&p.u, &n) || dns_update_add(&p.u, &a))
			exit(2);
		int rc = upd_send(&p, &srv4, 0);
		if (round == 0)
			expect_rc(&p, rc, 0, "add new1 if name not in use (1st)", NULL);
		else
			expect_rc(&p, rc, NETD_EEXIST, "add new1 if name not in use (2nd)", "YXDOMAIN");
	}
	expect_query("new1.lab.example.", "A", "10.20.1.1");

	/* web1 has AAAA: "no AAAA RRset" fails with YXRRSET. */
	upd_begin(&p, "lab.example.", &key);
	struct dns_name web1 = name("web1.lab.example.");
	struct dns_rr a2 = rr_addr("web1.lab.example.", "10.20.1.2");
	if (dns_update_prereq_not_exists(&p.u, &web1, DNS_T_AAAA) || dns_update_add(&p.u, &a2))
		exit(2);
	expect_rc(&p, upd_send(&p, &srv4, 0), NETD_EEXIST, "add web1 A if no AAAA RRset", "YXRRSET");

	/* delete web2's A if it is exactly 10.20.0.12 (twice: NXRRSET). */
	struct dns_rr web2a = rr_addr("web2.lab.example.", "10.20.0.12");
	struct dns_name web2 = name("web2.lab.example.");
	for (int round = 0; round < 2; round++) {
		upd_begin(&p, "lab.example.", &key);
		if (dns_update_prereq_exists_rr(&p.u, &web2a) ||
		    dns_update_delete_rrset(&p.u, &web2, DNS_T_A))
			exit(2);
		int rc = upd_send(&p, &srv4, 0);
		if (round == 0)
			expect_rc(&p, rc, 0, "delete web2 A if it is 10.20.0.12 (1st)", NULL);
		else
			expect_rc(&p, rc, NETD_ENOTFOUND, "delete web2 A if it is 10.20.0.12 (2nd)",
				  "NXRRSET");
	}
	expect_query("web2.lab.example.", "A", "");

	/* value-independent: add a TXT to db1 only if db1 has an A RRset. */
	upd_begin(&p, "lab.example.", &key);
	struct dns_name db1 = name("db1.lab.example.");
	uint8_t tb[32];
	struct dns_rr t = rr_txt("db1.lab.example.", "checked", tb, sizeof tb);
	if (dns_update_prereq_exists(&p.u, &db1, DNS_T_A) || dns_update_prereq_name_in_use(&p.u, &db1) ||
	    dns_update_add(&p.u, &t))
		exit(2);
	expect_rc(&p, upd_send(&p, &srv4, 0), 0, "add db1 TXT if db1 A exists and db1 in use", NULL);
	expect_query("db1.lab.example.", "TXT", "\"checked\"|\"netd owner\"");
}

static void test_deletes(void)
{
	static struct upd p;
	uint8_t tb[64];
	struct dns_rr t = rr_txt("web1.lab.example.", "netd owner", tb, sizeof tb);
	struct dns_name web2 = name("web2.lab.example."), db1 = name("db1.lab.example.");
	upd_begin(&p, "lab.example.", &key);
	if (dns_update_delete_rr(&p.u, &t) || dns_update_delete_rrset(&p.u, &web2, DNS_T_AAAA) ||
	    dns_update_delete_name(&p.u, &db1))
		exit(2);
	expect_rc(&p, upd_send(&p, &srv4, 0), 0, "delete one TXT, an AAAA RRset, a whole name", NULL);

	struct addr a4, a6;
	struct dns_name r4, r6;
	if (addr_parse("10.20.0.13", &a4) || addr_parse("fd00:0:10::13", &a6) ||
	    dns_name_reverse(&a4, &r4) || dns_name_reverse(&a6, &r6))
		exit(2);
	upd_begin(&p, "10.in-addr.arpa.", &key);
	if (dns_update_delete_rrset(&p.u, &r4, DNS_T_PTR))
		exit(2);
	expect_rc(&p, upd_send(&p, &srv4, 0), 0, "delete PTR RRset (in-addr.arpa)", NULL);
	upd_begin(&p, "0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", &key);
	if (dns_update_delete_rrset(&p.u, &r6, DNS_T_PTR))
		exit(2);
	expect_rc(&p, upd_send(&p, &srv4, 0), 0, "delete PTR RRset (ip6.arpa)", NULL);

	expect_query("web1.lab.example.", "TXT", "");
	expect_query("web1.lab.example.", "A", "10.20.0.11");
	expect_query("web2.lab.example.", "AAAA", "");
	expect_query("db1.lab.example.", "A", "");
	expect_query("db1.lab.example.", "TXT", "");
	expect_query("-x 10.20.0.13", "", "");
	expect_query("-x fd00:0:10::13", "", "");
}

/* Count b<N>.lab.example. A records in an AXFR done with dig -y. */
static int axfr_count_batch(const char *keyfile_spec)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "dig +time=5 +tries=1 -p %d @127.0.0.1 -y '%s' AXFR lab.example.",
		 port, keyfile_spec);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	char line[512], owner[256], ttl[32], cls[16], type[16], data[256];
	int n = 0;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%255s %31s %15s %15s %255s", owner, ttl, cls, type, data) == 5 &&
		    owner[0] == 'b' && strcmp(type, "A") == 0 && strstr(owner, ".lab.example."))
			n++;
	}
	pclose(f);
	return n;
}

static void test_batch(const char *spec)
{
	static struct upd p;
	char owner[64], addr[32];
	int messages = 0, sent = 0;
	size_t bytes = 0;
	double t0 = now_s();
	bool ok = true;
	upd_begin(&p, "lab.example.", &key);
	for (int i = 0; i < BATCH && ok; i++) {
		snprintf(owner, sizeof owner, "b%d.lab.example.", i);
		snprintf(addr, sizeof addr, "10.30.%d.%d", i / 256, i % 256);
		struct dns_rr a = rr_addr(owner, addr);
		int rc = dns_update_add(&p.u, &a);
		if (rc == NETD_ETOOBIG && dns_update_count(&p.u) > 0) {
			unsigned n = dns_update_count(&p.u);
			rc = upd_send(&p, &srv4, DNS_XFER_TCP);
			messages++;
			if (rc || !p.info.tcp) {
				expect_rc(&p, rc, 0, "batch message", NULL);
				ok = false;
				break;
			}
			sent += (int)n;
			bytes += p.len;
			upd_begin(&p, "lab.example.", &key);
			rc = dns_update_add(&p.u, &a);
		}
		if (rc)
			ok = false;
	}
	if (ok && dns_update_count(&p.u) > 0) {
		unsigned n = dns_update_count(&p.u);
		int rc = upd_send(&p, &srv4, DNS_XFER_TCP);
		messages++;
		if (rc) {
			expect_rc(&p, rc, 0, "batch message", NULL);
			ok = false;
		}
		sent += (int)n;
		bytes += p.len;
	}
	double dt = now_s() - t0;
	result(ok && sent == BATCH && messages == (int)(bytes / 65535) + 1,
	       "%d A records in %d UPDATE messages (%zu bytes) over TCP: %.3f s, %.0f records/s",
	       sent, messages, bytes, dt, sent / dt);
	int got = axfr_count_batch(spec);
	result(got == BATCH, "AXFR shows %d of %d batch records", got, BATCH);
	expect_query("b0.lab.example.", "A", "10.30.0.0");
	expect_query("b1234.lab.example.", "A", "10.30.4.210");
	expect_query("b1999.lab.example.", "A", "10.30.7.207");
	expect_query("b4999.lab.example.", "A", "10.30.19.135");
}

static void test_refusals(void)
{
	static struct upd p;
	struct dns_rr a = rr_addr("evil.lab.example.", "10.66.6.6");

	struct dns_tsig_key wrong = key;
	for (size_t i = 0; i < wrong.secret_len; i++)
		wrong.secret[i] ^= 0x5a;
	upd_begin(&p, "lab.example.", &wrong);
	if (dns_update_add(&p.u, &a))
		exit(2);
	int rc = upd_send(&p, &srv4, 0);
	expect_rc(&p, rc, NETD_EAUTH, "update signed with a wrong secret", "NOTAUTH (TSIG BADSIG");
	result(p.res.rcode == DNS_RC_NOTAUTH && p.res.tsig.remote == DNS_RC_BADSIG,
	       "wrong secret: rcode %u, TSIG error %u (want NOTAUTH 9, BADSIG 16)", p.res.rcode,
	       p.res.tsig.remote);

	struct dns_tsig_key other;
	struct netd_err e = {0};
	if (dns_tsig_key_set(&other, "no-such-key.", DNS_TSIG_HMAC_SHA256, key.secret,
			     key.secret_len, &e))
		exit(2);
	upd_begin(&p, "lab.example.", &other);
	if (dns_update_add(&p.u, &a))
		exit(2);
	rc = upd_send(&p, &srv4, 0);
	expect_rc(&p, rc, NETD_EAUTH, "update signed with an unknown key name", "TSIG BADKEY");

	upd_begin(&p, "lab.example.", NULL);
	if (dns_update_add(&p.u, &a))
		exit(2);
	rc = upd_send(&p, &srv4, 0);
	bool knot = strcmp(server_kind, "knot") == 0;
	expect_rc(&p, rc, NETD_EPERM, "unsigned update", knot ? "NOTAUTH" : "REFUSED");
	expect_query("evil.lab.example.", "A", "");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s knot|bind PORT KEYFILE\n", argv[0]);
		return 2;
	}
	server_kind = argv[1];
	port = atoi(argv[2]);
	struct netd_err e = {0};
	char t4[64], t6[64];
	snprintf(t4, sizeof t4, "127.0.0.1:%d", port);
	snprintf(t6, sizeof t6, "[::1]:%d", port);
	if (dns_server_parse(t4, 53, &srv4, &e) || dns_server_parse(t6, 53, &srv6, &e) ||
	    dns_tsig_key_load(argv[3], &key, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 2;
	}
	char spec[600], secret_b64[400];
	{
		/* dig -y wants alg:name:secret; re-read it from the BIND file. */
		FILE *f = fopen(argv[3], "r");
		char buf[1024] = "";
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = '\0';
		const char *s = strstr(buf, "secret \"");
		if (!s || sscanf(s + 8, "%399[^\"]", secret_b64) != 1)
			return 2;
		snprintf(spec, sizeof spec, "hmac-sha256:ddns-key:%s", secret_b64);
	}
	double t0 = now_s();
	test_adds();
	test_prereqs();
	test_deletes();
	test_batch(spec);
	test_refusals();
	result(responses_verified > 0 && responses_verified == responses_to_verify,
	       "%d of %d signed responses verified (TSIG over request MAC + response)",
	       responses_verified, responses_to_verify);
	printf("%s: %d checks, %d failed, %.2f s\n", server_kind, checks, failures, now_s() - t0);
	dns_tsig_key_clear(&key);
	return failures ? 1 : 0;
}
