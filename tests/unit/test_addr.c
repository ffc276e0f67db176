/* Unit tests for core/addr.c: parse/print tables, arithmetic, prefixes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/err.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static struct addr A(const char *s)
{
	struct addr a;
	if (addr_parse(s, &a) != 0)
		fail_msg("test setup: cannot parse %s", s);
	return a;
}

static struct prefix P(const char *s)
{
	struct prefix p;
	if (prefix_parse(s, true, &p) != 0)
		fail_msg("test setup: cannot parse %s", s);
	return p;
}

/* ---- parse and print -------------------------------------------------- */

struct parse_case {
	const char *in;
	int rc;
	const char *out;  /* canonical text when rc == 0 */
};

static const struct parse_case parse_cases[] = {
	/* v4 */
	{"0.0.0.0", 0, "0.0.0.0"},
	{"255.255.255.255", 0, "255.255.255.255"},
	{"192.0.2.1", 0, "192.0.2.1"},
	{"10.0.100.9", 0, "10.0.100.9"},
	{"256.0.0.0", NETD_EINVAL, NULL},
	{"1.2.3.256", NETD_EINVAL, NULL},
	{"1.2.3", NETD_EINVAL, NULL},
	{"1.2.3.4.5", NETD_EINVAL, NULL},
	{" 1.2.3.4", NETD_EINVAL, NULL},
	{"1.2.3.4 ", NETD_EINVAL, NULL},
	{"1.2.3.4\n", NETD_EINVAL, NULL},
	{"01.2.3.4", NETD_EINVAL, NULL},
	{"1.2.3.00", NETD_EINVAL, NULL},
	{"1.2.3.0400", NETD_EINVAL, NULL},
	{"1..3.4", NETD_EINVAL, NULL},
	{"1.2.3.", NETD_EINVAL, NULL},
	{".1.2.3", NETD_EINVAL, NULL},
	{"1.2.3.4/24", NETD_EINVAL, NULL},
	{"0x1.2.3.4", NETD_EINVAL, NULL},
	{"1.2.3.-4", NETD_EINVAL, NULL},
	{"+1.2.3.4", NETD_EINVAL, NULL},
	{"", NETD_EINVAL, NULL},
	{"abc", NETD_EINVAL, NULL},
	/* v6, RFC 5952 section 4 */
	{"2001:db8::1", 0, "2001:db8::1"},
	{"2001:db8:0:0:1:0:0:1", 0, "2001:db8::1:0:0:1"},
	{"2001:0:0:1:0:0:0:1", 0, "2001:0:0:1::1"},
	{"2001:db8:0:0:0::1", 0, "2001:db8::1"},
	{"2001:db8:0:0::1", 0, "2001:db8::1"},
	{"2001:db8::0:1", 0, "2001:db8::1"},
	{"2001:db8::1:0:0:1", 0, "2001:db8::1:0:0:1"},
	{"2001:0db8::0001", 0, "2001:db8::1"},
	{"2001:DB8::AbCd", 0, "2001:db8::abcd"},
	{"2001:db8:0:1:1:1:1:1", 0, "2001:db8:0:1:1:1:1:1"},
	{"2001:db8::aaaa:0:0:1", 0, "2001:db8::aaaa:0:0:1"},
	{"2001:db8:0:0:aaaa::1", 0, "2001:db8::aaaa:0:0:1"},
	{"1:0:0:2:0:0:0:3", 0, "1:0:0:2::3"},
	{"1:0:0:0:2:0:0:3", 0, "1::2:0:0:3"},
	{"::", 0, "::"},
	{"0:0:0:0:0:0:0:0", 0, "::"},
	{"::1", 0, "::1"},
	{"1::", 0, "1::"},
	{"1:0:0:0:0:0:0:0", 0, "1::"},
	{"0:1:0:0:0:0:0:0", 0, "0:1::"},
	{"1:2:3:4:5:6:7::", 0, "1:2:3:4:5:6:7:0"},
	{"::2:3:4:5:6:7:8", 0, "0:2:3:4:5:6:7:8"},
	{"1:2:3:4:5:6:7:8", 0, "1:2:3:4:5:6:7:8"},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	{"fe80::1", 0, "fe80::1"},
	/* embedded v4 */
	{"::ffff:1.2.3.4", 0, "::ffff:1.2.3.4"},
	{"::ffff:0102:0304", 0, "::ffff:1.2.3.4"},
	{"0:0:0:0:0:ffff:192.0.2.1", 0, "::ffff:192.0.2.1"},
	{"::ffff:0:0", 0, "::ffff:0.0.0.0"},
	{"64:ff9b::1.2.3.4", 0, "64:ff9b::102:304"},
	{"::1.2.3.4", 0, "::102:304"},
	{"1:2:3:4:5:6:1.2.3.4", 0, "1:2:3:4:5:6:102:304"},
	{"::ffff:1.2.3", NETD_EINVAL, NULL},
	{"::ffff:1.2.3.4.5", NETD_EINVAL, NULL},
	{"::ffff:01.2.3.4", NETD_EINVAL, NULL},
	{"::ffff:256.2.3.4", NETD_EINVAL, NULL},
	{"::1.2.3.4:5", NETD_EINVAL, NULL},
	{"1:2:3:4:5:6:7:1.2.3.4", NETD_EINVAL, NULL},
	{"::1a.2.3.4", NETD_EINVAL, NULL},
	/* bad v6 */
	{":::", NETD_EINVAL, NULL},
	{"1:::2", NETD_EINVAL, NULL},
	{"::1::", NETD_EINVAL, NULL},
	{"1::2::3", NETD_EINVAL, NULL},
	{":1::2", NETD_EINVAL, NULL},
	{"1::2:", NETD_EINVAL, NULL},
	{"1:2:3:4:5:6:7", NETD_EINVAL, NULL},
	{"1:2:3:4:5:6:7:8:9", NETD_EINVAL, NULL},
	{"1:2:3:4:5:6:7:8::", NETD_EINVAL, NULL},
	{"::1:2:3:4:5:6:7:8", NETD_EINVAL, NULL},
	{"1:2:3:4::5:6:7:8", NETD_EINVAL, NULL},
	{"12345::1", NETD_EINVAL, NULL},
	{"2001:db8::g", NETD_EINVAL, NULL},
	{"fe80::1%eth0", NETD_EINVAL, NULL},
	{"[::1]", NETD_EINVAL, NULL},
	{" ::1", NETD_EINVAL, NULL},
	{"::1 ", NETD_EINVAL, NULL},
	{":", NETD_EINVAL, NULL},
	{"::/0", NETD_EINVAL, NULL},
};

