#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The lvm driver against real LVM2 in the test VM, thick volumes (and the
# checks at backend open) through cinderctl, checked with lvs/vgs, blockdev
# and the data itself (lvm_thin_test.sh does thin pools).
# The PVs are loop devices over sparse files in a private tmpfs (discard and
# write-zeroes free the memory again). No udev runs: the driver makes lvm
# create the /dev nodes itself. Runs as root; prints TAP.
set -u
SECONDS=0

here=$(cd "$(dirname "$0")" && pwd)
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$(cd "$here/../.." && pwd)}"
. "$top/tests/cli/tap.sh"
. "$top/tests/vm/lvm_lib.sh"
VG=cinder-volumes
LVM_VGS=("$VG")
lvm_start lvm-thick

plan 27

lvm_pv_tmpfs 16g || exit 1
lvm_loop 8G || exit 1
lvmc pvcreate -q "${LOOPS[0]}" >/dev/null || exit 1
lvmc vgcreate -q "$VG" "${LOOPS[0]}" >/dev/null || exit 1

cat >"$CONF" <<CONF
[DEFAULT]
state_dir = $T/state
enabled_backends = thick, zeroing

[thick]
volume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver
volume_group = $VG
volume_clear = none

[zeroing]
volume_driver = lvm
volume_group = $VG
volume_clear = zero
volume_clear_size = 1
lvm_suppress_fd_warnings = true
CONF

dd if=/dev/urandom of="$T/pat1" bs=1M count=4 status=none
dd if=/dev/urandom of="$T/pat2" bs=1M count=4 status=none

# --- options and setup checks -----------------------------------------

cat >"$T/bad.conf" <<CONF
[DEFAULT]
state_dir = $T/state
enabled_backends = a, b, c
[a]
volume_driver = lvm
volume_group = $VG
lvm_typ = thin
[b]
volume_driver = lvm
volume_group = no-such-vg
[c]
volume_driver = lvm
volume_group = $VG
lvm_command = lvm-not-installed
CONF
run "$CINDERCTL" --config "$T/bad.conf" volume create 1 --backend a
ok "unknown option rejected with a suggestion" \
	eval 'test "$rc" = 1 && grep -q "did you mean .lvm_type." <<<"$err"'
run "$CINDERCTL" --config "$T/bad.conf" volume create 1 --backend b
ok "missing volume group: clear error at backend open" \
	eval 'test "$rc" != 0 && grep -q "volume group .no-such-vg. not found" <<<"$err"'
run "$CINDERCTL" --config "$T/bad.conf" volume create 1 --backend c
ok "missing lvm command: clear error at backend open" \
	eval 'test "$rc" != 0 && grep -q "lvm command .lvm-not-installed. not found in PATH" <<<"$err"'
run env PATH=/nonexistent "$CINDERCTL" --config "$T/cinderlib.conf" volume create 1 --backend thick
ok "lvm not in PATH: clear error at backend open" \
	eval 'test "$rc" != 0 && grep -q "lvm command .lvm. not found in PATH" <<<"$err"'

# --- thick ------------------------------------------------------------

run cctl volume create 1 --backend thick --name thick1
V1=$out
lvs_read
ok "thick create" eval 'test "$rc" = 0 && lv_exists volume-$V1'
ok "thick LV is linear and 1 GiB" \
	test "$(lv_field "volume-$V1" segtype) $(lv_field "volume-$V1" lv_size)" = "linear 1073741824"

run cctl --json volume connect "$V1"
DEV=$(jq -r '.connection_info.data.device_path' <<<"$out" 2>/dev/null)
ok "connect gives a block connection on /dev/VG/LV" \
	eval 'test "$(jq -r .connection_info.driver_volume_type <<<"$out")" = block &&
	      test "$DEV" = "/dev/$VG/volume-$V1" && test -b "$DEV"'
