#!/usr/bin/env python3
"""Forward-confirmed reverse DNS at every instant, and zones equal to the
intent at the end, against real DNS servers (issue 3, "Real peers in the
tests").

One netd publishes lab.example., 10.in-addr.arpa. and
0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa. into Knot (tests/peers/dns, TSIG
hmac-sha256).  While client threads add 1,000 nodes (two networks: IPv4 +
derived IPv6 on the primary one, IPv4 on the other), rename 200, give 100
an alias and delete 200 through RESTCONF, in a mixed order, a checker
transfers the reverse zones (AXFR with TSIG, dig) over and over and, for
every PTR it sees, asks the server (plain UDP queries built here) whether
the PTR's target resolves to the PTR's address.  A miss is only counted as
a violation if the PTR still names that target afterwards: a PTR removed
between the transfer and the query is legitimate (delete = reverse first,
then forward).  The same is done for every CNAME (its target must resolve).
Zero violations, and a non-trivial number of checks while the changes are
being published.  Before netd starts, the checker is shown a planted PTR
without its forward and a dangling CNAME, and must report both.

At the end: netd reports the outbox empty and every record verified; every
zone, transferred, equals what the test computes on its own from the model
(GET nodes + networks: A/AAAA, PTR, CNAME, and the ownership TXT
"netd owner=<id>" at every owned name, "_netd.<alias>" for aliases) plus
the zone's records from before netd started — exactly.  netctl's dns
commands are checked on the same state: export equals the intent per zone,
check finds nothing wrong, a record deleted behind netd's back makes check
exit 1 and is repaired.

Then the same against BIND 9 (INV_BIND_NODES nodes; 0 skips), without the
netctl part.

usage: test_dns_invariant.py NETD PEERS_DIR NETCTL
Knobs: INV_NODES (1000), INV_THREADS (6), INV_SEED (random, printed),
INV_BIND_NODES (as INV_NODES).
"""
import http.client
import ipaddress
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdtest import Checks, Netd, cleanup, tempdir  # noqa: E402

SANITIZER = re.compile(r'ERROR: \w*Sanitizer|runtime error|SUMMARY: \w*Sanitizer')
FWD = 'lab.example.'
REV4 = '10.in-addr.arpa.'
REV6 = '0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa.'
ZONES = (FWD, REV4, REV6)
INSTALLATION = 'inv-test'
TTL = 300
SETTLE_TIMEOUT = float(os.environ.get('INV_SETTLE_TIMEOUT', '180'))
TYPES = {1: 'A', 5: 'CNAME', 12: 'PTR', 16: 'TXT', 28: 'AAAA'}
QTYPE = {v: k for k, v in TYPES.items()}
DONE_LOCK = threading.Lock()

# ----------------------------------------------------------------- DNS client


def encode_name(name):
    out = b''
    for label in name.rstrip('.').split('.'):
        if label:
            out += bytes([len(label)]) + label.encode('ascii')
    return out + b'\0'


def decode_name(msg, pos):
    """(name, position after the name in place) with compression."""
    labels, end, hops = [], None, 0
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = pos + 2
            pos = ((n & 0x3F) << 8) | msg[pos + 1]
            hops += 1
            if hops > 64:
                raise ValueError('compression loop')
            continue
        if n == 0:
            pos += 1
            break
        labels.append(msg[pos + 1:pos + 1 + n].decode('ascii').lower())
        pos += 1 + n
    return '.'.join(labels) + '.', (end if end is not None else pos)


