/* conduits/conduits.h — NIC inventory, interface references, conduit rules.
 *
 * A conduit (intf0, intf1, bmc...) is a logical attachment point that
 * networks ride.  Which NICs back it on a node is decided by the conduit's
 * rules, written in OpenCrowbar's grammar:
 *
 *   - An interface reference names a NIC by speed class and position, not by
 *     kernel name:
 *         [sign]<speed><index>     speed: 10m 100m 1g 2.5g 5g 10g 25g 40g
 *                                         50g 100g 200g 400g
 *                                  index: 1-based, in bus order, within the
 *                                         NICs of that speed class
 *       no sign   exactly this speed class
 *       +         this class, else the faster classes, slowest first
 *       -         this class, else the slower classes, fastest first
 *       ?         this class, else faster ones (ascending), else slower ones
 *                 (descending), else NICs of unknown speed
 *     The index applies within each class tried: +1g2 is 1g #2, else 2.5g #2,
 *     else 5g #2 ...  A NIC's class is its fastest supported speed.
 *     Beyond Crowbar, three selectors name one NIC directly:
 *         mac:52:54:00:12:34:56    the permanent MAC (the current MAC when
 *                                  the permanent one is unknown)
 *         pci:0000:03:00.1         the PCI bus path
 *         name:eth0                the kernel name
 *   - Bus order: NICs are ordered by PCI bus path, numerically (domain, bus,
 *     device, function); NICs without a bus path come after, by name.  A
 *     bus-order map chosen by the DMI product name overrides this with a list
 *     of bus path prefixes in the wanted order.
 *   - A rule is (network mode, NIC count, role regex) -> references + team.
 *     A conduit's rules are an ordered list; the first rule matching the node
 *     wins.  The network mode is the deployment-wide choice single / dual /
 *     team (Crowbar's <mode>/<#nics>/<role-regex> pattern).
 *
 * Everything here is plain data in, plain data out: no netlink, no store.
 * Functions return 0 or a negative code (core/err.h); those taking a
 * struct netd_err fill it with a data path and a reason naming the conduit,
 * rule or reference.  Output parameters are written only on success.
 *
 * Caveats:
 *  - cdt_conduit_build() only parses; call cdt_conduit_check() (and
 *    cdt_conduits_disjoint_check() over the conduits networks use) before
 *    resolving, or a team of 9 or mixed speeds will be resolved as written.
 *  - cdt_conduits_disjoint_check() compares references as written: "?1g1"
 *    and "1g1" are different references that may pick the same NIC on some
 *    node.  cdt_resolutions_disjoint_check() settles it per node.
 *  - Indexes into the inventory (struct cdt_pick.nic) refer to the array the
 *    caller passed, not to bus order.
 *  - The strings of struct cdt_nic (name, pci, driver) must be
 *    NUL-terminated; an inventory loader cuts what does not fit.
 *  - Role and product regexes are anchored: "compute" matches the role
 *    "compute" only; write ".*compute.*" for a substring.
 */
#ifndef NETD_CONDUITS_H
#define NETD_CONDUITS_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define CDT_NAME_MAX 64        /* conduit names: 1..63 chars + NUL */
#define CDT_IFNAME_MAX 16      /* kernel interface names: 1..15 chars + NUL */
#define CDT_PCI_MAX 32         /* "0000:03:00.1" + NUL, with room */
#define CDT_DRIVER_MAX 32
#define CDT_REF_TEXT_MAX 64    /* longest reference text accepted */
#define CDT_REF_STRLEN 32      /* enough for any printed reference + NUL */
#define CDT_INDEX_MAX 1024     /* largest reference index */
#define CDT_TEAM_MIN 2
#define CDT_TEAM_MAX 8         /* members of a team; also refs one resolve takes */
#define CDT_RULE_REFS_MAX 64   /* refs a rule may hold before validation */
#define CDT_RULES_MAX 256      /* rules per conduit */
#define CDT_REGEX_MAX 256      /* role regex source, bytes incl. NUL */
#define CDT_WHY_MAX 192        /* one explanation line */

/* ---- NIC inventory ---- */

/* RFC 2863 operational states, numbered as the kernel's IF_OPER_*. */
enum cdt_operstate {
	CDT_OPER_UNKNOWN = 0,
	CDT_OPER_NOTPRESENT = 1,
	CDT_OPER_DOWN = 2,
	CDT_OPER_LOWERLAYERDOWN = 3,
	CDT_OPER_TESTING = 4,
	CDT_OPER_DORMANT = 5,
	CDT_OPER_UP = 6,
};

