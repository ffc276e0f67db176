/* tests/unit/test_config.c — netd/config.c: loading the netd-server JSON
 * file, errors naming file and data path, listen parsing, loopback test,
 * and print -> load round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netd/config.h"
#include "netd/yangctx.h"

#define HASH_Y "$y$j9T$8rXmkVUPcB3JbGb4vgTtS.$Rr6CUcvXHjwsLfyd6Ym1dU5j2lUztNLlh5A2sa/qrs1"
#define HASH_6 "$6$nmoVtR9a2ybuPuOp$ZLwF3BgWJq.ow0rH1S6bKzY4Y8VvZf9B9rFXvYd4SgXcnrKpOKZHXqXQ5C7IBOaAoUHF3lnxy7CnlKRpuwwoG0"
#define SHA_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define SHA_B "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"

struct fixture {
	struct ly_ctx *ctx;
	char dir[64];
	char file[128]; /* <dir>/netd.conf */
};

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct netd_err e = { 0 };

	if (!f)
		return -1;
	if (yc_new(&f->ctx, &e) != 0) {
		fprintf(stderr, "yc_new: %s\n", e.msg);
		free(f);
		return -1;
	}
	ly_log_options(LY_LOSTORE_LAST); /* keep libyang quiet; errors come via yc_err */
	snprintf(f->dir, sizeof f->dir, "/tmp/netd-test-config-XXXXXX");
	if (!mkdtemp(f->dir)) {
		ly_ctx_destroy(f->ctx);
		free(f);
		return -1;
	}
	snprintf(f->file, sizeof f->file, "%s/netd.conf", f->dir);
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->file);
	rmdir(f->dir);
	ly_ctx_destroy(f->ctx);
	free(f);
	return 0;
}

static void put(const struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->file, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void assert_defaults(const struct netd_config *c)
{
	assert_string_equal(c->store, "./var/netd");
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 8080);
	assert_false(c->tls);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_false(c->syslog);
	assert_int_equal(c->hold_down_s, 3600);
	assert_int_equal(c->http_threads, 2);
	assert_int_equal(c->store_map_size, 64u << 20);
	assert_int_equal(c->n_users, 0);
	assert_null(c->users);
	assert_int_equal(c->n_tokens, 0);
	assert_null(c->tokens);
}

static void assert_config_equal(const struct netd_config *a, const struct netd_config *b)
{
	assert_string_equal(a->store, b->store);
	assert_string_equal(a->listen_host, b->listen_host);
	assert_int_equal(a->listen_port, b->listen_port);
	assert_int_equal(a->tls, b->tls);
	if (a->tls) {
		assert_string_equal(a->tls_cert, b->tls_cert);
		assert_string_equal(a->tls_key, b->tls_key);
	}
	assert_int_equal(a->log_level, b->log_level);
	assert_int_equal(a->syslog, b->syslog);
	assert_int_equal(a->hold_down_s, b->hold_down_s);
	assert_int_equal(a->http_threads, b->http_threads);
	assert_int_equal(a->store_map_size, b->store_map_size);
	assert_int_equal(a->n_users, b->n_users);
	for (size_t i = 0; i < a->n_users; i++) {
		assert_string_equal(a->users[i].name, b->users[i].name);
		assert_string_equal(a->users[i].hash, b->users[i].hash);
		assert_int_equal(a->users[i].role, b->users[i].role);
	}
	assert_int_equal(a->n_tokens, b->n_tokens);
	for (size_t i = 0; i < a->n_tokens; i++) {
		assert_string_equal(a->tokens[i].name, b->tokens[i].name);
		assert_memory_equal(a->tokens[i].sha256, b->tokens[i].sha256, 32);
		assert_int_equal(a->tokens[i].role, b->tokens[i].role);
	}
}

