/* netd/agent.c — netd --agent (see agent.h).
 *
 * Single-threaded and blocking: one libcurl easy handle (keep-alive between
 * requests, fresh connections while a change waits for confirmation), one
 * libyang context for the JSON in both directions, the conduits library for
 * the node's side.  Nothing here touches a store.
 */
#include "netd/agent.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libyang/libyang.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <sys/socket.h>

#include "conduits/conduits.h"
#include "core/log.h"
#include "netd/cdtjson.h"
#include "netd/yangctx.h"

#define AG_ECONN (-1950)      /* netd unreachable */
#define AG_ESERVER (-1951)    /* netd answered with an error */
#define AG_BODY_MAX ((size_t)64 << 20)
#define AG_CONFIRM_DEFAULT_S 60
#define AG_POLL_MS 500
#define AG_REPORT_TRIES_MS 20000   /* how long a final report is retried */

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_CONN = 2, EXIT_USAGE = 64 };

struct ag_opts {
	const char *server, *node, *token_file, *inventory_file, *log_level;
	uint32_t confirm_timeout;   /* 0: the plan's */
	uint32_t watch;             /* 0: once */
	bool vlan_as_macvlan;
};

struct ag {
	struct ag_opts o;
	struct ly_ctx *ly;
	CURL *h;
	char *base;                 /* server URL without a trailing '/' */
	struct curl_slist *hdr, *hdr_body;
	char errbuf[CURL_ERROR_SIZE];
	char local_ip[64];          /* where the last answered request left from */
};

struct ag_resp {
	long status;
	char *body;
	size_t len, cap;
	bool too_big;
};

/* One run's outcome, as reported. */
struct ag_out {
	const char *result;         /* conduit-result */
	uint64_t gen;
	unsigned changes;
	bool retry;                 /* the path to netd may have changed: retry the report */
	char error[NETD_ERR_MSG_MAX + 256];
};

static volatile sig_atomic_t ag_stop;

static void on_signal(int sig)
{
	(void)sig;
	ag_stop = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !ag_stop)
		;
}

/* ------------------------------------------------------------------ HTTP */

static void resp_clear(struct ag_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *user)
{
	struct ag_resp *r = user;
	size_t n = size * nmemb;
	if (r->len + n + 1 > AG_BODY_MAX) {
		r->too_big = true;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 16384;
		while (cap < r->len + n + 1)
			cap *= 2;
		char *p = realloc(r->body, cap);
		if (!p)
			return 0;
		r->body = p;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* @method @path with @body (NULL none).  @timeout_ms bounds the whole
 * exchange (the connect a fifth of it, at least 500 ms); @fresh opens a new
 * connection (a reused one proves nothing about the path after a change).
 * 0 with resp->status; AG_ECONN (text in a->errbuf); -ENOMEM. */
static int http(struct ag *a, const char *method, const char *path, const char *body, long timeout_ms, bool fresh,
		struct ag_resp *resp)
{
	CURL *h = a->h;
	char *url = NULL;
	resp_clear(resp);
	if (asprintf(&url, "%s%s", a->base, path) < 0)
		return -ENOMEM;
	curl_easy_reset(h);
	a->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms / 5 > 500 ? timeout_ms / 5 : 500L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "netd-agent");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, body ? a->hdr_body : a->hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	if (fresh)
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (strcmp(method, "GET"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	CURLcode rc = curl_easy_perform(h);
	free(url);
	if (rc != CURLE_OK) {
		if (!a->errbuf[0])
			snprintf(a->errbuf, sizeof a->errbuf, "%s", curl_easy_strerror(rc));
		return AG_ECONN;
	}
	char *ip = NULL;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(h, CURLINFO_LOCAL_IP, &ip) == CURLE_OK && ip)
		snprintf(a->local_ip, sizeof a->local_ip, "%s", ip);
	if (!resp->body && !(resp->body = strdup("")))
		return -ENOMEM;
	return 0;
}

/* The value of opaque or schema child @name of @n. */
static const char *any_value(const struct lyd_node *n, const char *name)
{
	const struct lyd_node *c;
	LY_LIST_FOR(n ? lyd_child(n) : NULL, c) {
		const char *nm = c->schema ? c->schema->name : ((const struct lyd_node_opaq *)c)->name.name;
		if (!strcmp(nm, name))
			return c->schema ? lyd_get_value(c) : ((const struct lyd_node_opaq *)c)->value;
	}
	return NULL;
}

static const struct lyd_node *any_child(const struct lyd_node *first, const char *name)
{
	const struct lyd_node *c;
	LY_LIST_FOR(first, c) {
		const char *nm = c->schema ? c->schema->name : ((const struct lyd_node_opaq *)c)->name.name;
		if (!strcmp(nm, name))
			return c;
	}
	return NULL;
}

/* @body parsed with unknown nodes kept opaque (RFC 8040 envelopes). */
static struct lyd_node *parse_opaq(struct ag *a, const char *body)
{
	struct lyd_node *t = NULL;
	ly_err_clean(a->ly, NULL);
	if (!body || !*body ||
	    lyd_parse_data_mem(a->ly, body, LYD_JSON, LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0, &t) != LY_SUCCESS) {
		lyd_free_all(t);
		t = NULL;
	}
	ly_err_clean(a->ly, NULL);
	return t;
}

/* "message (path P; HTTP S)" of netd's error answer into @buf. */
static void server_error(struct ag *a, const struct ag_resp *resp, char *buf, size_t len)
{
	struct lyd_node *t = parse_opaq(a, resp->body);
	const struct lyd_node *errs = any_child(t, "errors");
	const struct lyd_node *er = errs ? any_child(lyd_child(errs), "error") : NULL;
	const char *msg = any_value(er, "error-message"), *path = any_value(er, "error-path");
	if (msg)
		snprintf(buf, len, "%s (%s%s%sHTTP %ld)", msg, path && *path ? "path " : "", path ? path : "",
			 path && *path ? "; " : "", resp->status);
	else
		snprintf(buf, len, "netd answered HTTP %ld", resp->status);
	lyd_free_all(t);
}

struct kv {
	const char *name, *value;
};

/* {"netd:input":{...}} for @rpc, values checked by libyang. */
static int rpc_body(struct ag *a, const char *rpc, const struct kv *in, size_t n, char **out)
{
	const struct lys_module *mod = ly_ctx_get_module_implemented(a->ly, "netd");
	struct lyd_node *op = NULL;
	char *text = NULL, prefix[96];
	int rc = mod && lyd_new_inner(NULL, mod, rpc, 0, &op) == LY_SUCCESS ? 0 : NETD_EINVAL;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (in[i].value && lyd_new_term(op, NULL, in[i].name, in[i].value, 0, NULL) != LY_SUCCESS)
			rc = NETD_EINVAL;
	if (rc == 0 && (lyd_print_mem(&text, op, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS || !text))
		rc = -ENOMEM;
	int pl = snprintf(prefix, sizeof prefix, "{\"netd:%s\":", rpc);
	if (rc == 0 && strncmp(text, prefix, (size_t)pl))
		rc = NETD_EINVAL;
	if (rc == 0 && asprintf(out, "{\"netd:input\":%s", text + pl) < 0)
		rc = -ENOMEM;
	if (rc == NETD_EINVAL)
		log_err("agent: %s: cannot build the request: %s", rpc, ly_errmsg(a->ly));
	free(text);
	lyd_free_all(op);
	return rc;
}

/* POST RPC @rpc.  0 (2xx; the answer in @resp), AG_ECONN, AG_ESERVER
 * (netd's message in @err), NETD_EINVAL, -ENOMEM. */
static int rpc_call(struct ag *a, const char *rpc, const struct kv *in, size_t n, long tmo_ms, bool fresh,
		    struct ag_resp *resp, char *err, size_t errlen)
{
	char *body = NULL, path[128];
	int rc = rpc_body(a, rpc, in, n, &body);
	snprintf(path, sizeof path, "/restconf/operations/netd:%s", rpc);
	if (rc == 0)
		rc = http(a, "POST", path, body, tmo_ms, fresh, resp);
	free(body);
	if (rc == AG_ECONN)
		snprintf(err, errlen, "cannot reach netd at %s: %s", a->base, a->errbuf);
	else if (rc == 0 && (resp->status < 200 || resp->status >= 300)) {
		server_error(a, resp, err, errlen);
		rc = AG_ESERVER;
	}
	return rc;
}

/* Output leaf @name of an RPC answer, copied into a heap string (NULL if absent). */
static char *rpc_output(struct ag *a, const char *body, const char *name)
{
	struct lyd_node *t = parse_opaq(a, body);
	const char *v = any_value(any_child(t, "output"), name);
	char *copy = v ? strdup(v) : NULL;
	lyd_free_all(t);
	return copy;
}

/* ------------------------------------------------------------- inventory */

static void read_product(char *buf, size_t len)
{
	FILE *f = fopen("/sys/class/dmi/id/product_name", "r");
	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\r\n")] = '\0';
	fclose(f);
}

static const struct cdt_inv_link *link_named(const struct cdt_inv_link *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].nic.name, name))
			return &v[i];
	return NULL;
}

