/* netd/metrics.c — counting requests, gathering figures, printing them in
 * the Prometheus text format (see metrics.h). */
#include "netd/metrics.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/loop.h"
#include "core/store.h"
#include "ipam/ipam.h"
#include "netd/writer.h"

const uint64_t metrics_bucket_ns[METRICS_BUCKETS] = {
	500000ull,     1000000ull,    2500000ull,   5000000ull,   10000000ull,   25000000ull,  50000000ull,
	100000000ull,  250000000ull,  500000000ull, 1000000000ull, 2500000000ull, 5000000000ull,
};
const char *const metrics_bucket_le[METRICS_BUCKETS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
};

/* ------------------------------------------------------------ counting */

/* Label values are from fixed tables: a client cannot grow the set. */
static const char *const rc_methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other" };
#define RC_METHODS (sizeof rc_methods / sizeof rc_methods[0])
#define RC_STATUS_MIN 100u
#define RC_STATUSES 500u   /* 100..599 */

static const char *const nc_methods[] = {
	"get", "get-config", "edit-config", "lock", "unlock", "get-schema",
	"allocate-address", "release-address", "rename-node", "other",
};
#define NC_METHODS (sizeof nc_methods / sizeof nc_methods[0])
/* "ok" and the RFC 6241 appendix A error-tags */
static const char *const nc_codes[] = {
	"ok", "in-use", "invalid-value", "too-big", "missing-attribute", "bad-attribute", "unknown-attribute",
	"missing-element", "bad-element", "unknown-element", "unknown-namespace", "access-denied", "lock-denied",
	"resource-denied", "rollback-failed", "data-exists", "data-missing", "operation-not-supported",
	"operation-failed", "partial-operation", "malformed-message",
};
#define NC_CODES (sizeof nc_codes / sizeof nc_codes[0])

struct latency_cells {
	_Atomic uint64_t bucket[METRICS_BUCKETS + 1];
	_Atomic uint64_t sum_ns;
};

static _Atomic uint64_t rc_count[RC_METHODS][RC_STATUSES];
static _Atomic uint64_t nc_count[NC_METHODS][NC_CODES];
static struct latency_cells latency[METRICS_FACES];

uint64_t metrics_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t find(const char *const *tab, size_t n, const char *name)
{
	for (size_t i = 0; name && i + 1 < n; i++)
		if (!strcmp(tab[i], name))
			return i;
	return n - 1;   /* the last entry: "other" */
}

static void observe(enum metrics_face face, uint64_t ns)
{
	size_t b = 0;
	while (b < METRICS_BUCKETS && ns > metrics_bucket_ns[b])
		b++;
	atomic_fetch_add_explicit(&latency[face].bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&latency[face].sum_ns, ns, memory_order_relaxed);
}

void metrics_restconf(const char *method, unsigned status, uint64_t ns)
{
	if (status < RC_STATUS_MIN || status >= RC_STATUS_MIN + RC_STATUSES)
		return;
	size_t m = find(rc_methods, RC_METHODS, method);
	atomic_fetch_add_explicit(&rc_count[m][status - RC_STATUS_MIN], 1, memory_order_relaxed);
	observe(METRICS_RESTCONF, ns);
}

void metrics_netconf(const char *rpc, const char *code, uint64_t ns)
{
	size_t m = find(nc_methods, NC_METHODS, rpc);
	size_t c = 0;   /* "ok" */
	if (code) {
		for (c = 1; c < NC_CODES && strcmp(nc_codes[c], code); c++)
			;
		if (c == NC_CODES)   /* not a NETCONF error-tag */
			for (c = 1; strcmp(nc_codes[c], "operation-failed"); c++)
				;
	}
	atomic_fetch_add_explicit(&nc_count[m][c], 1, memory_order_relaxed);
	observe(METRICS_NETCONF, ns);
}

