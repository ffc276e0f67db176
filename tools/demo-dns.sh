#!/bin/sh
# tools/demo-dns.sh — the DNS part of `make demo` (run from the top of the tree).
#
#   demo-dns.sh up     Knot DNS as primary, on loopback, for the zones netd's
#                      networks need (each dns-domain; in-addr.arpa on octet
#                      boundaries for every IPv4 subnet; ip6.arpa on nibble
#                      boundaries for every IPv6 prefix in use, the `auto`
#                      ones included, read from netd); then netd's dns
#                      document (zones, server, TSIG key) written over RESTCONF,
#                      and a wait until netd has verified its records there.
#   demo-dns.sh stop   stop that Knot by its PID (only if it still is knotd).
#
# State in var/knot (absolute paths in its config):
#   tsig.spec     hmac-sha256:netd-demo:SECRET (kdig/knsupdate -k); made once,
#                 from /dev/urandom, mode 0600
#   knot.conf     rendered from tools/demo-knot.conf.in; zones/, db/, run/
#   pid, port, log
# and var/demo/dns.json, the dns document as sent (it holds the secret: 0600).
#
# Idempotent: a running Knot with the same zones is kept; one whose zones
# changed is restarted (its zone files keep what netd published).  Port
# 127.0.0.1:5353 when it is free for TCP and UDP, else a free one.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
K=$top/var/knot
KEY=netd-demo
API=http://127.0.0.1:8080/restconf

say() { echo "demo: $*"; }

# rc METHOD PATH [BODY-FILE] : a RESTCONF request with the demo's admin
# token; the answer's body in var/demo/rc.out, its HTTP status in $rc_status.
rc() {
	if [ $# -ge 3 ]; then
		rc_status=$(curl -sS -o var/demo/rc.out -w '%{http_code}' -X "$1" \
			-H "Authorization: Bearer $(cat var/netd/admin.token)" \
			-H 'Content-Type: application/yang-data+json' --data-binary "@$3" "$API$2") || rc_status=000
	else
		rc_status=$(curl -sS -o var/demo/rc.out -w '%{http_code}' -X "$1" \
			-H "Authorization: Bearer $(cat var/netd/admin.token)" "$API$2") || rc_status=000
	fi
}

knot_pid() { # the PID of our running knotd, or nothing
	[ -f "$K/pid" ] || return 0
	p=$(cat "$K/pid")
	case $p in '' | *[!0-9]*) return 0 ;; esac
	[ "$(cat "/proc/$p/comm" 2>/dev/null || true)" = knotd ] && echo "$p"
	return 0
}

stop_knot() {
	p=$(knot_pid)
	if [ -n "$p" ]; then
		kill "$p" 2>/dev/null || true
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
		say "Knot DNS (pid $p) stopped"
	fi
	rm -f "$K/pid"
}

