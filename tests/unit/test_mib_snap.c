/* tests/unit/test_mib_snap.c — mibs/figures.c and mibs/snap.c: OID order,
 * the exact decimal helpers, utilization percent, which objects are served,
 * the figures and the snapshot built from a real store in a temporary
 * directory (filled through core/ and ipam/ as netd does), the services'
 * figures (a callback standing in for netd's: the writer, DNS and the
 * annealer live in netd/, which mibs/ must not link), and the rise
 * detection behind netdDnsDriftDetected and netdNodeRoleError.
 *
 * Not covered here: the edge-triggered threshold logic (check_thresholds in
 * mibs/agentx.c) is static and sends through net-snmp, so it is not
 * reachable without an agent; what it consumes (mib_range_fig.util_pct) is.
 * The sending itself is covered by tests/integration/test_snmp.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/model.h"
#include "core/store.h"
#include "ipam/ipam.h"
#include "mibs/snap.h"

#define NOW 1000000u
#define N_ARCS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- mib_oid_cmp ---- */

struct oid_case {
	uint32_t a[6];
	size_t an;
	uint32_t b[6];
	size_t bn;
	int want;   /* sign */
};

static const struct oid_case oid_cases[] = {
	{ { 0 }, 0, { 0 }, 0, 0 },
	{ { 1, 3, 6 }, 3, { 1, 3, 6 }, 3, 0 },
	{ { 1, 3 }, 2, { 1, 3, 6 }, 3, -1 },                 /* prefix: shorter first */
	{ { 0 }, 0, { 0 }, 1, -1 },
	{ { 1, 3, 7 }, 3, { 1, 3, 6, 9 }, 4, 1 },           /* arc decides before length */
	{ { 1, 2, 9, 9 }, 4, { 1, 3 }, 2, -1 },
	{ { 1, 0x80000000u }, 2, { 1, 1 }, 2, 1 },           /* arcs are unsigned */
	{ { 1, 0xffffffffu }, 2, { 1, 0xfffffffeu, 5 }, 3, 1 },
	{ { 5, 1 }, 2, { 5, 2 }, 2, -1 },
};

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void test_oid_cmp(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ARCS(oid_cases); i++) {
		const struct oid_case *t = &oid_cases[i];
		print_message("oid_cmp case %zu\n", i);
		assert_int_equal(sign(mib_oid_cmp(t->a, t->an, t->b, t->bn)), t->want);
		assert_int_equal(sign(mib_oid_cmp(t->b, t->bn, t->a, t->an)), -t->want);   /* antisymmetric */
	}
}

/* ---- mib_dec_add ---- */

#define P64 "18446744073709551616"                        /* 2^64 */
#define P128M1 "340282366920938463463374607431768211455"  /* 2^128 - 1 */

struct add_case {
	const char *a, *b;
	size_t cap;
	int rc;
	const char *want;
};

static const struct add_case add_cases[] = {
	{ "0", "0", 64, 0, "0" },
	{ "0", "7", 64, 0, "7" },
	{ "1", "9", 64, 0, "10" },
	{ "999", "1", 64, 0, "1000" },                      /* carry through every digit */
	{ "1", "999", 64, 0, "1000" },                      /* shorter first operand */
	{ "007", "3", 64, 0, "10" },                        /* leading zeros dropped */
	{ "000", "000", 64, 0, "0" },
	{ "4294967296", "4294967296", 64, 0, "8589934592" },
	{ P64, P64, 64, 0, "36893488147419103232" },         /* two /64 ranges: past uint64 */
	{ "18446744073709551615", "1", 64, 0, P64 },        /* UINT64_MAX + 1 */
	{ P128M1, "1", 64, 0, "340282366920938463463374607431768211456" },
	{ P128M1, P128M1, ADDR_DECIMAL_MAX + 1, 0, "680564733841876926926749214863536422910" },
	{ "99", "1", 4, 0, "100" },                         /* exact fit: 3 digits + NUL */
	{ "99", "1", 3, NETD_EINVAL, NULL },                /* one short */
	{ "12a", "1", 64, NETD_EINVAL, NULL },              /* not a digit */
	{ "1", "-1", 64, NETD_EINVAL, NULL },
	{ "?", "5", 64, NETD_EINVAL, NULL },                /* the "unknown" marker snap.c writes */
};

static void test_dec_add(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ARCS(add_cases); i++) {
		const struct add_case *t = &add_cases[i];
		char out[128];
		print_message("dec_add %s + %s (cap %zu)\n", t->a, t->b, t->cap);
		memset(out, 'x', sizeof out);
		out[sizeof out - 1] = '\0';
		assert_int_equal(mib_dec_add(t->a, t->b, out, t->cap), t->rc);
		if (t->want)
			assert_string_equal(out, t->want);
		else
			assert_int_equal(out[0], 'x');   /* nothing written on failure */
	}
	/* in place, as add_network() accumulates: out aliases a */
	char acc[ADDR_DECIMAL_MAX + 2] = "0";
	for (int i = 0; i < 3; i++)
		assert_int_equal(mib_dec_add(acc, P64, acc, sizeof acc), 0);
	assert_string_equal(acc, "55340232221128654848");
}

/* ---- mib_util_pct ---- */

struct pct_case {
	uint64_t taken;
	const char *size;
	unsigned want;
};

static const struct pct_case pct_cases[] = {
	{ 0, "0", 0 },
	{ 5, "0", 0 },                                      /* empty range: 0, no division */
	{ 5, "", 0 },
	{ 0, "10", 0 },
	{ 5, "10", 50 },
	{ 1, "3", 33 },                                     /* floor */
	{ 2, "3", 66 },
	{ 99, "100", 99 },
	{ 10, "10", 100 },
	{ 11, "10", 100 },                                  /* clamped */
	{ 1, "12a", 0 },                                    /* not a number */
	{ 1, "?", 0 },
	{ UINT64_MAX, "18446744073709551615", 100 },        /* taken * 100 overflows 64 bits */
	{ UINT64_MAX, P64, 99 },
	{ UINT64_MAX / 2, "18446744073709551615", 49 },
	{ 1ull << 62, P64, 25 },
	{ UINT64_MAX, P128M1, 0 },                          /* 2^128 - 1 still fits */
	{ UINT64_MAX, "340282366920938463463374607431768211456", 0 },   /* 2^128: beyond */
	{ 1, "340282366920938463463374607431768211457", 0 },            /* 2^128 + 1: must not wrap to 1 */
	{ UINT64_MAX, "99999999999999999999999999999999999999999999", 0 },
};

