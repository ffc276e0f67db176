/* core/model.h — the model's records as plain C, their versioned encodings,
 * and their tables in the store.
 *
 * Records are what modules exchange (DESIGN.md: "what one module needs from
 * another's data travels as core model records").  YANG/JSON is only at the
 * edges (netd/).  Each encoding starts with a type tag and a version byte; a
 * decoder reads every version it knows and refuses newer ones (NETD_ECORRUPT
 * with the version named), so a store can be read by the netd that wrote it
 * and by later ones.
 *
 * Tables and keys (STORE_SCHEMA_VERSION 1):
 *   "network"     name                         -> network record
 *   "node"        name                         -> node record
 *   "node_mac"    6-byte admin MAC             -> node name (uniqueness index)
 *   "alloc"       network NUL family addr-bytes -> allocation record
 *   "alloc_owner" owner-kind owner NUL network NUL family -> addr bytes
 *   "meta"        text key                     -> value (schema, ULA id...)
 * ("family" is one byte, 4 or 6; "addr-bytes" are 4 or 16 bytes.)
 */
#ifndef NETD_CORE_MODEL_H
#define NETD_CORE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/codec.h"
#include "core/err.h"
#include "core/store.h"

#define MODEL_NAME_MAX 64     /* names: 1..63 chars + NUL */
#define MODEL_DOMAIN_MAX 256  /* DNS names: up to 253 chars + NUL */

/* Linux bonding mode numbers, so conduits can use them directly. */
enum model_team_mode {
	TEAM_BALANCE_RR = 0,
	TEAM_ACTIVE_BACKUP = 1,
	TEAM_BALANCE_XOR = 2,
	TEAM_BROADCAST = 3,
	TEAM_802_3AD = 4,
	TEAM_BALANCE_TLB = 5,
	TEAM_BALANCE_ALB = 6,
};

struct model_range {
	char name[MODEL_NAME_MAX];
	struct addr first, last;   /* inclusive, same family */
};

enum model_v6_mode {
	MODEL_V6_NONE = 0,      /* no IPv6 on this network */
	MODEL_V6_EXPLICIT = 1,  /* operator-given prefix */
	MODEL_V6_AUTO = 2,      /* ULA /48 of the installation + subnet id, /64 */
};

struct model_network {
	char name[MODEL_NAME_MAX];
	char conduit[MODEL_NAME_MAX];   /* "" = none */
	bool primary;                   /* the node's primary name lives here */
	uint16_t vlan;                  /* 0 = none, else 1..4094 */
	bool use_vlan, use_bridge, use_team;
	uint8_t team_mode;              /* enum model_team_mode */
	uint16_t mtu;                   /* 0 = default (1500) */

	bool has_v4;
	struct prefix v4_subnet;
	bool has_v4_router;
	struct addr v4_router;
	uint32_t router_pref;           /* lower is preferred for the default route */
	struct model_range *v4_ranges;
	size_t n_v4_ranges;

	uint8_t v6_mode;                /* enum model_v6_mode */
	struct prefix v6_prefix;        /* explicit, or the derived /64 for auto */
	uint16_t v6_subnet_id;          /* auto only: assigned once, never reused */
	bool has_v6_router;
	struct addr v6_router;
	struct model_range *v6_ranges;  /* none = derived (hashed) host parts */
	size_t n_v6_ranges;

	char dns_domain[MODEL_DOMAIN_MAX]; /* "" = none */
	char dns_template[MODEL_DOMAIN_MAX]; /* name of a node's address here, "" = the default
					      * ({node}.{domain} on the primary network,
					      * {node}.{network}.{domain} elsewhere); see dns/dns.h */
	uint64_t created;               /* unix seconds */
};

/* A node's attachment to a network. */
struct model_attach {
	char network[MODEL_NAME_MAX];
	char range[MODEL_NAME_MAX];     /* "" = the network's default range */
	bool has_v4_hint, has_v6_hint;
	struct addr v4_hint, v6_hint;
};

struct model_node {
	char name[MODEL_NAME_MAX];
	char **aliases;                 /* heap strings, each < MODEL_DOMAIN_MAX */
	size_t n_aliases;
	bool has_admin_mac;
	uint8_t admin_mac[6];
	struct model_attach *nets;
	size_t n_nets;
	uint64_t created;               /* unix seconds */
};

enum model_owner_kind {
	OWNER_NODE = 1,   /* owner = node name */
	OWNER_VIP = 2,    /* owner = free-form name given to allocate-address */
};

enum model_alloc_state {
	ALLOC_ACTIVE = 1,
	ALLOC_HELD = 2,   /* released; not reused before released_at + hold-down */
};

struct model_alloc {
	char network[MODEL_NAME_MAX];
	struct addr addr;
	uint8_t owner_kind;             /* enum model_owner_kind */
	char owner[MODEL_NAME_MAX];
	char range[MODEL_NAME_MAX];     /* range it came from; "" = derived v6 */
	uint8_t state;                  /* enum model_alloc_state */
	uint64_t allocated_at, released_at; /* unix seconds; released_at 0 if active */
};

/* Table handles, valid after model_open(). */
struct model_tables {
	store_tbl meta, network, node, node_mac, alloc, alloc_owner;
};

/* Open the model's tables. Call once at start-up. */
int model_open(struct store *s, struct model_tables *out);

/* Free what a record owns (not the struct itself). Accept NULL and zeroed
 * records; the record is left zeroed. */
