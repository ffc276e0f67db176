/* annealer/annealer.h — node-role scheduling: the annealer's pure core.
 *
 * The annealer runs every node-role (a role applied to a node, inside a
 * deployment) in dependency order, after OpenCrowbar.  This header is the
 * scheduling core only: an in-memory model, binding, the state machine and
 * the scheduler.  It does no I/O, knows no clock (every call takes `now`) and
 * runs no jigs: the caller asks ann_next_runnable() what to start, starts it,
 * and reports the end with ann_complete().  The store persists the events
 * that ann_opts.on_event receives.
 *
 * States of a node-role:
 *
 *                   +----------+
 *                   | proposed |
 *                   +----------+
 *         commit,      |    |    commit,
 *         parents      |    |    a parent
 *         active       v    v    not active
 *     +--------> +------+  +---------+ <--- a parent re-runs (from todo)
 *     |          | todo |<-| blocked | <--- re-run asked, a parent not
 *     |          +------+  +---------+      active (from transition)
 *     |            |   parents   ^     <--- invalidated, a parent not
 *     | failed,    |   active    |          active (from active, error)
 *     | budget     | scheduled
 *     | left;      v
 *     | re-run;  +------------+
 *     | recovery | transition |
 *     +--------- +------------+
 *                  |        |
 *       succeeded  |        |  failed, budget spent
 *                  v        v
 *            +--------+  +-------+
 *            | active |  | error |
 *            +--------+  +-------+
 *                |           |
 *                +-----+-----+
 *                      |  invalidated (active, error) or retry (error),
 *                      v  parents active
 *                    todo
 *
 * The same, as the table ann_transition_allowed() checks (from -> to):
 *   proposed   -> todo, blocked          (ann_commit)
 *   todo       -> transition             (ann_next_runnable)
 *   todo       -> blocked                (an ancestor re-runs)
 *   transition -> active                 (ann_complete ok)
 *   transition -> todo                   (failed with budget left, re-run
 *                                         requested meanwhile, ann_recover)
 *   transition -> error                  (failed, budget spent)
 *   transition -> blocked                (re-run requested while a parent
 *                                         is not active)
 *   active     -> todo, blocked          (ann_invalidate)
 *   error      -> todo, blocked          (ann_retry, ann_invalidate)
 *   blocked    -> todo                   (all parents active again)
 * Everything else is refused.  ann_set_state() is the only place a
 * node-role's state changes; every change is logged at debug as
 *   node-role N (node/role): old -> new (cause)
 * and handed to ann_opts.on_event.
 *
 * Invariants kept by the semantic operations: a node-role in todo or active
 * has every parent active (an active destructive node-role is the one
 * exception, see ANN_ROLE_DESTRUCTIVE); so the descendants of a node-role
 * that is not active are never todo or active: when a node-role ends in
 * error, all its descendants are blocked and unrelated work goes on.
 *
 * Binding (ann_bind, run by ann_commit): for each role R that a node-role's
 * role requires, in order of preference:
 *   - R is a cluster role: every node-role of R in the same deployment;
 *   - the node-role of R on the same node (same deployment first, then the
 *     lowest id in any deployment among node-roles already bound);
 *   - R is implicit (node-local by nature): a node-role of R is created on
 *     the same node, in the same deployment, and bound in turn;
 *   - every node-role of R in the same deployment;
 *   - otherwise the binding fails (NETD_ENOTFOUND naming the requirement).
 * A cycle is refused (NETD_EINVAL, "cycle: dns@n1 -> ipam@n1 -> dns@n1",
 * following requires).  Cohort = max(parents' cohorts) + 1, 0 without
 * parents.  Node-roles are bound once: a node-role added later never becomes
 * a parent of one already bound.
 *
 * Scheduling: runnable = todo, deployment committed, every parent active, no
 * other node-role of its node in transition, backoff over.  Picked in order
 * of (cohort, id), at most ann_opts.max_running at once.  Nothing is
 * rescanned: a ready heap keyed by (cohort, id), a backoff heap keyed by
 * time, per-node parking while the node is busy and per-node-role counts of
 * parents not active are updated on each transition, so a completion costs
 * O(children of the node-role) plus O(log n) heap work.
 *
 * Time: `now` and the backoff values are in one unit chosen by the caller
 * (netd uses milliseconds of CLOCK_MONOTONIC); events carry `now` as given.
 *
 * Ids are dense: the n-th role/node/deployment/node-role added has id n-1.
 * Nothing is ever removed in this slice.
 *
 * Caveats:
 *  - Not thread-safe: one owner (the event loop) calls everything.
 *  - The event callback must not call back into the annealer.
 *  - Jigs must be idempotent: after a crash, ann_recover() queues again the
 *    node-roles that were in transition, so a jig may run twice for one
 *    transition.
 *  - ann_set_state() keeps the bookkeeping right but applies no policy (it
 *    does not unblock children, reset attempts or cascade): daemons use the
 *    semantic operations (commit, next_runnable, complete, retry,
 *    invalidate, recover); ann_set_state() is public for tests and tools.
 */
