#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# cinderctl control plane, happy paths: volumes, clones, snapshots,
# connections, key/values, backends and drivers on the file driver, with
# the data on disk checked after every operation that moves it.
set -u
. "${CINDERLIB_TOP:-.}/tests/cli/tap.sh"

plan 50
mkstate

GiB=$((1024 * 1024 * 1024))
uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

# --- create, show, list --------------------------------------------------
run cctl volume create 1 --name vol-a --description "first one"
VOL_A=$out
ok "volume create prints the new id" grep -Eq "$uuid_re" <<<"$VOL_A"
run cctl volume show --json "$VOL_A"
ok "show --json: size, status, name" \
	test "$(json_get '(j["size"], j["status"], j["name"], j["description"])')" = \
	"(1, 'available', 'vol-a', 'first one')"
FILE_A=$(volume_file "$VOL_A")
ok "the volume file exists with 1 GiB" \
	test -n "$FILE_A" -a "$(file_size "${FILE_A:-/nonexistent}" 2>/dev/null)" = "$GiB"

run "$CINDERCTL" --config "$CONF" --json volume list
global_json=$out
ok "global --json volume list has the volume" \
	test "$(json_get '[v["id"] for v in j]')" = "['$VOL_A']"
run cctl volume list --json
ok "volume list --json equals cinderctl --json volume list" test "$out" = "$global_json"
run cctl volume list
ok "volume list: a table with a header and the volume" \
	eval 'head -n 1 <<<"$out" | grep -q "^ID  *NAME  *SIZE  *STATUS" && grep -q "$VOL_A  *vol-a  *1 GiB  *available" <<<"$out"'
run cctl volume show vol-a
ok "show by name, key: value lines" \
	eval 'grep -q "^id: *$VOL_A\$" <<<"$out" && grep -q "^size: *1 GiB\$" <<<"$out"'

run cctl volume create 10G --name big --metadata owner=qa
VOL_B=$out
FILE_B=$(volume_file "$VOL_B")
ok "create 10G: 10 GiB file, metadata stored" \
	eval 'test "$(file_size "$FILE_B")" = $((10 * GiB)) &&
	      cctl --json volume show big | grep -q "\"owner\": \"qa\""'

# --- extend ---------------------------------------------------------------
run cctl volume extend vol-a 3GiB
ok "extend to 3 GiB grows the file" test "$rc" = 0 -a "$(file_size "$FILE_A")" = $((3 * GiB))
run cctl --json volume show vol-a
ok "extended volume shows 3 GiB, available" \
	test "$(json_get '(j["size"], j["status"])')" = "(3, 'available')"
run cctl volume extend vol-a 2
status_is 2 "extend to a smaller size is refused"
ok "the refusal says why and the file keeps its size" \
	eval 'grep -q "must be larger" <<<"$err" && test "$(file_size "$FILE_A")" = $((3 * GiB))'

# --- metadata and update ---------------------------------------------------
run cctl volume set-metadata vol-a k1=v1 k2=v2
run cctl --json volume show vol-a
ok "set-metadata stores both keys" \
	test "$(json_get 'sorted(j["metadata"].items())')" = "[('k1', 'v1'), ('k2', 'v2')]"
run cctl volume unset-metadata vol-a k1
run cctl --json volume show vol-a
ok "unset-metadata removes only that key" \
	test "$(json_get 'sorted(j["metadata"].items())')" = "[('k2', 'v2')]"
run cctl volume update vol-a --name alpha --bootable true
run cctl --json volume show "$VOL_A"
ok "update renames and marks bootable" \
	test "$(json_get '(j["name"], j["bootable"])')" = "('alpha', True)"

# --- clone: same data --------------------------------------------------------
head -c $((1024 * 1024)) /dev/urandom >"$T/pattern"
dd if="$T/pattern" of="$FILE_A" bs=1M conv=notrunc status=none
dd if="$T/pattern" of="$FILE_A" bs=1M seek=2047 conv=notrunc status=none
run cctl volume clone alpha --name alpha-clone
CLONE=$out
ok "clone prints a new id" grep -Eq "$uuid_re" <<<"$CLONE"
FILE_C=$(volume_file "$CLONE")
ok "the clone's data equals the source's" cmp -s "$FILE_A" "$FILE_C"
run cctl --json volume show "$CLONE"
ok "the clone records its source and size" \
	test "$(json_get '(j["source_volid"], j["size"])')" = "('$VOL_A', 3)"
run cctl volume clone alpha --size 5
ok "a larger clone has the larger size on disk" \
	test "$(file_size "$(volume_file "$out")")" = $((5 * GiB))
cctl volume delete "$out"

# --- snapshots and restore ------------------------------------------------------
run cctl snapshot create alpha --name snap1
SNAP=$out
ok "snapshot create prints an id" grep -Eq "$uuid_re" <<<"$SNAP"
run cctl snapshot list --volume alpha --json
ok "snapshot list --volume has the snapshot" \
	test "$(json_get '[(s["id"], s["volume_id"], s["volume_size"]) for s in j]')" = \
	"[('$SNAP', '$VOL_A', 3)]"
