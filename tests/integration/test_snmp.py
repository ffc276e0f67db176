"""NETD-MIB over AgentX against Debian's snmpd and snmptrapd.

snmpd runs as AgentX master on loopback (SNMPv3 authPriv only, config in
tests/peers/snmp/), netd attaches as subagent; snmpwalk -On reads the netd
subtree and the figures must equal what RESTCONF reports. Filling a small
range past the threshold must bring exactly one netdRangeNearlyExhausted to
snmptrapd; restarting snmpd must not need a netd restart.

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
BASE = '.1.3.6.1.4.1.32473.1'
V3 = ['-v3', '-l', 'authPriv', '-u', 'netdro', '-a', 'SHA-256', '-A', 'authpass-netd1',
      '-x', 'AES', '-X', 'privpass-netd1', '-On', '-r', '1', '-t', '2']
TOKEN = 'snmp-test-token-0123456789abcdef'
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
        compare(t, c, snmp_port, 'first walk')

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
        # a served object without the instance, and an unpopulated one
        r = subprocess.run(['snmpget'] + V3 + [f'127.0.0.1:{snmp_port}', f'{BASE}.1.3.1.7.{name_oid("nope")}.1.1',
                                               f'{BASE}.1.1.6.0'], capture_output=True, text=True)
        t.ok('No Such Instance' in r.stdout and 'No Such Object' in r.stdout,
             'noSuchInstance for a missing row, noSuchObject for an unpopulated object', r.stdout + r.stderr)

        # the master restarts: netd reconnects by itself
        snmpd.stop()
        time.sleep(1)
        snmpd.start()
        compare(t, c, snmp_port, 'after snmpd restart')

        rc = netd.stop()
        t.ok(rc == 0, 'netd stops cleanly on SIGTERM with the subagent running', f'exit {rc}: {netd.tail_log()}')
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
