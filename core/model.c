/* core/model.c — model records: helpers, versioned encodings, table access.
 *
 * Encodings (all integers big-endian, via core/codec.h):
 *   header   u8 tag, u8 version            tag 'N' network, 'H' node, 'A' alloc
 *   string   u16 length + bytes (no NUL)
 *   address  u8 family (0, 4 or 6) + 0, 4 or 16 bytes
 *   prefix   address + u8 length
 *   flags    one u8 of booleans; bits not defined for the version are refused
 *   arrays   u16 count + elements
 *
 * Network 'N' v1: name, conduit, flags (primary, use_vlan, use_bridge,
 *   use_team, has_v4, has_v4_router, has_v6_router), u16 vlan, u8 team_mode,
 *   u16 mtu, prefix v4_subnet, address v4_router, u32 router_pref, v4 ranges
 *   (name, first, last), u8 v6_mode, prefix v6_prefix, u16 v6_subnet_id,
 *   address v6_router, v6 ranges, dns_domain, u64 created.
 * Network 'N' v2: as v1 with dns_template (a string) after dns_domain.
 *   v1 records decode with an empty template.
 * Node 'H' v1: name, aliases (strings), flags (has_admin_mac), 6 bytes MAC,
 *   attachments (network, range, flags (has_v4_hint, has_v6_hint), address
 *   v4_hint, address v6_hint), u64 created.
 * Alloc 'A' v1: network, address, u8 owner_kind, owner, range, u8 state,
 *   u64 allocated_at, u64 released_at.
 *
 * Every field is written whatever the flags say, so a round trip is exact.
 * A decoder refuses an unknown tag or version, truncated data, trailing data,
 * out-of-range families, prefix lengths and flag bits (NETD_ECORRUPT).
 *
 * The owner index ("alloc_owner") maps the owner key to the address bytes
 * alone (4 or 16): the family is the last byte of the key.
 */
#include "core/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_VERSION 1          /* node and alloc records */
#define MODEL_NETWORK_VERSION 2  /* network records (v1 still read) */
#define TAG_NETWORK 'N'
#define TAG_NODE 'H'
#define TAG_ALLOC 'A'

/* Network flag bits. */
enum {
	NF_PRIMARY = 1u << 0,
	NF_USE_VLAN = 1u << 1,
	NF_USE_BRIDGE = 1u << 2,
	NF_USE_TEAM = 1u << 3,
	NF_HAS_V4 = 1u << 4,
	NF_HAS_V4_ROUTER = 1u << 5,
	NF_HAS_V6_ROUTER = 1u << 6,
	NF_ALL = 0x7f,
};

enum { HF_HAS_MAC = 1u << 0, HF_ALL = 0x01 };
enum { AF_HAS_V4_HINT = 1u << 0, AF_HAS_V6_HINT = 1u << 1, AF_ALL = 0x03 };

/* Smallest encodings of array elements, to refuse absurd counts early. */
#define RANGE_MIN_ENC 4   /* empty name + two unset addresses */
#define ALIAS_MIN_ENC 2
#define ATTACH_MIN_ENC 7  /* two empty strings, flags, two unset addresses */

/* ---- small codec helpers ---- */

static void w_fail(struct codec_w *w, int code)
{
	if (!w->err)
		w->err = code;
}

static void r_fail(struct codec_r *r)
{
	if (!r->err)
		r->err = NETD_ECORRUPT;
}

static size_t fam_len(int family)
{
	return family == 0 ? 0 : addr_family_len(family);
}

static bool fam_ok(int family)
{
	return family == 0 || family == ADDR_V4 || family == ADDR_V6;
}

static void put_addr(struct codec_w *w, const struct addr *a)
{
	if (!fam_ok(a->family)) {
		w_fail(w, NETD_EINVAL);
		return;
	}
	codec_put_u8(w, a->family);
	codec_put_bytes(w, a->b, fam_len(a->family));
}

static void get_addr(struct codec_r *r, struct addr *a)
{
	uint8_t fam = codec_get_u8(r);

	if (r->err)
		return;
	if (!fam_ok(fam)) {
		r_fail(r);
		return;
	}
	a->family = fam;
	codec_get_bytes(r, a->b, fam_len(fam));
}

static void put_prefix(struct codec_w *w, const struct prefix *p)
{
	put_addr(w, &p->a);
	codec_put_u8(w, p->len);
}

static void get_prefix(struct codec_r *r, struct prefix *p)
{
	get_addr(r, &p->a);
	p->len = codec_get_u8(r);
	if (!r->err && p->len > 8 * fam_len(p->a.family))
		r_fail(r);
}

static uint8_t get_flags(struct codec_r *r, uint8_t allowed)
{
	uint8_t f = codec_get_u8(r);

	if (f & ~allowed)
		r_fail(r);
	return f;
}

