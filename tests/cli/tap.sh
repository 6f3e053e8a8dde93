# SPDX-License-Identifier: Apache-2.0
#
# TAP helpers for the cinderctl shell tests (sourced, not a test itself).
#   plan N            print "1..N"
#   ok NAME CMD...    "ok" when CMD succeeds, else "not ok" (output shown)
#   run CMD...        run CMD: stdout in $out, stderr in $err, status in $rc
#   status_is N NAME  ok when the last run exited with N
#   result S NAME [F] "ok" when S is 0, else "not ok" and the end of file F
#   mkstate           a private state dir in $T with a config file $CONF
# Every test sources this, calls plan, then mkstate; cleanup is automatic.

: "${BUILD:=$(pwd)/build}"
CINDERCTL=${CINDERCTL:-$BUILD/bin/cinderctl}
tap_count=0
tap_failed=0

plan() {
	echo "1..$1"
}

tap_result() {
	result "$1" "$2"
	[ "$1" = 0 ] ||
		{ echo "last stdout:"; echo "${out-}"; echo "last stderr:"; echo "${err-}"; } |
		head -n 30 | sed 's/^/#   /'
}

result() {
	local status=$1 name=$2 file=${3:-}

	tap_count=$((tap_count + 1))
	if [ "$status" = 0 ]; then
		echo "ok $tap_count - $name"
	else
		echo "not ok $tap_count - $name"
		tap_failed=$((tap_failed + 1))
		if [ -n "$file" ] && [ -f "$file" ]; then
			tail -n 25 "$file" | sed 's/^/#   /'
		fi
	fi
	return 0
}

ok() {
	local name=$1

	shift
	if "$@"; then
		tap_result 0 "$name"
	else
		tap_result 1 "$name"
	fi
}

skip() {
	tap_count=$((tap_count + 1))
	echo "ok $tap_count - $1 # SKIP $2"
}

run() {
	out=$("$@" 2>"$T/.stderr")
	rc=$?
	err=$(cat "$T/.stderr")
}

status_is() {
	tap_result $([ "$rc" = "$1" ]; echo $?) "$2 (exit $rc, want $1)"
}

# cctl ARGS: cinderctl with the test's configuration.
cctl() {
	"$CINDERCTL" --config "$CONF" "$@"
}

# json_get EXPR: evaluate a Python expression on the JSON in $out (as j).
json_get() {
	python3 -c 'import json,sys; j=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1" <<<"$out"
}

# A state directory, a file-driver volume directory and a config for them.
mkstate() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/cinderctl-test.XXXXXX")
	trap 'rm -rf "$T"' EXIT
	STATE=$T/state
	VOLDIR=$STATE/volumes
	CONF=$T/cinderlib.conf
	write_config "$CONF" "$STATE"
	export CINDERLIB_STATE_DIR=$STATE
}

# write_config FILE STATE_DIR: one file backend "default" under STATE_DIR.
write_config() {
	cat >"$1" <<CONF
[DEFAULT]
state_dir = $2
enabled_backends = default

[default]
volume_driver = file
file_volume_dir = $2/volumes
file_volume_dir_create = true
CONF
}

# volume_file ID: the file behind a file-driver volume.
volume_file() {
	local loc

	loc=$(cctl --json volume show "$1" | python3 -c \
		'import json,sys; print(json.load(sys.stdin).get("provider_location") or "")')
	if [ -n "$loc" ] && [ -f "$loc" ]; then
		echo "$loc"
		return
	fi
	find "$VOLDIR" -type f -name "*$1*" | head -n 1
}

file_size() {
	stat -c %s "$1"
}

tap_done() {
	[ "$tap_failed" = 0 ]
}
