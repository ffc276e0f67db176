/* devices/bmc.h — a BMC's LAN channel over IPMI 2.0 / RMCP+: read its
 * address configuration, apply a static one, read it back.
 *
 * The transport is FreeIPMI's libfreeipmi (ipmi_ctx_open_outofband_2_0 and
 * its typed Get/Set LAN Configuration Parameters commands): no packet is
 * written by hand here.  Why FreeIPMI rather than OpenIPMI's library: it
 * offers a synchronous, self-contained context per BMC session with typed
 * calls per LAN parameter and completion-code texts, where OpenIPMI's
 * libOpenIPMI is built around its own event loop (os_handler) and domain
 * discovery, which is much more than one configuration session needs.
 *
 * Two layers, one header:
 *  - pure data (devices/bmc_lan.c): validation of the wanted config, the
 *    difference against the BMC's actual config as an ordered plan, the
 *    mapping of completion codes and library errors to netd codes, and the
 *    packing of addresses into FreeIPMI's field values.  No I/O.
 *  - the session (devices/bmc.c): open, find the LAN channel, read, apply,
 *    verify.  Blocking calls.
 *
 * LAN configuration parameters used (IPMI 2.0 spec, table 23-4):
 *    0 set in progress        framing of an apply (1, sets, 2 = commit, 0)
 *    3 IP address             4 IP address source (1 = static)
 *    5 MAC address (read)     6 subnet mask
 *   12 default gateway IP    20 802.1q VLAN ID (12 bits + enable bit)
 * Addresses are kept as 4 octets in wire (network) order.
 *
 * Apply, in this order (dev_bmc_apply):
 *   1. open an RMCP+ session at ADMIN privilege with the cipher suite asked
 *      (ADMIN is named in the Open Session Request too, as ipmitool does:
 *      some BMCs, ipmi_sim among them, answer a request for "the highest
 *      level" with 0).  If that fails in a way the suite may cause, the
 *      BMC's suites are asked with the session-less Get Channel Cipher
 *      Suites, and a suite it does not offer is NETD_EUNSUPPORTED naming
 *      the ones it does;
 *   2. find the LAN channel: Get Channel Info on the current channel (0x0E),
 *      else the first of 1..11 whose medium is 802.3 LAN; an explicit
 *      channel is checked to be 802.3 LAN;
 *   3. read parameters 4, 3, 6, 12, 20, 5 (a parameter the BMC answers with
 *      completion code 0x80 "not supported" is marked absent, not invented);
 *   4. check the wanted config, compute the plan (dev_bmc_diff); an empty
 *      plan ends here: no Set command at all is sent;
 *   5. set in progress (1); each op of the plan: address source static ->
 *      address -> netmask -> gateway -> VLAN (the VLAN last and only when
 *      asked, since changing it can cut the management path); commit write
 *      (2, optional in the spec: "not supported" is accepted); set
 *      complete (0).  A failing op sends set complete without commit, which
 *      BMCs that keep a rollback copy (ipmi_sim does) use to discard the
 *      partial change, and returns the op's error;
 *   6. read back and compare with the wanted config: a parameter the BMC
 *      accepted but does not return is NETD_EUNSUPPORTED naming it.
 * A second apply of the same config sends zero Set commands.
 *
 * Moving the management path: when the target host is the IPv4 literal the
 * BMC had as its address and the plan changes that address, the session is
 * expected to die with the commit: a timeout on commit / set complete is
 * then accepted, and the read-back runs in a new session to the new address
 * on the same port (result->verified_at says where).
 *
 * Errors: 0 or a negative code (core/err.h), with a message in @e that
 * names the BMC as host:port, the parameter (name and number) and, when the
 * BMC answered with one, the completion code and its text, e.g.
 *   "BMC 127.0.0.1:623 channel 2: set IP address source (LAN parameter 4)
 *    to static: completion code 0xCC (Invalid data field in Request)".
 * Codes: NETD_EINVAL (bad wanted config or target, naming the field; or a
 * value the BMC refused, cc 0xC9/0xCC/0xC7/0xC8), NETD_EAUTH (user or
 * password or K_g wrong), NETD_EPERM (ADMIN not granted, cc 0xD4),
 * NETD_EUNSUPPORTED (cipher suite, parameter or command the BMC lacks:
 * cc 0x80/0x82/0xC1; or a value not kept), NETD_ENOTFOUND (no such channel,
 * cc 0xCB; no LAN channel), NETD_ECONFLICT (another session has a set in
 * progress, cc 0x81), -ETIMEDOUT (no answer within the timeout), -EBUSY,
 * -ENOMEM, -EIO (anything else, with the library's text).  Output
 * parameters are written only on success.
 *
 * Credentials: passed in by the caller (who keeps them in the store), copied
 * into the session and wiped (explicit_bzero) when it closes.  They never
 * appear in an error message: not the password, not K_g, not the user name.
 * Nothing here logs.
 *
 * Caveats:
 *  - Blocking: every call waits for the BMC, up to timeout_ms per command
 *    (session setup included), so run it outside the event loop (a worker
 *    thread at the edge).  One struct dev_bmc per thread: a FreeIPMI
 *    context is not shared between threads.
 *  - The host is handed to FreeIPMI as "host:port" ("[v6]:port" for a host
 *    containing ':'); only IPv4 on loopback is exercised by the tests.
 *  - Cipher suites: 3 (default; RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128),
 *    8, 12 and 17 are accepted: each authenticates, protects integrity and
 *    encrypts.  Suites without encryption are refused (NETD_EINVAL), so the
 *    configuration never crosses the wire in clear.
 *  - If a session dies between set in progress and set complete (crash,
 *    cut path), the BMC may keep "set in progress" and refuse the next
 *    apply with NETD_ECONFLICT until its own timeout (ipmi_sim has none and
 *    keeps it until a set complete is written).  Not forced here.
 *  - A BMC that applies the address at the Set itself (not at commit) cuts
 *    the session right after the address op when the path goes through that
 *    address: the next op then times out (-ETIMEDOUT naming it); retrying at
 *    the new address reconciles the rest.
 *  - Findings against OpenIPMI's ipmi_sim 2.0.33 (tests/peers/bmc,
 *    checked by tests/integration/dev_bmc_test):
 *    . it supports parameters 0, 3, 4, 5, 6, 12 and 20: nothing of ours is
 *      refused with 0x80, so NETD_EUNSUPPORTED for a parameter is covered
 *      by the unit tests only;
 *    . values set inside set in progress are kept in memory and rolled back
 *      by a set complete without commit (so commit write is required); at
 *      commit, 3/4/5/6/12 are handed to its lan_config_program (the
 *      simulated NIC; without one they live in memory only, all 0.0.0.0
 *      with source "unspecified" at start, and are lost on restart);
 *    . the address source is accepted only if the program's "check" says
 *      so, else 0xCC (NETD_EINVAL naming parameter 4);
 *    . the VLAN (20) is stored and returned but applied to nothing ("FIXME
 *      - no VLAN support" in its source) and not handed to the program: it
 *      is lost when ipmi_sim restarts, and the next apply sets it again;
 *    . a second set in progress is refused with 0x81 (NETD_ECONFLICT) and
 *      the lock has no timeout;
 *    . cipher suites 0..14 (17 is not offered: NETD_EUNSUPPORTED via the
 *      suite list; FreeIPMI alone only says "internal IPMI error");
 *    . an account's privilege limit is not enforced over RMCP+: a USER-only
 *      account gets an ADMIN session and may set LAN parameters (an
 *      ipmi_sim gap; NETD_EPERM cannot be shown against it);
 *    . one listen address per LAN channel (0.0.0.0 for all); no channel 1
 *      unless configured (Get Channel Info answers 0xCB: NETD_ENOTFOUND).
 */
