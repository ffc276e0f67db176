/* Unit tests for dns/: names (text <-> wire, every error), compression
 * pointers (loops, forward, out of bounds), cursors, RR round trips per
 * type, message parsing of hand-made messages, TSIG sign/verify and
 * tampering, key parsing, UPDATE building within a byte budget, answer
 * mapping, server address parsing.  Table-driven where there is a table.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/err.h"
#include "dns/tsig.h"
#include "dns/update.h"
#include "dns/wire.h"
#include "dns/xfer.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct dns_name nm(const char *text)
{
	struct dns_name n;
	struct netd_err e = {0};
	int rc = dns_name_parse(text, 0, &n, &e);
	if (rc)
		fail_msg("name %s: %s", text, e.msg);
	return n;
}

static void assert_name_text(const struct dns_name *n, const char *want)
{
	char buf[DNS_NAME_STRLEN];
	assert_true(dns_name_print(n, buf, sizeof buf) >= 0);
	assert_string_equal(buf, want);
}

/* ---- names: text -> wire ---------------------------------------------- */

struct name_ok {
	const char *text;
	unsigned flags;
	const char *printed;   /* canonical text back */
	unsigned wire_len;
};

static const struct name_ok names_ok[] = {
	{"lab.example.", 0, "lab.example.", 13},
	{"lab.example", 0, "lab.example.", 13},
	{"Web-1.Lab.Example", DNS_NAME_HOST, "Web-1.Lab.Example.", 19},
	{".", 0, ".", 1},
	{"a", DNS_NAME_HOST, "a.", 3},
	{"1.0.0.10.in-addr.arpa.", DNS_NAME_HOST, "1.0.0.10.in-addr.arpa.", 23},
	{"a\\.b.example", 0, "a\\.b.example.", 13},
	{"\\065bc", 0, "Abc.", 5},
	{"x\\000y", 0, "x\\000y.", 5},
	{"sp\\ ace", 0, "sp\\032ace.", 8},
	{"_dmarc.example", 0, "_dmarc.example.", 16},
	{"q\\\"(x);@$", 0, "q\\\"\\(x\\)\\;\\@\\$.", 10},
};

static void test_name_parse_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEM(names_ok); i++) {
		const struct name_ok *c = &names_ok[i];
		struct dns_name n;
		struct netd_err e = {0};
		int rc = dns_name_parse(c->text, c->flags, &n, &e);
		if (rc)
			fail_msg("%s: %s", c->text, e.msg);
		assert_int_equal(n.len, c->wire_len);
		assert_int_equal(dns_name_check(&n), 0);
		assert_name_text(&n, c->printed);
		/* printed text parses back to the same wire bytes */
		struct dns_name back;
		assert_int_equal(dns_name_parse(c->printed, 0, &back, NULL), 0);
		assert_int_equal(back.len, n.len);
		assert_memory_equal(back.w, n.w, n.len);
	}
}

static char *repeat(char c, size_t n)
{
	static char buf[4][300];
	static int k;
	char *b = buf[k++ % 4];
	memset(b, c, n);
	b[n] = '\0';
	return b;
}

struct name_bad {
	const char *text;
	unsigned flags;
	const char *msg;  /* substring of the error message */
};

static void test_name_parse_errors(void **state)
{
	(void)state;
	char l64[80], l63[80], long255[300], long256[300];
	snprintf(l64, sizeof l64, "%s.example", repeat('a', 64));
	snprintf(l63, sizeof l63, "%s.example", repeat('a', 63));
	/* 3 x 63 + 61: 192 + 62 + root = 255 octets; one more octet is 256 */
	snprintf(long255, sizeof long255, "%s.%s.%s.%s", repeat('a', 63), repeat('b', 63),
		 repeat('c', 63), repeat('d', 61));
	snprintf(long256, sizeof long256, "%s.%s.%s.%s", repeat('a', 63), repeat('b', 63),
		 repeat('c', 63), repeat('d', 62));
	const struct name_bad bad[] = {
		{"", 0, "name is empty"},
		{"..", 0, "label 1 is empty"},
		{".a", 0, "label 1 is empty"},
		{"a..b", 0, "label 2 is empty"},
		{"a.b..", 0, "label 3 is empty"},
		{l64, 0, "label 1 \"aaaa"},
		{l64, 0, "is 64 octets long, more than 63"},
		{long256, 0, "longer than 255 octets in wire form (at label 4)"},
		{"a\\", 0, "label 1: bad escape"},
		{"a\\25", 0, "bad escape"},
		{"a\\256", 0, "bad escape"},
		{"ok.a\\2x5", 0, "label 2: bad escape"},
		{"a_b.example", DNS_NAME_HOST, "label 1 \"a_b\": character '_' is not allowed in a host name"},
		{"web.ex ample", DNS_NAME_HOST, "label 2 \"ex ample\": character ' '"},
		{"-ab.example", DNS_NAME_HOST, "label 1 \"-ab\" starts with '-'"},
		{"ab.x-", DNS_NAME_HOST, "label 2 \"x-\" ends with '-'"},
		{"a\\.b", DNS_NAME_HOST, "escape '\\' is not allowed in a host name"},
		{"*.example", DNS_NAME_HOST, "character '*'"},
	};
	for (size_t i = 0; i < N_ELEM(bad); i++) {
		struct dns_name n = {.len = 7};
		struct netd_err e = {0};
		int rc = dns_name_parse(bad[i].text, bad[i].flags, &n, &e);
		if (rc != NETD_EINVAL || !strstr(e.msg, bad[i].msg))
			fail_msg("case %zu \"%.40s\": rc %d, message \"%s\", want \"%s\"", i, bad[i].text,
				 rc, e.msg, bad[i].msg);
		assert_int_equal(e.code, NETD_EINVAL);
		assert_int_equal(n.len, 7);  /* output untouched on error */
	}
	/* the boundaries themselves are fine */
	struct dns_name n;
	assert_int_equal(dns_name_parse(l63, DNS_NAME_HOST, &n, NULL), 0);
	assert_int_equal(dns_name_parse(long255, DNS_NAME_HOST, &n, NULL), 0);
	assert_int_equal(n.len, 255);
	char text[DNS_NAME_STRLEN];
	assert_int_equal(dns_name_print(&n, text, sizeof text), (int)strlen(long255) + 1);
	assert_int_equal(dns_name_print(&n, text, 10), NETD_ETOOBIG);
	assert_string_equal(text, "");
}

static void test_name_compare(void **state)
{
	(void)state;
	struct dns_name a = nm("Web1.LAB.example."), b = nm("web1.lab.EXAMPLE"), z = nm("lab.example");
	struct dns_name other = nm("web1.lab.example.org"), root = nm(".");
	assert_true(dns_name_eq(&a, &b));
	assert_false(dns_name_eq(&a, &z));
	assert_true(dns_name_in_zone(&a, &z));
	assert_true(dns_name_in_zone(&z, &z));
	assert_false(dns_name_in_zone(&z, &a));
	assert_false(dns_name_in_zone(&other, &z));
	assert_true(dns_name_in_zone(&a, &root));
	struct dns_name tricky = nm("xlab.example");  /* suffix in bytes, not in labels */
	assert_false(dns_name_in_zone(&tricky, &z));
	assert_int_equal(dns_name_labels(&a), 3);
	assert_int_equal(dns_name_labels(&root), 0);
	struct dns_name low;
	dns_name_lower(&a, &low);
	assert_name_text(&low, "web1.lab.example.");
}

