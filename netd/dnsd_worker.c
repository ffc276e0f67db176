/* netd/dnsd_worker.c — the DNS delivery worker: one thread (with helpers
 * for the zones of a stage or a verification) that takes the outbox to the
 * servers, verifies what it delivered and reconciles the
 * zones with the intent (contract in dnsd.h).
 *
 * A round:
 *   1. read the configuration (zones, keys — a secret-file is read here);
 *   2. unless backing off: deliver windows from the head of the outbox
 *      until it is empty or a delivery fails (the failure sets the
 *      backoff: 0.25 s doubling to 30 s, reset by any success);
 *   3. with an empty outbox, reconcile when asked (dns-check, a change of
 *      the configuration) or when check-interval has passed.
 * Store transactions are short and never span network I/O: a window is
 * read in one read transaction, delivered with none open, and retired
 * (entries deleted, states set) in one write transaction.
 *
 * The UPDATEs of a plan go out stage by stage; the messages of one stage
 * (one per zone) at once, one thread each (dns_deliver_stage()).
 *
 *   window:   read ──> plan ──> UPDATEs ──ok──> retire + published ──> query ──> verified / drift
 *                                  └──fail──> zone retrying, backoff (entries stay)
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

#define BACKOFF_MIN_MS 250u
#define BACKOFF_MAX_MS 30000u
#define ERRMSG_MAX NETD_ERR_MSG_MAX
#define DNSD_NOZONE_DRAIN_MS 1000u

struct work {
	struct dnsd *s;
	struct netd *d;
	struct dnsd_conf conf;          /* with keys */
	bool conf_ok;
	char conf_err[ERRMSG_MAX];
	char id[DNS_INSTALLATION_ID_MAX + 1];
	uint64_t check_req, check_done; /* durable dns-check counters, as read */
	uint64_t retry_at;              /* monotonic ms; 0 = not backing off */
	uint64_t backoff;               /* ms of the current backoff */
	uint64_t next_check;            /* monotonic ms of the periodic check; 0 = none */
	bool check_wanted;              /* after a configuration change */
	bool loaded;                    /* conf was read at least once */
	uint64_t drain_at;              /* no zones: when the outbox is drained next (0 = not set) */
};

static bool stopping(struct dnsd *s)
{
	pthread_mutex_lock(&s->mu);
	bool stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

/* ---- zone status ----------------------------------------------------------- */

/* Make the zones' status list match the configuration (kept by name). */
static void zones_sync(struct work *w)
{
	struct dnsd *s = w->s;
	struct dnsd_zone_status *nz = calloc(w->conf.n_zones ? w->conf.n_zones : 1, sizeof *nz);
	if (!nz)
		return;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < w->conf.n_zones; i++) {
		snprintf(nz[i].name, sizeof nz[i].name, "%s", w->conf.zones[i].zone.name);
		for (size_t j = 0; j < s->n_zst; j++)
			if (!strcmp(s->zst[j].name, nz[i].name))
				nz[i] = s->zst[j];
	}
	free(s->zst);
	s->zst = nz;
	s->n_zst = w->conf.n_zones;
	pthread_mutex_unlock(&s->mu);
}

static void zone_ok(struct work *w, size_t zi, const char *server)
{
	struct dnsd *s = w->s;
	pthread_mutex_lock(&s->mu);
	if (zi < s->n_zst) {
		s->zst[zi].state = DNSD_ZONE_OK;
		s->zst[zi].last_error[0] = '\0';
		s->zst[zi].backoff_ms = 0;
		if (server && server[0])
			snprintf(s->zst[zi].server, sizeof s->zst[zi].server, "%s", server);
	}
	pthread_mutex_unlock(&s->mu);
}

/* A delivery to zone @zi (SIZE_MAX: every zone) failed: retrying with the
 * backoff of this failure (@again: another zone's failure of the same
 * delivery set it already), which the worker waits for. */
static void zone_fail_more(struct work *w, size_t zi, const char *why, bool again)
{
	struct dnsd *s = w->s;
	/* one backoff: a failed zone holds the head window, so every zone waits */
	uint64_t backoff = w->backoff ? w->backoff * 2 : BACKOFF_MIN_MS;
	if (again && w->backoff)
		backoff = w->backoff;
	if (backoff > BACKOFF_MAX_MS)
		backoff = BACKOFF_MAX_MS;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n_zst; i++) {
		if (zi != SIZE_MAX && i != zi)
			continue;
		struct dnsd_zone_status *z = &s->zst[i];
		if (z->state != DNSD_ZONE_RETRYING || strcmp(z->last_error, why))
			log_warn("dns: zone %s: %s", z->name, why);
		z->state = DNSD_ZONE_RETRYING;
		snprintf(z->last_error, sizeof z->last_error, "%s", why);
		z->backoff_ms = backoff;
	}
	pthread_mutex_unlock(&s->mu);
	w->backoff = backoff;
	w->retry_at = loop_now_ms() + backoff;
}

static void zone_fail(struct work *w, size_t zi, const char *why)
{
	zone_fail_more(w, zi, why, false);
}

/* A window went through: whatever failed before is delivered now. */
static void zones_recovered(struct work *w)
{
	struct dnsd *s = w->s;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n_zst; i++)
		if (s->zst[i].state == DNSD_ZONE_RETRYING) {
			log_info("dns: zone %s: delivered again", s->zst[i].name);
			s->zst[i].state = DNSD_ZONE_OK;
			s->zst[i].last_error[0] = '\0';
			s->zst[i].backoff_ms = 0;
		}
	pthread_mutex_unlock(&s->mu);
	w->retry_at = 0;
	w->backoff = 0;
}