static void put_count(struct codec_w *w, size_t n)
{
	if (n > UINT16_MAX)
		w_fail(w, NETD_ETOOBIG);
	codec_put_u16(w, (uint16_t)n);
}

/* Read an array count and check that @min_enc bytes per element remain. */
static size_t get_count(struct codec_r *r, size_t min_enc)
{
	size_t n = codec_get_u16(r);

	if (r->err)
		return 0;
	if (n > codec_remaining(r) / min_enc) {
		r_fail(r);
		return 0;
	}
	return n;
}

static void put_header(struct codec_w *w, uint8_t tag, uint8_t version)
{
	codec_put_u8(w, tag);
	codec_put_u8(w, version);
}

/* Check the tag and a version in 1..@newest; returns the version (0 on
 * failure, with r->err set). */
static uint8_t get_header(struct codec_r *r, uint8_t tag, uint8_t newest)
{
	uint8_t t = codec_get_u8(r);
	uint8_t v = codec_get_u8(r);

	if (t != tag || v < 1 || v > newest) {
		r_fail(r);
		return 0;
	}
	return v;
}

/* The status of a finished decode: sticky error, else trailing bytes. */
static int get_end(struct codec_r *r)
{
	if (r->err)
		return r->err;
	return r->pos == r->len ? 0 : NETD_ECORRUPT;
}

/* ---- equality and copies ---- */

static bool addr_same(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, fam_len(a->family)) == 0;
}

static bool prefix_same(const struct prefix *a, const struct prefix *b)
{
	return a->len == b->len && addr_same(&a->a, &b->a);
}

static bool ranges_equal(const struct model_range *a, size_t na,
			 const struct model_range *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (strcmp(a[i].name, b[i].name) || !addr_same(&a[i].first, &b[i].first) ||
		    !addr_same(&a[i].last, &b[i].last))
			return false;
	}
	return true;
}

static bool attach_equal(const struct model_attach *a, const struct model_attach *b)
{
	return !strcmp(a->network, b->network) && !strcmp(a->range, b->range) &&
	       a->has_v4_hint == b->has_v4_hint && a->has_v6_hint == b->has_v6_hint &&
	       addr_same(&a->v4_hint, &b->v4_hint) && addr_same(&a->v6_hint, &b->v6_hint);
}

/* Copy @n elements of @size bytes; NULL for none. Sets *fail on ENOMEM. */
static void *memdup_n(const void *p, size_t n, size_t size, bool *fail)
{
	void *q;

	if (n == 0)
		return NULL;
	q = malloc(n * size);
	if (!q) {
		*fail = true;
		return NULL;
	}
	memcpy(q, p, n * size);
	return q;
}

void model_network_clear(struct model_network *n)
{
	if (!n)
		return;
	free(n->v4_ranges);
	free(n->v6_ranges);
	memset(n, 0, sizeof(*n));
}

void model_node_clear(struct model_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_aliases && n->aliases; i++)
		free(n->aliases[i]);
	free(n->aliases);
	free(n->nets);
	memset(n, 0, sizeof(*n));
}

