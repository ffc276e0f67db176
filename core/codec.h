/* core/codec.h — bounded byte cursor with a sticky error, for record
 * encodings (and, later, any binary format).
 *
 * Writing: a growing heap buffer; a failed allocation sets err = -ENOMEM and
 * every later put is a no-op.  Reading: a cursor over caller memory; reading
 * past the end sets err = NETD_ECORRUPT and every later get returns zeros.
 * Check ->err once at the end instead of after every call.  Integers are
 * big-endian.  Strings and blobs are a u16 length followed by the bytes.
 */
#ifndef NETD_CORE_CODEC_H
#define NETD_CORE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct codec_w {
	uint8_t *buf;
	size_t len, cap;
	int err;
};

struct codec_r {
	const uint8_t *p;
	size_t len, pos;
	int err;
};

void codec_w_init(struct codec_w *w);
void codec_w_free(struct codec_w *w);   /* accepts a zeroed or freed writer */
void codec_put_u8(struct codec_w *w, uint8_t v);
void codec_put_u16(struct codec_w *w, uint16_t v);
void codec_put_u32(struct codec_w *w, uint32_t v);
void codec_put_u64(struct codec_w *w, uint64_t v);
void codec_put_bytes(struct codec_w *w, const void *p, size_t n); /* raw, no length */
void codec_put_blob(struct codec_w *w, const void *p, size_t n);  /* u16 length + bytes; n > 65535 sets -E2BIG */
void codec_put_str(struct codec_w *w, const char *s);             /* blob of strlen(s) */

void codec_r_init(struct codec_r *r, const void *p, size_t n);
uint8_t codec_get_u8(struct codec_r *r);
uint16_t codec_get_u16(struct codec_r *r);
uint32_t codec_get_u32(struct codec_r *r);
uint64_t codec_get_u64(struct codec_r *r);
void codec_get_bytes(struct codec_r *r, void *out, size_t n);
/* Blob into @out (capacity @cap); a longer blob is NETD_ECORRUPT. Returns its length. */
size_t codec_get_blob(struct codec_r *r, void *out, size_t cap);
/* String into @out (capacity @cap incl. NUL); too long or an embedded NUL is NETD_ECORRUPT. */
void codec_get_str(struct codec_r *r, char *out, size_t cap);
/* String as a new heap copy (NULL on error). */
char *codec_get_strdup(struct codec_r *r);
static inline size_t codec_remaining(const struct codec_r *r) { return r->err ? 0 : r->len - r->pos; }

#endif
