/* netd/restconf.c — RESTCONF over libmicrohttpd (see restconf.h for the
 * threading model).
 *
 * Request life cycle in the access handler (libmicrohttpd calls it several
 * times per request):
 *   1st call   headers only: authenticate, allocate state, return. (Queueing
 *              a response here would cost keep-alive: libmicrohttpd then
 *              answers with Connection: close.)
 *   body calls accumulate the upload, bounded by RC_BODY_MAX.
 *   last call  reads are answered here; writes are suspended and queued for
 *              the loop thread.
 *   resumed    the loop thread filled in the result: queue it.
 */
#include "netd/restconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core/log.h"
#include "core/loop.h"
#include "netd/anneal.h"
#include "netd/metrics.h"
#include "netd/ops.h"
#include "netd/rcpath.h"
#include "netd/writer.h"
#include "netd/yangctx.h"

#define RC_BODY_MAX (64u << 20)     /* a larger request body is refused (413) */
#define JSON_TYPE "application/yang-data+json"


/* Answers of recent GETs of single entries, valid while the store's
 * generation is unchanged (decisions.md D16). Direct-mapped: a collision
 * replaces the older answer. */
#define RC_CACHE_SLOTS 1024
#define RC_CACHE_BODY_MAX (16u << 10)

struct rc_cache_slot {
	uint64_t hash, gen;
	char *key, *body;
};

struct rc_cache {
	pthread_mutex_t lock;
	struct rc_cache_slot slot[RC_CACHE_SLOTS];
};

struct rc_req {
	struct rc_server *srv;
	struct MHD_Connection *conn;
	uint64_t t0_ns;             /* the first call (headers read), for metrics */
	unsigned status;            /* HTTP status queued, 0 = none yet */
	char method[16];
	char *url;
	int auth_rc;
	enum auth_role role;
	char who[65];
	char *body;
	size_t body_len, body_cap;
	bool too_big;
	bool done;                  /* the loop thread has answered */
	struct ops_edit edit;
	char xpath[RC_PATH_MAX];
	char rpc[128];
	struct ops_result res;
	struct ops_prep *prep;      /* parsed on the HTTP thread, run by the writer */
	struct wr_job job;
	bool stream;                /* an event stream: counted in the metrics when it starts */
};

/* The event stream (see "the event stream" below for the design). */
#define RC_STREAM_PATH "/restconf/streams/netd/json"
#define RC_STREAMS_MAX 64             /* more concurrent streams: 503 */
#define RC_STR_(x) #x
#define RC_STR(x) RC_STR_(x)
#define RC_STREAM_KEEPALIVE_MS 15000  /* ": keepalive" after this much silence */
#define RC_STREAM_SLICE_MS 250        /* the notifier looks at rc_stop() this often */
#define RC_STREAM_BATCH 256           /* events read from the store at a time */
#define RC_STREAM_FILL (64u << 10)    /* ... or until this much is buffered */

struct rc_stream {
	struct rc_server *srv;
	struct MHD_Connection *conn;
	struct rc_stream *next;        /* in srv->ev.list, under ev.lock */
	atomic_uint refs;              /* the list's and the response's */
	atomic_bool gone;              /* the response is freed: the connection ended */
	/* the content reader's (libmicrohttpd calls it on one thread at a time) */
	uint64_t cursor;               /* the last event put into buf */
	char *buf;
	size_t len, off, cap;
	bool greeted;
	int fill_err;
	/* under ev.lock */
	bool suspended;                /* by the reader; resumed only under the lock */
	bool end;                      /* send what is buffered, then end the stream */
	uint64_t last_write_ms;        /* bytes last handed out (for the keepalive) */
};

struct rc_events {
	pthread_mutex_t lock;
	pthread_cond_t cond;           /* a stream was added, or stop */
	pthread_t thread;
	bool inited, running;
	bool stopping;                 /* rc_stop(): new streams refused, open ones ended */
	bool cancelled;                /* the annealer stopped: the same, until rc_stop() */
	struct rc_stream *list;
	atomic_uint open;              /* streams whose response is not freed yet */
};

struct rc_server {
	struct netd *d;
	struct MHD_Daemon *mhd;
	char *tls_key, *tls_cert;
	unsigned port;
	struct rc_cache *cache;     /* NULL when response-cache is off */
	struct rc_events ev;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* A copy of the cached answer for @key at generation @gen, or NULL. */
static char *cache_get(struct rc_cache *c, const char *key, uint64_t gen)
{
	uint64_t h = fnv1a(key);
	struct rc_cache_slot *s = &c->slot[h % RC_CACHE_SLOTS];
	char *body = NULL;
	pthread_mutex_lock(&c->lock);
	if (s->body && s->hash == h && s->gen == gen && !strcmp(s->key, key))
		body = strdup(s->body);
	pthread_mutex_unlock(&c->lock);
	return body;
}

static void cache_put(struct rc_cache *c, const char *key, uint64_t gen, const char *body)
{
	if (strlen(body) > RC_CACHE_BODY_MAX)
		return;
	uint64_t h = fnv1a(key);
	char *k = strdup(key), *b = strdup(body);
	if (!k || !b) {
		free(k);
		free(b);
		return;
	}
	struct rc_cache_slot *s = &c->slot[h % RC_CACHE_SLOTS];
	pthread_mutex_lock(&c->lock);
	char *old_k = s->key, *old_b = s->body;
	s->hash = h;
	s->gen = gen;
	s->key = k;
	s->body = b;
	pthread_mutex_unlock(&c->lock);
	free(old_k);
	free(old_b);
}

static void cache_clear(struct rc_cache *c)
{
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < RC_CACHE_SLOTS; i++) {
		free(c->slot[i].key);
		free(c->slot[i].body);
		c->slot[i].key = c->slot[i].body = NULL;
	}
	pthread_mutex_unlock(&c->lock);
}

