/* netd/netctl_anneal.c — `netctl anneal ...`: the annealer from the shell.
 *
 *   anneal status [DEPLOYMENT]   deployments with their node-role counts per
 *                                state, then every node-role in error with
 *                                its summary and the tail of its log
 *   anneal watch DEPLOYMENT      a progress line until the deployment is
 *                                active (exit 0) or in error with nothing
 *                                left to run (exit 1, the errors printed)
 *   anneal propose DEPLOYMENT --node N... --role R...
 *   anneal commit DEPLOYMENT
 *   anneal retry DEPLOYMENT [--node N] [--role R]
 *
 * watch follows netd's event stream (GET /restconf/streams/netd/json,
 * server-sent events) on a second curl handle driven through a multi handle;
 * its write callback only parses the stream and marks the counts stale when
 * an event of the deployment arrives.  Between two turns of the multi loop
 * (never inside a libcurl callback) the counts are fetched again, at most
 * every AN_REFRESH_MS, with a GET of the deployment on the ordinary handle.
 * So the numbers shown and the exit decision always come from netd, never
 * from adding up events, and a lost or doubled event cannot skew them.  The
 * first bytes of the stream (netd's greeting) also mark the counts stale:
 * what changed between the first GET and the stream's start is not missed.
 * When the stream ends while netd still answers, watch reconnects with
 * Last-Event-ID.
 *
 * retry, too, opens the stream before its RPC and returns once the
 * retried node-roles have left error: netd answers the RPC when the
 * request is durable and applies it on its loop a moment later, and a
 * `watch` started in that moment would see the old errors and stop.
 *
 * Output: on a terminal one line redrawn in place
 *     [######..............] 312/500 active, 2 errors, 3 running
 * otherwise the same line printed whenever it changes; node-roles that go
 * to error are printed as they happen.  --json prints the events of the
 * deployment (one JSON object a line), then netd's answer for it.
 *
 * Errors are reported on stderr where they happen (netctl.h); exit status 1
 * for a deployment in error, 2 when netd cannot be reached (or went away).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libyang/libyang.h>

#include "core/err.h"
#include "netd/netctl.h"

#define AN_REFRESH_MS 200      /* counts fetched at most this often while events arrive */
#define AN_POLL_MS 200         /* the watch loop's longest sleep */
#define AN_LOG_TAIL 10         /* log lines shown per node-role in error */
#define AN_BAR_WIDTH 20
#define AN_RECONNECTS 5        /* stream reconnects in a row without an event */
#define AN_SSE_LINE_MAX (1u << 20)
#define AN_APPLY_WAIT_MS 30000  /* retry: how long to wait for netd to apply it */

static const char an_usage_text[] =
	"usage: netctl anneal status [DEPLOYMENT]\n"
	"       netctl anneal watch DEPLOYMENT\n"
	"       netctl anneal propose DEPLOYMENT --node N [N...] --role R [R...]\n"
	"       netctl anneal commit DEPLOYMENT\n"
	"       netctl anneal retry DEPLOYMENT [--node N] [--role R]\n"
	"       netctl anneal help\n"
	"\n"
	"  status    deployments with node-role counts per state; node-roles in error\n"
	"            with their summary and the last lines of their log\n"
	"  watch     progress until the deployment is active (exit 0) or in error with\n"
	"            nothing left running (exit 1); follows netd's event stream\n"
	"  propose   create a deployment, or add nodes and roles to one\n"
	"  commit    bind and commit it: the annealer starts converging it\n"
	"  retry     return node-roles in error to todo (all of the deployment's, or\n"
	"            those of one node and/or role)\n"
	"\n"
	"--json prints netd's JSON (watch: each event of the deployment, one a line).\n";

/* Node-role states, in the order of /netd:deployments/deployment/counts. */
enum { AN_PROPOSED, AN_TODO, AN_TRANSITION, AN_ACTIVE, AN_ERROR, AN_BLOCKED, AN_NSTATES };
static const char *const an_state_names[AN_NSTATES] = { "proposed", "todo", "transition",
							"active", "error", "blocked" };

struct an_counts {
	char state[16];              /* the deployment's: proposed, committed, active, error */
	unsigned long n[AN_NSTATES]; /* node-roles per state */
	unsigned long total;
};

/* ---- small helpers over libyang trees (schema or opaque nodes) ----------- */

static const char *an_name(const struct lyd_node *n)
{
	return n->schema ? n->schema->name : ((const struct lyd_node_opaq *)n)->name.name;
}

/* The first node named @name among @first's siblings and their
 * descendants, depth first; opaque nodes too. */
static const struct lyd_node *an_find(const struct lyd_node *first, const char *name)
{
	const struct lyd_node *n, *hit;

	LY_LIST_FOR(first, n) {
		if (strcmp(an_name(n), name) == 0)
			return n;
		if ((hit = an_find(lyd_child(n), name)))
			return hit;
	}
	return NULL;
}

