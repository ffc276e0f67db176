/* devices/snmp.h — the SNMP switch driver (net-snmp client) and link
 * learning (LLDP-MIB, bridge FDB).
 *
 * Three layers, each usable alone:
 *
 *  1. Pure data, no I/O (devices/snmp_data.c, devices/links.c): agent
 *     replies (numeric OIDs and typed values, struct dev_vb) are collected
 *     into the structures of devices.h (struct dev_reply -> struct
 *     dev_snmp_state, LLDP remote entries, FDB entries); a plan (dev_diff()'s
 *     operations plus ifAlias writes) becomes steps of SET varbinds with their
 *     undo; learned links come out of dev_learn().  This is what the unit
 *     tests and the fuzz target (tests/fuzz/fuzz_snmpreply.c) exercise.
 *  2. The net-snmp adapter (devices/snmp.c): a session per switch
 *     (snmp_sess_* single-session API, never the library's global session
 *     list), GETBULK walks, SETs, error translation (done here, once).
 *  3. The driver: dev_snmp_read(), dev_snmp_apply(), dev_snmp_learn().
 *
 * Objects (numeric OIDs only: Debian ships no IETF MIB text):
 *   IF-MIB        ifName  1.3.6.1.2.1.31.1.1.1.1.<ifIndex>
 *                 ifAlias 1.3.6.1.2.1.31.1.1.1.18.<ifIndex>   (written)
 *   BRIDGE-MIB    dot1dBasePortIfIndex 1.3.6.1.2.1.17.1.4.1.2.<port>
 *   Q-BRIDGE-MIB  dot1qVlanStaticEntry 1.3.6.1.2.1.17.7.1.4.3.1.<col>.<vlan>:
 *                 .1 name, .2 egress, .4 untagged, .5 RowStatus   (written)
 *                 dot1qPvid 1.3.6.1.2.1.17.7.1.4.5.1.1.<port>      (written)
 *                 dot1qTpFdbPort/Status 1.3.6.1.2.1.17.7.1.2.2.1.{2,3}.<fid>.<mac x6>
 *   LLDP-MIB      lldpRemEntry 1.0.8802.1.1.2.1.4.1.1.<col>.<timemark>.<localport>.<index>:
 *                 .4/.5 chassis id subtype/id, .6/.7 port id subtype/id, .9 sysName
 * Everything is read by walking (GETBULK), never by exact GETs of rows that
 * may not exist: some agents (pass_persist ones among them) answer an exact
 * GET of a missing row with a placeholder.
 *
 * Applying (dev_snmp_apply) sends the plan in four groups, each group as
 * few SET PDUs as the agent accepts (steps are never split across PDUs; a
 * tooBig answer halves the PDU and resends, once a re-read shows nothing of
 * it stayed):
 *   1. add:    VLAN rows created (RowStatus createAndGo, name, then their
 *              egress/untagged lists, in that order) + ports added to
 *              existing rows (egress before untagged) + ifAlias writes
 *   2. PVIDs
 *   3. remove: ports taken out of lists (untagged before egress)
 *   4. delete: netd-owned rows left empty (RowStatus destroy)
 * A group starts only after the previous one was acknowledged, so a port is
 * never without its VLAN even on agents that apply a multi-varbind SET
 * partly (net-snmp's snmpd with pass_persist does, and so do many
 * switches).  Before each group the driver re-reads (walks) what the
 * remaining steps touch and compares it with what the plan was computed
 * from (updated by the groups applied so far): any difference is
 * NETD_ECONFLICT naming switch, VLAN or port, and nothing further is sent.
 * A refused SET (wrongValue, notWritable, ...) is undone: the driver
 * re-reads, writes back the old value of every object of the refused PDU
 * that had changed, and reports per step what stayed applied.  At the end
 * it re-reads everything and checks that dev_diff() finds nothing left and
 * every alias reads back as written.
 *
 * Errors: 0 or a negative code (core/err.h), with struct netd_err naming the
 * switch (and port, VLAN, OID and the agent's answer where there is one):
 *   -ETIMEDOUT       no answer (address, SNMP version, timeout x tries)
 *   NETD_EAUTH       authentication refused (wrong key, unknown user, bad
 *                    community answered as authorizationError)
 *   NETD_EPERM       guardrail refusal, or the agent said noAccess/notWritable
 *   NETD_EINVAL      bad configuration, or the agent said wrongValue & co.
 *   NETD_ECONFLICT   the switch changed between read and write, or the
 *                    result does not verify
 *   NETD_ECORRUPT    a reply that does not decode (wrong type, bad index,
 *                    a port list with ports the switch does not have)
 *   NETD_ETOOBIG     a reply beyond the limits below
 *   -EIO             other agent or library failures (genErr, ...)
 * Output parameters are written only on success, except the apply report,
 * which is the point of a failure too.
 *
 * Caveats:
 *  - net-snmp keeps process-wide state (USM users by engine id and name,
 *    the engine-time cache) that the single-session API still shares, so
 *    every net-snmp call of this module runs under one process-wide mutex:
 *    switches are driven one at a time, whatever the number of threads,
 *    and an unreachable switch holds the others up for timeout x tries per
 *    request (keep timeouts short; one worker per switch gains nothing).
 *    The USM user entry of a session is re-installed before each request,
 *    so two sessions to one engine with the same user name but different
 *    keys (a wrong key being tried) never borrow each other's keys.
 *  - The library is initialized once (dev_snmp_lib_init(), called by
 *    dev_snmp_open()) with init_snmp() unless something else in the
 *    process initialized it already.  In a process that also runs the
 *    AgentX subagent (mibs/), start the subagent first: init_snmp() runs
 *    once per process and the agent role must be set before it.
 *  - An SNMPv2c agent does not answer a wrong community at all: that is
 *    -ETIMEDOUT, and the message says a wrong community may be the cause.
 *  - LLDP: only the IEEE 802.1AB-2005 LLDP-MIB (1.0.8802.1.1.2) is read, not
 *    LLDP-V2-MIB.  Its lldpRemLocalPortNum is taken as the bridge port, as
 *    that MIB asks of bridges.
 *  - RowStatus notInService/notReady rows are read as rows; a netd-owned
 *    one that the desired state uses is set active(1) in the add group; a
 *    foreign one is refused (NETD_EINVAL), never touched.
 *  - Moving a port's untagged VLAN leaves it untagged in two VLANs between
 *    groups 1 and 3 (see devices.h); agents that refuse that answer
 *    inconsistentValue, reported and undone as any refusal.
 */
