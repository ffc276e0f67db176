/* netd/netconf.c — NETCONF over SSH on libnetconf2 2.0 (see netconf.h).
 *
 * libnetconf2 2.0 keeps no datastore: every RPC but <close-session> (its
 * own) and <get-schema> (ncs_get_schema) reaches ncs_rpc(), which maps it
 * onto the operation layer (netd/ops.h). The running datastore is the store itself; there is no
 * candidate (decisions.md D19). <lock> on running is a session id in struct
 * netd that ops_run() checks for every writer, RESTCONF included (D18).
 */
#include "netd/netconf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <nc_server.h>

#include "core/log.h"
#include "netd/metrics.h"
#include "netd/ops.h"
#include "netd/writer.h"
#include "netd/yangctx.h"

#define NCS_THREADS 4
#define NCS_ENDPT "netconf"
#define NCS_POLL_MS 50

struct ncs_key {
	char user[65];
	ssh_key key;
};

struct ncs_server {
	struct netd *d;
	struct nc_pollsession *ps;
	pthread_t threads[NCS_THREADS];
	size_t n_threads;
	atomic_bool stop;
	atomic_int running;             /* threads not yet finished */
	char host_key[4200];            /* PEM file */
	unsigned port;
	pthread_mutex_t lock;           /* users and keys (SIGHUP swaps them) */
	struct auth_user *users;        /* names and roles (hashes unused here) */
	size_t n_users;
	struct ncs_key *keys;
	size_t n_keys;
};

/* libnetconf2's callbacks carry no user data for RPCs: one server per process. */
static struct ncs_server *ncs_srv;

/* ------------------------------------------------------------ users, keys */

static void free_keys(struct ncs_key *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ssh_key_free(k[i].key);
	free(k);
}

/* "type base64 [comment]" -> a libssh public key, or NULL. */
static ssh_key parse_pubkey(const char *line)
{
	char type[64], b64[4096];
	ssh_key k = NULL;
	if (sscanf(line, "%63s %4095s", type, b64) != 2)
		return NULL;
	enum ssh_keytypes_e t = ssh_key_type_from_name(type);
	if (t == SSH_KEYTYPE_UNKNOWN || ssh_pki_import_pubkey_base64(b64, t, &k) != SSH_OK)
		return NULL;
	return k;
}

void netconf_reload(struct ncs_server *s, const struct netd_config *cfg)
{
	if (!s)
		return;
	struct auth_user *users = calloc(cfg->n_users + 1, sizeof *users);
	struct ncs_key *keys = calloc(cfg->n_ssh_keys + 1, sizeof *keys);
	size_t n_keys = 0;
	if (!users || !keys) {
		free(users);
		free(keys);
		log_err("netconf: out of memory reading users");
		return;
	}
	for (size_t i = 0; i < cfg->n_users; i++) {
		snprintf(users[i].name, sizeof users[i].name, "%s", cfg->users[i].name);
		users[i].role = cfg->users[i].role;
	}
	for (size_t i = 0; i < cfg->n_ssh_keys; i++) {
		ssh_key k = parse_pubkey(cfg->ssh_keys[i].key);
		if (!k) {
			log_warn("netconf: user %s: ssh-key %zu is not an OpenSSH public key, ignored",
				 cfg->ssh_keys[i].user, i + 1);
			continue;
		}
		snprintf(keys[n_keys].user, sizeof keys[n_keys].user, "%s", cfg->ssh_keys[i].user);
		keys[n_keys++].key = k;
	}
	pthread_mutex_lock(&s->lock);
	struct auth_user *old_users = s->users;
	struct ncs_key *old_keys = s->keys;
	size_t old_n_keys = s->n_keys;
	s->users = users;
	s->n_users = cfg->n_users;
	s->keys = keys;
	s->n_keys = n_keys;
	pthread_mutex_unlock(&s->lock);
	free(old_users);
	free_keys(old_keys, old_n_keys);
}

static void free_lists(struct ncs_server *s)
{
	free(s->users);
	free_keys(s->keys, s->n_keys);
	s->users = NULL;
	s->keys = NULL;
	s->n_users = s->n_keys = 0;
}

