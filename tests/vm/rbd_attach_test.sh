#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# RBD volumes attached through the kernel's RBD client, in the test VM
# against a throwaway Ceph cluster started here (tests/ceph/cluster.sh):
# the rbd connector maps the image through /sys/bus/rbd and the cbd device
# remaps onto /dev/rbdN. Checked: size and volume id, data with sha256
# through the device and through librbd, extend while attached and
# mounted (ext4 grown online), snapshot of the mounted volume, read-only
# attach, detach unmapping, a stale attachment reconciled, caps that
# refuse the map.
# Runs as root; prints TAP.
set -u
SECONDS=0

top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$top/build}"
GIB=1073741824
MIB=1048576
MNT=/tmp/cl-rbd
FSMNT=/tmp/cl-rbd-mnt

. "$top/tests/cli/tap.sh"
. "$top/tests/ceph/cluster.sh"
RBD_IO="/usr/bin/python3 $top/tests/ceph/rbd_io.py"

for c in ceph-mon ceph-mgr ceph-osd rbd; do
	if ! command -v "$c" >/dev/null; then
		echo "1..0 # SKIP $c not installed (scripts/install-deps.sh)"
		exit 0
	fi
done
# Bluestore opens its file with O_DIRECT: ext4 on a RAM disk, not tmpfs.
modprobe brd rd_nr=1 rd_size=$((4 * 1024 * 1024)) || exit 1
mkfs.ext4 -q -F /dev/ram0 >/dev/null 2>&1 || exit 1
mkdir -p "$MNT" "$FSMNT" "$FSMNT-ro"
mount /dev/ram0 "$MNT" || exit 1
export TMPDIR=$MNT
ip link set lo up
modprobe rbd || exit 1

T=$(mktemp -d "$MNT/rbd-attach.XXXXXX")
CD=$T/cluster
CONF=$T/cinderlib.conf
cleanup() {
	umount "$FSMNT" "$FSMNT-ro" 2>/dev/null
	for d in $("$CINDERCTL" device list --json 2>/dev/null | jq -r '.[].index' 2>/dev/null); do
		"$CINDERCTL" device remove --force "$d" >/dev/null 2>&1
	done
	for d in /sys/bus/rbd/devices/*; do
		[ -e "$d" ] && echo "${d##*/} force" >/sys/bus/rbd/remove_single_major 2>/dev/null
	done
	ceph_stop "$CD"
	rm -rf "$T"
	umount "$MNT" 2>/dev/null
}
trap cleanup EXIT

plan 24

ceph_start "$CD" 2>"$T/start.err"
if [ $? != 0 ]; then
	echo "not ok 1 - ceph_start"
	sed 's/^/# /' "$T/start.err"
	exit 1
fi
echo "# cluster HEALTH_OK in ${CEPH_START_SECONDS}s, mon $CEPH_MON_ADDR"

cat >"$CONF" <<CONF
[DEFAULT]
state_dir = $T/state
enabled_backends = ceph

[ceph]
volume_driver = rbd
rbd_ceph_conf = $CEPH_CONF
rbd_user = cinder
rbd_keyring_conf = $CEPH_KEYRING_CINDER
rados_connect_timeout = 20
CONF

# mappings IMAGE: ids of the kernel's mappings of rbd/IMAGE.
mappings() {
	local d

	for d in /sys/bus/rbd/devices/*; do
		[ -e "$d/name" ] && [ "$(cat "$d/name")" = "$1" ] && echo "${d##*/}"
	done
}
conn_field() {
	out=$(cctl --json connection list --volume "$1")
	json_get "$2"
}

run cctl volume create 1 --name one
VOL=$out
run cctl volume attach one
status_is 0 "volume attach of an rbd volume"
DEV=$out
ok "attach prints a cbd device" eval '[[ "$DEV" == /dev/cbd* ]] && test -b "$DEV"'
MAP=$(mappings "volume-$VOL")
ok "the image is mapped once by the kernel's rbd client (/dev/rbd$MAP)" \
	eval 'test -n "$MAP" && test "$(wc -w <<<"$MAP")" = 1 && test -b "/dev/rbd$MAP"'
ok "the cbd device remaps onto it, with the volume's size and id" eval \
	'test "$(blockdev --getsize64 "$DEV")" = $GIB &&
	 test "$(cat /sys/block/${DEV#/dev/}/cinderblk/volume_id)" = "$VOL" &&
	 test "$(cat /sys/block/${DEV#/dev/}/cinderblk/backing_type)" = remap &&
	 test "$(cat /sys/block/${DEV#/dev/}/cinderblk/backing)" = "/dev/rbd$MAP"'

dd if=/dev/urandom of="$T/data" bs=1M count=16 status=none
dd if="$T/data" of="$DEV" bs=1M seek=5 oflag=direct conv=fsync status=none
ok "16 MiB written through the device read back through it" \
	cmp <(dd if="$DEV" bs=1M skip=5 count=16 iflag=direct status=none) "$T/data"
