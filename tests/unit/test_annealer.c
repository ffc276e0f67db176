/* tests/unit/test_annealer.c — the annealer's scheduling core, in memory.
 *
 * A fake runner stands in for the jigs: it pops runnable node-roles, keeps
 * them "running" and completes them in a seeded random order under a fake
 * clock.  Every event goes through a checker that holds the invariants the
 * whole suite relies on: each change is in the transition table (or a
 * restore), and no node ever has two node-roles in transition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "annealer/annealer.h"
#include "core/err.h"
#include "core/log.h"

/* ---- event checker ---- */

struct evrec {
	uint32_t nr;
	enum ann_state from, to;
	uint64_t at;
};

struct checker {
	struct ann *a;           /* set after ann_new */
	struct evrec *ev;
	size_t n_ev, cap_ev;
	uint32_t *node_running;  /* per node: node-roles in transition */
	size_t n_nodes;
	uint32_t max_node_running;
	uint32_t running, max_running;
	char last_cause[256];
};

static void on_event(void *arg, const struct ann_event *e)
{
	struct checker *c = arg;
	if (strcmp(e->cause, "restored") != 0)
		assert_true(ann_transition_allowed(e->from, e->to));
	if (c->n_ev == c->cap_ev) {
		c->cap_ev = c->cap_ev ? c->cap_ev * 2 : 1024;
		c->ev = realloc(c->ev, c->cap_ev * sizeof(*c->ev));
		assert_non_null(c->ev);
	}
	c->ev[c->n_ev++] = (struct evrec){ e->nr, e->from, e->to, e->at };
	snprintf(c->last_cause, sizeof c->last_cause, "%s", e->cause);

	struct ann_nr_info in;
	assert_int_equal(ann_nr_info(c->a, e->nr, &in), 0);
	if (in.node >= c->n_nodes) {
		size_t n = in.node + 1024;
		c->node_running = realloc(c->node_running, n * sizeof(*c->node_running));
		assert_non_null(c->node_running);
		memset(c->node_running + c->n_nodes, 0, (n - c->n_nodes) * sizeof(*c->node_running));
		c->n_nodes = n;
	}
	if (e->from == ANN_TRANSITION) {
		c->node_running[in.node]--;
		c->running--;
	}
	if (e->to == ANN_TRANSITION) {
		c->node_running[in.node]++;
		c->running++;
		if (c->node_running[in.node] > c->max_node_running)
			c->max_node_running = c->node_running[in.node];
		if (c->running > c->max_running)
			c->max_running = c->running;
		assert_int_equal(c->node_running[in.node], 1);
	}
}

static struct checker *chk_new(const struct ann_opts *base, struct ann **ret)
{
	struct checker *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	struct ann_opts o = base ? *base : (struct ann_opts){ 0 };
	o.on_event = on_event;
	o.event_arg = c;
	assert_int_equal(ann_new(&o, &c->a), 0);
	*ret = c->a;
	return c;
}

static void chk_free(struct checker *c)
{
	ann_free(c->a);
	free(c->ev);
	free(c->node_running);
	free(c);
}

/* ---- builders ---- */

/* Add role @name requiring the comma-separated @reqs ("" for none). */
static uint32_t role3(struct ann *a, const char *name, const char *reqs, unsigned flags,
		      struct ann_retry retry)
{
	char buf[256];
	const char *req[16];
	size_t n = 0;
	snprintf(buf, sizeof buf, "%s", reqs);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		req[n++] = t;
	struct ann_role_def d = { .name = name, .jig = "noop", .requires = req, .n_requires = n,
				  .flags = flags, .retry = retry };
	uint32_t id;
	struct netd_err e = { 0 };
	assert_int_equal(ann_role_add(a, &d, &id, &e), 0);
	return id;
}

static uint32_t role(struct ann *a, const char *name, const char *reqs, unsigned flags)
{
	return role3(a, name, reqs, flags, (struct ann_retry){ 0 });
}

static uint32_t node(struct ann *a, const char *name)
{
	uint32_t id;
	assert_int_equal(ann_node_add(a, name, &id, NULL), 0);
	return id;
}

static uint32_t dep(struct ann *a, const char *name)
{
	uint32_t id;
	assert_int_equal(ann_deployment_add(a, name, &id, NULL), 0);
	return id;
}

static uint32_t nr(struct ann *a, uint32_t n, uint32_t r, uint32_t d)
{
	uint32_t id;
	assert_int_equal(ann_noderole_add(a, n, r, d, &id, NULL), 0);
	return id;
}

static enum ann_state st(struct ann *a, uint32_t id)
{
	struct ann_nr_info in;
	assert_int_equal(ann_nr_info(a, id, &in), 0);
	return in.state;
}

static struct ann_nr_info info(struct ann *a, uint32_t id)
{
	struct ann_nr_info in;
	assert_int_equal(ann_nr_info(a, id, &in), 0);
	return in;
}

/* Parents of @id as a sorted list, compared with the given ids. */
static void assert_parents(struct ann *a, uint32_t id, size_t n, const uint32_t *want)
{
	const uint32_t *p;
	uint32_t np;
	assert_int_equal(ann_nr_parents(a, id, &p, &np), 0);
	assert_int_equal(np, n);
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (uint32_t k = 0; k < np; k++)
			found |= p[k] == want[i];
		assert_true(found);
	}
}

static uint32_t run_one(struct ann *a, uint64_t now)
{
	uint32_t id;
	assert_int_equal(ann_next_runnable(a, now, &id, 1), 1);
	return id;
}

/* ---- the fake runner ---- */

typedef bool outcome_fn(void *arg, uint32_t nr, uint32_t attempt);

struct runner {
	struct ann *a;
	uint64_t rng;
	uint64_t now;
	size_t max_start;       /* per ann_next_runnable call */
	bool fifo;              /* complete in start order, not randomly */
	outcome_fn *outcome;    /* NULL: always succeed */
	void *arg;
	uint32_t *running;
	size_t n_running, cap;
	uint32_t *starts;       /* node-roles in start order (all runs) */
	size_t n_starts, cap_starts;
	uint64_t completions;
};

static uint64_t rnd(struct runner *r)
{
	r->rng ^= r->rng << 13;  /* xorshift64 */
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng;
}

static void runner_init(struct runner *r, struct ann *a, uint64_t seed, size_t max_start)
{
	*r = (struct runner){ .a = a, .rng = seed ? seed : 1, .max_start = max_start };
	struct ann_stats s;
	ann_stats(a, &s);
	r->cap = s.n_nrs + 1;
	r->running = malloc(r->cap * sizeof(*r->running));
	assert_non_null(r->running);
}

static void runner_free(struct runner *r)
{
	free(r->running);
	free(r->starts);
}

/* Check a started node-role: every parent active. */
static void check_start(struct ann *a, uint32_t id)
{
	const uint32_t *p;
	uint32_t np;
	assert_int_equal(ann_nr_parents(a, id, &p, &np), 0);
	for (uint32_t k = 0; k < np; k++)
		assert_int_equal(st(a, p[k]), ANN_ACTIVE);
}

/* Start what is runnable, then complete one running node-role.  When
 * nothing runs and nothing is runnable, jump the clock to the next backoff
 * expiry.  Returns false once nothing is left to do. */
