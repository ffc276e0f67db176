/* netd/yangctx.c — the libyang context holding netd's YANG modules.
 *
 * The module texts are compiled into the binary (yang_embedded.c, generated
 * by tools/embed.py), so nothing is read from disk: the context is created
 * with LY_CTX_DISABLE_SEARCHDIRS and only libyang's built-in modules
 * (ietf-inet-types, ietf-yang-types, ietf-yang-library, ...) plus netd and
 * netd-server are present.  Compilation is deferred (LY_CTX_EXPLICIT_COMPILE)
 * and done once after both modules are parsed.
 *
 * This is the libyang error adapter too: yc_err() is the one place where
 * libyang's error records become a struct netd_err.
 *
 * Prefixes with host bits: libyang's ietf-inet-types plugins silently clear
 * host bits of ipv4-prefix/ipv6-prefix values ("10.0.0.5/24" is stored as
 * "10.0.0.0/24"), so the mistake would never reach netd.  yc_new() therefore
 * wraps the store callback of the compiled types of
 * /netd:networks/network/ipv4/subnet and of the ipv6-prefix member of
 * .../ipv6/prefix: a textual value with host bits set is refused with
 * "host bits set: did you mean 10.0.0.0/24?", reported by libyang like any
 * other type error (with the data path of the leaf).
 *
 * Caveats: the wrapper replaces the plugin pointer of a compiled type, which
 * libyang shares between all leaves of that (unrestricted) type in the
 * context; recompiling the context (loading further modules, changing
 * LY_CTX_SET_PRIV_PARSED) restores libyang's plugin.  Values given in
 * canonical or LYB format are not checked (they come from netd itself).
 */
#include "netd/yangctx.h"

#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libyang/plugins_types.h>

#include "core/addr.h"

extern const char netd_yang_text[];
extern const char netd_server_yang_text[];

static const char *const yc_modules[] = { netd_yang_text, netd_server_yang_text };

/* Copy @s into @dst (capacity @cap), truncating, always NUL-terminated. */
static void yc_copy(char *dst, size_t cap, const char *s)
{
	if (!s)
		s = "";
	snprintf(dst, cap, "%s", s);
}

/* libyang 2.1 decorates the location: 'Data location "/netd:a/b", line
 * number 3.' or 'Schema location "/netd:x".' or 'Line number 3.'.  Put the
 * quoted instance identifier into e->path and any other location text (the
 * line number) after the message, so nothing is lost. */
static void yc_split_location(const char *loc, struct netd_err *e)
{
	const char *q1 = loc ? strchr(loc, '"') : NULL;
	const char *q2 = q1 ? strrchr(q1 + 1, '"') : NULL;
	const char *rest = loc;
	size_t mlen = strlen(e->msg);

	e->path[0] = '\0';
	if (!loc || !*loc)
		return;
	if (loc[0] == '/') {
		yc_copy(e->path, sizeof e->path, loc);
		return;
	}
	if (q1 && q2) {
		snprintf(e->path, sizeof e->path, "%.*s", (int)(q2 - q1 - 1), q1 + 1);
		rest = q2 + 1;
		rest += strspn(rest, ", ");
	}
	size_t rlen = strcspn(rest, ".");
	if (rlen > 0 && mlen + 4 < sizeof e->msg)
		snprintf(e->msg + mlen, sizeof e->msg - mlen, " (%.*s)", (int)rlen, rest);
}

int yc_err(const struct ly_ctx *ctx, int code, struct netd_err *e)
{
	if (!e)
		return code;
	if (e->code != 0)
		return code; /* first error wins, as with netd_err_set() */
	const struct ly_err_item *it = ctx ? ly_err_last(ctx) : NULL;
	e->code = code;
	yc_copy(e->msg, sizeof e->msg, it && it->msg ? it->msg : "libyang error");
	yc_split_location(it ? it->path : NULL, e);
	return code;
}

/* Parse and implement one embedded module. */
static int yc_load(struct ly_ctx *ctx, const char *text, struct netd_err *e)
{
	if (lys_parse_mem(ctx, text, LYS_IN_YANG, NULL) != LY_SUCCESS)
		return yc_err(ctx, NETD_EINVAL, e);
	return 0;
}

/* ---- host-bits check for prefix types (see the top comment) ---- */

static pthread_mutex_t yc_plug_lock = PTHREAD_MUTEX_INITIALIZER;
/* libyang's plugins and our copies with the wrapped store; [0] v4, [1] v6 */
static const struct lyplg_type *yc_plug_orig[2];
static struct lyplg_type yc_plug_wrap[2];

