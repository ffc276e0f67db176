/* annealer/annealer.c — the annealer's model, state machine and scheduler.
 *
 * Overview.  Everything is an array indexed by a dense id: roles, nodes,
 * deployments and node-roles (struct ann_nr).  A node-role keeps its parents
 * and children as id vectors (bound by bind.c) and a count of parents that
 * are not active, so "are all my parents active?" is one comparison.
 *
 * apply_state() is the one place a state changes; ann_set_state() is its
 * checked public face and every semantic operation (commit, next_runnable,
 * complete, retry, invalidate, recover) goes through it.  It keeps these
 * indexes right, each in O(1) or O(children) or O(log n):
 *   - the parents-not-active count of each child (on entering or leaving
 *     active);
 *   - the node's busy slot and the global running count (transition);
 *   - the todo queues: each todo node-role waits in exactly one of the ready
 *     heap (key cohort, id), the timer heap (backoff; key next_eligible, id)
 *     or its node's parked list (the node was busy when it came up); a
 *     node-role leaving todo is removed from where it waits, and a node
 *     leaving transition moves its parked node-roles back to ready;
 *   - per-state counts, globally and per deployment (deployment state).
 * Then it logs "node-role N (node/role): old -> new (cause)" at debug and
 * calls the event callback.  The policy — unblocking children, retry with
 * backoff, re-run cascades — lives in the operations above, which only call
 * apply_state() for transitions in the table.
 *
 * Capacities (queues, parked lists, the traversal stack) are reserved when a
 * node-role is added, so nothing after binding allocates: every state
 * change is infallible once its checks pass.
 *
 * Work accounting: a->visits counts every node-role the scheduler touches
 * (heap pops, children examined, parked entries moved, descendants visited),
 * so tests can assert the work per completion is O(children).
 */
#include "annealer/ann_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static const char *const state_name[ANN_NSTATES] = {
	[ANN_PROPOSED] = "proposed",
	[ANN_TODO] = "todo",
	[ANN_TRANSITION] = "transition",
	[ANN_ACTIVE] = "active",
	[ANN_ERROR] = "error",
	[ANN_BLOCKED] = "blocked",
};

static const char *const dep_state_name[] = {
	[ANN_DEP_PROPOSED] = "proposed",
	[ANN_DEP_COMMITTED] = "committed",
	[ANN_DEP_ACTIVE] = "active",
	[ANN_DEP_ERROR] = "error",
};

/* The transition table: allowed[from] is the set of states it may go to. */
#define S(x) (1u << (x))
static const unsigned allowed[ANN_NSTATES] = {
	[ANN_PROPOSED] = S(ANN_TODO) | S(ANN_BLOCKED),
	[ANN_TODO] = S(ANN_TRANSITION) | S(ANN_BLOCKED),
	[ANN_TRANSITION] = S(ANN_ACTIVE) | S(ANN_TODO) | S(ANN_ERROR) | S(ANN_BLOCKED),
	[ANN_ACTIVE] = S(ANN_TODO) | S(ANN_BLOCKED),
	[ANN_ERROR] = S(ANN_TODO) | S(ANN_BLOCKED),
	[ANN_BLOCKED] = S(ANN_TODO),
};
#undef S

const char *ann_state_name(enum ann_state s)
{
	return (unsigned)s < ANN_NSTATES ? state_name[s] : "?";
}

const char *ann_dep_state_name(enum ann_dep_state s)
{
	return (unsigned)s <= ANN_DEP_ERROR ? dep_state_name[s] : "?";
}

bool ann_transition_allowed(enum ann_state from, enum ann_state to)
{
	if ((unsigned)from >= ANN_NSTATES || (unsigned)to >= ANN_NSTATES)
		return false;
	return (allowed[from] >> to) & 1u;
}

/* ---- names and paths ---- */

static const char *role_name_of(const void *o, uint32_t id)
{
	return ((const struct ann *)o)->roles.v[id].name;
}

static const char *node_name_of(const void *o, uint32_t id)
{
	return ((const struct ann *)o)->nodes.v[id].name;
}

static const char *dep_name_of(const void *o, uint32_t id)
{
	return ((const struct ann *)o)->deps.v[id].name;
}

static bool nr_ok(const struct ann *a, uint32_t id)
{
	return a && id < a->nrs.n;
}

const char *ann_nr_name(const struct ann *a, uint32_t nr, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	if (!nr_ok(a, nr)) {
		snprintf(buf, len, "?");
		return buf;
	}
	const struct ann_nr *x = &a->nrs.v[nr];
	snprintf(buf, len, "%s@%s", a->roles.v[x->role].name, a->nodes.v[x->node].name);
	return buf;
}

void ann_nr_path(const struct ann *a, uint32_t nr, char *buf, size_t len)
{
	snprintf(buf, len, "/netd:annealer/node-roles/node-role[id='%" PRIu32 "']", nr);
}

/* Fill @e for node-role @nr: "node-role N (role@node): <fmt>". */
static int nr_err(const struct ann *a, struct netd_err *e, int code, uint32_t nr,
		  const char *what)
{
	char path[128], name[160];
	ann_nr_path(a, nr, path, sizeof path);
	return netd_err_set(e, code, path, "node-role %" PRIu32 " (%s): %s", nr,
			    ann_nr_name(a, nr, name, sizeof name), what);
}

static int nr_missing(struct netd_err *e, uint32_t nr)
{
	char path[128];
	ann_nr_path(NULL, nr, path, sizeof path);
	return netd_err_set(e, NETD_ENOTFOUND, path, "no node-role %" PRIu32, nr);
}

