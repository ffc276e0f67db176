/* annealer/bind.c — binding node-roles to their parents; cycles; cohorts.
 *
 * ann_bind() works in four phases so that a failure changes nothing:
 *   1. parents: for each unbound node-role of the deployment (the batch),
 *      each required role is resolved to parent node-roles by the rules in
 *      annealer.h, into a flat temporary list; implicit node-roles created
 *      on the way join the batch (and are removed again on failure);
 *   2. order: a depth-first walk over the batch along parent edges finds a
 *      cycle (reported with its path) or, in post-order, each cohort;
 *   3. reserve: every vector the install writes is grown beforehand;
 *   4. install: parents, children, parents-not-active counts, cohorts —
 *      no allocation, no failure.
 * Already bound node-roles never gain parents, so edges only point from the
 * batch to the batch or to bound node-roles: a cycle can only lie inside the
 * batch.  Cost: O(batch + edges + node-roles of the deployment).
 */
#include "annealer/ann_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct bind {
	uint32_t dep;
	uint32_t first_new;       /* implicit node-roles created here start at this id */
	struct ann_vec batch;     /* node-roles being bound */
	struct ann_vec pl;        /* their parents, flat */
	struct ann_vec off;       /* batch[i]'s parents: pl[off[i] .. off[i+1]) */
	struct ann_vec *bucket;   /* per role: the deployment's node-roles of it */
	uint32_t n_bucket;
	uint32_t *bix;            /* node-role id -> batch index, or ANN_NONE */
	uint32_t *cohort;         /* per batch index */
};

static void bind_free(struct bind *b)
{
	ann_vec_free(&b->batch);
	ann_vec_free(&b->pl);
	ann_vec_free(&b->off);
	for (uint32_t i = 0; i < b->n_bucket; i++)
		ann_vec_free(&b->bucket[i]);
	free(b->bucket);
	free(b->bix);
	free(b->cohort);
}

/* ---- phase 1: parents ---- */

static int resolve_requires(struct ann *a, uint32_t role, struct netd_err *e)
{
	struct ann_role *r = &a->roles.v[role];
	for (uint32_t i = 0; i < r->n_req; i++) {
		if (r->req[i] != ANN_NONE)
			continue;
		if (ann_role_find(a, r->req_names[i], &r->req[i]) != 0) {
			char key[160], path[256];
			snprintf(path, sizeof path, "/netd:annealer/roles/role[name=%s]/requires",
				 netd_path_key(r->name, key, sizeof key));
			return netd_err_set(e, NETD_ENOTFOUND, path, "role %s requires unknown role %s",
					    r->name, r->req_names[i]);
		}
	}
	return 0;
}

static int push_all(struct ann_vec *dst, const struct ann_vec *src)
{
	int rc = ann_vec_grow_to(dst, dst->n + src->n);
	if (rc)
		return rc;
	memcpy(dst->v + dst->n, src->v, (size_t)src->n * sizeof(*src->v));
	dst->n += src->n;
	return 0;
}

/* The node-role of @role on @node: in the deployment being bound, else the
 * lowest id among bound ones in other deployments.  ANN_NONE if none. */
static uint32_t same_node(const struct ann *a, const struct bind *b, uint32_t node, uint32_t role)
{
	const struct ann_vec *l = &a->nodes.v[node].nrs;
	uint32_t best = ANN_NONE;
	for (uint32_t i = 0; i < l->n; i++) {
		const struct ann_nr *y = &a->nrs.v[l->v[i]];
		if (y->role != role)
			continue;
		if (y->dep == b->dep)
			return l->v[i];
		if (y->bound && best == ANN_NONE)
			best = l->v[i];
	}
	return best;
}

static int add_implicit(struct ann *a, struct bind *b, uint32_t x, uint32_t role)
{
	uint32_t y;
	int rc = ann_nr_append(a, a->nrs.v[x].node, role, b->dep, &y);
	if (rc)
		return rc;
	if ((rc = ann_vec_push(&b->batch, y)) || (rc = ann_vec_push(&b->bucket[role], y)))
		return rc;
	return ann_vec_push(&b->pl, y);
}

