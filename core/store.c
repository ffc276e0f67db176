/* core/store.c — the store on LMDB.
 *
 * One environment (MDB_NOTLS, up to 64 named databases), one database per
 * table.  This file is the only place that sees LMDB: every LMDB or errno
 * code is translated once, by store_errno(), into netd's negative codes.
 *
 * Concurrency (three locks, always taken in this order):
 *   wmu   serializes store_update() and store_table() calls in this process.
 *         LMDB serializes writers too, but we need the writer to hold its
 *         turn across "abort, grow the map, retry".
 *   gate  every transaction (read or write) holds the gate "shared" for its
 *         whole life; growing the map holds it "exclusive", because
 *         mdb_env_set_mapsize() remaps the file and may only run with no
 *         transaction active in this process.  A small mutex + condvar
 *         rather than a pthread_rwlock: a read transaction may be ended by
 *         another thread than the one that began it (MDB_NOTLS), and a
 *         rwlock may only be unlocked by its holder.  A waiting grower blocks
 *         new transactions (writer preference) so that busy readers cannot
 *         starve it.
 *   LMDB's own reader table and writer mutex.
 *
 * Caveat (see also store.h): a thread that holds a transaction must not begin
 * another one (store_read_begin, store_update, store_table) — if the map has
 * to grow meanwhile, the grower waits for the first transaction to end and
 * the second waits for the grower.
 */
#include "core/store.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "core/log.h"

#define STORE_DEFAULT_MAP (64u << 20)
#define STORE_MAX_DBS 64
#define STORE_TABLE_NAME_MAX 63
#define STORE_SCHEMA_KEY "schema"

enum {
	TXN_RDONLY = 1u << 0,
	TXN_CHILD = 1u << 1,
};

/* Shared/exclusive gate, not tied to threads (see the top comment). */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned active;        /* transactions holding the gate */
	unsigned grow_waiting;  /* growers waiting for active == 0 */
	bool growing;
};

struct store {
	MDB_env *env;
	char *path;
	pthread_mutex_t wmu;
	struct gate gate;
};

struct store_txn {
	MDB_txn *txn;
	struct store *s;
	unsigned flags;
};

struct store_cursor {
	MDB_cursor *c;
};

/* ---- error translation (the only place LMDB codes are seen) ---- */

/* LMDB's error codes lie in [MDB_KEYEXIST, MDB_LAST_ERRCODE]; anything
 * positive is an errno value. */
static int store_errno(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return NETD_ENOTFOUND;
	case MDB_MAP_FULL:
		return NETD_EMAPFULL;
	case MDB_KEYEXIST:
		return NETD_EEXIST;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID:
		return NETD_ESCHEMA;
	case MDB_BAD_VALSIZE:
		return NETD_EINVAL;   /* empty key, or key longer than 511 bytes */
	default:
		break;
	}
	if (rc > 0)
		return -rc;
	return NETD_ESTORE;
}

/* ---- the gate ---- */

static int gate_init(struct gate *g)
{
	int rc = pthread_mutex_init(&g->mu, NULL);
	if (rc)
		return -rc;
	rc = pthread_cond_init(&g->cv, NULL);
	if (rc) {
		pthread_mutex_destroy(&g->mu);
		return -rc;
	}
	g->active = 0;
	g->grow_waiting = 0;
	g->growing = false;
	return 0;
}

static void gate_destroy(struct gate *g)
{
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
}

/* Take the gate shared: waits while a grower runs or waits. */
static void gate_enter(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	while (g->growing || g->grow_waiting > 0)
		pthread_cond_wait(&g->cv, &g->mu);
	g->active++;
	pthread_mutex_unlock(&g->mu);
}

