/* dns/dns.h — the DNS module's public interface: the records netd derives
 * from the model, the zones they belong to, and the ordered plan that
 * publishes a change of records without ever breaking forward-confirmed
 * reverse DNS.  Pure logic: no I/O, no store.  (The protocol layer —
 * wire.h, update.h, tsig.h, xfer.h — is private to dns/.)
 *
 * Records.  struct dns_rec is one RR as text: owner and name-valued data
 * are absolute (final dot) and lowercase, addresses are printed by
 * addr_print() (RFC 5952 for v6), a TXT record holds one string of at most
 * 255 bytes.  A record's identity is (owner, type, data); the TTL is not
 * part of it.  A struct dns_recset is a growable array; "sorted" means
 * ordered by dns_rec_cmp() without duplicates (dns_recset_sort()).
 *
 * What netd derives for a node (decision P1, see dns_derive_node()):
 *
 *   web1.lab.example.            A      10.0.0.5
 *   web1.lab.example.            AAAA   fd00::5
 *   web1.lab.example.            TXT    "netd owner=<installation id>"
 *   5.0.0.10.in-addr.arpa.       PTR    web1.lab.example.
 *   5.0.0.10.in-addr.arpa.       TXT    "netd owner=<installation id>"
 *   web1.storage.lab.example.    A      10.1.0.5          (secondary network)
 *   www.lab.example.             CNAME  web1.lab.example. (alias "www")
 *   _netd.www.lab.example.       TXT    "netd owner=<installation id>"
 *
 * Ownership (decision P3).  Every name netd writes carries the TXT
 * "netd owner=<id>" at the name itself — except a CNAME owner, which by
 * RFC 1034 3.6.2 ("if a CNAME RR is present at a node, no other data should
 * be present") can hold nothing else.  The ownership of a CNAME at W is the
 * same TXT at the child name "_netd.W" (DNS_OWNER_LABEL).  A name below a
 * CNAME is allowed (the rule is per node, not per subtree), underscore
 * labels are the RFC 8552 convention for such attribute leaves, and the
 * child can be guarded by an UPDATE prerequisite in the same zone as W.
 * The same TXT is also kept at PTR owners: ownership covers everything
 * netd writes.
 *
 * Plans (decision P2).  dns_plan() turns (old, new) record sets of a window
 * of changes into logical UPDATE messages, one per (stage, zone), applied
 * strictly in order:
 *
 *   phase 1  forward additions
 *     stage 1 FWD_ADD     A/AAAA + their TXT; a CNAME that an address name
 *                         replaces is deleted first, in the same group
 *     stage 2 ALIAS_ADD   CNAMEs that point at them (new ones, repoints)
 *                         + the "_netd." TXT
 *   phase 2  reverse
 *     stage 3 REVERSE     PTR (and their TXT) deletions, then additions
 *   phase 3  forward removals
 *     stage 4 ALIAS_DEL   CNAMEs + their "_netd." TXT
 *     stage 5 FWD_DEL     A/AAAA, then their TXT
 *     stage 6 ALIAS_LATE  CNAMEs at names that held addresses before this
 *                         window (they could not be added before stage 5)
 *
 * PTRs only change in stage 3, while every old target still has its old
 * addresses (removed in stage 5 at the earliest) and every new target
 * already has its new ones (stage 1): at every instant each published PTR's
 * target resolves to the PTR's address.  A rename is add-new (1),
 * repoint PTR and CNAMEs (2, 3), remove-old (5) by construction.
 *
 * Prerequisites.  RFC 2136 prerequisites are ANDed, so "ours OR free"
 * cannot be said in one message.  Each change carries the one that matches
 * the state netd expects the server to be in just before its message (old,
 * with the earlier messages of the plan applied):
 *   DNS_PRE_OWNED  the TXT RRset at the guard name equals the listed
 *                  ownership RRs (RFC 2136 2.4.2, value-dependent; one
 *                  dns_prereq per RR of the set).  Guard name: the owner
 *                  itself, or "_netd.<owner>" where netd expects a CNAME.
 *   DNS_PRE_FREE   the owner is not in use (RFC 2136 2.4.5): netd claims
 *                  a new name, and adds its ownership TXT in the same group.
 * A change at an owner that netd expects to hold records but no ownership
 * TXT (a caller's hand-made set) gets no prerequisite at all (DNS_PRE_NONE
 * never appears in a plan).
 *
 * Idempotency and conflicts (for the delivery worker).  A re-delivered
 * message whose DNS_PRE_FREE names were claimed by an earlier,
 * unacknowledged delivery fails with YXDOMAIN: send it again with each
 * DNS_PRE_FREE turned into DNS_PRE_OWNED with the ownership TXT that the
 * same group adds.  If that fails too (NXRRSET/YXRRSET), someone else owns
 * a name: split the message by groups to find it and report that group as
 * a conflict; never retry without prerequisites.
 *
 * Caveats.
 *  - A logical message can be larger than one UPDATE.  Split it only
 *    between groups (struct dns_change.group: the owner without a leading
 *    "_netd." label; a message's changes are contiguous per group, and so
 *    are the groups' prerequisites) and give each piece the prerequisites
 *    of its own groups.  Groups never share a guard name, so the pieces
 *    can be applied one after another with the same outcome.
 *  - struct dns_rec is 520 bytes: 10,000 nodes' records (~80,000) take
 *    ~42 MB; derive and plan a window at a time, not the whole world.
 *  - dns_plan() refuses a new (or old) set that puts a CNAME next to other
 *    data or two CNAMEs at one owner (the caller merged nodes whose names
 *    collide).
 *  - Records outside every configured zone are not planned; dns_plan()
 *    reports them in plan->unzoned.
 */
