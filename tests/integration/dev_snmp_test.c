/* Integration test of devices/snmp.h (the SNMP switch driver and link
 * learning) against net-snmp's snmpd simulating a 24-port switch
 * (tests/peers/switch: pass_persist, state in a JSON file).
 *
 *   dev_snmp_test PORT STATE_JSON SWITCHSIM_PY
 *
 * On udp 127.0.0.1:PORT, SNMPv3 authPriv (SHA-256/AES) unless said:
 *  1. links learned: LLDP (port id MAC; chassis MAC + port id name) on
 *     ports 1 and 2, FDB on ports 5 and 7 (a "self" entry ignored), an
 *     uplink (port 24) with 40 MACs including echoes of the nodes' MACs
 *     and an unknown LLDP neighbour: nothing learned there, noted;
 *  2. desired state for 3 nodes x 2 networks (admin untagged VLAN 10,
 *     storage tagged VLAN 20; db1's second NIC storage only -> idle VLAN 99
 *     untagged), applied; the simulator's state (read from its file, not
 *     over SNMP) equals a hand-written expectation: rows "netd-<network>",
 *     egress/untagged lists, PVIDs, ifAlias, the foreign row VLAN 30
 *     untouched, the foreign VLAN 40 only losing managed port 5;
 *  3. applying again sends zero SETs;
 *  4. a concurrent change (VLAN 20 egress edited in the state file between
 *     read and write) -> NETD_ECONFLICT naming switch and VLAN, nothing
 *     applied; a fresh reconcile then keeps the foreign change;
 *  5. an agent refusing a PVID (wrongValue) -> error naming the OID and the
 *     port, the PVID already set in that PDU undone, the VLAN rows of the
 *     add group kept, no managed port without its untagged VLAN;
 *  6. guardrails: a link to a port outside the allowed ports refused
 *     naming it; an op on a disallowed port refused before any SET;
 *  7. a wrong auth key -> NETD_EAUTH naming the switch, while a session
 *     with the right key stays usable; an unreachable address ->
 *     -ETIMEDOUT naming it;
 *  8. SNMPv2c reads the same state and applies a change;
 *  9. a read-only user (SHA/AES): reads work, the first SET is refused
 *     (noAccess) naming the switch, and nothing changes;
 * 10. two worker threads, each with its own session (v3 and v2c), read
 *     the switch 10 times each at the same time and always agree.
 * Prints one line per check; exits 1 if any failed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "devices/devices.h"
#include "devices/snmp.h"

#define NPORTS 24

static const char *port_arg, *state_file, *sim_py;
static char peer[64];
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

/* switchsim_pp.py ctl STATE ARGS... */
static void sim(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sim(const char *fmt, ...)
{
	char args[512], cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' ctl '%s' %s", sim_py, state_file, args);
	if (system(cmd) != 0) {
		printf("FAIL simulator control: %s\n", cmd);
		exit(1);
	}
}

/* The simulator's state as text (switchsim_pp.py ctl dump); heap. */
static char *dump(void)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' ctl '%s' dump", sim_py, state_file);
	FILE *f = popen(cmd, "r");
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	if (!f || !buf)
		exit(1);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	pclose(f);
	return buf;
}

/* ---- the expected switch, written by hand ---- */

struct xrow {
	unsigned vlan;
	char name[33];
	bool egress[NPORTS + 1], untagged[NPORTS + 1];
};

struct xsw {
	struct xrow rows[16];
	size_t n;
	unsigned pvid[NPORTS + 1];
	char alias[NPORTS + 1][65];
};

static struct xrow *xrow(struct xsw *x, unsigned vlan, const char *name)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->rows[i].vlan == vlan)
			return &x->rows[i];
	struct xrow *r = &x->rows[x->n++];
	memset(r, 0, sizeof *r);
	r->vlan = vlan;
	snprintf(r->name, sizeof r->name, "%s", name);
	return r;
}

static void xdel(struct xsw *x, unsigned vlan)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->rows[i].vlan == vlan)
			x->rows[i] = x->rows[--x->n];
}

static void hexlist(const bool *set, char *out)
{
	for (unsigned o = 0; o < (NPORTS + 7) / 8; o++) {
		unsigned v = 0;
		for (unsigned b = 0; b < 8; b++)
			if (o * 8 + b + 1 <= NPORTS && set[o * 8 + b + 1])
				v |= 0x80u >> b;
		sprintf(out + 2 * o, "%02x", v);
	}
}

