/* netd/netctl_conduit.c — netctl's node inventory and conduit commands.
 *
 *   netctl node inventory NODE [--file F]   show the NICs netd knows for NODE,
 *                                           or store them from a JSON file
 *                                           ({"netd:inventory":{...}}, what
 *                                           `--json node inventory` prints)
 *   netctl conduit resolve NODE             which rule matched, which NIC each
 *                                           reference chose, fallbacks
 *   netctl conduit plan NODE                the desired stack netd hands out
 *   netctl conduit confirm NODE             keep the change waiting on the
 *                                           node's management path
 *
 * RPC bodies are built and answers parsed with libyang (netctl.c's rule);
 * errors are reported once, where they are found.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conduits/conduits.h"
#include "core/err.h"
#include "netd/netctl.h"

struct cd_kv {
	const char *name, *value;
};

/* POST RPC @rpc with @in; the answer (2xx) in @resp.  Errors reported. */
static int cd_rpc(struct nc *c, const char *rpc, const struct cd_kv *in, size_t n, struct nc_resp *resp)
{
	const struct lys_module *mod = ly_ctx_get_module_implemented(c->ctx, "netd");
	struct lyd_node *op = NULL;
	char *text = NULL, *body = NULL, prefix[96], path[128];
	int r = 0;

	ly_err_clean(c->ctx, NULL);
	if (!mod || lyd_new_inner(NULL, mod, rpc, 0, &op) != LY_SUCCESS)
		r = nc_fail(NETD_EINVAL, "%s: %s", rpc, ly_errmsg(c->ctx));
	for (size_t i = 0; i < n && r == 0; i++)
		if (in[i].value && lyd_new_term(op, NULL, in[i].name, in[i].value, 0, NULL) != LY_SUCCESS)
			r = nc_fail(NETD_EINVAL, "%s: %s", in[i].name, ly_errmsg(c->ctx));
	if (r == 0 && (lyd_print_mem(&text, op, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS || !text))
		r = nc_fail(-ENOMEM, "out of memory");
	int pl = snprintf(prefix, sizeof prefix, "{\"netd:%s\":", rpc);
	if (r == 0 && (strncmp(text, prefix, (size_t)pl) || asprintf(&body, "{\"netd:input\":%s", text + pl) < 0))
		r = nc_fail(-ENOMEM, "%s: cannot build the request", rpc);
	snprintf(path, sizeof path, "/restconf/operations/netd:%s", rpc);
	if (r == 0)
		r = nc_call(c, "POST", path, body, resp);
	free(text);
	free(body);
	lyd_free_all(op);
	return r;
}

/* The value of child @name (schema or opaque) of @n, or NULL. */
static const char *cd_value(const struct lyd_node *n, const char *name)
{
	const struct lyd_node *ch;
	LY_LIST_FOR(n ? lyd_child(n) : NULL, ch) {
		const char *nm = ch->schema ? ch->schema->name : ((const struct lyd_node_opaq *)ch)->name.name;
		if (!strcmp(nm, name))
			return ch->schema ? lyd_get_value(ch) : ((const struct lyd_node_opaq *)ch)->value;
	}
	return NULL;
}

/* The "output" of an RPC answer as a tree (*tree, the caller frees) and
 * its node (*out).  0 or NETD_EINVAL (reported). */
static int cd_output(struct nc *c, const char *body, struct lyd_node **tree, const struct lyd_node **out)
{
	const struct lyd_node *n;
	*tree = NULL;
	*out = NULL;
	ly_err_clean(c->ctx, NULL);
	if (lyd_parse_data_mem(c->ctx, body, LYD_JSON, LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0, tree) == LY_SUCCESS) {
		LY_LIST_FOR(*tree, n)
			if (!n->schema && !strcmp(((const struct lyd_node_opaq *)n)->name.name, "output"))
				*out = n;
	}
	ly_err_clean(c->ctx, NULL);
	return *out ? 0 : nc_fail(NETD_EINVAL, "netd's answer has no output: %.200s", body);
}

static const char *cd_speed(const char *mbps, char *buf, size_t len)
{
	if (!mbps)
		return "-";
	return cdt_speed_print((uint32_t)strtoul(mbps, NULL, 10), buf, len);
}

/* "/netd:nodes/node[name='NODE']" for parsing answers under the node. */
static void cd_node_path(const char *node, char *buf, size_t len)
{
	char key[MODEL_NAME_MAX * 2 + 4];
	snprintf(buf, len, "/netd:nodes/node[name=%s]", netd_path_key(node, key, sizeof key));
}

/* Parse @body under a new tree holding @holder (an absolute path to a list
 * entry or container); the holder's child @name in *@found.  *@tree is the
 * caller's to free.  0 or NETD_EINVAL (reported). */
static int cd_parse_under(struct nc *c, const char *body, const char *holder, const char *name,
			  struct lyd_node **tree, struct lyd_node **found)
{
	struct lyd_node *at = NULL, *ch;
	struct ly_in *in = NULL;

	*tree = NULL;
	*found = NULL;
	ly_err_clean(c->ctx, NULL);
	if (lyd_new_path(NULL, c->ctx, holder, NULL, 0, tree) == LY_SUCCESS &&
	    lyd_find_path(*tree, holder, 0, &at) == LY_SUCCESS && ly_in_new_memory(body, &in) == LY_SUCCESS &&
	    lyd_parse_data(c->ctx, at, in, LYD_JSON, LYD_PARSE_ONLY, 0, NULL) == LY_SUCCESS) {
		LY_LIST_FOR(lyd_child(at), ch)
			if (ch->schema && !strcmp(ch->schema->name, name))
				*found = ch;
	}
	ly_in_free(in, 0);
	if (*found)
		return 0;
	const char *m = ly_errmsg(c->ctx);
	return nc_fail(NETD_EINVAL, "netd's answer holds no %s%s%s: %.200s", name, m ? ": " : "", m ? m : "", body);
}

/* ---- node inventory ----------------------------------------------------- */

static int cd_inventory_print(const struct lyd_node *inv, const char *node)
{
	static const char *const head[] = { "NAME", "IFINDEX", "MAC", "PERM-MAC", "MTU", "STATE", "LINK",
					     "MASTER", "SPEED", "CLASS", "PCI", "DRIVER" };
	struct nc_table t = { .ncols = 12 };
	const struct lyd_node *n;
	char sp[16], cl[16];
	const char *up;
	int r = nc_table_add(&t, head);

	printf("node %s: product %s, reported %s\n", node, nc_leaf(inv, "product-name") ? nc_leaf(inv, "product-name") : "unknown",
	       nc_leaf(inv, "reported-at") ? nc_leaf(inv, "reported-at") : "-");
	LY_LIST_FOR(lyd_child(inv), n) {
		if (r < 0 || !n->schema || strcmp(n->schema->name, "nic"))
			continue;
		up = nc_leaf(n, "link-up");
		const char *row[] = { nc_leaf(n, "name"), nc_leaf(n, "ifindex"), nc_leaf(n, "mac"),
				      nc_leaf(n, "permanent-mac"), nc_leaf(n, "mtu"), nc_leaf(n, "operstate"),
				      up && !strcmp(up, "true") ? "up" : "down", nc_leaf(n, "master"),
				      cd_speed(nc_leaf(n, "speed"), sp, sizeof sp),
				      cd_speed(nc_leaf(n, "speed-class"), cl, sizeof cl), nc_leaf(n, "pci"),
				      nc_leaf(n, "driver") };
		r = nc_table_add(&t, row);
	}
	if (r == 0)
		nc_table_print(&t, stdout);
	nc_table_free(&t);
	return r < 0 ? nc_fail(r, "out of memory") : 0;
}

static int cd_inventory_show(struct nc *c, const char *node)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL, *inv = NULL;
	char under[MODEL_NAME_MAX * 2 + 40], path[MODEL_NAME_MAX * 3 + 64], *esc = curl_easy_escape(c->curl, node, 0);
	int r = esc ? 0 : nc_fail(-ENOMEM, "out of memory");

	cd_node_path(node, under, sizeof under);
	if (r == 0) {
		snprintf(path, sizeof path, "/restconf/data/netd:nodes/node=%s/inventory", esc);
		r = nc_request(c, "GET", path, NULL, &resp);
	}
	if (r == 0 && resp.status == 404)
		r = nc_fail(NC_ESERVER, "node %s has no NIC inventory (netd --agent reports it; or netctl node inventory %s --file F)",
			    node, node);
	else if (r == 0 && resp.status != 200)
		r = nc_call(c, "GET", path, NULL, &resp);   /* reports netd's error */
	if (r == 0 && c->json) {
		nc_print_raw(resp.body);
		goto out;
	}
	if (r == 0 && (r = cd_parse_under(c, resp.body, under, "inventory", &tree, &inv)) == 0)
		r = cd_inventory_print(inv, node);
out:
	curl_free(esc);
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

static int cd_inventory_load(struct nc *c, const char *node, const char *file)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	const struct lyd_node *out = NULL;
	char *text = NULL;
	int r = nc_read_file(file, &text);

	if (r < 0)
		return nc_fail(r, "%s: %s", file, netd_strerror(r));
	const struct cd_kv in[] = { { "node", node }, { "inventory", text } };
	r = cd_rpc(c, "report-inventory", in, 2, &resp);
	if (r == 0 && c->json)
		nc_print_raw(resp.body);
	else if (r == 0 && (r = cd_output(c, resp.body, &tree, &out)) == 0)
		printf("node %s: inventory of %s NICs stored\n", node, cd_value(out, "nics") ? cd_value(out, "nics") : "?");
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	free(text);
	return r;
}

