/* netd/dnsd_int.h — private to netd/dnsd*.c: the service's state, its
 * configuration as read from the dns document, the store encodings of
 * record sets, outbox entries and record states.  The contract of the
 * service is in netd/dnsd.h.
 *
 * Files:
 *   dnsd.c         life cycle, hooks for the faces (state, RPCs, figures)
 *   dnsd_conf.c    the dns document -> struct dnsd_conf; its checks
 *   dnsd_store.c   encodings and table helpers
 *   dnsd_intent.c  derivation into intent + outbox + states (dnsd_txn)
 *   dnsd_worker.c  the delivery worker: windows, verification, checks
 *
 * Locking: struct dnsd's mutex guards the wake-up flags and the zones'
 * run-time status (zst); everything else the worker owns.  The hooks
 * never wait for the worker.
 */
#ifndef NETD_DNSD_INT_H
#define NETD_DNSD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "core/codec.h"
#include "core/store.h"
#include "dns/deliver.h"
#include "dns/dns.h"
#include "dns/verify.h"
#include "netd/dnsd.h"
#include "netd/netd.h"

struct dnsd;

/* ---- configuration (dnsd_conf.c) ---------------------------------------- */

#define DNSD_TTL_DEFAULT 300u
#define DNSD_CHECK_INTERVAL_DEFAULT 600u
#define DNSD_PATH_MAX NETD_ERR_PATH_MAX

struct dnsd_static {
	struct dns_rec rec;              /* normalized: absolute lowercase names, canonical addresses */
	char path[DNSD_PATH_MAX];        /* /netd:dns/record[owner=..][type=..][data=..] */
};

struct dnsd_conf {
	char installation_id[DNS_INSTALLATION_ID_MAX + 1];  /* "" = not configured */
	uint32_t ttl, check_interval;
	struct dns_zone_conf *zones;     /* zone names canonical ("lab.example.") */
	struct dns_zone *znames;         /* the same names, for dns_plan()/dns_zone_for() */
	size_t n_zones;
	struct dnsd_static *statics;
	size_t n_statics;
};

/* Read the dns document @top (NULL = none: defaults, no zones).  With
 * @keys, TSIG keys are made (secret decoded, secret-file read), as the
 * worker and the document check need; without, zones carry no key.
 * 0, or NETD_EINVAL (or a -errno reading a key file) with @e's path naming
 * the leaf; -ENOMEM.  @out is written on success only. */
int dnsd_conf_read(const struct lyd_node *top, bool keys, struct dnsd_conf *out, struct netd_err *e);
void dnsd_conf_clear(struct dnsd_conf *c);   /* accepts zeroed; wipes keys */
/* The zone index of @owner in @c (longest suffix), or -1. */
int dnsd_conf_zone_of(const struct dnsd_conf *c, const char *owner);
/* @in as an absolute lowercase name into @out (DNS_REC_NAME_MAX); false
 * if it does not fit. */
bool dnsd_name_abs(const char *in, char *out);

/* ---- store (dnsd_store.c) ------------------------------------------------ */

struct dnsd_tables {
	store_tbl intent, owner, outbox, rstate;
};

#define DNSD_META_ID "dns/installation-id"
#define DNSD_META_DERIVE "dns/derive"
#define DNSD_META_CHECK_REQ "dns/check-req"
#define DNSD_META_CHECK_DONE "dns/check-done"
#define DNSD_META_CHECK_RESULT "dns/check-result"

int dnsd_tables_open(struct store *s, struct dnsd_tables *out);

/* Record sets: u32 count, then per record owner, u16 type, u32 ttl, data. */
void dnsd_set_encode(const struct dns_recset *s, struct codec_w *w);
/* Append the set at @r's position to @out.  0, NETD_ECORRUPT, -ENOMEM. */
int dnsd_set_decode(struct codec_r *r, struct dns_recset *out);

/* Intent of @key (a node name or DNSD_STATIC_KEY) appended to @out;
 * NETD_ENOTFOUND when there is none. */
int dnsd_intent_get(const struct dnsd_tables *tb, struct store_txn *t, const char *key, struct dns_recset *out);
/* A stored intent value (a record set) appended to @out. */
int dnsd_intent_decode(const struct store_val *v, struct dns_recset *out);
/* Every intended record (all nodes and the static records) appended to @out. */
int dnsd_intent_all(struct dnsd *s, struct store_txn *t, struct dns_recset *out);
/* Write (@s non-empty) or delete the intent of @key. */
int dnsd_intent_put(const struct dnsd_tables *tb, struct store_txn *t, const char *key, const struct dns_recset *s);

