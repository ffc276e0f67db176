/* ipam/ipam.c — address pools and allocation.
 *
 * Overview.  ipam turns a network's ranges into addresses for nodes and VIPs
 * inside the caller's write transaction.  Three private tables keep every
 * question it answers on the hot path to a handful of B-tree seeks:
 *
 *   "ipam_free"   network NUL family first-addr -> last-addr
 *                 The free intervals inside the ranges.  An interval never
 *                 crosses a range boundary, so "the first free address of a
 *                 range" is one seek to (network, family, range.first).
 *                 Reserved addresses (v4 network and broadcast, the v6
 *                 subnet-router anycast address prefix::, the routers) and
 *                 every allocation, active or held, are absent from it.
 *   "ipam_held"   network NUL family released-at(8, BE) addr -> ""
 *                 The hold queue, oldest first: expiry is a seek to the
 *                 (network, family) prefix that stops at the first entry
 *                 still in hold-down.
 *   "ipam_count"  network NUL family range-name -> used(8, BE) held(8, BE)
 *                 Per-range counters, so utilization never walks the
 *                 allocations.  The derived v6 space counts under range "".
 *
 * An allocation record (core "alloc" table, with its owner index) exists for
 * every active and every held address; a held one keeps its owner so that the
 * same owner gets it back within the hold-down ("sticky").
 *
 * Derived v6 addressing (a v6 prefix of /64 or shorter without ranges): the
 * host part is SipHash-2-4 under a fixed key (IPAM_DERIVED_KEY below) of the
 * node's FQDN followed by a 32-bit big-endian candidate number k = 0, 1, 2...,
 * masked to the host bits; candidates that are taken or reserved (host part
 * zero, the RFC 2526 anycast ids = the top 128 host parts, the router) are
 * skipped.  The key and the input layout are part of the on-the-wire
 * contract: changing them renumbers every derived address.
 *
 * Caveats:
 *  - Every function runs inside the caller's write transaction and assumes it
 *    is aborted on failure: on error, some of ipam's writes may have happened.
 *  - An existing allocation wins over a changed hint (allocation order step 1);
 *    to move a node to its new hint, release the old address first.
 *  - ipam_network_put() must be given the stored record as @old: it decides
 *    from the difference whether the free index has to be rebuilt.
 */
#include "ipam/ipam.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define IPAM_HOLD_DOWN_DEFAULT 3600u
/* How many derived candidates to try before declaring the space exhausted.
 * With 2^64 host parts a collision chain this long means something is off. */
#define DERIVED_TRIES 256u
/* RFC 2526: the highest 128 interface ids of a subnet are reserved anycast. */
#define RFC2526_ANYCAST_IDS 128u
/* Fixed SipHash key for derived host parts (16 bytes, ASCII). */
static const uint8_t IPAM_DERIVED_KEY[16] = "netd-ipam-v6-iid";

#define NF_KEY_MAX (MODEL_NAME_MAX + 1)            /* network NUL family */
#define FREE_KEY_MAX (NF_KEY_MAX + 16)
#define HELD_KEY_MAX (NF_KEY_MAX + 8 + 16)
#define COUNT_KEY_MAX (NF_KEY_MAX + MODEL_NAME_MAX)
#define COUNT_VAL_LEN 16
#define KEYQ_MAX (2 * MODEL_NAME_MAX + 3)         /* a quoted key predicate value */

__extension__ typedef unsigned __int128 u128;

struct ipam {
	struct store *s;
	struct model_tables m;
	store_tbl free_tbl, held_tbl, count_tbl;
	struct ipam_cfg cfg;
	struct ipam_tally *tally;   /* NULL = not counting (ipam_set_tally) */
};

/* An interval of free addresses, both ends inclusive. */
struct ival {
	struct addr first, last;
};

/* ---- small helpers: families, ranges, paths ---- */

static const char *fam_name(int fam)
{
	return fam == ADDR_V4 ? "ipv4" : "ipv6";
}

static bool fam_present(const struct model_network *n, int fam)
{
	return fam == ADDR_V4 ? n->has_v4 : n->v6_mode != MODEL_V6_NONE;
}

static const struct prefix *fam_prefix(const struct model_network *n, int fam)
{
	return fam == ADDR_V4 ? &n->v4_subnet : &n->v6_prefix;
}

static const struct addr *fam_router(const struct model_network *n, int fam)
{
	if (fam == ADDR_V4)
		return n->has_v4_router ? &n->v4_router : NULL;
	return n->has_v6_router ? &n->v6_router : NULL;
}

static void fam_ranges(const struct model_network *n, int fam, const struct model_range **r, size_t *nr)
{
	*r = fam == ADDR_V4 ? n->v4_ranges : n->v6_ranges;
	*nr = fam == ADDR_V4 ? n->n_v4_ranges : n->n_v6_ranges;
}

/* v6 without ranges: host parts are derived from names, not handed out in order. */
static bool fam_derived(const struct model_network *n, int fam)
{
	return fam == ADDR_V6 && n->v6_mode != MODEL_V6_NONE && n->n_v6_ranges == 0;
}

static bool in_range(const struct model_range *r, const struct addr *a)
{
	return addr_cmp(&r->first, a) <= 0 && addr_cmp(a, &r->last) <= 0;
}

static const struct model_range *range_containing(const struct model_network *n, int fam, const struct addr *a)
{
	const struct model_range *r;
	size_t nr;

	fam_ranges(n, fam, &r, &nr);
	for (size_t i = 0; i < nr; i++)
		if (in_range(&r[i], a))
			return &r[i];
	return NULL;
}

static const struct model_range *range_by_name(const struct model_network *n, int fam, const char *name)
{
	const struct model_range *r;
	size_t nr;

	fam_ranges(n, fam, &r, &nr);
	for (size_t i = 0; i < nr; i++)
		if (strcmp(r[i].name, name) == 0)
			return &r[i];
	return NULL;
}

/* "/netd:networks/network[name='x']" followed by @tail. */
static const char *net_path(char *buf, size_t len, const char *net, const char *tail)
{
	char q[KEYQ_MAX];

	snprintf(buf, len, "/netd:networks/network[name=%s]%s", netd_path_key(net, q, sizeof(q)), tail);
	return buf;
}

/* "/netd:networks/network[name='x']/ipv4/range[name='r']" followed by @tail. */
static const char *range_path(char *buf, size_t len, const char *net, int fam, const char *range, const char *tail)
{
	char qn[KEYQ_MAX], qr[KEYQ_MAX];

	snprintf(buf, len, "/netd:networks/network[name=%s]/%s/range[name=%s]%s", netd_path_key(net, qn, sizeof(qn)),
		 fam_name(fam), netd_path_key(range, qr, sizeof(qr)), tail);
	return buf;
}

/* "/netd:nodes/node[name='n']/network[name='x']" followed by @tail. */
static const char *attach_path(char *buf, size_t len, const char *node, const char *net, const char *tail)
{
	char qn[KEYQ_MAX], qx[KEYQ_MAX];

	snprintf(buf, len, "/netd:nodes/node[name=%s]/network[name=%s]%s", netd_path_key(node, qn, sizeof(qn)),
		 netd_path_key(net, qx, sizeof(qx)), tail);
	return buf;
}

