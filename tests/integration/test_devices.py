#!/usr/bin/env python3
"""Switches and BMCs as managed nodes, end to end (netd/devd.h, decisions.md D26).

Real peers on loopback, started here and stopped by PID:
  - net-snmp's snmpd simulating a 24-port switch (tests/peers/switch:
    pass_persist Q-BRIDGE-MIB, IF-MIB, LLDP-MIB, FDB; its state file is
    read with `switchsim_pp.py ctl STATE dump` and LLDP/FDB entries placed
    with `ctl lldp` / `ctl fdb`), SNMPv3 authPriv;
  - netd's NETCONF test switch (tests/peers/ncswitch, started with its
    start.sh; read back with OpenSSH's `ssh -s netconf` <get-config>);
  - OpenIPMI's ipmi_sim (tests/peers/bmc), RMCP+ on LAN channel 2, read
    back with `ipmitool -I lanplus ... lan print 2`;
  - netd, driven by RESTCONF (curl) and netctl.

Model: networks admin (untagged, VLAN 10), storage (tagged, VLAN 200,
use-vlan), bmc (conduit bmc, VLAN 30 use-vlan, dns-name-template
'{node}-bmc.{domain}'); nodes n1 (admin, storage, bmc), n2 (admin,
storage), n3 (admin) with NIC inventories; switch sw1 (allowed ports 1-20,
idle VLAN 999) with an operator link (port 3, n3's NIC by MAC).

Steps: learn (LLDP on port 1, FDB on ports 2 and 22) -> the switch carries
rows netd-admin / netd-storage, PVIDs and aliases as expected, port 22
(outside allowed-ports) reported refused and untouched; a second sync sends
zero SETs; n2 deleted -> its port goes to the idle VLAN; a switch with a
wrong key -> state error naming it; a refused idle VLAN; a NETCONF switch
sw3 (driver netconf, key + known_hosts) with operator links for n1 and n3:
switch-sync commits the ports' VLANs (read back over ssh), a second sync
sends no edit-config, switch-learn says learning needs SNMP, a wrong key
is a state error naming switch and key; n1's BMC gets its
ipam address, mask, gateway and VLAN (ipmitool), its DNS name derives from
the template, a second sync sends no Set, a wrong password and a node
without a BMC network are errors naming the node; a deployment with a
`devices` role converges (the switch as a model node), one on the switch
with the wrong key fails naming it; rename of n1 (learned link and BMC
follow); restart keeps the learned links; netctl switch/bmc output; no
secret in netd's log.

usage: test_devices.py PATH-TO-NETD PATH-TO-NETCTL PEERS-DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netdtest import Checks, Client, Netd, cleanup, error_of, tempdir  # noqa: E402

SANITIZER = re.compile(r'ERROR: \w*Sanitizer|runtime error|SUMMARY: \w*Sanitizer')
WAIT = 60   # seconds: only keeps a broken run from hanging, never asserted
AUTH, PRIV = 'authpass-123', 'privpass-123'   # tests/peers/switch test-only user swadmin

MACS = {   # node -> [(nic, mac)]
    'n1': [('eth0', '52:54:00:00:01:01'), ('eth1', '52:54:00:00:01:02')],
    'n2': [('eth0', '52:54:00:00:02:01')],
    'n3': [('eth0', '52:54:00:00:03:01'), ('eth1', '52:54:00:00:03:02')],
}


def env_file(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition('=')
            out[k] = v
    return out


def wait_for(pred, what):
    deadline = time.time() + WAIT
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise RuntimeError(f'gave up waiting for {what}')


class Lab:
    def __init__(self, netd_bin, netctl_bin, peers, work):
        self.netctl_bin, self.peers, self.work, self.netd_bin = netctl_bin, peers, work, netd_bin
        self.ncsw = False
        self.netd = Netd(netd_bin, work)
        self.sw_dir = os.path.join(work, 'sw')
        self.bmc_dir = os.path.join(work, 'bmc')
        self.sim_py = os.path.join(peers, 'switch', 'switchsim_pp.py')
        self.c = None

    def up(self):
        subprocess.run([os.path.join(self.peers, 'switch', 'start.sh'), self.sw_dir, '24'], check=True,
                       capture_output=True)
        e = env_file(os.path.join(self.sw_dir, 'peers.env'))
        self.sw_port, self.sw_state = e['SWITCH_PORT'], e['SWITCH_STATE']
        subprocess.run([os.path.join(self.peers, 'bmc', 'start.sh'), self.bmc_dir], check=True, capture_output=True)
        e = env_file(os.path.join(self.bmc_dir, 'peers.env'))
        self.bmc_port = e['BMC_PORT']
        with open(os.path.join(self.bmc_dir, 'bmc.cred')) as f:
            admin = [line.split() for line in f if line.startswith('admin ')][0]
        self.bmc_user, self.bmc_pass = admin[1], admin[2]
        self.pass_file = os.path.join(self.work, 'bmc.pass')
        self.write_pass(self.bmc_pass)
        self.netd.start()
        self.c = Client(self.netd.base, auth_header=f'Authorization: Bearer {self.netd.token()}')

    def down(self):
        rc = self.netd.stop()
        subprocess.run([os.path.join(self.peers, 'switch', 'stop.sh'), self.sw_dir], capture_output=True)
        subprocess.run([os.path.join(self.peers, 'bmc', 'stop.sh'), self.bmc_dir], capture_output=True)
        if self.ncsw:
            subprocess.run([os.path.join(self.peers, 'ncswitch', 'stop.sh'), self.work, 'ncsw'], capture_output=True)
        return rc

    def write_pass(self, pw):
        with open(os.path.join(self.pass_file), 'w') as f:
            f.write(pw + '\n')
        os.chmod(self.pass_file, 0o600)

    # ---- tools
    def sim(self, *args):
        subprocess.run(['/usr/bin/python3', self.sim_py, 'ctl', self.sw_state] + [str(a) for a in args], check=True)

    def dump(self):
        """The switch state: {'vlan': {id: (status, name, egress, untagged)}, 'pvid': {}, 'alias': {}}."""
        out = subprocess.run(['/usr/bin/python3', self.sim_py, 'ctl', self.sw_state, 'dump'], check=True,
                             capture_output=True, text=True).stdout
        d = {'vlan': {}, 'pvid': {}, 'alias': {}}
        for line in out.splitlines():
            if line.startswith('vlan '):
                m = re.match(r'vlan (\d+) status=(\d+) name=(.*) egress=(\w*) untagged=(\w*)$', line)
                d['vlan'][int(m.group(1))] = (int(m.group(2)), m.group(3), m.group(4), m.group(5))
            elif line.startswith('pvid '):
                _, p, v = line.split()
                d['pvid'][int(p)] = int(v)
            elif line.startswith('alias '):
                parts = line.split(' ', 2)
                d['alias'][int(parts[1])] = parts[2] if len(parts) > 2 else ''
        return d

    def netctl(self, *args):
        p = subprocess.run([self.netctl_bin, '--server', self.netd.base, '--token-file',
                            os.path.join(self.netd.store, 'admin.token')] + list(args),
                           capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    def lan_print(self):
        env = dict(os.environ, IPMI_PASSWORD=self.bmc_pass)
        out = subprocess.run(['ipmitool', '-I', 'lanplus', '-H', '127.0.0.1', '-p', self.bmc_port, '-U',
                              self.bmc_user, '-E', '-C', '3', '-N', '2', '-R', '2', 'lan', 'print', '2'],
                             capture_output=True, text=True, env=env).stdout
        got = {}
        for line in out.splitlines():
            k, _, v = line.partition(':')
            got.setdefault(k.strip(), v.strip())
        return got

    def switch(self, name):
        st, body = self.c.get(f'/restconf/data/netd:switches/switch={name}')
        return body['netd:switch'][0] if st == 200 else None

    def ports(self, name):
        return {p['port']: p for p in (self.switch(name) or {}).get('port', [])}

    def rpc(self, name, inp):
        return self.c.json('POST', f'/restconf/operations/netd:{name}', {'netd:input': inp})


def portlist(ports, nports=24):
    b = bytearray((nports + 7) // 8)
    for p in ports:
        b[(p - 1) // 8] |= 0x80 >> ((p - 1) % 8)
    return b.hex()


def model(c, lab):
    nets = [
        {'name': 'admin', 'conduit': 'intf0', 'primary': True, 'vlan': 10, 'dns-domain': 'lab.example',
         'ipv4': {'subnet': '10.10.0.0/24', 'router': '10.10.0.1',
                  'range': [{'name': 'host', 'first': '10.10.0.10', 'last': '10.10.0.200'}]}},
        {'name': 'storage', 'conduit': 'intf0', 'vlan': 200, 'use-vlan': True,
         'ipv4': {'subnet': '10.20.0.0/24', 'range': [{'name': 'host', 'first': '10.20.0.10', 'last': '10.20.0.200'}]}},
        {'name': 'bmc', 'conduit': 'bmc', 'vlan': 30, 'use-vlan': True, 'dns-domain': 'lab.example',
         'dns-name-template': '{node}-bmc.{domain}',
         'ipv4': {'subnet': '10.30.0.0/24', 'router': '10.30.0.1',
                  'range': [{'name': 'bmc', 'first': '10.30.0.20', 'last': '10.30.0.200'}]}},
    ]
    nodes = [
        {'name': 'n1', 'admin-mac': MACS['n1'][0][1], 'network': [{'name': 'admin'}, {'name': 'storage'}, {'name': 'bmc'}]},
        {'name': 'n2', 'admin-mac': MACS['n2'][0][1], 'network': [{'name': 'admin'}, {'name': 'storage'}]},
        {'name': 'n3', 'admin-mac': MACS['n3'][0][1], 'network': [{'name': 'admin'}]},
    ]
    for n in nets:
        st, _ = c.json('PUT', f'/restconf/data/netd:networks/network={n["name"]}', {'netd:network': [n]})
        assert st in (201, 204), st
    for n in nodes:
        st, _ = c.json('PUT', f'/restconf/data/netd:nodes/node={n["name"]}', {'netd:node': [n]})
        assert st in (201, 204), st
        inv = {'netd:inventory': {'nic': [{'name': k, 'mac': m} for k, m in MACS[n['name']]]}}
        st, _ = lab.rpc('report-inventory', {'node': n['name'], 'inventory': json.dumps(inv)})
        assert st == 200, st


def switch_entry(lab, name, key, links=()):
    return {'name': name, 'address': f'127.0.0.1:{lab.sw_port}', 'learn-interval': 0,
            'snmp': {'user': 'swadmin', 'auth-key': key, 'priv-key': PRIV},
            'allowed-vlans': ['1-1000'], 'allowed-ports': ['1-20'], 'idle-vlan': 999, 'link': list(links)}


def test_switch(ck, lab):
    c = lab.c
    st, body = c.json('PUT', '/restconf/data/netd:switches', {'netd:switches': {'switch': [
        switch_entry(lab, 'sw1', AUTH, [{'port': 3, 'node': 'n3', 'nic': MACS['n3'][0][1]}])]}})
    ck.ok(st == 201, 'PUT /netd:switches with sw1 (an operator link by MAC on port 3)', f'{st} {body}')
    # the simulator's SET handler rewrites its state file: let the first sync end before editing it
    wait_for(lambda: lab.switch('sw1')['state'] == 'in-sync', 'the first sync of sw1')
    # LLDP: port 1 neighbour with port id subtype macAddress = n1 eth0; FDB: n2 eth0 on
    # port 2, n3 eth1 on port 22 (outside allowed-ports)
    lab.sim('lldp', 1, 1, 4, '525400000101', 3, '525400000101', 'n1')
    lab.sim('fdb', 1, MACS['n2'][0][1], 2)
    lab.sim('fdb', 1, MACS['n3'][1][1], 22)
    rc, out, err = lab.netctl('switch', 'learn', 'sw1')
    ck.ok(rc == 0 and re.search(r'^1\s+n1\s+eth0\s+52:54:00:00:01:01\s+lldp', out, re.M) and
          re.search(r'^2\s+n2\s+eth0\s+\S+\s+fdb', out, re.M) and re.search(r'^22\s+n3\s+eth1\s+\S+\s+fdb', out, re.M),
          'netctl switch learn sw1: LLDP on port 1, FDB on ports 2 and 22', out + err)
    d = lab.dump()
    ck.ok(d['vlan'].get(10) == (1, 'netd-admin', portlist([1, 2, 3]), portlist([1, 2, 3])),
          'VLAN 10 row netd-admin: ports 1-3 untagged', str(d['vlan'].get(10)))
    ck.ok(d['vlan'].get(200) == (1, 'netd-storage', portlist([1, 2]), portlist([])),
          'VLAN 200 row netd-storage: ports 1, 2 tagged (n3 has no storage)', str(d['vlan'].get(200)))
    ck.ok(d['vlan'][1][2] == portlist(range(4, 25)) and d['vlan'][1][1] == 'default',
          'the foreign VLAN 1 row kept, losing only the managed ports', str(d['vlan'][1]))
    ck.ok([d['pvid'][p] for p in (1, 2, 3)] == [10, 10, 10] and d['pvid'][22] == 1, 'PVIDs 10 on ports 1-3, port 22 untouched',
          str(d['pvid']))
    ck.ok(d['alias'][1] == 'netd: n1 eth0' and d['alias'][2] == 'netd: n2 eth0' and d['alias'][3] == 'netd: n3 eth0'
          and d['alias'][22] == '', 'ifAlias names node and NIC; port 22 untouched', str(d['alias']))
    sw = lab.switch('sw1')
    ports = {p['port']: p for p in sw.get('port', [])}
    ck.ok(sw['state'] == 'in-sync' and int(sw['last-apply']['set-pdus']) > 0 and sw['last-apply']['verified'],
          'sw1 in-sync after the learn; it sent SETs and verified', json.dumps(sw.get('last-apply')))
    p1, p22 = ports.get(1, {}), ports.get(22, {})
    ck.ok(p1.get('pvid') == 10 and p1.get('tagged') == '200' and p1.get('want-tagged') == '200' and
          p1.get('source') == 'lldp' and p1.get('managed') is True and p1.get('alias') == 'netd: n1 eth0',
          'GET port 1: actual and wanted VLANs, source lldp', json.dumps(p1))
    ck.ok(ports.get(3, {}).get('source') == 'operator' and ports[3].get('nic') == 'eth0',
          'port 3: the operator link, its MAC resolved to eth0', json.dumps(ports.get(3)))
    ck.ok(p22.get('managed') is False and 'port 22' in p22.get('refused', '') and
          'not in the allowed ports' in p22.get('refused', '') and 'sw1' in p22.get('refused', ''),
          'port 22 (outside allowed-ports) reported, not applied', json.dumps(p22))
    ll = {x['port']: x for x in sw.get('learned-link', [])}
    ck.ok('not in the allowed ports' in ll.get(22, {}).get('note', '') and not ll.get(1, {}).get('note'),
          'learned-link 22 carries the refusal', json.dumps(ll.get(22)))

    rc, out, err = lab.netctl('switch', 'sync', 'sw1')
    sw = lab.switch('sw1')
    ck.ok(rc == 0 and sw['last-apply']['set-pdus'] == 0 and 'in 0 SET PDUs' in out and sw['state'] == 'in-sync',
          'second sync: zero SETs', out + err + json.dumps(sw.get('last-apply')))
    ck.ok(lab.dump() == d, 'the switch unchanged by the second sync')

    rc, out, err = lab.netctl('node', 'delete', 'n2')
    wait_for(lambda: lab.dump()['pvid'][2] == 999, 'port 2 to reach the idle VLAN')
    wait_for(lambda: lab.switch('sw1')['state'] != 'pending', 'sw1 to record the change')
    d = lab.dump()
    ck.ok(d['vlan'].get(999) == (1, 'netd-idle', portlist([2]), portlist([2])) and d['alias'][2] == 'netd: idle' and
          d['vlan'][10][2] == portlist([1, 3]) and d['vlan'][200][2] == portlist([1]),
          'n2 deleted: port 2 untagged in netd-idle (VLAN 999), out of VLANs 10 and 200', str(d))
    p2 = lab.ports('sw1').get(2, {})
    l2 = {x['port']: x for x in lab.switch('sw1').get('learned-link', [])}.get(2, {})
    ck.ok(p2.get('want-pvid') == 999 and p2.get('node') == 'n2' and p2.get('managed') is True and
          l2.get('note') == 'node n2 is not in the model: its port is released',
          'GET port 2: released, wants the idle VLAN; its learned link says why', json.dumps([p2, l2]))
    rc, out, err = lab.netctl('switch', 'learn', 'sw1')
    ck.ok(rc == 0 and re.search(r'^2\s+n2\s+eth0\s.*node n2 is not in the model', out, re.M) and
          re.search(r'^22\s+n3\s+eth1\s.*not in the allowed ports', out, re.M) and lab.dump()['pvid'][2] == 999,
          'a new learn keeps the released link (its node is gone) and the refusal note', out + err)

    # a refused idle VLAN, and the second switch with a wrong key
    bad = switch_entry(lab, 'swx', AUTH)
    bad['idle-vlan'] = 2000
    st, body = c.json('PUT', '/restconf/data/netd:switches/switch=swx', {'netd:switch': [bad]})
    tag, path, msg = error_of(body)
    ck.ok(st == 400 and path.endswith("switch[name='swx']/idle-vlan") and 'not in allowed-vlans' in msg,
          'idle VLAN outside allowed-vlans refused at its path', f'{st} {body}')
    st, body = c.json('PUT', '/restconf/data/netd:switches/switch=sw2',
                      {'netd:switch': [switch_entry(lab, 'sw2', 'wrongpass-000')]})
    ck.ok(st == 201, 'sw2 added (a wrong auth key)', f'{st} {body}')
    rc, out, err = lab.netctl('switch', 'sync', 'sw2')
    sw2 = lab.switch('sw2')
    ck.ok(rc == 1 and sw2['state'] == 'error' and 'switch sw2' in sw2.get('last-error', '') and
          'switch sw2' in err and 'auth' in err.lower(), 'sw2: state error naming the switch and the refusal',
          err + json.dumps(sw2))
    ck.ok(lab.dump()['vlan'] == d['vlan'], 'sw2 changed nothing')
    rc, out, err = lab.netctl('switch', 'list')
    ck.ok(rc == 0 and re.search(r'^sw1\s+127\.0\.0\.1:\d+\s+snmp\s+in-sync\s+3/24\s+3\s', out, re.M) and
          re.search(r'^sw2\s.*\serror\s.*switch sw2', out, re.M), 'netctl switch list: sw1 in-sync, sw2 error', out)
    rc, out, err = lab.netctl('switch', 'show', 'sw1')
    ck.ok(rc == 0 and 'state in-sync, 24 bridge ports' in out and
          re.search(r'^2\s+Gi1/0/2\s+netd: idle\s+999\s+-\s+n2\s+eth0\s+fdb\s+999', out, re.M) and
          'port 22 refused: switch sw1 port 22' in out, 'netctl switch show sw1: ports, refusal, learned links', out)
    rc, out, err = lab.netctl('switch', 'show', 'nosuch')
    ck.ok(rc == 1 and "no switch named 'nosuch'" in err, 'netctl switch show of an unknown switch', err)
    st, body = lab.rpc('switch-sync', {'switch': 'nosuch'})
    ck.ok(st == 404 and error_of(body)[1] == '/netd:switch-sync/switch', 'switch-sync of an unknown switch: 404',
          f'{st} {body}')

    test_netconf_switch(ck, lab)

    # the NIC's conduit: n3 gains a network on another conduit -> its link is ambiguous
    st, body = c.json('PUT', '/restconf/data/netd:networks/network=public', {'netd:network': [{
        'name': 'public', 'conduit': 'intf1', 'vlan': 300,
        'ipv4': {'subnet': '10.40.0.0/24', 'range': [{'name': 'host', 'first': '10.40.0.10', 'last': '10.40.0.99'}]}}]})
    st2, _ = c.json('POST', '/restconf/data/netd:nodes/node=n3', {'netd:network': [{'name': 'public'}]})
    wait_for(lambda: 'refused' in lab.ports('sw1').get(3, {}) and lab.switch('sw1')['state'] != 'pending',
             'port 3 refused')
    p3 = lab.ports('sw1')[3]
    ck.ok(st == 201 and st2 == 201 and 'node n3 NIC eth0: its conduit is unknown' in p3['refused'] and
          'intf0, intf1' in p3['refused'] and lab.dump()['pvid'][3] == 10,
          'a NIC whose conduit is ambiguous: refused, its port left as it is', json.dumps(p3))
    # the operator names the conduit, and places n3 eth1 on port 4 (overriding the FDB's port 22)
    st, body = c.json('PUT', '/restconf/data/netd:switches/switch=sw1/link=3', {'netd:link': [
        {'port': 3, 'node': 'n3', 'nic': MACS['n3'][0][1], 'conduit': 'intf0'}]})
    st2, body2 = c.json('PUT', '/restconf/data/netd:switches/switch=sw1/link=4', {'netd:link': [
        {'port': 4, 'node': 'n3', 'nic': 'eth1', 'conduit': 'intf1'}]})
    wait_for(lambda: lab.dump()['pvid'][4] == 300, 'port 4 configured')
    wait_for(lambda: lab.switch('sw1')['state'] != 'pending', 'sw1 to record the change')
    sw = lab.switch('sw1')
    ports = {p['port']: p for p in sw['port']}
    ll = {x['port']: x for x in sw.get('learned-link', [])}
    d = lab.dump()
    ck.ok(st == 204 and st2 == 201 and ports[3].get('managed') is True and ports[3].get('want-pvid') == 10 and
          ports[4].get('want-pvid') == 300 and d['alias'][4] == 'netd: n3 eth1' and
          d['vlan'].get(300, (0, ''))[1] == 'netd-public',
          "the link's conduit decides; port 4 carries n3 eth1's network (netd-public, VLAN 300)",
          json.dumps([ports[3], ports[4]]))
    ck.ok(ll[22].get('note') == 'the operator links n3 eth1 to port 4' and 'node' not in ports.get(22, {}),
          "the operator's link overrides the learned one", json.dumps(ll.get(22)))


NC_HELLO = ('<?xml version="1.0" encoding="UTF-8"?><hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">'
            '<capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>]]>]]>')
NC_GET = ('<rpc message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get-config><source><running/>'
          '</source></get-config></rpc>]]>]]>'
          '<rpc message-id="2" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><close-session/></rpc>]]>]]>')


def nc_running(env):
    """The ncswitch's running ports, read with OpenSSH's netconf subsystem (not netd's driver):
    {ifname: (mode, access-vlan, native-vlan, trunk-vlans)} and {vlan-id: name}."""
    d = env['NCSW_DIR']
    p = subprocess.run(['ssh', '-i', os.path.join(d, 'client_ed25519'), '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes',
                        '-o', 'UserKnownHostsFile=' + os.path.join(d, 'known_hosts'), '-o', 'StrictHostKeyChecking=yes',
                        '-o', 'ConnectTimeout=5', '-p', env['NCSW_PORT'], 'root@127.0.0.1', '-s', 'netconf'],
                       input=NC_HELLO + NC_GET, capture_output=True, text=True, timeout=15)
    reply = [m for m in p.stdout.split(']]>]]>') if 'message-id="1"' in m]
    if not reply:
        return None, None
    x = re.sub(r'\sxmlns(:\w+)?="[^"]*"', '', reply[0])
    x = re.sub(r'<(/?)\w+:', r'<\1', x)
    ports = {}
    for m in re.finditer(r'<interface>(.*?)</interface>', x, re.S):
        body = m.group(1)
        name = re.search(r'<name>([^<]*)</name>', body).group(1)
        sv = re.search(r'<switched-vlan>.*?<config>(.*?)</config>', body, re.S)
        if not sv:
            ports[name] = None
            continue
        g = sv.group(1)

        def one(tag):
            v = re.search(rf'<{tag}>([^<]*)</{tag}>', g)
            return v.group(1) if v else None
        ports[name] = (one('interface-mode'), one('access-vlan'), one('native-vlan'),
                       sorted(re.findall(r'<trunk-vlans>([^<]*)</trunk-vlans>', g)))
    vlans = {int(v): n for v, n in re.findall(r'<vlan>\s*<vlan-id>(\d+)</vlan-id>\s*<config>.*?<name>([^<]*)</name>',
                                              x, re.S)}
    return ports, vlans


def nc_entry(env, name, key, links=(), known_hosts=True):
    d = env['NCSW_DIR']
    nc = {'user': 'root', 'private-key-file': os.path.join(d, key)}
    if known_hosts:
        nc['known-hosts'] = os.path.join(d, 'known_hosts')
    return {'name': name, 'address': f'127.0.0.1:{env["NCSW_PORT"]}', 'driver': 'netconf', 'netconf': nc,
            'allowed-vlans': ['1-1000'], 'allowed-ports': ['1-6'], 'idle-vlan': 999, 'link': list(links)}


def test_netconf_switch(ck, lab):
    """A NETCONF switch (tests/peers/ncswitch, devices/nc.h): operator links, sync, read back, wrong key."""
    c = lab.c
    ncsw = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(lab.netd_bin))), 'tests', 'integration',
                        'ncswitch')
    if not os.path.exists(ncsw) or not shutil.which('ssh-keygen') or \
            not os.path.exists('/usr/share/yuma/modules/ietf/ietf-interfaces@2014-05-08.yang'):
        print(f'SKIP part: NETCONF switch ({ncsw}, ssh-keygen or libyuma-base missing)')
        return
    subprocess.run([os.path.join(lab.peers, 'ncswitch', 'start.sh'), lab.work, 'ncsw', ncsw, '8'], check=True,
                   capture_output=True)
    lab.ncsw = True
    env = env_file(os.path.join(lab.work, 'ncsw', 'env'))
    # credentials are checked at the edit
    bad = nc_entry(env, 'sw3', 'client_ed25519')
    del bad['netconf']
    st, body = c.json('PUT', '/restconf/data/netd:switches/switch=sw3', {'netd:switch': [bad]})
    ck.ok(st == 400 and error_of(body)[1].endswith("switch[name='sw3']/netconf") and
          'netconf/user' in error_of(body)[2], 'driver netconf without credentials refused', f'{st} {body}')
    links = [{'port': 1, 'node': 'n1', 'nic': 'eth0'}, {'port': 2, 'node': 'n3', 'nic': MACS['n3'][0][1]}]
    st, body = c.json('PUT', '/restconf/data/netd:switches/switch=sw3', {'netd:switch': [
        nc_entry(env, 'sw3', 'client_ed25519', links)]})
    rc, out, err = lab.netctl('switch', 'sync', 'sw3')
    sw = lab.switch('sw3')
    la = sw.get('last-apply', {})
    ck.ok(st == 201 and rc == 0 and sw['state'] == 'in-sync' and la.get('steps', 0) >= 3 and
          la.get('applied') == la.get('steps') and la.get('verified') is True and 'candidate' in la.get('summary', ''),
          'sw3 (netconf, key + known_hosts): switch-sync in sync, the edit committed and verified',
          out + err + json.dumps(sw))
    ports, vlans = nc_running(env)
    ck.ok(ports and ports.get('eth1') == ('TRUNK', None, '10', ['200']) and ports.get('eth2') == ('ACCESS', '10', None, [])
          and ports.get('eth3') is None and ports.get('eth8') == ('ACCESS', '500', None, []),
          "the switch's running config (read with ssh -s netconf): eth1 TRUNK native 10 + 200, eth2 ACCESS 10, "
          'unmanaged ports untouched', str(ports))
    ck.ok(vlans and vlans.get(10) == 'netd-admin' and vlans.get(200) == 'netd-storage' and 77 not in vlans and
          vlans.get(500) == 'foreign-500' and vlans.get(1) == 'default',
          "VLANs netd-admin/netd-storage created, unused netd-stale deleted, foreign ones kept", str(vlans))
    p = lab.ports('sw3')
    ck.ok(p.get(1, {}).get('pvid') == 10 and p[1].get('tagged') == '200' and p[1].get('want-tagged') == '200' and
          p[1].get('managed') is True and p.get(2, {}).get('pvid') == 10 and p[2].get('nic') == 'eth0' and
          p[2].get('source') == 'operator' and sw.get('bridge-ports') == 8,
          'GET sw3 ports: actual (as the driver read it back) and wanted', json.dumps(p))
    with open(os.path.join(env['NCSW_DIR'], 'rpc.log')) as f:
        edits = sum(' edit-config' in line for line in f)
    rc, out, err = lab.netctl('switch', 'sync', 'sw3')
    sw = lab.switch('sw3')
    with open(os.path.join(env['NCSW_DIR'], 'rpc.log')) as f:
        edits2 = sum(' edit-config' in line for line in f)
    ck.ok(rc == 0 and sw['state'] == 'in-sync' and sw['last-apply']['steps'] == 0 and
          sw['last-apply']['summary'] == 'nothing to change' and edits2 == edits and nc_running(env)[0] == ports,
          'second sync: the driver reads the config as wanted, zero edits sent', json.dumps(sw.get('last-apply')))
    rc, out, err = lab.netctl('switch', 'learn', 'sw3')
    sw = lab.switch('sw3')
    ck.ok(rc == 1 and 'link learning needs SNMP' in err and 'set its links by hand' in sw.get('last-error', ''),
          'switch-learn on a netconf switch: learning needs SNMP, links by hand', err + json.dumps(sw))
    st, body = c.json('PUT', '/restconf/data/netd:switches/switch=sw3', {'netd:switch': [
        nc_entry(env, 'sw3', 'wrong_ed25519', links)]})
    rc, out, err = lab.netctl('switch', 'sync', 'sw3')
    sw = lab.switch('sw3')
    ck.ok(st == 204 and rc == 1 and sw['state'] == 'error' and 'switch sw3' in sw.get('last-error', '') and
          'wrong_ed25519' in sw.get('last-error', '') and nc_running(env)[0] == ports,
          'wrong key: state error naming the switch and the key, the switch untouched', err + json.dumps(sw))
    st, body = c.json('DELETE', '/restconf/data/netd:switches/switch=sw3')
    subprocess.run([os.path.join(lab.peers, 'ncswitch', 'stop.sh'), lab.work, 'ncsw'], capture_output=True)
    lab.ncsw = False


def test_bmc(ck, lab):
    c = lab.c
    st, node = c.get('/restconf/data/netd:nodes/node=n1')
    addr = [a['address'] for a in node['netd:node'][0]['address'] if a['network'] == 'bmc'][0]
    st, body = c.json('PUT', '/restconf/data/netd:nodes/node=n1/bmc', {'netd:bmc': {
        'user': lab.bmc_user, 'password-file': lab.pass_file, 'host': '127.0.0.1', 'port': int(lab.bmc_port)}})
    ck.ok(st == 201, 'PUT n1/bmc (password-file, host override)', f'{st} {body}')
    rc, out, err = lab.netctl('bmc', 'sync', 'n1')
    ck.ok(rc == 0 and f'address {addr} netmask 255.255.255.0 gateway 10.30.0.1 vlan 30' in out and
          'state in-sync' in out, 'netctl bmc sync n1: in sync with its ipam address', out + err)
    got = lab.lan_print()
    ck.ok(got.get('IP Address') == addr and got.get('Subnet Mask') == '255.255.255.0' and
          got.get('Default Gateway IP') == '10.30.0.1' and got.get('802.1q VLAN ID') == '30' and
          got.get('IP Address Source') == 'Static Address', 'ipmitool lan print: address, mask, gateway, VLAN', str(got))
    rc, out, err = lab.netctl('bmc', 'sync', 'n1')
    st, b = c.get('/restconf/data/netd:nodes/node=n1/bmc')
    ck.ok(rc == 0 and b['netd:bmc']['sets'] == 0 and b['netd:bmc']['state'] == 'in-sync',
          'second bmc sync: no Set command', json.dumps(b))
    st, dns = c.get('/restconf/data/netd:dns')
    recs = [r for r in dns['netd:dns'].get('record-state', []) if r['owner'] == 'n1-bmc.lab.example.' and r['type'] == 'A']
    ck.ok(len(recs) == 1 and recs[0]['data'] == addr and recs[0]['node'] == 'n1',
          'DNS: n1-bmc.lab.example. A from the bmc network template', json.dumps(recs))

    lab.write_pass('wrong-password')
    rc, out, err = lab.netctl('bmc', 'sync', 'n1')
    ck.ok(rc == 1 and 'node n1' in err and f'127.0.0.1:{lab.bmc_port}' in err and 'wrong-password' not in err,
          'wrong BMC password: error naming node and BMC, not the password', err)
    lab.write_pass(lab.bmc_pass)
    rc, out, err = lab.netctl('bmc', 'sync', 'n1')
    ck.ok(rc == 0, 'right password again: in sync', out + err)

    st, body = c.json('PUT', '/restconf/data/netd:nodes/node=n3/bmc', {'netd:bmc': {
        'user': lab.bmc_user, 'password': 'x', 'host': '127.0.0.1', 'port': int(lab.bmc_port)}})
    rc, out, err = lab.netctl('bmc', 'sync', 'n3')
    ck.ok(st == 201 and rc == 1 and 'node n3: no IPv4 address on a network whose conduit is bmc' in err,
          'a node without a bmc network: error naming it', f'{st} {err}')
    st, body = c.json('DELETE', '/restconf/data/netd:nodes/node=n3/bmc')
    st2, body2 = lab.rpc('bmc-sync', {'node': 'n3'})
    ck.ok(st == 204 and st2 == 400 and 'n3 has no bmc configuration' in error_of(body2)[2],
          'bmc container deleted: bmc-sync refused', f'{st} {st2} {body2}')


def wait_deployment(lab, name):
    def done():
        st, body = lab.c.get(f'/restconf/data/netd:deployments/deployment={name}')
        dep = body['netd:deployment'][0] if st == 200 else {}
        return dep if dep.get('state') in ('active', 'error') else None
    return wait_for(done, f'deployment {name}')


def node_roles(lab, dep):
    st, body = lab.c.get('/restconf/data/netd:node-roles')
    return {r['node']: r for r in body['netd:node-roles'].get('node-role', []) if r['deployment'] == dep}


def test_deployment(ck, lab):
    c = lab.c
    for n in ('sw1', 'sw2'):   # switches join deployments as the model nodes of their names
        st, _ = c.json('PUT', f'/restconf/data/netd:nodes/node={n}', {'netd:node': [{'name': n}]})
    st, body = c.json('PUT', '/restconf/data/netd:roles', {'netd:roles': {'role': [
        {'name': 'ports', 'jig': 'devices', 'retry': {'attempts': 1}}]}})
    ck.ok(st in (201, 204), 'role ports with jig devices', f'{st} {body}')
    rc, out, err = lab.netctl('anneal', 'propose', 'd1', '--node', 'n1', '--node', 'n3', '--node', 'sw1', '--role', 'ports')
    rc2, out2, err2 = lab.netctl('anneal', 'commit', 'd1')
    dep = wait_deployment(lab, 'd1')
    nr = node_roles(lab, 'd1')
    ck.ok(rc == 0 and rc2 == 0 and dep['state'] == 'active' and dep['counts']['active'] == 3,
          'deployment d1 (n1, n3, sw1 x devices) converges', json.dumps(dep) + err + err2)
    ck.ok(nr['n1']['summary'] == '2 devices in sync' and 'BMC of n1: in sync' in nr['n1'].get('log', '') and
          'switch sw1: in sync' in nr['n1'].get('log', '') and nr['sw1']['summary'] == '1 device in sync',
          'n1 ran sw1 and its BMC; sw1 ran itself', json.dumps({k: (v.get('summary'), v.get('log')) for k, v in nr.items()}))
    rc, out, err = lab.netctl('anneal', 'propose', 'd2', '--node', 'sw2', '--role', 'ports')
    rc2, out2, err2 = lab.netctl('anneal', 'commit', 'd2')
    dep = wait_deployment(lab, 'd2')
    nr = node_roles(lab, 'd2')
    ck.ok(dep['state'] == 'error' and 'switch sw2' in nr['sw2'].get('summary', ''),
          'deployment d2 on sw2 (wrong key): node-role error naming the switch', json.dumps(nr))


def test_rename_restart(ck, lab):
    rc, out, err = lab.netctl('node', 'rename', 'n1', 'n1a')
    wait_for(lambda: lab.dump()['alias'][1] == 'netd: n1a eth0', 'port 1 alias after the rename')
    wait_for(lambda: lab.switch('sw1')['state'] != 'pending', 'sw1 to record the change')
    sw = lab.switch('sw1')
    ll = {x['port']: x for x in sw.get('learned-link', [])}
    wait_for(lambda: lab.c.get('/restconf/data/netd:nodes/node=n1a/bmc')[1]['netd:bmc']['state'] != 'pending',
             'the BMC checked after the rename')
    st, b = lab.c.get('/restconf/data/netd:nodes/node=n1a/bmc')
    ck.ok(rc == 0 and ll[1]['node'] == 'n1a' and st == 200 and b['netd:bmc']['state'] == 'in-sync',
          'rename n1 -> n1a: learned link, port alias and BMC follow', json.dumps(ll.get(1)))
    before = lab.dump()
    lab.netd.stop()
    lab.netd.start()
    wait_for(lambda: (lab.switch('sw1') or {}).get('state') == 'in-sync' and lab.switch('sw1').get('port'),
             'sw1 in sync after the restart')
    sw = lab.switch('sw1')
    ck.ok(len(sw.get('learned-link', [])) == 3 and sw['last-apply']['set-pdus'] == 0 and lab.dump() == before,
          'restart: learned links kept, the start reconcile sends nothing', json.dumps(sw.get('last-apply')))
    wait_for(lambda: lab.c.get('/restconf/data/netd:nodes/node=n1a/bmc')[1]['netd:bmc']['state'] != 'pending',
             'the BMC checked after the restart')
    rc, out, err = lab.netctl('bmc', 'show', 'n1a')
    ck.ok(rc == 0 and 'node n1a BMC: state in-sync' in out and 'password from a file' in out,
          'netctl bmc show n1a', out + err)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    for prog in ('snmpd', 'ipmi_sim', 'ipmitool'):
        if not shutil.which(prog) and not os.path.exists(f'/usr/sbin/{prog}'):
            print(f'SKIP: {prog} not installed (run tools/deps.sh)')
            sys.exit(77)
    ck = Checks()
    work = tempdir('netd-devices-')
    lab = Lab(sys.argv[1], sys.argv[2], sys.argv[3], work)
    ok = False
    try:
        lab.up()
        model(lab.c, lab)
        test_switch(ck, lab)
        test_bmc(ck, lab)
        test_deployment(ck, lab)
        test_rename_restart(ck, lab)
        ok = True
    finally:
        rc = lab.down()
        with open(lab.netd.log) as f:
            log = f.read()
        ck.ok(ok and rc == 0, 'netd stopped cleanly', f'exit {rc}: {lab.netd.tail_log()}')
        ck.ok(not SANITIZER.search(log), 'no sanitizer report in netd.log', SANITIZER.search(log) and log[-3000:])
        secrets = [s for s in (AUTH, PRIV, 'wrongpass-000', lab.bmc_pass, 'wrong-password') if s in log]
        ck.ok(not secrets, 'no secret in netd.log', str(secrets))
        if ck.failed == 0:
            cleanup(work)
        else:
            print(f'kept {work}')
    ck.done()


if __name__ == '__main__':
    main()
