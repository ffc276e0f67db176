/* netd/dnsd.h — DNS publication as a netd service: derive every node's
 * records (dns/dns.h), keep the intent and an ordered outbox in the store
 * in the same transaction as the model change, deliver it from a worker
 * thread (dns/deliver.h), verify and reconcile (dns/verify.h), record
 * states for the faces.
 *
 * See netd/hooks.h for when the hooks run.
 */
#ifndef NETD_DNSD_H
#define NETD_DNSD_H

#include <stdbool.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "core/store.h"
#include "netd/netd.h"
#include "netd/ops.h"

/* Open the tables (before any request is served) and start the worker. */
int dnsd_start(struct netd *d, struct netd_err *e);
void dnsd_stop(struct netd *d);   /* accepts d->dnsd NULL */

int dnsd_doc_check(struct netd *d, struct store_txn *t, const struct lyd_node *top, struct ops_result *r);
int dnsd_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now, struct ops_result *r);
void dnsd_committed(struct netd *d, const struct ops_touched *tc);
int dnsd_state(struct netd *d, struct store_txn *t, struct lyd_node *top);
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
void dnsd_figures(struct netd *d, struct dnsd_figures *out);

#endif
