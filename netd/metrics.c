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
#include "annealer/annealer.h"
#include "ipam/ipam.h"
#include "netd/anneal.h"
#include "netd/devd.h"
#include "netd/dnsd.h"
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

/* The services' figures for the MIB and /metrics (mib_source.services). */
static void service_figures(void *arg, struct mib_service_figs *out)
{
	struct netd *d = arg;
	struct dnsd_figures df;
	struct anneal_figures af;

	if (d->writer) {
		struct wr_counters w;
		wr_counters(d->writer, &w);
		out->have_counters = true;
		out->allocations_total = w.allocated;
		out->releases_total = w.released;
		out->exhausted_total = w.exhausted;
	}
	dnsd_figures(d, &df);
	out->have_dns = true;
	_Static_assert(sizeof df.state / sizeof df.state[0] == MIB_DNS_STATES, "dnsd_figures: states");
	for (size_t i = 0; i < MIB_DNS_STATES; i++)
		out->dns_records[i] = df.state[i];
	out->dns_outbox_depth = df.outbox_depth;
	out->dns_outbox_oldest_age_s = df.outbox_oldest_age_s;
	out->dns_updates_sent = df.updates_sent;
	out->dns_updates_failed = df.update_failures;
	anneal_figures(d, &af);
	out->have_anneal = true;
	_Static_assert(sizeof af.count / sizeof af.count[0] == MIB_ROLE_STATES, "anneal_figures: states");
	_Static_assert((int)ANN_PROPOSED == (int)MIB_ROLE_PROPOSED && (int)ANN_TODO == (int)MIB_ROLE_TODO &&
			       (int)ANN_TRANSITION == (int)MIB_ROLE_TRANSITION && (int)ANN_ACTIVE == (int)MIB_ROLE_ACTIVE &&
			       (int)ANN_ERROR == (int)MIB_ROLE_ERROR && (int)ANN_BLOCKED == (int)MIB_ROLE_BLOCKED,
		       "enum ann_state and enum mib_role_state differ");
	for (size_t i = 0; i < MIB_ROLE_STATES; i++)
		out->roles[i] = af.count[i];
	out->roles_running = af.running;
	out->role_transitions = af.transitions;
	out->role_errors = af.errors;
	if (d->devd) {   /* set at start-up, before any gathering */
		struct devd_figures vf;
		devd_figures(d, &vf);
		out->have_devices = true;
		_Static_assert(sizeof vf.switches / sizeof vf.switches[0] == MIB_DEV_STATES &&
				       sizeof vf.bmcs / sizeof vf.bmcs[0] == MIB_DEV_STATES,
			       "devd_figures: states");
		for (size_t i = 0; i < MIB_DEV_STATES; i++) {
			out->switches[i] = vf.switches[i];
			out->bmcs[i] = vf.bmcs[i];
		}
		out->switch_syncs = vf.syncs;
		out->switch_sync_errors = vf.sync_errors;
		out->switch_set_pdus = vf.set_pdus;
		out->bmc_syncs = vf.bmc_syncs;
		out->bmc_errors = vf.bmc_errors;
		out->bmc_sets = vf.bmc_sets;
	}
}

void metrics_mib_source(struct netd *d, struct mib_source *out)
{
	*out = (struct mib_source){ .store = d->store, .mt = &d->mt, .ipam = d->ipam,
				    .services = service_figures, .services_arg = d };
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
	}
	int rc = collect_requests(out);
	if (rc == 0) {
		struct mib_source src;
		metrics_mib_source(d, &src);
		store_stats(d->store, &out->store_map_bytes, &out->store_used_bytes);
		rc = mib_figures_collect(&src, &out->fig);
	}
	if (rc < 0)
		metrics_snapshot_clear(out);
	return rc;
}

