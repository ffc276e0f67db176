# tests/integration/netns.sh — sourced by tests that need a network namespace
# of their own. `netns_begin PREFIX` skips (exit 77) without root, makes the
# namespace $NS (lo up) and a work dir $WORK, and removes both on exit;
# `ipn ARGS` runs `ip` inside the namespace.
netns_begin() {
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
	NS=$1$$
	WORK=$(mktemp -d)
	trap 'ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"' EXIT
	trap 'exit 130' INT TERM HUP
	ip netns add "$NS"
	ip -n "$NS" link set lo up
}

ipn() { ip -n "$NS" "$@"; }
