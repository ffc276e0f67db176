/* netd/netctl_dns.c — `netctl dns ...`: DNS publication as netd reports it
 * (netd/dnsd.h documents the RESTCONF shapes used here).
 *
 *   dns status [--records [STATE]]  GET /netd:dns: installation id, outbox,
 *                                   records by state, per zone its servers,
 *                                   state, last error and records; with
 *                                   --records the record-state rows (of one
 *                                   state), each with its why
 *   dns check [--timeout SECS]      POST dns-check, then GET /netd:dns/status
 *                                   until last-check-id reaches the check's
 *                                   id; prints verified / missing / extra /
 *                                   conflict; exit 1 when anything but
 *                                   verified was found or the check failed
 *   dns export ZONE                 POST dns-export, print its text verbatim
 *
 * --json prints netd's JSON instead (for check: the final status; for
 * status --records STATE: the document with the other rows left out).
 *
 * Answers are parsed with LYD_PARSE_OPAQ: a leaf this netctl's copy of the
 * model does not know (a newer netd) becomes an opaque node instead of
 * vanishing, and the helpers below read schema and opaque nodes alike.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "netd/netctl.h"

#define DNS_CHECK_TIMEOUT_S 600   /* default wait for a dns-check */
#define DNS_POLL_MIN_NS 200000000LL /* between two status reads while waiting, at least */

static const char dns_usage_text[] =
	"usage: netctl [--json] dns CMD ...\n"
	"\n"
	"  dns status [--records [STATE]]  record counts per state, outbox depth and age, per zone\n"
	"                                  its servers, state, last error and records; --records\n"
	"                                  lists record states (only STATE: pending, published,\n"
	"                                  verified, error, conflict, drift) with the reason\n"
	"  dns check [--timeout SECS]      compare every owned record with the servers now, repair\n"
	"                                  drift; prints verified/missing/extra/conflict counts;\n"
	"                                  exit 1 when drift or conflicts were found (default wait\n"
	"                                  600 s)\n"
	"  dns export ZONE                 the intended zone as an RFC 1035 master file\n"
	"  dns help                        this text\n";

static const char *const dns_states[] = { "pending", "published", "verified", "error", "conflict", "drift" };
#define DNS_NSTATES (sizeof dns_states / sizeof dns_states[0])

/* A usage error of a dns command: the reason, then the dns usage, on
 * stderr.  NC_EUSAGE. */
static int dns_usage_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int dns_usage_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("netctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(dns_usage_text, stderr);
	return NC_EUSAGE;
}

/* ---- opaque-tolerant tree access ------------------------------------------ */

static const char *dns_node_name(const struct lyd_node *n)
{
	return n->schema ? n->schema->name : ((const struct lyd_node_opaq *)n)->name.name;
}

/* The first of @first and its following siblings named @name, schema or
 * opaque, or NULL. */
static const struct lyd_node *dns_find(const struct lyd_node *first, const char *name)
{
	const struct lyd_node *ch;

	LY_LIST_FOR(first, ch)
		if (strcmp(dns_node_name(ch), name) == 0)
			return ch;
	return NULL;
}

static const struct lyd_node *dns_child(const struct lyd_node *n, const char *name)
{
	return n ? dns_find(lyd_child(n), name) : NULL;
}

/* The value of @n's child leaf @name (schema or opaque), or NULL. */
static const char *dns_leaf(const struct lyd_node *n, const char *name)
{
	const struct lyd_node *ch = dns_child(n, name);

	if (!ch)
		return NULL;
	if (!ch->schema)
		return ((const struct lyd_node_opaq *)ch)->value;
	return (ch->schema->nodetype & LYD_NODE_TERM) ? lyd_get_value(ch) : NULL;
}

/* @v as an unsigned number; false if absent or not one. */
static bool dns_u64(const char *v, unsigned long long *out)
{
	char *end;

	if (!v || !*v || *v == '-')
		return false;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end)
		return false;
	*out = x;
	return true;
}

/* Parse netd's answer @body into *tree, unknown nodes kept as opaque ones.
 * 0 or NETD_EINVAL (reported). */
