#!/bin/bash
# stop.sh WORKDIR : stop the snmpd started by start.sh by the PID in
# WORKDIR/switch/pid, after checking that the PID still belongs to snmpd, so a
# recycled PID is never signalled.  TERM, then KILL after 5 s.  Its
# pass_persist children exit with it (their stdin closes).
set -uo pipefail
W=${1:?usage: stop.sh WORKDIR}
f=$W/switch/pid
[ -f "$f" ] || exit 0
pid=$(cat "$f")
case $pid in ''|*[!0-9]*) rm -f "$f"; exit 0;; esac
if kill -0 "$pid" 2>/dev/null; then
	comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
	if [ "$comm" != snmpd ]; then
		echo "stop.sh: pid $pid is '$comm', not snmpd: left alone" >&2
	else
		kill "$pid" 2>/dev/null
		for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		echo "stopped snmpd pid $pid"
	fi
fi
rm -f "$f"