/* Does the textual @value (@len bytes) carry host bits? Then the corrected
 * prefix is printed into @fix. */
static bool yc_host_bits(const void *value, size_t len, char *fix, size_t fixlen)
{
	char buf[PREFIX_STRLEN];
	struct prefix loose, strict;

	if (!value || len >= sizeof buf)
		return false;
	memcpy(buf, value, len);
	buf[len] = '\0';
	if (prefix_parse(buf, false, &loose) < 0 || prefix_parse(buf, true, &strict) == 0)
		return false;
	prefix_print(&loose, fix, fixlen);
	return true;
}

static LY_ERR yc_store(int i, const struct ly_ctx *ctx, const struct lysc_type *type, const void *value,
		       size_t value_len, uint32_t options, LY_VALUE_FORMAT format, void *prefix_data, uint32_t hints,
		       const struct lysc_node *ctx_node, struct lyd_value *storage, struct lys_glob_unres *unres,
		       struct ly_err_item **err)
{
	char fix[PREFIX_STRLEN];

	if (format != LY_VALUE_CANON && format != LY_VALUE_LYB && yc_host_bits(value, value_len, fix, sizeof fix)) {
		if (options & LYPLG_TYPE_STORE_DYNAMIC)
			free((void *)value); /* the store callback owns a dynamic value */
		return ly_err_new(err, LY_EVALID, LYVE_DATA, NULL, NULL, "host bits set: did you mean %s?", fix);
	}
	return yc_plug_orig[i]->store(ctx, type, value, value_len, options, format, prefix_data, hints, ctx_node,
				      storage, unres, err);
}

static LY_ERR yc_store_v4(const struct ly_ctx *ctx, const struct lysc_type *type, const void *value,
			  size_t value_len, uint32_t options, LY_VALUE_FORMAT format, void *prefix_data,
			  uint32_t hints, const struct lysc_node *ctx_node, struct lyd_value *storage,
			  struct lys_glob_unres *unres, struct ly_err_item **err)
{
	return yc_store(0, ctx, type, value, value_len, options, format, prefix_data, hints, ctx_node, storage,
			unres, err);
}

static LY_ERR yc_store_v6(const struct ly_ctx *ctx, const struct lysc_type *type, const void *value,
			  size_t value_len, uint32_t options, LY_VALUE_FORMAT format, void *prefix_data,
			  uint32_t hints, const struct lysc_node *ctx_node, struct lyd_value *storage,
			  struct lys_glob_unres *unres, struct ly_err_item **err)
{
	return yc_store(1, ctx, type, value, value_len, options, format, prefix_data, hints, ctx_node, storage,
			unres, err);
}

/* Point @type at wrapper @i (set up from libyang's plugin on first use). */
static int yc_wrap_type(struct lysc_type *type, int i)
{
	int r = 0;

	pthread_mutex_lock(&yc_plug_lock);
	if (type->plugin == &yc_plug_wrap[i])
		goto out;
	if (!yc_plug_orig[i]) {
		yc_plug_orig[i] = type->plugin;
		yc_plug_wrap[i] = *type->plugin;
		yc_plug_wrap[i].store = i == 0 ? yc_store_v4 : yc_store_v6;
	}
	if (type->plugin != yc_plug_orig[i]) {
		r = NETD_EINVAL; /* not the plugin seen before: leave it alone */
		goto out;
	}
	type->plugin = &yc_plug_wrap[i];
out:
	pthread_mutex_unlock(&yc_plug_lock);
	return r;
}

static struct lysc_type *yc_leaf_type(const struct ly_ctx *ctx, const char *path)
{
	const struct lysc_node *sn = lys_find_path(ctx, NULL, path, 0);

	if (!sn || !(sn->nodetype & LYS_LEAF))
		return NULL;
	return ((const struct lysc_node_leaf *)sn)->type;
}

static int yc_wrap_prefixes(struct ly_ctx *ctx, struct netd_err *e)
{
	struct lysc_type *v4 = yc_leaf_type(ctx, "/netd:networks/network/ipv4/subnet");
	struct lysc_type *u6 = yc_leaf_type(ctx, "/netd:networks/network/ipv6/prefix");
	struct lysc_type *v6 = NULL;

	if (u6 && u6->basetype == LY_TYPE_UNION) {
		struct lysc_type_union *u = (struct lysc_type_union *)u6;
		LY_ARRAY_COUNT_TYPE i;
		LY_ARRAY_FOR(u->types, i)
			if (u->types[i]->basetype == LY_TYPE_STRING)
				v6 = u->types[i];
	}
	if (!v4 || !v6 || yc_wrap_type(v4, 0) < 0 || yc_wrap_type(v6, 1) < 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "netd YANG: cannot find the prefix types to check");
	return 0;
}

