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

int auth_new(struct auth **out);
void auth_free(struct auth *a);   /* accepts NULL */

/* Replace users and tokens (copied). Clears the verification cache. */
int auth_set(struct auth *a, const struct auth_user *users, size_t n_users,
	     const struct auth_token *tokens, size_t n_tokens);
size_t auth_count(struct auth *a);  /* users + tokens */

/* HTTP Basic: 0 and *role/*who on success, NETD_EAUTH otherwise. Successful
 * verifications are cached (keyed by a keyed hash of user and password) so a
 * slow hash costs once, not per request. */
int auth_check_basic(struct auth *a, const char *user, const char *password,
		     enum auth_role *role, char *who, size_t who_len);
/* Bearer token: 0 and *role/*who, or NETD_EAUTH. Constant-time compare. */
int auth_check_bearer(struct auth *a, const char *token, enum auth_role *role,
		      char *who, size_t who_len);

/* First start without users or tokens: read <store_dir>/admin.token, or make
 * a new random token there (mode 0600), and add it as admin token
 * "local-admin". 0, or an error naming the file. */
int auth_bootstrap(struct auth *a, const char *store_dir, struct netd_err *e);

/* Helpers for operators and tests. */
int auth_hash_password(const char *password, char *out, size_t len);   /* yescrypt */
void auth_sha256_hex(const char *s, char out[65]);
const char *auth_role_name(enum auth_role r);

#endif