static void gate_leave(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->active--;
	if (g->active == 0)
		pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* Take the gate exclusive: waits until no transaction is active. */
static void gate_grow_begin(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->grow_waiting++;
	while (g->active > 0 || g->growing)
		pthread_cond_wait(&g->cv, &g->mu);
	g->grow_waiting--;
	g->growing = true;
	pthread_mutex_unlock(&g->mu);
}

static void gate_grow_end(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->growing = false;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* ---- opening ---- */

/* mkdir -p: parents get 0755 (minus umask), the store directory 0700. */
static int make_dirs(const char *dir)
{
	char *tmp = strdup(dir);
	int rc = 0;

	if (!tmp)
		return -ENOMEM;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			goto cleanup;
		}
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		rc = -errno;
cleanup:
	free(tmp);
	return rc;
}

static int check_dir(const char *dir, struct netd_err *e)
{
	struct stat st;
	int rc = make_dirs(dir);

	if (rc < 0)
		return netd_err_set(e, rc, NULL, "cannot create store directory %s: %s",
				    dir, netd_strerror(rc));
	if (stat(dir, &st) < 0) {
		rc = -errno;
		return netd_err_set(e, rc, NULL, "cannot stat store directory %s: %s",
				    dir, netd_strerror(rc));
	}
	if (!S_ISDIR(st.st_mode))
		return netd_err_set(e, -ENOTDIR, NULL, "store path %s is not a directory", dir);
	return 0;
}

static int env_open(struct store *s, const struct store_opts *opts, struct netd_err *e)
{
	size_t map = opts && opts->initial_map_size ? opts->initial_map_size : STORE_DEFAULT_MAP;
	unsigned flags = MDB_NOTLS | (opts && opts->no_sync ? MDB_NOSYNC : 0);
	int dead = 0;
	int rc;

	rc = mdb_env_create(&s->env);
	if (rc)
		return netd_err_set(e, store_errno(rc), NULL, "cannot create LMDB environment: %s",
				    mdb_strerror(rc));
	if ((rc = mdb_env_set_maxdbs(s->env, STORE_MAX_DBS)) ||
	    (rc = mdb_env_set_mapsize(s->env, map)))
		return netd_err_set(e, store_errno(rc), NULL, "cannot configure store %s: %s",
				    s->path, mdb_strerror(rc));
	rc = mdb_env_open(s->env, s->path, flags, 0600);
	if (rc == MDB_INVALID)
		return netd_err_set(e, NETD_ESCHEMA, NULL,
				    "store %s: data.mdb is not an LMDB file or is corrupt", s->path);
	if (rc == MDB_VERSION_MISMATCH)
		return netd_err_set(e, NETD_ESCHEMA, NULL,
				    "store %s was written by an incompatible LMDB version", s->path);
	if (rc)
		return netd_err_set(e, store_errno(rc), NULL, "cannot open store %s: %s",
				    s->path, mdb_strerror(rc));
	/* Free reader slots left behind by crashed processes. */
	mdb_reader_check(s->env, &dead);
	return 0;
}

struct schema_check {
	bool bad_len;
	uint32_t found;
};

static void be32_put(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint32_t be32_get(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* store_update callback: read the schema record, or write it on a fresh store. */
static int schema_fn(struct store_txn *t, void *arg)
{
	struct schema_check *sc = arg;
	uint8_t want[4];
	struct store_val v;
	store_tbl meta;
	MDB_dbi dbi;
	int rc;

	rc = mdb_dbi_open(t->txn, "meta", MDB_CREATE, &dbi);
	if (rc)
		return store_errno(rc);
	meta = dbi;
	rc = store_get(t, meta, STORE_SCHEMA_KEY, strlen(STORE_SCHEMA_KEY), &v);
	if (rc == NETD_ENOTFOUND) {
		be32_put(want, STORE_SCHEMA_VERSION);
		sc->found = STORE_SCHEMA_VERSION;
		return store_put(t, meta, STORE_SCHEMA_KEY, strlen(STORE_SCHEMA_KEY), want, sizeof(want));
	}
	if (rc < 0)
		return rc;
	if (v.n != 4) {
		sc->bad_len = true;
		return NETD_ESCHEMA;
	}
	sc->found = be32_get(v.p);
	return sc->found == STORE_SCHEMA_VERSION ? 0 : NETD_ESCHEMA;
}

static int check_schema(struct store *s, struct netd_err *e)
{
	struct schema_check sc = { 0 };
	int rc = store_update(s, schema_fn, &sc);

	if (rc == NETD_ESCHEMA && sc.bad_len)
		return netd_err_set(e, rc, NULL, "store %s has an unreadable schema record", s->path);
	if (rc == NETD_ESCHEMA)
		return netd_err_set(e, rc, NULL,
				    "store %s has schema version %u, this netd reads version %u",
				    s->path, (unsigned)sc.found, STORE_SCHEMA_VERSION);
	if (rc < 0)
		return netd_err_set(e, rc, NULL, "cannot check the schema of store %s: %s",
				    s->path, netd_strerror(rc));
	return 0;
}

int store_open(const char *dir, const struct store_opts *opts,
	       struct store **out, struct netd_err *e)
{
	struct store *s = NULL;
	bool gate_ok = false, wmu_ok = false;
	int rc;

	if (!dir || !*dir)
		return netd_err_set(e, NETD_EINVAL, NULL, "store directory not given");
	rc = check_dir(dir, e);
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(dir))) {
		rc = netd_err_set(e, -ENOMEM, NULL, "out of memory opening store %s", dir);
		goto cleanup;
	}
	rc = pthread_mutex_init(&s->wmu, NULL);
	if (rc) {
		rc = netd_err_set(e, -rc, NULL, "cannot create store lock");
		goto cleanup;
	}
	wmu_ok = true;
	rc = gate_init(&s->gate);
	if (rc < 0) {
		rc = netd_err_set(e, rc, NULL, "cannot create store lock");
		goto cleanup;
	}
	gate_ok = true;
	rc = env_open(s, opts, e);
	if (rc < 0)
		goto cleanup;
	rc = check_schema(s, e);
	if (rc < 0)
		goto cleanup;
	*out = s;
	return 0;
cleanup:
	if (s) {
		if (s->env)
			mdb_env_close(s->env);
		if (gate_ok)
			gate_destroy(&s->gate);
		if (wmu_ok)
			pthread_mutex_destroy(&s->wmu);
		free(s->path);
		free(s);
	}
	return rc;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	mdb_env_close(s->env);
	gate_destroy(&s->gate);
	pthread_mutex_destroy(&s->wmu);
	free(s->path);
	free(s);
}

const char *store_path(const struct store *s)
{
	return s->path;
}

struct table_open {
	const char *name;
	MDB_dbi dbi;
};

static int table_fn(struct store_txn *t, void *arg)
{
	struct table_open *to = arg;
	return store_errno(mdb_dbi_open(t->txn, to->name, MDB_CREATE, &to->dbi));
}

int store_table(struct store *s, const char *name, store_tbl *out)
{
	struct table_open to = { .name = name };
	int rc;

	if (!name || !*name || strlen(name) > STORE_TABLE_NAME_MAX)
		return NETD_EINVAL;
	rc = store_update(s, table_fn, &to);
	if (rc < 0)
		return rc;
	*out = to.dbi;
	return 0;
}

void store_stats(struct store *s, uint64_t *map_size, uint64_t *used_bytes)
{
	MDB_envinfo info;
	MDB_stat st;

	gate_enter(&s->gate);
	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	gate_leave(&s->gate);
	if (map_size)
		*map_size = info.me_mapsize;
	if (used_bytes)
		*used_bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
}

uint64_t store_txn_generation(struct store_txn *t)
{
	return (uint64_t)mdb_txn_id(t->txn);
}

uint64_t store_generation(struct store *s)
{
	MDB_envinfo info;

	gate_enter(&s->gate);
	mdb_env_info(s->env, &info);
	gate_leave(&s->gate);
	return (uint64_t)info.me_last_txnid;
}

/* ---- transactions ---- */

int store_read_begin(struct store *s, struct store_txn **out)
{
	struct store_txn *t = malloc(sizeof(*t));
	int rc;

	if (!t)
		return -ENOMEM;
	gate_enter(&s->gate);
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &t->txn);
	if (rc) {
		gate_leave(&s->gate);
		free(t);
		return store_errno(rc);
	}
	t->s = s;
	t->flags = TXN_RDONLY;
	*out = t;
	return 0;
}

