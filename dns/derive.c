/* dns/derive.c — records, record sets, zones, and the derivation of a
 * node's records from the model (decision P1).  See dns.h.
 *
 * Overview.  Everything netd publishes is a pure function of the model:
 * dns_derive_node() walks a node's active allocations, names each address
 * on its network (template, else model_node_fqdn()), and emits the address
 * record, its PTR and the ownership TXT at both owners; aliases become
 * CNAMEs to the primary name with their ownership TXT one label below
 * ("_netd.<alias>", dns.h explains why).  Names are built as text, then
 * checked through the wire layer's parser (dns_name_parse() with
 * DNS_NAME_HOST: RFC 1123 labels of 1..63 octets, at most 255 octets in
 * wire form), so the API refuses exactly what the UPDATE encoder would.
 *
 * Record sets are plain arrays: callers append, dns_recset_sort() makes
 * them canonical (dns_rec_cmp() order, no duplicates), and the helpers
 * that take sorted sets (find, diff, check) rely on that order.  Records
 * are kept as lowercase absolute text, so strcmp() is the comparison.
 *
 * Zones are matched in wire form (dns_name_in_zone()), so "lab.example"
 * never matches "xlab.example." and escapes cannot fake a label boundary.
 */
#include "dns/dns.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/wire.h"

/* ---- records and sets ------------------------------------------------- */

const char *dns_rec_type_name(uint16_t type)
{
	switch (type) {
	case DNS_REC_A: return "A";
	case DNS_REC_AAAA: return "AAAA";
	case DNS_REC_PTR: return "PTR";
	case DNS_REC_CNAME: return "CNAME";
	case DNS_REC_TXT: return "TXT";
	default: return "?";
	}
}

int dns_rec_cmp(const struct dns_rec *a, const struct dns_rec *b)
{
	int c = strcmp(a->owner, b->owner);
	if (c)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return strcmp(a->data, b->data);
}

/* Total order including the TTL, so sorting is deterministic. */
static int rec_cmp_ttl(const void *pa, const void *pb)
{
	const struct dns_rec *a = pa, *b = pb;
	int c = dns_rec_cmp(a, b);
	if (c)
		return c;
	return a->ttl < b->ttl ? -1 : a->ttl > b->ttl;
}

