/* core/addr.c — IPv4/IPv6 parse, print (RFC 5952), compare, arithmetic.
 *
 * Parsing is our own rather than inet_pton(): inet_pton accepts forms we
 * reject on purpose (and its v4 leniency differs between libcs), and the
 * exact grammar is part of netd's contract with its users.
 *
 * Arithmetic works on the address as one unsigned 128-bit number (v4 uses
 * the low 32 bits of it); 16 big-endian bytes convert to and from it in a
 * loop, which keeps the byte order explicit.
 */
#include "core/addr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

/* __extension__ keeps -pedantic quiet about the non-ISO type. */
__extension__ typedef unsigned __int128 u128;

#define V4_LEN 4
#define V6_LEN 16
#define V6_GROUPS 8

size_t addr_family_len(int family)
{
	switch (family) {
	case ADDR_V4: return V4_LEN;
	case ADDR_V6: return V6_LEN;
	default: return 0;
	}
}

static unsigned family_bits(int family)
{
	return (unsigned)addr_family_len(family) * 8;
}

/* ---- parsing ---------------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One v4 octet at *sp: 1-3 digits, 0..255, no leading zero. Advances *sp. */
static int parse_octet(const char **sp, uint8_t *out)
{
	const char *s = *sp;
	unsigned v = 0;
	size_t n = 0;
	while (is_digit(s[n])) {
		if (n == 3)
			return NETD_EINVAL;
		v = v * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (n == 0 || v > 255 || (n > 1 && s[0] == '0'))
		return NETD_EINVAL;
	*out = (uint8_t)v;
	*sp = s + n;
	return 0;
}

/* Exactly "a.b.c.d" and nothing after it. */
static int parse_v4(const char *s, uint8_t out[V4_LEN])
{
	uint8_t b[V4_LEN];
	for (int i = 0; i < V4_LEN; i++) {
		if (i > 0) {
			if (*s != '.')
				return NETD_EINVAL;
			s++;
		}
		if (parse_octet(&s, &b[i]) < 0)
			return NETD_EINVAL;
	}
	if (*s != '\0')
		return NETD_EINVAL;
	memcpy(out, b, V4_LEN);
	return 0;
}

/* RFC 4291 section 2.2 text forms: eight groups of 1-4 hex digits, one "::"
 * standing for one or more zero groups, and optionally the last 32 bits as
 * a dotted quad.  No zone id, no brackets, no prefix length. */
static int parse_v6(const char *s, uint8_t out[V6_LEN])
{
	uint16_t g[V6_GROUPS];
	int n = 0;      /* groups written to g */
	int gap = -1;   /* index in g where "::" stands, or -1 */

	if (s[0] == ':') {
		if (s[1] != ':')
			return NETD_EINVAL;  /* a lone leading ':' */
		gap = 0;
		s += 2;
		if (*s == '\0')
			goto expand;
	}
	for (;;) {
		/* A group (or the dotted quad) is required here. */
		size_t nd = 0;
		unsigned v = 0;
		while (hex_val(s[nd]) >= 0) {
			if (nd < 5)  /* enough to tell "too long"; avoids overflow */
				v = v * 16 + (unsigned)hex_val(s[nd]);
			nd++;
		}
		if (s[nd] == '.') {
			if (n > V6_GROUPS - 2)
				return NETD_EINVAL;
			uint8_t q[V4_LEN];
			if (parse_v4(s, q) < 0)
				return NETD_EINVAL;
			g[n++] = (uint16_t)(q[0] << 8 | q[1]);
			g[n++] = (uint16_t)(q[2] << 8 | q[3]);
			break;  /* parse_v4 consumed the rest of the string */
		}
		if (nd == 0 || nd > 4 || n == V6_GROUPS)
			return NETD_EINVAL;
		g[n++] = (uint16_t)v;
		s += nd;
		if (*s == '\0')
			break;
		if (*s != ':')
			return NETD_EINVAL;
		s++;
		if (*s == ':') {
			if (gap >= 0)
				return NETD_EINVAL;  /* a second "::" */
			gap = n;
			s++;
			if (*s == '\0')
				break;
		}
	}
expand:
	if (gap < 0 ? n != V6_GROUPS : n > V6_GROUPS - 1)
		return NETD_EINVAL;
	uint16_t full[V6_GROUPS] = {0};
	if (gap < 0) {
		memcpy(full, g, sizeof full);
	} else {
		int tail = n - gap;
		memcpy(full, g, (size_t)gap * sizeof g[0]);
		memcpy(full + V6_GROUPS - tail, g + gap, (size_t)tail * sizeof g[0]);
	}
	for (int i = 0; i < V6_GROUPS; i++) {
		out[2 * i] = (uint8_t)(full[i] >> 8);
		out[2 * i + 1] = (uint8_t)full[i];
	}
	return 0;
}

int addr_parse_family(const char *s, int family, struct addr *out)
{
	if (!s)
		return NETD_EINVAL;
	struct addr a = {0};
	int rc;
	if (family == ADDR_V4)
		rc = parse_v4(s, a.b);
	else if (family == ADDR_V6)
		rc = parse_v6(s, a.b);
	else
		return NETD_EINVAL;
	if (rc < 0)
		return rc;
	a.family = (uint8_t)family;
	*out = a;
	return 0;
}

int addr_parse(const char *s, struct addr *out)
{
	if (!s)
		return NETD_EINVAL;
	return addr_parse_family(s, strchr(s, ':') ? ADDR_V6 : ADDR_V4, out);
}

/* ---- printing --------------------------------------------------------- */

/* Copy @src into @buf the way snprintf would: cut, always terminated. */
static char *copy_out(const char *src, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	size_t n = strlen(src);
	if (n >= len)
		n = len - 1;
	memcpy(buf, src, n);
	buf[n] = '\0';
	return buf;
}

static size_t put_dec_octet(char *p, uint8_t v)
{
	size_t n = 0;
	if (v >= 100)
		p[n++] = (char)('0' + v / 100);
	if (v >= 10)
		p[n++] = (char)('0' + v / 10 % 10);
	p[n++] = (char)('0' + v % 10);
	return n;
}

static size_t put_v4(char *p, const uint8_t *b)
{
	size_t n = 0;
	for (int i = 0; i < V4_LEN; i++) {
		if (i > 0)
			p[n++] = '.';
		n += put_dec_octet(p + n, b[i]);
	}
	return n;
}

/* Lowercase hex without leading zeros ("0" for zero). */
static size_t put_hex_group(char *p, uint16_t v)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;
	bool started = false;
	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned d = (v >> shift) & 0xf;
		if (d || started || shift == 0) {
			p[n++] = digits[d];
			started = true;
		}
	}
	return n;
}

