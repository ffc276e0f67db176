/* dns/verify.h — what the DNS servers really hold, compared with what netd
 * intends: verification by query (c-ares), zone transfer (AXFR with TSIG),
 * the pure comparison of two record sets, and the export of the intended
 * zone as a master file.
 *
 * Three layers, used together by the delivery worker and by tools:
 *
 *   dns_query_batch()   ask one server many (owner, type) questions at
 *                       once (verify.c, c-ares, UDP with TCP on TC);
 *   dns_axfr()          fetch a whole zone over TCP (axfr.c, TSIG-signed,
 *                       multi-message TSIG verified, RFC 8945 5.3.1);
 *   dns_compare()       intended vs actual -> missing / extra / foreign
 *                       (compare.c, no I/O), and dns_export_zone().
 *
 * Records are struct dns_rec text as in dns.h: owners and name data
 * absolute and lowercase, addresses as addr_print() writes them.  Only the
 * five types netd writes (A, AAAA, CNAME, PTR, TXT) are carried.
 *
 * Ownership rule of dns_compare() (decision P3 of dns.h, applied to what a
 * server shows).  A name N is OWNED by installation <id> when the server
 * holds the TXT "netd owner=<id>" at N or at "_netd.N" (the second form is
 * how a CNAME owner is claimed; either form counts, so a name that changes
 * from address to alias or back stays owned while it changes).  netd owns
 * names, not single RRs:
 *   - at an owned name every RR netd does not intend is EXTRA, including a
 *     TXT someone added next to netd's ownership TXT: the UPDATE
 *     prerequisites compare the whole TXT RRset at the guard name, so such
 *     a TXT blocks every later change of that name until it is removed;
 *   - at a name netd intends but does not own, any data the server shows
 *     there makes the name FOREIGN: all its RRs go to 'foreign', netd's
 *     intended RRs there are in CONFLICT (never 'missing': netd will not
 *     take a name it cannot prove it wrote); the same holds when only the
 *     ownership TXT was lost (netd cannot tell its old data from someone
 *     else's);
 *   - a name netd intends that the server does not show at all is free:
 *     its intended RRs are MISSING (netd claims it with a name-not-in-use
 *     prerequisite);
 *   - names neither owned nor intended are none of netd's business.
 *
 * Caveats.
 *  - Only A, AAAA, CNAME, PTR and TXT are carried: a name whose only data
 *    is of another type (MX, NS, SRV ...) looks free to dns_compare(); the
 *    delivery's name-not-in-use prerequisite still refuses to claim it.
 *  - A TXT RR is carried as the concatenation of its character-strings.
 *    One longer than 255 bytes or holding a NUL byte cannot be a struct
 *    dns_rec: dns_axfr() counts it in *n_other, dns_query_batch() leaves it
 *    out of the answer (and counts it in answer->n_other).
 *  - dns_query_batch() blocks its thread; run it on a worker, not on the
 *    event loop.  One c-ares channel per call, no state shared between
 *    calls besides ares_library_init().
 *  - A server drops UDP queries that overflow its socket buffer, and each
 *    drop costs a timeout: BIND 9.18 on loopback loses some when ~200 are
 *    in flight from one socket (Knot takes 256 without loss).  The window
 *    halves on a loss, but the first one still costs @timeout_ms: give
 *    BIND @parallel 128.
 *  - A struct dns_rec is 520 bytes; an AXFR of a 100,000-RR zone takes
 *    ~52 MB.  dns_axfr() refuses more than DNS_AXFR_RR_MAX RRs.
 */
#ifndef NETD_DNS_VERIFY_H
#define NETD_DNS_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "dns/dns.h"
#include "dns/tsig.h"
#include "dns/wire.h"
#include "dns/xfer.h"

/* ---- records from the wire ---------------------------------------------- */

/* Decoded RR (wire.h) -> text record (dns.h form; the TTL is kept).
 * Returns 0; NETD_EUNSUPPORTED for a type other than A, AAAA, CNAME, PTR,
 * TXT (or a class other than IN); NETD_ETOOBIG for a TXT over 255 bytes or
 * with a NUL byte, or a name that does not fit DNS_REC_NAME_MAX as text.
 * @out is written on success only. */
