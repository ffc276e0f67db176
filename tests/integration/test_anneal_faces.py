#!/usr/bin/env python3
"""The annealer's faces against a real netd: the RESTCONF event stream
(server-sent events at /restconf/streams/netd/json) and `netctl anneal`.

Roles run through the exec jig (shell scripts in a temporary directory that
sleep ~50 ms); a deployment of 10 nodes x 3 chained roles is watched by two
SSE clients connected before the commit and by `netctl anneal watch`. Then
replay with Last-Event-ID and ?after=, authentication, the stream limit,
a failing role (status with its log tail, watch exiting 1, retry), and
SIGTERM while streams are open.

usage: test_anneal_faces.py PATH-TO-NETD PATH-TO-NETCTL
"""
import hashlib
import http.client
import json
import os
import pty
import re
import signal
import socket
import stat
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdtest import Checks, Client, Netd, cleanup, error_of, tempdir  # noqa: E402

STREAM = '/restconf/streams/netd/json'
ADMIN = 'anneal-faces-admin-token-0123456789'
READER = 'anneal-faces-reader-token-0123456789'
SANITIZER = re.compile(r'ERROR: \w*Sanitizer|runtime error|SUMMARY: \w*Sanitizer')
NODES = [f'n{i:02d}' for i in range(10)]
DEADLINE = 180   # seconds: only keeps a broken run from hanging, never asserted


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


class Stream(threading.Thread):
    """One SSE client: connects in the constructor, collects events in run()."""

    def __init__(self, port, token=None, last_id=None, query=''):
        super().__init__(daemon=True)
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=DEADLINE)
        headers = {'Accept': 'text/event-stream'}
        if token:
            headers['Authorization'] = f'Bearer {token}'
        if last_id is not None:
            headers['Last-Event-ID'] = str(last_id)
        self.conn.request('GET', STREAM + query, headers=headers)
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.ctype = self.resp.getheader('Content-Type', '')
        self.events = []      # (id, data)
        self.comments = []
        self.fields = []      # other fields (retry: ...)
        self.eof = False
        self.error = None
        self.cv = threading.Condition()
        if self.status == 200:
            self.start()
        else:
            self.body = self.resp.read().decode(errors='replace')

    def run(self):
        ev_id, data = None, []
        try:
            while True:
                raw = self.resp.readline()
                if not raw:
                    break
                line = raw.decode().rstrip('\r\n')
                if line == '':
                    if data:
                        with self.cv:
                            self.events.append((ev_id, '\n'.join(data)))
                            self.cv.notify_all()
                    ev_id, data = None, []
                elif line.startswith(':'):
                    with self.cv:
                        self.comments.append(line)
                        self.cv.notify_all()
                else:
                    field, _, value = line.partition(':')
                    value = value[1:] if value.startswith(' ') else value
                    if field == 'id':
                        ev_id = int(value)
                    elif field == 'data':
                        data.append(value)
                    else:
                        self.fields.append((field, value))
        except (OSError, ValueError, http.client.HTTPException) as e:
            self.error = e
        finally:
            with self.cv:
                self.eof = True
                self.cv.notify_all()

    def wait(self, pred, timeout=DEADLINE):
        with self.cv:
            self.cv.wait_for(lambda: self.eof or pred(self), timeout)
            return pred(self)

    def wait_eof(self, timeout):
        with self.cv:
            return self.cv.wait_for(lambda: self.eof, timeout)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()
        if self.is_alive():
            self.join(10)

    def ids(self):
        with self.cv:
            return [i for i, _ in self.events]


def transition(data):
    """The netd:node-role-transition of one event's data, or None."""
    try:
        notif = json.loads(data)['ietf-restconf:notification']
        body = notif['netd:node-role-transition']
        return dict(body, eventTime=notif.get('eventTime'))
    except (ValueError, KeyError, TypeError):
        return None


def of_deployment(stream, dep):
    with stream.cv:
        evs = list(stream.events)
    return [(i, transition(d)) for i, d in evs if (transition(d) or {}).get('deployment') == dep]


