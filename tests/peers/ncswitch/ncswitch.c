/* tests/peers/ncswitch/ncswitch.c — a small NETCONF switch for netd's tests.
 *
 * libnetconf2 2.0 (server, SSH) + libyang 2.1.  It keeps a running and a
 * candidate datastore, both validated by libyang, for the YANG modules in
 * its --yang directory (test subsets of the OpenConfig interfaces, Ethernet,
 * aggregate and VLAN modules, and a deviation module) plus ietf-interfaces
 * and iana-if-type from yuma's copies (--yuma, default
 * /usr/share/yuma/modules/ietf).
 *
 *   ncswitch --port P --hostkey PEM --authkey PUB [--user U] [--password PW]
 *            --yang DIR [--yuma DIR] [--init XML] [--rpclog FILE]
 *            [--running-only]
 *
 * Operations: get, get-config (running, candidate), edit-config (running
 * with :writable-running; candidate; default-operation merge, replace,
 * none; operation attributes merge, replace, create, delete, remove),
 * validate, commit (confirmed, confirm-timeout, persist/persist-id),
 * cancel-commit, discard-changes, lock, unlock, get-schema (answered here:
 * libnetconf2 2.0.24's own <get-schema> reply is printed from freed memory
 * with libyang 2.1, see docs/decisions.md D18), close-session.  <get> adds
 * the ietf-yang-library state (modules, features, deviations) libyang
 * makes of the context.  --running-only: only :writable-running (no
 * candidate, confirmed-commit, validate).
 *
 * RFC 6241 behaviour kept: locks per datastore and session (lock-denied
 * names the holder's session-id; a candidate with uncommitted changes
 * cannot be locked; edits to a datastore another session locked are
 * in-use); a confirmed commit rolls running back when its timeout passes,
 * when its session ends before confirming (unless persist was given), or on
 * cancel-commit; a confirming commit must come from the same session (or
 * carry the persist-id).  The candidate is reset to running when the
 * session holding its lock ends.
 *
 * Test-switch simplifications (documented, not hidden): a subtree filter
 * selects whole top-level containers only (the reply may hold more than a
 * deeper filter would select); xpath filters, :url, :startup, copy-config,
 * delete-config and kill-session are refused with operation-not-supported;
 * test-option and error-option are ignored (an edit is all or nothing).
 *
 * Every RPC is appended to --rpclog as one line "SID OP [details]", and an
 * edit-config's <config> as a second line "SID config XML" (one line), so
 * tests can count what a client sent.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libyang/libyang.h>
#include <nc_server.h>

#define SW_ENDPT "main"
#define SW_POLL_MS 20

enum sw_op { OP_MERGE, OP_REPLACE, OP_CREATE, OP_DELETE, OP_REMOVE, OP_NONE };

struct sw_err {
	NC_ERR tag;
	char path[512];
	char msg[512];
};

static struct {
	struct ly_ctx *ctx;
	struct lyd_node *running, *candidate;
	bool candidate_dirty;
	bool running_only;
	uint32_t lock_running, lock_candidate;   /* holder session ids, 0 = free */
	struct {
		bool pending;
		uint32_t sid;
		struct timespec deadline;
		struct lyd_node *backup;
		char persist[128];
	} cc;
	const char *hostkey, *user, *password;
	FILE *rpclog;
} sw;

static volatile sig_atomic_t sw_stop;

static void on_signal(int sig)
{
	(void)sig;
	sw_stop = 1;
}