static const char *master_name(const struct cdt_inv_link *v, size_t n, int ifindex)
{
	for (size_t i = 0; ifindex && i < n; i++)
		if (v[i].nic.ifindex == ifindex)
			return v[i].nic.name;
	return "";
}

/* The NICs an override file names, with the kernel's facts under its
 * statements. */
static int inventory_override(struct ag *a, const struct cdt_inv_link *links, size_t nl, struct cdtj_inventory *out,
			      struct netd_err *e)
{
	struct cdtj_inventory ov = { 0 };
	char *text = NULL;
	FILE *f = fopen(a->o.inventory_file, "r");
	size_t cap = 0, len = 0;
	if (!f)
		return netd_err_set(e, -errno, NULL, "inventory file %s: %s", a->o.inventory_file, strerror(errno));
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *p = realloc(text, cap = cap ? cap * 2 : 65536);
			if (!p) {
				fclose(f);
				free(text);
				return -ENOMEM;
			}
			text = p;
		}
		size_t got = fread(text + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	fclose(f);
	text[len] = '\0';
	int rc = cdtj_inventory_parse(a->ly, text, CDTJ_INV_PARTIAL, a->o.inventory_file, &ov, e);
	free(text);
	for (size_t i = 0; i < ov.n && rc == 0; i++) {
		struct cdt_nic *n = &ov.nics[i];
		const struct cdt_inv_link *l = link_named(links, nl, n->name);
		if (!l) {
			rc = netd_err_set(e, NETD_ENOTFOUND, NULL, "inventory file %s names NIC %s, which node %s does not have",
					  a->o.inventory_file, n->name, a->o.node);
			break;
		}
		struct cdt_nic k = l->nic;
		/* the file's speeds replace the kernel's as a whole: a class
		 * stated alone brings its supported speed along, supported
		 * speeds stated alone their fastest as the class */
		if (n->supported)
			k.supported = n->supported;
		else if (n->speed_class)
			k.supported = cdt_link_speed_bit(n->speed_class);
		if (n->speed_class)
			k.speed_class = n->speed_class;
		else if (n->supported)
			k.speed_class = cdt_link_speeds_max(n->supported);
		if (n->speed)
			k.speed = n->speed;
		if (n->pci[0])
			memcpy(k.pci, n->pci, sizeof k.pci);
		if (n->driver[0])
			memcpy(k.driver, n->driver, sizeof k.driver);
		*n = k;
		snprintf(ov.masters[i], sizeof ov.masters[i], "%s", master_name(links, nl, l->master));
	}
	if (rc == 0 && !ov.product[0])
		read_product(ov.product, sizeof ov.product);
	if (rc == 0)
		*out = ov;
	else
		cdtj_inventory_clear(&ov);
	return rc;
}

