/* dns/deliver.h — delivery of a DNS plan (dns.h) to the primaries of its
 * zones by RFC 2136 UPDATE signed with TSIG: batched, idempotent, with
 * conflicts isolated to the names concerned and failover between servers.
 * Part of the dns module (prefix dns_); used by netd's delivery worker
 * through dns_dep, which is why it may show the private types of
 * xfer.h (struct dns_server) and tsig.h (struct dns_tsig_key).
 *
 * Contract.  One logical message of a plan (a stage in a zone) goes out as
 * few UPDATEs as fit in the zone's size budget (max_msg), cut only between
 * groups (struct dns_change.group), each UPDATE carrying the prerequisites
 * of exactly its own groups:
 *   DNS_PRE_FREE   -> "name is not in use" (RFC 2136 2.4.5)
 *   DNS_PRE_OWNED  -> "RRset exists (value dependent)" (2.4.2): every OWNED
 *                     of one guard name together is that name's TXT RRset
 *   DNS_CHG_ADD    -> add the RR;  DNS_CHG_DEL -> delete that one RR
 * Nothing is ever sent with fewer prerequisites than the plan gave.
 *
 * Pieces in flight.  The groups of one message are independent (no two
 * share a guard name and each changes only its own names: dns.h), so its
 * pieces may be applied in any order: up to DNS_DELIVER_PIPELINE UPDATEs
 * of one message are in flight at once, each on its own connection (a
 * server that takes a zone's UPDATEs in batches, like Knot, then applies
 * several in one go).  Each piece is cut, sent, converted and bisected as
 * below, on its own; what they report is appended in piece order, as if
 * they had gone one after another.  Messages themselves still go one at a
 * time (dns_deliver_plan()), or a stage's at once (dns_deliver_stage()).
 *
 * Idempotency.  An UPDATE refused with YXDOMAIN (a FREE name is in use:
 * most likely our own earlier delivery whose answer was lost) is sent again
 * with each DNS_PRE_FREE turned into DNS_PRE_OWNED on the ownership TXT the
 * same group adds (for a CNAME owner W, the one at "_netd.W").  Delivering
 * the same plan twice therefore succeeds twice and changes nothing the
 * second time.  Once a converted form went through, the pieces of the zone
 * taken after that are tried converted first (and plain after a
 * prerequisite failure); pieces already in flight were tried plain.
 *
 * Conflicts.  If a piece still fails a prerequisite (YXDOMAIN, YXRRSET,
 * NXRRSET, NXDOMAIN), it is bisected by groups until the failing groups
 * are alone: each goes to rep->conflicts (kind DNS_CONFLICT_FOREIGN, with
 * the reason), every other group is delivered.  A failed group's records
 * stay as they were, so what depends on them is withheld too, in later
 * messages of the same report (kind DNS_CONFLICT_WITHHELD):
 *   - a group whose name failed earlier (its later stages assume the
 *     earlier one happened);
 *   - a group adding a PTR or CNAME whose target is a failed group (a PTR
 *     must never name a host that does not resolve to its address);
 *   - a group deleting records at a name that records left in place by a
 *     failed group still point at (rep->kept: the old PTR/CNAME targets).
 * So the forward-confirmed reverse DNS invariant of dns.h holds at every
 * instant, conflicts or not; a withheld group is simply not delivered yet.
 *
 * Failover.  A transport failure (timeout, connection refused, any socket
 * error, an answer that does not parse) or SERVFAIL moves to the next server
 * of the zone (rep->failovers++, for each piece in flight that met the
 * failure; pieces taken later start at the new server); the servers that
 * failed during one dns_deliver_plan() call are tried last for the other
 * zones of that call.
 * When every server failed: the last failure's -errno (-ETIMEDOUT,
 * -ECONNREFUSED...) or -EIO, with @e naming the zone and each server tried
 * with its reason.  Zone-level refusals return at once with
 * dns_update_check()'s message (the caller shows them per zone and retries
 * with backoff): NETD_EAUTH (TSIG rejected or an answer that fails
 * verification), NETD_EPERM (REFUSED, NOTAUTH), NETD_EINVAL (FORMERR,
 * NOTZONE; also a record that does not convert or lies outside its zone),
 * NETD_EUNSUPPORTED (NOTIMP).
 *
 * Message IDs are random per UPDATE (getrandom) and checked in the answer;
 * TSIG time is time(NULL).
 *
 * Caveats.
 *  - Blocking: each exchange waits up to timeout_ms (dns_xfer()); a plan
 *    with every server dead takes about n_servers * timeout_ms.  Call it
 *    from a worker thread, not the event loop.  Thread-safe: no static
 *    mutable state; the caller's structures are only read, except @rep
 *    (and the jobs of dns_deliver_stage(), which starts threads of its
 *    own and joins them before it returns).
 *  - The report accumulates (counters add up, conflicts append) and its
 *    conflicts and kept names withhold dependent groups of later calls:
 *    use one report per plan and dns_deliver_report_clear() it between
 *    plans.  A zeroed report is an empty one.
 *  - A re-delivered deletion whose guard TXT is already gone fails NXRRSET
 *    and is reported as a conflict: RFC 2136 cannot tell "deleted by us"
 *    from "taken over by someone else" without a query.
 *  - A single group larger than max_msg is NETD_ETOOBIG (never split).
 *  - The converted form of a piece can be larger than the plain one; if
 *    it does not fit it is split (counted in resends).
 */
