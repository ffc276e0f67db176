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
#include "core/store.h"
#include "netd/netd.h"

enum ops_content { OPS_CONTENT_ALL = 0, OPS_CONTENT_CONFIG, OPS_CONTENT_NONCONFIG };

enum ops_method { OPS_POST, OPS_PUT, OPS_PATCH, OPS_DELETE };

/* Outcome of an operation, mapped to HTTP by the face. */
struct ops_result {
	int status;               /* HTTP status to answer with */
	const char *error_tag;    /* RFC 8040 error-tag, NULL on success */
	struct netd_err err;
	char *body;               /* JSON to send (heap), or NULL */
	char location[1024];      /* for 201 Created: the new resource's data path (xpath) */
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
/* After a successful run of an RPC with output: the output leaf's value
 * (and its name in *leaf), or NULL. */
const char *ops_rpc_output(const struct ops_prep *p, const char **leaf);
/* The NETCONF session a write comes from (0 = none), for the lock check. */
void ops_prep_set_session(struct ops_prep *p, uint32_t sid);

#endif
