#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole remote-attach flow with cinderctl on both sides, two hosts in
# two network namespaces sharing one store: target1 (namespace tgt) holds
# a file-driver volume (and then an LVM one) and connects it for node1 (the initial namespace),
# which attaches the connection over NBD as a cbd device, writes and
# reads; the kernel's nbd-client reads the same export; a host that was
# not granted is refused; a second read-write host is refused; nbdkit
# killed and brought back by restore-exports on its port, the device
# reconnects with no error; target1 cannot end the export under node1's
# device; target1 extends the volume and node1's device follows live
# (connection extend, the daemon), reads going on; target1 snapshots it
# while node1 holds its ext4 frozen; detach on node1 keeps
# the export, disconnect on target1 ends it. Root in the test VM; prints
# TAP.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$(cd "$here/../.." && pwd)}"
. "$top/tests/cli/tap.sh"
. "$top/tests/vm/netns_lib.sh"
. "$top/tests/vm/lvm_lib.sh"

out= err= rc=0
T=$(mktemp -d /tmp/cbd-export.XXXXXX)
REFS=/sys/module/cinderblk/parameters/live_backing_refs
PORT=10920
export CINDERLIB_NBDKIT_FILTER=${CINDERLIB_NBDKIT_FILTER:-$BUILD/nbdkit/ipallow.so}

cleanup() {
	for d in $("$CINDERCTL" device list --json 2>/dev/null | jq -r '.[].index' 2>/dev/null); do
		"$CINDERCTL" device remove --force "$d" >/dev/null 2>&1
	done
	nbd-client -d /dev/nbd0 >/dev/null 2>&1
	pkill -9 -f "exports/.*\.pid" 2>/dev/null
	vgremove -ff "$VG" --config "$NOUDEV" >/dev/null 2>&1 </dev/null
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	netns_teardown
	rm -rf "$T"
}
VG=cl-export
LOOP=
trap cleanup EXIT

# conf FILE HOST: one file backend shared by every host, one store.
conf() {
	cat >"$1" <<CONF
[DEFAULT]
host = $2
state_dir = $T/$2
persistence_path = $T/shared.sqlite
enabled_backends = files, lvm

[files]
volume_driver = file
file_volume_dir = $T/volumes
file_volume_dir_create = true
target_protocol = nbd
target_ip_address = $TGT_IP
target_port = $PORT
target_port_range = 4

[lvm]
volume_driver = lvm
volume_group = $VG
volume_clear = none
target_protocol = nbd
target_ip_address = $TGT_IP
target_port = $((PORT + 10))
CONF
}

tgt() { in_tgt "$CINDERCTL" --config "$T/target1.conf" "$@"; }
node() { "$CINDERCTL" --config "$T/node1.conf" "$@"; }
dev_field() { "$CINDERCTL" device show --json "$1" | jq -r ".$2"; }
alive() { tr -d '\0' <"/proc/$1/cmdline" 2>/dev/null | grep -q .; }

plan 31

conf "$T/target1.conf" target1
conf "$T/node1.conf" node1
conf "$T/node9.conf" node9
ok "two hosts in two namespaces" netns_setup

run tgt volume create 1
V=$out
run tgt volume connect "$V" --connector host=node1 --connector ip="$INI_IP"
C=$out
ok "target1 connects the volume for node1" test "$rc" = 0
VFILE=$(tgt --json volume show "$V" | jq -r .provider_location)
[ -f "$VFILE" ] || VFILE=$(find "$T/volumes" -name "*$V*" | head -n 1)