int model_network_copy(struct model_network *dst, const struct model_network *src)
{
	bool fail = false;

	*dst = *src;
	dst->v4_ranges = memdup_n(src->v4_ranges, src->n_v4_ranges, sizeof(*src->v4_ranges), &fail);
	dst->v6_ranges = memdup_n(src->v6_ranges, src->n_v6_ranges, sizeof(*src->v6_ranges), &fail);
	if (fail) {
		model_network_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

int model_node_copy(struct model_node *dst, const struct model_node *src)
{
	bool fail = false;

	*dst = *src;
	dst->aliases = NULL;
	dst->n_aliases = 0;
	dst->nets = memdup_n(src->nets, src->n_nets, sizeof(*src->nets), &fail);
	if (fail)
		goto fail;
	if (src->n_aliases) {
		dst->aliases = calloc(src->n_aliases, sizeof(*dst->aliases));
		if (!dst->aliases)
			goto fail;
		/* n_aliases counts only the strings copied so far, for clear(). */
		for (size_t i = 0; i < src->n_aliases; i++) {
			dst->aliases[i] = strdup(src->aliases[i]);
			if (!dst->aliases[i])
				goto fail;
			dst->n_aliases = i + 1;
		}
	}
	return 0;
fail:
	model_node_clear(dst);
	return -ENOMEM;
}

bool model_network_equal(const struct model_network *a, const struct model_network *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->conduit, b->conduit) &&
	       a->primary == b->primary && a->vlan == b->vlan && a->use_vlan == b->use_vlan &&
	       a->use_bridge == b->use_bridge && a->use_team == b->use_team &&
	       a->team_mode == b->team_mode && a->mtu == b->mtu &&
	       a->has_v4 == b->has_v4 && prefix_same(&a->v4_subnet, &b->v4_subnet) &&
	       a->has_v4_router == b->has_v4_router && addr_same(&a->v4_router, &b->v4_router) &&
	       a->router_pref == b->router_pref &&
	       ranges_equal(a->v4_ranges, a->n_v4_ranges, b->v4_ranges, b->n_v4_ranges) &&
	       a->v6_mode == b->v6_mode && prefix_same(&a->v6_prefix, &b->v6_prefix) &&
	       a->v6_subnet_id == b->v6_subnet_id && a->has_v6_router == b->has_v6_router &&
	       addr_same(&a->v6_router, &b->v6_router) &&
	       ranges_equal(a->v6_ranges, a->n_v6_ranges, b->v6_ranges, b->n_v6_ranges) &&
	       !strcmp(a->dns_domain, b->dns_domain) && !strcmp(a->dns_template, b->dns_template);
}

bool model_node_equal(const struct model_node *a, const struct model_node *b)
{
	if (strcmp(a->name, b->name) || a->n_aliases != b->n_aliases ||
	    a->has_admin_mac != b->has_admin_mac || a->n_nets != b->n_nets)
		return false;
	if (a->has_admin_mac && memcmp(a->admin_mac, b->admin_mac, sizeof(a->admin_mac)))
		return false;
	for (size_t i = 0; i < a->n_aliases; i++) {
		if (strcmp(a->aliases[i], b->aliases[i]))
			return false;
	}
	for (size_t i = 0; i < a->n_nets; i++) {
		if (!attach_equal(&a->nets[i], &b->nets[i]))
			return false;
	}
	return true;
}

/* ---- network encoding ---- */

static void put_ranges(struct codec_w *w, const struct model_range *r, size_t n)
{
	put_count(w, n);
	for (size_t i = 0; i < n && !w->err; i++) {
		codec_put_str(w, r[i].name);
		put_addr(w, &r[i].first);
		put_addr(w, &r[i].last);
	}
}

/* Returns 0 or -ENOMEM; decoding errors are left in r->err. */
static int get_ranges(struct codec_r *r, struct model_range **out, size_t *n_out)
{
	size_t n = get_count(r, RANGE_MIN_ENC);
	struct model_range *v;

	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n && !r->err; i++) {
		codec_get_str(r, v[i].name, sizeof(v[i].name));
		get_addr(r, &v[i].first);
		get_addr(r, &v[i].last);
	}
	*out = v;
	*n_out = n;
	return 0;
}

void model_network_encode(const struct model_network *n, struct codec_w *w)
{
	uint8_t f = (n->primary ? NF_PRIMARY : 0) | (n->use_vlan ? NF_USE_VLAN : 0) |
		    (n->use_bridge ? NF_USE_BRIDGE : 0) | (n->use_team ? NF_USE_TEAM : 0) |
		    (n->has_v4 ? NF_HAS_V4 : 0) | (n->has_v4_router ? NF_HAS_V4_ROUTER : 0) |
		    (n->has_v6_router ? NF_HAS_V6_ROUTER : 0);

	put_header(w, TAG_NETWORK, MODEL_NETWORK_VERSION);
	codec_put_str(w, n->name);
	codec_put_str(w, n->conduit);
	codec_put_u8(w, f);
	codec_put_u16(w, n->vlan);
	codec_put_u8(w, n->team_mode);
	codec_put_u16(w, n->mtu);
	put_prefix(w, &n->v4_subnet);
	put_addr(w, &n->v4_router);
	codec_put_u32(w, n->router_pref);
	put_ranges(w, n->v4_ranges, n->n_v4_ranges);
	codec_put_u8(w, n->v6_mode);
	put_prefix(w, &n->v6_prefix);
	codec_put_u16(w, n->v6_subnet_id);
	put_addr(w, &n->v6_router);
	put_ranges(w, n->v6_ranges, n->n_v6_ranges);
	codec_put_str(w, n->dns_domain);
	codec_put_str(w, n->dns_template);
	codec_put_u64(w, n->created);
}

