#!/usr/bin/python3
"""netd's NETCONF face with real clients: Debian's python3-ncclient (and
yangcli from yuma123 when installed). netd runs with NETCONF over SSH on a
free loopback port; users: an admin with a password and an SSH key
(ssh-keygen at test time), a read-only user. RESTCONF (curl) checks that
both faces share one store, and that a NETCONF lock holds RESTCONF writes
off. Ends with SIGTERM while sessions are open: netd must exit 0.

usage: test_netconf.py PATH-TO-NETD
"""
import os
import re
import shutil
import subprocess
import threading
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdtest import Checks, Client, Netd, cleanup, error_of, free_port, tempdir  # noqa: E402

try:
    from ncclient import manager
    from ncclient.operations.rpc import RPCError
    from ncclient.xml_ import to_ele
except ImportError:
    print('1..0 # SKIP python3-ncclient is not installed (tools/deps.sh)')
    sys.exit(77)

NC = 'urn:ietf:params:xml:ns:netconf:base:1.0'
NS = 'urn:netd:yang:netd'
PW = 'nc-secret-pw'
SANITIZER = re.compile(r'ERROR: \w*Sanitizer|runtime error|SUMMARY: \w*Sanitizer')


def password_hash(pw):
    return subprocess.run(['openssl', 'passwd', '-6', pw], capture_output=True, text=True,
                          check=True).stdout.strip()


def config(body):
    return f'<config xmlns="{NC}" xmlns:nc="{NC}"><networks xmlns="{NS}">{body}</networks></config>'


def network(name, subnet, first, last, op=None, extra=''):
    attr = f' nc:operation="{op}"' if op else ''
    return (f'<network{attr}><name>{name}</name>{extra}<ipv4><subnet>{subnet}</subnet>'
            f'<range><name>h</name><first>{first}</first><last>{last}</last></range></ipv4></network>')


def rpc_error(fn):
    """(tag, path, message) of the RPCError @fn raises, or Nones."""
    try:
        fn()
    except RPCError as e:
        return e.tag, (e.path or '').strip(), e.message or ''
    return None, None, None


