/* bench/ann_bench.c — the annealer's scheduler against a naive one.
 *
 *   ann_bench [NODES] [NAIVE_COMPLETIONS]
 *
 * Builds NODES (default 10,000) nodes × 10 roles with same-node requires
 * (a DAG of depth 5) plus a dns-server role on one node in a thousand that
 * every dns node-role elsewhere binds to through the deployment: 100,010
 * node-roles at the default.  Then, with a noop jig that succeeds at once:
 *
 *   annealer: ann_commit (binding included), then ann_next_runnable /
 *             ann_complete until every node-role is active;
 *   naive:    the same graph and the same rules (parents active, one
 *             transition per node), but after each completion it rescans
 *             every node-role for runnable ones.  It is quadratic (about 6 s
 *             for the default size on the lead's machine), so
 *             NAIVE_COMPLETIONS (default: all) can stop it early; naive_est_s
 *             then extrapolates linearly from the completions measured, which
 *             overestimates (early rescans check more parents than late
 *             ones: ~1.7x at the default size after 2,000 completions).
 *
 * Prints
 *     RESULT nrs=N edges=E commit_to_active_s=S per_transition_us=U
 *            naive_per_transition_us=V naive_est_s=T ratio=V/U
 * where a "transition" is one node-role run (todo -> transition -> active).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annealer/annealer.h"
#include "bench/bench.h"

#define N_ROLES 10

static const char *const role_names[N_ROLES] = {
	"base", "ipam", "dns", "ntp", "conduit", "switch", "bmc", "os", "app", "mon",
};
static const char *const role_reqs[N_ROLES][3] = {
	{ NULL }, { "base" }, { "ipam", "dns-server" }, { "base" }, { "ipam" },
	{ "conduit" }, { "base" }, { "conduit", "bmc" }, { "os", "dns", "ntp" },
	{ "app", "switch" },
};

static void die(const char *what, int rc)
{
	fprintf(stderr, "ann_bench: %s failed (%d)\n", what, rc);
	exit(1);
}

static size_t n_reqs(int i)
{
	size_t n = 0;
	while (n < 3 && role_reqs[i][n])
		n++;
	return n;
}

static struct ann *build(uint32_t nodes, uint32_t *ret_dep)
{
	struct ann *a;
	struct netd_err e = { 0 };
	uint32_t roles[N_ROLES], srv, d;
	int rc = ann_new(NULL, &a);
	if (rc)
		die("ann_new", rc);
	for (int i = 0; i < N_ROLES; i++) {
		struct ann_role_def def = { .name = role_names[i], .requires = role_reqs[i],
					    .n_requires = n_reqs(i) };
		if ((rc = ann_role_add(a, &def, &roles[i], &e)))
			die("ann_role_add", rc);
	}
	const char *srv_req[] = { "ipam" };
	struct ann_role_def sdef = { .name = "dns-server", .requires = srv_req, .n_requires = 1 };
	if ((rc = ann_role_add(a, &sdef, &srv, &e)) || (rc = ann_deployment_add(a, "bench", &d, &e)))
		die("setup", rc);
	for (uint32_t n = 0; n < nodes; n++) {
		char name[32];
		uint32_t id, x;
		snprintf(name, sizeof name, "node%06u", n);
		if ((rc = ann_node_add(a, name, &id, &e)))
			die("ann_node_add", rc);
		for (int i = 0; i < N_ROLES; i++)
			if ((rc = ann_noderole_add(a, id, roles[i], d, &x, &e)))
				die("ann_noderole_add", rc);
		if (n % 1000 == 0 && (rc = ann_noderole_add(a, id, srv, d, &x, &e)))
			die("ann_noderole_add", rc);
	}
	*ret_dep = d;
	return a;
}

/* Commit and converge; returns the number of runs. */
static uint64_t anneal(struct ann *a, uint32_t d, uint32_t n_nrs)
{
	struct netd_err e = { 0 };
	uint32_t *batch = malloc((size_t)n_nrs * sizeof(*batch));
	uint64_t runs = 0, now = 0;
	if (!batch)
		die("malloc", -1);
	int rc = ann_commit(a, d, now, &e);
	if (rc)
		die(e.msg[0] ? e.msg : "ann_commit", rc);
	for (;;) {
		size_t n = ann_next_runnable(a, now, batch, n_nrs);
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			if ((rc = ann_complete(a, batch[i], true, now, NULL, &e)))
				die("ann_complete", rc);
		runs += n;
		now++;
	}
	free(batch);
	return runs;
}

/* ---- the naive scheduler ---- */

enum { N_TODO, N_RUNNING, N_ACTIVE };

struct naive {
	uint32_t n;
	uint32_t *node;        /* per node-role */
	uint32_t *off, *par;   /* parents, CSR */
	uint8_t *state;
	uint8_t *busy;         /* per node */
	uint32_t *queue;       /* running, FIFO */
	uint32_t qh, qt;
};

