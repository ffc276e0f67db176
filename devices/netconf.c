/* devices/netconf.c — the NETCONF switch driver (see devices/nc.h).
 *
 * Layout: capabilities and model detection (pure), naming, planning and
 * the edit XML (pure), libyang trees -> plain data, then the I/O edge:
 * TCP + SSH with libssh (so that every failure has its own errno or auth
 * answer), the NETCONF session on libnetconf2 2.0 (nc_connect_libssh()
 * with an authenticated ssh_session; libnetconf2 builds the libyang context
 * with <get-schema>), RPCs with <rpc-error> translation (done here, once),
 * and the apply procedures for :candidate and :writable-running.
 */
#include "devices/nc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libyang/libyang.h>
#include <nc_client.h>

#include "core/model.h"

#define NS_OC_IF "http://openconfig.net/yang/interfaces"
#define NS_OC_ETH "http://openconfig.net/yang/interfaces/ethernet"
#define NS_OC_LAG "http://openconfig.net/yang/interfaces/aggregate"
#define NS_OC_VLAN "http://openconfig.net/yang/vlan"
#define NS_IANAIFT "urn:ietf:params:xml:ns:yang:iana-if-type"
#define NS_NC "urn:ietf:params:xml:ns:netconf:base:1.0"
#define NS_YANGLIB "urn:ietf:params:xml:ns:yang:ietf-yang-library"
#define NC_OP(op) "xmlns:nc=\"" NS_NC "\" nc:operation=\"" op "\""

#define CAP_PREFIX "urn:ietf:params:netconf:capability:"
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_CONFIRM_S 120

/* ================================================================ capabilities */

/* snprintf for labels and names, where cutting is fine. */
static void fmt_cut(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fmt_cut(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}


void dev_nc_caps_free(struct dev_nc_caps *c)
{
	if (!c)
		return;
	free(c->mods);
	memset(c, 0, sizeof *c);
}

const struct dev_nc_module *dev_nc_caps_module(const struct dev_nc_caps *c, const char *name)
{
	for (size_t i = 0; c && i < c->n_mods; i++)
		if (!strcmp(c->mods[i].name, name))
			return &c->mods[i];
	return NULL;
}

int dev_nc_caps_add(struct dev_nc_caps *c, const struct dev_nc_module *m)
{
	struct dev_nc_module *have = (struct dev_nc_module *)dev_nc_caps_module(c, m->name);
	if (have) {
		if (m->revision[0] && strcmp(m->revision, have->revision) >= 0)
			snprintf(have->revision, sizeof have->revision, "%s", m->revision);
		if (m->ns[0])
			snprintf(have->ns, sizeof have->ns, "%s", m->ns);
		if (m->deviated_by[0])
			snprintf(have->deviated_by, sizeof have->deviated_by, "%s", m->deviated_by);
		have->implemented = have->implemented || m->implemented;
		return 0;
	}
	if (c->n_mods >= DEV_NC_MAX_MODULES)
		return NETD_ETOOBIG;
	struct dev_nc_module *n = realloc(c->mods, (c->n_mods + 1) * sizeof *n);
	if (!n)
		return -ENOMEM;
	c->mods = n;
	c->mods[c->n_mods++] = *m;
	return 0;
}

/* The value of "key=" in the query part of a capability URI, into @buf. */
static bool cap_param(const char *query, const char *key, char *buf, size_t cap)
{
	size_t klen = strlen(key);
	for (const char *p = query; p && *p;) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = strcspn(v, "&");
			snprintf(buf, cap, "%.*s", (int)n, v);
			return true;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	if (cap)
		buf[0] = '\0';
	return false;
}

static void cap_flag(struct dev_nc_caps *c, const char *uri)
{
	static const struct {
		const char *name;
		size_t off;
	} flags[] = {
		{ "candidate:1.0", offsetof(struct dev_nc_caps, candidate) },
		{ "confirmed-commit:1.1", offsetof(struct dev_nc_caps, confirmed_commit) },
		{ "confirmed-commit:1.0", offsetof(struct dev_nc_caps, confirmed_commit10) },
		{ "validate:1.0", offsetof(struct dev_nc_caps, validate) },
		{ "validate:1.1", offsetof(struct dev_nc_caps, validate) },
		{ "writable-running:1.0", offsetof(struct dev_nc_caps, writable_running) },
		{ "rollback-on-error:1.0", offsetof(struct dev_nc_caps, rollback_on_error) },
		{ "yang-library:1.0", offsetof(struct dev_nc_caps, yang_library) },
		{ "yang-library:1.1", offsetof(struct dev_nc_caps, yang_library) },
	};
	const char *rest = uri + strlen(CAP_PREFIX);
	size_t n = strcspn(rest, "?");
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (strlen(flags[i].name) == n && !strncmp(rest, flags[i].name, n))
			*(bool *)((char *)c + flags[i].off) = true;
}

int dev_nc_caps_parse(const char *const *caps, struct dev_nc_caps *out)
{
	struct dev_nc_caps c = { 0 };
	int rc = 0;
	for (size_t i = 0; caps && caps[i]; i++) {
		const char *uri = caps[i], *q = strchr(uri, '?');
		struct dev_nc_module m = { .implemented = true };
		if (!strcmp(uri, "urn:ietf:params:netconf:base:1.1"))
			c.base11 = true;
		else if (!strncmp(uri, CAP_PREFIX, strlen(CAP_PREFIX)))
			cap_flag(&c, uri);
		if (!q || !cap_param(q + 1, "module", m.name, sizeof m.name) || !m.name[0])
			continue;
		cap_param(q + 1, "revision", m.revision, sizeof m.revision);
		snprintf(m.ns, sizeof m.ns, "%.*s", (int)(q - uri), uri);
		if ((rc = dev_nc_caps_add(&c, &m)) < 0)
			goto fail;
	}
	/* deviations=A,B on module X: X is deviated by A and B */
	for (size_t i = 0; caps && caps[i]; i++) {
		const char *q = strchr(caps[i], '?');
		char name[DEV_NC_MODNAME_MAX], devs[DEV_NC_NOTE_MAX];
		if (!q || !cap_param(q + 1, "module", name, sizeof name) || !cap_param(q + 1, "deviations", devs, sizeof devs))
			continue;
		struct dev_nc_module *m = (struct dev_nc_module *)dev_nc_caps_module(&c, name);
		if (m)
			snprintf(m->deviated_by, sizeof m->deviated_by, "%s", devs);
	}
	c.yuma = dev_nc_caps_module(&c, "yuma-ncx") != NULL;
	*out = c;
	return 0;
fail:
	dev_nc_caps_free(&c);
	return rc;
}

/* Append to a bounded buffer; once full, the text ends in "...". */
struct sbuf {
	char *p;
	size_t cap, len;
	bool cut;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->cut || b->cap == 0)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->cut = true;
		b->len = b->cap - 1;
		if (b->cap > 4)
			memcpy(b->p + b->cap - 4, "...", 4);
		return;
	}
	b->len += (size_t)n;
}

const char *dev_nc_caps_text(const struct dev_nc_caps *c, char *buf, size_t cap)
{
	struct sbuf b = { .p = buf, .cap = cap };
	if (cap)
		buf[0] = '\0';
	sb_add(&b, "%s%s%s%s%s%s", c->candidate ? ":candidate " : "",
	       c->confirmed_commit ? ":confirmed-commit:1.1 " : (c->confirmed_commit10 ? ":confirmed-commit:1.0 " : ""),
	       c->validate ? ":validate " : "", c->writable_running ? ":writable-running " : "",
	       c->yang_library ? ":yang-library " : "", c->rollback_on_error ? ":rollback-on-error " : "");
	sb_add(&b, "modules:");
	for (size_t i = 0; i < c->n_mods; i++)
		sb_add(&b, "%s %s%s%s", i ? "," : "", c->mods[i].name, c->mods[i].revision[0] ? "@" : "",
		       c->mods[i].revision);
	if (!c->n_mods)
		sb_add(&b, " none");
	return buf;
}

/* Advertised and implemented (a yang-library import-only entry does not count). */
static bool has_module(const struct dev_nc_caps *c, const char *name)
{
	const struct dev_nc_module *m = dev_nc_caps_module(c, name);
	return m && m->implemented;
}

int dev_nc_detect(const char *sw_name, const struct dev_nc_caps *c, struct dev_nc_model *out, struct netd_err *e)
{
	char text[NETD_ERR_MSG_MAX];
	if (has_module(c, "openconfig-interfaces") && has_module(c, "openconfig-if-ethernet") &&
	    has_module(c, "openconfig-vlan")) {
		struct dev_nc_model m = { .family = DEV_NC_FAMILY_OPENCONFIG };
		m.lag = has_module(c, "openconfig-if-aggregate");
		snprintf(m.vlan_module, sizeof m.vlan_module, "openconfig-vlan");
		*out = m;
		return 0;
	}
	dev_nc_caps_text(c, text, 300);
	return netd_err_set(e, NETD_EUNSUPPORTED, NULL,
			    "switch %s advertises no VLAN model netd knows (wanted openconfig-interfaces + "
			    "openconfig-if-ethernet + openconfig-vlan; capabilities: %s)",
			    sw_name, text);
}

/* ================================================================ state */

void dev_nc_state_free(struct dev_nc_state *st)
{
	if (!st)
		return;
	free(st->ifs);
	free(st->vlans);
	memset(st, 0, sizeof *st);
}

const struct dev_nc_if *dev_nc_state_if(const struct dev_nc_state *st, const char *name)
{
	for (size_t i = 0; st && i < st->n_ifs; i++)
		if (!strcmp(st->ifs[i].name, name))
			return &st->ifs[i];
	return NULL;
}

