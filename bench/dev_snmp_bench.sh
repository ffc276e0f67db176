# bench/dev_snmp_bench.sh — benchmark 10 of bench/run.sh (sourced there; POSIX
# sh, uses run.sh's helpers: die, report, result, fmt, BUILD, WORK).
#
# 10 snmp-vs-snmpset: 48 ports x 4 VLANs configured from scratch on the
#   simulated switch (tests/peers/switch: net-snmp's snmpd + pass_persist,
#   SNMPv3 authPriv SHA-256/AES): netd's driver (bench/snmp_apply: open,
#   read, plan, SETs in as few PDUs as the agent takes, verify)  vs  one
#   `snmpset` process per change, the way a script does it (create each
#   VLAN; add each port to each VLAN's egress/untagged lists; each PVID;
#   take each port out of VLAN 1; each ifAlias).  Both must leave the same
#   switch state (compared as text), else the benchmark fails.  Best of
#   SNMP_BENCH_ROUNDS (default 2) rounds each; target: netd >= 10x faster.

bench_snmp() {
	ports=${SNMP_BENCH_PORTS:-48}
	nv=${SNMP_BENCH_VLANS:-4}
	rounds=${SNMP_BENCH_ROUNDS:-2}
	echo "# 10: $ports ports x $nv VLANs on the simulated switch: netd's SNMP driver vs one snmpset per change"
	PATH=$PATH:/usr/sbin
	for p in snmpd snmpset; do
		command -v "$p" >/dev/null 2>&1 || die "$p is missing (tools/deps.sh installs it)"
	done
	[ -x "$B/snmp_apply" ] || die "$B/snmp_apply is missing"
	here=$(cd "$(dirname "$0")" && pwd)
	peers=$here/../tests/peers/switch
	sw=$WORK/snmp
	mkdir -p "$sw"
	"$peers/start.sh" "$sw" "$ports" >"$sw/start.out" 2>&1 || die "switch simulator: $(cat "$sw/start.out")"
	# shellcheck disable=SC1091
	. "$sw/peers.env"
	ctl() { /usr/bin/python3 "$peers/switchsim_pp.py" ctl "$SWITCH_STATE" "$@"; }
	# the script: one snmpset per change, generated beforehand (not timed)
	/usr/bin/python3 - "$ports" "$nv" "$SWITCH_PORT" >"$sw/script.sh" <<'PY'
import sys
n, nv, port = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
a = ("snmpset -v3 -l authPriv -u swadmin -a SHA-256 -A authpass-123 -x AES -X privpass-123 "
     "-r 1 -t 3 -Oq 127.0.0.1:%s" % port)
q, pvid, alias = ".1.3.6.1.2.1.17.7.1.4.3.1", ".1.3.6.1.2.1.17.7.1.4.5.1.1", ".1.3.6.1.2.1.31.1.1.1.18"
pl = (n + 7) // 8
def hx(ports): 
    b = bytearray(pl)
    for p in ports: b[(p - 1) // 8] |= 0x80 >> ((p - 1) % 8)
    return b.hex()
print("set -e")
for k in range(nv):
    print("%s %s.5.%d i 4 %s.1.%d s netd-net%d >/dev/null" % (a, q, 101 + k, q, 101 + k, k + 1))
eg = {101 + k: set() for k in range(nv)}
for p in range(1, n + 1):
    for k in range(nv):
        v = 101 + k
        eg[v].add(p)
        extra = " %s.4.%d x %s" % (q, v, hx(eg[v])) if k == 0 else ""
        print("%s %s.2.%d x %s%s >/dev/null" % (a, q, v, hx(eg[v]), extra))
for p in range(1, n + 1):
    print("%s %s.%d u 101 >/dev/null" % (a, pvid, p))
left = set(range(1, n + 1))
for p in range(1, n + 1):
    left.discard(p)
    print("%s %s.4.1 x %s %s.2.1 x %s >/dev/null" % (a, q, hx(left), q, hx(left)))
for p in range(1, n + 1):
    print("%s %s.%d s 'netd: n%02d eth0' >/dev/null" % (a, alias, 1000 + p, p))
PY
	changes=$(grep -c '^snmpset' "$sw/script.sh")
	best_n= best_s=
	r=1
	while [ $r -le "$rounds" ]; do
		ctl reset
		"$B/snmp_apply" "$SWITCH_PORT" "$ports" "$nv" >"$sw/netd.out" 2>&1 ||
			{ "$peers/stop.sh" "$sw" >/dev/null; die "snmp_apply failed: $(cat "$sw/netd.out")"; }
		ctl dump >"$sw/netd.state"
		ctl reset
		t0=$(date +%s%N)
		bash "$sw/script.sh" 2>"$sw/script.err" ||
			{ "$peers/stop.sh" "$sw" >/dev/null; die "the snmpset script failed: $(tail -3 "$sw/script.err")"; }
		t1=$(date +%s%N)
		ctl dump >"$sw/script.state"
		cmp -s "$sw/netd.state" "$sw/script.state" ||
			{ "$peers/stop.sh" "$sw" >/dev/null; die "netd and the snmpset script left different switch states: $(diff "$sw/netd.state" "$sw/script.state" | head -5)"; }
		n_ms=$(result netd_ms "$sw/netd.out")
		s_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
		echo "#   round $r: netd $n_ms ms ($(result steps "$sw/netd.out") steps in $(result set_pdus "$sw/netd.out") SET PDUs," \
			"$(result set_varbinds "$sw/netd.out") varbinds, $(result walks "$sw/netd.out") walks; re-apply" \
			"$(result reapply_ms "$sw/netd.out") ms, 0 SETs); snmpset script $s_ms ms ($changes processes); same end state"
		best_n=$(awk -v a="$n_ms" -v b="${best_n:-0}" 'BEGIN { print (b == 0 || a < b) ? a : b }')
		best_s=$(awk -v a="$s_ms" -v b="${best_s:-0}" 'BEGIN { print (b == 0 || a < b) ? a : b }')
		r=$((r + 1))
	done
	"$peers/stop.sh" "$sw" >/dev/null
	echo "#   snmp-vs-snmpset: one snmpset per change (netd column) vs netd's driver (peer column), best of $rounds"
	report snmp-vs-snmpset "$best_s" "$best_n" ms ge 10
	rm -rf "$sw"
}