/* The size of zone @zi at its last transfer (0: not known). */
static size_t zone_rrs_get(struct work *w, size_t zi)
{
	size_t n = 0;
	pthread_mutex_lock(&w->s->mu);
	if (zi < w->s->n_zst)
		n = w->s->zst[zi].rrs;
	pthread_mutex_unlock(&w->s->mu);
	return n;
}

static void zone_rrs_set(struct work *w, size_t zi, size_t n)
{
	pthread_mutex_lock(&w->s->mu);
	if (zi < w->s->n_zst)
		w->s->zst[zi].rrs = n;
	pthread_mutex_unlock(&w->s->mu);
}

static const struct dns_server *zone_server(const struct work *w, size_t zi)
{
	struct dnsd_zone_status zs;
	const struct dns_zone_conf *z = &w->conf.zones[zi];
	if (dnsd_zone_status_get(w->s, z->zone.name, &zs))
		for (size_t i = 0; i < z->n_servers; i++)
			if (!strcmp(z->servers[i].text, zs.server))
				return &z->servers[i];
	return &z->servers[0];
}

/* ---- configuration ---------------------------------------------------------- */

/* The durable dns-check counters. */
static int counters_load(struct work *w)
{
	struct store_txn *t = NULL;
	int rc = store_read_begin(w->d->store, &t);
	if (!rc)
		rc = dnsd_meta_u64(w->d, t, DNSD_META_CHECK_REQ, &w->check_req);
	if (!rc)
		rc = dnsd_meta_u64(w->d, t, DNSD_META_CHECK_DONE, &w->check_done);
	store_read_end(t);
	return rc;
}

/* Read the configuration again?  At the first round, after a change of
 * the dns document, after a failure (a secret-file may have been
 * rotated), and until the store has an installation id. */
static bool conf_stale(const struct work *w, bool conf_changed)
{
	return conf_changed || !w->loaded || !w->conf_ok || w->retry_at || !w->id[0];
}

static int conf_load(struct work *w)
{
	struct store_txn *t = NULL;
	struct lyd_node *top = NULL;
	struct netd_err e = { 0 };
	int rc = store_read_begin(w->d->store, &t);
	if (rc < 0)
		return rc;
	rc = ops_doc_load(w->d, t, OPS_DOC_DNS, &top);
	char stored_id[DNS_INSTALLATION_ID_MAX + 1] = "";
	if (!rc)
		rc = dnsd_installation_id(w->d, t, NULL, false, stored_id);
	store_read_end(t);
	if (rc < 0) {
		lyd_free_all(top);
		return rc;
	}
	dnsd_conf_clear(&w->conf);
	/* keys are read (secret-file) with no transaction open */
	rc = dnsd_conf_read(top, true, &w->conf, &e);
	lyd_free_all(top);
	w->loaded = true;
	w->conf_ok = rc == 0;
	snprintf(w->conf_err, sizeof w->conf_err, "%.300s%s%.200s", e.msg, e.path[0] ? " at " : "", e.path);
	if (rc < 0) {
		w->conf = (struct dnsd_conf){ 0 };
		return 0;
	}
	snprintf(w->id, sizeof w->id, "%s", w->conf.installation_id[0] ? w->conf.installation_id : stored_id);
	zones_sync(w);
	return 0;
}

/* ---- windows ------------------------------------------------------------------ */

struct window {
	struct dnsd_entry *en;
	size_t n, cap;
	struct dns_recset old, new_;   /* per node: old of its first entry, new of its last */
};

static void window_clear(struct window *win)
{
	for (size_t i = 0; i < win->n; i++)
		dnsd_entry_clear(&win->en[i]);
	free(win->en);
	dns_recset_clear(&win->old);
	dns_recset_clear(&win->new_);
	memset(win, 0, sizeof *win);
}

/* Entries from the head: at least DNSD_WINDOW_RECORDS records, ending at
 * a transaction's last entry (a rename's pair is never cut apart). */
static int window_read(struct work *w, struct window *win)
{
	struct store_txn *t = NULL;
	struct store_cursor *c = NULL;
	struct store_val k, v;
	size_t records = 0;
	int rc = store_read_begin(w->d->store, &t);
	if (!rc)
		rc = store_cursor_open(t, w->s->tb.outbox, &c);
	for (int r = rc ? rc : store_cursor_first(c, &k, &v); !rc && r == 0; r = store_cursor_next(c, &k, &v)) {
		if (win->n == win->cap) {
			size_t cap = win->cap ? win->cap * 2 : 64;
			struct dnsd_entry *nv = realloc(win->en, cap * sizeof *nv);
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			win->en = nv;
			win->cap = cap;
		}
		if ((rc = dnsd_entry_decode(&k, &v, &win->en[win->n])) < 0) {
			log_err("dns: outbox entry does not decode: %s", netd_strerror(rc));
			break;
		}
		const struct dnsd_entry *en = &win->en[win->n++];
		records += en->old.n + en->new_.n;
		if (!(en->flags & DNSD_ENTRY_MORE) && records >= DNSD_WINDOW_RECORDS)
			break;
	}
	store_cursor_close(c);
	store_read_end(t);
	return rc;
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct dnsd_entry *a = *(const struct dnsd_entry *const *)pa, *b = *(const struct dnsd_entry *const *)pb;
	int c = strcmp(a->node, b->node);
	return c ? c : (a->seq < b->seq ? -1 : a->seq > b->seq);
}

