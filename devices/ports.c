/* devices/ports.c — Q-BRIDGE port lists, desired port state, and the ordered
 * difference against a switch's actual VLAN state.  See devices/devices.h
 * for the decisions; everything here is plain data, no I/O. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "devices/devices.h"

/* ---- PortList ---- */

static bool port_ok(unsigned port)
{
	return port >= 1 && port <= DEV_PORTS_MAX;
}

int dev_portlist_set(struct dev_portlist *pl, unsigned port)
{
	if (!port_ok(port))
		return NETD_EINVAL;
	pl->o[(port - 1) / 8] |= (uint8_t)(0x80u >> ((port - 1) % 8));
	return 0;
}

int dev_portlist_clear(struct dev_portlist *pl, unsigned port)
{
	if (!port_ok(port))
		return NETD_EINVAL;
	pl->o[(port - 1) / 8] &= (uint8_t)~(0x80u >> ((port - 1) % 8));
	return 0;
}

bool dev_portlist_test(const struct dev_portlist *pl, unsigned port)
{
	return port_ok(port) && (pl->o[(port - 1) / 8] & (0x80u >> ((port - 1) % 8)));
}

unsigned dev_portlist_count(const struct dev_portlist *pl)
{
	unsigned n = 0;
	for (size_t i = 0; i < DEV_PORTLIST_OCTETS; i++)
		n += (unsigned)__builtin_popcount(pl->o[i]);
	return n;
}

/* First port above @nports set in @oct, or 0. */
static unsigned first_extra(const uint8_t *oct, size_t len, unsigned nports)
{
	for (size_t i = nports / 8; i < len; i++) {
		for (unsigned b = 0; b < 8; b++) {
			size_t port = i * 8 + b + 1;
			if (port > nports && (oct[i] & (0x80u >> b)))
				return port > DEV_PORTS_MAX + 1u ? DEV_PORTS_MAX + 1u : (unsigned)port;
		}
	}
	return 0;
}

int dev_portlist_decode(const uint8_t *oct, size_t len, unsigned nports, const char *what,
			struct dev_portlist *out, struct netd_err *e)
{
	if (nports < 1 || nports > DEV_PORTS_MAX)
		return netd_err_set(e, NETD_EINVAL, NULL, "%s: switch port count %u is not 1..%d",
				    what ? what : "port list", nports, DEV_PORTS_MAX);
	unsigned extra = first_extra(oct, len, nports);
	if (extra)
		return netd_err_set(e, NETD_EINVAL, NULL, "%s: port %s%u is set but the switch has %u ports",
				    what ? what : "port list", extra > DEV_PORTS_MAX ? "above " : "",
				    extra > DEV_PORTS_MAX ? DEV_PORTS_MAX : extra, nports);
	struct dev_portlist pl;
	memset(&pl, 0, sizeof pl);
	size_t n = (nports + 7) / 8;
	if (len < n)
		n = len;
	if (n)
		memcpy(pl.o, oct, n);
	*out = pl;
	return 0;
}

int dev_portlist_encode(const struct dev_portlist *pl, unsigned nports, uint8_t *out, size_t cap)
{
	if (nports < 1 || nports > DEV_PORTS_MAX)
		return NETD_EINVAL;
	if (first_extra(pl->o, DEV_PORTLIST_OCTETS, nports))
		return NETD_EINVAL;
	size_t n = (nports + 7) / 8;
	if (cap < n)
		return -ENOSPC;
	memcpy(out, pl->o, n);
	return (int)n;
}

const char *dev_portlist_hex(const struct dev_portlist *pl, unsigned nports, char *buf, size_t len)
{
	static const char hx[] = "0123456789abcdef";
	size_t n = nports > DEV_PORTS_MAX ? DEV_PORTLIST_OCTETS : (nports + 7) / 8, w = 0;

	if (len == 0)
		return buf;
	for (size_t i = 0; i < n && w + 2 < len; i++) {
		buf[w++] = hx[pl->o[i] >> 4];
		buf[w++] = hx[pl->o[i] & 15];
	}
	buf[w] = '\0';
	return buf;
}

/* ---- VLAN sets ---- */