static void logline(uint32_t sid, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logline(uint32_t sid, const char *fmt, ...)
{
	va_list ap;
	if (!sw.rpclog)
		return;
	fprintf(sw.rpclog, "%u ", (unsigned)sid);
	va_start(ap, fmt);
	vfprintf(sw.rpclog, fmt, ap);
	va_end(ap);
	fputc('\n', sw.rpclog);
	fflush(sw.rpclog);
}

/* ------------------------------------------------------------------ replies */

static struct nc_server_reply *reply_err(const struct sw_err *e)
{
	struct lyd_node *n;
	switch (e->tag) {
	case NC_ERR_DATA_EXISTS:
	case NC_ERR_DATA_MISSING:
	case NC_ERR_MALFORMED_MSG:
		n = nc_err(sw.ctx, e->tag);
		break;
	case NC_ERR_UNKNOWN_ELEM:
	case NC_ERR_BAD_ELEM:
	case NC_ERR_MISSING_ELEM:
		n = nc_err(sw.ctx, e->tag, NC_ERR_TYPE_APP, e->path[0] ? e->path : "config");
		break;
	default:
		n = nc_err(sw.ctx, e->tag, NC_ERR_TYPE_APP);
		break;
	}
	if (e->path[0])
		nc_err_set_path(n, e->path);
	if (e->msg[0])
		nc_err_set_msg(n, e->msg, "en");
	return nc_server_reply_err(n);
}

static struct nc_server_reply *reply_msg(NC_ERR tag, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct nc_server_reply *reply_msg(NC_ERR tag, const char *path, const char *fmt, ...)
{
	struct sw_err e = { .tag = tag };
	va_list ap;
	snprintf(e.path, sizeof e.path, "%s", path ? path : "");
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof e.msg, fmt, ap);
	va_end(ap);
	return reply_err(&e);
}

static struct nc_server_reply *lock_denied(uint32_t holder, const char *ds)
{
	struct lyd_node *n = nc_err(sw.ctx, NC_ERR_LOCK_DENIED, holder);
	char msg[128];
	snprintf(msg, sizeof msg, "the %s datastore is locked by session %u", ds, (unsigned)holder);
	nc_err_set_msg(n, msg, "en");
	return nc_server_reply_err(n);
}

/* libyang's last error as an rpc-error (invalid-value or operation-failed). */
static int ly_failure(struct sw_err *e, NC_ERR tag, const char *what)
{
	const struct ly_err_item *le = ly_err_last(sw.ctx);
	e->tag = tag;
	snprintf(e->path, sizeof e->path, "%s", le && le->path ? le->path : "");
	snprintf(e->msg, sizeof e->msg, "%s: %s", what, le && le->msg ? le->msg : "libyang error");
	ly_err_clean(sw.ctx, NULL);
	return -1;
}

/* ------------------------------------------------------------- datastores */

static int dup_tree(const struct lyd_node *from, struct lyd_node **to)
{
	*to = NULL;
	if (!from)
		return 0;
	return lyd_dup_siblings(from, NULL, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, to) == LY_SUCCESS ? 0 : -1;
}

static int validate_tree(struct lyd_node **tree, struct sw_err *e, const char *what)
{
	if (lyd_validate_all(tree, sw.ctx, LYD_VALIDATE_NO_STATE, NULL) != LY_SUCCESS)
		return ly_failure(e, NC_ERR_INVALID_VALUE, what);
	return 0;
}

static void set_running(struct lyd_node *tree)
{
	lyd_free_all(sw.running);
	sw.running = tree;
}

static void reset_candidate(void)
{
	lyd_free_all(sw.candidate);
	sw.candidate = NULL;
	dup_tree(sw.running, &sw.candidate);
	sw.candidate_dirty = false;
}

static void rollback(const char *why)
{
	set_running(sw.cc.backup);
	sw.cc.backup = NULL;
	sw.cc.pending = false;
	sw.cc.persist[0] = '\0';
	reset_candidate();
	logline(0, "rollback %s", why);
}

/* -------------------------------------------------------------- edit-config */

static enum sw_op node_op(const struct lyd_node *n, enum sw_op inherited)
{
	for (const struct lyd_meta *m = n->meta; m; m = m->next) {
		if (strcmp(m->name, "operation") || strcmp(m->annotation->module->name, "ietf-netconf"))
			continue;
		const char *v = lyd_get_meta_value(m);
		if (!strcmp(v, "merge"))
			return OP_MERGE;
		if (!strcmp(v, "replace"))
			return OP_REPLACE;
		if (!strcmp(v, "create"))
			return OP_CREATE;
		if (!strcmp(v, "delete"))
			return OP_DELETE;
		if (!strcmp(v, "remove"))
			return OP_REMOVE;
	}
	return inherited;
}

static bool has_explicit_op(const struct lyd_node *n)
{
	const struct lyd_node *it;
	LYD_TREE_DFS_BEGIN(n, it) {
		if (node_op(it, OP_NONE) != OP_NONE)
			return true;
		LYD_TREE_DFS_END(n, it);
	}
	return false;
}

static int insert_node(struct lyd_node **root, struct lyd_node *parent, struct lyd_node *node)
{
	if (parent)
		return lyd_insert_child(parent, node) == LY_SUCCESS ? 0 : -1;
	if (!*root) {
		*root = node;
		return 0;
	}
	return lyd_insert_sibling(*root, node, root) == LY_SUCCESS ? 0 : -1;
}

static void drop_node(struct lyd_node **root, struct lyd_node *node)
{
	if (!node->parent && *root == node)
		*root = node->next;
	lyd_free_tree(node);
}

static void node_path(const struct lyd_node *n, struct sw_err *e)
{
	char *p = lyd_path(n, LYD_PATH_STD, NULL, 0);
	snprintf(e->path, sizeof e->path, "%s", p ? p : "");
	free(p);
}

static int edit_level(struct lyd_node **root, struct lyd_node *parent, const struct lyd_node *edit, enum sw_op inherited,
		      struct sw_err *e);

/* Create @ed (absent in the target) and descend into it as a merge. */
static int edit_create(struct lyd_node **root, struct lyd_node *parent, const struct lyd_node *ed, enum sw_op op,
		       struct sw_err *e)
{
	struct lyd_node *copy = NULL;
	uint32_t flags = LYD_DUP_NO_META | ((op == OP_MERGE || op == OP_NONE) ? 0 : LYD_DUP_RECURSIVE);
	if (ed->schema->nodetype & (LYS_LEAF | LYS_LEAFLIST | LYS_ANYDATA))
		flags |= LYD_DUP_RECURSIVE;
	if (lyd_dup_single(ed, NULL, flags, &copy) != LY_SUCCESS || insert_node(root, parent, copy) < 0) {
		lyd_free_tree(copy);
		return ly_failure(e, NC_ERR_OP_FAILED, "cannot create");
	}
	if (flags & LYD_DUP_RECURSIVE)
		return 0;
	return edit_level(root, copy, lyd_child(ed), OP_MERGE, e);
}

static int edit_node(struct lyd_node **root, struct lyd_node *parent, const struct lyd_node *ed, enum sw_op inherited,
		     struct sw_err *e)
{
	enum sw_op op = node_op(ed, inherited);
	struct lyd_node *first = parent ? lyd_child(parent) : *root, *t = NULL;
	if (!ed->schema) {   /* not with LYD_PARSE_STRICT, but be sure */
		e->tag = NC_ERR_UNKNOWN_ELEM;
		snprintf(e->msg, sizeof e->msg, "unknown element %s", LYD_NAME(ed));
		return -1;
	}
	if (first)
		lyd_find_sibling_first(first, ed, &t);
	switch (op) {
	case OP_CREATE:
		if (t) {
			e->tag = NC_ERR_DATA_EXISTS;
			node_path(t, e);
			snprintf(e->msg, sizeof e->msg, "create: the node exists");
			return -1;
		}
		return edit_create(root, parent, ed, OP_CREATE, e);
	case OP_DELETE:
	case OP_REMOVE:
		if (!t && op == OP_DELETE) {
			e->tag = NC_ERR_DATA_MISSING;
			node_path(ed, e);
			snprintf(e->msg, sizeof e->msg, "delete: the node does not exist");
			return -1;
		}
		if (t)
			drop_node(root, t);
		return 0;
	case OP_REPLACE:
		if (t)
			drop_node(root, t);
		return edit_create(root, parent, ed, OP_REPLACE, e);
	case OP_NONE:
		if (!t) {
			if (!(ed->schema->nodetype & (LYS_CONTAINER | LYS_LIST)) || !has_explicit_op(ed))
				return 0;
			return edit_create(root, parent, ed, OP_NONE, e);
		}
		return edit_level(root, t, lyd_child(ed), OP_NONE, e);
	case OP_MERGE:
		if (!t)
			return edit_create(root, parent, ed, OP_MERGE, e);
		if (ed->schema->nodetype == LYS_LEAF) {
			LY_ERR r = lyd_change_term(t, lyd_get_value(ed));
			if (r != LY_SUCCESS && r != LY_EEXIST && r != LY_ENOT)
				return ly_failure(e, NC_ERR_INVALID_VALUE, "cannot set the leaf");
			return 0;
		}
		if (ed->schema->nodetype & (LYS_CONTAINER | LYS_LIST))
			return edit_level(root, t, lyd_child(ed), OP_MERGE, e);
		return 0;
	}
	return 0;
}

static int edit_level(struct lyd_node **root, struct lyd_node *parent, const struct lyd_node *edit, enum sw_op inherited,
		      struct sw_err *e)
{
	for (const struct lyd_node *ed = edit; ed; ed = ed->next) {
		if (parent && ed->schema && lysc_is_key(ed->schema))
			continue;   /* keys were matched (or copied) with their list */
		if (edit_node(root, parent, ed, inherited, e) < 0)
			return -1;
	}
	return 0;
}

/* Apply the <config> of an edit-config to a copy of @base; *out on success. */
static int edit_apply(const struct lyd_node *base, const char *xml, enum sw_op dflt, struct lyd_node **out,
		      struct sw_err *e)
{
	struct lyd_node *edit = NULL, *tree = NULL;
	int rc = -1;
	if (lyd_parse_data_mem(sw.ctx, xml, LYD_XML, LYD_PARSE_ONLY | LYD_PARSE_STRICT | LYD_PARSE_NO_STATE, 0, &edit) !=
	    LY_SUCCESS) {
		ly_failure(e, NC_ERR_INVALID_VALUE, "edit-config");
		goto cleanup;
	}
	if (dflt != OP_REPLACE && dup_tree(base, &tree) < 0) {
		ly_failure(e, NC_ERR_OP_FAILED, "cannot copy the datastore");
		goto cleanup;
	}
	if (edit_level(&tree, NULL, edit, dflt == OP_REPLACE ? OP_MERGE : dflt, e) < 0)
		goto cleanup;
	if (validate_tree(&tree, e, "edit-config") < 0)
		goto cleanup;
	*out = tree;
	tree = NULL;
	rc = 0;
cleanup:
	lyd_free_all(edit);
	lyd_free_all(tree);
	return rc;
}

/* ---------------------------------------------------------------- helpers */

static const char *leaf_value(const struct lyd_node *rpc, const char *path)
{
	struct lyd_node *n = NULL;
	if (lyd_find_path(rpc, path, 0, &n) != LY_SUCCESS || !n)
		return NULL;
	return lyd_get_value(n);
}

static bool has_child(const struct lyd_node *rpc, const char *path)
{
	struct lyd_node *n = NULL;
	return lyd_find_path(rpc, path, 0, &n) == LY_SUCCESS && n;
}

/* The datastore named by a source/target container: "running", "candidate"
 * or NULL (config, url, startup: not kept here). */
static const char *datastore(const struct lyd_node *rpc, const char *which)
{
	char p[64];
	snprintf(p, sizeof p, "%s/running", which);
	if (has_child(rpc, p))
		return "running";
	snprintf(p, sizeof p, "%s/candidate", which);
	if (has_child(rpc, p))
		return "candidate";
	return NULL;
}

static uint32_t locker(const char *ds)
{
	return !strcmp(ds, "running") ? sw.lock_running : sw.lock_candidate;
}

/* The content of an anyxml node (<config>, <filter>) as XML text (heap;
 * NULL when empty).  libnetconf2 2.0 hands it over as a data tree (of
 * opaque nodes where the content is not in the schema) or as a string. */
static int any_xml(const struct lyd_node *n, char **xml)
{
	const struct lyd_node_any *a = (const struct lyd_node_any *)n;
	*xml = NULL;
	if (a->value_type == LYD_ANYDATA_DATATREE) {
		if (!a->value.tree)
			return 0;
		return lyd_print_mem(xml, a->value.tree, LYD_XML, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK) == LY_SUCCESS
			       ? 0
			       : -1;
	}
	return lyd_any_value_str(n, xml) == LY_SUCCESS ? 0 : -1;
}

/* Name and namespace of a filter node (opaque or not). */
static bool filter_selects(const struct lyd_node *f, const struct lyd_node *d)
{
	const char *name, *ns;
	if (f->schema) {
		name = f->schema->name;
		ns = f->schema->module->ns;
	} else {
		const struct lyd_node_opaq *o = (const struct lyd_node_opaq *)f;
		name = o->name.name;
		ns = o->format == LY_VALUE_XML ? o->name.module_ns : NULL;
	}
	return d->schema && !strcmp(name, d->schema->name) && (!ns || !strcmp(ns, d->schema->module->ns));
}

/* Whole top-level subtrees of @data that a subtree filter names, or all. */
static int filter_tree(const struct lyd_node *rpc, const struct lyd_node *data, struct lyd_node **out, struct sw_err *e)
{
	struct lyd_node *fnode = NULL;
	*out = NULL;
	if (lyd_find_path(rpc, "filter", 0, &fnode) != LY_SUCCESS || !fnode)
		return dup_tree(data, out);
	for (const struct lyd_meta *m = fnode->meta; m; m = m->next)
		if (!strcmp(m->name, "type") && !strcmp(lyd_get_meta_value(m), "xpath")) {
			e->tag = NC_ERR_OP_NOT_SUPPORTED;
			snprintf(e->msg, sizeof e->msg, "xpath filters are not supported by this test switch");
			return -1;
		}
	const struct lyd_node_any *a = (const struct lyd_node_any *)fnode;
	if (a->value_type != LYD_ANYDATA_DATATREE) {
		e->tag = NC_ERR_OP_NOT_SUPPORTED;
		snprintf(e->msg, sizeof e->msg, "this test switch takes subtree filters as XML elements only");
		return -1;
	}
	for (const struct lyd_node *f = a->value.tree; f; f = f->next) {   /* an empty filter selects nothing */
		for (const struct lyd_node *d = data; d; d = d->next) {
			struct lyd_node *copy = NULL;
			if (!filter_selects(f, d))
				continue;
			if (lyd_dup_single(d, NULL, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, &copy) != LY_SUCCESS ||
			    insert_node(out, NULL, copy) < 0) {
				lyd_free_tree(copy);
				lyd_free_all(*out);
				*out = NULL;
				return ly_failure(e, NC_ERR_OP_FAILED, "filter");
			}
		}
	}
	return 0;
}

static struct nc_server_reply *reply_tree(const struct lyd_node *rpc, struct lyd_node *tree)
{
	struct lyd_node *out = NULL;
	if (lyd_dup_single(rpc, NULL, 0, &out) != LY_SUCCESS ||
	    lyd_new_any(out, NULL, "data", tree, 1, LYD_ANYDATA_DATATREE, 1, NULL) != LY_SUCCESS) {
		lyd_free_all(out);
		lyd_free_all(tree);
		return reply_msg(NC_ERR_OP_FAILED, NULL, "cannot build the reply");
	}
	return nc_server_reply_data(out, NC_WD_EXPLICIT, NC_PARAMTYPE_FREE);
}

/* ------------------------------------------------------------------- RPCs */

static struct nc_server_reply *do_get(const struct lyd_node *rpc, bool config_only, uint32_t sid)
{
	const char *ds = config_only ? datastore(rpc, "source") : "running";
	struct lyd_node *all = NULL, *yl = NULL, *out = NULL;
	struct sw_err e = { 0 };
	logline(sid, "%s %s", config_only ? "get-config" : "get", ds ? ds : "?");
	if (!ds || (!strcmp(ds, "candidate") && sw.running_only))
		return reply_msg(NC_ERR_OP_NOT_SUPPORTED, NULL, "this switch keeps running%s only",
				 sw.running_only ? "" : " and candidate");
	if (dup_tree(!strcmp(ds, "running") ? sw.running : sw.candidate, &all) < 0)
		return reply_msg(NC_ERR_OP_FAILED, NULL, "cannot copy the datastore");
	if (!config_only) {
		if (ly_ctx_get_yanglib_data(sw.ctx, &yl, "%u", ly_ctx_get_change_count(sw.ctx)) != LY_SUCCESS ||
		    insert_node(&all, NULL, yl) < 0) {
			lyd_free_all(yl);
			lyd_free_all(all);
			return reply_msg(NC_ERR_OP_FAILED, NULL, "cannot build yang-library data");
		}
	}
	int rc = filter_tree(rpc, all, &out, &e);
	lyd_free_all(all);
	if (rc < 0)
		return reply_err(&e);
	return reply_tree(rpc, out);
}

static enum sw_op default_op(const struct lyd_node *rpc)
{
	const char *d = leaf_value(rpc, "default-operation");
	if (d && !strcmp(d, "replace"))
		return OP_REPLACE;
	if (d && !strcmp(d, "none"))
		return OP_NONE;
	return OP_MERGE;
}

static struct nc_server_reply *do_edit(const struct lyd_node *rpc, uint32_t sid)
{
	const char *ds = datastore(rpc, "target");
	struct lyd_node *cfg = NULL, *result = NULL;
	struct sw_err e = { 0 };
	char *xml = NULL;
	logline(sid, "edit-config %s", ds ? ds : "?");
	if (!ds || (!strcmp(ds, "candidate") && sw.running_only) || (!strcmp(ds, "running") && !sw.running_only))
		return reply_msg(NC_ERR_OP_NOT_SUPPORTED, NULL, "edit-config: target %s is not writable on this switch",
				 ds ? ds : "(none)");
	if (locker(ds) && locker(ds) != sid)
		return reply_msg(NC_ERR_IN_USE, NULL, "the %s datastore is locked by session %u", ds, (unsigned)locker(ds));
	if (lyd_find_path(rpc, "config", 0, &cfg) != LY_SUCCESS || !cfg || any_xml(cfg, &xml) < 0 || !xml)
		return reply_msg(NC_ERR_MISSING_ELEM, "config", "edit-config without <config>");
	for (char *p = xml; *p; p++)
		if (*p == '\n')
			*p = ' ';
	logline(sid, "config %s", xml);
	bool cand = !strcmp(ds, "candidate");
	int rc = edit_apply(cand ? sw.candidate : sw.running, xml, default_op(rpc), &result, &e);
	free(xml);
	if (rc < 0)
		return reply_err(&e);
	if (cand) {
		lyd_free_all(sw.candidate);
		sw.candidate = result;
		sw.candidate_dirty = true;
	} else {
		set_running(result);
	}
	return nc_server_reply_ok();
}

static struct nc_server_reply *do_validate(const struct lyd_node *rpc, uint32_t sid)
{
	const char *ds = datastore(rpc, "source");
	struct lyd_node *copy = NULL;
	struct sw_err e = { 0 };
	logline(sid, "validate %s", ds ? ds : "?");
	if (!ds)
		return reply_msg(NC_ERR_OP_NOT_SUPPORTED, NULL, "validate: only running and candidate");
	if (dup_tree(!strcmp(ds, "running") ? sw.running : sw.candidate, &copy) < 0)
		return reply_msg(NC_ERR_OP_FAILED, NULL, "cannot copy the datastore");
	int rc = validate_tree(&copy, &e, "validate");
	lyd_free_all(copy);
	return rc < 0 ? reply_err(&e) : nc_server_reply_ok();
}

static struct nc_server_reply *do_commit(const struct lyd_node *rpc, uint32_t sid)
{
	bool confirmed = has_child(rpc, "confirmed");
	const char *tmo = leaf_value(rpc, "confirm-timeout"), *persist = leaf_value(rpc, "persist"),
		   *persist_id = leaf_value(rpc, "persist-id");
	struct lyd_node *next = NULL;
	struct sw_err e = { 0 };
	logline(sid, "commit%s%s%s", confirmed ? " confirmed timeout=" : "", confirmed ? (tmo ? tmo : "600") : "",
		persist_id ? " persist-id" : "");
	if (sw.lock_running && sw.lock_running != sid)
		return reply_msg(NC_ERR_IN_USE, NULL, "the running datastore is locked by session %u",
				 (unsigned)sw.lock_running);
	if (sw.cc.pending) {
		bool mine = persist_id ? !strcmp(persist_id, sw.cc.persist) : (!sw.cc.persist[0] && sw.cc.sid == sid);
		if (!mine)
			return reply_msg(NC_ERR_IN_USE, NULL, "a confirmed commit of session %u is pending",
					 (unsigned)sw.cc.sid);
	} else if (persist_id) {
		return reply_msg(NC_ERR_INVALID_VALUE, "persist-id", "no confirmed commit with this persist-id is pending");
	}
	if (dup_tree(sw.candidate, &next) < 0)
		return reply_msg(NC_ERR_OP_FAILED, NULL, "cannot copy the candidate");
	if (validate_tree(&next, &e, "commit") < 0) {
		lyd_free_all(next);
		return reply_err(&e);
	}
	if (confirmed) {
		if (!sw.cc.pending && dup_tree(sw.running, &sw.cc.backup) < 0) {
			lyd_free_all(next);
			return reply_msg(NC_ERR_OP_FAILED, NULL, "cannot keep a rollback copy");
		}
		sw.cc.pending = true;
		sw.cc.sid = sid;
		snprintf(sw.cc.persist, sizeof sw.cc.persist, "%s", persist ? persist : "");
		clock_gettime(CLOCK_MONOTONIC, &sw.cc.deadline);
		sw.cc.deadline.tv_sec += tmo ? strtol(tmo, NULL, 10) : 600;
	} else if (sw.cc.pending) {
		lyd_free_all(sw.cc.backup);
		sw.cc.backup = NULL;
		sw.cc.pending = false;
		sw.cc.persist[0] = '\0';
		logline(sid, "confirmed");
	}
	set_running(next);
	sw.candidate_dirty = false;
	return nc_server_reply_ok();
}

static struct nc_server_reply *do_cancel(const struct lyd_node *rpc, uint32_t sid)
{
	const char *persist_id = leaf_value(rpc, "persist-id");
	logline(sid, "cancel-commit");
	if (!sw.cc.pending)
		return reply_msg(NC_ERR_OP_FAILED, NULL, "no confirmed commit is pending");
	if (persist_id ? strcmp(persist_id, sw.cc.persist) != 0 : sw.cc.sid != sid)
		return reply_msg(NC_ERR_INVALID_VALUE, NULL, "the pending confirmed commit is not this session's");
	rollback("cancel-commit");
	return nc_server_reply_ok();
}

static struct nc_server_reply *do_lock(const struct lyd_node *rpc, uint32_t sid, bool lock)
{
	const char *ds = datastore(rpc, "target");
	logline(sid, "%s %s", lock ? "lock" : "unlock", ds ? ds : "?");
	if (!ds || (!strcmp(ds, "candidate") && sw.running_only))
		return reply_msg(NC_ERR_OP_NOT_SUPPORTED, NULL, "no such datastore here");
	uint32_t *holder = !strcmp(ds, "running") ? &sw.lock_running : &sw.lock_candidate;
	if (lock) {
		if (*holder)
			return lock_denied(*holder, ds);
		if (!strcmp(ds, "candidate") && sw.candidate_dirty)
			return reply_msg(NC_ERR_LOCK_DENIED, NULL, "the candidate has uncommitted changes");
		*holder = sid;
		return nc_server_reply_ok();
	}
	if (*holder != sid)
		return reply_msg(NC_ERR_OP_FAILED, NULL, "the %s datastore is not locked by this session", ds);
	*holder = 0;
	return nc_server_reply_ok();
}

static struct nc_server_reply *sw_rpc(struct lyd_node *rpc, struct nc_session *ns)
{
	uint32_t sid = nc_session_get_id(ns);
	const char *op = LYD_NAME(rpc);
	if (!strcmp(op, "get"))
		return do_get(rpc, false, sid);
	if (!strcmp(op, "get-config"))
		return do_get(rpc, true, sid);
	if (!strcmp(op, "edit-config"))
		return do_edit(rpc, sid);
	if (!strcmp(op, "lock") || !strcmp(op, "unlock"))
		return do_lock(rpc, sid, !strcmp(op, "lock"));
	if (!sw.running_only) {
		if (!strcmp(op, "validate"))
			return do_validate(rpc, sid);
		if (!strcmp(op, "commit"))
			return do_commit(rpc, sid);
		if (!strcmp(op, "cancel-commit"))
			return do_cancel(rpc, sid);
		if (!strcmp(op, "discard-changes")) {
			logline(sid, "discard-changes");
			if (sw.lock_candidate && sw.lock_candidate != sid)
				return reply_msg(NC_ERR_IN_USE, NULL, "the candidate is locked by session %u",
						 (unsigned)sw.lock_candidate);
			reset_candidate();
			return nc_server_reply_ok();
		}
	}
	logline(sid, "%s refused", op);
	return reply_msg(NC_ERR_OP_NOT_SUPPORTED, NULL, "%s is not supported by this test switch", op);
}

/* <get-schema>, answered here (see the top of the file). */
static struct nc_server_reply *sw_get_schema(struct lyd_node *rpc, struct nc_session *ns)
{
	const char *id = leaf_value(rpc, "identifier"), *version = leaf_value(rpc, "version");
	const struct lys_module *mod = NULL;
	char *text = NULL;
	struct lyd_node *out = NULL;
	logline(nc_session_get_id(ns), "get-schema %s", id ? id : "?");
	if (version && !version[0])
		version = NULL;
	if (id)
		mod = version ? ly_ctx_get_module(sw.ctx, id, version) : ly_ctx_get_module_latest(sw.ctx, id);
	if (!mod)
		return reply_msg(NC_ERR_INVALID_VALUE, "identifier", "no schema %s", id ? id : "");
	if (lys_print_mem(&text, mod, LYS_OUT_YANG, 0) != LY_SUCCESS || lyd_dup_single(rpc, NULL, 0, &out) != LY_SUCCESS ||
	    lyd_new_any(out, NULL, "data", text, 0, LYD_ANYDATA_STRING, 1, NULL) != LY_SUCCESS) {
		free(text);
		lyd_free_all(out);
		return reply_msg(NC_ERR_OP_FAILED, NULL, "cannot print the schema");
	}
	free(text);
	return nc_server_reply_data(out, NC_WD_EXPLICIT, NC_PARAMTYPE_FREE);
}

/* ------------------------------------------------------------- sessions */

static void session_gone(uint32_t sid)
{
	logline(sid, "session-end");
	if (sw.lock_running == sid)
		sw.lock_running = 0;
	if (sw.lock_candidate == sid) {
		sw.lock_candidate = 0;
		reset_candidate();
	}
	if (sw.cc.pending && sw.cc.sid == sid && !sw.cc.persist[0])
		rollback("session-end");
}

static void check_timer(void)
{
	struct timespec now;
	if (!sw.cc.pending)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > sw.cc.deadline.tv_sec ||
	    (now.tv_sec == sw.cc.deadline.tv_sec && now.tv_nsec >= sw.cc.deadline.tv_nsec))
		rollback("timeout");
}