void store_read_end(struct store_txn *t)
{
	if (!t)
		return;
	mdb_txn_abort(t->txn);
	gate_leave(&t->s->gate);
	free(t);
}

/* Double the map. Called with wmu held and no transaction of ours active. */
static int store_grow(struct store *s)
{
	MDB_envinfo info;
	size_t old, next = 0;
	int rc;

	gate_grow_begin(&s->gate);
	mdb_env_info(s->env, &info);
	old = info.me_mapsize;
	if (old > SIZE_MAX / 2) {
		rc = NETD_EMAPFULL;
	} else {
		next = old * 2;
		rc = store_errno(mdb_env_set_mapsize(s->env, next));
	}
	gate_grow_end(&s->gate);
	if (rc == 0)
		log_info("store %s: map grown from %zu to %zu MiB", s->path, old >> 20, next >> 20);
	return rc;
}

/* One attempt: begin, run @fn, commit or abort. */
static int update_once(struct store *s, int (*fn)(struct store_txn *t, void *arg), void *arg)
{
	struct store_txn t = { .s = s, .flags = 0 };
	int rc;

	gate_enter(&s->gate);
	rc = mdb_txn_begin(s->env, NULL, 0, &t.txn);
	if (rc) {
		rc = store_errno(rc);
		goto cleanup;
	}
	rc = fn(&t, arg);
	if (rc != 0)
		mdb_txn_abort(t.txn);
	else
		rc = store_errno(mdb_txn_commit(t.txn));
cleanup:
	gate_leave(&s->gate);
	return rc;
}

