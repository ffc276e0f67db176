/* devices/links.c — link learning: which switch port each node NIC is
 * cabled to, from LLDP remote entries and the bridge FDB, matched against
 * the nodes' NIC MACs.  Pure data; the rules are in devices/snmp.h
 * (dev_learn). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devices/snmp.h"

struct macix {
	uint8_t mac[6];
	size_t nic;
	bool ambiguous;          /* listed for two NICs */
};

struct cand {
	unsigned port;
	size_t nic;
	bool dropped;
	char evidence[160];
};

struct learn {
	const struct dev_nicmac *nics;
	size_t n_nics;
	struct macix *ix;        /* sorted by MAC, one entry per MAC */
	size_t n_ix;
	struct dev_learned *links;
	size_t n_links;
	struct dev_learn_note *notes;
	size_t n_notes, cap_notes;
	uint8_t port_linked[DEV_PORTS_MAX + 1];
	uint8_t *nic_linked;
};

static int cmp_mac(const void *a, const void *b)
{
	return memcmp(((const struct macix *)a)->mac, ((const struct macix *)b)->mac, 6);
}

static void mac_text(const uint8_t m[6], char *out, size_t cap)
{
	snprintf(out, cap, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* printf into a buffer that may cut the text (on purpose). */
static void textf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void textf(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
}

static bool mac_zero(const uint8_t m[6])
{
	static const uint8_t z[6];
	return !memcmp(m, z, 6);
}

static int note(struct learn *L, unsigned port, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int note(struct learn *L, unsigned port, const char *fmt, ...)
{
	if (L->n_notes == L->cap_notes) {
		size_t nc = L->cap_notes ? 2 * L->cap_notes : 16;
		struct dev_learn_note *nn = realloc(L->notes, nc * sizeof *nn);
		if (!nn)
			return -ENOMEM;
		L->notes = nn;
		L->cap_notes = nc;
	}
	struct dev_learn_note *n = &L->notes[L->n_notes++];
	va_list ap;
	n->port = port;
	va_start(ap, fmt);
	vsnprintf(n->text, sizeof n->text, fmt, ap);
	va_end(ap);
	return 0;
}

static int build_index(struct learn *L)
{
	size_t n = 0;
	L->ix = calloc(L->n_nics ? L->n_nics : 1, sizeof *L->ix);
	if (!L->ix)
		return -ENOMEM;
	for (size_t i = 0; i < L->n_nics; i++) {
		if (mac_zero(L->nics[i].mac))
			continue;
		memcpy(L->ix[n].mac, L->nics[i].mac, 6);
		L->ix[n++].nic = i;
	}
	qsort(L->ix, n, sizeof *L->ix, cmp_mac);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && !memcmp(L->ix[w - 1].mac, L->ix[i].mac, 6)) {
			L->ix[w - 1].ambiguous = true;
			continue;
		}
		L->ix[w++] = L->ix[i];
	}
	L->n_ix = w;
	return 0;
}

static const struct macix *lookup(const struct learn *L, const uint8_t mac[6])
{
	struct macix key;
	memcpy(key.mac, mac, 6);
	return bsearch(&key, L->ix, L->n_ix, sizeof *L->ix, cmp_mac);
}

/* The node (a NIC index standing for it) whose name @sysname is, or SIZE_MAX. */
static size_t node_by_sysname(const struct learn *L, const char *sysname)
{
	if (!sysname[0])
		return SIZE_MAX;
	for (size_t i = 0; i < L->n_nics; i++) {
		size_t n = strlen(L->nics[i].node);
		if (n && !strncasecmp(sysname, L->nics[i].node, n) && (sysname[n] == '\0' || sysname[n] == '.'))
			return i;
	}
	return SIZE_MAX;
}

/* The NIC named @name of the node of NIC @any, or SIZE_MAX. */
static size_t nic_of_node(const struct learn *L, size_t any, const char *name)
{
	for (size_t i = 0; i < L->n_nics; i++)
		if (!strcmp(L->nics[i].node, L->nics[any].node) && !strcmp(L->nics[i].nic, name))
			return i;
	return SIZE_MAX;
}

/* The NIC an LLDP entry names, SIZE_MAX if none; why in @ev or a note. */
static int lldp_nic(struct learn *L, const struct dev_lldp_rem *r, size_t *ret, char *ev, size_t cap)
{
	const struct macix *m;
	size_t node = SIZE_MAX;

	*ret = SIZE_MAX;
	if (r->port_id.kind == DEV_LLDP_MAC) {
		if ((m = lookup(L, r->port_id.mac)) != NULL) {
			if (m->ambiguous)
				return note(L, r->port, "port %u: LLDP port id %s is the MAC of several NICs, not used",
					    r->port, r->port_id.text);
			snprintf(ev, cap, "LLDP port id MAC %s", r->port_id.text);
			*ret = m->nic;
			return 0;
		}
	}
	if (r->chassis.kind == DEV_LLDP_MAC && (m = lookup(L, r->chassis.mac)) != NULL && !m->ambiguous)
		node = m->nic;
	if (node == SIZE_MAX)
		node = node_by_sysname(L, r->sysname);
	if (node != SIZE_MAX && r->port_id.kind == DEV_LLDP_NAME &&
	    (*ret = nic_of_node(L, node, r->port_id.text)) != SIZE_MAX) {
		textf(ev, cap, "LLDP chassis %s%s%s%s%s, port id %s",
			 r->chassis.kind == DEV_LLDP_MAC ? "MAC " : "", r->chassis.text,
			 r->sysname[0] ? " (sysName " : "", r->sysname, r->sysname[0] ? ")" : "", r->port_id.text);
		return 0;
	}
	if (node != SIZE_MAX)
		return note(L, r->port, "port %u: LLDP neighbour is node %s but port id \"%.60s\" names none of its NICs",
			    r->port, L->nics[node].node, r->port_id.text);
	return note(L, r->port, "port %u: LLDP neighbour (chassis %.60s, port id %.60s%s%.40s) is no known node NIC",
		    r->port, r->chassis.text, r->port_id.text, r->sysname[0] ? ", sysName " : "", r->sysname);
}

static int add_link(struct learn *L, unsigned port, size_t nic, enum dev_link_source src, const char *ev)
{
	/* a (node, NIC) listed twice with two MACs: the first link stands */
	for (size_t i = 0; i < L->n_links; i++)
		if (!strcmp(L->links[i].link.node, L->nics[nic].node) && !strcmp(L->links[i].link.nic, L->nics[nic].nic))
			return note(L, port, "port %u: %s/%s is listed twice with different MACs and already linked to "
				    "port %u; not linked again", port, L->nics[nic].node, L->nics[nic].nic,
				    L->links[i].link.port);
	struct dev_learned *k = &L->links[L->n_links++];
	memset(k, 0, sizeof *k);
	k->link.port = port;
	snprintf(k->link.node, sizeof k->link.node, "%s", L->nics[nic].node);
	snprintf(k->link.nic, sizeof k->link.nic, "%s", L->nics[nic].nic);
	memcpy(k->link.mac, L->nics[nic].mac, 6);
	k->source = src;
	snprintf(k->evidence, sizeof k->evidence, "%s", ev);
	L->port_linked[port] = 1;
	L->nic_linked[nic] = 1;
	return 0;
}

static int cmp_cand_port(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->nic > y->nic) - (x->nic < y->nic);
}

