#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The release notes (reno): every note under releasenotes/notes/ is named as
# 'reno new' names it, is YAML with only reno's sections, each a non-empty
# list of non-empty strings (the prelude one string), 'reno lint' accepts
# them, and the release notes build with 'sphinx-build -W' (the command of
# 'tox -e releasenotes').
#
# reno reads notes from git history, not from the directory: the build runs
# in a scratch clone of this checkout with the working tree's releasenotes/
# committed there, so that uncommitted notes are checked too. Outside a git
# checkout (a tarball), 'reno lint' and the build are skipped.
set -uo pipefail

top=${CINDERLIB_TOP:-$PWD}
notes=$top/releasenotes/notes
n=0

echo "TAP version 13"
echo "1..4"

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

# 1. Names: <slug>-<16 hex digits>.yaml, nothing else in the directory.
files=$(cd "$notes" 2>/dev/null && ls -A)
bad=$(echo "$files" | grep -Ev '^[a-z0-9][a-z0-9-]*-[0-9a-f]{16}\.yaml$')
[ -n "$files" ] && [ -z "$bad" ]
result $? "releasenotes/notes/ holds notes named <slug>-<16 hex>.yaml ($(echo "$files" | grep -c .) notes)" \
	"${bad:-no notes at all}"

# 2. Content, checked with PyYAML (reno's own parser).
python=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import yaml' 2>/dev/null; then
		python=$p
		break
	fi
done
if [ -z "$python" ]; then
	skip "every note is YAML with reno's sections only, each non-empty" \
		"no python3 with PyYAML"
else
	out=$("$python" - "$notes" <<'EOF' 2>&1
import os
import sys

import yaml

# reno's default sections (reno.config); this project configures no others.
PRELUDE = 'prelude'
SECTIONS = ('features', 'issues', 'upgrade', 'deprecations', 'critical',
            'security', 'fixes', 'other')

errors = []
notesdir = sys.argv[1]
for name in sorted(os.listdir(notesdir)):
    if not name.endswith('.yaml'):
        continue
    path = os.path.join(notesdir, name)
    try:
        with open(path, encoding='utf-8') as f:
            doc = yaml.safe_load(f)
    except (OSError, UnicodeError, yaml.YAMLError) as e:
        errors.append('%s: not valid YAML: %s' % (name, e))
        continue
    if not isinstance(doc, dict) or not doc:
        errors.append('%s: not a mapping of sections' % name)
        continue
    for section, content in doc.items():
        if section == PRELUDE:
            if not isinstance(content, str) or not content.strip():
                errors.append('%s: prelude is not a non-empty string' % name)
        elif section not in SECTIONS:
            errors.append('%s: unknown section %r (reno knows %s)' %
                          (name, section, ', '.join((PRELUDE,) + SECTIONS)))
        elif not isinstance(content, list) or not content:
            errors.append('%s: %s is not a non-empty list' % (name, section))
        else:
            for item in content:
                if not isinstance(item, str) or not item.strip():
                    errors.append('%s: %s has an item that is not a '
                                  'non-empty string: %r' %
                                  (name, section, item))
print('\n'.join(errors))
sys.exit(1 if errors else 0)
EOF
)
	result $? "every note is YAML with reno's sections only, each non-empty" "$out"
fi

# 3 and 4 need git: a scratch clone with the working tree's notes committed.
git_top=$(git -C "$top" rev-parse --show-toplevel 2>/dev/null)
reason=
if ! command -v git >/dev/null; then
	reason="git is not installed"
elif [ -z "$git_top" ] || [ "$(cd "$git_top" && pwd -P)" != "$(cd "$top" && pwd -P)" ]; then
	reason="not a git checkout (reno reads the notes from git history)"
elif ! command -v reno >/dev/null; then
	reason="reno (python3-reno) is not installed"
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ -z "$reason" ]; then
	repo=$scratch/repo
	if ! out=$(git clone -q --shared "$top" "$repo" 2>&1 &&
		cd "$repo" && rm -rf releasenotes && mkdir releasenotes &&
		for f in notes source config.yaml; do
			if [ -e "$top/releasenotes/$f" ]; then
				cp -r "$top/releasenotes/$f" releasenotes/ || exit
			fi
		done &&
		rm -rf releasenotes/build && git add -A releasenotes &&
		git -c user.name=releasenotes-test -c user.email=test@invalid \
			-c commit.gpgsign=false commit -q --no-verify --allow-empty \
			-m "release notes under test" 2>&1); then
		reason="cannot make a scratch clone: $(echo "$out" | head -n 1)"
	fi
fi

if [ -n "$reason" ]; then
	skip "reno lint accepts the notes" "$reason"
else
	out=$(cd "$repo" && reno -q lint 2>&1)
	status=$?
	# reno lint fails on unknown sections and UID collisions only; it
	# logs other problems (a section that is not a list of strings).
	if [ "$status" = 0 ] && echo "$out" | grep -qiE 'warning|does not parse|instead of a string'; then
		status=1
	fi
	result $status "reno lint accepts the notes" "$(echo "$out" | tail -n 20)"
fi

if [ -z "$reason" ] && ! command -v sphinx-build >/dev/null; then
	reason="sphinx-build (python3-sphinx) is not installed"
fi
if [ -n "$reason" ]; then
	skip "the release notes build with sphinx-build -W" "$reason"
	exit 0
fi
log=$scratch/build.log
want=$(echo "$files" | grep -c '\.yaml$')
(cd "$repo" && sphinx-build -a -E -W -d "$scratch/doctrees" -b html \
	releasenotes/source "$scratch/html") >"$log" 2>&1
status=$?
missing=$(sed -n 's/.*Could not import extension \([^ ]*\).*/\1/p' "$log" | head -n 1)
if [ "$status" != 0 ] && [ -n "$missing" ]; then
	skip "the release notes build with sphinx-build -W" \
		"the Sphinx extension $missing is not installed"
	exit 0
fi
if [ "$status" = 0 ]; then
	# Every note is in the release notes, not only a successful build:
	# 'reno report' (the same scanner as the Sphinx extension) names the
	# source of each item.
	got=$(cd "$repo" && reno -q report 2>>"$log" |
		sed -n 's|^\.\. releasenotes/notes/\([^ ]*\.yaml\) @ .*|\1|p' | sort -u | grep -c .)
	if [ "$got" != "$want" ]; then
		status=1
		echo "reno included $got of $want notes" >>"$log"
	fi
fi
result $status "the release notes build with sphinx-build -W, with every note ($want)" \
	"$(grep -Ev '^[0-9a-f]{16}: adding ' "$log" | tail -n 15)"