struct cdt_nic {
	char name[CDT_IFNAME_MAX];
	int ifindex;                /* 0 = unknown */
	uint8_t mac[6];             /* current MAC */
	bool has_perm_mac;
	uint8_t perm_mac[6];        /* burnt-in MAC (ethtool permaddr) */
	uint32_t mtu;
	uint8_t operstate;          /* enum cdt_operstate */
	bool link_up;               /* carrier */
	uint32_t speed_class;       /* fastest supported speed, Mb/s; 0 = unknown */
	uint32_t speed;             /* current speed, Mb/s; 0 = unknown / no link */
	uint32_t supported;         /* supported speeds: bit k = cdt_link_speeds[k];
				       0 = unknown (no link modes: veth, virtio) */
	char pci[CDT_PCI_MAX];      /* PCI bus path "0000:03:00.1", "" = none */
	char driver[CDT_DRIVER_MAX];
};

/* ---- speeds ---- */

/* Mb/s of a speed token ("10m" ... "400g", lowercase or uppercase unit),
 * in *@out.  0 or NETD_EINVAL (unknown token; *@out untouched). */
int cdt_speed_parse(const char *text, uint32_t *out);

/* Write @mbps as text into @buf (@len >= 16 always suffices): the token for
 * a known class ("2.5g"), "<n>g" for other whole Gb/s, "<n>m" otherwise,
 * "unknown speed" for 0.  Returns @buf. */
const char *cdt_speed_print(uint32_t mbps, char *buf, size_t len);

/* The speeds of the kernel's link modes (Mb/s, ascending): the classes
 * above plus 20g and 56g.  Bit k of a supported-speeds mask (struct
 * cdt_nic.supported) stands for cdt_link_speeds[k]. */
#define CDT_LINK_SPEEDS 14
extern const uint32_t cdt_link_speeds[CDT_LINK_SPEEDS];

/* The mask bit of @mbps; 0 when @mbps is not a link speed. */
uint32_t cdt_link_speed_bit(uint32_t mbps);

/* The fastest speed (Mb/s) in @mask; 0 for an empty mask. */
uint32_t cdt_link_speeds_max(uint32_t mask);

/* ---- interface references ---- */

enum cdt_ref_kind {
	CDT_REF_SPEED = 1,   /* [sign]<speed><index> */
	CDT_REF_MAC = 2,     /* mac:aa:bb:cc:dd:ee:ff */
	CDT_REF_PCI = 3,     /* pci:DDDD:BB:DD.F */
	CDT_REF_NAME = 4,    /* name:eth0 */
};

enum cdt_sign {
	CDT_SIGN_EXACT = 0,
	CDT_SIGN_FASTER = '+',
	CDT_SIGN_SLOWER = '-',
	CDT_SIGN_ANY = '?',
};

struct cdt_pci {
	uint32_t domain;            /* 0..0xffffffff */
	uint8_t bus, dev, fn;       /* dev 0..31, fn 0..7 */
};

/* One reference.  Only the fields of its kind are meaningful; the parser
 * zeroes the rest, but compare with cdt_ref_equal(). */
struct cdt_ref {
	uint8_t kind;               /* enum cdt_ref_kind */
	uint8_t sign;               /* enum cdt_sign (speed refs) */
	uint32_t speed;             /* Mb/s, one of the known classes */
	uint32_t index;             /* 1..CDT_INDEX_MAX */
	uint8_t mac[6];
	struct cdt_pci pci;
	char name[CDT_IFNAME_MAX];
};

/* Parse one reference from @text (NUL-terminated).  The sign, the speed
 * unit and hex digits may be either case; everything else is exact: no
 * spaces, no leading zeros in the index, the PCI path in full
 * (domain of 4..8 hex digits, 2-digit bus and device, 1-digit function).
 * Returns 0 and fills *@out, or NETD_EINVAL with @e's message naming the
 * reference and the reason (unknown speed "3g", index 0, trailing junk,
 * bad MAC...); @e's path is left "" for the caller's context. */
int cdt_ref_parse(const char *text, struct cdt_ref *out, struct netd_err *e);

/* Canonical text of @r into @buf (CDT_REF_STRLEN always suffices; shorter
 * buffers get a cut string).  Lowercase, no leading zeros, PCI domain as 4+
 * hex digits.  For every accepted text t, parse(print(parse(t))) equals
 * parse(t).  Returns @buf. */
const char *cdt_ref_print(const struct cdt_ref *r, char *buf, size_t len);

/* Same reference (same kind and the fields of that kind). */
bool cdt_ref_equal(const struct cdt_ref *a, const struct cdt_ref *b);

/* ---- bus order ---- */

/* One bus-order map: NICs whose PCI bus path starts with prefixes[0] come
 * first, then prefixes[1] ..., then every other NIC in natural order.  A NIC
 * takes the first prefix it matches.  @product is a POSIX ERE matched
 * against the whole DMI product name (see cdt_bus_order_pick). */
struct cdt_bus_order {
	const char *product;
	const char *const *prefixes;
	size_t n_prefixes;
};

/* Pick the first entry of @table whose @product regex matches all of
 * @product_name.  Returns 0 with *@out = that entry, or *@out = NULL when
 * none matches or @product_name is NULL or "" (natural order then);
 * NETD_EINVAL when an entry's regex does not compile (message names the
 * entry and the regex error; *@out untouched). */