void model_network_clear(struct model_network *n);
void model_node_clear(struct model_node *n);
/* Deep copies; 0 or -ENOMEM (dst zeroed on failure). */
int model_network_copy(struct model_network *dst, const struct model_network *src);
int model_node_copy(struct model_node *dst, const struct model_node *src);
/* Deep equality (created timestamps ignored). */
bool model_network_equal(const struct model_network *a, const struct model_network *b);
bool model_node_equal(const struct model_node *a, const struct model_node *b);

/* Encodings. encode appends to @w (check w->err; NETD_ETOOBIG for more than
 * 65535 array elements, NETD_EINVAL for an address family other than 0/4/6);
 * decode fills a zeroed record and returns 0, NETD_ECORRUPT or -ENOMEM
 * (record left zeroed). */
void model_network_encode(const struct model_network *n, struct codec_w *w);
int model_network_decode(const void *p, size_t len, struct model_network *out);
void model_node_encode(const struct model_node *n, struct codec_w *w);
int model_node_decode(const void *p, size_t len, struct model_node *out);
void model_alloc_encode(const struct model_alloc *a, struct codec_w *w);
int model_alloc_decode(const void *p, size_t len, struct model_alloc *out);

/* Table access. get returns NETD_ENOTFOUND when absent. put overwrites.
 * model_node_put/del also maintain the node_mac index (put refuses a MAC used
 * by another node with NETD_EEXIST, message naming that node). @old is the
 * record being replaced (same name, else NETD_EINVAL), or NULL (then the
 * stored one, if any, is read). del only uses n->name: the stored record's
 * MAC is unindexed (NETD_ENOTFOUND if there is none). Names must be 1..63
 * bytes, else NETD_EINVAL. On error abort the transaction. */
int model_network_get(const struct model_tables *m, struct store_txn *t, const char *name, struct model_network *out);
int model_network_put(const struct model_tables *m, struct store_txn *t, const struct model_network *n);
int model_network_del(const struct model_tables *m, struct store_txn *t, const char *name);
int model_node_get(const struct model_tables *m, struct store_txn *t, const char *name, struct model_node *out);
int model_node_put(const struct model_tables *m, struct store_txn *t, const struct model_node *old,
		   const struct model_node *n, struct netd_err *e);
int model_node_del(const struct model_tables *m, struct store_txn *t, const struct model_node *n);

/* Iterate records in key order, starting at the first key >= @from ("" or
 * NULL = the beginning). @fn returns 0 to go on, 1 to stop, <0 to fail. The
 * record passed to @fn is cleared after the call (copy what you keep). */
int model_network_each(const struct model_tables *m, struct store_txn *t, const char *from,
		       int (*fn)(const struct model_network *n, void *arg), void *arg);
int model_node_each(const struct model_tables *m, struct store_txn *t, const char *from,
		    int (*fn)(const struct model_node *n, void *arg), void *arg);

/* Allocation keys (see the table layout above). Return the key length. */
#define MODEL_ALLOC_KEY_MAX (MODEL_NAME_MAX + 1 + 16)
#define MODEL_OWNER_KEY_MAX (1 + MODEL_NAME_MAX + MODEL_NAME_MAX + 1)
size_t model_alloc_key(uint8_t *buf, const char *network, const struct addr *a);
/* Key prefix of every allocation of @network in @family (no address);
 * family 0 gives "network NUL", the prefix of both families. */
size_t model_alloc_key_prefix(uint8_t *buf, const char *network, int family);
size_t model_owner_key(uint8_t *buf, uint8_t kind, const char *owner, const char *network, int family);

int model_alloc_get(const struct model_tables *m, struct store_txn *t, const char *network,
		    const struct addr *a, struct model_alloc *out);
/* Writes the allocation and its owner index entry. */
int model_alloc_put(const struct model_tables *m, struct store_txn *t, const struct model_alloc *a);
/* Removes the allocation (NETD_ENOTFOUND if absent) and its owner index
 * entry if that still points at this address. */
int model_alloc_del(const struct model_tables *m, struct store_txn *t, const struct model_alloc *a);
/* The allocation of (kind, owner) on (network, family), held ones included. */
int model_alloc_by_owner(const struct model_tables *m, struct store_txn *t, uint8_t kind, const char *owner,
			 const char *network, int family, struct model_alloc *out);
/* Every allocation of @network ("" or NULL = all networks), in key order. */
int model_alloc_each(const struct model_tables *m, struct store_txn *t, const char *network,
		     int (*fn)(const struct model_alloc *a, void *arg), void *arg);

/* Meta table: small text-keyed values. get copies the value into @out and
 * sets *len (may be NULL); -ERANGE if it is longer than @cap. The key
 * "schema" belongs to the store (STORE_SCHEMA_VERSION). */
int model_meta_get(const struct model_tables *m, struct store_txn *t, const char *key, void *out, size_t cap, size_t *len);
int model_meta_put(const struct model_tables *m, struct store_txn *t, const char *key, const void *v, size_t n);

/* The node's fully-qualified name on @net: "{node}.{domain}" on the primary
 * network, "{node}.{network}.{domain}" on others, "{node}" without a domain. */
void model_node_fqdn(const struct model_node *node, const struct model_network *net, char *buf, size_t len);

/* Names of the enum values as used in YANG ("802.3ad", "active-backup"...).
 * name returns NULL for an unknown mode; parse returns 0 or NETD_EINVAL. */
const char *model_team_mode_name(uint8_t mode);
int model_team_mode_parse(const char *s, uint8_t *out);

#endif