#ifndef NETD_DEVICES_BMC_H
#define NETD_DEVICES_BMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define DEV_BMC_HOST_MAX 256
#define DEV_BMC_USER_MAX 17          /* IPMI user name: 16 octets + NUL */
#define DEV_BMC_PASS_MAX 21          /* IPMI 2.0 password: 20 octets + NUL */
#define DEV_BMC_KG_MAX 20            /* IPMI 2.0 BMC key K_g */
#define DEV_BMC_PORT_DEFAULT 623
#define DEV_BMC_CIPHER_DEFAULT 3
#define DEV_BMC_TIMEOUT_DEFAULT_MS 5000
#define DEV_BMC_CHANNEL_MAX 11       /* channels 1..0x0B can be LAN */
#define DEV_BMC_PLAN_MAX 5

/* ---- Inputs ---- */

struct dev_bmc_target {
	char host[DEV_BMC_HOST_MAX];     /* IPv4 literal, IPv6 literal or name */
	uint16_t port;                   /* 0 = 623 */
	uint8_t cipher_suite;            /* 0 = 3; else 3, 8, 12 or 17 */
	uint8_t channel;                 /* LAN channel 1..11; 0 = find it */
	unsigned timeout_ms;             /* per command; 0 = 5000 */
};

struct dev_bmc_cred {
	char user[DEV_BMC_USER_MAX];
	char password[DEV_BMC_PASS_MAX];
	uint8_t k_g[DEV_BMC_KG_MAX];
	size_t k_g_len;                  /* 0 = none (the password keys the session) */
};

