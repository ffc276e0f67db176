/* netd/cdtd.c — conduits in the daemon (see cdtd.h).
 *
 * The conduits document becomes library records here (struct cdt_conduit,
 * struct cdt_bus_order) for its checks and for each node's resolution; a
 * node's plan is built from its record, its attached networks, its
 * addresses (ipam), its stored inventory and the roles the deployments give
 * it, by the library (cdt_conduit_pick, cdt_resolve, cdt_plan_build), and
 * handed out as the model's JSON (netd/cdtjson.h).
 *
 * The library names rules by position ("rule[2]") and the reference list
 * "if-list"; the model keys rules by name and calls the list "interface",
 * so library paths are rewritten before they reach a client.
 *
 * The annealer's conduits jig is at the end (see "the conduits jig"): its
 * requests are bound and answered inside the RPCs' transactions, its runs
 * finished after the commit.
 */
#include "netd/cdtd.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annealer/jig.h"
#include "conduits/conduits.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/text.h"
#include "netd/anneal.h"
#include "netd/cdtjson.h"
#include "netd/yangctx.h"
#include "netd/yangmap.h"

#define DOC_PATH "/netd:conduits"
#define CONFIRM_DEFAULT_S 60

static struct {
	bool open;
	store_tbl inv;      /* node -> {"netd:inventory":{...}} */
	store_tbl state;    /* node -> {"netd:conduit-state":{...}} */
	store_tbl want;     /* node -> the conduits jig's request (see "the conduits jig") */
} T;

static int jig_start_service(struct netd *d, struct netd_err *e);

int cdtd_start(struct netd *d, struct netd_err *e)
{
	int rc;
	if ((rc = store_table(d->store, "cdt_inv", &T.inv)) < 0 || (rc = store_table(d->store, "cdt_state", &T.state)) < 0 ||
	    (rc = store_table(d->store, "cdt_want", &T.want)) < 0)
		return netd_err_set(e, rc, NULL, "conduits: store tables: %s", netd_strerror(rc));
	T.open = true;
	return jig_start_service(d, e);
}

/* ------------------------------------------------------------- helpers */

static int fail_oom(struct ops_result *r)
{
	return ops_fail(r, 500, "operation-failed", -ENOMEM, NULL, "%s", "out of memory");
}

/* An error of a library or helper in @e into @r: 400 invalid-value for the
 * data's faults, 500 for the rest. */
static int fail_e(struct ops_result *r, const struct netd_err *e, int rc)
{
	int code = e->code ? e->code : rc;
	const char *msg = e->msg[0] ? e->msg : netd_strerror(code);
	if (code == -ENOMEM)
		return fail_oom(r);
	if (code == NETD_EINVAL || code == NETD_ENOTFOUND || code == NETD_EEXIST || code == NETD_EINUSE ||
	    code == NETD_ETOOBIG)
		return ops_fail(r, code == NETD_ETOOBIG ? 413 : 400, code == NETD_ETOOBIG ? "too-big" : "invalid-value",
				code, e->path[0] ? e->path : NULL, "%s", msg);
	return ops_fail(r, 500, "operation-failed", code, e->path[0] ? e->path : NULL, "%s", msg);
}

/* "node N: <what><message>" (cut to fit). */
static void msg_prefix(struct netd_err *e, const char *node, const char *what)
{
	char msg[NETD_ERR_MSG_MAX];
	memcpy(msg, e->msg, sizeof msg);
	if ((size_t)snprintf(e->msg, sizeof e->msg, "node %s: %s%s", node, what, msg) >= sizeof e->msg)
		e->msg[sizeof e->msg - 1] = '\0';
}

static bool node_exists(struct netd *d, struct store_txn *t, const char *node)
{
	struct store_val v;
	return store_get(t, d->mt.node, node, strlen(node), &v) == 0;
}

static int node_missing(struct ops_result *r, const char *rpc, const char *node)
{
	char path[128];
	snprintf(path, sizeof path, "/netd:%s/node", rpc);
	return ops_fail(r, 404, "invalid-value", NETD_ENOTFOUND, path, "no node named '%s'", node);
}

/* The stored JSON of @node in @tbl as a heap string (NULL when none). */
static int json_get(struct store_txn *t, store_tbl tbl, const char *node, char **out)
{
	struct store_val v;
	*out = NULL;
	int rc = store_get(t, tbl, node, strlen(node), &v);
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (!(*out = strndup(v.p, v.n)))
		return -ENOMEM;
	return 0;
}

/* Parse stored @json under @entry (a node list entry). */
static int json_under(struct lyd_node *entry, const char *json)
{
	struct ly_in *in = NULL;
	if (ly_in_new_memory(json, &in) != LY_SUCCESS)
		return -ENOMEM;
	LY_ERR lr = lyd_parse_data(LYD_CTX(entry), entry, in, LYD_JSON, LYD_PARSE_ONLY | LYD_PARSE_STRICT, 0, NULL);
	ly_in_free(in, 0);
	return lr == LY_SUCCESS ? 0 : NETD_ECORRUPT;
}