bool dev_vlanset_test(const struct dev_vlanset *s, unsigned vlan)
{
	return vlan <= DEV_VLAN_MAX && (s->o[vlan / 8] & (1u << (vlan % 8)));
}

void dev_vlanset_add(struct dev_vlanset *s, unsigned vlan)
{
	if (vlan <= DEV_VLAN_MAX)
		s->o[vlan / 8] |= (uint8_t)(1u << (vlan % 8));
}

/* ---- helpers ---- */

static bool in_ranges(const struct dev_range *r, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (v >= r[i].first && v <= r[i].last)
			return true;
	return false;
}

static bool vlan_allowed(const struct dev_switch *sw, unsigned v)
{
	return v >= DEV_VLAN_MIN && v <= DEV_VLAN_MAX && in_ranges(sw->vlans, sw->n_vlans, v);
}

static bool port_allowed(const struct dev_switch *sw, unsigned p)
{
	return p >= 1 && p <= sw->nports && in_ranges(sw->ports, sw->n_ports, p);
}

/* Data path of a switch port, for errors. */
static const char *port_path(const struct dev_switch *sw, unsigned port, char *buf, size_t len)
{
	char key[DEV_NAME_MAX + 8];
	snprintf(buf, len, "/netd:switches/switch[name=%s]/port[number='%u']",
		 netd_path_key(sw->name, key, sizeof key), port);
	return buf;
}

/* Bounded copy, always NUL-terminated. */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool dev_vlan_owned(const char *name)
{
	return strncmp(name, DEV_OWNED_PREFIX, sizeof DEV_OWNED_PREFIX - 1) == 0;
}

/* ---- desired state ---- */

static int check_switch(const struct dev_switch *sw, struct netd_err *e)
{
	char key[DEV_NAME_MAX + 8], path[160];

	snprintf(path, sizeof path, "/netd:switches/switch[name=%s]", netd_path_key(sw->name, key, sizeof key));
	if (sw->nports < 1 || sw->nports > DEV_PORTS_MAX)
		return netd_err_set(e, NETD_EINVAL, path, "switch %s: port count %u is not 1..%d", sw->name,
				    sw->nports, DEV_PORTS_MAX);
	if (sw->idle_vlan < DEV_VLAN_MIN || sw->idle_vlan > DEV_VLAN_MAX)
		return netd_err_set(e, NETD_EINVAL, path, "switch %s: idle VLAN %u is not 1..4094", sw->name,
				    sw->idle_vlan);
	if (!vlan_allowed(sw, sw->idle_vlan))
		return netd_err_set(e, NETD_EPERM, path, "switch %s: idle VLAN %u is not in the allowed VLANs",
				    sw->name, sw->idle_vlan);
	return 0;
}

static const struct dev_nic *find_nic(const struct dev_nic *nics, size_t n, const struct dev_link *l)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(nics[i].node, l->node) && !strcmp(nics[i].nic, l->nic))
			return &nics[i];
	return NULL;
}

/* Fill @w for one network of its NIC, refusing what the guardrails forbid. */
static int want_net(const struct dev_switch *sw, struct dev_port_want *w, const struct dev_net *nt,
		    struct netd_err *e)
{
	char path[200];

	port_path(sw, w->port, path, sizeof path);
	if (nt->vlan < DEV_VLAN_MIN || nt->vlan > DEV_VLAN_MAX)
		return netd_err_set(e, NETD_EINVAL, path,
				    "switch %s port %u: network %s has VLAN %u, a switch port needs 1..4094",
				    sw->name, w->port, nt->name, nt->vlan);
	if (!vlan_allowed(sw, nt->vlan))
		return netd_err_set(e, NETD_EPERM, path,
				    "switch %s port %u: VLAN %u (network %s) is not in the allowed VLANs",
				    sw->name, w->port, nt->vlan, nt->name);
	if (nt->use_vlan) {
		dev_vlanset_add(&w->tagged, nt->vlan);
		return 0;
	}
	if (w->pvid && w->pvid != nt->vlan)
		return netd_err_set(e, NETD_EINVAL, path,
				    "switch %s port %u: networks %s and %s want different untagged VLANs %u and %u",
				    sw->name, w->port, w->pvid_net, nt->name, w->pvid, nt->vlan);
	w->pvid = nt->vlan;
	copy_str(w->pvid_net, sizeof w->pvid_net, nt->name);
	return 0;
}

