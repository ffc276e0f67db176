/* devices/nc.h — the NETCONF switch driver (libnetconf2 2.0 client over SSH).
 *
 * (Named nc.h so it does not clash with netd/netconf.h, netd's own NETCONF
 * server.)  Three layers, each usable alone:
 *
 *  1. Pure data, no I/O: capabilities (the <hello> URIs and the
 *     ietf-yang-library module list) -> struct dev_nc_caps; the model family
 *     a switch speaks (dev_nc_detect); a plan (dev_nc_plan) from the desired
 *     state of devices.h (struct dev_desired: per port PVID + tagged set,
 *     and LAG requirements) and the switch's configuration as read (struct
 *     dev_nc_state); the <edit-config> XML of a plan (dev_nc_edit_xml).
 *  2. libyang data -> struct dev_nc_state (dev_nc_state_from_tree), and the
 *     yang-library data -> module list (dev_nc_caps_add_yanglib).
 *  3. The driver: dev_nc_open(), dev_nc_read(), dev_nc_apply(),
 *     dev_nc_confirm(), dev_nc_cancel(), dev_nc_close().
 *
 * Model families (dev_nc_detect):
 *  - OpenConfig: openconfig-interfaces, openconfig-if-ethernet and
 *    openconfig-vlan advertised and loaded.  A port is
 *      /oc-if:interfaces/interface[name]/oc-eth:ethernet/oc-vlan:switched-vlan/config
 *    with interface-mode ACCESS (access-vlan = PVID) when the port carries
 *    no tagged VLAN, else TRUNK (native-vlan = PVID, trunk-vlans = the
 *    tagged set, written as numbers and "a..b" ranges of 3 or more).
 *    VLANs are /oc-vlan:vlans/vlan[vlan-id]/config (vlan-id, name).  With
 *    openconfig-if-aggregate also advertised, a LAG requirement becomes an
 *    aggregate interface (lag_format, default "lag%u" with the lowest
 *    member bridge port; type ieee8023adLag, aggregation/config/lag-type
 *    LACP for 802.3ad and STATIC otherwise, the VLANs on its
 *    aggregation/switched-vlan) and each member gets
 *    ethernet/config/aggregate-id (and loses its own switched-vlan).
 *    Without it, each LAG is noted as unsupported and its ports are
 *    configured one by one: not an error for the rest.
 *  - Anything else (ietf-interfaces alone, or with a VLAN model this driver
 *    does not know): NETD_EUNSUPPORTED "switch X advertises no VLAN model
 *    netd knows (capabilities: ...)".  No ietf-interfaces VLAN model is
 *    recognised yet (see Caveats).
 *
 * Plans (dev_nc_plan) follow docs/decisions.md D22: only managed ports
 * (those in struct dev_desired) are touched; a VLAN a wanted port uses and
 * the switch lacks is created, named "netd-<network>" ("netd-idle"); a VLAN
 * row named "netd-..." inside the allowed VLANs that no port uses after the
 * edit is deleted; other VLANs are never written.  A port is as wanted when
 * its switched-vlan config holds exactly the wanted leaves (a TRUNK's
 * trunk-vlans compared as a set, ranges expanded).  A plan with no change
 * sends nothing: applying twice sends one <get-config> the second time.
 *
 * Applying (dev_nc_apply), after reading running and planning:
 *  - :candidate: lock running, lock candidate, discard-changes (the lock
 *    guarantees nobody else's changes are there), edit-config candidate,
 *    validate candidate (:validate; skipped on yuma123's netconfd, see
 *    Caveats), commit confirmed with confirm-timeout (:confirmed-commit),
 *    read running back and plan again: it must be empty, else cancel-commit
 *    (the switch rolls back) and NETD_ECONFLICT; then the confirming
 *    commit, unlock both.  Without :confirmed-commit, a plain commit and the
 *    same read-back.
 *  - :writable-running only: lock running, edit-config running
 *    (error-option rollback-on-error where advertised), unlock, read back.
 *  - DEV_NC_LEAVE_PENDING: stop after the confirmed commit and its
 *    read-back, unlock, and leave the confirmation to dev_nc_confirm() (or
 *    dev_nc_cancel()); the switch rolls back by itself when confirm_timeout_s
 *    passes first, or when this session closes.
 *
 * Errors: 0 or a negative code (core/err.h), struct netd_err naming the
 * switch, its address, the operation and the device's <rpc-error> (tag,
 * path, message, and the holder's session-id for lock-denied):
 *   NETD_EINVAL       configuration (no host, no credentials, a port with no
 *                     name), or the switch refused the edit as invalid
 *   NETD_EAUTH        SSH authentication refused (names switch, user, key)
 *   NETD_EPERM        host key unknown or changed (known_hosts), or the
 *                     switch said access-denied
 *   NETD_EINUSE       lock-denied / in-use: another session holds a lock
 *   NETD_EUNSUPPORTED no VLAN model netd knows; an operation the switch
 *                     does not support
 *   NETD_ECONFLICT    the read-back after commit differs from the plan
 *   NETD_ECORRUPT     the switch's data does not fit its own schema
 *   -ETIMEDOUT        no TCP connection, SSH answer or RPC reply in time
 *   -ECONNREFUSED, -EHOSTUNREACH, ... the TCP connection failed
 *   -EIO              the session broke, or an unexpected reply
 * Output parameters are written only on success.
 *
 * Caveats:
 *  - libnetconf2 2.0 builds the session's libyang context itself from the
 *    <hello> (and tries the yang-library with <get-data>, which servers
 *    without NMDA refuse: it then warns and uses the capabilities) and
 *    fetches every advertised module with <get-schema>; deviation modules
 *    are advertised as modules and so loaded too.  It writes what it
 *    fetched into the first schema search directory: with yang_dir set,
 *    give it a directory netd owns.  Without yang_dir nothing is written.
 *  - libnetconf2 keeps client settings per thread (the main thread has one
 *    static set); this driver does SSH itself with libssh and hands the
 *    authenticated session to nc_connect_libssh(), so it needs none of
 *    them; only with yang_dir set does it set the calling thread's schema
 *    search path around the connect (and reset it to none after).  One
 *    struct dev_nc must not be used by two threads at once; different
 *    sessions may run in different threads.
 *  - libnetconf2 2.0 asks a server advertising :yang-library:1.1 for
 *    ietf-netconf-nmda with <get-schema>; a server without it (the test
 *    switch) answers an error, and libnetconf2 prints "Failed to receive a
 *    reply to <get-schema>" on its print callback.  Harmless: it then uses
 *    the yang-library <get> and the capabilities.
 *  - libnetconf2 prints its warnings through the process-wide print
 *    callback (netd's NETCONF server sets one); this driver leaves it alone.
 *  - yuma123's netconfd loses the pending candidate when <commit> follows
 *    <validate> (checked here: edit, validate, commit leaves running and
 *    candidate without the edit; edit, commit works).  The driver therefore
 *    sends no <validate> to a switch advertising yuma-ncx (netconfd's own
 *    module); <commit> validates anyway.  The read-back after every commit
 *    would catch a server that drops changes in some other way.
 *  - known_hosts NULL means the switch's host key is not checked (lab use
 *    only): say so in the configuration that sets it.
 *  - A confirmed commit left pending (DEV_NC_LEAVE_PENDING) is tied to
 *    this session: closing it rolls the switch back.
 *  - Ports are named by cfg->port_names (bridge port p is
 *    port_names[p - 1]) or else by cfg->port_format ("eth%u").
 *  - The ietf-interfaces fallback recognises no VLAN model yet (IEEE
 *    802.1Qcp ieee802-dot1q-bridge would be the standard one); such a
 *    switch gets NETD_EUNSUPPORTED naming what it advertises.
 *  - A LAG netd no longer wants is not deleted (its former members lose
 *    aggregate-id when they are managed ports); the aggregate interface
 *    stays until removed by hand.
 */
