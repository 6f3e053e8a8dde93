#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Snapshots of an attached volume with a mounted ext4 under a running
# writer are consistent: each one, restored and attached read-only, passes
# e2fsck -fn, mounts read-only without a journal replay, and holds what was
# written and synced before it. Runs as root in the test VM from the
# project root; prints TAP.
set -u

top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$top/build}"
ROUNDS=${ROUNDS:-20}
MNT=/tmp/cl-consist-fs
FS=/tmp/cl-consist-mnt
RO=/tmp/cl-consist-ro
WRITER=

modprobe brd rd_nr=1 rd_size=$((1024 * 1024)) || exit 1
mkfs.ext4 -q -F /dev/ram0 >/dev/null 2>&1 || exit 1
mkdir -p "$MNT" "$FS" "$RO"
mount /dev/ram0 "$MNT" || exit 1
export TMPDIR=$MNT

. "$top/tests/cli/tap.sh"

cleanup() {
	[ -n "$WRITER" ] && touch "$T/stop-writer" && wait "$WRITER" 2>/dev/null
	umount "$RO" "$FS" 2>/dev/null
	for d in $("$CINDERCTL" device list --json 2>/dev/null | jq -r '.[].index' 2>/dev/null); do
		"$CINDERCTL" device remove --force "$d" >/dev/null 2>&1
	done
	rm -rf "$T"
	umount "$MNT" 2>/dev/null
}

plan $((ROUNDS + 5))
mkstate
trap cleanup EXIT

VOL=$(cctl volume create 1 --name busy)
run cctl volume attach busy
DEV=$out
ok "attach the volume" test "$rc" = 0 -a -b "$DEV"
# A small filesystem, initialized up front: less to copy per snapshot and
# no lazy init thread writing behind the test's back.
ok "make and mount ext4 on it" eval 'mkfs.ext4 -q -F -J size=4 \
	-E lazy_itable_init=0,lazy_journal_init=0 "$DEV" 128M >/dev/null 2>&1 &&
	mount "$DEV" "$FS"'

# A writer that runs until told to stop: rewrites a ring of files,
# syncing now and then. It is stopped through a file, not a signal: a
# killed subshell leaves its dd running, holding the filesystem.
(
	i=0
	while [ ! -e "$T/stop-writer" ]; do
		dd if=/dev/zero of="$FS/ring$((i % 6))" bs=64k count=16 \
			conv=notrunc status=none 2>/dev/null
		[ $((i % 4)) = 0 ] && sync -f "$FS" 2>/dev/null
		i=$((i + 1))
	done
) &
WRITER=$!

for round in $(seq 1 "$ROUNDS"); do
	why=
	# Written and synced before the snapshot: must be in it.
	head -c 65536 /dev/urandom >"$FS/marker"
	echo "round $round" >>"$FS/marker"
	sync -f "$FS"
	sum=$(sha256sum <"$FS/marker")
	dmesg -C
	snap=$(cctl snapshot create busy --name "s$round" 2>&1) || why="snapshot: $snap"
	if [ -z "$why" ]; then
		restored=$(cctl snapshot restore "$snap" 2>&1) || why="restore: $restored"
	fi
	if [ -z "$why" ]; then
		rdev=$(cctl volume attach "$restored" --mode ro 2>&1) || why="attach: $rdev"
	fi
	if [ -z "$why" ]; then
		fsck=$(e2fsck -fn "$rdev" 2>&1) || why="e2fsck -fn: $fsck"
	fi
	# A read-only device cannot replay a journal: mount fails if it must.
	if [ -z "$why" ]; then
		mount -o ro "$rdev" "$RO" 2>/dev/null || why="mount -o ro failed: $(dmesg | tail -n 3)"
	fi
	if [ -z "$why" ] && dmesg | grep -Eqi 'recovery|replay|orphan|error'; then
		why="kernel log: $(dmesg | grep -Ei 'recovery|replay|orphan|error' | head -n 3)"
	fi
	if [ -z "$why" ] && [ "$(sha256sum <"$RO/marker" 2>/dev/null)" != "$sum" ]; then
		why="the marker synced before the snapshot is not in it"
	fi
	umount "$RO" 2>/dev/null
	[ -n "${rdev:-}" ] && cctl volume detach "$restored" >/dev/null 2>&1
	[ -n "${restored:-}" ] && cctl volume delete "$restored" >/dev/null 2>&1
	[ -n "${snap:-}" ] && cctl snapshot delete "$snap" >/dev/null 2>&1
	out=$why
	err=
	ok "round $round: snapshot under a writer is clean and has the synced data" test -z "$why"
	snap= restored= rdev=
done

ok "the writer was running all along" kill -0 "$WRITER"
touch "$T/stop-writer"
wait "$WRITER" 2>/dev/null
WRITER=
umount "$FS"
ok "the source filesystem is clean too" eval 'e2fsck -fn "$DEV" >/dev/null 2>&1'
run cctl volume detach busy
ok "detach, nothing left" \
	eval 'test "$rc" = 0 && test "$(cctl --json connection list | jq length)" = 0 &&
	      test "$(cctl --json snapshot list | jq length)" = 0'

tap_done
