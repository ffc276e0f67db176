#!/bin/bash
# stop.sh WORKDIR NAME : stop the ncswitch started by start.sh by the PID in
# WORKDIR/NAME/pid, after checking that the PID still belongs to ncswitch, so
# a recycled PID is never signalled.  TERM, then KILL after 5 s.
set -uo pipefail
W=${1:?usage: stop.sh WORKDIR NAME}
NAME=${2:?usage: stop.sh WORKDIR NAME}
f=$W/$NAME/pid
[ -f "$f" ] || exit 0
pid=$(cat "$f")
case $pid in ''|*[!0-9]*) rm -f "$f"; exit 0;; esac
if kill -0 "$pid" 2>/dev/null; then
	comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
	if [ "$comm" != ncswitch ]; then
		echo "stop.sh: pid $pid is '$comm', not ncswitch: left alone" >&2
	else
		kill "$pid" 2>/dev/null
		for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		echo "stopped ncswitch pid $pid"
	fi
fi
rm -f "$f"