def main():
    t = Checks()
    netd_bin = sys.argv[1]
    work = tempdir('netd-nc-')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', os.path.join(work, 'id')],
                   check=True)
    with open(os.path.join(work, 'id.pub')) as f:
        pubkey = f.read().strip()
    ncport, rcport = free_port(), free_port()
    h = password_hash(PW)
    cfgfile = os.path.join(work, 'netd.json')
    with open(cfgfile, 'w') as f:
        f.write('{"netd-server:server": {"user": ['
                f'{{"name": "admin", "password-hash": "{h}", "role": "admin", "ssh-key": ["{pubkey}"]}},'
                f'{{"name": "viewer", "password-hash": "{h}", "role": "read-only"}}],'
                f'"netconf": {{"listen": "127.0.0.1:{ncport}"}}}}}}')
    n = Netd(netd_bin, work, config=cfgfile, port=rcport)
    out = subprocess.run([netd_bin, '-c', cfgfile, '--check-config'], capture_output=True, text=True)
    printed = os.path.join(work, 'printed.json')
    with open(printed, 'w') as f:
        f.write(out.stdout)
    again = subprocess.run([netd_bin, '-c', printed, '--check-config'], capture_output=True, text=True)
    t.ok(out.returncode == 0 and f'"listen": "127.0.0.1:{ncport}"' in out.stdout and pubkey in out.stdout
         and again.stdout == out.stdout, '--check-config prints netconf and ssh-key; its output loads again',
         out.stdout + out.stderr)
    rc_client = Client(n.base, basic=f'admin:{PW}')
    sessions = []

    def connect(user, **kw):
        args = dict(host='127.0.0.1', port=ncport, username=user, hostkey_verify=False,
                    allow_agent=False, look_for_keys=False, timeout=20)
        args.update(kw)
        m = manager.connect(**args)
        sessions.append(m)
        return m

    try:
        n.start()
        # the SSH listener comes up right after RESTCONF
        for _ in range(100):
            try:
                __import__('socket').create_connection(('127.0.0.1', ncport), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        t.ok(os.stat(os.path.join(n.store, 'ssh_host_key')).st_mode & 0o777 == 0o600,
             'host key made at first start, mode 0600')

        a = connect('admin', password=PW)
        t.ok(a.connected, 'password login (admin)')
        caps = list(a.server_capabilities)
        t.ok(any('writable-running' in c for c in caps) and any('yang-library:1.1' in c for c in caps),
             'hello: writable-running and yang-library', ' '.join(caps))
        k = connect('admin', key_filename=os.path.join(work, 'id'))
        t.ok(k.connected, 'public key login (admin)')
        try:
            connect('admin', password='wrong')
            t.ok(False, 'wrong password refused')
        except Exception:  # noqa: BLE001 - ncclient raises AuthenticationError (an SSHError)
            t.ok(True, 'wrong password refused')
        ro = connect('viewer', password=PW)

        # edit-config merge, then seen over RESTCONF
        a.edit_config(target='running', config=config(network('lab', '10.1.0.0/24', '10.1.0.10', '10.1.0.200')))
        st, body = rc_client.get('/restconf/data/netd:networks/network=lab')
        t.ok(st == 200 and body['netd:network'][0]['ipv4']['subnet'] == '10.1.0.0/24',
             'edit-config merge is seen over RESTCONF', f'{st} {body}')

        # RESTCONF edit, then seen over NETCONF (get-config with a subtree filter)
        st, _ = rc_client.request('PUT', '/restconf/data/netd:networks/network=web', {
            'netd:network': [{'name': 'web', 'ipv4': {'subnet': '10.2.0.0/24', 'range': [
                {'name': 'h', 'first': '10.2.0.10', 'last': '10.2.0.100'}]}}]})
        flt = f'<networks xmlns="{NS}"><network><name>web</name></network></networks>'
        x = k.get_config('running', filter=('subtree', flt)).data_xml
        t.ok(st == 201 and '10.2.0.0/24' in x and '>lab<' not in x,
             'RESTCONF PUT is seen over NETCONF; the subtree filter selects one entry', f'{st} {x}')
        x = ro.get_config('running', filter=('subtree', f'<networks xmlns="{NS}"><network><name/></network></networks>')).data_xml
        t.ok('>lab<' in x and '>web<' in x and 'subnet' not in x, 'selection filter: names only', x)
        x = ro.get(filter=('subtree', f'<status xmlns="{NS}"/>')).data_xml
        t.ok('<networks>2</networks>' in x and '<network>' not in x, 'get: state data (status)', x)

        # merge of one leaf; replace of an entry; create on an existing entry
        a.edit_config(target='running', config=config('<network><name>lab</name><mtu>9000</mtu></network>'))
        x = a.get_config('running', filter=('subtree', f'<networks xmlns="{NS}"><network><name>lab</name><mtu/></network></networks>')).data_xml
        t.ok('<mtu>9000</mtu>' in x, 'merge changes one leaf', x)
        a.edit_config(target='running', config=config(network('lab', '10.1.0.0/24', '10.1.0.10', '10.1.0.250', op='replace')))
        st, body = rc_client.get('/restconf/data/netd:networks/network=lab')
        t.ok(st == 200 and body['netd:network'][0].get('mtu') == 1500
             and body['netd:network'][0]['ipv4']['range'][0]['last'] == '10.1.0.250',
             'replace: the entry is replaced (mtu back to its default)', f'{body}')
        tag, path, msg = rpc_error(lambda: a.edit_config(
            target='running', config=config(network('lab', '10.1.0.0/24', '10.1.0.10', '10.1.0.20', op='create'))))
        t.ok(tag == 'data-exists' and "network[name='lab']" in path, 'create on an existing entry: data-exists',
             f'{tag} {path} {msg}')
        tag, path, msg = rpc_error(lambda: a.edit_config(
            target='running', config=config('<network nc:operation="delete"><name>nope</name></network>')))
        t.ok(tag == 'data-missing' and "network[name='nope']" in path, 'delete of a missing entry: data-missing',
             f'{tag} {path} {msg}')
        a.edit_config(target='running', config=config('<network nc:operation="remove"><name>nope</name></network>'))
        t.ok(True, 'remove of a missing entry: ok')
        tag, path, msg = rpc_error(lambda: a.edit_config(
            target='running', config=config('<network><name>lab</name><mtu>70000</mtu></network>')))
        t.ok(tag == 'invalid-value' and path.endswith('/mtu') and 'lab' in path,
             'a bad value: invalid-value naming the path', f'{tag} {path} {msg}')
        tag, path, msg = rpc_error(lambda: a.edit_config(
            target='running', config=config(network('bad', '10.9.0.1/24', '10.9.0.10', '10.9.0.20'))))
        t.ok(tag == 'invalid-value' and path.endswith('/subnet') and '10.9.0.0/24' in msg,
             'host bits in a prefix: the RESTCONF message and path', f'{tag} {path} {msg}')

        # configuration documents (decisions.md D23): roles and dns, edited
        # over NETCONF, seen over RESTCONF, with the same errors
        roles = f'<config xmlns="{NC}" xmlns:nc="{NC}"><roles xmlns="{NS}">%s</roles></config>'
        a.edit_config(target='running', config=roles % '<role><name>base</name></role>'
                      '<role><name>web</name><requires>base</requires><jig>exec</jig>'
                      '<script>/bin/true</script></role>')
        st, body = rc_client.get('/restconf/data/netd:roles/role=web')
        t.ok(st == 200 and body['netd:role'][0]['requires'] == ['base'] and body['netd:role'][0]['script'] == '/bin/true',
             'edit-config of roles is seen over RESTCONF', f'{st} {body}')
        tag, path, msg = rpc_error(lambda: a.edit_config(target='running', config=roles % (
            '<role nc:operation="create"><name>base</name></role>')))
        t.ok(tag == 'data-exists' and "role[name='base']" in path, 'roles: create on an existing entry: data-exists',
             f'{tag} {path} {msg}')
        a.edit_config(target='running', config=roles % '<role nc:operation="delete"><name>web</name></role>')
        st, _ = rc_client.get('/restconf/data/netd:roles/role=web')
        st2, _ = rc_client.get('/restconf/data/netd:roles/role=base')
        t.ok(st == 404 and st2 == 200, 'roles: delete of one entry leaves the others', f'{st} {st2}')
        dns = f'<config xmlns="{NC}"><dns xmlns="{NS}">%s</dns></config>'
        tag, path, msg = rpc_error(lambda: a.edit_config(target='running', config=dns % (
            '<zone><name>lab.example</name><server>127.0.0.1:53</server><key>nokey</key></zone>')))
        t.ok(tag == 'invalid-value' and path.endswith('/key') and 'lab.example' in path,
             'dns: a zone naming a missing key is refused with its path', f'{tag} {path} {msg}')
        st, body = rc_client.get('/restconf/data/netd:dns?content=config')
        t.ok(st in (200, 404) and 'zone' not in str(body), 'dns: the refused edit left nothing behind', f'{st} {body}')
        st, _ = rc_client.request('PUT', '/restconf/data/netd:dns', {'netd:dns': {'key': [
            {'name': 'k1', 'secret': 'c2VjcmV0LXNlY3JldC1zZWNyZXQ='}]}})
        flt = f'<dns xmlns="{NS}"/>'
        x_ro = ro.get_config('running', filter=('subtree', flt)).data_xml
        x_admin = a.get_config('running', filter=('subtree', flt)).data_xml
        t.ok(st in (201, 204) and '<name>k1</name>' in x_ro and 'c2VjcmV0' not in x_ro and 'c2VjcmV0' in x_admin,
             'a TSIG secret is shown to admins only (read-only users see the key without it)', f'{st} {x_ro}')

        # the netd RPCs
        reply = a.dispatch(to_ele(f'<allocate-address xmlns="{NS}"><network>lab</network><name>vip1</name></allocate-address>'))
        m = re.search(r'<address[^>]*>([^<]+)</address>', reply.xml)
        t.ok(m and m.group(1).startswith('10.1.0.'), 'allocate-address returns an address', reply.xml)
        tag, path, msg = rpc_error(lambda: a.dispatch(to_ele(
            f'<allocate-address xmlns="{NS}"><network>nope</network><name>vip2</name></allocate-address>')))
        t.ok(tag is not None and 'nope' in msg + path, 'allocate-address in a missing network: rpc-error',
             f'{tag} {path} {msg}')
        if m:
            a.dispatch(to_ele(f'<release-address xmlns="{NS}"><network>lab</network><address>{m.group(1)}</address></release-address>'))
            t.ok(True, 'release-address: ok')

        # roles
        tag, _, msg = rpc_error(lambda: ro.edit_config(target='running', config=config(
            '<network><name>lab</name><mtu>1400</mtu></network>')))
        t.ok(tag == 'access-denied', 'read-only user: edit-config is access-denied', f'{tag} {msg}')
        tag, _, _ = rpc_error(lambda: ro.dispatch(to_ele(
            f'<allocate-address xmlns="{NS}"><network>lab</network><name>vip3</name></allocate-address>')))
        t.ok(tag == 'access-denied', 'read-only user: allocate-address is access-denied', f'{tag}')

        # lock: another session's edit and RESTCONF writes are refused until unlock
        a.lock(target='running')
        tag, _, msg = rpc_error(lambda: k.edit_config(target='running', config=config(
            '<network><name>lab</name><mtu>1400</mtu></network>')))
        t.ok(tag == 'in-use', 'locked: another session\'s edit-config is in-use', f'{tag} {msg}')
        tag, _, msg = rpc_error(lambda: k.lock(target='running'))
        t.ok(tag == 'lock-denied', 'locked: a second lock is lock-denied', f'{tag} {msg}')
        st, body = rc_client.json('PATCH', '/restconf/data/netd:networks/network=lab',
                                  {'netd:network': [{'name': 'lab', 'mtu': 1400}]})
        t.ok(st == 409 and error_of(body)[0] == 'in-use', 'locked: a RESTCONF write is 409 in-use', f'{st} {body}')
        a.edit_config(target='running', config=config('<network><name>lab</name><mtu>1450</mtu></network>'))
        t.ok(True, 'locked: the holder may edit')
        a.unlock(target='running')
        st, _ = rc_client.request('PATCH', '/restconf/data/netd:networks/network=lab',
                                  {'netd:network': [{'name': 'lab', 'mtu': 1400}]})
        t.ok(st == 204, 'unlocked: RESTCONF writes again', f'{st}')
        k.lock(target='running')
        k.close_session()
        sessions.remove(k)
        time.sleep(0.3)
        a.edit_config(target='running', config=config('<network><name>lab</name><mtu>1500</mtu></network>'))
        t.ok(True, 'a lock ends with its session')

        # operations below an entry; default-operation none; nodes and their leafrefs
        tag, path, _ = rpc_error(lambda: a.edit_config(target='running', config=config(
            '<network><name>lab</name><dns-domain nc:operation="delete"/></network>')))
        t.ok(tag == 'data-missing' and path.endswith('/dns-domain'), 'nested delete of a missing leaf: data-missing',
             f'{tag} {path}')
        a.edit_config(target='running', default_operation='none', config=config(
            '<network><name>lab</name><dns-domain nc:operation="create">lab.example</dns-domain></network>'))
        a.edit_config(target='running', default_operation='none', config=config(
            '<network><name>lab</name><mtu nc:operation="replace">1500</mtu></network>'))
        st, body = rc_client.get('/restconf/data/netd:networks/network=lab')
        t.ok(st == 200 and body['netd:network'][0].get('dns-domain') == 'lab.example',
             'default-operation none: only the nested create happens', f'{body}')
        a.edit_config(target='running', config=config(
            '<network><name>lab</name><dns-domain nc:operation="remove"/></network>'))
        st, body = rc_client.get('/restconf/data/netd:networks/network=lab')
        t.ok(st == 200 and 'dns-domain' not in body['netd:network'][0], 'nested remove of a leaf', f'{body}')
        a.edit_config(target='running', config=config(network('tmp', '10.7.0.0/24', '10.7.0.10', '10.7.0.20')))
        a.edit_config(target='running', config=config('<network nc:operation="delete"><name>tmp</name><mtu/></network>'))
        st, _ = rc_client.get('/restconf/data/netd:networks/network=tmp')
        t.ok(st == 404, 'delete of an entry given with an empty leaf', f'{st}')
        nodes = (f'<config xmlns="{NC}"><nodes xmlns="{NS}"><node><name>n1</name>'
                 '<network><name>{net}</name></network></node></nodes></config>')
        tag, path, msg = rpc_error(lambda: a.edit_config(target='running', config=nodes.format(net='nope')))
        t.ok(tag == 'invalid-value' and 'nope' in msg, 'a node on a missing network: invalid-value',
             f'{tag} {path} {msg}')
        a.edit_config(target='running', config=nodes.format(net='lab'))
        st, body = rc_client.get('/restconf/data/netd:nodes/node=n1')
        addrs = body['netd:node'][0].get('address', []) if st == 200 else []
        t.ok(st == 200 and addrs and addrs[0]['address'].startswith('10.1.0.'),
             'a node created over NETCONF gets its address', f'{st} {body}')
        try:
            a.edit_config(target='running', config=config('<network><name>lab</name><mtu>abc</mtu></network>'))
        except RPCError as e:
            t.ok(e.type == 'application' and e.severity == 'error', 'rpc-error: error-type application',
                 f'{e.type} {e.severity}')

        # concurrent writers: two NETCONF sessions and RESTCONF at once, nothing lost
        errors = []

        def nc_writer(m, prefix, third):
            try:
                for i in range(4):
                    m.edit_config(target='running', config=config(network(
                        f'{prefix}{i}', f'10.{third}.{i}.0/24', f'10.{third}.{i}.10', f'10.{third}.{i}.20')))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        def rc_writer():
            for i in range(4):
                st, _ = rc_client.request('PUT', f'/restconf/data/netd:networks/network=r{i}', {
                    'netd:network': [{'name': f'r{i}', 'ipv4': {'subnet': f'10.62.{i}.0/24', 'range': [
                        {'name': 'h', 'first': f'10.62.{i}.10', 'last': f'10.62.{i}.20'}]}}]})
                if st != 201:
                    errors.append(f'PUT r{i}: {st}')

        k2 = connect('admin', key_filename=os.path.join(work, 'id'))
        ths = [threading.Thread(target=nc_writer, args=(a, 'a', 60)), threading.Thread(target=nc_writer, args=(k2, 'b', 61)),
               threading.Thread(target=rc_writer)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        x = ro.get_config('running', filter=('subtree', f'<networks xmlns="{NS}"><network><name/></network></networks>')).data_xml
        want = [f'{p}{i}' for p in 'abr' for i in range(4)]
        t.ok(not errors and all(f'<name>{w}</name>' in x for w in want),
             'concurrent NETCONF and RESTCONF writers: every change is there', f'{errors} {x}')
        a.edit_config(target='running', config=config(''.join(
            f'<network nc:operation="delete"><name>{w}</name></network>' for w in want)))
        st, body = rc_client.get('/restconf/data/netd:networks')
        t.ok(st == 200 and len(body['netd:networks']['network']) == 2, 'one edit-config deletes twelve entries',
             f'{st} {body}')

        # delete, then default-operation none with a nested delete
        a.edit_config(target='running', config=config('<network nc:operation="delete"><name>web</name></network>'))
        st, _ = rc_client.get('/restconf/data/netd:networks/network=web')
        t.ok(st == 404, 'delete: gone over RESTCONF too', f'{st}')

        a.dispatch(to_ele(f'<rename-node xmlns="{NS}"><from>n1</from><to>n2</to></rename-node>'))
        st, body = rc_client.get('/restconf/data/netd:nodes/node=n2')
        t.ok(st == 200 and body['netd:node'][0].get('address', [{}])[0].get('address') == addrs[0]['address'],
             'rename-node keeps the address', f'{st} {body}')
        # default-operation replace: the <config> is the whole configuration
        a.edit_config(target='running', default_operation='replace', config=(
            f'<config xmlns="{NC}"><networks xmlns="{NS}">'
            + network('lab', '10.1.0.0/24', '10.1.0.10', '10.1.0.250') + network('db', '10.3.0.0/24', '10.3.0.10', '10.3.0.20')
            + '</networks></config>'))
        st, body = rc_client.get('/restconf/data/netd:networks')
        names = sorted(x['name'] for x in body['netd:networks']['network']) if st == 200 else []
        st2, _ = rc_client.get('/restconf/data/netd:nodes/node=n2')
        t.ok(names == ['db', 'lab'] and st2 == 404, 'default-operation replace: networks as given, nodes gone',
             f'{names} {st2}')

        # yangcli (yuma123), non-interactively, when installed
        yangcli = shutil.which('yangcli')
        if yangcli:
            yangdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'yang')
            out = subprocess.run(
                [yangcli, '--server=127.0.0.1', f'--ncport={ncport}', '--user=admin', f'--password={PW}',
                 '--batch-mode', '--run-command=sget /networks', '--display-mode=xml', f'--home={work}',
                 f'--modpath={yangdir}:/usr/share/yuma/modules', '--module=netd', '--timeout=20'],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, cwd=work)
            t.ok(out.returncode == 0 and 'NETCONF session established' in out.stdout
                 and '<name>lab</name>' in out.stdout,
                 'yangcli --batch-mode (password, libssh2): sget /networks', (out.stdout + out.stderr)[-800:])
        else:
            print('# yangcli not installed: skipped')

        # clean stop with sessions open
        rc = n.stop()
        t.ok(rc == 0, 'SIGTERM with open NETCONF sessions: netd exits 0', f'rc={rc} {n.tail_log()}')
        with open(n.log) as f:
            log = f.read()
        t.ok(not SANITIZER.search(log), 'no sanitizer reports', log[-2000:])
    except Exception as e:  # noqa: BLE001
        t.ok(False, 'unexpected exception', repr(e) + ' ' + n.tail_log())
    finally:
        for s in sessions:
            try:
                s.close_session()
            except Exception:  # noqa: BLE001
                pass
        n.stop()
        if not os.environ.get("NETD_TEST_KEEP"):
            cleanup(work)
        else:
            print(f"# kept {work}")
    t.done()


if __name__ == '__main__':
    main()
