#!/bin/sh
# tests/vm/guest.sh — the VM test proper, run by /init inside the guest
# (Debian's kernel: real bonding and 802.1Q).  busybox ash; iproute2 is
# /sbin/ip.real (busybox's ash would run its own `ip` applet otherwise);
# conduit_apply is in /opt, plan1.txt in /plans.  Exit 0 when every step
# passed, else 1 after one "VM: FAIL: <reason>" line (and the state seen).
#
#   0. setup: dummies, a foreign 802.3ad bond "bondf" (no netd alias mark)
#      over dummy2 with VLAN 400, an address and a route on it
#   1. apply plan1 (802.3ad bond over eth0/eth1 with VLANs 200 and 300, a
#      bridge on VLAN 200, an active-backup bond over dummies, v4+v6, default
#      routes); check bond mode/miimon/lacp_rate/xmit_hash_policy, slaves,
#      VLAN ids, masters, MTUs, marks, addresses, routes (`ip -d -o link`,
#      /proc/net/bonding), and the state conduit_apply --dry-run reads back
#   2. apply again: changes=0 netlink=0, state unchanged
#   3. drop network "public": VLAN 300 and its addresses gone, rest unchanged
#   4. refusals, nothing sent: a foreign bond with netd's bond name; a NIC
#      that is a port of the foreign bond
#   5. teardown (no networks): netd's bonds, VLANs, bridge go; the NICs are
#      released with their MTU back; the state equals the one before step 1
#   6. a kernel error late in an apply from scratch (unreachable gateway):
#      everything is rolled back to the state before step 1
#   7. plan1 from scratch again: the same state as after step 1
# The foreign bond, its VLAN, slave, address and route are checked after
# every step.
set -u
ip() { /sbin/ip.real "$@"; }
CA=/opt/conduit_apply
W=/tmp/vm
mkdir -p $W
SECONDS0=$(cut -d' ' -f1 /proc/uptime)

step() { echo "VM: [$(cut -d' ' -f1 /proc/uptime)s] $*"; }
fail() {
	echo "VM: FAIL: $*"
	if [ -s $W/state ]; then
		echo "VM: state seen:"
		sed 's/^/VM:   /' $W/state
	fi
	exit 1
}
do_ip() { ip "$@" >/dev/null 2>$W/err || fail "setup: ip $*: $(cat $W/err)"; }

# apply [ARGS] PLAN: conduit_apply's output in $out, its exit status in $rc
apply() {
	out=$($CA "$@" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/VM:   /'
}

# A stable picture of links, addresses and routes, one sorted line each:
#   link NAME kind=K master=M mtu=N alias=A up|down [id=VLAN] [mode=... miimon=... ...]
#   addr DEV ADDR/LEN          (global scope only)
#   route DEV DST via GW proto P metric M   (not proto kernel)
snap() {
	{
		ip -d -o link show | awk '
		{
			gsub(/\\/, " "); $0 = $0
			name = $2; sub(/:$/, "", name); sub(/@.*/, "", name)
			up = ($3 ~ /[<,]UP[,>]/) ? "up" : "down"
			mtu = "-"; master = "-"; alias = "-"; kind = "-"; x = ""
			for (i = 4; i <= NF; i++) {
				if ($i == "mtu" && mtu == "-") mtu = $(i + 1)
				else if ($i == "master") master = $(i + 1)
				else if ($i == "alias") alias = $(i + 1)
				else if ($i == "vlan" && $(i + 1) == "protocol") { kind = "vlan"; x = x " id=" $(i + 4) }
				else if ($i == "bond" && $(i + 1) == "mode") { kind = "bond"; x = x " mode=" $(i + 2) }
				else if (kind == "bond" && ($i == "miimon" || $i == "xmit_hash_policy" || $i == "lacp_rate"))
					x = x " " $i "=" $(i + 1)
				else if ($i == "bridge" && $(i + 1) == "forward_delay") kind = "bridge"
				else if ($i == "dummy") kind = "dummy"
			}
			print "link " name " kind=" kind " master=" master " mtu=" mtu " alias=" alias " " up x
		}'
		ip -o addr show | awk '
		{
			s = "-"
			for (i = 4; i < NF; i++) if ($i == "scope") s = $(i + 1)
			if (s != "link" && s != "host") print "addr " $2 " " $4
		}'
		{ ip -4 route show; ip -6 route show; } | awk '
		/ proto kernel / { next }
		{
			dev = "-"; via = "-"; proto = "boot"; metric = "0"
			for (i = 2; i < NF; i++) {
				if ($i == "dev") dev = $(i + 1)
				else if ($i == "via") via = $(i + 1)
				else if ($i == "proto") proto = $(i + 1)
				else if ($i == "metric") metric = $(i + 1)
			}
			print "route " dev " " $1 " via " via " proto " proto " metric " metric
		}'
	} | sort
}
want() { grep -qxF -- "$1" $W/state || fail "missing: $1"; }
wantnot() { ! grep -q -- "$1" $W/state || fail "unexpected: $(grep -- "$1" $W/state | head -1)"; }
# same FILE WHAT: the state equals FILE
same() {
	diff "$1" $W/state > $W/diff || { sed 's/^/VM:   /' $W/diff; fail "$2: state differs (diff above)"; }
}
FOREIGN='^(link|addr|route) (bondf|bondf\.400|dummy2) '
foreign_ok() {
	grep -E "$FOREIGN" $W/state > $W/foreign.now
	diff $W/foreign $W/foreign.now > $W/diff || { sed 's/^/VM:   /' $W/diff; fail "$1: the foreign bond was touched"; }
}
# applied PLAN WHAT: conduit_apply succeeded with changes and nothing undone
applied() {
	apply "$1"
	[ $rc = 0 ] || fail "$2: conduit_apply exit $rc"
	case $out in "APPLY changes=0 "*) fail "$2: no changes";; "APPLY changes="*" undone=0 "*) ;; *) fail "$2: $out";; esac
	snap > $W/state
	foreign_ok "$2"
}
# noop PLAN WHAT: a second apply sends nothing, the dry run finds nothing
noop() {
	apply "$1"
	case $out in "APPLY changes=0 netlink=0 undone=0 "*) ;; *) fail "$2: re-apply: $out";; esac
	apply --dry-run "$1"
	[ "$out" = "DIFF changes=0" ] || fail "$2: dry run after apply: $out"
}
# bonding_has BOND LINE...: /proc/net/bonding/BOND has each line
bonding_has() {
	f=/proc/net/bonding/$1
	shift
	[ -r "$f" ] || fail "no $f"
	for l in "$@"; do
		grep -qxF -- "$l" "$f" || { sed 's/^/VM:   /' "$f"; fail "$f lacks: $l"; }
	done
}

