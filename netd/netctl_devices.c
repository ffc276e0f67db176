/* netd/netctl_devices.c — netctl's switch and BMC commands (netd/devd.h).
 *
 *   netctl switch list             every switch: address, driver, state,
 *                                  managed ports, learned links, error
 *   netctl switch show NAME        one switch: state, last apply, the ports
 *                                  with a link (actual and wanted VLANs,
 *                                  refusals), learned links
 *   netctl switch learn NAME       learn its links now; waits, then shows
 *                                  the learned links
 *   netctl switch sync NAME        reconcile it now; waits, then prints what
 *                                  was sent
 *   netctl bmc show NODE           the node's BMC: where it is reached, the
 *                                  address it should have, state
 *   netctl bmc sync NODE           configure it now; waits, then shows it
 *
 * learn and sync ask netd (switch-learn, switch-sync, bmc-sync answer at
 * once with a request id) and poll the entry until its request-done
 * reaches that id.  Secrets (keys, community, password) are never printed
 * by the tables (--json prints netd's answer as it is).  Exit 1 when the
 * device ended in error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/model.h"
#include "netd/netctl.h"

#define DV_WAIT_S 180          /* a broken netd must not hang netctl forever */
#define DV_POLL_MS 100

struct dv_kv {
	const char *name, *value;
};

