/* conduits/conduits.c — resolving interface references to NICs.
 *
 * Overview of the module (conduits/conduits.h is the manual):
 *   ref.c       reference grammar: speeds, parse, print
 *   order.c     bus order (natural PCI order, DMI-chosen prefix override)
 *   conduits.c  resolution: references -> NICs, with an explanation each
 *   rule.c      conduit rules: build, pick for a node, validation
 * The module takes plain records (struct cdt_nic from an inventory) and
 * returns plain records; netd/ feeds it from netlink and the store.
 *
 * Resolution.  The NICs are put in bus order once.  A NIC's class is its
 * fastest supported speed; "1g #2" is the second NIC of class 1g in bus
 * order.  A speed reference walks a sequence of classes decided by its sign
 * (exact: its class; +: its class then faster ones ascending; -: its class
 * then slower ones descending; ?: its class, faster ascending, slower
 * descending, then unknown speed) and takes, in the first class where it is
 * free, the NIC at its index.  A NIC taken by an earlier reference of the
 * same conduit is skipped by signed references and is an error for exact
 * references and selectors, which name exactly one NIC.  Classes are those
 * present in the inventory, so a NIC of an unlisted speed (20g, 56g) is
 * still reachable by +, - and ?.
 *
 * Each pick carries a one-line explanation ("+1g1: no 1g NIC, took the first
 * faster one: eth2 (10g #1)") and an unresolvable reference is an error
 * listing the NICs seen, so `netctl conduit resolve` can show why.
 */
#include "conduits/cdt_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#define NONE ((size_t)-1)
#define SEEN_MAX 320   /* the "NICs seen" part of an error message */

const char *cdt_conduit_path(const char *name, char *buf, size_t len)
{
	char key[CDT_NAME_MAX + 8];

	snprintf(buf, len, CDT_PATH_ROOT "/conduit[name=%s]", netd_path_key(name, key, sizeof key));
	return buf;
}

struct rctx {
	const struct cdt_nic *nics;
	size_t n;
	const struct cdt_ref *refs;
	size_t *order;      /* bus order */
	size_t *taken;      /* per NIC: the ref index that took it, or NONE */
	uint32_t *classes;  /* distinct known classes present, ascending */
	size_t n_classes;
};

/* A located candidate: the class tried, the NIC there (or NONE), how many
 * NICs that class has. */
struct cand {
	uint32_t cls;
	size_t nic;
	size_t count;
};

static struct cand class_nth(const struct rctx *x, uint32_t cls, uint32_t k)
{
	struct cand c = { cls, NONE, 0 };

	for (size_t i = 0; i < x->n; i++) {
		size_t j = x->order[i];
		if (x->nics[j].speed_class != cls)
			continue;
		if (++c.count == k)
			c.nic = j;
	}
	return c;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : (x > y);
}

static void collect_classes(struct rctx *x)
{
	x->n_classes = 0;
	for (size_t i = 0; i < x->n; i++) {
		uint32_t c = x->nics[i].speed_class;
		bool dup = false;
		if (c == 0)
			continue;
		for (size_t k = 0; k < x->n_classes && !dup; k++)
			dup = x->classes[k] == c;
		if (!dup)
			x->classes[x->n_classes++] = c;
	}
	qsort(x->classes, x->n_classes, sizeof *x->classes, cmp_u32);
}

static const char *ref_text(const struct cdt_ref *r, char *buf)
{
	return cdt_ref_print(r, buf, CDT_REF_STRLEN);
}

/* "no 1g NIC" / "no 1g NIC #3 (only 2)" / "1g #1 eth0 taken by 1g1" */
static void asked_reason(const struct rctx *x, const struct cand *c, uint32_t k, char *buf, size_t len)
{
	char sp[16], rt[CDT_REF_STRLEN];

	cdt_speed_print(c->cls, sp, sizeof sp);
	if (c->count == 0)
		snprintf(buf, len, "no %s NIC", sp);
	else if (c->nic == NONE)
		snprintf(buf, len, "no %s NIC #%u (only %zu)", sp, (unsigned)k, c->count);
	else
		snprintf(buf, len, "%s #%u %s taken by %s", sp, (unsigned)k, x->nics[c->nic].name,
			 ref_text(&x->refs[x->taken[c->nic]], rt));
}

