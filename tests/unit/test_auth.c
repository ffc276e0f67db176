/* tests/unit/test_auth.c — netd/auth.c: password and token checks, the
 * verification cache (counted, not timed), list swaps and the admin.token
 * bootstrap. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "netd/auth.h"

/* ---- helpers ---------------------------------------------------------- */

static struct auth_user mk_user(const char *name, const char *hash, enum auth_role role)
{
	struct auth_user u;

	memset(&u, 0, sizeof u);
	snprintf(u.name, sizeof u.name, "%s", name);
	snprintf(u.hash, sizeof u.hash, "%s", hash);
	u.role = role;
	return u;
}

static struct auth_token mk_token(const char *name, const char *secret, enum auth_role role)
{
	struct auth_token t;
	char hex[65];

	memset(&t, 0, sizeof t);
	snprintf(t.name, sizeof t.name, "%s", name);
	auth_sha256_hex(secret, hex);
	for (size_t i = 0; i < 32; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		t.sha256[i] = (uint8_t)v;
	}
	t.role = role;
	return t;
}

/* A cheap sha256crypt hash (rounds=1000) for tests that run many crypts. */
static void cheap_hash(const char *password, char out[256])
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof *cd);

	assert_non_null(cd);
	assert_non_null(crypt_gensalt_rn("$5$", 1000, NULL, 0, setting, sizeof setting));
	const char *h = crypt_rn(password, setting, cd, (int)sizeof *cd);
	assert_non_null(h);
	snprintf(out, 256, "%s", h);
	free(cd);
}

static uint64_t crypt_calls(struct auth *a)
{
	struct auth_stats st;

	auth_stats(a, &st);
	return st.crypt_calls;
}

/* ---- roles and helpers ------------------------------------------------ */

