#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Several cinderctl processes on one store and one backend at once: 8
# processes create 50 volumes each; every volume must be recorded once and
# have its file, and deleting them all in parallel must leave nothing.
# Then 8 processes start at once on a store that does not exist yet.
set -u
. "${CINDERLIB_TOP:-.}/tests/cli/tap.sh"

plan 8
mkstate

PROCS=8
EACH=50

worker() {
	local i

	for i in $(seq "$EACH"); do
		cctl volume create 1 --name "w$1-$i" >>"$T/ids.$1" 2>>"$T/errors" ||
			echo "worker $1 volume $i failed" >>"$T/errors"
	done
}

# The store exists (as after installation); its creation is tested below.
cctl backend list >/dev/null

start=$(date +%s)
for p in $(seq "$PROCS"); do
	worker "$p" &
done
wait
elapsed=$(( $(date +%s) - start ))
echo "# $((PROCS * EACH)) creates by $PROCS processes in ${elapsed}s"

out=$(cat "$T/errors" 2>/dev/null) err=
ok "no create failed" test ! -s "$T/errors"
run cctl --json volume list
ok "exactly $((PROCS * EACH)) volumes in volume list --json" \
	test "$(json_get 'len(j)'):$(json_get 'len(set(v["id"] for v in j))')" = \
	"$((PROCS * EACH)):$((PROCS * EACH))"
ok "every volume is available" \
	test "$(json_get 'sorted(set(v["status"] for v in j))')" = "['available']"
ok "exactly $((PROCS * EACH)) volume files on disk" \
	test "$(find "$VOLDIR" -type f | wc -l)" = $((PROCS * EACH))

for p in $(seq "$PROCS"); do
	xargs -r -n 25 "$CINDERCTL" --config "$CONF" volume delete <"$T/ids.$p" \
		2>>"$T/delete-errors" &
done
wait
out=$(cat "$T/delete-errors" 2>/dev/null) err=
run cctl --json volume list
ok "parallel deletes leave no volume" test "$(json_get 'len(j)')" = 0
ok "and no volume file" test "$(find "$VOLDIR" -type f | wc -l)" = 0

# Cold start: the first commands on a new state directory race to create
# the store and the volume directory.
COLD=$T/cold
write_config "$T/cold.conf" "$COLD"
: >"$T/cold-errors"
for p in $(seq "$PROCS"); do
	"$CINDERCTL" --config "$T/cold.conf" volume create 1 >/dev/null 2>>"$T/cold-errors" &
done
wait
out=$(cat "$T/cold-errors") err=
ok "$PROCS processes creating the store at once all succeed" test ! -s "$T/cold-errors"
run "$CINDERCTL" --config "$T/cold.conf" --json volume list
ok "and leave $PROCS volumes and files" \
	test "$(json_get 'len(j)'):$(find "$COLD/volumes" -type f | wc -l)" = "$PROCS:$PROCS"

tap_done