static int cmp_xrow(const void *a, const void *b)
{
	const struct xrow *x = a, *y = b;
	return (int)x->vlan - (int)y->vlan;
}

static char *xtext(struct xsw *x)
{
	char *buf = malloc(1 << 16), e[16], u[16];
	size_t w = 0;
	qsort(x->rows, x->n, sizeof x->rows[0], cmp_xrow);
	for (size_t i = 0; i < x->n; i++) {
		hexlist(x->rows[i].egress, e);
		hexlist(x->rows[i].untagged, u);
		w += (size_t)sprintf(buf + w, "vlan %u status=1 name=%s egress=%s untagged=%s\n", x->rows[i].vlan,
				     x->rows[i].name, e, u);
	}
	for (unsigned p = 1; p <= NPORTS; p++)
		w += (size_t)sprintf(buf + w, "pvid %u %u\n", p, x->pvid[p]);
	for (unsigned p = 1; p <= NPORTS; p++)
		w += (size_t)sprintf(buf + w, "alias %u %s\n", p, x->alias[p]);
	return buf;
}

/* The first differing line of two dumps, for the log. */
static void first_diff(const char *a, const char *b, char *out, size_t cap)
{
	while (*a && *b) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
		size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
		if (la != lb || memcmp(a, b, la)) {
			snprintf(out, cap, "got \"%.*s\", want \"%.*s\"", (int)la, a, (int)lb, b);
			return;
		}
		a += la + (ea != NULL);
		b += lb + (eb != NULL);
	}
	snprintf(out, cap, *a || *b ? "lengths differ" : "equal");
}

static bool state_is(struct xsw *x, const char *what)
{
	char *got = dump(), *want = xtext(x), why[400];
	bool ok = !strcmp(got, want);
	first_diff(got, want, why, sizeof why);
	result(ok, "%s: the simulator's state equals the expectation%s%s", what, ok ? "" : ": ", ok ? "" : why);
	free(got);
	free(want);
	return ok;
}

/* ---- the scenario ---- */

static const struct dev_range allowed_vlans[] = { { 1, 1 }, { 10, 99 } };
static const struct dev_range allowed_ports[] = { { 1, 20 } };

static struct dev_switch sw = {
	.name = "sw1", .nports = NPORTS, .vlans = allowed_vlans, .n_vlans = 2,
	.ports = allowed_ports, .n_ports = 1, .idle_vlan = 99,
};

static const struct dev_nicmac nicmacs[] = {
	{ "web1", "eth0", { 0x52, 0x54, 0, 0, 1, 0 } },
	{ "web1", "eth1", { 0x52, 0x54, 0, 0, 1, 1 } },   /* cabled nowhere we see */
	{ "web2", "eth0", { 0x52, 0x54, 0, 0, 2, 0 } },
	{ "db1", "eth0", { 0x52, 0x54, 0, 0, 3, 0 } },
	{ "db1", "eth1", { 0x52, 0x54, 0, 0, 3, 1 } },
};

static struct dev_net admin = { "admin", 10, false }, storage = { "storage", 20, true };

static struct dev_snmp_cfg cfg_v3(const char *auth)
{
	struct dev_snmp_cfg c = {
		.name = "sw1", .peer = peer, .version = DEV_SNMP_V3, .user = "swadmin", .auth = DEV_AUTH_SHA256,
		.auth_pass = auth, .priv = DEV_PRIV_AES128, .priv_pass = "privpass-123", .timeout_ms = 2000,
		.retries = 1,
	};
	return c;
}

