#!/usr/bin/python3
"""net-snmp pass_persist backend simulating an N-port switch, and its control CLI.

Adapted from shared/recipes/snmp/switchsim_pp.py for netd's tests.  Served:
   IF-MIB ifTable (.1.3.6.1.2.1.2) + ifXTable (.1.3.6.1.2.1.31.1.1)
   BRIDGE-MIB dot1dBase (.1.3.6.1.2.1.17.1) + Q-BRIDGE-MIB (.1.3.6.1.2.1.17.7):
     dot1qTpFdbTable (.1.2.2: port and status by FDB id + MAC), dot1qVlanCurrentTable,
     dot1qVlanStaticTable (writable, RowStatus), dot1qPortVlanTable (dot1qPvid writable)
   LLDP-MIB lldpRemTable (.1.0.8802.1.1.2.1.4.1: chassis/port id with subtypes, sysName)
Bridge port p is ifIndex IFBASE + p (a switch's ifIndex is rarely its port number); with
IFBASE > 1 there is also a management interface "mgmt0" at ifIndex 1 that is no bridge port.

State lives in a JSON file (SWITCHSIM_STATE) shared by the pass_persist processes (one per
registered subtree), the tests and `ctl`; it is re-parsed whenever its bytes change (not its
mtime: two writes inside one timestamp tick must not be missed).
Writable: ifAdminStatus (ifOperStatus follows), ifAlias, dot1qVlanStaticName/EgressPorts/
ForbiddenEgressPorts/UntaggedPorts/RowStatus, dot1qPvid.  SETs answer wrongType, wrongLength,
wrongValue, inconsistentValue (createAndGo on an existing row, a PVID for a missing VLAN) and
notWritable like the recipe; state["faults"] maps an OID (".1.3...") to an error a SET of it
gets (fault injection for tests).  Multi-varbind SETs are not atomic (snmpd hands varbinds
over one at a time), exactly as with the recipe.
Env: SWITCHSIM_STATE, SWITCHSIM_PORTS (24), SWITCHSIM_IFBASE (1000), SWITCHSIM_PHANTOM (1).

Control (tests): switchsim_pp.py ctl STATE COMMAND ...
  dump                                  canonical text of VLAN rows, PVIDs, aliases (see dump())
  reset                                 back to the state of a fresh start
  lldp PORT IDX CSUB CHEX PSUB PHEX NAME  add an lldpRemTable entry (ids as hex octets)
  fdb FID MAC PORT [STATUS]             add (or move) a dot1qTpFdbTable entry (3 = learned)
  vlan VLAN FIELD VALUE                 set name|egress|untagged (hex)|status of a row (creates it)
  pvid PORT VLAN                        set a PVID
  alias PORT TEXT                       set the ifAlias of a bridge port
  fault OID ERROR | fault-clear         refuse SETs of OID with ERROR (e.g. wrong-value)
"""
import bisect, json, os, sys, time

STATE = os.environ.get("SWITCHSIM_STATE", "switchsim-state.json")   # start.sh sets it
NPORTS = int(os.environ.get("SWITCHSIM_PORTS", "24"))
IFBASE = int(os.environ.get("SWITCHSIM_IFBASE", "1000"))
START = time.time()

IF, IFX, BR, QB = (1,3,6,1,2,1,2), (1,3,6,1,2,1,31), (1,3,6,1,2,1,17,1), (1,3,6,1,2,1,17,7)
LLDP = (1,0,8802,1,1,2)


