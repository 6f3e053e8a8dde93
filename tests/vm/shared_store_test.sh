#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cinderlib's two multi-host flows, end to end. With a shared store: a
# controller (namespace tgt) and a node (the initial namespace) use one
# PostgreSQL server, which runs beside the controller and listens on its
# address; the node publishes its connector, the controller creates a
# volume and connects it for the node by host name, the node finds that
# connection in the store and attaches it over NBD (volume attach), writes;
# the data is in the controller's volume; the node detaches (the export
# stays the controller's), the controller disconnects and deletes. Without
# one: the controller's 'connection show --json' copied to a node whose
# store is its memory, attached with 'connection attach --connection-info'
# (the whole Connection, then the bare connection_info), written, detached.
# Root in the test VM; prints TAP.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$(cd "$here/../.." && pwd)}"
. "$top/tests/cli/tap.sh"
. "$top/tests/vm/netns_lib.sh"
. "$top/tests/postgresql/server.sh"

out= err= rc=0
T=$(mktemp -d /tmp/cbd-shared.XXXXXX)
PGD=$T/pg
REFS=/sys/module/cinderblk/parameters/live_backing_refs
PORT=10940
export CINDERLIB_NBDKIT_FILTER=${CINDERLIB_NBDKIT_FILTER:-$BUILD/nbdkit/ipallow.so}

cleanup() {
	for d in $("$CINDERCTL" device list --json 2>/dev/null | jq -r '.[].index' 2>/dev/null); do
		"$CINDERCTL" device remove --force "$d" >/dev/null 2>&1
	done
	pkill -9 -f "$T/.*/exports/.*\.pid" 2>/dev/null
	pg_stop "$PGD" >/dev/null 2>&1
	netns_teardown
	rm -rf "$T"
}
trap cleanup EXIT

# conf FILE HOST [BACKENDS]: the shared PostgreSQL store over TCP, with a
# password from a file; the file backend only where BACKENDS says so.
conf() {
	cat >"$1" <<CONF
[DEFAULT]
host = $2
state_dir = $T/$2
persistence = postgresql
connection = host=$TGT_IP port=$PG_PORT dbname=cinderlib user=cinderpw
persistence_password_file = $T/pw
enabled_backends = ${3-}

[files]
volume_driver = file
file_volume_dir = $T/volumes
file_volume_dir_create = true
target_protocol = nbd
target_ip_address = $TGT_IP
target_port = $PORT
target_port_range = 4
CONF
}

ctl() { in_tgt "$CINDERCTL" --config "$T/controller.conf" "$@"; }
node() { "$CINDERCTL" --config "$T/node1.conf" "$@"; }
alive() { [ -n "$1" ] && tr -d '\0' <"/proc/$1/cmdline" 2>/dev/null | grep -q .; }
volume_file() {
	local f

	f=$(ctl --json volume show "$1" | jq -r .provider_location)
	[ -f "$f" ] || f=$(find "$T/volumes" -name "*$1*" | head -n 1)
	echo "$f"
}

plan 27

ok "two hosts in two namespaces" netns_setup
mkdir -p "$PGD"
chmod 0755 "$T"		# the server runs as postgres
ok "PostgreSQL runs beside the controller, on its address" \
	in_tgt env PG_LISTEN="$TGT_IP" bash -c '. "$1" && pg_start "$2"' _ \
	"$top/tests/postgresql/server.sh" "$PGD"
PG_PORT=$(cat "$PGD/port")
pg_sql "$PGD" "CREATE ROLE cinderpw LOGIN PASSWORD 'pw-$$'; GRANT ALL ON DATABASE cinderlib TO cinderpw" >/dev/null
printf 'pw-%s\n' "$$" >"$T/pw"
chmod 600 "$T/pw"
conf "$T/controller.conf" controller files
conf "$T/node1.conf" node1
head -c $((8 << 20)) /dev/urandom >"$T/pattern"

# --- with a shared store ---------------------------------------------------
run node --json connector publish
ok "node1 publishes its connector (over the veth, into the controller's server)" \
	eval '[ "$rc" = 0 ] && [ "$(jq -r .host <<<"$out")" = node1 ] && grep -qw "$INI_IP" <<<"$(jq -r .ips <<<"$out")"'
run ctl --json connector show node1
ok "the controller reads node1's connector from the store" \
	eval '[ "$rc" = 0 ] && [ "$(jq -r .host <<<"$out")" = node1 ]'
run ctl volume connect "$(ctl volume create 1)" --host node9
ok "a host that published nothing: not found, and what to do" \
	eval '[ "$rc" != 0 ] && grep -q "host node9 has published no connector" <<<"$err" && grep -q "connector publish" <<<"$err"'

run ctl volume create 1 --name shared
V=$out
run ctl volume connect "$V" --host node1
C=$out
ok "the controller connects the volume for node1 by its name" test "$rc" = 0
PID=$(ctl --json connection show "$C" | jq -r .provider_data.pid)
ok "the export runs on the controller, open to node1's address" \
	eval 'alive "$PID" && [ "$(ctl --json connection show "$C" | jq -r .connector.ip)" != null ]'