static void place_links(void)
{
	/* LLDP: web1 eth0 by port id MAC on port 1; web2 eth0 by chassis MAC
	 * (its eth0's) + port id interfaceName on port 2; an unknown switch
	 * on the uplink port 24 */
	sim("lldp 1 1 4 525400000100 3 525400000100 web1");
	sim("lldp 2 3 4 525400000200 5 %s web2.lab.example", "65746830");   /* "eth0" */
	sim("lldp 24 7 4 0200000000aa 5 %s core-sw", "7465312f302f31");     /* "te1/0/1" */
	/* FDB: db1 eth0 on port 5, db1 eth1 on port 7 (and a "self" entry of
	 * it on port 3, which does not count); web1 eth0's MAC also on port 9
	 * (LLDP wins) */
	sim("fdb 10 52:54:00:00:03:00 5");
	sim("fdb 20 52:54:00:00:03:00 5");
	sim("fdb 20 52:54:00:00:03:01 7");
	sim("fdb 1 52:54:00:00:03:01 3 4");
	sim("fdb 10 52:54:00:00:01:00 9");
	/* the uplink: 36 unknown MACs and echoes of three node MACs (learned
	 * there in another VLAN, FDB id 30) */
	for (int i = 0; i < 36; i++)
		sim("fdb 10 02:00:00:00:%02x:%02x 24", i / 8, i);
	sim("fdb 30 52:54:00:00:03:00 24");
	sim("fdb 30 52:54:00:00:03:01 24");
	sim("fdb 30 52:54:00:00:02:00 24");
	/* foreign rows: VLAN 30 (never ours, ports 3-4), VLAN 40 with port 5
	 * (managed: it leaves) and port 8 (stays) */
	sim("vlan 30 name ops-mgmt");
	sim("vlan 30 egress 300000");
	sim("vlan 30 untagged 300000");
	sim("vlan 40 name legacy");
	sim("vlan 40 egress 090000");
}

static void expect_initial(struct xsw *x)
{
	memset(x, 0, sizeof *x);
	struct xrow *d = xrow(x, 1, "default");
	for (unsigned p = 1; p <= NPORTS; p++) {
		d->egress[p] = d->untagged[p] = true;
		x->pvid[p] = 1;
	}
	struct xrow *r30 = xrow(x, 30, "ops-mgmt");
	r30->egress[3] = r30->egress[4] = r30->untagged[3] = r30->untagged[4] = true;
	struct xrow *r40 = xrow(x, 40, "legacy");
	r40->egress[5] = r40->egress[8] = true;
}

static bool learned_is(const struct dev_learn_result *lr, size_t i, unsigned port, const char *node, const char *nic,
		       enum dev_link_source src)
{
	if (i >= lr->n_links)
		return false;
	const struct dev_learned *k = &lr->links[i];
	return k->link.port == port && !strcmp(k->link.node, node) && !strcmp(k->link.nic, nic) && k->source == src;
}

static bool notes_have(const struct dev_learn_result *lr, const char *s)
{
	for (size_t i = 0; i < lr->n_notes; i++)
		if (strstr(lr->notes[i].text, s))
			return true;
	return false;
}

static void test_learn(struct dev_snmp *s, struct dev_link *links, size_t *n_links)
{
	struct dev_learn_result lr;
	struct netd_err e = { 0 };
	if (dev_snmp_learn(s, nicmacs, sizeof nicmacs / sizeof nicmacs[0], &lr, &e) != 0)
		die("learn", &e);
	for (size_t i = 0; i < lr.n_links; i++)
		printf("     learned port %u %s/%s by %s: %s\n", lr.links[i].link.port, lr.links[i].link.node,
		       lr.links[i].link.nic, dev_link_source_name(lr.links[i].source), lr.links[i].evidence);
	for (size_t i = 0; i < lr.n_notes; i++)
		printf("     note: %s\n", lr.notes[i].text);
	result(lr.n_links == 4 && learned_is(&lr, 0, 1, "web1", "eth0", DEV_LINK_LLDP) &&
		       learned_is(&lr, 1, 2, "web2", "eth0", DEV_LINK_LLDP) &&
		       learned_is(&lr, 2, 5, "db1", "eth0", DEV_LINK_FDB) &&
		       learned_is(&lr, 3, 7, "db1", "eth1", DEV_LINK_FDB),
	       "learn: LLDP on ports 1, 2; FDB on ports 5, 7; %zu links", lr.n_links);
	bool up = true;
	for (size_t i = 0; i < lr.n_links; i++)
		up &= lr.links[i].link.port != 24 && lr.links[i].link.port != 9 && lr.links[i].link.port != 3;
	result(up && notes_have(&lr, "core-sw"), "learn: the uplink (port 24, 40 MACs), port 9 and the self entry "
						   "gave no link; the unknown LLDP neighbour is noted");
	for (size_t i = 0; i < lr.n_links; i++)
		links[i] = lr.links[i].link;
	*n_links = lr.n_links;
	dev_learn_result_free(&lr);
}

static int desire(const struct dev_link *links, size_t nl, const struct dev_nic *nics, size_t nn,
		  struct dev_desired *d, struct netd_err *e)
{
	return dev_desired(&sw, links, nl, nics, nn, d, e);
}