#ifndef NETD_DNS_DNS_H
#define NETD_DNS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/model.h"

#define DNS_REC_NAME_MAX 256   /* 253 characters + final dot + NUL */
#define DNS_REC_DATA_MAX 256   /* a name, an address, or 255 TXT bytes + NUL */
#define DNS_OWNER_LABEL "_netd"           /* ownership TXT of a CNAME owner W: _netd.W */
#define DNS_OWNER_TXT_PREFIX "netd owner=" /* data of an ownership TXT: prefix + id */
#define DNS_INSTALLATION_ID_MAX 64        /* characters of an installation id */

/* RR types, with their RFC 1035/3596 numbers. */
enum dns_rec_type {
	DNS_REC_A = 1,
	DNS_REC_CNAME = 5,
	DNS_REC_PTR = 12,
	DNS_REC_TXT = 16,
	DNS_REC_AAAA = 28,
};

struct dns_rec {
	char owner[DNS_REC_NAME_MAX]; /* absolute, lowercase: "web1.lab.example." */
	uint16_t type;                /* enum dns_rec_type */
	uint32_t ttl;
	char data[DNS_REC_DATA_MAX];  /* address text, absolute lowercase name, or TXT string */
};

struct dns_recset {
	struct dns_rec *v;
	size_t n, cap;
};

/* "A", "AAAA", "PTR", "CNAME", "TXT"; "?" for anything else. */
const char *dns_rec_type_name(uint16_t type);

/* Order: owner, type, data (strcmp each); the TTL is not compared. */
int dns_rec_cmp(const struct dns_rec *a, const struct dns_rec *b);

/* Free the array; @s is left empty and reusable.  Accepts NULL. */
void dns_recset_clear(struct dns_recset *s);
/* Append a copy of @r (no sorting).  0 or -ENOMEM (@s unchanged). */
int dns_recset_add(struct dns_recset *s, const struct dns_rec *r);
/* Append all of @src.  0 or -ENOMEM (@dst unchanged). */
int dns_recset_add_all(struct dns_recset *dst, const struct dns_recset *src);
/* Sort by dns_rec_cmp() and drop duplicates; of records equal but for the
 * TTL the one with the lowest TTL stays.  Deterministic for any input
 * order. */