#ifndef NETD_ANNEALER_H
#define NETD_ANNEALER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define ANN_NONE UINT32_MAX  /* "no id" */

enum ann_state {
	ANN_PROPOSED = 0,
	ANN_TODO,
	ANN_TRANSITION,
	ANN_ACTIVE,
	ANN_ERROR,
	ANN_BLOCKED,
};
#define ANN_NSTATES 6

enum ann_dep_state {
	ANN_DEP_PROPOSED = 0,  /* not committed yet */
	ANN_DEP_COMMITTED,     /* committed, converging */
	ANN_DEP_ACTIVE,        /* committed, every node-role active */
	ANN_DEP_ERROR,         /* committed, a node-role in error */
};

enum ann_role_flag {
	ANN_ROLE_IMPLICIT = 1u << 0,    /* created on the node when required */
	ANN_ROLE_CLUSTER = 1u << 1,     /* requirers bind to every peer */
	/* Runs once: ann_invalidate() refuses it when active (NETD_EPERM), and
	 * a re-run cascade leaves an active one active and stops there. */
	ANN_ROLE_DESTRUCTIVE = 1u << 2,
};

struct ann_retry {
	uint32_t attempts;      /* runs allowed per cycle; 0 counts as 1 */
	uint64_t backoff_base;  /* wait after the first failure */
	uint64_t backoff_max;   /* cap of base * 2^(failures-1); 0 = no cap */
};

struct ann_role_def {
	const char *name;                /* unique, non-empty */
	const char *jig;                 /* jig name; NULL or "" = "noop" */
	const char *const *requires;     /* role names; may name roles added later */
	size_t n_requires;
	unsigned flags;                  /* enum ann_role_flag */
	struct ann_retry retry;
};

/* One state change.  @cause is valid only during the callback. */
struct ann_event {
	uint32_t nr;
	enum ann_state from, to;
	const char *cause;
	uint64_t at;                     /* the caller's `now` */
};

typedef void ann_event_fn(void *arg, const struct ann_event *ev);

struct ann_opts {
	uint32_t max_running;            /* global concurrency limit; 0 = none */
	ann_event_fn *on_event;          /* may be NULL */
	void *event_arg;
};

struct ann_nr_info {
	uint32_t node, role, dep;
	enum ann_state state;
	uint32_t cohort;
	uint32_t run_count;              /* successful runs */
	uint32_t attempts;               /* runs started in this cycle */
	uint64_t next_eligible;          /* backoff: not before this time */
	bool bound;
	bool rerun;                      /* re-run once the current run ends */
	uint32_t n_parents, n_children;
};

struct ann_stats {
	uint64_t visits;        /* node-role visits by the scheduler (work) */
	uint64_t transitions;   /* state changes */
	uint32_t running;       /* node-roles in transition */
	uint32_t count[ANN_NSTATES];
	uint32_t n_roles, n_nodes, n_deps, n_nrs;
};

struct ann;

/* ---- lifetime ---- */

/* Create an empty annealer.  @opts may be NULL (no limit, no events).
 * Returns 0 and *@ret, or -ENOMEM. */