static const char *owner_kind_name(uint8_t kind)
{
	return kind == OWNER_VIP ? "vip" : "node";
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- keys of ipam's tables ---- */

/* network NUL family: the prefix every key of ipam's tables starts with. */
static size_t key_nf(uint8_t *buf, const char *net, int fam)
{
	size_t n = strnlen(net, MODEL_NAME_MAX - 1);

	memcpy(buf, net, n);
	buf[n] = 0;
	buf[n + 1] = (uint8_t)fam;
	return n + 2;
}

static size_t key_free(uint8_t *buf, const char *net, const struct addr *a)
{
	size_t n = key_nf(buf, net, a->family);

	memcpy(buf + n, a->b, addr_len(a));
	return n + addr_len(a);
}

static size_t key_held(uint8_t *buf, const char *net, uint64_t released_at, const struct addr *a)
{
	size_t n = key_nf(buf, net, a->family);

	put_be64(buf + n, released_at);
	memcpy(buf + n + 8, a->b, addr_len(a));
	return n + 8 + addr_len(a);
}

static size_t key_count(uint8_t *buf, const char *net, int fam, const char *range)
{
	size_t n = key_nf(buf, net, fam);
	size_t rn = strnlen(range, MODEL_NAME_MAX - 1);

	memcpy(buf + n, range, rn);
	return n + rn;
}

static bool has_prefix(const struct store_val *k, const uint8_t *p, size_t pn)
{
	return k->n >= pn && memcmp(k->p, p, pn) == 0;
}

/* Delete every entry of @tbl whose key starts with @p. Re-seeks after each
 * delete so it does not depend on cursor behaviour after a delete. */
static int del_prefix(struct store_txn *t, store_tbl tbl, const uint8_t *p, size_t pn)
{
	struct store_cursor *c = NULL;
	struct store_val k;
	int rc;

	rc = store_cursor_open(t, tbl, &c);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = store_cursor_seek(c, p, pn, &k, NULL);
		if (rc == NETD_ENOTFOUND || (rc == 0 && !has_prefix(&k, p, pn))) {
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		rc = store_cursor_del(c);
		if (rc < 0)
			break;
	}
	store_cursor_close(c);
	return rc;
}

/* ---- the free-interval index ---- */

/* Decode a free-index entry of (net, fam) into @out; NETD_ECORRUPT if the
 * entry is not one. */
static int ival_decode(const struct store_val *k, const struct store_val *v, size_t pn, int fam, struct ival *out)
{
	size_t al = addr_family_len(fam);

	if (k->n != pn + al || v->n != al)
		return NETD_ECORRUPT;
	addr_from_bytes(&out->first, fam, (const uint8_t *)k->p + pn);
	addr_from_bytes(&out->last, fam, v->p);
	return 0;
}

/* The free interval of (net, a.family) with the greatest start <= @a.
 * NETD_ENOTFOUND if there is none. */
static int free_floor(struct ipam *ip, struct store_txn *t, const char *net, const struct addr *a, struct ival *out)
{
	uint8_t k[FREE_KEY_MAX], p[NF_KEY_MAX];
	size_t kn = key_free(k, net, a), pn = key_nf(p, net, a->family);
	struct store_cursor *c = NULL;
	struct store_val fk, fv;
	int rc;

	rc = store_cursor_open(t, ip->free_tbl, &c);
	if (rc < 0)
		return rc;
	rc = store_cursor_seek(c, k, kn, &fk, &fv);
	if (rc == 0 && !(fk.n == kn && memcmp(fk.p, k, kn) == 0))
		rc = store_cursor_prev(c, &fk, &fv);   /* the entry after @a: step back */
	else if (rc == NETD_ENOTFOUND)
		rc = store_cursor_last(c, &fk, &fv);   /* every key is below @a */
	if (rc == 0 && !has_prefix(&fk, p, pn))
		rc = NETD_ENOTFOUND;
	if (rc == 0)
		rc = ival_decode(&fk, &fv, pn, a->family, out);
	store_cursor_close(c);
	return rc;
}

static int free_put(struct ipam *ip, struct store_txn *t, const char *net, const struct ival *iv)
{
	uint8_t k[FREE_KEY_MAX];
	size_t kn = key_free(k, net, &iv->first);

	return store_put(t, ip->free_tbl, k, kn, iv->last.b, addr_len(&iv->last));
}

static int free_del(struct ipam *ip, struct store_txn *t, const char *net, const struct addr *first)
{
	uint8_t k[FREE_KEY_MAX];
	size_t kn = key_free(k, net, first);

	return store_del(t, ip->free_tbl, k, kn);
}

/* Take the lowest free address of range @r: one seek, since intervals never
 * cross a range boundary. NETD_ENOTFOUND when the range has none. */
static int free_take_first(struct ipam *ip, struct store_txn *t, const char *net, const struct model_range *r,
			   struct addr *out)
{
	uint8_t k[FREE_KEY_MAX], p[NF_KEY_MAX];
	size_t kn = key_free(k, net, &r->first), pn = key_nf(p, net, r->first.family);
	struct store_cursor *c = NULL;
	struct store_val fk, fv;
	struct ival iv;
	int rc;

	rc = store_cursor_open(t, ip->free_tbl, &c);
	if (rc < 0)
		return rc;
	rc = store_cursor_seek(c, k, kn, &fk, &fv);
	if (rc == 0 && !has_prefix(&fk, p, pn))
		rc = NETD_ENOTFOUND;
	if (rc == 0)
		rc = ival_decode(&fk, &fv, pn, r->first.family, &iv);
	store_cursor_close(c);
	if (rc < 0)
		return rc;
	if (addr_cmp(&iv.first, &r->last) > 0)
		return NETD_ENOTFOUND;   /* the next interval belongs to a later range */

	rc = free_del(ip, t, net, &iv.first);
	if (rc == 0 && !addr_eq(&iv.first, &iv.last)) {
		struct ival rest = iv;
		addr_inc(&rest.first);
		rc = free_put(ip, t, net, &rest);
	}
	if (rc == 0)
		*out = iv.first;
	return rc;
}

/* Remove @a from the free index by splitting the interval holding it.
 * NETD_ENOTFOUND when @a is not free. */
static int free_reserve(struct ipam *ip, struct store_txn *t, const char *net, const struct addr *a)
{
	struct ival iv;
	int rc;

	rc = free_floor(ip, t, net, a, &iv);
	if (rc < 0)
		return rc;
	if (addr_cmp(a, &iv.last) > 0)
		return NETD_ENOTFOUND;
	rc = free_del(ip, t, net, &iv.first);
	if (rc == 0 && addr_cmp(&iv.first, a) < 0) {
		struct ival left = { iv.first, *a };
		addr_dec(&left.last);
		rc = free_put(ip, t, net, &left);
	}
	if (rc == 0 && addr_cmp(a, &iv.last) < 0) {
		struct ival right = { *a, iv.last };
		addr_inc(&right.first);
		rc = free_put(ip, t, net, &right);
	}
	return rc;
}

/* Give @a (inside range @r) back to the free index, merged with its
 * neighbours inside the same range. Returning a free address is a no-op. */
static int free_return(struct ipam *ip, struct store_txn *t, const char *net, const struct model_range *r,
		       const struct addr *a)
{
	struct ival left, right, merged = { *a, *a };
	bool has_left = false, has_right = false;
	int rc;

	rc = free_floor(ip, t, net, a, &left);
	if (rc == 0 && addr_cmp(a, &left.last) <= 0)
		return 0;   /* already free */
	if (rc < 0 && rc != NETD_ENOTFOUND)
		return rc;
	if (rc == 0 && addr_cmp(&r->first, a) < 0) {
		struct addr before = *a;
		addr_dec(&before);
		has_left = addr_eq(&left.last, &before) && in_range(r, &left.first);
	}
	if (addr_cmp(a, &r->last) < 0) {
		uint8_t k[FREE_KEY_MAX];
		struct addr after = *a;
		struct store_val v;
		addr_inc(&after);
		rc = store_get(t, ip->free_tbl, k, key_free(k, net, &after), &v);
		if (rc == 0) {
			if (v.n != addr_len(a))
				return NETD_ECORRUPT;
			right.first = after;
			addr_from_bytes(&right.last, a->family, v.p);
			has_right = true;
		} else if (rc != NETD_ENOTFOUND) {
			return rc;
		}
	}
	if (has_left)
		merged.first = left.first;
	if (has_right) {
		merged.last = right.last;
		rc = free_del(ip, t, net, &right.first);
		if (rc < 0)
			return rc;
	}
	/* With a left neighbour this overwrites its entry with the longer end. */
	return free_put(ip, t, net, &merged);
}

/* ---- counters ---- */

static int count_get(struct ipam *ip, struct store_txn *t, const char *net, int fam, const char *range,
		     uint64_t *used, uint64_t *held)
{
	uint8_t k[COUNT_KEY_MAX];
	struct store_val v;
	int rc = store_get(t, ip->count_tbl, k, key_count(k, net, fam, range), &v);

	if (rc == NETD_ENOTFOUND) {
		*used = *held = 0;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (v.n != COUNT_VAL_LEN)
		return NETD_ECORRUPT;
	*used = get_be64(v.p);
	*held = get_be64((const uint8_t *)v.p + 8);
	return 0;
}

static int count_set(struct ipam *ip, struct store_txn *t, const char *net, int fam, const char *range,
		     uint64_t used, uint64_t held)
{
	uint8_t k[COUNT_KEY_MAX], v[COUNT_VAL_LEN];

	put_be64(v, used);
	put_be64(v + 8, held);
	return store_put(t, ip->count_tbl, k, key_count(k, net, fam, range), v, sizeof(v));
}

/* Adjust the used/held counters of the range an allocation belongs to. */
static int count_add(struct ipam *ip, struct store_txn *t, const struct model_alloc *a, int d_used, int d_held)
{
	uint64_t used, held;
	int rc = count_get(ip, t, a->network, a->addr.family, a->range, &used, &held);

	if (rc < 0)
		return rc;
	if ((d_used < 0 && used == 0) || (d_held < 0 && held == 0))
		return NETD_ECORRUPT;   /* counters out of step with the allocations */
	return count_set(ip, t, a->network, a->addr.family, a->range, used + (uint64_t)(int64_t)d_used,
			 held + (uint64_t)(int64_t)d_held);
}

/* ---- reserved addresses ---- */

/* The addresses of @fam never handed out whatever the ranges say: the v4
 * network and broadcast address (not on /31 and /32, RFC 3021), the v6
 * subnet-router anycast address (prefix::, RFC 4291) and the router.
 * Returns how many were written to @out (at most 3, no duplicates). */
static size_t reserved_addrs(const struct model_network *n, int fam, struct addr out[3])
{
	const struct prefix *p = fam_prefix(n, fam);
	const struct addr *router = fam_router(n, fam);
	size_t k = 0;

	if (fam == ADDR_V6 || p->len <= 30)
		prefix_first(p, &out[k++]);
	if (fam == ADDR_V4 && p->len <= 30)
		prefix_last(p, &out[k++]);
	if (router) {
		bool dup = false;
		for (size_t i = 0; i < k; i++)
			dup = dup || addr_eq(&out[i], router);
		if (!dup)
			out[k++] = *router;
	}
	return k;
}

/* ---- SipHash-2-4 and derived v6 host parts ---- */

static uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

static void sip_round(struct sip *s)
{
	s->v0 += s->v1; s->v1 = rotl64(s->v1, 13); s->v1 ^= s->v0; s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3; s->v3 = rotl64(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = rotl64(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = rotl64(s->v1, 17); s->v1 ^= s->v2; s->v2 = rotl64(s->v2, 32);
}

/* SipHash-2-4 (Aumasson, Bernstein 2012), reference algorithm. */
static uint64_t siphash24(const uint8_t key[16], const uint8_t *in, size_t n)
{
	uint64_t k0 = get_le64(key), k1 = get_le64(key + 8), last = (uint64_t)n << 56, m;
	struct sip s = {
		0x736f6d6570736575ULL ^ k0, 0x646f72616e646f6dULL ^ k1,
		0x6c7967656e657261ULL ^ k0, 0x7465646279746573ULL ^ k1,
	};
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		m = get_le64(in + i);
		s.v3 ^= m;
		sip_round(&s);
		sip_round(&s);
		s.v0 ^= m;
	}
	for (size_t j = 0; i + j < n; j++)
		last |= (uint64_t)in[i + j] << (8 * j);
	s.v3 ^= last;
	sip_round(&s);
	sip_round(&s);
	s.v0 ^= last;
	s.v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

static unsigned host_bits(const struct prefix *p)
{
	return (unsigned)(p->a.family == ADDR_V4 ? 32 : 128) - p->len;
}

/* The low 64 bits of @a as an integer. */
static uint64_t low64(const struct addr *a)
{
	return get_be64(a->b + 8);
}

void ipam_derived_candidate(const struct prefix *p, const char *name, uint32_t k, struct addr *out)
{
	uint8_t buf[MODEL_DOMAIN_MAX + 4];
	size_t n = strnlen(name, MODEL_DOMAIN_MAX - 1);
	unsigned hb = host_bits(p);
	uint64_t h;

	memcpy(buf, name, n);
	buf[n] = (uint8_t)(k >> 24);
	buf[n + 1] = (uint8_t)(k >> 16);
	buf[n + 2] = (uint8_t)(k >> 8);
	buf[n + 3] = (uint8_t)k;
	h = siphash24(IPAM_DERIVED_KEY, buf, n + 4);
	if (hb < 64)
		h &= (UINT64_C(1) << hb) - 1;
	*out = p->a;
	/* Host bits of a prefix longer than /64 lie inside the low 64 bits; for
	 * shorter prefixes the bits above the low 64 stay zero. */
	put_be64(out->b + 8, low64(&p->a) | h);
}

/* Host part zero (subnet-router anycast) or one of the RFC 2526 anycast ids. */
static bool derived_reserved(const struct prefix *p, const struct addr *a)
{
	unsigned hb = host_bits(p);
	struct addr host;
	uint64_t lo, top;

	addr_host_part(a, p->len, &host);
	if (addr_is_zero(&host))
		return true;
	if (hb > 64) {
		/* Top 128 host parts: all host bits above the low 64 set, low 64 >= 2^64 - 128. */
		for (unsigned bit = 64; bit < hb; bit++)
			if (!(host.b[15 - bit / 8] & (1u << (bit % 8))))
				return false;
		return low64(&host) >= UINT64_MAX - (RFC2526_ANYCAST_IDS - 1);
	}
	lo = low64(&host);
	top = hb == 64 ? UINT64_MAX : (UINT64_C(1) << hb) - 1;
	return top - lo < RFC2526_ANYCAST_IDS;
}

/* First and last usable address of the derived space (host part 1 up to the
 * last one below the RFC 2526 ids). */
static void derived_bounds(const struct prefix *p, struct addr *first, struct addr *last)
{
	prefix_first(p, first);
	addr_inc(first);
	prefix_last(p, last);
	addr_sub(last, RFC2526_ANYCAST_IDS);
}

/* ---- open / close ---- */

int ipam_open(struct store *s, const struct model_tables *m, const struct ipam_cfg *cfg, struct ipam **out)
{
	struct ipam *ip = calloc(1, sizeof(*ip));
	int rc;

	if (!ip)
		return -ENOMEM;
	ip->s = s;
	ip->m = *m;
	ipam_set_cfg(ip, cfg);
	rc = store_table(s, "ipam_free", &ip->free_tbl);
	if (rc == 0)
		rc = store_table(s, "ipam_held", &ip->held_tbl);
	if (rc == 0)
		rc = store_table(s, "ipam_count", &ip->count_tbl);
	if (rc < 0) {
		free(ip);
		return rc;
	}
	*out = ip;
	return 0;
}

void ipam_close(struct ipam *ip)
{
	free(ip);
}

void ipam_set_cfg(struct ipam *ip, const struct ipam_cfg *cfg)
{
	/* A zero hold-down would hand a released address to the next comer while
	 * resolvers still cache the old name: 0 means "the default". */
	ip->cfg.hold_down_s = cfg && cfg->hold_down_s ? cfg->hold_down_s : IPAM_HOLD_DOWN_DEFAULT;
}

void ipam_set_tally(struct ipam *ip, struct ipam_tally *tally)
{
	ip->tally = tally;
}

/* ---- network check ---- */

static int check_range_ends(const struct model_network *n, int fam, const struct model_range *r, struct netd_err *e)
{
	const struct prefix *p = fam_prefix(n, fam);
	char path[NETD_ERR_PATH_MAX], a1[ADDR_STRLEN], a2[ADDR_STRLEN], ps[PREFIX_STRLEN];
	bool check_bounds = p->a.family != 0;   /* v6 auto before its prefix is assigned */

	if (r->name[0] == 0)
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, fam == ADDR_V4 ? "/ipv4/range" : "/ipv6/range"),
				    "a range needs a name");
	if (r->first.family != fam)
		return netd_err_set(e, NETD_EINVAL, range_path(path, sizeof(path), n->name, fam, r->name, "/first"),
				    "%s is not an %s address", addr_print(&r->first, a1, sizeof(a1)), fam == ADDR_V4 ? "IPv4" : "IPv6");
	if (r->last.family != fam)
		return netd_err_set(e, NETD_EINVAL, range_path(path, sizeof(path), n->name, fam, r->name, "/last"),
				    "%s is not an %s address", addr_print(&r->last, a1, sizeof(a1)), fam == ADDR_V4 ? "IPv4" : "IPv6");
	if (!check_bounds)
		return netd_err_set(e, NETD_EINVAL, range_path(path, sizeof(path), n->name, fam, r->name, ""),
				    "ranges need the network's prefix; give an explicit prefix or add ranges after creation");
	if (!prefix_contains(p, &r->first))
		return netd_err_set(e, NETD_EINVAL, range_path(path, sizeof(path), n->name, fam, r->name, "/first"),
				    "%s is outside %s", addr_print(&r->first, a1, sizeof(a1)), prefix_print(p, ps, sizeof(ps)));
	if (!prefix_contains(p, &r->last))
		return netd_err_set(e, NETD_EINVAL, range_path(path, sizeof(path), n->name, fam, r->name, "/last"),
				    "%s is outside %s", addr_print(&r->last, a1, sizeof(a1)), prefix_print(p, ps, sizeof(ps)));
	if (addr_cmp(&r->first, &r->last) > 0)
		return netd_err_set(e, NETD_EINVAL, range_path(path, sizeof(path), n->name, fam, r->name, "/last"),
				    "%s is below the first address %s", addr_print(&r->last, a1, sizeof(a1)),
				    addr_print(&r->first, a2, sizeof(a2)));
	if (fam == ADDR_V4 && p->len <= 30) {
		struct addr net, bcast;
		prefix_first(p, &net);
		prefix_last(p, &bcast);
		if (addr_eq(&r->first, &net))
			return netd_err_set(e, NETD_EINVAL, range_path(path, sizeof(path), n->name, fam, r->name, "/first"),
					    "%s is the network address of %s", addr_print(&net, a1, sizeof(a1)),
					    prefix_print(p, ps, sizeof(ps)));
		if (addr_eq(&r->last, &bcast))
			return netd_err_set(e, NETD_EINVAL, range_path(path, sizeof(path), n->name, fam, r->name, "/last"),
					    "%s is the broadcast address of %s", addr_print(&bcast, a1, sizeof(a1)),
					    prefix_print(p, ps, sizeof(ps)));
	}
	return 0;
}

/* Names unique and no two ranges of the family overlapping. Ranges are few:
 * pairwise comparison needs no allocation. The later-listed one is blamed. */
static int check_range_set(const struct model_network *n, int fam, struct netd_err *e)
{
	const struct model_range *r;
	char path[NETD_ERR_PATH_MAX], a1[ADDR_STRLEN], a2[ADDR_STRLEN], a3[ADDR_STRLEN], a4[ADDR_STRLEN];
	size_t nr;

	fam_ranges(n, fam, &r, &nr);
	for (size_t j = 0; j < nr; j++) {
		for (size_t i = 0; i < j; i++) {
			if (strcmp(r[i].name, r[j].name) == 0)
				return netd_err_set(e, NETD_EINVAL, range_path(path, sizeof(path), n->name, fam, r[j].name, ""),
						    "range name '%s' is used twice", r[j].name);
			if (addr_cmp(&r[i].first, &r[j].last) <= 0 && addr_cmp(&r[j].first, &r[i].last) <= 0)
				return netd_err_set(e, NETD_EINVAL, range_path(path, sizeof(path), n->name, fam, r[j].name, "/first"),
						    "%s-%s overlaps range '%s' (%s-%s)", addr_print(&r[j].first, a1, sizeof(a1)),
						    addr_print(&r[j].last, a2, sizeof(a2)), r[i].name,
						    addr_print(&r[i].first, a3, sizeof(a3)), addr_print(&r[i].last, a4, sizeof(a4)));
		}
	}
	return 0;
}

static int check_router(const struct model_network *n, int fam, struct netd_err *e)
{
	const struct addr *router = fam_router(n, fam);
	const struct prefix *p = fam_prefix(n, fam);
	const char *leaf = fam == ADDR_V4 ? "/ipv4/router" : "/ipv6/router";
	char path[NETD_ERR_PATH_MAX], a1[ADDR_STRLEN], ps[PREFIX_STRLEN];
	struct addr net, bcast;

	if (!router)
		return 0;
	if (router->family != fam)
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, leaf), "%s is not an %s address",
				    addr_print(router, a1, sizeof(a1)), fam == ADDR_V4 ? "IPv4" : "IPv6");
	if (p->a.family == 0)
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, leaf),
				    "a router needs the network's prefix; give an explicit prefix or add the router after creation");
	if (!prefix_contains(p, router))
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, leaf), "%s is outside %s",
				    addr_print(router, a1, sizeof(a1)), prefix_print(p, ps, sizeof(ps)));
	prefix_first(p, &net);
	prefix_last(p, &bcast);
	if (fam == ADDR_V4 && p->len <= 30 && addr_eq(router, &net))
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, leaf),
				    "%s is the network address of %s", addr_print(router, a1, sizeof(a1)), prefix_print(p, ps, sizeof(ps)));
	if (fam == ADDR_V4 && p->len <= 30 && addr_eq(router, &bcast))
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, leaf),
				    "%s is the broadcast address of %s", addr_print(router, a1, sizeof(a1)), prefix_print(p, ps, sizeof(ps)));
	if (fam == ADDR_V6 && addr_eq(router, &net))
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, leaf),
				    "%s is the subnet-router anycast address of %s", addr_print(router, a1, sizeof(a1)),
				    prefix_print(p, ps, sizeof(ps)));
	return 0;
}