int cdtd_node_state(struct netd *d, struct store_txn *t, struct lyd_node *entry, const char *node)
{
	const store_tbl tbls[2] = { T.inv, T.state };
	if (!T.open)
		return 0;
	for (int i = 0; i < 2; i++) {
		char *json = NULL;
		int rc = json_get(t, tbls[i], node, &json);
		if (rc == 0 && json && (rc = json_under(entry, json)) == NETD_ECORRUPT)
			log_err("store: node %s: the stored %s does not parse; not shown", node,
				i ? "conduit-state" : "inventory");
		free(json);
		if (rc < 0 && rc != NETD_ECORRUPT)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------- the conduits document */

struct conf {
	uint8_t mode;                       /* enum cdt_mode */
	const char *mgmt_net;               /* NULL = none */
	uint32_t confirm_timeout;
	bool self_confirm;
	struct cdt_conduit *cs;
	char (**rules)[MODEL_NAME_MAX];     /* per conduit: its rules' names */
	size_t n_cs;
	struct cdt_bus_order *bo;
	const char ***bo_prefixes;          /* per entry, owned arrays of pointers into the tree */
	size_t n_bo;
	struct lyd_node *owned;             /* the document tree, when loaded here */
};

static void conf_clear(struct conf *c)
{
	for (size_t i = 0; i < c->n_cs; i++) {
		cdt_conduit_clear(&c->cs[i]);
		free(c->rules[i]);
	}
	for (size_t i = 0; i < c->n_bo; i++)
		free(c->bo_prefixes[i]);
	free(c->cs);
	free(c->rules);
	free(c->bo);
	free(c->bo_prefixes);
	lyd_free_all(c->owned);
	memset(c, 0, sizeof *c);
}

static size_t count_children(const struct lyd_node *n, const char *name)
{
	size_t k = 0;
	const struct lyd_node *c;
	LY_LIST_FOR(n ? lyd_child(n) : NULL, c)
		k += !strcmp(yc_schema_name(c), name);
	return k;
}

/* "/netd:conduits/conduit[name='x']/rule[2]/if-list[.='3g1']" ->
 * ".../rule[name='r2']/interface[.='3g1']", with the rule names of the
 * conduit the path names (looked up in @c) or @names. */
static void fix_path(struct netd_err *e, const struct conf *c, char (*names)[MODEL_NAME_MAX], size_t n_names)
{
	char out[NETD_ERR_PATH_MAX * 2], key[MODEL_NAME_MAX + 8];
	const char *p = e->path, *r = strstr(p, "/rule["), *cn = strstr(p, "conduit[name=");
	if (!names && c && cn) {
		char q = cn[13], name[CDT_NAME_MAX] = "";
		const char *end = strchr(cn + 14, q);
		if (end && (size_t)(end - cn - 14) < sizeof name)
			snprintf(name, sizeof name, "%.*s", (int)(end - cn - 14), cn + 14);
		for (size_t i = 0; i < c->n_cs; i++) {
			if (!strcmp(c->cs[i].name, name)) {
				names = c->rules[i];
				n_names = c->cs[i].n_rules;
			}
		}
	}
	if (!r || !isdigit((unsigned char)r[6]))
		return;
	char *end = NULL;
	unsigned long k = strtoul(r + 6, &end, 10);
	if (!end || *end != ']' || !names || k < 1 || k > n_names)
		return;
	const char *rest = end + 1;
	const char *il = strstr(rest, "/if-list[");
	if (il)
		snprintf(out, sizeof out, "%.*s/rule[name=%s]%.*s/interface[%s", (int)(r - p), p,
			 netd_path_key(names[k - 1], key, sizeof key), (int)(il - rest), rest, il + 9);
	else
		snprintf(out, sizeof out, "%.*s/rule[name=%s]%s", (int)(r - p), p,
			 netd_path_key(names[k - 1], key, sizeof key), rest);
	if ((size_t)snprintf(e->path, sizeof e->path, "%s", out) >= sizeof e->path)
		e->path[sizeof e->path - 1] = '\0';
}

/* One rule entry -> a spec; @refs receives pointers into the tree. */
static int rule_spec(const struct lyd_node *rule, struct cdt_rule_spec *s, const char ***refs, struct netd_err *e)
{
	const char *mode = yc_leaf(rule, "mode"), *tm = yc_leaf(rule, "team-mode");
	size_t n = count_children(rule, "interface"), k = 0;
	const struct lyd_node *c;
	memset(s, 0, sizeof *s);
	if (!mode || !strcmp(mode, "any"))
		s->mode = CDT_MODE_ANY;
	else if (cdt_mode_parse(mode, &s->mode) < 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "rule %s: mode %s", yc_leaf(rule, "name"), mode);
	const char *cnt = yc_leaf(rule, "nic-count");
	s->nic_count = cnt ? (uint32_t)strtoul(cnt, NULL, 10) : 0;
	s->roles = yc_leaf(rule, "role-regex");
	*refs = calloc(n ? n : 1, sizeof **refs);
	if (!*refs)
		return -ENOMEM;
	LY_LIST_FOR(lyd_child(rule), c)
		if (!strcmp(yc_schema_name(c), "interface"))
			(*refs)[k++] = lyd_get_value(c);
	s->refs = *refs;
	s->n_refs = k;
	s->team = tm != NULL;
	if (tm && model_team_mode_parse(tm, &s->team_mode) < 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "rule %s: team mode %s", yc_leaf(rule, "name"), tm);
	return 0;
}

/* Conduit list entry @ent -> c->cs[c->n_cs] (built and checked). */
static int conduit_add(struct conf *c, const struct lyd_node *ent, struct netd_err *e)
{
	size_t n = count_children(ent, "rule"), k = 0;
	struct cdt_rule_spec *specs = calloc(n ? n : 1, sizeof *specs);
	const char ***refs = calloc(n ? n : 1, sizeof *refs);
	char (*names)[MODEL_NAME_MAX] = calloc(n ? n : 1, sizeof *names);
	const struct lyd_node *rule;
	int rc = specs && refs && names ? 0 : -ENOMEM;
	LY_LIST_FOR(lyd_child(ent), rule) {
		if (rc < 0 || strcmp(yc_schema_name(rule), "rule"))
			continue;
		snprintf(names[k], sizeof names[k], "%s", yc_leaf(rule, "name") ? yc_leaf(rule, "name") : "");
		rc = rule_spec(rule, &specs[k], &refs[k], e);
		k++;
	}
	struct cdt_conduit *cd = &c->cs[c->n_cs];
	if (rc == 0 && (rc = cdt_conduit_build(yc_leaf(ent, "name"), specs, k, cd, e)) == 0) {
		c->rules[c->n_cs++] = names;
		names = NULL;
		if ((rc = cdt_conduit_check(cd, e)) < 0)
			fix_path(e, c, NULL, 0);
	} else if (rc < 0 && names) {
		fix_path(e, NULL, names, k);
	}
	for (size_t i = 0; refs && i < k; i++)
		free(refs[i]);
	free(refs);
	free(specs);
	free(names);
	return rc;
}

static int bus_order_add(struct conf *c, const struct lyd_node *ent, struct netd_err *e)
{
	size_t n = count_children(ent, "bus-prefix"), k = 0;
	const char **v = calloc(n ? n : 1, sizeof *v);
	const struct lyd_node *x;
	const struct cdt_bus_order *picked = NULL;
	if (!v)
		return -ENOMEM;
	LY_LIST_FOR(lyd_child(ent), x)
		if (!strcmp(yc_schema_name(x), "bus-prefix"))
			v[k++] = lyd_get_value(x);
	struct cdt_bus_order *b = &c->bo[c->n_bo];
	*b = (struct cdt_bus_order){ .product = yc_leaf(ent, "product"), .prefixes = v, .n_prefixes = k };
	c->bo_prefixes[c->n_bo++] = v;
	/* compile its regex now: a name no product has ("\x01") matches nothing */
	int rc = cdt_bus_order_pick(b, 1, "\x01", &picked, e);
	if (rc < 0) {
		char key[300];
		snprintf(e->path, sizeof e->path, DOC_PATH "/bus-order[product=%s]/product",
			 netd_path_key(b->product, key, sizeof key));
	}
	return rc;
}

/* The document @top into @c (borrowing @top's strings). */
static int conf_from_lyd(const struct lyd_node *top, struct conf *c, struct netd_err *e)
{
	const struct lyd_node *x;
	const char *mode = yc_leaf(top, "mode");
	size_t ncs = count_children(top, "conduit"), nbo = count_children(top, "bus-order");
	memset(c, 0, sizeof *c);
	c->mode = CDT_MODE_SINGLE;
	if (mode && cdt_mode_parse(mode, &c->mode) < 0)
		return netd_err_set(e, NETD_EINVAL, DOC_PATH "/mode", "mode %s", mode);
	c->mgmt_net = yc_leaf(top, "management-network");
	const struct lyd_node *cc = yc_child(top, "commit-confirm");
	const char *to = yc_leaf(cc, "timeout"), *sc = yc_leaf(cc, "self-confirm");
	c->confirm_timeout = to ? (uint32_t)strtoul(to, NULL, 10) : CONFIRM_DEFAULT_S;
	c->self_confirm = !sc || !strcmp(sc, "true");
	c->cs = calloc(ncs ? ncs : 1, sizeof *c->cs);
	c->rules = calloc(ncs ? ncs : 1, sizeof *c->rules);
	c->bo = calloc(nbo ? nbo : 1, sizeof *c->bo);
	c->bo_prefixes = calloc(nbo ? nbo : 1, sizeof *c->bo_prefixes);
	if (!c->cs || !c->rules || !c->bo || !c->bo_prefixes)
		return netd_err_set(e, -ENOMEM, NULL, "%s", "out of memory");
	int rc = 0;
	LY_LIST_FOR(lyd_child(top), x) {
		if (rc == 0 && !strcmp(yc_schema_name(x), "conduit"))
			rc = conduit_add(c, x, e);
		else if (rc == 0 && !strcmp(yc_schema_name(x), "bus-order"))
			rc = bus_order_add(c, x, e);
	}
	return rc;
}

/* Load the stored document (c->owned); *@have false when there is none. */
static int conf_load(struct netd *d, struct store_txn *t, struct conf *c, bool *have, struct netd_err *e)
{
	struct lyd_node *top = NULL;
	memset(c, 0, sizeof *c);
	*have = false;
	int rc = ops_doc_load(d, t, OPS_DOC_CONDUITS, &top);
	if (rc < 0)
		return netd_err_set(e, rc, DOC_PATH, "the stored conduits document: %s", netd_strerror(rc));
	if (!top)
		return 0;
	rc = conf_from_lyd(top, c, e);
	c->owned = top;
	*have = rc == 0;
	return rc;
}

static const struct cdt_conduit *conf_conduit(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_cs; i++)
		if (!strcmp(c->cs[i].name, name))
			return &c->cs[i];
	return NULL;
}

/* Conduit names the networks use, each once. */
struct used {
	char (*v)[MODEL_NAME_MAX];
	size_t n, cap;
};

static int used_cb(const struct model_network *n, void *arg)
{
	struct used *u = arg;
	if (!n->conduit[0])
		return 0;
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->v[i], n->conduit))
			return 0;
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 8;
		void *v = realloc(u->v, cap * sizeof *u->v);
		if (!v)
			return -ENOMEM;
		u->v = v;
		u->cap = cap;
	}
	snprintf(u->v[u->n++], MODEL_NAME_MAX, "%s", n->conduit);
	return 0;
}

