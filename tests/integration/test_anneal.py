#!/usr/bin/env python3
"""The annealer end to end against a real netd: exec jigs (shell scripts
written at test time) append "start|end NODE ROLE NS" lines to a log under
flock, and the order in that log (a total order: every line is appended
under one lock) is checked against the parents netd bound.

  1. 50 nodes x 10 roles (an implicit role, a cluster role, same-node and
     cross-node requires): every dependency respected, no node runs two
     transitions at once, each node-role ran exactly once, RESTCONF shows
     all active with run-count 1 and the parents as bound;
  2. failure injection: a role failing twice then succeeding (active,
     attempts 3); a role failing on one node (error with its log, only its
     descendants blocked, deployment state error), retry-node-role after the
     fix converges;
  3. kill -9 of netd mid-converge, restart on the same store: converges,
     every node-role ran, dependencies still respected;
  4. invalidation: an alias added to an active node re-runs exactly its
     node-roles and their descendants, in order;
  5. the ipam jig's log lists the node's addresses; bad input is refused
     with the path and the reason; the events under /netd:anneal.

usage: test_anneal.py PATH-TO-NETD
"""
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdtest import Checks, Client, Netd, cleanup, error_of, tempdir  # noqa: E402

MAIN_NODES = [f'm{i:02d}' for i in range(50)]
FAIL_NODES = [f'f{i}' for i in range(4)]
KILL_NODES = [f'k{i:02d}' for i in range(20)]
IPAM_NODES = ['i0', 'i1']

# The script every exec role runs (argv: deployment node role).  Its
# behaviour comes from the role's attributes (env NETD_ATTR_*).
SCRIPT = r'''#!/bin/sh
node=$2 role=$3 log=$NETD_ATTR_LOG
line() { ( flock 9; echo "$1 $node $role $(date +%s%N)" >> "$log" ) 9>>"$log.lock"; }
line start
if [ -n "$NETD_ATTR_INDIR" ]; then cat > "$NETD_ATTR_INDIR/$node.$role.json"; fi
sleep "${NETD_ATTR_SLEEP:-0.005}"
rc=0
case "$NETD_ATTR_MODE" in
flaky)
    f="$NETD_ATTR_STATE/$node.$role"
    c=$(cat "$f" 2>/dev/null || echo 0); c=$((c + 1)); echo $c > "$f"
    if [ $c -lt 3 ]; then echo "flaky: attempt $c fails"; rc=1; fi ;;
broken)
    if [ "$node" = "$NETD_ATTR_BADNODE" ] && [ ! -e "$NETD_ATTR_STATE/fixed" ]; then
        echo "broken on $node: the fix is missing"; rc=1
    fi ;;
esac
line end
exit $rc
'''

NETWORKS = [
    {'name': 'admin', 'primary': True,
     'ipv4': {'subnet': '10.40.0.0/22', 'range': [{'name': 'host', 'first': '10.40.0.10', 'last': '10.40.3.250'}]},
     'ipv6': {'prefix': 'fd00:40::/64'}},
    {'name': 'storage', 'ipv4': {'subnet': '10.41.0.0/22',
                                 'range': [{'name': 'host', 'first': '10.41.0.10', 'last': '10.41.3.250'}]}},
]


class Env:
    def __init__(self, work):
        self.work = work
        self.script = os.path.join(work, 'run.sh')
        self.state = os.path.join(work, 'state')
        self.indir = os.path.join(work, 'inputs')
        os.makedirs(self.state)
        os.makedirs(self.indir)
        with open(self.script, 'w') as f:
            f.write(SCRIPT)
        os.chmod(self.script, 0o755)

    def log(self, name):
        return os.path.join(self.work, name + '.log')

    def role(self, name, log, requires=(), **kw):
        attrs = [{'name': 'log', 'value': self.log(log)}]
        for k in ('mode', 'sleep', 'badnode', 'indir'):
            if k in kw:
                attrs.append({'name': k, 'value': kw.pop(k)})
        if 'mode' in [a['name'] for a in attrs]:
            attrs.append({'name': 'state', 'value': self.state})
        r = {'name': name, 'jig': 'exec', 'script': self.script, 'attribute': attrs, 'timeout': 60}
        if requires:
            r['requires'] = list(requires)
        r.update(kw)
        return r


