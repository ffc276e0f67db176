/* dns/tsig.c — TSIG (RFC 8945) with OpenSSL 3's EVP_MAC HMAC; key parsing
 * for BIND key statements and "[alg:]name:base64".  See tsig.h.
 *
 * The digest input is assembled piecewise (EVP_MAC_update) so the message
 * is never copied: [prior MAC (u16 length + bytes)] + header with the
 * original ID and ARCOUNT without the TSIG RR + the rest of the message up
 * to the TSIG RR + the TSIG variables (key name and algorithm name in
 * canonical form, class ANY, TTL 0, time, fudge, error, other data).
 */
#include "dns/tsig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

struct alg_info {
	const char *name;    /* algorithm name, as text and as the TSIG name */
	const char *digest;  /* OpenSSL digest name */
	size_t mac_len;
};

static const struct alg_info algs[] = {
	[DNS_TSIG_HMAC_SHA256] = {"hmac-sha256", "SHA256", 32},
	[DNS_TSIG_HMAC_SHA1] = {"hmac-sha1", "SHA1", 20},
	[DNS_TSIG_HMAC_SHA512] = {"hmac-sha512", "SHA512", 64},
};

#define NALGS (sizeof algs / sizeof algs[0])

int dns_tsig_alg_parse(const char *text, enum dns_tsig_alg *out)
{
	size_t n = strlen(text);
	if (n > 0 && text[n - 1] == '.')
		n--;
	for (size_t i = 0; i < NALGS; i++) {
		if (strlen(algs[i].name) == n && strncasecmp(algs[i].name, text, n) == 0) {
			*out = (enum dns_tsig_alg)i;
			return 0;
		}
	}
	return NETD_EUNSUPPORTED;
}

const char *dns_tsig_alg_text(enum dns_tsig_alg alg)
{
	return (size_t)alg < NALGS ? algs[alg].name : "?";
}

size_t dns_tsig_mac_len(enum dns_tsig_alg alg)
{
	return (size_t)alg < NALGS ? algs[alg].mac_len : 0;
}

static void alg_name(enum dns_tsig_alg alg, struct dns_name *out)
{
	(void)dns_name_parse(algs[alg].name, 0, out, NULL);  /* constant, valid */
}

/* ---- keys ------------------------------------------------------------- */

int dns_tsig_key_set(struct dns_tsig_key *key, const char *name, enum dns_tsig_alg alg,
		     const void *secret, size_t len, struct netd_err *e)
{
	struct dns_name n;
	int rc = dns_name_parse(name, 0, &n, e);
	if (rc)
		return rc;
	if (n.len == 1)
		return netd_err_set(e, NETD_EINVAL, NULL, "TSIG key name must not be the root");
	if ((size_t)alg >= NALGS)
		return netd_err_set(e, NETD_EUNSUPPORTED, NULL, "TSIG key \"%s\": unknown algorithm",
				    name);
	if (len == 0 || len > DNS_TSIG_SECRET_MAX)
		return netd_err_set(e, NETD_EINVAL, NULL,
				    "TSIG key \"%s\": secret is %zu bytes, must be 1 to %u", name, len,
				    DNS_TSIG_SECRET_MAX);
	key->name = n;
	key->alg = alg;
	key->secret_len = len;
	memcpy(key->secret, secret, len);
	return 0;
}

void dns_tsig_key_clear(struct dns_tsig_key *key)
{
	if (key)
		OPENSSL_cleanse(key, sizeof *key);
}

static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (whitespace ignored, '=' only as final padding).  Returns
 * the decoded length or -1. */
static long b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	unsigned bits = 0, pad = 0, chars = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isspace(c))
			continue;
		if (c == '=') {
			pad++;
			chars++;
			continue;
		}
		int v = b64_val(c);
		if (v < 0 || pad)
			return -1;
		chars++;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (chars % 4 != 0 || pad > 2 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (long)o;
}

static int key_from_parts(struct dns_tsig_key *key, const char *name, const char *alg,
			  const char *b64, size_t b64len, struct netd_err *e)
{
	enum dns_tsig_alg a;
	if (dns_tsig_alg_parse(alg, &a) != 0)
		return netd_err_set(e, NETD_EUNSUPPORTED, NULL,
				    "TSIG key \"%s\": algorithm \"%s\" is not supported "
				    "(hmac-sha256, hmac-sha1, hmac-sha512)", name, alg);
	uint8_t secret[DNS_TSIG_SECRET_MAX];
	long n = b64_decode(b64, b64len, secret, sizeof secret);
	if (n <= 0)
		return netd_err_set(e, NETD_EINVAL, NULL,
				    "TSIG key \"%s\": secret is not valid base64 (or empty, or over "
				    "%u bytes)", name, DNS_TSIG_SECRET_MAX);
	int rc = dns_tsig_key_set(key, name, a, secret, (size_t)n, e);
	OPENSSL_cleanse(secret, sizeof secret);
	return rc;
}

