/* conduits/rule.c — conduit rules: build, pick for a node, validation.
 *
 * A rule's role regex is compiled once, at build time, anchored as
 * "^(regex)$" so that it must match a whole role name ("compute" does not
 * match "nova-compute-agent"; write ".*compute.*" for that).
 */
#include "conduits/cdt_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"

#define ROLES_MSG_MAX 160
#define REFS_MSG_MAX 176
#define PATTERN_MAX (CDT_REGEX_MAX + 24)

static const char *const mode_names[] = {
	[CDT_MODE_ANY] = "*",
	[CDT_MODE_SINGLE] = "single",
	[CDT_MODE_DUAL] = "dual",
	[CDT_MODE_TEAM] = "team",
};
#define N_MODES (sizeof mode_names / sizeof mode_names[0])

int cdt_mode_parse(const char *text, uint8_t *out)
{
	for (size_t i = 0; text && i < N_MODES; i++) {
		if (!strcmp(text, mode_names[i])) {
			*out = (uint8_t)i;
			return 0;
		}
	}
	return NETD_EINVAL;
}

const char *cdt_mode_name(uint8_t mode)
{
	return mode < N_MODES ? mode_names[mode] : "?";
}

static const char *rule_path(const char *conduit, size_t i, char *buf, size_t len)
{
	char cp[NETD_ERR_PATH_MAX];

	snprintf(buf, len, "%s/rule[%zu]", cdt_conduit_path(conduit, cp, sizeof cp), i + 1);
	return buf;
}

const char *cdt_rule_pattern(const struct cdt_rule *r, char *buf, size_t len)
{
	char count[16] = "*";

	if (r->nic_count)
		snprintf(count, sizeof count, "%u", (unsigned)r->nic_count);
	snprintf(buf, len, "%s/%s/%s", cdt_mode_name(r->mode), count, r->roles[0] ? r->roles : ".*");
	return buf;
}

/* "+1g1 +1g2" */
static const char *refs_text(const struct cdt_rule *r, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->n_refs && o < len; i++) {
		char t[CDT_REF_STRLEN];
		int w = snprintf(buf + o, len - o, "%s%s", i ? " " : "", cdt_ref_print(&r->refs[i], t, sizeof t));
		if (w < 0)
			break;
		o += (size_t)w;
	}
	return buf;
}

/* ---- build ---- */

static void rule_clear(struct cdt_rule *r)
{
	if (r->has_re)
		regfree(&r->re);
	free(r->refs);
	memset(r, 0, sizeof *r);
}

void cdt_conduit_clear(struct cdt_conduit *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_rules; i++)
		rule_clear(&c->rules[i]);
	free(c->rules);
	memset(c, 0, sizeof *c);
}

static int compile_roles(const char *roles, regex_t *re, const char *path, struct netd_err *e)
{
	char why[128], q[CDT_QUOTE_MAX];
	int rc = cdt_regcomp_whole(re, roles, why, sizeof why);

	if (rc == NETD_EINVAL)
		return netd_err_set(e, rc, path, "role regex \"%s\": %s", cdt_quote(roles, q, sizeof q), why);
	return rc;
}

static int build_refs(const char *conduit, size_t idx, const struct cdt_rule_spec *s, struct cdt_rule *r,
		      struct netd_err *e)
{
	char rp[NETD_ERR_PATH_MAX], key[CDT_REF_TEXT_MAX + 16], path[sizeof rp + sizeof key + 16];

	rule_path(conduit, idx, rp, sizeof rp);
	if (s->n_refs > CDT_RULE_REFS_MAX)
		return netd_err_set(e, NETD_ETOOBIG, rp, "%zu interface references, at most %d", s->n_refs,
				    CDT_RULE_REFS_MAX);
	r->refs = calloc(s->n_refs ? s->n_refs : 1, sizeof *r->refs);
	if (!r->refs)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_refs; i++) {
		struct netd_err le = { 0 };
		int rc = cdt_ref_parse(s->refs[i], &r->refs[i], &le);

		if (rc < 0) {
			snprintf(path, sizeof path, "%s/if-list[.=%s]", rp,
				 netd_path_key(s->refs[i], key, sizeof key));
			return netd_err_set(e, rc, path, "%s", le.msg);
		}
	}
	r->n_refs = s->n_refs;
	return 0;
}