/* Classes to try for a speed reference, in order, into @seq (room for
 * n_classes + 2).  Returns how many. */
static size_t class_sequence(const struct rctx *x, const struct cdt_ref *r, uint32_t *seq)
{
	size_t n = 0;

	seq[n++] = r->speed;
	if (r->sign == CDT_SIGN_FASTER || r->sign == CDT_SIGN_ANY)
		for (size_t i = 0; i < x->n_classes; i++)
			if (x->classes[i] > r->speed)
				seq[n++] = x->classes[i];
	if (r->sign == CDT_SIGN_SLOWER || r->sign == CDT_SIGN_ANY)
		for (size_t i = x->n_classes; i-- > 0;)
			if (x->classes[i] < r->speed)
				seq[n++] = x->classes[i];
	if (r->sign == CDT_SIGN_ANY)
		seq[n++] = 0;
	return n;
}

static void explain_fallback(const struct rctx *x, const struct cdt_ref *r, const struct cand *asked,
			     const struct cand *got, struct cdt_pick *p)
{
	char rt[CDT_REF_STRLEN], reason[96], sp[16];
	const char *took;

	asked_reason(x, asked, r->index, reason, sizeof reason);
	if (got->cls == 0) {
		p->how = CDT_PICK_UNKNOWN;
		took = "none of known speed free, took one of unknown speed";
	} else if (got->cls > r->speed) {
		p->how = CDT_PICK_FASTER;
		took = "took the first faster one";
	} else {
		p->how = CDT_PICK_SLOWER;
		took = r->sign == CDT_SIGN_ANY ? "none faster free, took the first slower one"
					       : "took the first slower one";
	}
	snprintf(p->why, sizeof p->why, "%s: %s, %s: %s (%s #%u)", ref_text(r, rt), reason, took,
		 x->nics[got->nic].name, cdt_speed_print(got->cls, sp, sizeof sp), (unsigned)r->index);
}

