/* netd/devd.h — the devices service: switches and BMCs as managed nodes
 * (decisions.md D30).  netd acts for devices that cannot run an agent: it
 * learns which switch port each node NIC is cabled to, derives the VLANs
 * each port must carry from the node's networks, and pushes exactly that
 * over SNMP (devices/snmp.h) or NETCONF (devices/nc.h); it sets each node's BMC LAN channel to the
 * node's address on its bmc network over IPMI (devices/bmc.h).
 *
 * Model (yang/netd.yang):
 *   /netd:switches            a configuration document (decisions.md D23):
 *     switch[name]            address, driver (snmp or netconf), snmp
 *                             credentials, netconf credentials (user,
 *                             private-key-file or password, known-hosts,
 *                             timeout), allowed-vlans, allowed-ports,
 *                             idle-vlan, learn-interval, link[port] (the
 *                             operator's: node, nic name or MAC, conduit)
 *                             + config false: state, last-error, last-sync,
 *                             last-learn, request-done, bridge-ports,
 *                             last-apply, port[port] (actual and wanted),
 *                             learned-link[port] (source lldp/fdb, evidence)
 *   /netd:nodes/node/bmc      per node, kept in table "dev_bmc" (not in the
 *                             node record): user, password | password-file,
 *                             host, port, cipher-suite, channel + config
 *                             false: state, last-error, address, netmask,
 *                             gateway, vlan, lan-channel, mac, sets...
 *   rpc switch-learn, switch-sync {switch}, bmc-sync {node}
 *                             -> {"request-id"}: queued, answered at once;
 *                             done when the entry's request-done reaches it.
 *
 * Desired port state.  A port is managed when a link names it: the
 * operator's link on that port, else a learned one (an operator link also
 * overrides a learned link of the same node NIC on another port).  The
 * port carries the networks of the node NIC's conduit: the link's conduit
 * leaf; else the conduit the node's conduit plan (conduit-state/plan, what
 * its agent was handed) puts the NIC in, directly or as a bond member (the
 * bond and its mode feed the LAG check); else the one conduit of the
 * node's networks other than "bmc".  Untagged: the network without
 * use-vlan; tagged: the use-vlan ones (devices/devices.h).  A link whose
 * node is gone, or whose node has no network on that conduit, is released:
 * its port gets the idle VLAN.  Learned links whose node left the model are
 * kept (released) until something else is learned on their port.  Each
 * link is checked alone against the guardrails first (dev_desired with that
 * one link): a refused link (port or VLAN outside the allowed lists,
 * conflicting networks, a NIC that does not resolve) is reported on its
 * port ("refused") and left out; the others are applied.
 *
 * Drivers.  SNMP: read Q-BRIDGE-MIB, plan, SET, read again
 * (devices/snmp.h).  NETCONF: SSH to the address (HOST[:PORT], 830 by
 * default) as netconf/user with the private key file, else the password;
 * the host key is checked against netconf/known-hosts (absent: unchecked,
 * lab use only).  The same desired state (dev_desired) goes to
 * dev_nc_apply() (candidate + confirmed commit, or writable-running, read
 * back); ports are eth<bridge port>.  last-apply for a netconf switch:
 * steps and applied = the plan's changes, read-walks = <get-config>s,
 * undo-pdus = <cancel-commit>s, set-pdus and set-varbinds 0, the summary
 * names the edit-configs and the datastore.  Link learning reads LLDP-MIB
 * and the FDB over SNMP: a netconf switch is never learned periodically
 * (learn-interval ignored) and switch-learn on it fails with "link learning
 * needs SNMP (LLDP-MIB, FDB); set its links by hand"; its links are the
 * operator's.
 *
 * The worker.  One thread runs every blocking device operation, one at a
 * time (the SNMP library serializes switches anyway): jig runs first, then
 * the switches, then the BMCs that have work and are due.  Changes are
 * batched: a commit marks what it touched (switches whose links name a
 * touched node, every switch and BMC when networks or the switches
 * document changed) and the worker waits DEVD_SETTLE_MS after the last
 * commit (at most DEVD_SETTLE_MAX_MS after the first one not yet worked
 * on), so a burst of node edits is one reconcile per switch.  A failed
 * operation is retried after a backoff doubling from DEVD_BACKOFF_MIN_MS
 * to DEVD_BACKOFF_MAX_MS.  Links are learned every learn-interval seconds
 * (at once for a switch never learned) and on switch-learn; a learn that
 * changes the links reconciles the switch.  Every switch is reconciled once
 * at start; a BMC is synced at start only when its stored state is not
 * in-sync with the address it should have.  A BMC whose wanted address,
 * mask, gateway and VLAN equal the last in-sync ones is not contacted
 * again unless bmc-sync (or the jig) asks.
 *
 * The devices jig.  A role with jig "devices" on node N: when a switch is
 * named N, reconcile it; otherwise reconcile every switch with a link
 * naming N, and N's BMC if it has a bmc container.  The run succeeds when
 * each of them ended in sync (summary and one log line each); nothing to do
 * is a success.  A switch joins a deployment as the model node of its name
 * (the annealer schedules only model nodes).
 *
 * Store tables: "dev_switch" (switch -> its state as JSON under
 * /netd:switches), "dev_bmc" (node -> its bmc container JSON),
 * "dev_bmc_state" (node -> the bmc state JSON), "dev_req" ('L'/'S' switch
 * or 'B' node -> the latest request id, "#seq" -> the last id given).
 *
 * Threads: devd_start() and devd_run() at start-up; devd_doc_check(),
 * devd_txn(), devd_rpc(), devd_node_put() in the writer's transaction;
 * devd_committed() and the jig on the loop thread; devd_state(),
 * devd_node_entry() on any thread inside a read transaction;
 * devd_figures() on any thread.
 *
 * Caveats:
 *  - Secrets (SNMP keys, community, netconf and BMC passwords) are
 *    configuration, shown to admins only (decisions.md D29); they are never
 *    logged and never part of an error message.
 *  - One worker: an unreachable switch or BMC holds the others for its
 *    timeouts (SNMP timeout x (retries + 1) per request, 3 s per IPMI
 *    command, netconf/timeout per NETCONF connect step and RPC).
 *  - With the NETD-MIB subagent on, net-snmp runs on two threads: the
 *    subagent's AgentX session on the loop, the switch sessions here
 *    (single-session API, under devices/snmp.c's mutex).  The worker starts
 *    after the subagent so that the agent initializes net-snmp.
 *  - The "pending" state is shown from the worker's memory (a change noted
 *    and not yet applied); a GET answer cached by generation (D16) may show
 *    the state of the last stored result a little longer.
 */