#ifndef NETD_DEVICES_SNMP_H
#define NETD_DEVICES_SNMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "devices/devices.h"

#define DEV_OID_MAX 40               /* sub-identifiers in an OID we build or accept */
#define DEV_TEXT_MAX 65              /* ifName / ifAlias as kept: 64 octets + NUL */
#define DEV_ALIAS_LEN 64             /* ifAlias SIZE(0..64) */
#define DEV_LLDP_TEXT_MAX 520        /* an LLDP id as text: 255 octets as hex + NUL */
#define DEV_SYSNAME_MAX 256
/* Limits on what one read may make netd keep (NETD_ETOOBIG beyond). */
#define DEV_REPLY_MAX_IFACES 65536
#define DEV_REPLY_MAX_LLDP 65536
#define DEV_REPLY_MAX_FDB 262144

/* ---- Values as they come from and go to an agent ---- */

/* BER tags, as net-snmp's ASN_* and SNMP_NOSUCH* / SNMP_ENDOFMIBVIEW. */
enum dev_asn {
	DEV_ASN_INTEGER = 0x02,
	DEV_ASN_OCTETS = 0x04,
	DEV_ASN_NULL = 0x05,
	DEV_ASN_OID = 0x06,
	DEV_ASN_IPADDR = 0x40,
	DEV_ASN_COUNTER = 0x41,
	DEV_ASN_GAUGE = 0x42,      /* Gauge32 = Unsigned32 */
	DEV_ASN_TIMETICKS = 0x43,
	DEV_ASN_COUNTER64 = 0x46,
	DEV_ASN_NOSUCHOBJECT = 0x80,
	DEV_ASN_NOSUCHINSTANCE = 0x81,
	DEV_ASN_ENDOFMIBVIEW = 0x82,
};

