#!/usr/bin/env python3
"""netd as a daemon: --check-config, the no-TLS refusal, HTTPS, SIGHUP
reload, kill -9 crash consistency under load, RFC 8040 odds and ends and
oversized request bodies. Only loopback traffic.

usage: test_daemon.py PATH-TO-NETD
"""
import hashlib
import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdtest import Checks, Client, Netd, cleanup, error_of, free_port, tempdir  # noqa: E402

TOKEN = 'daemon-test-token-0123456789abcdef'
TOKEN_SHA = hashlib.sha256(TOKEN.encode()).hexdigest()
BEARER = f'Authorization: Bearer {TOKEN}'
SANITIZER = re.compile(r'ERROR: \w*Sanitizer|runtime error|SUMMARY: \w*Sanitizer')
NETWORKS = [
    {'name': 'admin', 'primary': True,
     'ipv4': {'subnet': '10.10.0.0/22', 'router': '10.10.0.1',
              'range': [{'name': 'host', 'first': '10.10.0.10', 'last': '10.10.3.250'}]}},
    {'name': 'storage',
     'ipv4': {'subnet': '10.20.0.0/22',
              'range': [{'name': 'host', 'first': '10.20.0.10', 'last': '10.20.3.250'}]}},
]
# every netd log and captured stderr, scanned for sanitizer reports at the end
LOGS = []


def password_hash(pw):
    """A $6$ (sha512-crypt) hash from the openssl CLI."""
    return subprocess.run(['openssl', 'passwd', '-6', pw], capture_output=True, text=True,
                          check=True).stdout.strip()


class DaemonChecks(Checks):
    """Checks plus TAP TODO items: checks of known, reported bugs, shown but neither passed nor failed."""

    def __init__(self):
        super().__init__()
        self.todos = 0

    def done(self):
        if self.todos:
            print(f'# {self.todos} TODO (known bugs, not counted)')
        self.n -= self.todos
        super().done()


def todo(t, cond, what, detail=''):
    t.n += 1
    t.todos += 1
    if cond:
        print(f'ok {t.n} - {what} # TODO passes now: make it a plain check', flush=True)
    else:
        print(f'not ok {t.n} - {what} # TODO known bug' + (f': {detail}' if detail else ''), flush=True)


def write_json(path, obj):
    """Write atomically (rename), as a careful admin would: a reload never sees half a file."""
    with open(path + '.tmp', 'w') as f:
        if isinstance(obj, str):
            f.write(obj)
        else:
            json.dump(obj, f)
    os.replace(path + '.tmp', path)
    return path


def server(**kw):
    return {'netd-server:server': kw}


def run(args, timeout=30):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    LOGS.append(('stderr of ' + ' '.join(args[1:3]), p.stderr))
    return p


def curl(url, method='GET', headers=(), data_file=None, extra=()):
    """(curl exit code, HTTP status, response headers lower-cased, body)."""
    args = ['curl', '-sS', '-X', method, '-D', '-', '-o', '-', url] + list(extra)
    if method == 'HEAD':
        args = ['curl', '-sS', '-I', url] + list(extra)
    for h in headers:
        args += ['-H', h]
    if data_file:
        args += ['-H', 'Content-Type: application/yang-data+json', '--data-binary', '@' + data_file]
    p = subprocess.run(args, capture_output=True, check=False, timeout=120)
    out = p.stdout.decode(errors='replace')     # bytes: keep the CRLFs of the header block
    status, hdrs = 0, {}
    # skip "HTTP/1.1 100 Continue" blocks
    while out.startswith('HTTP/'):
        head, _, out = out.partition('\r\n\r\n')
        lines = head.split('\r\n')
        status = int(lines[0].split()[1])
        hdrs = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(':') for ln in lines[1:])}
        if status != 100:
            break
    return p.returncode, status, hdrs, out