static const char full_conf[] =
	"{\n"
	"  \"netd-server:server\": {\n"
	"    \"store\": \"/var/lib/netd\",\n"
	"    \"listen\": \"[::1]:8443\",\n"
	"    \"tls\": { \"certificate\": \"/etc/netd/cert.pem\", \"key\": \"/etc/netd/key.pem\" },\n"
	"    \"log-level\": \"debug\",\n"
	"    \"syslog\": true,\n"
	"    \"hold-down\": 60,\n"
	"    \"http-threads\": 8,\n"
	"    \"store-map-size\": \"1073741824\",\n"
	"    \"user\": [\n"
	"      { \"name\": \"alice\", \"password-hash\": \"" HASH_Y "\", \"role\": \"admin\" },\n"
	"      { \"name\": \"bob\", \"password-hash\": \"" HASH_6 "\" }\n"
	"    ],\n"
	"    \"token\": [\n"
	"      { \"name\": \"ci\", \"sha256\": \"" SHA_A "\" },\n"
	"      { \"name\": \"ops\", \"sha256\": \"" SHA_B "\", \"role\": \"admin\" }\n"
	"    ]\n"
	"  }\n"
	"}\n";

/* ---- defaults and loading --------------------------------------------- */

static void test_defaults(void **state)
{
	struct netd_config c;

	(void)state;
	memset(&c, 0x5a, sizeof c);
	config_defaults(&c);
	assert_defaults(&c);
	assert_true(config_listen_is_loopback(&c));
	config_free(&c);
	config_free(&c); /* twice is fine: pointers were reset */
}

static void test_load_full(void **state)
{
	struct fixture *f = *state;
	struct netd_config c;
	struct netd_err e = { 0 };

	put(f, full_conf);
	int rc = config_load(f->ctx, f->file, &c, &e);
	if (rc != 0)
		fail_msg("config_load: %d %s (%s)", rc, e.msg, e.path);
	assert_string_equal(c.store, "/var/lib/netd");
	assert_string_equal(c.listen_host, "::1");
	assert_int_equal(c.listen_port, 8443);
	assert_true(c.tls);
	assert_string_equal(c.tls_cert, "/etc/netd/cert.pem");
	assert_string_equal(c.tls_key, "/etc/netd/key.pem");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_true(c.syslog);
	assert_int_equal(c.hold_down_s, 60);
	assert_int_equal(c.http_threads, 8);
	assert_int_equal(c.store_map_size, UINT64_C(1) << 30);
	assert_int_equal(c.n_users, 2);
	assert_string_equal(c.users[0].name, "alice");
	assert_string_equal(c.users[0].hash, HASH_Y);
	assert_int_equal(c.users[0].role, ROLE_ADMIN);
	assert_string_equal(c.users[1].name, "bob");
	assert_string_equal(c.users[1].hash, HASH_6);
	assert_int_equal(c.users[1].role, ROLE_READ);
	assert_int_equal(c.n_tokens, 2);
	assert_string_equal(c.tokens[0].name, "ci");
	assert_int_equal(c.tokens[0].role, ROLE_READ);
	assert_int_equal(c.tokens[0].sha256[0], 0x9f);
	assert_int_equal(c.tokens[0].sha256[31], 0x08);
	assert_string_equal(c.tokens[1].name, "ops");
	assert_int_equal(c.tokens[1].role, ROLE_ADMIN);
	assert_int_equal(c.tokens[1].sha256[0], 0x60);
	assert_int_equal(c.tokens[1].sha256[31], 0x52);
	assert_true(config_listen_is_loopback(&c));
	config_free(&c);
}

static void test_load_empty(void **state)
{
	struct fixture *f = *state;
	static const char *const texts[] = {
		"",
		"\n  \n",
		"{}",
		"{ \"netd-server:server\": {} }",
	};

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct netd_config c;
		struct netd_err e = { 0 };
		put(f, texts[i]);
		int rc = config_load(f->ctx, f->file, &c, &e);
		if (rc != 0)
			fail_msg("case %zu: %d %s (%s)", i, rc, e.msg, e.path);
		assert_defaults(&c);
		config_free(&c);
	}
}