static bool runner_step(struct runner *r)
{
	size_t room = r->cap - r->n_running;
	size_t want = r->max_start < room ? r->max_start : room;
	size_t got = ann_next_runnable(r->a, r->now, r->running + r->n_running, want);
	for (size_t i = 0; i < got; i++) {
		uint32_t id = r->running[r->n_running + i];
		check_start(r->a, id);
		if (r->n_starts == r->cap_starts) {
			r->cap_starts = r->cap_starts ? r->cap_starts * 2 : 1024;
			r->starts = realloc(r->starts, r->cap_starts * sizeof(*r->starts));
			assert_non_null(r->starts);
		}
		r->starts[r->n_starts++] = id;
	}
	r->n_running += got;
	if (r->n_running == 0) {
		uint64_t t;
		if (!ann_next_wakeup(r->a, &t))
			return false;
		assert_true(t > r->now);
		r->now = t;
		return true;
	}
	size_t k = r->fifo ? 0 : (size_t)(rnd(r) % r->n_running);
	uint32_t id = r->running[k];
	if (r->fifo)
		memmove(r->running, r->running + 1, (r->n_running - 1) * sizeof(*r->running));
	else
		r->running[k] = r->running[r->n_running - 1];
	r->n_running--;
	struct ann_nr_info in = info(r->a, id);
	bool ok = r->outcome ? r->outcome(r->arg, id, in.attempts) : true;
	assert_int_equal(ann_complete(r->a, id, ok, r->now, ok ? "ok" : "jig failed", NULL), 0);
	r->completions++;
	r->now++;
	return true;
}

static void runner_converge(struct runner *r)
{
	while (runner_step(r))
		;
}

/* ---- the transition table ---- */

/* The expected table, written out independently of the library's. */
static const bool want_table[ANN_NSTATES][ANN_NSTATES] = {
	[ANN_PROPOSED] = { [ANN_TODO] = true, [ANN_BLOCKED] = true },
	[ANN_TODO] = { [ANN_TRANSITION] = true, [ANN_BLOCKED] = true },
	[ANN_TRANSITION] = { [ANN_ACTIVE] = true, [ANN_TODO] = true, [ANN_ERROR] = true,
			     [ANN_BLOCKED] = true },
	[ANN_ACTIVE] = { [ANN_TODO] = true, [ANN_BLOCKED] = true },
	[ANN_ERROR] = { [ANN_TODO] = true, [ANN_BLOCKED] = true },
	[ANN_BLOCKED] = { [ANN_TODO] = true },
};

static void test_table_pure(void **state)
{
	(void)state;
	for (int f = 0; f < ANN_NSTATES; f++)
		for (int t = 0; t < ANN_NSTATES; t++)
			assert_int_equal(ann_transition_allowed(f, t), want_table[f][t]);
	assert_false(ann_transition_allowed(ANN_NSTATES, ANN_TODO));
	assert_false(ann_transition_allowed(ANN_TODO, (enum ann_state)-1));
	assert_string_equal(ann_state_name(ANN_TRANSITION), "transition");
	assert_string_equal(ann_state_name(ANN_NSTATES), "?");
}

/* A fixture with parent p@n1 and child c@n2 (c requires p, bound through
 * the deployment), where c is driven into @from with p active. */
struct tfx {
	struct checker *chk;
	struct ann *a;
	uint32_t p, c;
};

static void tfx_drive(struct tfx *f, enum ann_state from)
{
	struct ann *a;
	f->chk = chk_new(NULL, &a);
	f->a = a;
	uint32_t rp = role(a, "p", "", 0);
	uint32_t rc = role3(a, "c", "p", 0, (struct ann_retry){ .attempts = 1 });
	uint32_t n1 = node(a, "n1"), n2 = node(a, "n2"), n3 = node(a, "n3");
	uint32_t d = dep(a, "d");
	f->p = nr(a, n1, rp, d);
	f->c = nr(a, n2, rc, d);
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	assert_int_equal(st(a, f->c), ANN_BLOCKED);
	assert_int_equal(run_one(a, 1), f->p);
	assert_int_equal(ann_complete(a, f->p, true, 2, NULL, NULL), 0);
	assert_int_equal(st(a, f->c), ANN_TODO);
	switch (from) {
	case ANN_PROPOSED:
		/* A node-role added after the commit: bound, still proposed. */
		f->c = nr(a, n3, rc, d);
		assert_int_equal(ann_bind(a, d, NULL), 0);
		break;
	case ANN_TODO:
		break;
	case ANN_BLOCKED:
		assert_int_equal(ann_set_state(a, f->c, ANN_BLOCKED, 3, "test", NULL), 0);
		break;
	case ANN_TRANSITION:
	case ANN_ACTIVE:
	case ANN_ERROR:
		assert_int_equal(run_one(a, 3), f->c);
		if (from != ANN_TRANSITION)
			assert_int_equal(ann_complete(a, f->c, from == ANN_ACTIVE, 4, NULL, NULL), 0);
		break;
	}
	assert_int_equal(st(a, f->c), from);
	assert_int_equal(st(a, f->p), ANN_ACTIVE);
}

static void test_table_set_state(void **state)
{
	(void)state;
	for (int from = 0; from < ANN_NSTATES; from++) {
		for (int to = 0; to < ANN_NSTATES; to++) {
			struct tfx f;
			struct netd_err e = { 0 };
			tfx_drive(&f, from);
			size_t n_ev = f.chk->n_ev;
			int rc = ann_set_state(f.a, f.c, to, 10, "table", &e);
			if (want_table[from][to]) {
				assert_int_equal(rc, 0);
				assert_int_equal(st(f.a, f.c), to);
				assert_int_equal(f.chk->n_ev, n_ev + 1);
				assert_int_equal(f.chk->ev[n_ev].nr, f.c);
				assert_int_equal(f.chk->ev[n_ev].from, from);
				assert_int_equal(f.chk->ev[n_ev].to, to);
				assert_int_equal(f.chk->ev[n_ev].at, 10);
				assert_string_equal(f.chk->last_cause, "table");
			} else {
				char want[128], name[32];
				assert_int_equal(rc, NETD_EINVAL);
				assert_int_equal(e.code, NETD_EINVAL);
				assert_int_equal(st(f.a, f.c), from);
				assert_int_equal(f.chk->n_ev, n_ev);
				snprintf(want, sizeof want, "%s -> %s not allowed", ann_state_name(from),
					 ann_state_name(to));
				assert_non_null(strstr(e.msg, want));
				snprintf(name, sizeof name, "(c@n%d)", from == ANN_PROPOSED ? 3 : 2);
				assert_non_null(strstr(e.msg, name));
				assert_non_null(strstr(e.path, "node-role[id="));
			}
			chk_free(f.chk);
		}
	}
}

static void test_set_state_checks(void **state)
{
	(void)state;
	struct ann *a;
	struct checker *chk = chk_new(NULL, &a);
	struct netd_err e = { 0 };
	uint32_t rp = role(a, "p", "", 0), rc = role(a, "c", "p", 0);
	uint32_t n1 = node(a, "n1");
	uint32_t d = dep(a, "d");
	uint32_t p = nr(a, n1, rp, d), c = nr(a, n1, rc, d);

	/* Out of proposed: not bound, then not committed. */
	assert_int_equal(ann_set_state(a, p, ANN_TODO, 0, "x", &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "not bound"));
	netd_err_clear(&e);
	assert_int_equal(ann_bind(a, d, NULL), 0);
	assert_int_equal(ann_set_state(a, p, ANN_TODO, 0, "x", &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "deployment not committed"));
	netd_err_clear(&e);

	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	assert_int_equal(st(a, p), ANN_TODO);
	assert_int_equal(st(a, c), ANN_BLOCKED);
	/* blocked -> todo is in the table, but a parent is not active. */
	assert_int_equal(ann_set_state(a, c, ANN_TODO, 0, "x", &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "1 parent(s) not active"));
	netd_err_clear(&e);

	/* One transition per node, even through the chokepoint. */
	assert_int_equal(run_one(a, 1), p);
	assert_int_equal(ann_complete(a, p, true, 2, NULL, NULL), 0);
	assert_int_equal(st(a, c), ANN_TODO);
	assert_int_equal(ann_invalidate(a, p, 3, "test", NULL), 0);
	assert_int_equal(st(a, p), ANN_TODO);
	assert_int_equal(st(a, c), ANN_BLOCKED);
	assert_int_equal(run_one(a, 4), p);
	/* c is blocked; a second node-role on n1 cannot enter transition. */
	uint32_t r3 = role(a, "x", "", 0);
	uint32_t x = nr(a, n1, r3, d);
	assert_int_equal(ann_commit(a, d, 5, NULL), 0);
	assert_int_equal(st(a, x), ANN_TODO);
	assert_int_equal(ann_set_state(a, x, ANN_TRANSITION, 5, "x", &e), NETD_EINUSE);
	assert_non_null(strstr(e.msg, "node n1 runs node-role"));
	netd_err_clear(&e);
	/* Nor through the scheduler: x waits for the node. */
	uint32_t out[4];
	assert_int_equal(ann_next_runnable(a, 6, out, 4), 0);
	assert_int_equal(ann_complete(a, p, true, 7, NULL, NULL), 0);
	assert_int_equal(ann_next_runnable(a, 8, out, 4), 1);  /* c and x: one node */
	assert_int_equal(ann_complete(a, out[0], true, 9, NULL, NULL), 0);
	assert_int_equal(ann_next_runnable(a, 10, out, 4), 1);
	assert_int_equal(ann_complete(a, out[0], true, 11, NULL, NULL), 0);
	assert_int_equal(st(a, c), ANN_ACTIVE);
	assert_int_equal(st(a, x), ANN_ACTIVE);

	/* Bad ids. */
	assert_int_equal(ann_set_state(a, 999, ANN_TODO, 0, "x", &e), NETD_ENOTFOUND);
	assert_int_equal(ann_complete(a, 999, true, 0, NULL, NULL), NETD_ENOTFOUND);
	assert_int_equal(ann_complete(a, c, true, 0, NULL, NULL), NETD_EINVAL);
	assert_int_equal(ann_retry(a, c, 0, NULL), NETD_EINVAL);
	chk_free(chk);
}