# free_port [PORT] : PORT if nothing uses it on 127.0.0.1 (TCP and UDP),
# else a free one from 20000-60999.
free_port() {
	python3 - "$@" <<'PY'
import random, socket, sys
def free(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True
want = [int(p) for p in sys.argv[1:]]
for p in want + [random.randint(20000, 60999) for _ in range(500)]:
    if free(p):
        print(p)
        sys.exit(0)
sys.exit(1)
PY
}

# The zones for netd's networks (GET /netd:networks on stdin), one a line,
# forward zones first.
zones_of_networks() {
	python3 -c '
import ipaddress, json, sys
nets = json.load(sys.stdin).get("netd:networks", {}).get("network", [])
fwd, v4, v6 = [], [], []
def add(lst, z):
    if z not in lst:
        lst.append(z)
for n in nets:
    if n.get("dns-domain"):
        add(fwd, n["dns-domain"].rstrip(".").lower() + ".")
    p = n.get("ipv4", {}).get("subnet")
    if p:
        net = ipaddress.ip_network(p, strict=False)
        octets = str(net.network_address).split(".")[: net.prefixlen // 8]
        add(v4, ".".join(reversed(octets)) + ".in-addr.arpa.")
    p = n.get("effective-ipv6-prefix") or n.get("ipv6", {}).get("prefix")
    if p and p != "auto":
        net = ipaddress.ip_network(p, strict=False)
        nibbles = net.network_address.exploded.replace(":", "")[: net.prefixlen // 4]
        add(v6, ".".join(reversed(nibbles)) + ".ip6.arpa.")
print("\n".join(fwd + v4 + v6))
'
}

# render PORT : var/knot/knot.conf.new for the zones in $K/zones.list
render() {
	secret=$(cut -d: -f3 "$K/tsig.spec")
	zl=$(sed 's/^/  - domain: /' "$K/zones.list")
	awk -v port="$1" -v dir="$K" -v key="$KEY" -v secret="$secret" -v zones="$zl" '
		{ gsub(/@PORT@/, port); gsub(/@DIR@/, dir); gsub(/@KEY@/, key); gsub(/@SECRET@/, secret)
		  if ($0 == "@ZONES@") print zones; else print }' tools/demo-knot.conf.in > "$K/knot.conf.new"
}

# Zone files for zones that have none yet (SOA, NS; ns1 at 127.0.0.1).
zone_files() {
	first=$(head -n 1 "$K/zones.list")
	ns=ns1.$first
	mkdir -p "$K/zones"
	while read -r z; do
		f="$K/zones/${z%.}.zone"
		[ -f "$f" ] && continue
		{
			# shellcheck disable=SC2016 # $TTL is the zone file's
			printf '$TTL 300\n@ IN SOA %s hostmaster.%s 1 3600 600 86400 300\n@ IN NS %s\n' \
				"$ns" "$first" "$ns"
			if [ "ns1.$z" = "$ns" ]; then printf 'ns1 IN A 127.0.0.1\n'; fi
		} > "$f"
	done < "$K/zones.list"
}

answers() { # PORT : every zone's SOA is served
	while read -r z; do
		[ -n "$(kdig @127.0.0.1 -p "$1" +short +time=1 +retry=0 "$z" SOA 2>/dev/null)" ] || return 1
	done < "$K/zones.list"
}

start_knot() { # PORT : 0 when it serves every zone
	rm -f "$K/pid"
	mkdir -p "$K/run" "$K/db"
	render "$1"
	mv "$K/knot.conf.new" "$K/knot.conf"
	knotd -c "$K/knot.conf" </dev/null >>"$K/log" 2>&1 &
	echo $! > "$K/pid"
	echo "$1" > "$K/port"
	i=0
	while [ $i -lt 100 ]; do
		answers "$1" && return 0
		kill -0 "$(cat "$K/pid")" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

up() {
	mkdir -p "$K" var/demo
	keynote="kept from the first start"
	if [ ! -s "$K/tsig.spec" ]; then
		(umask 077; printf 'hmac-sha256:%s:%s\n' "$KEY" "$(head -c 32 /dev/urandom | base64)" > "$K/tsig.spec")
		keynote="fresh from /dev/urandom"
	fi
	rc GET /data/netd:networks
	[ "$rc_status" = 200 ] || { say "cannot read netd's networks (HTTP $rc_status)"; exit 1; }
	zones_of_networks < var/demo/rc.out > "$K/zones.list"
	[ -s "$K/zones.list" ] || { say "netd's networks need no DNS zone"; exit 1; }
	zone_files
	zones=$(paste -sd, "$K/zones.list" | sed 's/,/, /g')

	pid=$(knot_pid)
	if [ -n "$pid" ]; then
		port=$(cat "$K/port")
		render "$port"
		if cmp -s "$K/knot.conf.new" "$K/knot.conf"; then
			rm -f "$K/knot.conf.new"
			say "Knot DNS is already running (pid $pid) on 127.0.0.1:$port as primary for $zones"
		else
			say "the lab's zones changed: restarting Knot DNS"
			stop_knot
			pid=""
		fi
	fi
	if [ -z "$pid" ]; then
		ok=""
		for attempt in 1 2 3; do   # a port can be taken between the probe and the bind
			port=$(free_port 5353) || { say "no free port for Knot DNS"; exit 1; }
			if start_knot "$port"; then ok=1; break; fi
			stop_knot >/dev/null
			say "Knot DNS did not come up on 127.0.0.1:$port (attempt $attempt); the end of var/knot/log:"
			tail -n 5 "$K/log"
		done
		[ -n "$ok" ] || exit 1
		say "started Knot DNS (pid $(cat "$K/pid")) on 127.0.0.1:$port as primary for $zones"
		say "  TSIG key $KEY ($keynote) in var/knot/tsig.spec, zone files var/knot/zones, log var/knot/log"
	fi

	# netd's dns document: every zone at this server, signed with the key.
	(umask 077; python3 - "$K/zones.list" "$port" "$KEY" "$(cut -d: -f3 "$K/tsig.spec")" > var/demo/dns.json <<'PY'
import json, sys
zones = [z.strip() for z in open(sys.argv[1]) if z.strip()]
port, key, secret = sys.argv[2], sys.argv[3], sys.argv[4]
doc = {"netd:dns": {
    "key": [{"name": key, "algorithm": "hmac-sha256", "secret": secret}],
    "zone": [{"name": z.rstrip("."), "server": [f"127.0.0.1:{port}"], "key": key} for z in zones]}}
json.dump(doc, sys.stdout, indent=2)
print()
PY
	)
	say "\$ curl -X PUT .../restconf/data/netd:dns -d @var/demo/dns.json   # $(wc -l < "$K/zones.list") zones at 127.0.0.1:$port, key $KEY"
	rc PUT /data/netd:dns var/demo/dns.json
	case $rc_status in
	200 | 201 | 204) ;;
	*) say "netd refused the dns document (HTTP $rc_status): $(cat var/demo/rc.out)"; exit 1 ;;
	esac

	# Compare with the server now (repairs what Knot lost, e.g. after its
	# state was removed; reports names others hold), then wait until the
	# outbox is delivered and read back.  Records still pending then are
	# withheld behind a conflict: dns status shows them.
	"$NETCTL" dns check --timeout 60 > var/demo/dns-check.out 2>&1 || {
		say "\$ netctl dns check   # Knot differs from what netd intends (missing and extra records are repaired):"
		cat var/demo/dns-check.out
	}
	i=0
	while :; do
		rc GET /data/netd:dns/status
		if python3 -c '
import json, sys
s = json.load(sys.stdin)["netd:status"]
busy = [k for k in ("outbox-depth", "published", "drift") if s.get(k, "0") != "0"]
sys.exit(0 if not busy and s.get("verified", "0") != "0" else 1)' < var/demo/rc.out 2>/dev/null; then
			break
		fi
		i=$((i + 1))
		if [ $i -gt 120 ]; then
			say "netd has not verified its records after 60 s:"
			"$NETCTL" dns status || true
			exit 1
		fi
		sleep 0.5
	done
}

case ${1:-} in
up)
	NETCTL=${2:?usage: demo-dns.sh up NETCTL}
	up
	;;
stop) stop_knot ;;
*)
	echo "usage: demo-dns.sh up NETCTL | stop" >&2
	exit 64
	;;
esac
