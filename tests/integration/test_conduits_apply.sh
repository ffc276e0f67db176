#!/bin/bash
# conduits/ plan + diff + apply against the real kernel.
#
# In a network namespace made here: veth pairs act as NICs (their peers stay
# in the namespace, up).  This kernel has no bond and no 802.1Q, so the plans
# use "option vlan_as_macvlan" (VLANs become macvlans of the same name) and
# bridges; bonds and VLANs are covered in the VM.  Steps:
#   1. apply a plan (2 conduits, 3 networks, bridge, MTU 9000, v4+v6, default
#      routes); check links, masters, MTUs, aliases, addresses, routes with
#      `ip -d -j link/addr/route`;
#   2. apply again: zero netlink requests;
#   3. change the plan (remove a network, add one): the stale macvlan is gone,
#      the new one is there, a foreign device (no netd mark) and a foreign
#      address on a NIC are untouched;
#   4. a failing change (default route via a gateway outside every subnet:
#      the kernel refuses it after devices and addresses were made): the
#      error names node, conduit, device, change and the kernel's message,
#      and the state equals the one before;
#   5. a name collision with a foreign device: refused before any change;
#   6. teardown (a plan without networks): netd's devices go, in bulk.
#   test_conduits_apply.sh CONDUIT_APPLY
set -euo pipefail

