/* dns/plan.c — the phase plan of decision P2: the change from an old to a
 * new record set as per-zone UPDATE work in an order that keeps
 * forward-confirmed reverse DNS true at every instant.  See dns.h for the
 * stages and the prerequisite rules.
 *
 * How: the two sets are sorted (copied only if they are not already) and
 * diffed; each added or deleted record gets a stage (classify()) and a
 * zone (longest suffix, zones parsed once); the changes are sorted by
 * (stage, zone name, group, deletions first, type rank, owner, data) and
 * cut into messages at every (stage, zone) boundary.  Prerequisites come
 * from a simulation of what netd expects the server to hold: the union of
 * both sets (by reference) with a "present" bit, starting as the old set,
 * updated group by group as the plan is laid out — so a group that claims
 * a name in stage 1 is guarded as owned when stage 5 of the same plan
 * touches it again.  A message's prerequisites are de-duplicated through a
 * hash index (a message can have tens of thousands).  Records are 520
 * bytes: they are sorted and merged through pointers, not moved.
 */
#include "dns/dns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/wire.h"

#define SIB_PREFIX DNS_OWNER_LABEL "."
#define SIB_LEN (sizeof SIB_PREFIX - 1)

unsigned dns_stage_phase(unsigned stage)
{
	return stage <= DNS_STAGE_ALIAS_ADD ? 1 : stage == DNS_STAGE_REVERSE ? 2 : 3;
}

/* ---- sets: lookups by owner ------------------------------------------- */

