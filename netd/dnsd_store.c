/* netd/dnsd_store.c — the DNS service's tables and their encodings (see
 * the table list in dnsd.h).  Encodings use core/codec.h and start with a
 * tag and a version byte like the model's records:
 *   set      'S' 1, u32 count, records (owner, u16 type, u32 ttl, data)
 *   entry    'O' 1, u8 flags, node, u64 created, old set body, new set body
 *   rstate   'R' 1, u8 state, node, why, u64 since, owner, u16 type, u32 ttl, data
 *   result   'C' 1, u64 at, id, verified, missing, extra, conflict, error
 * A record-state key is owner NUL type(2, big-endian) data; when that would
 * pass LMDB's key limit (a long TXT at a long owner) the data part is
 * replaced by 0xff and its SHA-256, so the record itself is kept in the
 * value too.
 */
#include "netd/dnsd_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/model.h"

#define TAG_SET 'S'
#define TAG_ENTRY 'O'
#define TAG_RSTATE 'R'
#define TAG_RESULT 'C'
#define ENC_VERSION 1
#define RKEY_MAX 480           /* below LMDB's 511-byte key limit */
#define REC_MIN_ENC 8          /* two empty strings, type, ttl */

int dnsd_tables_open(struct store *s, struct dnsd_tables *out)
{
	int rc;
	if ((rc = store_table(s, "dns_intent", &out->intent)) < 0 || (rc = store_table(s, "dns_owner", &out->owner)) < 0 ||
	    (rc = store_table(s, "dns_outbox", &out->outbox)) < 0 || (rc = store_table(s, "dns_rstate", &out->rstate)) < 0)
		return rc;
	return 0;
}

static void put_header(struct codec_w *w, uint8_t tag)
{
	codec_put_u8(w, tag);
	codec_put_u8(w, ENC_VERSION);
}

static void get_header(struct codec_r *r, uint8_t tag)
{
	uint8_t t = codec_get_u8(r), v = codec_get_u8(r);
	if (!r->err && (t != tag || v != ENC_VERSION))
		r->err = NETD_ECORRUPT;
}

static int get_end(struct codec_r *r)
{
	if (r->err)
		return r->err;
	return r->pos == r->len ? 0 : NETD_ECORRUPT;
}

/* Encode @w's buffer into the store, or its error. */
static int put_w(struct store_txn *t, store_tbl tbl, const void *k, size_t kn, struct codec_w *w)
{
	int rc = w->err ? w->err : store_put(t, tbl, k, kn, w->buf, w->len);
	codec_w_free(w);
	return rc;
}

/* ---- record sets ------------------------------------------------------- */

static void rec_encode(const struct dns_rec *r, struct codec_w *w)
{
	codec_put_str(w, r->owner);
	codec_put_u16(w, r->type);
	codec_put_u32(w, r->ttl);
	codec_put_str(w, r->data);
}

static void rec_decode(struct codec_r *r, struct dns_rec *out)
{
	codec_get_str(r, out->owner, sizeof out->owner);
	out->type = codec_get_u16(r);
	out->ttl = codec_get_u32(r);
	codec_get_str(r, out->data, sizeof out->data);
}

void dnsd_set_encode(const struct dns_recset *s, struct codec_w *w)
{
	codec_put_u32(w, (uint32_t)s->n);
	for (size_t i = 0; i < s->n && !w->err; i++)
		rec_encode(&s->v[i], w);
}

