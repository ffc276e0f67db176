/* netd/anneal.h — the annealer as a netd service: the scheduling core
 * (annealer/annealer.h) fed from the store, jigs (annealer/jig.h) run on
 * the loop, every state change persisted, events streamed.
 *
 * Everything here runs on the loop thread except anneal_state() (any
 * thread, read transaction) and the event subscription (any thread).
 * See netd/hooks.h for when the hooks run.
 */
#ifndef NETD_ANNEAL_H
#define NETD_ANNEAL_H

#include <stdbool.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "core/store.h"
#include "netd/netd.h"
#include "netd/ops.h"

/* Open the annealer's tables (before any request is served), load roles,
 * deployments and node-role states from the store, recover node-roles that
 * were in transition, register the jigs, start scheduling.  d->anneal. */
int anneal_start(struct netd *d, struct netd_err *e);
void anneal_stop(struct netd *d);   /* accepts d->anneal NULL */

int anneal_doc_check(struct netd *d, struct store_txn *t, enum ops_doc doc, const struct lyd_node *top,
		     struct ops_result *r);
int anneal_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now,
	       struct ops_result *r);
void anneal_committed(struct netd *d, const struct ops_touched *tc);
int anneal_state(struct netd *d, struct store_txn *t, const char *top_name, struct lyd_node *top, const char *one);
int anneal_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	       uint64_t now, struct ops_result *r, bool *handled);

/* Figures for /metrics and the MIB (loop thread or any: a snapshot). */
struct anneal_figures {
	uint32_t count[6];        /* by enum ann_state */
	uint32_t running;
	uint64_t transitions;     /* since start */
	uint64_t errors;          /* transitions into error since start */
};
void anneal_figures(struct netd *d, struct anneal_figures *out);

#endif