int ann_new(const struct ann_opts *opts, struct ann **ret);
void ann_free(struct ann *a);  /* accepts NULL */

/* ---- model ---- */

/* Add a role.  NETD_EINVAL for an empty name, a requires entry that is empty
 * or repeated; NETD_EEXIST for a taken name; -ENOMEM.  Requirements are
 * resolved by name at binding. */
int ann_role_add(struct ann *a, const struct ann_role_def *def, uint32_t *ret_id,
		 struct netd_err *e);
/* Add a node / a deployment (state proposed).  NETD_EINVAL for an empty
 * name, NETD_EEXIST for a taken one, -ENOMEM. */
int ann_node_add(struct ann *a, const char *name, uint32_t *ret_id, struct netd_err *e);
int ann_deployment_add(struct ann *a, const char *name, uint32_t *ret_id, struct netd_err *e);
/* Add the node-role (@node, @role, @dep) in state proposed, unbound.
 * NETD_ENOTFOUND for a bad id, NETD_EEXIST if it exists, -ENOMEM. */
int ann_noderole_add(struct ann *a, uint32_t node, uint32_t role, uint32_t dep,
		     uint32_t *ret_id, struct netd_err *e);

/* Look up by name / key.  0 and *@ret_id, or NETD_ENOTFOUND. */
int ann_role_find(const struct ann *a, const char *name, uint32_t *ret_id);
int ann_node_find(const struct ann *a, const char *name, uint32_t *ret_id);
int ann_deployment_find(const struct ann *a, const char *name, uint32_t *ret_id);
int ann_noderole_find(const struct ann *a, uint32_t node, uint32_t role, uint32_t dep,
		      uint32_t *ret_id);

/* ---- binding and commit ---- */

/* Bind the unbound node-roles of @dep (see the overview); may create
 * implicit node-roles.  All or nothing: on failure nothing changed.
 * NETD_ENOTFOUND (bad id, unknown required role, unsatisfied requirement),
 * NETD_EINVAL (cycle, with its path in the message), -ENOMEM. */
int ann_bind(struct ann *a, uint32_t dep, struct netd_err *e);

/* Bind @dep, mark it committed and move its proposed node-roles to todo
 * (every parent active) or blocked.  Committing again picks up node-roles
 * added since.  Errors as ann_bind; on failure nothing changed. */
int ann_commit(struct ann *a, uint32_t dep, uint64_t now, struct netd_err *e);

/* ---- the chokepoint ---- */

/* True when @from -> @to is in the transition table above. */
bool ann_transition_allowed(enum ann_state from, enum ann_state to);

/* Change node-role @nr's state: the only place a state changes.  Keeps the
 * indexes right (parents-not-active counts, node busy flags, ready queue,
 * deployment state), logs and emits the event.  Refused, with a message
 * naming the node-role, old and new state:
 *   NETD_EINVAL  the transition is not in the table; to todo while a parent
 *                is not active; out of proposed while unbound or before the
 *                deployment is committed;
 *   NETD_EINUSE  to transition while another node-role of the node is;
 *   NETD_ENOTFOUND  bad id. */
int ann_set_state(struct ann *a, uint32_t nr, enum ann_state to, uint64_t now,
		  const char *cause, struct netd_err *e);

/* ---- scheduling ---- */

/* Start up to @max runnable node-roles (see the overview): each is moved to
 * transition and its id written to @out, best (cohort, id) first.  Returns
 * how many (0 when nothing is runnable or the global limit is reached). */
size_t ann_next_runnable(struct ann *a, uint64_t now, uint32_t *out, size_t max);

/* Earliest time a todo node-role waiting for its backoff becomes eligible.
 * Returns true and *@ret, or false if none waits (lazy: may report a time
 * for a node-role that has left todo since; waking early is harmless). */
bool ann_next_wakeup(const struct ann *a, uint64_t *ret);

