/* annealer/ann_int.h — private to annealer/: the in-memory model and the
 * small containers behind it.  Nothing outside annealer/ includes this. */
#ifndef NETD_ANN_INT_H
#define NETD_ANN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "annealer/annealer.h"

/* ---- containers (ann_util.c) ---- */

/* A growable array of ids. */
struct ann_vec {
	uint32_t *v;
	uint32_t n, cap;
};

int ann_vec_push(struct ann_vec *vec, uint32_t x);      /* 0 or -ENOMEM */
int ann_vec_reserve(struct ann_vec *vec, uint32_t cap); /* 0 or -ENOMEM */
void ann_vec_free(struct ann_vec *vec);

/* Grow @vec's capacity to at least @need (doubling).  0 or -ENOMEM. */
int ann_vec_grow_to(struct ann_vec *vec, uint32_t need);

/* Name -> id, open addressing; the names live in the owner's records and
 * are reached through @name_of. */
struct ann_index {
	uint32_t *slot;        /* id + 1; 0 = empty */
	size_t cap;            /* power of two, or 0 */
	size_t n;
};

typedef const char *ann_name_fn(const void *owner, uint32_t id);

/* ANN_NONE if absent. */
uint32_t ann_index_get(const struct ann_index *ix, const char *name, ann_name_fn *name_of,
		       const void *owner);
/* Insert @id under @name (not present yet).  0 or -ENOMEM. */
int ann_index_put(struct ann_index *ix, const char *name, uint32_t id, ann_name_fn *name_of,
		  const void *owner);
void ann_index_free(struct ann_index *ix);

/* ---- the model ---- */

struct ann_role {
	char *name;
	char *jig;
	char **req_names;
	uint32_t *req;           /* resolved role ids (at binding), ANN_NONE if not yet */
	uint32_t n_req;
	unsigned flags;
	struct ann_retry retry;
	struct ann_vec nrs;      /* node-roles of this role */
};

struct ann_node {
	char *name;
	uint32_t running;        /* node-role in transition, or ANN_NONE */
	struct ann_vec nrs;      /* node-roles on this node */
	struct ann_vec parked;   /* todo node-roles waiting for the node */
};

struct ann_dep {
	char *name;
	bool committed;
	enum ann_dep_state state;
	uint32_t count[ANN_NSTATES];
	struct ann_vec nrs;      /* node-roles of this deployment */
};

struct ann_nr {
	uint32_t node, role, dep;
	uint8_t state;           /* enum ann_state */
	bool bound;
	bool rerun;
	uint32_t cohort;
	uint32_t run_count;
	uint32_t attempts;
	uint32_t nonactive;      /* parents not active */
	uint8_t queue;           /* ANN_Q_*: where a todo node-role waits */
	uint32_t qpos;           /* its position there */
	uint32_t mark;           /* visit epoch for traversals */
	uint64_t next_eligible;
	struct ann_vec parents;
	struct ann_vec children;
};

enum { ANN_Q_NONE = 0, ANN_Q_READY, ANN_Q_TIMER, ANN_Q_PARKED };

/* Growable arrays of records, indexed by id. */
#define ANN_ARRAY(type) struct { type *v; uint32_t n, cap; }

struct ann {
	struct ann_opts opts;
	ANN_ARRAY(struct ann_role) roles;
	ANN_ARRAY(struct ann_node) nodes;
	ANN_ARRAY(struct ann_dep) deps;
	ANN_ARRAY(struct ann_nr) nrs;
	struct ann_index role_ix, node_ix, dep_ix;
	/* Every todo node-role waits in exactly one of: the ready heap (key
	 * cohort, id), the timer heap (key next_eligible, id) or its node's
	 * parked list.  Capacities are reserved when node-roles are added, so
	 * the state machine never allocates. */
	struct ann_vec ready;
	struct ann_vec timer;
	struct ann_vec scratch;  /* traversal stack, capacity >= nrs.n */
	uint32_t epoch;
	uint32_t running;
	uint32_t count[ANN_NSTATES];
	uint64_t visits;
	uint64_t transitions;
};

/* ---- shared between the annealer's files ---- */

/* Grow an ANN_ARRAY to hold one more element.  0 or -ENOMEM. */
int ann_array_grow(void **v, uint32_t *cap, uint32_t n, size_t elem);
#define ANN_ARRAY_GROW(arr) \
	ann_array_grow((void **)&(arr).v, &(arr).cap, (arr).n, sizeof(*(arr).v))

/* Append a fresh proposed, unbound node-role; the caller checked the ids and
 * uniqueness.  0 or -ENOMEM (nothing added). */
int ann_nr_append(struct ann *a, uint32_t node, uint32_t role, uint32_t dep, uint32_t *ret_id);
/* Remove the node-roles with ids >= @first (all unbound, newest last):
 * undoes ann_nr_append() on a failed binding. */
void ann_nr_truncate(struct ann *a, uint32_t first);

/* Error path of a node-role, for struct netd_err. */
void ann_nr_path(const struct ann *a, uint32_t nr, char *buf, size_t len);

#endif
