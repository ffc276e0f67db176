/* annealer/jig.c — the jig registry, the runs in flight, the noop jig.
 *
 * Overview.  The registry is a small array of (ops, ctx) looked up by name
 * (a handful of jigs: a linear scan is the fastest thing there is).  Each
 * successful ann_jig_start() creates a struct ann_jig_run holding a deep
 * copy of the input (one block: env pointer array, then the strings), linked
 * into the registry's list of runs until its result is delivered.
 *
 * Delivery is the one place done() is called (deliver()): the run leaves the
 * list first, so done() may start new runs, and is freed after done()
 * returns.  A jig that finishes a run while still inside its start()
 * (noop, exec when the program cannot be executed, synchronous external
 * jigs) gets its result copied into the run and delivered from a 0 ms
 * timer; so done() never runs inside ann_jig_start(), whose caller is
 * typically in the middle of walking ann_next_runnable()'s output.
 */
#include "annealer/jig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"

struct jig_entry {
	const struct ann_jig_ops *ops;
	void *ctx;
};

struct ann_jig_run {
	struct ann_jigs *J;
	struct ann_jig_run *prev, *next;   /* J->runs, until delivered */
	struct jig_entry jig;              /* a copy: the registry array may move */
	struct ann_jig_input in;           /* strings and env array live in @block */
	void *block;
	void *data;                        /* the jig's per-run state */
	uint64_t started_ms;
	bool starting;                     /* inside ops->start() */
	/* Finished inside start(): the result waits here for @deliver. */
	bool finished;
	bool res_ok;
	char *res_summary, *res_log;
	size_t res_log_len;
	struct loop_timer *deliver;
};

struct ann_jigs {
	struct loop *loop;
	ann_jig_done_fn *done;
	void *done_arg;
	struct jig_entry *jigs;
	size_t n_jigs, cap_jigs;
	struct ann_jig_run *runs;
	size_t n_runs;
};

/* ---- the noop jig ---------------------------------------------------- */

/* Finishing inside start() is what makes it "succeed on the next loop
 * turn": the registry delivers such a result from a 0 ms one-shot timer. */
static int noop_start(void *ctx, struct ann_jigs *J, const struct ann_jig_input *in,
		      struct ann_jig_run *run, struct netd_err *e)
{
	(void)ctx;
	(void)in;
	(void)e;
	ann_jig_finish(J, run, true, "noop", NULL);
	return 0;
}

const struct ann_jig_ops ann_jig_noop_ops = {
	.name = "noop",
	.start = noop_start,
	.cancel = NULL,
};

/* ---- registry -------------------------------------------------------- */

static const struct jig_entry *jig_find(const struct ann_jigs *J, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < J->n_jigs; i++)
		if (strcmp(J->jigs[i].ops->name, name) == 0)
			return &J->jigs[i];
	return NULL;
}

int ann_jigs_new(struct loop *l, ann_jig_done_fn *done, void *done_arg, struct ann_jigs **out)
{
	if (!l || !done)
		return NETD_EINVAL;
	struct ann_jigs *J = calloc(1, sizeof *J);
	if (!J)
		return -ENOMEM;
	J->loop = l;
	J->done = done;
	J->done_arg = done_arg;
	int rc = ann_jig_register(J, &ann_jig_noop_ops, NULL, NULL);
	if (rc == 0)
		rc = ann_jig_register(J, &ann_jig_exec_ops, NULL, NULL);
	if (rc < 0) {
		ann_jigs_free(J);
		return rc;
	}
	*out = J;
	return 0;
}

int ann_jig_register(struct ann_jigs *J, const struct ann_jig_ops *ops, void *ctx,
		     struct netd_err *e)
{
	if (!ops || !ops->name || !ops->name[0] || !ops->start)
		return netd_err_set(e, NETD_EINVAL, NULL, "jig '%s': a jig needs a name and a start function",
				    ops && ops->name ? ops->name : "");
	if (jig_find(J, ops->name))
		return netd_err_set(e, NETD_EEXIST, NULL, "jig '%s' is already registered", ops->name);
	if (J->n_jigs == J->cap_jigs) {
		size_t cap = J->cap_jigs ? 2 * J->cap_jigs : 8;
		struct jig_entry *nj = realloc(J->jigs, cap * sizeof *nj);
		if (!nj)
			return netd_err_set(e, -ENOMEM, NULL, "jig '%s': out of memory", ops->name);
		J->jigs = nj;
		J->cap_jigs = cap;
	}
	J->jigs[J->n_jigs++] = (struct jig_entry){ops, ctx};
	return 0;
}

