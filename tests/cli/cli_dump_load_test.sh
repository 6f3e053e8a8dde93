#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# cinderctl dump / load: the state of one store moved into another through
# JSON gives an equal dump; partial dumps carry a volume with its snapshots;
# load without --save changes nothing.
set -u
. "${CINDERLIB_TOP:-.}/tests/cli/tap.sh"

plan 9
mkstate

# A second, empty state on the same volume directory (the data stays put,
# only the records move), as when changing stores.
STATE2=$T/state2
CONF2=$T/second.conf
write_config "$CONF2" "$STATE2"
sed -i "s|^file_volume_dir = .*|file_volume_dir = $VOLDIR|" "$CONF2"

V1=$(cctl volume create 1 --name one --metadata a=b)
V2=$(cctl volume create 2 --name two)
S1=$(cctl snapshot create one --name s1)
C1=$(cctl volume connect two --connector host=h1)
cctl keyvalue set conf/x 42

run cctl dump
DUMP1=$out
ok "dump is JSON with every object" \
	test "$(json_get '(j["format"], len(j["volumes"]), len(j["snapshots"]), len(j["connections"]), j["key_values"])')" = \
	"(1, 2, 1, 1, {'conf/x': '42'})"
run cctl dump --all --compact
ok "dump --all --compact is one line with the same content" \
	eval 'test "$(wc -l <<<"$out")" = 1 && python3 -c "import json,sys; assert json.loads(sys.argv[1]) == json.loads(sys.argv[2])" "$out" "$DUMP1"'

cctl dump -o "$T/dump.json"
run "$CINDERCTL" --config "$CONF2" load "$T/dump.json"
ok "load without --save only reads" \
	eval 'grep -q "2 volume(s), 1 snapshot(s), 1 connection(s), 1 key/value(s) read" <<<"$out" &&
	      "$CINDERCTL" --config "$CONF2" --json volume list |
	      python3 -c "import json,sys; sys.exit(json.load(sys.stdin) != [])"'
run "$CINDERCTL" --config "$CONF2" load --save - <"$T/dump.json"
ok "load --save from stdin" test "$rc" = 0
run "$CINDERCTL" --config "$CONF2" dump
ok "the second store dumps equal to the first" test "$out" = "$DUMP1"
run "$CINDERCTL" --config "$CONF2" --json volume show one
ok "loaded volumes are usable by name" \
	test "$(json_get '(j["id"], j["metadata"])')" = "('$V1', {'a': 'b'})"
run "$CINDERCTL" --config "$CONF2" snapshot delete s1
ok "loaded snapshots can be deleted in the new store" test "$rc" = 0

run cctl dump one
ok "dump VOLUME holds that volume and its snapshot only" \
	test "$(json_get '([v["id"] for v in j["volumes"]], [s["id"] for s in j["snapshots"]], len(j["connections"]))')" = \
	"(['$V1'], ['$S1'], 0)"

echo '{"format": 1, "volumes": [{"id": 5}]' >"$T/broken.json"
cp "$STATE2/cinderlib.sqlite" "$T/before.sqlite" 2>/dev/null
run "$CINDERCTL" --config "$CONF2" load --save "$T/broken.json"
ok "a broken dump is refused and names the file" \
	eval 'test "$rc" = 1 && grep -q "broken.json" <<<"$err"'

tap_done