# ---- 0. setup ----
step "0. setup: dummies, foreign bond bondf (802.3ad over dummy2) + bondf.400"
for d in dummy0 dummy1 dummy2 dummy3 dummy4; do do_ip link add $d type dummy; done
for d in eth0 eth1 dummy0 dummy1; do do_ip link set $d up; done
do_ip link add bondf type bond mode 802.3ad miimon 200 lacp_rate slow
do_ip link set dummy2 master bondf
do_ip link set bondf up
do_ip link add link bondf name bondf.400 type vlan id 400
do_ip link set bondf.400 up
do_ip addr add 198.18.0.1/24 dev bondf.400
do_ip route add 198.18.1.0/24 via 198.18.0.254 dev bondf.400
snap > $W/state
cp $W/state $W/state0
grep -E "$FOREIGN" $W/state0 > $W/foreign
[ "$(wc -l < $W/foreign)" -ge 5 ] || fail "setup: foreign state incomplete: $(cat $W/foreign)"
P1=/plans/plan1.txt

# ---- 1. apply from scratch ----
step "1. apply plan1 (802.3ad bond + VLANs 200/300 + bridge, active-backup bond, v4+v6, default routes)"
applied $P1 "step 1"
want "link bond-intf0 kind=bond master=- mtu=9000 alias=netd:intf0 up mode=802.3ad miimon=100 xmit_hash_policy=layer3+4 lacp_rate=fast"
want "link eth0 kind=- master=bond-intf0 mtu=9000 alias=- up"
want "link eth1 kind=- master=bond-intf0 mtu=9000 alias=- up"
want "link bond-intf0.200 kind=vlan master=br-storage mtu=9000 alias=netd:intf0/storage up id=200"
want "link br-storage kind=bridge master=- mtu=9000 alias=netd:intf0/storage up"
want "link bond-intf0.300 kind=vlan master=- mtu=1500 alias=netd:intf0/public up id=300"
want "link bond-intf1 kind=bond master=- mtu=1500 alias=netd:intf1 up mode=active-backup miimon=100 xmit_hash_policy=layer2 lacp_rate=slow"
want "link dummy0 kind=dummy master=bond-intf1 mtu=1500 alias=- up"
want "link dummy1 kind=dummy master=bond-intf1 mtu=1500 alias=- up"
want "addr br-storage 192.0.2.5/24"
want "addr br-storage 2001:db8:200::5/64"
want "addr bond-intf0.300 198.51.100.5/24"
want "addr bond-intf0.300 2001:db8:300::5/64"
want "addr bond-intf1 203.0.113.5/24"
want "route bond-intf1 default via 203.0.113.1 proto 77 metric 0"
want "route br-storage default via 2001:db8:200::1 proto 77 metric 1024"
[ "$(grep '^addr ' $W/state | grep -cvE "$FOREIGN")" = 5 ] || fail "step 1: unexpected addresses"
[ "$(grep -c ' proto 77 ' $W/state)" = 2 ] || fail "step 1: unexpected netd routes"
bonding_has bond-intf0 "Bonding Mode: IEEE 802.3ad Dynamic link aggregation" "MII Polling Interval (ms): 100" \
	"LACP rate: fast" "Transmit Hash Policy: layer3+4 (1)" "Slave Interface: eth0" "Slave Interface: eth1"