static int dns_parse(struct nc *c, const char *body, struct lyd_node **tree)
{
	*tree = NULL;
	ly_err_clean(c->ctx, NULL);
	if (lyd_parse_data_mem(c->ctx, body, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_OPAQ, 0, tree) != LY_SUCCESS) {
		const struct ly_err_item *it = ly_err_first(c->ctx);
		nc_fail(0, "cannot parse netd's answer: %s", it && it->msg ? it->msg : "invalid JSON");
		ly_err_clean(c->ctx, NULL);
		lyd_free_all(*tree);
		*tree = NULL;
		return NETD_EINVAL;
	}
	return 0;
}

/* GET @path, parsed (see dns_parse); the raw answer stays in @resp. */
static int dns_get(struct nc *c, const char *path, struct nc_resp *resp, struct lyd_node **tree)
{
	int r = nc_call(c, "GET", path, NULL, resp);

	*tree = NULL;
	if (r < 0)
		return r;
	return dns_parse(c, resp->body, tree);
}

/* GET /netd:dns/status: RESTCONF answers with the target itself,
 * {"netd:status":{...}}, which is parsed under a /netd:dns container (at
 * the top it would be netd's other status).  *st: the status node or NULL.
 * The raw answer stays in @resp.  0 or an error (reported). */
static int dns_get_status(struct nc *c, struct nc_resp *resp, struct lyd_node **tree,
			  const struct lyd_node **st)
{
	struct ly_in *in = NULL;
	int r = nc_call(c, "GET", "/restconf/data/netd:dns/status", NULL, resp);

	*tree = NULL;
	*st = NULL;
	if (r < 0)
		return r;
	ly_err_clean(c->ctx, NULL);
	if (lyd_new_path(NULL, c->ctx, "/netd:dns", NULL, 0, tree) != LY_SUCCESS ||
	    ly_in_new_memory(resp->body, &in) != LY_SUCCESS ||
	    lyd_parse_data(c->ctx, *tree, in, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_OPAQ, 0, NULL) != LY_SUCCESS) {
		const struct ly_err_item *it = ly_err_first(c->ctx);
		nc_fail(0, "cannot parse netd's answer: %s", it && it->msg ? it->msg : "invalid JSON");
		ly_err_clean(c->ctx, NULL);
		ly_in_free(in, 0);
		lyd_free_all(*tree);
		*tree = NULL;
		return NETD_EINVAL;
	}
	ly_in_free(in, 0);
	*st = dns_child(*tree, "status");
	return 0;
}

/* The "output" of an RPC answer {"netd:output":{...}} in @tree, or NULL. */
static const struct lyd_node *dns_output(const struct lyd_node *tree)
{
	return tree ? dns_find(lyd_first_sibling((struct lyd_node *)tree), "output") : NULL;
}

/* ---- status ----------------------------------------------------------------- */

/* Comma-joined values of the leaf-list (or list) children @name of @n. */
static char *dns_join(const struct lyd_node *n, const char *name)
{
	const struct lyd_node *ch;
	size_t len = 0;
	char *s = NULL;

	LY_LIST_FOR(n ? lyd_child(n) : NULL, ch) {
		if (strcmp(dns_node_name(ch), name) != 0)
			continue;
		const char *v = ch->schema ? lyd_get_value(ch) : ((const struct lyd_node_opaq *)ch)->value;
		if (!v)
			continue;
		size_t lv = strlen(v);
		char *p = realloc(s, len + lv + 2);
		if (!p) {
			free(s);
			return NULL;
		}
		s = p;
		if (len)
			s[len++] = ',';
		memcpy(s + len, v, lv + 1);
		len += lv;
	}
	return s ? s : strdup("");
}

static int dns_print_zones(const struct lyd_node *dns)
{
	static const char *const head[] = { "ZONE", "STATE", "RECORDS", "SERVERS", "IN-USE", "LAST-ERROR" };
	struct nc_table t = { .ncols = 6 };
	const struct lyd_node *z;
	int r = nc_table_add(&t, head);

	LY_LIST_FOR(lyd_child(dns), z) {
		if (r < 0)
			break;
		if (strcmp(dns_node_name(z), "zone") != 0)
			continue;
		char *servers = dns_join(z, "server");
		if (!servers) {
			r = -ENOMEM;
			break;
		}
		const char *row[] = { dns_leaf(z, "name"), dns_leaf(z, "state"), dns_leaf(z, "records"), servers,
				      dns_leaf(z, "server-in-use"), dns_leaf(z, "last-error") };
		r = nc_table_add(&t, row);
		free(servers);
	}
	if (r == 0 && t.nrows == 1)
		puts("no zones configured (PUT /restconf/data/netd:dns)");
	else if (r == 0)
		nc_table_print(&t, stdout);
	nc_table_free(&t);
	return r;
}