int store_update(struct store *s, int (*fn)(struct store_txn *t, void *arg), void *arg)
{
	int rc;

	pthread_mutex_lock(&s->wmu);
	for (;;) {
		rc = update_once(s, fn, arg);
		if (rc != NETD_EMAPFULL)
			break;
		rc = store_grow(s);
		if (rc < 0)
			break;
	}
	pthread_mutex_unlock(&s->wmu);
	return rc;
}

int store_child_begin(struct store_txn *parent, struct store_txn **out)
{
	struct store_txn *t;
	int rc;

	if (parent->flags & TXN_RDONLY)
		return NETD_EINVAL;
	t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	rc = mdb_txn_begin(parent->s->env, parent->txn, 0, &t->txn);
	if (rc) {
		free(t);
		return store_errno(rc);
	}
	t->s = parent->s;
	t->flags = TXN_CHILD;
	*out = t;
	return 0;
}

int store_child_commit(struct store_txn *child)
{
	int rc = store_errno(mdb_txn_commit(child->txn));
	free(child);
	return rc;
}

void store_child_abort(struct store_txn *child)
{
	if (!child)
		return;
	mdb_txn_abort(child->txn);
	free(child);
}

/* ---- point access ---- */

static MDB_val mval(const void *p, size_t n)
{
	MDB_val v = { .mv_size = n, .mv_data = (void *)p };
	return v;
}

int store_get(struct store_txn *t, store_tbl tbl, const void *k, size_t kn, struct store_val *out)
{
	MDB_val key = mval(k, kn), val;
	int rc = mdb_get(t->txn, tbl, &key, &val);

	if (rc)
		return store_errno(rc);
	out->p = val.mv_data;
	out->n = val.mv_size;
	return 0;
}

int store_put(struct store_txn *t, store_tbl tbl, const void *k, size_t kn, const void *v, size_t vn)
{
	MDB_val key = mval(k, kn), val = mval(v, vn);
	return store_errno(mdb_put(t->txn, tbl, &key, &val, 0));
}

int store_del(struct store_txn *t, store_tbl tbl, const void *k, size_t kn)
{
	MDB_val key = mval(k, kn);
	return store_errno(mdb_del(t->txn, tbl, &key, NULL));
}

int store_count(struct store_txn *t, store_tbl tbl, uint64_t *out)
{
	MDB_stat st;
	int rc = mdb_stat(t->txn, tbl, &st);

	if (rc)
		return store_errno(rc);
	*out = st.ms_entries;
	return 0;
}

/* ---- cursors ---- */

int store_cursor_open(struct store_txn *t, store_tbl tbl, struct store_cursor **out)
{
	struct store_cursor *c = malloc(sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	rc = mdb_cursor_open(t->txn, tbl, &c->c);
	if (rc) {
		free(c);
		return store_errno(rc);
	}
	*out = c;
	return 0;
}

void store_cursor_close(struct store_cursor *c)
{
	if (!c)
		return;
	mdb_cursor_close(c->c);
	free(c);
}

static int cursor_get(struct store_cursor *c, MDB_val *key, MDB_cursor_op op,
		      struct store_val *k_out, struct store_val *v_out)
{
	MDB_val val;
	int rc = mdb_cursor_get(c->c, key, &val, op);

	if (rc)
		return store_errno(rc);
	if (k_out) {
		k_out->p = key->mv_data;
		k_out->n = key->mv_size;
	}
	if (v_out) {
		v_out->p = val.mv_data;
		v_out->n = val.mv_size;
	}
	return 0;
}

int store_cursor_seek(struct store_cursor *c, const void *k, size_t kn,
		      struct store_val *key, struct store_val *val)
{
	MDB_val mk = mval(k, kn);
	return cursor_get(c, &mk, MDB_SET_RANGE, key, val);
}

int store_cursor_first(struct store_cursor *c, struct store_val *key, struct store_val *val)
{
	MDB_val mk = { 0 };
	return cursor_get(c, &mk, MDB_FIRST, key, val);
}

int store_cursor_last(struct store_cursor *c, struct store_val *key, struct store_val *val)
{
	MDB_val mk = { 0 };
	return cursor_get(c, &mk, MDB_LAST, key, val);
}

int store_cursor_next(struct store_cursor *c, struct store_val *key, struct store_val *val)
{
	MDB_val mk = { 0 };
	return cursor_get(c, &mk, MDB_NEXT, key, val);
}

int store_cursor_prev(struct store_cursor *c, struct store_val *key, struct store_val *val)
{
	MDB_val mk = { 0 };
	return cursor_get(c, &mk, MDB_PREV, key, val);
}

int store_cursor_del(struct store_cursor *c)
{
	return store_errno(mdb_cursor_del(c->c, 0));
}