int nc_cmd_node_inventory(struct nc *c, int argc, char **argv)
{
	const char *node = NULL, *file = NULL;
	for (int i = 1; i < argc; i++) {
		int hit = nc_opt(argc, argv, &i, "--file", "-f", &file);
		if (hit < 0)
			return hit;
		if (hit)
			continue;
		if (argv[i][0] == '-')
			return nc_usage_fail("node inventory: unknown option %s", argv[i]);
		if (node)
			return nc_usage_fail("node inventory: unexpected argument %s", argv[i]);
		node = argv[i];
	}
	if (!node)
		return nc_usage_fail("node inventory: expected NODE [--file F]");
	return file ? cd_inventory_load(c, node, file) : cd_inventory_show(c, node);
}

/* ---- conduit ------------------------------------------------------------- */

static int cd_resolve(struct nc *c, const char *node)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	const struct lyd_node *out = NULL;
	const struct cd_kv in[] = { { "node", node } };
	int r = cd_rpc(c, "conduit-resolve", in, 1, &resp);

	if (r == 0 && c->json) {
		nc_print_raw(resp.body);
	} else if (r == 0 && (r = cd_output(c, resp.body, &tree, &out)) == 0) {
		const char *why = cd_value(out, "explanation"), *err = cd_value(out, "error");
		if (why)
			fputs(why, stdout);
		if (err)
			r = nc_fail(NC_ESERVER, "%s", err);
	}
	if (r == 0 && c->json && strstr(resp.body, "\"error\""))
		r = NC_ESERVER;   /* the exit status still tells */
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

