/* netd/dnsd_conf.c — the dns document (the /netd:dns container as stored,
 * decisions.md D23) read into plain data for the DNS service, with the
 * checks YANG cannot express.  See dnsd_int.h.
 *
 * The stored document carries explicit values only (ops_doc_load() adds no
 * defaults), the tree given to a document check carries them all: both are
 * read the same way, a missing leaf taking its YANG default here.
 */
#include "netd/dnsd_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "dns/tsig.h"
#include "dns/xfer.h"

#define DNS_PORT 53

static const char *leaf_name(const struct lyd_node *n)
{
	return n->schema ? n->schema->name : "";
}

/* The value of child leaf @name of @parent, or NULL. */
static const char *child_value(const struct lyd_node *parent, const char *name)
{
	const struct lyd_node *c;
	LY_LIST_FOR(lyd_child(parent), c) {
		if (c->schema && !strcmp(c->schema->name, name))
			return lyd_get_value(c);
	}
	return NULL;
}

bool dnsd_name_abs(const char *in, char *out)
{
	size_t n = strlen(in);
	bool dot = n > 0 && in[n - 1] == '.';
	if (n == 0 || n + (dot ? 0 : 1) > DNS_REC_NAME_MAX - 2)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	if (!dot)
		out[n++] = '.';
	out[n] = '\0';
	return true;
}

static uint32_t u32_or(const char *v, uint32_t dflt)
{
	return v ? (uint32_t)strtoul(v, NULL, 10) : dflt;
}

void dnsd_conf_clear(struct dnsd_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_zones; i++)
		dns_tsig_key_clear(&c->zones[i].key);
	free(c->zones);
	free(c->znames);
	free(c->statics);
	memset(c, 0, sizeof *c);
}

int dnsd_conf_zone_of(const struct dnsd_conf *c, const char *owner)
{
	const struct dns_zone *z = dns_zone_for(c->znames, c->n_zones, owner);
	return z ? (int)(z - c->znames) : -1;
}

/* ---- keys ----------------------------------------------------------------- */

static void key_path(const char *name, const char *leaf, char *buf, size_t len)
{
	char k[300];
	snprintf(buf, len, "/netd:dns/key[name=%s]%s%s", netd_path_key(name, k, sizeof k), leaf ? "/" : "",
		 leaf ? leaf : "");
}

/* The key entry named @name under @top, made into @out (with @load). */
static int key_make(const struct lyd_node *top, const char *name, bool load, struct dns_tsig_key *out,
		    struct netd_err *e)
{
	char path[DNSD_PATH_MAX];
	const struct lyd_node *k = NULL, *c;
	LY_LIST_FOR(lyd_child(top), c) {
		if (!strcmp(leaf_name(c), "key") && !strcmp(child_value(c, "name") ? child_value(c, "name") : "", name))
			k = c;
	}
	key_path(name, NULL, path, sizeof path);
	if (!k)
		return netd_err_set(e, NETD_EINVAL, path, "no key named '%s'", name);
	const char *alg = child_value(k, "algorithm"), *secret = child_value(k, "secret"),
		   *file = child_value(k, "secret-file");
	if (!alg)
		alg = "hmac-sha256";
	if (!secret == !file) {
		key_path(name, secret ? "secret-file" : "secret", path, sizeof path);
		return netd_err_set(e, NETD_EINVAL, path, "key '%s' needs exactly one of secret and secret-file (%s)",
				    name, secret ? "both are set" : "neither is set");
	}
	if (!load)
		return 0;
	struct netd_err why = { 0 };
	if (secret) {
		size_t n = strlen(alg) + strlen(name) + strlen(secret) + 3;
		char *spec = malloc(n);
		if (!spec)
			return netd_err_set(e, -ENOMEM, path, "out of memory");
		snprintf(spec, n, "%s:%s:%s", alg, name, secret);
		int rc = dns_tsig_key_parse_spec(spec, out, &why);
		memset(spec, 0, n);
		free(spec);
		if (rc < 0) {
			key_path(name, "secret", path, sizeof path);
			return netd_err_set(e, NETD_EINVAL, path, "key '%s': %s", name, why.msg);
		}
		return 0;
	}
	/* the file holds its own algorithm and secret; the name is ours */
	struct dns_tsig_key fk;
	int rc = dns_tsig_key_load(file, &fk, &why);
	if (rc == 0) {
		rc = dns_tsig_key_set(out, name, fk.alg, fk.secret, fk.secret_len, &why);
		dns_tsig_key_clear(&fk);
	}
	if (rc < 0) {
		key_path(name, "secret-file", path, sizeof path);
		return netd_err_set(e, rc == -ENOMEM ? rc : NETD_EINVAL, path, "key '%s': %s", name, why.msg);
	}
	return 0;
}

