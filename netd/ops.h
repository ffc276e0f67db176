/* netd/ops.h — what the faces (RESTCONF now, NETCONF later) ask of the
 * model: read a subtree, apply an edit, run an RPC.
 *
 * Reads run on any thread inside a read transaction.  Edits and RPCs run on
 * the loop thread inside a write (child) transaction, so each is atomic: the
 * records, the derived allocations and their indexes commit together or not
 * at all.  libyang validates every edit on the would-be result; the rest of
 * the rules are checked in C (ipam) and reported in the same error format.
 */
#ifndef NETD_OPS_H
#define NETD_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "core/err.h"
#include "core/model.h"
#include "core/store.h"
#include "netd/netd.h"

enum ops_content { OPS_CONTENT_ALL = 0, OPS_CONTENT_CONFIG, OPS_CONTENT_NONCONFIG };

enum ops_method { OPS_POST, OPS_PUT, OPS_PATCH, OPS_DELETE };

/* What a successful write changed, for the hooks (netd/hooks.h): filled by
 * ops_run() (reset at its start), read inside the transaction and after the
 * commit. Node names include both names of a renamed node. */
enum ops_doc { OPS_DOC_DNS = 0, OPS_DOC_ROLES, OPS_DOC_DEPLOYMENTS, OPS_DOC_CONDUITS, OPS_DOC_SWITCHES, OPS_NDOCS };
#define OPS_DOC_BIT(d) (1u << (d))
enum ops_touch_flag {
	OPS_T_ANNEAL = 1u << 0,      /* an annealer RPC ran (propose, commit, retry) */
	OPS_T_DNS_CHECK = 1u << 1,   /* dns-check asked for a reconciliation */
	OPS_T_NETWORKS_ALL = 1u << 2,/* networks changed in a way that may touch every node */
	OPS_T_RENAME = 1u << 3,      /* rename-node: nodes[0] is the old name, nodes[1] the new */
	OPS_T_DEVICES = 1u << 4,     /* a devices RPC queued a request (switch-learn, switch-sync, bmc-sync) */
};
struct ops_touched {
	char (*nodes)[MODEL_NAME_MAX];
	size_t n_nodes, cap_nodes;
	char (*nets)[MODEL_NAME_MAX];
	size_t n_nets, cap_nets;
	unsigned docs;               /* OPS_DOC_BIT() of the documents rewritten */
	unsigned flags;              /* enum ops_touch_flag */
};
/* Add a name (deduplicated). 0 or -ENOMEM. */
int ops_touch_node(struct ops_touched *tc, const char *name);
int ops_touch_net(struct ops_touched *tc, const char *name);
void ops_touched_clear(struct ops_touched *tc);

/* Outcome of an operation, mapped to HTTP by the face. */
struct ops_result {
	int status;               /* HTTP status to answer with */
	const char *error_tag;    /* RFC 8040 error-tag, NULL on success */
	struct netd_err err;
	char *body;               /* JSON to send (heap), or NULL */
	char location[1024];      /* for 201 Created: the new resource's data path (xpath) */
	struct ops_touched touched;   /* what a successful write changed */
	uint64_t generation;          /* a read: the store generation it saw (store_txn_generation) */
	bool redact;                  /* a read, set by the caller: leave out secrets (read-only users) */
};

void ops_result_clear(struct ops_result *r);
/* Fill @r's status and error-tag from r->err.code. */
void ops_result_from_err(struct ops_result *r);

/* Read the data at @xpath ("" = the whole datastore) as RESTCONF JSON. */
int ops_get(struct netd *d, const char *xpath, enum ops_content content, struct ops_result *r);

/* An edit: @xpath is the target ("" = datastore), @body the JSON request body
 * (NULL for DELETE). */
struct ops_edit {
	enum ops_method method;
	const char *xpath;
	const char *body;
};

/* Writes run in two steps. Prepare (any thread, no store access) parses and
 * checks the request; run (the writer, inside a write transaction) applies
 * it; finish (any thread, after the commit) prints the answer. run may be
 * called more than once for one prep (the store retries a batch after
 * growing its map) and leaves the prep reusable. */