static int hostkey_clb(const char *name, void *ud, char **path, char **data, NC_SSH_KEY_TYPE *type)
{
	(void)name;
	(void)ud;
	(void)data;
	(void)type;
	*path = strdup(sw.hostkey);
	return *path ? 0 : 1;
}

static int passwd_clb(const struct nc_session *s, const char *password, void *ud)
{
	(void)ud;
	const char *user = nc_session_get_username(s);
	return sw.password && user && !strcmp(user, sw.user) && !strcmp(password, sw.password) ? 0 : 1;
}

/* ----------------------------------------------------------------- setup */

static int load_modules(const char *yang, const char *yuma)
{
	const char *nc_full[] = { "writable-running", "candidate", "confirmed-commit", "validate", NULL };
	const char *nc_run[] = { "writable-running", NULL };
	const char *mods[] = { "iana-if-type", "ietf-interfaces", "openconfig-interfaces", "openconfig-if-ethernet",
			       "openconfig-if-aggregate", "openconfig-vlan", "ncswitch-deviations" };
	if (ly_ctx_new(yang, 0, &sw.ctx) != LY_SUCCESS || ly_ctx_set_searchdir(sw.ctx, yuma) != LY_SUCCESS)
		return -1;
	if (!ly_ctx_load_module(sw.ctx, "ietf-netconf", NULL, sw.running_only ? nc_run : nc_full) ||
	    !ly_ctx_load_module(sw.ctx, "ietf-netconf-monitoring", NULL, NULL))
		return -1;
	for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++)
		if (!ly_ctx_load_module(sw.ctx, mods[i], NULL, NULL)) {
			fprintf(stderr, "ncswitch: cannot load %s: %s\n", mods[i], ly_errmsg(sw.ctx));
			return -1;
		}
	struct lysc_node *gs = (struct lysc_node *)lys_find_path(sw.ctx, NULL, "/ietf-netconf-monitoring:get-schema", 0);
	if (gs) {
		nc_rpc_clb cb = sw_get_schema;
		_Static_assert(sizeof cb == sizeof gs->priv, "function pointers fit in void *");
		memcpy(&gs->priv, &cb, sizeof cb);
	}
	return 0;
}