/* Check every key entry (exactly one secret source; with @load, usable). */
static int keys_check(const struct lyd_node *top, bool load, struct netd_err *e)
{
	const struct lyd_node *c;
	LY_LIST_FOR(lyd_child(top), c) {
		if (strcmp(leaf_name(c), "key"))
			continue;
		struct dns_tsig_key k;
		int rc = key_make(top, child_value(c, "name") ? child_value(c, "name") : "", load, &k, e);
		if (rc < 0)
			return rc;
		if (load)
			dns_tsig_key_clear(&k);
	}
	return 0;
}

/* ---- zones ---------------------------------------------------------------- */

static void zone_path(const char *name, const char *leaf, char *buf, size_t len)
{
	char k[300];
	snprintf(buf, len, "/netd:dns/zone[name=%s]%s%s", netd_path_key(name, k, sizeof k), leaf ? "/" : "",
		 leaf ? leaf : "");
}

static int zone_read(const struct lyd_node *top, const struct lyd_node *z, bool keys, struct dns_zone_conf *out,
		     struct netd_err *e)
{
	char path[DNSD_PATH_MAX];
	const char *name = child_value(z, "name");
	const struct lyd_node *c;
	memset(out, 0, sizeof *out);
	if (!name)
		name = "";
	zone_path(name, "name", path, sizeof path);
	if (!dnsd_name_abs(name, out->zone.name))
		return netd_err_set(e, NETD_EINVAL, path, "zone '%s' is not a DNS name", name);
	out->zone.kind = strstr(out->zone.name, ".arpa.") ? DNS_ZONE_REVERSE : DNS_ZONE_FORWARD;
	out->timeout_ms = u32_or(child_value(z, "timeout"), DNS_DELIVER_TIMEOUT_MS);
	LY_LIST_FOR(lyd_child(z), c) {
		if (strcmp(leaf_name(c), "server"))
			continue;
		zone_path(name, "server", path, sizeof path);
		if (out->n_servers == DNS_ZONE_SERVERS_MAX)
			return netd_err_set(e, NETD_EINVAL, path, "zone '%s': more than %d servers", name,
					    DNS_ZONE_SERVERS_MAX);
		struct netd_err why = { 0 };
		if (dns_server_parse(lyd_get_value(c), DNS_PORT, &out->servers[out->n_servers], &why) < 0)
			return netd_err_set(e, NETD_EINVAL, path, "zone '%s': server '%s': %s", name,
					    lyd_get_value(c), why.msg);
		out->n_servers++;
	}
	if (out->n_servers == 0) {
		zone_path(name, "server", path, sizeof path);
		return netd_err_set(e, NETD_EINVAL, path, "zone '%s' has no server", name);
	}
	const char *key = child_value(z, "key");
	if (key) {
		int rc = key_make(top, key, keys, &out->key, e);
		if (rc < 0)
			return rc;
		out->has_key = keys;
	}
	return 0;
}

/* ---- static records ------------------------------------------------------- */

static int static_type(const char *t)
{
	static const struct { const char *n; int t; } types[] = {
		{ "A", DNS_REC_A }, { "AAAA", DNS_REC_AAAA }, { "CNAME", DNS_REC_CNAME },
		{ "PTR", DNS_REC_PTR }, { "TXT", DNS_REC_TXT },
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(types[i].n, t))
			return types[i].t;
	return 0;
}