const char *metrics_face_name(enum metrics_face f)
{
	return f == METRICS_NETCONF ? "netconf" : "restconf";
}

/* ------------------------------------------------------------ gathering */

static int add_request_row(struct metrics_snapshot *s, size_t *cap, enum metrics_face face, const char *method,
			   const char *code, uint64_t count)
{
	if (!count)
		return 0;
	if (s->n_requests == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct metrics_request_count *v = realloc(s->requests, nc * sizeof *v);
		if (!v)
			return -ENOMEM;
		s->requests = v;
		*cap = nc;
	}
	struct metrics_request_count *r = &s->requests[s->n_requests++];
	r->face = face;
	r->method = method;
	snprintf(r->code, sizeof r->code, "%s", code);
	r->count = count;
	return 0;
}

static int collect_requests(struct metrics_snapshot *s)
{
	size_t cap = 0;
	int rc = 0;
	for (size_t m = 0; !rc && m < RC_METHODS; m++)
		for (size_t c = 0; !rc && c < RC_STATUSES; c++) {
			uint64_t n = atomic_load_explicit(&rc_count[m][c], memory_order_relaxed);
			char code[8];
			if (!n)
				continue;
			snprintf(code, sizeof code, "%u", (unsigned)(c + RC_STATUS_MIN));
			rc = add_request_row(s, &cap, METRICS_RESTCONF, rc_methods[m], code, n);
		}
	for (size_t m = 0; !rc && m < NC_METHODS; m++)
		for (size_t c = 0; !rc && c < NC_CODES; c++)
			rc = add_request_row(s, &cap, METRICS_NETCONF, nc_methods[m], nc_codes[c],
					     atomic_load_explicit(&nc_count[m][c], memory_order_relaxed));
	for (int f = 0; f < METRICS_FACES; f++) {
		struct metrics_latency *l = &s->latency[f];
		for (size_t b = 0; b <= METRICS_BUCKETS; b++) {
			l->bucket[b] = atomic_load_explicit(&latency[f].bucket[b], memory_order_relaxed);
			l->count += l->bucket[b];
		}
		l->sum_s = (double)atomic_load_explicit(&latency[f].sum_ns, memory_order_relaxed) / 1e9;
	}
	return rc;
}

struct range_ctx {
	struct netd *d;
	struct store_txn *t;
	struct metrics_snapshot *s;
	size_t cap;
};

static int each_network(const struct model_network *n, void *arg)
{
	struct range_ctx *c = arg;
	struct ipam_util *u = NULL;
	size_t nu = 0;
	int rc = ipam_utilization(c->d->ipam, c->t, n, &u, &nu);
	if (rc < 0)
		return rc;
	if (c->s->n_ranges + nu > c->cap) {
		size_t cap = (c->s->n_ranges + nu) * 2;
		struct metrics_range *v = realloc(c->s->ranges, cap * sizeof *v);
		if (!v) {
			free(u);
			return -ENOMEM;
		}
		c->s->ranges = v;
		c->cap = cap;
	}
	for (size_t i = 0; i < nu; i++) {
		struct metrics_range *r = &c->s->ranges[c->s->n_ranges++];
		memset(r, 0, sizeof *r);
		snprintf(r->network, sizeof r->network, "%s", n->name);
		snprintf(r->range, sizeof r->range, "%s", u[i].range);
		r->family = u[i].family;
		snprintf(r->size, sizeof r->size, "%s", u[i].size);
		snprintf(r->free, sizeof r->free, "%s", u[i].free);
		r->size_f = strtod(u[i].size, NULL);
		r->free_f = strtod(u[i].free, NULL);
		r->used = u[i].used;
		r->held = u[i].held;
	}
	free(u);
	return 0;
}

static int each_alloc(const struct model_alloc *a, void *arg)
{
	struct metrics_snapshot *s = arg;
	if (a->state == ALLOC_ACTIVE)
		s->allocs_active++;
	else if (a->state == ALLOC_HELD)
		s->allocs_held++;
	return 0;
}