class Resolver:
    """Non-recursive UDP queries to one server (one socket, ids checked)."""

    def __init__(self, port, host='127.0.0.1'):
        self.addr = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(2.0)
        self.queries = 0

    def close(self):
        self.sock.close()

    def query(self, name, qtype):
        """(rcode, [(type, data)] of the answers at @name)."""
        for _ in range(3):
            qid = random.getrandbits(16)
            pkt = struct.pack('>HHHHHH', qid, 0, 1, 0, 0, 0) + encode_name(name) + struct.pack('>HH', QTYPE[qtype], 1)
            self.sock.sendto(pkt, self.addr)
            self.queries += 1
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                try:
                    msg = self.sock.recv(65535)
                except socket.timeout:
                    break
                if len(msg) < 12 or struct.unpack('>H', msg[:2])[0] != qid:
                    continue   # a late answer to an earlier try
                return self._parse(msg, name)
        raise RuntimeError(f'no answer from {self.addr} for {name} {qtype}')

    @staticmethod
    def _parse(msg, name):
        _, flags, qd, an, _, _ = struct.unpack('>HHHHHH', msg[:12])
        if flags & 0x0200:
            raise RuntimeError(f'truncated answer for {name}')
        pos = 12
        for _ in range(qd):
            _, pos = decode_name(msg, pos)
            pos += 4
        out = []
        want = name.lower() if name.endswith('.') else name.lower() + '.'
        for _ in range(an):
            owner, pos = decode_name(msg, pos)
            rtype, _, _, rdlen = struct.unpack('>HHIH', msg[pos:pos + 10])
            pos += 10
            rdata = msg[pos:pos + rdlen]
            if owner == want and rtype in TYPES:
                if rtype == 1:
                    out.append(('A', str(ipaddress.IPv4Address(rdata))))
                elif rtype == 28:
                    out.append(('AAAA', str(ipaddress.IPv6Address(rdata))))
                elif rtype in (5, 12):
                    out.append((TYPES[rtype], decode_name(msg, pos)[0]))
            pos += rdlen
        return flags & 0xF, out


def rev_to_addr(owner):
    """The address a reverse-zone owner name stands for (None if partial)."""
    labels = owner.rstrip('.').split('.')
    if owner.endswith('.in-addr.arpa.') and len(labels) == 6:
        return str(ipaddress.IPv4Address('.'.join(reversed(labels[:4]))))
    if owner.endswith('.ip6.arpa.') and len(labels) == 34:
        nib = ''.join(reversed(labels[:32]))
        return str(ipaddress.IPv6Address(int(nib, 16)))
    return None


def rev_name(addr):
    return ipaddress.ip_address(addr).reverse_pointer.lower() + '.'


def unquote_txt(s):
    """The concatenated character-strings of dig's TXT presentation."""
    out, i = [], 0
    while i < len(s):
        if s[i] == '"':
            i += 1
            while i < len(s) and s[i] != '"':
                if s[i] == '\\' and i + 1 < len(s):
                    if s[i + 1:i + 4].isdigit():
                        out.append(chr(int(s[i + 1:i + 4])))
                        i += 4
                        continue
                    out.append(s[i + 1])
                    i += 2
                    continue
                out.append(s[i])
                i += 1
            i += 1
        elif s[i].isspace():
            i += 1
        else:
            j = i
            while j < len(s) and not s[j].isspace():
                j += 1
            out.append(s[i:j])
            i = j
    return ''.join(out)


def norm(owner, rtype, data):
    owner = owner.lower()
    if rtype in ('A', 'AAAA'):
        data = str(ipaddress.ip_address(data))
    elif rtype in ('PTR', 'CNAME'):
        data = data.lower()
    return owner, rtype, data


def axfr(port, zone, tsig):
    """Every RR of @zone as a set of (owner, ttl, type, data); SOA and NS
    included (each once)."""
    out = subprocess.run(['dig', '-p', str(port), '@127.0.0.1', '-y', tsig, zone, 'AXFR',
                          '+nocmd', '+nocomments', '+nostats', '+noquestion', '+tries=1', '+time=10'],
                         capture_output=True, text=True, check=False)
    recs = set()
    for line in out.stdout.splitlines():
        if not line.strip() or line.startswith(';'):
            continue
        parts = line.split(None, 4)
        if len(parts) >= 4 and parts[3] == 'TSIG':
            continue
        if len(parts) < 5 or parts[2] != 'IN':
            raise RuntimeError(f'AXFR {zone}: cannot read {line!r}')
        owner, ttl, _, rtype, data = parts
        if rtype == 'TXT':
            data = unquote_txt(data)
        o, t, d = norm(owner, rtype, data.strip())
        recs.add((o, int(ttl), t, d))
    if out.returncode != 0 or not any(r[2] == 'SOA' for r in recs) or 'Transfer failed' in out.stdout:
        raise RuntimeError(f'AXFR {zone} failed: {out.stdout[-300:]} {out.stderr[-300:]}')
    return recs


