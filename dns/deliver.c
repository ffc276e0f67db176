/* dns/deliver.c — a plan's messages to their zones' servers: RFC 2136
 * UPDATE + TSIG, batched by groups, idempotent re-sends, conflict
 * bisection, failover.  See deliver.h for the contract.
 *
 * Overview.  For each logical message:
 *   1. groups_init() cuts the changes into groups (contiguous by
 *      struct dns_change.group), converts every record once to check it
 *      and computes an upper bound of each group's wire size, plain and
 *      converted (FREE -> OWNED);
 *   2. screen() withholds the groups that depend on groups that failed
 *      earlier in the same report (deliver.h, "Conflicts");
 *   3. fill() chooses a piece: as many groups as their bounds say fit,
 *      then the real size is measured by building the UPDATE and the room
 *      left is filled again, a few rounds.  The bound is tight because the
 *      zone section puts the zone in the compression table first, so any
 *      owner in the zone costs at most its own labels plus a pointer;
 *   4. deliver_range() sends the piece, converted after a YXDOMAIN, and
 *      bisects it on a prerequisite failure down to the failing groups;
 *   5. send_piece() builds a fresh UPDATE (new ID, new TSIG time) for each
 *      server it tries, and moves to the next one on a transport failure
 *      or SERVFAIL.
 * State lives in a struct deliver_call (buffers, report, the servers that
 * failed in this call) and one struct zone_run per zone (server in use,
 * whether the converted form worked last): nothing static.
 */
#include "dns/deliver.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/addr.h"
#include "dns/update.h"
#include "dns/wire.h"

#define SIB_PREFIX DNS_OWNER_LABEL "."
#define SIB_LEN (sizeof SIB_PREFIX - 1)
#define OWN_LEN (sizeof DNS_OWNER_TXT_PREFIX - 1)
#define RR_FIXED 10u   /* type, class, TTL, rdlength */
#define FILL_ROUNDS 6  /* measure-and-refill rounds per piece */
#define FAILED_MAX 32  /* failed servers remembered per call */

/* What one send of a piece came to (negative: an error). */
enum { SENT_OK = 0, SENT_PREREQ = 1, SENT_TOOBIG = 2 };

/* ---- state ------------------------------------------------------------ */

struct deliver_call {
	uint8_t *buf, *reply;               /* DNS_MSG_MAX each */
	struct dns_update u;
	struct dns_deliver_report *rep;
	/* read only, may be NULL: what the stage started with (dns_deliver_stage()), and
	   what the message's earlier pieces found (pieces in flight at once) */
	const struct dns_deliver_report *base[2];
	struct netd_err *e;
	struct dns_server failed[FAILED_MAX]; /* servers that failed in this call */
	size_t n_failed;
};

struct zone_run {
	const struct dns_zone_conf *z;
	struct dns_name zone;
	char zone_text[DNS_NAME_STRLEN];    /* "lab.example", as in update.c's messages */
	size_t budget;
	int timeout_ms;
	size_t cur;                          /* index of the server in use */
	bool hint_conv;                      /* the converted form went through last */
	bool ready;
};

/* A prerequisite as sent: FREE names rec->owner, OWNED is the TXT rec. */
struct pre_item {
	uint8_t kind;
	const struct dns_rec *rec;
};

struct group {
	size_t c_lo, c_hi;   /* its changes: m->chg[c_lo..c_hi) */
	size_t p_lo, p_hi;   /* its prerequisites: m->pre[p_lo..p_hi) */
	size_t bound[2];     /* wire size upper bound: [0] plain, [1] converted */
	bool convertible;    /* the converted form differs */
};

struct msg_ctx {
	struct deliver_call *call;
	struct zone_run *run;
	const struct dns_plan_msg *m;
	struct group *g;
	size_t n_g;
	size_t *act;         /* indexes of the groups to send, in order */
	size_t n_act;
	struct pre_item *items; /* expand()'s output, reused */
	size_t n_items, cap_items;
};

static const struct dns_tsig_key *run_key(const struct zone_run *r)
{
	return r->z->has_key ? &r->z->key : NULL;
}

/* vsnprintf into a fixed field; truncation is acceptable for reasons. */
static void fmt_field(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fmt_field(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(dst, cap, fmt, ap) < 0)
		dst[0] = '\0';
	va_end(ap);
}

/* ---- records to wire -------------------------------------------------- */

/* An RR and the TXT rdata it points at.  Not to be copied: rr.rd.raw
 * points into txt. */
struct wire_rr {
	struct dns_rr rr;
	uint8_t txt[DNS_REC_DATA_MAX + 2];
};

static int rec_bad(const struct dns_rec *r, const char *what, struct netd_err *e)
{
	return netd_err_set(e, NETD_EINVAL, NULL, "record %.255s %s \"%.200s\": %s", r->owner,
			    dns_rec_type_name(r->type), r->data, what);
}

/* @r as a wire RR (class IN, its TTL).  0 or NETD_EINVAL naming it. */
static int rec_to_rr(const struct dns_rec *r, struct wire_rr *out, struct netd_err *e)
{
	struct dns_rr *rr = &out->rr;
	struct addr a;
	memset(rr, 0, sizeof *rr);
	rr->type = r->type;
	rr->cls = DNS_C_IN;
	rr->ttl = r->ttl;
	if (dns_name_parse(r->owner, 0, &rr->owner, NULL) != 0)
		return rec_bad(r, "the owner is not a valid name", e);
	switch (r->type) {
	case DNS_REC_A:
	case DNS_REC_AAAA:
		if (addr_parse_family(r->data, r->type == DNS_REC_A ? ADDR_V4 : ADDR_V6, &a) != 0)
			return rec_bad(r, "not an address of that family", e);
		memcpy(r->type == DNS_REC_A ? rr->rd.a : rr->rd.aaaa, a.b, addr_len(&a));
		return 0;
	case DNS_REC_CNAME:
	case DNS_REC_PTR:
		if (dns_name_parse(r->data, 0, &rr->rd.target, NULL) != 0)
			return rec_bad(r, "the target is not a valid name", e);
		return 0;
	case DNS_REC_TXT: {
		int n = dns_txt_rdata(r->data, out->txt, sizeof out->txt);
		if (n < 0)
			return rec_bad(r, "TXT data too long", e);
		rr->rd.raw.data = out->txt;
		rr->rd.raw.len = (uint16_t)n;
		return 0;
	}
	default:
		return rec_bad(r, "not a type netd publishes (A, AAAA, CNAME, PTR, TXT)", e);
	}
}

