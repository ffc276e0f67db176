#!/usr/bin/env python3
"""RESTCONF end to end against a real netd: networks, 500 nodes, restart,
32 concurrent allocators on one /24, bad input, authentication.

usage: test_restconf.py PATH-TO-NETD
"""
import concurrent.futures
import crypt
import hashlib
import ipaddress
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdtest import Checks, Client, Netd, cleanup, error_of, tempdir  # noqa: E402

NODES = 500
ADMIN_PW = 'admin-secret'
VIEWER_PW = 'viewer-secret'
TOKEN = 'integration-test-token-0123456789'

NETWORKS = [
    {'name': 'admin', 'primary': True, 'conduit': 'intf0',
     'ipv4': {'subnet': '10.10.0.0/22', 'router': '10.10.0.1',
              'range': [{'name': 'host', 'first': '10.10.0.10', 'last': '10.10.3.250'}]},
     'ipv6': {'prefix': 'auto'}, 'dns-domain': 'lab.example'},
    {'name': 'storage', 'conduit': 'intf1', 'vlan': 200, 'use-vlan': True,
     'ipv4': {'subnet': '10.20.0.0/22',
              'range': [{'name': 'host', 'first': '10.20.0.10', 'last': '10.20.3.250'}]}},
    {'name': 'vips', 'conduit': 'intf0',
     'ipv4': {'subnet': '10.30.0.0/24', 'router': '10.30.0.1',
              'range': [{'name': 'host', 'first': '10.30.0.1', 'last': '10.30.0.254'}]}},
]


def write_config(workdir):
    users = [
        {'name': 'admin', 'password-hash': crypt.crypt(ADMIN_PW, crypt.mksalt(crypt.METHOD_SHA512)), 'role': 'admin'},
        {'name': 'viewer', 'password-hash': crypt.crypt(VIEWER_PW, crypt.mksalt(crypt.METHOD_SHA512)),
         'role': 'read-only'},
    ]
    tokens = [{'name': 'ci', 'sha256': hashlib.sha256(TOKEN.encode()).hexdigest(), 'role': 'admin'}]
    path = os.path.join(workdir, 'netd.conf')
    with open(path, 'w') as f:
        json.dump({'netd-server:server': {'user': users, 'token': tokens}}, f)
    return path


def create_nodes_with_curl(t, base, n):
    """All node creations in one curl process (one keep-alive connection)."""
    cfg = os.path.join(os.path.dirname(os.path.abspath(__file__)), '.nodes.curl')
    lines = []
    for i in range(n):
        body = {'netd:node': [{'name': f'node{i:04d}', 'admin-mac': f'52:54:00:00:{i // 256:02x}:{i % 256:02x}',
                               'network': [{'name': 'admin'}, {'name': 'storage'}]}]}
        lines += [f'url = "{base}/restconf/data/netd:nodes"', 'request = "POST"',
                  f'header = "Authorization: Bearer {TOKEN}"',
                  'header = "Content-Type: application/yang-data+json"',
                  'data = ' + json.dumps(json.dumps(body)), 'output = "/dev/null"',
                  'write-out = "%{http_code}\\n"', 'next']
    with open(cfg, 'w') as f:
        f.write('\n'.join(lines[:-1]) + '\n')
    out = subprocess.run(['curl', '-sS', '-K', cfg], capture_output=True, text=True).stdout.split()
    os.unlink(cfg)
    t.ok(out.count('201') == n, f'{n} nodes created with curl (201 each)', f'{out[:5]}... {len(out)} answers')