/* The conduits networks use must be equal or disjoint (as written). */
static int check_disjoint(struct netd *d, struct store_txn *t, const struct conf *c, struct netd_err *e)
{
	struct used u = { 0 };
	const struct cdt_conduit **cs = calloc(c->n_cs ? c->n_cs : 1, sizeof *cs);
	size_t n = 0;
	int rc = cs ? model_network_each(&d->mt, t, NULL, used_cb, &u) : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < u.n; i++) {
		const struct cdt_conduit *cd = conf_conduit(c, u.v[i]);
		if (cd)
			cs[n++] = cd;
	}
	if (rc == 0 && (rc = cdt_conduits_disjoint_check(cs, n, e)) < 0)
		fix_path(e, c, NULL, 0);
	else if (rc < 0 && !e->code)
		netd_err_set(e, rc, NULL, "networks: %s", netd_strerror(rc));
	free(u.v);
	free(cs);
	return rc;
}

int cdtd_doc_check(struct netd *d, struct store_txn *t, const struct lyd_node *top, struct ops_result *r)
{
	struct conf c;
	struct netd_err e = { 0 };
	if (!top)
		return 0;
	int rc = conf_from_lyd(top, &c, &e);
	if (rc == 0 && c.mgmt_net) {
		struct model_network n = { 0 };
		rc = model_network_get(&d->mt, t, c.mgmt_net, &n);
		model_network_clear(&n);
		if (rc == NETD_ENOTFOUND)
			rc = netd_err_set(&e, NETD_EINVAL, DOC_PATH "/management-network", "no network named '%s'",
					  c.mgmt_net);
	}
	if (rc == 0)
		rc = check_disjoint(d, t, &c, &e);
	conf_clear(&c);
	return rc < 0 ? fail_e(r, &e, rc) : 0;
}

/* ----------------------------------------------------------- after edits */

static int move_record(struct store_txn *t, store_tbl tbl, const char *from, const char *to)
{
	struct store_val v;
	int rc = store_get(t, tbl, from, strlen(from), &v);
	if (rc == NETD_ENOTFOUND)
		return 0;
	char *copy = rc == 0 ? malloc(v.n ? v.n : 1) : NULL;
	if (rc == 0 && !copy)
		return -ENOMEM;
	if (rc == 0) {
		memcpy(copy, v.p, v.n);
		rc = store_put(t, tbl, to, strlen(to), copy, v.n);
	}
	free(copy);
	return rc < 0 ? rc : store_del(t, tbl, from, strlen(from));
}

static int drop_record(struct store_txn *t, store_tbl tbl, const char *node)
{
	int rc = store_del(t, tbl, node, strlen(node));
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

int cdtd_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now,
	     struct ops_result *r)
{
	int rc = 0;
	if (!T.open)
		return 0;
	if (tc->n_nets || (tc->flags & OPS_T_NETWORKS_ALL)) {
		struct conf c;
		struct netd_err e = { 0 };
		bool have = false;
		rc = conf_load(d, t, &c, &have, &e);
		if (rc == 0 && have)
			rc = check_disjoint(d, t, &c, &e);
		conf_clear(&c);
		if (rc < 0)
			return fail_e(r, &e, rc);
	}
	if ((tc->flags & OPS_T_RENAME) && tc->n_nodes >= 2) {
		const store_tbl tbls[3] = { T.inv, T.state, T.want };
		for (int i = 0; i < 3 && rc == 0; i++)
			rc = move_record(t, tbls[i], tc->nodes[0], tc->nodes[1]);
	}
	for (size_t i = 0; i < tc->n_nodes && rc == 0; i++) {
		if (node_exists(d, t, tc->nodes[i]))
			continue;
		rc = drop_record(t, T.inv, tc->nodes[i]);
		rc = rc ? rc : drop_record(t, T.state, tc->nodes[i]);
		rc = rc ? rc : drop_record(t, T.want, tc->nodes[i]);
	}
	if (rc < 0)
		return ops_fail(r, 500, "operation-failed", rc, NULL, "conduit records: %s", netd_strerror(rc));
	return 0;
}

/* ------------------------------------------------------------ node state */

/* A node's conduit-state as a tree to edit. */
struct nstate {
	struct lyd_node *tree;   /* /netd:nodes/node[name=...] */
	struct lyd_node *st;     /* its conduit-state */
};

static void nstate_free(struct nstate *s)
{
	lyd_free_all(s->tree);
	memset(s, 0, sizeof *s);
}

static int nstate_load(struct netd *d, struct store_txn *t, const char *node, struct nstate *s)
{
	char path[NETD_ERR_PATH_MAX], key[MODEL_NAME_MAX + 8], *json = NULL;
	struct lyd_node *entry = NULL;
	memset(s, 0, sizeof *s);
	snprintf(path, sizeof path, "/netd:nodes/node[name=%s]", netd_path_key(node, key, sizeof key));
	if (lyd_new_path(NULL, d->ly, path, NULL, 0, &s->tree) != LY_SUCCESS ||
	    lyd_find_path(s->tree, path, 0, &entry) != LY_SUCCESS)
		return yc_err(d->ly, NETD_EINVAL, NULL);
	int rc = json_get(t, T.state, node, &json);
	if (rc == 0 && json && json_under(entry, json) < 0)
		log_err("store: node %s: the stored conduit-state does not parse; starting afresh", node);
	free(json);
	if (rc == 0 && !(s->st = yc_child(entry, "conduit-state")) &&
	    lyd_new_inner(entry, NULL, "conduit-state", 0, &s->st) != LY_SUCCESS)
		rc = yc_err(d->ly, NETD_EINVAL, NULL);
	if (rc < 0)
		nstate_free(s);
	return rc;
}

