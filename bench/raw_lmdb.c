/* bench/raw_lmdb.c — the raw LMDB peer of netd's durable writes.
 *
 *   raw_lmdb single DIR SECONDS MAX   one allocation record per committed
 *                                     txn, for SECONDS or MAX puts (new
 *                                     keys after those already in DIR)
 *   raw_lmdb batch DIR NODES PER_TXN  per node: its node record and three
 *                                     allocation records, PER_TXN records
 *                                     per committed txn
 *
 * The environment uses LMDB's defaults (durable: fsync at every commit) in
 * DIR (created if missing), which must be on the same filesystem as netd's store.  Keys and values
 * are netd's own encodings (core/model.h) so the sizes match what netd
 * writes; only the put path differs.  Prints
 *     RESULT records=N secs=S rate=R key_bytes=K val_bytes=V
 * (K and V: mean key and value sizes).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "bench/bench.h"
#include "core/model.h"

#define MAP_SIZE (4ull << 30)

struct raw {
	MDB_env *env;
	MDB_dbi node_db, alloc_db;
	MDB_txn *txn;        /* the open write txn, or NULL */
	size_t in_txn;       /* records put in it */
	uint64_t records;
	uint64_t key_bytes, val_bytes;
};

static int lmdb_fail(const char *what, int rc)
{
	fprintf(stderr, "raw_lmdb: %s: %s\n", what, mdb_strerror(rc));
	return -1;
}

static int open_dbs(struct raw *r)
{
	MDB_txn *t;
	int rc = mdb_txn_begin(r->env, NULL, 0, &t);
	if (rc)
		return lmdb_fail("txn_begin", rc);
	if ((rc = mdb_dbi_open(t, "node", MDB_CREATE, &r->node_db)) ||
	    (rc = mdb_dbi_open(t, "alloc", MDB_CREATE, &r->alloc_db))) {
		mdb_txn_abort(t);
		return lmdb_fail("dbi_open", rc);
	}
	rc = mdb_txn_commit(t);
	return rc ? lmdb_fail("commit", rc) : 0;
}

static int raw_open(struct raw *r, const char *dir)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		perror(dir);
		return -1;
	}
	int rc = mdb_env_create(&r->env);
	if (rc)
		return lmdb_fail("env_create", rc);
	if ((rc = mdb_env_set_maxdbs(r->env, 4)) || (rc = mdb_env_set_mapsize(r->env, MAP_SIZE)))
		return lmdb_fail("env_set", rc);
	if ((rc = mdb_env_open(r->env, dir, 0, 0600)))
		return lmdb_fail(dir, rc);
	return open_dbs(r);
}

static void raw_close(struct raw *r)
{
	if (r->txn)
		mdb_txn_abort(r->txn);
	if (r->env)
		mdb_env_close(r->env);
}

static int raw_commit(struct raw *r)
{
	if (!r->txn)
		return 0;
	int rc = mdb_txn_commit(r->txn);
	r->txn = NULL;
	r->in_txn = 0;
	return rc ? lmdb_fail("commit", rc) : 0;
}

/* Put one record, committing once @per_txn records are in the txn. */
static int raw_put(struct raw *r, MDB_dbi db, const void *k, size_t kn, const void *v, size_t vn, size_t per_txn)
{
	MDB_val key = { kn, (void *)k }, val = { vn, (void *)v };
	int rc;
	if (!r->txn && (rc = mdb_txn_begin(r->env, NULL, 0, &r->txn)))
		return lmdb_fail("txn_begin", rc);
	if ((rc = mdb_put(r->txn, db, &key, &val, 0)))
		return lmdb_fail("put", rc);
	r->records++;
	r->key_bytes += kn;
	r->val_bytes += vn;
	if (++r->in_txn >= per_txn)
		return raw_commit(r);
	return 0;
}

/* An allocation record like the ones ipam writes, for address @a. */
static int put_alloc(struct raw *r, const char *net, const struct addr *a, const char *owner, uint8_t kind,
		     const char *range, size_t per_txn)
{
	struct model_alloc rec = { .addr = *a, .owner_kind = kind, .state = ALLOC_ACTIVE, .allocated_at = 1795000000 };
	uint8_t key[MODEL_ALLOC_KEY_MAX];
	struct codec_w w;
	snprintf(rec.network, sizeof rec.network, "%s", net);
	snprintf(rec.owner, sizeof rec.owner, "%s", owner);
	snprintf(rec.range, sizeof rec.range, "%s", range);
	codec_w_init(&w);
	model_alloc_encode(&rec, &w);
	int rc = w.err ? -1 : raw_put(r, r->alloc_db, key, model_alloc_key(key, net, a), w.buf, w.len, per_txn);
	codec_w_free(&w);
	return rc;
}

