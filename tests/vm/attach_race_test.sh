#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Attach safety under concurrency, on the file backend and the SQLite
# store: concurrent attaches of one volume (exactly one wins), attach
# racing detach and delete, extend racing a snapshot of an attached
# volume, disconnect of an attached connection, delete while a device
# carries the volume (also when the store was edited behind our back).
# After every race the store and the kernel agree. Runs as root in the
# test VM from the project root; prints TAP.
set -u

top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$top/build}"
GIB=1073741824
MNT=/tmp/cl-race-fs
ROUNDS=20

modprobe brd rd_nr=1 rd_size=$((512 * 1024)) || exit 1
mkfs.ext4 -q -F /dev/ram0 >/dev/null 2>&1 || exit 1
mkdir -p "$MNT"
mount /dev/ram0 "$MNT" || exit 1
export TMPDIR=$MNT

. "$top/tests/cli/tap.sh"

cleanup() {
	for d in $("$CINDERCTL" device list --json 2>/dev/null | jq -r '.[].index' 2>/dev/null); do
		"$CINDERCTL" device remove --force "$d" >/dev/null 2>&1
	done
	rm -rf "$T"
	umount "$MNT" 2>/dev/null
}

plan 19
mkstate
trap cleanup EXIT
DB=$STATE/cinderlib.sqlite

# devices_of ID: the cbd disks whose sysfs volume_id is ID.
devices_of() {
	local f

	for f in /sys/block/cbd*/cinderblk/volume_id; do
		[ -f "$f" ] || continue
		[ "$(cat "$f")" = "$1" ] && basename "$(dirname "$(dirname "$f")")"
	done
}

nr_devices() {
	devices_of "$1" | wc -l
}

nr_connections() {
	cctl --json connection list --volume "$1" | jq length
}

# agree ID: the store and the kernel tell the same story of volume ID:
# either one device, one connection recording it and status in-use, or no
# device, no connection and status available.
agree() {
	local n c st path

	n=$(nr_devices "$1")
	c=$(nr_connections "$1")
	st=$(cctl --json volume show "$1" | jq -r .status)
	if [ "$n" = 1 ]; then
		path=$(cctl --json connection list --volume "$1" | jq -r '.[0].device_path')
		[ "$c" = 1 ] && [ "$st" = in-use ] && [ "$path" = "/dev/$(devices_of "$1")" ]
	else
		[ "$n" = 0 ] && [ "$c" = 0 ] && [ "$st" = available ]
	fi
}

# --- 3 concurrent attaches of one volume, ROUNDS times -----------------
VOL=$(cctl volume create 1 --name race)
bad_winners=0 bad_losers=0 bad_state=0
for round in $(seq "$ROUNDS"); do
	for i in 1 2 3; do
		cctl volume attach race >"$T/out.$i" 2>"$T/err.$i" &
		pids[i]=$!
	done
	wins=0
	for i in 1 2 3; do
		if wait "${pids[i]}"; then
			wins=$((wins + 1))
			winner=$(cat "$T/out.$i")
		else
			rcs[i]=$?
		fi
	done
	[ "$wins" = 1 ] || bad_winners=$((bad_winners + 1))
	for i in 1 2 3; do
		[ -s "$T/err.$i" ] || continue
		if [ "${rcs[i]}" != 1 ] || ! grep -q "already attached at ${winner:-/dev/cbd}" "$T/err.$i"; then
			bad_losers=$((bad_losers + 1))
			cat "$T/err.$i" | sed 's/^/# loser: /'
		fi
	done
	if [ "$(nr_devices "$VOL")" != 1 ] || [ "$(nr_connections "$VOL")" != 1 ] || ! agree "$VOL"; then
		bad_state=$((bad_state + 1))
	fi
	cctl volume detach race >/dev/null 2>&1
done
ok "3 concurrent attaches: exactly one wins in each of $ROUNDS rounds" test "$bad_winners" = 0
ok "the others exit 1 saying 'already attached at' the winner's device" test "$bad_losers" = 0
ok "after each round: one device, one connection, store and kernel agree" test "$bad_state" = 0
ok "after the last detach nothing is left" eval 'agree "$VOL" && test "$(nr_devices "$VOL")" = 0'

# --- two volumes at once: both attach -----------------------------------
VOL2=$(cctl volume create 1 --name other)
cctl volume attach race >"$T/a" 2>&1 & p1=$!
cctl volume attach other >"$T/b" 2>&1 & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
ok "concurrent attaches of two volumes both succeed" \
	eval 'test $r1 = 0 && test $r2 = 0 && test "$(nr_devices "$VOL")" = 1 && test "$(nr_devices "$VOL2")" = 1'
cctl volume detach race >/dev/null 2>&1
cctl volume detach other >/dev/null 2>&1

