#!/bin/sh
# tests/vm/init.sh — /init of the VM test's initramfs (busybox ash, PID 1).
# Mounts the pseudo file systems, loads the modules listed in
# /etc/vm-modules in that order (dependency order: the initramfs has no
# modprobe and no modules.dep), waits for the virtio NICs, runs /guest.sh
# and reports "VM-RESULT: PASS" or "VM-RESULT: FAIL" on the serial console,
# then powers off.  A crash of this script panics the kernel, and
# panic=-1 with qemu's -no-reboot ends qemu too.
export PATH=/opt:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "VM: kernel $(uname -r), userspace at $(cut -d' ' -f1 /proc/uptime)s"
ok=1
# bonding max_bonds=0 / dummy numdummies=0: otherwise loading them creates
# bond0 / dummy0 by themselves.  Debian's bonding needs tls (loaded first).
# shellcheck disable=SC2013 # one line of module names
for m in $(cat /etc/vm-modules); do
	case $m in bonding) p=max_bonds=0 ;; dummy) p=numdummies=0 ;; *) p= ;; esac
	insmod "/lib/modules/$m.ko" $p || { echo "VM: FAIL: insmod $m"; ok=0; }
done
/sbin/ip.real link set lo up
i=0
while [ ! -e /sys/class/net/eth1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ $ok = 1 ] && sh /guest.sh; then
	echo "VM-RESULT: PASS"
else
	echo "VM-RESULT: FAIL"
fi
poweroff -f