void metrics_snapshot_clear(struct metrics_snapshot *s)
{
	if (!s)
		return;
	mib_figures_free(&s->fig);
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

static void range_labels(FILE *f, const struct mib_range_figs *r)
{
	fputs("{network=\"", f);
	put_label(f, r->network);
	fprintf(f, "\",family=\"%s\",range=\"", r->family == ADDR_V6 ? "ipv6" : "ipv4");
	put_label(f, r->name);
	fputs("\"}", f);
}

/* An exact decimal while a float64 holds it exactly (< 2^53), else the float. */
static void big_value(FILE *f, const char *dec)
{
	if (strlen(dec) <= 15)
		fprintf(f, " %s\n", dec);
	else
		fprintf(f, " %.17g\n", strtod(dec, NULL));
}

static void ranges(FILE *f, const struct mib_figures *s)
{
	head(f, "netd_range_size", "gauge", "Addresses in the range (a float: IPv6 spaces exceed 2^64).");
	for (size_t i = 0; i < s->n_ranges; i++) {
		fputs("netd_range_size", f);
		range_labels(f, &s->ranges[i]);
		big_value(f, s->ranges[i].size);
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
		big_value(f, s->ranges[i].free);
	}
}

/* One labelled series per state. */
static void by_state(FILE *f, const char *name, const char *help, const char *const *names, const uint64_t *v,
		     size_t n)
{
	head(f, name, "gauge", help);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s{state=\"%s\"} %llu\n", name, names[i], (unsigned long long)v[i]);
}

static void dns(FILE *f, const struct mib_service_figs *v)
{
	by_state(f, "netd_dns_records", "DNS records netd maintains, by state.", mib_dns_state_name,
		 v->dns_records, MIB_DNS_STATES);
	one(f, "netd_dns_outbox_depth", "gauge", "DNS changes not yet delivered.", v->dns_outbox_depth);
	one(f, "netd_dns_outbox_oldest_age_seconds", "gauge", "Age of the oldest DNS change not yet delivered.",
	    v->dns_outbox_oldest_age_s);
	head(f, "netd_dns_updates_total", "counter", "DNS UPDATEs since start, by result (sent or failed).");
	fprintf(f, "netd_dns_updates_total{result=\"sent\"} %llu\n", (unsigned long long)v->dns_updates_sent);
	fprintf(f, "netd_dns_updates_total{result=\"failed\"} %llu\n", (unsigned long long)v->dns_updates_failed);
}

static void anneal(FILE *f, const struct mib_service_figs *v)
{
	by_state(f, "netd_anneal_node_roles", "Node-roles (a role on a node in a deployment), by state.",
		 mib_role_state_name, v->roles, MIB_ROLE_STATES);
	one(f, "netd_anneal_running", "gauge", "Jigs running now (node-roles in transition).", v->roles_running);
	one(f, "netd_anneal_queue_depth", "gauge", "Node-roles waiting to run (state todo).", v->roles[MIB_ROLE_TODO]);
	one(f, "netd_anneal_transitions_total", "counter", "Node-role state changes since start.", v->role_transitions);
	one(f, "netd_anneal_errors_total", "counter", "Node-role transitions into error since start.", v->role_errors);
}

static void devices(FILE *f, const struct mib_service_figs *v)
{
	by_state(f, "netd_switches", "Switches configured, by the devices service's state.", mib_dev_state_name,
		 v->switches, MIB_DEV_STATES);
	by_state(f, "netd_bmcs", "BMCs (nodes with a bmc container), by the devices service's state.",
		 mib_dev_state_name, v->bmcs, MIB_DEV_STATES);
	head(f, "netd_switch_syncs_total", "counter", "Switch reconciles since start, by result (ok or failed).");
	fprintf(f, "netd_switch_syncs_total{result=\"ok\"} %llu\n", (unsigned long long)v->switch_syncs);
	fprintf(f, "netd_switch_syncs_total{result=\"failed\"} %llu\n", (unsigned long long)v->switch_sync_errors);
	one(f, "netd_switch_set_pdus_total", "counter", "SNMP SET PDUs sent to switches since start.",
	    v->switch_set_pdus);
	head(f, "netd_bmc_syncs_total", "counter", "BMC syncs since start, by result (ok or failed).");
	fprintf(f, "netd_bmc_syncs_total{result=\"ok\"} %llu\n", (unsigned long long)v->bmc_syncs);
	fprintf(f, "netd_bmc_syncs_total{result=\"failed\"} %llu\n", (unsigned long long)v->bmc_errors);
	one(f, "netd_bmc_sets_total", "counter", "IPMI set commands sent to BMCs since start.", v->bmc_sets);
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
	const struct mib_figures *fig = &s->fig;
	const struct mib_service_figs *svc = &fig->svc;
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
	one(f, "netd_store_generation", "gauge", "Id of the last committed write transaction.", fig->generation);
	one(f, "netd_networks", "gauge", "Networks configured.", fig->networks);
	one(f, "netd_nodes", "gauge", "Nodes configured.", fig->nodes);
	head(f, "netd_allocations", "gauge", "Address allocations by state.");
	fprintf(f, "netd_allocations{state=\"active\"} %llu\n", (unsigned long long)fig->allocs_active);
	fprintf(f, "netd_allocations{state=\"held\"} %llu\n", (unsigned long long)fig->allocs_held);
	ranges(f, fig);
	if (svc->have_counters) {
		one(f, "netd_allocations_total", "counter",
		    "Addresses made active since start (new, or taken back from hold-down), committed.",
		    svc->allocations_total);
		one(f, "netd_releases_total", "counter", "Addresses put in hold-down since start, committed.",
		    svc->releases_total);
		one(f, "netd_allocation_exhausted_total", "counter",
		    "Requests refused since start because a range (or the derived IPv6 space) was exhausted.",
		    svc->exhausted_total);
	}
	if (svc->have_dns)
		dns(f, svc);
	if (svc->have_anneal)
		anneal(f, svc);
	if (svc->have_devices)
		devices(f, svc);
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