/* Append to b->pl the parents that requirement @role gives node-role @x. */
static int bind_req(struct ann *a, struct bind *b, uint32_t x, uint32_t role, struct netd_err *e)
{
	const struct ann_role *r = &a->roles.v[role];
	const struct ann_vec *peers = &b->bucket[role];
	if ((r->flags & ANN_ROLE_CLUSTER) && peers->n > 0)
		return push_all(&b->pl, peers);
	uint32_t y = same_node(a, b, a->nrs.v[x].node, role);
	if (y != ANN_NONE)
		return ann_vec_push(&b->pl, y);
	if (r->flags & ANN_ROLE_IMPLICIT)  /* node-local by nature */
		return add_implicit(a, b, x, role);
	if (peers->n > 0)
		return push_all(&b->pl, peers);
	char path[128], name[160];
	ann_nr_path(a, x, path, sizeof path);
	return netd_err_set(e, NETD_ENOTFOUND, path,
			    "node-role %" PRIu32 " (%s) requires role %s: none on node %s or in deployment %s",
			    x, ann_nr_name(a, x, name, sizeof name), r->name,
			    a->nodes.v[a->nrs.v[x].node].name, a->deps.v[b->dep].name);
}

static int collect_parents(struct ann *a, struct bind *b, struct netd_err *e)
{
	int rc;
	/* The batch grows while we walk it (implicit node-roles). */
	for (uint32_t i = 0; i < b->batch.n; i++) {
		uint32_t x = b->batch.v[i];
		uint32_t role = a->nrs.v[x].role;
		if ((rc = resolve_requires(a, role, e)) || (rc = ann_vec_push(&b->off, b->pl.n)))
			return rc;
		for (uint32_t k = 0; k < a->roles.v[role].n_req; k++)
			if ((rc = bind_req(a, b, x, a->roles.v[role].req[k], e)))
				return rc;
	}
	return ann_vec_push(&b->off, b->pl.n);
}