static void test_util_pct(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ARCS(pct_cases); i++) {
		const struct pct_case *t = &pct_cases[i];
		print_message("util_pct %llu / %s\n", (unsigned long long)t->taken, t->size);
		assert_int_equal(mib_util_pct(t->taken, t->size), t->want);
	}
}

/* ---- mib_object_served ---- */

struct served_case {
	uint32_t tail[5];   /* arcs after netdMIB */
	size_t n;
	bool want;          /* without the services' figures */
	bool want_svc;      /* with all of them */
};

static const struct served_case served_cases[] = {
	{ { 1, 1, 1, 0 }, 4, true, true },            /* netdNetworks.0 */
	{ { 1, 1, 5, 0 }, 4, true, true },            /* netdExhaustionThreshold.0 */
	{ { 1, 1, 6, 0 }, 4, false, true },           /* netdAllocationsTotal: the writer's */
	{ { 1, 1, 8, 0 }, 4, false, true },           /* netdExhaustionsTotal */
	{ { 1, 1, 9, 0 }, 4, false, false },
	{ { 1, 1, 0, 0 }, 4, false, false },
	{ { 1, 2, 1, 2 }, 4, true, true },            /* netdNetworkVlan */
	{ { 1, 2, 1, 7, 5 }, 5, true, true },         /* netdNetworkFree.<row> */
	{ { 1, 2, 1, 1 }, 4, false, false },          /* index column */
	{ { 1, 2, 1, 8 }, 4, false, false },
	{ { 1, 2, 2, 4 }, 4, false, false },
	{ { 1, 3, 1, 3 }, 4, true, true },            /* netdRangeName */
	{ { 1, 3, 1, 11 }, 4, true, true },           /* netdRangeUtilization */
	{ { 1, 3, 1, 12 }, 4, false, false },
	{ { 1, 3, 1, 2 }, 4, false, false },
	{ { 1, 4, 1, 2, 6 }, 5, false, true },        /* netdDnsRecords.drift */
	{ { 1, 4, 1, 2 }, 4, false, true },
	{ { 1, 4, 1, 1 }, 4, false, false },          /* netdDnsState: the index */
	{ { 1, 4, 1, 3 }, 4, false, false },
	{ { 1, 5, 1, 2, 5 }, 5, false, true },        /* netdNodeRoles.error */
	{ { 1, 5, 1, 1 }, 4, false, false },
	{ { 1, 6, 1, 2 }, 4, false, true },           /* netdSwitches: the devices service's */
	{ { 1, 6, 1, 2, 3 }, 5, false, true },        /* netdSwitches.inSync */
	{ { 1, 6, 1, 1 }, 4, false, false },          /* netdSwitchState: the index */
	{ { 1, 6, 1, 3 }, 4, false, false },
	{ { 1, 7, 1, 0 }, 4, false, false },          /* accessible-for-notify */
	{ { 1, 8, 1, 0 }, 4, false, true },           /* netdDnsOutboxDepth.0 */
	{ { 1, 8, 4, 0 }, 4, false, true },           /* netdDnsUpdatesFailed.0 */
	{ { 1, 8, 5, 0 }, 4, false, false },
	{ { 1, 9, 1, 0 }, 4, false, true },           /* netdNodeRolesRunning.0 */
	{ { 1, 9, 3, 0 }, 4, false, true },           /* netdNodeRoleErrors.0 */
	{ { 1, 9, 4, 0 }, 4, false, false },
	{ { 1, 10, 1, 0 }, 4, false, false },
	{ { 1, 10, 1, 2, 4 }, 5, false, true },       /* netdBmcs.error */
	{ { 1, 10, 2, 2 }, 4, false, false },
	{ { 1, 11, 1, 0 }, 4, false, true },          /* netdSwitchSyncs.0 */
	{ { 1, 11, 6, 0 }, 4, false, true },          /* netdBmcSets.0 */
	{ { 1, 11, 7, 0 }, 4, false, false },
	{ { 1, 11, 0, 0 }, 4, false, false },
	{ { 1, 12, 1, 0 }, 4, false, false },
	{ { 2, 1, 1, 0 }, 4, false, false },
	{ { 1, 1, 1 }, 3, false, false },             /* too short */
};

static void test_object_served(void **state)
{
	static const uint32_t base[] = { MIB_BASE_ARCS };
	struct mib_snap none = { 0 }, all = { 0 }, dns_only = { 0 };
	(void)state;
	all.svc.have_counters = all.svc.have_dns = all.svc.have_anneal = all.svc.have_devices = true;
	dns_only.svc.have_dns = true;
	for (size_t i = 0; i < N_ARCS(served_cases); i++) {
		const struct served_case *c = &served_cases[i];
		uint32_t oid[MIB_BASE_LEN + 5];
		memcpy(oid, base, sizeof base);
		memcpy(oid + MIB_BASE_LEN, c->tail, c->n * sizeof *oid);
		print_message("served case %zu\n", i);
		assert_int_equal(mib_object_served(&none, oid, MIB_BASE_LEN + c->n), c->want);
		assert_int_equal(mib_object_served(&all, oid, MIB_BASE_LEN + c->n), c->want_svc);
		/* one part on its own: only its objects */
		bool dns_obj = c->tail[0] == 1 && (c->tail[1] == MIB_ARC_DNS_STATES || c->tail[1] == MIB_ARC_DNS);
		assert_int_equal(mib_object_served(&dns_only, oid, MIB_BASE_LEN + c->n),
				 c->want || (dns_obj && c->want_svc));
	}
	uint32_t other[MIB_BASE_LEN + 4] = { 1, 3, 6, 1, 4, 1, 32473, 2, 1, 1, 1, 0 };   /* not under netdMIB */
	assert_false(mib_object_served(&all, other, N_ARCS(other)));
}

/* ---- mib_rise_check ---- */

struct rise_step {
	uint64_t now;
	bool can_send;
	bool want;
	uint64_t level;   /* after the step */
};

/* One sequence, checked step by step from a zeroed level. */
static const struct rise_step rise_steps[] = {
	{ 0, true, false, 0 },      /* nothing */
	{ 2, true, true, 2 },       /* first rise */
	{ 2, true, false, 2 },      /* unchanged: edge-triggered */
	{ 3, true, true, 3 },       /* rose again */
	{ 1, true, false, 1 },      /* fell: re-armed at 1 */
	{ 1, true, false, 1 },
	{ 2, true, true, 2 },       /* above the lower level: again */
	{ 5, false, false, 2 },     /* no master: kept for later */
	{ 6, false, false, 2 },
	{ 6, true, true, 6 },       /* master back: sent once */
	{ 6, true, false, 6 },
	{ 4, false, false, 4 },     /* a fall lowers the level even without a master */
	{ 5, false, false, 4 },
	{ 3, false, false, 3 },
	{ 3, true, false, 3 },      /* back at the level it fell to: nothing */
	{ UINT64_MAX, true, true, UINT64_MAX },
	{ 0, true, false, 0 },
};

