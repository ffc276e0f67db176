/* tests/integration/conduit_apply.c — plan a node's conduits from a small
 * line-oriented description and apply it to the caller's netns.
 *
 *   conduit_apply [--dry-run] [--print-plan] PLANFILE
 *
 * PLANFILE, one statement per line ('#' starts a comment):
 *   node NAME
 *   option vlan_as_macvlan
 *   conduit NAME NIC [NIC...] [team MODE]         MODE as in YANG: 802.3ad...
 *   network NAME conduit=C [vlan=N] [bridge] [team=MODE] [mtu=N] [pref=N]
 *           [v4=PREFIX] [router4=ADDR] [v6=PREFIX] [router6=ADDR]
 *   addr NETWORK ADDR[/LEN]
 *   extra-route DEV PREFIX [via ADDR] [metric N]    added after planning
 *   extra-addr DEV ADDR/LEN                         added after planning
 * A network line with vlan= rides a VLAN (use_vlan).  The extra-* lines
 * let tests craft plans the planner would not make.
 *
 * Output: --dry-run prints "DIFF changes=N" and one "  - <change>" line per
 * change; otherwise "APPLY changes=N netlink=M undone=K us=T".  Errors go
 * to stdout as "ERROR <code>: <message>" (exit 1); bad usage or a bad file
 * exit 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conduits/conduits.h"

#define MAXN 64

struct desc {
	char node[MODEL_NAME_MAX];
	bool macvlan;
	struct cdt_plan_conduit cds[MAXN];
	size_t n_cds;
	struct model_network nets[MAXN];
	size_t n_nets;
	char addr_net[1024][MODEL_NAME_MAX];
	struct cdt_plan_addr addrs[1024];
	size_t n_addrs;
	struct cdt_proute xroutes[MAXN];
	size_t n_xroutes;
	struct cdt_paddr xaddrs[MAXN];
	size_t n_xaddrs;
};

static int bad(int line, const char *what, const char *tok)
{
	fprintf(stderr, "plan line %d: %s: %s\n", line, what, tok ? tok : "");
	return -1;
}

static int addr_len_parse(const char *s, struct addr *a, uint8_t *plen)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%s", s);
	char *slash = strchr(buf, '/');
	*plen = 0;
	if (slash) {
		*slash = '\0';
		*plen = (uint8_t)atoi(slash + 1);
	}
	return addr_parse(buf, a);
}

static int net_opt(struct model_network *n, const char *k, const char *v, int line)
{
	if (!strcmp(k, "conduit"))
		snprintf(n->conduit, sizeof n->conduit, "%s", v);
	else if (!strcmp(k, "vlan")) {
		n->use_vlan = true;
		n->vlan = (uint16_t)atoi(v);
	} else if (!strcmp(k, "team")) {
		n->use_team = true;
		if (model_team_mode_parse(v, &n->team_mode) < 0)
			return bad(line, "team mode", v);
	} else if (!strcmp(k, "mtu"))
		n->mtu = (uint16_t)atoi(v);
	else if (!strcmp(k, "pref"))
		n->router_pref = (uint32_t)atoi(v);
	else if (!strcmp(k, "v4")) {
		n->has_v4 = true;
		return prefix_parse(v, false, &n->v4_subnet) < 0 ? bad(line, "v4", v) : 0;
	} else if (!strcmp(k, "v6")) {
		n->v6_mode = MODEL_V6_EXPLICIT;
		return prefix_parse(v, false, &n->v6_prefix) < 0 ? bad(line, "v6", v) : 0;
	} else if (!strcmp(k, "router4")) {
		n->has_v4_router = true;
		return addr_parse(v, &n->v4_router) < 0 ? bad(line, "router4", v) : 0;
	} else if (!strcmp(k, "router6")) {
		n->has_v6_router = true;
		return addr_parse(v, &n->v6_router) < 0 ? bad(line, "router6", v) : 0;
	} else
		return bad(line, "unknown network option", k);
	return 0;
}

static int parse_line(struct desc *d, char **tok, int nt, int line)
{
	if (!strcmp(tok[0], "node") && nt == 2) {
		snprintf(d->node, sizeof d->node, "%s", tok[1]);
	} else if (!strcmp(tok[0], "option") && nt == 2 && !strcmp(tok[1], "vlan_as_macvlan")) {
		d->macvlan = true;
	} else if (!strcmp(tok[0], "conduit") && nt >= 3 && d->n_cds < MAXN) {
		struct cdt_plan_conduit *c = &d->cds[d->n_cds++];
		snprintf(c->name, sizeof c->name, "%s", tok[1]);
		for (int i = 2; i < nt; i++) {
			if (!strcmp(tok[i], "team") && i + 1 < nt) {
				c->team = true;
				if (model_team_mode_parse(tok[++i], &c->team_mode) < 0)
					return bad(line, "team mode", tok[i]);
			} else if (c->n < CDT_TEAM_MAX) {
				snprintf(c->nics[c->n++], CDT_IFNAME_MAX, "%s", tok[i]);
			}
		}
	} else if (!strcmp(tok[0], "network") && nt >= 2 && d->n_nets < MAXN) {
		struct model_network *n = &d->nets[d->n_nets++];
		snprintf(n->name, sizeof n->name, "%s", tok[1]);
		for (int i = 2; i < nt; i++) {
			char *eq = strchr(tok[i], '=');
			if (!strcmp(tok[i], "bridge"))
				n->use_bridge = true;
			else if (!eq)
				return bad(line, "network option", tok[i]);
			else {
				*eq = '\0';
				if (net_opt(n, tok[i], eq + 1, line) < 0)
					return -1;
			}
		}
	} else if (!strcmp(tok[0], "addr") && nt == 3 && d->n_addrs < 1024) {
		struct cdt_plan_addr *a = &d->addrs[d->n_addrs];
		snprintf(d->addr_net[d->n_addrs], MODEL_NAME_MAX, "%s", tok[1]);
		a->network = d->addr_net[d->n_addrs++];
		if (addr_len_parse(tok[2], &a->a, &a->plen) < 0)
			return bad(line, "address", tok[2]);
	} else if (!strcmp(tok[0], "extra-addr") && nt == 3 && d->n_xaddrs < MAXN) {
		struct cdt_paddr *a = &d->xaddrs[d->n_xaddrs++];
		snprintf(a->dev, sizeof a->dev, "%s", tok[1]);
		if (addr_len_parse(tok[2], &a->a, &a->plen) < 0)
			return bad(line, "address", tok[2]);
	} else if (!strcmp(tok[0], "extra-route") && nt >= 3 && d->n_xroutes < MAXN) {
		struct cdt_proute *r = &d->xroutes[d->n_xroutes++];
		snprintf(r->dev, sizeof r->dev, "%s", tok[1]);
		if (prefix_parse(tok[2], false, &r->dst) < 0)
			return bad(line, "prefix", tok[2]);
		for (int i = 3; i + 1 < nt; i += 2) {
			if (!strcmp(tok[i], "via")) {
				r->has_gw = true;
				if (addr_parse(tok[i + 1], &r->gw) < 0)
					return bad(line, "gateway", tok[i + 1]);
			} else if (!strcmp(tok[i], "metric"))
				r->metric = (uint32_t)atoi(tok[i + 1]);
			else
				return bad(line, "route option", tok[i]);
		}
	} else {
		return bad(line, "bad statement", tok[0]);
	}
	return 0;
}

static int read_desc(const char *path, struct desc *d)
{
	char buf[1024];
	int line = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	snprintf(d->node, sizeof d->node, "node");
	while (fgets(buf, sizeof buf, f)) {
		char *tok[64], *save = NULL;
		int nt = 0;
		line++;
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		for (char *t = strtok_r(buf, " \t\r\n", &save); t && nt < 64; t = strtok_r(NULL, " \t\r\n", &save))
			tok[nt++] = t;
		if (nt && parse_line(d, tok, nt, line) < 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static int build(const struct desc *d, struct cdt_plan *p, struct netd_err *e)
{
	struct cdt_plan_input in = {
		.node = d->node, .conduits = d->cds, .n_conduits = d->n_cds, .nets = d->nets, .n_nets = d->n_nets,
		.addrs = d->addrs, .n_addrs = d->n_addrs, .vlan_as_macvlan = d->macvlan,
	};
	int rc = cdt_plan_build(&in, p, e);
	for (size_t i = 0; rc == 0 && i < d->n_xaddrs; i++)
		rc = cdt_plan_add_addr(p, &d->xaddrs[i]);
	for (size_t i = 0; rc == 0 && i < d->n_xroutes; i++)
		rc = cdt_plan_add_route(p, &d->xroutes[i]);
	return rc;
}

static void print_plan(const struct cdt_plan *p)
{
	char t[ADDR_STRLEN];
	for (size_t i = 0; i < p->n_devs; i++)
		printf("dev %s kind=%u lower=%s master=%s mtu=%u alias=%s\n", p->devs[i].name, p->devs[i].kind,
		       p->devs[i].lower, p->devs[i].master, p->devs[i].mtu, p->devs[i].alias);
	for (size_t i = 0; i < p->n_addrs; i++)
		printf("addr %s %s/%u\n", p->addrs[i].dev, addr_print(&p->addrs[i].a, t, sizeof t), p->addrs[i].plen);
	for (size_t i = 0; i < p->n_routes; i++)
		printf("route %s/%u dev %s via %s\n", p->routes[i].dst.a.family == ADDR_V4 ? "0.0.0.0" : "::",
		       p->routes[i].dst.len, p->routes[i].dev, addr_print(&p->routes[i].gw, t, sizeof t));
}

static int dry_run(const struct cdt_plan *p, struct netd_err *e)
{
	struct cdt_actual act;
	struct cdt_changes ch = { 0 };
	char t[256];
	int rc = cdt_actual_read(&act, e);
	if (rc < 0)
		return rc;
	rc = cdt_diff(p, &act, &ch, e);
	if (rc == 0) {
		printf("DIFF changes=%zu\n", ch.n);
		for (size_t i = 0; i < ch.n; i++)
			printf("  - %s\n", cdt_change_print(&ch.v[i], t, sizeof t));
	}
	cdt_changes_clear(&ch);
	cdt_actual_clear(&act);
	return rc;
}

int main(int argc, char **argv)
{
	bool dry = false, show = false;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			dry = true;
		else if (!strcmp(argv[i], "--print-plan"))
			show = true;
		else
			path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "usage: conduit_apply [--dry-run] [--print-plan] PLANFILE\n");
		return 2;
	}
	static struct desc d;
	if (read_desc(path, &d) < 0)
		return 2;
	struct cdt_plan p = { 0 };
	struct netd_err e = { 0 };
	struct cdt_apply_stats st = { 0 };
	struct timespec t0, t1;
	int rc = build(&d, &p, &e);
	if (rc == 0 && show)
		print_plan(&p);
	if (rc == 0 && dry)
		rc = dry_run(&p, &e);
	else if (rc == 0) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = cdt_apply(&p, &st, &e);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long long us = (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000;
		printf("APPLY changes=%u netlink=%u undone=%u us=%lld\n", st.changes, st.nl_msgs, st.undone, us);
	}
	if (rc < 0)
		printf("ERROR %s: %s\n", netd_strerror(rc), e.msg);
	cdt_plan_clear(&p);
	return rc < 0 ? 1 : 0;
}
