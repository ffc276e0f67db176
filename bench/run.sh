#!/bin/sh
# bench/run.sh BUILD_DIR — netd's benchmarks, each against a named peer.
#
# Every benchmark measures netd and its peer in the same run and prints
#   BENCH name: netd X unit, peer Y unit, ratio R (target ≥ T) PASS|MISS
# then a summary block. Nothing here fails on a MISS: the numbers are a
# report, not a test (exit status is non-zero only if a benchmark could not
# run). Stores live in a temp dir under BUILD_DIR, on the same filesystem as
# the checkout (not tmpfs), so durable numbers mean fsync on the real disk.
#
#   1 durable-alloc   sequential allocate-address RPCs, one client, one
#                     keep-alive connection  vs  raw LMDB, one put per txn
#   2 group-commit    32 clients allocating VIPs from a /16  vs  (1)
#   3 bulk-nodes      100,000 nodes x 2 networks by PATCH, 1,000 per request
#                     vs  raw LMDB, the same records 1,000 per txn
#   4 nextfree        next-free on a 99%-full /16  vs  an empty /16 (in process)
#   5 get-node        GET one node with wrk  vs  a bare libmicrohttpd server
#   6 rss             netd's VmRSS with 100,000 nodes, loaded and restarted
#
# Knobs (environment): BENCH_SECS (per round of 1 and 2, default 3),
# BENCH_ROUNDS (default 4), BENCH_NODES (default 100000), WRK_SECS (default 5).
set -eu

BUILD=${1:?usage: sh bench/run.sh BUILD_DIR}
NETD=$BUILD/netd/netd
B=$BUILD/bench
SECS=${BENCH_SECS:-3}
ROUNDS=${BENCH_ROUNDS:-4}
NODES=${BENCH_NODES:-100000}
WRK_SECS=${WRK_SECS:-5}
RSS_LIMIT_MB=200