static int cmp_cand_nic(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->nic != y->nic)
		return x->nic < y->nic ? -1 : 1;
	return (x->port > y->port) - (x->port < y->port);
}

/* Drop duplicates, then every candidate of a port that names two NICs and
 * of a NIC seen on two ports, noting each conflict once.  Returns the count
 * kept (compacted to the front) or -ENOMEM. */
static long drop_conflicts(struct learn *L, struct cand *c, size_t n, const char *src)
{
	size_t w = 0;
	int rc = 0;

	qsort(c, n, sizeof *c, cmp_cand_port);
	for (size_t i = 0; i < n; i++)
		if (!w || c[w - 1].port != c[i].port || c[w - 1].nic != c[i].nic)
			c[w++] = c[i];
	n = w;
	for (size_t i = 0; i < n && !rc;) {
		size_t j = i + 1;
		while (j < n && c[j].port == c[i].port)
			j++;
		if (j - i > 1) {
			rc = note(L, c[i].port, "port %u: %s names both %s/%s and %s/%s, neither used", c[i].port, src,
				  L->nics[c[i].nic].node, L->nics[c[i].nic].nic, L->nics[c[i + 1].nic].node,
				  L->nics[c[i + 1].nic].nic);
			for (size_t k = i; k < j; k++)
				c[k].dropped = true;
		}
		i = j;
	}
	qsort(c, n, sizeof *c, cmp_cand_nic);
	for (size_t i = 0; i < n && !rc;) {
		size_t j = i + 1;
		while (j < n && c[j].nic == c[i].nic)
			j++;
		if (j - i > 1) {
			rc = note(L, c[i].port, "%s/%s: %s sees it on ports %u and %u, neither used",
				  L->nics[c[i].nic].node, L->nics[c[i].nic].nic, src, c[i].port, c[i + 1].port);
			for (size_t k = i; k < j; k++)
				c[k].dropped = true;
		}
		i = j;
	}
	if (rc)
		return rc;
	w = 0;
	for (size_t i = 0; i < n; i++)
		if (!c[i].dropped)
			c[w++] = c[i];
	return (long)w;
}