/* Upper bound of @n written compressed in an UPDATE of @zone: its labels
 * above the zone, then at most a pointer (the zone is always in the
 * compression table: the zone section wrote it first). */
static size_t name_bound(const struct dns_name *n, const struct dns_name *zone)
{
	return dns_name_in_zone(n, zone) ? (size_t)(n->len - zone->len) + 2u : n->len;
}

static size_t rr_bound(const struct dns_rr *rr, const struct dns_name *zone)
{
	size_t rd = 0;
	switch (rr->type) {
	case DNS_REC_A: rd = 4; break;
	case DNS_REC_AAAA: rd = 16; break;
	case DNS_REC_CNAME:
	case DNS_REC_PTR: rd = rr->rd.target.len; break;
	default: rd = rr->rd.raw.len; break;
	}
	return name_bound(&rr->owner, zone) + RR_FIXED + rd;
}

/* ---- the report ------------------------------------------------------- */

/* Room for one more element in an array of @n grown in powers of two. */
static int grow(void **v, size_t n, size_t size)
{
	if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
		return 0;
	size_t cap = n ? n * 2 : 8;
	void *nv = realloc(*v, cap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	return 0;
}

static bool report_failed(const struct dns_deliver_report *rep, const char *group)
{
	for (size_t i = 0; rep && i < rep->n_conflicts; i++)
		if (strcmp(rep->conflicts[i].group, group) == 0)
			return true;
	return false;
}

static bool report_kept(const struct dns_deliver_report *rep, const char *name)
{
	for (size_t i = 0; rep && i < rep->n_kept; i++)
		if (strcmp(rep->kept[i], name) == 0)
			return true;
	return false;
}

/* The same for a call: its own report and the read-only ones it sees
 * (what its stage started with; what its message found before). */
static bool call_failed_group(const struct deliver_call *call, const char *group)
{
	return report_failed(call->base[0], group) || report_failed(call->base[1], group) ||
	       report_failed(call->rep, group);
}

static bool call_kept(const struct deliver_call *call, const char *name)
{
	return report_kept(call->base[0], name) || report_kept(call->base[1], name) || report_kept(call->rep, name);
}

/* Record that group @g did not go out, and keep the names that its
 * records, left in place, point at (the targets of its PTR and CNAME
 * deletions). */
static int report_conflict(struct msg_ctx *c, const struct group *g, uint8_t kind, const char *why)
{
	struct dns_deliver_report *rep = c->call->rep;
	const struct dns_change *first = &c->m->chg[g->c_lo];
	if (grow((void **)&rep->conflicts, rep->n_conflicts, sizeof *rep->conflicts) != 0)
		return netd_err_set(c->call->e, -ENOMEM, NULL, "no memory for a conflict report");
	struct dns_conflict *k = &rep->conflicts[rep->n_conflicts++];
	memset(k, 0, sizeof *k);
	fmt_field(k->group, sizeof k->group, "%s", first->group);
	fmt_field(k->why, sizeof k->why, "%s: %s", first->group, why);
	k->kind = kind;
	k->stage = c->m->stage;
	k->zone = c->m->zone;
	for (size_t i = g->c_lo; i < g->c_hi; i++) {
		const struct dns_change *ch = &c->m->chg[i];
		if (ch->op != DNS_CHG_DEL || (ch->rec.type != DNS_REC_PTR && ch->rec.type != DNS_REC_CNAME) ||
		    call_kept(c->call, ch->rec.data))
			continue;
		if (grow((void **)&rep->kept, rep->n_kept, sizeof *rep->kept) != 0)
			return netd_err_set(c->call->e, -ENOMEM, NULL, "no memory for a conflict report");
		fmt_field(rep->kept[rep->n_kept++], DNS_REC_NAME_MAX, "%s", ch->rec.data);
	}
	return 0;
}

/* Append what @from found to @to, as if it had been delivered into @to. */
static int report_merge(struct dns_deliver_report *to, const struct dns_deliver_report *from)
{
	for (size_t i = 0; i < from->n_conflicts; i++) {
		if (grow((void **)&to->conflicts, to->n_conflicts, sizeof *to->conflicts) != 0)
			return -ENOMEM;
		to->conflicts[to->n_conflicts++] = from->conflicts[i];
	}
	for (size_t i = 0; i < from->n_kept; i++) {
		if (report_kept(to, from->kept[i]))
			continue;
		if (grow((void **)&to->kept, to->n_kept, sizeof *to->kept) != 0)
			return -ENOMEM;
		memcpy(to->kept[to->n_kept++], from->kept[i], DNS_REC_NAME_MAX);
	}
	to->updates += from->updates;
	to->resends += from->resends;
	to->failovers += from->failovers;
	to->bytes += from->bytes;
	if (from->updates)
		memcpy(to->server, from->server, sizeof to->server);
	return 0;
}

void dns_deliver_report_clear(struct dns_deliver_report *r)
{
	if (!r)
		return;
	free(r->conflicts);
	free(r->kept);
	memset(r, 0, sizeof *r);
}

/* ---- prerequisites as sent -------------------------------------------- */

static int item_push(struct msg_ctx *c, uint8_t kind, const struct dns_rec *rec)
{
	for (size_t i = 0; i < c->n_items; i++) {  /* a group has a handful */
		const struct pre_item *it = &c->items[i];
		if (it->kind == kind && (kind == DNS_PRE_FREE ? strcmp(it->rec->owner, rec->owner) == 0
							      : dns_rec_cmp(it->rec, rec) == 0))
			return 0;
	}
	if (c->n_items == c->cap_items) {
		size_t cap = c->cap_items ? c->cap_items * 2 : 16;
		struct pre_item *v = realloc(c->items, cap * sizeof *v);
		if (!v)
			return netd_err_set(c->call->e, -ENOMEM, NULL, "no memory for prerequisites");
		c->items = v;
		c->cap_items = cap;
	}
	c->items[c->n_items++] = (struct pre_item){.kind = kind, .rec = rec};
	return 0;
}

static bool is_own_txt_add(const struct dns_change *ch, const char *owner)
{
	return ch->op == DNS_CHG_ADD && ch->rec.type == DNS_REC_TXT && strcmp(ch->rec.owner, owner) == 0 &&
	       strncmp(ch->rec.data, DNS_OWNER_TXT_PREFIX, OWN_LEN) == 0;
}

/* DNS_PRE_FREE at @owner turned into DNS_PRE_OWNED: the ownership TXTs
 * group @g adds at @owner, or, if it adds a CNAME there, at "_netd.<owner>"
 * (where plan.c would guard a CNAME).  *found: how many there are. */
static int expand_free(struct msg_ctx *c, const struct group *g, const char *owner, size_t *found)
{
	const struct dns_change *chg = c->m->chg;
	char sib[DNS_REC_NAME_MAX + SIB_LEN];
	bool cname = false;
	int rc = 0;
	*found = 0;
	for (size_t i = g->c_lo; i < g->c_hi && !rc; i++) {
		cname |= chg[i].op == DNS_CHG_ADD && chg[i].rec.type == DNS_REC_CNAME &&
			 strcmp(chg[i].rec.owner, owner) == 0;
		if (is_own_txt_add(&chg[i], owner)) {
			++*found;
			rc = item_push(c, DNS_PRE_OWNED, &chg[i].rec);
		}
	}
	if (rc || *found || !cname)
		return rc;
	fmt_field(sib, sizeof sib, SIB_PREFIX "%s", owner);
	for (size_t i = g->c_lo; i < g->c_hi && !rc; i++)
		if (is_own_txt_add(&chg[i], sib)) {
			++*found;
			rc = item_push(c, DNS_PRE_OWNED, &chg[i].rec);
		}
	return rc;
}

/* The prerequisites group @g sends, plain or converted, into c->items.
 * *converted (may be NULL): some FREE was turned into OWNED. */
static int expand(struct msg_ctx *c, const struct group *g, bool conv, bool *converted)
{
	int rc = 0;
	c->n_items = 0;
	if (converted)
		*converted = false;
	for (size_t p = g->p_lo; p < g->p_hi && !rc; p++) {
		const struct dns_prereq *q = &c->m->pre[p];
		size_t found = 0;
		if (q->kind == DNS_PRE_FREE && conv) {
			rc = expand_free(c, g, q->rec.owner, &found);
			if (found && converted)
				*converted = true;
		}
		if (!rc && !found)
			rc = item_push(c, q->kind, &q->rec);
	}
	return rc;
}

/* ---- building an UPDATE ----------------------------------------------- */

/* The wire name of prerequisite @it (FREE: its owner; OWNED: the TXT's
 * owner), checked to lie in the zone.  0 or NETD_EINVAL naming it. */
static int item_name(struct msg_ctx *c, const struct pre_item *it, struct dns_name *n)
{
	if (it->kind != DNS_PRE_FREE && it->kind != DNS_PRE_OWNED)
		return netd_err_set(c->call->e, NETD_EINVAL, NULL, "prerequisite at %.255s: unknown kind %u",
				    it->rec->owner, it->kind);
	if (it->kind == DNS_PRE_OWNED && it->rec->type != DNS_REC_TXT)
		return rec_bad(it->rec, "an ownership prerequisite must be a TXT record", c->call->e);
	if (dns_name_parse(it->rec->owner, 0, n, NULL) != 0 || !dns_name_in_zone(n, &c->run->zone))
		return netd_err_set(c->call->e, NETD_EINVAL, NULL, "prerequisite at %.255s: not a name "
				    "in zone %s", it->rec->owner, c->run->zone_text);
	return 0;
}

static int emit_pre(struct msg_ctx *c, const struct pre_item *it)
{
	struct wire_rr w;
	struct dns_name n;
	int rc = item_name(c, it, &n);
	if (rc)
		return rc;
	if (it->kind == DNS_PRE_FREE)
		return dns_update_prereq_name_not_in_use(&c->call->u, &n);
	rc = rec_to_rr(it->rec, &w, c->call->e);
	return rc ? rc : dns_update_prereq_exists_rr(&c->call->u, &w.rr);
}

static int emit_change(struct msg_ctx *c, const struct dns_change *ch)
{
	struct wire_rr w;
	int rc = rec_to_rr(&ch->rec, &w, c->call->e);
	if (rc)
		return rc;
	if (ch->op == DNS_CHG_ADD)
		rc = dns_update_add(&c->call->u, &w.rr);
	else if (ch->op == DNS_CHG_DEL)
		rc = dns_update_delete_rr(&c->call->u, &w.rr);
	else
		return rec_bad(&ch->rec, "change is neither an addition nor a deletion", c->call->e);
	if (rc == NETD_EINVAL)
		return netd_err_set(c->call->e, rc, NULL, "record %.255s %s: not in zone %s", ch->rec.owner,
				    dns_rec_type_name(ch->rec.type), c->run->zone_text);
	return rc;
}

/* Build the UPDATE of groups act[lo..hi) in c->call->u (not finished).
 * 0, NETD_ETOOBIG (it does not fit the budget; @e untouched), or an
 * error with @e set. */
static int build(struct msg_ctx *c, size_t lo, size_t hi, bool conv, uint16_t id)
{
	struct dns_update *u = &c->call->u;
	int rc = dns_update_init(u, c->call->buf, DNS_MSG_MAX, c->run->budget, &c->run->zone, id,
				 run_key(c->run));
	for (size_t i = lo; i < hi && !rc; i++) {
		rc = expand(c, &c->g[c->act[i]], conv, NULL);
		for (size_t k = 0; k < c->n_items && !rc; k++)
			rc = emit_pre(c, &c->items[k]);
	}
	for (size_t i = lo; i < hi && !rc; i++) {
		const struct group *g = &c->g[c->act[i]];
		for (size_t k = g->c_lo; k < g->c_hi && !rc; k++)
			rc = emit_change(c, &c->m->chg[k]);
	}
	return rc;
}

/* ---- groups ----------------------------------------------------------- */

/* Upper bounds of group @g's size, plain and converted; also checks that
 * each of its records converts and lies in the zone. */
static int group_bounds(struct msg_ctx *c, struct group *g)
{
	const struct dns_name *zone = &c->run->zone;
	struct wire_rr w;
	size_t chg = 0;
	int rc = 0;
	for (size_t i = g->c_lo; i < g->c_hi; i++) {
		const struct dns_rec *r = &c->m->chg[i].rec;
		rc = rec_to_rr(r, &w, c->call->e);
		if (rc)
			return rc;
		if (!dns_name_in_zone(&w.rr.owner, zone))
			return rec_bad(r, "not in the zone of its message", c->call->e);
		chg += rr_bound(&w.rr, zone);
	}
	for (int conv = 0; conv < 2; conv++) {
		bool converted = false;
		size_t pre = 0;
		rc = expand(c, g, conv, &converted);
		for (size_t k = 0; k < c->n_items && !rc; k++) {
			const struct pre_item *it = &c->items[k];
			struct dns_name n;
			rc = item_name(c, it, &n);
			if (!rc && it->kind == DNS_PRE_FREE)
				pre += name_bound(&n, zone) + RR_FIXED;
			if (!rc && it->kind == DNS_PRE_OWNED) {
				rc = rec_to_rr(it->rec, &w, c->call->e);
				pre += rc ? 0 : rr_bound(&w.rr, zone);
			}
		}
		if (rc)
			return rc;
		g->bound[conv] = pre + chg;
		if (conv)
			g->convertible = converted;
	}
	return 0;
}

/* Cut the message's changes into groups and bound them. */
static int groups_init(struct msg_ctx *c)
{
	const struct dns_plan_msg *m = c->m;
	c->g = calloc(m->n_chg ? m->n_chg : 1, sizeof *c->g);
	c->act = calloc(m->n_chg ? m->n_chg : 1, sizeof *c->act);
	if (!c->g || !c->act)
		return netd_err_set(c->call->e, -ENOMEM, NULL, "no memory for %zu changes", m->n_chg);
	for (size_t i = 0; i < m->n_chg;) {
		struct group *g = &c->g[c->n_g++];
		size_t e = i + 1;
		while (e < m->n_chg && strcmp(m->chg[e].group, m->chg[i].group) == 0)
			e++;
		*g = (struct group){.c_lo = i, .c_hi = e, .p_lo = m->chg[i].pre_first,
				    .p_hi = m->chg[i].pre_first + m->chg[i].n_pre};
		if (g->p_lo > m->n_pre || m->chg[i].n_pre > m->n_pre - g->p_lo)
			return netd_err_set(c->call->e, NETD_EINVAL, NULL,
					    "group %.255s: prerequisites %zu+%zu outside the message's %zu",
					    m->chg[i].group, g->p_lo, m->chg[i].n_pre, m->n_pre);
		int rc = group_bounds(c, g);
		if (rc)
			return rc;
		i = e;
	}
	return 0;
}

/* Why group @g must wait for groups that failed before it, or NULL. */
static const char *withheld_why(const struct msg_ctx *c, const struct group *g, char *buf, size_t cap)
{
	const struct deliver_call *call = c->call;
	const struct dns_change *chg = c->m->chg;
	if (call_failed_group(call, chg[g->c_lo].group))
		return "withheld: an earlier change of this name was not delivered";
	for (size_t i = g->c_lo; i < g->c_hi; i++) {
		const struct dns_change *ch = &chg[i];
		bool points = ch->rec.type == DNS_REC_PTR || ch->rec.type == DNS_REC_CNAME;
		if (ch->op == DNS_CHG_ADD && points && call_failed_group(call, ch->rec.data)) {
			fmt_field(buf, cap, "withheld: its target %s was not delivered", ch->rec.data);
			return buf;
		}
		if (ch->op == DNS_CHG_DEL && call_kept(call, ch->group))
			return "withheld: records left in place by an undelivered change point at this name";
	}
	return NULL;
}

/* Set aside the groups that depend on failed ones; the others go to act[]. */
static int screen(struct msg_ctx *c)
{
	char buf[DNS_CONFLICT_WHY_MAX];
	for (size_t i = 0; i < c->n_g; i++) {
		const char *why = withheld_why(c, &c->g[i], buf, sizeof buf);
		if (!why) {
			c->act[c->n_act++] = i;
			continue;
		}
		int rc = report_conflict(c, &c->g[i], DNS_CONFLICT_WITHHELD, why);
		if (rc)
			return rc;
	}
	return 0;
}

static bool range_convertible(const struct msg_ctx *c, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++)
		if (c->g[c->act[i]].convertible)
			return true;
	return false;
}

