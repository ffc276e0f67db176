/* dns/update.c — RFC 2136 UPDATE building within a byte budget, and the
 * answer's RCODE/TSIG mapped to netd errors.  See update.h.
 *
 * The header counts are patched after every RR, so the buffer always holds
 * a consistent message; a failed append rewinds the cursor (position and
 * compression table) to where it was.
 */
#include "dns/update.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Header offsets of ZOCOUNT, PRCOUNT, UPCOUNT, ADCOUNT. */
enum { OFF_ZO = 4, OFF_PR = 6, OFF_UP = 8 };

int dns_update_init(struct dns_update *u, uint8_t *buf, size_t cap, size_t budget,
		    const struct dns_name *zone, uint16_t id, const struct dns_tsig_key *key)
{
	if (cap > DNS_MSG_MAX)
		cap = DNS_MSG_MAX;
	size_t limit = budget && budget < cap ? budget : cap;
	size_t reserve = key ? dns_tsig_rr_size(key) : 0;
	if (dns_name_check(zone) != 0)
		return NETD_EINVAL;
	if (limit < reserve + DNS_HEADER_LEN + zone->len + 4u)
		return NETD_ETOOBIG;
	memset(u, 0, sizeof *u);
	dns_wr_init(&u->w, buf, limit - reserve);
	u->buf_cap = cap;
	u->zone = *zone;
	u->id = id;
	struct dns_header h = {.id = id, .flags = (uint16_t)(DNS_OP_UPDATE << 11), .qdcount = 1};
	dns_wr_header(&u->w, &h);
	struct dns_question q = {.name = *zone, .type = DNS_T_SOA, .cls = DNS_C_IN};
	dns_wr_question(&u->w, &q);
	return u->w.err;
}

static int name_check(const struct dns_update *u, const struct dns_name *name)
{
	if (dns_name_check(name) != 0)
		return NETD_EINVAL;
	return dns_name_in_zone(name, &u->zone) ? 0 : NETD_EINVAL;
}

/* Append @rr to the prerequisite (@prereq) or update section, all or
 * nothing. */
static int append(struct dns_update *u, bool prereq, const struct dns_rr *rr)
{
	if (u->finished || (prereq && u->nupdate > 0))
		return NETD_EINVAL;
	int rc = name_check(u, &rr->owner);
	if (rc)
		return rc;
	if ((prereq ? u->nprereq : u->nupdate) == 0xffff)
		return NETD_ETOOBIG;
	size_t pos = u->w.pos;
	unsigned ncomp = u->w.ncomp;
	dns_wr_rr(&u->w, rr);
	if (u->w.err) {
		rc = u->w.err;
		u->w.pos = pos;
		u->w.ncomp = ncomp;
		u->w.err = 0;
		return rc;
	}
	if (prereq)
		dns_wr_patch_u16(&u->w, OFF_PR, ++u->nprereq);
	else
		dns_wr_patch_u16(&u->w, OFF_UP, ++u->nupdate);
	return 0;
}

/* An RR without rdata: the RFC 2136 forms with class ANY or NONE. */
static int append_empty(struct dns_update *u, bool prereq, const struct dns_name *name,
			uint16_t type, uint16_t cls)
{
	struct dns_rr rr;
	memset(&rr, 0, sizeof rr);
	rr.owner = *name;
	rr.type = type;
	rr.cls = cls;
	rr.ttl = 0;
	rr.no_rdata = true;
	return append(u, prereq, &rr);
}

/* @rr with class @cls and TTL @ttl, rdata kept. */
static int append_with(struct dns_update *u, bool prereq, const struct dns_rr *rr,
		       uint16_t cls, uint32_t ttl)
{
	struct dns_rr copy = *rr;
	copy.cls = cls;
	copy.ttl = ttl;
	copy.no_rdata = false;
	return append(u, prereq, &copy);
}

int dns_update_prereq_exists(struct dns_update *u, const struct dns_name *name, uint16_t type)
{
	return append_empty(u, true, name, type, DNS_C_ANY);
}

int dns_update_prereq_exists_rr(struct dns_update *u, const struct dns_rr *rr)
{
	return append_with(u, true, rr, DNS_C_IN, 0);
}

int dns_update_prereq_not_exists(struct dns_update *u, const struct dns_name *name, uint16_t type)
{
	return append_empty(u, true, name, type, DNS_C_NONE);
}

int dns_update_prereq_name_in_use(struct dns_update *u, const struct dns_name *name)
{
	return append_empty(u, true, name, DNS_T_ANY, DNS_C_ANY);
}

int dns_update_prereq_name_not_in_use(struct dns_update *u, const struct dns_name *name)
{
	return append_empty(u, true, name, DNS_T_ANY, DNS_C_NONE);
}

int dns_update_add(struct dns_update *u, const struct dns_rr *rr)
{
	if (rr->type == DNS_T_ANY || rr->type == DNS_T_TSIG || rr->type == DNS_T_OPT ||
	    rr->type == DNS_T_AXFR)
		return NETD_EINVAL;
	return append_with(u, false, rr, DNS_C_IN, rr->ttl);
}

int dns_update_delete_rrset(struct dns_update *u, const struct dns_name *name, uint16_t type)
{
	return append_empty(u, false, name, type, DNS_C_ANY);
}

int dns_update_delete_rr(struct dns_update *u, const struct dns_rr *rr)
{
	return append_with(u, false, rr, DNS_C_NONE, 0);
}

