#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cinderctl volume attach of LVM volumes, thick and thin: the block
# connector puts a cinderblk remap device over the LV (zero copy), and the
# backend option attach_backing = file a file-backed one. Create, attach,
# data, live extend, snapshot while attached, clone, restore from a
# snapshot and read-only attach, checked through the cbd device, sysfs and
# the LV itself. The PVs are loop devices over sparse files in a private
# tmpfs; no udev runs. Runs as root; prints TAP.
set -u
SECONDS=0

here=$(cd "$(dirname "$0")" && pwd)
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$(cd "$here/../.." && pwd)}"
. "$top/tests/cli/tap.sh"
. "$top/tests/vm/lvm_lib.sh"
GIB=$((1 << 30))
MIB=$((1 << 20))
VGS=(cl-attach-thick cl-attach-thin)
LVM_VGS=("${VGS[@]}")
lvm_start lvm-attach

sysfs() {
	cat "/sys/block/${1#/dev/}/cinderblk/$2" 2>/dev/null
}

# read_at DEV MIB_OFFSET: the 4 MiB of the pattern's place.
read_at() {
	dd if="$1" bs=1M skip="$2" count=4 iflag=direct status=none
}

write_at() {
	dd if="$1" of="$2" bs=1M seek="$3" oflag=direct conv=fsync status=none
}

plan 40

lvm_pv_tmpfs 40g || exit 1
for i in 0 1; do
	lvm_loop 16G || exit 1
	lvmc pvcreate -q "${LOOPS[$i]}" >/dev/null || exit 1
	lvmc vgcreate -q "${VGS[$i]}" "${LOOPS[$i]}" >/dev/null || exit 1
done

cat >"$CONF" <<CONF
[DEFAULT]
state_dir = $T/state
enabled_backends = thick, thin, thickfile

[thick]
volume_driver = lvm
volume_group = ${VGS[0]}
volume_clear = none

[thin]
volume_driver = lvm
volume_group = ${VGS[1]}
lvm_type = thin

[thickfile]
volume_driver = lvm
volume_group = ${VGS[0]}
volume_clear = none
attach_backing = file
CONF

dd if=/dev/urandom of="$T/pat1" bs=1M count=4 status=none
dd if=/dev/urandom of="$T/pat2" bs=1M count=4 status=none

