/* netd/writer.h — the one writer: group commit of prepared edits and RPCs.
 *
 * Any thread submits a job (a prepared operation, see netd/ops.h); the loop
 * thread runs every queued job in one write transaction, each in a child
 * transaction of its own (a failed job rolls back alone), commits once (one
 * fsync for the batch), then calls each job's done() — still on the loop
 * thread. A job is done only after its change is durable; if the commit
 * fails, every job of the batch gets the error. Faces (RESTCONF, NETCONF)
 * hand their writes here so that there is exactly one writer.
 */
#ifndef NETD_WRITER_H
#define NETD_WRITER_H

#include "netd/netd.h"
#include "netd/ops.h"

struct writer;

struct wr_job {
	struct ops_prep *prep;            /* what to run (owned by the submitter) */
	struct ops_result *res;           /* where the outcome goes */
	void (*done)(struct wr_job *job); /* on the loop thread, after the commit */
	void *arg;                        /* the submitter's */
	struct wr_job *next;              /* queue link, the writer's */
};

/* 0 or a negative code. Call on the loop thread before any submit. */
int wr_new(struct netd *d, struct writer **out);
/* Run what is still queued, then free. Accepts NULL. Loop thread only. */
void wr_free(struct writer *w);
/* Queue @job (any thread). Its done() is called exactly once. */
void wr_submit(struct writer *w, struct wr_job *job);
/* Run what is queued now (loop thread; e.g. at shutdown). */
void wr_drain(struct writer *w);
/* Counters for status and metrics. */
void wr_stats(struct writer *w, uint64_t *batches, uint64_t *jobs);

/* Everything the writer counts, since start. The ipam figures count only
 * jobs whose change was committed (ipam_tally around each job). */
struct wr_counters {
	uint64_t batches, jobs;      /* committed or not */
	uint64_t queued;             /* jobs waiting now (a gauge) */
	uint64_t allocated;          /* addresses made active (new, or taken back from hold-down) */
	uint64_t released;           /* addresses put in hold-down */
	uint64_t exhausted;          /* jobs refused with NETD_EEXHAUSTED */
};
void wr_counters(struct writer *w, struct wr_counters *out);

#endif