/* The value of @n's child @name (schema leaf or opaque), or NULL. */
static const char *an_value(const struct lyd_node *n, const char *name)
{
	const struct lyd_node *ch;

	LY_LIST_FOR(n ? lyd_child(n) : NULL, ch) {
		if (strcmp(an_name(ch), name) != 0)
			continue;
		if (!ch->schema)
			return ((const struct lyd_node_opaq *)ch)->value;
		if (ch->schema->nodetype & LYD_NODE_TERM)
			return lyd_get_value(ch);
	}
	return NULL;
}

/* Parse any JSON @text leniently (unknown modules as opaque nodes). NULL
 * if it is not JSON. */
static struct lyd_node *an_parse_loose(struct nc *c, const char *text)
{
	struct lyd_node *tree = NULL;

	ly_err_clean(c->ctx, NULL);
	if (lyd_parse_data_mem(c->ctx, text, LYD_JSON, LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0, &tree) != LY_SUCCESS) {
		lyd_free_all(tree);
		tree = NULL;
	}
	ly_err_clean(c->ctx, NULL);
	return tree;
}

/* Report libyang's last error about @what. Returns NETD_EINVAL. */
static int an_ly_fail(struct nc *c, const char *what)
{
	const struct ly_err_item *it = ly_err_last(c->ctx);
	int r = nc_fail(NETD_EINVAL, "%s: %s", what, it && it->msg ? it->msg : "invalid value");

	ly_err_clean(c->ctx, NULL);
	return r;
}

static uint64_t an_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* "/restconf/data/netd:deployments/deployment=<escaped>" in *out. */
static int an_deployment_path(struct nc *c, const char *name, char **out)
{
	char *esc = curl_easy_escape(c->curl, name, 0);
	int r = 0;

	if (!esc)
		return nc_fail(-ENOMEM, "out of memory");
	if (asprintf(out, "/restconf/data/netd:deployments/deployment=%s", esc) < 0)
		r = nc_fail(-ENOMEM, "out of memory");
	curl_free(esc);
	return r;
}

/* The counts of deployment entry @dep. */
static void an_counts_of(const struct lyd_node *dep, struct an_counts *k)
{
	const struct lyd_node *counts = nc_child(dep, "counts", NULL);
	const char *st = nc_leaf(dep, "state");

	memset(k, 0, sizeof *k);
	snprintf(k->state, sizeof k->state, "%s", st ? st : "-");
	for (int i = 0; i < AN_NSTATES; i++) {
		const char *v = nc_leaf(counts, an_state_names[i]);
		k->n[i] = v ? strtoul(v, NULL, 10) : 0;
		k->total += k->n[i];
	}
}

/* GET one deployment; its entry's counts in @k, netd's answer in @resp.
 * Errors reported (netd's own: no such deployment). */
static int an_fetch_deployment(struct nc *c, const char *name, struct nc_resp *resp, struct an_counts *k)
{
	struct lyd_node *tree = NULL;
	char *path = NULL;
	int r = an_deployment_path(c, name, &path);

	if (r == 0)
		r = nc_fetch(c, path, "/netd:deployments", false, resp, &tree);
	if (r == 0) {
		const struct lyd_node *dep = nc_child(nc_top(tree, "deployments"), "deployment", name);
		if (dep)
			an_counts_of(dep, k);
		else
			r = nc_fail(NC_ESERVER, "netd's answer holds no deployment %s", name);
	}
	lyd_free_all(tree);
	free(path);
	return r;
}

/* ---- status -------------------------------------------------------------- */

static const char *const an_head_status[] = { "DEPLOYMENT", "STATE", "NODES", "ROLES", "TOTAL", "PROPOSED",
					      "TODO", "TRANSITION", "ACTIVE", "ERROR", "BLOCKED" };

static size_t an_count_children(const struct lyd_node *n, const char *name)
{
	const struct lyd_node *ch;
	size_t k = 0;

	LY_LIST_FOR(n ? lyd_child(n) : NULL, ch)
		k += ch->schema && strcmp(ch->schema->name, name) == 0;
	return k;
}

static int an_row_deployment(struct nc_table *t, const struct lyd_node *dep)
{
	struct an_counts k;
	char num[AN_NSTATES + 3][24];
	const char *row[11];

	an_counts_of(dep, &k);
	snprintf(num[0], sizeof num[0], "%zu", an_count_children(dep, "node"));
	snprintf(num[1], sizeof num[1], "%zu", an_count_children(dep, "role"));
	snprintf(num[2], sizeof num[2], "%lu", k.total);
	for (int i = 0; i < AN_NSTATES; i++)
		snprintf(num[3 + i], sizeof num[3 + i], "%lu", k.n[i]);
	row[0] = nc_leaf(dep, "name");
	row[1] = k.state;
	for (int i = 0; i < AN_NSTATES + 3; i++)
		row[2 + i] = num[i];
	return nc_table_add(t, row);
}

/* Print the last AN_LOG_TAIL lines of @log, indented. */
static void an_print_log_tail(const char *log)
{
	size_t n = strlen(log);
	while (n && log[n - 1] == '\n')
		n--;
	if (n == 0) {
		puts("    (empty log)");
		return;
	}
	size_t start = n;
	for (int lines = 0; start > 0; start--)
		if (log[start - 1] == '\n' && ++lines == AN_LOG_TAIL)
			break;
	if (start > 0)
		puts("    ...");
	for (size_t i = start; i < n;) {
		size_t k = strcspn(log + i, "\n");
		if (i + k > n)
			k = n - i;
		printf("    | %.*s\n", (int)k, log + i);
		i += k + 1;
	}
}