/* One varbind of a reply; pointers borrowed for the duration of a call. */
struct dev_vb {
	const uint32_t *oid;
	size_t oid_len;
	uint8_t type;            /* enum dev_asn */
	int64_t num;             /* INTEGER, Gauge32, Counter32, TimeTicks */
	const uint8_t *str;      /* OCTET STRING (may be NULL when len is 0) */
	size_t len;
};

/* One varbind to send, owning its value. */
struct dev_setvb {
	uint32_t oid[DEV_OID_MAX];
	size_t oid_len;
	uint8_t type;            /* DEV_ASN_INTEGER, DEV_ASN_OCTETS or DEV_ASN_GAUGE */
	int64_t num;
	uint8_t str[DEV_PORTLIST_OCTETS];
	size_t len;
};

/* Text of an OID ("1.3.6.1.2.1.17.7.1.4.5.1.1.3"), cut to fit.  Returns @buf. */
const char *dev_oid_text(const uint32_t *oid, size_t len, char *buf, size_t cap);

/* ---- The switch as read ---- */

struct dev_port_info {
	unsigned port;                   /* bridge port */
	uint32_t ifindex;                /* from dot1dBasePortIfIndex, 0 = none */
	char ifname[DEV_TEXT_MAX];       /* "" when the agent has none */
	char alias[DEV_TEXT_MAX];
};

struct dev_snmp_state {
	struct dev_actual actual;        /* rows (by VLAN id) and PVIDs; nports as asked */
	uint8_t *row_status;             /* RowStatus of actual.rows[i] (0 = not read) */
	struct dev_port_info *ports;     /* sorted by bridge port */
	size_t n_ports;
	unsigned max_port;               /* highest bridge port the agent listed */
};

void dev_snmp_state_free(struct dev_snmp_state *st);   /* accepts NULL; leaves it zeroed */
/* Deep copy; 0 or -ENOMEM. */
int dev_snmp_state_copy(const struct dev_snmp_state *from, struct dev_snmp_state *to);
const struct dev_port_info *dev_snmp_port(const struct dev_snmp_state *st, unsigned port);

/* ---- LLDP and FDB ---- */

enum dev_lldp_kind {
	DEV_LLDP_MAC = 1,        /* mac[] holds it */
	DEV_LLDP_NAME = 2,       /* printable text: interface name/alias, local, sysName-like */
	DEV_LLDP_ADDR = 3,       /* network address, text is its usual form */
	DEV_LLDP_OTHER = 4,      /* anything else; text is "0x" + hex */
};

struct dev_lldp_id {
	uint8_t subtype;
	enum dev_lldp_kind kind;
	uint8_t mac[6];
	char text[DEV_LLDP_TEXT_MAX];    /* "52:54:00:00:00:01", "eth0", "192.0.2.1", "0x0a0b" */
};

/* Decode an lldpRemChassisId (@chassis true; LldpChassisIdSubtype 1..7) or
 * lldpRemPortId (LldpPortIdSubtype 1..7) of @len octets (1..255).
 * macAddress (chassis 4, port 3) must be 6 octets; networkAddress (5 / 4)
 * an IANA family octet (1 IPv4, 2 IPv6) and 4 / 16 octets, other families
 * as hex; interfaceAlias, interfaceName and local are NAME when printable
 * ASCII, OTHER (hex) otherwise; chassisComponent, portComponent and
 * agentCircuitId are NAME when printable, OTHER otherwise.  Returns 0, or
 * NETD_ECORRUPT (subtype or length out of range, a MAC not 6 octets, a bad
 * address) with the reason in @e. */
int dev_lldp_id_decode(bool chassis, unsigned subtype, const uint8_t *oct, size_t len, struct dev_lldp_id *out,
		       struct netd_err *e);