static int build_rule(const char *conduit, size_t idx, const struct cdt_rule_spec *s, struct cdt_rule *r,
		      struct netd_err *e)
{
	char rp[NETD_ERR_PATH_MAX];
	const char *roles = s->roles ? s->roles : "";
	int rc;

	rule_path(conduit, idx, rp, sizeof rp);
	if (s->mode >= N_MODES)
		return netd_err_set(e, NETD_EINVAL, rp, "mode %u is not single, dual, team or any",
				    (unsigned)s->mode);
	if (strlen(roles) >= CDT_REGEX_MAX)
		return netd_err_set(e, NETD_EINVAL, rp, "role regex longer than %d bytes", CDT_REGEX_MAX - 1);
	r->mode = s->mode;
	r->nic_count = s->nic_count;
	r->team = s->team;
	r->team_mode = s->team_mode;
	memcpy(r->roles, roles, strlen(roles) + 1);
	if (roles[0]) {
		rc = compile_roles(roles, &r->re, rp, e);
		if (rc < 0)
			return rc;
		r->has_re = true;
	}
	return build_refs(conduit, idx, s, r, e);
}

static int check_name(const char *name, struct netd_err *e)
{
	size_t l = name ? strlen(name) : 0;
	char q[CDT_QUOTE_MAX];

	if (l == 0 || l >= CDT_NAME_MAX)
		return netd_err_set(e, NETD_EINVAL, CDT_PATH_ROOT "/conduit/name",
				    "conduit name \"%s\": must be 1..%d characters", cdt_quote(name, q, sizeof q),
				    CDT_NAME_MAX - 1);
	for (size_t i = 0; i < l; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f)
			return netd_err_set(e, NETD_EINVAL, CDT_PATH_ROOT "/conduit/name",
					    "conduit name \"%s\": holds a control character",
					    cdt_quote(name, q, sizeof q));
	}
	return 0;
}

int cdt_conduit_build(const char *name, const struct cdt_rule_spec *specs, size_t n_specs,
		      struct cdt_conduit *out, struct netd_err *e)
{
	struct cdt_conduit c;
	char path[NETD_ERR_PATH_MAX];
	int rc;

	memset(&c, 0, sizeof c);
	rc = check_name(name, e);
	if (rc < 0)
		return rc;
	if (n_specs > CDT_RULES_MAX)
		return netd_err_set(e, NETD_ETOOBIG, cdt_conduit_path(name, path, sizeof path),
				    "%zu rules, at most %d", n_specs, CDT_RULES_MAX);
	memcpy(c.name, name, strlen(name) + 1);
	c.rules = calloc(n_specs ? n_specs : 1, sizeof *c.rules);
	if (!c.rules)
		return -ENOMEM;
	for (size_t i = 0; i < n_specs; i++) {
		c.n_rules = i + 1;  /* so that cleanup frees a half-built rule */
		rc = build_rule(name, i, &specs[i], &c.rules[i], e);
		if (rc < 0)
			goto cleanup;
	}
	c.n_rules = n_specs;
	*out = c;
	return 0;
cleanup:
	cdt_conduit_clear(&c);
	return rc;
}

/* ---- pick ---- */

static bool roles_match(const struct cdt_rule *r, const char *const *roles, size_t nroles)
{
	if (!r->has_re)
		return true;
	for (size_t i = 0; i < nroles; i++)
		if (roles[i] && regexec(&r->re, roles[i], 0, NULL, 0) == 0)
			return true;
	return false;
}

static bool rule_matches(const struct cdt_rule *r, uint8_t mode, uint32_t nic_count, const char *const *roles,
			 size_t nroles)
{
	return (r->mode == CDT_MODE_ANY || r->mode == mode) && (r->nic_count == 0 || r->nic_count == nic_count) &&
	       roles_match(r, roles, nroles);
}

static const char *roles_text(const char *const *roles, size_t nroles, char *buf, size_t len)
{
	size_t o = 0;

	snprintf(buf, len, "none");
	for (size_t i = 0; i < nroles && o < len; i++) {
		char q[CDT_QUOTE_MAX];
		int w = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", cdt_quote(roles[i], q, sizeof q));
		if (w < 0)
			break;
		o += (size_t)w;
	}
	return buf;
}

