/* netd/hooks.h — where the edit engine (netd/ops.c) hands over to the
 * subsystems that follow the model: DNS publication (netd/dnsd.c) and the
 * annealer (netd/anneal.c).
 *
 * Four moments:
 *  - hooks_doc_check(): an edit is about to rewrite a configuration document
 *    (dns, roles, deployments) with @top, already validated by libyang; the
 *    subsystem checks what YANG cannot say (a deployment's nodes exist, a
 *    role's requirements are acyclic...).  Inside the write transaction.
 *  - hooks_txn(): an edit or RPC succeeded; @tc says what it changed.
 *    Inside the same (child) write transaction, so what a hook writes (the
 *    DNS outbox) commits or rolls back with the change.  May run more than
 *    once for one request (the store retries a batch after growing its map),
 *    so it must only write to the store.
 *  - hooks_committed(): the transaction is durable.  On the loop thread;
 *    wakes the DNS worker, lets the annealer catch up.
 *  - hooks_state(): a GET wants the operational data under a top
 *    container (record states, deployment and node-role states).  On any
 *    thread, inside a read transaction: read the store only.
 *
 * RPCs that belong to a subsystem are dispatched by name through
 * hooks_rpc() (in the write transaction, like hooks_txn()).
 */
#ifndef NETD_HOOKS_H
#define NETD_HOOKS_H

#include <stdbool.h>

#include <libyang/libyang.h>

#include "core/err.h"
#include "core/store.h"
#include "netd/netd.h"
#include "netd/ops.h"

/* 0, or an error in @r (status, tag, path naming the offending leaf). */
int hooks_doc_check(struct netd *d, struct store_txn *t, enum ops_doc doc, const struct lyd_node *top,
		    struct ops_result *r);
/* 0 or a negative code with the reason in @r. */
int hooks_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now,
	      struct ops_result *r);
void hooks_committed(struct netd *d, const struct ops_touched *tc);
/* Add config-false data under @top (the /netd:dns, /netd:deployments,
 * /netd:node-roles or /netd:anneal container, created by the caller).
 * @one: the list key the GET targets ("" = all). */
int hooks_state(struct netd *d, struct store_txn *t, const char *top_name, struct lyd_node *top, const char *one);
/* True if @name ("netd:commit-deployment") is a subsystem's RPC; then
 * *handled is set and its result is in @r. */
int hooks_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	      uint64_t now, struct ops_result *r, bool *handled);

#endif