const struct dev_nc_vlan *dev_nc_state_vlan(const struct dev_nc_state *st, uint16_t id)
{
	for (size_t i = 0; st && i < st->n_vlans; i++)
		if (st->vlans[i].id == id)
			return &st->vlans[i];
	return NULL;
}

static int parse_vlan_id(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;
	if (len == 0 || len > 4)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < DEV_VLAN_MIN || v > DEV_VLAN_MAX)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int dev_nc_trunk_parse(const char *s, struct dev_vlanset *set, unsigned *count)
{
	const char *dots = strstr(s, "..");
	uint16_t a, b;
	if (!dots) {
		if (parse_vlan_id(s, strlen(s), &a) < 0)
			return NETD_ECORRUPT;
		b = a;
	} else if (parse_vlan_id(s, (size_t)(dots - s), &a) < 0 || parse_vlan_id(dots + 2, strlen(dots + 2), &b) < 0 ||
		   a > b) {
		return NETD_ECORRUPT;
	}
	for (unsigned v = a; v <= b; v++) {
		if (!dev_vlanset_test(set, v))
			(*count)++;
		dev_vlanset_add(set, v);
	}
	return 0;
}

bool dev_nc_swvlan_equal(const struct dev_nc_swvlan *a, const struct dev_nc_swvlan *b)
{
	return a->mode == b->mode && a->access_vlan == b->access_vlan && a->native_vlan == b->native_vlan &&
	       a->n_trunk == b->n_trunk && !memcmp(&a->trunk, &b->trunk, sizeof a->trunk);
}

void dev_nc_want_vlan(const struct dev_port_want *w, struct dev_nc_swvlan *out)
{
	memset(out, 0, sizeof *out);
	for (unsigned v = DEV_VLAN_MIN; v <= DEV_VLAN_MAX; v++)
		if (dev_vlanset_test(&w->tagged, v)) {
			dev_vlanset_add(&out->trunk, v);
			out->n_trunk++;
		}
	if (out->n_trunk) {
		out->mode = DEV_NC_MODE_TRUNK;
		out->native_vlan = w->pvid;
	} else {
		out->mode = DEV_NC_MODE_ACCESS;
		out->access_vlan = w->pvid;
	}
}

/* "ACCESS 10", "TRUNK native 10 tagged 20,30-40", "none". */
static const char *swvlan_text(const struct dev_nc_swvlan *v, char *buf, size_t cap)
{
	struct sbuf b = { .p = buf, .cap = cap };
	buf[0] = '\0';
	if (v->mode == DEV_NC_MODE_NONE && !v->access_vlan && !v->native_vlan && !v->n_trunk) {
		sb_add(&b, "none");
		return buf;
	}
	sb_add(&b, "%s", v->mode == DEV_NC_MODE_ACCESS ? "ACCESS" : v->mode == DEV_NC_MODE_TRUNK ? "TRUNK" : "no-mode");
	if (v->access_vlan)
		sb_add(&b, " %s%u", v->mode == DEV_NC_MODE_ACCESS ? "" : "access ", (unsigned)v->access_vlan);
	if (v->native_vlan)
		sb_add(&b, " native %u", (unsigned)v->native_vlan);
	if (v->n_trunk) {
		sb_add(&b, " tagged ");
		const char *sep = "";
		for (unsigned s = DEV_VLAN_MIN; s <= DEV_VLAN_MAX; s++) {
			if (!dev_vlanset_test(&v->trunk, s))
				continue;
			unsigned t = s;
			while (t + 1 <= DEV_VLAN_MAX && dev_vlanset_test(&v->trunk, t + 1))
				t++;
			if (t == s)
				sb_add(&b, "%s%u", sep, s);
			else
				sb_add(&b, "%s%u-%u", sep, s, t);
			sep = ",";
			s = t;
		}
	}
	return buf;
}

/* ================================================================ naming */

/* @fmt must hold exactly one %u and no other conversion. */
static bool one_u(const char *fmt)
{
	unsigned n = 0;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		if (p[1] != 'u')
			return false;
		n++;
		p++;
	}
	return n == 1;
}

int dev_nc_port_name(const struct dev_nc_cfg *cfg, unsigned port, bool lag, char *buf, size_t cap)
{
	const char *fmt = lag ? (cfg->lag_format ? cfg->lag_format : "lag%u") : (cfg->port_format ? cfg->port_format : "eth%u");
	if (!lag && port >= 1 && port <= cfg->n_port_names && cfg->port_names && cfg->port_names[port - 1]) {
		int n = snprintf(buf, cap, "%s", cfg->port_names[port - 1]);
		return n > 0 && (size_t)n < cap ? 0 : NETD_EINVAL;
	}
	if (!one_u(fmt))
		return NETD_EINVAL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	int n = snprintf(buf, cap, fmt, port);
#pragma GCC diagnostic pop
	return n > 0 && (size_t)n < cap ? 0 : NETD_EINVAL;
}

/* ================================================================ planning */

struct planner {
	const struct dev_switch *sw;
	const struct dev_nc_cfg *cfg;
	const struct dev_nc_model *m;
	const struct dev_desired *d;
	const struct dev_nc_state *st;
	struct dev_nc_plan p;
	struct dev_vlanset used;          /* VLANs some port carries after the edit */
	struct dev_vlanset wanted;        /* VLANs managed ports want */
	char (*names)[DEV_NC_IFNAME_MAX]; /* interface name of d->ports[i] */
	int *in_lag;                      /* d->ports[i] -> index into d->lags configured, or -1 */
	struct netd_err *e;
};

static bool in_ranges(const struct dev_range *r, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (v >= r[i].first && v <= r[i].last)
			return true;
	return false;
}

static int add_change(struct planner *pl, const struct dev_nc_change *c)
{
	struct dev_nc_change *n = realloc(pl->p.changes, (pl->p.n_changes + 1) * sizeof *n);
	if (!n)
		return netd_err_set(pl->e, -ENOMEM, NULL, "switch %s: out of memory", pl->sw->name);
	pl->p.changes = n;
	pl->p.changes[pl->p.n_changes++] = *c;
	return 0;
}