int cdt_conduit_pick(const struct cdt_conduit *c, uint8_t mode, uint32_t nic_count, const char *const *roles,
		     size_t nroles, const struct cdt_rule **rule, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX], rt[ROLES_MSG_MAX], q[CDT_QUOTE_MAX];

	if (mode == CDT_MODE_ANY || mode >= N_MODES)
		return netd_err_set(e, NETD_EINVAL, cdt_conduit_path(c->name, path, sizeof path),
				    "conduit %s: network mode %u is not single, dual or team",
				    cdt_quote(c->name, q, sizeof q), (unsigned)mode);
	for (size_t i = 0; i < c->n_rules; i++) {
		if (rule_matches(&c->rules[i], mode, nic_count, roles, nroles)) {
			*rule = &c->rules[i];
			return 0;
		}
	}
	return netd_err_set(e, NETD_ENOTFOUND, cdt_conduit_path(c->name, path, sizeof path),
			    "conduit %s: no rule matches mode %s, %u NICs, roles %s", cdt_quote(c->name, q, sizeof q),
			    cdt_mode_name(mode), (unsigned)nic_count, roles_text(roles, nroles, rt, sizeof rt));
}

/* ---- validation ---- */

#define N_TEAM_MODES (TEAM_BALANCE_ALB + 1)  /* enum model_team_mode: 0..6 */