static void test_name_reverse(void **state)
{
	(void)state;
	struct addr a;
	struct dns_name n;
	assert_int_equal(addr_parse("10.1.2.3", &a), 0);
	assert_int_equal(dns_name_reverse(&a, &n), 0);
	assert_name_text(&n, "3.2.1.10.in-addr.arpa.");
	assert_int_equal(addr_parse("fd00:0:10::1:2:3", &a), 0);
	assert_int_equal(dns_name_reverse(&a, &n), 0);
	assert_name_text(&n, "3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa.");
	struct dns_name zone = nm("0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa.");
	assert_true(dns_name_in_zone(&n, &zone));
	struct addr none = {0};
	assert_int_equal(dns_name_reverse(&none, &n), NETD_EINVAL);
}

/* ---- names: wire decoding, compression -------------------------------- */

struct wire_case {
	const char *what;
	uint8_t bytes[300];
	size_t len;
	size_t start;        /* where the name to read begins */
	const char *want;    /* NULL: NETD_ECORRUPT expected */
	size_t end;          /* cursor position after a good read */
};

/* 12 bytes of (fake) header come first in every case, so offsets match a
 * message; "\7example\0" sits at 12 in most. */
#define HDR 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
#define EXAMPLE 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0

static const struct wire_case wire_cases[] = {
	{"plain", {HDR, EXAMPLE}, 21, 12, "example.", 21},
	{"pointer back", {HDR, EXAMPLE, 3, 'l', 'a', 'b', 0xc0, 12}, 27, 21, "lab.example.", 27},
	{"pointer chain", {HDR, EXAMPLE, 3, 'l', 'a', 'b', 0xc0, 12, 1, 'x', 0xc0, 21}, 31, 27,
	 "x.lab.example.", 31},
	{"pointer only", {HDR, EXAMPLE, 0xc0, 12}, 23, 21, "example.", 23},
	{"pointer to itself", {HDR, 0xc0, 12}, 14, 12, NULL, 0},
	{"pointer forward", {HDR, 0xc0, 14, EXAMPLE}, 23, 12, NULL, 0},
	{"pointer past end", {HDR, 0xc0, 0xff}, 14, 12, NULL, 0},
	{"pointer truncated", {HDR, EXAMPLE, 0xc0}, 22, 21, NULL, 0},
	{"two-pointer loop", {HDR, 1, 'x', 0xc0, 16, 0xc0, 12}, 18, 16, NULL, 0},
	{"label runs past end", {HDR, 5, 'a', 'b'}, 15, 12, NULL, 0},
	{"no root octet", {HDR, 1, 'a'}, 14, 12, NULL, 0},
	{"label type 0x40", {HDR, 0x41, 'a', 0}, 15, 12, NULL, 0},
	{"label type 0x80", {HDR, 0x81, 'a', 0}, 15, 12, NULL, 0},
	{"empty input", {0}, 0, 0, NULL, 0},
};

static void test_name_wire(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEM(wire_cases); i++) {
		const struct wire_case *c = &wire_cases[i];
		struct dns_rd r;
		dns_rd_init(&r, c->bytes, c->len);
		r.pos = c->start;
		struct dns_name n = {.len = 9};
		dns_rd_name(&r, &n);
		if (c->want) {
			if (r.err)
				fail_msg("%s: error %d", c->what, r.err);
			assert_name_text(&n, c->want);
			assert_int_equal(r.pos, c->end);
		} else {
			if (r.err != NETD_ECORRUPT)
				fail_msg("%s: want NETD_ECORRUPT, got %d", c->what, r.err);
			assert_int_equal(n.len, 9);
		}
	}
}

static void test_name_wire_too_long(void **state)
{
	(void)state;
	/* 127 one-octet labels + root = 255: fine; 128 + root = 257: corrupt.
	 * The long one is also built with a pointer in the middle. */
	uint8_t buf[600];
	for (unsigned labels = 127; labels <= 128; labels++) {
		size_t o = 0;
		for (unsigned i = 0; i < labels; i++) {
			buf[o++] = 1;
			buf[o++] = 'a';
		}
		buf[o++] = 0;
		struct dns_rd r;
		struct dns_name n;
		dns_rd_init(&r, buf, o);
		dns_rd_name(&r, &n);
		assert_int_equal(r.err, labels == 127 ? 0 : NETD_ECORRUPT);
		if (labels == 127)
			assert_int_equal(n.len, 255);
	}
	size_t o = 0;
	for (unsigned i = 0; i < 100; i++) {
		buf[o++] = 1;
		buf[o++] = 'a';
	}
	buf[o++] = 0;
	size_t second = o;
	for (unsigned i = 0; i < 30; i++) {
		buf[o++] = 1;
		buf[o++] = 'b';
	}
	buf[o++] = 0xc0;
	buf[o++] = 0;
	struct dns_rd r;
	struct dns_name n;
	dns_rd_init(&r, buf, o);
	r.pos = second;
	dns_rd_name(&r, &n);
	assert_int_equal(r.err, NETD_ECORRUPT);
}

static void test_name_compression_written(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct dns_wr w;
	dns_wr_init(&w, buf, sizeof buf);
	struct dns_header h = {.id = 1, .qdcount = 1};
	dns_wr_header(&w, &h);
	struct dns_name z = nm("lab.example."), a = nm("WEB.Lab.Example."), b = nm("web.lab.example");
	dns_wr_name_comp(&w, &z);        /* 13 bytes at 12 */
	size_t at_a = w.pos;
	dns_wr_name_comp(&w, &a);        /* "web" + pointer to 12 = 6 bytes */
	assert_int_equal(w.pos - at_a, 6);
	size_t at_b = w.pos;
	dns_wr_name_comp(&w, &b);        /* pointer to at_a (case-insensitive) */
	assert_int_equal(w.pos - at_b, 2);
	assert_int_equal(buf[at_b], 0xc0);
	assert_int_equal(buf[at_b + 1], at_a);
	dns_wr_name(&w, &b);             /* uncompressed: 17 bytes */
	assert_int_equal(w.err, 0);
	struct dns_rd r;
	dns_rd_init(&r, buf, w.pos);
	r.pos = at_b;
	struct dns_name back;
	dns_rd_name(&r, &back);
	assert_int_equal(r.err, 0);
	assert_name_text(&back, "WEB.lab.example.");  /* suffix case from the zone written first */
	assert_true(dns_name_eq(&back, &b));
}

/* ---- cursors ---------------------------------------------------------- */

static void test_cursor_sticky(void **state)
{
	(void)state;
	uint8_t buf[5];
	struct dns_wr w;
	dns_wr_init(&w, buf, sizeof buf);
	dns_wr_u32(&w, 0x01020304);
	dns_wr_u16(&w, 0x0506);    /* does not fit: nothing written */
	assert_int_equal(w.err, NETD_ETOOBIG);
	assert_int_equal(w.pos, 4);
	dns_wr_u8(&w, 7);          /* would fit, but the error is sticky */
	assert_int_equal(w.pos, 4);
	assert_int_equal(w.err, NETD_ETOOBIG);

	static const uint8_t in[] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde};
	struct dns_rd r;
	dns_rd_init(&r, in, sizeof in);
	assert_int_equal(dns_rd_u16(&r), 0x1234);
	/* 5 left: the u16 half reads, the u32 half fails and gives 0 */
	assert_true(dns_rd_u48(&r) == 0x567800000000ull);
	assert_int_equal(r.err, NETD_ECORRUPT);
	assert_int_equal(dns_rd_u8(&r), 0);
	assert_int_equal(dns_rd_left(&r), 0);
	assert_null(dns_rd_take(&r, 0));

	dns_rd_init(&r, in, sizeof in);
	assert_int_equal(dns_rd_u32(&r), 0x12345678);
	assert_int_equal(dns_rd_left(&r), 3);
	uint8_t out[4] = {9, 9, 9, 9};
	dns_rd_bytes(&r, out, 4);
	assert_int_equal(r.err, NETD_ECORRUPT);
	assert_int_equal(out[0], 0);  /* zeroed on error */

	/* the write cap is DNS_MSG_MAX even for a bigger buffer */
	uint8_t *big = malloc(70000);
	assert_non_null(big);
	dns_wr_init(&w, big, 70000);
	assert_int_equal(w.cap, DNS_MSG_MAX);
	free(big);
}