static int start(struct ann *a, struct bind *b)
{
	const struct ann_dep *d = &a->deps.v[b->dep];
	b->n_bucket = a->roles.n;
	b->bucket = calloc(b->n_bucket ? b->n_bucket : 1, sizeof(*b->bucket));
	if (!b->bucket)
		return -ENOMEM;
	for (uint32_t i = 0; i < d->nrs.n; i++) {
		uint32_t x = d->nrs.v[i];
		int rc = ann_vec_push(&b->bucket[a->nrs.v[x].role], x);
		if (rc == 0 && !a->nrs.v[x].bound)
			rc = ann_vec_push(&b->batch, x);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- phase 2: cycles and cohorts ---- */

enum { WHITE = 0, GREY, BLACK };

struct frame {
	uint32_t i;   /* batch index */
	uint32_t k;   /* next parent to look at */
};

/* "cycle: a@n1 -> b@n1 -> a@n1": the frames from the one holding batch
 * index @j to the top, then @j again. */
static int cycle_err(const struct ann *a, const struct bind *b, const struct frame *st,
		     uint32_t sp, uint32_t j, struct netd_err *e)
{
	char msg[NETD_ERR_MSG_MAX], name[160], path[128];
	size_t len = (size_t)snprintf(msg, sizeof msg, "cycle:");
	uint32_t s = 0;
	while (st[s].i != j)
		s++;
	for (uint32_t f = s; f <= sp; f++) {
		uint32_t id = b->batch.v[f < sp ? st[f].i : j];
		ann_nr_name(a, id, name, sizeof name);
		if (len < sizeof msg)
			len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s", f == s ? " " : " -> ", name);
	}
	ann_nr_path(a, b->batch.v[j], path, sizeof path);
	return netd_err_set(e, NETD_EINVAL, path, "%s", msg);
}

static uint32_t cohort_of(const struct ann *a, const struct bind *b, uint32_t i)
{
	uint32_t c = 0;
	for (uint32_t k = b->off.v[i]; k < b->off.v[i + 1]; k++) {
		uint32_t p = b->pl.v[k];
		uint32_t pc = b->bix[p] == ANN_NONE ? a->nrs.v[p].cohort : b->cohort[b->bix[p]];
		if (pc + 1 > c)
			c = pc + 1;
	}
	return c;
}

/* Walk from batch index @root; 0, or NETD_EINVAL for a cycle. */
static int walk(const struct ann *a, struct bind *b, uint8_t *color, struct frame *st,
		uint32_t root, struct netd_err *e)
{
	uint32_t sp = 0;
	st[sp++] = (struct frame){ .i = root };
	color[root] = GREY;
	while (sp > 0) {
		struct frame *fr = &st[sp - 1];
		uint32_t i = fr->i;
		if (b->off.v[i] + fr->k < b->off.v[i + 1]) {
			uint32_t p = b->pl.v[b->off.v[i] + fr->k++];
			uint32_t j = b->bix[p];
			if (j == ANN_NONE || color[j] == BLACK)
				continue;
			if (color[j] == GREY)
				return cycle_err(a, b, st, sp, j, e);
			color[j] = GREY;
			st[sp++] = (struct frame){ .i = j };
			continue;
		}
		b->cohort[i] = cohort_of(a, b, i);
		color[i] = BLACK;
		sp--;
	}
	return 0;
}

static int order(const struct ann *a, struct bind *b, struct netd_err *e)
{
	uint32_t n = b->batch.n;
	uint8_t *color = calloc(n, 1);
	struct frame *st = malloc((size_t)n * sizeof(*st));
	int rc = -ENOMEM;
	b->bix = malloc((size_t)a->nrs.n * sizeof(*b->bix));
	b->cohort = malloc((size_t)n * sizeof(*b->cohort));
	if (!color || !st || !b->bix || !b->cohort)
		goto cleanup;
	for (uint32_t x = 0; x < a->nrs.n; x++)
		b->bix[x] = ANN_NONE;
	for (uint32_t i = 0; i < n; i++)
		b->bix[b->batch.v[i]] = i;
	rc = 0;
	for (uint32_t i = 0; i < n && rc == 0; i++)
		if (color[i] == WHITE)
			rc = walk(a, b, color, st, i, e);
cleanup:
	free(color);
	free(st);
	return rc;
}

/* ---- phases 3 and 4: reserve, install ---- */

static int reserve(struct ann *a, const struct bind *b)
{
	uint32_t *cnt = calloc(a->nrs.n ? a->nrs.n : 1, sizeof(*cnt));
	int rc = -ENOMEM;
	if (!cnt)
		return rc;
	for (uint32_t k = 0; k < b->pl.n; k++)
		cnt[b->pl.v[k]]++;
	for (uint32_t k = 0; k < b->pl.n; k++) {
		uint32_t p = b->pl.v[k];
		struct ann_vec *c = &a->nrs.v[p].children;
		if (cnt[p] && ann_vec_grow_to(c, c->n + cnt[p]))
			goto cleanup;
		cnt[p] = 0;
	}
	for (uint32_t i = 0; i < b->batch.n; i++)
		if (ann_vec_reserve(&a->nrs.v[b->batch.v[i]].parents, b->off.v[i + 1] - b->off.v[i]))
			goto cleanup;
	rc = 0;
cleanup:
	free(cnt);
	return rc;
}

static void install(struct ann *a, const struct bind *b)
{
	for (uint32_t i = 0; i < b->batch.n; i++) {
		uint32_t x = b->batch.v[i];
		struct ann_nr *xr = &a->nrs.v[x];
		for (uint32_t k = b->off.v[i]; k < b->off.v[i + 1]; k++) {
			uint32_t p = b->pl.v[k];
			struct ann_nr *pr = &a->nrs.v[p];
			xr->parents.v[xr->parents.n++] = p;
			pr->children.v[pr->children.n++] = x;
			if (pr->state != ANN_ACTIVE)
				xr->nonactive++;
		}
		xr->cohort = b->cohort[i];
		xr->bound = true;
	}
}

int ann_bind(struct ann *a, uint32_t dep, struct netd_err *e)
{
	if (dep >= a->deps.n)
		return netd_err_set(e, NETD_ENOTFOUND, "/netd:annealer/deployments/deployment",
				    "no deployment %" PRIu32, dep);
	struct bind b = { .dep = dep, .first_new = a->nrs.n };
	int rc = start(a, &b);
	if (rc == 0 && b.batch.n == 0)
		goto cleanup;
	if (rc || (rc = collect_parents(a, &b, e)) || (rc = order(a, &b, e)) || (rc = reserve(a, &b)))
		goto cleanup;
	install(a, &b);
	log_debug("deployment %s: bound %" PRIu32 " node-roles (%" PRIu32 " implicit), %" PRIu32
		  " parent edges", a->deps.v[dep].name, b.batch.n, a->nrs.n - b.first_new, b.pl.n);
cleanup:
	if (rc) {
		for (uint32_t i = 0; i < b.batch.n; i++)
			if (b.batch.v[i] < b.first_new)
				ann_vec_free(&a->nrs.v[b.batch.v[i]].parents);
		ann_nr_truncate(a, b.first_new);
		if (rc == -ENOMEM)
			netd_err_set(e, rc, NULL, "out of memory binding deployment %s",
				     a->deps.v[dep].name);
	}
	bind_free(&b);
	return rc;
}
