/* dns/wire.h — DNS wire format: cursors, names, header, question, RRs and a
 * message parser.  PRIVATE to dns/ (the module's public header is dns/dns.h).
 *
 * Everything here works on plain memory; nothing does I/O.
 *
 * Cursors.  struct dns_wr writes into a caller buffer (at most
 * DNS_MSG_MAX bytes); struct dns_rd reads from caller memory.  Both carry a
 * sticky error: the first failure is kept in ->err, every later call is a
 * no-op (writes) or returns zeros (reads), so a caller checks ->err once at
 * the end.  Writing past the limit is NETD_ETOOBIG; reading past the end or
 * malformed data is NETD_ECORRUPT.  Integers are big-endian.
 *
 * Names.  struct dns_name holds a name in uncompressed wire form (length
 * octets + labels + the root octet), as given (case kept).  Comparisons are
 * ASCII case-insensitive.  Reading follows compression pointers only
 * backwards (to an offset before the pointer), so a reader terminates on
 * any input; the decoded name is checked against the 255-octet limit.
 * Writing compresses owner names and the names inside NS, CNAME, PTR and SOA
 * rdata against names written earlier in the same message (RFC 1035 4.1.4,
 * RFC 3597 4); other names (TSIG) are written uncompressed.
 *
 * RRs.  A, AAAA, PTR, CNAME, NS, SOA and TXT are decoded into fields; any
 * other type keeps its rdata opaque.  TXT and opaque rdata point into the
 * buffer they were read from: a decoded struct dns_rr lives no longer than
 * that buffer.  RFC 2136 uses RRs without rdata (rdlength 0) in the classes
 * ANY and NONE: those have ->no_rdata set.
 *
 * Caveats: a struct dns_rr is ~800 bytes (three names for SOA) and
 * struct dns_msg ~5 KiB; keep them off deep recursion paths.  dns_msg_parse()
 * takes at most DNS_MSG_RR_MAX entries (NETD_ETOOBIG beyond): walk bigger
 * messages (a 64 KiB UPDATE holds ~3,000 RRs) with struct dns_msg_iter.
 */
#ifndef NETD_DNS_WIRE_H
#define NETD_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct addr;

#define DNS_MSG_MAX 65535u     /* largest message (TCP length field) */
#define DNS_UDP_MAX 512u       /* classic UDP payload limit (no EDNS) */
#define DNS_HEADER_LEN 12u
#define DNS_NAME_MAX 255u      /* octets of a name in wire form */
#define DNS_LABEL_MAX 63u
#define DNS_NAME_STRLEN 1024u  /* fits any name as text (\DDD escapes) + NUL */
#define DNS_COMP_MAX 64u       /* names remembered for compression */
#define DNS_MSG_RR_MAX 512u    /* questions + RRs the parser accepts */

enum dns_type {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
	DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_OPT = 41, DNS_T_TSIG = 250,
	DNS_T_AXFR = 252, DNS_T_ANY = 255,
};

enum dns_class { DNS_C_IN = 1, DNS_C_NONE = 254, DNS_C_ANY = 255 };

enum dns_opcode { DNS_OP_QUERY = 0, DNS_OP_UPDATE = 5 };

/* RCODEs (RFC 1035, RFC 2136) and the TSIG error values (RFC 8945). */
enum dns_rcode {
	DNS_RC_NOERROR = 0, DNS_RC_FORMERR = 1, DNS_RC_SERVFAIL = 2,
	DNS_RC_NXDOMAIN = 3, DNS_RC_NOTIMP = 4, DNS_RC_REFUSED = 5,
	DNS_RC_YXDOMAIN = 6, DNS_RC_YXRRSET = 7, DNS_RC_NXRRSET = 8,
	DNS_RC_NOTAUTH = 9, DNS_RC_NOTZONE = 10,
	DNS_RC_BADSIG = 16, DNS_RC_BADKEY = 17, DNS_RC_BADTIME = 18,
	DNS_RC_BADTRUNC = 22,
};

/* Header flag bits (the 16-bit word after the ID). */
#define DNS_F_QR 0x8000u
#define DNS_F_AA 0x0400u
#define DNS_F_TC 0x0200u
#define DNS_F_RD 0x0100u
#define DNS_F_RA 0x0080u
#define DNS_F_OPCODE(f) (((f) >> 11) & 0xfu)
#define DNS_F_RCODE(f) ((f) & 0xfu)

/* Write cursor over a caller buffer. */
struct dns_wr {
	uint8_t *buf;
	size_t cap;   /* writes beyond this are NETD_ETOOBIG (<= DNS_MSG_MAX) */
	size_t pos;
	int err;
	unsigned ncomp;             /* compression table entries in use */
	uint16_t comp[DNS_COMP_MAX]; /* offsets of names written earlier */
};