/* ::ffff:0:0/96 — RFC 5952 section 5 prints these with a dotted quad. */
static bool is_v4_mapped(const uint8_t *b)
{
	static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(b, pre, sizeof pre) == 0;
}

/* RFC 5952 section 4: compress the longest run of two or more zero groups,
 * the first one on a tie; never a single group. */
static size_t put_v6(char *p, const uint8_t *b)
{
	if (is_v4_mapped(b)) {
		memcpy(p, "::ffff:", 7);
		return 7 + put_v4(p + 7, b + 12);
	}
	uint16_t g[V6_GROUPS];
	for (int i = 0; i < V6_GROUPS; i++)
		g[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);

	int best = -1, best_len = 1;  /* runs must beat 1 to count */
	for (int i = 0; i < V6_GROUPS;) {
		if (g[i] != 0) {
			i++;
			continue;
		}
		int j = i;
		while (j < V6_GROUPS && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}

	size_t n = 0;
	for (int i = 0; i < V6_GROUPS; i++) {
		if (i == best) {
			p[n++] = ':';
			p[n++] = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			p[n++] = ':';
		n += put_hex_group(p + n, g[i]);
	}
	return n;
}

/* An unset or unknown family prints as "?" so a log line still shows it. */
char *addr_print(const struct addr *a, char *buf, size_t len)
{
	char tmp[ADDR_STRLEN];
	size_t n;
	if (a->family == ADDR_V4)
		n = put_v4(tmp, a->b);
	else if (a->family == ADDR_V6)
		n = put_v6(tmp, a->b);
	else
		n = (size_t)(stpcpy(tmp, "?") - tmp);
	tmp[n] = '\0';
	return copy_out(tmp, buf, len);
}

void addr_from_bytes(struct addr *out, int family, const void *bytes)
{
	struct addr a = {0};
	size_t n = addr_family_len(family);
	if (n > 0) {
		a.family = (uint8_t)family;
		memcpy(a.b, bytes, n);
	}
	*out = a;
}

/* ---- comparison ------------------------------------------------------- */

int addr_cmp(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->b, b->b, addr_len(a));
	return (c > 0) - (c < 0);
}

bool addr_eq(const struct addr *a, const struct addr *b)
{
	return addr_cmp(a, b) == 0;
}

bool addr_is_zero(const struct addr *a)
{
	size_t n = addr_len(a);
	for (size_t i = 0; i < n; i++)
		if (a->b[i])
			return false;
	return true;
}

/* ---- arithmetic ------------------------------------------------------- */

static u128 to_u128(const struct addr *a)
{
	u128 v = 0;
	size_t n = addr_len(a);
	for (size_t i = 0; i < n; i++)
		v = v << 8 | a->b[i];
	return v;
}

static void from_u128(struct addr *a, u128 v)
{
	size_t n = addr_len(a);
	for (size_t i = n; i-- > 0;) {
		a->b[i] = (uint8_t)v;
		v >>= 8;
	}
}

static u128 family_max(int family)
{
	return family == ADDR_V4 ? (u128)UINT32_MAX : ~(u128)0;
}

/* Returns NETD_EINVAL for an unset family (not in the header's list: it is
 * a caller bug, not a range condition). */
int addr_add(struct addr *a, uint64_t n)
{
	if (!addr_len(a))
		return NETD_EINVAL;
	u128 v = to_u128(a), max = family_max(a->family);
	if (n > max - v)
		return -ERANGE;
	from_u128(a, v + n);
	return 0;
}

int addr_sub(struct addr *a, uint64_t n)
{
	if (!addr_len(a))
		return NETD_EINVAL;
	u128 v = to_u128(a);
	if (n > v)
		return -ERANGE;
	from_u128(a, v - n);
	return 0;
}

/* last - first, or false when the pair is not a valid range. */
static bool range_diff(const struct addr *first, const struct addr *last, u128 *diff)
{
	if (first->family != last->family || !addr_len(first) || addr_cmp(first, last) > 0)
		return false;
	*diff = to_u128(last) - to_u128(first);
	return true;
}

/* Returns 0 for an invalid range (families differ, or last < first). */
uint64_t addr_range_size(const struct addr *first, const struct addr *last)
{
	u128 d;
	if (!range_diff(first, last, &d))
		return 0;
	return d >= UINT64_MAX ? UINT64_MAX : (uint64_t)d + 1;
}

/* The count is diff + 1, which for ::/0 is 2^128 and does not fit in u128:
 * print diff in decimal, then add one to the digit string. */
char *addr_range_size_dec(const struct addr *first, const struct addr *last,
			  char *buf, size_t len)
{
	u128 d;
	if (!range_diff(first, last, &d))
		return copy_out("0", buf, len);

	char rev[ADDR_DECIMAL_MAX];  /* least significant digit first */
	size_t n = 0;
	do {
		rev[n++] = (char)('0' + (unsigned)(d % 10));
		d /= 10;
	} while (d);
	size_t i = 0;
	while (i < n && rev[i] == '9')
		rev[i++] = '0';
	if (i == n)
		rev[n++] = '1';
	else
		rev[i]++;

	char out[ADDR_DECIMAL_MAX];
	for (size_t k = 0; k < n; k++)
		out[k] = rev[n - 1 - k];
	out[n] = '\0';
	return copy_out(out, buf, len);
}

/* ---- prefixes --------------------------------------------------------- */

/* Keep the first @len bits of @b (of @blen bytes), zero the rest; or, with
 * @set_host, set the rest to one. */
static void apply_mask(uint8_t *b, size_t blen, unsigned len, bool set_host)
{
	for (size_t i = 0; i < blen; i++) {
		unsigned bit = (unsigned)i * 8;
		uint8_t net;  /* mask of network bits in this byte */
		if (len >= bit + 8)
			net = 0xff;
		else if (len <= bit)
			net = 0;
		else
			net = (uint8_t)(0xff << (8 - (len - bit)));
		b[i] = set_host ? (uint8_t)(b[i] | ~net) : (uint8_t)(b[i] & net);
	}
}

/* Decimal length: 1-3 digits, no leading zero, <= @max, nothing after. */
static int parse_len(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t n = 0;
	while (is_digit(s[n])) {
		if (n == 3)
			return NETD_EINVAL;
		v = v * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (n == 0 || s[n] != '\0' || (n > 1 && s[0] == '0') || v > max)
		return NETD_EINVAL;
	*out = v;
	return 0;
}

int prefix_parse(const char *s, bool strict, struct prefix *out)
{
	if (!s)
		return NETD_EINVAL;
	const char *slash = strchr(s, '/');
	if (!slash)
		return NETD_EINVAL;
	/* The longest valid address text is ADDR_STRLEN - 1 characters. */
	size_t alen = (size_t)(slash - s);
	if (alen == 0 || alen >= ADDR_STRLEN)
		return NETD_EINVAL;
	char atext[ADDR_STRLEN];
	memcpy(atext, s, alen);
	atext[alen] = '\0';

	struct prefix p = {0};
	unsigned len;
	if (addr_parse(atext, &p.a) < 0 || parse_len(slash + 1, family_bits(p.a.family), &len) < 0)
		return NETD_EINVAL;
	p.len = (uint8_t)len;
	struct addr net = p.a;
	apply_mask(net.b, addr_len(&net), len, false);
	if (strict && !addr_eq(&net, &p.a))
		return NETD_EINVAL;
	p.a = net;
	*out = p;
	return 0;
}

char *prefix_print(const struct prefix *p, char *buf, size_t len)
{
	char a[ADDR_STRLEN], tmp[PREFIX_STRLEN];
	addr_print(&p->a, a, sizeof a);
	snprintf(tmp, sizeof tmp, "%s/%u", a, (unsigned)p->len);
	return copy_out(tmp, buf, len);
}

int prefix_make(const struct addr *a, unsigned len, struct prefix *out)
{
	if (!addr_len(a) || len > family_bits(a->family))
		return NETD_EINVAL;
	struct prefix p = {.a = *a, .len = (uint8_t)len};
	apply_mask(p.a.b, addr_len(a), len, false);
	*out = p;
	return 0;
}

/* Do @a and @b agree on their first @len bits? */
static bool same_network(const struct addr *a, const struct addr *b, unsigned len)
{
	struct addr x = *a, y = *b;
	apply_mask(x.b, addr_len(&x), len, false);
	apply_mask(y.b, addr_len(&y), len, false);
	return addr_eq(&x, &y);
}

bool prefix_contains(const struct prefix *p, const struct addr *a)
{
	return p->a.family == a->family && addr_len(a) && same_network(&p->a, a, p->len);
}

bool prefix_overlaps(const struct prefix *p, const struct prefix *q)
{
	if (p->a.family != q->a.family || !addr_len(&p->a))
		return false;
	/* Two prefixes overlap iff one contains the other: compare on the
	 * shorter length. */
	return same_network(&p->a, &q->a, p->len < q->len ? p->len : q->len);
}

void prefix_first(const struct prefix *p, struct addr *out)
{
	struct addr a = p->a;
	apply_mask(a.b, addr_len(&a), p->len, false);
	*out = a;
}

void prefix_last(const struct prefix *p, struct addr *out)
{
	struct addr a = p->a;
	apply_mask(a.b, addr_len(&a), p->len, true);
	*out = a;
}

void addr_host_part(const struct addr *a, unsigned len, struct addr *out)
{
	struct addr h = *a;
	size_t n = addr_len(&h);
	/* Zero the network bits = keep only the bits a mask would clear. */
	for (size_t i = 0; i < n; i++) {
		unsigned bit = (unsigned)i * 8;
		if (len >= bit + 8)
			h.b[i] = 0;
		else if (len > bit)
			h.b[i] &= (uint8_t)(0xff >> (len - bit));
	}
	*out = h;
}

int prefix_with_host(const struct prefix *p, const struct addr *host, struct addr *out)
{
	size_t n = addr_len(&p->a);
	if (!n || host->family != p->a.family)
		return NETD_EINVAL;
	struct addr net_bits;
	prefix_first(&(struct prefix){.a = *host, .len = p->len}, &net_bits);
	if (!addr_is_zero(&net_bits))
		return NETD_EINVAL;  /* host does not fit in the host part */
	struct addr r;
	prefix_first(p, &r);
	for (size_t i = 0; i < n; i++)
		r.b[i] |= host->b[i];
	*out = r;
	return 0;
}
