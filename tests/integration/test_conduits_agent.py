#!/usr/bin/env python3
"""Conduits end to end: netd, `netd --agent` on a node, netctl, the kernel.

Two network namespaces made (and removed) here:
  S  "server": netd on its own 127.0.0.1:8080 (netd refuses a non-loopback
     listener without TLS, decisions.md D12), and a TCP relay (a few lines
     of Python, below) from 198.18.1.1:8080 to it; 198.18.1.1/32 sits on S's
     lo.  netctl and curl run inside S.
  N  "node": up0, the peer of S's s0 (198.18.0.1/24, the management
     network's router), and nic1, nic2: veth pairs whose peers stay in N.
     N starts with 198.18.0.10/24 on up0 and a default route via 198.18.0.1
     (as a PXE/DHCP boot would leave it), so the agent reaches
     http://198.18.1.1:8080 only through its default route.
The agent runs in N with --inventory-file (veth NICs report no speed:
up0 is made 1g, nic1 and nic2 10g with PCI paths) and --vlan-as-macvlan
(this kernel has no 802.1Q).  Results are read with `ip -d -j link/addr/
route` in N and from netd's /netd:nodes/node/conduit-state.

Steps: first run (the default route changes: commit-confirm, confirmed by
itself); second run makes zero changes; a network removed from the node and
another added (stale devices go, new ones come); a change the kernel refuses
(everything undone, the kernel's answer named); an unresolvable reference
(node unchanged, the error names node, conduit, reference and NICs seen); a
new preferred default route that cuts the node off (not confirmed: restored
after the 3 s window, reported rolled back); a change on the management
path with self-confirm off, kept by `netctl conduit confirm`; back with
self-confirm on; --watch following model changes until SIGTERM; a node
without an agent whose inventory comes from a file (and a bad file), and
its records going with the node.  netctl node inventory / conduit resolve /
plan on the way; supported speeds in the inventory (veth NICs have no link
modes: the file's class is their one supported speed).  Last, the
annealer's conduits jig: a node-role that asks before the agent runs and
ends when the agent (--watch) applied (kernel state, summary, log); a model
change that runs it again; an agent that cannot apply (error, with the
agent's error); a change the agent rolls back (error, saying so); no agent
(error at the role's timeout); netd stopped and started while a run waits
(it waits again and ends when the agent applied).

usage: test_conduits_agent.py PATH-TO-NETD PATH-TO-NETCTL
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdtest import Checks, cleanup, tempdir  # noqa: E402

SANITIZER = re.compile(r'ERROR: \w*Sanitizer|runtime error|SUMMARY: \w*Sanitizer')
WAIT = 60   # seconds: only keeps a broken run from hanging, never asserted

RELAY = r'''
import socket, sys, threading
lh, lp, uh, up = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
def serve(c):
    try:
        u = socket.create_connection((uh, up))
    except OSError:
        c.close()
        return
    t = threading.Thread(target=pipe, args=(u, c), daemon=True)
    t.start()
    pipe(c, u)
    t.join()
    c.close()
    u.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((lh, lp))
s.listen(64)
print('ready', flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'''


def sh(*args, check=True, ns=None, **kw):
    cmd = (['ip', 'netns', 'exec', ns] if ns else []) + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)}: exit {p.returncode}: {p.stderr.strip()}')
    return p


class Lab:
    def __init__(self, netd, netctl, work):
        self.netd, self.netctl_bin, self.work = netd, netctl, work
        self.outputs = []     # every agent run's stdout + stderr, for the sanitizer check
        self.S, self.N = f'cdtS{os.getpid()}', f'cdtN{os.getpid()}'
        self.procs = []
        self.store = os.path.join(work, 'store')
        self.inv = os.path.join(work, 'inventory.json')
        self.log = os.path.join(work, 'netd.log')

    # ---- set-up / tear-down
    def up(self):
        S, N = self.S, self.N
        sh('ip', 'netns', 'add', S)
        sh('ip', 'netns', 'add', N)
        for ns in (S, N):
            sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
        sh('ip', '-n', S, 'addr', 'add', '198.18.1.1/32', 'dev', 'lo')
        # nic1/nic2 first: up0's ifindex in N must differ from s0's in S (its
        # IFLA_LINK), which conduits/actual.c takes for a link to itself
        for i in (1, 2):
            sh('ip', '-n', N, 'link', 'add', f'nic{i}', 'type', 'veth', 'peer', 'name', f'p{i}')
            sh('ip', '-n', N, 'link', 'set', f'p{i}', 'up')
        sh('ip', '-n', S, 'link', 'add', 's0', 'type', 'veth', 'peer', 'name', 'up0', 'netns', N)
        sh('ip', '-n', S, 'addr', 'add', '198.18.0.1/24', 'dev', 's0')
        sh('ip', '-n', S, 'link', 'set', 's0', 'up')
        sh('ip', '-n', N, 'addr', 'add', '198.18.0.10/24', 'dev', 'up0')
        sh('ip', '-n', N, 'link', 'set', 'up0', 'up')
        sh('ip', '-n', N, 'route', 'add', 'default', 'via', '198.18.0.1')
        with open(self.inv, 'w') as f:
            json.dump({'netd:inventory': {'product-name': 'veth lab', 'nic': [
                {'name': 'up0', 'speed-class': 1000, 'speed': 1000},
                {'name': 'nic1', 'speed-class': 10000, 'speed': 10000, 'pci': '0000:03:00.0'},
                {'name': 'nic2', 'speed-class': 10000, 'speed': 10000, 'pci': '0000:03:00.1'}]}}, f)
        self.start_netd()
        relay = os.path.join(self.work, 'relay.py')
        with open(relay, 'w') as f:
            f.write(RELAY)
        self.relay_p = subprocess.Popen(['ip', 'netns', 'exec', S, sys.executable, relay, '198.18.1.1', '8080',
                                         '127.0.0.1', '8080'], stdout=subprocess.PIPE, text=True)
        self.procs.append(self.relay_p)
        self.relay_p.stdout.readline()
        self.wait_netd()
        self.token_file = os.path.join(self.store, 'admin.token')
        self.token = open(self.token_file).read().strip()

    def start_netd(self):
        self.netd_p = subprocess.Popen(['ip', 'netns', 'exec', self.S, self.netd, '--store', self.store,
                                        '--listen', '127.0.0.1:8080'],
                                       stdout=open(self.log, 'a'), stderr=subprocess.STDOUT, cwd=self.work)
        self.procs.append(self.netd_p)

    def wait_netd(self):
        deadline = time.time() + WAIT
        while time.time() < deadline:
            if self.netd_p.poll() is not None:
                raise RuntimeError('netd exited: ' + open(self.log).read()[-2000:])
            p = sh('curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:8080/restconf',
                   ns=self.S, check=False)
            if p.stdout == '401' and os.path.exists(os.path.join(self.store, 'admin.token')):
                break
            time.sleep(0.05)

    def restart_netd(self):
        """SIGTERM, then start again on the same store; the exit status of the first."""
        self.netd_p.terminate()
        try:
            rc = self.netd_p.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.netd_p.kill()
            rc = self.netd_p.wait()
        self.start_netd()
        self.wait_netd()
        return rc

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for ns in (self.S, self.N):
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)

    # ---- netd
    def curl(self, method, path, body=None):
        args = ['curl', '-s', '-X', method, '-H', f'Authorization: Bearer {self.token}', '-o', '-', '-w',
                '\n%{http_code}', 'http://127.0.0.1:8080' + path]
        if body is not None:
            args += ['-H', 'Content-Type: application/yang-data+json', '--data-binary', json.dumps(body)]
        out = sh(*args, ns=self.S).stdout
        text, _, code = out.rpartition('\n')
        try:
            return int(code), (json.loads(text) if text.strip() else None)
        except json.JSONDecodeError:
            return int(code), text

    def netctl(self, *args):
        p = sh(self.netctl_bin, '--server', 'http://127.0.0.1:8080', '--token-file', self.token_file, *args,
               ns=self.S, check=False)
        self.outputs.append(p.stderr)
        return p

    def state(self):
        code, body = self.curl('GET', '/restconf/data/netd:nodes/node=n1/conduit-state')
        return body.get('netd:conduit-state', {}) if code == 200 and isinstance(body, dict) else {}

    # ---- the node
    def agent_args(self, *extra):
        return ['ip', 'netns', 'exec', self.N, self.netd, '--agent', '--server', 'http://198.18.1.1:8080',
                '--node', 'n1', '--token-file', self.token_file, '--inventory-file', self.inv,
                '--vlan-as-macvlan'] + list(extra)

    def agent(self, *extra):
        p = subprocess.run(self.agent_args(*extra), capture_output=True, text=True, timeout=WAIT * 2)
        self.outputs.append(p.stdout + p.stderr)
        return p

    def snap(self):
        """links, addresses, routes of N as sorted lines (as test_conduits_apply.sh)."""
        out = []
        for link in json.loads(sh('ip', '-n', self.N, '-d', '-j', 'link', 'show').stdout):
            if link['ifname'] in ('lo', 'p1', 'p2'):
                continue
            out.append('link %s kind=%s master=%s mtu=%s alias=%s up=%s' % (
                link['ifname'], link.get('linkinfo', {}).get('info_kind', '-'), link.get('master', '-'),
                link['mtu'], link.get('ifalias', '-'), 'UP' in link['flags']))
        for a in json.loads(sh('ip', '-n', self.N, '-j', 'addr', 'show').stdout):
            for i in a.get('addr_info', []):
                if i.get('scope') not in ('link', 'host'):
                    out.append('addr %s %s/%s' % (a['ifname'], i['local'], i['prefixlen']))
        for fam in ('-4', '-6'):
            for r in json.loads(sh('ip', '-n', self.N, fam, '-j', 'route', 'show').stdout):
                if r.get('protocol') != 'kernel':
                    out.append('route %s via %s dev %s proto %s' % (r['dst'], r.get('gateway', '-'), r.get('dev'),
                                                                   r.get('protocol', '-')))
        return sorted(out)


def model(lab):
    nets = [
        {'name': 'mgmt', 'conduit': 'intf0',
         'ipv4': {'subnet': '198.18.0.0/24', 'router': '198.18.0.1', 'router-pref': 10,
                  'range': [{'name': 'host', 'first': '198.18.0.10', 'last': '198.18.0.50'}]}},
        {'name': 'storage', 'conduit': 'intf1', 'use-vlan': True, 'vlan': 200, 'mtu': 9000,
         'ipv4': {'subnet': '10.20.0.0/24', 'range': [{'name': 'host', 'first': '10.20.0.10', 'last': '10.20.0.50'}]}},
        {'name': 'public', 'conduit': 'intf2', 'use-bridge': True,
         'ipv4': {'subnet': '10.30.0.0/24', 'range': [{'name': 'host', 'first': '10.30.0.10', 'last': '10.30.0.50'}]}},
        {'name': 'backup', 'conduit': 'intf1', 'use-vlan': True, 'vlan': 300,
         'ipv4': {'subnet': '10.40.0.0/24', 'range': [{'name': 'host', 'first': '10.40.0.10', 'last': '10.40.0.50'}]}},
    ]
    code, body = lab.curl('PATCH', '/restconf/data', {'netd:networks': {'network': nets}})
    assert code in (200, 204), body
    node = {'name': 'n1', 'network': [{'name': 'mgmt', 'ipv4-hint': '198.18.0.10'}, {'name': 'storage'},
                                      {'name': 'public'}]}
    code, body = lab.curl('PUT', '/restconf/data/netd:nodes/node=n1', {'netd:node': [node]})
    assert code in (201, 204), body
    return conduits(lab, '10g2', self_confirm=True)


def conduits(lab, intf2_ref, self_confirm):
    doc = {'netd:conduits': {
        'management-network': 'mgmt',
        'commit-confirm': {'timeout': 3, 'self-confirm': self_confirm},
        'conduit': [
            {'name': 'intf0', 'rule': [{'name': 'default', 'interface': ['1g1']}]},
            {'name': 'intf1', 'rule': [{'name': 'default', 'interface': ['+10g1']}]},
            {'name': 'intf2', 'rule': [{'name': 'default', 'interface': [intf2_ref]}]},
        ]}}
    return lab.curl('PUT', '/restconf/data/netd:conduits', doc)


def node_networks(lab, nets):
    node = {'name': 'n1', 'network': [dict(n) for n in nets]}
    return lab.curl('PUT', '/restconf/data/netd:nodes/node=n1', {'netd:node': [node]})


def set_network(lab, name, **changes):
    code, body = lab.curl('GET', f'/restconf/data/netd:networks/network={name}?content=config')
    net = body['netd:network'][0]
    for k, v in changes.items():
        if isinstance(v, dict):
            net.setdefault(k, {}).update(v)
        else:
            net[k] = v
    return lab.curl('PUT', f'/restconf/data/netd:networks/network={name}', {'netd:network': [net]})


def has(lines, want):
    return want in lines


def wait_for(cond, proc):
    """Poll @cond until it holds (True) or @proc ends or WAIT passes (False)."""
    deadline = time.time() + WAIT
    while time.time() < deadline and proc.poll() is None:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def run(t, lab):
    t.ok(model(lab)[0] in (201, 204), 'model: networks, node n1, conduits document')

    p = lab.netctl('node', 'inventory', 'n1')
    t.ok(p.returncode == 1 and 'has no NIC inventory' in p.stderr, 'netctl node inventory before any report: exit 1',
         p.stdout + p.stderr)
    p = lab.netctl('conduit', 'plan', 'n1')
    t.ok(p.returncode == 1 and 'node n1 has no NIC inventory' in p.stderr, 'conduit-plan without an inventory: refused',
         p.stdout + p.stderr)

    # ---- 1. first run: plan applied; the default route moves to netd's: commit-confirm, self-confirmed
    r = lab.agent()
    t.ok(r.returncode == 0 and 'confirmed' in r.stdout, 'first run: exit 0, confirmed by itself', r.stdout + r.stderr)
    s1 = lab.snap()
    for want in ('link nic1 kind=veth master=- mtu=9000 alias=- up=True',
                 'link nic1.200 kind=macvlan master=- mtu=9000 alias=netd:intf1/storage up=True',
                 'link nic2 kind=veth master=br-public mtu=1500 alias=- up=True',
                 'link br-public kind=bridge master=- mtu=1500 alias=netd:intf2/public up=True',
                 'addr up0 198.18.0.10/24', 'addr nic1.200 10.20.0.10/24', 'addr br-public 10.30.0.10/24',
                 'route default via 198.18.0.1 dev up0 proto 77'):
        t.ok(has(s1, want), f'first run: {want}', '\n'.join(s1))
    st = lab.state()
    la = st.get('last-apply', {})
    t.ok(la.get('result') == 'confirmed' and int(la.get('changes', 0)) > 0 and str(la.get('generation')) == '1'
         and 'confirm' not in st, 'netd: last-apply confirmed, generation 1, changes > 0, nothing pending',
         json.dumps(st)[:600])
    t.ok(st.get('management-address') == '198.18.0.10', 'netd: management address 198.18.0.10', json.dumps(st)[:300])

    code, body = lab.curl('GET', '/restconf/data/netd:nodes/node=n1/inventory')
    nics = {n['name']: n for n in (body or {}).get('netd:inventory', {}).get('nic', [])} if code == 200 else {}
    t.ok(nics.get('up0', {}).get('supported-speed') == [1000] and nics.get('nic1', {}).get('supported-speed') == [10000]
         and nics.get('nic1', {}).get('speed-class') == 10000,
         'inventory: veth NICs have no link modes; the file\'s class is their one supported speed', json.dumps(nics)[:600])

    p = lab.netctl('node', 'inventory', 'n1')
    t.ok(p.returncode == 0 and re.search(r'^nic1 .*10g\s+0000:03:00\.0', p.stdout, re.M) and
         re.search(r'^up0 .* 1g ', p.stdout, re.M) and 'veth lab' in p.stdout,
         'netctl node inventory: the NICs as the agent reported them (speeds from the file)', p.stdout + p.stderr)
    p = lab.netctl('conduit', 'resolve', 'n1')
    t.ok(p.returncode == 0 and '1g1: up0 (1g #1)' in p.stdout and '+10g1: nic1 (10g #1)' in p.stdout and
         '10g2: nic2 (10g #2)' in p.stdout and 'rule default' in p.stdout,
         'netctl conduit resolve: rule and NIC per reference', p.stdout + p.stderr)
    p = lab.netctl('conduit', 'plan', 'n1')
    t.ok(p.returncode == 0 and re.search(r'^nic1\.200\s+vlan\s+nic1', p.stdout, re.M) and
         'plan generation 1' in p.stdout and re.search(r'^0\.0\.0\.0/0\s+198\.18\.0\.1\s+up0', p.stdout, re.M),
         'netctl conduit plan: devices, addresses, routes (a VLAN in the plan)', p.stdout + p.stderr)

    # ---- 2. again: zero changes
    r = lab.agent()
    t.ok(r.returncode == 0 and 'unchanged' in r.stdout and '0 changes' in r.stdout,
         'second run: unchanged, 0 changes', r.stdout + r.stderr)
    t.ok(lab.snap() == s1, 'second run: the node is as it was', '')
    t.ok(lab.state().get('last-apply', {}).get('result') == 'unchanged', 'netd: last-apply unchanged')

    # ---- 3. storage off the node, backup on: stale devices go, new ones come
    code, body = node_networks(lab, [{'name': 'mgmt', 'ipv4-hint': '198.18.0.10'}, {'name': 'public'},
                                     {'name': 'backup'}])
    t.ok(code == 204, 'model: n1 leaves storage, joins backup', str(body))
    r = lab.agent()
    s3 = lab.snap()
    t.ok(r.returncode == 0 and 'applied' in r.stdout, 'third run: applied (not on the management path)',
         r.stdout + r.stderr)
    t.ok(not any('nic1.200' in x or '10.20.0.10' in x for x in s3), 'third run: the storage VLAN is gone',
         '\n'.join(s3))
    for want in ('link nic1.300 kind=macvlan master=- mtu=1500 alias=netd:intf1/backup up=True',
                 'link nic1 kind=veth master=- mtu=1500 alias=- up=True', 'addr nic1.300 10.40.0.10/24',
                 'route default via 198.18.0.1 dev up0 proto 77'):
        t.ok(has(s3, want), f'third run: {want}', '\n'.join(s3))
    r = lab.agent()
    t.ok(r.returncode == 0 and 'unchanged' in r.stdout and lab.snap() == s3, 'fourth run: unchanged',
         r.stdout + r.stderr)

    # ---- 3b. a change the kernel refuses: a NIC under a macvlan (standing in
    # for a VLAN here) cannot join a bridge; everything made before is undone
    t.ok(set_network(lab, 'backup', **{'use-vlan': False, 'use-bridge': True})[0] == 204,
         'model: backup bridged on nic1 instead of a VLAN')
    r = lab.agent()
    t.ok(r.returncode == 1 and 'failed' in r.stdout and 'node n1 conduit intf1' in r.stdout and
         'enslave nic1 to br-backup' in r.stdout and 'Device or resource busy' in r.stdout,
         'kernel refusal: failed, naming node, conduit, device, change and the kernel\'s answer', r.stdout + r.stderr)
    t.ok(lab.snap() == s3, 'kernel refusal: the node is as it was', '\n'.join(lab.snap()))
    t.ok(set_network(lab, 'backup', **{'use-vlan': True, 'use-bridge': False})[0] == 204,
         'model: backup on VLAN 300 again')

    # ---- 4. an unresolvable reference: nothing changes, the error says why
    t.ok(conduits(lab, '10g5', True)[0] == 204, 'model: intf2 asks for 10g5')
    r = lab.agent()
    out = r.stdout + r.stderr
    t.ok(r.returncode == 1 and 'failed' in r.stdout, 'unresolvable: exit 1, failed', out)
    t.ok(all(w in r.stdout for w in ('node n1', 'conduit intf2', '10g5', 'NICs seen', 'up0', 'nic1', 'nic2')),
         'unresolvable: the error names node, conduit, reference and the NICs seen', out)
    t.ok(lab.snap() == s3, 'unresolvable: the node is unchanged')
    la = lab.state().get('last-apply', {})
    t.ok(la.get('result') == 'failed' and '10g5' in la.get('error', ''), 'netd: last-apply failed with the reason',
         json.dumps(la))
    p = lab.netctl('conduit', 'resolve', 'n1')
    t.ok(p.returncode == 1 and '1g1: up0' in p.stdout and '10g5' in p.stderr,
         'netctl conduit resolve: what resolved, then the error (exit 1)', p.stdout + p.stderr)
    t.ok(conduits(lab, '10g2', True)[0] == 204, 'model: intf2 back to 10g2')

    # ---- 5. a better default route that cuts the node off: not confirmed, rolled back
    code, body = set_network(lab, 'public', ipv4={'router': '10.30.0.1', 'router-pref': 5})
    t.ok(code == 204, 'model: public gets a router preferred over mgmt\'s', str(body))
    r = lab.agent()
    out = r.stdout + r.stderr
    t.ok(r.returncode == 1 and 'rolled-back' in r.stdout and 'no confirmation within 3 s' in r.stdout,
         'cut off: exit 1, rolled back after the 3 s window', out)
    t.ok(lab.snap() == s3, 'cut off: the node is as before the change', '\n'.join(lab.snap()))
    st = lab.state()
    t.ok(st.get('last-apply', {}).get('result') == 'rolled-back' and 'confirm' not in st,
         'netd: last-apply rolled-back (reported once netd was reachable again)', json.dumps(st)[:400])
    code, body = set_network(lab, 'public', ipv4={'router-pref': 200})
    t.ok(code == 204, 'model: public\'s router no longer preferred')

    # ---- 6. self-confirm off: a bridge under the management address, kept by netctl conduit confirm
    p = lab.netctl('conduit', 'confirm', 'n1')
    t.ok(p.returncode == 1 and 'no change waiting' in p.stderr, 'netctl conduit confirm with nothing pending: exit 1',
         p.stdout + p.stderr)
    t.ok(conduits(lab, '10g2', False)[0] == 204 and set_network(lab, 'mgmt', **{'use-bridge': True})[0] == 204,
         'model: self-confirm off; mgmt bridged')
    agent = subprocess.Popen(lab.agent_args('--confirm-timeout', '60'), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    lab.procs.append(agent)
    deadline, seen = time.time() + WAIT, False
    while time.time() < deadline and agent.poll() is None and not seen:
        seen = 'confirm' in lab.state() and any(x.startswith('addr br-mgmt 198.18.0.10/') for x in lab.snap())
        if not seen:
            time.sleep(0.1)
    t.ok(seen, 'pending: netd shows the confirmation window while the node runs the change')
    p = lab.netctl('conduit', 'confirm', 'n1')
    t.ok(p.returncode == 0 and 'confirmed' in p.stdout, 'netctl conduit confirm: exit 0', p.stdout + p.stderr)
    try:
        out, err = agent.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        agent.kill()
        out, err = agent.communicate()
    lab.outputs.append(out + err)
    t.ok(agent.returncode == 0 and 'confirmed' in out, 'operator-confirmed: the agent keeps the change', out + err)
    s6 = lab.snap()
    for want in ('link br-mgmt kind=bridge master=- mtu=1500 alias=netd:intf0/mgmt up=True',
                 'link up0 kind=veth master=br-mgmt mtu=1500 alias=- up=True', 'addr br-mgmt 198.18.0.10/24',
                 'route default via 198.18.0.1 dev br-mgmt proto 77'):
        t.ok(has(s6, want), f'operator-confirmed: {want}', '\n'.join(s6))
    t.ok(not any(x.startswith('addr up0 ') for x in s6), 'operator-confirmed: the address left up0', '\n'.join(s6))
    t.ok(lab.state().get('last-apply', {}).get('result') == 'confirmed', 'netd: last-apply confirmed')

    # ---- 7. self-confirm on, the bridge off again: confirmed by itself, the stale bridge goes
    t.ok(conduits(lab, '10g2', True)[0] == 204 and set_network(lab, 'mgmt', **{'use-bridge': False})[0] == 204,
         'model: self-confirm on; mgmt not bridged')
    r = lab.agent()
    t.ok(r.returncode == 0 and 'confirmed' in r.stdout, 'self-confirmed: exit 0', r.stdout + r.stderr)
    t.ok(lab.snap() == s3, 'self-confirmed: the node is back to the state of the third run', '\n'.join(lab.snap()))
    r = lab.agent()
    t.ok(r.returncode == 0 and 'unchanged' in r.stdout, 'and again: unchanged', r.stdout + r.stderr)

    # ---- 8. --watch: model changes reach the node by themselves; SIGTERM ends it
    agent = subprocess.Popen(lab.agent_args('--watch', '1'), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lab.procs.append(agent)
    node_networks(lab, [{'name': 'mgmt', 'ipv4-hint': '198.18.0.10'}, {'name': 'backup'}])
    gone = wait_for(lambda: not any('br-public' in x for x in lab.snap()), agent)
    node_networks(lab, [{'name': 'mgmt', 'ipv4-hint': '198.18.0.10'}, {'name': 'public'}, {'name': 'backup'}])
    back = wait_for(lambda: lab.snap() == s3, agent)
    agent.terminate()
    try:
        out, err = agent.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        agent.kill()
        out, err = agent.communicate()
    lab.outputs.append(out + err)
    t.ok(gone and back, '--watch: public left the node, then came back, without another start', out + err)
    t.ok(agent.returncode == 0 and out.count('applied') >= 2, '--watch: SIGTERM ends it with exit 0', out + err)

    # ---- 9. a node without an agent: its inventory from a file; records go with the node
    code, body = lab.curl('PUT', '/restconf/data/netd:nodes/node=n2',
                          {'netd:node': [{'name': 'n2', 'network': [{'name': 'mgmt'}, {'name': 'public'}]}]})
    t.ok(code == 201, 'model: node n2 (no agent)', str(body))
    f = os.path.join(lab.work, 'n2.json')
    with open(f, 'w') as fh:
        json.dump({'netd:inventory': {'nic': [
            {'name': 'eno1', 'mac': '52:54:00:00:02:01', 'speed-class': 1000, 'pci': '0000:01:00.0'},
            {'name': 'ens1f0', 'mac': '52:54:00:00:02:02', 'speed-class': 25000, 'supported-speed': [10000, 25000],
             'pci': '0000:3b:00.0'},
            {'name': 'ens1f1', 'mac': '52:54:00:00:02:03', 'speed-class': 25000, 'pci': '0000:3b:00.1'}]}}, fh)
    p = lab.netctl('node', 'inventory', 'n2', '--file', f)
    t.ok(p.returncode == 0 and 'inventory of 3 NICs stored' in p.stdout, 'netctl node inventory --file: stored',
         p.stdout + p.stderr)
    code, body = lab.curl('GET', '/restconf/data/netd:nodes/node=n2/inventory')
    nics = {n['name']: n for n in (body or {}).get('netd:inventory', {}).get('nic', [])} if code == 200 else {}
    t.ok(nics.get('ens1f0', {}).get('supported-speed') == [10000, 25000] and
         nics.get('eno1', {}).get('supported-speed') == [1000],
         'inventory file: supported speeds as stated, else the speed-class alone', json.dumps(nics)[:600])
    p = lab.netctl('conduit', 'resolve', 'n2')
    t.ok(p.returncode == 1 and '1g1: eno1 (1g #1)' in p.stdout and 'conduit intf2: 10g2' in p.stderr and
         'NICs seen: eno1 (1g), ens1f0 (25g), ens1f1 (25g)' in p.stderr,
         'netctl conduit resolve n2: the file\'s NICs; an exact 10g2 does not take a 25g NIC', p.stdout + p.stderr)
    # roles pick rules: n2's deployment gives it storage-server
    code1, _ = lab.curl('PUT', '/restconf/data/netd:roles', {'netd:roles': {'role': [{'name': 'storage-server'}]}})
    code2, _ = lab.curl('PUT', '/restconf/data/netd:deployments', {'netd:deployments': {'deployment': [
        {'name': 'd1', 'node': ['n2'], 'role': ['storage-server']}]}})
    doc = {'netd:conduits': {'management-network': 'mgmt', 'conduit': [
        {'name': 'intf0', 'rule': [{'name': 'default', 'interface': ['1g1']}]},
        {'name': 'intf1', 'rule': [{'name': 'default', 'interface': ['+10g1']}]},
        {'name': 'intf2', 'rule': [{'name': 'storage', 'role-regex': 'storage-.*', 'interface': ['+25g2']},
                                   {'name': 'default', 'interface': ['10g2']}]}]}}
    code3, body = lab.curl('PUT', '/restconf/data/netd:conduits', doc)
    t.ok((code1, code2, code3) == (201, 201, 204), 'model: a role, a deployment of n2, a rule for that role',
         f'{code1} {code2} {code3} {body}')
    p = lab.netctl('conduit', 'resolve', 'n2')
    t.ok(p.returncode == 0 and 'roles: storage-server' in p.stdout and
         'conduit intf2 (public): rule storage (*/*/storage-.*)' in p.stdout and '+25g2: ens1f1 (25g #2)' in p.stdout,
         'netctl conduit resolve n2: the rule its role picks', p.stdout + p.stderr)
    p = lab.netctl('conduit', 'resolve', 'n1')
    t.ok(p.returncode == 0 and 'rule default' in p.stdout and 'rule storage' not in p.stdout,
         'netctl conduit resolve n1: no role, the default rule', p.stdout + p.stderr)
    lab.curl('DELETE', '/restconf/data/netd:deployments')
    bad = os.path.join(lab.work, 'bad.json')
    with open(bad, 'w') as fh:
        json.dump({'netd:inventory': {'nic': [{'name': 'eno1', 'mac': '52:54:00:00:02:01', 'pci': '0000:01:00.0'},
                                              {'name': 'eno2', 'mac': '52:54:00:00:02:02', 'pci': '0000:01:00.0'}]}}, fh)
    p = lab.netctl('node', 'inventory', 'n2', '--file', bad)
    t.ok(p.returncode == 1 and "nic[name='eno2']/pci" in p.stderr and 'node n2' in p.stderr,
         'a bad inventory file: refused, naming the NIC and the leaf', p.stdout + p.stderr)
    t.ok(lab.netctl('node', 'delete', 'n2').returncode == 0, 'node n2 deleted')
    lab.curl('PUT', '/restconf/data/netd:nodes/node=n2', {'netd:node': [{'name': 'n2'}]})
    p = lab.netctl('node', 'inventory', 'n2')
    t.ok(p.returncode == 1 and 'has no NIC inventory' in p.stderr, 'a node made again does not inherit the old inventory',
         p.stdout + p.stderr)

    annealer(t, lab, s3)


def node_role(lab, dep, node, role):
    code, body = lab.curl('GET', f'/restconf/data/netd:node-roles/node-role={dep},{node},{role}')
    if code != 200 or not isinstance(body, dict):
        return {}
    return (body.get('netd:node-role') or [{}])[0]


def wait_role(lab, dep, node, role, states, proc=None):
    """Poll the node-role until its state is one of @states (never asserted on time: WAIT only ends a hang)."""
    deadline = time.time() + WAIT
    while time.time() < deadline and (proc is None or proc.poll() is None):
        nr = node_role(lab, dep, node, role)
        if nr.get('state') in states:
            return nr
        time.sleep(0.1)
    return node_role(lab, dep, node, role)


def annealer(t, lab, s3):
    """10. The annealer's conduits jig: a node-role that waits for the node's agent."""
    roles = {'netd:roles': {'role': [
        {'name': 'net', 'jig': 'conduits', 'timeout': 30},
        {'name': 'net-bad', 'jig': 'conduits', 'timeout': 30, 'retry': {'attempts': 1}},
        {'name': 'net-rb', 'jig': 'conduits', 'timeout': 30, 'retry': {'attempts': 1}},
        {'name': 'net-none', 'jig': 'conduits', 'timeout': 2, 'retry': {'attempts': 1}}]}}
    code, body = lab.curl('PUT', '/restconf/data/netd:roles', roles)
    t.ok(code in (201, 204), 'model: roles net, net-bad, net-rb, net-none with jig conduits', str(body))
    # a. the run asks first (no agent yet), then an agent in --watch mode answers it
    code, body = node_networks(lab, [{'name': 'mgmt', 'ipv4-hint': '198.18.0.10'}, {'name': 'backup'}])
    t.ok(code == 204, 'model: n1 leaves public', str(body))
    code, body = lab.curl('PUT', '/restconf/data/netd:deployments', {'netd:deployments': {'deployment': [
        {'name': 'dn', 'node': ['n1'], 'role': ['net']}]}})
    code2, body2 = lab.curl('POST', '/restconf/operations/netd:commit-deployment',
                            {'netd:input': {'deployment': 'dn'}})
    t.ok(code == 201 and code2 == 204, 'model: deployment dn (n1, net) committed', f'{code} {body} {code2} {body2}')
    nr = wait_role(lab, 'dn', 'n1', 'net', ('transition', 'active', 'error'))
    t.ok(nr.get('state') == 'transition', 'conduits jig: the node-role waits for the agent', json.dumps(nr))
    t.ok(any('br-public' in x for x in lab.snap()), 'conduits jig: nothing changed on the node yet')
    agent = subprocess.Popen(lab.agent_args('--watch', '1'), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    lab.procs.append(agent)
    nr = wait_role(lab, 'dn', 'n1', 'net', ('active', 'error'), agent)
    st = lab.state()
    gen = str(st.get('plan-generation'))
    snap = lab.snap()
    t.ok(nr.get('state') == 'active', 'conduits jig: active once the agent applied', json.dumps(nr))
    t.ok(not any('br-public' in x or 'nic2' in x.split()[1:2] and 'master=br' in x for x in snap) and
         has(snap, 'link nic1.300 kind=macvlan master=- mtu=1500 alias=netd:intf1/backup up=True'),
         'conduits jig: the kernel has the plan (public gone, backup kept)', '\n'.join(snap))
    t.ok(re.fullmatch(rf'node n1: applied \(generation {gen}, [1-9][0-9]* changes?\)', nr.get('summary', '')),
         'conduits jig: summary is the agent\'s report for the current generation', json.dumps(nr))
    log = nr.get('log', '')
    t.ok(f'reported applied for plan generation {gen}' in log and 'device nic1.300 vlan 300 on nic1' in log and
         'address 10.40.0.10/24 on nic1.300' in log and 'route 0.0.0.0/0 via 198.18.0.1 dev up0' in log and
         'br-public' not in log, 'conduits jig: the log has the report and the plan applied', log)

    # b. a model change re-runs the node-role; the watching agent answers within its interval
    code, body = node_networks(lab, [{'name': 'mgmt', 'ipv4-hint': '198.18.0.10'}, {'name': 'public'},
                                     {'name': 'backup'}])
    t.ok(code == 204, 'model: n1 joins public again', str(body))
    deadline = time.time() + WAIT
    while time.time() < deadline and agent.poll() is None:
        nr = node_role(lab, 'dn', 'n1', 'net')
        if nr.get('state') == 'active' and int(nr.get('run-count', 0)) >= 2:
            break
        time.sleep(0.1)
    gen2 = str(lab.state().get('plan-generation'))
    t.ok(nr.get('state') == 'active' and int(nr.get('run-count', 0)) == 2 and gen2 != gen and
         re.fullmatch(rf'node n1: (applied|unchanged) \(generation {gen2}, [0-9]+ changes?\)', nr.get('summary', '')),
         'conduits jig: the node change ran the node-role again, answered for the new generation', json.dumps(nr))
    t.ok(wait_for(lambda: lab.snap() == s3, agent), 'conduits jig: public is back on the node', '\n'.join(lab.snap()))

    # c. an agent that cannot apply: the node-role fails with the agent's error
    t.ok(conduits(lab, '10g5', True)[0] == 204, 'model: intf2 asks for 10g5 (unresolvable on n1)')
    lab.curl('PUT', '/restconf/data/netd:deployments/deployment=dn',
             {'netd:deployment': [{'name': 'dn', 'node': ['n1'], 'role': ['net', 'net-bad']}]})
    code, body = lab.curl('POST', '/restconf/operations/netd:commit-deployment', {'netd:input': {'deployment': 'dn'}})
    t.ok(code == 204, 'model: role net-bad added to dn, committed', str(body))
    nr = wait_role(lab, 'dn', 'n1', 'net-bad', ('active', 'error'), agent)
    t.ok(nr.get('state') == 'error' and 'conduit intf2' in nr.get('summary', '') and '10g5' in nr.get('summary', '')
         and 'NICs seen' in nr.get('log', '') and 'reported failed' in nr.get('log', ''),
         'conduits jig: error, with the agent\'s error in summary and log', json.dumps(nr))
    t.ok(lab.snap() == s3, 'conduits jig: the failing agent left the node as it was')
    t.ok(conduits(lab, '10g2', True)[0] == 204, 'model: intf2 back to 10g2')
    agent.terminate()
    try:
        out, err = agent.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        agent.kill()
        out, err = agent.communicate()
    lab.outputs.append(out + err)
    t.ok(re.search(r'agent n1: generation \d+, change 1/\d+: ', err) is not None,
         'agent: each change is in its log', err[-2000:])

    # d. a change the agent rolls back (not confirmed: it cut the node off): failure, saying so
    code, body = set_network(lab, 'public', ipv4={'router': '10.30.0.1', 'router-pref': 5})
    t.ok(code == 204, 'model: public gets a router preferred over mgmt\'s', str(body))
    lab.curl('PUT', '/restconf/data/netd:deployments/deployment=dn',
             {'netd:deployment': [{'name': 'dn', 'node': ['n1'], 'role': ['net', 'net-bad', 'net-rb']}]})
    code, body = lab.curl('POST', '/restconf/operations/netd:commit-deployment', {'netd:input': {'deployment': 'dn'}})
    nr = wait_role(lab, 'dn', 'n1', 'net-rb', ('transition', 'active', 'error'))
    t.ok(code == 204 and nr.get('state') == 'transition', 'model: role net-rb added, committed; it waits', str(body))
    r = lab.agent()
    nr = wait_role(lab, 'dn', 'n1', 'net-rb', ('active', 'error'))
    t.ok(r.returncode == 1 and 'rolled-back' in r.stdout and nr.get('state') == 'error' and
         nr.get('summary', '').startswith('node n1: rolled back: no confirmation within 3 s') and
         'reported rolled-back for plan generation' in nr.get('log', ''),
         'conduits jig: a rolled-back change is an error that says so', r.stdout + json.dumps(nr))
    t.ok(lab.snap() == s3, 'conduits jig: the node is as before the change', '\n'.join(lab.snap()))
    t.ok(set_network(lab, 'public', ipv4={'router-pref': 200})[0] == 204, 'model: public\'s router no longer preferred')

    # e. no agent: the run fails at the role's timeout, saying what to check
    lab.curl('PUT', '/restconf/data/netd:deployments/deployment=dn',
             {'netd:deployment': [{'name': 'dn', 'node': ['n1'], 'role': ['net', 'net-bad', 'net-rb', 'net-none']}]})
    code, body = lab.curl('POST', '/restconf/operations/netd:commit-deployment', {'netd:input': {'deployment': 'dn'}})
    t.ok(code == 204, 'model: role net-none (timeout 2 s) added, committed; no agent runs', str(body))
    nr = wait_role(lab, 'dn', 'n1', 'net-none', ('active', 'error'))
    t.ok(nr.get('state') == 'error' and nr.get('summary') ==
         'no report from n1\'s agent within 2 s: is `netd --agent --node n1 --watch` running?',
         'conduits jig: no agent -> error after the role\'s timeout, naming the command', json.dumps(nr))
    t.ok('no plan was handed out to n1 since the run began' in nr.get('log', '') and
         'last report: rolled-back' in nr.get('log', ''), 'conduits jig: the timeout\'s log shows the last report',
         nr.get('log', ''))

    # f. netd stops while a run waits: the run is queued again at the start and ends when the agent applies
    lab.curl('DELETE', '/restconf/data/netd:deployments')
    code, body = node_networks(lab, [{'name': 'mgmt', 'ipv4-hint': '198.18.0.10'}, {'name': 'backup'}])
    code2, _ = lab.curl('PUT', '/restconf/data/netd:deployments', {'netd:deployments': {'deployment': [
        {'name': 'dr', 'node': ['n1'], 'role': ['net']}]}})
    code3, _ = lab.curl('POST', '/restconf/operations/netd:commit-deployment', {'netd:input': {'deployment': 'dr'}})
    nr = wait_role(lab, 'dr', 'n1', 'net', ('transition', 'active', 'error'))
    t.ok((code, code2, code3) == (204, 201, 204) and nr.get('state') == 'transition',
         'model: n1 leaves public; deployment dr (n1, net) waits for the agent', f'{code} {code2} {code3} {body}')
    rc = lab.restart_netd()
    nr = node_role(lab, 'dr', 'n1', 'net')
    t.ok(rc == 0 and nr.get('state') == 'transition', 'netd stopped (exit 0) and started again: the run waits again',
         json.dumps(nr))
    agent = subprocess.Popen(lab.agent_args('--watch', '1'), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    lab.procs.append(agent)
    nr = wait_role(lab, 'dr', 'n1', 'net', ('active', 'error'), agent)
    agent.terminate()
    try:
        out, err = agent.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        agent.kill()
        out, err = agent.communicate()
    lab.outputs.append(out + err)
    t.ok(nr.get('state') == 'active' and nr.get('summary', '').startswith('node n1: applied (generation ') and
         not any('br-public' in x for x in lab.snap()),
         'after the restart: active once the agent applied', json.dumps(nr) + '\n'.join(lab.snap()))
    lab.curl('DELETE', '/restconf/data/netd:deployments')


def main():
    if os.geteuid() != 0:
        print('SKIP: needs root (network namespaces)')
        sys.exit(77)
    netd, netctl = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    t = Checks()
    work = tempdir('netd-cdt-agent-')
    lab = Lab(netd, netctl, work)
    try:
        lab.up()
        run(t, lab)
    finally:
        lab.down()
        log = open(lab.log, errors='replace').read() if os.path.exists(lab.log) else ''
        t.ok(not SANITIZER.search(log), 'netd: no sanitizer reports', log[-3000:])
        bad = [o for o in lab.outputs if SANITIZER.search(o)]
        t.ok(not bad, 'agent and netctl: no sanitizer reports', bad[0][-3000:] if bad else '')
        cleanup(work)
    t.done()


if __name__ == '__main__':
    main()