struct dev_lldp_rem {
	unsigned port;                   /* lldpRemLocalPortNum = bridge port */
	uint32_t index;                  /* lldpRemIndex */
	struct dev_lldp_id chassis, port_id;
	char sysname[DEV_SYSNAME_MAX];
};

struct dev_fdb_entry {
	uint32_t fid;                    /* dot1qFdbId */
	uint8_t mac[6];
	unsigned port;                   /* dot1qTpFdbPort; 0 = unknown */
	uint8_t status;                  /* 1 other, 2 invalid, 3 learned, 4 self, 5 mgmt; 0 = not read */
};

/* Parse the index of a dot1qTpFdbEntry (what follows the column's OID):
 * exactly 7 sub-identifiers, dot1qFdbId then the 6 MAC octets (each
 * 0..255).  0 or NETD_ECORRUPT. */
int dev_fdb_index_parse(const uint32_t *sub, size_t n, uint32_t *fid, uint8_t mac[6]);

/* ---- Collecting replies ---- */

/* What a read walks. */
enum dev_read_what {
	DEV_READ_PORTS = 1 << 0,         /* dot1dBasePortIfIndex, ifName, ifAlias */
	DEV_READ_VLANS = 1 << 1,         /* dot1qVlanStaticTable name, egress, untagged, RowStatus */
	DEV_READ_PVID = 1 << 2,          /* dot1qPvid */
	DEV_READ_LLDP = 1 << 3,          /* lldpRemTable */
	DEV_READ_FDB = 1 << 4,           /* dot1qTpFdbTable port, status */
	DEV_READ_STATE = DEV_READ_PORTS | DEV_READ_VLANS | DEV_READ_PVID,
	DEV_READ_LINKS = DEV_READ_LLDP | DEV_READ_FDB,
};

/* The column roots a read of @what walks, in a fixed order; returns the
 * count (at most 16) and fills @roots / @lens. */
size_t dev_read_columns(unsigned what, const uint32_t *roots[16], size_t lens[16]);

struct dev_reply;   /* an accumulator of varbinds from one read */

/* New accumulator; @sw_name names the switch in errors.  0 or -ENOMEM. */
int dev_reply_new(const char *sw_name, struct dev_reply **ret);
void dev_reply_free(struct dev_reply *r);   /* accepts NULL */
/* Take one varbind.  Varbinds under no known column, and the exception
 * types (noSuchObject, noSuchInstance, endOfMibView), are ignored (0).
 * VLAN ids outside 1..4094 (implementation-specific VLANs) are ignored.
 * A later varbind for the same object replaces the earlier one.  Returns 0,
 * -ENOMEM, NETD_ETOOBIG (limits above), or NETD_ECORRUPT naming the object
 * and index (wrong type, malformed index, value out of range). */
int dev_reply_add(struct dev_reply *r, const struct dev_vb *vb, struct netd_err *e);
/* The switch state collected, for a switch of @nports bridge ports (0: the
 * highest port the agent listed, at least 1).  Port lists are decoded with
 * dev_portlist_decode() (a bit beyond @nports is NETD_ECORRUPT naming the
 * VLAN); a VLAN row needs its egress, untagged and RowStatus columns (else
 * NETD_ECORRUPT); a port without dot1dBasePortIfIndex has ifindex 0; an
 * agent's bridge port above @nports is NETD_ECORRUPT.  Returns 0 or an
 * error; @out is written only on success (free with dev_snmp_state_free). */
int dev_reply_state(const struct dev_reply *r, unsigned nports, struct dev_snmp_state *out, struct netd_err *e);
/* The LLDP remote entries collected, sorted by port then index; entries
 * missing chassis or port id, or whose ids do not decode, are left out and
 * counted in *ret_skipped (may be NULL).  0 or -ENOMEM; free() the array. */
int dev_reply_lldp(const struct dev_reply *r, struct dev_lldp_rem **ret, size_t *ret_n, size_t *ret_skipped);
/* The FDB entries collected (port known), sorted by MAC, FDB id.  0 or
 * -ENOMEM; free() the array. */