/* ---- RRs -------------------------------------------------------------- */

static struct dns_rr make_rr(const char *owner, uint16_t type)
{
	struct dns_rr rr;
	memset(&rr, 0, sizeof rr);
	rr.owner = nm(owner);
	rr.type = type;
	rr.cls = DNS_C_IN;
	rr.ttl = 3600;
	return rr;
}

static void test_rr_roundtrip(void **state)
{
	(void)state;
	static const uint8_t txt[] = {5, 'h', 'e', 'l', 'l', 'o', 0, 3, 'a', ' ', 'b'};
	static const uint8_t mx[] = {0, 10, 2, 'm', 'x', 0};
	struct dns_rr rrs[10];
	rrs[0] = make_rr("web1.lab.example.", DNS_T_A);
	memcpy(rrs[0].rd.a, (uint8_t[]){10, 0, 0, 1}, 4);
	rrs[1] = make_rr("web1.lab.example.", DNS_T_AAAA);
	memcpy(rrs[1].rd.aaaa, (uint8_t[]){0xfd, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16);
	rrs[2] = make_rr("1.0.0.10.in-addr.arpa.", DNS_T_PTR);
	rrs[2].rd.target = nm("web1.lab.example.");
	rrs[3] = make_rr("www.lab.example.", DNS_T_CNAME);
	rrs[3].rd.target = nm("web1.lab.example.");
	rrs[4] = make_rr("lab.example.", DNS_T_NS);
	rrs[4].rd.target = nm("ns1.lab.example.");
	rrs[5] = make_rr("web1.lab.example.", DNS_T_TXT);
	rrs[5].rd.raw.data = txt;
	rrs[5].rd.raw.len = sizeof txt;
	rrs[6] = make_rr("lab.example.", DNS_T_SOA);
	rrs[6].rd.soa = (struct dns_soa){nm("ns1.lab.example."), nm("hostmaster.lab.example."),
					 2024010101u, 3600, 600, 86400, 300};
	rrs[7] = make_rr("lab.example.", 15);  /* MX: kept opaque */
	rrs[7].rd.raw.data = mx;
	rrs[7].rd.raw.len = sizeof mx;
	rrs[8] = make_rr("gone.lab.example.", DNS_T_A);  /* RFC 2136 delete RRset */
	rrs[8].cls = DNS_C_ANY;
	rrs[8].ttl = 0;
	rrs[8].no_rdata = true;
	rrs[9] = make_rr("x.lab.example.", 99);  /* unknown type, empty rdata, class IN */

	uint8_t buf[2048];
	struct dns_wr w;
	dns_wr_init(&w, buf, sizeof buf);
	size_t off[N_ELEM(rrs) + 1];
	for (size_t i = 0; i < N_ELEM(rrs); i++) {
		off[i] = w.pos;
		dns_wr_rr(&w, &rrs[i]);
	}
	off[N_ELEM(rrs)] = w.pos;
	assert_int_equal(w.err, 0);
	/* compression shrank later names: the PTR target is a pointer + "web1" */
	struct dns_rd r;
	dns_rd_init(&r, buf, w.pos);
	for (size_t i = 0; i < N_ELEM(rrs); i++) {
		struct dns_rr back;
		assert_int_equal(r.pos, off[i]);
		dns_rd_rr(&r, &back);
		if (r.err)
			fail_msg("rr %zu: error %d", i, r.err);
		assert_true(dns_rr_eq(&rrs[i], &back));
		assert_int_equal(back.ttl, rrs[i].ttl);
		assert_int_equal(r.pos, off[i + 1]);
	}
	assert_int_equal(dns_rd_left(&r), 0);
	assert_true(off[3] - off[2] < 40);  /* PTR with compressed target */
}

struct rr_bad {
	const char *what;
	uint8_t bytes[64];
	size_t len;
};

/* Owner is the root (one 0 octet); then type, class, TTL, rdlength, rdata. */
#define RR_HEAD(type, cls, rdlen) 0, 0, type, (cls) >> 8, (cls) & 0xff, 0, 0, 0, 60, 0, rdlen

static const struct rr_bad rr_bad[] = {
	{"A with 3 bytes", {RR_HEAD(1, 1, 3), 10, 0, 0}, 14},
	{"A with 5 bytes", {RR_HEAD(1, 1, 5), 10, 0, 0, 1, 2}, 16},
	{"AAAA with 4 bytes", {RR_HEAD(28, 1, 4), 1, 2, 3, 4}, 15},
	{"A with no rdata in class IN", {RR_HEAD(1, 1, 0)}, 11},
	{"rdlength past end", {RR_HEAD(16, 1, 9), 3, 'a', 'b', 'c'}, 15},
	{"TXT string past rdata", {RR_HEAD(16, 1, 3), 5, 'a', 'b'}, 14},
	{"TXT empty in class IN", {RR_HEAD(16, 1, 0)}, 11},
	{"PTR name past rdata", {RR_HEAD(12, 1, 2), 3, 'a', 'b', 'c', 0}, 16},
	{"PTR rdata longer than name", {RR_HEAD(12, 1, 3), 0, 0, 0}, 14},
	{"SOA short", {RR_HEAD(6, 1, 6), 0, 0, 0, 0, 0, 1}, 17},
	{"truncated header", {0, 0, 1, 0}, 4},
};

static void test_rr_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEM(rr_bad); i++) {
		struct dns_rd r;
		struct dns_rr rr;
		dns_rd_init(&r, rr_bad[i].bytes, rr_bad[i].len);
		dns_rd_rr(&r, &rr);
		if (r.err != NETD_ECORRUPT)
			fail_msg("%s: want NETD_ECORRUPT, got %d", rr_bad[i].what, r.err);
	}
	/* a TXT that is not a valid string sequence is refused when written */
	uint8_t buf[64];
	struct dns_wr w;
	dns_wr_init(&w, buf, sizeof buf);
	struct dns_rr t = make_rr("a.", DNS_T_TXT);
	static const uint8_t bad_txt[] = {4, 'a'};
	t.rd.raw.data = bad_txt;
	t.rd.raw.len = sizeof bad_txt;
	dns_wr_rr(&w, &t);
	assert_int_equal(w.err, NETD_EINVAL);
}

static void test_txt_rdata(void **state)
{
	(void)state;
	uint8_t buf[700];
	assert_int_equal(dns_txt_rdata("", buf, sizeof buf), 1);
	assert_int_equal(buf[0], 0);
	assert_int_equal(dns_txt_rdata("netd", buf, sizeof buf), 5);
	char big[601];
	memset(big, 'x', 600);
	big[600] = '\0';
	assert_int_equal(dns_txt_rdata(big, buf, sizeof buf), 603);  /* 255 + 255 + 90 */
	assert_int_equal(buf[0], 255);
	assert_int_equal(buf[256], 255);
	assert_int_equal(buf[512], 90);
	assert_int_equal(dns_txt_rdata(big, buf, 100), NETD_ETOOBIG);
}