void dns_recset_sort(struct dns_recset *s);
/* The record of sorted @s equal to @r (TTL ignored), or NULL. */
const struct dns_rec *dns_recset_find(const struct dns_recset *s, const struct dns_rec *r);
/* What turns sorted @old into sorted @new: records of @new that @old lacks
 * or has with another TTL are appended to @add, records of @old that @new
 * lacks to @del (both stay sorted if they were empty).  0 or -ENOMEM (both
 * unchanged). */
int dns_recset_diff(const struct dns_recset *old, const struct dns_recset *new_,
		    struct dns_recset *add, struct dns_recset *del);
/* Check sorted @s for what no zone can hold: a CNAME next to other data at
 * one owner, or two CNAMEs at one owner.  0, or NETD_EINVAL with a message
 * naming the owner. */
int dns_recset_check(const struct dns_recset *s, struct netd_err *e);

/* ---- zones ------------------------------------------------------------ */

enum dns_zone_kind { DNS_ZONE_FORWARD = 1, DNS_ZONE_REVERSE = 2 };

struct dns_zone {
	char name[DNS_REC_NAME_MAX];  /* "lab.example." or "0.10.in-addr.arpa." (final dot optional) */
	uint8_t kind;                 /* enum dns_zone_kind; informative */
};

/* The zone of @owner: the configured zone with the longest name that
 * equals @owner or is a suffix of it at a label boundary (ASCII
 * case-insensitive).  NULL if there is none or @owner is not a valid
 * name; a zone whose name is not valid is skipped. */
const struct dns_zone *dns_zone_for(const struct dns_zone *zones, size_t n, const char *owner);

/* ---- derivation (P1) -------------------------------------------------- */

/* A name template for one network's address names: "{node}", "{network}"
 * and "{domain}" are replaced by the node's name, the network's name and
 * its dns-domain; the result is taken as absolute.  (Until the model has
 * the leaf, the caller fills these.) */
struct dns_tmpl {
	const char *network;
	const char *tmpl;   /* e.g. "{node}-{network}.{domain}" */
};

struct dns_derive_opts {
	const char *installation_id;  /* 1..64 of [A-Za-z0-9._:-]; goes into the TXT */
	uint32_t ttl;                 /* of every derived record */
	const struct dns_tmpl *tmpls; /* per-network overrides of the default name */
	size_t n_tmpls;
};

/* Derive the records of @node (P1).  For each ACTIVE allocation owned by
 * the node (OWNER_NODE, owner == node->name; others in @allocs are
 * skipped) on a network of @nets with a dns-domain:
 *   - A or AAAA at the network's name for the node: the template of that
 *     network in @opts, else model_node_fqdn() ("{node}.{domain}" on the
 *     primary network, "{node}.{network}.{domain}" elsewhere);
 *   - PTR at the address's reverse name (in-addr.arpa. per octet, ip6.arpa.
 *     per nibble) pointing at that name;
 *   - the ownership TXT at both.
 * Then, if the node has a name on a primary network (the first such
 * network in @nets order that carries one of its allocations), a CNAME
 * per alias pointing at that primary name: a relative alias gets the
 * primary network's domain appended, one with a final dot is taken as
 * given; its ownership TXT goes to "_netd.<alias>".  Without a primary
 * name the aliases are not published (nothing to point at).  Networks
 * without a dns-domain give no records.
 *
 * On success the records, sorted, are appended to @out (which as a whole
 * is then not sorted: see dns_recset_sort()).  Returns 0; NETD_EINVAL with
 * @e's path naming the node and a message naming the network and the name
 * for a generated name that is not a valid host name (labels of 1..63
 * letters, digits and inner '-', at most 253 characters), an alias equal
 * to one of the node's address names, a bad template, a bad installation
 * id; NETD_ENOTFOUND for an allocation on a network not in @nets; -ENOMEM.
 * @out is unchanged on failure. */
