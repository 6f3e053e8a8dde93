#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# NBD exports of the target side, on loopback: a connection for another
# host starts an nbdkit that serves the volume (checked with libnbd's
# nbdinfo and nbdcopy and with qemu-img, independent clients), only to the
# connector's addresses and only under the volume's export name;
# read-only connections get read-only exports; a second read-write host
# is refused unless the volume type allows multiattach; an extend on the
# exporting host is served at once, one elsewhere refused; disconnect stops
# nbdkit; restore-exports restarts a dead one on its port and drops one
# whose volume is gone; bad target options and connectors are refused.
set -u
. "${CINDERLIB_TOP:-.}/tests/cli/tap.sh"

plan 29
mkstate
# Exports a failed test leaves behind go too.
trap 'for p in "$STATE"/exports/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$T"' EXIT

PORT=$((20000 + RANDOM % 20000))
cat >>"$CONF" <<CONF
host = target1
target_protocol = nbd
target_ip_address = 127.0.0.1
target_port = $PORT
target_port_range = 4
CONF
# host belongs to [DEFAULT]: move it there.
sed -i "/^host = target1$/d; s/^\[DEFAULT\]$/[DEFAULT]\nhost = target1/" "$CONF"

MiB=$((1024 * 1024))
export CINDERLIB_NBDKIT_FILTER=${CINDERLIB_NBDKIT_FILTER:-$BUILD/nbdkit/ipallow.so}

conn_json() {
	cctl --json connection show "$1"
}

# provider_data[KEY] of connection ID
provider() {
	out=$(conn_json "$1")
	json_get "j['provider_data']['$2']"
}

nbdkit_pid() {
	provider "$1" pid
}

# A process that ran and is not yet reaped (a zombie) has no command line.
alive() {
	tr -d '\0' <"/proc/$1/cmdline" 2>/dev/null | grep -q .
}

# peer_gets SRC_ADDR PORT: what the server sends first (the NBD greeting
# starts with NBDMAGIC), connecting from SRC_ADDR.
peer_gets() {
	python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(5)
s.bind((sys.argv[1], 0))
s.connect(("127.0.0.1", int(sys.argv[2])))
data = b""
try:
    while len(data) < 8:
        chunk = s.recv(8 - len(data))
        if not chunk:
            break
        data += chunk
except (ConnectionResetError, socket.timeout):
    pass
print(data.decode("ascii", "replace") or "EOF")
PY
}

V=$(cctl volume create 1)
FILE=$(volume_file "$V")

# --- export, connection_info -----------------------------------------
run cctl volume connect "$V" --connector host=node1 --connector ip=127.0.0.1
C1=$out
status_is 0 "connect for another host"
out=$(conn_json "$C1")
ok "connection_info is nbd with host, port, export_name, multi_conn, access_mode, size, uri" \
	test "$(json_get '(j["connection_info"]["driver_volume_type"], j["connection_info"]["data"]["host"], j["connection_info"]["data"]["port"], j["connection_info"]["data"]["export_name"], j["connection_info"]["data"]["multi_conn"], j["connection_info"]["data"]["access_mode"], j["connection_info"]["data"]["size"], j["connection_info"]["data"]["uri"])')" = \
	"('nbd', '127.0.0.1', '$PORT', '$V', True, 'rw', '1073741824', 'nbd://127.0.0.1:$PORT/$V')"
ok "provider data: nbdkit of target1 on the port" \
	test "$(json_get '(j["provider_data"]["export"], j["provider_data"]["target_host"], j["provider_data"]["port"], j["provider_data"]["allow"])')" = \
	"('nbdkit', 'target1', '$PORT', '127.0.0.1')"
P1=$(nbdkit_pid "$C1")
ok "its nbdkit runs" alive "$P1"

run nbdinfo --json "nbd://127.0.0.1:$PORT/$V"
ok "nbdinfo: size 1 GiB, writable, multi-conn" \
	test "$(json_get '(j["exports"][0]["export-size"], j["exports"][0]["is_read_only"], j["exports"][0]["can_multi_conn"])')" = \
	"(1073741824, False, True)"

head -c $((4 * MiB)) /dev/urandom >"$T/pattern"
ok "nbdcopy writes a pattern into the export" \
	nbdcopy "$T/pattern" "nbd://127.0.0.1:$PORT/$V"
ok "the volume file holds the pattern" \
	cmp -n $((4 * MiB)) "$T/pattern" "$FILE"
ok "qemu-img compares the export with the volume file: identical" \
	qemu-img compare -q -f raw -F raw "$FILE" "nbd://127.0.0.1:$PORT/$V"

run nbdinfo "nbd://127.0.0.1:$PORT/not-this-volume"
ok "another export name is refused" test "$rc" != 0
ok "the connector's address gets the greeting" \
	test "$(peer_gets 127.0.0.1 "$PORT")" = NBDMAGIC
