#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# libcinderlib's ABI: the library exports the public headers' API and
# nothing else, every symbol in its version node, and the types and
# signatures of that API are those of the recorded baseline (abidiff), so
# that a change which breaks programs built against soname 0 is seen. An
# intended change: 'make abi-baseline' records the new ABI (and a removal
# or an incompatible change needs a new soname).
set -uo pipefail

top=${CINDERLIB_TOP:-$PWD}
build=${BUILD:-$top/build}
so=$build/lib/libcinderlib.so
baseline=$top/userspace/lib/libcinderlib.abi
sym=$top/scripts/abi-symbols
n=0

echo "TAP version 13"
echo "1..5"

result() { # STATUS NAME [DETAIL]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && echo "$3" | head -n 40 | sed 's/^/# /'
	fi
}

d=$(diff <("$sym" headers) <("$sym" map))
result $? "the version script lists exactly the CL_API functions of the public headers" \
	"< header only, > map only:"$'\n'"$d"

d=$(diff <("$sym" map | sed 's/$/@CINDERLIB_0/') <("$sym" lib "$so"))
result $? "libcinderlib.so exports exactly those, each at CINDERLIB_0" "$d"

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libcinderlib.so.0 ]
result $? "the soname is libcinderlib.so.0 (it is '$soname')"

# The drivers and the CLI bind to versioned symbols, so that a library
# without them is refused at load, not at the first call.
unversioned=$(for f in "$build"/drivers/*.so "$build/install/cinderctl"; do
	objdump -T "$f" | awk -v f="$(basename "$f")" \
		'$4 == "*UND*" && $NF ~ /^cl_/ && $(NF-1) !~ /CINDERLIB_/ { print f ": " $NF }'
done)
[ -z "$unversioned" ]
result $? "drivers and cinderctl use the library's versioned symbols" "$unversioned"

if ! command -v abidiff >/dev/null; then
	echo "ok 5 - abidiff against the recorded ABI # SKIP abidiff (abigail-tools) is not installed"
	exit 0
fi
# The baseline keeps only the public headers' types (abidw
# --drop-private-types): no --headers-dir here, that would filter out all.
d=$(abidiff --no-added-syms "$baseline" "$so" 2>&1)
result $? "abidiff: the ABI is the recorded one (userspace/lib/libcinderlib.abi)" \
	"$d"$'\n'"(intended? 'make abi-baseline' records it)"
