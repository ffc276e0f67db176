/* mibs/snap.h — private to mibs/: the figures (mib.h) as NETD-MIB serves
 * them, a sorted list of (OID, value), with no net-snmp types, so the logic
 * is testable without an agent; and the edge detection behind the
 * notifications.
 */
#ifndef NETD_MIB_SNAP_H
#define NETD_MIB_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/model.h"
#include "mibs/mib.h"

#define MIB_OID_MAX 128

/* netdMIB = 1.3.6.1.4.1.32473.1 (placeholder PEN, see NETD-MIB.txt). */
#define MIB_BASE_ARCS 1, 3, 6, 1, 4, 1, 32473, 1
#define MIB_BASE_LEN 8

/* Arcs under netdObjects (netdMIB.1), see NETD-MIB.txt. */
enum mib_arc {
	MIB_ARC_GENERAL = 1,      /* scalars netdMIB.1.1.N.0 */
	MIB_ARC_NETWORKS = 2,     /* netdNetworkTable */
	MIB_ARC_RANGES = 3,       /* netdRangeTable */
	MIB_ARC_DNS_STATES = 4,   /* netdDnsStateTable */
	MIB_ARC_ROLE_STATES = 5,  /* netdNodeRoleStateTable */
	MIB_ARC_SWITCH_STATES = 6, /* netdSwitchStateTable, devices figures */
	MIB_ARC_NOTIFY = 7,       /* accessible-for-notify objects: never read */
	MIB_ARC_DNS = 8,          /* scalars netdMIB.1.8.N.0 */
	MIB_ARC_ROLES = 9,        /* scalars netdMIB.1.9.N.0 */
	MIB_ARC_BMC_STATES = 10,  /* netdBmcStateTable, devices figures */
	MIB_ARC_DEVICES = 11,     /* scalars netdMIB.1.11.N.0 */
};
/* Scalars of netdGeneral, netdDns and netdNodeRole (their last arc). */
enum {
	MIB_SC_NETWORKS = 1, MIB_SC_NODES, MIB_SC_ACTIVE, MIB_SC_HELD, MIB_SC_THRESHOLD, MIB_SC_ALLOCATIONS_TOTAL,
	MIB_SC_RELEASES_TOTAL, MIB_SC_EXHAUSTIONS_TOTAL,
	MIB_SC_DNS_OUTBOX_DEPTH = 1, MIB_SC_DNS_OUTBOX_OLDEST_AGE, MIB_SC_DNS_UPDATES_SENT, MIB_SC_DNS_UPDATES_FAILED,
	MIB_SC_ROLES_RUNNING = 1, MIB_SC_ROLE_TRANSITIONS, MIB_SC_ROLE_ERRORS,
	MIB_SC_SWITCH_SYNCS = 1, MIB_SC_SWITCH_SYNC_ERRORS, MIB_SC_SWITCH_SET_PDUS, MIB_SC_BMC_SYNCS,
	MIB_SC_BMC_SYNC_ERRORS, MIB_SC_BMC_SETS,
};
/* The count column of the state tables (netdDnsRecords, netdNodeRoles,
 * netdSwitches, netdBmcs). */
#define MIB_STATE_COUNT_COL 2

enum mib_type { MIB_T_GAUGE = 1, MIB_T_UNSIGNED, MIB_T_STRING, MIB_T_COUNTER64, MIB_T_INTEGER };

struct mib_val {
	uint32_t oid[MIB_OID_MAX];
	size_t len;
	uint8_t type;         /* enum mib_type */
	uint64_t num;
	char str[ADDR_DECIMAL_MAX > ADDR_STRLEN ? ADDR_DECIMAL_MAX : ADDR_STRLEN];
};

/* One range as the threshold logic needs it. */
struct mib_range_fig {
	char network[MODEL_NAME_MAX];
	uint8_t family;       /* 1 ipv4, 2 ipv6 (netdRangeFamily) */
	uint32_t index;       /* netdRangeIndex */
	char name[MODEL_NAME_MAX];
	unsigned util_pct;
	char free[ADDR_DECIMAL_MAX];
};

struct mib_snap {
	struct mib_val *v;    /* sorted by OID */
	size_t n;
	struct mib_range_fig *ranges;
	size_t n_ranges;
	uint64_t generation;  /* store_generation() it was built at */
	struct mib_service_figs svc;   /* what the services reported (the notifications' figures) */
};

/* The snapshot of @f; @threshold_pct is served as netdExhaustionThreshold.
 * Service parts whose have_ flag is false are left out. 0 or -ENOMEM;
 * *out is written only on success. */
int mib_snap_from_figures(const struct mib_figures *f, unsigned threshold_pct, struct mib_snap *out);
/* mib_figures_collect() then mib_snap_from_figures(). 0, -ENOMEM or a
 * store error; *out is written only on success. */
int mib_snap_build(const struct mib_source *src, unsigned threshold_pct, struct mib_snap *out);
void mib_snap_free(struct mib_snap *s);   /* accepts NULL and zeroed */

/* GET: the value at exactly @oid, or NULL. */
const struct mib_val *mib_snap_get(const struct mib_snap *s, const uint32_t *oid, size_t len);
/* GETNEXT: the first value after @oid (at or after it if @inclusive). */
const struct mib_val *mib_snap_next(const struct mib_snap *s, const uint32_t *oid, size_t len, bool inclusive);
/* Is @oid an instance of an object @s serves (for noSuchInstance versus
 * noSuchObject)? The store's objects always; the services' ones when @s
 * has their figures. */
bool mib_object_served(const struct mib_snap *s, const uint32_t *oid, size_t len);

/* OID order (lexicographic by arc, shorter first on a common prefix). */
int mib_oid_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn);

/* Exact decimal helpers (exported for tests): a + b into @out (cap >=
 * ADDR_DECIMAL_MAX + 1); floor(100 * taken / size) for decimal @size (0 if
 * size is 0). */
int mib_dec_add(const char *a, const char *b, char *out, size_t cap);
unsigned mib_util_pct(uint64_t taken, const char *size);

/* Instance OIDs, for the notification varbinds; @buf holds MIB_OID_MAX
 * arcs; each returns the length. A column of netdRangeEntry: */
size_t mib_range_oid(uint32_t *buf, uint32_t column, const struct mib_range_fig *r);
/* netdMIB.1.<arc>.<id>.0, a scalar (MIB_ARC_GENERAL, _DNS, _ROLES, _DEVICES): */
size_t mib_scalar_oid(uint32_t *buf, uint32_t arc, uint32_t id);
/* netdMIB.1.<arc>.1.<column>.<state + 1>, a state table's cell: */
size_t mib_state_oid(uint32_t *buf, uint32_t arc, uint32_t column, uint32_t state);

/* Edge detection for a count whose rise is notified (netdDnsDriftDetected,
 * netdNodeRoleError), edge-triggered like netdRangeNearlyExhausted: the
 * first check notifies a count above zero; after that, a rise above the
 * last notified level notifies once; a fall re-arms at the lower level.
 * With @can_send false (no master) a rise is kept for the next check and a
 * fall still lowers the level. */
struct mib_rise {
	uint64_t level;   /* zero-initialized */
};
/* Returns true when the caller must send now; the level is then @now. */
bool mib_rise_check(struct mib_rise *r, uint64_t now, bool can_send);

#endif