void rc_forget_answers(struct rc_server *s)
{
	if (s && s->cache)
		cache_clear(s->cache);
}

static void cache_free(struct rc_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < RC_CACHE_SLOTS; i++) {
		free(c->slot[i].key);
		free(c->slot[i].body);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* --------------------------------------------------------------- responses */

/* JSON string escaping for the error envelope (output only). */
static void json_escape(const char *s, char *out, size_t len)
{
	size_t k = 0;
	for (; *s && k + 7 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c < 0x20) {
			k += (size_t)snprintf(out + k, len - k, "\\u%04x", c);
		} else {
			out[k++] = (char)c;
		}
	}
	out[k] = '\0';
}

static char *error_body(const struct ops_result *r)
{
	char msg[NETD_ERR_MSG_MAX * 2], path[NETD_ERR_PATH_MAX * 2], *body = NULL;
	json_escape(r->err.msg, msg, sizeof msg);
	json_escape(r->err.path, path, sizeof path);
	const char *type = r->status == 401 || r->status == 403 ? "protocol" : "application";
	int n = path[0]
		? asprintf(&body,
			   "{\"ietf-restconf:errors\":{\"error\":[{\"error-type\":\"%s\",\"error-tag\":\"%s\","
			   "\"error-path\":\"%s\",\"error-message\":\"%s\"}]}}\n",
			   type, r->error_tag ? r->error_tag : "operation-failed", path, msg)
		: asprintf(&body,
			   "{\"ietf-restconf:errors\":{\"error\":[{\"error-type\":\"%s\",\"error-tag\":\"%s\","
			   "\"error-message\":\"%s\"}]}}\n",
			   type, r->error_tag ? r->error_tag : "operation-failed", msg);
	return n < 0 ? NULL : body;
}

static enum MHD_Result queue_text(struct rc_req *rq, unsigned status, const char *type, char *body)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(body ? strlen(body) : 0, body,
								     body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (body && type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"netd\", Bearer realm=\"netd\"");
	enum MHD_Result ret = MHD_queue_response(rq->conn, status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		rq->status = status;
	return ret;
}

static enum MHD_Result queue_result(struct rc_req *rq)
{
	struct ops_result *r = &rq->res;
	if (r->err.code) {
		ops_result_from_err(r);
		if (r->status < 400)
			r->status = 500;
		return queue_text(rq, (unsigned)r->status, JSON_TYPE, error_body(r));
	}
	if (r->status == 201 && r->location[0]) {
		char uri[RC_PATH_MAX + 32];
		size_t k = (size_t)snprintf(uri, sizeof uri, "/restconf/data");
		if (rc_xpath_to_uri(r->location, uri + k, sizeof uri - k) == 0) {
			struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
			if (!resp)
				return MHD_NO;
			MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, uri);
			enum MHD_Result ret = MHD_queue_response(rq->conn, 201, resp);
			MHD_destroy_response(resp);
			if (ret == MHD_YES)
				rq->status = 201;
			return ret;
		}
	}
	/* for HEAD, libmicrohttpd sends the headers of this body without it */
	char *body = r->body;
	r->body = NULL;
	return queue_text(rq, (unsigned)(r->status ? r->status : 200), JSON_TYPE, body);
}

static enum MHD_Result queue_error(struct rc_req *rq, int status, const char *tag, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static enum MHD_Result queue_error(struct rc_req *rq, int status, const char *tag, int code, const char *fmt, ...)
{
	char msg[NETD_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ops_result_clear(&rq->res);
	netd_err_set(&rq->res.err, code, NULL, "%s", msg);
	rq->res.status = status;
	rq->res.error_tag = tag;
	return queue_text(rq, (unsigned)status, JSON_TYPE, error_body(&rq->res));
}

/* ------------------------------------------------------------------- auth */

static void authenticate(struct rc_req *rq)
{
	struct auth *a = rq->srv->d->auth;
	const char *h = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	rq->auth_rc = NETD_EAUTH;
	if (!h)
		return;
	if (!strncasecmp(h, "Bearer ", 7)) {
		rq->auth_rc = auth_check_bearer(a, h + 7, &rq->role, rq->who, sizeof rq->who);
		return;
	}
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(rq->conn, &pass);
	if (user && pass)
		rq->auth_rc = auth_check_basic(a, user, pass, &rq->role, rq->who, sizeof rq->who);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
}

/* ---------------------------------------------------------------- routing */

/* RFC 8040 section 4.8: an unknown or repeated query parameter is an
 * error, not something to ignore. netd implements "content". */
struct query_check {
	unsigned content;
	char bad[64];
};

static enum MHD_Result check_one_param(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_check *q = cls;
	if (!strcmp(key, "content") && ++q->content == 1)
		return MHD_YES;
	snprintf(q->bad, sizeof q->bad, "%s", key);
	return MHD_NO;
}

static bool query_params_ok(struct MHD_Connection *c, char *bad, size_t len)
{
	struct query_check q = { 0 };
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_one_param, &q);
	if (!q.bad[0])
		return true;
	snprintf(bad, len, "%s", q.bad);
	return false;
}

static enum ops_content content_param(struct MHD_Connection *c, bool *ok)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "content");
	*ok = true;
	if (!v || !strcmp(v, "all"))
		return OPS_CONTENT_ALL;
	if (!strcmp(v, "config"))
		return OPS_CONTENT_CONFIG;
	if (!strcmp(v, "nonconfig"))
		return OPS_CONTENT_NONCONFIG;
	*ok = false;
	return OPS_CONTENT_ALL;
}

