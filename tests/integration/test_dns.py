#!/usr/bin/env python3
"""DNS publication end to end: a real netd publishing into real Knot and
BIND (tests/peers/dns), checked with kdig/dig, knsupdate and AXFR.

Zones: lab.example. and the ip6.arpa zone on Knot, 10.in-addr.arpa. on
BIND, all updated with the TSIG key the peers were started with.

usage: test_dns.py PATH-TO-NETD PEERS-DIR
Exit 0 all passed, 1 a check failed, 77 a tool is missing.
"""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdtest import Checks, Client, Netd, cleanup, error_of, tempdir  # noqa: E402

FWD = 'lab.example.'
REV4 = '10.in-addr.arpa.'
REV6 = '0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa.'
WAIT = 60  # seconds any convergence may take before the check fails
SANITIZER = re.compile(r'ERROR: \w*Sanitizer|runtime error|SUMMARY: \w*Sanitizer')

NETWORKS = [
    {'name': 'lab', 'primary': True,
     'ipv4': {'subnet': '10.1.0.0/24', 'range': [{'name': 'host', 'first': '10.1.0.10', 'last': '10.1.0.250'}]},
     'ipv6': {'prefix': 'fd00:0:10:1::/64'}, 'dns-domain': 'lab.example'},
    {'name': 'stor',
     'ipv4': {'subnet': '10.2.0.0/22', 'range': [{'name': 'host', 'first': '10.2.0.10', 'last': '10.2.3.250'}]},
     'dns-domain': 'lab.example', 'dns-name-template': '{node}-st.{domain}'},
    {'name': 'bulk',
     'ipv4': {'subnet': '10.3.0.0/22', 'range': [{'name': 'host', 'first': '10.3.0.10', 'last': '10.3.3.250'}]},
     'dns-domain': 'bulk.lab.example'},
]


def need_tools():
    os.environ['PATH'] += ':/usr/sbin'
    for p in ('knotd', 'named', 'dig', 'kdig', 'knsupdate', 'named-checkzone', 'curl'):
        if not shutil.which(p):
            print(f'SKIP: {p} not installed (run tools/deps.sh)')
            sys.exit(77)


class Peers:
    """Knot and BIND from tests/peers/dns, stopped by PID at the end."""

    def __init__(self, peers_dir, work):
        self.dir = peers_dir
        self.work = work
        subprocess.run([os.path.join(peers_dir, 'start.sh'), work, 'knot', 'bind'], check=True,
                       stdout=subprocess.DEVNULL)
        env = dict(line.strip().split('=', 1) for line in open(os.path.join(work, 'peers.env')) if '=' in line)
        self.knot, self.bind = int(env['KNOT_PORT']), int(env['BIND_PORT'])
        self.spec = open(os.path.join(work, 'tsig.spec')).read().strip()
        self.secret = self.spec.split(':')[2]

    def stop(self):
        subprocess.run([os.path.join(self.dir, 'stop.sh'), self.work], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)

    def bind_pid(self):
        with open(os.path.join(self.work, 'bind', 'pid')) as f:
            return int(f.read().strip())

    def stop_bind(self):
        """Stop named by its PID (it keeps its zones and journal on disk)."""
        pid = self.bind_pid()
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.1)
        return False

    def start_bind(self):
        """Start named again on the same configuration, port and files."""
        d = os.path.join(self.work, 'bind')
        log = open(os.path.join(d, 'log'), 'a')
        p = subprocess.Popen(['named', '-g', '-c', os.path.join(d, 'named.conf')], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log)
        with open(os.path.join(d, 'pid'), 'w') as f:
            f.write(f'{p.pid}\n')
        for _ in range(100):
            if query(self.bind, 'lab.example.', 'SOA'):
                return True
            time.sleep(0.1)
        return False