CONN=$(jq -r .id <<<"$out" 2>/dev/null)
dd if="$T/pat1" of="$DEV" bs=1M oflag=direct conv=notrunc status=none
dd if="$T/pat1" of="$DEV" bs=1M seek=1000 oflag=direct conv=notrunc status=none
cctl connection disconnect "$CONN" >/dev/null 2>&1

run cctl --json backend stats thick --refresh
vgj=$(lvm vgs --reportformat json --units b --nosuffix -o vg_size,vg_free "$VG" </dev/null 2>/dev/null)
vsize=$(jq -r '.report[0].vg[0].vg_size' <<<"$vgj")
vfree=$(jq -r '.report[0].vg[0].vg_free' <<<"$vgj")
ok "thick stats: one pool named after the VG, sizes as vgs says" \
	eval 'test "$(jq -r ".pools|length" <<<"$out")" = 1 &&
	      test "$(jq -r ".pools[0].pool_name" <<<"$out")" = "$VG" &&
	      same_gib "$(jq -r ".pools[0].total_capacity_gb" <<<"$out")" "$(awk -v b=$vsize "BEGIN{print b/2^30}")" &&
	      same_gib "$(jq -r ".pools[0].free_capacity_gb" <<<"$out")" "$(awk -v b=$vfree "BEGIN{print b/2^30}")"'
ok "thick stats: provisioned 1 GiB, one volume, thick only" \
	eval 'same_gib "$(jq -r ".pools[0].provisioned_capacity_gb" <<<"$out")" 1 &&
	      test "$(jq -r ".pools[0].total_volumes" <<<"$out")" = 1 &&
	      test "$(jq -r ".pools[0].thick_provisioning_support" <<<"$out")" = true &&
	      test "$(jq -r ".pools[0].thin_provisioning_support" <<<"$out")" = false'

run cctl snapshot create "$V1" --name s1
S1=$out
lvs_read
ok "thick snapshot: COW snapshot of the volume, as large as it" \
	eval 'test "$rc" = 0 &&
	      test "$(lv_field _snapshot-$S1 origin) $(lv_field _snapshot-$S1 lv_size)" = "volume-$V1 1073741824"'
# Change the origin after the snapshot: the snapshot keeps the old data.
dd if="$T/pat2" of="/dev/$VG/volume-$V1" bs=1M oflag=direct conv=notrunc status=none

run cctl snapshot restore "$S1" --size 2
R1=$out
ok "thick volume from snapshot: 2 GiB" \
	eval 'test "$rc" = 0 && test "$(blockdev --getsize64 /dev/$VG/volume-$R1 2>/dev/null)" = 2147483648'
ok "thick volume from snapshot has the snapshot's data" \
	eval 'cmp -s -n 4194304 "$T/pat1" "/dev/$VG/volume-$R1" &&
	      cmp -s -n 4194304 "$T/pat1" <(dd if=/dev/$VG/volume-$R1 bs=1M skip=1000 count=4 status=none) &&
	      test "$(dd if=/dev/$VG/volume-$R1 bs=1M skip=1024 count=1 status=none | tr -d "\0" | wc -c)" = 0'

run cctl volume clone "$V1"
C1=$out
ok "thick clone has the source's current data" \
	eval 'test "$rc" = 0 && cmp -s -n 4194304 "$T/pat2" "/dev/$VG/volume-$C1" &&
	      cmp -s -n 4194304 "$T/pat1" <(dd if=/dev/$VG/volume-$C1 bs=1M skip=1000 count=4 status=none)'
lvs_read
ok "thick clone left no temporary snapshot" \
	eval '! lv_exists clone-snap-$C1'

run cctl volume extend "$V1" 2
ok "thick extend of a volume with a snapshot: 2 GiB, data kept" \
	eval 'test "$rc" = 0 && test "$(blockdev --getsize64 /dev/$VG/volume-$V1)" = 2147483648 &&
	      cmp -s -n 4194304 "$T/pat2" "/dev/$VG/volume-$V1"'