static int check_family(const struct model_network *n, int fam, struct netd_err *e)
{
	const struct model_range *r;
	char path[NETD_ERR_PATH_MAX];
	size_t nr;
	int rc;

	fam_ranges(n, fam, &r, &nr);
	if (!fam_present(n, fam)) {
		if (nr || fam_router(n, fam))
			return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, fam == ADDR_V4 ? "/ipv4" : "/ipv6"),
					    "ranges or a router given, but the network does not carry %s", fam == ADDR_V4 ? "IPv4" : "IPv6");
		return 0;
	}
	if (fam == ADDR_V4 && (n->v4_subnet.a.family != ADDR_V4 || n->v4_subnet.len > 32))
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, "/ipv4/subnet"), "not an IPv4 prefix");
	if (fam == ADDR_V6 && n->v6_mode == MODEL_V6_EXPLICIT && n->v6_prefix.a.family != ADDR_V6)
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, "/ipv6/prefix"), "not an IPv6 prefix");
	if (fam == ADDR_V6 && n->v6_mode != MODEL_V6_EXPLICIT && n->v6_mode != MODEL_V6_AUTO)
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, "/ipv6/prefix"), "unknown IPv6 mode %u",
				    n->v6_mode);
	/* Derived addressing hashes into at least 64 host bits; a longer prefix
	 * would make collisions likely and the RFC 2526 ids a real share. */
	if (fam == ADDR_V6 && nr == 0 && n->v6_prefix.a.family == ADDR_V6 && n->v6_prefix.len > 64)
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, "/ipv6/prefix"),
				    "prefix /%u is too long for derived addressing: needs /64 or shorter, or give ranges",
				    n->v6_prefix.len);
	for (size_t i = 0; i < nr; i++) {
		rc = check_range_ends(n, fam, &r[i], e);
		if (rc < 0)
			return rc;
	}
	rc = check_range_set(n, fam, e);
	if (rc == 0)
		rc = check_router(n, fam, e);
	return rc;
}

