#!/usr/bin/env python3
"""DNS sync benchmark (issue 3, "Benchmark"): 10,000 new nodes into Knot.

  netd        one PATCH of /netd:nodes with all the nodes (one network:
              IPv4 + derived IPv6, dns-domain lab.example); timed from the
              commit (the PATCH's answer: netd answers after the commit)
              to GET /netd:dns/status reporting the outbox empty and every
              record verified (polled at most a third of the time: a status
              read scans every record's state).  Per node A + AAAA + 2 PTR and netd's three
              ownership TXTs (at the name and at both PTR owners): 7 RRs.
  knsupdate   the same 7 RRs per node (taken from netd's model afterwards),
              forward zone first, then the reverse zones, N records per
              UPDATE (TCP), for a few N; the best counts.  Records only:
              no prerequisites (netd sends its ownership prerequisites).
  per-node    what a per-lease updater sends: per node one UPDATE per zone
              (forward, then v4 reverse, then v6 reverse: 3 per node, each
              with the name's records), knsupdate over UDP with one `send`
              each, on a sample of nodes into an empty zone, extrapolated
              linearly to all of them.  Knot's cost per UPDATE grows with
              the zone, so the extrapolation flatters the per-node updater.

Each measurement gets a fresh Knot (tests/peers/dns/start.sh in its own
directory) and the result is read back by AXFR (untimed) before it counts.

usage: dns_bench.py NETD PEERS_DIR WORKDIR
Prints '#' lines and one RESULT line (key=value).  Knobs: DNS_BENCH_NODES
(10000), DNS_BENCH_SAMPLE (300), DNS_BENCH_BATCHES ("200 400 max": records
per UPDATE, max = as many as fit in 64 KiB).
"""
import http.client
import ipaddress
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'integration'))
from netdtest import Netd  # noqa: E402

FWD = 'lab.example.'
REV4 = '10.in-addr.arpa.'
REV6 = '0.1.0.0.0.0.0.0.0.0.d.f.ip6.arpa.'
ZONES = (FWD, REV4, REV6)
INSTALLATION = 'bench'
TTL = 300
TXT = f'netd owner={INSTALLATION}'
MSG_BUDGET = 60000   # bytes of records per UPDATE for "max" (uncompressed estimate, under 64 KiB)


def log(msg):
    print(f'# {msg}', flush=True)


class Knot:
    """A fresh Knot from tests/peers/dns in @w (stopped by PID via stop.sh)."""

    def __init__(self, peers, w):
        self.peers, self.w = peers, w
        r = subprocess.run([os.path.join(peers, 'start.sh'), w, 'knot'], capture_output=True, text=True,
                           check=False)
        if r.returncode != 0:
            raise RuntimeError(f'knot did not start: {r.stdout} {r.stderr}')
        env = dict(ln.strip().split('=', 1) for ln in open(os.path.join(w, 'peers.env')) if '=' in ln)
        self.port = int(env['KNOT_PORT'])
        self.tsig = open(os.path.join(w, 'tsig.spec')).read().strip()

    def stop(self):
        subprocess.run([os.path.join(self.peers, 'stop.sh'), self.w, 'knot'], capture_output=True, check=False)

    def count(self, zone):
        """RRs of @zone other than SOA and NS (AXFR)."""
        out = subprocess.run(['dig', '-p', str(self.port), '@127.0.0.1', '-y', self.tsig, zone, 'AXFR',
                              '+nocmd', '+nocomments', '+nostats', '+noquestion', '+time=30'],
                             capture_output=True, text=True, check=False).stdout
        n = 0
        for line in out.splitlines():
            parts = line.split(None, 4)
            if len(parts) >= 4 and not line.startswith(';') and parts[3] not in ('SOA', 'NS', 'TSIG'):
                n += 1
        return n

    def counts(self):
        return sum(self.count(z) for z in ZONES)


class Api:
    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=600)
        self.hdr = {'Authorization': f'Bearer {token}', 'Accept': 'application/yang-data+json',
                    'Content-Type': 'application/yang-data+json'}

    def call(self, method, path, body=None):
        self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=self.hdr)
        resp = self.conn.getresponse()
        text = resp.read().decode()
        return resp.status, (json.loads(text) if text.strip() else None)


def skip_name(msg, pos):
    """The position after the (possibly compressed) name at @pos."""
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            return pos + 2
        if n == 0:
            return pos + 1
        pos += 1 + n