static int want_port(const struct dev_switch *sw, const struct dev_link *l, const struct dev_nic *nic,
		     struct dev_port_want *w, struct netd_err *e)
{
	char path[200];
	int rc;

	memset(w, 0, sizeof *w);
	w->port = l->port;
	copy_str(w->node, sizeof w->node, l->node);
	copy_str(w->nic, sizeof w->nic, l->nic);
	port_path(sw, l->port, path, sizeof path);
	if (l->port < 1 || l->port > sw->nports)
		return netd_err_set(e, NETD_EINVAL, path, "switch %s port %u (node %s NIC %s): the switch has %u ports",
				    sw->name, l->port, l->node, l->nic, sw->nports);
	if (!port_allowed(sw, l->port))
		return netd_err_set(e, NETD_EPERM, path,
				    "switch %s port %u (node %s NIC %s): port is not in the allowed ports",
				    sw->name, l->port, l->node, l->nic);
	w->released = !nic || nic->n_nets == 0;
	for (size_t i = 0; nic && i < nic->n_nets; i++)
		if ((rc = want_net(sw, w, &nic->nets[i], e)) != 0)
			return rc;
	if (!w->pvid)
		w->pvid = sw->idle_vlan;
	if (dev_vlanset_test(&w->tagged, w->pvid))
		return netd_err_set(e, NETD_EINVAL, path, "switch %s port %u: VLAN %u is wanted both untagged and tagged",
				    sw->name, w->port, w->pvid);
	return 0;
}

static int cmp_want(const void *a, const void *b)
{
	const struct dev_port_want *x = a, *y = b;
	return (x->port > y->port) - (x->port < y->port);
}

static bool lag_mode(uint8_t mode)
{
	return mode != TEAM_BALANCE_TLB && mode != TEAM_BALANCE_ALB;
}

/* LAG requirements: links of one node whose NICs share a bond. */
static int want_lags(const struct dev_switch *sw, const struct dev_link *links, size_t n,
		     const struct dev_nic *nics, size_t n_nics, struct dev_desired *d, struct netd_err *e)
{
	for (size_t i = 0; i < n; i++) {
		const struct dev_nic *ni = find_nic(nics, n_nics, &links[i]);
		if (!ni || !ni->bond[0] || !ni->n_nets || !lag_mode(ni->team_mode))
			continue;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++) {
			const struct dev_nic *nj = find_nic(nics, n_nics, &links[j]);
			seen = nj && !strcmp(nj->node, ni->node) && !strcmp(nj->bond, ni->bond);
		}
		if (seen)
			continue;
		struct dev_lag lag;
		memset(&lag, 0, sizeof lag);
		for (size_t j = i; j < n; j++) {
			const struct dev_nic *nj = find_nic(nics, n_nics, &links[j]);
			if (!nj || strcmp(nj->node, ni->node) || strcmp(nj->bond, ni->bond))
				continue;
			if (lag.n_ports == DEV_LAG_PORTS_MAX)
				return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: bond %s of node %s spans more than %d ports",
						    sw->name, ni->bond, ni->node, DEV_LAG_PORTS_MAX);
			lag.ports[lag.n_ports++] = links[j].port;
		}
		if (lag.n_ports < 2)
			continue;
		copy_str(lag.node, sizeof lag.node, ni->node);
		copy_str(lag.bond, sizeof lag.bond, ni->bond);
		lag.team_mode = ni->team_mode;
		lag.snmp_unsupported = true;
		struct dev_lag *nl = realloc(d->lags, (d->n_lags + 1) * sizeof *nl);
		if (!nl)
			return -ENOMEM;
		d->lags = nl;
		d->lags[d->n_lags++] = lag;
	}
	return 0;
}

void dev_desired_free(struct dev_desired *d)
{
	if (!d)
		return;
	free(d->ports);
	free(d->lags);
	free(d->vlan_net);
	memset(d, 0, sizeof *d);
}

