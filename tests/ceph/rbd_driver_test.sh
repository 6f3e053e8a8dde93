#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The rbd driver through cinderctl against a throwaway Ceph cluster
# (tests/ceph/cluster.sh, started once for the whole program): stats,
# create, snapshot, volume from snapshot, clone, clone depth, extend,
# connection_info, the delete rules of Cinder's driver (busy snapshots,
# sources renamed *.deleted while clones need them, images removed behind
# our back), and the failure paths: wrong key, wrong pool, full pool, a
# stopped OSD and a stopped monitor. Data is checked with sha256 of what
# librbd reads back (tests/ceph/rbd_io.py). Attach is in tests/vm.
set -u
. "${CINDERLIB_TOP:-.}/tests/cli/tap.sh"
. "${CINDERLIB_TOP:-.}/tests/ceph/cluster.sh"
RBD_IO="/usr/bin/python3 ${CINDERLIB_TOP:-.}/tests/ceph/rbd_io.py"

for c in ceph ceph-mon ceph-mgr ceph-osd rbd rados; do
	if ! command -v "$c" >/dev/null; then
		echo "1..0 # SKIP $c not installed (scripts/install-deps.sh)"
		exit 0
	fi
done
if ! /usr/bin/python3 -c 'import rados, rbd' 2>/dev/null; then
	echo "1..0 # SKIP python3-rbd not installed (scripts/install-deps.sh)"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/rbd-driver.XXXXXX")
CD=$T/cluster
CONF=$T/cinderlib.conf
MIB=$((1 << 20))
GIB=$((1 << 30))
# Processes stopped by a test are let go again before the cluster stops.
stopped=()
cleanup() {
	[ ${#stopped[@]} -gt 0 ] && kill -CONT "${stopped[@]}" 2>/dev/null
	ceph_stop "$CD"
	rm -rf "$T"
}
trap cleanup EXIT

plan 43

ceph_start "$CD" 2>"$T/start.err"
if [ $? != 0 ]; then
	echo "not ok 1 - ceph_start"
	sed 's/^/# /' "$T/start.err"
	exit 1
fi
echo "# cluster HEALTH_OK in ${CEPH_START_SECONDS}s, mon $CEPH_MON_ADDR"
ceph-authtool --create-keyring "$T/bad.keyring" --gen-key -n client.cinder >/dev/null

common="rbd_ceph_conf = $CEPH_CONF
rbd_user = cinder
rbd_keyring_conf = $CEPH_KEYRING_CINDER
rados_connect_timeout = 5
rados_connection_retries = 2
rados_connection_interval = 1"
cat >"$CONF" <<CONF
[DEFAULT]
state_dir = $T/state
enabled_backends = ceph, flat, wrongkey, wrongpool

[ceph]
volume_driver = rbd
$common

[flat]
volume_driver = rbd
$common
rbd_flatten_volume_from_snapshot = true
rbd_max_clone_depth = 1
rbd_store_chunk_size = 8

[wrongkey]
volume_driver = rbd
$common
rbd_keyring_conf = $T/bad.keyring

[wrongpool]
volume_driver = rbd
$common
rbd_pool = nosuchpool
CONF

rbda() {
	timeout 60 rbd -c "$CEPH_CONF" --keyring "$CEPH_KEYRING_ADMIN" "$@"
}
# info_get IMAGE EXPR: EXPR on `rbd info --format json` of IMAGE (as j).
info_get() {
	local out

	out=$(rbda info "rbd/$1" --format json 2>/dev/null) || { echo missing; return; }
	json_get "$2"
}
vol_get() {
	local out

	out=$(cctl volume show "$1" --json 2>/dev/null) || { echo missing; return; }
	json_get "$2"
}
snap_get() {
	local out

	out=$(cctl snapshot show "$1" --json 2>/dev/null) || { echo missing; return; }
	json_get "$2"
}
images() {
	rbda ls rbd | sort | tr '\n' ' '
}
newid() {
	sed -n 's/^\([0-9a-f-]\{36\}\)$/\1/p' <<<"$out" | tail -n 1
}

# --- stats and create ---------------------------------------------------
run cctl backend stats ceph --json
ok "stats: the pool's real figures (total $(json_get 'j["pools"][0]["total_capacity_gb"]') GiB), thin, no volumes" \
	test "$(json_get '[(p["pool_name"], 1.0 < p["total_capacity_gb"] <= 2.0,
		0 < p["free_capacity_gb"] <= p["total_capacity_gb"], p["thin_provisioning_support"],
		p["total_volumes"], p["provisioned_capacity_gb"]) for p in j["pools"]]')" = \
	"[('rbd', True, True, True, 0, 0.0)]"

