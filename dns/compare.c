/* dns/compare.c — intended records vs what a server holds, and the export
 * of the intended zone as a master file.  Pure: no I/O.  See verify.h for
 * the ownership rule.
 *
 * Overview.  dns_compare() keeps the in-zone records of both sides sorted
 * by dns_rec_cmp() (owner first), so one merge walk visits each owner
 * once with its intended RRs and its actual RRs side by side; ownership of
 * an owner is two binary searches in the actual set (the ownership TXT at
 * the owner, or at "_netd.<owner>").  Outputs are appended in walk order,
 * so they come out sorted without another sort.
 *
 * dns_export_zone() prints a sorted copy of the in-zone records; names are
 * re-parsed and re-printed so the owner can be cut at a real label
 * boundary (an escaped dot never looks like one).
 */
#include "dns/verify.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"

const char *dns_rec_state_name(unsigned s)
{
	static const char *const names[] = {
		[DNS_STATE_PENDING] = "pending",     [DNS_STATE_PUBLISHED] = "published",
		[DNS_STATE_VERIFIED] = "verified",   [DNS_STATE_ERROR] = "error",
		[DNS_STATE_CONFLICT] = "conflict",   [DNS_STATE_DRIFT] = "drift",
	};
	return s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void dns_diff_clear(struct dns_diff *d)
{
	if (!d)
		return;
	dns_recset_clear(&d->missing);
	dns_recset_clear(&d->extra);
	dns_recset_clear(&d->foreign);
	memset(d, 0, sizeof *d);
}

/* Same rule as dns_derive_node(): the id goes into TXT data and comments. */
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

/* @text as a name in wire form (@w) and as canonical text: lowercase,
 * absolute, escaped as dns_name_print() does (@canon, DNS_REC_NAME_MAX;
 * may be NULL).  0 or NETD_EINVAL. */
static int name_canon(const char *text, struct dns_name *w, char *canon)
{
	struct dns_name n;
	if (dns_name_parse(text, 0, &n, NULL) != 0)
		return NETD_EINVAL;
	dns_name_lower(&n, w);
	if (canon && dns_name_print(w, canon, DNS_REC_NAME_MAX) < 0)
		return NETD_EINVAL;
	return 0;
}

/* Is owner text @owner a name in @zone?  Unparseable: no. */
static bool owner_in_zone(const char *owner, const struct dns_name *zone)
{
	struct dns_name n;
	return dns_name_parse(owner, 0, &n, NULL) == 0 && dns_name_in_zone(&n, zone);
}

static int zone_arg(const char *zone, struct dns_name *w, char *canon, struct netd_err *e)
{
	if (!zone || name_canon(zone, w, canon) != 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "zone \"%.80s\": not a valid DNS name",
				    zone ? zone : "");
	return 0;
}

/* ---- comparison ----------------------------------------------------------- */

struct cmp {
	struct dns_name zone;
	char own_txt[DNS_REC_DATA_MAX];  /* "netd owner=<id>" */
	struct dns_recset act;           /* in-zone actual records, sorted */
	struct dns_diff d;               /* being built */
};

/* Does the actual set hold netd's ownership TXT at @name? */
static bool has_own_txt(const struct cmp *c, const char *name)
{
	struct dns_rec r = {.type = DNS_REC_TXT};
	if (strlen(name) >= sizeof r.owner)
		return false;
	memcpy(r.owner, name, strlen(name) + 1);
	memcpy(r.data, c->own_txt, sizeof r.data);
	return dns_recset_find(&c->act, &r) != NULL;
}

/* Owned: the ownership TXT at @owner or at "_netd.<owner>". */
static bool owned(const struct cmp *c, const char *owner)
{
	char guard[DNS_REC_NAME_MAX + 8];
	if (has_own_txt(c, owner))
		return true;
	snprintf(guard, sizeof guard, DNS_OWNER_LABEL ".%s", owner);
	return has_own_txt(c, guard);
}

/* End of the run of records with owner @owner starting at @i. */
static size_t owner_end(const struct dns_recset *s, size_t i, const char *owner)
{
	while (i < s->n && strcmp(s->v[i].owner, owner) == 0)
		i++;
	return i;
}

static int add_range(struct dns_recset *dst, const struct dns_rec *v, size_t n)
{
	const struct dns_recset src = {.v = (struct dns_rec *)v, .n = n, .cap = n};
	return dns_recset_add_all(dst, &src);
}

/* An owned name: merge its intended run @iv[0..ni) with its actual run
 * @av[0..na) (both sorted). */
static int cmp_owned(struct cmp *c, const struct dns_rec *iv, size_t ni, const struct dns_rec *av,
		     size_t na)
{
	size_t i = 0, j = 0;
	int rc = 0;
	while (rc == 0 && (i < ni || j < na)) {
		int k = i == ni ? 1 : j == na ? -1 : dns_rec_cmp(&iv[i], &av[j]);
		if (k < 0) {
			rc = dns_recset_add(&c->d.missing, &iv[i++]);
		} else if (k > 0) {
			rc = dns_recset_add(&c->d.extra, &av[j++]);
		} else {
			c->d.verified++;
			i++, j++;
		}
	}
	return rc;
}

/* One owner: @iv/@ni intended there, @av/@na on the server. */
static int cmp_owner(struct cmp *c, const char *owner, const struct dns_rec *iv, size_t ni,
		     const struct dns_rec *av, size_t na)
{
	if (owned(c, owner))
		return cmp_owned(c, iv, ni, av, na);
	if (ni == 0)
		return 0;                         /* someone else's name: not our business */
	if (na == 0)
		return add_range(&c->d.missing, iv, ni);  /* free: netd may claim it */
	c->d.conflicts += ni;
	return add_range(&c->d.foreign, av, na);
}

/* Check that @s is strictly ascending (sorted, no duplicates). */
static int check_sorted(const struct dns_recset *s, struct netd_err *e)
{
	for (size_t i = 1; i < s->n; i++)
		if (dns_rec_cmp(&s->v[i - 1], &s->v[i]) >= 0)
			return netd_err_set(e, NETD_EINVAL, NULL,
					    "intended records are not sorted (record %zu, %.255s %s): "
					    "call dns_recset_sort() first", i, s->v[i].owner,
					    dns_rec_type_name(s->v[i].type));
	return 0;
}

/* The walk over the owners of both sides. */
static int cmp_walk(struct cmp *c, const struct dns_recset *in)
{
	size_t i = 0, j = 0;
	while (i < in->n || j < c->act.n) {
		if (i < in->n && !owner_in_zone(in->v[i].owner, &c->zone)) {
			i = owner_end(in, i, in->v[i].owner);
			continue;
		}
		const char *owner;
		if (i == in->n)
			owner = c->act.v[j].owner;
		else if (j == c->act.n)
			owner = in->v[i].owner;
		else
			owner = strcmp(in->v[i].owner, c->act.v[j].owner) <= 0 ? in->v[i].owner
									 : c->act.v[j].owner;
		size_t i2 = owner_end(in, i, owner), j2 = owner_end(&c->act, j, owner);
		int rc = cmp_owner(c, owner, in->v + i, i2 - i, c->act.v + j, j2 - j);
		if (rc)
			return rc;
		i = i2;
		j = j2;
	}
	return 0;
}

int dns_compare(const struct dns_recset *intended, const struct dns_recset *actual, const char *zone,
		const char *installation_id, struct dns_diff *out, struct netd_err *e)
{
	struct cmp c;
	memset(&c, 0, sizeof c);
	int rc = zone_arg(zone, &c.zone, c.d.zone, e);
	if (rc)
		return rc;
	if (!installation_id_ok(installation_id))
		return netd_err_set(e, NETD_EINVAL, NULL, "installation id \"%.80s\": must be 1..%d of "
				    "letters, digits, '.', '_', ':', '-'",
				    installation_id ? installation_id : "", DNS_INSTALLATION_ID_MAX);
	rc = check_sorted(intended, e);
	if (rc)
		return rc;
	snprintf(c.own_txt, sizeof c.own_txt, DNS_OWNER_TXT_PREFIX "%s", installation_id);
	for (size_t j = 0; j < actual->n; j++) {
		if (!owner_in_zone(actual->v[j].owner, &c.zone))
			continue;
		rc = dns_recset_add(&c.act, &actual->v[j]);
		if (rc)
			goto cleanup;
	}
	dns_recset_sort(&c.act);
	rc = cmp_walk(&c, intended);
	if (rc)
		goto cleanup;
	*out = c.d;
	memset(&c.d, 0, sizeof c.d);  /* moved */
cleanup:
	dns_recset_clear(&c.act);
	dns_diff_clear(&c.d);
	return rc;
}

/* First record of sorted @s with owner @owner, or NULL. */
static const struct dns_rec *find_owner(const struct dns_recset *s, const char *owner)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(s->v[mid].owner, owner) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && strcmp(s->v[lo].owner, owner) == 0 ? &s->v[lo] : NULL;
}