ok "... and are in the image (read with librbd)" \
	test "$($RBD_IO sum "volume-$VOL" $((5 * MIB)) $((16 * MIB)))" = "$(sha256sum <"$T/data" | cut -d' ' -f1)"

run cctl volume attach one
ok "a second attach is refused" eval 'test "$rc" = 1 && grep -q "already attached" <<<"$err"'

mkfs.ext4 -q -F "$DEV" >/dev/null 2>&1
mount "$DEV" "$FSMNT"
dd if=/dev/urandom of="$FSMNT/file" bs=1M count=8 status=none
sync
run cctl volume extend one 2
status_is 0 "extend of the attached, mounted volume"
ok "the image, the rbd device and the cbd device are 2 GiB" eval \
	'test "$(blockdev --getsize64 "/dev/rbd$MAP")" = $((2 * GIB)) &&
	 test "$(blockdev --getsize64 "$DEV")" = $((2 * GIB))'
ok "resize2fs grows the mounted ext4 online to about 2 GiB" eval \
	'resize2fs "$DEV" >/dev/null 2>&1 && test "$(df -B1M --output=size "$FSMNT" | tail -n 1)" -gt 1900'

sum=$(sha256sum <"$FSMNT/file")
run cctl snapshot create one --name snap1
status_is 0 "snapshot of the mounted volume"
ok "the device is live and writable after the snapshot" eval \
	'test "$(cat /sys/block/${DEV#/dev/}/cinderblk/state)" = live &&
	 dd if=/dev/zero of="$FSMNT/after" bs=4k count=1 conv=fsync status=none'
run cctl snapshot restore snap1 --name restored
RESTORED=$out
run cctl volume attach restored --mode ro
status_is 0 "attach of the volume made from the snapshot, read-only"
RDEV=$out
RMAP=$(mappings "volume-$RESTORED")
ok "read-only: the cbd device and its rbd mapping" eval \
	'test "$(blockdev --getro "$RDEV")" = 1 && test "$(blockdev --getro "/dev/rbd$RMAP")" = 1'
ok "writes to the read-only device fail" \
	eval '! dd if=/dev/zero of="$RDEV" bs=4k count=1 oflag=direct status=none 2>/dev/null'
ok "the snapshot's filesystem is clean and has the data written before it" eval \
	'e2fsck -fn "$RDEV" >/dev/null 2>&1 && mount -o ro "$RDEV" "$FSMNT-ro" &&
	 test "$(sha256sum <"$FSMNT-ro/file")" = "$sum"'
umount "$FSMNT-ro"
run cctl volume detach restored
ok "detach of the restored volume unmaps it" eval \
	'test "$rc" = 0 && test -z "$(mappings "volume-$RESTORED")" && ! test -b "$RDEV"'

umount "$FSMNT"
run cctl volume detach one
ok "detach removes the cbd device and unmaps the image" eval \
	'test "$rc" = 0 && ! test -b "$DEV" && test -z "$(mappings "volume-$VOL")"'
ok "the volume is available again" \
	test "$(cctl --json volume show one | jq -r .status)" = available

# Stale: the cbd device removed behind cinderlib's back, the mapping left.
run cctl volume attach one
DEV=$out
"$CINDERCTL" device remove --force "$DEV" >/dev/null
ok "a removed device shows as stale, its image still mapped" eval \
	'test "$(conn_field one "j[0][\"device_state\"]")" = stale && test -n "$(mappings "volume-$VOL")"'
run cctl volume reconcile
ok "reconcile cleans the attachment up and unmaps the image" eval \
	'test "$rc" = 0 && test "$(conn_field one "len(j)")" = 0 && test -z "$(mappings "volume-$VOL")"'

# Caps changed under an attachment.
run cctl volume attach one
DEV=$out
ceph_admin auth caps client.cinder mon 'profile rbd' osd 'profile rbd pool=nosuch' >/dev/null 2>&1
run cctl volume detach one
ok "detach works whatever the caps now say (the mapping is the kernel's)" eval \
	'test "$rc" = 0 && test -z "$(mappings "volume-$VOL")"'
run cctl volume attach one
ok "an attach the cluster refuses says why, leaves no device and no mapping" eval \
	'test "$rc" = 1 && grep -q "cannot map RBD image" <<<"$err" &&
	 test -z "$(mappings "volume-$VOL")" && test "$("$CINDERCTL" device list --json | jq length)" = 0'
ceph_admin auth caps client.cinder mon 'profile rbd' osd 'profile rbd pool=rbd' mgr 'profile rbd pool=rbd' >/dev/null 2>&1
run cctl volume delete restored
run cctl snapshot delete snap1
run cctl volume delete one
ok "the volume, its snapshot and the one made from it delete" eval \
	'test "$rc" = 0 && test -z "$(rbd -c "$CEPH_CONF" --keyring "$CEPH_KEYRING_ADMIN" ls rbd)"'
echo "# $SECONDS s"
tap_done