int dns_derive_node(const struct model_network *nets, size_t n_nets, const struct model_node *node,
		    const struct model_alloc *allocs, size_t n_allocs, const struct dns_derive_opts *opts,
		    struct dns_recset *out, struct netd_err *e);

/* The reverse-mapping owner of @a ("5.0.0.10.in-addr.arpa.", 32 nibbles +
 * "ip6.arpa." for v6) into @buf (>= DNS_REC_NAME_MAX).  0 or NETD_EINVAL
 * (no family). */
int dns_reverse_name(const struct addr *a, char *buf, size_t len);

/* ---- plans (P2) ------------------------------------------------------- */

enum dns_chg_op { DNS_CHG_ADD = 1, DNS_CHG_DEL = 2 };

enum dns_stage {
	DNS_STAGE_FWD_ADD = 1,    /* phase 1 */
	DNS_STAGE_ALIAS_ADD = 2,  /* phase 1 */
	DNS_STAGE_REVERSE = 3,    /* phase 2 */
	DNS_STAGE_ALIAS_DEL = 4,  /* phase 3 */
	DNS_STAGE_FWD_DEL = 5,    /* phase 3 */
	DNS_STAGE_ALIAS_LATE = 6, /* phase 3, last */
};

enum dns_prereq_kind {
	DNS_PRE_NONE = 0,   /* not used in plans: an unguarded change has n_pre 0 */
	DNS_PRE_FREE = 1,   /* name not in use: rec.owner */
	DNS_PRE_OWNED = 2,  /* TXT RRset at rec.owner contains rec (all OWNED of one owner = the RRset) */
};

struct dns_prereq {
	uint8_t kind;        /* enum dns_prereq_kind */
	struct dns_rec rec;  /* FREE: owner only (type 0); OWNED: an ownership TXT RR */
};

struct dns_change {
	uint8_t op;                       /* enum dns_chg_op */
	struct dns_rec rec;
	char group[DNS_REC_NAME_MAX];     /* owner without a leading "_netd." label */
	size_t pre_first, n_pre;          /* its group's prerequisites: msg->pre[pre_first..+n_pre) */
};

/* One logical UPDATE: the work of one stage in one zone. */
struct dns_plan_msg {
	uint8_t phase;            /* 1, 2, 3 */
	uint8_t stage;            /* enum dns_stage */
	size_t zone;              /* index into the zones given to dns_plan() */
	struct dns_prereq *pre;   /* the groups' prerequisites, in group order, no duplicates */
	size_t n_pre;
	struct dns_change *chg;   /* in order, contiguous per group */
	size_t n_chg;
};

struct dns_plan {
	struct dns_plan_msg *msg; /* by stage, then zone name, in order of application */
	size_t n_msg;
	struct dns_change *unzoned; /* changes whose owner is in no zone (not planned; n_pre 0) */
	size_t n_unzoned;
};

/* Plan the delivery of the change from @old to @new_ (any order,
 * duplicates allowed; neither is modified) into @zones, as described at
 * the top of this file: messages ordered by stage, then by zone name;
 * inside a message the changes ordered by group, deletions before
 * additions, by type (CNAME, A, AAAA, PTR, TXT), owner and data.  The
 * same inputs always give the same plan.  Returns 0; NETD_EINVAL for a
 * zone name that is not a valid name or is given twice, or a set that
 * dns_recset_check() refuses (message says which set); -ENOMEM.  @out is
 * written on success only; free it with dns_plan_clear(). */
int dns_plan(const struct dns_recset *old, const struct dns_recset *new_, const struct dns_zone *zones,
	     size_t n_zones, struct dns_plan *out, struct netd_err *e);

/* Free what @p owns; @p is left empty.  Accepts NULL. */
void dns_plan_clear(struct dns_plan *p);

/* The phase (1..3) of a stage. */
unsigned dns_stage_phase(unsigned stage);

#endif
