#!/bin/sh
# Install every missing Debian package netd needs to build, test, fuzz and
# benchmark. Idempotent and quiet when everything is present.
#
# Some packages (bind9, knot) start their system service on install; the
# tests run their own instances on loopback high ports and want no system
# daemon around. So the install runs with a /usr/sbin/policy-rc.d that
# exits 101 ("action forbidden"), which invoke-rc.d and deb-systemd-invoke
# honour; a policy-rc.d that was there before is put back afterwards.
set -eu
PKGS="build-essential meson ninja-build pkg-config python3 clang libclang-rt-14-dev
liblmdb-dev lmdb-utils libmicrohttpd-dev libyang2-dev libyang2-tools libcmocka-dev
libssl-dev libcrypt-dev libcurl4-openssl-dev curl jq wrk iproute2 libnl-3-dev libnl-route-3-dev libc-ares-dev
knot knot-dnsutils bind9 bind9-dnsutils
libnetconf2-dev libssh-dev libyuma-base python3-ncclient yangcli openssh-client
qemu-system-x86 busybox-static cpio
snmpd snmp snmptrapd smitools libsnmp-dev
openipmi libfreeipmi-dev freeipmi-tools ipmitool
netconfd netconfd-module-ietf-interfaces openssh-server"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root; run: sudo apt-get install$missing" >&2
	exit 1
fi

POLICY=/usr/sbin/policy-rc.d
SAVED=""
restore_policy() {
	if [ -n "$SAVED" ]; then
		mv -f "$SAVED" "$POLICY"
	else
		rm -f "$POLICY"
	fi
}
if [ -e "$POLICY" ]; then
	SAVED=$(mktemp /usr/sbin/.policy-rc.d.saved.XXXXXX)
	cp -p "$POLICY" "$SAVED"
fi
trap restore_policy EXIT
trap 'exit 130' INT TERM HUP
printf '#!/bin/sh\n# temporary, from netd tools/deps.sh: start no services during install\nexit 101\n' > "$POLICY"
chmod 755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