void dns_recset_clear(struct dns_recset *s)
{
	if (!s)
		return;
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* Room for @more further records.  0 or -ENOMEM (@s unchanged). */
static int recset_reserve(struct dns_recset *s, size_t more)
{
	if (more <= s->cap - s->n)
		return 0;
	if (more > SIZE_MAX / sizeof *s->v - s->n)
		return -ENOMEM;
	size_t want = s->n + more;
	size_t cap = s->cap ? s->cap : 16;
	while (cap < want)
		cap = cap > SIZE_MAX / sizeof *s->v / 2 ? want : cap * 2;
	struct dns_rec *v = realloc(s->v, cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	s->v = v;
	s->cap = cap;
	return 0;
}

int dns_recset_add(struct dns_recset *s, const struct dns_rec *r)
{
	int rc = recset_reserve(s, 1);
	if (rc)
		return rc;
	s->v[s->n++] = *r;
	return 0;
}

int dns_recset_add_all(struct dns_recset *dst, const struct dns_recset *src)
{
	if (src->n == 0)
		return 0;
	int rc = recset_reserve(dst, src->n);
	if (rc)
		return rc;
	memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
	dst->n += src->n;
	return 0;
}

void dns_recset_sort(struct dns_recset *s)
{
	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof *s->v, rec_cmp_ttl);
	size_t k = 1;
	for (size_t i = 1; i < s->n; i++)
		if (dns_rec_cmp(&s->v[i], &s->v[k - 1]) != 0)
			s->v[k++] = s->v[i];
	s->n = k;
}

const struct dns_rec *dns_recset_find(const struct dns_recset *s, const struct dns_rec *r)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = dns_rec_cmp(&s->v[mid], r);
		if (c == 0)
			return &s->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int dns_recset_diff(const struct dns_recset *old, const struct dns_recset *new_,
		    struct dns_recset *add, struct dns_recset *del)
{
	struct dns_recset a = {0}, d = {0};
	int rc = 0;
	size_t i = 0, j = 0;
	while (i < old->n || j < new_->n) {
		int c = i == old->n ? 1 : j == new_->n ? -1 : dns_rec_cmp(&old->v[i], &new_->v[j]);
		if (c < 0) {
			rc = dns_recset_add(&d, &old->v[i++]);
		} else if (c > 0) {
			rc = dns_recset_add(&a, &new_->v[j++]);
		} else {
			if (old->v[i].ttl != new_->v[j].ttl)
				rc = dns_recset_add(&a, &new_->v[j]);
			i++, j++;
		}
		if (rc)
			goto cleanup;
	}
	rc = dns_recset_add_all(add, &a);
	if (rc)
		goto cleanup;
	rc = dns_recset_add_all(del, &d);
	if (rc)
		add->n -= a.n;  /* undo: outputs unchanged on failure */
cleanup:
	dns_recset_clear(&a);
	dns_recset_clear(&d);
	return rc;
}

int dns_recset_check(const struct dns_recset *s, struct netd_err *e)
{
	size_t i = 0;
	while (i < s->n) {
		size_t j = i, ncname = 0;
		while (j < s->n && strcmp(s->v[j].owner, s->v[i].owner) == 0) {
			if (s->v[j].type == DNS_REC_CNAME)
				ncname++;
			j++;
		}
		if (ncname > 1)
			return netd_err_set(e, NETD_EINVAL, NULL, "name %s: %zu CNAME records (at most one "
					    "allowed): two nodes claim it as an alias?", s->v[i].owner, ncname);
		if (ncname == 1 && j - i > 1)
			return netd_err_set(e, NETD_EINVAL, NULL, "name %s: a CNAME and other records "
					    "(RFC 1034 3.6.2): an alias equal to a node's name?", s->v[i].owner);
		i = j;
	}
	return 0;
}

/* ---- zones ------------------------------------------------------------ */

const struct dns_zone *dns_zone_for(const struct dns_zone *zones, size_t n, const char *owner)
{
	struct dns_name o, z;
	if (dns_name_parse(owner, 0, &o, NULL) != 0)
		return NULL;
	const struct dns_zone *best = NULL;
	unsigned best_len = 0;
	for (size_t i = 0; i < n; i++) {
		if (dns_name_parse(zones[i].name, 0, &z, NULL) != 0)
			continue;
		if (dns_name_in_zone(&o, &z) && (!best || z.len > best_len)) {
			best = &zones[i];
			best_len = z.len;
		}
	}
	return best;
}

/* ---- derivation ------------------------------------------------------- */

int dns_reverse_name(const struct addr *a, char *buf, size_t len)
{
	struct dns_name n;
	int rc = dns_name_reverse(a, &n);
	if (rc)
		return rc;
	return dns_name_print(&n, buf, len) < 0 ? NETD_EINVAL : 0;
}

/* @in as an absolute lowercase name into @out (DNS_REC_NAME_MAX).  0, or
 * NETD_ETOOBIG when it cannot be a name (more than 253 characters). */
static int make_abs(const char *in, char *out)
{
	size_t n = strlen(in);
	bool dot = n > 0 && in[n - 1] == '.';
	if (n + (dot ? 0 : 1) > DNS_REC_NAME_MAX - 2)
		return NETD_ETOOBIG;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	if (!dot)
		out[n++] = '.';
	out[n] = '\0';
	return 0;
}

/* Is absolute @name a valid host name (@host) or any DNS name?  On failure
 * the reason is in @why (dns_name_parse()'s message). */
static bool name_ok(const char *name, bool host, struct netd_err *why)
{
	struct dns_name w;
	netd_err_clear(why);
	return dns_name_parse(name, host ? DNS_NAME_HOST : 0, &w, why) == 0;
}

/* Everything one derivation needs, so helpers stay small. */
struct derive_ctx {
	const struct model_node *node;
	const struct dns_derive_opts *opts;
	char path[NETD_ERR_PATH_MAX];  /* the node's data path, for errors */
	char txt[DNS_REC_DATA_MAX];    /* the ownership TXT's data */
	struct dns_recset acc;
	struct netd_err *e;
};

static int ctx_add(struct derive_ctx *c, const char *owner, uint16_t type, const char *data)
{
	struct dns_rec r = {.type = type, .ttl = c->opts->ttl};
	snprintf(r.owner, sizeof r.owner, "%s", owner);
	snprintf(r.data, sizeof r.data, "%s", data);
	return dns_recset_add(&c->acc, &r);
}

static bool installation_id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > DNS_INSTALLATION_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("._:-", id[i]))
			return false;
	return true;
}

static const char *tmpl_for(const struct dns_derive_opts *o, const char *network)
{
	for (size_t i = 0; i < o->n_tmpls; i++)
		if (o->tmpls[i].network && strcmp(o->tmpls[i].network, network) == 0)
			return o->tmpls[i].tmpl;
	return NULL;
}

/* Expand template @t into @out (DNS_REC_NAME_MAX).  0; NETD_EINVAL with
 * the reason in @why for an unknown placeholder or a lone brace;
 * NETD_ETOOBIG when the result is longer than a name. */