static bool is_write_method(const char *m)
{
	return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH") || !strcmp(m, "DELETE");
}

static bool json_content_type(struct MHD_Connection *c)
{
	const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!t)
		return true;   /* curl -d without -H; the body is parsed as JSON anyway */
	return !strncasecmp(t, "application/yang-data+json", 26) || !strncasecmp(t, "application/json", 16) ||
	       !strncasecmp(t, "application/x-www-form-urlencoded", 33);
}

/* The writer finished the job (loop thread): wake the connection up; the
 * access handler is called again and queues the answer. */
static void job_done(struct wr_job *job)
{
	struct rc_req *rq = job->arg;
	rq->done = true;
	MHD_resume_connection(rq->conn);
}

/* Suspend first: the writer may finish before this function returns. */
static void enqueue(struct rc_req *rq)
{
	MHD_suspend_connection(rq->conn);
	rq->job.prep = rq->prep;
	rq->job.res = &rq->res;
	rq->job.done = job_done;
	rq->job.arg = rq;
	wr_submit(rq->srv->d->writer, &rq->job);
}

static enum MHD_Result answer_host_meta(struct rc_req *rq)
{
	char *body = strdup("<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n"
			    "  <Link rel='restconf' href='/restconf'/>\n</XRD>\n");
	return queue_text(rq, 200, "application/xrd+xml", body);
}

/* {"ietf-restconf:operations":{"netd:x":[null],...}}: every RPC of the
 * netd module, from the schema (RFC 8040 3.3.2). Heap string or NULL. */
static char *operations_list(const struct ly_ctx *ctx)
{
	const struct lys_module *mod = ly_ctx_get_module_implemented(ctx, "netd");
	char *body = strdup("{\"ietf-restconf:operations\":{"), *next;
	const char *sep = "";
	for (const struct lysc_node_action *a = mod && mod->compiled ? mod->compiled->rpcs : NULL; a && body;
	     a = (const struct lysc_node_action *)a->next) {
		next = NULL;
		if (asprintf(&next, "%s%s\"netd:%s\":[null]", body, sep, a->name) < 0)
			next = NULL;
		free(body);
		body = next;
		sep = ",";
	}
	if (!body || asprintf(&next, "%s}}\n", body) < 0)
		next = NULL;
	free(body);
	return next;
}

static enum MHD_Result answer_root(struct rc_req *rq, const char *rest)
{
	char *body = NULL;
	if (!*rest || !strcmp(rest, "/"))
		body = strdup("{\"ietf-restconf:restconf\":{\"data\":{},\"operations\":{},"
			      "\"yang-library-version\":\"2019-01-04\"}}\n");
	else if (!strcmp(rest, "/yang-library-version"))
		body = strdup("{\"ietf-restconf:yang-library-version\":\"2019-01-04\"}\n");
	else if (!strcmp(rest, "/operations") || !strcmp(rest, "/operations/"))
		body = operations_list(rq->srv->d->ly);
	else
		return queue_error(rq, 404, "invalid-value", NETD_ENOTFOUND, "no such resource: %s", rq->url);
	return queue_text(rq, 200, JSON_TYPE, body);
}

/* GET /metrics: Prometheus text format 0.0.4 (decisions.md D20). */
static enum MHD_Result answer_metrics(struct rc_req *rq)
{
	struct metrics_snapshot snap;
	if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
		return queue_error(rq, 405, "operation-not-supported", NETD_EUNSUPPORTED, "%s", "/metrics takes GET");
	int rc = metrics_collect(rq->srv->d, &snap);
	if (rc < 0)
		return queue_error(rq, 500, "operation-failed", rc, "cannot read the figures: %s", netd_strerror(rc));
	char *body = metrics_format(&snap);
	metrics_snapshot_clear(&snap);
	if (!body)
		return queue_error(rq, 500, "operation-failed", -ENOMEM, "%s", "out of memory");
	return queue_text(rq, 200, METRICS_CONTENT_TYPE, body);
}

static enum MHD_Result answer_get(struct rc_req *rq, const char *uri)
{
	struct rc_server *s = rq->srv;
	struct netd_err e = { 0 };
	bool ok;
	enum ops_content content = content_param(rq->conn, &ok);
	if (!ok)
		return queue_error(rq, 400, "invalid-value", NETD_EINVAL, "%s",
				   "query parameter content must be config, nonconfig or all");
	/* the whole datastore or a whole list is too big to keep */
	bool cacheable = s->cache && strchr(uri, '=');
	char key[RC_PATH_MAX + 8];
	rq->res.redact = rq->role != ROLE_ADMIN;   /* secrets are for admins */
	snprintf(key, sizeof key, "%d%d%s", (int)content, (int)rq->res.redact, uri);
	/* an answer is labelled with the generation of the snapshot it was
	 * printed from (ops_result.generation) and served only while that is
	 * still the latest commit: reading the current generation before the
	 * data instead raced with a commit in flight (a newer label on older
	 * data) */
	uint64_t gen = cacheable ? store_generation(s->d->store) : 0;
	char *hit = cacheable ? cache_get(s->cache, key, gen) : NULL;
	if (hit) {
		rq->res.status = 200;
		rq->res.body = hit;
		return queue_result(rq);
	}
	int rc = rc_uri_to_xpath(s->d->ly, uri, rq->xpath, sizeof rq->xpath, &e);
	if (rc < 0)
		return queue_error(rq, rc == NETD_ENOTFOUND ? 404 : 400, "invalid-value", rc, "%s", e.msg);
	ops_get(s->d, rq->xpath, content, &rq->res);
	if (cacheable && rq->res.status == 200 && !rq->res.err.code && rq->res.body)
		cache_put(s->cache, key, rq->res.generation, rq->res.body);
	return queue_result(rq);
}