static void note_vlan_names(struct dev_desired *d)
{
	for (size_t i = 0; i < d->n_ports; i++) {
		const struct dev_port_want *w = &d->ports[i];
		if (w->pvid_net[0] && !d->vlan_net[w->pvid][0])
			copy_str(d->vlan_net[w->pvid], DEV_NAME_MAX, w->pvid_net);
	}
}

static void note_tagged_names(struct dev_desired *d, const struct dev_nic *nics, size_t n_nics,
			      const struct dev_link *links, size_t n_links)
{
	for (size_t i = 0; i < n_links; i++) {
		const struct dev_nic *ni = find_nic(nics, n_nics, &links[i]);
		for (size_t k = 0; ni && k < ni->n_nets; k++)
			if (ni->nets[k].use_vlan && !d->vlan_net[ni->nets[k].vlan][0])
				copy_str(d->vlan_net[ni->nets[k].vlan], DEV_NAME_MAX, ni->nets[k].name);
	}
}

int dev_desired(const struct dev_switch *sw, const struct dev_link *links, size_t n_links,
		const struct dev_nic *nics, size_t n_nics, struct dev_desired *out, struct netd_err *e)
{
	struct dev_desired d;
	int rc;

	memset(&d, 0, sizeof d);
	if ((rc = check_switch(sw, e)) != 0)
		return rc;
	d.vlan_net = calloc(DEV_VLAN_MAX + 1, sizeof *d.vlan_net);
	d.ports = calloc(n_links ? n_links : 1, sizeof *d.ports);
	if (!d.vlan_net || !d.ports) {
		rc = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n_links; i++)
		if ((rc = want_port(sw, &links[i], find_nic(nics, n_nics, &links[i]), &d.ports[i], e)) != 0)
			goto fail;
	d.n_ports = n_links;
	qsort(d.ports, d.n_ports, sizeof *d.ports, cmp_want);
	for (size_t i = 1; i < d.n_ports; i++) {
		if (d.ports[i].port == d.ports[i - 1].port) {
			char path[200];
			rc = netd_err_set(e, NETD_EINVAL, port_path(sw, d.ports[i].port, path, sizeof path),
					  "switch %s port %u: linked to both %s/%s and %s/%s", sw->name, d.ports[i].port,
					  d.ports[i - 1].node, d.ports[i - 1].nic, d.ports[i].node, d.ports[i].nic);
			goto fail;
		}
	}
	if ((rc = want_lags(sw, links, n_links, nics, n_nics, &d, e)) != 0)
		goto fail;
	note_vlan_names(&d);
	note_tagged_names(&d, nics, n_nics, links, n_links);
	*out = d;
	return 0;
fail:
	dev_desired_free(&d);
	return rc;
}

/* ---- actual state ---- */

void dev_actual_free(struct dev_actual *a)
{
	if (!a)
		return;
	free(a->rows);
	a->rows = NULL;
	a->n_rows = 0;
}

static struct dev_vlan_row *find_row(const struct dev_actual *a, unsigned v)
{
	for (size_t i = 0; i < a->n_rows; i++)
		if (a->rows[i].vlan == v)
			return &a->rows[i];
	return NULL;
}

/* ---- difference ---- */

/* Per-VLAN working state during a diff. */
struct vwork {
	uint16_t vlan;
	bool has_row, owned;
	struct dev_portlist want_e, want_u, cur_e, cur_u;
};

struct ops {
	struct dev_op *v;
	size_t n, cap;
};

static struct dev_op *ops_add(struct ops *o, enum dev_op_kind kind, unsigned vlan)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 16;
		struct dev_op *nv = realloc(o->v, cap * sizeof *nv);
		if (!nv)
			return NULL;
		o->v = nv;
		o->cap = cap;
	}
	struct dev_op *op = &o->v[o->n++];
	memset(op, 0, sizeof *op);
	op->kind = kind;
	op->vlan = (uint16_t)vlan;
	return op;
}

static void row_name(const struct dev_desired *d, unsigned v, char *buf, size_t len)
{
	const char *net = d->vlan_net && d->vlan_net[v][0] ? d->vlan_net[v] : "idle";
	size_t p = sizeof DEV_OWNED_PREFIX - 1;
	memcpy(buf, DEV_OWNED_PREFIX, p);
	copy_str(buf + p, len - p, net);
}

