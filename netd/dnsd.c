/* netd/dnsd.c — DNS publication as a netd service: start and stop, the
 * hooks the edit engine calls after a commit, the RPCs, and what the faces
 * read (operational data, figures).  The contract is in dnsd.h; the intent
 * (dnsd_txn) is in dnsd_intent.c, the delivery worker in dnsd_worker.c.
 */
#include "netd/dnsd_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"

/* ---- life cycle ----------------------------------------------------------- */

static int sync_init(struct dnsd *s)
{
	pthread_condattr_t ca;
	if (pthread_mutex_init(&s->mu, NULL))
		return -ENOMEM;
	if (pthread_condattr_init(&ca)) {
		pthread_mutex_destroy(&s->mu);
		return -ENOMEM;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* timed waits survive clock steps */
	int rc = pthread_cond_init(&s->cv, &ca) ? -ENOMEM : 0;
	pthread_condattr_destroy(&ca);
	if (rc)
		pthread_mutex_destroy(&s->mu);
	return rc;
}

int dnsd_start(struct netd *d, struct netd_err *e)
{
	struct dnsd *s = calloc(1, sizeof *s);
	int rc;
	if (!s)
		return netd_err_set(e, -ENOMEM, NULL, "dns: out of memory");
	s->d = d;
	if ((rc = dnsd_tables_open(d->store, &s->tb)) < 0) {
		free(s);
		return netd_err_set(e, rc, NULL, "dns: store tables: %s", netd_strerror(rc));
	}
	if ((rc = sync_init(s)) < 0) {
		free(s);
		return netd_err_set(e, rc, NULL, "dns: cannot make the worker's lock");
	}
	d->dnsd = s;
	if ((rc = dnsd_intent_initial(d)) < 0) {
		netd_err_set(e, rc, NULL, "dns: first derivation of the records: %s", netd_strerror(rc));
		dnsd_stop(d);
		return rc;
	}
	s->kick = true;   /* an outbox left by the last run goes out now */
	if ((rc = pthread_create(&s->thread, NULL, dnsd_worker_main, s)) != 0) {
		dnsd_stop(d);
		return netd_err_set(e, -rc, NULL, "dns: cannot start the delivery worker: %s", strerror(rc));
	}
	s->started = true;
	return 0;
}

void dnsd_stop(struct netd *d)
{
	struct dnsd *s = d ? d->dnsd : NULL;
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->zst);
	free(s);
	d->dnsd = NULL;
}

void dnsd_committed(struct netd *d, const struct ops_touched *tc)
{
	struct dnsd *s = d->dnsd;
	bool doc = tc->docs & OPS_DOC_BIT(OPS_DOC_DNS);
	if (!s || (!tc->n_nodes && !tc->n_nets && !doc && !(tc->flags & (OPS_T_DNS_CHECK | OPS_T_NETWORKS_ALL))))
		return;
	pthread_mutex_lock(&s->mu);
	s->kick = true;
	if (doc)
		s->conf_changed = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

bool dnsd_zone_status_get(struct dnsd *s, const char *zone, struct dnsd_zone_status *out)
{
	bool found = false;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n_zst && !found; i++)
		if (!strcmp(s->zst[i].name, zone)) {
			*out = s->zst[i];
			found = true;
		}
	pthread_mutex_unlock(&s->mu);
	return found;
}

/* ---- RPCs ----------------------------------------------------------------- */

static int rpc_check(struct netd *d, struct store_txn *t, struct ops_prep *p, struct ops_result *r)
{
	uint64_t req = 0;
	char id[24];
	int rc = dnsd_meta_u64(d, t, DNSD_META_CHECK_REQ, &req);
	if (!rc)
		rc = dnsd_meta_put_u64(d, t, DNSD_META_CHECK_REQ, ++req);
	snprintf(id, sizeof id, "%llu", (unsigned long long)req);
	if (!rc)
		rc = ops_rpc_set_output(p, "check-id", id);
	if (rc < 0)
		return rc;
	r->touched.flags |= OPS_T_DNS_CHECK;
	r->status = 200;
	return 0;
}

/* Every intended record (all nodes and the static records) into @out. */
int dnsd_intent_all(struct dnsd *s, struct store_txn *t, struct dns_recset *out)
{
	struct store_cursor *c = NULL;
	struct store_val v;
	int rc = store_cursor_open(t, s->tb.intent, &c);
	for (int r = rc ? rc : store_cursor_first(c, NULL, &v); !rc && r == 0; r = store_cursor_next(c, NULL, &v))
		rc = dnsd_intent_decode(&v, out);
	store_cursor_close(c);
	return rc;
}