def check_allocations(t, c):
    status, body = c.get('/restconf/data/netd:allocations')
    allocs = body['netd:allocations']['allocation'] if status == 200 else []
    by_net = {}
    for a in allocs:
        by_net.setdefault(a['network'], []).append(a)
    v4 = [a for a in by_net.get('admin', []) if a['family'] == 'ipv4']
    v6 = [a for a in by_net.get('admin', []) if a['family'] == 'ipv6']
    st = [a for a in by_net.get('storage', []) if a['family'] == 'ipv4']
    t.ok(len(v4) == NODES and len(v6) == NODES and len(st) == NODES,
         'every node has admin v4, admin v6 and storage v4', f'{len(v4)} {len(v6)} {len(st)}')
    for name, lst in (('admin v4', v4), ('admin v6', v6), ('storage v4', st)):
        addrs = [a['address'] for a in lst]
        t.ok(len(set(addrs)) == len(addrs), f'{name} addresses unique')
    lo, hi = ipaddress.ip_address('10.10.0.10'), ipaddress.ip_address('10.10.3.250')
    t.ok(all(lo <= ipaddress.ip_address(a['address']) <= hi for a in v4), 'admin v4 all inside range host')
    lo, hi = ipaddress.ip_address('10.20.0.10'), ipaddress.ip_address('10.20.3.250')
    t.ok(all(lo <= ipaddress.ip_address(a['address']) <= hi for a in st), 'storage v4 all inside range host')
    status, nets = c.get('/restconf/data/netd:networks/network=admin')
    prefix = ipaddress.ip_network(nets['netd:network'][0]['effective-ipv6-prefix']) if status == 200 else None
    t.ok(prefix is not None and prefix.prefixlen == 64 and str(prefix).startswith('fd'),
         'admin v6 auto prefix is a ULA /64', str(prefix))
    t.ok(prefix is not None and all(ipaddress.ip_address(a['address']) in prefix for a in v6),
         'admin v6 addresses inside the derived prefix')
    # host-part alignment: a node's storage address mirrors its admin host part
    owner_v4 = {a['owner']: ipaddress.ip_address(a['address']) for a in v4}
    aligned = sum(1 for a in st if int(ipaddress.ip_address(a['address'])) & 0x3ff ==
                  int(owner_v4.get(a['owner'], ipaddress.ip_address('0.0.0.0'))) & 0x3ff)
    t.ok(aligned == NODES, 'storage host parts follow the primary network', f'{aligned} of {NODES}')


def snapshot(c):
    out = {}
    for p in ('/restconf/data/netd:networks', '/restconf/data/netd:nodes', '/restconf/data/netd:allocations'):
        out[p] = c.request('GET', p)
    return out


def test_restart(t, netd, c):
    before = snapshot(c)
    rc = netd.stop()
    t.ok(rc == 0, 'netd stops cleanly on SIGTERM', f'exit {rc}')
    netd.start()
    after = snapshot(c)
    for p in before:
        t.ok(before[p] == after[p], f'identical after restart: {p}')


def allocate_vip(c, i):
    status, body = c.json('POST', '/restconf/operations/netd:allocate-address',
                          {'netd:input': {'network': 'vips', 'name': f'vip{i}'}})
    if status == 200:
        return 'ok', body['netd:output']['address']
    return 'err', (status, error_of(body))


def test_concurrent_exhaustion(t, c):
    status, body = c.get('/restconf/data/netd:networks/network=vips')
    util = body['netd:network'][0]['utilization']['range'][0]
    capacity = int(util['free'])
    t.ok(capacity == 253, 'vips /24 offers 253 addresses (router excluded)', str(capacity))
    attempts = 32 * 10
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(lambda i: allocate_vip(c, i), range(attempts)))
    got = [r[1] for r in results if r[0] == 'ok']
    errs = [r[1] for r in results if r[0] == 'err']
    t.ok(len(got) == capacity, f'32 concurrent clients: exactly {capacity} allocations succeed', str(len(got)))
    t.ok(len(set(got)) == len(got), 'no address handed out twice')
    t.ok(all(s == 409 and e[0] == 'resource-denied' and 'vips' in e[2] and 'host' in e[2] for s, e in errs),
         'the rest get 409 exhaustion naming network and range', str(errs[:2]))