int dev_reply_fdb(const struct dev_reply *r, struct dev_fdb_entry **ret, size_t *ret_n);

/* ---- Plans and SET steps (pure) ---- */

/* An ifAlias write: the managed port @port (ifIndex @ifindex) gets @alias. */
struct dev_alias_op {
	unsigned port;
	uint32_t ifindex;
	char alias[DEV_TEXT_MAX];
	char old[DEV_TEXT_MAX];
};

struct dev_snmp_plan {
	struct dev_op *ops;              /* dev_diff()'s, in its order */
	size_t n_ops;
	struct dev_alias_op *aliases;    /* by port */
	size_t n_aliases;
	uint16_t *activate;              /* netd-owned rows not active(1) that the desired state uses */
	size_t n_activate;
};

/* The alias netd writes for a wanted port: "netd: <node> <nic>", or
 * "netd: idle" for a released one, cut to 64 octets.  Returns @buf. */
const char *dev_port_alias(const struct dev_port_want *w, char *buf, size_t cap);

/* The plan that takes @st to @d: dev_diff(), then an alias write for each
 * wanted port whose ifAlias differs (a wanted port without an ifIndex is
 * NETD_ECORRUPT), and the rows to activate (a foreign non-active row that
 * @d uses is NETD_EINVAL).  0 or an error; free with dev_snmp_plan_free(). */
int dev_snmp_plan(const struct dev_switch *sw, const struct dev_desired *d, const struct dev_snmp_state *st,
		  struct dev_snmp_plan *out, struct netd_err *e);
void dev_snmp_plan_free(struct dev_snmp_plan *p);   /* accepts NULL; leaves it zeroed */
/* Number of steps the plan sends (0 = the switch is as desired). */
size_t dev_snmp_plan_size(const struct dev_snmp_plan *p);

enum dev_step_kind { DEV_STEP_OP = 1, DEV_STEP_ALIAS = 2, DEV_STEP_ACTIVATE = 3 };

/* One unit of a SET PDU: never split across PDUs. */
struct dev_step {
	enum dev_step_kind kind;
	size_t index;                    /* into plan ops / aliases / activate */
	size_t also;                     /* a second op this step carries (a created row's first
					  * ports op), or SIZE_MAX */
	uint8_t group;                   /* 1 add, 2 PVID, 3 remove, 4 delete */
	unsigned port;                   /* for messages (0 = none) */
	uint16_t vlan;                   /* for messages (0 = none) */
	size_t n_vbs;
	struct dev_setvb vbs[4];         /* in sending order */
	size_t n_undo;
	struct dev_setvb undo[4];        /* what restores the state before the step */
	char label[96];                  /* "VLAN 10: create netd-admin", "port 3: PVID 10", ... */
};

/* The steps of @p in sending order (group by group, the plan's order inside
 * a group), with their varbinds: PortLists encoded for @sw->nports ports
 * ((nports + 7) / 8 octets), PVIDs as Gauge32, names and aliases as OCTET
 * STRING, RowStatus as INTEGER (createAndGo 4, active 1, destroy 6).  A
 * created row's first ports op rides in its create step.  @st supplies
 * ifIndexes and the names of deleted rows (for their undo).  0, -ENOMEM or
 * NETD_EINVAL (an op that does not fit the switch); free() *ret. */
int dev_snmp_steps(const struct dev_switch *sw, const struct dev_snmp_state *st, const struct dev_snmp_plan *p,
		   struct dev_step **ret, size_t *ret_n, struct netd_err *e);

/* Apply one SET varbind to @st as an agent would (RowStatus createAndGo,
 * active, destroy; name; egress/untagged lists for @nports ports; PVID;
 * ifAlias by ifIndex).  0, -ENOMEM, or NETD_EINVAL for an object this
 * driver never writes or a value that does not fit. */
int dev_snmp_state_set(struct dev_snmp_state *st, const struct dev_setvb *vb, struct netd_err *e);
/* Whether the object @vb writes holds @vb's value in @st (a destroy holds
 * when the row is absent). */