enum dev_bmc_vlan_mode {
	DEV_BMC_VLAN_KEEP = 0,           /* never read-compared nor written */
	DEV_BMC_VLAN_OFF = 1,            /* 802.1q disabled (the id is left as is) */
	DEV_BMC_VLAN_ON = 2,             /* tagged with vlan_id */
};

/* The static configuration wanted on the LAN channel. */
struct dev_bmc_want {
	uint8_t ip[4];
	uint8_t netmask[4];              /* contiguous, /1 .. /30 */
	uint8_t gateway[4];              /* inside the subnet; 0.0.0.0 = none */
	enum dev_bmc_vlan_mode vlan_mode;
	uint16_t vlan_id;                /* 1..4094 with DEV_BMC_VLAN_ON */
};

/* ---- Actual state ---- */

/* LAN configuration parameter numbers (the values are the spec's). */
enum dev_bmc_param {
	DEV_BMC_P_SET_IN_PROGRESS = 0,
	DEV_BMC_P_IP = 3,
	DEV_BMC_P_IP_SOURCE = 4,
	DEV_BMC_P_MAC = 5,
	DEV_BMC_P_NETMASK = 6,
	DEV_BMC_P_GATEWAY = 12,
	DEV_BMC_P_VLAN = 20,
};

/* Bits of struct dev_bmc_lan.have: parameters the BMC returned. */
#define DEV_BMC_HAVE(p) (1u << (p))

enum dev_bmc_ip_source {
	DEV_BMC_SRC_UNSPECIFIED = 0,
	DEV_BMC_SRC_STATIC = 1,
	DEV_BMC_SRC_DHCP = 2,
	DEV_BMC_SRC_BIOS = 3,            /* "BIOS or system software" */
	DEV_BMC_SRC_OTHER = 4,
};

struct dev_bmc_lan {
	uint8_t channel;
	unsigned have;                   /* DEV_BMC_HAVE(param) bits */
	uint8_t ip_source;               /* enum dev_bmc_ip_source, 4 bits as read */
	uint8_t ip[4];
	uint8_t netmask[4];
	uint8_t gateway[4];
	uint16_t vlan_id;                /* 12 bits as read */
	bool vlan_enabled;
	uint8_t mac[6];
};

/* ---- Plan ---- */

