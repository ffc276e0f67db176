#!/bin/bash
# start.sh WORKDIR [PORT] : start OpenIPMI's ipmi_sim as a test BMC with an
# RMCP+ (lanplus) LAN channel 2 on a free UDP port (or PORT, to restart it
# where it was), and wait until it answers `ipmitool -I lanplus mc info`.
# Everything lives under WORKDIR:
#   bmc.cred    "admin USER PASSWORD" (ADMIN privilege) and "viewer USER
#               PASSWORD" (USER privilege); passwords from /dev/urandom,
#               made on the first start; mode 600
#   peers.env   BMC_PORT=... BMC_CHANNEL=2 BMC_HOST=... (shell syntax)
#   nic         the simulated NIC (lancontrol.sh): kept across restarts,
#               so what the BMC committed survives; nic.sources lists the
#               address sources it accepts (static, dhcp)
#   lan.conf, state/, log, pid
# Environment: BMC_LISTEN  the address to listen on (default 127.0.0.1; ipmi_sim
#                          2.0.33 takes one per LAN channel, 0.0.0.0 = all)
#              BMC_HOST    the address to probe and to write to peers.env
#                          (default BMC_LISTEN)
#              BMC_NIC_IP, BMC_NIC_MASK, BMC_NIC_GW  the NIC's first address
#                          (default 10.20.0.57, 255.255.0.0, 10.20.0.1; DHCP)
# Exits non-zero (with the log tail) if the BMC does not answer in 10 s.
# Stop with stop.sh WORKDIR.  Needs: ipmi_sim (openipmi), ipmitool, python3.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:?usage: start.sh WORKDIR [PORT]}
WANT_PORT=${2:-}
LISTEN=${BMC_LISTEN:-127.0.0.1}
PROBE=${BMC_HOST:-$LISTEN}
mkdir -p "$W/state"
W=$(cd "$W" && pwd)

secret() { head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16; }

if [ ! -s "$W/bmc.cred" ]; then
	(umask 077
	 printf 'admin netadmin %s\nviewer viewer %s\n' "$(secret)" "$(secret)" > "$W/bmc.cred")
fi
cred() { awk -v r="$1" -v f="$2" '$1 == r { print $f }' "$W/bmc.cred"; }

if [ ! -s "$W/nic" ]; then
	cat > "$W/nic" <<NIC
ip_addr_src:dhcp
ip_addr:${BMC_NIC_IP:-10.20.0.57}
subnet_mask:${BMC_NIC_MASK:-255.255.0.0}
default_gw_ip_addr:${BMC_NIC_GW:-10.20.0.1}
default_gw_mac_addr:00:00:00:00:00:00
backup_gw_ip_addr:0.0.0.0
backup_gw_mac_addr:00:00:00:00:00:00
mac_addr:52:54:00:4e:44:01
NIC
	printf 'static\ndhcp\n' > "$W/nic.sources"
fi

# A UDP port nobody uses on the listen address.
free_port() {
	python3 - "$LISTEN" <<'PY'
import random, socket, sys
for _ in range(500):
    port = random.randint(20000, 60999)
    s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((sys.argv[1], port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit(1)
PY
}

render() { # PORT
	sed -e "s|@ADDR@|$LISTEN|" -e "s|@PORT@|$1|" -e "s|@HERE@|$HERE|g" -e "s|@DIR@|$W|g" \
	    -e "s|@ADMIN_USER@|$(cred admin 2)|" -e "s|@ADMIN_PASS@|$(cred admin 3)|" \
	    -e "s|@VIEW_USER@|$(cred viewer 2)|" -e "s|@VIEW_PASS@|$(cred viewer 3)|" "$HERE/lan.conf.in" > "$W/lan.conf"
	chmod 600 "$W/lan.conf"
}

answers() { # HOST PORT
	IPMI_PASSWORD=$(cred admin 3) ipmitool -I lanplus -H "$1" -p "$2" -U "$(cred admin 2)" -E -C 3 \
		-N 1 -R 1 mc info >/dev/null 2>&1
}

start_one() { # PORT : 0 when it answers, 1 if it died or stayed silent
	local port=$1 pid i
	render "$port"
	ipmi_sim -c "$W/lan.conf" -f "$HERE/bmc.emu" -s "$W/state" -n </dev/null >>"$W/log" 2>&1 &
	pid=$!
	echo "$pid" > "$W/pid"
	for i in $(seq 50); do
		answers "$PROBE" "$port" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

ok=""
for attempt in 1 2 3; do  # a port can be taken between the probe and the bind
	port=${WANT_PORT:-$(free_port)} || { echo "start.sh: no free port" >&2; exit 1; }
	if start_one "$port"; then ok=1; break; fi
	"$HERE/stop.sh" "$W" >/dev/null 2>&1 || true
	echo "start.sh: ipmi_sim did not come up on port $port (attempt $attempt):" >&2
	tail -n 5 "$W/log" >&2 || true
	[ -z "$WANT_PORT" ] || break
done
[ -n "$ok" ] || exit 1
printf 'BMC_PORT=%s\nBMC_CHANNEL=2\nBMC_HOST=%s\n' "$port" "$PROBE" > "$W/peers.env"
echo "started ipmi_sim pid $(cat "$W/pid") on $LISTEN port $port (LAN channel 2)"