/* ---- lifetime ---- */

int ann_new(const struct ann_opts *opts, struct ann **ret)
{
	struct ann *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (opts)
		a->opts = *opts;
	*ret = a;
	return 0;
}

static void role_free(struct ann_role *r)
{
	free(r->name);
	free(r->jig);
	for (uint32_t i = 0; i < r->n_req; i++)
		free(r->req_names[i]);
	free(r->req_names);
	free(r->req);
	ann_vec_free(&r->nrs);
}

void ann_free(struct ann *a)
{
	if (!a)
		return;
	for (uint32_t i = 0; i < a->roles.n; i++)
		role_free(&a->roles.v[i]);
	for (uint32_t i = 0; i < a->nodes.n; i++) {
		free(a->nodes.v[i].name);
		ann_vec_free(&a->nodes.v[i].nrs);
		ann_vec_free(&a->nodes.v[i].parked);
	}
	for (uint32_t i = 0; i < a->deps.n; i++) {
		free(a->deps.v[i].name);
		ann_vec_free(&a->deps.v[i].nrs);
	}
	for (uint32_t i = 0; i < a->nrs.n; i++) {
		ann_vec_free(&a->nrs.v[i].parents);
		ann_vec_free(&a->nrs.v[i].children);
	}
	free(a->roles.v);
	free(a->nodes.v);
	free(a->deps.v);
	free(a->nrs.v);
	ann_index_free(&a->role_ix);
	ann_index_free(&a->node_ix);
	ann_index_free(&a->dep_ix);
	ann_vec_free(&a->ready);
	ann_vec_free(&a->timer);
	ann_vec_free(&a->scratch);
	free(a);
}

/* ---- model ---- */

static int role_fill(struct ann_role *r, const struct ann_role_def *def)
{
	const char *jig = def->jig && def->jig[0] ? def->jig : "noop";
	*r = (struct ann_role){ .flags = def->flags, .retry = def->retry };
	r->name = strdup(def->name);
	r->jig = strdup(jig);
	if (!r->name || !r->jig)
		goto fail;
	if (def->n_requires > 0) {
		r->req_names = calloc(def->n_requires, sizeof(*r->req_names));
		r->req = malloc(def->n_requires * sizeof(*r->req));
		if (!r->req_names || !r->req)
			goto fail;
	}
	for (size_t i = 0; i < def->n_requires; i++) {
		r->req[i] = ANN_NONE;
		r->req_names[i] = strdup(def->requires[i]);
		r->n_req = (uint32_t)(i + 1);
		if (!r->req_names[i])
			goto fail;
	}
	return 0;
fail:
	role_free(r);
	return -ENOMEM;
}

static int role_def_check(const struct ann_role_def *def, struct netd_err *e)
{
	if (!def || !def->name || !def->name[0])
		return netd_err_set(e, NETD_EINVAL, "/netd:annealer/roles/role", "a role needs a name");
	char key[160], path[256];
	snprintf(path, sizeof path, "/netd:annealer/roles/role[name=%s]/requires",
		 netd_path_key(def->name, key, sizeof key));
	if (def->n_requires > UINT32_MAX / 2 || (def->n_requires && !def->requires))
		return netd_err_set(e, NETD_EINVAL, path, "bad requires list");
	for (size_t i = 0; i < def->n_requires; i++) {
		if (!def->requires[i] || !def->requires[i][0])
			return netd_err_set(e, NETD_EINVAL, path, "role %s: empty requirement", def->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(def->requires[i], def->requires[j]) == 0)
				return netd_err_set(e, NETD_EINVAL, path, "role %s requires %s twice",
						    def->name, def->requires[i]);
	}
	return 0;
}

int ann_role_add(struct ann *a, const struct ann_role_def *def, uint32_t *ret_id,
		 struct netd_err *e)
{
	int rc = role_def_check(def, e);
	if (rc)
		return rc;
	if (ann_index_get(&a->role_ix, def->name, role_name_of, a) != ANN_NONE)
		return netd_err_set(e, NETD_EEXIST, "/netd:annealer/roles/role",
				    "role %s exists already", def->name);
	if (ANN_ARRAY_GROW(a->roles))
		return -ENOMEM;
	uint32_t id = a->roles.n;
	struct ann_role *r = &a->roles.v[id];
	if (role_fill(r, def))
		return -ENOMEM;
	if (ann_index_put(&a->role_ix, r->name, id, role_name_of, a)) {
		role_free(r);
		return -ENOMEM;
	}
	a->roles.n++;
	if (ret_id)
		*ret_id = id;
	return 0;
}

int ann_node_add(struct ann *a, const char *name, uint32_t *ret_id, struct netd_err *e)
{
	if (!name || !name[0])
		return netd_err_set(e, NETD_EINVAL, "/netd:annealer/nodes/node", "a node needs a name");
	if (ann_index_get(&a->node_ix, name, node_name_of, a) != ANN_NONE)
		return netd_err_set(e, NETD_EEXIST, "/netd:annealer/nodes/node",
				    "node %s exists already", name);
	if (ANN_ARRAY_GROW(a->nodes))
		return -ENOMEM;
	uint32_t id = a->nodes.n;
	struct ann_node *n = &a->nodes.v[id];
	*n = (struct ann_node){ .running = ANN_NONE, .name = strdup(name) };
	if (!n->name)
		return -ENOMEM;
	if (ann_index_put(&a->node_ix, n->name, id, node_name_of, a)) {
		free(n->name);
		return -ENOMEM;
	}
	a->nodes.n++;
	if (ret_id)
		*ret_id = id;
	return 0;
}

