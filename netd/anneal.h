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

/* ---- the event stream (RESTCONF server-sent events, netctl anneal watch) ----
 * Every state change is an event with a sequence number (1, 2, ...),
 * appended to the audit log table in the store in the transaction that
 * persists the state (so events survive restarts and are never renumbered).
 * Readers on any thread: wait for news, then read from the store. */
struct anneal_event {
	uint64_t seq;
	uint64_t at;                 /* unix milliseconds */
	char deployment[64], node[64], role[64];
	char from[16], to[16];       /* state names ("todo", ...) */
	char cause[256];
};
/* The last persisted sequence number (0 = none). Any thread. */
uint64_t anneal_event_last(struct netd *d);
/* Block until an event after @after is persisted, @timeout_ms passes or
 * netd stops. Returns 0 (news), -ETIMEDOUT, or NETD_ESTOPPED-like
 * -ECANCELED when netd is stopping. Any thread but the loop's. */
int anneal_event_wait(struct netd *d, uint64_t after, int timeout_ms);
/* Call @fn for each stored event with seq > @after, in order, at most @max
 * (0 = all); @fn returns non-zero to stop. 0 or a negative code. */
int anneal_event_read(struct netd *d, struct store_txn *t, uint64_t after, size_t max,
		      int (*fn)(const struct anneal_event *ev, void *arg), void *arg);
/* An event as the JSON of the netd:node-role-transition notification in an
 * RFC 8040 ietf-restconf:notification envelope (heap string). */
char *anneal_event_json(const struct anneal_event *ev);

/* Figures for /metrics and the MIB (loop thread or any: a snapshot). */
struct anneal_figures {
	uint32_t count[6];        /* by enum ann_state */
	uint32_t running;
	uint64_t transitions;     /* since start */
	uint64_t errors;          /* transitions into error since start */
};
void anneal_figures(struct netd *d, struct anneal_figures *out);

#endif