static int learn_lldp(struct learn *L, const struct dev_lldp_rem *lldp, size_t n)
{
	struct cand *c = calloc(n ? n : 1, sizeof *c);
	size_t nc = 0;
	int rc = 0;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		size_t nic;
		if (lldp[i].port < 1 || lldp[i].port > DEV_PORTS_MAX)
			continue;
		rc = lldp_nic(L, &lldp[i], &nic, c[nc].evidence, sizeof c[nc].evidence);
		if (!rc && nic != SIZE_MAX) {
			c[nc].port = lldp[i].port;
			c[nc++].nic = nic;
		}
	}
	if (!rc) {
		long kept = drop_conflicts(L, c, nc, "LLDP");
		if (kept < 0)
			rc = (int)kept;
		for (long i = 0; i < kept && !rc; i++)
			rc = add_link(L, c[i].port, c[i].nic, DEV_LINK_LLDP, c[i].evidence);
	}
	free(c);
	return rc;
}

/* ---- FDB ---- */

static bool fdb_usable(const struct dev_fdb_entry *f)
{
	/* other(1), learned(3), mgmt(5), or not read; never invalid(2) or self(4) */
	return f->port >= 1 && f->port <= DEV_PORTS_MAX && f->status != 2 && f->status != 4;
}

struct pm {
	unsigned port;
	uint8_t mac[6];
	uint32_t fid;
};

static int cmp_pm_port(const void *a, const void *b)
{
	const struct pm *x = a, *y = b;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return memcmp(x->mac, y->mac, 6);
}

static int cmp_pm_mac(const void *a, const void *b)
{
	const struct pm *x = a, *y = b;
	int c = memcmp(x->mac, y->mac, 6);
	if (c)
		return c;
	return (x->port > y->port) - (x->port < y->port);
}

/* Per port: distinct MACs, and distinct MACs of known nodes. */
static void count_ports(const struct learn *L, struct pm *v, size_t n, unsigned *total, unsigned *known)
{
	qsort(v, n, sizeof *v, cmp_pm_port);
	for (size_t i = 0; i < n; i++) {
		if (i && v[i].port == v[i - 1].port && !memcmp(v[i].mac, v[i - 1].mac, 6))
			continue;
		total[v[i].port]++;
		const struct macix *m = lookup(L, v[i].mac);
		if (m && !m->ambiguous)
			known[v[i].port]++;
	}
}

/* Decide for the known MAC whose (port-sorted, deduplicated) entries are
 * v[0..n): link it, or note why not. */
static int fdb_mac(struct learn *L, const struct macix *m, const struct pm *v, size_t n, const unsigned *total,
		   const unsigned *known)
{
	unsigned cand[8], nc = 0, one = 0;
	char seen[96] = "", mt[24];
	size_t w = 0;

	if (L->nic_linked[m->nic])
		return 0;   /* LLDP won */
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(seen + w, sizeof seen - w, "%s%u", w ? "," : "", v[i].port);
		if (k > 0 && (size_t)k < sizeof seen - w)
			w += (size_t)k;
		if (known[v[i].port] != 1 || L->port_linked[v[i].port])
			continue;
		if (nc < 8)
			cand[nc] = v[i].port;
		nc++;
	}
	if (nc > 1) {
		unsigned keep = 0;
		for (unsigned i = 0; i < nc && i < 8; i++)
			if (total[cand[i]] == 1)
				one = cand[i], keep++;
		if (keep == 1) {
			cand[0] = one;
			nc = 1;
		}
	}
	mac_text(m->mac, mt, sizeof mt);
	if (nc == 1) {
		char ev[160];
		uint32_t fid = v[0].fid;
		for (size_t i = 0; i < n; i++)
			if (v[i].port == cand[0])
				fid = v[i].fid;
		snprintf(ev, sizeof ev, "FDB fid %u MAC %s on port %u%s%s", (unsigned)fid, mt, cand[0],
			 n > 1 ? " (seen on ports " : "", n > 1 ? seen : "");
		if (n > 1)
			strncat(ev, ")", sizeof ev - strlen(ev) - 1);
		return add_link(L, cand[0], m->nic, DEV_LINK_FDB, ev);
	}
	return note(L, n == 1 ? v[0].port : 0, "%s/%s: FDB sees MAC %s on port%s %s, %s; not used",
		    L->nics[m->nic].node, L->nics[m->nic].nic, mt, n > 1 ? "s" : "", seen,
		    nc ? "with no single access port among them" : "each holding several known MACs or linked by LLDP");
}