int model_network_decode(const void *p, size_t len, struct model_network *out)
{
	struct codec_r r;
	uint8_t f, version;
	int rc;

	memset(out, 0, sizeof(*out));
	codec_r_init(&r, p, len);
	version = get_header(&r, TAG_NETWORK, MODEL_NETWORK_VERSION);
	codec_get_str(&r, out->name, sizeof(out->name));
	codec_get_str(&r, out->conduit, sizeof(out->conduit));
	f = get_flags(&r, NF_ALL);
	out->primary = f & NF_PRIMARY;
	out->use_vlan = f & NF_USE_VLAN;
	out->use_bridge = f & NF_USE_BRIDGE;
	out->use_team = f & NF_USE_TEAM;
	out->has_v4 = f & NF_HAS_V4;
	out->has_v4_router = f & NF_HAS_V4_ROUTER;
	out->has_v6_router = f & NF_HAS_V6_ROUTER;
	out->vlan = codec_get_u16(&r);
	out->team_mode = codec_get_u8(&r);
	out->mtu = codec_get_u16(&r);
	get_prefix(&r, &out->v4_subnet);
	get_addr(&r, &out->v4_router);
	out->router_pref = codec_get_u32(&r);
	rc = get_ranges(&r, &out->v4_ranges, &out->n_v4_ranges);
	if (rc < 0)
		goto fail;
	out->v6_mode = codec_get_u8(&r);
	if (out->v6_mode > MODEL_V6_AUTO)
		r_fail(&r);
	get_prefix(&r, &out->v6_prefix);
	out->v6_subnet_id = codec_get_u16(&r);
	get_addr(&r, &out->v6_router);
	rc = get_ranges(&r, &out->v6_ranges, &out->n_v6_ranges);
	if (rc < 0)
		goto fail;
	codec_get_str(&r, out->dns_domain, sizeof(out->dns_domain));
	if (version >= 2)
		codec_get_str(&r, out->dns_template, sizeof(out->dns_template));
	out->created = codec_get_u64(&r);
	rc = get_end(&r);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	model_network_clear(out);
	return rc;
}

/* ---- node encoding ---- */

void model_node_encode(const struct model_node *n, struct codec_w *w)
{
	put_header(w, TAG_NODE, MODEL_VERSION);
	codec_put_str(w, n->name);
	put_count(w, n->n_aliases);
	for (size_t i = 0; i < n->n_aliases && !w->err; i++)
		codec_put_str(w, n->aliases[i]);
	codec_put_u8(w, n->has_admin_mac ? HF_HAS_MAC : 0);
	codec_put_bytes(w, n->admin_mac, sizeof(n->admin_mac));
	put_count(w, n->n_nets);
	for (size_t i = 0; i < n->n_nets && !w->err; i++) {
		const struct model_attach *a = &n->nets[i];
		codec_put_str(w, a->network);
		codec_put_str(w, a->range);
		codec_put_u8(w, (a->has_v4_hint ? AF_HAS_V4_HINT : 0) |
				(a->has_v6_hint ? AF_HAS_V6_HINT : 0));
		put_addr(w, &a->v4_hint);
		put_addr(w, &a->v6_hint);
	}
	codec_put_u64(w, n->created);
}

static int get_aliases(struct codec_r *r, struct model_node *out)
{
	size_t n = get_count(r, ALIAS_MIN_ENC);
	char buf[MODEL_DOMAIN_MAX];

	if (n == 0)
		return 0;
	out->aliases = calloc(n, sizeof(*out->aliases));
	if (!out->aliases)
		return -ENOMEM;
	/* n_aliases counts the strings present, for model_node_clear(). */
	for (size_t i = 0; i < n; i++) {
		codec_get_str(r, buf, sizeof(buf));
		if (r->err)
			return 0;
		out->aliases[i] = strdup(buf);
		if (!out->aliases[i])
			return -ENOMEM;
		out->n_aliases = i + 1;
	}
	return 0;
}

static int get_attachments(struct codec_r *r, struct model_node *out)
{
	size_t n = get_count(r, ATTACH_MIN_ENC);

	if (n == 0)
		return 0;
	out->nets = calloc(n, sizeof(*out->nets));
	if (!out->nets)
		return -ENOMEM;
	out->n_nets = n;
	for (size_t i = 0; i < n && !r->err; i++) {
		struct model_attach *a = &out->nets[i];
		uint8_t f;

		codec_get_str(r, a->network, sizeof(a->network));
		codec_get_str(r, a->range, sizeof(a->range));
		f = get_flags(r, AF_ALL);
		a->has_v4_hint = f & AF_HAS_V4_HINT;
		a->has_v6_hint = f & AF_HAS_V6_HINT;
		get_addr(r, &a->v4_hint);
		get_addr(r, &a->v6_hint);
	}
	return 0;
}

int model_node_decode(const void *p, size_t len, struct model_node *out)
{
	struct codec_r r;
	int rc;

	memset(out, 0, sizeof(*out));
	codec_r_init(&r, p, len);
	get_header(&r, TAG_NODE, MODEL_VERSION);
	codec_get_str(&r, out->name, sizeof(out->name));
	rc = get_aliases(&r, out);
	if (rc < 0)
		goto fail;
	out->has_admin_mac = get_flags(&r, HF_ALL) & HF_HAS_MAC;
	codec_get_bytes(&r, out->admin_mac, sizeof(out->admin_mac));
	rc = get_attachments(&r, out);
	if (rc < 0)
		goto fail;
	out->created = codec_get_u64(&r);
	rc = get_end(&r);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	model_node_clear(out);
	return rc;
}