int ipam_network_check(const struct model_network *n, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX];
	int rc;

	if (n->name[0] == 0)
		return netd_err_set(e, NETD_EINVAL, "/netd:networks/network/name", "a network needs a name");
	if (n->vlan > 4094)
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, "/vlan"),
				    "VLAN %u is out of range 1..4094", n->vlan);
	if (n->use_vlan && n->vlan == 0)
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, "/use-vlan"), "use-vlan needs a vlan");
	if (n->team_mode > TEAM_BALANCE_ALB)
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, "/team-mode"),
				    "unknown team mode %u", n->team_mode);
	if (n->mtu != 0 && n->mtu < 68)
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, "/mtu"),
				    "MTU %u is below the IPv4 minimum of 68", n->mtu);
	rc = check_family(n, ADDR_V4, e);
	if (rc == 0)
		rc = check_family(n, ADDR_V6, e);
	return rc;
}

/* ---- the hold queue ---- */

/* Mark @a (active) held: it keeps its owner (sticky) and joins the queue. */
static int hold_alloc(struct ipam *ip, struct store_txn *t, struct model_alloc *a, uint64_t now)
{
	uint8_t k[HELD_KEY_MAX];
	int rc;

	a->state = ALLOC_HELD;
	a->released_at = now;
	rc = model_alloc_put(&ip->m, t, a);
	if (rc == 0)
		rc = store_put(t, ip->held_tbl, k, key_held(k, a->network, now, &a->addr), "", 0);
	if (rc == 0)
		rc = count_add(ip, t, a, -1, +1);
	if (rc == 0 && ip->tally)
		ip->tally->released++;
	return rc;
}

static int unqueue_held(struct ipam *ip, struct store_txn *t, const struct model_alloc *a)
{
	uint8_t k[HELD_KEY_MAX];
	int rc = store_del(t, ip->held_tbl, k, key_held(k, a->network, a->released_at, &a->addr));

	return rc == NETD_ENOTFOUND ? 0 : rc;  /* queue entry already gone: nothing to undo */
}

/* A held allocation back to active for its owner. */
static int reactivate(struct ipam *ip, struct store_txn *t, struct model_alloc *a)
{
	int rc = unqueue_held(ip, t, a);

	if (rc == 0)
		rc = count_add(ip, t, a, +1, -1);
	a->state = ALLOC_ACTIVE;
	a->released_at = 0;
	if (rc == 0)
		rc = model_alloc_put(&ip->m, t, a);
	if (rc == 0 && ip->tally)
		ip->tally->allocated++;
	return rc;
}

/* Forget a held allocation (expired or taken over): record, owner index,
 * queue entry and counter. The address is not returned to the free index. */
static int drop_held(struct ipam *ip, struct store_txn *t, const struct model_alloc *a)
{
	int rc = unqueue_held(ip, t, a);

	if (rc == 0)
		rc = model_alloc_del(&ip->m, t, a);
	if (rc == 0)
		rc = count_add(ip, t, a, 0, -1);
	return rc;
}

/* The oldest entry of the (net, fam) hold queue, optionally only among
 * addresses inside @r. NETD_ENOTFOUND when there is none. Walks the queue
 * when @r is given: used only when a range has nothing else free. */
static int held_oldest(struct ipam *ip, struct store_txn *t, const char *net, int fam, const struct model_range *r,
		       uint64_t *released_at, struct addr *a)
{
	uint8_t p[NF_KEY_MAX];
	size_t pn = key_nf(p, net, fam), al = addr_family_len(fam);
	struct store_cursor *c = NULL;
	struct store_val k;
	int rc;

	rc = store_cursor_open(t, ip->held_tbl, &c);
	if (rc < 0)
		return rc;
	for (rc = store_cursor_seek(c, p, pn, &k, NULL); rc == 0; rc = store_cursor_next(c, &k, NULL)) {
		if (!has_prefix(&k, p, pn)) {
			rc = NETD_ENOTFOUND;
			break;
		}
		if (k.n != pn + 8 + al) {
			rc = NETD_ECORRUPT;
			break;
		}
		addr_from_bytes(a, fam, (const uint8_t *)k.p + pn + 8);
		*released_at = get_be64((const uint8_t *)k.p + pn);
		if (!r || in_range(r, a))
			break;
	}
	store_cursor_close(c);
	return rc;
}

/* Let go of the holds of (net, fam) whose hold-down has passed, oldest
 * first, returning their addresses to the free index. */
static int expire_holds(struct ipam *ip, struct store_txn *t, const struct model_network *net, int fam, uint64_t now)
{
	struct model_alloc a;
	struct addr addr;
	uint64_t released_at;
	int rc;

	for (;;) {
		rc = held_oldest(ip, t, net->name, fam, NULL, &released_at, &addr);
		if (rc == NETD_ENOTFOUND)
			return 0;
		if (rc < 0)
			return rc;
		if (released_at > now || now - released_at < ip->cfg.hold_down_s)
			return 0;
		rc = model_alloc_get(&ip->m, t, net->name, &addr, &a);
		if (rc == NETD_ENOTFOUND || (rc == 0 && (a.state != ALLOC_HELD || a.released_at != released_at))) {
			/* A stale queue entry (the record moved on): just drop it. */
			uint8_t k[HELD_KEY_MAX];
			rc = store_del(t, ip->held_tbl, k, key_held(k, net->name, released_at, &addr));
			if (rc < 0)
				return rc;
			continue;
		}
		if (rc < 0)
			return rc;
		rc = drop_held(ip, t, &a);
		if (rc == 0) {
			const struct model_range *r = range_containing(net, fam, &addr);
			if (r)
				rc = free_return(ip, t, net->name, r, &addr);
		}
		if (rc < 0)
			return rc;
	}
}

/* ---- allocation ---- */

/* What one allocation asks for. */
struct want {
	const struct model_network *net;
	int fam;
	uint8_t owner_kind;
	const char *owner;
	const char *range;        /* requested range name, "" = default */
	const struct addr *hint;  /* NULL = none */
	const struct addr *align; /* host part of the primary address on this subnet, or NULL */
	const char *hash_name;    /* derived v6: what the host part hashes */
	const char *path;         /* the request's data path (attachment or RPC) */
	const char *hint_leaf;    /* "/ipv4-hint", "/ipv6-hint", "/hint" */
	const char *range_leaf;   /* "/range" */
};

static void want_err_path(const struct want *w, const char *leaf, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", w->path, leaf);
}

/* Pick the range: the requested one, else the one holding the hint, else
 * "host", else the first range of the family. */
static int choose_range(const struct want *w, const struct model_range **out, struct netd_err *e)
{
	const struct model_range *r, *all;
	char path[NETD_ERR_PATH_MAX];
	size_t nr;

	fam_ranges(w->net, w->fam, &all, &nr);
	if (w->range[0]) {
		r = range_by_name(w->net, w->fam, w->range);
		if (!r) {
			want_err_path(w, w->range_leaf, path, sizeof(path));
			return netd_err_set(e, NETD_ENOTFOUND, path, "network '%s' has no %s range '%s'", w->net->name,
					    fam_name(w->fam), w->range);
		}
	} else if (w->hint && (r = range_containing(w->net, w->fam, w->hint)) != NULL) {
		/* the hint's own range */
	} else if ((r = range_by_name(w->net, w->fam, "host")) == NULL) {
		r = &all[0];
	}
	*out = r;
	return 0;
}

/* Record a new active allocation of @a for the requester. */
static int record_alloc(struct ipam *ip, struct store_txn *t, const struct want *w, const struct model_range *r,
			const struct addr *a, uint64_t now)
{
	struct model_alloc rec = {
		.addr = *a, .owner_kind = w->owner_kind, .state = ALLOC_ACTIVE, .allocated_at = now,
	};
	int rc;

	snprintf(rec.network, sizeof(rec.network), "%s", w->net->name);
	snprintf(rec.owner, sizeof(rec.owner), "%s", w->owner);
	snprintf(rec.range, sizeof(rec.range), "%s", r ? r->name : "");
	rc = model_alloc_put(&ip->m, t, &rec);
	if (rc == 0)
		rc = count_add(ip, t, &rec, +1, 0);
	if (rc == 0 && ip->tally)
		ip->tally->allocated++;
	return rc;
}

