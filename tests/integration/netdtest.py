"""Small harness for netd integration tests: a real netd on a free loopback
port with a temporary store, driven with curl (stdlib only otherwise).

Results are TAP-like lines ("ok N - ...", "not ok N - ..."); the process
exits non-zero when any check failed.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


class Checks:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, detail=''):
        self.n += 1
        if cond:
            print(f'ok {self.n} - {what}', flush=True)
        else:
            self.failed += 1
            print(f'not ok {self.n} - {what}' + (f': {detail}' if detail else ''), flush=True)
        return cond

    def done(self):
        print(f'{self.n - self.failed} passed, {self.failed} failed')
        sys.exit(1 if self.failed else 0)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Netd:
    """One netd process. stop() ends it by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, binary, workdir, config=None, port=None, extra=()):
        self.binary = os.path.abspath(binary)
        self.workdir = workdir
        self.store = os.path.join(workdir, 'store')
        self.port = port or free_port()
        self.config = config
        self.extra = list(extra)
        self.proc = None
        self.log = os.path.join(workdir, 'netd.log')

    @property
    def base(self):
        return f'http://127.0.0.1:{self.port}'

    def start(self, timeout=20):
        args = [self.binary, '--store', self.store, '--listen', f'127.0.0.1:{self.port}'] + self.extra
        if self.config:
            args += ['-c', self.config]
        logf = open(self.log, 'a')
        self.proc = subprocess.Popen(args, stdout=logf, stderr=logf, cwd=self.workdir)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'netd exited with {self.proc.returncode}: {self.tail_log()}')
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('netd did not start listening')

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def tail_log(self, n=20):
        try:
            with open(self.log) as f:
                return ''.join(f.readlines()[-n:])
        except OSError:
            return ''

    def token(self):
        with open(os.path.join(self.store, 'admin.token')) as f:
            return f.read().strip()


class Client:
    """curl-driven RESTCONF client."""

    def __init__(self, base, auth_header=None, basic=None):
        self.base = base
        self.auth_header = auth_header
        self.basic = basic

    def _auth_args(self):
        if self.auth_header:
            return ['-H', self.auth_header]
        if self.basic:
            return ['-u', self.basic]
        return []

    def request(self, method, path, body=None, headers=()):
        # HEAD with -X would make curl wait for the body Content-Length announces
        verb = ['--head'] if method == 'HEAD' else ['-X', method]
        args = ['curl', '-sS'] + verb + ['-o', '-', '-w', '\n%{http_code}', self.base + path]
        args += self._auth_args()
        for h in headers:
            args += ['-H', h]
        if body is not None:
            data = body if isinstance(body, str) else json.dumps(body)
            args += ['-H', 'Content-Type: application/yang-data+json', '--data-binary', data]
        out = subprocess.run(args, capture_output=True, text=True, check=False).stdout
        text, _, code = out.rpartition('\n')
        try:
            status = int(code)
        except ValueError:
            status = 0
        return status, text

    def json(self, method, path, body=None):
        status, text = self.request(method, path, body)
        try:
            return status, json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            return status, text

    def get(self, path):
        return self.json('GET', path)


def error_of(body):
    """(tag, path, message) of an ietf-restconf:errors body, or Nones."""
    try:
        e = body['ietf-restconf:errors']['error'][0]
        return e.get('error-tag'), e.get('error-path', ''), e.get('error-message', '')
    except (TypeError, KeyError, IndexError):
        return None, None, None


def tempdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    return d


def cleanup(d):
    shutil.rmtree(d, ignore_errors=True)
