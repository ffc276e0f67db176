/* devices/devices.h — managed devices (switches): port lists, desired port
 * state, and the difference against a switch's actual VLAN state.
 *
 * This part is pure logic: plain data in, plain data out.  The drivers
 * (devices/snmp.h) read a switch into struct dev_actual, call dev_desired()
 * and dev_diff(), and send the operations in order.
 *
 * Q-BRIDGE PortList (RFC 4363 / RFC 2674): an octet string in which octet 0's
 * most significant bit is port 1, its least significant bit port 8, octet 1's
 * MSB port 9, and so on.  Ports are bridge port numbers 1..DEV_PORTS_MAX.
 *
 * Desired state (dev_desired), decided here:
 *  - A port is managed when a link names it.  Ports no link names are never
 *    touched.
 *  - A port carries the networks of the NIC its link names: the network
 *    without use_vlan is untagged (PVID = its VLAN); each use_vlan network is
 *    tagged.  A port with only tagged networks gets the idle VLAN untagged.
 *  - A released port (its NIC has no networks, or no NIC entry matches the
 *    link) carries the idle VLAN untagged and nothing else.
 *  - Every network on a switch port needs a VLAN id (vlan 1..4094): an
 *    untagged network with vlan 0 is refused, since the switch must put
 *    untagged frames in some VLAN and netd will not guess which.
 *  - LAG: NICs of one node sharing a bond name, linked to >= 2 ports of this
 *    switch, in a team mode other than balance-tlb/balance-alb, make a LAG
 *    requirement.  Q-BRIDGE has no LAG objects, so each requirement is marked
 *    unsupported over SNMP; the NETCONF driver may honour it.
 *  - Guardrails: a link to a port outside the allowed ports, any VLAN
 *    (untagged, tagged or idle) outside the allowed VLANs, two networks
 *    wanting different untagged VLANs on one port, a VLAN both tagged and
 *    untagged on one port, two links on one port: refused with NETD_EINVAL
 *    (NETD_EPERM for the allowed-list refusals), the message naming switch,
 *    port, VLAN and reason.
 *
 * Difference (dev_diff), in this order so that no step strands a port:
 *   1. DEV_OP_VLAN_CREATE for each wanted VLAN without a row, named
 *      "netd-<network>" (the idle VLAN "netd-idle"), cut to 32 octets.
 *   2. DEV_OP_VLAN_PORTS adding managed ports to egress/untagged lists.
 *   3. DEV_OP_PVID for each managed port whose PVID differs.
 *   4. DEV_OP_VLAN_PORTS removing managed ports from VLANs they should not
 *      carry (or should carry tagged, not untagged).
 *   5. DEV_OP_VLAN_DELETE for rows netd owns (name starts with "netd-"),
 *      left with no port and not any port's PVID.  Rows with other names are
 *      never deleted.
 * Port list operations are read-modify-write: the new lists are computed
 * from the actual ones, changing only managed ports' bits, and the op keeps
 * the old lists so a driver can detect a concurrent change.  VLANs outside
 * the allowed list are neither read nor written.
 *
 * Errors: 0 or a negative code (core/err.h); functions taking a struct
 * netd_err fill it with a data path and a reason.  Output parameters are
 * written only on success.
 *
 * Caveats:
 *  - Between steps 2 and 4 a moving port is untagged in two VLANs; agents
 *    that allow one untagged VLAN per port need the NETCONF driver or a
 *    removal first (not done here).
 *  - A released node's links must still be passed (with no networks) for
 *    its ports to return to the idle VLAN; a dropped link makes its port
 *    unmanaged and leaves it as it is.
 *  - The idle VLAN must be in the allowed VLANs, or dev_desired() refuses.
 */
#ifndef NETD_DEVICES_H
#define NETD_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define DEV_PORTS_MAX 4096                 /* bridge ports 1..4096 */
#define DEV_PORTLIST_OCTETS (DEV_PORTS_MAX / 8)
#define DEV_VLAN_MIN 1
#define DEV_VLAN_MAX 4094
#define DEV_NAME_MAX 64                    /* switch/node/network names + NUL */
#define DEV_IFNAME_MAX 16                  /* NIC and bond names + NUL */
#define DEV_VLAN_NAME_MAX 33               /* dot1qVlanStaticName: 32 + NUL */
#define DEV_OWNED_PREFIX "netd-"           /* VLAN rows netd created */
#define DEV_LAG_PORTS_MAX 8
/* Hex text of a full list: 2 chars per octet + NUL. */
#define DEV_PORTLIST_HEX_MAX (2 * DEV_PORTLIST_OCTETS + 1)

