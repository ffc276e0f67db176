/* mibs/snap.c — NETD-MIB's figures (gathered by figures.c) as a sorted
 * list of OIDs and values (see snap.h).
 *
 * OID layout (NETD-MIB.txt):
 *   netdMIB.1.1.N.0                       scalars (netdGeneral); 6..8 from the writer's counters
 *   netdMIB.1.2.1.C.<name>                netdNetworkTable, name = len + octets
 *   netdMIB.1.3.1.C.<name>.<fam>.<idx>    netdRangeTable
 *   netdMIB.1.4.1.2.<state>               netdDnsStateTable (netdDnsRecords), DNS figures
 *   netdMIB.1.5.1.2.<state>               netdNodeRoleStateTable (netdNodeRoles), annealer figures
 *   netdMIB.1.6.1.2.<state>               netdSwitchStateTable (netdSwitches), devices figures
 *   netdMIB.1.8.N.0, netdMIB.1.9.N.0      DNS and annealer scalars
 *   netdMIB.1.10.1.2.<state>              netdBmcStateTable (netdBmcs), devices figures
 *   netdMIB.1.11.N.0                      devices scalars (switch and BMC syncs)
 * A service's objects are served only when the services callback reported
 * that part (mib_service_figs.have_*).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mibs/snap.h"

static const uint32_t base_oid[MIB_BASE_LEN] = { MIB_BASE_ARCS };

enum {
	NC_VLAN = 2, NC_RANGES = 3, NC_SIZE = 4, NC_USED = 5, NC_HELD = 6, NC_FREE = 7, NC_LAST = 7,
	RC_NAME = 3, RC_NETWORK = 4, RC_FIRST = 5, RC_LAST = 6, RC_SIZE = 7, RC_USED = 8, RC_HELD = 9,
	RC_FREE = 10, RC_UTIL = 11, RC_LAST_COL = 11,
};

int mib_oid_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return an < bn ? -1 : an > bn ? 1 : 0;
}

/* ---- exact decimals ---- */

int mib_dec_add(const char *a, const char *b, char *out, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), n = (la > lb ? la : lb) + 1;
	char tmp[128];
	unsigned carry = 0;

	if (n + 1 > sizeof tmp)
		return NETD_EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned da = i < la ? (unsigned)(a[la - 1 - i] - '0') : 0;
		unsigned db = i < lb ? (unsigned)(b[lb - 1 - i] - '0') : 0;
		if (da > 9 || db > 9)
			return NETD_EINVAL;
		unsigned s = da + db + carry;
		tmp[n - 1 - i] = (char)('0' + s % 10);
		carry = s / 10;
	}
	tmp[n] = '\0';
	const char *p = tmp;
	while (p[0] == '0' && p[1])
		p++;
	if (strlen(p) + 1 > cap)
		return NETD_EINVAL;
	memcpy(out, p, strlen(p) + 1);
	return 0;
}

__extension__ typedef unsigned __int128 u128;

unsigned mib_util_pct(uint64_t taken, const char *size)
{
	u128 sz = 0;
	for (const char *p = size; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		u128 next = sz * 10 + (u128)(*p - '0');
		if (next / 10 != sz)
			return 0;   /* beyond 2^128: taken (< 2^64) is 0 % of it */
		sz = next;
	}
	if (sz == 0)
		return 0;
	u128 pct = (u128)taken * 100 / sz;
	return pct > 100 ? 100 : (unsigned)pct;
}

/* ---- building ---- */

struct vec {
	struct mib_val *v;
	size_t n, cap;
};

static struct mib_val *push(struct vec *vc, const uint32_t *oid, size_t len, uint8_t type)
{
	if (len > MIB_OID_MAX)
		return NULL;
	if (vc->n == vc->cap) {
		size_t cap = vc->cap ? vc->cap * 2 : 64;
		struct mib_val *nv = realloc(vc->v, cap * sizeof *nv);
		if (!nv)
			return NULL;
		vc->v = nv;
		vc->cap = cap;
	}
	struct mib_val *m = &vc->v[vc->n++];
	memset(m, 0, sizeof *m);
	memcpy(m->oid, oid, len * sizeof *oid);
	m->len = len;
	m->type = type;
	return m;
}

