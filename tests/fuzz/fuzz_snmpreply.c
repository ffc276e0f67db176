/* Fuzz target for what devices/ makes of an SNMP agent's replies: the
 * varbind accumulator (dev_reply_add), the switch state, LLDP and FDB
 * entries it yields, link learning on them, and the plan / steps / agent
 * model on the state read.
 *
 * Input: one octet of port count (0 = as the agent lists them), then
 * records until the input ends:
 *   column   1 octet: which column (mod 16; 15 = a raw OID follows:
 *            1 octet n (mod 17) and n octets, one sub-identifier each)
 *   index    1 octet L (mod 9), then L sub-identifiers of 2 octets (BE)
 *   type     1 octet (mod 6): INTEGER, OCTET STRING, Gauge32,
 *            noSuchInstance, endOfMibView, NULL
 *   value    INTEGER/Gauge32: 4 octets (BE, signed); OCTET STRING: 1
 *            octet length and that many octets (cut at the end of input)
 * Properties (a violation abort()s):
 *  - dev_reply_add never crashes; a refusal carries its code and a message;
 *  - a state that is produced fits its switch: VLAN rows 1..4094 in order,
 *    port lists within the port count, ports in order with distinct
 *    ifIndexes, PVIDs 0..4094 and none beyond the ports; copies are equal;
 *  - LLDP entries decode, sorted by port; FDB entries have a port, sorted;
 *  - dev_learn's links are sorted, one per port and per NIC, each backed by
 *    an entry of its source;
 *  - on a state read, the steps of a plan applied to the agent model leave
 *    nothing for a second plan (convergence).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "devices/snmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "fuzz_snmpreply: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                   \
		}                                                                  \
	} while (0)

struct cur {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct cur *c)
{
	if (!c->n)
		return 0;
	c->n--;
	return *c->p++;
}

/* One record into @vb (OID in @oid, value in @buf); false at the end. */
static bool record(struct cur *c, const uint32_t *roots[16], const size_t *lens, size_t nroots, uint32_t *oid,
		   uint8_t *buf, struct dev_vb *vb)
{
	static const uint8_t types[6] = { DEV_ASN_INTEGER, DEV_ASN_OCTETS, DEV_ASN_GAUGE, DEV_ASN_NOSUCHINSTANCE,
					  DEV_ASN_ENDOFMIBVIEW, DEV_ASN_NULL };
	size_t len = 0;
	if (!c->n)
		return false;
	unsigned col = take(c) % 16;
	if (col < nroots) {
		memcpy(oid, roots[col], lens[col] * sizeof *oid);
		len = lens[col];
	} else {
		unsigned n = take(c) % 17;
		for (unsigned i = 0; i < n; i++)
			oid[len++] = take(c);
	}
	unsigned l = take(c) % 9;
	for (unsigned i = 0; i < l; i++) {
		unsigned hi = take(c);
		oid[len++] = hi << 8 | take(c);
	}
	memset(vb, 0, sizeof *vb);
	vb->oid = oid;
	vb->oid_len = len;
	vb->type = types[take(c) % 6];
	if (vb->type == DEV_ASN_INTEGER || vb->type == DEV_ASN_GAUGE) {
		uint32_t v = 0;
		for (int i = 0; i < 4; i++)
			v = v << 8 | take(c);
		vb->num = vb->type == DEV_ASN_INTEGER ? (int64_t)(int32_t)v : (int64_t)v;
	} else if (vb->type == DEV_ASN_OCTETS) {
		size_t n = take(c);
		if (n > c->n)
			n = c->n;
		memcpy(buf, c->p, n);
		c->p += n;
		c->n -= n;
		vb->str = buf;
		vb->len = n;
	}
	return true;
}