unsigned dns_diff_state(const struct dns_diff *d, const struct dns_rec *intended_rec)
{
	struct dns_name z;
	if (dns_name_parse(d->zone, 0, &z, NULL) != 0 || !owner_in_zone(intended_rec->owner, &z))
		return DNS_STATE_PENDING;
	if (find_owner(&d->foreign, intended_rec->owner))
		return DNS_STATE_CONFLICT;
	if (dns_recset_find(&d->missing, intended_rec))
		return DNS_STATE_DRIFT;
	return DNS_STATE_VERIFIED;
}

/* ---- export --------------------------------------------------------------- */

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The most common TTL of @s (the smallest on a tie); 0 for an empty set. */
static int common_ttl(const struct dns_recset *s, uint32_t *out)
{
	*out = 0;
	if (s->n == 0)
		return 0;
	uint32_t *t = malloc(s->n * sizeof *t);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		t[i] = s->v[i].ttl;
	qsort(t, s->n, sizeof *t, u32_cmp);
	size_t best = 0, run = 0;
	for (size_t i = 0; i < s->n; i++) {
		run = i > 0 && t[i] == t[i - 1] ? run + 1 : 1;
		if (run > best) {  /* strictly: the first (smallest) TTL wins a tie */
			best = run;
			*out = t[i];
		}
	}
	free(t);
	return 0;
}