/* ------------------------------------------------------- the event stream */

/* GET /restconf/streams/netd/json: the annealer's node-role transitions as
 * server-sent events (RFC 8040 section 6.4, the W3C EventSource format):
 *
 *     : netd event stream (node-role transitions)
 *     retry: 2000
 *
 *     id: 42
 *     data: {"ietf-restconf:notification":{...}}
 *
 * and a comment line ": keepalive" after 15 s of silence.  The events come
 * from the audit log in the store (netd/anneal.h): a client reconnecting with
 * Last-Event-ID (or asking for ?after=SEQ) gets exactly the events after that
 * one, replayed first, then live; without either the stream starts with the
 * next event.
 *
 * Threads.  libmicrohttpd asks the content reader (stream_read) for bytes on
 * one of its pool threads whenever the socket can take them.  The reader
 * never blocks: it reads the next batch of events from the store (one short
 * read transaction, as a GET does) or, with nothing to send, suspends the
 * connection and returns 0.  One notifier thread per server (events_main)
 * waits for news with anneal_event_wait() and resumes the suspended streams
 * that are behind, are due a keepalive or must end.  A slow client delays
 * only its own stream: its events wait in the store until its socket drains
 * (at most one batch is buffered per stream).
 *
 * Lifetime.  A stream is referenced by the notifier's list and by its
 * response, which libmicrohttpd frees when the connection ends
 * (stream_free_cb, which takes no lock: libmicrohttpd may hold its own).  A
 * suspended connection is alive by construction: libmicrohttpd neither
 * times it out nor notices its peer leaving until it is resumed, and only
 * the notifier and rc_stop() resume it, under ev.lock.
 *
 * Caveats:
 * - A client that leaves while its stream is idle is noticed at the next
 *   event or keepalive (within 15 s); its slot counts until then.
 * - The notifier waits in slices of RC_STREAM_SLICE_MS, so rc_stop() does
 *   not depend on the annealer stopping first (it stops after the faces).
 */

static void stream_unref(struct rc_stream *st)
{
	if (atomic_fetch_sub(&st->refs, 1) == 1) {
		free(st->buf);
		free(st);
	}
}

/* The response is gone (the connection ended). No lock: see above. */
static void stream_free_cb(void *cls)
{
	struct rc_stream *st = cls;
	atomic_fetch_sub(&st->srv->ev.open, 1);
	atomic_store(&st->gone, true);
	stream_unref(st);
}

/* Resume @st if the reader suspended it. Under ev.lock. */
static void stream_wake(struct rc_stream *st)
{
	if (!st->suspended)
		return;
	st->suspended = false;
	MHD_resume_connection(st->conn);
}

static int stream_put(struct rc_stream *st, const char *p, size_t n)
{
	if (st->len + n > st->cap) {
		size_t cap = st->cap ? st->cap : 4096;
		while (cap < st->len + n)
			cap *= 2;
		char *b = realloc(st->buf, cap);
		if (!b)
			return -ENOMEM;
		st->buf = b;
		st->cap = cap;
	}
	memcpy(st->buf + st->len, p, n);
	st->len += n;
	return 0;
}

static int stream_puts(struct rc_stream *st, const char *s)
{
	return stream_put(st, s, strlen(s));
}

/* One event as "id: SEQ" and one "data: " line per line of its JSON (an
 * EventSource joins them with newlines). */
static int stream_put_event(struct rc_stream *st, uint64_t seq, const char *json)
{
	char id[40];
	size_t n = strlen(json);
	while (n && (json[n - 1] == '\n' || json[n - 1] == '\r'))
		n--;
	snprintf(id, sizeof id, "id: %" PRIu64 "\n", seq);
	int rc = stream_puts(st, id);
	for (size_t i = 0; rc == 0 && i <= n;) {
		size_t k = strcspn(json + i, "\r\n");
		if (i + k > n)
			k = n - i;
		rc = stream_puts(st, "data: ");
		if (rc == 0)
			rc = stream_put(st, json + i, k);
		if (rc == 0)
			rc = stream_put(st, "\n", 1);
		i += k + 1;
		if (i <= n && json[i - 1] == '\r' && json[i] == '\n')
			i++;
	}
	return rc == 0 ? stream_put(st, "\n", 1) : rc;
}

/* anneal_event_read() callback: buffer one event; stop when full. */
static int stream_event(const struct anneal_event *ev, void *arg)
{
	struct rc_stream *st = arg;
	char *json = anneal_event_json(ev);
	int rc = json ? stream_put_event(st, ev->seq, json) : -ENOMEM;
	free(json);
	if (rc < 0) {
		st->fill_err = rc;
		return 1;
	}
	st->cursor = ev->seq;
	return st->len >= RC_STREAM_FILL;
}

/* Refill the (empty) buffer: the greeting once, then the events after the
 * cursor, one batch. 0 (perhaps nothing new) or a negative code. */