int ann_deployment_add(struct ann *a, const char *name, uint32_t *ret_id, struct netd_err *e)
{
	if (!name || !name[0])
		return netd_err_set(e, NETD_EINVAL, "/netd:annealer/deployments/deployment",
				    "a deployment needs a name");
	if (ann_index_get(&a->dep_ix, name, dep_name_of, a) != ANN_NONE)
		return netd_err_set(e, NETD_EEXIST, "/netd:annealer/deployments/deployment",
				    "deployment %s exists already", name);
	if (ANN_ARRAY_GROW(a->deps))
		return -ENOMEM;
	uint32_t id = a->deps.n;
	struct ann_dep *d = &a->deps.v[id];
	*d = (struct ann_dep){ .name = strdup(name), .state = ANN_DEP_PROPOSED };
	if (!d->name)
		return -ENOMEM;
	if (ann_index_put(&a->dep_ix, d->name, id, dep_name_of, a)) {
		free(d->name);
		return -ENOMEM;
	}
	a->deps.n++;
	if (ret_id)
		*ret_id = id;
	return 0;
}

/* Recompute @dep's state from its counts; log a change. */
static void dep_refresh(struct ann *a, uint32_t dep)
{
	struct ann_dep *d = &a->deps.v[dep];
	enum ann_dep_state s = ANN_DEP_PROPOSED;
	if (d->committed) {
		if (d->count[ANN_ERROR] > 0)
			s = ANN_DEP_ERROR;
		else if (d->count[ANN_ACTIVE] == d->nrs.n)
			s = ANN_DEP_ACTIVE;
		else
			s = ANN_DEP_COMMITTED;
	}
	if (s == d->state)
		return;
	log_debug("deployment %s: %s -> %s", d->name, dep_state_name[d->state], dep_state_name[s]);
	d->state = s;
}

int ann_nr_append(struct ann *a, uint32_t node, uint32_t role, uint32_t dep, uint32_t *ret_id)
{
	struct ann_node *n = &a->nodes.v[node];
	uint32_t id = a->nrs.n;
	/* Everything the state machine may need later is reserved now. */
	if (ANN_ARRAY_GROW(a->nrs) || ann_vec_grow_to(&a->ready, id + 1) ||
	    ann_vec_grow_to(&a->timer, id + 1) || ann_vec_grow_to(&a->scratch, id + 1) ||
	    ann_vec_grow_to(&n->parked, n->nrs.n + 1) || ann_vec_grow_to(&n->nrs, n->nrs.n + 1) ||
	    ann_vec_grow_to(&a->roles.v[role].nrs, a->roles.v[role].nrs.n + 1) ||
	    ann_vec_grow_to(&a->deps.v[dep].nrs, a->deps.v[dep].nrs.n + 1))
		return -ENOMEM;
	n->nrs.v[n->nrs.n++] = id;
	a->roles.v[role].nrs.v[a->roles.v[role].nrs.n++] = id;
	a->deps.v[dep].nrs.v[a->deps.v[dep].nrs.n++] = id;
	a->nrs.v[id] = (struct ann_nr){ .node = node, .role = role, .dep = dep,
					.state = ANN_PROPOSED, .queue = ANN_Q_NONE };
	a->nrs.n++;
	a->deps.v[dep].count[ANN_PROPOSED]++;
	a->count[ANN_PROPOSED]++;
	dep_refresh(a, dep);
	*ret_id = id;
	return 0;
}

void ann_nr_truncate(struct ann *a, uint32_t first)
{
	while (a->nrs.n > first) {
		uint32_t id = a->nrs.n - 1;
		struct ann_nr *x = &a->nrs.v[id];
		/* Appended last, so last in each list. */
		a->nodes.v[x->node].nrs.n--;
		a->roles.v[x->role].nrs.n--;
		a->deps.v[x->dep].nrs.n--;
		a->deps.v[x->dep].count[x->state]--;
		a->count[x->state]--;
		ann_vec_free(&x->parents);
		ann_vec_free(&x->children);
		a->nrs.n--;
		dep_refresh(a, x->dep);
	}
}

int ann_noderole_add(struct ann *a, uint32_t node, uint32_t role, uint32_t dep,
		     uint32_t *ret_id, struct netd_err *e)
{
	if (node >= a->nodes.n || role >= a->roles.n || dep >= a->deps.n)
		return netd_err_set(e, NETD_ENOTFOUND, "/netd:annealer/node-roles/node-role",
				    "no such node, role or deployment (%" PRIu32 ", %" PRIu32
				    ", %" PRIu32 ")", node, role, dep);
	uint32_t id;
	if (ann_noderole_find(a, node, role, dep, &id) == 0)
		return netd_err_set(e, NETD_EEXIST, "/netd:annealer/node-roles/node-role",
				    "node-role %s@%s in deployment %s exists already (%" PRIu32 ")",
				    a->roles.v[role].name, a->nodes.v[node].name,
				    a->deps.v[dep].name, id);
	int rc = ann_nr_append(a, node, role, dep, &id);
	if (rc)
		return rc;
	if (ret_id)
		*ret_id = id;
	return 0;
}

int ann_role_find(const struct ann *a, const char *name, uint32_t *ret_id)
{
	uint32_t id = name ? ann_index_get(&a->role_ix, name, role_name_of, a) : ANN_NONE;
	if (id == ANN_NONE)
		return NETD_ENOTFOUND;
	*ret_id = id;
	return 0;
}

