#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# cinderctl on bad input: usage errors (exit 2) with messages that say what
# to do, not-found (exit 3), broken configuration and a corrupt store that
# must be reported and left alone. Also --help and --version everywhere.
set -u
. "${CINDERLIB_TOP:-.}/tests/cli/tap.sh"

plan 34
mkstate

# --- help and version --------------------------------------------------------
run "$CINDERCTL" --help
ok "--help lists every control-plane command" \
	eval 'test "$rc" = 0 && for c in backend volume snapshot connection keyvalue dump load drivers; do
		grep -q "^  $c " <<<"$out" || exit 1; done'
run "$CINDERCTL" --version
ok "--version prints the version" grep -Eq '^cinderctl [0-9]+\.[0-9]+' <<<"$out"
run "$CINDERCTL" volume --help
ok "volume --help lists the actions" eval 'test "$rc" = 0 && grep -q "^  set-metadata " <<<"$out"'
run "$CINDERCTL" volume create --help
ok "volume create --help shows usage and options" \
	eval 'test "$rc" = 0 && grep -q "^Usage: cinderctl volume create SIZE" <<<"$out" && grep -q -- "--backend" <<<"$out"'
run "$CINDERCTL" snapshot restore -h
ok "snapshot restore -h" eval 'test "$rc" = 0 && grep -q "^Usage: cinderctl snapshot restore" <<<"$out"'

# --- usage errors ------------------------------------------------------------------
run "$CINDERCTL" frobnicate
status_is 2 "an unknown command"
ok "errors start with 'cinderctl: error:'" grep -q "^cinderctl: error: unknown command 'frobnicate'" <<<"$err"
run "$CINDERCTL" volumes list
ok "a misspelt command suggests the right one" \
	eval 'test "$rc" = 2 && grep -q "did you mean .volume." <<<"$err"'
run cctl volume
status_is 2 "a group without an action"
run cctl volume craete 1
ok "an unknown action suggests the right one" \
	eval 'test "$rc" = 2 && grep -q "did you mean .create." <<<"$err"'
run cctl volume create
status_is 2 "volume create without a size"
run cctl volume extend
status_is 2 "volume extend without arguments"
run cctl volume list --frobnicate
ok "an unknown option is named" eval 'test "$rc" = 2 && grep -q -- "--frobnicate" <<<"$err"'

for bad in 0 -1 abc 99999999999 1.5 512M 10X; do
	run cctl volume create "$bad"
	case $bad in
	0) want="at least 1 GiB" ;;
	-1) want="negative" ;;
	abc) want="whole number" ;;
	99999999999) want="maximum" ;;
	1.5|512M) want="whole GiB" ;;
	10X) want="unknown unit" ;;
	esac
	ok "size '$bad' is refused (exit 2: $want)" \
		eval 'test "$rc" = 2 && grep -q "$want" <<<"$err"'
done
run cctl --json volume list
ok "no bad size created anything" test "$(json_get 'len(j)')" = 0

run cctl volume create 1 --backend nope
ok "an unknown backend is a usage error naming the configured ones" \
	eval 'test "$rc" = 2 && grep -q "unknown backend .nope." <<<"$err" && grep -q "default" <<<"$err"'

# --- not found ---------------------------------------------------------------------------
run cctl volume show 00000000-0000-0000-0000-000000000000
status_is 3 "volume show of an unknown id"
ok "the not-found message names the volume" grep -q "volume '00000000-0000-0000-0000-000000000000' not found" <<<"$err"
run cctl volume delete no-such-volume
status_is 3 "volume delete of an unknown name"
run cctl snapshot show no-such-snapshot
status_is 3 "snapshot show of an unknown name"
run cctl connection show 12345678-aaaa
status_is 3 "connection show of an unknown id"
run cctl volume extend no-such-volume 5
status_is 3 "extend of an unknown volume"

# --- configuration errors ----------------------------------------------------------------------
run "$CINDERCTL" --config "$T/missing.conf" volume list
ok "a missing --config file is a usage error naming it" \
	eval 'test "$rc" = 2 && grep -q "missing.conf" <<<"$err"'
sed 's/^file_volume_dir =/file_volume_dri =/' "$CONF" >"$T/typo-backend.conf"
run "$CINDERCTL" --config "$T/typo-backend.conf" volume create 1
ok "a misspelt driver option fails with 'did you mean'" \
	eval 'test "$rc" != 0 && grep -q "file_volume_dri" <<<"$err" && grep -q "did you mean .file_volume_dir." <<<"$err"'
sed 's/^enabled_backends/enabled_backend/' "$CONF" >"$T/typo-default.conf"
run "$CINDERCTL" --config "$T/typo-default.conf" volume list
ok "a misspelt [DEFAULT] option fails with 'did you mean'" \
	eval 'test "$rc" = 1 && grep -q "did you mean .enabled_backends." <<<"$err"'

# --- corrupt store ----------------------------------------------------------------------
cctl volume create 1 >/dev/null
store=$STATE/cinderlib.sqlite
if [ -f "$store" ]; then
	head -c 8192 /dev/urandom >"$store"
	rm -f "$store-wal" "$store-shm"
	cp "$store" "$T/store.before"
	run cctl volume list
	ok "a corrupt store is a clear error naming the file" \
		eval 'test "$rc" = 1 && grep -q "cinderlib.sqlite" <<<"$err"'
	ok "the corrupt store is left unchanged" cmp -s "$store" "$T/store.before"
else
	skip "a corrupt store is a clear error naming the file" "no sqlite file at $store"
	skip "the corrupt store is left unchanged" "no sqlite file at $store"
fi

# --- the embedded default configuration --------------------------------------------------
if [ -e /etc/cinderlib/cinderlib.conf ]; then
	skip "without a config file: file backend in \$CINDERLIB_STATE_DIR" \
		"/etc/cinderlib/cinderlib.conf exists"
else
	export CINDERLIB_STATE_DIR=$T/embedded
	run "$CINDERCTL" volume create 2
	ok "without a config file: file backend in \$CINDERLIB_STATE_DIR" \
		eval 'test "$rc" = 0 && test -f "$T/embedded/cinderlib.sqlite" &&
		      test "$(find "$T/embedded/volumes" -type f -size +1G | wc -l)" = 1'
fi

tap_done