static int add_note(struct planner *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_note(struct planner *pl, const char *fmt, ...)
{
	va_list ap;
	char (*n)[DEV_NC_NOTE_MAX] = realloc(pl->p.notes, (pl->p.n_notes + 1) * sizeof *n);
	if (!n)
		return netd_err_set(pl->e, -ENOMEM, NULL, "switch %s: out of memory", pl->sw->name);
	pl->p.notes = n;
	va_start(ap, fmt);
	vsnprintf(pl->p.notes[pl->p.n_notes++], DEV_NC_NOTE_MAX, fmt, ap);
	va_end(ap);
	return 0;
}

static void use_swvlan(struct dev_vlanset *set, const struct dev_nc_swvlan *v)
{
	if (v->access_vlan)
		dev_vlanset_add(set, v->access_vlan);
	if (v->native_vlan)
		dev_vlanset_add(set, v->native_vlan);
	for (unsigned s = DEV_VLAN_MIN; v->n_trunk && s <= DEV_VLAN_MAX; s++)
		if (dev_vlanset_test(&v->trunk, s))
			dev_vlanset_add(set, s);
}

static const char *lag_type_name(enum dev_nc_lag_type t)
{
	return t == DEV_NC_LAG_LACP ? "LACP" : t == DEV_NC_LAG_STATIC ? "STATIC" : "none";
}

/* Which LAG requirements get configured; note the others. */
static int plan_lag_choice(struct planner *pl)
{
	for (size_t i = 0; i < pl->d->n_ports; i++)
		pl->in_lag[i] = -1;
	for (size_t l = 0; l < pl->d->n_lags; l++) {
		const struct dev_lag *lag = &pl->d->lags[l];
		char ports[64] = "";
		struct sbuf b = { .p = ports, .cap = sizeof ports };
		for (size_t k = 0; k < lag->n_ports; k++)
			sb_add(&b, "%s%u", k ? ", " : "", lag->ports[k]);
		if (!pl->m->lag) {
			if (add_note(pl, "bond %s of node %s (ports %s): switch %s does not advertise openconfig-if-aggregate; "
					 "LAG not configured, ports set one by one", lag->bond, lag->node, ports, pl->sw->name) < 0)
				return -1;
			continue;
		}
		const struct dev_port_want *first = NULL;
		size_t idx[DEV_LAG_PORTS_MAX];
		bool same = lag->n_ports >= 2;
		for (size_t k = 0; k < lag->n_ports && same; k++) {
			same = false;
			for (size_t i = 0; i < pl->d->n_ports; i++)
				if (pl->d->ports[i].port == lag->ports[k]) {
					const struct dev_port_want *w = &pl->d->ports[i];
					idx[k] = i;
					same = !first || (w->pvid == first->pvid && !memcmp(&w->tagged, &first->tagged, sizeof w->tagged));
					first = first ? first : w;
					break;
				}
		}
		if (!same) {
			if (add_note(pl, "bond %s of node %s (ports %s): members want different VLANs; LAG not configured",
				     lag->bond, lag->node, ports) < 0)
				return -1;
			continue;
		}
		for (size_t k = 0; k < lag->n_ports; k++)
			pl->in_lag[idx[k]] = (int)l;
	}
	return 0;
}

static int plan_port(struct planner *pl, size_t i)
{
	const struct dev_port_want *w = &pl->d->ports[i];
	const struct dev_nc_if *have = dev_nc_state_if(pl->st, pl->names[i]);
	struct dev_nc_change c = { .kind = DEV_NC_PORT, .port = w->port };
	char a[96], b[96];
	dev_nc_want_vlan(w, &c.want);
	use_swvlan(&pl->used, &c.want);
	if (have)
		c.have = have->vlan;
	c.create_if = !have;
	c.leave_lag = have && have->aggregate_id[0];
	if (have && !c.leave_lag && dev_nc_swvlan_equal(&c.have, &c.want))
		return 0;
	snprintf(c.ifname, sizeof c.ifname, "%s", pl->names[i]);
	fmt_cut(c.label, sizeof c.label, "%s: %s (was %s%s%s)", c.ifname, swvlan_text(&c.want, a, sizeof a),
		 have ? swvlan_text(&c.have, b, sizeof b) : "absent", c.leave_lag ? ", leaves " : "",
		 c.leave_lag ? have->aggregate_id : "");
	return add_change(pl, &c);
}

static int plan_lag(struct planner *pl, size_t l)
{
	const struct dev_lag *lag = &pl->d->lags[l];
	struct dev_nc_change c = { .kind = DEV_NC_LAG, .port = DEV_PORTS_MAX + 1 };
	size_t first = SIZE_MAX;
	char a[96], b[96];
	for (size_t i = 0; i < pl->d->n_ports; i++)
		if (pl->in_lag[i] == (int)l && pl->d->ports[i].port < c.port) {
			c.port = pl->d->ports[i].port;
			first = i;
		}
	if (first == SIZE_MAX)
		return 0;
	if (dev_nc_port_name(pl->cfg, c.port, true, c.ifname, sizeof c.ifname) < 0)
		return netd_err_set(pl->e, NETD_EINVAL, NULL, "switch %s: lag_format does not give a name for port %u",
				    pl->sw->name, c.port);
	c.lag_type = lag->team_mode == TEAM_802_3AD ? DEV_NC_LAG_LACP : DEV_NC_LAG_STATIC;
	dev_nc_want_vlan(&pl->d->ports[first], &c.want);
	use_swvlan(&pl->used, &c.want);
	const struct dev_nc_if *have = dev_nc_state_if(pl->st, c.ifname);
	if (have)
		c.have = have->vlan;
	c.create_if = !have;
	if (!have || !have->is_lag || have->lag_type != c.lag_type || !dev_nc_swvlan_equal(&c.have, &c.want)) {
		fmt_cut(c.label, sizeof c.label, "%s: %s %s (was %s) for bond %s of %s", c.ifname, lag_type_name(c.lag_type),
			 swvlan_text(&c.want, a, sizeof a), have ? swvlan_text(&c.have, b, sizeof b) : "absent", lag->bond,
			 lag->node);
		if (add_change(pl, &c) < 0)
			return -1;
	}
	for (size_t i = 0; i < pl->d->n_ports; i++) {
		if (pl->in_lag[i] != (int)l)
			continue;
		const struct dev_nc_if *m = dev_nc_state_if(pl->st, pl->names[i]);
		struct dev_nc_change mc = { .kind = DEV_NC_MEMBER, .port = pl->d->ports[i].port };
		mc.create_if = !m;
		mc.drop_vlan = m && m->has_vlan;
		if (m && !strcmp(m->aggregate_id, c.ifname) && !m->has_vlan)
			continue;
		snprintf(mc.ifname, sizeof mc.ifname, "%s", pl->names[i]);
		snprintf(mc.lag, sizeof mc.lag, "%s", c.ifname);
		fmt_cut(mc.label, sizeof mc.label, "%s: member of %s", mc.ifname, mc.lag);
		if (add_change(pl, &mc) < 0)
			return -1;
	}
	return 0;
}

static bool managed_if(const struct planner *pl, const char *name)
{
	for (size_t i = 0; i < pl->d->n_ports; i++)
		if (!strcmp(pl->names[i], name))
			return true;
	for (size_t c = 0; c < pl->p.n_changes; c++)
		if (pl->p.changes[c].kind == DEV_NC_LAG && !strcmp(pl->p.changes[c].ifname, name))
			return true;
	return false;
}

static int plan_vlans(struct planner *pl)
{
	/* what unmanaged interfaces keep using */
	for (size_t i = 0; i < pl->st->n_ifs; i++)
		if (!managed_if(pl, pl->st->ifs[i].name))
			use_swvlan(&pl->used, &pl->st->ifs[i].vlan);
	struct dev_nc_change *port_changes = pl->p.changes;
	size_t n = pl->p.n_changes;
	pl->p.changes = NULL;
	pl->p.n_changes = 0;
	int rc = 0;
	for (unsigned v = DEV_VLAN_MIN; v <= DEV_VLAN_MAX && rc == 0; v++) {
		if (!dev_vlanset_test(&pl->wanted, v) || dev_nc_state_vlan(pl->st, (uint16_t)v))
			continue;
		struct dev_nc_change c = { .kind = DEV_NC_VLAN_CREATE, .vlan = (uint16_t)v };
		const char *net = pl->d->vlan_net ? pl->d->vlan_net[v] : "";
		snprintf(c.name, sizeof c.name, "%s%s", DEV_OWNED_PREFIX, net[0] ? net : "idle");
		fmt_cut(c.label, sizeof c.label, "VLAN %u: create %s", v, c.name);
		rc = add_change(pl, &c);
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_change(pl, &port_changes[i]);
	for (size_t i = 0; i < pl->st->n_vlans && rc == 0; i++) {
		const struct dev_nc_vlan *v = &pl->st->vlans[i];
		if (!dev_vlan_owned(v->name) || !in_ranges(pl->sw->vlans, pl->sw->n_vlans, v->id) ||
		    dev_vlanset_test(&pl->used, v->id))
			continue;
		struct dev_nc_change c = { .kind = DEV_NC_VLAN_DELETE, .vlan = v->id };
		snprintf(c.name, sizeof c.name, "%s", v->name);
		fmt_cut(c.label, sizeof c.label, "VLAN %u: delete %s (unused)", (unsigned)v->id, v->name);
		rc = add_change(pl, &c);
	}
	free(port_changes);
	return rc;
}

/* Every change on an allowed port and VLAN (dev_desired() promises it). */
static int plan_check(struct planner *pl)
{
	for (size_t i = 0; i < pl->p.n_changes; i++) {
		const struct dev_nc_change *c = &pl->p.changes[i];
		struct dev_vlanset s = { 0 };
		if ((c->kind == DEV_NC_PORT || c->kind == DEV_NC_MEMBER) &&
		    !in_ranges(pl->sw->ports, pl->sw->n_ports, c->port))
			return netd_err_set(pl->e, NETD_EPERM, NULL, "switch %s: port %u (%s) is not in the allowed ports",
					    pl->sw->name, c->port, c->ifname);
		if (c->kind == DEV_NC_VLAN_CREATE || c->kind == DEV_NC_VLAN_DELETE)
			dev_vlanset_add(&s, c->vlan);
		use_swvlan(&s, &c->want);
		for (unsigned v = DEV_VLAN_MIN; v <= DEV_VLAN_MAX; v++)
			if (dev_vlanset_test(&s, v) && !in_ranges(pl->sw->vlans, pl->sw->n_vlans, v))
				return netd_err_set(pl->e, NETD_EPERM, NULL, "switch %s: %s: VLAN %u is not in the allowed VLANs",
						    pl->sw->name, c->label, v);
	}
	return 0;
}

int dev_nc_plan(const struct dev_switch *sw, const struct dev_nc_cfg *cfg, const struct dev_nc_model *m,
		const struct dev_desired *d, const struct dev_nc_state *st, struct dev_nc_plan *out, struct netd_err *e)
{
	struct planner pl = { .sw = sw, .cfg = cfg, .m = m, .d = d, .st = st, .e = e };
	int rc = 0;
	if (m->family != DEV_NC_FAMILY_OPENCONFIG)
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: no model family to plan for", sw->name);
	pl.names = calloc(d->n_ports ? d->n_ports : 1, sizeof *pl.names);
	pl.in_lag = calloc(d->n_ports ? d->n_ports : 1, sizeof *pl.in_lag);
	if (!pl.names || !pl.in_lag) {
		rc = netd_err_set(e, -ENOMEM, NULL, "switch %s: out of memory", sw->name);
		goto cleanup;
	}
	for (size_t i = 0; i < d->n_ports; i++) {
		if (dev_nc_port_name(cfg, d->ports[i].port, false, pl.names[i], sizeof pl.names[i]) < 0) {
			rc = netd_err_set(e, NETD_EINVAL, NULL, "switch %s: no interface name for port %u (port_format %s)",
					  sw->name, d->ports[i].port, cfg->port_format ? cfg->port_format : "eth%u");
			goto cleanup;
		}
		struct dev_nc_swvlan w;
		dev_nc_want_vlan(&d->ports[i], &w);
		use_swvlan(&pl.wanted, &w);
	}
	if ((rc = plan_lag_choice(&pl)) < 0)
		goto cleanup;
	for (size_t i = 0; i < d->n_ports && rc == 0; i++)
		if (pl.in_lag[i] < 0)
			rc = plan_port(&pl, i);
	for (size_t l = 0; l < d->n_lags && rc == 0; l++)
		rc = plan_lag(&pl, l);
	if (rc == 0)
		rc = plan_vlans(&pl);
	if (rc == 0)
		rc = plan_check(&pl);
	if (rc < 0)
		goto cleanup;
	*out = pl.p;
	memset(&pl.p, 0, sizeof pl.p);
cleanup:
	dev_nc_plan_free(&pl.p);
	free(pl.names);
	free(pl.in_lag);
	return rc;
}

void dev_nc_plan_free(struct dev_nc_plan *p)
{
	if (!p)
		return;
	free(p->changes);
	free(p->notes);
	memset(p, 0, sizeof *p);
}

const char *dev_nc_plan_text(const struct dev_nc_plan *p, char *buf, size_t cap)
{
	struct sbuf b = { .p = buf, .cap = cap };
	if (cap)
		buf[0] = '\0';
	sb_add(&b, "%zu change%s", p->n_changes, p->n_changes == 1 ? "" : "s");
	for (size_t i = 0; i < p->n_changes; i++)
		sb_add(&b, "%s%s", i ? "; " : ": ", p->changes[i].label);
	return buf;
}

/* ================================================================ edit XML */

/* A growing heap string; a failed append sets @oom. */
struct xbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void xb_add(struct xbuf *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void xb_add(struct xbuf *x, const char *fmt, ...)
{
	va_list ap;
	if (x->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(x->p ? x->p + x->len : NULL, x->p ? x->cap - x->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			x->oom = true;
			return;
		}
		if (x->p && (size_t)n < x->cap - x->len) {
			x->len += (size_t)n;
			return;
		}
		size_t cap = x->cap ? x->cap * 2 : 1024;
		while (cap < x->len + (size_t)n + 1)
			cap *= 2;
		char *np = realloc(x->p, cap);
		if (!np) {
			x->oom = true;
			return;
		}
		x->p = np;
		x->cap = cap;
	}
}

static void xb_text(struct xbuf *x, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': xb_add(x, "&amp;"); break;
		case '<': xb_add(x, "&lt;"); break;
		case '>': xb_add(x, "&gt;"); break;
		case '"': xb_add(x, "&quot;"); break;
		case '\'': xb_add(x, "&apos;"); break;
		default: xb_add(x, "%c", *s); break;
		}
	}
}

static void xml_swvlan_config(struct xbuf *x, const struct dev_nc_swvlan *v)
{
	xb_add(x, "<switched-vlan xmlns=\"" NS_OC_VLAN "\"><config " NC_OP("replace") ">");
	if (v->mode == DEV_NC_MODE_ACCESS) {
		xb_add(x, "<interface-mode>ACCESS</interface-mode><access-vlan>%u</access-vlan>", (unsigned)v->access_vlan);
	} else {
		xb_add(x, "<interface-mode>TRUNK</interface-mode><native-vlan>%u</native-vlan>", (unsigned)v->native_vlan);
		for (unsigned s = DEV_VLAN_MIN; s <= DEV_VLAN_MAX; s++) {
			if (!dev_vlanset_test(&v->trunk, s))
				continue;
			unsigned t = s;
			while (t + 1 <= DEV_VLAN_MAX && dev_vlanset_test(&v->trunk, t + 1))
				t++;
			if (t - s >= 2) {
				xb_add(x, "<trunk-vlans>%u..%u</trunk-vlans>", s, t);
			} else {
				for (unsigned u = s; u <= t; u++)
					xb_add(x, "<trunk-vlans>%u</trunk-vlans>", u);
			}
			s = t;
		}
	}
	xb_add(x, "</config></switched-vlan>");
}

static void xml_if_head(struct xbuf *x, const struct dev_nc_change *c, const char *type)
{
	xb_add(x, "<interface><name>");
	xb_text(x, c->ifname);
	xb_add(x, "</name>");
	if (c->create_if) {
		xb_add(x, "<config><name>");
		xb_text(x, c->ifname);
		xb_add(x, "</name><type xmlns:ianaift=\"" NS_IANAIFT "\">ianaift:%s</type></config>", type);
	}
}

static void xml_change_if(struct xbuf *x, const struct dev_nc_change *c)
{
	switch (c->kind) {
	case DEV_NC_PORT:
		xml_if_head(x, c, "ethernetCsmacd");
		xb_add(x, "<ethernet xmlns=\"" NS_OC_ETH "\">");
		if (c->leave_lag)
			xb_add(x, "<config><aggregate-id xmlns=\"" NS_OC_LAG "\" " NC_OP("remove") "/></config>");
		xml_swvlan_config(x, &c->want);
		xb_add(x, "</ethernet></interface>");
		break;
	case DEV_NC_MEMBER:
		xml_if_head(x, c, "ethernetCsmacd");
		xb_add(x, "<ethernet xmlns=\"" NS_OC_ETH "\"><config><aggregate-id xmlns=\"" NS_OC_LAG "\">");
		xb_text(x, c->lag);
		xb_add(x, "</aggregate-id></config>");
		if (c->drop_vlan)
			xb_add(x, "<switched-vlan xmlns=\"" NS_OC_VLAN "\" " NC_OP("remove") "/>");
		xb_add(x, "</ethernet></interface>");
		break;
	case DEV_NC_LAG:
		xml_if_head(x, c, "ieee8023adLag");
		xb_add(x, "<aggregation xmlns=\"" NS_OC_LAG "\"><config><lag-type>%s</lag-type></config>",
		       lag_type_name(c->lag_type));
		xml_swvlan_config(x, &c->want);
		xb_add(x, "</aggregation></interface>");
		break;
	default:
		break;
	}
}

int dev_nc_edit_xml(const struct dev_nc_plan *p, char **ret)
{
	struct xbuf x = { 0 };
	bool ifs = false, vlans = false;
	*ret = NULL;
	for (size_t i = 0; i < p->n_changes; i++) {
		enum dev_nc_change_kind k = p->changes[i].kind;
		ifs = ifs || k == DEV_NC_PORT || k == DEV_NC_LAG || k == DEV_NC_MEMBER;
		vlans = vlans || k == DEV_NC_VLAN_CREATE || k == DEV_NC_VLAN_DELETE;
	}
	if (!ifs && !vlans)
		return 0;
	if (ifs) {
		xb_add(&x, "<interfaces xmlns=\"" NS_OC_IF "\">");
		/* a LAG before its members (the members' aggregate-id refers to it) */
		for (size_t i = 0; i < p->n_changes; i++)
			if (p->changes[i].kind == DEV_NC_LAG)
				xml_change_if(&x, &p->changes[i]);
		for (size_t i = 0; i < p->n_changes; i++)
			if (p->changes[i].kind != DEV_NC_LAG)
				xml_change_if(&x, &p->changes[i]);
		xb_add(&x, "</interfaces>");
	}
	if (vlans) {
		xb_add(&x, "<vlans xmlns=\"" NS_OC_VLAN "\">");
		for (size_t i = 0; i < p->n_changes; i++) {
			const struct dev_nc_change *c = &p->changes[i];
			if (c->kind == DEV_NC_VLAN_CREATE) {
				xb_add(&x, "<vlan><vlan-id>%u</vlan-id><config><vlan-id>%u</vlan-id><name>", (unsigned)c->vlan,
				       (unsigned)c->vlan);
				xb_text(&x, c->name);
				xb_add(&x, "</name></config></vlan>");
			} else if (c->kind == DEV_NC_VLAN_DELETE) {
				xb_add(&x, "<vlan " NC_OP("delete") "><vlan-id>%u</vlan-id></vlan>", (unsigned)c->vlan);
			}
		}
		xb_add(&x, "</vlans>");
	}
	if (x.oom) {
		free(x.p);
		return -ENOMEM;
	}
	*ret = x.p;
	return 0;
}

/* ================================================================ libyang trees */

static const struct lyd_node *child(const struct lyd_node *parent, const char *module, const char *name)
{
	const struct lyd_node *n;
	LY_LIST_FOR(lyd_child(parent), n) {
		/* implicit nodes (non-presence containers libyang made, default
		 * values) are not configuration the switch holds */
		if (n->schema && !(n->flags & LYD_DEFAULT) && !strcmp(n->schema->name, name) &&
		    !strcmp(n->schema->module->name, module))
			return n;
	}
	return NULL;
}

static const char *child_value(const struct lyd_node *parent, const char *module, const char *name)
{
	const struct lyd_node *n = child(parent, module, name);
	return n ? lyd_get_value(n) : NULL;
}

static int swvlan_from_tree(const char *sw_name, const char *ifname, const struct lyd_node *sv,
			    struct dev_nc_swvlan *out, struct netd_err *e)
{
	const struct lyd_node *cfg = child(sv, "openconfig-vlan", "config"), *n;
	const char *v;
	memset(out, 0, sizeof *out);
	if (!cfg)
		return 0;
	if ((v = child_value(cfg, "openconfig-vlan", "interface-mode")))
		out->mode = !strcmp(v, "ACCESS") ? DEV_NC_MODE_ACCESS : !strcmp(v, "TRUNK") ? DEV_NC_MODE_TRUNK : DEV_NC_MODE_NONE;
	if ((v = child_value(cfg, "openconfig-vlan", "access-vlan")) && parse_vlan_id(v, strlen(v), &out->access_vlan) < 0)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "switch %s: %s: access-vlan '%s' is not a VLAN", sw_name, ifname, v);
	if ((v = child_value(cfg, "openconfig-vlan", "native-vlan")) && parse_vlan_id(v, strlen(v), &out->native_vlan) < 0)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "switch %s: %s: native-vlan '%s' is not a VLAN", sw_name, ifname, v);
	LY_LIST_FOR(lyd_child(cfg), n) {
		if (!n->schema || strcmp(n->schema->name, "trunk-vlans"))
			continue;
		if (dev_nc_trunk_parse(lyd_get_value(n), &out->trunk, &out->n_trunk) < 0)
			return netd_err_set(e, NETD_ECORRUPT, NULL, "switch %s: %s: trunk-vlans '%s' is neither a VLAN nor a range",
					    sw_name, ifname, lyd_get_value(n));
	}
	return 0;
}

