#!/bin/bash
# tests/vm/run-vm.sh BUILD_DIR — conduits/ against real bonds and 802.1Q
# VLANs.  The host kernel has neither, so this boots Debian's own kernel in
# qemu (TCG) with a small initramfs and runs tests/vm/guest.sh there:
# BUILD_DIR/tests/integration/conduit_apply applies tests/vm/plan1.txt and
# variants of it (see guest.sh for the steps).  Exit 0 on "VM-RESULT: PASS"
# from the serial console, 1 on FAIL / no result / timeout, 77 (skip) when
# the tools or the kernel cannot be had.
#
# Kernel: the package linux-image-amd64 depends on, fetched with
# `apt-get download` (nothing is installed), or KERNEL_DEB=/path/to.deb.
# Only vmlinuz and the modules below are kept, in
# ${NETD_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netd-vm}/<package>/ (~10 MB),
# so the download happens once per machine and kernel version.
# Guest: busybox-static, iproute2 as /sbin/ip.real, conduit_apply and the
# shared libraries ldd lists, the plans.  Two virtio-net NICs on a
# qemu-internal hub (-nic none + -netdev hubport): nothing leaves the VM.
# qemu is killed by PID after NETD_VM_TIMEOUT (120) seconds.  The serial log
# stays in BUILD_DIR/tests/vm/work/serial.log.
# Packages: qemu-system-x86 busybox-static cpio iproute2 (tools/deps.sh).
set -euo pipefail
T0=$(date +%s%N)
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: run-vm.sh BUILD_DIR}" && pwd)
BIN=$BUILD/tests/integration/conduit_apply
TIMEOUT=${NETD_VM_TIMEOUT:-120}
CACHE=${NETD_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/netd-vm}
W=$BUILD/tests/vm/work
# insmod order = dependency order: tls <- bonding; llc <- stp <- garp, mrp
# <- 8021q; llc, stp <- bridge; virtio_ring <- virtio <- virtio_pci(_modern_dev,
# _legacy_dev); failover <- net_failover <- virtio_net
MODS="tls bonding llc stp garp mrp 8021q bridge dummy virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"

ms() { echo $(( ($(date +%s%N) - T0) / 1000000 )); }
skip() { echo "SKIP: $*"; exit 77; }
say() { echo "vm: [$(ms) ms] $*"; }

# ---- tools ----
for t in qemu-system-x86_64 cpio dpkg-deb tar; do
	command -v "$t" >/dev/null || skip "$t not found (apt-get install qemu-system-x86 busybox-static cpio)"
done
BUSYBOX=""
for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && { BUSYBOX=$b; break; }; done
[ -n "$BUSYBOX" ] || skip "busybox not found (apt-get install busybox-static)"
IP=""
for c in "$(command -v ip || true)" /usr/sbin/ip /sbin/ip /bin/ip; do
	if [ -n "$c" ] && [ -x "$c" ]; then IP=$c; break; fi
done
[ -n "$IP" ] || skip "iproute2's ip not found"
[ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }

# ---- kernel: cached, else downloaded once ----
mkdir -p "$CACHE"
cached() { # DIR: a complete extracted kernel with every module of MODS
	local m
	[ -f "$1/.complete" ] && [ -f "$1/vmlinuz" ] || return 1
	for m in $MODS; do [ -f "$1/modules/$m.ko" ] || return 1; done
}
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
# extract DEB PKG: vmlinuz + MODS (decompressed) into $CACHE/PKG
extract() {
	local deb=$1 pkg=$2 tmp m f pat=('./boot/vmlinuz-*')
	tmp=$(mktemp -d "$CACHE/.x.XXXXXX")
	for m in $MODS; do pat+=("*/$m.ko*"); done
	mkdir -p "$tmp/x" "$tmp/k/modules"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" --wildcards "${pat[@]}" || { rm -rf "$tmp"; return 1; }
	cp "$tmp"/x/boot/vmlinuz-* "$tmp/k/vmlinuz"
	basename "$tmp"/x/boot/vmlinuz-* | sed 's/^vmlinuz-//' > "$tmp/k/version"
	for m in $MODS; do
		f=$(find "$tmp/x" -name "$m.ko*" | head -1)
		case "$f" in
		"") echo "vm: module $m not in $deb" >&2; rm -rf "$tmp"; return 1 ;;
		*.xz) xz -dc "$f" > "$tmp/k/modules/$m.ko" ;;
		*.zst) zstd -dqc "$f" > "$tmp/k/modules/$m.ko" ;;
		*) cp "$f" "$tmp/k/modules/$m.ko" ;;
		esac
	done
	touch "$tmp/k/.complete"
	rm -rf "${CACHE:?}/$pkg"
	mv "$tmp/k" "$CACHE/$pkg"
	rm -rf "$tmp"
}
# download PKG into $CACHE/PKG
download() {
	local pkg=$1 tmp rc=0 opt=()
	tmp=$(mktemp -d "$CACHE/.dl.XXXXXX")
	[ "$(id -u)" = 0 ] && opt=(-o APT::Sandbox::User=root)   # root: apt would drop to _apt, who cannot write here
	(cd "$tmp" && timeout "$(left)" apt-get download -q "${opt[@]}" -o Acquire::http::Timeout=30 -o Acquire::Retries=1 "$pkg") \
		> "$tmp/apt.log" 2>&1 || rc=$?
	local deb
	deb=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -1)
	if [ $rc = 0 ] && [ -n "$deb" ]; then
		extract "$deb" "$pkg" || rc=1
	else
		[ $rc != 0 ] || rc=1
		sed 's/^/vm: apt: /' "$tmp/apt.log" | tail -5
	fi
	rm -rf "$tmp"
	return $rc
}

# The fetch (download, else apt-get update and download again) gets
# NETD_VM_FETCH_BUDGET (150) seconds in all, so a dead mirror skips well
# within meson's 300 s.
FETCH_END=$((SECONDS + ${NETD_VM_FETCH_BUDGET:-150}))
left() { local l=$((FETCH_END - SECONDS)); echo $((l > 1 ? l : 1)); }
KDIR=""
exec 9>"$CACHE/.lock"
command -v flock >/dev/null && flock -w 300 9   # one download at a time per machine
if [ -n "${KERNEL_DEB:-}" ]; then
	pkg=$(dpkg-deb -f "$KERNEL_DEB" Package)
	cached "$CACHE/$pkg" || extract "$KERNEL_DEB" "$pkg" || { echo "FAIL: cannot extract $KERNEL_DEB"; exit 1; }
	KDIR=$CACHE/$pkg
else
	pkg=${NETD_VM_KERNEL_PKG:-$(kernel_pkg)}
	if [ -n "$pkg" ] && cached "$CACHE/$pkg"; then
		KDIR=$CACHE/$pkg
	else
		say "fetching the kernel package ${pkg:-(unknown)} into $CACHE"
		ok=0
		[ -n "$pkg" ] && download "$pkg" && ok=1
		if [ $ok = 0 ] && [ "$(id -u)" = 0 ] && [ -z "${NETD_VM_KERNEL_PKG:-}" ]; then
			# stale package lists name a kernel the mirror no longer has
			say "apt-get update, then again"
			timeout "$(left)" apt-get update -qq >/dev/null 2>&1 || true
			pkg=$(kernel_pkg)
			[ -n "$pkg" ] && download "$pkg" && ok=1
		fi
		if [ $ok = 1 ]; then
			KDIR=$CACHE/$pkg
			for d in "$CACHE"/linux-image-*; do [ "$d" = "$KDIR" ] || rm -rf "$d"; done
		else
			for d in "$CACHE"/linux-image-*; do cached "$d" && KDIR=$d; done
			[ -n "$KDIR" ] || skip "cannot download the kernel package ${pkg:-(the one linux-image-amd64 depends on: apt-cache knows none, run apt-get update)} and none is cached in $CACHE"
			say "download failed: using the cached $(basename "$KDIR")"
		fi
	fi
