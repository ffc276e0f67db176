/* tests/unit/test_yangmap.c — records <-> libyang trees.
 *
 * Golden round trips: JSON in -> parse+validate (as netd does: strict,
 * LYD_VALIDATE_PRESENT) -> ym_*_from_lyd -> ym_*_to_lyd -> JSON out, compared
 * with the expected canonical text.  Then a table of bad inputs with the
 * error path each must name, whether libyang or yangmap refuses them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netd/yangctx.h"
#include "netd/yangmap.h"

static struct ly_ctx *ctx;

static int group_setup(void **state)
{
	struct netd_err e = { 0 };

	ly_log_options(LY_LOSTORE_LAST); /* errors stored, not printed */
	if (yc_new(&ctx, &e) < 0) {
		fprintf(stderr, "yc_new: %s at %s\n", e.msg, e.path);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	ly_ctx_destroy(ctx);
	return 0;
}

/* Parse and validate @json as netd does; on failure the libyang error. */
static int parse(const char *json, struct lyd_node **tree, struct netd_err *e)
{
	*tree = NULL;
	if (lyd_parse_data_mem(ctx, json, LYD_JSON, LYD_PARSE_STRICT, LYD_VALIDATE_PRESENT, tree) != LY_SUCCESS)
		return yc_err(ctx, NETD_EINVAL, e);
	return 0;
}

static char *print(const struct lyd_node *tree, uint32_t wd)
{
	char *s = NULL;

	assert_int_equal(lyd_print_mem(&s, tree, LYD_JSON, LYD_PRINT_SHRINK | LYD_PRINT_WITHSIBLINGS | wd),
			 LY_SUCCESS);
	return s;
}

/* The list entries of top-level container @top (module netd) in @tree. */
static struct lyd_node *first_entry(struct lyd_node *tree, const char *top)
{
	for (struct lyd_node *t = tree; t; t = t->next)
		if (t->schema && !strcmp(t->schema->name, top))
			return lyd_child(t);
	return NULL;
}

/* Append top-level @add to *@out (which may be NULL). */
static void join(struct lyd_node **out, struct lyd_node *add)
{
	if (!*out)
		*out = add;
	else
		assert_int_equal(lyd_insert_sibling(*out, add, out), LY_SUCCESS);
}

/* Convert every network and node of @in through records into a new tree.
 * Returns 0 or the first conversion error (in @e). */
static int convert(struct lyd_node *in, struct lyd_node **out, struct netd_err *e)
{
	struct lyd_node *nets = NULL, *nodes = NULL, *entry;
	int r = 0;

	*out = NULL;
	for (struct lyd_node *c = first_entry(in, "networks"); c && r == 0; c = c->next) {
		struct model_network n;
		r = ym_network_from_lyd(c, NULL, &n, e);
		if (r == 0) {
			assert_int_equal(ym_network_to_lyd(ctx, nets, &n, NULL, &entry), 0);
			if (!nets)
				nets = lyd_parent(entry);
			model_network_clear(&n);
		}
	}
	for (struct lyd_node *c = first_entry(in, "nodes"); c && r == 0; c = c->next) {
		struct model_node n;
		r = ym_node_from_lyd(c, &n, e);
		if (r == 0) {
			assert_int_equal(ym_node_to_lyd(ctx, nodes, &n, NULL, 0, &entry), 0);
			if (!nodes)
				nodes = lyd_parent(entry);
			model_node_clear(&n);
		}
	}
	if (nets)
		join(out, nets);
	if (nodes)
		join(out, nodes);
	if (r < 0)
		lyd_free_all(*out);
	return r;
}

/* ------------------------------------------------------------------ */
/* golden round trips */

struct golden {
	const char *name, *in, *out;
};