static int if_from_tree(const char *sw_name, const struct lyd_node *in, struct dev_nc_if *out, struct netd_err *e)
{
	const char *name = child_value(in, "openconfig-interfaces", "name"), *v;
	const struct lyd_node *cfg = child(in, "openconfig-interfaces", "config");
	const struct lyd_node *eth = child(in, "openconfig-if-ethernet", "ethernet");
	const struct lyd_node *agg = child(in, "openconfig-if-aggregate", "aggregation"), *sv = NULL;
	memset(out, 0, sizeof *out);
	if (!name || strlen(name) >= sizeof out->name)
		return netd_err_set(e, NETD_ECORRUPT, NULL, "switch %s: an interface without a usable name", sw_name);
	snprintf(out->name, sizeof out->name, "%s", name);
	if (cfg && (v = child_value(cfg, "openconfig-interfaces", "type"))) {
		const char *colon = strchr(v, ':');
		out->is_lag = !strcmp(colon ? colon + 1 : v, "ieee8023adLag");
	}
	if (eth) {
		const struct lyd_node *ec = child(eth, "openconfig-if-ethernet", "config");
		if (ec && (v = child_value(ec, "openconfig-if-aggregate", "aggregate-id")))
			snprintf(out->aggregate_id, sizeof out->aggregate_id, "%s", v);
		sv = child(eth, "openconfig-vlan", "switched-vlan");
	}
	if (agg) {
		const struct lyd_node *ac = child(agg, "openconfig-if-aggregate", "config"), *asv;
		if (ac && (v = child_value(ac, "openconfig-if-aggregate", "lag-type")))
			out->lag_type = !strcmp(v, "LACP") ? DEV_NC_LAG_LACP : DEV_NC_LAG_STATIC;
		if ((asv = child(agg, "openconfig-vlan", "switched-vlan")) && (out->is_lag || !sv))
			sv = asv;   /* an aggregate's VLANs sit on its aggregation */
	}
	out->has_vlan = sv != NULL;
	return sv ? swvlan_from_tree(sw_name, out->name, sv, &out->vlan, e) : 0;
}