#ifndef NETD_DEVICES_NC_H
#define NETD_DEVICES_NC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "devices/devices.h"

#define DEV_NC_IFNAME_MAX 64          /* interface names + NUL */
#define DEV_NC_MODNAME_MAX 96
#define DEV_NC_REV_MAX 16
#define DEV_NC_NS_MAX 200
#define DEV_NC_LABEL_MAX 160
#define DEV_NC_NOTE_MAX 256
#define DEV_NC_MAX_MODULES 4096       /* more in a <hello> or yang-library: NETD_ETOOBIG */
#define DEV_NC_MAX_IFS 65536          /* more interfaces in a reply: NETD_ETOOBIG */

/* ---- Capabilities (pure) ---- */

struct dev_nc_module {
	char name[DEV_NC_MODNAME_MAX];
	char revision[DEV_NC_REV_MAX];     /* "" when not given */
	char ns[DEV_NC_NS_MAX];            /* "" when not given */
	char deviated_by[DEV_NC_NOTE_MAX]; /* deviation modules, comma separated, "" = none */
	bool implemented;                  /* false: import-only (yang-library) */
};

struct dev_nc_caps {
	bool base11;                     /* :base:1.1 */
	bool candidate;                  /* :candidate:1.0 */
	bool confirmed_commit;           /* :confirmed-commit:1.1 (cancel-commit, persist) */
	bool confirmed_commit10;         /* :confirmed-commit:1.0 only */
	bool validate;                   /* :validate:1.0 or 1.1 */
	bool writable_running;           /* :writable-running:1.0 */
	bool rollback_on_error;          /* :rollback-on-error:1.0 */
	bool yang_library;               /* :yang-library:1.0 or 1.1 */
	bool yuma;                       /* yuma123 netconfd (module yuma-ncx): see Caveats */
	struct dev_nc_module *mods;      /* heap; by order seen */
	size_t n_mods;
};