/* ---- model ---- */

static void test_model(void **state)
{
	(void)state;
	struct ann *a;
	struct netd_err e = { 0 };
	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t r = role(a, "ipam", "", 0);
	const char *dup[] = { "a", "a" };
	struct ann_role_def bad = { .name = "x", .requires = dup, .n_requires = 2 };
	assert_int_equal(ann_role_add(a, &bad, NULL, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "requires a twice"));
	netd_err_clear(&e);
	struct ann_role_def again = { .name = "ipam" };
	assert_int_equal(ann_role_add(a, &again, NULL, &e), NETD_EEXIST);
	netd_err_clear(&e);
	struct ann_role_def noname = { .name = "" };
	assert_int_equal(ann_role_add(a, &noname, NULL, &e), NETD_EINVAL);
	assert_string_equal(ann_role_jig(a, r), "noop");

	for (int i = 0; i < 1000; i++) {
		char nm[16];
		snprintf(nm, sizeof nm, "n%d", i);
		assert_int_equal(node(a, nm), (uint32_t)i);
	}
	uint32_t id;
	assert_int_equal(ann_node_find(a, "n777", &id), 0);
	assert_int_equal(id, 777);
	assert_string_equal(ann_node_name(a, 777), "n777");
	assert_int_equal(ann_node_find(a, "n1000", &id), NETD_ENOTFOUND);
	assert_int_equal(ann_node_add(a, "n5", NULL, NULL), NETD_EEXIST);
	uint32_t d = dep(a, "d");
	assert_int_equal(ann_deployment_add(a, "d", NULL, NULL), NETD_EEXIST);
	assert_int_equal(ann_deployment_find(a, "d", &id), 0);
	assert_int_equal(ann_role_find(a, "ipam", &id), 0);
	assert_int_equal(id, r);

	uint32_t x = nr(a, 3, r, d);
	assert_int_equal(ann_noderole_add(a, 3, r, d, NULL, &e), NETD_EEXIST);
	assert_int_equal(ann_noderole_add(a, 3, 99, d, NULL, NULL), NETD_ENOTFOUND);
	assert_int_equal(ann_noderole_find(a, 3, r, d, &id), 0);
	assert_int_equal(id, x);
	char buf[32];
	assert_string_equal(ann_nr_name(a, x, buf, sizeof buf), "ipam@n3");
	assert_string_equal(ann_nr_name(a, 42, buf, sizeof buf), "?");
	enum ann_dep_state ds;
	assert_int_equal(ann_deployment_state(a, d, &ds), 0);
	assert_int_equal(ds, ANN_DEP_PROPOSED);
	ann_free(a);
	ann_free(NULL);
}

/* ---- binding ---- */

static void test_bind_same_node_first(void **state)
{
	(void)state;
	struct ann *a;
	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t ri = role(a, "ipam", "", 0), rd = role(a, "dns", "ipam", 0);
	uint32_t n1 = node(a, "n1"), n2 = node(a, "n2");
	uint32_t d = dep(a, "d");
	uint32_t i1 = nr(a, n1, ri, d), i2 = nr(a, n2, ri, d);
	uint32_t d1 = nr(a, n1, rd, d), d2 = nr(a, n2, rd, d);
	assert_int_equal(ann_bind(a, d, NULL), 0);
	assert_parents(a, d1, 1, (uint32_t[]){ i1 });
	assert_parents(a, d2, 1, (uint32_t[]){ i2 });
	assert_parents(a, i1, 0, NULL);
	const uint32_t *ch;
	uint32_t nch;
	assert_int_equal(ann_nr_children(a, i1, &ch, &nch), 0);
	assert_int_equal(nch, 1);
	assert_int_equal(ch[0], d1);
	assert_true(info(a, d1).bound);

	/* Same node in another (bound) deployment beats the deployment
	 * fallback: d2's node-roles have no ipam in their own deployment. */
	uint32_t dd = dep(a, "other");
	uint32_t n3 = node(a, "n3");
	uint32_t d1b = nr(a, n1, rd, dd);
	uint32_t i3 = nr(a, n3, ri, dd);
	assert_int_equal(ann_bind(a, dd, NULL), 0);
	assert_parents(a, d1b, 1, (uint32_t[]){ i1 });
	(void)i3;
	ann_free(a);
}

static void test_bind_deployment_fallback(void **state)
{
	(void)state;
	struct ann *a;
	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t rs = role(a, "dns-server", "", 0), rc = role(a, "dns-client", "dns-server", 0);
	uint32_t n1 = node(a, "n1"), n2 = node(a, "n2"), n3 = node(a, "n3");
	uint32_t d = dep(a, "d"), d2 = dep(a, "d2");
	uint32_t s1 = nr(a, n1, rs, d), s2 = nr(a, n2, rs, d);
	uint32_t s_other = nr(a, n3, rs, d2);  /* another deployment: not a parent */
	uint32_t c3 = nr(a, n3, rc, d), c1 = nr(a, n1, rc, d);
	(void)s_other;
	assert_int_equal(ann_bind(a, d, NULL), 0);
	/* n3 has a dns-server, but in an unbound deployment: fallback. */
	assert_parents(a, c3, 2, (uint32_t[]){ s1, s2 });
	assert_parents(a, c1, 1, (uint32_t[]){ s1 });
	ann_free(a);
}

static void test_bind_cluster(void **state)
{
	(void)state;
	struct ann *a;
	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t rdb = role(a, "db", "", ANN_ROLE_CLUSTER), rapp = role(a, "app", "db", 0);
	uint32_t n1 = node(a, "n1"), n2 = node(a, "n2"), n3 = node(a, "n3"), n4 = node(a, "n4");
	uint32_t d = dep(a, "d");
	uint32_t db1 = nr(a, n1, rdb, d), db2 = nr(a, n2, rdb, d), db3 = nr(a, n3, rdb, d);
	uint32_t app1 = nr(a, n1, rapp, d), app4 = nr(a, n4, rapp, d);
	assert_int_equal(ann_bind(a, d, NULL), 0);
	/* A cluster role: every peer, even with one on the same node. */
	assert_parents(a, app1, 3, (uint32_t[]){ db1, db2, db3 });
	assert_parents(a, app4, 3, (uint32_t[]){ db1, db2, db3 });
	assert_int_equal(info(a, app1).cohort, 1);
	ann_free(a);
}

