#!/bin/bash
# stop.sh WORKDIR [knot] [bind] : stop servers started by start.sh by the PID
# in WORKDIR/<server>/pid, after checking that the PID still belongs to that
# program (knotd, named), so a recycled PID is never signalled.  TERM, then
# KILL after 5 s.
set -uo pipefail
W=${1:?usage: stop.sh WORKDIR [knot] [bind]}
shift
SERVERS=${*:-knot bind}

stop_one() { # PIDFILE PROGRAM
	local f=$1 prog=$2 pid comm i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	case $pid in ''|*[!0-9]*) rm -f "$f"; return 0;; esac
	if kill -0 "$pid" 2>/dev/null; then
		comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
		if [ "$comm" != "$prog" ]; then
			echo "stop.sh: pid $pid is '$comm', not $prog: left alone" >&2
		else
			kill "$pid" 2>/dev/null
			for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
			echo "stopped $prog pid $pid"
		fi
	fi
	rm -f "$f"
}

for s in $SERVERS; do
	case $s in
	knot) stop_one "$W/knot/pid" knotd & ;;
	bind) stop_one "$W/bind/pid" named & ;;
	*) echo "stop.sh: unknown server '$s'" >&2 ;;
	esac
done
wait