/* Parse the capability URIs of a <hello> (@caps, NULL-terminated): the
 * base and :capability: URIs set the flags, "NS?module=NAME&revision=R&
 * features=..&deviations=A,B" entries the modules (a module named twice is
 * kept once, the later revision winning).  Returns 0, -ENOMEM or
 * NETD_ETOOBIG (more than DEV_NC_MAX_MODULES).  @out is written only on
 * success; free it with dev_nc_caps_free(). */
int dev_nc_caps_parse(const char *const *caps, struct dev_nc_caps *out);
void dev_nc_caps_free(struct dev_nc_caps *c);   /* accepts NULL; leaves it zeroed */
/* The module @name as advertised, or NULL. */
const struct dev_nc_module *dev_nc_caps_module(const struct dev_nc_caps *c, const char *name);
/* Add or update a module (from ietf-yang-library).  0, -ENOMEM or
 * NETD_ETOOBIG. */
int dev_nc_caps_add(struct dev_nc_caps *c, const struct dev_nc_module *m);
/* "candidate confirmed-commit:1.1 validate; modules: ietf-interfaces@2014-05-08,
 * ..." cut to fit @cap (ending in "..." when cut).  Returns @buf. */
const char *dev_nc_caps_text(const struct dev_nc_caps *c, char *buf, size_t cap);

enum dev_nc_family {
	DEV_NC_FAMILY_NONE = 0,
	DEV_NC_FAMILY_OPENCONFIG = 1,
};

struct dev_nc_model {
	enum dev_nc_family family;
	bool lag;                        /* openconfig-if-aggregate: LAGs can be configured */
	char vlan_module[DEV_NC_MODNAME_MAX];   /* "openconfig-vlan" */
};

/* The model family @c shows for switch @sw_name (see the top).  0 with
 * @out, or NETD_EUNSUPPORTED naming the switch and what it advertises. */
int dev_nc_detect(const char *sw_name, const struct dev_nc_caps *c, struct dev_nc_model *out, struct netd_err *e);

/* ---- Switch configuration as read (pure data) ---- */

enum dev_nc_mode {
	DEV_NC_MODE_NONE = 0,            /* no interface-mode */
	DEV_NC_MODE_ACCESS = 1,
	DEV_NC_MODE_TRUNK = 2,
};