static int push_num(struct vec *vc, const uint32_t *oid, size_t len, uint8_t type, uint64_t num)
{
	struct mib_val *m = push(vc, oid, len, type);
	if (!m)
		return -ENOMEM;
	m->num = num;
	return 0;
}

static int push_str(struct vec *vc, const uint32_t *oid, size_t len, const char *s)
{
	struct mib_val *m = push(vc, oid, len, MIB_T_STRING);
	if (!m)
		return -ENOMEM;
	snprintf(m->str, sizeof m->str, "%s", s);
	return 0;
}

/* Gauge32 latches at its maximum. */
static uint64_t gauge(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : v;
}

/* @buf = netdMIB.1.<table>.1.<column>.<len>.<name octets>; returns length.
 * Names are at most MODEL_NAME_MAX - 1 octets: the OID stays in bounds. */
static size_t row_prefix(uint32_t *buf, uint32_t table, uint32_t column, const char *name)
{
	size_t n = 0, nl = strnlen(name, MODEL_NAME_MAX - 1);
	memcpy(buf, base_oid, sizeof base_oid);
	n = MIB_BASE_LEN;
	buf[n++] = 1;
	buf[n++] = table;
	buf[n++] = 1;
	buf[n++] = column;
	buf[n++] = (uint32_t)nl;
	for (size_t i = 0; i < nl; i++)
		buf[n++] = (uint8_t)name[i];
	return n;
}

size_t mib_range_oid(uint32_t *buf, uint32_t column, const struct mib_range_fig *r)
{
	size_t n = row_prefix(buf, MIB_ARC_RANGES, column, r->network);
	buf[n++] = r->family;
	buf[n++] = r->index;
	return n;
}

size_t mib_scalar_oid(uint32_t *buf, uint32_t arc, uint32_t id)
{
	memcpy(buf, base_oid, sizeof base_oid);
	buf[MIB_BASE_LEN] = 1;
	buf[MIB_BASE_LEN + 1] = arc;
	buf[MIB_BASE_LEN + 2] = id;
	buf[MIB_BASE_LEN + 3] = 0;
	return MIB_BASE_LEN + 4;
}

size_t mib_state_oid(uint32_t *buf, uint32_t arc, uint32_t column, uint32_t state)
{
	memcpy(buf, base_oid, sizeof base_oid);
	buf[MIB_BASE_LEN] = 1;
	buf[MIB_BASE_LEN + 1] = arc;
	buf[MIB_BASE_LEN + 2] = 1;
	buf[MIB_BASE_LEN + 3] = column;
	buf[MIB_BASE_LEN + 4] = state + 1;
	return MIB_BASE_LEN + 5;
}

static int scalar(struct vec *vc, uint32_t arc, uint32_t id, uint8_t type, uint64_t num)
{
	uint32_t oid[MIB_BASE_LEN + 4];
	return push_num(vc, oid, mib_scalar_oid(oid, arc, id), type, num);
}

static int state_rows(struct vec *vc, uint32_t arc, const uint64_t *count, size_t n)
{
	uint32_t oid[MIB_BASE_LEN + 5];
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = push_num(vc, oid, mib_state_oid(oid, arc, MIB_STATE_COUNT_COL, (uint32_t)i), MIB_T_GAUGE,
			      gauge(count[i]));
	return rc;
}

static void range_fig(const struct mib_range_figs *rf, struct mib_range_fig *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->network, sizeof out->network, "%s", rf->network);
	out->family = rf->family == ADDR_V4 ? 1 : 2;
	out->index = rf->index;
	snprintf(out->name, sizeof out->name, "%s", rf->name);
	out->util_pct = mib_util_pct(rf->used + rf->held, rf->size);
	snprintf(out->free, sizeof out->free, "%s", rf->free);
}