int ann_node_find(const struct ann *a, const char *name, uint32_t *ret_id)
{
	uint32_t id = name ? ann_index_get(&a->node_ix, name, node_name_of, a) : ANN_NONE;
	if (id == ANN_NONE)
		return NETD_ENOTFOUND;
	*ret_id = id;
	return 0;
}

int ann_deployment_find(const struct ann *a, const char *name, uint32_t *ret_id)
{
	uint32_t id = name ? ann_index_get(&a->dep_ix, name, dep_name_of, a) : ANN_NONE;
	if (id == ANN_NONE)
		return NETD_ENOTFOUND;
	*ret_id = id;
	return 0;
}

int ann_noderole_find(const struct ann *a, uint32_t node, uint32_t role, uint32_t dep,
		      uint32_t *ret_id)
{
	if (node >= a->nodes.n)
		return NETD_ENOTFOUND;
	const struct ann_vec *l = &a->nodes.v[node].nrs;
	for (uint32_t i = 0; i < l->n; i++) {
		const struct ann_nr *x = &a->nrs.v[l->v[i]];
		if (x->role == role && x->dep == dep) {
			*ret_id = l->v[i];
			return 0;
		}
	}
	return NETD_ENOTFOUND;
}

/* ---- the todo queues ---- */

/* Min-heaps of node-role ids over a->ready (key cohort, id) and a->timer
 * (key next_eligible, id); each member's qpos is its index. */

static bool q_less(const struct ann *a, uint8_t q, uint32_t x, uint32_t y)
{
	const struct ann_nr *nx = &a->nrs.v[x], *ny = &a->nrs.v[y];
	uint64_t kx = q == ANN_Q_READY ? nx->cohort : nx->next_eligible;
	uint64_t ky = q == ANN_Q_READY ? ny->cohort : ny->next_eligible;
	return kx < ky || (kx == ky && x < y);
}

static struct ann_vec *q_vec(struct ann *a, uint8_t q)
{
	return q == ANN_Q_READY ? &a->ready : &a->timer;
}

static void q_set(struct ann *a, struct ann_vec *h, uint32_t i, uint32_t id)
{
	h->v[i] = id;
	a->nrs.v[id].qpos = i;
}

static void q_sift_up(struct ann *a, uint8_t q, uint32_t i)
{
	struct ann_vec *h = q_vec(a, q);
	uint32_t id = h->v[i];
	while (i > 0) {
		uint32_t up = (i - 1) / 2;
		if (!q_less(a, q, id, h->v[up]))
			break;
		q_set(a, h, i, h->v[up]);
		i = up;
	}
	q_set(a, h, i, id);
}

static void q_sift_down(struct ann *a, uint8_t q, uint32_t i)
{
	struct ann_vec *h = q_vec(a, q);
	uint32_t id = h->v[i];
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		uint32_t best = id;
		if (l < h->n && q_less(a, q, h->v[l], best)) {
			m = l;
			best = h->v[l];
		}
		if (l + 1 < h->n && q_less(a, q, h->v[l + 1], best))
			m = l + 1;
		if (m == i)
			break;
		q_set(a, h, i, h->v[m]);
		i = m;
	}
	q_set(a, h, i, id);
}

/* Capacity was reserved in ann_nr_append(): never fails. */
static void q_insert(struct ann *a, uint8_t q, uint32_t id)
{
	struct ann_nr *x = &a->nrs.v[id];
	if (q == ANN_Q_PARKED) {
		struct ann_vec *p = &a->nodes.v[x->node].parked;
		x->qpos = p->n;
		p->v[p->n++] = id;
	} else {
		struct ann_vec *h = q_vec(a, q);
		h->v[h->n++] = id;
		q_sift_up(a, q, h->n - 1);
	}
	x->queue = q;
}

/* Take @id out of whichever queue holds it (if any). */
static void q_remove(struct ann *a, uint32_t id)
{
	struct ann_nr *x = &a->nrs.v[id];
	uint32_t i = x->qpos;
	uint8_t q = x->queue;
	if (q == ANN_Q_NONE)
		return;
	x->queue = ANN_Q_NONE;
	if (q == ANN_Q_PARKED) {
		struct ann_vec *p = &a->nodes.v[x->node].parked;
		uint32_t last = p->v[--p->n];
		if (i < p->n) {
			p->v[i] = last;
			a->nrs.v[last].qpos = i;
		}
		return;
	}
	struct ann_vec *h = q_vec(a, q);
	uint32_t last = h->v[--h->n];
	if (i == h->n)
		return;
	q_set(a, h, i, last);
	q_sift_up(a, q, i);
	q_sift_down(a, q, a->nrs.v[last].qpos);
}

static uint32_t q_pop(struct ann *a, uint8_t q)
{
	uint32_t id = q_vec(a, q)->v[0];
	q_remove(a, id);
	return id;
}

/* Put todo node-role @id where it belongs at @now. */
static void q_place(struct ann *a, uint32_t id, uint64_t now)
{
	struct ann_nr *x = &a->nrs.v[id];
	if (x->next_eligible > now)
		q_insert(a, ANN_Q_TIMER, id);
	else if (a->nodes.v[x->node].running != ANN_NONE)
		q_insert(a, ANN_Q_PARKED, id);
	else
		q_insert(a, ANN_Q_READY, id);
}

/* Re-place a todo node-role whose next_eligible changed. */
static void q_requeue(struct ann *a, uint32_t id, uint64_t now)
{
	q_remove(a, id);
	q_place(a, id, now);
}

/* ---- the chokepoint ---- */