/* The node's NICs: physical links (no kind), or those of --inventory-file. */
static int inventory(struct ag *a, struct cdtj_inventory *out, struct netd_err *e)
{
	struct cdt_inv_link *links = NULL;
	size_t nl = 0, k = 0;
	int rc = cdt_inventory_read_links(&links, &nl, NULL, e);
	if (rc < 0)
		return rc;
	if (a->o.inventory_file) {
		rc = inventory_override(a, links, nl, out, e);
		free(links);
		return rc;
	}
	struct cdtj_inventory r = { 0 };
	r.nics = calloc(nl ? nl : 1, sizeof *r.nics);
	r.masters = calloc(nl ? nl : 1, sizeof *r.masters);
	if (!r.nics || !r.masters) {
		free(links);
		cdtj_inventory_clear(&r);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nl; i++) {
		if (links[i].kind[0])
			continue;   /* bridges, bonds, VLANs, veth...: not NICs */
		r.nics[k] = links[i].nic;
		snprintf(r.masters[k++], sizeof r.masters[0], "%s", master_name(links, nl, links[i].master));
	}
	r.n = k;
	read_product(r.product, sizeof r.product);
	free(links);
	*out = r;
	return 0;
}

static int report_inventory(struct ag *a, char *err, size_t errlen)
{
	struct cdtj_inventory inv = { 0 };
	struct netd_err e = { 0 };
	struct ag_resp resp = { 0 };
	char *json = NULL;
	int rc = inventory(a, &inv, &e);
	if (rc == 0)
		rc = cdtj_inventory_print(a->ly, &inv, &json, &e);
	if (rc < 0) {
		snprintf(err, errlen, "node %s: inventory: %s", a->o.node, e.msg[0] ? e.msg : netd_strerror(rc));
		cdtj_inventory_clear(&inv);
		return rc;
	}
	const struct kv in[] = { { "node", a->o.node }, { "inventory", json } };
	rc = rpc_call(a, "report-inventory", in, 2, 30000, false, &resp, err, errlen);
	if (rc == 0)
		log_info("agent %s: inventory of %zu NICs reported", a->o.node, inv.n);
	free(json);
	cdtj_inventory_clear(&inv);
	resp_clear(&resp);
	return rc;
}

/* ------------------------------------------------------------ the plan */

static int fetch_plan(struct ag *a, struct cdt_plan *plan, struct cdtj_meta *m, uint64_t *gen, char *err,
		      size_t errlen)
{
	struct ag_resp resp = { 0 };
	struct netd_err e = { 0 };
	const struct kv in[] = { { "node", a->o.node } };
	int rc = rpc_call(a, "conduit-plan", in, 1, 30000, false, &resp, err, errlen);
	char *g = rc == 0 ? rpc_output(a, resp.body, "generation") : NULL;
	char *json = rc == 0 ? rpc_output(a, resp.body, "plan") : NULL;
	resp_clear(&resp);
	if (rc == 0 && (!g || !json))
		rc = netd_err_set(&e, NETD_EINVAL, NULL, "netd's conduit-plan answer has no %s", g ? "plan" : "generation");
	if (rc == 0) {
		*gen = strtoull(g, NULL, 10);
		rc = cdtj_plan_parse(a->ly, a->o.node, json, plan, m, &e);
	}
	if (rc < 0 && e.code)
		snprintf(err, errlen, "node %s: plan %s: %s", a->o.node, g ? g : "", e.msg);
	free(g);
	free(json);
	if (rc == 0 && a->o.vlan_as_macvlan) {
		for (size_t i = 0; i < plan->n_devs; i++) {
			if (plan->devs[i].kind == CDT_DEV_VLAN) {
				plan->devs[i].kind = CDT_DEV_MACVLAN;
				plan->devs[i].vlan_id = 0;
			}
		}
	}
	return rc;
}

/* conduit-report; the final ones are retried while netd is unreachable. */
static int report(struct ag *a, const struct ag_out *o, uint32_t confirm_timeout, uint64_t retry_ms)
{
	char gen[24], changes[16], tmo[16], err[NETD_ERR_MSG_MAX];
	struct ag_resp resp = { 0 };
	snprintf(gen, sizeof gen, "%llu", (unsigned long long)o->gen);
	snprintf(changes, sizeof changes, "%u", o->changes);
	snprintf(tmo, sizeof tmo, "%u", confirm_timeout);
	const struct kv in[] = { { "node", a->o.node }, { "generation", gen }, { "result", o->result },
				 { "changes", changes }, { "error", o->error[0] ? o->error : NULL },
				 { "confirm-timeout", confirm_timeout ? tmo : NULL } };
	uint64_t until = now_ms() + retry_ms;
	int rc;
	for (;;) {
		rc = rpc_call(a, "conduit-report", in, 6, 10000, retry_ms > 0, &resp, err, sizeof err);
		if (rc != AG_ECONN || now_ms() >= until)
			break;
		sleep_ms(AG_POLL_MS);
	}
	resp_clear(&resp);
	if (rc < 0)
		log_err("agent %s: cannot report %s: %s", a->o.node, o->result, err);
	return rc;
}

/* ------------------------------------------------------ management path */

struct names {
	char (*v)[CDT_IFNAME_MAX];
	size_t n, cap;
};