static int cd_plan_print(struct nc *c, const char *node, const char *gen, const char *json)
{
	static const char *const dh[] = { "DEVICE", "KIND", "LOWER", "MASTER", "VLAN", "MTU", "CONDUIT", "NETWORK" };
	static const char *const ah[] = { "ADDRESS", "DEVICE", "NETWORK" };
	static const char *const rh[] = { "ROUTE", "GATEWAY", "DEVICE", "NETWORK" };
	struct nc_table td = { .ncols = 8 }, ta = { .ncols = 3 }, tr = { .ncols = 4 };
	struct lyd_node *tree = NULL, *plan = NULL;
	const struct lyd_node *n;
	char under[MODEL_NAME_MAX * 2 + 64], pfx[80];

	cd_node_path(node, under, sizeof under);
	snprintf(under + strlen(under), sizeof under - strlen(under), "/conduit-state");
	int r = cd_parse_under(c, json, under, "plan", &tree, &plan);
	if (r == 0) {
		printf("node %s: plan generation %s", node, gen ? gen : "?");
		if (nc_leaf(plan, "management-address"))
			printf(", management address %s (commit-confirm %s s, %s)", nc_leaf(plan, "management-address"),
			       nc_leaf(plan, "confirm-timeout") ? nc_leaf(plan, "confirm-timeout") : "60",
			       nc_leaf(plan, "self-confirm") && !strcmp(nc_leaf(plan, "self-confirm"), "false")
				       ? "confirmed by netctl conduit confirm" : "self-confirm");
		printf("\n");
	}
	r = r ? r : nc_table_add(&td, dh);
	r = r ? r : nc_table_add(&ta, ah);
	r = r ? r : nc_table_add(&tr, rh);
	LY_LIST_FOR(r ? NULL : lyd_child(plan), n) {
		const char *nm = n->schema ? n->schema->name : "";
		if (!strcmp(nm, "device")) {
			char kind[64];
			const char *bm = nc_leaf(n, "bond-mode");
			snprintf(kind, sizeof kind, "%s%s%s", nc_leaf(n, "kind") ? nc_leaf(n, "kind") : "-", bm ? " " : "",
				 bm ? bm : "");
			const char *row[] = { nc_leaf(n, "name"), kind, nc_leaf(n, "lower"), nc_leaf(n, "master"),
					      nc_leaf(n, "vlan-id"), nc_leaf(n, "mtu"), nc_leaf(n, "conduit"), nc_leaf(n, "network") };
			r = nc_table_add(&td, row);
		} else if (!strcmp(nm, "address")) {
			snprintf(pfx, sizeof pfx, "%s/%s", nc_leaf(n, "address"), nc_leaf(n, "prefix-length"));
			const char *row[] = { pfx, nc_leaf(n, "device"), nc_leaf(n, "network") };
			r = nc_table_add(&ta, row);
		} else if (!strcmp(nm, "route")) {
			const char *row[] = { nc_leaf(n, "destination"), nc_leaf(n, "gateway"), nc_leaf(n, "device"),
					      nc_leaf(n, "network") };
			r = nc_table_add(&tr, row);
		}
		if (r < 0)
			break;
	}
	if (r == 0) {
		nc_table_print(&td, stdout);
		printf("\n");
		nc_table_print(&ta, stdout);
		printf("\n");
		nc_table_print(&tr, stdout);
	}
	nc_table_free(&td);
	nc_table_free(&ta);
	nc_table_free(&tr);
	lyd_free_all(tree);
	return r == -ENOMEM ? nc_fail(r, "out of memory") : r;
}