run node --json connection attach "$C"
DEV=$(jq -r .device_path <<<"$out")
ok "node1 attaches the connection over NBD" eval '[ "$rc" = 0 ] && [ -b "$DEV" ]'
IDX=${DEV#/dev/cbd}
ok "four connections (the export allows multi-conn), all live" \
	test "$(dev_field "$IDX" connections)/$(dev_field "$IDX" live_connections)" = 4/4
ok "the device is the volume's size" test "$(blockdev --getsize64 "$DEV")" = $((1 << 30))

head -c $((8 << 20)) /dev/urandom >"$T/pattern"
dd if="$T/pattern" of="$DEV" bs=1M seek=16 oflag=direct status=none
ok "node1's writes land in the volume file on target1" \
	cmp -n $((8 << 20)) "$T/pattern" <(dd if="$VFILE" bs=1M skip=16 count=8 status=none)
ok "and read back the same through the device" \
	cmp -n $((8 << 20)) "$T/pattern" <(dd if="$DEV" bs=1M skip=16 count=8 iflag=direct status=none)

modprobe nbd nbds_max=1 2>/dev/null
if nbd-client -N "$V" "$TGT_IP" "$PORT" /dev/nbd0 >/dev/null 2>&1; then
	ok "the kernel's nbd-client reads the same data from our export" \
		cmp -n $((8 << 20)) "$T/pattern" <(dd if=/dev/nbd0 bs=1M skip=16 count=8 iflag=direct status=none)
	nbd-client -d /dev/nbd0 >/dev/null 2>&1
else
	tap_result 1 "the kernel's nbd-client attaches our export"
fi

# Not granted: an export for node9's address, attached from node1's.
run tgt volume create 1
V9=$out
run tgt volume connect "$V9" --connector host=node9 --connector ip=10.77.0.9
C9=$out
run "$CINDERCTL" --config "$T/node9.conf" connection attach "$C9"
ok "an address that was not granted is refused by the target" \
	eval '[ "$rc" != 0 ] && [ "$(cat $REFS)" = 4 ]'
run tgt volume connect "$V" --connector host=node2 --connector ip="$INI_IP"
ok "a second read-write host is refused" \
	eval '[ "$rc" = 1 ] && grep -q multiattach <<<"$err"'

# nbdkit dies (a reboot of target1): restore-exports brings it back on its
# port, the daemon's reconnect makes the connections again.
PID=$(tgt --json connection show "$C" | jq -r .provider_data.pid)
kill -9 "$PID"
while alive "$PID"; do sleep 0.1; done
run tgt --json connection restore-exports
ok "restore-exports restarts node1's export on its port" \
	test "$(jq -r ".[] | select(.connection_id == \"$C\") | .state + \" \" + .port" <<<"$out")" = "restored $PORT"
for i in $(seq 50); do
	node daemon --once >/dev/null 2>&1
	[ "$(dev_field "$IDX" live_connections)" = 4 ] && break
	sleep 0.2
done
ok "the device has its four connections again" test "$(dev_field "$IDX" live_connections)" = 4
ok "and reads the data with no error" eval \
	'cmp -n $((8 << 20)) "$T/pattern" <(dd if="$DEV" bs=1M skip=16 count=8 iflag=direct status=none) && [ "$(dev_field "$IDX" stats.errors)" = 0 ]'

run tgt connection disconnect "$C"
ok "target1 will not end the export while node1's device is on it" \
	eval '[ "$rc" = 1 ] && grep -q "attached at $DEV on host node1" <<<"$err"'

# Extend attached remotely: target1 grows the volume, node1's device
# follows live (connection extend, then the daemon), I/O going on.
run tgt volume extend "$V" 2
ok "target1 extends the volume under node1's device" test "$rc" = 0
dd if="$DEV" of=/dev/null bs=1M count=768 iflag=direct status=none &
READER=$!
run node --json connection extend "$C"
ok "connection extend on node1: the device has the new size" \
	eval '[ "$rc" = 0 ] && [ "$(jq -r .size <<<"$out")" = $((2 << 30)) ] && [ "$(blockdev --getsize64 "$DEV")" = $((2 << 30)) ]'
wait "$READER"
ok "a reader running across it saw no error" test "$?" = 0
ok "with four new connections, all live" \
	test "$(dev_field "$IDX" connections)/$(dev_field "$IDX" live_connections)" = 4/4
dd if="$T/pattern" of="$DEV" bs=1M seek=1536 oflag=direct status=none
ok "a write past the old end lands in the volume file and reads back" \
	eval 'cmp -n $((8 << 20)) "$T/pattern" <(dd if="$VFILE" bs=1M skip=1536 count=8 status=none) &&
	      cmp -n $((8 << 20)) "$T/pattern" <(dd if="$DEV" bs=1M skip=1536 count=8 iflag=direct status=none)'
ok "the data before the extend is intact, no I/O error" eval \
	'cmp -n $((8 << 20)) "$T/pattern" <(dd if="$DEV" bs=1M skip=16 count=8 iflag=direct status=none) && [ "$(dev_field "$IDX" stats.errors)" = 0 ]'
run tgt volume extend "$V" 3
run node daemon --once
ok "after another extend on target1, the daemon grows the device" \
	eval '[ "$rc" = 0 ] && [ "$(blockdev --getsize64 "$DEV")" = $((3 << 30)) ] && grep -q resized <<<"$out"'

# Snapshot of the attached, mounted volume: node1 freezes its file system
# (the device flushes to the server), target1 snapshots, node1 thaws.
mkfs.ext4 -q -F "$DEV" && mkdir -p "$T/mnt" && mount "$DEV" "$T/mnt"
cp "$T/pattern" "$T/mnt/data"
run node device suspend --freeze "$IDX"
run tgt snapshot create "$V"
S=$out
src=$rc
run node device resume "$IDX"
ok "target1 snapshots the volume while node1 holds it frozen" \
	eval '[ "$src" = 0 ] && [ "$rc" = 0 ]'
umount "$T/mnt"
run tgt snapshot restore "$S"
R=$out
RFILE=$(tgt --json volume show "$R" | jq -r .provider_location)
[ -f "$RFILE" ] || RFILE=$(find "$T/volumes" -name "*$R*" | head -n 1)
ok "the snapshot has a clean file system with node1's file" \
	eval 'e2fsck -fn "$RFILE" >/dev/null 2>&1 && cmp "$T/pattern" <(debugfs -R "cat /data" "$RFILE" 2>/dev/null)'
tgt volume delete "$R" >/dev/null && tgt snapshot delete "$S" >/dev/null

run node connection detach "$C"
PID=$(tgt --json connection show "$C" | jq -r .provider_data.pid)
ok "detach on node1 removes the device and keeps the export of target1" \
	eval '[ "$rc" = 0 ] && [ ! -b "$DEV" ] && alive "$PID"'
run node connection disconnect "$C"
ok "node1 cannot end target1's export" \
	eval '[ "$rc" = 1 ] && grep -q "exported by host target1" <<<"$err"'
run tgt connection disconnect "$C"
ok "disconnect on target1 stops nbdkit, the volume is available" \
	eval '[ "$rc" = 0 ] && ! alive "$PID" && [ "$(tgt --json volume show "$V" | jq -r .status)" = available ]'
# The same for an LVM volume: the export serves the LV's device.
modprobe loop 2>/dev/null
truncate -s 4G "$T/pv.img"
LOOP=$(losetup --show -f "$T/pv.img")
lvmc pvcreate -q "$LOOP" >/dev/null && lvmc vgcreate -q "$VG" "$LOOP" >/dev/null
run tgt volume create 1 --backend lvm
LV=$out
run tgt volume connect "$LV" --connector host=node1 --connector ip="$INI_IP"
LC=$out
run node --json connection attach "$LC"
LDEV=$(jq -r .device_path <<<"$out")
ok "node1 attaches an LVM volume of target1 over NBD" \
	eval '[ "$rc" = 0 ] && [ -b "$LDEV" ] && [ "$(blockdev --getsize64 "$LDEV")" = $((1 << 30)) ]'
dd if="$T/pattern" of="$LDEV" bs=1M seek=100 oflag=direct status=none
ok "its writes land in the LV on target1" \
	cmp -n $((8 << 20)) "$T/pattern" <(dd if="/dev/$VG/volume-$LV" bs=1M skip=100 count=8 iflag=direct status=none)
run tgt volume extend "$LV" 2
run node connection extend "$LC"
dd if="$T/pattern" of="$LDEV" bs=1M seek=1100 oflag=direct status=none
ok "extended on target1, grown on node1: a write past the old end lands in the LV" \
	eval '[ "$(blockdev --getsize64 "$LDEV")" = $((2 << 30)) ] &&
	      cmp -n $((8 << 20)) "$T/pattern" <(dd if="/dev/$VG/volume-$LV" bs=1M skip=1100 count=8 iflag=direct status=none)'
run node connection detach "$LC"
ok "detach on node1, disconnect and delete on target1" \
	eval '[ "$rc" = 0 ] && tgt connection disconnect "$LC" && tgt volume delete "$LV"'

ok "no socket is left" test "$(cat "$REFS")" = 0

tap_done
