/* netd/agent.h — netd --agent: a node's side of conduits.
 *
 *   netd --agent --server URL --node NAME [--token-file F]
 *        [--confirm-timeout S] [--watch S] [--inventory-file F]
 *        [--vlan-as-macvlan] [--log-level L]
 *
 * One run: read the NIC inventory (cdt_inventory_read_links) and report it
 * (report-inventory), fetch the plan (conduit-plan), compare it with the
 * node's actual state (cdt_actual_read + cdt_diff), apply it all or nothing
 * (cdt_apply; a second run makes zero changes) and report the outcome
 * (conduit-report; the changes are counted there and listed in the agent's
 * log, one info line each).  With --watch S it runs again every S seconds
 * until SIGTERM or SIGINT.
 *
 * The annealer's conduits jig (netd/cdtd.h) waits for this agent: a run for
 * the node ends with the first report, after the run began, for a plan at
 * least as new as the one the next conduit-plan hands out.  Nothing tells a
 * watching agent that a run waits, so the latency is up to the watch
 * interval plus one run: keep S well below the role's timeout.
 *
 * Commit-confirm (decisions.md D25).  When a change touches the management
 * path — a device that carries the node's management address (the plan's
 * management-address, and the address this agent reaches netd from), the
 * devices below it, a route through it or the default route of its family —
 * the agent first reports pending-confirm, keeps the actual state read
 * before the change, applies, and then polls netd (fresh connections) until
 * the deadline (--confirm-timeout, else the plan's, else 60 s):
 *   - self-confirm (the plan's default): the first poll that reaches netd
 *     confirms;
 *   - otherwise netctl conduit confirm NODE does, seen by the poll.
 * Without a confirmation the agent restores the state read before (a plan
 * made from it, applied by the library, then any address the change left on
 * a NIC is removed) and reports rolled-back once netd is reachable again.
 *
 * Lab and test options: --inventory-file F reports the NICs F names (its
 * format is report-inventory's, {"netd:inventory":{...}}) with the kernel's
 * facts, but F's speed-class, supported-speed, speed, PCI path, driver and
 * product name where it states them (veth NICs all report 10g and no link
 * modes; a class stated alone brings its supported speed along, as netd
 * does for any report without supported speeds); --vlan-as-macvlan
 * applies VLANs as macvlans of the same name, for kernels without 802.1Q.
 *
 * Exit status: 0 unchanged, applied or confirmed; 1 failed or rolled back;
 * 2 netd unreachable; 64 usage.
 *
 * Caveats:
 *  - The rollback timer lives in the agent: if the agent dies inside the
 *    window, the change stays (and the next run re-applies the plan anyway).
 *  - A restore brings back devices, masters, MTUs, addresses and routes; a
 *    non-netd default route it restores comes back with netd's protocol
 *    (77), and a NIC that was down stays up.
 */
#ifndef NETD_AGENT_H
#define NETD_AGENT_H

#include <stdbool.h>

/* True if @argv holds "--agent". */
bool agent_wanted(int argc, char **argv);

/* Run the agent; returns the process exit status. */
int agent_main(int argc, char **argv);

#endif