for f in "$NETD" "$B/raw_lmdb" "$B/rc_client" "$B/ipam_nextfree" "$B/hello"; do
	[ -x "$f" ] || { echo "bench: $f is missing: build first (ninja -C $BUILD)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 2; }
command -v curl >/dev/null || { echo "bench: curl is missing" >&2; exit 2; }

WORK=$(mktemp -d "$BUILD/bench-run.XXXXXX")
WORK=$(cd "$WORK" && pwd)
SUMMARY=$WORK/summary
: >"$SUMMARY"
NETD_PID=
HELLO_PID=

cleanup() {
	[ -n "$NETD_PID" ] && kill "$NETD_PID" 2>/dev/null && wait "$NETD_PID" 2>/dev/null
	[ -n "$HELLO_PID" ] && kill "$HELLO_PID" 2>/dev/null && wait "$HELLO_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' HUP INT PIPE TERM

die() {
	echo "bench: $*" >&2
	exit 1
}

fstype=$(stat -f -c %T "$WORK")
[ "$fstype" = tmpfs ] && echo "bench: warning: $WORK is on tmpfs: durable numbers mean nothing" >&2

# ------------------------------------------------------------------ helpers

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Value of KEY in the RESULT line of FILE.
result() {
	awk -v k="$1" '$1 == "RESULT" { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$2"
}

# calc EXPR: floating-point arithmetic; fmt EXPR: the same, 1 decimal.
calc() {
	awk "BEGIN { printf \"%.10g\", ($1) }"
}

fmt() {
	awk "BEGIN { printf \"%.1f\", ($1) }"
}

# report NAME NETD PEER UNIT OP TARGET: one BENCH line; OP is ge or le.
report() {
	name=$1 nv=$2 pv=$3 unit=$4 op=$5 target=$6
	ratio=$(awk -v a="$nv" -v b="$pv" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }')
	verdict=$(awk -v r="$ratio" -v t="$target" -v op="$op" \
		'BEGIN { ok = (r != "nan") && (op == "ge" ? r + 0 >= t + 0 : r + 0 <= t + 0); print ok ? "PASS" : "MISS" }')
	sym="≥"
	[ "$op" = le ] && sym="≤"
	echo "BENCH $name: netd $nv $unit, peer $pv $unit, ratio $ratio (target $sym $target) $verdict"
	printf '%-16s netd %12s  peer %12s  %-10s ratio %6s (target %s %s) %s\n' \
		"$name" "$nv" "$pv" "$unit" "$ratio" "$sym" "$target" "$verdict" >>"$SUMMARY"
}

# ------------------------------------------------------------------ netd

# start_netd STORE_DIR: start netd on a free port; sets NETD_PID, BASE, TOKEN.
start_netd() {
	port=$(free_port)
	"$NETD" --store "$1" --listen "127.0.0.1:$port" --log-level warning >>"$WORK/netd.log" 2>&1 &
	NETD_PID=$!
	BASE=http://127.0.0.1:$port
	TOKEN=$1/admin.token
	i=0
	while :; do
		kill -0 "$NETD_PID" 2>/dev/null || { tail -5 "$WORK/netd.log" >&2; NETD_PID=; die "netd did not start"; }
		if [ -s "$TOKEN" ]; then
			code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/restconf" || true)
			[ "$code" = 401 ] || [ "$code" = 200 ] && break
		fi
		i=$((i + 1))
		[ $i -lt 100 ] || die "netd did not answer on $BASE"
		sleep 0.1
	done
}

stop_netd() {
	kill "$NETD_PID"
	wait "$NETD_PID" || true
	NETD_PID=
}

# api METHOD PATH BODY EXPECTED_CODE
api() {
	code=$(curl -s -o "$WORK/api.out" -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer $(cat "$TOKEN")" -H 'Content-Type: application/yang-data+json' \
		${3:+--data-binary "$3"} "$BASE$2")
	[ "$code" = "$4" ] || die "$1 $2: HTTP $code (expected $4): $(cat "$WORK/api.out")"
}

# v4_network NAME SUBNET FIRST LAST [EXTRA_JSON]
v4_network() {
	api POST /restconf/data/netd:networks \
		"{\"netd:network\":[{\"name\":\"$1\",\"ipv4\":{\"subnet\":\"$2\",\"range\":[{\"name\":\"host\",\"first\":\"$3\",\"last\":\"$4\"}]}${5:-}}]}" 201
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# "VmRSS X MB (anon A MB, file F MB)" of PID.
rss_line() {
	awk '/^(VmRSS|RssAnon|RssFile):/ { v[$1] = $2 / 1024 }
	     END { printf "VmRSS %.1f MB (anon %.1f MB, file-backed %.1f MB, mostly the LMDB map)", v["VmRSS:"], v["RssAnon:"], v["RssFile:"] }' \
		"/proc/$1/status"
}

# Last committed write-txn id of the LMDB env in DIR (0 without mdb_stat):
# the difference over a run is the number of commits netd made.
txn_id() {
	command -v mdb_stat >/dev/null || { echo 0; return; }
	mdb_stat -e "$1" 2>/dev/null | awk '/Last transaction ID/ { print $4 }'
}

# CPU seconds (user + system) used so far by PID.
cpu_secs() {
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

# ------------------------------------------------------- 1 and 2: allocations

# Rounds alternate raw LMDB, one netd client and 32 netd clients, so that
# the disk's mood (shared machine) hits all three alike; rates are total
# successful operations over total time.  Both stores are warmed up first
# (untimed): commits into a freshly created LMDB file that still grows are
# markedly slower, for raw LMDB and netd alike.
bench_alloc() {
	echo "# 1, 2: durable allocations; $ROUNDS rounds of ${SECS}s each: raw LMDB, netd 1 client, netd 32 clients"
	mkdir -p "$WORK/alloc"
	start_netd "$WORK/alloc/store"
	v4_network vip1 10.0.0.0/16 10.0.0.1 10.0.255.254
	"$B/raw_lmdb" single "$WORK/alloc/raw" 1 5000 >/dev/null || die "raw_lmdb single failed"
	"$B/rc_client" alloc "$BASE" "$TOKEN" vip1 1 1 5000 >/dev/null || die "rc_client (1 client) failed"
	raw_n=0 raw_t=0 one_n=0 one_t=0 grp_n=0 grp_t=0
	cap=$((60000 / ROUNDS))   # vip1 holds 65,534: 5,000 warm-up + 60,000
	r=1
	while [ $r -le "$ROUNDS" ]; do
		"$B/raw_lmdb" single "$WORK/alloc/raw" "$SECS" 30000 >"$WORK/raw.out" || die "raw_lmdb single failed"
		raw_n=$(calc "$raw_n + $(result records "$WORK/raw.out")")
		raw_t=$(calc "$raw_t + $(result secs "$WORK/raw.out")")
		"$B/rc_client" alloc "$BASE" "$TOKEN" vip1 1 "$SECS" "$cap" >"$WORK/one.out" || die "rc_client (1 client) failed"
		one_n=$(calc "$one_n + $(result ok "$WORK/one.out")")
		one_t=$(calc "$one_t + $(result secs "$WORK/one.out")")
		# a fresh /16 per round: 32 x 2,000 VIPs at most
		v4_network "grp$r" "10.$r.0.0/16" "10.$r.0.1" "10.$r.255.254"
		c0=$(cpu_secs "$NETD_PID")
		x0=$(txn_id "$WORK/alloc/store")
		"$B/rc_client" alloc "$BASE" "$TOKEN" "grp$r" 32 "$SECS" 2000 >"$WORK/grp.out" || die "rc_client (32 clients) failed"
		x1=$(txn_id "$WORK/alloc/store")
		c1=$(cpu_secs "$NETD_PID")
		grp_n=$(calc "$grp_n + $(result ok "$WORK/grp.out")")
		grp_t=$(calc "$grp_t + $(result secs "$WORK/grp.out")")
		echo "#   round $r: raw $(result rate "$WORK/raw.out") puts/s; netd 1 client $(result rate "$WORK/one.out") req/s;" \
			"32 clients $(result rate "$WORK/grp.out") req/s, netd CPU $(fmt "($c1 - $c0) * 1e6 / $(result ok "$WORK/grp.out")") us/req," \
			"$(fmt "$(result ok "$WORK/grp.out") / ($x1 > $x0 ? $x1 - $x0 : 1)") req/commit"
		r=$((r + 1))
	done
	stop_netd
	one_rate=$(fmt "$one_n / $one_t")
	echo "#   raw record sizes: key $(result key_bytes "$WORK/raw.out") B, value $(result val_bytes "$WORK/raw.out") B"
	report durable-alloc "$one_rate" "$(fmt "$raw_n / $raw_t")" ops/s ge 0.3
	report group-commit "$(fmt "$grp_n / $grp_t")" "$one_rate" ops/s ge 5
	rm -rf "$WORK/alloc"
}

# ------------------------------------------------------------ 3: bulk nodes

bench_nodes() {
	echo "# 3: $NODES nodes x 2 networks by PATCH ($NODES/1000 requests) vs raw LMDB, 1,000 records per txn"
	mkdir -p "$WORK/nodes"
	"$B/raw_lmdb" batch "$WORK/nodes/raw1" "$NODES" 1000 >"$WORK/r1.out" 2>&1 || die "raw_lmdb batch failed"
	start_netd "$WORK/nodes/store"
	v4_network admin 10.0.0.0/15 10.0.0.10 10.1.255.250 \
		',"primary":true,"ipv6":{"prefix":"auto"},"dns-domain":"lab.example"'
	v4_network storage 10.2.0.0/15 10.2.0.10 10.3.255.250
	"$B/rc_client" nodes "$BASE" "$TOKEN" "$NODES" 1000 >"$WORK/n.out" || die "rc_client nodes failed"
	"$B/raw_lmdb" batch "$WORK/nodes/raw2" "$NODES" 1000 >"$WORK/r2.out" 2>&1 || die "raw_lmdb batch failed"
	rm -rf "$WORK/nodes/raw1" "$WORK/nodes/raw2"
	# node record + 3 allocations (admin v4 and v6, storage v4) per node
	netd_rate=$(fmt "4 * $(result ok "$WORK/n.out") / $(result secs "$WORK/n.out")")
	raw_rate=$(fmt "($(result records "$WORK/r1.out") + $(result records "$WORK/r2.out")) / \
		($(result secs "$WORK/r1.out") + $(result secs "$WORK/r2.out"))")
	echo "#   netd: $NODES nodes in $(result secs "$WORK/n.out") s; raw: $(result secs "$WORK/r1.out") s, $(result secs "$WORK/r2.out") s"
	report bulk-nodes "$netd_rate" "$raw_rate" records/s ge 0.25
	echo "#   record sizes (raw): key $(result key_bytes "$WORK/r1.out") B, value $(result val_bytes "$WORK/r1.out") B on average"
	api GET /restconf/data/netd:status "" 200
	echo "#   status: $(cat "$WORK/api.out")"
	RSS_LOADED=$(rss_kb "$NETD_PID")
	RSS_LOADED_LINE=$(rss_line "$NETD_PID")
}

# ---------------------------------------------------------------- 5: GET

# wrk_run URL OUT [HEADER]: requests/s of a WRK_SECS run; dies on errors.
wrk_run() {
	if [ -n "${3:-}" ]; then
		wrk -t2 -c32 -d"${WRK_SECS}s" -H "$3" "$1" >"$2"
	else
		wrk -t2 -c32 -d"${WRK_SECS}s" "$1" >"$2"
	fi
	if grep -q -e 'Non-2xx' -e 'Socket errors' "$2"; then
		cat "$2" >&2
		die "wrk saw errors against $1"
	fi
	awk '/^Requests\/sec:/ { print $2 }' "$2"
}

# Alternating runs (netd, hello, netd, hello); the best of each counts.
bench_get() {
	echo "# 5: GET one node (wrk -t2 -c32 -d${WRK_SECS}s, best of 2) vs bare libmicrohttpd hello"
	hport=$(free_port)
	"$B/hello" "$hport" 2 2>>"$WORK/hello.log" &
	HELLO_PID=$!
	sleep 0.3
	kill -0 "$HELLO_PID" 2>/dev/null || die "hello did not start: $(cat "$WORK/hello.log")"
	node=$(printf 'n%06d' $((NODES / 2)))
	api GET "/restconf/data/netd:nodes/node=$node" "" 200
	auth="Authorization: Bearer $(cat "$TOKEN")"
	best_n=0 best_h=0
	for i in 1 2; do
		c0=$(cpu_secs "$NETD_PID")
		n=$(wrk_run "$BASE/restconf/data/netd:nodes/node=$node" "$WORK/wrk.out" "$auth")
		c1=$(cpu_secs "$NETD_PID")
		echo "#   netd: $n req/s, netd CPU $(fmt "($c1 - $c0) * 1e6 / ($n * $WRK_SECS)") us/req"
		c0=$(cpu_secs "$HELLO_PID")
		h=$(wrk_run "http://127.0.0.1:$hport/" "$WORK/wrk.out")
		c1=$(cpu_secs "$HELLO_PID")
		echo "#   hello: $h req/s, hello CPU $(fmt "($c1 - $c0) * 1e6 / ($h * $WRK_SECS)") us/req"
		best_n=$(calc "$n > $best_n ? $n : $best_n")
		best_h=$(calc "$h > $best_h ? $h : $best_h")
	done
	# Uncached: every request names another node, so each answer is built
	# from the store and printed by libyang (the response cache cannot help).
	cat >"$WORK/cold.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", string.format("/restconf/data/netd:nodes/node=n%06d", math.random(0, $NODES - 1)))
end
LUA
	wrk -t2 -c32 -d"${WRK_SECS}s" -s "$WORK/cold.lua" -H "$auth" "$BASE" >"$WORK/wrk.out"
	cold=$(awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.out")
	kill "$HELLO_PID"
	wait "$HELLO_PID" || true
	HELLO_PID=
	report get-node "$best_n" "$best_h" req/s ge 0.7
	echo "#   uncached (a different node per request): netd $cold req/s, ratio $(fmt "$cold / $best_h") (informational)"
}

# ---------------------------------------------------------------- 6: RSS

bench_rss() {
	echo "# 6: netd VmRSS with $NODES nodes: after the bulk load, and after a restart + GET of 3 nodes"
	stop_netd
	start_netd "$WORK/nodes/store"
	for k in 1 $((NODES / 2)) $((NODES - 1)); do
		api GET "/restconf/data/netd:nodes/node=$(printf 'n%06d' "$k")" "" 200
	done
	rss_restart=$(rss_kb "$NETD_PID")
	echo "#   after the bulk load: $RSS_LOADED_LINE"
	echo "#   after a restart and 3 GETs: $(rss_line "$NETD_PID")"
	stop_netd
	report rss-loaded "$(fmt "$RSS_LOADED / 1024")" "$RSS_LIMIT_MB" MB le 1
	report rss-restarted "$(fmt "$rss_restart / 1024")" "$RSS_LIMIT_MB" MB le 1
	rm -rf "$WORK/nodes"
}

# ------------------------------------------------------------ 4: next-free

# Five runs (about 0.2 s each), the median by full-network time counts.
bench_nextfree() {
	echo "# 4: next-free on a 99%-full /16 vs an empty /16 (in process, no_sync store), median of 5"
	: >"$WORK/nf.all"
	for i in 1 2 3 4 5; do
		"$B/ipam_nextfree" "$WORK/nf$i" 600 >"$WORK/nf.out" 2>>"$WORK/nf.log" || { cat "$WORK/nf.log" >&2; die "ipam_nextfree failed"; }
		grep '^RESULT' "$WORK/nf.out" >>"$WORK/nf.all"
		rm -rf "$WORK/nf$i"
	done
	sort -t= -k3 -n "$WORK/nf.all" | sed -n 3p >"$WORK/nf.out"
	full=$(result full_us "$WORK/nf.out")
	empty=$(result empty_us "$WORK/nf.out")
	echo "#   $(tail -1 "$WORK/nf.log"); used $(result used_pct "$WORK/nf.out")%"
	report nextfree-ratio "$full" "$empty" us/alloc le 3
	report nextfree-time "$full" 10 us/alloc le 1
}

# ------------------------------------------------------------ 7: annealer

# The scheduling core alone (annealer/, noop completions, no store yet):
# 10,000 nodes x 10 roles, commit -> all active, against a naive scheduler
# that rescans every node-role after each completion.
bench_anneal() {
	echo "# 7: annealer core, 10,000 nodes x 10 roles (noop jig) vs a naive rescanning scheduler"
	[ -x "$B/ann_bench" ] || die "$B/ann_bench is missing"
	"$B/ann_bench" >"$WORK/ann.out" 2>&1 || die "ann_bench failed: $(cat "$WORK/ann.out")"
	grep -v '^RESULT' "$WORK/ann.out" | sed 's/^/#   /'
	report anneal-time "$(result commit_to_active_s "$WORK/ann.out")" 2 s le 1
	report anneal-per-tr "$(result per_transition_us "$WORK/ann.out")" 10 us le 1
	report anneal-vs-naive "$(result per_transition_us "$WORK/ann.out")" \
		"$(result naive_per_transition_us "$WORK/ann.out")" us/transition le 1
}

# ------------------------------------------------------------ 8: conduits

# conduits/ apply in a network namespace (no bonds/802.1Q on this kernel):
# netd's one-socket apply vs the same changes as one `ip -batch` file and as
# one `ip` process per change; idempotent re-apply; bulk teardown.
crv() { awk -v k="$1" '$1 == "RESULT" && $2 == k { print $3 }' "$2"; }
bench_conduits() {
	echo "# 8: conduit apply (2 bridges, 8 macvlans, 32 addresses, 4 routes) vs ip -batch and ip per change"
	cab=$BUILD/tests/integration/conduit_apply
	[ -x "$cab" ] || die "$cab is missing"
	bash "$(dirname "$0")/conduit_bench.sh" "$cab" 5 >"$WORK/cdt.out" 2>&1 || die "conduit_bench failed: $(cat "$WORK/cdt.out")"
	sed 's/^/#   /' "$WORK/cdt.out"
	report conduit-vs-batch "$(crv conduit_apply_netd_us "$WORK/cdt.out")" "$(crv conduit_apply_ip_batch_us "$WORK/cdt.out")" us le 1
	report conduit-vs-each "$(crv conduit_apply_ip_each_us "$WORK/cdt.out")" "$(crv conduit_apply_netd_us "$WORK/cdt.out")" us ge 10
	report conduit-reapply "$(fmt "$(crv conduit_reapply_us "$WORK/cdt.out") / 1000")" 5 ms le 1
}

# ------------------------------------------------------------------ main

echo "# netd benchmarks: $(nproc) cores, stores in $WORK ($fstype)"
t0=$(date +%s)
bench_alloc
bench_nodes
bench_get
bench_rss
bench_nextfree
bench_anneal
bench_conduits
. "$(dirname "$0")/dns_bench.sh" && bench_dns   # 9: DNS sync (bench/dns_bench.py)
. "$(dirname "$0")/dev_snmp_bench.sh" && bench_snmp   # 10: switch VLANs over SNMP vs snmpset per change
echo
echo "==== bench summary ($(($(date +%s) - t0)) s) ===="
echo "1 durable-alloc: netd sequential allocate-address vs raw LMDB put+commit (peer)"
echo "2 group-commit: netd 32 clients vs netd 1 client (peer)"
echo "3 bulk-nodes: netd PATCH 1,000 nodes/request vs raw LMDB 1,000 records/txn (peer)"
echo "4 nextfree: 99%-full /16 vs empty /16 (peer); nextfree-time vs the 10 us limit (peer)"
echo "5 get-node: netd GET node vs bare libmicrohttpd (peer)"
echo "6 rss: netd VmRSS vs the 200 MB limit (peer)"
echo "7 anneal: commit->active vs the 2 s limit, per-transition vs 10 us; anneal-vs-naive: annealer vs a naive rescanning scheduler (peer)"
echo "8 conduits: apply vs one ip -batch file (peer); conduit-vs-each: ip per change (netd column) vs netd apply (peer); re-apply vs 5 ms"
echo "9 dns-sync: netd commit->all verified vs knsupdate, best batch (peer); dns-vs-per-node: per-node updates, extrapolated (netd column) vs netd (peer)"
cat "$SUMMARY"
echo "$(grep -c ' PASS$' "$SUMMARY") passed, $(grep -c ' MISS$' "$SUMMARY") missed"
