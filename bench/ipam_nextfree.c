/* bench/ipam_nextfree.c — next-free allocation on a 99%-full /16 against
 * an empty /16, in process, through ipam/ipam.h.
 *
 *   ipam_nextfree DIR [ALLOCS]
 *
 * Opens a store in DIR with no_sync (this measures ipam, not the disk) and
 * creates two networks with a /16 and one range over all usable addresses
 * (65,534): "empty", and "full", which gets 99% of its range allocated by
 * hint, leaving one free address in every hundred so that the free index is
 * fragmented into ~655 single-address intervals.  Then ALLOCS (default 600)
 * VIPs are allocated by next-free in each network, alternating rounds of
 * ROUND allocations per write txn so that both see the same machine state.
 * Prints
 *     RESULT empty_us=E full_us=F ratio=F/E used_pct=P
 * (microseconds per allocation, txn commit included).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "core/model.h"
#include "ipam/ipam.h"

#define ROUND 50u
#define HOLE_EVERY 100u

struct bench {
	struct store *s;
	struct model_tables mt;
	struct ipam *ip;
	uint64_t now;
};

struct net_job {
	struct bench *b;
	struct model_network *net;
};

struct fill_job {
	struct bench *b;
	const char *net;
	struct addr first;
	uint32_t from, to;       /* range offsets [from, to) */
	uint64_t done;
};

struct alloc_job {
	struct bench *b;
	const char *net;
	uint32_t from, n;        /* VIP names v<from>..v<from+n-1> */
};

static int fail(const char *what, int rc, const struct netd_err *e)
{
	fprintf(stderr, "ipam_nextfree: %s: %s%s%s\n", what, netd_strerror(rc), e && e->msg[0] ? ": " : "",
		e ? e->msg : "");
	return -1;
}

static int put_network(struct store_txn *t, void *arg)
{
	struct net_job *j = arg;
	struct netd_err e = { 0 };
	int rc = ipam_network_put(j->b->ip, t, NULL, j->net, j->b->now, &e);
	if (rc < 0)
		fail("network put", rc, &e);
	return rc;
}

/* A network with @subnet and one range "host" over its usable addresses. */
static int make_network(struct bench *b, const char *name, const char *subnet)
{
	struct model_range r = { .name = "host" };
	struct model_network n = { .has_v4 = true, .v4_ranges = &r, .n_v4_ranges = 1, .created = b->now };
	snprintf(n.name, sizeof n.name, "%s", name);
	if (prefix_parse(subnet, true, &n.v4_subnet) < 0)
		return fail("prefix", NETD_EINVAL, NULL);
	prefix_first(&n.v4_subnet, &r.first);
	prefix_last(&n.v4_subnet, &r.last);
	if (addr_inc(&r.first) < 0 || addr_dec(&r.last) < 0)
		return fail("range", NETD_EINVAL, NULL);
	struct net_job j = { b, &n };
	int rc = store_update(b->s, put_network, &j);
	return rc < 0 ? fail("create network", rc, NULL) : 0;
}

static int alloc_vip(struct bench *b, struct store_txn *t, const char *net, const char *owner, const struct addr *hint)
{
	struct ipam_request rq = { .network = net, .family = ADDR_V4, .owner_kind = OWNER_VIP, .owner = owner,
				   .hint = hint };
	struct netd_err e = { 0 };
	struct addr got;
	int rc = ipam_alloc(b->ip, t, &rq, b->now, &got, &e);
	if (rc < 0 && rc != NETD_EMAPFULL)
		fail("allocate", rc, &e);
	return rc;
}

/* Allocate every offset of [from, to) by hint except one in HOLE_EVERY. */
static int fill_some(struct store_txn *t, void *arg)
{
	struct fill_job *j = arg;
	char owner[32];
	j->done = 0;
	for (uint32_t off = j->from; off < j->to; off++) {
		if (off % HOLE_EVERY == HOLE_EVERY - 1)
			continue;
		struct addr a = j->first;
		snprintf(owner, sizeof owner, "fill%u", off);
		int rc = addr_add(&a, off);
		if (rc == 0)
			rc = alloc_vip(j->b, t, j->net, owner, &a);
		if (rc < 0)
			return rc;
		j->done++;
	}
	return 0;
}