static int stream_fill(struct rc_stream *st)
{
	struct netd *d = st->srv->d;
	struct store_txn *t = NULL;
	int rc;

	st->off = st->len = 0;
	if (!st->greeted) {
		if ((rc = stream_puts(st, ": netd event stream (node-role transitions)\nretry: 2000\n\n")) < 0)
			return rc;
		st->greeted = true;
	}
	if ((rc = store_read_begin(d->store, &t)) < 0)
		return rc;
	st->fill_err = 0;
	rc = anneal_event_read(d, t, st->cursor, RC_STREAM_BATCH, stream_event, st);
	store_read_end(t);
	if (st->fill_err)
		return st->fill_err;
	return rc < 0 ? rc : 0;
}

/* libmicrohttpd's content reader: bytes of the stream, or 0 after
 * suspending the connection until there is news. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct rc_stream *st = cls;
	struct rc_events *ev = &st->srv->ev;

	for (int tries = 0; st->off == st->len; tries++) {
		pthread_mutex_lock(&ev->lock);
		bool end = st->end;
		pthread_mutex_unlock(&ev->lock);
		if (end)
			return MHD_CONTENT_READER_END_OF_STREAM;
		int rc = stream_fill(st);
		if (rc < 0) {
			log_warn("event stream: cannot read the audit log after event %" PRIu64 ": %s", st->cursor,
				 netd_strerror(rc));
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (st->off < st->len)
			break;
		pthread_mutex_lock(&ev->lock);
		if (st->end) {
			pthread_mutex_unlock(&ev->lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (loop_now_ms() - st->last_write_ms >= RC_STREAM_KEEPALIVE_MS) {
			pthread_mutex_unlock(&ev->lock);
			if (stream_puts(st, ": keepalive\n\n") < 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			break;
		}
		/* an event committed since the read began: read once more */
		if (tries == 0 && anneal_event_last(st->srv->d) > st->cursor) {
			pthread_mutex_unlock(&ev->lock);
			continue;
		}
		MHD_suspend_connection(st->conn);
		st->suspended = true;
		pthread_mutex_unlock(&ev->lock);
		return 0;
	}
	size_t n = st->len - st->off < max ? st->len - st->off : max;
	memcpy(out, st->buf + st->off, n);
	st->off += n;
	pthread_mutex_lock(&ev->lock);
	st->last_write_ms = loop_now_ms();
	pthread_mutex_unlock(&ev->lock);
	return (ssize_t)n;
}

/* Unlink and release the streams whose connection ended. Under ev.lock. */
static void events_sweep(struct rc_events *ev)
{
	struct rc_stream **pp = &ev->list;
	while (*pp) {
		struct rc_stream *st = *pp;
		if (atomic_load(&st->gone)) {
			*pp = st->next;
			stream_unref(st);
		} else {
			pp = &st->next;
		}
	}
}

/* End every stream (after what it has buffered). Under ev.lock. */
static void events_end_all(struct rc_events *ev)
{
	for (struct rc_stream *st = ev->list; st; st = st->next) {
		st->end = true;
		stream_wake(st);
	}
}

/* The notifier thread: resume the streams that have something to send. */
static void *events_main(void *arg)
{
	struct rc_server *s = arg;
	struct rc_events *ev = &s->ev;

	pthread_mutex_lock(&ev->lock);
	while (!ev->stopping) {
		events_sweep(ev);
		if (!ev->list || ev->cancelled) {
			pthread_cond_wait(&ev->cond, &ev->lock);
			continue;
		}
		uint64_t last = anneal_event_last(s->d), now = loop_now_ms();
		for (struct rc_stream *st = ev->list; st; st = st->next)
			if (st->suspended && (st->cursor < last || now - st->last_write_ms >= RC_STREAM_KEEPALIVE_MS))
				stream_wake(st);
		pthread_mutex_unlock(&ev->lock);
		int rc = anneal_event_wait(s->d, last, RC_STREAM_SLICE_MS);
		pthread_mutex_lock(&ev->lock);
		if (rc == -ECANCELED && !ev->cancelled) {
			log_info("event streams: the annealer stopped, ending them");
			ev->cancelled = true;
			events_end_all(ev);
		}
	}
	pthread_mutex_unlock(&ev->lock);
	return NULL;
}

static int events_start(struct rc_server *s, struct netd_err *e)
{
	struct rc_events *ev = &s->ev;
	pthread_mutex_init(&ev->lock, NULL);
	pthread_cond_init(&ev->cond, NULL);
	atomic_init(&ev->open, 0);
	ev->inited = true;
	int rc = pthread_create(&ev->thread, NULL, events_main, s);
	if (rc)
		return netd_err_set(e, -rc, NULL, "cannot start the event stream thread: %s", strerror(rc));
	ev->running = true;
	return 0;
}

/* Refuse new streams, end the open ones, join the notifier. Before
 * MHD_stop_daemon(): no stream may stay suspended. */
static void events_stop(struct rc_server *s)
{
	struct rc_events *ev = &s->ev;
	if (!ev->inited)
		return;
	pthread_mutex_lock(&ev->lock);
	ev->stopping = true;
	events_end_all(ev);
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
	if (ev->running)
		pthread_join(ev->thread, NULL);
	ev->running = false;
}