static int tmpl_expand(const char *t, const char *node, const char *net, const char *domain,
		       char *out, const char **why)
{
	size_t o = 0;
	while (*t) {
		const char *piece = NULL;
		size_t plen = 1, used = 1;
		if (*t == '{') {
			static const char *const keys[] = {"{node}", "{network}", "{domain}"};
			const char *vals[] = {node, net, domain};
			for (size_t k = 0; k < 3 && !piece; k++)
				if (strncmp(t, keys[k], strlen(keys[k])) == 0) {
					piece = vals[k];
					plen = strlen(piece);
					used = strlen(keys[k]);
				}
			if (!piece) {
				*why = "unknown placeholder (use {node}, {network}, {domain})";
				return NETD_EINVAL;
			}
		} else if (*t == '}') {
			*why = "'}' without '{'";
			return NETD_EINVAL;
		} else {
			piece = t;
		}
		if (o + plen >= DNS_REC_NAME_MAX - 1)
			return NETD_ETOOBIG;
		memcpy(out + o, piece, plen);
		o += plen;
		t += used;
	}
	out[o] = '\0';
	return 0;
}

/* The node's address name on @net (absolute, lowercase, checked) into
 * @out.  0 or NETD_EINVAL (error set). */
static int address_name(struct derive_ctx *c, const struct model_network *net, char *out)
{
	char raw[DNS_REC_NAME_MAX], domain[MODEL_DOMAIN_MAX];
	snprintf(domain, sizeof domain, "%s", net->dns_domain);
	size_t dl = strlen(domain);
	if (dl > 0 && domain[dl - 1] == '.')
		domain[dl - 1] = '\0';
	const char *t = tmpl_for(c->opts, net->name);
	if (t) {
		const char *why = "longer than 253 characters";
		int rc = tmpl_expand(t, c->node->name, net->name, domain, raw, &why);
		if (rc)
			return netd_err_set(c->e, NETD_EINVAL, c->path, "network %s: name template \"%.100s\": %s",
					    net->name, t, why);
	} else {
		struct model_network bare = {.primary = net->primary};
		snprintf(bare.name, sizeof bare.name, "%s", net->name);
		snprintf(bare.dns_domain, sizeof bare.dns_domain, "%s", domain);
		model_node_fqdn(c->node, &bare, raw, sizeof raw);
	}
	struct netd_err why = {0};
	if (make_abs(raw, out) != 0)
		return netd_err_set(c->e, NETD_EINVAL, c->path, "network %s: name \"%.80s...\" is longer "
				    "than 253 characters", net->name, raw);
	if (!name_ok(out, true, &why))
		return netd_err_set(c->e, NETD_EINVAL, c->path, "network %s: %s", net->name, why.msg);
	return 0;
}

/* A, PTR and their ownership TXTs for one allocation named @name. */
static int derive_address(struct derive_ctx *c, const struct model_alloc *a, const char *name)
{
	char addr[ADDR_STRLEN], rev[DNS_REC_NAME_MAX];
	addr_print(&a->addr, addr, sizeof addr);
	if (dns_reverse_name(&a->addr, rev, sizeof rev) != 0)
		return netd_err_set(c->e, NETD_EINVAL, c->path, "network %s: allocation has no address family",
				    a->network);
	uint16_t type = a->addr.family == ADDR_V4 ? DNS_REC_A : DNS_REC_AAAA;
	int rc = ctx_add(c, name, type, addr);
	if (!rc)
		rc = ctx_add(c, name, DNS_REC_TXT, c->txt);
	if (!rc)
		rc = ctx_add(c, rev, DNS_REC_PTR, name);
	if (!rc)
		rc = ctx_add(c, rev, DNS_REC_TXT, c->txt);
	return rc;
}

static const struct model_network *find_net(const struct model_network *nets, size_t n, const char *name,
					    size_t *idx)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(nets[i].name, name) == 0) {
			*idx = i;
			return &nets[i];
		}
	return NULL;
}

static bool is_address_name(const struct dns_recset *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if ((s->v[i].type == DNS_REC_A || s->v[i].type == DNS_REC_AAAA) &&
		    strcmp(s->v[i].owner, name) == 0)
			return true;
	return false;
}

