/* mibs/snap.h — private to mibs/: the figures NETD-MIB serves, gathered
 * from the store into a sorted list of (OID, value), with no net-snmp
 * types, so the logic is testable without an agent.
 *
 * TODO: unify with netd/metrics (metrics_collect) once that lands; both
 * gather the same per-network and per-range utilization. */
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

enum mib_type { MIB_T_GAUGE = 1, MIB_T_UNSIGNED, MIB_T_STRING, MIB_T_COUNTER64, MIB_T_INTEGER };

struct mib_val {
	uint32_t oid[MIB_OID_MAX];
	size_t len;
	uint8_t type;         /* enum mib_type */
	uint64_t num;
	char str[ADDR_DECIMAL_MAX > ADDR_STRLEN ? ADDR_DECIMAL_MAX : ADDR_STRLEN];
};

/* One range as the notification logic needs it. */
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
};

/* Gather everything from @src in one read transaction. @threshold_pct is
 * served as netdExhaustionThreshold. 0, -ENOMEM or a store error; *out is
 * written only on success. */
int mib_snap_build(const struct mib_source *src, unsigned threshold_pct, struct mib_snap *out);
void mib_snap_free(struct mib_snap *s);   /* accepts zeroed */

/* GET: the value at exactly @oid, or NULL. */
const struct mib_val *mib_snap_get(const struct mib_snap *s, const uint32_t *oid, size_t len);
/* GETNEXT: the first value after @oid (at or after it if @inclusive). */
const struct mib_val *mib_snap_next(const struct mib_snap *s, const uint32_t *oid, size_t len, bool inclusive);
/* Is @oid an instance of an object netd serves (for noSuchInstance versus
 * noSuchObject)? */
bool mib_object_served(const uint32_t *oid, size_t len);

/* OID order (lexicographic by arc, shorter first on a common prefix). */
int mib_oid_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn);

/* Exact decimal helpers (exported for tests): a + b into @out (cap >=
 * ADDR_DECIMAL_MAX + 1); floor(100 * taken / size) for decimal @size (0 if
 * size is 0). */
int mib_dec_add(const char *a, const char *b, char *out, size_t cap);
unsigned mib_util_pct(uint64_t taken, const char *size);

/* Instance OIDs for the notification varbinds (column of netdRangeEntry). */
size_t mib_range_oid(uint32_t *buf, uint32_t column, const struct mib_range_fig *r);

#endif
