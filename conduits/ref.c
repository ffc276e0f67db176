/* conduits/ref.c — interface references: speeds, parsing, printing.
 *
 * The parser walks the text once with a cursor and stops at the first
 * problem, naming the reference and the reason.  Every accepted text has a
 * canonical form (cdt_ref_print) that parses back to the same value.
 */
#include "conduits/cdt_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

struct speed_tok {
	const char *text;
	uint32_t mbps;
};

static const struct speed_tok speeds[] = {
	{ "10m", 10 },       { "100m", 100 },     { "1g", 1000 },     { "2.5g", 2500 },
	{ "5g", 5000 },      { "10g", 10000 },    { "25g", 25000 },   { "40g", 40000 },
	{ "50g", 50000 },    { "100g", 100000 },  { "200g", 200000 }, { "400g", 400000 },
};
#define N_SPEEDS (sizeof speeds / sizeof speeds[0])

const uint32_t cdt_speed_classes[] = { 10, 100, 1000, 2500, 5000, 10000,
				       25000, 40000, 50000, 100000, 200000, 400000 };
const size_t cdt_n_speed_classes = sizeof cdt_speed_classes / sizeof cdt_speed_classes[0];

#define SPEED_LIST "10m 100m 1g 2.5g 5g 10g 25g 40g 50g 100g 200g 400g"

const char *cdt_quote(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return buf;
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[5];
		size_t tl;

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			tmp[0] = (char)c;
			tl = 1;
		} else {
			tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", c);
		}
		if (o + tl + 4 > len) {  /* keep room for "..." + NUL */
			if (o + 4 <= len) {
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(buf + o, tmp, tl);
		o += tl;
	}
	buf[o < len ? o : len - 1] = '\0';
	return buf;
}

int cdt_speed_parse(const char *text, uint32_t *out)
{
	char low[8];
	size_t l = text ? strlen(text) : 0;

	if (l == 0 || l >= sizeof low)
		return NETD_EINVAL;
	for (size_t i = 0; i <= l; i++)
		low[i] = (char)tolower((unsigned char)text[i]);
	for (size_t i = 0; i < N_SPEEDS; i++) {
		if (!strcmp(low, speeds[i].text)) {
			*out = speeds[i].mbps;
			return 0;
		}
	}
	return NETD_EINVAL;
}

static const char *speed_token(uint32_t mbps)
{
	for (size_t i = 0; i < N_SPEEDS; i++)
		if (speeds[i].mbps == mbps)
			return speeds[i].text;
	return NULL;
}

const char *cdt_speed_print(uint32_t mbps, char *buf, size_t len)
{
	const char *tok = speed_token(mbps);

	if (!len)
		return buf;
	if (mbps == 0)
		snprintf(buf, len, "unknown speed");
	else if (tok)
		snprintf(buf, len, "%s", tok);
	else if (mbps % 1000 == 0)
		snprintf(buf, len, "%ug", (unsigned)(mbps / 1000));
	else
		snprintf(buf, len, "%um", (unsigned)mbps);
	return buf;
}

/* ---- parsing ---- */

