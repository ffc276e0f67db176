/* netd/auth.c — users, bearer tokens and the Basic-auth verification cache.
 *
 * Overview
 *   struct auth holds two arrays (users with crypt(3) hashes, tokens stored
 *   as SHA-256) behind a pthread rwlock: checks take it shared, auth_set()
 *   and auth_bootstrap() take it exclusive and swap the arrays.
 *
 *   A slow password hash (yescrypt) on every HTTP request would make each
 *   request cost tens of milliseconds, so a successful Basic verification is
 *   remembered: the cache key is HMAC-SHA256(k, user NUL password) with k 32
 *   random bytes drawn in auth_new(), the value is role and user name. The
 *   cache never holds a password or a plain hash of one; without k an entry
 *   is useless for guessing. Failed attempts are never cached. The cache is
 *   direct-mapped (AUTH_CACHE_SLOTS slots, a new entry replaces whatever sat
 *   in its slot) and emptied by auth_set().
 *
 * Locking
 *   lock (rwlock) before cache_lock (mutex), never the other way. crypt runs
 *   with no lock held; its result is stored only if no auth_set() happened
 *   meanwhile (cache_gen unchanged), so a reload never sees stale entries.
 *
 * Timing
 *   Hash and MAC compares use CRYPTO_memcmp; an unknown user still costs
 *   one crypt (against a random yescrypt setting) so response time does not
 *   tell which user names exist.
 */
#include "netd/auth.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define AUTH_CACHE_SLOTS 1024u     /* power of two */
#define AUTH_KEY_LEN 32
#define AUTH_MAC_LEN 32
#define AUTH_NAME_MAX 64           /* bytes, as in struct auth_user */
#define AUTH_PASSWORD_MAX 4096     /* longer passwords are refused unhashed */
#define AUTH_TOKEN_MAX 4096        /* longer bearer tokens are refused */
#define AUTH_TOKEN_FILE "admin.token"
#define AUTH_TOKEN_FILE_MAX 512    /* admin.token content limit */
#define AUTH_BOOTSTRAP_NAME "local-admin"

struct cache_entry {
	uint8_t mac[AUTH_MAC_LEN];
	bool used;
	enum auth_role role;
	char name[AUTH_NAME_MAX + 1];
};

struct auth {
	pthread_rwlock_t lock;        /* guards the four fields below */
	struct auth_user *users;
	size_t n_users;
	struct auth_token *tokens;
	size_t n_tokens;

	pthread_mutex_t cache_lock;   /* guards cache[] and cache_gen */
	struct cache_entry *cache;    /* AUTH_CACHE_SLOTS entries */
	uint64_t cache_gen;           /* bumped by every list swap */

	uint8_t key[AUTH_KEY_LEN];    /* HMAC key for cache entries */
	char dummy_setting[CRYPT_GENSALT_OUTPUT_SIZE]; /* for unknown users */

	atomic_uint_fast64_t n_crypt, n_hits, n_misses;
};

/* ---- small helpers ---------------------------------------------------- */

/* Fill @buf with @len bytes from the kernel CSPRNG. 0 or -errno. */
static int fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/* Is @s NUL-terminated within @cap bytes and not empty? */
static bool str_ok(const char *s, size_t cap)
{
	return s[0] != '\0' && memchr(s, '\0', cap) != NULL;
}

static bool role_ok(enum auth_role r)
{
	return r == ROLE_READ || r == ROLE_ADMIN;
}

static void copy_who(char *who, size_t who_len, const char *name)
{
	if (who && who_len > 0)
		snprintf(who, who_len, "%s", name);
}

static int sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -ENOMEM;
	return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

int auth_new(struct auth **out)
{
	struct auth *a = calloc(1, sizeof *a);
	int rc;

	if (!a)
		return -ENOMEM;
	a->cache = calloc(AUTH_CACHE_SLOTS, sizeof *a->cache);
	if (!a->cache) {
		free(a);
		return -ENOMEM;
	}
	rc = fill_random(a->key, sizeof a->key);
	if (rc < 0)
		goto fail;
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, a->dummy_setting, sizeof a->dummy_setting)) {
		rc = errno ? -errno : -EINVAL;
		goto fail;
	}
	rc = -pthread_rwlock_init(&a->lock, NULL);
	if (rc < 0)
		goto fail;
	rc = -pthread_mutex_init(&a->cache_lock, NULL);
	if (rc < 0) {
		pthread_rwlock_destroy(&a->lock);
		goto fail;
	}
	atomic_init(&a->n_crypt, 0);
	atomic_init(&a->n_hits, 0);
	atomic_init(&a->n_misses, 0);
	*out = a;
	return 0;
