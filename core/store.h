/* core/store.h — the store: ordered key/value tables with transactions.
 *
 * The only way any module reaches persistent state.  Today one LMDB
 * environment (one named database per table); the interface is kept small so
 * that another backend (etcd) can stand behind it later.
 *
 * Model: one writer at a time, any number of MVCC readers.  Every write goes
 * through store_update(), which runs a callback inside a write transaction and
 * commits it durably; if the map is full it aborts, grows the map and calls the
 * callback again, so the callback must not leave side effects outside the
 * transaction that a second call would repeat.  Read transactions may be used
 * from any thread (MDB_NOTLS) but by one thread at a time.
 *
 * Keys are compared bytewise (memcmp, shorter first on a tie), so big-endian
 * integers and NUL-terminated name prefixes sort as expected.
 *
 * Caveats:
 *  - Values returned by get/cursor calls point into the map and are valid only
 *    until the transaction ends or the next write to that table in it.
 *  - Tables must be opened with store_table() before any request is served:
 *    LMDB forbids opening a database concurrently with other transactions.
 *  - Close every cursor before its transaction (or child) ends: LMDB frees
 *    write-transaction cursors at commit/abort, so closing one later is a
 *    use-after-free.  Likewise end child transactions before the callback
 *    of store_update() returns.
 *  - A thread holding a transaction must not begin another one
 *    (store_read_begin, store_update, store_table): growing the map waits
 *    for every transaction to end and blocks new ones meanwhile, so the
 *    second begin would deadlock against a growth.
 *  - Never keep a store across fork().
 */
#ifndef NETD_CORE_STORE_H
#define NETD_CORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Version of the key layout and record encodings. A store with another
 * version is refused by store_open() with NETD_ESCHEMA and a clear message. */
#define STORE_SCHEMA_VERSION 1u

struct store;
struct store_txn;
struct store_cursor;
typedef unsigned store_tbl;   /* table handle from store_table() */

struct store_val {
	const void *p;
	size_t n;
};

struct store_opts {
	size_t initial_map_size; /* bytes; 0 = 64 MiB. Grows by doubling when full. */
	bool no_sync;            /* tests/benchmarks only: skip fsync on commit */
};

/* Open (creating if needed) the store in directory @dir (created if missing,
 * mode 0700). Checks or writes the schema record. On failure *out is not
 * written and @e says why (e.g. "store ./var/netd has schema version 7, this
 * netd reads version 1"). */
int store_open(const char *dir, const struct store_opts *opts,
	       struct store **out, struct netd_err *e);
void store_close(struct store *s);  /* accepts NULL; no transaction may be open */

/* Open or create the table @name (<= 63 chars) and return its handle.
 * Call at start-up only (see Caveats). The same name gives the same handle. */
int store_table(struct store *s, const char *name, store_tbl *out);

/* Current map size and bytes in use, for status and metrics. */
void store_stats(struct store *s, uint64_t *map_size, uint64_t *used_bytes);
const char *store_path(const struct store *s);
/* The id of the last committed write transaction: it changes with every
 * commit, so data read at one generation is current while it is unchanged. */
uint64_t store_generation(struct store *s);
/* The generation a read transaction sees (its snapshot's commit id): data
 * read in @t is current exactly while store_generation() equals it. */
uint64_t store_txn_generation(struct store_txn *t);

/* Read transactions. */
int store_read_begin(struct store *s, struct store_txn **out);
void store_read_end(struct store_txn *t);  /* accepts NULL */

/* Run @fn(txn, arg) in one write transaction and commit it durably.
 * If @fn returns non-zero the transaction is aborted and that code returned.
 * NETD_EMAPFULL from @fn or from commit grows the map and retries (@fn is
 * called again from scratch). */
int store_update(struct store *s, int (*fn)(struct store_txn *t, void *arg), void *arg);

/* Nested write transactions inside store_update()'s callback: a child can be
 * aborted without losing the parent's work (used for group commit: many
 * requests, one fsync). */
int store_child_begin(struct store_txn *parent, struct store_txn **out);
int store_child_commit(struct store_txn *child);
void store_child_abort(struct store_txn *child);

/* Point reads and writes. get returns NETD_ENOTFOUND when absent.
 * put/del return NETD_EMAPFULL when the map is full (let it propagate). */
int store_get(struct store_txn *t, store_tbl tbl, const void *k, size_t kn, struct store_val *out);
int store_put(struct store_txn *t, store_tbl tbl, const void *k, size_t kn, const void *v, size_t vn);
int store_del(struct store_txn *t, store_tbl tbl, const void *k, size_t kn); /* NETD_ENOTFOUND if absent */

/* Cursors. Every positioning call returns 0 with key/val filled (either may
 * be NULL), or NETD_ENOTFOUND when there is no such entry. */
int store_cursor_open(struct store_txn *t, store_tbl tbl, struct store_cursor **out);
void store_cursor_close(struct store_cursor *c);  /* accepts NULL */
int store_cursor_seek(struct store_cursor *c, const void *k, size_t kn,
		      struct store_val *key, struct store_val *val); /* first key >= k */
int store_cursor_first(struct store_cursor *c, struct store_val *key, struct store_val *val);
int store_cursor_last(struct store_cursor *c, struct store_val *key, struct store_val *val);
int store_cursor_next(struct store_cursor *c, struct store_val *key, struct store_val *val);
int store_cursor_prev(struct store_cursor *c, struct store_val *key, struct store_val *val);
/* Delete the entry under the cursor. */
int store_cursor_del(struct store_cursor *c);

/* Number of entries in a table. */
int store_count(struct store_txn *t, store_tbl tbl, uint64_t *out);

#endif