static bool names_has(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

/* 1 added, 0 there already or "", -ENOMEM. */
static int names_add(struct names *s, const char *name)
{
	if (!name || !*name || names_has(s, name))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *v = realloc(s->v, cap * sizeof *s->v);
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	snprintf(s->v[s->n++], CDT_IFNAME_MAX, "%s", name);
	return 1;
}

static const char *aname(const struct cdt_actual *act, int ifindex)
{
	const struct cdt_alink *l = ifindex ? cdt_actual_link_at(act, ifindex) : NULL;
	return l ? l->name : "";
}

/* The device below a VLAN or macvlan.  Only those: a veth's IFLA_LINK is
 * its peer, which may be an ifindex of another namespace. */
static const char *lower_of(const struct cdt_actual *act, const struct cdt_alink *l)
{
	return l->kind == CDT_DEV_VLAN || l->kind == CDT_DEV_MACVLAN ? aname(act, l->link) : "";
}

/* @s grown by the devices below its members (lower devices, ports), in
 * the actual state and in the plan, until nothing is added. */
static int names_close_down(struct names *s, const struct cdt_actual *act, const struct cdt_plan *p)
{
	int added;
	do {
		added = 0;
		for (size_t i = 0; i < s->n; i++) {
			char name[CDT_IFNAME_MAX];
			int r = 0;
			memcpy(name, s->v[i], sizeof name);   /* names_add() may move s->v */
			const struct cdt_alink *l = cdt_actual_link(act, name);
			if (l && (r = names_add(s, lower_of(act, l))) < 0)
				return r;
			added |= r;
			for (size_t k = 0; l && k < act->n_links; k++) {
				if (act->links[k].master != l->ifindex)
					continue;
				if ((r = names_add(s, act->links[k].name)) < 0)
					return r;
				added |= r;
			}
			for (size_t k = 0; k < p->n_devs; k++) {
				const struct cdt_dev *d = &p->devs[k];
				r = !strcmp(d->name, name) ? names_add(s, d->lower)
				  : !strcmp(d->master, name) ? names_add(s, d->name) : 0;
				if (r < 0)
					return r;
				added |= r;
			}
		}
	} while (added);
	return 0;
}

static bool addr_in(const struct addr *a, const struct addr *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (addr_eq(a, &set[i]))
			return true;
	return false;
}

static bool family_in(int fam, const struct addr *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].family == fam)
			return true;
	return false;
}

/* Does a change of @ch touch the path to the management addresses @mg?
 * The reason into @why. */
static int on_mgmt_path(const struct cdt_plan *p, const struct cdt_actual *act, const struct cdt_changes *ch,
			const struct addr *mg, size_t n_mg, char *why, size_t len, bool *on)
{
	struct names s = { 0 };
	int rc = 0;
	char t[200], a[ADDR_STRLEN];
	*on = false;
	for (size_t i = 0; i < act->n_addrs && rc >= 0; i++)
		if (addr_in(&act->addrs[i].a, mg, n_mg))
			rc = names_add(&s, aname(act, act->addrs[i].ifindex));
	for (size_t i = 0; i < p->n_addrs && rc >= 0; i++)
		if (addr_in(&p->addrs[i].a, mg, n_mg))
			rc = names_add(&s, p->addrs[i].dev);
	if (rc >= 0)
		rc = names_close_down(&s, act, p);
	for (size_t i = 0; i < ch->n && rc >= 0 && !*on && n_mg; i++) {
		const struct cdt_change *c = &ch->v[i];
		bool route = c->op == CDT_CHG_ROUTE || c->op == CDT_CHG_DEL_ROUTE;
		if (names_has(&s, c->dev) || (route && (names_has(&s, c->route.dev) ||
							 (c->has_old_route && names_has(&s, c->old_route.dev)) ||
							 (c->route.dst.len == 0 &&
							  family_in(c->route.dst.a.family, mg, n_mg))))) {
			*on = true;
			snprintf(why, len, "\"%s\" is on the path to the management address %s",
				 cdt_change_print(c, t, sizeof t), addr_print(&mg[0], a, sizeof a));
		}
	}
	free(s.v);
	return rc < 0 ? rc : 0;
}

/* -------------------------------------------------------------- restore */

static int depth(uint8_t kind)
{
	return kind == CDT_DEV_BRIDGE ? 3 : kind == CDT_DEV_VLAN || kind == CDT_DEV_MACVLAN ? 2 : kind == CDT_DEV_BOND;
}

/* "netd:<conduit>[/<network>]" -> its parts. */
static void parse_mark(const char *alias, struct cdt_dev *d)
{
	const char *c = alias + strlen(CDT_MARK), *slash = strchr(c, '/');
	snprintf(d->conduit, sizeof d->conduit, "%.*s", (int)(slash ? (size_t)(slash - c) : strlen(c)), c);
	snprintf(d->network, sizeof d->network, "%s", slash ? slash + 1 : "");
}

/* The links a restore must name: netd's devices, their ports and lower
 * devices, every link a change names, every link with a netd route. */
static int restore_set(const struct cdt_actual *act, const struct cdt_changes *ch, struct names *s)
{
	int rc = 0;
	for (size_t i = 0; i < act->n_links && rc >= 0; i++) {
		const struct cdt_alink *l = &act->links[i];
		const struct cdt_alink *m = cdt_actual_link_at(act, l->master);
		if (cdt_owned(l->alias)) {
			rc = names_add(s, l->name);
			rc = rc < 0 ? rc : names_add(s, lower_of(act, l));
		}
		if (rc >= 0 && m && cdt_owned(m->alias))
			rc = names_add(s, l->name);
	}
	for (size_t i = 0; i < ch->n && rc >= 0; i++) {
		const struct cdt_change *c = &ch->v[i];
		const char *v[] = { c->dev, c->master, c->old_master, c->route.dev, c->has_old_route ? c->old_route.dev : "" };
		for (size_t k = 0; k < 5 && rc >= 0; k++)
			if (cdt_actual_link(act, v[k]))
				rc = names_add(s, v[k]);
	}
	for (size_t i = 0; i < act->n_routes && rc >= 0; i++)
		if (act->routes[i].protocol == CDT_RTPROT)
			rc = names_add(s, aname(act, act->routes[i].oif));
	return rc < 0 ? rc : 0;
}

