#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The documentation's examples are real: every doc/source/examples/*.c
# compiles against the build tree without warnings and runs with a private
# state directory (local_attach only where the cinderblk module is loaded
# and we are root), every example is shown by a page, and every cinderctl
# command line in the pages' shell code blocks (reStructuredText
# code-block directives of sh, console, shell or bash) names an existing
# command with options that its --help lists.
set -u
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$top/build}"
CINDERCTL=$BUILD/bin/cinderctl
docs=$top/doc/source
examples=$docs/examples

echo "1..12"
n=0
failed=0
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		[ -n "${3:-}" ] && head -n 20 "$3" | sed 's/^/#   /'
	fi
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

T=$(mktemp -d "${TMPDIR:-/tmp}/docs-examples.XXXXXX")
trap 'rm -rf "$T"' EXIT
export CINDERLIB_STATE_DIR=$T/state

# --- compile ---------------------------------------------------------------
for ex in first_program shared_store serialization local_attach; do
	cc -std=c11 -Wall -Wextra -Werror -I"$top/userspace/include" \
		-o "$T/$ex" "$examples/$ex.c" \
		-L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lcinderlib >"$T/cc.log" 2>&1
	result $? "$ex.c compiles against libcinderlib" "$T/cc.log"
done

# --- first_program: memory store, file backend in a directory ---------------
mkdir -p "$T/first"
"$T/first_program" "$T/first" >"$T/out" 2>&1
rc=$?
grep -q '^refused: volume .* has 1 snapshot(s)' "$T/out" &&
	grep -Eq '^volume [0-9a-f-]{36}: deleted$' "$T/out" &&
	[ "$(grep -c '  available$' "$T/out")" = 2 ]
result $((rc | $?)) "first_program: create, snapshot, restore, refused delete, delete" "$T/out"
left=$(find "$T/first" -name 'volume-*' -o -name 'snapshot-*' | wc -l)
result $([ "$left" = 0 ]; echo $?) "first_program leaves no volume or snapshot file ($left)"

# --- shared_store: cinderctl sees what the program made ---------------------
"$T/shared_store" docs-vol >"$T/out" 2>&1
rc=$?
id=$(sed -n 's/^example\/last-volume = //p' "$T/out")
meta=$("$CINDERCTL" --json volume show docs-vol 2>&1 | python3 -c \
	'import json,sys; v=json.load(sys.stdin); print(v["id"], v["size"], sorted(v["metadata"].items()))' 2>&1)
[ "$rc" = 0 ] && [ "$meta" = "$id 2 [('owner', 'example'), ('stage', 'created')]" ]
result $? "shared_store: cinderctl shows the volume with its size and metadata" "$T/out"
kv=$("$CINDERCTL" keyvalue get example/last-volume 2>&1)
result $([ -n "$id" ] && [ "$kv" = "$id" ]; echo $?) "shared_store: cinderctl reads the key/value"

# --- serialization: dump, load into memory, JSON round trip -----------------
"$CINDERCTL" snapshot create docs-vol --name docs-snap >/dev/null 2>&1
"$T/serialization" >"$T/out" 2>&1
rc=$?
grep -q '^loaded 1 volumes, 1 snapshots, 0 connections, 1 keys$' "$T/out" &&
	grep -q "\"id\": \"$id\"" "$T/out"
result $((rc | $?)) "serialization: the dump loads into a memory store and round-trips" "$T/out"

# --- local_attach: only with the module, as root -----------------------------
if [ "$(id -u)" != 0 ] || [ ! -d /sys/module/cinderblk ]; then
	skip "local_attach: attach, live extend, snapshot while attached, ro restore" \
		"needs root and the cinderblk module (run in the test VM)"
else
	"$T/local_attach" >"$T/out" 2>&1
	rc=$?
	grep -q 'extended: /dev/cbd[0-9]* is 2147483648 bytes' "$T/out" &&
		grep -q 'restored volume reads: "written before the snapshot"' "$T/out"
	result $((rc | $?)) "local_attach: attach, live extend, snapshot while attached, ro restore" "$T/out"
fi

# --- the pages ----------------------------------------------------------------
mapfile -t pages < <(find "$docs" -name '*.rst' | sort)
missing=0
for f in "$examples"/*.c; do
	if ! grep -q "examples/$(basename "$f")" "${pages[@]}" 2>/dev/null; then
		echo "#   $(basename "$f") is not shown by any page"
		missing=$((missing + 1))
	fi
done
result $missing "every example is shown by a page"

# Every "cinderctl ..." of a shell block: the command exists, its options
# are in its --help.
python3 - "$CINDERCTL" "${pages[@]}" >"$T/cmds.log" 2>&1 <<'EOF'
import re, shlex, subprocess, sys

cinderctl, pages = sys.argv[1], sys.argv[2:]
GLOBAL = {"--json", "--verbose", "-v"}
GLOBAL_ARG = {"--config", "-c"}
helps, bad, seen = {}, 0, 0

def help_of(words):
    key = " ".join(words)
    if key not in helps:
        p = subprocess.run([cinderctl] + words + ["--help"],
                           capture_output=True, text=True)
        helps[key] = p.stdout if p.returncode == 0 else None
    return helps[key]

SHELL = ("sh", "console", "shell", "bash")
DIRECTIVE = re.compile(r"^(\s*)\.\. (?:code-block|code|sourcecode)::\s*(\S*)\s*$")

def shell_lines(page):
    """(line number, line) of every line inside a shell code block."""
    block = None            # indentation of the directive, when in a shell block
    for lineno, line in enumerate(open(page, encoding="utf-8"), 1):
        m = DIRECTIVE.match(line)
        if m:
            block = len(m.group(1)) if m.group(2) in SHELL else None
            continue
        if block is None or not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= block:
            block = None    # the text after the block
            continue
        if line.lstrip().startswith(":"):
            continue        # an option of the directive (:caption: ...)
        yield lineno, line

for page in pages:
    for lineno, line in shell_lines(page):
        for m in re.finditer(r"\bcinderctl\s+([^|;&)>`#]*)", line):
            try:
                words = shlex.split(m.group(1))
            except ValueError:
                words = m.group(1).split()
            args, i = [], 0
            while i < len(words):
                if words[i] in GLOBAL:
                    i += 1
                elif words[i] in GLOBAL_ARG:
                    i += 2
                else:
                    args.append(words[i])
                    i += 1
            if not args or args[0].startswith("-"):
                continue
            seen += 1
            cmd = args[:1] if args[0] in ("dump", "load", "drivers") else args[:2]
            text = help_of(cmd)
            where = "%s:%d: cinderctl %s" % (page.split("/doc/source/")[-1],
                                            lineno, m.group(1).strip())
            if text is None:
                print("no such command:", where)
                bad += 1
                continue
            for w in args[len(cmd):]:
                if w.startswith("-") and w != "-":
                    opt = w.split("=")[0]
                    if opt not in ("--json", "--help") and \
                            not re.search(r"(^|[\s,\[|])%s\b" % re.escape(opt), text):
                        print("unknown option %s: %s" % (opt, where))
                        bad += 1
print("checked %d command lines" % seen)
sys.exit(1 if bad or seen < 20 else 0)
EOF
result $? "every cinderctl command line of the pages exists with its options ($(tail -n 1 "$T/cmds.log"))" "$T/cmds.log"

[ "$failed" = 0 ]
