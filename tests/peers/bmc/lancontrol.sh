#!/bin/sh
# lancontrol.sh NICFILE get NAME... | set NAME VALUE... | check NAME VALUE...
#
# The simulated BMC's NIC, as ipmi_sim's lan_config_program (ipmi_lan(5)):
# ipmi_sim runs it to read the LAN address parameters ("get": one
# "name:value" line per name), to apply them at commit ("set") and to ask
# whether an address source is possible ("check": exit status).  Names:
# ip_addr, ip_addr_src (unknown|static|dhcp|bios|other), mac_addr,
# subnet_mask, default_gw_ip_addr, default_gw_mac_addr, backup_gw_ip_addr,
# backup_gw_mac_addr.
#
# NICFILE holds "name:value" lines; NICFILE.sources lists the address
# sources this NIC accepts, one a line (a test may narrow it to make the
# BMC refuse "static").
set -u
F=$1
op=$2
shift 2
case $op in
get)
	for n in "$@"; do
		v=$(sed -n "s/^$n://p" "$F")
		[ -n "$v" ] || { echo "no value for $n" >&2; exit 1; }
		echo "$n:$v"
	done
	;;
set)
	while [ $# -ge 2 ]; do
		n=$1 v=$2
		shift 2
		case $n in
		ip_addr|ip_addr_src|mac_addr|subnet_mask|default_gw_ip_addr|default_gw_mac_addr|backup_gw_ip_addr|backup_gw_mac_addr) ;;
		*) echo "unknown name $n" >&2; exit 1;;
		esac
		case $v in *[!0-9a-zA-Z.:]*|'') echo "bad value for $n" >&2; exit 1;; esac
		{ grep -v "^$n:" "$F"; echo "$n:$v"; } > "$F.new" && mv "$F.new" "$F"
	done
	;;
check)
	while [ $# -ge 2 ]; do
		n=$1 v=$2
		shift 2
		if [ "$n" = ip_addr_src ]; then
			grep -qx "$v" "$F.sources" || exit 1
		fi
	done
	;;
*)
	echo "usage: lancontrol.sh NICFILE get|set|check ..." >&2
	exit 2
	;;
esac
exit 0