static bool is_reserved(const struct model_network *n, int fam, const struct addr *a)
{
	struct addr res[3];
	size_t nres = reserved_addrs(n, fam, res);

	for (size_t i = 0; i < nres; i++)
		if (addr_eq(&res[i], a))
			return true;
	return fam_derived(n, fam) && derived_reserved(fam_prefix(n, fam), a);
}

/* Is @a taken by an allocation of someone else? Fills @who with a
 * description for the error message. */
static int taken_by(struct ipam *ip, struct store_txn *t, const struct want *w, const struct addr *a, bool *taken,
		    char *who, size_t wlen)
{
	struct model_alloc other;
	int rc = model_alloc_get(&ip->m, t, w->net->name, a, &other);

	*taken = false;
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	*taken = true;
	snprintf(who, wlen, "%s '%s'%s", owner_kind_name(other.owner_kind), other.owner,
		 other.state == ALLOC_HELD ? " (held in hold-down)" : "");
	return 0;
}

/* Step 2: the hint. Must lie in the subnet and the chosen range and be free. */
static int take_hint(struct ipam *ip, struct store_txn *t, const struct want *w, const struct model_range *r,
		     uint64_t now, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX], a1[ADDR_STRLEN], a2[ADDR_STRLEN], a3[ADDR_STRLEN], who[2 * MODEL_NAME_MAX + 32];
	bool taken;
	int rc;

	want_err_path(w, w->hint_leaf, path, sizeof(path));
	addr_print(w->hint, a1, sizeof(a1));
	if (r && !in_range(r, w->hint))
		return netd_err_set(e, NETD_EINVAL, path, "%s is outside range '%s' (%s-%s) of network '%s'", a1, r->name,
				    addr_print(&r->first, a2, sizeof(a2)), addr_print(&r->last, a3, sizeof(a3)), w->net->name);
	if (is_reserved(w->net, w->fam, w->hint))
		return netd_err_set(e, NETD_EINVAL, path, "%s is reserved on network '%s' (network, broadcast, router or anycast address)",
				    a1, w->net->name);
	rc = taken_by(ip, t, w, w->hint, &taken, who, sizeof(who));
	if (rc < 0)
		return rc;
	if (taken)
		return netd_err_set(e, NETD_EEXIST, path, "%s on network '%s' is already allocated to %s", a1, w->net->name, who);
	if (r) {
		rc = free_reserve(ip, t, w->net->name, w->hint);
		if (rc == NETD_ENOTFOUND)
			rc = NETD_ECORRUPT;   /* neither free, allocated nor reserved: the index is off */
		if (rc < 0)
			return rc;
	}
	return record_alloc(ip, t, w, r, w->hint, now);
}

/* Step 3: the primary address's host part, if it lies in the range and is
 * free. Returns 1 when taken, 0 when not applicable. */
static int take_aligned(struct ipam *ip, struct store_txn *t, const struct want *w, const struct model_range *r,
			uint64_t now)
{
	int rc;

	if (!w->align || !in_range(r, w->align))
		return 0;
	rc = free_reserve(ip, t, w->net->name, w->align);
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc == 0)
		rc = record_alloc(ip, t, w, r, w->align, now);
	return rc < 0 ? rc : 1;
}

/* A held address of someone else in @r, taken over because nothing else is free. */
static int take_oldest_held(struct ipam *ip, struct store_txn *t, const struct want *w, const struct model_range *r,
			    struct addr *out)
{
	struct model_alloc old;
	uint64_t released_at;
	int rc = held_oldest(ip, t, w->net->name, w->fam, r, &released_at, out);

	if (rc < 0)
		return rc;
	rc = model_alloc_get(&ip->m, t, w->net->name, out, &old);
	if (rc < 0)
		return rc == NETD_ENOTFOUND ? NETD_ECORRUPT : rc;
	return drop_held(ip, t, &old);
}

static int exhausted(const struct want *w, const struct model_range *r, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX], a1[ADDR_STRLEN], a2[ADDR_STRLEN];

	if (!r)
		return netd_err_set(e, NETD_EEXHAUSTED, net_path(path, sizeof(path), w->net->name, "/ipv6/prefix"),
				    "network '%s' ipv6 derived space: no free candidate for '%s' after %u tries",
				    w->net->name, w->hash_name, DERIVED_TRIES);
	return netd_err_set(e, NETD_EEXHAUSTED, range_path(path, sizeof(path), w->net->name, w->fam, r->name, ""),
			    "network '%s' %s range '%s' (%s-%s) is exhausted", w->net->name, fam_name(w->fam), r->name,
			    addr_print(&r->first, a1, sizeof(a1)), addr_print(&r->last, a2, sizeof(a2)));
}

/* Step 4, ranges: first free, else the oldest held address of the range. */
static int take_first_free(struct ipam *ip, struct store_txn *t, const struct want *w, const struct model_range *r,
			   uint64_t now, struct addr *out, struct netd_err *e)
{
	int rc = free_take_first(ip, t, w->net->name, r, out);

	if (rc == NETD_ENOTFOUND)
		rc = take_oldest_held(ip, t, w, r, out);
	if (rc == NETD_ENOTFOUND)
		return exhausted(w, r, e);
	if (rc == 0)
		rc = record_alloc(ip, t, w, r, out, now);
	return rc;
}

/* Step 4, derived v6: the name's candidates in order, skipping reserved and
 * taken ones (held ones included: 2^64 host parts leave plenty of others). */
static int take_derived(struct ipam *ip, struct store_txn *t, const struct want *w, uint64_t now, struct addr *out,
			struct netd_err *e)
{
	const struct prefix *p = fam_prefix(w->net, w->fam);
	char who[2 * MODEL_NAME_MAX + 32];
	struct addr cand;
	bool taken;
	int rc;

	for (uint32_t k = 0; k < DERIVED_TRIES; k++) {
		ipam_derived_candidate(p, w->hash_name, k, &cand);
		if (is_reserved(w->net, w->fam, &cand))
			continue;
		rc = taken_by(ip, t, w, &cand, &taken, who, sizeof(who));
		if (rc < 0)
			return rc;
		if (taken)
			continue;
		rc = record_alloc(ip, t, w, NULL, &cand, now);
		if (rc == 0)
			*out = cand;
		return rc;
	}
	return exhausted(w, NULL, e);
}

/* Check a hint before anything else: right family and inside the subnet. */
static int check_hint(const struct want *w, struct netd_err *e)
{
	const struct prefix *p = fam_prefix(w->net, w->fam);
	char path[NETD_ERR_PATH_MAX], a1[ADDR_STRLEN], ps[PREFIX_STRLEN];

	if (!w->hint)
		return 0;
	want_err_path(w, w->hint_leaf, path, sizeof(path));
	if (w->hint->family != w->fam)
		return netd_err_set(e, NETD_EINVAL, path, "%s is not an %s address", addr_print(w->hint, a1, sizeof(a1)),
				    w->fam == ADDR_V4 ? "IPv4" : "IPv6");
	if (!prefix_contains(p, w->hint))
		return netd_err_set(e, NETD_EINVAL, path, "%s is outside %s of network '%s'", addr_print(w->hint, a1, sizeof(a1)),
				    prefix_print(p, ps, sizeof(ps)), w->net->name);
	return 0;
}

/* Allocate for @w following the order in ipam.h. Writes *out on success. */
static int allocate(struct ipam *ip, struct store_txn *t, const struct want *w, uint64_t now, struct addr *out,
		    struct netd_err *e)
{
	const struct model_range *r = NULL;
	struct model_alloc cur;
	struct addr got;
	int rc;

	rc = check_hint(w, e);
	if (rc < 0)
		return rc;
	rc = expire_holds(ip, t, w->net, w->fam, now);
	if (rc < 0)
		return rc;

	/* 1. the existing allocation, active or held for this owner */
	rc = model_alloc_by_owner(&ip->m, t, w->owner_kind, w->owner, w->net->name, w->fam, &cur);
	if (rc == 0) {
		if (cur.state == ALLOC_HELD)
			rc = reactivate(ip, t, &cur);
		if (rc == 0)
			*out = cur.addr;
		return rc;
	}
	if (rc != NETD_ENOTFOUND)
		return rc;

	if (!fam_derived(w->net, w->fam)) {
		rc = choose_range(w, &r, e);
		if (rc < 0)
			return rc;
	}
	/* 2. the hint */
	if (w->hint) {
		rc = take_hint(ip, t, w, r, now, e);
		if (rc == 0)
			*out = *w->hint;
		return rc;
	}
	if (!r) {
		/* derived v6: the name's hash is the stable choice */
		return take_derived(ip, t, w, now, out, e);
	}
	/* 3. aligned with the primary address */
	rc = take_aligned(ip, t, w, r, now);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		*out = *w->align;
		return 0;
	}
	/* 4. first free */
	rc = take_first_free(ip, t, w, r, now, &got, e);
	if (rc == 0)
		*out = got;
	return rc;
}

/* Release (hold) the allocation of an owner on (net, fam), if it has one. */
static int release_owner(struct ipam *ip, struct store_txn *t, uint8_t kind, const char *owner, const char *net,
			 int fam, uint64_t now)
{
	struct model_alloc a;
	int rc = model_alloc_by_owner(&ip->m, t, kind, owner, net, fam, &a);

	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (a.state == ALLOC_HELD)
		return 0;
	return hold_alloc(ip, t, &a, now);
}

/* ---- node sync ---- */

struct node_ctx {
	const struct model_node *node;
	struct model_network *nets;   /* one per attachment, same order */
	size_t primary;               /* index of the primary attachment */
	struct addr primary_addr[2];  /* [0] v4, [1] v6; family 0 = none yet */
};

static void node_ctx_clear(struct node_ctx *c)
{
	if (c->nets)
		for (size_t i = 0; i < c->node->n_nets; i++)
			model_network_clear(&c->nets[i]);
	free(c->nets);
	c->nets = NULL;
}

