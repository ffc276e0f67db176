/* netd/dnsd_intent.c — the intent half of the DNS service: inside an
 * edit's write transaction, derive the records of what the edit touched,
 * compare them with the stored intent and, where they differ, write the
 * new intent, an outbox entry and the records' states, all in the edit's
 * transaction (decision P2; contract in dnsd.h).
 *
 * One pass (struct sync) handles a set of intent keys (node names and
 * DNSD_STATIC_KEY) in three steps, so that a name may move between keys
 * inside one transaction (a rename, an alias handed from one node to
 * another):
 *   1. derive every key's new set, keep those that differ from the stored
 *      one as changes;
 *   2. the owner index: drop the old owners of every change, then claim
 *      the new ones, refusing a name another key holds;
 *   3. write: record states of dropped records first, then the new ones
 *      (a record can move from one key to another: the ownership TXT at a
 *      renamed node's reverse name), the intent, and one outbox entry per
 *      change, all flagged as one transaction but the last.
 */
#include "netd/dnsd_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/model.h"

struct change {
	char key[MODEL_NAME_MAX];
	struct dns_recset old, new_;
	bool skip;     /* lenient pass: refused, left out */
};

struct sync {
	struct netd *d;
	struct dnsd *s;
	struct store_txn *t;
	struct dnsd_conf conf;
	char id[DNS_INSTALLATION_ID_MAX + 1];
	uint64_t now;
	bool lenient;                       /* log and skip what cannot be derived */
	struct netd_err err;
	struct model_network *nets;         /* networks read so far (a cache) */
	size_t n_nets, cap_nets;
	char (*keys)[MODEL_NAME_MAX];       /* what to derive */
	size_t n_keys, cap_keys;
	bool statics;
	struct change *ch;
	size_t n_ch, cap_ch;
};