/* Per node: the old set of its first entry, the new set of its last. */
static int window_combine(struct window *win)
{
	const struct dnsd_entry **idx = calloc(win->n ? win->n : 1, sizeof *idx);
	int rc = idx ? 0 : -ENOMEM;
	for (size_t i = 0; i < win->n && !rc; i++)
		idx[i] = &win->en[i];
	if (!rc)
		qsort(idx, win->n, sizeof *idx, entry_cmp);
	for (size_t i = 0; i < win->n && !rc;) {
		size_t j = i;
		while (j + 1 < win->n && !strcmp(idx[j + 1]->node, idx[i]->node))
			j++;
		rc = dns_recset_add_all(&win->old, &idx[i]->old);
		if (!rc)
			rc = dns_recset_add_all(&win->new_, &idx[j]->new_);
		i = j + 1;
	}
	free(idx);
	dns_recset_sort(&win->old);
	dns_recset_sort(&win->new_);
	return rc;
}

/* ---- delivering a plan ----------------------------------------------------------- */

/* Deliver @p stage by stage (a later stage never before an earlier one;
 * the messages of one stage, one per zone, at once: dns_deliver_stage()),
 * noting each zone's server.  0, or the first failure (its zone and every
 * other zone that failed in the same stage marked). */
static int plan_deliver(struct work *w, const struct dns_plan *p, struct dns_deliver_report *rep)
{
	struct dns_deliver_job *jobs = calloc(w->conf.n_zones ? w->conf.n_zones : 1, sizeof *jobs);
	int rc = jobs ? 0 : -ENOMEM;
	for (size_t i = 0; i < p->n_msg && !rc;) {
		size_t n = 0;
		for (; i + n < p->n_msg && p->msg[i + n].stage == p->msg[i].stage && n < w->conf.n_zones; n++) {
			jobs[n].m = &p->msg[i + n];
			jobs[n].z = &w->conf.zones[p->msg[i + n].zone];
		}
		rc = dns_deliver_stage(jobs, n, rep);
		bool failed = false;
		for (size_t j = 0; j < n; j++) {
			size_t zi = jobs[j].m->zone;
			atomic_fetch_add_explicit(&w->s->updates_sent, jobs[j].updates, memory_order_relaxed);
			if (!jobs[j].ran)
				continue;
			if (jobs[j].rc < 0) {
				atomic_fetch_add_explicit(&w->s->update_failures, 1, memory_order_relaxed);
				zone_fail_more(w, zi, jobs[j].e.msg[0] ? jobs[j].e.msg : netd_strerror(jobs[j].rc),
					       failed);
				failed = true;
			} else {
				zone_ok(w, zi, jobs[j].server);
			}
		}
		i += n;
	}
	free(jobs);
	return rc;
}

/* Conflicts by group, a group's FOREIGN one first (sorted before use). */
static int conflict_cmp(const void *pa, const void *pb)
{
	const struct dns_conflict *a = pa, *b = pb;
	int c = strcmp(a->group, b->group);
	return c ? c : (a->kind < b->kind ? -1 : a->kind > b->kind);
}

/* The conflict of the group of @owner (its name without "_netd."), the
 * FOREIGN one if there is one, or NULL. */
