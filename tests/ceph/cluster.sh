# SPDX-License-Identifier: Apache-2.0
#
# A throwaway single-host Ceph cluster for the RBD tests (sourced, not a
# test itself): one mon, one mgr, one bluestore OSD on a sparse file, pool
# "rbd" of size 1, all on 127.0.0.1 and all inside one directory; nothing
# in /etc/ceph or /var/lib/ceph is read or written. Daemons run as the
# calling user and daemonize; their pid files are under the directory.
#   ceph_start DIR     a new cluster in DIR (absent or empty), returns
#                      once `ceph health` says HEALTH_OK
#   ceph_stop DIR      kill its daemons, remove DIR; safe to repeat, and
#                      after a failed ceph_start, which leaves what it
#                      started running for a look (call it from a trap)
#   ceph_admin ARGS    the ceph CLI as client.admin of the last cluster
#   ceph_pids DIR      the pids of the processes of the cluster in DIR
# After ceph_start (all exported):
#   CEPH_CONF            its ceph.conf (librados reads $CEPH_CONF too)
#   CEPH_KEYRING_ADMIN   client.admin's keyring
#   CEPH_KEYRING_CINDER  client.cinder's keyring, rbd caps on pool rbd
#   CEPH_MON_ADDR        ip:port of the mon's msgr v1 address: what the
#                        kernel client dials with its default ms_mode
#   CEPH_MON_ADDR_V2     ip:port of its msgr2 address (kernel ms_mode=crc,
#                        secure, prefer-*; userspace prefers it)
#   CEPH_POOL            rbd
#   CEPH_START_SECONDS   how long ceph_start took
# Knobs: CEPH_MON_PORT (v1 port) and CEPH_MON_PORT_V2 (default: free
# ports picked at random), CEPH_OSD_SIZE (bytes, 2 GiB; bluestore's mkfs
# aborts below ~300 MiB), CEPH_START_TIMEOUT (seconds per wait, 120).

CEPH_IP=127.0.0.1
CEPH_MARK=.ceph-test-cluster
_ceph_dir=
_ceph_logs=()

_ceph_err() {
	echo "ceph-cluster: $*" >&2
}

# _ceph_fail WHAT LOG...: report WHAT with the tail of each LOG.
_ceph_fail() {
	local what=$1 f

	shift
	_ceph_err "$what"
	for f in "$@"; do
		[ -s "$f" ] || continue
		_ceph_err "last lines of $f:"
		# A daemon's crash ends its log with a backtrace and thousands of
		# "recent events": keep what it said before them.
		sed '/--- begin dump of recent events ---/,$d' "$f" |
			grep -Ev '^ +([0-9]+: |NOTE: )|^[[:space:]]*$' | tail -n 20 |
			sed 's/^/    /' >&2
	done
	return 1
}

# _ceph_step LOG WHAT CMD...: run CMD, output appended to LOG; on failure
# report WHAT (and whether it timed out) with LOG and the logs listed in
# the array _ceph_logs.
_ceph_step() {
	local log=$1 what=$2 rc

	shift 2
	echo "+ $*" >>"$log"
	"$@" >>"$log" 2>&1 </dev/null
	rc=$?
	[ "$rc" = 0 ] && return 0
	[ "$rc" = 124 ] && what="$what (timed out)"
	_ceph_fail "$what, exit $rc (log: $log)" "$log" "${_ceph_logs[@]}"
}

_ceph_now() {
	date +%s.%N
}

# _ceph_port_busy PORT: some TCP socket uses PORT locally. TIME_WAIT
# (06) ones do not count: ceph binds with SO_REUSEADDR, and a stopped
# cluster leaves some behind on its port.
_ceph_port_busy() {
	local hex files=() f

	hex=$(printf ':%04X' "$1")
	for f in /proc/net/tcp /proc/net/tcp6; do
		[ -r "$f" ] && files+=("$f")
	done
	awk -v h="$hex" 'FNR > 1 && substr($2, length($2) - 4) == h && $4 != "06" { f = 1 }
		END { exit !f }' "${files[@]}"
}

# _ceph_pick_port VAR NOT: $VAR if set (it must be free), else a free
# port that is not NOT. Below the ephemeral range (32768+) so outgoing
# connections do not take it between the check and the mon's bind.
_ceph_pick_port() {
	local want=${!1-} p _

	if [ -n "$want" ]; then
		if _ceph_port_busy "$want"; then
			_ceph_err "$1=$want: port already in use"
			return 1
		fi
		echo "$want"
		return 0
	fi
	for _ in $(seq 100); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		[ "$p" != "$2" ] && ! _ceph_port_busy "$p" && { echo "$p"; return 0; }
	done
	_ceph_err "no free TCP port found in 20000-31999"
	return 1
}