/* switched-vlan/config; all zero = absent. */
struct dev_nc_swvlan {
	enum dev_nc_mode mode;
	uint16_t access_vlan;            /* 0 = absent */
	uint16_t native_vlan;            /* 0 = absent */
	struct dev_vlanset trunk;        /* trunk-vlans, ranges expanded */
	unsigned n_trunk;                /* VLANs in @trunk */
};

enum dev_nc_lag_type { DEV_NC_LAG_NONE = 0, DEV_NC_LAG_LACP = 1, DEV_NC_LAG_STATIC = 2 };

struct dev_nc_if {
	char name[DEV_NC_IFNAME_MAX];
	bool is_lag;                     /* config/type ieee8023adLag */
	bool has_vlan;                   /* a switched-vlan container exists (maybe empty) */
	char aggregate_id[DEV_NC_IFNAME_MAX];   /* ethernet/config/aggregate-id, "" = none */
	enum dev_nc_lag_type lag_type;   /* aggregation/config/lag-type */
	struct dev_nc_swvlan vlan;       /* ethernet/ (or aggregation/) switched-vlan/config */
};

struct dev_nc_vlan {
	uint16_t id;
	char name[DEV_VLAN_NAME_MAX];    /* cut to 32 octets */
};

struct dev_nc_state {
	struct dev_nc_if *ifs;           /* heap, as the switch listed them */
	size_t n_ifs;
	struct dev_nc_vlan *vlans;       /* heap */
	size_t n_vlans;
};

void dev_nc_state_free(struct dev_nc_state *st);   /* accepts NULL; leaves it zeroed */
const struct dev_nc_if *dev_nc_state_if(const struct dev_nc_state *st, const char *name);
const struct dev_nc_vlan *dev_nc_state_vlan(const struct dev_nc_state *st, uint16_t id);

/* Parse one trunk-vlans value ("20" or "20..30") into @set.  0, or
 * NETD_ECORRUPT for anything else (a VLAN outside 1..4094, first > last). */
int dev_nc_trunk_parse(const char *s, struct dev_vlanset *set, unsigned *count);

/* ---- Plans (pure) ---- */

/* How ports and LAGs are named on the switch, and the session settings. */
struct dev_nc_cfg {
	const char *name;                /* the switch, for messages */
	const char *host;                /* address or DNS name */
	unsigned port;                   /* SSH port; 0 = 830 */
	const char *user;                /* SSH user */
	const char *key_file;            /* private key (OpenSSH or PEM); or NULL */
	const char *password;            /* when key_file is NULL */
	const char *known_hosts;         /* OpenSSH known_hosts holding the switch's key; NULL = unchecked */
	const char *yang_dir;            /* local YANG modules for switches without <get-schema>; or NULL */
	unsigned timeout_ms;             /* TCP connect, SSH, each RPC; 0 = 10000 */
	unsigned confirm_timeout_s;      /* confirmed commit; 0 = 120 */
	const char *const *port_names;   /* bridge port p -> port_names[p - 1] (NULL entries: format) */
	size_t n_port_names;
	const char *port_format;         /* one %u, the bridge port; NULL = "eth%u" */
	const char *lag_format;          /* one %u, the lowest member bridge port; NULL = "lag%u" */
};

/* The interface name of bridge port @port (or of the LAG whose lowest
 * member is @port, @lag true).  0, or NETD_EINVAL when the format is not
 * one %u or the name does not fit. */
int dev_nc_port_name(const struct dev_nc_cfg *cfg, unsigned port, bool lag, char *buf, size_t cap);

enum dev_nc_change_kind {
	DEV_NC_VLAN_CREATE = 1,          /* vlan, name */
	DEV_NC_PORT = 2,                 /* ifname: switched-vlan config -> want (and leave a LAG) */
	DEV_NC_LAG = 3,                  /* ifname: aggregate interface, lag_type, want */
	DEV_NC_MEMBER = 4,               /* ifname joins lag */
	DEV_NC_VLAN_DELETE = 5,          /* vlan (netd-owned, unused) */
};