/* A tiny tokenizer for BIND configuration text. */
struct tok {
	const char *s;
	char text[512];
	bool quoted;
};

static void skip_space(struct tok *t)
{
	for (;;) {
		while (isspace((unsigned char)*t->s))
			t->s++;
		if (*t->s == '#' || (t->s[0] == '/' && t->s[1] == '/')) {
			while (*t->s && *t->s != '\n')
				t->s++;
		} else if (t->s[0] == '/' && t->s[1] == '*') {
			const char *end = strstr(t->s + 2, "*/");
			t->s = end ? end + 2 : t->s + strlen(t->s);
		} else {
			return;
		}
	}
}

/* Next token into t->text: a quoted string, one of { } ; or a word.
 * Returns false at the end of text or for an unterminated/overlong one. */
static bool next_tok(struct tok *t)
{
	skip_space(t);
	t->quoted = false;
	size_t n = 0;
	if (*t->s == '\0')
		return false;
	if (*t->s == '"') {
		const char *end = strchr(t->s + 1, '"');
		if (!end || (size_t)(end - t->s - 1) >= sizeof t->text)
			return false;
		n = (size_t)(end - t->s - 1);
		memcpy(t->text, t->s + 1, n);
		t->s = end + 1;
		t->quoted = true;
	} else if (strchr("{};", *t->s)) {
		t->text[n++] = *t->s++;
	} else {
		while (*t->s && !isspace((unsigned char)*t->s) && !strchr("{};\"", *t->s)) {
			if (n + 1 >= sizeof t->text)
				return false;
			t->text[n++] = *t->s++;
		}
	}
	t->text[n] = '\0';
	return true;
}

/* Copy a token's text into a smaller field (cut to fit). */
static void tok_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool tok_is(const struct tok *t, const char *want)
{
	return !t->quoted && strcmp(t->text, want) == 0;
}

#define BIND_ERR(e, ...) netd_err_set((e), NETD_EINVAL, NULL, "TSIG key file: " __VA_ARGS__)

int dns_tsig_key_parse_bind(const char *text, struct dns_tsig_key *key, struct netd_err *e)
{
	struct tok t = {.s = text};
	char name[256], alg[64] = "", secret[512] = "";
	if (!next_tok(&t) || !tok_is(&t, "key"))
		return BIND_ERR(e, "expected a 'key' statement");
	if (!next_tok(&t) || t.text[0] == '\0' || (!t.quoted && strchr("{};", t.text[0])))
		return BIND_ERR(e, "expected the key name after 'key'");
	tok_copy(name, sizeof name, t.text);
	if (!next_tok(&t) || !tok_is(&t, "{"))
		return BIND_ERR(e, "key \"%s\": expected '{'", name);
	for (;;) {
		if (!next_tok(&t))
			return BIND_ERR(e, "key \"%s\": missing '};'", name);
		if (tok_is(&t, "}"))
			break;
		char clause[32];
		tok_copy(clause, sizeof clause, t.text);
		bool is_alg = tok_is(&t, "algorithm"), is_secret = tok_is(&t, "secret");
		if (!is_alg && !is_secret)
			return BIND_ERR(e, "key \"%s\": unknown clause '%s' (algorithm, secret)", name,
					clause);
		if (!next_tok(&t))
			return BIND_ERR(e, "key \"%s\": '%s' needs a value", name, clause);
		tok_copy(is_alg ? alg : secret, is_alg ? sizeof alg : sizeof secret, t.text);
		if (!next_tok(&t) || !tok_is(&t, ";"))
			return BIND_ERR(e, "key \"%s\": expected ';' after %s", name, clause);
	}
	if (!next_tok(&t) || !tok_is(&t, ";"))
		return BIND_ERR(e, "key \"%s\": expected ';' after '}'", name);
	if (!alg[0])
		return BIND_ERR(e, "key \"%s\": no algorithm", name);
	if (!secret[0])
		return BIND_ERR(e, "key \"%s\": no secret", name);
	int rc = key_from_parts(key, name, alg, secret, strlen(secret), e);
	OPENSSL_cleanse(secret, sizeof secret);
	return rc;
}