static const struct dns_conflict *conflict_of(const struct dns_deliver_report *rep, const char *owner)
{
	const char *g = !strncmp(owner, DNS_OWNER_LABEL ".", sizeof DNS_OWNER_LABEL) ? owner + sizeof DNS_OWNER_LABEL
										     : owner;
	size_t lo = 0, hi = rep->n_conflicts;
	while (lo < hi) {   /* the first entry of the group */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(rep->conflicts[mid].group, g) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < rep->n_conflicts && !strcmp(rep->conflicts[lo].group, g) ? &rep->conflicts[lo] : NULL;
}

#define ANY_STATE 0x3fu
#define FROM(s) (1u << (s))

/* The state a delivered record of @rep moves to (published, conflict, or
 * pending when withheld), with why.  Records in no zone: error. */
static unsigned delivered_state(const struct work *w, const struct dns_deliver_report *rep, const struct dns_rec *r,
				char *why, size_t len, unsigned *from)
{
	const struct dns_conflict *c = conflict_of(rep, r->owner);
	why[0] = '\0';
	*from = FROM(DNS_STATE_PENDING);
	if (dnsd_conf_zone_of(&w->conf, r->owner) < 0) {
		snprintf(why, len, "no configured zone contains %s", r->owner);
		return DNS_STATE_ERROR;
	}
	if (c && c->kind == DNS_CONFLICT_FOREIGN) {
		snprintf(why, len, "%s", c->why);
		*from = ANY_STATE;
		return DNS_STATE_CONFLICT;
	}
	if (c) {
		snprintf(why, len, "withheld: %s", c->why);
		return DNS_STATE_PENDING;
	}
	return DNS_STATE_PUBLISHED;
}

struct retire {
	struct work *w;
	const struct window *win;
	const struct dns_deliver_report *rep;
	const char *fail;               /* not delivered, dropped: pending records go to error */
	struct dns_recset *published;   /* out: records now published (to verify) */
	uint64_t now;
};

static int retire_fn(struct store_txn *t, void *arg)
{
	struct retire *x = arg;
	const struct dnsd_tables *tb = &x->w->s->tb;
	int rc = 0;
	dns_recset_clear(x->published);   /* the store may run this again */
	for (size_t i = 0; i < x->win->n && !rc; i++) {
		uint8_t key[8];
		dnsd_seq_key(x->win->en[i].seq, key);
		rc = store_del(t, tb->outbox, key, sizeof key);
		rc = rc == NETD_ENOTFOUND ? 0 : rc;
	}
	for (size_t i = 0; i < x->win->new_.n && !rc; i++) {
		const struct dns_rec *r = &x->win->new_.v[i];
		char why[NETD_ERR_MSG_MAX];
		unsigned from = FROM(DNS_STATE_PENDING);
		unsigned to = DNS_STATE_ERROR;
		if (x->fail)
			snprintf(why, sizeof why, "%s", x->fail);
		else
			to = delivered_state(x->w, x->rep, r, why, sizeof why, &from);
		bool changed = false;
		rc = dnsd_rstate_move(tb, t, r, from, to, why, x->now, &changed);
		if (!rc && changed && to == DNS_STATE_PUBLISHED)
			rc = dns_recset_add(x->published, r);
	}
	return rc;
}

/* ---- verification ------------------------------------------------------------------ */

struct verdicts {
	struct work *w;
	const struct dns_recset *recs;    /* published records, sorted */
	const signed char *present;       /* per record: 1 seen, 0 missing, -1 no answer */
	uint64_t now;
};

static int verdict_fn(struct store_txn *t, void *arg)
{
	struct verdicts *v = arg;
	int rc = 0;
	for (size_t i = 0; i < v->recs->n && !rc; i++) {
		if (v->present[i] < 0)
			continue;
		rc = dnsd_rstate_move(&v->w->s->tb, t, &v->recs->v[i], FROM(DNS_STATE_PUBLISHED),
				      v->present[i] ? DNS_STATE_VERIFIED : DNS_STATE_DRIFT,
				      v->present[i] ? "" : "the server does not show it after acknowledging its update",
				      v->now, NULL);
	}
	return rc;
}

static int item_cmp(const void *pa, const void *pb)
{
	const struct dns_query_item *a = pa, *b = pb;
	int c = strcmp(a->owner, b->owner);
	return c ? c : (a->type < b->type ? -1 : a->type > b->type);
}

/* Look the records of zone @zi up one query per (owner, type). */
static void verify_by_query(struct work *w, size_t zi, const struct dns_recset *recs, const int *zix,
			    signed char *present)
{
	struct dns_query_item *items = calloc(recs->n ? recs->n : 1, sizeof *items);
	struct dns_answer *answers = NULL;
	size_t n = 0;
	struct netd_err e = { 0 };
	if (!items)
		return;
	/* recs is sorted by owner, type: the items come out sorted and unique */
	for (size_t i = 0; i < recs->n; i++)
		if (zix[i] == (int)zi &&
		    (n == 0 || strcmp(items[n - 1].owner, recs->v[i].owner) || items[n - 1].type != recs->v[i].type)) {
			snprintf(items[n].owner, sizeof items[n].owner, "%s", recs->v[i].owner);
			items[n++].type = recs->v[i].type;
		}
	answers = calloc(n ? n : 1, sizeof *answers);
	if (!answers || n == 0)
		goto out;
	const struct dns_zone_conf *z = &w->conf.zones[zi];
	if (dns_query_batch(zone_server(w, zi), items, n, 0, z->timeout_ms, answers, &e) < 0) {
		log_warn("dns: zone %s: verification queries failed: %s", z->zone.name, e.msg);
		goto out;
	}
	for (size_t j = 0; j < n; j++)
		dns_recset_sort(&answers[j].rrs);
	for (size_t i = 0; i < recs->n; i++) {
		if (zix[i] != (int)zi)
			continue;
		struct dns_query_item key = { .type = recs->v[i].type };
		snprintf(key.owner, sizeof key.owner, "%s", recs->v[i].owner);
		const struct dns_query_item *it = bsearch(&key, items, n, sizeof key, item_cmp);
		const struct dns_answer *a = it ? &answers[it - items] : NULL;
		if (!a || a->rcode < 0)
			continue;   /* no answer: stays published, the next check judges it */
		present[i] = dns_recset_find(&a->rrs, &recs->v[i]) != NULL;
	}
out:
	for (size_t j = 0; answers && j < n; j++)
		dns_answer_clear(&answers[j]);
	free(answers);
	free(items);
}

/* Look the records of zone @zi up in one transfer of the zone. */
static void verify_by_axfr(struct work *w, size_t zi, const struct dns_recset *recs, const int *zix,
			   signed char *present)
{
	const struct dns_zone_conf *z = &w->conf.zones[zi];
	struct dns_recset actual = { 0 };
	struct netd_err e = { 0 };
	size_t n_other = 0;
	if (dns_axfr(zone_server(w, zi), z->zone.name, z->has_key ? &z->key : NULL, z->timeout_ms, &actual, &n_other,
		     NULL, &e) < 0) {
		log_warn("dns: zone %s: verification transfer failed: %s", z->zone.name, e.msg);
		return;
	}
	zone_rrs_set(w, zi, actual.n + n_other);
	for (size_t i = 0; i < recs->n; i++)
		if (zix[i] == (int)zi)
			present[i] = dns_recset_find(&actual, &recs->v[i]) != NULL;
	dns_recset_clear(&actual);
}

struct verify_zone {
	struct work *w;
	size_t zi;
	const struct dns_recset *recs;
	const int *zix;
	size_t n;                 /* records of the zone in recs */
	signed char *present;     /* only the zone's entries are written */
	pthread_t thread;
	bool started;
};

static void *verify_zone_run(void *arg)
{
	struct verify_zone *v = arg;
	if (v->n >= DNSD_VERIFY_AXFR_MIN && v->n * 8 >= zone_rrs_get(v->w, v->zi))
		verify_by_axfr(v->w, v->zi, v->recs, v->zix, v->present);
	else
		verify_by_query(v->w, v->zi, v->recs, v->zix, v->present);
	return NULL;
}

/* Verify each zone with records in @recs, the zones at once (one thread
 * each, the first on this one): each writes only its records' @present. */
static void verify_zones(struct work *w, const struct dns_recset *recs, const int *zix, const size_t *per_zone,
			 signed char *present)
{
	struct verify_zone *v = calloc(w->conf.n_zones ? w->conf.n_zones : 1, sizeof *v);
	size_t n = 0;
	if (!v)
		return;   /* nothing verified: a check judges them */
	for (size_t zi = 0; zi < w->conf.n_zones; zi++)
		if (per_zone[zi])
			v[n++] = (struct verify_zone){ .w = w, .zi = zi, .recs = recs, .zix = zix, .n = per_zone[zi],
						       .present = present };
	for (size_t i = 1; i < n; i++)
		v[i].started = pthread_create(&v[i].thread, NULL, verify_zone_run, &v[i]) == 0;
	for (size_t i = 0; i < n; i++)
		if (!v[i].started)
			verify_zone_run(&v[i]);
	for (size_t i = 1; i < n; i++)
		if (v[i].started)
			pthread_join(v[i].thread, NULL);
	free(v);
}

/* Query what was just published; the answers make records verified or
 * drift.  Many records of one zone are verified by one transfer of the
 * zone instead of a query per name: beyond DNSD_VERIFY_AXFR_MIN names,
 * when the zone (as last transferred) is not much bigger than the change.
 * Records that got no answer stay published: a check is asked for, which
 * judges them once the outbox is empty. */
static void verify(struct work *w, struct dns_recset *recs)
{
	if (recs->n == 0)
		return;
	dns_recset_sort(recs);
	signed char *present = malloc(recs->n);
	int *zix = calloc(recs->n, sizeof *zix);
	size_t *per_zone = calloc(w->conf.n_zones ? w->conf.n_zones : 1, sizeof *per_zone);
	if (!present || !zix || !per_zone)
		goto out;
	memset(present, -1, recs->n);
	for (size_t i = 0; i < recs->n; i++)
		if ((zix[i] = dnsd_conf_zone_of(&w->conf, recs->v[i].owner)) >= 0)
			per_zone[zix[i]]++;
	verify_zones(w, recs, zix, per_zone, present);
	for (size_t i = 0; i < recs->n; i++)
		if (present[i] < 0)
			w->check_wanted = true;
	struct verdicts v = { .w = w, .recs = recs, .present = present, .now = wall_now_s() };
	int rc = store_update(w->d->store, verdict_fn, &v);
	if (rc < 0)
		log_err("dns: recording verification: %s", netd_strerror(rc));
out:
	free(present);
	free(zix);
	free(per_zone);
}

/* ---- one window ---------------------------------------------------------------------- */

/* A window that cannot be planned (it would put a CNAME next to other data:
 * the checks in the transaction should have refused it): its records go to
 * error and its entries are dropped, or the outbox would be stuck on it. */
static int window_unplannable(struct work *w, struct window *win, const char *why)
{
	struct dns_deliver_report none = { 0 };
	struct dns_recset published = { 0 };
	char msg[NETD_ERR_MSG_MAX];
	log_err("dns: outbox entries %llu..%llu cannot be planned, dropped: %s",
		(unsigned long long)win->en[0].seq, (unsigned long long)win->en[win->n - 1].seq, why);
	snprintf(msg, sizeof msg, "cannot be published: %.480s", why);
	struct retire x = { .w = w, .win = win, .rep = &none, .fail = msg, .published = &published,
			    .now = wall_now_s() };
	int rc = store_update(w->d->store, retire_fn, &x);
	dns_recset_clear(&published);
	return rc;
}

/* 1 when the outbox is empty, 0 when a window went out, <0 on failure. */
static int deliver_window(struct work *w)
{
	struct window win = { 0 };
	struct dns_plan plan = { 0 };
	struct dns_deliver_report rep = { 0 };
	struct dns_recset published = { 0 };
	struct netd_err e = { 0 };
	uint64_t t0 = loop_now_ms(), t1 = t0, t2 = t0, t3 = t0;
	int rc = window_read(w, &win);
	if (!rc && win.n == 0)
		rc = 1;
	if (!rc)
		rc = window_combine(&win);
	if (!rc) {
		t1 = loop_now_ms();
		rc = dns_plan(&win.old, &win.new_, w->conf.znames, w->conf.n_zones, &plan, &e);
		if (rc == NETD_EINVAL) {
			rc = window_unplannable(w, &win, e.msg);
			goto out;
		}
	}
	if (!rc) {
		t2 = loop_now_ms();
		rc = plan_deliver(w, &plan, &rep);
	}
	if (rc == 0) {
		t3 = loop_now_ms();
		if (rep.n_conflicts > 1)
			qsort(rep.conflicts, rep.n_conflicts, sizeof *rep.conflicts, conflict_cmp);
		struct retire x = { .w = w, .win = &win, .rep = &rep, .published = &published, .now = wall_now_s() };
		rc = store_update(w->d->store, retire_fn, &x);
		if (rc == 0) {
			uint64_t t4 = loop_now_ms();
			for (size_t i = 0; i < rep.n_conflicts; i++)
				log_warn("dns: %s", rep.conflicts[i].why);
			zones_recovered(w);
			verify(w, &published);
			log_debug("dns: delivered outbox %llu..%llu (%zu entries, %zu -> %zu records, %u updates, %zu "
				  "bytes, %zu conflicts): read %llu ms, plan %llu ms, updates %llu ms, retire %llu ms, "
				  "verify %llu ms", (unsigned long long)win.en[0].seq,
				  (unsigned long long)win.en[win.n - 1].seq, win.n, win.old.n, win.new_.n, rep.updates,
				  rep.bytes, rep.n_conflicts, (unsigned long long)(t1 - t0),
				  (unsigned long long)(t2 - t1), (unsigned long long)(t3 - t2),
				  (unsigned long long)(t4 - t3), (unsigned long long)(loop_now_ms() - t4));
		}
	}
out:
	dns_recset_clear(&published);
	dns_deliver_report_clear(&rep);
	dns_plan_clear(&plan);
	window_clear(&win);
	return rc;
}

/* ---- reconciliation --------------------------------------------------------------------- */

struct zcheck {
	bool ok;                      /* transferred and compared */
	struct dns_recset intended;   /* the intent in this zone, sorted */
	struct dns_diff diff;
};

struct check {
	struct work *w;
	struct zcheck *z;
	struct dns_recset unzoned;    /* intended records in no zone */
	struct dns_deliver_report rep;
	bool repaired;                /* the repair plan went out */
	struct dnsd_check_result res;
	struct dns_recset published;  /* out: repaired records, to verify */
};

static void check_clear(struct check *c)
{
	for (size_t i = 0; c->z && i < c->w->conf.n_zones; i++) {
		dns_recset_clear(&c->z[i].intended);
		dns_diff_clear(&c->z[i].diff);
	}
	free(c->z);
	dns_recset_clear(&c->unzoned);
	dns_recset_clear(&c->published);
	dns_deliver_report_clear(&c->rep);
}

static void check_error(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check_error(struct check *c, const char *fmt, ...)
{
	char msg[ERRMSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t n = strlen(c->res.error);
	snprintf(c->res.error + n, sizeof c->res.error - n, "%s%s", n ? "; " : "", msg);
}

/* The intent by zone, if the outbox is empty (else 1: deliver first). */
static int check_read(struct check *c)
{
	struct store_txn *t = NULL;
	struct dns_recset all = { 0 };
	uint64_t depth = 0;
	int rc = store_read_begin(c->w->d->store, &t);
	if (!rc)
		rc = store_count(t, c->w->s->tb.outbox, &depth);
	if (!rc && depth == 0)
		rc = dnsd_intent_all(c->w->s, t, &all);
	if (!rc)
		rc = dnsd_meta_u64(c->w->d, t, DNSD_META_CHECK_REQ, &c->res.id);
	store_read_end(t);
	if (!rc && depth)
		rc = 1;
	for (size_t i = 0; i < all.n && !rc; i++) {
		int zi = dnsd_conf_zone_of(&c->w->conf, all.v[i].owner);
		rc = dns_recset_add(zi < 0 ? &c->unzoned : &c->z[zi].intended, &all.v[i]);
	}
	for (size_t i = 0; i < c->w->conf.n_zones; i++)
		dns_recset_sort(&c->z[i].intended);
	dns_recset_clear(&all);
	return rc;
}

/* AXFR zone @zi (failing over between its servers) and compare. */
static void check_zone(struct check *c, size_t zi)
{
	const struct dns_zone_conf *z = &c->w->conf.zones[zi];
	struct dns_recset actual = { 0 };
	struct netd_err e = { 0 };
	int rc = -EIO;
	for (size_t i = 0; i < z->n_servers && rc < 0; i++) {
		size_t n_other = 0;
		netd_err_clear(&e);
		dns_recset_clear(&actual);
		rc = dns_axfr(&z->servers[i], z->zone.name, z->has_key ? &z->key : NULL, z->timeout_ms, &actual,
			      &n_other, NULL, &e);
	}
	if (rc == 0) {
		zone_rrs_set(c->w, zi, actual.n);
		rc = dns_compare(&c->z[zi].intended, &actual, z->zone.name, c->w->id, &c->z[zi].diff, &e);
	}
	dns_recset_clear(&actual);
	if (rc < 0) {
		check_error(c, "zone %s: %s", z->zone.name, e.msg[0] ? e.msg : netd_strerror(rc));
		return;
	}
	const struct dns_diff *d = &c->z[zi].diff;
	c->z[zi].ok = true;
	c->res.verified += d->verified;
	c->res.missing += d->missing.n;
	c->res.extra += d->extra.n;
	c->res.conflict += d->conflicts;
}

/* Repair the compared zones: what netd holds there now (intended and
 * present, plus extra) -> the intent; names held by others left alone. */
static int check_repair(struct check *c)
{
	struct dns_recset old = { 0 }, new_ = { 0 };
	struct dns_plan plan = { 0 };
	struct netd_err e = { 0 };
	int rc = 0;
	bool work = false;
	for (size_t zi = 0; zi < c->w->conf.n_zones && !rc; zi++) {
		const struct zcheck *z = &c->z[zi];
		if (!z->ok)
			continue;
		work |= z->diff.missing.n || z->diff.extra.n;
		for (size_t i = 0; i < z->intended.n && !rc; i++) {
			unsigned st = dns_diff_state(&z->diff, &z->intended.v[i]);
			if (st == DNS_STATE_CONFLICT)
				continue;
			rc = dns_recset_add(&new_, &z->intended.v[i]);
			if (!rc && st == DNS_STATE_VERIFIED)
				rc = dns_recset_add(&old, &z->intended.v[i]);
		}
		if (!rc)
			rc = dns_recset_add_all(&old, &z->diff.extra);
	}
	if (!rc && work) {
		rc = dns_plan(&old, &new_, c->w->conf.znames, c->w->conf.n_zones, &plan, &e);
		if (rc < 0)
			check_error(c, "repair: %s", e.msg[0] ? e.msg : netd_strerror(rc));
		else if ((rc = plan_deliver(c->w, &plan, &c->rep)) < 0)
			check_error(c, "repair not delivered (will retry at the next check)");
		else
			c->repaired = true;
		if (c->rep.n_conflicts > 1)
			qsort(c->rep.conflicts, c->rep.n_conflicts, sizeof *c->rep.conflicts, conflict_cmp);
	}
	dns_plan_clear(&plan);
	dns_recset_clear(&old);
	dns_recset_clear(&new_);
	return rc == -ENOMEM ? rc : 0;
}

/* Why an intended record at a name held by others is in conflict. */
static void foreign_why(const struct dns_diff *d, const struct dns_rec *r, char *why, size_t len)
{
	for (size_t i = 0; i < d->foreign.n; i++)
		if (!strcmp(d->foreign.v[i].owner, r->owner)) {
			snprintf(why, len, "%.254s holds %s %.160s, not netd's (no ownership record): left alone", r->owner,
				 dns_rec_type_name(d->foreign.v[i].type), d->foreign.v[i].data);
			return;
		}
	snprintf(why, len, "%s holds records netd does not own: left alone", r->owner);
}

/* The state the check gives intended record @r of zone @z. */
static unsigned checked_state(const struct check *c, const struct zcheck *z, const struct dns_rec *r, char *why,
			      size_t len)
{
	why[0] = '\0';
	switch (dns_diff_state(&z->diff, r)) {
	case DNS_STATE_CONFLICT:
		foreign_why(&z->diff, r, why, len);
		return DNS_STATE_CONFLICT;
	case DNS_STATE_DRIFT: {
		const struct dns_conflict *cf = conflict_of(&c->rep, r->owner);
		if (cf && cf->kind == DNS_CONFLICT_FOREIGN) {
			snprintf(why, len, "%s", cf->why);
			return DNS_STATE_CONFLICT;
		}
		if (c->repaired && !cf) {
			char when[32];
			dnsd_time_text(c->res.at, when, sizeof when);
			snprintf(why, len, "was missing on the server at the check of %s; repaired", when);
			return DNS_STATE_PUBLISHED;
		}
		snprintf(why, len, "missing on the server (found by the check)");
		return DNS_STATE_DRIFT;
	}
	default:
		return DNS_STATE_VERIFIED;
	}
}

/* Node keys with entries in the outbox now: their states belong to the
 * deliveries, not to this check's snapshot. */
static int busy_keys(struct store_txn *t, const struct dnsd_tables *tb, char (**out)[MODEL_NAME_MAX], size_t *n)
{
	struct store_cursor *c = NULL;
	struct store_val k, v;
	size_t cap = 0;
	int rc = store_cursor_open(t, tb->outbox, &c);
	for (int r = rc ? rc : store_cursor_first(c, &k, &v); !rc && r == 0; r = store_cursor_next(c, &k, &v)) {
		struct dnsd_entry en;
		if ((rc = dnsd_entry_decode(&k, &v, &en)) < 0)
			break;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			void *nv = realloc(*out, cap * sizeof **out);
			if (!nv) {
				dnsd_entry_clear(&en);
				rc = -ENOMEM;
				break;
			}
			*out = nv;
		}
		snprintf((*out)[(*n)++], MODEL_NAME_MAX, "%s", en.node);
		dnsd_entry_clear(&en);
	}
	store_cursor_close(c);
	return rc;
}

static bool key_busy(char (*keys)[MODEL_NAME_MAX], size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i], key))
			return true;
	return false;
}