static int fill(struct bench *b, const char *net, const char *first, uint32_t size, uint64_t *used)
{
	struct fill_job j = { .b = b, .net = net };
	if (addr_parse(first, &j.first) < 0)
		return fail("address", NETD_EINVAL, NULL);
	*used = 0;
	for (uint32_t from = 0; from < size; from += 4096) {
		j.from = from;
		j.to = size - from < 4096 ? size : from + 4096;
		int rc = store_update(b->s, fill_some, &j);
		if (rc < 0)
			return fail("fill", rc, NULL);
		*used += j.done;
	}
	return 0;
}

static int alloc_round(struct store_txn *t, void *arg)
{
	struct alloc_job *j = arg;
	char owner[32];
	for (uint32_t i = j->from; i < j->from + j->n; i++) {
		snprintf(owner, sizeof owner, "v%u", i);
		int rc = alloc_vip(j->b, t, j->net, owner, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One round of ROUND next-free allocations in one txn; adds its time to *secs. */
static int timed_round(struct bench *b, const char *net, uint32_t from, double *secs)
{
	struct alloc_job j = { b, net, from, ROUND };
	double t0 = bench_now();
	int rc = store_update(b->s, alloc_round, &j);
	*secs += bench_now() - t0;
	return rc < 0 ? fail("next-free round", rc, NULL) : 0;
}

static int run(struct bench *b, uint32_t allocs)
{
	const uint32_t size = 65534;
	uint64_t used = 0;
	double t_empty = 0, t_full = 0;
	if (make_network(b, "empty", "10.0.0.0/16") < 0 || make_network(b, "full", "10.1.0.0/16") < 0)
		return -1;
	double t0 = bench_now();
	if (fill(b, "full", "10.1.0.1", size, &used) < 0)
		return -1;
	fprintf(stderr, "ipam_nextfree: filled %llu of %u addresses in %.2f s\n", (unsigned long long)used, size,
		bench_now() - t0);
	for (uint32_t from = 0; from < allocs; from += ROUND) {
		if (timed_round(b, "empty", from, &t_empty) < 0 || timed_round(b, "full", from, &t_full) < 0)
			return -1;
	}
	uint32_t n = (allocs + ROUND - 1) / ROUND * ROUND;
	double e_us = t_empty * 1e6 / n, f_us = t_full * 1e6 / n;
	printf("RESULT empty_us=%.2f full_us=%.2f ratio=%.2f used_pct=%.2f\n", e_us, f_us, f_us / e_us,
	       100.0 * (double)used / size);
	return 0;
}

int main(int argc, char **argv)
{
	struct store_opts so = { .no_sync = true, .initial_map_size = 256u << 20 };
	struct ipam_cfg ic = { .hold_down_s = 3600 };
	struct bench b = { .now = (uint64_t)time(NULL) };
	struct netd_err e = { 0 };
	int rc;
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: ipam_nextfree DIR [ALLOCS]\n");
		return 64;
	}
	uint32_t allocs = argc == 3 ? (uint32_t)strtoul(argv[2], NULL, 10) : 600;
	if (!allocs || allocs > 650) {
		fprintf(stderr, "ipam_nextfree: ALLOCS must be 1..650 (the free addresses of the full network)\n");
		return 64;
	}
	if ((rc = store_open(argv[1], &so, &b.s, &e)) < 0) {
		fail("store", rc, &e);
		return 1;
	}
	if ((rc = model_open(b.s, &b.mt)) < 0 || (rc = ipam_open(b.s, &b.mt, &ic, &b.ip)) < 0) {
		fail("open", rc, NULL);
		store_close(b.s);
		return 1;
	}
	rc = run(&b, allocs);
	ipam_close(b.ip);
	store_close(b.s);
	return rc < 0 ? 1 : 0;
}