static enum auth_role user_role(struct ncs_server *s, const char *name)
{
	enum auth_role role = ROLE_NONE;
	if (!name)
		return role;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_users; i++) {
		if (!strcmp(s->users[i].name, name)) {
			role = s->users[i].role;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return role;
}

static int passwd_clb(const struct nc_session *session, const char *password, void *arg)
{
	struct ncs_server *s = arg;
	const char *user = nc_session_get_username(session);
	if (!user || !password || auth_check_basic(s->d->auth, user, password, NULL, NULL, 0) < 0) {
		log_info("netconf: password authentication of '%s' failed", user ? user : "");
		return 1;
	}
	return user_role(s, user) == ROLE_NONE;   /* a user removed by a reload in between */
}

static int pubkey_clb(const struct nc_session *session, ssh_key key, void *arg)
{
	struct ncs_server *s = arg;
	const char *user = nc_session_get_username(session);
	int rc = 1;
	if (!user)
		return 1;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_keys && rc; i++)
		if (!strcmp(s->keys[i].user, user) && ssh_key_cmp(s->keys[i].key, key, SSH_KEY_CMP_PUBLIC) == 0)
			rc = 0;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int hostkey_clb(const char *name, void *arg, char **path, char **data, NC_SSH_KEY_TYPE *type)
{
	struct ncs_server *s = arg;
	*path = strdup(s->host_key);
	return *path ? 0 : 1;
}

/* The configured host key, or <store>/ssh_host_key made now if absent. */
static int host_key(struct ncs_server *s, struct netd_err *e)
{
	const struct netd_config *c = &s->d->cfg;
	struct stat st;
	if (c->nc_host_key[0]) {
		snprintf(s->host_key, sizeof s->host_key, "%s", c->nc_host_key);
		if (access(s->host_key, R_OK) < 0)
			return netd_err_set(e, -errno, "/netd-server:server/netconf/host-key", "netconf host-key %s: %s",
					    s->host_key, strerror(errno));
		return 0;
	}
	snprintf(s->host_key, sizeof s->host_key, "%s/ssh_host_key", c->store);
	if (stat(s->host_key, &st) == 0) {
		if (st.st_mode & 077)
			return netd_err_set(e, NETD_EINVAL, NULL, "%s: readable by group or others; chmod 600 it",
					    s->host_key);
		return 0;
	}
	ssh_key key = NULL;
	char *pem = NULL, tmp[4300];
	int rc = 0;
	if (ssh_pki_generate(SSH_KEYTYPE_ECDSA_P256, 256, &key) != SSH_OK ||
	    ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &pem) != SSH_OK) {
		ssh_key_free(key);
		return netd_err_set(e, NETD_EINVAL, NULL, "cannot make an SSH host key");
	}
	ssh_key_free(key);
	snprintf(tmp, sizeof tmp, "%s.tmp", s->host_key);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t len = strlen(pem);
	if (fd < 0 || write(fd, pem, len) != (ssize_t)len || fsync(fd) < 0 || rename(tmp, s->host_key) < 0)
		rc = netd_err_set(e, -errno, NULL, "%s: %s", s->host_key, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	else
		log_info("netconf: made SSH host key %s", s->host_key);
	ssh_string_free_char(pem);
	return rc;
}

/* ----------------------------------------------------------------- replies */

/* The error-tag of the <rpc-error> this thread built for the RPC it is
 * answering (NULL = none: ok), for metrics. One RPC per thread at a time. */
static _Thread_local const char *ncs_reply_tag;

static const char *tag_name(NC_ERR tag)
{
	static const char *const names[] = {
		[NC_ERR_IN_USE] = "in-use", [NC_ERR_INVALID_VALUE] = "invalid-value", [NC_ERR_TOO_BIG] = "too-big",
		[NC_ERR_MISSING_ATTR] = "missing-attribute", [NC_ERR_BAD_ATTR] = "bad-attribute",
		[NC_ERR_UNKNOWN_ATTR] = "unknown-attribute", [NC_ERR_MISSING_ELEM] = "missing-element",
		[NC_ERR_BAD_ELEM] = "bad-element", [NC_ERR_UNKNOWN_ELEM] = "unknown-element",
		[NC_ERR_UNKNOWN_NS] = "unknown-namespace", [NC_ERR_ACCESS_DENIED] = "access-denied",
		[NC_ERR_LOCK_DENIED] = "lock-denied", [NC_ERR_RES_DENIED] = "resource-denied",
		[NC_ERR_ROLLBACK_FAILED] = "rollback-failed", [NC_ERR_DATA_EXISTS] = "data-exists",
		[NC_ERR_DATA_MISSING] = "data-missing", [NC_ERR_OP_NOT_SUPPORTED] = "operation-not-supported",
		[NC_ERR_OP_FAILED] = "operation-failed", [NC_ERR_MALFORMED_MSG] = "malformed-message",
	};
	if ((unsigned)tag < sizeof names / sizeof names[0] && names[tag])
		return names[tag];
	return "operation-failed";
}

static struct nc_server_reply *reply_tag(const struct ly_ctx *ctx, NC_ERR tag, const char *path, const char *msg)
{
	struct lyd_node *e;
	ncs_reply_tag = tag_name(tag);
	switch (tag) {
	case NC_ERR_DATA_EXISTS:
	case NC_ERR_DATA_MISSING:
	case NC_ERR_MALFORMED_MSG:
		e = nc_err(ctx, tag);
		break;
	case NC_ERR_UNKNOWN_ELEM:
	case NC_ERR_BAD_ELEM:
	case NC_ERR_MISSING_ELEM:
		e = nc_err(ctx, tag, NC_ERR_TYPE_APP, path && path[0] ? path : "config");
		break;
	default:
		e = nc_err(ctx, tag, NC_ERR_TYPE_APP);
		break;
	}
	if (!e)
		return NULL;
	if (path && path[0])
		nc_err_set_path(e, path);
	if (msg && msg[0])
		nc_err_set_msg(e, msg, "en");
	return nc_server_reply_err(e);
}

static NC_ERR tag_of(const char *tag)
{
	static const struct { const char *name; NC_ERR tag; } map[] = {
		{ "in-use", NC_ERR_IN_USE },
		{ "invalid-value", NC_ERR_INVALID_VALUE },
		{ "too-big", NC_ERR_TOO_BIG },
		{ "unknown-element", NC_ERR_UNKNOWN_ELEM },
		{ "bad-element", NC_ERR_BAD_ELEM },
		{ "missing-element", NC_ERR_MISSING_ELEM },
		{ "access-denied", NC_ERR_ACCESS_DENIED },
		{ "resource-denied", NC_ERR_RES_DENIED },
		{ "data-exists", NC_ERR_DATA_EXISTS },
		{ "data-missing", NC_ERR_DATA_MISSING },
		{ "operation-not-supported", NC_ERR_OP_NOT_SUPPORTED },
		{ "malformed-message", NC_ERR_MALFORMED_MSG },
	};
	for (size_t i = 0; tag && i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i].name, tag))
			return map[i].tag;
	return NC_ERR_OP_FAILED;
}