/* ---- sending ---------------------------------------------------------- */

static int random_id(uint16_t *id)
{
	for (;;) {
		ssize_t n = getrandom(id, sizeof *id, 0);
		if (n == (ssize_t)sizeof *id)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static bool same_server(const struct dns_server *a, const struct dns_server *b)
{
	return a->salen == b->salen && memcmp(&a->sa, &b->sa, a->salen) == 0;
}

static bool call_failed(const struct deliver_call *call, const struct dns_server *s)
{
	for (size_t i = 0; i < call->n_failed; i++)
		if (same_server(&call->failed[i], s))
			return true;
	return false;
}

static void call_remember_failed(struct deliver_call *call, const struct dns_server *s)
{
	if (!call_failed(call, s) && call->n_failed < FAILED_MAX)
		call->failed[call->n_failed++] = *s;
}

/* One exchange of the piece act[lo..hi) with @srv.  Returns SENT_* or a
 * negative error; *retry is set for failures another server may not have
 * (transport, an answer that does not parse, SERVFAIL), described in
 * @why; other errors are in the call's @e. */
static int exchange(struct msg_ctx *c, size_t lo, size_t hi, bool conv, const struct dns_server *srv,
		    unsigned *rcode, bool *retry, struct netd_err *why)
{
	struct deliver_call *call = c->call;
	struct zone_run *run = c->run;
	const struct dns_tsig_key *key = run_key(run);
	uint8_t mac[DNS_TSIG_MAC_MAX];
	size_t mac_len = 0, len = 0, rlen = 0;
	uint16_t id;
	*retry = false;
	int rc = random_id(&id);
	if (rc)
		return netd_err_set(call->e, rc, NULL, "zone %s: no random message ID: %s", run->zone_text,
				    netd_strerror(rc));
	rc = build(c, lo, hi, conv, id);
	if (rc == NETD_ETOOBIG)
		return SENT_TOOBIG;
	if (rc)
		return rc;
	rc = dns_update_finish(&call->u, key, (uint64_t)time(NULL), &len, mac, &mac_len);
	if (rc)
		return netd_err_set(call->e, rc, NULL, "zone %s: signing the update failed: %s",
				    run->zone_text, netd_strerror(rc));
	rc = dns_xfer(srv, call->buf, len, call->reply, DNS_MSG_MAX, &rlen, run->timeout_ms, 0, NULL, why);
	if (rc == -ENOMEM)
		return netd_err_set(call->e, rc, NULL, "zone %s: %s", run->zone_text, why->msg);
	if (rc) {
		*retry = true;
		return rc <= NETD_E_BASE ? -EIO : rc;  /* our codes: a reply we cannot use */
	}
	struct dns_update_result res;
	rc = dns_update_parse_response(call->reply, rlen, id, &run->zone, key, mac, mac_len,
				       (uint64_t)time(NULL), &res);
	if (rc) {
		*retry = true;
		return netd_err_set(why, -EIO, NULL, "DNS server %s: the answer is malformed or not for "
				    "this update", srv->text);
	}
	call->rep->updates++;
	call->rep->bytes += len;
	fmt_field(call->rep->server, sizeof call->rep->server, "%s", srv->text);
	struct netd_err chk = {0};
	rc = dns_update_check(&res, srv->text, &run->zone, &chk);
	switch (rc) {
	case 0:
		return SENT_OK;
	case NETD_EEXIST:
	case NETD_ENOTFOUND:
		*rcode = res.rcode;
		return SENT_PREREQ;
	case -EIO:
		*retry = true;
		*why = chk;
		return rc;
	default:
		return netd_err_set(call->e, rc, NULL, "%s", chk.msg);
	}
}

/* Send act[lo..hi) until a server answers it, starting with the one in
 * use.  SENT_* or a negative error (@e names the zone and every server
 * tried when none took it). */
static int send_piece(struct msg_ctx *c, size_t lo, size_t hi, bool conv, unsigned *rcode)
{
	struct zone_run *run = c->run;
	const struct dns_zone_conf *z = run->z;
	char tried[NETD_ERR_MSG_MAX] = "";
	size_t tl = 0;
	int last = -EIO;
	for (size_t k = 0; k < z->n_servers; k++) {
		const struct dns_server *srv = &z->servers[run->cur];
		struct netd_err why = {0};
		bool retry = false;
		int rc = exchange(c, lo, hi, conv, srv, rcode, &retry, &why);
		if (!retry)
			return rc;
		last = rc;
		call_remember_failed(c->call, srv);
		if (tl < sizeof tried) {
			int n = snprintf(tried + tl, sizeof tried - tl, "%s%s", tl ? "; " : "",
					 why.msg[0] ? why.msg : netd_strerror(rc));
			tl = n < 0 ? sizeof tried : tl + (size_t)n;
		}
		if (k + 1 < z->n_servers) {
			run->cur = (run->cur + 1) % z->n_servers;
			c->call->rep->failovers++;
		}
	}
	return netd_err_set(c->call->e, last, NULL, "zone %s: no server took the update: %s",
			    run->zone_text, tried);
}

static const char *prereq_why(unsigned rcode)
{
	switch (rcode) {
	case DNS_RC_YXDOMAIN: return "name in use by records netd does not own (YXDOMAIN)";
	case DNS_RC_NXRRSET: return "ownership TXT missing or not netd's: owned by someone else? (NXRRSET)";
	case DNS_RC_YXRRSET: return "an RRset the plan expects absent exists (YXRRSET)";
	case DNS_RC_NXDOMAIN: return "a name the plan expects in use is not (NXDOMAIN)";
	default: return "a prerequisite failed";
	}
}

/* Deliver groups act[lo..hi): plain or converted, whichever worked last
 * first, the other after a refusal that it may cure; bisect what still
 * fails down to single groups, which are conflicts. */
static int deliver_range(struct msg_ctx *c, size_t lo, size_t hi)
{
	bool can_conv = range_convertible(c, lo, hi);
	bool conv_first = can_conv && c->run->hint_conv;
	unsigned plain_rc = 0;  /* RCODE of the plain form's refusal; 0: none */
	for (int k = 0; k < 2; k++) {
		bool conv = k == 0 ? conv_first : !conv_first;
		/* Converting cures only YXDOMAIN (our own earlier delivery). */
		if (k == 1 && conv && (!can_conv || plain_rc != DNS_RC_YXDOMAIN))
			break;
		unsigned rcode = 0;
		int rc = send_piece(c, lo, hi, conv, &rcode);
		if (rc < 0)
			return rc;
		if (k == 1 && rc != SENT_TOOBIG)
			c->call->rep->resends++;
		if (rc == SENT_OK) {
			c->run->hint_conv = conv;
			return 0;
		}
		if (rc == SENT_TOOBIG && !conv)
			break;
		if (rc == SENT_PREREQ && !conv)
			plain_rc = rcode;
	}
	if (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		c->call->rep->resends++;
		int rc = deliver_range(c, lo, mid);
		return rc ? rc : deliver_range(c, mid, hi);
	}
	const struct group *g = &c->g[c->act[lo]];
	if (plain_rc == 0)
		return netd_err_set(c->call->e, NETD_ETOOBIG, NULL,
				    "zone %s: the changes of %.255s do not fit an UPDATE of %zu bytes",
				    c->run->zone_text, c->m->chg[g->c_lo].group, c->run->budget);
	return report_conflict(c, g, DNS_CONFLICT_FOREIGN, prereq_why(plain_rc));
}

/* The end of the piece starting at act[lo]: as many groups as fit when
 * built in @conv form, by bounds first, then refilled from the measured
 * size (compression makes the real size smaller).  A refill estimates the
 * groups it adds by their bounds scaled with what the groups built so far
 * really took (plus a margin), so that few rounds fill the message; it is
 * kept only if the built message fits: adding groups can lose compression
 * of the earlier ones once the compression table is full.  After a refill
 * that does not fit, the rounds go on by the plain bounds. */
static int fill(struct msg_ctx *c, size_t lo, bool conv, size_t *end)
{
	struct dns_update *u = &c->call->u;
	int rc = dns_update_init(u, c->call->buf, DNS_MSG_MAX, c->run->budget, &c->run->zone, 0,
				 run_key(c->run));
	if (rc)
		return netd_err_set(c->call->e, rc, NULL, "zone %s: max_msg %zu leaves no room for "
				    "updates", c->run->zone_text, c->run->budget);
	size_t cap = u->w.cap, base = u->w.pos, size = base, good = lo, hi = lo;
	size_t bsum = 0, num = 1, den = 1;   /* bounds of [lo, good); scale num/den */
	bool scaled = false, plain = false;  /* plain: a scaled refill did not fit */
	for (int round = 0; round < FILL_ROUNDS; round++) {
		size_t est = size, add = 0;
		while (hi < c->n_act) {
			size_t b = c->g[c->act[hi]].bound[conv];
			size_t s = scaled ? (b * num + den - 1) / den + b / 16 : b;
			if (est + s > cap)
				break;
			est += s;
			add += b;
			hi++;
		}
		if (hi == good)
			break;
		if (hi == c->n_act && round == 0) {
			good = hi;  /* all of it fits by the bounds: no need to measure */
			break;
		}
		rc = build(c, lo, hi, conv, 0);
		if (rc == NETD_ETOOBIG && scaled) {
			hi = good;
			scaled = false;
			plain = true;
			continue;
		}
		if (rc == NETD_ETOOBIG)
			break;
		if (rc)
			return rc;
		good = hi;
		size = u->w.pos;
		bsum += add;
		if (hi == c->n_act)
			break;
		if (!plain && bsum > 0 && size > base) {
			num = size - base;
			den = bsum;
			scaled = true;
		}
	}
	*end = good > lo ? good : lo + 1;  /* a misfit alone: deliver_range() reports it */
	return 0;
}

static int call_init(struct deliver_call *call, struct dns_deliver_report *rep, struct netd_err *e)
{
	memset(call, 0, sizeof *call);
	call->rep = rep;
	call->e = e;
	call->buf = malloc(DNS_MSG_MAX);
	call->reply = malloc(DNS_MSG_MAX);
	if (!call->buf || !call->reply)
		return netd_err_set(e, -ENOMEM, NULL, "no memory for UPDATE buffers");
	return 0;
}

static void call_clear(struct deliver_call *call)
{
	free(call->buf);
	free(call->reply);
	call->buf = call->reply = NULL;
}

/* ---- pieces in flight at once ------------------------------------------ */

/* The groups of one message are independent (dns.h: no two share a guard
 * name, and a group's changes are at its own names), so its pieces can be
 * applied in any order, or together: up to DNS_DELIVER_PIPELINE senders
 * each take the next piece (cut by fill(), in order, under the lock) and
 * deliver it with deliver_range() into a report of its own; the reports
 * are appended to the call's in piece order afterwards, as if the pieces
 * had gone one after another.  A server that applies the UPDATEs queued
 * for a zone together (Knot) then makes one new version of the zone per
 * batch instead of one per UPDATE. */

struct piece {
	size_t lo, hi;                   /* act[lo..hi) */
	int rc;
	struct netd_err e;
	struct dns_deliver_report rep;
};

struct pipeline {
	const struct msg_ctx *c;         /* the message, its call and zone run */
	pthread_mutex_t mu;
	struct piece **p;                /* cut so far, in order */
	size_t n, cap, taken;            /* p[taken..n) are cut but not taken */
	size_t lo;                       /* the next piece starts at act[lo] */
	bool stop;                       /* a piece failed: take no more */
	int err;                         /* no memory for a piece */
	size_t cur;                      /* the zone's server in use, as last left */
	bool hint_conv;                  /* the zone's conversion hint, as last left */
};

struct sender {
	struct pipeline *pl;
	struct deliver_call call;        /* own buffers; base: the message's reports */
	struct zone_run run;             /* own copy: cur and hint_conv come from the pipeline */
	struct netd_err setup;
	pthread_t thread;
	bool started, ready;
};

/* Cut the next piece (lock held).  NULL when there is none; a piece whose
 * cut failed is listed with its error. */
static struct piece *piece_cut(struct pipeline *pl, struct msg_ctx *c)
{
	if (pl->stop || pl->lo >= c->n_act)
		return NULL;
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 16;
		struct piece **v = realloc(pl->p, cap * sizeof *v);
		if (!v) {
			pl->stop = true;
			pl->err = -ENOMEM;
			return NULL;
		}
		pl->p = v;
		pl->cap = cap;
	}
	struct piece *pc = calloc(1, sizeof *pc);
	if (!pc) {
		pl->stop = true;
		pl->err = -ENOMEM;
		return NULL;
	}
	pl->p[pl->n++] = pc;
	pc->lo = pc->hi = pl->lo;
	c->call->e = &pc->e;
	c->call->rep = &pc->rep;
	pc->rc = fill(c, pl->lo, pl->hint_conv, &pc->hi);
	if (pc->rc) {
		pl->stop = true;
		pl->taken = pl->n;
		return NULL;
	}
	pl->lo = pc->hi;
	return pc;
}

static void *sender_run(void *arg)
{
	struct sender *s = arg;
	struct pipeline *pl = s->pl;
	struct msg_ctx c = {.call = &s->call, .run = &s->run, .m = pl->c->m, .g = pl->c->g, .n_g = pl->c->n_g,
			    .act = pl->c->act, .n_act = pl->c->n_act};
	for (;;) {
		pthread_mutex_lock(&pl->mu);
		struct piece *pc = NULL;
		if (pl->taken < pl->n && !pl->stop)
			pc = pl->p[pl->taken++];
		else if ((pc = piece_cut(pl, &c)) != NULL)
			pl->taken = pl->n;
		s->run.cur = pl->cur;
		s->run.hint_conv = pl->hint_conv;
		pthread_mutex_unlock(&pl->mu);
		if (!pc)
			break;
		s->call.e = &pc->e;
		s->call.rep = &pc->rep;
		int rc = deliver_range(&c, pc->lo, pc->hi);
		pthread_mutex_lock(&pl->mu);
		pc->rc = rc;
		pl->stop |= rc != 0;
		pl->cur = s->run.cur;
		pl->hint_conv = s->run.hint_conv;
		pthread_mutex_unlock(&pl->mu);
	}
	free(c.items);
	return NULL;
}

/* Deliver the message's groups act[0..n_act) with pieces in flight at once,
 * the first piece being act[0..first_hi).  Returns as deliver_msg(). */
static int pipeline_run(struct msg_ctx *c, size_t first_hi)
{
	struct deliver_call *call = c->call;
	struct pipeline pl = {.c = c, .cur = c->run->cur, .hint_conv = c->run->hint_conv};
	struct sender *snd = calloc(DNS_DELIVER_PIPELINE, sizeof *snd);
	struct piece *first = calloc(1, sizeof *first);
	pl.p = malloc(16 * sizeof *pl.p);
	if (!snd || !first || !pl.p || pthread_mutex_init(&pl.mu, NULL) != 0) {
		free(snd);
		free(first);
		free(pl.p);
		return netd_err_set(call->e, -ENOMEM, NULL, "no memory to send the pieces of a message");
	}
	pl.cap = 16;
	first->hi = first_hi;
	pl.p[pl.n++] = first;
	pl.lo = first_hi;
	for (size_t i = 0; i < DNS_DELIVER_PIPELINE; i++) {
		struct sender *s = &snd[i];
		s->pl = &pl;
		s->run = *c->run;
		if (call_init(&s->call, NULL, &s->setup) != 0) {
			call_clear(&s->call);
			continue;
		}
		s->call.base[0] = call->base[0];
		s->call.base[1] = call->rep;
		s->ready = true;
	}
	/* the first sender on this thread, after the others started */
	bool any = snd[0].ready;
	for (size_t i = 1; i < DNS_DELIVER_PIPELINE; i++) {
		if (snd[i].ready)
			snd[i].started = pthread_create(&snd[i].thread, NULL, sender_run, &snd[i]) == 0;
		any |= snd[i].started;
	}
	if (snd[0].ready)
		sender_run(&snd[0]);
	for (size_t i = 1; i < DNS_DELIVER_PIPELINE; i++)
		if (snd[i].started)
			pthread_join(snd[i].thread, NULL);
	int rc = any ? 0 : netd_err_set(call->e, -ENOMEM, NULL, "no memory for UPDATE buffers");
	for (size_t i = 0; i < pl.n; i++) {
		struct piece *pc = pl.p[i];
		if (i < pl.taken || pc->rc) {
			int mr = report_merge(call->rep, &pc->rep);
			if (!rc && pc->rc) {
				*call->e = pc->e;
				rc = pc->rc;
			}
			if (!rc && mr)
				rc = netd_err_set(call->e, mr, NULL, "no memory for a conflict report");
		}
		dns_deliver_report_clear(&pc->rep);
		free(pc);
	}
	if (!rc && pl.err)
		rc = netd_err_set(call->e, pl.err, NULL, "no memory to send the pieces of a message");
	for (size_t i = 0; i < DNS_DELIVER_PIPELINE; i++) {
		for (size_t k = 0; k < snd[i].call.n_failed; k++)
			call_remember_failed(call, &snd[i].call.failed[k]);
		call_clear(&snd[i].call);
	}
	c->run->cur = pl.cur;
	c->run->hint_conv = pl.hint_conv;
	pthread_mutex_destroy(&pl.mu);
	free(pl.p);
	free(snd);
	return rc;
}

static int deliver_msg(struct deliver_call *call, struct zone_run *run, const struct dns_plan_msg *m)
{
	struct msg_ctx c = {.call = call, .run = run, .m = m};
	int rc = groups_init(&c);
	if (!rc)
		rc = screen(&c);
	if (!rc && c.n_act) {
		size_t hi = 0;
		rc = fill(&c, 0, run->hint_conv, &hi);
		if (!rc && hi < c.n_act && DNS_DELIVER_PIPELINE > 1)
			rc = pipeline_run(&c, hi);
		else
			for (size_t lo = 0; !rc && lo < c.n_act;) {
				if (lo > 0)
					rc = fill(&c, lo, run->hint_conv, &hi);
				if (!rc)
					rc = deliver_range(&c, lo, hi);
				lo = hi;
			}
	}
	free(c.g);
	free(c.act);
	free(c.items);
	return rc;
}

/* ---- zones and calls -------------------------------------------------- */

static int run_init(struct zone_run *r, const struct dns_zone_conf *z, const struct deliver_call *call,
		    struct netd_err *e)
{
	struct netd_err why = {0};
	memset(r, 0, sizeof *r);
	r->z = z;
	if (dns_name_parse(z->zone.name, 0, &r->zone, &why) != 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "zone \"%.255s\": %s", z->zone.name, why.msg);
	int n = dns_name_print(&r->zone, r->zone_text, sizeof r->zone_text);
	if (n > 1)
		r->zone_text[n - 1] = '\0';
	if (z->n_servers == 0 || z->n_servers > DNS_ZONE_SERVERS_MAX)
		return netd_err_set(e, NETD_EINVAL, NULL, "zone %s: %zu servers configured (1..%d)",
				    r->zone_text, z->n_servers, DNS_ZONE_SERVERS_MAX);
	if (z->has_key && dns_name_check(&z->key.name) != 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "zone %s: the TSIG key has no valid name",
				    r->zone_text);
	r->budget = z->max_msg ? z->max_msg : DNS_MSG_MAX;
	if (r->budget < DNS_DELIVER_MSG_MIN || r->budget > DNS_MSG_MAX)
		return netd_err_set(e, NETD_EINVAL, NULL, "zone %s: max_msg %zu outside %u..%u",
				    r->zone_text, z->max_msg, DNS_DELIVER_MSG_MIN, DNS_MSG_MAX);
	uint32_t t = z->timeout_ms ? z->timeout_ms : DNS_DELIVER_TIMEOUT_MS;
	r->timeout_ms = t > 600000u ? 600000 : (int)t;
	/* Servers that failed for another zone of this call go last. */
	for (size_t i = 0; i < z->n_servers; i++)
		if (!call_failed(call, &z->servers[i])) {
			r->cur = i;
			break;
		}
	r->ready = true;
	return 0;
}

int dns_deliver_msg(const struct dns_plan_msg *m, const struct dns_zone_conf *z,
		    struct dns_deliver_report *rep, struct netd_err *e)
{
	struct deliver_call call;
	struct zone_run run;
	int rc = call_init(&call, rep, e);
	if (!rc)
		rc = run_init(&run, z, &call, e);
	if (!rc)
		rc = deliver_msg(&call, &run, m);
	call_clear(&call);
	return rc;
}

int dns_deliver_plan(const struct dns_plan *p, const struct dns_zone_conf *zones, size_t n_zones,
		     size_t *done, struct dns_deliver_report *rep, struct netd_err *e)
{
	struct deliver_call call;
	struct zone_run *runs = calloc(n_zones ? n_zones : 1, sizeof *runs);
	*done = 0;
	int rc = call_init(&call, rep, e);
	if (!rc && !runs)
		rc = netd_err_set(e, -ENOMEM, NULL, "no memory for %zu zones", n_zones);
	for (size_t i = 0; !rc && i < p->n_msg; i++) {
		const struct dns_plan_msg *m = &p->msg[i];
		if (m->zone >= n_zones) {
			rc = netd_err_set(e, NETD_EINVAL, NULL, "plan message %zu (stage %u) is for zone %zu, "
					  "but %zu zones are configured", i, m->stage, m->zone, n_zones);
			break;
		}
		struct zone_run *r = &runs[m->zone];
		if (!r->ready)
			rc = run_init(r, &zones[m->zone], &call, e);
		if (!rc)
			rc = deliver_msg(&call, r, m);
		if (!rc)
			++*done;
	}
	call_clear(&call);
	free(runs);
	return rc;
}

/* ---- a stage at once ---------------------------------------------------- */

/* A name that a message's groups may fail on or depend on, and whose. */
struct stage_name {
	const char *name;
	size_t job;
};

static int stage_name_cmp(const void *pa, const void *pb)
{
	const struct stage_name *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);
	return c ? c : (a->job < b->job ? -1 : a->job > b->job);
}