static int load_init(const char *path)
{
	struct lyd_node *tree = NULL;
	struct sw_err e = { 0 };
	if (path && lyd_parse_data_path(sw.ctx, path, LYD_XML, LYD_PARSE_STRICT | LYD_PARSE_ONLY, 0, &tree) !=
			    LY_SUCCESS) {
		fprintf(stderr, "ncswitch: %s: %s\n", path, ly_errmsg(sw.ctx));
		return -1;
	}
	if (validate_tree(&tree, &e, "initial configuration") < 0) {
		fprintf(stderr, "ncswitch: %s (%s)\n", e.msg, e.path);
		lyd_free_all(tree);
		return -1;
	}
	set_running(tree);
	reset_candidate();
	return 0;
}

static int setup_endpoint(int port, const char *authkey)
{
	int methods = NC_SSH_AUTH_PUBLICKEY | (sw.password ? NC_SSH_AUTH_PASSWORD : 0);
	nc_server_ssh_set_hostkey_clb(hostkey_clb, NULL, NULL);
	if (sw.password)
		nc_server_ssh_set_passwd_auth_clb(passwd_clb, NULL, NULL);
	if (nc_server_add_endpt(SW_ENDPT, NC_TI_LIBSSH) || nc_server_endpt_set_address(SW_ENDPT, "127.0.0.1") ||
	    nc_server_endpt_set_port(SW_ENDPT, (uint16_t)port) || nc_server_ssh_endpt_add_hostkey(SW_ENDPT, "k", -1) ||
	    nc_server_ssh_endpt_set_auth_methods(SW_ENDPT, methods) ||
	    nc_server_ssh_endpt_set_auth_attempts(SW_ENDPT, 3))
		return -1;
	if (authkey && nc_server_ssh_add_authkey_path(authkey, sw.user))
		return -1;
	return 0;
}

