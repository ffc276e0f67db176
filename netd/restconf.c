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
#include <netdb.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core/log.h"
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
};

struct rc_server {
	struct netd *d;
	struct MHD_Daemon *mhd;
	char *tls_key, *tls_cert;
	unsigned port;
	struct rc_cache *cache;     /* NULL when response-cache is off */
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

static enum MHD_Result answer_root(struct rc_req *rq, const char *rest)
{
	char *body = NULL;
	if (!*rest || !strcmp(rest, "/"))
		body = strdup("{\"ietf-restconf:restconf\":{\"data\":{},\"operations\":{},"
			      "\"yang-library-version\":\"2019-01-04\"}}\n");
	else if (!strcmp(rest, "/yang-library-version"))
		body = strdup("{\"ietf-restconf:yang-library-version\":\"2019-01-04\"}\n");
	else if (!strcmp(rest, "/operations") || !strcmp(rest, "/operations/"))
		body = strdup("{\"ietf-restconf:operations\":{\"netd:allocate-address\":[null],"
			      "\"netd:release-address\":[null],\"netd:rename-node\":[null]}}\n");
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
	snprintf(key, sizeof key, "%d%s", (int)content, uri);
	/* the generation is read before the data: an answer is never labelled
	 * newer than the snapshot it was printed from */
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
		cache_put(s->cache, key, gen, rq->res.body);
	return queue_result(rq);
}

static enum MHD_Result route_data(struct rc_req *rq, const char *uri)
{
	struct netd *d = rq->srv->d;
	struct netd_err e = { 0 };
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
	if (rq->status)   /* answered (sent, or the client went away while it was) */
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

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
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
	if ((rc = resolve_listen(&d->cfg, &ss, &sl, e)) < 0)
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
		MHD_stop_daemon(s->mhd);
	}
	free(s->tls_cert);
	free(s->tls_key);
	cache_free(s->cache);
	free(s);
}
