/* bench/rc_client.c — RESTCONF load generator for the netd benchmarks.
 *
 *   rc_client alloc BASE TOKEN_FILE NETWORK CLIENTS SECONDS MAX_PER_CLIENT
 *       CLIENTS concurrent clients, each with its own keep-alive connection
 *       (one curl easy handle; all driven by one curl multi handle in one
 *       thread, which costs less CPU than a thread per client on a small
 *       machine shared with netd), each sending allocate-address RPCs back
 *       to back for SECONDS or MAX_PER_CLIENT requests.  Each client first
 *       sends one untimed request so that connecting is not measured.
 *   rc_client nodes BASE TOKEN_FILE NODES BATCH
 *       creates nodes n000000.. attached to networks admin and storage in
 *       PATCH /restconf/data requests of BATCH nodes, over one connection.
 *
 * BASE is e.g. http://127.0.0.1:8080.  Prints
 *     RESULT ok=N fail=N secs=S rate=R      (rate: successful requests/s,
 *                                           or nodes/s for "nodes")
 * and the first failure, if any, on stderr.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "bench/bench.h"

#define RESP_MAX 4096

struct resp {
	char buf[RESP_MAX];
	size_t len;
};

struct conn {
	CURL *h;
	struct curl_slist *hdrs;
	struct resp r;
	char err[CURL_ERROR_SIZE];
};

static bool fail_reported;

/* Print the first failure only: the rest are usually the same. */
static void report_failure(const char *what, long status, const struct resp *r)
{
	if (!fail_reported)
		fprintf(stderr, "rc_client: %s failed: HTTP %ld: %.*s\n", what, status, (int)r->len, r->buf);
	fail_reported = true;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = size * n, room = RESP_MAX - 1 - r->len;
	memcpy(r->buf + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	r->buf[r->len] = '\0';
	return len;
}

static int read_token(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	bool ok = fgets(out, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return out[0] ? 0 : -1;
}

static int conn_init(struct conn *c, const char *token)
{
	char auth[300];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	c->h = curl_easy_init();
	if (!c->h)
		return -1;
	struct curl_slist *h1 = curl_slist_append(NULL, auth);
	c->hdrs = h1 ? curl_slist_append(h1, "Content-Type: application/yang-data+json") : NULL;
	if (!c->hdrs) {
		curl_slist_free_all(h1);
		return -1;
	}
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->r);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->err);
	return 0;
}

static void conn_free(struct conn *c)
{
	curl_easy_cleanup(c->h);
	curl_slist_free_all(c->hdrs);
}