fail:
	OPENSSL_cleanse(a->key, sizeof a->key);
	free(a->cache);
	free(a);
	return rc;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	pthread_rwlock_destroy(&a->lock);
	pthread_mutex_destroy(&a->cache_lock);
	free(a->users);
	free(a->tokens);
	OPENSSL_cleanse(a->cache, AUTH_CACHE_SLOTS * sizeof *a->cache);
	free(a->cache);
	OPENSSL_cleanse(a->key, sizeof a->key);
	free(a);
}

/* ---- list swap -------------------------------------------------------- */

/* Install new arrays (ownership moves in) and empty the cache; the old
 * arrays come back in *old_users / *old_tokens for the caller to free.
 * Caller holds a->lock exclusively. */
static void swap_lists_locked(struct auth *a, struct auth_user **users, size_t n_users,
			      struct auth_token **tokens, size_t n_tokens)
{
	struct auth_user *ou = a->users;
	struct auth_token *ot = a->tokens;

	a->users = *users;
	a->n_users = n_users;
	a->tokens = *tokens;
	a->n_tokens = n_tokens;
	*users = ou;
	*tokens = ot;

	pthread_mutex_lock(&a->cache_lock);
	memset(a->cache, 0, AUTH_CACHE_SLOTS * sizeof *a->cache);
	a->cache_gen++;
	pthread_mutex_unlock(&a->cache_lock);
}

static int check_lists(const struct auth_user *users, size_t n_users,
		       const struct auth_token *tokens, size_t n_tokens)
{
	if ((n_users && !users) || (n_tokens && !tokens))
		return NETD_EINVAL;
	for (size_t i = 0; i < n_users; i++) {
		if (!str_ok(users[i].name, sizeof users[i].name) ||
		    !str_ok(users[i].hash, sizeof users[i].hash) || !role_ok(users[i].role))
			return NETD_EINVAL;
	}
	for (size_t i = 0; i < n_tokens; i++) {
		if (!str_ok(tokens[i].name, sizeof tokens[i].name) || !role_ok(tokens[i].role))
			return NETD_EINVAL;
	}
	return 0;
}

/* Copy @n elements of @size bytes; NULL (and 0) for an empty array. */
static int dup_array(const void *src, size_t n, size_t size, void **out)
{
	void *p = NULL;

	if (n > 0) {
		p = calloc(n, size);
		if (!p)
			return -ENOMEM;
		memcpy(p, src, n * size);
	}
	*out = p;
	return 0;
}

int auth_set(struct auth *a, const struct auth_user *users, size_t n_users,
	     const struct auth_token *tokens, size_t n_tokens)
{
	void *u = NULL, *t = NULL;
	int rc = check_lists(users, n_users, tokens, n_tokens);

	if (rc < 0)
		return rc;
	rc = dup_array(users, n_users, sizeof *users, &u);
	if (rc < 0)
		goto cleanup;
	rc = dup_array(tokens, n_tokens, sizeof *tokens, &t);
	if (rc < 0)
		goto cleanup;

	struct auth_user *nu = u;
	struct auth_token *nt = t;
	pthread_rwlock_wrlock(&a->lock);
	swap_lists_locked(a, &nu, n_users, &nt, n_tokens);
	pthread_rwlock_unlock(&a->lock);
	u = nu; /* the old arrays, freed below */
	t = nt;
cleanup:
	free(u);
	free(t);
	return rc;
}

size_t auth_count(struct auth *a)
{
	size_t n;

	pthread_rwlock_rdlock(&a->lock);
	n = a->n_users + a->n_tokens;
	pthread_rwlock_unlock(&a->lock);
	return n;
}

void auth_stats(struct auth *a, struct auth_stats *out)
{
	out->crypt_calls = atomic_load(&a->n_crypt);
	out->cache_hits = atomic_load(&a->n_hits);
	out->cache_misses = atomic_load(&a->n_misses);
}

/* ---- Basic ------------------------------------------------------------ */

/* HMAC-SHA256(key, user NUL password). 0 or -ENOMEM. */
static int cache_mac(const struct auth *a, const char *user, size_t ulen,
		     const char *password, size_t plen, uint8_t mac[AUTH_MAC_LEN])
{
	uint8_t buf[AUTH_NAME_MAX + 1 + AUTH_PASSWORD_MAX];
	unsigned int n = 0;
	int rc = 0;

	memcpy(buf, user, ulen);
	buf[ulen] = '\0';
	memcpy(buf + ulen + 1, password, plen);
	if (!HMAC(EVP_sha256(), a->key, (int)sizeof a->key, buf, ulen + 1 + plen, mac, &n) ||
	    n != AUTH_MAC_LEN)
		rc = -ENOMEM;
	OPENSSL_cleanse(buf, ulen + 1 + plen);
	return rc;
}