static void test_parse_print(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct addr a = {.family = 99};
		int rc = addr_parse(c->in, &a);
		if (rc != c->rc)
			fail_msg("addr_parse(\"%s\") = %d, want %d", c->in, rc, c->rc);
		if (rc != 0) {
			assert_int_equal(a.family, 99);  /* untouched on failure */
			continue;
		}
		char buf[ADDR_STRLEN];
		addr_print(&a, buf, sizeof buf);
		if (strcmp(buf, c->out) != 0)
			fail_msg("print(parse(\"%s\")) = \"%s\", want \"%s\"", c->in, buf, c->out);
		/* The canonical form parses back to the same address. */
		struct addr b;
		assert_int_equal(addr_parse(buf, &b), 0);
		assert_true(addr_eq(&a, &b));
	}
}

static void test_parse_family(void **state)
{
	(void)state;
	struct addr a;
	assert_int_equal(addr_parse_family("1.2.3.4", ADDR_V4, &a), 0);
	assert_int_equal(a.family, ADDR_V4);
	assert_int_equal(addr_parse_family("1.2.3.4", ADDR_V6, &a), NETD_EINVAL);
	assert_int_equal(addr_parse_family("::1", ADDR_V4, &a), NETD_EINVAL);
	assert_int_equal(addr_parse_family("::1", ADDR_V6, &a), 0);
	assert_int_equal(addr_parse_family("::1", 0, &a), NETD_EINVAL);
	assert_int_equal(addr_parse(NULL, &a), NETD_EINVAL);
}