/* One request; returns the HTTP status, or -1 on a transport error. */
static long conn_send(struct conn *c, const char *method, const char *url, const char *body, size_t body_len)
{
	long status = 0;
	c->r.len = 0;
	c->r.buf[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	CURLcode cc = curl_easy_perform(c->h);
	if (cc != CURLE_OK) {
		snprintf(c->r.buf, RESP_MAX, "%s", c->err[0] ? c->err : curl_easy_strerror(cc));
		c->r.len = strlen(c->r.buf);
		return -1;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* ------------------------------------------------------------------ alloc */

/* One client of the multi-handle driver: an easy handle with its own
 * connection and the request it has in flight. */
struct client {
	struct conn c;
	unsigned id;
	unsigned long next;      /* sequence number of the next request */
	char body[256];
};

struct alloc_run {
	CURLM *m;
	struct client *cl;
	unsigned n;
	const char *url, *network;
	unsigned long ok, fail;
};

static int client_start(struct alloc_run *a, struct client *c)
{
	int n = snprintf(c->body, sizeof c->body, "{\"netd:input\":{\"network\":\"%s\",\"name\":\"c%u-%lu\"}}",
			 a->network, c->id, c->next++);
	c->c.r.len = 0;
	c->c.r.buf[0] = '\0';
	curl_easy_setopt(c->c.h, CURLOPT_URL, a->url);
	curl_easy_setopt(c->c.h, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->c.h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	curl_easy_setopt(c->c.h, CURLOPT_PRIVATE, c);
	return curl_multi_add_handle(a->m, c->c.h) == CURLM_OK ? 0 : -1;
}

/* A finished request: count it; true if it succeeded. */
static bool client_done(struct alloc_run *a, struct client *c, CURLcode cc)
{
	long st = -1;
	if (cc == CURLE_OK)
		curl_easy_getinfo(c->c.h, CURLINFO_RESPONSE_CODE, &st);
	else
		c->c.r.len = (size_t)snprintf(c->c.r.buf, RESP_MAX, "%s", curl_easy_strerror(cc));
	curl_multi_remove_handle(a->m, c->c.h);
	if (st == 200 && strstr(c->c.r.buf, "\"address\"")) {
		a->ok++;
		return true;
	}
	a->fail++;
	report_failure("allocate-address", st, &c->c.r);
	return false;
}

/* Keep every client busy until @deadline or @max requests per client
 * (counting from 1 after the warm-up request 0). */
static int drive(struct alloc_run *a, double deadline, unsigned long max)
{
	int running = 0;
	for (unsigned i = 0; i < a->n; i++)
		if (a->cl[i].next <= max && client_start(a, &a->cl[i]) < 0)
			return -1;
	do {
		if (curl_multi_perform(a->m, &running) != CURLM_OK)
			return -1;
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(a->m, &left))) {
			struct client *c = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			bool ok = client_done(a, c, msg->data.result);
			if (ok && c->next <= max && bench_now() < deadline) {
				if (client_start(a, c) < 0)
					return -1;
				running++;
			}
		}
		if (running && curl_multi_poll(a->m, NULL, 0, 100, NULL) != CURLM_OK)
			return -1;
	} while (running);
	return 0;
}

static int alloc_setup(struct alloc_run *a, const char *token)
{
	a->m = curl_multi_init();
	a->cl = calloc(a->n, sizeof *a->cl);
	if (!a->m || !a->cl)
		return -1;
	/* one connection per client, all kept open between requests */
	curl_multi_setopt(a->m, CURLMOPT_MAXCONNECTS, (long)a->n);
	curl_multi_setopt(a->m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)a->n);
	for (unsigned i = 0; i < a->n; i++) {
		a->cl[i].id = i;
		if (conn_init(&a->cl[i].c, token) < 0)
			return -1;
		curl_easy_setopt(a->cl[i].c.h, CURLOPT_CUSTOMREQUEST, "POST");
	}
	return 0;
}

static void alloc_teardown(struct alloc_run *a)
{
	for (unsigned i = 0; a->cl && i < a->n; i++)
		conn_free(&a->cl[i].c);
	free(a->cl);
	if (a->m)
		curl_multi_cleanup(a->m);
}

static int run_alloc(const char *base, const char *token, const char *network, unsigned clients, double secs,
		     unsigned long max)
{
	char url[512];
	struct alloc_run a = { .n = clients, .url = url, .network = network };
	int rc = -1;
	snprintf(url, sizeof url, "%s/restconf/operations/netd:allocate-address", base);
	/* warm-up: one untimed request per client opens its connection */
	if (alloc_setup(&a, token) < 0 || drive(&a, 1e300, 0) < 0 || a.fail)
		goto out;
	a.ok = 0;
	double t0 = bench_now();
	if (drive(&a, t0 + secs, max) < 0)
		goto out;
	double el = bench_now() - t0;
	printf("RESULT ok=%lu fail=%lu secs=%.3f rate=%.1f\n", a.ok, a.fail, el, el > 0 ? (double)a.ok / el : 0.0);
	rc = a.fail ? -1 : 0;
out:
	alloc_teardown(&a);
	return rc;
}

/* ------------------------------------------------------------------ nodes */

struct buf {
	char *p;
	size_t len, cap;
};

static int buf_reserve(struct buf *b, size_t n)
{
	if (b->cap - b->len > n)
		return 0;
	size_t cap = b->cap ? b->cap : 65536;
	while (cap - b->len <= n)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int buf_adds(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	if (buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
	return 0;
}

static int buf_add_node(struct buf *b, unsigned long i)
{
	char node[128];
	snprintf(node, sizeof node, "{\"name\":\"n%06lu\",\"network\":[{\"name\":\"admin\"},{\"name\":\"storage\"}]}", i);
	return buf_adds(b, node);
}

/* {"netd:nodes":{"node":[{"name":"n000000","network":[{"name":"admin"},{"name":"storage"}]},...]}} */
static int nodes_body(struct buf *b, unsigned long first, unsigned long count)
{
	b->len = 0;
	if (buf_adds(b, "{\"netd:nodes\":{\"node\":[") < 0)
		return -1;
	for (unsigned long i = first; i < first + count; i++) {
		if (i > first && buf_adds(b, ",") < 0)
			return -1;
		if (buf_add_node(b, i) < 0)
			return -1;
	}
	return buf_adds(b, "]}}");
}

static int run_nodes(const char *base, const char *token, unsigned long nodes, unsigned long batch)
{
	char url[512];
	struct conn c = { 0 };
	struct buf b = { 0 };
	unsigned long ok = 0, fail = 0;
	snprintf(url, sizeof url, "%s/restconf/data", base);
	if (conn_init(&c, token) < 0)
		return -1;
	double t0 = bench_now();
	for (unsigned long first = 0; first < nodes && !fail; first += batch) {
		unsigned long n = nodes - first < batch ? nodes - first : batch;
		if (nodes_body(&b, first, n) < 0)
			break;
		long st = conn_send(&c, "PATCH", url, b.p, b.len);
		if (st == 204 || st == 200) {
			ok += n;
		} else {
			fail += n;
			report_failure("PATCH nodes", st, &c.r);
		}
	}
	double el = bench_now() - t0;
	printf("RESULT ok=%lu fail=%lu secs=%.3f rate=%.1f\n", ok, fail, el, el > 0 ? (double)ok / el : 0.0);
	free(b.p);
	conn_free(&c);
	return ok == nodes ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: rc_client alloc BASE TOKEN_FILE NETWORK CLIENTS SECONDS MAX_PER_CLIENT\n"
			"       rc_client nodes BASE TOKEN_FILE NODES BATCH\n");
}

int main(int argc, char **argv)
{
	char token[256];
	int rc;
	bool alloc = argc == 8 && !strcmp(argv[1], "alloc"), nodes = argc == 6 && !strcmp(argv[1], "nodes");
	if (!alloc && !nodes) {
		usage();
		return 64;
	}
	if (read_token(argv[3], token, sizeof token) < 0)
		return 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	if (alloc) {
		unsigned clients = (unsigned)strtoul(argv[5], NULL, 10);
		rc = clients ? run_alloc(argv[2], token, argv[4], clients, atof(argv[6]), strtoul(argv[7], NULL, 10)) : -1;
	} else {
		rc = run_nodes(argv[2], token, strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10));
	}
	curl_global_cleanup();
	return rc < 0 ? 1 : 0;
}