static int collect_store(struct netd *d, struct metrics_snapshot *s)
{
	struct store_txn *t = NULL;
	store_stats(d->store, &s->store_map_bytes, &s->store_used_bytes);
	/* read before the data, as the response cache does: never newer than it */
	s->store_generation = store_generation(d->store);
	int rc = store_read_begin(d->store, &t);
	if (rc < 0)
		return rc;
	struct range_ctx c = { d, t, s, 0 };
	rc = store_count(t, d->mt.network, &s->networks);
	if (rc == 0)
		rc = store_count(t, d->mt.node, &s->nodes);
	if (rc == 0)
		rc = model_alloc_each(&d->mt, t, NULL, each_alloc, s);
	if (rc == 0)
		rc = model_network_each(&d->mt, t, NULL, each_network, &c);
	store_read_end(t);
	return rc < 0 ? rc : 0;
}

int metrics_collect(struct netd *d, struct metrics_snapshot *out)
{
	memset(out, 0, sizeof *out);
	out->version = NETD_VERSION;
	out->started_at = d->started_at;
	uint64_t now = wall_now_s();
	out->uptime_s = now > d->started_at ? now - d->started_at : 0;
	if (d->writer) {
		struct wr_counters w;
		wr_counters(d->writer, &w);
		out->writer_batches = w.batches;
		out->writer_jobs = w.jobs;
		out->writer_queue_depth = w.queued;
		out->allocations_total = w.allocated;
		out->releases_total = w.released;
		out->exhausted_total = w.exhausted;
	}
	int rc = collect_requests(out);
	if (rc == 0)
		rc = collect_store(d, out);
	if (rc < 0)
		metrics_snapshot_clear(out);
	return rc;
}