/* After MHD_stop_daemon(): every response is freed by then. */
static void events_free(struct rc_events *ev)
{
	if (!ev->inited)
		return;
	while (ev->list) {
		struct rc_stream *st = ev->list;
		ev->list = st->next;
		stream_unref(st);
	}
	pthread_cond_destroy(&ev->cond);
	pthread_mutex_destroy(&ev->lock);
	ev->inited = false;
}

/* Register a stream starting after event @after and queue its response. */
static enum MHD_Result stream_open(struct rc_req *rq, uint64_t after)
{
	struct rc_server *s = rq->srv;
	struct rc_events *ev = &s->ev;
	struct rc_stream *st = calloc(1, sizeof *st);
	const char *why = NULL;

	if (!st)
		return queue_error(rq, 500, "operation-failed", -ENOMEM, "%s", "out of memory");
	st->srv = s;
	st->conn = rq->conn;
	st->cursor = after;
	st->last_write_ms = loop_now_ms();
	atomic_init(&st->refs, 1);   /* the list's */
	atomic_init(&st->gone, false);
	pthread_mutex_lock(&ev->lock);
	if (ev->stopping || ev->cancelled)
		why = "netd is stopping";
	else if (atomic_load(&ev->open) >= RC_STREAMS_MAX)
		why = "too many event streams are open (at most " RC_STR(RC_STREAMS_MAX) ")";
	if (!why) {
		atomic_fetch_add(&ev->open, 1);
		atomic_fetch_add(&st->refs, 1);   /* the response's */
		st->next = ev->list;
		ev->list = st;
		pthread_cond_signal(&ev->cond);
	}
	pthread_mutex_unlock(&ev->lock);
	if (why) {
		free(st);
		return queue_error(rq, 503, "resource-denied", -EBUSY, "%s: try again later", why);
	}
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16u << 10, stream_read, st, stream_free_cb);
	if (!resp) {
		stream_free_cb(st);
		return queue_error(rq, 500, "operation-failed", -ENOMEM, "%s", "out of memory");
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	rq->stream = true;
	enum MHD_Result ret = MHD_queue_response(rq->conn, 200, resp);
	MHD_destroy_response(resp);   /* a failed queue frees the stream's side here */
	if (ret == MHD_YES) {
		rq->status = 200;
		metrics_restconf(rq->method, 200, metrics_now_ns() - rq->t0_ns);
		log_debug("event stream for %s: after event %" PRIu64, rq->who, after);
	}
	return ret;
}

struct stream_query {
	unsigned after;
	char bad[64];
};

static enum MHD_Result check_stream_param(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct stream_query *q = cls;
	if (!strcmp(key, "after") && ++q->after == 1)
		return MHD_YES;
	snprintf(q->bad, sizeof q->bad, "%s", key);
	return MHD_NO;
}

/* A decimal event sequence number, nothing else. */
static bool parse_seq(const char *s, uint64_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* GET RC_STREAM_PATH. Where it starts: after Last-Event-ID (a reconnecting
 * EventSource), else after ?after=SEQ, else after the last event (live
 * only). A start beyond the last event (a client of a wiped store) is the
 * last event. */
static enum MHD_Result answer_stream(struct rc_req *rq)
{
	struct stream_query q = { 0 };
	uint64_t last = anneal_event_last(rq->srv->d), after = last;

	if (strcmp(rq->method, "GET"))
		return queue_error(rq, 405, "operation-not-supported", NETD_EUNSUPPORTED, "%s",
				   "the event stream takes GET");
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, check_stream_param, &q);
	if (q.bad[0])
		return queue_error(rq, 400, "invalid-value", NETD_EINVAL,
				   "query parameter '%s' is repeated or not supported on the event stream "
				   "(netd supports after=SEQ)", q.bad);
	const char *id = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Last-Event-ID");
	const char *qa = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "after");
	if (id && *id) {
		if (!parse_seq(id, &after))
			return queue_error(rq, 400, "invalid-value", NETD_EINVAL,
					   "Last-Event-ID '%.64s' is not an event sequence number", id);
	} else if (qa && !parse_seq(qa, &after)) {
		return queue_error(rq, 400, "invalid-value", NETD_EINVAL,
				   "after='%.64s' is not an event sequence number", qa);
	}
	return stream_open(rq, after < last ? after : last);
}

/* RFC 8040 section 9.3 says where the streams are. netd's libyang context
 * has no ietf-restconf-monitoring (Debian's libyang does not ship it), so
 * the two resources below are answered here, in that module's JSON
 * encoding; the rest of restconf-state is not served. */
#define RC_MON "/ietf-restconf-monitoring:restconf-state/streams"

static bool is_streams_state(const char *uri)
{
	return !strcmp(uri, RC_MON) || !strcmp(uri, RC_MON "/stream=netd");
}

/* "http(s)://HOST" of this request: its Host header when sane, else the
 * listener's address. */
static void request_origin(struct rc_req *rq, char *out, size_t len)
{
	const struct netd_config *c = &rq->srv->d->cfg;
	const char *h = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *scheme = c->tls ? "https" : "http";
	if (h && *h && strlen(h) < 256 &&
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == strlen(h))
		snprintf(out, len, "%s://%s", scheme, h);
	else if (strchr(c->listen_host, ':'))
		snprintf(out, len, "%s://[%s]:%u", scheme, c->listen_host, rq->srv->port);
	else
		snprintf(out, len, "%s://%s:%u", scheme, c->listen_host, rq->srv->port);
}