static int vlans_from_tree(const char *sw_name, const struct lyd_node *top, struct dev_nc_state *st, struct netd_err *e)
{
	const struct lyd_node *n;
	LY_LIST_FOR(lyd_child(top), n) {
		if (!n->schema || strcmp(n->schema->name, "vlan"))
			continue;
		const char *id = child_value(n, "openconfig-vlan", "vlan-id"), *name = NULL;
		const struct lyd_node *cfg = child(n, "openconfig-vlan", "config");
		struct dev_nc_vlan v = { 0 };
		if (!id || parse_vlan_id(id, strlen(id), &v.id) < 0)
			return netd_err_set(e, NETD_ECORRUPT, NULL, "switch %s: a VLAN entry with id '%s'", sw_name, id ? id : "");
		if (cfg)
			name = child_value(cfg, "openconfig-vlan", "name");
		snprintf(v.name, sizeof v.name, "%.32s", name ? name : "");
		if (st->n_vlans >= DEV_VLAN_MAX)
			return netd_err_set(e, NETD_ETOOBIG, NULL, "switch %s: too many VLANs", sw_name);
		struct dev_nc_vlan *nv = realloc(st->vlans, (st->n_vlans + 1) * sizeof *nv);
		if (!nv)
			return netd_err_set(e, -ENOMEM, NULL, "switch %s: out of memory", sw_name);
		st->vlans = nv;
		st->vlans[st->n_vlans++] = v;
	}
	return 0;
}

static int ifs_from_tree(const char *sw_name, const struct lyd_node *top, struct dev_nc_state *st, struct netd_err *e)
{
	const struct lyd_node *n;
	LY_LIST_FOR(lyd_child(top), n) {
		if (!n->schema || strcmp(n->schema->name, "interface"))
			continue;
		if (st->n_ifs >= DEV_NC_MAX_IFS)
			return netd_err_set(e, NETD_ETOOBIG, NULL, "switch %s: more than %d interfaces", sw_name, DEV_NC_MAX_IFS);
		struct dev_nc_if *ni = realloc(st->ifs, (st->n_ifs + 1) * sizeof *ni);
		if (!ni)
			return netd_err_set(e, -ENOMEM, NULL, "switch %s: out of memory", sw_name);
		st->ifs = ni;
		int rc = if_from_tree(sw_name, n, &st->ifs[st->n_ifs], e);
		if (rc < 0)
			return rc;
		st->n_ifs++;
	}
	return 0;
}

int dev_nc_state_from_tree(const char *sw_name, const struct lyd_node *tree, struct dev_nc_state *out,
			   struct netd_err *e)
{
	struct dev_nc_state st = { 0 };
	const struct lyd_node *top;
	int rc = 0;
	LY_LIST_FOR(tree, top) {
		if (!top->schema)
			continue;
		const char *mod = top->schema->module->name, *name = top->schema->name;
		if (!strcmp(mod, "openconfig-interfaces") && !strcmp(name, "interfaces"))
			rc = ifs_from_tree(sw_name, top, &st, e);
		else if (!strcmp(mod, "openconfig-vlan") && !strcmp(name, "vlans"))
			rc = vlans_from_tree(sw_name, top, &st, e);
		if (rc < 0) {
			dev_nc_state_free(&st);
			return rc;
		}
	}
	*out = st;
	return 0;
}

/* One yang-library module entry (modules-state/module or module-set/module). */
static int yanglib_module(struct dev_nc_caps *c, const struct lyd_node *m, bool implemented)
{
	struct dev_nc_module mod = { .implemented = implemented };
	const char *v;
	const struct lyd_node *n;
	if (!(v = child_value(m, "ietf-yang-library", "name")))
		return 0;
	snprintf(mod.name, sizeof mod.name, "%s", v);
	if ((v = child_value(m, "ietf-yang-library", "revision")))
		snprintf(mod.revision, sizeof mod.revision, "%s", v);
	if ((v = child_value(m, "ietf-yang-library", "namespace")))
		snprintf(mod.ns, sizeof mod.ns, "%s", v);
	if ((v = child_value(m, "ietf-yang-library", "conformance-type")))
		mod.implemented = !strcmp(v, "implement");
	struct sbuf b = { .p = mod.deviated_by, .cap = sizeof mod.deviated_by };
	LY_LIST_FOR(lyd_child(m), n) {
		if (!n->schema || strcmp(n->schema->name, "deviation"))
			continue;
		/* 2016: a list keyed by name; 2019: a leaf-list of module names */
		const char *dn = (n->schema->nodetype == LYS_LIST) ? child_value(n, "ietf-yang-library", "name") : lyd_get_value(n);
		if (dn)
			sb_add(&b, "%s%s", b.len ? "," : "", dn);
	}
	return dev_nc_caps_add(c, &mod);
}

int dev_nc_caps_add_yanglib(struct dev_nc_caps *c, const struct lyd_node *tree)
{
	const struct lyd_node *top, *n, *set;
	int rc = 0;
	LY_LIST_FOR(tree, top) {
		if (!top->schema || strcmp(top->schema->module->name, "ietf-yang-library"))
			continue;
		if (!strcmp(top->schema->name, "modules-state")) {
			LY_LIST_FOR(lyd_child(top), n)
				if (n->schema && !strcmp(n->schema->name, "module") && (rc = yanglib_module(c, n, true)) < 0)
					return rc;
		} else if (!strcmp(top->schema->name, "yang-library")) {
			LY_LIST_FOR(lyd_child(top), set) {
				if (!set->schema || strcmp(set->schema->name, "module-set"))
					continue;
				LY_LIST_FOR(lyd_child(set), n) {
					if (!n->schema)
						continue;
					bool impl = !strcmp(n->schema->name, "module");
					if ((impl || !strcmp(n->schema->name, "import-only-module")) &&
					    (rc = yanglib_module(c, n, impl)) < 0)
						return rc;
				}
			}
		}
	}
	return 0;
}

/* ================================================================ the session */

struct dev_nc {
	struct nc_session *ns;
	char name[DEV_NAME_MAX];
	char addr[300];                  /* "host port N" for messages */
	struct dev_nc_cfg cfg;           /* copy; naming pointers borrowed (see dev_nc_open) */
	struct dev_nc_caps caps;
	struct dev_nc_model model;
	struct dev_nc_stats stats;
	int timeout_ms;
	bool pending;                    /* a confirmed commit of ours awaits confirmation */
	struct dev_nc_state pending_state; /* running as read back after it */
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init_once(void)
{
	nc_client_init();
}

void dev_nc_lib_init(void)
{
	pthread_once(&lib_once, lib_init_once);
}

const struct dev_nc_caps *dev_nc_caps(const struct dev_nc *s)
{
	return &s->caps;
}

const struct dev_nc_model *dev_nc_model(const struct dev_nc *s)
{
	return &s->model;
}

uint32_t dev_nc_session_id(const struct dev_nc *s)
{
	return nc_session_get_id(s->ns);
}

void dev_nc_stats(const struct dev_nc *s, struct dev_nc_stats *out)
{
	*out = s->stats;
}

/* ---- TCP and SSH ---- */

/* A TCP connection to @host:@port within @timeout_ms; the fd or -errno. */
static int tcp_connect(const char *host, unsigned port, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC }, *res = NULL;
	char ps[16];
	int err = -EHOSTUNREACH;
	snprintf(ps, sizeof ps, "%u", port);
	int g = getaddrinfo(host, ps, &hints, &res);
	if (g != 0)
		return g == EAI_SYSTEM ? -errno : -ENXIO;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
			err = -errno;
			close(fd);
			continue;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int r = poll(&p, 1, timeout_ms);
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (r == 0) {
			err = -ETIMEDOUT;
		} else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
			err = -errno;
		} else if (soerr) {
			err = -soerr;
		} else {
			int fl = fcntl(fd, F_GETFL);
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
			freeaddrinfo(res);
			return fd;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return err;
}

static int check_host_key(struct dev_nc *s, ssh_session ssh, struct netd_err *e)
{
	if (!s->cfg.known_hosts)
		return 0;
	enum ssh_known_hosts_e k = ssh_session_is_known_server(ssh);
	switch (k) {
	case SSH_KNOWN_HOSTS_OK:
		return 0;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		return netd_err_set(e, NETD_EPERM, NULL,
				    "switch %s (%s): its SSH host key differs from the one in %s: refusing to log in",
				    s->name, s->addr, s->cfg.known_hosts);
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		return netd_err_set(e, NETD_EPERM, NULL, "switch %s (%s): its SSH host key is not in %s: refusing to log in",
				    s->name, s->addr, s->cfg.known_hosts);
	default:
		return netd_err_set(e, -EIO, NULL, "switch %s (%s): cannot check its host key against %s: %s", s->name,
				    s->addr, s->cfg.known_hosts, ssh_get_error(ssh));
	}
}