static const char *dv_or(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

/* POST RPC @rpc with @in; its request-id in *@id.  Errors reported. */
static int dv_rpc(struct nc *c, const char *rpc, const struct dv_kv *in, size_t n, uint64_t *id)
{
	const struct lys_module *mod = ly_ctx_get_module_implemented(c->ctx, "netd");
	struct lyd_node *op = NULL, *tree = NULL, *x;
	struct nc_resp resp = { 0 };
	char *text = NULL, *body = NULL, prefix[96], path[128];
	int r = 0;

	*id = 0;
	ly_err_clean(c->ctx, NULL);
	if (!mod || lyd_new_inner(NULL, mod, rpc, 0, &op) != LY_SUCCESS)
		r = nc_fail(NETD_EINVAL, "%s: %s", rpc, ly_errmsg(c->ctx));
	for (size_t i = 0; i < n && r == 0; i++)
		if (lyd_new_term(op, NULL, in[i].name, in[i].value, 0, NULL) != LY_SUCCESS)
			r = nc_fail(NETD_EINVAL, "%s '%s': %s", in[i].name, in[i].value, ly_errmsg(c->ctx));
	if (r == 0 && (lyd_print_mem(&text, op, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS || !text))
		r = nc_fail(-ENOMEM, "out of memory");
	int pl = snprintf(prefix, sizeof prefix, "{\"netd:%s\":", rpc);
	if (r == 0 && (strncmp(text, prefix, (size_t)pl) || asprintf(&body, "{\"netd:input\":%s", text + pl) < 0))
		r = nc_fail(-ENOMEM, "%s: cannot build the request", rpc);
	snprintf(path, sizeof path, "/restconf/operations/netd:%s", rpc);
	if (r == 0)
		r = nc_call(c, "POST", path, body, &resp);
	ly_err_clean(c->ctx, NULL);
	if (r == 0 &&
	    lyd_parse_data_mem(c->ctx, resp.body, LYD_JSON, LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0, &tree) == LY_SUCCESS) {
		LY_LIST_FOR(tree, x) {
			const struct lyd_node *ch;
			if (x->schema || strcmp(((const struct lyd_node_opaq *)x)->name.name, "output"))
				continue;
			LY_LIST_FOR(lyd_child(x), ch)
				if (!ch->schema && !strcmp(((const struct lyd_node_opaq *)ch)->name.name, "request-id"))
					*id = strtoull(((const struct lyd_node_opaq *)ch)->value, NULL, 10);
		}
	}
	if (r == 0 && !*id)
		r = nc_fail(NETD_EINVAL, "netd's answer to %s has no request-id: %.200s", rpc, resp.body);
	ly_err_clean(c->ctx, NULL);
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	free(text);
	free(body);
	lyd_free_all(op);
	return r;
}

/* ---- switches ------------------------------------------------------------ */

/* GET one switch: *@tree and its entry in *@sw.  404 reported by name. */
static int dv_switch_get(struct nc *c, const char *name, struct nc_resp *resp, struct lyd_node **tree,
			 const struct lyd_node **sw)
{
	char path[512], *esc = curl_easy_escape(c->curl, name, 0);
	int r;

	*sw = NULL;
	if (!esc)
		return nc_fail(-ENOMEM, "out of memory");
	snprintf(path, sizeof path, "/restconf/data/netd:switches/switch=%s", esc);
	curl_free(esc);
	r = nc_fetch(c, path, "/netd:switches", true, resp, tree);
	if (r == 0)
		*sw = nc_child(nc_top(*tree, "switches"), "switch", name);
	if (r == 0 && !*sw)
		r = nc_fail(NC_ESERVER, "no switch named '%s'", name);
	return r;
}

static size_t dv_count(const struct lyd_node *n, const char *list, const char *leaf, const char *val)
{
	const struct lyd_node *ch;
	size_t k = 0;
	LY_LIST_FOR(n ? lyd_child(n) : NULL, ch) {
		if (!ch->schema || strcmp(ch->schema->name, list))
			continue;
		const char *v = leaf ? nc_leaf(ch, leaf) : NULL;
		k += !leaf || (v && !strcmp(v, val));
	}
	return k;
}

static int dv_switch_list(struct nc *c, int argc, char **argv)
{
	static const char *const head[] = { "NAME", "ADDRESS", "DRIVER", "STATE", "MANAGED", "LEARNED", "LAST-SYNC", "ERROR" };
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	const struct lyd_node *sw;
	struct nc_table t = { .ncols = 8 };
	int r = nc_no_options(argc, argv, "switch list");

	r = r ? r : nc_fetch(c, "/restconf/data/netd:switches", NULL, true, &resp, &tree);
	if (r == 0 && c->json) {
		nc_print_raw(resp.body[0] ? resp.body : "{}");
		goto out;
	}
	r = r ? r : nc_table_add(&t, head);
	LY_LIST_FOR(r == 0 ? lyd_child(nc_top(tree, "switches")) : NULL, sw) {
		char managed[32], learned[16];
		if (!sw->schema || strcmp(sw->schema->name, "switch"))
			continue;
		snprintf(managed, sizeof managed, "%zu/%s", dv_count(sw, "port", "managed", "true"),
			 dv_or(nc_leaf(sw, "bridge-ports"), "?"));
		snprintf(learned, sizeof learned, "%zu", dv_count(sw, "learned-link", NULL, NULL));
		const char *row[] = { nc_leaf(sw, "name"), nc_leaf(sw, "address"), dv_or(nc_leaf(sw, "driver"), "snmp"),
				      dv_or(nc_leaf(sw, "state"), "unknown"), managed, learned,
				      dv_or(nc_leaf(sw, "last-sync"), "-"), dv_or(nc_leaf(sw, "last-error"), "") };
		if ((r = nc_table_add(&t, row)) < 0)
			r = nc_fail(r, "out of memory");
	}
	if (r == 0)
		nc_table_print(&t, stdout);
out:
	nc_table_free(&t);
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

static void dv_apply_print(const struct lyd_node *sw)
{
	const struct lyd_node *la = nc_child(sw, "last-apply", NULL);
	if (!la)
		return;
	const char *driver = nc_leaf(sw, "driver");
	const char *verified =
		nc_leaf(la, "verified") && !strcmp(nc_leaf(la, "verified"), "true") ? "verified" : "not verified";
	if (driver && !strcmp(driver, "netconf"))   /* the counters mean get-configs and cancel-commits there */
		printf("  last apply: %s changes (%s applied); %s get-configs, %s cancel-commits, %s\n",
		       dv_or(nc_leaf(la, "steps"), "0"), dv_or(nc_leaf(la, "applied"), "0"),
		       dv_or(nc_leaf(la, "read-walks"), "0"), dv_or(nc_leaf(la, "undo-pdus"), "0"), verified);
	else
		printf("  last apply: %s steps (%s applied) in %s SET PDUs, %s varbinds; %s walks, %s undo PDUs, %s\n",
		       dv_or(nc_leaf(la, "steps"), "0"), dv_or(nc_leaf(la, "applied"), "0"),
		       dv_or(nc_leaf(la, "set-pdus"), "0"), dv_or(nc_leaf(la, "set-varbinds"), "0"),
		       dv_or(nc_leaf(la, "read-walks"), "0"), dv_or(nc_leaf(la, "undo-pdus"), "0"), verified);
	printf("    %s\n", dv_or(nc_leaf(la, "summary"), "-"));
}

static void dv_head_print(const struct lyd_node *sw)
{
	const struct lyd_node *snmp = nc_child(sw, "snmp", NULL);
	printf("switch %s: %s (%s%s%s), state %s, %s bridge ports\n", nc_leaf(sw, "name"), dv_or(nc_leaf(sw, "address"), "?"),
	       dv_or(nc_leaf(sw, "driver"), "snmp"), snmp || !nc_leaf(sw, "driver") ? " " : "",
	       snmp || !nc_leaf(sw, "driver") ? dv_or(nc_leaf(snmp, "version"), "v3") : "",
	       dv_or(nc_leaf(sw, "state"), "unknown"), dv_or(nc_leaf(sw, "bridge-ports"), "?"));
	printf("  last sync %s, last learn %s, idle VLAN %s\n", dv_or(nc_leaf(sw, "last-sync"), "never"),
	       dv_or(nc_leaf(sw, "last-learn"), "never"), dv_or(nc_leaf(sw, "idle-vlan"), "?"));
	if (nc_leaf(sw, "last-error"))
		printf("  error: %s\n", nc_leaf(sw, "last-error"));
}

static int dv_ports_print(const struct lyd_node *sw)
{
	static const char *const head[] = { "PORT", "NAME", "ALIAS", "PVID", "TAGGED", "NODE", "NIC", "SOURCE",
					    "WANT-PVID", "WANT-TAGGED", "STATE" };
	struct nc_table t = { .ncols = 11 };
	const struct lyd_node *p;
	size_t others = 0;
	int r = nc_table_add(&t, head);

	LY_LIST_FOR(lyd_child(sw), p) {
		if (r < 0 || !p->schema || strcmp(p->schema->name, "port"))
			continue;
		const char *managed = nc_leaf(p, "managed"), *refused = nc_leaf(p, "refused");
		if (!nc_leaf(p, "node") && !refused) {
			others++;
			continue;
		}
		const char *row[] = { nc_leaf(p, "port"), dv_or(nc_leaf(p, "name"), "-"), dv_or(nc_leaf(p, "alias"), "-"),
				      dv_or(nc_leaf(p, "pvid"), "-"), dv_or(nc_leaf(p, "tagged"), "-"),
				      dv_or(nc_leaf(p, "node"), "-"), dv_or(nc_leaf(p, "nic"), "-"),
				      dv_or(nc_leaf(p, "source"), "-"), dv_or(nc_leaf(p, "want-pvid"), "-"),
				      dv_or(nc_leaf(p, "want-tagged"), "-"),
				      refused ? "refused" : managed && !strcmp(managed, "true") ? "managed" : "-" };
		r = nc_table_add(&t, row);
	}
	if (r == 0 && t.nrows > 1)
		nc_table_print(&t, stdout);
	if (r == 0)
		printf("(%zu port%s without a link)\n", others, others == 1 ? "" : "s");
	LY_LIST_FOR(r == 0 ? lyd_child(sw) : NULL, p)
		if (p->schema && !strcmp(p->schema->name, "port") && nc_leaf(p, "refused"))
			printf("port %s refused: %s\n", nc_leaf(p, "port"), nc_leaf(p, "refused"));
	nc_table_free(&t);
	return r < 0 ? nc_fail(r, "out of memory") : 0;
}

static int dv_learned_print(const struct lyd_node *sw)
{
	static const char *const head[] = { "PORT", "NODE", "NIC", "MAC", "SOURCE", "EVIDENCE", "NOTE" };
	struct nc_table t = { .ncols = 7 };
	const struct lyd_node *l;
	int r = nc_table_add(&t, head);

	LY_LIST_FOR(lyd_child(sw), l) {
		if (r < 0 || !l->schema || strcmp(l->schema->name, "learned-link"))
			continue;
		const char *row[] = { nc_leaf(l, "port"), nc_leaf(l, "node"), nc_leaf(l, "nic"), dv_or(nc_leaf(l, "mac"), "-"),
				      nc_leaf(l, "source"), dv_or(nc_leaf(l, "evidence"), "-"), dv_or(nc_leaf(l, "note"), "") };
		r = nc_table_add(&t, row);
	}
	if (r == 0 && t.nrows > 1) {
		printf("learned links:\n");
		nc_table_print(&t, stdout);
	} else if (r == 0) {
		printf("no learned links\n");
	}
	nc_table_free(&t);
	return r < 0 ? nc_fail(r, "out of memory") : 0;
}

static int dv_switch_show(struct nc *c, const char *name)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	const struct lyd_node *sw = NULL;
	int r = dv_switch_get(c, name, &resp, &tree, &sw);

	if (r == 0 && c->json) {
		nc_print_raw(resp.body);
	} else if (r == 0) {
		dv_head_print(sw);
		dv_apply_print(sw);
		r = dv_ports_print(sw);
		r = r ? r : dv_learned_print(sw);
	}
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

static void dv_sleep_poll(void)
{
	struct timespec ts = { 0, DV_POLL_MS * 1000000L };
	nanosleep(&ts, NULL);
}

/* Poll @get until the request-done leaf of what it finds reaches @id. */
static int dv_wait_switch(struct nc *c, const char *name, uint64_t id, struct nc_resp *resp, struct lyd_node **tree,
			  const struct lyd_node **sw)
{
	time_t deadline = time(NULL) + DV_WAIT_S;
	for (;;) {
		int r = dv_switch_get(c, name, resp, tree, sw);
		if (r < 0)
			return r;
		const char *done = nc_leaf(*sw, "request-done");
		if (done && strtoull(done, NULL, 10) >= id)
			return 0;
		if (time(NULL) > deadline)
			return nc_fail(NC_ESERVER, "switch %s: request %" PRIu64 " not done after %d s", name, id, DV_WAIT_S);
		lyd_free_all(*tree);
		*tree = NULL;
		nc_resp_clear(resp);
		dv_sleep_poll();
	}
}

static int dv_switch_do(struct nc *c, const char *rpc, const char *name)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	const struct lyd_node *sw = NULL;
	const struct dv_kv in[] = { { "switch", name } };
	uint64_t id = 0;
	int r = dv_rpc(c, rpc, in, 1, &id);

	r = r ? r : dv_wait_switch(c, name, id, &resp, &tree, &sw);
	if (r == 0 && c->json) {
		nc_print_raw(resp.body);
	} else if (r == 0) {
		const char *err = nc_leaf(sw, "last-error"), *st = nc_leaf(sw, "state");
		printf("switch %s: %s\n", name, dv_or(st, "unknown"));
		if (!strcmp(rpc, "switch-learn"))
			r = dv_learned_print(sw);
		else
			dv_apply_print(sw);
		if (st && !strcmp(st, "error"))
			r = nc_fail(NC_ESERVER, "%s", dv_or(err, "switch in error"));
	}
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

int nc_cmd_switch(struct nc *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub)
		return nc_usage_fail("switch: list, show NAME, learn NAME or sync NAME");
	if (!strcmp(sub, "list"))
		return dv_switch_list(c, argc - 1, argv + 1);
	if (strcmp(sub, "show") && strcmp(sub, "learn") && strcmp(sub, "sync"))
		return nc_usage_fail("switch: unknown subcommand %s (list, show, learn, sync)", sub);
	if (argc != 3 || argv[2][0] == '-')
		return nc_usage_fail("switch %s NAME", sub);
	if (!strcmp(sub, "show"))
		return dv_switch_show(c, argv[2]);
	return dv_switch_do(c, !strcmp(sub, "learn") ? "switch-learn" : "switch-sync", argv[2]);
}

/* ---- BMCs ---------------------------------------------------------------- */

/* Parse @body ({"netd:bmc":{...}}) under a new node entry @node: the
 * tree in *@tree, the bmc container in *@bmc.  0 or NETD_EINVAL (reported). */
static int dv_parse_bmc(struct nc *c, const char *node, const char *body, struct lyd_node **tree,
			const struct lyd_node **bmc)
{
	char under[MODEL_NAME_MAX * 2 + 32], key[MODEL_NAME_MAX * 2 + 4];
	struct lyd_node *at = NULL;
	struct ly_in *in = NULL;

	snprintf(under, sizeof under, "/netd:nodes/node[name=%s]", netd_path_key(node, key, sizeof key));
	ly_err_clean(c->ctx, NULL);
	if (lyd_new_path(NULL, c->ctx, under, NULL, 0, tree) == LY_SUCCESS &&
	    lyd_find_path(*tree, under, 0, &at) == LY_SUCCESS && ly_in_new_memory(body, &in) == LY_SUCCESS &&
	    lyd_parse_data(c->ctx, at, in, LYD_JSON, LYD_PARSE_ONLY, 0, NULL) == LY_SUCCESS)
		*bmc = nc_child(at, "bmc", NULL);
	ly_in_free(in, 0);
	if (*bmc)
		return 0;
	const char *m = ly_errmsg(c->ctx);
	return nc_fail(NETD_EINVAL, "netd's answer holds no bmc%s%s: %.200s", m ? ": " : "", m ? m : "", body);
}

static int dv_bmc_get(struct nc *c, const char *node, struct nc_resp *resp, struct lyd_node **tree,
		      const struct lyd_node **bmc)
{
	char path[512], *esc = curl_easy_escape(c->curl, node, 0);
	int r;

	*bmc = NULL;
	*tree = NULL;
	if (!esc)
		return nc_fail(-ENOMEM, "out of memory");
	snprintf(path, sizeof path, "/restconf/data/netd:nodes/node=%s/bmc", esc);
	curl_free(esc);
	r = nc_request(c, "GET", path, NULL, resp);
	if (r == 0 && resp->status == 404)
		return nc_fail(NC_ESERVER, "node %s has no bmc configuration (or there is no such node)", node);
	if (r == 0 && resp->status != 200)
		r = nc_call(c, "GET", path, NULL, resp);   /* reports netd's error */
	return r ? r : dv_parse_bmc(c, node, resp->body, tree, bmc);
}

static void dv_bmc_print(const char *node, const struct lyd_node *b)
{
	printf("node %s BMC: state %s\n", node, dv_or(nc_leaf(b, "state"), "unknown"));
	printf("  reached at %s port %s as %s, cipher suite %s, %s\n",
	       dv_or(nc_leaf(b, "host"), dv_or(nc_leaf(b, "address"), "?")), dv_or(nc_leaf(b, "port"), "623"),
	       dv_or(nc_leaf(b, "user"), "?"), dv_or(nc_leaf(b, "cipher-suite"), "3"),
	       nc_leaf(b, "password-file") ? "password from a file" : "password in the configuration");
	printf("  network %s: address %s netmask %s gateway %s vlan %s\n", dv_or(nc_leaf(b, "network"), "-"),
	       dv_or(nc_leaf(b, "address"), "-"), dv_or(nc_leaf(b, "netmask"), "-"), dv_or(nc_leaf(b, "gateway"), "-"),
	       nc_leaf(b, "vlan") && strcmp(nc_leaf(b, "vlan"), "0") ? nc_leaf(b, "vlan") : "none");
	printf("  LAN channel %s, MAC %s, last sync %s (%s Set commands)\n", dv_or(nc_leaf(b, "lan-channel"), "-"),
	       dv_or(nc_leaf(b, "mac"), "-"), dv_or(nc_leaf(b, "last-sync"), "never"), dv_or(nc_leaf(b, "sets"), "0"));
	if (nc_leaf(b, "last-error"))
		printf("  error: %s\n", nc_leaf(b, "last-error"));
}

static int dv_bmc(struct nc *c, const char *node, bool sync)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	const struct lyd_node *b = NULL;
	const struct dv_kv in[] = { { "node", node } };
	uint64_t id = 0;
	time_t deadline = time(NULL) + DV_WAIT_S;
	int r = sync ? dv_rpc(c, "bmc-sync", in, 1, &id) : 0;

	while (r == 0) {
		if ((r = dv_bmc_get(c, node, &resp, &tree, &b)) < 0)
			break;
		const char *done = nc_leaf(b, "request-done");
		if (!sync || (done && strtoull(done, NULL, 10) >= id))
			break;
		if (time(NULL) > deadline) {
			r = nc_fail(NC_ESERVER, "node %s: BMC request %" PRIu64 " not done after %d s", node, id, DV_WAIT_S);
			break;
		}
		lyd_free_all(tree);
		tree = NULL;
		nc_resp_clear(&resp);
		dv_sleep_poll();
	}
	if (r == 0 && c->json) {
		nc_print_raw(resp.body);
	} else if (r == 0) {
		dv_bmc_print(node, b);
		const char *st = nc_leaf(b, "state");
		if (sync && st && !strcmp(st, "error"))
			r = nc_fail(NC_ESERVER, "%s", dv_or(nc_leaf(b, "last-error"), "BMC in error"));
	}
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

int nc_cmd_bmc(struct nc *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub || (strcmp(sub, "show") && strcmp(sub, "sync")))
		return nc_usage_fail("bmc: show NODE or sync NODE");
	if (argc != 3 || argv[2][0] == '-')
		return nc_usage_fail("bmc %s NODE", sub);
	return dv_bmc(c, argv[2], !strcmp(sub, "sync"));
}