static struct cache_entry *cache_slot(struct auth *a, const uint8_t mac[AUTH_MAC_LEN])
{
	unsigned idx = ((unsigned)mac[0] | (unsigned)mac[1] << 8) & (AUTH_CACHE_SLOTS - 1);
	return &a->cache[idx];
}

/* Look @mac up. On a hit fill *role/name and return true. Records the
 * cache generation in *gen either way. Caller holds a->lock shared. */
static bool cache_lookup(struct auth *a, const uint8_t mac[AUTH_MAC_LEN], enum auth_role *role,
			 char name[AUTH_NAME_MAX + 1], uint64_t *gen)
{
	bool hit = false;

	pthread_mutex_lock(&a->cache_lock);
	const struct cache_entry *ce = cache_slot(a, mac);
	if (ce->used && CRYPTO_memcmp(ce->mac, mac, AUTH_MAC_LEN) == 0) {
		*role = ce->role;
		memcpy(name, ce->name, AUTH_NAME_MAX + 1);
		hit = true;
	}
	*gen = a->cache_gen;
	pthread_mutex_unlock(&a->cache_lock);
	return hit;
}

/* Remember a verified credential unless the lists changed since @gen. */
static void cache_store(struct auth *a, const uint8_t mac[AUTH_MAC_LEN], enum auth_role role,
			const char *name, uint64_t gen)
{
	pthread_mutex_lock(&a->cache_lock);
	if (a->cache_gen == gen) {
		struct cache_entry *ce = cache_slot(a, mac);
		memcpy(ce->mac, mac, AUTH_MAC_LEN);
		ce->role = role;
		snprintf(ce->name, sizeof ce->name, "%s", name);
		ce->used = true;
	}
	pthread_mutex_unlock(&a->cache_lock);
}

/* crypt(@password, @setting) == @hash, compared in constant time.
 * true on a match; false on mismatch or any failure. */
static bool crypt_matches(struct auth *a, const char *password, const char *setting, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof *cd);
	bool ok = false;

	if (!cd)
		return false;
	atomic_fetch_add(&a->n_crypt, 1);
	const char *res = crypt_rn(password, setting, cd, (int)sizeof *cd);
	if (res && hash) {
		size_t rl = strlen(res), hl = strlen(hash);
		ok = rl == hl && CRYPTO_memcmp(res, hash, hl) == 0;
	}
	OPENSSL_cleanse(cd, sizeof *cd);
	free(cd);
	return ok;
}

/* Copy of one user entry, taken under the read lock. */
struct user_snap {
	bool found;
	char hash[sizeof ((struct auth_user *)0)->hash];
	enum auth_role role;
	char name[AUTH_NAME_MAX + 1];
};

static void find_user_locked(const struct auth *a, const char *user, struct user_snap *s)
{
	s->found = false;
	for (size_t i = 0; i < a->n_users; i++) {
		if (strcmp(a->users[i].name, user) == 0) {
			memcpy(s->hash, a->users[i].hash, sizeof s->hash);
			s->role = a->users[i].role;
			memcpy(s->name, a->users[i].name, sizeof s->name);
			s->found = true;
			return;
		}
	}
}

int auth_check_basic(struct auth *a, const char *user, const char *password,
		     enum auth_role *role, char *who, size_t who_len)
{
	uint8_t mac[AUTH_MAC_LEN];
	struct user_snap s = { .found = false };
	enum auth_role r = ROLE_NONE;
	char name[AUTH_NAME_MAX + 1] = "";
	uint64_t gen = 0;
	int rc = NETD_EAUTH;

	if (!user || !password)
		return NETD_EAUTH;
	size_t ulen = strlen(user), plen = strlen(password);
	if (ulen == 0 || ulen > AUTH_NAME_MAX || plen > AUTH_PASSWORD_MAX)
		return NETD_EAUTH;
	if (cache_mac(a, user, ulen, password, plen, mac) < 0)
		return NETD_EAUTH;

	pthread_rwlock_rdlock(&a->lock);
	bool hit = cache_lookup(a, mac, &r, name, &gen);
	if (!hit)
		find_user_locked(a, user, &s);
	pthread_rwlock_unlock(&a->lock);

