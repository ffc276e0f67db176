/* netd/metrics.h — the figures netd reports about itself (decisions.md D20).
 *
 * Two kinds:
 *  - read when asked: store size, and everything NETD-MIB serves — counts
 *    of networks, nodes and allocations, per-range utilization, the
 *    writer's allocation counters, DNS publication, annealer figures and
 *    the devices service's switch and BMC states and syncs —
 *    gathered by mibs/' mib_figures_collect() from the source that
 *    metrics_mib_source() describes, the same one the NETD-MIB subagent
 *    reads; plus the writer's batches and queue;
 *  - counted as they happen: requests per face, method and outcome, and
 *    their latency (metrics_restconf, metrics_netconf). These are process
 *    wide atomics: a request costs two clock reads and three relaxed atomic
 *    adds, nothing locked.
 *
 * metrics_format() prints a snapshot in the Prometheus text exposition
 * format 0.0.4 (GET /metrics on the RESTCONF listener).
 */
#ifndef NETD_METRICS_H
#define NETD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/model.h"
#include "mibs/mib.h"
#include "netd/netd.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum metrics_face { METRICS_RESTCONF = 0, METRICS_NETCONF, METRICS_FACES };

/* Latency histogram: upper bounds 0.0005 s .. 5 s, then +Inf. */
#define METRICS_BUCKETS 13
extern const uint64_t metrics_bucket_ns[METRICS_BUCKETS];   /* upper bounds, nanoseconds */
extern const char *const metrics_bucket_le[METRICS_BUCKETS]; /* the same as Prometheus "le" text */

/* Requests answered on one face with one method and outcome. */
struct metrics_request_count {
	enum metrics_face face;
	const char *method;   /* RESTCONF: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, other;
			       * NETCONF: the RPC name (get, edit-config, allocate-address...), other */
	char code[32];        /* RESTCONF: the HTTP status ("200"); NETCONF: "ok" or the error-tag */
	uint64_t count;
};

/* Latency of one face's requests (first request byte to answer sent for
 * RESTCONF; RPC received to reply built for NETCONF). */
struct metrics_latency {
	uint64_t bucket[METRICS_BUCKETS + 1];   /* per bucket, not cumulative; [METRICS_BUCKETS] = above 5 s */
	uint64_t count;                         /* the sum of bucket[] */
	double sum_s;
};

struct metrics_snapshot {
	const char *version;                    /* NETD_VERSION */
	uint64_t started_at, uptime_s;          /* unix seconds, seconds */
	uint64_t store_map_bytes, store_used_bytes;
	/* what NETD-MIB serves too: store generation, counts, ranges; in
	 * fig.svc the writer's allocation counters (since start, committed
	 * changes only), DNS and annealer figures */
	struct mib_figures fig;
	/* the writer (group commit) */
	uint64_t writer_batches, writer_jobs, writer_queue_depth;
	/* requests: rows with a count above zero */
	struct metrics_request_count *requests;
	size_t n_requests;
	struct metrics_latency latency[METRICS_FACES];
};

/* The figures' source for @d: store, model, ipam, and the services
 * callback (the writer's counters, dnsd_figures(), anneal_figures(),
 * devd_figures() when the devices service is started; safe
 * on any thread). /metrics and the NETD-MIB subagent both gather from it. */
void metrics_mib_source(struct netd *d, struct mib_source *out);

/* Gather every figure (one read transaction for the store's). Any thread.
 * 0, or a negative code with *out cleared. Free with metrics_snapshot_clear(). */
int metrics_collect(struct netd *d, struct metrics_snapshot *out);
void metrics_snapshot_clear(struct metrics_snapshot *s);   /* accepts NULL; leaves it zeroed */

/* The snapshot in Prometheus text format 0.0.4 (heap, NUL-terminated), or NULL. */
char *metrics_format(const struct metrics_snapshot *s);

/* Counting requests (any thread). */
uint64_t metrics_now_ns(void);   /* CLOCK_MONOTONIC */
/* A RESTCONF request answered with HTTP @status after @ns nanoseconds. */
void metrics_restconf(const char *method, unsigned status, uint64_t ns);
/* A NETCONF RPC answered: @code NULL for ok, else the error-tag. */
void metrics_netconf(const char *rpc, const char *code, uint64_t ns);

const char *metrics_face_name(enum metrics_face f);

#endif