static const struct golden goldens[] = {
	{ "full network",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"admin\",\"conduit\":\"intf0\",\"primary\":true,"
	  "\"vlan\":10,\"use-vlan\":true,\"use-team\":true,\"team-mode\":\"active-backup\",\"mtu\":9000,"
	  "\"ipv4\":{\"subnet\":\"10.0.0.0/24\",\"router\":\"10.0.0.1\",\"router-pref\":50,"
	  "\"range\":[{\"name\":\"host\",\"first\":\"10.0.0.10\",\"last\":\"10.0.0.200\"},"
	  "{\"name\":\"bmc\",\"first\":\"10.0.0.201\",\"last\":\"10.0.0.250\"}]},"
	  "\"ipv6\":{\"prefix\":\"2001:DB8:0:0::/64\",\"router\":\"2001:db8:0:0:0:0:0:1\","
	  "\"range\":[{\"name\":\"host\",\"first\":\"2001:db8::100\",\"last\":\"2001:DB8::1ff\"}]},"
	  "\"dns-domain\":\"example.com\"}]}}",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"admin\",\"conduit\":\"intf0\",\"primary\":true,"
	  "\"vlan\":10,\"use-vlan\":true,\"use-team\":true,\"team-mode\":\"active-backup\",\"mtu\":9000,"
	  "\"ipv4\":{\"subnet\":\"10.0.0.0/24\",\"router\":\"10.0.0.1\",\"router-pref\":50,"
	  "\"range\":[{\"name\":\"host\",\"first\":\"10.0.0.10\",\"last\":\"10.0.0.200\"},"
	  "{\"name\":\"bmc\",\"first\":\"10.0.0.201\",\"last\":\"10.0.0.250\"}]},"
	  "\"ipv6\":{\"prefix\":\"2001:db8::/64\",\"router\":\"2001:db8::1\","
	  "\"range\":[{\"name\":\"host\",\"first\":\"2001:db8::100\",\"last\":\"2001:db8::1ff\"}]},"
	  "\"dns-domain\":\"example.com\"}]}}" },
	{ "defaults stay implicit",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"lab\",\"primary\":false,\"mtu\":1500,"
	  "\"team-mode\":\"802.3ad\",\"ipv4\":{\"subnet\":\"192.168.1.0/24\",\"router-pref\":100}}]}}",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"lab\",\"ipv4\":{\"subnet\":\"192.168.1.0/24\"}}]}}" },
	{ "name template",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"storage\",\"dns-domain\":\"lab.example\","
	  "\"dns-name-template\":\"{node}-st.{domain}\"}]}}",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"storage\",\"dns-domain\":\"lab.example\","
	  "\"dns-name-template\":\"{node}-st.{domain}\"}]}}" },
	{ "auto ipv6, two networks",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"b\",\"ipv6\":{\"prefix\":\"auto\"}},"
	  "{\"name\":\"a\",\"conduit\":\"intf1\"}]}}",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"b\",\"ipv6\":{\"prefix\":\"auto\"}},"
	  "{\"name\":\"a\",\"conduit\":\"intf1\"}]}}" },
	{ "node",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"admin\"},{\"name\":\"bmc\"}]},"
	  "\"netd:nodes\":{\"node\":[{\"name\":\"n1\",\"alias\":[\"www\",\"db.example.com\"],"
	  "\"admin-mac\":\"AA:BB:cc:dd:ee:0F\",\"network\":[{\"name\":\"admin\",\"range\":\"host\","
	  "\"ipv4-hint\":\"10.0.0.7\",\"ipv6-hint\":\"2001:db8:0::7\"},{\"name\":\"bmc\"}]}]}}",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"admin\"},{\"name\":\"bmc\"}]},"
	  "\"netd:nodes\":{\"node\":[{\"name\":\"n1\",\"alias\":[\"www\",\"db.example.com\"],"
	  "\"admin-mac\":\"aa:bb:cc:dd:ee:0f\",\"network\":[{\"name\":\"admin\",\"range\":\"host\","
	  "\"ipv4-hint\":\"10.0.0.7\",\"ipv6-hint\":\"2001:db8::7\"},{\"name\":\"bmc\"}]}]}}" },
	{ "networks and nodes",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"x\"}]},\"netd:nodes\":{\"node\":[{\"name\":\"h\"}]}}",
	  "{\"netd:networks\":{\"network\":[{\"name\":\"x\"}]},\"netd:nodes\":{\"node\":[{\"name\":\"h\"}]}}" },
};