/* The VLANs the diff looks at: allowed, and wanted or present. */
static int collect(const struct dev_switch *sw, const struct dev_desired *d, const struct dev_actual *a,
		   struct vwork **ret, size_t *ret_n)
{
	struct dev_vlanset rel;
	size_t n = 0;

	memset(&rel, 0, sizeof rel);
	for (size_t i = 0; i < d->n_ports; i++) {
		dev_vlanset_add(&rel, d->ports[i].pvid);
		for (size_t k = 0; k < sizeof rel.o; k++)
			rel.o[k] |= d->ports[i].tagged.o[k];
	}
	for (size_t i = 0; i < a->n_rows; i++)
		dev_vlanset_add(&rel, a->rows[i].vlan);
	for (unsigned v = DEV_VLAN_MIN; v <= DEV_VLAN_MAX; v++)
		n += dev_vlanset_test(&rel, v) && vlan_allowed(sw, v);
	struct vwork *w = calloc(n ? n : 1, sizeof *w);
	if (!w)
		return -ENOMEM;
	n = 0;
	for (unsigned v = DEV_VLAN_MIN; v <= DEV_VLAN_MAX; v++) {
		if (!dev_vlanset_test(&rel, v) || !vlan_allowed(sw, v))
			continue;
		struct vwork *x = &w[n++];
		const struct dev_vlan_row *r = find_row(a, v);
		x->vlan = (uint16_t)v;
		if (r) {
			x->has_row = true;
			x->owned = dev_vlan_owned(r->name);
			x->cur_e = r->egress;
			x->cur_u = r->untagged;
		}
		for (size_t i = 0; i < d->n_ports; i++) {
			const struct dev_port_want *pw = &d->ports[i];
			if (pw->pvid == v) {
				dev_portlist_set(&x->want_e, pw->port);
				dev_portlist_set(&x->want_u, pw->port);
			} else if (dev_vlanset_test(&pw->tagged, v)) {
				dev_portlist_set(&x->want_e, pw->port);
			}
		}
	}
	*ret = w;
	*ret_n = n;
	return 0;
}

static bool wanted(const struct vwork *x)
{
	return dev_portlist_count(&x->want_e) > 0;
}

/* Emit a ports op if @e/@u differ from the current lists, then adopt them. */
static int ports_op(struct ops *o, struct vwork *x, const struct dev_portlist *ne, const struct dev_portlist *nu)
{
	if (!memcmp(ne, &x->cur_e, sizeof *ne) && !memcmp(nu, &x->cur_u, sizeof *nu))
		return 0;
	struct dev_op *op = ops_add(o, DEV_OP_VLAN_PORTS, x->vlan);
	if (!op)
		return -ENOMEM;
	op->old_egress = x->cur_e;
	op->old_untagged = x->cur_u;
	op->egress = *ne;
	op->untagged = *nu;
	x->cur_e = *ne;
	x->cur_u = *nu;
	return 0;
}

static int phase_create(struct ops *o, const struct dev_desired *d, struct vwork *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (w[i].has_row || !wanted(&w[i]))
			continue;
		struct dev_op *op = ops_add(o, DEV_OP_VLAN_CREATE, w[i].vlan);
		if (!op)
			return -ENOMEM;
		row_name(d, w[i].vlan, op->name, sizeof op->name);
		w[i].has_row = w[i].owned = true;
	}
	return 0;
}

static int phase_add(struct ops *o, struct vwork *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct dev_portlist ne = w[i].cur_e, nu = w[i].cur_u;
		for (size_t k = 0; k < DEV_PORTLIST_OCTETS; k++) {
			ne.o[k] |= w[i].want_e.o[k];
			nu.o[k] |= w[i].want_u.o[k];
		}
		int rc = ports_op(o, &w[i], &ne, &nu);
		if (rc)
			return rc;
	}
	return 0;
}

static int phase_pvid(struct ops *o, const struct dev_desired *d, const struct dev_actual *a)
{
	for (size_t i = 0; i < d->n_ports; i++) {
		const struct dev_port_want *pw = &d->ports[i];
		if (a->pvid[pw->port] == pw->pvid)
			continue;
		struct dev_op *op = ops_add(o, DEV_OP_PVID, pw->pvid);
		if (!op)
			return -ENOMEM;
		op->port = pw->port;
		op->pvid = pw->pvid;
		op->old_pvid = a->pvid[pw->port];
	}
	return 0;
}