run cctl snapshot show snap1
ok "snapshot show by name" eval 'grep -q "^volume_id: *$VOL_A\$" <<<"$out" && grep -q "^status: *available" <<<"$out"'
head -c $((1024 * 1024)) /dev/urandom >"$T/pattern2"
dd if="$T/pattern2" of="$FILE_A" bs=1M conv=notrunc status=none
run cctl snapshot restore snap1 --name restored
RESTORED=$out
FILE_R=$(volume_file "$RESTORED")
ok "restore gives the data at snapshot time" \
	eval 'cmp -s -n $((1024 * 1024)) "$T/pattern" "$FILE_R" &&
	      ! cmp -s -n $((1024 * 1024)) "$T/pattern2" "$FILE_R"'
ok "restored volume has the full size and both written regions" \
	eval 'test "$(file_size "$FILE_R")" = $((3 * GiB)) &&
	      cmp -s -i 0:$((2047 * 1024 * 1024)) -n $((1024 * 1024)) "$T/pattern" "$FILE_R"'
run cctl --json volume show restored
ok "restored volume records the snapshot" test "$(json_get 'j["snapshot_id"]')" = "$SNAP"

run cctl volume delete alpha
status_is 1 "delete is refused while the volume has snapshots"
ok "the refusal names the snapshots and the file stays" \
	eval 'grep -q "snapshot" <<<"$err" && test -f "$FILE_A"'
run cctl snapshot delete snap1
run cctl --json snapshot list
ok "snapshot delete removes it" test "$rc:$(json_get 'len(j)')" = "0:0"
run cctl volume delete alpha
ok "volume delete then succeeds and removes the file" test "$rc" = 0 -a ! -e "$FILE_A"
run cctl volume show "$VOL_A"
status_is 3 "a deleted volume is not found"

# --- connections ----------------------------------------------------------------
run cctl volume connect big --connector host=node1 --connector ip=192.0.2.1 --mode ro
CONN=$out
ok "volume connect prints a connection id" grep -Eq "$uuid_re" <<<"$CONN"
run cctl --json connection list
ok "connection list --json: host, mode, volume" \
	test "$(json_get '[(c["id"], c["volume_id"], c["attached_host"], c["attach_mode"]) for c in j]')" = \
	"[('$CONN', '$VOL_B', 'node1', 'ro')]"
run cctl connection show "${CONN:0:8}"
ok "connection show by id prefix" grep -q "^driver_volume_type: *[a-z]" <<<"$out"
run cctl --json volume show big
ok "a connected volume is in-use" test "$(json_get 'j["status"]')" = "in-use"
run cctl volume connect big --connector '{"host": "node2", "multipath": false}'
run cctl --json connection list --volume big
ok "a JSON connector works too" \
	test "$(json_get 'sorted(c["connector"]["host"] for c in j)')" = "['node1', 'node2']"
run cctl volume delete big
ok "a connected volume cannot be deleted" eval 'test "$rc" = 1 && test -f "$FILE_B"'
run cctl connection disconnect "$CONN"
run cctl --json connection list
ok "connection disconnect ends that connection only" \
	test "$rc:$(json_get '[c["attached_host"] for c in j]')" = "0:['node2']"
run cctl volume disconnect big
run cctl --json connection list
ok "volume disconnect ends every connection" test "$rc:$(json_get 'len(j)')" = "0:0"
run cctl --json volume show big
ok "the volume is available again" test "$(json_get 'j["status"]')" = "available"

# --- ambiguous names --------------------------------------------------------------
D1=$(cctl volume create 1 --name dup)
D2=$(cctl volume create 1 --name dup)
run cctl volume show dup
ok "an ambiguous name is a usage error listing the ids" \
	eval 'test "$rc" = 2 && grep -q "$D1" <<<"$err" && grep -q "$D2" <<<"$err"'
run cctl volume delete "$D1" "$D2"
ok "delete takes several volumes" eval 'test "$rc" = 0 && ! cctl volume show "$D1" 2>/dev/null'

# --- key/values -----------------------------------------------------------------
cctl keyvalue set node/a '{"host": "a"}'
echo "from stdin" | cctl keyvalue set node/b -
run cctl keyvalue get node/a
ok "keyvalue set then get" test "$out" = '{"host": "a"}'
run cctl keyvalue get node/b
ok "keyvalue set - reads stdin" test "$out" = "from stdin"
run cctl --json keyvalue list node/
ok "keyvalue list PREFIX --json" test "$(json_get 'sorted(j)')" = "['node/a', 'node/b']"
cctl keyvalue delete node/a
run cctl keyvalue get node/a
status_is 3 "a deleted key is not found"

# --- backends and drivers --------------------------------------------------------
run cctl backend list
ok "backend list shows the default backend and that it opens" \
	grep -Eq '^default +file +[0-9]+ +yes +ok' <<<"$out"
run cctl --json backend show
ok "backend show --json: driver, options" \
	test "$(json_get '(j["name"], j["driver"], j["options"]["file_volume_dir"])')" = \
	"('default', 'file', '$VOLDIR')"
run cctl --json backend stats --refresh
ok "backend stats --refresh: a pool with capacity and volumes" \
	test "$(json_get 'len(j["pools"]) >= 1 and j["pools"][0]["total_capacity_gb"] > 0')" = True
run cctl drivers
ok "drivers lists file with its option table" \
	eval 'grep -q "^file " <<<"$out" && grep -q "^OPTION  *TYPE  *DEFAULT  *HELP" <<<"$out" &&
	      grep -q "^file_volume_dir " <<<"$out"'
run cctl drivers --json file
ok "drivers --json NAME: one object with options" \
	test "$(json_get 'j["name"] == "file" and "file_volume_dir" in [o["name"] for o in j["options"]]')" = True

tap_done