fi
exec 9>&-
KV=$(cat "$KDIR/version")
T_KERNEL=$(ms)
say "kernel $KV from $KDIR"

# ---- initramfs ----
rm -rf "$W"
R=$W/root
mkdir -p "$R"/{bin,sbin,proc,sys,dev,tmp,lib/modules,etc,opt,plans}
with_libs() { # copy the shared libraries of $1 into the rootfs
	local lib
	for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*' || true); do
		[ -e "$R$lib" ] && continue
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done
}
cp "$BUSYBOX" "$R/bin/busybox"
with_libs "$BUSYBOX"
# `busybox --list` names busybox itself (linking it would overwrite the
# binary) and ip (busybox's lacks bond options: iproute2 is ip.real below)
for a in $("$BUSYBOX" --list); do
	case $a in ip | busybox) ;; *) ln -sf busybox "$R/bin/$a" ;; esac
done
cp "$IP" "$R/sbin/ip.real"
with_libs "$IP"
cp "$BIN" "$R/opt/conduit_apply"
with_libs "$BIN"
cp "$HERE/plan1.txt" "$R/plans/"
cp "$HERE/guest.sh" "$R/guest.sh"
cp "$HERE/init.sh" "$R/init"
chmod +x "$R/init"
echo "$MODS" > "$R/etc/vm-modules"
for m in $MODS; do cp "$KDIR/modules/$m.ko" "$R/lib/modules/"; done
# uncompressed: the guest (TCG) would spend longer unpacking than qemu loading
(cd "$R" && find . | cpio -o -H newc --quiet) > "$W/initramfs.cpio"
rm -rf "$R"
T_INITRD=$(ms)
say "initramfs built ($(du -h "$W/initramfs.cpio" | cut -f1))"

# ---- boot ----
LOG=$W/serial.log
QPID=""
cleanup() {
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		kill "$QPID" 2>/dev/null || true
		sleep 0.5
		kill -9 "$QPID" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM HUP
qemu-system-x86_64 -accel tcg,thread=single -cpu max -machine q35 -m 512 -smp 1 \
	-nodefaults -display none -monitor none -serial "file:$LOG" -no-reboot \
	-kernel "$KDIR/vmlinuz" -initrd "$W/initramfs.cpio" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off" \
	-nic none \
	-netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01,romfile= \
	-netdev hubport,id=n1,hubid=0 -device virtio-net-pci,netdev=n1,mac=52:54:00:00:00:02,romfile= \
	< /dev/null > "$W/qemu.log" 2>&1 &
QPID=$!
TIMED_OUT=0
deadline=$((SECONDS + TIMEOUT))
while kill -0 "$QPID" 2>/dev/null; do
	if [ $SECONDS -ge $deadline ]; then
		TIMED_OUT=1
		cleanup
		break
	fi
	sleep 0.1
done
wait "$QPID" 2>/dev/null || true
QPID=""
T_QEMU=$(ms)

# ---- result ----
tr -d '\r' < "$LOG" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' > "$W/console.txt"
cat "$W/console.txt"
grep -v -e 'hub 0 is not connected to host network' "$W/qemu.log" | sed 's/^/qemu: /' || true
echo "vm: timings: kernel ready $T_KERNEL ms, initramfs $((T_INITRD - T_KERNEL)) ms, qemu $((T_QEMU - T_INITRD)) ms, total $T_QEMU ms"
if [ $TIMED_OUT = 1 ]; then
	echo "FAIL: qemu killed after ${TIMEOUT}s (timeout); serial log: $LOG"
	exit 1
fi
if grep -q '^VM-RESULT: PASS' "$W/console.txt"; then
	echo "vm-conduits: OK"
	exit 0
fi
grep '^VM: FAIL' "$W/console.txt" || echo "FAIL: no VM-RESULT on the console; serial log: $LOG"
exit 1