def default_state(nports, ifbase):
    pl = (nports + 7) // 8
    allp = bytearray(pl)
    for p in range(1, nports + 1):
        allp[(p - 1) // 8] |= 0x80 >> ((p - 1) % 8)
    ifaces = {str(ifbase + i): {"alias": "", "admin": 1} for i in range(1, nports + 1)}
    if ifbase > 1:
        ifaces["1"] = {"alias": "management", "admin": 1}
    return {"nports": nports, "ifbase": ifbase, "ifaces": ifaces,
            "vlans": {"1": {"name": "default", "egress": allp.hex(), "forbidden": "00" * pl,
                            "untagged": allp.hex(), "status": 1}},
            "pvid": {str(i): 1 for i in range(1, nports + 1)},
            "numDeletes": 0, "lldp": [], "fdb": [], "faults": {}}


_cache = {"raw": None, "st": None, "rows": None, "keys": None}


def load():
    try:
        with open(STATE, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        save(default_state(NPORTS, IFBASE))
        with open(STATE, "rb") as f:
            raw = f.read()
    if raw != _cache["raw"]:
        _cache["st"] = json.loads(raw)
        _cache["raw"] = raw
        _cache["rows"] = None
    return _cache["st"]


def save(st):
    tmp = STATE + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        json.dump(st, f, indent=1, sort_keys=True)
    os.replace(tmp, STATE)
    _cache["raw"] = None


def octet(b): return ("octet", " ".join("%02x" % x for x in b) if b else "")


def text(s):
    """a string value as pass_persist wants it: printable ASCII as string, else octet"""
    b = s.encode("latin-1")
    if all(32 <= c < 127 and c != 0x22 for c in b):
        return ("string", s)
    return octet(b)


def build_rows(st):
    """all (oid-tuple, type, value) currently in the simulated MIBs, sorted"""
    r = []
    n, base = st["nports"], st["ifbase"]
    ports = range(1, n + 1)
    ifs = sorted(int(i) for i in st["ifaces"])
    r.append((IF + (1, 0), "integer", len(ifs)))                   # ifNumber
    for i in ifs:
        e = st["ifaces"][str(i)]
        p = i - base if base < i <= base + n else 0
        name = "GigabitEthernet1/0/%d" % p if p else "mgmt0"
        col = lambda c, t, v: r.append((IF + (2, 1, c, i), t, v))
        col(1, "integer", i); col(2, "string", name); col(3, "integer", 6)
        col(4, "integer", 1500); col(5, "gauge", 1000000000)
        r.append((IF + (2, 1, 6, i),) + octet(bytes([2, 0, 0, 0, p >> 8, p & 255])))
        col(7, "integer", e["admin"]); col(8, "integer", 1 if e["admin"] == 1 else 2)
        col(9, "timeticks", 0)
        x = lambda c, t, v: r.append((IFX + (1, 1, 1, c, i), t, v))
        x(1, "string", "Gi1/0/%d" % p if p else "mgmt0"); x(15, "gauge", 1000)
        r.append((IFX + (1, 1, 1, 18, i),) + text(e["alias"]))
    r.append((BR + (1, 0),) + octet(bytes([2, 0, 0, 0, 0, 0])))     # dot1dBaseBridgeAddress
    r.append((BR + (2, 0), "integer", n)); r.append((BR + (3, 0), "integer", 2))
    for p in ports:
        r.append((BR + (4, 1, 1, p), "integer", p)); r.append((BR + (4, 1, 2, p), "integer", base + p))
    for e in st.get("fdb", []):                                   # dot1qTpFdbTable
        mac = tuple(int(x, 16) for x in e["mac"].split(":"))
        r.append((QB + (1, 2, 2, 1, 2, e["fid"]) + mac, "integer", e["port"]))
        r.append((QB + (1, 2, 2, 1, 3, e["fid"]) + mac, "integer", e.get("status", 3)))
    vl = {int(v): d for v, d in st["vlans"].items()}
    active = [v for v in vl if vl[v]["status"] == 1]
    r += [(QB + (1, 1, 1, 0), "integer", 2), (QB + (1, 1, 2, 0), "integer", 4094),
          (QB + (1, 1, 3, 0), "gauge", 4094), (QB + (1, 1, 4, 0), "gauge", len(active)),
          (QB + (1, 1, 5, 0), "integer", 2), (QB + (1, 4, 1, 0), "counter", st["numDeletes"])]
    for v in sorted(active):                                       # dot1qVlanCurrentTable, TimeMark 0
        d = vl[v]
        r.append((QB + (1, 4, 2, 1, 4, 0, v),) + octet(bytes.fromhex(d["egress"])))
        r.append((QB + (1, 4, 2, 1, 5, 0, v),) + octet(bytes.fromhex(d["untagged"])))
        r.append((QB + (1, 4, 2, 1, 6, 0, v), "integer", 2))       # permanent
    for v in sorted(vl):                                           # dot1qVlanStaticTable
        d = vl[v]
        r.append((QB + (1, 4, 3, 1, 1, v),) + text(d["name"]))
        r.append((QB + (1, 4, 3, 1, 2, v),) + octet(bytes.fromhex(d["egress"])))
        r.append((QB + (1, 4, 3, 1, 3, v),) + octet(bytes.fromhex(d["forbidden"])))
        r.append((QB + (1, 4, 3, 1, 4, v),) + octet(bytes.fromhex(d["untagged"])))
        r.append((QB + (1, 4, 3, 1, 5, v), "integer", d["status"]))
    r.append((QB + (1, 4, 4, 0), "integer", 0))                    # dot1qNextFreeLocalVlanIndex
    for p in ports:                                                # dot1qPortVlanTable
        r.append((QB + (1, 4, 5, 1, 1, p), "gauge", st["pvid"][str(p)]))
        r.append((QB + (1, 4, 5, 1, 2, p), "integer", 1))
        r.append((QB + (1, 4, 5, 1, 3, p), "integer", 2))
    for e in st.get("lldp", []):                                   # lldpRemTable, TimeMark 0
        idx = (0, e["port"], e["index"])
        c = lambda col: LLDP + (1, 4, 1, 1, col) + idx
        r.append((c(4), "integer", e["chassis_subtype"]))
        r.append((c(5),) + octet(bytes.fromhex(e["chassis"])))
        r.append((c(6), "integer", e["port_subtype"]))
        r.append((c(7),) + octet(bytes.fromhex(e["port_id"])))
        r.append((c(9),) + text(e.get("sysname", "")))
    r.sort(key=lambda t: t[0])
    return r


def rows():
    st = load()
    if _cache["rows"] is None:
        _cache["rows"] = build_rows(st)
        _cache["keys"] = [x[0] for x in _cache["rows"]]
    return _cache["rows"], _cache["keys"]


def parse_oid(s): return tuple(int(x) for x in s.strip().strip(".").split(".") if x)
def fmt_oid(o): return "." + ".".join(map(str, o))


def parse_val(s):
    typ, _, val = s.strip().partition(" ")
    val = val.strip()
    if typ in ("string", "octet"):
        if val.startswith('"') and val.endswith('"'): val = val[1:-1]
        b = bytes.fromhex(val.replace(" ", "")) if typ == "octet" else val.encode("latin-1")
        return typ, b
    if typ == "objectid": return typ, val.strip('"')
    return typ, int(val) if typ != "ipaddress" else val


class SetErr(Exception): pass


def new_row(v, pl):
    return {"name": "VLAN%04d" % v, "egress": "00" * pl, "forbidden": "00" * pl,
            "untagged": "00" * pl, "status": 3}


def set_vlan(st, oid, typ, val, need):
    pl = (st["nports"] + 7) // 8
    col, v = oid[-2], oid[-1]
    if not 1 <= v <= 4094: raise SetErr("not-writable")
    row = st["vlans"].get(str(v))
    if col == 5:
        need(("integer",))
        if val == 4:      # createAndGo
            if row and row["status"] != 3: raise SetErr("inconsistent-value")
            row = row or new_row(v, pl); row["status"] = 1; st["vlans"][str(v)] = row
        elif val == 5:    # createAndWait
            if row and row["status"] != 3: raise SetErr("inconsistent-value")
            row = row or new_row(v, pl); row["status"] = 2; st["vlans"][str(v)] = row
        elif val in (1, 2):
            if not row: raise SetErr("inconsistent-value")
            row["status"] = val
        elif val == 6:    # destroy
            if row: del st["vlans"][str(v)]; st["numDeletes"] += 1
        else: raise SetErr("wrong-value")
        return
    need(("string", "octet"))
    if not row:       # column before RowStatus in the PDU: row appears as notReady(3)
        row = new_row(v, pl); row["status"] = 3; st["vlans"][str(v)] = row
    if col == 1:
        if len(val) > 32: raise SetErr("wrong-length")
        row["name"] = val.decode("latin-1")
        return
    if len(val) > pl: raise SetErr("wrong-length")
    b = val.ljust(pl, b"\0")
    extra = st["nports"] % 8
    if extra and b[-1] & (0xff >> extra): raise SetErr("wrong-value")   # bit beyond the last port
    row[{2: "egress", 3: "forbidden", 4: "untagged"}[col]] = b.hex()


def do_set(oid, typ, val):
    st = json.loads(json.dumps(load()))
    n = len(oid)
    fault = st.get("faults", {}).get(fmt_oid(oid))
    if fault: raise SetErr(fault)
    def need(t):
        if typ not in t: raise SetErr("wrong-type")
    if oid[:len(IF)] == IF and n == len(IF) + 4 and oid[len(IF):len(IF) + 3] == (2, 1, 7):
        i = oid[-1]; need(("integer",))
        if str(i) not in st["ifaces"]: raise SetErr("not-writable")
        if val not in (1, 2, 3): raise SetErr("wrong-value")
        st["ifaces"][str(i)]["admin"] = val
    elif oid[:len(IFX)] == IFX and oid[len(IFX):-1] == (1, 1, 1, 18):
        i = oid[-1]; need(("string", "octet"))
        if str(i) not in st["ifaces"]: raise SetErr("not-writable")
        if len(val) > 64: raise SetErr("wrong-length")
        st["ifaces"][str(i)]["alias"] = val.decode("latin-1")
    elif oid[:len(QB)] == QB and oid[len(QB):-1] in [(1, 4, 3, 1, c) for c in range(1, 6)]:
        set_vlan(st, oid, typ, val, need)
    elif oid[:len(QB)] == QB and oid[len(QB):-1] == (1, 4, 5, 1, 1):
        i = oid[-1]; need(("gauge", "integer"))
        if str(i) not in st["pvid"]: raise SetErr("not-writable")
        if not 1 <= val <= 4094: raise SetErr("wrong-value")
        if str(val) not in st["vlans"]: raise SetErr("inconsistent-value")
        st["pvid"][str(i)] = val
    else:
        raise SetErr("not-writable")
    save(st)


# snmpd only lets a SET through (RESERVE1) if an exact GET of the instance returns a value:
# with SWITCHSIM_PHANTOM=1 (default) an exact GET of a column of a *non-existent* VLAN row
# answers a placeholder so rows can be created; GETNEXT/walk never shows such rows.
PHANTOM = os.environ.get("SWITCHSIM_PHANTOM", "1") == "1"
def phantom(oid):
    if oid[:len(QB)] == QB and len(oid) == len(QB) + 6 and oid[len(QB):-2] == (1, 4, 3, 1) \
       and 1 <= oid[-2] <= 5 and 1 <= oid[-1] <= 4094:
        col = oid[-2]
        if col == 1: return (oid, "string", "")
        if col == 5: return (oid, "integer", 3)   # "notReady"; real agents say noSuchInstance
        return (oid,) + octet(bytes((load()["nports"] + 7) // 8))
    return None


def serve():
    out = sys.stdout
    while True:
        line = sys.stdin.readline()
        if not line: return
        cmd = line.strip()
        if cmd == "PING": out.write("PONG\n")
        elif cmd in ("get", "getnext"):
            oid = parse_oid(sys.stdin.readline()); r, keys = rows(); hit = None
            if cmd == "get":
                i = bisect.bisect_left(keys, oid)
                hit = r[i] if i < len(r) and keys[i] == oid else None
                if hit is None and PHANTOM: hit = phantom(oid)
            else:
                i = bisect.bisect_right(keys, oid)
                hit = r[i] if i < len(r) else None
            out.write("NONE\n" if hit is None else "%s\n%s\n%s\n" % (fmt_oid(hit[0]), hit[1], hit[2]))
        elif cmd == "set":
            oid = parse_oid(sys.stdin.readline()); typ, val = parse_val(sys.stdin.readline())
            try: do_set(oid, typ, val); out.write("DONE\n")
            except SetErr as e: out.write("%s\n" % e)
        elif cmd == "": continue
        else: out.write("NONE\n")
        out.flush()


# ---- control CLI for tests ----

def dump(st):
    """VLAN rows by id, then PVIDs and aliases of bridge ports 1..N, one line each:
       vlan V status=S name=NAME egress=HEX untagged=HEX
       pvid P V
       alias P TEXT"""
    lines = []
    for v in sorted(int(x) for x in st["vlans"]):
        d = st["vlans"][str(v)]
        lines.append("vlan %d status=%d name=%s egress=%s untagged=%s"
                     % (v, d["status"], d["name"], d["egress"], d["untagged"]))
    for p in range(1, st["nports"] + 1):
        lines.append("pvid %d %d" % (p, st["pvid"][str(p)]))
    for p in range(1, st["nports"] + 1):
        lines.append("alias %d %s" % (p, st["ifaces"][str(st["ifbase"] + p)]["alias"]))
    return "\n".join(lines) + "\n"


def ctl(argv):
    global STATE
    STATE = argv[0]
    cmd, a = argv[1], argv[2:]
    st = json.loads(json.dumps(load()))
    if cmd == "dump":
        sys.stdout.write(dump(st)); return 0
    if cmd == "reset":        # back to the state of a fresh start (same ports)
        save(default_state(st["nports"], st["ifbase"])); return 0
    if cmd == "lldp":
        st["lldp"].append({"port": int(a[0]), "index": int(a[1]), "chassis_subtype": int(a[2]),
                           "chassis": a[3], "port_subtype": int(a[4]), "port_id": a[5],
                           "sysname": a[6] if len(a) > 6 else ""})
    elif cmd == "fdb":        # one entry per (FDB id, MAC), as in a real FDB: a later one moves it
        e = {"fid": int(a[0]), "mac": a[1].lower(), "port": int(a[2]),
             "status": int(a[3]) if len(a) > 3 else 3}
        st["fdb"] = [x for x in st["fdb"] if (x["fid"], x["mac"]) != (e["fid"], e["mac"])] + [e]
    elif cmd == "vlan":
        pl = (st["nports"] + 7) // 8
        row = st["vlans"].setdefault(a[0], new_row(int(a[0]), pl) | {"status": 1})
        row[a[1]] = int(a[2]) if a[1] == "status" else a[2]
    elif cmd == "pvid":
        st["pvid"][a[0]] = int(a[1])
    elif cmd == "alias":
        st["ifaces"][str(st["ifbase"] + int(a[0]))]["alias"] = a[1] if len(a) > 1 else ""
    elif cmd == "fault":
        st.setdefault("faults", {})[a[0]] = a[1]
    elif cmd == "fault-clear":
        st["faults"] = {}
    else:
        sys.stderr.write("switchsim ctl: unknown command %s\n" % cmd); return 2
    save(st)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "ctl":
        sys.exit(ctl(sys.argv[2:]))
    serve()