/* The struct netd_err of an operation as <rpc-error>: error-type application,
 * the RESTCONF error-tag, error-path and error-message. */
static struct nc_server_reply *reply_result(struct ncs_server *s, struct ops_result *r)
{
	if (!r->error_tag)
		ops_result_from_err(r);
	return reply_tag(s->d->ly, tag_of(r->error_tag), r->err.path, r->err.msg);
}

static struct nc_server_reply *reply_msg(struct ncs_server *s, NC_ERR tag, const char *msg)
{
	return reply_tag(s->d->ly, tag, NULL, msg);
}

/* -------------------------------------------------------- through the writer */

struct ncs_wait {
	pthread_mutex_t m;
	pthread_cond_t cv;
	bool done;
	struct wr_job job;
};

static void job_done(struct wr_job *job)
{
	struct ncs_wait *w = job->arg;
	pthread_mutex_lock(&w->m);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->m);
}

/* Hand @p to the writer and wait until it is committed (or refused). */
static void run_write(struct ncs_server *s, struct nc_session *ns, struct ops_prep *p, struct ops_result *r)
{
	struct ncs_wait w = { .done = false };
	pthread_mutex_init(&w.m, NULL);
	pthread_cond_init(&w.cv, NULL);
	ops_prep_set_session(p, nc_session_get_id(ns));
	w.job.prep = p;
	w.job.res = r;
	w.job.done = job_done;
	w.job.arg = &w;
	wr_submit(s->d->writer, &w.job);
	pthread_mutex_lock(&w.m);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.m);
	pthread_mutex_unlock(&w.m);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.m);
}

/* ---------------------------------------------------------- subtree filters */

/* A filter node may be opaque (anyxml content) or a data node. */
static const char *f_name(const struct lyd_node *f)
{
	return f->schema ? f->schema->name : ((const struct lyd_node_opaq *)f)->name.name;
}

static const char *f_ns(const struct lyd_node *f)
{
	if (f->schema)
		return f->schema->module->ns;
	const struct lyd_node_opaq *o = (const struct lyd_node_opaq *)f;
	return o->format == LY_VALUE_XML ? o->name.module_ns : NULL;
}

/* The text of a filter leaf without surrounding white space, in @buf. */
static const char *f_text(const struct lyd_node *f, char *buf, size_t len)
{
	const char *v = f->schema ? ((f->schema->nodetype & LYD_NODE_TERM) ? lyd_get_value(f) : "")
				  : ((const struct lyd_node_opaq *)f)->value;
	if (!v)
		v = "";
	v += strspn(v, " \t\r\n");
	size_t n = strlen(v);
	while (n && strchr(" \t\r\n", v[n - 1]))
		n--;
	snprintf(buf, len, "%.*s", (int)n, v);
	return buf;
}

static bool f_match(const struct lyd_node *f, const struct lyd_node *dn)
{
	const char *ns = f_ns(f);
	return dn->schema && !strcmp(f_name(f), dn->schema->name) && (!ns || !ns[0] || !strcmp(ns, dn->schema->module->ns));
}

static bool f_is_content(const struct lyd_node *f)
{
	char buf[8];
	return !lyd_child(f) && f_text(f, buf, sizeof buf)[0];
}

static bool term_equals(const struct lyd_node *dn, const struct lyd_node *f)
{
	char buf[1024];
	const char *v = dn->schema && (dn->schema->nodetype & LYD_NODE_TERM) ? lyd_get_value(dn) : NULL;
	return v && !strcmp(v, f_text(f, buf, sizeof buf));
}

static bool filter_node(struct lyd_node *dn, const struct lyd_node *f);

/* Keep of the siblings starting at *first (children of @parent, or the top
 * level when @parent is NULL) what the filter siblings @ff select. */