static int nstate_save(struct store_txn *t, const char *node, const struct nstate *s)
{
	char *json = NULL;
	if (lyd_print_mem(&json, s->st, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS || !json) {
		free(json);
		return -ENOMEM;
	}
	int rc = store_put(t, T.state, node, strlen(node), json, strlen(json));
	free(json);
	return rc;
}

/* Set (or, @val NULL, remove) @path under @parent. */
static int set(struct lyd_node *parent, const char *path, const char *val)
{
	struct lyd_node *n = NULL;
	if (!val) {
		if (lyd_find_path(parent, path, 0, &n) == LY_SUCCESS && n)
			lyd_free_tree(n);
		return 0;
	}
	return lyd_new_path(parent, NULL, path, val, LYD_NEW_PATH_UPDATE, NULL) == LY_SUCCESS ? 0 : NETD_EINVAL;
}

static int set_u(struct lyd_node *parent, const char *path, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
	return set(parent, path, buf);
}

static void drop_child(struct lyd_node *parent, const char *name)
{
	struct lyd_node *c = yc_child(parent, name);
	if (c)
		lyd_free_tree(c);
}

/* ------------------------------------------------ a node, resolved */

struct nctx {
	const char *node;
	struct model_node rec;
	struct cdtj_inventory inv;
	struct conf conf;
	struct lyd_node *deps;              /* deployments document (roles) */
	const char **roles;
	size_t n_roles;
	struct model_network *nets;         /* the networks the node is attached to */
	size_t n_nets;
	bool *placed;                       /* per network: its conduit is defined */
	const struct cdt_bus_order *bo;
	struct cdt_resolution *res;         /* per conduit in use */
	struct cdt_plan_conduit *pcs;
	size_t n_res;
	struct text why;                    /* the explanation */
};

static void nctx_free(struct nctx *x)
{
	model_node_clear(&x->rec);
	cdtj_inventory_clear(&x->inv);
	conf_clear(&x->conf);
	lyd_free_all(x->deps);
	free(x->roles);
	for (size_t i = 0; i < x->n_nets; i++)
		model_network_clear(&x->nets[i]);
	free(x->nets);
	free(x->placed);
	free(x->res);
	free(x->pcs);
	free(x->why.s);
	memset(x, 0, sizeof *x);
}

/* The roles deployments give @x->node. */
static int load_roles(struct netd *d, struct store_txn *t, struct nctx *x)
{
	const struct lyd_node *dep, *c;
	int rc = ops_doc_load(d, t, OPS_DOC_DEPLOYMENTS, &x->deps);
	if (rc < 0 || !x->deps)
		return rc;
	size_t cap = 0;
	LY_LIST_FOR(lyd_child(x->deps), dep)
		cap += count_children(dep, "role");
	if (!(x->roles = calloc(cap ? cap : 1, sizeof *x->roles)))
		return -ENOMEM;
	LY_LIST_FOR(lyd_child(x->deps), dep) {
		bool mine = false;
		LY_LIST_FOR(lyd_child(dep), c)
			mine |= !strcmp(yc_schema_name(c), "node") && !strcmp(lyd_get_value(c), x->node);
		LY_LIST_FOR(mine ? lyd_child(dep) : NULL, c) {
			if (strcmp(yc_schema_name(c), "role"))
				continue;
			bool dup = false;
			for (size_t i = 0; i < x->n_roles; i++)
				dup |= !strcmp(x->roles[i], lyd_get_value(c));
			if (!dup)
				x->roles[x->n_roles++] = lyd_get_value(c);
		}
	}
	return 0;
}

static int load_nets(struct netd *d, struct store_txn *t, struct nctx *x)
{
	x->nets = calloc(x->rec.n_nets ? x->rec.n_nets : 1, sizeof *x->nets);
	x->placed = calloc(x->rec.n_nets ? x->rec.n_nets : 1, sizeof *x->placed);
	if (!x->nets || !x->placed)
		return -ENOMEM;
	for (size_t i = 0; i < x->rec.n_nets; i++) {
		int rc = model_network_get(&d->mt, t, x->rec.nets[i].network, &x->nets[i]);
		if (rc < 0)
			return rc;
		x->n_nets++;
	}
	return 0;
}

/* Node record, inventory, conduits, roles, networks.  Problems with the
 * data (no inventory, no conduits) are errors in @e (code NETD_ENOTFOUND). */
static int nctx_load(struct netd *d, struct store_txn *t, const char *node, struct nctx *x, struct netd_err *e)
{
	char *json = NULL, where[NETD_ERR_PATH_MAX], key[MODEL_NAME_MAX + 8];
	bool have = false;
	memset(x, 0, sizeof *x);
	x->node = node;
	int rc = model_node_get(&d->mt, t, node, &x->rec);
	if (rc < 0)
		return rc == NETD_ENOTFOUND ? netd_err_set(e, rc, NULL, "no node named '%s'", node) : rc;
	snprintf(where, sizeof where, "/netd:nodes/node[name=%s]/inventory", netd_path_key(node, key, sizeof key));
	if ((rc = json_get(t, T.inv, node, &json)) < 0)
		return rc;
	if (!json)
		return netd_err_set(e, NETD_ENOTFOUND, where,
				    "node %s has no NIC inventory: run netd --agent on it, or netctl node inventory %s "
				    "--file F", node, node);
	rc = cdtj_inventory_parse(d->ly, json, 0, where, &x->inv, e);
	free(json);
	if (rc < 0)
		return rc;
	if ((rc = conf_load(d, t, &x->conf, &have, e)) < 0)
		return rc;
	if (!have)
		return netd_err_set(e, NETD_ENOTFOUND, DOC_PATH, "node %s: no conduits are configured (%s)", node,
				    DOC_PATH);
	if ((rc = load_roles(d, t, x)) < 0 || (rc = load_nets(d, t, x)) < 0)
		return rc;
	rc = cdt_bus_order_pick(x->conf.bo, x->conf.n_bo, x->inv.product, &x->bo, e);
	return rc;
}

static void explain_head(struct nctx *x)
{
	struct text *w = &x->why;
	size_t *order = calloc(x->inv.n ? x->inv.n : 1, sizeof *order);
	char sp[16];
	text_add(w, "node %s: mode %s, %zu NICs in bus order%s", x->node, cdt_mode_name(x->conf.mode), x->inv.n,
		 x->inv.n ? ":" : "");
	if (order) {
		cdt_nic_order(x->inv.nics, x->inv.n, x->bo, order);
		for (size_t i = 0; i < x->inv.n; i++) {
			const struct cdt_nic *n = &x->inv.nics[order[i]];
			text_add(w, "%s %s (%s%s%s)", i ? "," : "", n->name, cdt_speed_print(n->speed_class, sp, sizeof sp),
				 n->pci[0] ? ", " : "", n->pci);
		}
	}
	free(order);
	text_add(w, "\n  product %s, %s\n  roles:", x->inv.product[0] ? x->inv.product : "unknown",
		 x->bo ? "bus order from the map for that product" : "natural PCI bus order");
	for (size_t i = 0; i < x->n_roles; i++)
		text_add(w, " %s", x->roles[i]);
	text_add(w, "%s\n", x->n_roles ? "" : " none");
}

/* Networks of @x on conduit @name, comma-separated, into @w. */
static void explain_nets(struct nctx *x, const char *name)
{
	bool first = true;
	for (size_t i = 0; i < x->n_nets; i++) {
		if (strcmp(x->nets[i].conduit, name))
			continue;
		text_add(&x->why, "%s%s", first ? "" : ", ", x->nets[i].name);
		first = false;
	}
}

/* The index of @rule in @cd, for its name. */
static size_t rule_index(const struct cdt_conduit *cd, const struct cdt_rule *rule)
{
	return (size_t)(rule - cd->rules);
}

/* Resolve one conduit: pick its rule, resolve its references. */
static int resolve_one(struct nctx *x, const char *name, struct netd_err *e)
{
	const struct cdt_conduit *cd = conf_conduit(&x->conf, name);
	size_t ci = (size_t)(cd - x->conf.cs);
	const struct cdt_rule *rule = NULL;
	char pat[CDT_REGEX_MAX + 32];
	struct cdt_resolution *res = &x->res[x->n_res];
	text_add(&x->why, "conduit %s (", name);
	explain_nets(x, name);
	text_add(&x->why, "): ");
	int rc = cdt_conduit_pick(cd, x->conf.mode, (uint32_t)x->inv.n, x->roles, x->n_roles, &rule, e);
	if (rc < 0) {
		text_add(&x->why, "no rule matches\n");
		return rc;
	}
	text_add(&x->why, "rule %s (%s)\n", x->conf.rules[ci][rule_index(cd, rule)],
		 cdt_rule_pattern(rule, pat, sizeof pat));
	if (rule->team)
		text_add(&x->why, "  team: bond in mode %s\n", model_team_mode_name(rule->team_mode));
	rc = cdt_resolve(name, x->inv.nics, x->inv.n, rule->refs, rule->n_refs, x->bo, res, e);
	if (rc < 0) {
		fix_path(e, &x->conf, NULL, 0);
		text_add(&x->why, "  %s\n", e->msg);
		return rc;
	}
	for (size_t i = 0; i < res->n; i++)
		text_add(&x->why, "  %s%s\n", res->picks[i].why,
			 res->picks[i].how == CDT_PICK_ASKED ? "" : " [fallback]");
	rc = cdt_plan_conduit_from(res, rule, x->inv.nics, x->inv.n, &x->pcs[x->n_res]);
	if (rc == 0)
		x->n_res++;
	return rc;
}

/* Every conduit the node's networks ride, resolved; the explanation in
 * x->why.  Errors in @e, prefixed with the node. */
static int nctx_resolve(struct nctx *x, struct netd_err *e)
{
	x->res = calloc(x->n_nets ? x->n_nets : 1, sizeof *x->res);
	x->pcs = calloc(x->n_nets ? x->n_nets : 1, sizeof *x->pcs);
	if (!x->res || !x->pcs)
		return -ENOMEM;
	explain_head(x);
	int rc = 0;
	for (size_t i = 0; i < x->n_nets && rc == 0; i++) {
		const char *cn = x->nets[i].conduit;
		bool seen = false;
		for (size_t k = 0; k < x->n_res; k++)
			seen |= !strcmp(x->pcs[k].name, cn);
		x->placed[i] = cn[0] && conf_conduit(&x->conf, cn);
		if (!cn[0])
			text_add(&x->why, "network %s: no conduit; not placed on the node\n", x->nets[i].name);
		else if (!x->placed[i])
			text_add(&x->why, "network %s: conduit %s is not defined in " DOC_PATH "; not placed on the node\n",
				 x->nets[i].name, cn);
		else if (!seen)
			rc = resolve_one(x, cn, e);
	}
	if (rc == 0 && (rc = cdt_resolutions_disjoint_check(x->res, x->n_res, x->inv.nics, x->inv.n, e)) < 0)
		text_add(&x->why, "%s\n", e->msg);
	if (rc < 0 && e->code) {
		if (strncmp(e->msg, "node ", 5))
			msg_prefix(e, x->node, "");
	}
	return x->why.oom ? -ENOMEM : rc;
}

/* The conduits jig's side of the RPCs (below). */
static int want_bind(struct store_txn *t, const char *node, uint64_t gen);
static int want_answer(struct store_txn *t, const char *node, const char *result, uint64_t gen, const char *changes,
		       const char *error);
static void jig_plan_failed(const char *node);

/* ---------------------------------------------------------------- RPCs */

static int rpc_report_inventory(struct netd *d, struct store_txn *t, struct ops_prep *p, const struct lyd_node *rpc,
				uint64_t now, struct ops_result *r)
{
	const char *node = ops_rpc_leaf(rpc, "node"), *json = ops_rpc_leaf(rpc, "inventory");
	char where[NETD_ERR_PATH_MAX], key[MODEL_NAME_MAX + 8], num[24], *out = NULL;
	struct cdtj_inventory inv = { 0 };
	struct netd_err e = { 0 };
	if (!node_exists(d, t, node))
		return node_missing(r, "report-inventory", node);
	snprintf(where, sizeof where, "/netd:nodes/node[name=%s]/inventory", netd_path_key(node, key, sizeof key));
	int rc = cdtj_inventory_parse(d->ly, json, 0, where, &inv, &e);
	if (rc < 0) {
		msg_prefix(&e, node, "inventory: ");
		if (!e.path[0])
			snprintf(e.path, sizeof e.path, "/netd:report-inventory/inventory");
		return fail_e(r, &e, rc);
	}
	inv.reported_at = now;
	if ((rc = cdtj_inventory_print(d->ly, &inv, &out, &e)) == 0)
		rc = store_put(t, T.inv, node, strlen(node), out, strlen(out));
	size_t n = inv.n;
	snprintf(num, sizeof num, "%zu", n);
	rc = rc ? rc : ops_rpc_set_output(p, "nics", num);
	free(out);
	cdtj_inventory_clear(&inv);
	if (rc < 0)
		return fail_e(r, &e, rc);
	log_info("node %s: inventory of %zu NICs stored", node, n);
	r->status = 200;
	return 0;
}

static int rpc_resolve(struct netd *d, struct store_txn *t, struct ops_prep *p, const struct lyd_node *rpc,
		       struct ops_result *r)
{
	const char *node = ops_rpc_leaf(rpc, "node");
	struct nctx x;
	struct netd_err e = { 0 };
	if (!node_exists(d, t, node))
		return node_missing(r, "conduit-resolve", node);
	int rc = nctx_load(d, t, node, &x, &e);
	if (rc == 0)
		rc = nctx_resolve(&x, &e);
	if (rc == -ENOMEM || (rc < 0 && !e.code)) {   /* not the data's fault */
		nctx_free(&x);
		return rc == -ENOMEM ? fail_oom(r) : fail_e(r, &e, rc);
	}
	rc = x.why.s ? ops_rpc_set_output(p, "explanation", x.why.s) : 0;
	if (rc == 0 && e.code)
		rc = ops_rpc_set_output(p, "error", e.msg);
	nctx_free(&x);
	if (rc < 0)
		return fail_oom(r);
	r->status = 200;
	return 0;
}

/* The node's address on @net (IPv4 first), if it has one. */
static bool node_addr_on(struct netd *d, struct store_txn *t, const char *node, const char *net, struct addr *out)
{
	static const int fams[] = { ADDR_V4, ADDR_V6 };
	for (size_t f = 0; f < 2; f++) {
		struct model_alloc a;
		if (model_alloc_by_owner(&d->mt, t, OWNER_NODE, node, net, fams[f], &a) == 0 && a.state == ALLOC_ACTIVE) {
			*out = a.addr;
			return true;
		}
	}
	return false;
}

/* The plan of a resolved node. */
static int build_plan(struct netd *d, struct store_txn *t, struct nctx *x, struct cdt_plan *plan, struct netd_err *e)
{
	struct model_network *nets = calloc(x->n_nets ? x->n_nets : 1, sizeof *nets);
	struct cdt_plan_addr *addrs = calloc(x->n_nets * 2 + 1, sizeof *addrs);
	size_t nn = 0, na = 0;
	int rc = nets && addrs ? 0 : -ENOMEM;
	for (size_t i = 0; i < x->n_nets && rc == 0; i++) {
		static const int fams[] = { ADDR_V4, ADDR_V6 };
		if (!x->placed[i])
			continue;
		nets[nn++] = x->nets[i];   /* shallow: x keeps ownership */
		for (size_t f = 0; f < 2; f++) {
			struct model_alloc a;
			int arc = model_alloc_by_owner(&d->mt, t, OWNER_NODE, x->node, x->nets[i].name, fams[f], &a);
			if (arc == 0 && a.state == ALLOC_ACTIVE)
				addrs[na++] = (struct cdt_plan_addr){ .network = x->nets[i].name, .a = a.addr };
			else if (arc < 0 && arc != NETD_ENOTFOUND)
				rc = arc;
		}
	}
	struct cdt_plan_input in = {
		.node = x->node, .conduits = x->pcs, .n_conduits = x->n_res, .nets = nets, .n_nets = nn,
		.addrs = addrs, .n_addrs = na,
	};
	if (rc == 0)
		rc = cdt_plan_build(&in, plan, e);
	free(nets);
	free(addrs);
	return rc;
}

/* Printed plan of @st (the stored one), NULL when none. */
static char *stored_plan(const struct nstate *s)
{
	char *json = NULL;
	struct lyd_node *pl = yc_child(s->st, "plan");
	if (pl && lyd_print_mem(&json, pl, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS) {
		free(json);
		json = NULL;
	}
	return json;
}

/* Keep @plan as the node's current one: a new generation if it differs. */
static int remember_plan(struct netd *d, struct store_txn *t, const char *node, const struct cdt_plan *plan,
			 const struct cdtj_meta *m, const char *json, uint64_t now, uint64_t *gen, struct netd_err *e)
{
	struct nstate s;
	char when[64], mg[ADDR_STRLEN];
	int rc = nstate_load(d, t, node, &s);
	if (rc < 0)
		return rc;
	char *old = stored_plan(&s);
	const char *g = yc_leaf(s.st, "plan-generation");
	*gen = g ? strtoull(g, NULL, 10) : 0;
	if (!old || strcmp(old, json) || !g) {
		(*gen)++;
		drop_child(s.st, "plan");
		rc = cdtj_plan_to_lyd(s.st, plan, m, NULL, e);
		rc = rc ? rc : set_u(s.st, "plan-generation", *gen);
		rc = rc ? rc : set(s.st, "planned-at", ym_time_print(now, when, sizeof when));
		rc = rc ? rc : set(s.st, "management-address", m->has_mgmt ? addr_print(&m->mgmt, mg, sizeof mg) : NULL);
		rc = rc ? rc : nstate_save(t, node, &s);
		if (rc == 0)
			log_info("node %s: conduit plan generation %llu (%zu devices, %zu addresses, %zu routes)", node,
				 (unsigned long long)*gen, plan->n_devs, plan->n_addrs, plan->n_routes);
	}
	free(old);
	nstate_free(&s);
	return rc;
}

static int rpc_plan(struct netd *d, struct store_txn *t, struct ops_prep *p, const struct lyd_node *rpc,
		    uint64_t now, struct ops_result *r)
{
	const char *node = ops_rpc_leaf(rpc, "node");
	struct nctx x;
	struct cdt_plan plan = { 0 };
	struct cdtj_meta m = { 0 };
	struct netd_err e = { 0 };
	char *json = NULL, num[24];
	uint64_t gen = 0;
	if (!node_exists(d, t, node))
		return node_missing(r, "conduit-plan", node);
	int rc = nctx_load(d, t, node, &x, &e);
	rc = rc ? rc : nctx_resolve(&x, &e);
	rc = rc ? rc : build_plan(d, t, &x, &plan, &e);
	if (rc == 0) {
		m.has_mgmt = x.conf.mgmt_net && node_addr_on(d, t, node, x.conf.mgmt_net, &m.mgmt);
		m.confirm_timeout = x.conf.confirm_timeout;
		m.has_self_confirm = true;
		m.self_confirm = x.conf.self_confirm;
		rc = cdtj_plan_print(d->ly, &plan, &m, &json, &e);
	}
	rc = rc ? rc : remember_plan(d, t, node, &plan, &m, json, now, &gen, &e);
	rc = rc ? rc : want_bind(t, node, gen);
	if (rc < 0 && rc != NETD_EMAPFULL)
		jig_plan_failed(node);
	snprintf(num, sizeof num, "%llu", (unsigned long long)gen);
	rc = rc ? rc : ops_rpc_set_output(p, "generation", num);
	rc = rc ? rc : ops_rpc_set_output(p, "plan", json);
	if (rc < 0 && e.code && strncmp(e.msg, "node ", 5))
		msg_prefix(&e, node, "");
	free(json);
	cdt_plan_clear(&plan);
	nctx_free(&x);
	if (rc < 0)
		return fail_e(r, &e, rc);
	r->status = 200;
	return 0;
}

static int rpc_report(struct netd *d, struct store_txn *t, const struct lyd_node *rpc, uint64_t now,
		      struct ops_result *r)
{
	const char *node = ops_rpc_leaf(rpc, "node"), *result = ops_rpc_leaf(rpc, "result");
	const char *gen = ops_rpc_leaf(rpc, "generation"), *err = ops_rpc_leaf(rpc, "error");
	const char *changes = ops_rpc_leaf(rpc, "changes"), *tmo = ops_rpc_leaf(rpc, "confirm-timeout");
	struct nstate s;
	char when[64];
	if (!node_exists(d, t, node))
		return node_missing(r, "conduit-report", node);
	int rc = nstate_load(d, t, node, &s);
	rc = rc ? rc : set(s.st, "last-apply/result", result);
	rc = rc ? rc : set(s.st, "last-apply/generation", gen);
	rc = rc ? rc : set(s.st, "last-apply/changes", changes ? changes : "0");
	rc = rc ? rc : set(s.st, "last-apply/error", err && *err ? err : NULL);
	rc = rc ? rc : set(s.st, "last-apply/at", ym_time_print(now, when, sizeof when));
	drop_child(s.st, "confirm");
	if (rc == 0 && !strcmp(result, "pending-confirm")) {
		uint64_t secs = tmo ? strtoull(tmo, NULL, 10) : CONFIRM_DEFAULT_S;
		rc = set(s.st, "confirm/generation", gen ? gen : "0");
		rc = rc ? rc : set(s.st, "confirm/deadline", ym_time_print(now + secs, when, sizeof when));
		rc = rc ? rc : set(s.st, "confirm/confirmed", "false");
	}
	rc = rc ? rc : nstate_save(t, node, &s);
	nstate_free(&s);
	rc = rc ? rc : want_answer(t, node, result, gen ? strtoull(gen, NULL, 10) : 0, changes, err);
	if (rc < 0)
		return ops_fail(r, 500, "operation-failed", rc, NULL, "node %s: conduit-state: %s", node, netd_strerror(rc));
	if (!strcmp(result, "failed") || !strcmp(result, "rolled-back"))
		log_warn("node %s: conduits generation %s %s: %s", node, gen ? gen : "?", result, err ? err : "");
	else
		log_info("node %s: conduits generation %s %s (%s changes)", node, gen ? gen : "?", result,
			 changes ? changes : "0");
	r->status = 204;
	return 0;
}

static int rpc_confirm(struct netd *d, struct store_txn *t, struct ops_prep *p, const struct lyd_node *rpc,
		       uint64_t now, struct ops_result *r)
{
	const char *node = ops_rpc_leaf(rpc, "node");
	struct nstate s;
	if (!node_exists(d, t, node))
		return node_missing(r, "conduit-confirm", node);
	int rc = nstate_load(d, t, node, &s);
	if (rc < 0)
		return ops_fail(r, 500, "operation-failed", rc, NULL, "node %s: conduit-state: %s", node, netd_strerror(rc));
	struct lyd_node *cf = yc_child(s.st, "confirm");
	char dl[64];   /* a copy: the tree goes before the log line */
	snprintf(dl, sizeof dl, "%s", yc_leaf(cf, "deadline") ? yc_leaf(cf, "deadline") : "?");
	uint64_t deadline = cdtj_time_parse(dl);
	if (!cf)
		rc = ops_fail(r, 409, "data-missing", NETD_ENOTFOUND, "/netd:conduit-confirm/node",
			      "node %s has no change waiting for confirmation", node);
	else if (now > deadline)
		rc = ops_fail(r, 409, "data-missing", NETD_ENOTFOUND, "/netd:conduit-confirm/node",
			      "node %s: the confirmation window closed at %s; its agent restores the previous state",
			      node, dl);
	if (rc == 0 && (rc = set(cf, "confirmed", "true")) == 0 && (rc = nstate_save(t, node, &s)) == 0)
		rc = ops_rpc_set_output(p, "deadline", dl);
	if (rc < 0 && !r->err.code)
		ops_fail(r, 500, "operation-failed", rc, NULL, "node %s: conduit-state: %s", node, netd_strerror(rc));
	nstate_free(&s);
	if (rc < 0)
		return r->err.code;
	log_info("node %s: change on the management path confirmed (deadline %s)", node, dl);
	r->status = 200;
	return 0;
}

/* ------------------------------------------------------ the conduits jig
 *
 * A run for node N asks N's agent to apply N's current plan and waits for
 * the agent's conduit-report.  The request lives in table "cdt_want"
 * (node -> text), written outside the writer by the run's start and inside
 * the writer's transactions by the RPCs:
 *   "R <gen>"    requested; <gen> is the plan generation the first
 *                conduit-plan after the request handed out (0: none yet);
 *   "A <gen> <reported-gen> <changes> <result>\n<error>"
 *                answered: a report that settles the request, written in
 *                the report's transaction.
 * A report settles the request when its result is final (not
 * pending-confirm) and its generation is at least the bound one, or when
 * it is a failure without a generation (the agent got no plan) after a
 * conduit-plan of the node failed since the request.  Generations name
 * plan contents, so a report for the bound generation says the node has
 * the plan asked for, even if the agent fetched it just before the run.
 *
 * The runs themselves are memory (loop thread): when a report's
 * transaction wrote an answer, a loop_wake runs after the commit (the
 * writer commits before its callback returns), reads the answer from the
 * store and finishes the node's runs; an answer whose transaction rolled
 * back is never seen.  A run without an answer fails at the role's
 * timeout.  An agent in --watch mode fetches the plan at its next run, so
 * the latency is its watch interval plus one run.
 */

#define JIG_SUMMARY_MAX 1024

struct cw_run {
	struct cw_run *next;
	struct ann_jigs *J;
	struct ann_jig_run *run;
	struct loop_timer *timer;
	char node[MODEL_NAME_MAX];
	uint32_t timeout_s;
	bool plan_failed;           /* a conduit-plan of the node failed since the request */
	bool check;                 /* an answer may be in the store */
	bool done;                  /* answered: finish with ok, summary, log */
	bool ok;
	char *summary, *log;
};

static struct {
	struct netd *d;
	struct loop_wake *wake;
	struct cw_run *runs;
} CJ;

static void cw_free(struct cw_run *w)
{
	if (!w)
		return;
	loop_timer_del(CJ.d->loop, w->timer);
	free(w->summary);
	free(w->log);
	free(w);
}

static void cw_unlink(struct cw_run *w)
{
	for (struct cw_run **p = &CJ.runs; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			w->next = NULL;
			return;
		}
	}
}

/* End @w's run (unlinked first: done() may start runs of this jig). */
static void cw_finish(struct cw_run *w, bool ok, const char *summary, const char *log)
{
	struct ann_jigs *J = w->J;
	struct ann_jig_run *run = w->run;
	cw_unlink(w);
	ann_jig_run_set_data(run, NULL);
	loop_timer_del(CJ.d->loop, w->timer);
	w->timer = NULL;
	log_info("node %s: conduits jig %s: %s", w->node, ok ? "done" : "failed", summary);
	ann_jig_finish(J, run, ok, summary, log);
	cw_free(w);
}

/* The request record of @node: kind 'R' or 'A' (0: none), the bound
 * generation and, for 'A', the report.  @error points into @v. */
struct want {
	char kind;
	uint64_t bound, gen;
	unsigned long changes;
	char result[24];
	const char *error;
};

static void want_parse(const char *v, size_t n, char *buf, size_t len, struct want *w)
{
	unsigned long long b = 0, g = 0;
	memset(w, 0, sizeof *w);
	snprintf(buf, len, "%.*s", (int)n, v);
	w->error = "";
	if (buf[0] == 'R' && sscanf(buf, "R %llu", &b) == 1) {
		w->kind = 'R';
		w->bound = b;
	} else if (buf[0] == 'A' && sscanf(buf, "A %llu %llu %lu %23s", &b, &g, &w->changes, w->result) == 4) {
		w->kind = 'A';
		w->bound = b;
		w->gen = g;
		const char *nl = strchr(buf, '\n');
		w->error = nl ? nl + 1 : "";
	}
}

static int want_get(struct store_txn *t, const char *node, char *buf, size_t len, struct want *w)
{
	struct store_val v;
	int rc = store_get(t, T.want, node, strlen(node), &v);
	memset(w, 0, sizeof *w);
	w->error = "";
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc == 0)
		want_parse(v.p, v.n, buf, len, w);
	return rc;
}

