/* netd/writer.c — group commit (see writer.h). */
#include "netd/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/log.h"
#include "netd/hooks.h"

struct writer {
	struct netd *d;
	struct loop_wake *wake;
	pthread_mutex_t lock;
	struct wr_job *head, *tail;
	uint64_t batches, jobs;      /* under lock */
	uint64_t queued;             /* under lock: jobs in head..tail */
	uint64_t allocated, released, exhausted;   /* under lock */
};

struct batch {
	struct netd *d;
	struct wr_job *jobs;
	uint64_t now;
	struct ipam_tally tally;     /* of the committed children (reset on a retry) */
};

/* One write transaction for the whole batch, a child per job. */
static int run_batch(struct store_txn *t, void *arg)
{
	struct batch *b = arg;
	b->tally = (struct ipam_tally){ 0 };   /* store_update may call us again */
	for (struct wr_job *j = b->jobs; j; j = j->next) {
		struct store_txn *child = NULL;
		struct ipam_tally jt = { 0 };
		ops_result_clear(j->res);
		int rc = store_child_begin(t, &child);
		if (rc < 0)
			return rc;
		ipam_set_tally(b->d->ipam, &jt);
		rc = ops_run(b->d, child, j->prep, b->now, j->res);
		ipam_set_tally(b->d->ipam, NULL);
		if (rc == NETD_EMAPFULL || j->res->err.code == NETD_EMAPFULL) {
			store_child_abort(child);
			return NETD_EMAPFULL;   /* store_update grows the map and runs the batch again */
		}
		if (rc < 0 || j->res->err.code) {
			store_child_abort(child);
			ops_touched_clear(&j->res->touched);   /* nothing of it stays */
			if (!j->res->err.code)
				netd_err_set(&j->res->err, rc, NULL, "%s", netd_strerror(rc));
			continue;
		}
		if ((rc = store_child_commit(child)) < 0)
			return rc;
		b->tally.allocated += jt.allocated;
		b->tally.released += jt.released;
	}
	return 0;
}

static struct wr_job *take_queue(struct writer *w, uint64_t *n)
{
	pthread_mutex_lock(&w->lock);
	struct wr_job *jobs = w->head;
	w->head = w->tail = NULL;
	w->queued = 0;
	*n = 0;
	for (struct wr_job *j = jobs; j; j = j->next)
		(*n)++;
	if (*n) {
		w->batches++;
		w->jobs += *n;
	}
	pthread_mutex_unlock(&w->lock);
	return jobs;
}

void wr_drain(struct writer *w)
{
	uint64_t n;
	struct batch b = { w->d, take_queue(w, &n), wall_now_s(), { 0 } };
	if (!b.jobs)
		return;
	int rc = store_update(w->d->store, run_batch, &b);
	if (rc < 0)
		log_err("store commit of %llu requests failed: %s", (unsigned long long)n, netd_strerror(rc));
	uint64_t exhausted = 0;
	for (struct wr_job *j = b.jobs; rc >= 0 && j; j = j->next)
		exhausted += j->res->err.code == NETD_EEXHAUSTED;
	pthread_mutex_lock(&w->lock);
	if (rc >= 0) {
		w->allocated += b.tally.allocated;
		w->released += b.tally.released;
		w->exhausted += exhausted;
	}
	pthread_mutex_unlock(&w->lock);
	for (struct wr_job *j = b.jobs, *next; j; j = next) {
		next = j->next;   /* done() may free the job */
		if (rc < 0) {
			/* nothing of the batch was committed: no job may report success */
			ops_result_clear(j->res);
			netd_err_set(&j->res->err, rc, NULL, "the store refused the change: %s", netd_strerror(rc));
		} else if (!j->res->err.code) {
			hooks_committed(w->d, &j->res->touched);
		}
		j->done(j);
	}
}

static void on_wake(struct loop *l, void *arg)
{
	wr_drain(arg);
}

int wr_new(struct netd *d, struct writer **out)
{
	struct writer *w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	w->d = d;
	pthread_mutex_init(&w->lock, NULL);
	int rc = loop_wake_new(d->loop, on_wake, w, &w->wake);
	if (rc < 0) {
		pthread_mutex_destroy(&w->lock);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void wr_free(struct writer *w)
{
	if (!w)
		return;
	wr_drain(w);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void wr_submit(struct writer *w, struct wr_job *job)
{
	pthread_mutex_lock(&w->lock);
	job->next = NULL;
	if (w->tail)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	w->queued++;
	pthread_mutex_unlock(&w->lock);
	loop_wake(w->wake);
}

void wr_stats(struct writer *w, uint64_t *batches, uint64_t *jobs)
{
	pthread_mutex_lock(&w->lock);
	*batches = w->batches;
	*jobs = w->jobs;
	pthread_mutex_unlock(&w->lock);
}

void wr_counters(struct writer *w, struct wr_counters *out)
{
	pthread_mutex_lock(&w->lock);
	out->batches = w->batches;
	out->jobs = w->jobs;
	out->queued = w->queued;
	out->allocated = w->allocated;
	out->released = w->released;
	out->exhausted = w->exhausted;
	pthread_mutex_unlock(&w->lock);
}