/* One node-role in error: who, the summary, the tail of the log. */
static void an_print_error(const struct lyd_node *nr)
{
	const char *summary = nc_leaf(nr, "summary"), *attempts = nc_leaf(nr, "attempts");
	const char *log = nc_leaf(nr, "log");

	printf("error: role %s on node %s (deployment %s", nc_leaf(nr, "role"), nc_leaf(nr, "node"),
	       nc_leaf(nr, "deployment"));
	if (attempts)
		printf(", %s attempt%s", attempts, strcmp(attempts, "1") ? "s" : "");
	printf("): %s\n", summary && *summary ? summary : "(no summary)");
	an_print_log_tail(log ? log : "");
}

/* Is @nr a node-role of deployment @dep (NULL: any) in error? */
static bool an_is_error_of(const struct lyd_node *nr, const char *dep)
{
	const char *d = nc_leaf(nr, "deployment"), *st = nc_leaf(nr, "state");

	return nr->schema && strcmp(nr->schema->name, "node-role") == 0 && st && strcmp(st, "error") == 0 &&
	       (!dep || (d && strcmp(d, dep) == 0));
}

/* GET the node-roles and keep those in error of @dep (NULL: any) in *out
 * (NULL when there are none). Errors reported. */
static int an_fetch_errors(struct nc *c, const char *dep, struct lyd_node **out)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL, *e, *next;
	int r = nc_fetch(c, "/restconf/data/netd:node-roles", NULL, true, &resp, &tree);

	nc_resp_clear(&resp);
	*out = NULL;
	if (r < 0)
		return r;
	const struct lyd_node *top = nc_top(tree, "node-roles");
	for (e = top ? lyd_child(top) : NULL; e; e = next) {
		next = e->next;
		if (!an_is_error_of(e, dep))
			lyd_free_tree(e);
	}
	if (top && lyd_child(top))
		*out = tree;
	else
		lyd_free_all(tree);
	return 0;
}

/* Print every node-role in error under @errs. */
static void an_print_errors(const struct lyd_node *errs)
{
	const struct lyd_node *top = nc_top(errs, "node-roles"), *nr;

	LY_LIST_FOR(top ? lyd_child(top) : NULL, nr) {
		putchar('\n');
		an_print_error(nr);
	}
}

/* Print @a and @b (either may be NULL) as one JSON document. */
static int an_print_json(struct nc *c, struct lyd_node **a, struct lyd_node *b)
{
	if (b && lyd_insert_sibling(*a, b, a) != LY_SUCCESS) {
		lyd_free_all(b);
		return an_ly_fail(c, "cannot merge netd's answers");
	}
	if (*a)
		lyd_print_file(stdout, *a, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK);
	puts(*a ? "" : "{}");
	return 0;
}

/* Does any deployment of @top have node-roles in error? */
static bool an_any_error(const struct lyd_node *top)
{
	const struct lyd_node *dep;

	LY_LIST_FOR(top ? lyd_child(top) : NULL, dep) {
		struct an_counts k;
		if (!dep->schema || strcmp(dep->schema->name, "deployment") != 0)
			continue;
		an_counts_of(dep, &k);
		if (k.n[AN_ERROR])
			return true;
	}
	return false;
}

/* anneal status [DEPLOYMENT] */
static int an_status(struct nc *c, int argc, char **argv)
{
	struct nc_table t = { .ncols = sizeof an_head_status / sizeof an_head_status[0] };
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL, *errs = NULL;
	const char *one = argc == 2 ? argv[1] : NULL;
	char *path = NULL;
	int r = nc_no_options(argc, argv, "anneal status");

	if (r < 0)
		return r;
	if (argc > 2)
		return nc_usage_fail("anneal status: expected [DEPLOYMENT]");
	if (one && (r = an_deployment_path(c, one, &path)) < 0)
		return r;
	r = nc_fetch(c, one ? path : "/restconf/data/netd:deployments", one ? "/netd:deployments" : NULL, !one,
		     &resp, &tree);
	const struct lyd_node *top = nc_top(tree, "deployments"), *dep;
	if (r == 0 && an_any_error(top))
		r = an_fetch_errors(c, one, &errs);
	if (r < 0)
		goto cleanup;
	if (c->json) {
		r = an_print_json(c, &tree, errs);
		errs = NULL;
		goto cleanup;
	}
	r = nc_table_add(&t, an_head_status);
	LY_LIST_FOR(top ? lyd_child(top) : NULL, dep)
		if (r == 0 && dep->schema && strcmp(dep->schema->name, "deployment") == 0)
			r = an_row_deployment(&t, dep);
	if (r < 0) {
		nc_fail(r, "out of memory");
		goto cleanup;
	}
	nc_table_print(&t, stdout);
	an_print_errors(errs);
cleanup:
	nc_table_free(&t);
	lyd_free_all(tree);
	lyd_free_all(errs);
	nc_resp_clear(&resp);
	free(path);
	return r;
}