/* ---- allocation encoding ---- */

void model_alloc_encode(const struct model_alloc *a, struct codec_w *w)
{
	put_header(w, TAG_ALLOC, MODEL_VERSION);
	codec_put_str(w, a->network);
	put_addr(w, &a->addr);
	codec_put_u8(w, a->owner_kind);
	codec_put_str(w, a->owner);
	codec_put_str(w, a->range);
	codec_put_u8(w, a->state);
	codec_put_u64(w, a->allocated_at);
	codec_put_u64(w, a->released_at);
}

int model_alloc_decode(const void *p, size_t len, struct model_alloc *out)
{
	struct codec_r r;
	int rc;

	memset(out, 0, sizeof(*out));
	codec_r_init(&r, p, len);
	get_header(&r, TAG_ALLOC, MODEL_VERSION);
	codec_get_str(&r, out->network, sizeof(out->network));
	get_addr(&r, &out->addr);
	out->owner_kind = codec_get_u8(&r);
	codec_get_str(&r, out->owner, sizeof(out->owner));
	codec_get_str(&r, out->range, sizeof(out->range));
	out->state = codec_get_u8(&r);
	out->allocated_at = codec_get_u64(&r);
	out->released_at = codec_get_u64(&r);
	rc = get_end(&r);
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return 0;
}

/* ---- tables ---- */

int model_open(struct store *s, struct model_tables *out)
{
	struct model_tables m;
	int rc;

	if ((rc = store_table(s, "meta", &m.meta)) < 0 ||
	    (rc = store_table(s, "network", &m.network)) < 0 ||
	    (rc = store_table(s, "node", &m.node)) < 0 ||
	    (rc = store_table(s, "node_mac", &m.node_mac)) < 0 ||
	    (rc = store_table(s, "alloc", &m.alloc)) < 0 ||
	    (rc = store_table(s, "alloc_owner", &m.alloc_owner)) < 0)
		return rc;
	*out = m;
	return 0;
}

/* Store the encoding in @w under @k, unless encoding failed. */
static int put_encoded(struct store_txn *t, store_tbl tbl, const void *k, size_t kn,
		       const struct codec_w *w)
{
	if (w->err)
		return w->err;
	return store_put(t, tbl, k, kn, w->buf, w->len);
}

static size_t name_len(const char *name)
{
	return name ? strnlen(name, MODEL_NAME_MAX) : 0;
}

/* Names are keys: 1..63 bytes. */
static bool name_ok(const char *name)
{
	size_t n = name_len(name);
	return n > 0 && n < MODEL_NAME_MAX;
}

int model_network_get(const struct model_tables *m, struct store_txn *t, const char *name,
		      struct model_network *out)
{
	struct store_val v;
	int rc;

	if (!name_ok(name))
		return NETD_EINVAL;
	rc = store_get(t, m->network, name, strlen(name), &v);
	if (rc < 0)
		return rc;
	return model_network_decode(v.p, v.n, out);
}

int model_network_put(const struct model_tables *m, struct store_txn *t, const struct model_network *n)
{
	struct codec_w w;
	int rc;

	if (!name_ok(n->name))
		return NETD_EINVAL;
	codec_w_init(&w);
	model_network_encode(n, &w);
	rc = put_encoded(t, m->network, n->name, strlen(n->name), &w);
	codec_w_free(&w);
	return rc;
}

int model_network_del(const struct model_tables *m, struct store_txn *t, const char *name)
{
	if (!name_ok(name))
		return NETD_EINVAL;
	return store_del(t, m->network, name, strlen(name));
}

int model_node_get(const struct model_tables *m, struct store_txn *t, const char *name,
		   struct model_node *out)
{
	struct store_val v;
	int rc;

	if (!name_ok(name))
		return NETD_EINVAL;
	rc = store_get(t, m->node, name, strlen(name), &v);
	if (rc < 0)
		return rc;
	return model_node_decode(v.p, v.n, out);
}

/* Does the node_mac entry of @mac name the node @name? */
static int mac_owner_is(const struct model_tables *m, struct store_txn *t, const uint8_t *mac,
			const char *name, bool *is)
{
	struct store_val v;
	int rc = store_get(t, m->node_mac, mac, 6, &v);

	if (rc == NETD_ENOTFOUND) {
		*is = false;
		return 0;
	}
	if (rc < 0)
		return rc;
	*is = v.n == strlen(name) && memcmp(v.p, name, v.n) == 0;
	return 0;
}

/* Remove the node_mac entry of @mac if it still names @name. */
static int mac_unindex(const struct model_tables *m, struct store_txn *t, const uint8_t *mac,
		       const char *name)
{
	bool mine = false;
	int rc = mac_owner_is(m, t, mac, name, &mine);

	if (rc < 0 || !mine)
		return rc;
	return store_del(t, m->node_mac, mac, 6);
}