static void test_golden(void **state)
{
	for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
		const struct golden *g = &goldens[i];
		struct netd_err e = { 0 };
		struct lyd_node *in = NULL, *out = NULL;

		if (parse(g->in, &in, &e) < 0 || convert(in, &out, &e) < 0)
			fail_msg("%s: %s at %s", g->name, e.msg, e.path);
		char *s = print(out, 0);
		if (strcmp(s, g->out) != 0)
			fail_msg("%s:\n got %s\nwant %s", g->name, s, g->out);
		lyd_free_all(in);
		lyd_free_all(out);
		/* the canonical form is a fixed point */
		if (parse(s, &in, &e) < 0 || convert(in, &out, &e) < 0)
			fail_msg("%s again: %s at %s", g->name, e.msg, e.path);
		char *s2 = print(out, 0);
		assert_string_equal(s2, s);
		free(s2);
		free(s);
		lyd_free_all(in);
		lyd_free_all(out);
	}
}

/* Leaves with YANG defaults are read from their default nodes. */
static void test_defaults_read(void **state)
{
	struct netd_err e = { 0 };
	struct lyd_node *in = NULL;
	struct model_network n;

	assert_int_equal(parse("{\"netd:networks\":{\"network\":[{\"name\":\"d\",\"ipv4\":{\"subnet\":\"10.1.0.0/16\"}}]}}",
			       &in, &e), 0);
	struct lyd_node *mtu = NULL;
	assert_int_equal(lyd_find_path(first_entry(in, "networks"), "mtu", 0, &mtu), LY_SUCCESS);
	assert_true(mtu->flags & LYD_DEFAULT);
	assert_int_equal(ym_network_from_lyd(first_entry(in, "networks"), NULL, &n, &e), 0);
	assert_int_equal(n.mtu, 1500);
	assert_int_equal(n.team_mode, TEAM_802_3AD);
	assert_int_equal(n.router_pref, 100);
	assert_false(n.primary);
	assert_true(n.has_v4);
	assert_int_equal(n.v4_subnet.len, 16);
	assert_int_equal(n.v6_mode, MODEL_V6_NONE);
	model_network_clear(&n);
	lyd_free_all(in);
}

/* An auto network keeps the stored derived prefix; with state, the
 * effective prefix and the utilization are printed. */
static void test_network_state(void **state)
{
	struct netd_err e = { 0 };
	struct lyd_node *in = NULL, *out = NULL;
	struct model_network keep = { 0 }, n;

	assert_int_equal(parse("{\"netd:networks\":{\"network\":[{\"name\":\"v6\",\"ipv4\":{\"subnet\":\"10.2.0.0/24\","
			       "\"range\":[{\"name\":\"host\",\"first\":\"10.2.0.10\",\"last\":\"10.2.0.19\"}]},"
			       "\"ipv6\":{\"prefix\":\"auto\"}}]}}", &in, &e), 0);
	keep.v6_mode = MODEL_V6_AUTO;
	keep.v6_subnet_id = 7;
	assert_int_equal(prefix_parse("fd00:1:2:7::/64", true, &keep.v6_prefix), 0);
	assert_int_equal(ym_network_from_lyd(first_entry(in, "networks"), &keep, &n, &e), 0);
	assert_int_equal(n.v6_mode, MODEL_V6_AUTO);
	assert_int_equal(n.v6_subnet_id, 7);
	char pbuf[PREFIX_STRLEN];
	assert_string_equal(prefix_print(&n.v6_prefix, pbuf, sizeof pbuf), "fd00:1:2:7::/64");

	struct ipam_util u[2] = { { .family = ADDR_V4, .range = "host", .size = "10", .used = 2, .held = 1, .free = "7" },
				  { .family = ADDR_V6, .range = "", .size = "18446744073709551616", .used = 1,
				    .free = "18446744073709551615" } };
	assert_int_equal(addr_parse("10.2.0.10", &u[0].first), 0);
	assert_int_equal(addr_parse("10.2.0.19", &u[0].last), 0);
	struct ym_network_state st = { .util = u, .n_util = 2 };
	struct lyd_node *entry = NULL;
	assert_int_equal(ym_network_to_lyd(ctx, NULL, &n, &st, &entry), 0);
	out = lyd_parent(entry);
	char *s = print(out, 0);
	assert_string_equal(s,
		"{\"netd:networks\":{\"network\":[{\"name\":\"v6\",\"ipv4\":{\"subnet\":\"10.2.0.0/24\","
		"\"range\":[{\"name\":\"host\",\"first\":\"10.2.0.10\",\"last\":\"10.2.0.19\"}]},"
		"\"ipv6\":{\"prefix\":\"auto\"},\"utilization\":{\"range\":[{\"family\":\"ipv4\",\"name\":\"host\","
		"\"first\":\"10.2.0.10\",\"last\":\"10.2.0.19\",\"size\":\"10\",\"used\":\"2\",\"held\":\"1\",\"free\":\"7\"},"
		"{\"family\":\"ipv6\",\"name\":\"derived\",\"size\":\"18446744073709551616\",\"used\":\"1\",\"held\":\"0\","
		"\"free\":\"18446744073709551615\"}]},\"effective-ipv6-prefix\":\"fd00:1:2:7::/64\"}]}}");
	free(s);
	/* the printed tree, state included, validates */
	assert_int_equal(lyd_validate_all(&out, ctx, LYD_VALIDATE_PRESENT, NULL), LY_SUCCESS);
	model_network_clear(&n);
	lyd_free_all(in);
	lyd_free_all(out);
}

