/* mibs/snap.c — gathering NETD-MIB's figures from the store (see snap.h).
 *
 * OID layout (NETD-MIB.txt):
 *   netdMIB.1.1.N.0                       scalars (netdGeneral)
 *   netdMIB.1.2.1.C.<name>                netdNetworkTable, name = len + octets
 *   netdMIB.1.3.1.C.<name>.<fam>.<idx>    netdRangeTable
 * Everything else under netdMIB (the DNS, node-role and switch tables,
 * the event counters) is defined but not served.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mibs/snap.h"

static const uint32_t base_oid[MIB_BASE_LEN] = { MIB_BASE_ARCS };

enum {
	SC_NETWORKS = 1, SC_NODES = 2, SC_ACTIVE = 3, SC_HELD = 4, SC_THRESHOLD = 5,
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
	struct mib_range_fig *r;
	size_t nr, capr;
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

/* @buf = netdMIB.1.<table>.1.<column>.<len>.<name octets>; returns length. */
static size_t row_prefix(uint32_t *buf, uint32_t table, uint32_t column, const char *name)
{
	size_t n = 0, nl = strlen(name);
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
	size_t n = row_prefix(buf, 3, column, r->network);
	buf[n++] = r->family;
	buf[n++] = r->index;
	return n;
}

struct gather {
	const struct mib_source *src;
	struct store_txn *t;
	struct vec *vc;
	uint64_t used, held;
	uint64_t n_networks;
};

static int add_range(struct gather *g, const struct model_network *net, const struct ipam_util *u, uint32_t index)
{
	struct vec *vc = g->vc;
	uint32_t oid[MIB_OID_MAX];
	char first[ADDR_STRLEN], last[ADDR_STRLEN];
	struct mib_range_fig f = { .family = u->family == ADDR_V4 ? 1 : 2, .index = index };
	int rc = 0;

	snprintf(f.network, sizeof f.network, "%s", net->name);
	snprintf(f.name, sizeof f.name, "%s", u->range[0] ? u->range : "derived");
	snprintf(f.free, sizeof f.free, "%s", u->free);
	f.util_pct = mib_util_pct(u->used + u->held, u->size);
	addr_print(&u->first, first, sizeof first);
	addr_print(&u->last, last, sizeof last);

	struct { uint32_t col; uint8_t type; uint64_t num; const char *s; } cols[] = {
		{ RC_NAME, MIB_T_STRING, 0, f.name },
		{ RC_NETWORK, MIB_T_STRING, 0, net->name },
		{ RC_FIRST, MIB_T_STRING, 0, first },
		{ RC_LAST, MIB_T_STRING, 0, last },
		{ RC_SIZE, MIB_T_STRING, 0, u->size },
		{ RC_USED, MIB_T_GAUGE, gauge(u->used), NULL },
		{ RC_HELD, MIB_T_GAUGE, gauge(u->held), NULL },
		{ RC_FREE, MIB_T_STRING, 0, u->free },
		{ RC_UTIL, MIB_T_GAUGE, f.util_pct, NULL },
	};
	for (size_t i = 0; rc == 0 && i < sizeof cols / sizeof cols[0]; i++) {
		size_t len = mib_range_oid(oid, cols[i].col, &f);
		rc = cols[i].s ? push_str(vc, oid, len, cols[i].s) : push_num(vc, oid, len, cols[i].type, cols[i].num);
	}
	if (rc < 0)
		return rc;
	if (vc->nr == vc->capr) {
		size_t cap = vc->capr ? vc->capr * 2 : 16;
		struct mib_range_fig *nr = realloc(vc->r, cap * sizeof *nr);
		if (!nr)
			return -ENOMEM;
		vc->r = nr;
		vc->capr = cap;
	}
	vc->r[vc->nr++] = f;
	return 0;
}