/* [*lo, *hi) = the records of sorted @s owned by @owner. */
static void owner_range(const struct dns_recset *s, const char *owner, size_t *lo, size_t *hi)
{
	size_t a = 0, b = s->n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (strcmp(s->v[m].owner, owner) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (b < s->n && strcmp(s->v[b].owner, owner) == 0)
		b++;
	*hi = b;
}

static bool has_type(const struct dns_recset *s, const char *owner, uint16_t type)
{
	size_t lo, hi;
	owner_range(s, owner, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		if (s->v[i].type == type)
			return true;
	return false;
}

static bool has_non_cname(const struct dns_recset *s, const char *owner)
{
	size_t lo, hi;
	owner_range(s, owner, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		if (s->v[i].type != DNS_REC_CNAME)
			return true;
	return false;
}

static bool is_sibling(const char *owner)
{
	return strncmp(owner, SIB_PREFIX, SIB_LEN) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool is_reverse(const char *owner)
{
	return ends_with(owner, ".in-addr.arpa.") || ends_with(owner, ".ip6.arpa.");
}

/* ---- classification --------------------------------------------------- */

struct sets {
	const struct dns_recset *old, *new_;   /* sorted: the caller's sets, or own_old/own_new */
	struct dns_recset own_old, own_new;    /* sorted copies of inputs that were not sorted */
	struct dns_recset add, del;            /* the difference, sorted */
};

static uint8_t classify(const struct sets *s, uint8_t op, const struct dns_rec *r)
{
	bool add = op == DNS_CHG_ADD;
	if (r->type == DNS_REC_PTR || (r->type == DNS_REC_TXT && is_reverse(r->owner)))
		return DNS_STAGE_REVERSE;
	if (r->type == DNS_REC_TXT && is_sibling(r->owner)) {
		const char *base = r->owner + SIB_LEN;
		if (!add)
			return DNS_STAGE_ALIAS_DEL;
		return has_type(&s->add, base, DNS_REC_CNAME) && has_non_cname(s->old, base)
			? DNS_STAGE_ALIAS_LATE : DNS_STAGE_ALIAS_ADD;
	}
	if (r->type == DNS_REC_CNAME) {
		if (add)
			return has_non_cname(s->old, r->owner) ? DNS_STAGE_ALIAS_LATE : DNS_STAGE_ALIAS_ADD;
		if (has_non_cname(s->new_, r->owner))
			return DNS_STAGE_FWD_ADD;   /* an address name takes the alias's place */
		return has_type(s->new_, r->owner, DNS_REC_CNAME) ? DNS_STAGE_ALIAS_ADD : DNS_STAGE_ALIAS_DEL;
	}
	return add ? DNS_STAGE_FWD_ADD : DNS_STAGE_FWD_DEL;
}

/* ---- zones ------------------------------------------------------------ */

struct zones {
	const struct dns_zone *z;
	size_t n;
	struct dns_name *w;   /* parsed names */
	size_t *rank;         /* rank[i]: position of zone i in name order */
	char (*text)[DNS_REC_NAME_MAX]; /* canonical text */
};

static void zones_clear(struct zones *z)
{
	free(z->w);
	free(z->rank);
	free(z->text);
}

/* Parse, check and order the zones.  0, NETD_EINVAL or -ENOMEM. */
static int zones_init(struct zones *z, const struct dns_zone *zones, size_t n, struct netd_err *e)
{
	int rc = 0;
	size_t *order = NULL;
	*z = (struct zones){.z = zones, .n = n};
	z->w = calloc(n ? n : 1, sizeof *z->w);
	z->rank = calloc(n ? n : 1, sizeof *z->rank);
	z->text = calloc(n ? n : 1, sizeof *z->text);
	order = calloc(n ? n : 1, sizeof *order);
	if (!z->w || !z->rank || !z->text || !order) {
		rc = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		struct netd_err why = {0};
		struct dns_name low;
		if (dns_name_parse(zones[i].name, 0, &z->w[i], &why) != 0) {
			rc = netd_err_set(e, NETD_EINVAL, NULL, "zone %zu: %s", i, why.msg);
			goto cleanup;
		}
		dns_name_lower(&z->w[i], &low);
		dns_name_print(&low, z->text[i], sizeof z->text[i]);
		for (size_t j = 0; j < i; j++)
			if (dns_name_eq(&z->w[i], &z->w[j])) {
				rc = netd_err_set(e, NETD_EINVAL, NULL, "zone %s is configured twice", z->text[i]);
				goto cleanup;
			}
		order[i] = i;
	}
	for (size_t i = 1; i < n; i++)  /* insertion sort by name: a handful of zones */
		for (size_t j = i; j > 0 && strcmp(z->text[order[j - 1]], z->text[order[j]]) > 0; j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++)
		z->rank[order[i]] = i;
cleanup:
	free(order);
	if (rc)
		zones_clear(z);
	return rc;
}

/* Index of the zone of @owner, or SIZE_MAX. */
static size_t zone_of(const struct zones *z, const char *owner)
{
	struct dns_name o;
	if (dns_name_parse(owner, 0, &o, NULL) != 0)
		return SIZE_MAX;
	size_t best = SIZE_MAX;
	for (size_t i = 0; i < z->n; i++)
		if (dns_name_in_zone(&o, &z->w[i]) && (best == SIZE_MAX || z->w[i].len > z->w[best].len))
			best = i;
	return best;
}

/* ---- items: changes with their place in the plan ---------------------- */

struct item {
	struct dns_change chg;
	uint8_t stage;
	size_t zone, zrank;
};

static unsigned type_rank(uint16_t t)
{
	switch (t) {
	case DNS_REC_CNAME: return 0;
	case DNS_REC_A: return 1;
	case DNS_REC_AAAA: return 2;
	case DNS_REC_PTR: return 3;
	default: return 4;
	}
}

/* Over pointers to items: a total order (no two changes are equal). */
static int item_cmp(const void *pa, const void *pb)
{
	const struct item *a = *(const struct item *const *)pa, *b = *(const struct item *const *)pb;
	if (a->stage != b->stage)
		return a->stage < b->stage ? -1 : 1;
	if (a->zrank != b->zrank)
		return a->zrank < b->zrank ? -1 : 1;
	int c = strcmp(a->chg.group, b->chg.group);
	if (c)
		return c;
	if (a->chg.op != b->chg.op)
		return a->chg.op == DNS_CHG_DEL ? -1 : 1;
	unsigned ra = type_rank(a->chg.rec.type), rb = type_rank(b->chg.rec.type);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	return dns_rec_cmp(&a->chg.rec, &b->chg.rec);
}

static void set_group(struct dns_change *c)
{
	const char *g = is_sibling(c->rec.owner) ? c->rec.owner + SIB_LEN : c->rec.owner;
	snprintf(c->group, sizeof c->group, "%s", g);
}

/* ---- the expected server state ---------------------------------------- */

/* old ∪ new by reference (of records equal but for the TTL, the one with
 * the lower TTL), sorted, with a "present" bit per record. */
struct state {
	const struct dns_rec **u;
	size_t n;
	bool *present;
};

static int state_init(struct state *st, const struct sets *s)
{
	const struct dns_recset *o = s->old, *w = s->new_;
	size_t cap = o->n + w->n, i = 0, j = 0;
	*st = (struct state){0};
	st->u = malloc((cap ? cap : 1) * sizeof *st->u);
	st->present = malloc(cap ? cap : 1);
	if (!st->u || !st->present)
		return -ENOMEM;
	while (i < o->n || j < w->n) {   /* both sorted without duplicates: merge */
		int c = i == o->n ? 1 : j == w->n ? -1 : dns_rec_cmp(&o->v[i], &w->v[j]);
		if (c == 0) {
			st->u[st->n] = w->v[j].ttl < o->v[i].ttl ? &w->v[j] : &o->v[i];
			i++, j++;
		} else {
			st->u[st->n] = c < 0 ? &o->v[i++] : &w->v[j++];
		}
		st->present[st->n++] = c <= 0;
	}
	return 0;
}

static void state_clear(struct state *st)
{
	free(st->u);
	free(st->present);
}

/* [*lo, *hi) = the records of the state owned by @owner. */
static void state_range(const struct state *st, const char *owner, size_t *lo, size_t *hi)
{
	size_t a = 0, b = st->n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (strcmp(st->u[m]->owner, owner) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (b < st->n && strcmp(st->u[b]->owner, owner) == 0)
		b++;
	*hi = b;
}

static void state_apply(struct state *st, const struct dns_change *c)
{
	size_t lo = 0, hi = st->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = dns_rec_cmp(st->u[mid], &c->rec);
		if (cmp == 0) {
			st->present[mid] = c->op == DNS_CHG_ADD;
			return;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
}

/* What the state holds at @owner: any record, a CNAME, an ownership TXT. */
struct at {
	bool any, cname, owned;
	size_t lo, hi;
};

static struct at state_at(const struct state *st, const char *owner)
{
	struct at a = {0};
	state_range(st, owner, &a.lo, &a.hi);
	for (size_t i = a.lo; i < a.hi; i++) {
		if (!st->present[i])
			continue;
		const struct dns_rec *r = st->u[i];
		a.any = true;
		a.cname |= r->type == DNS_REC_CNAME;
		a.owned |= r->type == DNS_REC_TXT &&
			   strncmp(r->data, DNS_OWNER_TXT_PREFIX, sizeof DNS_OWNER_TXT_PREFIX - 1) == 0;
	}
	return a;
}

/* ---- prerequisites ---------------------------------------------------- */

/* A message's prerequisites, with an index by (kind, guard name) so that
 * a duplicate is found in O(1): a message can hold tens of thousands. */
struct prelist {
	struct dns_prereq *v;
	size_t n, cap;
	size_t *slot;         /* open addressing: index + 1 into v, 0 = empty */
	size_t n_slot;        /* a power of two, > 2 * n (0: no index yet) */
};

static uint64_t pre_hash(uint8_t kind, const char *owner)
{
	uint64_t h = 0xcbf29ce484222325ull ^ kind;   /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)owner; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static void pre_index(struct prelist *p, size_t i)
{
	size_t mask = p->n_slot - 1, k = (size_t)pre_hash(p->v[i].kind, p->v[i].rec.owner) & mask;
	while (p->slot[k])
		k = (k + 1) & mask;
	p->slot[k] = i + 1;
}

/* Room for one more prerequisite, in the array and in the index. */
static int pre_reserve(struct prelist *p)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct dns_prereq *v = realloc(p->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	if (2 * (p->n + 1) < p->n_slot)
		return 0;
	size_t n_slot = p->n_slot ? p->n_slot * 2 : 64;
	size_t *slot = calloc(n_slot, sizeof *slot);
	if (!slot)
		return -ENOMEM;
	free(p->slot);
	p->slot = slot;
	p->n_slot = n_slot;
	for (size_t i = 0; i < p->n; i++)
		pre_index(p, i);
	return 0;
}

/* Add a prerequisite unless the message has it already: the same kind at
 * the same name and, for @r, the same record. */
static int pre_push(struct prelist *p, uint8_t kind, const struct dns_rec *r, const char *owner)
{
	if (p->n_slot) {
		size_t mask = p->n_slot - 1;
		for (size_t k = (size_t)pre_hash(kind, owner) & mask; p->slot[k]; k = (k + 1) & mask) {
			const struct dns_prereq *q = &p->v[p->slot[k] - 1];
			if (q->kind == kind && strcmp(q->rec.owner, owner) == 0 && (!r || dns_rec_cmp(&q->rec, r) == 0))
				return 0;
		}
	}
	if (pre_reserve(p))
		return -ENOMEM;
	struct dns_prereq *q = &p->v[p->n++];
	memset(q, 0, sizeof *q);
	q->kind = kind;
	if (r)
		q->rec = *r;
	else
		snprintf(q->rec.owner, sizeof q->rec.owner, "%s", owner);
	pre_index(p, p->n - 1);
	return 0;
}

/* OWNED for every TXT the state holds at @owner (the whole RRset). */
static int pre_owned(struct prelist *p, const struct state *st, const struct at *a)
{
	for (size_t i = a->lo; i < a->hi; i++)
		if (st->present[i] && st->u[i]->type == DNS_REC_TXT) {
			int rc = pre_push(p, DNS_PRE_OWNED, st->u[i], st->u[i]->owner);
			if (rc)
				return rc;
		}
	return 0;
}

/* The guard of a change at @owner, given the state before its group. */
static int guard(struct prelist *p, const struct state *st, const char *owner)
{
	struct at a = state_at(st, owner);
	if (a.owned)
		return pre_owned(p, st, &a);
	if (a.cname && !is_sibling(owner)) {
		char sib[DNS_REC_NAME_MAX + SIB_LEN];
		snprintf(sib, sizeof sib, SIB_PREFIX "%s", owner);
		struct at s = state_at(st, sib);
		return s.owned ? pre_owned(p, st, &s) : 0;
	}
	return a.any ? 0 : pre_push(p, DNS_PRE_FREE, NULL, owner);
}

/* ---- building the plan ------------------------------------------------ */

/* Every change as an item (zone SIZE_MAX: unzoned) into @v, and @ord
 * pointing at them in plan order. */
static int make_items(const struct sets *s, const struct zones *z, struct item **v_out,
		      const struct item ***ord_out, size_t *n_out)
{
	size_t n = 0, cap = s->del.n + s->add.n;
	struct item *v = malloc((cap ? cap : 1) * sizeof *v);
	const struct item **ord = malloc((cap ? cap : 1) * sizeof *ord);
	const struct dns_recset *lists[2] = {&s->del, &s->add};
	const uint8_t ops[2] = {DNS_CHG_DEL, DNS_CHG_ADD};
	if (!v || !ord) {
		free(v);
		free(ord);
		return -ENOMEM;
	}
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			struct item *it = &v[n];
			memset(it, 0, sizeof *it);
			it->chg.op = ops[l];
			it->chg.rec = lists[l]->v[i];
			set_group(&it->chg);
			it->stage = classify(s, ops[l], &it->chg.rec);
			it->zone = zone_of(z, it->chg.rec.owner);
			it->zrank = it->zone == SIZE_MAX ? SIZE_MAX : z->rank[it->zone];
			ord[n++] = it;
		}
	if (n > 1)
		qsort(ord, n, sizeof *ord, item_cmp);
	*v_out = v;
	*ord_out = ord;
	*n_out = n;
	return 0;
}

/* Lay out the message of items [lo, hi) (one stage, one zone): guards per
 * group from the state, then the group applied to the state. */
static int build_msg(const struct item *const *items, size_t lo, size_t hi, struct state *st,
		     struct dns_plan_msg *m)
{
	struct prelist pre = {0};
	int rc = 0;
	*m = (struct dns_plan_msg){.stage = items[lo]->stage, .zone = items[lo]->zone};
	m->phase = (uint8_t)dns_stage_phase(m->stage);
	m->chg = calloc(hi - lo, sizeof *m->chg);
	if (!m->chg)
		return -ENOMEM;
	for (size_t g = lo; g < hi;) {
		size_t ge = g, first = pre.n;
		while (ge < hi && strcmp(items[ge]->chg.group, items[g]->chg.group) == 0)
			ge++;
		for (size_t i = g; i < ge && !rc; i++)
			rc = guard(&pre, st, items[i]->chg.rec.owner);
		if (rc)
			goto cleanup;
		for (size_t i = g; i < ge; i++) {
			struct dns_change *c = &m->chg[m->n_chg++];
			*c = items[i]->chg;
			c->pre_first = first;
			c->n_pre = pre.n - first;
			state_apply(st, c);
		}
		g = ge;
	}
	m->pre = pre.v;
	m->n_pre = pre.n;
	pre.v = NULL;
cleanup:
	free(pre.v);
	free(pre.slot);
	if (rc) {
		free(m->chg);
		*m = (struct dns_plan_msg){0};
	}
	return rc;
}

/* Messages of the zoned items, unzoned ones aside, into @p. */
static int layout(const struct item *const *items, size_t n, struct state *st, struct dns_plan *p)
{
	size_t n_msg = 0, n_unz = 0;
	for (size_t i = 0; i < n; i++) {
		if (items[i]->zone == SIZE_MAX)
			n_unz++;
		else if (i == 0 || items[i]->stage != items[i - 1]->stage || items[i]->zone != items[i - 1]->zone)
			n_msg++;
	}
	p->msg = calloc(n_msg ? n_msg : 1, sizeof *p->msg);
	p->unzoned = calloc(n_unz ? n_unz : 1, sizeof *p->unzoned);
	if (!p->msg || !p->unzoned)
		return -ENOMEM;
	for (size_t i = 0; i < n;) {
		if (items[i]->zone == SIZE_MAX) {
			p->unzoned[p->n_unzoned++] = items[i++]->chg;
			continue;
		}
		size_t e = i;
		while (e < n && items[e]->stage == items[i]->stage && items[e]->zone == items[i]->zone)
			e++;
		int rc = build_msg(items, i, e, st, &p->msg[p->n_msg]);
		if (rc)
			return rc;
		p->n_msg++;
		i = e;
	}
	return 0;
}

/* Whether @s is sorted without duplicates (dns_recset_sort() would not
 * change it). */
static bool sorted(const struct dns_recset *s)
{
	for (size_t i = 1; i < s->n; i++)
		if (dns_rec_cmp(&s->v[i - 1], &s->v[i]) >= 0)
			return false;
	return true;
}

/* @in, sorted: itself if it is, else a sorted copy in @own. */
static int sorted_input(const struct dns_recset *in, struct dns_recset *own, const struct dns_recset **out)
{
	*out = in;
	if (sorted(in))
		return 0;
	int rc = dns_recset_add_all(own, in);
	if (rc)
		return rc;
	dns_recset_sort(own);
	*out = own;
	return 0;
}

/* Room for @n records in empty @s. */
static int recset_alloc(struct dns_recset *s, size_t n)
{
	s->v = malloc((n ? n : 1) * sizeof *s->v);
	s->n = 0;
	s->cap = n ? n : 1;
	return s->v ? 0 : -ENOMEM;
}

/* dns_recset_diff() into the empty s->add and s->del, without its copies. */
static int sets_diff(struct sets *s)
{
	const struct dns_recset *o = s->old, *w = s->new_;
	size_t i = 0, j = 0;
	if (recset_alloc(&s->add, w->n) || recset_alloc(&s->del, o->n))
		return -ENOMEM;
	while (i < o->n || j < w->n) {
		int c = i == o->n ? 1 : j == w->n ? -1 : dns_rec_cmp(&o->v[i], &w->v[j]);
		if (c < 0) {
			s->del.v[s->del.n++] = o->v[i++];
		} else if (c > 0) {
			s->add.v[s->add.n++] = w->v[j++];
		} else {
			if (o->v[i].ttl != w->v[j].ttl)
				s->add.v[s->add.n++] = w->v[j];
			i++, j++;
		}
	}
	return 0;
}

/* The inputs sorted (copied only if they are not), checked, and their
 * difference. */
static int sets_init(struct sets *s, const struct dns_recset *old, const struct dns_recset *new_,
		     struct netd_err *e)
{
	struct netd_err why = {0};
	int rc = sorted_input(old, &s->own_old, &s->old);
	if (!rc)
		rc = sorted_input(new_, &s->own_new, &s->new_);
	if (rc)
		return rc;
	if (dns_recset_check(s->new_, &why) != 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "new records: %s", why.msg);
	if (dns_recset_check(s->old, &why) != 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "old records: %s", why.msg);
	return sets_diff(s);
}

static void sets_clear(struct sets *s)
{
	dns_recset_clear(&s->own_old);
	dns_recset_clear(&s->own_new);
	dns_recset_clear(&s->add);
	dns_recset_clear(&s->del);
}

int dns_plan(const struct dns_recset *old, const struct dns_recset *new_, const struct dns_zone *zones,
	     size_t n_zones, struct dns_plan *out, struct netd_err *e)
{
	struct sets s = {0};
	struct zones z = {0};
	struct state st = {0};
	struct dns_plan p = {0};
	struct item *items = NULL;
	const struct item **ord = NULL;
	size_t n_items = 0;
	int rc = zones_init(&z, zones, n_zones, e);
	if (rc)
		return rc;
	rc = sets_init(&s, old, new_, e);
	if (!rc)
		rc = make_items(&s, &z, &items, &ord, &n_items);
	if (!rc)
		rc = state_init(&st, &s);
	if (!rc)
		rc = layout(ord, n_items, &st, &p);
	if (rc)
		goto cleanup;
	*out = p;
	p = (struct dns_plan){0};
cleanup:
	dns_plan_clear(&p);
	free(items);
	free(ord);
	state_clear(&st);
	sets_clear(&s);
	zones_clear(&z);
	return rc;
}

void dns_plan_clear(struct dns_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_msg; i++) {
		free(p->msg[i].pre);
		free(p->msg[i].chg);
	}
	free(p->msg);
	free(p->unzoned);
	*p = (struct dns_plan){0};
}
