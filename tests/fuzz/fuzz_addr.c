/* Fuzz target for core/addr.c.
 *
 * The input is treated two ways:
 *  - as text for addr_parse / prefix_parse: whatever parses must print and
 *    parse back to the same value, and the printed form must be a fixed
 *    point (print(parse(print(x))) == print(x));
 *  - as raw bytes for an address (family from the first byte): printing any
 *    16 bytes must give text that parses back to them.
 * On top, arithmetic and prefix helpers are checked against their inverses.
 * Any violated property abort()s, which both libFuzzer and the replay build
 * report as a failure.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"

#define TEXT_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                     \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz_addr: %s:%d: %s\n", __FILE__, __LINE__,   \
				#cond);                                                      \
			abort();                                                         \
		}                                                                    \
	} while (0)

static unsigned bits_of(const struct addr *a)
{
	return (unsigned)addr_len(a) * 8;
}

static uint64_t take_u64(const uint8_t *data, size_t size)
{
	uint64_t v = 0;
	for (size_t i = 0; i < size && i < 8; i++)
		v = v << 8 | data[i];
	return v;
}

/* print -> parse gives the same address, and printing is a fixed point. */
static void check_print_roundtrip(const struct addr *a)
{
	char t1[128], t2[128];
	struct addr b;
	addr_print(a, t1, sizeof t1);
	CHECK(strlen(t1) < ADDR_STRLEN);  /* the documented size suffices */
	CHECK(addr_parse(t1, &b) == 0);
	CHECK(addr_eq(a, &b));
	CHECK(addr_parse_family(t1, a->family, &b) == 0);
	CHECK(addr_eq(a, &b));
	addr_print(&b, t2, sizeof t2);
	CHECK(strcmp(t1, t2) == 0);
}

static void check_arith(const struct addr *a, uint64_t n)
{
	struct addr x = *a;
	if (addr_add(&x, n) == 0) {
		CHECK(addr_cmp(&x, a) >= 0);
		if (n < UINT64_MAX)
			CHECK(addr_range_size(a, &x) == n + 1);
		struct addr y = x;
		CHECK(addr_sub(&y, n) == 0);
		CHECK(addr_eq(&y, a));
		check_print_roundtrip(&x);
	} else {
		CHECK(addr_eq(&x, a));  /* unchanged on overflow */
	}
	x = *a;
	if (addr_sub(&x, n) == 0) {
		CHECK(addr_cmp(&x, a) <= 0);
		struct addr y = x;
		CHECK(addr_add(&y, n) == 0);
		CHECK(addr_eq(&y, a));
	} else {
		CHECK(addr_eq(&x, a));
	}
	char dec[ADDR_DECIMAL_MAX];
	addr_range_size_dec(a, a, dec, sizeof dec);
	CHECK(strcmp(dec, "1") == 0);
}

static void check_prefix(const struct prefix *p)
{
	char t[128];
	struct prefix q;
	prefix_print(p, t, sizeof t);
	CHECK(strlen(t) < PREFIX_STRLEN);
	CHECK(prefix_parse(t, true, &q) == 0);
	CHECK(addr_eq(&p->a, &q.a) && p->len == q.len);

	struct addr first, last;
	prefix_first(p, &first);
	prefix_last(p, &last);
	CHECK(addr_eq(&first, &p->a));
	CHECK(addr_cmp(&first, &last) <= 0);
	CHECK(prefix_contains(p, &first) && prefix_contains(p, &last));
	CHECK(prefix_overlaps(p, p));
	unsigned host_bits = bits_of(&p->a) - p->len;
	uint64_t size = addr_range_size(&first, &last);
	CHECK(host_bits >= 64 ? size == UINT64_MAX : size == (uint64_t)1 << host_bits);
	char dec[ADDR_DECIMAL_MAX];
	addr_range_size_dec(&first, &last, dec, sizeof dec);
	CHECK(dec[0] >= '1' && dec[0] <= '9');

	/* host part and prefix_with_host invert each other. */
	struct addr h, back;
	addr_host_part(&last, p->len, &h);
	CHECK(prefix_with_host(p, &h, &back) == 0);
	CHECK(addr_eq(&back, &last));
	struct prefix m;
	CHECK(prefix_make(&last, p->len, &m) == 0);
	CHECK(addr_eq(&m.a, &p->a) && m.len == p->len);
}

static void fuzz_text(const char *s, uint64_t n)
{
	struct addr a;
	if (addr_parse(s, &a) == 0) {
		CHECK(a.family == ADDR_V4 || a.family == ADDR_V6);
		check_print_roundtrip(&a);
		check_arith(&a, n);
		struct addr b;
		CHECK(addr_parse_family(s, a.family, &b) == 0 && addr_eq(&a, &b));
		CHECK(addr_parse_family(s, a.family == ADDR_V4 ? ADDR_V6 : ADDR_V4, &b) != 0);
	}

	struct prefix strict, loose;
	int rs = prefix_parse(s, true, &strict);
	int rl = prefix_parse(s, false, &loose);
	if (rs == 0) {
		CHECK(rl == 0);
		CHECK(addr_eq(&strict.a, &loose.a) && strict.len == loose.len);
		check_prefix(&strict);
	}
	if (rl == 0)
		check_prefix(&loose);
}

static void fuzz_bytes(const uint8_t *data, size_t size)
{
	if (size < 17)
		return;
	struct addr a;
	addr_from_bytes(&a, (data[0] & 1) ? ADDR_V6 : ADDR_V4, data + 1);
	check_print_roundtrip(&a);
	check_arith(&a, take_u64(data + 17, size - 17));
	struct prefix p;
	unsigned len = size > 25 ? data[25] % (bits_of(&a) + 1) : bits_of(&a);
	CHECK(prefix_make(&a, len, &p) == 0);
	CHECK(prefix_contains(&p, &a));
	check_prefix(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TEXT_MAX + 1];
	size_t n = size < TEXT_MAX ? size : TEXT_MAX;
	memcpy(text, data, n);
	text[n] = '\0';

	/* Bytes after the text's NUL (if any) pick the arithmetic operand. */
	size_t tl = strlen(text);
	uint64_t operand = tl + 1 < size ? take_u64(data + tl + 1, size - tl - 1) : tl;
	fuzz_text(text, operand);
	fuzz_bytes(data, size);
	return 0;
}