/* ---- RPCs ---------------------------------------------------------------- */

/* One input leaf (or leaf-list entry) of an RPC. */
struct an_in {
	const char *name, *value;
};

/* POST netd:@rpc with the @n inputs, checked against the model on the way;
 * the answer stays in @resp. Errors reported. */
static int an_rpc(struct nc *c, const char *rpc, const struct an_in *in, size_t n, struct nc_resp *resp)
{
	const struct lys_module *mod = ly_ctx_get_module_implemented(c->ctx, "netd");
	struct lyd_node *op = NULL;
	char *text = NULL, *body = NULL, path[128], prefix[128];
	int r = 0;

	ly_err_clean(c->ctx, NULL);
	if (!mod || lyd_new_inner(NULL, mod, rpc, 0, &op) != LY_SUCCESS) {
		r = an_ly_fail(c, rpc);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		if (lyd_new_term(op, NULL, in[i].name, in[i].value, 0, NULL) != LY_SUCCESS) {
			char what[160];
			snprintf(what, sizeof what, "%s %.100s", in[i].name, in[i].value);
			r = an_ly_fail(c, what);
			goto cleanup;
		}
	}
	if (lyd_print_mem(&text, op, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS || !text) {
		r = nc_fail(-ENOMEM, "out of memory");
		goto cleanup;
	}
	/* libyang prints {"netd:RPC":{...}}; RESTCONF wants {"netd:input":{...}} */
	int pl = snprintf(prefix, sizeof prefix, "{\"netd:%s\":", rpc);
	if (pl < 0 || (size_t)pl >= sizeof prefix || strncmp(text, prefix, (size_t)pl) != 0) {
		r = nc_fail(NETD_EINVAL, "%s: unexpected printed input %s", rpc, text);
		goto cleanup;
	}
	if (asprintf(&body, "{\"netd:input\":%s", text + pl) < 0) {
		r = nc_fail(-ENOMEM, "out of memory");
		goto cleanup;
	}
	snprintf(path, sizeof path, "/restconf/operations/netd:%s", rpc);
	r = nc_call(c, "POST", path, body, resp);
cleanup:
	free(body);
	free(text);
	lyd_free_all(op);
	return r;
}

/* Append the values of "--node a b,c" style arguments to @in. */
static int an_add_values(struct an_in *in, size_t cap, size_t *n, const char *name, char *arg)
{
	char *save = NULL;

	for (char *v = strtok_r(arg, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
		if (*n >= cap)
			return nc_usage_fail("anneal propose: too many values");
		in[(*n)++] = (struct an_in){ name, v };
	}
	return 0;
}

/* anneal propose DEPLOYMENT --node N [N...] --role R [R...] (values may
 * also be given as --node=N and comma-separated) */
static int an_propose(struct nc *c, int argc, char **argv)
{
	struct nc_resp resp = { 0 };
	struct an_in *in = NULL;
	const char *list = NULL;   /* "node" or "role" while their values follow */
	size_t n = 0, cap = 1, nodes = 0, roles = 0;
	int r = 0;

	if (argc < 2 || argv[1][0] == '-')
		return nc_usage_fail("anneal propose: expected DEPLOYMENT --node N... --role R...");
	for (int i = 2; i < argc; i++)   /* room for every comma-separated value */
		for (const char *p = argv[i]; p; p = strchr(p + 1, ','))
			cap++;
	if (!(in = calloc(cap, sizeof *in)))
		return nc_fail(-ENOMEM, "out of memory");
	in[n++] = (struct an_in){ "deployment", argv[1] };
	for (int i = 2; i < argc && r == 0; i++) {
		char *a = argv[i];
		if (!strcmp(a, "--node") || !strcmp(a, "--role")) {
			list = a + 2;
		} else if (!strncmp(a, "--node=", 7) || !strncmp(a, "--role=", 7)) {
			list = NULL;
			r = an_add_values(in, cap, &n, a[2] == 'n' ? "node" : "role", a + 7);
		} else if (a[0] == '-' || !list) {
			r = nc_usage_fail("anneal propose: unexpected argument %s", a);
		} else {
			r = an_add_values(in, cap, &n, list, a);
		}
	}
	for (size_t i = 1; i < n; i++) {
		nodes += !strcmp(in[i].name, "node");
		roles += !strcmp(in[i].name, "role");
	}
	if (r == 0)
		r = an_rpc(c, "propose-deployment", in, n, &resp);
	if (r == 0 && c->json)
		nc_print_raw(resp.len ? resp.body : "{}");
	else if (r == 0)
		printf("deployment %s: proposed (%zu node%s, %zu role%s given)\n", argv[1], nodes,
		       nodes == 1 ? "" : "s", roles, roles == 1 ? "" : "s");
	nc_resp_clear(&resp);
	free(in);
	return r;
}

/* anneal commit DEPLOYMENT */
static int an_commit(struct nc *c, int argc, char **argv)
{
	struct nc_resp resp = { 0 };
	int r = nc_no_options(argc, argv, "anneal commit");

	if (r < 0)
		return r;
	if (argc != 2)
		return nc_usage_fail("anneal commit: expected DEPLOYMENT");
	const struct an_in in[] = { { "deployment", argv[1] } };
	r = an_rpc(c, "commit-deployment", in, 1, &resp);
	if (r == 0 && c->json)
		nc_print_raw(resp.len ? resp.body : "{}");
	else if (r == 0)
		printf("deployment %s: committed\n", argv[1]);
	nc_resp_clear(&resp);
	return r;
}

/* ---- the event stream ---------------------------------------------------- */

enum an_outcome { AN_RUNNING, AN_CONVERGED, AN_FAILED };

/* A follower of netd's event stream, for watch and for retry. */
struct an_watch {
	struct nc *c;
	const char *dep;
	const char *node, *role;   /* retry: the node-roles retried (NULL: any) */
	bool count_retries;        /* retry: count events out of error, nothing else */
	unsigned retried;          /* ... so many of them */
	bool tty;
	struct an_counts cur;      /* watch: as last fetched */
	char shown[160];           /* watch: the progress line last printed */
	bool stale;                /* an event (or the greeting) since that fetch */
	uint64_t fetched_ms;
	/* the stream */
	CURLM *m;
	CURL *h;
	struct curl_slist *hdrs;
	bool running;              /* the transfer is on */
	bool greeted;              /* netd's greeting arrived: the stream is live */
	long status;               /* its HTTP status, once known */
	struct nc_resp errbody;    /* the body of a refused stream */
	char last_id[32];          /* the last event's id (for Last-Event-ID) */
	unsigned events;           /* events received on this connection */
	char *line;                /* the line being received */
	size_t llen, lcap;
	char *data;                /* the event being received */
	size_t dlen, dcap;
	int err;                   /* a failure inside the write callback */
};

static enum an_outcome an_outcome_of(const struct an_counts *k)
{
	if (!strcmp(k->state, "active") || (k->total && k->n[AN_ACTIVE] == k->total))
		return AN_CONVERGED;
	if (k->n[AN_ERROR] && !k->n[AN_TRANSITION] && !k->n[AN_TODO])
		return AN_FAILED;
	return AN_RUNNING;
}

/* "[######..............] 312/500 active, 2 errors, 3 running" */
static void an_progress_line(const struct an_counts *k, char *out, size_t len)
{
	char bar[AN_BAR_WIDTH + 1];
	unsigned long fill = k->total ? k->n[AN_ACTIVE] * AN_BAR_WIDTH / k->total : 0;

	for (unsigned long i = 0; i < AN_BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[AN_BAR_WIDTH] = '\0';
	snprintf(out, len, "[%s] %lu/%lu active, %lu error%s, %lu running%s", bar, k->n[AN_ACTIVE], k->total,
		 k->n[AN_ERROR], k->n[AN_ERROR] == 1 ? "" : "s", k->n[AN_TRANSITION],
		 !strcmp(k->state, "proposed") ? " (proposed: not committed yet)" : "");
}

/* Show the progress line: redrawn in place on a terminal, else printed
 * when it changed. Not with --json. */
static void an_show(struct an_watch *w)
{
	char line[sizeof w->shown];

	if (w->c->json)
		return;
	an_progress_line(&w->cur, line, sizeof line);
	if (w->tty)
		printf("\r%s\033[K", line);
	else if (strcmp(line, w->shown) != 0)
		puts(line);
	snprintf(w->shown, sizeof w->shown, "%s", line);
	fflush(stdout);
}

/* Print @text on its own line: above the progress line on a terminal. */
static void an_say(struct an_watch *w, const char *text)
{
	if (w->tty && w->shown[0])
		printf("\r\033[K%s\n%s", text, w->shown);
	else
		puts(text);
	fflush(stdout);
}

/* Fetch the counts again and show them. 0 or an error (reported). */
static int an_refresh(struct an_watch *w)
{
	struct nc_resp resp = { 0 };
	struct an_counts k;
	int r = an_fetch_deployment(w->c, w->dep, &resp, &k);

	nc_resp_clear(&resp);
	if (r < 0)
		return r;
	w->cur = k;
	w->stale = false;
	w->fetched_ms = an_now_ms();
	an_show(w);
	return 0;
}

static bool an_matches(const char *want, const char *got)
{
	return !want || (got && strcmp(want, got) == 0);
}

/* One complete event from the stream (its data field in w->data). */
static void an_on_event(struct an_watch *w)
{
	struct lyd_node *tree = an_parse_loose(w->c, w->data);
	const struct lyd_node *ev = an_find(tree, "node-role-transition");
	const char *from = an_value(ev, "from"), *to = an_value(ev, "to");

	w->events++;
	if (!ev || !an_matches(w->dep, an_value(ev, "deployment")))
		goto done;
	if (w->count_retries) {
		if (from && !strcmp(from, "error") && an_matches(w->node, an_value(ev, "node")) &&
		    an_matches(w->role, an_value(ev, "role")) && w->retried)
			w->retried--;
		goto done;
	}
	w->stale = true;
	if (w->c->json) {
		puts(w->data);
		fflush(stdout);
	} else if (to && !strcmp(to, "error")) {
		char text[512];
		const char *cause = an_value(ev, "cause");
		snprintf(text, sizeof text, "error: role %s on node %s: %s", an_value(ev, "role"),
			 an_value(ev, "node"), cause && *cause ? cause : "(no cause)");
		an_say(w, text);
	}
done:
	lyd_free_all(tree);
}

static int an_grow(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	if (need > AN_SSE_LINE_MAX)
		return NETD_ETOOBIG;
	size_t c = *cap ? *cap : 1024;
	while (c < need)
		c *= 2;
	char *p = realloc(*buf, c);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = c;
	return 0;
}

/* One line of the stream (without its end): a field, a comment or the
 * blank line that ends an event (W3C EventSource). */
static int an_on_line(struct an_watch *w, char *line)
{
	if (line[0] == '\0') {
		if (w->dlen) {
			w->data[w->dlen - 1] = '\0';   /* the last "\n" */
			an_on_event(w);
		}
		w->dlen = 0;
		return 0;
	}
	if (line[0] == ':') {   /* the greeting or a keepalive */
		if (strstr(line, "event stream"))
			w->greeted = w->stale = true;
		return 0;
	}
	char *colon = strchr(line, ':');
	char *value = colon ? colon + 1 + (colon[1] == ' ') : line + strlen(line);
	if (colon)
		*colon = '\0';
	if (!strcmp(line, "id")) {
		snprintf(w->last_id, sizeof w->last_id, "%s", value);
	} else if (!strcmp(line, "data")) {
		size_t n = strlen(value);
		int r = an_grow(&w->data, &w->dcap, w->dlen + n + 2);
		if (r < 0)
			return r;
		memcpy(w->data + w->dlen, value, n);
		w->dlen += n;
		w->data[w->dlen++] = '\n';
		w->data[w->dlen] = '\0';
	}
	return 0;
}

/* libcurl's write callback for the stream: split into lines. Only parses
 * and marks; requests are made between turns of the multi loop. */
static size_t an_stream_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct an_watch *w = arg;
	size_t n = size * nmemb;

	if (!w->status)
		curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &w->status);
	if (w->status != 200) {   /* netd's error answer: keep it to report */
		size_t room = w->errbody.len < 65536 ? 65536 - w->errbody.len : 0;
		size_t k = n < room ? n : room;
		if (an_grow(&w->errbody.body, &w->errbody.cap, w->errbody.len + k + 1) == 0) {
			memcpy(w->errbody.body + w->errbody.len, p, k);
			w->errbody.len += k;
			w->errbody.body[w->errbody.len] = '\0';
		}
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			if ((w->err = an_grow(&w->line, &w->lcap, w->llen + 2)) < 0)
				return 0;
			w->line[w->llen++] = p[i];
			continue;
		}
		if (w->llen && w->line[w->llen - 1] == '\r')
			w->llen--;
		if (!w->line && (w->err = an_grow(&w->line, &w->lcap, 1)) < 0)
			return 0;
		w->line[w->llen] = '\0';
		w->llen = 0;
		if ((w->err = an_on_line(w, w->line)) < 0)
			return 0;
	}
	return n;
}

