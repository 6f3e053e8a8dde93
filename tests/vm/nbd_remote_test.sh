#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Remote attach over NBD between two network namespaces: nbdkit exports
# in "tgt", cinderctl attaches from "ini" (device add --nbd, the nbd
# connector's code). Data against the export file, four connections,
# interop both ways (the kernel's nbd-client reads what we read; we attach
# qemu-nbd's and nbdkit memory's exports), fio --verify while the server is
# killed and restarted 20 times and while the veth link goes down and up
# (cinderctl daemon reconnects: no I/O error, no mismatch), and the dead
# timeout (EIO, then a clean remove). Root in the test VM; prints TAP.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$(cd "$here/../.." && pwd)}"
. "$top/tests/cli/tap.sh"
. "$top/tests/vm/netns_lib.sh"

out= err= rc=0
T=$(mktemp -d /tmp/cbd-nbd.XXXXXX)
EXP=$T/export.img
REFS=/sys/module/cinderblk/parameters/live_backing_refs
DAEMON=

cleanup() {
	[ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null
	for d in $("$CINDERCTL" device list --json 2>/dev/null | jq -r '.[].index' 2>/dev/null); do
		"$CINDERCTL" device remove --force "$d" >/dev/null 2>&1
	done
	nbd-client -d /dev/nbd0 >/dev/null 2>&1
	for p in "$T"/*.pid; do
		[ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null
	done
	netns_teardown
	rm -rf "$T"
}
trap cleanup EXIT

plan 28

# nbdkit's file plugin on $EXP in tgt, port $1 (default 10809).
start_export() {
	local port=${1:-10809}

	rm -f "$T/nbdkit-$port.pid"
	in_tgt nbdkit -P "$T/nbdkit-$port.pid" -i "$TGT_IP" -p "$port" \
		file "$EXP" &&
	wait_listen tgt "$port"
}

stop_export() {
	local port=${1:-10809} pid

	pid=$(cat "$T/nbdkit-$port.pid" 2>/dev/null) || return 0
	kill -9 "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$T/nbdkit-$port.pid"
}

dev_field() {
	"$CINDERCTL" device show --json "$1" | jq -r ".$2"
}

ok "two namespaces joined by veth" netns_setup
ok "the initiator's route to the target is the veth" eval 'ip route get "$TGT_IP" | grep -q "dev cbd-veth-i"'

dd if=/dev/urandom of="$EXP" bs=1M count=64 status=none
ok "nbdkit exports the volume file in tgt" start_export

URI=nbd://$TGT_IP:10809/vol
run in_ini "$CINDERCTL" device add --nbd "$URI" --connections 4 --json
ok "device add --nbd attaches the export from ini" test "$rc" = 0
IDX=$(jq -r .index <<<"$out")
DEV=/dev/cbd$IDX
ok "four connections, all live" test "$(dev_field "$IDX" connections)/$(dev_field "$IDX" live_connections)" = 4/4
ok "the device is the export's size" test "$(blockdev --getsize64 "$DEV")" = $((64 << 20))
ok "sysfs names the export" grep -q "^$URI 4/4 connections" "/sys/block/cbd$IDX/cinderblk/backing"
ok "the device reads what the export holds" cmp "$DEV" "$EXP"
dd if=/dev/urandom of="$T/pattern" bs=1M count=4 status=none
dd if="$T/pattern" of="$DEV" bs=1M seek=8 oflag=direct conv=fsync status=none
ok "writes land in the export file" cmp -n $((4 << 20)) "$T/pattern" <(dd if="$EXP" bs=1M skip=8 count=4 status=none)

# Interop: the kernel's own client reads the same export the same way.
modprobe nbd nbds_max=2 2>/dev/null
if in_ini nbd-client -N vol "$TGT_IP" 10809 /dev/nbd0 >/dev/null 2>&1; then
	ok "nbd-client (netlink) reads what cbd reads" cmp -n $((16 << 20)) /dev/nbd0 "$DEV"
	nbd-client -d /dev/nbd0 >/dev/null 2>&1
else
	tap_result 1 "nbd-client (netlink) attaches our export"
fi

# Interop: our connector on exports of other servers.
cp "$EXP" "$T/qemu.img"
in_tgt qemu-nbd -f raw -x qvol -b "$TGT_IP" -p 10810 --fork --persistent \
	--pid-file="$T/qemu-nbd.pid" "$T/qemu.img"
wait_listen tgt 10810
run in_ini "$CINDERCTL" device add --nbd "nbd://$TGT_IP:10810/qvol" --json
ok "attaches a qemu-nbd export" test "$rc" = 0
QIDX=$(jq -r .index <<<"$out")
ok "reads what qemu-nbd serves" cmp "/dev/cbd$QIDX" "$T/qemu.img"
"$CINDERCTL" device remove "$QIDX" >/dev/null
kill "$(cat "$T/qemu-nbd.pid")" 2>/dev/null

in_tgt nbdkit -P "$T/memory.pid" -i "$TGT_IP" -p 10811 memory 16M
wait_listen tgt 10811
run in_ini "$CINDERCTL" device add --nbd "nbd://$TGT_IP:10811/" --json
ok "attaches an nbdkit memory export" test "$rc" = 0
MIDX=$(jq -r .index <<<"$out")
dd if="$T/pattern" of="/dev/cbd$MIDX" bs=1M oflag=direct status=none
ok "data round trip through the memory export" cmp -n $((4 << 20)) "$T/pattern" "/dev/cbd$MIDX"
"$CINDERCTL" device remove "$MIDX" >/dev/null
kill "$(cat "$T/memory.pid")" 2>/dev/null

# The daemon keeps the device connected from now on.
in_ini "$CINDERCTL" daemon --interval 1 >"$T/daemon.log" 2>&1 &
DAEMON=$!

fio_verify() {
	in_ini fio --name=verify --filename="$DEV" --ioengine=libaio \
		--direct=1 --rw=randwrite --bs=4k --iodepth=16 --size=32M \
		--verify=crc32c --verify_backlog=256 --verify_fatal=1 \
		--time_based --runtime="$1" --output="$T/fio.out" >/dev/null 2>&1
}

downs0=$(dev_field "$IDX" stats.link_downs)
fio_verify 45 &
FIO=$!
sleep 2
# Each restart once the daemon has all four back: a slow guest must not
# turn a restart into one that finds fewer connections to drop.
all_live() {
	local i

	for i in $(seq 150); do
		[ "$(dev_field "$IDX" live_connections)" = 4 ] && return 0
		sleep 0.1
	done
	return 1
}
for i in $(seq 20); do
	stop_export
	sleep 0.3
	start_export || break
	all_live || break
	# I/O on the new connections before the next restart.
	sleep 0.5
done
wait "$FIO"
ok "fio --verify through 20 server restarts: no error, no mismatch" test $? = 0
ok "fio counted no I/O error" grep -q "err= 0" "$T/fio.out"
downs=$(dev_field "$IDX" stats.link_downs)
ok "every restart dropped the connections ($((downs - downs0)) lost)" test $((downs - downs0)) -ge 80
ok "the daemon made them again (4/4 live)" test "$(dev_field "$IDX" live_connections)" = 4
ok "the device saw no error" test "$(dev_field "$IDX" stats.errors)" = 0
ok "the device reads what the export holds after the restarts" cmp "$DEV" "$EXP"

fio_verify 30 &
FIO=$!
sleep 2
for i in $(seq 5); do
	in_ini ip link set cbd-veth-i down
	sleep 2
	in_ini ip link set cbd-veth-i up
	sleep 2
done
wait "$FIO"
ok "fio --verify while the link goes down and up 5 times: no error" test $? = 0
ok "the device saw no error across the link flaps" test "$(dev_field "$IDX" stats.errors)" = 0

# With nobody to reconnect, I/O waits for the dead timeout, then fails.
kill "$DAEMON"
wait "$DAEMON" 2>/dev/null
DAEMON=
"$CINDERCTL" device remove "$IDX" >/dev/null
ok "a device leaves no socket behind" test "$(cat "$REFS")" = 0
run in_ini "$CINDERCTL" device add --nbd "$URI" --dead-timeout 3 --json
IDX=$(jq -r .index <<<"$out")
DEV=/dev/cbd$IDX
stop_export
start=$(date +%s)
dd if="$DEV" of=/dev/null bs=4k count=1 skip=100 iflag=direct status=none 2>"$T/dd.err"
ddrc=$?
took=$(($(date +%s) - start))
ok "past the dead timeout a read fails with EIO (after ${took}s)" eval '[ $ddrc != 0 ] && grep -q "Input/output error" "$T/dd.err"'
ok "... and not long after it" test "$took" -lt 30
ok "the device is link-down" test "$(dev_field "$IDX" state)" = link-down
run "$CINDERCTL" device remove "$IDX"
ok "then the device can be removed (no force)" test "$rc" = 0
ok "and no socket is left" test "$(cat "$REFS")" = 0