static void test_names_of_codes(void **state)
{
	(void)state;
	char b[16];
	assert_string_equal(dns_type_name(DNS_T_AAAA, b, sizeof b), "AAAA");
	assert_string_equal(dns_type_name(99, b, sizeof b), "TYPE99");
	assert_string_equal(dns_rcode_name(DNS_RC_NOTAUTH, b, sizeof b), "NOTAUTH");
	assert_string_equal(dns_rcode_name(DNS_RC_BADTIME, b, sizeof b), "BADTIME");
	assert_string_equal(dns_rcode_name(12, b, sizeof b), "RCODE12");
}

/* ---- message parser --------------------------------------------------- */

/* A query for lab.example. SOA (id 0xabcd, RD). */
static const uint8_t query_msg[] = {
	0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	3, 'l', 'a', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 6, 0, 1,
};

/* Its answer: question, SOA answer, NS authority, A glue (compressed). */
static const uint8_t answer_msg[] = {
	0xab, 0xcd, 0x84, 0x00, 0, 1, 0, 1, 0, 1, 0, 1,
	3, 'l', 'a', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 6, 0, 1,
	/* SOA */
	0xc0, 12, 0, 6, 0, 1, 0, 0, 1, 44, 0, 30,
	3, 'n', 's', '1', 0xc0, 12,
	1, 'h', 0xc0, 12,
	0, 0, 0, 1, 0, 0, 14, 16, 0, 0, 2, 88, 0, 1, 81, 128, 0, 0, 1, 44,
	/* NS */
	0xc0, 12, 0, 2, 0, 1, 0, 0, 1, 44, 0, 2, 0xc0, 41,
	/* A */
	0xc0, 41, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 127, 0, 0, 1,
};

static void test_msg_parse_ok(void **state)
{
	(void)state;
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(&m, query_msg, sizeof query_msg), 0);
	assert_int_equal(m.hdr.id, 0xabcd);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.ref[0].type, DNS_T_SOA);

	assert_int_equal(dns_msg_parse(&m, answer_msg, sizeof answer_msg), 0);
	assert_true(m.hdr.flags & DNS_F_QR);
	assert_true(m.hdr.flags & DNS_F_AA);
	assert_int_equal(m.n, 4);
	static const uint8_t sections[] = {DNS_S_QD, DNS_S_AN, DNS_S_NS, DNS_S_AR};
	static const uint16_t types[] = {DNS_T_SOA, DNS_T_SOA, DNS_T_NS, DNS_T_A};
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(m.ref[i].section, sections[i]);
		assert_int_equal(m.ref[i].type, types[i]);
	}
	struct dns_rr rr;
	assert_int_equal(dns_msg_rr(&m, 1, &rr), 0);
	assert_name_text(&rr.rd.soa.mname, "ns1.lab.example.");
	assert_name_text(&rr.rd.soa.rname, "h.lab.example.");
	assert_int_equal(rr.rd.soa.serial, 1);
	assert_int_equal(rr.rd.soa.minimum, 300);
	assert_int_equal(dns_msg_rr(&m, 2, &rr), 0);
	assert_name_text(&rr.rd.target, "ns1.lab.example.");
	assert_int_equal(dns_msg_rr(&m, 3, &rr), 0);
	assert_name_text(&rr.owner, "ns1.lab.example.");
	assert_int_equal(rr.rd.a[0], 127);
	assert_int_equal(dns_msg_rr(&m, 4, &rr), NETD_EINVAL);
}

static void test_msg_parse_bad(void **state)
{
	(void)state;
	struct dns_msg m;
	uint8_t buf[sizeof answer_msg + 4];
	/* every proper prefix is corrupt (counts promise more) */
	for (size_t n = 0; n < sizeof answer_msg; n++)
		if (dns_msg_parse(&m, answer_msg, n) != NETD_ECORRUPT)
			fail_msg("prefix of %zu bytes parsed", n);
	/* trailing garbage */
	memcpy(buf, answer_msg, sizeof answer_msg);
	buf[sizeof answer_msg] = 0;
	assert_int_equal(dns_msg_parse(&m, buf, sizeof answer_msg + 1), NETD_ECORRUPT);
	/* counts larger than the data */
	memcpy(buf, query_msg, sizeof query_msg);
	buf[7] = 1;  /* ancount 1, no answer present */
	assert_int_equal(dns_msg_parse(&m, buf, sizeof query_msg), NETD_ECORRUPT);
	memcpy(buf, query_msg, sizeof query_msg);
	buf[4] = 0xff;  /* qdcount 65281 */
	assert_int_equal(dns_msg_parse(&m, buf, sizeof query_msg), NETD_ECORRUPT);
	/* a forward pointer in the answer's owner */
	memcpy(buf, answer_msg, sizeof answer_msg);
	buf[29] = 0xc0;
	buf[30] = 60;
	assert_int_equal(dns_msg_parse(&m, buf, sizeof answer_msg), NETD_ECORRUPT);
}

static void test_msg_parse_too_many(void **state)
{
	(void)state;
	/* 600 minimal RRs (root owner, type 99, no rdata): valid, but more
	 * than the parser's table holds. */
	size_t n = 600, len = DNS_HEADER_LEN + n * 11;
	uint8_t *buf = calloc(1, len);
	assert_non_null(buf);
	buf[6] = (uint8_t)(n >> 8);
	buf[7] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = buf + DNS_HEADER_LEN + i * 11;
		p[2] = 99;
		p[4] = 1;
	}
	struct dns_msg *m = malloc(sizeof *m);
	assert_non_null(m);
	assert_int_equal(dns_msg_parse(m, buf, len), NETD_ETOOBIG);
	buf[6] = 0;
	buf[7] = 200;
	assert_int_equal(dns_msg_parse(m, buf, DNS_HEADER_LEN + 200 * 11), 0);
	assert_int_equal(m->n, 200);
	free(m);
	free(buf);
}

/* ---- TSIG ------------------------------------------------------------- */

static const uint8_t secret32[32] = {
	0x6b, 0x65, 0x79, 0x2d, 0x66, 0x6f, 0x72, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x73, 0x2d, 0x6f, 0x6e,
	0x6c, 0x79, 0x2d, 0x6e, 0x65, 0x74, 0x64, 0x2d, 0x64, 0x6e, 0x73, 0x2d, 0x77, 0x69, 0x72, 0x65,
};

static struct dns_tsig_key test_key(enum dns_tsig_alg alg)
{
	struct dns_tsig_key k;
	struct netd_err e = {0};
	if (dns_tsig_key_set(&k, "ddns-key.", alg, secret32, sizeof secret32, &e))
		fail_msg("%s", e.msg);
	return k;
}

/* A small UPDATE-like message to sign. */
static size_t sample_msg(uint8_t *buf, size_t cap, uint16_t id, bool response)
{
	struct dns_wr w;
	dns_wr_init(&w, buf, cap);
	struct dns_header h = {.id = id, .flags = (uint16_t)(DNS_OP_UPDATE << 11 |
							     (response ? DNS_F_QR : 0)),
			       .qdcount = 1};
	dns_wr_header(&w, &h);
	struct dns_question q = {.name = nm("lab.example."), .type = DNS_T_SOA, .cls = DNS_C_IN};
	dns_wr_question(&w, &q);
	assert_int_equal(w.err, 0);
	return w.pos;
}