def active_count(stream, dep):
    return sum(1 for _, t in of_deployment(stream, dep) if t['to'] == 'active')


def write_script(path, text):
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return path


# netctl's stderr of every run, scanned for sanitizer reports at the end
NETCTL_ERR = []


class Netctl:
    def __init__(self, binary, base, token_file):
        self.argv = [binary, '--server', base, '--token-file', token_file]

    def run(self, *args):
        p = subprocess.run(self.argv + list(args), capture_output=True, text=True, timeout=DEADLINE,
                           stdin=subprocess.DEVNULL)
        NETCTL_ERR.append(p.stderr)
        return p.returncode, p.stdout, p.stderr

    def run_tty(self, *args):
        """Run with stdout on a pseudo-terminal; (status, what it printed)."""
        master, slave = pty.openpty()
        p = subprocess.Popen(self.argv + list(args), stdout=slave, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)
        os.close(slave)
        out = b''
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:   # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        err = p.stderr.read().decode(errors='replace')
        p.wait(DEADLINE)
        NETCTL_ERR.append(err)
        return p.returncode, out.decode(errors='replace')

    def start(self, *args):
        return subprocess.Popen(self.argv + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, stdin=subprocess.DEVNULL)


def finish(proc):
    try:
        out, err = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    NETCTL_ERR.append(err)
    return proc.returncode, out, err


def put_role(api, name, script, requires=(), attempts=1):
    role = {'name': name, 'jig': 'exec', 'script': script, 'timeout': 60,
            'retry': {'attempts': attempts, 'backoff': 0}}
    if requires:
        role['requires'] = list(requires)
    return api.request('PUT', f'/restconf/data/netd:roles/role={name}', {'netd:role': [role]})[0]


def check_transitions(t, evs, dep, roles, nodes):
    """Every node-role's events chain (from = previous to), end active, and
    a role starts on a node only after the role it requires is active."""
    per = {}
    for seq, tr in evs:
        per.setdefault((tr['node'], tr['role']), []).append((seq, tr))
    chained = all(all(b[1]['from'] == a[1]['to'] for a, b in zip(v, v[1:])) for v in per.values())
    t.ok(chained, f'{dep}: each node-role\'s events chain (from = the previous to)')
    t.ok(len(per) == len(roles) * len(nodes) and all(v[-1][1]['to'] == 'active' for v in per.values()),
         f'{dep}: all {len(roles) * len(nodes)} node-roles end active',
         str({k: v[-1][1]['to'] for k, v in per.items() if v[-1][1]['to'] != 'active'}))
    ordered = True
    for node in nodes:
        for parent, child in zip(roles, roles[1:]):
            up = [s for s, tr in per.get((node, parent), []) if tr['to'] == 'active']
            run = [s for s, tr in per.get((node, child), []) if tr['to'] == 'transition']
            if not up or not run or min(run) < up[-1]:
                ordered = False
    t.ok(ordered, f'{dep}: on every node a role runs only after the role it requires is active')


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 64
    netd_bin, netctl_bin = sys.argv[1], sys.argv[2]
    t = Checks()
    work = tempdir('netd-anneal-faces-')
    logs = []
    try:
        run_main(t, work, netd_bin, netctl_bin, logs)
        run_limits(t, work, netd_bin, logs)
    finally:
        for log in logs:
            try:
                with open(log) as f:
                    text = f.read()
            except OSError:
                text = ''
            name = os.path.basename(os.path.dirname(log))
            t.ok(not SANITIZER.search(text), f'no sanitizer report in netd ({name})',
                 '\n'.join(text.splitlines()[-30:]))
            t.ok('warning' not in text and 'error:' not in text, f'no warning or error in netd\'s log ({name})',
                 '\n'.join(line for line in text.splitlines() if 'warning' in line or 'error:' in line))
        bad = [e for e in NETCTL_ERR if SANITIZER.search(e)]
        t.ok(not bad, f'no sanitizer report from netctl ({len(NETCTL_ERR)} runs)', (bad or [''])[0][-2000:])
        cleanup(work)
    t.done()


