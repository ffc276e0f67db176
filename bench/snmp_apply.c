/* bench/snmp_apply.c — the netd side of benchmark 10 (bench/dev_snmp_bench.sh):
 * configure NPORTS ports x NVLANS VLANs on the simulated switch from scratch
 * with devices/' SNMP driver, the way netd does: open an SNMPv3 authPriv
 * session (SHA-256/AES, user swadmin), read, plan, apply in as few SET PDUs
 * as the agent takes, verify by re-reading; then apply again (nothing to
 * send).  Port p carries node "nPP" NIC eth0: VLAN 101 untagged (network
 * net1), VLANs 102.. tagged (net2..).
 *
 *   snmp_apply PORT NPORTS NVLANS
 * Prints RESULT netd_ms=... reapply_ms=... steps=... set_pdus=...
 * set_varbinds=... walks=... (see bench.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "devices/devices.h"
#include "devices/snmp.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: snmp_apply PORT NPORTS NVLANS\n");
		return 2;
	}
	unsigned nports = (unsigned)atoi(argv[2]), nvlans = (unsigned)atoi(argv[3]);
	char peer[64];
	snprintf(peer, sizeof peer, "udp:127.0.0.1:%s", argv[1]);
	if (nports < 1 || nports > 256 || nvlans < 1 || nvlans > 90)
		return 2;

	static const struct dev_range vlans[] = { { 1, 1 }, { 100, 199 } };
	struct dev_range ports[] = { { 1, (uint16_t)nports } };
	struct dev_switch sw = { .name = "bench-sw", .nports = nports, .vlans = vlans, .n_vlans = 2,
				 .ports = ports, .n_ports = 1, .idle_vlan = 199 };
	struct dev_net *nets = calloc(nvlans, sizeof *nets);
	struct dev_link *links = calloc(nports, sizeof *links);
	struct dev_nic *nics = calloc(nports, sizeof *nics);
	if (!nets || !links || !nics)
		return 1;
	for (unsigned k = 0; k < nvlans; k++) {
		snprintf(nets[k].name, sizeof nets[k].name, "net%u", k + 1);
		nets[k].vlan = (uint16_t)(101 + k);
		nets[k].use_vlan = k > 0;
	}
	for (unsigned p = 1; p <= nports; p++) {
		struct dev_link *l = &links[p - 1];
		struct dev_nic *n = &nics[p - 1];
		l->port = p;
		snprintf(l->node, sizeof l->node, "n%02u", p);
		snprintf(l->nic, sizeof l->nic, "eth0");
		snprintf(n->node, sizeof n->node, "n%02u", p);
		snprintf(n->nic, sizeof n->nic, "eth0");
		n->nets = nets;
		n->n_nets = nvlans;
	}
	struct dev_desired d;
	struct netd_err e = { 0 };
	if (dev_desired(&sw, links, nports, nics, nports, &d, &e) != 0) {
		fprintf(stderr, "snmp_apply: %s\n", e.msg);
		return 1;
	}
	struct dev_snmp_cfg cfg = { .name = "bench-sw", .peer = peer, .version = DEV_SNMP_V3, .user = "swadmin",
				    .auth = DEV_AUTH_SHA256, .auth_pass = "authpass-123", .priv = DEV_PRIV_AES128,
				    .priv_pass = "privpass-123", .timeout_ms = 3000, .retries = 1 };
	struct dev_snmp *s = NULL;
	struct dev_snmp_report rep, rep2;

	double t0 = bench_now();
	if (dev_snmp_open(&cfg, &s, &e) != 0 || dev_snmp_reconcile(s, &sw, &d, &rep, &e) != 0) {
		fprintf(stderr, "snmp_apply: %s\n", e.msg);
		return 1;
	}
	double t1 = bench_now();
	if (dev_snmp_reconcile(s, &sw, &d, &rep2, &e) != 0 || rep2.set_pdus != 0) {
		fprintf(stderr, "snmp_apply: re-apply: %s (%u SET PDUs)\n", e.msg, rep2.set_pdus);
		return 1;
	}
	double t2 = bench_now();
	printf("RESULT netd_ms=%.1f reapply_ms=%.1f steps=%zu set_pdus=%u set_varbinds=%u walks=%u\n",
	       (t1 - t0) * 1e3, (t2 - t1) * 1e3, rep.n_steps, rep.set_pdus, rep.set_varbinds, rep.read_walks);
	dev_snmp_report_free(&rep);
	dev_snmp_report_free(&rep2);
	dev_snmp_close(s);
	dev_desired_free(&d);
	free(nets);
	free(links);
	free(nics);
	return 0;
}
