"""NETD-MIB over AgentX against Debian's snmpd and snmptrapd.

snmpd runs as AgentX master on loopback (SNMPv3 authPriv only, config in
tests/peers/snmp/), netd attaches as subagent; snmpwalk -On reads the netd
subtree and the figures must equal what RESTCONF reports: utilization, and
the DNS record and node-role counts by state; the allocation counters and
the DNS and annealer figures must equal /metrics' (one gathering feeds
both). Filling a small range past the threshold must bring exactly one
netdRangeNearlyExhausted to snmptrapd; restarting snmpd must not need a
netd restart. net-snmp's own MIB parser (snmptranslate) must read
NETD-MIB.txt and find the notifications at the OIDs netd sends, with the
objects it sends. A deployment of noop roles must show in netdNodeRoles as
RESTCONF counts it; a switch whose agent is a dead loopback port must show
in netdSwitches as RESTCONF /netd:switches reports its state (error); a role whose exec jig exits 1 (one attempt) must bring
exactly one netdNodeRoleError carrying the counts.

Not here: provoking netdDnsDriftDetected (it needs a DNS server whose zone
is changed behind netd's back); the test checks that it is not sent while
nothing drifted.

usage: test_snmp.py NETD_BINARY
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdtest import Checks, Client, Netd, cleanup, free_port, tempdir  # noqa: E402

PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'peers', 'snmp')
MIBS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'mibs')
BASE = '.1.3.6.1.4.1.32473.1'
V3 = ['-v3', '-l', 'authPriv', '-u', 'netdro', '-a', 'SHA-256', '-A', 'authpass-netd1',
      '-x', 'AES', '-X', 'privpass-netd1', '-On', '-r', '1', '-t', '2']
TOKEN = 'snmp-test-token-0123456789abcdef'
SANITIZER = re.compile(r'ERROR: \w*Sanitizer|runtime error|SUMMARY: \w*Sanitizer')
THRESHOLD = 80
NETWORKS = [
    {'name': 'admin', 'primary': True,
     'ipv4': {'subnet': '10.10.0.0/22', 'router': '10.10.0.1',
              'range': [{'name': 'host', 'first': '10.10.0.10', 'last': '10.10.3.250'}]},
     'ipv6': {'prefix': 'auto'}, 'dns-domain': 'lab.example'},
    {'name': 'storage', 'vlan': 200,
     'ipv4': {'subnet': '10.20.0.0/24',
              'range': [{'name': 'low', 'first': '10.20.0.10', 'last': '10.20.0.99'},
                        {'name': 'high', 'first': '10.20.0.100', 'last': '10.20.0.199'}]}},
    # 10 addresses: 8 allocated = 80 % = the threshold
    {'name': 'tiny',
     'ipv4': {'subnet': '10.40.0.0/28', 'range': [{'name': 'pool', 'first': '10.40.0.2', 'last': '10.40.0.11'}]}},
]
NODES = 6
# NETD-MIB's netdDnsState and netdNodeRoleState (value = position + 1), the
# YANG record-state and node-role-state enums, /metrics' state labels
DNS_STATES = ['pending', 'published', 'verified', 'error', 'conflict', 'drift']
ROLE_STATES = ['proposed', 'todo', 'transition', 'active', 'error', 'blocked']
# NETD-MIB's netdSwitchState and netdBmcState, the YANG device-state enum
DEV_STATES = ['unknown', 'pending', 'in-sync', 'error']


class Proc:
    def __init__(self, args, log, env=None):
        self.args, self.log, self.env, self.p = args, log, env, None

    def start(self):
        self.p = subprocess.Popen(self.args, stdout=open(self.log, 'a'), stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=self.env)

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def fill(template, out, **kv):
    with open(os.path.join(PEERS, template)) as f:
        text = f.read()
    for k, v in kv.items():
        text = text.replace(f'@{k}@', str(v))
    with open(out, 'w') as f:
        f.write(text)


LINE = re.compile(r'^(\.[0-9.]+) = (?:([A-Za-z0-9-]+): )?(.*)$')


def walk(port, oid=BASE):
    r = subprocess.run(['snmpwalk'] + V3 + [f'127.0.0.1:{port}', oid], capture_output=True, text=True)
    vals = {}
    for line in r.stdout.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        typ, val = m.group(2), m.group(3)
        if typ == 'STRING':
            val = val.strip('"')
        elif typ in ('Gauge32', 'INTEGER', 'Counter64', 'Unsigned32'):
            val = int(val.split()[0])
        vals[m.group(1)] = val
    return vals, r


def wait_walk(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        vals, r = walk(port)
        if any(k.startswith(BASE + '.1.3.') for k in vals):
            return vals
        time.sleep(0.5)
    return {}


def name_oid(name):
    return f'{len(name)}.' + '.'.join(str(b) for b in name.encode())


def rows_from_mib(vals):
    """(network, family, name) -> {size, used, held, free} from netdRangeTable."""
    out = {}
    for net in NETWORKS:
        for fam, famname in ((1, 'ipv4'), (2, 'ipv6')):
            for idx in range(1, 10):
                sfx = f'.{name_oid(net["name"])}.{fam}.{idx}'
                col = lambda c: vals.get(f'{BASE}.1.3.1.{c}{sfx}')  # noqa: E731
                if col(3) is None:
                    break
                out[(net['name'], famname, col(3))] = {'size': col(7), 'used': col(8), 'held': col(9),
                                                       'free': col(10)}
    return out


def rows_from_restconf(c):
    status, body = c.get('/restconf/data/netd:networks')
    out = {}
    for n in body['netd:networks']['network'] if status == 200 else []:
        for r in n.get('utilization', {}).get('range', []):
            out[(n['name'], r['family'], r['name'])] = {'size': str(r['size']), 'used': int(r['used']),
                                                       'held': int(r['held']), 'free': str(r['free'])}
    return out


def traps(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return []
    return [m.start() for m in re.finditer(re.escape(BASE + '.0.1'), text)], text


def trap_count(path):
    found = traps(path)
    return len(found[0]) if found else 0


def notifications(path, arc):
    """The notifications snmptrapd logged whose snmpTrapOID is netdMIB<arc>,
    each as its text (a header line with the date, then the varbinds)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return []
    records = re.split(r'(?m)^(?=\d{4}-\d\d-\d\d )', text)
    want = re.compile(r'\.1\.3\.6\.1\.6\.3\.1\.1\.4\.1\.0 = OID: ' + re.escape(BASE + arc) + r'(?![.\d])')
    return [r for r in records if want.search(r)]