static bool filter_list(struct lyd_node *parent, struct lyd_node **first, const struct lyd_node *ff)
{
	struct lyd_node *dn = parent ? lyd_child(parent) : *first, *next;
	bool kept = false;
	for (; dn; dn = next) {
		next = dn->next;
		const struct lyd_node *f, *only = NULL;
		if (dn->schema && (dn->schema->flags & LYS_KEY)) {
			/* keys always stay; selecting one counts as a selection */
			LY_LIST_FOR(ff, f)
				if (f_match(f, dn) && !lyd_child(f))
					kept = true;
			continue;
		}
		bool whole = false;
		size_t n_cont = 0;
		LY_LIST_FOR(ff, f) {
			if (!f_match(f, dn))
				continue;
			if (!lyd_child(f) && (!f_is_content(f) || term_equals(dn, f))) {
				whole = true;   /* selection node, or a matching content match */
				break;
			}
			if (lyd_child(f)) {
				only = f;
				n_cont++;
			}
		}
		if (whole || (n_cont == 1 && filter_node(dn, only))) {
			kept = true;
			continue;
		}
		if (n_cont > 1) {
			/* several containment nodes (e.g. two list entries): the union */
			struct lyd_node *acc = NULL;
			LY_LIST_FOR(ff, f) {
				struct lyd_node *dup = NULL;
				if (!lyd_child(f) || !f_match(f, dn) ||
				    lyd_dup_single(dn, NULL, LYD_DUP_RECURSIVE, &dup) != LY_SUCCESS)
					continue;
				if (!filter_node(dup, f))
					lyd_free_tree(dup);
				else if (!acc)
					acc = dup;
				else
					lyd_merge_tree(&acc, dup, LYD_MERGE_DESTRUCT);
			}
			if (acc) {
				lyd_insert_before(dn, acc);
				if (*first == dn)
					*first = acc;
				kept = true;
			}
		}
		if (*first == dn)
			*first = next;
		lyd_free_tree(dn);
	}
	return kept;
}

/* @dn matches filter node @f (which has children): prune @dn to what @f
 * selects. false: @dn is not selected at all. */
static bool filter_node(struct lyd_node *dn, const struct lyd_node *f)
{
	const struct lyd_node *fc;
	bool only_content = true, has_content = false;
	if (!dn->schema || !(dn->schema->nodetype & LYD_NODE_INNER))
		return false;
	LY_LIST_FOR(lyd_child(f), fc) {
		if (!f_is_content(fc)) {
			only_content = false;
			continue;
		}
		has_content = true;
		const struct lyd_node *dc;
		bool found = false;
		LY_LIST_FOR(lyd_child(dn), dc)
			if (f_match(fc, dc) && term_equals(dc, fc))
				found = true;
		if (!found)
			return false;
	}
	if (only_content)
		return true;
	struct lyd_node *first = lyd_child(dn);
	bool kept = filter_list(dn, &first, lyd_child(f));
	return has_content || kept;
}

/* What to build for a filter: one top-level container, or one entry of it
 * when the filter names it by key; "" for anything else. */
static void filter_xpath(const struct lyd_node *ff, char *xp, size_t len)
{
	char buf[256], key[300];
	xp[0] = '\0';
	if (!ff || ff->next || ff->prev != ff)
		return;
	const char *top = f_name(ff);
	const char *list = !strcmp(top, "networks") ? "network" : !strcmp(top, "nodes") ? "node" : NULL;
	if (!list)
		return;
	snprintf(xp, len, "/netd:%s", top);
	const struct lyd_node *e = lyd_child(ff), *k;
	if (!e || e->next || strcmp(f_name(e), list))
		return;
	LY_LIST_FOR(lyd_child(e), k) {
		if (!strcmp(f_name(k), "name") && !lyd_child(k) && f_text(k, buf, sizeof buf)[0]) {
			snprintf(xp, len, "/netd:%s/%s[name=%s]", top, list, netd_path_key(buf, key, sizeof key));
			return;
		}
	}
}

/* ------------------------------------------------------------------- RPCs */

/* The content of anyxml/anydata @n as an opaque or data tree: borrowed in
 * *out, or parsed into *own (to free). */
static int any_tree(struct ncs_server *s, const struct lyd_node *n, const struct lyd_node **out, struct lyd_node **own)
{
	const struct lyd_node_any *a = (const struct lyd_node_any *)n;
	char *xml = NULL;
	*out = NULL;
	*own = NULL;
	if (a->value_type == LYD_ANYDATA_DATATREE) {
		*out = a->value.tree;
		return 0;
	}
	if (lyd_any_value_str(n, &xml) != LY_SUCCESS)
		return -1;
	if (xml && xml[strspn(xml, " \t\r\n")]) {
		LY_ERR lr = lyd_parse_data_mem(s->d->ly, xml, LYD_XML, LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0, own);
		free(xml);
		if (lr != LY_SUCCESS)
			return -1;
		*out = *own;
		return 0;
	}
	free(xml);
	return 0;
}