static unsigned long sets(struct dev_snmp *s)
{
	struct dev_snmp_stats st;
	dev_snmp_stats(s, &st);
	return st.set_pdus;
}

static void test_apply(struct dev_snmp *s, const struct dev_link *links, size_t nl, struct xsw *x)
{
	struct dev_net both[] = { admin, storage }, st_only[] = { storage };
	struct dev_nic nics[] = {
		{ "web1", "eth0", "", 0, both, 2 }, { "web2", "eth0", "", 0, both, 2 },
		{ "db1", "eth0", "", 0, both, 2 }, { "db1", "eth1", "", 0, st_only, 1 },
	};
	struct dev_desired d;
	struct dev_snmp_report rep;
	struct netd_err e = { 0 };
	char txt[1024];

	if (desire(links, nl, nics, 4, &d, &e) != 0)
		die("desired", &e);
	int rc = dev_snmp_reconcile(s, &sw, &d, &rep, &e);
	printf("     %s; %u SET PDUs, %u varbinds, %u walks\n", dev_snmp_report_text(&rep, txt, sizeof txt),
	       rep.set_pdus, rep.set_varbinds, rep.read_walks);
	result(rc == 0 && rep.verified && rep.n_applied == rep.n_steps && rep.set_pdus <= 5,
	       "apply: %zu steps in %u SET PDUs, verified (%s)", rep.n_steps, rep.set_pdus, rc ? e.msg : "ok");
	dev_snmp_report_free(&rep);

	/* what the switch must hold now, by hand */
	struct xrow *r1 = xrow(x, 1, ""), *r10 = xrow(x, 10, "netd-admin"), *r20 = xrow(x, 20, "netd-storage"),
		    *r99 = xrow(x, 99, "netd-idle"), *r40 = xrow(x, 40, "");
	unsigned managed[] = { 1, 2, 5, 7 };
	for (size_t i = 0; i < 4; i++) {
		unsigned p = managed[i];
		r1->egress[p] = r1->untagged[p] = false;
		r20->egress[p] = true;
		if (p == 7) {
			r99->egress[p] = r99->untagged[p] = true;
			x->pvid[p] = 99;
		} else {
			r10->egress[p] = r10->untagged[p] = true;
			x->pvid[p] = 10;
		}
	}
	r40->egress[5] = false;
	snprintf(x->alias[1], 65, "netd: web1 eth0");
	snprintf(x->alias[2], 65, "netd: web2 eth0");
	snprintf(x->alias[5], 65, "netd: db1 eth0");
	snprintf(x->alias[7], 65, "netd: db1 eth1");
	state_is(x, "apply");

	unsigned long before = sets(s);
	memset(&rep, 0, sizeof rep);
	rc = dev_snmp_reconcile(s, &sw, &d, &rep, &e);
	result(rc == 0 && rep.n_steps == 0 && rep.set_pdus == 0 && sets(s) == before,
	       "apply again: %zu steps, %lu SET PDUs sent", rep.n_steps, sets(s) - before);
	dev_snmp_report_free(&rep);
	state_is(x, "apply again");
	dev_desired_free(&d);
}

/* web2 released: its port goes to the idle VLAN; VLAN 20's egress is
 * edited in the state file between read and apply. */