run cctl volume delete "$V1"
ok "delete of a volume with snapshots is refused" test "$rc" != 0
run cctl snapshot delete "$S1"
lvs_read
ok "thick snapshot delete removes the LV" eval 'test "$rc" = 0 && ! lv_exists _snapshot-$S1'
run cctl volume delete "$V1" "$R1" "$C1"
lvs_read
ok "thick delete removes the LVs" \
	eval 'test "$rc" = 0 && ! lv_exists volume-$V1 && ! lv_exists volume-$R1 && ! lv_exists volume-$C1'

# --- failures ---------------------------------------------------------

lvs_read
before=$(lv_names)
run cctl --json volume create 100 --backend thick --name toobig
ok "VG full: create fails with lvm's reason" \
	eval 'test "$rc" = 1 && grep -qi "insufficient free space" <<<"$err"'
run cctl --json volume show toobig
ok "VG full: the volume is in error" test "$(jq -r .status <<<"$out" 2>/dev/null)" = error
ok "VG full: no LV left behind" \
	eval 'lvs_read; test "$(lv_names)" = "$before"' 

run cctl volume create 1 --backend thick --name gone
G=$out
lvmc lvremove -q -f "$VG/volume-$G" >/dev/null 2>&1
run cctl volume connect "$G"
ok "LV removed behind our back: connect says so" \
	eval 'test "$rc" != 0 && grep -q "volume-$G does not exist (removed outside cinderlib?)" <<<"$err"'
run cctl snapshot create "$G"
ok "LV removed behind our back: snapshot says so" \
	eval 'test "$rc" != 0 && grep -q "volume-$G does not exist (removed outside cinderlib?)" <<<"$err"'
run cctl volume extend "$G" 2
ok "LV removed behind our back: extend says so" \
	eval 'test "$rc" != 0 && grep -q "volume-$G does not exist (removed outside cinderlib?)" <<<"$err"'
for s in $(cctl --json snapshot list --volume "$G" 2>/dev/null | jq -r '.[].id'); do
	cctl snapshot delete "$s" >/dev/null 2>&1
done
run cctl volume delete "$G"
ok "LV removed behind our back: delete completes (nothing left to remove)" \
	eval 'test "$rc" = 0 && ! cctl volume show "$G" >/dev/null 2>&1'

# volume_clear=zero, volume_clear_size=1: the first MiB is zeroed, not more.
run cctl volume create 1 --backend zeroing
Z=$out
ranges=$(lvm lvs --noheadings -o seg_pe_ranges "$VG/volume-$Z" </dev/null 2>/dev/null | tr -d ' ')
dd if="$T/pat1" of="/dev/$VG/volume-$Z" bs=1M count=2 oflag=direct conv=notrunc status=none
run cctl snapshot create "$Z"
ZS=$out
run cctl snapshot delete "$ZS"
lvs_read
ok "volume_clear=zero: a COW snapshot's store is wiped and the snapshot removed" \
	eval 'test -n "$ZS" && test "$rc" = 0 && ! lv_exists _snapshot-$ZS'
run cctl volume delete "$Z"
lvmc lvcreate -q -Zn -Wn -an -L 1g -n probe "$VG" "$ranges" >/dev/null 2>&1 &&
	lvmc lvchange -q -ay "$VG/probe" >/dev/null 2>&1
ok "volume_clear=zero wipes volume_clear_size MiB before removal" \
	eval 'test "$rc" = 0 && test -n "$ranges" &&
	      test "$(dd if=/dev/$VG/probe bs=1M count=1 status=none | tr -d "\0" | wc -c)" = 0 &&
	      cmp -s <(dd if="$T/pat1" bs=1M skip=1 count=1 status=none) \
		     <(dd if=/dev/$VG/probe bs=1M skip=1 count=1 iflag=direct status=none)'
lvmc lvremove -q -f "$VG/probe" >/dev/null 2>&1

echo "# $SECONDS s"
tap_done