static void sync_clear(struct sync *y)
{
	for (size_t i = 0; i < y->n_nets; i++)
		model_network_clear(&y->nets[i]);
	free(y->nets);
	free(y->keys);
	for (size_t i = 0; i < y->n_ch; i++) {
		dns_recset_clear(&y->ch[i].old);
		dns_recset_clear(&y->ch[i].new_);
	}
	free(y->ch);
	dnsd_conf_clear(&y->conf);
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	void *nv = realloc(*v, c * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

static int key_add(struct sync *y, const char *name)
{
	int rc = grow((void **)&y->keys, &y->cap_keys, y->n_keys, sizeof *y->keys);
	if (rc < 0)
		return rc;
	snprintf(y->keys[y->n_keys++], MODEL_NAME_MAX, "%s", name);
	return 0;
}

static int key_idx_cmp(const void *pa, const void *pb, void *arg)
{
	char (*keys)[MODEL_NAME_MAX] = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = strcmp(keys[a], keys[b]);
	return c ? c : (a < b ? -1 : a > b);
}

/* Drop repeated keys, keeping the order in which they were touched (a
 * rename's old name, then its new one: their entries go out in that
 * order). */
static int keys_unique(struct sync *y)
{
	if (y->n_keys < 2)
		return 0;
	size_t *idx = malloc(y->n_keys * sizeof *idx);
	bool *dup = calloc(y->n_keys, sizeof *dup);
	int rc = idx && dup ? 0 : -ENOMEM;
	if (!rc) {
		for (size_t i = 0; i < y->n_keys; i++)
			idx[i] = i;
		qsort_r(idx, y->n_keys, sizeof *idx, key_idx_cmp, y->keys);
		for (size_t i = 1; i < y->n_keys; i++)
			dup[idx[i]] = !strcmp(y->keys[idx[i]], y->keys[idx[i - 1]]);
		size_t k = 0;
		for (size_t i = 0; i < y->n_keys; i++)
			if (!dup[i])
				memmove(y->keys[k++], y->keys[i], sizeof *y->keys);
		y->n_keys = k;
	}
	free(idx);
	free(dup);
	return rc;
}

/* The network @name (cached); NULL if there is none. */
static const struct model_network *net_get(struct sync *y, const char *name, int *rc)
{
	*rc = 0;
	for (size_t i = 0; i < y->n_nets; i++)
		if (!strcmp(y->nets[i].name, name))
			return &y->nets[i];
	if ((*rc = grow((void **)&y->nets, &y->cap_nets, y->n_nets, sizeof *y->nets)) < 0)
		return NULL;
	struct model_network *n = &y->nets[y->n_nets];
	*rc = model_network_get(&y->d->mt, y->t, name, n);
	if (*rc == NETD_ENOTFOUND) {
		*rc = 0;
		return NULL;
	}
	if (*rc < 0)
		return NULL;
	y->n_nets++;
	return n;
}

/* ---- templates ---------------------------------------------------------- */

/* What dns_derive_node() does not refuse by itself: a template that gives
 * every node the same name. */
static int tmpl_check(struct sync *y, const struct model_network *n)
{
	if (!n->dns_template[0])
		return 0;
	char k[MODEL_NAME_MAX + 8], path[DNSD_PATH_MAX];
	snprintf(path, sizeof path, "/netd:networks/network[name=%s]/dns-name-template",
		 netd_path_key(n->name, k, sizeof k));
	if (!strstr(n->dns_template, "{node}"))
		return netd_err_set(&y->err, NETD_EINVAL, path,
				    "name template \"%s\" has no {node}: every node would get the same name",
				    n->dns_template);
	for (const char *p = n->dns_template; (p = strchr(p, '{')); p++)
		if (strncmp(p, "{node}", 6) && strncmp(p, "{network}", 9) && strncmp(p, "{domain}", 8))
			return netd_err_set(&y->err, NETD_EINVAL, path,
					    "name template \"%s\": unknown placeholder at \"%.12s\" (use {node}, "
					    "{network}, {domain})", n->dns_template, p);
	return 0;
}

/* ---- derivation --------------------------------------------------------- */

/* Active allocations of @node on @net (one per family at most). */
static int node_allocs(struct sync *y, const struct model_node *node, const char *net, struct model_alloc *out,
		       size_t *n)
{
	static const int fams[2] = { ADDR_V4, ADDR_V6 };
	for (size_t f = 0; f < 2; f++) {
		struct model_alloc a;
		int rc = model_alloc_by_owner(&y->d->mt, y->t, OWNER_NODE, node->name, net, fams[f], &a);
		if (rc == NETD_ENOTFOUND)
			continue;
		if (rc < 0)
			return rc;
		if (a.state == ALLOC_ACTIVE)
			out[(*n)++] = a;
	}
	return 0;
}

static int derive_node(struct sync *y, const char *name, struct dns_recset *out)
{
	struct model_node node = { 0 };
	struct model_network *nets = NULL;
	struct model_alloc *allocs = NULL;
	struct dns_tmpl *tmpls = NULL;
	size_t n_nets = 0, n_allocs = 0, n_tmpls = 0;
	int rc = model_node_get(&y->d->mt, y->t, name, &node);
	if (rc == NETD_ENOTFOUND)
		return 0;   /* deleted: no records */
	if (rc < 0)
		return rc;
	nets = calloc(node.n_nets ? node.n_nets : 1, sizeof *nets);
	allocs = calloc(node.n_nets ? 2 * node.n_nets : 1, sizeof *allocs);
	tmpls = calloc(node.n_nets ? node.n_nets : 1, sizeof *tmpls);
	if (!nets || !allocs || !tmpls) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < node.n_nets; i++) {
		const struct model_network *n = net_get(y, node.nets[i].network, &rc);
		if (rc < 0)
			goto out;
		if (!n)
			continue;
		/* a shallow copy (the cache owns the ranges); the names point into
		 * the copy, as the cache's array may move when it grows */
		const struct model_network *c = &nets[n_nets];
		nets[n_nets++] = *n;
		if (c->dns_template[0])
			tmpls[n_tmpls++] = (struct dns_tmpl){ .network = c->name, .tmpl = c->dns_template };
		if ((rc = node_allocs(y, &node, n->name, allocs, &n_allocs)) < 0)
			goto out;
	}
	struct dns_derive_opts o = { .installation_id = y->id, .ttl = y->conf.ttl, .tmpls = tmpls,
				     .n_tmpls = n_tmpls };
	rc = dns_derive_node(nets, n_nets, &node, allocs, n_allocs, &o, out, &y->err);
out:
	free(nets);
	free(allocs);
	free(tmpls);
	model_node_clear(&node);
	return rc;
}

/* The static records with their ownership TXTs, sorted and checked. */
static int derive_statics(const struct dnsd_conf *c, const char *id, struct dns_recset *out, struct netd_err *e)
{
	struct dns_recset s = { 0 };
	int rc = 0;
	for (size_t i = 0; i < c->n_statics && !rc; i++) {
		const struct dns_rec *r = &c->statics[i].rec;
		struct dns_rec own = { .type = DNS_REC_TXT, .ttl = c->ttl };
		snprintf(own.owner, sizeof own.owner, "%s%s", r->type == DNS_REC_CNAME ? DNS_OWNER_LABEL "." : "",
			 r->owner);
		snprintf(own.data, sizeof own.data, DNS_OWNER_TXT_PREFIX "%s", id);
		if (r->type == DNS_REC_CNAME && strlen(r->owner) + sizeof DNS_OWNER_LABEL > DNS_REC_NAME_MAX - 1)
			rc = netd_err_set(e, NETD_EINVAL, c->statics[i].path, "owner %s leaves no room for its "
					  "ownership record " DNS_OWNER_LABEL ".%s", r->owner, r->owner);
		if (!rc)
			rc = dns_recset_add(&s, r);
		if (!rc)
			rc = dns_recset_add(&s, &own);
	}
	if (rc < 0)
		goto out;
	dns_recset_sort(&s);
	struct netd_err why = { 0 };
	if (dns_recset_check(&s, &why) < 0) {
		const char *path = "/netd:dns/record";
		for (size_t i = 0; i < c->n_statics; i++)
			if (c->statics[i].rec.type == DNS_REC_CNAME && strstr(why.msg, c->statics[i].rec.owner))
				path = c->statics[i].path;
		rc = netd_err_set(e, NETD_EINVAL, path, "static records: %s", why.msg);
		goto out;
	}
	rc = dns_recset_add_all(out, &s);
out:
	dns_recset_clear(&s);
	return rc;
}

static bool sets_equal(const struct dns_recset *a, const struct dns_recset *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (dns_rec_cmp(&a->v[i], &b->v[i]) || a->v[i].ttl != b->v[i].ttl)
			return false;
	return true;
}

/* The path an error about @key names. */
static void key_path(const char *key, char *buf, size_t len)
{
	char k[MODEL_NAME_MAX + 8];
	if (!strcmp(key, DNSD_STATIC_KEY))
		snprintf(buf, len, "/netd:dns/record");
	else
		snprintf(buf, len, "/netd:nodes/node[name=%s]", netd_path_key(key, k, sizeof k));
}

static int sync_key(struct sync *y, const char *key)
{
	struct change c = { 0 };
	snprintf(c.key, sizeof c.key, "%s", key);
	netd_err_clear(&y->err);
	int rc = !strcmp(key, DNSD_STATIC_KEY) ? derive_statics(&y->conf, y->id, &c.new_, &y->err)
					       : derive_node(y, key, &c.new_);
	if (rc == 0) {
		rc = dnsd_intent_get(&y->s->tb, y->t, key, &c.old);
		rc = rc == NETD_ENOTFOUND ? 0 : rc;
	}
	if (rc == 0 && !sets_equal(&c.old, &c.new_))
		rc = grow((void **)&y->ch, &y->cap_ch, y->n_ch, sizeof *y->ch);
	if (rc == 0 && !sets_equal(&c.old, &c.new_)) {
		y->ch[y->n_ch++] = c;
		return 0;
	}
	dns_recset_clear(&c.old);
	dns_recset_clear(&c.new_);
	if (rc == NETD_EINVAL && y->lenient) {
		log_warn("dns: %s: %s (not published)", y->err.path, y->err.msg);
		return 0;
	}
	return rc;
}

/* ---- the owner index ---------------------------------------------------- */

static int owners_release(struct sync *y, const struct change *c)
{
	for (size_t i = 0; i < c->old.n; i++) {
		const char *o = c->old.v[i].owner;
		if (i > 0 && !strcmp(o, c->old.v[i - 1].owner))
			continue;
		struct store_val v;
		int rc = store_get(y->t, y->s->tb.owner, o, strlen(o), &v);
		if (rc == NETD_ENOTFOUND)
			continue;
		if (rc == 0 && v.n == strlen(c->key) && !memcmp(v.p, c->key, v.n))
			rc = store_del(y->t, y->s->tb.owner, o, strlen(o));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Drop the claims of @c's first @upto owners (a refused change, lenient). */
static int owners_unclaim(struct sync *y, const struct change *c, size_t upto)
{
	for (size_t i = 0; i < upto; i++) {
		const char *o = c->new_.v[i].owner;
		int rc = store_del(y->t, y->s->tb.owner, o, strlen(o));
		if (rc < 0 && rc != NETD_ENOTFOUND)
			return rc;
	}
	return 0;
}

static int owners_claim(struct sync *y, struct change *c)
{
	for (size_t i = 0; i < c->new_.n; i++) {
		const char *o = c->new_.v[i].owner;
		if (i > 0 && !strcmp(o, c->new_.v[i - 1].owner))
			continue;
		struct store_val v;
		int rc = store_get(y->t, y->s->tb.owner, o, strlen(o), &v);
		if (rc == 0 && !(v.n == strlen(c->key) && !memcmp(v.p, c->key, v.n))) {
			char holder[MODEL_NAME_MAX], path[DNSD_PATH_MAX];
			snprintf(holder, sizeof holder, "%.*s", (int)(v.n < sizeof holder ? v.n : sizeof holder - 1),
				 (const char *)v.p);
			key_path(c->key, path, sizeof path);
			netd_err_set(&y->err, NETD_EINVAL, path, "name %s is already published %s%s", o,
				     strcmp(holder, DNSD_STATIC_KEY) ? "for node " : "by a static record",
				     strcmp(holder, DNSD_STATIC_KEY) ? holder : "");
			if (!y->lenient)
				return NETD_EINVAL;
			log_warn("dns: %s: %s (not published)", y->err.path, y->err.msg);
			c->skip = true;
			return owners_unclaim(y, c, i);
		}
		if (rc == NETD_ENOTFOUND)
			rc = store_put(y->t, y->s->tb.owner, o, strlen(o), c->key, strlen(c->key));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- writing ------------------------------------------------------------- */

static int states_drop(struct sync *y, const struct change *c)
{
	struct dns_recset add = { 0 }, del = { 0 };
	int rc = dns_recset_diff(&c->old, &c->new_, &add, &del);
	for (size_t i = 0; !rc && i < del.n; i++)
		rc = dnsd_rstate_del(&y->s->tb, y->t, &del.v[i]);
	dns_recset_clear(&add);
	dns_recset_clear(&del);
	return rc;
}

static int states_add(struct sync *y, const struct change *c)
{
	struct dns_recset add = { 0 }, del = { 0 };
	int rc = dns_recset_diff(&c->old, &c->new_, &add, &del);
	for (size_t i = 0; !rc && i < add.n; i++) {
		struct dnsd_rstate st = { .state = DNS_STATE_PENDING, .since = y->now, .rec = add.v[i] };
		snprintf(st.node, sizeof st.node, "%s", c->key);
		rc = dnsd_rstate_put(&y->s->tb, y->t, &st);
	}
	dns_recset_clear(&add);
	dns_recset_clear(&del);
	return rc;
}

static int sync_write(struct sync *y)
{
	uint64_t seq = 0;
	size_t last = SIZE_MAX;
	int rc = dnsd_outbox_next(&y->s->tb, y->t, &seq);
	for (size_t i = 0; !rc && i < y->n_ch; i++)
		if (!y->ch[i].skip)
			last = i;
	for (size_t i = 0; !rc && i < y->n_ch; i++)
		if (!y->ch[i].skip)
			rc = states_drop(y, &y->ch[i]);
	for (size_t i = 0; !rc && i < y->n_ch; i++) {
		const struct change *c = &y->ch[i];
		if (c->skip)
			continue;
		struct dnsd_entry en = { .seq = seq++, .flags = i == last ? 0 : DNSD_ENTRY_MORE, .created = y->now,
					 .old = c->old, .new_ = c->new_ };
		snprintf(en.node, sizeof en.node, "%s", c->key);
		rc = states_add(y, c);
		if (!rc)
			rc = dnsd_intent_put(&y->s->tb, y->t, c->key, &c->new_);
		if (!rc)
			rc = dnsd_entry_put(&y->s->tb, y->t, &en);
	}
	return rc;
}

static int sync_apply(struct sync *y)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < y->n_ch; i++)
		rc = owners_release(y, &y->ch[i]);
	for (size_t i = 0; !rc && i < y->n_ch; i++)
		rc = owners_claim(y, &y->ch[i]);
	return rc ? rc : sync_write(y);
}

/* ---- what to derive ------------------------------------------------------ */

static int collect_alloc_owner(const struct model_alloc *a, void *arg)
{
	return a->owner_kind == OWNER_NODE ? key_add(arg, a->owner) : 0;
}

static int collect_node(const struct model_node *n, void *arg)
{
	return key_add(arg, n->name);
}

/* Every node, and every key that has intent (a node deleted while DNS was
 * broken would otherwise keep its records). */
static int collect_all(struct sync *y)
{
	int rc = model_node_each(&y->d->mt, y->t, NULL, collect_node, y);
	struct store_cursor *c = NULL;
	struct store_val k;
	if (!rc)
		rc = store_cursor_open(y->t, y->s->tb.intent, &c);
	for (int r = rc ? rc : store_cursor_first(c, &k, NULL); !rc && r == 0; r = store_cursor_next(c, &k, NULL)) {
		char key[MODEL_NAME_MAX];
		snprintf(key, sizeof key, "%.*s", (int)(k.n < sizeof key ? k.n : sizeof key - 1), (const char *)k.p);
		if (strcmp(key, DNSD_STATIC_KEY))
			rc = key_add(y, key);
	}
	store_cursor_close(c);
	return rc;
}

/* Were the records derived with another installation id or TTL?  The
 * parameters are kept in meta as "<id> <ttl>"; the first pass writes them. */
static int params_changed(struct sync *y, bool *changed)
{
	char want[DNS_INSTALLATION_ID_MAX + 16], have[DNS_INSTALLATION_ID_MAX + 16];
	size_t n = 0;
	snprintf(want, sizeof want, "%s %u", y->id, (unsigned)y->conf.ttl);
	int rc = model_meta_get(&y->d->mt, y->t, DNSD_META_DERIVE, have, sizeof have - 1, &n);
	*changed = false;
	if (rc == 0) {
		have[n] = '\0';
		if (!strcmp(have, want))
			return 0;
		*changed = true;
	} else if (rc != NETD_ENOTFOUND) {
		return rc;
	}
	return model_meta_put(&y->d->mt, y->t, DNSD_META_DERIVE, want, strlen(want));
}

static int sync_begin(struct sync *y)
{
	struct lyd_node *top = NULL;
	int rc = ops_doc_load(y->d, y->t, OPS_DOC_DNS, &top);
	if (!rc)
		rc = dnsd_conf_read(top, false, &y->conf, &y->err);
	lyd_free_all(top);
	if (!rc)
		rc = dnsd_installation_id(y->d, y->t, &y->conf, true, y->id);
	return rc;
}

static int sync_touched(struct sync *y, const struct ops_touched *tc)
{
	bool all = false;
	int rc = params_changed(y, &all);
	for (size_t i = 0; !rc && i < tc->n_nodes; i++)
		rc = key_add(y, tc->nodes[i]);
	for (size_t i = 0; !rc && i < tc->n_nets; i++) {
		const struct model_network *n = net_get(y, tc->nets[i], &rc);
		if (!rc && n)
			rc = tmpl_check(y, n);
		if (!rc && !all)   /* every node with an address there */
			rc = model_alloc_each(&y->d->mt, y->t, tc->nets[i], collect_alloc_owner, y);
	}
	if (!rc && (all || (tc->flags & OPS_T_NETWORKS_ALL)))
		rc = collect_all(y);
	if (!rc)
		rc = keys_unique(y);
	for (size_t i = 0; !rc && i < y->n_keys; i++)
		rc = sync_key(y, y->keys[i]);
	if (!rc && (all || (tc->docs & OPS_DOC_BIT(OPS_DOC_DNS))))
		rc = sync_key(y, DNSD_STATIC_KEY);
	return rc ? rc : sync_apply(y);
}

int dnsd_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now, struct ops_result *r)
{
	if (!d->dnsd)
		return 0;
	bool doc = tc->docs & OPS_DOC_BIT(OPS_DOC_DNS);
	if (!tc->n_nodes && !tc->n_nets && !doc && !(tc->flags & OPS_T_NETWORKS_ALL))
		return 0;
	struct sync y = { .d = d, .s = d->dnsd, .t = t, .now = now };
	int rc = sync_begin(&y);
	if (!rc)
		rc = sync_touched(&y, tc);
	if (rc == NETD_EINVAL)
		ops_fail(r, 400, "invalid-value", NETD_EINVAL, y.err.path, "%s", y.err.msg);
	else if (rc < 0 && y.err.code)
		r->err = y.err;
	sync_clear(&y);
	return rc;
}

/* ---- the document check and the first derivation -------------------------- */

int dnsd_doc_check(struct netd *d, struct store_txn *t, const struct lyd_node *top, struct ops_result *r)
{
	struct dnsd_conf c;
	struct dns_recset s = { 0 };
	struct netd_err e = { 0 };
	(void)d;
	(void)t;
	int rc = dnsd_conf_read(top, true, &c, &e);
	if (!rc) {
		/* the id only shapes the ownership TXTs: any valid one checks the set */
		rc = derive_statics(&c, c.installation_id[0] ? c.installation_id : "check", &s, &e);
		dnsd_conf_clear(&c);
		dns_recset_clear(&s);
	}
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return ops_fail(r, 400, "invalid-value", NETD_EINVAL, e.path, "%s", e.msg);
	return 0;
}

static int initial_fn(struct store_txn *t, void *arg)
{
	struct sync *y = arg;
	char have[DNS_INSTALLATION_ID_MAX + 16];
	size_t n = 0;
	int rc = model_meta_get(&y->d->mt, t, DNSD_META_DERIVE, have, sizeof have, &n);
	if (rc != NETD_ENOTFOUND)
		return rc;   /* derived before (0), or an error */
	sync_clear(y);
	*y = (struct sync){ .d = y->d, .s = y->s, .t = t, .now = y->now, .lenient = true };
	bool changed;
	rc = sync_begin(y);
	if (!rc)
		rc = params_changed(y, &changed);
	if (!rc)
		rc = collect_all(y);
	if (!rc)
		rc = keys_unique(y);
	for (size_t i = 0; !rc && i < y->n_keys; i++)
		rc = sync_key(y, y->keys[i]);
	if (!rc)
		rc = sync_key(y, DNSD_STATIC_KEY);
	if (!rc)
		rc = sync_apply(y);
	size_t made = 0;
	for (size_t i = 0; i < y->n_ch; i++)
		made += !y->ch[i].skip;
	if (!rc && made)
		log_info("dns: derived the records of %zu nodes (first start with DNS)", made);
	return rc;
}

int dnsd_intent_initial(struct netd *d)
{
	struct sync y = { .d = d, .s = d->dnsd, .now = wall_now_s() };
	int rc = store_update(d->store, initial_fn, &y);
	if (rc < 0)
		log_err("dns: first derivation failed: %s%s%s", y.err.msg[0] ? y.err.msg : netd_strerror(rc),
			y.err.path[0] ? " at " : "", y.err.path);
	sync_clear(&y);
	return rc;
}