static int want_put(struct store_txn *t, const char *node, const char *text)
{
	return store_put(t, T.want, node, strlen(node), text, strlen(text));
}

/* conduit-plan handed out @gen: it binds a request still unbound. */
static int want_bind(struct store_txn *t, const char *node, uint64_t gen)
{
	char buf[64], text[32];
	struct want w;
	int rc = want_get(t, node, buf, sizeof buf, &w);
	if (rc < 0 || w.kind != 'R' || w.bound || !gen)
		return rc;
	snprintf(text, sizeof text, "R %llu", (unsigned long long)gen);
	log_info("node %s: conduits jig: plan generation %llu requested", node, (unsigned long long)gen);
	return want_put(t, node, text);
}

static void jig_plan_failed(const char *node)
{
	for (struct cw_run *w = CJ.runs; w; w = w->next)
		if (!strcmp(w->node, node))
			w->plan_failed = true;
}

static bool node_plan_failed(const char *node)
{
	for (struct cw_run *w = CJ.runs; w; w = w->next)
		if (!strcmp(w->node, node) && w->plan_failed)
			return true;
	return false;
}

/* conduit-report: answer the request when the report settles it. */
static int want_answer(struct store_txn *t, const char *node, const char *result, uint64_t gen, const char *changes,
		       const char *error)
{
	char buf[64];
	struct want w;
	int rc = want_get(t, node, buf, sizeof buf, &w);
	bool bad = !strcmp(result, "failed") || !strcmp(result, "rolled-back");
	if (rc < 0 || w.kind != 'R' || !strcmp(result, "pending-confirm"))
		return rc;
	if (!((w.bound && gen >= w.bound) || (bad && !gen && node_plan_failed(node))))
		return 0;
	char *text = NULL;
	if (asprintf(&text, "A %llu %llu %lu %s\n%s", (unsigned long long)w.bound, (unsigned long long)gen,
		     changes ? strtoul(changes, NULL, 10) : 0ul, result, error ? error : "") < 0)
		return -ENOMEM;
	rc = want_put(t, node, text);
	free(text);
	for (struct cw_run *x = CJ.runs; rc == 0 && x; x = x->next)
		if (!strcmp(x->node, node))
			x->check = true;
	if (rc == 0 && CJ.wake)
		loop_wake(CJ.wake);   /* runs after this batch's commit */
	return rc;
}