struct name_list {
	struct stage_name *v;
	size_t n, cap;
};

static int name_push(struct name_list *l, const char *name, size_t job)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct stage_name *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct stage_name){.name = name, .job = job};
	return 0;
}

/* Whether sorted @l holds @name for a job other than @job. */
static bool name_other(const struct name_list *l, const char *name, size_t job)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(l->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < l->n && strcmp(l->v[lo].name, name) == 0; lo++)
		if (l->v[lo].job != job)
			return true;
	return false;
}

static bool points(const struct dns_change *ch)
{
	return ch->rec.type == DNS_REC_PTR || ch->rec.type == DNS_REC_CNAME;
}

/* Could a group of one job be withheld because of a group of another job
 * (withheld_why())?  Only then must the jobs go one after another.  1 yes,
 * 0 no, -ENOMEM. */
static int stage_dependent(const struct dns_deliver_job *jobs, size_t n)
{
	struct name_list groups = {0}, kept = {0};   /* what may fail, what may be kept */
	int rc = 0;
	for (size_t j = 0; j < n && !rc; j++) {
		const struct dns_plan_msg *m = jobs[j].m;
		for (size_t i = 0; i < m->n_chg && !rc; i++) {
			const struct dns_change *ch = &m->chg[i];
			if (i == 0 || strcmp(ch->group, m->chg[i - 1].group) != 0)
				rc = name_push(&groups, ch->group, j);
			if (!rc && ch->op == DNS_CHG_DEL && points(ch))
				rc = name_push(&kept, ch->rec.data, j);
		}
	}
	if (!rc && groups.n > 1)
		qsort(groups.v, groups.n, sizeof *groups.v, stage_name_cmp);
	if (!rc && kept.n > 1)
		qsort(kept.v, kept.n, sizeof *kept.v, stage_name_cmp);
	for (size_t j = 0; j < n && !rc; j++) {
		const struct dns_plan_msg *m = jobs[j].m;
		for (size_t i = 0; i < m->n_chg && !rc; i++) {
			const struct dns_change *ch = &m->chg[i];
			if ((i == 0 || strcmp(ch->group, m->chg[i - 1].group) != 0) && name_other(&groups, ch->group, j))
				rc = 1;
			else if (ch->op == DNS_CHG_ADD && points(ch) && name_other(&groups, ch->rec.data, j))
				rc = 1;
			else if (ch->op == DNS_CHG_DEL && name_other(&kept, ch->group, j))
				rc = 1;
		}
	}
	free(groups.v);
	free(kept.v);
	return rc;
}

