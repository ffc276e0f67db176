/* core/addr.h — IPv4/IPv6 addresses and prefixes: parse, print, compare,
 * arithmetic.
 *
 * An address is 4 or 16 bytes in network order inside a fixed 16-byte array,
 * so that memcmp() order equals numeric order and the bytes can be used as
 * ordered store keys directly.  Text output for v6 follows RFC 5952
 * (lowercase, longest zero run compressed, first one on a tie, a lone zero
 * group never compressed, IPv4-mapped as ::ffff:a.b.c.d).  Parsing is strict:
 * no zone ids, no leading zeros in v4 octets, no whitespace.
 */
#ifndef NETD_CORE_ADDR_H
#define NETD_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { ADDR_V4 = 4, ADDR_V6 = 6 };

struct addr {
	uint8_t family;  /* ADDR_V4 or ADDR_V6; 0 = unset */
	uint8_t b[16];   /* v4 uses b[0..3]; the rest is zero */
};

struct prefix {
	struct addr a;   /* network address; host bits are zero */
	uint8_t len;     /* 0..32 or 0..128 */
};

#define ADDR_STRLEN 46     /* fits any address + NUL */
#define PREFIX_STRLEN 50   /* fits any prefix + NUL */
#define ADDR_DECIMAL_MAX 40 /* fits 2^128 in decimal + NUL */

/* Bytes used by @family: 4 or 16 (0 for an unknown family). */
size_t addr_family_len(int family);
static inline size_t addr_len(const struct addr *a) { return addr_family_len(a->family); }

/* Parse v4 or v6 text (family detected). 0, or NETD_EINVAL. */
int addr_parse(const char *s, struct addr *out);
/* Same, but only @family is accepted. */
int addr_parse_family(const char *s, int family, struct addr *out);
/* Print into @buf (>= ADDR_STRLEN; a shorter one gets a cut string). An
 * unset family prints as "?". Returns @buf. */
char *addr_print(const struct addr *a, char *buf, size_t len);
/* Build from raw bytes (4 or 16 of them). */
void addr_from_bytes(struct addr *out, int family, const void *bytes);

/* Order: family first (v4 < v6), then numeric value. */
int addr_cmp(const struct addr *a, const struct addr *b);
bool addr_eq(const struct addr *a, const struct addr *b);
bool addr_is_zero(const struct addr *a);

/* a += n. Returns 0, or -ERANGE (and leaves @a unchanged) on overflow;
 * NETD_EINVAL if @a has no family (also for addr_sub). */
int addr_add(struct addr *a, uint64_t n);
/* a -= n. Returns 0, or -ERANGE (and leaves @a unchanged) on underflow. */
int addr_sub(struct addr *a, uint64_t n);
static inline int addr_inc(struct addr *a) { return addr_add(a, 1); }
static inline int addr_dec(struct addr *a) { return addr_sub(a, 1); }

/* Number of addresses in [first, last] (last >= first, same family),
 * saturated at UINT64_MAX. 0 if the range is invalid. */
uint64_t addr_range_size(const struct addr *first, const struct addr *last);
/* Exact number of addresses in [first, last] in decimal (up to 2^128), into
 * @buf (>= ADDR_DECIMAL_MAX). "0" if the range is invalid. Returns @buf. */
char *addr_range_size_dec(const struct addr *first, const struct addr *last,
			  char *buf, size_t len);

/* Parse "a.b.c.d/n" or "x::/n". With @strict, host bits set is an error;
 * without, they are cleared. 0, or NETD_EINVAL. */
int prefix_parse(const char *s, bool strict, struct prefix *out);
char *prefix_print(const struct prefix *p, char *buf, size_t len);
/* Build from an address and length; clears host bits. NETD_EINVAL if len too long. */
int prefix_make(const struct addr *a, unsigned len, struct prefix *out);
bool prefix_contains(const struct prefix *p, const struct addr *a);
/* Does @p overlap @q (same family)? */
bool prefix_overlaps(const struct prefix *p, const struct prefix *q);
/* Lowest (network) and highest (broadcast for v4) address of @p. */
void prefix_first(const struct prefix *p, struct addr *out);
void prefix_last(const struct prefix *p, struct addr *out);
/* The host part of @a relative to @len bits of network: network bits zeroed
 * (same family as @a). */
void addr_host_part(const struct addr *a, unsigned len, struct addr *out);
/* Network bits from @p, host bits from @host (family of @p). If @host has
 * bits set within the network part (it does not fit), NETD_EINVAL. */
int prefix_with_host(const struct prefix *p, const struct addr *host, struct addr *out);

#endif