static enum MHD_Result answer_streams_state(struct rc_req *rq, const char *uri)
{
	char origin[320], *body = NULL;
	if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
		return queue_error(rq, 405, "operation-not-supported", NETD_EUNSUPPORTED, "%s",
				   "restconf-state is read-only");
	request_origin(rq, origin, sizeof origin);
	bool one = strcmp(uri, RC_MON) != 0;
	int n = asprintf(&body,
			 "%s{\"name\":\"netd\",\"description\":\"node-role transitions of the annealer "
			 "(netd:node-role-transition)\",\"replay-support\":true,\"access\":[{\"encoding\":\"json\","
			 "\"location\":\"%s" RC_STREAM_PATH "\"}]}]%s\n",
			 one ? "{\"ietf-restconf-monitoring:stream\":[" : "{\"ietf-restconf-monitoring:streams\":{\"stream\":[",
			 origin, one ? "}" : "}}");
	if (n < 0)
		return queue_error(rq, 500, "operation-failed", -ENOMEM, "%s", "out of memory");
	return queue_text(rq, 200, JSON_TYPE, body);
}

static enum MHD_Result route_data(struct rc_req *rq, const char *uri)
{
	struct netd *d = rq->srv->d;
	struct netd_err e = { 0 };
	if (is_streams_state(uri))
		return answer_streams_state(rq, uri);
	if (!strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD"))
		return answer_get(rq, uri);
	int rc = rc_uri_to_xpath(d->ly, uri, rq->xpath, sizeof rq->xpath, &e);
	if (rc < 0)
		return queue_error(rq, rc == NETD_ENOTFOUND ? 404 : 400, "invalid-value", rc, "%s", e.msg);
	rq->edit.xpath = rq->xpath;
	rq->edit.body = rq->body;
	if (!strcmp(rq->method, "POST"))
		rq->edit.method = OPS_POST;
	else if (!strcmp(rq->method, "PUT"))
		rq->edit.method = OPS_PUT;
	else if (!strcmp(rq->method, "PATCH"))
		rq->edit.method = OPS_PATCH;
	else
		rq->edit.method = OPS_DELETE;
	if (ops_edit_prepare(d, &rq->edit, &rq->prep, &rq->res) < 0)
		return queue_result(rq);
	enqueue(rq);
	return MHD_YES;
}

static enum MHD_Result route_operation(struct rc_req *rq, const char *name)
{
	char path[160];
	if (strcmp(rq->method, "POST"))
		return queue_error(rq, 405, "operation-not-supported", NETD_EUNSUPPORTED, "%s", "operations take POST");
	snprintf(path, sizeof path, "/%s", name);
	const struct lysc_node *n = strlen(name) < sizeof rq->rpc ? lys_find_path(rq->srv->d->ly, NULL, path, 0) : NULL;
	if (!n || n->nodetype != LYS_RPC)
		return queue_error(rq, 404, "invalid-value", NETD_ENOTFOUND, "no such operation: %s", name);
	snprintf(rq->rpc, sizeof rq->rpc, "%s", name);
	if (ops_rpc_prepare(rq->srv->d, rq->rpc, rq->body, &rq->prep, &rq->res) < 0)
		return queue_result(rq);
	enqueue(rq);
	return MHD_YES;
}

static enum MHD_Result dispatch(struct rc_req *rq)
{
	const char *url = rq->url;
	if (rq->auth_rc < 0)
		return queue_error(rq, 401, "access-denied", NETD_EAUTH, "%s",
				   "authentication required: HTTP Basic or a bearer token");
	if (!strcmp(rq->method, "OPTIONS")) {
		struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
		enum MHD_Result ret = MHD_queue_response(rq->conn, 200, resp);
		MHD_destroy_response(resp);
		if (ret == MHD_YES)
			rq->status = 200;
		return ret;
	}
	if (!strcmp(url, "/metrics"))
		return answer_metrics(rq);
	if (!strcmp(url, RC_STREAM_PATH))
		return answer_stream(rq);
	char bad[64];
	if (!query_params_ok(rq->conn, bad, sizeof bad))
		return queue_error(rq, 400, "invalid-value", NETD_EINVAL,
				   "query parameter '%s' is repeated or not supported (netd supports content)", bad);
	bool write = is_write_method(rq->method);
	if (!write && strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
		return queue_error(rq, 405, "operation-not-supported", NETD_EUNSUPPORTED, "method %s is not supported",
				   rq->method);
	if (write && rq->role != ROLE_ADMIN)
		return queue_error(rq, 403, "access-denied", NETD_EPERM, "user '%s' is read-only", rq->who);
	if (rq->too_big)
		return queue_error(rq, 413, "too-big", NETD_ETOOBIG, "%s", "request body larger than 64 MiB");
	if (write && !json_content_type(rq->conn))
		return queue_error(rq, 415, "invalid-value", NETD_EINVAL, "%s",
				   "only application/yang-data+json is supported");

	if (!strcmp(url, "/.well-known/host-meta"))
		return answer_host_meta(rq);
	if (!strncmp(url, "/restconf/data", 14) && (url[14] == '\0' || url[14] == '/'))
		return route_data(rq, url + 14);
	if (!strncmp(url, "/restconf/operations/", 21) && url[21])
		return route_operation(rq, url + 21);
	if (!strncmp(url, "/restconf", 9) && (url[9] == '\0' || url[9] == '/') && !write)
		return answer_root(rq, url + 9);
	return queue_error(rq, 404, "invalid-value", NETD_ENOTFOUND, "no such resource: %s", url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct rc_req *rq = *con_cls;
	if (!rq) {
		rq = calloc(1, sizeof *rq);
		if (!rq)
			return MHD_NO;
		rq->t0_ns = metrics_now_ns();
		rq->srv = cls;
		rq->conn = conn;
		snprintf(rq->method, sizeof rq->method, "%s", method);
		rq->url = strdup(url);
		if (!rq->url) {
			free(rq);
			return MHD_NO;
		}
		*con_cls = rq;
		authenticate(rq);
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (rq->too_big || rq->body_len + n > RC_BODY_MAX) {
			rq->too_big = true;
			return MHD_YES;
		}
		if (rq->body_len + n + 1 > rq->body_cap) {
			size_t cap = (rq->body_len + n + 1) * 2;
			char *b = realloc(rq->body, cap);
			if (!b)
				return MHD_NO;
			rq->body = b;
			rq->body_cap = cap;
		}
		memcpy(rq->body + rq->body_len, upload, n);
		rq->body_len += n;
		rq->body[rq->body_len] = '\0';
		return MHD_YES;
	}
	if (rq->done) {
		ops_finish(rq->srv->d, rq->prep, &rq->res);
		return queue_result(rq);
	}
	return dispatch(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct rc_req *rq = *con_cls;
	if (!rq)
		return;
	if (rq->status && !rq->stream)   /* answered (sent, or the client went away while it was) */
		metrics_restconf(rq->method, rq->status, metrics_now_ns() - rq->t0_ns);
	ops_result_clear(&rq->res);
	ops_prep_free(rq->prep);
	free(rq->body);
	free(rq->url);
	free(rq);
	*con_cls = NULL;
}

/* RESTCONF keys are percent-encoded and may hide '/' and ','; decode per
 * segment ourselves instead of letting libmicrohttpd decode the whole path. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

/* ------------------------------------------------------ the loop's side */

/* ---------------------------------------------------------------- start/stop */

static char *read_file(const char *path, struct netd_err *e)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f) {
		netd_err_set(e, -errno, NULL, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (16 << 20) && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, (size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		fclose(f);
		return buf;
	}
	free(buf);
	fclose(f);
	netd_err_set(e, -EIO, NULL, "cannot read %s", path);
	return NULL;
}

static int resolve_listen(const struct netd_config *c, struct sockaddr_storage *ss, socklen_t *sl, struct netd_err *e)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICSERV | AI_PASSIVE, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char port[8];
	snprintf(port, sizeof port, "%u", c->listen_port);
	int rc = getaddrinfo(c->listen_host, port, &hints, &ai);
	if (rc)
		return netd_err_set(e, NETD_EINVAL, "/netd-server:server/listen", "cannot resolve %s: %s",
				    c->listen_host, gai_strerror(rc));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* libmicrohttpd's messages. A client leaving in the middle of an answer
 * is its business, not a fault of netd: that happens whenever an event
 * stream's reader (netctl anneal watch, a browser tab) goes away. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	if (strstr(buf, "socket is no longer available for sending") || strstr(buf, "closed by remote peer"))
		log_debug("http: %s", buf);
	else
		log_warn("http: %s", buf);
}

int rc_start(struct netd *d, struct rc_server **out, struct netd_err *e)
{
	struct rc_server *s = calloc(1, sizeof *s);
	struct sockaddr_storage ss;
	socklen_t sl;
	int rc;
	if (!s)
		return -ENOMEM;
	s->d = d;
	if (d->cfg.response_cache) {
		s->cache = calloc(1, sizeof *s->cache);
		if (!s->cache) {
			free(s);
			return -ENOMEM;
		}
		pthread_mutex_init(&s->cache->lock, NULL);
	}
	if ((rc = resolve_listen(&d->cfg, &ss, &sl, e)) < 0 || (rc = events_start(s, e)) < 0)
		goto fail;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (d->cfg.tls) {
		if (!(s->tls_cert = read_file(d->cfg.tls_cert, e)) || !(s->tls_key = read_file(d->cfg.tls_key, e))) {
			rc = e->code;
			goto fail;
		}
		flags |= MHD_USE_TLS;
	}
	unsigned threads = d->cfg.http_threads ? d->cfg.http_threads : 1;
	s->mhd = MHD_start_daemon(flags, d->cfg.listen_port, NULL, NULL, on_request, s,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_THREAD_POOL_SIZE, threads,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, s,
				  MHD_OPTION_CONNECTION_TIMEOUT, 120u,
				  MHD_OPTION_CONNECTION_LIMIT, 1024u,
				  d->cfg.tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, s->tls_key,
				  MHD_OPTION_HTTPS_MEM_CERT, s->tls_cert,
				  MHD_OPTION_END);
	if (!s->mhd) {
		rc = netd_err_set(e, -EADDRINUSE, "/netd-server:server/listen",
				  "cannot listen on %s:%u (address in use, or TLS key/certificate unusable)",
				  d->cfg.listen_host, d->cfg.listen_port);
		goto fail;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : d->cfg.listen_port;
	*out = s;
	return 0;
fail:
	rc_stop(s);
	return rc < 0 ? rc : NETD_EINVAL;
}

unsigned rc_port(const struct rc_server *s)
{
	return s->port;
}

void rc_stop(struct rc_server *s)
{
	if (!s)
		return;
	if (s->mhd) {
		MHD_quiesce_daemon(s->mhd);
		wr_drain(s->d->writer);   /* answer what is queued */
	}
	events_stop(s);   /* no stream may stay suspended past this */
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	events_free(&s->ev);
	free(s->tls_cert);
	free(s->tls_key);
	cache_free(s->cache);
	free(s);
}