static int ref_err(struct netd_err *e, const char *text, const char *fmt, const char *detail)
{
	char q[CDT_QUOTE_MAX], d[CDT_QUOTE_MAX];

	cdt_quote(text, q, sizeof q);
	cdt_quote(detail, d, sizeof d);
	return netd_err_set(e, NETD_EINVAL, NULL, "interface reference \"%s\": %s%s%s", q, fmt,
			    detail ? " " : "", detail ? d : "");
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly @n hex digits at *@p, value in *@v; advances *@p. */
static bool hex_n(const char **p, size_t n, uint32_t *v)
{
	uint32_t x = 0;

	for (size_t i = 0; i < n; i++) {
		int h = hexval((*p)[i]);
		if (h < 0)
			return false;
		x = x << 4 | (uint32_t)h;
	}
	*p += n;
	*v = x;
	return true;
}

static size_t hex_run(const char *p)
{
	size_t n = 0;

	while (hexval(p[n]) >= 0)
		n++;
	return n;
}

static int parse_mac(const char *text, const char *p, struct cdt_ref *r, struct netd_err *e)
{
	static const uint8_t zero[6];

	for (int i = 0; i < 6; i++) {
		uint32_t v;
		if (i > 0 && *p++ != ':')
			return ref_err(e, text, "bad MAC: expected six hex pairs separated by ':'", NULL);
		if (!hex_n(&p, 2, &v))
			return ref_err(e, text, "bad MAC: expected six hex pairs separated by ':'", NULL);
		r->mac[i] = (uint8_t)v;
	}
	if (*p)
		return ref_err(e, text, "trailing junk after the MAC:", p);
	if (r->mac[0] & 1)
		return ref_err(e, text, "bad MAC: a multicast address names no NIC", NULL);
	if (!memcmp(r->mac, zero, 6))
		return ref_err(e, text, "bad MAC: all zeroes names no NIC", NULL);
	r->kind = CDT_REF_MAC;
	return 0;
}

static int parse_pci(const char *text, const char *p, struct cdt_ref *r, struct netd_err *e)
{
	static const char want[] = "bad PCI bus path: expected DDDD:BB:DD.F (hex; function 0-7)";
	uint32_t bus, dev, fn;
	size_t dl = hex_run(p);

	if (dl < 4 || dl > 8)
		return ref_err(e, text, want, NULL);
	if (!hex_n(&p, dl, &r->pci.domain) || *p++ != ':' || !hex_n(&p, 2, &bus) || *p++ != ':' ||
	    !hex_n(&p, 2, &dev) || *p++ != '.' || !(*p >= '0' && *p <= '7'))
		return ref_err(e, text, want, NULL);
	fn = (uint32_t)(*p++ - '0');
	if (*p)
		return ref_err(e, text, "trailing junk after the PCI bus path:", p);
	if (dev > 0x1f)
		return ref_err(e, text, "bad PCI bus path: device above 1f", NULL);
	r->pci.bus = (uint8_t)bus;
	r->pci.dev = (uint8_t)dev;
	r->pci.fn = (uint8_t)fn;
	r->kind = CDT_REF_PCI;
	return 0;
}

static int parse_name(const char *text, const char *p, struct cdt_ref *r, struct netd_err *e)
{
	size_t l = strlen(p);

	if (l == 0)
		return ref_err(e, text, "empty interface name", NULL);
	if (l >= CDT_IFNAME_MAX)
		return ref_err(e, text, "interface name longer than 15 characters", NULL);
	if (!strcmp(p, ".") || !strcmp(p, ".."))
		return ref_err(e, text, "interface name cannot be . or ..", NULL);
	for (size_t i = 0; i < l; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':')
			return ref_err(e, text, "interface name holds a space, '/', ':' or a non-ASCII byte", NULL);
	}
	memcpy(r->name, p, l + 1);
	r->kind = CDT_REF_NAME;
	return 0;
}

static int parse_index(const char *text, const char *p, const char *speed_text, struct cdt_ref *r,
		       struct netd_err *e)
{
	uint32_t v = 0;
	size_t nd = 0;

	while (p[nd] >= '0' && p[nd] <= '9') {
		if (v <= CDT_INDEX_MAX)
			v = v * 10 + (uint32_t)(p[nd] - '0');
		nd++;
	}
	if (nd == 0 && !*p)
		return ref_err(e, text, "missing index after speed", speed_text);
	if (nd == 0)
		return ref_err(e, text, "expected an index after the speed, found", p);
	if (v == 0 && nd == 1)
		return ref_err(e, text, "index 0: indexes start at 1", NULL);
	if (p[0] == '0')
		return ref_err(e, text, "index has a leading zero", NULL);
	if (v > CDT_INDEX_MAX)
		return ref_err(e, text, "index out of range 1..1024", NULL);
	if (p[nd])
		return ref_err(e, text, "trailing junk after the index:", p + nd);
	r->index = v;
	return 0;
}