/* Read cursor over caller memory (the whole message, for pointers). */
struct dns_rd {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	int err;
};

/* A domain name in uncompressed wire form; len counts the root octet, so
 * the root name is {len 1, "\0"}.  len 0 means "unset". */
struct dns_name {
	uint8_t len;
	uint8_t w[DNS_NAME_MAX];
};

struct dns_header {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount, ancount, nscount, arcount;
};

struct dns_question {
	struct dns_name name;
	uint16_t type, cls;
};

struct dns_soa {
	struct dns_name mname, rname;
	uint32_t serial, refresh, retry, expire, minimum;
};

struct dns_rr {
	struct dns_name owner;
	uint16_t type, cls;
	uint32_t ttl;
	bool no_rdata;  /* rdlength 0 (RFC 2136 ANY/NONE forms); rd unused */
	union {
		uint8_t a[4];
		uint8_t aaaa[16];
		struct dns_name target;   /* NS, CNAME, PTR */
		struct dns_soa soa;
		struct {                  /* TXT: raw character-strings; others: opaque */
			const uint8_t *data;
			uint16_t len;
		} raw;
	} rd;
};

/* ---- cursors ---------------------------------------------------------- */

/* Start writing into @buf of @cap bytes (capped at DNS_MSG_MAX). */
void dns_wr_init(struct dns_wr *w, uint8_t *buf, size_t cap);
/* Append; on overflow set w->err = NETD_ETOOBIG and write nothing. */
void dns_wr_u8(struct dns_wr *w, uint8_t v);
void dns_wr_u16(struct dns_wr *w, uint16_t v);
void dns_wr_u32(struct dns_wr *w, uint32_t v);
void dns_wr_u48(struct dns_wr *w, uint64_t v);
void dns_wr_bytes(struct dns_wr *w, const void *p, size_t n);
/* Overwrite a u16 at @off (< w->pos); used to patch lengths and counts. */
void dns_wr_patch_u16(struct dns_wr *w, size_t off, uint16_t v);
/* Write @n uncompressed. */
void dns_wr_name(struct dns_wr *w, const struct dns_name *n);
/* Write @n compressed against earlier names; remember it for later ones. */
void dns_wr_name_comp(struct dns_wr *w, const struct dns_name *n);

/* Start reading @len bytes at @buf. */
void dns_rd_init(struct dns_rd *r, const void *buf, size_t len);
/* Consume; past the end set r->err = NETD_ECORRUPT and return 0. */
uint8_t dns_rd_u8(struct dns_rd *r);
uint16_t dns_rd_u16(struct dns_rd *r);
uint32_t dns_rd_u32(struct dns_rd *r);
uint64_t dns_rd_u48(struct dns_rd *r);
void dns_rd_bytes(struct dns_rd *r, void *out, size_t n);
/* Pointer to the next @n bytes and skip them (NULL and error if short). */
const uint8_t *dns_rd_take(struct dns_rd *r, size_t n);
/* Read a (possibly compressed) name into @out.  Sets NETD_ECORRUPT for a
 * label type other than 0/0xC0, a pointer that does not point backwards or
 * past the end, or a name over 255 octets.  @out is written on success only. */
void dns_rd_name(struct dns_rd *r, struct dns_name *out);
static inline size_t dns_rd_left(const struct dns_rd *r) { return r->err ? 0 : r->len - r->pos; }

/* ---- names ------------------------------------------------------------ */

/* Flags for dns_name_parse(). */
#define DNS_NAME_HOST 0x1u  /* every label must be an RFC 1123 host label:
				letters, digits, '-' inside; no escapes */

/* Parse presentation text into @out.  The name is taken as absolute with or
 * without the final dot; "." is the root.  Escapes \X and \DDD are accepted
 * unless DNS_NAME_HOST is set.  Returns 0, or NETD_EINVAL with a message in
 * @e (may be NULL) naming the label and the reason: empty label, label over
 * 63 octets, name over 255 octets, bad escape, character not allowed in a
 * host name, hyphen at the start or end of a label.  @out is written on
 * success only. */
int dns_name_parse(const char *text, unsigned flags, struct dns_name *out,
		   struct netd_err *e);

/* Print @n as text with the final dot ("." for the root); bytes outside
 * [!-~] and the specials . \ " ( ) ; @ $ are escaped.  Returns the length,
 * or NETD_ETOOBIG if @cap is too small (DNS_NAME_STRLEN always suffices),
 * NETD_EINVAL for an unset name.  @buf is NUL-terminated whenever cap > 0. */
int dns_name_print(const struct dns_name *n, char *buf, size_t cap);

/* Check a wire-form name held in @n for consistency (labels 1..63, ends at
 * the root octet exactly at n->len).  Returns 0 or NETD_ECORRUPT. */
int dns_name_check(const struct dns_name *n);

