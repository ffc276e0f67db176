/* mibs/mib.h — NETD-MIB (mibs/NETD-MIB.txt) served as an AgentX subagent.
 *
 * netd attaches to the host's master agent (snmpd with `master agentx`)
 * over its AgentX socket, registers the netdMIB subtree
 * (1.3.6.1.4.1.32473.1, a placeholder arc, see the MIB) and answers GET,
 * GETNEXT and GETBULK from a snapshot of the figures (below: the store's
 * and the services') that is rebuilt at most once a second. Objects the
 * MIB defines but netd does not populate (a service part the source does
 * not report) answer noSuchObject; nothing is made up.
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
 * Notifications: once a second, if the store or the services' figures
 * changed, the snapshot is rebuilt and every range whose utilization
 * reached the threshold since the last check (edge-triggered, re-armed
 * when it falls below) gets one netdRangeNearlyExhausted, sent through the
 * master; a rise of the records in drift sends netdDnsDriftDetected, a rise
 * of the node-roles in error (or of the transitions into error) sends
 * netdNodeRoleError (edge-triggered the same way, snap.h mib_rise_check).
 * An edge that happens while no master is connected is sent when the
 * session is back.
 *
 * Caveats:
 *  - net-snmp keeps process-wide state: one agent per process; after
 *    mib_stop() a new mib_start() is refused (NETD_EUNSUPPORTED).
 *  - Call mib_start() and mib_stop() on the loop thread, outside loop
 *    callbacks of this module.
 *  - store_generation() can name a commit a moment before a new read
 *    transaction sees it (LMDB writes the meta page first, then publishes
 *    the snapshot to readers), so mib_figures.generation can be newer than
 *    the figures. The agent rebuilds on any later change, on a change of
 *    the services' figures, and after 10 s at most; GETs rebuild a
 *    snapshot older than 1 s regardless.
 */
#ifndef NETD_MIB_H
#define NETD_MIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
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

/* ---- the figures: one gathering for NETD-MIB and /metrics ----
 *
 * mib_figures_collect() reads what the MIB serves from the store in one read
 * transaction (counts, per-network and per-range utilization) and asks
 * mib_source.services for what netd's services count in memory (the
 * writer's allocation counters, DNS publication, the annealer, the devices
 * service's switches and BMCs). The agent
 * turns the result into OIDs (snap.c); netd/metrics prints the same struct
 * in the Prometheus format. No net-snmp type appears here. */

/* DNS record states, in the order of netd's YANG typedef record-state and
 * of NETD-MIB's netdDnsState (value = index + 1). */
enum mib_dns_state {
	MIB_DNS_PENDING = 0, MIB_DNS_PUBLISHED, MIB_DNS_VERIFIED, MIB_DNS_ERROR, MIB_DNS_CONFLICT, MIB_DNS_DRIFT,
	MIB_DNS_STATES
};
/* Node-role states, in the order of enum ann_state and of NETD-MIB's
 * netdNodeRoleState (value = index + 1). */
enum mib_role_state {
	MIB_ROLE_PROPOSED = 0, MIB_ROLE_TODO, MIB_ROLE_TRANSITION, MIB_ROLE_ACTIVE, MIB_ROLE_ERROR, MIB_ROLE_BLOCKED,
	MIB_ROLE_STATES
};
/* Device (switch, BMC) states, in the order of netd's YANG typedef
 * device-state, of devd_figures() and of NETD-MIB's netdSwitchState and
 * netdBmcState (value = index + 1). */
enum mib_dev_state { MIB_DEV_UNKNOWN = 0, MIB_DEV_PENDING, MIB_DEV_IN_SYNC, MIB_DEV_ERROR, MIB_DEV_STATES };
/* "pending"..., "proposed"..., "in-sync"...: the YANG enum names, used as label values. */
extern const char *const mib_dns_state_name[MIB_DNS_STATES];
extern const char *const mib_role_state_name[MIB_ROLE_STATES];
extern const char *const mib_dev_state_name[MIB_DEV_STATES];

/* What netd's services count (not in the store's records). A part whose
 * have_ flag is false was not filled: its objects are absent (noSuchObject,
 * no metric), never zeros standing in for unknown figures. */