#ifndef NETD_DNS_DELIVER_H
#define NETD_DNS_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "dns/dns.h"
#include "dns/tsig.h"
#include "dns/xfer.h"

#define DNS_ZONE_SERVERS_MAX 4
#define DNS_DELIVER_TIMEOUT_MS 2000u   /* timeout_ms 0 */
#define DNS_DELIVER_MSG_MIN 512u       /* smallest max_msg accepted */
#define DNS_CONFLICT_WHY_MAX 192
#define DNS_DELIVER_PIPELINE 4u        /* UPDATEs of one message in flight at once */

/* Where and how to deliver one zone. */
struct dns_zone_conf {
	struct dns_zone zone;                              /* name (+kind), as in dns.h */
	struct dns_server servers[DNS_ZONE_SERVERS_MAX];   /* primaries, in order of preference */
	size_t n_servers;                                  /* 1..DNS_ZONE_SERVERS_MAX */
	bool has_key;                                      /* sign with @key (else unsigned) */
	struct dns_tsig_key key;
	uint32_t timeout_ms;   /* per exchange; 0 = DNS_DELIVER_TIMEOUT_MS; at most 600000 */
	size_t max_msg;        /* UPDATE size budget, TSIG included; 0 = 65535;
				  DNS_DELIVER_MSG_MIN..65535 */
};

enum dns_conflict_kind {
	DNS_CONFLICT_FOREIGN = 1,   /* a prerequisite failed: the name is not (or no longer) ours */
	DNS_CONFLICT_WITHHELD = 2,  /* not sent: it depends on a group that failed */
};

/* A group that was not delivered. */
struct dns_conflict {
	char group[DNS_REC_NAME_MAX];   /* struct dns_change.group */
	char why[DNS_CONFLICT_WHY_MAX]; /* "web1.lab.example.: name in use by records netd
					   does not own (YXDOMAIN)" */
	uint8_t kind;                   /* enum dns_conflict_kind */
	uint8_t stage;                  /* enum dns_stage of its message */
	size_t zone;                    /* the message's zone index (plan numbering) */
};

/* What deliveries did; see the Caveats for its lifetime. */
struct dns_deliver_report {
	struct dns_conflict *conflicts;  /* heap, in the order found */
	size_t n_conflicts;
	char (*kept)[DNS_REC_NAME_MAX];  /* heap: names that records left in place by
					    failed groups point at (their deletion waits) */
	size_t n_kept;
	unsigned updates;    /* UPDATE messages that got an answer (any RCODE) */
	unsigned resends;    /* FREE->OWNED re-sends, plain re-sends, group splits */
	unsigned failovers;  /* moves to the next server */
	size_t bytes;        /* bytes of the UPDATEs that got an answer */
	char server[DNS_SERVER_STRLEN];  /* the server that took the last UPDATE */
};