/* Refuse @n's MAC if the index gives it to another node, else index it. */
static int mac_index(const struct model_tables *m, struct store_txn *t, const struct model_node *n,
		     struct netd_err *e)
{
	char key[MODEL_NAME_MAX + 8], path[NETD_ERR_PATH_MAX], other[MODEL_NAME_MAX];
	const uint8_t *mac = n->admin_mac;
	struct store_val v;
	int rc = store_get(t, m->node_mac, mac, 6, &v);

	if (rc == NETD_ENOTFOUND)
		return store_put(t, m->node_mac, mac, 6, n->name, strlen(n->name));
	if (rc < 0)
		return rc;
	if (v.n == strlen(n->name) && memcmp(v.p, n->name, v.n) == 0)
		return 0;
	snprintf(other, sizeof(other), "%.*s", (int)(v.n < sizeof(other) ? v.n : sizeof(other) - 1),
		 (const char *)v.p);
	snprintf(path, sizeof(path), "/netd:nodes/node[name=%s]/admin-mac",
		 netd_path_key(n->name, key, sizeof(key)));
	return netd_err_set(e, NETD_EEXIST, path,
			    "admin MAC %02x:%02x:%02x:%02x:%02x:%02x is already used by node '%s'",
			    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], other);
}

static bool mac_changed(const struct model_node *old, const struct model_node *n)
{
	if (!old || !old->has_admin_mac)
		return false;
	return !n->has_admin_mac || memcmp(old->admin_mac, n->admin_mac, 6) != 0;
}

static int node_put_record(const struct model_tables *m, struct store_txn *t, const struct model_node *n)
{
	struct codec_w w;
	int rc;

	codec_w_init(&w);
	model_node_encode(n, &w);
	rc = put_encoded(t, m->node, n->name, strlen(n->name), &w);
	codec_w_free(&w);
	return rc;
}

int model_node_put(const struct model_tables *m, struct store_txn *t, const struct model_node *old,
		   const struct model_node *n, struct netd_err *e)
{
	struct model_node stored = { 0 };
	int rc;

	if (!name_ok(n->name) || (old && strcmp(old->name, n->name)))
		return NETD_EINVAL;
	if (!old) {
		/* The caller thinks it creates the node; trust the table instead. */
		rc = model_node_get(m, t, n->name, &stored);
		if (rc == 0)
			old = &stored;
		else if (rc != NETD_ENOTFOUND)
			goto cleanup;
	}
	if (n->has_admin_mac) {
		rc = mac_index(m, t, n, e);
		if (rc < 0)
			goto cleanup;
	}
	if (mac_changed(old, n)) {
		rc = mac_unindex(m, t, old->admin_mac, old->name);
		if (rc < 0)
			goto cleanup;
	}
	rc = node_put_record(m, t, n);
cleanup:
	model_node_clear(&stored);
	return rc;
}

int model_node_del(const struct model_tables *m, struct store_txn *t, const struct model_node *n)
{
	struct model_node stored = { 0 };
	int rc;

	/* Unindex the stored record's MAC: @n may be stale. */
	rc = model_node_get(m, t, n->name, &stored);
	if (rc < 0)
		return rc;
	if (stored.has_admin_mac) {
		rc = mac_unindex(m, t, stored.admin_mac, stored.name);
		if (rc < 0)
			goto cleanup;
	}
	rc = store_del(t, m->node, n->name, strlen(n->name));
cleanup:
	model_node_clear(&stored);
	return rc;
}

/* ---- iteration ---- */

/* Walk @tbl from the first key >= @from (from the start if from_n is 0)
 * while keys start with @prefix (any key if NULL), visiting each value.
 * A visit returns 0 to go on, > 0 to stop, < 0 to fail. */
struct walk {
	store_tbl tbl;
	const void *from;
	size_t from_n;
	const void *prefix;
	size_t prefix_n;
	int (*visit)(const struct store_val *val, void *ctx);
	void *ctx;
};

static int walk(struct store_txn *t, const struct walk *wk)
{
	struct store_cursor *c = NULL;
	struct store_val k, v;
	int rc;

	rc = store_cursor_open(t, wk->tbl, &c);
	if (rc < 0)
		return rc;
	if (wk->from_n)
		rc = store_cursor_seek(c, wk->from, wk->from_n, &k, &v);
	else
		rc = store_cursor_first(c, &k, &v);
	while (rc == 0) {
		if (wk->prefix && (k.n < wk->prefix_n || memcmp(k.p, wk->prefix, wk->prefix_n)))
			break;
		rc = wk->visit(&v, wk->ctx);
		if (rc != 0)
			break;
		rc = store_cursor_next(c, &k, &v);
	}
	store_cursor_close(c);
	if (rc == NETD_ENOTFOUND || rc > 0)
		rc = 0;
	return rc;
}