static void test_v4_bytes(void **state)
{
	(void)state;
	struct addr a = A("192.0.2.10");
	static const uint8_t want[16] = {192, 0, 2, 10};
	assert_int_equal(a.family, ADDR_V4);
	assert_memory_equal(a.b, want, 16);
	assert_int_equal(addr_len(&a), 4);

	struct addr b;
	addr_from_bytes(&b, ADDR_V4, "\xc0\x00\x02\x0a");
	assert_true(addr_eq(&a, &b));
	addr_from_bytes(&b, ADDR_V6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01");
	struct addr c = A("2001:db8::1");
	assert_true(addr_eq(&b, &c));
}

static void test_print_short_buffer(void **state)
{
	(void)state;
	struct addr a = A("2001:db8::1");
	char buf[5];
	assert_string_equal(addr_print(&a, buf, sizeof buf), "2001");
	struct addr unset = {0};
	char b2[ADDR_STRLEN];
	assert_string_equal(addr_print(&unset, b2, sizeof b2), "?");

	/* The longest forms fit ADDR_STRLEN. */
	struct addr m = A("::ffff:255.255.255.255");
	assert_true(strlen(addr_print(&m, b2, sizeof b2)) < ADDR_STRLEN);
	struct prefix p = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	char pb[PREFIX_STRLEN];
	assert_string_equal(prefix_print(&p, pb, sizeof pb), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

/* ---- compare ---------------------------------------------------------- */

static void test_cmp(void **state)
{
	(void)state;
	struct addr a = A("10.0.0.1"), b = A("10.0.0.2"), c = A("::1"), d = A("255.255.255.255");
	assert_true(addr_cmp(&a, &b) < 0);
	assert_true(addr_cmp(&b, &a) > 0);
	assert_int_equal(addr_cmp(&a, &a), 0);
	assert_true(addr_cmp(&d, &c) < 0);  /* v4 before v6 */
	assert_true(addr_cmp(&c, &d) > 0);
	assert_true(addr_eq(&a, &a));
	assert_false(addr_eq(&a, &b));
	struct addr z4 = A("0.0.0.0"), z6 = A("::");
	assert_true(addr_is_zero(&z4));
	assert_true(addr_is_zero(&z6));
	assert_false(addr_is_zero(&c));
	assert_false(addr_eq(&z4, &z6));
}

/* ---- arithmetic ------------------------------------------------------- */

struct arith_case {
	const char *in;
	int op;  /* '+' or '-' */
	uint64_t n;
	int rc;
	const char *out;  /* NULL: unchanged */
};

static const struct arith_case arith_cases[] = {
	{"10.0.0.1", '+', 1, 0, "10.0.0.2"},
	{"10.0.0.255", '+', 1, 0, "10.0.1.0"},
	{"10.255.255.255", '+', 1, 0, "11.0.0.0"},
	{"255.255.255.254", '+', 1, 0, "255.255.255.255"},
	{"255.255.255.255", '+', 1, -ERANGE, NULL},
	{"255.255.255.255", '+', 0, 0, "255.255.255.255"},
	{"0.0.0.0", '+', UINT32_MAX, 0, "255.255.255.255"},
	{"0.0.0.1", '+', UINT32_MAX, -ERANGE, NULL},
	{"0.0.0.0", '+', (uint64_t)UINT32_MAX + 1, -ERANGE, NULL},
	{"1.2.3.4", '+', UINT64_MAX, -ERANGE, NULL},
	{"0.0.0.0", '-', 1, -ERANGE, NULL},
	{"0.0.0.1", '-', 1, 0, "0.0.0.0"},
	{"10.0.1.0", '-', 1, 0, "10.0.0.255"},
	{"255.255.255.255", '-', UINT32_MAX, 0, "0.0.0.0"},
	{"255.255.255.255", '-', (uint64_t)UINT32_MAX + 1, -ERANGE, NULL},
	{"::", '+', 1, 0, "::1"},
	{"::ffff", '+', 1, 0, "::1:0"},
	{"::ffff:ffff:ffff:ffff", '+', 1, 0, "0:0:0:1::"},
	{"::", '+', UINT64_MAX, 0, "::ffff:ffff:ffff:ffff"},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", '+', 1, 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", '+', 1, -ERANGE, NULL},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:0", '+', UINT64_MAX, -ERANGE, NULL},
	{"::", '-', 1, -ERANGE, NULL},
	{"::1", '-', 2, -ERANGE, NULL},
	{"0:0:0:1::", '-', 1, 0, "::ffff:ffff:ffff:ffff"},
	{"2001:db8::", '-', 1, 0, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"},
};

static void test_arith(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(arith_cases); i++) {
		const struct arith_case *c = &arith_cases[i];
		struct addr a = A(c->in), orig = a;
		int rc = c->op == '+' ? addr_add(&a, c->n) : addr_sub(&a, c->n);
		if (rc != c->rc)
			fail_msg("%s %c %llu: rc %d, want %d", c->in, c->op, (unsigned long long)c->n, rc, c->rc);
		struct addr want = c->out ? A(c->out) : orig;
		if (!addr_eq(&a, &want)) {
			char got[ADDR_STRLEN];
			fail_msg("%s %c %llu = %s", c->in, c->op, (unsigned long long)c->n,
				 addr_print(&a, got, sizeof got));
		}
	}
	struct addr a = A("1.2.3.4");
	assert_int_equal(addr_inc(&a), 0);
	assert_int_equal(addr_dec(&a), 0);
	assert_int_equal(addr_dec(&a), 0);
	struct addr want = A("1.2.3.3");
	assert_true(addr_eq(&a, &want));
	struct addr unset = {0};
	assert_int_equal(addr_add(&unset, 1), NETD_EINVAL);
}

struct range_case {
	const char *first, *last;
	uint64_t size;
	const char *dec;
};

static const struct range_case range_cases[] = {
	{"10.0.0.1", "10.0.0.1", 1, "1"},
	{"10.0.0.0", "10.0.0.255", 256, "256"},
	{"0.0.0.0", "255.255.255.255", 4294967296ull, "4294967296"},
	{"10.0.0.2", "10.0.0.1", 0, "0"},
	{"10.0.0.1", "::1", 0, "0"},
	{"::", "::ffff", 65536, "65536"},
	{"::", "::ffff:ffff:ffff:fffe", UINT64_MAX, "18446744073709551615"},
	{"::", "::ffff:ffff:ffff:ffff", UINT64_MAX, "18446744073709551616"},
	{"2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", UINT64_MAX, "18446744073709551616"},
	{"2001:db8::", "2001:db8:0:ffff:ffff:ffff:ffff:ffff", UINT64_MAX, "1208925819614629174706176"},
	{"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", UINT64_MAX,
	 "340282366920938463463374607431768211456"},
	{"::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", UINT64_MAX,
	 "340282366920938463463374607431768211455"},
	{"::", "::9", 10, "10"},
	{"::", "::63", 100, "100"},
};

static void test_range_size(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(range_cases); i++) {
		const struct range_case *c = &range_cases[i];
		struct addr f = A(c->first), l = A(c->last);
		char buf[ADDR_DECIMAL_MAX];
		if (addr_range_size(&f, &l) != c->size)
			fail_msg("size(%s, %s) = %llu", c->first, c->last,
				 (unsigned long long)addr_range_size(&f, &l));
		addr_range_size_dec(&f, &l, buf, sizeof buf);
		if (strcmp(buf, c->dec) != 0)
			fail_msg("size_dec(%s, %s) = %s, want %s", c->first, c->last, buf, c->dec);
	}
}

/* ---- prefixes --------------------------------------------------------- */

struct prefix_case {
	const char *in;
	int rc_strict, rc_loose;
	const char *out;  /* canonical, loose parse */
};

static const struct prefix_case prefix_cases[] = {
	{"10.0.0.0/8", 0, 0, "10.0.0.0/8"},
	{"10.1.2.3/8", NETD_EINVAL, 0, "10.0.0.0/8"},
	{"0.0.0.0/0", 0, 0, "0.0.0.0/0"},
	{"1.2.3.4/0", NETD_EINVAL, 0, "0.0.0.0/0"},
	{"1.2.3.4/32", 0, 0, "1.2.3.4/32"},
	{"192.168.1.128/25", 0, 0, "192.168.1.128/25"},
	{"192.168.1.129/25", NETD_EINVAL, 0, "192.168.1.128/25"},
	{"192.168.1.0/23", NETD_EINVAL, 0, "192.168.0.0/23"},
	{"1.2.3.4/33", NETD_EINVAL, NETD_EINVAL, NULL},
	{"1.2.3.4/032", NETD_EINVAL, NETD_EINVAL, NULL},
	{"1.2.3.0/024", NETD_EINVAL, NETD_EINVAL, NULL},
	{"1.2.3.0/", NETD_EINVAL, NETD_EINVAL, NULL},
	{"/24", NETD_EINVAL, NETD_EINVAL, NULL},
	{"1.2.3.0", NETD_EINVAL, NETD_EINVAL, NULL},
	{"1.2.3.0/24/", NETD_EINVAL, NETD_EINVAL, NULL},
	{"1.2.3.0/24 ", NETD_EINVAL, NETD_EINVAL, NULL},
	{"1.2.3.0/+24", NETD_EINVAL, NETD_EINVAL, NULL},
	{"1.2.3.0/-1", NETD_EINVAL, NETD_EINVAL, NULL},
	{"1.2.3.0/1000", NETD_EINVAL, NETD_EINVAL, NULL},
	{"01.2.3.0/24", NETD_EINVAL, NETD_EINVAL, NULL},
	{"::/0", 0, 0, "::/0"},
	{"::/00", NETD_EINVAL, NETD_EINVAL, NULL},
	{"::1/128", 0, 0, "::1/128"},
	{"::1/129", NETD_EINVAL, NETD_EINVAL, NULL},
	{"2001:db8::/32", 0, 0, "2001:db8::/32"},
	{"2001:db8::1/32", NETD_EINVAL, 0, "2001:db8::/32"},
	{"2001:db8:1234::/33", NETD_EINVAL, 0, "2001:db8::/33"},
	{"2001:db8:8000::/33", 0, 0, "2001:db8:8000::/33"},
	{"fe80::1%eth0/64", NETD_EINVAL, NETD_EINVAL, NULL},
	{"::ffff:10.0.0.0/104", 0, 0, "::ffff:10.0.0.0/104"},
	{"2001:0db8:0000:0000:0000:0000:0000:0000:0000/64", NETD_EINVAL, NETD_EINVAL, NULL},
};

static void test_prefix_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(prefix_cases); i++) {
		const struct prefix_case *c = &prefix_cases[i];
		struct prefix p = {.len = 200};
		int rc = prefix_parse(c->in, true, &p);
		if (rc != c->rc_strict)
			fail_msg("prefix_parse(\"%s\", strict) = %d, want %d", c->in, rc, c->rc_strict);
		if (rc != 0)
			assert_int_equal(p.len, 200);
		rc = prefix_parse(c->in, false, &p);
		if (rc != c->rc_loose)
			fail_msg("prefix_parse(\"%s\", loose) = %d, want %d", c->in, rc, c->rc_loose);
		if (rc != 0)
			continue;
		char buf[PREFIX_STRLEN];
		prefix_print(&p, buf, sizeof buf);
		if (strcmp(buf, c->out) != 0)
			fail_msg("prefix_print(\"%s\") = %s, want %s", c->in, buf, c->out);
	}
}

