/* tests/fuzz/fuzz_json.c — JSON config through libyang and yangmap.
 *
 * The input is parsed as netd parses RESTCONF/config bodies (strict, validate
 * present modules); when it is accepted, every network and node entry goes
 * through ym_*_from_lyd and back through ym_*_to_lyd.  The context is made
 * once per process (it is immutable after yc_new) and never freed.
 *
 * With -Dfuzz=true every library is built with -fsanitize=fuzzer-no-link
 * (top-level meson.build), so libFuzzer sees the coverage of yangmap and
 * libyang glue, not only of this file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libyang/libyang.h>

#include "netd/yangctx.h"
#include "netd/yangmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (64 * 1024)

static struct ly_ctx *fuzz_ctx(void)
{
	static struct ly_ctx *ctx;

	if (!ctx) {
		struct netd_err e = { 0 };
		ly_log_options(LY_LOSTORE_LAST);
		if (yc_new(&ctx, &e) < 0)
			abort();
	}
	return ctx;
}

/* The list entries of top-level container @top in @tree. */
static struct lyd_node *entries(struct lyd_node *tree, const char *top)
{
	for (struct lyd_node *t = tree; t; t = t->next)
		if (t->schema && !strcmp(t->schema->name, top))
			return lyd_child(t);
	return NULL;
}

static void round_trip(struct ly_ctx *ctx, struct lyd_node *tree)
{
	struct lyd_node *nets = NULL, *nodes = NULL, *entry;

	for (struct lyd_node *c = entries(tree, "networks"); c; c = c->next) {
		struct model_network n;
		struct netd_err e = { 0 };
		if (ym_network_from_lyd(c, NULL, &n, &e) < 0)
			continue;
		if (ym_network_to_lyd(ctx, nets, &n, NULL, &entry) == 0 && !nets)
			nets = lyd_parent(entry);
		model_network_clear(&n);
	}
	for (struct lyd_node *c = entries(tree, "nodes"); c; c = c->next) {
		struct model_node n;
		struct netd_err e = { 0 };
		if (ym_node_from_lyd(c, &n, &e) < 0)
			continue;
		if (ym_node_to_lyd(ctx, nodes, &n, NULL, 0, &entry) == 0 && !nodes)
			nodes = lyd_parent(entry);
		model_node_clear(&n);
	}
	lyd_free_all(nets);
	lyd_free_all(nodes);
}

/* A RESTCONF body for POST /restconf/data/netd:networks, parsed the way
 * netd/ops.c parse_body() does it: under the list's parent, after the
 * metadata guard (libyang 2.1 crashes on a top-level "@..." member there). */
static void parse_under_parent(struct ly_ctx *ctx, const char *text)
{
	struct lyd_node *top = NULL, *parent = NULL;
	struct ly_in *in = NULL;
	if (yc_json_has_metadata(text))
		return;
	if (lyd_new_path(NULL, ctx, "/netd:networks", NULL, 0, &top) != LY_SUCCESS)
		abort();
	lyd_find_path(top, "/netd:networks", 0, &parent);
	if (ly_in_new_memory(text, &in) == LY_SUCCESS) {
		lyd_parse_data(ctx, parent, in, LYD_JSON, LYD_PARSE_STRICT | LYD_PARSE_ONLY | LYD_PARSE_NO_STATE, 0, NULL);
		ly_in_free(in, 0);
	}
	lyd_free_all(top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ly_ctx *ctx = fuzz_ctx();
	struct lyd_node *tree = NULL;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	char *text = malloc(size + 1); /* libyang wants a NUL-terminated string */
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (lyd_parse_data_mem(ctx, text, LYD_JSON, LYD_PARSE_STRICT, LYD_VALIDATE_PRESENT, &tree) == LY_SUCCESS)
		round_trip(ctx, tree);
	lyd_free_all(tree);
	parse_under_parent(ctx, text);
	free(text);
	return 0;
}
