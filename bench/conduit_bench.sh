#!/bin/bash
# Conduit apply benchmark in a network namespace (this kernel has no bonds or
# 802.1Q): 2 bridges, 8 macvlans (VLAN stand-ins), 32 addresses, 4 routes.
#   netd apply (conduit_apply, one libnl socket, includes dump + diff + read back)
#   vs the same changes as one `ip -batch` file vs one `ip` process per change;
#   idempotent re-apply; bulk teardown vs `ip -batch` link deletes.
# Prints RESULT lines and ratios.  Usage: conduit_bench.sh CONDUIT_APPLY [ROUNDS]
set -euo pipefail
BIN=${1:?usage: conduit_bench.sh CONDUIT_APPLY [ROUNDS]}
ROUNDS=${2:-5}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
NS=netdcb$$
WORK=$(mktemp -d)
trap 'ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"' EXIT
ipn() { ip -n "$NS" "$@"; }
ip netns add "$NS"; ipn link set lo up
for i in 0 1; do ipn link add nic$i type veth peer name peer$i; ipn link set peer$i up; ipn link set nic$i up; done

# the plan, and the same changes as ip commands
{
	echo "node bench"; echo "option vlan_as_macvlan"
	echo "conduit intf0 nic0"; echo "conduit intf1 nic1"
	for n in 1 2 3 4 5 6 7 8; do
		c=$(( n <= 4 ? 0 : 1 )); br=""; [ $n = 1 ] || [ $n = 5 ] && br=bridge
		pref=$n
		echo "network net$n conduit=intf$c vlan=$((n*10)) $br pref=$pref v4=10.$n.0.0/24 router4=10.$n.0.1 v6=fd00:$n::/64 router6=fd00:$n::1"
		echo "addr net$n 10.$n.0.5"; echo "addr net$n 10.$n.0.6"; echo "addr net$n fd00:$n::5"; echo "addr net$n fd00:$n::6"
	done
	echo "extra-route nic0.20 198.51.100.0/24 via 10.2.0.1"
	echo "extra-route nic1.60 203.0.113.0/24 via 10.6.0.1"
} > "$WORK/plan"
{
	for n in 1 2 3 4 5 6 7 8; do
		c=$(( n <= 4 ? 0 : 1 )); d=nic$c.$((n*10))
		echo "link add link nic$c name $d type macvlan mode bridge"
		echo "link set $d alias netd:intf$c/net$n up"
		top=$d
		if [ $n = 1 ] || [ $n = 5 ]; then
			echo "link add br-net$n type bridge"; echo "link set br-net$n alias netd:intf$c/net$n up"
			echo "link set $d master br-net$n"; top=br-net$n
		fi
		echo "addr add 10.$n.0.5/24 dev $top"; echo "addr add 10.$n.0.6/24 dev $top"
		echo "addr add fd00:$n::5/64 dev $top"; echo "addr add fd00:$n::6/64 dev $top"
	done
	echo "route add default via 10.1.0.1 dev br-net1 proto 77"
	echo "route add default via fd00:1::1 dev br-net1 proto 77"
	echo "route add 198.51.100.0/24 via 10.2.0.1 dev nic0.20 proto 77"
	echo "route add 203.0.113.0/24 via 10.6.0.1 dev nic1.60 proto 77"
} > "$WORK/batch"
{
	for n in 1 5; do echo "link del br-net$n"; done
	for n in 1 2 3 4 5 6 7 8; do echo "link del nic$(( n <= 4 ? 0 : 1 )).$((n*10))"; done
} > "$WORK/teardown"
printf 'node bench\n' > "$WORK/empty"
now() { date +%s%N; }

med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: > "$WORK/t_netd"; : > "$WORK/t_batch"; : > "$WORK/t_each"; : > "$WORK/t_re"; : > "$WORK/t_down"; : > "$WORK/t_down_ip"
for r in $(seq "$ROUNDS"); do
	t0=$(now); out=$(ip netns exec "$NS" "$BIN" "$WORK/plan"); t1=$(now)
	[[ $out == "APPLY changes="*" undone=0 "* ]] || { echo "FAIL: $out"; exit 1; }
	echo "$out" | sed 's/.*us=//' >> "$WORK/t_netd"          # in-process time, µs
	changes=$(echo "$out" | sed 's/.*changes=\([0-9]*\).*/\1/'); msgs=$(echo "$out" | sed 's/.*netlink=\([0-9]*\).*/\1/')
	out=$(ip netns exec "$NS" "$BIN" "$WORK/plan")
	[[ $out == "APPLY changes=0 netlink=0 "* ]] || { echo "FAIL re-apply: $out"; exit 1; }
	echo "$out" | sed 's/.*us=//' >> "$WORK/t_re"
	t0=$(now); out=$(ip netns exec "$NS" "$BIN" "$WORK/empty"); t1=$(now)
	echo "$out" | sed 's/.*us=//' >> "$WORK/t_down"
	t0=$(now); ipn -batch "$WORK/batch"; t1=$(now); echo $(( (t1 - t0) / 1000 )) >> "$WORK/t_batch"
	t0=$(now); ipn -batch "$WORK/teardown"; t1=$(now); echo $(( (t1 - t0) / 1000 )) >> "$WORK/t_down_ip"
	t0=$(now); while read -r line; do ipn $line; done < "$WORK/batch"; t1=$(now); echo $(( (t1 - t0) / 1000 )) >> "$WORK/t_each"
	ipn -batch "$WORK/teardown"
done
N=$(med < "$WORK/t_netd"); B=$(med < "$WORK/t_batch"); E=$(med < "$WORK/t_each"); R=$(med < "$WORK/t_re")
D=$(med < "$WORK/t_down"); DI=$(med < "$WORK/t_down_ip")
echo "RESULT conduit_apply_netd_us $N (changes=$changes netlink=$msgs, incl. dump+diff+read-back)"
echo "RESULT conduit_apply_ip_batch_us $B ($(wc -l < "$WORK/batch") lines)"
echo "RESULT conduit_apply_ip_each_us $E"
echo "RESULT conduit_reapply_us $R"
echo "RESULT conduit_teardown_netd_us $D"
echo "RESULT conduit_teardown_ip_batch_us $DI"
awk -v n="$N" -v b="$B" -v e="$E" -v d="$D" -v di="$DI" 'BEGIN {
	printf "RATIO netd/ip-batch %.2f (target <= 1.0)\n", n / b
	printf "RATIO ip-each/netd %.1f (target >= 10)\n", e / n
	printf "RATIO teardown ip-batch/netd %.1f\n", di / d }'
