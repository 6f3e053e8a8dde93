#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Several hosts on one PostgreSQL store and one backend, all at once: two
# hosts (lock files of their own, so only the store's locks can keep them
# apart) run four processes each; each process creates 50 volumes,
# snapshots and extends every one, records it in the metadata of one
# shared volume, deletes the snapshot and every other volume, and
# snapshots the shared volume now and then. Meanwhile one process per
# host creates, extends and deletes volumes and is killed (kill -9) again
# and again in the middle of its operations. Then: every object is where
# it should be (no lost update, nothing left over), nothing deadlocked,
# and what the killed processes held is free: their volumes can all be
# deleted and no lock is left in the server.
set -u
. "${CINDERLIB_TOP:-.}/tests/cli/tap.sh"
. "${CINDERLIB_TOP:-.}/tests/postgresql/server.sh"

if [ ! -x "$PG_BIN/initdb" ] || ! command -v psql >/dev/null; then
	echo "1..0 # SKIP postgresql not installed (scripts/install-deps.sh)"
	exit 0
fi

VOLUMES=${PG_CONCURRENCY_VOLUMES:-50}
PROCS=4
KILLS=10

plan 10
mkstate
PGD=$T/pg
trap 'pkill -9 -f "$T/" 2>/dev/null; pg_stop "$PGD"; rm -rf "$T"' EXIT
chmod 0755 "$T"
if ! pg_start "$PGD" 2>"$T/pg.err"; then
	echo "not ok 1 - pg_start"
	sed 's/^/# /' "$T/pg.err"
	exit 1
fi
. "${CINDERLIB_TOP:-.}/tests/postgresql/config_lib.sh"
pg_config "$T/a.conf" hosta
pg_config "$T/b.conf" hostb
# The victims' own configs (same hosts), so that kill -9 finds only them.
pg_config "$T/victim-a.conf" hosta
pg_config "$T/victim-b.conf" hostb
cc() { "$CINDERCTL" --config "$T/$1.conf" "${@:2}"; }

SHARED=$(cc a volume create 1 --name shared)

# worker HOST TAG: the 50 volumes of one process; failures into $T/TAG.fail.
worker() {
	local host=$1 tag=$2 i v s

	for i in $(seq "$VOLUMES"); do
		if ! v=$(cc "$host" volume create 1 --name "$tag-$i" 2>>"$T/$tag.fail"); then
			continue
		fi
		s=$(cc "$host" snapshot create "$v" 2>>"$T/$tag.fail") &&
		cc "$host" volume extend "$v" 2 2>>"$T/$tag.fail" &&
		cc "$host" volume set-metadata "$SHARED" "$tag-$i=$v" 2>>"$T/$tag.fail" &&
		cc "$host" snapshot delete "$s" 2>>"$T/$tag.fail" || continue
		if [ $((i % 2)) = 1 ]; then
			cc "$host" volume delete "$v" 2>>"$T/$tag.fail"
		fi
		if [ $((i % 10)) = 0 ]; then
			cc "$host" snapshot create "$SHARED" --name "$tag-$i" \
				>/dev/null 2>>"$T/$tag.fail"
		fi
	done
	echo done >"$T/$tag.end"
}

# victim HOST: create, extend, delete until told to stop; killed meanwhile.
victim() {
	local conf=victim-$1 n=0 v

	while [ ! -e "$T/stop" ]; do
		n=$((n + 1))
		v=$(cc "$conf" volume create 1 --name "victim-$1-$n" 2>/dev/null) &&
		cc "$conf" volume extend "$v" 2 2>/dev/null &&
		cc "$conf" volume delete "$v" 2>/dev/null
	done
}

t0=$SECONDS
pids=()
for h in a b; do
	for p in $(seq "$PROCS"); do
		worker "$h" "w$h$p" &
		pids+=($!)
	done
	victim "$h" &
	victims+=($!)
done

# Kill the victims' cinderctl in the middle of what it does, at random.
hits=0
for _ in $(seq $((KILLS * 6))); do
	[ "$hits" -ge "$KILLS" ] && break
	sleep "0.$((RANDOM % 4 + 1))"
	v_host=$([ $((RANDOM % 2)) = 0 ] && echo a || echo b)
	pkill -9 -f -- "--config $T/victim-$v_host.conf" &&
		hits=$((hits + 1))
done

deadline=$((SECONDS + 900))
for pid in "${pids[@]}"; do
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 1
	done
done
touch "$T/stop"
for pid in "${victims[@]}"; do
	wait "$pid" 2>/dev/null
done
elapsed=$((SECONDS - t0))
ended=$(ls "$T"/w*.end 2>/dev/null | wc -l)
ok "all $((2 * PROCS)) processes of both hosts finished (no deadlock) in ${elapsed}s" \
	test "$ended" = $((2 * PROCS))
failures=$(cat "$T"/w*.fail 2>/dev/null)
ok "not one of their operations failed" test -z "$failures"
[ -z "$failures" ] || sed 's/^/# /' <<<"$failures" | head -n 20

run cc a --json volume list
expected=$(for h in a b; do for p in $(seq "$PROCS"); do
	for i in $(seq 2 2 "$VOLUMES"); do echo "w$h$p-$i"; done; done; done | sort)
ok "every kept volume is there, and only those (besides the shared one)" \
	test "$(jq -r '.[] | select(.name | startswith("w")) | .name' <<<"$out" | sort)" = "$expected"
ok "each at 2 GiB and available" \
	test "$(jq -r '[.[] | select(.name | startswith("w")) | "\(.size) \(.status)"] | unique | join(",")' <<<"$out")" = "2 available"

run cc b --json volume show "$SHARED"
ok "the shared volume's metadata has every process's $((2 * PROCS * VOLUMES)) entries (no lost update)" \
	test "$(jq -r '.metadata | length' <<<"$out")" = $((2 * PROCS * VOLUMES))
run cc b --json snapshot list
ok "snapshots: the shared volume's $((2 * PROCS * VOLUMES / 10)), all available; no other left" \
	test "$(jq -r "[.[] | select(.volume_id == \"$SHARED\" and .status == \"available\")] | length" <<<"$out")/$(jq -r 'length' <<<"$out")" = \
	"$((2 * PROCS * VOLUMES / 10))/$((2 * PROCS * VOLUMES / 10))"

ok "the victims were killed in the middle $hits times" test "$hits" -ge "$KILLS"
left=$(cc a --json volume list | jq -r '.[] | select(.name | startswith("victim-")) | .id')
echo "# left by the victims: $(cc a --json volume list | jq -r '[.[] | select(.name | startswith("victim-")) | .status] | group_by(.) | map("\(length) \(.[0])") | join(", ")')"
stuck=0
for v in $left; do
	timeout 30 "$CINDERCTL" --config "$T/a.conf" volume delete "$v" >/dev/null 2>>"$T/victims.err" ||
		stuck=$((stuck + 1))
done
ok "each of the $(wc -w <<<"$left") volumes they left (whatever its state) can be deleted" \
	eval '[ "$stuck" = 0 ] && [ -z "$(cc a --json volume list | jq -r ".[] | select(.name | startswith(\"victim-\")) | .id")" ]'
[ "$stuck" = 0 ] || sed 's/^/# /' "$T/victims.err" | head -n 10
ok "no lock is left in the server" \
	test "$(pg_sql "$PGD" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" = 0
run cc a --json volume list
ok "the backend holds a file for each volume in the store, no more" \
	test "$(find "$T/volumes" -maxdepth 1 -type f -name 'volume-*' | wc -l)" = "$(jq -r 'length' <<<"$out")"