static void dev_of(const struct cdt_actual *act, const struct cdt_alink *l, struct cdt_dev *d)
{
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", l->name);
	d->kind = cdt_owned(l->alias) ? l->kind : CDT_DEV_NIC;
	snprintf(d->lower, sizeof d->lower, "%s", lower_of(act, l));
	snprintf(d->master, sizeof d->master, "%s", aname(act, l->master));
	d->vlan_id = l->vlan_id;
	d->bond_mode = l->bond_mode;
	d->miimon = l->miimon;
	d->lacp_fast = l->lacp_fast;
	d->xmit_hash = l->xmit_hash;
	d->mtu = l->mtu;
	if (cdt_owned(l->alias)) {
		memcpy(d->alias, l->alias, sizeof d->alias);
		parse_mark(l->alias, d);
	}
}

/* Did a change replace the default route of @family? */
static bool default_replaced(const struct cdt_changes *ch, int family)
{
	for (size_t i = 0; i < ch->n; i++) {
		const struct cdt_change *c = &ch->v[i];
		if (c->op == CDT_CHG_ROUTE && c->has_old_route && c->old_route.dst.len == 0 &&
		    c->old_route.dst.a.family == family)
			return true;
	}
	return false;
}

/* A plan that brings the node back to @act, the state before @ch. */
static int restore_plan(const char *node, const struct cdt_actual *act, const struct cdt_changes *ch,
			struct cdt_plan *out)
{
	struct names s = { 0 };
	struct cdt_plan p = { 0 };
	int rc = restore_set(act, ch, &s);
	snprintf(p.node, sizeof p.node, "%s", node);
	for (int dp = 0; dp <= 3 && rc == 0; dp++) {
		for (size_t i = 0; i < s.n && rc == 0; i++) {
			const struct cdt_alink *l = cdt_actual_link(act, s.v[i]);
			struct cdt_dev d;
			dev_of(act, l, &d);
			if (depth(d.kind) == dp && (d.kind != CDT_DEV_OTHER))
				rc = cdt_plan_add_dev(&p, &d);
		}
	}
	for (size_t i = 0; i < act->n_addrs && rc == 0; i++) {
		const struct cdt_aaddr *x = &act->addrs[i];
		if (x->scope >= RT_SCOPE_LINK || !names_has(&s, aname(act, x->ifindex)))
			continue;
		struct cdt_paddr pa = { .a = x->a, .plen = x->plen };
		snprintf(pa.dev, sizeof pa.dev, "%s", aname(act, x->ifindex));
		rc = cdt_plan_add_addr(&p, &pa);
	}
	for (size_t i = 0; i < act->n_routes && rc == 0; i++) {
		const struct cdt_aroute *x = &act->routes[i];
		const char *dev = aname(act, x->oif);
		bool dflt = x->dst.len == 0 && x->metric == 0 && default_replaced(ch, x->dst.a.family);
		if (!names_has(&s, dev) || (x->protocol != CDT_RTPROT && !dflt))
			continue;
		struct cdt_proute r = { .dst = x->dst, .has_gw = x->has_gw, .gw = x->gw, .metric = x->metric };
		snprintf(r.dev, sizeof r.dev, "%s", dev);
		rc = cdt_plan_add_route(&p, &r);
	}
	free(s.v);
	if (rc < 0) {
		cdt_plan_clear(&p);
		return rc;
	}
	*out = p;
	return 0;
}

/* Addresses on links the restore names that the state before did not have
 * (a change put them on a NIC, outside the subnets the restore plans):
 * deleted.  Returns how many, or -errno. */
static int drop_new_addrs(const struct cdt_plan *rp, const struct cdt_actual *before, struct netd_err *e)
{
	struct cdt_actual now;
	struct nl_sock *sk = NULL;
	int rc = cdt_actual_read(&now, e), n = 0;
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < now.n_addrs && rc >= 0; i++) {
		const struct cdt_aaddr *x = &now.addrs[i];
		const struct cdt_alink *l = cdt_actual_link_at(&now, x->ifindex), *was = l ? cdt_actual_link(before, l->name) : NULL;
		bool planned = false, had = false;
		for (size_t k = 0; l && k < rp->n_devs; k++)
			planned |= !strcmp(rp->devs[k].name, l->name);
		for (size_t k = 0; was && k < before->n_addrs; k++)
			had |= before->addrs[k].ifindex == was->ifindex && addr_eq(&before->addrs[k].a, &x->a) &&
			       before->addrs[k].plen == x->plen;
		if (!planned || had || x->scope >= RT_SCOPE_LINK)
			continue;
		if (!sk && (!(sk = nl_socket_alloc()) || nl_connect(sk, NETLINK_ROUTE) < 0)) {
			rc = netd_err_set(e, -ENOMEM, NULL, "%s", "cannot open a netlink socket");
			break;
		}
		struct rtnl_addr *ra = rtnl_addr_alloc();
		struct nl_addr *local = nl_addr_build(x->a.family == ADDR_V4 ? AF_INET : AF_INET6, x->a.b, addr_len(&x->a));
		if (!ra || !local) {
			rc = -ENOMEM;
		} else {
			char t[ADDR_STRLEN];
			nl_addr_set_prefixlen(local, x->plen);
			rtnl_addr_set_ifindex(ra, x->ifindex);
			rtnl_addr_set_family(ra, x->a.family == ADDR_V4 ? AF_INET : AF_INET6);
			rtnl_addr_set_local(ra, local);
			rtnl_addr_set_prefixlen(ra, x->plen);
			int nrc = rtnl_addr_delete(sk, ra, 0);
			if (nrc < 0)
				rc = netd_err_set(e, -EIO, NULL, "delete address %s/%u from %s: %s",
						  addr_print(&x->a, t, sizeof t), x->plen, l->name, nl_geterror(nrc));
			else
				n++;
		}
		nl_addr_put(local);
		rtnl_addr_put(ra);
	}
	nl_socket_free(sk);
	cdt_actual_clear(&now);
	return rc < 0 ? rc : n;
}