struct network_visit {
	int (*fn)(const struct model_network *n, void *arg);
	void *arg;
};

static int network_visit(const struct store_val *val, void *ctx)
{
	struct network_visit *nv = ctx;
	struct model_network n;
	int rc = model_network_decode(val->p, val->n, &n);

	if (rc < 0)
		return rc;
	rc = nv->fn(&n, nv->arg);
	model_network_clear(&n);
	return rc;
}

int model_network_each(const struct model_tables *m, struct store_txn *t, const char *from,
		       int (*fn)(const struct model_network *n, void *arg), void *arg)
{
	struct network_visit nv = { fn, arg };
	struct walk wk = { .tbl = m->network, .from = from, .from_n = from ? strlen(from) : 0,
			   .visit = network_visit, .ctx = &nv };
	return walk(t, &wk);
}

struct node_visit {
	int (*fn)(const struct model_node *n, void *arg);
	void *arg;
};

static int node_visit(const struct store_val *val, void *ctx)
{
	struct node_visit *nv = ctx;
	struct model_node n;
	int rc = model_node_decode(val->p, val->n, &n);

	if (rc < 0)
		return rc;
	rc = nv->fn(&n, nv->arg);
	model_node_clear(&n);
	return rc;
}

int model_node_each(const struct model_tables *m, struct store_txn *t, const char *from,
		    int (*fn)(const struct model_node *n, void *arg), void *arg)
{
	struct node_visit nv = { fn, arg };
	struct walk wk = { .tbl = m->node, .from = from, .from_n = from ? strlen(from) : 0,
			   .visit = node_visit, .ctx = &nv };
	return walk(t, &wk);
}

/* ---- allocations ---- */

size_t model_alloc_key_prefix(uint8_t *buf, const char *network, int family)
{
	size_t n = strnlen(network, MODEL_NAME_MAX - 1);

	memcpy(buf, network, n);
	buf[n++] = 0;
	if (family)
		buf[n++] = (uint8_t)family;
	return n;
}

size_t model_alloc_key(uint8_t *buf, const char *network, const struct addr *a)
{
	size_t n = model_alloc_key_prefix(buf, network, a->family);
	size_t al = fam_len(a->family);

	memcpy(buf + n, a->b, al);
	return n + al;
}

size_t model_owner_key(uint8_t *buf, uint8_t kind, const char *owner, const char *network, int family)
{
	size_t o = strnlen(owner, MODEL_NAME_MAX - 1);
	size_t n = 0;

	buf[n++] = kind;
	memcpy(buf + n, owner, o);
	n += o;
	buf[n++] = 0;
	return n + model_alloc_key_prefix(buf + n, network, family);
}

static bool alloc_ok(const struct model_alloc *a)
{
	return name_ok(a->network) && name_ok(a->owner) &&
	       (a->addr.family == ADDR_V4 || a->addr.family == ADDR_V6);
}

int model_alloc_get(const struct model_tables *m, struct store_txn *t, const char *network,
		    const struct addr *a, struct model_alloc *out)
{
	uint8_t key[MODEL_ALLOC_KEY_MAX];
	struct store_val v;
	size_t kn;
	int rc;

	if (!name_ok(network) || (a->family != ADDR_V4 && a->family != ADDR_V6))
		return NETD_EINVAL;
	kn = model_alloc_key(key, network, a);
	rc = store_get(t, m->alloc, key, kn, &v);
	if (rc < 0)
		return rc;
	return model_alloc_decode(v.p, v.n, out);
}

int model_alloc_put(const struct model_tables *m, struct store_txn *t, const struct model_alloc *a)
{
	uint8_t key[MODEL_ALLOC_KEY_MAX], okey[MODEL_OWNER_KEY_MAX];
	struct codec_w w;
	size_t kn, okn;
	int rc;

	if (!alloc_ok(a))
		return NETD_EINVAL;
	kn = model_alloc_key(key, a->network, &a->addr);
	okn = model_owner_key(okey, a->owner_kind, a->owner, a->network, a->addr.family);
	codec_w_init(&w);
	model_alloc_encode(a, &w);
	rc = put_encoded(t, m->alloc, key, kn, &w);
	codec_w_free(&w);
	if (rc < 0)
		return rc;
	return store_put(t, m->alloc_owner, okey, okn, a->addr.b, addr_len(&a->addr));
}

