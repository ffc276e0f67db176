/* tests/fuzz/fuzz_cdtjson.c — the conduit plan and NIC inventory documents
 * that netd and `netd --agent` exchange (netd/cdtjson.h).
 *
 * The first byte picks the reader: even = a plan ({"netd:plan":...}), odd =
 * an inventory ({"netd:inventory":...}, strict or partial by bit 1); the
 * rest is the JSON.  Whatever is accepted must print and parse back to the
 * same printed form (a fixed point after one round), so the agent and
 * netd never disagree on a document either of them wrote.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libyang/libyang.h>

#include "netd/cdtjson.h"
#include "netd/yangctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (64 * 1024)

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "fuzz_cdtjson: %s:%d: %s\n", __FILE__,  \
				__LINE__, #cond);                               \
			abort();                                                \
		}                                                               \
	} while (0)

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

static void plan_roundtrip(struct ly_ctx *ctx, const char *json)
{
	struct cdt_plan p = { 0 }, q = { 0 };
	struct cdtj_meta m = { 0 }, m2 = { 0 };
	struct netd_err e = { 0 };
	char *once = NULL, *twice = NULL;
	if (cdtj_plan_parse(ctx, "n1", json, &p, &m, &e) != 0)
		return;
	CHECK(cdtj_plan_print(ctx, &p, &m, &once, &e) == 0);
	CHECK(cdtj_plan_parse(ctx, "n1", once, &q, &m2, &e) == 0);
	CHECK(cdtj_plan_print(ctx, &q, &m2, &twice, &e) == 0);
	CHECK(strcmp(once, twice) == 0);
	free(once);
	free(twice);
	cdt_plan_clear(&p);
	cdt_plan_clear(&q);
}

static void inventory_roundtrip(struct ly_ctx *ctx, const char *json, unsigned flags)
{
	struct cdtj_inventory a = { 0 }, b = { 0 };
	struct netd_err e = { 0 };
	char *once = NULL, *twice = NULL;
	if (cdtj_inventory_parse(ctx, json, flags, "/fuzz", &a, &e) != 0)
		return;
	CHECK(cdtj_inventory_print(ctx, &a, &once, &e) == 0);
	CHECK(cdtj_inventory_parse(ctx, once, flags, "/fuzz", &b, &e) == 0);
	CHECK(cdtj_inventory_print(ctx, &b, &twice, &e) == 0);
	CHECK(strcmp(once, twice) == 0);
	free(once);
	free(twice);
	cdtj_inventory_clear(&a);
	cdtj_inventory_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	struct ly_ctx *ctx = fuzz_ctx();
	char *json = malloc(size);
	if (!json)
		return 0;
	memcpy(json, data + 1, size - 1);
	json[size - 1] = '\0';
	if (data[0] & 1)
		inventory_roundtrip(ctx, json, (data[0] & 2) ? CDTJ_INV_PARTIAL : 0);
	else
		plan_roundtrip(ctx, json);
	free(json);
	return 0;
}