/* "eth0 (1g), eth1 (10g, taken by +1g1)" in bus order. */
static void nics_seen(const struct rctx *x, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	if (x->n == 0)
		snprintf(buf, len, "none");
	for (size_t i = 0; i < x->n && o < len; i++) {
		const struct cdt_nic *nic = &x->nics[x->order[i]];
		size_t t = x->taken[x->order[i]];
		char sp[16], rt[CDT_REF_STRLEN], by[CDT_REF_STRLEN + 16] = "";
		int w;

		if (t != NONE)
			snprintf(by, sizeof by, ", taken by %s", ref_text(&x->refs[t], rt));
		w = snprintf(buf + o, len - o, "%s%s (%s%s)", i ? ", " : "", nic->name,
			     cdt_speed_print(nic->speed_class, sp, sizeof sp), by);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static int unresolved(const struct rctx *x, const char *conduit, const struct cdt_ref *r, const char *reason,
		      struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX], rt[CDT_REF_STRLEN], seen[SEEN_MAX], q[CDT_QUOTE_MAX];

	nics_seen(x, seen, sizeof seen);
	return netd_err_set(e, NETD_ENOTFOUND, cdt_conduit_path(conduit, path, sizeof path),
			    "conduit %s: %s: %s; NICs seen: %s", cdt_quote(conduit, q, sizeof q), ref_text(r, rt),
			    reason, seen);
}

static int resolve_speed(const struct rctx *x, const char *conduit, const struct cdt_ref *r, struct cdt_pick *p,
			 struct netd_err *e)
{
	uint32_t *seq = malloc((x->n_classes + 2) * sizeof *seq);
	size_t ns;
	struct cand asked, got;
	char reason[128], sp[16], rt[CDT_REF_STRLEN];
	int rc = 0;

	if (!seq)
		return -ENOMEM;
	ns = class_sequence(x, r, seq);
	asked = class_nth(x, seq[0], r->index);
	for (size_t i = 0; i < ns; i++) {
		got = i == 0 ? asked : class_nth(x, seq[i], r->index);
		if (got.nic == NONE || x->taken[got.nic] != NONE)
			continue;
		p->nic = got.nic;
		if (i == 0) {
			p->how = CDT_PICK_ASKED;
			snprintf(p->why, sizeof p->why, "%s: %s (%s #%u)", ref_text(r, rt), x->nics[got.nic].name,
				 cdt_speed_print(got.cls, sp, sizeof sp), (unsigned)r->index);
		} else {
			explain_fallback(x, r, &asked, &got, p);
		}
		goto cleanup;
	}
	asked_reason(x, &asked, r->index, reason, sizeof reason);
	if (r->sign == CDT_SIGN_FASTER)
		strncat(reason, ", none faster free", sizeof reason - strlen(reason) - 1);
	else if (r->sign == CDT_SIGN_SLOWER)
		strncat(reason, ", none slower free", sizeof reason - strlen(reason) - 1);
	else if (r->sign == CDT_SIGN_ANY)
		strncat(reason, ", none free at any speed", sizeof reason - strlen(reason) - 1);
	rc = unresolved(x, conduit, r, reason, e);
cleanup:
	free(seq);
	return rc;
}

static bool selector_matches(const struct cdt_ref *r, const struct cdt_nic *nic)
{
	char pci[CDT_PCI_MAX];

	switch (r->kind) {
	case CDT_REF_MAC:
		return !memcmp(nic->has_perm_mac ? nic->perm_mac : nic->mac, r->mac, 6);
	case CDT_REF_PCI:
		snprintf(pci, sizeof pci, "%04x:%02x:%02x.%u", (unsigned)r->pci.domain, r->pci.bus, r->pci.dev,
			 (unsigned)r->pci.fn);
		return !strcasecmp(pci, nic->pci);
	case CDT_REF_NAME:
		return !strncmp(r->name, nic->name, CDT_IFNAME_MAX);
	default:
		return false;
	}
}

static int resolve_selector(const struct rctx *x, const char *conduit, const struct cdt_ref *r,
			    struct cdt_pick *p, struct netd_err *e)
{
	static const char *const none[] = {
		[CDT_REF_MAC] = "no NIC has this MAC",
		[CDT_REF_PCI] = "no NIC at this bus path",
		[CDT_REF_NAME] = "no NIC of this name",
	};
	char rt[CDT_REF_STRLEN], rt2[CDT_REF_STRLEN], sp[16], reason[96];

	for (size_t i = 0; i < x->n; i++) {
		size_t j = x->order[i];
		if (!selector_matches(r, &x->nics[j]))
			continue;
		if (x->taken[j] != NONE) {
			snprintf(reason, sizeof reason, "%s is taken by %s", x->nics[j].name,
				 ref_text(&x->refs[x->taken[j]], rt2));
			return unresolved(x, conduit, r, reason, e);
		}
		p->nic = j;
		p->how = CDT_PICK_ASKED;
		snprintf(p->why, sizeof p->why, "%s: %s (%s)", ref_text(r, rt), x->nics[j].name,
			 cdt_speed_print(x->nics[j].speed_class, sp, sizeof sp));
		return 0;
	}
	return unresolved(x, conduit, r, none[r->kind], e);
}

static int resolve_one(const struct rctx *x, const char *conduit, const struct cdt_ref *r, struct cdt_pick *p,
		       struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX];

	switch (r->kind) {
	case CDT_REF_SPEED:
		return resolve_speed(x, conduit, r, p, e);
	case CDT_REF_MAC:
	case CDT_REF_PCI:
	case CDT_REF_NAME:
		return resolve_selector(x, conduit, r, p, e);
	default:
		return netd_err_set(e, NETD_EINVAL, cdt_conduit_path(conduit, path, sizeof path),
				    "invalid reference kind %u", (unsigned)r->kind);
	}
}