static void test_prefix_make(void **state)
{
	(void)state;
	struct addr a = A("10.1.2.3");
	struct prefix p;
	assert_int_equal(prefix_make(&a, 16, &p), 0);
	struct prefix want = P("10.1.0.0/16");
	assert_true(addr_eq(&p.a, &want.a));
	assert_int_equal(p.len, 16);
	p.len = 99;
	assert_int_equal(prefix_make(&a, 33, &p), NETD_EINVAL);
	assert_int_equal(p.len, 99);
	struct addr b = A("2001:db8::1");
	assert_int_equal(prefix_make(&b, 128, &p), 0);
	assert_true(addr_eq(&p.a, &b));
	assert_int_equal(prefix_make(&b, 129, &p), NETD_EINVAL);
	struct addr unset = {0};
	assert_int_equal(prefix_make(&unset, 0, &p), NETD_EINVAL);
}

struct contains_case {
	const char *prefix, *addr;
	bool in;
};

static const struct contains_case contains_cases[] = {
	{"10.0.0.0/8", "10.0.0.0", true},
	{"10.0.0.0/8", "10.255.255.255", true},
	{"10.0.0.0/8", "11.0.0.0", false},
	{"10.0.0.0/8", "9.255.255.255", false},
	{"0.0.0.0/0", "255.255.255.255", true},
	{"0.0.0.0/0", "::", false},
	{"1.2.3.4/32", "1.2.3.4", true},
	{"1.2.3.4/32", "1.2.3.5", false},
	{"192.168.1.128/25", "192.168.1.127", false},
	{"192.168.1.128/25", "192.168.1.200", true},
	{"2001:db8::/32", "2001:db8:ffff::1", true},
	{"2001:db8::/32", "2001:db9::", false},
	{"::/0", "::1", true},
	{"::/0", "1.2.3.4", false},
	{"2001:db8::/127", "2001:db8::1", true},
	{"2001:db8::/127", "2001:db8::2", false},
};