/* Case-insensitive equality of two names. */
bool dns_name_eq(const struct dns_name *a, const struct dns_name *b);
/* True if @n equals @zone or lies below it (case-insensitive). */
bool dns_name_in_zone(const struct dns_name *n, const struct dns_name *zone);
/* Number of labels, the root not counted ("a.b." has 2). */
unsigned dns_name_labels(const struct dns_name *n);
/* Lowercase copy (canonical form for TSIG, RFC 4034 6.2). */
void dns_name_lower(const struct dns_name *in, struct dns_name *out);
/* The reverse-mapping name of @a: d.c.b.a.in-addr.arpa. for v4 and the
 * 32-nibble ip6.arpa. name for v6.  Returns 0 or NETD_EINVAL (no family). */
int dns_name_reverse(const struct addr *a, struct dns_name *out);

/* ---- header, question, RR --------------------------------------------- */

void dns_wr_header(struct dns_wr *w, const struct dns_header *h);
void dns_rd_header(struct dns_rd *r, struct dns_header *h);
void dns_wr_question(struct dns_wr *w, const struct dns_question *q);
void dns_rd_question(struct dns_rd *r, struct dns_question *q);

/* Write @rr: owner (compressed), type, class, TTL, rdlength and rdata as
 * its type requires (nothing if rr->no_rdata).  A TXT rdata must be a valid
 * sequence of character-strings (else NETD_EINVAL in w->err). */
void dns_wr_rr(struct dns_wr *w, const struct dns_rr *rr);
/* Read one RR into @out.  rdata of a known type must fill rdlength exactly,
 * else NETD_ECORRUPT.  TXT/opaque rdata points into r->buf. */
void dns_rd_rr(struct dns_rd *r, struct dns_rr *out);

/* Build TXT rdata from @text (split into character-strings of at most 255
 * bytes; "" gives one empty string) into @buf.  Returns the rdata length,
 * or NETD_ETOOBIG if it does not fit @cap. */
int dns_txt_rdata(const char *text, uint8_t *buf, size_t cap);

/* Equality of the RRs' owner (case-insensitive), type, class and rdata
 * (names case-insensitive).  TTL is not compared. */
bool dns_rr_eq(const struct dns_rr *a, const struct dns_rr *b);

/* Name of a type / rcode for messages ("A", "TYPE99"; "NOTAUTH",
 * "RCODE12").  The result for unknown values lives in @buf (>= 16). */
const char *dns_type_name(uint16_t type, char *buf, size_t cap);
const char *dns_rcode_name(unsigned rcode, char *buf, size_t cap);

/* ---- message parser --------------------------------------------------- */

enum dns_section { DNS_S_QD = 0, DNS_S_AN = 1, DNS_S_NS = 2, DNS_S_AR = 3 };

/* Where one question/RR sits in the message (filled by dns_msg_parse). */
struct dns_msg_ref {
	uint16_t off;     /* start of the owner name */
	uint16_t end;     /* one past the last byte */
	uint16_t type, cls;
	uint8_t section;  /* enum dns_section */
};

struct dns_msg {
	const uint8_t *wire;  /* the caller's buffer, borrowed */
	size_t len;
	struct dns_header hdr;
	unsigned n;           /* entries used in ref[] = sum of the counts */
	struct dns_msg_ref ref[DNS_MSG_RR_MAX];
};

/* Walking a message entry by entry, without a table: what dns_msg_parse()
 * uses, and what code that must handle any number of RRs (TSIG over a big
 * UPDATE) uses directly. */
struct dns_msg_iter {
	struct dns_rd r;
	struct dns_header hdr;
	unsigned section;  /* current enum dns_section */
	unsigned left;     /* entries left in it */
};

/* Read the header.  Returns 0, or NETD_ECORRUPT (short, or counts that
 * cannot fit the length). */
int dns_msg_iter_init(struct dns_msg_iter *it, const uint8_t *wire, size_t len);
/* Validate the next question/RR (fully decoded) and describe it in @ref.
 * Returns 1 with an entry, 0 at the end (all counts consumed and no bytes
 * left over), NETD_ECORRUPT for malformed or trailing data. */
int dns_msg_iter_next(struct dns_msg_iter *it, struct dns_msg_ref *ref);

/* Parse and validate a whole message: header, every question and RR of the
 * four sections (each RR fully decoded), no bytes after the last RR.
 * Returns 0; NETD_ECORRUPT for truncated, malformed or trailing data;
 * NETD_ETOOBIG for more than DNS_MSG_RR_MAX entries.  @m borrows @wire. */
int dns_msg_parse(struct dns_msg *m, const uint8_t *wire, size_t len);

/* Decode entry @i of a parsed message (a question has only owner, type and
 * class set).  Returns 0, or NETD_EINVAL for i >= m->n. */
int dns_msg_rr(const struct dns_msg *m, unsigned i, struct dns_rr *out);

#endif