static void test_tsig_roundtrip(void **state)
{
	(void)state;
	const enum dns_tsig_alg algs[] = {DNS_TSIG_HMAC_SHA256, DNS_TSIG_HMAC_SHA1,
					  DNS_TSIG_HMAC_SHA512};
	const size_t mac_lens[] = {32, 20, 64};
	for (size_t i = 0; i < N_ELEM(algs); i++) {
		struct dns_tsig_key k = test_key(algs[i]);
		uint8_t req[512], resp[512], mac[DNS_TSIG_MAC_MAX], rmac[DNS_TSIG_MAC_MAX];
		size_t len = sample_msg(req, sizeof req, 0x4242, false), ml = 0, rml = 0;
		size_t before = len;
		uint64_t t = 1700000000;
		assert_int_equal(dns_tsig_sign(req, &len, sizeof req, &k, NULL, 0, t, mac, &ml), 0);
		assert_int_equal(ml, mac_lens[i]);
		assert_int_equal(len - before, dns_tsig_rr_size(&k));
		assert_int_equal(req[11], 1);  /* ARCOUNT */

		/* the server side: verify the request */
		struct dns_tsig_status st;
		assert_int_equal(dns_tsig_verify(req, len, &k, NULL, 0, t + 10, &st), 0);
		assert_int_equal(st.local, 0);
		assert_int_equal(st.remote, 0);
		assert_true(st.time_signed == t);

		/* the response is signed over the request MAC */
		size_t rlen = sample_msg(resp, sizeof resp, 0x4242, true);
		assert_int_equal(dns_tsig_sign(resp, &rlen, sizeof resp, &k, mac, ml, t + 1, rmac, &rml), 0);
		assert_int_equal(dns_tsig_verify(resp, rlen, &k, mac, ml, t + 2, &st), 0);
		/* ... so it does not verify without it, or with another one */
		assert_int_equal(dns_tsig_verify(resp, rlen, &k, NULL, 0, t + 2, &st), NETD_EAUTH);
		assert_int_equal(st.local, DNS_RC_BADSIG);
		uint8_t other[DNS_TSIG_MAC_MAX];
		memcpy(other, mac, ml);
		other[0] ^= 1;
		assert_int_equal(dns_tsig_verify(resp, rlen, &k, other, ml, t + 2, &st), NETD_EAUTH);
		assert_int_equal(st.local, DNS_RC_BADSIG);
	}
}

static void test_tsig_tamper(void **state)
{
	(void)state;
	struct dns_tsig_key k = test_key(DNS_TSIG_HMAC_SHA256);
	uint8_t msg[512], copy[512];
	size_t len = sample_msg(msg, sizeof msg, 7, false);
	uint64_t t = 1700000000;
	assert_int_equal(dns_tsig_sign(msg, &len, sizeof msg, &k, NULL, 0, t, NULL, NULL), 0);
	struct dns_tsig_status st;

	/* flipping any bit of the signed part or the MAC breaks it (bits of
	 * the TSIG RR's own framing give BADKEY/corrupt instead) */
	size_t body = len - dns_tsig_rr_size(&k);
	for (size_t i = 0; i < len; i++) {
		if (i < 2 || i == 10 || i == 11)
			continue;  /* ID: replaced by the original ID; ARCOUNT: TSIG not found */
		memcpy(copy, msg, len);
		copy[i] ^= 0x01;  /* not 0x20: names compare case-insensitively */
		int rc = dns_tsig_verify(copy, len, &k, NULL, 0, t, &st);
		if (rc == 0)
			fail_msg("flip at byte %zu (of %zu, body %zu) still verifies", i, len, body);
	}
	/* the body flips are BADSIG precisely */
	memcpy(copy, msg, len);
	copy[14] ^= 0x01;  /* in "lab" */
	assert_int_equal(dns_tsig_verify(copy, len, &k, NULL, 0, t, &st), NETD_EAUTH);
	assert_int_equal(st.local, DNS_RC_BADSIG);
	/* the ID may change in transit: the original ID is what counts */
	memcpy(copy, msg, len);
	copy[0] ^= 0xff;
	assert_int_equal(dns_tsig_verify(copy, len, &k, NULL, 0, t, &st), 0);

	/* wrong secret: BADSIG; other name or algorithm: BADKEY */
	struct dns_tsig_key wrong = k;
	wrong.secret[0] ^= 1;
	assert_int_equal(dns_tsig_verify(msg, len, &wrong, NULL, 0, t, &st), NETD_EAUTH);
	assert_int_equal(st.local, DNS_RC_BADSIG);
	struct dns_tsig_key other;
	assert_int_equal(dns_tsig_key_set(&other, "other-key", DNS_TSIG_HMAC_SHA256, secret32, 32, NULL), 0);
	assert_int_equal(dns_tsig_verify(msg, len, &other, NULL, 0, t, &st), NETD_EAUTH);
	assert_int_equal(st.local, DNS_RC_BADKEY);
	struct dns_tsig_key alg = test_key(DNS_TSIG_HMAC_SHA512);
	assert_int_equal(dns_tsig_verify(msg, len, &alg, NULL, 0, t, &st), NETD_EAUTH);
	assert_int_equal(st.local, DNS_RC_BADKEY);
	/* the key name compares case-insensitively */
	struct dns_tsig_key upper;
	assert_int_equal(dns_tsig_key_set(&upper, "DDNS-Key", DNS_TSIG_HMAC_SHA256, secret32, 32, NULL), 0);
	assert_int_equal(dns_tsig_verify(msg, len, &upper, NULL, 0, t, &st), 0);

	/* time: within the fudge on both sides, BADTIME outside */
	assert_int_equal(dns_tsig_verify(msg, len, &k, NULL, 0, t + 300, &st), 0);
	assert_int_equal(dns_tsig_verify(msg, len, &k, NULL, 0, t - 300, &st), 0);
	assert_int_equal(dns_tsig_verify(msg, len, &k, NULL, 0, t + 301, &st), NETD_EAUTH);
	assert_int_equal(st.local, DNS_RC_BADTIME);
	assert_int_equal(dns_tsig_verify(msg, len, &k, NULL, 0, t - 301, &st), NETD_EAUTH);
	assert_int_equal(st.local, DNS_RC_BADTIME);

	/* no TSIG at all */
	size_t plain = sample_msg(copy, sizeof copy, 7, false);
	assert_int_equal(dns_tsig_verify(copy, plain, &k, NULL, 0, t, &st), NETD_EAUTH);
	assert_int_equal(st.local, DNS_TSIG_UNSIGNED);

	/* a TSIG that is not last: corrupt */
	memcpy(copy, msg, len);
	size_t l2 = len;
	struct dns_wr w;
	dns_wr_init(&w, copy, sizeof copy);
	w.pos = l2;
	struct dns_rr a = make_rr("x.lab.example.", DNS_T_A);
	dns_wr_rr(&w, &a);
	copy[11] = 2;
	assert_int_equal(dns_tsig_verify(copy, w.pos, &k, NULL, 0, t, &st), NETD_ECORRUPT);

	/* no room: message unchanged */
	uint8_t small[64];
	size_t sl = sample_msg(small, sizeof small, 7, false), sl0 = sl;
	assert_int_equal(dns_tsig_sign(small, &sl, sizeof small, &k, NULL, 0, t, NULL, NULL),
			 NETD_ETOOBIG);
	assert_int_equal(sl, sl0);
	assert_int_equal(small[11], 0);
}