int model_alloc_del(const struct model_tables *m, struct store_txn *t, const struct model_alloc *a)
{
	uint8_t key[MODEL_ALLOC_KEY_MAX], okey[MODEL_OWNER_KEY_MAX];
	struct store_val v;
	size_t kn, okn;
	int rc;

	if (!alloc_ok(a))
		return NETD_EINVAL;
	kn = model_alloc_key(key, a->network, &a->addr);
	rc = store_del(t, m->alloc, key, kn);
	if (rc < 0)
		return rc;
	/* Drop the owner entry only if it still points at this address. */
	okn = model_owner_key(okey, a->owner_kind, a->owner, a->network, a->addr.family);
	rc = store_get(t, m->alloc_owner, okey, okn, &v);
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (v.n != addr_len(&a->addr) || memcmp(v.p, a->addr.b, v.n))
		return 0;
	return store_del(t, m->alloc_owner, okey, okn);
}

int model_alloc_by_owner(const struct model_tables *m, struct store_txn *t, uint8_t kind, const char *owner,
			 const char *network, int family, struct model_alloc *out)
{
	uint8_t okey[MODEL_OWNER_KEY_MAX];
	struct store_val v;
	struct addr a = { 0 };
	size_t okn;
	int rc;

	if (!name_ok(owner) || !name_ok(network) || (family != ADDR_V4 && family != ADDR_V6))
		return NETD_EINVAL;
	okn = model_owner_key(okey, kind, owner, network, family);
	rc = store_get(t, m->alloc_owner, okey, okn, &v);
	if (rc < 0)
		return rc;
	if (v.n != addr_family_len(family))
		return NETD_ECORRUPT;
	a.family = (uint8_t)family;
	memcpy(a.b, v.p, v.n);
	return model_alloc_get(m, t, network, &a, out);
}

struct alloc_visit {
	int (*fn)(const struct model_alloc *a, void *arg);
	void *arg;
};

static int alloc_visit(const struct store_val *val, void *ctx)
{
	struct alloc_visit *av = ctx;
	struct model_alloc a;
	int rc = model_alloc_decode(val->p, val->n, &a);

	if (rc < 0)
		return rc;
	return av->fn(&a, av->arg);
}

int model_alloc_each(const struct model_tables *m, struct store_txn *t, const char *network,
		     int (*fn)(const struct model_alloc *a, void *arg), void *arg)
{
	uint8_t prefix[MODEL_ALLOC_KEY_MAX];
	struct alloc_visit av = { fn, arg };
	struct walk wk = { .tbl = m->alloc, .visit = alloc_visit, .ctx = &av };

	if (network && *network) {
		wk.prefix = prefix;
		wk.prefix_n = model_alloc_key_prefix(prefix, network, 0);
		wk.from = prefix;
		wk.from_n = wk.prefix_n;
	}
	return walk(t, &wk);
}

/* ---- meta ---- */

int model_meta_get(const struct model_tables *m, struct store_txn *t, const char *key, void *out,
		   size_t cap, size_t *len)
{
	struct store_val v;
	int rc;

	if (!key || !*key)
		return NETD_EINVAL;
	rc = store_get(t, m->meta, key, strlen(key), &v);
	if (rc < 0)
		return rc;
	if (v.n > cap)
		return -ERANGE;
	memcpy(out, v.p, v.n);
	if (len)
		*len = v.n;
	return 0;
}

int model_meta_put(const struct model_tables *m, struct store_txn *t, const char *key, const void *v, size_t n)
{
	if (!key || !*key)
		return NETD_EINVAL;
	return store_put(t, m->meta, key, strlen(key), v, n);
}

/* ---- names ---- */

void model_node_fqdn(const struct model_node *node, const struct model_network *net, char *buf, size_t len)
{
	if (!net || !net->dns_domain[0])
		snprintf(buf, len, "%s", node->name);
	else if (net->primary)
		snprintf(buf, len, "%s.%s", node->name, net->dns_domain);
	else
		snprintf(buf, len, "%s.%s.%s", node->name, net->name, net->dns_domain);
}

static const char *const team_names[] = {
	[TEAM_BALANCE_RR] = "balance-rr",
	[TEAM_ACTIVE_BACKUP] = "active-backup",
	[TEAM_BALANCE_XOR] = "balance-xor",
	[TEAM_BROADCAST] = "broadcast",
	[TEAM_802_3AD] = "802.3ad",
	[TEAM_BALANCE_TLB] = "balance-tlb",
	[TEAM_BALANCE_ALB] = "balance-alb",
};

#define N_TEAM_MODES (sizeof(team_names) / sizeof(team_names[0]))

const char *model_team_mode_name(uint8_t mode)
{
	return mode < N_TEAM_MODES ? team_names[mode] : NULL;
}

int model_team_mode_parse(const char *s, uint8_t *out)
{
	for (size_t i = 0; s && i < N_TEAM_MODES; i++) {
		if (!strcmp(s, team_names[i])) {
			*out = (uint8_t)i;
			return 0;
		}
	}
	return NETD_EINVAL;
}