# _ceph DIR ARGS: the ceph CLI as client.admin of the cluster in DIR,
# bounded: a dead mon must fail the call, not hang it.
_ceph() {
	local dir=$1

	shift
	timeout 60 ceph -c "$dir/ceph.conf" -n client.admin \
		-k "$dir/keys/client.admin.keyring" --connect-timeout 30 "$@"
}

ceph_admin() {
	_ceph "$_ceph_dir" "$@"
}

# _ceph_wait SECS CMD...: retry CMD (quietly) until it succeeds or SECS pass.
_ceph_wait() {
	local end=$((SECONDS + $1))

	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.5
	done
}

_ceph_mon_up() { _ceph "$1" mon stat; }
_ceph_mgr_up() { _ceph "$1" mgr stat -f json | grep -q '"available": *true'; }
_ceph_osd_up() { _ceph "$1" osd stat -f json | grep -q '"num_up_osds": *1\b'; }
_ceph_health_ok() { [ "$(_ceph "$1" health 2>/dev/null)" = HEALTH_OK ]; }

# _ceph_daemon DIR NAME ARGS: start daemon NAME (mon.a, ...) daemonized;
# the parent's own output goes to log/NAME.out.
_ceph_daemon() {
	local dir=$1 name=$2 bin

	shift 2
	bin=ceph-${name%%.*}
	if ! "$bin" -c "$dir/ceph.conf" -i "${name#*.}" "$@" \
		>"$dir/log/$name.out" 2>&1 </dev/null; then
		_ceph_fail "$bin -i ${name#*.} failed to start (log: $dir/log/$name.log)" \
			"$dir/log/$name.out" "$dir/log/$name.log"
		return 1
	fi
}

# The conf: every path under DIR (run dir, admin sockets, pid files,
# logs, crash dumps, keyrings, data), every address on 127.0.0.1.
_ceph_write_conf() {
	local dir=$1 fsid=$2 p1=$3 p2=$4 size=$5

	cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:$CEPH_IP:$p2,v1:$CEPH_IP:$p1]
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
# Every client here (librados 16, kernel 6.1) does the secure global_id
# reclaim: forbid the insecure one, which also clears its health warning.
auth allow insecure global id reclaim = false
keyring = $dir/keys/\$name.keyring
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
log to stderr = false
mon cluster log file = $dir/log/cluster.log
crash dir = $dir/crash
# One OSD: pools of size 1, CRUSH choosing OSDs rather than hosts, a few
# fixed PGs (no autoscaler, so no "too few/many PGs" warnings).
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
# The mon's store is a few MiB for minutes: the default 30% free-space
# warning would fire on any fuller CI disk (and 5% stops the mon).
mon data avail warn = 2
mon data avail crit = 1
# The mgr imports every module it finds (~150 MiB more RSS): load only
# the always-on ones (a missing one is HEALTH_ERR), enable none more.
mgr initial modules =
mgr disabled modules = alerts cephadm dashboard diskprediction_local influx insights iostat k8sevents localpool mirroring nfs osd_perf_query osd_support prometheus restful rook selftest snap_schedule stats telegraf test_orchestrator zabbix
# Stats every second: PGs show active+clean (HEALTH_OK) sooner.
mgr stats period = 1
osd mon report interval = 1

[mon]
mon data = $dir/mon/\$name
keyring = \$mon_data/keyring

[mgr]
mgr data = $dir/mgr/\$name
public addr = $CEPH_IP

[osd]
osd data = $dir/osd/\$name
public addr = $CEPH_IP
cluster addr = $CEPH_IP
osd objectstore = bluestore
bluestore block path = $dir/disk/\$name.img
bluestore block size = $size
bluestore block create = true
bluestore fsck on mkfs = false
# Small memory: a fixed 64 MiB cache instead of autotuning toward the
# 4 GiB memory target (which is also lowered, to its minimum).
bluestore cache autotune = false
bluestore cache size = 67108864
osd memory target = 939524096
osd op num shards = 1
osd op num threads per shard = 2
# Stopping throws everything away: do not wait up to 5s on the mon (dying
# alongside) to mark the OSD down.
osd fast shutdown notify mon = false

[client]
# Many short-lived clients share one name: no admin sockets for them.
admin socket =
log file = $dir/log/client.log
EOF
}

