/* dns/axfr.c — zone transfer (RFC 5936) over TCP with TSIG on every
 * message of the stream (RFC 8945 5.3.1), and the conversion of decoded
 * RRs into text records.  See verify.h.
 *
 * Overview.  One request (signed if a key is given) goes out on a fresh
 * TCP connection; the answer is a stream of length-prefixed messages that
 * starts with the zone's SOA and ends with the same SOA again.  Each
 * message is validated whole (dns_msg_iter), its answer RRs become text
 * records, and with a key its TSIG is checked:
 *
 *   message 1       dns_tsig_verify() over our request's MAC (tsig.c);
 *   later messages  a running HMAC: the prior MAC (u16 length + bytes),
 *                   every unsigned message since, in full, then this one
 *                   up to its TSIG RR (original ID, ARCOUNT - 1) and the
 *                   TSIG timers only (time signed, fudge).
 *
 * tsig.c does single messages only and keeps its MAC helpers private, so
 * the chained digest is computed here with OpenSSL's EVP_MAC directly.
 *
 * The socket is blocking-with-deadline like xfer.c's (poll before every
 * read or write); the deadline restarts for every message, so a large zone
 * is not cut by the per-message @timeout_ms.
 */
#include "dns/verify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/addr.h"

/* ---- records from the wire ------------------------------------------------ */

/* Lowercase absolute text of @n into @out (DNS_REC_NAME_MAX). */
static int name_text(const struct dns_name *n, char *out)
{
	struct dns_name l;
	dns_name_lower(n, &l);
	return dns_name_print(&l, out, DNS_REC_NAME_MAX) < 0 ? NETD_ETOOBIG : 0;
}

/* TXT character-strings, concatenated, into @out (DNS_REC_DATA_MAX). */
static int txt_text(const uint8_t *p, size_t len, char *out)
{
	size_t o = 0, i = 0;
	while (i < len) {
		size_t n = p[i++];
		if (n > len - i || o + n >= DNS_REC_DATA_MAX || memchr(p + i, '\0', n))
			return NETD_ETOOBIG;
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return 0;
}

int dns_rec_from_rr(const struct dns_rr *rr, struct dns_rec *out)
{
	struct dns_rec r = {.type = rr->type, .ttl = rr->ttl};
	struct addr a;
	int rc;
	if (rr->cls != DNS_C_IN || rr->no_rdata)
		return NETD_EUNSUPPORTED;
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		addr_from_bytes(&a, rr->type == DNS_T_A ? ADDR_V4 : ADDR_V6,
				rr->type == DNS_T_A ? rr->rd.a : rr->rd.aaaa);
		addr_print(&a, r.data, sizeof r.data);
		rc = 0;
		break;
	case DNS_T_CNAME:
	case DNS_T_PTR:
		rc = name_text(&rr->rd.target, r.data);
		break;
	case DNS_T_TXT:
		rc = txt_text(rr->rd.raw.data, rr->rd.raw.len, r.data);
		break;
	default:
		return NETD_EUNSUPPORTED;
	}
	if (rc == 0)
		rc = name_text(&rr->owner, r.owner);
	if (rc == 0)
		*out = r;
	return rc;
}

/* TCP with deadlines: dns_tcp_connect, dns_io_full, dns_wait_fd,
 * dns_now_ms (dns/xfer.h). */

/* ---- running HMAC for TSIG continuation --------------------------------------- */

struct hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

static const char *digest_name(enum dns_tsig_alg alg)
{
	switch (alg) {
	case DNS_TSIG_HMAC_SHA1: return "SHA1";
	case DNS_TSIG_HMAC_SHA512: return "SHA512";
	default: return "SHA256";
	}
}

static void hmac_free(struct hmac *h)
{
	EVP_MAC_CTX_free(h->ctx);
	EVP_MAC_free(h->mac);
	h->ctx = NULL;
	h->mac = NULL;
}

static int hmac_begin(struct hmac *h, const struct dns_tsig_key *key)
{
	hmac_free(h);
	h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	h->ctx = h->mac ? EVP_MAC_CTX_new(h->mac) : NULL;
	if (!h->ctx)
		return h->mac ? -ENOMEM : NETD_EUNSUPPORTED;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest_name(key->alg), 0),
		OSSL_PARAM_construct_end(),
	};
	return EVP_MAC_init(h->ctx, key->secret, key->secret_len, params) ? 0 : NETD_EUNSUPPORTED;
}