int cdt_bus_order_pick(const struct cdt_bus_order *table, size_t n, const char *product_name,
		       const struct cdt_bus_order **out, struct netd_err *e);

/* Three-way comparison of two NICs in bus order under @bo (NULL = natural
 * order): bus-order prefix rank, then NICs with a bus path before those
 * without, then the bus path (hex fields compared as numbers), then the name.
 * Returns <0, 0 (same bus path and name) or >0. */
int cdt_nic_cmp(const struct cdt_nic *a, const struct cdt_nic *b, const struct cdt_bus_order *bo);

/* Fill @order_out[0..n) with the indexes of @nics in bus order under @bo
 * (NULL = natural order); @nics is not moved.  Ties keep input order. */
void cdt_nic_order(const struct cdt_nic *nics, size_t n, const struct cdt_bus_order *bo,
		   size_t *order_out);

/* ---- resolution ---- */

enum cdt_pick_how {
	CDT_PICK_ASKED = 1,    /* the asked class (or the selector's NIC) */
	CDT_PICK_FASTER = 2,   /* + or ?: a faster class */
	CDT_PICK_SLOWER = 3,   /* - or ?: a slower class */
	CDT_PICK_UNKNOWN = 4,  /* ?: a NIC of unknown speed */
};

struct cdt_pick {
	size_t nic;                 /* index into the caller's nics[] */
	uint8_t how;                /* enum cdt_pick_how */
	char why[CDT_WHY_MAX];      /* e.g. "+1g1: no 1g NIC, took the first
				       faster one: eth2 (10g #1)" */
};

struct cdt_resolution {
	char conduit[CDT_NAME_MAX];
	size_t n;
	struct cdt_pick picks[CDT_TEAM_MAX];  /* one per reference, in order */
};

/* Resolve @refs (in order) against the inventory @nics under bus order @bo
 * (NULL = natural) for conduit @conduit (a name for messages and the path).
 * Each NIC is used at most once: a speed reference whose NIC in a class is
 * taken moves on to its next class; a selector or exact reference whose NIC
 * is taken fails.  Returns 0 and fills *@out; NETD_EINVAL for nrefs 0 or
 * more than CDT_TEAM_MAX; NETD_ENOTFOUND for an unresolvable reference, the
 * message naming the conduit, the reference, the reason and the NICs seen
 * (name, class, who took it); -ENOMEM. */
int cdt_resolve(const char *conduit, const struct cdt_nic *nics, size_t n, const struct cdt_ref *refs,
		size_t nrefs, const struct cdt_bus_order *bo, struct cdt_resolution *out,
		struct netd_err *e);

/* Per node: the NIC sets of @res[0..n) (one per conduit in use) must be
 * pairwise equal or disjoint.  Resolutions with the same conduit name are
 * skipped.  0, or NETD_EINVAL naming both conduits and a shared NIC of
 * @nics. */
int cdt_resolutions_disjoint_check(const struct cdt_resolution *res, size_t n, const struct cdt_nic *nics,
				   size_t n_nics, struct netd_err *e);

/* ---- rules and conduits ---- */

/* The deployment-wide network mode. */
enum cdt_mode {
	CDT_MODE_ANY = 0,      /* rules only: any mode */
	CDT_MODE_SINGLE = 1,
	CDT_MODE_DUAL = 2,
	CDT_MODE_TEAM = 3,
};

/* "single", "dual", "team" (and "*" for CDT_MODE_ANY) -> *@out.
 * 0 or NETD_EINVAL. */
int cdt_mode_parse(const char *text, uint8_t *out);
/* "single", "dual", "team", "*"; "?" for other values. Never NULL. */
const char *cdt_mode_name(uint8_t mode);

/* A rule as configured (text), the input of cdt_conduit_build(). */
struct cdt_rule_spec {
	uint8_t mode;               /* enum cdt_mode */
	uint32_t nic_count;         /* 0 = any */
	const char *roles;          /* POSIX ERE over one role name; NULL/"" = any */
	const char *const *refs;    /* reference texts */
	size_t n_refs;
	bool team;
	uint8_t team_mode;          /* enum model_team_mode, when @team */
};

struct cdt_rule {
	uint8_t mode;               /* enum cdt_mode */
	uint32_t nic_count;         /* 0 = any */
	char roles[CDT_REGEX_MAX];  /* the ERE as written, "" = any */
	struct cdt_ref *refs;       /* owned */
	size_t n_refs;
	bool team;
	uint8_t team_mode;          /* enum model_team_mode */
	/* private */
	bool has_re;
	regex_t re;                 /* "^(roles)$", compiled once */
};

struct cdt_conduit {
	char name[CDT_NAME_MAX];
	struct cdt_rule *rules;     /* owned, in match order */
	size_t n_rules;
};

