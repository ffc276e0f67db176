/* netd/anneal.c — the annealer as a netd service (see anneal.h).
 *
 * Overview.  The scheduling core (annealer/annealer.h, struct ann) lives in
 * memory on the loop thread; the store is the truth it is rebuilt from.
 *
 *   configuration   the roles and deployments documents (decisions.md D23)
 *                   are parsed into a struct spec; the node-roles of a
 *                   deployment are every listed node x every listed role
 *                   (plus the implicit ones binding creates).
 *   state           ann_nr / ann_dep / ann_event / ann_req tables (below).
 *   hooks           doc checks and RPCs run in the writer's transaction
 *                   (which is the loop thread); they only read and write
 *                   the store.  anneal_committed() only notes what
 *                   changed and wakes the turn.
 *   the turn        one callback per loop turn (a loop_wake, coalesced):
 *                   apply document changes (additions incrementally,
 *                   anything else by a rebuild once no jig runs), apply
 *                   durable requests (commit, retry), re-check the inputs
 *                   of touched nodes, start what is runnable, arm the
 *                   backoff timer, and persist every changed node-role and
 *                   every event in ONE store_update — so a burst of
 *                   transitions costs one fsync, not one per transition.
 *   jigs            noop and exec (annealer/jig.h; exec gets role/script,
 *                   role/timeout and each attribute as NETD_ATTR_<NAME>,
 *                   upper-cased, other characters as '_'), and here:
 *                   ipam  allocates what the node's attachments lack (a
 *                         store_update on the loop thread, which is the
 *                         writer's, between two batches; DNS derives the
 *                         new addresses' records in the same transaction)
 *                         and logs every address;
 *                   dns   polls dnsd_node_status() every 500 ms: success when
 *                         every record is verified (or none is intended),
 *                         failure on one in error or conflict, or at the
 *                         role's timeout.
 *                   A jig's end comes back through on_done() ->
 *                   ann_complete() -> the next turn.
 *
 * Tables (STORE_SCHEMA_VERSION 1; records are tag + version byte, then
 * big-endian fields, strings as u16 length + bytes, see core/codec.h):
 *   "ann_nr"    deployment NUL node NUL role -> 'N' 1: state u8, run-count
 *               u32, attempts u32, cohort u32, changed-at u64 (unix ms),
 *               input hash u64, has-hash u8, summary str, parents u16 +
 *               str each ("role@node"), log u32 length + bytes (<= 64 KiB)
 *   "ann_dep"   deployment -> 'D' 1: committed u8 (written by commit-deployment)
 *   "ann_event" seq (8 bytes BE) -> 'E' 1: at u64 (unix ms), deployment,
 *               node, role str, from u8, to u8, cause str
 *   "ann_req"   seq (8 bytes BE) -> 'R' 1: kind u8 (1 commit, 2 retry),
 *               deployment, node, role str ("" = any)
 *   "meta"      "anneal/event-seq" (u64 BE, last event written),
 *               "anneal/req-seq" (u64 BE, last request written),
 *               "anneal/counts" ('C' 1, node-roles per state u32 x 6)
 *
 * Durability of the RPCs.  commit-deployment and retry-node-role write a
 * request record in the RPC's transaction; the turn applies requests in
 * order and deletes them in the same store_update that persists their
 * effect, so a crash between the answer and the application loses
 * nothing (the next start applies what is left).  propose-deployment only
 * edits the deployments document.
 *
 * Crash recovery.  Node-roles stored in transition are queued again at
 * start (ann_recover): a jig may therefore run twice for one transition.
 * That is the jigs' contract (annealer/jig.h, "Idempotence"): ipam
 * allocates only what is missing, dns only waits, exec scripts must
 * converge from any starting point.
 *
 * Inputs.  A run's input is a JSON object: deployment, node, role, jig,
 * the role's attributes, the parents ("role@node") and "data", the node
 * as GET /restconf/data/netd:nodes/node=NAME shows it (attachments and
 * addresses), or null when the node is not in the model.  Its FNV-1a hash
 * is kept with the node-role when the run starts; when a later edit
 * touches the node (or changes the role), the input of its active, failed
 * or running node-roles is built again and a different hash invalidates the
 * node-role: it and its descendants run again, in order.  A node deleted
 * from the model keeps its node-roles; their next run fails with "node X
 * is not in the model".
 *
 * Caveats.
 *  - Loop thread only, except anneal_state(), the event functions and
 *    anneal_figures() (see anneal.h).
 *  - A change that removes or alters roles, deployments or their nodes,
 *    and every rename, rebuilds the in-memory annealer from the store:
 *    no new run starts until every run in flight has ended (a long exec
 *    run delays it).  Pure additions apply at once; node-roles added to a
 *    committed deployment stay proposed until it is committed again.
 *  - The audit log (ann_event) is never pruned.
 */
#include "netd/anneal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "annealer/annealer.h"
#include "annealer/jig.h"
#include "core/codec.h"
#include "core/log.h"
#include "core/loop.h"
#include "netd/dnsd.h"
#include "netd/yangmap.h"

#define ANNEAL_LOG_MAX (64u * 1024u)   /* a run's log kept in the store */
#define ANNEAL_SUMMARY_MAX 1024u       /* a run's summary kept in the store */
#define ANNEAL_EVENTS_SHOWN 100u       /* events under GET /netd:anneal */
#define ANNEAL_START_BATCH 128u        /* node-roles taken per ann_next_runnable() */
#define ANNEAL_DNS_POLL_MS 500u        /* dns jig: record states polled this often */
#define ANNEAL_FLUSH_RETRY_MS 1000u    /* a failed flush is tried again after this */

#define REC_VERSION 1
#define REQ_COMMIT 1
#define REQ_RETRY 2

#define META_EVENT_SEQ "anneal/event-seq"
#define META_REQ_SEQ "anneal/req-seq"
#define META_COUNTS "anneal/counts"

/* ------------------------------------------------------------ small pieces */

struct idv {
	uint32_t *v;
	uint32_t n, cap;
};

static int idv_push(struct idv *x, uint32_t id)
{
	if (x->n == x->cap) {
		uint32_t cap = x->cap ? 2 * x->cap : 8;
		uint32_t *v = realloc(x->v, (size_t)cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = id;
	return 0;
}

static void idv_free(struct idv *x)
{
	free(x->v);
	*x = (struct idv){ 0 };
}

/* A small set of names (nodes, roles), deduplicated. */
struct names {
	char (*v)[MODEL_NAME_MAX];
	size_t n, cap;
};

static bool names_has(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

static int names_add(struct names *s, const char *name)
{
	if (names_has(s, name))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		char(*v)[MODEL_NAME_MAX] = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	snprintf(s->v[s->n++], MODEL_NAME_MAX, "%s", name);
	return 0;
}

static void names_free(struct names *s)
{
	free(s->v);
	*s = (struct names){ 0 };
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* yang:date-and-time with milliseconds, UTC. */
static char *time_ms_print(uint64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)(ms / 1000u);
	char sec[32];
	if (!gmtime_r(&tt, &tm) || strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "1970-01-01T00:00:00Z");
		return buf;
	}
	snprintf(buf, len, "%s.%03uZ", sec, (unsigned)(ms % 1000u));
	return buf;
}

static void be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3u;
	return h;
}

/* Make @p[0..n) printable as a YANG string in place: invalid UTF-8, NULs
 * and control characters other than tab, CR and LF become '?'. */
static void utf8_sanitize(char *p, size_t n)
{
	unsigned char *s = (unsigned char *)p;
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		bool ok = len > 0 && i + len <= n && !(len == 2 && c < 0xc2) && !(len == 4 && c > 0xf4);
		for (size_t k = 1; ok && k < len; k++)
			ok = (s[i + k] & 0xc0) == 0x80;
		if (ok && len == 1 && c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			ok = false;
		if (!ok) {
			s[i++] = '?';
			continue;
		}
		i += len;
	}
}

/* A JSON string literal of @s on @f. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p == '\r')
			fputs("\\r", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* A span of @n bytes at the reader's position (NULL and a sticky error
 * past the end): strings read in place, without a copy. */
static const uint8_t *rd_span(struct codec_r *r, size_t n)
{
	if (r->err || r->len - r->pos < n) {
		r->err = NETD_ECORRUPT;
		return NULL;
	}
	const uint8_t *p = r->p + r->pos;
	r->pos += n;
	return p;
}

static void put_span(struct codec_w *w, const void *p, size_t n)
{
	codec_put_u16(w, (uint16_t)n);
	codec_put_bytes(w, p, n);
}

/* ------------------------------------------------------------- records */

/* "deployment NUL node NUL role" into @buf; returns the length. */
#define NR_KEY_MAX (3 * MODEL_NAME_MAX)
static size_t nr_key(uint8_t *buf, const char *dep, const char *node, const char *role)
{
	size_t a = strnlen(dep, MODEL_NAME_MAX - 1), b = strnlen(node, MODEL_NAME_MAX - 1);
	size_t c = strnlen(role, MODEL_NAME_MAX - 1);
	memcpy(buf, dep, a);
	buf[a] = 0;
	memcpy(buf + a + 1, node, b);
	buf[a + 1 + b] = 0;
	memcpy(buf + a + b + 2, role, c);
	return a + b + 2 + c;
}

/* Split a node-role key into its three names. false if malformed. */
static bool nr_key_split(const struct store_val *k, char dep[MODEL_NAME_MAX], char node[MODEL_NAME_MAX],
			 char role[MODEL_NAME_MAX])
{
	char *out[3] = { dep, node, role };
	const char *p = k->p, *end = p + k->n;
	for (int i = 0; i < 3; i++) {
		const char *z = i < 2 ? memchr(p, 0, (size_t)(end - p)) : end;
		if (!z || z - p >= MODEL_NAME_MAX || z == p)
			return false;
		memcpy(out[i], p, (size_t)(z - p));
		out[i][z - p] = '\0';
		p = z + 1;
	}
	return true;
}

/* A stored node-role, read in place (valid while the value is). */
struct nr_view {
	uint8_t state;
	uint32_t run_count, attempts, cohort;
	uint64_t changed_at, hash;
	bool has_hash;
	const char *summary;
	size_t summary_len;
	uint16_t n_parents;
	const uint8_t *parents;     /* n_parents x (u16 length + bytes) */
	size_t parents_len;
	const char *log;
	size_t log_len;
};

static int nr_decode(const struct store_val *v, struct nr_view *out)
{
	struct codec_r r;
	codec_r_init(&r, v->p, v->n);
	if (codec_get_u8(&r) != 'N' || codec_get_u8(&r) != REC_VERSION)
		return NETD_ECORRUPT;
	struct nr_view x = { 0 };
	x.state = codec_get_u8(&r);
	x.run_count = codec_get_u32(&r);
	x.attempts = codec_get_u32(&r);
	x.cohort = codec_get_u32(&r);
	x.changed_at = codec_get_u64(&r);
	x.hash = codec_get_u64(&r);
	x.has_hash = codec_get_u8(&r) != 0;
	x.summary_len = codec_get_u16(&r);
	x.summary = (const char *)rd_span(&r, x.summary_len);
	x.n_parents = codec_get_u16(&r);
	size_t at = r.pos;
	for (uint16_t i = 0; i < x.n_parents && !r.err; i++)
		rd_span(&r, codec_get_u16(&r));
	x.parents = r.err ? NULL : r.p + at;
	x.parents_len = r.pos - at;
	x.log_len = codec_get_u32(&r);
	x.log = (const char *)rd_span(&r, x.log_len);
	if (r.err || x.state >= ANN_NSTATES)
		return NETD_ECORRUPT;
	*out = x;
	return 0;
}

/* Only the state (GET counts): the third byte. */
static int nr_state_of(const struct store_val *v)
{
	const uint8_t *p = v->p;
	if (v->n < 3 || p[0] != 'N' || p[1] != REC_VERSION || p[2] >= ANN_NSTATES)
		return NETD_ECORRUPT;
	return p[2];
}

static int dep_committed(store_tbl tbl, struct store_txn *t, const char *dep, bool *out)
{
	struct store_val v;
	int rc = store_get(t, tbl, dep, strlen(dep), &v);
	*out = false;
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	const uint8_t *p = v.p;
	if (v.n < 3 || p[0] != 'D' || p[1] != REC_VERSION)
		return NETD_ECORRUPT;
	*out = p[2] != 0;
	return 0;
}

static int event_decode(const struct store_val *k, const struct store_val *v, struct anneal_event *ev)
{
	struct codec_r r;
	if (k->n != 8)
		return NETD_ECORRUPT;
	memset(ev, 0, sizeof *ev);
	ev->seq = be64_get(k->p);
	codec_r_init(&r, v->p, v->n);
	if (codec_get_u8(&r) != 'E' || codec_get_u8(&r) != REC_VERSION)
		return NETD_ECORRUPT;
	ev->at = codec_get_u64(&r);
	codec_get_str(&r, ev->deployment, sizeof ev->deployment);
	codec_get_str(&r, ev->node, sizeof ev->node);
	codec_get_str(&r, ev->role, sizeof ev->role);
	uint8_t from = codec_get_u8(&r), to = codec_get_u8(&r);
	codec_get_str(&r, ev->cause, sizeof ev->cause);
	if (r.err || from >= ANN_NSTATES || to >= ANN_NSTATES)
		return NETD_ECORRUPT;
	snprintf(ev->from, sizeof ev->from, "%s", ann_state_name(from));
	snprintf(ev->to, sizeof ev->to, "%s", ann_state_name(to));
	return 0;
}

struct req {
	uint64_t seq;
	uint8_t kind;
	char dep[MODEL_NAME_MAX], node[MODEL_NAME_MAX], role[MODEL_NAME_MAX];
};

static int req_decode(const struct store_val *k, const struct store_val *v, struct req *q)
{
	struct codec_r r;
	if (k->n != 8)
		return NETD_ECORRUPT;
	*q = (struct req){ .seq = be64_get(k->p) };
	codec_r_init(&r, v->p, v->n);
	if (codec_get_u8(&r) != 'R' || codec_get_u8(&r) != REC_VERSION)
		return NETD_ECORRUPT;
	q->kind = codec_get_u8(&r);
	codec_get_str(&r, q->dep, sizeof q->dep);
	codec_get_str(&r, q->node, sizeof q->node);
	codec_get_str(&r, q->role, sizeof q->role);
	return r.err ? NETD_ECORRUPT : 0;
}

static int meta_u64(const struct model_tables *mt, struct store_txn *t, const char *key, uint64_t *out)
{
	uint8_t b[8];
	size_t len = 0;
	int rc = model_meta_get(mt, t, key, b, sizeof b, &len);
	*out = 0;
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (len != 8)
		return NETD_ECORRUPT;
	*out = be64_get(b);
	return 0;
}

static int meta_u64_put(const struct model_tables *mt, struct store_txn *t, const char *key, uint64_t v)
{
	uint8_t b[8];
	be64_put(b, v);
	return model_meta_put(mt, t, key, b, sizeof b);
}

/* ------------------------------------------------- the configuration (spec) */

struct attr {
	char *name, *value;
};

struct srole {
	char *name, *jig, *script;     /* script NULL = none */
	char **req;
	size_t n_req;
	struct attr *attrs;
	size_t n_attrs;
	uint32_t timeout_s;
	struct ann_retry retry;
	unsigned flags;                /* enum ann_role_flag */
};

struct sdep {
	char *name;
	char **nodes, **roles;
	size_t n_nodes, n_roles;
};

/* The roles and deployments documents as plain data. */
struct spec {
	struct srole *roles;
	size_t n_roles;
	struct sdep *deps;
	size_t n_deps;
};

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static bool strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static void srole_free(struct srole *r)
{
	free(r->name);
	free(r->jig);
	free(r->script);
	strv_free(r->req, r->n_req);
	for (size_t i = 0; i < r->n_attrs; i++) {
		free(r->attrs[i].name);
		free(r->attrs[i].value);
	}
	free(r->attrs);
}

static void spec_free(struct spec *s)
{
	for (size_t i = 0; i < s->n_roles; i++)
		srole_free(&s->roles[i]);
	free(s->roles);
	for (size_t i = 0; i < s->n_deps; i++) {
		free(s->deps[i].name);
		strv_free(s->deps[i].nodes, s->deps[i].n_nodes);
		strv_free(s->deps[i].roles, s->deps[i].n_roles);
	}
	free(s->deps);
	*s = (struct spec){ 0 };
}

static const struct srole *spec_role(const struct spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_roles; i++)
		if (!strcmp(s->roles[i].name, name))
			return &s->roles[i];
	return NULL;
}