bool dev_snmp_state_holds(const struct dev_snmp_state *st, const struct dev_setvb *vb);

/* Whether @fresh still holds, for every object the steps @steps[0..n) touch,
 * what @expected holds.  0, or NETD_ECONFLICT naming switch and the first
 * VLAN or port that changed, with both values. */
int dev_snmp_fresh(const struct dev_switch *sw, const struct dev_snmp_state *expected,
		   const struct dev_snmp_state *fresh, const struct dev_step *steps, size_t n, struct netd_err *e);

/* ---- Link learning (pure) ---- */

struct dev_nicmac {
	char node[DEV_NAME_MAX];
	char nic[DEV_IFNAME_MAX];
	uint8_t mac[6];
};

enum dev_link_source { DEV_LINK_LLDP = 1, DEV_LINK_FDB = 2 };

struct dev_learned {
	struct dev_link link;            /* port, node, nic, mac */
	enum dev_link_source source;
	char evidence[160];              /* "LLDP port id mac 52:54:00:..", "FDB fid 1" */
};

struct dev_learn_note {              /* something seen and not used, with why */
	unsigned port;
	char text[200];
};

struct dev_learn_result {
	struct dev_learned *links;       /* sorted by port */
	size_t n_links;
	struct dev_learn_note *notes;
	size_t n_notes;
};

/* Learn links from LLDP remote entries and FDB entries against the nodes'
 * NIC MACs (@nics; a MAC listed for two NICs is ambiguous and never used; a
 * node/NIC name listed twice is linked once at most).
 *  LLDP: a remote port id of subtype macAddress names the NIC with that MAC;
 *  otherwise the chassis (a chassis id MAC equal to one of a node's NIC
 *  MACs, or a sysName equal to the node name or starting with "node.")
 *  names the node and a port id NAME equal to one of its NIC names the NIC.
 *  FDB (status other, learned or mgmt; port known): a node MAC seen on
 *  several ports is an uplink's echo and counts only on the ports that hold
 *  exactly one MAC of a known node; if that leaves several, only those
 *  holding exactly one MAC at all; exactly one port left makes the link.
 *  LLDP wins: FDB never links a NIC or a port LLDP linked.  A port or NIC
 *  that two LLDP entries (or two FDB candidates) give different answers for
 *  is left out.  Everything left out is noted with the reason.  Returns 0 or
 *  -ENOMEM; @out written only on success (free with dev_learn_result_free). */
int dev_learn(const struct dev_nicmac *nics, size_t n_nics, const struct dev_lldp_rem *lldp, size_t n_lldp,
	      const struct dev_fdb_entry *fdb, size_t n_fdb, struct dev_learn_result *out);
void dev_learn_result_free(struct dev_learn_result *r);   /* accepts NULL; leaves it zeroed */
const char *dev_link_source_name(enum dev_link_source s);   /* "lldp", "fdb" */

/* ---- The driver (net-snmp) ---- */

enum dev_snmp_version { DEV_SNMP_V3 = 0, DEV_SNMP_V2C = 1 };
enum dev_snmp_auth { DEV_AUTH_SHA256 = 0, DEV_AUTH_SHA1 = 1 };   /* HMAC-SHA-256-192, HMAC-SHA-96 */
enum dev_snmp_priv { DEV_PRIV_AES128 = 0 };                     /* CFB128-AES-128 */

struct dev_snmp_cfg {
	const char *name;                /* the switch, for messages */
	const char *peer;                /* net-snmp transport address: "udp:192.0.2.10:161", "192.0.2.10" */
	enum dev_snmp_version version;   /* default SNMPv3 */
	const char *user;                /* v3 user (authPriv) */
	enum dev_snmp_auth auth;
	const char *auth_pass;           /* >= 8 characters */
	enum dev_snmp_priv priv;
	const char *priv_pass;           /* >= 8 characters */
	const char *community;           /* v2c */
	unsigned timeout_ms;             /* per try; 0 = 1000 */
	unsigned retries;                /* 0 = none */
	unsigned max_repetitions;        /* GETBULK; 0 = 24 */
	unsigned max_set_varbinds;       /* first PDU size tried; 0 = 64 */
};