static void test_conflict(struct dev_snmp *s, const struct dev_link *links, size_t nl, struct xsw *x)
{
	struct dev_net both[] = { admin, storage }, st_only[] = { storage };
	struct dev_nic nics[] = {
		{ "web1", "eth0", "", 0, both, 2 }, { "db1", "eth0", "", 0, both, 2 },
		{ "db1", "eth1", "", 0, st_only, 1 },
	};
	struct dev_desired d;
	struct dev_snmp_state st;
	struct dev_snmp_plan p;
	struct dev_snmp_report rep;
	struct netd_err e = { 0 };

	if (desire(links, nl, nics, 3, &d, &e) != 0 || dev_snmp_read(s, &sw, &st, &e) != 0 ||
	    dev_snmp_plan(&sw, &d, &st, &p, &e) != 0)
		die("conflict setup", &e);
	/* someone adds port 15 to VLAN 20 behind netd's back */
	struct xrow *r20 = xrow(x, 20, "");
	char hex[16];
	r20->egress[15] = true;
	hexlist(r20->egress, hex);
	sim("vlan 20 egress %s", hex);
	char *before = dump();
	unsigned long sent = sets(s);
	int rc = dev_snmp_apply(s, &sw, &d, &st, &p, &rep, &e);
	char *after = dump();
	result(rc == NETD_ECONFLICT && strstr(e.msg, "sw1") && strstr(e.msg, "VLAN 20") && rep.n_applied == 0 &&
		       sets(s) == sent && !strcmp(before, after),
	       "concurrent change: %s, %zu steps applied, %lu SETs, state unchanged: %s", netd_strerror(rc),
	       rep.n_applied, sets(s) - sent, e.msg);
	dev_snmp_report_free(&rep);
	dev_snmp_plan_free(&p);
	dev_snmp_state_free(&st);
	free(before);
	free(after);
	memset(&e, 0, sizeof e);
	rc = dev_snmp_reconcile(s, &sw, &d, &rep, &e);
	/* port 2: idle VLAN untagged only; port 15 (not managed) kept in 20 */
	struct xrow *r10 = xrow(x, 10, ""), *r99 = xrow(x, 99, "");
	r10->egress[2] = r10->untagged[2] = false;
	r20->egress[2] = false;
	r99->egress[2] = r99->untagged[2] = true;
	x->pvid[2] = 99;
	snprintf(x->alias[2], 65, "netd: idle");
	result(rc == 0 && rep.verified, "reconcile after the conflict: %s (%zu steps)", rc ? e.msg : "ok", rep.n_steps);
	dev_snmp_report_free(&rep);
	state_is(x, "reconcile after the conflict (port 15 kept in VLAN 20)");
	dev_desired_free(&d);
}

/* Every managed port's PVID row holds it untagged. */
static bool no_port_stranded(struct dev_snmp *s, const unsigned *ports, size_t n)
{
	struct dev_snmp_state st;
	struct netd_err e = { 0 };
	bool ok = dev_snmp_read(s, &sw, &st, &e) == 0;
	for (size_t i = 0; ok && i < n; i++) {
		bool found = false;
		for (size_t k = 0; k < st.actual.n_rows; k++)
			found |= st.actual.rows[k].vlan == st.actual.pvid[ports[i]] &&
				 dev_portlist_test(&st.actual.rows[k].untagged, ports[i]);
		ok &= found;
	}
	dev_snmp_state_free(&st);
	return ok;
}

/* admin moves from VLAN 10 to 11; the agent refuses port 5's new PVID. */
static void test_refusal(struct dev_snmp *s, const struct dev_link *links, size_t nl, struct xsw *x)
{
	struct dev_net admin11 = { "admin", 11, false }, both[] = { admin11, storage }, st_only[] = { storage };
	struct dev_nic nics[] = {
		{ "web1", "eth0", "", 0, both, 2 }, { "db1", "eth0", "", 0, both, 2 },
		{ "db1", "eth1", "", 0, st_only, 1 },
	};
	struct dev_desired d;
	struct dev_snmp_report rep;
	struct netd_err e = { 0 };
	char txt[1024];
	unsigned managed[] = { 1, 2, 5, 7 };

	if (desire(links, nl, nics, 3, &d, &e) != 0)
		die("refusal setup", &e);
	sim("fault .1.3.6.1.2.1.17.7.1.4.5.1.1.5 wrong-value");
	int rc = dev_snmp_reconcile(s, &sw, &d, &rep, &e);
	printf("     %s\n", dev_snmp_report_text(&rep, txt, sizeof txt));
	bool pvid1_undone = false, pvid5_undone = false, rows_applied = true;
	for (size_t i = 0; i < rep.n_steps; i++) {
		if (rep.steps[i].group == 2 && rep.steps[i].port == 1)
			pvid1_undone = rep.state[i] == DEV_STEP_UNDONE;
		if (rep.steps[i].group == 2 && rep.steps[i].port == 5)
			pvid5_undone = rep.state[i] == DEV_STEP_UNDONE;
		if (rep.steps[i].group == 1)
			rows_applied &= rep.state[i] == DEV_STEP_APPLIED;
		if (rep.steps[i].group > 2)
			rows_applied &= rep.state[i] == DEV_STEP_PENDING;
	}
	result(rc == NETD_EINVAL && strstr(e.msg, "1.3.6.1.2.1.17.7.1.4.5.1.1.5") && strstr(e.msg, "port 5") &&
		       strstr(e.msg, "wrongValue") && strstr(e.msg, "sw1"),
	       "refused SET: %s: %s", netd_strerror(rc), e.msg);
	result(pvid1_undone && pvid5_undone && rows_applied,
	       "refused SET: port 1's PVID (set in that PDU) undone, the add group kept, the rest not sent");
	/* the switch: VLAN 11 exists with ports 1 and 5, PVIDs as before */
	struct xrow *r11 = xrow(x, 11, "netd-admin");
	r11->egress[1] = r11->untagged[1] = r11->egress[5] = r11->untagged[5] = true;
	state_is(x, "refused SET");
	result(no_port_stranded(s, managed, 4), "refused SET: every managed port is untagged in its PVID's VLAN");
	dev_snmp_report_free(&rep);

	sim("fault-clear");
	memset(&e, 0, sizeof e);
	rc = dev_snmp_reconcile(s, &sw, &d, &rep, &e);
	result(rc == 0 && rep.verified, "after the fault is gone: reconcile %s", rc ? e.msg : "ok");
	dev_snmp_report_free(&rep);
	struct xrow *r10 = xrow(x, 10, "");
	r10->egress[1] = r10->untagged[1] = r10->egress[5] = r10->untagged[5] = false;
	x->pvid[1] = x->pvid[5] = 11;
	xdel(x, 10);   /* netd-admin on VLAN 10 is empty now and netd's: deleted */
	state_is(x, "after the fault");
	dev_desired_free(&d);
}