def start_netd(work, name, netd_bin, logs):
    d = os.path.join(work, name)
    os.makedirs(d)
    cfg = os.path.join(d, 'netd.json')
    with open(cfg, 'w') as f:
        json.dump({'netd-server:server': {'token': [
            {'name': 'admin', 'sha256': sha(ADMIN), 'role': 'admin'},
            {'name': 'reader', 'sha256': sha(READER), 'role': 'read-only'}]}}, f)
    n = Netd(netd_bin, d, config=cfg)
    logs.append(n.log)
    n.start()
    return n


def run_main(t, work, netd_bin, netctl_bin, logs):
    scripts = os.path.join(work, 'scripts')
    os.makedirs(scripts)
    ok = write_script(os.path.join(scripts, 'ok.sh'),
                      '#!/bin/sh\nsleep 0.05\necho "$NETD_ROLE on $NETD_NODE: done"\nexit 0\n')
    flag = os.path.join(scripts, 'broken')
    flaky = write_script(os.path.join(scripts, 'flaky.sh'),
                         '#!/bin/sh\nsleep 0.05\n'
                         'for i in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15; do echo "step $i"; done\n'
                         f'if [ -e {flag} ] && [ "$NETD_NODE" = n03 ]; then\n'
                         '  echo "boom: cannot configure $NETD_NODE" >&2\n  exit 3\nfi\nexit 0\n')
    token_file = os.path.join(work, 'admin.token')
    with open(token_file, 'w') as f:
        f.write(ADMIN + '\n')

    netd = start_netd(work, 'main', netd_bin, logs)
    api = Client(netd.base, auth_header=f'Authorization: Bearer {ADMIN}')
    ctl = Netctl(netctl_bin, netd.base, token_file)
    streams = []
    try:
        for node in NODES:
            api.request('POST', '/restconf/data/netd:nodes', {'netd:node': [{'name': node}]})
        codes = [put_role(api, 'r1', ok), put_role(api, 'r2', ok, ['r1']), put_role(api, 'r3', ok, ['r2']),
                 put_role(api, 'rf', flaky), put_role(api, 'rg', ok, ['rf'])]
        t.ok(all(c in (201, 204) for c in codes), 'five exec roles configured', str(codes))

        # -- discovery and refusals
        st, body = api.get('/restconf/data/ietf-restconf-monitoring:restconf-state/streams')
        loc = ''
        try:
            s0 = body['ietf-restconf-monitoring:streams']['stream'][0]
            loc = s0['access'][0]['location']
            t.ok(st == 200 and s0['name'] == 'netd' and s0['replay-support'] is True
                 and s0['access'][0]['encoding'] == 'json' and loc == netd.base + STREAM,
                 'restconf-state/streams names stream netd, replay support, its JSON location', json.dumps(body))
        except (TypeError, KeyError, IndexError):
            t.ok(False, 'restconf-state/streams answers', f'{st} {body}')
        s = Stream(netd.port)
        t.ok(s.status == 401 and error_of(json.loads(s.body))[0] == 'access-denied', 'stream without a token: 401',
             f'{s.status} {getattr(s, "body", "")}')
        s = Stream(netd.port, token='not-a-token')
        t.ok(s.status == 401, 'stream with a wrong token: 401', str(s.status))
        s = Stream(netd.port, token=READER, query='?foo=1')
        t.ok(s.status == 400 and 'foo' in s.body, 'stream with an unknown query parameter: 400', s.body)
        s = Stream(netd.port, token=READER, last_id='x12')
        t.ok(s.status == 400 and 'Last-Event-ID' in s.body, 'stream with a malformed Last-Event-ID: 400', s.body)

        idle = Stream(netd.port, token=READER)   # sees the events, then silence: a keepalive
        streams.append(idle)

        # -- a deployment of 10 nodes x 3 roles, watched from before its commit
        rc, out, err = ctl.run('anneal', 'propose', 'd1', '--node', *NODES, '--role', 'r1', 'r2', 'r3')
        t.ok(rc == 0 and 'deployment d1: proposed (10 nodes, 3 roles given)' in out,
             'netctl anneal propose d1 --node ... --role ...', out + err)
        s1 = Stream(netd.port, token=READER)   # read-only suffices
        s2 = Stream(netd.port, token=ADMIN)
        streams += [s1, s2]
        t.ok(s1.status == 200 and s2.status == 200 and s1.ctype.startswith('text/event-stream'),
             'two streams open (read-only and admin token), text/event-stream', f'{s1.status} {s2.status} {s1.ctype}')
        watch = ctl.start('anneal', 'watch', 'd1')
        t.ok(s1.wait(lambda s: any('event stream' in c for c in s.comments), 30),
             'the stream greets with a comment line before any event', str(s1.comments))
        # ordinary requests are answered while the streams sit suspended
        answered = 0
        for _ in range(50):
            c = http.client.HTTPConnection('127.0.0.1', netd.port, timeout=DEADLINE)
            c.request('GET', '/restconf/data/netd:status', headers={'Authorization': f'Bearer {READER}'})
            r = c.getresponse()
            r.read()
            answered += r.status == 200
            c.close()
        t.ok(answered == 50, '50 GETs answered while two streams (and netctl watch) are open', str(answered))

        rc, out, err = ctl.run('anneal', 'commit', 'd1')
        t.ok(rc == 0 and 'deployment d1: committed' in out, 'netctl anneal commit d1', out + err)
        rc, out, err = finish(watch)
        t.ok(rc == 0 and '30/30 active' in out and 'deployment d1: active' in out,
             'netctl anneal watch d1 exits 0 with "30/30 active"', f'rc={rc}\n{out}\n{err}')
        t.ok(all(re.fullmatch(r'\[[#.]{20}\] \d+/30 active, \d+ errors?, \d+ running'
                              r'( \(proposed: not committed yet\))?', line)
                 for line in out.splitlines()[:-1]),
             'watch (not a terminal) prints plain progress lines', out)

        got = s1.wait(lambda s: active_count(s, 'd1') >= 30)
        t.ok(got, 'stream 1 sees all 30 node-roles of d1 become active', str(len(s1.events)))
        s2.wait(lambda s: active_count(s, 'd1') >= 30)
        ids = s1.ids()
        t.ok(len(ids) > 0 and all(b > a for a, b in zip(ids, ids[1:])), 'event ids strictly increase',
             str(ids[:20]))
        trs = [transition(d) for _, d in s1.events]
        t.ok(all(tr and all(k in tr and tr[k] for k in ('deployment', 'node', 'role', 'from', 'to', 'eventTime'))
                 for tr in trs),
             'every event is an ietf-restconf:notification with a netd:node-role-transition naming '
             'deployment, node, role, from, to', str([d for (_, d), tr in zip(s1.events, trs) if not tr][:3]))
        d1 = of_deployment(s1, 'd1')
        check_transitions(t, d1, 'd1', ['r1', 'r2', 'r3'], NODES)
        t.ok(s1.events == s2.events[:len(s1.events)] or s2.events == s1.events[:len(s2.events)],
             'both streams carry the same events in the same order', f'{s1.ids()[:10]} / {s2.ids()[:10]}')

        # -- replay from the audit log
        mid = ids[len(ids) // 2]
        want = [(i, d) for i, d in s1.events if i > mid]
        r1 = Stream(netd.port, token=READER, last_id=mid)
        streams.append(r1)
        r1.wait(lambda s: len(s.events) >= len(want))
        t.ok(r1.status == 200 and r1.events == want,
             f'reconnect with Last-Event-ID {mid}: exactly the {len(want)} later events, replayed from the store',
             f'got {r1.ids()[:5]}... ({len(r1.events)}) want {[i for i, _ in want][:5]}... ({len(want)})')
        r2 = Stream(netd.port, token=READER, query=f'?after={mid}')
        streams.append(r2)
        r2.wait(lambda s: len(s.events) >= len(want))
        t.ok(r2.events == want, f'?after={mid}: the same events', str(r2.ids()[:5]))
        r3 = Stream(netd.port, token=READER, query='?after=0')
        streams.append(r3)
        r3.wait(lambda s: len(s.ids()) and s.ids()[-1] >= ids[-1])
        t.ok(r3.ids() and r3.ids()[0] == 1 and all(b == a + 1 for a, b in zip(r3.ids(), r3.ids()[1:]))
             and r3.events[-len(s1.events):] == s1.events,
             '?after=0: the whole audit log, seq 1, 2, ... ending with what was streamed live',
             str(r3.ids()[:5]))
        st, body = api.get('/restconf/data/netd:anneal')
        logged = {e['seq'] for e in (body or {}).get('netd:anneal', {}).get('event', [])}
        t.ok(st == 200 and str(ids[-1]) in {str(x) for x in logged},
             'the last streamed event is in /netd:anneal (the audit log)', f'{st} {sorted(logged)[-3:]}')

        rc, out = ctl.run_tty('anneal', 'watch', 'd1')
        t.ok(rc == 0 and '\r[####################] 30/30 active, 0 errors, 0 running\x1b[K' in out
             and 'deployment d1: active' in out,
             'watch on a terminal draws the progress line in place', repr(out))
        rc, out, err = ctl.run('anneal', 'status', 'd1')
        t.ok(rc == 0 and re.search(r'^d1\s+active\s+10\s+3\s+30\s+0\s+0\s+0\s+30\s+0\s+0\s*$', out, re.M),
             'netctl anneal status d1: one row, 30 active', out + err)

        # -- a failing role
        open(flag, 'w').close()
        rc, out, err = ctl.run('anneal', 'propose', 'd2', '--node=n00,n01,n02,n03,n04', '--role', 'rf,rg')
        t.ok(rc == 0, 'netctl anneal propose d2 with comma-separated values', out + err)
        mark = ids[-1]
        watch = ctl.start('anneal', 'watch', 'd2')
        rc, out, err = ctl.run('anneal', 'commit', 'd2')
        t.ok(rc == 0, 'netctl anneal commit d2', out + err)
        rc, out, err = finish(watch)
        t.ok(rc == 1 and 'error: role rf on node n03' in out and 'boom: cannot configure n03' in out
             and 'd2: 1 node-role in error' in err,
             'netctl anneal watch d2 exits 1 and prints the error with its log', f'rc={rc}\n{out}\n{err}')
        st, body = api.get('/restconf/data/netd:node-roles')
        bad = [nr for nr in (body or {}).get('netd:node-roles', {}).get('node-role', [])
               if nr.get('deployment') == 'd2' and nr.get('state') == 'error']
        summary = bad[0].get('summary', '') if bad else ''
        t.ok(len(bad) == 1 and bad[0]['node'] == 'n03' and summary, 'RESTCONF: rf on n03 in error, with a summary',
             json.dumps(bad))
        rc, out, err = ctl.run('anneal', 'status', 'd2')
        t.ok(rc == 0 and re.search(r'^d2\s+error\s+5\s+2\s+10\s', out, re.M)
             and 'error: role rf on node n03 (deployment d2' in out and summary in out
             and 'boom: cannot configure n03' in out and '| step 15' in out and 'step 01' not in out,
             'netctl anneal status d2: the error, its summary and the tail of its log', out + err)
        rc, out, err = ctl.run('anneal', 'status')
        t.ok(rc == 0 and re.search(r'^d1\s+active', out, re.M) and re.search(r'^d2\s+error', out, re.M),
             'netctl anneal status: every deployment', out)
        rc, out, err = ctl.run('--json', 'anneal', 'status', 'd2')
        try:
            doc = json.loads(out)
            t.ok(doc['netd:deployments']['deployment'][0]['name'] == 'd2'
                 and [nr['node'] for nr in doc['netd:node-roles']['node-role']] == ['n03'],
                 'netctl --json anneal status d2: netd\'s deployment and its node-role in error', out)
        except (ValueError, KeyError, IndexError, TypeError):
            t.ok(False, 'netctl --json anneal status d2 prints JSON', out + err)
        d2 = [tr for _, tr in of_deployment(s1, 'd2')]
        t.ok(any(tr['node'] == 'n03' and tr['role'] == 'rf' and tr['to'] == 'error' for tr in d2)
             and all(i > mark for i, _ in of_deployment(s1, 'd2')),
             'the stream carried rf on n03 going to error', str(d2[-3:]))

        os.unlink(flag)
        rc, out, err = ctl.run('anneal', 'retry', 'd2')
        t.ok(rc == 0 and 'deployment d2: 1 node-role back to todo' in out, 'netctl anneal retry d2', out + err)
        rc, out, err = ctl.run('anneal', 'watch', 'd2')
        t.ok(rc == 0 and '10/10 active' in out, 'after the fix and retry, watch d2 exits 0 with "10/10 active"',
             f'rc={rc}\n{out}\n{err}')
        rc, out, err = ctl.run('anneal', 'watch', 'nosuch')
        t.ok(rc == 1 and 'nosuch' in err, 'watch of an unknown deployment: netd\'s error, exit 1', err)
        rc, out, err = ctl.run('anneal', 'bogus')
        t.ok(rc == 64, 'an unknown subcommand is a usage error', err)
        rc, out, err = ctl.run('anneal', 'help')
        t.ok(rc == 0 and 'anneal watch DEPLOYMENT' in out, 'netctl anneal help', out)

        t.ok(idle.wait(lambda s: ': keepalive' in s.comments, 60) and len(idle.events) == len(s1.events),
             'an idle stream gets ": keepalive" after 15 s of silence (after all the events)',
             f'{idle.comments} {len(idle.events)}/{len(s1.events)}')

        # -- SIGTERM with streams open
        live = [s for s in streams if s.is_alive()]
        t.ok(len(live) >= 4, 'streams still open before SIGTERM', str(len(live)))
        netd.proc.send_signal(signal.SIGTERM)
        ended = all(s.wait_eof(10) for s in live)
        t.ok(ended, f'SIGTERM: all {len(live)} open streams are closed by netd within a few seconds',
             str([s.eof for s in live]))
        try:
            code = netd.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        t.ok(code == 0, 'netd exits cleanly (0) after SIGTERM with streams open', f'{code}\n{netd.tail_log()}')
        rc, out, err = ctl.run('anneal', 'watch', 'd1')
        t.ok(rc == 2, 'watch with netd gone: exit 2', err)
    finally:
        for s in streams:
            s.close()
        netd.stop()


def run_limits(t, work, netd_bin, logs):
    """64 streams at once, the 65th refused; SIGTERM ends them all."""
    netd = start_netd(work, 'limit', netd_bin, logs)
    streams = []
    try:
        for _ in range(64):
            streams.append(Stream(netd.port, token=READER))
        t.ok(all(s.status == 200 for s in streams), '64 concurrent streams accepted',
             str([s.status for s in streams if s.status != 200]))
        extra = Stream(netd.port, token=READER)
        t.ok(extra.status == 503 and error_of(json.loads(extra.body))[0] == 'resource-denied',
             'the 65th stream: 503 resource-denied', f'{extra.status} {getattr(extra, "body", "")}')
        c = http.client.HTTPConnection('127.0.0.1', netd.port, timeout=DEADLINE)
        c.request('GET', '/restconf/data/netd:status', headers={'Authorization': f'Bearer {READER}'})
        t.ok(c.getresponse().status == 200, 'a GET is answered with 64 streams open')
        c.close()
        netd.proc.send_signal(signal.SIGTERM)
        t.ok(all(s.wait_eof(10) for s in streams), 'SIGTERM ends all 64 streams')
        try:
            code = netd.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        t.ok(code == 0, 'netd exits cleanly with 64 streams open', f'{code}\n{netd.tail_log()}')
    finally:
        for s in streams:
            s.close()
        netd.stop()


if __name__ == '__main__':
    sys.exit(main())
