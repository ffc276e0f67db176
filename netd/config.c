/* netd/config.c — the daemon's configuration file (netd-server module).
 *
 * Overview
 *   config_load() lets libyang do all of the checking the YANG module can
 *   express (unknown leaves, types, ranges, patterns, mandatory leaves, list
 *   keys): it parses the file strictly and validates it, and the result is
 *   read leaf by leaf into struct netd_config. What YANG cannot express is
 *   checked here: listen port range, byte lengths of the C buffers, a
 *   password hash that crypt(3) understands. Every error carries the file
 *   name at the start of the message and the YANG data path of the node.
 *
 *   config_print() goes the other way (struct -> tree -> JSON with every
 *   default spelled out), which is what `netd --check-config` shows; loading
 *   its output gives back an equal struct.
 */
#include "netd/config.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netd/yangctx.h"

#define CONFIG_FILE_MAX (1u << 20)   /* a config file larger than this is refused */
#define CONFIG_MODULE "netd-server"

static const char *const log_level_names[] = {
	[LOG_LVL_ERR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};
#define N_LOG_LEVELS (sizeof log_level_names / sizeof log_level_names[0])

void config_defaults(struct netd_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->store, sizeof c->store, "%s", "./var/netd");
	snprintf(c->listen_host, sizeof c->listen_host, "%s", "127.0.0.1");
	c->listen_port = 8080;
	c->tls = false;
	c->log_level = LOG_LVL_INFO;
	c->syslog = false;
	c->response_cache = true;
	c->hold_down_s = 3600;
	c->http_threads = 2;
	c->store_map_size = UINT64_C(64) << 20;
	c->anneal_max_running = 64;
	snprintf(c->nc_listen_host, sizeof c->nc_listen_host, "%s", "127.0.0.1");
	c->nc_listen_port = 8830;
	snprintf(c->snmp_agentx_socket, sizeof c->snmp_agentx_socket, "%s", "/var/agentx/master");
	c->snmp_threshold_pct = 90;
}

void config_free(struct netd_config *c)
{
	if (!c)
		return;
	free(c->users);
	free(c->tokens);
	free(c->ssh_keys);
	c->ssh_keys = NULL;
	c->n_ssh_keys = 0;
	c->users = NULL;
	c->n_users = 0;
	c->tokens = NULL;
	c->n_tokens = 0;
}

/* ---- listen ----------------------------------------------------------- */

/* Parse 1..5 decimal digits in [1, 65535]. */
static bool parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 5)
			return false;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static int parse_hostport(const char *hostport, char *out_host, size_t out_cap, uint16_t *out_port,
			  struct netd_err *e)
{
	char host[256];
	const char *port;
	size_t hlen;
	uint16_t p;

	if (!hostport)
		return netd_err_set(e, NETD_EINVAL, NULL, "listen: missing value");
	if (hostport[0] == '[') {
		const char *close = strchr(hostport, ']');
		if (!close || close[1] != ':')
			return netd_err_set(e, NETD_EINVAL, NULL,
					    "listen '%s': expected [IPV6]:PORT", hostport);
		hlen = (size_t)(close - hostport - 1);
		port = close + 2;
		if (hlen == 0 || hlen >= sizeof host)
			return netd_err_set(e, NETD_EINVAL, NULL, "listen '%s': bad IPv6 address", hostport);
		memcpy(host, hostport + 1, hlen);
		host[hlen] = '\0';
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return netd_err_set(e, NETD_EINVAL, NULL, "listen '%s': bad IPv6 address", hostport);
	} else {
		const char *colon = strrchr(hostport, ':');
		if (!colon)
			return netd_err_set(e, NETD_EINVAL, NULL, "listen '%s': expected HOST:PORT", hostport);
		hlen = (size_t)(colon - hostport);
		port = colon + 1;
		if (hlen == 0)
			return netd_err_set(e, NETD_EINVAL, NULL, "listen '%s': missing host", hostport);
		if (memchr(hostport, ':', hlen) || memchr(hostport, ']', hlen))
			return netd_err_set(e, NETD_EINVAL, NULL,
					    "listen '%s': write IPv6 addresses as [ADDR]:PORT", hostport);
		if (hlen >= sizeof host)
			return netd_err_set(e, NETD_EINVAL, NULL, "listen '%s': host too long", hostport);
		memcpy(host, hostport, hlen);
		host[hlen] = '\0';
	}
	if (!parse_port(port, &p))
		return netd_err_set(e, NETD_EINVAL, NULL, "listen '%s': port must be 1..65535", hostport);
	if (hlen >= out_cap)
		return netd_err_set(e, NETD_EINVAL, NULL, "listen '%s': host too long", hostport);
	memcpy(out_host, host, hlen + 1);
	*out_port = p;
	return 0;
}