struct mib_service_figs {
	bool have_counters;              /* the writer: committed ipam events since start */
	uint64_t allocations_total;      /* addresses made active (new, or back from hold-down) */
	uint64_t releases_total;         /* addresses put in hold-down */
	uint64_t exhausted_total;        /* requests refused: range or derived space exhausted */
	bool have_dns;                   /* DNS publication */
	uint64_t dns_records[MIB_DNS_STATES];
	uint64_t dns_outbox_depth;       /* changes not yet delivered */
	uint64_t dns_outbox_oldest_age_s;
	uint64_t dns_updates_sent, dns_updates_failed;   /* since start */
	bool have_anneal;                /* the annealer */
	uint64_t roles[MIB_ROLE_STATES]; /* node-roles by state */
	uint64_t roles_running;          /* jigs running now */
	uint64_t role_transitions;       /* state changes since start */
	uint64_t role_errors;            /* transitions into error since start */
	bool have_devices;               /* the devices service (devd_figures) */
	uint64_t switches[MIB_DEV_STATES];   /* configured switches by state ("pending": work noted) */
	uint64_t bmcs[MIB_DEV_STATES];       /* BMCs (nodes with a bmc container) by state */
	uint64_t switch_syncs, switch_sync_errors;   /* switch reconciles since start, failed ones */
	uint64_t switch_set_pdus;        /* SNMP SET PDUs sent to switches since start */
	uint64_t bmc_syncs, bmc_errors, bmc_sets;    /* BMC syncs, failed ones, IPMI sets since start */
};

/* One range of one network, as ipam_utilization() reports it. */
struct mib_range_figs {
	char network[MODEL_NAME_MAX];
	uint8_t family;                  /* ADDR_V4 or ADDR_V6 */
	uint32_t index;                  /* position among the network's ranges of that family, from 1 */
	char name[MODEL_NAME_MAX];       /* "derived" for the hashed IPv6 space */
	struct addr first, last;
	char size[ADDR_DECIMAL_MAX];     /* exact, decimal */
	char free[ADDR_DECIMAL_MAX];     /* exact, decimal: size - used - held */
	uint64_t used, held;
};

/* One network: its ranges summed (sizes exactly, as decimals). */
struct mib_network_figs {
	char name[MODEL_NAME_MAX];
	uint32_t vlan;                   /* 0 = none */
	size_t first_range, n_ranges;    /* its slice of mib_figures.ranges */
	char size[ADDR_DECIMAL_MAX + 1]; /* "?" if the exact sum needed more than 40 digits */
	char free[ADDR_DECIMAL_MAX + 1];
	uint64_t used, held;
};

struct mib_figures {
	uint64_t generation;             /* store_generation(), read before the data (see Caveats) */
	uint64_t networks, nodes;
	uint64_t allocs_active, allocs_held;   /* every allocation by state (VIPs included) */
	struct mib_network_figs *nets;   /* in the store's network order */
	size_t n_nets;
	struct mib_range_figs *ranges;   /* every range of every network, network by network */
	size_t n_ranges;
	struct mib_service_figs svc;
};

/* What the agent reads. The pointers must outlive the agent. */
struct mib_source {
	struct store *store;
	const struct model_tables *mt;
	struct ipam *ipam;
	/* Optional. Fills what netd's services count; gets @out zeroed and
	 * sets the have_ flag of each part it fills. Called on the gathering
	 * thread (the loop thread for the agent, an HTTP thread for /metrics;
	 * the agent also once a second to see whether they changed), after the
	 * store's read transaction has ended, so it may open its own; it must
	 * be safe on any thread and must not wait for the loop. NULL: none of
	 * those objects are served. */
	void (*services)(void *arg, struct mib_service_figs *out);
	void *services_arg;
};

/* Gather every figure: the store's in one read transaction, then the
 * services'. Any thread. 0, -ENOMEM or a store error; *out is written only
 * on success. Free with mib_figures_free(). */
int mib_figures_collect(const struct mib_source *src, struct mib_figures *out);
void mib_figures_free(struct mib_figures *f);   /* accepts NULL and zeroed; leaves it zeroed */
/* Only the services' part (zeroed, then src->services if set). Any thread. */
void mib_services_read(const struct mib_source *src, struct mib_service_figs *out);

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
