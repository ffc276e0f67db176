/* netd/dnsd.h — DNS publication as a netd service: derive every node's
 * records (dns/dns.h), keep the intent and an ordered outbox in the store
 * in the same transaction as the model change, deliver it from a worker
 * thread (dns/deliver.h), verify and reconcile (dns/verify.h), record
 * states for the faces.  See netd/hooks.h for when the hooks run.
 *
 * Intent (dnsd_txn, inside the edit's write transaction).  For every node
 * the edit touched (for a touched network: every node with an address on
 * it; for a change of the dns document: every node when the installation
 * id or the TTL changed, and the static records always) the records are
 * derived with dns_derive_node() from the model as the transaction sees
 * it, with each network's dns-name-template.  A set that differs from the
 * stored intent is written back together with one outbox entry (old set,
 * new set), and its new records become "pending".  A name that cannot be
 * published refuses the whole edit (400 invalid-value, the node's path):
 * a label over 63 or a name over 253 characters, characters outside RFC
 * 1123, a template without {node} or with an unknown placeholder, an
 * alias equal to an address name, and a name another node (or a static
 * record) already publishes.  A rename writes its two entries (old name
 * to nothing, nothing to the new name) next to each other, and the worker
 * never cuts a window between entries of one transaction, so the plan is
 * add-new, repoint PTR and CNAMEs, remove-old.
 *
 * Store tables (all written in the edit's transaction or by the worker):
 *   "dns_intent"  node name (or "/static")            -> record set
 *   "dns_owner"   owner name                          -> node name (or "/static")
 *   "dns_outbox"  8-byte big-endian sequence          -> entry: node, created,
 *                                                        old set, new set
 *   "dns_rstate"  owner NUL type(2 bytes BE) data     -> state, node, why, since
 *   "meta" keys   "dns/installation-id" (made once), "dns/derive" (id + ttl
 *                 the intent was derived with), "dns/check-req" and
 *                 "dns/check-done" (u64 BE), "dns/check-result"
 *
 * Delivery (the worker thread).  It wakes when a commit touched DNS, on
 * its backoff timer and every check-interval seconds.  It reads a window
 * of outbox entries from the head (at least DNSD_WINDOW_RECORDS records
 * when there are, whole transactions only), combines them per node (old
 * set of the first entry, new set of the last), plans them over the
 * configured zones (dns_plan) and delivers the plan stage by stage, the
 * messages of one stage (one per zone) at once (dns_deliver_stage),
 * stopping after the first stage with a failure.  Only when every
 * message went through are exactly those entries deleted and their
 * records marked "published" (or "conflict" with the server's reason, or
 * left "pending" with why when withheld behind a conflict), in one
 * transaction.  Then the changed owners are queried (dns_query_batch) and
 * the records become "verified" or "drift"; for DNSD_VERIFY_AXFR_MIN
 * names or more in one zone not much bigger than the change, one
 * transfer of the zone replaces the queries.  A failed delivery keeps the
 * entries; the zone that failed shows state "retrying" with last-error,
 * and the window is tried again after a backoff doubling from 0.25 s to
 * 30 s (reset by a success or a configuration change).  Zones are not
 * delivered independently: a window's plan crosses zones (forward first,
 * then reverse) and one stuck zone holds the window.  Records in no
 * configured zone get state "error" ("no configured zone contains NAME");
 * a later zone change starts a reconciliation, which publishes them.
 * After kill -9 the outbox is re-delivered from its head; the plans'
 * prerequisites make that idempotent.  With no zone configured the outbox
 * is emptied once a second, not per edit.  The configuration (and a key's
 * secret-file) is read at start, after a change of the dns document and
 * after a failed delivery.
 *
 * Reconciliation.  Every check-interval seconds (0: never by itself),
 * after a change of the zone configuration, and on request (RPC
 * dns-check), once the outbox is empty: each zone is transferred (AXFR,
 * signed with the zone's key), compared with the intent (dns_compare),
 * the records' states set to verified / drift / conflict, and the drift
 * repaired by one plan (missing records added, extra records at netd's
 * names deleted; names held by others are never touched).
 *
 * RESTCONF (what netctl uses):
 *   POST /restconf/operations/netd:dns-check            (no input)
 *        -> 200 {"netd:output":{"check-id":"7"}}         (uint64 printed as a string)
 *        returns at once; the check runs on the worker.  Wait for it with
 *   GET  /restconf/data/netd:dns/status
 *        -> {"netd:status":{"installation-id":"...","outbox-depth":"0",
 *             "outbox-oldest-age":"0","last-check":"2024-05-01T12:00:00+00:00",
 *             "last-check-id":"7","last-check-verified":"120","last-check-missing":"1",
 *             "last-check-extra":"0","last-check-conflict":"0",["last-check-error":"..."],
 *             "pending":"0","published":"0","verified":"121","error":"0",
 *             "conflict":"0","drift":"0"}}
 *        (uint64 leaves are JSON strings; last-check and its counts are absent
 *        before the first check; last-check-id is "0" then)
 *        until last-check-id >= check-id (last-check-error present: the check
 *        could not finish, e.g. a server down; the id still advances).
 *   POST /restconf/operations/netd:dns-export  {"netd:input":{"zone":"lab.example"}}
 *        -> 200 {"netd:output":{"text":"; zone lab.example. ...\n$ORIGIN ...\n..."}}
 *        unknown zone -> 400 invalid-value, path /netd:dns-export/zone.
 *   GET  /restconf/data/netd:dns
 *        -> the configuration plus, per zone, "state" (ok|retrying|idle),
 *           "last-error", "server-in-use", "records" (intended records in the
 *           zone); "status" as above; "record-state":[{"owner","type","data",
 *           "zone","node","state","why"}...] for every intended record.
 *
 * Caveats.
 *  - dnsd_txn() may run more than once for one request (the store retries
 *    a batch after growing its map): it only writes to the store.
 *  - Deriving touches every node of a touched network: changing a network's
 *    domain or template costs one derivation per node on it, in the edit's
 *    transaction.
 *  - Record states and counts are read by scanning "dns_rstate"; a GET of
 *    /netd:dns with 80,000 records builds 80,000 list entries.  A GET of
 *    /netd:dns/status only counts them (the state byte of each value), if
 *    hooks_state() passes its @one to dnsd_state_for().
 */