bonding_has bond-intf1 "Bonding Mode: fault-tolerance (active-backup)" "MII Polling Interval (ms): 100" \
	"Slave Interface: dummy0" "Slave Interface: dummy1"
[ "$(sed -n 's/.*VID: \([0-9]*\).*/\1/p' /proc/net/vlan/bond-intf0.200 2>/dev/null)" = 200 ] ||
	fail "step 1: /proc/net/vlan/bond-intf0.200 has no VID 200"
[ "$(cat /sys/class/net/bond-intf0.200/brport/bridge/ifindex 2>/dev/null)" = "$(cat /sys/class/net/br-storage/ifindex)" ] ||
	fail "step 1: bond-intf0.200 is not a port of br-storage in sysfs"
cp $W/state $W/state1

# ---- 2. idempotent ----
step "2. apply plan1 again: nothing to do"
noop $P1 "step 2"
snap > $W/state
same $W/state1 "step 2"
foreign_ok "step 2"

# ---- 3. drop a VLAN network ----
step "3. drop network public (VLAN 300)"
grep -v public $P1 > $W/plan2
applied $W/plan2 "step 3"
wantnot "bond-intf0.300"
[ ! -e /sys/class/net/bond-intf0.300 ] || fail "step 3: bond-intf0.300 still in sysfs"
grep -v 'bond-intf0\.300' $W/state1 > $W/expect3
same $W/expect3 "step 3"
noop $W/plan2 "step 3"

# ---- 4. refusals ----
step "4a. a foreign bond named like netd's (bond-intf2): refused, nothing sent"
do_ip link add bond-intf2 type bond mode balance-rr
snap > $W/state
cp $W/state $W/state4
{ cat $W/plan2; echo "conduit intf2 dummy3 dummy4 team active-backup"
  echo "network backup conduit=intf2 v4=198.18.10.0/24"; echo "addr backup 198.18.10.5"; } > $W/plan4a
apply $W/plan4a
[ $rc = 1 ] || fail "step 4a: not refused (exit $rc)"
case $out in "APPLY changes=0 netlink=0 "*) ;; *) fail "step 4a: something was sent: $out";; esac
case $out in *"device bond-intf2 exists and is not netd's"*) ;; *) fail "step 4a: wrong error: $out";; esac
snap > $W/state
same $W/state4 "step 4a"
do_ip link del bond-intf2
step "4b. a NIC that is a port of the foreign bond: refused, nothing sent"
{ cat $W/plan2; echo "conduit intf3 dummy2"; echo "network lab conduit=intf3 v4=198.18.20.0/24"
  echo "addr lab 198.18.20.5"; } > $W/plan4b
apply $W/plan4b
[ $rc = 1 ] || fail "step 4b: not refused (exit $rc)"
case $out in "APPLY changes=0 netlink=0 "*) ;; *) fail "step 4b: something was sent: $out";; esac
case $out in *"NIC dummy2 is a port of bondf, which netd does not own"*) ;; *) fail "step 4b: wrong error: $out";; esac
snap > $W/state
same $W/expect3 "step 4b"

# ---- 5. teardown ----
step "5. teardown: a plan without networks"
echo "node vm1" > $W/plan5
applied $W/plan5 "step 5"
wantnot "netd:"
wantnot " proto 77 "
same $W/state0 "step 5"
noop $W/plan5 "step 5"

# ---- 6. rollback ----
step "6. plan1 + a route the kernel refuses: everything rolled back"
{ cat $P1; echo "extra-route br-storage 198.18.99.0/24 via 198.18.98.1"; } > $W/plan6
apply $W/plan6
[ $rc = 1 ] || fail "step 6: did not fail (exit $rc)"
case $out in *"device br-storage: add route 198.18.99.0/24 via 198.18.98.1"*) ;; *) fail "step 6: error does not name the change: $out";; esac
case $out in *"undone=0 "*) fail "step 6: nothing rolled back: $out";; *"undone="*) ;; *) fail "step 6: $out";; esac
case $out in *"rollback incomplete"*) fail "step 6: $out";; esac
snap > $W/state
foreign_ok "step 6"
same $W/state0 "step 6"

# ---- 7. again from scratch ----
step "7. plan1 from scratch again"
applied $P1 "step 7"
same $W/state1 "step 7"
noop $P1 "step 7"

if dmesg | grep -E 'WARNING:|BUG:|Call Trace|Oops' > $W/dmesg; then
	sed 's/^/VM:   /' $W/dmesg | head -40
	fail "kernel warnings during the run (above)"
fi

step "all steps passed ($(awk -v a="$SECONDS0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.2f", b - a }') s in the guest)"
exit 0