# --- attach racing detach ------------------------------------------------
bad=0
for round in $(seq 10); do
	[ $((round % 2)) = 0 ] && cctl volume attach race >/dev/null 2>&1
	cctl volume attach race >/dev/null 2>&1 & p1=$!
	cctl volume detach race >/dev/null 2>&1 & p2=$!
	wait $p1 $p2
	agree "$VOL" || bad=$((bad + 1))
	cctl volume detach race >/dev/null 2>&1
done
ok "attach racing detach: store and kernel agree after each of 10 rounds" test "$bad" = 0

# --- attach racing delete -----------------------------------------------
bad=0 deleted=0 attached=0
for round in $(seq 10); do
	id=$(cctl volume create 1 --name "del$round")
	cctl volume attach "$id" >/dev/null 2>&1 & p1=$!
	cctl volume delete "$id" >/dev/null 2>&1 & p2=$!
	wait $p1 $p2
	if cctl volume show "$id" >/dev/null 2>&1; then
		attached=$((attached + 1))
		agree "$id" && [ "$(nr_devices "$id")" = 1 ] || bad=$((bad + 1))
		cctl volume detach "$id" >/dev/null 2>&1
		cctl volume delete "$id" >/dev/null 2>&1
	else
		deleted=$((deleted + 1))
		[ "$(nr_devices "$id")" = 0 ] || bad=$((bad + 1))
	fi
done
echo "# attach vs delete: attach won $attached, delete won $deleted"
ok "attach racing delete: a deleted volume has no device, an attached one was not deleted" test "$bad" = 0
ok "no device is left that carries a deleted volume" \
	eval 'test -z "$(cctl device list --json | jq -r ".[].volume_id" | grep -v -e "$VOL" -e "$VOL2")"'

# --- extend racing a snapshot of an attached volume ----------------------
DEV=$(cctl volume attach race)
bad=0
for round in 2 3 4 5; do
	cctl volume extend race "$round" >/dev/null 2>"$T/e1" & p1=$!
	cctl snapshot create race --name "s$round" >/dev/null 2>"$T/e2" & p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	size=$(cctl --json volume show race | jq .size)
	if [ $r1 != 0 ] || [ $r2 != 0 ] || [ "$size" != "$round" ] ||
	   [ "$(blockdev --getsize64 "$DEV")" != $((round * GIB)) ] ||
	   [ "$(cat "/sys/block/${DEV#/dev/}/cinderblk/state")" != live ]; then
		bad=$((bad + 1))
		sed 's/^/# /' "$T/e1" "$T/e2"
	fi
done
ok "extend racing snapshot: both succeed, the device has the volume's size and is live" test "$bad" = 0
ok "every snapshot was recorded" test "$(cctl --json snapshot list --volume race | jq length)" = 4
for s in s2 s3 s4 s5; do cctl snapshot delete "$s" >/dev/null 2>&1; done

# --- disconnect of an attached connection --------------------------------
CONN=$(cctl --json connection list --volume race | jq -r '.[0].id')
run cctl connection disconnect "$CONN"
ok "disconnect of an attached connection is refused and says to detach" \
	eval 'test "$rc" = 1 && grep -q "attached at $DEV" <<<"$err" && grep -q "detach it first" <<<"$err"'
ok "after the refused disconnect the device, connection and status are as before" \
	eval 'agree "$VOL" && test "$(nr_devices "$VOL")" = 1'
run cctl volume disconnect race
ok "volume disconnect of an attached volume is refused too" \
	eval 'test "$rc" = 1 && agree "$VOL" && test "$(nr_devices "$VOL")" = 1'

# --- delete while a device carries the volume ------------------------------
run cctl volume delete race
ok "delete of an attached volume is refused" eval 'test "$rc" = 1 && test -b "$DEV"'
# The store edited behind our back: no connection, status available.
sqlite3 "$DB" "DELETE FROM connections WHERE volume_id = '$VOL';
	UPDATE volumes SET status = 'available',
	  json = json_set(json, '$.status', 'available') WHERE id = '$VOL';"
ok "the edited store says available with no connection" \
	test "$(cctl --json volume show race | jq -r .status)/$(nr_connections "$VOL")" = available/0
run cctl volume delete race
ok "delete is still refused: the kernel's device list decides, and names the device" \
	eval 'test "$rc" = 1 && grep -q "attached at $DEV" <<<"$err" && test -f "$(volume_file "$VOL")"'
run cctl volume attach race
ok "a new attach is refused too, naming the device" \
	eval 'test "$rc" = 1 && grep -q "already attached at $DEV" <<<"$err" && test "$(nr_devices "$VOL")" = 1'
run cctl snapshot create race
ok "a snapshot is refused while an unrecorded device carries the volume" \
	eval 'test "$rc" = 1 && grep -q "$DEV" <<<"$err"'
cctl device remove "$DEV" >/dev/null 2>&1
run cctl volume delete race
ok "once the device is removed the delete works" \
	eval 'test "$rc" = 0 && test "$(nr_devices "$VOL")" = 0 && ! cctl volume show race >/dev/null 2>&1'

tap_done