static void test_bind_implicit(void **state)
{
	(void)state;
	struct ann *a;
	struct checker *chk = chk_new(NULL, &a);
	uint32_t rb = role(a, "base", "", ANN_ROLE_IMPLICIT);
	uint32_t ri = role(a, "ipam", "base", 0);
	uint32_t n1 = node(a, "n1"), n2 = node(a, "n2");
	uint32_t d = dep(a, "d");
	uint32_t i1 = nr(a, n1, ri, d), i2 = nr(a, n2, ri, d);
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	uint32_t b1, b2;
	assert_int_equal(ann_noderole_find(a, n1, rb, d, &b1), 0);
	assert_int_equal(ann_noderole_find(a, n2, rb, d, &b2), 0);
	assert_parents(a, i1, 1, (uint32_t[]){ b1 });
	assert_parents(a, i2, 1, (uint32_t[]){ b2 });
	assert_int_equal(st(a, b1), ANN_TODO);
	assert_int_equal(st(a, i1), ANN_BLOCKED);
	struct runner r;
	runner_init(&r, a, 7, 8);
	runner_converge(&r);
	runner_free(&r);
	enum ann_dep_state ds;
	assert_int_equal(ann_deployment_state(a, d, &ds), 0);
	assert_int_equal(ds, ANN_DEP_ACTIVE);
	chk_free(chk);
}

static void test_bind_failures(void **state)
{
	(void)state;
	struct ann *a;
	struct netd_err e = { 0 };
	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t rb = role(a, "base", "", ANN_ROLE_IMPLICIT);
	uint32_t rx = role(a, "x", "base,ghost", 0);
	uint32_t ry = role(a, "y", "z", 0);
	uint32_t n1 = node(a, "n1");
	uint32_t d = dep(a, "d"), d2 = dep(a, "d2");
	uint32_t x = nr(a, n1, rx, d);
	struct ann_stats s0, s1;
	ann_stats(a, &s0);
	assert_int_equal(ann_commit(a, d, 0, &e), NETD_ENOTFOUND);
	assert_string_equal(e.msg, "role x requires unknown role ghost");
	assert_string_equal(e.path, "/netd:annealer/roles/role[name='x']/requires");
	netd_err_clear(&e);
	/* Nothing changed: the implicit base@n1 was taken back. */
	ann_stats(a, &s1);
	assert_int_equal(s1.n_nrs, s0.n_nrs);
	assert_int_equal(ann_noderole_find(a, n1, rb, d, &(uint32_t){ 0 }), NETD_ENOTFOUND);
	assert_false(info(a, x).bound);
	assert_int_equal(st(a, x), ANN_PROPOSED);
	enum ann_dep_state ds;
	assert_int_equal(ann_deployment_state(a, d, &ds), 0);
	assert_int_equal(ds, ANN_DEP_PROPOSED);

	/* Known role, but no node-role of it anywhere usable. */
	role(a, "z", "", 0);
	uint32_t y = nr(a, n1, ry, d2);
	assert_int_equal(ann_commit(a, d2, 0, &e), NETD_ENOTFOUND);
	char want[160];
	snprintf(want, sizeof want, "node-role %u (y@n1) requires role z: none on node n1 or in deployment d2", y);
	assert_string_equal(e.msg, want);
	assert_false(info(a, y).bound);
	assert_int_equal(ann_bind(a, 77, NULL), NETD_ENOTFOUND);
	ann_free(a);
}

static void test_cycle(void **state)
{
	(void)state;
	struct ann *a;
	struct netd_err e = { 0 };
	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t rd = role(a, "dns", "ipam", 0);  /* forward reference */
	uint32_t ri = role(a, "ipam", "base,dns", 0);
	uint32_t rb = role(a, "base", "", ANN_ROLE_IMPLICIT);
	uint32_t n1 = node(a, "n1");
	uint32_t d = dep(a, "d");
	uint32_t x = nr(a, n1, rd, d), y = nr(a, n1, ri, d);
	assert_int_equal(ann_commit(a, d, 0, &e), NETD_EINVAL);
	assert_string_equal(e.msg, "cycle: dns@n1 -> ipam@n1 -> dns@n1");
	assert_non_null(strstr(e.path, "node-role[id='0']"));
	/* All or nothing. */
	assert_false(info(a, x).bound);
	assert_false(info(a, y).bound);
	assert_int_equal(st(a, x), ANN_PROPOSED);
	assert_int_equal(ann_noderole_find(a, n1, rb, d, &(uint32_t){ 0 }), NETD_ENOTFOUND);
	ann_free(a);

	/* A role requiring itself; and a longer cycle across nodes. */
	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t rs = role(a, "self", "self", 0);
	n1 = node(a, "n1");
	d = dep(a, "d");
	nr(a, n1, rs, d);
	netd_err_clear(&e);
	assert_int_equal(ann_bind(a, d, &e), NETD_EINVAL);
	assert_string_equal(e.msg, "cycle: self@n1 -> self@n1");
	ann_free(a);

	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t ra = role(a, "a", "b", 0), rbb = role(a, "b", "c", 0), rc = role(a, "c", "a", 0);
	uint32_t m1 = node(a, "m1"), m2 = node(a, "m2"), m3 = node(a, "m3");
	d = dep(a, "d");
	nr(a, m1, ra, d);
	nr(a, m2, rbb, d);
	nr(a, m3, rc, d);
	netd_err_clear(&e);
	assert_int_equal(ann_bind(a, d, &e), NETD_EINVAL);
	assert_string_equal(e.msg, "cycle: a@m1 -> b@m2 -> c@m3 -> a@m1");
	ann_free(a);
}

static void test_cohorts(void **state)
{
	(void)state;
	struct ann *a;
	assert_int_equal(ann_new(NULL, &a), 0);
	/* Added children first: binding must not depend on the order. */
	uint32_t rapp = role(a, "app", "dns,ntp", 0);
	uint32_t rdns = role(a, "dns", "ipam", 0);
	uint32_t rntp = role(a, "ntp", "base", 0);
	uint32_t ripam = role(a, "ipam", "base", 0);
	uint32_t rbase = role(a, "base", "", 0);
	uint32_t n1 = node(a, "n1");
	uint32_t d = dep(a, "d");
	uint32_t app = nr(a, n1, rapp, d), dns = nr(a, n1, rdns, d), ntp = nr(a, n1, rntp, d);
	uint32_t ipam = nr(a, n1, ripam, d), base = nr(a, n1, rbase, d);
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	assert_int_equal(info(a, base).cohort, 0);
	assert_int_equal(info(a, ipam).cohort, 1);
	assert_int_equal(info(a, ntp).cohort, 1);
	assert_int_equal(info(a, dns).cohort, 2);
	assert_int_equal(info(a, app).cohort, 3);  /* max(2, 1) + 1 */

	/* A later deployment binding to these: cohorts continue from them. */
	uint32_t rmon = role(a, "mon", "app", 0);
	uint32_t n2 = node(a, "n2");
	uint32_t d3 = dep(a, "d3");
	nr(a, n2, rmon, d3);
	/* app is in d, not d3, and not on n2: nothing to bind to. */
	assert_int_equal(ann_bind(a, d3, NULL), NETD_ENOTFOUND);
	uint32_t d2 = dep(a, "d2");
	uint32_t mon1 = nr(a, n1, rmon, d2);
	assert_int_equal(ann_bind(a, d2, NULL), 0);
	assert_parents(a, mon1, 1, (uint32_t[]){ app });
	assert_int_equal(info(a, mon1).cohort, 4);  /* app@n1 (d) has cohort 3 */
	ann_free(a);
}

/* ---- scenarios ---- */