static struct nc_server_reply *do_get(struct ncs_server *s, struct lyd_node *rpc, enum ops_content content,
				      bool redact)
{
	struct lyd_node *filter = NULL, *tree = NULL, *own = NULL, *out = NULL;
	const struct lyd_node *ff = NULL;
	struct ops_result r = { 0 };
	struct nc_server_reply *reply;
	char xpath[600] = "";
	bool filtered = false;

	r.redact = redact;   /* credentials are for admins */
	if (lyd_find_path(rpc, "filter", 0, &filter) == LY_SUCCESS && filter) {
		for (struct lyd_meta *m = filter->meta; m; m = m->next)
			if (!strcmp(m->name, "type") && !strcmp(lyd_get_meta_value(m), "xpath"))
				return reply_msg(s, NC_ERR_OP_NOT_SUPPORTED, "only subtree filters are supported");
		if (any_tree(s, filter, &ff, &own) < 0)
			return reply_msg(s, NC_ERR_MALFORMED_MSG, "the filter is not well-formed XML");
		filtered = true;
		filter_xpath(ff, xpath, sizeof xpath);
	}
	if (filtered && !ff) {
		tree = NULL;   /* an empty filter selects nothing (RFC 6241 6.4.2) */
	} else if (ops_get_tree(s->d, xpath, content, &tree, &r) < 0) {
		lyd_free_all(own);
		reply = reply_result(s, &r);
		ops_result_clear(&r);
		return reply;
	}
	if (ff && tree)
		filter_list(NULL, &tree, ff);
	lyd_free_all(own);
	if (lyd_dup_single(rpc, NULL, 0, &out) != LY_SUCCESS ||
	    lyd_new_any(out, NULL, "data", tree, 1, LYD_ANYDATA_DATATREE, 1, NULL) != LY_SUCCESS) {
		lyd_free_all(tree);
		lyd_free_all(out);
		return reply_msg(s, NC_ERR_OP_FAILED, "cannot build the reply");
	}
	return nc_server_reply_data(out, NC_WD_ALL, NC_PARAMTYPE_FREE);
}

static bool target_is_running(struct lyd_node *rpc, const char *container)
{
	char path[64];
	struct lyd_node *n = NULL;
	snprintf(path, sizeof path, "%s/running", container);
	return lyd_find_path(rpc, path, 0, &n) == LY_SUCCESS && n;
}

static struct nc_server_reply *do_edit(struct ncs_server *s, struct nc_session *ns, struct lyd_node *rpc)
{
	struct lyd_node *n = NULL;
	enum ops_nc_defop defop = OPS_NC_MERGE;
	struct ops_result r = { 0 };
	struct ops_prep *p = NULL;
	struct nc_server_reply *reply;
	char *xml = NULL;

	if (!target_is_running(rpc, "target"))
		return reply_msg(s, NC_ERR_OP_NOT_SUPPORTED, "only the running datastore can be edited");
	if (lyd_find_path(rpc, "default-operation", 0, &n) == LY_SUCCESS && n) {
		const char *v = lyd_get_value(n);
		defop = !strcmp(v, "replace") ? OPS_NC_REPLACE : !strcmp(v, "none") ? OPS_NC_NONE : OPS_NC_MERGE;
	}
	n = NULL;
	if (lyd_find_path(rpc, "config", 0, &n) != LY_SUCCESS || !n)
		return reply_msg(s, NC_ERR_OP_NOT_SUPPORTED, "edit-config needs <config> (no <url>)");
	if (lyd_any_value_str(n, &xml) != LY_SUCCESS)
		return reply_msg(s, NC_ERR_MALFORMED_MSG, "<config> is not well-formed XML");
	int rc = ops_nc_edit_prepare(s->d, xml, defop, &p, &r);
	free(xml);
	if (rc == 0)
		run_write(s, ns, p, &r);
	if (r.err.code)
		reply = reply_result(s, &r);
	else
		reply = nc_server_reply_ok();
	ops_result_clear(&r);
	ops_prep_free(p);
	return reply;
}

static struct nc_server_reply *do_lock(struct ncs_server *s, struct nc_session *ns, struct lyd_node *rpc, bool lock)
{
	uint32_t sid = nc_session_get_id(ns);
	char msg[128];
	if (!target_is_running(rpc, "target"))
		return reply_msg(s, NC_ERR_OP_NOT_SUPPORTED, "only the running datastore can be locked");
	if (lock) {
		uint32_t holder = 0;
		if (atomic_compare_exchange_strong(&s->d->nc_lock_sid, &holder, sid))
			return nc_server_reply_ok();
		struct lyd_node *e = nc_err(s->d->ly, NC_ERR_LOCK_DENIED, holder);
		ncs_reply_tag = tag_name(NC_ERR_LOCK_DENIED);
		snprintf(msg, sizeof msg, "the running datastore is locked by session %u", (unsigned)holder);
		nc_err_set_msg(e, msg, "en");
		return nc_server_reply_err(e);
	}
	uint32_t mine = sid;
	if (atomic_compare_exchange_strong(&s->d->nc_lock_sid, &mine, 0))
		return nc_server_reply_ok();
	snprintf(msg, sizeof msg, mine ? "the lock is held by session %u" : "the running datastore is not locked",
		 (unsigned)mine);
	return reply_msg(s, NC_ERR_OP_FAILED, msg);
}