static int check_record(struct store_txn *t, struct check *c, const struct dns_rec *r, unsigned to, const char *why,
			char (*busy)[MODEL_NAME_MAX], size_t n_busy)
{
	struct dnsd_rstate st;
	int rc = dnsd_rstate_get(&c->w->s->tb, t, r, &st);
	if (rc == NETD_ENOTFOUND || (rc == 0 && key_busy(busy, n_busy, st.node)))
		return 0;
	bool changed = false;
	if (rc == 0)
		rc = dnsd_rstate_move(&c->w->s->tb, t, r, ANY_STATE, to, why, c->res.at, &changed);
	if (rc == 0 && to == DNS_STATE_PUBLISHED && changed)
		rc = dns_recset_add(&c->published, r);
	return rc;
}

static int check_fn(struct store_txn *t, void *arg)
{
	struct check *c = arg;
	char (*busy)[MODEL_NAME_MAX] = NULL;
	size_t n_busy = 0;
	dns_recset_clear(&c->published);   /* the store may run this again */
	int rc = busy_keys(t, &c->w->s->tb, &busy, &n_busy);
	for (size_t zi = 0; c->z && zi < c->w->conf.n_zones && !rc; zi++) {
		const struct zcheck *z = &c->z[zi];
		for (size_t i = 0; z->ok && i < z->intended.n && !rc; i++) {
			char why[NETD_ERR_MSG_MAX];
			unsigned to = checked_state(c, z, &z->intended.v[i], why, sizeof why);
			rc = check_record(t, c, &z->intended.v[i], to, why, busy, n_busy);
		}
	}
	for (size_t i = 0; i < c->unzoned.n && !rc; i++) {
		char why[NETD_ERR_MSG_MAX];
		snprintf(why, sizeof why, "no configured zone contains %s", c->unzoned.v[i].owner);
		rc = check_record(t, c, &c->unzoned.v[i], DNS_STATE_ERROR, why, busy, n_busy);
	}
	if (!rc)
		rc = dnsd_meta_put_u64(c->w->d, t, DNSD_META_CHECK_DONE, c->res.id);
	if (!rc)
		rc = dnsd_check_result_put(c->w->d, t, &c->res);
	free(busy);
	return rc;
}