static void naive_init(struct naive *nv, const struct ann *a, uint32_t n_nrs, uint32_t n_nodes)
{
	struct ann_nr_info in;
	uint32_t edges = 0;
	nv->n = n_nrs;
	nv->node = malloc((size_t)n_nrs * sizeof(*nv->node));
	nv->off = malloc(((size_t)n_nrs + 1) * sizeof(*nv->off));
	nv->state = calloc(n_nrs, 1);
	nv->busy = calloc(n_nodes, 1);
	nv->queue = malloc((size_t)n_nrs * sizeof(*nv->queue));
	if (!nv->node || !nv->off || !nv->state || !nv->busy || !nv->queue)
		die("malloc", -1);
	for (uint32_t x = 0; x < n_nrs; x++) {
		ann_nr_info(a, x, &in);
		nv->off[x] = edges;
		nv->node[x] = in.node;
		edges += in.n_parents;
	}
	nv->off[n_nrs] = edges;
	nv->par = malloc((size_t)edges * sizeof(*nv->par) + 1);
	if (!nv->par)
		die("malloc", -1);
	for (uint32_t x = 0; x < n_nrs; x++) {
		const uint32_t *p;
		uint32_t np;
		ann_nr_parents(a, x, &p, &np);
		memcpy(nv->par + nv->off[x], p, (size_t)np * sizeof(*p));
	}
	nv->qh = nv->qt = 0;
}

static void naive_free(struct naive *nv)
{
	free(nv->node);
	free(nv->off);
	free(nv->par);
	free(nv->state);
	free(nv->busy);
	free(nv->queue);
}

/* The rescan: start every todo node-role whose parents are active and whose
 * node is free. */
static void naive_scan(struct naive *nv)
{
	for (uint32_t x = 0; x < nv->n; x++) {
		if (nv->state[x] != N_TODO || nv->busy[nv->node[x]])
			continue;
		bool ready = true;
		for (uint32_t k = nv->off[x]; k < nv->off[x + 1] && ready; k++)
			ready = nv->state[nv->par[k]] == N_ACTIVE;
		if (!ready)
			continue;
		nv->state[x] = N_RUNNING;
		nv->busy[nv->node[x]] = 1;
		nv->queue[nv->qt++] = x;
	}
}

/* Run up to @limit completions; returns how many. */
static uint64_t naive_run(struct naive *nv, uint64_t limit)
{
	uint64_t done = 0;
	naive_scan(nv);
	while (nv->qh < nv->qt && done < limit) {
		uint32_t x = nv->queue[nv->qh++];
		nv->state[x] = N_ACTIVE;
		nv->busy[nv->node[x]] = 0;
		done++;
		naive_scan(nv);
	}
	return done;
}

int main(int argc, char **argv)
{
	uint32_t nodes = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 10000;
	uint64_t naive_limit = argc > 2 ? strtoull(argv[2], NULL, 10) : UINT64_MAX;
	uint32_t d;
	struct ann_stats s;

	double t0 = bench_now();
	struct ann *a = build(nodes, &d);
	double t1 = bench_now();
	ann_stats(a, &s);
	uint32_t n_nrs = s.n_nrs;
	uint64_t runs = anneal(a, d, n_nrs);
	double t2 = bench_now();
	ann_stats(a, &s);
	if (runs != n_nrs || s.count[ANN_ACTIVE] != n_nrs) {
		fprintf(stderr, "ann_bench: converged %llu of %u\n", (unsigned long long)runs, n_nrs);
		return 1;
	}
	double ann_s = t2 - t1;
	double ann_us = ann_s * 1e6 / (double)runs;

	struct naive nv;
	naive_init(&nv, a, n_nrs, s.n_nodes);
	double t3 = bench_now();
	uint64_t done = naive_run(&nv, naive_limit);
	double t4 = bench_now();
	double naive_us = done ? (t4 - t3) * 1e6 / (double)done : 0;
	uint32_t edges = nv.off[n_nrs];
	naive_free(&nv);

	fprintf(stderr, "ann_bench: %u node-roles, %u edges; build %.3f s; annealer commit->active "
		"%.3f s (%llu state changes, %llu visits); naive %llu completions in %.3f s\n",
		n_nrs, edges, t1 - t0, ann_s, (unsigned long long)s.transitions,
		(unsigned long long)s.visits, (unsigned long long)done, t4 - t3);
	printf("RESULT nrs=%u edges=%u commit_to_active_s=%.3f per_transition_us=%.3f "
	       "naive_per_transition_us=%.3f naive_est_s=%.1f ratio=%.1f\n",
	       n_nrs, edges, ann_s, ann_us, naive_us, naive_us * (double)n_nrs / 1e6,
	       ann_us > 0 ? naive_us / ann_us : 0);
	ann_free(a);
	return 0;
}
