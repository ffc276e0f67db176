#!/usr/bin/env bash
# tests/integration/test_netctl.sh — netctl against a real netd.
#
#   test_netctl.sh <path-to-netd> <path-to-netctl> <source-root>
#
# Starts netd on a free loopback port with a temporary store, drives it with
# netctl (apply, get, node add/rename/delete, alloc/release, errors), stops
# it by PID and removes its files. Prints TAP lines ("ok N - ...",
# "not ok N - ..."); exits 1 if any check failed, 77 (skip) never.
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 <netd> <netctl> <source-root>" >&2
	exit 64
fi
NETD=$(realpath "$1")
NETCTL=$(realpath "$2")
SRC=$(realpath "$3")

TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_netctl.XXXXXX") || exit 1
STORE=$TMP/store
WORK=$TMP/work            # netctl's cwd: no ./var/netd here
NETD_PID=
mkdir -p "$WORK"

stop_netd() {
	if [ -n "$NETD_PID" ] && kill -0 "$NETD_PID" 2>/dev/null; then
		kill "$NETD_PID" 2>/dev/null
		wait "$NETD_PID" 2>/dev/null
	fi
	NETD_PID=
}
cleanup() {
	stop_netd
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- TAP helpers -----------------------------------------------------------

N=0
FAILED=0
OUT=
ERR=
RC=0

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() {
	N=$((N + 1)); FAILED=$((FAILED + 1))
	echo "not ok $N - $1"
	echo "#   exit status: $RC"
	printf '%s\n' "$OUT" | sed 's/^/#   stdout: /'
	printf '%s\n' "$ERR" | sed 's/^/#   stderr: /'
}
# expect DESCRIPTION CONDITION: CONDITION is shell code run with eval.
expect() {
	if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}
out_has() { printf '%s\n' "$OUT" | grep -Eq -- "$1"; }
err_has() { printf '%s\n' "$ERR" | grep -Eq -- "$1"; }
out_lacks() { ! out_has "$1"; }
# The table row whose first column is $1 (empty if none).
row() { printf '%s\n' "$OUT" | awk -v k="$1" '$1 == k'; }
row_has() { row "$1" | grep -Eq -- "$2"; }

# nc ARGS...: run netctl in $WORK, capturing stdout, stderr, exit status.
nc() {
	OUT=$(cd "$WORK" && "$NETCTL" "$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(cat "$TMP/stderr")
}
# nc_anon ARGS...: netctl with no way to find a token.
nc_anon() {
	OUT=$(cd "$WORK" && env -u NETD_TOKEN -u NETD_STORE "$NETCTL" "$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(cat "$TMP/stderr")
}

# ---- start netd ------------------------------------------------------------

pick_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
		2>/dev/null || echo $((20000 + ($$ + $1 * 7919) % 20000))
}

# Start netd on a new port; 0 once it answers an authenticated status.
start_netd() {
	local port=$1 i
	URL=http://127.0.0.1:$port
	"$NETD" --store "$STORE" --listen "127.0.0.1:$port" >>"$TMP/netd.log" 2>&1 &
	NETD_PID=$!
	for i in $(seq 1 300); do
		kill -0 "$NETD_PID" 2>/dev/null || { wait "$NETD_PID" 2>/dev/null; NETD_PID=; return 1; }
		if [ -s "$STORE/admin.token" ] &&
		   "$NETCTL" --server "$URL" --token-file "$STORE/admin.token" status >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	stop_netd
	return 1
}

started=false
for attempt in 1 2 3 4 5; do
	if start_netd "$(pick_port "$attempt")"; then started=true; break; fi
done
if ! $started; then
	echo "not ok 1 - netd starts and answers"
	sed 's/^/#   netd: /' "$TMP/netd.log"
	echo "1..1"
	exit 1
fi
ok "netd starts on $URL and answers"

unset NETD_TOKEN
export NETD_SERVER=$URL NETD_STORE=$STORE

# ---- apply -------------------------------------------------------------------

LAB=$SRC/examples/lab.json
if [ -f "$LAB" ]; then
	nc apply -f "$LAB"
	expect "apply examples/lab.json creates everything" \
		'[ $RC -eq 0 ] && out_has "^apply: [1-9][0-9]* created, 0 updated, 0 unchanged$"'
	lab_total=$(printf '%s\n' "$OUT" | sed -n 's/^apply: \([0-9]*\) created.*/\1/p')
	nc apply -f "$LAB"
	expect "apply examples/lab.json again changes nothing" \
		'[ $RC -eq 0 ] && out_has "^apply: 0 created, 0 updated, ${lab_total:-x} unchanged$"'
fi

# The inline lab: names and TEST-NET addresses unlikely to clash with examples/.
T=$TMP/tn.json
write_lab() { # $1: mtu of tnstore, $2: alias of tn02
	cat >"$T" <<EOF
{
  "netd:networks": {
    "network": [
      {"name": "tnadmin", "conduit": "intf0", "dns-domain": "tn.example",
       "ipv4": {"subnet": "198.51.100.0/24", "router": "198.51.100.1",
                "range": [{"name": "host", "first": "198.51.100.10", "last": "198.51.100.99"},
                          {"name": "vip", "first": "198.51.100.200", "last": "198.51.100.220"}]},
       "ipv6": {"prefix": "fd00:5:1::/64",
                "range": [{"name": "host", "first": "fd00:5:1::10", "last": "fd00:5:1::ff"}]}},
      {"name": "tnstore", "conduit": "intf1", "vlan": 321, "use-vlan": true, "mtu": $1,
       "ipv4": {"subnet": "203.0.113.0/24",
                "range": [{"name": "host", "first": "203.0.113.10", "last": "203.0.113.50"}]}}
    ]
  },
  "netd:nodes": {
    "node": [
      {"name": "tn01", "admin-mac": "52:54:00:00:05:01",
       "network": [{"name": "tnadmin"}, {"name": "tnstore"}]},
      {"name": "tn02", "alias": ["$2"], "network": [{"name": "tnadmin", "ipv4-hint": "198.51.100.42"}]},
      {"name": "tn03", "network": [{"name": "tnadmin", "range": "host"}]}
    ]
  }
}
EOF
}
write_lab 9000 tndb
nc apply -f "$T"
expect "apply creates 2 networks and 3 nodes" \
	'[ $RC -eq 0 ] && out_has "^apply: 5 created, 0 updated, 0 unchanged$" &&
	 out_has "^network tnadmin: created$" && out_has "^node tn03: created$"'
expect "apply sends networks before nodes" \
	'[ "$(printf "%s\n" "$OUT" | grep -n "^network tnstore" | cut -d: -f1)" -lt \
	   "$(printf "%s\n" "$OUT" | grep -n "^node tn01" | cut -d: -f1)" ]'

nc apply -f "$T"
expect "apply again: 0 created, 0 updated" \
	'[ $RC -eq 0 ] && out_has "^apply: 0 created, 0 updated, 5 unchanged$"'

write_lab 1500 tnpg
nc apply -f "$T"
expect "apply after changes updates one network and one node" \
	'[ $RC -eq 0 ] && out_has "^network tnstore: updated$" && out_has "^node tn02: updated$" &&
	 out_has "^apply: 0 created, 2 updated, 3 unchanged$"'
nc apply -f "$T"
expect "apply after the update changes nothing" '[ $RC -eq 0 ] && out_has "^apply: 0 created, 0 updated, 5 unchanged$"'

cat >"$TMP/bad.json" <<'EOF'
{"netd:networks": {"network": [{"name": "tnbad", "use-vlan": true,
  "ipv4": {"subnet": "192.0.2.0/24"}}]}}
EOF
nc apply -f "$TMP/bad.json"
expect "apply of an invalid file fails locally with the data path" \
	'[ $RC -eq 1 ] && err_has "use-vlan needs a vlan" &&
	 err_has "path /netd:networks/network\[name=.tnbad.\]/use-vlan" && [ -z "$OUT" ]'
nc get networks
expect "nothing of the invalid file reached netd" '[ $RC -eq 0 ] && [ -z "$(row tnbad)" ]'

# ---- get ---------------------------------------------------------------------

nc get networks
expect "get networks: header and rows" \
	'[ $RC -eq 0 ] && out_has "^NAME +CONDUIT +VLAN +IPV4 +USED4 +FREE4 +IPV6 +USED6 +DOMAIN$" &&
	 row_has tnadmin "intf0 +- +198\.51\.100\.0/24 +[0-9]+ +[0-9]+ +fd00:5:1::/64 +[0-9]+ +tn\.example$" &&
	 row_has tnstore "intf1 +321 +203\.0\.113\.0/24 "'
expect "get networks: USED counts the nodes' addresses" \
	'[ "$(row tnadmin | awk "{print \$5}")" -ge 3 ] && [ "$(row tnstore | awk "{print \$5}")" -ge 1 ]'

nc get networks tnstore
expect "get networks NAME: one row" \
	'[ $RC -eq 0 ] && [ "$(printf "%s\n" "$OUT" | wc -l)" -eq 2 ] && [ -n "$(row tnstore)" ]'

nc get networks --json
expect "get networks --json prints netd's JSON" \
	'[ $RC -eq 0 ] && out_has "\"netd:networks\"" && out_has "tnadmin"'

nc get nodes
expect "get nodes: header and rows" \
	'[ $RC -eq 0 ] && out_has "^NAME +MAC +NETWORKS +ADDRESSES$" &&
	 row_has tn01 "52:54:00:00:05:01 +tnadmin,tnstore +.*198\.51\.100\..*203\.0\.113\." &&
	 row_has tn02 "198\.51\.100\.42" && [ -n "$(row tn03)" ]'

nc get nodes tn02
expect "get nodes NAME: one row" \
	'[ $RC -eq 0 ] && [ "$(printf "%s\n" "$OUT" | wc -l)" -eq 2 ] && row_has tn02 "198\.51\.100\.42"'

nc get allocations tnadmin
expect "get allocations NETWORK: filtered rows" \
	'[ $RC -eq 0 ] && out_has "^NETWORK +ADDRESS +OWNER +KIND +RANGE +STATE$" &&
	 out_has "^tnadmin +198\.51\.100\.42 +tn02 +node +host +active$" &&
	 [ -z "$(row tnstore)" ] && [ "$(printf "%s\n" "$OUT" | awk "NR > 1" | wc -l)" -ge 3 ]'

nc get allocations
expect "get allocations: all networks" '[ $RC -eq 0 ] && [ -n "$(row tnstore)" ] && [ -n "$(row tnadmin)" ]'

nc status
expect "status prints key: value lines" \
	'[ $RC -eq 0 ] && out_has "^version: " && out_has "^nodes: [0-9]+$" && out_has "^networks: [0-9]+$"'

# ---- node add / rename / delete ------------------------------------------------

nc node add tn04 --network tnadmin:host --hint4 tnadmin=198.51.100.77 --mac 52:54:00:00:05:04 --alias tnweb
expect "node add: created, addresses shown" \
	'[ $RC -eq 0 ] && out_has "^node tn04: created$" && out_has "^tnadmin +ipv4 +198\.51\.100\.77$"'

nc node add tn04 --network tnadmin
expect "node add of an existing node: exit 1, HTTP 409" '[ $RC -eq 1 ] && err_has "HTTP 409"'

nc node add tn09 --network tnnosuch
expect "node add on an unknown network: exit 1 with the data path" \
	'[ $RC -eq 1 ] && err_has "^netctl: .*\(path /netd:.*HTTP 4[0-9][0-9] "'
nc get nodes
expect "the failed node add left nothing behind" '[ -z "$(row tn09)" ]'

nc node rename tn04 tn05
expect "node rename" '[ $RC -eq 0 ] && out_has "^node tn04: renamed to tn05$"'
nc get nodes
expect "renamed node keeps its address" \
	'[ -z "$(row tn04)" ] && row_has tn05 "52:54:00:00:05:04 +tnadmin +.*198\.51\.100\.77"'
nc get allocations tnadmin
expect "the allocation moved to the new name" 'out_has "^tnadmin +198\.51\.100\.77 +tn05 +node "'

nc node delete tn05
expect "node delete" '[ $RC -eq 0 ] && out_has "^node tn05: deleted$"'
nc get nodes
expect "deleted node is gone" '[ -z "$(row tn05)" ]'
nc node delete tn05
expect "node delete of a missing node: exit 1, HTTP 404" '[ $RC -eq 1 ] && err_has "HTTP 404"'

# ---- alloc / release -----------------------------------------------------------

nc alloc tnadmin tnvip1 --range vip
VIP=$OUT
VIP_RE=$(printf '%s' "$VIP" | sed 's/\./\\./g')
expect "alloc prints an address from the range" '[ $RC -eq 0 ] && out_has "^198\.51\.100\.2[0-2][0-9]$"'
nc alloc tnadmin tnvip1 --range vip
expect "alloc is idempotent" '[ $RC -eq 0 ] && [ "$OUT" = "$VIP" ]'
nc alloc tnadmin tnvip6 --family ipv6
expect "alloc --family ipv6" '[ $RC -eq 0 ] && out_has "^fd00:5:1::[0-9a-f]+$"'
nc get allocations tnadmin
expect "the VIP is listed" 'out_has "^tnadmin +$VIP_RE +tnvip1 +vip +vip +active$"'

nc release tnadmin "$VIP"
expect "release" '[ $RC -eq 0 ]'
nc get allocations tnadmin
expect "the released VIP is held" 'out_has "^tnadmin +$VIP_RE +tnvip1 +vip +vip +held$"'

nc alloc tnnosuch tnvip2
expect "alloc on an unknown network: exit 1" '[ $RC -eq 1 ] && err_has "^netctl: .*HTTP 4[0-9][0-9]"'
nc alloc tnadmin tnvip3 --family ipv5
expect "alloc with a bad family fails before sending" '[ $RC -eq 1 ] && err_has "ipv5"'

# ---- credentials, connection, usage ----------------------------------------

nc_anon get networks
expect "no token: exit 1 with the 401 error" '[ $RC -eq 1 ] && err_has "HTTP 401"'

echo "not-the-token" >"$TMP/wrong.token"
nc_anon --token-file "$TMP/wrong.token" status
expect "wrong token: exit 1 with the 401 error" '[ $RC -eq 1 ] && err_has "HTTP 401"'

nc_anon --token-file "$STORE/admin.token" get nodes
expect "--token-file works" '[ $RC -eq 0 ] && [ -n "$(row tn01)" ]'

OUT=$(cd "$WORK" && env -u NETD_STORE NETD_TOKEN="$(cat "$STORE/admin.token")" "$NETCTL" status 2>"$TMP/stderr")
RC=$?; ERR=$(cat "$TMP/stderr")
expect "NETD_TOKEN works" '[ $RC -eq 0 ] && out_has "^version: "'

nc_anon --token-file "$TMP/no-such.token" status
expect "unreadable token file: exit 1" '[ $RC -eq 1 ] && err_has "no-such.token"'

nc --server http://127.0.0.1:1 status
expect "unreachable netd: exit 2" '[ $RC -eq 2 ] && err_has "^netctl: cannot reach netd at http://127\.0\.0\.1:1: "'

nc frobnicate
expect "unknown command: exit 64 with usage" '[ $RC -eq 64 ] && err_has "^usage: netctl"'
nc get widgets
expect "get of an unknown kind: exit 64" '[ $RC -eq 64 ]'
nc --help
expect "--help prints usage" '[ $RC -eq 0 ] && out_has "^usage: netctl"'
nc help
expect "help prints usage" '[ $RC -eq 0 ] && out_has "^usage: netctl"'

OUT=$(echo "s3cret-pass" | "$NETCTL" hash-password 2>"$TMP/stderr"); RC=$?; ERR=$(cat "$TMP/stderr")
expect "hash-password prints a yescrypt hash" '[ $RC -eq 0 ] && out_has "^[\$]y[\$]"'

# ---- stop ------------------------------------------------------------------------

kill "$NETD_PID"
wait "$NETD_PID"
RC=$?
NETD_PID=
OUT=; ERR=$(tail -5 "$TMP/netd.log")
expect "netd exits cleanly on SIGTERM" '[ $RC -eq 0 ]'

echo "1..$N"
if [ "$FAILED" -ne 0 ]; then
	echo "# $FAILED of $N checks failed; netd log:"
	sed 's/^/#   netd: /' "$TMP/netd.log" | tail -40
	exit 1
fi
exit 0
