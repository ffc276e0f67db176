/* tests/fuzz/fuzz_uri.c — RESTCONF URI paths through rc_uri_to_xpath.
 * An accepted URI must give a path libyang can compile against the schema,
 * and its Location form must map back to the same path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libyang/libyang.h>

#include "netd/rcpath.h"
#include "netd/yangctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char uri[4096], xp[RC_PATH_MAX], back[RC_PATH_MAX * 3], again[RC_PATH_MAX];
	struct netd_err e = { 0 };
	struct ly_ctx *ctx = fuzz_ctx();

	if (size >= sizeof uri)
		return 0;
	memcpy(uri, data, size);
	uri[size] = '\0';
	if (rc_uri_to_xpath(ctx, uri, xp, sizeof xp, &e) < 0)
		return 0;
	if (!xp[0])
		return 0;
	/* the path must be one libyang accepts as a data path */
	struct lyd_node *tree = NULL;
	if (lyd_new_path(NULL, ctx, xp, NULL, LYD_NEW_PATH_OPAQ, &tree) == LY_SUCCESS)
		lyd_free_all(tree);
	if (rc_xpath_to_uri(xp, back, sizeof back) == 0) {
		struct netd_err e2 = { 0 };
		if (rc_uri_to_xpath(ctx, back, again, sizeof again, &e2) == 0 && strcmp(again, xp))
			abort();   /* the Location we would send does not name the same resource */
	}
	return 0;
}