/* Build conduit @name from @specs: parse every reference, compile every
 * role regex (anchored: it must match a whole role name).  Returns 0 and
 * fills *@out (release with cdt_conduit_clear); NETD_EINVAL for a bad name,
 * reference, mode or regex, with a path such as
 * /netd:conduits/conduit[name='intf1']/rule[2]/if-list[.='3g1'];
 * NETD_ETOOBIG beyond CDT_RULES_MAX rules or CDT_RULE_REFS_MAX refs; -ENOMEM.
 * Builds only: semantic checks are cdt_conduit_check(). */
int cdt_conduit_build(const char *name, const struct cdt_rule_spec *specs, size_t n_specs,
		      struct cdt_conduit *out, struct netd_err *e);

/* Free what @c owns; accepts NULL and zeroed conduits, leaves @c zeroed. */
void cdt_conduit_clear(struct cdt_conduit *c);

/* Write a rule's pattern "<mode>/<#nics>/<roles>" ("team/2/compute.*",
 * "*" for any mode or count, ".*" for any roles) into @buf.  Returns @buf. */
const char *cdt_rule_pattern(const struct cdt_rule *r, char *buf, size_t len);

/* The rule of @c for a node: the first rule whose mode is CDT_MODE_ANY or
 * @mode, whose NIC count is 0 or @nic_count, and whose role regex is empty
 * or matches one of @roles[0..nroles) whole.  Returns 0 with *@rule;
 * NETD_EINVAL for @mode not single/dual/team; NETD_ENOTFOUND naming the
 * conduit, mode, count and roles when no rule matches. */
int cdt_conduit_pick(const struct cdt_conduit *c, uint8_t mode, uint32_t nic_count, const char *const *roles,
		     size_t nroles, const struct cdt_rule **rule, struct netd_err *e);

/* Validate @c: at least one rule; per rule a valid mode; a team has
 * CDT_TEAM_MIN..CDT_TEAM_MAX members, a valid team mode (0..6) and members
 * of one kind whose speed references share sign and speed; a non-team rule
 * has exactly one reference; no reference twice in a rule; no rule shadowed
 * by an earlier one that matches every node it would.  Returns 0 or
 * NETD_EINVAL with path /netd:conduits/conduit[name='intf1']/rule[N] and the
 * reason (first error only). */
int cdt_conduit_check(const struct cdt_conduit *c, struct netd_err *e);

/* Across the conduits networks use (@cs[0..n), duplicates allowed): any two
 * different conduits must, for every node that could pick a rule of each,
 * name the same set of references with the same team settings, or share no
 * reference.  Co-applicable rules: modes and NIC counts compatible, not
 * shadowed by an earlier role-agnostic rule (role regexes are assumed
 * satisfiable together: a node may hold several roles).  Returns 0 or
 * NETD_EINVAL naming both conduits, their rules and the shared reference. */
int cdt_conduits_disjoint_check(const struct cdt_conduit *const *cs, size_t n, struct netd_err *e);

/* ---- inventory discovery (conduits/inventory.c) ----
 *
 * cdt_inventory_read() dumps the links of the caller's network namespace
 * over rtnetlink (libnl) and completes each from ethtool ioctls and sysfs:
 *   name, ifindex, MAC, MTU, operstate, carrier, master, kind  rtnetlink
 *   permanent MAC          IFLA_PERM_ADDRESS, else ETHTOOL_GPERMADDR
 *   speed                  /sys/class/net/<if>/speed (0 when down/unknown)
 *   supported speeds       the speeds of the supported link modes
 *                          (ETHTOOL_GLINKSETTINGS); none (0) without them
 *                          (veth, virtio, no ethtool)
 *   speed class            fastest supported link mode;
 *                          without supported modes (veth, virtio) the current
 *                          speed, else the driver's reported speed, else 0
 *   pci                    realpath of /sys/class/net/<if>/device: its last
 *                          component when the subsystem is pci, its parent
 *                          when it is virtio (virtio-net), else ""
 *   driver                 last component of device/driver, else ""
 * Only Ethernet-type links (ARPHRD_ETHER) are listed; loopback, tunnels and
 * other link types are left out.  Virtual devices are listed with their
 * kind so that callers can filter them.
 *
 * Caveats:
 *  - Blocking: it opens its own netlink and ioctl sockets, reads sysfs and
 *    closes everything before returning (a few ms for tens of links).  Run
 *    it at start-up or off the event loop, not inside a loop callback.
 *  - sysfs is the one mounted in the caller's mount namespace: after
 *    setns() into another netns remount /sys (as `ip netns exec` does), or
 *    the speed, PCI path and driver describe the wrong devices.
 *  - A link dump that the kernel reports as interrupted (links changed
 *    meanwhile) is retried up to 3 times, then NETD_ECONFLICT.
 */

#define CDT_KIND_MAX 32         /* IFLA_INFO_KIND, cut beyond 31 chars */
#define CDT_INVENTORY_MAX 4096  /* links / records one inventory may hold */

/* One link as the kernel reports it: the NIC facts plus what callers need to
 * tell NICs from virtual devices. */