static int add_range(struct vec *vc, const struct mib_range_figs *rf, const struct mib_range_fig *f)
{
	uint32_t oid[MIB_OID_MAX];
	char first[ADDR_STRLEN], last[ADDR_STRLEN];
	int rc = 0;

	addr_print(&rf->first, first, sizeof first);
	addr_print(&rf->last, last, sizeof last);
	struct { uint32_t col; uint8_t type; uint64_t num; const char *s; } cols[] = {
		{ RC_NAME, MIB_T_STRING, 0, f->name },
		{ RC_NETWORK, MIB_T_STRING, 0, f->network },
		{ RC_FIRST, MIB_T_STRING, 0, first },
		{ RC_LAST, MIB_T_STRING, 0, last },
		{ RC_SIZE, MIB_T_STRING, 0, rf->size },
		{ RC_USED, MIB_T_GAUGE, gauge(rf->used), NULL },
		{ RC_HELD, MIB_T_GAUGE, gauge(rf->held), NULL },
		{ RC_FREE, MIB_T_STRING, 0, rf->free },
		{ RC_UTIL, MIB_T_GAUGE, f->util_pct, NULL },
	};
	for (size_t i = 0; rc == 0 && i < sizeof cols / sizeof cols[0]; i++) {
		size_t len = mib_range_oid(oid, cols[i].col, f);
		rc = cols[i].s ? push_str(vc, oid, len, cols[i].s) : push_num(vc, oid, len, cols[i].type, cols[i].num);
	}
	return rc;
}

static int add_network(struct vec *vc, const struct mib_network_figs *nf)
{
	uint32_t oid[MIB_OID_MAX];
	int rc = 0;
	struct { uint32_t col; uint64_t num; const char *s; uint8_t type; } cols[] = {
		{ NC_VLAN, nf->vlan, NULL, MIB_T_UNSIGNED },
		{ NC_RANGES, gauge(nf->n_ranges), NULL, MIB_T_GAUGE },
		{ NC_SIZE, 0, nf->size, MIB_T_STRING },
		{ NC_USED, gauge(nf->used), NULL, MIB_T_GAUGE },
		{ NC_HELD, gauge(nf->held), NULL, MIB_T_GAUGE },
		{ NC_FREE, 0, nf->free, MIB_T_STRING },
	};
	for (size_t i = 0; rc == 0 && i < sizeof cols / sizeof cols[0]; i++) {
		size_t len = row_prefix(oid, MIB_ARC_NETWORKS, cols[i].col, nf->name);
		rc = cols[i].s ? push_str(vc, oid, len, cols[i].s) : push_num(vc, oid, len, cols[i].type, cols[i].num);
	}
	return rc;
}