/* CNAME @alias -> @primary, ownership at "_netd.<alias>". */
static int derive_alias(struct derive_ctx *c, const char *alias, const char *primary, const char *domain)
{
	char raw[2 * DNS_REC_NAME_MAX], name[DNS_REC_NAME_MAX], sib[DNS_REC_NAME_MAX + 8];
	size_t al = strlen(alias);
	if (al > 0 && alias[al - 1] == '.')
		snprintf(raw, sizeof raw, "%s", alias);
	else
		snprintf(raw, sizeof raw, "%s.%s", alias, domain);
	struct netd_err why = {0};
	if (make_abs(raw, name) != 0)
		return netd_err_set(c->e, NETD_EINVAL, c->path, "alias %.80s: name \"%.80s...\" is longer "
				    "than 253 characters", alias, raw);
	if (!name_ok(name, true, &why))
		return netd_err_set(c->e, NETD_EINVAL, c->path, "alias %.80s: %s", alias, why.msg);
	snprintf(sib, sizeof sib, DNS_OWNER_LABEL ".%s", name);
	if (strlen(sib) >= DNS_REC_NAME_MAX || !name_ok(sib, false, &why))
		return netd_err_set(c->e, NETD_EINVAL, c->path, "alias %.80s: name %.260s leaves no room "
				    "for its ownership record (\"" DNS_OWNER_LABEL ".\" + name is over 255 "
				    "octets)", alias, name);
	if (is_address_name(&c->acc, name))
		return netd_err_set(c->e, NETD_EINVAL, c->path, "alias %.80s: %s is already an address "
				    "name of the node (a CNAME cannot share a name with other data)",
				    alias, name);
	int rc = ctx_add(c, name, DNS_REC_CNAME, primary);
	if (!rc)
		rc = ctx_add(c, sib, DNS_REC_TXT, c->txt);
	return rc;
}

static bool alloc_is_ours(const struct model_alloc *a, const struct model_node *node)
{
	return a->owner_kind == OWNER_NODE && a->state == ALLOC_ACTIVE && strcmp(a->owner, node->name) == 0;
}

/* Address records of every active allocation; the primary name (first
 * primary network in @nets order) into @primary/@pdomain ("" if none). */
static int derive_addresses(struct derive_ctx *c, const struct model_network *nets, size_t n_nets,
			    const struct model_alloc *allocs, size_t n_allocs, char *primary, char *pdomain)
{
	size_t pidx = SIZE_MAX;
	for (size_t i = 0; i < n_allocs; i++) {
		const struct model_alloc *a = &allocs[i];
		if (!alloc_is_ours(a, c->node))
			continue;
		size_t idx;
		const struct model_network *net = find_net(nets, n_nets, a->network, &idx);
		if (!net)
			return netd_err_set(c->e, NETD_ENOTFOUND, c->path, "network %s: the node has an "
					    "allocation there but the network was not given", a->network);
		if (!net->dns_domain[0])
			continue;
		char name[DNS_REC_NAME_MAX];
		int rc = address_name(c, net, name);
		if (!rc)
			rc = derive_address(c, a, name);
		if (rc)
			return rc;
		if (net->primary && idx < pidx) {
			pidx = idx;
			snprintf(primary, DNS_REC_NAME_MAX, "%s", name);
			snprintf(pdomain, MODEL_DOMAIN_MAX, "%s", net->dns_domain);
		}
	}
	return 0;
}

int dns_derive_node(const struct model_network *nets, size_t n_nets, const struct model_node *node,
		    const struct model_alloc *allocs, size_t n_allocs, const struct dns_derive_opts *opts,
		    struct dns_recset *out, struct netd_err *e)
{
	struct derive_ctx c = {.node = node, .opts = opts, .e = e};
	char key[MODEL_NAME_MAX + 8];
	snprintf(c.path, sizeof c.path, "/netd:nodes/node[name=%s]", netd_path_key(node->name, key, sizeof key));
	int rc;
	if (!installation_id_ok(opts->installation_id)) {
		rc = netd_err_set(e, NETD_EINVAL, NULL, "installation id \"%.80s\": must be 1..%d of "
				  "letters, digits, '.', '_', ':', '-'",
				  opts->installation_id ? opts->installation_id : "", DNS_INSTALLATION_ID_MAX);
		goto cleanup;
	}
	snprintf(c.txt, sizeof c.txt, DNS_OWNER_TXT_PREFIX "%s", opts->installation_id);

	char primary[DNS_REC_NAME_MAX] = "", pdomain[MODEL_DOMAIN_MAX] = "";
	rc = derive_addresses(&c, nets, n_nets, allocs, n_allocs, primary, pdomain);
	if (rc)
		goto cleanup;
	for (size_t i = 0; primary[0] && i < node->n_aliases; i++) {
		rc = derive_alias(&c, node->aliases[i], primary, pdomain);
		if (rc)
			goto cleanup;
	}
	dns_recset_sort(&c.acc);
	rc = dns_recset_add_all(out, &c.acc);
cleanup:
	dns_recset_clear(&c.acc);
	return rc;
}