struct dev_nc_change {
	enum dev_nc_change_kind kind;
	unsigned port;                   /* bridge port (PORT, MEMBER; LAG: lowest member), 0 = none */
	uint16_t vlan;                   /* VLAN_CREATE, VLAN_DELETE */
	char name[DEV_VLAN_NAME_MAX];    /* VLAN name */
	char ifname[DEV_NC_IFNAME_MAX];
	char lag[DEV_NC_IFNAME_MAX];     /* MEMBER: the aggregate */
	bool create_if;                  /* interface absent from the configuration: created with its type */
	bool leave_lag;                  /* PORT: remove aggregate-id */
	bool drop_vlan;                  /* MEMBER: remove its own switched-vlan */
	enum dev_nc_lag_type lag_type;   /* LAG */
	struct dev_nc_swvlan want, have; /* PORT, LAG */
	char label[DEV_NC_LABEL_MAX];    /* "eth1: ACCESS 10 (was none)", "VLAN 10: create netd-admin" */
};

struct dev_nc_plan {
	struct dev_nc_change *changes;   /* heap: VLAN creates, ports/LAGs by port, VLAN deletes */
	size_t n_changes;
	char (*notes)[DEV_NC_NOTE_MAX];  /* LAGs left unconfigured and why */
	size_t n_notes;
};

/* The switched-vlan config a wanted port gets: ACCESS + access-vlan when
 * it carries no tagged VLAN, else TRUNK + native-vlan + trunk-vlans. */
void dev_nc_want_vlan(const struct dev_port_want *w, struct dev_nc_swvlan *out);
bool dev_nc_swvlan_equal(const struct dev_nc_swvlan *a, const struct dev_nc_swvlan *b);

/* The changes that take @st to @d on switch @sw named by @cfg, for model
 * @m (see the top).  0, -ENOMEM, NETD_EINVAL (a port name that does not
 * fit, a family this planner does not know) or NETD_EPERM (a change
 * outside the allowed ports or VLANs: never expected from dev_desired()'s
 * output, checked anyway).  @out written only on success; free it with
 * dev_nc_plan_free(). */
int dev_nc_plan(const struct dev_switch *sw, const struct dev_nc_cfg *cfg, const struct dev_nc_model *m,
		const struct dev_desired *d, const struct dev_nc_state *st, struct dev_nc_plan *out,
		struct netd_err *e);
void dev_nc_plan_free(struct dev_nc_plan *p);   /* accepts NULL; leaves it zeroed */

/* The <config> content of @p's <edit-config> (without the <config>
 * element): one <interfaces> and/or one <vlans> element, the namespaces and
 * nc:operation attributes declared where they are used, names escaped.
 * 0 with *ret (heap; NULL when the plan is empty) or -ENOMEM. */
int dev_nc_edit_xml(const struct dev_nc_plan *p, char **ret);

/* "3 changes: eth1: ACCESS 10 (was none); ..." cut to fit.  Returns @buf. */
const char *dev_nc_plan_text(const struct dev_nc_plan *p, char *buf, size_t cap);

/* ---- libyang data -> plain data ---- */

struct lyd_node;

/* Collect /oc-if:interfaces and /oc-vlan:vlans from a data tree (the
 * top-level siblings of a <get-config> reply, parsed in a context holding
 * the OpenConfig modules).  Nodes of other modules are ignored.  0, -ENOMEM,
 * NETD_ETOOBIG, or NETD_ECORRUPT naming switch @sw_name, the interface and
 * the value (a trunk-vlans entry that is neither a VLAN nor a range). */
int dev_nc_state_from_tree(const char *sw_name, const struct lyd_node *tree, struct dev_nc_state *out,
			   struct netd_err *e);

/* Add the modules of ietf-yang-library data (RFC 7895 modules-state, or
 * RFC 8525 yang-library/module-set) in @tree to @c: name, revision,
 * namespace, conformance, and which modules deviate them.  0, -ENOMEM or
 * NETD_ETOOBIG. */
int dev_nc_caps_add_yanglib(struct dev_nc_caps *c, const struct lyd_node *tree);

