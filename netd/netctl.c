/* netd/netctl.c — netctl, the command-line client of netd's RESTCONF API.
 *
 *   netctl [--server URL] [--token-file F] [--user U --password P] [--json] CMD ...
 *
 * Every run builds one libyang context (yc_new: the netd modules, embedded)
 * and one curl handle reused for all its requests, so they share one
 * keep-alive connection.  JSON in both directions goes through libyang:
 * request bodies are printed from data trees built or validated against the
 * model, answers are parsed into data trees (LYD_PARSE_ONLY, tolerant of
 * leaves this netctl does not know), and the RFC 8040 error body, whose
 * ietf-restconf module is not in the context, is parsed into opaque nodes.
 *
 * Errors: every failure is reported on stderr once, where it is detected, as
 * "netctl: ..."; the negative code returned up the stack only selects the
 * exit status: 0 ok, 1 failed (netd said no, bad input, bad answer),
 * 2 netd unreachable, 64 usage.
 *
 * Caveats:
 * - `apply` only creates and replaces entries named in the file; entries netd
 *   has and the file lacks are left alone (no deletes).
 * - Comparisons in `apply` ignore config-false nodes and list order, and treat
 *   a leaf left at its default the same as one set to the default value.
 * - A token is sent to a non-local server only when given explicitly
 *   (--token-file or NETD_TOKEN); the admin.token files are read only for a
 *   loopback server.  Use https:// for anything not on loopback.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libyang/libyang.h>

#include "core/err.h"
#include "netd/auth.h"
#include "netd/netctl.h"
#include "netd/yangctx.h"

/* A list under a top-level container, e.g. /netd:networks/network. */
struct nc_kind {
	const char *word;      /* list name and the word in messages: "network" */
	const char *container; /* "networks" */
};

static const struct nc_kind nc_networks = { "network", "networks" };
static const struct nc_kind nc_nodes = { "node", "nodes" };

/* ---- messages ------------------------------------------------------------ */

static const char nc_usage_text[] =
	"usage: netctl [--server URL] [--token-file F] [--user U --password P] [--json] CMD ...\n"
	"\n"
	"commands:\n"
	"  apply -f FILE                      create/replace the networks and nodes in FILE\n"
	"  get networks [NAME]                list networks (or one)\n"
	"  get nodes [NAME]                   list nodes (or one)\n"
	"  get allocations [NETWORK]          list allocations (of one network)\n"
	"  node add NAME [--network NET[:RANGE]]... [--hint4 NET=ADDR] [--hint6 NET=ADDR]\n"
	"                [--mac MAC] [--alias A]...\n"
	"  node rename OLD NEW\n"
	"  node delete NAME\n"
	"  node inventory NODE [--file F]     a node's NICs, or store them from a JSON file\n"
	"  alloc NETWORK NAME [--family ipv4|ipv6] [--range R] [--hint ADDR]\n"
	"  release NETWORK ADDRESS\n"
	"  status                             show netd's status\n"
	"  anneal status [DEPLOYMENT]         node-role counts per state, errors with their logs\n"
	"  anneal watch DEPLOYMENT            live progress until it converges or fails\n"
	"  anneal propose|commit|retry ...    see `netctl anneal help`\n"
	"  conduit resolve|plan|confirm NODE  how a node's conduits resolve, its plan, keep its pending change\n"
	"  dns status                         record states per zone, outbox depth\n"
	"  dns check                          reconcile with the servers now, report drift\n"
	"  dns export ZONE                    the intended zone as an RFC 1035 master file\n"
	"  switch list | show NAME            switches: state, ports, links (learned and the operator's)\n"
	"  switch learn NAME | sync NAME      learn its links now / reconcile it now, and wait\n"
	"  bmc show NODE | sync NODE          a node's BMC: wanted and read-back address, state; configure now\n"
	"  hash-password                      hash a password read from stdin (for users in the config)\n"
	"  help                               this text\n"
	"\n"
	"options:\n"
	"  --server URL      netd's RESTCONF URL (env NETD_SERVER, default " NC_DEFAULT_SERVER ")\n"
	"  --token-file F    bearer token file (else env NETD_TOKEN, else for a local server\n"
	"                    $NETD_STORE/admin.token or ./var/netd/admin.token)\n"
	"  --user U --password P   HTTP Basic credentials instead of a token\n"
	"  --json            print netd's JSON answer instead of a table\n"
	"\n"
	"exit status: 0 ok, 1 failed, 2 netd unreachable, 64 usage error\n";

/* Print "netctl: <fmt>" on stderr; returns @code. */
int nc_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("netctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* A usage error: the reason, then the usage text, on stderr. NC_EUSAGE. */
int nc_usage_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("netctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	fputs(nc_usage_text, stderr);
	return NC_EUSAGE;
}

/* The data path in libyang's error location @loc, which 2.1 formats as
 * 'Data location "/netd:...", line number 3.': the quoted path plus
 * ", line N" when given, else @loc itself, into @buf. */
static const char *nc_ly_path(const char *loc, char *buf, size_t len)
{
	const char *q = strchr(loc, '"'), *end = q ? strchr(q + 1, '"') : NULL;
	const char *line = strstr(loc, "line number ");

	if (!q || !end) {
		const char *ln = strstr(loc, "ine number ");
		if (ln)
			snprintf(buf, len, "line %d", atoi(ln + 11));
		else
			snprintf(buf, len, "%s", loc);
		return buf;
	}
	if (line)
		snprintf(buf, len, "%.*s, line %d", (int)(end - q - 1), q + 1, atoi(line + 12));
	else
		snprintf(buf, len, "%.*s", (int)(end - q - 1), q + 1);
	return buf;
}

/* Report libyang's stored errors for @ctx as "netctl: <what>: msg (path P)",
 * one line each (at least one line). Clears them. Returns NETD_EINVAL. */
static int nc_ly_fail(const struct ly_ctx *ctx, const char *what)
{
	const struct ly_err_item *it = ly_err_first(ctx);
	char path[1024];
	bool any = false;

	for (; it; it = it->next) {
		if (it->level != LY_LLERR)
			continue;
		if (it->path && *it->path)
			nc_fail(0, "%s: %s (path %s)", what, it->msg ? it->msg : "invalid",
				nc_ly_path(it->path, path, sizeof path));
		else
			nc_fail(0, "%s: %s", what, it->msg ? it->msg : "invalid");
		any = true;
	}
	if (!any)
		nc_fail(0, "%s: invalid data", what);
	ly_err_clean((struct ly_ctx *)ctx, NULL);
	return NETD_EINVAL;
}

static int nc_exit_status(int r)
{
	if (r >= 0)
		return 0;
	if (r == NC_EUSAGE)
		return NC_EXIT_USAGE;
	if (r == NC_ECONN)
		return NC_EXIT_CONN;
	return NC_EXIT_FAIL;
}

/* ---- small strings ------------------------------------------------------- */

struct nc_buf {
	char *s;
	size_t len, cap;
};

/* Append @sep (when the buffer is not empty) and @s. 0 or -ENOMEM. */
static int nc_buf_add(struct nc_buf *b, const char *sep, const char *s)
{
	size_t ls = b->len && sep ? strlen(sep) : 0, lt = strlen(s);

	if (b->len + ls + lt + 1 > b->cap) {
		size_t cap = (b->len + ls + lt + 1) * 2;
		char *p = realloc(b->s, cap);
		if (!p)
			return -ENOMEM;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, sep, ls);
	memcpy(b->s + b->len + ls, s, lt + 1);
	b->len += ls + lt;
	return 0;
}

/* The buffer's text: "" when nothing was added. */
static const char *nc_buf_str(const struct nc_buf *b)
{
	return b->s ? b->s : "";
}

/* Decimal addition for big-count values: *acc += x, both unsigned decimal
 * strings, acc holding up to @cap bytes. 0, NETD_EINVAL (not a number) or
 * -ERANGE (does not fit); acc is unchanged on failure. */
static int nc_dec_add(char *acc, size_t cap, const char *x)
{
	char tmp[NC_DEC_MAX + 1];
	size_t la = strlen(acc), lx = strlen(x), n = (la > lx ? la : lx) + 1;
	unsigned carry = 0;

	if (lx == 0)
		return NETD_EINVAL;
	if (n >= sizeof tmp || n >= cap)
		return -ERANGE;
	for (size_t i = 0; i < n; i++) {
		unsigned d = carry;
		if (i < la)
			d += (unsigned)(acc[la - 1 - i] - '0');
		if (i < lx) {
			char ch = x[lx - 1 - i];
			if (ch < '0' || ch > '9')
				return NETD_EINVAL;
			d += (unsigned)(ch - '0');
		}
		tmp[n - 1 - i] = (char)('0' + d % 10);
		carry = d / 10;
	}
	tmp[n] = '\0';
	size_t skip = 0;
	while (skip + 1 < n && tmp[skip] == '0')
		skip++;
	memcpy(acc, tmp + skip, n - skip + 1);
	return 0;
}

/* Read all of @f into a NUL-terminated heap string *out. 0, -errno or
 * NETD_ETOOBIG. */
static int nc_read_stream(FILE *f, char **out)
{
	char *s = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > NC_FILE_MAX + 1) {
				free(s);
				return NETD_ETOOBIG;
			}
			char *p = realloc(s, cap);
			if (!p) {
				free(s);
				return -ENOMEM;
			}
			s = p;
		}
		size_t got = fread(s + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(s);
		return -EIO;
	}
	s[len] = '\0';
	*out = s;
	return 0;
}