static void test_load_missing_file(void **state)
{
	struct fixture *f = *state;
	struct netd_config c;
	struct netd_err e = { 0 };
	char path[160];

	snprintf(path, sizeof path, "%s/absent.conf", f->dir);
	memset(&c, 0x5a, sizeof c);
	assert_int_equal(config_load(f->ctx, path, &c, &e), -ENOENT);
	assert_int_equal(e.code, -ENOENT);
	assert_memory_equal(e.msg, path, strlen(path));
	assert_int_equal(c.listen_port, 0x5a5a); /* output untouched */
}

/* Each bad file: the error starts with the file name, and the data path
 * (when the error is about a node) contains @path. */
static void test_load_errors(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *label;
		const char *text;
		const char *path; /* substring of e.path; "" = any */
		const char *msg;  /* substring of e.msg after the file name */
	} cases[] = {
		{ "port too big", "{\"netd-server:server\":{\"listen\":\"1.2.3.4:70000\"}}",
		  "/netd-server:server/listen", "1..65535" },
		{ "port zero", "{\"netd-server:server\":{\"listen\":\"1.2.3.4:0\"}}",
		  "/netd-server:server/listen", "1..65535" },
		{ "listen without port", "{\"netd-server:server\":{\"listen\":\"[::1]\"}}",
		  "/netd-server:server/listen", "" },
		{ "bad ipv6", "{\"netd-server:server\":{\"listen\":\"[1.2.3.4]:80\"}}",
		  "/netd-server:server/listen", "IPv6" },
		{ "unknown leaf", "{\"netd-server:server\":{\"colour\":\"blue\"}}",
		  "/netd-server:server", "colour" },
		{ "unknown module", "{\"nope:server\":{}}", "", "" },
		{ "another module's data", "{\"netd:networks\":{}}", "", "" },
		{ "bad user role",
		  "{\"netd-server:server\":{\"user\":[{\"name\":\"alice\",\"password-hash\":\"" HASH_Y
		  "\",\"role\":\"root\"}]}}",
		  "user[name='alice']/role", "root" },
		{ "bad token sha256",
		  "{\"netd-server:server\":{\"token\":[{\"name\":\"ci\",\"sha256\":\"ABC\"}]}}",
		  "token[name='ci']/sha256", "" },
		{ "uppercase sha256",
		  "{\"netd-server:server\":{\"token\":[{\"name\":\"ci\",\"sha256\":\""
		  "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\"}]}}",
		  "token[name='ci']/sha256", "" },
		{ "missing password-hash", "{\"netd-server:server\":{\"user\":[{\"name\":\"alice\"}]}}",
		  "/netd-server:server/user", "password-hash" },
		{ "plaintext password", "{\"netd-server:server\":{\"user\":[{\"name\":\"alice\","
		  "\"password-hash\":\"hunter2\"}]}}",
		  "user[name='alice']/password-hash", "hash-password" },
		{ "tls without key", "{\"netd-server:server\":{\"tls\":{\"certificate\":\"c.pem\"}}}",
		  "/netd-server:server/tls", "" },
		{ "http-threads out of range", "{\"netd-server:server\":{\"http-threads\":0}}",
		  "/netd-server:server/http-threads", "" },
		{ "bad log level", "{\"netd-server:server\":{\"log-level\":\"chatty\"}}",
		  "/netd-server:server/log-level", "chatty" },
		{ "name too long (bytes)",
		  "{\"netd-server:server\":{\"user\":[{\"name\":\""
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\",\"password-hash\":\"" HASH_Y "\"}]}}",
		  "/netd-server:server/user", "64 bytes" },
		{ "not json", "netd-server:server = 1", "", "" },
		{ "truncated json", "{\"netd-server:server\":{\"store\":\"x\"", "", "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct netd_config c;
		struct netd_err e = { 0 };
		put(f, cases[i].text);
		memset(&c, 0x5a, sizeof c);
		int rc = config_load(f->ctx, f->file, &c, &e);
		if (rc == 0)
			fail_msg("case '%s': loaded", cases[i].label);
		if (rc != e.code || strncmp(e.msg, f->file, strlen(f->file)) != 0 ||
		    strncmp(e.msg + strlen(f->file), ": ", 2) != 0 ||
		    !strstr(e.msg + strlen(f->file), cases[i].msg) || !strstr(e.path, cases[i].path))
			fail_msg("case '%s': rc %d, msg '%s', path '%s'", cases[i].label, rc, e.msg, e.path);
		assert_int_equal(c.listen_port, 0x5a5a); /* output untouched */
		if (getenv("NETD_TEST_VERBOSE"))
			print_message("%-26s %s | %s\n", cases[i].label, e.path, e.msg + strlen(f->file));
	}
}