/* Report the end of @nr's run.  ok: active, and children whose parents are
 * now all active go blocked -> todo.  Failure: back to todo with backoff
 * (now + base * 2^(attempts-1), capped) while attempts < the role's budget,
 * else error.  A re-run requested during the run wins over both: todo (or
 * blocked) with a fresh budget.  @cause (may be NULL) is the jig's summary.
 * NETD_EINVAL if @nr is not in transition, NETD_ENOTFOUND for a bad id. */
int ann_complete(struct ann *a, uint32_t nr, bool ok, uint64_t now, const char *cause,
		 struct netd_err *e);

/* The API's retry: error -> todo (or blocked while a parent is not active),
 * with a fresh budget.  Descendants follow when it becomes active.
 * NETD_EINVAL if @nr is not in error, NETD_ENOTFOUND for a bad id. */
int ann_retry(struct ann *a, uint32_t nr, uint64_t now, struct netd_err *e);

/* The inputs of @nr changed: it goes back to todo (or blocked), its
 * descendants to blocked, so all run again in order; one in transition is
 * marked to re-run when its run ends; proposed ones are left alone.  The
 * budget of each visited node-role is reset.  Costs O(descendants + their
 * edges); never allocates.  NETD_EPERM for an active destructive
 * node-role, NETD_ENOTFOUND for a bad id. */
int ann_invalidate(struct ann *a, uint32_t nr, uint64_t now, const char *cause,
		   struct netd_err *e);

/* ---- loading and crash recovery ---- */

/* Load a stored state into a bound, proposed node-role (call ann_bind for
 * the loaded deployment first): bypasses the table (the one exception, the
 * event's cause says "restored"), marks the deployment committed when @state
 * is not proposed.  Finish loading with ann_recover().  NETD_EINVAL if @nr
 * is not proposed and bound, NETD_ENOTFOUND for a bad id. */
int ann_restore(struct ann *a, uint32_t nr, enum ann_state state, uint32_t run_count,
		uint32_t attempts, uint64_t now, struct netd_err *e);

/* After a restart: every node-role in transition is queued again
 * (transition -> todo, or blocked while a parent is not active), and todo /
 * blocked are made consistent with the parents' states.  Returns the number
 * of node-roles that were in transition. */
size_t ann_recover(struct ann *a, uint64_t now);

/* ---- queries ---- */

const char *ann_state_name(enum ann_state s);          /* "todo"...; never NULL */
const char *ann_dep_state_name(enum ann_dep_state s);  /* never NULL */

/* 0 and *@ret, or NETD_ENOTFOUND. */
int ann_nr_info(const struct ann *a, uint32_t nr, struct ann_nr_info *ret);
/* The parents / children of @nr (valid until the next mutation).
 * 0, or NETD_ENOTFOUND. */
int ann_nr_parents(const struct ann *a, uint32_t nr, const uint32_t **ret, uint32_t *ret_n);
int ann_nr_children(const struct ann *a, uint32_t nr, const uint32_t **ret, uint32_t *ret_n);
/* "role@node" into @buf (cut to @len); "?" for a bad id.  Returns @buf. */
const char *ann_nr_name(const struct ann *a, uint32_t nr, char *buf, size_t len);
const char *ann_role_name(const struct ann *a, uint32_t role);   /* NULL if bad */
const char *ann_role_jig(const struct ann *a, uint32_t role);     /* NULL if bad */
const char *ann_node_name(const struct ann *a, uint32_t node);   /* NULL if bad */
const char *ann_deployment_name(const struct ann *a, uint32_t dep); /* NULL if bad */
/* 0 and *@ret, or NETD_ENOTFOUND. */
int ann_deployment_state(const struct ann *a, uint32_t dep, enum ann_dep_state *ret);
void ann_stats(const struct ann *a, struct ann_stats *ret);

/* Verify every index against the states (counts, parents-not-active, queue
 * membership and heap order, node busy slots) and the invariants the
 * semantic operations keep (todo and non-destructive active node-roles have
 * every parent active).  O(node-roles + edges); for tests and debugging.
 * 0, or NETD_ECORRUPT with the first problem in @e. */
int ann_check(const struct ann *a, struct netd_err *e);

#endif
