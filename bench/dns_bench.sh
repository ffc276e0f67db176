# bench/dns_bench.sh — benchmark 9 of bench/run.sh (sourced there; POSIX sh,
# uses run.sh's helpers: die, report, result, fmt, BUILD, WORK).
#
# 9 dns-sync: 10,000 new nodes (A + AAAA + 2 PTR + 3 ownership TXT each) into
#   a fresh Knot: netd from the commit of one bulk PATCH to every record
#   verified  vs  knsupdate fed the same records in the best batch size
#   (target <= 1.0), and a per-lease updater (one UPDATE per zone per node,
#   knsupdate, measured on a sample and extrapolated)  vs  netd (>= 20).
# Knobs: DNS_BENCH_NODES, DNS_BENCH_SAMPLE, DNS_BENCH_BATCHES (dns_bench.py).

bench_dns() {
	echo "# 9: DNS sync of ${DNS_BENCH_NODES:-10000} new nodes into Knot: netd vs knsupdate (best batch) and vs per-node updates"
	for p in knotd knsupdate dig; do
		command -v "$p" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
		command -v "$p" >/dev/null 2>&1 || die "$p is missing (tools/deps.sh installs it)"
	done
	here=$(cd "$(dirname "$0")" && pwd)
	python3 "$here/dns_bench.py" "$NETD" "$here/../tests/peers/dns" "$WORK/dns" >"$WORK/dns.out" 2>&1 ||
		die "dns_bench failed: $(tail -20 "$WORK/dns.out")"
	grep -v '^RESULT' "$WORK/dns.out" | sed 's/^# /#   /'
	d_netd=$(result netd_s "$WORK/dns.out")
	report dns-sync "$d_netd" "$(result knsupdate_best_s "$WORK/dns.out")" s le 1
	echo "#   per-node updater: $(result per_node_sample "$WORK/dns.out") nodes measured in" \
		"$(result per_node_sample_s "$WORK/dns.out") s, extrapolated to $(result nodes "$WORK/dns.out") nodes" \
		"(netd column below), against netd's sync (peer column)"
	report dns-vs-per-node "$(result per_node_extrapolated_s "$WORK/dns.out")" "$d_netd" s ge 20
	rm -rf "$WORK/dns"
}