struct dev_snmp;   /* one session with one switch */

/* Initialize net-snmp for this module (once; see Caveats).  Safe to call
 * from several threads. */
void dev_snmp_lib_init(void);

/* Open a session with the switch and prove it answers with these
 * credentials (GET sysUpTime.0).  Returns 0, NETD_EINVAL (configuration:
 * missing user/keys/community, passphrase shorter than 8, bad address),
 * -ETIMEDOUT, NETD_EAUTH or -EIO, the message naming the switch and its
 * address.  *ret written only on success; close with dev_snmp_close(). */
int dev_snmp_open(const struct dev_snmp_cfg *cfg, struct dev_snmp **ret, struct netd_err *e);
void dev_snmp_close(struct dev_snmp *s);   /* accepts NULL */

/* Request counters since open (for reports, tests and benchmarks). */
struct dev_snmp_stats {
	unsigned long get_pdus, set_pdus, set_varbinds, undo_pdus;
};
void dev_snmp_stats(const struct dev_snmp *s, struct dev_snmp_stats *out);

/* Walk the columns of @what and collect them into @r (see dev_reply_add).
 * 0 or an error. */
int dev_snmp_walk(struct dev_snmp *s, unsigned what, struct dev_reply *r, struct netd_err *e);

/* Read the switch state (ports, VLAN rows, PVIDs) for @sw (its nports).
 * @out written only on success. */
int dev_snmp_read(struct dev_snmp *s, const struct dev_switch *sw, struct dev_snmp_state *out,
		  struct netd_err *e);

enum dev_step_state {
	DEV_STEP_PENDING = 0,            /* not sent */
	DEV_STEP_APPLIED = 1,            /* on the switch */
	DEV_STEP_UNDONE = 2,             /* sent, refused or failed, and nothing of it remains */
	DEV_STEP_PARTIAL = 3,            /* sent, failed, and part of it could not be undone */
	DEV_STEP_UNKNOWN = 4,            /* sent, no answer, and the switch could not be re-read */
};

struct dev_snmp_report {
	struct dev_step *steps;          /* as from dev_snmp_steps() */
	uint8_t *state;                  /* enum dev_step_state per step */
	size_t n_steps;
	size_t n_applied;
	unsigned set_pdus, set_varbinds, read_walks, undo_pdus;
	bool verified;                   /* the final re-read matched */
};
void dev_snmp_report_free(struct dev_snmp_report *r);   /* accepts NULL; leaves it zeroed */
/* "3 of 10 steps applied: VLAN 10: create netd-admin; ..." cut to fit. */
const char *dev_snmp_report_text(const struct dev_snmp_report *r, char *buf, size_t cap);

/* Apply @p (computed by dev_snmp_plan() from @before and @d) to the switch,
 * as described at the top.  The guardrails are checked first
 * (dev_ops_check(), and alias writes only on allowed ports): a refusal
 * sends nothing.  @rep (may be NULL) is zeroed first and filled in every
 * case once the steps are built (free it with dev_snmp_report_free()).
 * Returns 0 when every step is applied and the re-read verifies, else the
 * first error. */
int dev_snmp_apply(struct dev_snmp *s, const struct dev_switch *sw, const struct dev_desired *d,
		   const struct dev_snmp_state *before, const struct dev_snmp_plan *p, struct dev_snmp_report *rep,
		   struct netd_err *e);

/* Read, plan and apply in one: the usual entry point.  0 or an error. */
int dev_snmp_reconcile(struct dev_snmp *s, const struct dev_switch *sw, const struct dev_desired *d,
		       struct dev_snmp_report *rep, struct netd_err *e);

/* Walk LLDP-MIB and the FDB and learn links against @nics (dev_learn()).
 * @out written only on success. */
int dev_snmp_learn(struct dev_snmp *s, const struct dev_nicmac *nics, size_t n_nics, struct dev_learn_result *out,
		   struct netd_err *e);

#endif