static void check_state(const struct dev_snmp_state *st, unsigned nports)
{
	unsigned n = st->actual.nports;
	uint8_t enc[DEV_PORTLIST_OCTETS];
	CHECK(n >= 1 && n <= DEV_PORTS_MAX);
	CHECK(!nports || n == nports);
	CHECK(st->max_port <= n);
	for (size_t i = 0; i < st->actual.n_rows; i++) {
		const struct dev_vlan_row *r = &st->actual.rows[i];
		CHECK(r->vlan >= DEV_VLAN_MIN && r->vlan <= DEV_VLAN_MAX);
		CHECK(i == 0 || r->vlan > st->actual.rows[i - 1].vlan);
		CHECK(dev_portlist_encode(&r->egress, n, enc, sizeof enc) == (int)((n + 7) / 8));
		CHECK(dev_portlist_encode(&r->untagged, n, enc, sizeof enc) == (int)((n + 7) / 8));
		CHECK(strlen(r->name) < sizeof r->name);
		CHECK(st->row_status[i] >= 1 && st->row_status[i] <= 6);
	}
	for (unsigned p = 0; p <= DEV_PORTS_MAX; p++)
		CHECK(st->actual.pvid[p] <= DEV_VLAN_MAX && (p >= 1 && p <= n ? 1 : st->actual.pvid[p] == 0));
	for (size_t i = 0; i < st->n_ports; i++) {
		CHECK(st->ports[i].port >= 1 && st->ports[i].port <= n);
		CHECK(i == 0 || st->ports[i].port > st->ports[i - 1].port);
		for (size_t k = 0; k < i; k++)
			CHECK(!st->ports[i].ifindex || st->ports[i].ifindex != st->ports[k].ifindex);
		CHECK(dev_snmp_port(st, st->ports[i].port) == &st->ports[i]);
	}
	struct dev_snmp_state c;
	if (dev_snmp_state_copy(st, &c) == 0) {
		CHECK(c.actual.n_rows == st->actual.n_rows && c.n_ports == st->n_ports);
		CHECK(!c.actual.n_rows || !memcmp(c.actual.rows, st->actual.rows, c.actual.n_rows * sizeof *c.actual.rows));
		dev_snmp_state_free(&c);
	}
}

/* NICs whose MACs the learner can find: FDB MACs and LLDP MAC ids. */
static size_t make_nics(const struct dev_lldp_rem *ll, size_t nl, const struct dev_fdb_entry *f, size_t nf,
			struct dev_nicmac *nics, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < nf && n < cap / 2; i++, n++) {
		snprintf(nics[n].node, sizeof nics[n].node, "n%zu", n / 2);
		snprintf(nics[n].nic, sizeof nics[n].nic, "eth%zu", n % 2);
		memcpy(nics[n].mac, f[i].mac, 6);
	}
	for (size_t i = 0; i < nl && n < cap; i++) {
		const struct dev_lldp_id *id = ll[i].port_id.kind == DEV_LLDP_MAC ? &ll[i].port_id : &ll[i].chassis;
		if (id->kind != DEV_LLDP_MAC)
			continue;
		snprintf(nics[n].node, sizeof nics[n].node, "n%zu", n / 2);
		snprintf(nics[n].nic, sizeof nics[n].nic, "%s",
			 ll[i].port_id.kind == DEV_LLDP_NAME ? ll[i].port_id.text : "eth0");
		memcpy(nics[n].mac, id->mac, 6);
		n++;
	}
	return n;
}

static void check_learn(const struct dev_nicmac *nics, size_t nn, const struct dev_lldp_rem *ll, size_t nl,
			const struct dev_fdb_entry *f, size_t nf, struct dev_learn_result *lr)
{
	for (size_t i = 0; i < lr->n_links; i++) {
		const struct dev_learned *k = &lr->links[i];
		CHECK(k->source == DEV_LINK_LLDP || k->source == DEV_LINK_FDB);
		CHECK(i == 0 || k->link.port > lr->links[i - 1].link.port);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(k->link.node, lr->links[j].link.node) || strcmp(k->link.nic, lr->links[j].link.nic));
		bool nic = false, backed = false;
		for (size_t j = 0; j < nn; j++)
			nic |= !strcmp(nics[j].node, k->link.node) && !strcmp(nics[j].nic, k->link.nic) &&
			       !memcmp(nics[j].mac, k->link.mac, 6);
		CHECK(nic);
		if (k->source == DEV_LINK_FDB)
			for (size_t j = 0; j < nf; j++)
				backed |= f[j].port == k->link.port && !memcmp(f[j].mac, k->link.mac, 6);
		else
			for (size_t j = 0; j < nl; j++)
				backed |= ll[j].port == k->link.port;
		CHECK(backed);
	}
	for (size_t i = 0; i < lr->n_notes; i++)
		CHECK(strlen(lr->notes[i].text) < sizeof lr->notes[i].text);
}