int dns_update_delete_name(struct dns_update *u, const struct dns_name *name)
{
	return append_empty(u, false, name, DNS_T_ANY, DNS_C_ANY);
}

int dns_update_finish(struct dns_update *u, const struct dns_tsig_key *key, uint64_t now,
		      size_t *len, uint8_t *mac, size_t *mac_len)
{
	if (u->finished)
		return NETD_EINVAL;
	size_t n = u->w.pos;
	if (key) {
		int rc = dns_tsig_sign(u->w.buf, &n, u->buf_cap, key, NULL, 0, now, mac, mac_len);
		if (rc)
			return rc;
	} else if (mac_len) {
		*mac_len = 0;
	}
	u->finished = true;
	*len = n;
	return 0;
}

/* ---- the answer ------------------------------------------------------- */

int dns_update_parse_response(const uint8_t *resp, size_t len, uint16_t id,
			      const struct dns_name *zone, const struct dns_tsig_key *key,
			      const uint8_t *req_mac, size_t req_mac_len, uint64_t now,
			      struct dns_update_result *out)
{
	struct dns_msg m;
	int rc = dns_msg_parse(&m, resp, len);
	if (rc)
		return NETD_ECORRUPT;
	if (!(m.hdr.flags & DNS_F_QR) || DNS_F_OPCODE(m.hdr.flags) != DNS_OP_UPDATE ||
	    m.hdr.id != id || m.hdr.qdcount > 1)
		return NETD_ECORRUPT;
	if (m.hdr.qdcount == 1) {
		struct dns_rr z;
		if (dns_msg_rr(&m, 0, &z) != 0 || !dns_name_eq(&z.owner, zone))
			return NETD_ECORRUPT;
	}
	struct dns_update_result r = {.id = m.hdr.id, .rcode = DNS_F_RCODE(m.hdr.flags)};
	r.tsig.local = DNS_TSIG_UNSIGNED;
	if (key) {
		r.signed_request = true;
		rc = dns_tsig_verify(resp, len, key, req_mac, req_mac_len, now, &r.tsig);
		if (rc && rc != NETD_EAUTH)
			return NETD_ECORRUPT;
	}
	*out = r;
	return 0;
}

static const char *tsig_hint(unsigned err)
{
	switch (err) {
	case DNS_RC_BADSIG: return "wrong key?";
	case DNS_RC_BADKEY: return "the server does not know this key name or algorithm";
	case DNS_RC_BADTIME: return "clocks differ by more than the fudge?";
	case DNS_RC_BADTRUNC: return "truncated MAC";
	default: return "TSIG error";
	}
}

int dns_update_check(const struct dns_update_result *r, const char *server,
		     const struct dns_name *zone, struct netd_err *e)
{
	char zt[DNS_NAME_STRLEN], rb[16], tb[16];
	int zl = dns_name_print(zone, zt, sizeof zt);
	if (zl > 1)
		zt[zl - 1] = '\0';  /* "lab.example", as operators write it */
	const char *rc_name = dns_rcode_name(r->rcode, rb, sizeof rb);

	if (r->signed_request && r->tsig.remote != 0)
		return netd_err_set(e, NETD_EAUTH, NULL,
				    "server %s refused the update for zone %s: %s (TSIG %s: %s)",
				    server, zt, rc_name, dns_rcode_name(r->tsig.remote, tb, sizeof tb),
				    tsig_hint(r->tsig.remote));
	if (r->signed_request && r->tsig.local != 0) {
		const char *why = r->tsig.local == DNS_TSIG_UNSIGNED
					  ? "it is not signed"
					  : dns_rcode_name((unsigned)r->tsig.local, tb, sizeof tb);
		return netd_err_set(e, NETD_EAUTH, NULL,
				    "server %s answered %s for zone %s, but the answer failed TSIG "
				    "verification: %s", server, rc_name, zt, why);
	}
	int code;
	const char *what;
	switch (r->rcode) {
	case DNS_RC_NOERROR:
		return 0;
	case DNS_RC_FORMERR: code = NETD_EINVAL; what = "the server found the message malformed"; break;
	case DNS_RC_SERVFAIL: code = -EIO; what = "the server failed (retry later)"; break;
	case DNS_RC_NXDOMAIN: code = NETD_ENOTFOUND; what = "prerequisite failed: a name that should be in use is not"; break;
	case DNS_RC_NOTIMP: code = NETD_EUNSUPPORTED; what = "the server does not implement UPDATE"; break;
	case DNS_RC_REFUSED: code = NETD_EPERM; what = "not allowed by the server's policy (unsigned, or key not in its update ACL?)"; break;
	case DNS_RC_YXDOMAIN: code = NETD_EEXIST; what = "prerequisite failed: a name that should not be in use is"; break;
	case DNS_RC_YXRRSET: code = NETD_EEXIST; what = "prerequisite failed: an RRset that should not exist does"; break;
	case DNS_RC_NXRRSET: code = NETD_ENOTFOUND; what = "prerequisite failed: an RRset that should exist does not"; break;
	case DNS_RC_NOTAUTH: code = NETD_EPERM; what = "not authorized or not authoritative (unsigned, or wrong zone?)"; break;
	case DNS_RC_NOTZONE: code = NETD_EINVAL; what = "a name is outside the zone"; break;
	default: code = -EIO; what = "unexpected answer"; break;
	}
	return netd_err_set(e, code, NULL, "server %s refused the update for zone %s: %s (%s)",
			    server, zt, rc_name, what);
}