static void test_node_addresses(void **state)
{
	struct model_node n = { .name = "n1" };
	struct model_alloc a[3] = {
		{ .network = "admin", .owner_kind = OWNER_NODE, .owner = "n1", .range = "host", .state = ALLOC_ACTIVE },
		{ .network = "admin", .owner_kind = OWNER_NODE, .owner = "n1", .state = ALLOC_ACTIVE },
		{ .network = "old", .owner_kind = OWNER_NODE, .owner = "n1", .range = "host", .state = ALLOC_HELD },
	};
	assert_int_equal(addr_parse("10.0.0.7", &a[0].addr), 0);
	assert_int_equal(addr_parse("2001:db8:0:0::7", &a[1].addr), 0);
	assert_int_equal(addr_parse("10.9.0.7", &a[2].addr), 0);
	struct lyd_node *entry = NULL;
	assert_int_equal(ym_node_to_lyd(ctx, NULL, &n, a, 3, &entry), 0);
	char *s = print(lyd_parent(entry), 0);
	assert_string_equal(s, "{\"netd:nodes\":{\"node\":[{\"name\":\"n1\",\"address\":["
			       "{\"network\":\"admin\",\"family\":\"ipv4\",\"address\":\"10.0.0.7\"},"
			       "{\"network\":\"admin\",\"family\":\"ipv6\",\"address\":\"2001:db8::7\"}]}]}}");
	free(s);
	lyd_free_all(entry);
}

static void test_alloc(void **state)
{
	struct model_alloc act = { .network = "admin", .owner_kind = OWNER_VIP, .owner = "api", .range = "host",
				   .state = ALLOC_ACTIVE, .allocated_at = 1795608000 };
	struct model_alloc held = { .network = "admin", .owner_kind = OWNER_NODE, .owner = "n2",
				    .state = ALLOC_HELD, .allocated_at = 0, .released_at = 1795608000 };
	struct lyd_node *e1 = NULL, *e2 = NULL;

	assert_int_equal(addr_parse("10.0.0.5", &act.addr), 0);
	assert_int_equal(addr_parse("fd00::5", &held.addr), 0);
	assert_int_equal(ym_alloc_to_lyd(ctx, NULL, &act, 3600, &e1), 0);
	assert_int_equal(ym_alloc_to_lyd(ctx, lyd_parent(e1), &held, 3600, &e2), 0);
	char *s = print(lyd_parent(e1), 0);
	assert_string_equal(s, "{\"netd:allocations\":{\"allocation\":["
			       "{\"network\":\"admin\",\"address\":\"10.0.0.5\",\"family\":\"ipv4\",\"owner\":\"api\","
			       "\"owner-kind\":\"vip\",\"range\":\"host\",\"state\":\"active\","
			       "\"allocated-at\":\"2026-11-25T12:00:00+00:00\"},"
			       "{\"network\":\"admin\",\"address\":\"fd00::5\",\"family\":\"ipv6\",\"owner\":\"n2\","
			       "\"owner-kind\":\"node\",\"state\":\"held\",\"allocated-at\":\"1970-01-01T00:00:00+00:00\","
			       "\"released-at\":\"2026-11-25T12:00:00+00:00\",\"hold-until\":\"2026-11-25T13:00:00+00:00\"}]}}");
	free(s);
	lyd_free_all(e1);
}

static void test_time_print(void **state)
{
	char buf[32];

	assert_string_equal(ym_time_print(0, buf, sizeof buf), "1970-01-01T00:00:00Z");
	assert_string_equal(ym_time_print(1795608000, buf, sizeof buf), "2026-11-25T12:00:00Z");
	assert_string_equal(ym_time_print(1795608000, buf, 5), "");
}