/* A parent @p entered (@delta -1) or left (+1) active: adjust its children. */
static void children_adjust(struct ann *a, uint32_t p, int delta)
{
	const struct ann_vec *c = &a->nrs.v[p].children;
	a->visits += c->n;
	for (uint32_t i = 0; i < c->n; i++)
		a->nrs.v[c->v[i]].nonactive += (uint32_t)delta;
}

/* Node @node leaves transition: free it and send its parked node-roles back
 * to the ready heap. */
static void node_release(struct ann *a, uint32_t node)
{
	struct ann_node *n = &a->nodes.v[node];
	n->running = ANN_NONE;
	a->running--;
	while (n->parked.n > 0) {
		uint32_t id = n->parked.v[n->parked.n - 1];
		a->visits++;
		q_remove(a, id);
		q_insert(a, ANN_Q_READY, id);
	}
}

static void emit(struct ann *a, uint32_t id, enum ann_state from, enum ann_state to,
		 uint64_t now, const char *cause)
{
	if (log_get_level() >= LOG_LVL_DEBUG) {
		const struct ann_nr *x = &a->nrs.v[id];
		log_debug("node-role %" PRIu32 " (%s/%s): %s -> %s (%s)", id,
			  a->nodes.v[x->node].name, a->roles.v[x->role].name,
			  state_name[from], state_name[to], cause);
	}
	if (a->opts.on_event) {
		struct ann_event ev = { .nr = id, .from = from, .to = to, .cause = cause, .at = now };
		a->opts.on_event(a->opts.event_arg, &ev);
	}
}

/* The one place a node-role's state changes.  The caller checked the
 * transition (ann_set_state) or is one of the semantic operations that only
 * make transitions in the table (ann_restore is the documented exception).
 * Never fails. */
static void apply_state(struct ann *a, uint32_t id, enum ann_state to, uint64_t now,
			const char *cause)
{
	struct ann_nr *x = &a->nrs.v[id];
	enum ann_state from = x->state;
	struct ann_dep *d = &a->deps.v[x->dep];

	x->state = (uint8_t)to;
	d->count[from]--;
	d->count[to]++;
	a->count[from]--;
	a->count[to]++;
	a->transitions++;
	if (from == ANN_TODO)
		q_remove(a, id);
	if (from == ANN_TRANSITION)
		node_release(a, x->node);
	if (from == ANN_ACTIVE)
		children_adjust(a, id, +1);
	if (to == ANN_TRANSITION) {
		a->nodes.v[x->node].running = id;
		a->running++;
		x->attempts++;
	}
	if (to == ANN_ACTIVE)
		children_adjust(a, id, -1);
	if (to == ANN_TODO)
		q_place(a, id, now);
	emit(a, id, from, to, now, cause ? cause : "");
	dep_refresh(a, x->dep);
}

int ann_set_state(struct ann *a, uint32_t nr, enum ann_state to, uint64_t now,
		  const char *cause, struct netd_err *e)
{
	char what[200];
	if (!nr_ok(a, nr))
		return nr_missing(e, nr);
	struct ann_nr *x = &a->nrs.v[nr];
	enum ann_state from = x->state;
	if (!ann_transition_allowed(from, to)) {
		snprintf(what, sizeof what, "%s -> %s not allowed", ann_state_name(from),
			 ann_state_name(to));
		return nr_err(a, e, NETD_EINVAL, nr, what);
	}
	if (from == ANN_PROPOSED && (!x->bound || !a->deps.v[x->dep].committed)) {
		snprintf(what, sizeof what, "%s -> %s: %s", state_name[from], state_name[to],
			 x->bound ? "deployment not committed" : "not bound");
		return nr_err(a, e, NETD_EINVAL, nr, what);
	}
	if (to == ANN_TODO && x->nonactive > 0) {
		snprintf(what, sizeof what, "%s -> todo: %" PRIu32 " parent(s) not active",
			 state_name[from], x->nonactive);
		return nr_err(a, e, NETD_EINVAL, nr, what);
	}
	uint32_t busy = a->nodes.v[x->node].running;
	if (to == ANN_TRANSITION && busy != ANN_NONE) {
		snprintf(what, sizeof what, "%s -> transition: node %s runs node-role %" PRIu32,
			 state_name[from], a->nodes.v[x->node].name, busy);
		return nr_err(a, e, NETD_EINUSE, nr, what);
	}
	apply_state(a, nr, to, now, cause);
	return 0;
}

/* ---- commit and scheduling ---- */

/* Unblock @nr's children whose parents are now all active. */
static void unblock_children(struct ann *a, uint32_t nr, uint64_t now)
{
	const struct ann_vec *c = &a->nrs.v[nr].children;
	a->visits += c->n;
	for (uint32_t i = 0; i < c->n; i++) {
		const struct ann_nr *y = &a->nrs.v[c->v[i]];
		if (y->state == ANN_BLOCKED && y->nonactive == 0 && a->deps.v[y->dep].committed)
			apply_state(a, c->v[i], ANN_TODO, now, "parents active");
	}
}

int ann_commit(struct ann *a, uint32_t dep, uint64_t now, struct netd_err *e)
{
	int rc = ann_bind(a, dep, e);
	if (rc)
		return rc;
	struct ann_dep *d = &a->deps.v[dep];
	if (!d->committed)
		log_debug("deployment %s committed", d->name);
	d->committed = true;
	for (uint32_t i = 0; i < d->nrs.n; i++) {
		uint32_t id = d->nrs.v[i];
		const struct ann_nr *x = &a->nrs.v[id];
		if (x->state == ANN_PROPOSED)
			apply_state(a, id, x->nonactive ? ANN_BLOCKED : ANN_TODO, now, "committed");
	}
	dep_refresh(a, dep);
	return 0;
}