# _ceph_keys DIR: a keyring per entity under keys/, and all of them in
# keys/initial.keyring for the mon's mkfs, so no "auth add" is needed.
_ceph_keys() {
	local k=$1/keys log=$1/log/keys.log

	(
		ceph-authtool --create-keyring "$k/initial.keyring" --gen-key -n mon. \
			--cap mon 'allow *' &&
		ceph-authtool --create-keyring "$k/client.admin.keyring" --gen-key \
			-n client.admin --cap mon 'allow *' --cap osd 'allow *' \
			--cap mds 'allow *' --cap mgr 'allow *' &&
		ceph-authtool --create-keyring "$k/client.cinder.keyring" --gen-key \
			-n client.cinder --cap mon 'profile rbd' \
			--cap osd "profile rbd pool=$CEPH_POOL" \
			--cap mgr "profile rbd pool=$CEPH_POOL" &&
		ceph-authtool --create-keyring "$k/mgr.x.keyring" --gen-key -n mgr.x \
			--cap mon 'allow profile mgr' --cap osd 'allow *' --cap mds 'allow *' &&
		ceph-authtool --create-keyring "$k/osd.0.keyring" --gen-key -n osd.0 \
			--cap mon 'allow profile osd' --cap mgr 'allow profile osd' \
			--cap osd 'allow *' &&
		for e in client.admin client.cinder mgr.x osd.0; do
			ceph-authtool "$k/initial.keyring" --import-keyring "$k/$e.keyring" || exit 1
		done
	) >"$log" 2>&1 || _ceph_fail "creating the keyrings failed (log: $log)" "$log"
}

ceph_start() {
	local dir=${1-} t0 fsid p1 p2 size=${CEPH_OSD_SIZE:-2147483648}
	local wait=${CEPH_START_TIMEOUT:-120} log uuid c

	if [ -z "$dir" ]; then
		_ceph_err "usage: ceph_start DIR"
		return 1
	fi
	for c in ceph ceph-mon ceph-mgr ceph-osd ceph-authtool monmaptool rbd; do
		command -v "$c" >/dev/null || { _ceph_err "$c not found (scripts/install-deps.sh)"; return 1; }
	done
	t0=$(_ceph_now)
	# Absolute: the daemons chdir to /.
	mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || return 1
	if [ -n "$(ls -A "$dir")" ]; then
		_ceph_err "ceph_start: $dir is not empty"
		return 1
	fi
	# The mark lets ceph_stop remove DIR, even after a failed start.
	: >"$dir/$CEPH_MARK" &&
		mkdir "$dir/run" "$dir/log" "$dir/keys" "$dir/mon" "$dir/mgr" \
			"$dir/osd" "$dir/disk" "$dir/crash" || return 1
	_ceph_dir=$dir
	CEPH_POOL=rbd

	p1=$(_ceph_pick_port CEPH_MON_PORT "") &&
		p2=$(_ceph_pick_port CEPH_MON_PORT_V2 "$p1") || return 1
	if [ "$p1" = "$p2" ]; then
		_ceph_err "CEPH_MON_PORT and CEPH_MON_PORT_V2 are both $p1"
		return 1
	fi
	fsid=$(cat /proc/sys/kernel/random/uuid)
	_ceph_write_conf "$dir" "$fsid" "$p1" "$p2" "$size" && _ceph_keys "$dir" || return 1

	log=$dir/log/setup.log
	_ceph_logs=()
	_ceph_step "$log" "monmaptool failed" monmaptool --create --clobber \
		--enable-all-features --fsid "$fsid" \
		--addv a "[v2:$CEPH_IP:$p2,v1:$CEPH_IP:$p1]" "$dir/monmap" || return 1
	_ceph_logs=("$dir/log/mon.a.log")
	_ceph_step "$log" "ceph-mon --mkfs failed" ceph-mon -c "$dir/ceph.conf" -i a \
		--mkfs --monmap "$dir/monmap" --keyring "$dir/keys/initial.keyring" || return 1
	_ceph_daemon "$dir" mon.a || return 1
	_ceph_wait "$wait" _ceph_mon_up "$dir" ||
		{ _ceph_fail "mon.a did not answer within ${wait}s on $CEPH_IP:$p2/$p1 (log: $dir/log/mon.a.log)" \
			"$dir/log/mon.a.log"; return 1; }

	_ceph_daemon "$dir" mgr.x || return 1

	# The OSD: its id and uuid in the osdmap, then bluestore on the file.
	uuid=$(cat /proc/sys/kernel/random/uuid)
	_ceph_step "$log" "ceph osd new failed" _ceph "$dir" osd new "$uuid" 0 || return 1
	mkdir "$dir/osd/osd.0" && truncate -s "$size" "$dir/disk/osd.0.img" || return 1
	_ceph_logs=("$dir/log/osd.0.log")
	_ceph_step "$log" "ceph-osd --mkfs failed" \
		ceph-osd -c "$dir/ceph.conf" -i 0 --mkfs --osd-uuid "$uuid" || return 1
	_ceph_daemon "$dir" osd.0 || return 1

	_ceph_wait "$wait" _ceph_mgr_up "$dir" ||
		{ _ceph_fail "no active mgr after ${wait}s (log: $dir/log/mgr.x.log)" \
			"$dir/log/mgr.x.log"; return 1; }
	_ceph_wait "$wait" _ceph_osd_up "$dir" ||
		{ _ceph_fail "osd.0 not up after ${wait}s (log: $dir/log/osd.0.log)" \
			"$dir/log/osd.0.log"; return 1; }

	# Size 1 (so min_size 1) at creation: "osd pool set rbd size 1
	# --yes-i-really-mean-it" afterwards would cost another second.
	_ceph_step "$log" "creating pool $CEPH_POOL failed" \
		_ceph "$dir" osd pool create "$CEPH_POOL" 8 8 replicated --size 1 \
		--autoscale-mode off &&
	_ceph_step "$log" "rbd pool init $CEPH_POOL failed" \
		timeout "$wait" rbd -c "$dir/ceph.conf" -n client.admin pool init "$CEPH_POOL" ||
		return 1

	if ! _ceph_wait "$wait" _ceph_health_ok "$dir"; then
		_ceph "$dir" health detail >"$dir/log/health.log" 2>&1
		_ceph_fail "not HEALTH_OK after ${wait}s (logs: $dir/log)" \
			"$dir/log/health.log" "$dir/log/cluster.log"
		return 1
	fi

	export CEPH_CONF=$dir/ceph.conf
	export CEPH_KEYRING_ADMIN=$dir/keys/client.admin.keyring
	export CEPH_KEYRING_CINDER=$dir/keys/client.cinder.keyring
	export CEPH_MON_ADDR=$CEPH_IP:$p1
	export CEPH_MON_ADDR_V2=$CEPH_IP:$p2
	export CEPH_POOL
	CEPH_START_SECONDS=$(awk -v a="$t0" -v b="$(_ceph_now)" 'BEGIN { printf "%.1f", b - a }')
	export CEPH_START_SECONDS
}