/* ------------------------------------------------------------------ */
/* bad inputs */

struct bad {
	const char *name, *json, *path, *msg;
};

#define NET(x) "{\"netd:networks\":{\"network\":[{\"name\":\"a\"," x "}]}}"
#define NODE(x) "{\"netd:nodes\":{\"node\":[{\"name\":\"n1\"," x "}]}}"

static const struct bad bads[] = {
	{ "vlan 4095", NET("\"vlan\":4095"), "/netd:networks/network[name='a']/vlan", "out of the allowed range" },
	{ "vlan 0", NET("\"vlan\":0"), "/netd:networks/network[name='a']/vlan", "out of the allowed range" },
	{ "bad name", "{\"netd:networks\":{\"network\":[{\"name\":\"-a\"}]}}", "/netd:networks/network/name",
	  "does not conform" },
	{ "use-vlan without vlan", NET("\"use-vlan\":true"), "/netd:networks/network[name='a']/use-vlan",
	  "use-vlan needs a vlan" },
	{ "subnet host bits", NET("\"ipv4\":{\"subnet\":\"10.0.0.5/24\"}"), "/netd:networks/network[name='a']/ipv4/subnet",
	  "host bits set: did you mean 10.0.0.0/24?" },
	{ "v6 prefix host bits", NET("\"ipv6\":{\"prefix\":\"2001:db8::1/64\"}"),
	  "/netd:networks/network[name='a']/ipv6/prefix", "Invalid union value" },
	{ "subnet missing", NET("\"ipv4\":{}"), "/netd:networks/network/ipv4/subnet", "Mandatory node" },
	{ "bad MAC", NODE("\"admin-mac\":\"aa:bb:cc:dd:ee:zz\""), "/netd:nodes/node[name='n1']/admin-mac",
	  "does not conform" },
	{ "unknown leaf", NET("\"colour\":\"red\""), "/netd:networks/network[name='a']", "\"colour\" not found" },
	{ "mtu too small", NET("\"mtu\":67"), "/netd:networks/network[name='a']/mtu", "out of the allowed range" },
	{ "bad team mode", NET("\"team-mode\":\"lacp\""), "/netd:networks/network[name='a']/team-mode", "Invalid enumeration" },
	{ "v6 address in v4 range",
	  NET("\"ipv4\":{\"subnet\":\"10.0.0.0/24\",\"range\":[{\"name\":\"host\",\"first\":\"::1\",\"last\":\"10.0.0.9\"}]}"),
	  "/netd:networks/network[name='a']/ipv4/range[name='host']/first", "not an ipv4 address" },
	{ "range backwards",
	  NET("\"ipv4\":{\"subnet\":\"10.0.0.0/24\",\"range\":[{\"name\":\"host\",\"first\":\"10.0.0.9\",\"last\":\"10.0.0.1\"}]}"),
	  "/netd:networks/network[name='a']/ipv4/range[name='host']/last", "last is below first" },
	{ "v4 hint that is v6", NODE("\"network\":[{\"name\":\"x\",\"ipv4-hint\":\"::1\"}]"),
	  "/netd:nodes/node[name='n1']/network[name='x']/ipv4-hint", "does not conform" },
	{ "not JSON", "garbage", "", "Invalid character sequence" },
	{ "truncated JSON", "{\"netd:networks\":{", "", "expected a JSON object's member" },
};

static void test_bad(void **state)
{
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		const struct bad *b = &bads[i];
		struct netd_err e = { 0 };
		struct lyd_node *in = NULL, *out = NULL;
		int r = parse(b->json, &in, &e);

		if (r == 0)
			r = convert(in, &out, &e);
		if (r == 0)
			fail_msg("%s: accepted", b->name);
		if (r != NETD_EINVAL || strcmp(e.path, b->path) != 0 || !strstr(e.msg, b->msg))
			fail_msg("%s: got %d path [%s] msg [%s]; want path [%s] msg containing [%s]", b->name, r, e.path,
				 e.msg, b->path, b->msg);
		lyd_free_all(in);
	}
}

/* A tree built with a canonical-format prefix bypasses libyang's parsing;
 * yangmap still refuses host bits. */