/* The node record netd stores for @name attached to admin and storage. */
static int put_node(struct raw *r, const char *name, size_t per_txn)
{
	struct model_attach nets[2] = { { .network = "admin" }, { .network = "storage" } };
	struct model_node n = { .nets = nets, .n_nets = 2, .created = 1795000000 };
	struct codec_w w;
	snprintf(n.name, sizeof n.name, "%s", name);
	codec_w_init(&w);
	model_node_encode(&n, &w);
	int rc = w.err ? -1 : raw_put(r, r->node_db, name, strlen(name), w.buf, w.len, per_txn);
	codec_w_free(&w);
	return rc;
}

static void v4_addr(struct addr *a, uint8_t first_octet, uint32_t i)
{
	uint8_t b[4] = { first_octet, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
	addr_from_bytes(a, ADDR_V4, b);
}

static void v6_addr(struct addr *a, uint32_t i)
{
	uint8_t b[16] = { 0xfd, 0x12, 0x34, 0x56, 0x78, 0x9a, 0, 1 };
	uint32_t h = i * 2654435761u;   /* scattered, like derived host parts */
	memcpy(b + 8, &h, 4);
	memcpy(b + 12, &i, 4);
	addr_from_bytes(a, ADDR_V6, b);
}

static void print_result(const struct raw *r, double secs)
{
	double n = r->records ? (double)r->records : 1;
	printf("RESULT records=%llu secs=%.3f rate=%.1f key_bytes=%.1f val_bytes=%.1f\n",
	       (unsigned long long)r->records, secs, (double)r->records / secs, (double)r->key_bytes / n,
	       (double)r->val_bytes / n);
}

/* Entries already in the alloc table: a rerun on the same DIR appends. */
static int alloc_entries(struct raw *r, uint32_t *out)
{
	MDB_txn *t;
	MDB_stat st;
	int rc = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &t);
	if (rc)
		return lmdb_fail("txn_begin", rc);
	rc = mdb_stat(t, r->alloc_db, &st);
	mdb_txn_abort(t);
	if (rc)
		return lmdb_fail("stat", rc);
	*out = (uint32_t)st.ms_entries;
	return 0;
}

static int run_single(struct raw *r, double secs, uint64_t max)
{
	char owner[32];
	struct addr a;
	uint32_t first = 0;
	if (alloc_entries(r, &first) < 0)
		return -1;
	double t0 = bench_now(), t1 = t0;
	for (uint32_t i = first; i - first < max && t1 - t0 < secs; i++) {
		snprintf(owner, sizeof owner, "vip-%06u", i);
		v4_addr(&a, 10, 10 + i);
		if (put_alloc(r, "vipnet", &a, owner, OWNER_VIP, "host", 1) < 0)
			return -1;
		t1 = bench_now();
	}
	print_result(r, t1 - t0);
	return 0;
}

static int put_node_set(struct raw *r, uint32_t i, size_t per_txn)
{
	char name[32];
	struct addr a4, s4, a6;
	snprintf(name, sizeof name, "n%06u", i);
	v4_addr(&a4, 10, 10 + i);
	v4_addr(&s4, 12, 10 + i);
	v6_addr(&a6, i);
	if (put_node(r, name, per_txn) < 0 || put_alloc(r, "admin", &a4, name, OWNER_NODE, "host", per_txn) < 0 ||
	    put_alloc(r, "admin", &a6, name, OWNER_NODE, "", per_txn) < 0 ||
	    put_alloc(r, "storage", &s4, name, OWNER_NODE, "host", per_txn) < 0)
		return -1;
	return 0;
}

static int run_batch(struct raw *r, uint32_t nodes, size_t per_txn)
{
	double t0 = bench_now();
	for (uint32_t i = 0; i < nodes; i++)
		if (put_node_set(r, i, per_txn) < 0)
			return -1;
	if (raw_commit(r) < 0)
		return -1;
	print_result(r, bench_now() - t0);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: raw_lmdb single DIR SECONDS MAX | raw_lmdb batch DIR NODES PER_TXN\n");
}

int main(int argc, char **argv)
{
	struct raw r = { 0 };
	int rc = -1;
	if (argc != 5 || (strcmp(argv[1], "single") && strcmp(argv[1], "batch"))) {
		usage();
		return 64;
	}
	if (raw_open(&r, argv[2]) == 0) {
		if (!strcmp(argv[1], "single"))
			rc = run_single(&r, atof(argv[3]), strtoull(argv[4], NULL, 10));
		else
			rc = run_batch(&r, (uint32_t)strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
	}
	raw_close(&r);
	return rc < 0 ? 1 : 0;
}