struct cdt_inv_link {
	struct cdt_nic nic;
	int master;                 /* ifindex of the master (bridge, bond), 0 = none */
	char kind[CDT_KIND_MAX];    /* "veth", "bridge", "bond", "vlan", "macvlan"...;
				       "" = none (a physical NIC) */
};

struct cdt_inventory_opts {
	bool physical_only;         /* leave out links that have a kind */
	bool no_ethtool;            /* no ethtool ioctls: no permanent-MAC fallback,
				       class from the current speed */
};

/* Read the inventory of the caller's network namespace (@opts NULL = all
 * Ethernet links, ethtool on).  Returns 0 with *@out (malloc'd, in ifindex
 * order; free() it; NULL when *@n is 0) and *@n; -errno (-EPERM, -ENOMEM...)
 * or NETD_ECONFLICT from netlink, NETD_ECORRUPT for a reply that does not
 * parse, NETD_ETOOBIG beyond CDT_INVENTORY_MAX links, each with a message
 * in @e.  Outputs untouched on failure. */
int cdt_inventory_read(struct cdt_nic **out, size_t *n, const struct cdt_inventory_opts *opts,
		       struct netd_err *e);

/* As cdt_inventory_read(), with master and kind per link. */
int cdt_inventory_read_links(struct cdt_inv_link **out, size_t *n, const struct cdt_inventory_opts *opts,
			     struct netd_err *e);

/* One NIC as an inventory file states it (plain values; the caller maps its
 * JSON/YANG data here).  NULL strings mean "not stated". */
struct cdt_inventory_record {
	const char *name;           /* required: 1..15 chars, no '/', ':' or spaces */
	int ifindex;                /* 0 = unknown, else > 0 and unique */
	const char *mac;            /* required: "52:54:00:12:34:56" */
	const char *perm_mac;       /* NULL = unknown */
	uint32_t mtu;               /* 0 = unknown */
	const char *operstate;      /* cdt_operstate_parse() names; NULL = "unknown" */
	bool link_up;
	const char *speed_class;    /* speed token ("10g"); NULL = @class_mbps */
	const char *speed;          /* current speed token; NULL = @speed_mbps */
	uint32_t class_mbps;        /* the class in Mb/s, any value (a 20g NIC has no
				       token); used when @speed_class is NULL; 0 = unknown */
	uint32_t speed_mbps;        /* used when @speed is NULL; 0 = unknown */
	const uint32_t *supported;  /* supported speeds, Mb/s, each in cdt_link_speeds */
	size_t n_supported;         /* 0 = not stated (see cdt_inventory_from_records) */
	const char *pci;            /* "0000:03:00.1"; NULL = none */
	const char *driver;         /* NULL = none; cut beyond CDT_DRIVER_MAX - 1 */
};

/* Turn @recs[0..n) into an inventory, in record order.  Speeds settle:
 * a record without supported speeds supports its class alone (when the
 * class is a link speed; an inventory file rarely lists link modes), one
 * without a class gets the fastest supported speed.  Returns 0 with
 * *@out (malloc'd, free(); NULL for n 0) and *@n_out; NETD_EINVAL with path
 * /inventory/nic[name='eth0']/<field> (or nic[N] when the name is bad) and
 * the reason: missing or bad name or MAC, bad PCI path, unknown operstate or
 * speed token, a supported speed that is no link speed, a class that is not
 * the fastest supported speed, duplicate name, ifindex, permanent MAC or PCI
 * path (current MACs may repeat: bond members share one); NETD_ETOOBIG
 * beyond CDT_INVENTORY_MAX; -ENOMEM.  Outputs untouched on failure. */
int cdt_inventory_from_records(const struct cdt_inventory_record *recs, size_t n, struct cdt_nic **out,
			       size_t *n_out, struct netd_err *e);

/* "up", "down", "lowerlayerdown", "dormant", "testing", "notpresent",
 * "unknown" (any case) -> *@out.  0 or NETD_EINVAL (*@out untouched). */
int cdt_operstate_parse(const char *text, uint8_t *out);
/* Lowercase name of @st as above; "unknown" for out-of-range values. */
const char *cdt_operstate_name(uint8_t st);