static struct nc_server_reply *do_netd_rpc(struct ncs_server *s, struct nc_session *ns, struct lyd_node *rpc)
{
	struct ops_result r = { 0 };
	struct ops_prep *p = NULL;
	struct nc_server_reply *reply;
	const char *const *names = NULL, *const *values = NULL;
	size_t n_out = 0;

	if (ops_rpc_prepare_tree(s->d, rpc, &p, &r) == 0)
		run_write(s, ns, p, &r);
	if (!r.err.code)
		n_out = ops_rpc_outputs(p, &names, &values);
	if (r.err.code) {
		reply = reply_result(s, &r);
	} else if (n_out) {
		struct lyd_node *out = NULL;
		bool ok = lyd_dup_single(rpc, NULL, 0, &out) == LY_SUCCESS;
		for (size_t i = 0; ok && i < n_out; i++)
			ok = lyd_new_term(out, NULL, names[i], values[i], 1, NULL) == LY_SUCCESS;
		if (!ok) {
			lyd_free_all(out);
			reply = reply_msg(s, NC_ERR_OP_FAILED, "cannot build the reply");
		} else {
			reply = nc_server_reply_data(out, NC_WD_ALL, NC_PARAMTYPE_FREE);
		}
	} else {
		reply = nc_server_reply_ok();
	}
	ops_result_clear(&r);
	ops_prep_free(p);
	return reply;
}

static struct nc_server_reply *ncs_answer(struct lyd_node *rpc, struct nc_session *ns)
{
	struct ncs_server *s = ncs_srv;
	const char *mod = rpc->schema ? rpc->schema->module->name : "";
	const char *name = LYD_NAME(rpc);
	const char *user = nc_session_get_username(ns);
	enum auth_role role = user_role(s, user);
	bool netconf = !strcmp(mod, "ietf-netconf");

	log_debug("netconf: session %u (%s): %s:%s", (unsigned)nc_session_get_id(ns), user ? user : "", mod, name);

	if (role == ROLE_NONE)   /* removed from the configuration since the login */
		return reply_msg(s, NC_ERR_ACCESS_DENIED, "this user no longer exists");
	if (netconf && !strcmp(name, "get"))
		return do_get(s, rpc, OPS_CONTENT_ALL, role != ROLE_ADMIN);
	if (netconf && !strcmp(name, "get-config")) {
		if (!target_is_running(rpc, "source"))
			return reply_msg(s, NC_ERR_OP_NOT_SUPPORTED, "only the running datastore exists");
		return do_get(s, rpc, OPS_CONTENT_CONFIG, role != ROLE_ADMIN);
	}
	if (role != ROLE_ADMIN) {
		char msg[160];
		snprintf(msg, sizeof msg, "user '%s' is read-only: %s is not allowed", user ? user : "", name);
		return reply_msg(s, NC_ERR_ACCESS_DENIED, msg);
	}
	if (netconf && !strcmp(name, "edit-config"))
		return do_edit(s, ns, rpc);
	if (netconf && (!strcmp(name, "lock") || !strcmp(name, "unlock")))
		return do_lock(s, ns, rpc, !strcmp(name, "lock"));
	if (!strcmp(mod, "netd"))
		return do_netd_rpc(s, ns, rpc);
	return reply_msg(s, NC_ERR_OP_NOT_SUPPORTED, "this operation is not supported by netd");
}

/* Every RPC is counted and timed (metrics.h). */
static struct nc_server_reply *ncs_measured(nc_rpc_clb answer, struct lyd_node *rpc, struct nc_session *ns)
{
	uint64_t t0 = metrics_now_ns();
	ncs_reply_tag = NULL;
	struct nc_server_reply *reply = answer(rpc, ns);
	metrics_netconf(LYD_NAME(rpc), reply ? ncs_reply_tag : "operation-failed", metrics_now_ns() - t0);
	return reply;
}

static struct nc_server_reply *ncs_rpc(struct lyd_node *rpc, struct nc_session *ns)
{
	return ncs_measured(ncs_answer, rpc, ns);
}

/* <get-schema> (ietf-netconf-monitoring). libnetconf2 2.0.24 has its own, but
 * its reply is printed from freed memory with libyang 2.1.30 (ASan:
 * heap-use-after-free in nc_ps_poll; a plain build aborts with "double
 * free" once yangcli asks for a schema), so netd answers it. Any
 * authenticated user may read schemas. */
static struct nc_server_reply *ncs_answer_schema(struct lyd_node *rpc, struct nc_session *ns)
{
	struct ncs_server *s = ncs_srv;
	struct lyd_node *n = NULL, *out = NULL;
	const char *id = NULL, *version = NULL;
	char *text = NULL, msg[200];
	LYS_OUTFORMAT fmt = LYS_OUT_YANG;