# scenarios BACKEND VG: the functional scenarios on one backend (17 tests)
scenarios() {
	local be=$1 vg=$2 vol dev lv clone snap restored rdev

	run cctl volume create 1 --backend "$be" --name "$be-one"
	vol=$out
	lv=/dev/$vg/volume-$vol
	run cctl volume attach "$be-one"
	dev=$out
	ok "$be: attach prints a cbd device" \
		eval 'test "$rc" = 0 && [[ "$dev" == /dev/cbd* ]] && test -b "$dev"'
	ok "$be: the device is on the remap backing over the LV" \
		eval 'test "$(sysfs "$dev" backing_type)" = remap &&
		      test "$(stat -Lc %t:%T "$(sysfs "$dev" backing)")" = "$(stat -Lc %t:%T "$lv")"'
	ok "$be: the device has the volume's size (lsblk -b)" \
		test "$(lsblk -bdno SIZE "$dev" 2>/dev/null | tr -d ' ')" = "$GIB"

	write_at "$T/pat1" "$dev" 3
	ok "$be: data written through the device reads back" \
		cmp <(read_at "$dev" 3) "$T/pat1"

	run cctl volume extend "$be-one" 2
	ok "$be: extend of the attached volume" test "$rc" = 0
	ok "$be: the device has the new size without a detach" \
		test "$(blockdev --getsize64 "$dev")" = $((2 * GIB))
	write_at "$T/pat2" "$dev" $((2048 - 4))
	ok "$be: the grown end of the device holds data, the old data is kept" \
		eval 'cmp <(read_at "$dev" $((2048 - 4))) "$T/pat2" &&
		      cmp <(read_at "$dev" 3) "$T/pat1"'

	run cctl snapshot create "$be-one" --name "$be-snap"
	snap=$out
	ok "$be: snapshot while attached, the device live again" \
		eval 'test "$rc" = 0 && test "$(sysfs "$dev" state)" = live'

	run cctl volume detach "$be-one"
	ok "$be: detach removes the device" \
		eval 'test "$rc" = 0 && ! test -e "/sys/block/${dev#/dev/}"'
	ok "$be: the data is in the LV itself" \
		eval 'cmp <(read_at "$lv" 3) "$T/pat1" &&
		      cmp <(read_at "$lv" $((2048 - 4))) "$T/pat2"'

	run cctl volume clone "$be-one" --name "$be-clone"
	clone=$out
	ok "$be: the clone has the same data" \
		eval 'test "$rc" = 0 &&
		      cmp <(read_at "/dev/$vg/volume-$clone" 3) "$T/pat1" &&
		      cmp <(read_at "/dev/$vg/volume-$clone" $((2048 - 4))) "$T/pat2"'

	# Overwrite the volume, then a volume from the snapshot has the old data.
	dev=$(cctl volume attach "$be-one")
	write_at "$T/pat2" "$dev" 3
	ok "$be: the volume is overwritten" cmp <(read_at "$dev" 3) "$T/pat2"
	cctl volume detach "$be-one" >/dev/null
	run cctl snapshot restore "$snap" --name "$be-restored"
	restored=$out
	run cctl volume attach "$be-restored"
	rdev=$out
	ok "$be: the volume from the snapshot has the original data" \
		eval 'test "$rc" = 0 && cmp <(read_at "$rdev" 3) "$T/pat1"'
	cctl volume detach "$be-restored" >/dev/null

	run cctl volume attach "$be-restored" --mode ro
	rdev=$out
	ok "$be: read-only attach is a read-only remap device" \
		eval 'test "$rc" = 0 && test "$(blockdev --getro "$rdev")" = 1 &&
		      test "$(sysfs "$rdev" backing_type)" = remap'
	ok "$be: writes to the read-only device fail, the LV is unchanged" \
		eval '! write_at "$T/pat2" "$rdev" 3 2>/dev/null &&
		      cmp <(read_at "/dev/$vg/volume-$restored" 3) "$T/pat1"'
	run cctl volume detach "$be-restored"
	ok "$be: detach of the read-only attachment" test "$rc" = 0
	run cctl volume delete "$be-restored" "$be-clone"
	ok "$be: delete after detach" test "$rc" = 0
}

scenarios thick "${VGS[0]}"

# The LV of an attached volume is held by the kernel.
dev=$(cctl volume attach thick-one)
vol=$(cctl --json volume show thick-one | jq -r .id)
ok "thick: the LV of an attached volume cannot be removed (held exclusively)" \
	eval '! lvmc lvremove -f "${VGS[0]}/volume-$vol" >/dev/null 2>&1 &&
	      test -b "/dev/${VGS[0]}/volume-$vol"'
run cctl volume delete thick-one
ok "thick: delete of the attached volume is refused" test "$rc" != 0
cctl volume detach thick-one >/dev/null

scenarios thin "${VGS[1]}"

# attach_backing = file: the same LV through the file backing.
run cctl volume create 1 --backend thickfile --name filebk
vol=$out
run cctl volume attach filebk
dev=$out
ok "attach_backing=file: the block volume is on the file backing" \
	eval 'test "$rc" = 0 && test "$(sysfs "$dev" backing_type)" = file'
write_at "$T/pat1" "$dev" 5
ok "attach_backing=file: data reads back through the device" \
	cmp <(read_at "$dev" 5) "$T/pat1"
run cctl volume extend filebk 2
ok "attach_backing=file: extend of the attached volume" \
	eval 'test "$rc" = 0 && test "$(blockdev --getsize64 "$dev")" = $((2 * GIB))'
run cctl volume detach filebk
ok "attach_backing=file: detach, the data is in the LV" \
	eval 'test "$rc" = 0 && cmp <(read_at "/dev/${VGS[0]}/volume-$vol" 5) "$T/pat1"'

echo "# $SECONDS s"
tap_done
