/* mibs/mib.h — NETD-MIB (mibs/NETD-MIB.txt) served as an AgentX subagent.
 *
 * netd attaches to the host's master agent (snmpd with `master agentx`)
 * over its AgentX socket, registers the netdMIB subtree
 * (1.3.6.1.4.1.32473.1, a placeholder arc, see the MIB) and answers GET,
 * GETNEXT and GETBULK from a snapshot of the store that is rebuilt at most
 * once a second. Objects the MIB defines but netd does not populate yet
 * answer noSuchObject; nothing is made up.
 *
 * Threading (STYLE item 5, docs/decisions.md D21): no thread. net-snmp is
 * driven from the netd event loop through its select-info API: every fd
 * net-snmp reports is watched with loop_fd_add(), and a one-shot timer
 * covers net-snmp's own timeouts and alarms (AgentX ping and reconnect).
 * All net-snmp calls therefore happen on the loop thread.
 *
 * Reconnects: the AgentX ping alarm notices a master that went away and
 * reopens the session (registrations are replayed) every ping interval
 * until it succeeds. A master that is absent at start is retried the
 * same way; mib_start() does not fail for it.
 *
 * Notifications: once a second, if the store changed, the snapshot is
 * rebuilt and every range whose utilization reached the threshold since
 * the last check (edge-triggered, re-armed when it falls below) gets one
 * netdRangeNearlyExhausted, sent through the master. A crossing that
 * happens while no master is connected is sent when the session is back.
 *
 * Caveats:
 *  - net-snmp keeps process-wide state: one agent per process; after
 *    mib_stop() a new mib_start() is refused (NETD_EUNSUPPORTED).
 *  - Call mib_start() and mib_stop() on the loop thread, outside loop
 *    callbacks of this module.
 */
#ifndef NETD_MIB_H
#define NETD_MIB_H

#include <stdint.h>

#include "core/err.h"
#include "core/loop.h"
#include "core/model.h"
#include "core/store.h"
#include "ipam/ipam.h"

struct mib_agent;

struct mib_cfg {
	const char *agentx_socket;   /* e.g. "/var/agentx/master" or "tcp:127.0.0.1:705" */
	unsigned threshold_pct;      /* 1..100: netdRangeNearlyExhausted at or above */
	unsigned ping_interval_s;    /* AgentX ping / reconnect period; 0 = 2 s */
};

/* What the agent reads. The pointers must outlive the agent. */
struct mib_source {
	struct store *store;
	const struct model_tables *mt;
	struct ipam *ipam;
};

/* Start the subagent on @l. An unreachable master is not an error (it is
 * retried). 0, NETD_EINVAL (bad cfg), NETD_EUNSUPPORTED (second start),
 * -ENOMEM, or NETD_ESTORE with e->msg naming the net-snmp step. *out is
 * written only on success. */
int mib_start(struct loop *l, const struct mib_source *src, const struct mib_cfg *cfg, struct mib_agent **out,
	      struct netd_err *e);
/* Change the threshold (SIGHUP). Ranges are re-evaluated at the next tick. */
void mib_set_threshold(struct mib_agent *a, unsigned threshold_pct);
/* Close the AgentX session, drop the fds from the loop, free. Accepts NULL. */
void mib_stop(struct mib_agent *a);

#endif