static const struct sdep *spec_dep(const struct spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_deps; i++)
		if (!strcmp(s->deps[i].name, name))
			return &s->deps[i];
	return NULL;
}

static const char *child_name(const struct lyd_node *c)
{
	return c->schema ? c->schema->name : "";
}

static uint32_t u32_of(const struct lyd_node *c)
{
	return (uint32_t)strtoul(lyd_get_value(c), NULL, 10);
}

static bool bool_of(const struct lyd_node *c)
{
	return !strcmp(lyd_get_value(c), "true");
}

static int parse_attr(const struct lyd_node *entry, struct srole *r)
{
	const char *name = NULL, *value = "";
	const struct lyd_node *c;
	LY_LIST_FOR(lyd_child(entry), c) {
		if (!strcmp(child_name(c), "name"))
			name = lyd_get_value(c);
		else if (!strcmp(child_name(c), "value"))
			value = lyd_get_value(c);
	}
	if (!name)
		return 0;
	struct attr *v = realloc(r->attrs, (r->n_attrs + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	r->attrs = v;
	v[r->n_attrs] = (struct attr){ strdup(name), strdup(value) };
	if (!v[r->n_attrs].name || !v[r->n_attrs].value) {
		free(v[r->n_attrs].name);
		free(v[r->n_attrs].value);
		return -ENOMEM;
	}
	r->n_attrs++;
	return 0;
}

static void parse_retry(const struct lyd_node *cont, struct srole *r)
{
	const struct lyd_node *c;
	LY_LIST_FOR(lyd_child(cont), c) {
		if (!strcmp(child_name(c), "attempts"))
			r->retry.attempts = u32_of(c);
		else if (!strcmp(child_name(c), "backoff"))
			r->retry.backoff_base = u32_of(c);
		else if (!strcmp(child_name(c), "backoff-max"))
			r->retry.backoff_max = u32_of(c);
	}
}

/* One role list entry; YANG defaults for what the stored JSON omits. */
static int parse_role(const struct lyd_node *entry, struct srole *r)
{
	*r = (struct srole){ .timeout_s = 300, .retry = { .attempts = 3, .backoff_base = 1000, .backoff_max = 60000 } };
	const char *jig = "noop";
	const struct lyd_node *c;
	int rc = 0;
	LY_LIST_FOR(lyd_child(entry), c) {
		const char *n = child_name(c);
		if (!strcmp(n, "name"))
			rc = (r->name = strdup(lyd_get_value(c))) ? 0 : -ENOMEM;
		else if (!strcmp(n, "requires"))
			rc = strv_push(&r->req, &r->n_req, lyd_get_value(c));
		else if (!strcmp(n, "jig"))
			jig = lyd_get_value(c);
		else if (!strcmp(n, "script"))
			rc = (r->script = strdup(lyd_get_value(c))) ? 0 : -ENOMEM;
		else if (!strcmp(n, "timeout"))
			r->timeout_s = u32_of(c);
		else if (!strcmp(n, "attribute"))
			rc = parse_attr(c, r);
		else if (!strcmp(n, "retry"))
			parse_retry(c, r);
		else if (!strcmp(n, "implicit") && bool_of(c))
			r->flags |= ANN_ROLE_IMPLICIT;
		else if (!strcmp(n, "cluster") && bool_of(c))
			r->flags |= ANN_ROLE_CLUSTER;
		else if (!strcmp(n, "destructive") && bool_of(c))
			r->flags |= ANN_ROLE_DESTRUCTIVE;
		if (rc < 0)
			return rc;
	}
	if (!(r->jig = strdup(jig)) || !r->name)
		return r->name ? -ENOMEM : NETD_ECORRUPT;
	return 0;
}

static int parse_dep(const struct lyd_node *entry, struct sdep *d)
{
	*d = (struct sdep){ 0 };
	const struct lyd_node *c;
	int rc = 0;
	LY_LIST_FOR(lyd_child(entry), c) {
		const char *n = child_name(c);
		if (!strcmp(n, "name"))
			rc = (d->name = strdup(lyd_get_value(c))) ? 0 : -ENOMEM;
		else if (!strcmp(n, "node") && !strv_has(d->nodes, d->n_nodes, lyd_get_value(c)))
			rc = strv_push(&d->nodes, &d->n_nodes, lyd_get_value(c));
		else if (!strcmp(n, "role") && !strv_has(d->roles, d->n_roles, lyd_get_value(c)))
			rc = strv_push(&d->roles, &d->n_roles, lyd_get_value(c));
		if (rc < 0)
			return rc;
	}
	return d->name ? 0 : NETD_ECORRUPT;
}

/* The roles container @top (NULL = none) into s->roles. */
static int spec_parse_roles(const struct lyd_node *top, struct spec *s)
{
	const struct lyd_node *c;
	LY_LIST_FOR(top ? lyd_child(top) : NULL, c) {
		if (strcmp(child_name(c), "role"))
			continue;
		struct srole *v = realloc(s->roles, (s->n_roles + 1) * sizeof *v);
		if (!v)
			return -ENOMEM;
		s->roles = v;
		int rc = parse_role(c, &v[s->n_roles]);
		s->n_roles++;   /* partly filled entries are freed by spec_free */
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int spec_parse_deps(const struct lyd_node *top, struct spec *s)
{
	const struct lyd_node *c;
	LY_LIST_FOR(top ? lyd_child(top) : NULL, c) {
		if (strcmp(child_name(c), "deployment"))
			continue;
		struct sdep *v = realloc(s->deps, (s->n_deps + 1) * sizeof *v);
		if (!v)
			return -ENOMEM;
		s->deps = v;
		int rc = parse_dep(c, &v[s->n_deps]);
		s->n_deps++;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One stored document into @s (roles or deployments part). */
static int spec_load_doc(struct netd *d, struct store_txn *t, enum ops_doc doc, struct spec *s)
{
	struct lyd_node *top = NULL;
	int rc = ops_doc_load(d, t, doc, &top);
	if (rc == 0)
		rc = doc == OPS_DOC_ROLES ? spec_parse_roles(top, s) : spec_parse_deps(top, s);
	lyd_free_all(top);
	return rc;
}

static int spec_load(struct netd *d, struct store_txn *t, struct spec *s)
{
	*s = (struct spec){ 0 };
	int rc = spec_load_doc(d, t, OPS_DOC_ROLES, s);
	if (rc == 0)
		rc = spec_load_doc(d, t, OPS_DOC_DEPLOYMENTS, s);
	if (rc < 0)
		spec_free(s);
	return rc;
}

/* What binding uses (a change needs a rebuild). */
static bool role_shape_eq(const struct srole *a, const struct srole *b)
{
	return !strcmp(a->jig, b->jig) && a->flags == b->flags && a->retry.attempts == b->retry.attempts &&
	       a->retry.backoff_base == b->retry.backoff_base && a->retry.backoff_max == b->retry.backoff_max &&
	       strv_eq(a->req, a->n_req, b->req, b->n_req);
}

/* What only a run's input uses (a change re-checks the inputs). */
static bool role_params_eq(const struct srole *a, const struct srole *b)
{
	if (a->timeout_s != b->timeout_s || !a->script != !b->script || (a->script && strcmp(a->script, b->script)) ||
	    a->n_attrs != b->n_attrs)
		return false;
	for (size_t i = 0; i < a->n_attrs; i++)
		if (strcmp(a->attrs[i].name, b->attrs[i].name) || strcmp(a->attrs[i].value, b->attrs[i].value))
			return false;
	return true;
}

/* ------------------------------------------------------ role-level checks */

#define NONE SIZE_MAX

static size_t role_index(const struct spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_roles; i++)
		if (!strcmp(s->roles[i].name, name))
			return i;
	return NONE;
}

enum { WHITE = 0, GREY, BLACK };

struct cycle {
	const struct spec *s;
	uint8_t *color;
	size_t *stack;
	char msg[NETD_ERR_MSG_MAX];
	size_t at;      /* index of the role the cycle starts at */
};

/* Depth-first along requires (unknown roles are skipped: they may come
 * later, binding names them).  true when a cycle was found. */
static bool cycle_dfs(struct cycle *c, size_t i, size_t depth)
{
	const struct srole *r = &c->s->roles[i];
	c->color[i] = GREY;
	c->stack[depth] = i;
	for (size_t k = 0; k < r->n_req; k++) {
		size_t j = role_index(c->s, r->req[k]);
		if (j == NONE || c->color[j] == BLACK)
			continue;
		if (c->color[j] == GREY) {
			size_t from = 0, len;
			while (c->stack[from] != j)
				from++;
			len = (size_t)snprintf(c->msg, sizeof c->msg, "cycle:");
			for (size_t f = from; f <= depth && len < sizeof c->msg; f++)
				len += (size_t)snprintf(c->msg + len, sizeof c->msg - len, "%s%s", f == from ? " " : " -> ",
							c->s->roles[c->stack[f]].name);
			if (len < sizeof c->msg)
				snprintf(c->msg + len, sizeof c->msg - len, " -> %s", c->s->roles[j].name);
			c->at = j;
			return true;
		}
		if (cycle_dfs(c, j, depth + 1))
			return true;
	}
	c->color[i] = BLACK;
	return false;
}

/* 0, 1 with the cycle in @c (msg, at), or -ENOMEM. */
static int find_cycle(const struct spec *s, struct cycle *c)
{
	*c = (struct cycle){ .s = s };
	c->color = calloc(s->n_roles + 1, 1);
	c->stack = calloc(s->n_roles + 1, sizeof *c->stack);
	int rc = c->color && c->stack ? 0 : -ENOMEM;
	for (size_t i = 0; i < s->n_roles && rc == 0; i++)
		if (c->color[i] == WHITE && cycle_dfs(c, i, 0))
			rc = 1;
	free(c->color);
	free(c->stack);
	return rc;
}

static void role_path(char *buf, size_t len, const char *role, const char *leaf)
{
	char key[MODEL_NAME_MAX * 2 + 4];
	snprintf(buf, len, "/netd:roles/role[name=%s]%s%s", netd_path_key(role, key, sizeof key), leaf ? "/" : "",
		 leaf ? leaf : "");
}

static void dep_path(char *buf, size_t len, const char *dep, const char *leaf)
{
	char key[MODEL_NAME_MAX * 2 + 4];
	snprintf(buf, len, "/netd:deployments/deployment[name=%s]%s%s", netd_path_key(dep, key, sizeof key),
		 leaf ? "/" : "", leaf ? leaf : "");
}

/* Can binding succeed for deployment @dep at the role level?  Every role
 * exists, every requirement is in the deployment, implicit (then its own
 * requirements count too), or on each node through another deployment;
 * no cycle.  0 or an error in @r. */
static int check_bindable(const struct spec *s, const struct sdep *dep, const bool *committed, struct ops_result *r)
{
	char path[NETD_ERR_PATH_MAX];
	struct cycle c;
	int rc = find_cycle(s, &c);
	if (rc < 0)
		return ops_fail(r, 500, "operation-failed", rc, NULL, "out of memory");
	if (rc == 1) {
		role_path(path, sizeof path, s->roles[c.at].name, "requires");
		return ops_fail(r, 400, "invalid-value", NETD_EINVAL, path, "%s", c.msg);
	}
	/* the roles that will have node-roles: listed ones, then implicit ones they pull in */
	char **todo = NULL;
	size_t n = 0;
	for (size_t i = 0; i < dep->n_roles && rc == 0; i++)
		rc = strv_push(&todo, &n, dep->roles[i]);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct srole *role = spec_role(s, todo[i]);
		if (!role) {
			dep_path(path, sizeof path, dep->name, "role");
			rc = ops_fail(r, 400, "invalid-value", NETD_ENOTFOUND, path, "no role named '%s'", todo[i]);
			break;
		}
		for (size_t k = 0; k < role->n_req && rc == 0; k++) {
			const struct srole *q = spec_role(s, role->req[k]);
			role_path(path, sizeof path, role->name, "requires");
			if (!q) {
				rc = ops_fail(r, 400, "invalid-value", NETD_ENOTFOUND, path,
					      "role %s requires unknown role %s", role->name, role->req[k]);
			} else if (strv_has(dep->roles, dep->n_roles, q->name)) {
				continue;
			} else if (q->flags & ANN_ROLE_IMPLICIT) {
				if (!strv_has(todo, n, q->name))
					rc = strv_push(&todo, &n, q->name);
			} else {
				for (size_t m = 0; m < dep->n_nodes && rc == 0; m++) {
					bool found = false;
					for (size_t o = 0; o < s->n_deps && !found; o++)
						found = &s->deps[o] != dep && committed[o] &&
							strv_has(s->deps[o].nodes, s->deps[o].n_nodes, dep->nodes[m]) &&
							strv_has(s->deps[o].roles, s->deps[o].n_roles, q->name);
					if (!found)
						rc = ops_fail(r, 400, "invalid-value", NETD_ENOTFOUND, path,
							      "role %s requires role %s: not in deployment %s, not implicit, "
							      "and node %s has it in no other committed deployment",
							      role->name, q->name, dep->name, dep->nodes[m]);
				}
			}
		}
	}
	if (rc == -ENOMEM)
		ops_fail(r, 500, "operation-failed", rc, NULL, "out of memory");
	strv_free(todo, n);
	return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------- the service */

/* Per node-role (indexed by ann id): what the store record needs beyond
 * the annealer's own state. */
struct nrx {
	uint64_t hash;              /* input hash of the current / last run */
	uint64_t changed_at;        /* unix ms of the last state change */
	bool has_hash;
	bool dirty;                 /* in A->dirty: to be written by the next flush */
	bool stored;                /* has a record in the store */
	char *summary, *log;        /* the last run's result, until flushed */
	size_t log_len;
};

/* An event waiting for the flush; names are resolved then (the ann is
 * never rebuilt with events pending). */
struct pev {
	uint32_t nr;
	uint8_t from, to;
	uint64_t at;                /* unix ms */
	char cause[256];
};

struct anneal {
	struct netd *d;
	store_tbl t_nr, t_dep, t_event, t_req;
	struct ann *a;
	struct ann_jigs *jigs;
	struct spec spec;           /* the configuration the ann was built from */
	struct nrx *nrx;
	uint32_t cap_nrx;
	struct idv *node_nrs;       /* per ann node id: its node-roles */
	uint32_t n_node_nrs;
	uint32_t synced;            /* node-roles registered in node_nrs */
	struct idv dirty;
	struct pev *ev;
	size_t n_ev, cap_ev;
	bool loading;               /* events are ann_restore()'s: not recorded */

	/* work noted by the hooks, done by the turn */
	struct loop_wake *wake;
	bool kicked;
	bool docs_changed, requests_pending, rebuild_pending;
	struct idv touched;         /* ann node ids whose inputs may have changed */
	uint8_t *touched_flag;      /* per ann node id: in @touched */
	struct names touched_names; /* @touched across a rebuild (ids change) */
	struct names changed_roles; /* roles whose script, timeout or attributes changed */
	struct names renamed_from;  /* old names of renamed nodes, until the rebuild */
	struct names renamed_to;    /* their new names: re-run after the rebuild */
	uint64_t req_done;          /* requests applied up to this sequence number */
	uint64_t req_deleted;       /* ... and deleted up to this one */
	struct loop_timer *wakeup;  /* backoff timer */
	uint64_t wakeup_at;
	struct loop_timer *retry;   /* a failed flush */

	/* written on the loop thread, read anywhere */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t last_seq;          /* last event persisted */
	bool stopping;
	unsigned waiters;
	struct anneal_figures fig;
	uint64_t transitions, errors;   /* loop thread's running totals */
};

static void kick(struct anneal *A)
{
	if (!A->kicked) {
		A->kicked = true;
		loop_wake(A->wake);
	}
}

/* ------------------------------------------------------------ doc checks */

static int fail_oom(struct ops_result *r)
{
	return ops_fail(r, 500, "operation-failed", -ENOMEM, NULL, "out of memory");
}

static int check_roles(struct netd *d, struct store_txn *t, const struct lyd_node *top, struct ops_result *r)
{
	struct spec s = { 0 }, old = { 0 };
	char path[NETD_ERR_PATH_MAX];
	struct cycle c;
	int rc = spec_parse_roles(top, &s);
	if (rc == 0)
		rc = spec_load_doc(d, t, OPS_DOC_DEPLOYMENTS, &old);
	if (rc < 0) {
		rc = rc == -ENOMEM ? fail_oom(r) : ops_fail(r, 500, "operation-failed", rc, NULL, "%s", netd_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < s.n_roles && rc == 0; i++) {
		const struct srole *role = &s.roles[i];
		if (d->anneal && !ann_jig_known(d->anneal->jigs, role->jig)) {
			role_path(path, sizeof path, role->name, "jig");
			rc = ops_fail(r, 400, "invalid-value", NETD_EINVAL, path,
				      "no jig named '%s' is registered (built in: noop, exec, ipam, dns)", role->jig);
		} else if (!strcmp(role->jig, "exec") && !role->script) {
			role_path(path, sizeof path, role->name, "script");
			rc = ops_fail(r, 400, "invalid-value", NETD_EINVAL, path,
				      "role %s runs the exec jig: it needs a script", role->name);
		}
	}
	if (rc == 0 && (rc = find_cycle(&s, &c)) != 0) {
		if (rc < 0) {
			rc = fail_oom(r);
			goto out;
		}
		role_path(path, sizeof path, s.roles[c.at].name, "requires");
		rc = ops_fail(r, 400, "invalid-value", NETD_EINVAL, path, "%s", c.msg);
	}
	/* a role a deployment lists cannot go */
	for (size_t i = 0; i < old.n_deps && rc == 0; i++)
		for (size_t k = 0; k < old.deps[i].n_roles && rc == 0; k++)
			if (!spec_role(&s, old.deps[i].roles[k])) {
				role_path(path, sizeof path, old.deps[i].roles[k], NULL);
				rc = ops_fail(r, 409, "in-use", NETD_EINUSE, path, "role %s is used by deployment %s",
					      old.deps[i].roles[k], old.deps[i].name);
			}
out:
	spec_free(&s);
	spec_free(&old);
	return rc;
}

/* New nodes of a deployment exist in the model; its roles in the roles
 * document.  Only nodes added by this edit are checked: a node deleted
 * from the model after it was listed does not block other edits (its
 * node-roles fail when they run). */
static int check_deployments(struct netd *d, struct store_txn *t, const struct lyd_node *top, struct ops_result *r)
{
	struct spec s = { 0 }, old = { 0 };
	char path[NETD_ERR_PATH_MAX];
	int rc = spec_parse_deps(top, &s);
	if (rc == 0)
		rc = spec_load(d, t, &old);   /* stored roles (already this edit's) and deployments */
	if (rc < 0) {
		rc = rc == -ENOMEM ? fail_oom(r) : ops_fail(r, 500, "operation-failed", rc, NULL, "%s", netd_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < s.n_deps && rc == 0; i++) {
		const struct sdep *dep = &s.deps[i], *was = spec_dep(&old, dep->name);
		for (size_t k = 0; k < dep->n_nodes && rc == 0; k++) {
			struct model_node n = { 0 };
			if (was && strv_has(was->nodes, was->n_nodes, dep->nodes[k]))
				continue;
			rc = model_node_get(&d->mt, t, dep->nodes[k], &n);
			model_node_clear(&n);
			dep_path(path, sizeof path, dep->name, "node");
			if (rc == NETD_ENOTFOUND)
				rc = ops_fail(r, 400, "invalid-value", NETD_ENOTFOUND, path, "no node named '%s'",
					      dep->nodes[k]);
			else if (rc < 0)
				rc = ops_fail(r, 500, "operation-failed", rc, path, "%s", netd_strerror(rc));
		}
		for (size_t k = 0; k < dep->n_roles && rc == 0; k++)
			if (!spec_role(&old, dep->roles[k])) {
				dep_path(path, sizeof path, dep->name, "role");
				rc = ops_fail(r, 400, "invalid-value", NETD_ENOTFOUND, path, "no role named '%s'",
					      dep->roles[k]);
			}
	}
out:
	spec_free(&s);
	spec_free(&old);
	return rc;
}

int anneal_doc_check(struct netd *d, struct store_txn *t, enum ops_doc doc, const struct lyd_node *top,
		     struct ops_result *r)
{
	if (doc == OPS_DOC_ROLES)
		return check_roles(d, t, top, r);
	if (doc == OPS_DOC_DEPLOYMENTS)
		return check_deployments(d, t, top, r);
	return 0;
}

/* ------------------------------------------------------------------- RPCs */

/* The values of leaf-list @name of @rpc, as a heap array of pointers into
 * the tree (count in *n). */
static int rpc_values(const struct lyd_node *rpc, const char *name, const char ***out, size_t *n)
{
	*n = ops_rpc_leaflist(rpc, name, NULL, 0);
	*out = calloc(*n + 1, sizeof **out);
	if (!*out)
		return -ENOMEM;
	ops_rpc_leaflist(rpc, name, *out, *n);
	return 0;
}

/* Add leaf-list value @v under @entry unless it is there. */
static int add_unique(struct lyd_node *entry, const char *leaf, const char *v)
{
	const struct lyd_node *c;
	LY_LIST_FOR(lyd_child(entry), c)
		if (!strcmp(child_name(c), leaf) && !strcmp(lyd_get_value(c), v))
			return 0;
	return lyd_new_term(entry, NULL, leaf, v, 0, NULL) == LY_SUCCESS ? 0 : NETD_EINVAL;
}

/* The deployment entry @name in @top (created, with @top, if missing). */
static int dep_entry(struct netd *d, struct lyd_node **top, const char *name, struct lyd_node **out)
{
	char path[NETD_ERR_PATH_MAX];
	dep_path(path, sizeof path, name, NULL);
	*out = NULL;
	if (*top && lyd_find_path(*top, path, 0, out) == LY_SUCCESS && *out)
		return 0;
	struct lyd_node *first = NULL;
	if (lyd_new_path(*top, d->ly, path, NULL, 0, &first) != LY_SUCCESS)
		return NETD_EINVAL;
	if (!*top)
		*top = first;
	return lyd_find_path(*top, path, 0, out) == LY_SUCCESS && *out ? 0 : NETD_EINVAL;
}

static int rpc_propose(struct netd *d, struct store_txn *t, const struct lyd_node *rpc, struct ops_result *r)
{
	const char *name = ops_rpc_leaf(rpc, "deployment");
	const char **nodes = NULL, **roles = NULL;
	size_t n_nodes = 0, n_roles = 0;
	struct spec s = { 0 };
	struct lyd_node *top = NULL, *entry = NULL;
	int rc = rpc_values(rpc, "node", &nodes, &n_nodes);
	if (rc == 0)
		rc = rpc_values(rpc, "role", &roles, &n_roles);
	if (rc == 0)
		rc = spec_load_doc(d, t, OPS_DOC_ROLES, &s);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < n_nodes; i++) {
		struct model_node n = { 0 };
		rc = model_node_get(&d->mt, t, nodes[i], &n);
		model_node_clear(&n);
		if (rc == NETD_ENOTFOUND) {
			rc = ops_fail(r, 400, "invalid-value", NETD_ENOTFOUND, "/netd:propose-deployment/node",
				      "no node named '%s'", nodes[i]);
			goto out;
		}
		if (rc < 0)
			goto fail;
	}
	for (size_t i = 0; i < n_roles; i++)
		if (!spec_role(&s, roles[i])) {
			rc = ops_fail(r, 400, "invalid-value", NETD_ENOTFOUND, "/netd:propose-deployment/role",
				      "no role named '%s'", roles[i]);
			goto out;
		}
	if ((rc = ops_doc_load(d, t, OPS_DOC_DEPLOYMENTS, &top)) < 0 || (rc = dep_entry(d, &top, name, &entry)) < 0)
		goto fail;
	for (size_t i = 0; i < n_nodes && rc == 0; i++)
		rc = add_unique(entry, "node", nodes[i]);
	for (size_t i = 0; i < n_roles && rc == 0; i++)
		rc = add_unique(entry, "role", roles[i]);
	if (rc < 0 || (rc = ops_doc_store(d, t, OPS_DOC_DEPLOYMENTS, top, r)) < 0)
		goto fail;
	r->touched.flags |= OPS_T_ANNEAL;
	r->status = 204;
	goto out;
fail:
	rc = ops_fail(r, 500, "operation-failed", rc, "/netd:propose-deployment",
		      "deployment %s: %s", name, netd_strerror(rc));
out:
	lyd_free_all(top);
	spec_free(&s);
	free(nodes);
	free(roles);
	return rc;
}

/* Append a request; the turn applies it after the commit. */
static int put_request(struct netd *d, struct store_txn *t, uint8_t kind, const char *dep, const char *node,
		       const char *role)
{
	uint64_t seq;
	uint8_t key[8];
	struct codec_w w;
	int rc = meta_u64(&d->mt, t, META_REQ_SEQ, &seq);
	if (rc < 0)
		return rc;
	be64_put(key, ++seq);
	codec_w_init(&w);
	codec_put_u8(&w, 'R');
	codec_put_u8(&w, REC_VERSION);
	codec_put_u8(&w, kind);
	codec_put_str(&w, dep);
	codec_put_str(&w, node ? node : "");
	codec_put_str(&w, role ? role : "");
	rc = w.err ? w.err : store_put(t, d->anneal->t_req, key, sizeof key, w.buf, w.len);
	codec_w_free(&w);
	return rc < 0 ? rc : meta_u64_put(&d->mt, t, META_REQ_SEQ, seq);
}

static int rpc_commit(struct netd *d, struct store_txn *t, const struct lyd_node *rpc, struct ops_result *r)
{
	const char *name = ops_rpc_leaf(rpc, "deployment");
	struct spec s = { 0 };
	bool *committed = NULL;
	const uint8_t rec[3] = { 'D', REC_VERSION, 1 };
	int rc = spec_load(d, t, &s);
	if (rc < 0)
		goto fail;
	const struct sdep *dep = spec_dep(&s, name);
	if (!dep) {
		rc = ops_fail(r, 404, "invalid-value", NETD_ENOTFOUND, "/netd:commit-deployment/deployment",
			      "no deployment named '%s'", name);
		goto out;
	}
	if (!(committed = calloc(s.n_deps + 1, sizeof *committed))) {
		rc = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < s.n_deps; i++)
		if ((rc = dep_committed(d->anneal->t_dep, t, s.deps[i].name, &committed[i])) < 0)
			goto fail;
	if ((rc = check_bindable(&s, dep, committed, r)) < 0)
		goto out;
	if ((rc = store_put(t, d->anneal->t_dep, name, strlen(name), rec, sizeof rec)) < 0 ||
	    (rc = put_request(d, t, REQ_COMMIT, name, NULL, NULL)) < 0)
		goto fail;
	r->touched.flags |= OPS_T_ANNEAL;
	r->status = 204;
	goto out;
fail:
	rc = ops_fail(r, 500, "operation-failed", rc, "/netd:commit-deployment",
		      "deployment %s: %s", name, netd_strerror(rc));
out:
	free(committed);
	spec_free(&s);
	return rc;
}

/* Node-roles of @dep (@node, @role: "" or NULL = any) in error, from the store. */
static int count_errors(struct netd *d, struct store_txn *t, const char *dep, const char *node, const char *role,
			uint32_t *out)
{
	uint8_t prefix[NR_KEY_MAX];
	size_t pn = nr_key(prefix, dep, node ? node : "", "");
	if (!node || !node[0])
		pn = strlen(dep) + 1;
	struct store_cursor *c = NULL;
	struct store_val k, v;
	*out = 0;
	int rc = store_cursor_open(t, d->anneal->t_nr, &c);
	if (rc < 0)
		return rc;
	for (rc = store_cursor_seek(c, prefix, pn, &k, &v); rc == 0; rc = store_cursor_next(c, &k, &v)) {
		char kd[MODEL_NAME_MAX], kn[MODEL_NAME_MAX], kr[MODEL_NAME_MAX];
		if (k.n < pn || memcmp(k.p, prefix, pn))
			break;
		if (!nr_key_split(&k, kd, kn, kr) || (role && role[0] && strcmp(kr, role)))
			continue;
		*out += nr_state_of(&v) == ANN_ERROR;
	}
	store_cursor_close(c);
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

static int rpc_retry(struct netd *d, struct store_txn *t, struct ops_prep *p, const struct lyd_node *rpc,
		     struct ops_result *r)
{
	const char *name = ops_rpc_leaf(rpc, "deployment");
	const char *node = ops_rpc_leaf(rpc, "node"), *role = ops_rpc_leaf(rpc, "role");
	struct spec s = { 0 };
	uint32_t n = 0;
	char num[16];
	int rc = spec_load_doc(d, t, OPS_DOC_DEPLOYMENTS, &s);
	if (rc < 0)
		goto fail;
	if (!spec_dep(&s, name)) {
		rc = ops_fail(r, 404, "invalid-value", NETD_ENOTFOUND, "/netd:retry-node-role/deployment",
			      "no deployment named '%s'", name);
		goto out;
	}
	if ((rc = count_errors(d, t, name, node, role, &n)) < 0 ||
	    (n > 0 && (rc = put_request(d, t, REQ_RETRY, name, node, role)) < 0))
		goto fail;
	snprintf(num, sizeof num, "%" PRIu32, n);
	if ((rc = ops_rpc_set_output(p, "retried", num)) < 0)
		goto fail;
	r->touched.flags |= OPS_T_ANNEAL;
	r->status = 200;
	goto out;
fail:
	rc = ops_fail(r, 500, "operation-failed", rc, "/netd:retry-node-role",
		      "deployment %s: %s", name, netd_strerror(rc));
out:
	spec_free(&s);
	return rc;
}

int anneal_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	       uint64_t now, struct ops_result *r, bool *handled)
{
	(void)now;
	bool propose = !strcmp(name, "netd:propose-deployment"), commit = !strcmp(name, "netd:commit-deployment");
	bool retry = !strcmp(name, "netd:retry-node-role");
	*handled = propose || commit || retry;
	if (!*handled)
		return 0;
	if (!d->anneal)
		return ops_fail(r, 503, "operation-failed", NETD_EUNSUPPORTED, NULL, "the annealer is not running");
	if (propose)
		return rpc_propose(d, t, rpc, r);
	return commit ? rpc_commit(d, t, rpc, r) : rpc_retry(d, t, p, rpc, r);
}

/* ------------------------------------------------------- rename (in the txn) */

/* Move the node-role records of (@dep, @from) to (@dep, @to). */
static int rename_keys(struct anneal *A, struct store_txn *t, const char *dep, const char *from, const char *to)
{
	uint8_t prefix[NR_KEY_MAX], key[NR_KEY_MAX];
	size_t pn = nr_key(prefix, dep, from, "");
	struct store_cursor *c = NULL;
	struct store_val k, v;
	struct moved {
		char role[MODEL_NAME_MAX];
		void *val;
		size_t n;
	} *mv = NULL;
	size_t n = 0;
	int rc = store_cursor_open(t, A->t_nr, &c);
	if (rc < 0)
		return rc;
	for (rc = store_cursor_seek(c, prefix, pn, &k, &v); rc == 0; rc = store_cursor_next(c, &k, &v)) {
		char kd[MODEL_NAME_MAX], kn[MODEL_NAME_MAX], kr[MODEL_NAME_MAX];
		if (k.n < pn || memcmp(k.p, prefix, pn))
			break;
		if (!nr_key_split(&k, kd, kn, kr))
			continue;
		struct moved *nm = realloc(mv, (n + 1) * sizeof *nm);
		if (!nm) {
			rc = -ENOMEM;
			break;
		}
		mv = nm;
		snprintf(mv[n].role, sizeof mv[n].role, "%s", kr);
		mv[n].n = v.n;
		if (!(mv[n].val = malloc(v.n ? v.n : 1))) {
			rc = -ENOMEM;
			break;
		}
		memcpy(mv[n++].val, v.p, v.n);
	}
	store_cursor_close(c);   /* before writing: values above were copied */
	rc = rc == NETD_ENOTFOUND ? 0 : rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = store_put(t, A->t_nr, key, nr_key(key, dep, to, mv[i].role), mv[i].val, mv[i].n);
		if (rc == 0)
			rc = store_del(t, A->t_nr, prefix, nr_key(prefix, dep, from, mv[i].role));
	}
	for (size_t i = 0; i < n; i++)
		free(mv[i].val);
	free(mv);
	return rc;
}

/* rename-node: the deployments that list @from list @to instead, and the
 * node-role records follow (the audit log keeps the old name). */
static int rename_node(struct netd *d, struct store_txn *t, const char *from, const char *to, struct ops_result *r)
{
	struct lyd_node *top = NULL, *entry, *c, *next;
	bool changed = false;
	int rc = ops_doc_load(d, t, OPS_DOC_DEPLOYMENTS, &top);
	LY_LIST_FOR(top && rc == 0 ? lyd_child(top) : NULL, entry) {
		const char *dep = NULL;
		bool listed = false;
		LY_LIST_FOR_SAFE(lyd_child(entry), next, c) {
			if (!strcmp(child_name(c), "name"))
				dep = lyd_get_value(c);
			else if (!strcmp(child_name(c), "node") && !strcmp(lyd_get_value(c), from)) {
				lyd_free_tree(c);
				listed = true;
			}
		}
		if (!listed || !dep)
			continue;
		changed = true;
		if ((rc = add_unique(entry, "node", to)) < 0 || (rc = rename_keys(d->anneal, t, dep, from, to)) < 0)
			break;
	}
	if (rc == 0 && changed)
		rc = ops_doc_store(d, t, OPS_DOC_DEPLOYMENTS, top, r);
	lyd_free_all(top);
	if (rc < 0)
		ops_fail(r, 500, "operation-failed", rc, "/netd:deployments",
			 "moving the node-roles of %s to %s: %s", from, to, netd_strerror(rc));
	return rc;
}

int anneal_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now,
	       struct ops_result *r)
{
	(void)now;
	if (!d->anneal || !(tc->flags & OPS_T_RENAME) || tc->n_nodes < 2)
		return 0;
	char from[MODEL_NAME_MAX], to[MODEL_NAME_MAX];
	/* copies: ops_doc_store() below may grow r->touched, which @tc is */
	snprintf(from, sizeof from, "%s", tc->nodes[0]);
	snprintf(to, sizeof to, "%s", tc->nodes[1]);
	return rename_node(d, t, from, to, r);
}

/* ------------------------------------------------ node-role bookkeeping */

static int nrx_reserve(struct anneal *A, uint32_t n)
{
	if (n <= A->cap_nrx)
		return 0;
	uint32_t cap = A->cap_nrx ? A->cap_nrx : 64;
	while (cap < n)
		cap *= 2;
	struct nrx *v = realloc(A->nrx, (size_t)cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	memset(v + A->cap_nrx, 0, (size_t)(cap - A->cap_nrx) * sizeof *v);
	A->nrx = v;
	A->cap_nrx = cap;
	return 0;
}

static void mark_dirty(struct anneal *A, uint32_t nr)
{
	struct nrx *x = &A->nrx[nr];
	if (x->dirty)
		return;
	if (idv_push(&A->dirty, nr) < 0) {
		log_err("annealer: out of memory: the state of node-role %" PRIu32 " is not persisted", nr);
		return;
	}
	x->dirty = true;
}

/* The annealer's event callback: note the change for the next flush.  It
 * must not call back into the annealer, so names are resolved later. */
static void on_event(void *arg, const struct ann_event *ev)
{
	struct anneal *A = arg;
	if (A->loading)
		return;   /* ann_restore(): the store holds it already */
	if (nrx_reserve(A, ev->nr + 1) < 0)
		goto oom;
	if (A->n_ev == A->cap_ev) {
		size_t cap = A->cap_ev ? 2 * A->cap_ev : 256;
		struct pev *v = realloc(A->ev, cap * sizeof *v);
		if (!v)
			goto oom;
		A->ev = v;
		A->cap_ev = cap;
	}
	struct pev *p = &A->ev[A->n_ev++];
	p->nr = ev->nr;
	p->from = (uint8_t)ev->from;
	p->to = (uint8_t)ev->to;
	p->at = wall_ms();
	snprintf(p->cause, sizeof p->cause, "%s", ev->cause ? ev->cause : "");
	A->nrx[ev->nr].changed_at = p->at;
	mark_dirty(A, ev->nr);
	A->transitions++;
	A->errors += ev->to == ANN_ERROR;
	return;
oom:
	log_err("annealer: out of memory: event of node-role %" PRIu32 " lost", ev->nr);
}

/* Register node-roles the annealer created since the last call (added,
 * or implicit ones made by binding). */
static int sync_nrs(struct anneal *A)
{
	struct ann_stats st;
	ann_stats(A->a, &st);
	if (st.n_nodes > A->n_node_nrs) {
		struct idv *v = realloc(A->node_nrs, (size_t)st.n_nodes * sizeof *v);
		if (!v)
			return -ENOMEM;
		memset(v + A->n_node_nrs, 0, (size_t)(st.n_nodes - A->n_node_nrs) * sizeof *v);
		A->node_nrs = v;
		uint8_t *f = realloc(A->touched_flag, st.n_nodes);
		if (!f)
			return -ENOMEM;
		memset(f + A->n_node_nrs, 0, st.n_nodes - A->n_node_nrs);
		A->touched_flag = f;
		A->n_node_nrs = st.n_nodes;
	}
	if (nrx_reserve(A, st.n_nrs) < 0)
		return -ENOMEM;
	for (; A->synced < st.n_nrs; A->synced++) {
		struct ann_nr_info info;
		ann_nr_info(A->a, A->synced, &info);
		if (idv_push(&A->node_nrs[info.node], A->synced) < 0)
			return -ENOMEM;
		if (!A->loading) {
			A->nrx[A->synced].changed_at = wall_ms();
			mark_dirty(A, A->synced);
		}
	}
	return 0;
}

static const struct srole *role_of(const struct anneal *A, const struct ann_nr_info *info)
{
	return spec_role(&A->spec, ann_role_name(A->a, info->role));
}

/* Node @name changed: re-check the inputs of its node-roles next turn.  A
 * node the annealer does not know has none (a bulk edit of nodes costs a
 * hash lookup each). */
static void note_touched(struct anneal *A, const char *name)
{
	uint32_t node;
	int rc = 0;
	if (!A->a)
		rc = names_add(&A->touched_names, name);
	else if (ann_node_find(A->a, name, &node) == 0 && node < A->n_node_nrs && !A->touched_flag[node]) {
		rc = idv_push(&A->touched, node);
		A->touched_flag[node] = rc == 0;
	}
	if (rc < 0)
		log_err("annealer: out of memory noting a change of node %s", name);
}

/* ----------------------------------------------------------------- flush */

/* Write node-role @id's record, keeping the stored summary and log unless
 * a run ended since. */
static int write_nr(struct anneal *A, struct store_txn *t, uint32_t id)
{
	struct ann_nr_info info;
	struct nrx *x = &A->nrx[id];
	uint8_t key[NR_KEY_MAX];
	struct store_val old;
	struct nr_view ov = { 0 };
	struct codec_w w;
	const uint32_t *par;
	uint32_t n_par;
	ann_nr_info(A->a, id, &info);
	const char *node = ann_node_name(A->a, info.node);
	if (A->rebuild_pending && names_has(&A->renamed_from, node))
		return 0;   /* renamed away in the store; it runs again under its new name */
	size_t kn = nr_key(key, ann_deployment_name(A->a, info.dep), node, ann_role_name(A->a, info.role));
	int rc = store_get(t, A->t_nr, key, kn, &old);
	bool have = rc == 0 && nr_decode(&old, &ov) == 0;
	if (rc < 0 && rc != NETD_ENOTFOUND)
		return rc;
	codec_w_init(&w);
	codec_put_u8(&w, 'N');
	codec_put_u8(&w, REC_VERSION);
	codec_put_u8(&w, (uint8_t)info.state);
	codec_put_u32(&w, info.run_count);
	codec_put_u32(&w, info.attempts);
	codec_put_u32(&w, info.cohort);
	codec_put_u64(&w, x->changed_at);
	codec_put_u64(&w, x->hash);
	codec_put_u8(&w, x->has_hash);
	if (x->summary)
		put_span(&w, x->summary, strlen(x->summary));
	else
		put_span(&w, have ? ov.summary : "", have ? ov.summary_len : 0);
	ann_nr_parents(A->a, id, &par, &n_par);
	codec_put_u16(&w, (uint16_t)(n_par > UINT16_MAX ? UINT16_MAX : n_par));
	for (uint32_t i = 0; i < n_par && i < UINT16_MAX; i++) {
		char name[2 * MODEL_NAME_MAX + 2];
		ann_nr_name(A->a, par[i], name, sizeof name);
		put_span(&w, name, strlen(name));
	}
	const char *log = x->log ? x->log : have ? ov.log : "";
	size_t log_len = x->log ? x->log_len : have ? ov.log_len : 0;
	codec_put_u32(&w, (uint32_t)log_len);
	codec_put_bytes(&w, log, log_len);
	rc = w.err ? w.err : store_put(t, A->t_nr, key, kn, w.buf, w.len);
	codec_w_free(&w);
	return rc;
}

static int write_event(struct anneal *A, struct store_txn *t, uint64_t seq, const struct pev *p)
{
	struct ann_nr_info info;
	uint8_t key[8];
	struct codec_w w;
	ann_nr_info(A->a, p->nr, &info);
	be64_put(key, seq);
	codec_w_init(&w);
	codec_put_u8(&w, 'E');
	codec_put_u8(&w, REC_VERSION);
	codec_put_u64(&w, p->at);
	codec_put_str(&w, ann_deployment_name(A->a, info.dep));
	codec_put_str(&w, ann_node_name(A->a, info.node));
	codec_put_str(&w, ann_role_name(A->a, info.role));
	codec_put_u8(&w, p->from);
	codec_put_u8(&w, p->to);
	codec_put_str(&w, p->cause);
	int rc = w.err ? w.err : store_put(t, A->t_event, key, sizeof key, w.buf, w.len);
	codec_w_free(&w);
	return rc;
}

static int write_counts(struct anneal *A, struct store_txn *t)
{
	struct ann_stats st;
	uint8_t b[2 + 4 * ANN_NSTATES];
	ann_stats(A->a, &st);
	b[0] = 'C';
	b[1] = REC_VERSION;
	for (int i = 0; i < ANN_NSTATES; i++)
		for (int k = 0; k < 4; k++)
			b[2 + 4 * i + k] = (uint8_t)(st.count[i] >> (24 - 8 * k));
	return model_meta_put(&A->d->mt, t, META_COUNTS, b, sizeof b);
}

/* Requests applied (sequence <= req_done) go with the state they produced. */
static int delete_requests(struct anneal *A, struct store_txn *t)
{
	struct store_cursor *c = NULL;
	struct store_val k;
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc = store_cursor_open(t, A->t_req, &c);
	for (rc = rc < 0 ? rc : store_cursor_first(c, &k, NULL); rc == 0; rc = store_cursor_next(c, &k, NULL)) {
		if (k.n != 8 || be64_get(k.p) > A->req_done)
			break;
		uint64_t *v = realloc(seqs, (n + 1) * sizeof *v);
		if (!v) {
			rc = -ENOMEM;
			break;
		}
		seqs = v;
		seqs[n++] = be64_get(k.p);
	}
	store_cursor_close(c);   /* before deleting */
	rc = rc == NETD_ENOTFOUND ? 0 : rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t key[8];
		be64_put(key, seqs[i]);
		rc = store_del(t, A->t_req, key, sizeof key);
	}
	free(seqs);
	return rc;
}

/* One transaction for everything the turn changed.  May run twice (the
 * store grows its map and calls again): it only writes. */
static int flush_txn(struct store_txn *t, void *arg)
{
	struct anneal *A = arg;
	int rc = 0;
	for (uint32_t i = 0; i < A->dirty.n && rc == 0; i++)
		rc = write_nr(A, t, A->dirty.v[i]);
	for (size_t i = 0; i < A->n_ev && rc == 0; i++)
		rc = write_event(A, t, A->last_seq + 1 + i, &A->ev[i]);
	if (rc == 0 && A->n_ev)
		rc = meta_u64_put(&A->d->mt, t, META_EVENT_SEQ, A->last_seq + A->n_ev);
	if (rc == 0)
		rc = write_counts(A, t);
	if (rc == 0 && A->req_done > A->req_deleted)
		rc = delete_requests(A, t);
	return rc;
}

static void on_retry(struct loop *l, void *arg);
static void on_wakeup(struct loop *l, void *arg);

/* Persist what changed; on success publish the events. */
static int flush(struct anneal *A)
{
	if (!A->dirty.n && !A->n_ev && A->req_done == A->req_deleted)
		return 0;
	int rc = store_update(A->d->store, flush_txn, A);
	if (rc < 0) {
		log_err("annealer: persisting %" PRIu32 " node-roles and %zu events failed: %s (trying again)",
			A->dirty.n, A->n_ev, netd_strerror(rc));
		if (!A->retry)
			loop_timer_add(A->d->loop, ANNEAL_FLUSH_RETRY_MS, 0, on_retry, A, &A->retry);
		return rc;
	}
	for (uint32_t i = 0; i < A->dirty.n; i++) {
		struct nrx *x = &A->nrx[A->dirty.v[i]];
		x->dirty = false;
		x->stored = true;
		free(x->summary);
		free(x->log);
		x->summary = x->log = NULL;
		x->log_len = 0;
	}
	A->dirty.n = 0;
	A->req_deleted = A->req_done;
	pthread_mutex_lock(&A->lock);
	A->last_seq += A->n_ev;
	if (A->n_ev)
		pthread_cond_broadcast(&A->cond);
	pthread_mutex_unlock(&A->lock);
	A->n_ev = 0;
	return 0;
}

/* ------------------------------------------------------ building the ann */

/* Roles, deployments, nodes and node-roles of A->spec into A->a. */
static int build_model(struct anneal *A)
{
	struct netd_err e = { 0 };
	int rc;
	for (size_t i = 0; i < A->spec.n_roles; i++) {
		const struct srole *r = &A->spec.roles[i];
		struct ann_role_def def = { .name = r->name, .jig = r->jig, .requires = (const char *const *)r->req,
					    .n_requires = r->n_req, .flags = r->flags, .retry = r->retry };
		if ((rc = ann_role_add(A->a, &def, NULL, &e)) == -ENOMEM)
			return rc;
		if (rc < 0)
			log_err("annealer: role %s left out: %s", r->name, e.msg);
		netd_err_clear(&e);
	}
	for (size_t i = 0; i < A->spec.n_deps; i++) {
		const struct sdep *dp = &A->spec.deps[i];
		uint32_t dep, node, role;
		if (ann_deployment_find(A->a, dp->name, &dep) < 0 && (rc = ann_deployment_add(A->a, dp->name, &dep, &e)) < 0)
			return rc;
		for (size_t k = 0; k < dp->n_nodes; k++) {
			if (ann_node_find(A->a, dp->nodes[k], &node) < 0 &&
			    (rc = ann_node_add(A->a, dp->nodes[k], &node, &e)) < 0)
				return rc;
			for (size_t m = 0; m < dp->n_roles; m++) {
				uint32_t id;
				if (ann_role_find(A->a, dp->roles[m], &role) < 0 ||
				    ann_noderole_find(A->a, node, role, dep, &id) == 0)
					continue;
				if ((rc = ann_noderole_add(A->a, node, role, dep, NULL, &e)) < 0)
					return rc;
			}
		}
	}
	return sync_nrs(A);
}

/* Bind every committed deployment (ann_restore needs bound node-roles).
 * A deployment may bind to node-roles of another one that must be bound
 * first, and the documents do not say in which order they were committed:
 * passes until one binds nothing more. */
static int bind_committed(struct anneal *A, struct store_txn *t)
{
	size_t n = A->spec.n_deps, left = 0;
	bool *todo = calloc(n + 1, sizeof *todo);
	int rc = todo ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = dep_committed(A->t_dep, t, A->spec.deps[i].name, &todo[i]);
		left += todo[i];
	}
	for (bool progress = true; rc == 0 && left && progress;) {
		progress = false;
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct netd_err e = { 0 };
			uint32_t dep;
			if (!todo[i] || ann_deployment_find(A->a, A->spec.deps[i].name, &dep) < 0)
				continue;
			if ((rc = ann_bind(A->a, dep, &e)) == 0) {
				todo[i] = false;
				left--;
				progress = true;
			}
			rc = rc == -ENOMEM ? rc : 0;
		}
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct netd_err e = { 0 };
		uint32_t dep;
		if (todo[i] && ann_deployment_find(A->a, A->spec.deps[i].name, &dep) == 0 && ann_bind(A->a, dep, &e) < 0)
			log_err("annealer: deployment %s cannot be bound, its node-roles stay proposed: %s",
				A->spec.deps[i].name, e.msg);
	}
	free(todo);
	return rc < 0 ? rc : sync_nrs(A);
}

struct keylist {
	uint8_t (*v)[NR_KEY_MAX];
	size_t *len;
	size_t n;
};

static int keylist_add(struct keylist *l, const void *k, size_t n)
{
	void *v = realloc(l->v, (l->n + 1) * sizeof *l->v);
	if (!v)
		return -ENOMEM;
	l->v = v;
	size_t *len = realloc(l->len, (l->n + 1) * sizeof *len);
	if (!len)
		return -ENOMEM;
	l->len = len;
	memcpy(l->v[l->n], k, n < NR_KEY_MAX ? n : NR_KEY_MAX);
	l->len[l->n++] = n < NR_KEY_MAX ? n : NR_KEY_MAX;
	return 0;
}

static void keylist_free(struct keylist *l)
{
	free(l->v);
	free(l->len);
	*l = (struct keylist){ 0 };
}

/* Load one stored node-role into the ann; records the ann no longer has
 * (a deployment, node or role removed) go to @stale. */
static int restore_one(struct anneal *A, const struct store_val *k, const struct store_val *v, struct keylist *stale)
{
	char dn[MODEL_NAME_MAX], nn[MODEL_NAME_MAX], rn[MODEL_NAME_MAX];
	uint32_t dep, node, role, id;
	struct nr_view x;
	struct ann_nr_info info;
	struct netd_err e = { 0 };
	if (!nr_key_split(k, dn, nn, rn) || nr_decode(v, &x) < 0) {
		log_warn("annealer: a node-role record does not decode; dropped");
		return keylist_add(stale, k->p, k->n);
	}
	if (ann_deployment_find(A->a, dn, &dep) < 0 || ann_node_find(A->a, nn, &node) < 0 ||
	    ann_role_find(A->a, rn, &role) < 0 || ann_noderole_find(A->a, node, role, dep, &id) < 0)
		return keylist_add(stale, k->p, k->n);
	struct nrx *nx = &A->nrx[id];
	nx->stored = true;
	nx->hash = x.hash;
	nx->has_hash = x.has_hash;
	nx->changed_at = x.changed_at;
	ann_nr_info(A->a, id, &info);
	if (!info.bound || x.state == ANN_PROPOSED)
		return 0;
	enum ann_state st = x.state;
	uint64_t now = loop_now_ms();
	int rc = ann_restore(A->a, id, st, x.run_count, x.attempts, now, &e);
	if (rc == NETD_EINUSE)   /* two in transition on one node: queue this one again */
		rc = ann_restore(A->a, id, ANN_TODO, x.run_count, x.attempts, now, &e);
	if (rc < 0)
		log_err("annealer: node-role %s@%s of %s not restored: %s", rn, nn, dn, e.msg);
	return 0;
}

/* Stored deployment records of deployments that are gone, to @stale. */
static int stale_deps(struct anneal *A, struct store_txn *t, struct keylist *stale)
{
	struct store_cursor *c = NULL;
	struct store_val k, v;
	int rc = store_cursor_open(t, A->t_dep, &c);
	for (rc = rc < 0 ? rc : store_cursor_first(c, &k, &v); rc == 0; rc = store_cursor_next(c, &k, &v)) {
		char name[MODEL_NAME_MAX];
		snprintf(name, sizeof name, "%.*s", (int)(k.n < MODEL_NAME_MAX ? k.n : MODEL_NAME_MAX - 1),
			 (const char *)k.p);
		if (!spec_dep(&A->spec, name) && (rc = keylist_add(stale, k.p, k.n)) < 0)
			break;
	}
	store_cursor_close(c);
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

struct stale {
	struct anneal *A;
	struct keylist *nrs, *deps;
};

static int delete_stale(struct store_txn *t, void *arg)
{
	struct stale *s = arg;
	int rc = 0;
	for (size_t i = 0; i < s->nrs->n && rc == 0; i++)
		rc = store_del(t, s->A->t_nr, s->nrs->v[i], s->nrs->len[i]);
	for (size_t i = 0; i < s->deps->n && rc == 0; i++)
		rc = store_del(t, s->A->t_dep, s->deps->v[i], s->deps->len[i]);
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

/* An active node-role bound to a parent that is not active (binding
 * differs from the one it ran under) runs again after that parent. */
static void fix_active(struct anneal *A, uint64_t now)
{
	struct ann_stats st;
	ann_stats(A->a, &st);
	for (uint32_t id = 0; id < st.n_nrs; id++) {
		struct ann_nr_info info, pi;
		const uint32_t *par;
		uint32_t n;
		ann_nr_info(A->a, id, &info);
		const struct srole *r = role_of(A, &info);
		if (info.state != ANN_ACTIVE || (r && (r->flags & ANN_ROLE_DESTRUCTIVE)))
			continue;
		ann_nr_parents(A->a, id, &par, &n);
		for (uint32_t i = 0; i < n; i++) {
			ann_nr_info(A->a, par[i], &pi);
			if (pi.state != ANN_ACTIVE) {
				ann_invalidate(A->a, id, now, "a parent is not active after reloading", NULL);
				break;
			}
		}
	}
}

/* Build A->a from the documents and the stored states (start, rebuild). */
static int load(struct anneal *A, struct netd_err *e)
{
	struct netd *d = A->d;
	struct ann_opts o = { .max_running = d->cfg.anneal_max_running, .on_event = on_event, .event_arg = A };
	struct store_txn *t = NULL;
	struct store_cursor *c = NULL;
	struct keylist stale = { 0 }, stale_d = { 0 };
	struct store_val k, v;
	int rc = ann_new(&o, &A->a);
	if (rc < 0)
		return netd_err_set(e, rc, NULL, "annealer: out of memory");
	if ((rc = store_read_begin(d->store, &t)) < 0)
		return netd_err_set(e, rc, NULL, "annealer: reading the store: %s", netd_strerror(rc));
	A->loading = true;
	if ((rc = spec_load(d, t, &A->spec)) < 0 || (rc = build_model(A)) < 0 || (rc = bind_committed(A, t)) < 0 ||
	    (rc = store_cursor_open(t, A->t_nr, &c)) < 0)
		goto out;
	for (rc = store_cursor_first(c, &k, &v); rc == 0; rc = store_cursor_next(c, &k, &v))
		if ((rc = restore_one(A, &k, &v, &stale)) < 0)
			break;
	store_cursor_close(c);
	rc = rc == NETD_ENOTFOUND ? 0 : rc;
	if (rc == 0)
		rc = stale_deps(A, t, &stale_d);
out:
	A->loading = false;
	store_read_end(t);
	if (rc < 0) {
		keylist_free(&stale);
		keylist_free(&stale_d);
		return netd_err_set(e, rc, NULL, "annealer: loading roles, deployments and node-roles: %s",
				    netd_strerror(rc));
	}
	uint64_t now = loop_now_ms();
	size_t recovered = ann_recover(A->a, now);
	fix_active(A, now);
	for (uint32_t id = 0; id < A->synced; id++)
		if (!A->nrx[id].stored) {
			A->nrx[id].changed_at = wall_ms();
			mark_dirty(A, id);
		}
	if (stale.n || stale_d.n) {
		struct stale s = { A, &stale, &stale_d };
		if ((rc = store_update(d->store, delete_stale, &s)) < 0)
			log_err("annealer: removing %zu node-roles of removed deployments, nodes or roles failed: %s",
				stale.n, netd_strerror(rc));
	}
	struct ann_stats st;
	ann_stats(A->a, &st);
	log_info("annealer: %" PRIu32 " roles, %" PRIu32 " deployments, %" PRIu32 " node-roles loaded, %zu queued "
		 "again after a stop in transition, %zu records of removed entries dropped",
		 st.n_roles, st.n_deps, st.n_nrs, recovered, stale.n + stale_d.n);
	keylist_free(&stale);
	keylist_free(&stale_d);
	A->requests_pending = true;
	return 0;
}

/* Everything load() builds, freed. */
static void unload(struct anneal *A)
{
	for (uint32_t i = 0; i < A->touched.n && A->a; i++)   /* ids die with the ann: keep the names */
		names_add(&A->touched_names, ann_node_name(A->a, A->touched.v[i]));
	A->touched.n = 0;
	ann_free(A->a);
	A->a = NULL;
	spec_free(&A->spec);
	for (uint32_t i = 0; i < A->cap_nrx; i++) {
		free(A->nrx[i].summary);
		free(A->nrx[i].log);
	}
	free(A->nrx);
	A->nrx = NULL;
	A->cap_nrx = 0;
	for (uint32_t i = 0; i < A->n_node_nrs; i++)
		idv_free(&A->node_nrs[i]);
	free(A->node_nrs);
	A->node_nrs = NULL;
	free(A->touched_flag);
	A->touched_flag = NULL;
	A->n_node_nrs = 0;
	A->synced = 0;
	A->dirty.n = 0;
}

/* The invalidation cascade of every node-role of node @name. */
static void rerun_node(struct anneal *A, const char *name, const char *cause)
{
	uint32_t node;
	if (ann_node_find(A->a, name, &node) < 0 || node >= A->n_node_nrs)
		return;
	for (uint32_t i = 0; i < A->node_nrs[node].n; i++) {
		struct netd_err e = { 0 };
		if (ann_invalidate(A->a, A->node_nrs[node].v[i], loop_now_ms(), cause, &e) < 0)
			log_debug("annealer: %s", e.msg);
	}
}

static void rebuild(struct anneal *A)
{
	struct netd_err e = { 0 };
	if (flush(A) < 0)
		return;   /* on_retry comes back */
	unload(A);
	if (load(A, &e) < 0) {
		log_err("%s (trying again)", e.msg);
		unload(A);
		A->a = NULL;
		if (!A->retry)
			loop_timer_add(A->d->loop, ANNEAL_FLUSH_RETRY_MS, 0, on_retry, A, &A->retry);
		return;
	}
	A->rebuild_pending = false;
	for (size_t i = 0; i < A->touched_names.n; i++)
		note_touched(A, A->touched_names.v[i]);
	A->touched_names.n = 0;
	for (size_t i = 0; i < A->renamed_to.n; i++) {
		char cause[2 * MODEL_NAME_MAX + 32];
		snprintf(cause, sizeof cause, "node %s renamed from %s", A->renamed_to.v[i],
			 i < A->renamed_from.n ? A->renamed_from.v[i] : "?");
		rerun_node(A, A->renamed_to.v[i], cause);
	}
	names_free(&A->renamed_from);
	names_free(&A->renamed_to);
}

/* ---------------------------------------------------------------- inputs */

/* Node @name with its attachments and active addresses as RESTCONF JSON
 * ({"netd:node":[{...}]}, as a GET of the entry shows it).  0 and *out,
 * NETD_ENOTFOUND, or another negative code. */
static int node_json(struct netd *d, struct store_txn *t, const char *name, char **out)
{
	static const int fams[] = { ADDR_V4, ADDR_V6 };
	struct model_node n = { 0 };
	struct model_alloc *addrs = NULL;
	struct lyd_node *entry = NULL, *top = NULL;
	size_t k = 0;
	int rc = model_node_get(&d->mt, t, name, &n);
	if (rc < 0)
		return rc;
	if (!(addrs = calloc(n.n_nets * 2 + 1, sizeof *addrs))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n.n_nets; i++)
		for (size_t f = 0; f < 2; f++) {
			rc = model_alloc_by_owner(&d->mt, t, OWNER_NODE, n.name, n.nets[i].network, fams[f], &addrs[k]);
			if (rc == 0 && addrs[k].state == ALLOC_ACTIVE)
				k++;
			else if (rc < 0 && rc != NETD_ENOTFOUND)
				goto out;
		}
	if ((rc = ym_node_to_lyd(d->ly, NULL, &n, addrs, k, &entry)) < 0)
		goto out;
	top = lyd_parent(entry);
	lyd_unlink_tree(entry);   /* printed alone it carries its module: {"netd:node":[...]} */
	rc = lyd_print_mem(out, entry, LYD_JSON, LYD_PRINT_SHRINK) == LY_SUCCESS && *out ? 0 : -ENOMEM;
out:
	lyd_free_tree(entry);
	lyd_free_all(top);
	free(addrs);
	model_node_clear(&n);
	return rc;
}

/* The last node printed, for runs of several node-roles of one node. */
struct node_cache {
	bool valid, exists;
	char name[MODEL_NAME_MAX];
	char *json;
};

static void node_cache_clear(struct node_cache *nc)
{
	free(nc->json);
	*nc = (struct node_cache){ 0 };
}

/* The input document of node-role @id (heap, in *json); *exists false
 * when the node is not in the model ("data": null). */
static int build_input(struct anneal *A, struct store_txn *t, uint32_t id, struct node_cache *nc, char **json,
		       bool *exists)
{
	struct ann_nr_info info;
	const uint32_t *par;
	uint32_t n_par;
	char *buf = NULL;
	size_t len = 0;
	ann_nr_info(A->a, id, &info);
	const char *node = ann_node_name(A->a, info.node);
	const struct srole *r = role_of(A, &info);
	if (!nc->valid || strcmp(nc->name, node)) {
		node_cache_clear(nc);
		int rc = node_json(A->d, t, node, &nc->json);
		if (rc < 0 && rc != NETD_ENOTFOUND)
			return rc;
		nc->exists = rc == 0;
		nc->valid = true;
		snprintf(nc->name, sizeof nc->name, "%s", node);
	}
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputs("{\"deployment\":", f);
	json_str(f, ann_deployment_name(A->a, info.dep));
	fputs(",\"node\":", f);
	json_str(f, node);
	fputs(",\"role\":", f);
	json_str(f, ann_role_name(A->a, info.role));
	fputs(",\"jig\":", f);
	json_str(f, ann_role_jig(A->a, info.role));
	fputs(",\"attributes\":{", f);
	for (size_t i = 0; r && i < r->n_attrs; i++) {
		if (i)
			fputc(',', f);
		json_str(f, r->attrs[i].name);
		fputc(':', f);
		json_str(f, r->attrs[i].value);
	}
	fputs("},\"parents\":[", f);
	ann_nr_parents(A->a, id, &par, &n_par);
	for (uint32_t i = 0; i < n_par; i++) {
		char name[2 * MODEL_NAME_MAX + 2];
		if (i)
			fputc(',', f);
		json_str(f, ann_nr_name(A->a, par[i], name, sizeof name));
	}
	fprintf(f, "],\"data\":%s}", nc->exists ? nc->json : "null");
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return -ENOMEM;
	}
	*json = buf;
	*exists = nc->exists;
	return 0;
}

/* ------------------------------------------------------------- run ends */

/* Keep a run's summary and log for the flush (the log capped, middle cut,
 * made printable). */
static void set_result(struct anneal *A, uint32_t nr, const char *summary, const char *log, size_t log_len)
{
	static const char cut[] = "\n[... cut ...]\n";
	struct nrx *x = &A->nrx[nr];
	free(x->summary);
	free(x->log);
	x->summary = strndup(summary ? summary : "", ANNEAL_SUMMARY_MAX);
	size_t keep = log_len > ANNEAL_LOG_MAX ? ANNEAL_LOG_MAX : log_len;
	x->log = malloc(keep + 1);
	x->log_len = 0;
	if (x->summary)
		utf8_sanitize(x->summary, strlen(x->summary));
	if (!x->log)
		return;
	if (log_len > ANNEAL_LOG_MAX) {
		size_t half = (ANNEAL_LOG_MAX - sizeof cut + 1) / 2;
		memcpy(x->log, log, half);
		memcpy(x->log + half, cut, sizeof cut - 1);
		memcpy(x->log + half + sizeof cut - 1, log + log_len - half, half);
		keep = 2 * half + sizeof cut - 1;
	} else if (keep) {
		memcpy(x->log, log, keep);
	}
	x->log[keep] = '\0';
	x->log_len = keep;
	utf8_sanitize(x->log, keep);
}

static void complete(struct anneal *A, uint32_t nr, bool ok, const char *summary, const char *log, size_t log_len)
{
	struct netd_err e = { 0 };
	set_result(A, nr, summary, log, log_len);
	/* the sanitized copy: the cause goes into events and RESTCONF */
	if (ann_complete(A->a, nr, ok, loop_now_ms(), A->nrx[nr].summary, &e) < 0)
		log_err("annealer: %s", e.msg);
	kick(A);
}

/* Every jig's end (loop thread). */
static void on_done(void *arg, const struct ann_jig_input *in, const struct ann_jig_result *res)
{
	complete(arg, in->nr, res->ok, res->summary, res->log, res->log_len);
}

/* ------------------------------------------------------------ the ipam jig */

struct ipam_job {
	struct anneal *A;
	const char *node;
	bool missing;
	struct ipam_tally tally;
	struct netd_err err;
	char *log;
	size_t n_addrs;
};

/* The node's active addresses, one line each, into job->log. */
static int list_addresses(struct ipam_job *j, struct store_txn *t, const struct model_node *n)
{
	static const int fams[] = { ADDR_V4, ADDR_V6 };
	size_t len = 0;
	FILE *f = open_memstream(&j->log, &len);
	if (!f)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < n->n_nets && rc == 0; i++)
		for (size_t k = 0; k < 2 && rc == 0; k++) {
			struct model_alloc a = { 0 };
			char text[ADDR_STRLEN];
			rc = model_alloc_by_owner(&j->A->d->mt, t, OWNER_NODE, n->name, n->nets[i].network, fams[k], &a);
			if (rc == NETD_ENOTFOUND) {
				rc = 0;
				continue;
			}
			if (rc == 0 && a.state == ALLOC_ACTIVE) {
				addr_print(&a.addr, text, sizeof text);
				fprintf(f, "%s %s %s\n", n->nets[i].network, fams[k] == ADDR_V4 ? "ipv4" : "ipv6", text);
				j->n_addrs++;
			}
		}
	if (fclose(f) != 0)
		rc = rc ? rc : -ENOMEM;
	return rc;
}

static int ipam_txn(struct store_txn *t, void *arg)
{
	struct ipam_job *j = arg;
	struct netd *d = j->A->d;
	struct model_node n = { 0 };
	free(j->log);   /* the store may call again from scratch */
	j->log = NULL;
	j->n_addrs = 0;
	j->missing = false;
	j->tally = (struct ipam_tally){ 0 };
	netd_err_clear(&j->err);
	int rc = model_node_get(&d->mt, t, j->node, &n);
	if (rc == NETD_ENOTFOUND) {
		j->missing = true;
		return 0;
	}
	if (rc == 0) {
		ipam_set_tally(d->ipam, &j->tally);
		rc = ipam_node_sync(d->ipam, t, &n, &n, wall_now_s(), &j->err);
		ipam_set_tally(d->ipam, NULL);
	}
	if (rc == 0 && j->tally.allocated > 0) {
		/* new addresses: DNS derives their records in this transaction */
		struct ops_result r = { 0 };
		if ((rc = ops_touch_node(&r.touched, n.name)) == 0 && (rc = dnsd_txn(d, t, &r.touched, wall_now_s(), &r)) < 0)
			netd_err_set(&j->err, rc, r.err.path, "%s", r.err.msg);
		ops_result_clear(&r);
	}
	if (rc == 0)
		rc = list_addresses(j, t, &n);
	model_node_clear(&n);
	return rc;
}

/* Synchronous: the loop thread is the writer, so the allocation runs
 * between two writer batches, in its own transaction. */
static int ipam_start(void *ctx, struct ann_jigs *J, const struct ann_jig_input *in, struct ann_jig_run *run,
		      struct netd_err *e)
{
	(void)e;
	struct anneal *A = ctx;
	struct ipam_job j = { .A = A, .node = in->node };
	char summary[NETD_ERR_MSG_MAX + 16];
	int rc = store_update(A->d->store, ipam_txn, &j);
	if (rc < 0) {
		snprintf(summary, sizeof summary, "ipam: %s", j.err.msg[0] ? j.err.msg : netd_strerror(rc));
		ann_jig_finish(J, run, false, summary, NULL);
	} else if (j.missing) {
		snprintf(summary, sizeof summary, "node %s is not in the model", in->node);
		ann_jig_finish(J, run, false, summary, NULL);
	} else {
		snprintf(summary, sizeof summary, "%zu addresses (%" PRIu64 " new)", j.n_addrs, j.tally.allocated);
		ann_jig_finish(J, run, true, summary, j.log);
	}
	if (rc >= 0 && j.tally.allocated > 0) {
		struct ops_touched tc = { 0 };
		if (ops_touch_node(&tc, in->node) == 0)
			dnsd_committed(A->d, &tc);
		ops_touched_clear(&tc);
		/* its own allocation is part of this run: snapshot the input as it
		 * is now, so the re-check of the node does not re-run it */
		struct store_txn *t = NULL;
		struct node_cache nc = { 0 };
		char *json = NULL;
		bool exists;
		if (store_read_begin(A->d->store, &t) == 0 && build_input(A, t, in->nr, &nc, &json, &exists) == 0)
			A->nrx[in->nr].hash = fnv1a(json);
		store_read_end(t);
		free(json);
		node_cache_clear(&nc);
		note_touched(A, in->node);   /* other deployments' node-roles of the node */
	}
	free(j.log);
	return 0;
}

static const struct ann_jig_ops ipam_jig = { .name = "ipam", .start = ipam_start, .cancel = NULL };

/* ------------------------------------------------------------- the dns jig */

struct dns_run {
	struct anneal *A;
	struct ann_jigs *J;
	struct ann_jig_run *run;
	struct loop_timer *timer;
	uint64_t deadline;          /* loop_now_ms() */
	uint32_t timeout_s;
};

static void dns_run_free(struct dns_run *r)
{
	loop_timer_del(r->A->d->loop, r->timer);
	free(r);
}

/* Look once; true when the run ended (then @r is freed). */
static bool dns_poll(struct dns_run *r)
{
	const struct ann_jig_input *in = ann_jig_run_input(r->run);
	uint64_t c[6] = { 0 };
	char summary[256], log[256];
	bool ok = false;
	int rc = dnsd_node_status(r->A->d, in->node, c);
	uint64_t total = c[0] + c[1] + c[2] + c[3] + c[4] + c[5];
	snprintf(log, sizeof log,
		 "pending %" PRIu64 " published %" PRIu64 " verified %" PRIu64 " error %" PRIu64 " conflict %" PRIu64
		 " drift %" PRIu64 "\n", c[0], c[1], c[2], c[3], c[4], c[5]);
	if (rc == NETD_ENOTFOUND) {
		ok = true;
		snprintf(summary, sizeof summary, "no DNS records intended for node %s", in->node);
		log[0] = '\0';
	} else if (rc < 0) {
		snprintf(summary, sizeof summary, "cannot read the DNS record states: %s", netd_strerror(rc));
	} else if (c[3] + c[4] > 0) {
		snprintf(summary, sizeof summary, "%" PRIu64 " records in error, %" PRIu64 " in conflict", c[3], c[4]);
	} else if (c[2] == total) {
		ok = true;
		snprintf(summary, sizeof summary, "%" PRIu64 " records verified", total);
	} else if (loop_now_ms() >= r->deadline) {
		snprintf(summary, sizeof summary, "timed out after %" PRIu32 " s: %" PRIu64 " of %" PRIu64
			 " records verified", r->timeout_s, c[2], total);
	} else {
		return false;
	}
	struct ann_jigs *J = r->J;
	struct ann_jig_run *run = r->run;
	ann_jig_run_set_data(run, NULL);
	dns_run_free(r);
	ann_jig_finish(J, run, ok, summary, log);
	return true;
}

static void dns_tick(struct loop *l, void *arg)
{
	(void)l;
	dns_poll(arg);
}

static int dns_start(void *ctx, struct ann_jigs *J, const struct ann_jig_input *in, struct ann_jig_run *run,
		     struct netd_err *e)
{
	struct dns_run *r = calloc(1, sizeof *r);
	if (!r)
		return netd_err_set(e, -ENOMEM, NULL, "dns jig: out of memory");
	uint32_t ms = in->timeout_ms ? in->timeout_ms : ANN_JIG_TIMEOUT_DEFAULT_MS;
	*r = (struct dns_run){ .A = ctx, .J = J, .run = run, .deadline = loop_now_ms() + ms, .timeout_s = ms / 1000 };
	ann_jig_run_set_data(run, r);
	if (dns_poll(r))
		return 0;
	int rc = loop_timer_add(r->A->d->loop, ANNEAL_DNS_POLL_MS, ANNEAL_DNS_POLL_MS, dns_tick, r, &r->timer);
	if (rc < 0) {
		ann_jig_run_set_data(run, NULL);
		dns_run_free(r);
		return netd_err_set(e, rc, NULL, "dns jig: cannot arm the poll timer: %s", netd_strerror(rc));
	}
	return 0;
}

static void dns_cancel(void *ctx, struct ann_jig_run *run)
{
	(void)ctx;
	struct dns_run *r = ann_jig_run_data(run);
	if (r)
		dns_run_free(r);
}

static const struct ann_jig_ops dns_jig = { .name = "dns", .start = dns_start, .cancel = dns_cancel };

/* -------------------------------------------------------------- the turn */

struct start {
	uint32_t nr;
	char *json;
	bool exists;
	int rc;
};

/* NETD_ATTR_<NAME>=value for each attribute (name upper-cased, other
 * characters than letters and digits as '_'). */
static char **attr_env(const struct srole *r, size_t *n)
{
	char **env = calloc(r->n_attrs + 1, sizeof *env);
	*n = 0;
	if (!env)
		return NULL;
	for (size_t i = 0; i < r->n_attrs; i++) {
		if (asprintf(&env[i], "NETD_ATTR_%s=%s", r->attrs[i].name, r->attrs[i].value) < 0) {
			strv_free(env, i);
			return NULL;
		}
		for (char *p = env[i] + 10; *p != '='; p++)
			*p = (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') :
			     ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) ? *p : '_';
	}
	*n = r->n_attrs;
	return env;
}

static void start_one(struct anneal *A, struct start *s)
{
	struct ann_nr_info info;
	struct netd_err e = { 0 };
	char why[NETD_ERR_MSG_MAX + 64];
	ann_nr_info(A->a, s->nr, &info);
	const struct srole *r = role_of(A, &info);
	const char *node = ann_node_name(A->a, info.node);
	struct nrx *x = &A->nrx[s->nr];
	if (s->rc < 0) {
		snprintf(why, sizeof why, "cannot build the input: %s", netd_strerror(s->rc));
		complete(A, s->nr, false, why, NULL, 0);
		return;
	}
	x->hash = fnv1a(s->json);
	x->has_hash = true;
	mark_dirty(A, s->nr);
	if (!s->exists) {
		snprintf(why, sizeof why, "node %s is not in the model", node);
		complete(A, s->nr, false, why, NULL, 0);
		return;
	}
	size_t n_env = 0;
	char **env = r ? attr_env(r, &n_env) : NULL;
	struct ann_jig_input in = {
		.nr = s->nr, .deployment = ann_deployment_name(A->a, info.dep), .node = node,
		.role = ann_role_name(A->a, info.role), .input_json = s->json, .env = (const char *const *)env,
		.n_env = n_env, .script = r ? r->script : NULL, .timeout_ms = r ? r->timeout_s * 1000u : 0,
	};
	int rc = r && !env ? -ENOMEM : ann_jig_start(A->jigs, ann_role_jig(A->a, info.role), &in, &e);
	strv_free(env, n_env);
	if (rc < 0) {
		snprintf(why, sizeof why, "cannot start jig %s: %s", ann_role_jig(A->a, info.role),
			 e.msg[0] ? e.msg : netd_strerror(rc));
		complete(A, s->nr, false, why, NULL, 0);
	}
}

/* Start everything runnable, up to the limit.  Inputs are built in one
 * read transaction, closed before any jig starts (the ipam jig writes). */
static void schedule(struct anneal *A)
{
	uint32_t ids[ANNEAL_START_BATCH];
	struct start st[ANNEAL_START_BATCH];
	for (;;) {
		size_t n = ann_next_runnable(A->a, loop_now_ms(), ids, ANNEAL_START_BATCH);
		struct store_txn *t = NULL;
		struct node_cache nc = { 0 };
		if (n == 0)
			return;
		int rc = store_read_begin(A->d->store, &t);
		for (size_t i = 0; i < n; i++) {
			st[i] = (struct start){ .nr = ids[i], .rc = rc };
			if (rc == 0)
				st[i].rc = build_input(A, t, ids[i], &nc, &st[i].json, &st[i].exists);
		}
		store_read_end(t);
		node_cache_clear(&nc);
		for (size_t i = 0; i < n; i++) {
			start_one(A, &st[i]);
			free(st[i].json);
		}
	}
}

static void apply_request(struct anneal *A, const struct req *q)
{
	struct netd_err e = { 0 };
	uint32_t dep;
	uint64_t now = loop_now_ms();
	if (ann_deployment_find(A->a, q->dep, &dep) < 0) {
		log_warn("annealer: request %" PRIu64 " names deployment %s, which is gone", q->seq, q->dep);
		return;
	}
	if (q->kind == REQ_COMMIT) {
		if (ann_commit(A->a, dep, now, &e) < 0)
			log_err("annealer: deployment %s: commit failed: %s%s%s", q->dep, e.msg, e.path[0] ? " at " : "",
				e.path);
		if (sync_nrs(A) < 0)
			log_err("annealer: out of memory registering the node-roles of %s", q->dep);
		return;
	}
	struct ann_stats st;
	uint32_t retried = 0;
	ann_stats(A->a, &st);
	for (uint32_t id = 0; id < st.n_nrs; id++) {
		struct ann_nr_info info;
		ann_nr_info(A->a, id, &info);
		if (info.dep != dep || info.state != ANN_ERROR ||
		    (q->node[0] && strcmp(q->node, ann_node_name(A->a, info.node))) ||
		    (q->role[0] && strcmp(q->role, ann_role_name(A->a, info.role))))
			continue;
		retried += ann_retry(A->a, id, now, NULL) == 0;
	}
	log_info("annealer: deployment %s: %" PRIu32 " node-roles in error back to todo", q->dep, retried);
}

/* Apply the durable requests written since the last turn, in order. */
static void apply_requests(struct anneal *A)
{
	struct store_txn *t = NULL;
	struct store_cursor *c = NULL;
	struct store_val k, v;
	struct req *q = NULL;
	size_t n = 0;
	uint8_t from[8];
	be64_put(from, A->req_done + 1);
	int rc = store_read_begin(A->d->store, &t);
	if (rc == 0)
		rc = store_cursor_open(t, A->t_req, &c);
	for (rc = rc < 0 ? rc : store_cursor_seek(c, from, sizeof from, &k, &v); rc == 0;
	     rc = store_cursor_next(c, &k, &v)) {
		struct req *nq = realloc(q, (n + 1) * sizeof *nq);
		if (!nq) {
			rc = -ENOMEM;
			break;
		}
		q = nq;
		if (req_decode(&k, &v, &q[n]) < 0) {
			log_warn("annealer: a request record does not decode; dropped");
			q[n].kind = 0;
			q[n].seq = k.n == 8 ? be64_get(k.p) : A->req_done;
		}
		n++;
	}
	store_cursor_close(c);
	store_read_end(t);
	if (rc < 0 && rc != NETD_ENOTFOUND) {
		log_err("annealer: reading requests: %s", netd_strerror(rc));
		A->requests_pending = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (q[i].kind == REQ_COMMIT || q[i].kind == REQ_RETRY)
			apply_request(A, &q[i]);
		if (q[i].seq > A->req_done)
			A->req_done = q[i].seq;
	}
	free(q);
}

static bool recheck_wanted(const struct ann_nr_info *info, const struct nrx *x)
{
	return x->has_hash && (info->state == ANN_ACTIVE || info->state == ANN_ERROR || info->state == ANN_TRANSITION);
}

/* Inputs of the node-roles of touched nodes and changed roles: built again,
 * compared with the snapshot of their last run; a difference re-runs the
 * node-role and its descendants. */
static void recheck(struct anneal *A)
{
	struct idv ids = { 0 }, bad = { 0 };
	struct store_txn *t = NULL;
	struct node_cache nc = { 0 };
	if (!A->touched.n && !A->changed_roles.n)
		return;
	for (uint32_t i = 0; i < A->touched.n; i++) {
		uint32_t node = A->touched.v[i];
		A->touched_flag[node] = 0;
		for (uint32_t k = 0; k < A->node_nrs[node].n; k++)
			idv_push(&ids, A->node_nrs[node].v[k]);
	}
	if (A->changed_roles.n)
		for (uint32_t id = 0; id < A->synced; id++) {
			struct ann_nr_info info;
			ann_nr_info(A->a, id, &info);
			if (names_has(&A->changed_roles, ann_role_name(A->a, info.role)))
				idv_push(&ids, id);
		}
	if (store_read_begin(A->d->store, &t) == 0) {
		for (uint32_t i = 0; i < ids.n; i++) {
			struct ann_nr_info info;
			char *json = NULL;
			bool exists;
			ann_nr_info(A->a, ids.v[i], &info);
			if (!recheck_wanted(&info, &A->nrx[ids.v[i]]))
				continue;
			if (build_input(A, t, ids.v[i], &nc, &json, &exists) == 0 && fnv1a(json) != A->nrx[ids.v[i]].hash)
				idv_push(&bad, ids.v[i]);
			free(json);
		}
		store_read_end(t);
	}
	for (uint32_t i = 0; i < bad.n; i++) {
		struct netd_err e = { 0 };
		struct ann_nr_info info;
		char cause[2 * MODEL_NAME_MAX + 48];
		ann_nr_info(A->a, bad.v[i], &info);
		snprintf(cause, sizeof cause, "the input of %s@%s changed", ann_role_name(A->a, info.role),
			 ann_node_name(A->a, info.node));
		if (ann_invalidate(A->a, bad.v[i], loop_now_ms(), cause, &e) < 0)
			log_debug("annealer: %s", e.msg);
	}
	node_cache_clear(&nc);
	idv_free(&ids);
	idv_free(&bad);
	A->touched.n = 0;
	A->changed_roles.n = 0;
}

/* Additions of roles, deployments, nodes and their roles go straight into
 * the ann; anything else needs a rebuild. */
static int apply_additions(struct anneal *A, const struct spec *s)
{
	struct netd_err e = { 0 };
	uint32_t id;
	int rc = 0;
	for (size_t i = 0; i < s->n_roles && rc == 0; i++) {
		const struct srole *r = &s->roles[i];
		struct ann_role_def def = { .name = r->name, .jig = r->jig, .requires = (const char *const *)r->req,
					    .n_requires = r->n_req, .flags = r->flags, .retry = r->retry };
		if (ann_role_find(A->a, r->name, &id) < 0)
			rc = ann_role_add(A->a, &def, NULL, &e);
	}
	for (size_t i = 0; i < s->n_deps && rc == 0; i++) {
		const struct sdep *dp = &s->deps[i];
		uint32_t dep, node, role;
		if (ann_deployment_find(A->a, dp->name, &dep) < 0 && (rc = ann_deployment_add(A->a, dp->name, &dep, &e)) < 0)
			break;
		for (size_t k = 0; k < dp->n_nodes && rc == 0; k++) {
			if (ann_node_find(A->a, dp->nodes[k], &node) < 0 &&
			    (rc = ann_node_add(A->a, dp->nodes[k], &node, &e)) < 0)
				break;
			for (size_t m = 0; m < dp->n_roles && rc == 0; m++)
				if (ann_role_find(A->a, dp->roles[m], &role) == 0 &&
				    ann_noderole_find(A->a, node, role, dep, &id) < 0)
					rc = ann_noderole_add(A->a, node, role, dep, NULL, &e);
		}
	}
	if (rc == 0)
		rc = sync_nrs(A);
	if (rc < 0)
		log_err("annealer: adding to the annealer failed (%s): rebuilding it", e.msg[0] ? e.msg : netd_strerror(rc));
	return rc;
}

/* The documents changed: compare with what the ann was built from. */
static void sync_docs(struct anneal *A)
{
	struct spec s = { 0 };
	struct store_txn *t = NULL;
	int rc = store_read_begin(A->d->store, &t);
	if (rc == 0)
		rc = spec_load(A->d, t, &s);
	store_read_end(t);
	if (rc < 0) {
		log_err("annealer: reading roles and deployments: %s (rebuilding)", netd_strerror(rc));
		A->rebuild_pending = true;
		return;
	}
	bool structural = false;
	for (size_t i = 0; i < A->spec.n_roles; i++) {
		const struct srole *old = &A->spec.roles[i], *now = spec_role(&s, old->name);
		if (!now || !role_shape_eq(old, now))
			structural = true;
		/* its node-roles' inputs (jig, parents, attributes) are compared after */
		if (now && (!role_shape_eq(old, now) || !role_params_eq(old, now)))
			names_add(&A->changed_roles, old->name);
	}
	for (size_t i = 0; i < A->spec.n_deps && !structural; i++) {
		const struct sdep *old = &A->spec.deps[i], *now = spec_dep(&s, old->name);
		structural = !now;
		for (size_t k = 0; now && k < old->n_nodes && !structural; k++)
			structural = !strv_has(now->nodes, now->n_nodes, old->nodes[k]);
		for (size_t k = 0; now && k < old->n_roles && !structural; k++)
			structural = !strv_has(now->roles, now->n_roles, old->roles[k]);
	}
	if (structural || A->rebuild_pending || apply_additions(A, &s) < 0) {
		A->rebuild_pending = true;   /* load() reads the documents again */
		spec_free(&s);
		return;
	}
	spec_free(&A->spec);
	A->spec = s;
}

static void arm_wakeup(struct anneal *A)
{
	uint64_t at, now = loop_now_ms();
	if (!ann_next_wakeup(A->a, &at) || (A->wakeup && A->wakeup_at <= at))
		return;
	loop_timer_del(A->d->loop, A->wakeup);
	A->wakeup = NULL;
	if (loop_timer_add(A->d->loop, at > now ? at - now : 0, 0, on_wakeup, A, &A->wakeup) == 0)
		A->wakeup_at = at;
}

static void publish_figures(struct anneal *A)
{
	struct ann_stats st;
	ann_stats(A->a, &st);
	pthread_mutex_lock(&A->lock);
	memcpy(A->fig.count, st.count, sizeof A->fig.count);
	A->fig.running = st.running;
	A->fig.transitions = A->transitions;
	A->fig.errors = A->errors;
	pthread_mutex_unlock(&A->lock);
}

static void turn(struct anneal *A)
{
	A->kicked = false;
	if (A->docs_changed && A->a) {
		A->docs_changed = false;
		sync_docs(A);
	}
	if (A->rebuild_pending && ann_jigs_running(A->jigs) == 0)
		rebuild(A);
	if (!A->rebuild_pending && A->a) {
		if (A->requests_pending) {
			A->requests_pending = false;
			apply_requests(A);
		}
		recheck(A);
		schedule(A);
		arm_wakeup(A);
	}
	if (A->a) {
		flush(A);
		publish_figures(A);
	}
}

static void on_wake(struct loop *l, void *arg)
{
	(void)l;
	turn(arg);
}

/* The backoff of a node-role is over. */
static void on_wakeup(struct loop *l, void *arg)
{
	struct anneal *A = arg;
	loop_timer_del(l, A->wakeup);   /* allowed from its own callback */
	A->wakeup = NULL;
	kick(A);
}

/* A failed flush or rebuild is tried again. */
static void on_retry(struct loop *l, void *arg)
{
	struct anneal *A = arg;
	loop_timer_del(l, A->retry);
	A->retry = NULL;
	kick(A);
}

/* ---------------------------------------------------- hooks, start, stop */

void anneal_committed(struct netd *d, const struct ops_touched *tc)
{
	struct anneal *A = d->anneal;
	if (!A)
		return;
	if (tc->docs & (OPS_DOC_BIT(OPS_DOC_ROLES) | OPS_DOC_BIT(OPS_DOC_DEPLOYMENTS)))
		A->docs_changed = true;
	if ((tc->flags & OPS_T_RENAME) && tc->n_nodes >= 2) {
		if (names_add(&A->renamed_from, tc->nodes[0]) < 0 || names_add(&A->renamed_to, tc->nodes[1]) < 0)
			log_err("annealer: out of memory noting the rename of %s", tc->nodes[0]);
		A->rebuild_pending = true;
	}
	for (size_t i = 0; i < tc->n_nodes; i++)
		note_touched(A, tc->nodes[i]);
	if (tc->flags & OPS_T_ANNEAL) {
		/* apply and persist a commit or retry before the RPC is answered
		 * (this runs before the writer's done()), so that a GET right
		 * after the answer already sees its effect */
		A->requests_pending = true;
		turn(A);
		return;
	}
	kick(A);
}

static void anneal_free(struct anneal *A)
{
	if (!A)
		return;
	ann_jigs_free(A->jigs);
	loop_timer_del(A->d->loop, A->wakeup);
	loop_timer_del(A->d->loop, A->retry);
	unload(A);
	idv_free(&A->dirty);
	free(A->ev);
	idv_free(&A->touched);
	free(A->touched_flag);
	names_free(&A->touched_names);
	names_free(&A->changed_roles);
	names_free(&A->renamed_from);
	names_free(&A->renamed_to);
	pthread_cond_destroy(&A->cond);
	pthread_mutex_destroy(&A->lock);
	free(A);   /* the loop_wake handle belongs to the loop (freed by loop_free) */
}

static int open_tables(struct anneal *A, struct netd_err *e)
{
	struct store *s = A->d->store;
	struct store_txn *t = NULL;
	int rc;
	if ((rc = store_table(s, "ann_nr", &A->t_nr)) < 0 || (rc = store_table(s, "ann_dep", &A->t_dep)) < 0 ||
	    (rc = store_table(s, "ann_event", &A->t_event)) < 0 || (rc = store_table(s, "ann_req", &A->t_req)) < 0)
		return netd_err_set(e, rc, NULL, "annealer: store tables: %s", netd_strerror(rc));
	if ((rc = store_read_begin(s, &t)) == 0) {
		rc = meta_u64(&A->d->mt, t, META_EVENT_SEQ, &A->last_seq);
		store_read_end(t);
	}
	return rc < 0 ? netd_err_set(e, rc, NULL, "annealer: reading the event counter: %s", netd_strerror(rc)) : 0;
}

int anneal_start(struct netd *d, struct netd_err *e)
{
	struct anneal *A = calloc(1, sizeof *A);
	pthread_condattr_t ca;
	if (!A)
		return netd_err_set(e, -ENOMEM, NULL, "annealer: out of memory");
	A->d = d;
	pthread_mutex_init(&A->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&A->cond, &ca);
	pthread_condattr_destroy(&ca);
	int rc = open_tables(A, e);
	if (rc == 0 && (rc = loop_wake_new(d->loop, on_wake, A, &A->wake)) < 0)
		netd_err_set(e, rc, NULL, "annealer: wake-up handle: %s", netd_strerror(rc));
	if (rc == 0 && (rc = ann_jigs_new(d->loop, on_done, A, &A->jigs)) < 0)
		netd_err_set(e, rc, NULL, "annealer: jigs: %s", netd_strerror(rc));
	if (rc == 0 && (rc = ann_jig_register(A->jigs, &ipam_jig, A, e)) == 0)
		rc = ann_jig_register(A->jigs, &dns_jig, A, e);
	if (rc == 0)
		rc = load(A, e);
	if (rc < 0) {
		anneal_free(A);
		return rc;
	}
	d->anneal = A;
	kick(A);   /* the first turn runs when the loop does */
	return 0;
}

void anneal_stop(struct netd *d)
{
	struct anneal *A = d->anneal;
	if (!A)
		return;
	/* exec runs are killed: their node-roles stay in transition in the
	 * store and are queued again at the next start */
	ann_jigs_free(A->jigs);
	A->jigs = NULL;
	if (A->a)
		flush(A);
	pthread_mutex_lock(&A->lock);
	A->stopping = true;
	pthread_cond_broadcast(&A->cond);
	while (A->waiters)
		pthread_cond_wait(&A->cond, &A->lock);
	pthread_mutex_unlock(&A->lock);
	d->anneal = NULL;
	anneal_free(A);
}

int anneal_jig_register(struct netd *d, const struct ann_jig_ops *ops, void *ctx, struct netd_err *e)
{
	if (!d->anneal)
		return netd_err_set(e, NETD_EINVAL, NULL, "jig %s: the annealer is not running",
				    ops && ops->name ? ops->name : "?");
	return ann_jig_register(d->anneal->jigs, ops, ctx, e);
}

void anneal_figures(struct netd *d, struct anneal_figures *out)
{
	struct anneal *A = d->anneal;
	memset(out, 0, sizeof *out);
	if (!A)
		return;
	pthread_mutex_lock(&A->lock);
	*out = A->fig;
	pthread_mutex_unlock(&A->lock);
}

/* ------------------------------------------------------------ the events */

uint64_t anneal_event_last(struct netd *d)
{
	struct anneal *A = d->anneal;
	if (!A)
		return 0;
	pthread_mutex_lock(&A->lock);
	uint64_t v = A->last_seq;
	pthread_mutex_unlock(&A->lock);
	return v;
}

int anneal_event_wait(struct netd *d, uint64_t after, int timeout_ms)
{
	struct anneal *A = d->anneal;
	struct timespec dl;
	int rc = 0;
	if (!A)
		return -ECANCELED;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	if (timeout_ms > 0) {
		dl.tv_sec += timeout_ms / 1000;
		dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&A->lock);
	A->waiters++;
	while (A->last_seq <= after && !A->stopping && rc != ETIMEDOUT)
		rc = timeout_ms < 0 ? pthread_cond_wait(&A->cond, &A->lock) :
		     timeout_ms == 0 ? ETIMEDOUT : pthread_cond_timedwait(&A->cond, &A->lock, &dl);
	rc = A->stopping ? -ECANCELED : A->last_seq > after ? 0 : -ETIMEDOUT;
	if (--A->waiters == 0 && A->stopping)
		pthread_cond_broadcast(&A->cond);   /* anneal_stop waits for the last one */
	pthread_mutex_unlock(&A->lock);
	return rc;
}

int anneal_event_read(struct netd *d, struct store_txn *t, uint64_t after, size_t max,
		      int (*fn)(const struct anneal_event *ev, void *arg), void *arg)
{
	struct anneal *A = d->anneal;
	struct store_cursor *c = NULL;
	struct store_val k, v;
	struct anneal_event ev;
	uint8_t from[8];
	size_t n = 0;
	if (!A)
		return 0;
	if (after == UINT64_MAX)
		return 0;
	be64_put(from, after + 1);
	int rc = store_cursor_open(t, A->t_event, &c);
	for (rc = rc < 0 ? rc : store_cursor_seek(c, from, sizeof from, &k, &v); rc == 0 && (!max || n < max);
	     rc = store_cursor_next(c, &k, &v)) {
		if ((rc = event_decode(&k, &v, &ev)) < 0)
			break;
		n++;
		if (fn(&ev, arg))
			break;
	}
	store_cursor_close(c);
	return rc == NETD_ENOTFOUND || rc > 0 ? 0 : rc;
}

char *anneal_event_json(const struct anneal_event *ev)
{
	char *buf = NULL, when[40];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "{\"ietf-restconf:notification\":{\"eventTime\":\"%s\",\"netd:node-role-transition\":{\"seq\":\"%"
		PRIu64 "\",\"deployment\":", time_ms_print(ev->at, when, sizeof when), ev->seq);
	json_str(f, ev->deployment);
	fputs(",\"node\":", f);
	json_str(f, ev->node);
	fputs(",\"role\":", f);
	json_str(f, ev->role);
	fputs(",\"from\":", f);
	json_str(f, ev->from);
	fputs(",\"to\":", f);
	json_str(f, ev->to);
	fputs(",\"cause\":", f);
	json_str(f, ev->cause);
	fputs("}}}", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ----------------------------------------------------------- GET (state) */

static int leaf(struct lyd_node *parent, const char *name, const char *value)
{
	return lyd_new_term(parent, NULL, name, value, 0, NULL) == LY_SUCCESS ? 0 : NETD_EINVAL;
}

static int leaf_u64(struct lyd_node *parent, const char *name, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%" PRIu64, v);
	return leaf(parent, name, buf);
}

/* Counts per state of the node-roles of @dep, from the store. */
static int dep_counts(struct anneal *A, struct store_txn *t, const char *dep, uint32_t count[ANN_NSTATES])
{
	struct store_cursor *c = NULL;
	struct store_val k, v;
	size_t pn = strlen(dep) + 1;   /* "dep NUL" */
	memset(count, 0, ANN_NSTATES * sizeof *count);
	int rc = store_cursor_open(t, A->t_nr, &c);
	for (rc = rc < 0 ? rc : store_cursor_seek(c, dep, pn, &k, &v); rc == 0; rc = store_cursor_next(c, &k, &v)) {
		if (k.n < pn || memcmp(k.p, dep, pn))
			break;
		int s = nr_state_of(&v);
		if (s >= 0)
			count[s]++;
	}
	store_cursor_close(c);
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

static int state_deployments(struct anneal *A, struct store_txn *t, struct lyd_node *top, const char *one)
{
	struct lyd_node *entry, *cnt;
	int rc = 0;
	LY_LIST_FOR(lyd_child(top), entry) {
		const char *name = NULL;
		const struct lyd_node *c;
		uint32_t count[ANN_NSTATES], total = 0;
		bool committed;
		if (strcmp(child_name(entry), "deployment"))
			continue;
		LY_LIST_FOR(lyd_child(entry), c)
			if (!strcmp(child_name(c), "name"))
				name = lyd_get_value(c);
		if (!name || (one && one[0] && strcmp(one, name)))
			continue;
		if ((rc = dep_committed(A->t_dep, t, name, &committed)) < 0 || (rc = dep_counts(A, t, name, count)) < 0)
			return rc;
		for (int i = 0; i < ANN_NSTATES; i++)
			total += count[i];
		/* as ann_deployment_state(): error wins, then all active */
		enum ann_dep_state st = !committed ? ANN_DEP_PROPOSED : count[ANN_ERROR] ? ANN_DEP_ERROR :
					count[ANN_ACTIVE] == total ? ANN_DEP_ACTIVE : ANN_DEP_COMMITTED;
		if ((rc = leaf(entry, "state", ann_dep_state_name(st))) < 0 ||
		    lyd_new_inner(entry, NULL, "counts", 0, &cnt) != LY_SUCCESS)
			return rc < 0 ? rc : NETD_EINVAL;
		for (int i = 0; i < ANN_NSTATES && rc == 0; i++)
			rc = leaf_u64(cnt, ann_state_name(i), count[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int nr_entry(struct lyd_node *top, const struct store_val *k, const struct store_val *v)
{
	char dn[MODEL_NAME_MAX], nn[MODEL_NAME_MAX], rn[MODEL_NAME_MAX], when[40];
	struct nr_view x;
	struct lyd_node *e = NULL;
	if (!nr_key_split(k, dn, nn, rn) || nr_decode(v, &x) < 0)
		return 0;   /* not shown; load() drops it */
	if (lyd_new_list(top, NULL, "node-role", 0, &e, dn, nn, rn) != LY_SUCCESS)
		return NETD_EINVAL;
	int rc = leaf(e, "state", ann_state_name(x.state));
	rc = rc ? rc : leaf_u64(e, "cohort", x.cohort);
	rc = rc ? rc : leaf_u64(e, "run-count", x.run_count);
	rc = rc ? rc : leaf_u64(e, "attempts", x.attempts);
	if (!rc && x.changed_at)
		rc = leaf(e, "changed-at", time_ms_print(x.changed_at, when, sizeof when));
	struct codec_r r;
	codec_r_init(&r, x.parents, x.parents_len);
	for (uint16_t i = 0; i < x.n_parents && !rc; i++) {
		char name[2 * MODEL_NAME_MAX + 2];
		codec_get_str(&r, name, sizeof name);
		if (r.err)
			break;
		rc = leaf(e, "parent", name);
	}
	char *text = strndup(x.summary, x.summary_len);
	if (!rc && text && text[0])
		rc = leaf(e, "summary", text);
	free(text);
	text = x.log_len ? strndup(x.log, x.log_len) : NULL;
	if (!rc && text)
		rc = leaf(e, "log", text);
	free(text);
	return rc;
}

static int state_node_roles(struct anneal *A, struct store_txn *t, struct lyd_node *top, const char *one)
{
	struct store_cursor *c = NULL;
	struct store_val k, v;
	size_t pn = one && one[0] ? strlen(one) + 1 : 0;
	int rc = store_cursor_open(t, A->t_nr, &c);
	if (rc < 0)
		return rc;
	for (rc = pn ? store_cursor_seek(c, one, pn, &k, &v) : store_cursor_first(c, &k, &v); rc == 0;
	     rc = store_cursor_next(c, &k, &v)) {
		if (pn && (k.n < pn || memcmp(k.p, one, pn)))
			break;
		if ((rc = nr_entry(top, &k, &v)) < 0)
			break;
	}
	store_cursor_close(c);
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

static int event_entry(const struct anneal_event *ev, void *arg)
{
	struct lyd_node *top = arg, *e = NULL;
	char seq[24], when[40];
	snprintf(seq, sizeof seq, "%" PRIu64, ev->seq);
	if (lyd_new_list(top, NULL, "event", 0, &e, seq) != LY_SUCCESS)
		return -1;
	if (leaf(e, "at", time_ms_print(ev->at, when, sizeof when)) || leaf(e, "deployment", ev->deployment) ||
	    leaf(e, "node", ev->node) || leaf(e, "role", ev->role) || leaf(e, "from", ev->from) ||
	    leaf(e, "to", ev->to) || leaf(e, "cause", ev->cause))
		return -1;
	return 0;
}

static int state_anneal(struct anneal *A, struct store_txn *t, struct lyd_node *top)
{
	uint8_t b[2 + 4 * ANN_NSTATES];
	size_t len = 0;
	uint32_t count[ANN_NSTATES] = { 0 };
	struct store_cursor *c = NULL;
	struct store_val k;
	uint64_t last = 0;
	int rc = model_meta_get(&A->d->mt, t, META_COUNTS, b, sizeof b, &len);
	if (rc == 0 && len == sizeof b && b[0] == 'C' && b[1] == REC_VERSION)
		for (int i = 0; i < ANN_NSTATES; i++)
			count[i] = (uint32_t)b[2 + 4 * i] << 24 | (uint32_t)b[3 + 4 * i] << 16 |
				   (uint32_t)b[4 + 4 * i] << 8 | b[5 + 4 * i];
	else if (rc < 0 && rc != NETD_ENOTFOUND)
		return rc;
	if ((rc = leaf_u64(top, "running", count[ANN_TRANSITION])) < 0 || (rc = leaf_u64(top, "queued", count[ANN_TODO])) < 0)
		return rc;
	if ((rc = store_cursor_open(t, A->t_event, &c)) < 0)
		return rc;
	if (store_cursor_last(c, &k, NULL) == 0 && k.n == 8)
		last = be64_get(k.p);
	store_cursor_close(c);
	if (last == 0)
		return 0;
	struct netd *d = A->d;
	rc = anneal_event_read(d, t, last > ANNEAL_EVENTS_SHOWN ? last - ANNEAL_EVENTS_SHOWN : 0, ANNEAL_EVENTS_SHOWN,
			       event_entry, top);
	return rc;
}

int anneal_state(struct netd *d, struct store_txn *t, const char *top_name, struct lyd_node *top, const char *one)
{
	struct anneal *A = d->anneal;
	int rc = 0;
	if (!A || !top)
		return 0;
	if (!strcmp(top_name, "deployments"))
		rc = state_deployments(A, t, top, one);
	else if (!strcmp(top_name, "node-roles"))
		rc = state_node_roles(A, t, top, one);
	else if (!strcmp(top_name, "anneal"))
		rc = state_anneal(A, t, top);
	if (rc == NETD_EINVAL)
		log_err("annealer: building the %s state: %s", top_name, ly_errmsg(d->ly) ? ly_errmsg(d->ly) : "?");
	return rc;
}