struct ops_prep;

/* Edit: 0 and *out, or an error in @r (nothing to run). */
int ops_edit_prepare(struct netd *d, const struct ops_edit *ed, struct ops_prep **out, struct ops_result *r);
/* RPC @name (e.g. "netd:allocate-address") with RESTCONF JSON input
 * ({"netd:input": {...}}; NULL or empty = no input). */
int ops_rpc_prepare(struct netd *d, const char *name, const char *body, struct ops_prep **out,
		    struct ops_result *r);
int ops_run(struct netd *d, struct store_txn *t, struct ops_prep *p, uint64_t now, struct ops_result *r);
int ops_finish(struct netd *d, struct ops_prep *p, struct ops_result *r);
void ops_prep_free(struct ops_prep *p);   /* accepts NULL */

/* ---- NETCONF (netd/netconf.c) ---- */

/* ops_get() without printing: the tree (NULL = no data) in *out, the
 * caller's to free. 0 or an error in @r. */
int ops_get_tree(struct netd *d, const char *xpath, enum ops_content content, struct lyd_node **out,
		 struct ops_result *r);

/* <default-operation> of <edit-config>. */
enum ops_nc_defop { OPS_NC_MERGE = 0, OPS_NC_REPLACE, OPS_NC_NONE };

/* <edit-config> on running: @config_xml is the content of <config> (XML,
 * with operation="merge|replace|create|delete|remove" attributes in the
 * NETCONF base namespace). Prepared like ops_edit_prepare() and run by the
 * writer on the stored entries it names (decisions.md D4): create on an
 * existing node gives data-exists, delete of a missing one data-missing;
 * the result is validated by libyang before anything is stored. */
int ops_nc_edit_prepare(struct netd *d, const char *config_xml, enum ops_nc_defop defop, struct ops_prep **out,
			struct ops_result *r);
/* An RPC from its parsed tree (the operation node, e.g. netd:allocate-address
 * with its input leaves), copied and validated. */
int ops_rpc_prepare_tree(struct netd *d, const struct lyd_node *rpc, struct ops_prep **out, struct ops_result *r);
/* After a successful run of an RPC with output: its output leaves (names and
 * values, @n of them; valid while @p lives). Returns the count (0 = none). */
size_t ops_rpc_outputs(const struct ops_prep *p, const char *const **names, const char *const **values);

/* ---- for RPC handlers outside ops.c (netd/anneal.c, netd/dnsd.c) ---- */

/* An RPC's input leaf (NULL if absent), and every value of a leaf-list
 * (@out gets up to @max, returns the count found). */
const char *ops_rpc_leaf(const struct lyd_node *rpc, const char *name);
size_t ops_rpc_leaflist(const struct lyd_node *rpc, const char *name, const char **out, size_t max);
/* Add an output leaf (copied). 0 or -ENOMEM. */
int ops_rpc_set_output(struct ops_prep *p, const char *leaf, const char *value);
/* Fill @r with an error: HTTP @status, RFC 8040 @tag, netd @code, @path.
 * Returns @code. */
int ops_fail(struct ops_result *r, int status, const char *tag, int code, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* The stored configuration document @doc (the JSON of its top container,
 * e.g. {"netd:dns":{...}}) parsed into a new tree, or *out NULL when there
 * is none. 0 or a negative code. */
int ops_doc_load(struct netd *d, struct store_txn *t, enum ops_doc doc, struct lyd_node **out);
/* Replace the stored document @doc by @top (its top container; NULL or
 * empty = delete), without running the hooks (an RPC handler's own edit;
 * it marks the document touched in @r). */
int ops_doc_store(struct netd *d, struct store_txn *t, enum ops_doc doc, const struct lyd_node *top,
		  struct ops_result *r);
/* The NETCONF session a write comes from (0 = none), for the lock check. */
void ops_prep_set_session(struct ops_prep *p, uint32_t sid);

#endif