/* ---- PortList ---- */

struct dev_portlist {
	uint8_t o[DEV_PORTLIST_OCTETS];
};

/* Set, clear or test bridge port @port (1..DEV_PORTS_MAX).  set/clear return
 * 0 or NETD_EINVAL for a port out of range (list unchanged); test returns
 * false for a port out of range. */
int dev_portlist_set(struct dev_portlist *pl, unsigned port);
int dev_portlist_clear(struct dev_portlist *pl, unsigned port);
bool dev_portlist_test(const struct dev_portlist *pl, unsigned port);
/* Number of ports set. */
unsigned dev_portlist_count(const struct dev_portlist *pl);

/* Decode an octet string of any length for a switch of @nports ports
 * (1..DEV_PORTS_MAX).  Shorter strings leave the missing ports clear; octets
 * beyond the switch's ports are accepted when zero.  A bit set for a port
 * above @nports gives NETD_EINVAL, the message naming the first such port
 * (@what names the object, e.g. "egress of VLAN 10"); NETD_EINVAL too for
 * @nports out of range.  @oct may be NULL when @len is 0. */
int dev_portlist_decode(const uint8_t *oct, size_t len, unsigned nports, const char *what,
			struct dev_portlist *out, struct netd_err *e);
/* Encode for @nports ports: exactly (nports + 7) / 8 octets into @out.
 * Returns the octet count, or NETD_EINVAL (@nports out of range, or a port
 * above @nports set), or -ENOSPC if @cap is too small. */
int dev_portlist_encode(const struct dev_portlist *pl, unsigned nports, uint8_t *out, size_t cap);
/* Canonical text for logs: the encoded octets as lowercase hex, no
 * separators ("c001" = ports 1, 2, 16 of a 16-port switch).  Cut to fit
 * @len (always NUL-terminated when @len > 0).  Returns @buf. */
const char *dev_portlist_hex(const struct dev_portlist *pl, unsigned nports, char *buf, size_t len);

/* ---- VLAN sets ---- */

struct dev_vlanset {
	uint8_t o[(DEV_VLAN_MAX + 8) / 8];   /* bit v = VLAN v */
};
bool dev_vlanset_test(const struct dev_vlanset *s, unsigned vlan);
void dev_vlanset_add(struct dev_vlanset *s, unsigned vlan);   /* ignores out of range */

/* ---- Inputs ---- */

struct dev_range {
	uint16_t first, last;   /* inclusive */
};

struct dev_switch {
	char name[DEV_NAME_MAX];
	unsigned nports;                 /* bridge ports 1..nports */
	const struct dev_range *vlans;   /* allowed VLANs */
	size_t n_vlans;
	const struct dev_range *ports;   /* allowed bridge ports */
	size_t n_ports;
	uint16_t idle_vlan;              /* untagged on released / tagged-only ports */
};

/* A node NIC cabled to a bridge port of the switch. */
struct dev_link {
	unsigned port;
	char node[DEV_NAME_MAX];
	char nic[DEV_IFNAME_MAX];
	uint8_t mac[6];
};

/* One network a NIC's conduit carries. */
struct dev_net {
	char name[DEV_NAME_MAX];
	uint16_t vlan;                   /* 1..4094 */
	bool use_vlan;                   /* tagged */
};

/* A node NIC and what it carries.  @bond is the team interface the NIC is
 * a member of ("" = none), @team_mode its enum model_team_mode. */
struct dev_nic {
	char node[DEV_NAME_MAX];
	char nic[DEV_IFNAME_MAX];
	char bond[DEV_IFNAME_MAX];
	uint8_t team_mode;
	const struct dev_net *nets;
	size_t n_nets;
};

/* ---- Desired state ---- */

struct dev_port_want {
	unsigned port;
	uint16_t pvid;                   /* untagged VLAN */
	char pvid_net[DEV_NAME_MAX];     /* network on it, "" = idle */
	struct dev_vlanset tagged;
	bool released;
	char node[DEV_NAME_MAX];
	char nic[DEV_IFNAME_MAX];
};

