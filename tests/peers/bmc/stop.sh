#!/bin/bash
# stop.sh WORKDIR : stop the ipmi_sim started by start.sh, by the PID in
# WORKDIR/pid, after checking that the PID still belongs to ipmi_sim (a
# recycled PID is never signalled).  TERM, then KILL after 5 s.  Leaves the
# rest of WORKDIR (credentials, the NIC's state) for a restart.
set -uo pipefail
W=${1:?usage: stop.sh WORKDIR}
f=$W/pid
[ -f "$f" ] || exit 0
pid=$(cat "$f")
case $pid in ''|*[!0-9]*) rm -f "$f"; exit 0;; esac
if kill -0 "$pid" 2>/dev/null; then
	comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
	if [ "$comm" != ipmi_sim ]; then
		echo "stop.sh: pid $pid is '$comm', not ipmi_sim: left alone" >&2
	else
		kill "$pid" 2>/dev/null
		for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		echo "stopped ipmi_sim pid $pid"
	fi
fi
rm -f "$f"
