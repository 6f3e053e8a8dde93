#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The lvm driver against real LVM2 in the test VM, thin volumes in a thin
# pool through cinderctl, checked with lvs, blockdev and the data itself
# (lvm_thick_test.sh does thick volumes and the checks at backend open).
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
VG2=cinder-fresh
LVM_VGS=("$VG" "$VG2")
lvm_start lvm-thin

plan 14

lvm_pv_tmpfs 16g || exit 1
lvm_loop 2G || exit 1
lvm_loop 256M || exit 1
lvmc pvcreate -q "${LOOPS[0]}" "${LOOPS[1]}" >/dev/null || exit 1
lvmc vgcreate -q "$VG" "${LOOPS[0]}" >/dev/null || exit 1
lvmc vgcreate -q "$VG2" "${LOOPS[1]}" >/dev/null || exit 1
# The thin pool the thin and auto backends find.
lvmc lvcreate -q --type thin-pool -L 1g -n "$VG-pool" "$VG" >/dev/null || exit 1

cat >"$CONF" <<CONF
[DEFAULT]
state_dir = $T/state
enabled_backends = thin, auto, fresh, mirrored

[thin]
volume_driver = lvm
volume_group = $VG
lvm_type = thin

[auto]
volume_driver = lvm
volume_group = $VG
lvm_type = auto

[fresh]
volume_driver = lvm
volume_group = $VG2
lvm_type = thin

[mirrored]
volume_driver = lvm
volume_group = $VG
lvm_type = thin
lvm_mirrors = 1
CONF

dd if=/dev/urandom of="$T/pat1" bs=1M count=4 status=none
dd if=/dev/urandom of="$T/pat2" bs=1M count=4 status=none

# --- thin -------------------------------------------------------------

run cctl volume create 2 --backend thin --name thin1
T1=$out
lvs_read
ok "thin create: a thin LV in the pool" \
	eval 'test "$rc" = 0 && test "$(lv_field volume-$T1 segtype) $(lv_field volume-$T1 pool_lv)" = "thin $VG-pool"'
dd if="$T/pat1" of="/dev/$VG/volume-$T1" bs=1M oflag=direct conv=notrunc status=none

run cctl --json backend stats thin --refresh
pj=$(lvm lvs --reportformat json --units b --nosuffix -o lv_size,data_percent "$VG/$VG-pool" </dev/null 2>/dev/null)
psize=$(jq -r '.report[0].lv[0].lv_size' <<<"$pj")
pused=$(jq -r '.report[0].lv[0].data_percent' <<<"$pj")
ok "thin stats: the pool, its size and use as lvs says, thin only" \
	eval 'test "$(jq -r ".pools[0].pool_name" <<<"$out")" = "$VG-pool" &&
	      same_gib "$(jq -r ".pools[0].total_capacity_gb" <<<"$out")" "$(awk -v b=$psize "BEGIN{print b/2^30}")" &&
	      same_gib "$(jq -r ".pools[0].free_capacity_gb" <<<"$out")" "$(awk -v b=$psize -v p=$pused "BEGIN{print b*(1-p/100)/2^30}")" &&
	      test "$(jq -r ".pools[0].thin_provisioning_support" <<<"$out")" = true &&
	      test "$(jq -r ".pools[0].thick_provisioning_support" <<<"$out")" = false'
ok "thin stats: provisioned = thin volume sizes (over-subscribed pool)" \
	eval 'same_gib "$(jq -r ".pools[0].provisioned_capacity_gb" <<<"$out")" 2 &&
	      test "$(jq -r ".pools[0].total_volumes" <<<"$out")" = 1'

run cctl snapshot create "$T1"
TS=$out
lvs_read
ok "thin snapshot: thin LV with activation skip" \
	eval 'test "$rc" = 0 && test "$(lv_field _snapshot-$TS segtype)" = thin &&
	      [[ "$(lv_field _snapshot-$TS lv_attr)" == *k ]]'
dd if="$T/pat2" of="/dev/$VG/volume-$T1" bs=1M oflag=direct conv=notrunc status=none

run cctl snapshot restore "$TS" --size 3
TR=$out
ok "thin volume from snapshot: active, 3 GiB, the snapshot's data" \
	eval 'test "$rc" = 0 && test "$(blockdev --getsize64 /dev/$VG/volume-$TR 2>/dev/null)" = 3221225472 &&
	      cmp -s -n 4194304 "$T/pat1" "/dev/$VG/volume-$TR"'
run cctl volume clone "$T1"
TC=$out
lvs_read
ok "thin clone: a thin snapshot with the source's data" \
	eval 'test "$rc" = 0 && test "$(lv_field volume-$TC origin)" = "volume-$T1" &&
	      cmp -s -n 4194304 "$T/pat2" "/dev/$VG/volume-$TC"'
run cctl volume extend "$T1" 4
ok "thin extend: 4 GiB" \
	eval 'test "$rc" = 0 && test "$(blockdev --getsize64 /dev/$VG/volume-$T1)" = 4294967296'

lvs_read
before=$(lv_names)
run cctl volume create 50 --backend thin --name oversub
ok "thin over-subscription past max_over_subscription_ratio is refused, no LV" \
	eval 'test "$rc" = 1 && grep -q "max_over_subscription_ratio" <<<"$err" &&
	      lvs_read && test "$(lv_names)" = "$before"'

run cctl snapshot delete "$TS"
run2=$rc
run cctl volume delete "$T1" "$TR" "$TC"
lvs_read
ok "thin deletes remove the LVs, the pool stays" \
	eval 'test "$run2" = 0 && test "$rc" = 0 && ! lv_exists volume-$T1 && ! lv_exists _snapshot-$TS &&
	      ! lv_exists volume-$TR && ! lv_exists volume-$TC && lv_exists $VG-pool'

run cctl volume create 1 --backend thin --name gone
G=$out
lvmc lvremove -q -f "$VG/volume-$G" >/dev/null 2>&1
run cctl volume extend "$G" 2
ok "thin LV removed behind our back: extend says so" \
	eval 'test "$rc" != 0 && grep -q "volume-$G does not exist (removed outside cinderlib?)" <<<"$err"'
run cctl volume delete "$G"

run cctl --json backend stats mirrored
ok "lvm_mirrors with thin volumes is refused at backend open" \
	eval 'test "$rc" != 0 && grep -q "lvm_mirrors" <<<"$err"'

run cctl --json backend stats auto --refresh
ok "lvm_type=auto is thin when the pool exists" \
	test "$(jq -r '.pools[0].pool_name + " " + (.pools[0].thin_provisioning_support|tostring)' <<<"$out" 2>/dev/null)" = "$VG-pool true"

run cctl --json backend stats fresh --refresh
ok "lvm_type=thin creates a missing pool from the VG's free space" \
	eval 'test "$rc" = 0 &&
	      test "$(lvm lvs --noheadings -o segtype,lv_tags "$VG2/$VG2-pool" </dev/null 2>/dev/null | xargs)" = "thin-pool cinderlib-created" &&
	      test "$(lvm vgs --noheadings -o vg_free --units b --nosuffix "$VG2" </dev/null 2>/dev/null | xargs)" = 0'

run "$CINDERCTL" drivers lvm
ok "drivers lvm lists the Cinder options" \
	eval 'for o in volume_group lvm_type lvm_mirrors volume_clear volume_clear_size lvm_suppress_fd_warnings lvm_conf_file; do
		grep -q "$o" <<<"$out" || exit 1; done'

echo "# $SECONDS s"
tap_done
