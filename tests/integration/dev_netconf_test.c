/* Integration test of devices/nc.h (the NETCONF switch driver) against
 * tests/peers/ncswitch (a libnetconf2 server with running + candidate,
 * test subsets of the OpenConfig interface/VLAN/aggregate modules and a
 * deviation), and against yuma123's netconfd (ietf-interfaces only).
 *
 *   dev_netconf_test switch CAND_DIR RUN_DIR
 *   dev_netconf_test netconfd NETCONFD_DIR      (run inside its namespace)
 *
 * CAND_DIR / RUN_DIR: work directories of two ncswitch instances made by
 * start.sh (env, keys, known_hosts, rpc.log), the second --running-only.
 * The switch's state is checked with a NETCONF <get-config> over a second,
 * independent libnetconf2 session (not through the driver), and what the
 * driver sent with the switch's rpc.log:
 *  1. open: capabilities, yang-library, the deviation, the OpenConfig
 *     family with LAGs;
 *  2. 3 ports (access 10; trunk 20+30 native 10; trunk 40 native idle 99)
 *     applied through the candidate (lock, edit, validate, confirmed commit,
 *     confirming commit, unlock); the switch holds exactly that, VLANs
 *     created with netd names, the stale netd VLAN 77 deleted, foreign
 *     VLAN 500 and port eth8 untouched;
 *  3. applied again: no <edit-config> (nor lock) sent;
 *  4. one port changed: one <edit-config> naming only that port;
 *  5. a LAG (bond over ports 4+5, 802.3ad) as an aggregate interface;
 *  6. a confirmed commit left pending, then confirmed: kept after the
 *     confirm-timeout;
 *  7. a confirmed commit left pending and not confirmed: the switch rolls
 *     back by itself; confirming afterwards reports it;
 *  8. running locked by another session: NETD_EINUSE naming the switch,
 *     lock-denied and the other session's id; nothing changed;
 *  9. wrong key: NETD_EAUTH naming the switch; password login works; a
 *     host key not in known_hosts: NETD_EPERM; a closed port: refused;
 * 10. the running-only switch: edit-config on running under a lock.
 * netconfd mode: NETD_EUNSUPPORTED "advertises no VLAN model" listing its
 * capabilities (ietf-interfaces).
 * Prints one line per check; exits 1 if any failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libyang/libyang.h>
#include <nc_client.h>

#include "devices/devices.h"
#include "devices/nc.h"

#define NPORTS 8

static int failures, checks;

static void result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void result(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s ", ok ? "ok  " : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	checks++;
	failures += !ok;
}

static void die(const char *what, const struct netd_err *e)
{
	printf("FAIL %s: %s (%s)\n", what, e ? e->msg : "", e ? netd_strerror(e->code) : "");
	exit(1);
}

/* ---- the switches ---- */

struct peer {
	char dir[512];
	unsigned port;
	char key[600], wrong[600], known[600], rpclog[600];
};

