# SPDX-License-Identifier: GPL-2.0
#
# A network namespace "tgt" joined to the VM's own (initial) namespace by
# a veth pair, for the remote attach tests (sourced): tgt holds the exports
# at $TGT_IP, the initial namespace attaches from $INI_IP. The module's
# netlink family lives in the initial namespace only, as the host's
# cinderctl and daemon do. Only addresses inside the test VM. in_tgt runs
# a command in tgt, in_ini in the initial namespace; netns_teardown
# removes what netns_setup made.

TGT_IP=10.77.0.1
INI_IP=10.77.0.2

in_tgt() { ip netns exec cbd-tgt "$@"; }
in_ini() { "$@"; }

netns_setup() {
	netns_teardown
	modprobe veth 2>/dev/null
	ip netns add cbd-tgt &&
	ip link add cbd-veth-i type veth peer name cbd-veth-t &&
	ip link set cbd-veth-t netns cbd-tgt &&
	in_tgt ip addr add "$TGT_IP/24" dev cbd-veth-t &&
	ip addr add "$INI_IP/24" dev cbd-veth-i &&
	in_tgt ip link set lo up &&
	in_tgt ip link set cbd-veth-t up && ip link set cbd-veth-i up
}

netns_teardown() {
	ip link del cbd-veth-i 2>/dev/null || true
	ip netns del cbd-tgt 2>/dev/null || true
	return 0
}

# Wait until TCP port $2 listens in namespace $1 ("tgt" or "ini").
wait_listen() {
	local i run=

	[ "$1" = tgt ] && run=in_tgt
	for i in $(seq 100); do
		$run ss -Hltn "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
