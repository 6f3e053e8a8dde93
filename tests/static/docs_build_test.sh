#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The documentation builds: 'make docs' (doxygen over the public headers,
# then sphinx-build -W --keep-going: a warning is an error) into a scratch
# directory, with no network (the proxies point nowhere, so a fetch would
# fail the build); the main pages are there; every page of doc/source is
# reached from index.rst through the toctrees; no Markdown page is left
# beside them (docs/ keeps the roff man pages). The build is skipped
# without sphinx-build or doxygen.
set -uo pipefail

top=${CINDERLIB_TOP:-$PWD}
src=$top/doc/source
n=0

echo "TAP version 13"
echo "1..6"

result() { # STATUS NAME [DETAIL]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && echo "$3" | head -n 40 | sed 's/^/# /'
	fi
}

skip() { # NAME REASON
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/docs-build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# 1. Every page is in a toctree, read from the sources (the build says so
# too, as a warning; this names the page even without Sphinx).
out=$(python3 - "$src" <<'EOF' 2>&1
import os
import re
import sys

src = sys.argv[1]
pages = set()
for d, _, files in os.walk(src):
    for f in files:
        if f.endswith('.rst'):
            pages.add(os.path.relpath(os.path.join(d, f), src)[:-4])


def entries(page):
    """The documents the toctrees of @page list."""
    lines = open(os.path.join(src, page + '.rst'), encoding='utf-8').read()
    out = []
    for m in re.finditer(r'^( *)\.\. toctree::[^\n]*\n((?:\1 +[^\n]*\n|\s*\n)*)',
                         lines, re.M):
        for line in m.group(2).split('\n'):
            e = line.strip()
            if not e or e.startswith(':'):
                continue
            e = re.sub(r'^.*<(.*)>$', r'\1', e)      # Title <doc>
            if e.startswith('/'):
                out.append(e[1:])
            else:
                out.append(os.path.normpath(os.path.join(os.path.dirname(page), e)))
    return out


seen, todo = set(), ['index']
while todo:
    p = todo.pop()
    if p in seen:
        continue
    seen.add(p)
    for e in entries(p):
        if e not in pages:
            print('%s.rst: toctree entry %s: no such page' % (p, e))
        else:
            todo.append(e)
for p in sorted(pages - seen):
    print('%s.rst is in no toctree' % p)
print('%d pages, %d in the toctree' % (len(pages), len(seen & pages)))
EOF
)
! echo "$out" | grep -q -e 'is in no toctree' -e 'no such page' -e Traceback
result $? "every page of doc/source is in the toctree ($(echo "$out" | tail -n 1))" "$out"

# 2. One copy of the documentation: no Markdown page beside it.
left=$(cd "$top" && find docs doc -name '*.md' 2>/dev/null)
[ -z "$left" ]
result $? "no Markdown page is left under docs/ or doc/" "$left"

# 2b. Configuration examples load as written: the INI parser keeps a '#'
# after a value as part of the value (only ';' starts an inline comment).
inline=$(cd "$top" && grep -nE '^[[:space:]]*[a-z_]+[[:space:]]*=[^#]*[[:space:]]#' \
	$(find doc/source -name '*.rst') docs/man/*.[0-9])
[ -z "$inline" ]
result $? "no configuration example puts a '#' comment after a value" "$inline"

reason=
for tool in sphinx-build doxygen python3; do
	command -v "$tool" >/dev/null || reason="${reason:+$reason, }$tool is not installed"
done
if [ -n "$reason" ]; then
	skip "make docs builds with sphinx-build -W, without network" "$reason"
	skip "the main pages are built" "$reason"
	skip "the API reference and the uapi page have the headers' entries and comments" "$reason"
	exit 0
fi

# 3. The build, as 'make docs' runs it, into the scratch directory. A make
# of our own: not the jobserver of a make that runs this test.
log=$scratch/docs.log
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
	HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 no_proxy= \
	make -C "$top" docs BUILD="$scratch/build" >"$log" 2>&1
status=$?
missing=$(sed -n 's/.*Could not import extension \([^ ]*\).*/\1/p' "$log" | head -n 1)
if [ "$status" != 0 ] && [ -n "$missing" ]; then
	reason="the Sphinx extension $missing is not installed"
	skip "make docs builds with sphinx-build -W, without network" "$reason"
	skip "the main pages are built" "$reason"
	skip "the API reference and the uapi page have the headers' entries and comments" "$reason"
	exit 0
fi
if [ "$status" = 0 ] && grep -q -e 'WARNING' -e 'intersphinx' "$log"; then
	status=1
fi
result $status "make docs builds with sphinx-build -W, without network" \
	"$(grep -e WARNING -e ERROR -e Error -e error "$log" | head -n 20; tail -n 5 "$log")"

# 4. The pages of cinderlib's structure.
html=$scratch/build/docs/html
missing=
for p in index installation usage \
	topics/initialization topics/backends topics/volumes topics/snapshots \
	topics/connections topics/serialization topics/tracking topics/metadata \
	drivers/index drivers/file drivers/lvm drivers/rbd \
	kernel/index kernel/module kernel/uapi \
	reference/index reference/api/index reference/api/cinderlib \
	contributor/index contributor/architecture; do
	[ -s "$html/$p.html" ] || missing="$missing $p.html"
done
[ -z "$missing" ]
result $? "the main pages are built" "missing:$missing"

# 5. The API reference is made from the headers (docs_api_test.sh checks
# every function): a function, a struct and a header comment of each kind.
ref=$html/reference/api
[ -s "$ref/cinderlib.html" ] && [ -s "$ref/kernel.html" ] && [ -s "$html/kernel/uapi.html" ] &&
	grep -q 'id="c.cl_volume_create"' "$ref/cinderlib.html" &&
	grep -q 'id="c.cl_setup_options"' "$ref/cinderlib.html" &&
	grep -q 'id="c.cl_kernel_dev_add"' "$ref/kernel.html" &&
	grep -q 'Every function that can fail returns 0 or a negative errno' "$ref/cinderlib.html" &&
	grep -q 'Errors, the same from netlink and ioctl' "$html/kernel/uapi.html"
result $? "the API reference and the uapi page have the headers' entries and comments"