/* @s on one line, cut to JIG_SUMMARY_MAX bytes. */
static char *one_line(const char *s)
{
	char *o = strndup(s ? s : "", JIG_SUMMARY_MAX - 1);
	for (char *p = o; p && *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return o;
}

/* @msg without a leading "node @node: ". */
static const char *skip_node(const char *msg, const char *node)
{
	size_t n = strlen(node);
	return !strncmp(msg, "node ", 5) && !strncmp(msg + 5, node, n) && !strncmp(msg + 5 + n, ": ", 2) ? msg + 7 + n
													   : msg;
}

/* The plan in @st (a conduit-state container) as lines. */
static void plan_lines(struct text *w, const struct lyd_node *st, const char *node)
{
	struct cdt_plan p = { 0 };
	struct netd_err e = { 0 };
	char a[PREFIX_STRLEN], b[ADDR_STRLEN];
	const struct lyd_node *pl = yc_child(st, "plan");
	if (!pl || cdtj_plan_from_lyd(pl, node, &p, NULL, &e) < 0) {
		text_add(w, "  (no plan stored%s%s)\n", e.msg[0] ? ": " : "", e.msg);
		return;
	}
	for (size_t i = 0; i < p.n_devs; i++) {
		const struct cdt_dev *d = &p.devs[i];
		static const char *const kinds[] = { "?", "nic", "bond", "vlan", "macvlan", "bridge", "other" };
		text_add(w, "  device %s %s", d->name, d->kind < 7 ? kinds[d->kind] : "?");
		if (d->kind == CDT_DEV_VLAN)
			text_add(w, " %u", d->vlan_id);
		if (d->lower[0])
			text_add(w, " on %s", d->lower);
		if (d->master[0])
			text_add(w, " in %s", d->master);
		if (d->mtu)
			text_add(w, " mtu %u", d->mtu);
		text_add(w, "%s%s%s%s%s\n", d->conduit[0] ? " (" : "", d->conduit, d->network[0] ? "/" : "", d->network,
			 d->conduit[0] ? ")" : "");
	}
	for (size_t i = 0; i < p.n_addrs; i++)
		text_add(w, "  address %s/%u on %s\n", addr_print(&p.addrs[i].a, b, sizeof b), p.addrs[i].plen,
			 p.addrs[i].dev);
	for (size_t i = 0; i < p.n_routes; i++) {
		const struct cdt_proute *r = &p.routes[i];
		text_add(w, "  route %s", prefix_print(&r->dst, a, sizeof a));
		if (r->has_gw)
			text_add(w, " via %s", addr_print(&r->gw, b, sizeof b));
		text_add(w, " dev %s\n", r->dev);
	}
	cdt_plan_clear(&p);
}

/* The node's stored conduit-state as a tree (NULL: none). */
static struct lyd_node *state_tree(struct store_txn *t, const char *node, struct lyd_node **st)
{
	struct nstate s;
	*st = NULL;
	if (nstate_load(CJ.d, t, node, &s) < 0)
		return NULL;
	*st = s.st;
	return s.tree;
}

/* An answered request of @node: every run of the node gets its outcome.
 * true when there was one. */
static bool settle_node(const char *node)
{
	struct store_txn *t = NULL;
	struct want w;
	char buf[NETD_ERR_MSG_MAX + 512], gen[24];
	if (store_read_begin(CJ.d->store, &t) < 0)
		return false;
	if (want_get(t, node, buf, sizeof buf, &w) < 0 || w.kind != 'A') {
		store_read_end(t);
		return false;
	}
	struct lyd_node *st = NULL, *tree = state_tree(t, node, &st);
	struct text sum = { 0 }, log = { 0 };
	bool ok = strcmp(w.result, "failed") && strcmp(w.result, "rolled-back");
	const char *at = st ? yc_leaf(yc_child(st, "last-apply"), "at") : NULL;
	snprintf(gen, sizeof gen, "%llu", (unsigned long long)w.gen);
	if (ok)
		text_add(&sum, "node %s: %s (generation %s, %lu change%s)", node, w.result, gen, w.changes,
			 w.changes == 1 ? "" : "s");
	else if (!strcmp(w.result, "rolled-back"))
		text_add(&sum, "node %s: rolled back: %s", node, skip_node(w.error, node));
	else
		text_add(&sum, "%s", w.error[0] ? w.error : "the agent reported a failure without a reason");
	text_add(&log, "node %s's agent reported %s for plan generation %s", node, w.result, w.gen ? gen : "none");
	if (ok)
		text_add(&log, " (%lu change%s)", w.changes, w.changes == 1 ? "" : "s");
	text_add(&log, "%s%s; ", at ? " at " : "", at ? at : "");
	if (w.bound)
		text_add(&log, "generation %llu was asked for\n", (unsigned long long)w.bound);
	else
		text_add(&log, "no plan could be handed out since the run began\n");
	if (!ok)
		text_add(&log, "%s\n", w.error);
	else if (st && w.gen == strtoull(yc_leaf(st, "plan-generation") ? yc_leaf(st, "plan-generation") : "0", NULL, 10)) {
		text_add(&log, "the node's conduits as planned in generation %s:\n", gen);
		plan_lines(&log, st, node);
	}
	lyd_free_all(tree);
	store_read_end(t);
	for (struct cw_run *x = CJ.runs; x; x = x->next) {
		if (strcmp(x->node, node) || x->done)
			continue;
		x->check = false;
		x->done = true;
		x->ok = ok;
		x->summary = one_line(sum.s);
		x->log = strdup(log.s ? log.s : "");
	}
	free(sum.s);
	free(log.s);
	return true;
}

static int drop_answers(struct store_txn *t, void *arg)
{
	char (*nodes)[MODEL_NAME_MAX] = arg;
	for (size_t i = 0; nodes[i][0]; i++) {
		struct store_val v;
		int rc = store_get(t, T.want, nodes[i], strlen(nodes[i]), &v);
		if (rc == 0 && v.n && ((const char *)v.p)[0] == 'A')
			rc = store_del(t, T.want, nodes[i], strlen(nodes[i]));
		if (rc < 0 && rc != NETD_ENOTFOUND)
			return rc;
	}
	return 0;
}

/* After a commit that answered requests: finish the runs answered. */
static void on_wake(struct loop *l, void *arg)
{
	(void)l;
	(void)arg;
	size_t n = 0;
	for (struct cw_run *x = CJ.runs; x; x = x->next)
		n++;
	char (*nodes)[MODEL_NAME_MAX] = calloc(n + 1, sizeof *nodes);
	size_t k = 0;
	for (struct cw_run *x = CJ.runs; nodes && x; x = x->next) {
		if (!x->check)
			continue;
		bool seen = false;
		for (size_t i = 0; i < k; i++)
			seen |= !strcmp(nodes[i], x->node);
		if (!seen && settle_node(x->node))
			snprintf(nodes[k++], MODEL_NAME_MAX, "%s", x->node);
		x->check = false;
	}
	if (k) {
		int rc = store_update(CJ.d->store, drop_answers, nodes);
		if (rc < 0)
			log_warn("conduits jig: cannot drop answered requests: %s", netd_strerror(rc));
	}
	free(nodes);
	/* finish: done() may start runs (prepended) or finish nothing of ours */
	for (;;) {
		struct cw_run *x = CJ.runs;
		while (x && !x->done)
			x = x->next;
		if (!x)
			break;
		char *sum = x->summary, *log = x->log;
		x->summary = x->log = NULL;
		cw_finish(x, x->ok, sum ? sum : "", log ? log : "");
		free(sum);
		free(log);
	}
}

static void on_timeout(struct loop *l, void *arg)
{
	(void)l;
	struct cw_run *w = arg;
	struct store_txn *t = NULL;
	struct text sum = { 0 }, log = { 0 };
	char buf[NETD_ERR_MSG_MAX + 512];
	struct want r;
	if (!w->done && settle_node(w->node) && CJ.wake)
		loop_wake(CJ.wake);   /* answered in a commit whose wake has not run yet */
	if (w->done)
		return;   /* answered: on_wake finishes it */
	text_add(&sum, "no report from %s's agent within %u s: is `netd --agent --node %s --watch` running?", w->node,
		 w->timeout_s, w->node);
	if (store_read_begin(CJ.d->store, &t) == 0 && want_get(t, w->node, buf, sizeof buf, &r) == 0) {
		struct lyd_node *st = NULL, *tree = state_tree(t, w->node, &st);
		const struct lyd_node *la = yc_child(st, "last-apply");
		if (r.kind == 'R' && r.bound)
			text_add(&log, "plan generation %llu was handed out after the run began; no final report for "
				 "it arrived\n", (unsigned long long)r.bound);
		else
			text_add(&log, "no plan was handed out to %s since the run began\n", w->node);
		if (la && yc_leaf(la, "result"))
			text_add(&log, "last report: %s, generation %s, at %s%s%s\n", yc_leaf(la, "result"),
				 yc_leaf(la, "generation") ? yc_leaf(la, "generation") : "none",
				 yc_leaf(la, "at") ? yc_leaf(la, "at") : "?", yc_leaf(la, "error") ? ": " : "",
				 yc_leaf(la, "error") ? yc_leaf(la, "error") : "");
		else
			text_add(&log, "no report from %s's agent yet\n", w->node);
		lyd_free_all(tree);
	}
	store_read_end(t);
	cw_finish(w, false, sum.s ? sum.s : "timed out", log.s ? log.s : "");
	free(sum.s);
	free(log.s);
}

static int put_request(struct store_txn *t, void *arg)
{
	return want_put(t, arg, "R 0");
}

static int jig_start(void *ctx, struct ann_jigs *J, const struct ann_jig_input *in, struct ann_jig_run *run,
		     struct netd_err *e)
{
	(void)ctx;
	const char *node = in->node ? in->node : "";
	uint32_t ms = in->timeout_ms ? in->timeout_ms : ANN_JIG_TIMEOUT_DEFAULT_MS;
	struct cw_run *w = calloc(1, sizeof *w);
	if (!w)
		return netd_err_set(e, -ENOMEM, NULL, "conduits jig: out of memory");
	if (strlen(node) >= sizeof w->node) {
		free(w);
		return netd_err_set(e, NETD_EINVAL, NULL, "conduits jig: node name too long");
	}
	*w = (struct cw_run){ .J = J, .run = run, .timeout_s = (ms + 999) / 1000 };
	memcpy(w->node, node, strlen(node) + 1);
	/* an answer not yet delivered belongs to the runs before this one */
	bool older = false;
	for (struct cw_run *x = CJ.runs; x; x = x->next)
		older |= !strcmp(x->node, node);
	if (older && settle_node(node) && CJ.wake)
		loop_wake(CJ.wake);
	int rc = store_update(CJ.d->store, put_request, w->node);
	if (rc < 0) {
		free(w);
		return netd_err_set(e, rc, NULL, "conduits jig: node %s: cannot store the request: %s", node,
				    netd_strerror(rc));
	}
	if ((rc = loop_timer_add(CJ.d->loop, ms, 0, on_timeout, w, &w->timer)) < 0) {
		free(w);
		return netd_err_set(e, rc, NULL, "conduits jig: cannot arm the timeout: %s", netd_strerror(rc));
	}
	w->next = CJ.runs;
	CJ.runs = w;
	ann_jig_run_set_data(run, w);
	log_info("node %s: conduits jig: waiting up to %u s for its agent to apply the current plan", node, w->timeout_s);
	return 0;
}

static void jig_cancel(void *ctx, struct ann_jig_run *run)
{
	(void)ctx;
	struct cw_run *w = ann_jig_run_data(run);
	if (!w)
		return;
	cw_unlink(w);
	cw_free(w);
}

static const struct ann_jig_ops conduits_jig = { .name = "conduits", .start = jig_start, .cancel = jig_cancel };

static int jig_start_service(struct netd *d, struct netd_err *e)
{
	CJ.d = d;
	if (!d->anneal || !d->loop)
		return 0;   /* no annealer: no jig */
	int rc = loop_wake_new(d->loop, on_wake, NULL, &CJ.wake);
	if (rc < 0)
		return netd_err_set(e, rc, NULL, "conduits jig: %s", netd_strerror(rc));
	return anneal_jig_register(d, &conduits_jig, NULL, e);
}

int cdtd_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	     uint64_t now, struct ops_result *r, bool *handled)
{
	*handled = true;
	if (!T.open)   /* cdtd_start() not run: not a daemon */
		*handled = false;
	else if (!strcmp(name, "netd:report-inventory"))
		return rpc_report_inventory(d, t, p, rpc, now, r);
	else if (!strcmp(name, "netd:conduit-resolve"))
		return rpc_resolve(d, t, p, rpc, r);
	else if (!strcmp(name, "netd:conduit-plan"))
		return rpc_plan(d, t, p, rpc, now, r);
	else if (!strcmp(name, "netd:conduit-report"))
		return rpc_report(d, t, rpc, now, r);
	else if (!strcmp(name, "netd:conduit-confirm"))
		return rpc_confirm(d, t, p, rpc, now, r);
	else
		*handled = false;
	return 0;
}