def read_log(path):
    """[(kind, node, role)] in file order."""
    try:
        with open(path) as f:
            return [tuple(line.split()[:3]) for line in f if line.strip()]
    except OSError:
        return []


def rpc(c, name, **inp):
    return c.json('POST', f'/restconf/operations/netd:{name}', {'netd:input': inp})


def node_roles(c, dep):
    status, body = c.get('/restconf/data/netd:node-roles')
    if status != 200 or not body:
        return {}
    return {(x['node'], x['role']): x for x in body['netd:node-roles'].get('node-role', [])
            if x['deployment'] == dep}


def deployment(c, dep):
    status, body = c.get(f'/restconf/data/netd:deployments/deployment={dep}')
    if status != 200:
        return None
    return body['netd:deployment'][0]


def wait_for(pred, timeout, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def wait_settled(c, dep, timeout):
    """The deployment's counts once nothing is todo or in transition any more."""
    def settled():
        d = deployment(c, dep)
        if d and d.get('state') in ('active', 'error') and d['counts']['todo'] == 0 \
                and d['counts']['transition'] == 0:
            return d
        return None
    return wait_for(settled, timeout)


def check_order(t, events, parents, what, strict_nodes=True):
    """Every start of X comes after an end of each parent of X; with
    strict_nodes, a node never has two runs open at once."""
    ended, running, bad_dep, bad_node = {}, {}, [], []
    for i, (kind, node, role) in enumerate(events):
        key = (node, role)
        if kind == 'start':
            for p in parents.get(key, ()):
                if p not in ended:
                    bad_dep.append(f'{role}@{node} started before {p[1]}@{p[0]} ended (line {i + 1})')
            if strict_nodes and running.get(node):
                bad_node.append(f'{role}@{node} started while {running[node]} runs on {node} (line {i + 1})')
            running[node] = role
        elif kind == 'end':
            ended[key] = i
            running[node] = None
    t.ok(not bad_dep, f'{what}: every child started after all its parents ended', '; '.join(bad_dep[:5]))
    if strict_nodes:
        t.ok(not bad_node, f'{what}: no node ever ran two transitions at once', '; '.join(bad_node[:5]))


def parents_of(nrs):
    """(node, role) -> set of (node, role) from RESTCONF's parent lists."""
    out = {}
    for key, x in nrs.items():
        out[key] = {tuple(reversed(p.split('@', 1))) for p in x.get('parent', [])}
    return out


# ------------------------------------------------------------------ setup

def setup_model(t, c):
    for n in NETWORKS:
        status, body = c.json('POST', '/restconf/data/netd:networks', {'netd:network': [n]})
        t.ok(status == 201, f'network {n["name"]} created', str(body))
    codes = []
    for name in MAIN_NODES + FAIL_NODES + KILL_NODES:
        codes.append(c.json('POST', '/restconf/data/netd:nodes',
                            {'netd:node': [{'name': name, 'network': [{'name': 'admin'}]}]})[0])
    for name in IPAM_NODES:
        codes.append(c.json('POST', '/restconf/data/netd:nodes', {'netd:node': [
            {'name': name, 'network': [{'name': 'admin'}, {'name': 'storage'}]}]})[0])
    t.ok(codes.count(201) == len(codes), f'{len(codes)} nodes created', str(codes[:5]))


MAIN_REQUIRES = {
    'base': [], 'os': ['base'], 'net': ['os'], 'store': ['net'], 'quorum': ['net'], 'cache': ['net'],
    'db': ['quorum', 'store'], 'app': ['db', 'cache'], 'lb': ['app'], 'mon': ['app', 'lb'],
}


def roles(env):
    r = []
    for name, req in MAIN_REQUIRES.items():
        extra = {}
        if name == 'base':
            extra['implicit'] = True
        if name == 'quorum':
            extra['cluster'] = True
        if name == 'app':
            extra['indir'] = env.indir
        r.append(env.role(name, 'main', req, **extra))
    fast = {'backoff': 50, 'backoff-max': 200}
    r += [env.role('fbase', 'fail', retry=dict(fast, attempts=2)),
          env.role('flaky', 'fail', ['fbase'], mode='flaky', retry=dict(fast, attempts=3)),
          env.role('broken', 'fail', ['fbase'], mode='broken', badnode='f0', retry=dict(fast, attempts=2)),
          env.role('after', 'fail', ['broken']),
          env.role('side', 'fail', ['flaky'])]
    r += [env.role('k1', 'kill', sleep='0.2'), env.role('k2', 'kill', ['k1'], sleep='0.2'),
          env.role('kc', 'kill', ['k2'], sleep='0.2', cluster=True), env.role('k3', 'kill', ['kc'], sleep='0.2')]
    r.append({'name': 'addr', 'jig': 'ipam'})
    r.append({'name': 'dnsrec', 'jig': 'dns', 'requires': ['addr'], 'timeout': 20})
    return r


# -------------------------------------------------------------- scenarios

def expected_main_parents():
    exp = {}
    for node in MAIN_NODES:
        for role, req in MAIN_REQUIRES.items():
            ps = set()
            for q in req:
                if q == 'quorum':
                    ps |= {(n, 'quorum') for n in MAIN_NODES}
                else:
                    ps.add((node, q))
            exp[(node, role)] = ps
    return exp


def test_main(t, c, env):
    listed = [r for r in MAIN_REQUIRES if r != 'base']
    status, body = rpc(c, 'propose-deployment', deployment='main', node=MAIN_NODES, role=listed)
    t.ok(status == 204, 'propose main: 50 nodes x 9 roles', str(body))
    d = deployment(c, 'main')
    t.ok(d and d.get('state') == 'proposed', 'main is proposed before the commit', str(d))
    start = time.time()
    status, body = rpc(c, 'commit-deployment', deployment='main')
    t.ok(status == 204, 'commit main', str(body))
    d = wait_for(lambda: (lambda x: x if x and x.get('state') == 'active' else None)(deployment(c, 'main')), 60)
    t.ok(d is not None, f'main converges to active ({time.time() - start:.2f} s)', str(deployment(c, 'main')))
    nrs = node_roles(c, 'main')
    t.ok(len(nrs) == 500, '500 node-roles (450 listed + 50 implicit base)', str(len(nrs)))
    t.ok(all(x['state'] == 'active' and x['run-count'] == 1 and x['attempts'] == 1 for x in nrs.values()),
         'RESTCONF: every node-role active, run-count 1, attempts 1',
         str([x for x in nrs.values() if x['state'] != 'active' or x['run-count'] != 1][:3]))
    got = parents_of(nrs)
    exp = expected_main_parents()
    wrong = [k for k in exp if got.get(k) != exp[k]]
    t.ok(not wrong, 'parents as bound: same node, every quorum peer for the cluster role', str(wrong[:3]))
    t.ok(nrs[('m00', 'db')]['cohort'] == 4 and nrs[('m00', 'mon')]['cohort'] == 7,
         'cohorts: max of the parents + 1', str((nrs[('m00', 'db')]['cohort'], nrs[('m00', 'mon')]['cohort'])))

    events = read_log(env.log('main'))
    starts = {}
    for kind, node, role in events:
        if kind == 'start':
            starts[(node, role)] = starts.get((node, role), 0) + 1
    t.ok(len(starts) == 500 and all(v == 1 for v in starts.values()), 'the log: each node-role ran exactly once',
         f'{len(starts)} node-roles, reruns: {[k for k, v in starts.items() if v != 1][:5]}')
    check_order(t, events, exp, 'main')

    try:
        with open(os.path.join(env.indir, 'm03.app.json')) as f:
            inp = json.load(f)
    except (OSError, ValueError) as e:
        inp = {'error': repr(e)}
    node = (inp.get('data') or {}).get('netd:node', [{}])[0]
    t.ok(inp.get('deployment') == 'main' and inp.get('node') == 'm03' and inp.get('role') == 'app'
         and sorted(inp.get('parents', [])) == ['cache@m03', 'db@m03'] and node.get('name') == 'm03'
         and any(a.get('family') == 'ipv4' for a in node.get('address', []))
         and inp.get('attributes', {}).get('indir') == env.indir,
         'exec input on stdin: names, parents, attributes, the node with its addresses', json.dumps(inp)[:400])
    return exp


def test_failures(t, c, env):
    status, body = rpc(c, 'propose-deployment', deployment='fail', node=FAIL_NODES,
                       role=['fbase', 'flaky', 'broken', 'after', 'side'])
    t.ok(status == 204, 'propose the failure deployment', str(body))
    status, body = rpc(c, 'commit-deployment', deployment='fail')
    t.ok(status == 204, 'commit it', str(body))
    d = wait_settled(c, 'fail', 60)
    t.ok(d and d['state'] == 'error' and d['counts']['error'] == 1 and d['counts']['blocked'] == 1
         and d['counts']['active'] == 18, 'one error, its one descendant blocked, 18 active: state error', str(d))
    nrs = node_roles(c, 'fail')
    flaky = [nrs.get((n, 'flaky'), {}) for n in FAIL_NODES]
    t.ok(all(x.get('state') == 'active' and x.get('attempts') == 3 and x.get('run-count') == 1 for x in flaky),
         'failing twice then succeeding: active after 3 attempts', str(flaky[:2]))
    bad = nrs.get(('f0', 'broken'), {})
    t.ok(bad.get('state') == 'error' and bad.get('attempts') == 2 and 'the fix is missing' in bad.get('log', '')
         and bad.get('summary', '').startswith('exit 1'),
         'failing for good: error after its budget, its log and summary in RESTCONF', str(bad))
    t.ok(nrs.get(('f0', 'after'), {}).get('state') == 'blocked', 'its descendant is blocked',
         str(nrs.get(('f0', 'after'))))
    others = [k for k, x in nrs.items() if k not in (('f0', 'broken'), ('f0', 'after')) and x['state'] != 'active']
    t.ok(not others, 'unrelated node-roles all active', str(others))
    t.ok(not any(n == 'f0' and r == 'after' for _, n, r in read_log(env.log('fail'))),
         'the blocked descendant never ran')

    with open(os.path.join(env.state, 'fixed'), 'w') as f:
        f.write('1')
    status, body = rpc(c, 'retry-node-role', deployment='fail')
    t.ok(status == 200 and body == {'netd:output': {'retried': 1}}, 'retry-node-role: retried 1', str(body))
    now = deployment(c, 'fail') or {}
    t.ok('counts' in now and now['counts']['error'] == 0 and now['state'] != 'error',
         'a GET right after the retry answer no longer shows the node-role in error', str(now))
    d = wait_for(lambda: (lambda x: x if x and x.get('state') == 'active' else None)(deployment(c, 'fail')), 30)
    t.ok(d is not None, 'after the fix and the retry the deployment converges to active', str(deployment(c, 'fail')))
    nrs = node_roles(c, 'fail')
    t.ok(nrs[('f0', 'broken')]['state'] == 'active' and nrs[('f0', 'after')]['state'] == 'active',
         'the retried node-role and its descendant are active', str(nrs[('f0', 'after')]))
    status, body = rpc(c, 'retry-node-role', deployment='fail', node='f1')
    t.ok(status == 200 and body == {'netd:output': {'retried': 0}}, 'retry with nothing in error: retried 0',
         str(body))


def test_kill(t, netd, c, env):
    status, body = rpc(c, 'propose-deployment', deployment='kill', node=KILL_NODES, role=['k1', 'k2', 'kc', 'k3'])
    t.ok(status == 204, 'propose the kill deployment (20 nodes, 4 roles of 0.2 s)', str(body))
    status, body = rpc(c, 'commit-deployment', deployment='kill')
    t.ok(status == 204, 'commit it', str(body))
    log = env.log('kill')
    wait_for(lambda: sum(1 for e in read_log(log) if e[0] == 'end') >= 25, 30, 0.02)
    ended_before = sum(1 for e in read_log(log) if e[0] == 'end')
    netd.stop(signal.SIGKILL)
    t.ok(0 < ended_before < 80, f'netd killed with -9 mid-converge ({ended_before} of 80 runs ended)')
    time.sleep(0.5)   # the killed netd's scripts run on: let them end
    netd.start()
    d = wait_for(lambda: (lambda x: x if x and x.get('state') == 'active' else None)(deployment(c, 'kill')), 60)
    t.ok(d is not None, 'after the restart on the same store it converges to active', str(deployment(c, 'kill')))
    nrs = node_roles(c, 'kill')
    t.ok(len(nrs) == 80 and all(x['state'] == 'active' for x in nrs.values()), 'all 80 node-roles active',
         str(len(nrs)))
    events = read_log(log)
    ran = {(n, r) for k, n, r in events if k == 'start'}
    t.ok(len(ran) == 80, 'every node-role ran at least once', str(80 - len(ran)))
    check_order(t, events, parents_of(nrs), 'kill -9 and restart', strict_nodes=False)
    with open(netd.log) as f:
        loaded = [line for line in f if 'queued again after a stop in transition' in line]
    recovered = re.search(r'(\d+) queued again', loaded[-1]) if loaded else None
    t.ok(len(loaded) == 2 and recovered and int(recovered.group(1)) > 0,
         'the restart queued again the node-roles that were in transition', loaded[-1] if loaded else '')


def test_invalidation(t, c, env, parents):
    before = len(read_log(env.log('main')))
    children = {}
    for child, ps in parents.items():
        for p in ps:
            children.setdefault(p, set()).add(child)
    expect, todo = set(), [(('m07', r)) for r in MAIN_REQUIRES]
    while todo:
        k = todo.pop()
        if k not in expect:
            expect.add(k)
            todo.extend(children.get(k, ()))
    status, body = c.json('PATCH', '/restconf/data/netd:nodes/node=m07',
                          {'netd:node': [{'name': 'm07', 'alias': ['m07-alt.lab.example']}]})
    t.ok(status in (200, 204), 'alias added to active node m07', str(body))

    def rerun_done():
        nrs = node_roles(c, 'main')
        if sum(x['run-count'] for x in nrs.values()) == 500 + len(expect) and \
                all(x['state'] == 'active' for x in nrs.values()):
            return nrs
        return None
    nrs = wait_for(rerun_done, 60)
    t.ok(nrs is not None, f'the {len(expect)} node-roles of m07 and their descendants ran again, all active',
         str(sum(x['run-count'] for x in node_roles(c, 'main').values())))
    time.sleep(0.3)
    events = read_log(env.log('main'))[before:]
    again = {}
    for kind, node, role in events:
        if kind == 'start':
            again[(node, role)] = again.get((node, role), 0) + 1
    t.ok(set(again) == expect and all(v == 1 for v in again.values()),
         'the log: exactly those re-ran, once each, nothing else',
         f'extra {sorted(set(again) - expect)[:5]} missing {sorted(expect - set(again))[:5]}')
    # parents that did not re-run were active all along
    check_order(t, events, {k: {p for p in ps if p in expect} for k, ps in parents.items()}, 'the re-runs')


def test_ipam_and_bad_input(t, c):
    status, body = rpc(c, 'propose-deployment', deployment='ipdep', node=IPAM_NODES, role=['addr', 'dnsrec'])
    rpc(c, 'commit-deployment', deployment='ipdep')
    d = wait_for(lambda: (lambda x: x if x and x.get('state') == 'active' else None)(deployment(c, 'ipdep')), 60)
    t.ok(d is not None, 'the ipam jig deployment converges',
         str([(k, x['state'], x.get('summary')) for k, x in node_roles(c, 'ipdep').items()]))
    nrs = node_roles(c, 'ipdep')
    status, body = c.get('/restconf/data/netd:nodes/node=i0')
    addrs = [a['address'] for a in body['netd:node'][0].get('address', [])] if status == 200 else []
    log = nrs.get(('i0', 'addr'), {}).get('log', '')
    t.ok(len(addrs) == 3 and all(a in log for a in addrs), 'the ipam jig log lists the node\'s 3 addresses',
         f'{addrs} vs {log!r}')
    dns = nrs.get(('i0', 'dnsrec'), {})
    t.ok(dns.get('state') == 'active' and dns.get('parent') == ['addr@i0']
         and dns.get('summary') in ('no DNS records intended for node i0', '0 records verified'),
         'the dns jig after it: no domain on these networks, nothing to wait for', str(dns))

    status, body = c.json('POST', '/restconf/data/netd:roles', {'netd:role': [{'name': 'web', 'requires': ['dbx']}]})
    t.ok(status == 201, 'a role requiring a role not defined yet is accepted', str(body))
    status, body = c.json('POST', '/restconf/data/netd:roles', {'netd:role': [{'name': 'dbx', 'requires': ['web']}]})
    tag, path, msg = error_of(body)
    t.ok(status == 400 and msg == 'cycle: web -> dbx -> web' and path == "/netd:roles/role[name='web']/requires",
         'a cycle in roles is refused, the cycle named', f'{status} {path} {msg}')
    status, body = c.json('POST', '/restconf/data/netd:roles', {'netd:role': [{'name': 'x', 'jig': 'chef'}]})
    tag, path, msg = error_of(body)
    t.ok(status == 400 and "'chef'" in msg and path.endswith("/role[name='x']/jig"), 'an unknown jig is refused',
         f'{status} {path} {msg}')
    status, body = rpc(c, 'propose-deployment', deployment='main', node=['ghost'])
    tag, path, msg = error_of(body)
    t.ok(status == 400 and "'ghost'" in msg and path == '/netd:propose-deployment/node',
         'propose with an unknown node is refused, naming it', f'{status} {path} {msg}')
    status, body = c.json('POST', '/restconf/data/netd:deployments',
                          {'netd:deployment': [{'name': 'bad', 'node': ['ghost2']}]})
    tag, path, msg = error_of(body)
    t.ok(status == 400 and "'ghost2'" in msg and path == "/netd:deployments/deployment[name='bad']/node",
         'a deployment edit with an unknown node is refused', f'{status} {path} {msg}')
    status, body = rpc(c, 'commit-deployment', deployment='nowhere')
    tag, path, msg = error_of(body)
    t.ok(status == 404 and "'nowhere'" in msg and path == '/netd:commit-deployment/deployment',
         'commit of an unknown deployment is an error', f'{status} {path} {msg}')
    status, body = c.json('DELETE', '/restconf/data/netd:roles/role=addr')
    tag, path, msg = error_of(body)
    t.ok(status == 409 and 'ipdep' in msg, 'a role a deployment uses cannot be deleted', f'{status} {path} {msg}')
    d = deployment(c, 'main')
    t.ok(d and 'ghost' not in d.get('node', []) and len(d.get('node', [])) == 50, 'nothing of the refused edits stays',
         str(d and len(d.get('node', []))))


def test_changes(t, c):
    """A rename and a removal rebuild the annealer from the store; a node
    deleted from the model fails its next run."""
    status, body = rpc(c, 'rename-node', **{'from': 'i1', 'to': 'i9'})
    t.ok(status == 204, 'rename-node i1 -> i9', str(body))

    def renamed():
        nrs = node_roles(c, 'ipdep')
        x = nrs.get(('i9', 'addr'), {})
        return nrs if x.get('state') == 'active' and x.get('run-count') == 2 else None
    nrs = wait_for(renamed, 30)
    d = deployment(c, 'ipdep')
    t.ok(nrs is not None and {k for k in nrs if k[1] == 'addr'} == {('i0', 'addr'), ('i9', 'addr')}
         and ('i9', 'dnsrec') in nrs and d and 'i9' in d['node']
         and 'i1' not in d['node'], 'the renamed node\'s node-role moved with it and ran again',
         f'{sorted(node_roles(c, "ipdep"))} {d}')
    status, body = c.json('DELETE', '/restconf/data/netd:deployments/deployment=ipdep/node=i0')
    t.ok(status == 204, 'node i0 removed from deployment ipdep', str(body))
    nrs = wait_for(lambda: (lambda x: x if set(x) == {('i9', 'addr'), ('i9', 'dnsrec')} else None)(
        node_roles(c, 'ipdep')), 30)
    t.ok(nrs is not None, 'its node-role is gone, the other stays', str(sorted(node_roles(c, 'ipdep'))))

    status, body = c.json('DELETE', '/restconf/data/netd:nodes/node=f3')
    t.ok(status == 204, 'node f3 deleted from the model', str(body))
    d = wait_settled(c, 'fail', 30)
    nrs = node_roles(c, 'fail')
    base = nrs.get(('f3', 'fbase'), {})
    t.ok(d and d['state'] == 'error' and base.get('state') == 'error'
         and base.get('summary') == 'node f3 is not in the model'
         and all(nrs[('f3', r)]['state'] == 'blocked' for r in ('flaky', 'broken', 'after', 'side'))
         and all(x['state'] == 'active' for (n, _), x in nrs.items() if n != 'f3'),
         'its node-roles ran again and failed naming it; descendants blocked, other nodes untouched',
         f'{d} {base}')


def test_role_change_and_restart(t, netd, c, env):
    """A role's attributes are part of its node-roles' inputs; a clean
    restart runs nothing again."""
    status, body = c.json('PATCH', '/restconf/data/netd:roles/role=side',
                          {'netd:role': [{'name': 'side', 'attribute': [{'name': 'colour', 'value': 'blue'}]}]})
    t.ok(status in (200, 204), 'an attribute added to role side', str(body))

    def rerun():
        nrs = node_roles(c, 'fail')
        xs = [nrs[(n, 'side')] for n in FAIL_NODES[:3]]
        return nrs if all(x['run-count'] == 2 and x['state'] == 'active' for x in xs) else None
    nrs = wait_for(rerun, 30)
    t.ok(nrs is not None and all(x['run-count'] == 1 for (n, r), x in nrs.items() if r != 'side'),
         'its active node-roles ran again, nothing else did', str(nrs and [x for x in nrs.values()][:2]))

    before = {k: (x['state'], x['run-count']) for k, x in node_roles(c, 'main').items()}
    lines = len(read_log(env.log('main')))
    rc = netd.stop()
    netd.start()
    time.sleep(0.5)
    after = {k: (x['state'], x['run-count']) for k, x in node_roles(c, 'main').items()}
    t.ok(rc == 0 and before == after and len(before) == 500 and len(read_log(env.log('main'))) == lines,
         'a clean restart keeps every state and runs nothing again', f'{rc} {len(before)} {len(after)}')


def test_events(t, c):
    status, body = c.get('/restconf/data/netd:anneal')
    a = body.get('netd:anneal', {}) if status == 200 and body else {}
    evs = a.get('event', [])
    seqs = [int(e['seq']) for e in evs]
    t.ok(len(evs) == 100 and seqs == sorted(seqs) and seqs[-1] - seqs[0] == 99,
         'GET /netd:anneal: the last 100 transitions in order', str(seqs[:3]))
    t.ok(all(e['from'] != e['to'] and e.get('cause') is not None and e.get('at') for e in evs)
         and any(e['from'] == 'transition' and e['to'] == 'active' for e in evs),
         'events carry old -> new states, cause and time', json.dumps(evs[-1]))
    t.ok(a.get('running') == 0 and a.get('queued') == 0, 'nothing running or queued at rest', str(a))
    t.ok(any(e['to'] == 'error' and 'not in the model' in e['cause'] for e in evs),
         'the cause of an error names the reason', json.dumps(evs[-3:]))


def main():
    binary = sys.argv[1]
    t = Checks()
    work = tempdir('netd-anneal-')
    env = Env(work)
    netd = Netd(binary, work)
    try:
        netd.start()
        c = Client(netd.base, auth_header=f'Authorization: Bearer {netd.token()}')
        setup_model(t, c)
        status, body = c.json('PUT', '/restconf/data/netd:roles', {'netd:roles': {'role': roles(env)}})
        t.ok(status in (201, 204), 'roles defined', str(body))
        parents = test_main(t, c, env)
        test_failures(t, c, env)
        test_kill(t, netd, c, env)
        test_invalidation(t, c, env, parents)
        test_ipam_and_bad_input(t, c)
        test_changes(t, c)
        test_role_change_and_restart(t, netd, c, env)
        test_events(t, c)
        rc = netd.stop()
        t.ok(rc == 0, 'netd exits 0', f'{rc}: {netd.tail_log()}')
    except Exception as e:  # a crash of the harness is a failure, with the log
        t.ok(False, 'harness', f'{e!r}\n{netd.tail_log()}')
    finally:
        netd.stop(timeout=5)
        cleanup(work)
    t.done()


if __name__ == '__main__':
    main()
