#!/bin/sh
# make demo: run netd on the example lab with its embedded defaults.
#   - store in ./var/netd (LMDB, in the working tree), RESTCONF on 127.0.0.1:8080
#   - first start writes ./var/netd/admin.token; netctl finds it by itself
#   - netd keeps running in the background; `make demo-stop` stops it
set -eu
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
netd="$BUILD/netd/netd"
netctl="$BUILD/netd/netctl"
pidfile=var/netd.pid
mkdir -p var

if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	echo "demo: netd is already running (pid $(cat "$pidfile"))"
else
	"$netd" > var/netd.log 2>&1 &
	echo $! > "$pidfile"
	i=0
	until "$netctl" status > /dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
			echo "demo: netd did not come up; its log:"; cat var/netd.log; exit 1
		fi
		sleep 0.1
	done
	echo "demo: netd $(cat "$pidfile") listens on http://127.0.0.1:8080 (store ./var/netd, log ./var/netd.log)"
fi

echo "demo: \$ netctl apply -f examples/lab.json"
"$netctl" apply -f examples/lab.json | tail -n 3
echo
echo "demo: \$ netctl get networks"
"$netctl" get networks
echo
echo "demo: \$ netctl get allocations admin"
"$netctl" get allocations admin | head -n 8
echo "      ..."
cat <<TXT

netd is running. Try:
  $netctl get allocations            # every address, with owner and state
  $netctl get nodes node01
  $netctl node add node21 --network admin --network storage
  $netctl alloc public vip-web        # a VIP, idempotent by name
  curl -s -H "Authorization: Bearer \$(cat var/netd/admin.token)" \\
       http://127.0.0.1:8080/restconf/data/netd:networks/network=storage
Stop it with: make demo-stop
TXT
