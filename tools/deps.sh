#!/bin/sh
# Install every missing Debian package netd needs to build, test, fuzz and
# benchmark. Idempotent and quiet when everything is present.
set -eu
PKGS="build-essential meson ninja-build pkg-config python3 clang libclang-rt-14-dev
liblmdb-dev lmdb-utils libmicrohttpd-dev libyang2-dev libyang2-tools libcmocka-dev
libssl-dev libcrypt-dev libcurl4-openssl-dev curl jq wrk iproute2"
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
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