/* Record a check that could not run (the id still advances). */
static void check_failed(struct work *w, const char *why)
{
	struct check c = { .w = w, .res = { .at = wall_now_s(), .id = w->check_req } };
	check_error(&c, "%s", why);
	int rc = store_update(w->d->store, check_fn, &c);
	if (rc < 0)
		log_err("dns: recording the check: %s", netd_strerror(rc));
	check_clear(&c);
}

/* 0 done, 1 deferred (the outbox is not empty), <0 failed. */
static int reconcile(struct work *w)
{
	struct check c = { .w = w, .res = { .at = wall_now_s() } };
	c.z = calloc(w->conf.n_zones ? w->conf.n_zones : 1, sizeof *c.z);
	int rc = c.z ? check_read(&c) : -ENOMEM;
	if (rc)
		goto out;
	if (w->conf.n_zones == 0)
		check_error(&c, "no zone is configured under /netd:dns/zone");
	for (size_t zi = 0; zi < w->conf.n_zones && !stopping(w->s); zi++)
		check_zone(&c, zi);
	if ((rc = check_repair(&c)) < 0)
		goto out;
	rc = store_update(w->d->store, check_fn, &c);
	if (rc == 0) {
		log_info("dns: check %llu: %llu verified, %llu missing, %llu extra, %llu in conflict%s%s",
			 (unsigned long long)c.res.id, (unsigned long long)c.res.verified,
			 (unsigned long long)c.res.missing, (unsigned long long)c.res.extra,
			 (unsigned long long)c.res.conflict, c.res.error[0] ? "; " : "", c.res.error);
		verify(w, &c.published);
	}
out:
	if (rc < 0)
		log_err("dns: check failed: %s", netd_strerror(rc));
	check_clear(&c);
	return rc;
}

