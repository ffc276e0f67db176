/* conduits/order.c — bus order of NICs and the DMI-selected override.
 *
 * Natural order compares bus paths field by field: a path is split into runs
 * of letters and digits; two all-hex runs compare as numbers ("0000:3:00.0"
 * before "0000:10:00.0"), other runs as text.  This is exactly domain, bus,
 * device, function for PCI addresses and still a total order for anything
 * else a bus path may hold.
 */
#include "conduits/cdt_int.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_hex(char c)
{
	return isxdigit((unsigned char)c) != 0;
}

static bool is_alnum(char c)
{
	return isalnum((unsigned char)c) != 0;
}

static size_t run_len(const char *p, bool *all_hex)
{
	size_t n = 0;

	*all_hex = true;
	while (is_alnum(p[n])) {
		if (!is_hex(p[n]))
			*all_hex = false;
		n++;
	}
	return n;
}

static int cmp_hex_runs(const char *a, size_t al, const char *b, size_t bl)
{
	while (al > 1 && *a == '0') {
		a++;
		al--;
	}
	while (bl > 1 && *b == '0') {
		b++;
		bl--;
	}
	if (al != bl)
		return al < bl ? -1 : 1;
	for (size_t i = 0; i < al; i++) {
		int ca = tolower((unsigned char)a[i]), cb = tolower((unsigned char)b[i]);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return 0;
}

static int cmp_text_runs(const char *a, size_t al, const char *b, size_t bl)
{
	size_t m = al < bl ? al : bl;
	int c = memcmp(a, b, m);

	if (c)
		return c < 0 ? -1 : 1;
	return al == bl ? 0 : (al < bl ? -1 : 1);
}

/* Natural comparison of two bus paths; equal only when identical. */
static int bus_cmp(const char *a, const char *b)
{
	const char *pa = a, *pb = b;

	while (*pa && *pb) {
		bool ha, hb;
		size_t al = run_len(pa, &ha), bl = run_len(pb, &hb);
		int c;

		/* Token by token: a run sorts before a separator, so that the
		 * order stays transitive whatever bytes a path holds. */
		if (al == 0 && bl != 0)
			return 1;
		if (bl == 0 && al != 0)
			return -1;
		if (al == 0) {  /* two separators: compare the bytes */
			if (*pa != *pb)
				return (unsigned char)*pa < (unsigned char)*pb ? -1 : 1;
			pa++;
			pb++;
			continue;
		}
		if (ha && hb)
			c = cmp_hex_runs(pa, al, pb, bl);
		else if (ha != hb)
			c = ha ? -1 : 1;
		else
			c = cmp_text_runs(pa, al, pb, bl);
		if (c)
			return c;
		pa += al;
		pb += bl;
	}
	if (*pa || *pb)
		return *pa ? 1 : -1;
	return strcmp(a, b) < 0 ? -1 : (strcmp(a, b) > 0);
}

static size_t prefix_rank(const struct cdt_nic *n, const struct cdt_bus_order *bo)
{
	if (!bo || !n->pci[0])
		return bo ? bo->n_prefixes : 0;
	for (size_t i = 0; i < bo->n_prefixes; i++) {
		const char *p = bo->prefixes[i];
		if (p && *p && !strncmp(n->pci, p, strlen(p)))
			return i;
	}
	return bo->n_prefixes;
}

int cdt_nic_cmp(const struct cdt_nic *a, const struct cdt_nic *b, const struct cdt_bus_order *bo)
{
	size_t ra = prefix_rank(a, bo), rb = prefix_rank(b, bo);
	bool ba = a->pci[0] != '\0', bb = b->pci[0] != '\0';
	int c;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ba != bb)
		return ba ? -1 : 1;
	if (ba && (c = bus_cmp(a->pci, b->pci)) != 0)
		return c;
	c = strncmp(a->name, b->name, CDT_IFNAME_MAX);
	return c < 0 ? -1 : (c > 0);
}

struct order_ctx {
	const struct cdt_nic *nics;
	const struct cdt_bus_order *bo;
};

static int order_cmp(const void *x, const void *y, void *arg)
{
	const struct order_ctx *ctx = arg;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	int c = cdt_nic_cmp(&ctx->nics[i], &ctx->nics[j], ctx->bo);

	if (c)
		return c;
	return i < j ? -1 : (i > j);
}

void cdt_nic_order(const struct cdt_nic *nics, size_t n, const struct cdt_bus_order *bo, size_t *order_out)
{
	struct order_ctx ctx = { nics, bo };

	for (size_t i = 0; i < n; i++)
		order_out[i] = i;
	if (n > 1)
		qsort_r(order_out, n, sizeof *order_out, order_cmp, &ctx);
}

int cdt_regcomp_whole(regex_t *re, const char *pattern, char *why, size_t whylen)
{
	size_t pl = strlen(pattern);
	char *anchored;
	regex_t raw;
	int rc = regcomp(&raw, pattern, REG_EXTENDED | REG_NOSUB);

	if (rc != 0) {
		regerror(rc, &raw, why, whylen);
		return NETD_EINVAL;
	}
	regfree(&raw);
	anchored = malloc(pl + 5);
	if (!anchored)
		return -ENOMEM;
	snprintf(anchored, pl + 5, "^(%s)$", pattern);
	rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc != 0) {
		regerror(rc, re, why, whylen);
		return NETD_EINVAL;
	}
	return 0;
}

/* Does ERE @pattern match all of @s?  1 yes, 0 no, NETD_EINVAL with @e
 * filled when it does not compile, -ENOMEM. */
static int whole_match(const char *pattern, const char *s, size_t entry, struct netd_err *e)
{
	char why[128], q[CDT_QUOTE_MAX];
	regex_t re;
	int rc = cdt_regcomp_whole(&re, pattern, why, sizeof why);

	if (rc == NETD_EINVAL)
		return netd_err_set(e, rc, NULL, "bus-order entry %zu: product regex \"%s\": %s", entry + 1,
				    cdt_quote(pattern, q, sizeof q), why);
	if (rc < 0)
		return rc;
	rc = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return rc;
}

int cdt_bus_order_pick(const struct cdt_bus_order *table, size_t n, const char *product_name,
		       const struct cdt_bus_order **out, struct netd_err *e)
{
	const struct cdt_bus_order *hit = NULL;

	for (size_t i = 0; i < n && product_name && *product_name; i++) {
		int rc = whole_match(table[i].product ? table[i].product : "", product_name, i, e);
		if (rc < 0)
			return rc;
		if (rc) {
			hit = &table[i];
			break;
		}
	}
	*out = hit;
	return 0;
}