/* 50 nodes × 10 roles, same-node and cross-node requires. */
static const struct {
	const char *name, *reqs;
	unsigned flags;
	int every;  /* on nodes i % every == 0 */
} scen_roles[] = {
	{ "base", "", 0, 1 },
	{ "ipam", "base", 0, 1 },
	{ "dns", "ipam", 0, 1 },
	{ "ntp-server", "base", 0, 10 },   /* 5 servers: others bind to all 5 */
	{ "ntp", "ntp-server,ipam", 0, 1 },
	{ "db", "ipam", ANN_ROLE_CLUSTER, 7 },
	{ "app", "db,dns", 0, 1 },
	{ "web", "app,ntp", 0, 1 },
	{ "mon", "web", 0, 1 },
	{ "backup", "mon,db", 0, 2 },
};
#define N_SCEN_ROLES (sizeof scen_roles / sizeof scen_roles[0])

static uint32_t scen_build(struct ann *a, uint32_t n_nodes, uint32_t *ret_dep)
{
	uint32_t roles[N_SCEN_ROLES], count = 0;
	for (size_t i = 0; i < N_SCEN_ROLES; i++)
		roles[i] = role3(a, scen_roles[i].name, scen_roles[i].reqs, scen_roles[i].flags,
				 (struct ann_retry){ .attempts = 3, .backoff_base = 10, .backoff_max = 100 });
	uint32_t d = dep(a, "d");
	for (uint32_t n = 0; n < n_nodes; n++) {
		char nm[16];
		snprintf(nm, sizeof nm, "n%u", n);
		uint32_t id = node(a, nm);
		for (size_t i = 0; i < N_SCEN_ROLES; i++)
			if (n % (uint32_t)scen_roles[i].every == 0) {
				nr(a, id, roles[i], d);
				count++;
			}
	}
	*ret_dep = d;
	return count;
}

/* Every start of a node-role comes after the last completion of each
 * parent before it: with no re-runs, "parent started before child" and the
 * check at start (all parents active) say it. */
static void assert_order(struct ann *a, const struct runner *r)
{
	struct ann_stats s;
	ann_stats(a, &s);
	uint32_t *pos = malloc(s.n_nrs * sizeof(*pos));
	assert_non_null(pos);
	for (uint32_t i = 0; i < s.n_nrs; i++)
		pos[i] = UINT32_MAX;
	for (size_t k = 0; k < r->n_starts; k++)
		pos[r->starts[k]] = (uint32_t)k;  /* last start */
	for (uint32_t i = 0; i < s.n_nrs; i++) {
		const uint32_t *p;
		uint32_t np;
		assert_int_equal(ann_nr_parents(a, i, &p, &np), 0);
		for (uint32_t k = 0; k < np; k++)
			assert_true(pos[p[k]] < pos[i]);
	}
	free(pos);
}

static void test_scenario_50x10(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 5; seed++) {
		struct ann *a;
		struct ann_opts o = { .max_running = 16 };
		struct checker *chk = chk_new(&o, &a);
		uint32_t d;
		uint32_t n = scen_build(a, 50, &d);
		assert_int_equal(ann_commit(a, d, 0, NULL), 0);
		struct runner r;
		runner_init(&r, a, seed * 7919, 1 + seed * 3);
		runner_converge(&r);

		struct ann_stats s;
		ann_stats(a, &s);
		assert_int_equal(s.n_nrs, n);
		assert_int_equal(s.count[ANN_ACTIVE], n);
		assert_int_equal(r.n_starts, n);
		assert_order(a, &r);
		assert_int_equal(chk->max_node_running, 1);
		assert_true(chk->max_running <= 16);
		assert_true(chk->max_running > 1);
		enum ann_dep_state ds;
		assert_int_equal(ann_deployment_state(a, d, &ds), 0);
		assert_int_equal(ds, ANN_DEP_ACTIVE);
		/* Cross-node binding happened: ntp@n1 waits for all 5 servers,
		 * app@n1 for all 8 db peers. */
		uint32_t n1, rntp, rapp, x;
		assert_int_equal(ann_node_find(a, "n1", &n1), 0);
		assert_int_equal(ann_role_find(a, "ntp", &rntp), 0);
		assert_int_equal(ann_role_find(a, "app", &rapp), 0);
		assert_int_equal(ann_noderole_find(a, n1, rntp, d, &x), 0);
		assert_int_equal(info(a, x).n_parents, 6);
		assert_int_equal(ann_noderole_find(a, n1, rapp, d, &x), 0);
		assert_int_equal(info(a, x).n_parents, 9);
		runner_free(&r);
		chk_free(chk);
	}
}

/* Order of picking: cohort first, then id. */
static void test_pick_order(void **state)
{
	(void)state;
	struct ann *a;
	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t rb = role(a, "b", "", 0), rc = role(a, "c", "b", 0);
	uint32_t d = dep(a, "d");
	uint32_t ids[8];
	for (int i = 0; i < 4; i++) {
		char nm[8];
		snprintf(nm, sizeof nm, "n%d", i);
		uint32_t n = node(a, nm);
		ids[2 * i] = nr(a, n, rc, d);  /* higher cohort, lower id */
		ids[2 * i + 1] = nr(a, n, rb, d);
	}
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	uint32_t out[8];
	assert_int_equal(ann_next_runnable(a, 0, out, 8), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i], ids[2 * i + 1]);
	/* Complete in reverse: the children come out by id, all cohort 1. */
	for (int i = 3; i >= 0; i--)
		assert_int_equal(ann_complete(a, out[i], true, 1, NULL, NULL), 0);
	assert_int_equal(ann_next_runnable(a, 2, out, 8), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i], ids[2 * i]);
	ann_free(a);
}

struct flaky {
	uint32_t target;
	uint32_t fails;   /* fail this many times, UINT32_MAX = forever */
	uint32_t seen;
};

static bool flaky_outcome(void *arg, uint32_t id, uint32_t attempt)
{
	struct flaky *f = arg;
	(void)attempt;
	if (id != f->target)
		return true;
	return f->seen++ >= f->fails;
}