/* The objects of the services' figures that @svc has. */
static int add_services(struct vec *vc, const struct mib_service_figs *svc)
{
	int rc = 0;
	if (svc->have_counters) {
		const struct { uint32_t id; uint64_t v; } c[] = {
			{ MIB_SC_ALLOCATIONS_TOTAL, svc->allocations_total },
			{ MIB_SC_RELEASES_TOTAL, svc->releases_total },
			{ MIB_SC_EXHAUSTIONS_TOTAL, svc->exhausted_total },
		};
		for (size_t i = 0; rc == 0 && i < sizeof c / sizeof c[0]; i++)
			rc = scalar(vc, MIB_ARC_GENERAL, c[i].id, MIB_T_COUNTER64, c[i].v);
	}
	if (rc == 0 && svc->have_dns) {
		rc = state_rows(vc, MIB_ARC_DNS_STATES, svc->dns_records, MIB_DNS_STATES);
		if (rc == 0)
			rc = scalar(vc, MIB_ARC_DNS, MIB_SC_DNS_OUTBOX_DEPTH, MIB_T_GAUGE, gauge(svc->dns_outbox_depth));
		if (rc == 0)
			rc = scalar(vc, MIB_ARC_DNS, MIB_SC_DNS_OUTBOX_OLDEST_AGE, MIB_T_GAUGE,
				    gauge(svc->dns_outbox_oldest_age_s));
		if (rc == 0)
			rc = scalar(vc, MIB_ARC_DNS, MIB_SC_DNS_UPDATES_SENT, MIB_T_COUNTER64, svc->dns_updates_sent);
		if (rc == 0)
			rc = scalar(vc, MIB_ARC_DNS, MIB_SC_DNS_UPDATES_FAILED, MIB_T_COUNTER64, svc->dns_updates_failed);
	}
	if (rc == 0 && svc->have_anneal) {
		rc = state_rows(vc, MIB_ARC_ROLE_STATES, svc->roles, MIB_ROLE_STATES);
		if (rc == 0)
			rc = scalar(vc, MIB_ARC_ROLES, MIB_SC_ROLES_RUNNING, MIB_T_GAUGE, gauge(svc->roles_running));
		if (rc == 0)
			rc = scalar(vc, MIB_ARC_ROLES, MIB_SC_ROLE_TRANSITIONS, MIB_T_COUNTER64, svc->role_transitions);
		if (rc == 0)
			rc = scalar(vc, MIB_ARC_ROLES, MIB_SC_ROLE_ERRORS, MIB_T_COUNTER64, svc->role_errors);
	}
	if (rc == 0 && svc->have_devices) {
		const struct { uint32_t id; uint64_t v; } c[] = {
			{ MIB_SC_SWITCH_SYNCS, svc->switch_syncs },
			{ MIB_SC_SWITCH_SYNC_ERRORS, svc->switch_sync_errors },
			{ MIB_SC_SWITCH_SET_PDUS, svc->switch_set_pdus },
			{ MIB_SC_BMC_SYNCS, svc->bmc_syncs },
			{ MIB_SC_BMC_SYNC_ERRORS, svc->bmc_errors },
			{ MIB_SC_BMC_SETS, svc->bmc_sets },
		};
		rc = state_rows(vc, MIB_ARC_SWITCH_STATES, svc->switches, MIB_DEV_STATES);
		if (rc == 0)
			rc = state_rows(vc, MIB_ARC_BMC_STATES, svc->bmcs, MIB_DEV_STATES);
		for (size_t i = 0; rc == 0 && i < sizeof c / sizeof c[0]; i++)
			rc = scalar(vc, MIB_ARC_DEVICES, c[i].id, MIB_T_COUNTER64, c[i].v);
	}
	return rc;
}

static int val_cmp(const void *a, const void *b)
{
	const struct mib_val *x = a, *y = b;
	return mib_oid_cmp(x->oid, x->len, y->oid, y->len);
}

/* netdAllocationsActive and -Held are the sums of netdRangeUsed and -Held
 * (as the MIB describes them), not the allocation counts by state. */
static int add_general(struct vec *vc, const struct mib_figures *f, unsigned threshold_pct)
{
	uint64_t used = 0, held = 0;
	for (size_t i = 0; i < f->n_ranges; i++) {
		used += f->ranges[i].used;
		held += f->ranges[i].held;
	}
	const struct { uint32_t id; uint8_t type; uint64_t v; } c[] = {
		{ MIB_SC_NETWORKS, MIB_T_GAUGE, gauge(f->networks) },
		{ MIB_SC_NODES, MIB_T_GAUGE, gauge(f->nodes) },
		{ MIB_SC_ACTIVE, MIB_T_GAUGE, gauge(used) },
		{ MIB_SC_HELD, MIB_T_GAUGE, gauge(held) },
		{ MIB_SC_THRESHOLD, MIB_T_UNSIGNED, threshold_pct },
	};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof c / sizeof c[0]; i++)
		rc = scalar(vc, MIB_ARC_GENERAL, c[i].id, c[i].type, c[i].v);
	return rc;
}

int mib_snap_from_figures(const struct mib_figures *f, unsigned threshold_pct, struct mib_snap *out)
{
	struct vec vc = { 0 };
	struct mib_range_fig *ranges = NULL;
	int rc = 0;

	if (f->n_ranges && !(ranges = calloc(f->n_ranges, sizeof *ranges)))
		return -ENOMEM;
	for (size_t i = 0; rc == 0 && i < f->n_nets; i++)
		rc = add_network(&vc, &f->nets[i]);
	for (size_t i = 0; rc == 0 && i < f->n_ranges; i++) {
		range_fig(&f->ranges[i], &ranges[i]);
		rc = add_range(&vc, &f->ranges[i], &ranges[i]);
	}
	if (rc == 0)
		rc = add_general(&vc, f, threshold_pct);
	if (rc == 0)
		rc = add_services(&vc, &f->svc);
	if (rc < 0) {
		free(vc.v);
		free(ranges);
		return rc;
	}
	if (vc.n)
		qsort(vc.v, vc.n, sizeof *vc.v, val_cmp);
	*out = (struct mib_snap){ .v = vc.v, .n = vc.n, .ranges = ranges, .n_ranges = f->n_ranges,
				  .generation = f->generation, .svc = f->svc };
	return 0;
}