#ifndef NETD_DEVD_H
#define NETD_DEVD_H

#include <stdbool.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "core/err.h"
#include "core/store.h"
#include "netd/netd.h"
#include "netd/ops.h"

#define DEVD_SETTLE_MS 100u          /* quiet time after a commit before device work */
#define DEVD_SETTLE_MAX_MS 1000u     /* ... but no longer than this after the first one */
#define DEVD_BACKOFF_MIN_MS 2000u
#define DEVD_BACKOFF_MAX_MS 300000u
#define DEVD_BMC_TIMEOUT_MS 3000u    /* per IPMI command */
#define DEVD_BMC_CONDUIT "bmc"       /* the conduit of a BMC network */
#define DEVD_NIC_ADMIN "admin"       /* the NIC of an admin MAC no inventory names */

/* Open the tables, register the devices jig (after anneal_start()).  Sets
 * d->devd.  0, or a negative code with @e naming what failed. */
int devd_start(struct netd *d, struct netd_err *e);
/* Start the worker (after the NETD-MIB subagent, see Caveats).  0 or an
 * error in @e. */
int devd_run(struct netd *d, struct netd_err *e);
/* Stop the worker (an operation in flight finishes first) and free.  Call
 * after anneal_stop() (which cancels the jig's runs).  Accepts d->devd
 * NULL. */
void devd_stop(struct netd *d);

/* The switches document about to become @top (NULL: deleted): ranges parse
 * (VLANs 1..4094, ports 1..4096, first <= last, at most 64 of each), the
 * idle VLAN is allowed, an snmp switch has its credentials (v3: user,
 * auth-key, priv-key; v2c: community), a netconf switch its user and a
 * private-key-file or password and an address HOST, HOST:PORT or [V6]:PORT.  0, or 400 invalid-value naming the
 * switch, the leaf and the reason. */
int devd_doc_check(struct netd *d, struct store_txn *t, const struct lyd_node *top, struct ops_result *r);
/* After an edit: a renamed node's BMC records follow it and the operator's
 * links name the new name; a deleted node's BMC records and requests go; a
 * deleted switch's state and requests go.  Only writes to the store. */
int devd_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now,
	     struct ops_result *r);
/* After the commit (loop thread): note what changed for the worker. */
void devd_committed(struct netd *d, const struct ops_touched *tc);
/* Operational data under /netd:switches (@top, from the stored document):
 * each configured switch's stored state, "pending" when the worker has
 * work for it.  0 or a negative code. */
int devd_state(struct netd *d, struct store_txn *t, struct lyd_node *top);
/* switch-learn, switch-sync, bmc-sync; *@handled false for other names.
 * Unknown switch or node: 404 invalid-value at the input leaf; a node
 * without a bmc container: 400. */
int devd_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	     uint64_t now, struct ops_result *r, bool *handled);

/* The bmc container of node @node under @entry (its list entry): the
 * stored configuration, and with @state its state.  0 or a negative code
 * (a stored record that does not parse is logged and left out). */
int devd_node_entry(struct netd *d, struct store_txn *t, struct lyd_node *entry, const char *node, bool state);
/* An edit left node entry @entry (validated): store its bmc container if
 * it changed (or drop it), and mark the node touched in @r.  0, or an
 * error in @r. */
int devd_node_put(struct netd *d, struct store_txn *t, const struct lyd_node *entry, const char *node,
		  struct ops_result *r);

/* Figures (any thread). */
struct devd_figures {
	uint32_t switches[4];        /* by state: unknown, pending, in-sync, error */
	uint32_t bmcs[4];
	uint64_t syncs, sync_errors; /* switch reconciles since start */
	uint64_t set_pdus;           /* SNMP SET PDUs sent since start (netconf switches: none) */
	uint64_t bmc_syncs, bmc_errors, bmc_sets;
};
void devd_figures(struct netd *d, struct devd_figures *out);

#endif