/* ---- The driver ---- */

struct dev_nc;   /* one NETCONF session with one switch */

/* Initialise libnetconf2's client side for this process (once; safe from
 * several threads).  dev_nc_open() calls it. */
void dev_nc_lib_init(void);

/* Connect (TCP, SSH with the key or password, host key against
 * known_hosts), open the NETCONF session (libnetconf2 builds the libyang
 * context from the switch's schemas), read the capabilities and, where
 * advertised, ietf-yang-library, and detect the model family.  Returns 0,
 * NETD_EINVAL, -ETIMEDOUT, -ECONNREFUSED & co., NETD_EPERM (host key),
 * NETD_EAUTH, NETD_EUNSUPPORTED (no VLAN model netd knows; the message
 * lists the capabilities) or -EIO; the message names the switch and its
 * address.  *ret written only on success; close with dev_nc_close() (which
 * rolls back a confirmed commit left pending). */
int dev_nc_open(const struct dev_nc_cfg *cfg, struct dev_nc **ret, struct netd_err *e);
void dev_nc_close(struct dev_nc *s);   /* accepts NULL */

const struct dev_nc_caps *dev_nc_caps(const struct dev_nc *s);
const struct dev_nc_model *dev_nc_model(const struct dev_nc *s);
/* The NETCONF session-id the switch gave this session. */
uint32_t dev_nc_session_id(const struct dev_nc *s);

/* RPCs sent since open, by kind (for reports and tests). */
struct dev_nc_stats {
	unsigned long rpcs, get_configs, edit_configs, validates, commits, locks, unlocks, discards, cancels;
};
void dev_nc_stats(const struct dev_nc *s, struct dev_nc_stats *out);

/* Read the running configuration (interfaces and VLANs).  0 or an error;
 * @out written only on success. */
int dev_nc_read(struct dev_nc *s, struct dev_nc_state *out, struct netd_err *e);

enum dev_nc_apply_flags {
	DEV_NC_LEAVE_PENDING = 1 << 0,   /* do not confirm the confirmed commit (see the top) */
};

struct dev_nc_report {
	size_t n_changes;                /* 0: nothing was sent */
	char text[1024];                 /* dev_nc_plan_text() */
	char notes[1024];                /* the plan's notes, "; " separated */
	bool candidate;                  /* went through the candidate */
	bool validated;                  /* <validate> sent and accepted */
	bool validate_skipped;           /* :validate advertised, not sent (yuma123) */
	bool confirmed;                  /* a confirmed commit was used */
	bool pending;                    /* left pending (DEV_NC_LEAVE_PENDING) */
	bool verified;                   /* the read-back planned nothing */
	unsigned edit_configs;           /* <edit-config>s sent by this call */
};

/* Read, plan and apply (see the top) the desired state @d of @sw.  @rep
 * (may be NULL) is zeroed first and filled in every case once planned.
 * Returns 0, NETD_EINUSE while a confirmed commit of this session awaits
 * dev_nc_confirm(), or the first error (the switch left as it was, or
 * rolled back; the message says which). */
int dev_nc_apply(struct dev_nc *s, const struct dev_switch *sw, const struct dev_desired *d, unsigned flags,
		 struct dev_nc_report *rep, struct netd_err *e);

/* Confirm the confirmed commit left pending by dev_nc_apply(): a plain
 * <commit>, then running is read and compared with what the apply read
 * back.  0, NETD_ENOTFOUND (none pending), NETD_ECONFLICT when running
 * differs (the switch rolled back when its confirm-timeout passed: the
 * <commit> then committed the candidate, which the rollback had reset to
 * running, so nothing changed), or the switch's error. */
int dev_nc_confirm(struct dev_nc *s, struct netd_err *e);
/* Cancel it: <cancel-commit> (:confirmed-commit:1.1), the switch rolls
 * back now.  0, NETD_ENOTFOUND, NETD_EUNSUPPORTED or the switch's error. */
int dev_nc_cancel(struct dev_nc *s, struct netd_err *e);

#endif
