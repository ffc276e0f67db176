#!/bin/bash
# start.sh WORKDIR NAME NCSWITCH-BINARY [PORTS] [--running-only] : start netd's
# NETCONF test switch (ncswitch.c) on 127.0.0.1, on a TCP port found free at
# run time, with PORTS Ethernet ports eth1..ethPORTS (default 8).
# Everything lives in WORKDIR/NAME/ (several switches may share WORKDIR):
#   host_ecdsa(.pub)     SSH host key (ECDSA P-256, PEM), made with ssh-keygen
#   client_ed25519(.pub) the key the switch accepts for user root
#   wrong_ed25519(.pub)  a key it does not accept
#   known_hosts          "[127.0.0.1]:PORT" + the host key, for the driver
#   init.xml             the initial running configuration (below)
#   rpc.log              one line per RPC received (ncswitch.c), tests count them
#   ncswitch.log, pid
# and WORKDIR/NAME/env gets NCSW_PORT, NCSW_DIR (shell syntax).
# Initial configuration: ports eth1..ethN (ethernetCsmacd, no VLAN settings),
# VLAN 1 "default", VLAN 500 "foreign-500" (not netd's) on the last port as
# its access VLAN, VLAN 77 "netd-stale" (netd's name prefix, used by no port).
# Password login "sw-pass-123" for root works too.
# Exits non-zero (with the log tail) if the switch does not listen in 10 s.
# Stop with stop.sh WORKDIR NAME.  Needs ssh-keygen, python3, yuma's YANG
# modules (libyuma-base).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:?usage: start.sh WORKDIR NAME NCSWITCH [PORTS] [--running-only]}
NAME=${2:?usage: start.sh WORKDIR NAME NCSWITCH [PORTS] [--running-only]}
BIN=${3:?usage: start.sh WORKDIR NAME NCSWITCH [PORTS] [--running-only]}
NPORTS=${4:-8}
EXTRA=${5:-}
mkdir -p "$W/$NAME"
D=$(cd "$W/$NAME" && pwd)

[ -f "$D/host_ecdsa" ] || ssh-keygen -q -t ecdsa -b 256 -m PEM -N '' -C ncswitch-host -f "$D/host_ecdsa"
[ -f "$D/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C ncswitch-client -f "$D/client_ed25519"
[ -f "$D/wrong_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C ncswitch-wrong -f "$D/wrong_ed25519"

{
	echo '<interfaces xmlns="http://openconfig.net/yang/interfaces">'
	for i in $(seq "$NPORTS"); do
		echo "<interface><name>eth$i</name><config><name>eth$i</name>"
		echo '<type xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type">ianaift:ethernetCsmacd</type></config>'
		if [ "$i" = "$NPORTS" ]; then
			echo '<ethernet xmlns="http://openconfig.net/yang/interfaces/ethernet"><switched-vlan xmlns="http://openconfig.net/yang/vlan">'
			echo '<config><interface-mode>ACCESS</interface-mode><access-vlan>500</access-vlan></config></switched-vlan></ethernet>'
		fi
		echo '</interface>'
	done
	echo '</interfaces>'
	echo '<vlans xmlns="http://openconfig.net/yang/vlan">'
	echo '<vlan><vlan-id>1</vlan-id><config><vlan-id>1</vlan-id><name>default</name></config></vlan>'
	echo '<vlan><vlan-id>77</vlan-id><config><vlan-id>77</vlan-id><name>netd-stale</name></config></vlan>'
	echo '<vlan><vlan-id>500</vlan-id><config><vlan-id>500</vlan-id><name>foreign-500</name></config></vlan>'
	echo '</vlans>'
} > "$D/init.xml"

free_port() {
	python3 - <<'PY'
import random, socket, sys
for _ in range(500):
    port = random.randint(20000, 60999)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit(1)
PY
}
tcp_open() { bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

start_one() { # PORT
	local port=$1 pid i
	: > "$D/rpc.log"
	# shellcheck disable=SC2086
	"$BIN" --port "$port" --hostkey "$D/host_ecdsa" --authkey "$D/client_ed25519.pub" --user root \
		--password sw-pass-123 --yang "$HERE/yang" --init "$D/init.xml" --rpclog "$D/rpc.log" $EXTRA \
		</dev/null >"$D/ncswitch.log" 2>&1 &
	pid=$!
	echo "$pid" > "$D/pid"
	for i in $(seq 100); do
		tcp_open "$port" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

ok=""
for attempt in 1 2 3; do   # a port can be taken between the probe and the bind
	port=$(free_port) || { echo "start.sh: no free port" >&2; exit 1; }
	if start_one "$port"; then ok=1; break; fi
	"$HERE/stop.sh" "$W" "$NAME" >/dev/null 2>&1 || true
	echo "start.sh: ncswitch did not come up on port $port (attempt $attempt):" >&2
	tail -n 5 "$D/ncswitch.log" >&2 || true
done
[ -n "$ok" ] || exit 1
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$D/host_ecdsa.pub")" > "$D/known_hosts"
printf 'NCSW_PORT=%s\nNCSW_DIR=%s\n' "$port" "$D" > "$D/env"
echo "started ncswitch $NAME pid $(cat "$D/pid") on tcp 127.0.0.1:$port ${EXTRA:-(candidate)}"
