/* Unit tests for core/codec.c: round trips, big-endian layout, sticky errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/codec.h"
#include "core/err.h"

static void test_ints_big_endian(void **state)
{
	(void)state;
	struct codec_w w;
	codec_w_init(&w);
	codec_put_u8(&w, 0x01);
	codec_put_u16(&w, 0x0203);
	codec_put_u32(&w, 0x04050607);
	codec_put_u64(&w, 0x08090a0b0c0d0e0full);
	static const uint8_t want[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, sizeof want);
	assert_memory_equal(w.buf, want, sizeof want);

	struct codec_r r;
	codec_r_init(&r, w.buf, w.len);
	assert_int_equal(codec_get_u8(&r), 0x01);
	assert_int_equal(codec_get_u16(&r), 0x0203);
	assert_int_equal(codec_get_u32(&r), 0x04050607);
	assert_true(codec_get_u64(&r) == 0x08090a0b0c0d0e0full);
	assert_int_equal(codec_remaining(&r), 0);
	assert_int_equal(r.err, 0);
	codec_w_free(&w);
	codec_w_free(&w);  /* a freed writer is fine to free again */
}

struct int_case {
	uint64_t v;
	int width;  /* bytes */
};

static const struct int_case int_cases[] = {
	{0, 1}, {0xff, 1}, {0, 2}, {0xffff, 2}, {0x8000, 2}, {0, 4}, {0xffffffffu, 4},
	{0x80000000u, 4}, {0, 8}, {UINT64_MAX, 8}, {0x8000000000000000ull, 8}, {1, 8},
};

static void test_int_roundtrip(void **state)
{
	(void)state;
	struct codec_w w;
	codec_w_init(&w);
	for (size_t i = 0; i < sizeof int_cases / sizeof int_cases[0]; i++) {
		const struct int_case *c = &int_cases[i];
		switch (c->width) {
		case 1: codec_put_u8(&w, (uint8_t)c->v); break;
		case 2: codec_put_u16(&w, (uint16_t)c->v); break;
		case 4: codec_put_u32(&w, (uint32_t)c->v); break;
		default: codec_put_u64(&w, c->v); break;
		}
	}
	assert_int_equal(w.err, 0);
	struct codec_r r;
	codec_r_init(&r, w.buf, w.len);
	for (size_t i = 0; i < sizeof int_cases / sizeof int_cases[0]; i++) {
		const struct int_case *c = &int_cases[i];
		uint64_t got;
		switch (c->width) {
		case 1: got = codec_get_u8(&r); break;
		case 2: got = codec_get_u16(&r); break;
		case 4: got = codec_get_u32(&r); break;
		default: got = codec_get_u64(&r); break;
		}
		if (got != c->v)
			fail_msg("case %zu: got %llx", i, (unsigned long long)got);
	}
	assert_int_equal(r.err, 0);
	assert_int_equal(codec_remaining(&r), 0);
	codec_w_free(&w);
}

static void test_strings_blobs(void **state)
{
	(void)state;
	struct codec_w w;
	codec_w_init(&w);
	codec_put_str(&w, "hello");
	codec_put_str(&w, "");
	codec_put_blob(&w, "\0\1\2", 3);
	codec_put_bytes(&w, "raw", 3);
	codec_put_str(&w, "dup me");
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 2 + 5 + 2 + 2 + 3 + 3 + 2 + 6);
	assert_memory_equal(w.buf, "\0\5hello", 7);

	struct codec_r r;
	codec_r_init(&r, w.buf, w.len);
	char s[16];
	codec_get_str(&r, s, sizeof s);
	assert_string_equal(s, "hello");
	codec_get_str(&r, s, sizeof s);
	assert_string_equal(s, "");
	uint8_t blob[8];
	assert_int_equal(codec_get_blob(&r, blob, sizeof blob), 3);
	assert_memory_equal(blob, "\0\1\2", 3);
	char raw[3];
	codec_get_bytes(&r, raw, 3);
	assert_memory_equal(raw, "raw", 3);
	char *d = codec_get_strdup(&r);
	assert_non_null(d);
	assert_string_equal(d, "dup me");
	free(d);
	assert_int_equal(r.err, 0);
	assert_int_equal(codec_remaining(&r), 0);
	codec_w_free(&w);
}

static void test_growth(void **state)
{
	(void)state;
	struct codec_w w;
	codec_w_init(&w);
	for (uint32_t i = 0; i < 100000; i++)
		codec_put_u32(&w, i);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 400000);
	assert_true(w.cap >= w.len && w.cap < 2 * w.len + 64);
	struct codec_r r;
	codec_r_init(&r, w.buf, w.len);
	for (uint32_t i = 0; i < 100000; i++)
		if (codec_get_u32(&r) != i)
			fail_msg("at %u", i);
	assert_int_equal(r.err, 0);
	codec_w_free(&w);
}

