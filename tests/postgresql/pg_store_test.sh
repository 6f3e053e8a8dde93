#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# cinderctl on the postgresql store, against a throwaway server
# (tests/postgresql/server.sh, started once for the program): the object
# operations, two hosts with state of their own sharing one store, the
# volume locks held in the store (another host's lock waited for, and let
# go when that host dies),
# password from a file (never in the connection string), the schema of
# someone else and a newer schema refused untouched, unknown options, and
# a server that is down (a clear error, within the connect timeout). The
# library's own suites run on this store too (library_test, store_test).
set -u
. "${CINDERLIB_TOP:-.}/tests/cli/tap.sh"
. "${CINDERLIB_TOP:-.}/tests/postgresql/server.sh"

if [ ! -x "$PG_BIN/initdb" ] || ! command -v psql >/dev/null; then
	echo "1..0 # SKIP postgresql not installed (scripts/install-deps.sh)"
	exit 0
fi

plan 17
mkstate
PGD=$T/pg
trap 'pg_stop "$PGD"; rm -rf "$T"' EXIT
chmod 0755 "$T"
if ! pg_start "$PGD" 2>"$T/pg.err"; then
	echo "not ok 1 - pg_start"
	sed 's/^/# /' "$T/pg.err"
	exit 1
fi
echo "# server up in ${PG_START_SECONDS}s on port $PG_PORT"

. "${CINDERLIB_TOP:-.}/tests/postgresql/config_lib.sh"
pg_config "$T/a.conf" hosta
pg_config "$T/b.conf" hostb
a() { "$CINDERCTL" --config "$T/a.conf" "$@"; }
b() { "$CINDERCTL" --config "$T/b.conf" "$@"; }

run a volume create 1 --name one
V1=$out
run a snapshot create one --name s1
S1=$out
run a volume clone one --name two
V2=$out
run a volume extend two 2
a keyvalue set conf/x 42
run a --json volume list
ok "create, snapshot, clone, extend: recorded in PostgreSQL" \
	test "$(json_get 'sorted((v["name"], v["size"], v["status"]) for v in j)')" = \
	"[('one', 1, 'available'), ('two', 2, 'available')]"
ok "the rows are in the server, in schema cinderlib" \
	test "$(pg_sql "$PGD" "SELECT (SELECT count(*) FROM cinderlib.volumes), (SELECT count(*) FROM cinderlib.snapshots), (SELECT version FROM cinderlib.cinderlib_store)")" = "2|1|2"

run b --json volume show "$V1"
ok "another host sees the same volumes" \
	test "$(json_get '(j["name"], j["status"])')" = "('one', 'available')"
run b volume delete two
run a --json volume list
ok "a delete on one host is seen by the other" \
	test "$(json_get '[v["id"] for v in j]')" = "['$V1']"
run b keyvalue list --json
ok "key/values are shared" test "$(json_get 'j.get("conf/x")')" = 42