	if (hit) {
		atomic_fetch_add(&a->n_hits, 1);
		rc = 0;
		goto done;
	}
	atomic_fetch_add(&a->n_misses, 1);
	if (!s.found) {
		/* Same cost as a real check; the result is discarded. */
		(void)crypt_matches(a, password, a->dummy_setting, NULL);
		goto done;
	}
	if (crypt_matches(a, password, s.hash, s.hash)) {
		r = s.role;
		memcpy(name, s.name, sizeof name);
		cache_store(a, mac, r, name, gen);
		rc = 0;
	}
	OPENSSL_cleanse(&s, sizeof s);
done:
	OPENSSL_cleanse(mac, sizeof mac);
	if (rc == 0) {
		if (role)
			*role = r;
		copy_who(who, who_len, name);
	}
	return rc;
}

/* ---- Bearer ----------------------------------------------------------- */

int auth_check_bearer(struct auth *a, const char *token, enum auth_role *role,
		      char *who, size_t who_len)
{
	uint8_t digest[32];
	char name[AUTH_NAME_MAX + 1] = "";
	enum auth_role r = ROLE_NONE;
	bool found = false;

	if (!token || token[0] == '\0' || strnlen(token, AUTH_TOKEN_MAX + 1) > AUTH_TOKEN_MAX)
		return NETD_EAUTH;
	if (sha256(token, strlen(token), digest) < 0)
		return NETD_EAUTH;

	pthread_rwlock_rdlock(&a->lock);
	/* Compare against every token so the time does not depend on which. */
	for (size_t i = 0; i < a->n_tokens; i++) {
		bool eq = CRYPTO_memcmp(a->tokens[i].sha256, digest, sizeof digest) == 0;
		if (eq && !found) {
			found = true;
			r = a->tokens[i].role;
			memcpy(name, a->tokens[i].name, sizeof name);
		}
	}
	pthread_rwlock_unlock(&a->lock);

	if (!found)
		return NETD_EAUTH;
	if (role)
		*role = r;
	copy_who(who, who_len, name);
	return 0;
}

/* ---- bootstrap -------------------------------------------------------- */

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Trim @buf (NUL-terminated) in place; check it is one printable word. */
static int token_trim(char *buf, const char *path, struct netd_err *e)
{
	size_t len = strlen(buf), start = 0;

	while (len > 0 && is_space(buf[len - 1]))
		len--;
	while (start < len && is_space(buf[start]))
		start++;
	memmove(buf, buf + start, len - start);
	buf[len - start] = '\0';
	if (buf[0] == '\0')
		return netd_err_set(e, NETD_EINVAL, NULL, "%s: empty token file", path);
	for (const char *p = buf; *p; p++) {
		if (*p < 0x21 || *p > 0x7e)
			return netd_err_set(e, NETD_EINVAL, NULL,
					    "%s: the token must be one word of printable ASCII", path);
	}
	return 0;
}

/* Read the token from @path into @buf (@cap bytes). 0; -ENOENT (and @e
 * untouched) if there is no file; another error naming the file. */
static int token_file_read(const char *path, char *buf, size_t cap, struct netd_err *e)
{
	struct stat st;
	size_t len = 0;
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return netd_err_set(e, -errno, NULL, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = netd_err_set(e, -errno, NULL, "%s: %s", path, strerror(errno));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = netd_err_set(e, NETD_EINVAL, NULL, "%s: not a regular file", path);
		goto cleanup;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = netd_err_set(e, NETD_EINVAL, NULL,
				  "%s: mode %04o gives group/other access; refusing (chmod 600 it)",
				  path, (unsigned)(st.st_mode & 07777));
		goto cleanup;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = netd_err_set(e, -errno, NULL, "%s: %s", path, strerror(errno));
			goto cleanup;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap - 1) {
			rc = netd_err_set(e, NETD_ETOOBIG, NULL, "%s: longer than %zu bytes", path, cap - 2);
			goto cleanup;
		}
	}
	buf[len] = '\0';
	rc = token_trim(buf, path, e);
cleanup:
	close(fd);
	return rc;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Create @path (O_EXCL, 0600) holding a new random token, also returned in
 * @buf (@cap >= 65). 0; -EEXIST (and @e untouched) if the file appeared
 * meanwhile; another error naming the file. */
