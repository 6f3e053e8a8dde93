#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cinderctl volume attach / detach / reconcile end to end on the file
# backend: devices with the volume's size and data, read-only attach,
# refusals while mounted or open, forced detach, live extend with an
# online ext4 grow, snapshots of a mounted volume, attachments that outlive
# the process, stale attachments, udev names, and a missing module. Runs as
# root in the test VM from the project root; prints TAP.
set -u

top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$top/build}"
GIB=1073741824
MNT=/tmp/cl-attach-fs
FSMNT=/tmp/cl-attach-mnt
UDEVD_PID=

# The state directory on ext4 (brd), so that the device takes the direct
# I/O path as it would on a real host.
modprobe brd rd_nr=1 rd_size=$((1024 * 1024)) || exit 1
mkfs.ext4 -q -F /dev/ram0 >/dev/null 2>&1 || exit 1
mkdir -p "$MNT" "$FSMNT"
mount /dev/ram0 "$MNT" || exit 1
export TMPDIR=$MNT

. "$top/tests/cli/tap.sh"

cleanup() {
	exec 3<&- 2>/dev/null
	umount "$FSMNT" "$FSMNT-ro" 2>/dev/null
	for d in $("$CINDERCTL" device list --json 2>/dev/null | jq -r '.[].index' 2>/dev/null); do
		"$CINDERCTL" device remove --force "$d" >/dev/null 2>&1
	done
	[ -n "$UDEVD_PID" ] && kill "$UDEVD_PID" 2>/dev/null
	rm -rf "$T"
	umount "$MNT" 2>/dev/null
}

plan 47
mkstate
trap cleanup EXIT

# conn_field VOL EXPR: EXPR on the volume's (only) connection as JSON.
conn_field() {
	out=$(cctl --json connection list --volume "$1")
	json_get "$2"
}

run cctl volume create 1 --name one
VOL=$out
run cctl volume attach one
status_is 0 "volume attach"
DEV=$out
ok "attach prints a cbd device that exists" eval '[[ "$DEV" == /dev/cbd* ]] && test -b "$DEV"'
ok "the device has the volume's size (lsblk -b)" \
	test "$(lsblk -bdno SIZE "$DEV" 2>/dev/null | tr -d ' ')" = "$GIB"
ok "the device carries the volume id" \
	test "$(cat /sys/block/${DEV#/dev/}/cinderblk/volume_id)" = "$VOL"
ok "the volume is in-use" test "$(cctl --json volume show one | jq -r .status)" = in-use
run cctl connection list
ok "connection list shows the device as attached" \
	eval 'grep -q "$DEV" <<<"$out" && grep -q " attached *$" <<<"$out"'
ok "connection list --json: device_path and device_state" \
	test "$(conn_field one 'j[0]["device_path"] + " " + j[0]["device_state"]')" = "$DEV attached"
CONN=$(conn_field one 'j[0]["id"]')
run cctl connection show "$CONN"
ok "connection show has device_path and state" \
	eval 'grep -q "device_path: *$DEV" <<<"$out" && grep -q "device_state: *attached" <<<"$out"'

# Data through the device lands in the volume and reads back.
dd if=/dev/urandom of="$T/data" bs=1M count=4 status=none
dd if="$T/data" of="$DEV" bs=1M seek=3 oflag=direct conv=fsync status=none
ok "data written reads back through the device" \
	cmp <(dd if="$DEV" bs=1M skip=3 count=4 iflag=direct status=none) "$T/data"
ok "data written is in the volume file" \
	cmp <(dd if="$(volume_file "$VOL")" bs=1M skip=3 count=4 status=none) "$T/data"

run cctl volume attach one
ok "a second attach is refused" eval 'test "$rc" = 1 && grep -q "already attached at $DEV" <<<"$err"'

# A mounted device is not detached unless forced.
mkfs.ext4 -q -F "$DEV" >/dev/null 2>&1
mount "$DEV" "$FSMNT"
dd if=/dev/urandom of="$FSMNT/file" bs=1M count=8 status=none
sync
run cctl volume detach one
ok "detach while mounted is refused and names the mount point" \
	eval 'test "$rc" = 1 && grep -q "is mounted on $FSMNT" <<<"$err"'
ok "the device is still there" test -b "$DEV" -a "$(conn_field one 'len(j)')" = 1

# Live extend: the device grows, ext4 grows online.
run cctl volume extend one 2
status_is 0 "extend of the attached volume"
ok "the device has the new size (BLKGETSIZE64)" test "$(blockdev --getsize64 "$DEV")" = $((2 * GIB))
ok "lsblk sees the new size" test "$(lsblk -bdno SIZE "$DEV" | tr -d ' ')" = $((2 * GIB))
ok "resize2fs grows the mounted ext4 online" eval 'resize2fs "$DEV" >/dev/null 2>&1'
ok "the mounted filesystem is now about 2 GiB" \
	test "$(df -B1M --output=size "$FSMNT" | tail -n 1)" -gt 1900

# Snapshot of the mounted volume: frozen, copied, resumed.
sum=$(sha256sum <"$FSMNT/file")
run cctl snapshot create one --name snap1
status_is 0 "snapshot of the mounted volume"
ok "the device is live again after the snapshot" \
	test "$(cat /sys/block/${DEV#/dev/}/cinderblk/state)" = live
ok "the filesystem is writable after the snapshot" \
	dd if=/dev/zero of="$FSMNT/after" bs=4k count=1 status=none