static void test_host_bits_in_tree(void **state)
{
	struct lyd_node *top = NULL, *entry = NULL;
	struct netd_err e = { 0 };
	struct model_network n;

	assert_int_equal(lyd_new_path(NULL, ctx, "/netd:networks/network[name='h']/ipv4/subnet", "10.0.0.5/24",
				      LYD_NEW_PATH_CANON_VALUE, &top), LY_SUCCESS);
	assert_int_equal(lyd_find_path(top, "network[name='h']", 0, &entry), LY_SUCCESS);
	assert_int_equal(ym_network_from_lyd(entry, NULL, &n, &e), NETD_EINVAL);
	assert_string_equal(e.path, "/netd:networks/network[name='h']/ipv4/subnet");
	assert_string_equal(e.msg, "host bits set: did you mean 10.0.0.0/24?");
	lyd_free_all(top);
}

/* Records that YANG refuses are refused, and nothing leaks. */
static void test_to_lyd_refuses(void **state)
{
	struct model_network n = { .name = "bad name" };
	struct model_network v = { .name = "ok", .vlan = 5000 };
	struct model_node nd = { .name = "n_1" };
	struct lyd_node *top = NULL, *entry = (struct lyd_node *)&n;

	assert_int_equal(ym_network_to_lyd(ctx, NULL, &n, NULL, &entry), NETD_EINVAL);
	assert_ptr_equal(entry, (struct lyd_node *)&n); /* untouched */
	assert_int_equal(ym_node_to_lyd(ctx, NULL, &nd, NULL, 0, &entry), NETD_EINVAL);
	/* into an existing container: the failed entry is removed again */
	assert_int_equal(lyd_new_path(NULL, ctx, "/netd:networks/network[name='keep']", NULL, 0, &top), LY_SUCCESS);
	assert_int_equal(ym_network_to_lyd(ctx, top, &v, NULL, &entry), NETD_EINVAL);
	char *s = print(top, 0);
	assert_string_equal(s, "{\"netd:networks\":{\"network\":[{\"name\":\"keep\"}]}}");
	free(s);
	lyd_free_all(top);
}

static void test_yanglib(void **state)
{
	struct lyd_node *yl = NULL;
	char *s = NULL;

	assert_int_equal(ly_ctx_get_yanglib_data(ctx, &yl, "%u", ly_ctx_get_change_count(ctx)), LY_SUCCESS);
	assert_int_equal(lyd_print_mem(&s, yl, LYD_JSON, LYD_PRINT_SHRINK | LYD_PRINT_WITHSIBLINGS), LY_SUCCESS);
	assert_non_null(strstr(s, "\"ietf-yang-library:yang-library\""));
	assert_non_null(strstr(s, "\"name\":\"netd\",\"revision\":\"2026-11-26\""));
	assert_non_null(strstr(s, "\"name\":\"netd-server\""));
	free(s);
	lyd_free_all(yl);
}

/* The guard against RFC 7952 annotations in client JSON (yangctx.h). */
static void test_json_metadata(void **state)
{
	static const struct {
		const char *json;
		bool has;
	} cases[] = {
		{ "{\"@netd:network\":{},\"netd:network\":[]}", true },
		{ "{\"netd:networks\":{\"@network\":{}}}", true },
		{ "{ \"a\" : [ { \"@b\"\t:\n1 } ] }", true },
		{ "{\"netd:network\":[{\"name\":\"a@b\"}]}", false },          /* '@' in a value */
		{ "{\"netd:network\":[{\"name\":\"@x\"}]}", false },           /* a value starting with '@' */
		{ "{\"k\":[\"@x\", \"@y\"]}", false },                          /* array items */
		{ "{\"k\":\"say \\\"@x\\\": no\"}", false },               /* escaped quotes in a value */
		{ "{\"k\\\"@x\":1}", false },                                   /* '@' inside a name, not first */
		{ "", false },
		{ "{\"@", false },                                                  /* cut short */
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (yc_json_has_metadata(cases[i].json) != cases[i].has)
			fail_msg("case %zu: %s", i, cases[i].json);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_metadata),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_defaults_read),
		cmocka_unit_test(test_network_state),
		cmocka_unit_test(test_node_addresses),
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_time_print),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_host_bits_in_tree),
		cmocka_unit_test(test_to_lyd_refuses),
		cmocka_unit_test(test_yanglib),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