static void test_prefix_contains(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(contains_cases); i++) {
		const struct contains_case *c = &contains_cases[i];
		struct prefix p = P(c->prefix);
		struct addr a = A(c->addr);
		if (prefix_contains(&p, &a) != c->in)
			fail_msg("contains(%s, %s) != %d", c->prefix, c->addr, c->in);
	}
}

struct overlap_case {
	const char *p, *q;
	bool overlap;
};

static const struct overlap_case overlap_cases[] = {
	{"10.0.0.0/8", "10.1.0.0/16", true},
	{"10.1.0.0/16", "10.0.0.0/8", true},
	{"10.0.0.0/16", "10.1.0.0/16", false},
	{"10.0.0.0/24", "10.0.0.0/24", true},
	{"0.0.0.0/0", "1.2.3.4/32", true},
	{"10.0.0.0/25", "10.0.0.128/25", false},
	{"2001:db8::/32", "2001:db8:1::/48", true},
	{"2001:db8::/48", "2001:db8:1::/48", false},
	{"::/0", "0.0.0.0/0", false},
};

static void test_prefix_overlaps(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(overlap_cases); i++) {
		const struct overlap_case *c = &overlap_cases[i];
		struct prefix p = P(c->p), q = P(c->q);
		if (prefix_overlaps(&p, &q) != c->overlap)
			fail_msg("overlaps(%s, %s) != %d", c->p, c->q, c->overlap);
	}
}

