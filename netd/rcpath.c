/* netd/rcpath.c — RESTCONF data-resource URIs <-> libyang paths.
 *
 * RFC 8040 section 3.5.3: each segment is [module:]name, a list entry adds
 * "=" and its key values in key order, comma-separated and percent-encoded;
 * a leaf-list entry adds "=" and its value.  The module prefix is required on
 * the first segment and wherever the module changes.
 */
#include "netd/rcpath.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>


static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode [s, s+n) into @out. -1 on a bad escape or overflow. */
static int pct_decode(const char *s, size_t n, char *out, size_t len)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		}
		if (c == 0 || k + 1 >= len)
			return -1;
		out[k++] = (char)c;
	}
	out[k] = '\0';
	return 0;
}

/* A YANG identifier (RFC 7950 section 6.2). */
static bool is_identifier(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

static int append(char *out, size_t len, size_t *pos, const char *s)
{
	size_t n = strlen(s);
	if (*pos + n >= len)
		return -1;
	memcpy(out + *pos, s, n + 1);
	*pos += n;
	return 0;
}

/* Append [key='value'] with quoting that survives the value. */
static int append_pred(char *out, size_t len, size_t *pos, const char *key, const char *val)
{
	char q = strchr(val, '\'') ? '"' : '\'';
	if (q == '"' && strchr(val, '"'))
		return -1;
	char buf[RC_PATH_MAX];
	int n = snprintf(buf, sizeof buf, "[%s=%c%s%c]", key, q, val, q);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -1;
	return append(out, len, pos, buf);
}

/* Key predicates for list @node from the comma-separated encoded @vals. */
static int append_keys(const struct lysc_node *node, const char *vals, char *out, size_t len, size_t *pos,
		       struct netd_err *e, const char *seg)
{
	const struct lysc_node *k;
	const char *p = vals;
	if (node->nodetype == LYS_LEAFLIST) {
		char v[RC_PATH_MAX];
		if (pct_decode(vals, strlen(vals), v, sizeof v) < 0 || append_pred(out, len, pos, ".", v) < 0)
			return netd_err_set(e, NETD_EINVAL, NULL, "bad value in URI segment '%s'", seg);
		return 0;
	}
	for (k = lysc_node_child(node); k && (k->flags & LYS_KEY); k = k->next) {
		if (!p)
			return netd_err_set(e, NETD_EINVAL, NULL, "URI segment '%s' lacks the key '%s'", seg, k->name);
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char v[RC_PATH_MAX];
		if (pct_decode(p, n, v, sizeof v) < 0 || append_pred(out, len, pos, k->name, v) < 0)
			return netd_err_set(e, NETD_EINVAL, NULL, "bad key value in URI segment '%s'", seg);
		p = end ? end + 1 : NULL;
	}
	if (p)
		return netd_err_set(e, NETD_EINVAL, NULL, "URI segment '%s' has too many key values", seg);
	return 0;
}

int rc_uri_to_xpath(const struct ly_ctx *ctx, const char *uri, char *out, size_t len, struct netd_err *e)
{
	char schema[RC_PATH_MAX] = "";
	size_t pos = 0, spos = 0;
	const char *cur_mod = NULL;
	const struct lysc_node *node = NULL;
	char modbuf[64];

	out[0] = '\0';
	while (*uri == '/')
		uri++;
	while (*uri) {
		const char *end = strchr(uri, '/');
		size_t n = end ? (size_t)(end - uri) : strlen(uri);
		char seg[RC_PATH_MAX], name[256];
		const char *vals = NULL;
		if (n >= sizeof seg)
			return netd_err_set(e, NETD_EINVAL, NULL, "%s", "URI segment too long");
		memcpy(seg, uri, n);
		seg[n] = '\0';
		char *eq = strchr(seg, '=');
		if (eq) {
			*eq = '\0';
			vals = eq + 1;
		}
		if (pct_decode(seg, strlen(seg), name, sizeof name) < 0 || !name[0])
			return netd_err_set(e, NETD_EINVAL, NULL, "bad URI segment '%s'", seg);
		char *colon = strchr(name, ':');
		const char *local = colon ? colon + 1 : name;
		char step[300];
		if (colon)
			*colon = '\0';
		if (!is_identifier(local) || (colon && !is_identifier(name)))
			return netd_err_set(e, NETD_EINVAL, NULL, "URI segment '%.64s' is not [module:]identifier", seg);
		if (colon) {
			if (strlen(name) >= sizeof modbuf)
				return netd_err_set(e, NETD_ENOTFOUND, NULL, "no such module: %.64s", name);
			memcpy(modbuf, name, strlen(name) + 1);
			cur_mod = modbuf;
			snprintf(step, sizeof step, "/%s:%s", name, local);
		} else if (!cur_mod) {
			return netd_err_set(e, NETD_EINVAL, NULL, "the first URI segment '%s' needs a module name (module:node)", name);
		} else {
			snprintf(step, sizeof step, "/%s", local);
		}
		if (append(schema, sizeof schema, &spos, step) < 0 || append(out, len, &pos, step) < 0)
			return netd_err_set(e, NETD_EINVAL, NULL, "%s", "URI too long");
		node = lys_find_path(ctx, NULL, schema, 0);
		if (!node)
			return netd_err_set(e, NETD_ENOTFOUND, NULL, "no such resource: %s", schema);
		if (vals) {
			if (!(node->nodetype & (LYS_LIST | LYS_LEAFLIST)))
				return netd_err_set(e, NETD_EINVAL, NULL, "'%s' is not a list: it takes no key values", local);
			if (append_keys(node, vals, out, len, &pos, e, seg) < 0)
				return e ? e->code : NETD_EINVAL;
		}
		uri += n;
		while (*uri == '/')
			uri++;
	}
	return 0;
}

static bool uri_unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.' || c == '_' || c == '~' || c == ':';
}

int rc_xpath_to_uri(const char *xpath, char *out, size_t len)
{
	size_t k = 0;
	bool first_key = true;
	for (const char *p = xpath; *p;) {
		if (*p == '[') {
			/* [name='value'] -> =value or ,value */
			const char *q = strchr(p, '=');
			if (!q || (q[1] != '\'' && q[1] != '"'))
				return -1;
			char quote = q[1];
			const char *v = q + 2, *vend = strchr(v, quote);
			if (!vend || k + 1 >= len)
				return -1;
			out[k++] = first_key ? '=' : ',';
			first_key = false;
			for (; v < vend; v++) {
				if (uri_unreserved((unsigned char)*v) && *v != ':') {
					if (k + 1 >= len)
						return -1;
					out[k++] = *v;
				} else {
					if (k + 3 >= len)
						return -1;
					k += (size_t)snprintf(out + k, len - k, "%%%02X", (unsigned char)*v);
				}
			}
			p = vend + 2;
			continue;
		}
		if (*p == '/')
			first_key = true;
		if (k + 1 >= len)
			return -1;
		out[k++] = *p++;
	}
	out[k] = '\0';
	return 0;
}