def bad_inputs(t, c):
    """Each bad input gets an error with a path and changes nothing."""
    def net(**kw):
        n = {'name': 'bad', 'ipv4': {'subnet': '10.40.0.0/24',
                                     'range': [{'name': 'host', 'first': '10.40.0.10', 'last': '10.40.0.20'}]}}
        n.update(kw)
        return {'netd:network': [n]}
    overlap = net(ipv4={'subnet': '10.40.0.0/24', 'range': [
        {'name': 'host', 'first': '10.40.0.10', 'last': '10.40.0.50'},
        {'name': 'dhcp', 'first': '10.40.0.40', 'last': '10.40.0.60'}]})
    outside = net(ipv4={'subnet': '10.40.0.0/24', 'range': [{'name': 'host', 'first': '10.40.0.10',
                                                              'last': '10.40.1.20'}]})
    router = net(ipv4={'subnet': '10.40.0.0/24', 'router': '10.41.0.1',
                       'range': [{'name': 'host', 'first': '10.40.0.10', 'last': '10.40.0.20'}]})
    v6long = net(ipv6={'prefix': 'fd00:1:2:3:4::/80'})
    cases = [
        ('overlapping ranges', 'POST', '/restconf/data/netd:networks', overlap, 400, 'range'),
        ('range outside the subnet', 'POST', '/restconf/data/netd:networks', outside, 400, 'range'),
        ('router outside the subnet', 'POST', '/restconf/data/netd:networks', router, 400, 'router'),
        ('VLAN 4095', 'POST', '/restconf/data/netd:networks', net(vlan=4095), 400, 'vlan'),
        ('VLAN 0', 'POST', '/restconf/data/netd:networks', net(vlan=0), 400, 'vlan'),
        ('v6 prefix too long for derived addressing', 'POST', '/restconf/data/netd:networks', v6long, 400, 'ipv6'),
        ('duplicate network name', 'POST', '/restconf/data/netd:networks',
         {'netd:network': [NETWORKS[0]]}, 409, "network[name='admin']"),
        ('unknown network on a node', 'POST', '/restconf/data/netd:nodes',
         {'netd:node': [{'name': 'lost', 'network': [{'name': 'nowhere'}]}]}, 400, 'nowhere'),
        ('bad node name', 'POST', '/restconf/data/netd:nodes', {'netd:node': [{'name': 'bad_name!'}]}, 400, 'name'),
        ('unknown leaf', 'POST', '/restconf/data/netd:networks', net(colour='blue'), 400, ''),
        ('malformed JSON', 'POST', '/restconf/data/netd:networks', '{"netd:network": [', 400, ''),
        # libyang 2.1 crashed on this under a parent node: refused before parsing
        ('a metadata annotation', 'POST', '/restconf/data/netd:networks',
         '{"@netd:network": {"x": 1}, "netd:network": [{"name": "m"}]}', 400, ''),
        ('hint outside the subnet', 'POST', '/restconf/data/netd:nodes',
         {'netd:node': [{'name': 'hinted', 'network': [{'name': 'admin', 'ipv4-hint': '10.99.0.5'}]}]},
         400, 'ipv4-hint'),
        ('key in body differs from URI', 'PUT', '/restconf/data/netd:networks/network=other', net(), 400, ''),
    ]
    for what, method, path, body, want, path_part in cases:
        before = snapshot(c)
        status, reply = c.json(method, path, body)
        tag, epath, msg = error_of(reply)
        t.ok(status == want and tag is not None and msg and (path_part in (epath or '') + msg),
             f'bad input refused: {what} ({want})', f'{status} {reply}')
        t.ok(snapshot(c) == before, f'nothing written: {what}')


def rfc8040_basics(t, c):
    status, text = c.request('GET', '/.well-known/host-meta')
    t.ok(status == 200 and "rel='restconf'" in text, 'host-meta points at /restconf')
    status, body = c.get('/restconf/data/ietf-yang-library:yang-library')
    mods = [m['name'] for m in body['ietf-yang-library:yang-library']['module-set'][0]['module']] if status == 200 else []
    t.ok('netd' in mods, 'ietf-yang-library lists the netd module', str(mods))
    status, body = c.get('/restconf/operations')
    ops = sorted(body.get('ietf-restconf:operations', {})) if status == 200 else []
    t.ok(all(f'netd:{o}' in ops for o in ('allocate-address', 'rename-node', 'commit-deployment', 'dns-export')),
         '/restconf/operations lists every netd RPC from the schema', str(ops))
    status, body = c.get('/restconf/data/netd:nodes/node=node0001?content=config')
    t.ok(status == 200 and 'address' not in body['netd:node'][0], 'content=config leaves out state')
    status, body = c.get('/restconf/data/netd:nodes/node=node0001?content=nonconfig')
    t.ok(status == 200 and 'admin-mac' not in body['netd:node'][0] and 'address' in body['netd:node'][0],
         'content=nonconfig leaves out config')
    status, body = c.get('/restconf/data/netd:nodes/node=node0001?depth=1')
    t.ok(status == 400 and 'depth' in error_of(body)[2], 'an unsupported query parameter is refused (400)')
    status, body = c.get('/restconf/data/netd:nodes/node=node0001?content=config&content=all')
    t.ok(status == 400 and 'content' in error_of(body)[2], 'a repeated query parameter is refused (400)')
    status, _ = c.get('/restconf/data/netd:nodes/node=missing')
    t.ok(status == 404, 'GET of a missing node is 404')
    status, _ = c.request('DELETE', '/restconf/data/netd:nodes/node=missing')
    t.ok(status == 404, 'DELETE of a missing node is 404')
    status, _ = c.request('PATCH', '/restconf/data/netd:nodes/node=missing',
                          {'netd:node': [{'name': 'missing', 'alias': ['x']}]})
    t.ok(status == 404, 'PATCH does not create')
    for _ in range(2):  # the second GET is answered from the response cache
        c.get('/restconf/data/netd:nodes/node=node0001')
    status, _ = c.request('PATCH', '/restconf/data/netd:nodes/node=node0001',
                          {'netd:node': [{'name': 'node0001', 'alias': ['db1.lab.example']}]})
    status2, body = c.get('/restconf/data/netd:nodes/node=node0001')
    t.ok(status == 204 and body['netd:node'][0].get('alias') == ['db1.lab.example'],
         'PATCH merges an alias, and a GET after it sees it (no stale cached answer)')
    # rename keeps addresses
    _, before = c.get('/restconf/data/netd:nodes/node=node0002')
    status, _ = c.json('POST', '/restconf/operations/netd:rename-node',
                       {'netd:input': {'from': 'node0002', 'to': 'renamed2'}})
    _, after = c.get('/restconf/data/netd:nodes/node=renamed2')
    t.ok(status == 204 and after and before['netd:node'][0]['address'] == after['netd:node'][0]['address'],
         'rename-node keeps the addresses')
    # delete releases (held), a new node does not get the held address
    held = [a['address'] for a in after['netd:node'][0]['address'] if a['network'] == 'storage'][0]
    status, _ = c.request('DELETE', '/restconf/data/netd:nodes/node=renamed2')
    _, allocs = c.get('/restconf/data/netd:allocations')
    states = {a['address']: a['state'] for a in allocs['netd:allocations']['allocation'] if a['network'] == 'storage'}
    t.ok(status == 204 and states.get(held) == 'held', 'deleting a node holds its addresses', str(states.get(held)))
    status, _ = c.request('POST', '/restconf/data/netd:nodes',
                          {'netd:node': [{'name': 'newcomer', 'network': [{'name': 'storage'}]}]})
    _, nb = c.get('/restconf/data/netd:nodes/node=newcomer')
    t.ok(status == 201 and nb['netd:node'][0]['address'][0]['address'] != held,
         'a held address is not reused while others are free')


