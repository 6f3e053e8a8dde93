#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Bash completion of cinderctl (userspace/bash-completion/cinderctl), run in
# a non-interactive bash with bash-completion loaded and $BUILD/bin first in
# PATH: commands, actions and options come from cinderctl's help, file names
# after the options that take a file, and nothing (and no noise) when
# cinderctl is missing or fails. Needs no configuration or state.
# The checks are eval'd strings that expand their variables when they run:
# shellcheck disable=SC2016,SC2034
set -u
. "${CINDERLIB_TOP:-.}/tests/cli/tap.sh"

BASH_COMPLETION=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
COMPLETION=${CINDERLIB_TOP:-.}/userspace/bash-completion/cinderctl

if [ ! -r "$BASH_COMPLETION" ]; then
	echo "1..0 # SKIP $BASH_COMPLETION not found (bash-completion not installed)"
	exit 0
fi

plan 31
mkstate

CPATH=$BUILD/bin:$PATH

# comp [-u] WORD...: complete the last WORD of "cinderctl WORD..." (the
# cursor at the end; "" for a new word) as bash does, in a new
# non-interactive bash (with set -u for -u) whose PATH is $CPATH. Like
# bash, give "--opt=value" as the three words --opt = value. The
# candidates, sorted, one a line, in $out; stderr in $err, status in $rc.
# Stderr of every call also goes to $T/all-stderr.
comp() {
	local nounset=+u

	if [ "$1" = -u ]; then
		nounset=-u
		shift
	fi
	PATH=$CPATH "$BASH" --norc --noprofile -c '
		. "$1" || exit 90
		set '"$nounset"'
		. "$2" || exit 91
		shift 2
		COMP_WORDS=(cinderctl "$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=cinderctl
		prev=
		for w in "$@"; do
			if [ "$w" = = ] || [ "$prev" = = ]; then
				COMP_LINE+=$w
			else
				COMP_LINE+=" $w"
			fi
			prev=$w
		done
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_cinderctl cinderctl "${COMP_WORDS[COMP_CWORD]}" \
			"${COMP_WORDS[COMP_CWORD - 1]}" || exit 92
		if [ "${#COMPREPLY[@]}" -gt 0 ]; then
			printf "%s\n" "${COMPREPLY[@]}"
		fi
	' bash_completion_test "$BASH_COMPLETION" "$COMPLETION" "$@" \
		>"$T/.comp" 2>"$T/.stderr"
	rc=$?
	out=$(sort "$T/.comp")
	err=$(cat "$T/.stderr")
	cat "$T/.stderr" >>"$T/all-stderr"
}

# is LIST...: $out is exactly these lines (in any order), and rc is 0.
is() {
	[ "$rc" = 0 ] && [ "$out" = "$(printf '%s\n' "$@" | sort)" ]
}

# has WORD...: $out has each WORD as a line.
has() {
	local w

	for w in "$@"; do
		grep -qxF -- "$w" <<<"$out" || return 1
	done
}

# section TEXT HEADER: the first words of the entries of a help section.
section() {
	sed -n "/^$2\$/,/^\$/p" <<<"$1" | awk '/^  [a-z]/ { print $1 }' | sort -u
}

# --- commands and actions ---------------------------------------------------------
top_help=$("$CINDERCTL" --help)
commands=$(section "$top_help" "Commands:")
comp ""
ok "no prefix: exactly the commands of cinderctl --help" \
	eval 'test "$rc" = 0 && test -n "$commands" && test "$out" = "$commands"'
comp -u ""
ok "the same with set -u" eval 'test "$rc" = 0 && test "$out" = "$commands" && test -z "$err"'
comp vo
ok "vo: volume" is volume
comp volume c
ok "volume c: clone, connect, create" is clone connect create
comp --json volume li
ok "--json volume li: list (global options are not words)" is list
volume_actions=$(section "$("$CINDERCTL" volume --help)" "Actions:")
comp -c /x.conf volume ""
ok "-c /x.conf volume: the actions of cinderctl volume --help" \
	eval 'test "$rc" = 0 && test "$out" = "$volume_actions" && has create set-metadata'
comp --config=/x.conf -v volume ""
ok "--config=FILE -v volume: the same actions" eval 'test "$rc" = 0 && test "$out" = "$volume_actions"'
comp volume --json l
ok "volume --json l: list" is list
comp device a
ok "device a: add (from the Subcommands: section)" is add
device_actions=$(section "$("$CINDERCTL" device --help)" "Subcommands:")
comp device ""
ok "device: each subcommand once" \
	eval 'test "$rc" = 0 && test "$out" = "$device_actions" && has add remove resize'
comp frobnicate ""
ok "an unknown command: nothing" is
comp volume frobnicate --
ok "an unknown action: nothing" is

# --- options -----------------------------------------------------------------------
comp -
ok "- before the command: the global options" \
	eval 'test "$rc" = 0 && has -c --config --json -v --verbose -h --help -V --version'
create_help=$("$CINDERCTL" volume create --help)
create_opts=$(grep -oE -- '^ +(-[[:alnum:]], +)?--[[:alnum:]][[:alnum:]-]*' <<<"$create_help" |
	grep -oE -- '--[[:alnum:]-]+' | sort -u)
comp volume create --
ok "volume create --: every option of its help" \
	eval 'test "$rc" = 0 && test -n "$create_opts" && has $create_opts && has --backend --name'
ok "volume create --: only long options, not the global ones" \
	eval '! grep -v -- "^--" <<<"$out" && ! has --config --version'
comp -u volume create --b
ok "volume create --b (set -u): --backend, --bootable" \
	eval 'is --backend --bootable && test -z "$err"'
comp device resize cbd0 --
ok "device resize --: the options of its usage lines" eval 'test "$rc" = 0 && has --size --to-file --help'
comp dump --c
ok "dump --c: --compact" is --compact

# --- file names ----------------------------------------------------------------------
mkdir "$T/files"
: >"$T/files/my-cinderlib.conf"
: >"$T/files/other"
comp --config "$T/files/my-c"
ok "--config FILE: file names" is "$T/files/my-cinderlib.conf"
comp -u -c "$T/files/my-c"
ok "-c FILE (set -u): file names" eval 'is "$T/files/my-cinderlib.conf" && test -z "$err"'
comp --config = "$T/files/my-c"
ok "--config=FILE: file names" is "$T/files/my-cinderlib.conf"
comp device add --file "$T/files/o"
ok "device add --file: file names" is "$T/files/other"
comp dump -o "$T/files/o"
ok "dump -o: file names" is "$T/files/other"
comp connection attach --connection-info "$T/files/o"
ok "connection attach --connection-info: file names" is "$T/files/other"
comp device resize cbd0 --to-file = "$T/files/o"
ok "device resize --to-file=PATH: file names" is "$T/files/other"
comp load "$T/files/o"
ok "load FILE: file names" is "$T/files/other"
comp device add -c "$T/files/o"
ok "device add -c (--connections): no file names" is

# --- which cinderctl, and when there is none -----------------------------------------------
nopath=
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
	[ -x "$d/cinderctl" ] || nopath=${nopath:+$nopath:}$d
done
CPATH=$nopath
comp vo
ok "cinderctl not in PATH: nothing, exit 0, silent" eval 'is && test -z "$err"'

mkdir "$T/fake"
cat >"$T/fake/cinderctl" <<'FAKE'
#!/bin/sh
if [ "$*" = "--help" ]; then
	printf 'Usage: cinderctl COMMAND\n\nCommands:\n  volcano  a fake command\n\n'
	exit 0
fi
echo "fake cinderctl: failing" >&2
exit 1
FAKE
chmod +x "$T/fake/cinderctl"
CPATH=$T/fake:$BUILD/bin:$PATH
comp vo
ok "the cinderctl first in PATH is asked" is volcano
comp volcano ""
ok "a failing cinderctl: nothing, exit 0, silent" eval 'is && test -z "$err"'

ok "no completion wrote to stderr" eval '! test -s "$T/all-stderr"'

tap_done
