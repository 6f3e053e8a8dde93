#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The API reference (docs/api) is current: scripts/gen-api-doc run again
# gives the same pages, every CL_API function of the public headers has
# its entry, and every one of them is exported by libcinderlib.
set -u
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$top/build}"
hdrs=$top/userspace/include/cinderlib

echo "1..5"
n=0
failed=0
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/docs-api.XXXXXX")
trap 'rm -rf "$T"' EXIT

# Function names declared with CL_API, found without the generator's
# parser: join each declaration onto one line, take the name before '('.
for h in "$hdrs"/*.h; do
	awk '/^CL_API/ { decl = $0; while (decl !~ /[;{]/ && (getline line) > 0)
			 decl = decl " " line; print decl }' "$h"
done | sed -E 's/\(.*//; s/.*[^A-Za-z0-9_]([A-Za-z0-9_]+)[[:space:]]*$/\1/' |
	sort -u >"$T/functions"
nfun=$(wc -l <"$T/functions")
result $([ "$nfun" -gt 100 ]; echo $?) "found $nfun CL_API functions in the headers"

"$top/scripts/gen-api-doc" "$T/api" >"$T/gen.log" 2>&1
result $? "scripts/gen-api-doc runs"

if diff -ru "$top/docs/api" "$T/api" >"$T/diff"; then
	result 0 "docs/api is what the generator makes from the headers"
else
	result 1 "docs/api is what the generator makes from the headers (run scripts/gen-api-doc)"
	head -n 40 "$T/diff" | sed 's/^/#   /'
fi

missing=0
while read -r f; do
	hits=$(cat "$top"/docs/api/*.md 2>/dev/null | grep -c "^### .*\`$f()\`")
	if [ "$hits" != 1 ]; then
		echo "#   $f: $hits entries in docs/api"
		missing=$((missing + 1))
	fi
done <"$T/functions"
result $missing "every CL_API function has exactly one entry in docs/api"

unexported=0
nm -D --defined-only "$BUILD/lib/libcinderlib.so" | awk '{ print $3 }' |
	sort -u >"$T/exported"
while read -r f; do
	if ! grep -qx "$f" "$T/exported"; then
		echo "#   $f is documented but not exported by libcinderlib.so"
		unexported=$((unexported + 1))
	fi
done <"$T/functions"
result $unexported "every documented function is exported by libcinderlib.so"
[ "$failed" = 0 ]