def query(port, name, rtype, tool='dig'):
    """Answers (data only) for name/type at 127.0.0.1:port, sorted."""
    opts = ['+timeout=2', '+retry=0'] if tool == 'kdig' else ['+time=2', '+tries=1']
    out = subprocess.run([tool, '+short', '+norec'] + opts + ['-p', str(port), '@127.0.0.1', name, rtype],
                         capture_output=True, text=True, check=False).stdout
    return sorted(line.strip().strip('"') for line in out.splitlines() if line.strip() and not line.startswith(';'))


def axfr(port, zone, spec):
    """The zone as a set of (owner, type, data), SOA and NS left out."""
    out = subprocess.run(['dig', '+nocmd', '+nostats', '+nocomments', '+noall', '+answer', '-p', str(port), '@127.0.0.1',
                          '-y', spec, zone, 'AXFR'], capture_output=True, text=True, check=False).stdout
    recs = set()
    for line in out.splitlines():
        parts = line.split(None, 4)
        if len(parts) < 5 or parts[3] in ('SOA', 'NS'):
            continue
        data = parts[4].strip()
        if parts[3] == 'TXT':
            data = data.strip('"')
        recs.add((parts[0].lower(), parts[3], data.lower() if parts[3] in ('PTR', 'CNAME') else data))
    return recs


def nsupdate(port, spec, zone, lines):
    script = f'server 127.0.0.1 {port}\nzone {zone}\n' + '\n'.join(lines) + '\nsend\n'
    p = subprocess.run(['knsupdate', '-y', spec], input=script, capture_output=True, text=True, check=False)
    return p.returncode == 0


def ptr_name(addr):
    import ipaddress
    return ipaddress.ip_address(addr).reverse_pointer + '.'


