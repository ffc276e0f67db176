/* netd/auth.h — who may talk to netd: users with crypt(3) password hashes
 * and bearer tokens (stored as SHA-256), each read-only or admin.
 * Thread-safe: checks may run on any HTTP thread while auth_set() swaps the
 * lists (SIGHUP). */
#ifndef NETD_AUTH_H
#define NETD_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum auth_role { ROLE_NONE = 0, ROLE_READ = 1, ROLE_ADMIN = 2 };

struct auth_user {
	char name[65];
	char hash[256];          /* crypt(3) string: $y$..., $6$..., $5$... */
	enum auth_role role;
};

struct auth_token {
	char name[65];
	uint8_t sha256[32];
	enum auth_role role;
};

struct auth;

/* Empty lists, a fresh random cache key. 0, -ENOMEM or -errno (getrandom). */
int auth_new(struct auth **out);
void auth_free(struct auth *a);   /* accepts NULL */

/* Replace users and tokens (copied). Clears the verification cache. 0,
 * -ENOMEM, or NETD_EINVAL (empty or unterminated name/hash, role not
 * ROLE_READ/ROLE_ADMIN) with the old lists kept. Names must be unique; the
 * first match wins. */
int auth_set(struct auth *a, const struct auth_user *users, size_t n_users,
	     const struct auth_token *tokens, size_t n_tokens);
size_t auth_count(struct auth *a);  /* users + tokens */

/* HTTP Basic: 0 and *role and *who on success, NETD_EAUTH otherwise. Successful
 * verifications are cached (keyed by a keyed hash of user and password) so a
 * slow hash costs once, not per request; failures are never cached and an
 * unknown user costs one crypt too. @role and @who may be NULL; @who is
 * truncated to @who_len. Users over 64 bytes or passwords over 4096 bytes
 * fail without hashing. */
int auth_check_basic(struct auth *a, const char *user, const char *password,
		     enum auth_role *role, char *who, size_t who_len);
/* Bearer token: 0 and *role and *who, or NETD_EAUTH. Constant-time compare.
 * Tokens over 4096 bytes fail. */
int auth_check_bearer(struct auth *a, const char *token, enum auth_role *role,
		      char *who, size_t who_len);

/* First start without users or tokens: read <store_dir>/admin.token, or make
 * a new random token there (64 hex chars + newline, O_EXCL, mode 0600), and
 * add it as admin token "local-admin". Does nothing (0) when any user or
 * token exists. The file's content is trimmed and must be one word of
 * printable ASCII; a file with any group/other permission bit is refused.
 * @store_dir must exist (it is not created). 0, or -errno / NETD_EINVAL /
 * NETD_ETOOBIG with a message naming the file. */
int auth_bootstrap(struct auth *a, const char *store_dir, struct netd_err *e);

/* Helpers for operators and tests. */
/* yescrypt hash with a fresh salt into @out: 0, -ERANGE (@len too small;
 * 256 is plenty), -ENOMEM, NETD_EINVAL or -errno from libxcrypt. */
int auth_hash_password(const char *password, char *out, size_t len);
/* Lowercase hex SHA-256 of @s (as in the config's token/sha256); "" if
 * OpenSSL fails. */
void auth_sha256_hex(const char *s, char out[65]);
const char *auth_role_name(enum auth_role r);   /* "read-only", "admin", "none" */

/* Parse "read-only" or "admin" (the YANG enum). 0 or NETD_EINVAL; *out
 * written only on success. */
int auth_role_parse(const char *s, enum auth_role *out);

/* Counters since auth_new(), for tests and diagnostics: crypt_calls counts
 * every crypt(3) run by auth_check_basic (unknown users included); a cache
 * hit runs none. */
struct auth_stats {
	uint64_t crypt_calls;
	uint64_t cache_hits;
	uint64_t cache_misses;
};
void auth_stats(struct auth *a, struct auth_stats *out);

#endif