static void promote_timers(struct ann *a, uint64_t now)
{
	while (a->timer.n > 0 && a->nrs.v[a->timer.v[0]].next_eligible <= now) {
		uint32_t id = q_pop(a, ANN_Q_TIMER);
		a->visits++;
		q_place(a, id, now);
	}
}

size_t ann_next_runnable(struct ann *a, uint64_t now, uint32_t *out, size_t max)
{
	size_t n = 0;
	promote_timers(a, now);
	while (n < max && a->ready.n > 0 &&
	       (a->opts.max_running == 0 || a->running < a->opts.max_running)) {
		uint32_t id = q_pop(a, ANN_Q_READY);
		const struct ann_nr *x = &a->nrs.v[id];
		a->visits++;
		/* todo implies committed and every parent active: only the clock
		 * and the node can still say no. */
		if (x->next_eligible > now) {
			q_insert(a, ANN_Q_TIMER, id);
			continue;
		}
		if (a->nodes.v[x->node].running != ANN_NONE) {
			q_insert(a, ANN_Q_PARKED, id);
			continue;
		}
		apply_state(a, id, ANN_TRANSITION, now, "scheduled");
		out[n++] = id;
	}
	return n;
}

bool ann_next_wakeup(const struct ann *a, uint64_t *ret)
{
	if (a->timer.n == 0)
		return false;
	*ret = a->nrs.v[a->timer.v[0]].next_eligible;
	return true;
}

/* base * 2^(failures-1), capped at max (0 = no cap), saturating. */
static uint64_t backoff(const struct ann_retry *r, uint32_t failures)
{
	uint64_t cap = r->backoff_max ? r->backoff_max : UINT64_MAX;
	uint32_t shift = failures > 0 ? failures - 1 : 0;
	if (r->backoff_base == 0)
		return 0;
	if (shift >= 63 || r->backoff_base > (cap >> shift))
		return cap;
	return r->backoff_base << shift;
}

static uint64_t add_sat(uint64_t x, uint64_t y)
{
	return x > UINT64_MAX - y ? UINT64_MAX : x + y;
}

static enum ann_state todo_or_blocked(const struct ann_nr *x)
{
	return x->nonactive ? ANN_BLOCKED : ANN_TODO;
}

static void complete_failed(struct ann *a, uint32_t nr, uint64_t now, const char *cause)
{
	struct ann_nr *x = &a->nrs.v[nr];
	const struct ann_retry *r = &a->roles.v[x->role].retry;
	uint32_t budget = r->attempts ? r->attempts : 1;
	char why[256];
	if (x->attempts < budget) {
		uint64_t wait = backoff(r, x->attempts);
		x->next_eligible = add_sat(now, wait);
		snprintf(why, sizeof why, "%s; attempt %" PRIu32 "/%" PRIu32 " failed, retry after %"
			 PRIu64, cause, x->attempts, budget, wait);
		apply_state(a, nr, todo_or_blocked(x), now, why);
	} else {
		snprintf(why, sizeof why, "%s; attempt %" PRIu32 "/%" PRIu32 " failed, giving up",
			 cause, x->attempts, budget);
		apply_state(a, nr, ANN_ERROR, now, why);
	}
}

int ann_complete(struct ann *a, uint32_t nr, bool ok, uint64_t now, const char *cause,
		 struct netd_err *e)
{
	if (!nr_ok(a, nr))
		return nr_missing(e, nr);
	struct ann_nr *x = &a->nrs.v[nr];
	if (x->state != ANN_TRANSITION) {
		char what[80];
		snprintf(what, sizeof what, "not in transition (%s)", state_name[x->state]);
		return nr_err(a, e, NETD_EINVAL, nr, what);
	}
	if (!cause || !cause[0])
		cause = ok ? "succeeded" : "failed";
	if (ok)
		x->run_count++;
	if (x->rerun) {
		char why[256];
		snprintf(why, sizeof why, "%s; inputs changed during the run, again", cause);
		x->rerun = false;
		x->attempts = 0;
		x->next_eligible = 0;
		apply_state(a, nr, todo_or_blocked(x), now, why);
		return 0;
	}
	if (!ok) {
		complete_failed(a, nr, now, cause);
		return 0;
	}
	apply_state(a, nr, ANN_ACTIVE, now, cause);
	unblock_children(a, nr, now);
	return 0;
}

int ann_retry(struct ann *a, uint32_t nr, uint64_t now, struct netd_err *e)
{
	if (!nr_ok(a, nr))
		return nr_missing(e, nr);
	struct ann_nr *x = &a->nrs.v[nr];
	if (x->state != ANN_ERROR) {
		char what[80];
		snprintf(what, sizeof what, "retry: not in error (%s)", state_name[x->state]);
		return nr_err(a, e, NETD_EINVAL, nr, what);
	}
	x->attempts = 0;
	x->next_eligible = 0;
	apply_state(a, nr, todo_or_blocked(x), now, "retry");
	return 0;
}

/* ---- invalidation ---- */

static bool nr_destructive_active(const struct ann *a, const struct ann_nr *x)
{
	return x->state == ANN_ACTIVE && (a->roles.v[x->role].flags & ANN_ROLE_DESTRUCTIVE);
}