/* ----------------------------------------------------- commit-confirm */

/* One poll: 1 confirmed, 0 not (yet), AG_ECONN unreachable. */
static int poll_confirm(struct ag *a, uint64_t gen, bool self_confirm)
{
	char path[256], holder[256];
	struct ag_resp resp = { 0 };
	snprintf(path, sizeof path, "/restconf/data/netd:nodes/node=%s/conduit-state", a->o.node);
	int rc = http(a, "GET", path, NULL, 2000, true, &resp);
	if (rc < 0 || resp.status != 200) {
		resp_clear(&resp);
		return rc < 0 ? rc : 0;
	}
	if (self_confirm) {
		resp_clear(&resp);
		return 1;
	}
	struct lyd_node *tree = NULL, *at = NULL;
	struct ly_in *in = NULL;
	snprintf(holder, sizeof holder, "/netd:nodes/node[name='%s']", a->o.node);
	int yes = 0;
	ly_err_clean(a->ly, NULL);
	if (lyd_new_path(NULL, a->ly, holder, NULL, 0, &tree) == LY_SUCCESS &&
	    lyd_find_path(tree, holder, 0, &at) == LY_SUCCESS && ly_in_new_memory(resp.body, &in) == LY_SUCCESS &&
	    lyd_parse_data(a->ly, at, in, LYD_JSON, LYD_PARSE_ONLY, 0, NULL) == LY_SUCCESS) {
		struct lyd_node *cf = NULL;
		if (lyd_find_path(at, "conduit-state/confirm", 0, &cf) == LY_SUCCESS && cf) {
			const char *c = any_value(cf, "confirmed"), *g = any_value(cf, "generation");
			yes = c && !strcmp(c, "true") && g && strtoull(g, NULL, 10) == gen;
		}
	}
	ly_in_free(in, 0);
	lyd_free_all(tree);
	resp_clear(&resp);
	return yes;
}

/* The addresses the management path is about: the plan's and the one the
 * agent reached netd from. */
static size_t mgmt_addrs(const struct ag *a, const struct cdtj_meta *m, struct addr out[2])
{
	size_t n = 0;
	if (m->has_mgmt)
		out[n++] = m->mgmt;
	struct addr l;
	if (a->local_ip[0] && addr_parse(a->local_ip, &l) == 0 && !(n && addr_eq(&l, &out[0])) &&
	    !(l.family == ADDR_V4 && l.b[0] == 127) && !(l.family == ADDR_V6 && addr_is_zero(&l)))
		out[n++] = l;
	return n;
}

/* Restore the state before; the outcome in @o. */
static void roll_back(struct ag *a, const struct cdt_plan *rp, const struct cdt_actual *before, struct ag_out *o)
{
	struct cdt_apply_stats st = { 0 };
	struct netd_err e = { 0 };
	int rc = cdt_apply(rp, &st, &e);
	int dropped = rc == 0 ? drop_new_addrs(rp, before, &e) : 0;
	size_t l = strlen(o->error);
	if (rc < 0 || dropped < 0) {
		o->result = "failed";
		snprintf(o->error + l, sizeof o->error - l, "; restoring the previous state FAILED: %s", e.msg);
	} else {
		o->result = "rolled-back";
		unsigned n = st.changes + (unsigned)dropped;
		snprintf(o->error + l, sizeof o->error - l, "; previous state restored (%u change%s%s)", n, n == 1 ? "" : "s",
			 dropped ? ", addresses the change left on NICs included" : "");
	}
	o->changes = 0;
	o->retry = true;
	log_warn("agent %s: %s", a->o.node, o->error);
}

/* After a failed cdt_apply(): the library undid its changes, but not what
 * the kernel did on its own meanwhile (deleting an address drops the
 * routes through it).  The restore plan brings that back too; it makes no
 * change when there is nothing to bring back. */
static void settle(struct ag *a, const struct cdt_plan *rp, const struct cdt_actual *before, struct ag_out *o)
{
	struct cdt_apply_stats st = { 0 };
	struct netd_err e = { 0 };
	int rc = cdt_apply(rp, &st, &e);
	int dropped = rc == 0 ? drop_new_addrs(rp, before, &e) : 0;
	size_t l = strlen(o->error);
	if (rc < 0 || dropped < 0)
		snprintf(o->error + l, sizeof o->error - l, "; restoring the state before FAILED: %s", e.msg);
	else if (st.changes + (unsigned)dropped)
		snprintf(o->error + l, sizeof o->error - l, "; %u more changes restored the state before",
			 st.changes + (unsigned)dropped);
	o->retry = st.changes + (unsigned)dropped > 0 || rc < 0 || dropped < 0;
}

/* Apply @plan on the management path: announce, apply, wait for the
 * confirmation, restore @rp (the state @before) without one. */