static int rule_err(const struct cdt_conduit *c, size_t i, struct netd_err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int rule_err(const struct cdt_conduit *c, size_t i, struct netd_err *e, const char *fmt, ...)
{
	char path[NETD_ERR_PATH_MAX], pat[PATTERN_MAX], q[CDT_QUOTE_MAX], reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	return netd_err_set(e, NETD_EINVAL, rule_path(c->name, i, path, sizeof path), "conduit %s rule %zu (%s): %s",
			    cdt_quote(c->name, q, sizeof q), i + 1, cdt_rule_pattern(&c->rules[i], pat, sizeof pat),
			    reason);
}

static int check_counts(const struct cdt_conduit *c, size_t i, struct netd_err *e)
{
	const struct cdt_rule *r = &c->rules[i];

	if (r->mode >= N_MODES)
		return rule_err(c, i, e, "mode %u is not single, dual, team or any", (unsigned)r->mode);
	if (r->n_refs == 0)
		return rule_err(c, i, e, "no interface references");
	if (!r->team && r->n_refs != 1)
		return rule_err(c, i, e,
				"a non-team rule has exactly 1 interface reference, this one %zu "
				"(make it a team to bond them)",
				r->n_refs);
	if (r->team && (r->n_refs < CDT_TEAM_MIN || r->n_refs > CDT_TEAM_MAX))
		return rule_err(c, i, e, "a team has %d..%d members, this one %zu", CDT_TEAM_MIN, CDT_TEAM_MAX,
				r->n_refs);
	if (r->team && r->team_mode >= N_TEAM_MODES)
		return rule_err(c, i, e,
				"team mode %u is not valid (0 balance-rr, 1 active-backup, 2 balance-xor, "
				"3 broadcast, 4 802.3ad, 5 balance-tlb, 6 balance-alb)",
				(unsigned)r->team_mode);
	return 0;
}

static int check_members(const struct cdt_conduit *c, size_t i, struct netd_err *e)
{
	const struct cdt_rule *r = &c->rules[i];
	const struct cdt_ref *speed = NULL;
	char a[CDT_REF_STRLEN], b[CDT_REF_STRLEN];

	for (size_t k = 0; k < r->n_refs; k++) {
		for (size_t l = 0; l < k; l++)
			if (cdt_ref_equal(&r->refs[k], &r->refs[l]))
				return rule_err(c, i, e, "reference %s appears twice",
						cdt_ref_print(&r->refs[k], a, sizeof a));
		if (r->refs[k].kind == CDT_REF_SPEED && !speed)
			speed = &r->refs[k];
	}
	if (!r->team || !speed)
		return 0;
	for (size_t k = 0; k < r->n_refs; k++) {
		const struct cdt_ref *m = &r->refs[k];
		if (m->kind != CDT_REF_SPEED || m->sign != speed->sign || m->speed != speed->speed)
			return rule_err(c, i, e, "team members %s and %s differ: members of a team share sign and speed",
					cdt_ref_print(speed, a, sizeof a), cdt_ref_print(m, b, sizeof b));
	}
	return 0;
}

/* Does @a match every node @b matches? */
static bool covers(const struct cdt_rule *a, const struct cdt_rule *b)
{
	return (a->mode == CDT_MODE_ANY || a->mode == b->mode) && (a->nic_count == 0 || a->nic_count == b->nic_count) &&
	       (!a->roles[0] || !strcmp(a->roles, b->roles));
}

static int check_shadow(const struct cdt_conduit *c, size_t i, struct netd_err *e)
{
	for (size_t j = 0; j < i; j++) {
		if (covers(&c->rules[j], &c->rules[i])) {
			char pat[PATTERN_MAX];
			return rule_err(c, i, e, "never applies: rule %zu (%s) comes first and matches every node it would",
					j + 1, cdt_rule_pattern(&c->rules[j], pat, sizeof pat));
		}
	}
	return 0;
}

int cdt_conduit_check(const struct cdt_conduit *c, struct netd_err *e)
{
	char path[NETD_ERR_PATH_MAX], q[CDT_QUOTE_MAX];
	int rc = check_name(c->name, e);

	if (rc < 0)
		return rc;
	if (c->n_rules == 0)
		return netd_err_set(e, NETD_EINVAL, cdt_conduit_path(c->name, path, sizeof path),
				    "conduit %s has no rules", cdt_quote(c->name, q, sizeof q));
	for (size_t i = 0; i < c->n_rules; i++) {
		if ((rc = check_counts(c, i, e)) < 0 || (rc = check_members(c, i, e)) < 0 ||
		    (rc = check_shadow(c, i, e)) < 0)
			return rc;
	}
	return 0;
}

/* ---- disjointness across conduits ---- */

static bool rule_has(const struct cdt_rule *r, const struct cdt_ref *x)
{
	for (size_t i = 0; i < r->n_refs; i++)
		if (cdt_ref_equal(&r->refs[i], x))
			return true;
	return false;
}

/* First reference of @a also in @b, or NULL; *@equal when both hold the
 * same set. */
static const struct cdt_ref *common_ref(const struct cdt_rule *a, const struct cdt_rule *b, bool *equal)
{
	const struct cdt_ref *first = NULL;
	bool a_in_b = true, b_in_a = true;

	for (size_t i = 0; i < a->n_refs; i++) {
		if (rule_has(b, &a->refs[i]))
			first = first ? first : &a->refs[i];
		else
			a_in_b = false;
	}
	for (size_t i = 0; i < b->n_refs; i++)
		b_in_a = b_in_a && rule_has(a, &b->refs[i]);
	*equal = a_in_b && b_in_a;
	return first;
}

/* A node profile: mode and NIC count; count 0 stands for "a count no rule
 * names". */
struct profile {
	uint8_t mode;
	uint32_t count;
};

static bool profile_matches(const struct cdt_rule *r, const struct profile *p)
{
	return (r->mode == CDT_MODE_ANY || r->mode == p->mode) &&
	       (p->count ? (r->nic_count == 0 || r->nic_count == p->count) : r->nic_count == 0);
}

/* Is rule @k of @c reachable for @p: it matches @p and no earlier rule
 * matches @p whatever the roles. */
static bool reachable(const struct cdt_conduit *c, size_t k, const struct profile *p)
{
	if (!profile_matches(&c->rules[k], p))
		return false;
	for (size_t j = 0; j < k; j++)
		if (!c->rules[j].roles[0] && profile_matches(&c->rules[j], p))
			return false;
	return true;
}

struct pair_ctx {
	const struct cdt_conduit *a, *b;
	size_t ia, ib;
	const struct profile *p;
};

static int pair_err(const struct pair_ctx *x, const char *what, const struct cdt_ref *shared, struct netd_err *e)
{
	const struct cdt_rule *ra = &x->a->rules[x->ia], *rb = &x->b->rules[x->ib];
	char path[NETD_ERR_PATH_MAX], qa[CDT_QUOTE_MAX], qb[CDT_QUOTE_MAX], pa[PATTERN_MAX], pb[PATTERN_MAX];
	char la[REFS_MSG_MAX], lb[REFS_MSG_MAX], st[CDT_REF_STRLEN], cnt[24] = "any number of";

	if (x->p->count)
		snprintf(cnt, sizeof cnt, "%u", (unsigned)x->p->count);
	return netd_err_set(e, NETD_EINVAL, rule_path(x->b->name, x->ib, path, sizeof path),
			    "conduits %s and %s %s %s: %s rule %zu (%.64s) has %s, %s rule %zu (%.64s) has %s; "
			    "a node in mode %s with %s NICs can pick both",
			    cdt_quote(x->a->name, qa, sizeof qa), cdt_quote(x->b->name, qb, sizeof qb), what,
			    cdt_ref_print(shared, st, sizeof st), qa, x->ia + 1, cdt_rule_pattern(ra, pa, sizeof pa),
			    refs_text(ra, la, sizeof la), qb, x->ib + 1, cdt_rule_pattern(rb, pb, sizeof pb),
			    refs_text(rb, lb, sizeof lb), cdt_mode_name(x->p->mode), cnt);
}

static int check_pair_rules(const struct pair_ctx *x, struct netd_err *e)
{
	const struct cdt_rule *ra = &x->a->rules[x->ia], *rb = &x->b->rules[x->ib];
	bool equal;
	const struct cdt_ref *shared = common_ref(ra, rb, &equal);

	if (!shared)
		return 0;
	if (!equal)
		return pair_err(x, "share", shared, e);
	if (ra->team != rb->team || (ra->team && ra->team_mode != rb->team_mode))
		return pair_err(x, "bond the same NICs differently (team, team mode) at", shared, e);
	return 0;
}

static int check_pair_profile(const struct cdt_conduit *a, const struct cdt_conduit *b, const struct profile *p,
			      struct netd_err *e)
{
	for (size_t i = 0; i < a->n_rules; i++) {
		if (!reachable(a, i, p))
			continue;
		for (size_t j = 0; j < b->n_rules; j++) {
			struct pair_ctx x = { a, b, i, j, p };
			int rc;
			if (!reachable(b, j, p))
				continue;
			if ((rc = check_pair_rules(&x, e)) < 0)
				return rc;
		}
	}
	return 0;
}

static bool count_listed(const struct cdt_conduit *a, const struct cdt_conduit *b, size_t upto_a, size_t upto_b,
			 uint32_t cnt)
{
	for (size_t i = 0; i < upto_a; i++)
		if (a->rules[i].nic_count == cnt)
			return true;
	for (size_t i = 0; i < upto_b; i++)
		if (b->rules[i].nic_count == cnt)
			return true;
	return false;
}

/* Every profile that can tell rules of @a and @b apart: each mode with each
 * NIC count named by a rule, and with a count no rule names. */
static int check_pair(const struct cdt_conduit *a, const struct cdt_conduit *b, struct netd_err *e)
{
	for (uint8_t m = CDT_MODE_SINGLE; m <= CDT_MODE_TEAM; m++) {
		struct profile p = { m, 0 };
		int rc = check_pair_profile(a, b, &p, e);

		if (rc < 0)
			return rc;
		for (size_t k = 0; k < a->n_rules + b->n_rules; k++) {
			bool in_a = k < a->n_rules;
			uint32_t cnt = in_a ? a->rules[k].nic_count : b->rules[k - a->n_rules].nic_count;

			if (cnt == 0 || count_listed(a, b, in_a ? k : a->n_rules, in_a ? 0 : k - a->n_rules, cnt))
				continue;  /* "any" or already tried */
			p.count = cnt;
			if ((rc = check_pair_profile(a, b, &p, e)) < 0)
				return rc;
		}
	}
	return 0;
}

int cdt_conduits_disjoint_check(const struct cdt_conduit *const *cs, size_t n, struct netd_err *e)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			int rc;
			if (!strcmp(cs[i]->name, cs[j]->name))
				continue;
			if ((rc = check_pair(cs[i], cs[j], e)) < 0)
				return rc;
		}
	}
	return 0;
}