#ifndef NETD_DNSD_H
#define NETD_DNSD_H

#include <stdbool.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "core/store.h"
#include "netd/netd.h"
#include "netd/ops.h"

#define DNSD_STATIC_KEY "/static"      /* intent key of the static records */
#define DNSD_WINDOW_RECORDS 20000u     /* records (old + new) per delivery window */
#define DNSD_VERIFY_AXFR_MIN 1000u     /* names of one zone verified by a transfer, not queries */

/* Open the tables (before any request is served) and start the worker.
 * 0, or a negative code with @e naming what failed. */
int dnsd_start(struct netd *d, struct netd_err *e);
/* Stop the worker (an exchange in flight finishes first: at most a zone
 * timeout per server) and free.  Accepts d->dnsd NULL. */
void dnsd_stop(struct netd *d);

/* The dns document is about to become @top (NULL: deleted): check what
 * YANG cannot say.  Servers parse ("ADDR", "ADDR:PORT", "[V6]:PORT"; port
 * 53 by default; at most 4 per zone); a key has exactly one of secret and
 * secret-file, the secret decodes, the file holds a key; zone names are
 * distinct as DNS names; a static record's data fits its type and no owner
 * holds a CNAME next to other data.  0, or an error in @r naming the leaf. */
int dnsd_doc_check(struct netd *d, struct store_txn *t, const struct lyd_node *top, struct ops_result *r);
/* Derive, compare with the stored intent, write intent + outbox + states
 * (see the top of this file).  0, or an error in @r (400 with the path of
 * the node or static record and the reason; a store error otherwise). */
int dnsd_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now, struct ops_result *r);
/* After the commit (loop thread): wake the worker if DNS may have work. */
void dnsd_committed(struct netd *d, const struct ops_touched *tc);
/* Operational data under /netd:dns (@top: the container, from the stored
 * document): zone states, status, record states.  Any thread, inside the
 * read transaction @t.  Same as dnsd_state_for(d, t, top, NULL). */
int dnsd_state(struct netd *d, struct store_txn *t, struct lyd_node *top);
/* The same, for a GET that targets the child @one of /netd:dns: the first
 * node name after "/netd:dns/" in the request's path, without predicates
 * (ops.c's build_for_path() passes it to hooks_state()).  "status" builds
 * only the status container (counts read from the stored states' first
 * bytes: no record-state entry is built), "zone" only the zones' states,
 * "record-state" only the record-state list; NULL, "" and any other name
 * build everything, as for /netd:dns.  An optional "netd:" prefix is
 * ignored. */
int dnsd_state_for(struct netd *d, struct store_txn *t, struct lyd_node *top, const char *one);
/* netd:dns-check and netd:dns-export; *handled false for other names. */
int dnsd_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	     uint64_t now, struct ops_result *r, bool *handled);

/* The states of @node's records (counts by state, as in dnsd_figures),
 * read from the store; for the annealer's dns jig. 0, or NETD_ENOTFOUND
 * when netd intends no record for the node. Any thread but one holding a
 * transaction. */
int dnsd_node_status(struct netd *d, const char *node, uint64_t counts[6]);

/* Figures for /metrics and the MIB. */
struct dnsd_figures {
	uint64_t state[6];        /* records by state: pending, published, verified, error, conflict, drift */
	uint64_t outbox_depth;
	uint64_t outbox_oldest_age_s;
	uint64_t updates_sent, update_failures;
};
/* Any thread but one holding a transaction; zeros when DNS is not running. */
void dnsd_figures(struct netd *d, struct dnsd_figures *out);

#endif