/* Load every attached network; an unknown one is NETD_ENOTFOUND at its path. */
static int node_ctx_load(struct ipam *ip, struct store_txn *t, const struct model_node *n, struct node_ctx *c,
			 struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX];
	int rc;

	memset(c, 0, sizeof(*c));
	c->node = n;
	if (n->n_nets == 0)
		return 0;
	c->nets = calloc(n->n_nets, sizeof(*c->nets));
	if (!c->nets)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_nets; i++) {
		rc = model_network_get(&ip->m, t, n->nets[i].network, &c->nets[i]);
		if (rc == NETD_ENOTFOUND)
			return netd_err_set(e, NETD_ENOTFOUND, attach_path(path, sizeof(path), n->name, n->nets[i].network, ""),
					    "network '%s' does not exist", n->nets[i].network);
		if (rc < 0)
			return rc;
	}
	/* The primary network if the node is on it, else its first attachment. */
	for (size_t i = 0; i < n->n_nets; i++) {
		if (c->nets[i].primary) {
			c->primary = i;
			break;
		}
	}
	return 0;
}

static int sync_attachment(struct ipam *ip, struct store_txn *t, struct node_ctx *c, size_t i, int fam, uint64_t now,
			   struct netd_err *e)
{
	const struct model_attach *at = &c->node->nets[i];
	const struct model_network *net = &c->nets[i];
	const struct addr *primary = &c->primary_addr[fam == ADDR_V4 ? 0 : 1];
	char path[NETD_ERR_PATH_MAX], fqdn[MODEL_DOMAIN_MAX];
	struct addr aligned, host, got;
	struct want w = {
		.net = net, .fam = fam, .owner_kind = OWNER_NODE, .owner = c->node->name, .range = at->range,
		.hash_name = fqdn, .path = attach_path(path, sizeof(path), c->node->name, net->name, ""),
		.hint_leaf = fam == ADDR_V4 ? "/ipv4-hint" : "/ipv6-hint", .range_leaf = "/range",
	};
	int rc;

	if (fam == ADDR_V4 && at->has_v4_hint)
		w.hint = &at->v4_hint;
	if (fam == ADDR_V6 && at->has_v6_hint)
		w.hint = &at->v6_hint;
	model_node_fqdn(c->node, net, fqdn, sizeof(fqdn));
	/* Host-part alignment: same host number on every network, when it fits. */
	if (i != c->primary && primary->family == fam) {
		const struct prefix *pp = fam_prefix(&c->nets[c->primary], fam);
		addr_host_part(primary, pp->len, &host);
		if (prefix_with_host(fam_prefix(net, fam), &host, &aligned) == 0)
			w.align = &aligned;
	}
	rc = allocate(ip, t, &w, now, &got, e);
	if (rc == 0 && i == c->primary)
		c->primary_addr[fam == ADDR_V4 ? 0 : 1] = got;
	return rc;
}

static bool attached_to(const struct model_node *n, const char *net)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n->n_nets; i++)
		if (strcmp(n->nets[i].network, net) == 0)
			return true;
	return false;
}

int ipam_node_sync(struct ipam *ip, struct store_txn *t, const struct model_node *old, const struct model_node *n,
		   uint64_t now, struct netd_err *e)
{
	struct node_ctx c = { 0 };
	int rc = 0;

	if (n) {
		rc = node_ctx_load(ip, t, n, &c, e);
		if (rc < 0)
			goto cleanup;
		/* The primary attachment first, so the others can align with it. */
		for (size_t k = 0; k < n->n_nets; k++) {
			size_t i = k == 0 ? c.primary : (k <= c.primary ? k - 1 : k);
			for (int f = 0; f < 2; f++) {
				int fam = f == 0 ? ADDR_V4 : ADDR_V6;
				if (!fam_present(&c.nets[i], fam))
					continue;
				rc = sync_attachment(ip, t, &c, i, fam, now, e);
				if (rc < 0)
					goto cleanup;
			}
		}
	}
	if (old) {
		const char *owner = n ? n->name : old->name;
		for (size_t i = 0; i < old->n_nets; i++) {
			if (attached_to(n, old->nets[i].network))
				continue;
			rc = release_owner(ip, t, OWNER_NODE, owner, old->nets[i].network, ADDR_V4, now);
			if (rc == 0)
				rc = release_owner(ip, t, OWNER_NODE, owner, old->nets[i].network, ADDR_V6, now);
			if (rc < 0)
				goto cleanup;
		}
	}
cleanup:
	node_ctx_clear(&c);
	return rc;
}

/* ---- rename ---- */

struct owner_entry {
	char network[MODEL_NAME_MAX];
	struct addr addr;
};

/* Every (network, address) owned by (kind, owner), from the owner index. */
static int owner_entries(struct ipam *ip, struct store_txn *t, uint8_t kind, const char *owner,
			 struct owner_entry **out, size_t *n_out)
{
	uint8_t p[1 + MODEL_NAME_MAX];
	size_t on = strnlen(owner, MODEL_NAME_MAX - 1), pn = on + 2, n = 0, cap = 0;
	struct owner_entry *v = NULL, *tmp;
	struct store_cursor *c = NULL;
	struct store_val k, val;
	int rc;

	p[0] = kind;
	memcpy(p + 1, owner, on);
	p[on + 1] = 0;
	rc = store_cursor_open(t, ip->m.alloc_owner, &c);
	if (rc < 0)
		return rc;
	for (rc = store_cursor_seek(c, p, pn, &k, &val); rc == 0; rc = store_cursor_next(c, &k, &val)) {
		const uint8_t *net = (const uint8_t *)k.p + pn;
		size_t netn = k.n - pn;
		if (!has_prefix(&k, p, pn))
			break;
		/* key tail: network NUL family */
		if (netn < 3 || netn - 2 >= MODEL_NAME_MAX || net[netn - 2] != 0 || (val.n != 4 && val.n != 16)) {
			rc = NETD_ECORRUPT;
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			tmp = realloc(v, cap * sizeof(*v));
			if (!tmp) {
				rc = -ENOMEM;
				break;
			}
			v = tmp;
		}
		memcpy(v[n].network, net, netn - 2);
		v[n].network[netn - 2] = 0;
		addr_from_bytes(&v[n].addr, val.n == 4 ? ADDR_V4 : ADDR_V6, val.p);
		n++;
	}
	store_cursor_close(c);
	if (rc < 0 && rc != NETD_ENOTFOUND) {
		free(v);
		return rc;
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* A held allocation of a name that is being reused by a rename: the hold
 * belonged to a node that is gone, and the owner index has room for one
 * allocation per (owner, network, family), so the hold ends early and the
 * address goes back to the free index. */
static int forget_held(struct ipam *ip, struct store_txn *t, const struct model_alloc *a)
{
	struct model_network net = { 0 };
	const struct model_range *r;
	int rc = drop_held(ip, t, a);

	if (rc < 0)
		return rc;
	rc = model_network_get(&ip->m, t, a->network, &net);
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc == 0 && (r = range_containing(&net, a->addr.family, &a->addr)) != NULL)
		rc = free_return(ip, t, a->network, r, &a->addr);
	model_network_clear(&net);
	return rc;
}

/* Make room for @to: refuse if it has active allocations, end its holds. */
static int clear_rename_target(struct ipam *ip, struct store_txn *t, const char *to, struct netd_err *e)
{
	struct owner_entry *ents = NULL;
	char q[KEYQ_MAX], path[NETD_ERR_PATH_MAX], a1[ADDR_STRLEN];
	struct model_alloc a;
	size_t n = 0;
	int rc = owner_entries(ip, t, OWNER_NODE, to, &ents, &n);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = model_alloc_get(&ip->m, t, ents[i].network, &ents[i].addr, &a);
		if (rc == NETD_ENOTFOUND)
			rc = NETD_ECORRUPT;   /* owner index without its allocation */
		if (rc == 0 && a.state == ALLOC_ACTIVE) {
			snprintf(path, sizeof(path), "/netd:nodes/node[name=%s]", netd_path_key(to, q, sizeof(q)));
			rc = netd_err_set(e, NETD_EEXIST, path, "node '%s' already has address %s on network '%s'", to,
					  addr_print(&a.addr, a1, sizeof(a1)), a.network);
		} else if (rc == 0) {
			rc = forget_held(ip, t, &a);
		}
	}
	free(ents);
	return rc;
}

int ipam_node_rename(struct ipam *ip, struct store_txn *t, const char *from, const char *to, struct netd_err *e)
{
	struct owner_entry *ents = NULL;
	struct model_alloc a;
	size_t n = 0;
	int rc;

	if (strcmp(from, to) == 0)
		return 0;
	rc = clear_rename_target(ip, t, to, e);
	if (rc == 0)
		rc = owner_entries(ip, t, OWNER_NODE, from, &ents, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = model_alloc_get(&ip->m, t, ents[i].network, &ents[i].addr, &a);
		if (rc == NETD_ENOTFOUND)
			rc = NETD_ECORRUPT;   /* owner index without its allocation */
		if (rc == 0)
			rc = model_alloc_del(&ip->m, t, &a);   /* drops the old owner index entry */
		if (rc == 0) {
			snprintf(a.owner, sizeof(a.owner), "%s", to);
			rc = model_alloc_put(&ip->m, t, &a);
		}
	}
	free(ents);
	return rc;
}

/* ---- VIPs ---- */

int ipam_alloc(struct ipam *ip, struct store_txn *t, const struct ipam_request *rq, uint64_t now, struct addr *out,
	       struct netd_err *e)
{
	struct model_network net = { 0 };
	struct addr got;
	struct want w = {
		.fam = rq->family, .owner_kind = rq->owner_kind, .owner = rq->owner, .range = rq->range ? rq->range : "",
		.hint = rq->hint, .hash_name = rq->owner, .path = "/netd:allocate-address", .hint_leaf = "/hint",
		.range_leaf = "/range",
	};
	int rc;

	if (!rq->owner || !rq->owner[0] || strlen(rq->owner) >= MODEL_NAME_MAX)
		return netd_err_set(e, NETD_EINVAL, "/netd:allocate-address/name", "a name of 1..63 characters is needed");
	if (rq->family != ADDR_V4 && rq->family != ADDR_V6)
		return netd_err_set(e, NETD_EINVAL, "/netd:allocate-address/family", "family must be ipv4 or ipv6");
	rc = model_network_get(&ip->m, t, rq->network, &net);
	if (rc == NETD_ENOTFOUND)
		return netd_err_set(e, NETD_ENOTFOUND, "/netd:allocate-address/network", "network '%s' does not exist",
				    rq->network);
	if (rc < 0)
		return rc;
	w.net = &net;
	if (!fam_present(&net, rq->family)) {
		rc = netd_err_set(e, NETD_EINVAL, "/netd:allocate-address/family", "network '%s' does not carry %s",
				  net.name, fam_name(rq->family));
		goto cleanup;
	}
	rc = allocate(ip, t, &w, now, &got, e);
	if (rc == 0)
		*out = got;
cleanup:
	model_network_clear(&net);
	return rc;
}