def wait_log(netd, needle, count, timeout=10):
    """Wait until @needle occurs @count times in the netd log."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(netd.log, errors='replace') as f:
            if f.read().count(needle) >= count:
                return True
        time.sleep(0.05)
    return False


def log_text(netd):
    with open(netd.log, errors='replace') as f:
        return f.read()


def connect_ok(port, host='127.0.0.1'):
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(0.2)
    try:
        s.connect((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(('::1', 0))
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- 1. check-config

def test_check_config(t, binary, work):
    cert, key = os.path.join(work, 'c.pem'), os.path.join(work, 'k.pem')
    user = {'name': 'ops', 'password-hash': password_hash('ops-pw'), 'role': 'admin'}
    tok = {'name': 'ci', 'sha256': TOKEN_SHA}
    minimal = write_json(os.path.join(work, 'minimal.json'),
                         server(tls={'certificate': cert, 'key': key}, user=[user], token=[tok]))
    p = run([binary, '-c', minimal, '--check-config'])
    try:
        out = json.loads(p.stdout)['netd-server:server']
    except (ValueError, KeyError, TypeError):
        out = {}
    t.ok(p.returncode == 0 and out, '--check-config of a valid file: exit 0, JSON on stdout',
         f'{p.returncode} {p.stdout[:200]} {p.stderr}')
    want_defaults = {'store': './var/netd', 'listen': '127.0.0.1:8080', 'hold-down': 3600, 'log-level': 'info',
                     'syslog': False, 'http-threads': 2, 'store-map-size': '67108864'}
    t.ok(all(out.get(k) == v for k, v in want_defaults.items()), '--check-config spells out every default',
         json.dumps(out))
    t.ok(out.get('tls') == {'certificate': cert, 'key': key} and out.get('user') == [dict(user)]
         and out.get('token') == [dict(tok, role='read-only')],
         '--check-config: tls, user and token as given (role defaults to read-only)', json.dumps(out))

    full = server(store=os.path.join(work, 'st'), listen='[::1]:18443', tls={'certificate': cert, 'key': key},
                  **{'log-level': 'debug', 'syslog': False, 'hold-down': 5, 'http-threads': 8,
                     'store-map-size': '2097152'}, user=[user], token=[dict(tok, role='admin')])
    full_path = write_json(os.path.join(work, 'full.json'), full)
    p = run([binary, '-c', full_path, '--check-config'])
    got = json.loads(p.stdout).get('netd-server:server', {}) if p.returncode == 0 else {}
    # every leaf as given (leaves added to the schema later only add defaults)
    t.ok(all(got.get(k) == v for k, v in full['netd-server:server'].items()),
         '--check-config of a full file prints it back', p.stdout + p.stderr)
    canon = write_json(os.path.join(work, 'canon.json'), p.stdout)
    p2 = run([binary, '-c', canon, '--check-config'])
    t.ok(p2.returncode == 0 and p2.stdout == p.stdout, 'the canonical form is a fixed point', p2.stderr)
    p = run([binary, '-c', full_path, '--listen', '127.0.0.1:9', '--store', '/nonexistent/x', '--check-config'])
    o = json.loads(p.stdout)['netd-server:server'] if p.returncode == 0 else {}
    t.ok(o.get('listen') == '127.0.0.1:9' and o.get('store') == '/nonexistent/x',
         '--check-config shows flags applied over the file', p.stderr)
    t.ok(not os.path.exists(os.path.join(work, 'st')), '--check-config does not create the store')

    hsh = user['password-hash']
    bad = [
        ('hold-down "abc"', server(**{'hold-down': 'abc'}), '/netd-server:server/hold-down'),
        ('hold-down out of range', server(**{'hold-down': 4294967296}), '/netd-server:server/hold-down'),
        ('unknown leaf', server(colour='blue'), 'colour'),
        ('unknown top-level container', {'netd:nodes': {}}, ''),
        ('bad role', server(user=[{'name': 'x', 'password-hash': hsh, 'role': 'god'}]),
         "/netd-server:server/user[name='x']/role"),
        ('token role bad', server(token=[{'name': 'tk', 'sha256': TOKEN_SHA, 'role': 'root'}]),
         "/netd-server:server/token[name='tk']/role"),
        ('uppercase sha256', server(token=[{'name': 'tk', 'sha256': TOKEN_SHA.upper()}]),
         "/netd-server:server/token[name='tk']/sha256"),
        ('plain-text password', server(user=[{'name': 'x', 'password-hash': 'secret'}]),
         "/netd-server:server/user[name='x']/password-hash"),
        ('user without password-hash', server(user=[{'name': 'x'}]), '/netd-server:server/user'),
        ('listen port 70000', server(listen='127.0.0.1:70000'), '/netd-server:server/listen'),
        ('http-threads 0', server(**{'http-threads': 0}), '/netd-server:server/http-threads'),
        ('tls without key', server(tls={'certificate': cert}), 'tls'),
        ('non-loopback listen without TLS', server(listen='192.0.2.1:8443'), '/netd-server:server/listen'),
        ('malformed JSON', '{"netd-server:server": {', ''),
    ]
    for i, (what, body, path) in enumerate(bad):
        f = write_json(os.path.join(work, f'bad{i}.json'), body)
        p = run([binary, '-c', f, '--check-config'])
        t.ok(p.returncode == 1 and f in p.stderr and path in p.stderr and not p.stdout,
             f'--check-config refuses {what}: exit 1, stderr names file and path',
             f'rc={p.returncode} {p.stderr.strip()} {p.stdout[:100]}')
    missing = os.path.join(work, 'does-not-exist.json')
    p = run([binary, '-c', missing, '--check-config'])
    t.ok(p.returncode == 1 and missing in p.stderr, '--check-config of a missing file: exit 1 naming it', p.stderr)
    p = run([binary, '--log-level', 'loud', '--check-config'])
    t.ok(p.returncode == 1 and 'log-level' in p.stderr, '--log-level loud is refused', p.stderr)
    p = run([binary, '--bogus-flag'])
    t.ok(p.returncode == 64 and 'usage' in p.stderr, 'an unknown flag: usage, exit 64', f'{p.returncode}')


# ---------------------------------------------------------------- 2. refusal

def refused(t, binary, work, what, args, probe_host, names):
    """netd with @args (PORT replaced by a free port) must exit at once, naming TLS and @names."""
    port = free_port()
    store = os.path.join(work, 'refused-store')
    args = [a.replace('PORT', str(port)) for a in args]
    for i, a in enumerate(args):
        if a.endswith('.json'):             # a config file: PORT inside it too
            with open(a) as f:
                text = f.read()
            args[i] = write_json(a.replace('.json', f'-{port}.json'), text.replace('PORT', str(port)))
            names = args[i]
    start = time.time()
    proc = subprocess.Popen([binary, '--store', store] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    accepted = False
    while proc.poll() is None and time.time() - start < 10:
        accepted = accepted or connect_ok(port, probe_host)
        time.sleep(0.01)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate()
    LOGS.append(('refused netd', err))
    elapsed = time.time() - start
    accepted = accepted or connect_ok(port, probe_host)
    names = names.replace('PORT', str(port))
    t.ok(proc.returncode not in (0, None) and elapsed < 5 and 'TLS' in err and names in err,
         f'{what}: exits non-zero at once naming TLS and {names.split("/")[-1]}',
         f'rc={proc.returncode} {elapsed:.1f}s {err.strip()}')
    t.ok(not accepted, f'{what}: never accepted a connection (probed on loopback)')
    t.ok(not os.path.exists(store), f'{what}: store not created')


def test_refusal(t, binary, work):
    refused(t, binary, work, '--listen 0.0.0.0:PORT without TLS', ['--listen', '0.0.0.0:PORT'], '127.0.0.1',
            '--listen 0.0.0.0:PORT')
    if have_ipv6_loopback():
        refused(t, binary, work, '--listen [::]:PORT without TLS', ['--listen', '[::]:PORT'], '::1',
                '--listen [::]:PORT')
    cfg = write_json(os.path.join(work, 'wide.json'), server(listen='0.0.0.0:PORT', token=[{'name': 'x',
                                                                                             'sha256': TOKEN_SHA}]))
    refused(t, binary, work, 'listen 0.0.0.0:PORT in the file without TLS', ['-c', cfg], '127.0.0.1', cfg)
    # loopback spellings are allowed (checked without starting: --check-config)
    for host in ('127.0.0.2:8080', 'localhost:8080', '[::1]:8080'):
        p = run([binary, '--listen', host, '--check-config'])
        t.ok(p.returncode == 0, f'--listen {host} (loopback) is accepted without TLS', p.stderr)


# ---------------------------------------------------------------- 3. TLS

class TlsClient(Client):
    def __init__(self, base, cacert, **kw):
        super().__init__(base, **kw)
        self.cacert = cacert

    def _auth_args(self):
        return ['--cacert', self.cacert, '--max-time', '30'] + super()._auth_args()


class TimedClient(Client):
    """A hung request fails the check instead of hanging the test."""

    def _auth_args(self):
        return ['--max-time', '30'] + super()._auth_args()


def make_cert(work):
    cert, key = os.path.join(work, 'cert.pem'), os.path.join(work, 'key.pem')
    p = subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1',
                        '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert],
                       capture_output=True, text=True, check=False)
    return (cert, key) if p.returncode == 0 else (None, p.stderr)


def test_tls(t, binary, work):
    cert, key = make_cert(work)
    if not t.ok(cert is not None, 'openssl made a self-signed certificate for 127.0.0.1', str(key)):
        return
    cfg = write_json(os.path.join(work, 'tls.json'),
                     server(tls={'certificate': cert, 'key': key}, token=[{'name': 'ci', 'sha256': TOKEN_SHA,
                                                                            'role': 'admin'}]))
    netd = Netd(binary, os.path.join(work, 'tls'), config=cfg)
    os.makedirs(netd.workdir)
    LOGS.append(('netd log', netd.log))
    try:
        netd.start()
        https = f'https://127.0.0.1:{netd.port}'
        c = TlsClient(https, cert, auth_header=BEARER)
        status, body = c.get('/restconf/data/netd:status')
        t.ok(status == 200 and 'netd:status' in (body or {}), 'HTTPS GET netd:status with a token: 200', str(body))
        status, _ = TlsClient(https, cert).get('/restconf/data/netd:status')
        t.ok(status == 401, 'HTTPS without credentials: 401')
        status, body = c.json('POST', '/restconf/data/netd:networks', {'netd:network': [NETWORKS[0]]})
        t.ok(status == 201, 'HTTPS POST (a body over TLS): 201', str(body))
        rc, status, _, _ = curl(https + '/restconf/data/netd:status', headers=[BEARER])
        t.ok(rc == 60 and status == 0, 'HTTPS without --cacert: the certificate is not trusted (curl 60)', f'{rc}')
        rc, status, _, out = curl(f'http://127.0.0.1:{netd.port}/restconf/data/netd:status', headers=[BEARER],
                                  extra=['--max-time', '5'])
        t.ok(status != 200 and 'netd:status' not in out, 'plain HTTP to the HTTPS port fails',
             f'curl {rc}, HTTP {status}')
        status, _ = c.get('/restconf/data/netd:networks/network=admin')
        t.ok(status == 200 and netd.proc.poll() is None, 'netd still serves HTTPS after the plain-HTTP attempt')
        t.ok('https://127.0.0.1' in log_text(netd), 'the start line says https')
        rc = netd.stop()
        t.ok(rc == 0, 'TLS netd stops cleanly', f'{rc} {netd.tail_log()}')
    finally:
        netd.stop(timeout=5)
    # unusable TLS files: refuse to start, naming the problem
    for what, tls in (('a missing certificate', {'certificate': os.path.join(work, 'nope.pem'), 'key': key}),
                      ('a key that is not PEM', {'certificate': cert, 'key': cfg})):
        bad = write_json(os.path.join(work, 'tls-bad.json'), server(tls=tls, token=[{'name': 'ci',
                                                                                      'sha256': TOKEN_SHA}]))
        p = run([binary, '-c', bad, '--store', os.path.join(work, 'tls-bad-store'),
                 '--listen', f'127.0.0.1:{free_port()}'])
        t.ok(p.returncode == 1 and ('nope.pem' in p.stderr or 'TLS' in p.stderr),
             f'TLS with {what}: netd refuses to start', f'{p.returncode} {p.stderr.strip()}')


# ---------------------------------------------------------------- 4. SIGHUP

def test_sighup(t, binary, work):
    pa, pb = 'alice-pw', 'bob-pw'
    cfg = os.path.join(work, 'hup.json')
    alice = {'name': 'alice', 'password-hash': password_hash(pa), 'role': 'admin'}
    bob = {'name': 'bob', 'password-hash': password_hash(pb), 'role': 'read-only'}
    write_json(cfg, server(user=[alice]))
    netd = Netd(binary, os.path.join(work, 'hup'), config=cfg)
    os.makedirs(netd.workdir)
    LOGS.append(('netd log', netd.log))
    path = '/restconf/data/netd:status'
    try:
        netd.start()
        a, b = TimedClient(netd.base, basic=f'alice:{pa}'), TimedClient(netd.base, basic=f'bob:{pb}')
        t.ok(a.get(path)[0] == 200 and b.get(path)[0] == 401, 'before reload: alice reads, bob is unknown')
        write_json(cfg, server(user=[bob], **{'hold-down': 10}))
        netd.proc.send_signal(signal.SIGHUP)
        t.ok(wait_log(netd, 'configuration reloaded', 1), 'SIGHUP: the log says configuration reloaded',
             netd.tail_log())
        t.ok(b.get(path)[0] == 200, 'after reload: bob (read-only) reads')
        t.ok('take effect after a restart' not in log_text(netd),
             'a reload that changes no listen/store says nothing about them (--listen/--store still apply)',
             netd.tail_log())
        status, body = b.json('POST', '/restconf/data/netd:networks', {'netd:network': [NETWORKS[1]]})
        t.ok(status == 403, 'after reload: bob cannot write (403)', f'{status}')
        t.ok(a.get(path)[0] == 401, 'after reload: alice is gone (401)')
        # a broken file: the running configuration stays
        write_json(cfg, '{"netd-server:server": {"hold-down": "abc", "user": []}}')
        netd.proc.send_signal(signal.SIGHUP)
        t.ok(wait_log(netd, 'failed, keeping the running configuration', 1),
             'SIGHUP with a broken file: the log says the reload failed', netd.tail_log())
        t.ok('/netd-server:server/hold-down' in log_text(netd), 'the failed reload names the data path')
        t.ok(netd.proc.poll() is None and b.get(path)[0] == 200 and a.get(path)[0] == 401,
             'after a failed reload: netd runs, bob still reads, alice still refused')
        # a file that only fails the semantic checks (password-hash not crypt) is refused as a whole too
        write_json(cfg, server(user=[dict(alice, **{'password-hash': 'plain'}), bob]))
        netd.proc.send_signal(signal.SIGHUP)
        t.ok(wait_log(netd, 'failed, keeping the running configuration', 2) and b.get(path)[0] == 200
             and a.get(path)[0] == 401, 'a half-valid file is not half applied')
        # --listen overrides the file, on reload too
        write_json(cfg, server(listen=f'127.0.0.1:{free_port()}', user=[alice, bob]))
        netd.proc.send_signal(signal.SIGHUP)
        ok = wait_log(netd, 'configuration reloaded', 2)
        t.ok(ok and a.get(path)[0] == 200 and 'take effect after a restart' not in log_text(netd),
             'reload with another listen in the file: --listen still wins, alice back', netd.tail_log())
        t.ok(netd.proc.poll() is None, 'netd survives four SIGHUPs')
        sighup_storm(t, netd, cfg, alice, bob, b, path)
        rc = netd.stop()
        t.ok(rc == 0, 'netd exits 0 after the reloads', f'{rc}')
    finally:
        netd.stop(timeout=5)


def sighup_storm(t, netd, cfg, alice, bob, b, path):
    """30 reloads, alternating two files, while 8 clients read as bob (in both files)."""
    stop = threading.Event()
    answers = []

    def reader():
        while not stop.is_set():
            answers.append(b.get(path)[0])
    readers = [threading.Thread(target=reader) for _ in range(8)]
    for r in readers:
        r.start()
    try:
        for i in range(30):
            users = [bob] if i % 2 else [alice, bob]
            write_json(cfg, server(user=users, **{'hold-down': 100 + i}))
            netd.proc.send_signal(signal.SIGHUP)
            time.sleep(0.02)
    finally:
        stop.set()
        for r in readers:
            r.join()
    bad = [a for a in answers if a != 200]
    t.ok(answers and not bad, f'SIGHUP storm: all {len(answers)} concurrent reads by bob answered 200',
         f'{len(bad)} not 200: {sorted(set(bad))}')
    # settle: the last file (bob only) is what runs once the log is quiet
    n = -1
    while n != log_text(netd).count('configuration reloaded'):
        n = log_text(netd).count('configuration reloaded')
        time.sleep(0.3)
    a = TimedClient(netd.base, basic=alice['name'] + ':alice-pw')
    t.ok(netd.proc.poll() is None and b.get(path)[0] == 200 and a.get(path)[0] == 401,
         'after the storm: netd runs the last file (bob only)')


def test_reload_flags(t, binary, work):
    """Listen from the file, --log-level from the command line: a reload keeps the flag and only
    warns about the listen change."""
    d = os.path.join(work, 'flags')
    os.makedirs(d)
    port, other = free_port(), free_port()
    pa, pb = 'alice-pw', 'bob-pw'
    alice = {'name': 'alice', 'password-hash': password_hash(pa), 'role': 'admin'}
    bob = {'name': 'bob', 'password-hash': password_hash(pb)}
    cfg = write_json(os.path.join(d, 'netd.json'), server(listen=f'127.0.0.1:{port}', store=os.path.join(d, 'st'),
                                                          user=[alice]))
    log = os.path.join(d, 'netd.log')
    LOGS.append(('netd log', log))
    with open(log, 'a') as logf:
        proc = subprocess.Popen([binary, '-c', cfg, '--log-level', 'warning'], stdout=logf, stderr=logf, cwd=d)
    try:
        deadline = time.time() + 20
        while not connect_ok(port) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        b = TimedClient(f'http://127.0.0.1:{port}', basic=f'bob:{pb}')
        write_json(cfg, server(listen=f'127.0.0.1:{other}', store=os.path.join(d, 'st'), user=[alice, bob]))
        proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while b.get('/restconf/data/netd:status')[0] != 200 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        with open(log, errors='replace') as f:
            text = f.read()
        t.ok(b.get('/restconf/data/netd:status')[0] == 200 and not connect_ok(other),
             'reload (listen in the file): users applied, listener unchanged')
        t.ok('take effect after a restart' in text, 'reload warns that the listen change needs a restart', text)
        t.ok(' info: ' not in text, 'reload keeps --log-level warning (no info lines)', text)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    t.ok(rc == 0, 'netd (listen from the file) exits 0', f'{rc}')


# ---------------------------------------------------------------- 5. kill -9

class Load:
    """16 threads creating nodes with curl until stopped; records the answers."""

    def __init__(self, base, cycle, threads=16, cap=10**9):
        self.base = base
        self.cycle = cycle
        self.cap = cap                # stop once this many creations were acknowledged
        self.stop = threading.Event()
        self.results = []            # (name, networks, status)
        self.lock = threading.Lock()
        self.acked = 0
        self.threads = [threading.Thread(target=self.worker, args=(i,)) for i in range(threads)]

    def worker(self, tid):
        c = TimedClient(self.base, auth_header=BEARER)
        i = 0
        while not self.stop.is_set() and self.acked < self.cap:
            name = f'c{self.cycle}t{tid:02d}n{i:03d}'
            nets = ['admin'] if (tid + i) % 2 else ['admin', 'storage']
            body = {'netd:node': [{'name': name, 'network': [{'name': n} for n in nets]}]}
            status, _ = c.request('POST', '/restconf/data/netd:nodes', body)
            with self.lock:
                self.results.append((name, nets, status))
                self.acked += status == 201
            if status == 0:
                time.sleep(0.02)     # netd is down: do not spin
            i += 1

    def start(self):
        for th in self.threads:
            th.start()

    def acked_names(self):
        with self.lock:
            return {r[0] for r in self.results if r[2] == 201}

    def join(self):
        self.stop.set()
        for th in self.threads:
            th.join()


class MixedLoad:
    """16 threads, each on its own nodes (network storage): create, delete, rename, allocate a VIP.
    What an acknowledged request did is known; after a request without an answer its objects are
    'uncertain' and left alone."""

    def __init__(self, base, threads=16):
        self.base = base
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.state = {}          # node name -> 'present' | 'absent' | 'uncertain'
        self.vips = {}           # vip name -> address, or None when uncertain
        self.unexpected = []
        self.acked = 0
        self.threads = [threading.Thread(target=self.worker, args=(i,)) for i in range(threads)]

    def set(self, **kw):
        with self.lock:
            self.state.update(kw)

    def worker(self, tid):
        c = TimedClient(self.base, auth_header=BEARER)
        mine = []                # my present nodes
        i = 0
        while not self.stop.is_set():
            op = i % 4
            status = None
            if op == 1 and mine:
                name = mine.pop(0)
                status, _ = c.request('DELETE', f'/restconf/data/netd:nodes/node={name}')
                self.set(**{name: 'absent' if status == 204 else 'uncertain'})
                ok = status in (204, 0)
            elif op == 2 and mine:
                old = mine.pop(0)
                new = f'{old}-r'
                status, _ = c.request('POST', '/restconf/operations/netd:rename-node',
                                      {'netd:input': {'from': old, 'to': new}})
                if status == 204:
                    self.set(**{old: 'absent', new: 'present'})
                    mine.append(new)
                else:
                    self.set(**{old: 'uncertain', new: 'uncertain'})
                ok = status in (204, 0)
            elif op == 3:
                vip = f'v{tid}x{i}'
                status, body = c.json('POST', '/restconf/operations/netd:allocate-address',
                                      {'netd:input': {'network': 'storage', 'name': vip}})
                with self.lock:
                    self.vips[vip] = body['netd:output']['address'] if status == 200 else None
                ok = status in (200, 0)
            else:
                name = f'm{tid:02d}n{i:03d}'
                status, _ = c.request('POST', '/restconf/data/netd:nodes',
                                      {'netd:node': [{'name': name, 'network': [{'name': 'storage'}]}]})
                self.set(**{name: 'present' if status == 201 else 'uncertain'})
                if status == 201:
                    mine.append(name)
                ok = status in (201, 0)
            with self.lock:
                self.acked += status != 0
                if not ok:
                    self.unexpected.append((tid, i, op, status))
            if status == 0:
                time.sleep(0.02)
            i += 1


def mixed_crash(t, netd, c):
    """kill -9 under creates, deletes, renames and VIP allocations; returns (present, absent) names."""
    load = MixedLoad(netd.base)
    for th in load.threads:
        th.start()
    t0 = time.time()
    while time.time() - t0 < 1.0 and load.acked < 200:
        time.sleep(0.005)
    netd.stop(sig=signal.SIGKILL)
    load.stop.set()
    for th in load.threads:
        th.join()
    netd.start()
    t.ok(not load.unexpected, f'mixed round: {load.acked} requests answered before kill -9, all as expected',
         str(load.unexpected[:5]))
    present = {n for n, st in load.state.items() if st == 'present'}
    absent = {n for n, st in load.state.items() if st == 'absent'}
    _, body = c.get('/restconf/data/netd:allocations')
    vips = {a['owner']: a['address'] for a in body['netd:allocations']['allocation']
            if a.get('owner-kind') == 'vip' and a['state'] == 'active'}
    acked_vips = {v: a for v, a in load.vips.items() if a}
    lost = {v: a for v, a in acked_vips.items() if vips.get(v) != a}
    t.ok(acked_vips and not lost, f'mixed round: all {len(acked_vips)} acknowledged VIPs kept their address',
         str(list(lost.items())[:3]))
    # allocate-address is idempotent: asking again after the crash gives the same address
    same = 0
    for v, a in list(acked_vips.items())[:20]:
        status, b = c.json('POST', '/restconf/operations/netd:allocate-address',
                           {'netd:input': {'network': 'storage', 'name': v}})
        same += status == 200 and b['netd:output']['address'] == a
    t.ok(same == min(20, len(acked_vips)), 'mixed round: allocate-address after the crash is idempotent',
         f'{same}')
    return present, absent


def check_invariants(t, c, acked, label):
    """Everything GET shows must agree; returns the node names."""
    s1, nodes = c.get('/restconf/data/netd:nodes')
    s2, allocs = c.get('/restconf/data/netd:allocations')
    s3, nets = c.get('/restconf/data/netd:networks')
    s4, status = c.get('/restconf/data/netd:status')
    if not t.ok(s1 == s2 == s3 == s4 == 200, f'{label}: GETs answer 200', f'{s1} {s2} {s3} {s4}'):
        return set()
    nodes = (nodes or {}).get('netd:nodes', {}).get('node', [])
    allocs = (allocs or {}).get('netd:allocations', {}).get('allocation', [])
    nets = {n['name']: n for n in nets['netd:networks']['network']}
    names = {n['name'] for n in nodes}
    bad = []
    for n in nodes:
        attached = sorted(x['name'] for x in n.get('network', []))
        addrs = n.get('address', [])
        got = sorted(a['network'] for a in addrs if a['family'] == 'ipv4')
        if got != attached or len(addrs) != len(attached):
            bad.append((n['name'], attached, addrs))
        for a in addrs:
            if ipaddress.ip_address(a['address']) not in ipaddress.ip_network(nets[a['network']]['ipv4']['subnet']):
                bad.append((n['name'], 'outside', a))
    t.ok(not bad, f'{label}: every node has exactly one v4 address per attached network', str(bad[:3]))
    active = [a for a in allocs if a.get('state') == 'active']
    orphans = [a for a in active if a.get('owner-kind') == 'node' and a.get('owner') not in names]
    t.ok(not orphans, f'{label}: every active allocation belongs to an existing node', str(orphans[:3]))
    keys = [(a['network'], a['address']) for a in allocs]
    node_keys = [(a['network'], a['address']) for n in nodes for a in n.get('address', [])]
    t.ok(len(set(keys)) == len(keys) and len(set(node_keys)) == len(node_keys),
         f'{label}: no address appears twice', f'{len(keys) - len(set(keys))} {len(node_keys) - len(set(node_keys))}')
    by_key = {(a['network'], a['address']): a for a in active}
    mismatch = [(n['name'], a) for n in nodes for a in n.get('address', [])
                if by_key.get((a['network'], a['address']), {}).get('owner') != n['name']]
    t.ok(not mismatch, f'{label}: every node address is an active allocation owned by that node', str(mismatch[:3]))
    lost = sorted(set(acked) - names)
    t.ok(not lost, f'{label}: all {len(acked)} acknowledged (201) nodes survived', str(lost[:5]))
    st = status['netd:status']
    t.ok(int(st['nodes']) == len(nodes) and int(st['networks']) == len(nets),
         f'{label}: status counters match the lists', f"{st} vs {len(nodes)} nodes")
    used = {}
    for a in active:
        used[a['network']] = used.get(a['network'], 0) + 1
    util_bad = []
    for name, n in nets.items():
        u = sum(int(r['used']) for r in n.get('utilization', {}).get('range', []))
        if u != used.get(name, 0):
            util_bad.append((name, u, used.get(name, 0)))
    t.ok(not util_bad, f'{label}: utilization "used" matches the active allocations', str(util_bad))
    return names


def test_crash(t, binary, work):
    cfg = write_json(os.path.join(work, 'crash.json'),
                     server(token=[{'name': 'ci', 'sha256': TOKEN_SHA, 'role': 'admin'}],
                            **{'http-threads': 4}))
    netd = Netd(binary, os.path.join(work, 'crash'), config=cfg)
    os.makedirs(netd.workdir)
    LOGS.append(('netd log', netd.log))
    try:
        netd.start()
        c = TimedClient(netd.base, auth_header=BEARER)
        for n in NETWORKS:
            status, body = c.json('POST', '/restconf/data/netd:networks', {'netd:network': [n]})
            t.ok(status == 201, f'network {n["name"]} (/22) created', str(body))
        acked = set()
        for cycle in range(3):
            # 16 clients for 2 s; kill -9 mid-load (after 1 s, or once 100 creations were acknowledged),
            # restart at once on the same store while the clients keep going. The caps keep the
            # admin /22 (1009 addresses in range host) from running out over the rounds.
            load = Load(netd.base, cycle, cap=200)
            t0 = time.time()
            load.start()
            while time.time() - t0 < 1.0 and load.acked < 100:
                time.sleep(0.005)
            netd.stop(sig=signal.SIGKILL)
            before_kill = load.acked_names()
            t.ok(netd.proc.returncode == -signal.SIGKILL and 0 < len(before_kill) < load.cap,
                 f'kill -9 #{cycle + 1} mid-load ({len(before_kill)} acknowledged before it)',
                 f'{netd.proc.returncode}')
            netd.start()
            # until 2 s have passed and the restarted netd acknowledged some writes (at most 20 s)
            while (time.time() - t0 < 2.0 or len(load.acked_names() - before_kill) < 16) and \
                    time.time() - t0 < 20 and load.acked < load.cap:
                time.sleep(0.01)
            load.join()
            other = [r for r in load.results if r[2] not in (201, 0)]
            cut = [r for r in load.results if r[2] == 0]
            after_restart = load.acked_names() - before_kill
            t.ok(not other, f'kill -9 #{cycle + 1}: every request got 201 or no answer '
                 f'({len(cut)} cut off, {len(after_restart)} created after the restart)', str(other[:3]))
            t.ok(after_restart, f'kill -9 #{cycle + 1}: the restarted netd took writes under load')
            acked |= load.acked_names()
            names = check_invariants(t, c, acked, f'after kill -9 #{cycle + 1}')
            t.ok(before_kill <= names, f'kill -9 #{cycle + 1}: every node acknowledged before the kill exists',
                 str(sorted(before_kill - names)[:5]))
            # and creating more works
            after = Load(netd.base, cycle + 10, cap=32)
            after.start()
            t0 = time.time()
            while time.time() - t0 < 20 and after.acked < 32:
                time.sleep(0.01)
            after.join()
            fresh = [r for r in after.results if r[2] == 201]
            t.ok(len(fresh) >= 32 and len(fresh) == len(after.results),
                 f'after kill -9 #{cycle + 1}: more nodes can be created ({len(fresh)})',
                 str([r for r in after.results if r[2] != 201][:3]))
            acked |= {r[0] for r in fresh}
        present, absent = mixed_crash(t, netd, c)
        names = check_invariants(t, c, acked | present, 'after the mixed round')
        t.ok(not names & absent, 'mixed round: every acknowledged delete or rename (old name) stayed done',
             str(sorted(names & absent)[:5]))
        test_rfc8040(t, netd, c)
        test_too_big(t, netd, c, work)
        status, body = c.get('/restconf/data/netd:nodes')
        t.ok(status == 200 and {n['name'] for n in body['netd:nodes']['node']} == names,
             'the rejected requests changed nothing')
        rc = netd.stop()
        t.ok(rc == 0, 'netd exits 0 after the crash rounds', f'{rc} {netd.tail_log()}')
    finally:
        netd.stop(timeout=5)


# ---------------------------------------------------------------- 6. RFC 8040 bits

def test_rfc8040(t, netd, c):
    base = netd.base
    res = base + '/restconf/data/netd:networks/network=admin'
    rc, s_get, h_get, b_get = curl(res, headers=[BEARER])
    rc, s_head, h_head, b_head = curl(res, method='HEAD', headers=[BEARER])
    t.ok(s_get == 200 and s_head == 200 and b_head == '', 'HEAD on a data resource: 200 without a body',
         f'{s_head} {b_head[:80]!r}')
    t.ok(h_head.get('content-type') == h_get.get('content-type') and
         h_head.get('content-length') == h_get.get('content-length'),
         'HEAD carries the Content-Type and Content-Length of GET', f'GET {h_get} HEAD {h_head}')
    rc, s, h, _ = curl(base + '/restconf/data/netd:networks/network=nowhere', method='HEAD', headers=[BEARER])
    t.ok(s == 404, 'HEAD on a missing resource: 404', f'{s}')
    rc, s, h, _ = curl(res, method='OPTIONS', headers=[BEARER])
    allow = {m.strip() for m in h.get('allow', '').split(',')}
    t.ok(s == 200 and {'GET', 'HEAD', 'OPTIONS'} <= allow, 'OPTIONS: 200 with an Allow header', str(h))
    rc, s, h, _ = curl(res, method='OPTIONS')
    t.ok(s == 401, 'OPTIONS without credentials: 401', f'{s}')
    status, body = c.get('/restconf')
    t.ok(status == 200 and body['ietf-restconf:restconf']['yang-library-version'] == '2019-01-04',
         'GET /restconf: the API root', str(body))
    status, body = c.get('/restconf/yang-library-version')
    t.ok(status == 200 and body == {'ietf-restconf:yang-library-version': '2019-01-04'},
         'GET /restconf/yang-library-version', str(body))
    status, body = c.get('/restconf/operations')
    t.ok(status == 200 and 'netd:allocate-address' in body.get('ietf-restconf:operations', {}),
         'GET /restconf/operations lists the RPCs', str(body))
    status, body = c.get('/restconf/data/netd:networks?content=bogus')
    t.ok(status == 400 and error_of(body)[0] == 'invalid-value', 'content=bogus: 400 invalid-value', str(body))
    status, body = c.get('/restconf/data/nosuchmodule:things')
    t.ok(status == 404 and error_of(body)[0], 'an unknown module in the URI: 404 with an error body', str(body))
    status, body = c.get('/restconf/data/netd:nosuchnode')
    t.ok(status == 404, 'an unknown top-level node of netd: 404', f'{status} {body}')
    status, body = c.get('/restconf/data/netd:networks/network=adm%69n')
    t.ok(status == 200 and body['netd:network'][0]['name'] == 'admin', 'network=adm%69n is network admin',
         f'{status} {body}')
    status, body = c.get('/restconf/data/netd:networks/network=%61%64%6D%69%6E/ipv4/subnet')
    t.ok(status == 200 and '10.10.0.0/22' in json.dumps(body), 'fully percent-encoded key, then a leaf',
         f'{status} {body}')
    for what, uri, want in (('a %2F in a key', '/restconf/data/netd:networks/network=ad%2Fmin', (400, 404)),
                            ('a %2C in a key', '/restconf/data/netd:networks/network=ad%2Cmin', (400, 404)),
                            ('a bad percent escape', '/restconf/data/netd:networks/network=adm%zzn', (400,)),
                            ('a truncated escape', '/restconf/data/netd:networks/network=admin%6', (400,)),
                            ('an encoded NUL', '/restconf/data/netd:networks/network=ad%00min', (400, 404))):
        status, body = c.get(uri)
        t.ok(status in want and error_of(body)[0], f'{what}: {"/".join(map(str, want))} with an error body',
             f'{status} {body}')
    status, body = c.request('FOO', '/restconf/data/netd:networks')
    t.ok(status in (400, 405, 501), 'an unknown HTTP method is refused', f'{status}')
    t.ok(netd.proc.poll() is None, 'netd alive after the odd requests')


# ---------------------------------------------------------------- 7. 413

def test_too_big(t, netd, c, work):
    big = os.path.join(work, 'big.json')
    with open(big, 'wb') as f:
        f.write(b'{"netd:network":[{"name":"huge","description":"')
        f.truncate((64 << 20) + 4096)       # zero bytes up to just over 64 MiB
    url = netd.base + '/restconf/data/netd:networks'
    for method in ('POST', 'PUT'):
        u = url if method == 'POST' else url + '/network=huge'
        rc, status, _, out = curl(u, method=method, headers=[BEARER], data_file=big)
        try:
            tag = error_of(json.loads(out))[0]
        except ValueError:
            tag = None
        t.ok(status == 413 and tag == 'too-big', f'{method} of a body over 64 MiB: 413 too-big',
             f'curl {rc} HTTP {status} {out[:200]}')
    rc, status, _, out = curl(netd.base + '/restconf/operations/netd:allocate-address', method='POST',
                              headers=[BEARER], data_file=big)
    t.ok(status == 413, 'an RPC with a body over 64 MiB: 413', f'{status}')
    rc, status, _, out = curl(url, method='POST', headers=[BEARER, 'Transfer-Encoding: chunked'], data_file=big)
    t.ok(status == 413, 'a chunked body over 64 MiB (no Content-Length): 413', f'{status}')
    # exactly 64 MiB is still accepted: a valid network padded with whitespace
    net = json.dumps({'netd:network': [{'name': 'edge', 'ipv4': {'subnet': '10.50.0.0/24'}}]}).encode()
    with open(big, 'wb') as f:
        f.write(net + b' ' * ((64 << 20) - len(net)))
    rc, status, _, out = curl(url, method='POST', headers=[BEARER], data_file=big)
    t.ok(status == 201, 'a body of exactly 64 MiB is accepted (201)', f'{status} {out[:200]}')
    os.unlink(big)
    status, _ = c.get('/restconf/data/netd:networks/network=huge')
    t.ok(status == 404 and netd.proc.poll() is None, 'netd alive after the oversized bodies, nothing created')
    status, body = c.json('POST', '/restconf/operations/netd:allocate-address',
                          {'netd:input': {'network': 'admin', 'name': 'after-big'}})
    t.ok(status == 200, 'a normal write right after the 413s works', f'{status} {body}')


# ---------------------------------------------------------------- main

def main():
    binary = os.path.abspath(sys.argv[1])
    t = DaemonChecks()
    work = tempdir('netd-daemon-')
    t0 = time.time()
    try:
        for name, fn in (('check-config', test_check_config), ('refusal', test_refusal), ('tls', test_tls),
                         ('sighup', test_sighup), ('reload-flags', test_reload_flags),
                         ('crash', test_crash)):
            start = time.time()
            try:
                fn(t, binary, work)
            except Exception as e:  # a crash of the harness is a failure
                t.ok(False, f'harness ({name})', repr(e))
            print(f'# {name}: {time.time() - start:.1f}s', flush=True)
        reports = []
        for what, src in LOGS:
            text = src
            if what == 'netd log':
                try:
                    with open(src, errors='replace') as f:
                        text = f.read()
                except OSError:
                    text = ''
            reports += [f'{what}: {ln}' for ln in text.splitlines() if SANITIZER.search(ln)]
        t.ok(not reports, 'no sanitizer report in any netd log or stderr', '\n'.join(reports[:10]))
        print(f'# total {time.time() - t0:.1f}s')
    finally:
        cleanup(work)
    t.done()


if __name__ == '__main__':
    main()