BIN=${1:?usage: test_conduits_apply.sh CONDUIT_APPLY}
. "$(dirname "$0")/netns.sh"
netns_begin netdcap
run() { ip netns exec "$NS" "$BIN" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
snap() { # a stable picture of the namespace: links, addresses, routes
	ipn -d -j link show > "$WORK/l.json"; ipn -j addr show > "$WORK/a.json"
	ipn -j route show > "$WORK/r4.json"; ipn -j -6 route show > "$WORK/r6.json"
	python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
links = json.load(open(w + "/l.json"))
out = []
for l in sorted(links, key=lambda l: l["ifname"]):
    out.append("link %s kind=%s master=%s mtu=%s alias=%s up=%s" % (l["ifname"], l.get("linkinfo", {}).get("info_kind", "-"),
        l.get("master", "-"), l["mtu"], l.get("ifalias", "-"), "UP" in l["flags"]))
for a in json.load(open(w + "/a.json")):
    for i in a.get("addr_info", []):
        if i.get("scope") != "link":
            out.append("addr %s %s/%s" % (a["ifname"], i["local"], i["prefixlen"]))
for f in ("r4", "r6"):
    for r in json.load(open(w + "/%s.json" % f)):
        if r.get("protocol") != "kernel":
            out.append("route %s via %s dev %s proto %s" % (r["dst"], r.get("gateway", "-"), r.get("dev"), r.get("protocol")))
print("\n".join(sorted(out)))
PY
}
want() { grep -qxF -- "$1" "$WORK/state" || { cat "$WORK/state"; fail "missing: $1"; }; }
wantnot() { ! grep -q -- "$1" "$WORK/state" || { cat "$WORK/state"; fail "unexpected: $1"; }; }

for i in 0 1 2; do
	ipn link add nic$i type veth peer name peer$i
	ipn link set peer$i up
done
ipn link add foreign0 type bridge          # not netd's: no alias mark
ipn addr add 192.0.2.9/24 dev nic0         # not in any netd subnet: stays

cat > "$WORK/p1" <<'P'
node n1
option vlan_as_macvlan
conduit intf0 nic0
conduit intf1 nic1
network admin conduit=intf0 pref=10 v4=10.10.0.0/24 router4=10.10.0.1 v6=fd00:10::/64 router6=fd00:10::1
network storage conduit=intf1 vlan=200 bridge mtu=9000 pref=20 v4=10.20.0.0/24 router4=10.20.0.1
network public conduit=intf1 vlan=300 v4=10.30.0.0/24
addr admin 10.10.0.5
addr admin fd00:10::5
addr storage 10.20.0.5
addr public 10.30.0.5
P
# 1. from scratch
out=$(run "$WORK/p1"); echo "apply 1: $out"
[[ $out == "APPLY changes="*" undone=0 "* ]] || fail "first apply: $out"
snap > "$WORK/state"
want "link nic1 kind=veth master=- mtu=9000 alias=- up=True"
want "link nic1.200 kind=macvlan master=br-storage mtu=9000 alias=netd:intf1/storage up=True"
want "link nic1.300 kind=macvlan master=- mtu=1500 alias=netd:intf1/public up=True"
want "link br-storage kind=bridge master=- mtu=9000 alias=netd:intf1/storage up=True"
want "link nic0 kind=veth master=- mtu=1500 alias=- up=True"
want "addr nic0 10.10.0.5/24"
want "addr nic0 fd00:10::5/64"
want "addr nic0 192.0.2.9/24"
want "addr br-storage 10.20.0.5/24"
want "addr nic1.300 10.30.0.5/24"
want "route default via 10.10.0.1 dev nic0 proto 77"
want "route default via fd00:10::1 dev nic0 proto 77"
want "link foreign0 kind=bridge master=- mtu=1500 alias=- up=False"
cp "$WORK/state" "$WORK/state1"

# 2. idempotent: zero netlink requests
out=$(run "$WORK/p1"); echo "apply 2: $out"
[[ $out == "APPLY changes=0 netlink=0 undone=0 "* ]] || fail "second apply changed something: $out"
[ "$(run --dry-run "$WORK/p1" | head -1)" = "DIFF changes=0" ] || fail "diff after apply not empty"

# 3. remove 'public', add 'backup' on a third NIC (bridged, untagged), admin preferred less
sed -e '/public/d' -e 's/pref=10/pref=30/' "$WORK/p1" > "$WORK/p2"
cat >> "$WORK/p2" <<'P'
conduit intf2 nic2
network backup conduit=intf2 bridge pref=5 v4=10.40.0.0/24 router4=10.40.0.1
addr backup 10.40.0.5
P
out=$(run "$WORK/p2"); echo "apply 3: $out"
[[ $out == "APPLY changes="*" undone=0 "* ]] || fail "changed plan: $out"
snap > "$WORK/state"
wantnot "nic1.300"
wantnot "10.30.0.5"
want "link nic2 kind=veth master=br-backup mtu=1500 alias=- up=True"
want "link br-backup kind=bridge master=- mtu=1500 alias=netd:intf2/backup up=True"
want "addr br-backup 10.40.0.5/24"
want "route default via 10.40.0.1 dev br-backup proto 77"
want "route default via fd00:10::1 dev nic0 proto 77"
want "addr nic0 192.0.2.9/24"
want "link foreign0 kind=bridge master=- mtu=1500 alias=- up=False"
out=$(run "$WORK/p2"); [[ $out == "APPLY changes=0 netlink=0 "* ]] || fail "re-apply of plan 2: $out"
cp "$WORK/state" "$WORK/state2"

# 4. a kernel error mid-apply rolls everything back
cp "$WORK/p1" "$WORK/p3"      # back to plan 1 (many changes) plus a route the kernel refuses
echo "extra-route br-storage 198.51.100.0/24 via 203.0.113.1" >> "$WORK/p3"
set +e; out=$(run "$WORK/p3"); rc=$?; set -e
echo "apply 4: $out"
[ $rc = 1 ] || fail "crafted plan did not fail"
echo "$out" | grep -q "node n1 conduit - device br-storage: add route 198.51.100.0/24 via 203.0.113.1" || fail "error does not name the change"
echo "$out" | grep -qi "unreachable\|invalid gateway" || fail "error lacks the kernel's message"
[[ $out == *"undone="[1-9]* ]] || fail "nothing rolled back"
snap > "$WORK/state"
diff -u "$WORK/state2" "$WORK/state" || fail "state after rollback differs"

# 5. name collision with a foreign device: refused up front
ipn link add br-public type bridge
sed -e 's/^network public conduit=intf1 vlan=300/network public conduit=intf1 vlan=300 bridge/' "$WORK/p1" > "$WORK/p5"
set +e; out=$(run "$WORK/p5"); rc=$?; set -e
echo "apply 5: $out"
[ $rc = 1 ] && [[ $out == *"device br-public exists and is not netd's"* ]] || fail "collision not refused: $out"
[[ $out == "APPLY changes=0 netlink=0 "* ]] || fail "collision made changes: $out"
ipn link del br-public

# 6. teardown: no networks -> every netd device goes (bulk), NICs and foreign stay
printf 'node n1\n' > "$WORK/p6"
out=$(run "$WORK/p6"); echo "apply 6: $out"
snap > "$WORK/state"
wantnot "netd:"
wantnot "proto 77"
want "link foreign0 kind=bridge master=- mtu=1500 alias=- up=False"
want "addr nic0 192.0.2.9/24"
echo "conduit-apply: OK"
