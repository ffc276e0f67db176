#!/bin/bash
# dev_bmc_test.sh TEST-BINARY PEERS-DIR : devices/bmc.h against OpenIPMI's
# ipmi_sim (tests/peers/bmc: a free UDP port on 127.0.0.1, fresh
# credentials), checked with ipmitool:
#   basic    read, apply, idempotence, refusals, bad input, errors;
#   restart  ipmi_sim stopped and started on the same port, then reconciled;
#   move     inside a network namespace of its own (root only; skipped
#            otherwise): the BMC's address moves under the session.
# The BMCs are stopped by PID.  Exit 77 (skip) when ipmi_sim, ipmitool or
# python3 are missing (tools/deps.sh installs them).
set -uo pipefail
BIN=${1:?usage: dev_bmc_test.sh TEST-BINARY PEERS-DIR}
PEERS=${2:?usage: dev_bmc_test.sh TEST-BINARY PEERS-DIR}
for p in ipmi_sim ipmitool python3; do
	command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed (run tools/deps.sh)"; exit 77; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/netd-bmc-it.XXXXXX")
NS=""
rc=1
cleanup() {
	"$PEERS/stop.sh" "$W/lo" >/dev/null 2>&1
	"$PEERS/stop.sh" "$W/ns" >/dev/null 2>&1
	[ -z "$NS" ] || ip netns del "$NS" 2>/dev/null
	if [ "$rc" = 0 ]; then rm -rf "$W"; else echo "kept $W for the logs"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

"$PEERS/start.sh" "$W/lo" || exit 1
# shellcheck disable=SC1091
. "$W/lo/peers.env"
rc=0
"$BIN" basic "$W/lo" || rc=1
"$PEERS/stop.sh" "$W/lo" || rc=1
"$PEERS/start.sh" "$W/lo" "$BMC_PORT" || { rc=1; exit 1; }
"$BIN" restart "$W/lo" || rc=1

if [ "$(id -u)" != 0 ]; then
	echo "SKIP move: needs root for a network namespace"
elif ! ip netns add "netd-bmc-$$" 2>/dev/null; then
	echo "SKIP move: cannot create a network namespace"
else
	NS=netd-bmc-$$
	ip -n "$NS" link set lo up
	ip -n "$NS" addr add 10.77.0.1/24 dev lo
	ip -n "$NS" addr add 10.77.0.2/24 dev lo
	if BMC_LISTEN=0.0.0.0 BMC_HOST=10.77.0.1 BMC_NIC_IP=10.77.0.1 BMC_NIC_MASK=255.255.255.0 BMC_NIC_GW=10.77.0.254 \
		ip netns exec "$NS" "$PEERS/start.sh" "$W/ns"; then
		ip netns exec "$NS" "$BIN" move "$W/ns" || rc=1
	else
		rc=1
	fi
fi
exit $rc