/* A peer's error answer: TSIG RR with an empty MAC and the error set. */
static void test_tsig_remote_error(void **state)
{
	(void)state;
	struct dns_tsig_key k = test_key(DNS_TSIG_HMAC_SHA256);
	uint8_t msg[512];
	size_t len = sample_msg(msg, sizeof msg, 9, true);
	struct dns_wr w;
	dns_wr_init(&w, msg, sizeof msg);
	w.pos = len;
	dns_wr_name(&w, &k.name);
	dns_wr_u16(&w, DNS_T_TSIG);
	dns_wr_u16(&w, DNS_C_ANY);
	dns_wr_u32(&w, 0);
	struct dns_name alg = nm("hmac-sha256.");
	dns_wr_u16(&w, (uint16_t)(alg.len + 16));
	dns_wr_name(&w, &alg);
	dns_wr_u48(&w, 1700000000);
	dns_wr_u16(&w, 300);
	dns_wr_u16(&w, 0);              /* MAC size 0 */
	dns_wr_u16(&w, 9);
	dns_wr_u16(&w, DNS_RC_BADSIG);  /* error */
	dns_wr_u16(&w, 0);
	assert_int_equal(w.err, 0);
	msg[11] = 1;
	struct dns_tsig_status st;
	assert_int_equal(dns_tsig_verify(msg, w.pos, &k, NULL, 0, 1700000000, &st), NETD_EAUTH);
	assert_int_equal(st.remote, DNS_RC_BADSIG);
	assert_int_equal(st.local, DNS_RC_BADSIG);
}

static void test_tsig_key_parse(void **state)
{
	(void)state;
	struct dns_tsig_key k;
	struct netd_err e = {0};
	/* 32 bytes "key-for-tests-only-netd-dns-wire" in base64 */
	const char *b64 = "a2V5LWZvci10ZXN0cy1vbmx5LW5ldGQtZG5zLXdpcmU=";
	char text[512];
	snprintf(text, sizeof text,
		 "# made by tsig-keygen\n"
		 "key \"ddns-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n", b64);
	assert_int_equal(dns_tsig_key_parse_bind(text, &k, &e), 0);
	assert_int_equal(k.alg, DNS_TSIG_HMAC_SHA256);
	assert_int_equal(k.secret_len, 32);
	assert_memory_equal(k.secret, secret32, 32);
	assert_name_text(&k.name, "ddns-key.");

	snprintf(text, sizeof text, "/* c */ key other.key. { secret \"%s\"; // x\n algorithm HMAC-SHA512; };",
		 b64);
	assert_int_equal(dns_tsig_key_parse_bind(text, &k, &e), 0);
	assert_int_equal(k.alg, DNS_TSIG_HMAC_SHA512);
	assert_name_text(&k.name, "other.key.");

	snprintf(text, sizeof text, "hmac-sha1:k1:%s\n", b64);
	assert_int_equal(dns_tsig_key_parse_spec(text, &k, &e), 0);
	assert_int_equal(k.alg, DNS_TSIG_HMAC_SHA1);
	snprintf(text, sizeof text, "k2:%s", b64);
	assert_int_equal(dns_tsig_key_parse_spec(text, &k, &e), 0);
	assert_int_equal(k.alg, DNS_TSIG_HMAC_SHA256);
	assert_name_text(&k.name, "k2.");

	struct {
		const char *text;
		bool bind;
		int rc;
		const char *msg;
	} bad[] = {
		{"options { };", true, NETD_EINVAL, "expected a 'key' statement"},
		{"key \"k\" { algorithm hmac-sha256; };", true, NETD_EINVAL, "key \"k\": no secret"},
		{"key \"k\" { secret \"AAAA\"; };", true, NETD_EINVAL, "key \"k\": no algorithm"},
		{"key \"k\" { algorithm hmac-md5; secret \"AAAA\"; };", true, NETD_EUNSUPPORTED,
		 "algorithm \"hmac-md5\" is not supported"},
		{"key \"k\" { algorithm hmac-sha256; secret \"A*AA\"; };", true, NETD_EINVAL,
		 "secret is not valid base64"},
		{"key \"k\" { algorithm hmac-sha256; secret \"AAA\"; };", true, NETD_EINVAL,
		 "not valid base64"},
		{"key \"k\" { algorithm hmac-sha256; secret \"AA==AA==\"; };", true, NETD_EINVAL,
		 "not valid base64"},
		{"key \"k\" { algorithm hmac-sha256; secret \"AAAA\" };", true, NETD_EINVAL,
		 "expected ';' after secret"},
		{"key \"k\" { algorithm hmac-sha256; secret \"AAAA\"; }", true, NETD_EINVAL,
		 "expected ';' after '}'"},
		{"key \"k\" { owner x; };", true, NETD_EINVAL, "unknown clause 'owner'"},
		{"key \"k\" { algorithm hmac-sha256; secret \"AAAA", true, NETD_EINVAL, "'secret' needs a value"},
		{"key \"a..b\" { algorithm hmac-sha256; secret \"AAAA\"; };", true, NETD_EINVAL,
		 "label 2 is empty"},
		{"nocolon", false, NETD_EINVAL, "expected [algorithm:]name:secret"},
		{"hmac-sha256::AAAA", false, NETD_EINVAL, "empty or overlong name"},
		{"hmac-sha384:k:AAAA", false, NETD_EUNSUPPORTED, "not supported"},
		{"k:", false, NETD_EINVAL, "not valid base64"},
	};
	for (size_t i = 0; i < N_ELEM(bad); i++) {
		struct netd_err be = {0};
		int rc = bad[i].bind ? dns_tsig_key_parse_bind(bad[i].text, &k, &be)
				     : dns_tsig_key_parse_spec(bad[i].text, &k, &be);
		if (rc != bad[i].rc || !strstr(be.msg, bad[i].msg))
			fail_msg("case %zu: rc %d msg \"%s\", want %d \"%s\"", i, rc, be.msg, bad[i].rc,
				 bad[i].msg);
	}

	/* files in both formats */
	char path[] = "/tmp/netd-tsig-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	snprintf(text, sizeof text, "key \"ddns-key\" { algorithm hmac-sha256; secret \"%s\"; };\n", b64);
	assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(dns_tsig_key_load(path, &k, &e), 0);
	assert_memory_equal(k.secret, secret32, 32);
	fd = open(path, O_WRONLY | O_TRUNC);
	snprintf(text, sizeof text, "hmac-sha512:ddns-key:%s\n", b64);
	assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(dns_tsig_key_load(path, &k, &e), 0);
	assert_int_equal(k.alg, DNS_TSIG_HMAC_SHA512);
	unlink(path);
	netd_err_clear(&e);
	assert_int_equal(dns_tsig_key_load(path, &k, &e), -ENOENT);
	assert_non_null(strstr(e.msg, path));
	dns_tsig_key_clear(&k);
	assert_int_equal(k.secret_len, 0);
}

/* ---- UPDATE ----------------------------------------------------------- */