static int learn_fdb(struct learn *L, const struct dev_fdb_entry *fdb, size_t n)
{
	struct pm *v = calloc(n ? n : 1, sizeof *v);
	unsigned *total = calloc(DEV_PORTS_MAX + 1, sizeof *total), *known = calloc(DEV_PORTS_MAX + 1, sizeof *known);
	size_t nv = 0;
	int rc = -ENOMEM;

	if (!v || !total || !known)
		goto done;
	for (size_t i = 0; i < n; i++) {
		if (!fdb_usable(&fdb[i]))
			continue;
		v[nv].port = fdb[i].port;
		v[nv].fid = fdb[i].fid;
		memcpy(v[nv++].mac, fdb[i].mac, 6);
	}
	count_ports(L, v, nv, total, known);
	qsort(v, nv, sizeof *v, cmp_pm_mac);
	/* deduplicate (MAC, port) pairs seen in several FDB ids */
	size_t w = 0;
	for (size_t i = 0; i < nv; i++)
		if (!w || memcmp(v[w - 1].mac, v[i].mac, 6) || v[w - 1].port != v[i].port)
			v[w++] = v[i];
	nv = w;
	rc = 0;
	for (size_t i = 0; i < nv && !rc;) {
		size_t j = i;
		while (j < nv && !memcmp(v[j].mac, v[i].mac, 6))
			j++;
		const struct macix *m = lookup(L, v[i].mac);
		if (m && !m->ambiguous)
			rc = fdb_mac(L, m, v + i, j - i, total, known);
		i = j;
	}
done:
	free(v);
	free(total);
	free(known);
	return rc;
}

static int cmp_learned(const void *a, const void *b)
{
	const struct dev_learned *x = a, *y = b;
	return (x->link.port > y->link.port) - (x->link.port < y->link.port);
}

void dev_learn_result_free(struct dev_learn_result *r)
{
	if (!r)
		return;
	free(r->links);
	free(r->notes);
	memset(r, 0, sizeof *r);
}

const char *dev_link_source_name(enum dev_link_source s)
{
	return s == DEV_LINK_LLDP ? "lldp" : s == DEV_LINK_FDB ? "fdb" : "?";
}

int dev_learn(const struct dev_nicmac *nics, size_t n_nics, const struct dev_lldp_rem *lldp, size_t n_lldp,
	      const struct dev_fdb_entry *fdb, size_t n_fdb, struct dev_learn_result *out)
{
	struct learn *L = calloc(1, sizeof *L);
	int rc = -ENOMEM;

	if (!L)
		return -ENOMEM;
	L->nics = nics;
	L->n_nics = n_nics;
	L->nic_linked = calloc(n_nics ? n_nics : 1, 1);
	/* at most one link per NIC */
	L->links = calloc(n_nics ? n_nics : 1, sizeof *L->links);
	if (!L->nic_linked || !L->links || (rc = build_index(L)) != 0)
		goto fail;
	if ((rc = learn_lldp(L, lldp, n_lldp)) != 0 || (rc = learn_fdb(L, fdb, n_fdb)) != 0)
		goto fail;
	qsort(L->links, L->n_links, sizeof *L->links, cmp_learned);
	out->links = L->links;
	out->n_links = L->n_links;
	out->notes = L->notes;
	out->n_notes = L->n_notes;
	free(L->ix);
	free(L->nic_linked);
	free(L);
	return 0;
fail:
	free(L->links);
	free(L->notes);
	free(L->ix);
	free(L->nic_linked);
	free(L);
	return rc;
}