int dns_tsig_key_parse_spec(const char *spec, struct dns_tsig_key *key, struct netd_err *e)
{
	const char *c1 = strchr(spec, ':'), *c2 = strrchr(spec, ':');
	if (!c1)
		return netd_err_set(e, NETD_EINVAL, NULL,
				    "TSIG key: expected [algorithm:]name:secret");
	char alg[64] = "hmac-sha256", name[256];
	const char *name_start = spec;
	if (c1 != c2) {
		if ((size_t)(c1 - spec) >= sizeof alg)
			return netd_err_set(e, NETD_EUNSUPPORTED, NULL, "TSIG key: algorithm too long");
		memcpy(alg, spec, (size_t)(c1 - spec));
		alg[c1 - spec] = '\0';
		name_start = c1 + 1;
	}
	size_t nl = (size_t)(c2 - name_start);
	if (nl == 0 || nl >= sizeof name)
		return netd_err_set(e, NETD_EINVAL, NULL, "TSIG key: empty or overlong name");
	memcpy(name, name_start, nl);
	name[nl] = '\0';
	const char *b64 = c2 + 1;
	size_t bl = strlen(b64);
	while (bl > 0 && isspace((unsigned char)b64[bl - 1]))
		bl--;
	return key_from_parts(key, name, alg, b64, bl, e);
}

int dns_tsig_key_load(const char *path, struct dns_tsig_key *key, struct netd_err *e)
{
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return netd_err_set(e, -errno, NULL, "TSIG key file %s: %s", path, strerror(errno));
	size_t n = 0;
	ssize_t got;
	while (n < sizeof buf - 1 && (got = read(fd, buf + n, sizeof buf - 1 - n)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			close(fd);
			return netd_err_set(e, -err, NULL, "TSIG key file %s: %s", path, strerror(err));
		}
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	struct tok t = {.s = buf};
	skip_space(&t);
	int rc = strncmp(t.s, "key", 3) == 0 && (isspace((unsigned char)t.s[3]) || t.s[3] == '"')
			 ? dns_tsig_key_parse_bind(buf, key, e)
			 : dns_tsig_key_parse_spec(t.s, key, e);
	OPENSSL_cleanse(buf, n);
	return rc;
}

/* ---- MAC -------------------------------------------------------------- */

struct hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

static int hmac_begin(struct hmac *h, const struct dns_tsig_key *key)
{
	h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	h->ctx = h->mac ? EVP_MAC_CTX_new(h->mac) : NULL;
	if (!h->ctx)
		return h->mac ? -ENOMEM : NETD_EUNSUPPORTED;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)algs[key->alg].digest, 0),
		OSSL_PARAM_construct_end(),
	};
	if (!EVP_MAC_init(h->ctx, key->secret, key->secret_len, params))
		return NETD_EUNSUPPORTED;
	return 0;
}

static int hmac_update(struct hmac *h, const void *p, size_t n)
{
	return n == 0 || EVP_MAC_update(h->ctx, p, n) ? 0 : NETD_EUNSUPPORTED;
}

static int hmac_end(struct hmac *h, uint8_t *out, size_t *out_len)
{
	size_t n = 0;
	int rc = 0;
	if (out && !EVP_MAC_final(h->ctx, out, &n, DNS_TSIG_MAC_MAX))
		rc = NETD_EUNSUPPORTED;
	EVP_MAC_CTX_free(h->ctx);
	EVP_MAC_free(h->mac);
	h->ctx = NULL;
	h->mac = NULL;
	if (out_len)
		*out_len = n;
	return rc;
}

/* The fields of a TSIG RR that enter the digest. */
struct tsig_vars {
	const struct dns_name *key_name;
	const struct dns_name *alg_name;
	uint64_t time;
	uint16_t fudge, error, other_len;
	const uint8_t *other;
};

/* MAC over [prior] + @msg[0..body_end) with @id/@arcount put into its
 * header + the TSIG variables. */