def rpc(c, name, **inp):
    return c.json('POST', f'/restconf/operations/netd:{name}', {'netd:input': inp})


def settled(c, dep, timeout=30):
    """The deployment's state once it is active or error (None on timeout).
    Read from the whole list, which RESTCONF does not cache: a cached
    single entry (deployment=X) was seen to lag the store for tens of
    seconds (the cache labels an answer with store_generation(), which
    LMDB can advance before a new read transaction sees that commit)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, body = c.get('/restconf/data/netd:deployments')
        deps = body.get('netd:deployments', {}).get('deployment', []) if status == 200 else []
        state = next((d.get('state') for d in deps if d.get('name') == dep), None)
        if state in ('active', 'error'):
            return state
        time.sleep(0.1)
    return None


def compare(t, c, port, label):
    vals = wait_walk(port)
    t.ok(bool(vals), f'{label}: snmpwalk -v3 authPriv of the netd subtree answers')
    mib, rc = rows_from_mib(vals), rows_from_restconf(c)
    t.ok(mib == rc and len(rc) == 5, f'{label}: netdRangeTable equals RESTCONF utilization (5 ranges)',
         f'mib={mib} restconf={rc}')
    storage = f'.{name_oid("storage")}'
    t.ok(vals.get(f'{BASE}.1.2.1.3{storage}') == 2 and vals.get(f'{BASE}.1.2.1.2{storage}') == 200 and
         vals.get(f'{BASE}.1.2.1.4{storage}') == '190',
         f'{label}: netdNetworkTable row of storage: 2 ranges, VLAN 200, size 190',
         str({k: v for k, v in vals.items() if storage in k and '.1.2.1.' in k}))
    used = sum(r['used'] for r in rc.values())
    scal = {k[len(BASE):]: v for k, v in vals.items() if k.startswith(BASE + '.1.1.') and k.endswith('.0')}
    t.ok(scal.get('.1.1.1.0') == 3 and scal.get('.1.1.2.0') == NODES and scal.get('.1.1.3.0') == used and
         scal.get('.1.1.5.0') == THRESHOLD,
         f'{label}: scalars: 3 networks, {NODES} nodes, {used} active, threshold {THRESHOLD}', str(scal))
    return vals


def metrics(c):
    """/metrics as {(name, frozenset(labels)): value} (test_metrics.py
    parses it strictly; here only the samples are needed)."""
    status, text = c.request('GET', '/metrics')
    out = {}
    for line in text.splitlines() if status == 200 else []:
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        if m and not line.startswith('#'):
            labels = frozenset(re.findall(r'([a-zA-Z_]\w*)="([^"]*)"', m.group(2) or ''))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def restconf_dns_status(c):
    """RESTCONF /netd:dns/status, or None when the DNS service reports none."""
    status, body = c.get('/restconf/data/netd:dns')
    return body.get('netd:dns', {}).get('status') if status == 200 else None


def restconf_role_counts(c):
    """Node-roles by state summed over every deployment (RESTCONF)."""
    status, body = c.get('/restconf/data/netd:deployments')
    if status != 200:
        return None
    sums = dict.fromkeys(ROLE_STATES, 0)
    for dep in body.get('netd:deployments', {}).get('deployment', []):
        for s in ROLE_STATES:
            sums[s] += int(dep.get('counts', {}).get(s, 0))
    return sums


def restconf_devices(c):
    """Switches (/netd:switches) and BMCs (bmc containers of /netd:nodes)
    counted by their state leaf, or None for a GET that failed."""
    status, body = c.get('/restconf/data/netd:switches')
    sw = None
    if status in (200, 204):
        sw = dict.fromkeys(DEV_STATES, 0)
        for e in (body or {}).get('netd:switches', {}).get('switch', []):
            sw[e.get('state', 'unknown')] = sw.get(e.get('state', 'unknown'), 0) + 1
    status, body = c.get('/restconf/data/netd:nodes')
    bm = None
    if status in (200, 204):
        bm = dict.fromkeys(DEV_STATES, 0)
        for e in (body or {}).get('netd:nodes', {}).get('node', []):
            if 'bmc' in e:
                bm[e['bmc'].get('state', 'unknown')] = bm.get(e['bmc'].get('state', 'unknown'), 0) + 1
    return sw, bm


def service_pairs(vals, m):
    """(MIB value, /metrics value) for the counters, DNS and annealer figures."""
    def sc(arc, i):
        return vals.get(f'{BASE}.1.{arc}.{i}.0')

    dns = {s: vals.get(f'{BASE}.1.4.1.2.{i + 1}') for i, s in enumerate(DNS_STATES)}
    roles = {s: vals.get(f'{BASE}.1.5.1.2.{i + 1}') for i, s in enumerate(ROLE_STATES)}
    pairs = [(sc(1, 6), metric(m, 'netd_allocations_total')), (sc(1, 7), metric(m, 'netd_releases_total')),
             (sc(1, 8), metric(m, 'netd_allocation_exhausted_total'))]
    pairs += [(dns[s], metric(m, 'netd_dns_records', state=s)) for s in DNS_STATES]
    pairs += [(sc(8, 1), metric(m, 'netd_dns_outbox_depth')),
              (sc(8, 3), metric(m, 'netd_dns_updates_total', result='sent')),
              (sc(8, 4), metric(m, 'netd_dns_updates_total', result='failed'))]
    pairs += [(roles[s], metric(m, 'netd_anneal_node_roles', state=s)) for s in ROLE_STATES]
    pairs += [(sc(9, 1), metric(m, 'netd_anneal_running')), (sc(9, 2), metric(m, 'netd_anneal_transitions_total')),
              (sc(9, 3), metric(m, 'netd_anneal_errors_total')), (roles['todo'], metric(m, 'netd_anneal_queue_depth'))]
    pairs += [(vals.get(f'{BASE}.1.6.1.2.{i + 1}'), metric(m, 'netd_switches', state=s)) for i, s in enumerate(DEV_STATES)]
    pairs += [(vals.get(f'{BASE}.1.10.1.2.{i + 1}'), metric(m, 'netd_bmcs', state=s)) for i, s in enumerate(DEV_STATES)]
    pairs += [(sc(11, 1), metric(m, 'netd_switch_syncs_total', result='ok')),
              (sc(11, 2), metric(m, 'netd_switch_syncs_total', result='failed')),
              (sc(11, 3), metric(m, 'netd_switch_set_pdus_total')),
              (sc(11, 4), metric(m, 'netd_bmc_syncs_total', result='ok')),
              (sc(11, 5), metric(m, 'netd_bmc_syncs_total', result='failed')),
              (sc(11, 6), metric(m, 'netd_bmc_sets_total'))]
    return pairs


def check_services(t, c, port, vals, label, allocations):
    """The counters, DNS and annealer objects: one row per state, equal to
    RESTCONF's figures and to /metrics'. The snapshot may be up to a
    second old and the services work on their own: the reads are repeated
    (walk, /metrics, RESTCONF) until they agree, for at most 10 s."""
    def sc(arc, i):
        return vals.get(f'{BASE}.1.{arc}.{i}.0')

    def mismatch():
        dns = {s: vals.get(f'{BASE}.1.4.1.2.{i + 1}') for i, s in enumerate(DNS_STATES)}
        roles = {s: vals.get(f'{BASE}.1.5.1.2.{i + 1}') for i, s in enumerate(ROLE_STATES)}
        bad = [f'mib {a} != metrics {b}' for a, b in service_pairs(vals, metrics(c)) if a is None or a != b]
        counts, status = restconf_role_counts(c), restconf_dns_status(c)
        if counts is None or roles != counts:
            bad.append(f'netdNodeRoles {roles} != deployments {counts}')
        if status is None or dns != {s: int(status.get(s, 0)) for s in DNS_STATES} or \
                sc(8, 1) != int(status.get('outbox-depth', 0)):
            bad.append(f'netdDnsRecords {dns}, outbox {sc(8, 1)} != status {status}')
        sw = {s: vals.get(f'{BASE}.1.6.1.2.{i + 1}') for i, s in enumerate(DEV_STATES)}
        bm = {s: vals.get(f'{BASE}.1.10.1.2.{i + 1}') for i, s in enumerate(DEV_STATES)}
        rsw, rbm = restconf_devices(c)
        if rsw is None or sw != rsw or rbm is None or bm != rbm:
            bad.append(f'netdSwitches {sw}, netdBmcs {bm} != RESTCONF switches {rsw}, bmcs {rbm}')
        return bad

    bad = mismatch()
    deadline = time.time() + 10
    while bad and time.time() < deadline:
        time.sleep(0.3)
        vals = walk(port)[0]
        bad = mismatch()
    t.ok(all(isinstance(vals.get(f'{BASE}.1.{a}.1.2.{i}'), int) for a in (4, 5) for i in range(1, 7)),
         f'{label}: netdDnsRecords and netdNodeRoles have a row for each of the 6 states')
    t.ok(all(isinstance(vals.get(f'{BASE}.1.{a}.1.2.{i}'), int) for a in (6, 10) for i in range(1, 5)) and
         all(isinstance(vals.get(f'{BASE}.1.11.{i}.0'), int) for i in range(1, 7)),
         f'{label}: netdSwitches and netdBmcs have a row for each of the 4 device states; the 6 devices scalars')
    t.ok(not any(k.startswith(f'{BASE}.1.4.1.2.7') or k.startswith(f'{BASE}.1.5.1.2.7') or
                 k.startswith(f'{BASE}.1.6.1.2.5') or k.startswith(f'{BASE}.1.10.1.2.5') for k in vals),
         f'{label}: no state row beyond the enumerations')
    t.ok(not bad, f'{label}: counters, DNS, annealer and devices objects equal /metrics (the same gathering), '
         'netdNodeRoles the counts of RESTCONF /netd:deployments, netdDnsRecords and netdDnsOutboxDepth '
         '/netd:dns/status, netdSwitches and netdBmcs the states of /netd:switches and /netd:nodes bmc',
         '; '.join(bad))
    t.ok(sc(1, 6) == allocations and sc(1, 7) == 0 and sc(1, 8) == 0,
         f'{label}: netdAllocationsTotal {allocations}, releases 0, exhaustions 0', f'{sc(1, 6)} {sc(1, 7)} {sc(1, 8)}')
    return vals


def check_mib_text(t, env):
    """net-snmp reads NETD-MIB.txt (with the stand-in SMI modules when the
    host has none) and finds the notifications where netd sends them."""
    lint = os.path.join(MIBS_DIR, 'lint')
    want = {'netdRangeNearlyExhausted': ('.0.1', 'netdRangeNetwork'),
            'netdDnsDriftDetected': ('.0.2', '{ netdDnsRecords }'),
            'netdNodeRoleError': ('.0.3', '{ netdNodeRoles, netdNodeRoleErrors }')}
    for name, (arc, objects) in want.items():
        r = subprocess.run(['snmptranslate', '-M', f'{lint}:{MIBS_DIR}', '-m', 'NETD-MIB', '-On',
                            f'NETD-MIB::{name}'], capture_output=True, text=True, env=env)
        d = subprocess.run(['snmptranslate', '-M', f'{lint}:{MIBS_DIR}', '-m', 'NETD-MIB', '-Td',
                            f'NETD-MIB::{name}'], capture_output=True, text=True, env=env)
        t.ok(r.stdout.strip() == BASE + arc and 'NOTIFICATION-TYPE' in d.stdout and objects in d.stdout,
             f'{name} is defined at {BASE + arc} with OBJECTS {objects}', r.stdout + r.stderr + d.stdout[:600])


def main():
    netd_bin = sys.argv[1]
    t = Checks()
    work = tempdir('netd-snmp-')
    os.chmod(work, 0o755)
    snmp_port, trap_port = free_port(), free_port()
    agentx = os.path.join(work, 'agentx', 'master')
    os.makedirs(os.path.dirname(agentx))
    persist = os.path.join(work, 'persist')
    os.makedirs(persist)
    env = dict(os.environ, SNMP_PERSISTENT_DIR=persist, MIBS='', MIBDIRS='')
    fill('snmpd.conf.in', os.path.join(work, 'snmpd.conf'), PORT=snmp_port, AGENTX=agentx, TRAPPORT=trap_port)
    fill('snmptrapd.conf.in', os.path.join(work, 'snmptrapd.conf'), TRAPPORT=trap_port)
    trap_log = os.path.join(work, 'traps.log')
    snmpd = Proc(['snmpd', '-f', '-C', '-c', os.path.join(work, 'snmpd.conf'), '-Lf', os.path.join(work, 'snmpd.log'),
                  '-p', os.path.join(work, 'snmpd.pid')], os.path.join(work, 'snmpd.out'), env)
    trapd = Proc(['snmptrapd', '-f', '-C', '-c', os.path.join(work, 'snmptrapd.conf'), '-On', '-Lf', trap_log],
                 os.path.join(work, 'snmptrapd.out'), env)
    conf = os.path.join(work, 'netd.conf')
    import hashlib
    with open(conf, 'w') as f:
        json.dump({'netd-server:server': {
            'token': [{'name': 'ci', 'sha256': hashlib.sha256(TOKEN.encode()).hexdigest(), 'role': 'admin'}],
            'snmp': {'agentx-socket': agentx, 'exhaustion-threshold-percent': THRESHOLD}}}, f)
    netd = Netd(netd_bin, work, config=conf)
    try:
        trapd.start()
        snmpd.start()
        deadline = time.time() + 15
        while time.time() < deadline and not os.path.exists(agentx):
            time.sleep(0.1)
        t.ok(os.path.exists(agentx), 'snmpd is up with its AgentX socket')
        netd.start()
        c = Client(netd.base, auth_header=f'Authorization: Bearer {TOKEN}')
        for n in NETWORKS:
            status, body = c.json('POST', '/restconf/data/netd:networks', {'netd:network': [n]})
            t.ok(status == 201, f'network {n["name"]} created', f'{status} {body}')
        for i in range(NODES):
            node = {'name': f'node{i}', 'network': [{'name': 'admin'}] + ([{'name': 'storage'}] if i % 2 else [])}
            status, body = c.json('POST', '/restconf/data/netd:nodes', {'netd:node': [node]})
            t.ok(status == 201, f'node{i} created', f'{status} {body}')
        time.sleep(1.2)   # the snapshot is at most 1 s old
        vals = compare(t, c, snmp_port, 'first walk')
        # the node's v4 + v6 on admin, v4 on storage for every second node
        check_services(t, c, snmp_port, vals, 'first walk', NODES * 2 + NODES // 2)
        check_mib_text(t, env)

        # a switch whose agent is a dead loopback port (nothing listens):
        # the devices service reports it in error, the MIB counts it there
        dead = {'name': 'sw-dead', 'address': f'127.0.0.1:{free_port()}', 'learn-interval': 0,
                'snmp': {'version': 'v2c', 'community': 'snmp-test', 'timeout': 200, 'retries': 0},
                'allowed-vlans': ['1-100'], 'allowed-ports': ['1-8'], 'idle-vlan': 99}
        status, body = c.json('PUT', '/restconf/data/netd:switches', {'netd:switches': {'switch': [dead]}})
        t.ok(status in (201, 204), 'switch sw-dead (unreachable agent) configured', f'{status} {body}')
        deadline, sw, vals = time.time() + 30, None, {}
        while time.time() < deadline:
            sw = restconf_devices(c)[0]
            vals = walk(snmp_port, f'{BASE}.1.6')[0]
            if sw and sw['error'] == 1 and vals.get(f'{BASE}.1.6.1.2.4') == 1:
                break
            time.sleep(0.3)
        t.ok(sw == {'unknown': 0, 'pending': 0, 'in-sync': 0, 'error': 1} and
             [vals.get(f'{BASE}.1.6.1.2.{i}') for i in range(1, 5)] == [0, 0, 0, 1],
             'the unreachable switch: RESTCONF state error, netdSwitches.error(4) = 1, the other rows 0',
             f'{sw} {vals}')
        vals = check_services(t, c, snmp_port, walk(snmp_port)[0], 'with the switch', NODES * 2 + NODES // 2)
        t.ok((vals.get(f'{BASE}.1.11.2.0') or 0) >= 1 and vals.get(f'{BASE}.1.11.1.0') == 0,
             'netdSwitchSyncErrors counts the failed reconcile, netdSwitchSyncs none',
             str({k: v for k, v in vals.items() if k.startswith(BASE + '.1.11.')}))

        # notifications: 7 of 10 (70 %) stays quiet, the 8th (80 %) sends one, the 9th none
        def vip(i):
            return c.json('POST', '/restconf/operations/netd:allocate-address',
                          {'netd:input': {'network': 'tiny', 'name': f'vip{i}'}})[0]
        t.ok(all(vip(i) == 200 for i in range(7)), '7 addresses allocated in tiny (70 %)')
        time.sleep(3)
        t.ok(trap_count(trap_log) == 0, 'no notification below the threshold')
        t.ok(vip(7) == 200, '8th address allocated in tiny (80 %)')
        deadline = time.time() + 15
        while time.time() < deadline and trap_count(trap_log) == 0:
            time.sleep(0.2)
        _, text = traps(trap_log) or ([], '')
        t.ok(trap_count(trap_log) == 1, 'snmptrapd got netdRangeNearlyExhausted', text[-2000:])
        t.ok('"tiny"' in text and '"pool"' in text, 'the notification names network tiny and range pool',
             text[-2000:])
        t.ok(vip(8) == 200, '9th address allocated in tiny (90 %)')
        time.sleep(3)
        t.ok(trap_count(trap_log) == 1, 'edge-triggered: no second notification while above')
        vals, _ = walk(snmp_port, f'{BASE}.1.3.1.11.{name_oid("tiny")}.1.1')
        t.ok(vals.get(f'{BASE}.1.3.1.11.{name_oid("tiny")}.1.1') == 90, 'netdRangeUtilization of tiny/pool is 90',
             str(vals))
        # a served object without the instance, and an unpopulated one (a notification object)
        r = subprocess.run(['snmpget'] + V3 + [f'127.0.0.1:{snmp_port}', f'{BASE}.1.3.1.7.{name_oid("nope")}.1.1',
                                               f'{BASE}.1.7.1.0', f'{BASE}.1.4.1.2.7', f'{BASE}.1.1.6.0',
                                               f'{BASE}.1.6.1.2.5', f'{BASE}.1.6.1.2.4'],
                           capture_output=True, text=True)
        lines = r.stdout.splitlines()
        t.ok(len(lines) == 6 and 'No Such Instance' in lines[0] and 'No Such Object' in lines[1] and
             'No Such Instance' in lines[2] and 'Counter64: 24' in lines[3] and 'No Such Instance' in lines[4] and
             'Gauge32: 1' in lines[5],
             'noSuchInstance for a missing row or state, noSuchObject for a notification object; '
             'netdAllocationsTotal counts the 9 VIPs too; netdSwitches.error 1', r.stdout + r.stderr)

        # node roles: a deployment of noop roles converges; one whose exec
        # jig fails (one attempt) ends in error and brings one netdNodeRoleError
        script = os.path.join(work, 'fail.sh')
        with open(script, 'w') as f:
            f.write('#!/bin/sh\necho "configured to fail" >&2\nexit 1\n')
        os.chmod(script, 0o755)
        status, body = c.json('PUT', '/restconf/data/netd:roles', {'netd:roles': {'role': [
            {'name': 'base', 'jig': 'noop'}, {'name': 'app', 'jig': 'noop', 'requires': ['base']},
            {'name': 'broken', 'jig': 'exec', 'script': script, 'retry': {'attempts': 1}}]}})
        t.ok(status in (201, 204), 'roles base, app (noop) and broken (exec, exits 1, one attempt)',
             f'{status} {body}')
        for dep, nodes, roles in (('ok', ['node0', 'node1'], ['base', 'app']), ('bad', ['node2'], ['broken'])):
            status, body = rpc(c, 'propose-deployment', deployment=dep, node=nodes, role=roles)
            t.ok(status in (200, 204), f'deployment {dep} proposed', f'{status} {body}')
        status, body = rpc(c, 'commit-deployment', deployment='ok')
        t.ok(status in (200, 204) and settled(c, 'ok') == 'active', 'deployment ok converges to active',
             f'{status} {body} {settled(c, "ok")}')
        time.sleep(3)
        t.ok(notifications(trap_log, '.0.3') == [], 'no netdNodeRoleError while nothing failed')
        status, body = rpc(c, 'commit-deployment', deployment='bad')
        t.ok(status in (200, 204) and settled(c, 'bad') == 'error', 'deployment bad ends in error',
             f'{status} {body} {settled(c, "bad")}')
        deadline = time.time() + 15
        while time.time() < deadline and not notifications(trap_log, '.0.3'):
            time.sleep(0.2)
        found = notifications(trap_log, '.0.3')
        t.ok(len(found) == 1, 'snmptrapd got netdNodeRoleError', open(trap_log).read()[-2000:])
        trap = found[0] if found else ''
        t.ok(f'{BASE}.1.5.1.2.5 = Gauge32: 1' in trap and f'{BASE}.1.9.3.0 = Counter64: 1' in trap,
             'it carries netdNodeRoles.error = 1 and netdNodeRoleErrors = 1', trap)
        time.sleep(3)
        t.ok(len(notifications(trap_log, '.0.3')) == 1, 'edge-triggered: one netdNodeRoleError for one failure')
        vals = walk(snmp_port)[0]
        vals = check_services(t, c, snmp_port, vals, 'after the deployments', NODES * 2 + NODES // 2 + 9)
        t.ok(vals.get(f'{BASE}.1.5.1.2.4') == 4 and vals.get(f'{BASE}.1.5.1.2.5') == 1 and
             vals.get(f'{BASE}.1.9.3.0') == 1,
             'netdNodeRoles: 4 active, 1 in error; netdNodeRoleErrors 1',
             str({k: v for k, v in vals.items() if k.startswith(BASE + '.1.5.') or k.startswith(BASE + '.1.9.')}))

        # the master restarts: netd reconnects by itself
        snmpd.stop()
        time.sleep(1)
        snmpd.start()
        compare(t, c, snmp_port, 'after snmpd restart')
        t.ok(notifications(trap_log, '.0.2') == [] and len(notifications(trap_log, '.0.3')) == 1,
             'no netdDnsDriftDetected (nothing drifted), no second netdNodeRoleError after the restart',
             open(trap_log).read()[-2000:])

        rc = netd.stop()
        t.ok(rc == 0, 'netd stops cleanly on SIGTERM with the subagent running', f'exit {rc}: {netd.tail_log()}')
        log = netd.tail_log(400)
        t.ok(not SANITIZER.search(log), 'no sanitizer report in the log', log[-3000:])
    except Exception as ex:  # report, then clean up
        t.ok(False, 'test ran to the end', repr(ex))
        print(netd.tail_log(40))
    finally:
        netd.stop()
        snmpd.stop()
        trapd.stop()
        if t.failed:
            for f in ('snmpd.log', 'snmpd.out', 'snmptrapd.out', 'traps.log'):
                try:
                    with open(os.path.join(work, f)) as fh:
                        print(f'--- {f}\n' + fh.read()[-3000:])
                except OSError:
                    pass
            print('--- netd.log\n' + netd.tail_log(60))
        cleanup(work)
    t.done()


if __name__ == '__main__':
    main()