/* ---- listen ----------------------------------------------------------- */

static void test_listen_parse(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *host;
		uint16_t port;
	} cases[] = {
		{ "127.0.0.1:8080", 0, "127.0.0.1", 8080 },
		{ "[::1]:9000", 0, "::1", 9000 },
		{ "localhost:1", 0, "localhost", 1 },
		{ "0.0.0.0:65535", 0, "0.0.0.0", 65535 },
		{ "[2001:db8::5]:443", 0, "2001:db8::5", 443 },
		{ "host.example:00080", 0, "host.example", 80 },
		{ ":80", NETD_EINVAL, NULL, 0 },
		{ "1.2.3.4:70000", NETD_EINVAL, NULL, 0 },
		{ "1.2.3.4:65536", NETD_EINVAL, NULL, 0 },
		{ "1.2.3.4:0", NETD_EINVAL, NULL, 0 },
		{ "1.2.3.4:", NETD_EINVAL, NULL, 0 },
		{ "1.2.3.4:8o", NETD_EINVAL, NULL, 0 },
		{ "1.2.3.4:-1", NETD_EINVAL, NULL, 0 },
		{ "1.2.3.4:123456", NETD_EINVAL, NULL, 0 },
		{ "1.2.3.4", NETD_EINVAL, NULL, 0 },
		{ "[::1]", NETD_EINVAL, NULL, 0 },
		{ "[::1]80", NETD_EINVAL, NULL, 0 },
		{ "[]:80", NETD_EINVAL, NULL, 0 },
		{ "[nothost]:80", NETD_EINVAL, NULL, 0 },
		{ "::1:80", NETD_EINVAL, NULL, 0 },
		{ "", NETD_EINVAL, NULL, 0 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct netd_config c;
		struct netd_err e = { 0 };
		config_defaults(&c);
		int rc = config_set_listen(&c, cases[i].in, &e);
		if (rc != cases[i].rc)
			fail_msg("'%s': rc %d, want %d (%s)", cases[i].in, rc, cases[i].rc, e.msg);
		if (rc == 0) {
			assert_string_equal(c.listen_host, cases[i].host);
			assert_int_equal(c.listen_port, cases[i].port);
		} else {
			/* the message names the value; the config is untouched */
			char quoted[64];
			snprintf(quoted, sizeof quoted, "'%s'", cases[i].in);
			if (!strstr(e.msg, quoted))
				fail_msg("'%s': message '%s' does not name it", cases[i].in, e.msg);
			assert_string_equal(c.listen_host, "127.0.0.1");
			assert_int_equal(c.listen_port, 8080);
		}
	}
}