int dnsd_set_decode(struct codec_r *r, struct dns_recset *out)
{
	size_t n = codec_get_u32(r);
	if (r->err || n > codec_remaining(r) / REC_MIN_ENC)
		return NETD_ECORRUPT;
	for (size_t i = 0; i < n; i++) {
		struct dns_rec rec = { 0 };
		rec_decode(r, &rec);
		if (r->err)
			return r->err;
		int rc = dns_recset_add(out, &rec);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- intent ------------------------------------------------------------ */

int dnsd_intent_decode(const struct store_val *v, struct dns_recset *out)
{
	struct codec_r r;
	codec_r_init(&r, v->p, v->n);
	get_header(&r, TAG_SET);
	int rc = r.err ? r.err : dnsd_set_decode(&r, out);
	return rc < 0 ? rc : get_end(&r);
}

int dnsd_intent_get(const struct dnsd_tables *tb, struct store_txn *t, const char *key, struct dns_recset *out)
{
	struct store_val v;
	int rc = store_get(t, tb->intent, key, strlen(key), &v);
	return rc < 0 ? rc : dnsd_intent_decode(&v, out);
}

int dnsd_intent_put(const struct dnsd_tables *tb, struct store_txn *t, const char *key, const struct dns_recset *s)
{
	if (s->n == 0) {
		int rc = store_del(t, tb->intent, key, strlen(key));
		return rc == NETD_ENOTFOUND ? 0 : rc;
	}
	struct codec_w w;
	codec_w_init(&w);
	put_header(&w, TAG_SET);
	dnsd_set_encode(s, &w);
	return put_w(t, tb->intent, key, strlen(key), &w);
}

/* ---- outbox ------------------------------------------------------------ */

void dnsd_seq_key(uint64_t seq, uint8_t key[8])
{
	for (int i = 7; i >= 0; i--) {
		key[i] = (uint8_t)seq;
		seq >>= 8;
	}
}

static uint64_t seq_of(const struct store_val *k)
{
	uint64_t s = 0;
	const uint8_t *p = k->p;
	for (size_t i = 0; i < 8 && i < k->n; i++)
		s = s << 8 | p[i];
	return s;
}

int dnsd_entry_put(const struct dnsd_tables *tb, struct store_txn *t, const struct dnsd_entry *en)
{
	uint8_t key[8];
	struct codec_w w;
	dnsd_seq_key(en->seq, key);
	codec_w_init(&w);
	put_header(&w, TAG_ENTRY);
	codec_put_u8(&w, en->flags);
	codec_put_str(&w, en->node);
	codec_put_u64(&w, en->created);
	dnsd_set_encode(&en->old, &w);
	dnsd_set_encode(&en->new_, &w);
	return put_w(t, tb->outbox, key, sizeof key, &w);
}

int dnsd_entry_decode(const struct store_val *key, const struct store_val *val, struct dnsd_entry *out)
{
	struct codec_r r;
	memset(out, 0, sizeof *out);
	if (key->n != 8)
		return NETD_ECORRUPT;
	out->seq = seq_of(key);
	codec_r_init(&r, val->p, val->n);
	get_header(&r, TAG_ENTRY);
	out->flags = codec_get_u8(&r);
	codec_get_str(&r, out->node, sizeof out->node);
	out->created = codec_get_u64(&r);
	int rc = r.err ? r.err : dnsd_set_decode(&r, &out->old);
	if (!rc)
		rc = dnsd_set_decode(&r, &out->new_);
	if (!rc)
		rc = get_end(&r);
	if (rc < 0)
		dnsd_entry_clear(out);
	return rc;
}

void dnsd_entry_clear(struct dnsd_entry *en)
{
	dns_recset_clear(&en->old);
	dns_recset_clear(&en->new_);
}

int dnsd_outbox_next(const struct dnsd_tables *tb, struct store_txn *t, uint64_t *out)
{
	struct store_cursor *c = NULL;
	struct store_val k;
	int rc = store_cursor_open(t, tb->outbox, &c);
	if (rc < 0)
		return rc;
	rc = store_cursor_last(c, &k, NULL);
	if (rc == 0)
		*out = seq_of(&k) + 1;
	else if (rc == NETD_ENOTFOUND)
		*out = 1;
	store_cursor_close(c);
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

/* ---- record states ----------------------------------------------------- */

static size_t rkey(const struct dns_rec *rec, uint8_t *buf)
{
	size_t on = strlen(rec->owner), dn = strlen(rec->data);
	memcpy(buf, rec->owner, on);
	buf[on] = 0;
	buf[on + 1] = (uint8_t)(rec->type >> 8);
	buf[on + 2] = (uint8_t)rec->type;
	size_t n = on + 3;
	if (n + dn <= RKEY_MAX) {
		memcpy(buf + n, rec->data, dn);
		return n + dn;
	}
	unsigned int len = 0;
	buf[n++] = 0xff;
	EVP_Digest(rec->data, dn, buf + n, &len, EVP_sha256(), NULL);
	return n + len;
}

int dnsd_rstate_decode(const struct store_val *val, struct dnsd_rstate *out)
{
	struct codec_r r;
	memset(out, 0, sizeof *out);
	codec_r_init(&r, val->p, val->n);
	get_header(&r, TAG_RSTATE);
	out->state = codec_get_u8(&r);
	codec_get_str(&r, out->node, sizeof out->node);
	codec_get_str(&r, out->why, sizeof out->why);
	out->since = codec_get_u64(&r);
	rec_decode(&r, &out->rec);
	int rc = get_end(&r);
	if (!rc && out->state > DNS_STATE_DRIFT)
		rc = NETD_ECORRUPT;
	return rc;
}

int dnsd_rstate_peek(const struct store_val *key, const struct store_val *val, uint8_t *state, const char **owner)
{
	const uint8_t *v = val->p;
	if (val->n < 3 || v[0] != TAG_RSTATE || v[1] != ENC_VERSION || v[2] > DNS_STATE_DRIFT)
		return NETD_ECORRUPT;
	*state = v[2];
	if (owner) {
		/* the key starts with the owner and its NUL (rkey()) */
		if (!key || key->n == 0 || !memchr(key->p, 0, key->n))
			return NETD_ECORRUPT;
		*owner = (const char *)key->p;
	}
	return 0;
}

int dnsd_rstate_get(const struct dnsd_tables *tb, struct store_txn *t, const struct dns_rec *rec,
		    struct dnsd_rstate *out)
{
	uint8_t key[RKEY_MAX + 64];
	struct store_val v;
	int rc = store_get(t, tb->rstate, key, rkey(rec, key), &v);
	return rc < 0 ? rc : dnsd_rstate_decode(&v, out);
}

int dnsd_rstate_put(const struct dnsd_tables *tb, struct store_txn *t, const struct dnsd_rstate *st)
{
	uint8_t key[RKEY_MAX + 64];
	struct codec_w w;
	codec_w_init(&w);
	put_header(&w, TAG_RSTATE);
	codec_put_u8(&w, st->state);
	codec_put_str(&w, st->node);
	codec_put_str(&w, st->why);
	codec_put_u64(&w, st->since);
	rec_encode(&st->rec, &w);
	return put_w(t, tb->rstate, key, rkey(&st->rec, key), &w);
}

int dnsd_rstate_del(const struct dnsd_tables *tb, struct store_txn *t, const struct dns_rec *rec)
{
	uint8_t key[RKEY_MAX + 64];
	int rc = store_del(t, tb->rstate, key, rkey(rec, key));
	return rc == NETD_ENOTFOUND ? 0 : rc;
}

int dnsd_rstate_move(const struct dnsd_tables *tb, struct store_txn *t, const struct dns_rec *rec,
		     unsigned from_mask, unsigned to, const char *why, uint64_t now, bool *changed)
{
	struct dnsd_rstate st;
	if (changed)
		*changed = false;
	int rc = dnsd_rstate_get(tb, t, rec, &st);
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (!(from_mask & (1u << st.state)))
		return 0;
	if (st.state == to && !strcmp(st.why, why ? why : ""))
		return 0;
	if (st.state != to)
		st.since = now;
	st.state = (uint8_t)to;
	snprintf(st.why, sizeof st.why, "%s", why ? why : "");
	if (changed)
		*changed = true;
	return dnsd_rstate_put(tb, t, &st);
}

/* ---- meta -------------------------------------------------------------- */

int dnsd_meta_u64(struct netd *d, struct store_txn *t, const char *key, uint64_t *out)
{
	uint8_t b[8];
	size_t n = 0;
	*out = 0;
	int rc = model_meta_get(&d->mt, t, key, b, sizeof b, &n);
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (n != 8)
		return NETD_ECORRUPT;
	for (size_t i = 0; i < 8; i++)
		*out = *out << 8 | b[i];
	return 0;
}

int dnsd_meta_put_u64(struct netd *d, struct store_txn *t, const char *key, uint64_t v)
{
	uint8_t b[8];
	dnsd_seq_key(v, b);
	return model_meta_put(&d->mt, t, key, b, sizeof b);
}

int dnsd_check_result_get(struct netd *d, struct store_txn *t, struct dnsd_check_result *out)
{
	struct store_val v;
	memset(out, 0, sizeof *out);
	int rc = store_get(t, d->mt.meta, DNSD_META_CHECK_RESULT, strlen(DNSD_META_CHECK_RESULT), &v);
	if (rc == NETD_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	struct codec_r r;
	codec_r_init(&r, v.p, v.n);
	get_header(&r, TAG_RESULT);
	out->at = codec_get_u64(&r);
	out->id = codec_get_u64(&r);
	out->verified = codec_get_u64(&r);
	out->missing = codec_get_u64(&r);
	out->extra = codec_get_u64(&r);
	out->conflict = codec_get_u64(&r);
	codec_get_str(&r, out->error, sizeof out->error);
	return get_end(&r);
}

int dnsd_check_result_put(struct netd *d, struct store_txn *t, const struct dnsd_check_result *res)
{
	struct codec_w w;
	codec_w_init(&w);
	put_header(&w, TAG_RESULT);
	codec_put_u64(&w, res->at);
	codec_put_u64(&w, res->id);
	codec_put_u64(&w, res->verified);
	codec_put_u64(&w, res->missing);
	codec_put_u64(&w, res->extra);
	codec_put_u64(&w, res->conflict);
	codec_put_str(&w, res->error);
	return put_w(t, d->mt.meta, DNSD_META_CHECK_RESULT, strlen(DNSD_META_CHECK_RESULT), &w);
}

int dnsd_installation_id(struct netd *d, struct store_txn *t, const struct dnsd_conf *c, bool make,
			 char out[DNS_INSTALLATION_ID_MAX + 1])
{
	if (c && c->installation_id[0]) {
		snprintf(out, DNS_INSTALLATION_ID_MAX + 1, "%s", c->installation_id);
		return 0;
	}
	size_t n = 0;
	int rc = model_meta_get(&d->mt, t, DNSD_META_ID, out, DNS_INSTALLATION_ID_MAX, &n);
	if (rc == 0) {
		out[n] = '\0';
		return 0;
	}
	out[0] = '\0';
	if (rc != NETD_ENOTFOUND || !make)
		return rc == NETD_ENOTFOUND ? 0 : rc;
	uint8_t r[8];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return -errno;
	snprintf(out, DNS_INSTALLATION_ID_MAX + 1, "netd-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
		 r[5], r[6], r[7]);
	return model_meta_put(&d->mt, t, DNSD_META_ID, out, strlen(out));
}

void dnsd_time_text(uint64_t unix_s, char *buf, size_t len)
{
	time_t tt = (time_t)unix_s;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
