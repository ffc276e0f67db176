#!/bin/bash
# netconfd.sh start|stop WORKDIR : yuma123's netconfd with ietf-interfaces
# only (no VLAN model), for the NETCONF driver's negative test.  It runs in a
# network namespace made here (its ietf-interfaces code changes and reports
# the namespace's links), behind an sshd in the same namespace that serves
# the "netconf" subsystem on 127.0.0.1:8830 there, for user root with the key
# WORKDIR/netconfd/client_ed25519.  Clients run with
#   ip netns exec "$(cat WORKDIR/netconfd/netns)" ...
# start waits until both answer; stop kills both by their PIDs (after
# checking the process names) and deletes the namespace.
# Needs root, netconfd + netconfd-module-ietf-interfaces, openssh-server.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CMD=${1:?usage: netconfd.sh start|stop WORKDIR}
W=${2:?usage: netconfd.sh start|stop WORKDIR}
D=$W/netconfd
PATH=$PATH:/usr/sbin:/sbin

stop_pid() { # PIDFILE NAME
	local f=$1 want=$2 pid comm i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	case $pid in ''|*[!0-9]*) rm -f "$f"; return 0;; esac
	if kill -0 "$pid" 2>/dev/null; then
		comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
		if [ "$comm" != "$want" ]; then
			echo "netconfd.sh: pid $pid is '$comm', not $want: left alone" >&2
		else
			kill "$pid" 2>/dev/null
			for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		fi
	fi
	rm -f "$f"
}

if [ "$CMD" = stop ]; then
	stop_pid "$D/sshd.pid" sshd
	stop_pid "$D/netconfd.pid" netconfd
	if [ -f "$D/netns" ]; then ip netns del "$(cat "$D/netns")" 2>/dev/null; rm -f "$D/netns"; fi
	exit 0
fi

mkdir -p "$D/home"
D=$(cd "$D" && pwd)
NS=netd-ncd-$$
ip netns add "$NS" || exit 1
echo "$NS" > "$D/netns"
ip -n "$NS" link set lo up
ip -n "$NS" link add ncd0 type veth peer name ncd1
ip -n "$NS" link set ncd0 up
ip -n "$NS" link set ncd1 up
ssh-keygen -q -t ed25519 -N '' -C netconfd-host -f "$D/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C netconfd-client -f "$D/client_ed25519"
cp "$D/client_ed25519.pub" "$D/authorized_keys"
chmod 600 "$D/authorized_keys"
# netconf-subsystem tells netconfd the SSH port it came in on: it must be
# in --port.  Started from $D, netconfd writes its backup-cfg.xml there.
(cd "$D" && exec ip netns exec "$NS" env HOME="$D/home" PATH="$HERE/bin:$PATH" \
	netconfd --module=iana-if-type --module=ietf-interfaces --no-startup --superuser=root \
	--ncxserver-sockname="$D/ncxserver.sock" --tcp-direct-address=127.0.0.1 --tcp-direct-port=8832 --port=8830 \
	--log-level=info --log="$D/netconfd.log" </dev/null >"$D/netconfd.stdout" 2>&1) &
echo $! > "$D/netconfd.pid"
cat > "$D/sshd_config" <<CONF
ListenAddress 127.0.0.1:8830
HostKey $D/host_ed25519
PidFile $D/sshd.pidfile
AuthorizedKeysFile $D/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem netconf /usr/sbin/netconf-subsystem --tcp-direct-address=127.0.0.1 --tcp-direct-port=8832
CONF
mkdir -p /run/sshd
ip netns exec "$NS" /usr/sbin/sshd -D -e -f "$D/sshd_config" </dev/null >"$D/sshd.log" 2>&1 &
echo $! > "$D/sshd.pid"
ns_open() { ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
for i in $(seq 200); do
	ns_open 8832 && ns_open 8830 && { echo "started netconfd + sshd in netns $NS"; exit 0; }
	kill -0 "$(cat "$D/netconfd.pid")" 2>/dev/null || break
	sleep 0.1
done
echo "netconfd.sh: netconfd/sshd did not come up; see $D/netconfd.log $D/sshd.log" >&2
tail -n 5 "$D/netconfd.log" "$D/sshd.log" >&2
exit 1