static void confirmed_apply(struct ag *a, const struct cdt_plan *plan, const struct cdt_plan *rp,
			    const struct cdtj_meta *m, const struct cdt_actual *before, const struct cdt_changes *ch,
			    const char *why, struct ag_out *o)
{
	struct cdt_apply_stats st = { 0 };
	struct netd_err e = { 0 };
	uint32_t tmo = a->o.confirm_timeout ? a->o.confirm_timeout : m->confirm_timeout ? m->confirm_timeout
											    : AG_CONFIRM_DEFAULT_S;
	bool self = !m->has_self_confirm || m->self_confirm;
	o->result = "pending-confirm";
	o->changes = (unsigned)ch->n;
	if (report(a, o, tmo, 0) < 0) {
		o->result = "failed";
		o->changes = 0;
		snprintf(o->error, sizeof o->error, "node %s: cannot announce the change on the management path to netd; "
			 "nothing changed", a->o.node);
		return;
	}
	log_info("agent %s: %s: applying with commit-confirm, %u s to confirm (%s)", a->o.node, why, tmo,
		 self ? "self-confirm once netd is reached" : "netctl conduit confirm");
	if (cdt_apply(plan, &st, &e) < 0) {
		o->result = "failed";
		o->changes = 0;
		snprintf(o->error, sizeof o->error, "%s", e.msg);
		settle(a, rp, before, o);
		return;
	}
	uint64_t deadline = now_ms() + (uint64_t)tmo * 1000u;
	int ok;
	for (;;) {   /* until confirmed or the deadline; an unreachable netd is no answer */
		ok = poll_confirm(a, o->gen, self);
		uint64_t t = now_ms();
		if (ok == 1 || t >= deadline)
			break;
		sleep_ms(deadline - t < AG_POLL_MS ? deadline - t : AG_POLL_MS);
	}
	if (ok == 1) {
		o->result = "confirmed";
		o->changes = st.changes;
		o->retry = true;
		log_info("agent %s: change confirmed (%s)", a->o.node, self ? "netd reached after the change" : "by netd");
	} else {
		snprintf(o->error, sizeof o->error, "node %s: no confirmation within %u s (%s; %s)", a->o.node, tmo,
			 self ? "netd was not reached after the change" : "netctl conduit confirm was not seen", why);
		roll_back(a, rp, before, o);
	}
}

/* ------------------------------------------------------------- one run */

static void fail_out(struct ag_out *o, const char *msg)
{
	o->result = "failed";
	o->changes = 0;
	snprintf(o->error, sizeof o->error, "%s", msg);
}

/* Inventory, plan, diff, apply; the outcome in @o (not yet reported
 * unless commit-confirm reported along the way).  AG_ECONN when netd
 * cannot be reached before anything changed (nothing to report). */
static int run_once(struct ag *a, struct ag_out *o)
{
	struct cdt_plan plan = { 0 }, rp = { 0 };
	struct cdtj_meta m = { 0 };
	struct cdt_actual before = { 0 };
	struct cdt_changes ch = { 0 };
	struct netd_err e = { 0 };
	char err[NETD_ERR_MSG_MAX + 128], why[400];
	bool have_act = false, on = false;
	memset(o, 0, sizeof *o);
	int rc = report_inventory(a, err, sizeof err);
	if (rc == 0)
		rc = fetch_plan(a, &plan, &m, &o->gen, err, sizeof err);
	if (rc == AG_ECONN)
		goto out;
	if (rc < 0) {
		fail_out(o, err);
		goto out;
	}
	if ((rc = cdt_actual_read(&before, &e)) == 0) {
		have_act = true;
		rc = cdt_diff(&plan, &before, &ch, &e);
	}
	if (rc < 0) {
		fail_out(o, e.msg);
		goto out;
	}
	if (ch.n == 0) {
		o->result = "unchanged";
		goto out;
	}
	for (size_t i = 0; i < ch.n; i++) {   /* conduit-report carries the count: the list is logged here */
		char t[512];
		log_info("agent %s: generation %llu, change %zu/%zu: %s", a->o.node, (unsigned long long)o->gen, i + 1,
			 ch.n, cdt_change_print(&ch.v[i], t, sizeof t));
	}
	struct addr mg[2];
	size_t n_mg = mgmt_addrs(a, &m, mg);
	if ((rc = on_mgmt_path(&plan, &before, &ch, mg, n_mg, why, sizeof why, &on)) < 0) {
		fail_out(o, "out of memory");
		goto out;
	}
	if ((rc = restore_plan(a->o.node, &before, &ch, &rp)) < 0) {
		fail_out(o, "cannot keep the state before the change: out of memory");
		goto out;
	}
	if (on) {
		confirmed_apply(a, &plan, &rp, &m, &before, &ch, why, o);
		goto out;
	}
	struct cdt_apply_stats st = { 0 };
	if ((rc = cdt_apply(&plan, &st, &e)) < 0) {
		fail_out(o, e.msg);
		settle(a, &rp, &before, o);
	} else {
		o->result = "applied";
		o->changes = st.changes;
	}
out:
	cdt_changes_clear(&ch);
	if (have_act)
		cdt_actual_clear(&before);
	cdt_plan_clear(&plan);
	cdt_plan_clear(&rp);
	return rc == AG_ECONN ? rc : 0;
}

static int run_and_report(struct ag *a)
{
	struct ag_out o;
	int rc = run_once(a, &o);
	if (rc == AG_ECONN) {
		log_err("agent %s: cannot reach netd at %s: %s", a->o.node, a->base, a->errbuf);
		return EXIT_CONN;
	}
	if (!o.result)
		fail_out(&o, "no outcome");   /* not reached: every path sets one */
	report(a, &o, 0, o.retry ? AG_REPORT_TRIES_MS : 0);
	bool bad = !strcmp(o.result, "failed") || !strcmp(o.result, "rolled-back");
	printf("node %s: %s (generation %llu, %u changes)%s%s\n", a->o.node, o.result, (unsigned long long)o.gen,
	       o.changes, o.error[0] ? ": " : "", o.error);
	fflush(stdout);
	return bad ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------- set-up */

static const char ag_usage[] =
	"usage: netd --agent --server URL --node NAME [--token-file F] [--confirm-timeout S]\n"
	"                    [--watch S] [--inventory-file F] [--vlan-as-macvlan] [--log-level L]\n"
	"\n"
	"  --server URL          netd's RESTCONF URL (http://HOST:PORT or https://...)\n"
	"  --node NAME           this node's name in netd\n"
	"  --token-file F        bearer token file (else env NETD_TOKEN)\n"
	"  --confirm-timeout S   commit-confirm window (default: netd's conduits/commit-confirm/timeout)\n"
	"  --watch S             run again every S seconds until SIGTERM\n"
	"  --inventory-file F    lab/tests: report F's NICs with F's speeds ({\"netd:inventory\":{...}})\n"
	"  --vlan-as-macvlan     lab/tests: VLANs as macvlans (kernels without 802.1Q)\n"
	"\n"
	"exit status: 0 unchanged/applied/confirmed, 1 failed/rolled back, 2 netd unreachable, 64 usage\n";

bool agent_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--agent"))
			return true;
	return false;
}

