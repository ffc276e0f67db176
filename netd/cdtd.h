/* netd/cdtd.h — conduits in the daemon: the /netd:conduits document's
 * checks, each node's NIC inventory and conduit state, and the RPCs the
 * agent (netd/agent.h) and netctl use.
 *
 *   report-inventory   node + its inventory JSON   -> stored for that node only
 *   conduit-resolve    node -> which rule matched, which NIC each reference
 *                      chose, which fallbacks were used (text)
 *   conduit-plan       node -> the desired stack as JSON (devices, ipam's
 *                      addresses, routes, MTUs) and its generation
 *   conduit-report     node, generation, result, changes, error
 *   conduit-confirm    node: keep the change waiting on its management path
 *
 * The annealer's jig "conduits" (registered by cdtd_start(), which runs
 * after anneal_start()): a run for node N asks N's agent (netd --agent,
 * netd/agent.h) to apply N's current plan and waits for its report.  The
 * request is stored (table "cdt_want"); the first conduit-plan for N after
 * it binds the generation it hands out; the run ends with the first
 * conduit-report that settles it:
 *   unchanged, applied, confirmed for a generation >= the bound one
 *        -> success; summary "node N: applied (generation G, C changes)",
 *           log: the report and the plan of that generation, device by
 *           device (the agent logs the changes themselves: conduit-report
 *           carries their number only);
 *   failed for such a generation, or without one (the agent got no plan)
 *        after a conduit-plan for N failed since the request
 *        -> failure; summary and log: the agent's error;
 *   rolled-back -> failure, "node N: rolled back: <the agent's error>";
 *   pending-confirm -> still waiting (a confirmed or rolled-back follows);
 *   nothing by the role's timeout -> failure, "no report from N's agent
 *        within S s: is `netd --agent --node N --watch` running?".
 * Reports are noticed in their transaction and acted on after its commit
 * (a loop wake), so a report that rolled back ends nothing; there is no
 * polling.  A watching agent learns of a run only at its next round: the
 * latency is its watch interval.  Several runs for one node share the
 * request.  Caveat: a run in flight when its node is renamed waits for
 * reports under the old name and ends at its timeout.
 *
 * Storage (decisions.md D24): two tables keyed by node name, "cdt_inv" (the
 * inventory container's JSON) and "cdt_state" (the conduit-state
 * container's JSON: last plan and its generation, last apply, pending
 * confirmation), shown config-false under /netd:nodes/node and moved or
 * dropped with the node (rename, delete).  One node's report rewrites one
 * record.  A third, "cdt_want", holds the conduits jig's request per node
 * (below; not shown).
 *
 * Threads: cdtd_start() at start-up, before any face (and the loop); the
 * jig on the loop thread; cdtd_node_state() on any thread inside a read
 * transaction; the rest on the writer (the loop thread) inside its write
 * transaction.  Errors go into the ops_result with the data path and
 * a message naming the node, conduit, reference and NICs seen.
 */
#ifndef NETD_CDTD_H
#define NETD_CDTD_H

#include <stdbool.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "core/err.h"
#include "core/store.h"
#include "netd/netd.h"
#include "netd/ops.h"

/* Open the tables and register the conduits jig (when the annealer runs).
 * 0 or an error in @e. */
int cdtd_start(struct netd *d, struct netd_err *e);

/* The conduits document @top (NULL: it is being deleted) about to be
 * stored: every conduit builds (references parse, regexes compile) and
 * passes cdt_conduit_check(), bus-order regexes compile, the management
 * network exists, and the conduits networks use are equal or disjoint.
 * 0, or 400 invalid-value naming the conduit, rule and reason. */
int cdtd_doc_check(struct netd *d, struct store_txn *t, const struct lyd_node *top, struct ops_result *r);

/* After an edit: networks changed -> the disjointness check again; nodes
 * renamed -> their records move; nodes deleted -> their records go. */
int cdtd_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now,
	     struct ops_result *r);

/* Add /netd:nodes/node/inventory and conduit-state under @entry (the node
 * @node's list entry) from the store.  0 or a negative code. */
int cdtd_node_state(struct netd *d, struct store_txn *t, struct lyd_node *entry, const char *node);

/* The RPCs above; *@handled false for other names. */
int cdtd_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	     uint64_t now, struct ops_result *r, bool *handled);

#endif