static void dns_print_summary(const struct lyd_node *dns)
{
	const struct lyd_node *st = dns_child(dns, "status");
	const char *v;

	if (!st) {
		puts("netd reports no DNS status (DNS publication not running?)");
		return;
	}
	if ((v = dns_leaf(st, "installation-id")))
		printf("installation-id  %s\n", v);
	const char *depth = dns_leaf(st, "outbox-depth"), *age = dns_leaf(st, "outbox-oldest-age");
	printf("outbox           %s changes", depth ? depth : "?");
	if (age && strcmp(depth ? depth : "0", "0") != 0)
		printf(", oldest %s s", age);
	putchar('\n');
	printf("records         ");
	for (size_t i = 0; i < DNS_NSTATES; i++) {
		v = dns_leaf(st, dns_states[i]);
		printf(" %s %s%s", dns_states[i], v ? v : "?", i + 1 < DNS_NSTATES ? "," : "\n");
	}
	if ((v = dns_leaf(st, "last-check"))) {
		printf("last check       %s", v);
		const char *id = dns_leaf(st, "last-check-id");
		if (id)
			printf(" (check %s)", id);
		const char *nums[] = { "verified", "missing", "extra", "conflict" };
		for (size_t i = 0; i < 4; i++) {
			char leaf[64];
			snprintf(leaf, sizeof leaf, "last-check-%s", nums[i]);
			const char *n = dns_leaf(st, leaf);
			if (n)
				printf("%s %s %s", i ? "," : ":", nums[i], n);
		}
		putchar('\n');
		if ((v = dns_leaf(st, "last-check-error")))
			printf("last check error %s\n", v);
	}
}

/* Drop the record-state rows of @dns whose state is not @state. */
static void dns_filter_records(struct lyd_node *dns, const char *state)
{
	struct lyd_node *e = lyd_child(dns), *next;

	for (; e; e = next) {
		next = e->next;
		if (strcmp(dns_node_name(e), "record-state") != 0)
			continue;
		const char *s = dns_leaf(e, "state");
		if (!s || strcmp(s, state) != 0)
			lyd_free_tree(e);
	}
}

static int dns_print_records(const struct lyd_node *dns, const char *state)
{
	static const char *const head[] = { "OWNER", "TYPE", "DATA", "ZONE", "NODE", "STATE", "WHY" };
	struct nc_table t = { .ncols = 7 };
	const struct lyd_node *e;
	int r = nc_table_add(&t, head);

	LY_LIST_FOR(lyd_child(dns), e) {
		if (r < 0)
			break;
		if (strcmp(dns_node_name(e), "record-state") != 0)
			continue;
		const char *s = dns_leaf(e, "state");
		if (state && (!s || strcmp(s, state) != 0))
			continue;
		const char *row[] = { dns_leaf(e, "owner"), dns_leaf(e, "type"), dns_leaf(e, "data"),
				      dns_leaf(e, "zone"), dns_leaf(e, "node"), s, dns_leaf(e, "why") };
		r = nc_table_add(&t, row);
	}
	if (r == 0)
		nc_table_print(&t, stdout);
	nc_table_free(&t);
	return r;
}