/* Remove managed ports from what they should not carry. */
static int phase_remove(struct ops *o, const struct dev_desired *d, struct vwork *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct dev_portlist ne = w[i].cur_e, nu = w[i].cur_u;
		for (size_t k = 0; k < d->n_ports; k++) {
			unsigned p = d->ports[k].port;
			if (!dev_portlist_test(&w[i].want_e, p))
				dev_portlist_clear(&ne, p);
			if (!dev_portlist_test(&w[i].want_u, p))
				dev_portlist_clear(&nu, p);
		}
		int rc = ports_op(o, &w[i], &ne, &nu);
		if (rc)
			return rc;
	}
	return 0;
}

static bool pvid_used(const struct dev_desired *d, const struct dev_actual *a, unsigned v)
{
	for (unsigned p = 1; p <= a->nports; p++) {
		unsigned pv = a->pvid[p];
		for (size_t k = 0; k < d->n_ports; k++)
			if (d->ports[k].port == p)
				pv = d->ports[k].pvid;
		if (pv == v)
			return true;
	}
	return false;
}

static int phase_delete(struct ops *o, const struct dev_desired *d, const struct dev_actual *a, struct vwork *w,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct vwork *x = &w[i];
		if (!x->has_row || !x->owned || wanted(x) || dev_portlist_count(&x->cur_e) ||
		    dev_portlist_count(&x->cur_u) || pvid_used(d, a, x->vlan))
			continue;
		if (!ops_add(o, DEV_OP_VLAN_DELETE, x->vlan))
			return -ENOMEM;
	}
	return 0;
}

int dev_diff(const struct dev_switch *sw, const struct dev_desired *d, const struct dev_actual *a,
	     struct dev_op **ret_ops, size_t *ret_n, struct netd_err *e)
{
	struct ops o = { 0 };
	struct vwork *w = NULL;
	size_t n = 0;
	int rc;

	if ((rc = check_switch(sw, e)) != 0)
		return rc;
	if (a->nports != sw->nports)
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: actual state has %u ports, the switch %u",
				    sw->name, a->nports, sw->nports);
	if ((rc = collect(sw, d, a, &w, &n)) != 0)
		return rc;
	if ((rc = phase_create(&o, d, w, n)) || (rc = phase_add(&o, w, n)) || (rc = phase_pvid(&o, d, a)) ||
	    (rc = phase_remove(&o, d, w, n)) || (rc = phase_delete(&o, d, a, w, n)))
		goto fail;
	if ((rc = dev_ops_check(sw, a, o.v, o.n, e)) != 0)
		goto fail;
	free(w);
	*ret_ops = o.n ? o.v : NULL;
	if (!o.n)
		free(o.v);
	*ret_n = o.n;
	return 0;
fail:
	free(w);
	free(o.v);
	return rc;
}

/* ---- checks and application ---- */

static int check_lists(const struct dev_switch *sw, const struct dev_portlist *from, const struct dev_portlist *to,
		       unsigned vlan, struct netd_err *e)
{
	for (unsigned p = 1; p <= DEV_PORTS_MAX; p++) {
		if (dev_portlist_test(from, p) == dev_portlist_test(to, p) || port_allowed(sw, p))
			continue;
		char path[200];
		return netd_err_set(e, NETD_EPERM, port_path(sw, p, path, sizeof path),
				    "switch %s port %u VLAN %u: port is not in the allowed ports", sw->name, p, vlan);
	}
	return 0;
}

static int check_op(const struct dev_switch *sw, const struct dev_actual *a, const struct dev_op *op,
		    struct netd_err *e)
{
	char path[200];
	unsigned v = op->kind == DEV_OP_PVID ? op->pvid : op->vlan;
	int rc;

