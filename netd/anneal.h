/* netd/anneal.h — the annealer as a netd service: the scheduling core
 * (annealer/annealer.h) fed from the store, jigs (annealer/jig.h) run on
 * the loop, every state change persisted, events streamed.
 *
 * Everything here runs on the loop thread except anneal_state() (any
 * thread, read transaction), the event subscription (any thread) and
 * anneal_figures() (any thread).  See netd/hooks.h for when the hooks run
 * and netd/anneal.c for the store layout.
 *
 * What the faces see (RESTCONF JSON; netctl and the SSE stream use these):
 *   POST /restconf/operations/netd:propose-deployment
 *        {"netd:input":{"deployment":"D","node":["n1",...],"role":["r1",...]}}
 *        -> 204.  Creates the deployment or adds nodes and roles to it
 *        (its node-roles: every node x every role, plus implicit ones at
 *        binding).  Unknown node or role -> 400 invalid-value, path
 *        /netd:propose-deployment/node (or /role), "no node named 'x'".
 *   POST .../netd:commit-deployment {"netd:input":{"deployment":"D"}}
 *        -> 204.  Unknown deployment -> 404 invalid-value, path
 *        /netd:commit-deployment/deployment; a requirement that cannot be
 *        bound or a cycle -> 400, path /netd:roles/role[name='R']/requires,
 *        "cycle: web -> db -> web".  Node-roles added to a committed
 *        deployment stay proposed until it is committed again.
 *   POST .../netd:retry-node-role {"netd:input":{"deployment":"D"[,"node":"N"][,"role":"R"]}}
 *        -> 200 {"netd:output":{"retried":3}} (node-roles in error that
 *        matched; 0 is not an error).
 *   GET  /restconf/data/netd:deployments[/deployment=D]
 *        -> each deployment: "name","node":[...],"role":[...] (configuration)
 *           plus "state": proposed | committed | active | error and
 *           "counts":{"proposed":0,"todo":0,"transition":0,"active":500,
 *           "error":0,"blocked":0}.  state: not committed -> proposed; a
 *           node-role in error -> error; all active -> active; else committed.
 *   GET  /restconf/data/netd:node-roles (all), or .../node-role=D,N,R (the
 *        node-roles of deployment D are read, the entry picked)
 *        -> {"netd:node-roles":{"node-role":[{"deployment","node","role",
 *           "state","cohort","run-count","attempts","changed-at",
 *           "parent":["role@node",...],"summary","log"}...]}}
 *           (summary and log: the last run's, absent before one ended; the
 *           log is capped at 64 KiB, cut in the middle).
 *   GET  /restconf/data/netd:anneal
 *        -> {"netd:anneal":{"running":N,"queued":N,"event":[{"seq":"7",
 *           "at":"...","deployment","node","role","from","to","cause"}...]}}
 *           (the last 100 events, oldest first; running = node-roles in
 *           transition, queued = in todo).
 * Reads come from the store, so they are as current as the last turn's
 * flush (normally the same loop turn as the change).
 *
 * Caveats:
 *  - Jigs must be idempotent: node-roles stored in transition when netd
 *    stopped (or was killed) run again after the start.
 *  - A node deleted from the model keeps its node-roles; they run again
 *    (their input changed) and fail with "node N is not in the model".
 *  - Removing or changing roles, deployments or their nodes, and renaming a
 *    node, rebuild the annealer from the store once no jig runs: new runs
 *    wait for the runs in flight (see netd/anneal.c).
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
 * were in transition, register the jigs (ipam, dns next to noop and exec),
 * start scheduling (the first turn runs when the loop does).  Sets
 * d->anneal.  0, or a negative code with @e naming what failed.  The
 * transition limit is server/anneal-max-running. */
int anneal_start(struct netd *d, struct netd_err *e);
/* Kill the runs in flight (their node-roles are queued again at the next
 * start), persist what is pending, wake every anneal_event_wait() with
 * -ECANCELED and wait for them to return, free.  Call after the faces
 * and the writer are gone.  Accepts d->anneal NULL. */
void anneal_stop(struct netd *d);

/* The roles (or deployments) document is about to become @top (NULL:
 * deleted).  Roles: a known jig, a script for exec, no cycle along
 * requires ("cycle: a -> b -> a" at the first role's requires; a
 * requirement naming a role not defined yet is allowed), no role a
 * deployment still lists removed (409 in-use).  Deployments: nodes added
 * exist in the model, every role exists.  0, or an error in @r. */
int anneal_doc_check(struct netd *d, struct store_txn *t, enum ops_doc doc, const struct lyd_node *top,
		     struct ops_result *r);
/* In the write transaction: for rename-node, the deployments that list
 * the old name list the new one and the node-role records follow.  Only
 * writes to the store (may run twice).  0, or an error in @r. */
int anneal_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now,
	       struct ops_result *r);
/* After the commit (loop thread): note what changed (documents, touched
 * nodes, a rename, requests of the RPCs) for the next turn. */
void anneal_committed(struct netd *d, const struct ops_touched *tc);
/* Operational data under @top_name ("deployments", "node-roles",
 * "anneal"; shapes above) from the store, inside read transaction @t.
 * @one: the deployment the GET targets ("" = all).  0 or a negative code. */
int anneal_state(struct netd *d, struct store_txn *t, const char *top_name, struct lyd_node *top, const char *one);
/* propose-deployment, commit-deployment, retry-node-role (see above);
 * *handled false for other names.  The RPCs that change the annealer's
 * state write a request record applied after the commit, so an answered
 * RPC survives a crash. */
int anneal_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	       uint64_t now, struct ops_result *r, bool *handled);

/* Add a jig implemented by another netd service (conduits, devices) to the
 * annealer's registry, so roles may name it: after anneal_start(), on the
 * loop thread; @ops must outlive the annealer (see annealer/jig.h for the
 * contract: the run ends with ann_jig_finish() on the loop thread).  0,
 * NETD_EEXIST (name taken), NETD_EINVAL, or -ENOMEM, with @e. */
struct ann_jig_ops;
int anneal_jig_register(struct netd *d, const struct ann_jig_ops *ops, void *ctx, struct netd_err *e);

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
 * -ECANCELED when netd is stopping. Any thread but the loop's.
 * @timeout_ms 0 only looks, < 0 waits without a limit. */
int anneal_event_wait(struct netd *d, uint64_t after, int timeout_ms);
/* Call @fn for each stored event with seq > @after, in order, at most @max
 * (0 = all); @fn returns non-zero to stop. 0 or a negative code.  Events
 * are never renumbered or pruned; names are those at the time (a renamed
 * node's old events keep the old name). */
int anneal_event_read(struct netd *d, struct store_txn *t, uint64_t after, size_t max,
		      int (*fn)(const struct anneal_event *ev, void *arg), void *arg);
/* An event as the JSON of the netd:node-role-transition notification in an
 * RFC 8040 ietf-restconf:notification envelope (heap string, NULL when out
 * of memory), one line:
 *   {"ietf-restconf:notification":{"eventTime":"2026-11-25T15:40:05.487Z",
 *    "netd:node-role-transition":{"seq":"7","deployment":"D","node":"N",
 *    "role":"R","from":"todo","to":"transition","cause":"scheduled"}}} */
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