struct dev_lag {
	char node[DEV_NAME_MAX];
	char bond[DEV_IFNAME_MAX];
	uint8_t team_mode;
	unsigned ports[DEV_LAG_PORTS_MAX];
	size_t n_ports;
	bool snmp_unsupported;           /* always true: Q-BRIDGE has no LAGs */
};

struct dev_desired {
	struct dev_port_want *ports;     /* sorted by port */
	size_t n_ports;
	struct dev_lag *lags;
	size_t n_lags;
	/* name of a network on each VLAN (for row names), "" = idle */
	char (*vlan_net)[DEV_NAME_MAX];  /* DEV_VLAN_MAX + 1 entries */
};

/* Compute the desired state of @sw's managed ports from @links and @nics
 * (matched on node and NIC name).  Returns 0, -ENOMEM, NETD_EINVAL or
 * NETD_EPERM (see guardrails above).  Free with dev_desired_free(). */
int dev_desired(const struct dev_switch *sw, const struct dev_link *links, size_t n_links,
		const struct dev_nic *nics, size_t n_nics, struct dev_desired *out, struct netd_err *e);
void dev_desired_free(struct dev_desired *d);   /* accepts NULL; leaves it zeroed */

/* ---- Actual state ---- */

struct dev_vlan_row {
	uint16_t vlan;
	char name[DEV_VLAN_NAME_MAX];
	struct dev_portlist egress, untagged;
};

struct dev_actual {
	unsigned nports;
	struct dev_vlan_row *rows;       /* heap, any order */
	size_t n_rows;
	uint16_t pvid[DEV_PORTS_MAX + 1];/* by bridge port; 0 = unknown */
};

void dev_actual_free(struct dev_actual *a);   /* frees rows; accepts NULL */
/* Whether a row name marks a row netd created. */
bool dev_vlan_owned(const char *name);

/* ---- Operations ---- */

enum dev_op_kind {
	DEV_OP_VLAN_CREATE = 1,   /* vlan, name */
	DEV_OP_VLAN_PORTS = 2,    /* vlan: old_* -> egress/untagged */
	DEV_OP_PVID = 3,          /* port, pvid (old_pvid) */
	DEV_OP_VLAN_DELETE = 4,   /* vlan (netd-owned, empty) */
};

struct dev_op {
	enum dev_op_kind kind;
	uint16_t vlan;
	char name[DEV_VLAN_NAME_MAX];
	struct dev_portlist old_egress, old_untagged, egress, untagged;
	unsigned port;
	uint16_t pvid, old_pvid;
};

/* The ordered operations that take @a to @d, touching only managed (hence
 * allowed) ports and allowed VLANs.  Returns 0 with *ret_ops (heap, free()
 * it; NULL when *ret_n is 0), -ENOMEM, or NETD_EINVAL for an actual state
 * that does not fit the switch (nports differ).  A final check refuses
 * (NETD_EPERM) any op outside the guardrails. */
int dev_diff(const struct dev_switch *sw, const struct dev_desired *d, const struct dev_actual *a,
	     struct dev_op **ret_ops, size_t *ret_n, struct netd_err *e);

/* Check @ops against @sw's allowed lists and against @a: every changed bit
 * and PVID on an allowed port, every VLAN allowed, deletes only of owned
 * rows.  0 or NETD_EPERM naming switch, port, VLAN and reason. */
int dev_ops_check(const struct dev_switch *sw, const struct dev_actual *a, const struct dev_op *ops,
		  size_t n, struct netd_err *e);

/* Apply @ops to @a as an agent would (for tests and dry runs).  Returns 0,
 * -ENOMEM, NETD_EEXIST (create of an existing row), NETD_ENOTFOUND (row
 * missing) or NETD_ECONFLICT (old lists/PVID differ from @a).  On failure
 * @a holds the ops applied before the failing one. */
int dev_apply_to_state(struct dev_actual *a, const struct dev_op *ops, size_t n);

/* Short text of an op for logs and tests ("create 10 netd-admin", "ports 10
 * egress c0 untagged 80", "pvid 3 10", "delete 10").  Returns @buf. */
const char *dev_op_print(const struct dev_op *op, unsigned nports, char *buf, size_t len);

#endif
