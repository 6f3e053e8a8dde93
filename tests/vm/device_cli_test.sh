#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cinderctl device: add, list, show, resize, suspend, resume, remove against
# the loaded cinderblk module. Runs as root in the test VM from the project
# root; prints TAP.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$(cd "$here/../.." && pwd)}"
. "$top/tests/cli/tap.sh"

out= err= rc=0
T=$(mktemp -d /tmp/cbd-cli.XXXXXX)
MNT=/tmp/cbd-cli-ext4

cleanup() {
	exec 3<&- 2>/dev/null
	for d in $("$CINDERCTL" device list --json 2>/dev/null | jq -r '.[].index' 2>/dev/null); do
		"$CINDERCTL" device remove --force "$d" >/dev/null 2>&1
	done
	umount "$MNT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

plan 24

# Backing files on ext4 over brd, as users would have them.
if [ ! -b /dev/ram0 ]; then
	modprobe brd rd_nr=1 rd_size=262144 || exit 1
fi
mkdir -p "$MNT"
if ! mountpoint -q "$MNT"; then
	mkfs.ext4 -q -F /dev/ram0 >/dev/null 2>&1 && mount /dev/ram0 "$MNT" || exit 1
fi
F1=$MNT/vol1.img
F2=$MNT/vol2.img
truncate -s 16M "$F1"
truncate -s 8M "$F2"
UUID2=0b7c2a2e-9f5e-4b6e-8a43-3c7d2f1e5a90

run "$CINDERCTL" device add --file "$F1"
ok "add prints the device path" test "$rc" = 0 -a -n "$out"
DEV1=$out
ok "the device node exists" test -b "$DEV1"
IDX1=${DEV1#/dev/cbd}

run "$CINDERCTL" device add --file "$F2" --volume-id "$UUID2" --block-size 4096
ok "add with volume id and block size" test "$rc" = 0
DEV2=$out
IDX2=${DEV2#/dev/cbd}
ok "block size 4096 is the device's" test "$(blockdev --getss "$DEV2" 2>/dev/null)" = 4096
ok "volume id in sysfs" test "$(cat /sys/block/cbd$IDX2/cinderblk/volume_id 2>/dev/null)" = "$UUID2"

run "$CINDERCTL" device list
ok "list shows both devices" eval 'grep -q "$DEV1" <<<"$out" && grep -q "$UUID2" <<<"$out"'

run "$CINDERCTL" device list --json
ok "list --json is an array of two" test "$(jq length <<<"$out" 2>/dev/null)" = 2

run "$CINDERCTL" --json device show "$DEV2"
ok "show --json (global) has the volume id and size" \
	test "$(jq -r '.volume_id + " " + (.size|tostring) + " " + .state' <<<"$out" 2>/dev/null)" = \
	"$UUID2 8388608 live"

run "$CINDERCTL" device show "cbd$IDX1"
ok "show accepts cbdN and prints the backing" eval 'grep -q "vol1.img" <<<"$out"'

dd if=/dev/urandom of="$T/data" bs=64k count=4 status=none
dd if="$T/data" of="$DEV1" bs=64k oflag=direct conv=fsync status=none
ok "data written through the device is in the file" \
	cmp -n 262144 "$T/data" "$F1"

run "$CINDERCTL" device resize "$IDX1" --size 32M
ok "resize --size 32M" test "$rc" = 0 -a "$(blockdev --getsize64 "$DEV1")" = 33554432

truncate -s 20M "$F1"
run "$CINDERCTL" device resize "$DEV1" --to-file
ok "resize --to-file follows the backing file" \
	test "$rc" = 0 -a "$(blockdev --getsize64 "$DEV1")" = 20971520

run "$CINDERCTL" device resize "$DEV1" --size 12x
ok "resize with a bad size is a usage error" test "$rc" = 2

run "$CINDERCTL" device suspend "$DEV1"
ok "suspend" test "$rc" = 0 -a "$(cat /sys/block/cbd$IDX1/cinderblk/state)" = suspended

run "$CINDERCTL" device show --json "$DEV1"
ok "show reports suspended" test "$(jq -r .state <<<"$out" 2>/dev/null)" = suspended

run "$CINDERCTL" device resume "$DEV1"
ok "resume" test "$rc" = 0 -a "$(cat /sys/block/cbd$IDX1/cinderblk/state)" = live

run "$CINDERCTL" device add --file "$F2" --read-only
ok "add --read-only" eval 'test "$rc" = 0 && test "$(blockdev --getro "$out")" = 1'
DEV3=$out

exec 3<"$DEV1"
run "$CINDERCTL" device remove "$DEV1"
ok "remove of an open device fails" eval 'test "$rc" = 1 && grep -qi busy <<<"$err"'
exec 3<&-

run "$CINDERCTL" device remove "$DEV1"
ok "remove" test "$rc" = 0 -a ! -e "/sys/block/cbd$IDX1"

run "$CINDERCTL" device remove --force "$DEV3"
ok "remove --force" test "$rc" = 0

run "$CINDERCTL" device remove 250
ok "remove of a missing device: exit 3" test "$rc" = 3

run "$CINDERCTL" device add
ok "add without --file: exit 2" eval 'test "$rc" = 2 && grep -q "^cinderctl: error:" <<<"$err"'

run "$CINDERCTL" device add --file "$MNT/missing.img"
ok "add of a missing file: exit 3" test "$rc" = 3

help_ok=0
for sub in add remove list show resize suspend resume reconfigure; do
	"$CINDERCTL" device "$sub" --help >/dev/null 2>&1 || help_ok=1
done
"$CINDERCTL" device --help >/dev/null 2>&1 || help_ok=1
ok "--help at every level" test "$help_ok" = 0

tap_done