# --- locks in the store --------------------------------------------------
# The advisory lock key of the plugin: FNV-1a 64 of schema, what, id.
lock_key() {
	python3 - "$@" <<'PY'
import sys
h = 0xcbf29ce484222325
for part in sys.argv[1:]:
    for b in part.encode():
        h = ((h ^ b) * 0x100000001b3) % (1 << 64)
    h = ((h ^ 0xff) * 0x100000001b3) % (1 << 64)
print(h - (1 << 64) if h >= 1 << 63 else h)
PY
}
key=$(lock_key cinderlib volume "$V1")
# Another host holds the volume's lock (a psql session), then dies.
psql -X -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U cinderlib -d cinderlib \
	-c "SELECT pg_advisory_lock($key)" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 50); do
	[ "$(pg_sql "$PGD" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] && break
	sleep 0.1
done
b volume extend one 3 >"$T/extend.out" 2>&1 &
extender=$!
sleep 2
waiting=$(pg_sql "$PGD" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
run a --json volume show one
ok "a volume locked by another host: the extend waits for the lock, the volume unchanged" \
	eval 'kill -0 "$extender" 2>/dev/null && test "$waiting" = 1 && test "$(json_get "j[\"size\"]")" = 1'
kill -9 "$holder"
wait "$holder" 2>/dev/null
t0=$SECONDS
wait "$extender"
rc=$?
run a --json volume show one
ok "the holder killed: its session lets the lock go, the extend goes on ($((SECONDS - t0))s)" \
	eval 'test "$rc" = 0 && test "$(json_get "(j[\"size\"], j[\"status\"])")" = "(3, '"'available'"')" &&
	      test "$(pg_sql "$PGD" "SELECT count(*) FROM pg_locks WHERE locktype = '"'advisory'"'")" = 0'

# --- passwords ---------------------------------------------------------
pg_sql "$PGD" "CREATE ROLE cinderpw LOGIN PASSWORD 'pw-$$'; GRANT ALL ON DATABASE cinderlib TO cinderpw" >/dev/null
echo "pw-$$" >"$T/pw"
chmod 600 "$T/pw"
pg_config "$T/pw.conf" hostpw \
	"persistence_password_file = $T/pw" "persistence_schema = pwstore"
sed -i "s|^connection = .*|connection = postgresql://cinderpw@127.0.0.1:$PG_PORT/cinderlib|" "$T/pw.conf"
run "$CINDERCTL" --config "$T/pw.conf" volume create 1 --name p1
ok "a password from persistence_password_file (TCP, scram)" \
	eval 'test "$rc" = 0 && test "$(pg_sql "$PGD" "SELECT name FROM pwstore.volumes")" = p1'
chmod 644 "$T/pw"
run "$CINDERCTL" --config "$T/pw.conf" volume list
ok "a password file others can read is refused" \
	eval 'test "$rc" != 0 && grep -q "can be read by others" <<<"$err"'
chmod 600 "$T/pw"
echo wrong >"$T/pw"
run "$CINDERCTL" --config "$T/pw.conf" volume list
ok "a wrong password: the server's reason" \
	eval 'test "$rc" != 0 && grep -q "password authentication failed" <<<"$err"'
sed -i "s|^connection = .*|connection = postgresql://cinderpw:pw-$$@127.0.0.1:$PG_PORT/cinderlib|" "$T/pw.conf"
run "$CINDERCTL" --config "$T/pw.conf" volume list
ok "a password in the connection string is refused, and where to put it is said" \
	eval 'test "$rc" != 0 && grep -q "carries a password" <<<"$err" && grep -q persistence_password_file <<<"$err" &&
	      ! grep -q "pw-$$" <<<"$err"'

# --- schemas that are not ours, options ---------------------------------
pg_sql "$PGD" "CREATE SCHEMA app; CREATE TABLE app.orders (id int); INSERT INTO app.orders VALUES (7)" >/dev/null
pg_config "$T/app.conf" hostapp "persistence_schema = app"
run "$CINDERCTL" --config "$T/app.conf" volume list
tables=$(pg_sql "$PGD" "SELECT tablename FROM pg_tables WHERE schemaname = 'app'")
ok "a schema with other tables is refused and left untouched" \
	eval 'test "$rc" != 0 && grep -q "not a cinderlib store" <<<"$err" && test "$tables" = orders &&
	      test "$(pg_sql "$PGD" "SELECT id FROM app.orders")" = 7'
pg_sql "$PGD" "UPDATE cinderlib.cinderlib_store SET version = 99" >/dev/null
run a volume list
ok "a store of a newer cinderlib is refused" \
	eval 'test "$rc" != 0 && grep -q "schema version 99, newer" <<<"$err"'
pg_sql "$PGD" "UPDATE cinderlib.cinderlib_store SET version = 2" >/dev/null
pg_config "$T/bad.conf" hostbad "persistence_sheme = x"
run "$CINDERCTL" --config "$T/bad.conf" volume list
ok "an unknown persistence option is refused by name" \
	eval 'test "$rc" != 0 && grep -q "unknown option persistence_sheme" <<<"$err"'

# --- the server down ------------------------------------------------------
pg_halt "$PGD"
t0=$SECONDS
run a volume create 1 --name lost
ok "server down: a clear error within the connect timeout ($((SECONDS - t0))s)" \
	eval 'test "$rc" != 0 && grep -q "cannot connect" <<<"$err" && test $((SECONDS - t0)) -le 12'
pg_resume "$PGD"
run a --json volume list
ok "server back: the state is as it was, nothing half-made" \
	eval 'test "$rc" = 0 && test "$(json_get "[v[\"name\"] for v in j]")" = "['"'one'"']"'
# A server that takes the connection and never answers (stopped).
pg_config "$T/slow.conf" hosta "persistence_connect_timeout = 2"
pm=$(head -n 1 "$PG_DATA/postmaster.pid")
kill -STOP "$pm"
t0=$SECONDS
run "$CINDERCTL" --config "$T/slow.conf" volume list
took=$((SECONDS - t0))
kill -CONT "$pm"
ok "a server that does not answer: an error after persistence_connect_timeout (${took}s)" \
	eval 'test "$rc" != 0 && grep -q "cannot connect" <<<"$err" && test "$took" -ge 1 && test "$took" -le 6'
