/* netd/ops.c — reads, edits and RPCs on the model, for every face.
 *
 * An edit is applied the way a datastore would apply it, but only to the
 * part of the datastore it touches: the stored records of the affected
 * networks and nodes become a libyang tree, the edit is applied to that tree
 * (merge, replace, create, delete), libyang validates the result, and the
 * resulting entries are turned back into records and compared with the
 * stored ones.  Only what changed goes through ipam and into the store.  This
 * keeps an edit of one node O(1) in the size of the datastore while every
 * YANG constraint is still checked on the would-be result.
 */
#include "netd/ops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "netd/cdtd.h"
#include "netd/devd.h"
#include "netd/hooks.h"
#include "netd/yangctx.h"
#include "netd/yangmap.h"

#define NETWORKS_PATH "/netd:networks"
#define NODES_PATH "/netd:nodes"

/* Configuration documents: top containers stored whole, as JSON, in the
 * "doc" table (decisions.md D23). Indexed by enum ops_doc. */
static const char *const doc_names[OPS_NDOCS] = { "dns", "roles", "deployments", "conduits", "switches" };
static const char *const doc_paths[OPS_NDOCS] = { "/netd:dns", "/netd:roles", "/netd:deployments", "/netd:conduits",
						  "/netd:switches" };
#define OPS_DOCS_ALL ((1u << OPS_NDOCS) - 1)

/* The document whose container @xpath is in, or -1. */
static int doc_of_path(const char *xpath)
{
	for (int i = 0; i < OPS_NDOCS; i++) {
		size_t n = strlen(doc_paths[i]);
		if (!strncmp(xpath, doc_paths[i], n) && (xpath[n] == '\0' || xpath[n] == '/'))
			return i;
	}
	return -1;
}

static int doc_of_name(const char *name)
{
	for (int i = 0; i < OPS_NDOCS; i++)
		if (!strcmp(name, doc_names[i]))
			return i;
	return -1;
}

/* ---------------------------------------------------------------- touched */

static int touch_add(char (**v)[MODEL_NAME_MAX], size_t *n, size_t *cap, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], name))
			return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		void *nv = realloc(*v, c * sizeof **v);
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	snprintf((*v)[(*n)++], MODEL_NAME_MAX, "%s", name);
	return 0;
}

int ops_touch_node(struct ops_touched *tc, const char *name)
{
	return touch_add(&tc->nodes, &tc->n_nodes, &tc->cap_nodes, name);
}

int ops_touch_net(struct ops_touched *tc, const char *name)
{
	return touch_add(&tc->nets, &tc->n_nets, &tc->cap_nets, name);
}

void ops_touched_clear(struct ops_touched *tc)
{
	free(tc->nodes);
	free(tc->nets);
	memset(tc, 0, sizeof *tc);
}

/* ---------------------------------------------------------------- results */

void ops_result_clear(struct ops_result *r)
{
	if (!r)
		return;
	free(r->body);
	ops_touched_clear(&r->touched);
	memset(r, 0, sizeof *r);
}

/* netd error code -> HTTP status and RFC 8040 error-tag. */
static const struct {
	int code;
	int status;
	const char *tag;
} err_map[] = {
	{ NETD_EINVAL, 400, "invalid-value" },
	{ NETD_ENOTFOUND, 400, "invalid-value" },   /* a referenced thing is missing */
	{ NETD_EEXIST, 409, "data-exists" },
	{ NETD_EEXHAUSTED, 409, "resource-denied" },
	{ NETD_EINUSE, 409, "in-use" },
	{ NETD_ECONFLICT, 409, "in-use" },
	{ NETD_EAUTH, 401, "access-denied" },
	{ NETD_EPERM, 403, "access-denied" },
	{ NETD_ETOOBIG, 413, "too-big" },
	{ NETD_EUNSUPPORTED, 501, "operation-not-supported" },
};

void ops_result_from_err(struct ops_result *r)
{
	if (r->err.code && r->error_tag && r->status >= 400)
		return;   /* set explicitly where the error was raised */
	if (!r->err.code) {
		if (!r->status)
			r->status = 200;
		r->error_tag = NULL;
		return;
	}
	r->status = 500;
	r->error_tag = "operation-failed";
	for (size_t i = 0; i < sizeof err_map / sizeof err_map[0]; i++) {
		if (err_map[i].code == r->err.code) {
			r->status = err_map[i].status;
			r->error_tag = err_map[i].tag;
			break;
		}
	}
	if (!r->err.msg[0])
		snprintf(r->err.msg, sizeof r->err.msg, "%s", netd_strerror(r->err.code));
}

