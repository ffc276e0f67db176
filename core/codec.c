/* core/codec.c — big-endian writer and bounded reader with sticky errors.
 *
 * The first failure is kept in ->err and turns every later call into a
 * no-op (writer) or a zero result (reader), so a decoder reads a whole
 * record and checks once.  The writer's buffer doubles as it grows, so n
 * puts cost O(n) amortised.
 */
#include "core/codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define CODEC_MIN_CAP 64
#define CODEC_BLOB_MAX 0xffffu

void codec_w_init(struct codec_w *w)
{
	memset(w, 0, sizeof *w);
}

void codec_w_free(struct codec_w *w)
{
	if (!w)
		return;
	free(w->buf);
	memset(w, 0, sizeof *w);
}

static void w_fail(struct codec_w *w, int err)
{
	if (!w->err)
		w->err = err;
}

/* Make room for @n more bytes. Returns false (error set) if it cannot. */
static bool w_reserve(struct codec_w *w, size_t n)
{
	if (w->err)
		return false;
	if (n > SIZE_MAX - w->len) {
		w_fail(w, -ENOMEM);
		return false;
	}
	size_t need = w->len + n;
	if (need <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : CODEC_MIN_CAP;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *nb = realloc(w->buf, cap);
	if (!nb) {
		w_fail(w, -ENOMEM);
		return false;
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

void codec_put_bytes(struct codec_w *w, const void *p, size_t n)
{
	if (!w_reserve(w, n) || n == 0)
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

/* Big-endian: the most significant byte first. */
static void put_be(struct codec_w *w, uint64_t v, size_t n)
{
	uint8_t b[8];
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	codec_put_bytes(w, b, n);
}

void codec_put_u8(struct codec_w *w, uint8_t v) { put_be(w, v, 1); }
void codec_put_u16(struct codec_w *w, uint16_t v) { put_be(w, v, 2); }
void codec_put_u32(struct codec_w *w, uint32_t v) { put_be(w, v, 4); }
void codec_put_u64(struct codec_w *w, uint64_t v) { put_be(w, v, 8); }

void codec_put_blob(struct codec_w *w, const void *p, size_t n)
{
	if (n > CODEC_BLOB_MAX) {
		w_fail(w, -E2BIG);
		return;
	}
	codec_put_u16(w, (uint16_t)n);
	codec_put_bytes(w, p, n);
}

void codec_put_str(struct codec_w *w, const char *s)
{
	codec_put_blob(w, s, s ? strlen(s) : 0);
}

void codec_r_init(struct codec_r *r, const void *p, size_t n)
{
	r->p = p;
	r->len = p ? n : 0;
	r->pos = 0;
	r->err = 0;
}

static void r_fail(struct codec_r *r, int err)
{
	if (!r->err)
		r->err = err;
}

/* Take @n bytes: a pointer to them, or NULL (error set) if they are not
 * all there. */
static const uint8_t *r_take(struct codec_r *r, size_t n)
{
	if (r->err)
		return NULL;
	if (n > r->len - r->pos) {
		r_fail(r, NETD_ECORRUPT);
		return NULL;
	}
	/* An empty reader may have p == NULL; NULL + 0 is still undefined. */
	const uint8_t *at = r->p ? r->p + r->pos : (const uint8_t *)"";
	r->pos += n;
	return at;
}

static uint64_t get_be(struct codec_r *r, size_t n)
{
	const uint8_t *b = r_take(r, n);
	uint64_t v = 0;
	if (!b)
		return 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

uint8_t codec_get_u8(struct codec_r *r) { return (uint8_t)get_be(r, 1); }
uint16_t codec_get_u16(struct codec_r *r) { return (uint16_t)get_be(r, 2); }
uint32_t codec_get_u32(struct codec_r *r) { return (uint32_t)get_be(r, 4); }
uint64_t codec_get_u64(struct codec_r *r) { return get_be(r, 8); }

/* On failure @out is zero-filled, so a caller never reads stale memory. */
void codec_get_bytes(struct codec_r *r, void *out, size_t n)
{
	const uint8_t *b = r_take(r, n);
	if (n == 0)
		return;
	if (b)
		memcpy(out, b, n);
	else
		memset(out, 0, n);
}

/* Returns 0 on any error. */
size_t codec_get_blob(struct codec_r *r, void *out, size_t cap)
{
	size_t n = codec_get_u16(r);
	if (r->err)
		return 0;
	if (n > cap) {
		r_fail(r, NETD_ECORRUPT);
		return 0;
	}
	const uint8_t *b = r_take(r, n);
	if (!b)
		return 0;
	if (n)
		memcpy(out, b, n);
	return n;
}

/* Length-checked view of the next string: its bytes and length, or NULL. */
static const char *r_str(struct codec_r *r, size_t *n)
{
	*n = codec_get_u16(r);
	const uint8_t *b = r_take(r, *n);
	if (!b)
		return NULL;
	if (*n && memchr(b, '\0', *n)) {
		r_fail(r, NETD_ECORRUPT);
		return NULL;
	}
	return (const char *)b;
}

/* On any error @out is "" (when @cap > 0). */
void codec_get_str(struct codec_r *r, char *out, size_t cap)
{
	size_t n;
	const char *s = r_str(r, &n);
	if (s && n >= cap) {
		r_fail(r, NETD_ECORRUPT);
		s = NULL;
	}
	if (!s) {
		if (cap > 0)
			out[0] = '\0';
		return;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

/* A failed allocation sets err = -ENOMEM. The caller frees the result. */
char *codec_get_strdup(struct codec_r *r)
{
	size_t n;
	const char *s = r_str(r, &n);
	if (!s)
		return NULL;
	char *d = malloc(n + 1);
	if (!d) {
		r_fail(r, -ENOMEM);
		return NULL;
	}
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}