int dns_rec_from_rr(const struct dns_rr *rr, struct dns_rec *out);

/* ---- verification by query (verify.c) ----------------------------------- */

struct dns_query_item {
	char owner[DNS_REC_NAME_MAX];  /* absolute or not (taken as absolute); any case */
	uint16_t type;                 /* enum dns_rec_type */
};

struct dns_answer {
	/* The DNS RCODE of the answer (DNS_RC_NOERROR, DNS_RC_NXDOMAIN, ...),
	 * or a negative code when no usable answer came: -ETIMEDOUT (both
	 * tries timed out), -ECONNREFUSED, NETD_ECORRUPT (the answer does not
	 * parse), -ECANCELED, -EIO (another c-ares failure). */
	int rcode;
	/* The RRs at the asked owner of the asked type, and a CNAME at the
	 * asked owner whatever the type asked: a CNAME replaces every other
	 * type at its owner (RFC 1034 3.6.2), so an alias sitting where netd
	 * intends an address must show up (as a conflict), not look like an
	 * empty name.  Nothing at the CNAME's target is kept: verification
	 * never follows aliases.  Owner and name data lowercase, absolute. */
	struct dns_recset rrs;
	size_t n_other;  /* answer RRs at the owner that could not be carried (see Caveats) */
};

/* Ask @srv every item, up to @parallel outstanding at once (0 = 256; the
 * window starts at 16, grows by one per answer and halves on a loss), over
 * UDP without EDNS (TCP when an answer is truncated), RD clear, with
 * @timeout_ms for the first try (0 = 2000) and 2 tries (c-ares doubles
 * the timeout of the second: a silent server costs 3 x @timeout_ms).  answers[i] is
 * written for items[i], always all of them when 0 is returned: each
 * carries its own rcode (negative for an item that got no answer), so one
 * lost datagram does not lose the batch.  Blocking (poll() on c-ares'
 * sockets); no global state besides ares_library_init(), done once.
 *
 * Returns 0; NETD_EINVAL for an item whose owner is not a name or whose
 * type is not one of the five (message names the item); -ENOMEM;
 * NETD_EUNSUPPORTED when c-ares cannot be set up (message says why).
 * On failure @answers is left as it was.  Free each answer with
 * dns_answer_clear(). */
int dns_query_batch(const struct dns_server *srv, const struct dns_query_item *items, size_t n,
		    unsigned parallel, uint32_t timeout_ms, struct dns_answer *answers,
		    struct netd_err *e);

/* Free what @a owns; @a is left empty (rcode 0).  Accepts NULL. */
void dns_answer_clear(struct dns_answer *a);

/* ---- zone transfer (axfr.c) --------------------------------------------- */

#define DNS_AXFR_RR_MAX 1000000u  /* RRs of one transfer (~520 MB of records) */

/* How a transfer went. */
struct dns_axfr_stats {
	size_t messages;  /* DNS messages in the stream */
	size_t signed_;   /* of those, carrying a TSIG RR that verified */
	size_t rrs;       /* answer RRs, the closing SOA included */
	size_t bytes;     /* of all messages */
};

/* AXFR @zone from @srv over TCP, one request signed with @key if not NULL
 * (NULL: unsigned).  The stream is read message by message until the SOA
 * that closes it; every A, AAAA, CNAME, PTR and TXT RR goes into @out
 * (appended, sorted by dns_recset_sort() among themselves), other RRs
 * (SOA, NS, MX, ...) are counted in *n_other (the closing SOA not counted).
 * @timeout_ms bounds the connection and each message (a big zone may take
 * longer in all).  With a key, the answer must be signed: the first
 * message over our request's MAC, later ones over the prior MAC, the
 * unsigned messages since and the timers (RFC 8945 5.3.1); the first and
 * the last message must be signed and no more than 99 in a row unsigned.
 * @st (may be NULL) is filled on success.
 *
 * Returns 0; NETD_EAUTH when the server rejected our TSIG (its TSIG error,
 * e.g. BADSIG, in the message) or its answer's TSIG is missing or does not
 * verify; NETD_EPERM for REFUSED or NOTAUTH without a TSIG error (transfer
 * not allowed, zone not served); -EIO for another RCODE; -ETIMEDOUT,
 * -ECONNREFUSED, -ECONNRESET and other -errno from the socket;
 * NETD_ECORRUPT for a malformed stream (not starting with the zone's SOA,
 * wrong ID, bad message); NETD_ETOOBIG past DNS_AXFR_RR_MAX; NETD_EINVAL
 * for a bad zone name; -ENOMEM.  Every error names the zone and server in
 * @e.  @out, @n_other and @st are unchanged on failure. */