int config_set_listen(struct netd_config *c, const char *hostport, struct netd_err *e)
{
	return parse_hostport(hostport, c->listen_host, sizeof c->listen_host, &c->listen_port, e);
}

int config_set_netconf_listen(struct netd_config *c, const char *hostport, struct netd_err *e)
{
	return parse_hostport(hostport, c->nc_listen_host, sizeof c->nc_listen_host, &c->nc_listen_port, e);
}

bool config_listen_is_loopback(const struct netd_config *c)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(c->listen_host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, c->listen_host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, c->listen_host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/* ---- load ------------------------------------------------------------- */

/* What a leaf reader needs: the file name for messages and the error. */
struct load {
	const char *file;
	struct netd_err *e;
};

/* Error about @node: "<file>: <reason>" with the node's data path. */
static int node_err(const struct load *ld, const struct lyd_node *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int node_err(const struct load *ld, const struct lyd_node *node, const char *fmt, ...)
{
	char path[NETD_ERR_PATH_MAX] = "";
	char reason[NETD_ERR_MSG_MAX];
	va_list ap;

	if (node && !lyd_path(node, LYD_PATH_STD, path, sizeof path))
		path[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	return netd_err_set(ld->e, NETD_EINVAL, path, "%s: %s", ld->file, reason);
}

static const char *node_name(const struct lyd_node *n)
{
	return n->schema ? n->schema->name : "";
}

static const struct lyd_value *term_value(const struct lyd_node *n)
{
	return &((const struct lyd_node_term *)n)->value;
}

/* Copy the leaf's string value into @dst (@cap bytes) or fail naming it. */
static int leaf_str(const struct load *ld, const struct lyd_node *n, char *dst, size_t cap)
{
	const char *v = lyd_get_value(n);
	size_t len = v ? strlen(v) : 0;

	if (len >= cap)
		return node_err(ld, n, "%s: longer than %zu bytes", node_name(n), cap - 1);
	memcpy(dst, v ? v : "", len + 1);
	return 0;
}

static int leaf_role(const struct load *ld, const struct lyd_node *n, enum auth_role *out)
{
	if (auth_role_parse(lyd_get_value(n), out) < 0)
		return node_err(ld, n, "role: '%s' is neither read-only nor admin", lyd_get_value(n));
	return 0;
}

static int hex_nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static int leaf_sha256(const struct load *ld, const struct lyd_node *n, uint8_t out[32])
{
	const char *v = lyd_get_value(n);
	uint8_t b[32];

	if (!v || strlen(v) != 64)
		return node_err(ld, n, "sha256: expected 64 lowercase hex digits");
	for (size_t i = 0; i < 32; i++) {
		int hi = hex_nibble(v[2 * i]), lo = hex_nibble(v[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return node_err(ld, n, "sha256: expected 64 lowercase hex digits");
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(out, b, sizeof b);
	return 0;
}

/* A crypt(3) hash in modular format ($id$...) of a method libxcrypt
 * supports and does not call legacy (rules out DES, md5crypt, plain text). */
static int check_hash(const struct load *ld, const struct lyd_node *n, const char *hash)
{
	if (hash[0] != '$' || crypt_checksalt(hash) != CRYPT_SALT_OK)
		return node_err(ld, n, "password-hash: not a supported crypt(3) hash "
				"(use `netctl hash-password`)");
	return 0;
}

/* Grow *arr (of *n elements of @size) by one zeroed element; returns it. */
static void *append(void **arr, size_t *n, size_t size)
{
	char *p = realloc(*arr, (*n + 1) * size);

	if (!p)
		return NULL;
	memset(p + *n * size, 0, size);
	*arr = p;
	return p + (*n)++ * size;
}

/* An authorized key of user @user (the list key, always the first child). */
static int load_ssh_key(const struct load *ld, const struct lyd_node *n, const char *user, struct netd_config *c)
{
	void *arr = c->ssh_keys;
	struct config_ssh_key *k = append(&arr, &c->n_ssh_keys, sizeof *k);
	c->ssh_keys = arr;
	if (!k)
		return netd_err_set(ld->e, -ENOMEM, NULL, "%s: out of memory", ld->file);
	snprintf(k->user, sizeof k->user, "%s", user ? user : "");
	return leaf_str(ld, n, k->key, sizeof k->key);
}

static int load_user(const struct load *ld, const struct lyd_node *list, struct netd_config *c)
{
	struct auth_user u = { .role = ROLE_READ };
	const struct lyd_node *n;
	int rc = 0;

	LY_LIST_FOR(lyd_child(list), n) {
		const char *name = node_name(n);
		if (strcmp(name, "name") == 0)
			rc = leaf_str(ld, n, u.name, sizeof u.name);
		else if (strcmp(name, "password-hash") == 0) {
			rc = leaf_str(ld, n, u.hash, sizeof u.hash);
			if (rc == 0)
				rc = check_hash(ld, n, u.hash);
		} else if (strcmp(name, "role") == 0)
			rc = leaf_role(ld, n, &u.role);
		else if (strcmp(name, "ssh-key") == 0)
			rc = load_ssh_key(ld, n, lyd_get_value(lyd_child(list)), c);
		if (rc < 0)
			return rc;
	}
	void *arr = c->users;
	struct auth_user *slot = append(&arr, &c->n_users, sizeof *slot);
	c->users = arr;
	if (!slot)
		return netd_err_set(ld->e, -ENOMEM, NULL, "%s: out of memory", ld->file);
	*slot = u;
	return 0;
}

static int load_token(const struct load *ld, const struct lyd_node *list, struct netd_config *c)
{
	struct auth_token t = { .role = ROLE_READ };
	const struct lyd_node *n;
	int rc = 0;

	LY_LIST_FOR(lyd_child(list), n) {
		const char *name = node_name(n);
		if (strcmp(name, "name") == 0)
			rc = leaf_str(ld, n, t.name, sizeof t.name);
		else if (strcmp(name, "sha256") == 0)
			rc = leaf_sha256(ld, n, t.sha256);
		else if (strcmp(name, "role") == 0)
			rc = leaf_role(ld, n, &t.role);
		if (rc < 0)
			return rc;
	}
	void *arr = c->tokens;
	struct auth_token *slot = append(&arr, &c->n_tokens, sizeof *slot);
	c->tokens = arr;
	if (!slot)
		return netd_err_set(ld->e, -ENOMEM, NULL, "%s: out of memory", ld->file);
	*slot = t;
	return 0;
}

static int load_tls(const struct load *ld, const struct lyd_node *tls, struct netd_config *c)
{
	const struct lyd_node *n;
	int rc = 0;

	c->tls = true;
	LY_LIST_FOR(lyd_child(tls), n) {
		if (strcmp(node_name(n), "certificate") == 0)
			rc = leaf_str(ld, n, c->tls_cert, sizeof c->tls_cert);
		else if (strcmp(node_name(n), "key") == 0)
			rc = leaf_str(ld, n, c->tls_key, sizeof c->tls_key);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int load_netconf(const struct load *ld, const struct lyd_node *nc, struct netd_config *c)
{
	const struct lyd_node *n;
	struct netd_err le = { 0 };

	c->netconf = true;
	LY_LIST_FOR(lyd_child(nc), n) {
		if (strcmp(node_name(n), "listen") == 0) {
			if (config_set_netconf_listen(c, lyd_get_value(n), &le) < 0)
				return node_err(ld, n, "%s", le.msg);
		} else if (strcmp(node_name(n), "host-key") == 0) {
			int rc = leaf_str(ld, n, c->nc_host_key, sizeof c->nc_host_key);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int load_snmp(const struct load *ld, const struct lyd_node *sn, struct netd_config *c)
{
	const struct lyd_node *n;

	c->snmp = true;
	LY_LIST_FOR(lyd_child(sn), n) {
		if (strcmp(node_name(n), "agentx-socket") == 0) {
			int rc = leaf_str(ld, n, c->snmp_agentx_socket, sizeof c->snmp_agentx_socket);
			if (rc < 0)
				return rc;
		} else if (strcmp(node_name(n), "exhaustion-threshold-percent") == 0) {
			c->snmp_threshold_pct = term_value(n)->uint8;
		}
	}
	return 0;
}

static int load_listen(const struct load *ld, const struct lyd_node *n, struct netd_config *c)
{
	struct netd_err le = { 0 };

	if (config_set_listen(c, lyd_get_value(n), &le) < 0)
		return node_err(ld, n, "%s", le.msg);
	return 0;
}

static int load_log_level(const struct load *ld, const struct lyd_node *n, struct netd_config *c)
{
	const char *v = lyd_get_value(n);

	for (size_t i = 0; i < N_LOG_LEVELS; i++) {
		if (strcmp(v, log_level_names[i]) == 0) {
			c->log_level = (enum log_level)i;
			return 0;
		}
	}
	return node_err(ld, n, "log-level: unknown value '%s'", v);
}

/* One child of /netd-server:server. Unknown names cannot occur (the parse is
 * strict) and are ignored. */
static int load_child(const struct load *ld, const struct lyd_node *n, struct netd_config *c)
{
	const char *name = node_name(n);

	if (strcmp(name, "store") == 0)
		return leaf_str(ld, n, c->store, sizeof c->store);
	if (strcmp(name, "listen") == 0)
		return load_listen(ld, n, c);
	if (strcmp(name, "tls") == 0)
		return load_tls(ld, n, c);
	if (strcmp(name, "netconf") == 0)
		return load_netconf(ld, n, c);
	if (strcmp(name, "snmp") == 0)
		return load_snmp(ld, n, c);
	if (strcmp(name, "log-level") == 0)
		return load_log_level(ld, n, c);
	if (strcmp(name, "syslog") == 0)
		c->syslog = term_value(n)->boolean != 0;
	else if (strcmp(name, "hold-down") == 0)
		c->hold_down_s = term_value(n)->uint32;
	else if (strcmp(name, "response-cache") == 0)
		c->response_cache = term_value(n)->boolean != 0;
	else if (strcmp(name, "http-threads") == 0)
		c->http_threads = term_value(n)->uint8;
	else if (strcmp(name, "store-map-size") == 0)
		c->store_map_size = term_value(n)->uint64;
	else if (strcmp(name, "anneal-max-running") == 0)
		c->anneal_max_running = term_value(n)->uint32;
	else if (strcmp(name, "user") == 0)
		return load_user(ld, n, c);
	else if (strcmp(name, "token") == 0)
		return load_token(ld, n, c);
	return 0;
}

/* Read all of @path (NUL-terminated, no embedded NUL) into *out. */
static int read_text(const char *path, char **out, struct netd_err *e)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	int rc = 0;

	if (!f)
		return netd_err_set(e, -errno, NULL, "%s: %s", path, strerror(errno));
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		rc = netd_err_set(e, -ENOMEM, NULL, "%s: out of memory", path);
		goto cleanup;
	}
	len = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f)) {
		rc = netd_err_set(e, -EIO, NULL, "%s: read error", path);
		goto cleanup;
	}
	if (len > CONFIG_FILE_MAX) {
		rc = netd_err_set(e, NETD_ETOOBIG, NULL, "%s: larger than %u bytes", path, CONFIG_FILE_MAX);
		goto cleanup;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		rc = netd_err_set(e, NETD_EINVAL, NULL, "%s: contains a NUL byte", path);
		goto cleanup;
	}
	*out = buf;
	buf = NULL;
cleanup:
	free(buf);
	fclose(f);
	return rc;
}

static bool is_server(const struct lyd_node *n)
{
	return n->schema && strcmp(n->schema->name, "server") == 0 &&
	       strcmp(n->schema->module->name, CONFIG_MODULE) == 0;
}

/* Fill @c (defaults already in it) from the parsed @tree. */
static int load_tree(const struct load *ld, const struct lyd_node *tree, struct netd_config *c)
{
	const struct lyd_node *top, *n;
	int rc;

	LY_LIST_FOR(tree, top) {
		if (!is_server(top))
			return node_err(ld, top, "only %s:server belongs in this file", CONFIG_MODULE);
		LY_LIST_FOR(lyd_child(top), n) {
			rc = load_child(ld, n, c);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static bool all_space(const char *s)
{
	for (; *s; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	}
	return true;
}

int config_load(const struct ly_ctx *ctx, const char *path, struct netd_config *out, struct netd_err *e)
{
	struct netd_config c;
	struct lyd_node *tree = NULL;
	struct load ld = { .file = path, .e = e };
	char *text = NULL;
	int rc;

	config_defaults(&c);
	rc = read_text(path, &text, e);
	if (rc < 0)
		return rc;
	if (!all_space(text) &&
	    lyd_parse_data_mem(ctx, text, LYD_JSON, LYD_PARSE_STRICT, LYD_VALIDATE_PRESENT, &tree) != LY_SUCCESS) {
		struct netd_err ye = { 0 };
		yc_err(ctx, NETD_EINVAL, &ye);
		rc = netd_err_set(e, NETD_EINVAL, ye.path, "%s: %s", path, ye.msg);
		goto cleanup;
	}
	rc = load_tree(&ld, tree, &c);
	if (rc < 0)
		goto cleanup;
	*out = c;
	c.users = NULL;
	c.tokens = NULL;
	c.ssh_keys = NULL;
cleanup:
	config_free(&c);
	lyd_free_all(tree);
	free(text);
	return rc;
}

/* ---- print ------------------------------------------------------------ */

static int ly_to_err(LY_ERR r)
{
	return r == LY_SUCCESS ? 0 : r == LY_EMEM ? -ENOMEM : NETD_EINVAL;
}

static int add_term(struct lyd_node *parent, const char *name, const char *value)
{
	return ly_to_err(lyd_new_term(parent, NULL, name, value, 0, NULL));
}

static int add_user(struct lyd_node *srv, const struct netd_config *c, const struct auth_user *u)
{
	struct lyd_node *n = NULL;
	int rc = ly_to_err(lyd_new_list(srv, NULL, "user", 0, &n, u->name));

	if (rc == 0)
		rc = add_term(n, "password-hash", u->hash);
	if (rc == 0)
		rc = add_term(n, "role", auth_role_name(u->role));
	for (size_t i = 0; rc == 0 && i < c->n_ssh_keys; i++)
		if (strcmp(c->ssh_keys[i].user, u->name) == 0)
			rc = add_term(n, "ssh-key", c->ssh_keys[i].key);
	return rc;
}

static int add_netconf(struct lyd_node *srv, const struct netd_config *c)
{
	struct lyd_node *nc = NULL;
	char buf[300];
	int rc;

	if (!c->netconf)
		return 0;
	rc = ly_to_err(lyd_new_inner(srv, NULL, "netconf", 0, &nc));
	if (rc == 0) {
		bool v6 = strchr(c->nc_listen_host, ':') != NULL;
		snprintf(buf, sizeof buf, v6 ? "[%s]:%u" : "%s:%u", c->nc_listen_host, (unsigned)c->nc_listen_port);
		rc = add_term(nc, "listen", buf);
	}
	if (rc == 0 && c->nc_host_key[0])
		rc = add_term(nc, "host-key", c->nc_host_key);
	return rc;
}

static int add_snmp(struct lyd_node *srv, const struct netd_config *c)
{
	struct lyd_node *sn = NULL;
	char buf[8];
	int rc;

	if (!c->snmp)
		return 0;
	rc = ly_to_err(lyd_new_inner(srv, NULL, "snmp", 0, &sn));
	if (rc == 0)
		rc = add_term(sn, "agentx-socket", c->snmp_agentx_socket);
	if (rc == 0) {
		snprintf(buf, sizeof buf, "%u", (unsigned)c->snmp_threshold_pct);
		rc = add_term(sn, "exhaustion-threshold-percent", buf);
	}
	return rc;
}

static int add_token(struct lyd_node *srv, const struct auth_token *t)
{
	static const char digits[] = "0123456789abcdef";
	struct lyd_node *n = NULL;
	char hex[65];

	for (size_t i = 0; i < 32; i++) {
		hex[2 * i] = digits[t->sha256[i] >> 4];
		hex[2 * i + 1] = digits[t->sha256[i] & 0x0f];
	}
	hex[64] = '\0';
	int rc = ly_to_err(lyd_new_list(srv, NULL, "token", 0, &n, t->name));
	if (rc == 0)
		rc = add_term(n, "sha256", hex);
	if (rc == 0)
		rc = add_term(n, "role", auth_role_name(t->role));
	return rc;
}

static int add_scalars(struct lyd_node *srv, const struct netd_config *c)
{
	char buf[300];
	int rc;

	if ((size_t)c->log_level >= N_LOG_LEVELS)
		return NETD_EINVAL;
	rc = add_term(srv, "store", c->store);
	if (rc == 0) {
		bool v6 = strchr(c->listen_host, ':') != NULL;
		snprintf(buf, sizeof buf, v6 ? "[%s]:%u" : "%s:%u", c->listen_host, (unsigned)c->listen_port);
		rc = add_term(srv, "listen", buf);
	}
	if (rc == 0)
		rc = add_term(srv, "log-level", log_level_names[c->log_level]);
	if (rc == 0)
		rc = add_term(srv, "syslog", c->syslog ? "true" : "false");
	if (rc == 0) {
		snprintf(buf, sizeof buf, "%" PRIu32, c->hold_down_s);
		rc = add_term(srv, "hold-down", buf);
	}
	if (rc == 0)
		rc = add_term(srv, "response-cache", c->response_cache ? "true" : "false");
	if (rc == 0) {
		snprintf(buf, sizeof buf, "%u", c->http_threads);
		rc = add_term(srv, "http-threads", buf);
	}
	if (rc == 0) {
		snprintf(buf, sizeof buf, "%" PRIu64, c->store_map_size);
		rc = add_term(srv, "store-map-size", buf);
	}
	if (rc == 0) {
		snprintf(buf, sizeof buf, "%" PRIu32, c->anneal_max_running);
		rc = add_term(srv, "anneal-max-running", buf);
	}
	return rc;
}

static int add_tls(struct lyd_node *srv, const struct netd_config *c)
{
	struct lyd_node *tls = NULL;
	int rc;

	if (!c->tls)
		return 0;
	rc = ly_to_err(lyd_new_inner(srv, NULL, "tls", 0, &tls));
	if (rc == 0)
		rc = add_term(tls, "certificate", c->tls_cert);
	if (rc == 0)
		rc = add_term(tls, "key", c->tls_key);
	return rc;
}

/* Build the validated /netd-server:server tree for @c. */
static int build_tree(const struct ly_ctx *ctx, const struct netd_config *c, struct lyd_node **out)
{
	const struct lys_module *mod = ly_ctx_get_module_implemented(ctx, CONFIG_MODULE);
	struct lyd_node *srv = NULL;
	int rc;

	if (!mod)
		return NETD_EINVAL;
	rc = ly_to_err(lyd_new_inner(NULL, mod, "server", 0, &srv));
	if (rc == 0)
		rc = add_scalars(srv, c);
	if (rc == 0)
		rc = add_tls(srv, c);
	if (rc == 0)
		rc = add_netconf(srv, c);
	if (rc == 0)
		rc = add_snmp(srv, c);
	for (size_t i = 0; rc == 0 && i < c->n_users; i++)
		rc = add_user(srv, c, &c->users[i]);
	for (size_t i = 0; rc == 0 && i < c->n_tokens; i++)
		rc = add_token(srv, &c->tokens[i]);
	if (rc == 0)
		rc = ly_to_err(lyd_validate_all(&srv, ctx, LYD_VALIDATE_PRESENT, NULL));
	if (rc < 0) {
		lyd_free_all(srv);
		return rc;
	}
	*out = srv;
	return 0;
}

int config_print(const struct ly_ctx *ctx, const struct netd_config *c, FILE *out)
{
	struct lyd_node *tree = NULL;
	int rc = build_tree(ctx, c, &tree);

	if (rc < 0)
		return rc;
	if (lyd_print_file(out, tree, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_WD_ALL) != LY_SUCCESS)
		rc = -EIO;
	lyd_free_all(tree);
	return rc;
}