static int static_read(const struct lyd_node *r, uint32_t ttl, struct dnsd_static *out, struct netd_err *e)
{
	const char *owner = child_value(r, "owner"), *type = child_value(r, "type"), *data = child_value(r, "data");
	char ko[300], kt[32], kd[300];
	memset(out, 0, sizeof *out);
	if (!owner || !type || !data)
		return netd_err_set(e, NETD_EINVAL, "/netd:dns/record", "a static record needs owner, type and data");
	snprintf(out->path, sizeof out->path, "/netd:dns/record[owner=%s][type=%s][data=%s]",
		 netd_path_key(owner, ko, sizeof ko), netd_path_key(type, kt, sizeof kt),
		 netd_path_key(data, kd, sizeof kd));
	struct dns_rec *rec = &out->rec;
	rec->type = (uint16_t)static_type(type);
	rec->ttl = u32_or(child_value(r, "ttl"), ttl);
	if (!rec->type)
		return netd_err_set(e, NETD_EINVAL, out->path, "record type %s is not one netd writes", type);
	if (!dnsd_name_abs(owner, rec->owner))
		return netd_err_set(e, NETD_EINVAL, out->path, "owner '%s' is not a DNS name", owner);
	struct addr a;
	switch (rec->type) {
	case DNS_REC_A:
	case DNS_REC_AAAA:
		if (addr_parse(data, &a) < 0 || a.family != (rec->type == DNS_REC_A ? ADDR_V4 : ADDR_V6))
			return netd_err_set(e, NETD_EINVAL, out->path, "'%s' is not an IPv%c address", data,
					    rec->type == DNS_REC_A ? '4' : '6');
		addr_print(&a, rec->data, sizeof rec->data);
		break;
	case DNS_REC_CNAME:
	case DNS_REC_PTR:
		/* the same rules as dns-name: labels of letters, digits, inner '-' */
		for (const char *p = data; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
				return netd_err_set(e, NETD_EINVAL, out->path, "'%s' is not a host name", data);
		if (strstr(data, "..") || data[0] == '.' || !dnsd_name_abs(data, rec->data))
			return netd_err_set(e, NETD_EINVAL, out->path, "'%s' is not a host name", data);
		break;
	default:
		if (strlen(data) > 255)
			return netd_err_set(e, NETD_EINVAL, out->path, "TXT data over 255 characters");
		snprintf(rec->data, sizeof rec->data, "%s", data);
		if (!strncmp(data, DNS_OWNER_TXT_PREFIX, sizeof DNS_OWNER_TXT_PREFIX - 1))
			return netd_err_set(e, NETD_EINVAL, out->path, "TXT data starting with '%s' is netd's "
					    "ownership mark", DNS_OWNER_TXT_PREFIX);
		break;
	}
	return 0;
}

/* ---- the document --------------------------------------------------------- */

static int count_children(const struct lyd_node *top, const char *name)
{
	int n = 0;
	const struct lyd_node *c;
	LY_LIST_FOR(lyd_child(top), c) {
		if (!strcmp(leaf_name(c), name))
			n++;
	}
	return n;
}

/* Two zones equal as DNS names ("lab.example" and "LAB.example.")? */
static int zones_distinct(const struct dnsd_conf *c, struct netd_err *e)
{
	for (size_t i = 0; i < c->n_zones; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->zones[i].zone.name, c->zones[j].zone.name)) {
				char path[DNSD_PATH_MAX];
				zone_path(c->zones[i].zone.name, "name", path, sizeof path);
				return netd_err_set(e, NETD_EINVAL, path, "zone %s is configured twice",
						    c->zones[i].zone.name);
			}
	return 0;
}

static int conf_fill(const struct lyd_node *top, bool keys, struct dnsd_conf *c, struct netd_err *e)
{
	const struct lyd_node *n;
	int rc = 0;
	const char *id = child_value(top, "installation-id");
	snprintf(c->installation_id, sizeof c->installation_id, "%s", id ? id : "");
	c->ttl = u32_or(child_value(top, "ttl"), DNSD_TTL_DEFAULT);
	c->check_interval = u32_or(child_value(top, "check-interval"), DNSD_CHECK_INTERVAL_DEFAULT);
	size_t nz = (size_t)count_children(top, "zone"), ns = (size_t)count_children(top, "record");
	c->zones = calloc(nz ? nz : 1, sizeof *c->zones);
	c->znames = calloc(nz ? nz : 1, sizeof *c->znames);
	c->statics = calloc(ns ? ns : 1, sizeof *c->statics);
	if (!c->zones || !c->znames || !c->statics)
		return netd_err_set(e, -ENOMEM, NULL, "out of memory reading the dns configuration");
	if ((rc = keys_check(top, keys, e)) < 0)
		return rc;
	LY_LIST_FOR(lyd_child(top), n) {
		if (!strcmp(leaf_name(n), "zone")) {
			rc = zone_read(top, n, keys, &c->zones[c->n_zones], e);
			if (rc < 0)
				return rc;
			c->znames[c->n_zones] = c->zones[c->n_zones].zone;
			c->n_zones++;
		} else if (!strcmp(leaf_name(n), "record")) {
			rc = static_read(n, c->ttl, &c->statics[c->n_statics], e);
			if (rc < 0)
				return rc;
			c->n_statics++;
		}
	}
	return zones_distinct(c, e);
}

int dnsd_conf_read(const struct lyd_node *top, bool keys, struct dnsd_conf *out, struct netd_err *e)
{
	struct dnsd_conf c = { .ttl = DNSD_TTL_DEFAULT, .check_interval = DNSD_CHECK_INTERVAL_DEFAULT };
	int rc = top ? conf_fill(top, keys, &c, e) : 0;
	if (rc < 0) {
		dnsd_conf_clear(&c);
		return rc;
	}
	*out = c;
	return 0;
}