/* An error with an explicit HTTP status (for target checks). */
static int fail_status(struct ops_result *r, int status, const char *tag, int code, const char *path,
		       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail_status(struct ops_result *r, int status, const char *tag, int code, const char *path,
		       const char *fmt, ...)
{
	char msg[NETD_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	netd_err_set(&r->err, code, path, "%s", msg);
	r->status = status;
	r->error_tag = tag;
	return code;
}

int ops_fail(struct ops_result *r, int status, const char *tag, int code, const char *path, const char *fmt, ...)
{
	char msg[NETD_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return fail_status(r, status, tag, code, path, "%s", msg);
}

/* libyang's leafref message names the schema path; say what it means. */
static void explain_leafref(struct netd_err *e)
{
	const char *v = strstr(e->msg, "Invalid leafref value \"");
	if (!v || !strstr(e->msg, "/netd:networks/netd:network/netd:name"))
		return;
	v += strlen("Invalid leafref value \"");
	const char *end = strchr(v, '"');
	if (!end)
		return;
	char name[MODEL_NAME_MAX * 2];
	snprintf(name, sizeof name, "%.*s", (int)(end - v), v);
	snprintf(e->msg, sizeof e->msg, "no network named '%s'", name);
}

static int fail_ly(struct netd *d, struct ops_result *r)
{
	yc_err(d->ly, NETD_EINVAL, &r->err);
	explain_leafref(&r->err);
	ops_result_from_err(r);
	return r->err.code;
}

/* A body parsed under a parent: libyang reports paths from the parsed node
 * down ("/netd:network[name='x']/vlan"); put the parent's path in front. */
static void anchor_err_path(struct netd_err *e, const char *parent_xpath)
{
	size_t n = strlen(parent_xpath);
	if (!e->path[0] || !strncmp(e->path, parent_xpath, n))
		return;
	const char *rel = e->path + 1;
	const char *colon = strchr(rel, ':'), *slash = strchr(rel, '/');
	if (colon && (!slash || colon < slash))
		rel = colon + 1;   /* the module prefix is the parent's */
	char buf[NETD_ERR_PATH_MAX * 3];
	snprintf(buf, sizeof buf, "%s/%s", parent_xpath, rel);
	if (strlen(buf) < sizeof e->path)
		memcpy(e->path, buf, strlen(buf) + 1);
}

static int fail_err(struct ops_result *r, int code)
{
	if (!r->err.code)
		netd_err_set(&r->err, code, NULL, "%s", netd_strerror(code));
	ops_result_from_err(r);
	return r->err.code;
}

/* ------------------------------------------------------------- xpath bits */

/* Length of the first path segment of @p (which starts with '/'), quotes in
 * predicates respected. */
static size_t segment_len(const char *p)
{
	size_t i = 1;
	char q = 0;
	for (; p[i]; i++) {
		if (q) {
			if (p[i] == q)
				q = 0;
		} else if (p[i] == '\'' || p[i] == '"') {
			q = p[i];
		} else if (p[i] == '/') {
			break;
		}
	}
	return i;
}

/* Copy the parent path of @xpath (all but the last segment) into @out. */
static void parent_path(const char *xpath, char *out, size_t len)
{
	size_t last = 0, pos = 0;
	while (xpath[pos]) {
		last = pos;
		pos += segment_len(xpath + pos);
	}
	if (last >= len)
		last = len - 1;
	memcpy(out, xpath, last);
	out[last] = '\0';
}

/* If @xpath starts with @list_path "[name=" + quoted value, copy the value
 * into @name and return true. */
static bool path_list_key(const char *xpath, const char *list_path, char *name, size_t len)
{
	size_t n = strlen(list_path);
	if (strncmp(xpath, list_path, n) || strncmp(xpath + n, "[name=", 6))
		return false;
	const char *v = xpath + n + 6;
	char q = *v;
	if (q != '\'' && q != '"')
		return false;
	const char *end = strchr(v + 1, q);
	if (!end || (size_t)(end - v - 1) >= len)
		return false;
	memcpy(name, v + 1, (size_t)(end - v - 1));
	name[end - v - 1] = '\0';
	return true;
}

static void entry_xpath(char *buf, size_t len, const char *list_path, const char *name)
{
	char key[MODEL_NAME_MAX * 2 + 4];
	snprintf(buf, len, "%s[name=%s]", list_path, netd_path_key(name, key, sizeof key));
}

/* ------------------------------------------------------------ tree builders */

static int node_addresses(struct netd *d, struct store_txn *t, const struct model_node *n,
			  struct model_alloc **out, size_t *n_out)
{
	struct model_alloc *v = calloc(n->n_nets * 2 + 1, sizeof *v);
	size_t k = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_nets; i++) {
		static const int fams[] = { ADDR_V4, ADDR_V6 };
		for (size_t f = 0; f < 2; f++) {
			int rc = model_alloc_by_owner(&d->mt, t, OWNER_NODE, n->name, n->nets[i].network, fams[f], &v[k]);
			if (rc == 0 && v[k].state == ALLOC_ACTIVE)
				k++;
			else if (rc != 0 && rc != NETD_ENOTFOUND) {
				free(v);
				return rc;
			}
		}
	}
	*out = v;
	*n_out = k;
	return 0;
}

static int add_node_entry(struct netd *d, struct store_txn *t, struct lyd_node *parent,
			  const struct model_node *n, bool state)
{
	struct model_alloc *addrs = NULL;
	size_t n_addrs = 0;
	int rc = 0;
	if (state && (rc = node_addresses(d, t, n, &addrs, &n_addrs)) < 0)
		return rc;
	struct lyd_node *entry;
	rc = ym_node_to_lyd(d->ly, parent, n, addrs, n_addrs, &entry);
	free(addrs);
	if (!rc && state)
		rc = cdtd_node_state(d, t, entry, n->name);   /* inventory, conduit-state */
	if (!rc)
		rc = devd_node_entry(d, t, entry, n->name, state);   /* bmc */
	return rc;
}

static int add_network_entry(struct netd *d, struct store_txn *t, struct lyd_node *parent,
			     const struct model_network *n, bool state)
{
	struct ym_network_state st = { 0 };
	struct ipam_util *util = NULL;
	size_t n_util = 0;
	int rc;
	if (state) {
		rc = ipam_utilization(d->ipam, t, n, &util, &n_util);
		if (rc < 0)
			return rc;
		st.util = util;
		st.n_util = n_util;
	}
	struct lyd_node *entry;
	rc = ym_network_to_lyd(d->ly, parent, n, state ? &st : NULL, &entry);
	free(util);
	return rc;
}

struct each_ctx {
	struct netd *d;
	struct store_txn *t;
	struct lyd_node *parent;
	bool state;
};

static int each_network_cb(const struct model_network *n, void *arg)
{
	struct each_ctx *c = arg;
	return add_network_entry(c->d, c->t, c->parent, n, c->state);
}

static int each_node_cb(const struct model_node *n, void *arg)
{
	struct each_ctx *c = arg;
	return add_node_entry(c->d, c->t, c->parent, n, c->state);
}

static int each_alloc_cb(const struct model_alloc *a, void *arg)
{
	struct each_ctx *c = arg;
	struct lyd_node *entry;
	return ym_alloc_to_lyd(c->d->ly, c->parent, a, c->d->cfg.hold_down_s, &entry);
}

/* Create top-level container @path in *tree (or find it). */
static int top_container(struct netd *d, struct lyd_node **tree, const char *path, struct lyd_node **out)
{
	struct lyd_node *node = NULL;
	if (*tree && lyd_find_path(*tree, path, 0, &node) == LY_SUCCESS) {
		*out = node;
		return 0;
	}
	if (lyd_new_path(NULL, d->ly, path, NULL, 0, &node) != LY_SUCCESS)
		return yc_err(d->ly, NETD_EINVAL, NULL);
	if (*tree)
		lyd_insert_sibling(*tree, node, tree);
	else
		*tree = node;
	*out = node;
	return 0;
}

/* Networks (all, or the one named) into *tree. A missing named one adds nothing. */
static int build_networks(struct netd *d, struct store_txn *t, struct lyd_node **tree, const char *name, bool state)
{
	struct each_ctx c = { d, t, NULL, state };
	int rc = top_container(d, tree, NETWORKS_PATH, &c.parent);
	if (rc < 0)
		return rc;
	if (!name)
		return model_network_each(&d->mt, t, NULL, each_network_cb, &c);
	struct model_network n = { 0 };
	rc = model_network_get(&d->mt, t, name, &n);
	if (rc == 0)
		rc = add_network_entry(d, t, c.parent, &n, state);
	model_network_clear(&n);
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

static int build_nodes(struct netd *d, struct store_txn *t, struct lyd_node **tree, const char *name, bool state)
{
	struct each_ctx c = { d, t, NULL, state };
	int rc = top_container(d, tree, NODES_PATH, &c.parent);
	if (rc < 0)
		return rc;
	if (!name)
		return model_node_each(&d->mt, t, NULL, each_node_cb, &c);
	struct model_node n = { 0 };
	rc = model_node_get(&d->mt, t, name, &n);
	if (rc == 0)
		rc = add_node_entry(d, t, c.parent, &n, state);
	model_node_clear(&n);
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

static int build_allocations(struct netd *d, struct store_txn *t, struct lyd_node **tree)
{
	struct each_ctx c = { d, t, NULL, true };
	int rc = top_container(d, tree, "/netd:allocations", &c.parent);
	if (rc < 0)
		return rc;
	return model_alloc_each(&d->mt, t, NULL, each_alloc_cb, &c);
}

static int status_leaf(struct netd *d, struct lyd_node *parent, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int status_leaf(struct netd *d, struct lyd_node *parent, const char *name, const char *fmt, ...)
{
	char val[4200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(val, sizeof val, fmt, ap);
	va_end(ap);
	if (lyd_new_path(parent, d->ly, name, val, 0, NULL) != LY_SUCCESS)
		return yc_err(d->ly, NETD_EINVAL, NULL);
	return 0;
}

static int build_status(struct netd *d, struct store_txn *t, struct lyd_node **tree)
{
	struct lyd_node *st;
	uint64_t map = 0, used = 0, n_net = 0, n_node = 0, n_alloc = 0;
	int rc = top_container(d, tree, "/netd:status", &st);
	if (rc < 0)
		return rc;
	store_stats(d->store, &map, &used);
	store_count(t, d->mt.network, &n_net);
	store_count(t, d->mt.node, &n_node);
	store_count(t, d->mt.alloc, &n_alloc);
	uint64_t now = wall_now_s();
	rc = status_leaf(d, st, "version", "%s", NETD_VERSION);
	rc = rc ? rc : status_leaf(d, st, "uptime", "%llu",
				   (unsigned long long)(now > d->started_at ? now - d->started_at : 0));
	rc = rc ? rc : status_leaf(d, st, "store-path", "%s", store_path(d->store));
	rc = rc ? rc : status_leaf(d, st, "store-map-size", "%llu", (unsigned long long)map);
	rc = rc ? rc : status_leaf(d, st, "store-used", "%llu", (unsigned long long)used);
	rc = rc ? rc : status_leaf(d, st, "networks", "%llu", (unsigned long long)n_net);
	rc = rc ? rc : status_leaf(d, st, "nodes", "%llu", (unsigned long long)n_node);
	rc = rc ? rc : status_leaf(d, st, "allocations", "%llu", (unsigned long long)n_alloc);
	return rc;
}

static int build_yanglib(struct netd *d, struct lyd_node **tree)
{
	struct lyd_node *yl = NULL;
	if (ly_ctx_get_yanglib_data(d->ly, &yl, "%u", ly_ctx_get_change_count(d->ly)) != LY_SUCCESS)
		return yc_err(d->ly, NETD_EINVAL, NULL);
	if (*tree)
		lyd_insert_sibling(*tree, yl, tree);
	else
		*tree = yl;
	return 0;
}

/* A configuration document (and, with @state, its operational data) into
 * *tree; @one: the list key the path targets, "" for all. */
static int build_doc(struct netd *d, struct store_txn *t, struct lyd_node **tree, int doc, bool state, const char *one)
{
	struct lyd_node *top = NULL;
	int rc = ops_doc_load(d, t, (enum ops_doc)doc, &top);
	if (rc < 0)
		return rc;
	if (top) {
		if (*tree)
			lyd_insert_sibling(*tree, top, tree);
		else
			*tree = top;
	} else if ((rc = top_container(d, tree, doc_paths[doc], &top)) < 0) {
		return rc;
	}
	return state ? hooks_state(d, t, doc_names[doc], top, one) : 0;
}

/* A config-false top container filled by a subsystem. */
static int build_state_top(struct netd *d, struct store_txn *t, struct lyd_node **tree, const char *name,
			   const char *one)
{
	char path[64];
	struct lyd_node *top = NULL;
	snprintf(path, sizeof path, "/netd:%s", name);
	int rc = top_container(d, tree, path, &top);
	return rc < 0 ? rc : hooks_state(d, t, name, top, one);
}

/* The first key value in @xpath after @list_path ("" if none). */
static void first_key(const char *xpath, const char *list_path, char *out, size_t len)
{
	out[0] = '\0';
	size_t n = strlen(list_path);
	if (strncmp(xpath, list_path, n) || xpath[n] != '[')
		return;
	const char *q = strpbrk(xpath + n, "'\"");
	if (!q)
		return;
	const char *e = strchr(q + 1, *q);
	if (!e)
		return;
	snprintf(out, len, "%.*s", (int)(e - q - 1), q + 1);
}

/* Build just what @xpath needs. */
static int build_for_path(struct netd *d, struct store_txn *t, const char *xpath, bool state,
			  struct lyd_node **tree)
{
	char name[MODEL_NAME_MAX];
	bool all = !xpath[0];
	int rc = 0;

	if (all || !strncmp(xpath, NETWORKS_PATH, strlen(NETWORKS_PATH))) {
		bool one = !all && path_list_key(xpath, NETWORKS_PATH "/network", name, sizeof name);
		rc = build_networks(d, t, tree, one ? name : NULL, state);
	}
	if (!rc && (all || !strncmp(xpath, NODES_PATH, strlen(NODES_PATH)))) {
		bool one = !all && path_list_key(xpath, NODES_PATH "/node", name, sizeof name);
		rc = build_nodes(d, t, tree, one ? name : NULL, state);
	}
	if (!rc && state && (all || !strncmp(xpath, "/netd:allocations", 17)))
		rc = build_allocations(d, t, tree);
	if (!rc && state && (all || !strncmp(xpath, "/netd:status", 12)))
		rc = build_status(d, t, tree);
	for (int i = 0; i < OPS_NDOCS && !rc; i++) {
		if (!all && doc_of_path(xpath) != i)
			continue;
		char one[256] = "";
		if (!all && i == OPS_DOC_DEPLOYMENTS)
			first_key(xpath, "/netd:deployments/deployment", one, sizeof one);
		if (!all && i == OPS_DOC_DNS && !strncmp(xpath, "/netd:dns/", 10))
			snprintf(one, sizeof one, "%.*s", (int)strcspn(xpath + 10, "/["), xpath + 10);
		rc = build_doc(d, t, tree, i, state, one);
	}
	if (!rc && state && (all || !strncmp(xpath, "/netd:node-roles", 16))) {
		char one[256] = "";
		if (!all)
			first_key(xpath, "/netd:node-roles/node-role", one, sizeof one);
		rc = build_state_top(d, t, tree, "node-roles", one);
	}
	if (!rc && state && (all || !strncmp(xpath, "/netd:anneal", 12)))
		rc = build_state_top(d, t, tree, "anneal", "");
	if (!rc && state && (all || !strncmp(xpath, "/ietf-yang-library:", 19)))
		rc = build_yanglib(d, tree);
	return rc;
}

/* content=nonconfig: drop config leaves (keys stay) and config subtrees
 * left with nothing but keys. Returns true if @node should go too. */
static bool prune_config(struct lyd_node *node)
{
	if (!node->schema)
		return false;
	if (node->schema->nodetype & (LYD_NODE_TERM)) {
		if (node->schema->flags & LYS_KEY)
			return false;
		return (node->schema->flags & LYS_CONFIG_W) != 0;
	}
	struct lyd_node *child = lyd_child(node), *next;
	bool has_data = false;
	while (child) {
		next = child->next;
		if (prune_config(child))
			lyd_free_tree(child);
		else if (!(child->schema && (child->schema->flags & LYS_KEY)))
			has_data = true;
		child = next;
	}
	return !has_data && (node->schema->flags & LYS_CONFIG_W);
}

/* Leaves that hold credentials (TSIG secrets, SNMP keys and communities,
 * BMC passwords): shown to admins only. A schema-level NACM would say this
 * per node (RFC 8341 default-deny-all); the names are few and fixed. */
static bool is_secret_leaf(const struct lyd_node *n)
{
	static const char *const names[] = { "secret", "auth-key", "priv-key", "community", "password" };
	if (!n->schema || !(n->schema->nodetype & LYD_NODE_TERM) || strcmp(n->schema->module->name, "netd"))
		return false;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(n->schema->name, names[i]))
			return true;
	return false;
}

static int redact_secrets(struct lyd_node *tree)
{
	struct lyd_node *top, *elem;
	struct ly_set *found = NULL;
	if (ly_set_new(&found) != LY_SUCCESS)
		return -ENOMEM;
	LY_LIST_FOR(tree, top) {
		LYD_TREE_DFS_BEGIN(top, elem) {
			if (is_secret_leaf(elem) && ly_set_add(found, elem, 1, NULL) != LY_SUCCESS) {
				ly_set_free(found, NULL);
				return -ENOMEM;
			}
			LYD_TREE_DFS_END(top, elem);
		}
	}
	/* freed after the walk: freeing inside it would break the DFS */
	for (uint32_t i = 0; i < found->count; i++)
		lyd_free_tree(found->dnodes[i]);
	ly_set_free(found, NULL);
	return 0;
}

/* The data ops_get() prints, as a tree (NULL when there is none). */
static int get_tree(struct netd *d, const char *xpath, enum ops_content content, struct lyd_node **out,
		    struct ops_result *r)
{
	struct store_txn *t = NULL;
	struct lyd_node *tree = NULL;
	bool state = content != OPS_CONTENT_CONFIG;
	*out = NULL;
	int rc = store_read_begin(d->store, &t);
	if (rc < 0)
		return fail_err(r, rc);
	rc = build_for_path(d, t, xpath, state, &tree);
	r->generation = store_txn_generation(t);
	store_read_end(t);
	if (rc < 0) {
		lyd_free_all(tree);
		return fail_err(r, rc);
	}
	if (r->redact && (rc = redact_secrets(tree)) < 0) {
		lyd_free_all(tree);
		return fail_err(r, rc);
	}
	if (content == OPS_CONTENT_NONCONFIG) {
		struct lyd_node *top = tree, *next;
		while (top) {
			next = top->next;
			if (prune_config(top)) {
				if (top == tree)
					tree = next;
				lyd_free_tree(top);
			}
			top = next;
		}
	}
	*out = tree;
	return 0;
}

int ops_get_tree(struct netd *d, const char *xpath, enum ops_content content, struct lyd_node **out,
		 struct ops_result *r)
{
	ly_err_clean(d->ly, NULL);
	return get_tree(d, xpath, content, out, r);
}

int ops_get(struct netd *d, const char *xpath, enum ops_content content, struct ops_result *r)
{
	struct lyd_node *tree = NULL, *target = NULL;
	ly_err_clean(d->ly, NULL);   /* errors are per thread: report only this request's */
	int rc = get_tree(d, xpath, content, &tree, r);
	if (rc < 0)
		return rc;
	uint32_t opts = LYD_PRINT_SHRINK | LYD_PRINT_WD_ALL;
	if (!xpath[0]) {
		target = tree;
		opts |= LYD_PRINT_WITHSIBLINGS;
	} else if (!tree || lyd_find_path(tree, xpath, 0, &target) != LY_SUCCESS) {
		rc = fail_status(r, 404, "invalid-value", NETD_ENOTFOUND, xpath, "%s", "no such data resource");
		goto out;
	}
	if (!target) {
		r->body = strdup("{}");
	} else if (lyd_print_mem(&r->body, target, LYD_JSON, opts) != LY_SUCCESS) {
		rc = fail_ly(d, r);
		goto out;
	}
	if (!r->body) {
		rc = fail_err(r, -ENOMEM);
		goto out;
	}
	r->status = 200;
	rc = 0;
out:
	lyd_free_all(tree);
	return rc;
}

/* ------------------------------------------------------------------ edits */

/* Names of the networks and nodes an edit touches. */
struct name_set {
	char (*names)[MODEL_NAME_MAX];
	size_t n, cap;
	bool all;                 /* the whole list is replaced or deleted */
};

static int name_set_add(struct name_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *v = realloc(s->names, cap * sizeof *s->names);
		if (!v)
			return -ENOMEM;
		s->names = v;
		s->cap = cap;
	}
	snprintf(s->names[s->n++], MODEL_NAME_MAX, "%s", name);
	return 0;
}

/* What can be done with a request before the store is touched: parse and
 * check the body (on an HTTP thread), so the writer only does store work. */
struct ops_prep {
	bool is_rpc;
	/* edits */
	enum ops_method method;
	char *xpath;                  /* target; "" = datastore */
	char parent_xpath[1024];      /* where the body's nodes hang */
	struct lyd_node *edit;        /* the parsed body as a tree from the top */
	struct lyd_node *edit_target; /* PUT/PATCH: the target node; POST: the new child */
	struct name_set nets, nodes;  /* entries the body names */
	unsigned docs;                /* OPS_DOC_BIT() of the documents the body names */
	/* RPCs */
	char rpc[128];
	struct lyd_node *rpc_tree;    /* validated input */
	char *out_names[8];           /* output leaves, printed by ops_finish() */
	char *out_values[8];
	size_t n_out;
	/* NETCONF */
	bool nc_edit;                 /* edit-config: p->edit carries operation attributes */
	enum ops_nc_defop nc_defop;
	uint32_t session;             /* the NETCONF session it came from, 0 = another face */
};

/* One run of a prepared edit inside a (child) write transaction. It may run
 * again (store_update retries after growing the map), so it never changes
 * the prep. */
struct edit_ctx {
	struct netd *d;
	struct store_txn *t;
	const struct ops_prep *p;
	uint64_t now;
	struct ops_result *r;
	struct name_set nets, nodes;  /* the prep's, plus what the store adds */
	unsigned docs;                /* documents loaded whole into the tree */
	char *doc_old[OPS_NDOCS];     /* their stored JSON (NULL = none) */
	struct lyd_node *tree;        /* stored entries, then the edited result */
	struct model_network *old_nets;
	struct model_node *old_nodes;
	size_t n_old_nets, n_old_nodes;
};

/* Networks that node entries under @nodes_cont refer to: they join the
 * working tree so that libyang can resolve the leafrefs. */
static int collect_node_refs(const struct lyd_node *nodes_cont, struct name_set *nets)
{
	const struct lyd_node *e, *att;
	LY_LIST_FOR(lyd_child(nodes_cont), e) {
		LY_LIST_FOR(lyd_child(e), att) {
			if (!att->schema || strcmp(att->schema->name, "network"))
				continue;
			const char *key = lyd_get_value(lyd_child(att));
			if (key && name_set_add(nets, key) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int collect_names(const struct lyd_node *top, struct name_set *nets, struct name_set *nodes, unsigned *docs)
{
	const struct lyd_node *cont, *e;
	LY_LIST_FOR(top, cont) {
		if (!cont->schema)
			continue;
		int doc = doc_of_name(cont->schema->name);
		if (doc >= 0) {
			*docs |= OPS_DOC_BIT(doc);
			continue;
		}
		struct name_set *set = NULL;
		if (!strcmp(cont->schema->name, "networks"))
			set = nets;
		else if (!strcmp(cont->schema->name, "nodes"))
			set = nodes;
		else
			continue;
		LY_LIST_FOR(lyd_child(cont), e) {
			const char *key = lyd_get_value(lyd_child(e));
			if (key && name_set_add(set, key) < 0)
				return -ENOMEM;
		}
		if (set == nodes && collect_node_refs(cont, nets) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Which top-level nodes may be edited. */
static bool top_is_writable(const struct lyd_node *top)
{
	const struct lyd_node *n;
	LY_LIST_FOR(top, n) {
		if (!n->schema || strcmp(n->schema->module->name, "netd") ||
		    !(n->schema->flags & LYS_CONFIG_W))
			return false;
	}
	return true;
}

static int parse_body(struct netd *d, struct ops_prep *p, const char *body, struct ops_result *r)
{
	const char *parent_xpath = p->parent_xpath;
	const uint32_t popts = LYD_PARSE_STRICT | LYD_PARSE_ONLY | LYD_PARSE_NO_STATE;
	struct lyd_node *parent = NULL;
	struct ly_in *in = NULL;

	if (!body || !body[0])
		return fail_status(r, 400, "malformed-message", NETD_EINVAL, NULL, "%s", "the request needs a body");
	if (yc_json_has_metadata(body))
		return fail_status(r, 400, "malformed-message", NETD_EINVAL, NULL, "%s",
				   "metadata annotations (\"@...\" members) are not accepted in request bodies");
	if (!parent_xpath[0]) {
		if (lyd_parse_data_mem(d->ly, body, LYD_JSON, popts, 0, &p->edit) != LY_SUCCESS)
			return fail_ly(d, r);
		return 0;
	}
	if (lyd_new_path(NULL, d->ly, parent_xpath, NULL, 0, &p->edit) != LY_SUCCESS ||
	    lyd_find_path(p->edit, parent_xpath, 0, &parent) != LY_SUCCESS)
		return fail_ly(d, r);
	if (ly_in_new_memory(body, &in) != LY_SUCCESS)
		return fail_err(r, -ENOMEM);
	LY_ERR lr = lyd_parse_data(d->ly, parent, in, LYD_JSON, popts, 0, NULL);
	ly_in_free(in, 0);
	if (lr != LY_SUCCESS) {
		fail_ly(d, r);
		anchor_err_path(&r->err, parent_xpath);
		return r->err.code;
	}
	return 0;
}

/* The single non-key child of @parent that the body added (POST). */
static struct lyd_node *new_child(struct lyd_node *parent, size_t *count)
{
	struct lyd_node *child, *found = NULL;
	*count = 0;
	LY_LIST_FOR(parent ? lyd_child(parent) : NULL, child) {
		if (child->schema && (child->schema->flags & LYS_KEY))
			continue;
		found = child;
		(*count)++;
	}
	return found;
}

static int locate_edit_target(struct ops_prep *p, struct ops_result *r)
{
	const char *xpath = p->xpath, *parent_xpath = p->parent_xpath;
	if (p->method == OPS_POST) {
		struct lyd_node *parent = NULL;
		size_t count = 0;
		if (parent_xpath[0])
			lyd_find_path(p->edit, parent_xpath, 0, &parent);
		if (parent) {
			p->edit_target = new_child(parent, &count);
		} else {
			p->edit_target = p->edit;
			count = 0;
			for (struct lyd_node *n = p->edit; n; n = n->next)
				count++;
		}
		if (count != 1)
			return fail_status(r, 400, "malformed-message", NETD_EINVAL, xpath[0] ? xpath : "/",
					   "%s", "POST needs exactly one child resource in the body");
		return 0;
	}
	if (!xpath[0]) {
		p->edit_target = p->edit;
		return 0;
	}
	if (lyd_find_path(p->edit, xpath, 0, &p->edit_target) != LY_SUCCESS)
		return fail_status(r, 400, "invalid-value", NETD_EINVAL, xpath, "%s",
				   "the body does not match the target resource (key values must equal the URI's)");
	return 0;
}

static int affected_from_target(struct edit_ctx *c)
{
	const char *xpath = c->p->xpath;
	char name[MODEL_NAME_MAX];
	bool whole = c->p->method == OPS_PUT || c->p->method == OPS_DELETE;
	int doc = doc_of_path(xpath);
	if (doc >= 0)
		c->docs |= OPS_DOC_BIT(doc);
	if (!whole)
		return 0;
	if (!xpath[0]) {
		c->nets.all = c->nodes.all = true;
		c->docs = OPS_DOCS_ALL;
	} else if (!strcmp(xpath, NETWORKS_PATH)) {
		c->nets.all = true;
	} else if (!strcmp(xpath, NODES_PATH)) {
		c->nodes.all = true;
	} else if (path_list_key(xpath, NETWORKS_PATH "/network", name, sizeof name)) {
		return name_set_add(&c->nets, name);
	} else if (path_list_key(xpath, NODES_PATH "/node", name, sizeof name)) {
		return name_set_add(&c->nodes, name);
	}
	return 0;
}

static int collect_net_name(const struct model_network *n, void *arg)
{
	return name_set_add(arg, n->name);
}

static int collect_node_name(const struct model_node *n, void *arg)
{
	return name_set_add(arg, n->name);
}

/* ------------------------------------------------------------- documents */

/* The stored JSON of @doc (a heap copy in *json, NULL when absent). */
static int doc_read(struct netd *d, struct store_txn *t, enum ops_doc doc, char **json)
{
	struct store_val v;
	*json = NULL;
	int rc = store_get(t, d->doc_tbl, doc_names[doc], strlen(doc_names[doc]), &v);
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (!(*json = strndup(v.p, v.n)))
		return -ENOMEM;
	return 0;
}

int ops_doc_load(struct netd *d, struct store_txn *t, enum ops_doc doc, struct lyd_node **out)
{
	char *json = NULL;
	*out = NULL;
	int rc = doc_read(d, t, doc, &json);
	if (rc < 0 || !json)
		return rc;
	if (lyd_parse_data_mem(d->ly, json, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_STRICT | LYD_PARSE_NO_STATE, 0,
			       out) != LY_SUCCESS) {
		log_err("store: the stored %s document does not parse: %s", doc_names[doc],
			ly_errmsg(d->ly) ? ly_errmsg(d->ly) : "?");
		rc = NETD_ECORRUPT;
	}
	free(json);
	return rc;
}

/* @top printed as stored (explicit nodes only); NULL in *json when it holds
 * nothing but defaults ("", "{}" or {"netd:dns":{}}). */
static int doc_print(const struct lyd_node *top, char **json)
{
	*json = NULL;
	if (!top)
		return 0;
	if (lyd_print_mem(json, top, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS)
		return -ENOMEM;
	const char *colon = *json ? strstr(*json, "\":") : NULL;
	if (*json && (!(*json)[0] || !strcmp(*json, "{}") || (colon && !strcmp(colon, "\":{}}")))) {
		free(*json);
		*json = NULL;
	}
	return 0;
}

static int doc_write(struct netd *d, struct store_txn *t, enum ops_doc doc, const char *json)
{
	if (!json) {
		int rc = store_del(t, d->doc_tbl, doc_names[doc], strlen(doc_names[doc]));
		return rc == NETD_ENOTFOUND ? 0 : rc;
	}
	return store_put(t, d->doc_tbl, doc_names[doc], strlen(doc_names[doc]), json, strlen(json));
}

int ops_doc_store(struct netd *d, struct store_txn *t, enum ops_doc doc, const struct lyd_node *top,
		  struct ops_result *r)
{
	char *json = NULL;
	int rc = doc_print(top, &json);
	if (!rc)
		rc = doc_write(d, t, doc, json);
	free(json);
	if (!rc)
		r->touched.docs |= OPS_DOC_BIT(doc);
	return rc;
}

/* Load the documents the edit touches whole into the working tree. */
static int load_docs(struct edit_ctx *c)
{
	for (int i = 0; i < OPS_NDOCS; i++) {
		if (!(c->docs & OPS_DOC_BIT(i)))
			continue;
		int rc = doc_read(c->d, c->t, (enum ops_doc)i, &c->doc_old[i]);
		if (rc < 0)
			return rc;
		if (!c->doc_old[i])
			continue;
		struct lyd_node *top = NULL;
		if ((rc = ops_doc_load(c->d, c->t, (enum ops_doc)i, &top)) < 0)
			return rc;
		if (c->tree)
			lyd_insert_sibling(c->tree, top, &c->tree);
		else
			c->tree = top;
	}
	return 0;
}

/* Write back the documents whose content changed, after their checks. */
static int commit_docs(struct edit_ctx *c)
{
	for (int i = 0; i < OPS_NDOCS; i++) {
		if (!(c->docs & OPS_DOC_BIT(i)))
			continue;
		struct lyd_node *top = NULL;
		char *json = NULL;
		if (c->tree)
			lyd_find_path(c->tree, doc_paths[i], 0, &top);
		int rc = doc_print(top, &json);
		if (rc < 0)
			return fail_err(c->r, rc);
		bool same = (!json && !c->doc_old[i]) || (json && c->doc_old[i] && !strcmp(json, c->doc_old[i]));
		if (!same) {
			rc = hooks_doc_check(c->d, c->t, (enum ops_doc)i, top, c->r);
			if (!rc && (rc = doc_write(c->d, c->t, (enum ops_doc)i, json)) < 0)
				fail_err(c->r, rc);
			if (!rc)
				c->r->touched.docs |= OPS_DOC_BIT(i);
		}
		free(json);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Stored records of the affected entries, as a working tree. Networks that
 * the affected nodes use (now or after the edit) come along so that libyang
 * can resolve the nodes' leafrefs; unchanged, they are not written back. */
static int load_records(struct edit_ctx *c)
{
	struct netd *d = c->d;
	struct lyd_node *parent = NULL, *entry;
	int rc = 0;

	if (c->nets.all && (rc = model_network_each(&d->mt, c->t, NULL, collect_net_name, &c->nets)) < 0)
		return rc;
	if (c->nodes.all && (rc = model_node_each(&d->mt, c->t, NULL, collect_node_name, &c->nodes)) < 0)
		return rc;
	c->old_nodes = calloc(c->nodes.n + 1, sizeof *c->old_nodes);
	if (!c->old_nodes)
		return -ENOMEM;
	c->n_old_nodes = c->nodes.n;
	for (size_t i = 0; i < c->nodes.n; i++) {
		rc = model_node_get(&d->mt, c->t, c->nodes.names[i], &c->old_nodes[i]);
		if (rc == NETD_ENOTFOUND)
			continue;
		if (rc < 0)
			return rc;
		for (size_t k = 0; k < c->old_nodes[i].n_nets; k++)
			if ((rc = name_set_add(&c->nets, c->old_nodes[i].nets[k].network)) < 0)
				return rc;
	}
	c->old_nets = calloc(c->nets.n + 1, sizeof *c->old_nets);
	if (!c->old_nets)
		return -ENOMEM;
	c->n_old_nets = c->nets.n;
	if (c->nets.n && (rc = top_container(d, &c->tree, NETWORKS_PATH, &parent)) < 0)
		return rc;
	for (size_t i = 0; i < c->nets.n; i++) {
		rc = model_network_get(&d->mt, c->t, c->nets.names[i], &c->old_nets[i]);
		if (rc == NETD_ENOTFOUND)
			continue;
		if (rc < 0 || (rc = ym_network_to_lyd(d->ly, parent, &c->old_nets[i], NULL, &entry)) < 0)
			return rc;
	}
	if (c->nodes.n && (rc = top_container(d, &c->tree, NODES_PATH, &parent)) < 0)
		return rc;
	for (size_t i = 0; i < c->nodes.n; i++) {
		if (!c->old_nodes[i].name[0])
			continue;
		if ((rc = ym_node_to_lyd(d->ly, parent, &c->old_nodes[i], NULL, 0, &entry)) < 0 ||
		    (rc = devd_node_entry(d, c->t, entry, c->old_nodes[i].name, false)) < 0)
			return rc;
	}
	return 0;
}

/* Find @xpath in the working tree; for the two top-level containers, create
 * them when missing (they are non-presence: they always "exist"). */
static int find_or_top(struct edit_ctx *c, const char *xpath, struct lyd_node **out)
{
	*out = NULL;
	if (c->tree && lyd_find_path(c->tree, xpath, 0, out) == LY_SUCCESS)
		return 0;
	if (!strcmp(xpath, NETWORKS_PATH) || !strcmp(xpath, NODES_PATH))
		return top_container(c->d, &c->tree, xpath, out);
	int doc = doc_of_path(xpath);
	if (doc >= 0 && !strcmp(xpath, doc_paths[doc]))
		return top_container(c->d, &c->tree, xpath, out);
	return NETD_ENOTFOUND;
}

static int insert_copy(struct edit_ctx *c, struct lyd_node *parent, const struct lyd_node *src)
{
	struct lyd_node *dup = NULL;
	if (lyd_dup_single(src, parent ? (struct lyd_node_inner *)parent : NULL, LYD_DUP_RECURSIVE, &dup) != LY_SUCCESS)
		return yc_err(c->d->ly, NETD_EINVAL, &c->r->err);
	if (!parent) {
		if (c->tree)
			lyd_insert_sibling(c->tree, dup, &c->tree);
		else
			c->tree = dup;
	}
	return 0;
}

static void free_subtree(struct edit_ctx *c, struct lyd_node *node)
{
	if (node == c->tree)
		c->tree = node->next;
	lyd_free_tree(node);
}

static int apply_put(struct edit_ctx *c, const char *parent_xpath)
{
	const char *xpath = c->p->xpath;
	struct lyd_node *old = NULL, *parent = NULL;
	if (!xpath[0]) {
		lyd_free_all(c->tree);
		c->tree = NULL;
		for (struct lyd_node *n = c->p->edit; n; n = n->next) {
			int rc = insert_copy(c, NULL, n);
			if (rc < 0)
				return fail_err(c->r, rc);
		}
		c->r->status = 204;
		return 0;
	}
	bool existed = c->tree && lyd_find_path(c->tree, xpath, 0, &old) == LY_SUCCESS;
	if (existed)
		free_subtree(c, old);
	if (parent_xpath[0] && find_or_top(c, parent_xpath, &parent) < 0)
		return fail_status(c->r, 404, "invalid-value", NETD_ENOTFOUND, parent_xpath, "%s",
				   "the parent of the target does not exist");
	int rc = insert_copy(c, parent, c->p->edit_target);
	if (rc < 0)
		return fail_err(c->r, rc);
	c->r->status = existed ? 204 : 201;
	return 0;
}

static int apply_post(struct edit_ctx *c)
{
	const char *xpath = c->p->xpath;
	struct lyd_node *parent = NULL, *exists = NULL;
	char child_path[1024];
	if (xpath[0] && find_or_top(c, xpath, &parent) < 0)
		return fail_status(c->r, 404, "invalid-value", NETD_ENOTFOUND, xpath, "%s", "the target does not exist");
	if (!lyd_path(c->p->edit_target, LYD_PATH_STD, child_path, sizeof child_path))
		return fail_err(c->r, -ENOMEM);
	if (c->tree && lyd_find_path(c->tree, child_path, 0, &exists) == LY_SUCCESS)
		return fail_status(c->r, 409, "data-exists", NETD_EEXIST, child_path, "%s",
				   "the resource exists already (use PUT to replace it)");
	int rc = insert_copy(c, parent, c->p->edit_target);
	if (rc < 0)
		return fail_err(c->r, rc);
	snprintf(c->r->location, sizeof c->r->location, "%s", child_path);
	c->r->status = 201;
	return 0;
}

static int apply_patch(struct edit_ctx *c)
{
	const char *xpath = c->p->xpath;
	struct lyd_node *target = NULL;
	if (xpath[0] && find_or_top(c, xpath, &target) < 0)
		return fail_status(c->r, 404, "invalid-value", NETD_ENOTFOUND, xpath, "%s",
				   "PATCH does not create resources: the target does not exist");
	if (lyd_merge_siblings(&c->tree, c->p->edit, 0) != LY_SUCCESS)
		return fail_ly(c->d, c->r);
	c->r->status = 204;
	return 0;
}

static int apply_delete(struct edit_ctx *c)
{
	const char *xpath = c->p->xpath;
	struct lyd_node *target = NULL;
	c->r->status = 204;
	if (!xpath[0]) {
		lyd_free_all(c->tree);
		c->tree = NULL;
		return 0;
	}
	int doc = doc_of_path(xpath);
	if (!strcmp(xpath, NETWORKS_PATH) || !strcmp(xpath, NODES_PATH) || (doc >= 0 && !strcmp(xpath, doc_paths[doc]))) {
		if (c->tree && lyd_find_path(c->tree, xpath, 0, &target) == LY_SUCCESS)
			free_subtree(c, target);
		return 0;
	}
	if (!c->tree || lyd_find_path(c->tree, xpath, 0, &target) != LY_SUCCESS)
		return fail_status(c->r, 404, "invalid-value", NETD_ENOTFOUND, xpath, "%s", "no such data resource");
	if (target->schema && (target->schema->flags & LYS_KEY))
		return fail_status(c->r, 400, "invalid-value", NETD_EINVAL, xpath, "%s",
				   "a list key cannot be deleted; delete the list entry");
	free_subtree(c, target);
	return 0;
}

/* ------------------------------------------------ records from the result */

static struct lyd_node *result_entry(struct edit_ctx *c, const char *list_path, const char *name)
{
	char xp[256];
	struct lyd_node *e = NULL;
	entry_xpath(xp, sizeof xp, list_path, name);
	if (!c->tree || lyd_find_path(c->tree, xp, 0, &e) != LY_SUCCESS)
		return NULL;
	return e;
}

static bool record_exists_net(const struct model_network *n) { return n->name[0] != '\0'; }
static bool record_exists_node(const struct model_node *n) { return n->name[0] != '\0'; }

static int delete_nodes(struct edit_ctx *c)
{
	for (size_t i = 0; i < c->nodes.n; i++) {
		const struct model_node *old = &c->old_nodes[i];
		if (!record_exists_node(old) || result_entry(c, NODES_PATH "/node", old->name))
			continue;
		int rc = ipam_node_sync(c->d->ipam, c->t, old, NULL, c->now, &c->r->err);
		if (!rc)
			rc = model_node_del(&c->d->mt, c->t, old);
		if (!rc)
			rc = ops_touch_node(&c->r->touched, old->name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int put_networks(struct edit_ctx *c)
{
	int rc = 0;
	for (size_t i = 0; i < c->nets.n && !rc; i++) {
		const struct model_network *old = &c->old_nets[i];
		struct lyd_node *e = result_entry(c, NETWORKS_PATH "/network", c->nets.names[i]);
		struct model_network n = { 0 };
		if (!e)
			continue;
		rc = ym_network_from_lyd(e, record_exists_net(old) ? old : NULL, &n, &c->r->err);
		if (!rc && (!record_exists_net(old) || !model_network_equal(old, &n))) {
			n.created = record_exists_net(old) ? old->created : c->now;
			rc = ipam_network_put(c->d->ipam, c->t, record_exists_net(old) ? old : NULL, &n, c->now,
					      &c->r->err);
			if (!rc)
				rc = ops_touch_net(&c->r->touched, n.name);
		}
		model_network_clear(&n);
	}
	return rc;
}

static int put_nodes(struct edit_ctx *c)
{
	int rc = 0;
	for (size_t i = 0; i < c->nodes.n && !rc; i++) {
		const struct model_node *old = &c->old_nodes[i];
		const struct model_node *oldp = record_exists_node(old) ? old : NULL;
		struct lyd_node *e = result_entry(c, NODES_PATH "/node", c->nodes.names[i]);
		struct model_node n = { 0 };
		if (!e)
			continue;
		rc = ym_node_from_lyd(e, &n, &c->r->err);
		if (!rc && (!oldp || !model_node_equal(oldp, &n))) {
			n.created = oldp ? oldp->created : c->now;
			rc = ipam_node_sync(c->d->ipam, c->t, oldp, &n, c->now, &c->r->err);
			if (!rc)
				rc = model_node_put(&c->d->mt, c->t, oldp, &n, &c->r->err);
			if (!rc)
				rc = ops_touch_node(&c->r->touched, n.name);
		}
		if (!rc)
			rc = devd_node_put(c->d, c->t, e, c->nodes.names[i], c->r);   /* bmc */
		model_node_clear(&n);
	}
	return rc;
}

static int delete_networks(struct edit_ctx *c)
{
	for (size_t i = 0; i < c->nets.n; i++) {
		const struct model_network *old = &c->old_nets[i];
		if (!record_exists_net(old) || result_entry(c, NETWORKS_PATH "/network", old->name))
			continue;
		int rc = ipam_network_del(c->d->ipam, c->t, old->name, &c->r->err);
		if (!rc)
			rc = ops_touch_net(&c->r->touched, old->name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Order matters: nodes leaving free their addresses before networks go;
 * networks exist before nodes attach to them. */
static int commit_records(struct edit_ctx *c)
{
	int rc = delete_nodes(c);
	if (!rc)
		rc = put_networks(c);
	if (!rc)
		rc = put_nodes(c);
	if (!rc)
		rc = delete_networks(c);
	if (!rc)
		rc = commit_docs(c);
	return rc;
}

static void edit_ctx_free(struct edit_ctx *c)
{
	lyd_free_all(c->tree);
	for (size_t i = 0; i < c->n_old_nets; i++)
		model_network_clear(&c->old_nets[i]);
	for (size_t i = 0; i < c->n_old_nodes; i++)
		model_node_clear(&c->old_nodes[i]);
	free(c->old_nets);
	free(c->old_nodes);
	free(c->nets.names);
	free(c->nodes.names);
	for (int i = 0; i < OPS_NDOCS; i++)
		free(c->doc_old[i]);
}

static int name_set_copy(struct name_set *dst, const struct name_set *src)
{
	dst->all = dst->all || src->all;
	for (size_t i = 0; i < src->n; i++)
		if (name_set_add(dst, src->names[i]) < 0)
			return -ENOMEM;
	return 0;
}

/* ------------------------------------------------------ NETCONF edit-config */

enum nc_op { NCO_MERGE, NCO_REPLACE, NCO_CREATE, NCO_DELETE, NCO_REMOVE, NCO_NONE };

static struct lyd_meta *nc_op_meta(const struct lyd_node *n)
{
	for (struct lyd_meta *m = n->meta; m; m = m->next)
		if (!strcmp(m->name, "operation") && m->annotation && !strcmp(m->annotation->module->name, "ietf-netconf"))
			return m;
	return NULL;
}

static enum nc_op nc_op_parse(const char *v, enum nc_op dflt)
{
	if (!v)
		return dflt;
	if (!strcmp(v, "merge"))
		return NCO_MERGE;
	if (!strcmp(v, "replace"))
		return NCO_REPLACE;
	if (!strcmp(v, "create"))
		return NCO_CREATE;
	if (!strcmp(v, "delete"))
		return NCO_DELETE;
	if (!strcmp(v, "remove"))
		return NCO_REMOVE;
	return dflt;
}

#define NC_BASE_NS "urn:ietf:params:xml:ns:netconf:base:1.0"

/* The operation attribute of an opaque node (see ops_nc_edit_prepare). */
static const char *nc_opaq_op(const struct lyd_node *n)
{
	const struct lyd_node_opaq *o = (const struct lyd_node_opaq *)n;
	for (const struct lyd_attr *a = o->attr; a; a = a->next)
		if (!strcmp(a->name.name, "operation") && a->format == LY_VALUE_XML && a->name.module_ns &&
		    !strcmp(a->name.module_ns, NC_BASE_NS))
			return a->value;
	return NULL;
}

static enum nc_op nc_op_of(const struct lyd_node *n, enum nc_op inherited)
{
	if (!n->schema)
		return nc_op_parse(nc_opaq_op(n), inherited);
	struct lyd_meta *m = nc_op_meta(n);
	return m ? nc_op_parse(lyd_get_meta_value(m), inherited) : inherited;
}

/* The schema leaf an opaque edit node stands for: a non-key leaf of its
 * parent's schema, or NULL. */
static const struct lysc_node *nc_opaq_leaf(const struct lyd_node *n)
{
	const struct lyd_node *parent = lyd_parent(n);
	const struct lyd_node_opaq *o = (const struct lyd_node_opaq *)n;
	if (!parent || !parent->schema || o->format != LY_VALUE_XML || !o->name.module_ns ||
	    strcmp(o->name.module_ns, parent->schema->module->ns))
		return NULL;
	const struct lysc_node *sn = lys_find_child(parent->schema, parent->schema->module, o->name.name, 0, LYS_LEAF, 0);
	return sn && !(sn->flags & LYS_KEY) ? sn : NULL;
}

/* Parsed with LYD_PARSE_OPAQ, the edit may hold opaque nodes: allowed only
 * for leaves that are deleted or removed (their value is irrelevant, and
 * "<leaf operation='delete'/>" has an empty one that the type may refuse). */
static bool nc_opaq_ok(const struct lyd_node *tree)
{
	const struct lyd_node *top, *n;
	LY_LIST_FOR(tree, top) {
		LYD_TREE_DFS_BEGIN(top, n) {
			if (!n->schema) {
				/* its own operation, or the nearest ancestor's */
				enum nc_op op = NCO_MERGE;
				for (const struct lyd_node *a = n; a; a = lyd_parent(a)) {
					if ((!a->schema && nc_opaq_op(a)) || (a->schema && nc_op_meta(a))) {
						op = nc_op_of(a, NCO_MERGE);
						break;
					}
				}
				if ((op != NCO_DELETE && op != NCO_REMOVE) || lyd_child(n) || !nc_opaq_leaf(n))
					return false;
			}
			LYD_TREE_DFS_END(top, n);
		}
	}
	return true;
}

static bool is_key(const struct lyd_node *n)
{
	return n->schema && (n->schema->flags & LYS_KEY);
}

/* A copy inserted into the working tree carries no operation attributes,
 * and nothing that its own attributes delete or remove. */
static void nc_strip(struct lyd_node *n)
{
	struct lyd_meta *m = nc_op_meta(n);
	if (m)
		lyd_free_meta_single(m);
	struct lyd_node *child = lyd_child_no_keys(n), *next;
	while (child) {
		next = child->next;
		enum nc_op op = nc_op_of(child, NCO_MERGE);
		if (op == NCO_DELETE || op == NCO_REMOVE)
			lyd_free_tree(child);
		else
			nc_strip(child);
		child = next;
	}
}

static int nc_fail_at(struct edit_ctx *c, const struct lyd_node *e, int status, const char *tag, int code,
		      const char *msg)
{
	char path[NETD_ERR_PATH_MAX];
	if (!lyd_path(e, LYD_PATH_STD, path, sizeof path))
		path[0] = '\0';
	return fail_status(c->r, status, tag, code, path, "%s", msg);
}

static int nc_insert(struct edit_ctx *c, struct lyd_node *wp, const struct lyd_node *e)
{
	struct lyd_node *dup = NULL;
	if (lyd_dup_single(e, (struct lyd_node_inner *)wp, LYD_DUP_RECURSIVE, &dup) != LY_SUCCESS)
		return fail_ly(c->d, c->r);
	if (!wp) {
		if (c->tree)
			lyd_insert_sibling(c->tree, dup, &c->tree);
		else
			c->tree = dup;
	}
	nc_strip(dup);
	return 0;
}

static int nc_apply_node(struct edit_ctx *c, struct lyd_node *wp, const struct lyd_node *e, enum nc_op inherited);

static int nc_apply_children(struct edit_ctx *c, struct lyd_node *wp, const struct lyd_node *e, enum nc_op op)
{
	const struct lyd_node *child;
	LY_LIST_FOR(lyd_child(e), child) {
		if (is_key(child))
			continue;   /* matched with the entry */
		int rc = nc_apply_node(c, wp, child, op);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Apply edit node @e (operation @inherited unless it has its own) under
 * the working-tree node @wp (NULL: the top level). RFC 6241 section 7.2. */
static int nc_apply_node(struct edit_ctx *c, struct lyd_node *wp, const struct lyd_node *e, enum nc_op inherited)
{
	enum nc_op op = nc_op_of(e, inherited);
	struct lyd_node *first = wp ? lyd_child(wp) : c->tree, *cur = NULL;
	bool top = !wp;
	int rc;

	if (!e->schema) {
		/* a leaf to delete or remove, value not parsed (nc_opaq_ok) */
		const struct lysc_node *sn = nc_opaq_leaf(e);
		if (!sn || (op != NCO_DELETE && op != NCO_REMOVE))
			return nc_fail_at(c, e, 400, "unknown-element", NETD_EINVAL, "not part of the netd model");
		if (first)
			lyd_find_sibling_val(first, sn, NULL, 0, &cur);
		if (!cur && op == NCO_DELETE)
			return nc_fail_at(c, e, 404, "data-missing", NETD_ENOTFOUND, "the data to delete does not exist");
		if (cur)
			free_subtree(c, cur);
		return 0;
	}
	if (first)
		lyd_find_sibling_first(first, e, &cur);
	if (is_key(e) && (op == NCO_DELETE || op == NCO_REMOVE || op == NCO_CREATE))
		return nc_fail_at(c, e, 400, "invalid-value", NETD_EINVAL,
				  "a list key cannot be created or deleted on its own; edit the list entry");
	/* the top-level containers are non-presence: they exist when they hold entries */
	bool exists = cur && (!top || lyd_child(cur));
	switch (op) {
	case NCO_CREATE:
		if (exists)
			return nc_fail_at(c, e, 409, "data-exists", NETD_EEXIST, "the data exists already");
		if (cur)
			free_subtree(c, cur);
		return nc_insert(c, wp, e);
	case NCO_DELETE:
	case NCO_REMOVE:
		if (!exists) {
			if (op == NCO_REMOVE)
				return 0;
			return nc_fail_at(c, e, 404, "data-missing", NETD_ENOTFOUND, "the data to delete does not exist");
		}
		free_subtree(c, cur);
		return 0;
	case NCO_REPLACE:
		if (cur)
			free_subtree(c, cur);
		return nc_insert(c, wp, e);
	case NCO_MERGE:
	case NCO_NONE:
		break;
	}
	if (e->schema->nodetype & LYD_NODE_TERM) {
		if (op == NCO_NONE)
			return 0;
		if (!cur)
			return nc_insert(c, wp, e);
		if (e->schema->nodetype == LYS_LEAF) {
			LY_ERR lr = lyd_change_term(cur, lyd_get_value(e));
			if (lr != LY_SUCCESS && lr != LY_EEXIST && lr != LY_ENOT)
				return fail_ly(c->d, c->r);
		}
		return 0;
	}
	bool created = false;
	if (!cur) {
		if (top && e->schema->nodetype == LYS_CONTAINER) {
			char path[128];
			snprintf(path, sizeof path, "/%s:%s", e->schema->module->name, e->schema->name);
			if ((rc = top_container(c->d, &c->tree, path, &cur)) < 0)
				return fail_err(c->r, rc);
		} else {
			/* the entry itself (a list's keys come along) */
			if (lyd_dup_single(e, (struct lyd_node_inner *)wp, 0, &cur) != LY_SUCCESS)
				return fail_ly(c->d, c->r);
			if (!wp) {
				if (c->tree)
					lyd_insert_sibling(c->tree, cur, &c->tree);
				else
					c->tree = cur;
			}
			struct lyd_node *k;
			LY_LIST_FOR(lyd_child(cur), k) {
				struct lyd_meta *m = nc_op_meta(k);
				if (m)
					lyd_free_meta_single(m);
			}
			struct lyd_meta *m = nc_op_meta(cur);
			if (m)
				lyd_free_meta_single(m);
		}
		created = true;
	}
	if ((rc = nc_apply_children(c, cur, e, op)) < 0)
		return rc;
	/* "none" creates nothing by itself: drop what was made only to descend */
	if (created && op == NCO_NONE && !lyd_child_no_keys(cur))
		free_subtree(c, cur);
	return 0;
}

static int nc_apply(struct edit_ctx *c)
{
	const struct lyd_node *e;
	enum nc_op dflt = c->p->nc_defop == OPS_NC_NONE ? NCO_NONE : NCO_MERGE;
	if (c->p->nc_defop == OPS_NC_REPLACE) {
		/* the <config> replaces the whole configuration (both lists are loaded) */
		lyd_free_all(c->tree);
		c->tree = NULL;
		dflt = NCO_REPLACE;
	}
	LY_LIST_FOR(c->p->edit, e) {
		int rc = nc_apply_node(c, NULL, e, dflt);
		if (rc < 0)
			return rc;
	}
	c->r->status = 200;
	return 0;
}

static int apply_edit(struct edit_ctx *c)
{
	switch (c->p->method) {
	case OPS_PUT: return apply_put(c, c->p->parent_xpath);
	case OPS_POST: return apply_post(c);
	case OPS_PATCH: return apply_patch(c);
	case OPS_DELETE: return apply_delete(c);
	}
	return fail_err(c->r, NETD_EUNSUPPORTED);
}

static struct ops_prep *prep_new(void)
{
	return calloc(1, sizeof(struct ops_prep));
}

void ops_prep_free(struct ops_prep *p)
{
	if (!p)
		return;
	lyd_free_all(p->edit);
	lyd_free_all(p->rpc_tree);
	for (size_t i = 0; i < p->n_out; i++) {
		free(p->out_names[i]);
		free(p->out_values[i]);
	}
	free(p->nets.names);
	free(p->nodes.names);
	free(p->xpath);
	free(p);
}

int ops_edit_prepare(struct netd *d, const struct ops_edit *ed, struct ops_prep **out, struct ops_result *r)
{
	struct ops_prep *p = prep_new();
	int rc;

	ly_err_clean(d->ly, NULL);
	if (!p || !(p->xpath = strdup(ed->xpath))) {
		rc = fail_err(r, -ENOMEM);
		goto fail;
	}
	p->method = ed->method;
	if (ed->xpath[0] && strncmp(ed->xpath, NETWORKS_PATH, strlen(NETWORKS_PATH)) &&
	    strncmp(ed->xpath, NODES_PATH, strlen(NODES_PATH)) && doc_of_path(ed->xpath) < 0) {
		rc = fail_status(r, 405, "operation-not-supported", NETD_EUNSUPPORTED, ed->xpath, "%s",
				 "this resource is not configuration data and cannot be edited");
		goto fail;
	}
	if (ed->method == OPS_POST)
		snprintf(p->parent_xpath, sizeof p->parent_xpath, "%s", ed->xpath);
	else
		parent_path(ed->xpath, p->parent_xpath, sizeof p->parent_xpath);
	if (ed->method != OPS_DELETE) {
		if ((rc = parse_body(d, p, ed->body, r)) < 0 || (rc = locate_edit_target(p, r)) < 0)
			goto fail;
		if (!top_is_writable(p->edit)) {
			rc = fail_status(r, 400, "invalid-value", NETD_EINVAL, NULL, "%s",
					 "only netd configuration data can be edited");
			goto fail;
		}
		if ((rc = collect_names(p->edit, &p->nets, &p->nodes, &p->docs)) < 0) {
			fail_err(r, rc);
			goto fail;
		}
	}
	*out = p;
	return 0;
fail:
	ops_prep_free(p);
	return rc;
}

static int edit_run(struct netd *d, struct store_txn *t, const struct ops_prep *p, uint64_t now,
		    struct ops_result *r)
{
	struct edit_ctx c = { .d = d, .t = t, .p = p, .now = now, .r = r };
	int rc;

	ly_err_clean(d->ly, NULL);
	c.docs = p->docs;
	if ((rc = name_set_copy(&c.nets, &p->nets)) < 0 || (rc = name_set_copy(&c.nodes, &p->nodes)) < 0 ||
	    (rc = affected_from_target(&c)) < 0 || (rc = load_records(&c)) < 0 || (rc = load_docs(&c)) < 0) {
		fail_err(r, rc);
		goto out;
	}
	if ((rc = p->nc_edit ? nc_apply(&c) : apply_edit(&c)) < 0)
		goto out;
	if (c.tree && lyd_validate_all(&c.tree, d->ly, LYD_VALIDATE_PRESENT | LYD_VALIDATE_NO_STATE, NULL) != LY_SUCCESS) {
		rc = fail_ly(d, r);
		goto out;
	}
	int status = r->status;
	if ((rc = commit_records(&c)) < 0) {
		if (!r->err.code)
			fail_err(r, rc);
		goto out;
	}
	if ((rc = hooks_txn(d, t, &r->touched, now, r)) < 0) {
		if (!r->err.code)
			fail_err(r, rc);
		goto out;
	}
	r->status = status;
	rc = 0;
out:
	edit_ctx_free(&c);
	return rc;
}

/* -------------------------------------------------------------------- RPCs */

/* RESTCONF wraps RPC input as {"netd:input": {...}}; libyang 2.1 has no
 * parser for that envelope, so parse it as opaque data and rebuild the leaves
 * under the RPC node, where libyang checks each value. */
static int rpc_input(struct netd *d, const char *name, const char *body, struct lyd_node **rpc_out,
		     struct ops_result *r)
{
	char path[128];
	struct lyd_node *rpc = NULL, *in = NULL, *leaf;
	snprintf(path, sizeof path, "/%s", name);
	if (lyd_new_path(NULL, d->ly, path, NULL, 0, &rpc) != LY_SUCCESS)
		return fail_status(r, 404, "invalid-value", NETD_ENOTFOUND, path, "%s", "no such operation");
	if (body && body[strspn(body, " \t\r\n")]) {
		if (yc_json_has_metadata(body)) {
			lyd_free_all(rpc);
			return fail_status(r, 400, "malformed-message", NETD_EINVAL, path, "%s",
					   "metadata annotations (\"@...\" members) are not accepted in request bodies");
		}
		if (lyd_parse_data_mem(d->ly, body, LYD_JSON, LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0, &in) != LY_SUCCESS) {
			lyd_free_all(rpc);
			return fail_ly(d, r);
		}
		if (!in || in->schema || in->next || strcmp(((struct lyd_node_opaq *)in)->name.name, "input")) {
			lyd_free_all(in);
			lyd_free_all(rpc);
			return fail_status(r, 400, "malformed-message", NETD_EINVAL, path, "%s",
					   "the body must be {\"netd:input\": {...}}");
		}
		LY_LIST_FOR(lyd_child(in), leaf) {
			const struct lyd_node_opaq *o = (const struct lyd_node_opaq *)leaf;
			if (leaf->schema || lyd_new_path(rpc, NULL, o->name.name, o->value, 0, NULL) != LY_SUCCESS) {
				lyd_free_all(in);
				lyd_free_all(rpc);
				return fail_ly(d, r);
			}
		}
		lyd_free_all(in);
	}
	if (lyd_validate_op(rpc, NULL, LYD_TYPE_RPC_YANG, NULL) != LY_SUCCESS) {
		lyd_free_all(rpc);
		return fail_ly(d, r);
	}
	*rpc_out = rpc;
	return 0;
}

const char *ops_rpc_leaf(const struct lyd_node *rpc, const char *name)
{
	struct lyd_node *n = NULL;
	if (lyd_find_path(rpc, name, 0, &n) != LY_SUCCESS)
		return NULL;
	return lyd_get_value(n);
}

#define rpc_leaf ops_rpc_leaf

size_t ops_rpc_leaflist(const struct lyd_node *rpc, const char *name, const char **out, size_t max)
{
	size_t n = 0;
	const struct lyd_node *c;
	LY_LIST_FOR(lyd_child(rpc), c) {
		if (!c->schema || strcmp(c->schema->name, name))
			continue;
		if (n < max)
			out[n] = lyd_get_value(c);
		n++;
	}
	return n;
}

int ops_rpc_set_output(struct ops_prep *p, const char *leaf, const char *value)
{
	if (p->n_out == sizeof p->out_names / sizeof p->out_names[0])
		return NETD_ETOOBIG;
	char *n = strdup(leaf), *v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	p->out_names[p->n_out] = n;
	p->out_values[p->n_out++] = v;
	return 0;
}

static void rpc_clear_output(struct ops_prep *p)
{
	for (size_t i = 0; i < p->n_out; i++) {
		free(p->out_names[i]);
		free(p->out_values[i]);
	}
	p->n_out = 0;
}

/* Print an RPC reply tree as {"netd:output": {...}}. */
static int rpc_output(struct netd *d, const struct ops_prep *p, struct ops_result *r)
{
	char path[256], *printed = NULL;
	struct lyd_node *out = NULL;
	for (size_t i = 0; i < p->n_out; i++) {
		snprintf(path, sizeof path, "/%s/%s", p->rpc, p->out_names[i]);
		if (lyd_new_path(out, d->ly, path, p->out_values[i], LYD_NEW_PATH_OUTPUT, out ? NULL : &out) != LY_SUCCESS) {
			lyd_free_all(out);
			return fail_ly(d, r);
		}
	}
	LY_ERR lr = lyd_print_mem(&printed, out, LYD_JSON, LYD_PRINT_SHRINK);
	lyd_free_all(out);
	if (lr != LY_SUCCESS)
		return fail_ly(d, r);
	/* printed = {"netd:allocate-address":{...}}: swap the envelope's name */
	const char *inner = strstr(printed, "\":");
	inner = inner ? inner + 1 : NULL;
	if (!inner || asprintf(&r->body, "{\"netd:output\"%s", inner) < 0) {
		free(printed);
		return fail_err(r, -ENOMEM);
	}
	free(printed);
	r->status = 200;
	return 0;
}

static int rpc_allocate(struct netd *d, struct store_txn *t, struct ops_prep *p, uint64_t now,
			struct ops_result *r)
{
	const struct lyd_node *rpc = p->rpc_tree;
	struct addr hint, out;
	const char *hint_s = rpc_leaf(rpc, "hint");
	const char *fam = rpc_leaf(rpc, "family");
	struct ipam_request rq = {
		.network = rpc_leaf(rpc, "network"),
		.family = fam && !strcmp(fam, "ipv6") ? ADDR_V6 : ADDR_V4,
		.owner_kind = OWNER_VIP,
		.owner = rpc_leaf(rpc, "name"),
		.range = rpc_leaf(rpc, "range"),
		.hint = NULL,
	};
	if (hint_s) {
		if (addr_parse_family(hint_s, rq.family, &hint) < 0)
			return fail_status(r, 400, "invalid-value", NETD_EINVAL, "/netd:allocate-address/hint", "%s",
					   "the hint is not an address of the requested family");
		rq.hint = &hint;
	}
	int rc = ipam_alloc(d->ipam, t, &rq, now, &out, &r->err);
	if (rc < 0)
		return fail_err(r, rc);
	/* printed by ops_finish(), outside the write transaction */
	char text[ADDR_STRLEN];
	addr_print(&out, text, sizeof text);
	if ((rc = ops_rpc_set_output(p, "address", text)) < 0)
		return fail_err(r, rc);
	r->status = 200;
	return 0;
}

static int rpc_release(struct netd *d, struct store_txn *t, const struct lyd_node *rpc, uint64_t now,
		       struct ops_result *r)
{
	struct addr a;
	struct model_alloc held = { 0 };
	if (addr_parse(rpc_leaf(rpc, "address"), &a) < 0)
		return fail_status(r, 400, "invalid-value", NETD_EINVAL, "/netd:release-address/address", "%s",
				   "not an address");
	bool known = model_alloc_get(&d->mt, t, rpc_leaf(rpc, "network"), &a, &held) == 0;
	int rc = ipam_release(d->ipam, t, rpc_leaf(rpc, "network"), &a, now, &r->err);
	if (!rc && known && held.owner_kind == OWNER_NODE)
		rc = ops_touch_node(&r->touched, held.owner);   /* its name loses the address */
	if (rc < 0)
		return fail_err(r, rc);
	r->status = 204;
	return 0;
}

static int rpc_rename(struct netd *d, struct store_txn *t, const struct lyd_node *rpc, struct ops_result *r)
{
	const char *from = rpc_leaf(rpc, "from"), *to = rpc_leaf(rpc, "to");
	struct model_node old = { 0 }, n = { 0 }, tmp = { 0 };
	int rc = model_node_get(&d->mt, t, from, &old);
	if (rc == NETD_ENOTFOUND) {
		fail_status(r, 404, "invalid-value", NETD_ENOTFOUND, "/netd:rename-node/from", "no node named '%s'", from);
		goto out;
	}
	if (rc == 0 && model_node_get(&d->mt, t, to, &tmp) == 0) {
		rc = fail_status(r, 409, "data-exists", NETD_EEXIST, "/netd:rename-node/to",
				 "a node named '%s' exists already", to);
		goto out;
	}
	if (!rc)
		rc = model_node_copy(&n, &old);
	if (!rc) {
		snprintf(n.name, sizeof n.name, "%s", to);
		rc = model_node_del(&d->mt, t, &old);
	}
	if (!rc)
		rc = ipam_node_rename(d->ipam, t, from, to, &r->err);
	if (!rc)
		rc = model_node_put(&d->mt, t, NULL, &n, &r->err);
	if (!rc)
		rc = ops_touch_node(&r->touched, from);
	if (!rc)
		rc = ops_touch_node(&r->touched, to);
	r->touched.flags |= OPS_T_RENAME;
	if (rc < 0) {
		fail_err(r, rc);
		goto out;
	}
	r->status = 204;
out:
	model_node_clear(&old);
	model_node_clear(&n);
	model_node_clear(&tmp);
	return r->err.code;
}

int ops_rpc_prepare(struct netd *d, const char *name, const char *body, struct ops_prep **out,
		    struct ops_result *r)
{
	struct ops_prep *p = prep_new();
	if (!p)
		return fail_err(r, -ENOMEM);
	ly_err_clean(d->ly, NULL);
	p->is_rpc = true;
	snprintf(p->rpc, sizeof p->rpc, "%s", name);
	int rc = rpc_input(d, name, body, &p->rpc_tree, r);
	if (rc < 0) {
		ops_prep_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static int rpc_dispatch(struct netd *d, struct store_txn *t, struct ops_prep *p, uint64_t now, struct ops_result *r)
{
	bool handled = false;
	if (!strcmp(p->rpc, "netd:allocate-address"))
		return rpc_allocate(d, t, p, now, r);
	if (!strcmp(p->rpc, "netd:release-address"))
		return rpc_release(d, t, p->rpc_tree, now, r);
	if (!strcmp(p->rpc, "netd:rename-node"))
		return rpc_rename(d, t, p->rpc_tree, r);
	int rc = hooks_rpc(d, t, p, p->rpc, p->rpc_tree, now, r, &handled);
	if (handled)
		return rc < 0 ? rc : r->err.code;
	return fail_status(r, 404, "invalid-value", NETD_ENOTFOUND, p->rpc, "%s", "no such operation");
}

/* Run an RPC; the output leaves are reset first (a batch may run again). */
static int rpc_run(struct netd *d, struct store_txn *t, struct ops_prep *p, uint64_t now, struct ops_result *r)
{
	rpc_clear_output(p);
	int rc = rpc_dispatch(d, t, p, now, r);
	if (rc < 0 || r->err.code)
		return rc < 0 ? rc : r->err.code;
	if ((rc = hooks_txn(d, t, &r->touched, now, r)) < 0 && !r->err.code)
		fail_err(r, rc);
	return rc;
}

/* A NETCONF <lock> on running holds off every other writer of the
 * configuration (edits and rename-node), whichever face it came from;
 * allocate/release change no configuration and go on (decisions.md D18). */
static int check_lock(struct netd *d, const struct ops_prep *p, struct ops_result *r)
{
	uint32_t holder = atomic_load(&d->nc_lock_sid);
	if (!holder || holder == p->session)
		return 0;
	if (p->is_rpc && strcmp(p->rpc, "netd:rename-node") && strcmp(p->rpc, "netd:propose-deployment"))
		return 0;
	return fail_status(r, 409, "in-use", NETD_EINUSE, NULL,
			   "the running configuration is locked by NETCONF session %u", (unsigned)holder);
}

int ops_run(struct netd *d, struct store_txn *t, struct ops_prep *p, uint64_t now, struct ops_result *r)
{
	if (check_lock(d, p, r) < 0)
		return r->err.code;
	return p->is_rpc ? rpc_run(d, t, p, now, r) : edit_run(d, t, p, now, r);
}

int ops_finish(struct netd *d, struct ops_prep *p, struct ops_result *r)
{
	if (!p->is_rpc || r->err.code || !p->n_out)
		return 0;
	ly_err_clean(d->ly, NULL);
	return rpc_output(d, p, r);
}

/* ------------------------------------------------------------------ NETCONF */

/* Which whole lists an edit-config needs: an operation other than merge or
 * none on a top-level container (or default-operation replace) acts on
 * every entry, so every entry is loaded. */
static void nc_whole_lists(const struct lyd_node *edit, enum ops_nc_defop defop, struct ops_prep *p)
{
	const struct lyd_node *top;
	if (defop == OPS_NC_REPLACE) {
		p->nets.all = p->nodes.all = true;
		p->docs = OPS_DOCS_ALL;
		return;
	}
	LY_LIST_FOR(edit, top) {
		enum nc_op op = nc_op_of(top, NCO_MERGE);
		if (!top->schema || op == NCO_MERGE || op == NCO_NONE)
			continue;   /* (a document is loaded whole anyway) */
		if (!strcmp(top->schema->name, "networks"))
			p->nets.all = true;
		else if (!strcmp(top->schema->name, "nodes"))
			p->nodes.all = true;
	}
}

int ops_nc_edit_prepare(struct netd *d, const char *config_xml, enum ops_nc_defop defop, struct ops_prep **out,
			struct ops_result *r)
{
	struct ops_prep *p = prep_new();
	const uint32_t popts = LYD_PARSE_STRICT | LYD_PARSE_ONLY | LYD_PARSE_NO_STATE;
	int rc;

	ly_err_clean(d->ly, NULL);
	if (!p || !(p->xpath = strdup(""))) {
		rc = fail_err(r, -ENOMEM);
		goto fail;
	}
	p->method = OPS_PATCH;   /* not a whole-target method: names come from the edit */
	p->nc_edit = true;
	p->nc_defop = defop;
	if (config_xml && config_xml[strspn(config_xml, " \t\r\n")] &&
	    lyd_parse_data_mem(d->ly, config_xml, LYD_XML, popts, 0, &p->edit) != LY_SUCCESS) {
		/* a deleted leaf may carry a value its type refuses ("" mostly):
		 * parse again keeping such leaves opaque, and report the first
		 * error unless that is all there is */
		rc = fail_ly(d, r);
		if (lyd_parse_data_mem(d->ly, config_xml, LYD_XML, popts | LYD_PARSE_OPAQ, 0, &p->edit) != LY_SUCCESS ||
		    !nc_opaq_ok(p->edit))
			goto fail;
		ops_result_clear(r);
	}
	if (!top_is_writable(p->edit)) {
		rc = fail_status(r, 400, "invalid-value", NETD_EINVAL, NULL, "%s",
				 "only netd configuration data can be edited");
		goto fail;
	}
	nc_whole_lists(p->edit, defop, p);
	if ((rc = collect_names(p->edit, &p->nets, &p->nodes, &p->docs)) < 0) {
		fail_err(r, rc);
		goto fail;
	}
	*out = p;
	return 0;
fail:
	ops_prep_free(p);
	return rc;
}

int ops_rpc_prepare_tree(struct netd *d, const struct lyd_node *rpc, struct ops_prep **out, struct ops_result *r)
{
	struct ops_prep *p = prep_new();
	if (!p)
		return fail_err(r, -ENOMEM);
	ly_err_clean(d->ly, NULL);
	p->is_rpc = true;
	if (!rpc->schema || rpc->schema->nodetype != LYS_RPC) {
		ops_prep_free(p);
		return fail_status(r, 404, "invalid-value", NETD_ENOTFOUND, NULL, "%s", "no such operation");
	}
	snprintf(p->rpc, sizeof p->rpc, "%s:%s", rpc->schema->module->name, rpc->schema->name);
	if (lyd_dup_single(rpc, NULL, LYD_DUP_RECURSIVE, &p->rpc_tree) != LY_SUCCESS ||
	    lyd_validate_op(p->rpc_tree, NULL, LYD_TYPE_RPC_YANG, NULL) != LY_SUCCESS) {
		int rc = fail_ly(d, r);
		ops_prep_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

size_t ops_rpc_outputs(const struct ops_prep *p, const char *const **names, const char *const **values)
{
	if (!p->is_rpc)
		return 0;
	*names = (const char *const *)p->out_names;
	*values = (const char *const *)p->out_values;
	return p->n_out;
}

void ops_prep_set_session(struct ops_prep *p, uint32_t sid)
{
	p->session = sid;
}