static void test_fail_twice_then_succeed(void **state)
{
	(void)state;
	struct ann *a;
	struct checker *chk = chk_new(NULL, &a);
	uint32_t rb = role(a, "base", "", 0);
	uint32_t ri = role3(a, "ipam", "base", 0,
			    (struct ann_retry){ .attempts = 3, .backoff_base = 100, .backoff_max = 1000 });
	uint32_t rd = role(a, "dns", "ipam", 0);
	uint32_t n1 = node(a, "n1");
	uint32_t d = dep(a, "d");
	uint32_t b = nr(a, n1, rb, d), i = nr(a, n1, ri, d), dn = nr(a, n1, rd, d);
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	assert_int_equal(run_one(a, 0), b);
	assert_int_equal(ann_complete(a, b, true, 0, NULL, NULL), 0);

	uint64_t t;
	uint32_t out[4];
	assert_false(ann_next_wakeup(a, &t));
	assert_int_equal(run_one(a, 1000), i);
	assert_int_equal(ann_complete(a, i, false, 1000, "boom", NULL), 0);
	assert_int_equal(st(a, i), ANN_TODO);
	assert_int_equal(info(a, i).attempts, 1);
	assert_non_null(strstr(chk->last_cause, "boom; attempt 1/3 failed, retry after 100"));
	/* Backoff 1: base. */
	assert_true(ann_next_wakeup(a, &t));
	assert_int_equal(t, 1100);
	assert_int_equal(ann_next_runnable(a, 1099, out, 4), 0);
	assert_int_equal(run_one(a, 1100), i);
	assert_int_equal(ann_complete(a, i, false, 1200, "boom", NULL), 0);
	/* Backoff 2: base * 2. */
	assert_int_equal(info(a, i).next_eligible, 1400);
	assert_int_equal(ann_next_runnable(a, 1399, out, 4), 0);
	assert_int_equal(st(a, dn), ANN_BLOCKED);
	assert_int_equal(run_one(a, 1400), i);
	assert_int_equal(ann_complete(a, i, true, 1500, NULL, NULL), 0);
	struct ann_nr_info in = info(a, i);
	assert_int_equal(in.state, ANN_ACTIVE);
	assert_int_equal(in.attempts, 3);
	assert_int_equal(in.run_count, 1);
	assert_int_equal(st(a, dn), ANN_TODO);
	assert_int_equal(run_one(a, 1501), dn);
	assert_int_equal(ann_complete(a, dn, true, 1502, NULL, NULL), 0);

	/* The same through the random runner, with the flaky jig. */
	chk_free(chk);
	chk = chk_new(NULL, &a);
	uint32_t dd;
	scen_build(a, 50, &dd);
	uint32_t n7, rweb;
	assert_int_equal(ann_node_find(a, "n7", &n7), 0);
	assert_int_equal(ann_role_find(a, "web", &rweb), 0);
	struct flaky f = { .fails = 2 };
	assert_int_equal(ann_noderole_find(a, n7, rweb, dd, &f.target), 0);
	assert_int_equal(ann_commit(a, dd, 0, NULL), 0);
	struct runner r;
	runner_init(&r, a, 99, 4);
	r.outcome = flaky_outcome;
	r.arg = &f;
	runner_converge(&r);
	in = info(a, f.target);
	assert_int_equal(in.state, ANN_ACTIVE);
	assert_int_equal(in.attempts, 3);
	assert_int_equal(f.seen, 3);
	struct ann_stats s;
	ann_stats(a, &s);
	assert_int_equal(s.count[ANN_ACTIVE], s.n_nrs);
	/* Runs of the target are spaced by the backoff (10, then 20). */
	uint64_t at[3];
	int k = 0;
	for (size_t e = 0; e < chk->n_ev; e++)
		if (chk->ev[e].nr == f.target && chk->ev[e].to == ANN_TRANSITION)
			at[k++] = chk->ev[e].at;
	assert_int_equal(k, 3);
	uint64_t fail_at[2];
	int m = 0;
	for (size_t e = 0; e < chk->n_ev; e++)
		if (chk->ev[e].nr == f.target && chk->ev[e].from == ANN_TRANSITION && m < 2)
			fail_at[m++] = chk->ev[e].at;
	assert_true(at[1] >= fail_at[0] + 10);
	assert_true(at[2] >= fail_at[1] + 20);
	runner_free(&r);
	chk_free(chk);
}

static void test_backoff_cap(void **state)
{
	(void)state;
	struct ann *a;
	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t rx = role3(a, "x", "", 0,
			    (struct ann_retry){ .attempts = 6, .backoff_base = 100, .backoff_max = 250 });
	uint32_t d = dep(a, "d");
	uint32_t x = nr(a, node(a, "n1"), rx, d);
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	const uint64_t want[] = { 100, 200, 250, 250, 250 };
	uint64_t now = 0;
	for (int k = 0; k < 5; k++) {
		assert_int_equal(run_one(a, now), x);
		assert_int_equal(ann_complete(a, x, false, now, NULL, NULL), 0);
		assert_int_equal(info(a, x).next_eligible, now + want[k]);
		now += want[k];
	}
	assert_int_equal(run_one(a, now), x);
	assert_int_equal(ann_complete(a, x, false, now, NULL, NULL), 0);
	assert_int_equal(st(a, x), ANN_ERROR);
	assert_int_equal(info(a, x).attempts, 6);
	ann_free(a);
}

/* Is @x a descendant of @root (or @root itself)? */
static bool descends(struct ann *a, uint32_t x, uint32_t root)
{
	if (x == root)
		return true;
	const uint32_t *p;
	uint32_t np;
	assert_int_equal(ann_nr_parents(a, x, &p, &np), 0);
	for (uint32_t k = 0; k < np; k++)
		if (descends(a, p[k], root))
			return true;
	return false;
}

static void test_fail_forever(void **state)
{
	(void)state;
	struct ann *a;
	struct ann_opts o = { .max_running = 8 };
	struct checker *chk = chk_new(&o, &a);
	uint32_t d;
	scen_build(a, 50, &d);
	uint32_t n3, rdns;
	assert_int_equal(ann_node_find(a, "n3", &n3), 0);
	assert_int_equal(ann_role_find(a, "dns", &rdns), 0);
	struct flaky f = { .fails = UINT32_MAX };
	assert_int_equal(ann_noderole_find(a, n3, rdns, d, &f.target), 0);
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	struct runner r;
	runner_init(&r, a, 4242, 3);
	r.outcome = flaky_outcome;
	r.arg = &f;
	runner_converge(&r);

	assert_int_equal(st(a, f.target), ANN_ERROR);
	assert_int_equal(f.seen, 3);  /* the whole budget */
	struct ann_stats s;
	ann_stats(a, &s);
	uint32_t n_desc = 0;
	for (uint32_t x = 0; x < s.n_nrs; x++) {
		if (x == f.target)
			continue;
		if (descends(a, x, f.target)) {
			assert_int_equal(st(a, x), ANN_BLOCKED);
			n_desc++;
		} else {
			assert_int_equal(st(a, x), ANN_ACTIVE);  /* unrelated work went on */
		}
	}
	/* dns@n3 -> app@n3 -> web@n3 -> mon@n3 (backup only on even nodes). */
	assert_int_equal(n_desc, 3);
	assert_int_equal(s.count[ANN_BLOCKED], n_desc);
	enum ann_dep_state ds;
	assert_int_equal(ann_deployment_state(a, d, &ds), 0);
	assert_int_equal(ds, ANN_DEP_ERROR);

	/* retry: the jig is fixed now. */
	f.fails = 0;
	f.seen = 0;
	assert_int_equal(ann_retry(a, f.target, r.now, NULL), 0);
	assert_int_equal(st(a, f.target), ANN_TODO);
	assert_int_equal(info(a, f.target).attempts, 0);
	runner_converge(&r);
	ann_stats(a, &s);
	assert_int_equal(s.count[ANN_ACTIVE], s.n_nrs);
	assert_int_equal(ann_deployment_state(a, d, &ds), 0);
	assert_int_equal(ds, ANN_DEP_ACTIVE);
	assert_int_equal(chk->max_node_running, 1);
	runner_free(&r);
	chk_free(chk);
}

static void test_invalidate(void **state)
{
	(void)state;
	struct ann *a;
	struct checker *chk = chk_new(NULL, &a);
	uint32_t d;
	scen_build(a, 50, &d);
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	struct runner r;
	runner_init(&r, a, 31337, 5);
	runner_converge(&r);
	struct ann_stats s;
	ann_stats(a, &s);
	assert_int_equal(s.count[ANN_ACTIVE], s.n_nrs);

	/* ipam@n0 changed (say, a new address): it and its descendants re-run. */
	uint32_t n0, ripam, target;
	assert_int_equal(ann_node_find(a, "n0", &n0), 0);
	assert_int_equal(ann_role_find(a, "ipam", &ripam), 0);
	assert_int_equal(ann_noderole_find(a, n0, ripam, d, &target), 0);
	assert_int_equal(ann_invalidate(a, target, r.now, "address added", NULL), 0);
	assert_int_equal(st(a, target), ANN_TODO);
	uint32_t n_desc = 0;
	for (uint32_t x = 0; x < s.n_nrs; x++) {
		if (x == target)
			continue;
		if (descends(a, x, target)) {
			assert_int_equal(st(a, x), ANN_BLOCKED);
			n_desc++;
		} else {
			assert_int_equal(st(a, x), ANN_ACTIVE);
		}
	}
	/* db is a cluster role on n0: every app depends on it, so the re-run
	 * reaches far beyond n0. */
	assert_true(n_desc > 50);
	size_t first = r.n_starts;
	runner_converge(&r);
	assert_int_equal(r.n_starts - first, n_desc + 1);
	assert_order(a, &r);
	ann_stats(a, &s);
	assert_int_equal(s.count[ANN_ACTIVE], s.n_nrs);
	for (uint32_t x = 0; x < s.n_nrs; x++)
		assert_int_equal(info(a, x).run_count, descends(a, x, target) ? 2u : 1u);

	/* Invalidate while running: the run ends, then it runs again. */
	assert_int_equal(ann_invalidate(a, target, r.now, "first", NULL), 0);
	assert_int_equal(run_one(a, r.now), target);
	uint32_t n0dns, rdns;
	assert_int_equal(ann_role_find(a, "dns", &rdns), 0);
	assert_int_equal(ann_noderole_find(a, n0, rdns, d, &n0dns), 0);
	assert_int_equal(ann_invalidate(a, target, r.now, "second", NULL), 0);
	assert_true(info(a, target).rerun);
	assert_int_equal(ann_complete(a, target, true, r.now, NULL, NULL), 0);
	assert_int_equal(st(a, target), ANN_TODO);   /* again */
	assert_int_equal(st(a, n0dns), ANN_BLOCKED); /* not released by the stale run */
	assert_false(info(a, target).rerun);
	runner_converge(&r);
	ann_stats(a, &s);
	assert_int_equal(s.count[ANN_ACTIVE], s.n_nrs);
	assert_int_equal(info(a, target).run_count, 4);
	assert_int_equal(chk->max_node_running, 1);
	runner_free(&r);
	chk_free(chk);
}