ok "another address (127.0.0.2) is closed before the greeting" \
	test "$(peer_gets 127.0.0.2 "$PORT")" = EOF

# --- second host ---------------------------------------------------------
run cctl volume connect "$V" --connector host=node2 --connector ip=127.0.0.2
status_is 1 "a second read-write host is refused"
ok "the refusal names multiattach" grep -q multiattach <<<"$err"
run cctl volume connect "$V" --connector host=node2 --connector ip=127.0.0.1 --mode ro
C2=$out
status_is 0 "a second host read-only"
P2=$(nbdkit_pid "$C2")
PORT2=$(provider "$C2" port)
ok "it has its own nbdkit on the next port" \
	test "$P2" != "$P1" -a "$PORT2" = $((PORT + 1))
run nbdcopy "$T/pattern" "nbd://127.0.0.1:$PORT2/$V"
ok "the read-only export refuses writes" test "$rc" != 0

run cctl volume extend "$V" 2
ok "extend of an exported volume on its host: new NBD connections see 2 GiB" \
	eval '[ "$rc" = 0 ] && [ "$(nbdinfo --size "nbd://127.0.0.1:$PORT/$V")" = $((2 << 30)) ]'
out=$(conn_json "$C1")
ok "and the connection_info says so" \
	test "$(json_get 'j["connection_info"]["data"]["size"]')" = $((2 << 30))
sed 's/^host = target1$/host = node1/' "$CONF" >"$T/node1.conf"
run "$CINDERCTL" --config "$T/node1.conf" volume extend "$V" 3
ok "another host may not extend it: target1 holds its storage" \
	eval '[ "$rc" = 1 ] && grep -q "host target1 exports it over NBD" <<<"$err" && [ "$(cctl --json volume show "$V" | jq -r .size)" = 2 ]'
VM=$(cctl volume create 1 --extra-spec "multiattach=<is> True")
run cctl volume connect "$VM" --connector host=node1 --connector ip=127.0.0.1
CM1=$out
run cctl volume connect "$VM" --connector host=node2 --connector ip=127.0.0.1
CM2=$out
ok "a multiattach volume takes a second read-write host" \
	eval '[ "$rc" = 0 ] && [ "$(provider "$CM2" port)" != "$(provider "$CM1" port)" ]'
run cctl volume connect "$VM" --connector host=node3 --connector ip=127.0.0.1 --mode ro
ok "a fifth export finds the range of 4 ports full, and says so" \
	eval '[ "$rc" = 1 ] && grep -q "no free port on 127.0.0.1 from $PORT to $((PORT + 3)) (raise target_port_range)" <<<"$err"'
ok "and both end with disconnect" cctl connection disconnect "$CM1" "$CM2"

# --- restore, disconnect ---------------------------------------------
kill "$P1"
while alive "$P1"; do sleep 0.1; done
run cctl --json connection restore-exports
ok "restore-exports: the dead one restored, the live one running" \
	test "$(json_get 'sorted((r["connection_id"], r["state"], r["port"]) for r in j)')" = \
	"$(python3 -c "print(sorted([('$C1', 'restored', '$PORT'), ('$C2', 'running', '$PORT2')]))")"
ok "the restored export serves the same data" \
	eval 'nbdcopy "nbd://127.0.0.1:$PORT/$V" - | head -c $((4 * MiB)) | cmp - "$T/pattern"'

P1=$(nbdkit_pid "$C1")
run cctl connection disconnect "$C1"
ok "disconnect stops its nbdkit" eval '[ "$rc" = 0 ] && ! alive "$P1"'

# The volume vanishes behind the store's back: restore cleans up.
python3 - "$STATE/cinderlib.sqlite" "$V" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM volumes WHERE id = ?", (sys.argv[2],))
db.commit()
PY
run cctl --json connection restore-exports
ok "restore-exports drops the export of a volume that is gone" \
	eval '[ "$(json_get "[(r[\"connection_id\"], r[\"state\"]) for r in j]")" = "[('"'"'$C2'"'"', '"'"'removed'"'"')]" ] && ! alive "$P2"'

# --- refusals --------------------------------------------------------
V2=$(cctl volume create 1)
run cctl volume connect "$V2" --connector host=node3
ok "a connector without an address is refused, saying why" \
	eval '[ "$rc" = 1 ] && grep -q "has no .ip." <<<"$err"'
run cctl volume connect "$V2" --connector host=node3 --connector ip=not-an-ip
ok "a connector with a bad address is refused" \
	eval '[ "$rc" = 1 ] && grep -q "not an IPv4 or IPv6 address" <<<"$err"'
sed -i 's/^target_protocol = nbd$/target_protocol = iscsi/' "$CONF"
run cctl volume create 1
ok "target_protocol iscsi is refused at backend open" \
	eval '[ "$rc" != 0 ] && grep -q "only nbd" <<<"$err"'

tap_done