static int tsig_mac(const struct dns_tsig_key *key, const uint8_t *prior, size_t prior_len,
		    const uint8_t *msg, size_t body_end, uint16_t id, uint16_t arcount,
		    const struct tsig_vars *v, uint8_t *out, size_t *out_len)
{
	uint8_t hdr[DNS_HEADER_LEN], vars[2 * DNS_NAME_MAX + 32];
	struct dns_name kn, an;
	struct dns_wr w;
	memcpy(hdr, msg, DNS_HEADER_LEN);
	hdr[0] = (uint8_t)(id >> 8);
	hdr[1] = (uint8_t)id;
	hdr[10] = (uint8_t)(arcount >> 8);
	hdr[11] = (uint8_t)arcount;
	dns_name_lower(v->key_name, &kn);
	dns_name_lower(v->alg_name, &an);
	dns_wr_init(&w, vars, sizeof vars);
	dns_wr_name(&w, &kn);
	dns_wr_u16(&w, DNS_C_ANY);
	dns_wr_u32(&w, 0);
	dns_wr_name(&w, &an);
	dns_wr_u48(&w, v->time);
	dns_wr_u16(&w, v->fudge);
	dns_wr_u16(&w, v->error);
	dns_wr_u16(&w, v->other_len);
	if (w.err)
		return w.err;
	struct hmac h;
	int rc = hmac_begin(&h, key);
	if (rc == 0 && prior) {
		uint8_t pl[2] = {(uint8_t)(prior_len >> 8), (uint8_t)prior_len};
		rc = hmac_update(&h, pl, 2);
		if (rc == 0)
			rc = hmac_update(&h, prior, prior_len);
	}
	if (rc == 0)
		rc = hmac_update(&h, hdr, sizeof hdr);
	if (rc == 0)
		rc = hmac_update(&h, msg + DNS_HEADER_LEN, body_end - DNS_HEADER_LEN);
	if (rc == 0)
		rc = hmac_update(&h, vars, w.pos);
	if (rc == 0)
		rc = hmac_update(&h, v->other, v->other_len);
	int rc2 = hmac_end(&h, rc == 0 ? out : NULL, out_len);
	return rc ? rc : rc2;
}

size_t dns_tsig_rr_size(const struct dns_tsig_key *key)
{
	struct dns_name an;
	alg_name(key->alg, &an);
	/* owner + type/class/ttl/rdlen + alg + time/fudge/macsize + MAC +
	 * original id/error/other len */
	return key->name.len + 10u + an.len + 10u + dns_tsig_mac_len(key->alg) + 6u;
}

int dns_tsig_sign(uint8_t *msg, size_t *len, size_t cap, const struct dns_tsig_key *key,
		  const uint8_t *prior, size_t prior_len, uint64_t now,
		  uint8_t *mac_out, size_t *mac_len)
{
	if (*len < DNS_HEADER_LEN)
		return NETD_ECORRUPT;
	if (cap > DNS_MSG_MAX)
		cap = DNS_MSG_MAX;
	uint16_t id = (uint16_t)(msg[0] << 8 | msg[1]);
	uint16_t arcount = (uint16_t)(msg[10] << 8 | msg[11]);
	if (*len + dns_tsig_rr_size(key) > cap || arcount == 0xffff)
		return NETD_ETOOBIG;
	struct dns_name an;
	alg_name(key->alg, &an);
	struct tsig_vars v = {.key_name = &key->name, .alg_name = &an, .time = now,
			      .fudge = DNS_TSIG_FUDGE};
	uint8_t mac[DNS_TSIG_MAC_MAX];
	size_t ml = 0;
	int rc = tsig_mac(key, prior, prior_len, msg, *len, id, arcount, &v, mac, &ml);
	if (rc)
		return rc;
	struct dns_wr w;
	dns_wr_init(&w, msg, cap);
	w.pos = *len;
	dns_wr_name(&w, &key->name);
	dns_wr_u16(&w, DNS_T_TSIG);
	dns_wr_u16(&w, DNS_C_ANY);
	dns_wr_u32(&w, 0);
	size_t rdlen_at = w.pos;
	dns_wr_u16(&w, 0);
	dns_wr_name(&w, &an);
	dns_wr_u48(&w, now);
	dns_wr_u16(&w, DNS_TSIG_FUDGE);
	dns_wr_u16(&w, (uint16_t)ml);
	dns_wr_bytes(&w, mac, ml);
	dns_wr_u16(&w, id);
	dns_wr_u16(&w, 0);  /* error */
	dns_wr_u16(&w, 0);  /* other len */
	dns_wr_patch_u16(&w, rdlen_at, (uint16_t)(w.pos - rdlen_at - 2));
	if (w.err)
		return w.err;  /* not reached: the size was checked above */
	msg[10] = (uint8_t)((arcount + 1) >> 8);
	msg[11] = (uint8_t)(arcount + 1);
	*len = w.pos;
	if (mac_out)
		memcpy(mac_out, mac, ml);
	if (mac_len)
		*mac_len = ml;
	return 0;
}

/* The TSIG RR as read from a message. */
struct tsig_rr {
	struct dns_name owner, alg;
	uint64_t time;
	uint16_t fudge, mac_len, orig_id, error, other_len;
	const uint8_t *mac, *other;
};