int yc_new(struct ly_ctx **out, struct netd_err *e)
{
	struct ly_ctx *ctx = NULL;
	int r;

	if (ly_ctx_new(NULL, LY_CTX_DISABLE_SEARCHDIRS | LY_CTX_EXPLICIT_COMPILE, &ctx) != LY_SUCCESS) {
		r = netd_err_set(e, -ENOMEM, NULL, "cannot create the libyang context");
		goto fail;
	}
	for (size_t i = 0; i < sizeof yc_modules / sizeof yc_modules[0]; i++) {
		r = yc_load(ctx, yc_modules[i], e);
		if (r < 0)
			goto fail;
	}
	if (ly_ctx_compile(ctx) != LY_SUCCESS) {
		r = yc_err(ctx, NETD_EINVAL, e);
		goto fail;
	}
	r = yc_wrap_prefixes(ctx, e);
	if (r < 0)
		goto fail;
	*out = ctx;
	return 0;
fail:
	ly_ctx_destroy(ctx);
	return r;
}

/* The newest "<dir>/<name>@*.yang" into @out (glob sorts, and revisions are
 * dates, so the last match is the newest). */
static int yc_find_file(const char *dir, const char *name, char *out, size_t len)
{
	char pat[4200];
	glob_t g;
	int r = -ENOENT;

	snprintf(pat, sizeof pat, "%s/%s@*.yang", dir, name);
	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0) {
		snprintf(out, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
		r = 0;
	}
	globfree(&g);
	return r;
}

int yc_add_netconf(struct ly_ctx *ctx, const char *dir, struct netd_err *e)
{
	static const char *const mods[] = { "ietf-netconf-acm", "ietf-netconf", "ietf-netconf-monitoring" };
	static const char *nc_features[] = { "writable-running", NULL };
	char path[4200];

	for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
		struct ly_in *in = NULL;
		if (ly_ctx_get_module_implemented(ctx, mods[i]))
			continue;
		if (yc_find_file(dir, mods[i], path, sizeof path) < 0)
			return netd_err_set(e, NETD_EINVAL, NULL,
					    "NETCONF needs the YANG module %s: no %s/%s@*.yang "
					    "(Debian package libyuma-base)", mods[i], dir, mods[i]);
		if (ly_in_new_filepath(path, 0, &in) != LY_SUCCESS)
			return netd_err_set(e, NETD_EINVAL, NULL, "%s: cannot read", path);
		LY_ERR lr = lys_parse(ctx, in, LYS_IN_YANG, strcmp(mods[i], "ietf-netconf") ? NULL : nc_features, NULL);
		ly_in_free(in, 0);
		if (lr != LY_SUCCESS) {
			struct netd_err le = { 0 };
			yc_err(ctx, NETD_EINVAL, &le);
			return netd_err_set(e, NETD_EINVAL, NULL, "%s: %s", path, le.msg);
		}
	}
	if (ly_ctx_compile(ctx) != LY_SUCCESS)
		return yc_err(ctx, NETD_EINVAL, e);
	/* the compile made new compiled types with libyang's plugins */
	return yc_wrap_prefixes(ctx, e);
}

bool yc_json_has_metadata(const char *json)
{
	const char *p = json, *str = NULL;   /* str: start of the last string's content */
	while (p && *p) {
		if (*p != '"') {
			if (*p == ':' && str && *str == '@')
				return true;   /* the last string was a member name */
			if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
				str = NULL;
			p++;
			continue;
		}
		str = ++p;
		while (*p && *p != '"')
			p += (*p == '\\' && p[1]) ? 2 : 1;
		if (*p)
			p++;
	}
	return false;
}

const char *yc_schema_name(const struct lyd_node *n)
{
	return n && n->schema ? n->schema->name : "";
}

const char *yc_leaf(const struct lyd_node *n, const char *name)
{
	const struct lyd_node *c;
	LY_LIST_FOR(n ? lyd_child(n) : NULL, c)
		if (c->schema && (c->schema->nodetype & LYD_NODE_TERM) && !strcmp(c->schema->name, name))
			return lyd_get_value(c);
	return NULL;
}

struct lyd_node *yc_child(const struct lyd_node *n, const char *name)
{
	struct lyd_node *c;
	LY_LIST_FOR(n ? lyd_child(n) : NULL, c)
		if (!strcmp(yc_schema_name(c), name))
			return c;
	return NULL;
}