struct stage_run {
	struct dns_deliver_job *job;
	const struct dns_deliver_report *base;
	struct dns_deliver_report own;
	pthread_t thread;
	bool started;
};

static void *stage_job(void *arg)
{
	struct stage_run *x = arg;
	struct dns_deliver_job *job = x->job;
	struct deliver_call call;
	struct zone_run run;
	netd_err_clear(&job->e);
	int rc = call_init(&call, &x->own, &job->e);
	call.base[0] = x->base;
	if (!rc)
		rc = run_init(&run, job->z, &call, &job->e);
	if (!rc)
		rc = deliver_msg(&call, &run, job->m);
	call_clear(&call);
	job->rc = rc;
	job->ran = true;
	job->updates = x->own.updates;
	fmt_field(job->server, sizeof job->server, "%s", x->own.updates ? x->own.server : "");
	return NULL;
}

/* One after another into @rep, stopping at the first failure. */
static int stage_serial(struct dns_deliver_job *jobs, size_t n, struct dns_deliver_report *rep)
{
	for (size_t j = 0; j < n; j++) {
		unsigned before = rep->updates;
		netd_err_clear(&jobs[j].e);
		jobs[j].rc = dns_deliver_msg(jobs[j].m, jobs[j].z, rep, &jobs[j].e);
		jobs[j].ran = true;
		jobs[j].updates = rep->updates - before;
		fmt_field(jobs[j].server, sizeof jobs[j].server, "%s", jobs[j].updates ? rep->server : "");
		if (jobs[j].rc < 0)
			return jobs[j].rc;
	}
	return 0;
}