static void serve(void)
{
	struct nc_pollsession *ps = nc_ps_new();
	while (!sw_stop && ps) {
		struct nc_session *s = NULL;
		if (nc_accept(SW_POLL_MS, &s) == NC_MSG_HELLO) {
			logline(nc_session_get_id(s), "session-start %s", nc_session_get_username(s));
			if (nc_ps_add_session(ps, s) < 0)
				nc_session_free(s, NULL);
		}
		s = NULL;
		int r = nc_ps_poll(ps, SW_POLL_MS, &s);
		if (s && (r & (NC_PSPOLL_SESSION_TERM | NC_PSPOLL_SESSION_ERROR))) {
			session_gone(nc_session_get_id(s));
			nc_ps_del_session(ps, s);
			nc_session_free(s, NULL);
		}
		check_timer();
	}
	if (ps) {
		nc_ps_clear(ps, 1, NULL);
		nc_ps_free(ps);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },     { "hostkey", required_argument, NULL, 'k' },
		{ "authkey", required_argument, NULL, 'a' },  { "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'w' }, { "yang", required_argument, NULL, 'y' },
		{ "yuma", required_argument, NULL, 'Y' },     { "init", required_argument, NULL, 'i' },
		{ "rpclog", required_argument, NULL, 'l' },   { "running-only", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *authkey = NULL, *yang = NULL, *yuma = "/usr/share/yuma/modules/ietf", *init = NULL, *rpclog = NULL;
	int port = 0, c, rc = 1;
	sw.user = "root";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'k': sw.hostkey = optarg; break;
		case 'a': authkey = optarg; break;
		case 'u': sw.user = optarg; break;
		case 'w': sw.password = optarg; break;
		case 'y': yang = optarg; break;
		case 'Y': yuma = optarg; break;
		case 'i': init = optarg; break;
		case 'l': rpclog = optarg; break;
		case 'r': sw.running_only = true; break;
		default: return 2;
		}
	}
	if (port <= 0 || port > 65535 || !sw.hostkey || !yang || (!authkey && !sw.password)) {
		fprintf(stderr, "usage: ncswitch --port P --hostkey PEM (--authkey PUB | --password PW) --yang DIR "
				"[--user U] [--yuma DIR] [--init XML] [--rpclog FILE] [--running-only]\n");
		return 2;
	}
	if (rpclog && !(sw.rpclog = fopen(rpclog, "a"))) {
		fprintf(stderr, "ncswitch: %s: %s\n", rpclog, strerror(errno));
		return 1;
	}
	ly_log_options(LY_LOSTORE_LAST);
	if (load_modules(yang, yuma) < 0) {
		fprintf(stderr, "ncswitch: YANG modules: %s\n", sw.ctx ? ly_errmsg(sw.ctx) : "no context");
		goto out;
	}
	if (load_init(init) < 0)
		goto out;
	nc_verbosity(NC_VERB_WARNING);
	if (nc_server_init(sw.ctx)) {
		fprintf(stderr, "ncswitch: nc_server_init failed\n");
		goto out;
	}
	nc_set_global_rpc_clb(sw_rpc);
	if (setup_endpoint(port, authkey) < 0) {
		fprintf(stderr, "ncswitch: cannot listen on 127.0.0.1:%d\n", port);
		nc_server_destroy();
		goto out;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stderr, "ncswitch: listening on 127.0.0.1:%d (%s)\n", port, sw.running_only ? "running only" : "candidate");
	serve();
	nc_server_destroy();
	rc = 0;
out:
	lyd_free_all(sw.running);
	lyd_free_all(sw.candidate);
	lyd_free_all(sw.cc.backup);
	ly_ctx_destroy(sw.ctx);
	if (sw.rpclog)
		fclose(sw.rpclog);
	return rc;
}
