#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/ceph/cluster.sh does what the RBD tests rely on: a cluster that is
# HEALTH_OK on return, client.cinder can create, list, write and read back
# images in pool rbd and nothing outside it, a wrong key is refused in
# bounded time, ceph df sees the 2 GiB OSD, and ceph_stop leaves no daemon
# and no directory behind. Timings and peak RSS are printed as comments.
set -u
. "${CINDERLIB_TOP:-.}/tests/cli/tap.sh"
. "${CINDERLIB_TOP:-.}/tests/ceph/cluster.sh"

for c in ceph ceph-mon ceph-mgr ceph-osd rbd; do
	if ! command -v "$c" >/dev/null; then
		echo "1..0 # SKIP $c not installed (scripts/install-deps.sh)"
		exit 0
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/ceph-smoke.XXXXXX")
CD=$T/cluster
trap 'ceph_stop "$CD"; rm -rf "$T"' EXIT

# rbdc ARGS: rbd as client.cinder, the user the driver will be.
rbdc() {
	timeout 120 rbd -c "$CEPH_CONF" --id cinder --keyring "$CEPH_KEYRING_CINDER" "$@"
}

# peak_rss_kib PIDS: the sum of their VmHWM.
peak_rss_kib() {
	local p sum=0 kib

	for p in "$@"; do
		kib=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${kib:-0}))
	done
	echo "$sum"
}

# alive PIDS: one of them still runs (a zombie awaiting its reaper does not).
alive() {
	local p

	for p in "$@"; do
		[ -e "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null &&
			return 0
	done
	return 1
}

plan 15

# Not through run: its exports must reach this shell.
ceph_start "$CD" 2>"$T/start.err"
rc=$? out='' err=$(cat "$T/start.err")
status_is 0 "ceph_start makes a cluster"
if [ "$rc" != 0 ]; then
	sed 's/^/# /' "$T/start.err"
	exit 1
fi
echo "# ceph_start to HEALTH_OK: ${CEPH_START_SECONDS}s, mon $CEPH_MON_ADDR (v1) $CEPH_MON_ADDR_V2 (v2)"
ok "the exports point into the cluster directory" eval \
	'test "$CEPH_CONF" = "$CD/ceph.conf" && test -s "$CEPH_KEYRING_ADMIN" &&
	 test -s "$CEPH_KEYRING_CINDER" && test "$CEPH_POOL" = rbd &&
	 [[ $CEPH_MON_ADDR == 127.0.0.1:* && $CEPH_MON_ADDR_V2 == 127.0.0.1:* ]]'

run ceph_admin health
ok "ceph health is HEALTH_OK" test "$out" = HEALTH_OK

run ceph_admin osd pool ls detail --format json
pool=$(json_get '[(p["size"], p["min_size"], sorted(p["application_metadata"]))
	for p in j if p["pool_name"] == "rbd"]')
ok "pool rbd: size 1, min_size 1, application rbd" test "$pool" = "[(1, 1, ['rbd'])]"

run rbdc create rbd/t1 --size 64M
status_is 0 "client.cinder creates rbd/t1 of 64 MiB"
run rbdc ls rbd
ok "rbd ls lists t1" grep -qx t1 <<<"$out"
run rbdc info rbd/t1 --format json
ok "t1 is 64 MiB" test "$(json_get 'j["size"]')" = $((64 << 20))

# 1 MiB of random data in, the same 1 MiB out.
head -c 1M /dev/urandom >"$T/pattern"
run rbdc import --no-progress "$T/pattern" rbd/t2
status_is 0 "rbd import of 1 MiB of random data"
run rbdc export --no-progress rbd/t2 "$T/back"
ok "rbd export gives the same 1 MiB back" eval \
	'test "$rc" = 0 && test "$(sha256sum <"$T/pattern")" = "$(sha256sum <"$T/back")"'

run rbdc create device_health_metrics/nope --size 4M
ok "client.cinder may not write outside pool rbd" eval \
	'test "$rc" != 0 && grep -q "Operation not permitted" <<<"$err"'

run ceph_admin df --format json
total=$(json_get 'j["stats"]["total_bytes"]')
ok "ceph df reports about 2 GiB in all ($total bytes)" eval \
	'test "$total" -ge $((1900 << 20)) && test "$total" -le $((2100 << 20))'

# A key of the right form that the mon does not know.
ceph-authtool --create-keyring "$T/bad.keyring" --gen-key -n client.cinder >/dev/null
t0=$SECONDS
run timeout 60 rbd -c "$CEPH_CONF" --id cinder --keyring "$T/bad.keyring" \
	--client_mount_timeout 10 ls rbd
ok "a wrong key is refused within 30s (exit $rc, $((SECONDS - t0))s)" eval \
	'test "$rc" != 0 && test "$rc" != 124 && test $((SECONDS - t0)) -le 30'

pids=$(ceph_pids "$CD")
# shellcheck disable=SC2086
echo "# daemons: $(tr '\n' ' ' <<<"$pids")peak RSS sum $(($(peak_rss_kib $pids) / 1024)) MiB"
for p in $pids; do
	echo "#   $(cat "/proc/$p/comm"): $(($(peak_rss_kib "$p") / 1024)) MiB"
done
t0=$(date +%s.%N)
run ceph_stop "$CD"
echo "# ceph_stop: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')s"
status_is 0 "ceph_stop"
# shellcheck disable=SC2086
ok "no daemon of the cluster remains" eval \
	'! alive $pids && test -z "$(ceph_pids "$CD")" && ! pgrep -f -- "$CD/ceph.conf" >/dev/null'
ok "the cluster directory is gone, a second ceph_stop is fine" eval \
	'test ! -e "$CD" && ceph_stop "$CD"'

tap_done