/* One Set LAN Configuration Parameters: @param with its value (ip for
 * DEV_BMC_P_IP/NETMASK/GATEWAY, source, or vlan_id + vlan_enabled). */
struct dev_bmc_op {
	enum dev_bmc_param param;
	uint8_t ip[4];
	uint8_t source;
	uint16_t vlan_id;
	bool vlan_enabled;
};

struct dev_bmc_plan {
	struct dev_bmc_op ops[DEV_BMC_PLAN_MAX];   /* in the order to send */
	size_t n;
};

/* ---- Pure functions (devices/bmc_lan.c) ---- */

/* Check @w: ip, netmask, gateway, vlan_mode and vlan_id.  Refused with
 * NETD_EINVAL, the message naming the field ("ip", "netmask", "gateway",
 * "vlan_id", "vlan_mode"), its value and the rule, prefixed by "@who: "
 * when @who is not NULL:
 *  - netmask: contiguous ones then zeros, prefix length 1..30;
 *  - ip: not 0.0.0.0, not in 0/8, 127/8, 224/4 or 240/4, not the subnet's
 *    network or broadcast address;
 *  - gateway: 0.0.0.0 (none) or inside ip/netmask, not its network or
 *    broadcast address, not the ip itself;
 *  - vlan_id: 1..4094 with DEV_BMC_VLAN_ON. */
int dev_bmc_want_check(const struct dev_bmc_want *w, const char *who, struct netd_err *e);

/* Prefix length of a contiguous @mask (0..32), or -1 when not contiguous. */
int dev_bmc_prefix_len(const uint8_t mask[4]);

/* The ops that take @a to @w, in the order of the header's apply step 5:
 *  - source not static: set it static, then ip, netmask and gateway even
 *    where they already match (leaving DHCP may clear them);
 *  - else only ip / netmask / gateway that differ;
 *  - the VLAN last, only with DEV_BMC_VLAN_ON/OFF and only if it differs
 *    (OFF with the VLAN already disabled is nothing to do).
 * @w must have passed dev_bmc_want_check().  A parameter the plan needs but
 * @a lacks (have bit clear) gives NETD_EUNSUPPORTED naming it, prefixed by
 * "@who: " when @who is not NULL.  Returns 0 with *out filled (n may be 0). */
int dev_bmc_diff(const struct dev_bmc_want *w, const struct dev_bmc_lan *a, const char *who,
		 struct dev_bmc_plan *out, struct netd_err *e);

/* The parameter's name ("IP address source"); "LAN parameter" if unknown. */
const char *dev_bmc_param_name(enum dev_bmc_param p);
/* The source's name: "unspecified", "static", "DHCP", "BIOS", "other";
 * "reserved" above 4. */
const char *dev_bmc_source_name(uint8_t source);

/* The netd code for a completion code of a LAN configuration command (see
 * the header's error list); 0 for 0x00. */
int dev_bmc_cc_code(uint8_t cc);
/* The netd code for a FreeIPMI errnum (enum ipmi_errnum) when no completion
 * code is at hand: session, authentication, timeout and system errors. */
int dev_bmc_ipmi_errnum_code(int errnum);

/* FreeIPMI packs a fixed-width field least significant bit first, so the
 * octet that comes first on the wire is the value's low byte:
 * 10.1.2.3 <-> 0x0302010a, 52:54:00:ab:cd:ef <-> 0xefcdab005452. */
uint32_t dev_bmc_ipv4_to_field(const uint8_t ip[4]);
void dev_bmc_ipv4_from_field(uint64_t v, uint8_t ip[4]);
void dev_bmc_mac_from_field(uint64_t v, uint8_t mac[6]);

/* The cipher suite IDs in the records of Get Channel Cipher Suites (IPMI
 * 2.0 table 22-18: 0xC0 ID algorithms..., or 0xC1 ID IANA[3]
 * algorithms...), concatenated over its list indexes, in order.  At most
 * @cap are stored; returns the number stored. */
