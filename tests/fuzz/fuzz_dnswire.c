/* Fuzz target for dns/wire.c (and the TSIG/UPDATE readers on top).
 *
 * The input is used as:
 *  - a whole DNS message: dns_msg_parse(); whatever parses must decode
 *    entry by entry, and every RR must re-encode without error and decode
 *    back equal (dns_rr_eq, same TTL); the whole message rebuilt with our
 *    encoder (compression included) must parse again with the same
 *    counts and types;
 *  - a name at an offset chosen by the first byte: dns_rd_name(); a name
 *    read must be consistent and survive print -> parse unchanged;
 *  - text for dns_name_parse(): whatever parses must print and parse back
 *    to the same bytes;
 *  - a signed message / UPDATE answer for dns_tsig_verify() and
 *    dns_update_parse_response() with a fixed key (no crash, no overread).
 * A violated property abort()s, which libFuzzer and the replay build both
 * report as a failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/tsig.h"
#include "dns/update.h"
#include "dns/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_dnswire: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static struct dns_msg msg, again;
static uint8_t out[DNS_MSG_MAX];

static void check_rr_roundtrip(const struct dns_rr *rr)
{
	uint8_t buf[DNS_MSG_MAX];
	struct dns_wr w;
	dns_wr_init(&w, buf, sizeof buf);
	dns_wr_rr(&w, rr);
	CHECK(w.err == 0);
	struct dns_rd r;
	struct dns_rr back;
	dns_rd_init(&r, buf, w.pos);
	dns_rd_rr(&r, &back);
	CHECK(r.err == 0);
	CHECK(dns_rd_left(&r) == 0);
	CHECK(dns_rr_eq(rr, &back));
	CHECK(back.ttl == rr->ttl);
}

static void check_message(const uint8_t *data, size_t size)
{
	if (dns_msg_parse(&msg, data, size) != 0)
		return;
	struct dns_wr w;
	dns_wr_init(&w, out, sizeof out);
	dns_wr_header(&w, &msg.hdr);
	for (unsigned i = 0; i < msg.n; i++) {
		struct dns_rr rr;
		CHECK(dns_msg_rr(&msg, i, &rr) == 0);
		CHECK(dns_name_check(&rr.owner) == 0);
		CHECK(rr.type == msg.ref[i].type && rr.cls == msg.ref[i].cls);
		if (msg.ref[i].section == DNS_S_QD) {
			struct dns_question q = {.name = rr.owner, .type = rr.type, .cls = rr.cls};
			dns_wr_question(&w, &q);
		} else {
			check_rr_roundtrip(&rr);
			dns_wr_rr(&w, &rr);
		}
	}
	/* our compression table is bounded, so a message that leaned on
	 * compression heavily may not fit again; anything else must */
	CHECK(w.err == 0 || w.err == NETD_ETOOBIG);
	if (w.err)
		return;
	CHECK(dns_msg_parse(&again, out, w.pos) == 0);
	CHECK(again.n == msg.n);
	for (unsigned i = 0; i < msg.n; i++)
		CHECK(again.ref[i].type == msg.ref[i].type && again.ref[i].section == msg.ref[i].section);
}

static void check_name_at(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	struct dns_rd r;
	dns_rd_init(&r, data, size);
	r.pos = data[0] % size;
	struct dns_name n;
	dns_rd_name(&r, &n);
	if (r.err)
		return;
	CHECK(r.pos <= size);
	CHECK(dns_name_check(&n) == 0);
	char text[DNS_NAME_STRLEN];
	int tl = dns_name_print(&n, text, sizeof text);
	CHECK(tl > 0 && (size_t)tl < sizeof text);
	struct dns_name back;
	CHECK(dns_name_parse(text, 0, &back, NULL) == 0);
	CHECK(back.len == n.len && memcmp(back.w, n.w, n.len) == 0);
}

static void check_name_text(const uint8_t *data, size_t size)
{
	char text[1100];
	size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	struct dns_name a, b;
	struct netd_err e = {0};
	unsigned flags = size > 0 && (data[0] & 1) ? DNS_NAME_HOST : 0;
	if (dns_name_parse(text, flags, &a, &e) != 0) {
		CHECK(e.code == NETD_EINVAL && e.msg[0] != '\0');
		return;
	}
	CHECK(dns_name_check(&a) == 0);
	char printed[DNS_NAME_STRLEN];
	CHECK(dns_name_print(&a, printed, sizeof printed) > 0);
	CHECK(dns_name_parse(printed, 0, &b, NULL) == 0);
	CHECK(a.len == b.len && memcmp(a.w, b.w, a.len) == 0);
}

static void check_tsig(const uint8_t *data, size_t size)
{
	static struct dns_tsig_key key;
	static int ready;
	if (!ready) {
		static const uint8_t secret[32] = {1, 2, 3, 4, 5, 6, 7, 8};
		CHECK(dns_tsig_key_set(&key, "ddns-key", DNS_TSIG_HMAC_SHA256, secret,
				       sizeof secret, NULL) == 0);
		ready = 1;
	}
	struct dns_tsig_status st;
	int rc = dns_tsig_verify(data, size, &key, NULL, 0, 1700000000, &st);
	CHECK(rc == 0 || rc == NETD_EAUTH || rc == NETD_ECORRUPT);
	if (size < DNS_HEADER_LEN)
		return;
	struct dns_name zone;
	CHECK(dns_name_parse("lab.example.", 0, &zone, NULL) == 0);
	struct dns_update_result res;
	uint16_t id = (uint16_t)(data[0] << 8 | data[1]);
	uint8_t mac[32] = {0};
	if (dns_update_parse_response(data, size, id, &zone, &key, mac, sizeof mac, 1700000000,
				      &res) == 0) {
		struct netd_err e = {0};
		(void)dns_update_check(&res, "127.0.0.1:53", &zone, &e);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > DNS_MSG_MAX)
		return 0;
	check_message(data, size);
	check_name_at(data, size);
	check_name_text(data, size);
	check_tsig(data, size);
	return 0;
}