static int parse_u32(const char *opt, const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end = NULL;
	unsigned long x = strtoul(v, &end, 10);
	if (!*v || *end || x < min || x > max) {
		fprintf(stderr, "netd --agent: %s wants a number %u..%u, not '%s'\n", opt, min, max, v);
		return -1;
	}
	*out = (uint32_t)x;
	return 0;
}

static int parse_opts(int argc, char **argv, struct ag_opts *o)
{
	static const struct option longs[] = {
		{ "agent", no_argument, NULL, 'a' },
		{ "server", required_argument, NULL, 's' },
		{ "node", required_argument, NULL, 'n' },
		{ "token-file", required_argument, NULL, 't' },
		{ "confirm-timeout", required_argument, NULL, 'c' },
		{ "watch", required_argument, NULL, 'w' },
		{ "inventory-file", required_argument, NULL, 'i' },
		{ "vlan-as-macvlan", no_argument, NULL, 'v' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'a': break;
		case 's': o->server = optarg; break;
		case 'n': o->node = optarg; break;
		case 't': o->token_file = optarg; break;
		case 'c': if (parse_u32("--confirm-timeout", optarg, 1, 3600, &o->confirm_timeout) < 0) return -1; break;
		case 'w': if (parse_u32("--watch", optarg, 1, 86400, &o->watch) < 0) return -1; break;
		case 'i': o->inventory_file = optarg; break;
		case 'v': o->vlan_as_macvlan = true; break;
		case 'L': o->log_level = optarg; break;
		case 'h': fputs(ag_usage, stdout); exit(0);
		default: fputs(ag_usage, stderr); return -1;
		}
	}
	if (optind < argc || !o->server || !o->node) {
		fprintf(stderr, "netd --agent: %s\n", optind < argc ? "unexpected argument" : "--server and --node are required");
		fputs(ag_usage, stderr);
		return -1;
	}
	return 0;
}

static int read_token(const struct ag_opts *o, char **out)
{
	char buf[1024];
	const char *env = getenv("NETD_TOKEN");
	*out = NULL;
	if (!o->token_file) {
		if (env && *env && !(*out = strdup(env)))
			return -ENOMEM;
		return 0;
	}
	FILE *f = fopen(o->token_file, "r");
	if (!f) {
		fprintf(stderr, "netd --agent: --token-file %s: %s\n", o->token_file, strerror(errno));
		return -errno;
	}
	buf[0] = '\0';
	if (!fgets(buf, sizeof buf, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		fprintf(stderr, "netd --agent: --token-file %s is empty\n", o->token_file);
		return NETD_EINVAL;
	}
	*out = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return *out ? 0 : -ENOMEM;
}

static int ag_open(struct ag *a)
{
	struct netd_err e = { 0 };
	char *token = NULL, *auth = NULL;
	if (asprintf(&a->base, "%s%s", strstr(a->o.server, "://") ? "" : "http://", a->o.server) < 0)
		return -ENOMEM;
	for (size_t n = strlen(a->base); n && a->base[n - 1] == '/'; n--)
		a->base[n - 1] = '\0';
	int rc = read_token(&a->o, &token);
	if (rc < 0)
		return rc;
	if ((rc = yc_new(&a->ly, &e)) < 0) {
		fprintf(stderr, "netd --agent: YANG modules: %s\n", e.msg);
		free(token);
		return rc;
	}
	if (!(a->h = curl_easy_init())) {
		free(token);
		return -ENOMEM;
	}
	const char *common[] = { "Accept: application/yang-data+json", "Expect:" };
	for (size_t i = 0; i < 2; i++) {
		a->hdr = curl_slist_append(a->hdr, common[i]);
		a->hdr_body = curl_slist_append(a->hdr_body, common[i]);
	}
	a->hdr_body = curl_slist_append(a->hdr_body, "Content-Type: application/yang-data+json");
	if (token && asprintf(&auth, "Authorization: Bearer %s", token) >= 0) {
		a->hdr = curl_slist_append(a->hdr, auth);
		a->hdr_body = curl_slist_append(a->hdr_body, auth);
		explicit_bzero(auth, strlen(auth));
	}
	if (token)
		explicit_bzero(token, strlen(token));
	free(auth);
	free(token);
	return a->hdr && a->hdr_body ? 0 : -ENOMEM;
}

static void ag_close(struct ag *a)
{
	curl_slist_free_all(a->hdr);
	curl_slist_free_all(a->hdr_body);
	if (a->h)
		curl_easy_cleanup(a->h);
	ly_ctx_destroy(a->ly);
	free(a->base);
}

int agent_main(int argc, char **argv)
{
	struct ag a = { 0 };
	int status = EXIT_USAGE;
	if (parse_opts(argc, argv, &a.o) < 0)
		return EXIT_USAGE;
	if (a.o.log_level) {
		enum log_level lvl;
		if (log_level_parse(a.o.log_level, &lvl) < 0) {
			fprintf(stderr, "netd --agent: --log-level %s: not error, warning, info or debug\n", a.o.log_level);
			return EXIT_USAGE;
		}
		log_set_level(lvl);
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return EXIT_FAIL;
	if (ag_open(&a) < 0) {
		status = EXIT_FAIL;
		goto out;
	}
	for (;;) {
		status = run_and_report(&a);
		if (!a.o.watch || ag_stop)
			break;
		for (uint64_t until = now_ms() + (uint64_t)a.o.watch * 1000u; !ag_stop && now_ms() < until;)
			sleep_ms(100);
		if (ag_stop)
			break;
	}
	if (a.o.watch && ag_stop)
		status = EXIT_OK;
out:
	ag_close(&a);
	curl_global_cleanup();
	return status;
}
