#!/bin/bash
# dns_verify_test.sh TEST-BINARY PEERS-DIR : start Knot and BIND from
# tests/peers/dns (free loopback ports, fresh zones, a new TSIG key), run
# the dns/verify integration test against each (records put in with
# knsupdate / nsupdate, read back with netd's AXFR and c-ares queries,
# compared, exported and checked with named-checkzone), stop them by PID.
# Exit 77 (skip) when a tool is missing (tools/deps.sh installs them).
set -uo pipefail
# Sanitizer findings fail the run (an ASan+UBSan build runs this too).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
BIN=${1:?usage: dns_verify_test.sh TEST-BINARY PEERS-DIR}
PEERS=${2:?usage: dns_verify_test.sh TEST-BINARY PEERS-DIR}
for p in knotd named kdig dig knsupdate nsupdate named-checkzone python3; do
	command -v "$p" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
	command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed (run tools/deps.sh)"; exit 77; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/netd-dns-verify.XXXXXX")
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
mkdir -p "$W/knot-run" "$W/bind-run"
cp "$W/tsig.key" "$W/tsig.spec" "$W/knot-run/" && cp "$W/tsig.key" "$W/tsig.spec" "$W/bind-run/" || rc=1
"$BIN" knot "$KNOT_PORT" "$W/knot-run" || rc=1
"$BIN" bind "$BIND_PORT" "$W/bind-run" || rc=1
exit $rc