int ipam_release(struct ipam *ip, struct store_txn *t, const char *network, const struct addr *a, uint64_t now,
		 struct netd_err *e)
{
	char a1[ADDR_STRLEN];
	struct model_alloc rec;
	int rc = model_alloc_get(&ip->m, t, network, a, &rec);

	if (rc == NETD_ENOTFOUND)
		return netd_err_set(e, NETD_ENOTFOUND, "/netd:release-address/address",
				    "%s is not allocated on network '%s'", addr_print(a, a1, sizeof(a1)), network);
	if (rc < 0)
		return rc;
	if (rec.state == ALLOC_HELD)
		return 0;   /* released already: releasing is idempotent */
	return hold_alloc(ip, t, &rec, now);
}

/* ---- network put / del ---- */

struct alloc_list {
	struct model_alloc *v;
	size_t n, cap;
};

static int collect_alloc(const struct model_alloc *a, void *arg)
{
	struct alloc_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct model_alloc *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *a;
	return 0;
}

static int addr_cmp_qsort(const void *x, const void *y)
{
	return addr_cmp(x, y);
}

static bool same_ranges(const struct model_range *a, size_t na, const struct model_range *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].name, b[i].name) || !addr_eq(&a[i].first, &b[i].first) || !addr_eq(&a[i].last, &b[i].last))
			return false;
	return true;
}

/* Does the address plan of @fam differ between @old and @n? */
static bool family_changed(const struct model_network *old, const struct model_network *n, int fam)
{
	const struct model_range *ra, *rb;
	const struct addr *ta, *tb;
	size_t na, nb;

	if (!old || fam_present(old, fam) != fam_present(n, fam))
		return true;
	if (!fam_present(n, fam))
		return false;
	fam_ranges(old, fam, &ra, &na);
	fam_ranges(n, fam, &rb, &nb);
	ta = fam_router(old, fam);
	tb = fam_router(n, fam);
	return fam_prefix(old, fam)->len != fam_prefix(n, fam)->len ||
	       !addr_eq(&fam_prefix(old, fam)->a, &fam_prefix(n, fam)->a) || !ta != !tb || (ta && !addr_eq(ta, tb)) ||
	       !same_ranges(ra, na, rb, nb);
}

/* Where would @a belong in the new plan? Sets *range (NULL = derived) and
 * returns false if it no longer fits at all. */
static bool alloc_fits(const struct model_network *n, int fam, const struct addr *a, const struct model_range **range)
{
	*range = NULL;
	if (!fam_present(n, fam) || !prefix_contains(fam_prefix(n, fam), a) || is_reserved(n, fam, a))
		return false;
	if (fam_derived(n, fam))
		return true;
	*range = range_containing(n, fam, a);
	return *range != NULL;
}

/* Refuse the plan if an active allocation of @fam would not fit in it. */
static int check_active_fit(const struct model_network *n, int fam, const struct alloc_list *l, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX], a1[ADDR_STRLEN];
	const struct model_range *r;

	for (size_t i = 0; i < l->n; i++) {
		const struct model_alloc *a = &l->v[i];
		if (a->addr.family != fam || a->state != ALLOC_ACTIVE || alloc_fits(n, fam, &a->addr, &r))
			continue;
		if (!fam_present(n, fam))
			net_path(path, sizeof(path), n->name, fam == ADDR_V4 ? "/ipv4" : "/ipv6");
		else if (!prefix_contains(fam_prefix(n, fam), &a->addr))
			net_path(path, sizeof(path), n->name, fam == ADDR_V4 ? "/ipv4/subnet" : "/ipv6/prefix");
		else if (range_by_name(n, fam, a->range))
			range_path(path, sizeof(path), n->name, fam, a->range, "");
		else
			net_path(path, sizeof(path), n->name, fam == ADDR_V4 ? "/ipv4/range" : "/ipv6/range");
		return netd_err_set(e, NETD_EINVAL, path, "%s is allocated to %s '%s' and would be left outside %s",
				    addr_print(&a->addr, a1, sizeof(a1)), owner_kind_name(a->owner_kind), a->owner,
				    !fam_present(n, fam) ? "the network (it would no longer carry this family)"
				    : fam_derived(n, fam) || !prefix_contains(fam_prefix(n, fam), &a->addr)
				    ? "the new subnet" : "every range (or onto a reserved address)");
	}
	return 0;
}

/* Put the free intervals of range @r: the range minus the sorted excluded
 * addresses @ex (allocations and reserved ones). */
static int build_range_free(struct ipam *ip, struct store_txn *t, const char *net, const struct model_range *r,
			    const struct addr *ex, size_t nex)
{
	struct addr cur = r->first;
	bool done = false;   /* cur ran past the top of the address space */
	int rc;

	for (size_t i = 0; i < nex && !done; i++) {
		if (!in_range(r, &ex[i]) || addr_cmp(&ex[i], &cur) < 0)
			continue;
		if (addr_cmp(&cur, &ex[i]) < 0) {
			struct ival iv = { cur, ex[i] };
			addr_dec(&iv.last);
			rc = free_put(ip, t, net, &iv);
			if (rc < 0)
				return rc;
		}
		cur = ex[i];
		done = addr_inc(&cur) != 0;
	}
	if (!done && addr_cmp(&cur, &r->last) <= 0) {
		struct ival iv = { cur, r->last };
		return free_put(ip, t, net, &iv);
	}
	return 0;
}

/* Rebuild the free index and the counters of (n, fam) from the allocations
 * @l: held ones that no longer fit are dropped, the rest get the name of the
 * range they now lie in. Active ones were checked to fit. */
static int rebuild_family(struct ipam *ip, struct store_txn *t, const struct model_network *n, int fam,
			  struct alloc_list *l)
{
	uint8_t p[NF_KEY_MAX];
	size_t pn = key_nf(p, n->name, fam), nex = 0;
	const struct model_range *ranges, *r;
	struct addr *ex = NULL;
	size_t nr;
	int rc;

	rc = del_prefix(t, ip->free_tbl, p, pn);
	if (rc == 0)
		rc = del_prefix(t, ip->count_tbl, p, pn);
	if (rc < 0)
		return rc;
	ex = calloc(l->n + 3, sizeof(*ex));
	if (!ex)
		return -ENOMEM;
	if (fam_present(n, fam))
		nex = reserved_addrs(n, fam, ex);

	for (size_t i = 0; i < l->n; i++) {
		struct model_alloc *a = &l->v[i];
		if (a->addr.family != fam)
			continue;
		if (!alloc_fits(n, fam, &a->addr, &r)) {
			/* only held ones get here: forget them with their queue entry */
			rc = unqueue_held(ip, t, a);
			if (rc == 0)
				rc = model_alloc_del(&ip->m, t, a);
			if (rc < 0)
				goto cleanup;
			continue;
		}
		if (strcmp(a->range, r ? r->name : "") != 0) {
			snprintf(a->range, sizeof(a->range), "%s", r ? r->name : "");
			rc = model_alloc_put(&ip->m, t, a);
			if (rc < 0)
				goto cleanup;
		}
		ex[nex++] = a->addr;
		rc = count_add(ip, t, a, a->state == ALLOC_ACTIVE, a->state == ALLOC_HELD);
		if (rc < 0)
			goto cleanup;
	}
	qsort(ex, nex, sizeof(*ex), addr_cmp_qsort);
	fam_ranges(n, fam, &ranges, &nr);
	for (size_t i = 0; i < nr; i++) {
		rc = build_range_free(ip, t, n->name, &ranges[i], ex, nex);
		if (rc < 0)
			goto cleanup;
	}
cleanup:
	free(ex);
	return rc;
}

struct primary_scan {
	const char *self;
	char other[MODEL_NAME_MAX];
};

static int find_other_primary(const struct model_network *n, void *arg)
{
	struct primary_scan *ps = arg;

	if (n->primary && strcmp(n->name, ps->self) != 0) {
		snprintf(ps->other, sizeof(ps->other), "%s", n->name);
		return 1;
	}
	return 0;
}

/* At most one primary network: nodes' primary names live there. Networks
 * are few, so a scan is fine. */
static int check_single_primary(struct ipam *ip, struct store_txn *t, const struct model_network *n, struct netd_err *e)
{
	struct primary_scan ps = { .self = n->name };
	char path[NETD_ERR_PATH_MAX];
	int rc;

	if (!n->primary)
		return 0;
	rc = model_network_each(&ip->m, t, NULL, find_other_primary, &ps);
	if (rc < 0)
		return rc;
	if (ps.other[0])
		return netd_err_set(e, NETD_EINVAL, net_path(path, sizeof(path), n->name, "/primary"),
				    "network '%s' is already the primary network", ps.other);
	return 0;
}

/* The installation's RFC 4193 global id: 40 random bits, drawn once. */
static int ula_global_id(struct ipam *ip, struct store_txn *t, uint8_t gid[5])
{
	size_t len = 0;
	int rc = model_meta_get(&ip->m, t, "ipam.ula", gid, 5, &len);

	if (rc == 0)
		return len == 5 ? 0 : NETD_ECORRUPT;
	if (rc != NETD_ENOTFOUND)
		return rc;
	if (getrandom(gid, 5, 0) != 5)
		return -errno;
	return model_meta_put(&ip->m, t, "ipam.ula", gid, 5);
}