static void test_role_names(void **state)
{
	static const struct {
		enum auth_role role;
		const char *name;
	} cases[] = {
		{ ROLE_READ, "read-only" },
		{ ROLE_ADMIN, "admin" },
		{ ROLE_NONE, "none" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_string_equal(auth_role_name(cases[i].role), cases[i].name);
		enum auth_role r = ROLE_NONE;
		int rc = auth_role_parse(cases[i].name, &r);
		if (cases[i].role == ROLE_NONE) {
			assert_int_equal(rc, NETD_EINVAL);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(r, cases[i].role);
		}
	}
	enum auth_role r = ROLE_ADMIN;
	assert_int_equal(auth_role_parse("Admin", &r), NETD_EINVAL);
	assert_int_equal(r, ROLE_ADMIN); /* untouched on failure */
}

static void test_sha256_hex(void **state)
{
	char hex[65];

	(void)state;
	auth_sha256_hex("", hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	auth_sha256_hex("abc", hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_hash_password(void **state)
{
	char h[256], tiny[8];

	(void)state;
	assert_int_equal(auth_hash_password("s3cret", h, sizeof h), 0);
	assert_memory_equal(h, "$y$", 3);
	assert_int_equal(auth_hash_password("s3cret", tiny, sizeof tiny), -ERANGE);
	assert_int_equal(auth_hash_password(NULL, h, sizeof h), NETD_EINVAL);
	char h2[256];
	assert_int_equal(auth_hash_password("s3cret", h2, sizeof h2), 0);
	assert_string_not_equal(h, h2); /* fresh salt each time */
}

/* ---- Basic ------------------------------------------------------------ */

static void test_basic_verify(void **state)
{
	struct auth *a = NULL;
	char yes[256], sha[256];

	(void)state;
	assert_int_equal(auth_new(&a), 0);
	assert_int_equal(auth_hash_password("correct horse", yes, sizeof yes), 0);
	cheap_hash("battery staple", sha);
	struct auth_user users[] = {
		mk_user("alice", yes, ROLE_ADMIN),
		mk_user("bob", sha, ROLE_READ),
	};
	assert_int_equal(auth_set(a, users, 2, NULL, 0), 0);
	assert_int_equal(auth_count(a), 2);

	static const struct {
		const char *user, *password;
		int rc;
		enum auth_role role;
	} cases[] = {
		{ "alice", "correct horse", 0, ROLE_ADMIN },
		{ "alice", "correct horse ", NETD_EAUTH, ROLE_NONE },
		{ "alice", "Correct horse", NETD_EAUTH, ROLE_NONE },
		{ "alice", "", NETD_EAUTH, ROLE_NONE },
		{ "alice", "battery staple", NETD_EAUTH, ROLE_NONE },
		{ "bob", "battery staple", 0, ROLE_READ },
		{ "bob", "correct horse", NETD_EAUTH, ROLE_NONE },
		{ "carol", "correct horse", NETD_EAUTH, ROLE_NONE },
		{ "", "correct horse", NETD_EAUTH, ROLE_NONE },
		{ "alic", "correct horse", NETD_EAUTH, ROLE_NONE },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum auth_role role = ROLE_NONE;
		char who[65] = "untouched";
		int rc = auth_check_basic(a, cases[i].user, cases[i].password, &role, who, sizeof who);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s/%s): rc %d, want %d", i, cases[i].user, cases[i].password, rc,
				 cases[i].rc);
		assert_int_equal(role, cases[i].role);
		assert_string_equal(who, rc == 0 ? cases[i].user : "untouched");
	}
	assert_int_equal(auth_check_basic(a, NULL, "x", NULL, NULL, 0), NETD_EAUTH);
	assert_int_equal(auth_check_basic(a, "alice", NULL, NULL, NULL, 0), NETD_EAUTH);
	auth_free(a);
}

static void test_basic_cache(void **state)
{
	struct auth *a = NULL;
	char h[256];
	struct auth_stats st;

	(void)state;
	assert_int_equal(auth_new(&a), 0);
	assert_int_equal(auth_hash_password("pw", h, sizeof h), 0);
	struct auth_user u = mk_user("alice", h, ROLE_ADMIN);
	assert_int_equal(auth_set(a, &u, 1, NULL, 0), 0);

	for (int i = 0; i < 200; i++) {
		enum auth_role role = ROLE_NONE;
		char who[16] = "";
		assert_int_equal(auth_check_basic(a, "alice", "pw", &role, who, sizeof who), 0);
		assert_int_equal(role, ROLE_ADMIN);
		assert_string_equal(who, "alice");
	}
	auth_stats(a, &st);
	assert_int_equal(st.crypt_calls, 1);
	assert_int_equal(st.cache_misses, 1);
	assert_int_equal(st.cache_hits, 199);

	/* The cache is keyed by the password too: a wrong one is not a hit. */
	assert_int_equal(auth_check_basic(a, "alice", "PW", NULL, NULL, 0), NETD_EAUTH);
	assert_int_equal(crypt_calls(a), 2);
	auth_free(a);
}

static void test_failures_not_cached(void **state)
{
	struct auth *a = NULL;
	char h[256];

	(void)state;
	assert_int_equal(auth_new(&a), 0);
	cheap_hash("right", h);
	struct auth_user u = mk_user("alice", h, ROLE_READ);
	assert_int_equal(auth_set(a, &u, 1, NULL, 0), 0);

	for (int i = 0; i < 5; i++)
		assert_int_equal(auth_check_basic(a, "alice", "wrong", NULL, NULL, 0), NETD_EAUTH);
	assert_int_equal(crypt_calls(a), 5);
	/* Unknown users still cost a crypt (no user enumeration by timing). */
	for (int i = 0; i < 3; i++)
		assert_int_equal(auth_check_basic(a, "mallory", "right", NULL, NULL, 0), NETD_EAUTH);
	assert_int_equal(crypt_calls(a), 8);
	/* Too long a user name or password is refused without any crypt. */
	char longpw[5000];
	memset(longpw, 'x', sizeof longpw - 1);
	longpw[sizeof longpw - 1] = '\0';
	assert_int_equal(auth_check_basic(a, "alice", longpw, NULL, NULL, 0), NETD_EAUTH);
	assert_int_equal(crypt_calls(a), 8);
	assert_int_equal(auth_check_basic(a, "alice", "right", NULL, NULL, 0), 0);
	assert_int_equal(crypt_calls(a), 9);
	auth_free(a);
}

/* A hash crypt(3) cannot use ("!" locked, "*", garbage) never verifies. */
static void test_unusable_hash(void **state)
{
	static const char *const hashes[] = { "!", "*", "plain", "$y$", "$6$x$" };
	struct auth *a = NULL;

	(void)state;
	assert_int_equal(auth_new(&a), 0);
	for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
		struct auth_user u = mk_user("alice", hashes[i], ROLE_ADMIN);
		assert_int_equal(auth_set(a, &u, 1, NULL, 0), 0);
		assert_int_equal(auth_check_basic(a, "alice", "", NULL, NULL, 0), NETD_EAUTH);
		assert_int_equal(auth_check_basic(a, "alice", hashes[i], NULL, NULL, 0), NETD_EAUTH);
	}
	auth_free(a);
}

/* ---- Bearer ----------------------------------------------------------- */

static void test_bearer(void **state)
{
	struct auth *a = NULL;

	(void)state;
	assert_int_equal(auth_new(&a), 0);
	struct auth_token toks[] = {
		mk_token("ci", "read-token-123", ROLE_READ),
		mk_token("ops", "admin-token-456", ROLE_ADMIN),
	};
	assert_int_equal(auth_set(a, NULL, 0, toks, 2), 0);

	static const struct {
		const char *token;
		int rc;
		enum auth_role role;
		const char *who;
	} cases[] = {
		{ "read-token-123", 0, ROLE_READ, "ci" },
		{ "admin-token-456", 0, ROLE_ADMIN, "ops" },
		{ "admin-token-45", NETD_EAUTH, ROLE_NONE, "untouched" },
		{ "admin-token-4567", NETD_EAUTH, ROLE_NONE, "untouched" },
		{ "", NETD_EAUTH, ROLE_NONE, "untouched" },
		{ "ci", NETD_EAUTH, ROLE_NONE, "untouched" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum auth_role role = ROLE_NONE;
		char who[65] = "untouched";
		int rc = auth_check_bearer(a, cases[i].token, &role, who, sizeof who);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, want %d", i, cases[i].token, rc, cases[i].rc);
		assert_int_equal(role, cases[i].role);
		assert_string_equal(who, cases[i].who);
	}
	assert_int_equal(auth_check_bearer(a, NULL, NULL, NULL, 0), NETD_EAUTH);
	/* who is truncated, never overflowed */
	char small[3];
	assert_int_equal(auth_check_bearer(a, "admin-token-456", NULL, small, sizeof small), 0);
	assert_string_equal(small, "op");
	/* Tokens are not passwords and vice versa. */
	assert_int_equal(auth_check_basic(a, "ops", "admin-token-456", NULL, NULL, 0), NETD_EAUTH);
	auth_free(a);
}

/* ---- auth_set --------------------------------------------------------- */

static void test_set_replaces(void **state)
{
	struct auth *a = NULL;
	char ha[256], hb[256];

	(void)state;
	assert_int_equal(auth_new(&a), 0);
	assert_int_equal(auth_count(a), 0);
	cheap_hash("pa", ha);
	cheap_hash("pb", hb);
	struct auth_user ua = mk_user("alice", ha, ROLE_ADMIN);
	struct auth_token ta = mk_token("t1", "tok1", ROLE_ADMIN);
	assert_int_equal(auth_set(a, &ua, 1, &ta, 1), 0);
	assert_int_equal(auth_count(a), 2);
	assert_int_equal(auth_check_basic(a, "alice", "pa", NULL, NULL, 0), 0);
	assert_int_equal(auth_check_basic(a, "alice", "pa", NULL, NULL, 0), 0);
	assert_int_equal(crypt_calls(a), 1);

	/* Same users again: the cache is still emptied. */
	assert_int_equal(auth_set(a, &ua, 1, &ta, 1), 0);
	assert_int_equal(auth_check_basic(a, "alice", "pa", NULL, NULL, 0), 0);
	assert_int_equal(crypt_calls(a), 2);

	/* alice demoted: the cached admin role must not survive. */
	ua.role = ROLE_READ;
	struct auth_user users[] = { ua, mk_user("bob", hb, ROLE_READ) };
	struct auth_token tb = mk_token("t2", "tok2", ROLE_READ);
	assert_int_equal(auth_set(a, users, 2, &tb, 1), 0);
	assert_int_equal(auth_count(a), 3);
	enum auth_role role = ROLE_NONE;
	assert_int_equal(auth_check_basic(a, "alice", "pa", &role, NULL, 0), 0);
	assert_int_equal(role, ROLE_READ);
	assert_int_equal(auth_check_basic(a, "bob", "pb", &role, NULL, 0), 0);
	assert_int_equal(auth_check_bearer(a, "tok1", NULL, NULL, 0), NETD_EAUTH);
	assert_int_equal(auth_check_bearer(a, "tok2", &role, NULL, 0), 0);

	/* Removed users fail even with a cached verification. */
	assert_int_equal(auth_set(a, &users[1], 1, NULL, 0), 0);
	assert_int_equal(auth_check_basic(a, "alice", "pa", NULL, NULL, 0), NETD_EAUTH);
	assert_int_equal(auth_set(a, NULL, 0, NULL, 0), 0);
	assert_int_equal(auth_count(a), 0);
	assert_int_equal(auth_check_basic(a, "bob", "pb", NULL, NULL, 0), NETD_EAUTH);
	auth_free(a);
}

static void test_set_rejects(void **state)
{
	struct auth *a = NULL;

	(void)state;
	assert_int_equal(auth_new(&a), 0);
	struct auth_user good = mk_user("alice", "$5$x$y", ROLE_READ);
	assert_int_equal(auth_set(a, &good, 1, NULL, 0), 0);

	struct auth_user norole = mk_user("bob", "$5$x$y", ROLE_NONE);
	struct auth_user noname = mk_user("", "$5$x$y", ROLE_READ);
	struct auth_user unterminated = good;
	memset(unterminated.name, 'a', sizeof unterminated.name);
	struct auth_token badtok = mk_token("t", "x", (enum auth_role)7);
	assert_int_equal(auth_set(a, &norole, 1, NULL, 0), NETD_EINVAL);
	assert_int_equal(auth_set(a, &noname, 1, NULL, 0), NETD_EINVAL);
	assert_int_equal(auth_set(a, &unterminated, 1, NULL, 0), NETD_EINVAL);
	assert_int_equal(auth_set(a, NULL, 0, &badtok, 1), NETD_EINVAL);
	assert_int_equal(auth_set(a, NULL, 1, NULL, 0), NETD_EINVAL);
	assert_int_equal(auth_count(a), 1); /* unchanged */
	auth_free(a);
	auth_free(NULL);
}

/* Checks on several threads while the lists are swapped underneath. */
struct race {
	struct auth *a;
	int failures;
};

static void *race_reader(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 100; i++) {
		enum auth_role role = ROLE_NONE;
		char who[65];
		if (auth_check_basic(r->a, "alice", "pw", &role, who, sizeof who) != 0 ||
		    strcmp(who, "alice") != 0)
			r->failures++;
		if (auth_check_bearer(r->a, "tok", &role, who, sizeof who) != 0 || strcmp(who, "t") != 0)
			r->failures++;
		if (auth_check_basic(r->a, "alice", "nope", NULL, NULL, 0) == 0)
			r->failures++;
	}
	return NULL;
}

static void test_concurrent_swap(void **state)
{
	struct auth *a = NULL;
	char h[256];
	pthread_t th[4];
	struct race r[4];

	(void)state;
	assert_int_equal(auth_new(&a), 0);
	cheap_hash("pw", h);
	struct auth_user u = mk_user("alice", h, ROLE_READ);
	struct auth_token t = mk_token("t", "tok", ROLE_READ);
	assert_int_equal(auth_set(a, &u, 1, &t, 1), 0);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct race){ .a = a };
		assert_int_equal(pthread_create(&th[i], NULL, race_reader, &r[i]), 0);
	}
	for (int i = 0; i < 50; i++) {
		u.role = i % 2 ? ROLE_ADMIN : ROLE_READ;
		assert_int_equal(auth_set(a, &u, 1, &t, 1), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(r[i].failures, 0);
	}
	auth_free(a);
}

