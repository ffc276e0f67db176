#!/bin/bash
# start.sh WORKDIR [PORTS] : net-snmp's snmpd as a simulated switch of PORTS
# bridge ports (default 24) on 127.0.0.1, on a UDP port found free at run time.
# The MIB data comes from switchsim_pp.py (pass_persist): IF-MIB, BRIDGE-MIB,
# Q-BRIDGE-MIB (writable VLAN rows and PVIDs, FDB), LLDP-MIB lldpRemTable.
# Bridge port p is ifIndex IFBASE + p (env IFBASE, default 1000).
# Users (test-only): swadmin SHA-256/AES authpass-123/privpass-123 (read-write),
# swread SHA/AES authpass-456/privpass-456 (read-only), v2c community
# swcommunity-789 (read-write).  Everything lives under WORKDIR/switch/:
#   state.json   the switch state (tests read and edit it: switchsim_pp.py ctl)
#   snmpd.conf, persist/, snmpd.log, pid
# and WORKDIR/peers.env gets SWITCH_PORT=... SWITCH_STATE=... (shell syntax).
# Exits non-zero (with the log tail) if snmpd does not answer in 10 s.
# Stop with stop.sh WORKDIR.  Needs: snmpd, snmpget (Debian snmpd, snmp), python3.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:?usage: start.sh WORKDIR [PORTS]}
NPORTS=${2:-24}
mkdir -p "$W"
W=$(cd "$W" && pwd)
S=$W/switch
PATH=$PATH:/usr/sbin

# A UDP port nobody uses on 127.0.0.1.
free_port() {
	python3 - <<'PY'
import random, socket, sys
for _ in range(500):
    port = random.randint(20000, 60999)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
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

answers() { # PORT
	snmpget -v3 -l authPriv -u swread -a SHA -A authpass-456 -x AES -X privpass-456 -r 0 -t 0.3 \
		"127.0.0.1:$1" .1.3.6.1.2.1.17.1.2.0 >/dev/null 2>&1
}

# start_one PORT : 0 when it answers, 1 if it died or stayed silent.
start_one() {
	local port=$1 pid i
	rm -rf "$S"
	mkdir -p "$S/persist"
	sed -e "s|@HERE@|$HERE|g" -e "s|@PORT@|$port|g" "$HERE/snmpd.conf.in" > "$S/snmpd.conf"
	# -C: no system config files; -I -ifTable,...: serve the simulated IF-MIB, not the host's
	SNMP_PERSISTENT_DIR=$S/persist SWITCHSIM_STATE=$S/state.json SWITCHSIM_PORTS=$NPORTS \
	SWITCHSIM_IFBASE=${IFBASE:-1000} \
		snmpd -f -C -c "$S/snmpd.conf" -I -ifTable,-ifXTable,-interfaces -Lf "$S/snmpd.log" \
		</dev/null >"$S/snmpd.stdout" 2>&1 &
	pid=$!
	echo "$pid" > "$S/pid"
	for i in $(seq 100); do
		answers "$port" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

ok=""
for attempt in 1 2 3; do   # a port can be taken between the probe and the bind
	port=$(free_port) || { echo "start.sh: no free port" >&2; exit 1; }
	if start_one "$port"; then ok=1; break; fi
	"$HERE/stop.sh" "$W" >/dev/null 2>&1 || true
	echo "start.sh: snmpd did not come up on port $port (attempt $attempt):" >&2
	tail -n 5 "$S/snmpd.log" >&2 || true
done
[ -n "$ok" ] || exit 1
printf 'SWITCH_PORT=%s\nSWITCH_STATE=%s\n' "$port" "$S/state.json" > "$W/peers.env"
echo "started snmpd (switch, $NPORTS ports) pid $(cat "$S/pid") on udp 127.0.0.1:$port"