static void test_loopback(void **state)
{
	static const struct {
		const char *host;
		bool loop;
	} cases[] = {
		{ "127.0.0.1", true },   { "127.1.2.3", true },   { "127.255.255.255", true },
		{ "::1", true },         { "localhost", true },   { "LocalHost", true },
		{ "::ffff:127.0.0.1", true },
		{ "128.0.0.1", false },  { "126.255.255.255", false }, { "0.0.0.0", false },
		{ "::", false },         { "::2", false },        { "10.0.0.1", false },
		{ "localhost.example", false }, { "example.com", false }, { "", false },
	};
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct netd_config c;
		config_defaults(&c);
		snprintf(c.listen_host, sizeof c.listen_host, "%s", cases[i].host);
		if (config_listen_is_loopback(&c) != cases[i].loop)
			fail_msg("'%s': want %s", cases[i].host, cases[i].loop ? "loopback" : "not loopback");
	}
}

/* ---- print ------------------------------------------------------------ */

/* Print @c to the fixture file; returns the text (caller frees). */
static char *print_to_file(const struct fixture *f, const struct netd_config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	assert_non_null(mem);
	assert_int_equal(config_print(f->ctx, c, mem), 0);
	assert_int_equal(fclose(mem), 0);
	put(f, text);
	return text;
}

static void test_print_defaults(void **state)
{
	struct fixture *f = *state;
	struct netd_config c, back;
	struct netd_err e = { 0 };

	config_defaults(&c);
	char *text = print_to_file(f, &c);
	static const char *const want[] = {
		"\"netd-server:server\"", "\"store\": \"./var/netd\"", "\"listen\": \"127.0.0.1:8080\"",
		"\"log-level\": \"info\"", "\"syslog\": false", "\"hold-down\": 3600",
		"\"http-threads\": 2", "\"store-map-size\": \"67108864\"",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (!strstr(text, want[i]))
			fail_msg("printed defaults lack %s:\n%s", want[i], text);
	}
	assert_null(strstr(text, "tls"));
	free(text);
	assert_int_equal(config_load(f->ctx, f->file, &back, &e), 0);
	assert_config_equal(&c, &back);
	config_free(&back);
}

static void test_print_round_trip(void **state)
{
	struct fixture *f = *state;
	struct netd_config c, back, again;
	struct netd_err e = { 0 };

	put(f, full_conf);
	assert_int_equal(config_load(f->ctx, f->file, &c, &e), 0);
	char *text = print_to_file(f, &c);
	int rc = config_load(f->ctx, f->file, &back, &e);
	if (rc != 0)
		fail_msg("reload: %s (%s)\n%s", e.msg, e.path, text);
	assert_config_equal(&c, &back);
	assert_non_null(strstr(text, "\"listen\": \"[::1]:8443\""));
	assert_non_null(strstr(text, "\"role\": \"read-only\"")); /* defaults spelled out */

	/* Printing is canonical: print(load(print(c))) == print(c). */
	char *text2 = print_to_file(f, &back);
	assert_string_equal(text, text2);
	assert_int_equal(config_load(f->ctx, f->file, &again, &e), 0);
	assert_config_equal(&c, &again);
	free(text);
	free(text2);
	config_free(&c);
	config_free(&back);
	config_free(&again);
}

static void test_print_rejects_invalid(void **state)
{
	struct fixture *f = *state;
	struct netd_config c;
	struct auth_user u[2];

	config_defaults(&c);
	memset(u, 0, sizeof u);
	snprintf(u[0].name, sizeof u[0].name, "alice");
	snprintf(u[0].hash, sizeof u[0].hash, HASH_Y);
	u[0].role = ROLE_READ;
	u[1] = u[0];
	c.users = u;
	c.n_users = 2; /* duplicate key */
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	assert_non_null(mem);
	assert_int_equal(config_print(f->ctx, &c, mem), NETD_EINVAL);
	c.n_users = 1;
	c.http_threads = 0; /* out of the YANG range */
	assert_int_equal(config_print(f->ctx, &c, mem), NETD_EINVAL);
	fclose(mem);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_load_full),
		cmocka_unit_test(test_load_empty),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_print_defaults),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_print_rejects_invalid),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