	if (lyd_find_path(rpc, "identifier", 0, &n) == LY_SUCCESS && n)
		id = lyd_get_value(n);
	if (lyd_find_path(rpc, "version", 0, &n) == LY_SUCCESS && n)
		version = lyd_get_value(n);
	if (version && !version[0])
		version = NULL;
	if (lyd_find_path(rpc, "format", 0, &n) == LY_SUCCESS && n) {
		const char *f = lyd_get_value(n), *colon = f ? strchr(f, ':') : NULL;
		f = colon ? colon + 1 : f;
		if (f && !strcmp(f, "yin"))
			fmt = LYS_OUT_YIN;
		else if (f && strcmp(f, "yang"))
			return reply_tag(s->d->ly, NC_ERR_INVALID_VALUE, "/ietf-netconf-monitoring:format",
					 "only the yang and yin formats are available");
	}
	const struct lys_module *mod = NULL;
	const struct lysp_submodule *sub = NULL;
	if (id) {
		mod = version ? ly_ctx_get_module(s->d->ly, id, version) : ly_ctx_get_module_implemented(s->d->ly, id);
		if (!mod && !version)
			mod = ly_ctx_get_module_latest(s->d->ly, id);
		if (!mod)
			sub = version ? ly_ctx_get_submodule(s->d->ly, id, version) : ly_ctx_get_submodule_latest(s->d->ly, id);
	}
	if (!mod && !sub) {
		snprintf(msg, sizeof msg, "no schema '%s'%s%s", id ? id : "", version ? " revision " : "",
			 version ? version : "");
		return reply_tag(s->d->ly, NC_ERR_INVALID_VALUE, "/ietf-netconf-monitoring:identifier", msg);
	}
	LY_ERR lr = LY_SUCCESS;
	if (mod) {
		lr = lys_print_mem(&text, mod, fmt, 0);
	} else {
		struct ly_out *o = NULL;
		lr = ly_out_new_memory(&text, 0, &o);
		if (lr == LY_SUCCESS)
			lr = lys_print_submodule(o, sub, fmt, 0, 0);
		ly_out_free(o, NULL, 0);
	}
	if (lr != LY_SUCCESS || !text || lyd_dup_single(rpc, NULL, 0, &out) != LY_SUCCESS ||
	    lyd_new_any(out, NULL, "data", text, 0, LYD_ANYDATA_STRING, 1, NULL) != LY_SUCCESS) {
		free(text);
		lyd_free_all(out);
		return reply_msg(s, NC_ERR_OP_FAILED, "cannot print the schema");
	}
	free(text);
	log_debug("netconf: session %u: get-schema %s", (unsigned)nc_session_get_id(ns), id);
	return nc_server_reply_data(out, NC_WD_EXPLICIT, NC_PARAMTYPE_FREE);
}

static struct nc_server_reply *ncs_get_schema(struct lyd_node *rpc, struct nc_session *ns)
{
	return ncs_measured(ncs_answer_schema, rpc, ns);
}

/* ---------------------------------------------------------------- threads */

static void session_gone(struct ncs_server *s, struct nc_session *ns)
{
	uint32_t sid = nc_session_get_id(ns);
	uint32_t held = sid;
	if (atomic_compare_exchange_strong(&s->d->nc_lock_sid, &held, 0))
		log_info("netconf: session %u ended holding the lock; released", (unsigned)sid);
	log_debug("netconf: session %u (%s) closed", (unsigned)sid, nc_session_get_username(ns));
	nc_ps_del_session(s->ps, ns);
	nc_session_free(ns, NULL);
}

static void *ncs_thread(void *arg)
{
	struct ncs_server *s = ncs_srv;
	bool acceptor = arg != NULL;
	while (!atomic_load(&s->stop)) {
		struct nc_session *ns = NULL;
		if (acceptor) {
			NC_MSG_TYPE m = nc_accept(NCS_POLL_MS, &ns);
			if (m == NC_MSG_HELLO) {
				log_debug("netconf: session %u for %s", (unsigned)nc_session_get_id(ns),
					  nc_session_get_username(ns));
				if (nc_ps_add_session(s->ps, ns) < 0)
					nc_session_free(ns, NULL);
			}
			ns = NULL;
		}
		int r = nc_ps_poll(s->ps, NCS_POLL_MS, &ns);
		if (r & NC_PSPOLL_NOSESSIONS) {
			if (!acceptor)
				usleep(NCS_POLL_MS * 1000);
			continue;
		}
		if (ns && (r & (NC_PSPOLL_SESSION_TERM | NC_PSPOLL_SESSION_ERROR)))
			session_gone(s, ns);
	}
	nc_thread_destroy();
	atomic_fetch_sub(&s->running, 1);
	return NULL;
}

/* ------------------------------------------------------------- life cycle */

static void ncs_print(NC_VERB_LEVEL level, const char *msg)
{
	if (level == NC_VERB_ERROR)
		log_warn("netconf: %s", msg);
	else if (level == NC_VERB_WARNING)
		log_info("netconf: %s", msg);
	else
		log_debug("netconf: %s", msg);
}