/* ---- the thread --------------------------------------------------------------------------- */

/* Without zones nothing is sent, but the outbox is still emptied (each
 * record noted as in no zone): in batches, at most once per
 * DNSD_NOZONE_DRAIN_MS, so an installation without DNS servers does not
 * pay a write transaction per edit.  True when it is not time yet. */
static bool drain_later(struct work *w, bool conf_changed, uint64_t now)
{
	if (w->conf.n_zones || conf_changed) {
		w->drain_at = 0;
		return false;
	}
	if (!w->drain_at)
		w->drain_at = now + DNSD_NOZONE_DRAIN_MS;
	if (now < w->drain_at)
		return true;
	w->drain_at = 0;
	return false;
}

static void round_run(struct work *w, bool conf_changed)
{
	uint64_t now = loop_now_ms();
	int rc = counters_load(w);
	if (!rc && conf_stale(w, conf_changed))
		rc = conf_load(w);
	if (rc < 0) {
		log_err("dns: reading the configuration: %s", netd_strerror(rc));
		w->retry_at = now + BACKOFF_MAX_MS;
		return;
	}
	if (conf_changed) {
		w->retry_at = 0;
		w->backoff = 0;
		w->check_wanted = true;   /* zones may have come or gone */
		w->next_check = w->conf.check_interval ? now + 1000ull * w->conf.check_interval : 0;
	}
	if (!w->conf_ok) {
		zone_fail(w, SIZE_MAX, w->conf_err);
		if (w->check_req > w->check_done)
			check_failed(w, w->conf_err);
		return;
	}
	if ((w->retry_at && now < w->retry_at) || drain_later(w, conf_changed, now))
		return;
	while (!stopping(w->s) && (rc = deliver_window(w)) == 0)
		;
	if (rc != 1)
		return;   /* failed (backing off) or stopping */
	bool periodic = w->next_check && now >= w->next_check;
	if (!(w->check_req > w->check_done || w->check_wanted || periodic))
		return;
	if (reconcile(w) == 0) {
		w->check_wanted = false;
		w->next_check = w->conf.check_interval ? loop_now_ms() + 1000ull * w->conf.check_interval : 0;
	}
}