/* Report a refused stream the way netctl reports netd's errors. */
static int an_stream_refused(struct an_watch *w)
{
	struct lyd_node *tree = w->errbody.len ? an_parse_loose(w->c, w->errbody.body) : NULL;
	const struct lyd_node *e = an_find(tree, "error");
	const char *msg = an_value(e, "error-message"), *tag = an_value(e, "error-tag");

	if (msg)
		nc_fail(0, "%s (HTTP %ld%s%s)", msg, w->status, tag ? " " : "", tag ? tag : "");
	else
		nc_fail(0, "netd answered HTTP %ld to the event stream", w->status);
	lyd_free_all(tree);
	return w->status == 503 ? NC_ECONN : NC_ESERVER;
}

/* Set the stream's options (Last-Event-ID once an event was seen). */
static int an_stream_setopts(struct an_watch *w)
{
	struct nc *c = w->c;
	char *url = NULL, *auth = NULL, id[64];

	if (asprintf(&url, "%s/restconf/streams/netd/json", c->base) < 0)
		return nc_fail(-ENOMEM, "out of memory");
	w->hdrs = curl_slist_append(NULL, "Accept: text/event-stream");
	if (c->token && asprintf(&auth, "Authorization: Bearer %s", c->token) >= 0) {
		w->hdrs = curl_slist_append(w->hdrs, auth);
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	if (w->last_id[0]) {
		snprintf(id, sizeof id, "Last-Event-ID: %s", w->last_id);
		w->hdrs = curl_slist_append(w->hdrs, id);
	}
	curl_easy_reset(w->h);
	curl_easy_setopt(w->h, CURLOPT_URL, url);
	curl_easy_setopt(w->h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(w->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(w->h, CURLOPT_LOW_SPEED_LIMIT, 1L);    /* netd sends a keepalive every 15 s */
	curl_easy_setopt(w->h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(w->h, CURLOPT_USERAGENT, "netctl");
	curl_easy_setopt(w->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(w->h, CURLOPT_HTTPHEADER, w->hdrs);
	curl_easy_setopt(w->h, CURLOPT_WRITEFUNCTION, an_stream_write);
	curl_easy_setopt(w->h, CURLOPT_WRITEDATA, w);
	if (c->user) {
		curl_easy_setopt(w->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(w->h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(w->h, CURLOPT_PASSWORD, c->password ? c->password : "");
	}
	free(url);
	return w->hdrs ? 0 : nc_fail(-ENOMEM, "out of memory");
}

/* Start (or restart) the stream's transfer. Errors reported. */
static int an_stream_begin(struct an_watch *w)
{
	int r;

	if (!w->m && !(w->m = curl_multi_init()))
		return nc_fail(-ENOMEM, "cannot create a curl handle");
	if (!w->h && !(w->h = curl_easy_init()))
		return nc_fail(-ENOMEM, "cannot create a curl handle");
	w->status = 0;
	w->events = 0;
	w->greeted = false;
	w->llen = w->dlen = 0;
	nc_resp_clear(&w->errbody);
	if ((r = an_stream_setopts(w)) < 0)
		return r;
	if (curl_multi_add_handle(w->m, w->h) != CURLM_OK)
		return nc_fail(-ENOMEM, "cannot start the event stream");
	w->running = true;
	return 0;
}

/* One turn: move the transfer on, then wait at most @wait_ms for more. */
static int an_stream_turn(struct an_watch *w, int wait_ms)
{
	int running = 0;

	if (curl_multi_perform(w->m, &running) != CURLM_OK)
		return nc_fail(-ENOMEM, "event stream: libcurl failed");
	if (w->err < 0)
		return nc_fail(w->err, "event stream: %s", netd_strerror(w->err));
	w->running = running > 0;
	if (w->running && wait_ms > 0)
		curl_multi_poll(w->m, NULL, 0, wait_ms, NULL);
	return 0;
}

/* Stop the transfer. When it ended by itself, report why: refused by
 * netd, or netd unreachable. 0 for a stream that simply ended. */
static int an_stream_end(struct an_watch *w)
{
	CURLcode done = CURLE_OK;
	bool ended = !w->running;
	int n;

	if (!w->h || !w->m)
		return 0;
	for (CURLMsg *msg; (msg = curl_multi_info_read(w->m, &n));)
		if (msg->msg == CURLMSG_DONE)
			done = msg->data.result;
	curl_multi_remove_handle(w->m, w->h);
	curl_slist_free_all(w->hdrs);
	w->hdrs = NULL;
	w->running = false;
	if (ended && w->status && w->status != 200)
		return an_stream_refused(w);
	if (ended && done != CURLE_OK && !w->status)
		return nc_fail(NC_ECONN, "cannot reach netd at %s: %s", w->c->base,
			       w->c->errbuf[0] ? w->c->errbuf : curl_easy_strerror(done));
	return 0;
}

static void an_stream_free(struct an_watch *w)
{
	if (w->m && w->h)
		curl_multi_remove_handle(w->m, w->h);
	curl_slist_free_all(w->hdrs);
	if (w->h)
		curl_easy_cleanup(w->h);
	curl_multi_cleanup(w->m);
	nc_resp_clear(&w->errbody);
	free(w->line);
	free(w->data);
}

/* Turn until netd's greeting arrived (the stream is live) or it ended. */
static int an_stream_live(struct an_watch *w)
{
	int r = 0;

	while (r == 0 && w->running && !w->greeted)
		r = an_stream_turn(w, AN_POLL_MS);
	return r;
}

/* ---- watch --------------------------------------------------------------- */

/* Follow one connection of the stream until the deployment converges or
 * fails (*out), or the stream ends (*out AN_RUNNING). Errors reported. */
static int an_follow(struct an_watch *w, enum an_outcome *out)
{
	int r = an_stream_begin(w);

	*out = AN_RUNNING;
	while (r == 0 && w->running) {
		if ((r = an_stream_turn(w, 0)) < 0)
			break;
		if (w->stale && an_now_ms() - w->fetched_ms >= AN_REFRESH_MS && (r = an_refresh(w)) == 0 &&
		    (*out = an_outcome_of(&w->cur)) != AN_RUNNING)
			break;
		if (w->running)
			curl_multi_poll(w->m, NULL, 0, AN_POLL_MS, NULL);
	}
	int e = an_stream_end(w);
	return r < 0 ? r : *out == AN_RUNNING ? e : 0;
}

/* Follow the stream, reconnecting while netd answers, until the
 * deployment converges or fails. */
static int an_watch_loop(struct an_watch *w, enum an_outcome *out)
{
	unsigned quiet = 0;
	int r = 0;

	while (r == 0) {
		r = an_follow(w, out);
		if (r < 0 || *out != AN_RUNNING)
			break;
		/* the stream ended: is netd still there, and is there news? */
		if ((r = an_refresh(w)) < 0 || (*out = an_outcome_of(&w->cur)) != AN_RUNNING)
			break;
		quiet = w->events ? 0 : quiet + 1;
		if (quiet >= AN_RECONNECTS) {
			r = nc_fail(NC_ECONN, "netd keeps closing the event stream");
			break;
		}
		sleep(1);
	}
	return r;
}

/* anneal watch DEPLOYMENT */
static int an_watch(struct nc *c, int argc, char **argv)
{
	struct an_watch w = { .c = c, .tty = isatty(STDOUT_FILENO) };
	struct nc_resp resp = { 0 };
	struct lyd_node *errs = NULL;
	enum an_outcome out;
	int r = nc_no_options(argc, argv, "anneal watch");

	if (r < 0)
		return r;
	if (argc != 2)
		return nc_usage_fail("anneal watch: expected DEPLOYMENT");
	w.dep = argv[1];
	if ((r = an_refresh(&w)) < 0)
		return r;
	out = an_outcome_of(&w.cur);
	if (out == AN_RUNNING)
		r = an_watch_loop(&w, &out);
	if (w.tty && w.shown[0])
		putchar('\n');
	if (r == 0 && c->json && (r = an_fetch_deployment(c, w.dep, &resp, &w.cur)) == 0)
		nc_print_raw(resp.body);
	if (r == 0 && out == AN_FAILED) {
		if (!c->json && an_fetch_errors(c, w.dep, &errs) == 0)
			an_print_errors(errs);
		r = nc_fail(NC_ESERVER, "deployment %s: %lu node-role%s in error, nothing left to run", w.dep,
			    w.cur.n[AN_ERROR], w.cur.n[AN_ERROR] == 1 ? "" : "s");
	} else if (r == 0 && !c->json) {
		printf("deployment %s: active\n", w.dep);
	}
	lyd_free_all(errs);
	nc_resp_clear(&resp);
	an_stream_free(&w);
	return r;
}

/* ---- retry --------------------------------------------------------------- */

/* Wait until the @w->retried node-roles have left error (netd applies a
 * retry on its loop after answering the RPC) or AN_APPLY_WAIT_MS passed.
 * true when they did. */
static bool an_retry_applied(struct an_watch *w)
{
	uint64_t until = an_now_ms() + AN_APPLY_WAIT_MS;

	while (w->retried && w->running && an_now_ms() < until)
		if (an_stream_turn(w, AN_POLL_MS) < 0)
			break;
	return w->retried == 0;
}

/* anneal retry DEPLOYMENT [--node N] [--role R]: the RPC, then (following
 * the event stream opened before it) until netd has applied it, so that a
 * `watch` right after sees the node-roles out of error. */
static int an_retry(struct nc *c, int argc, char **argv)
{
	struct an_in in[3] = { { "deployment", NULL } };
	struct an_watch w = { .c = c, .count_retries = true };
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	size_t n = 1;
	int r = 0;

	for (int i = 1; i < argc; i++) {
		if ((r = nc_opt(argc, argv, &i, "--node", NULL, &w.node)) != 0 ||
		    (r = nc_opt(argc, argv, &i, "--role", NULL, &w.role)) != 0) {
			if (r < 0)
				return r;
			continue;
		}
		if (argv[i][0] == '-' || in[0].value)
			return nc_usage_fail("anneal retry: unexpected argument %s", argv[i]);
		in[0].value = argv[i];
	}
	if (!in[0].value)
		return nc_usage_fail("anneal retry: expected DEPLOYMENT [--node N] [--role R]");
	w.dep = in[0].value;
	if (w.node)
		in[n++] = (struct an_in){ "node", w.node };
	if (w.role)
		in[n++] = (struct an_in){ "role", w.role };
	/* the stream first: the retry's events must not precede it */
	bool follow = an_stream_begin(&w) == 0 && an_stream_live(&w) == 0 && w.greeted;
	r = an_rpc(c, "retry-node-role", in, n, &resp);
	if (r < 0)
		goto cleanup;
	tree = resp.len ? an_parse_loose(c, resp.body) : NULL;
	const char *k = an_value(an_find(tree, "output"), "retried");
	w.retried = k ? (unsigned)strtoul(k, NULL, 10) : 0;
	bool applied = follow && an_retry_applied(&w);
	if (c->json)
		nc_print_raw(resp.len ? resp.body : "{}");
	else if (applied || !k || !strcmp(k, "0"))
		printf("deployment %s: %s node-role%s back to todo\n", w.dep, k ? k : "0",
		       k && !strcmp(k, "1") ? "" : "s");
	else
		printf("deployment %s: %s node-role%s to retry (netd has not applied it yet)\n", w.dep, k,
		       !strcmp(k, "1") ? "" : "s");
cleanup:
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	an_stream_free(&w);
	return r;
}

/* ---- dispatch ------------------------------------------------------------ */

int nc_cmd_anneal(struct nc *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct nc *c, int argc, char **argv);
	} subs[] = {
		{ "status", an_status }, { "watch", an_watch },   { "propose", an_propose },
		{ "commit", an_commit }, { "retry", an_retry },
	};

	if (argc < 2)
		return nc_usage_fail("anneal: expected status, watch, propose, commit, retry or help");
	if (!strcmp(argv[1], "help")) {
		fputs(an_usage_text, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].run(c, argc - 1, argv + 1);
	return nc_usage_fail("anneal: unknown subcommand %s (see netctl anneal help)", argv[1]);
}