/* Plan on the state read, steps on the model, a second plan is empty. */
static void check_converges(struct dev_snmp_state *st, const struct dev_learn_result *lr)
{
	static const struct dev_range all_v[] = { { 1, 4094 } };
	struct dev_range all_p[] = { { 1, (uint16_t)(st->actual.nports > 65535 ? 65535 : st->actual.nports) } };
	struct dev_switch sw = { .name = "fz", .nports = st->actual.nports, .vlans = all_v, .n_vlans = 1,
				 .ports = all_p, .n_ports = 1, .idle_vlan = 4094 };
	struct dev_net nets[2] = { { "u", 100, false }, { "t", 200, true } };
	struct dev_link links[64];
	struct dev_nic nics[64];
	size_t n = 0;
	for (size_t i = 0; i < lr->n_links && n < 64; i++, n++) {
		links[n] = lr->links[i].link;
		memset(&nics[n], 0, sizeof nics[n]);
		memcpy(nics[n].node, links[n].node, sizeof nics[n].node);
		memcpy(nics[n].nic, links[n].nic, sizeof nics[n].nic);
		nics[n].nets = nets;
		nics[n].n_nets = i % 3;   /* some released, some untagged only, some both */
	}
	struct dev_desired d;
	struct dev_snmp_plan p;
	struct dev_step *steps;
	size_t ns;
	if (dev_desired(&sw, links, n, nics, n, &d, NULL) != 0)
		return;
	if (dev_snmp_plan(&sw, &d, st, &p, NULL) != 0) {
		dev_desired_free(&d);
		return;
	}
	CHECK(dev_snmp_steps(&sw, st, &p, &steps, &ns, NULL) == 0);
	for (size_t i = 0; i < ns; i++)
		for (size_t k = 0; k < steps[i].n_vbs; k++)
			CHECK(dev_snmp_state_set(st, &steps[i].vbs[k], NULL) == 0);
	free(steps);
	dev_snmp_plan_free(&p);
	CHECK(dev_snmp_plan(&sw, &d, st, &p, NULL) == 0);
	CHECK(dev_snmp_plan_size(&p) == 0);
	dev_snmp_plan_free(&p);
	dev_desired_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint32_t *roots[16];
	size_t lens[16];
	size_t nroots = dev_read_columns(DEV_READ_STATE | DEV_READ_LINKS, roots, lens);
	static uint32_t oid[64];
	static uint8_t buf[256];
	struct cur c = { data, size };
	struct dev_reply *r = NULL;
	struct dev_vb vb;

	if (size < 1 || dev_reply_new("fz", &r) != 0)
		return 0;
	unsigned nports = take(&c);
	while (record(&c, roots, lens, nroots, oid, buf, &vb)) {
		struct netd_err e = { 0 };
		int rc = dev_reply_add(r, &vb, &e);
		CHECK(rc == 0 || (e.code == rc && e.msg[0]) || rc == -12);
	}
	struct dev_snmp_state st;
	struct netd_err e = { 0 };
	int rc = dev_reply_state(r, nports, &st, &e);
	CHECK(rc == 0 || (e.code == rc && e.msg[0]) || rc == -12);
	if (rc == 0)
		check_state(&st, nports);

	struct dev_lldp_rem *ll = NULL;
	struct dev_fdb_entry *f = NULL;
	size_t nl = 0, nf = 0, skipped = 0;
	if (dev_reply_lldp(r, &ll, &nl, &skipped) == 0 && dev_reply_fdb(r, &f, &nf) == 0) {
		for (size_t i = 0; i < nl; i++) {
			CHECK(ll[i].port >= 1 && ll[i].port <= DEV_PORTS_MAX);
			CHECK(i == 0 || ll[i].port > ll[i - 1].port ||
			      (ll[i].port == ll[i - 1].port && ll[i].index > ll[i - 1].index));
			CHECK(ll[i].chassis.kind >= DEV_LLDP_MAC && ll[i].chassis.kind <= DEV_LLDP_OTHER);
			CHECK(strlen(ll[i].port_id.text) < sizeof ll[i].port_id.text);
		}
		for (size_t i = 0; i < nf; i++) {
			CHECK(f[i].port >= 1 && f[i].port <= DEV_PORTS_MAX);
			CHECK(i == 0 || memcmp(f[i - 1].mac, f[i].mac, 6) < 0 ||
			      (!memcmp(f[i - 1].mac, f[i].mac, 6) && f[i - 1].fid < f[i].fid));
		}
		struct dev_nicmac nics[16];
		size_t nn = make_nics(ll, nl, f, nf, nics, 16);
		struct dev_learn_result lr;
		if (dev_learn(nics, nn, ll, nl, f, nf, &lr) == 0) {
			check_learn(nics, nn, ll, nl, f, nf, &lr);
			if (rc == 0)
				check_converges(&st, &lr);
			dev_learn_result_free(&lr);
		}
	}
	free(ll);
	free(f);
	if (rc == 0)
		dev_snmp_state_free(&st);
	dev_reply_free(r);
	return 0;
}