/* Invalidation resets what it reaches: an error below goes blocked with a
 * fresh budget, a todo waiting out its backoff may run at once. */
static void test_invalidate_resets(void **state)
{
	(void)state;
	struct ann *a;
	struct checker *chk = chk_new(NULL, &a);
	struct ann_retry once = { .attempts = 1 };
	struct ann_retry slow = { .attempts = 5, .backoff_base = 1000 };
	uint32_t ra = role(a, "a", "", 0);
	uint32_t rb = role3(a, "b", "a", 0, once);
	uint32_t rc = role3(a, "c", "", 0, slow);
	uint32_t n1 = node(a, "n1"), n2 = node(a, "n2");
	uint32_t d = dep(a, "d");
	uint32_t x = nr(a, n1, ra, d), y = nr(a, n1, rb, d), z = nr(a, n2, rc, d);
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	uint32_t out[4];
	assert_int_equal(ann_next_runnable(a, 0, out, 4), 2);  /* a@n1, c@n2 */
	assert_int_equal(ann_complete(a, x, true, 1, NULL, NULL), 0);
	assert_int_equal(ann_complete(a, z, false, 1, NULL, NULL), 0);
	assert_int_equal(run_one(a, 2), y);
	assert_int_equal(ann_complete(a, y, false, 3, NULL, NULL), 0);
	assert_int_equal(st(a, y), ANN_ERROR);
	assert_int_equal(info(a, y).attempts, 1);

	assert_int_equal(ann_invalidate(a, x, 4, "renamed", NULL), 0);
	assert_int_equal(st(a, x), ANN_TODO);
	assert_int_equal(st(a, y), ANN_BLOCKED);
	assert_int_equal(info(a, y).attempts, 0);
	assert_int_equal(info(a, z).next_eligible, 1001);
	assert_int_equal(ann_invalidate(a, z, 5, NULL, NULL), 0);
	assert_int_equal(info(a, z).next_eligible, 0);
	assert_int_equal(ann_next_runnable(a, 6, out, 4), 2);  /* c runs now */
	assert_true((out[0] == x && out[1] == z) || (out[0] == z && out[1] == x));
	assert_int_equal(ann_complete(a, x, true, 7, NULL, NULL), 0);
	assert_int_equal(ann_complete(a, z, true, 7, NULL, NULL), 0);
	assert_int_equal(ann_complete(a, run_one(a, 8), true, 9, NULL, NULL), 0);
	struct ann_stats s;
	ann_stats(a, &s);
	assert_int_equal(s.count[ANN_ACTIVE], 3);
	assert_int_equal(ann_invalidate(a, 99, 0, NULL, NULL), NETD_ENOTFOUND);
	chk_free(chk);
}

/* Random failures, invalidations and retries, with every index checked
 * against the states after each step; then everything heals. */
static bool random_outcome(void *arg, uint32_t id, uint32_t attempt)
{
	struct runner *r = arg;
	(void)id;
	(void)attempt;
	return rnd(r) % 5 != 0;  /* one run in five fails */
}

static void assert_consistent(struct ann *a)
{
	struct netd_err e = { 0 };
	int rc = ann_check(a, &e);
	if (rc)
		fail_msg("ann_check: %s", e.msg);
}

static void test_stress(void **state)
{
	(void)state;
	uint64_t n_inval = 0, n_retry = 0, n_error = 0, n_rerun = 0;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct ann *a;
		struct ann_opts o = { .max_running = 1 + (uint32_t)(seed % 9) };
		struct checker *chk = chk_new(&o, &a);
		uint32_t d;
		uint32_t n = scen_build(a, 30, &d);
		assert_int_equal(ann_commit(a, d, 0, NULL), 0);
		assert_consistent(a);
		struct runner r;
		runner_init(&r, a, seed, 1 + seed % 4);
		r.outcome = random_outcome;
		r.arg = &r;
		for (int step = 0; step < 4000; step++) {
			uint64_t dice = rnd(&r);
			uint32_t x = (uint32_t)(rnd(&r) % n);
			if (dice % 13 == 0) {
				n_rerun += st(a, x) == ANN_TRANSITION;
				assert_int_equal(ann_invalidate(a, x, r.now, "changed", NULL), 0);
				n_inval++;
			} else if (dice % 7 == 0 && st(a, x) == ANN_ERROR) {
				assert_int_equal(ann_retry(a, x, r.now, NULL), 0);
				n_retry++;
			} else if (!runner_step(&r))
				break;
			assert_consistent(a);
		}
		/* Heal: no more failures, retry every error, converge. */
		r.outcome = NULL;
		for (;;) {
			runner_converge(&r);
			bool again = false;
			for (uint32_t x = 0; x < n; x++)
				if (st(a, x) == ANN_ERROR) {
					assert_int_equal(ann_retry(a, x, r.now, NULL), 0);
					again = true;
				}
			if (!again)
				break;
		}
		assert_consistent(a);
		struct ann_stats s;
		ann_stats(a, &s);
		assert_int_equal(s.count[ANN_ACTIVE], n);
		assert_int_equal(s.running, 0);
		assert_true(chk->max_running <= o.max_running);
		assert_int_equal(chk->max_node_running, 1);
		for (size_t k = 0; k < chk->n_ev; k++)
			n_error += chk->ev[k].to == ANN_ERROR;
		runner_free(&r);
		chk_free(chk);
	}
	print_message("stress: %" PRIu64 " invalidations (%" PRIu64 " while running), %" PRIu64
		      " retries, %" PRIu64 " errors\n", n_inval, n_rerun, n_retry, n_error);
	assert_true(n_inval > 100 && n_rerun > 0 && n_retry > 0 && n_error > 0);
}

static void test_destructive(void **state)
{
	(void)state;
	struct ann *a;
	struct netd_err e = { 0 };
	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t rb = role(a, "base", "", 0);
	uint32_t rw = role(a, "wipe", "base", ANN_ROLE_DESTRUCTIVE);
	uint32_t ro = role(a, "os", "wipe", 0);
	uint32_t n1 = node(a, "n1");
	uint32_t d = dep(a, "d");
	uint32_t b = nr(a, n1, rb, d), w = nr(a, n1, rw, d), os = nr(a, n1, ro, d);
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	for (int k = 0; k < 3; k++)
		assert_int_equal(ann_complete(a, run_one(a, 0), true, 0, NULL, NULL), 0);
	assert_int_equal(ann_invalidate(a, w, 1, NULL, &e), NETD_EPERM);
	assert_non_null(strstr(e.msg, "destructive"));
	/* From its parent: the cascade stops at the destructive one. */
	assert_int_equal(ann_invalidate(a, b, 1, NULL, NULL), 0);
	assert_int_equal(st(a, b), ANN_TODO);
	assert_int_equal(st(a, w), ANN_ACTIVE);
	assert_int_equal(st(a, os), ANN_ACTIVE);
	assert_int_equal(ann_complete(a, run_one(a, 2), true, 2, NULL, NULL), 0);
	uint32_t out[2];
	assert_int_equal(ann_next_runnable(a, 3, out, 2), 0);
	assert_int_equal(info(a, w).run_count, 1);
	ann_free(a);
}