static int ssh_auth(struct dev_nc *s, ssh_session ssh, struct netd_err *e)
{
	int r;
	if (s->cfg.key_file) {
		ssh_key key = NULL;
		if (ssh_pki_import_privkey_file(s->cfg.key_file, NULL, NULL, NULL, &key) != SSH_OK)
			return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: cannot read the SSH key %s", s->name, s->cfg.key_file);
		r = ssh_userauth_publickey(ssh, NULL, key);
		ssh_key_free(key);
		if (r == SSH_AUTH_SUCCESS)
			return 0;
		if (r == SSH_AUTH_ERROR)
			return netd_err_set(e, -EIO, NULL, "switch %s (%s): SSH authentication failed: %s", s->name, s->addr,
					    ssh_get_error(ssh));
		return netd_err_set(e, NETD_EAUTH, NULL, "switch %s (%s): SSH login as %s with key %s refused", s->name,
				    s->addr, s->cfg.user, s->cfg.key_file);
	}
	r = ssh_userauth_password(ssh, NULL, s->cfg.password);
	if (r == SSH_AUTH_SUCCESS)
		return 0;
	if (r == SSH_AUTH_ERROR)
		return netd_err_set(e, -EIO, NULL, "switch %s (%s): SSH authentication failed: %s", s->name, s->addr,
				    ssh_get_error(ssh));
	return netd_err_set(e, NETD_EAUTH, NULL, "switch %s (%s): SSH login as %s with a password refused", s->name,
			    s->addr, s->cfg.user);
}

/* An authenticated SSH session to the switch, or an error. */
static int ssh_open(struct dev_nc *s, ssh_session *ret, struct netd_err *e)
{
	int fd = tcp_connect(s->cfg.host, s->cfg.port, s->timeout_ms);
	if (fd < 0)
		return netd_err_set(e, fd, NULL, "switch %s (%s): cannot connect: %s", s->name, s->addr, strerror(-fd));
	ssh_session ssh = ssh_new();
	long tmo_s = (s->timeout_ms + 999) / 1000;
	int rc;
	if (!ssh) {
		close(fd);
		return netd_err_set(e, -ENOMEM, NULL, "switch %s: out of memory", s->name);
	}
	ssh_options_set(ssh, SSH_OPTIONS_HOST, s->cfg.host);
	ssh_options_set(ssh, SSH_OPTIONS_PORT, &s->cfg.port);
	ssh_options_set(ssh, SSH_OPTIONS_USER, s->cfg.user);
	ssh_options_set(ssh, SSH_OPTIONS_TIMEOUT, &tmo_s);
	ssh_options_set(ssh, SSH_OPTIONS_FD, &fd);   /* libssh closes it with the session */
	if (s->cfg.known_hosts)
		ssh_options_set(ssh, SSH_OPTIONS_KNOWNHOSTS, s->cfg.known_hosts);
	if (ssh_connect(ssh) != SSH_OK) {
		rc = netd_err_set(e, -EIO, NULL, "switch %s (%s): SSH handshake failed: %s", s->name, s->addr, ssh_get_error(ssh));
		goto fail;
	}
	if ((rc = check_host_key(s, ssh, e)) < 0 || (rc = ssh_auth(s, ssh, e)) < 0)
		goto fail;
	*ret = ssh;
	return 0;
fail:
	ssh_disconnect(ssh);
	ssh_free(ssh);
	return rc;
}

/* ---- RPCs and their errors ---- */

static const char *opaq_value(const struct lyd_node *n)
{
	if (n->schema)
		return lyd_get_value(n);
	return ((const struct lyd_node_opaq *)n)->value;
}

static const struct lyd_node *find_named(const struct lyd_node *parent, const char *name)
{
	const struct lyd_node *n;
	LY_LIST_FOR(lyd_child(parent), n)
		if (!strcmp(LYD_NAME(n), name))
			return n;
	return NULL;
}

static int tag_code(const char *tag)
{
	static const struct {
		const char *tag;
		int code;
	} map[] = {
		{ "lock-denied", NETD_EINUSE },       { "in-use", NETD_EINUSE },
		{ "access-denied", NETD_EPERM },      { "data-exists", NETD_EEXIST },
		{ "data-missing", NETD_ENOTFOUND },   { "operation-not-supported", NETD_EUNSUPPORTED },
		{ "invalid-value", NETD_EINVAL },     { "bad-element", NETD_EINVAL },
		{ "unknown-element", NETD_EINVAL },   { "missing-element", NETD_EINVAL },
		{ "bad-attribute", NETD_EINVAL },     { "unknown-attribute", NETD_EINVAL },
		{ "missing-attribute", NETD_EINVAL }, { "unknown-namespace", NETD_EINVAL },
		{ "too-big", NETD_ETOOBIG },          { "resource-denied", NETD_ETOOBIG },
	};
	for (size_t i = 0; tag && i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i].tag, tag))
			return map[i].code;
	return -EIO;
}

/* The first <rpc-error> of a reply envelope into @e; 0 when there is none. */
static int rpc_error(struct dev_nc *s, const char *what, const struct lyd_node *envp, struct netd_err *e)
{
	const struct lyd_node *err = envp ? find_named(envp, "rpc-error") : NULL, *n;
	if (!err)
		return 0;
	const char *tag = NULL, *path = NULL, *msg = NULL, *sid = NULL;
	if ((n = find_named(err, "error-tag")))
		tag = opaq_value(n);
	if ((n = find_named(err, "error-path")))
		path = opaq_value(n);
	if ((n = find_named(err, "error-message")))
		msg = opaq_value(n);
	if ((n = find_named(err, "error-info")) && (n = find_named(n, "session-id")))
		sid = opaq_value(n);
	return netd_err_set(e, tag_code(tag), path, "switch %s (%s): %s: rpc-error %s%s%s: %s%s%s%s", s->name, s->addr,
			    what, tag ? tag : "(no tag)", path && path[0] ? " at " : "", path ? path : "",
			    msg && msg[0] ? msg : "(no message)", sid ? " (held by session " : "", sid ? sid : "",
			    sid ? ")" : "");
}

/* Send @rpc (freed here) and wait for its reply.  *op (may be NULL) gets
 * the parsed reply data of a successful RPC. */
static int rpc_call(struct dev_nc *s, struct nc_rpc *rpc, const char *what, struct lyd_node **op, struct netd_err *e)
{
	struct lyd_node *envp = NULL, *out = NULL;
	uint64_t id = 0;
	int rc = 0;
	if (op)
		*op = NULL;
	if (!rpc)
		return netd_err_set(e, -ENOMEM, NULL, "switch %s: %s: cannot build the RPC", s->name, what);
	s->stats.rpcs++;
	NC_MSG_TYPE t = nc_send_rpc(s->ns, rpc, s->timeout_ms, &id);
	if (t != NC_MSG_RPC) {
		rc = netd_err_set(e, t == NC_MSG_WOULDBLOCK ? -ETIMEDOUT : -EIO, NULL, "switch %s (%s): %s: cannot send (%s)",
				  s->name, s->addr, what, t == NC_MSG_WOULDBLOCK ? "timed out" : "session broken");
		goto cleanup;
	}
	do {
		lyd_free_all(envp);
		lyd_free_all(out);
		envp = out = NULL;
		t = nc_recv_reply(s->ns, rpc, id, s->timeout_ms, &envp, &out);
	} while (t == NC_MSG_NOTIF || t == NC_MSG_REPLY_ERR_MSGID);
	if (t == NC_MSG_WOULDBLOCK) {
		rc = netd_err_set(e, -ETIMEDOUT, NULL, "switch %s (%s): %s: no reply in %d ms", s->name, s->addr, what,
				  s->timeout_ms);
	} else if (t != NC_MSG_REPLY) {
		rc = netd_err_set(e, -EIO, NULL, "switch %s (%s): %s: the session broke", s->name, s->addr, what);
	} else if ((rc = rpc_error(s, what, envp, e)) == 0 && op) {
		*op = out;
		out = NULL;
	}
cleanup:
	lyd_free_all(envp);
	lyd_free_all(out);
	nc_rpc_free(rpc);
	return rc;
}

/* The data of a <get>/<get-config> reply, re-parsed in the session's
 * context (libnetconf2 2.0 hands anyxml over as opaque nodes or text);
 * nodes of modules the context lacks are dropped.  *tree may be NULL. */
static int reply_data(struct dev_nc *s, const struct lyd_node *op, const char *what, struct lyd_node **tree,
		      struct netd_err *e)
{
	const struct lyd_node *data = op ? find_named(op, "data") : NULL;
	char *xml = NULL;
	*tree = NULL;
	if (!data || !data->schema || !(data->schema->nodetype & LYS_ANYDATA))
		return 0;
	const struct lyd_node_any *a = (const struct lyd_node_any *)data;
	LY_ERR lr = a->value_type == LYD_ANYDATA_DATATREE
			    ? (a->value.tree ? lyd_print_mem(&xml, a->value.tree, LYD_XML, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK)
					     : LY_SUCCESS)
			    : lyd_any_value_str(data, &xml);
	if (lr != LY_SUCCESS)
		return netd_err_set(e, -ENOMEM, NULL, "switch %s: %s: cannot read the reply", s->name, what);
	if (!xml || !xml[0]) {
		free(xml);
		return 0;
	}
	struct ly_ctx *ctx = nc_session_get_ctx(s->ns);
	lr = lyd_parse_data_mem(ctx, xml, LYD_XML, LYD_PARSE_ONLY, 0, tree);
	free(xml);
	if (lr != LY_SUCCESS) {
		const char *m = ly_errmsg(ctx);
		return netd_err_set(e, NETD_ECORRUPT, NULL, "switch %s (%s): %s: the reply does not fit the switch's schema: %s",
				    s->name, s->addr, what, m ? m : "libyang error");
	}
	return 0;
}