struct bounds_case {
	const char *prefix, *first, *last;
};

static const struct bounds_case bounds_cases[] = {
	{"10.0.0.0/8", "10.0.0.0", "10.255.255.255"},
	{"192.168.1.128/25", "192.168.1.128", "192.168.1.255"},
	{"192.168.0.0/23", "192.168.0.0", "192.168.1.255"},
	{"1.2.3.4/32", "1.2.3.4", "1.2.3.4"},
	{"0.0.0.0/0", "0.0.0.0", "255.255.255.255"},
	{"2001:db8::/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff"},
	{"2001:db8::/33", "2001:db8::", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff"},
	{"::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	{"::1/128", "::1", "::1"},
};

static void test_prefix_bounds(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(bounds_cases); i++) {
		const struct bounds_case *c = &bounds_cases[i];
		struct prefix p = P(c->prefix);
		struct addr f, l, wf = A(c->first), wl = A(c->last);
		prefix_first(&p, &f);
		prefix_last(&p, &l);
		if (!addr_eq(&f, &wf) || !addr_eq(&l, &wl))
			fail_msg("bounds of %s wrong", c->prefix);
	}
	/* The whole v6 space has exactly 2^128 addresses. */
	struct prefix all = P("::/0");
	struct addr f, l;
	char buf[ADDR_DECIMAL_MAX];
	prefix_first(&all, &f);
	prefix_last(&all, &l);
	assert_string_equal(addr_range_size_dec(&f, &l, buf, sizeof buf),
			    "340282366920938463463374607431768211456");
}

struct host_case {
	const char *addr;
	unsigned len;
	const char *host;
};

static const struct host_case host_cases[] = {
	{"10.1.2.3", 8, "0.1.2.3"},
	{"10.1.2.3", 24, "0.0.0.3"},
	{"10.1.2.3", 0, "10.1.2.3"},
	{"10.1.2.3", 32, "0.0.0.0"},
	{"192.168.1.200", 25, "0.0.0.72"},
	{"192.168.1.200", 23, "0.0.1.200"},
	{"2001:db8::abcd:1", 64, "::abcd:1"},
	{"2001:db8:ffff:2:3:4:5:6", 36, "::fff:2:3:4:5:6"},
	{"2001:db8::1", 128, "::"},
};

static void test_host_part(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(host_cases); i++) {
		const struct host_case *c = &host_cases[i];
		struct addr a = A(c->addr), h, want = A(c->host);
		addr_host_part(&a, c->len, &h);
		if (!addr_eq(&h, &want)) {
			char buf[ADDR_STRLEN];
			fail_msg("host(%s/%u) = %s, want %s", c->addr, c->len,
				 addr_print(&h, buf, sizeof buf), c->host);
		}
	}
}

struct with_host_case {
	const char *prefix, *host;
	int rc;
	const char *out;
};