static void test_recover(void **state)
{
	(void)state;
	/* Converge part of the way, "crash", rebuild from the events. */
	struct ann *a;
	struct checker *chk = chk_new(NULL, &a);
	uint32_t d;
	uint32_t n = scen_build(a, 20, &d);
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	struct runner r;
	runner_init(&r, a, 5, 6);
	for (int k = 0; k < 60; k++)
		assert_true(runner_step(&r));
	assert_true(r.n_running > 0);
	enum ann_state *saved = malloc(n * sizeof(*saved));
	assert_non_null(saved);
	size_t in_transition = 0;
	for (uint32_t x = 0; x < n; x++) {
		saved[x] = st(a, x);
		in_transition += saved[x] == ANN_TRANSITION;
	}
	assert_int_equal(in_transition, r.n_running);
	runner_free(&r);
	chk_free(chk);

	chk = chk_new(NULL, &a);
	uint32_t d2;
	assert_int_equal(scen_build(a, 20, &d2), n);
	assert_int_equal(ann_bind(a, d2, NULL), 0);
	for (uint32_t x = 0; x < n; x++)
		assert_int_equal(ann_restore(a, x, saved[x], saved[x] == ANN_ACTIVE, 1, 0, NULL), 0);
	assert_int_equal(ann_restore(a, 0, ANN_TODO, 0, 0, 0, NULL), NETD_EINVAL);
	assert_int_equal(ann_recover(a, 0), in_transition);
	for (uint32_t x = 0; x < n; x++)
		if (saved[x] == ANN_TRANSITION)
			assert_int_equal(st(a, x), ANN_TODO);
	runner_init(&r, a, 6, 6);
	runner_converge(&r);
	struct ann_stats s;
	ann_stats(a, &s);
	assert_int_equal(s.count[ANN_ACTIVE], n);
	/* Only what had not finished ran again. */
	size_t unfinished = 0;
	for (uint32_t x = 0; x < n; x++)
		unfinished += saved[x] != ANN_ACTIVE;
	assert_int_equal(r.n_starts, unfinished);
	enum ann_dep_state ds;
	assert_int_equal(ann_deployment_state(a, d2, &ds), 0);
	assert_int_equal(ds, ANN_DEP_ACTIVE);
	free(saved);
	runner_free(&r);
	chk_free(chk);
}

/* ---- scale ---- */

static void test_scale_100k(void **state)
{
	(void)state;
	struct ann *a;
	struct ann_opts o = { .max_running = 1000 };
	assert_int_equal(ann_new(&o, &a), 0);
	/* 10 roles on every node (same-node requires, a DAG of depth 5) and a
	 * dns-server role on 10 nodes that every dns node-role elsewhere binds
	 * to through the deployment (cross-node). */
	const char *names[] = { "base", "ipam", "dns", "ntp", "conduit", "switch", "bmc", "os", "app", "mon" };
	const char *reqs[] = { "", "base", "ipam,dns-server", "base", "ipam", "conduit", "base", "conduit,bmc", "os,dns,ntp", "app,switch" };
	uint32_t roles[10];
	for (int i = 0; i < 10; i++)
		roles[i] = role(a, names[i], reqs[i], 0);
	uint32_t rsrv = role(a, "dns-server", "ipam", 0);
	uint32_t d = dep(a, "d");
	const uint32_t N = 10000;
	for (uint32_t n = 0; n < N; n++) {
		char nm[16];
		snprintf(nm, sizeof nm, "node%05u", n);
		uint32_t id = node(a, nm);
		for (int i = 0; i < 10; i++)
			nr(a, id, roles[i], d);
		if (n % 1000 == 0)
			nr(a, id, rsrv, d);
	}
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	struct ann_stats s0;
	ann_stats(a, &s0);
	uint32_t edges = 0;
	for (uint32_t x = 0; x < s0.n_nrs; x++)
		edges += info(a, x).n_parents;

	struct runner r;
	runner_init(&r, a, 12345, 1000);
	runner_converge(&r);
	struct ann_stats s;
	ann_stats(a, &s);
	assert_int_equal(s.n_nrs, 100010);
	assert_int_equal(s.count[ANN_ACTIVE], s.n_nrs);
	assert_int_equal(r.completions, s.n_nrs);
	uint64_t visits = s.visits - s0.visits;
	print_message("scale: %u node-roles, %u edges, %" PRIu64 " completions, %" PRIu64
		      " visits (%.2f per node-role, %.2f per edge+node-role), %" PRIu64 " transitions\n",
		      s.n_nrs, edges, r.completions, visits, (double)visits / s.n_nrs,
		      (double)visits / (s.n_nrs + edges), s.transitions);
	/* Linear: each completion touches its children a bounded number of
	 * times, each pop a bounded number of node-roles. */
	assert_true(visits <= 10ull * s.n_nrs);
	assert_true(visits <= 4ull * ((uint64_t)s.n_nrs + edges));
	enum ann_dep_state ds;
	assert_int_equal(ann_deployment_state(a, d, &ds), 0);
	assert_int_equal(ds, ANN_DEP_ACTIVE);
	runner_free(&r);
	ann_free(a);
}

/* The chokepoint logs each change at debug, in one fixed form. */
static void test_log_line(void **state)
{
	(void)state;
	struct ann *a;
	assert_int_equal(ann_new(NULL, &a), 0);
	uint32_t rb = role(a, "base", "", 0), ri = role(a, "ipam", "base", 0);
	uint32_t n1 = node(a, "n1");
	uint32_t d = dep(a, "d");
	nr(a, n1, rb, d);
	nr(a, n1, ri, d);

	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	enum log_level old = log_get_level();
	log_set_level(LOG_LVL_DEBUG);
	assert_int_equal(ann_commit(a, d, 0, NULL), 0);
	assert_int_equal(ann_complete(a, run_one(a, 1), false, 2, "jig exit 3", NULL), 0);
	log_set_level(old);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);

	char buf[4096];
	rewind(tmp);
	size_t n = fread(buf, 1, sizeof buf - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	assert_non_null(strstr(buf, "node-role 0 (n1/base): proposed -> todo (committed)"));
	assert_non_null(strstr(buf, "node-role 1 (n1/ipam): proposed -> blocked (committed)"));
	assert_non_null(strstr(buf, "node-role 0 (n1/base): todo -> transition (scheduled)"));
	assert_non_null(strstr(buf, "node-role 0 (n1/base): transition -> error (jig exit 3; attempt 1/1 failed, giving up)"));
	assert_non_null(strstr(buf, "deployment d: committed -> error"));
	ann_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_pure),
		cmocka_unit_test(test_table_set_state),
		cmocka_unit_test(test_set_state_checks),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_bind_same_node_first),
		cmocka_unit_test(test_bind_deployment_fallback),
		cmocka_unit_test(test_bind_cluster),
		cmocka_unit_test(test_bind_implicit),
		cmocka_unit_test(test_bind_failures),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_cohorts),
		cmocka_unit_test(test_pick_order),
		cmocka_unit_test(test_scenario_50x10),
		cmocka_unit_test(test_fail_twice_then_succeed),
		cmocka_unit_test(test_backoff_cap),
		cmocka_unit_test(test_fail_forever),
		cmocka_unit_test(test_invalidate),
		cmocka_unit_test(test_invalidate_resets),
		cmocka_unit_test(test_stress),
		cmocka_unit_test(test_destructive),
		cmocka_unit_test(test_recover),
		cmocka_unit_test(test_log_line),
		cmocka_unit_test(test_scale_100k),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