static int rpc_export(struct netd *d, struct store_txn *t, struct ops_prep *p, const struct lyd_node *rpc,
		      struct ops_result *r)
{
	const char *zone = ops_rpc_leaf(rpc, "zone");
	struct lyd_node *top = NULL;
	struct dnsd_conf c = { 0 };
	struct dns_recset all = { 0 }, in = { 0 };
	struct netd_err e = { 0 };
	char name[DNS_REC_NAME_MAX], id[DNS_INSTALLATION_ID_MAX + 1];
	char *text = NULL;
	int rc = ops_doc_load(d, t, OPS_DOC_DNS, &top);
	if (!rc)
		rc = dnsd_conf_read(top, false, &c, &e);
	if (rc < 0)
		goto out;
	int zi = -1;
	for (size_t i = 0; zone && dnsd_name_abs(zone, name) && i < c.n_zones; i++)
		if (!strcmp(c.zones[i].zone.name, name))
			zi = (int)i;
	if (zi < 0) {
		rc = ops_fail(r, 400, "invalid-value", NETD_EINVAL, "/netd:dns-export/zone", "no zone named '%s' is "
			      "configured under /netd:dns/zone", zone ? zone : "");
		goto out;
	}
	if ((rc = dnsd_intent_all(d->dnsd, t, &all)) < 0 || (rc = dnsd_installation_id(d, t, &c, false, id)) < 0)
		goto out;
	for (size_t i = 0; i < all.n && !rc; i++)
		if (dnsd_conf_zone_of(&c, all.v[i].owner) == zi)   /* not the records of a configured sub-zone */
			rc = dns_recset_add(&in, &all.v[i]);
	dns_recset_sort(&in);
	if (!rc)
		rc = dns_export_zone(&in, name, id[0] ? id : "none", &text, &e);
	if (!rc)
		rc = ops_rpc_set_output(p, "text", text);
	if (!rc)
		r->status = 200;
out:
	if (rc < 0 && !r->err.code && e.code)
		ops_fail(r, 500, "operation-failed", rc, e.path, "%s", e.msg);
	free(text);
	dns_recset_clear(&all);
	dns_recset_clear(&in);
	dnsd_conf_clear(&c);
	lyd_free_all(top);
	return rc;
}

int dnsd_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	     uint64_t now, struct ops_result *r, bool *handled)
{
	(void)now;
	*handled = false;
	if (!d->dnsd)
		return 0;
	if (!strcmp(name, "netd:dns-check")) {
		*handled = true;
		return rpc_check(d, t, p, r);
	}
	if (!strcmp(name, "netd:dns-export")) {
		*handled = true;
		return rpc_export(d, t, p, rpc, r);
	}
	return 0;
}

/* ---- what the faces read --------------------------------------------------- */

/* Counts of record states (and per zone of @c, into @per_zone if given):
 * the state byte and the key's owner are read, nothing is decoded. */
static int rstate_counts(struct dnsd *s, struct store_txn *t, const struct dnsd_conf *c, uint64_t counts[6],
			 uint64_t *per_zone)
{
	struct store_cursor *cur = NULL;
	struct store_val k, v;
	bool zones = c && per_zone && c->n_zones;
	int rc = store_cursor_open(t, s->tb.rstate, &cur);
	for (int r = rc ? rc : store_cursor_first(cur, &k, &v); !rc && r == 0; r = store_cursor_next(cur, &k, &v)) {
		uint8_t state;
		const char *owner = NULL;
		if ((rc = dnsd_rstate_peek(&k, &v, &state, zones ? &owner : NULL)) < 0)
			break;
		counts[state]++;
		int z = zones ? dnsd_conf_zone_of(c, owner) : -1;
		if (z >= 0)
			per_zone[z]++;
	}
	store_cursor_close(cur);
	return rc;
}

static int outbox_figures(struct dnsd *s, struct store_txn *t, uint64_t *depth, uint64_t *age)
{
	struct store_cursor *c = NULL;
	struct store_val k, v;
	*age = 0;
	int rc = store_count(t, s->tb.outbox, depth);
	if (!rc)
		rc = store_cursor_open(t, s->tb.outbox, &c);
	if (!rc && store_cursor_first(c, &k, &v) == 0) {
		struct dnsd_entry en;
		if (dnsd_entry_decode(&k, &v, &en) == 0) {
			uint64_t now = wall_now_s();
			*age = now > en.created ? now - en.created : 0;
			dnsd_entry_clear(&en);
		}
	}
	store_cursor_close(c);
	return rc;
}

