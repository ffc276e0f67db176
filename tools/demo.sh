#!/bin/sh
# make demo: the whole product on the example lab, on loopback.
#   1. netd with its embedded defaults: store in ./var/netd (LMDB, in the
#      working tree), RESTCONF on 127.0.0.1:8080; the first start writes
#      ./var/netd/admin.token, which netctl finds by itself
#   2. networks and nodes from examples/lab.json
#   3. DNS: Knot DNS as primary for the lab's zones (tools/demo-dns.sh),
#      netd's dns document pointing at it, records published and verified
#   4. the annealer: roles from examples/roles.json.in (noop, ipam, dns and
#      an exec jig, examples/jigs/hello.sh), deployment "demo" on three nodes
# netd and Knot keep running in the background; `make demo-stop` stops both.
# Running it again while they run changes nothing and shows the same.
set -eu
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
netd="$BUILD/netd/netd"
netctl="$BUILD/netd/netctl"
pidfile=var/netd.pid
mkdir -p var/demo

running_netd() { # the PID of our running netd, or nothing
	[ -f "$pidfile" ] || return 0
	p=$(cat "$pidfile")
	case $p in '' | *[!0-9]*) return 0 ;; esac
	[ "$(cat "/proc/$p/comm" 2>/dev/null || true)" = netd ] && echo "$p"
	return 0
}

pid=$(running_netd)
if [ -n "$pid" ]; then
	echo "demo: netd is already running (pid $pid)"
else
	"$netd" > var/netd.log 2>&1 &
	echo $! > "$pidfile"
	i=0
	until "$netctl" status > /dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
			echo "demo: netd did not come up; its log:"; cat var/netd.log; exit 1
		fi
		sleep 0.1
	done
	echo "demo: netd $(cat "$pidfile") listens on http://127.0.0.1:8080 (store ./var/netd, log ./var/netd.log)"
fi

echo "demo: \$ netctl apply -f examples/lab.json"
"$netctl" apply -f examples/lab.json | tail -n 3
echo
echo "demo: \$ netctl get networks"
"$netctl" get networks
echo
echo "demo: \$ netctl get allocations admin"
"$netctl" get allocations admin | head -n 6
echo "      ..."
echo

# ---- DNS --------------------------------------------------------------------
sh tools/demo-dns.sh up "$netctl"
port=$(cat var/knot/port)
echo
echo "demo: \$ netctl dns status"
"$netctl" dns status
echo
echo "demo: \$ kdig @127.0.0.1 -p $port +short node01.lab.example A"
kdig @127.0.0.1 -p "$port" +short node01.lab.example A
echo "demo: \$ kdig @127.0.0.1 -p $port +short -x 192.168.124.100"
kdig @127.0.0.1 -p "$port" +short -x 192.168.124.100
echo "demo: \$ kdig @127.0.0.1 -p $port +short ctl.lab.example TXT   # an alias: CNAME to node01, its ownership TXT"
kdig @127.0.0.1 -p "$port" +short ctl.lab.example TXT
echo

# ---- the annealer -------------------------------------------------------------
[ -x examples/jigs/hello.sh ] || chmod +x examples/jigs/hello.sh
sed "s|@EXAMPLES@|$top/examples|g" examples/roles.json.in > var/demo/roles.json
status=$(curl -sS -o var/demo/roles.out -w '%{http_code}' -X PATCH \
	-H "Authorization: Bearer $(cat var/netd/admin.token)" -H 'Content-Type: application/yang-data+json' \
	--data-binary @var/demo/roles.json http://127.0.0.1:8080/restconf/data) || status=000
case $status in
200 | 201 | 204) ;;
*) echo "demo: netd refused the roles (HTTP $status): $(cat var/demo/roles.out)"; exit 1 ;;
esac
echo "demo: \$ curl -X PATCH .../restconf/data -d @examples/roles.json.in   # roles base (noop), addresses (ipam), dns-ready (dns), hello (exec)"
echo "demo: \$ netctl anneal propose demo --node node01 node02 node03 --role base addresses dns-ready hello"
"$netctl" anneal propose demo --node node01 node02 node03 --role base addresses dns-ready hello
echo "demo: \$ netctl anneal commit demo"
"$netctl" anneal commit demo
echo "demo: \$ netctl anneal watch demo"
"$netctl" anneal watch demo
echo
echo "demo: \$ netctl anneal status demo"
"$netctl" anneal status demo
echo
echo "demo: the log of hello on node01 (GET /restconf/data/netd:node-roles/node-role=demo,node01,hello):"
curl -sS -H "Authorization: Bearer $(cat var/netd/admin.token)" \
	http://127.0.0.1:8080/restconf/data/netd:node-roles/node-role=demo,node01,hello |
	jq -j '.. | objects | select(has("log")) | .log' | sed 's/^/  /'

cat <<TXT

netd and Knot DNS are running. Try:
  alias netctl=$netctl
  netctl get nodes node01
  netctl node add node21 --network admin --network storage   # then: netctl dns status
  netctl dns status --records verified | head
  netctl dns export lab.example
  kdig @127.0.0.1 -p $port -k var/knot/tsig.spec lab.example AXFR
  netctl anneal status
  curl -N -H "Authorization: Bearer \$(cat var/netd/admin.token)" http://127.0.0.1:8080/restconf/streams/netd/json
Stop both with: make demo-stop
TXT