static const struct with_host_case with_host_cases[] = {
	{"10.0.0.0/8", "0.1.2.3", 0, "10.1.2.3"},
	{"10.0.0.0/8", "1.1.2.3", NETD_EINVAL, NULL},
	{"192.168.1.128/25", "0.0.0.72", 0, "192.168.1.200"},
	{"192.168.1.128/25", "0.0.0.128", NETD_EINVAL, NULL},
	{"10.0.0.0/32", "0.0.0.0", 0, "10.0.0.0"},
	{"10.0.0.0/32", "0.0.0.1", NETD_EINVAL, NULL},
	{"0.0.0.0/0", "1.2.3.4", 0, "1.2.3.4"},
	{"2001:db8:1:2::/64", "::abcd:1", 0, "2001:db8:1:2::abcd:1"},
	{"2001:db8:1:2::/64", "0:0:0:1::", NETD_EINVAL, NULL},
	{"2001:db8::/64", "0.0.0.1", NETD_EINVAL, NULL},
};

static void test_prefix_with_host(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(with_host_cases); i++) {
		const struct with_host_case *c = &with_host_cases[i];
		struct prefix p = P(c->prefix);
		struct addr h = A(c->host), out = {.family = 99};
		int rc = prefix_with_host(&p, &h, &out);
		if (rc != c->rc)
			fail_msg("with_host(%s, %s) = %d, want %d", c->prefix, c->host, rc, c->rc);
		if (rc != 0) {
			assert_int_equal(out.family, 99);
			continue;
		}
		struct addr want = A(c->out);
		assert_true(addr_eq(&out, &want));
	}
	/* host_part and with_host invert each other. */
	struct prefix p = P("172.16.0.0/12");
	struct addr a = A("172.20.30.40"), h, back;
	addr_host_part(&a, p.len, &h);
	assert_int_equal(prefix_with_host(&p, &h, &back), 0);
	assert_true(addr_eq(&a, &back));
}

/* ---- err.c helpers live here too: same library, no separate test ------ */

static void test_err(void **state)
{
	(void)state;
	assert_string_equal(netd_strerror(0), "success");
	assert_string_equal(netd_strerror(NETD_EINVAL), "invalid value");
	for (int c = NETD_EINVAL; c >= NETD_EUNSUPPORTED; c--)
		assert_non_null(netd_strerror(c));
	assert_string_equal(netd_strerror(-ENOENT), "No such file or directory");
	assert_non_null(netd_strerror(-99999));
	assert_non_null(netd_strerror(NETD_E_BASE));
	assert_non_null(netd_strerror(1));

	struct netd_err e;
	netd_err_clear(&e);
	assert_int_equal(netd_err_set(&e, NETD_EINVAL, "/a", "bad %d", 7), NETD_EINVAL);
	assert_int_equal(netd_err_set(&e, NETD_EEXIST, "/b", "second"), NETD_EEXIST);
	assert_int_equal(e.code, NETD_EINVAL);  /* first error wins */
	assert_string_equal(e.path, "/a");
	assert_string_equal(e.msg, "bad 7");
	netd_err_clear(&e);
	assert_int_equal(netd_err_set(&e, NETD_ENOTFOUND, NULL, "x"), NETD_ENOTFOUND);
	assert_string_equal(e.path, "");
	assert_int_equal(netd_err_set(NULL, -EIO, NULL, "x"), -EIO);
	netd_err_clear(NULL);

	char buf[32];
	assert_string_equal(netd_path_key("admin", buf, sizeof buf), "'admin'");
	assert_string_equal(netd_path_key("it's", buf, sizeof buf), "\"it's\"");
	assert_string_equal(netd_path_key("say \"hi\"", buf, sizeof buf), "'say \"hi\"'");
	assert_string_equal(netd_path_key("a'b\"c", buf, sizeof buf), "\"a'b\\\"c\"");
	assert_string_equal(netd_path_key("", buf, sizeof buf), "''");
	assert_string_equal(netd_path_key(NULL, buf, sizeof buf), "''");
	assert_string_equal(netd_path_key("abcdef", buf, 6), "'abc'");
	assert_string_equal(netd_path_key("'\"", buf, 5), "\"'\"");  /* escape not cut */
	assert_string_equal(netd_path_key("abc", buf, 2), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_print),
		cmocka_unit_test(test_parse_family),
		cmocka_unit_test(test_v4_bytes),
		cmocka_unit_test(test_print_short_buffer),
		cmocka_unit_test(test_cmp),
		cmocka_unit_test(test_arith),
		cmocka_unit_test(test_range_size),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_make),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_prefix_overlaps),
		cmocka_unit_test(test_prefix_bounds),
		cmocka_unit_test(test_host_part),
		cmocka_unit_test(test_prefix_with_host),
		cmocka_unit_test(test_err),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