bool ann_jig_known(const struct ann_jigs *J, const char *name)
{
	return jig_find(J, name) != NULL;
}

struct loop *ann_jigs_loop(const struct ann_jigs *J)
{
	return J->loop;
}

size_t ann_jigs_running(const struct ann_jigs *J)
{
	return J->n_runs;
}

/* ---- runs ------------------------------------------------------------ */

static void run_link(struct ann_jigs *J, struct ann_jig_run *run)
{
	run->prev = NULL;
	run->next = J->runs;
	if (J->runs)
		J->runs->prev = run;
	J->runs = run;
	J->n_runs++;
}

static void run_unlink(struct ann_jigs *J, struct ann_jig_run *run)
{
	if (run->prev)
		run->prev->next = run->next;
	else
		J->runs = run->next;
	if (run->next)
		run->next->prev = run->prev;
	run->prev = run->next = NULL;
	J->n_runs--;
}

static void run_free(struct ann_jig_run *run)
{
	if (!run)
		return;
	loop_timer_del(run->J->loop, run->deliver);
	free(run->res_summary);
	free(run->res_log);
	free(run->block);
	free(run);
}

static char *put_str(char **p, const char *s)
{
	size_t n = strlen(s) + 1;
	char *r = memcpy(*p, s, n);
	*p += n;
	return r;
}

/* Deep-copy @src into @run->in, in one block: the env pointer array first
 * (malloc's alignment suits it), then every string. */
static int input_copy(struct ann_jig_run *run, const struct ann_jig_input *src, struct netd_err *e)
{
	if (src->n_env && !src->env)
		return netd_err_set(e, NETD_EINVAL, NULL, "node-role %u: %zu env strings announced, no array",
				    src->nr, src->n_env);
	const char *dep = src->deployment ? src->deployment : "";
	const char *node = src->node ? src->node : "";
	const char *role = src->role ? src->role : "";
	const char *json = src->input_json ? src->input_json : "{}";
	size_t size = src->n_env * sizeof(char *);
	size += strlen(dep) + strlen(node) + strlen(role) + strlen(json) + 4;
	if (src->script)
		size += strlen(src->script) + 1;
	for (size_t i = 0; i < src->n_env; i++) {
		if (!src->env[i])
			return netd_err_set(e, NETD_EINVAL, NULL, "node-role %u: env string %zu is NULL",
					    src->nr, i);
		size += strlen(src->env[i]) + 1;
	}
	char *block = malloc(size);
	if (!block)
		return netd_err_set(e, -ENOMEM, NULL, "node-role %u: out of memory copying the jig input",
				    src->nr);
	const char **env = (const char **)(void *)block;
	char *p = block + src->n_env * sizeof(char *);
	run->in = (struct ann_jig_input){
		.nr = src->nr,
		.deployment = put_str(&p, dep),
		.node = put_str(&p, node),
		.role = put_str(&p, role),
		.input_json = put_str(&p, json),
		.env = src->n_env ? env : NULL,
		.n_env = src->n_env,
		.script = src->script ? put_str(&p, src->script) : NULL,
		.timeout_ms = src->timeout_ms,
	};
	for (size_t i = 0; i < src->n_env; i++)
		env[i] = put_str(&p, src->env[i]);
	run->block = block;
	return 0;
}

/* The one place done() is called.  @run is freed on return. */
static void deliver(struct ann_jigs *J, struct ann_jig_run *run, bool ok, const char *summary,
		    const char *log, size_t log_len)
{
	run_unlink(J, run);
	struct ann_jig_result res = {
		.ok = ok,
		.summary = summary ? summary : "",
		.log = log ? log : "",
		.log_len = log ? log_len : 0,
		.elapsed_ms = loop_now_ms() - run->started_ms,
	};
	log_debug("jig %s: node-role %u (%s@%s) done in %llu ms: %s", run->jig.ops->name, run->in.nr,
		  run->in.role, run->in.node, (unsigned long long)res.elapsed_ms, res.summary);
	J->done(J->done_arg, &run->in, &res);
	run_free(run);
}