/* Outbox entries. */
#define DNSD_ENTRY_MORE 0x1u   /* the next entry belongs to the same transaction */
struct dnsd_entry {
	uint64_t seq;
	uint8_t flags;
	char node[MODEL_NAME_MAX];
	uint64_t created;
	struct dns_recset old, new_;
};
int dnsd_entry_put(const struct dnsd_tables *tb, struct store_txn *t, const struct dnsd_entry *en);
int dnsd_entry_decode(const struct store_val *key, const struct store_val *val, struct dnsd_entry *out);
void dnsd_entry_clear(struct dnsd_entry *en);
/* The sequence number after the last entry (1 for an empty outbox). */
int dnsd_outbox_next(const struct dnsd_tables *tb, struct store_txn *t, uint64_t *out);
void dnsd_seq_key(uint64_t seq, uint8_t key[8]);

/* Record states. */
struct dnsd_rstate {
	uint8_t state;                 /* enum dns_rec_state */
	char node[MODEL_NAME_MAX];     /* intent key it belongs to */
	char why[NETD_ERR_MSG_MAX];
	uint64_t since;                /* unix seconds of the last change of state */
	struct dns_rec rec;            /* the record (owner, type, data; ttl) */
};
/* The state of a stored record state (key @key, value @val) without
 * decoding the rest, and with @owner (may be NULL) its owner, pointing
 * into @key.  0 or NETD_ECORRUPT. */
int dnsd_rstate_peek(const struct store_val *key, const struct store_val *val, uint8_t *state, const char **owner);
/* NETD_ENOTFOUND when @rec has no state (is not intended). */
int dnsd_rstate_get(const struct dnsd_tables *tb, struct store_txn *t, const struct dns_rec *rec,
		    struct dnsd_rstate *out);
int dnsd_rstate_put(const struct dnsd_tables *tb, struct store_txn *t, const struct dnsd_rstate *st);
int dnsd_rstate_del(const struct dnsd_tables *tb, struct store_txn *t, const struct dns_rec *rec);
int dnsd_rstate_decode(const struct store_val *val, struct dnsd_rstate *out);
/* Set @rec's state (and why) if it is intended and its state is one of
 * @from_mask (1u << state); *changed (may be NULL) says whether it was. */
int dnsd_rstate_move(const struct dnsd_tables *tb, struct store_txn *t, const struct dns_rec *rec,
		     unsigned from_mask, unsigned to, const char *why, uint64_t now, bool *changed);

/* A u64 in the meta table (0 when absent). */
int dnsd_meta_u64(struct netd *d, struct store_txn *t, const char *key, uint64_t *out);
int dnsd_meta_put_u64(struct netd *d, struct store_txn *t, const char *key, uint64_t v);

/* The outcome of the last reconciliation. */
struct dnsd_check_result {
	uint64_t at, id;   /* unix seconds; the request it served */
	uint64_t verified, missing, extra, conflict;
	char error[NETD_ERR_MSG_MAX];
};
int dnsd_check_result_get(struct netd *d, struct store_txn *t, struct dnsd_check_result *out);
int dnsd_check_result_put(struct netd *d, struct store_txn *t, const struct dnsd_check_result *res);

/* The installation id: the configured one, else the one kept in the
 * store's meta (made and written when @t is a write transaction and
 * @make; "" otherwise). */
int dnsd_installation_id(struct netd *d, struct store_txn *t, const struct dnsd_conf *c, bool make,
			 char out[DNS_INSTALLATION_ID_MAX + 1]);

/* ---- the service --------------------------------------------------------- */

enum dnsd_zone_run { DNSD_ZONE_IDLE = 0, DNSD_ZONE_OK, DNSD_ZONE_RETRYING };

/* Run-time status of one zone (the worker writes, GETs read; under mu). */
struct dnsd_zone_status {
	char name[DNS_REC_NAME_MAX];
	uint8_t state;                        /* enum dnsd_zone_run */
	char last_error[NETD_ERR_MSG_MAX];
	char server[DNS_SERVER_STRLEN];
	uint64_t backoff_ms;                  /* 0 = not backing off */
	size_t rrs;                           /* RRs at its last transfer (0 = not known) */
};

struct dnsd {
	struct netd *d;
	struct dnsd_tables tb;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	bool stop, kick, conf_changed;
	struct dnsd_zone_status *zst;
	size_t n_zst;
	/* counters (relaxed atomics) */
	_Atomic uint64_t updates_sent, update_failures;
};

/* dnsd_worker.c */
void *dnsd_worker_main(void *arg);

/* dnsd_intent.c: derive every node and the static records once, when a
 * store has no intent yet (first start with DNS); errors are logged and
 * the node skipped. */
int dnsd_intent_initial(struct netd *d);

/* A zone's run-time status copied out (under mu); false if unknown. */
bool dnsd_zone_status_get(struct dnsd *s, const char *zone, struct dnsd_zone_status *out);

/* Time as yang:date-and-time ("2024-05-01T12:00:00Z") into @buf (>= 32). */
void dnsd_time_text(uint64_t unix_s, char *buf, size_t len);

#endif