static void test_blob_too_big(void **state)
{
	(void)state;
	struct codec_w w;
	codec_w_init(&w);
	static uint8_t big[65536];
	codec_put_blob(&w, big, 65535);  /* the largest that fits */
	assert_int_equal(w.err, 0);
	size_t len = w.len;
	codec_put_blob(&w, big, 65536);
	assert_int_equal(w.err, -E2BIG);
	codec_put_u8(&w, 1);              /* sticky: nothing more is written */
	codec_put_str(&w, "x");
	assert_int_equal(w.len, len);
	assert_int_equal(w.err, -E2BIG);
	codec_w_free(&w);
}

struct short_case {
	const char *name;
	const uint8_t *data;
	size_t len;
	int what;  /* 1 u8, 2 u16, 4 u32, 8 u64, 's' str, 'b' blob, 'd' strdup */
};

static const struct short_case short_cases[] = {
	{"u8 of nothing", (const uint8_t *)"", 0, 1},
	{"u16 of 1", (const uint8_t *)"\1", 1, 2},
	{"u32 of 3", (const uint8_t *)"\1\2\3", 3, 4},
	{"u64 of 7", (const uint8_t *)"\1\2\3\4\5\6\7", 7, 8},
	{"str length past end", (const uint8_t *)"\0\5abc", 5, 's'},
	{"str missing length", (const uint8_t *)"\0", 1, 's'},
	{"str embedded NUL", (const uint8_t *)"\0\3a\0b", 5, 's'},
	{"str too long for out", (const uint8_t *)"\0\10abcdefgh", 10, 's'},
	{"blob past end", (const uint8_t *)"\0\4ab", 4, 'b'},
	{"blob too long for out", (const uint8_t *)"\0\11abcdefghi", 11, 'b'},
	{"strdup past end", (const uint8_t *)"\xff\xff", 2, 'd'},
	{"strdup embedded NUL", (const uint8_t *)"\0\2\0a", 4, 'd'},
};

static void test_short_input(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof short_cases / sizeof short_cases[0]; i++) {
		const struct short_case *c = &short_cases[i];
		struct codec_r r;
		codec_r_init(&r, c->data, c->len);
		uint64_t v = 0;
		char s[8] = "junk";
		uint8_t b[8];
		char *d = NULL;
		switch (c->what) {
		case 1: v = codec_get_u8(&r); break;
		case 2: v = codec_get_u16(&r); break;
		case 4: v = codec_get_u32(&r); break;
		case 8: v = codec_get_u64(&r); break;
		case 's': codec_get_str(&r, s, sizeof s); break;
		case 'b': v = codec_get_blob(&r, b, sizeof b); break;
		case 'd': d = codec_get_strdup(&r); break;
		}
		if (r.err != NETD_ECORRUPT)
			fail_msg("%s: err %d", c->name, r.err);
		assert_true(v == 0);
		assert_null(d);
		if (c->what == 's')
			assert_string_equal(s, "");
		/* Sticky: everything after reads as zero. */
		assert_int_equal(codec_get_u32(&r), 0);
		assert_int_equal(codec_remaining(&r), 0);
		assert_int_equal(r.err, NETD_ECORRUPT);
	}
}

static void test_sticky_reader(void **state)
{
	(void)state;
	static const uint8_t data[] = {0, 1, 0xaa, 0xbb, 0xcc};
	struct codec_r r;
	codec_r_init(&r, data, sizeof data);
	assert_int_equal(codec_get_u16(&r), 1);
	assert_int_equal(codec_get_u32(&r), 0);  /* only 3 bytes left */
	assert_int_equal(r.err, NETD_ECORRUPT);
	assert_int_equal(codec_get_u8(&r), 0);   /* would fit, but err is sticky */
	uint8_t out[2] = {9, 9};
	codec_get_bytes(&r, out, 2);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 0);

	/* An empty reader over NULL is valid until something is read. */
	codec_r_init(&r, NULL, 0);
	codec_get_bytes(&r, out, 0);
	assert_int_equal(r.err, 0);
	assert_int_equal(codec_remaining(&r), 0);
	codec_get_u8(&r);
	assert_int_equal(r.err, NETD_ECORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ints_big_endian),
		cmocka_unit_test(test_int_roundtrip),
		cmocka_unit_test(test_strings_blobs),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_blob_too_big),
		cmocka_unit_test(test_short_input),
		cmocka_unit_test(test_sticky_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