/* ---- desired stack, diff, apply (plan.c, diff.c, actual.c, apply.c) ----
 *
 * From a node's resolved conduits, the networks riding them and the node's
 * addresses, cdt_plan_build() computes the desired devices:
 *
 *   NIC (one per conduit) or bond "bond-<conduit>" over the conduit's NICs
 *     -> per network with use_vlan: VLAN "<base>.<vlan>"
 *        -> with use_bridge: bridge "br-<network>" on top
 *   addresses on the top device of their network; one default route per
 *   family via the network with the lowest router_pref (then name) that has
 *   a router of that family and an address of that family on this node.
 *
 * Bonds: miimon 100; lacp_rate fast for 802.3ad; xmit_hash_policy layer3+4
 * for 802.3ad and balance-xor.  MTU: each device carries the largest MTU of
 * the networks whose stack passes through it (a network's mtu 0 = 1500).
 * Names longer than 15 bytes are cut and get "-xxxx" (4 hex digits of a
 * 32-bit FNV-1a hash of the full name) before a kept suffix (".<vlan>").
 *
 * Ownership.  Every device netd creates carries IFLA_IFALIAS
 * "netd:<conduit>" (bonds) or "netd:<conduit>/<network>" (VLANs, bridges,
 * macvlans); netd routes carry rtm_protocol CDT_RTPROT.  A device without
 * the "netd:" mark is never created, deleted, renamed or re-addressed
 * wholesale.  On a NIC it does not own (one named by a conduit), netd
 * touches exactly:
 *   - its master: enslaves it into netd's bond (taking it down for the
 *     enslave, then up again) or netd's bridge, or releases it from a netd
 *     master it should no longer have (the ports of a stale netd bond too,
 *     planned or not, before the bond is deleted: the kernel would close
 *     them); a NIC that is a port of a foreign master is refused
 *     (NETD_EINUSE), not taken;
 *   - its MTU (not while it is a bond port: the bond sets it);
 *   - its admin state: set up;
 *   - its addresses: planned ones are added; an address is removed only
 *     when it lies inside the subnet of an address the plan puts on this
 *     node (a renumbered netd address); others stay;
 *   - the default route of a family through it, when the plan wants one:
 *     it replaces the main table's default route of metric 0, whoever owns
 *     it (rolled back to the previous one on failure).
 * netd's own devices lose every global address that is not planned
 * (link-local IPv6 is left to the kernel), and stale netd devices (marked,
 * not planned) are deleted; a stale netd route (CDT_RTPROT) is deleted.
 *
 * Diff order (cdt_diff): delete stale netd routes and unplanned addresses;
 * replace (delete, re-create later) netd devices whose kind, lower device,
 * VLAN id, bond settings or mark changed; grow MTUs of existing devices,
 * lower devices first; create devices by depth (bond, VLAN/macvlan,
 * bridge) with their final MTU and mark; enslave ports; shrink MTUs, upper
 * devices first; set devices up; add addresses; add or replace routes;
 * delete stale netd devices, upper first, in one bulk RTM_DELLINK by
 * group (they are first moved into group CDT_TEARDOWN_GROUP).  MTUs grow
 * before creates so a VLAN or macvlan fits its lower device; links come up
 * before routes because the kernel refuses a gateway on a down link.
 *
 * Caveats:
 *  - This kernel has no bond/802.1Q: cdt_plan_input.vlan_as_macvlan turns
 *    every VLAN into a macvlan (mode bridge) of the same name on the same
 *    lower device, untagged: for topology tests only.
 *  - Undoing a replaced device re-creates it with its kind, lower, VLAN id,
 *    bond mode, MTU, mark and addresses, not with settings netd does not
 *    manage (bridge STP, ...).
 *  - Planned addresses are matched by address and prefix length only:
 *    lifetimes, flags and labels are not compared.
 */

#include "core/addr.h"
#include "core/model.h"

#define CDT_ALIAS_MAX 256          /* IFALIASZ */
#define CDT_MARK "netd:"           /* alias prefix of netd's devices */
#define CDT_RTPROT 77              /* rtm_protocol of netd's routes */
#define CDT_MTU_DEFAULT 1500
#define CDT_MIIMON 100
#define CDT_TEARDOWN_GROUP 0x6e657464u  /* "netd": link group for bulk delete */
#define CDT_PLAN_MAX 4096          /* devices, addresses or routes per plan */

enum cdt_dev_kind {
	CDT_DEV_NIC = 1,     /* a NIC netd does not own */
	CDT_DEV_BOND = 2,
	CDT_DEV_VLAN = 3,
	CDT_DEV_MACVLAN = 4,
	CDT_DEV_BRIDGE = 5,
	CDT_DEV_OTHER = 6,   /* actual state only: any other kind */
};

enum cdt_xmit_hash {
	CDT_XMIT_LAYER2 = 0,     /* kernel default */
	CDT_XMIT_LAYER34 = 1,    /* layer3+4 */
};

/* One desired device. */
struct cdt_dev {
	char name[CDT_IFNAME_MAX];
	uint8_t kind;                  /* enum cdt_dev_kind */
	char lower[CDT_IFNAME_MAX];    /* VLAN/macvlan: the device below */
	char master[CDT_IFNAME_MAX];   /* bond or bridge it is a port of, "" none */
	uint16_t vlan_id;              /* VLAN */
	uint8_t bond_mode;             /* bond: enum model_team_mode */
	uint32_t miimon;               /* bond */
	uint8_t lacp_fast;             /* bond, 802.3ad: 1 = fast */
	uint8_t xmit_hash;             /* bond: enum cdt_xmit_hash */
	uint32_t mtu;
	char alias[CDT_ALIAS_MAX];     /* ownership mark; "" for NICs */
	char conduit[CDT_NAME_MAX];    /* for messages */
	char network[MODEL_NAME_MAX];  /* "" for NICs and bonds */
};