int netconf_prepare(struct netd *d, struct netd_err *e)
{
	const char *dir = getenv("NETD_NETCONF_YANG_DIR");
	return yc_add_netconf(d->ly, dir && dir[0] ? dir : NETCONF_YANG_DIR, e);
}

static int setup_endpoint(struct ncs_server *s, struct netd_err *e)
{
	const struct netd_config *c = &s->d->cfg;
	if (nc_server_add_endpt(NCS_ENDPT, NC_TI_LIBSSH) || nc_server_ssh_endpt_add_hostkey(NCS_ENDPT, "hostkey", -1) ||
	    nc_server_ssh_endpt_set_auth_methods(NCS_ENDPT, NC_SSH_AUTH_PUBLICKEY | NC_SSH_AUTH_PASSWORD) ||
	    nc_server_ssh_endpt_set_auth_attempts(NCS_ENDPT, 3) || nc_server_ssh_endpt_set_auth_timeout(NCS_ENDPT, 30))
		return netd_err_set(e, NETD_EINVAL, NULL, "netconf: cannot set up the SSH endpoint");
	if (nc_server_endpt_set_address(NCS_ENDPT, c->nc_listen_host) || nc_server_endpt_set_port(NCS_ENDPT, c->nc_listen_port))
		return netd_err_set(e, -EADDRINUSE, "/netd-server:server/netconf/listen",
				    "netconf: cannot listen on %s port %u (address in use or not local)", c->nc_listen_host,
				    (unsigned)c->nc_listen_port);
	s->port = c->nc_listen_port;
	return 0;
}

int netconf_start(struct netd *d, struct ncs_server **out, struct netd_err *e)
{
	struct ncs_server *s = calloc(1, sizeof *s);
	int rc;
	*out = NULL;
	if (!s)
		return netd_err_set(e, -ENOMEM, NULL, "netconf: out of memory");
	s->d = d;
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->stop, false);
	atomic_init(&s->running, 0);
	ncs_srv = s;
	netconf_reload(s, &d->cfg);
	if ((rc = host_key(s, e)) < 0)
		goto fail;
	struct lysc_node *gs = (struct lysc_node *)lys_find_path(d->ly, NULL, "/ietf-netconf-monitoring:get-schema", 0);
	if (gs) {
		/* nc_set_rpc_callback() stores the function in the void *priv, which
		 * ISO C does not allow directly; POSIX makes the sizes equal */
		nc_rpc_clb cb = ncs_get_schema;
		_Static_assert(sizeof cb == sizeof gs->priv, "function pointers fit in void *");
		memcpy(&gs->priv, &cb, sizeof cb);
	}
	nc_set_print_clb(ncs_print);
	nc_verbosity(NC_VERB_WARNING);
	if (nc_server_init(d->ly)) {
		rc = netd_err_set(e, NETD_EINVAL, NULL, "netconf: libnetconf2 initialisation failed");
		goto fail;
	}
	ly_log_options(LY_LOSTORE_LAST);   /* as main() set it: errors go to clients, not stderr */
	nc_set_global_rpc_clb(ncs_rpc);
	nc_server_ssh_set_hostkey_clb(hostkey_clb, s, NULL);
	nc_server_ssh_set_passwd_auth_clb(passwd_clb, s, NULL);
	nc_server_ssh_set_pubkey_auth_clb(pubkey_clb, s, NULL);
	if ((rc = setup_endpoint(s, e)) < 0)
		goto fail_server;
	if (!(s->ps = nc_ps_new())) {
		rc = netd_err_set(e, -ENOMEM, NULL, "netconf: out of memory");
		goto fail_server;
	}
	for (size_t i = 0; i < NCS_THREADS; i++) {
		atomic_fetch_add(&s->running, 1);
		if (pthread_create(&s->threads[i], NULL, ncs_thread, i == 0 ? (void *)s : NULL) != 0) {
			atomic_fetch_sub(&s->running, 1);
			rc = netd_err_set(e, -EAGAIN, NULL, "netconf: cannot start threads");
			*out = s;
			netconf_stop(s);
			*out = NULL;
			return rc;
		}
		s->n_threads++;
	}
	*out = s;
	return 0;
fail_server:
	nc_server_destroy();
fail:
	free_lists(s);
	pthread_mutex_destroy(&s->lock);
	ncs_srv = NULL;
	free(s);
	return rc;
}

unsigned netconf_port(const struct ncs_server *s)
{
	return s ? s->port : 0;
}

void netconf_stop(struct ncs_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	/* a thread may wait for a write: keep the writer going until all are out */
	while (atomic_load(&s->running) > 0) {
		wr_drain(s->d->writer);
		nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000 * 1000 }, NULL);
	}
	for (size_t i = 0; i < s->n_threads; i++)
		pthread_join(s->threads[i], NULL);
	if (s->ps) {
		nc_ps_clear(s->ps, 1, NULL);
		nc_ps_free(s->ps);
	}
	nc_server_destroy();
	atomic_store(&s->d->nc_lock_sid, 0);
	free_lists(s);
	pthread_mutex_destroy(&s->lock);
	ncs_srv = NULL;
	free(s);
}
