#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The API reference (doc/source/reference/api, built by Sphinx and breathe
# from doxygen's reading of the public headers) covers the API: 'make docs'
# builds it, every CL_API function of the headers (scripts/abi-symbols
# headers) has exactly one entry in the built HTML, with the description
# its header comment gives, the reference documents no other function, and
# every one of them is exported by libcinderlib.so. Without sphinx-build
# or doxygen the checks of the built reference are skipped.
set -u
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$top/build}"

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
		[ -n "${3:-}" ] && [ -s "$3" ] && head -n 30 "$3" | sed 's/^/#   /'
	fi
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

T=$(mktemp -d "${TMPDIR:-/tmp}/docs-api.XXXXXX")
trap 'rm -rf "$T"' EXIT

"$top/scripts/abi-symbols" headers >"$T/functions" 2>"$T/sym.log"
nfun=$(wc -l <"$T/functions")
result "$([ "$nfun" -gt 100 ]; echo $?)" "found $nfun CL_API functions in the headers" "$T/sym.log"

reason=
for tool in sphinx-build doxygen; do
	command -v "$tool" >/dev/null || reason="${reason:+$reason, }$tool is not installed"
done
if [ -z "$reason" ]; then
	# A make of our own: not the jobserver of a make that runs this test.
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -s -C "$top" docs BUILD="$T/build" >"$T/docs.log" 2>&1
	rc=$?
	missing=$(sed -n 's/.*Could not import extension \([^ ]*\).*/\1/p' "$T/docs.log" | head -n 1)
	if [ "$rc" != 0 ] && [ -n "$missing" ]; then
		reason="the Sphinx extension $missing is not installed"
	fi
fi
if [ -n "$reason" ]; then
	skip "make docs builds the reference" "$reason"
	skip "every CL_API function has exactly one entry in the reference, and no other function has one" "$reason"
	skip "every entry has its description" "$reason"
else
	tail -n 30 "$T/docs.log" >"$T/docs.tail"
	result "$rc" "make docs builds the reference" "$T/docs.tail"

	# Each function of the reference is a <dl class="c function">: a <dt>,
	# the declaration, whose text holds NAME( , and a <dd>, its description.
	python3 - "$T/functions" "$T/build/docs/html/reference/api" \
		>"$T/entries.log" 2>&1 <<'EOF'
import glob
import html
import os
import re
import sys

functions = set(open(sys.argv[1]).read().split())
ENTRY = re.compile(r'<dl class="c function">\s*<dt[^>]*>(.*?)</dt>\s*'
                   r'<dd>(.*?)</dd>', re.S)


def text(fragment):
    return ' '.join(html.unescape(re.sub(r'<[^>]+>', '', fragment)).split())


found = {}
for page in sorted(glob.glob(os.path.join(sys.argv[2], '*.html'))):
    for dt, dd in ENTRY.findall(open(page, encoding='utf-8').read()):
        dt = text(dt)
        m = re.search(r'(\w+)\(', dt)
        if m:
            found.setdefault(m.group(1), []).append(
                (os.path.basename(page), text(dd)))

for f in sorted(functions):
    if len(found.get(f, [])) != 1:
        print('entries: %s: %d in the reference' % (f, len(found.get(f, []))))
for f in sorted(set(found) - functions):
    print('entries: %s is in the reference but is no CL_API function' % f)
for f in sorted(functions):
    if len(found.get(f, [])) == 1 and not found[f][0][1]:
        print('description: %s (%s) has none' % (f, found[f][0][0]))
print('summary: %d functions, %d in the reference' % (len(functions), len(found)))
EOF
	grep -v -e '^description:' -e '^summary:' "$T/entries.log" >"$T/entries.err"
	result "$([ ! -s "$T/entries.err" ] && grep -q '^summary:' "$T/entries.log"; echo $?)" \
		"every CL_API function has exactly one entry in the reference, and no other function has one" \
		"$T/entries.err"
	grep '^description:' "$T/entries.log" >"$T/desc.err"
	result "$([ ! -s "$T/desc.err" ] && grep -q '^summary:' "$T/entries.log"; echo $?)" \
		"every entry has its description" "$T/desc.err"
fi

unexported=0
nm -D --defined-only "$BUILD/lib/libcinderlib.so" | awk '{ sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$T/exported"
while read -r f; do
	if ! grep -qx "$f" "$T/exported"; then
		echo "#   $f is documented but not exported by libcinderlib.so"
		unexported=$((unexported + 1))
	fi
done <"$T/functions"
result $unexported "every documented function is exported by libcinderlib.so"
[ "$failed" = 0 ]