static void deliver_cb(struct loop *l, void *arg)
{
	struct ann_jig_run *run = arg;
	loop_timer_del(l, run->deliver);  /* allowed from its own callback */
	run->deliver = NULL;
	deliver(run->J, run, run->res_ok, run->res_summary, run->res_log, run->res_log_len);
}

int ann_jig_start(struct ann_jigs *J, const char *name, const struct ann_jig_input *in,
		  struct netd_err *e)
{
	const struct jig_entry *jig = jig_find(J, name);
	if (!jig)
		return netd_err_set(e, NETD_ENOTFOUND, NULL, "jig '%s' is not registered (node-role %u)",
				    name ? name : "", in->nr);
	struct ann_jig_run *run = calloc(1, sizeof *run);
	if (!run)
		return netd_err_set(e, -ENOMEM, NULL, "node-role %u: out of memory starting jig '%s'",
				    in->nr, name);
	run->J = J;
	run->jig = *jig;
	int rc = input_copy(run, in, e);
	if (rc < 0)
		goto fail;
	run->started_ms = loop_now_ms();
	run_link(J, run);
	run->starting = true;
	rc = run->jig.ops->start(run->jig.ctx, J, &run->in, run, e);
	run->starting = false;
	if (rc < 0)
		goto fail_unlink;
	if (run->finished) {
		rc = loop_timer_add(J->loop, 0, 0, deliver_cb, run, &run->deliver);
		if (rc < 0) {
			netd_err_set(e, rc, NULL, "node-role %u: cannot schedule the result of jig '%s'",
				     in->nr, name);
			goto fail_unlink;
		}
	}
	log_debug("jig %s: node-role %u (%s@%s) started", name, in->nr, run->in.role, run->in.node);
	return 0;
fail_unlink:
	run_unlink(J, run);
fail:
	run_free(run);
	return rc;
}

/* Keep a result reported from inside start() until the 0 ms timer
 * delivers it.  Out of memory turns it into a failure that says so. */
static void hold_result(struct ann_jig_run *run, bool ok, const char *summary, const char *log,
			size_t log_len)
{
	run->finished = true;
	run->res_ok = ok;
	run->res_summary = strdup(summary ? summary : "");
	run->res_log = malloc(log_len + 1);
	if (!run->res_summary || !run->res_log) {
		free(run->res_summary);
		free(run->res_log);
		run->res_summary = NULL;
		run->res_log = NULL;
		run->res_ok = false;
		run->res_log_len = 0;
		return;  /* delivered as "" / "": the jig's result is lost */
	}
	if (log_len)
		memcpy(run->res_log, log, log_len);
	run->res_log[log_len] = '\0';
	run->res_log_len = log_len;
}

void ann_jig_finishn(struct ann_jigs *J, struct ann_jig_run *run, bool ok, const char *summary,
		     const char *log, size_t log_len)
{
	if (run->finished) {
		log_debug("jig %s: node-role %u finished twice; the second result is ignored",
			  run->jig.ops->name, run->in.nr);
		return;
	}
	if (!log)
		log_len = 0;
	if (run->starting)
		hold_result(run, ok, summary, log, log_len);
	else
		deliver(J, run, ok, summary, log, log_len);
}

void ann_jig_finish(struct ann_jigs *J, struct ann_jig_run *run, bool ok, const char *summary,
		    const char *log)
{
	ann_jig_finishn(J, run, ok, summary, log, log ? strlen(log) : 0);
}

const struct ann_jig_input *ann_jig_run_input(const struct ann_jig_run *run)
{
	return &run->in;
}

void ann_jig_run_set_data(struct ann_jig_run *run, void *data)
{
	run->data = data;
}

void *ann_jig_run_data(const struct ann_jig_run *run)
{
	return run->data;
}

void ann_jigs_free(struct ann_jigs *J)
{
	if (!J)
		return;
	struct ann_jig_run *run;
	while ((run = J->runs)) {
		run_unlink(J, run);
		if (!run->finished && run->jig.ops->cancel)
			run->jig.ops->cancel(run->jig.ctx, run);
		run_free(run);
	}
	free(J->jigs);
	free(J);
}