static const char *ds_name(NC_DATASTORE ds)
{
	return ds == NC_DATASTORE_CANDIDATE ? "candidate" : "running";
}

static int do_lock(struct dev_nc *s, NC_DATASTORE ds, bool lock, struct netd_err *e)
{
	char what[48];
	snprintf(what, sizeof what, "%s %s", lock ? "lock" : "unlock", ds_name(ds));
	if (lock)
		s->stats.locks++;
	else
		s->stats.unlocks++;
	return rpc_call(s, lock ? nc_rpc_lock(ds) : nc_rpc_unlock(ds), what, NULL, e);
}

/* ---- open, read ---- */

static int read_yanglib(struct dev_nc *s, struct netd_err *e)
{
	struct ly_ctx *ctx = nc_session_get_ctx(s->ns);
	struct lyd_node *op = NULL, *tree = NULL;
	const struct lys_module *yl = ly_ctx_get_module_implemented(ctx, "ietf-yang-library");
	int rc;
	if (!s->caps.yang_library || !yl)
		return 0;
	const char *filter = lys_find_path(ctx, NULL, "/ietf-yang-library:modules-state", 0)
				     ? "<modules-state xmlns=\"" NS_YANGLIB "\"/>"
				     : "<yang-library xmlns=\"" NS_YANGLIB "\"/>";
	if ((rc = rpc_call(s, nc_rpc_get(filter, NC_WD_UNKNOWN, NC_PARAMTYPE_CONST), "get yang-library", &op, e)) < 0)
		return rc;
	rc = reply_data(s, op, "get yang-library", &tree, e);
	if (rc == 0)
		rc = dev_nc_caps_add_yanglib(&s->caps, tree);
	if (rc == -ENOMEM || rc == NETD_ETOOBIG)
		netd_err_set(e, rc, NULL, "switch %s: yang-library: %s", s->name, netd_strerror(rc));
	lyd_free_all(tree);
	lyd_free_all(op);
	return rc;
}

/* The model family, checked against what libyang could load. */
static int detect(struct dev_nc *s, struct netd_err *e)
{
	int rc = dev_nc_detect(s->name, &s->caps, &s->model, e);
	if (rc < 0)
		return rc;
	struct ly_ctx *ctx = nc_session_get_ctx(s->ns);
	if (!lys_find_path(ctx, NULL,
			   "/openconfig-interfaces:interfaces/interface/openconfig-if-ethernet:ethernet/"
			   "openconfig-vlan:switched-vlan/config/interface-mode",
			   0))
		return netd_err_set(e, NETD_EUNSUPPORTED, NULL,
				    "switch %s (%s) advertises openconfig-vlan, but its schema could not be loaded "
				    "(no <get-schema>, and not in yang_dir %s)",
				    s->name, s->addr, s->cfg.yang_dir ? s->cfg.yang_dir : "(none)");
	if (s->model.lag &&
	    !lys_find_path(ctx, NULL, "/openconfig-interfaces:interfaces/interface/openconfig-if-aggregate:aggregation/"
				      "openconfig-vlan:switched-vlan/config", 0))
		s->model.lag = false;
	return 0;
}

static int cfg_check(const struct dev_nc_cfg *cfg, struct netd_err *e)
{
	const char *n = cfg->name ? cfg->name : "(unnamed)";
	if (!cfg->host || !cfg->host[0])
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: no management address", n);
	if (!cfg->user || !cfg->user[0])
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: no NETCONF user", n);
	if (!cfg->key_file && !cfg->password)
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: neither an SSH key nor a password", n);
	if ((cfg->port_format && !one_u(cfg->port_format)) || (cfg->lag_format && !one_u(cfg->lag_format)))
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: port_format and lag_format take exactly one %%u", n);
	return 0;
}

