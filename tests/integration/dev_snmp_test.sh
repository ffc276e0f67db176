#!/bin/bash
# dev_snmp_test.sh TEST-BINARY PEERS-DIR : start the simulated switch from
# tests/peers/switch (net-snmp's snmpd + pass_persist, 24 ports, a free UDP
# port on 127.0.0.1), run the devices/ SNMP driver test against it, stop it
# by PID.  Exit 77 (skip) when snmpd or python3 are not installed
# (tools/deps.sh installs them).
set -uo pipefail
BIN=${1:?usage: dev_snmp_test.sh TEST-BINARY PEERS-DIR}
PEERS=${2:?usage: dev_snmp_test.sh TEST-BINARY PEERS-DIR}
PATH=$PATH:/usr/sbin
for p in snmpd snmpget /usr/bin/python3; do
	command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed (run tools/deps.sh)"; exit 77; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/netd-dev-snmp.XXXXXX")
rc=1
cleanup() {
	"$PEERS/stop.sh" "$W" >/dev/null 2>&1
	if [ "$rc" = 0 ]; then rm -rf "$W"; else echo "kept $W for the logs"; fi
}
trap cleanup EXIT
"$PEERS/start.sh" "$W" 24 || exit 1
# shellcheck disable=SC1091
. "$W/peers.env"
"$BIN" "$SWITCH_PORT" "$SWITCH_STATE" "$PEERS/switchsim_pp.py"
rc=$?
exit $rc