def wait_until(fn, timeout=WAIT, step=0.1):
    """Poll fn() until it returns a true value (returned) or the deadline."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


class Lab:
    def __init__(self, t, netd, peers):
        self.t, self.netd, self.peers = t, netd, peers
        self.c = None

    def connect(self):
        self.c = Client(self.netd.base, auth_header=f'Authorization: Bearer {self.netd.token()}')

    def dns_doc(self, secret=None):
        key = {'name': 'ddns-key', 'algorithm': 'hmac-sha256', 'secret': secret or self.peers.secret}
        z = lambda name, srv: {'name': name, 'server': [srv], 'key': 'ddns-key', 'timeout': 1000}  # noqa: E731
        return {'netd:dns': {
            'installation-id': 'it-lab', 'ttl': 120, 'check-interval': 0, 'key': [key],
            'zone': [z('lab.example', f'127.0.0.1:{self.peers.knot}'), z(REV4, f'127.0.0.1:{self.peers.bind}'),
                     z(REV6, f'[::1]:{self.peers.knot}')],
            'record': [{'owner': 'static1.lab.example', 'type': 'A', 'data': '10.1.0.251'}]}}

    def status(self):
        st, body = self.c.get('/restconf/data/netd:dns/status')
        return body.get('netd:status', {}) if st == 200 and isinstance(body, dict) else {}

    def dns(self):
        st, body = self.c.get('/restconf/data/netd:dns')
        return body.get('netd:dns', {}) if st == 200 and isinstance(body, dict) else {}

    def records(self):
        return self.dns().get('record-state', [])

    def zone(self, name):
        for z in self.dns().get('zone', []):
            if z['name'].rstrip('.') == name.rstrip('.'):
                return z
        return {}

    def node_add(self, name, nets=('lab', 'stor'), aliases=()):
        body = {'netd:node': [{'name': name, 'network': [{'name': n} for n in nets]}]}
        if aliases:
            body['netd:node'][0]['alias'] = list(aliases)
        return self.c.request('POST', '/restconf/data/netd:nodes', body)[0]

    def addrs(self, name):
        st, body = self.c.get(f'/restconf/data/netd:nodes/node={name}')
        out = {}
        if st != 200:
            return out
        for a in body['netd:node'][0].get('address', []):
            out[(a['network'], 'v6' if a['family'] == 'ipv6' else 'v4')] = a['address']
        return out

    def settled(self):
        """Outbox empty and no record pending or published."""
        s = self.status()
        return s and s.get('outbox-depth') == '0' and s.get('pending') == '0' and s.get('published') == '0'

    def check(self):
        """Run dns-check and wait for it; the status after it."""
        st, body = self.c.json('POST', '/restconf/operations/netd:dns-check')
        if st != 200:
            return {}
        cid = int(body['netd:output']['check-id'])
        return wait_until(lambda: (lambda s: s if int(s.get('last-check-id', '0')) >= cid else None)(self.status())) or {}

    def intended(self, zone):
        return {(r['owner'], r['type'], r['data'].lower() if r['type'] in ('PTR', 'CNAME') else r['data'])
                for r in self.records() if r.get('zone') == zone}


def setup(lab, t):
    c = lab.c
    st, _ = c.request('PUT', '/restconf/data/netd:dns', lab.dns_doc())
    t.ok(st in (201, 204), 'PUT /netd:dns with three zones, the TSIG key and a static record', str(st))
    for n in NETWORKS:
        st, _ = c.request('PUT', f'/restconf/data/netd:networks/network={n["name"]}', {'netd:network': [n]})
        t.ok(st in (201, 204), f'network {n["name"]} created', str(st))


def bad_input(lab, t):
    c = lab.c
    bad = dict(NETWORKS[1], name='bad1', **{'dns-name-template': '{node}.{host}.{domain}'})
    bad['ipv4'] = {'subnet': '10.9.0.0/24'}
    st, body = c.json('PUT', '/restconf/data/netd:networks/network=bad1', {'netd:network': [bad]})
    tag, path, msg = error_of(body)
    t.ok(st == 400 and path.endswith("network[name='bad1']/dns-name-template") and 'placeholder' in msg,
         'a template with an unknown placeholder is refused with its path', f'{st} {path} {msg}')
    bad['dns-name-template'] = 'www.{domain}'
    st, body = c.json('PUT', '/restconf/data/netd:networks/network=bad1', {'netd:network': [bad]})
    tag, path, msg = error_of(body)
    t.ok(st == 400 and path.endswith('dns-name-template') and '{node}' in msg,
         'a template without {node} is refused', f'{st} {path} {msg}')
    st, body = c.json('POST', '/restconf/data/netd:nodes',
                      {'netd:node': [{'name': 'badalias', 'alias': ['n02'], 'network': [{'name': 'lab'}]}]})
    tag, path, msg = error_of(body)
    t.ok(st == 400 and path == "/netd:nodes/node[name='badalias']" and 'n02.lab.example.' in msg,
         "an alias on another node's name is refused with the node's path", f'{st} {path} {msg}')
    long_alias = '.'.join(['a' * 60] * 4)
    st, body = c.json('POST', '/restconf/data/netd:nodes',
                      {'netd:node': [{'name': 'badalias', 'alias': [long_alias], 'network': [{'name': 'lab'}]}]})
    tag, path, msg = error_of(body)
    t.ok(st == 400 and 'badalias' in path and '253' in msg, 'an alias over 253 characters with the domain is refused',
         f'{st} {path} {msg}')
    st, _ = c.request('GET', '/restconf/data/netd:nodes/node=badalias')
    t.ok(st == 404, 'a refused node is not created (the edit is refused whole)', str(st))
    doc = lab.dns_doc()
    doc['netd:dns']['zone'][0]['server'] = ['10.0.0.1:70000']
    st, body = c.json('PUT', '/restconf/data/netd:dns', doc)
    tag, path, msg = error_of(body)
    t.ok(st == 400 and path.endswith("zone[name='lab.example']/server"),
         'a zone server that does not parse is refused with its path', f'{st} {path} {msg}')
    doc = lab.dns_doc()
    doc['netd:dns']['key'][0]['secret-file'] = '/nonexistent/key'
    st, body = c.json('PUT', '/restconf/data/netd:dns', doc)
    tag, path, msg = error_of(body)
    t.ok(st == 400 and path.endswith("key[name='ddns-key']/secret-file") and 'exactly one' in msg,
         'a key with both secret and secret-file is refused', f'{st} {path} {msg}')


def first_nodes(lab, t):
    p = lab.peers
    codes = [lab.node_add(f'n{i:02d}') for i in range(1, 31)]
    t.ok(codes.count(201) == 30, '30 nodes created', str(codes))
    t.ok(wait_until(lab.settled), 'the outbox drains and no record stays pending or published', str(lab.status()))
    recs = lab.records()
    t.ok(len(recs) >= 330 and all(r['state'] == 'verified' for r in recs),
         f'every record is verified ({len(recs)} records)',
         str([r for r in recs if r['state'] != 'verified'][:3]))
    a = lab.addrs('n07')
    fwd_ok = query(p.knot, 'n07.lab.example.', 'A', 'kdig') == [a[('lab', 'v4')]] and \
        query(p.knot, 'n07.lab.example.', 'AAAA', 'kdig') == [a[('lab', 'v6')]]
    t.ok(fwd_ok, 'A and AAAA of n07 on Knot (kdig)', str(a))
    t.ok(query(p.knot, 'n07-st.lab.example.', 'A', 'kdig') == [a[('stor', 'v4')]],
         'the template network gives n07-st.lab.example.')
    t.ok(query(p.bind, ptr_name(a[('lab', 'v4')]), 'PTR') == ['n07.lab.example.'] and
         query(p.bind, ptr_name(a[('stor', 'v4')]), 'PTR') == ['n07-st.lab.example.'], 'v4 PTRs on BIND (dig)')
    t.ok(query(p.knot, ptr_name(a[('lab', 'v6')]), 'PTR', 'kdig') == ['n07.lab.example.'], 'v6 PTR on Knot')
    t.ok(query(p.knot, 'n07.lab.example.', 'TXT', 'kdig') == ['netd owner=it-lab'], 'ownership TXT at the name')
    t.ok(query(p.knot, 'static1.lab.example.', 'A', 'kdig') == ['10.1.0.251'], 'the static record is published')
    z = lab.zone('lab.example')
    t.ok(z.get('state') == 'ok' and z.get('server-in-use') == f'127.0.0.1:{p.knot}' and int(z.get('records', 0)) > 0,
         'zone lab.example: state ok, server in use, records counted', str(z))


def rename_alias_delete(lab, t):
    p, c = lab.peers, lab.c
    before = {i: lab.addrs(f'n{i:02d}') for i in range(1, 6)}
    codes = [c.request('POST', '/restconf/operations/netd:rename-node',
                       {'netd:input': {'from': f'n{i:02d}', 'to': f'r{i:02d}'}})[0] for i in range(1, 6)]
    t.ok(all(s in (200, 204) for s in codes), '5 nodes renamed', str(codes))
    t.ok(wait_until(lab.settled), 'renames delivered')
    ok = all(query(p.knot, f'r{i:02d}.lab.example.', 'A', 'kdig') == [before[i][('lab', 'v4')]] for i in range(1, 6))
    t.ok(ok, 'new names resolve to the same addresses')
    ok = all(query(p.bind, ptr_name(before[i][('lab', 'v4')]), 'PTR') == [f'r{i:02d}.lab.example.'] and
             query(p.knot, ptr_name(before[i][('lab', 'v6')]), 'PTR', 'kdig') == [f'r{i:02d}.lab.example.']
             for i in range(1, 6))
    t.ok(ok, 'PTRs point at the new names')
    ok = all(query(p.knot, f'n{i:02d}.lab.example.', 'A', 'kdig') == [] and
             query(p.knot, f'n{i:02d}.lab.example.', 'TXT', 'kdig') == [] for i in range(1, 6))
    t.ok(ok, 'old names are gone (address and ownership records)')

    st, _ = c.request('PATCH', '/restconf/data/netd:nodes/node=n10',
                      {'netd:node': [{'name': 'n10', 'alias': ['www', 'db.lab.example.']}]})
    t.ok(st in (200, 204), 'aliases added to n10', str(st))
    t.ok(wait_until(lab.settled), 'aliases delivered')
    t.ok(query(p.knot, 'www.lab.example.', 'CNAME', 'kdig') == ['n10.lab.example.'] and
         query(p.knot, 'db.lab.example.', 'CNAME', 'kdig') == ['n10.lab.example.'], 'aliases are CNAMEs to n10')
    t.ok(query(p.knot, '_netd.www.lab.example.', 'TXT', 'kdig') == ['netd owner=it-lab'],
         "an alias's ownership TXT is at _netd.<alias>")

    gone = {i: lab.addrs(f'n{i:02d}') for i in range(26, 31)}
    codes = [c.request('DELETE', f'/restconf/data/netd:nodes/node=n{i:02d}')[0] for i in range(26, 31)]
    t.ok(all(s == 204 for s in codes), '5 nodes deleted', str(codes))
    t.ok(wait_until(lab.settled), 'deletions delivered')
    ok = all(query(p.knot, f'n{i:02d}.lab.example.', 'A', 'kdig') == [] and
             query(p.bind, ptr_name(gone[i][('lab', 'v4')]), 'PTR') == [] and
             query(p.knot, ptr_name(gone[i][('lab', 'v6')]), 'PTR', 'kdig') == [] for i in range(26, 31))
    t.ok(ok, 'deleted nodes: names and PTRs gone')


def conflict(lab, t):
    p = lab.peers
    t.ok(nsupdate(p.knot, p.spec, FWD, ['add foreign1.lab.example. 300 A 192.0.2.1']), 'a foreign A added with knsupdate')
    t.ok(lab.node_add('foreign1', nets=('lab',)) == 201, 'node foreign1 created (netd wants that name)')

    def state():
        rs = [r for r in lab.records() if r['owner'] == 'foreign1.lab.example.' and r['type'] == 'A']
        return rs[0] if rs and rs[0]['state'] == 'conflict' else None
    r = wait_until(state)
    t.ok(r and 'foreign1.lab.example.' in r.get('why', ''), 'its A is in state conflict with why', str(r))
    t.ok(query(p.knot, 'foreign1.lab.example.', 'A', 'kdig') == ['192.0.2.1'], 'the foreign data is untouched')
    ptr = ptr_name(lab.addrs('foreign1')[('lab', 'v4')])
    t.ok(query(p.bind, ptr, 'PTR') == [], 'no PTR names a host that does not resolve to it')
    st, _ = lab.c.request('DELETE', '/restconf/data/netd:nodes/node=foreign1')
    t.ok(st == 204 and wait_until(lab.settled), 'foreign1 deleted again')
    t.ok(query(p.knot, 'foreign1.lab.example.', 'A', 'kdig') == ['192.0.2.1'], 'the foreign A survives that too')


def server_down(lab, t):
    p = lab.peers
    t.ok(p.stop_bind(), 'BIND (10.in-addr.arpa) stopped by its PID')
    codes = [lab.node_add(f'b{i:02d}', nets=('lab',)) for i in range(20)]
    t.ok(codes.count(201) == 20, 'a burst of 20 nodes while BIND is down', str(codes))
    z = wait_until(lambda: (lambda z: z if z.get('state') == 'retrying' else None)(lab.zone(REV4)))
    t.ok(z and z.get('last-error'), 'zone 10.in-addr.arpa. is retrying with a last error', str(z))
    s = lab.status()
    t.ok(int(s.get('outbox-depth', '0')) > 0, 'the changes wait in the outbox', str(s))
    t.ok(p.start_bind(), 'BIND started again')
    t.ok(wait_until(lab.settled), 'the outbox drains after BIND is back', str(lab.status()))
    ok = all(query(p.bind, ptr_name(lab.addrs(f'b{i:02d}')[('lab', 'v4')]), 'PTR') == [f'b{i:02d}.lab.example.'] and
             query(p.knot, f'b{i:02d}.lab.example.', 'A', 'kdig') == [lab.addrs(f'b{i:02d}')[('lab', 'v4')]]
             for i in range(20))
    t.ok(ok, 'nothing lost: all 20 names and PTRs are there')
    t.ok(lab.zone(REV4).get('state') == 'ok', 'zone 10.in-addr.arpa. is ok again')


def wrong_key(lab, t):
    p, c = lab.peers, lab.c
    wrong = base64.b64encode(b'this is not the key the servers know!').decode()
    st, _ = c.request('PUT', '/restconf/data/netd:dns', lab.dns_doc(secret=wrong))
    t.ok(st in (201, 204), 'the key replaced by a wrong secret', str(st))
    t.ok(lab.node_add('wk1', nets=('lab',)) == 201, 'a node added under the wrong key')
    z = wait_until(lambda: (lambda z: z if z.get('state') == 'retrying' else None)(lab.zone('lab.example')))
    err = (z or {}).get('last-error', '')
    t.ok('BADSIG' in err or 'BADKEY' in err, 'zone lab.example: last-error names BADSIG/BADKEY', err)
    pend = [r for r in lab.records() if r['owner'] == 'wk1.lab.example.' and r['type'] == 'A']
    t.ok(pend and pend[0]['state'] == 'pending' and ('BADSIG' in pend[0].get('why', '') or
                                                     'BADKEY' in pend[0].get('why', '')),
         "the record is pending and says why", str(pend))
    st, _ = c.request('PUT', '/restconf/data/netd:dns', lab.dns_doc())
    t.ok(st in (201, 204), 'the right key put back', str(st))
    t.ok(wait_until(lab.settled), 'delivered after the key is fixed')
    t.ok(query(p.knot, 'wk1.lab.example.', 'A', 'kdig') == [lab.addrs('wk1')[('lab', 'v4')]], 'wk1 resolves')
    t.ok(lab.zone('lab.example').get('state') == 'ok', 'zone lab.example is ok again')


def drift(lab, t):
    p = lab.peers
    a = lab.addrs('n12')[('lab', 'v4')]
    t.ok(nsupdate(p.knot, p.spec, FWD, [f'del n12.lab.example. A {a}']), 'an A deleted behind netd\'s back (knsupdate)')
    t.ok(query(p.knot, 'n12.lab.example.', 'A', 'kdig') == [], 'it is gone from Knot')
    s = lab.check()
    t.ok(s and int(s.get('last-check-missing', '0')) >= 1 and 'last-check-error' not in s,
         'dns-check reports the drift (missing >= 1)', str(s))
    t.ok(wait_until(lambda: query(p.knot, 'n12.lab.example.', 'A', 'kdig') == [a]), 'the drift is repaired')
    t.ok(wait_until(lab.settled), 'and its record is verified again')
    s = lab.check()
    t.ok(s and s.get('last-check-missing') == '0' and s.get('last-check-extra') == '0',
         'a second check finds nothing to repair', str(s))


def export(lab, t, work):
    st, body = lab.c.json('POST', '/restconf/operations/netd:dns-export', {'netd:input': {'zone': 'lab.example'}})
    text = body['netd:output']['text'] if st == 200 else ''
    t.ok(st == 200 and 'n10' in text and 'CNAME' in text, 'dns-export lab.example', str(st))
    inc = os.path.join(work, 'export.inc')
    with open(inc, 'w') as f:
        f.write(text)
    zf = os.path.join(work, 'export.zone')
    with open(zf, 'w') as f:
        f.write('$TTL 300\n@ IN SOA ns1.lab.example. hostmaster.lab.example. 1 3600 600 86400 300\n'
                f'@ IN NS ns1.lab.example.\nns1 IN A 127.0.0.1\n$INCLUDE {inc}\n')
    p = subprocess.run(['named-checkzone', 'lab.example', zf], capture_output=True, text=True, check=False)
    t.ok(p.returncode == 0, 'the export passes named-checkzone', (p.stdout + p.stderr)[-300:])
    st, body = lab.c.json('POST', '/restconf/operations/netd:dns-export', {'netd:input': {'zone': 'nowhere.example'}})
    tag, path, msg = error_of(body)
    t.ok(st == 400 and 'nowhere.example' in msg, 'exporting an unknown zone names it', f'{st} {msg}')


def crash(lab, t, base):
    p, netd = lab.peers, lab.netd
    cfg = os.path.join(netd.workdir, 'burst.curl')
    lines = []
    for i in range(200):
        body = {'netd:node': [{'name': f'k{i:03d}', 'network': [{'name': 'bulk'}]}]}
        lines += [f'url = "{netd.base}/restconf/data/netd:nodes"', 'request = "POST"',
                  f'header = "Authorization: Bearer {netd.token()}"',
                  'header = "Content-Type: application/yang-data+json"',
                  'data = ' + json.dumps(json.dumps(body)), 'output = "/dev/null"', 'write-out = "%{http_code}\\n"',
                  'next']
    with open(cfg, 'w') as f:
        f.write('\n'.join(lines[:-1]) + '\n')
    out = subprocess.run(['curl', '-sS', '-K', cfg], capture_output=True, text=True, check=False).stdout.split()
    netd.proc.send_signal(signal.SIGKILL)
    netd.proc.wait()
    t.ok(out.count('201') == 200, 'a burst of 200 node creations, then kill -9 of netd', f'{out.count("201")}')
    netd.start()
    lab.connect()
    t.ok(wait_until(lab.settled), 'after the restart the outbox drains', str(lab.status()))
    s = lab.check()
    t.ok(s and s.get('last-check-missing') == '0' and s.get('last-check-extra') == '0' and 'last-check-error' not in s,
         'a check after the restart finds nothing missing or extra', str(s))
    for zone, port in ((FWD, p.knot), (REV4, p.bind), (REV6, p.knot)):
        actual = axfr(port, zone, p.spec) - base[zone] - {('foreign1.lab.example.', 'A', '192.0.2.1')}
        want = lab.intended(zone)
        t.ok(actual == want, f'AXFR of {zone} equals the intent exactly ({len(want)} records)',
             f'missing {sorted(want - actual)[:3]} extra {sorted(actual - want)[:3]}')


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 64
    need_tools()
    t = Checks()
    work = tempdir('netd-dns-')
    peers = Peers(sys.argv[2], os.path.join(work, 'peers'))
    netd = Netd(sys.argv[1], work)
    ok = False
    try:
        base = {FWD: axfr(peers.knot, FWD, peers.spec), REV4: axfr(peers.bind, REV4, peers.spec),
                REV6: axfr(peers.knot, REV6, peers.spec)}
        netd.start()
        lab = Lab(t, netd, peers)
        lab.connect()
        setup(lab, t)
        first_nodes(lab, t)
        bad_input(lab, t)
        rename_alias_delete(lab, t)
        conflict(lab, t)
        server_down(lab, t)
        wrong_key(lab, t)
        drift(lab, t)
        export(lab, t, work)
        crash(lab, t, base)
        ok = t.failed == 0
    except Exception as e:  # a crash of the test itself is a failure with the netd log
        t.ok(False, 'test ran to the end', f'{type(e).__name__}: {e}\n{netd.tail_log()}')
    finally:
        rc = netd.stop()
        peers.stop()
    log = open(netd.log).read() if os.path.exists(netd.log) else ''
    t.ok(rc == 0 and not SANITIZER.search(log), 'netd stopped cleanly, no sanitizer report in its log',
         f'exit {rc}: ' + '\n'.join(line for line in log.splitlines() if SANITIZER.search(line))[:500])
    if ok and t.failed == 0 and not os.environ.get('KEEP'):
        cleanup(work)
    else:
        print(f'kept {work} for the logs')
    t.done()


if __name__ == '__main__':
    sys.exit(main())