/* When the worker must run next by itself (0: only when woken). */
static uint64_t next_wake(const struct work *w)
{
	uint64_t at = w->retry_at;
	if (w->next_check && (!at || w->next_check < at))
		at = w->next_check;
	if (w->drain_at && (!at || w->drain_at < at))
		at = w->drain_at;
	return at;
}

static void wait_for_work(struct dnsd *s, uint64_t at)
{
	while (!s->stop && !s->kick && !s->conf_changed) {
		if (!at) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		if (loop_now_ms() >= at)
			return;
		struct timespec ts = { .tv_sec = (time_t)(at / 1000), .tv_nsec = (long)(at % 1000) * 1000000L };
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
}

void *dnsd_worker_main(void *arg)
{
	struct dnsd *s = arg;
	struct work w = { .s = s, .d = s->d };
	for (;;) {
		pthread_mutex_lock(&s->mu);
		wait_for_work(s, next_wake(&w));
		bool stop = s->stop, conf_changed = s->conf_changed;
		s->kick = s->conf_changed = false;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		if (!w.next_check && w.conf_ok && w.conf.check_interval)
			w.next_check = loop_now_ms() + 1000ull * w.conf.check_interval;
		round_run(&w, conf_changed);
	}
	dnsd_conf_clear(&w.conf);
	return NULL;
}