int dns_deliver_stage(struct dns_deliver_job *jobs, size_t n, struct dns_deliver_report *rep)
{
	for (size_t j = 0; j < n; j++) {
		jobs[j].rc = 0;
		jobs[j].ran = false;
		jobs[j].updates = 0;
		jobs[j].server[0] = '\0';
		netd_err_clear(&jobs[j].e);
	}
	int dep = n > 1 ? stage_dependent(jobs, n) : 1;
	if (dep < 0) {
		jobs[0].rc = netd_err_set(&jobs[0].e, dep, NULL, "no memory to order the stage");
		jobs[0].ran = true;
		return dep;
	}
	if (dep)
		return stage_serial(jobs, n, rep);
	struct stage_run *x = calloc(n, sizeof *x);
	if (!x)
		return stage_serial(jobs, n, rep);
	for (size_t j = 0; j < n; j++) {
		x[j].job = &jobs[j];
		x[j].base = rep;
	}
	/* the first job on this thread; a job whose thread does not start too */
	for (size_t j = 1; j < n; j++)
		x[j].started = pthread_create(&x[j].thread, NULL, stage_job, &x[j]) == 0;
	for (size_t j = 0; j < n; j++)
		if (!x[j].started)
			stage_job(&x[j]);
	for (size_t j = 1; j < n; j++)
		if (x[j].started)
			pthread_join(x[j].thread, NULL);
	int rc = 0;
	for (size_t j = 0; j < n; j++) {
		int mr = report_merge(rep, &x[j].own);
		if (mr && !rc) {
			jobs[j].rc = netd_err_set(&jobs[j].e, mr, NULL, "no memory for a conflict report");
			rc = mr;
		}
		if (!rc && jobs[j].rc < 0)
			rc = jobs[j].rc;
		dns_deliver_report_clear(&x[j].own);
	}
	free(x);
	return rc;
}