/* ---- bootstrap -------------------------------------------------------- */

struct tmpdir {
	char dir[64];
	char file[128];
};

static int tmp_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof *t);

	if (!t)
		return -1;
	snprintf(t->dir, sizeof t->dir, "/tmp/netd-test-auth-XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	snprintf(t->file, sizeof t->file, "%s/admin.token", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmpdir *t = *state;

	unlink(t->file);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, cap - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_bootstrap_creates_and_reuses(void **state)
{
	struct tmpdir *t = *state;
	struct auth *a = NULL, *b = NULL;
	struct netd_err e = { 0 };
	struct stat st;
	char content[256], token[65];

	assert_int_equal(auth_new(&a), 0);
	assert_int_equal(auth_bootstrap(a, t->dir, &e), 0);
	assert_int_equal(e.code, 0);
	assert_int_equal(auth_count(a), 1);

	assert_int_equal(stat(t->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	read_file(t->file, content, sizeof content);
	assert_int_equal(strlen(content), 65);
	assert_int_equal(content[64], '\n');
	assert_int_equal(strspn(content, "0123456789abcdef"), 64);
	memcpy(token, content, 64);
	token[64] = '\0';

	enum auth_role role = ROLE_NONE;
	char who[65] = "";
	assert_int_equal(auth_check_bearer(a, token, &role, who, sizeof who), 0);
	assert_int_equal(role, ROLE_ADMIN);
	assert_string_equal(who, "local-admin");

	/* A second start reads the same file and accepts the same token. */
	assert_int_equal(auth_new(&b), 0);
	assert_int_equal(auth_bootstrap(b, t->dir, &e), 0);
	assert_int_equal(auth_check_bearer(b, token, &role, NULL, 0), 0);
	assert_int_equal(role, ROLE_ADMIN);
	read_file(t->file, content, sizeof content);
	assert_memory_equal(content, token, 64);

	/* Once lists exist, bootstrap does nothing. */
	assert_int_equal(auth_bootstrap(b, "/nonexistent/dir", &e), 0);
	assert_int_equal(auth_count(b), 1);
	auth_free(a);
	auth_free(b);
}

static void test_bootstrap_skips_when_configured(void **state)
{
	struct tmpdir *t = *state;
	struct auth *a = NULL;
	struct netd_err e = { 0 };
	struct auth_token tok = mk_token("ci", "x", ROLE_READ);

	assert_int_equal(auth_new(&a), 0);
	assert_int_equal(auth_set(a, NULL, 0, &tok, 1), 0);
	assert_int_equal(auth_bootstrap(a, t->dir, &e), 0);
	assert_int_equal(access(t->file, F_OK), -1);
	assert_int_equal(auth_count(a), 1);
	auth_free(a);
}

static void test_bootstrap_existing_trimmed(void **state)
{
	struct tmpdir *t = *state;
	struct auth *a = NULL;
	struct netd_err e = { 0 };

	write_file(t->file, "  my-own-token\n\n", 0600);
	assert_int_equal(auth_new(&a), 0);
	assert_int_equal(auth_bootstrap(a, t->dir, &e), 0);
	assert_int_equal(auth_check_bearer(a, "my-own-token", NULL, NULL, 0), 0);
	assert_int_equal(auth_check_bearer(a, "  my-own-token", NULL, NULL, 0), NETD_EAUTH);
	auth_free(a);
}

static void test_bootstrap_refuses(void **state)
{
	struct tmpdir *t = *state;
	static const struct {
		const char *content;
		mode_t mode;
		const char *want; /* in the message besides the file name */
	} cases[] = {
		{ "abc\n", 0644, "0644" },
		{ "abc\n", 0640, "0640" },
		{ "abc\n", 0604, "0604" },
		{ " \n", 0600, "empty" },
		{ "two words\n", 0600, "one word" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct auth *a = NULL;
		struct netd_err e = { 0 };
		write_file(t->file, cases[i].content, cases[i].mode);
		assert_int_equal(auth_new(&a), 0);
		int rc = auth_bootstrap(a, t->dir, &e);
		assert_true(rc < 0);
		assert_int_equal(e.code, rc);
		if (!strstr(e.msg, t->file) || !strstr(e.msg, cases[i].want))
			fail_msg("case %zu: message '%s' lacks '%s' or '%s'", i, e.msg, t->file,
				 cases[i].want);
		assert_int_equal(auth_count(a), 0);
		auth_free(a);
	}
}

static void test_bootstrap_missing_dir(void **state)
{
	struct tmpdir *t = *state;
	struct auth *a = NULL;
	struct netd_err e = { 0 };
	char dir[128];

	snprintf(dir, sizeof dir, "%s/absent", t->dir);
	assert_int_equal(auth_new(&a), 0);
	assert_int_equal(auth_bootstrap(a, dir, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "absent/admin.token"));
	assert_int_equal(auth_count(a), 0);
	auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_names),
		cmocka_unit_test(test_sha256_hex),
		cmocka_unit_test(test_hash_password),
		cmocka_unit_test(test_basic_verify),
		cmocka_unit_test(test_basic_cache),
		cmocka_unit_test(test_failures_not_cached),
		cmocka_unit_test(test_unusable_hash),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_set_replaces),
		cmocka_unit_test(test_set_rejects),
		cmocka_unit_test(test_concurrent_swap),
		cmocka_unit_test_setup_teardown(test_bootstrap_creates_and_reuses, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_skips_when_configured, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_existing_trimmed, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_refuses, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_missing_dir, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