/* Reset one visited node-role.  Returns false to stop the cascade here. */
static bool reset_one(struct ann *a, uint32_t id, uint64_t now, const char *why)
{
	struct ann_nr *x = &a->nrs.v[id];
	a->visits++;
	switch ((enum ann_state)x->state) {
	case ANN_PROPOSED:
		return true;
	case ANN_TRANSITION:
		x->rerun = true;  /* its run ends first; ann_complete re-queues it */
		return true;
	case ANN_ACTIVE:
		if (nr_destructive_active(a, x))
			return false;
		break;
	case ANN_TODO:
	case ANN_ERROR:
	case ANN_BLOCKED:
		break;
	}
	x->attempts = 0;
	x->next_eligible = 0;
	enum ann_state to = todo_or_blocked(x);
	if (x->state == ANN_TODO && to == ANN_TODO)
		q_requeue(a, id, now);  /* the backoff is over */
	else if (x->state != to)
		apply_state(a, id, to, now, why);
	return true;
}

static void next_epoch(struct ann *a)
{
	if (++a->epoch == 0) {
		for (uint32_t i = 0; i < a->nrs.n; i++)
			a->nrs.v[i].mark = 0;
		a->epoch = 1;
	}
}

int ann_invalidate(struct ann *a, uint32_t nr, uint64_t now, const char *cause,
		   struct netd_err *e)
{
	if (!nr_ok(a, nr))
		return nr_missing(e, nr);
	if (nr_destructive_active(a, &a->nrs.v[nr]))
		return nr_err(a, e, NETD_EPERM, nr, "destructive role, runs once: not re-run");
	char root_why[256], why[256], name[160];
	snprintf(root_why, sizeof root_why, "invalidated: %s", cause && cause[0] ? cause : "inputs changed");
	snprintf(why, sizeof why, "ancestor %s re-runs", ann_nr_name(a, nr, name, sizeof name));

	/* Depth-first over the descendants; the stack's capacity covers every
	 * node-role (reserved in ann_nr_append) and each is pushed once. */
	next_epoch(a);
	struct ann_vec *st = &a->scratch;
	st->n = 0;
	st->v[st->n++] = nr;
	a->nrs.v[nr].mark = a->epoch;
	while (st->n > 0) {
		uint32_t id = st->v[--st->n];
		if (!reset_one(a, id, now, id == nr ? root_why : why))
			continue;
		const struct ann_vec *c = &a->nrs.v[id].children;
		a->visits += c->n;
		for (uint32_t i = 0; i < c->n; i++) {
			struct ann_nr *y = &a->nrs.v[c->v[i]];
			if (y->mark != a->epoch) {
				y->mark = a->epoch;
				st->v[st->n++] = c->v[i];
			}
		}
	}
	return 0;
}

/* ---- loading and recovery ---- */

int ann_restore(struct ann *a, uint32_t nr, enum ann_state state, uint32_t run_count,
		uint32_t attempts, uint64_t now, struct netd_err *e)
{
	if (!nr_ok(a, nr))
		return nr_missing(e, nr);
	struct ann_nr *x = &a->nrs.v[nr];
	if ((unsigned)state >= ANN_NSTATES)
		return nr_err(a, e, NETD_EINVAL, nr, "restore: bad state");
	if (x->state != ANN_PROPOSED || !x->bound)
		return nr_err(a, e, NETD_EINVAL, nr, "restore: not proposed and bound");
	if (state == ANN_TRANSITION && a->nodes.v[x->node].running != ANN_NONE)
		return nr_err(a, e, NETD_EINUSE, nr, "restore: node already in transition");
	if (state != ANN_PROPOSED)
		a->deps.v[x->dep].committed = true;
	x->run_count = run_count;
	if (state != ANN_PROPOSED)
		apply_state(a, nr, state, now, "restored");
	x->attempts = attempts;
	dep_refresh(a, x->dep);
	return 0;
}

size_t ann_recover(struct ann *a, uint64_t now)
{
	size_t n = 0;
	for (uint32_t id = 0; id < a->nrs.n; id++) {
		struct ann_nr *x = &a->nrs.v[id];
		enum ann_state s = x->state;
		if (s == ANN_TRANSITION) {
			n++;
			x->rerun = false;
			apply_state(a, id, todo_or_blocked(x), now, "recovered: was in transition at restart");
		} else if (s == ANN_TODO && x->nonactive > 0) {
			apply_state(a, id, ANN_BLOCKED, now, "recovered: a parent is not active");
		} else if (s == ANN_BLOCKED && x->nonactive == 0 && a->deps.v[x->dep].committed) {
			apply_state(a, id, ANN_TODO, now, "recovered: parents active");
		}
	}
	return n;
}

/* ---- queries ---- */

int ann_nr_info(const struct ann *a, uint32_t nr, struct ann_nr_info *ret)
{
	if (!nr_ok(a, nr))
		return NETD_ENOTFOUND;
	const struct ann_nr *x = &a->nrs.v[nr];
	*ret = (struct ann_nr_info){
		.node = x->node, .role = x->role, .dep = x->dep,
		.state = (enum ann_state)x->state, .cohort = x->cohort,
		.run_count = x->run_count, .attempts = x->attempts,
		.next_eligible = x->next_eligible, .bound = x->bound, .rerun = x->rerun,
		.n_parents = x->parents.n, .n_children = x->children.n,
	};
	return 0;
}

int ann_nr_parents(const struct ann *a, uint32_t nr, const uint32_t **ret, uint32_t *ret_n)
{
	if (!nr_ok(a, nr))
		return NETD_ENOTFOUND;
	*ret = a->nrs.v[nr].parents.v;
	*ret_n = a->nrs.v[nr].parents.n;
	return 0;
}