static void test_update_sections(void **state)
{
	(void)state;
	uint8_t buf[1024];
	struct dns_update u;
	struct dns_name zone = nm("lab.example."), n = nm("web1.lab.example.");
	assert_int_equal(dns_update_init(&u, buf, sizeof buf, 0, &zone, 0x77, NULL), 0);
	struct dns_rr a = make_rr("web1.lab.example.", DNS_T_A);
	memcpy(a.rd.a, (uint8_t[]){10, 0, 0, 1}, 4);
	assert_int_equal(dns_update_prereq_exists(&u, &n, DNS_T_A), 0);
	assert_int_equal(dns_update_prereq_exists_rr(&u, &a), 0);
	assert_int_equal(dns_update_prereq_not_exists(&u, &n, DNS_T_AAAA), 0);
	assert_int_equal(dns_update_prereq_name_in_use(&u, &n), 0);
	assert_int_equal(dns_update_prereq_name_not_in_use(&u, &n), 0);
	assert_int_equal(dns_update_add(&u, &a), 0);
	assert_int_equal(dns_update_delete_rrset(&u, &n, DNS_T_AAAA), 0);
	assert_int_equal(dns_update_delete_rr(&u, &a), 0);
	assert_int_equal(dns_update_delete_name(&u, &n), 0);
	/* sections are in order; names stay in the zone */
	assert_int_equal(dns_update_prereq_name_in_use(&u, &n), NETD_EINVAL);
	struct dns_name out = nm("web1.example.org.");
	assert_int_equal(dns_update_delete_name(&u, &out), NETD_EINVAL);
	struct dns_rr any = a;
	any.type = DNS_T_ANY;
	assert_int_equal(dns_update_add(&u, &any), NETD_EINVAL);
	assert_int_equal(dns_update_count(&u), 4);
	assert_int_equal(dns_update_prereq_count(&u), 5);
	size_t len;
	assert_int_equal(dns_update_finish(&u, NULL, 0, &len, NULL, NULL), 0);
	assert_int_equal(dns_update_finish(&u, NULL, 0, &len, NULL, NULL), NETD_EINVAL);
	assert_int_equal(dns_update_add(&u, &a), NETD_EINVAL);

	struct dns_msg m;
	assert_int_equal(dns_msg_parse(&m, buf, len), 0);
	assert_int_equal(DNS_F_OPCODE(m.hdr.flags), DNS_OP_UPDATE);
	assert_int_equal(m.hdr.id, 0x77);
	assert_int_equal(m.hdr.qdcount, 1);
	assert_int_equal(m.hdr.ancount, 5);
	assert_int_equal(m.hdr.nscount, 4);
	/* RFC 2136 2.4 and 2.5: class / type / TTL / rdata of each form */
	const struct { uint16_t cls, type; uint32_t ttl; bool no_rdata; } want[] = {
		{DNS_C_IN, DNS_T_SOA, 0, true},      /* zone */
		{DNS_C_ANY, DNS_T_A, 0, true},       /* RRset exists */
		{DNS_C_IN, DNS_T_A, 0, false},       /* RRset exists (value) */
		{DNS_C_NONE, DNS_T_AAAA, 0, true},   /* RRset does not exist */
		{DNS_C_ANY, DNS_T_ANY, 0, true},     /* name in use */
		{DNS_C_NONE, DNS_T_ANY, 0, true},    /* name not in use */
		{DNS_C_IN, DNS_T_A, 3600, false},    /* add */
		{DNS_C_ANY, DNS_T_AAAA, 0, true},    /* delete RRset */
		{DNS_C_NONE, DNS_T_A, 0, false},     /* delete RR */
		{DNS_C_ANY, DNS_T_ANY, 0, true},     /* delete name */
	};
	assert_int_equal(m.n, N_ELEM(want));
	for (unsigned i = 0; i < m.n; i++) {
		struct dns_rr rr;
		assert_int_equal(dns_msg_rr(&m, i, &rr), 0);
		assert_int_equal(rr.cls, want[i].cls);
		assert_int_equal(rr.type, want[i].type);
		if (i > 0) {
			assert_int_equal(rr.ttl, want[i].ttl);
			assert_int_equal(rr.no_rdata, want[i].no_rdata);
		}
	}
}

static void test_update_budget(void **state)
{
	(void)state;
	struct dns_tsig_key k = test_key(DNS_TSIG_HMAC_SHA256);
	struct dns_name zone = nm("lab.example.");
	static uint8_t buf[DNS_MSG_MAX], snap[DNS_MSG_MAX];
	const size_t budgets[] = {512, 1400, 65535};
	for (size_t b = 0; b < N_ELEM(budgets); b++) {
		struct dns_update u;
		assert_int_equal(dns_update_init(&u, buf, sizeof buf, budgets[b], &zone, 1, &k), 0);
		int i = 0, rc;
		char owner[64];
		for (;; i++) {
			snprintf(owner, sizeof owner, "host%d.lab.example.", i);
			struct dns_rr a = make_rr(owner, DNS_T_A);
			a.rd.a[3] = (uint8_t)i;
			size_t pos = u.w.pos;
			memcpy(snap, buf, pos);
			rc = dns_update_add(&u, &a);
			if (rc) {
				/* refused whole: not a byte changed */
				assert_int_equal(rc, NETD_ETOOBIG);
				assert_int_equal(u.w.pos, pos);
				assert_memory_equal(snap, buf, pos);
				assert_int_equal(u.w.err, 0);
				break;
			}
		}
		assert_int_equal(dns_update_count(&u), i);
		size_t len, ml;
		uint8_t mac[DNS_TSIG_MAC_MAX];
		assert_int_equal(dns_update_finish(&u, &k, 1700000000, &len, mac, &ml), 0);
		assert_true(len <= budgets[b]);
		/* nearly full: one more A record (~19 bytes) did not fit */
		assert_true(len + 25 > budgets[b]);
		/* walk it: the table parser stops at DNS_MSG_RR_MAX, the
		 * iterator (and so TSIG) handles any count */
		struct dns_msg_iter it;
		struct dns_msg_ref ref;
		assert_int_equal(dns_msg_iter_init(&it, buf, len), 0);
		assert_int_equal(it.hdr.nscount, i);
		assert_int_equal(it.hdr.arcount, 1);
		unsigned seen = 0;
		while ((rc = dns_msg_iter_next(&it, &ref)) == 1)
			seen++;
		assert_int_equal(rc, 0);
		assert_int_equal(seen, 1 + i + 1);
		struct dns_msg *m = malloc(sizeof *m);
		assert_non_null(m);
		assert_int_equal(dns_msg_parse(m, buf, len), i + 2 > (int)DNS_MSG_RR_MAX ? NETD_ETOOBIG : 0);
		free(m);
		struct dns_tsig_status st;
		assert_int_equal(dns_tsig_verify(buf, len, &k, NULL, 0, 1700000000, &st), 0);
	}
	/* a budget too small for the zone and the TSIG */
	struct dns_update u;
	assert_int_equal(dns_update_init(&u, buf, sizeof buf, 100, &zone, 1, &k), NETD_ETOOBIG);
	assert_int_equal(dns_update_init(&u, buf, 20, 0, &zone, 1, NULL), NETD_ETOOBIG);
}

/* Build the answer a server would send, signed over the request MAC. */
static size_t make_answer(uint8_t *out, size_t cap, const uint8_t *req, size_t req_len,
			  unsigned rcode, const struct dns_tsig_key *k, const uint8_t *mac,
			  size_t ml, uint64_t t)
{
	struct dns_msg m;
	assert_int_equal(dns_msg_parse(&m, req, req_len), 0);
	size_t zone_end = m.ref[0].end;
	memcpy(out, req, zone_end);
	out[2] = (uint8_t)(0x80 | DNS_OP_UPDATE << 3);
	out[3] = (uint8_t)rcode;
	memset(out + 6, 0, 6);  /* no prereq/update/additional */
	size_t len = zone_end;
	if (k)
		assert_int_equal(dns_tsig_sign(out, &len, cap, k, mac, ml, t, NULL, NULL), 0);
	return len;
}