/* Read file @path ("-" = stdin) into *out. 0 or an error (not reported). */
int nc_read_file(const char *path, char **out)
{
	if (strcmp(path, "-") == 0)
		return nc_read_stream(stdin, out);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int r = nc_read_stream(f, out);
	fclose(f);
	return r;
}

/* Cut @s at its first line end and strip surrounding blanks, in place. */
static char *nc_first_line(char *s)
{
	s[strcspn(s, "\r\n")] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* ---- command-line options ------------------------------------------------ */

/* Is argv[*i] the option @name (or @alias, may be NULL), as "NAME VALUE" or
 * "NAME=VALUE"? Then *val is the value, *i is past it, and 1 is returned; 0
 * if it is another argument; NC_EUSAGE (reported) if the value is missing. */
int nc_opt(int argc, char **argv, int *i, const char *name, const char *alias, const char **val)
{
	const char *a = argv[*i];
	const char *names[2] = { name, alias };

	for (size_t k = 0; k < 2; k++) {
		size_t n = names[k] ? strlen(names[k]) : 0;
		if (!n || strncmp(a, names[k], n) != 0)
			continue;
		if (a[n] == '=') {
			*val = a + n + 1;
			return 1;
		}
		if (a[n] != '\0')
			continue;
		if (*i + 1 >= argc)
			return nc_usage_fail("%s needs a value", names[k]);
		*val = argv[++*i];
		return 1;
	}
	return 0;
}

/* Take the global options out of argv, wherever they stand; the remaining
 * words (command, its arguments and options) go to rest[] in order, *nrest
 * of them. rest must hold argc entries. 0 or NC_EUSAGE. */
static int nc_parse_global(int argc, char **argv, struct nc_opts *o, char **rest, int *nrest)
{
	const struct { const char *name; const char **dst; } valued[] = {
		{ "--server", &o->server },
		{ "--token-file", &o->token_file },
		{ "--user", &o->user },
		{ "--password", &o->password },
	};
	bool opts_done = false;
	int n = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (opts_done || a[0] != '-') {
			rest[n++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = true;
			continue;
		}
		int hit = 0;
		for (size_t k = 0; k < sizeof valued / sizeof valued[0] && !hit; k++) {
			const char *v = NULL;
			hit = nc_opt(argc, argv, &i, valued[k].name, NULL, &v);
			if (hit < 0)
				return hit;
			if (hit)
				*valued[k].dst = v;
		}
		if (!hit)
			rest[n++] = argv[i];
	}
	*nrest = n;
	return 0;
}

/* Reject options left over after a command took its own. 0 or NC_EUSAGE. */
int nc_no_options(int argc, char **argv, const char *cmd)
{
	for (int i = 0; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			return nc_usage_fail("%s: unknown option %s", cmd, argv[i]);
	return 0;
}

/* ---- server and credentials ---------------------------------------------- */

/* Is @url's host loopback (127.0.0.0/8, ::1, localhost)? false if unparsable. */
static bool nc_server_is_local(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	bool local = false;

	if (!u)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto cleanup;
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0) {
		local = true;
	} else {
		struct in_addr a4;
		if (inet_pton(AF_INET, host, &a4) == 1)
			local = (ntohl(a4.s_addr) >> 24) == 127;
	}
cleanup:
	curl_free(host);
	curl_url_cleanup(u);
	return local;
}

/* Check a token read from anywhere: one printable line. */
static bool nc_token_ok(const char *t)
{
	if (!*t)
		return false;
	for (; *t; t++)
		if (!isgraph((unsigned char)*t))
			return false;
	return true;
}

/* Read the token in @path into *out (heap). 0, -errno or NETD_EINVAL (empty
 * or not one printable word); not reported. */
static int nc_token_read(const char *path, char **out)
{
	char *text = NULL;
	int r = nc_read_file(path, &text);

	if (r < 0)
		return r;
	char *line = nc_first_line(text);
	if (!nc_token_ok(line)) {
		r = NETD_EINVAL;
		goto cleanup;
	}
	*out = strdup(line);
	if (!*out)
		r = -ENOMEM;
cleanup:
	free(text);
	return r;
}

/* Find the bearer token: --token-file (must be readable), NETD_TOKEN, or for
 * a local server $NETD_STORE/admin.token, ./var/netd/admin.token (skipped if
 * missing). *out stays NULL if there is none. 0 or an error (reported). */
static int nc_token_find(const struct nc_opts *o, const char *server, char **out)
{
	*out = NULL;
	if (o->token_file) {
		int r = nc_token_read(o->token_file, out);
		if (r < 0)
			return nc_fail(r, "cannot read token file %s: %s", o->token_file, netd_strerror(r));
		return 0;
	}
	const char *env = getenv("NETD_TOKEN");
	if (env && *env) {
		if (!nc_token_ok(env))
			return nc_fail(NETD_EINVAL, "NETD_TOKEN is not a token (one printable word)");
		*out = strdup(env);
		return *out ? 0 : -ENOMEM;
	}
	if (!nc_server_is_local(server))
		return 0;
	const char *store = getenv("NETD_STORE");
	char path[4096];
	if (store && *store) {
		snprintf(path, sizeof path, "%s/admin.token", store);
		if (nc_token_read(path, out) == 0)
			return 0;
	}
	if (nc_token_read("var/netd/admin.token", out) == 0)
		return 0;
	return 0;
}

/* ---- HTTP ---------------------------------------------------------------- */

void nc_resp_clear(struct nc_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}

static size_t nc_write_cb(char *data, size_t size, size_t nmemb, void *user)
{
	struct nc_resp *r = user;
	size_t n = size * nmemb;

	if (r->len + n + 1 > NC_BODY_MAX) {
		r->too_big = true;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 16384;
		while (cap < r->len + n + 1)
			cap *= 2;
		char *p = realloc(r->body, cap);
		if (!p)
			return 0;
		r->body = p;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Send @method @path (relative to the server, e.g. "/restconf/data/netd:nodes")
 * with @body (NULL = none) and collect the answer in @resp (cleared first;
 * body always a string on success). Any HTTP status is 0 here. NC_ECONN
 * (reported) when netd cannot be reached or the exchange fails, -ENOMEM. */
int nc_request(struct nc *c, const char *method, const char *path, const char *body,
		      struct nc_resp *resp)
{
	CURL *h = c->curl;
	char *url = NULL;
	int r = 0;

	nc_resp_clear(resp);
	if (asprintf(&url, "%s%s", c->base, path) < 0)
		return -ENOMEM;
	curl_easy_reset(h); /* keeps the live connection */
	c->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "netctl");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, body ? c->hdr_body : c->hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, nc_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	if (c->user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
	}
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);

	CURLcode rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		if (resp->too_big)
			r = nc_fail(NC_ESERVER, "%s %s: netd's answer exceeds %zu bytes", method, path,
				    NC_BODY_MAX);
		else
			r = nc_fail(NC_ECONN, "cannot reach netd at %s: %s", c->base,
				    c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		goto cleanup;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (!resp->body) {
		resp->body = strdup("");
		if (!resp->body)
			r = -ENOMEM;
	}
cleanup:
	free(url);
	return r;
}

/* The value of the opaque child @name of @n, or NULL. */
static const char *nc_opaq_value(const struct lyd_node *n, const char *name)
{
	const struct lyd_node *ch;

	LY_LIST_FOR(lyd_child(n), ch) {
		if (ch->schema)
			continue;
		const struct lyd_node_opaq *o = (const struct lyd_node_opaq *)ch;
		if (strcmp(o->name.name, name) == 0)
			return o->value;
	}
	return NULL;
}

/* The first sibling of @first (opaque or not) named @name, or NULL. */
static const struct lyd_node *nc_named(const struct lyd_node *first, const char *name)
{
	const struct lyd_node *n;

	LY_LIST_FOR(first, n) {
		const char *nm = n->schema ? n->schema->name : ((const struct lyd_node_opaq *)n)->name.name;
		if (strcmp(nm, name) == 0)
			return n;
	}
	return NULL;
}

/* Print one RFC 8040 error ("error" node). */
static void nc_report_one(long status, const struct lyd_node *err)
{
	const char *msg = nc_opaq_value(err, "error-message");
	const char *tag = nc_opaq_value(err, "error-tag");
	const char *path = nc_opaq_value(err, "error-path");

	if (!msg || !*msg)
		msg = tag && *tag ? tag : "error";
	const char *sp = tag && *tag ? " " : "";

	if (!tag)
		tag = "";
	if (path && *path)
		nc_fail(0, "%s (path %s; HTTP %ld%s%s)", msg, path, status, sp, tag);
	else
		nc_fail(0, "%s (HTTP %ld%s%s)", msg, status, sp, tag);
}

/* Report netd's error answer: each ietf-restconf error, or the bare status
 * when the body holds none. Returns NC_ESERVER. */
static int nc_report(struct nc *c, const struct nc_resp *resp)
{
	struct lyd_node *tree = NULL;
	bool any = false;

	ly_err_clean(c->ctx, NULL);
	if (resp->len && lyd_parse_data_mem(c->ctx, resp->body, LYD_JSON, LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0,
					    &tree) == LY_SUCCESS) {
		const struct lyd_node *errs = nc_named(tree, "errors"), *e;
		LY_LIST_FOR(errs ? lyd_child(errs) : NULL, e) {
			if (e->schema || strcmp(((const struct lyd_node_opaq *)e)->name.name, "error") != 0)
				continue;
			nc_report_one(resp->status, e);
			any = true;
		}
	}
	ly_err_clean(c->ctx, NULL);
	lyd_free_all(tree);
	if (!any)
		nc_fail(0, "netd answered HTTP %ld without error details", resp->status);
	return NC_ESERVER;
}

/* nc_request(), then report an HTTP error status (>= 400). 0, NC_ESERVER,
 * NC_ECONN or -ENOMEM, all reported but -ENOMEM. */
int nc_call(struct nc *c, const char *method, const char *path, const char *body, struct nc_resp *resp)
{
	int r = nc_request(c, method, path, body, resp);

	if (r < 0)
		return r;
	if (resp->status >= 400 || resp->status < 200)
		return nc_report(c, resp);
	return 0;
}

/* ---- data trees ---------------------------------------------------------- */

static bool nc_blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* Parse netd's data answer @body into *tree (NULL if empty). @under: the
 * container path ("/netd:nodes") an answer for one list entry
 * ({"netd:node":[...]}) is parsed under, or NULL. 0 or NETD_EINVAL
 * (reported). */
int nc_parse_answer(struct nc *c, const char *body, const char *under, struct lyd_node **tree)
{
	struct lyd_node *t = NULL;
	struct ly_in *in = NULL;

	*tree = NULL;
	if (nc_blank(body))
		return 0;
	ly_err_clean(c->ctx, NULL);
	if (under) {
		if (lyd_new_path(NULL, c->ctx, under, NULL, 0, &t) != LY_SUCCESS ||
		    ly_in_new_memory(body, &in) != LY_SUCCESS)
			goto fail;
		LY_ERR lr = lyd_parse_data(c->ctx, t, in, LYD_JSON, LYD_PARSE_ONLY, 0, NULL);
		ly_in_free(in, 0);
		if (lr == LY_SUCCESS)
			goto done;
		/* Not an entry: perhaps the whole container. */
		lyd_free_all(t);
		t = NULL;
		ly_err_clean(c->ctx, NULL);
	}
	if (lyd_parse_data_mem(c->ctx, body, LYD_JSON, LYD_PARSE_ONLY, 0, &t) != LY_SUCCESS)
		goto fail;
done:
	*tree = t;
	return 0;
fail:
	lyd_free_all(t);
	return nc_ly_fail(c->ctx, "cannot parse netd's answer");
}

/* GET @path and parse the answer (see nc_parse_answer for @under). With
 * @missing_ok a 404 gives 0 and an empty tree. The raw answer stays in
 * @resp. 0, NC_ECONN, NC_ESERVER or NETD_EINVAL, reported. */
int nc_fetch(struct nc *c, const char *path, const char *under, bool missing_ok, struct nc_resp *resp,
		    struct lyd_node **tree)
{
	int r = nc_request(c, "GET", path, NULL, resp);

	*tree = NULL;
	if (r < 0)
		return r;
	if (resp->status == 404 && missing_ok) {
		resp->body[0] = '\0';
		resp->len = 0;
		return 0;
	}
	if (resp->status >= 400 || resp->status < 200)
		return nc_report(c, resp);
	return nc_parse_answer(c, resp->body, under, tree);
}

/* The top-level netd node named @name among @tree's siblings, or NULL. */
const struct lyd_node *nc_top(const struct lyd_node *tree, const char *name)
{
	const struct lyd_node *n;

	LY_LIST_FOR(tree ? lyd_first_sibling(tree) : NULL, n)
		if (n->schema && strcmp(n->schema->name, name) == 0)
			return n;
	return NULL;
}

/* The value of @n's child leaf @name, or NULL. */
const char *nc_leaf(const struct lyd_node *n, const char *name)
{
	const struct lyd_node *ch;

	LY_LIST_FOR(n ? lyd_child(n) : NULL, ch)
		if (ch->schema && (ch->schema->nodetype & LYD_NODE_TERM) && strcmp(ch->schema->name, name) == 0)
			return lyd_get_value(ch);
	return NULL;
}

/* @n's child (container or list entry) named @name, or NULL. With @key, the
 * list entry whose "name" leaf is @key. */
const struct lyd_node *nc_child(const struct lyd_node *n, const char *name, const char *key)
{
	const struct lyd_node *ch;

	LY_LIST_FOR(n ? lyd_child(n) : NULL, ch) {
		if (!ch->schema || strcmp(ch->schema->name, name) != 0)
			continue;
		const char *k = key ? nc_leaf(ch, "name") : NULL;
		if (!key || (k && strcmp(k, key) == 0))
			return ch;
	}
	return NULL;
}

static bool nc_is_config(const struct lyd_node *n)
{
	return n->schema && !(n->schema->flags & LYS_CONFIG_R);
}

static size_t nc_config_children(const struct lyd_node *n)
{
	const struct lyd_node *ch;
	size_t k = 0;

	LY_LIST_FOR(lyd_child(n), ch)
		k += nc_is_config(ch);
	return k;
}

/* Do @a and @b (same context) hold the same configuration? Config-false
 * nodes are ignored, list and leaf-list entries are matched by key/value
 * (order ignored), a default leaf equals one set to the default. */
static bool nc_tree_equal(const struct lyd_node *a, const struct lyd_node *b)
{
	const struct lyd_node *ca;

	if (a->schema != b->schema || !a->schema)
		return false;
	if (a->schema->nodetype & LYD_NODE_TERM)
		return lyd_compare_single(a, b, 0) == LY_SUCCESS;
	if (nc_config_children(a) != nc_config_children(b))
		return false;
	LY_LIST_FOR(lyd_child(a), ca) {
		struct lyd_node *cb = NULL;
		if (!nc_is_config(ca))
			continue;
		if (lyd_find_sibling_first(lyd_child(b), ca, &cb) != LY_SUCCESS || !nc_tree_equal(ca, cb))
			return false;
	}
	return true;
}

/* "/restconf/data/netd:<container>/<list>=<percent-encoded key>" in *out. */
static int nc_entry_path(struct nc *c, const struct nc_kind *k, const char *key, char **out)
{
	char *esc = curl_easy_escape(c->curl, key, 0);
	int r = 0;

	if (!esc)
		return -ENOMEM;
	if (asprintf(out, "/restconf/data/netd:%s/%s=%s", k->container, k->word, esc) < 0)
		r = -ENOMEM;
	curl_free(esc);
	return r;
}

/* Print data node @n alone (no siblings) as compact JSON into *out. */
static int nc_print_node(const struct lyd_node *n, char **out)
{
	if (lyd_print_mem(out, n, LYD_JSON, LYD_PRINT_SHRINK) != LY_SUCCESS || !*out)
		return -ENOMEM;
	return 0;
}

/* Print @body on stdout, newline-terminated. */
void nc_print_raw(const char *body)
{
	size_t n = strlen(body);

	fputs(body, stdout);
	if (n && body[n - 1] != '\n')
		fputc('\n', stdout);
}

/* ---- tables -------------------------------------------------------------- */

/* Add a row of t->ncols cells (NULL or "" printed as "-"). 0 or -ENOMEM. */
int nc_table_add(struct nc_table *t, const char *const *row)
{
	if (t->ncols > NC_TABLE_MAXCOLS)
		return -EINVAL;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, cap * t->ncols * sizeof *p);
		if (!p)
			return -ENOMEM;
		t->cells = p;
		t->cap = cap;
	}
	char **dst = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		dst[i] = strdup(row[i] && *row[i] ? row[i] : "-");
		if (!dst[i]) {
			while (i--)
				free(dst[i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

void nc_table_print(const struct nc_table *t, FILE *out)
{
	size_t w[NC_TABLE_MAXCOLS] = { 0 };

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			size_t n = strlen(t->cells[r * t->ncols + i]);
			if (n > w[i])
				w[i] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];
			if (i + 1 < t->ncols)
				fprintf(out, "%-*s  ", (int)w[i], s);
			else
				fprintf(out, "%s\n", s);
		}
	}
}

void nc_table_free(struct nc_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* ---- get ----------------------------------------------------------------- */

/* Sum the utilization ranges' used and free counts of network entry @net,
 * for one family ("ipv4" or "ipv6"). */
static int nc_util_sums(const struct lyd_node *net, const char *family, char *used, char *freec, size_t cap)
{
	const struct lyd_node *util = nc_child(net, "utilization", NULL), *rg;

	if (!util) {
		snprintf(used, cap, "-");
		snprintf(freec, cap, "-");
		return 0;
	}
	snprintf(used, cap, "0");
	snprintf(freec, cap, "0");
	LY_LIST_FOR(lyd_child(util), rg) {
		if (!rg->schema || strcmp(rg->schema->name, "range") != 0)
			continue;
		const char *fam = nc_leaf(rg, "family");
		if (!fam || strcmp(fam, family))
			continue;
		const char *u = nc_leaf(rg, "used"), *f = nc_leaf(rg, "free");
		int r = u ? nc_dec_add(used, cap, u) : 0;
		if (r == 0 && f)
			r = nc_dec_add(freec, cap, f);
		if (r < 0)
			return r;
	}
	return 0;
}

static int nc_row_network(struct nc_table *t, const struct lyd_node *net)
{
	char used4[NC_DEC_MAX], free4[NC_DEC_MAX], used6[NC_DEC_MAX], free6[NC_DEC_MAX];
	const char *v4 = nc_leaf(nc_child(net, "ipv4", NULL), "subnet");
	const char *v6 = nc_leaf(net, "effective-ipv6-prefix");

	if (!v6)
		v6 = nc_leaf(nc_child(net, "ipv6", NULL), "prefix");
	if (nc_util_sums(net, "ipv4", used4, free4, sizeof used4) < 0)
		snprintf(used4, sizeof used4, "?");
	if (nc_util_sums(net, "ipv6", used6, free6, sizeof used6) < 0)
		snprintf(used6, sizeof used6, "?");
	const char *row[] = {
		nc_leaf(net, "name"), nc_leaf(net, "conduit"), nc_leaf(net, "vlan"),
		v4, v4 ? used4 : "-", v4 ? free4 : "-", v6, v6 ? used6 : "-", nc_leaf(net, "dns-domain"),
	};
	return nc_table_add(t, row);
}

/* Comma-joined values of leaf @leaf in each @list entry of @n. */
static int nc_join(const struct lyd_node *n, const char *list, const char *leaf, struct nc_buf *b)
{
	const struct lyd_node *ch;

	LY_LIST_FOR(lyd_child(n), ch) {
		if (!ch->schema || strcmp(ch->schema->name, list) != 0)
			continue;
		const char *v = (ch->schema->nodetype & LYD_NODE_TERM) ? lyd_get_value(ch) : nc_leaf(ch, leaf);
		if (v && nc_buf_add(b, ",", v) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int nc_row_node(struct nc_table *t, const struct lyd_node *node)
{
	struct nc_buf nets = { 0 }, addrs = { 0 };
	int r = nc_join(node, "network", "name", &nets);

	if (r == 0)
		r = nc_join(node, "address", "address", &addrs);
	if (r == 0) {
		const char *row[] = { nc_leaf(node, "name"), nc_leaf(node, "admin-mac"), nc_buf_str(&nets),
				      nc_buf_str(&addrs) };
		r = nc_table_add(t, row);
	}
	free(nets.s);
	free(addrs.s);
	return r;
}

static int nc_row_alloc(struct nc_table *t, const struct lyd_node *a)
{
	const char *row[] = {
		nc_leaf(a, "network"), nc_leaf(a, "address"), nc_leaf(a, "owner"),
		nc_leaf(a, "owner-kind"), nc_leaf(a, "range"), nc_leaf(a, "state"),
	};
	return nc_table_add(t, row);
}

/* What `get` can list. */
struct nc_listing {
	const char *what;      /* "networks" */
	const char *list;      /* "network" */
	const char *const *head;
	size_t ncols;
	int (*row)(struct nc_table *t, const struct lyd_node *entry);
	bool filter_by_network; /* the argument filters client-side */
};

static const char *const nc_head_networks[] = { "NAME", "CONDUIT", "VLAN", "IPV4", "USED4", "FREE4",
						 "IPV6", "USED6", "DOMAIN" };
static const char *const nc_head_nodes[] = { "NAME", "MAC", "NETWORKS", "ADDRESSES" };
static const char *const nc_head_allocs[] = { "NETWORK", "ADDRESS", "OWNER", "KIND", "RANGE", "STATE" };

static const struct nc_listing nc_listings[] = {
#define NC_COLS(h) (sizeof(h) / sizeof((h)[0]))
	{ "networks", "network", nc_head_networks, NC_COLS(nc_head_networks), nc_row_network, false },
	{ "nodes", "node", nc_head_nodes, NC_COLS(nc_head_nodes), nc_row_node, false },
	{ "allocations", "allocation", nc_head_allocs, NC_COLS(nc_head_allocs), nc_row_alloc, true },
};

/* Print @tree's entries of @l as a table; with @filter only entries whose
 * "network" leaf is @filter. */
static int nc_print_listing(const struct nc_listing *l, const struct lyd_node *tree, const char *filter)
{
	struct nc_table t = { .ncols = l->ncols };
	const struct lyd_node *top = nc_top(tree, l->what), *e;
	int r = nc_table_add(&t, l->head);

	LY_LIST_FOR(top ? lyd_child(top) : NULL, e) {
		if (r < 0)
			break;
		if (!e->schema || strcmp(e->schema->name, l->list) != 0)
			continue;
		const char *net = nc_leaf(e, "network");
		if (filter && (!net || strcmp(net, filter) != 0))
			continue;
		r = l->row(&t, e);
	}
	if (r == 0)
		nc_table_print(&t, stdout);
	nc_table_free(&t);
	return r;
}

/* Drop the entries of @tree's listing whose network is not @filter. */
static void nc_filter_tree(const struct nc_listing *l, struct lyd_node *tree, const char *filter)
{
	const struct lyd_node *top = nc_top(tree, l->what);
	struct lyd_node *e = top ? lyd_child(top) : NULL, *next;

	for (; e; e = next) {
		next = e->next;
		const char *net = nc_leaf(e, "network");
		if (e->schema && strcmp(e->schema->name, l->list) == 0 && (!net || strcmp(net, filter) != 0))
			lyd_free_tree(e);
	}
}

/* get networks|nodes|allocations [NAME] */
static int cmd_get(struct nc *c, int argc, char **argv)
{
	const struct nc_listing *l = NULL;
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	char *path = NULL;
	int r = nc_no_options(argc, argv, "get");

	if (r < 0)
		return r;
	if (argc < 2 || argc > 3)
		return nc_usage_fail("get: expected networks|nodes|allocations [NAME]");
	for (size_t i = 0; i < sizeof nc_listings / sizeof nc_listings[0]; i++)
		if (strcmp(argv[1], nc_listings[i].what) == 0)
			l = &nc_listings[i];
	if (!l)
		return nc_usage_fail("get: unknown kind %s (networks, nodes, allocations)", argv[1]);
	const char *arg = argc == 3 ? argv[2] : NULL;
	bool one = arg && !l->filter_by_network;
	const struct nc_kind k = { l->list, l->what };

	if (one)
		r = nc_entry_path(c, &k, arg, &path);
	else if (asprintf(&path, "/restconf/data/netd:%s", l->what) < 0)
		r = -ENOMEM;
	if (r < 0)
		goto cleanup;
	char under[64];
	snprintf(under, sizeof under, "/netd:%s", l->what);
	r = nc_fetch(c, path, one ? under : NULL, !one, &resp, &tree);
	if (r < 0)
		goto cleanup;
	if (c->json && !(arg && l->filter_by_network)) {
		nc_print_raw(resp.len ? resp.body : "{}");
	} else if (c->json) {
		nc_filter_tree(l, tree, arg);
		if (tree)
			lyd_print_file(stdout, tree, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK);
		puts(tree ? "" : "{}");
	} else {
		r = nc_print_listing(l, tree, l->filter_by_network ? arg : NULL);
	}
cleanup:
	if (r == -ENOMEM)
		nc_fail(r, "out of memory");
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	free(path);
	return r;
}

/* ---- apply --------------------------------------------------------------- */

struct nc_tally {
	unsigned created, updated, unchanged;
};

/* Load and validate the desired configuration in @file into *out. Errors
 * (unreadable file, bad JSON, failed constraints) are reported with their
 * data path. 0, -errno or NETD_EINVAL. */
static int nc_load_config(struct nc *c, const char *file, struct lyd_node **out)
{
	char *text = NULL;
	int r = nc_read_file(file, &text);

	if (r < 0)
		return nc_fail(r, "cannot read %s: %s", file, netd_strerror(r));
	ly_err_clean(c->ctx, NULL);
	if (lyd_parse_data_mem(c->ctx, text, LYD_JSON, LYD_PARSE_STRICT | LYD_PARSE_NO_STATE | LYD_PARSE_ONLY, 0,
			       out) != LY_SUCCESS)
		r = nc_ly_fail(c->ctx, file);
	else if (!nc_top(*out, "networks") && !nc_top(*out, "nodes"))
		r = nc_fail(NETD_EINVAL, "%s: holds neither netd:networks nor netd:nodes", file);
	if (r < 0) {
		lyd_free_all(*out);
		*out = NULL;
	}
	free(text);
	return r;
}

/* GET the configuration of container @k->container, defaults added, into
 * *out (NULL when netd has none). Errors reported. */
static int nc_fetch_config(struct nc *c, const struct nc_kind *k, struct lyd_node **out)
{
	struct nc_resp resp = { 0 };
	char path[128];
	int r;

	snprintf(path, sizeof path, "/restconf/data/netd:%s?content=config", k->container);
	r = nc_fetch(c, path, NULL, true, &resp, out);
	nc_resp_clear(&resp);
	if (r == 0 && *out && lyd_new_implicit_all(out, c->ctx, LYD_IMPLICIT_NO_STATE, NULL) != LY_SUCCESS)
		r = nc_ly_fail(c->ctx, "cannot complete netd's configuration");
	return r;
}

/* PUT list entry @e (of kind @k) to netd; @is_new: netd did not have it.
 * Prints "network admin: created|updated". 0 or an error (reported). */
static int nc_put_entry(struct nc *c, const struct nc_kind *k, const struct lyd_node *e, bool is_new,
			struct nc_tally *t)
{
	struct nc_resp resp = { 0 };
	char *path = NULL, *body = NULL;
	const char *name = nc_leaf(e, "name");
	int r = nc_entry_path(c, k, name ? name : "", &path);

	if (r == 0)
		r = nc_print_node(e, &body);
	if (r < 0) {
		nc_fail(r, "out of memory");
		goto cleanup;
	}
	r = nc_call(c, "PUT", path, body, &resp);
	if (r < 0)
		goto cleanup;
	if (resp.status == 201)
		is_new = true;
	printf("%s %s: %s\n", k->word, name, is_new ? "created" : "updated");
	fflush(stdout);
	if (is_new)
		t->created++;
	else
		t->updated++;
cleanup:
	nc_resp_clear(&resp);
	free(path);
	free(body);
	return r;
}

/* Send the changed entries of @k from @want, compared with @have. */
static int nc_apply_kind(struct nc *c, const struct nc_kind *k, const struct lyd_node *want,
			 const struct lyd_node *have, struct nc_tally *t)
{
	const struct lyd_node *wc = nc_top(want, k->container), *hc = nc_top(have, k->container), *e;

	LY_LIST_FOR(wc ? lyd_child(wc) : NULL, e) {
		struct lyd_node *cur = NULL;
		if (!e->schema || strcmp(e->schema->name, k->word) != 0)
			continue;
		if (!hc || lyd_find_sibling_first(lyd_child(hc), e, &cur) != LY_SUCCESS)
			cur = NULL;
		if (cur && nc_tree_equal(e, cur)) {
			t->unchanged++;
			continue;
		}
		int r = nc_put_entry(c, k, e, cur == NULL, t);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Validate @want as it will be once applied: the file's entries over the
 * networks netd has now (a file of nodes refers to networks it does not
 * carry). Errors reported with their data path. */
static int nc_validate_config(struct nc *c, const char *file, const struct lyd_node *want,
			      const struct lyd_node *have_networks)
{
	struct lyd_node *v = NULL, *mine = NULL, *e, *next, *dup;
	int r = 0;

	ly_err_clean(c->ctx, NULL);
	if (have_networks && lyd_dup_siblings(have_networks, NULL, LYD_DUP_RECURSIVE, &v) != LY_SUCCESS)
		return nc_ly_fail(c->ctx, file);
	if (lyd_dup_siblings(want, NULL, LYD_DUP_RECURSIVE, &mine) != LY_SUCCESS) {
		r = nc_ly_fail(c->ctx, file);
		goto out;
	}
	/* entries the file defines replace netd's copy whole */
	for (e = v ? lyd_child(v) : NULL; e; e = next) {
		next = e->next;
		char path[512];
		if (lyd_path(e, LYD_PATH_STD, path, sizeof path) &&
		    lyd_find_path(mine, path, 0, &dup) == LY_SUCCESS)
			lyd_free_tree(e);
	}
	if (lyd_merge_siblings(&v, mine, 0) != LY_SUCCESS ||
	    lyd_validate_all(&v, c->ctx, LYD_VALIDATE_NO_STATE | LYD_VALIDATE_PRESENT, NULL) != LY_SUCCESS)
		r = nc_ly_fail(c->ctx, file);
out:
	lyd_free_all(mine);
	lyd_free_all(v);
	return r;
}

/* apply -f FILE */
static int cmd_apply(struct nc *c, int argc, char **argv)
{
	static const struct nc_kind *const kinds[] = { &nc_networks, &nc_nodes };
	struct lyd_node *want = NULL, *have[2] = { NULL, NULL };
	struct nc_tally t = { 0 };
	const char *file = NULL;
	int r = 0;

	for (int i = 1; i < argc; i++) {
		r = nc_opt(argc, argv, &i, "--file", "-f", &file);
		if (r < 0)
			return r;
		if (r == 0)
			return nc_usage_fail("apply: unexpected argument %s", argv[i]);
	}
	if (!file)
		return nc_usage_fail("apply: -f FILE is required");
	r = nc_load_config(c, file, &want);
	for (size_t i = 0; i < 2 && r == 0; i++)
		r = nc_fetch_config(c, kinds[i], &have[i]);
	if (r == 0)
		r = nc_validate_config(c, file, want, have[0]);
	if (r == 0 && lyd_new_implicit_all(&want, c->ctx, LYD_IMPLICIT_NO_STATE, NULL) != LY_SUCCESS)
		r = nc_ly_fail(c->ctx, file);   /* defaults, as netd's copy has them, for the comparison */
	for (size_t i = 0; i < 2 && r == 0; i++)
		r = nc_apply_kind(c, kinds[i], want, have[i], &t);
	if (r == 0)
		printf("apply: %u created, %u updated, %u unchanged\n", t.created, t.updated, t.unchanged);
	lyd_free_all(want);
	lyd_free_all(have[0]);
	lyd_free_all(have[1]);
	return r;
}

/* ---- RPCs ---------------------------------------------------------------- */

struct nc_kv {
	const char *name;
	const char *value; /* NULL: leave the leaf out */
};

/* The RESTCONF body {"netd:input":{...}} for RPC @rpc with the @n inputs,
 * checked against the model, in *out. 0, NETD_EINVAL (reported: a bad value)
 * or -ENOMEM. */
static int nc_rpc_body(struct nc *c, const char *rpc, const struct nc_kv *in, size_t n, char **out)
{
	const struct lys_module *mod = ly_ctx_get_module_implemented(c->ctx, "netd");
	struct lyd_node *op = NULL;
	char *text = NULL, prefix[128];
	int r = 0;

	ly_err_clean(c->ctx, NULL);
	if (!mod || lyd_new_inner(NULL, mod, rpc, 0, &op) != LY_SUCCESS) {
		r = nc_ly_fail(c->ctx, rpc);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		if (in[i].value && lyd_new_term(op, NULL, in[i].name, in[i].value, 0, NULL) != LY_SUCCESS) {
			r = nc_ly_fail(c->ctx, in[i].name);
			goto cleanup;
		}
	}
	r = nc_print_node(op, &text);
	if (r < 0)
		goto cleanup;
	/* libyang prints {"netd:RPC":{...}}; RESTCONF wants {"netd:input":{...}}. */
	int pl = snprintf(prefix, sizeof prefix, "{\"netd:%s\":", rpc);
	if (pl < 0 || (size_t)pl >= sizeof prefix || strncmp(text, prefix, (size_t)pl) != 0) {
		r = nc_fail(NETD_EINVAL, "%s: unexpected printed input %s", rpc, text);
		goto cleanup;
	}
	if (asprintf(out, "{\"netd:input\":%s", text + pl) < 0)
		r = -ENOMEM;
cleanup:
	free(text);
	lyd_free_all(op);
	return r;
}

/* POST RPC @rpc with inputs @in; the answer stays in @resp. Errors
 * reported. */
static int nc_rpc(struct nc *c, const char *rpc, const struct nc_kv *in, size_t n, struct nc_resp *resp)
{
	char *body = NULL, path[128];
	int r = nc_rpc_body(c, rpc, in, n, &body);

	if (r == -ENOMEM)
		return nc_fail(r, "out of memory");
	if (r < 0)
		return r;
	snprintf(path, sizeof path, "/restconf/operations/netd:%s", rpc);
	r = nc_call(c, "POST", path, body, resp);
	free(body);
	return r;
}

/* The output leaf @leaf of an RPC answer {"netd:output":{...}} as a heap
 * string in *out. 0 or NETD_EINVAL (reported). */
static int nc_rpc_output(struct nc *c, const char *body, const char *leaf, char **out)
{
	struct lyd_node *tree = NULL;
	const char *v = NULL;
	int r = 0;

	ly_err_clean(c->ctx, NULL);
	if (lyd_parse_data_mem(c->ctx, body, LYD_JSON, LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0, &tree) == LY_SUCCESS) {
		const struct lyd_node *o = nc_named(tree, "output");
		if (o)
			v = o->schema ? nc_leaf(o, leaf) : nc_opaq_value(o, leaf);
	}
	ly_err_clean(c->ctx, NULL);
	if (!v || !*v)
		r = nc_fail(NETD_EINVAL, "netd's answer has no %s: %s", leaf, body);
	else if (!(*out = strdup(v)))
		r = nc_fail(-ENOMEM, "out of memory");
	lyd_free_all(tree);
	return r;
}

/* alloc NETWORK NAME [--family F] [--range R] [--hint ADDR] */
static int cmd_alloc(struct nc *c, int argc, char **argv)
{
	struct nc_kv in[] = { { "network", NULL }, { "name", NULL }, { "family", NULL }, { "range", NULL },
			      { "hint", NULL } };
	struct nc_resp resp = { 0 };
	char *addr = NULL;
	int npos = 0, r;

	for (int i = 1; i < argc; i++) {
		r = 0;
		for (size_t k = 2; k < 5 && r == 0; k++) {
			char opt[16];
			snprintf(opt, sizeof opt, "--%s", in[k].name);
			r = nc_opt(argc, argv, &i, opt, NULL, &in[k].value);
		}
		if (r < 0)
			return r;
		if (r)
			continue;
		if (argv[i][0] == '-' && argv[i][1])
			return nc_usage_fail("alloc: unknown option %s", argv[i]);
		if (npos >= 2)
			return nc_usage_fail("alloc: unexpected argument %s", argv[i]);
		in[npos++].value = argv[i];
	}
	if (npos != 2)
		return nc_usage_fail("alloc: expected NETWORK NAME");
	r = nc_rpc(c, "allocate-address", in, 5, &resp);
	if (r == 0 && c->json)
		nc_print_raw(resp.body);
	else if (r == 0 && (r = nc_rpc_output(c, resp.body, "address", &addr)) == 0)
		puts(addr);
	free(addr);
	nc_resp_clear(&resp);
	return r;
}

/* release NETWORK ADDRESS */
static int cmd_release(struct nc *c, int argc, char **argv)
{
	struct nc_resp resp = { 0 };
	int r = nc_no_options(argc, argv, "release");

	if (r < 0)
		return r;
	if (argc != 3)
		return nc_usage_fail("release: expected NETWORK ADDRESS");
	const struct nc_kv in[] = { { "network", argv[1] }, { "address", argv[2] } };
	r = nc_rpc(c, "release-address", in, 2, &resp);
	if (r == 0)
		printf("network %s: released %s\n", argv[1], argv[2]);
	nc_resp_clear(&resp);
	return r;
}

/* ---- node ---------------------------------------------------------------- */

/* Split "NET=ADDR" (from option @opt) in @arg into @net (cap @cap) and *addr. */
static int nc_split_hint(const char *opt, const char *arg, char *net, size_t cap, const char **addr)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= cap)
		return nc_usage_fail("node add: %s wants NET=ADDR, not %s", opt, arg);
	memcpy(net, arg, (size_t)(eq - arg));
	net[eq - arg] = '\0';
	*addr = eq + 1;
	return 0;
}

/* Add /netd:nodes/node/network[name=NET] (with range) for "NET[:RANGE]". */
static int nc_node_network(struct nc *c, struct lyd_node *node, const char *arg)
{
	char net[128];
	const char *colon = strchr(arg, ':');
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
	struct lyd_node *nw = NULL;

	if (n == 0 || n >= sizeof net || (colon && !colon[1]))
		return nc_usage_fail("node add: --network wants NET[:RANGE], not %s", arg);
	memcpy(net, arg, n);
	net[n] = '\0';
	if (nc_child(node, "network", net))
		return nc_usage_fail("node add: network %s given twice", net);
	if (lyd_new_list(node, NULL, "network", 0, &nw, net) != LY_SUCCESS ||
	    (colon && lyd_new_term(nw, NULL, "range", colon + 1, 0, NULL) != LY_SUCCESS))
		return nc_ly_fail(c->ctx, arg);
	return 0;
}

/* Set hint leaf @leaf ("ipv4-hint") from "NET=ADDR"; NET must be attached. */
static int nc_node_hint(struct nc *c, struct lyd_node *node, const char *opt, const char *leaf, const char *arg)
{
	char net[128];
	const char *addr = NULL;
	int r = nc_split_hint(opt, arg, net, sizeof net, &addr);

	if (r < 0)
		return r;
	struct lyd_node *nw = (struct lyd_node *)nc_child(node, "network", net);
	if (!nw)
		return nc_usage_fail("node add: %s %s: network %s is not given with --network", opt, arg, net);
	if (lyd_new_term(nw, NULL, leaf, addr, LYD_NEW_PATH_UPDATE, NULL) != LY_SUCCESS)
		return nc_ly_fail(c->ctx, arg);
	return 0;
}

/* Build /netd:nodes/node[name=argv[0]] from the `node add` arguments in
 * *out (the tree's top). Errors reported (usage or value). */
static int nc_node_build(struct nc *c, int argc, char **argv, struct lyd_node **out, struct lyd_node **entry)
{
	const struct lys_module *mod = ly_ctx_get_module_implemented(c->ctx, "netd");
	struct lyd_node *top = NULL, *node = NULL;
	int r = 0;

	ly_err_clean(c->ctx, NULL);
	if (!mod || lyd_new_inner(NULL, mod, "nodes", 0, &top) != LY_SUCCESS ||
	    lyd_new_list(top, NULL, "node", 0, &node, argv[0]) != LY_SUCCESS) {
		r = nc_ly_fail(c->ctx, argv[0]);
		goto fail;
	}
	/* Networks first: the hints refer to them. */
	for (int i = 1; i < argc && r >= 0; i++) {
		const char *v = NULL;
		r = nc_opt(argc, argv, &i, "--network", NULL, &v);
		if (r > 0)
			r = nc_node_network(c, node, v);
	}
	for (int i = 1; i < argc && r >= 0; i++) {
		const char *v = NULL;
		if ((r = nc_opt(argc, argv, &i, "--network", NULL, &v)) != 0)
			continue;
		if ((r = nc_opt(argc, argv, &i, "--hint4", NULL, &v)) > 0)
			r = nc_node_hint(c, node, "--hint4", "ipv4-hint", v);
		else if (r == 0 && (r = nc_opt(argc, argv, &i, "--hint6", NULL, &v)) > 0)
			r = nc_node_hint(c, node, "--hint6", "ipv6-hint", v);
		else if (r == 0 && (r = nc_opt(argc, argv, &i, "--mac", NULL, &v)) > 0)
			r = lyd_new_term(node, NULL, "admin-mac", v, LYD_NEW_PATH_UPDATE, NULL) == LY_SUCCESS ?
				0 : nc_ly_fail(c->ctx, v);
		else if (r == 0 && (r = nc_opt(argc, argv, &i, "--alias", NULL, &v)) > 0)
			r = lyd_new_term(node, NULL, "alias", v, 0, NULL) == LY_SUCCESS ? 0 : nc_ly_fail(c->ctx, v);
		else if (r == 0)
			r = nc_usage_fail("node add: unexpected argument %s", argv[i]);
	}
	if (r < 0)
		goto fail;
	/* values were checked as the leaves were made; references (networks)
	 * are netd's to check */
	*out = top;
	*entry = node;
	return 0;
fail:
	lyd_free_all(top);
	return r;
}

/* Print node entry @node's addresses as a table. */
static int nc_print_addresses(const struct lyd_node *node)
{
	static const char *const head[] = { "NETWORK", "FAMILY", "ADDRESS" };
	struct nc_table t = { .ncols = 3 };
	const struct lyd_node *a;
	int r = nc_table_add(&t, head);

	LY_LIST_FOR(node ? lyd_child(node) : NULL, a) {
		if (r < 0)
			break;
		if (!a->schema || strcmp(a->schema->name, "address") != 0 || !(a->schema->nodetype & LYS_LIST))
			continue;
		const char *row[] = { nc_leaf(a, "network"), nc_leaf(a, "family"), nc_leaf(a, "address") };
		r = nc_table_add(&t, row);
	}
	if (r == 0 && t.nrows > 1)
		nc_table_print(&t, stdout);
	nc_table_free(&t);
	return r;
}

/* node add NAME [...]: POST the node, then show its addresses. */
static int nc_node_add(struct nc *c, int argc, char **argv)
{
	struct lyd_node *top = NULL, *node = NULL, *got = NULL;
	struct nc_resp resp = { 0 };
	char *body = NULL, *path = NULL;
	int r;

	if (argc < 1 || argv[0][0] == '-')
		return nc_usage_fail("node add: expected NAME");
	r = nc_node_build(c, argc, argv, &top, &node);
	if (r < 0)
		return r;
	if ((r = nc_print_node(node, &body)) < 0 || (r = nc_entry_path(c, &nc_nodes, argv[0], &path)) < 0) {
		nc_fail(r, "out of memory");
		goto cleanup;
	}
	r = nc_call(c, "POST", "/restconf/data/netd:nodes", body, &resp);
	if (r < 0)
		goto cleanup;
	if (!c->json)
		printf("node %s: created\n", argv[0]);
	r = nc_fetch(c, path, "/netd:nodes", false, &resp, &got);
	if (r < 0)
		goto cleanup;
	if (c->json)
		nc_print_raw(resp.body);
	else
		r = nc_print_addresses(nc_child(nc_top(got, "nodes"), "node", argv[0]));
cleanup:
	lyd_free_all(top);
	lyd_free_all(got);
	nc_resp_clear(&resp);
	free(body);
	free(path);
	return r;
}

/* node delete NAME */
static int nc_node_delete(struct nc *c, int argc, char **argv)
{
	struct nc_resp resp = { 0 };
	char *path = NULL;
	int r;

	if (argc != 1)
		return nc_usage_fail("node delete: expected NAME");
	if ((r = nc_entry_path(c, &nc_nodes, argv[0], &path)) < 0)
		return nc_fail(r, "out of memory");
	r = nc_call(c, "DELETE", path, NULL, &resp);
	if (r == 0)
		printf("node %s: deleted\n", argv[0]);
	nc_resp_clear(&resp);
	free(path);
	return r;
}

/* node rename OLD NEW */
static int nc_node_rename(struct nc *c, int argc, char **argv)
{
	struct nc_resp resp = { 0 };
	int r;

	if (argc != 2)
		return nc_usage_fail("node rename: expected OLD NEW");
	const struct nc_kv in[] = { { "from", argv[0] }, { "to", argv[1] } };
	r = nc_rpc(c, "rename-node", in, 2, &resp);
	if (r == 0)
		printf("node %s: renamed to %s\n", argv[0], argv[1]);
	nc_resp_clear(&resp);
	return r;
}

/* node add|rename|delete ... */
static int cmd_node(struct nc *c, int argc, char **argv)
{
	if (argc < 2)
		return nc_usage_fail("node: expected add, rename, delete or inventory");
	if (strcmp(argv[1], "add") == 0)
		return nc_node_add(c, argc - 2, argv + 2);
	if (strcmp(argv[1], "inventory") == 0)
		return nc_cmd_node_inventory(c, argc - 1, argv + 1);
	int r = nc_no_options(argc, argv, "node");
	if (r < 0)
		return r;
	if (strcmp(argv[1], "rename") == 0)
		return nc_node_rename(c, argc - 2, argv + 2);
	if (strcmp(argv[1], "delete") == 0)
		return nc_node_delete(c, argc - 2, argv + 2);
	return nc_usage_fail("node: unknown subcommand %s", argv[1]);
}

/* ---- status, hash-password ----------------------------------------------- */

static int cmd_status(struct nc *c, int argc, char **argv)
{
	struct nc_resp resp = { 0 };
	struct lyd_node *tree = NULL;
	const struct lyd_node *ch;
	int r = nc_no_options(argc, argv, "status");

	if (r < 0)
		return r;
	if (argc != 1)
		return nc_usage_fail("status: unexpected argument %s", argv[1]);
	r = nc_fetch(c, "/restconf/data/netd:status", NULL, false, &resp, &tree);
	if (r == 0 && c->json) {
		nc_print_raw(resp.body);
	} else if (r == 0) {
		const struct lyd_node *st = nc_top(tree, "status");
		LY_LIST_FOR(st ? lyd_child(st) : NULL, ch)
			if (ch->schema && (ch->schema->nodetype & LYD_NODE_TERM))
				printf("%s: %s\n", ch->schema->name, lyd_get_value(ch));
	}
	lyd_free_all(tree);
	nc_resp_clear(&resp);
	return r;
}

/* Read one line from stdin; on a terminal prompt on stderr, without echo.
 * *out is heap, newline removed. 0, NETD_EINVAL (empty/EOF) or -errno. */
static int nc_read_password(char **out)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	char *line = NULL;
	size_t cap = 0;
	int r = 0;

	if (tty) {
		fputs("Password: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ssize_t n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		r = ferror(stdin) ? -EIO : NETD_EINVAL;
		free(line);
		return r;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (!*line) {
		free(line);
		return NETD_EINVAL;
	}
	*out = line;
	return 0;
}

static int cmd_hash_password(int argc, char **argv)
{
	char hash[256], *pw = NULL;
	int r;

	if (argc != 1)
		return nc_usage_fail("hash-password: reads the password from stdin, takes no arguments");
	r = nc_read_password(&pw);
	if (r < 0)
		return nc_fail(r, "hash-password: no password read (one line on stdin)");
	r = auth_hash_password(pw, hash, sizeof hash);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (r < 0)
		return nc_fail(r, "hash-password: %s", netd_strerror(r));
	puts(hash);
	return 0;
}

/* ---- setup and dispatch -------------------------------------------------- */

/* Prepare @c for talking to netd: libyang context, curl handle, base URL,
 * credentials and headers. Errors reported. Release with nc_close(). */
static int nc_open(struct nc *c, const struct nc_opts *o)
{
	struct netd_err e = { 0 };
	const char *server = o->server;
	char *auth = NULL;
	int r;

	if (!server || !*server)
		server = getenv("NETD_SERVER");
	if (!server || !*server)
		server = NC_DEFAULT_SERVER;
	if (asprintf(&c->base, "%s%s", strstr(server, "://") ? "" : "http://", server) < 0)
		return nc_fail(-ENOMEM, "out of memory");
	for (size_t n = strlen(c->base); n && c->base[n - 1] == '/'; n--)
		c->base[n - 1] = '\0';
	c->json = o->json;
	c->user = o->user;
	c->password = o->password;
	if (o->user && !o->password)
		return nc_usage_fail("--user needs --password");
	if (!o->user && (r = nc_token_find(o, c->base, &c->token)) < 0)
		return r;
	if ((r = yc_new(&c->ctx, &e)) < 0)
		return nc_fail(r, "cannot load the YANG modules: %s", e.msg);
	c->curl = curl_easy_init();
	if (!c->curl)
		return nc_fail(-ENOMEM, "cannot create a curl handle");
	const char *common[] = { "Accept: application/yang-data+json", "Expect:" };
	for (size_t i = 0; i < 2; i++) {
		c->hdr = curl_slist_append(c->hdr, common[i]);
		c->hdr_body = curl_slist_append(c->hdr_body, common[i]);
	}
	c->hdr_body = curl_slist_append(c->hdr_body, "Content-Type: application/yang-data+json");
	if (c->token) {
		if (asprintf(&auth, "Authorization: Bearer %s", c->token) < 0)
			return nc_fail(-ENOMEM, "out of memory");
		c->hdr = curl_slist_append(c->hdr, auth);
		c->hdr_body = curl_slist_append(c->hdr_body, auth);
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	if (!c->hdr || !c->hdr_body)
		return nc_fail(-ENOMEM, "out of memory");
	return 0;
}

static void nc_close(struct nc *c)
{
	curl_slist_free_all(c->hdr);
	curl_slist_free_all(c->hdr_body);
	if (c->curl)
		curl_easy_cleanup(c->curl);
	ly_ctx_destroy(c->ctx);
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->base);
}

struct nc_cmd {
	const char *name;
	int (*run)(struct nc *c, int argc, char **argv);
};

static const struct nc_cmd nc_cmds[] = {
	{ "apply", cmd_apply },
	{ "get", cmd_get },
	{ "node", cmd_node },
	{ "alloc", cmd_alloc },
	{ "release", cmd_release },
	{ "status", cmd_status },
	{ "anneal", nc_cmd_anneal },
	{ "dns", nc_cmd_dns },
	{ "conduit", nc_cmd_conduit },
	{ "switch", nc_cmd_switch },
	{ "bmc", nc_cmd_bmc },
};

/* Run command rest[0] with its arguments. */
static int nc_dispatch(const struct nc_opts *o, int argc, char **argv)
{
	const struct nc_cmd *cmd = NULL;
	struct nc c = { 0 };
	int r;

	if (o->help || argc == 0 || strcmp(argv[0], "help") == 0) {
		if (!o->help && argc == 0)
			return nc_usage_fail("no command given");
		fputs(nc_usage_text, stdout);
		return 0;
	}
	if (strcmp(argv[0], "hash-password") == 0)
		return cmd_hash_password(argc, argv);
	for (size_t i = 0; i < sizeof nc_cmds / sizeof nc_cmds[0]; i++)
		if (strcmp(argv[0], nc_cmds[i].name) == 0)
			cmd = &nc_cmds[i];
	if (!cmd)
		return nc_usage_fail("unknown command %s", argv[0]);
	r = nc_open(&c, o);
	if (r == 0)
		r = cmd->run(&c, argc, argv);
	nc_close(&c);
	return r;
}

int main(int argc, char **argv)
{
	struct nc_opts o = { 0 };
	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	int nrest = 0, r;

	if (!rest)
		return nc_exit_status(nc_fail(-ENOMEM, "out of memory"));
	ly_log_options(LY_LOSTORE);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(rest);
		return nc_exit_status(nc_fail(-ENOMEM, "cannot initialise libcurl"));
	}
	r = nc_parse_global(argc, argv, &o, rest, &nrest);
	if (r == 0)
		r = nc_dispatch(&o, nrest, rest);
	curl_global_cleanup();
	free(rest);
	fflush(stdout);
	return nc_exit_status(r);
}