int cdt_resolve(const char *conduit, const struct cdt_nic *nics, size_t n, const struct cdt_ref *refs,
		size_t nrefs, const struct cdt_bus_order *bo, struct cdt_resolution *out, struct netd_err *e)
{
	struct rctx x = { .nics = nics, .n = n, .refs = refs };
	struct cdt_resolution res;
	char path[NETD_ERR_PATH_MAX], q[CDT_QUOTE_MAX];
	int rc = 0;

	if (!conduit)
		conduit = "";
	if (nrefs == 0 || nrefs > CDT_TEAM_MAX)
		return netd_err_set(e, NETD_EINVAL, cdt_conduit_path(conduit, path, sizeof path),
				    "conduit %s: %zu references, expected 1..%d", cdt_quote(conduit, q, sizeof q),
				    nrefs, CDT_TEAM_MAX);
	memset(&res, 0, sizeof res);
	snprintf(res.conduit, sizeof res.conduit, "%s", conduit);
	x.order = malloc((n ? n : 1) * sizeof *x.order);
	x.taken = malloc((n ? n : 1) * sizeof *x.taken);
	x.classes = malloc((n ? n : 1) * sizeof *x.classes);
	if (!x.order || !x.taken || !x.classes) {
		rc = -ENOMEM;
		goto cleanup;
	}
	cdt_nic_order(nics, n, bo, x.order);
	for (size_t i = 0; i < n; i++)
		x.taken[i] = NONE;
	collect_classes(&x);
	for (size_t i = 0; i < nrefs; i++) {
		rc = resolve_one(&x, conduit, &refs[i], &res.picks[i], e);
		if (rc < 0)
			goto cleanup;
		x.taken[res.picks[i].nic] = i;
	}
	res.n = nrefs;
	*out = res;
cleanup:
	free(x.order);
	free(x.taken);
	free(x.classes);
	return rc;
}

static bool pick_has(const struct cdt_resolution *r, size_t nic)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->picks[i].nic == nic)
			return true;
	return false;
}

/* NIC sets of @a and @b: 1 equal, 0 disjoint, -1 overlapping (first shared
 * NIC in *@shared). */
static int set_relation(const struct cdt_resolution *a, const struct cdt_resolution *b, size_t *shared)
{
	size_t common = 0;
	bool a_in_b = true, b_in_a = true;

	for (size_t i = 0; i < a->n; i++) {
		if (pick_has(b, a->picks[i].nic)) {
			if (!common++)
				*shared = a->picks[i].nic;
		} else {
			a_in_b = false;
		}
	}
	for (size_t i = 0; i < b->n; i++)
		b_in_a = b_in_a && pick_has(a, b->picks[i].nic);
	if (!common)
		return 0;
	return a_in_b && b_in_a ? 1 : -1;
}

int cdt_resolutions_disjoint_check(const struct cdt_resolution *res, size_t n, const struct cdt_nic *nics,
				   size_t n_nics, struct netd_err *e)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			size_t shared = NONE;
			char path[NETD_ERR_PATH_MAX], qa[CDT_QUOTE_MAX], qb[CDT_QUOTE_MAX];

			if (!strcmp(res[i].conduit, res[j].conduit) || set_relation(&res[i], &res[j], &shared) >= 0)
				continue;
			return netd_err_set(e, NETD_EINVAL, cdt_conduit_path(res[j].conduit, path, sizeof path),
					    "conduits %s and %s share NIC %s but not all their NICs: a conduit "
					    "has the same NICs as another or none of them",
					    cdt_quote(res[i].conduit, qa, sizeof qa),
					    cdt_quote(res[j].conduit, qb, sizeof qb),
					    shared < n_nics ? nics[shared].name : "?");
		}
	}
	return 0;
}