int ann_nr_children(const struct ann *a, uint32_t nr, const uint32_t **ret, uint32_t *ret_n)
{
	if (!nr_ok(a, nr))
		return NETD_ENOTFOUND;
	*ret = a->nrs.v[nr].children.v;
	*ret_n = a->nrs.v[nr].children.n;
	return 0;
}

const char *ann_role_name(const struct ann *a, uint32_t role)
{
	return role < a->roles.n ? a->roles.v[role].name : NULL;
}

const char *ann_role_jig(const struct ann *a, uint32_t role)
{
	return role < a->roles.n ? a->roles.v[role].jig : NULL;
}

const char *ann_node_name(const struct ann *a, uint32_t node)
{
	return node < a->nodes.n ? a->nodes.v[node].name : NULL;
}

const char *ann_deployment_name(const struct ann *a, uint32_t dep)
{
	return dep < a->deps.n ? a->deps.v[dep].name : NULL;
}

int ann_deployment_state(const struct ann *a, uint32_t dep, enum ann_dep_state *ret)
{
	if (dep >= a->deps.n)
		return NETD_ENOTFOUND;
	*ret = a->deps.v[dep].state;
	return 0;
}

void ann_stats(const struct ann *a, struct ann_stats *ret)
{
	*ret = (struct ann_stats){
		.visits = a->visits, .transitions = a->transitions, .running = a->running,
		.n_roles = a->roles.n, .n_nodes = a->nodes.n, .n_deps = a->deps.n,
		.n_nrs = a->nrs.n,
	};
	memcpy(ret->count, a->count, sizeof ret->count);
}

/* ---- self-check ---- */

static int check_nr(const struct ann *a, uint32_t id, uint32_t *count, struct netd_err *e)
{
	const struct ann_nr *x = &a->nrs.v[id];
	uint32_t na = 0;
	count[x->state]++;
	for (uint32_t k = 0; k < x->parents.n; k++)
		na += a->nrs.v[x->parents.v[k]].state != ANN_ACTIVE;
	if (na != x->nonactive)
		return nr_err(a, e, NETD_ECORRUPT, id, "parents-not-active count wrong");
	bool queued = x->queue != ANN_Q_NONE;
	if (queued != (x->state == ANN_TODO))
		return nr_err(a, e, NETD_ECORRUPT, id, "queued iff todo broken");
	const struct ann_vec *q = x->queue == ANN_Q_READY ? &a->ready :
				  x->queue == ANN_Q_TIMER ? &a->timer :
				  &a->nodes.v[x->node].parked;
	if (queued && (x->qpos >= q->n || q->v[x->qpos] != id))
		return nr_err(a, e, NETD_ECORRUPT, id, "queue position wrong");
	if (x->state == ANN_TRANSITION && a->nodes.v[x->node].running != id)
		return nr_err(a, e, NETD_ECORRUPT, id, "in transition, node not busy with it");
	if (x->state == ANN_TODO && na > 0)
		return nr_err(a, e, NETD_ECORRUPT, id, "todo with a parent not active");
	if (x->state == ANN_ACTIVE && na > 0 && !(a->roles.v[x->role].flags & ANN_ROLE_DESTRUCTIVE))
		return nr_err(a, e, NETD_ECORRUPT, id, "active with a parent not active");
	return 0;
}

static int check_heap(const struct ann *a, uint8_t q, struct netd_err *e)
{
	const struct ann_vec *h = q == ANN_Q_READY ? &a->ready : &a->timer;
	for (uint32_t i = 0; i < h->n; i++) {
		if (a->nrs.v[h->v[i]].queue != q)
			return nr_err(a, e, NETD_ECORRUPT, h->v[i], "in a heap it does not know");
		if (i > 0 && q_less(a, q, h->v[i], h->v[(i - 1) / 2]))
			return nr_err(a, e, NETD_ECORRUPT, h->v[i], "heap order broken");
	}
	return 0;
}

int ann_check(const struct ann *a, struct netd_err *e)
{
	uint32_t count[ANN_NSTATES] = { 0 }, running = 0;
	uint64_t n_par = 0, n_child = 0;
	int rc;
	for (uint32_t id = 0; id < a->nrs.n; id++) {
		if ((rc = check_nr(a, id, count, e)))
			return rc;
		n_par += a->nrs.v[id].parents.n;
		n_child += a->nrs.v[id].children.n;
	}
	if (n_par != n_child)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "parent and child edges differ");
	if (memcmp(count, a->count, sizeof count) != 0)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "state counts wrong");
	for (uint32_t n = 0; n < a->nodes.n; n++) {
		uint32_t r = a->nodes.v[n].running;
		if (r == ANN_NONE)
			continue;
		running++;
		if (r >= a->nrs.n || a->nrs.v[r].state != ANN_TRANSITION || a->nrs.v[r].node != n)
			return netd_err_set(e, NETD_ECORRUPT, NULL, "node %s busy slot wrong",
					    a->nodes.v[n].name);
	}
	if (running != a->running)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "running count wrong");
	for (uint32_t d = 0; d < a->deps.n; d++) {
		uint32_t sum = 0;
		for (int k = 0; k < ANN_NSTATES; k++)
			sum += a->deps.v[d].count[k];
		if (sum != a->deps.v[d].nrs.n)
			return netd_err_set(e, NETD_ECORRUPT, NULL, "deployment %s counts wrong",
					    a->deps.v[d].name);
	}
	if ((rc = check_heap(a, ANN_Q_READY, e)) || (rc = check_heap(a, ANN_Q_TIMER, e)))
		return rc;
	return 0;
}