static int leaf(struct lyd_node *parent, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int leaf(struct lyd_node *parent, const char *name, const char *fmt, ...)
{
	char buf[NETD_ERR_MSG_MAX + 64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return lyd_new_term(parent, NULL, name, buf, 0, NULL) == LY_SUCCESS ? 0 : -ENOMEM;
}

static const char *const zone_states[] = { "idle", "ok", "retrying" };

static int state_zones(struct dnsd *s, struct lyd_node *top, const struct dnsd_conf *c, const uint64_t *per_zone)
{
	struct lyd_node *z;
	int rc = 0;
	LY_LIST_FOR(lyd_child(top), z) {
		if (!z->schema || strcmp(z->schema->name, "zone"))
			continue;
		struct lyd_node *kn = lyd_child(z);
		char name[DNS_REC_NAME_MAX];
		if (!kn || !dnsd_name_abs(lyd_get_value(kn), name))
			continue;
		struct dnsd_zone_status zs = { 0 };
		dnsd_zone_status_get(s, name, &zs);
		uint64_t n = 0;
		for (size_t i = 0; i < c->n_zones; i++)
			if (!strcmp(c->zones[i].zone.name, name))
				n = per_zone[i];
		rc = leaf(z, "state", "%s", zone_states[zs.state <= DNSD_ZONE_RETRYING ? zs.state : 0]);
		if (!rc && zs.last_error[0])
			rc = leaf(z, "last-error", "%s", zs.last_error);
		if (!rc && zs.server[0])
			rc = leaf(z, "server-in-use", "%s", zs.server);
		if (!rc)
			rc = leaf(z, "records", "%llu", (unsigned long long)n);
		if (rc)
			break;
	}
	return rc;
}

static int state_status(struct netd *d, struct store_txn *t, struct lyd_node *top, const struct dnsd_conf *c,
			const uint64_t counts[6])
{
	static const char *const names[6] = { "pending", "published", "verified", "error", "conflict", "drift" };
	struct lyd_node *st = NULL;
	char id[DNS_INSTALLATION_ID_MAX + 1], when[32];
	uint64_t depth = 0, age = 0;
	struct dnsd_check_result res;
	int rc = outbox_figures(d->dnsd, t, &depth, &age);
	if (!rc)
		rc = dnsd_installation_id(d, t, c, false, id);
	if (!rc)
		rc = dnsd_check_result_get(d, t, &res);
	if (!rc && lyd_new_inner(top, NULL, "status", 0, &st) != LY_SUCCESS)
		rc = -ENOMEM;
	if (!rc && id[0])
		rc = leaf(st, "installation-id", "%s", id);
	if (!rc)
		rc = leaf(st, "outbox-depth", "%llu", (unsigned long long)depth);
	if (!rc)
		rc = leaf(st, "outbox-oldest-age", "%llu", (unsigned long long)age);
	if (!rc && res.at) {
		dnsd_time_text(res.at, when, sizeof when);
		rc = leaf(st, "last-check", "%s", when);
	}
	if (!rc)
		rc = leaf(st, "last-check-id", "%llu", (unsigned long long)res.id);
	if (!rc && res.error[0])
		rc = leaf(st, "last-check-error", "%s", res.error);
	if (!rc && res.at) {
		rc = leaf(st, "last-check-verified", "%llu", (unsigned long long)res.verified);
		rc = rc ? rc : leaf(st, "last-check-missing", "%llu", (unsigned long long)res.missing);
		rc = rc ? rc : leaf(st, "last-check-extra", "%llu", (unsigned long long)res.extra);
		rc = rc ? rc : leaf(st, "last-check-conflict", "%llu", (unsigned long long)res.conflict);
	}
	for (int i = 0; i < 6 && !rc; i++)
		rc = leaf(st, names[i], "%llu", (unsigned long long)counts[i]);
	return rc;
}

/* One record-state entry.  A pending record of a zone that is retrying
 * says why: the zone's last error. */
static int state_record(struct dnsd *s, struct lyd_node *top, const struct dnsd_conf *c, const struct dnsd_rstate *st)
{
	struct lyd_node *e = NULL;
	int z = dnsd_conf_zone_of(c, st->rec.owner);
	if (lyd_new_list(top, NULL, "record-state", 0, &e, st->rec.owner, dns_rec_type_name(st->rec.type),
			 st->rec.data) != LY_SUCCESS)
		return -ENOMEM;
	int rc = z >= 0 ? leaf(e, "zone", "%s", c->zones[z].zone.name) : 0;
	if (!rc)
		rc = leaf(e, "node", "%s", strcmp(st->node, DNSD_STATIC_KEY) ? st->node : "");
	if (!rc)
		rc = leaf(e, "state", "%s", dns_rec_state_name(st->state));
	struct dnsd_zone_status zs;
	if (!rc && st->why[0])
		rc = leaf(e, "why", "%s", st->why);
	else if (!rc && st->state == DNS_STATE_PENDING && z >= 0 &&
		 dnsd_zone_status_get(s, c->zones[z].zone.name, &zs) && zs.state == DNSD_ZONE_RETRYING)
		rc = leaf(e, "why", "zone %s: %s", zs.name, zs.last_error);
	return rc;
}

static int state_records(struct dnsd *s, struct store_txn *t, struct lyd_node *top, const struct dnsd_conf *c)
{
	struct store_cursor *cur = NULL;
	struct store_val v;
	int rc = store_cursor_open(t, s->tb.rstate, &cur);
	for (int r = rc ? rc : store_cursor_first(cur, NULL, &v); !rc && r == 0; r = store_cursor_next(cur, NULL, &v)) {
		struct dnsd_rstate st;
		if ((rc = dnsd_rstate_decode(&v, &st)) == 0)
			rc = state_record(s, top, c, &st);
	}
	store_cursor_close(cur);
	return rc;
}

/* What a GET of /netd:dns/@one needs built. */
enum { PART_ZONES = 1, PART_STATUS = 2, PART_RECORDS = 4, PART_ALL = 7 };

static unsigned state_parts(const char *one)
{
	if (!one || !one[0])
		return PART_ALL;
	if (!strncmp(one, "netd:", 5))
		one += 5;
	if (!strcmp(one, "status"))
		return PART_STATUS;
	if (!strcmp(one, "zone"))
		return PART_ZONES;
	if (!strcmp(one, "record-state"))
		return PART_RECORDS;
	return PART_ALL;   /* not known here: everything, as for /netd:dns */
}

int dnsd_state_for(struct netd *d, struct store_txn *t, struct lyd_node *top, const char *one)
{
	struct dnsd *s = d->dnsd;
	struct dnsd_conf c = { 0 };
	struct netd_err e = { 0 };
	uint64_t counts[6] = { 0 }, *per_zone = NULL;
	unsigned parts = state_parts(one);
	if (!s)
		return 0;
	int rc = dnsd_conf_read(top, false, &c, &e);
	if (rc < 0) {
		log_warn("dns: the stored configuration does not read: %s at %s", e.msg, e.path);
		return 0;   /* the configuration is still shown; no states */
	}
	per_zone = calloc(c.n_zones ? c.n_zones : 1, sizeof *per_zone);
	if (!per_zone)
		rc = -ENOMEM;
	if (!rc && (parts & (PART_ZONES | PART_STATUS)))
		rc = rstate_counts(s, t, &c, counts, (parts & PART_ZONES) ? per_zone : NULL);
	if (!rc && (parts & PART_ZONES))
		rc = state_zones(s, top, &c, per_zone);
	if (!rc && (parts & PART_STATUS))
		rc = state_status(d, t, top, &c, counts);
	if (!rc && (parts & PART_RECORDS))
		rc = state_records(s, t, top, &c);
	free(per_zone);
	dnsd_conf_clear(&c);
	return rc;
}

int dnsd_state(struct netd *d, struct store_txn *t, struct lyd_node *top)
{
	return dnsd_state_for(d, t, top, NULL);
}

void dnsd_figures(struct netd *d, struct dnsd_figures *out)
{
	struct dnsd *s = d->dnsd;
	struct store_txn *t = NULL;
	memset(out, 0, sizeof *out);
	if (!s || store_read_begin(d->store, &t) < 0)
		return;
	rstate_counts(s, t, NULL, out->state, NULL);
	outbox_figures(s, t, &out->outbox_depth, &out->outbox_oldest_age_s);
	store_read_end(t);
	out->updates_sent = atomic_load_explicit(&s->updates_sent, memory_order_relaxed);
	out->update_failures = atomic_load_explicit(&s->update_failures, memory_order_relaxed);
}

int dnsd_node_status(struct netd *d, const char *node, uint64_t counts[6])
{
	struct dnsd *s = d->dnsd;
	struct store_txn *t = NULL;
	struct dns_recset set = { 0 };
	memset(counts, 0, 6 * sizeof *counts);
	if (!s)
		return NETD_ENOTFOUND;
	int rc = store_read_begin(d->store, &t);
	if (!rc)
		rc = dnsd_intent_get(&s->tb, t, node, &set);
	for (size_t i = 0; !rc && i < set.n; i++) {
		struct dnsd_rstate st;
		int r = dnsd_rstate_get(&s->tb, t, &set.v[i], &st);
		if (r == 0)
			counts[st.state]++;
		else if (r != NETD_ENOTFOUND)
			rc = r;
	}
	store_read_end(t);
	dns_recset_clear(&set);
	return rc;
}
