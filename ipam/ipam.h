/* ipam/ipam.h — address pools and allocation.
 *
 * v4: a subnet with named ranges; the network, broadcast and router
 * addresses are never handed out.  v6: an explicit prefix with ranges, or
 * derived addressing (explicit prefix of /64 or shorter without ranges, or
 * `auto`: the installation's RFC 4193 ULA /48 plus a per-network subnet id)
 * where a node's host part is a stable hash of its FQDN.
 *
 * Allocation order for a node on a network and family:
 *   1. its existing allocation (active, or held for the same owner);
 *   2. an explicit hint from its attachment;
 *   3. the host part of its address on its primary network, when free and
 *      inside the range;
 *   4. the first free address of the range (v6 derived: the FQDN hash, then
 *      the next candidates on collision).
 * Released addresses are held for the hold-down and only reused before it
 * ends when nothing else is free.
 *
 * Next-free never walks the range: ipam keeps a free-interval index
 * (table "ipam_free": network NUL family first-addr -> last-addr) and a
 * hold queue ("ipam_held": network NUL family released-at(8, BE) addr -> ""),
 * and per-range used/held counters ("ipam_count": network NUL family
 * range-name -> used(8, BE) held(8, BE); the derived v6 space is range "").
 *
 * Every function works inside the caller's write transaction, so an
 * allocation commits together with the node change that caused it: two
 * owners can never get one address.
 */
#ifndef NETD_IPAM_H
#define NETD_IPAM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/model.h"
#include "core/store.h"

struct ipam;

struct ipam_cfg {
	uint64_t hold_down_s;   /* 0 = the default, 3600 */
};

/* Open ipam's tables (call at start-up, after model_open()). */
int ipam_open(struct store *s, const struct model_tables *m, const struct ipam_cfg *cfg, struct ipam **out);
void ipam_close(struct ipam *ip);  /* accepts NULL */
void ipam_set_cfg(struct ipam *ip, const struct ipam_cfg *cfg);  /* e.g. on SIGHUP */

/* Check a network on its own: ranges inside the subnet/prefix, first <= last,
 * ranges of a family not overlapping, ranges not covering the v4 network or
 * broadcast address, router inside the subnet and not the network/broadcast
 * address, VLAN 1..4094 when set, use-vlan needs a VLAN, a v6 prefix without
 * ranges not longer than /64, range names unique, team mode valid.
 * The error path names the offending leaf, e.g.
 * /netd:networks/network[name='admin']/ipv4/range[name='host']/last. */
int ipam_network_check(const struct model_network *n, struct netd_err *e);

/* Create (@old NULL) or update a network inside @t: runs ipam_network_check,
 * refuses a second primary network, assigns the v6 auto prefix on creation
 * (filling @n->v6_prefix / v6_subnet_id), refuses range changes that would
 * leave an active allocation outside every range (path + the address), keeps
 * the free index right, and writes the record. */
int ipam_network_put(struct ipam *ip, struct store_txn *t, const struct model_network *old,
		     struct model_network *n, uint64_t now, struct netd_err *e);
/* Delete a network: refused (NETD_EINUSE) while a node is attached or an
 * active allocation exists; held allocations and its indexes are dropped. */
int ipam_network_del(struct ipam *ip, struct store_txn *t, const char *name, struct netd_err *e);

/* Bring a node's allocations in line with its attachments: allocate what a
 * new attachment needs (v4 if the network has v4, v6 if it has v6), release
 * (hold) what a removed attachment or a removed node (@n NULL) had. @old is
 * the stored record or NULL for a new node. Checks that every attached
 * network exists (NETD_ENOTFOUND naming the path) and that hints lie in the
 * subnet. NETD_EEXHAUSTED names network and range. */
int ipam_node_sync(struct ipam *ip, struct store_txn *t, const struct model_node *old,
		   const struct model_node *n, uint64_t now, struct netd_err *e);

/* Move a node's allocations to a new owner name (rename), keeping addresses. */
int ipam_node_rename(struct ipam *ip, struct store_txn *t, const char *from, const char *to, struct netd_err *e);

/* An allocation not tied to a node (a VIP). */
struct ipam_request {
	const char *network;
	int family;              /* ADDR_V4 or ADDR_V6 */
	uint8_t owner_kind;      /* OWNER_VIP usually */
	const char *owner;
	const char *range;       /* NULL or "" = default range */
	const struct addr *hint; /* NULL = none */
};
/* Allocate (idempotent per owner+network+family). Writes *out on success. */
int ipam_alloc(struct ipam *ip, struct store_txn *t, const struct ipam_request *rq, uint64_t now,
	       struct addr *out, struct netd_err *e);
/* Release an address (hold it). NETD_ENOTFOUND if not allocated. */
int ipam_release(struct ipam *ip, struct store_txn *t, const char *network, const struct addr *a,
		 uint64_t now, struct netd_err *e);

/* What ipam did, for metrics. While a tally is set, ipam adds to it: one
 * "allocated" per address that becomes active for an owner (a new one, or a
 * held one taken back), one "released" per active address put in
 * hold-down. The caller sets it around one transaction's work and keeps the
 * figures only if that transaction commits. Writer thread only. */
struct ipam_tally {
	uint64_t allocated, released;
};
void ipam_set_tally(struct ipam *ip, struct ipam_tally *tally);   /* NULL = stop counting */

/* Utilization of one range (or the derived v6 space, range "derived": host
 * parts 1 up to the last one below the RFC 2526 anycast ids). */
struct ipam_util {
	uint8_t family;
	char range[MODEL_NAME_MAX];
	struct addr first, last;
	char size[ADDR_DECIMAL_MAX];   /* exact, decimal */
	uint64_t used, held;
	char free[ADDR_DECIMAL_MAX];   /* exact, decimal: size - used - held */
};
/* Fills a heap array (free() it) with one entry per range of @net. */
int ipam_utilization(struct ipam *ip, struct store_txn *t, const struct model_network *net,
		     struct ipam_util **out, size_t *n_out);

/* Candidate @k (0, 1, 2...) of the derived v6 address of @name (a node's
 * FQDN, or a VIP's name) in @p: SipHash-2-4 under netd's fixed key of @name
 * followed by @k as 4 bytes big-endian, masked to the host bits of @p (at most
 * the low 64 bits). Allocation takes the first candidate that is free and not
 * reserved (host part zero, the top 128 host parts of RFC 2526, the router).
 * Exposed so tools and tests can predict addresses; part of the stable
 * contract: the same name always derives the same candidates. */
void ipam_derived_candidate(const struct prefix *p, const char *name, uint32_t k, struct addr *out);

#endif