run node --json connection list --volume "$V"
ok "node1 sees the connection made for it" \
	eval '[ "$(jq -r ".[] | select(.id == \"$C\") | .attached_host" <<<"$out")" = node1 ]'

run node volume attach "$V"
DEV=$out
ok "volume attach on node1 attaches over NBD" eval '[ "$rc" = 0 ] && [ -b "$DEV" ]'
ok "with the controller's connection: no second one was made" \
	eval '[ "$(node --json connection list --volume "$V" | jq -r "length")" = 1 ] &&
	      [ "$(node --json connection show "$C" | jq -r .device_path)" = "$DEV" ]'
ok "the device is the volume's size" test "$(blockdev --getsize64 "$DEV")" = $((1 << 30))
dd if="$T/pattern" of="$DEV" bs=1M seek=8 oflag=direct status=none
VFILE=$(volume_file "$V")
ok "node1's writes are in the controller's volume" \
	cmp -n $((8 << 20)) "$T/pattern" <(dd if="$VFILE" bs=1M skip=8 count=8 status=none)

run node volume detach "$V"
ok "node1 detaches: the device goes, the export stays the controller's" \
	eval '[ "$rc" = 0 ] && [ ! -b "$DEV" ] && alive "$PID" &&
	      [ "$(ctl --json connection show "$C" | jq -r .device_path)" = null ]'
run ctl volume disconnect "$V"
ok "the controller disconnects: nbdkit stops, the volume is available" \
	eval '[ "$rc" = 0 ] && ! alive "$PID" && [ "$(ctl --json volume show "$V" | jq -r .status)" = available ]'
run ctl volume delete "$V"
ok "and deletes it" eval '[ "$rc" = 0 ] && [ ! -e "$VFILE" ]'
run node connector unpublish
ok "node1 withdraws its connector" \
	eval '[ "$rc" = 0 ] && ! ctl connector show node1 >/dev/null 2>&1'

# --- without one: connection_info copied as JSON ---------------------------
cat >"$T/node2.conf" <<CONF
[DEFAULT]
host = node2
state_dir = $T/node2
persistence = memory
CONF
node2() { "$CINDERCTL" --config "$T/node2.conf" "$@"; }
run ctl volume create 1
V2=$out
run ctl volume connect "$V2" --connector host=node2 --connector ip="$INI_IP"
C2=$out
ctl --json connection show "$C2" >"$T/c2.json"
ok "the controller connects a volume for node2 and prints the connection" \
	eval '[ "$rc" = 0 ] && [ "$(jq -r .connection_info.driver_volume_type "$T/c2.json")" = nbd ]'
run node2 connection attach --connection-info "$T/c2.json"
DEV2=$out
ok "node2, with no shared store, attaches the copied connection" \
	eval '[ "$rc" = 0 ] && [ -b "$DEV2" ] && [ "$(blockdev --getsize64 "$DEV2")" = $((1 << 30)) ]'
dd if="$T/pattern" of="$DEV2" bs=1M seek=100 oflag=direct status=none
V2FILE=$(volume_file "$V2")
ok "its writes are in the controller's volume" \
	cmp -n $((8 << 20)) "$T/pattern" <(dd if="$V2FILE" bs=1M skip=100 count=8 status=none)
run node2 connection attach --connection-info "$T/c2.json"
ok "a second attach of it is refused (already attached)" \
	eval '[ "$rc" != 0 ] && grep -q "already attached at $DEV2" <<<"$err"'
run node2 connection detach --connection-info "$T/c2.json"
ok "and detached with the same file" eval '[ "$rc" = 0 ] && [ ! -b "$DEV2" ]'

jq .connection_info "$T/c2.json" >"$T/bare.json"
run node2 --json connection attach --connection-info - <"$T/bare.json"
DEV2=$(jq -r .device_path <<<"$out" 2>/dev/null)
ok "the bare connection_info on stdin works too (the export names the volume)" \
	eval '[ "$rc" = 0 ] && [ "$(jq -r .volume_id <<<"$out")" = "$V2" ] &&
	      cmp -n $((8 << 20)) "$T/pattern" <(dd if="$DEV2" bs=1M skip=100 count=8 iflag=direct status=none)'
run node2 connection detach --connection-info "$T/bare.json"
ok "detached" eval '[ "$rc" = 0 ] && [ ! -b "$DEV2" ]'

echo '{"driver_volume_type": "iscsi", "data": {"target_portal": "10.0.0.1:3260"}}' >"$T/iscsi.json"
run node2 connection attach --connection-info "$T/iscsi.json" --volume-id "$V2"
ok "a connection type with no connector here: a clear error, exit 1" \
	eval '[ "$rc" = 1 ] && grep -q "no local connector for connection type .iscsi." <<<"$err"'
echo '{"data": {}}' >"$T/junk.json"
run node2 connection attach --connection-info "$T/junk.json"
ok "a file that is no connection: said so" \
	eval '[ "$rc" = 1 ] && grep -q "missing field .driver_volume_type." <<<"$err"'

run ctl connection disconnect "$C2"
ok "the controller ends the export and deletes the volume" \
	eval '[ "$rc" = 0 ] && ctl volume delete "$V2" >/dev/null'
ok "no cbd backing is left in the kernel" test "$(cat "$REFS")" = 0