static int hmac_update(struct hmac *h, const void *p, size_t n)
{
	return n == 0 || EVP_MAC_update(h->ctx, p, n) ? 0 : NETD_EUNSUPPORTED;
}

/* ---- the transfer ------------------------------------------------------------- */

/* A TSIG RR as read from a message (pointers into it). */
struct tsig_rr {
	struct dns_name owner, alg;
	uint64_t time;
	uint16_t fudge, mac_len, orig_id, error;
	const uint8_t *mac;
};

struct axfr {
	const struct dns_server *srv;
	const char *zone_text;
	struct dns_name zone;
	const struct dns_tsig_key *key;
	struct netd_err *e;
	uint16_t id;
	/* TSIG chain: the last verified MAC and the digest running since. */
	uint8_t prior[DNS_TSIG_MAC_MAX];
	size_t prior_len;
	struct hmac run;
	unsigned unsigned_run;  /* messages since the last signed one */
	/* progress */
	bool started, done;
	struct dns_recset recs;
	size_t n_other;
	struct dns_axfr_stats st;
};

static int ax_err(struct axfr *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ax_err(struct axfr *x, int code, const char *fmt, ...)
{
	char why[NETD_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return netd_err_set(x->e, code, NULL, "AXFR of %.255s from %s: %s", x->zone_text, x->srv->text,
			    why);
}

static int read_tsig_rr(const uint8_t *msg, size_t len, size_t off, struct tsig_rr *t)
{
	struct dns_rd r;
	dns_rd_init(&r, msg, len);
	r.pos = off;
	dns_rd_name(&r, &t->owner);
	uint16_t type = dns_rd_u16(&r), cls = dns_rd_u16(&r);
	uint32_t ttl = dns_rd_u32(&r);
	size_t rdlen = dns_rd_u16(&r);
	size_t end = r.pos + rdlen;
	dns_rd_name(&r, &t->alg);
	t->time = dns_rd_u48(&r);
	t->fudge = dns_rd_u16(&r);
	t->mac_len = dns_rd_u16(&r);
	t->mac = dns_rd_take(&r, t->mac_len);
	t->orig_id = dns_rd_u16(&r);
	t->error = dns_rd_u16(&r);
	uint16_t other_len = dns_rd_u16(&r);
	(void)dns_rd_take(&r, other_len);
	if (r.err || r.pos != end || type != DNS_T_TSIG || cls != DNS_C_ANY || ttl != 0)
		return NETD_ECORRUPT;
	return 0;
}

/* The request: AXFR @zone IN, signed with the key if any (its MAC kept as
 * the first prior). */
static int build_request(struct axfr *x, uint8_t *buf, size_t cap, size_t *len)
{
	if (getrandom(&x->id, sizeof x->id, 0) != (ssize_t)sizeof x->id)
		x->id = (uint16_t)(dns_now_ms() ^ getpid());
	struct dns_wr w;
	struct dns_header h = {.id = x->id, .qdcount = 1};
	struct dns_question q = {.name = x->zone, .type = DNS_T_AXFR, .cls = DNS_C_IN};
	dns_wr_init(&w, buf, cap);
	dns_wr_header(&w, &h);
	dns_wr_question(&w, &q);
	if (w.err)
		return w.err;
	*len = w.pos;
	if (!x->key)
		return 0;
	return dns_tsig_sign(buf, len, cap, x->key, NULL, 0, (uint64_t)time(NULL), x->prior,
			     &x->prior_len);
}

/* Restart the running digest with @mac as the prior MAC. */
static int chain_restart(struct axfr *x, const uint8_t *mac, size_t mac_len)
{
	memcpy(x->prior, mac, mac_len);
	x->prior_len = mac_len;
	x->unsigned_run = 0;
	uint8_t pl[2] = {(uint8_t)(mac_len >> 8), (uint8_t)mac_len};
	int rc = hmac_begin(&x->run, x->key);
	if (rc == 0)
		rc = hmac_update(&x->run, pl, 2);
	if (rc == 0)
		rc = hmac_update(&x->run, mac, mac_len);
	return rc;
}

/* Finish the running digest over a signed message @msg whose TSIG RR @t
 * sits at @toff, and compare.  0 or a DNS_RC_BAD* value (as a positive
 * verdict), or a negative error. */
static int chain_verify(struct axfr *x, const uint8_t *msg, size_t toff, uint16_t arcount,
			const struct tsig_rr *t)
{
	struct dns_name an;
	(void)dns_name_parse(dns_tsig_alg_text(x->key->alg), 0, &an, NULL);
	size_t full = dns_tsig_mac_len(x->key->alg);
	if (!dns_name_eq(&t->owner, &x->key->name) || !dns_name_eq(&t->alg, &an))
		return DNS_RC_BADKEY;
	if (t->mac_len != full)
		return t->mac_len == 0 || t->mac_len > full ? DNS_RC_BADSIG : DNS_RC_BADTRUNC;
	uint8_t hdr[DNS_HEADER_LEN], timers[8], mac[DNS_TSIG_MAC_MAX];
	memcpy(hdr, msg, sizeof hdr);
	hdr[0] = (uint8_t)(t->orig_id >> 8);
	hdr[1] = (uint8_t)t->orig_id;
	hdr[10] = (uint8_t)((arcount - 1) >> 8);
	hdr[11] = (uint8_t)(arcount - 1);
	for (int i = 0; i < 6; i++)
		timers[i] = (uint8_t)(t->time >> (40 - 8 * i));
	timers[6] = (uint8_t)(t->fudge >> 8);
	timers[7] = (uint8_t)t->fudge;
	size_t ml = 0;
	int rc = hmac_update(&x->run, hdr, sizeof hdr);
	if (rc == 0)
		rc = hmac_update(&x->run, msg + DNS_HEADER_LEN, toff - DNS_HEADER_LEN);
	if (rc == 0)
		rc = hmac_update(&x->run, timers, sizeof timers);
	if (rc == 0 && !EVP_MAC_final(x->run.ctx, mac, &ml, sizeof mac))
		rc = NETD_EUNSUPPORTED;
	if (rc)
		return rc;
	if (ml != full || CRYPTO_memcmp(mac, t->mac, full) != 0)
		return DNS_RC_BADSIG;
	uint64_t now = (uint64_t)time(NULL);
	uint64_t fudge = t->fudge < DNS_TSIG_FUDGE ? t->fudge : DNS_TSIG_FUDGE;
	if ((now > t->time ? now - t->time : t->time - now) > fudge)
		return DNS_RC_BADTIME;
	return 0;
}

static const char *rc_name(unsigned rc, char *buf)
{
	return dns_rcode_name(rc, buf, 16);
}

/* The key's name as text, for messages. */
static const char *key_name(const struct axfr *x, char *buf)
{
	if (dns_name_print(&x->key->name, buf, DNS_NAME_STRLEN) < 0)
		snprintf(buf, DNS_NAME_STRLEN, "?");
	return buf;
}

/* TSIG of one message (the key is set).  @toff: offset of its TSIG RR, 0
 * if unsigned. */
static int check_tsig(struct axfr *x, const uint8_t *msg, size_t len, const struct dns_header *h,
		      size_t toff)
{
	char b[16], kn[DNS_NAME_STRLEN];
	if (toff == 0) {
		if (x->st.messages == 1)
			return ax_err(x, NETD_EAUTH, "the answer is not signed (TSIG with key %.255s "
				      "expected)", key_name(x, kn));
		if (++x->unsigned_run >= 100)
			return ax_err(x, NETD_EAUTH, "100 messages in a row without TSIG (RFC 8945 "
				      "5.3.1 allows 99)");
		int rc = hmac_update(&x->run, msg, len);
		return rc ? ax_err(x, rc, "HMAC (OpenSSL) failed") : 0;
	}
	struct tsig_rr t;
	if (read_tsig_rr(msg, len, toff, &t) != 0)
		return ax_err(x, NETD_ECORRUPT, "message %zu: malformed TSIG RR", x->st.messages);
	int verdict;
	if (x->st.messages == 1) {
		struct dns_tsig_status ts;
		int vrc = dns_tsig_verify(msg, len, x->key, x->prior, x->prior_len, (uint64_t)time(NULL),
					  &ts);
		if (vrc && vrc != NETD_EAUTH)
			return ax_err(x, vrc, "message 1: TSIG: %s", netd_strerror(vrc));
		verdict = ts.local;
	} else {
		verdict = chain_verify(x, msg, toff, h->arcount, &t);
		if (verdict < 0)
			return ax_err(x, verdict, "message %zu: TSIG: %s", x->st.messages,
				      netd_strerror(verdict));
	}
	if (verdict != 0)
		return ax_err(x, NETD_EAUTH, "message %zu: TSIG does not verify with key %.255s (%s)",
			      x->st.messages, key_name(x, kn), rc_name((unsigned)verdict, b));
	x->st.signed_++;
	int rc = chain_restart(x, t.mac, t.mac_len);
	return rc ? ax_err(x, rc, "HMAC (OpenSSL) failed: %s", netd_strerror(rc)) : 0;
}

/* One answer RR at @ref. */
static int take_rr(struct axfr *x, const uint8_t *msg, size_t len, const struct dns_msg_ref *ref,
		   bool last_in_answer)
{
	struct dns_rd r;
	struct dns_rr rr;
	dns_rd_init(&r, msg, len);
	r.pos = ref->off;
	dns_rd_rr(&r, &rr);
	if (r.err)
		return ax_err(x, NETD_ECORRUPT, "message %zu: RR does not decode", x->st.messages);
	if (++x->st.rrs > DNS_AXFR_RR_MAX)
		return ax_err(x, NETD_ETOOBIG, "more than %u RRs", DNS_AXFR_RR_MAX);
	if (!x->started) {
		if (rr.type != DNS_T_SOA || !dns_name_eq(&rr.owner, &x->zone))
			return ax_err(x, NETD_ECORRUPT, "the stream does not start with the zone's SOA");
		x->started = true;
		x->n_other++;
		return 0;
	}
	if (x->done)
		return ax_err(x, NETD_ECORRUPT, "RRs after the closing SOA");
	if (!dns_name_in_zone(&rr.owner, &x->zone))
		return ax_err(x, NETD_ECORRUPT, "message %zu: RR outside the zone", x->st.messages);
	if (rr.type == DNS_T_SOA && dns_name_eq(&rr.owner, &x->zone)) {
		x->done = true;  /* the closing SOA */
		return last_in_answer ? 0 : ax_err(x, NETD_ECORRUPT, "RRs after the closing SOA");
	}
	struct dns_rec rec;
	if (dns_rec_from_rr(&rr, &rec) != 0) {
		x->n_other++;
		return 0;
	}
	return dns_recset_add(&x->recs, &rec);
}

/* Map a non-NOERROR RCODE of the answer. */
static int rcode_error(struct axfr *x, unsigned rcode)
{
	char b[16];
	if (rcode == DNS_RC_REFUSED || rcode == DNS_RC_NOTAUTH)
		return ax_err(x, NETD_EPERM, "%s (transfer not allowed%s, or zone not served)",
			      rc_name(rcode, b), x->key ? " with this key" : " unsigned");
	return ax_err(x, -EIO, "%s", rc_name(rcode, b));
}

/* Validate one message of the stream and take its answer RRs. */
static int take_message(struct axfr *x, const uint8_t *msg, size_t len)
{
	struct dns_msg_iter it;
	struct dns_msg_ref ref;
	size_t toff = 0;
	x->st.messages++;
	x->st.bytes += len;
	if (dns_msg_iter_init(&it, msg, len) != 0)
		return ax_err(x, NETD_ECORRUPT, "message %zu does not parse", x->st.messages);
	struct dns_header h = it.hdr;
	unsigned rcode = DNS_F_RCODE(h.flags);
	if (h.id != x->id || !(h.flags & DNS_F_QR) || DNS_F_OPCODE(h.flags) != DNS_OP_QUERY)
		return ax_err(x, NETD_ECORRUPT, "message %zu: not an answer to our request",
			      x->st.messages);
	unsigned an_left = h.ancount;
	int rc;
	while ((rc = dns_msg_iter_next(&it, &ref)) == 1) {
		if (toff)
			return ax_err(x, NETD_ECORRUPT, "message %zu: RRs after the TSIG RR",
				      x->st.messages);
		if (ref.section == DNS_S_QD && (ref.type != DNS_T_AXFR || h.qdcount != 1))
			return ax_err(x, NETD_ECORRUPT, "message %zu: question is not ours", x->st.messages);
		if (ref.section == DNS_S_AN && rcode == DNS_RC_NOERROR) {
			rc = take_rr(x, msg, len, &ref, --an_left == 0);
			if (rc)
				return rc;
		}
		if (ref.section == DNS_S_AR && ref.type == DNS_T_TSIG)
			toff = ref.off;
	}
	if (rc)
		return ax_err(x, NETD_ECORRUPT, "message %zu does not parse", x->st.messages);
	if (toff) {  /* the server's own verdict on our request comes first */
		struct tsig_rr t;
		char b[16];
		if (read_tsig_rr(msg, len, toff, &t) == 0 && t.error != 0)
			return ax_err(x, NETD_EAUTH, "the server rejected our TSIG: %s%s",
				      rc_name(t.error, b), x->key ? "" : " (request unsigned)");
	}
	if (rcode != DNS_RC_NOERROR)
		return rcode_error(x, rcode);
	if (!x->started)
		return ax_err(x, NETD_ECORRUPT, "the first message has no SOA");
	return x->key ? check_tsig(x, msg, len, &h, toff) : 0;
}

/* Read messages until the closing SOA. */
static int read_stream(struct axfr *x, int fd, uint32_t timeout_ms, uint8_t *buf)
{
	while (!x->done) {
		int64_t deadline = dns_now_ms() + timeout_ms;
		uint8_t lb[2];
		int rc = dns_io_full(fd, false, lb, 2, deadline);
		size_t n = (size_t)(lb[0] << 8 | lb[1]);
		if (rc == 0 && n < DNS_HEADER_LEN)
			return ax_err(x, NETD_ECORRUPT, "message of %zu bytes", n);
		if (rc == 0)
			rc = dns_io_full(fd, false, buf, n, deadline);
		if (rc)
			return ax_err(x, rc, "after %zu messages: %s", x->st.messages,
				      rc == -ETIMEDOUT ? "no data in time" : netd_strerror(rc));
		rc = take_message(x, buf, n);
		if (rc)
			return rc;
	}
	if (x->key && x->unsigned_run > 0)
		return ax_err(x, NETD_EAUTH, "the last message is not signed");
	return 0;
}

/* Connect, ask, read the whole stream. */
static int transfer(struct axfr *x, uint32_t timeout_ms)
{
	uint8_t *buf = malloc(2 + DNS_MSG_MAX);
	int fd = -1, rc;
	size_t qlen = 0;
	if (!buf)
		return -ENOMEM;
	rc = build_request(x, buf + 2, DNS_MSG_MAX, &qlen);
	if (rc) {
		rc = ax_err(x, rc, "cannot build the request: %s", netd_strerror(rc));
		goto cleanup;
	}
	buf[0] = (uint8_t)(qlen >> 8);
	buf[1] = (uint8_t)qlen;
	int64_t deadline = dns_now_ms() + timeout_ms;
	rc = dns_tcp_connect(x->srv, deadline, &fd);
	if (rc == 0)
		rc = dns_io_full(fd, true, buf, qlen + 2, deadline);
	if (rc) {
		rc = ax_err(x, rc, "%s", rc == -ETIMEDOUT ? "no connection in time" : netd_strerror(rc));
		goto cleanup;
	}
	rc = read_stream(x, fd, timeout_ms, buf);
cleanup:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int dns_axfr(const struct dns_server *srv, const char *zone, const struct dns_tsig_key *key,
	     uint32_t timeout_ms, struct dns_recset *out, size_t *n_other,
	     struct dns_axfr_stats *st, struct netd_err *e)
{
	struct axfr x;
	memset(&x, 0, sizeof x);
	x.srv = srv;
	x.zone_text = zone ? zone : "";
	x.key = key;
	x.e = e;
	if (!zone || dns_name_parse(zone, 0, &x.zone, NULL) != 0)
		return ax_err(&x, NETD_EINVAL, "not a valid zone name");
	int rc = transfer(&x, timeout_ms ? timeout_ms : 1);
	if (rc == 0) {
		dns_recset_sort(&x.recs);
		rc = dns_recset_add_all(out, &x.recs);
	}
	if (rc == 0) {
		*n_other = x.n_other;
		if (st)
			*st = x.st;
	}
	hmac_free(&x.run);
	OPENSSL_cleanse(x.prior, sizeof x.prior);
	dns_recset_clear(&x.recs);
	return rc;
}