run cctl snapshot restore snap1 --name restored
RESTORED=$out
run cctl volume attach restored --mode ro
status_is 0 "attach of the restored volume read-only"
RDEV=$out
ok "the read-only device is read-only" test "$(blockdev --getro "$RDEV")" = 1
ok "writes to the read-only device fail" \
	eval '! dd if=/dev/zero of="$RDEV" bs=4k count=1 oflag=direct status=none 2>/dev/null'
ok "the snapshot's filesystem is clean (e2fsck -fn)" eval 'e2fsck -fn "$RDEV" >/dev/null 2>&1'
mkdir -p "$FSMNT-ro"
ok "the snapshot's filesystem mounts read-only without a journal replay" \
	mount -o ro "$RDEV" "$FSMNT-ro"
ok "the snapshot has the data written before it" \
	test "$(sha256sum <"$FSMNT-ro/file")" = "$sum"
umount "$FSMNT-ro"
run cctl volume detach restored
status_is 0 "detach of the read-only attachment"

# Open but not mounted: refused with its own message; forced works.
umount "$FSMNT"
exec 3<"$DEV"
run cctl volume detach one
ok "detach of an open device is refused" eval 'test "$rc" = 1 && grep -q "is open" <<<"$err"'
run cctl volume detach --force one
status_is 0 "forced detach of an open device"
exec 3<&-
ok "after the forced detach the device and connection are gone" \
	eval 'test ! -e "/sys/block/${DEV#/dev/}" && test "$(conn_field one "len(j)")" = 0'
ok "the volume is available again" test "$(cctl --json volume show one | jq -r .status)" = available

# Attach in one process, detach in another (every cinderctl is one).
DEV=$(cctl volume attach one)
ok "attach in one process" test -b "$DEV"
ok "detach in another process" cctl volume detach one
ok "nothing left after detach" \
	eval 'test ! -e "/sys/block/${DEV#/dev/}" && test "$(conn_field one "len(j)")" = 0'

# Stale: the device removed behind cinderlib's back.
DEV=$(cctl volume attach one)
"$CINDERCTL" device remove --force "$DEV" >/dev/null
ok "a removed device shows as stale" test "$(conn_field one 'j[0]["device_state"]')" = stale
run cctl connection show "$CONN"
run cctl connection list
ok "connection list says stale" grep -q stale <<<"$out"
run cctl volume attach one
ok "attach over a stale attachment is refused" eval 'test "$rc" = 1 && grep -q "device is gone" <<<"$err"'
run cctl connection reconcile --dry-run
ok "reconcile --dry-run lists it and changes nothing" \
	eval 'grep -q "stale:.*$VOL" <<<"$out" && test "$(conn_field one "len(j)")" = 1'
run cctl volume reconcile
ok "reconcile cleans it up" \
	eval 'test "$rc" = 0 && grep -q "cleaned up:.*$VOL" <<<"$out" && test "$(conn_field one "len(j)")" = 0 &&
	      test "$(cctl --json volume show one | jq -r .status)" = available'

# Stale: the index reused by another volume's device.
DEV=$(cctl volume attach one)
IDX=${DEV#/dev/cbd}
"$CINDERCTL" device remove --force "$DEV" >/dev/null
truncate -s 1M "$T/other.img"
"$CINDERCTL" device add --file "$T/other.img" --index "$IDX" >/dev/null 2>&1
ok "a device of another volume at the recorded path is stale" \
	test "$(conn_field one 'j[0]["device_state"]')" = stale
run cctl volume detach --force one
ok "detach --force cleans a stale attachment and leaves the other device" \
	eval 'test "$rc" = 0 && test "$(conn_field one "len(j)")" = 0 && test -b "$DEV"'
"$CINDERCTL" device remove --force "$DEV" >/dev/null 2>&1

# udev names the device by volume id.
mkdir -p /run/udev/rules.d
cp "$top/userspace/udev/60-cinderblk.rules" /run/udev/rules.d/
/lib/systemd/systemd-udevd --daemon >/dev/null 2>&1
UDEVD_PID=$(pidof systemd-udevd)
udevadm control --reload
udevadm trigger --action=add --subsystem-match=block >/dev/null 2>&1
udevadm settle
DEV=$(cctl volume attach one)
udevadm settle
ok "udev: /dev/disk/by-id/cinderblk-<volume id> links to the device" \
	test "$(readlink -f "/dev/disk/by-id/cinderblk-$VOL")" = "$DEV"
ok "udev: /dev/cinderblk/<volume id> links to the device" \
	test "$(readlink -f "/dev/cinderblk/$VOL")" = "$DEV"
cctl volume detach one
udevadm settle
ok "udev: the links vanish on detach" \
	test ! -e "/dev/disk/by-id/cinderblk-$VOL" -a ! -e "/dev/cinderblk/$VOL"
kill "$UDEVD_PID" 2>/dev/null
UDEVD_PID=

# Without the module: a clear error and nothing changed.
rmmod cinderblk
run cctl volume attach one
ok "attach without the module: exit 1, 'module not loaded'" \
	eval 'test "$rc" = 1 && grep -q "cinderblk module not loaded: run modprobe cinderblk" <<<"$err"'
ok "... and the volume is untouched" \
	eval 'test "$(cctl --json volume show one | jq -r .status)" = available && test "$(conn_field one "len(j)")" = 0'
insmod "${CBD_MODULE:-$top/kernel/cinderblk.ko}"

tap_done