run cctl volume create 1 --backend ceph --name v1
V1=$(newid)
ok "create: volume $V1 is available" test "$(vol_get "$V1" 'j["status"]')" = available
ok "create: image volume-$V1 of 1 GiB, 4 MiB objects" \
	test "$(info_get "volume-$V1" '(j["size"], j["order"])')" = "($GIB, 22)"
ok "create: layering, exclusive-lock, object-map, fast-diff, deep-flatten" \
	test "$(info_get "volume-$V1" 'sorted(j["features"])')" = \
	"['deep-flatten', 'exclusive-lock', 'fast-diff', 'layering', 'object-map']"

run cctl volume create 1 --backend flat
VF=$(newid)
ok "rbd_store_chunk_size = 8: 8 MiB objects" \
	test "$(info_get "volume-$VF" 'j["order"]')" = 23

# --- data, snapshot, volume from snapshot, clone --------------------------
$RBD_IO write "volume-$V1" 0 $((8 * MIB)) A
$RBD_IO write "volume-$V1" $((GIB - MIB)) $MIB tail
sumA=$($RBD_IO pattern $((8 * MIB)) A)
ok "8 MiB written at 0 read back" \
	test "$($RBD_IO sum "volume-$V1" 0 $((8 * MIB)))" = "$sumA"

run cctl snapshot create "$V1" --name s1
S1=$(newid)
ok "snapshot: available" test "$(snap_get "$S1" 'j["status"]')" = available
ok "snapshot: snapshot-$S1 on the image, protected" \
	test "$(rbda snap ls "rbd/volume-$V1" --format json | (out=$(cat); json_get '[(s["name"], s["protected"]) for s in j]'))" = \
	"[('snapshot-$S1', 'true')]"

$RBD_IO write "volume-$V1" 0 $((8 * MIB)) B
sumB=$($RBD_IO pattern $((8 * MIB)) B)
ok "the snapshot keeps A after B is written over the volume" eval \
	'test "$($RBD_IO sum "volume-$V1" 0 $((8 * MIB)) "snapshot-$S1")" = "$sumA" &&
	 test "$($RBD_IO sum "volume-$V1" 0 $((8 * MIB)))" = "$sumB"'

run cctl snapshot restore "$S1" --size 2
V2=$(newid)
ok "volume from snapshot: available, 2 GiB" \
	test "$(vol_get "$V2" '(j["status"], j["size"])')" = "('available', 2)"
ok "volume from snapshot: a copy-on-write child of the snapshot, grown to 2 GiB" \
	test "$(info_get "volume-$V2" '(j["parent"]["image"], j["parent"]["snapshot"], j["size"])')" = \
	"('volume-$V1', 'snapshot-$S1', $((2 * GIB)))"
ok "volume from snapshot: holds A, and the source's last MiB" eval \
	'test "$($RBD_IO sum "volume-$V2" 0 $((8 * MIB)))" = "$sumA" &&
	 test "$($RBD_IO sum "volume-$V2" $((GIB - MIB)) $MIB)" = "$($RBD_IO pattern $MIB tail)"'

run cctl volume clone "$V1"
V3=$(newid)
ok "clone: a child of the hidden snapshot volume-$V3.clone_snap" \
	test "$(info_get "volume-$V3" '(j["parent"]["image"], j["parent"]["snapshot"])')" = \
	"('volume-$V1', 'volume-$V3.clone_snap')"
ok "clone: holds B" test "$($RBD_IO sum "volume-$V3" 0 $((8 * MIB)))" = "$sumB"
$RBD_IO write "volume-$V3" 0 $MIB C
ok "clone: writing it leaves the source alone" \
	test "$($RBD_IO sum "volume-$V1" 0 $((8 * MIB)))" = "$sumB"

# flat: volumes from snapshots are flattened; a clone past depth 1 too.
$RBD_IO write "volume-$VF" 0 $MIB F
run cctl snapshot create "$VF"
SF=$(newid)
run cctl snapshot restore "$SF"
VF2=$(newid)
ok "rbd_flatten_volume_from_snapshot: no parent, data F" eval \
	'test "$(info_get "volume-$VF2" "j.get(\"parent\")")" = None &&
	 test "$($RBD_IO sum "volume-$VF2" 0 $MIB)" = "$($RBD_IO pattern $MIB F)"'
run cctl volume clone "$VF2"
VF3=$(newid)
ok "depth 1: a clone of a flat volume stays a clone" \
	test "$(info_get "volume-$VF3" 'j["parent"]["image"]')" = "volume-$VF2"