static int token_file_create(const char *path, char *buf, size_t cap, struct netd_err *e)
{
	uint8_t rnd[32];
	char line[2 * sizeof rnd + 2];
	int rc = fill_random(rnd, sizeof rnd);

	if (rc < 0)
		return netd_err_set(e, rc, NULL, "%s: no random bytes: %s", path, strerror(-rc));
	hex_encode(rnd, sizeof rnd, line);
	OPENSSL_cleanse(rnd, sizeof rnd);

	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		if (rc != -EEXIST)
			netd_err_set(e, rc, NULL, "%s: cannot create: %s", path, strerror(-rc));
		goto cleanup;
	}
	size_t hexlen = 2 * sizeof rnd;
	line[hexlen] = '\n';
	line[hexlen + 1] = '\0';
	rc = write_all(fd, line, hexlen + 1);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		netd_err_set(e, rc, NULL, "%s: cannot write: %s", path, strerror(-rc));
		unlink(path);
		goto cleanup;
	}
	line[hexlen] = '\0';
	snprintf(buf, cap, "%s", line);
cleanup:
	OPENSSL_cleanse(line, sizeof line);
	return rc;
}

/* Install @token as the only (admin) token if the lists are still empty. */
static int add_bootstrap_token(struct auth *a, const char *token)
{
	struct auth_token *t = calloc(1, sizeof *t);
	struct auth_user *u = NULL;

	if (!t)
		return -ENOMEM;
	if (sha256(token, strlen(token), t->sha256) < 0) {
		free(t);
		return -ENOMEM;
	}
	snprintf(t->name, sizeof t->name, "%s", AUTH_BOOTSTRAP_NAME);
	t->role = ROLE_ADMIN;

	pthread_rwlock_wrlock(&a->lock);
	if (a->n_users == 0 && a->n_tokens == 0)
		swap_lists_locked(a, &u, 0, &t, 1);
	pthread_rwlock_unlock(&a->lock);
	free(u);
	free(t); /* the old (empty) array, or ours if someone set lists meanwhile */
	return 0;
}

int auth_bootstrap(struct auth *a, const char *store_dir, struct netd_err *e)
{
	char path[4096];
	char token[AUTH_TOKEN_FILE_MAX];
	int rc;

	if (auth_count(a) > 0)
		return 0;
	int n = snprintf(path, sizeof path, "%s/%s", store_dir, AUTH_TOKEN_FILE);
	if (n < 0 || (size_t)n >= sizeof path)
		return netd_err_set(e, NETD_EINVAL, NULL, "%s/%s: path too long", store_dir, AUTH_TOKEN_FILE);

	rc = token_file_read(path, token, sizeof token, e);
	if (rc == -ENOENT) {
		rc = token_file_create(path, token, sizeof token, e);
		if (rc == -EEXIST) { /* lost a race with another netd: use its file */
			rc = token_file_read(path, token, sizeof token, e);
			if (rc == -ENOENT)
				rc = netd_err_set(e, rc, NULL, "%s: vanished while reading", path);
		}
	}
	if (rc < 0)
		goto cleanup;
	rc = add_bootstrap_token(a, token);
	if (rc < 0)
		netd_err_set(e, rc, NULL, "%s: %s", path, strerror(-rc));
cleanup:
	OPENSSL_cleanse(token, sizeof token);
	return rc;
}

/* ---- helpers ---------------------------------------------------------- */

int auth_hash_password(const char *password, char *out, size_t len)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = NULL;
	int rc = 0;

	if (!password || !out)
		return NETD_EINVAL;
	errno = 0;
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof setting))
		return errno ? -errno : NETD_EINVAL;
	cd = calloc(1, sizeof *cd);
	if (!cd)
		return -ENOMEM;
	errno = 0;
	const char *h = crypt_rn(password, setting, cd, (int)sizeof *cd);
	if (!h) {
		rc = errno ? -errno : NETD_EINVAL;
		goto cleanup;
	}
	if (strlen(h) >= len) {
		rc = -ERANGE;
		goto cleanup;
	}
	memcpy(out, h, strlen(h) + 1);
cleanup:
	OPENSSL_cleanse(cd, sizeof *cd);
	free(cd);
	return rc;
}

void auth_sha256_hex(const char *s, char out[65])
{
	uint8_t d[32];

	if (sha256(s, strlen(s), d) < 0) {
		out[0] = '\0';
		return;
	}
	hex_encode(d, sizeof d, out);
}

const char *auth_role_name(enum auth_role r)
{
	switch (r) {
	case ROLE_READ:
		return "read-only";
	case ROLE_ADMIN:
		return "admin";
	case ROLE_NONE:
		break;
	}
	return "none";
}

int auth_role_parse(const char *s, enum auth_role *out)
{
	enum auth_role r;

	if (!s)
		return NETD_EINVAL;
	if (strcmp(s, "read-only") == 0)
		r = ROLE_READ;
	else if (strcmp(s, "admin") == 0)
		r = ROLE_ADMIN;
	else
		return NETD_EINVAL;
	*out = r;
	return 0;
}
