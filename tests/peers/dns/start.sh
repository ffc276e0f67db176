#!/bin/bash
# start.sh WORKDIR [knot] [bind] : start Knot and/or BIND (default: both) as
# primaries for lab.example., 10.in-addr.arpa. and
# 0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa. on 127.0.0.1 and ::1, each on a port
# found free at run time.  Everything lives under WORKDIR:
#   tsig.key       BIND key statement (key "ddns-key", hmac-sha256, secret
#                  from /dev/urandom, made on the first start)
#   tsig.spec      the same key as hmac-sha256:ddns-key:BASE64 (kdig/knsupdate -y)
#   peers.env      KNOT_PORT=... BIND_PORT=... (shell syntax)
#   knot/ bind/    configs, zone copies, journals, logs, PID files
# Exits non-zero (with the log tail) if a server does not answer in 10 s.
# Stop with stop.sh WORKDIR.  Needs: knotd, named, dig, python3.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:?usage: start.sh WORKDIR [knot] [bind]}
shift
SERVERS=${*:-knot bind}
mkdir -p "$W"
W=$(cd "$W" && pwd)

if [ ! -s "$W/tsig.spec" ]; then
	secret=$(head -c 32 /dev/urandom | base64)
	(umask 077
	 printf 'key "ddns-key" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$secret" > "$W/tsig.key"
	 printf 'hmac-sha256:ddns-key:%s\n' "$secret" > "$W/tsig.spec")
fi
secret=$(cut -d: -f3 "$W/tsig.spec")

# A port nobody uses for TCP or UDP on either loopback address.
free_port() {
	python3 - "$@" <<'PY'
import random, socket, sys
taken = {int(p) for p in sys.argv[1:]}
for _ in range(500):
    port = random.randint(20000, 60999)
    if port in taken:
        continue
    ok = True
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(fam, kind)
            try:
                s.bind((host, port))
            except OSError:
                ok = False
            finally:
                s.close()
    if ok:
        print(port)
        sys.exit(0)
sys.exit(1)
PY
}

write_zones() { # DIR
	local soa='$TTL 300
@ IN SOA ns1.lab.example. hostmaster.lab.example. 1 3600 600 86400 300
@ IN NS ns1.lab.example.'
	mkdir -p "$1"
	printf '%s\nns1 IN A 127.0.0.1\n' "$soa" > "$1/lab.example.zone"
	printf '%s\n' "$soa" > "$1/10.in-addr.arpa.zone"
	printf '%s\n' "$soa" > "$1/0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa.zone"
}

render() { # TEMPLATE OUT PORT DIR
	sed -e "s|@PORT@|$3|g" -e "s|@DIR@|$4|g" -e "s|@SECRET@|$secret|g" \
	    -e "s|@KEYFILE@|$W/tsig.key|g" "$1" > "$2"
}

answers() { # PORT
	[ -n "$(dig +short +time=1 +tries=1 -p "$1" @127.0.0.1 lab.example. SOA 2>/dev/null)" ]
}

# start_one NAME PORT : 0 when it answers, 1 if it died or stayed silent.
start_one() {
	local s=$1 port=$2 d="$W/$1" pid i
	rm -rf "$d"
	mkdir -p "$d"
	case $s in
	knot)
		mkdir -p "$d/run" "$d/db"
		write_zones "$d/zones"
		render "$HERE/knot.conf.in" "$d/knot.conf" "$port" "$d"
		knotd -c "$d/knot.conf" </dev/null >"$d/log" 2>&1 &
		;;
	bind)
		write_zones "$d"
		render "$HERE/named.conf.in" "$d/named.conf" "$port" "$d"
		named -g -c "$d/named.conf" </dev/null >"$d/log" 2>&1 &
		;;
	esac
	pid=$!
	echo "$pid" > "$d/pid"
	for i in $(seq 100); do
		answers "$port" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

used=""
: > "$W/peers.env"
for s in $SERVERS; do
	case $s in knot|bind) ;; *) echo "start.sh: unknown server '$s' (knot|bind)" >&2; exit 2;; esac
	ok=""
	for attempt in 1 2 3; do  # a port can be taken between the probe and the bind
		port=$(free_port $used) || { echo "start.sh: no free port" >&2; exit 1; }
		if start_one "$s" "$port"; then ok=1; break; fi
		"$HERE/stop.sh" "$W" "$s" >/dev/null 2>&1 || true
		echo "start.sh: $s did not come up on port $port (attempt $attempt):" >&2
		tail -n 5 "$W/$s/log" >&2 || true
	done
	[ -n "$ok" ] || exit 1
	used="$used $port"
	up=$(echo "$s" | tr a-z A-Z)
	echo "${up}_PORT=$port" >> "$W/peers.env"
	echo "started $s pid $(cat "$W/$s/pid") on 127.0.0.1 and ::1 port $port"
done