run cctl volume clone "$VF3"
VF4=$(newid)
ok "depth 1: a clone of that clone is flattened, its hidden snapshot gone" eval \
	'test "$(info_get "volume-$VF4" "j.get(\"parent\")")" = None &&
	 test "$($RBD_IO sum "volume-$VF4" 0 $MIB)" = "$($RBD_IO pattern $MIB F)" &&
	 ! rbda snap ls "rbd/volume-$VF3" | grep -q clone_snap'
ok "each volume and snapshot records its clone depth (no walk up the chain)" \
	test "$(for o in "volume $V1" "snapshot $S1" "volume $V2" "volume $V3" \
		"volume $VF2" "volume $VF3" "volume $VF4"; do
		out=$(cctl "${o% *}" show "${o#* }" --json) &&
			json_get 'j.get("provider_location")'
	done | tr '\n' ' ')" = \
	"clone_depth=0 clone_depth=0 clone_depth=1 clone_depth=1 clone_depth=0 clone_depth=1 clone_depth=0 "
# A volume of an earlier version (no recorded depth): the chain is walked.
sqlite3 "$T/state/cinderlib.sqlite" \
	"UPDATE volumes SET json = json_remove(json, '\$.provider_location') WHERE id = '$VF3'"
run cctl volume clone "$VF3"
VF5=$(newid)
ok "depth 1, nothing recorded: the clone of a clone is still flattened" eval \
	'test "$(info_get "volume-$VF5" "j.get(\"parent\")")" = None &&
	 test "$(vol_get "$VF5" "j[\"provider_location\"]")" = clone_depth=0'

# --- extend, stats, connection_info ---------------------------------------
run cctl volume extend "$V1" 3
ok "extend: 3 GiB in the store and in Ceph, data kept" eval \
	'test "$(vol_get "$V1" "j[\"size\"]")" = 3 &&
	 test "$(info_get "volume-$V1" "j[\"size\"]")" = $((3 * GIB)) &&
	 test "$($RBD_IO sum "volume-$V1" 0 $((8 * MIB)))" = "$sumB"'

run cctl backend stats ceph --json
ok "stats: provisioned is the sum of the volumes (3+2+1+1+1+1+1+1 GiB), 8 volumes" \
	test "$(json_get '(j["pools"][0]["provisioned_capacity_gb"], j["pools"][0]["total_volumes"])')" = "(11.0, 8)"

run cctl volume connect "$V1" --connector host=elsewhere
C1=$(newid)
run cctl connection show "$C1" --json
mon_port=${CEPH_MON_ADDR##*:}
key=$(ceph-authtool -p -n client.cinder "$CEPH_KEYRING_CINDER")
ok "connection_info in Cinder's rbd form" \
	test "$(json_get '[(i["driver_volume_type"], d["name"], d["hosts"], d["ports"], d["cluster_name"],
		d["auth_enabled"], d["auth_username"], d["volume_id"], d["discard"], d["access_mode"])
		for i in [j["connection_info"]] for d in [i["data"]]]')" = \
	"[('rbd', 'rbd/volume-$V1', ['127.0.0.1'], ['$mon_port'], 'ceph', True, 'cinder', '$V1', True, 'rw')]"
ok "connection_info carries the keyring of rbd_user" \
	eval 'json_get "j[\"connection_info\"][\"data\"][\"keyring\"]" | grep -q "key = $key"'
run cctl connection disconnect "$C1"
status_is 0 "disconnect"

# --- delete ----------------------------------------------------------------
run cctl snapshot delete "$S1"
ok "a snapshot with a volume made from it is busy, and stays available" eval \
	'test "$rc" = 1 && grep -q "has clones" <<<"$err" &&
	 test "$(snap_get "$S1" "j[\"status\"]")" = available'
run cctl volume delete "$V2"
run cctl snapshot delete "$S1"
ok "once that volume is gone the snapshot goes" eval \
	'test "$rc" = 0 && ! rbda snap ls "rbd/volume-$V1" | grep -q "snapshot-$S1" && ! rbda ls rbd | grep -q "volume-$V2"'

run cctl volume delete "$V1"
ok "a deleted source with a clone: gone from the store, kept as volume-$V1.deleted" eval \
	'test "$rc" = 0 && test "$(vol_get "$V1" 1)" = missing &&
	 images | grep -q "volume-$V1.deleted" && ! images | grep -q "volume-$V1 "'
ok "the clone still reads its data: C, then B from its parent" eval \
	'test "$($RBD_IO sum "volume-$V3" 0 $MIB)" = "$($RBD_IO pattern $MIB C)" &&
	 test "$($RBD_IO sum "volume-$V3" $MIB $((7 * MIB)))" = "$($RBD_IO pattern $((8 * MIB)) B $MIB)"'