struct cdt_paddr {
	char dev[CDT_IFNAME_MAX];
	struct addr a;
	uint8_t plen;
	char network[MODEL_NAME_MAX];
};

/* A unicast route in the main table, protocol CDT_RTPROT. */
struct cdt_proute {
	char dev[CDT_IFNAME_MAX];
	struct prefix dst;             /* default: len 0 */
	bool has_gw;
	struct addr gw;
	uint32_t metric;
	char network[MODEL_NAME_MAX];
};

struct cdt_plan {
	char node[MODEL_NAME_MAX];
	struct cdt_dev *devs;          /* owned; lower devices before upper ones */
	size_t n_devs;
	struct cdt_paddr *addrs;       /* owned */
	size_t n_addrs;
	struct cdt_proute *routes;     /* owned */
	size_t n_routes;
};

/* A conduit as resolved on one node. */
struct cdt_plan_conduit {
	char name[CDT_NAME_MAX];
	size_t n;                                  /* 1..CDT_TEAM_MAX */
	char nics[CDT_TEAM_MAX][CDT_IFNAME_MAX];   /* kernel names, in pick order */
	bool team;                                 /* a bond even for one NIC */
	uint8_t team_mode;                         /* enum model_team_mode */
};

/* One address of the node: @plen 0 = the network's prefix length. */
struct cdt_plan_addr {
	const char *network;
	struct addr a;
	uint8_t plen;
};

struct cdt_plan_input {
	const char *node;                          /* for messages */
	const struct cdt_plan_conduit *conduits;
	size_t n_conduits;
	const struct model_network *nets;          /* the networks the node is on */
	size_t n_nets;
	const struct cdt_plan_addr *addrs;
	size_t n_addrs;
	bool vlan_as_macvlan;                      /* see Caveats */
};

/* Fill *@out from a resolution, the rule it came from (team settings; NULL =
 * no team) and the inventory the resolution's picks index.  0, or
 * NETD_EINVAL for a pick outside @nics (*@out untouched). */
int cdt_plan_conduit_from(const struct cdt_resolution *r, const struct cdt_rule *rule,
			  const struct cdt_nic *nics, size_t n_nics, struct cdt_plan_conduit *out);

/* Interface name for @full: @full itself when it fits 15 bytes, else its
 * head cut so that head + "-xxxx" + the last @keep_suffix bytes fit (see
 * above).  Writes @out (CDT_IFNAME_MAX bytes); NETD_EINVAL for "" or a
 * suffix of 10 bytes or more. */
int cdt_ifname_make(const char *full, size_t keep_suffix, char out[CDT_IFNAME_MAX]);

/* The desired stack of @in (see above).  Returns 0 and fills *@out (release
 * with cdt_plan_clear); NETD_EINVAL naming the node and network/conduit for:
 * a network on a conduit not given, a VLAN without a valid id, two networks
 * with one VLAN on a conduit, an untagged bridged network sharing its
 * conduit with another untagged network, team settings that disagree, an
 * address of a network not given, of another family than the network's
 * subnet or outside it, two device names that collide after shortening;
 * NETD_ETOOBIG beyond CDT_PLAN_MAX; -ENOMEM. */
int cdt_plan_build(const struct cdt_plan_input *in, struct cdt_plan *out, struct netd_err *e);

/* Append to a plan (tests and tools that craft plans).  0 or -ENOMEM /
 * NETD_ETOOBIG. */
int cdt_plan_add_dev(struct cdt_plan *p, const struct cdt_dev *d);
int cdt_plan_add_addr(struct cdt_plan *p, const struct cdt_paddr *a);
int cdt_plan_add_route(struct cdt_plan *p, const struct cdt_proute *r);

/* Free what @p owns; accepts NULL; leaves @p zeroed. */
void cdt_plan_clear(struct cdt_plan *p);

/* ---- actual state (actual.c) ---- */

struct cdt_alink {
	char name[CDT_IFNAME_MAX];
	int ifindex;
	uint8_t kind;                  /* enum cdt_dev_kind: NIC when no kind */
	char kind_text[CDT_KIND_MAX];
	int master;                    /* ifindex, 0 none */
	int link;                      /* IFLA_LINK ifindex (VLAN, macvlan), 0 none */
	uint32_t mtu;
	uint32_t group;
	bool up;                       /* IFF_UP */
	char alias[CDT_ALIAS_MAX];
	uint16_t vlan_id;
	uint32_t macvlan_mode;
	uint8_t bond_mode, lacp_fast, xmit_hash;
	uint32_t miimon;
};

struct cdt_aaddr {
	int ifindex;
	struct addr a;
	uint8_t plen;
	uint8_t scope;                 /* RT_SCOPE_* */
};

struct cdt_aroute {
	int oif;
	struct prefix dst;
	bool has_gw;
	struct addr gw;
	uint8_t protocol;
	uint32_t metric;
};