static void test_update_response(void **state)
{
	(void)state;
	struct dns_tsig_key k = test_key(DNS_TSIG_HMAC_SHA256);
	struct dns_name zone = nm("lab.example.");
	uint8_t req[512], resp[512], mac[DNS_TSIG_MAC_MAX];
	size_t len, ml;
	uint64_t t = 1700000000;
	struct dns_update u;
	assert_int_equal(dns_update_init(&u, req, sizeof req, 0, &zone, 0x1234, &k), 0);
	struct dns_rr a = make_rr("web1.lab.example.", DNS_T_A);
	assert_int_equal(dns_update_add(&u, &a), 0);
	assert_int_equal(dns_update_finish(&u, &k, t, &len, mac, &ml), 0);

	struct dns_update_result r;
	struct netd_err e = {0};
	size_t rl = make_answer(resp, sizeof resp, req, len, DNS_RC_NOERROR, &k, mac, ml, t);
	assert_int_equal(dns_update_parse_response(resp, rl, 0x1234, &zone, &k, mac, ml, t, &r), 0);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(r.tsig.local, 0);
	assert_int_equal(dns_update_check(&r, "127.0.0.1:5302", &zone, &e), 0);

	/* not our answer */
	assert_int_equal(dns_update_parse_response(resp, rl, 0x1235, &zone, &k, mac, ml, t, &r),
			 NETD_ECORRUPT);
	struct dns_name other = nm("other.example.");
	assert_int_equal(dns_update_parse_response(resp, rl, 0x1234, &other, &k, mac, ml, t, &r),
			 NETD_ECORRUPT);
	assert_int_equal(dns_update_parse_response(req, len, 0x1234, &zone, &k, mac, ml, t, &r),
			 NETD_ECORRUPT);  /* QR clear */
	assert_int_equal(dns_update_parse_response(resp, rl - 1, 0x1234, &zone, &k, mac, ml, t, &r),
			 NETD_ECORRUPT);

	/* an answer signed with another key fails verification */
	struct dns_tsig_key wrong = k;
	wrong.secret[3] ^= 1;
	rl = make_answer(resp, sizeof resp, req, len, DNS_RC_NOERROR, &wrong, mac, ml, t);
	assert_int_equal(dns_update_parse_response(resp, rl, 0x1234, &zone, &k, mac, ml, t, &r), 0);
	assert_int_equal(r.tsig.local, DNS_RC_BADSIG);
	netd_err_clear(&e);
	assert_int_equal(dns_update_check(&r, "127.0.0.1:5302", &zone, &e), NETD_EAUTH);
	assert_string_equal(e.msg, "server 127.0.0.1:5302 answered NOERROR for zone lab.example, "
				   "but the answer failed TSIG verification: BADSIG");
	/* an unsigned answer to a signed request */
	rl = make_answer(resp, sizeof resp, req, len, DNS_RC_NOERROR, NULL, mac, ml, t);
	assert_int_equal(dns_update_parse_response(resp, rl, 0x1234, &zone, &k, mac, ml, t, &r), 0);
	netd_err_clear(&e);
	assert_int_equal(dns_update_check(&r, "127.0.0.1:5302", &zone, &e), NETD_EAUTH);
	assert_non_null(strstr(e.msg, "it is not signed"));
}

static void test_update_check_table(void **state)
{
	(void)state;
	struct dns_name zone = nm("lab.example.");
	const struct {
		unsigned rcode;
		bool signed_req;
		uint16_t remote;
		int code;
		const char *msg;
	} cases[] = {
		{DNS_RC_NOTAUTH, true, DNS_RC_BADSIG, NETD_EAUTH,
		 "server 127.0.0.1:5302 refused the update for zone lab.example: NOTAUTH (TSIG BADSIG: wrong key?)"},
		{DNS_RC_NOTAUTH, true, DNS_RC_BADKEY, NETD_EAUTH, "NOTAUTH (TSIG BADKEY: the server does not know"},
		{DNS_RC_NOTAUTH, true, DNS_RC_BADTIME, NETD_EAUTH, "NOTAUTH (TSIG BADTIME: clocks differ"},
		{DNS_RC_NOTAUTH, false, 0, NETD_EPERM, "lab.example: NOTAUTH (not authorized"},
		{DNS_RC_REFUSED, false, 0, NETD_EPERM, "lab.example: REFUSED (not allowed"},
		{DNS_RC_FORMERR, false, 0, NETD_EINVAL, "FORMERR"},
		{DNS_RC_SERVFAIL, false, 0, -EIO, "SERVFAIL (the server failed"},
		{DNS_RC_NXDOMAIN, false, 0, NETD_ENOTFOUND, "NXDOMAIN (prerequisite failed"},
		{DNS_RC_NOTIMP, false, 0, NETD_EUNSUPPORTED, "NOTIMP"},
		{DNS_RC_YXDOMAIN, false, 0, NETD_EEXIST, "YXDOMAIN (prerequisite failed"},
		{DNS_RC_YXRRSET, false, 0, NETD_EEXIST, "YXRRSET"},
		{DNS_RC_NXRRSET, false, 0, NETD_ENOTFOUND, "NXRRSET"},
		{DNS_RC_NOTZONE, false, 0, NETD_EINVAL, "NOTZONE (a name is outside the zone)"},
		{13, false, 0, -EIO, "RCODE13"},
		{DNS_RC_NOERROR, false, 0, 0, ""},
	};
	for (size_t i = 0; i < N_ELEM(cases); i++) {
		struct dns_update_result r = {.rcode = cases[i].rcode, .signed_request = cases[i].signed_req};
		r.tsig.local = cases[i].remote ? DNS_RC_BADSIG : 0;
		r.tsig.remote = cases[i].remote;
		struct netd_err e = {0};
		int rc = dns_update_check(&r, "127.0.0.1:5302", &zone, &e);
		if (rc != cases[i].code || !strstr(e.msg, cases[i].msg))
			fail_msg("case %zu: %d \"%s\"", i, rc, e.msg);
	}
}

/* ---- servers ---------------------------------------------------------- */

static void test_server_parse(void **state)
{
	(void)state;
	const struct { const char *in; const char *text; } ok[] = {
		{"127.0.0.1", "127.0.0.1:53"},
		{"127.0.0.1:5302", "127.0.0.1:5302"},
		{"::1", "[::1]:53"},
		{"[::1]", "[::1]:53"},
		{"[fd00:0:10::1]:5301", "[fd00:0:10::1]:5301"},
	};
	for (size_t i = 0; i < N_ELEM(ok); i++) {
		struct dns_server s;
		assert_int_equal(dns_server_parse(ok[i].in, 53, &s, NULL), 0);
		assert_string_equal(s.text, ok[i].text);
	}
	const char *bad[] = {"", "localhost", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
			     "[::1", "[::1]x", "[::1]:99999", "1.2.3.4:53x"};
	for (size_t i = 0; i < N_ELEM(bad); i++) {
		struct dns_server s;
		struct netd_err e = {0};
		if (dns_server_parse(bad[i], 53, &s, &e) != NETD_EINVAL)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_non_null(strstr(e.msg, "expected ADDR"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_parse_ok),
		cmocka_unit_test(test_name_parse_errors),
		cmocka_unit_test(test_name_compare),
		cmocka_unit_test(test_name_reverse),
		cmocka_unit_test(test_name_wire),
		cmocka_unit_test(test_name_wire_too_long),
		cmocka_unit_test(test_name_compression_written),
		cmocka_unit_test(test_cursor_sticky),
		cmocka_unit_test(test_rr_roundtrip),
		cmocka_unit_test(test_rr_malformed),
		cmocka_unit_test(test_txt_rdata),
		cmocka_unit_test(test_names_of_codes),
		cmocka_unit_test(test_msg_parse_ok),
		cmocka_unit_test(test_msg_parse_bad),
		cmocka_unit_test(test_msg_parse_too_many),
		cmocka_unit_test(test_tsig_roundtrip),
		cmocka_unit_test(test_tsig_tamper),
		cmocka_unit_test(test_tsig_remote_error),
		cmocka_unit_test(test_tsig_key_parse),
		cmocka_unit_test(test_update_sections),
		cmocka_unit_test(test_update_budget),
		cmocka_unit_test(test_update_response),
		cmocka_unit_test(test_update_check_table),
		cmocka_unit_test(test_server_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
