#!/bin/sh
# make demo-stop: stop what `make demo` started, by the PIDs it wrote
# (var/netd.pid, var/knot/pid), each only if it still is that program.
# The state in ./var stays; `rm -rf var` after this starts afresh.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ -f var/netd.pid ]; then
	p=$(cat var/netd.pid)
	case $p in '' | *[!0-9]*) p="" ;; esac
	if [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null || true)" = netd ]; then
		kill "$p" 2>/dev/null || true
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
		echo "demo: netd (pid $p) stopped"
	fi
	rm -f var/netd.pid
fi
sh tools/demo-dns.sh stop