static void peer_load(struct peer *p, const char *dir)
{
	char path[700], line[256];
	snprintf(p->dir, sizeof p->dir, "%s", dir);
	snprintf(path, sizeof path, "%s/env", dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("FAIL %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "NCSW_PORT=", 10))
			p->port = (unsigned)atoi(line + 10);
	fclose(f);
	snprintf(p->key, sizeof p->key, "%s/client_ed25519", dir);
	snprintf(p->wrong, sizeof p->wrong, "%s/wrong_ed25519", dir);
	snprintf(p->known, sizeof p->known, "%s/known_hosts", dir);
	snprintf(p->rpclog, sizeof p->rpclog, "%s/rpc.log", dir);
}

static struct dev_nc_cfg cfg_for(const struct peer *p, const char *name)
{
	struct dev_nc_cfg c = {
		.name = name, .host = "127.0.0.1", .port = p->port, .user = "root", .key_file = p->key,
		.known_hosts = p->known, .timeout_ms = 10000, .confirm_timeout_s = 120,
	};
	return c;
}

/* Lines of the switch's rpc.log containing @what (" edit-config "). */
static unsigned log_count(const struct peer *p, const char *what)
{
	FILE *f = fopen(p->rpclog, "r");
	char line[65536];
	unsigned n = 0;
	while (f && fgets(line, sizeof line, f))
		n += strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* The last "config" line of rpc.log (the last edit's content); heap. */
static char *log_last_config(const struct peer *p)
{
	FILE *f = fopen(p->rpclog, "r");
	char line[65536], *last = NULL;
	while (f && fgets(line, sizeof line, f)) {
		const char *sp = strchr(line, ' ');
		if (sp && !strncmp(sp, " config ", 8)) {
			free(last);
			last = strdup(sp + 8);
		}
	}
	if (f)
		fclose(f);
	return last ? last : strdup("");
}

/* ---- an independent NETCONF session for checking ---- */

static int accept_host(const char *host, ssh_session s, void *priv)
{
	(void)host;
	(void)s;
	(void)priv;
	return 0;
}

static struct nc_session *raw_open(const struct peer *p)
{
	char pub[700];
	snprintf(pub, sizeof pub, "%s.pub", p->key);
	while (nc_client_ssh_get_keypair_count() > 0)
		nc_client_ssh_del_keypair(0);
	nc_client_ssh_add_keypair(pub, p->key);
	nc_client_ssh_set_username("root");
	nc_client_ssh_set_auth_pref(NC_SSH_AUTH_PASSWORD, -1);
	nc_client_ssh_set_auth_pref(NC_SSH_AUTH_INTERACTIVE, -1);
	nc_client_ssh_set_auth_hostkey_check_clb(accept_host, NULL);
	struct nc_session *s = nc_connect_ssh("127.0.0.1", (uint16_t)p->port, NULL);
	if (!s) {
		printf("FAIL checking session to port %u\n", p->port);
		exit(1);
	}
	return s;
}

/* Send @rpc on the checking session; 0 = <ok>/data, 1 = rpc-error. */
static int raw_call(struct nc_session *s, struct nc_rpc *rpc, struct lyd_node **data)
{
	struct lyd_node *envp = NULL, *op = NULL;
	uint64_t id;
	int rc = -1;
	if (data)
		*data = NULL;
	if (nc_send_rpc(s, rpc, 5000, &id) == NC_MSG_RPC && nc_recv_reply(s, rpc, id, 5000, &envp, &op) == NC_MSG_REPLY) {
		rc = envp && lyd_child(envp) && !strcmp(LYD_NAME(lyd_child(envp)), "rpc-error");
		if (!rc && data && op && lyd_child(op)) {
			const struct lyd_node_any *a = (const struct lyd_node_any *)lyd_child(op);
			char *xml = NULL;
			if (a->value_type == LYD_ANYDATA_DATATREE && a->value.tree)
				lyd_print_mem(&xml, a->value.tree, LYD_XML, LYD_PRINT_WITHSIBLINGS);
			else if (a->value_type != LYD_ANYDATA_DATATREE)
				lyd_any_value_str(lyd_child(op), &xml);
			if (xml)
				lyd_parse_data_mem(nc_session_get_ctx(s), xml, LYD_XML, LYD_PARSE_ONLY, 0, data);
			free(xml);
		}
	}
	lyd_free_all(envp);
	lyd_free_all(op);
	nc_rpc_free(rpc);
	if (rc < 0) {
		printf("FAIL checking session: no reply\n");
		exit(1);
	}
	return rc;
}

static struct lyd_node *raw_running(struct nc_session *s)
{
	struct lyd_node *t = NULL;
	if (raw_call(s, nc_rpc_getconfig(NC_DATASTORE_RUNNING, NULL, NC_WD_UNKNOWN, NC_PARAMTYPE_CONST), &t) != 0) {
		printf("FAIL checking session: get-config refused\n");
		exit(1);
	}
	return t;
}

#define IFX "/openconfig-interfaces:interfaces/interface[name='%s']"
#define SVX IFX "/openconfig-if-ethernet:ethernet/openconfig-vlan:switched-vlan/config"

/* Values of the nodes an xpath selects, sorted, joined with ","; "" = none. */
static const char *xp(const struct lyd_node *tree, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *xp(const struct lyd_node *tree, const char *fmt, ...)
{
	static char out[512];
	char path[512], vals[64][64];
	struct ly_set *set = NULL;
	va_list ap;
	size_t n = 0;
	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	out[0] = '\0';
	if (!tree || lyd_find_xpath(tree, path, &set) != LY_SUCCESS)
		return out;
	for (uint32_t i = 0; i < set->count && n < 64; i++) {
		const char *v = lyd_get_value(set->dnodes[i]);
		snprintf(vals[n++], sizeof vals[0], "%s", v ? v : "*");
	}
	ly_set_free(set, NULL);
	qsort(vals, n, sizeof vals[0], (int (*)(const void *, const void *))strcmp);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(out);
		snprintf(out + len, sizeof out - len, "%s%s", i ? "," : "", vals[i]);
	}
	return out;
}

static bool eq(const char *got, const char *want, const char *what)
{
	bool ok = !strcmp(got, want);
	if (!ok)
		printf("     %s: got '%s', want '%s'\n", what, got, want);
	return ok;
}

/* ---- desired states ---- */

static const struct dev_range allowed_vlans[] = { { 1, 100 } };
static const struct dev_range allowed_ports[] = { { 1, 7 } };
static const struct dev_switch sw = {
	.name = "sw-cand", .nports = NPORTS, .vlans = allowed_vlans, .n_vlans = 1,
	.ports = allowed_ports, .n_ports = 1, .idle_vlan = 99,
};

static const struct dev_net admin = { "admin", 10, false }, storage = { "storage", 20, true }, vm = { "vm", 30, true },
			      backup = { "backup", 40, true }, lab = { "lab", 50, false }, lab2 = { "lab2", 60, false };

enum scenario { S_BASE, S_CHANGE, S_LAG, S_LAB, S_LAB2 };

static void desired(enum scenario sc, struct dev_desired *d)
{
	struct dev_link links[5] = {
		{ .port = 1, .node = "n1", .nic = "eth0" }, { .port = 2, .node = "n2", .nic = "eth0" },
		{ .port = 3, .node = "n3", .nic = "eth0" }, { .port = 4, .node = "n4", .nic = "eth0" },
		{ .port = 5, .node = "n4", .nic = "eth1" },
	};
	struct dev_net n1[1] = { admin }, n2[3] = { admin, storage, vm }, n3[1] = { backup }, n4[2] = { admin, storage };
	struct dev_nic nics[5] = {
		{ .node = "n1", .nic = "eth0", .nets = n1, .n_nets = 1 },
		{ .node = "n2", .nic = "eth0", .nets = n2, .n_nets = sc == S_BASE ? 3 : 2 },
		{ .node = "n3", .nic = "eth0", .nets = n3, .n_nets = 1 },
		{ .node = "n4", .nic = "eth0", .bond = "bond0", .team_mode = 4, .nets = n4, .n_nets = 2 },
		{ .node = "n4", .nic = "eth1", .bond = "bond0", .team_mode = 4, .nets = n4, .n_nets = 2 },
	};
	if (sc == S_LAB)
		n1[0] = lab;
	if (sc == S_LAB2)
		n1[0] = lab2;
	size_t n = sc >= S_LAG ? 5 : 3;
	struct netd_err e = { 0 };
	if (dev_desired(&sw, links, n, nics, n, d, &e) < 0)
		die("dev_desired", &e);
}

static struct dev_nc *open_or_die(const struct dev_nc_cfg *c)
{
	struct dev_nc *s = NULL;
	struct netd_err e = { 0 };
	if (dev_nc_open(c, &s, &e) < 0)
		die("dev_nc_open", &e);
	return s;
}

static int apply(struct dev_nc *s, enum scenario sc, unsigned flags, struct dev_nc_report *rep, struct netd_err *e)
{
	struct dev_desired d = { 0 };
	desired(sc, &d);
	int rc = dev_nc_apply(s, &sw, &d, flags, rep, e);
	dev_desired_free(&d);
	return rc;
}

/* ---- the checks ---- */

static void check_open(struct dev_nc *s)
{
	const struct dev_nc_caps *c = dev_nc_caps(s);
	const struct dev_nc_module *oc = dev_nc_caps_module(c, "openconfig-interfaces");
	result(c->candidate && c->confirmed_commit && c->validate && c->yang_library && !c->yuma,
	       "1. capabilities: candidate %d confirmed-commit:1.1 %d validate %d yang-library %d", c->candidate,
	       c->confirmed_commit, c->validate, c->yang_library);
	result(oc && !strcmp(oc->ns, "http://openconfig.net/yang/interfaces") && strstr(oc->deviated_by, "ncswitch-deviations"),
	       "1. openconfig-interfaces advertised, deviated by ncswitch-deviations (%s)", oc ? oc->deviated_by : "missing");
	result(dev_nc_model(s)->family == DEV_NC_FAMILY_OPENCONFIG && dev_nc_model(s)->lag,
	       "1. model family OpenConfig with openconfig-if-aggregate");
}

static void check_base(struct nc_session *raw, const char *step)
{
	struct lyd_node *t = raw_running(raw);
	bool ok = eq(xp(t, SVX "/interface-mode", "eth1"), "ACCESS", "eth1 mode") &&
		  eq(xp(t, SVX "/access-vlan", "eth1"), "10", "eth1 access") &&
		  eq(xp(t, SVX "/*", "eth1"), "10,ACCESS", "eth1 leaves") &&
		  eq(xp(t, SVX "/interface-mode", "eth2"), "TRUNK", "eth2 mode") &&
		  eq(xp(t, SVX "/native-vlan", "eth2"), "10", "eth2 native") &&
		  eq(xp(t, SVX "/trunk-vlans", "eth2"), "20,30", "eth2 trunk") &&
		  eq(xp(t, SVX "/interface-mode", "eth3"), "TRUNK", "eth3 mode") &&
		  eq(xp(t, SVX "/native-vlan", "eth3"), "99", "eth3 native (idle)") &&
		  eq(xp(t, SVX "/trunk-vlans", "eth3"), "40", "eth3 trunk") &&
		  eq(xp(t, SVX "/*", "eth4"), "", "eth4 untouched");
	result(ok, "%s ports read back over NETCONF: eth1 ACCESS 10, eth2 TRUNK native 10 + 20,30, eth3 TRUNK native 99 + 40", step);
	ok = eq(xp(t, "/openconfig-vlan:vlans/vlan/vlan-id"), "1,10,20,30,40,500,99", "VLAN ids") &&
	     eq(xp(t, "/openconfig-vlan:vlans/vlan[vlan-id='10']/config/name"), "netd-admin", "VLAN 10 name") &&
	     eq(xp(t, "/openconfig-vlan:vlans/vlan[vlan-id='99']/config/name"), "netd-idle", "VLAN 99 name") &&
	     eq(xp(t, "/openconfig-vlan:vlans/vlan[vlan-id='500']/config/name"), "foreign-500", "VLAN 500 name");
	result(ok, "%s VLANs 10/20/30/40/99 created as netd-<network>, stale netd VLAN 77 deleted, 1 and 500 kept", step);
	ok = eq(xp(t, SVX "/*", "eth8"), "500,ACCESS", "eth8 (foreign port)");
	result(ok, "%s eth8 (not managed) still ACCESS 500", step);
	lyd_free_all(t);
}

static void check_apply_base(struct dev_nc *s, const struct peer *p, struct nc_session *raw)
{
	struct dev_nc_report rep;
	struct netd_err e = { 0 };
	unsigned edits0 = log_count(p, " edit-config ");
	int rc = apply(s, S_BASE, 0, &rep, &e);
	result(rc == 0 && rep.n_changes == 9 && rep.candidate && rep.validated && rep.confirmed && rep.verified && !rep.pending,
	       "2. apply 3 ports: rc %d, %zu changes (%s)", rc, rep.n_changes, rc ? e.msg : rep.text);
	result(log_count(p, " edit-config candidate") == edits0 + 1 && log_count(p, " commit confirmed timeout=120") == 1 &&
		       log_count(p, " confirmed") == 2 && log_count(p, " validate candidate") == 1 &&
		       log_count(p, " unlock candidate") == 1 && log_count(p, " unlock running") == 1,
	       "2. the switch saw lock, edit-config candidate, validate, commit confirmed, commit, unlock");
	check_base(raw, "2.");

	struct dev_nc_stats st0, st1;
	dev_nc_stats(s, &st0);
	unsigned edits1 = log_count(p, " edit-config "), locks1 = log_count(p, " lock ");
	memset(&e, 0, sizeof e);
	rc = apply(s, S_BASE, 0, &rep, &e);
	dev_nc_stats(s, &st1);
	result(rc == 0 && rep.n_changes == 0 && log_count(p, " edit-config ") == edits1 && log_count(p, " lock ") == locks1 &&
		       st1.rpcs == st0.rpcs + 1,
	       "3. apply again: 0 changes, no edit-config or lock sent, 1 RPC (get-config)");
}

static void check_change(struct dev_nc *s, const struct peer *p, struct nc_session *raw)
{
	struct dev_nc_report rep;
	struct netd_err e = { 0 };
	unsigned edits0 = log_count(p, " edit-config ");
	int rc = apply(s, S_CHANGE, 0, &rep, &e);
	char *cfg = log_last_config(p);
	result(rc == 0 && log_count(p, " edit-config ") == edits0 + 1 && strstr(cfg, "<name>eth2</name>") &&
		       !strstr(cfg, "<name>eth1</name>") && !strstr(cfg, "<name>eth3</name>"),
	       "4. one port changed: one edit-config, naming eth2 only (%s)", rc ? e.msg : rep.text);
	free(cfg);
	struct lyd_node *t = raw_running(raw);
	result(eq(xp(t, SVX "/trunk-vlans", "eth2"), "20", "eth2 trunk") &&
		       eq(xp(t, "/openconfig-vlan:vlans/vlan[vlan-id='30']/vlan-id"), "", "VLAN 30"),
	       "4. eth2 now TRUNK native 10 + 20; netd-vm (VLAN 30) deleted as unused");
	lyd_free_all(t);
}

static void check_lag(struct dev_nc *s, struct nc_session *raw)
{
	struct dev_nc_report rep;
	struct netd_err e = { 0 };
	int rc = apply(s, S_LAG, 0, &rep, &e);
	result(rc == 0 && rep.verified && !rep.notes[0], "5. bond over ports 4+5 applied (%s)", rc ? e.msg : rep.text);
	struct lyd_node *t = raw_running(raw);
	bool ok = eq(xp(t, IFX "/config/type", "lag4"), "iana-if-type:ieee8023adLag", "lag4 type") &&
		  eq(xp(t, IFX "/openconfig-if-aggregate:aggregation/config/lag-type", "lag4"), "LACP", "lag4 lag-type") &&
		  eq(xp(t, IFX "/openconfig-if-aggregate:aggregation/openconfig-vlan:switched-vlan/config/*", "lag4"),
		     "10,20,TRUNK", "lag4 VLANs") &&
		  eq(xp(t, IFX "/openconfig-if-ethernet:ethernet/config/openconfig-if-aggregate:aggregate-id", "eth4"), "lag4",
		     "eth4 member") &&
		  eq(xp(t, IFX "/openconfig-if-ethernet:ethernet/config/openconfig-if-aggregate:aggregate-id", "eth5"), "lag4",
		     "eth5 member") &&
		  eq(xp(t, SVX "/*", "eth4"), "", "eth4 own VLANs");
	result(ok, "5. lag4: ieee8023adLag, LACP, TRUNK native 10 + 20 on the aggregate; eth4, eth5 its members");
	lyd_free_all(t);
	memset(&e, 0, sizeof e);
	rc = apply(s, S_LAG, 0, &rep, &e);
	result(rc == 0 && rep.n_changes == 0, "5. LAG applied again: 0 changes");
}

static bool wait_eth1(struct nc_session *raw, const char *want, int seconds)
{
	for (int i = 0; i < seconds * 10; i++) {
		struct lyd_node *t = raw_running(raw);
		bool ok = !strcmp(xp(t, SVX "/access-vlan", "eth1"), want);
		lyd_free_all(t);
		if (ok)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

static void check_confirm(const struct peer *p, struct nc_session *raw)
{
	struct dev_nc_cfg c = cfg_for(p, "sw-cand");
	c.confirm_timeout_s = 1;
	struct dev_nc *s = open_or_die(&c);
	struct dev_nc_report rep;
	struct netd_err e = { 0 };

	int rc = apply(s, S_LAB, DEV_NC_LEAVE_PENDING, &rep, &e);
	struct lyd_node *t = raw_running(raw);
	result(rc == 0 && rep.pending && rep.verified && !strcmp(xp(t, SVX "/access-vlan", "eth1"), "50"),
	       "6. confirmed commit left pending: eth1 ACCESS 50 on the switch (%s)", rc ? e.msg : rep.text);
	lyd_free_all(t);
	rc = dev_nc_confirm(s, &e);
	result(rc == 0, "6. confirmed in time: %s", rc ? e.msg : "ok");
	sleep(2);   /* past the 1 s confirm-timeout: a confirmed change must stay */
	t = raw_running(raw);
	result(!strcmp(xp(t, SVX "/access-vlan", "eth1"), "50") && log_count(p, " rollback ") == 0,
	       "6. after the confirm-timeout eth1 is still ACCESS 50, no rollback");
	lyd_free_all(t);

	memset(&e, 0, sizeof e);
	rc = apply(s, S_LAB2, DEV_NC_LEAVE_PENDING, &rep, &e);
	result(rc == 0 && rep.pending, "7. second confirmed commit left pending (eth1 -> 60): %s", rc ? e.msg : "ok");
	bool back = wait_eth1(raw, "50", 30);
	result(back && log_count(p, " rollback timeout") == 1,
	       "7. not confirmed in time: the switch rolled back to ACCESS 50 by itself");
	memset(&e, 0, sizeof e);
	rc = dev_nc_confirm(s, &e);
	result(rc == NETD_ECONFLICT && strstr(e.msg, "sw-cand") && strstr(e.msg, "rolled back"),
	       "7. confirming too late: NETD_ECONFLICT: %s", e.msg);
	t = raw_running(raw);
	result(!strcmp(xp(t, SVX "/access-vlan", "eth1"), "50") &&
		       !strcmp(xp(t, "/openconfig-vlan:vlans/vlan[vlan-id='60']/vlan-id"), ""),
	       "7. the late confirmation changed nothing (eth1 ACCESS 50, no VLAN 60)");
	lyd_free_all(t);
	dev_nc_close(s);
}

static void check_lock(struct dev_nc *s, const struct peer *p, struct nc_session *raw)
{
	struct dev_nc_report rep;
	struct netd_err e = { 0 };
	char sid[32];
	if (raw_call(raw, nc_rpc_lock(NC_DATASTORE_RUNNING), NULL) != 0) {
		result(false, "8. the checking session could not lock running");
		return;
	}
	snprintf(sid, sizeof sid, "session %u", (unsigned)nc_session_get_id(raw));
	unsigned edits0 = log_count(p, " edit-config ");
	int rc = apply(s, S_BASE, 0, &rep, &e);
	result(rc == NETD_EINUSE && strstr(e.msg, "sw-cand") && strstr(e.msg, "lock-denied") && strstr(e.msg, sid) &&
		       log_count(p, " edit-config ") == edits0,
	       "8. running locked by another session: %s", e.msg);
	raw_call(raw, nc_rpc_unlock(NC_DATASTORE_RUNNING), NULL);
	memset(&e, 0, sizeof e);
	rc = apply(s, S_BASE, 0, &rep, &e);
	result(rc == 0 && rep.verified, "8. after the unlock the apply goes through (%s)", rc ? e.msg : rep.text);
	check_base(raw, "8.");
}

static void check_auth(const struct peer *p)
{
	struct dev_nc *s = NULL;
	struct netd_err e = { 0 };
	struct dev_nc_cfg c = cfg_for(p, "sw-cand");
	c.key_file = p->wrong;
	int rc = dev_nc_open(&c, &s, &e);
	result(rc == NETD_EAUTH && strstr(e.msg, "sw-cand") && strstr(e.msg, "wrong_ed25519"), "9. wrong key: %s", e.msg);

	c = cfg_for(p, "sw-cand");
	c.key_file = NULL;
	c.password = "sw-pass-123";
	memset(&e, 0, sizeof e);
	rc = dev_nc_open(&c, &s, &e);
	result(rc == 0, "9. password login: %s", rc ? e.msg : "ok");
	dev_nc_close(s);
	s = NULL;

	char kh[700];
	snprintf(kh, sizeof kh, "%s/known_hosts.other", p->dir);
	FILE *f = fopen(kh, "w"), *pub = NULL;
	char line[1024] = "";
	snprintf(line, sizeof line, "%s.pub", p->wrong);
	pub = fopen(line, "r");
	line[0] = '\0';
	if (pub && fgets(line, sizeof line, pub) && f)
		fprintf(f, "[127.0.0.1]:%u %s", p->port, line);
	if (pub)
		fclose(pub);
	if (f)
		fclose(f);
	c = cfg_for(p, "sw-cand");
	c.known_hosts = kh;
	memset(&e, 0, sizeof e);
	rc = dev_nc_open(&c, &s, &e);
	result(rc == NETD_EPERM && strstr(e.msg, "host key"), "9. host key not as in known_hosts: %s", e.msg);

	c = cfg_for(p, "sw-cand");
	c.port = 1;   /* nobody listens on tcp port 1 of loopback */
	memset(&e, 0, sizeof e);
	rc = dev_nc_open(&c, &s, &e);
	result(rc == -ECONNREFUSED && strstr(e.msg, "sw-cand") && strstr(e.msg, "127.0.0.1 port 1"), "9. closed port: %s",
	       e.msg);
}

static void check_running_only(const struct peer *p)
{
	struct dev_nc_cfg c = cfg_for(p, "sw-run");
	struct dev_nc *s = open_or_die(&c);
	struct dev_nc_report rep;
	struct netd_err e = { 0 };
	const struct dev_nc_caps *caps = dev_nc_caps(s);
	result(!caps->candidate && caps->writable_running, "10. running-only switch: :writable-running, no :candidate");
	int rc = apply(s, S_BASE, 0, &rep, &e);
	result(rc == 0 && !rep.candidate && rep.verified && log_count(p, " edit-config running") == 1 &&
		       log_count(p, " lock running") == 1 && log_count(p, " unlock running") == 1 &&
		       log_count(p, " commit") == 0,
	       "10. applied with lock + edit-config running + unlock (%s)", rc ? e.msg : rep.text);
	struct nc_session *raw = raw_open(p);
	check_base(raw, "10.");
	nc_session_free(raw, NULL);
	memset(&e, 0, sizeof e);
	rc = apply(s, S_BASE, 0, &rep, &e);
	result(rc == 0 && rep.n_changes == 0 && log_count(p, " edit-config ") == 1, "10. applied again: nothing sent");
	dev_nc_close(s);
}

static int run_switch(const char *cand_dir, const char *run_dir)
{
	struct peer cand, run;
	peer_load(&cand, cand_dir);
	peer_load(&run, run_dir);
	struct dev_nc_cfg c = cfg_for(&cand, "sw-cand");
	struct dev_nc *s = open_or_die(&c);
	struct nc_session *raw = raw_open(&cand);
	check_open(s);
	check_apply_base(s, &cand, raw);
	check_change(s, &cand, raw);
	check_lag(s, raw);
	check_confirm(&cand, raw);
	check_lock(s, &cand, raw);
	check_auth(&cand);
	check_running_only(&run);
	nc_session_free(raw, NULL);
	dev_nc_close(s);
	return 0;
}

static int run_netconfd(const char *dir)
{
	char key[600], msg[NETD_ERR_MSG_MAX];
	snprintf(key, sizeof key, "%s/client_ed25519", dir);
	struct dev_nc_cfg c = { .name = "sw-yuma", .host = "127.0.0.1", .port = 8830, .user = "root", .key_file = key,
				.timeout_ms = 15000 };
	struct dev_nc *s = NULL;
	struct netd_err e = { 0 };
	int rc = dev_nc_open(&c, &s, &e);
	snprintf(msg, sizeof msg, "%s", e.msg);
	result(rc == NETD_EUNSUPPORTED && strstr(msg, "switch sw-yuma advertises no VLAN model netd knows") &&
		       strstr(msg, "ietf-interfaces@2014-05-08") && strstr(msg, ":candidate"),
	       "netconfd (ietf-interfaces only): %s", msg);
	dev_nc_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	dev_nc_lib_init();
	if (argc == 4 && !strcmp(argv[1], "switch"))
		run_switch(argv[2], argv[3]);
	else if (argc == 3 && !strcmp(argv[1], "netconfd"))
		run_netconfd(argv[2]);
	else {
		fprintf(stderr, "usage: dev_netconf_test switch CAND_DIR RUN_DIR | netconfd DIR\n");
		return 2;
	}
	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