static void test_guardrails(struct dev_snmp *s, const struct dev_link *links, size_t nl)
{
	struct dev_net both[] = { admin, storage };
	struct dev_link more[8];
	struct dev_nic nics[] = { { "db2", "eth0", "", 0, both, 2 } };
	struct dev_desired d;
	struct netd_err e = { 0 };

	memcpy(more, links, nl * sizeof *links);
	more[nl] = (struct dev_link){ .port = 22, .node = "db2", .nic = "eth0" };
	int rc = desire(more, nl + 1, nics, 1, &d, &e);
	result(rc == NETD_EPERM && strstr(e.msg, "port 22") && strstr(e.msg, "sw1"),
	       "guardrail: a link to port 22 (not allowed) refused: %s", e.msg);
	if (rc == 0)
		dev_desired_free(&d);

	/* a hand-made op on port 23 never reaches the switch */
	struct dev_snmp_state st;
	struct dev_snmp_plan p;
	struct dev_op op;
	struct dev_snmp_report rep;
	memset(&op, 0, sizeof op);
	op.kind = DEV_OP_PVID;
	op.vlan = op.pvid = 20;
	op.port = 23;
	op.old_pvid = 1;
	memset(&p, 0, sizeof p);
	p.ops = &op;
	p.n_ops = 1;
	memset(&e, 0, sizeof e);
	if (dev_snmp_read(s, &sw, &st, &e) != 0)
		die("read", &e);
	unsigned long sent = sets(s);
	struct dev_desired empty;
	memset(&empty, 0, sizeof empty);
	rc = dev_snmp_apply(s, &sw, &empty, &st, &p, &rep, &e);
	result(rc == NETD_EPERM && strstr(e.msg, "port 23") && sets(s) == sent,
	       "guardrail: a PVID op on port 23 refused before any SET: %s", e.msg);
	dev_snmp_state_free(&st);
}

static void test_auth(struct dev_snmp *good)
{
	struct dev_snmp_cfg c = cfg_v3("wrongpass-123");
	struct dev_snmp *s = NULL;
	struct dev_snmp_state st;
	struct netd_err e = { 0 };
	int rc = dev_snmp_open(&c, &s, &e);
	result(rc == NETD_EAUTH && strstr(e.msg, "sw1") && strstr(e.msg, peer) && strstr(e.msg, "swadmin"),
	       "wrong auth key: %s: %s", netd_strerror(rc), e.msg);
	dev_snmp_close(s);
	memset(&e, 0, sizeof e);
	rc = dev_snmp_read(good, &sw, &st, &e);
	result(rc == 0, "the session with the right key still works after the wrong one: %s", rc ? e.msg : "ok");
	if (rc == 0)
		dev_snmp_state_free(&st);

	/* a second, fresh session with the right key after the wrong one */
	c = cfg_v3("authpass-123");
	memset(&e, 0, sizeof e);
	rc = dev_snmp_open(&c, &s, &e);
	result(rc == 0, "a new session with the right key opens: %s", rc ? e.msg : "ok");
	dev_snmp_close(s);

	c = cfg_v3("authpass-123");
	c.peer = "udp:127.0.0.1:9";
	c.timeout_ms = 200;
	c.retries = 0;
	memset(&e, 0, sizeof e);
	rc = dev_snmp_open(&c, &s, &e);
	result(rc == -ETIMEDOUT && strstr(e.msg, "sw1") && strstr(e.msg, "127.0.0.1:9"),
	       "unreachable switch: %s: %s", netd_strerror(rc), e.msg);
}