/* Links, addresses, and the main table's unicast routes of one netns. */
struct cdt_actual {
	struct cdt_alink *links;
	size_t n_links;
	struct cdt_aaddr *addrs;
	size_t n_addrs;
	struct cdt_aroute *routes;
	size_t n_routes;
};

/* Dump the caller's netns (own socket, blocking).  0 with *@out (release
 * with cdt_actual_clear); -errno / NETD_ECONFLICT (dump interrupted 3
 * times) / NETD_ECORRUPT / NETD_ETOOBIG with a message.  Outputs untouched
 * on failure. */
int cdt_actual_read(struct cdt_actual *out, struct netd_err *e);
void cdt_actual_clear(struct cdt_actual *a);
/* The link named @name / with @ifindex, or NULL. */
const struct cdt_alink *cdt_actual_link(const struct cdt_actual *a, const char *name);
const struct cdt_alink *cdt_actual_link_at(const struct cdt_actual *a, int ifindex);
/* Alias starts with CDT_MARK. */
bool cdt_owned(const char *alias);

/* ---- diff (diff.c) ---- */

enum cdt_chg_op {
	CDT_CHG_DEL_ROUTE = 1,
	CDT_CHG_DEL_ADDR = 2,
	CDT_CHG_REPLACE = 3,     /* delete a netd device that a CREATE re-makes */
	CDT_CHG_MTU = 4,
	CDT_CHG_CREATE = 5,
	CDT_CHG_ENSLAVE = 6,     /* master = "" releases */
	CDT_CHG_UP = 7,
	CDT_CHG_ADD_ADDR = 8,
	CDT_CHG_ROUTE = 9,       /* add or replace */
	CDT_CHG_DEL_LINK = 10,   /* a stale netd device; consecutive ones go in bulk */
};

struct cdt_change {
	uint8_t op;                    /* enum cdt_chg_op */
	char dev[CDT_IFNAME_MAX];      /* the device changed */
	char conduit[CDT_NAME_MAX];    /* for messages ("" when unknown) */
	char network[MODEL_NAME_MAX];
	struct cdt_dev want;           /* CREATE; REPLACE/DEL_LINK: the device as it is */
	char master[CDT_IFNAME_MAX];   /* ENSLAVE */
	char old_master[CDT_IFNAME_MAX];
	bool master_is_bond;           /* ENSLAVE: port must go down first */
	bool was_up;                   /* ENSLAVE, REPLACE, DEL_LINK */
	uint32_t mtu, old_mtu;         /* MTU */
	uint32_t old_group;            /* DEL_LINK */
	struct addr a;                 /* ADD/DEL_ADDR */
	uint8_t plen;
	struct cdt_proute route;       /* ROUTE, DEL_ROUTE (dev = its device) */
	bool has_old_route;            /* ROUTE: replaced one, for undo */
	struct cdt_proute old_route;
	uint8_t old_protocol;
};

struct cdt_changes {
	struct cdt_change *v;          /* owned */
	size_t n;
};

/* Changes that turn @act into @p, in the order above.  A pure function.
 * Returns 0 with *@out (cdt_changes_clear; n 0 = nothing to do);
 * NETD_ENOTFOUND for a planned NIC or lower device that is absent;
 * NETD_EEXIST when a planned netd device's name is taken by a device
 * without the mark; NETD_EINUSE for a NIC that is a port of a foreign
 * master, or a foreign link in CDT_TEARDOWN_GROUP when something is stale;
 * -ENOMEM.  Messages name the node, conduit, network and device. */
int cdt_diff(const struct cdt_plan *p, const struct cdt_actual *act, struct cdt_changes *out,
	     struct netd_err *e);
void cdt_changes_clear(struct cdt_changes *c);
/* "create bridge br-admin", "add address 10.0.0.5/24 to br-admin" ...
 * into @buf.  Returns @buf. */
const char *cdt_change_print(const struct cdt_change *c, char *buf, size_t len);

/* ---- apply (apply.c) ---- */

struct cdt_apply_stats {
	unsigned changes;      /* changes applied (0: already as planned) */
	unsigned nl_msgs;      /* netlink requests that modify state */
	unsigned undone;       /* changes rolled back after a failure */
};

/* Reconcile the caller's netns with @p over one libnl route socket: dump,
 * diff, apply in order, dump again and diff again (must be empty).  All or
 * nothing: on a kernel error (or a non-empty second diff) the changes made
 * are undone in reverse order.  Returns 0 (and *@st when not NULL); the
 * cdt_diff() errors (nothing changed); NETD_ECONFLICT when the state read
 * back differs from the plan; else the kernel's -errno, with a message
 * "node N conduit C device D: <change>: <kernel message>" (and "rollback
 * incomplete: ..." when an undo failed too).  *@st (when not NULL) is
 * filled on failure too: it reports what was sent and undone.  Blocking; a
 * few ms. */
int cdt_apply(const struct cdt_plan *p, struct cdt_apply_stats *st, struct netd_err *e);

#endif