static int add_network(const struct model_network *net, void *arg)
{
	struct gather *g = arg;
	struct ipam_util *util = NULL;
	size_t n_util = 0;
	uint32_t oid[MIB_OID_MAX];
	uint64_t used = 0, held = 0;
	char size[ADDR_DECIMAL_MAX + 2] = "0", free_[ADDR_DECIMAL_MAX + 2] = "0";
	uint32_t idx4 = 0, idx6 = 0;
	int rc;

	if (strlen(net->name) > 63)
		return 0;   /* cannot happen (names are 1..63); keeps the OID in bounds */
	rc = ipam_utilization(g->src->ipam, g->t, net, &util, &n_util);
	if (rc < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n_util; i++) {
		const struct ipam_util *u = &util[i];
		rc = add_range(g, net, u, u->family == ADDR_V4 ? ++idx4 : ++idx6);
		used += u->used;
		held += u->held;
		if (rc == 0 && mib_dec_add(size, u->size, size, sizeof size) < 0)
			snprintf(size, sizeof size, "?");
		if (rc == 0 && mib_dec_add(free_, u->free, free_, sizeof free_) < 0)
			snprintf(free_, sizeof free_, "?");
	}
	free(util);
	if (rc < 0)
		return rc;
	g->used += used;
	g->held += held;
	g->n_networks++;

	struct { uint32_t col; uint64_t num; const char *s; uint8_t type; } cols[] = {
		{ NC_VLAN, net->vlan, NULL, MIB_T_UNSIGNED },
		{ NC_RANGES, n_util, NULL, MIB_T_GAUGE },
		{ NC_SIZE, 0, size, MIB_T_STRING },
		{ NC_USED, gauge(used), NULL, MIB_T_GAUGE },
		{ NC_HELD, gauge(held), NULL, MIB_T_GAUGE },
		{ NC_FREE, 0, free_, MIB_T_STRING },
	};
	for (size_t i = 0; rc == 0 && i < sizeof cols / sizeof cols[0]; i++) {
		size_t len = row_prefix(oid, 2, cols[i].col, net->name);
		rc = cols[i].s ? push_str(g->vc, oid, len, cols[i].s)
			       : push_num(g->vc, oid, len, cols[i].type, cols[i].num);
	}
	return rc;
}

static int val_cmp(const void *a, const void *b)
{
	const struct mib_val *x = a, *y = b;
	return mib_oid_cmp(x->oid, x->len, y->oid, y->len);
}

static int scalar(struct vec *vc, uint32_t id, uint8_t type, uint64_t num)
{
	uint32_t oid[MIB_BASE_LEN + 4];
	memcpy(oid, base_oid, sizeof base_oid);
	oid[MIB_BASE_LEN] = 1;
	oid[MIB_BASE_LEN + 1] = 1;
	oid[MIB_BASE_LEN + 2] = id;
	oid[MIB_BASE_LEN + 3] = 0;
	return push_num(vc, oid, MIB_BASE_LEN + 4, type, num);
}

int mib_snap_build(const struct mib_source *src, unsigned threshold_pct, struct mib_snap *out)
{
	struct vec vc = { 0 };
	struct store_txn *t = NULL;
	uint64_t nodes = 0;
	uint64_t gen = store_generation(src->store);
	int rc = store_read_begin(src->store, &t);
	if (rc < 0)
		return rc;
	struct gather g = { .src = src, .t = t, .vc = &vc };
	rc = model_network_each(src->mt, t, NULL, add_network, &g);
	if (rc == 0)
		rc = store_count(t, src->mt->node, &nodes);
	store_read_end(t);
	if (rc == 0)
		rc = scalar(&vc, SC_NETWORKS, MIB_T_GAUGE, gauge(g.n_networks));
	if (rc == 0)
		rc = scalar(&vc, SC_NODES, MIB_T_GAUGE, gauge(nodes));
	if (rc == 0)
		rc = scalar(&vc, SC_ACTIVE, MIB_T_GAUGE, gauge(g.used));
	if (rc == 0)
		rc = scalar(&vc, SC_HELD, MIB_T_GAUGE, gauge(g.held));
	if (rc == 0)
		rc = scalar(&vc, SC_THRESHOLD, MIB_T_UNSIGNED, threshold_pct);
	if (rc < 0) {
		free(vc.v);
		free(vc.r);
		return rc;
	}
	if (vc.n)
		qsort(vc.v, vc.n, sizeof *vc.v, val_cmp);
	*out = (struct mib_snap){ .v = vc.v, .n = vc.n, .ranges = vc.r, .n_ranges = vc.nr, .generation = gen };
	return 0;
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

bool mib_object_served(const uint32_t *oid, size_t len)
{
	if (len < MIB_BASE_LEN + 4 || memcmp(oid, base_oid, sizeof base_oid) || oid[MIB_BASE_LEN] != 1)
		return false;
	uint32_t group = oid[MIB_BASE_LEN + 1], sub = oid[MIB_BASE_LEN + 2], col = oid[MIB_BASE_LEN + 3];
	if (group == 1)
		return sub >= SC_NETWORKS && sub <= SC_THRESHOLD;
	if (group == 2)
		return sub == 1 && col >= NC_VLAN && col <= NC_LAST;
	if (group == 3)
		return sub == 1 && col >= RC_NAME && col <= RC_LAST_COL;
	return false;
}