/* dns status [--records [STATE]] */
static int dns_status(struct nc *c, int argc, char **argv)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	bool records = false;
	const char *state = NULL;
	int r = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--records") == 0) {
			records = true;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				state = argv[++i];
		} else if (strncmp(argv[i], "--records=", 10) == 0) {
			records = true;
			state = argv[i] + 10;
		} else {
			return dns_usage_fail("dns status: unexpected argument %s", argv[i]);
		}
	}
	if (state) {
		size_t k = 0;
		while (k < DNS_NSTATES && strcmp(state, dns_states[k]) != 0)
			k++;
		if (k == DNS_NSTATES)
			return dns_usage_fail("dns status: unknown record state %s (pending, published, verified, "
					     "error, conflict, drift)", state);
	}
	r = dns_get(c, "/restconf/data/netd:dns", &resp, &tree);
	if (r < 0)
		goto cleanup;
	struct lyd_node *dns = (struct lyd_node *)(tree ? dns_find(lyd_first_sibling(tree), "dns") : NULL);
	if (c->json) {
		if (!state || !dns) {
			nc_print_raw(resp.body);
		} else {
			dns_filter_records(dns, state);
			lyd_print_file(stdout, tree, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK);
			putchar('\n');
		}
		goto cleanup;
	}
	if (!dns) {
		r = nc_fail(NC_ESERVER, "netd's answer holds no netd:dns");
		goto cleanup;
	}
	dns_print_summary(dns);
	putchar('\n');
	r = dns_print_zones(dns);
	if (r == 0 && records) {
		putchar('\n');
		r = dns_print_records(dns, state);
	}
	if (r == -ENOMEM)
		nc_fail(r, "out of memory");
cleanup:
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

/* ---- check ------------------------------------------------------------------ */

/* The check's figures from @st (status node, check @id done), printed to
 * @out unless it is NULL.  0 when only verified records were found;
 * NC_ESERVER (reported) when something else was, or the check failed;
 * NETD_EINVAL when the figures are missing. */
static int dns_check_report(const struct lyd_node *st, const char *id, FILE *out)
{
	static const char *const nums[] = { "verified", "missing", "extra", "conflict" };
	unsigned long long v[4] = { 0 };
	const char *err = dns_leaf(st, "last-check-error"), *when = dns_leaf(st, "last-check");
	char leaf[64];

	if (err)
		return nc_fail(NC_ESERVER, "dns check %s could not finish: %s", id, err);
	for (size_t i = 0; i < 4; i++) {
		snprintf(leaf, sizeof leaf, "last-check-%s", nums[i]);
		if (!dns_u64(dns_leaf(st, leaf), &v[i]))
			return nc_fail(NETD_EINVAL, "dns check %s: netd's status has no %s", id, leaf);
	}
	if (out) {
		fprintf(out, "dns check %s done%s%s\n", id, when ? " at " : "", when ? when : "");
		for (size_t i = 0; i < 4; i++)
			fprintf(out, "%-9s %llu\n", nums[i], v[i]);
		fflush(out);
	}
	if (v[1] || v[2] || v[3]) {
		const char *what = v[3] ? "conflicts (see dns status --records conflict)"
					: "drift, being repaired (see dns status --records drift)";
		return nc_fail(NC_ESERVER, "dns check %s: %llu missing, %llu extra, %llu in conflict: %s", id,
			       v[1], v[2], v[3], what);
	}
	return 0;
}

/* dns check [--timeout SECS] */
static int dns_check(struct nc *c, int argc, char **argv)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	const char *tmo = NULL;
	unsigned long long timeout = DNS_CHECK_TIMEOUT_S, id = 0;
	char idtext[32];
	int r;

	for (int i = 1; i < argc; i++) {
		r = nc_opt(argc, argv, &i, "--timeout", NULL, &tmo);
		if (r < 0)
			return r;
		if (r == 0)
			return dns_usage_fail("dns check: unexpected argument %s", argv[i]);
	}
	if (tmo && !dns_u64(tmo, &timeout))
		return dns_usage_fail("dns check: --timeout wants seconds, not %s", tmo);

	r = nc_call(c, "POST", "/restconf/operations/netd:dns-check", NULL, &resp);
	if (r == 0)
		r = dns_parse(c, resp.body, &tree);
	if (r < 0)
		goto cleanup;
	if (!dns_u64(dns_leaf(dns_output(tree), "check-id"), &id)) {
		r = nc_fail(NETD_EINVAL, "dns check: netd's answer has no check-id: %s", resp.body);
		goto cleanup;
	}
	snprintf(idtext, sizeof idtext, "%llu", id);

	struct timespec t0, before, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		const struct lyd_node *st;
		lyd_free_all(tree);
		clock_gettime(CLOCK_MONOTONIC, &before);
		r = dns_get_status(c, &resp, &tree, &st);
		if (r < 0)
			goto cleanup;
		unsigned long long done = 0;
		if (dns_u64(dns_leaf(st, "last-check-id"), &done) && done >= id) {
			if (c->json)
				nc_print_raw(resp.body);   /* the exit status still tells */
			r = dns_check_report(st, idtext, c->json ? NULL : stdout);
			goto cleanup;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((unsigned long long)(now.tv_sec - t0.tv_sec) >= timeout) {
			const char *depth = dns_leaf(st, "outbox-depth");
			r = nc_fail(NC_ESERVER, "dns check %s: not done after %llu s (a check waits for the outbox "
				    "to empty; outbox depth %s)", idtext, timeout, depth ? depth : "?");
			goto cleanup;
		}
		/* A status read scans every record's state in netd: with many
		 * records, keep reading to a third of the time at most. */
		long long took = (now.tv_sec - before.tv_sec) * 1000000000LL + (now.tv_nsec - before.tv_nsec);
		long long pause = took * 2 > DNS_POLL_MIN_NS ? took * 2 : DNS_POLL_MIN_NS;
		nanosleep(&(struct timespec){ .tv_sec = pause / 1000000000LL, .tv_nsec = pause % 1000000000LL }, NULL);
	}
