/* tests/unit/test_store.c — core/store.c against a real LMDB in a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/store.h"

#define MIB (1024u * 1024u)

/* ---- fixtures ---- */

struct fx {
	char dir[256];
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/netd-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static struct store *open_ok(const char *dir, size_t map)
{
	struct store_opts o = { .initial_map_size = map, .no_sync = true };
	struct netd_err e = { 0 };
	struct store *s = NULL;
	int rc = store_open(dir, &o, &s, &e);

	if (rc != 0)
		fail_msg("store_open(%s): %d %s", dir, rc, e.msg);
	assert_non_null(s);
	return s;
}

/* A put/get callback argument. */
struct kv {
	store_tbl tbl;
	const char *k;
	const void *v;
	size_t vn;
};

static int put_fn(struct store_txn *t, void *arg)
{
	struct kv *kv = arg;
	return store_put(t, kv->tbl, kv->k, strlen(kv->k), kv->v, kv->vn);
}

static void put_str(struct store *s, store_tbl tbl, const char *k, const char *v)
{
	struct kv kv = { tbl, k, v, strlen(v) };
	assert_int_equal(store_update(s, put_fn, &kv), 0);
}

/* Expect @k to hold @v (NULL = absent) in a fresh read transaction. */
static void expect_str(struct store *s, store_tbl tbl, const char *k, const char *v)
{
	struct store_txn *t = NULL;
	struct store_val got = { 0 };
	int rc;

	assert_int_equal(store_read_begin(s, &t), 0);
	rc = store_get(t, tbl, k, strlen(k), &got);
	if (v) {
		assert_int_equal(rc, 0);
		assert_int_equal(got.n, strlen(v));
		assert_memory_equal(got.p, v, got.n);
	} else {
		assert_int_equal(rc, NETD_ENOTFOUND);
	}
	store_read_end(t);
}

/* ---- open, reopen, schema ---- */

static void test_open_reopen(void **state)
{
	struct fx *fx = *state;
	char dir[512];
	struct stat st;
	store_tbl t1, t2, t3;
	struct store *s;

	/* Parents are created like mkdir -p; the store directory is 0700. */
	snprintf(dir, sizeof(dir), "%s/a/b/store", fx->dir);
	s = open_ok(dir, 0);
	assert_string_equal(store_path(s), dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	assert_int_equal(store_table(s, "things", &t1), 0);
	assert_int_equal(store_table(s, "things", &t2), 0);
	assert_int_equal(t1, t2);
	assert_int_equal(store_table(s, "others", &t3), 0);
	assert_int_not_equal(t1, t3);
	put_str(s, t1, "hello", "world");
	put_str(s, t3, "hello", "other");
	store_close(s);

	s = open_ok(dir, 0);
	assert_int_equal(store_table(s, "things", &t1), 0);
	assert_int_equal(store_table(s, "others", &t3), 0);
	expect_str(s, t1, "hello", "world");
	expect_str(s, t3, "hello", "other");
	expect_str(s, t1, "nothing", NULL);
	store_close(s);
	store_close(NULL);
}

static void test_table_names(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_ok(fx->dir, 0);
	char longname[80];
	store_tbl t = 12345;

	memset(longname, 'x', 64);
	longname[64] = '\0';
	assert_int_equal(store_table(s, longname, &t), NETD_EINVAL);
	assert_int_equal(store_table(s, "", &t), NETD_EINVAL);
	assert_int_equal(t, 12345);
	longname[63] = '\0';
	assert_int_equal(store_table(s, longname, &t), 0);
	store_close(s);
}

static void test_schema_mismatch(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_ok(fx->dir, 0), *s2 = (struct store *)&s;
	struct store_opts o = { .no_sync = true };
	struct netd_err e = { 0 };
	const uint8_t v7[4] = { 0, 0, 0, 7 };
	store_tbl meta;
	struct kv kv;

	assert_int_equal(store_table(s, "meta", &meta), 0);
	kv = (struct kv){ meta, "schema", v7, sizeof(v7) };
	assert_int_equal(store_update(s, put_fn, &kv), 0);
	store_close(s);

	assert_int_equal(store_open(fx->dir, &o, &s2, &e), NETD_ESCHEMA);
	assert_ptr_equal(s2, (struct store *)&s);   /* not written on failure */
	assert_int_equal(e.code, NETD_ESCHEMA);
	assert_non_null(strstr(e.msg, fx->dir));
	assert_non_null(strstr(e.msg, "version 7"));
	assert_non_null(strstr(e.msg, "version 1"));
}

static void test_schema_bad_record(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_ok(fx->dir, 0), *s2 = NULL;
	struct netd_err e = { 0 };
	store_tbl meta;

	assert_int_equal(store_table(s, "meta", &meta), 0);
	put_str(s, meta, "schema", "one");
	store_close(s);
	assert_int_equal(store_open(fx->dir, NULL, &s2, &e), NETD_ESCHEMA);
	assert_null(s2);
	assert_non_null(strstr(e.msg, fx->dir));
}

static void test_not_lmdb(void **state)
{
	struct fx *fx = *state;
	struct store *s = NULL;
	struct netd_err e = { 0 };
	char path[512], junk[16384];
	int fd;

	snprintf(path, sizeof(path), "%s/data.mdb", fx->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(store_open(fx->dir, NULL, &s, &e), NETD_ESCHEMA);
	assert_null(s);
	assert_non_null(strstr(e.msg, fx->dir));
	assert_non_null(strstr(e.msg, "not an LMDB"));

	/* A regular file where the directory should be. */
	netd_err_clear(&e);
	assert_int_equal(store_open(path, NULL, &s, &e), -ENOTDIR);
	assert_null(s);
	assert_non_null(strstr(e.msg, path));
}

/* ---- growth ---- */

#define VAL_SIZE 10000

static void fill_val(uint8_t *buf, unsigned key)
{
	for (size_t i = 0; i < VAL_SIZE; i++)
		buf[i] = (uint8_t)(key * 31u + i);
}

static size_t key_of(char *buf, unsigned key)
{
	return (size_t)sprintf(buf, "k%08u", key);
}

struct bulk {
	store_tbl tbl;
	unsigned from, count;
	unsigned calls;
};

static int bulk_fn(struct store_txn *t, void *arg)
{
	struct bulk *b = arg;
	uint8_t val[VAL_SIZE];
	char key[32];

	b->calls++;
	for (unsigned i = b->from; i < b->from + b->count; i++) {
		size_t kn = key_of(key, i);
		int rc;

		fill_val(val, i);
		rc = store_put(t, b->tbl, key, kn, val, sizeof(val));
		if (rc)
			return rc;
	}
	return 0;
}

static void expect_bulk(struct store *s, store_tbl tbl, unsigned n)
{
	struct store_txn *t;
	uint8_t want[VAL_SIZE];
	char key[32];
	uint64_t cnt = 0;

	assert_int_equal(store_read_begin(s, &t), 0);
	assert_int_equal(store_count(t, tbl, &cnt), 0);
	assert_int_equal(cnt, n);
	for (unsigned i = 0; i < n; i++) {
		struct store_val v;
		size_t kn = key_of(key, i);

		assert_int_equal(store_get(t, tbl, key, kn, &v), 0);
		fill_val(want, i);
		assert_int_equal(v.n, VAL_SIZE);
		assert_memory_equal(v.p, want, VAL_SIZE);
	}
	store_read_end(t);
}

static void test_growth(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_ok(fx->dir, 1 * MIB);
	uint64_t map0 = 0, map1 = 0, used = 0;
	struct bulk b;
	store_tbl tbl;

	store_stats(s, &map0, &used);
	assert_int_equal(map0, 1 * MIB);
	assert_int_equal(store_table(s, "bulk", &tbl), 0);

	/* One transaction of 6 MB on a 1 MiB map: several doublings, fn rerun. */
	b = (struct bulk){ .tbl = tbl, .from = 0, .count = 600 };
	assert_int_equal(store_update(s, bulk_fn, &b), 0);
	assert_true(b.calls > 1);
	store_stats(s, &map1, &used);
	assert_true(map1 >= 8 * MIB);
	assert_true(used >= 6000000);

	/* Then ~20 MB through many small transactions. */
	for (unsigned i = 600; i < 2600; i += 10) {
		b = (struct bulk){ .tbl = tbl, .from = i, .count = 10 };
		assert_int_equal(store_update(s, bulk_fn, &b), 0);
	}
	store_stats(s, &map1, &used);
	assert_true(map1 >= 32 * MIB);
	assert_true(used >= 26000000);
	assert_true(used <= map1);
	expect_bulk(s, tbl, 2600);
	store_close(s);

	/* Reopen with the small initial size: the map is at least what is used. */
	s = open_ok(fx->dir, 1 * MIB);
	assert_int_equal(store_table(s, "bulk", &tbl), 0);
	store_stats(s, &map1, &used);
	assert_true(map1 >= used);
	expect_bulk(s, tbl, 2600);
	/* And it still grows from there. */
	b = (struct bulk){ .tbl = tbl, .from = 2600, .count = 400 };
	assert_int_equal(store_update(s, bulk_fn, &b), 0);
	expect_bulk(s, tbl, 3000);
	store_close(s);
}

struct reader {
	struct store *s;
	store_tbl tbl;
	atomic_bool stop;
	unsigned loops;
	int failed;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint8_t want[VAL_SIZE];

	fill_val(want, 0);
	while (!atomic_load(&r->stop)) {
		struct store_txn *t;
		struct store_val v;
		uint64_t map, used;

		if (store_read_begin(r->s, &t) != 0) {
			r->failed = 1;
			break;
		}
		if (store_get(t, r->tbl, "k00000000", 9, &v) != 0 ||
		    v.n != VAL_SIZE || memcmp(v.p, want, VAL_SIZE) != 0)
			r->failed = 2;
		store_read_end(t);
		store_stats(r->s, &map, &used);
		r->loops++;
		if (r->failed)
			break;
	}
	return NULL;
}

static void test_reader_during_growth(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_ok(fx->dir, 1 * MIB);
	struct reader r = { .s = s };
	uint64_t map = 0;
	pthread_t th;
	struct bulk b;

	assert_int_equal(store_table(s, "bulk", &r.tbl), 0);
	b = (struct bulk){ .tbl = r.tbl, .from = 0, .count = 1 };
	assert_int_equal(store_update(s, bulk_fn, &b), 0);
	atomic_init(&r.stop, false);
	assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
	for (unsigned i = 1; i < 1601; i += 8) {   /* keys 0..1600 */
		b = (struct bulk){ .tbl = r.tbl, .from = i, .count = 8 };
		assert_int_equal(store_update(s, bulk_fn, &b), 0);
	}
	atomic_store(&r.stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(r.failed, 0);
	assert_true(r.loops > 0);
	print_message("reader: %u read transactions during the growth\n", r.loops);
	store_stats(s, &map, NULL);
	assert_true(map >= 16 * MIB);
	expect_bulk(s, r.tbl, 1601);
	store_close(s);
}

/* ---- transactions ---- */

struct nest {
	store_tbl tbl;
	int rc_get_b;
};

static int nest_fn(struct store_txn *t, void *arg)
{
	struct nest *n = arg;
	struct store_txn *c = NULL;
	struct store_val v;
	int rc;

	if ((rc = store_put(t, n->tbl, "a", 1, "1", 1)))
		return rc;
	if ((rc = store_child_begin(t, &c)))
		return rc;
	if ((rc = store_put(c, n->tbl, "b", 1, "2", 1))) {
		store_child_abort(c);
		return rc;
	}
	store_child_abort(c);
	n->rc_get_b = store_get(t, n->tbl, "b", 1, &v);
	if ((rc = store_child_begin(t, &c)))
		return rc;
	if ((rc = store_put(c, n->tbl, "c", 1, "3", 1))) {
		store_child_abort(c);
		return rc;
	}
	/* The parent's writes are visible in the child. */
	if ((rc = store_get(c, n->tbl, "a", 1, &v))) {
		store_child_abort(c);
		return rc;
	}
	return store_child_commit(c);
}

static void test_nested(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_ok(fx->dir, 0);
	struct nest n = { 0 };

	assert_int_equal(store_table(s, "t", &n.tbl), 0);
	assert_int_equal(store_update(s, nest_fn, &n), 0);
	assert_int_equal(n.rc_get_b, NETD_ENOTFOUND);
	expect_str(s, n.tbl, "a", "1");
	expect_str(s, n.tbl, "b", NULL);
	expect_str(s, n.tbl, "c", "3");
	store_close(s);
}

static int fail_fn(struct store_txn *t, void *arg)
{
	store_tbl *tbl = arg;
	struct store_txn *c;
	int rc;

	if ((rc = store_put(t, *tbl, "x", 1, "1", 1)))
		return rc;
	if ((rc = store_child_begin(t, &c)))
		return rc;
	if ((rc = store_put(c, *tbl, "y", 1, "2", 1)) || (rc = store_child_commit(c)))
		return rc;
	return NETD_EINUSE;
}

static void test_fn_error_aborts(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_ok(fx->dir, 0);
	store_tbl tbl;

	assert_int_equal(store_table(s, "t", &tbl), 0);
	assert_int_equal(store_update(s, fail_fn, &tbl), NETD_EINUSE);
	expect_str(s, tbl, "x", NULL);
	expect_str(s, tbl, "y", NULL);
	store_close(s);
}

struct point {
	store_tbl tbl;
	int rc_del_absent, rc_empty_key, rc_get_deleted;
	uint64_t n0, n3, n2;
};

static int point_fn(struct store_txn *t, void *arg)
{
	struct point *p = arg;
	struct store_val v;
	int rc;

	if ((rc = store_count(t, p->tbl, &p->n0)))
		return rc;
	if ((rc = store_put(t, p->tbl, "a", 1, "", 0)) || (rc = store_put(t, p->tbl, "b", 1, "x", 1)) ||
	    (rc = store_put(t, p->tbl, "c", 1, "y", 1)) || (rc = store_put(t, p->tbl, "b", 1, "z", 1)))
		return rc;
	if ((rc = store_count(t, p->tbl, &p->n3)))
		return rc;
	if ((rc = store_del(t, p->tbl, "c", 1)))
		return rc;
	p->rc_get_deleted = store_get(t, p->tbl, "c", 1, &v);
	p->rc_del_absent = store_del(t, p->tbl, "c", 1);
	p->rc_empty_key = store_put(t, p->tbl, "", 0, "v", 1);
	return store_count(t, p->tbl, &p->n2);
}

static void test_point_and_count(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_ok(fx->dir, 0);
	struct point p = { 0 };
	struct store_txn *t;
	uint64_t n = 99;

	assert_int_equal(store_table(s, "t", &p.tbl), 0);
	assert_int_equal(store_update(s, point_fn, &p), 0);
	assert_int_equal(p.n0, 0);
	assert_int_equal(p.n3, 3);
	assert_int_equal(p.n2, 2);
	assert_int_equal(p.rc_get_deleted, NETD_ENOTFOUND);
	assert_int_equal(p.rc_del_absent, NETD_ENOTFOUND);
	assert_int_equal(p.rc_empty_key, NETD_EINVAL);
	expect_str(s, p.tbl, "a", "");
	expect_str(s, p.tbl, "b", "z");
	assert_int_equal(store_read_begin(s, &t), 0);
	assert_int_equal(store_count(t, p.tbl, &n), 0);
	assert_int_equal(n, 2);
	store_read_end(t);
	store_read_end(NULL);
	store_close(s);
}

/* ---- cursors ---- */

static const char *const ckeys[] = { "b", "d", "dd", "f" };
#define N_CKEYS (sizeof(ckeys) / sizeof(ckeys[0]))

static int fill_cursor_fn(struct store_txn *t, void *arg)
{
	store_tbl *tbl = arg;
	for (size_t i = 0; i < N_CKEYS; i++) {
		char v[8];
		int rc;

		snprintf(v, sizeof(v), "v%s", ckeys[i]);
		rc = store_put(t, *tbl, ckeys[i], strlen(ckeys[i]), v, strlen(v));
		if (rc)
			return rc;
	}
	return 0;
}

static void expect_key(int rc, const struct store_val *k, const char *want)
{
	if (!want) {
		assert_int_equal(rc, NETD_ENOTFOUND);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(k->n, strlen(want));
	assert_memory_equal(k->p, want, k->n);
}

static void test_cursor(void **state)
{
	static const struct { const char *seek, *want; } cases[] = {
		{ "a", "b" }, { "b", "b" }, { "c", "d" }, { "d", "d" }, { "da", "dd" },
		{ "dd", "dd" }, { "de", "f" }, { "f", "f" }, { "g", NULL }, { "\xff", NULL },
	};
	struct fx *fx = *state;
	struct store *s = open_ok(fx->dir, 0);
	struct store_cursor *c;
	struct store_txn *t;
	struct store_val k, v;
	store_tbl tbl, empty;

	assert_int_equal(store_table(s, "t", &tbl), 0);
	assert_int_equal(store_table(s, "empty", &empty), 0);
	assert_int_equal(store_update(s, fill_cursor_fn, &tbl), 0);
	assert_int_equal(store_read_begin(s, &t), 0);

	assert_int_equal(store_cursor_open(t, tbl, &c), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = store_cursor_seek(c, cases[i].seek, strlen(cases[i].seek), &k, &v);
		expect_key(rc, &k, cases[i].want);
		if (cases[i].want) {
			assert_int_equal(v.n, strlen(cases[i].want) + 1);
			assert_memory_equal((const char *)v.p + 1, cases[i].want, v.n - 1);
		}
	}
	/* Forward to the end, then NOTFOUND. */
	expect_key(store_cursor_first(c, &k, NULL), &k, "b");
	for (size_t i = 1; i < N_CKEYS; i++)
		expect_key(store_cursor_next(c, &k, NULL), &k, ckeys[i]);
	expect_key(store_cursor_next(c, &k, &v), &k, NULL);
	/* Backward from the last, then NOTFOUND. */
	expect_key(store_cursor_last(c, &k, NULL), &k, "f");
	for (size_t i = N_CKEYS - 1; i-- > 0;)
		expect_key(store_cursor_prev(c, &k, NULL), &k, ckeys[i]);
	expect_key(store_cursor_prev(c, &k, NULL), &k, NULL);
	/* NULL outputs are allowed. */
	assert_int_equal(store_cursor_seek(c, "c", 1, NULL, NULL), 0);
	expect_key(store_cursor_next(c, &k, NULL), &k, "dd");
	store_cursor_close(c);

	assert_int_equal(store_cursor_open(t, empty, &c), 0);
	expect_key(store_cursor_first(c, &k, &v), &k, NULL);
	expect_key(store_cursor_last(c, &k, &v), &k, NULL);
	expect_key(store_cursor_seek(c, "a", 1, &k, &v), &k, NULL);
	store_cursor_close(c);
	store_cursor_close(NULL);
	store_read_end(t);
	store_close(s);
}

struct cdel {
	store_tbl tbl;
	char after[8];
};

static int cursor_del_fn(struct store_txn *t, void *arg)
{
	struct cdel *cd = arg;
	struct store_cursor *c;
	struct store_val k;
	int rc;

	if ((rc = store_cursor_open(t, cd->tbl, &c)))
		return rc;
	if (!(rc = store_cursor_seek(c, "d", 1, NULL, NULL)) && !(rc = store_cursor_del(c)) &&
	    !(rc = store_cursor_next(c, &k, NULL)))
		snprintf(cd->after, sizeof(cd->after), "%.*s", (int)k.n, (const char *)k.p);
	store_cursor_close(c);
	return rc;
}

static void test_cursor_del(void **state)
{
	struct fx *fx = *state;
	struct store *s = open_ok(fx->dir, 0);
	struct cdel cd = { 0 };
	struct store_txn *t;
	uint64_t n;

	assert_int_equal(store_table(s, "t", &cd.tbl), 0);
	assert_int_equal(store_update(s, fill_cursor_fn, &cd.tbl), 0);
	assert_int_equal(store_update(s, cursor_del_fn, &cd), 0);
	assert_string_equal(cd.after, "dd");
	expect_str(s, cd.tbl, "d", NULL);
	assert_int_equal(store_read_begin(s, &t), 0);
	assert_int_equal(store_count(t, cd.tbl, &n), 0);
	assert_int_equal(n, N_CKEYS - 1);
	store_read_end(t);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_bad_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_lmdb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_during_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fn_error_aborts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_point_and_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_del, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