/* Deliver one logical message @m of a plan to zone @z.  Returns 0 when
 * every group of @m was delivered or is in rep->conflicts; otherwise the
 * failover or zone-level errors above, -ENOMEM, NETD_EINVAL for a bad @z
 * (no or too many servers, a zone name that does not parse, a key without
 * a name, max_msg outside DNS_DELIVER_MSG_MIN..65535) or a change that
 * does not convert or is outside the zone, NETD_ETOOBIG for
 * a group that does not fit max_msg; @e says which.  Groups delivered
 * before a failure stay delivered (and are safe to send again). */
int dns_deliver_msg(const struct dns_plan_msg *m, const struct dns_zone_conf *z,
		    struct dns_deliver_report *rep, struct netd_err *e);

/* Deliver plan @p message by message in plan order (one at a time; see
 * dns_deliver_stage() for the messages of a stage at once) (zones[i] is the zone
 * the plan calls i) and stop at the first message that fails: a later
 * stage never goes out before an earlier one.  *done (always written) is
 * the number of messages processed: each group delivered or in
 * rep->conflicts.  Returns dns_deliver_msg()'s codes, NETD_EINVAL for a
 * message whose zone index is >= @n_zones. */
int dns_deliver_plan(const struct dns_plan *p, const struct dns_zone_conf *zones, size_t n_zones,
		     size_t *done, struct dns_deliver_report *rep, struct netd_err *e);

/* One message of a stage for dns_deliver_stage(), and how it went. */
struct dns_deliver_job {
	const struct dns_plan_msg *m;    /* in: a message of the stage */
	const struct dns_zone_conf *z;   /* in: its zone */
	bool ran;                        /* out: it was delivered (or tried): rc, e, ... are its */
	int rc;                          /* out: dns_deliver_msg()'s return for it */
	struct netd_err e;               /* out: its error */
	unsigned updates;                /* out: its UPDATEs that got an answer */
	char server[DNS_SERVER_STRLEN];  /* out: the server that took its last UPDATE ("" none) */
};

/* Deliver the messages of one stage of a plan (@jobs in plan order: the
 * same stage, one message per zone) at once: one thread per message, the
 * first on the calling thread; all are waited for before it returns.  The
 * ordering contract of dns.h is between stages, and the messages of one
 * stage go to different zones, so they are independent: every job is
 * delivered exactly as dns_deliver_msg(m, z, rep, e) would, except that
 * it does not see the conflicts found by the other jobs of the stage
 * meanwhile.  Where that could matter — a group of one message that the
 * screening (Conflicts, above) would hold back because of a group of
 * another message of the stage: the same group name, a PTR/CNAME added
 * pointing at another message's group, a deletion at a name that another
 * message's PTR/CNAME deletion may keep — the jobs are delivered one
 * after another in order instead, stopping at the first failure (later
 * jobs: ran false).
 * Afterwards @rep holds what each job found, appended in job order, as if
 * delivered one after another; its counters add up.
 *
 * Returns 0 when every job that ran returned 0, else the first failing
 * job's code (in job order; its @e says why).  In the concurrent case all
 * jobs run even if one fails: the caller stops before the next stage, and
 * every job's outcome (ran, rc, e) is valid; a job that failed delivered
 * some of its groups, which are safe to send again (as for
 * dns_deliver_msg()).  Jobs for the same zone, or of different stages,
 * are the caller's error (not checked). */
int dns_deliver_stage(struct dns_deliver_job *jobs, size_t n, struct dns_deliver_report *rep);

/* Free what @r owns and zero it.  Accepts NULL. */
void dns_deliver_report_clear(struct dns_deliver_report *r);

#endif