class SerialWatch(threading.Thread):
    """When did the zones last change?  Asks Knot for each zone's SOA
    serial every 50 ms (UDP, a few bytes) and keeps the time of the last
    change seen: when netd's last UPDATE was applied, to tell delivery from
    verification in netd's time."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.last_change, self.serials = port, threading.Event(), None, {}

    def serial(self, sock, zone):
        qid = random.getrandbits(16)
        qname = b''.join(bytes([len(x)]) + x.encode() for x in zone.rstrip('.').split('.')) + b'\0'
        sock.sendto(struct.pack('>HHHHHH', qid, 0, 1, 0, 0, 0) + qname + struct.pack('>HH', 6, 1),
                    ('127.0.0.1', self.port))
        while True:
            msg = sock.recv(4096)
            if struct.unpack('>H', msg[:2])[0] != qid:
                continue
            if struct.unpack('>H', msg[6:8])[0] < 1:
                raise OSError(f'no SOA for {zone}')
            pos = 12 + len(qname) + 4                 # past the question
            pos = skip_name(msg, pos) + 10            # the answer's owner, type, class, TTL, length
            pos = skip_name(msg, skip_name(msg, pos))  # MNAME, RNAME
            return struct.unpack('>I', msg[pos:pos + 4])[0]

    def run(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(1.0)
            while not self.stop.is_set():
                for z in ZONES:
                    try:
                        v = self.serial(sock, z)
                    except OSError:
                        continue
                    if z in self.serials and self.serials[z] != v:
                        self.last_change = time.monotonic()
                    self.serials[z] = v
                time.sleep(0.05)


def rev_name(addr):
    return ipaddress.ip_address(addr).reverse_pointer.lower() + '.'


def node_records(name, addrs):
    """{zone: [(owner, type, data)]} of one node, in netd's form."""
    fq = f'{name}.{FWD}'
    out = {FWD: [(fq, 'TXT', f'"{TXT}"')], REV4: [], REV6: []}
    for a in addrs:
        ip = ipaddress.ip_address(a)
        out[FWD].append((fq, 'A' if ip.version == 4 else 'AAAA', str(ip)))
        rz = REV4 if ip.version == 4 else REV6
        out[rz] += [(rev_name(a), 'PTR', fq), (rev_name(a), 'TXT', f'"{TXT}"')]
    return out


def wire_len(owner, rtype, data):
    rd = {'A': 4, 'AAAA': 16, 'TXT': len(data) - 1, 'PTR': len(data) + 1}[rtype]
    return len(owner) + 1 + 10 + rd


def batches(recs, size):
    """Cut a zone's records into UPDATEs of @size records ('max': by bytes)."""
    cur, cur_bytes = [], 0
    for r in recs:
        b = wire_len(*r)
        full = (len(cur) >= size) if size != 'max' else (cur_bytes + b > MSG_BUDGET)
        if cur and full:
            yield cur
            cur, cur_bytes = [], 0
        cur.append(r)
        cur_bytes += b
    if cur:
        yield cur


def knsupdate(knot, script, tcp):
    args = ['knsupdate', '-y', knot.tsig] + (['-v'] if tcp else [])
    t0 = time.monotonic()
    r = subprocess.run(args, input=script, capture_output=True, text=True, check=False)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f'knsupdate failed: {r.stderr[-500:]}')
    return secs


def batch_script(knot, per_zone, size):
    lines = [f'server 127.0.0.1 {knot.port}']
    n_msgs = 0
    for z in ZONES:   # forward first, then reverse, as a correct updater must
        for b in batches(per_zone[z], size):
            lines.append(f'zone {z}')
            lines += [f'update add {o} {TTL} {t} {d}' for o, t, d in b]
            lines.append('send')
            n_msgs += 1
    return '\n'.join(lines) + '\n', n_msgs


def per_node_script(knot, nodes):
    lines = [f'server 127.0.0.1 {knot.port}']
    n_msgs = 0
    for name, addrs in nodes:
        recs = node_records(name, addrs)
        for z in ZONES:
            if not recs[z]:
                continue
            lines.append(f'zone {z}')
            lines += [f'update add {o} {TTL} {t} {d}' for o, t, d in recs[z]]
            lines.append('send')
            n_msgs += 1
    return '\n'.join(lines) + '\n', n_msgs


