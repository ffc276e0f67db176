/* Fuzz target for conduits/ interface references.
 *
 * The input (up to its first NUL) is:
 *  - parsed whole as one reference: the parser must never crash; a rejected
 *    text leaves the output untouched and gives NETD_EINVAL with a message;
 *    an accepted one prints within CDT_REF_STRLEN, parses back to the same
 *    value, and printing is a fixed point;
 *  - split on spaces and commas into up to CDT_TEAM_MAX references which,
 *    when all parse, are resolved against a fixed inventory (with and
 *    without a bus-order override) and built into a conduit rule that is
 *    checked and compared with another conduit: every pick is a distinct NIC
 *    of the inventory with an explanation that starts with its reference.
 * Any violated property abort()s, which both libFuzzer and the replay build
 * report as a failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conduits/conduits.h"

#define TEXT_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                     \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz_ifref: %s:%d: %s\n", __FILE__, __LINE__,  \
				#cond);                                                      \
			abort();                                                         \
		}                                                                    \
	} while (0)

#define N(nm, cls, bus, m) \
	{ .name = nm, .speed_class = cls, .pci = bus, .has_perm_mac = true, .perm_mac = { 0x52, 0x54, 0, 0, 0, m } }

static const struct cdt_nic inventory[] = {
	N("eth1", 1000, "0000:02:00.1", 2),   N("eth0", 1000, "0000:02:00.0", 1),
	N("eth2", 10000, "0000:03:00.0", 3),  N("eth3", 10000, "0000:03:00.1", 4),
	N("p1", 25000, "0000:81:00.0", 5),    N("m1", 100, "0000:00:19.0", 6),
	N("ib0", 56000, "0000:04:00.0", 7),   N("veth0", 0, "", 8),
	N("e2.5", 2500, "0000:05:00.0", 9),
};
#define N_INV (sizeof inventory / sizeof inventory[0])

static const char *const prefixes[] = { "0000:81:", "0000:03:00.1" };
static const struct cdt_bus_order bus_order = { "Box", prefixes, 2 };

static void check_one(const char *text)
{
	struct cdt_ref r, back;
	struct netd_err e = { 0 };
	char t1[CDT_REF_STRLEN + 8], t2[CDT_REF_STRLEN + 8];

	memset(&r, 0x77, sizeof r);
	back = r;
	if (cdt_ref_parse(text, &r, &e) != 0) {
		CHECK(e.code == NETD_EINVAL && e.msg[0] != '\0');
		CHECK(memcmp(&r, &back, sizeof r) == 0);
		return;
	}
	CHECK(e.code == 0);
	cdt_ref_print(&r, t1, sizeof t1);
	CHECK(strlen(t1) < CDT_REF_STRLEN);
	CHECK(cdt_ref_parse(t1, &back, &e) == 0);
	CHECK(cdt_ref_equal(&r, &back));
	cdt_ref_print(&back, t2, sizeof t2);
	CHECK(strcmp(t1, t2) == 0);
}

static void check_resolution(const struct cdt_ref *refs, size_t n, const struct cdt_bus_order *bo)
{
	struct cdt_resolution res;
	struct netd_err e = { 0 };
	int rc = cdt_resolve("intf0", inventory, N_INV, refs, n, bo, &res, &e);

	if (rc != 0) {
		CHECK(rc == NETD_ENOTFOUND && e.code == rc && e.msg[0]);
		return;
	}
	CHECK(res.n == n);
	for (size_t i = 0; i < n; i++) {
		char t[CDT_REF_STRLEN];
		size_t tl = strlen(cdt_ref_print(&refs[i], t, sizeof t));
		CHECK(res.picks[i].nic < N_INV);
		CHECK(res.picks[i].how >= CDT_PICK_ASKED && res.picks[i].how <= CDT_PICK_UNKNOWN);
		CHECK(!strncmp(res.picks[i].why, t, tl) && res.picks[i].why[tl] == ':');
		for (size_t j = 0; j < i; j++)
			CHECK(res.picks[i].nic != res.picks[j].nic);
	}
	CHECK(cdt_resolutions_disjoint_check(&res, 1, inventory, N_INV, NULL) == 0);
}

static void check_rule(const char *const *texts, size_t n)
{
	const struct cdt_rule_spec spec = { CDT_MODE_TEAM, 0, "", texts, n, n > 1, 4 };
	const struct cdt_rule_spec other_spec = { CDT_MODE_ANY, 0, "", (const char *const[]){ "+1g1", "+1g2" }, 2,
						  true, 4 };
	struct cdt_conduit c, other;
	const struct cdt_rule *r;
	struct netd_err e = { 0 };

	CHECK(cdt_conduit_build("intf0", &spec, 1, &c, &e) == 0);
	CHECK(cdt_conduit_build("intf1", &other_spec, 1, &other, &e) == 0);
	(void)cdt_conduit_check(&c, NULL);
	const struct cdt_conduit *const cs[] = { &c, &other };
	(void)cdt_conduits_disjoint_check(cs, 2, NULL);
	CHECK(cdt_conduit_pick(&c, CDT_MODE_TEAM, 3, NULL, 0, &r, NULL) == 0 && r == &c.rules[0]);
	cdt_conduit_clear(&c);
	cdt_conduit_clear(&other);
}

static void check_list(char *text)
{
	const char *texts[CDT_TEAM_MAX];
	struct cdt_ref refs[CDT_TEAM_MAX];
	size_t n = 0;

	for (char *save = NULL, *tok = strtok_r(text, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
		if (n == CDT_TEAM_MAX || cdt_ref_parse(tok, &refs[n], NULL) != 0)
			return;
		texts[n++] = tok;
	}
	if (n == 0)
		return;
	check_resolution(refs, n, NULL);
	check_resolution(refs, n, &bus_order);
	check_rule(texts, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TEXT_MAX + 1];
	size_t n = size < TEXT_MAX ? size : TEXT_MAX;

	memcpy(text, data, n);
	text[n] = '\0';
	check_one(text);
	check_list(text);
	return 0;
}
