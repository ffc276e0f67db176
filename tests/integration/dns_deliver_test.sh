#!/bin/bash
# dns_deliver_test.sh TEST-BINARY PEERS-DIR : start Knot and BIND from
# tests/peers/dns (free ports, fresh zones, a new TSIG key), run the
# dns/deliver.c integration test against each, stop them by PID.  Exit 77
# (skip) when knotd/named/dig/kdig are not installed (tools/deps.sh
# installs them).
set -uo pipefail
BIN=${1:?usage: dns_deliver_test.sh TEST-BINARY PEERS-DIR}
PEERS=${2:?usage: dns_deliver_test.sh TEST-BINARY PEERS-DIR}
for p in knotd named dig kdig python3; do
	command -v "$p" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
	command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed (run tools/deps.sh)"; exit 77; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/netd-dns-deliver.XXXXXX")
cleanup() {
	"$PEERS/stop.sh" "$W" >/dev/null 2>&1
	if [ "$rc" = 0 ]; then rm -rf "$W"; else echo "kept $W for the logs"; fi
}
rc=1
trap cleanup EXIT
"$PEERS/start.sh" "$W" knot bind || exit 1
# shellcheck disable=SC1091
. "$W/peers.env"
rc=0
"$BIN" knot "$KNOT_PORT" "$W/tsig.spec" || rc=1
"$BIN" bind "$BIND_PORT" "$W/tsig.spec" || rc=1
exit $rc