cleanup:
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

/* ---- export ----------------------------------------------------------------- */

/* dns export ZONE */
static int dns_export(struct nc *c, int argc, char **argv)
{
	const struct lys_module *mod = ly_ctx_get_module_implemented(c->ctx, "netd");
	struct nc_resp resp = { 0 };
	struct lyd_node *op = NULL, *tree = NULL;
	char *body = NULL;
	int r = nc_no_options(argc, argv, "dns export");

	if (r < 0)
		return r;
	if (argc != 2)
		return dns_usage_fail("dns export: expected ZONE");
	/* The zone through the model first: a bad name is refused here, and a
	 * dns-name (letters, digits, '-', '.') needs no escaping in JSON. */
	ly_err_clean(c->ctx, NULL);
	if (!mod || lyd_new_inner(NULL, mod, "dns-export", 0, &op) != LY_SUCCESS ||
	    lyd_new_term(op, NULL, "zone", argv[1], 0, NULL) != LY_SUCCESS) {
		const struct ly_err_item *it = ly_err_first(c->ctx);
		r = nc_fail(NETD_EINVAL, "dns export: %s is not a zone name (%s)", argv[1],
			    it && it->msg ? it->msg : "invalid");
		ly_err_clean(c->ctx, NULL);
		goto cleanup;
	}
	if (asprintf(&body, "{\"netd:input\":{\"zone\":\"%s\"}}", argv[1]) < 0) {
		r = nc_fail(-ENOMEM, "out of memory");
		goto cleanup;
	}
	r = nc_call(c, "POST", "/restconf/operations/netd:dns-export", body, &resp);
	if (r < 0)
		goto cleanup;
	if (c->json) {
		nc_print_raw(resp.body);
		goto cleanup;
	}
	r = dns_parse(c, resp.body, &tree);
	if (r < 0)
		goto cleanup;
	const char *text = dns_leaf(dns_output(tree), "text");
	if (!text) {
		r = nc_fail(NETD_EINVAL, "dns export: netd's answer has no text: %.200s", resp.body);
		goto cleanup;
	}
	fputs(text, stdout);
cleanup:
	free(body);
	lyd_free_all(op);
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

/* ---- dispatch --------------------------------------------------------------- */

int nc_cmd_dns(struct nc *c, int argc, char **argv)
{
	if (argc < 2)
		return dns_usage_fail("dns: expected status, check, export or help");
	const char *sub = argv[1];
	if (strcmp(sub, "help") == 0) {
		fputs(dns_usage_text, stdout);
		return 0;
	}
	if (strcmp(sub, "status") == 0)
		return dns_status(c, argc - 1, argv + 1);
	if (strcmp(sub, "check") == 0)
		return dns_check(c, argc - 1, argv + 1);
	if (strcmp(sub, "export") == 0)
		return dns_export(c, argc - 1, argv + 1);
	return dns_usage_fail("dns: unknown subcommand %s (status, check, export, help)", sub);
}