static void test_v2c(struct dev_snmp *v3, const struct dev_link *links, size_t nl, struct xsw *x)
{
	struct dev_snmp_cfg c = { .name = "sw1", .peer = peer, .version = DEV_SNMP_V2C,
				  .community = "swcommunity-789", .timeout_ms = 2000, .retries = 1 };
	struct dev_snmp *s = NULL;
	struct dev_snmp_state a, b;
	struct netd_err e = { 0 };
	int rc = dev_snmp_open(&c, &s, &e);
	if (rc)
		die("v2c open", &e);
	rc = dev_snmp_read(s, &sw, &a, &e) || dev_snmp_read(v3, &sw, &b, &e);
	bool same = !rc && a.actual.n_rows == b.actual.n_rows && a.n_ports == b.n_ports &&
		    !memcmp(a.actual.pvid, b.actual.pvid, sizeof a.actual.pvid) &&
		    !memcmp(a.ports, b.ports, a.n_ports * sizeof *a.ports);
	for (size_t i = 0; same && i < a.actual.n_rows; i++)
		same = !memcmp(&a.actual.rows[i], &b.actual.rows[i], sizeof a.actual.rows[i]);
	result(same, "v2c: reads the same state as v3 (%zu rows, %zu ports)", a.actual.n_rows, a.n_ports);
	dev_snmp_state_free(&a);
	dev_snmp_state_free(&b);

	/* and applies: db1 eth1 gets admin (VLAN 11) untagged too */
	struct dev_net admin11 = { "admin", 11, false }, both[] = { admin11, storage };
	struct dev_nic nics[] = {
		{ "web1", "eth0", "", 0, both, 2 }, { "db1", "eth0", "", 0, both, 2 },
		{ "db1", "eth1", "", 0, both, 2 },
	};
	struct dev_desired d;
	struct dev_snmp_report rep;
	if (desire(links, nl, nics, 3, &d, &e) != 0)
		die("v2c desired", &e);
	rc = dev_snmp_reconcile(s, &sw, &d, &rep, &e);
	result(rc == 0 && rep.verified && rep.set_pdus > 0, "v2c: apply %s (%u SET PDUs)", rc ? e.msg : "ok",
	       rep.set_pdus);
	dev_snmp_report_free(&rep);
	struct xrow *r11 = xrow(x, 11, ""), *r99 = xrow(x, 99, "");
	r11->egress[7] = r11->untagged[7] = true;
	r99->egress[7] = r99->untagged[7] = false;
	x->pvid[7] = 11;
	state_is(x, "v2c apply");
	dev_desired_free(&d);

	c.community = "wrong-community";
	c.timeout_ms = 300;
	c.retries = 0;
	dev_snmp_close(s);
	s = NULL;
	memset(&e, 0, sizeof e);
	rc = dev_snmp_open(&c, &s, &e);
	result(rc == -ETIMEDOUT && strstr(e.msg, "sw1") && strstr(e.msg, "community"),
	       "v2c wrong community: %s: %s", netd_strerror(rc), e.msg);
	dev_snmp_close(s);
}