int mib_snap_build(const struct mib_source *src, unsigned threshold_pct, struct mib_snap *out)
{
	struct mib_figures f;
	int rc = mib_figures_collect(src, &f);
	if (rc < 0)
		return rc;
	rc = mib_snap_from_figures(&f, threshold_pct, out);
	mib_figures_free(&f);
	return rc;
}

void mib_snap_free(struct mib_snap *s)
{
	if (!s)
		return;
	free(s->v);
	free(s->ranges);
	memset(s, 0, sizeof *s);
}

/* Index of the first value >= @oid (> if !inclusive). */
static size_t lower(const struct mib_snap *s, const uint32_t *oid, size_t len, bool inclusive)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = mib_oid_cmp(s->v[mid].oid, s->v[mid].len, oid, len);
		if (c < 0 || (c == 0 && !inclusive))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct mib_val *mib_snap_get(const struct mib_snap *s, const uint32_t *oid, size_t len)
{
	size_t i = lower(s, oid, len, true);
	if (i < s->n && mib_oid_cmp(s->v[i].oid, s->v[i].len, oid, len) == 0)
		return &s->v[i];
	return NULL;
}

const struct mib_val *mib_snap_next(const struct mib_snap *s, const uint32_t *oid, size_t len, bool inclusive)
{
	size_t i = lower(s, oid, len, inclusive);
	return i < s->n ? &s->v[i] : NULL;
}

bool mib_object_served(const struct mib_snap *s, const uint32_t *oid, size_t len)
{
	if (len < MIB_BASE_LEN + 4 || memcmp(oid, base_oid, sizeof base_oid) || oid[MIB_BASE_LEN] != 1)
		return false;
	uint32_t arc = oid[MIB_BASE_LEN + 1], sub = oid[MIB_BASE_LEN + 2], col = oid[MIB_BASE_LEN + 3];
	const struct mib_service_figs *svc = &s->svc;
	switch (arc) {
	case MIB_ARC_GENERAL:
		return (sub >= MIB_SC_NETWORKS && sub <= MIB_SC_THRESHOLD) ||
		       (svc->have_counters && sub >= MIB_SC_ALLOCATIONS_TOTAL && sub <= MIB_SC_EXHAUSTIONS_TOTAL);
	case MIB_ARC_NETWORKS:
		return sub == 1 && col >= NC_VLAN && col <= NC_LAST;
	case MIB_ARC_RANGES:
		return sub == 1 && col >= RC_NAME && col <= RC_LAST_COL;
	case MIB_ARC_DNS_STATES:
		return svc->have_dns && sub == 1 && col == MIB_STATE_COUNT_COL;
	case MIB_ARC_ROLE_STATES:
		return svc->have_anneal && sub == 1 && col == MIB_STATE_COUNT_COL;
	case MIB_ARC_DNS:
		return svc->have_dns && sub >= MIB_SC_DNS_OUTBOX_DEPTH && sub <= MIB_SC_DNS_UPDATES_FAILED;
	case MIB_ARC_ROLES:
		return svc->have_anneal && sub >= MIB_SC_ROLES_RUNNING && sub <= MIB_SC_ROLE_ERRORS;
	case MIB_ARC_SWITCH_STATES:
	case MIB_ARC_BMC_STATES:
		return svc->have_devices && sub == 1 && col == MIB_STATE_COUNT_COL;
	case MIB_ARC_DEVICES:
		return svc->have_devices && sub >= MIB_SC_SWITCH_SYNCS && sub <= MIB_SC_BMC_SETS;
	default:
		return false;
	}
}

bool mib_rise_check(struct mib_rise *r, uint64_t now, bool can_send)
{
	if (now > r->level) {
		if (!can_send)
			return false;
		r->level = now;
		return true;
	}
	r->level = now;
	return false;
}