static int read_tsig_rr(const uint8_t *msg, size_t len, size_t off, struct tsig_rr *t)
{
	struct dns_rd r;
	dns_rd_init(&r, msg, len);
	r.pos = off;
	dns_rd_name(&r, &t->owner);
	uint16_t type = dns_rd_u16(&r), cls = dns_rd_u16(&r);
	uint32_t ttl = dns_rd_u32(&r);
	uint16_t rdlen = dns_rd_u16(&r);
	size_t end = r.pos + rdlen;
	dns_rd_name(&r, &t->alg);
	t->time = dns_rd_u48(&r);
	t->fudge = dns_rd_u16(&r);
	t->mac_len = dns_rd_u16(&r);
	t->mac = dns_rd_take(&r, t->mac_len);
	t->orig_id = dns_rd_u16(&r);
	t->error = dns_rd_u16(&r);
	t->other_len = dns_rd_u16(&r);
	t->other = dns_rd_take(&r, t->other_len);
	if (r.err || r.pos != end || type != DNS_T_TSIG || cls != DNS_C_ANY || ttl != 0)
		return NETD_ECORRUPT;
	return 0;
}

/* Validate the whole message and find the TSIG RR: it must be the last
 * RR, in the additional section, and the only one.  Returns 0 with its
 * offset in *off (0 if there is none), or NETD_ECORRUPT. */
static int find_tsig(const uint8_t *msg, size_t len, struct dns_header *hdr, size_t *off)
{
	struct dns_msg_iter it;
	struct dns_msg_ref ref, last = {0};
	bool seen = false, any = false;
	int rc = dns_msg_iter_init(&it, msg, len);
	if (rc)
		return rc;
	while ((rc = dns_msg_iter_next(&it, &ref)) == 1) {
		if (seen)
			return NETD_ECORRUPT;  /* something after the TSIG RR */
		if (ref.type == DNS_T_TSIG && ref.section != DNS_S_QD) {
			if (ref.section != DNS_S_AR)
				return NETD_ECORRUPT;
			seen = true;
		}
		last = ref;
		any = true;
	}
	if (rc)
		return rc;
	*hdr = it.hdr;
	*off = seen && any ? last.off : 0;
	return 0;
}

int dns_tsig_verify(const uint8_t *msg, size_t len, const struct dns_tsig_key *key,
		    const uint8_t *prior, size_t prior_len, uint64_t now,
		    struct dns_tsig_status *st)
{
	struct dns_header hdr;
	size_t toff;
	int rc = find_tsig(msg, len, &hdr, &toff);
	if (rc)
		return rc;
	st->local = DNS_TSIG_UNSIGNED;
	st->remote = 0;
	st->time_signed = 0;
	if (toff == 0)
		return NETD_EAUTH;
	struct tsig_rr t;
	if (read_tsig_rr(msg, len, toff, &t) != 0)
		return NETD_ECORRUPT;
	st->remote = t.error;
	st->time_signed = t.time;
	struct dns_name an;
	alg_name(key->alg, &an);
	if (!dns_name_eq(&t.owner, &key->name) || !dns_name_eq(&t.alg, &an)) {
		st->local = DNS_RC_BADKEY;
		return NETD_EAUTH;
	}
	size_t full = dns_tsig_mac_len(key->alg);
	if (t.mac_len == 0 || t.mac_len > full) {
		st->local = DNS_RC_BADSIG;
		return NETD_EAUTH;
	}
	if (t.mac_len < full) {
		st->local = DNS_RC_BADTRUNC;
		return NETD_EAUTH;
	}
	struct tsig_vars v = {.key_name = &t.owner, .alg_name = &t.alg, .time = t.time,
			      .fudge = t.fudge, .error = t.error, .other_len = t.other_len,
			      .other = t.other};
	uint8_t mac[DNS_TSIG_MAC_MAX];
	size_t ml = 0;
	rc = tsig_mac(key, prior, prior_len, msg, toff, t.orig_id, (uint16_t)(hdr.arcount - 1),
		      &v, mac, &ml);
	if (rc)
		return rc;
	if (ml != full || CRYPTO_memcmp(mac, t.mac, full) != 0) {
		st->local = DNS_RC_BADSIG;
		return NETD_EAUTH;
	}
	uint64_t fudge = t.fudge < DNS_TSIG_FUDGE ? t.fudge : DNS_TSIG_FUDGE;
	uint64_t skew = now > t.time ? now - t.time : t.time - now;
	if (skew > fudge) {
		st->local = DNS_RC_BADTIME;
		return NETD_EAUTH;
	}
	st->local = 0;
	return 0;
}