int dns_axfr(const struct dns_server *srv, const char *zone, const struct dns_tsig_key *key,
	     uint32_t timeout_ms, struct dns_recset *out, size_t *n_other,
	     struct dns_axfr_stats *st, struct netd_err *e);

/* ---- comparison and export (compare.c, pure) ---------------------------- */

enum dns_rec_state {
	DNS_STATE_PENDING = 0,   /* not yet delivered / not judged */
	DNS_STATE_PUBLISHED,     /* the server acknowledged the UPDATE */
	DNS_STATE_VERIFIED,      /* read back from the server */
	DNS_STATE_ERROR,         /* delivery failed */
	DNS_STATE_CONFLICT,      /* its name holds someone else's data */
	DNS_STATE_DRIFT,         /* netd's name, but the server lacks the record */
};

/* "pending", "published", "verified", "error", "conflict", "drift"; "?"
 * for anything else. */
const char *dns_rec_state_name(unsigned s);

struct dns_diff {
	char zone[DNS_REC_NAME_MAX];  /* the zone compared (absolute, lowercase) */
	struct dns_recset missing;    /* intended, not on the server: repair by adding */
	struct dns_recset extra;      /* on the server at an owned name, not intended: repair by deleting */
	struct dns_recset foreign;    /* on the server at a name netd intends but does not own: conflict */
	size_t verified;              /* intended and present at an owned name */
	size_t conflicts;             /* intended records at foreign names */
};

/* Compare @intended (sorted by dns_rec_cmp(), as dns_recset_sort() leaves
 * it; netd's ownership TXTs included) with @actual (any order: an AXFR, or
 * the answers of dns_query_batch() for the intended owners) for
 * installation @installation_id, by the ownership rule at the top of this
 * file.  Records whose owner is outside @zone are ignored in both sets.
 * The three sets of @out come sorted.
 *
 * Returns 0; NETD_EINVAL for an unsorted @intended, a bad zone name or an
 * empty installation id; -ENOMEM.  @out is written on success only; free
 * it with dns_diff_clear(). */
int dns_compare(const struct dns_recset *intended, const struct dns_recset *actual, const char *zone,
		const char *installation_id, struct dns_diff *out, struct netd_err *e);

/* Free what @d owns; @d is left empty.  Accepts NULL. */
void dns_diff_clear(struct dns_diff *d);

/* State of one intended record after dns_compare(): DNS_STATE_CONFLICT if
 * its owner is foreign-held, DNS_STATE_DRIFT if it is missing,
 * DNS_STATE_VERIFIED otherwise; DNS_STATE_PENDING for a record outside
 * d->zone (not judged).  Only meaningful for records of the @intended
 * set that was compared. */
unsigned dns_diff_state(const struct dns_diff *d, const struct dns_rec *intended_rec);

/* The intended records of @zone as an RFC 1035 master file (records
 * outside @zone are left out): a header comment (zone, installation id,
 * record count), $ORIGIN, $TTL (the most common TTL, the smallest on a
 * tie), then one RR per line sorted by owner, type, data, as
 *     <owner> [<ttl>] IN <type> <data>
 * with the owner relative to the origin ("@" for the apex), the TTL only
 * where it differs from $TTL, name data absolute, TXT data quoted with
 * '"' and '\' escaped by a backslash and bytes outside printable ASCII as
 * \DDD.  No SOA or NS: the file is the part of a zone netd manages (load
 * it with $INCLUDE under a real SOA).
 *
 * Returns 0 with a heap string in *out (free()); NETD_EINVAL for a bad
 * zone name, an owner or name data that is not a valid name, or a type
 * netd does not write; -ENOMEM.  *out is written on success only. */
int dns_export_zone(const struct dns_recset *intended, const char *zone, const char *installation_id,
		    char **out, struct netd_err *e);

#endif