# --------------------------------------------------------------- RESTCONF


class Api:
    """One keep-alive HTTP connection to netd (one per thread)."""

    def __init__(self, port, token):
        self.port = port
        self.hdr = {'Authorization': f'Bearer {token}', 'Accept': 'application/yang-data+json'}
        self.conn = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body)
        hdr = dict(self.hdr)
        if data is not None:
            hdr['Content-Type'] = 'application/yang-data+json'
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=300)
                self.conn.request(method, path, body=data, headers=hdr)
                resp = self.conn.getresponse()
                text = resp.read().decode()
                return resp.status, (json.loads(text) if text.strip() else None)
            except (http.client.HTTPException, ConnectionError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError('unreachable')

    def close(self):
        if self.conn:
            self.conn.close()


def dns_status(api):
    status, body = api.call('GET', '/restconf/data/netd:dns')
    if status != 200:
        raise RuntimeError(f'GET netd:dns: HTTP {status} {body}')
    return body['netd:dns']


def counts_of(dns):
    st = dns.get('status', {})
    return {k: int(st.get(k, 0)) for k in ('outbox-depth', 'pending', 'published', 'verified', 'error',
                                            'conflict', 'drift')}


def wait_settled(api, want, timeout):
    """Until the outbox is empty and @want records are verified, nothing
    else; returns (ok, seconds, last counts, dns document)."""
    t0 = time.monotonic()
    while True:
        dns = dns_status(api)
        c = counts_of(dns)
        if (c['outbox-depth'] == 0 and c['verified'] == want and
                c['pending'] + c['published'] + c['error'] + c['conflict'] + c['drift'] == 0):
            return True, time.monotonic() - t0, c, dns
        if time.monotonic() - t0 > timeout:
            return False, time.monotonic() - t0, c, dns
        time.sleep(0.25)


# ------------------------------------------------------------------ intent


def intent_of(api):
    """The records netd must publish, from the model alone, per zone:
    {zone: set((owner, ttl, type, data))}."""
    status, nets = api.call('GET', '/restconf/data/netd:networks')
    assert status == 200, (status, nets)
    status, nodes = api.call('GET', '/restconf/data/netd:nodes')
    assert status in (200, 204), (status, nodes)
    netinfo = {}
    for n in nets['netd:networks'].get('network', []):
        netinfo[n['name']] = (n.get('primary', False), n.get('dns-domain', '').rstrip('.'))
    txt = f'netd owner={INSTALLATION}'
    recs = set()
    n_nodes = 0
    for node in (nodes or {}).get('netd:nodes', {}).get('node', []):
        n_nodes += 1
        name = node['name']
        primary_name = None
        for a in node.get('address', []):
            primary, domain = netinfo[a['network']]
            if not domain:
                continue
            fq = f'{name}.{domain}.' if primary else f'{name}.{a["network"]}.{domain}.'
            fq = fq.lower()
            if primary:
                primary_name = fq
            addr = str(ipaddress.ip_address(a['address']))
            rtype = 'A' if ipaddress.ip_address(addr).version == 4 else 'AAAA'
            recs |= {(fq, rtype, addr), (fq, 'TXT', txt), (rev_name(addr), 'PTR', fq), (rev_name(addr), 'TXT', txt)}
        for alias in node.get('alias', []):
            if primary_name is None:
                continue
            w = (alias if alias.endswith('.') else f'{alias}.{FWD}').lower()
            recs |= {(w, 'CNAME', primary_name), (f'_netd.{w}', 'TXT', txt)}
    per_zone = {z: set() for z in ZONES}
    for owner, rtype, data in recs:
        zone = max((z for z in ZONES if owner == z or owner.endswith('.' + z)), key=len)
        per_zone[zone].add((owner, TTL, rtype, data))
    return per_zone, n_nodes


def parse_export(text, zone):
    """The records of a master file printed by `netctl dns export`."""
    origin, ttl, recs = zone, None, set()
    for line in text.splitlines():
        if not line.strip() or line.startswith(';'):
            continue
        if line.startswith('$ORIGIN'):
            origin = line.split()[1].lower()
            continue
        if line.startswith('$TTL'):
            ttl = int(line.split()[1])
            continue
        parts = line.split(None, 1)
        owner, rest = parts[0], parts[1]
        owner = origin if owner == '@' else (owner if owner.endswith('.') else f'{owner}.{origin}')
        fields = rest.split(None, 1)
        rttl = ttl
        if fields[0].isdigit():
            rttl = int(fields[0])
            fields = fields[1].split(None, 1)
        assert fields[0] == 'IN', line
        rtype, data = fields[1].split(None, 1)
        if rtype == 'TXT':
            data = unquote_txt(data)
        o, t, d = norm(owner, rtype, data.strip())
        recs.add((o, rttl, t, d))
    return recs


# ---------------------------------------------------------------- workload


class Workload:
    """Per node a script: create, then (alias, rename in either order),
    then maybe delete; nodes are dealt to threads, each of which mixes
    creating its next node with the next step of one it created before."""

    def __init__(self, n_nodes, rng):
        self.n = n_nodes
        idx = list(range(n_nodes))
        n_ren, n_alias, n_del = n_nodes // 5, n_nodes // 10, n_nodes // 5
        renamed = set(rng.sample(idx, n_ren))
        aliased = set(rng.sample(idx, n_alias))
        # deletions hit renamed, aliased and plain nodes alike
        deleted = set(rng.sample(idx, n_del))
        self.scripts = {}
        for i in idx:
            steps = [('create',)]
            mid = []
            if i in aliased:
                mid.append(('alias',))
            if i in renamed:
                mid.append(('rename',))
            rng.shuffle(mid)
            steps += mid
            if i in deleted:
                steps.append(('delete',))
            self.scripts[i] = steps
        self.counts = {'create': n_nodes, 'rename': n_ren, 'alias': n_alias, 'delete': n_del,
                       'renamed+deleted': len(renamed & deleted), 'aliased+deleted': len(aliased & deleted),
                       'aliased+renamed': len(aliased & renamed)}

    @staticmethod
    def name(i, renamed):
        return f'{"r" if renamed else "n"}{i:04d}'


def run_thread(api, work, mine, rng, errors, done_ops):
    """Run the scripts of nodes @mine (in order of creation) mixed."""
    pending = {}       # node index -> remaining steps
    renamed = set()
    nxt = 0
    while nxt < len(mine) or pending:
        if pending and (nxt >= len(mine) or rng.random() < 0.45):
            i = rng.choice(list(pending))
            step = pending[i].pop(0)
            if not pending[i]:
                del pending[i]
        else:
            i = mine[nxt]
            nxt += 1
            step = work.scripts[i][0]
            if len(work.scripts[i]) > 1:
                pending[i] = list(work.scripts[i][1:])
        name = Workload.name(i, i in renamed)
        path = '/restconf/data/netd:nodes/node=' + urllib.parse.quote(name)
        if step[0] == 'create':
            status, body = api.call('POST', '/restconf/data/netd:nodes', {'netd:node': [
                {'name': name, 'network': [{'name': 'admin'}, {'name': 'storage'}]}]})
            ok = status == 201
        elif step[0] == 'alias':
            status, body = api.call('PATCH', path, {'netd:node': [{'name': name, 'alias': [f'svc{i:04d}']}]})
            ok = status in (200, 204)
        elif step[0] == 'rename':
            to = Workload.name(i, True)
            status, body = api.call('POST', '/restconf/operations/netd:rename-node',
                                    {'netd:input': {'from': name, 'to': to}})
            ok = status in (200, 204)
            if ok:
                renamed.add(i)
        else:
            status, body = api.call('DELETE', path)
            ok = status == 204
        if ok:
            with DONE_LOCK:
                done_ops[step[0]] += 1
        else:
            errors.append(f'{step[0]} {name}: HTTP {status} {body}')


# ----------------------------------------------------------------- checker


class Checker(threading.Thread):
    """Forward-confirmed reverse DNS (and CNAME targets) while it runs."""

    def __init__(self, port, tsig):
        super().__init__(daemon=True)
        self.port = port
        self.tsig = tsig
        self.stop = threading.Event()
        self.checks = self.alias_checks = self.races = self.rounds = 0
        self.violations = []
        self.error = None

    def one_round(self):
        """One pass over the zones, synchronously (the self-test)."""
        self.stop.set()
        self.run()
        self.stop.clear()

    def _confirm(self, res, owner, target, addr, rtype):
        rcode, ans = res.query(target, rtype)
        if (rtype, addr) in ans:
            return True
        # Still there?  Only then was the PTR published without its forward.
        _, again = res.query(owner, 'PTR')
        if ('PTR', target) not in again:
            self.races += 1
            return True
        self.violations.append(f'{owner} PTR {target}, but {target} {rtype} = {ans} (rcode {rcode})')
        return False

    def _alias(self, res, owner, target):
        rcode, ans = res.query(target, 'A')
        if rcode == 0 and any(t == 'A' for t, _ in ans):
            return
        _, again = res.query(owner, 'CNAME')
        if ('CNAME', target) not in again:
            self.races += 1
            return
        self.violations.append(f'{owner} CNAME {target}, but {target} has no A (rcode {rcode}, {ans})')

    def run(self):
        res = Resolver(self.port)
        try:
            first = True
            while first or not self.stop.is_set():
                first = False
                for zone in (REV4, REV6):
                    for owner, _, rtype, data in axfr(self.port, zone, self.tsig):
                        if rtype != 'PTR':
                            continue
                        addr = rev_to_addr(owner)
                        fam = 'A' if ipaddress.ip_address(addr).version == 4 else 'AAAA'
                        self._confirm(res, owner, data, addr, fam)
                        self.checks += 1
                for owner, _, rtype, data in axfr(self.port, FWD, self.tsig):
                    if rtype == 'CNAME':
                        self._alias(res, owner, data)
                        self.alias_checks += 1
                self.rounds += 1
        except Exception as exc:  # reported by the main thread
            self.error = repr(exc)
        finally:
            res.close()


# --------------------------------------------------------------------- run


def knsupdate(port, tsig, lines, tries=1):
    """Send @lines (a 'send' is added); (ok, stderr).  A server that just
    started may answer SERVFAIL for a moment (BIND): @tries."""
    script = f'server 127.0.0.1 {port}\n' + ''.join(ln + '\n' for ln in lines) + 'send\n'
    for i in range(tries):
        out = subprocess.run(['knsupdate', '-y', tsig], input=script, capture_output=True, text=True, check=False)
        if out.returncode == 0:
            break
        time.sleep(0.5)
    return out.returncode == 0, out.stderr


def netctl(args, netd):
    cmd = [NETCTL, '--server', netd.base, '--token-file', os.path.join(netd.store, 'admin.token')] + args
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def read_text(path):
    with open(path) as f:
        return f.read()


def probe_checker(t, server, port, tsig):
    """The checker must be able to fail: a PTR planted by hand whose target
    lacks that address is one violation, a CNAME to nowhere another."""
    planted = [f'zone {REV4}', f'update add 99.99.99.10.in-addr.arpa. {TTL} PTR ghost.{FWD}', 'send',
               f'zone {FWD}', f'update add ghost.{FWD} {TTL} A 10.99.99.98',
               f'update add alias-ghost.{FWD} {TTL} CNAME nowhere.{FWD}']
    ok, err = knsupdate(port, tsig, planted, tries=10)
    probe = Checker(port, tsig)
    probe.one_round()
    t.ok(ok and probe.error is None and probe.checks == 1 and probe.alias_checks == 1 and
         len(probe.violations) == 2,
         f'{server}: the checker reports a planted PTR without its forward and a dangling CNAME',
         f'{err} {probe.error} checks {probe.checks}/{probe.alias_checks}, violations {probe.violations}')
    ok, err = knsupdate(port, tsig, [f'zone {REV4}', 'update delete 99.99.99.10.in-addr.arpa.', 'send',
                                     f'zone {FWD}', f'update delete ghost.{FWD}', f'update delete alias-ghost.{FWD}'])
    t.ok(ok, f'{server}: planted records removed', err)


def configure(t, server, api, port, secret):
    """Two networks on lab.example (IPv4 + derived IPv6 on the primary one),
    the three zones on @port with the TSIG key."""
    def v4(net):
        return {'subnet': f'10.{net}.0.0/16',
                'range': [{'name': 'host', 'first': f'10.{net}.0.10', 'last': f'10.{net}.255.250'}]}
    for net in ({'name': 'admin', 'primary': True, 'dns-domain': 'lab.example', 'ipv4': v4(0),
                 'ipv6': {'prefix': 'fd00:0:10:1::/64'}},
                {'name': 'storage', 'dns-domain': 'lab.example', 'ipv4': v4(1)}):
        status, body = api.call('POST', '/restconf/data/netd:networks', {'netd:network': [net]})
        t.ok(status == 201, f'{server}: network {net["name"]} created', f'{status} {body}')
    status, body = api.call('PUT', '/restconf/data/netd:dns', {'netd:dns': {
        'installation-id': INSTALLATION, 'ttl': TTL,
        'key': [{'name': 'ddns-key', 'algorithm': 'hmac-sha256', 'secret': secret}],
        'zone': [{'name': z, 'server': [f'127.0.0.1:{port}'], 'key': 'ddns-key'} for z in ZONES]}})
    t.ok(status in (200, 201, 204), f'{server}: dns configured', f'{status} {body}')


def run_workload(t, server, netd, n_nodes, threads, seed):
    """The model changes from @threads clients; returns their wall time."""
    work = Workload(n_nodes, random.Random(seed))
    print(f'# {server}: {n_nodes} nodes, {threads} client threads, seed {seed}; script: {work.counts}', flush=True)
    errors, done_ops = [], {'create': 0, 'rename': 0, 'alias': 0, 'delete': 0}
    deal = [[i for i in range(n_nodes) if i % threads == k] for k in range(threads)]
    apis = [Api(netd.port, netd.token()) for _ in range(threads)]
    t0 = time.monotonic()
    ths = [threading.Thread(target=run_thread, args=(apis[k], work, deal[k], random.Random(seed * 31 + k),
                                                      errors, done_ops)) for k in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    secs = time.monotonic() - t0
    for a in apis:
        a.close()
    print(f'# {server}: model changes done in {secs:.1f} s: {done_ops}', flush=True)
    t.ok(not errors, f'{server}: every RESTCONF change accepted', '; '.join(errors[:5]))
    t.ok(done_ops == {k: work.counts[k] for k in done_ops}, f'{server}: all changes made', str(done_ops))
    return secs


def scenario(t, server, n_nodes, threads, seed, peers, base_dir, netd_bin):
    w = os.path.join(base_dir, server)
    os.makedirs(w)
    r = subprocess.run([os.path.join(peers, 'start.sh'), os.path.join(w, 'peers'), server],
                       capture_output=True, text=True, check=False)
    if not t.ok(r.returncode == 0, f'{server}: started', r.stdout + r.stderr):
        return
    netd = None
    try:
        env = dict(ln.strip().split('=', 1) for ln in read_text(os.path.join(w, 'peers', 'peers.env')).splitlines()
                   if '=' in ln)
        port = int(env[f'{server.upper()}_PORT'])
        tsig = read_text(os.path.join(w, 'peers', 'tsig.spec')).strip()
        probe_checker(t, server, port, tsig)
        baseline = {z: axfr(port, z, tsig) for z in ZONES}

        netd = Netd(netd_bin, w, extra=['--log-level', 'info'])
        netd.start()
        api = Api(netd.port, netd.token())
        configure(t, server, api, port, tsig.split(':', 2)[2])

        checker = Checker(port, tsig)
        checker.start()
        t_model = run_workload(t, server, netd, n_nodes, threads, seed)
        intent, n_left = intent_of(api)
        n_intent = sum(len(v) for v in intent.values())
        ok, secs, counts, dns = wait_settled(api, n_intent, SETTLE_TIMEOUT)
        during = (checker.checks, checker.rounds)   # from the first change until netd settled
        rounds = checker.rounds                     # two more rounds on the settled zones
        while checker.is_alive() and checker.rounds < rounds + 2:
            time.sleep(0.1)
        checker.stop.set()
        checker.join()
        print(f'# {server}: settled {secs:.1f} s after the last change: {counts}', flush=True)
        t.ok(ok, f'{server}: outbox empty and all {n_intent} intended records verified',
             f'{counts}; zones {[(z.get("name"), z.get("state"), z.get("last-error")) for z in dns.get("zone", [])]}')
        t.ok(checker.error is None, f'{server}: the checker ran without errors', str(checker.error))
        print(f'# {server}: checker: {checker.rounds} rounds, {checker.checks} PTR checks, '
              f'{checker.alias_checks} CNAME checks, {checker.races} benign races, '
              f'{len(checker.violations)} violations', flush=True)
        t.ok(not checker.violations, f'{server}: zero forward-confirmed reverse DNS violations',
             '; '.join(checker.violations[:5]))
        print(f'# {server}: from the first change until settled ({t_model + secs:.1f} s): {during[0]} PTR checks '
              f'in {during[1]} rounds', flush=True)
        t.ok(checker.checks >= n_nodes and during[1] >= 1 and during[0] >= n_nodes // 4,
             f'{server}: a non-trivial number of checks ({checker.checks} PTR, {during[0]} of them in '
             f'{during[1]} rounds while the changes were published)')

        for z in ZONES:
            now = {r for r in axfr(port, z, tsig) if r[2] != 'SOA'}   # the serial moved, of course
            base = {r for r in baseline[z] if r[2] != 'SOA'}
            got, lost, want = now - base, base - now, intent[z]
            t.ok(got == want and not lost, f'{server}: zone {z} equals the intent ({len(want)} records)',
                 f'missing {sorted(want - got)[:4]}, extra {sorted(got - want)[:4]}, lost {sorted(lost)[:2]}')
        n_txt = sum(1 for v in intent.values() for r in v if r[2] == 'TXT')
        n_cname = sum(1 for r in intent[FWD] if r[2] == 'CNAME')
        print(f'# {server}: {n_left} nodes left, {n_intent} records ({n_txt} ownership TXT, {n_cname} CNAME)',
              flush=True)
        if server == 'knot':
            netctl_checks(t, netd, api, port, tsig, intent, n_intent)
        log = read_text(netd.log)
        t.ok(not SANITIZER.search(log), f'{server}: no sanitizer report in netd\'s log',
             '\n'.join(ln for ln in log.splitlines() if SANITIZER.search(ln))[:2000])
        api.close()
    finally:
        if netd:
            rc = netd.stop()
            t.ok(rc == 0, f'{server}: netd stops cleanly', f'exit {rc}: {netd.tail_log()}')
        subprocess.run([os.path.join(peers, 'stop.sh'), os.path.join(w, 'peers'), server],
                       capture_output=True, check=False)


def netctl_checks(t, netd, api, port, tsig, intent, n_intent):
    """netctl dns status / export / check on the settled state, then a
    record removed behind netd's back."""
    for z in ZONES:
        r = netctl(['dns', 'export', z], netd)
        t.ok(r.returncode == 0 and parse_export(r.stdout, z) == intent[z],
             f'netctl dns export {z} prints the intent', f'exit {r.returncode}: {r.stderr[-300:]} {r.stdout[:300]}')
    r = netctl(['dns', 'status'], netd)
    t.ok(r.returncode == 0 and all(z in r.stdout for z in ZONES) and re.search(rf'verified\D+{n_intent}\b', r.stdout),
         'netctl dns status names every zone and the verified count', r.stdout[-800:] + r.stderr[-300:])
    r = netctl(['dns', 'status', '--records', 'conflict'], netd)
    rows = r.stdout.split('\nOWNER ', 1)[1].splitlines()[1:] if '\nOWNER ' in r.stdout else None
    t.ok(r.returncode == 0 and rows == [], 'netctl dns status --records conflict: none',
         r.stdout[-500:] + r.stderr[-300:])
    r = netctl(['dns', 'status', '--records'], netd)
    rows = r.stdout.split('\nOWNER ', 1)[1].splitlines()[1:] if '\nOWNER ' in r.stdout else []
    t.ok(r.returncode == 0 and len(rows) == n_intent and all(' verified' in ln for ln in rows),
         f'netctl dns status --records: {n_intent} rows, all verified', f'{len(rows)} rows: {rows[:3]}')
    r = netctl(['--json', 'dns', 'status'], netd)
    try:
        js = json.loads(r.stdout)
        ok = int(js['netd:dns']['status']['verified']) == n_intent
    except (ValueError, KeyError, TypeError):
        ok = False
    t.ok(r.returncode == 0 and ok, 'netctl --json dns status is netd\'s JSON', r.stdout[:300] + r.stderr[-300:])
    r = netctl(['dns', 'check'], netd)
    t.ok(r.returncode == 0 and re.search(rf'verified\D+{n_intent}\b', r.stdout) and
         re.search(r'missing\D+0\b', r.stdout),
         'netctl dns check: everything verified, exit 0', f'exit {r.returncode}: {r.stdout[-500:]} {r.stderr[-300:]}')

    # An A record deleted behind netd's back: check reports it and exits 1,
    # netd repairs it.
    victim = sorted(r for r in intent[FWD] if r[2] == 'A')[0]
    ok, err = knsupdate(port, tsig, [f'zone {FWD}', f'update delete {victim[0]} A {victim[3]}'])
    t.ok(ok, f'removed {victim[0]} A {victim[3]} behind netd\'s back', err)
    r = netctl(['dns', 'check'], netd)
    t.ok(r.returncode == 1 and re.search(r'missing\D+1\b', r.stdout),
         'netctl dns check finds the missing record and exits 1',
         f'exit {r.returncode}: {r.stdout[-500:]} {r.stderr[-300:]}')
    ok, secs, counts, _ = wait_settled(api, n_intent, 60)
    got = axfr(port, FWD, tsig)
    t.ok(ok and victim in got, f'the record is back ({secs:.1f} s) and all verified', str(counts))
    r = netctl(['dns', 'export', 'nowhere.example'], netd)
    t.ok(r.returncode == 1 and 'nowhere.example' in r.stderr and not r.stdout,
         'netctl dns export of a zone netd does not serve: exit 1, netd\'s reason', r.stderr[-300:])
    r = netctl(['dns', 'bogus'], netd)
    t.ok(r.returncode == 64, 'netctl dns with an unknown subcommand: usage error (64)', r.stderr[-300:])


def main():
    global NETCTL
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    netd_bin, peers, NETCTL = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    for p in ('knotd', 'named', 'dig', 'knsupdate'):
        if not any(os.access(os.path.join(d, p), os.X_OK) for d in os.environ['PATH'].split(':') + ['/usr/sbin']):
            print(f'SKIP: {p} not installed (tools/deps.sh installs it)')
            sys.exit(77)
    os.environ['PATH'] += ':/usr/sbin'
    n_nodes = int(os.environ.get('INV_NODES', '1000'))
    n_bind = int(os.environ.get('INV_BIND_NODES', str(n_nodes)))
    threads = int(os.environ.get('INV_THREADS', '6'))
    seed = int(os.environ.get('INV_SEED', str(random.randrange(1 << 30))))
    t = Checks()
    d = tempdir('netd-dns-inv.')
    t0 = time.monotonic()
    try:
        for server, n in (('knot', n_nodes), ('bind', n_bind)):
            if n <= 0:
                continue
            try:
                scenario(t, server, n, threads, seed, peers, d, netd_bin)
            except Exception as exc:  # noqa: BLE001 (any failure is a failed check)
                t.ok(False, f'{server}: the scenario ran to its end', f'{type(exc).__name__}: {exc}')
    finally:
        print(f'# {time.monotonic() - t0:.0f} s in all', flush=True)
        if t.failed:
            print(f'# kept {d} for the logs')
        else:
            cleanup(d)
    t.done()


NETCTL = None

if __name__ == '__main__':
    main()
