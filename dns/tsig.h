/* dns/tsig.h — TSIG (RFC 8945): keys, signing and verification with
 * hmac-sha256 (default), hmac-sha1 and hmac-sha512.  PRIVATE to dns/.
 *
 * A request is signed over the message plus the TSIG variables; a response
 * is signed over the request's MAC, the response and the variables (RFC
 * 8945 4.3.1, 5.3), so verifying a response needs the MAC the request was
 * signed with: dns_tsig_sign() hands it back for that.
 *
 * Keys come from BIND's key statement (what tsig-keygen/ddns-confgen write
 * and `nsupdate -k` reads):
 *     key "ddns-key" { algorithm hmac-sha256; secret "base64"; };
 * or from the `knsupdate -y` / `dig -y` form "[alg:]name:base64".
 *
 * Caveats: only full-length MACs are accepted (no truncation, RFC 8945
 * 5.2.2.1); a shorter one is reported as BADTRUNC.  Multi-message TSIG
 * (AXFR over TCP, RFC 8945 5.3.1) is not supported.  A struct dns_tsig_key
 * holds the secret in clear; wipe it with dns_tsig_key_clear().
 */
#ifndef NETD_DNS_TSIG_H
#define NETD_DNS_TSIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "dns/wire.h"

#define DNS_TSIG_FUDGE 300u       /* seconds of clock skew allowed */
#define DNS_TSIG_SECRET_MAX 256u  /* bytes of a decoded secret */
#define DNS_TSIG_MAC_MAX 64u      /* hmac-sha512 */

enum dns_tsig_alg { DNS_TSIG_HMAC_SHA256 = 0, DNS_TSIG_HMAC_SHA1, DNS_TSIG_HMAC_SHA512 };

struct dns_tsig_key {
	struct dns_name name;
	enum dns_tsig_alg alg;
	size_t secret_len;
	uint8_t secret[DNS_TSIG_SECRET_MAX];
};

/* Result of dns_tsig_verify(). */
#define DNS_TSIG_UNSIGNED (-1)    /* ->local: the message has no TSIG RR */
struct dns_tsig_status {
	/* Our verdict on the message: 0 (MAC good, time within fudge), or
	 * DNS_RC_BADKEY (other key name or algorithm), DNS_RC_BADSIG (MAC does
	 * not match, or is empty), DNS_RC_BADTIME, DNS_RC_BADTRUNC, or
	 * DNS_TSIG_UNSIGNED. */
	int local;
	/* The Error field of the peer's TSIG RR: what the peer thought of our
	 * request (DNS_RC_BADSIG, DNS_RC_BADKEY, ...); 0 if none or absent. */
	uint16_t remote;
	uint64_t time_signed;     /* from the TSIG RR (0 if absent) */
};

/* "hmac-sha256" etc. (case-insensitive, optional final dot) -> @out.
 * Returns 0 or NETD_EUNSUPPORTED. */
int dns_tsig_alg_parse(const char *text, enum dns_tsig_alg *out);
/* "hmac-sha256" etc. */
const char *dns_tsig_alg_text(enum dns_tsig_alg alg);
/* MAC length in bytes: 32, 20, 64. */
size_t dns_tsig_mac_len(enum dns_tsig_alg alg);

/* Fill @key from a name in text, an algorithm and raw secret bytes (1 to
 * DNS_TSIG_SECRET_MAX).  Returns 0 or NETD_EINVAL with a message in @e. */
int dns_tsig_key_set(struct dns_tsig_key *key, const char *name, enum dns_tsig_alg alg,
		     const void *secret, size_t len, struct netd_err *e);
/* Parse the first key statement of BIND configuration text (comments
 * # // and slash-star allowed).  Returns 0, NETD_EINVAL (syntax, bad
 * base64, missing algorithm or secret: the message says which) or
 * NETD_EUNSUPPORTED (algorithm).  @key is written on success only. */
int dns_tsig_key_parse_bind(const char *text, struct dns_tsig_key *key, struct netd_err *e);
/* Parse "[alg:]name:base64" (alg defaults to hmac-sha256).  Same returns. */
int dns_tsig_key_parse_spec(const char *spec, struct dns_tsig_key *key, struct netd_err *e);
/* Read a key file in either format (BIND if it starts with "key").
 * Returns 0, -errno for I/O, or the parse errors above. */
int dns_tsig_key_load(const char *path, struct dns_tsig_key *key, struct netd_err *e);
/* Overwrite the secret with zeros (accepts NULL). */
void dns_tsig_key_clear(struct dns_tsig_key *key);

/* Bytes the TSIG RR for @key adds to a message. */
size_t dns_tsig_rr_size(const struct dns_tsig_key *key);

/* Sign the message in @msg[0..*len) (a complete message, header counts
 * right) with @key at time @now (seconds since the epoch): append the TSIG
 * RR, raise ARCOUNT, update *len.  For a response, @prior/@prior_len is the
 * request's MAC (NULL/0 for a request).  The MAC is copied to @mac_out
 * (>= DNS_TSIG_MAC_MAX bytes, may be NULL) with its length in *mac_len.
 * Returns 0; NETD_ETOOBIG if the RR does not fit @cap or ARCOUNT is full
 * (the message is then unchanged); NETD_ECORRUPT if *len < 12; -ENOMEM or
 * NETD_EUNSUPPORTED if OpenSSL fails. */
int dns_tsig_sign(uint8_t *msg, size_t *len, size_t cap, const struct dns_tsig_key *key,
		  const uint8_t *prior, size_t prior_len, uint64_t now,
		  uint8_t *mac_out, size_t *mac_len);

/* Verify the TSIG RR that ends @msg (it must be the last RR of the
 * additional section, and the only one) against @key at time @now; for a
 * response pass the request MAC as @prior.  Fills @st (always, when the
 * message parses).  Returns 0 when st->local is 0 (st->remote may still be
 * non-zero: a peer answers BADTIME signed), NETD_EAUTH when st->local is
 * not 0, NETD_ECORRUPT for a malformed message or a TSIG RR not in last
 * place. */
int dns_tsig_verify(const uint8_t *msg, size_t len, const struct dns_tsig_key *key,
		    const uint8_t *prior, size_t prior_len, uint64_t now,
		    struct dns_tsig_status *st);

#endif
