/* dns/wire.c — DNS wire format (RFC 1035, 2136, 3597): cursors with a sticky
 * error, names (text, wire, compression), header, question, RRs and the
 * four-section message parser.  See wire.h for the contracts.
 *
 * Every read goes through struct dns_rd, which checks the bound before it
 * touches memory and turns the first failure into a sticky NETD_ECORRUPT;
 * decoders check ->err once at the end.  Compression pointers are followed
 * only to offsets before the start of the current run of labels, so each
 * jump strictly decreases the read position and any input terminates.
 */
#include "dns/wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"

/* ---- write cursor ----------------------------------------------------- */

void dns_wr_init(struct dns_wr *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap > DNS_MSG_MAX ? DNS_MSG_MAX : cap;
	w->pos = 0;
	w->err = 0;
	w->ncomp = 0;
}

static bool wr_room(struct dns_wr *w, size_t n)
{
	if (w->err)
		return false;
	if (n > w->cap - w->pos) {
		w->err = NETD_ETOOBIG;
		return false;
	}
	return true;
}

void dns_wr_bytes(struct dns_wr *w, const void *p, size_t n)
{
	if (!wr_room(w, n))
		return;
	if (n)
		memcpy(w->buf + w->pos, p, n);
	w->pos += n;
}

void dns_wr_u8(struct dns_wr *w, uint8_t v)
{
	dns_wr_bytes(w, &v, 1);
}

void dns_wr_u16(struct dns_wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	dns_wr_bytes(w, b, 2);
}

void dns_wr_u32(struct dns_wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	dns_wr_bytes(w, b, 4);
}

void dns_wr_u48(struct dns_wr *w, uint64_t v)
{
	dns_wr_u16(w, (uint16_t)(v >> 32));
	dns_wr_u32(w, (uint32_t)v);
}

void dns_wr_patch_u16(struct dns_wr *w, size_t off, uint16_t v)
{
	if (w->err)
		return;
	if (off + 2 > w->pos) {
		w->err = NETD_EINVAL;
		return;
	}
	w->buf[off] = (uint8_t)(v >> 8);
	w->buf[off + 1] = (uint8_t)v;
}