int dev_nc_open(const struct dev_nc_cfg *cfg, struct dev_nc **ret, struct netd_err *e)
{
	ssh_session ssh = NULL;
	int rc = cfg_check(cfg, e);
	if (rc < 0)
		return rc;
	struct dev_nc *s = calloc(1, sizeof *s);
	if (!s)
		return netd_err_set(e, -ENOMEM, NULL, "switch %s: out of memory", cfg->name ? cfg->name : "");
	dev_nc_lib_init();
	s->cfg = *cfg;
	s->cfg.port = cfg->port ? cfg->port : 830;
	s->timeout_ms = cfg->timeout_ms ? (int)cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	snprintf(s->name, sizeof s->name, "%s", cfg->name ? cfg->name : cfg->host);
	snprintf(s->addr, sizeof s->addr, "%s port %u", cfg->host, s->cfg.port);
	s->cfg.name = s->name;
	if ((rc = ssh_open(s, &ssh, e)) < 0)
		goto fail;
	ssh_set_blocking(ssh, 0);   /* as libnetconf2 runs its own sessions */
	if (cfg->yang_dir)
		nc_client_set_schema_searchpath(cfg->yang_dir);
	s->ns = nc_connect_libssh(ssh, NULL);   /* owns @ssh from here, also on failure */
	if (cfg->yang_dir)
		nc_client_set_schema_searchpath(NULL);
	if (!s->ns) {
		rc = netd_err_set(e, -EIO, NULL, "switch %s (%s): no NETCONF session (the netconf SSH subsystem or <hello> failed)",
				  s->name, s->addr);
		goto fail;
	}
	const char *const *caps = nc_session_get_cpblts(s->ns);
	if ((rc = dev_nc_caps_parse(caps, &s->caps)) < 0) {
		netd_err_set(e, rc, NULL, "switch %s: capabilities: %s", s->name, netd_strerror(rc));
		goto fail;
	}
	if ((rc = read_yanglib(s, e)) < 0 || (rc = detect(s, e)) < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	dev_nc_close(s);
	return rc;
}

void dev_nc_close(struct dev_nc *s)
{
	if (!s)
		return;
	if (s->ns)
		nc_session_free(s->ns, NULL);   /* ends the session: a pending confirmed commit rolls back */
	dev_nc_caps_free(&s->caps);
	dev_nc_state_free(&s->pending_state);
	free(s);
}

static int read_ds(struct dev_nc *s, NC_DATASTORE ds, struct dev_nc_state *out, struct netd_err *e)
{
	static const char filter[] = "<interfaces xmlns=\"" NS_OC_IF "\"/><vlans xmlns=\"" NS_OC_VLAN "\"/>";
	struct lyd_node *op = NULL, *tree = NULL;
	char what[32];
	snprintf(what, sizeof what, "get-config %s", ds_name(ds));
	s->stats.get_configs++;
	int rc = rpc_call(s, nc_rpc_getconfig(ds, filter, NC_WD_UNKNOWN, NC_PARAMTYPE_CONST), what, &op, e);
	if (rc == 0)
		rc = reply_data(s, op, what, &tree, e);
	if (rc == 0)
		rc = dev_nc_state_from_tree(s->name, tree, out, e);
	lyd_free_all(tree);
	lyd_free_all(op);
	return rc;
}

int dev_nc_read(struct dev_nc *s, struct dev_nc_state *out, struct netd_err *e)
{
	return read_ds(s, NC_DATASTORE_RUNNING, out, e);
}

/* ---- apply ---- */

static bool states_equal(const struct dev_nc_state *a, const struct dev_nc_state *b)
{
	if (a->n_ifs != b->n_ifs || a->n_vlans != b->n_vlans)
		return false;
	for (size_t i = 0; i < a->n_ifs; i++) {
		const struct dev_nc_if *x = &a->ifs[i], *y = dev_nc_state_if(b, x->name);
		if (!y || x->is_lag != y->is_lag || x->has_vlan != y->has_vlan || strcmp(x->aggregate_id, y->aggregate_id) ||
		    x->lag_type != y->lag_type || !dev_nc_swvlan_equal(&x->vlan, &y->vlan))
			return false;
	}
	for (size_t i = 0; i < a->n_vlans; i++) {
		const struct dev_nc_vlan *y = dev_nc_state_vlan(b, a->vlans[i].id);
		if (!y || strcmp(y->name, a->vlans[i].name))
			return false;
	}
	return true;
}

/* Read running back and plan again: nothing may be left.  On success the
 * state read is kept in *st (for dev_nc_confirm). */
static int verify(struct dev_nc *s, const struct dev_switch *sw, const struct dev_desired *d, struct dev_nc_state *st,
		  struct netd_err *e)
{
	struct dev_nc_plan again = { 0 };
	char text[300];
	int rc = read_ds(s, NC_DATASTORE_RUNNING, st, e);
	if (rc == 0)
		rc = dev_nc_plan(sw, &s->cfg, &s->model, d, st, &again, e);
	if (rc == 0 && again.n_changes)
		rc = netd_err_set(e, NETD_ECONFLICT, NULL, "switch %s (%s): after the commit running still differs: %s", s->name,
				  s->addr, dev_nc_plan_text(&again, text, sizeof text));
	dev_nc_plan_free(&again);
	if (rc < 0)
		dev_nc_state_free(st);
	return rc;
}

static int edit(struct dev_nc *s, NC_DATASTORE ds, const char *xml, struct dev_nc_report *rep, struct netd_err *e)
{
	char what[32];
	snprintf(what, sizeof what, "edit-config %s", ds_name(ds));
	s->stats.edit_configs++;
	rep->edit_configs++;
	NC_RPC_EDIT_ERROPT eo = s->caps.rollback_on_error ? NC_RPC_EDIT_ERROPT_ROLLBACK : NC_RPC_EDIT_ERROPT_UNKNOWN;
	return rpc_call(s, nc_rpc_edit(ds, NC_RPC_EDIT_DFLTOP_MERGE, NC_RPC_EDIT_TESTOPT_UNKNOWN, eo, xml, NC_PARAMTYPE_CONST),
			what, NULL, e);
}

static int commit(struct dev_nc *s, bool confirmed, struct netd_err *e)
{
	unsigned tmo = s->cfg.confirm_timeout_s ? s->cfg.confirm_timeout_s : DEFAULT_CONFIRM_S;
	s->stats.commits++;
	return rpc_call(s, nc_rpc_commit(confirmed, confirmed ? tmo : 0, NULL, NULL, NC_PARAMTYPE_CONST),
			confirmed ? "commit confirmed" : "commit", NULL, e);
}

/* Append a sentence to the message of an error already set. */
static void err_append(struct netd_err *e, const char *text)
{
	if (!e)
		return;
	size_t n = strlen(e->msg);
	snprintf(e->msg + n, sizeof e->msg - n, "%s", text);
}

/* Undo what a failed candidate apply left: cancel a confirmed commit
 * (:confirmed-commit:1.1), drop the candidate, release the locks, and say
 * in @e what became of the switch.  Errors here do not replace the first. */
static void candidate_abort(struct dev_nc *s, bool committed, bool confirmed, bool locked_cand, bool locked_run,
			    struct netd_err *e)
{
	struct netd_err ignore = { 0 };
	char text[200];
	if (committed && confirmed && s->caps.confirmed_commit) {
		s->stats.cancels++;
		if (rpc_call(s, nc_rpc_cancel(NULL, NC_PARAMTYPE_CONST), "cancel-commit", NULL, &ignore) == 0)
			err_append(e, "; confirmed commit cancelled: the switch rolled back");
		else
			err_append(e, "; cancel-commit failed: the switch rolls back when the confirm-timeout passes");
	} else if (committed && confirmed) {
		snprintf(text, sizeof text, "; left unconfirmed: the switch rolls back within %u s",
			 s->cfg.confirm_timeout_s ? s->cfg.confirm_timeout_s : DEFAULT_CONFIRM_S);
		err_append(e, text);
	} else if (committed) {
		err_append(e, "; committed without :confirmed-commit, so not rolled back");
	} else {
		err_append(e, "; nothing committed");
	}
	if (locked_cand) {
		s->stats.discards++;
		rpc_call(s, nc_rpc_discard(), "discard-changes", NULL, &ignore);
		do_lock(s, NC_DATASTORE_CANDIDATE, false, &ignore);
	}
	if (locked_run)
		do_lock(s, NC_DATASTORE_RUNNING, false, &ignore);
}

static int apply_candidate(struct dev_nc *s, const struct dev_switch *sw, const struct dev_desired *d, const char *xml,
			   unsigned flags, struct dev_nc_report *rep, struct netd_err *e)
{
	bool run = false, cand = false, committed = false;
	bool confirmed = s->caps.confirmed_commit || s->caps.confirmed_commit10;
	struct dev_nc_state after = { 0 };
	int rc;
	rep->candidate = true;
	if ((rc = do_lock(s, NC_DATASTORE_RUNNING, true, e)) < 0)
		goto fail;
	run = true;
	if ((rc = do_lock(s, NC_DATASTORE_CANDIDATE, true, e)) < 0)
		goto fail;
	cand = true;
	s->stats.discards++;
	if ((rc = rpc_call(s, nc_rpc_discard(), "discard-changes", NULL, e)) < 0 ||
	    (rc = edit(s, NC_DATASTORE_CANDIDATE, xml, rep, e)) < 0)
		goto fail;
	if (s->caps.validate && s->caps.yuma) {
		rep->validate_skipped = true;   /* see Caveats in nc.h */
	} else if (s->caps.validate) {
		s->stats.validates++;
		if ((rc = rpc_call(s, nc_rpc_validate(NC_DATASTORE_CANDIDATE, NULL, NC_PARAMTYPE_CONST), "validate candidate",
				   NULL, e)) < 0)
			goto fail;
		rep->validated = true;
	}
	if ((rc = commit(s, confirmed, e)) < 0)
		goto fail;
	committed = true;
	rep->confirmed = confirmed;
	if ((rc = verify(s, sw, d, &after, e)) < 0)
		goto fail;
	rep->verified = true;
	if (confirmed && (flags & DEV_NC_LEAVE_PENDING)) {
		s->pending = true;
		dev_nc_state_free(&s->pending_state);
		s->pending_state = after;
		rep->pending = true;
	} else {
		dev_nc_state_free(&after);
		if (confirmed && (rc = commit(s, false, e)) < 0)
			goto fail;
		committed = false;   /* confirmed: nothing to roll back any more */
	}
	/* an unlock failing after the commit changes nothing on the switch: report it */
	cand = false;
	if ((rc = do_lock(s, NC_DATASTORE_CANDIDATE, false, e)) < 0)
		goto unlock_running;
	run = false;
	return do_lock(s, NC_DATASTORE_RUNNING, false, e);
unlock_running:
	do_lock(s, NC_DATASTORE_RUNNING, false, &(struct netd_err){ 0 });
	return rc;
fail:
	candidate_abort(s, committed, confirmed, cand, run, e);
	return rc;
}

static int apply_running(struct dev_nc *s, const struct dev_switch *sw, const struct dev_desired *d, const char *xml,
			 struct dev_nc_report *rep, struct netd_err *e)
{
	struct netd_err ignore = { 0 };
	struct dev_nc_state after = { 0 };
	int rc = do_lock(s, NC_DATASTORE_RUNNING, true, e);
	if (rc < 0)
		return rc;
	rc = edit(s, NC_DATASTORE_RUNNING, xml, rep, e);
	if (rc < 0) {
		do_lock(s, NC_DATASTORE_RUNNING, false, &ignore);
		return rc;
	}
	rc = verify(s, sw, d, &after, e);
	dev_nc_state_free(&after);
	if (rc == 0)
		rep->verified = true;
	int urc = do_lock(s, NC_DATASTORE_RUNNING, false, rc < 0 ? &ignore : e);
	return rc < 0 ? rc : urc;
}

static void report_plan(struct dev_nc_report *rep, const struct dev_nc_plan *p)
{
	struct sbuf b = { .p = rep->notes, .cap = sizeof rep->notes };
	rep->n_changes = p->n_changes;
	dev_nc_plan_text(p, rep->text, sizeof rep->text);
	for (size_t i = 0; i < p->n_notes; i++)
		sb_add(&b, "%s%s", i ? "; " : "", p->notes[i]);
}

int dev_nc_apply(struct dev_nc *s, const struct dev_switch *sw, const struct dev_desired *d, unsigned flags,
		 struct dev_nc_report *rep, struct netd_err *e)
{
	struct dev_nc_report local;
	struct dev_nc_state st = { 0 };
	struct dev_nc_plan p = { 0 };
	char *xml = NULL;
	int rc;
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof *rep);
	if (s->pending)
		return netd_err_set(e, NETD_EINUSE, NULL, "switch %s: a confirmed commit awaits dev_nc_confirm() or dev_nc_cancel()",
				    s->name);
	if ((rc = dev_nc_read(s, &st, e)) < 0 || (rc = dev_nc_plan(sw, &s->cfg, &s->model, d, &st, &p, e)) < 0)
		goto cleanup;
	report_plan(rep, &p);
	if (p.n_changes == 0)
		goto cleanup;
	if ((rc = dev_nc_edit_xml(&p, &xml)) < 0) {
		netd_err_set(e, rc, NULL, "switch %s: out of memory", s->name);
		goto cleanup;
	}
	if (s->caps.candidate)
		rc = apply_candidate(s, sw, d, xml, flags, rep, e);
	else if (s->caps.writable_running)
		rc = apply_running(s, sw, d, xml, rep, e);
	else
		rc = netd_err_set(e, NETD_EUNSUPPORTED, NULL, "switch %s (%s) offers neither :candidate nor :writable-running",
				  s->name, s->addr);
cleanup:
	free(xml);
	dev_nc_plan_free(&p);
	dev_nc_state_free(&st);
	return rc;
}

int dev_nc_confirm(struct dev_nc *s, struct netd_err *e)
{
	struct dev_nc_state now = { 0 };
	if (!s->pending)
		return netd_err_set(e, NETD_ENOTFOUND, NULL, "switch %s: no confirmed commit is pending", s->name);
	s->pending = false;
	int rc = commit(s, false, e);
	if (rc == 0)
		rc = read_ds(s, NC_DATASTORE_RUNNING, &now, e);
	if (rc == 0 && !states_equal(&now, &s->pending_state))
		rc = netd_err_set(e, NETD_ECONFLICT, NULL,
				  "switch %s (%s): running changed before the confirmation (rolled back after the "
				  "%u s confirm-timeout?): nothing confirmed",
				  s->name, s->addr, s->cfg.confirm_timeout_s ? s->cfg.confirm_timeout_s : DEFAULT_CONFIRM_S);
	dev_nc_state_free(&now);
	dev_nc_state_free(&s->pending_state);
	return rc;
}

int dev_nc_cancel(struct dev_nc *s, struct netd_err *e)
{
	if (!s->pending)
		return netd_err_set(e, NETD_ENOTFOUND, NULL, "switch %s: no confirmed commit is pending", s->name);
	if (!s->caps.confirmed_commit)
		return netd_err_set(e, NETD_EUNSUPPORTED, NULL, "switch %s: no :confirmed-commit:1.1, so no <cancel-commit>",
				    s->name);
	s->pending = false;
	dev_nc_state_free(&s->pending_state);
	s->stats.cancels++;
	return rpc_call(s, nc_rpc_cancel(NULL, NC_PARAMTYPE_CONST), "cancel-commit", NULL, e);
}
