#!/bin/bash
# conduits/ inventory against the real kernel.
#
# Makes a network namespace with veth pairs (chosen MACs and MTUs), a bridge
# with one veth enslaved, a macvlan on another veth, a link left down and a
# tap device; runs inventory_dump in it (`ip netns exec` remounts /sys for
# the namespace) and compares every Ethernet link with `ip -d -j link
# show`: names, ifindex, MACs, permanent MACs, MTU, operstate, master and
# kind must match; veth speeds follow the veth driver (10000 Mb/s class;
# current speed 0 when down).
#
# Supported speeds come from the kernel's link modes only: veth, bridges
# and macvlans report none, so they show none ("-") while their class
# comes from a speed.  A tap device keeps whatever link modes
# ETHTOOL_SLINKSETTINGS gives it and reports them back, so it stands in for
# a real NIC: given 1000baseT, 10000baseT and 20000baseKR2 (plus TP and
# Autoneg, which have no speed) it must show supported 1000,10000,20000 and
# class 20000 (a speed without a class token).  Nothing outside the
# namespace is touched; it is removed on exit.
#
#   test_inventory.sh INVENTORY_DUMP
set -euo pipefail

DUMP=${1:?usage: test_inventory.sh INVENTORY_DUMP}
. "$(dirname "$0")/netns.sh"
netns_begin netdinv

ipn link add nv0 address 02:00:5e:10:00:01 mtu 1500 type veth peer name nv1 address 02:00:5e:10:00:02 mtu 1500
ipn link add nv2 address 02:00:5e:10:00:03 mtu 9000 type veth peer name nv3 address 02:00:5e:10:00:04 mtu 9000
ipn link add nv4 address 02:00:5e:10:00:05 mtu 1400 type veth peer name nv5 address 02:00:5e:10:00:06 mtu 1400
ipn link add br0 address 02:00:5e:10:00:10 mtu 9000 type bridge stp_state 0 forward_delay 0
ipn link set nv2 master br0
ipn link add mv0 link nv0 address 02:00:5e:10:00:20 mtu 1450 type macvlan mode bridge
for l in nv0 nv1 nv2 nv3 br0 mv0 nv4; do ipn link set "$l" up; done   # nv5 stays down
ipn tuntap add dev tp0 mode tap
ipn link set tp0 address 02:00:5e:10:00:30
ip netns exec "$NS" "$DUMP" --set-modes tp0 TP,Autoneg,1000baseT_Full,10000baseT_Full,20000baseKR2_Full

# Compare only a stable picture: ip before and after the dump must agree.
ok=""
for _ in $(seq 1 40); do
	ipn -d -j link show > "$WORK/ip1.json"
	ip netns exec "$NS" "$DUMP" > "$WORK/dump.txt"
	ipn -d -j link show > "$WORK/ip2.json"
	if python3 -c 'import json,sys
def key(f): return [(l["ifname"], l.get("operstate"), l.get("master")) for l in json.load(open(f))]
sys.exit(0 if key(sys.argv[1]) == key(sys.argv[2]) else 1)' "$WORK/ip1.json" "$WORK/ip2.json"; then
		ok=1
		break
	fi
	sleep 0.1
done
[ -n "$ok" ] || { echo "FAIL: link states did not settle"; exit 1; }
ip netns exec "$NS" "$DUMP" --physical > "$WORK/phys.txt"

python3 - "$WORK/ip1.json" "$WORK/dump.txt" "$WORK/phys.txt" <<'PY'
import json, sys

links = json.load(open(sys.argv[1]))
dump = {}
for line in open(sys.argv[2]):
    f = line.split()
    assert len(f) == 13, "bad line: %r" % line
    dump[f[0]] = dict(zip("name ifindex mac perm mtu oper cls speed pci driver kind master supported".split(), f))
byname = {l["ifname"]: l for l in links}
errors = []

def check(name, what, got, want):
    if str(got) != str(want):
        errors.append("%s: %s is %s, ip says %s" % (name, what, got, want))

ether = [l for l in links if l.get("link_type") == "ether"]
check("inventory", "link set", sorted(dump), sorted(l["ifname"] for l in ether))
if "lo" in dump:
    errors.append("lo listed")
for l in ether:
    d = dump.get(l["ifname"])
    if d is None:
        continue
    n = l["ifname"]
    check(n, "ifindex", d["ifindex"], l["ifindex"])
    check(n, "mac", d["mac"], l["address"])
    check(n, "perm", d["perm"], l.get("permaddr", "-"))
    check(n, "mtu", d["mtu"], l["mtu"])
    check(n, "operstate", d["oper"], l["operstate"].lower())
    master = byname[l["master"]]["ifindex"] if "master" in l else 0
    check(n, "master", d["master"], master)
    check(n, "kind", d["kind"], l.get("linkinfo", {}).get("info_kind", "-"))
    check(n, "pci", d["pci"], "-")        # all virtual here
    check(n, "driver", d["driver"], "-")
    if d["kind"] == "veth":
        check(n, "class", d["cls"], 10000)
        check(n, "speed", d["speed"], 10000 if l["operstate"] == "UP" else 0)
    if d["kind"] != "tun":
        check(n, "supported speeds (no link modes)", d["supported"], "-")

want = {"nv0": ("up", "veth"), "nv2": ("up", "veth"), "nv5": ("down", "veth"), "br0": (None, "bridge"),
        "mv0": ("up", "macvlan"), "nv4": ("lowerlayerdown", "veth"), "tp0": ("down", "tun")}
for n, (oper, kind) in want.items():
    d = dump.get(n)
    if d is None:
        errors.append("%s missing" % n)
        continue
    check(n, "kind (expected)", d["kind"], kind)
    if oper and n != "nv4":
        check(n, "operstate (expected)", d["oper"], oper)
check("nv2", "master (expected)", dump.get("nv2", {}).get("master"), dump.get("br0", {}).get("ifindex"))
check("nv2", "mtu (expected)", dump.get("nv2", {}).get("mtu"), 9000)
check("mv0", "mac (expected)", dump.get("mv0", {}).get("mac"), "02:00:5e:10:00:20")
check("tp0", "supported speeds (its link modes)", dump.get("tp0", {}).get("supported"), "1000,10000,20000")
check("tp0", "class (its fastest link mode)", dump.get("tp0", {}).get("cls"), 20000)
if open(sys.argv[3]).read().strip():
    errors.append("--physical lists virtual links: %r" % open(sys.argv[3]).read())
for e in errors:
    print("FAIL:", e)
if errors:
    sys.exit(1)
print("inventory: %d links match ip -d -j link" % len(dump))
PY