static void test_rise(void **state)
{
	struct mib_rise r = { 0 };
	(void)state;
	for (size_t i = 0; i < N_ARCS(rise_steps); i++) {
		const struct rise_step *t = &rise_steps[i];
		print_message("rise step %zu: %llu%s\n", i, (unsigned long long)t->now, t->can_send ? "" : " (no master)");
		assert_int_equal(mib_rise_check(&r, t->now, t->can_send), t->want);
		assert_int_equal(r.level, t->level);
	}
	/* a count already above zero at the first check is notified */
	struct mib_rise first = { 0 };
	assert_true(mib_rise_check(&first, 4, true));
}

/* ---- the snapshot, from a real store ---- */

struct fx {
	char dir[64];
	struct store *s;
	struct model_tables m;
	struct ipam *ip;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct store_opts opts = { .no_sync = true };
	struct netd_err e = { 0 };

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/netd-test-mibsnap-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, &opts, &f->s, &e), 0);
	assert_int_equal(model_open(f->s, &f->m), 0);
	assert_int_equal(ipam_open(f->s, &f->m, NULL, &f->ip), 0);
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ipam_close(f->ip);
	store_close(f->s);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct addr A(const char *s)
{
	struct addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static void add_range(struct model_range **rs, size_t *n, const char *name, const char *first, const char *last)
{
	*rs = realloc(*rs, (*n + 1) * sizeof **rs);
	assert_non_null(*rs);
	struct model_range *r = &(*rs)[(*n)++];
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	r->first = A(first);
	r->last = A(last);
}

struct op {
	struct fx *f;
	struct model_network *net;
	struct model_node *node;
	struct ipam_request rq;
	struct addr addr;
	struct netd_err e;
};

static int net_put_fn(struct store_txn *t, void *arg)
{
	struct op *o = arg;
	return ipam_network_put(o->f->ip, t, NULL, o->net, NOW, &o->e);
}

static int node_put_fn(struct store_txn *t, void *arg)
{
	struct op *o = arg;
	int rc = ipam_node_sync(o->f->ip, t, NULL, o->node, NOW, &o->e);
	return rc ? rc : model_node_put(&o->f->m, t, NULL, o->node, &o->e);
}

static int alloc_fn(struct store_txn *t, void *arg)
{
	struct op *o = arg;
	return ipam_alloc(o->f->ip, t, &o->rq, NOW, &o->addr, &o->e);
}

static int release_fn(struct store_txn *t, void *arg)
{
	struct op *o = arg;
	return ipam_release(o->f->ip, t, o->rq.network, &o->addr, NOW, &o->e);
}

static void run(struct fx *f, int (*fn)(struct store_txn *, void *), struct op *o)
{
	o->f = f;
	int rc = store_update(f->s, fn, o);
	if (rc)
		print_error("op: %d %s: %s\n", rc, o->e.path, o->e.msg);
	assert_int_equal(rc, 0);
}

/* "admin": v4 10.0.0.0/24, range hosts 10.0.0.10..19 (10 addresses); a node
 * and two VIPs allocated, one VIP released: used 2, held 1, 30 %.
 * "big": v4 range "v4" of 4 addresses and two /64-sized v6 ranges, 2^64
 * each: the network's size 2^65 + 4 exceeds every 64-bit figure, and the
 * range index counts per family (v4 1; v6 1, 2). */
static void fill(struct fx *f)
{
	struct model_network admin, big;
	struct op o;

	memset(&admin, 0, sizeof admin);
	snprintf(admin.name, sizeof admin.name, "admin");
	admin.team_mode = TEAM_802_3AD;
	admin.vlan = 42;
	admin.use_vlan = true;
	admin.has_v4 = true;
	assert_int_equal(prefix_parse("10.0.0.0/24", true, &admin.v4_subnet), 0);
	add_range(&admin.v4_ranges, &admin.n_v4_ranges, "hosts", "10.0.0.10", "10.0.0.19");
	memset(&o, 0, sizeof o);
	o.net = &admin;
	run(f, net_put_fn, &o);
	free(admin.v4_ranges);

	memset(&big, 0, sizeof big);
	snprintf(big.name, sizeof big.name, "big");
	big.team_mode = TEAM_802_3AD;
	big.has_v4 = true;
	assert_int_equal(prefix_parse("10.1.0.0/24", true, &big.v4_subnet), 0);
	add_range(&big.v4_ranges, &big.n_v4_ranges, "v4", "10.1.0.1", "10.1.0.4");
	big.v6_mode = MODEL_V6_EXPLICIT;
	assert_int_equal(prefix_parse("fd00::/48", true, &big.v6_prefix), 0);
	add_range(&big.v6_ranges, &big.n_v6_ranges, "a", "fd00:0:0:1::", "fd00:0:0:1:ffff:ffff:ffff:ffff");
	add_range(&big.v6_ranges, &big.n_v6_ranges, "b", "fd00:0:0:2::", "fd00:0:0:2:ffff:ffff:ffff:ffff");
	memset(&o, 0, sizeof o);
	o.net = &big;
	run(f, net_put_fn, &o);
	free(big.v4_ranges);
	free(big.v6_ranges);

	struct model_node n1;
	struct model_attach at;
	memset(&n1, 0, sizeof n1);
	memset(&at, 0, sizeof at);
	snprintf(n1.name, sizeof n1.name, "n1");
	snprintf(at.network, sizeof at.network, "admin");
	n1.nets = &at;
	n1.n_nets = 1;
	memset(&o, 0, sizeof o);
	o.node = &n1;
	run(f, node_put_fn, &o);

	static const char *const vips[] = { "vip1", "vip2" };
	struct addr got[2];
	for (int i = 0; i < 2; i++) {
		memset(&o, 0, sizeof o);
		o.rq = (struct ipam_request){ .network = "admin", .family = ADDR_V4, .owner_kind = OWNER_VIP,
					      .owner = vips[i] };
		run(f, alloc_fn, &o);
		got[i] = o.addr;
	}
	memset(&o, 0, sizeof o);
	o.rq.network = "admin";
	o.addr = got[1];
	run(f, release_fn, &o);
}

/* netdMIB.1.<table>.1.<col>.<len>.<name>[.<fam>.<idx>] */
static size_t row_oid(uint32_t *oid, uint32_t table, uint32_t col, const char *name, uint32_t fam, uint32_t idx)
{
	static const uint32_t base[] = { MIB_BASE_ARCS };
	size_t n = MIB_BASE_LEN, nl = strlen(name);
	memcpy(oid, base, sizeof base);
	oid[n++] = 1;
	oid[n++] = table;
	oid[n++] = 1;
	oid[n++] = col;
	oid[n++] = (uint32_t)nl;
	for (size_t i = 0; i < nl; i++)
		oid[n++] = (uint8_t)name[i];
	if (fam) {
		oid[n++] = fam;
		oid[n++] = idx;
	}
	return n;
}

static size_t scalar_oid(uint32_t *oid, uint32_t id)
{
	static const uint32_t base[] = { MIB_BASE_ARCS };
	memcpy(oid, base, sizeof base);
	oid[MIB_BASE_LEN] = 1;
	oid[MIB_BASE_LEN + 1] = 1;
	oid[MIB_BASE_LEN + 2] = id;
	oid[MIB_BASE_LEN + 3] = 0;
	return MIB_BASE_LEN + 4;
}

/* What the snapshot must serve; table 0 = scalar (col = its id). */
struct want_val {
	uint32_t table, col;
	const char *name;
	uint32_t fam, idx;
	uint8_t type;
	uint64_t num;
	const char *str;
};

static const struct want_val wants[] = {
	{ 0, 1, NULL, 0, 0, MIB_T_GAUGE, 2, NULL },          /* netdNetworks */
	{ 0, 2, NULL, 0, 0, MIB_T_GAUGE, 1, NULL },          /* netdNodes */
	{ 0, 3, NULL, 0, 0, MIB_T_GAUGE, 2, NULL },          /* active: node + vip1 */
	{ 0, 4, NULL, 0, 0, MIB_T_GAUGE, 1, NULL },          /* held: vip2 */
	{ 0, 5, NULL, 0, 0, MIB_T_UNSIGNED, 80, NULL },      /* threshold as given */
	{ 2, 2, "admin", 0, 0, MIB_T_UNSIGNED, 42, NULL },
	{ 2, 3, "admin", 0, 0, MIB_T_GAUGE, 1, NULL },
	{ 2, 4, "admin", 0, 0, MIB_T_STRING, 0, "10" },
	{ 2, 5, "admin", 0, 0, MIB_T_GAUGE, 2, NULL },
	{ 2, 6, "admin", 0, 0, MIB_T_GAUGE, 1, NULL },
	{ 2, 7, "admin", 0, 0, MIB_T_STRING, 0, "7" },
	{ 2, 3, "big", 0, 0, MIB_T_GAUGE, 3, NULL },
	{ 2, 4, "big", 0, 0, MIB_T_STRING, 0, "36893488147419103236" },   /* 4 + 2^64 + 2^64, exact */
	{ 2, 7, "big", 0, 0, MIB_T_STRING, 0, "36893488147419103236" },
	{ 3, 3, "admin", 1, 1, MIB_T_STRING, 0, "hosts" },
	{ 3, 4, "admin", 1, 1, MIB_T_STRING, 0, "admin" },
	{ 3, 5, "admin", 1, 1, MIB_T_STRING, 0, "10.0.0.10" },
	{ 3, 6, "admin", 1, 1, MIB_T_STRING, 0, "10.0.0.19" },
	{ 3, 7, "admin", 1, 1, MIB_T_STRING, 0, "10" },
	{ 3, 8, "admin", 1, 1, MIB_T_GAUGE, 2, NULL },
	{ 3, 9, "admin", 1, 1, MIB_T_GAUGE, 1, NULL },
	{ 3, 10, "admin", 1, 1, MIB_T_STRING, 0, "7" },
	{ 3, 11, "admin", 1, 1, MIB_T_GAUGE, 30, NULL },     /* (used + held) / size */
	{ 3, 3, "big", 1, 1, MIB_T_STRING, 0, "v4" },
	{ 3, 7, "big", 1, 1, MIB_T_STRING, 0, "4" },
	{ 3, 3, "big", 2, 1, MIB_T_STRING, 0, "a" },
	{ 3, 3, "big", 2, 2, MIB_T_STRING, 0, "b" },
	{ 3, 7, "big", 2, 2, MIB_T_STRING, 0, P64 },
	{ 3, 11, "big", 2, 1, MIB_T_GAUGE, 0, NULL },
};

static void test_snap_build(void **state)
{
	struct fx *f = *state;
	struct mib_snap s = { 0 };
	uint32_t oid[MIB_OID_MAX];
	size_t len;

	fill(f);
	assert_int_equal(mib_snap_build(&(struct mib_source){ .store = f->s, .mt = &f->m, .ipam = f->ip }, 80, &s), 0);
	/* 5 scalars, 6 columns per network, 9 per range */
	assert_int_equal(s.n, 5 + 2 * 6 + 4 * 9);

	/* strictly ascending: GETNEXT depends on it, and no OID twice */
	for (size_t i = 1; i < s.n; i++)
		assert_true(mib_oid_cmp(s.v[i - 1].oid, s.v[i - 1].len, s.v[i].oid, s.v[i].len) < 0);

	for (size_t i = 0; i < N_ARCS(wants); i++) {
		const struct want_val *w = &wants[i];
		len = w->table ? row_oid(oid, w->table, w->col, w->name, w->fam, w->idx) : scalar_oid(oid, w->col);
		print_message("want %u.%u %s %u.%u\n", w->table, w->col, w->name ? w->name : "", w->fam, w->idx);
		const struct mib_val *v = mib_snap_get(&s, oid, len);
		assert_non_null(v);
		assert_true(mib_object_served(&s, v->oid, v->len));
		assert_int_equal(v->type, w->type);
		if (w->str)
			assert_string_equal(v->str, w->str);
		else
			assert_int_equal(v->num, w->num);
	}

	/* rows are ordered by OID, and a name index is length first: "big"
	 * (3) comes before "admin" (5) in every column */
	len = row_oid(oid, 2, 4, "", 0, 0) - 1;   /* netdNetworkSize, no index */
	const struct mib_val *v = mib_snap_next(&s, oid, len, false);
	assert_non_null(v);
	assert_int_equal(v->oid[len], 3);
	assert_string_equal(v->str, "36893488147419103236");
	v = mib_snap_next(&s, v->oid, v->len, false);
	assert_non_null(v);
	assert_int_equal(v->oid[len], 5);
	assert_string_equal(v->str, "10");
	v = mib_snap_next(&s, v->oid, v->len, false);   /* off the column: next column, first row */
	assert_non_null(v);
	assert_int_equal(v->oid[len - 1], 5);
	assert_int_equal(v->oid[len], 3);

	/* GET of an absent instance; GETNEXT inclusive/exclusive at a value */
	len = row_oid(oid, 2, 4, "nope", 0, 0);
	assert_null(mib_snap_get(&s, oid, len));
	len = scalar_oid(oid, 5);
	assert_int_equal(mib_snap_next(&s, oid, len, true)->num, 80);
	v = mib_snap_next(&s, oid, len, false);
	assert_non_null(v);
	assert_int_equal(v->oid[MIB_BASE_LEN + 1], 2);   /* scalars end, the network table follows */
	/* after everything: nothing */
	assert_null(mib_snap_next(&s, s.v[s.n - 1].oid, s.v[s.n - 1].len, false));
	assert_true(mib_snap_next(&s, s.v[s.n - 1].oid, s.v[s.n - 1].len, true) == &s.v[s.n - 1]);

	/* no services callback: none of the services' objects, and they are
	 * not served (noSuchObject, not noSuchInstance) */
	assert_false(s.svc.have_counters || s.svc.have_dns || s.svc.have_anneal);
	len = scalar_oid(oid, 6);   /* netdAllocationsTotal */
	assert_null(mib_snap_get(&s, oid, len));
	assert_false(mib_object_served(&s, oid, len));
	v = mib_snap_next(&s, oid, len, false);
	assert_int_equal(v->oid[MIB_BASE_LEN + 1], 2);

	/* the ranges the threshold logic walks, and their varbind OIDs */
	assert_int_equal(s.n_ranges, 4);
	size_t seen = 0;
	for (size_t i = 0; i < s.n_ranges; i++) {
		const struct mib_range_fig *r = &s.ranges[i];
		if (!strcmp(r->network, "admin")) {
			assert_int_equal(r->family, 1);
			assert_int_equal(r->index, 1);
			assert_string_equal(r->name, "hosts");
			assert_int_equal(r->util_pct, 30);
			assert_string_equal(r->free, "7");
			seen |= 1;
		} else if (r->family == 1) {
			assert_string_equal(r->network, "big");
			assert_int_equal(r->index, 1);
			assert_string_equal(r->name, "v4");
			assert_int_equal(r->util_pct, 0);
			assert_string_equal(r->free, "4");
			seen |= 8;
		} else {
			assert_string_equal(r->network, "big");
			assert_int_equal(r->family, 2);
			assert_true(r->index == 1 || r->index == 2);
			assert_string_equal(r->name, r->index == 1 ? "a" : "b");
			assert_int_equal(r->util_pct, 0);
			assert_string_equal(r->free, P64);
			seen |= r->index == 1 ? 2 : 4;
		}
		len = mib_range_oid(oid, 11, r);
		v = mib_snap_get(&s, oid, len);
		assert_non_null(v);
		assert_int_equal(v->num, r->util_pct);
	}
	assert_int_equal(seen, 15);
	mib_snap_free(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);
	mib_snap_free(&s);     /* zeroed is fine */
	mib_snap_free(NULL);
}

static void test_snap_empty(void **state)
{
	struct fx *f = *state;
	struct mib_snap s = { 0 };
	uint32_t oid[MIB_OID_MAX];

	assert_int_equal(mib_snap_build(&(struct mib_source){ .store = f->s, .mt = &f->m, .ipam = f->ip }, 95, &s), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.n_ranges, 0);
	for (uint32_t id = 1; id <= 5; id++) {
		const struct mib_val *v = mib_snap_get(&s, oid, scalar_oid(oid, id));
		assert_non_null(v);
		assert_int_equal(v->num, id == 5 ? 95 : 0);
	}
	mib_snap_free(&s);
}


/* ---- the services' figures ---- */

/* Stands in for netd's callback (metrics_mib_source: the writer, dnsd and
 * the annealer live in netd/, which mibs/ does not link): hands out @give,
 * and checks the contract that it is called once, with @out zeroed. */
struct svc_arg {
	int calls;
	struct mib_service_figs give;
};

static void services_cb(void *arg, struct mib_service_figs *out)
{
	static const struct mib_service_figs zero;
	struct svc_arg *a = arg;
	assert_memory_equal(out, &zero, sizeof zero);
	a->calls++;
	*out = a->give;
}

#define BIG_GAUGE 5000000000ull   /* above 2^32: a Gauge32 latches */
#define BIG_COUNTER (1ull << 40)  /* a Counter64 does not */

static struct mib_service_figs all_services(void)
{
	struct mib_service_figs g = {
		.have_counters = true, .allocations_total = 15, .releases_total = 3, .exhausted_total = 2,
		.have_dns = true, .dns_records = { 1, BIG_GAUGE, 3, 4, 5, 6 }, .dns_outbox_depth = 7,
		.dns_outbox_oldest_age_s = 8, .dns_updates_sent = BIG_COUNTER, .dns_updates_failed = 9,
		.have_anneal = true, .roles = { 10, 11, 12, 13, 14, 15 }, .roles_running = 1, .role_transitions = 99,
		.role_errors = 2,
	};
	return g;
}

static const struct mib_network_figs *net_named(const struct mib_figures *f, const char *name)
{
	for (size_t i = 0; i < f->n_nets; i++)
		if (!strcmp(f->nets[i].name, name))
			return &f->nets[i];
	return NULL;
}

static void test_figures(void **state)
{
	struct fx *f = *state;
	struct svc_arg sa = { .give = all_services() };
	struct mib_source src = { .store = f->s, .mt = &f->m, .ipam = f->ip, .services = services_cb,
				  .services_arg = &sa };
	struct mib_figures fg;
	char buf[ADDR_STRLEN];

	fill(f);
	uint64_t gen = store_generation(f->s);
	assert_int_equal(mib_figures_collect(&src, &fg), 0);
	assert_int_equal(sa.calls, 1);
	assert_int_equal(fg.generation, gen);
	assert_true(gen > 0);
	assert_int_equal(fg.networks, 2);
	assert_int_equal(fg.nodes, 1);
	assert_int_equal(fg.allocs_active, 2);   /* the node's and vip1 */
	assert_int_equal(fg.allocs_held, 1);     /* vip2 */
	assert_int_equal(fg.n_nets, 2);
	assert_int_equal(fg.n_ranges, 4);

	const struct mib_network_figs *admin = net_named(&fg, "admin"), *big = net_named(&fg, "big");
	assert_non_null(admin);
	assert_non_null(big);
	assert_int_equal(admin->vlan, 42);
	assert_int_equal(admin->n_ranges, 1);
	assert_string_equal(admin->size, "10");
	assert_string_equal(admin->free, "7");
	assert_int_equal(admin->used, 2);
	assert_int_equal(admin->held, 1);
	const struct mib_range_figs *r = &fg.ranges[admin->first_range];
	assert_string_equal(r->network, "admin");
	assert_int_equal(r->family, ADDR_V4);
	assert_int_equal(r->index, 1);
	assert_string_equal(r->name, "hosts");
	assert_string_equal(addr_print(&r->first, buf, sizeof buf), "10.0.0.10");
	assert_string_equal(addr_print(&r->last, buf, sizeof buf), "10.0.0.19");
	assert_string_equal(r->size, "10");
	assert_string_equal(r->free, "7");
	assert_int_equal(r->used, 2);
	assert_int_equal(r->held, 1);

	assert_int_equal(big->vlan, 0);
	assert_int_equal(big->n_ranges, 3);
	assert_string_equal(big->size, "36893488147419103236");
	assert_string_equal(big->free, "36893488147419103236");
	assert_int_equal(big->used + big->held, 0);
	/* a network's ranges are its slice, indexed per family */
	unsigned v4 = 0, v6 = 0;
	for (size_t i = big->first_range; i < big->first_range + big->n_ranges; i++) {
		r = &fg.ranges[i];
		assert_string_equal(r->network, "big");
		if (r->family == ADDR_V4) {
			assert_int_equal(r->index, ++v4);
			assert_string_equal(r->name, "v4");
			assert_string_equal(r->size, "4");
		} else {
			assert_int_equal(r->family, ADDR_V6);
			assert_int_equal(r->index, ++v6);
			assert_string_equal(r->name, v6 == 1 ? "a" : "b");
			assert_string_equal(r->size, P64);
		}
	}
	assert_int_equal(v4, 1);
	assert_int_equal(v6, 2);

	/* the services' figures, as the callback gave them */
	assert_true(fg.svc.have_counters && fg.svc.have_dns && fg.svc.have_anneal);
	assert_int_equal(fg.svc.allocations_total, 15);
	assert_int_equal(fg.svc.dns_records[MIB_DNS_PUBLISHED], BIG_GAUGE);
	assert_int_equal(fg.svc.dns_updates_sent, BIG_COUNTER);
	assert_int_equal(fg.svc.roles[MIB_ROLE_BLOCKED], 15);
	assert_int_equal(fg.svc.role_errors, 2);

	mib_figures_free(&fg);
	assert_null(fg.nets);
	assert_null(fg.ranges);
	assert_int_equal(fg.n_ranges, 0);
	mib_figures_free(&fg);
	mib_figures_free(NULL);

	/* without a callback: the services' part stays empty */
	src.services = NULL;
	assert_int_equal(mib_figures_collect(&src, &fg), 0);
	assert_int_equal(sa.calls, 1);
	assert_false(fg.svc.have_counters || fg.svc.have_dns || fg.svc.have_anneal);
	assert_int_equal(fg.svc.dns_records[MIB_DNS_PUBLISHED], 0);
	mib_figures_free(&fg);

	/* the label names /metrics prints: YANG's enums, in the MIB's order */
	assert_string_equal(mib_dns_state_name[MIB_DNS_PENDING], "pending");
	assert_string_equal(mib_dns_state_name[MIB_DNS_DRIFT], "drift");
	assert_string_equal(mib_role_state_name[MIB_ROLE_PROPOSED], "proposed");
	assert_string_equal(mib_role_state_name[MIB_ROLE_TODO], "todo");
	assert_string_equal(mib_role_state_name[MIB_ROLE_ERROR], "error");
	assert_string_equal(mib_role_state_name[MIB_ROLE_BLOCKED], "blocked");
}

/* A served value: netdMIB.1.<arc>.<a>.<b>[.<c>], its type and number. */
struct svc_want {
	uint32_t arc, a, b, c;   /* c = 0: a scalar (a = id, b = 0); else a state cell (a = 1, b = column, c = state + 1) */
	uint8_t type;
	uint64_t num;
};

static const struct svc_want svc_wants[] = {
	{ 1, 6, 0, 0, MIB_T_COUNTER64, 15 },          /* netdAllocationsTotal */
	{ 1, 7, 0, 0, MIB_T_COUNTER64, 3 },           /* netdReleasesTotal */
	{ 1, 8, 0, 0, MIB_T_COUNTER64, 2 },           /* netdExhaustionsTotal */
	{ 4, 1, 2, 1, MIB_T_GAUGE, 1 },               /* netdDnsRecords.pending */
	{ 4, 1, 2, 2, MIB_T_GAUGE, UINT32_MAX },      /* .published: 5e9 latches */
	{ 4, 1, 2, 3, MIB_T_GAUGE, 3 },
	{ 4, 1, 2, 4, MIB_T_GAUGE, 4 },
	{ 4, 1, 2, 5, MIB_T_GAUGE, 5 },
	{ 4, 1, 2, 6, MIB_T_GAUGE, 6 },               /* .drift */
	{ 5, 1, 2, 1, MIB_T_GAUGE, 10 },              /* netdNodeRoles.proposed */
	{ 5, 1, 2, 2, MIB_T_GAUGE, 11 },              /* .todo */
	{ 5, 1, 2, 3, MIB_T_GAUGE, 12 },
	{ 5, 1, 2, 4, MIB_T_GAUGE, 13 },              /* .active */
	{ 5, 1, 2, 5, MIB_T_GAUGE, 14 },              /* .error */
	{ 5, 1, 2, 6, MIB_T_GAUGE, 15 },              /* .blocked */
	{ 8, 1, 0, 0, MIB_T_GAUGE, 7 },               /* netdDnsOutboxDepth */
	{ 8, 2, 0, 0, MIB_T_GAUGE, 8 },               /* netdDnsOutboxOldestAge */
	{ 8, 3, 0, 0, MIB_T_COUNTER64, BIG_COUNTER }, /* netdDnsUpdatesSent: no latching */
	{ 8, 4, 0, 0, MIB_T_COUNTER64, 9 },           /* netdDnsUpdatesFailed */
	{ 9, 1, 0, 0, MIB_T_GAUGE, 1 },               /* netdNodeRolesRunning */
	{ 9, 2, 0, 0, MIB_T_COUNTER64, 99 },          /* netdNodeRoleTransitions */
	{ 9, 3, 0, 0, MIB_T_COUNTER64, 2 },           /* netdNodeRoleErrors */
};

static size_t svc_oid(uint32_t *oid, const struct svc_want *w)
{
	static const uint32_t base[] = { MIB_BASE_ARCS };
	size_t n = MIB_BASE_LEN;
	memcpy(oid, base, sizeof base);
	oid[n++] = 1;
	oid[n++] = w->arc;
	oid[n++] = w->a;
	oid[n++] = w->b;
	if (w->c)
		oid[n++] = w->c;
	return n;
}

static void test_snap_services(void **state)
{
	struct fx *f = *state;
	struct svc_arg sa = { .give = all_services() };
	struct mib_source src = { .store = f->s, .mt = &f->m, .ipam = f->ip, .services = services_cb,
				  .services_arg = &sa };
	struct mib_snap s = { 0 };
	uint32_t oid[MIB_OID_MAX];
	size_t len;

	fill(f);
	assert_int_equal(mib_snap_build(&src, 80, &s), 0);
	/* the store's 53, 3 counters, 6 + 4 DNS, 6 + 3 annealer */
	assert_int_equal(s.n, 53 + 3 + 10 + 9);
	for (size_t i = 1; i < s.n; i++)
		assert_true(mib_oid_cmp(s.v[i - 1].oid, s.v[i - 1].len, s.v[i].oid, s.v[i].len) < 0);
	for (size_t i = 0; i < N_ARCS(svc_wants); i++) {
		const struct svc_want *w = &svc_wants[i];
		len = svc_oid(oid, w);
		print_message("want 1.%u.%u.%u.%u\n", w->arc, w->a, w->b, w->c);
		const struct mib_val *v = mib_snap_get(&s, oid, len);
		assert_non_null(v);
		assert_true(mib_object_served(&s, oid, len));
		assert_int_equal(v->type, w->type);
		assert_int_equal(v->num, w->num);
	}
	/* the instance helpers agree with the layout */
	len = mib_state_oid(oid, MIB_ARC_DNS_STATES, MIB_STATE_COUNT_COL, MIB_DNS_DRIFT);
	assert_int_equal(mib_snap_get(&s, oid, len)->num, 6);
	len = mib_state_oid(oid, MIB_ARC_ROLE_STATES, MIB_STATE_COUNT_COL, MIB_ROLE_ERROR);
	assert_int_equal(mib_snap_get(&s, oid, len)->num, 14);
	len = mib_scalar_oid(oid, MIB_ARC_ROLES, MIB_SC_ROLE_ERRORS);
	assert_int_equal(mib_snap_get(&s, oid, len)->num, 2);
	/* a state that does not exist: the object is served, the instance not */
	len = mib_state_oid(oid, MIB_ARC_DNS_STATES, MIB_STATE_COUNT_COL, MIB_DNS_STATES);
	assert_null(mib_snap_get(&s, oid, len));
	assert_true(mib_object_served(&s, oid, len));
	/* a walk: the range table is followed by the DNS state table, the
	 * switch table is skipped, the annealer's scalars end it */
	len = row_oid(oid, 3, 11, "admin", 1, 1);   /* the last range cell: "admin" (5) sorts after "big" (3) */
	const struct mib_val *v = mib_snap_next(&s, oid, len, false);
	assert_non_null(v);
	assert_int_equal(v->oid[MIB_BASE_LEN + 1], MIB_ARC_DNS_STATES);
	assert_int_equal(v->oid[MIB_BASE_LEN + 4], 1);
	len = mib_state_oid(oid, MIB_ARC_ROLE_STATES, MIB_STATE_COUNT_COL, MIB_ROLE_BLOCKED);
	v = mib_snap_next(&s, oid, len, false);
	assert_non_null(v);
	assert_int_equal(v->oid[MIB_BASE_LEN + 1], MIB_ARC_DNS);
	len = mib_scalar_oid(oid, MIB_ARC_ROLES, MIB_SC_ROLE_ERRORS);
	assert_true(mib_snap_next(&s, oid, len, true) == &s.v[s.n - 1]);
	assert_null(mib_snap_next(&s, oid, len, false));
	/* the notifications read the snapshot's copy */
	assert_int_equal(s.svc.dns_records[MIB_DNS_DRIFT], 6);
	assert_int_equal(s.svc.roles[MIB_ROLE_ERROR], 14);
	mib_snap_free(&s);

	/* one part only: the others' objects are absent and not served */
	sa.give = (struct mib_service_figs){ .have_dns = true, .dns_records = { [MIB_DNS_DRIFT] = 1 } };
	assert_int_equal(mib_snap_build(&src, 80, &s), 0);
	assert_int_equal(s.n, 53 + 10);
	for (size_t i = 0; i < N_ARCS(svc_wants); i++) {
		const struct svc_want *w = &svc_wants[i];
		bool dns = w->arc == MIB_ARC_DNS_STATES || w->arc == MIB_ARC_DNS;
		len = svc_oid(oid, w);
		assert_int_equal(mib_snap_get(&s, oid, len) != NULL, dns);
		assert_int_equal(mib_object_served(&s, oid, len), dns);
	}
	len = mib_state_oid(oid, MIB_ARC_DNS_STATES, MIB_STATE_COUNT_COL, MIB_DNS_PENDING);
	assert_int_equal(mib_snap_get(&s, oid, len)->num, 0);   /* zero is a figure: served */
	mib_snap_free(&s);
}

/* The devices service's figures: the switch and BMC state rows (one per
 * device-state, value = index + 1, zeros served) and the scalars. */
static void test_snap_devices(void **state)
{
	struct mib_figures fg = { .generation = 1 };
	struct mib_snap s;
	uint32_t oid[MIB_OID_MAX];
	size_t len;
	(void)state;

	fg.svc = (struct mib_service_figs){
		.have_devices = true, .switches = { 0, 1, 2, BIG_GAUGE }, .bmcs = { 5, 0, 7, 8 },
		.switch_syncs = BIG_COUNTER, .switch_sync_errors = 3, .switch_set_pdus = 40, .bmc_syncs = 4,
		.bmc_errors = 6, .bmc_sets = 12,
	};
	assert_int_equal(mib_snap_from_figures(&fg, 80, &s), 0);
	/* 5 general scalars, 4 + 4 state rows, 6 devices scalars */
	assert_int_equal(s.n, 5 + 4 + 4 + 6);
	for (size_t i = 1; i < s.n; i++)
		assert_true(mib_oid_cmp(s.v[i - 1].oid, s.v[i - 1].len, s.v[i].oid, s.v[i].len) < 0);
	static const uint64_t sw_want[MIB_DEV_STATES] = { 0, 1, 2, UINT32_MAX };   /* Gauge32 latches */
	for (uint32_t st = 0; st < MIB_DEV_STATES; st++) {
		len = mib_state_oid(oid, MIB_ARC_SWITCH_STATES, MIB_STATE_COUNT_COL, st);
		assert_int_equal(oid[len - 1], st + 1);
		const struct mib_val *v = mib_snap_get(&s, oid, len);
		assert_non_null(v);
		assert_int_equal(v->type, MIB_T_GAUGE);
		assert_int_equal(v->num, sw_want[st]);
		len = mib_state_oid(oid, MIB_ARC_BMC_STATES, MIB_STATE_COUNT_COL, st);
		v = mib_snap_get(&s, oid, len);
		assert_non_null(v);
		assert_int_equal(v->type, MIB_T_GAUGE);
		assert_int_equal(v->num, fg.svc.bmcs[st]);
	}
	len = mib_state_oid(oid, MIB_ARC_SWITCH_STATES, MIB_STATE_COUNT_COL, MIB_DEV_STATES);
	assert_null(mib_snap_get(&s, oid, len));   /* no fifth state: served object, no instance */
	assert_true(mib_object_served(&s, oid, len));
	static const struct { uint32_t id; uint64_t v; } sc[] = {
		{ MIB_SC_SWITCH_SYNCS, BIG_COUNTER }, { MIB_SC_SWITCH_SYNC_ERRORS, 3 }, { MIB_SC_SWITCH_SET_PDUS, 40 },
		{ MIB_SC_BMC_SYNCS, 4 }, { MIB_SC_BMC_SYNC_ERRORS, 6 }, { MIB_SC_BMC_SETS, 12 },
	};
	for (size_t i = 0; i < N_ARCS(sc); i++) {
		const struct mib_val *v = mib_snap_get(&s, oid, mib_scalar_oid(oid, MIB_ARC_DEVICES, sc[i].id));
		assert_non_null(v);
		assert_int_equal(v->type, MIB_T_COUNTER64);
		assert_int_equal(v->num, sc[i].v);
	}
	/* a walk: the switch table follows the general scalars, the BMC table
	 * and the devices scalars end it */
	len = mib_scalar_oid(oid, MIB_ARC_GENERAL, MIB_SC_THRESHOLD);
	const struct mib_val *v = mib_snap_next(&s, oid, len, false);
	assert_non_null(v);
	assert_int_equal(v->oid[MIB_BASE_LEN + 1], MIB_ARC_SWITCH_STATES);
	assert_int_equal(v->oid[MIB_BASE_LEN + 4], 1);
	len = mib_state_oid(oid, MIB_ARC_SWITCH_STATES, MIB_STATE_COUNT_COL, MIB_DEV_ERROR);
	v = mib_snap_next(&s, oid, len, false);
	assert_non_null(v);
	assert_int_equal(v->oid[MIB_BASE_LEN + 1], MIB_ARC_BMC_STATES);
	assert_true(mib_snap_next(&s, oid, mib_scalar_oid(oid, MIB_ARC_DEVICES, MIB_SC_BMC_SETS), true) ==
		    &s.v[s.n - 1]);
	assert_int_equal(s.svc.switches[MIB_DEV_IN_SYNC], 2);   /* the snapshot keeps its copy */
	assert_string_equal(mib_dev_state_name[MIB_DEV_IN_SYNC], "in-sync");
	mib_snap_free(&s);

	/* without the devices part: none of its objects, none served */
	fg.svc = (struct mib_service_figs){ 0 };
	assert_int_equal(mib_snap_from_figures(&fg, 80, &s), 0);
	assert_int_equal(s.n, 5);
	len = mib_state_oid(oid, MIB_ARC_SWITCH_STATES, MIB_STATE_COUNT_COL, MIB_DEV_ERROR);
	assert_false(mib_object_served(&s, oid, len));
	assert_false(mib_object_served(&s, oid, mib_scalar_oid(oid, MIB_ARC_DEVICES, MIB_SC_SWITCH_SYNCS)));
	mib_snap_free(&s);
}

/* mib_snap_from_figures needs no store: figures put together by hand. */
static void test_snap_from_figures(void **state)
{
	struct mib_range_figs rg = { .network = "n", .family = ADDR_V6, .index = 1, .name = "derived", .size = P64,
				     .free = "18446744073709551606", .used = 6, .held = 4 };
	struct mib_network_figs nf = { .name = "n", .vlan = 7, .first_range = 0, .n_ranges = 1, .size = P64,
				       .free = "18446744073709551606", .used = 6, .held = 4 };
	struct mib_figures fg = { .generation = 9, .networks = 1, .nodes = 3, .nets = &nf, .n_nets = 1,
				  .ranges = &rg, .n_ranges = 1 };
	struct mib_snap s;
	uint32_t oid[MIB_OID_MAX];
	(void)state;

	rg.first = A("2001:db8::");
	rg.last = A("2001:db8::ffff:ffff:ffff:ffff");
	assert_int_equal(mib_snap_from_figures(&fg, 50, &s), 0);
	assert_int_equal(s.n, 5 + 6 + 9);
	assert_int_equal(s.generation, 9);
	assert_int_equal(s.n_ranges, 1);
	assert_int_equal(s.ranges[0].family, 2);   /* netdRangeFamily ipv6 */
	assert_int_equal(s.ranges[0].util_pct, 0);
	assert_string_equal(mib_snap_get(&s, oid, row_oid(oid, 3, 5, "n", 2, 1))->str, "2001:db8::");
	assert_string_equal(mib_snap_get(&s, oid, row_oid(oid, 3, 10, "n", 2, 1))->str, "18446744073709551606");
	assert_int_equal(mib_snap_get(&s, oid, row_oid(oid, 2, 2, "n", 0, 0))->num, 7);
	assert_int_equal(mib_snap_get(&s, oid, scalar_oid(oid, 3))->num, 6);   /* active: the ranges' used */
	assert_int_equal(mib_snap_get(&s, oid, scalar_oid(oid, 4))->num, 4);
	mib_snap_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oid_cmp),
		cmocka_unit_test(test_dec_add),
		cmocka_unit_test(test_util_pct),
		cmocka_unit_test(test_object_served),
		cmocka_unit_test(test_rise),
		cmocka_unit_test(test_snap_from_figures),
		cmocka_unit_test(test_snap_devices),
		cmocka_unit_test_setup_teardown(test_snap_build, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snap_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_figures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snap_services, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