static int cd_plan(struct nc *c, const char *node)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	const struct lyd_node *out = NULL;
	const struct cd_kv in[] = { { "node", node } };
	int r = cd_rpc(c, "conduit-plan", in, 1, &resp);

	if (r == 0)
		r = cd_output(c, resp.body, &tree, &out);
	const char *plan = r == 0 ? cd_value(out, "plan") : NULL;
	if (r == 0 && !plan)
		r = nc_fail(NETD_EINVAL, "netd's answer has no plan: %.200s", resp.body);
	if (r == 0 && c->json)
		nc_print_raw(plan);
	else if (r == 0)
		r = cd_plan_print(c, node, cd_value(out, "generation"), plan);
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

static int cd_confirm(struct nc *c, const char *node)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	const struct lyd_node *out = NULL;
	const struct cd_kv in[] = { { "node", node } };
	int r = cd_rpc(c, "conduit-confirm", in, 1, &resp);

	if (r == 0 && c->json)
		nc_print_raw(resp.body);
	else if (r == 0 && (r = cd_output(c, resp.body, &tree, &out)) == 0)
		printf("node %s: change confirmed; its agent keeps it (the window ran until %s)\n", node,
		       cd_value(out, "deadline") ? cd_value(out, "deadline") : "?");
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

int nc_cmd_conduit(struct nc *c, int argc, char **argv)
{
	if (argc < 2)
		return nc_usage_fail("conduit: expected resolve, plan or confirm NODE");
	int r = nc_no_options(argc, argv, "conduit");
	if (r < 0)
		return r;
	if (argc != 3)
		return nc_usage_fail("conduit %s: expected NODE", argv[1]);
	if (!strcmp(argv[1], "resolve"))
		return cd_resolve(c, argv[2]);
	if (!strcmp(argv[1], "plan"))
		return cd_plan(c, argv[2]);
	if (!strcmp(argv[1], "confirm"))
		return cd_confirm(c, argv[2]);
	return nc_usage_fail("conduit: unknown subcommand %s", argv[1]);
}