static int parse_speed_ref(const char *text, const char *p, struct cdt_ref *r, struct netd_err *e)
{
	char tok[12];
	size_t n = 0;
	char msg[96];

	while ((p[n] >= '0' && p[n] <= '9') || p[n] == '.')
		n++;
	if (n == 0)
		return ref_err(e, text,
			       "expected [+-?]<speed><index> (speeds " SPEED_LIST ") or mac:, pci:, name:",
			       NULL);
	if (p[n] != 'm' && p[n] != 'g' && p[n] != 'M' && p[n] != 'G') {
		memcpy(tok, p, n < 8 ? n : 8);
		tok[n < 8 ? n : 8] = '\0';
		return ref_err(e, text, "speed without a unit (m or g):", tok);
	}
	n++;
	if (n >= 8) {
		memcpy(tok, p, 8);
		memcpy(tok + 8, "...", 4);
	} else {
		memcpy(tok, p, n);
		tok[n] = '\0';
	}
	if (n >= 8 || cdt_speed_parse(tok, &r->speed) < 0) {
		snprintf(msg, sizeof msg, "unknown speed \"%s\" (known: %s)", tok, SPEED_LIST);
		return ref_err(e, text, msg, NULL);
	}
	r->kind = CDT_REF_SPEED;
	return parse_index(text, p + n, speed_token(r->speed), r, e);
}

int cdt_ref_parse(const char *text, struct cdt_ref *out, struct netd_err *e)
{
	struct cdt_ref r;
	const char *p = text;
	int rc;

	memset(&r, 0, sizeof r);
	if (!text || !*text)
		return netd_err_set(e, NETD_EINVAL, NULL, "empty interface reference");
	if (strlen(text) > CDT_REF_TEXT_MAX)
		return ref_err(e, text, "longer than 64 characters", NULL);
	if (!strncmp(p, "mac:", 4))
		rc = parse_mac(text, p + 4, &r, e);
	else if (!strncmp(p, "pci:", 4))
		rc = parse_pci(text, p + 4, &r, e);
	else if (!strncmp(p, "name:", 5))
		rc = parse_name(text, p + 5, &r, e);
	else {
		if (*p == '+' || *p == '-' || *p == '?')
			r.sign = (uint8_t)*p++;
		if (r.sign && (!strncmp(p, "mac:", 4) || !strncmp(p, "pci:", 4) || !strncmp(p, "name:", 5)))
			return ref_err(e, text, "a sign applies to speed references only", NULL);
		rc = parse_speed_ref(text, p, &r, e);
	}
	if (rc < 0)
		return rc;
	*out = r;
	return 0;
}

/* ---- printing ---- */

const char *cdt_ref_print(const struct cdt_ref *r, char *buf, size_t len)
{
	const char *tok;
	char sign[2] = { (char)r->sign, '\0' };

	if (!len)
		return buf;
	switch (r->kind) {
	case CDT_REF_SPEED:
		tok = speed_token(r->speed);
		snprintf(buf, len, "%s%s%u", sign, tok ? tok : "?speed", (unsigned)r->index);
		break;
	case CDT_REF_MAC:
		snprintf(buf, len, "mac:%02x:%02x:%02x:%02x:%02x:%02x", r->mac[0], r->mac[1], r->mac[2],
			 r->mac[3], r->mac[4], r->mac[5]);
		break;
	case CDT_REF_PCI:
		snprintf(buf, len, "pci:%04x:%02x:%02x.%u", (unsigned)r->pci.domain, r->pci.bus, r->pci.dev,
			 (unsigned)r->pci.fn);
		break;
	case CDT_REF_NAME:
		snprintf(buf, len, "name:%.*s", CDT_IFNAME_MAX - 1, r->name);
		break;
	default:
		snprintf(buf, len, "(invalid reference)");
		break;
	}
	return buf;
}

bool cdt_ref_equal(const struct cdt_ref *a, const struct cdt_ref *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case CDT_REF_SPEED:
		return a->sign == b->sign && a->speed == b->speed && a->index == b->index;
	case CDT_REF_MAC:
		return !memcmp(a->mac, b->mac, 6);
	case CDT_REF_PCI:
		return a->pci.domain == b->pci.domain && a->pci.bus == b->pci.bus && a->pci.dev == b->pci.dev &&
		       a->pci.fn == b->pci.fn;
	case CDT_REF_NAME:
		return !strncmp(a->name, b->name, CDT_IFNAME_MAX);
	default:
		return true;
	}
}