run cctl volume delete "$V3"
ok "deleting the last clone removes volume-$V1.deleted too" eval \
	'test "$rc" = 0 && ! images | grep -q "$V1"'

run cctl snapshot delete "$SF"
ok "a snapshot whose volumes were flattened deletes" eval \
	'test "$rc" = 0 && ! rbda snap ls "rbd/volume-$VF" | grep -q snapshot-'
rbda rm --no-progress "rbd/volume-$VF" >/dev/null 2>&1
run cctl volume delete "$VF"
ok "deleting a volume whose image was removed behind our back works" eval \
	'test "$rc" = 0 && test "$(vol_get "$VF" 1)" = missing'

# --- failure paths ---------------------------------------------------------
t0=$SECONDS
run cctl backend stats wrongkey
ok "wrong key: refused at once, with the reason ($((SECONDS - t0))s)" eval \
	'test "$rc" = 1 && grep -q "Permission denied" <<<"$err" && grep -q "rbd_keyring_conf" <<<"$err" &&
	 test $((SECONDS - t0)) -le 5'
run cctl backend stats wrongpool
ok "wrong pool: named" eval \
	'test "$rc" = 1 && grep -q "pool .nosuchpool. does not exist" <<<"$err"'
printf '[DEFAULT]\nstate_dir = %s\nenabled_backends = x\n[x]\nvolume_driver = rbd\nrbd_pooll = rbd\n' \
	"$T/state2" >"$T/typo.conf"
run "$CINDERCTL" --config "$T/typo.conf" backend stats x
ok "an unknown option is refused, naming the right one" eval \
	'test "$rc" != 0 && grep -q "rbd_pool" <<<"$err"'

ceph_admin osd pool set-quota rbd max_objects 1 >/dev/null 2>&1
end=$((SECONDS + 60))
until ceph_admin health detail 2>/dev/null | grep -q "pool 'rbd' is full" || [ $SECONDS -ge $end ]; do
	sleep 1
done
t0=$SECONDS
run cctl volume create 1 --backend ceph
VQ=$(grep -o '[0-9a-f-]\{36\}' <<<"$err" | head -n 1)
ok "full pool: the create fails at once, saying why ($((SECONDS - t0))s)" eval \
	'test "$rc" = 1 && grep -q "quota" <<<"$err" && test $((SECONDS - t0)) -le 5'
ok "full pool: the volume is in error, no image left behind" eval \
	'test -n "$VQ" && test "$(vol_get "$VQ" "j[\"status\"]")" = error &&
	 ! images | grep -q "$VQ" && ! rados -c "$CEPH_CONF" --keyring "$CEPH_KEYRING_ADMIN" -p rbd ls | grep -q "$VQ"'
ceph_admin osd pool set-quota rbd max_objects 0 >/dev/null 2>&1
run cctl volume delete "$VQ"
status_is 0 "full pool: the volume in error deletes once there is room"

osd=$(cat "$CD/run/osd.0.pid")
kill -STOP "$osd" && stopped+=("$osd")
t0=$SECONDS
run timeout 60 "$CINDERCTL" --config "$CONF" volume create 1 --backend ceph
VS=$(grep -o '[0-9a-f-]\{36\}' <<<"$err" | head -n 1)
took=$((SECONDS - t0))
ok "OSD stopped mid-create: a clear error within the timeout (${took}s)" eval \
	'test "$rc" = 1 && grep -q "timed out" <<<"$err" && test "$took" -le 15'
ok "OSD stopped: the volume is saved in error" \
	test "$(vol_get "$VS" 'j["status"]')" = error
kill -CONT "$osd"
stopped=()
run cctl volume delete "$VS"
ok "OSD back: the volume in error deletes, no image left" eval \
	'test "$rc" = 0 && ! images | grep -q "$VS"'

mon=$(cat "$CD/run/mon.a.pid")
kill -STOP "$mon" && stopped+=("$mon")
t0=$SECONDS
run timeout 60 "$CINDERCTL" --config "$CONF" backend stats ceph
took=$((SECONDS - t0))
ok "monitor stopped: the backend open fails within 2 attempts of 5s (${took}s)" eval \
	'test "$rc" = 1 && grep -q "after 2 attempts" <<<"$err" && test "$took" -le 20'
kill -CONT "$mon"
stopped=()
run cctl volume list --json
ok "nothing is half-done: the store has the volumes that Ceph has" \
	test "$(json_get 'sorted("volume-" + v["id"] for v in j)' | tr -d "[]',")" = \
	"$(rbda ls rbd | sort | tr '\n' ' ' | sed 's/ $//')"

tap_done