	if (!vlan_allowed(sw, v))
		return netd_err_set(e, NETD_EPERM, op->kind == DEV_OP_PVID ? port_path(sw, op->port, path, sizeof path) : NULL,
				    "switch %s port %u VLAN %u: VLAN is not in the allowed VLANs", sw->name,
				    op->kind == DEV_OP_PVID ? op->port : 0, v);
	switch (op->kind) {
	case DEV_OP_PVID:
		if (!port_allowed(sw, op->port))
			return netd_err_set(e, NETD_EPERM, port_path(sw, op->port, path, sizeof path),
					    "switch %s port %u VLAN %u: port is not in the allowed ports", sw->name,
					    op->port, v);
		return 0;
	case DEV_OP_VLAN_PORTS:
		if ((rc = check_lists(sw, &op->old_egress, &op->egress, v, e)) != 0)
			return rc;
		return check_lists(sw, &op->old_untagged, &op->untagged, v, e);
	case DEV_OP_VLAN_DELETE: {
		const struct dev_vlan_row *r = find_row(a, v);
		if (r && !dev_vlan_owned(r->name))
			return netd_err_set(e, NETD_EPERM, NULL,
					    "switch %s VLAN %u: row \"%s\" was not created by netd, never deleted",
					    sw->name, v, r->name);
		return 0;
	}
	case DEV_OP_VLAN_CREATE:
		return 0;
	}
	return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: unknown operation %d", sw->name, (int)op->kind);
}

int dev_ops_check(const struct dev_switch *sw, const struct dev_actual *a, const struct dev_op *ops,
		  size_t n, struct netd_err *e)
{
	for (size_t i = 0; i < n; i++) {
		int rc = check_op(sw, a, &ops[i], e);
		if (rc)
			return rc;
	}
	return 0;
}

static int apply_one(struct dev_actual *a, const struct dev_op *op)
{
	struct dev_vlan_row *r = find_row(a, op->vlan);

	switch (op->kind) {
	case DEV_OP_VLAN_CREATE: {
		if (r)
			return NETD_EEXIST;
		struct dev_vlan_row *nr = realloc(a->rows, (a->n_rows + 1) * sizeof *nr);
		if (!nr)
			return -ENOMEM;
		a->rows = nr;
		r = &a->rows[a->n_rows++];
		memset(r, 0, sizeof *r);
		r->vlan = op->vlan;
		copy_str(r->name, sizeof r->name, op->name);
		return 0;
	}
	case DEV_OP_VLAN_PORTS:
		if (!r)
			return NETD_ENOTFOUND;
		if (memcmp(&r->egress, &op->old_egress, sizeof r->egress) ||
		    memcmp(&r->untagged, &op->old_untagged, sizeof r->untagged))
			return NETD_ECONFLICT;
		r->egress = op->egress;
		r->untagged = op->untagged;
		return 0;
	case DEV_OP_PVID:
		if (op->port < 1 || op->port > a->nports)
			return NETD_EINVAL;
		if (a->pvid[op->port] != op->old_pvid)
			return NETD_ECONFLICT;
		a->pvid[op->port] = op->pvid;
		return 0;
	case DEV_OP_VLAN_DELETE:
		if (!r)
			return NETD_ENOTFOUND;
		*r = a->rows[--a->n_rows];
		return 0;
	}
	return NETD_EINVAL;
}

int dev_apply_to_state(struct dev_actual *a, const struct dev_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = apply_one(a, &ops[i]);
		if (rc)
			return rc;
	}
	return 0;
}

const char *dev_op_print(const struct dev_op *op, unsigned nports, char *buf, size_t len)
{
	char e[DEV_PORTLIST_HEX_MAX], u[DEV_PORTLIST_HEX_MAX];

	switch (op->kind) {
	case DEV_OP_VLAN_CREATE:
		snprintf(buf, len, "create %u %s", op->vlan, op->name);
		break;
	case DEV_OP_VLAN_PORTS:
		snprintf(buf, len, "ports %u egress %s untagged %s", op->vlan,
			 dev_portlist_hex(&op->egress, nports, e, sizeof e),
			 dev_portlist_hex(&op->untagged, nports, u, sizeof u));
		break;
	case DEV_OP_PVID:
		snprintf(buf, len, "pvid %u %u", op->port, op->pvid);
		break;
	case DEV_OP_VLAN_DELETE:
		snprintf(buf, len, "delete %u", op->vlan);
		break;
	default:
		snprintf(buf, len, "op %d", (int)op->kind);
	}
	return buf;
}