/* TXT data as a quoted character-string. */
static void put_txt(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p > 0x7e)
			fprintf(f, "\\%03u", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* Check one record for export: its owner relative to @origin into @rel,
 * its data in canonical form into @data (names absolute and lowercase,
 * addresses re-printed, TXT as is). */
static int export_rec_check(const struct dns_rec *r, const char *origin, char *rel, char *data,
			    struct netd_err *e)
{
	struct dns_name w;
	struct addr a;
	char canon[DNS_REC_NAME_MAX];
	if (name_canon(r->owner, &w, canon) != 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "record owner \"%.255s\": not a valid DNS name",
				    r->owner);
	int bad = 0;
	switch (r->type) {
	case DNS_REC_CNAME:
	case DNS_REC_PTR:
		bad = name_canon(r->data, &w, data);
		break;
	case DNS_REC_A:
	case DNS_REC_AAAA:
		bad = addr_parse_family(r->data, r->type == DNS_REC_A ? ADDR_V4 : ADDR_V6, &a);
		if (!bad)
			addr_print(&a, data, DNS_REC_DATA_MAX);
		break;
	case DNS_REC_TXT:
		memcpy(data, r->data, DNS_REC_DATA_MAX);
		break;
	default:
		return netd_err_set(e, NETD_EINVAL, NULL, "%.255s: type %u is not one netd writes",
				    r->owner, r->type);
	}
	if (bad)
		return netd_err_set(e, NETD_EINVAL, NULL, "%.255s %s: data \"%.255s\" is not a valid %s",
				    r->owner, dns_rec_type_name(r->type), r->data,
				    r->type == DNS_REC_A ? "IPv4 address" : r->type == DNS_REC_AAAA ?
				    "IPv6 address" : "DNS name");
	size_t lo = strlen(canon), lz = strlen(origin);
	if (strcmp(canon, origin) == 0)
		snprintf(rel, DNS_REC_NAME_MAX, "@");
	else if (strcmp(origin, ".") == 0)
		snprintf(rel, DNS_REC_NAME_MAX, "%.*s", (int)(lo - 1), canon);
	else  /* in the zone (checked in wire form): canon = <labels> "." origin */
		snprintf(rel, DNS_REC_NAME_MAX, "%.*s", (int)(lo - lz - 1), canon);
	return 0;
}

static void put_rec(FILE *f, const struct dns_rec *r, const char *rel, const char *data,
		    uint32_t def_ttl)
{
	fprintf(f, "%s\t", rel);
	if (r->ttl != def_ttl)
		fprintf(f, "%u\t", r->ttl);
	fprintf(f, "IN\t%s\t", dns_rec_type_name(r->type));
	if (r->type == DNS_REC_TXT)
		put_txt(f, data);
	else
		fputs(data, f);
	fputc('\n', f);
}

/* Print sorted in-zone @s as the file. */
static int export_print(const struct dns_recset *s, const char *origin, const char *id, char **out,
			size_t *len, struct netd_err *e)
{
	uint32_t ttl;
	int rc = common_ttl(s, &ttl);
	if (rc)
		return rc;
	FILE *f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "; zone %s as netd installation %s intends it: %zu records\n", origin, id, s->n);
	fprintf(f, "; A, AAAA, CNAME, PTR and TXT only: load it under the zone's SOA and NS\n");
	fprintf(f, "$ORIGIN %s\n", origin);
	if (s->n > 0)
		fprintf(f, "$TTL %u\n", ttl);
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		char rel[DNS_REC_NAME_MAX], data[DNS_REC_DATA_MAX];
		rc = export_rec_check(&s->v[i], origin, rel, data, e);
		if (rc == 0)
			put_rec(f, &s->v[i], rel, data, ttl);
	}
	bool io_failed = ferror(f) != 0;
	if (fclose(f) != 0)
		io_failed = true;
	if (rc == 0 && io_failed)
		rc = -ENOMEM;
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int dns_export_zone(const struct dns_recset *intended, const char *zone, const char *installation_id,
		    char **out, struct netd_err *e)
{
	struct dns_name z;
	char origin[DNS_REC_NAME_MAX];
	int rc = zone_arg(zone, &z, origin, e);
	if (rc)
		return rc;
	if (!installation_id_ok(installation_id))
		return netd_err_set(e, NETD_EINVAL, NULL, "installation id \"%.80s\": must be 1..%d of "
				    "letters, digits, '.', '_', ':', '-'",
				    installation_id ? installation_id : "", DNS_INSTALLATION_ID_MAX);
	struct dns_recset s = {0};
	char *text = NULL;
	size_t len = 0;
	for (size_t i = 0; i < intended->n; i++) {
		struct dns_name w;
		if (name_canon(intended->v[i].owner, &w, NULL) != 0) {
			rc = netd_err_set(e, NETD_EINVAL, NULL, "record owner \"%.255s\": not a valid "
					  "DNS name", intended->v[i].owner);
			goto cleanup;
		}
		if (!dns_name_in_zone(&w, &z))
			continue;
		rc = dns_recset_add(&s, &intended->v[i]);
		if (rc)
			goto cleanup;
	}
	dns_recset_sort(&s);
	rc = export_print(&s, origin, installation_id, &text, &len, e);
	if (rc == 0)
		*out = text;
cleanup:
	dns_recset_clear(&s);
	return rc;
}
