#!/bin/bash
# dev_netconf_test.sh TEST-BINARY NCSWITCH-BINARY PEERS-DIR switch|netconfd
#  switch:   start two NETCONF test switches from tests/peers/ncswitch (one
#            with :candidate, one :writable-running only; free TCP ports on
#            127.0.0.1), run the devices/ NETCONF driver test against them,
#            stop them by PID.  Exit 77 (skip) when ssh-keygen or yuma's YANG
#            modules (libyuma-base) are missing (tools/deps.sh).
#  netconfd: start yuma123's netconfd (ietf-interfaces only) behind sshd in a
#            network namespace made for it (tests/peers/ncswitch/netconfd.sh)
#            and check that the driver reports no VLAN model.  Exit 77 when
#            not root or netconfd, its ietf-interfaces module or sshd are
#            missing.
set -uo pipefail
BIN=${1:?usage: dev_netconf_test.sh TEST NCSWITCH PEERS-DIR switch|netconfd}
NCSW=${2:?usage: dev_netconf_test.sh TEST NCSWITCH PEERS-DIR switch|netconfd}
PEERS=${3:?usage: dev_netconf_test.sh TEST NCSWITCH PEERS-DIR switch|netconfd}
MODE=${4:?usage: dev_netconf_test.sh TEST NCSWITCH PEERS-DIR switch|netconfd}
PATH=$PATH:/usr/sbin:/sbin
W=$(mktemp -d "${TMPDIR:-/tmp}/netd-dev-netconf.XXXXXX")
rc=1
cleanup() {
	"$PEERS/stop.sh" "$W" cand >/dev/null 2>&1
	"$PEERS/stop.sh" "$W" run >/dev/null 2>&1
	"$PEERS/netconfd.sh" stop "$W" >/dev/null 2>&1
	if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then rm -rf "$W"; else echo "kept $W for the logs"; fi
}
trap cleanup EXIT

case $MODE in
switch)
	command -v ssh-keygen >/dev/null 2>&1 || { echo "SKIP: ssh-keygen not installed (run tools/deps.sh)"; rc=77; exit 77; }
	[ -f /usr/share/yuma/modules/ietf/ietf-interfaces@2014-05-08.yang ] ||
		{ echo "SKIP: libyuma-base not installed (run tools/deps.sh)"; rc=77; exit 77; }
	"$PEERS/start.sh" "$W" cand "$NCSW" 8 || exit 1
	"$PEERS/start.sh" "$W" run "$NCSW" 8 --running-only || exit 1
	"$BIN" switch "$W/cand" "$W/run"
	rc=$?
	;;
netconfd)
	if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (network namespace, sshd)"; rc=77; exit 77; fi
	for p in netconfd netconf-subsystem sshd ssh-keygen ip; do
		command -v "$p" >/dev/null 2>&1 ||
			{ echo "SKIP: $p not installed (apt-get install netconfd netconfd-module-ietf-interfaces openssh-server)"; rc=77; exit 77; }
	done
	ls /usr/lib/*/yuma/libietf-interfaces.so >/dev/null 2>&1 ||
		{ echo "SKIP: netconfd-module-ietf-interfaces not installed"; rc=77; exit 77; }
	"$PEERS/netconfd.sh" start "$W" || exit 1
	ip netns exec "$(cat "$W/netconfd/netns")" "$BIN" netconfd "$W/netconfd"
	rc=$?
	;;
*)
	echo "unknown mode $MODE" >&2
	exit 2
	;;
esac
exit $rc