void dns_wr_name(struct dns_wr *w, const struct dns_name *n)
{
	if (!w->err && dns_name_check(n) != 0) {
		w->err = NETD_EINVAL;
		return;
	}
	dns_wr_bytes(w, n->w, n->len);
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool label_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* Does the name written at @off in our own buffer equal the uncompressed
 * suffix @s (ending at the root octet)?  Our buffer was written by us, but
 * the walk is bounded anyway. */
static bool wr_suffix_eq(const struct dns_wr *w, size_t off, const uint8_t *s)
{
	for (unsigned hops = 0; hops < DNS_NAME_MAX && off < w->pos;) {
		uint8_t c = w->buf[off];
		if ((c & 0xc0) == 0xc0) {
			if (off + 1 >= w->pos)
				return false;
			off = (size_t)(c & 0x3f) << 8 | w->buf[off + 1];
			hops++;
			continue;
		}
		if (c != *s)
			return false;
		if (c == 0)
			return true;
		if (off + 1 + c > w->pos || !label_eq(w->buf + off + 1, s + 1, c))
			return false;
		off += 1u + c;
		s += 1u + c;
	}
	return false;
}

static int wr_comp_find(const struct dns_wr *w, const uint8_t *suffix)
{
	for (unsigned j = 0; j < w->ncomp; j++)
		if (wr_suffix_eq(w, w->comp[j], suffix))
			return (int)w->comp[j];
	return -1;
}

void dns_wr_name_comp(struct dns_wr *w, const struct dns_name *n)
{
	if (w->err)
		return;
	if (dns_name_check(n) != 0) {
		w->err = NETD_EINVAL;
		return;
	}
	size_t i = 0, start = w->pos;
	uint16_t label_off[DNS_NAME_MAX / 2 + 1];
	unsigned nlabels = 0;
	while (n->w[i] != 0) {
		int at = wr_comp_find(w, n->w + i);
		if (at >= 0) {
			dns_wr_u16(w, (uint16_t)(0xc000u | (unsigned)at));
			break;
		}
		label_off[nlabels++] = (uint16_t)(w->pos - start);
		dns_wr_bytes(w, n->w + i, 1u + n->w[i]);
		i += 1u + n->w[i];
	}
	if (n->w[i] == 0)
		dns_wr_u8(w, 0);
	if (w->err)
		return;
	for (unsigned k = 0; k < nlabels && w->ncomp < DNS_COMP_MAX; k++) {
		size_t off = start + label_off[k];
		if (off < 0x4000)
			w->comp[w->ncomp++] = (uint16_t)off;
	}
}

/* ---- read cursor ------------------------------------------------------ */

void dns_rd_init(struct dns_rd *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
	r->err = 0;
}

const uint8_t *dns_rd_take(struct dns_rd *r, size_t n)
{
	if (r->err)
		return NULL;
	if (n > r->len - r->pos) {
		r->err = NETD_ECORRUPT;
		return NULL;
	}
	const uint8_t *p = r->buf + r->pos;
	r->pos += n;
	return p;
}

void dns_rd_bytes(struct dns_rd *r, void *out, size_t n)
{
	const uint8_t *p = dns_rd_take(r, n);
	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

uint8_t dns_rd_u8(struct dns_rd *r)
{
	const uint8_t *p = dns_rd_take(r, 1);
	return p ? p[0] : 0;
}

uint16_t dns_rd_u16(struct dns_rd *r)
{
	const uint8_t *p = dns_rd_take(r, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t dns_rd_u32(struct dns_rd *r)
{
	const uint8_t *p = dns_rd_take(r, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

uint64_t dns_rd_u48(struct dns_rd *r)
{
	uint64_t hi = dns_rd_u16(r);
	return hi << 32 | dns_rd_u32(r);
}

void dns_rd_name(struct dns_rd *r, struct dns_name *out)
{
	if (r->err)
		return;
	struct dns_name tmp;
	size_t pos = r->pos, run_start = r->pos, resume = 0;
	bool jumped = false;
	tmp.len = 0;
	for (;;) {
		if (pos >= r->len)
			goto corrupt;
		uint8_t c = r->buf[pos];
		if (c == 0) {
			tmp.w[tmp.len++] = 0;
			if (!jumped)
				resume = pos + 1;
			break;
		}
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= r->len)
				goto corrupt;
			size_t target = (size_t)(c & 0x3f) << 8 | r->buf[pos + 1];
			if (target >= run_start)  /* only backwards: no loops */
				goto corrupt;
			if (!jumped)
				resume = pos + 2;
			jumped = true;
			pos = run_start = target;
			continue;
		}
		if (c & 0xc0)  /* 0x40 / 0x80: extended label types, unsupported */
			goto corrupt;
		if (pos + 1 + c > r->len || (size_t)tmp.len + 1 + c + 1 > DNS_NAME_MAX)
			goto corrupt;
		memcpy(tmp.w + tmp.len, r->buf + pos, 1u + c);
		tmp.len = (uint8_t)(tmp.len + 1 + c);
		pos += 1u + c;
	}
	r->pos = resume;
	*out = tmp;
	return;
corrupt:
	r->err = NETD_ECORRUPT;
}

/* ---- names ------------------------------------------------------------ */

static bool is_host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decode one escape at @s (after the backslash).  Returns the number of
 * text characters consumed, or 0 for a bad escape. */
static size_t parse_escape(const char *s, uint8_t *out)
{
	if (is_digit(s[0])) {
		if (!is_digit(s[1]) || !is_digit(s[2]))
			return 0;
		int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
		if (v > 255)
			return 0;
		*out = (uint8_t)v;
		return 3;
	}
	if (s[0] == '\0')
		return 0;
	*out = (uint8_t)s[0];
	return 1;
}

/* NETD_EINVAL with "name \"TEXT\": REASON". */
__attribute__((format(printf, 3, 4)))
static int name_err(struct netd_err *e, const char *text, const char *fmt, ...)
{
	char reason[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	return netd_err_set(e, NETD_EINVAL, NULL, "name \"%.200s\": %s", text, reason);
}

#define NAME_ERR name_err

/* Checks of one finished label [lstart, lend) of @text, numbered @idx. */
static int check_label(const char *text, const char *lstart, const char *lend,
		       const uint8_t *lab, size_t llen, unsigned idx, unsigned flags,
		       struct netd_err *e)
{
	int tl = (int)(lend - lstart);
	if (llen == 0)
		return NAME_ERR(e, text, "label %u is empty", idx);
	if (llen > DNS_LABEL_MAX)
		return NAME_ERR(e, text, "label %u \"%.*s\" is %zu octets long, more than 63",
				idx, tl > 80 ? 80 : tl, lstart, llen);
	if (!(flags & DNS_NAME_HOST))
		return 0;
	for (size_t i = 0; i < llen; i++)
		if (!is_host_char(lab[i]))
			return NAME_ERR(e, text, "label %u \"%.*s\": character '%c' is not allowed in "
					"a host name (RFC 1123: letters, digits and '-')",
					idx, tl > 80 ? 80 : tl, lstart,
					lstart[i] >= 0x20 && lstart[i] < 0x7f ? lstart[i] : '?');
	if (lab[0] == '-' || lab[llen - 1] == '-')
		return NAME_ERR(e, text, "label %u \"%.*s\" %s with '-' (RFC 1123)", idx,
				tl > 80 ? 80 : tl, lstart, lab[0] == '-' ? "starts" : "ends");
	return 0;
}

int dns_name_parse(const char *text, unsigned flags, struct dns_name *out, struct netd_err *e)
{
	if (!text || !*text)
		return netd_err_set(e, NETD_EINVAL, NULL, "name is empty");
	struct dns_name tmp;
	if (strcmp(text, ".") == 0) {
		out->len = 1;
		out->w[0] = 0;
		return 0;
	}
	uint8_t lab[DNS_LABEL_MAX + 1];
	size_t llen = 0, wlen = 0;
	unsigned idx = 1;
	const char *lstart = text, *s = text;
	for (;;) {
		char c = *s;
		if (c == '.' || c == '\0') {
			if (c == '\0' && s == lstart && s != text)
				break;  /* the final dot of an absolute name */
			int rc = check_label(text, lstart, s, lab, llen, idx, flags, e);
			if (rc)
				return rc;
			if (wlen + 1 + llen + 1 > DNS_NAME_MAX)
				return NAME_ERR(e, text, "longer than 255 octets in wire form "
						"(at label %u)", idx);
			tmp.w[wlen] = (uint8_t)llen;
			memcpy(tmp.w + wlen + 1, lab, llen);
			wlen += 1 + llen;
			if (c == '\0')
				break;
			s++;
			lstart = s;
			llen = 0;
			idx++;
			continue;
		}
		uint8_t b = (uint8_t)c;
		size_t used = 1;
		if (c == '\\') {
			if (flags & DNS_NAME_HOST)
				return NAME_ERR(e, text, "label %u: escape '\\' is not allowed in a host name",
						idx);
			used = parse_escape(s + 1, &b);
			if (used == 0)
				return NAME_ERR(e, text, "label %u: bad escape (use \\X or \\DDD with "
						"DDD <= 255)", idx);
			used++;
		}
		if (llen < sizeof lab)
			lab[llen] = b;
		llen++;  /* counts on past 63; check_label reports the length */
		s += used;
	}
	tmp.w[wlen++] = 0;
	tmp.len = (uint8_t)wlen;
	*out = tmp;
	return 0;
}

int dns_name_check(const struct dns_name *n)
{
	if (!n || n->len == 0)
		return NETD_ECORRUPT;
	size_t i = 0;
	while (i < n->len) {
		uint8_t c = n->w[i];
		if (c == 0)
			return i + 1 == n->len ? 0 : NETD_ECORRUPT;
		if (c > DNS_LABEL_MAX)
			return NETD_ECORRUPT;
		i += 1u + c;
	}
	return NETD_ECORRUPT;
}

static bool is_special(uint8_t c)
{
	return c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' ||
	       c == '@' || c == '$';
}

int dns_name_print(const struct dns_name *n, char *buf, size_t cap)
{
	if (cap > 0)
		buf[0] = '\0';
	if (dns_name_check(n) != 0)
		return NETD_EINVAL;
	size_t o = 0;
	char tmp[DNS_NAME_STRLEN];
	if (n->w[0] == 0) {
		tmp[o++] = '.';
	}
	for (size_t i = 0; n->w[i] != 0; i += 1u + n->w[i]) {
		for (size_t k = 1; k <= n->w[i]; k++) {
			uint8_t c = n->w[i + k];
			if (c > 0x20 && c < 0x7f && !is_special(c)) {
				tmp[o++] = (char)c;
			} else if (c > 0x20 && c < 0x7f) {
				tmp[o++] = '\\';
				tmp[o++] = (char)c;
			} else {
				o += (size_t)snprintf(tmp + o, sizeof tmp - o, "\\%03u", c);
			}
		}
		tmp[o++] = '.';
	}
	tmp[o] = '\0';
	if (o + 1 > cap)
		return NETD_ETOOBIG;
	memcpy(buf, tmp, o + 1);
	return (int)o;
}

bool dns_name_eq(const struct dns_name *a, const struct dns_name *b)
{
	return a->len == b->len && label_eq(a->w, b->w, a->len);
}

bool dns_name_in_zone(const struct dns_name *n, const struct dns_name *zone)
{
	if (n->len < zone->len)
		return false;
	/* Walk @n's labels until the rest has the zone's length, then compare. */
	size_t i = 0;
	while (n->len - i > zone->len && n->w[i] != 0)
		i += 1u + n->w[i];
	return n->len - i == zone->len && label_eq(n->w + i, zone->w, zone->len);
}

unsigned dns_name_labels(const struct dns_name *n)
{
	unsigned k = 0;
	for (size_t i = 0; i < n->len && n->w[i] != 0; i += 1u + n->w[i])
		k++;
	return k;
}

void dns_name_lower(const struct dns_name *in, struct dns_name *out)
{
	out->len = in->len;
	size_t i = 0;
	while (i < in->len && in->w[i] != 0) {
		uint8_t l = in->w[i];
		out->w[i] = l;
		for (size_t k = 1; k <= l && i + k < in->len; k++)
			out->w[i + k] = lower(in->w[i + k]);
		i += 1u + l;
	}
	if (i < in->len)
		out->w[i] = 0;
}

static void name_append_label(struct dns_name *n, const char *s, size_t len)
{
	n->w[n->len] = (uint8_t)len;
	memcpy(n->w + n->len + 1, s, len);
	n->len = (uint8_t)(n->len + 1 + len);
}

int dns_name_reverse(const struct addr *a, struct dns_name *out)
{
	static const char hex[] = "0123456789abcdef";
	struct dns_name n = {.len = 0};
	if (a->family == ADDR_V4) {
		for (int i = 3; i >= 0; i--) {
			char t[4];
			int l = snprintf(t, sizeof t, "%u", a->b[i]);
			name_append_label(&n, t, (size_t)l);
		}
		name_append_label(&n, "in-addr", 7);
	} else if (a->family == ADDR_V6) {
		for (int i = 15; i >= 0; i--) {
			name_append_label(&n, &hex[a->b[i] & 0xf], 1);
			name_append_label(&n, &hex[a->b[i] >> 4], 1);
		}
		name_append_label(&n, "ip6", 3);
	} else {
		return NETD_EINVAL;
	}
	name_append_label(&n, "arpa", 4);
	n.w[n.len++] = 0;
	*out = n;
	return 0;
}

/* ---- header, question ------------------------------------------------- */

void dns_wr_header(struct dns_wr *w, const struct dns_header *h)
{
	dns_wr_u16(w, h->id);
	dns_wr_u16(w, h->flags);
	dns_wr_u16(w, h->qdcount);
	dns_wr_u16(w, h->ancount);
	dns_wr_u16(w, h->nscount);
	dns_wr_u16(w, h->arcount);
}

void dns_rd_header(struct dns_rd *r, struct dns_header *h)
{
	h->id = dns_rd_u16(r);
	h->flags = dns_rd_u16(r);
	h->qdcount = dns_rd_u16(r);
	h->ancount = dns_rd_u16(r);
	h->nscount = dns_rd_u16(r);
	h->arcount = dns_rd_u16(r);
}

void dns_wr_question(struct dns_wr *w, const struct dns_question *q)
{
	dns_wr_name_comp(w, &q->name);
	dns_wr_u16(w, q->type);
	dns_wr_u16(w, q->cls);
}

void dns_rd_question(struct dns_rd *r, struct dns_question *q)
{
	dns_rd_name(r, &q->name);
	q->type = dns_rd_u16(r);
	q->cls = dns_rd_u16(r);
}

/* ---- RRs -------------------------------------------------------------- */

/* A TXT rdata is one or more character-strings filling it exactly. */
static bool txt_valid(const uint8_t *p, size_t len)
{
	if (len == 0)
		return false;
	size_t i = 0;
	while (i < len)
		i += 1u + p[i];
	return i == len;
}

static void wr_rdata(struct dns_wr *w, const struct dns_rr *rr)
{
	switch (rr->type) {
	case DNS_T_A:
		dns_wr_bytes(w, rr->rd.a, 4);
		break;
	case DNS_T_AAAA:
		dns_wr_bytes(w, rr->rd.aaaa, 16);
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		dns_wr_name_comp(w, &rr->rd.target);
		break;
	case DNS_T_SOA:
		dns_wr_name_comp(w, &rr->rd.soa.mname);
		dns_wr_name_comp(w, &rr->rd.soa.rname);
		dns_wr_u32(w, rr->rd.soa.serial);
		dns_wr_u32(w, rr->rd.soa.refresh);
		dns_wr_u32(w, rr->rd.soa.retry);
		dns_wr_u32(w, rr->rd.soa.expire);
		dns_wr_u32(w, rr->rd.soa.minimum);
		break;
	case DNS_T_TXT:
		if (!w->err && !txt_valid(rr->rd.raw.data, rr->rd.raw.len)) {
			w->err = NETD_EINVAL;
			return;
		}
		dns_wr_bytes(w, rr->rd.raw.data, rr->rd.raw.len);
		break;
	default:
		dns_wr_bytes(w, rr->rd.raw.data, rr->rd.raw.len);
		break;
	}
}

void dns_wr_rr(struct dns_wr *w, const struct dns_rr *rr)
{
	dns_wr_name_comp(w, &rr->owner);
	dns_wr_u16(w, rr->type);
	dns_wr_u16(w, rr->cls);
	dns_wr_u32(w, rr->ttl);
	size_t rdlen_at = w->pos;
	dns_wr_u16(w, 0);
	if (!rr->no_rdata)
		wr_rdata(w, rr);
	if (!w->err)
		dns_wr_patch_u16(w, rdlen_at, (uint16_t)(w->pos - rdlen_at - 2));
}

/* Read a name inside rdata ending at @end: it must not run past it. */
static void rd_rdata_name(struct dns_rd *r, size_t end, struct dns_name *out)
{
	dns_rd_name(r, out);
	if (!r->err && r->pos > end)
		r->err = NETD_ECORRUPT;
}

static void rd_rdata(struct dns_rd *r, size_t rdlen, struct dns_rr *out)
{
	size_t end = r->pos + rdlen;
	switch (out->type) {
	case DNS_T_A:
		if (rdlen != 4)
			goto corrupt;
		dns_rd_bytes(r, out->rd.a, 4);
		break;
	case DNS_T_AAAA:
		if (rdlen != 16)
			goto corrupt;
		dns_rd_bytes(r, out->rd.aaaa, 16);
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		rd_rdata_name(r, end, &out->rd.target);
		break;
	case DNS_T_SOA:
		rd_rdata_name(r, end, &out->rd.soa.mname);
		rd_rdata_name(r, end, &out->rd.soa.rname);
		out->rd.soa.serial = dns_rd_u32(r);
		out->rd.soa.refresh = dns_rd_u32(r);
		out->rd.soa.retry = dns_rd_u32(r);
		out->rd.soa.expire = dns_rd_u32(r);
		out->rd.soa.minimum = dns_rd_u32(r);
		break;
	case DNS_T_TXT:
		out->rd.raw.len = (uint16_t)rdlen;
		out->rd.raw.data = dns_rd_take(r, rdlen);
		if (!r->err && !txt_valid(out->rd.raw.data, rdlen))
			goto corrupt;
		break;
	default:
		out->rd.raw.len = (uint16_t)rdlen;
		out->rd.raw.data = dns_rd_take(r, rdlen);
		break;
	}
	if (!r->err && r->pos != end)
		goto corrupt;
	return;
corrupt:
	if (!r->err)
		r->err = NETD_ECORRUPT;
}

void dns_rd_rr(struct dns_rd *r, struct dns_rr *out)
{
	dns_rd_name(r, &out->owner);
	out->type = dns_rd_u16(r);
	out->cls = dns_rd_u16(r);
	out->ttl = dns_rd_u32(r);
	uint16_t rdlen = dns_rd_u16(r);
	if (r->err)
		return;
	if (rdlen > dns_rd_left(r)) {
		r->err = NETD_ECORRUPT;
		return;
	}
	out->no_rdata = rdlen == 0 && (out->cls == DNS_C_ANY || out->cls == DNS_C_NONE);
	if (out->no_rdata) {
		memset(&out->rd, 0, sizeof out->rd);
		return;
	}
	rd_rdata(r, rdlen, out);
}

int dns_txt_rdata(const char *text, uint8_t *buf, size_t cap)
{
	size_t tl = strlen(text), o = 0, i = 0;
	do {
		size_t chunk = tl - i > 255 ? 255 : tl - i;
		if (o + 1 + chunk > cap || o + 1 + chunk > 65535)
			return NETD_ETOOBIG;
		buf[o] = (uint8_t)chunk;
		memcpy(buf + o + 1, text + i, chunk);
		o += 1 + chunk;
		i += chunk;
	} while (i < tl);
	return (int)o;
}

bool dns_rr_eq(const struct dns_rr *a, const struct dns_rr *b)
{
	if (!dns_name_eq(&a->owner, &b->owner) || a->type != b->type || a->cls != b->cls ||
	    a->no_rdata != b->no_rdata)
		return false;
	if (a->no_rdata)
		return true;
	switch (a->type) {
	case DNS_T_A:
		return memcmp(a->rd.a, b->rd.a, 4) == 0;
	case DNS_T_AAAA:
		return memcmp(a->rd.aaaa, b->rd.aaaa, 16) == 0;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		return dns_name_eq(&a->rd.target, &b->rd.target);
	case DNS_T_SOA:
		return dns_name_eq(&a->rd.soa.mname, &b->rd.soa.mname) &&
		       dns_name_eq(&a->rd.soa.rname, &b->rd.soa.rname) &&
		       a->rd.soa.serial == b->rd.soa.serial && a->rd.soa.refresh == b->rd.soa.refresh &&
		       a->rd.soa.retry == b->rd.soa.retry && a->rd.soa.expire == b->rd.soa.expire &&
		       a->rd.soa.minimum == b->rd.soa.minimum;
	default:
		return a->rd.raw.len == b->rd.raw.len &&
		       (a->rd.raw.len == 0 || memcmp(a->rd.raw.data, b->rd.raw.data, a->rd.raw.len) == 0);
	}
}

const char *dns_type_name(uint16_t type, char *buf, size_t cap)
{
	switch (type) {
	case DNS_T_A: return "A";
	case DNS_T_NS: return "NS";
	case DNS_T_CNAME: return "CNAME";
	case DNS_T_SOA: return "SOA";
	case DNS_T_PTR: return "PTR";
	case DNS_T_TXT: return "TXT";
	case DNS_T_AAAA: return "AAAA";
	case DNS_T_OPT: return "OPT";
	case DNS_T_TSIG: return "TSIG";
	case DNS_T_AXFR: return "AXFR";
	case DNS_T_ANY: return "ANY";
	default:
		snprintf(buf, cap, "TYPE%u", type);
		return buf;
	}
}

const char *dns_rcode_name(unsigned rcode, char *buf, size_t cap)
{
	static const char *const names[] = {
		[DNS_RC_NOERROR] = "NOERROR", [DNS_RC_FORMERR] = "FORMERR",
		[DNS_RC_SERVFAIL] = "SERVFAIL", [DNS_RC_NXDOMAIN] = "NXDOMAIN",
		[DNS_RC_NOTIMP] = "NOTIMP", [DNS_RC_REFUSED] = "REFUSED",
		[DNS_RC_YXDOMAIN] = "YXDOMAIN", [DNS_RC_YXRRSET] = "YXRRSET",
		[DNS_RC_NXRRSET] = "NXRRSET", [DNS_RC_NOTAUTH] = "NOTAUTH",
		[DNS_RC_NOTZONE] = "NOTZONE", [DNS_RC_BADSIG] = "BADSIG",
		[DNS_RC_BADKEY] = "BADKEY", [DNS_RC_BADTIME] = "BADTIME",
		[DNS_RC_BADTRUNC] = "BADTRUNC",
	};
	if (rcode < sizeof names / sizeof names[0] && names[rcode])
		return names[rcode];
	snprintf(buf, cap, "RCODE%u", rcode);
	return buf;
}

/* ---- message parser --------------------------------------------------- */

int dns_msg_iter_init(struct dns_msg_iter *it, const uint8_t *wire, size_t len)
{
	if (len > DNS_MSG_MAX)
		return NETD_ECORRUPT;
	dns_rd_init(&it->r, wire, len);
	dns_rd_header(&it->r, &it->hdr);
	if (it->r.err)
		return NETD_ECORRUPT;
	/* Smallest question 5 bytes, smallest RR 11. */
	size_t nrr = (size_t)it->hdr.ancount + it->hdr.nscount + it->hdr.arcount;
	if ((size_t)it->hdr.qdcount * 5 + nrr * 11 > len - DNS_HEADER_LEN)
		return NETD_ECORRUPT;
	it->section = DNS_S_QD;
	it->left = it->hdr.qdcount;
	return 0;
}

int dns_msg_iter_next(struct dns_msg_iter *it, struct dns_msg_ref *ref)
{
	const uint16_t counts[4] = {it->hdr.qdcount, it->hdr.ancount, it->hdr.nscount,
				    it->hdr.arcount};
	while (it->left == 0) {
		if (it->section == DNS_S_AR)
			return it->r.err || it->r.pos != it->r.len ? NETD_ECORRUPT : 0;
		it->section++;
		it->left = counts[it->section];
	}
	ref->off = (uint16_t)it->r.pos;
	if (it->section == DNS_S_QD) {
		struct dns_question q;
		dns_rd_question(&it->r, &q);
		ref->type = q.type;
		ref->cls = q.cls;
	} else {
		struct dns_rr rr;
		dns_rd_rr(&it->r, &rr);
		ref->type = rr.type;
		ref->cls = rr.cls;
	}
	if (it->r.err)
		return NETD_ECORRUPT;
	ref->end = (uint16_t)it->r.pos;
	ref->section = (uint8_t)it->section;
	it->left--;
	return 1;
}

int dns_msg_parse(struct dns_msg *m, const uint8_t *wire, size_t len)
{
	struct dns_msg_iter it;
	m->wire = wire;
	m->len = len;
	m->n = 0;
	int rc = dns_msg_iter_init(&it, wire, len);
	if (rc)
		return rc;
	m->hdr = it.hdr;
	size_t total = (size_t)it.hdr.qdcount + it.hdr.ancount + it.hdr.nscount + it.hdr.arcount;
	if (total > DNS_MSG_RR_MAX)
		return NETD_ETOOBIG;
	while ((rc = dns_msg_iter_next(&it, &m->ref[m->n])) == 1)
		m->n++;
	return rc;
}

int dns_msg_rr(const struct dns_msg *m, unsigned i, struct dns_rr *out)
{
	if (i >= m->n)
		return NETD_EINVAL;
	struct dns_rd r;
	dns_rd_init(&r, m->wire, m->len);
	r.pos = m->ref[i].off;
	if (m->ref[i].section == DNS_S_QD) {
		struct dns_question q;
		dns_rd_question(&r, &q);
		memset(out, 0, sizeof *out);
		out->owner = q.name;
		out->type = q.type;
		out->cls = q.cls;
		out->no_rdata = true;
	} else {
		dns_rd_rr(&r, out);
	}
	return r.err ? NETD_ECORRUPT : 0;
}