void metrics_snapshot_clear(struct metrics_snapshot *s)
{
	if (!s)
		return;
	free(s->ranges);
	free(s->requests);
	memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------ printing */

/* A label value: \ " and newline escaped (exposition format 0.0.4). */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	head(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static void range_labels(FILE *f, const struct metrics_range *r)
{
	fputs("{network=\"", f);
	put_label(f, r->network);
	fprintf(f, "\",family=\"%s\",range=\"", r->family == ADDR_V6 ? "ipv6" : "ipv4");
	put_label(f, r->range);
	fputs("\"}", f);
}

/* An exact decimal while a float64 holds it exactly (< 2^53), else the float. */
static void big_value(FILE *f, const char *dec, double v)
{
	if (strlen(dec) <= 15)
		fprintf(f, " %s\n", dec);
	else
		fprintf(f, " %.17g\n", v);
}

static void ranges(FILE *f, const struct metrics_snapshot *s)
{
	head(f, "netd_range_size", "gauge", "Addresses in the range (a float: IPv6 spaces exceed 2^64).");
	for (size_t i = 0; i < s->n_ranges; i++) {
		fputs("netd_range_size", f);
		range_labels(f, &s->ranges[i]);
		big_value(f, s->ranges[i].size, s->ranges[i].size_f);
	}
	head(f, "netd_range_used", "gauge", "Active allocations in the range.");
	for (size_t i = 0; i < s->n_ranges; i++) {
		fputs("netd_range_used", f);
		range_labels(f, &s->ranges[i]);
		fprintf(f, " %llu\n", (unsigned long long)s->ranges[i].used);
	}
	head(f, "netd_range_held", "gauge", "Released addresses of the range in hold-down.");
	for (size_t i = 0; i < s->n_ranges; i++) {
		fputs("netd_range_held", f);
		range_labels(f, &s->ranges[i]);
		fprintf(f, " %llu\n", (unsigned long long)s->ranges[i].held);
	}
	head(f, "netd_range_free", "gauge", "Addresses of the range neither used nor held.");
	for (size_t i = 0; i < s->n_ranges; i++) {
		fputs("netd_range_free", f);
		range_labels(f, &s->ranges[i]);
		big_value(f, s->ranges[i].free, s->ranges[i].free_f);
	}
}

static void requests(FILE *f, const struct metrics_snapshot *s)
{
	head(f, "netd_requests_total", "counter", "Requests answered, per face, method (NETCONF: RPC) and code.");
	for (size_t i = 0; i < s->n_requests; i++) {
		const struct metrics_request_count *r = &s->requests[i];
		fprintf(f, "netd_requests_total{face=\"%s\",method=\"%s\",code=\"%s\"} %llu\n",
			metrics_face_name(r->face), r->method, r->code, (unsigned long long)r->count);
	}
	head(f, "netd_request_duration_seconds", "histogram", "Time to answer a request, per face.");
	for (int face = 0; face < METRICS_FACES; face++) {
		const struct metrics_latency *l = &s->latency[face];
		const char *fn = metrics_face_name((enum metrics_face)face);
		uint64_t cum = 0;
		if (face != METRICS_RESTCONF && !l->count)
			continue;   /* NETCONF may be off: no series until it answers */
		for (size_t b = 0; b < METRICS_BUCKETS; b++) {
			cum += l->bucket[b];
			fprintf(f, "netd_request_duration_seconds_bucket{face=\"%s\",le=\"%s\"} %llu\n", fn,
				metrics_bucket_le[b], (unsigned long long)cum);
		}
		fprintf(f, "netd_request_duration_seconds_bucket{face=\"%s\",le=\"+Inf\"} %llu\n", fn,
			(unsigned long long)l->count);
		fprintf(f, "netd_request_duration_seconds_sum{face=\"%s\"} %.9f\n", fn, l->sum_s);
		fprintf(f, "netd_request_duration_seconds_count{face=\"%s\"} %llu\n", fn, (unsigned long long)l->count);
	}
}

char *metrics_format(const struct metrics_snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	head(f, "netd_info", "gauge", "netd's version (the value is always 1).");
	fputs("netd_info{version=\"", f);
	put_label(f, s->version ? s->version : "");
	fputs("\"} 1\n", f);
	one(f, "netd_uptime_seconds", "gauge", "Seconds since netd started.", s->uptime_s);
	one(f, "netd_store_map_bytes", "gauge", "Size of the LMDB map.", s->store_map_bytes);
	one(f, "netd_store_used_bytes", "gauge", "Bytes of the LMDB map in use.", s->store_used_bytes);
	one(f, "netd_store_generation", "gauge", "Id of the last committed write transaction.", s->store_generation);
	one(f, "netd_networks", "gauge", "Networks configured.", s->networks);
	one(f, "netd_nodes", "gauge", "Nodes configured.", s->nodes);
	head(f, "netd_allocations", "gauge", "Address allocations by state.");
	fprintf(f, "netd_allocations{state=\"active\"} %llu\n", (unsigned long long)s->allocs_active);
	fprintf(f, "netd_allocations{state=\"held\"} %llu\n", (unsigned long long)s->allocs_held);
	ranges(f, s);
	one(f, "netd_allocations_total", "counter",
	    "Addresses made active since start (new, or taken back from hold-down), committed.", s->allocations_total);
	one(f, "netd_releases_total", "counter", "Addresses put in hold-down since start, committed.", s->releases_total);
	one(f, "netd_allocation_exhausted_total", "counter",
	    "Requests refused since start because a range (or the derived IPv6 space) was exhausted.", s->exhausted_total);
	requests(f, s);
	one(f, "netd_writer_batches_total", "counter", "Write transactions (group commits) run by the writer.",
	    s->writer_batches);
	one(f, "netd_writer_jobs_total", "counter", "Writes and RPCs run by the writer.", s->writer_jobs);
	one(f, "netd_writer_queue_depth", "gauge", "Writes and RPCs waiting for the writer now.", s->writer_queue_depth);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
