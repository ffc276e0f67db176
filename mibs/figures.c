/* mibs/figures.c — gathering the figures NETD-MIB serves and /metrics
 * prints (see mib.h, "the figures").
 *
 * One store read transaction: the network and node counts, every
 * allocation by state, and per network ipam_utilization() (its ranges, and
 * their sums). Then the services' callback, outside the transaction: what
 * it reports is counted in memory by netd's services, not read from the
 * store, so the two parts are each consistent but not one instant.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mibs/mib.h"
#include "mibs/snap.h"

const char *const mib_dns_state_name[MIB_DNS_STATES] = {
	"pending", "published", "verified", "error", "conflict", "drift",
};
const char *const mib_role_state_name[MIB_ROLE_STATES] = {
	"proposed", "todo", "transition", "active", "error", "blocked",
};
const char *const mib_dev_state_name[MIB_DEV_STATES] = {
	"unknown", "pending", "in-sync", "error",
};

struct gather {
	const struct mib_source *src;
	struct store_txn *t;
	struct mib_figures *f;
	size_t cap_nets, cap_ranges;
};

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t cap2 = *cap ? *cap * 2 : 16;
	while (cap2 < need)
		cap2 *= 2;
	void *nv = realloc(*v, cap2 * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = cap2;
	return 0;
}

/* @acc += @add, exactly; "?" once it cannot be represented (sticky). */
static void dec_acc(char *acc, size_t cap, const char *add)
{
	if (acc[0] == '?' || mib_dec_add(acc, add, acc, cap) < 0)
		snprintf(acc, cap, "?");
}

static int add_network(const struct model_network *net, void *arg)
{
	struct gather *g = arg;
	struct mib_figures *f = g->f;
	struct ipam_util *util = NULL;
	size_t n_util = 0;
	uint32_t idx4 = 0, idx6 = 0;
	int rc = ipam_utilization(g->src->ipam, g->t, net, &util, &n_util);
	if (rc < 0)
		return rc;
	rc = grow((void **)&f->nets, &g->cap_nets, f->n_nets + 1, sizeof *f->nets);
	if (rc == 0)
		rc = grow((void **)&f->ranges, &g->cap_ranges, f->n_ranges + n_util, sizeof *f->ranges);
	if (rc < 0) {
		free(util);
		return rc;
	}
	struct mib_network_figs *nf = &f->nets[f->n_nets++];
	memset(nf, 0, sizeof *nf);
	snprintf(nf->name, sizeof nf->name, "%s", net->name);
	nf->vlan = net->vlan;
	nf->first_range = f->n_ranges;
	nf->n_ranges = n_util;
	snprintf(nf->size, sizeof nf->size, "0");
	snprintf(nf->free, sizeof nf->free, "0");
	for (size_t i = 0; i < n_util; i++) {
		const struct ipam_util *u = &util[i];
		struct mib_range_figs *r = &f->ranges[f->n_ranges++];
		memset(r, 0, sizeof *r);
		snprintf(r->network, sizeof r->network, "%s", net->name);
		r->family = u->family;
		r->index = u->family == ADDR_V4 ? ++idx4 : ++idx6;
		snprintf(r->name, sizeof r->name, "%s", u->range[0] ? u->range : "derived");
		r->first = u->first;
		r->last = u->last;
		snprintf(r->size, sizeof r->size, "%s", u->size);
		snprintf(r->free, sizeof r->free, "%s", u->free);
		r->used = u->used;
		r->held = u->held;
		nf->used += u->used;
		nf->held += u->held;
		dec_acc(nf->size, sizeof nf->size, u->size);
		dec_acc(nf->free, sizeof nf->free, u->free);
	}
	free(util);
	f->networks++;
	return 0;
}

static int count_alloc(const struct model_alloc *a, void *arg)
{
	struct mib_figures *f = arg;
	if (a->state == ALLOC_ACTIVE)
		f->allocs_active++;
	else if (a->state == ALLOC_HELD)
		f->allocs_held++;
	return 0;
}

void mib_services_read(const struct mib_source *src, struct mib_service_figs *out)
{
	memset(out, 0, sizeof *out);
	if (src->services)
		src->services(src->services_arg, out);
}

int mib_figures_collect(const struct mib_source *src, struct mib_figures *out)
{
	struct mib_figures f = { .generation = store_generation(src->store) };
	struct store_txn *t = NULL;
	int rc = store_read_begin(src->store, &t);
	if (rc < 0)
		return rc;
	struct gather g = { .src = src, .t = t, .f = &f };
	rc = model_network_each(src->mt, t, NULL, add_network, &g);
	if (rc == 0)
		rc = store_count(t, src->mt->node, &f.nodes);
	if (rc == 0)
		rc = model_alloc_each(src->mt, t, NULL, count_alloc, &f);
	store_read_end(t);
	if (rc < 0) {
		mib_figures_free(&f);
		return rc;
	}
	mib_services_read(src, &f.svc);
	*out = f;
	return 0;
}

void mib_figures_free(struct mib_figures *f)
{
	if (!f)
		return;
	free(f->nets);
	free(f->ranges);
	memset(f, 0, sizeof *f);
}