size_t dev_bmc_cipher_ids(const uint8_t *rec, size_t len, uint8_t *ids, size_t cap);

/* "10.1.2.3" into @buf (>= 16 octets).  Returns @buf. */
const char *dev_bmc_ipv4_str(const uint8_t ip[4], char *buf, size_t len);
/* Parse a dotted quad strictly (four decimal parts 0..255, nothing else).
 * 0 or NETD_EINVAL; @out written only on success. */
int dev_bmc_ipv4_parse(const char *s, uint8_t out[4]);
/* Short text of an op for messages and tests: "IP address source = static",
 * "IP address = 10.1.2.3", "802.1q VLAN ID = 100 (enabled)".  Returns @buf. */
const char *dev_bmc_op_print(const struct dev_bmc_op *op, char *buf, size_t len);
/* Its value alone: "static", "10.1.2.3", "100 (enabled)"; for Set In
 * Progress (value in .source) "0 (set complete)", "1 (set in progress)",
 * "2 (commit write)".  Returns @buf. */
const char *dev_bmc_op_value(const struct dev_bmc_op *op, char *buf, size_t len);

/* ---- Session (devices/bmc.c) ---- */

struct dev_bmc;   /* one RMCP+ session; not thread-safe */

/* Open an RMCP+ session to @t with @c at ADMIN privilege.  Checks @t first
 * (host non-empty, cipher suite, channel 0..11, user and password
 * NUL-terminated within their arrays, k_g_len <= 20): NETD_EINVAL naming the
 * field.  Then the errors listed in the header (NETD_EAUTH, NETD_EPERM,
 * NETD_EUNSUPPORTED, -ETIMEDOUT, ...), naming the BMC as host:port.
 * *ret is written only on success; free with dev_bmc_close(). */
int dev_bmc_open(const struct dev_bmc_target *t, const struct dev_bmc_cred *c, struct dev_bmc **ret,
		 struct netd_err *e);
/* Close the session (best effort) and wipe the copied credentials.
 * Accepts NULL. */
void dev_bmc_close(struct dev_bmc *b);

/* "host:port" as used in messages. */
const char *dev_bmc_name(const struct dev_bmc *b);
/* Set LAN Configuration Parameters commands sent so far on this handle,
 * set in progress / commit / set complete included. */
unsigned dev_bmc_sets_sent(const struct dev_bmc *b);

/* The LAN channel: the target's channel if set (checked to be 802.3 LAN),
 * else found as in the header's step 2.  NETD_ENOTFOUND when none. */
int dev_bmc_lan_channel(struct dev_bmc *b, uint8_t *ret_channel, struct netd_err *e);

/* Read parameters 4, 3, 6, 12, 20, 5 of @channel.  A parameter answered
 * with "not supported" (0x80) leaves its have bit clear; other failures
 * are errors. */
int dev_bmc_read_lan(struct dev_bmc *b, uint8_t channel, struct dev_bmc_lan *out, struct netd_err *e);

struct dev_bmc_result {
	uint8_t channel;
	struct dev_bmc_lan before;       /* as read before the plan */
	struct dev_bmc_lan after;        /* as read back */
	struct dev_bmc_plan plan;        /* the ops sent (n = 0: nothing to do) */
	unsigned sets;                   /* Set commands sent, framing included */
	bool moved;                      /* read back through a new session */
	char verified_at[DEV_BMC_HOST_MAX + 8];  /* host:port of the read-back */
};

/* Bring the LAN channel to @w (the header's apply steps).  Returns 0 with
 * *out filled, or an error naming the BMC, the parameter and the
 * completion code.  After a failure the handle may be unusable (session
 * lost); close it. */
int dev_bmc_apply(struct dev_bmc *b, const struct dev_bmc_want *w, struct dev_bmc_result *out,
		  struct netd_err *e);

#endif