static void test_readonly(const struct dev_link *links, size_t nl)
{
	struct dev_snmp_cfg c = { .name = "sw1", .peer = peer, .version = DEV_SNMP_V3, .user = "swread",
				  .auth = DEV_AUTH_SHA1, .auth_pass = "authpass-456", .priv = DEV_PRIV_AES128,
				  .priv_pass = "privpass-456", .timeout_ms = 2000, .retries = 1 };
	struct dev_net st_only[] = { storage };
	struct dev_nic nics[] = { { "db1", "eth1", "", 0, st_only, 1 } };
	struct dev_snmp *s = NULL;
	struct dev_snmp_state st;
	struct dev_desired d;
	struct dev_snmp_report rep;
	struct netd_err e = { 0 };

	if (dev_snmp_open(&c, &s, &e) != 0)
		die("read-only open", &e);
	int rc = dev_snmp_read(s, &sw, &st, &e);
	result(rc == 0 && st.actual.n_rows > 0, "read-only user (SHA/AES): reads %zu rows", rc ? 0 : st.actual.n_rows);
	if (rc == 0)
		dev_snmp_state_free(&st);
	/* only db1 eth1's port (7) is managed here: back to storage only */
	struct dev_link one[1];
	for (size_t i = 0; i < nl; i++)
		if (links[i].port == 7)
			one[0] = links[i];
	if (desire(one, 1, nics, 1, &d, &e) != 0)
		die("read-only desired", &e);
	char *before = dump();
	rc = dev_snmp_reconcile(s, &sw, &d, &rep, &e);
	char *after = dump();
	result((rc == NETD_EPERM || rc == NETD_EAUTH) && strstr(e.msg, "sw1") && strstr(e.msg, "noAccess") &&
		       rep.n_applied == 0 && !strcmp(before, after),
	       "read-only user: the SET refused, nothing applied: %s: %s", netd_strerror(rc), e.msg);
	dev_snmp_report_free(&rep);
	dev_desired_free(&d);
	free(before);
	free(after);
	dev_snmp_close(s);
}

struct reader {
	struct dev_snmp *s;
	int ok;
	size_t rows;
	uint16_t pvid[NPORTS + 1];
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;
	for (int i = 0; i < 10; i++) {
		struct dev_snmp_state st;
		struct netd_err e = { 0 };
		if (dev_snmp_read(r->s, &sw, &st, &e) != 0)
			return NULL;
		if (i == 0) {
			r->rows = st.actual.n_rows;
			memcpy(r->pvid, st.actual.pvid, sizeof r->pvid);
		}
		r->ok += st.actual.n_rows == r->rows && !memcmp(r->pvid, st.actual.pvid, sizeof r->pvid);
		dev_snmp_state_free(&st);
	}
	return NULL;
}

static void test_threads(void)
{
	struct dev_snmp_cfg c3 = cfg_v3("authpass-123");
	struct dev_snmp_cfg c2 = { .name = "sw1", .peer = peer, .version = DEV_SNMP_V2C,
				   .community = "swcommunity-789", .timeout_ms = 2000, .retries = 1 };
	struct reader r[2];
	pthread_t t[2];
	struct netd_err e = { 0 };
	memset(r, 0, sizeof r);
	if (dev_snmp_open(&c3, &r[0].s, &e) != 0 || dev_snmp_open(&c2, &r[1].s, &e) != 0)
		die("thread sessions", &e);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, read_loop, &r[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	result(r[0].ok == 10 && r[1].ok == 10 && r[0].rows == r[1].rows && !memcmp(r[0].pvid, r[1].pvid, sizeof r[0].pvid),
	       "two threads, two sessions (v3, v2c), 10 reads each: %d and %d good, same state", r[0].ok, r[1].ok);
	dev_snmp_close(r[0].s);
	dev_snmp_close(r[1].s);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: dev_snmp_test PORT STATE_JSON SWITCHSIM_PY\n");
		return 2;
	}
	port_arg = argv[1];
	state_file = argv[2];
	sim_py = argv[3];
	snprintf(peer, sizeof peer, "udp:127.0.0.1:%s", port_arg);

	struct dev_snmp_cfg c = cfg_v3("authpass-123");
	struct dev_snmp *s = NULL;
	struct netd_err e = { 0 };
	struct dev_link links[8];
	size_t nl = 0;
	struct xsw x;

	if (dev_snmp_open(&c, &s, &e) != 0)
		die("open", &e);
	result(true, "open: SNMPv3 authPriv SHA-256/AES to %s", peer);
	place_links();
	expect_initial(&x);
	state_is(&x, "initial");
	test_learn(s, links, &nl);
	if (nl != 4)
		die("learned links", NULL);
	test_apply(s, links, nl, &x);
	test_conflict(s, links, nl, &x);
	test_refusal(s, links, nl, &x);
	test_guardrails(s, links, nl);
	test_auth(s);
	test_v2c(s, links, nl, &x);
	test_readonly(links, nl);
	test_threads();
	dev_snmp_close(s);
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