/* fd + global id + the next subnet id: a /64 no other network got. */
static int assign_auto_prefix(struct ipam *ip, struct store_txn *t, struct model_network *n, struct netd_err *e)
{
	uint8_t gid[5], next[2];
	char path[NETD_ERR_PATH_MAX];
	size_t len = 0;
	uint16_t sid = 1;
	int rc;

	rc = ula_global_id(ip, t, gid);
	if (rc < 0)
		return rc;
	rc = model_meta_get(&ip->m, t, "ipam.next_subnet", next, sizeof(next), &len);
	if (rc == 0 && len != 2)
		return NETD_ECORRUPT;
	if (rc == 0)
		sid = (uint16_t)(next[0] << 8 | next[1]);
	else if (rc != NETD_ENOTFOUND)
		return rc;
	if (sid == 0)   /* wrapped: every id was handed out once, and ids are never reused */
		return netd_err_set(e, NETD_EEXHAUSTED, net_path(path, sizeof(path), n->name, "/ipv6/prefix"),
				    "no ULA subnet ids left for auto prefixes");
	next[0] = (uint8_t)((sid + 1) >> 8);
	next[1] = (uint8_t)(sid + 1);
	rc = model_meta_put(&ip->m, t, "ipam.next_subnet", next, sizeof(next));
	if (rc < 0)
		return rc;
	memset(&n->v6_prefix, 0, sizeof(n->v6_prefix));
	n->v6_prefix.a.family = ADDR_V6;
	n->v6_prefix.a.b[0] = 0xfd;
	memcpy(n->v6_prefix.a.b + 1, gid, 5);
	n->v6_prefix.a.b[6] = (uint8_t)(sid >> 8);
	n->v6_prefix.a.b[7] = (uint8_t)sid;
	n->v6_prefix.len = 64;
	n->v6_subnet_id = sid;
	return 0;
}

int ipam_network_put(struct ipam *ip, struct store_txn *t, const struct model_network *old, struct model_network *n,
		     uint64_t now, struct netd_err *e)
{
	struct alloc_list l = { 0 };
	bool need_auto;
	int rc;

	/* An auto prefix is assigned once: an update keeps it. */
	if (n->v6_mode == MODEL_V6_AUTO && old && old->v6_mode == MODEL_V6_AUTO && old->v6_prefix.a.family == ADDR_V6) {
		n->v6_prefix = old->v6_prefix;
		n->v6_subnet_id = old->v6_subnet_id;
	}
	need_auto = n->v6_mode == MODEL_V6_AUTO && n->v6_prefix.a.family != ADDR_V6;
	rc = ipam_network_check(n, e);
	if (rc == 0)
		rc = check_single_primary(ip, t, n, e);
	if (rc == 0 && need_auto)
		rc = assign_auto_prefix(ip, t, n, e);
	if (rc < 0)
		goto cleanup;
	if (family_changed(old, n, ADDR_V4) || family_changed(old, n, ADDR_V6)) {
		/* One walk over this network's allocations, on a config change only. */
		rc = model_alloc_each(&ip->m, t, n->name, collect_alloc, &l);
		for (int f = 0; rc == 0 && f < 2; f++)
			rc = check_active_fit(n, f == 0 ? ADDR_V4 : ADDR_V6, &l, e);
		for (int f = 0; rc == 0 && f < 2; f++) {
			int fam = f == 0 ? ADDR_V4 : ADDR_V6;
			if (family_changed(old, n, fam))
				rc = rebuild_family(ip, t, n, fam, &l);
		}
		if (rc < 0)
			goto cleanup;
	}
	n->created = old ? old->created : (n->created ? n->created : now);
	rc = model_network_put(&ip->m, t, n);
cleanup:
	free(l.v);
	return rc;
}

struct node_scan {
	const char *net;
	char node[MODEL_NAME_MAX];
};

static int find_attached_node(const struct model_node *n, void *arg)
{
	struct node_scan *ns = arg;

	if (!attached_to(n, ns->net))
		return 0;
	snprintf(ns->node, sizeof(ns->node), "%s", n->name);
	return 1;
}

int ipam_network_del(struct ipam *ip, struct store_txn *t, const char *name, struct netd_err *e)
{
	struct alloc_list l = { 0 };
	struct model_network net = { 0 };
	char path[NETD_ERR_PATH_MAX], a1[ADDR_STRLEN];
	uint8_t p[NF_KEY_MAX];
	size_t active = 0, first_active = 0;
	int rc;

	rc = model_network_get(&ip->m, t, name, &net);
	if (rc == NETD_ENOTFOUND)
		return netd_err_set(e, NETD_ENOTFOUND, net_path(path, sizeof(path), name, ""), "network '%s' does not exist", name);
	if (rc < 0)
		return rc;
	rc = model_alloc_each(&ip->m, t, name, collect_alloc, &l);
	if (rc < 0)
		goto cleanup;
	for (size_t i = l.n; i-- > 0;) {
		if (l.v[i].state == ALLOC_ACTIVE) {
			active++;
			first_active = i;
		}
	}
	if (active) {
		const struct model_alloc *a = &l.v[first_active];
		rc = netd_err_set(e, NETD_EINUSE, net_path(path, sizeof(path), name, ""),
				  "network '%s' still has %zu active allocation%s, e.g. %s %s %s", name, active,
				  active == 1 ? "" : "s", owner_kind_name(a->owner_kind), a->owner,
				  addr_print(&a->addr, a1, sizeof(a1)));
		goto cleanup;
	}
	/* Without an address family, attachments leave no allocation behind:
	 * only then look at the nodes themselves. */
	if (!net.has_v4 && net.v6_mode == MODEL_V6_NONE) {
		struct node_scan ns = { .net = name };
		rc = model_node_each(&ip->m, t, NULL, find_attached_node, &ns);
		if (rc < 0)
			goto cleanup;
		if (ns.node[0]) {
			rc = netd_err_set(e, NETD_EINUSE, net_path(path, sizeof(path), name, ""),
					  "network '%s' is still attached to node %s", name, ns.node);
			goto cleanup;
		}
	}
	for (size_t i = 0; i < l.n; i++) {
		rc = model_alloc_del(&ip->m, t, &l.v[i]);
		if (rc < 0)
			goto cleanup;
	}
	for (int f = 0; f < 2; f++) {
		size_t pn = key_nf(p, name, f == 0 ? ADDR_V4 : ADDR_V6);
		rc = del_prefix(t, ip->free_tbl, p, pn);
		if (rc == 0)
			rc = del_prefix(t, ip->held_tbl, p, pn);
		if (rc == 0)
			rc = del_prefix(t, ip->count_tbl, p, pn);
		if (rc < 0)
			goto cleanup;
	}
	rc = model_network_del(&ip->m, t, name);
cleanup:
	free(l.v);
	model_network_clear(&net);
	return rc;
}

/* ---- utilization ---- */

/* Exact decimal of a 128-bit value. */
static void u128_dec(u128 v, char *buf, size_t len)
{
	char tmp[ADDR_DECIMAL_MAX];
	size_t i = sizeof(tmp) - 1;

	tmp[i] = 0;
	do {
		tmp[--i] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v && i > 0);
	snprintf(buf, len, "%s", tmp + i);
}

static u128 addr_u128(const struct addr *a)
{
	u128 v = 0;

	for (size_t i = 0; i < addr_len(a); i++)
		v = v << 8 | a->b[i];
	return v;
}

/* size - used - held - reserved in [first, last], in decimal. The size may
 * be 2^128, one more than u128 holds: count from last - first instead. */
static void free_dec(const struct addr *first, const struct addr *last, uint64_t taken, char *buf, size_t len,
		     const char *size_dec)
{
	u128 span = addr_u128(last) - addr_u128(first);   /* size - 1 */

	if (taken == 0)
		snprintf(buf, len, "%s", size_dec);
	else if ((u128)taken - 1 > span)
		snprintf(buf, len, "0");
	else
		u128_dec(span - ((u128)taken - 1), buf, len);
}

static void util_fill(struct ipam_util *u, int fam, const char *name, const struct addr *first,
		      const struct addr *last, uint64_t used, uint64_t held, uint64_t reserved)
{
	memset(u, 0, sizeof(*u));
	u->family = (uint8_t)fam;
	snprintf(u->range, sizeof(u->range), "%s", name);
	u->first = *first;
	u->last = *last;
	addr_range_size_dec(first, last, u->size, sizeof(u->size));
	u->used = used;
	u->held = held;
	free_dec(first, last, used + held + reserved, u->free, sizeof(u->free), u->size);
}

static uint64_t reserved_in(const struct model_network *n, int fam, const struct addr *first, const struct addr *last)
{
	struct model_range span = { .first = *first, .last = *last };
	struct addr res[3];
	size_t nres = reserved_addrs(n, fam, res);
	uint64_t k = 0;

	for (size_t i = 0; i < nres; i++)
		k += in_range(&span, &res[i]);
	return k;
}

int ipam_utilization(struct ipam *ip, struct store_txn *t, const struct model_network *net, struct ipam_util **out,
		     size_t *n_out)
{
	struct ipam_util *v;
	size_t n = 0, cap = net->n_v4_ranges + net->n_v6_ranges + 1;
	uint64_t used, held;
	int rc = 0;

	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (int f = 0; f < 2; f++) {
		int fam = f == 0 ? ADDR_V4 : ADDR_V6;
		const struct model_range *r;
		size_t nr;

		if (!fam_present(net, fam))
			continue;
		fam_ranges(net, fam, &r, &nr);
		for (size_t i = 0; i < nr; i++) {
			rc = count_get(ip, t, net->name, fam, r[i].name, &used, &held);
			if (rc < 0)
				goto fail;
			util_fill(&v[n++], fam, r[i].name, &r[i].first, &r[i].last, used, held,
				  reserved_in(net, fam, &r[i].first, &r[i].last));
		}
		if (fam_derived(net, fam) && net->v6_prefix.a.family == ADDR_V6) {
			struct addr first, last;
			derived_bounds(&net->v6_prefix, &first, &last);
			rc = count_get(ip, t, net->name, fam, "", &used, &held);
			if (rc < 0)
				goto fail;
			util_fill(&v[n++], fam, "derived", &first, &last, used, held, reserved_in(net, fam, &first, &last));
		}
	}
	*out = v;
	*n_out = n;
	return 0;
fail:
	free(v);
	return rc;
}