def run_netd(netd_bin, peers, work, n_nodes):
    """netd's sync time; returns (seconds, the nodes with their addresses)."""
    knot = Knot(peers, os.path.join(work, 'knot-netd'))
    netd = Netd(netd_bin, os.path.join(work, 'netd'), extra=['--log-level', 'warning'])
    os.makedirs(netd.workdir, exist_ok=True)
    try:
        netd.start()
        api = Api(netd.port, netd.token())
        st, body = api.call('POST', '/restconf/data/netd:networks', {'netd:network': [{
            'name': 'admin', 'primary': True, 'dns-domain': 'lab.example',
            'ipv4': {'subnet': '10.0.0.0/16', 'range': [{'name': 'host', 'first': '10.0.0.10',
                                                         'last': '10.0.255.250'}]},
            'ipv6': {'prefix': 'fd00:0:10:1::/64'}}]})
        assert st == 201, (st, body)
        secret = knot.tsig.split(':', 2)[2]
        st, body = api.call('PUT', '/restconf/data/netd:dns', {'netd:dns': {
            'installation-id': INSTALLATION, 'ttl': TTL, 'check-interval': 0,
            'key': [{'name': 'ddns-key', 'algorithm': 'hmac-sha256', 'secret': secret}],
            'zone': [{'name': z, 'server': [f'127.0.0.1:{knot.port}'], 'key': 'ddns-key'} for z in ZONES]}})
        assert st in (200, 201, 204), (st, body)
        want = 7 * n_nodes
        nodes = {'netd:nodes': {'node': [{'name': f'b{i:05d}', 'network': [{'name': 'admin'}]}
                                         for i in range(n_nodes)]}}
        watch = SerialWatch(knot.port)
        watch.start()
        time.sleep(0.2)   # the first serials
        t_send = time.monotonic()
        st, body = api.call('PATCH', '/restconf/data', nodes)
        t_commit = time.monotonic()
        assert st in (200, 201, 204), (st, body)
        polls, poll_secs = 0, 0.0
        while True:
            p0 = time.monotonic()
            st, body = api.call('GET', '/restconf/data/netd:dns/status')
            poll_secs += time.monotonic() - p0
            polls += 1
            assert st == 200, (st, body)
            s = {k: int(v) for k, v in body['netd:status'].items() if str(v).isdigit()}
            if s.get('error', 0) or s.get('conflict', 0):
                raise RuntimeError(f'netd reports errors: {s}')
            if (s.get('outbox-depth', 1) == 0 and s.get('verified', 0) == want and
                    s.get('pending', 0) + s.get('published', 0) + s.get('drift', 0) == 0):
                break
            if time.monotonic() - t_commit > 600:
                raise RuntimeError(f'netd did not sync in 600 s: {s}')
            # A status read costs netd work that grows with the records
            # (it scans their states): keep polling to a third of the time.
            time.sleep(max(0.05, 2 * (time.monotonic() - p0)))
        t_done = time.monotonic()
        watch.stop.set()
        watch.join()
        secs = t_done - t_commit
        delivered = f'{watch.last_change - t_commit:.2f} s' if watch.last_change else '?'
        log(f'netd: PATCH of {n_nodes} nodes answered in {t_commit - t_send:.2f} s; commit -> {want} records '
            f'verified in {secs:.2f} s ({want / secs:.0f} records/s; the last UPDATE was applied after '
            f'{delivered}); {polls} status polls took {poll_secs:.2f} s of it')
        got = knot.counts()
        if got != want + 1:   # + ns1.lab.example. A from the zone file
            raise RuntimeError(f'Knot holds {got} records after netd, expected {want + 1}')
        st, body = api.call('GET', '/restconf/data/netd:nodes')
        assert st == 200, (st, body)
        model = [(n['name'], [a['address'] for a in n.get('address', [])]) for n in body['netd:nodes']['node']]
        return secs, model
    finally:
        rc = netd.stop()
        if rc:
            log(f'netd exited with {rc}: {netd.tail_log()}')
        knot.stop()


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    netd_bin, peers, work = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    n_nodes = int(os.environ.get('DNS_BENCH_NODES', '10000'))
    sample = min(n_nodes, int(os.environ.get('DNS_BENCH_SAMPLE', '300')))
    sizes = [s if s == 'max' else int(s) for s in os.environ.get('DNS_BENCH_BATCHES', '200 400 max').split()]
    os.makedirs(work, exist_ok=True)

    netd_s, model = run_netd(netd_bin, peers, work, n_nodes)
    per_zone = {z: [] for z in ZONES}
    for name, addrs in model:
        for z, recs in node_records(name, addrs).items():
            per_zone[z] += recs
    n_recs = sum(len(v) for v in per_zone.values())

    best = None
    for size in sizes:
        knot = Knot(peers, os.path.join(work, f'knot-batch-{size}'))
        try:
            script, n_msgs = batch_script(knot, per_zone, size)
            secs = knsupdate(knot, script, tcp=True)
            got = knot.counts()
        finally:
            knot.stop()
        if got != n_recs + 1:
            raise RuntimeError(f'knsupdate batch {size}: Knot holds {got} records, expected {n_recs + 1}')
        log(f'knsupdate, {size} records per UPDATE ({n_msgs} UPDATEs over TCP): {n_recs} records in '
            f'{secs:.2f} s ({n_recs / secs:.0f} records/s)')
        if best is None or secs < best[0]:
            best = (secs, size)

    knot = Knot(peers, os.path.join(work, 'knot-per-node'))
    try:
        script, n_msgs = per_node_script(knot, model[:sample])
        secs = knsupdate(knot, script, tcp=False)
        got = knot.counts()
    finally:
        knot.stop()
    if got != 7 * sample + 1:
        raise RuntimeError(f'per-node updates: Knot holds {got} records, expected {7 * sample + 1}')
    per_node_s = secs * len(model) / sample
    log(f'per-node updater: {sample} nodes ({n_msgs} UPDATEs over UDP, 1 per zone per node) in {secs:.2f} s '
        f'({n_msgs / secs:.0f} UPDATEs/s); extrapolated to {len(model)} nodes: {per_node_s:.1f} s')
    print(f'RESULT nodes={len(model)} records={n_recs} netd_s={netd_s:.3f} knsupdate_best_s={best[0]:.3f} '
          f'best_batch={best[1]} per_node_sample={sample} per_node_sample_s={secs:.3f} '
          f'per_node_extrapolated_s={per_node_s:.1f}', flush=True)


if __name__ == '__main__':
    main()