def test_auth(t, netd):
    base = netd.base
    status, _ = Client(base).request('GET', '/restconf/data/netd:status')
    t.ok(status == 401, 'no credentials: 401')
    status, _ = Client(base, auth_header='Authorization: Bearer wrong').request('GET', '/restconf/data/netd:status')
    t.ok(status == 401, 'wrong token: 401')
    status, _ = Client(base, basic='viewer:wrong').request('GET', '/restconf/data/netd:status')
    t.ok(status == 401, 'wrong password: 401')
    viewer = Client(base, basic=f'viewer:{VIEWER_PW}')
    status, _ = viewer.request('GET', '/restconf/data/netd:networks')
    t.ok(status == 200, 'read-only user reads')
    status, body = viewer.json('POST', '/restconf/data/netd:nodes', {'netd:node': [{'name': 'nope'}]})
    t.ok(status == 403 and error_of(body)[0] == 'access-denied', 'read-only user writing: 403')
    status, _ = Client(base, basic=f'admin:{ADMIN_PW}').request('GET', '/restconf/data/netd:status')
    t.ok(status == 200, 'admin user with password reads')


def test_bootstrap_token(t, binary):
    work = tempdir('netd-boot-')
    try:
        n = Netd(binary, work)
        n.start()
        path = os.path.join(n.store, 'admin.token')
        mode = os.stat(path).st_mode & 0o777
        t.ok(mode == 0o600, 'first start writes admin.token with mode 0600', oct(mode))
        c = Client(n.base, auth_header=f'Authorization: Bearer {n.token()}')
        status, _ = c.get('/restconf/data/netd:status')
        t.ok(status == 200, 'the bootstrap token is an admin token')
        n.stop()
    finally:
        cleanup(work)


def main():
    binary = sys.argv[1]
    t = Checks()
    work = tempdir('netd-it-')
    netd = Netd(binary, work, config=write_config(work))
    try:
        netd.start()
        c = Client(netd.base, auth_header=f'Authorization: Bearer {TOKEN}')
        for n in NETWORKS:
            status, body = c.json('POST', '/restconf/data/netd:networks', {'netd:network': [n]})
            t.ok(status == 201, f'network {n["name"]} created', str(body))
        create_nodes_with_curl(t, netd.base, NODES)
        check_allocations(t, c)
        test_restart(t, netd, c)
        test_concurrent_exhaustion(t, c)
        bad_inputs(t, c)
        rfc8040_basics(t, c)
        test_auth(t, netd)
        rc = netd.stop()
        t.ok(rc == 0, 'netd exits 0', f'{rc}: {netd.tail_log()}')
        test_bootstrap_token(t, binary)
    except Exception as e:  # a crash of the harness is a failure, with the log
        t.ok(False, 'harness', f'{e!r}\n{netd.tail_log()}')
    finally:
        netd.stop(timeout=5)
        cleanup(work)
    t.done()


if __name__ == '__main__':
    main()
