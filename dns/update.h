/* dns/update.h — RFC 2136 UPDATE messages: build (zone, prerequisites,
 * updates, TSIG) within a byte budget, and read the server's answer.
 * PRIVATE to dns/.  No I/O here: dns/xfer.h moves the bytes.
 *
 * Building, in wire order:
 *
 *     dns_update_init()            header + zone section
 *     dns_update_prereq_*()        zero or more prerequisites
 *     dns_update_add() / _delete_*()  zero or more updates
 *     dns_update_finish()          counts final, TSIG appended
 *
 * Every add/prereq either appends its RR completely or leaves the message
 * exactly as it was and returns NETD_ETOOBIG: the caller batches by adding
 * until NETD_ETOOBIG, finishing and sending that message, then starting the
 * next one with the RR that did not fit.  The budget already keeps room
 * for the TSIG RR of the key given to dns_update_init().
 *
 * Caveats: a prerequisite after the first update is NETD_EINVAL (sections
 * are written in order).  The TSIG key at finish must be the one given at
 * init (or both NULL).  An RR that does not fit even an empty message is
 * NETD_ETOOBIG forever: check dns_update_count() before retrying.
 */
#ifndef NETD_DNS_UPDATE_H
#define NETD_DNS_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "dns/tsig.h"
#include "dns/wire.h"

struct dns_update {
	struct dns_wr w;            /* its cap is the budget minus the TSIG room */
	size_t buf_cap;             /* the real buffer size, for the TSIG RR */
	struct dns_name zone;
	uint16_t id;
	uint16_t nprereq, nupdate;
	bool finished;
};

/* Start an UPDATE for @zone (class IN) with message ID @id in @buf of @cap
 * bytes.  @budget caps the final message size (0: @cap; both are capped at
 * 65535); room for @key's TSIG RR (may be NULL: unsigned) is kept inside
 * it.  Returns 0, or NETD_ETOOBIG if not even the zone section fits. */
int dns_update_init(struct dns_update *u, uint8_t *buf, size_t cap, size_t budget,
		    const struct dns_name *zone, uint16_t id, const struct dns_tsig_key *key);

/* Prerequisites (RFC 2136 2.4).  Each returns 0; NETD_ETOOBIG (message
 * unchanged); NETD_EINVAL if the name is outside the zone or an update
 * was added already. */
/* RRset of @type exists at @name (value-independent). */
int dns_update_prereq_exists(struct dns_update *u, const struct dns_name *name, uint16_t type);
/* An RR with @rr's owner, type and rdata exists (value-dependent; all such
 * prerequisites of one owner and type together must equal the RRset). */
int dns_update_prereq_exists_rr(struct dns_update *u, const struct dns_rr *rr);
/* No RRset of @type at @name. */
int dns_update_prereq_not_exists(struct dns_update *u, const struct dns_name *name, uint16_t type);
/* @name owns at least one RR / owns none. */
int dns_update_prereq_name_in_use(struct dns_update *u, const struct dns_name *name);
int dns_update_prereq_name_not_in_use(struct dns_update *u, const struct dns_name *name);

/* Updates (RFC 2136 2.5).  Same returns as the prerequisites, except that
 * they may follow prerequisites.  @rr's class is ignored (IN for add, set
 * by the operation otherwise); TTL is used by add only. */
int dns_update_add(struct dns_update *u, const struct dns_rr *rr);
/* Delete the RRset of @type at @name. */
int dns_update_delete_rrset(struct dns_update *u, const struct dns_name *name, uint16_t type);
/* Delete the one RR equal to @rr (owner, type, rdata). */
int dns_update_delete_rr(struct dns_update *u, const struct dns_rr *rr);
/* Delete every RRset at @name (the server keeps SOA/NS at the apex). */
int dns_update_delete_name(struct dns_update *u, const struct dns_name *name);

/* Number of updates / prerequisites added so far. */
static inline unsigned dns_update_count(const struct dns_update *u) { return u->nupdate; }
static inline unsigned dns_update_prereq_count(const struct dns_update *u) { return u->nprereq; }

/* Complete the message: sign it with @key at @now if @key is not NULL (the
 * request MAC goes to @mac, >= DNS_TSIG_MAC_MAX bytes, with its length in
 * *mac_len; both may be NULL when unsigned).  *len gets the message size.
 * Returns 0, NETD_EINVAL if already finished, or dns_tsig_sign()'s
 * errors. */
int dns_update_finish(struct dns_update *u, const struct dns_tsig_key *key, uint64_t now,
		      size_t *len, uint8_t *mac, size_t *mac_len);

/* What the server answered. */
struct dns_update_result {
	uint16_t id;
	unsigned rcode;              /* header RCODE (enum dns_rcode) */
	bool signed_request;         /* a key was given: tsig is meaningful */
	struct dns_tsig_status tsig; /* response verification + the server's TSIG error */
};

/* Parse the server's answer to the UPDATE with @id for @zone, verifying
 * its TSIG with @key and the request MAC @req_mac (when @key is not NULL).
 * Returns 0 when it is a well-formed answer to that request (whatever its
 * RCODE or TSIG status: see dns_update_check()), NETD_ECORRUPT if it is
 * malformed, not a response, not an UPDATE, or has another ID or zone. */
int dns_update_parse_response(const uint8_t *resp, size_t len, uint16_t id,
			      const struct dns_name *zone, const struct dns_tsig_key *key,
			      const uint8_t *req_mac, size_t req_mac_len, uint64_t now,
			      struct dns_update_result *out);

/* Map a parsed answer to a netd error with a user-facing message naming
 * the server (@server, e.g. "127.0.0.1:5302") and the zone:
 *   0                  NOERROR and (if signed) a verified response
 *   NETD_EAUTH         the server rejected our TSIG (BADSIG, BADKEY,
 *                      BADTIME), or its response failed verification
 *   NETD_EPERM         REFUSED, or NOTAUTH without a TSIG error
 *   NETD_EEXIST        YXDOMAIN, YXRRSET (a prerequisite failed)
 *   NETD_ENOTFOUND     NXDOMAIN, NXRRSET (a prerequisite failed)
 *   NETD_EINVAL        FORMERR, NOTZONE
 *   NETD_EUNSUPPORTED  NOTIMP
 *   -EIO               SERVFAIL or an unknown RCODE (worth a retry)
 * e.g. "server 127.0.0.1:5302 refused the update for zone lab.example:
 * NOTAUTH (TSIG BADSIG: wrong key?)". */
int dns_update_check(const struct dns_update_result *r, const char *server,
		     const struct dns_name *zone, struct netd_err *e);

#endif