# _ceph_has_conf PID CONF: PID runs with CONF as one of its arguments.
# Builtins only: ceph_stop polls this for every process.
_ceph_has_conf() {
	local a args=()

	{ mapfile -d '' -t args <"/proc/$1/cmdline"; } 2>/dev/null || return 1
	for a in "${args[@]}"; do
		[ "$a" = "$2" ] && return 0
	done
	return 1
}

# ceph_pids DIR: the live processes of the cluster in DIR: those of its
# pid files that still run with its conf, and any other process started
# with its conf (a daemon that died before or without writing one).
ceph_pids() {
	local conf=$1/ceph.conf f p

	{
		for f in "$1"/run/*.pid; do
			[ -r "$f" ] && read -r p <"$f" && _ceph_has_conf "$p" "$conf" && echo "$p"
		done
		for p in /proc/[0-9]*; do
			p=${p#/proc/}
			[ "$p" != $$ ] && [ "$p" != "$BASHPID" ] &&
				_ceph_has_conf "$p" "$conf" && echo "$p"
		done
		# The loops end on a failed test: not an error under pipefail.
		true
	} | sort -un
}

ceph_stop() {
	local dir=${1-} pids end sig

	if [ -z "$dir" ]; then
		_ceph_err "usage: ceph_stop DIR"
		return 1
	fi
	[ -d "$dir" ] || return 0
	dir=$(cd "$dir" && pwd) || return 1
	if [ ! -e "$dir/$CEPH_MARK" ] && [ -n "$(ls -A "$dir")" ]; then
		_ceph_err "ceph_stop: $dir was not made by ceph_start, not removing it"
		return 1
	fi
	# TERM (the OSD's fast shutdown takes well under a second), then KILL.
	for sig in TERM KILL; do
		pids=$(ceph_pids "$dir")
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		kill -s "$sig" $pids 2>/dev/null
		end=$((SECONDS + 10))
		while [ -n "$(ceph_pids "$dir")" ] && [ "$SECONDS" -lt "$end" ]; do
			sleep 0.1
		done
	done
	pids=$(ceph_pids "$dir")
	if [ -n "$pids" ]; then
		_ceph_err "ceph_stop: still running after SIGKILL: $(tr '\n' ' ' <<<"$pids")"
		return 1
	fi
	rm -rf "$dir"
	if [ "${CEPH_CONF-}" = "$dir/ceph.conf" ]; then
		unset CEPH_CONF CEPH_KEYRING_ADMIN CEPH_KEYRING_CINDER CEPH_MON_ADDR \
			CEPH_MON_ADDR_V2 CEPH_START_SECONDS
	fi
	[ "$_ceph_dir" != "$dir" ] || _ceph_dir=
}
