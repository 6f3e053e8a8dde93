#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Static checks of the kernel side, as a maintainer would run them before
# merging: checkpatch --strict, a W=1 build without warnings, and sparse.
# The build runs in a scratch copy so that the tree's objects stay as built.
set -uo pipefail

# scripts/run-tests says where the project is; else it is the cwd.
top=${CINDERLIB_TOP:-$PWD}
build=${BUILD:-$top/build}
kdir=${KDIR:-$("$top/scripts/find-kdir")}
checkpatch=$build/kselftest/checkpatch.pl

echo "TAP version 13"
echo "1..3"

# Generated files (*.mod.c) are kbuild's, not ours.
sources=$(cd "$top" && ls kernel/*.c kernel/*.h 2>/dev/null | grep -v '\.mod\.c$')
out=$(cd "$top" && perl "$checkpatch" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,LINUX_VERSION_CODE -f $sources 2>&1)
# An out-of-tree module keeps its compatibility guards in one header
# (LINUX_VERSION_CODE), and a uapi header cannot use BIT().
uapi_out=$(cd "$top" && perl "$checkpatch" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,BIT_MACRO -f uapi/linux/cinderblk.h 2>&1)
out=$(printf '%s\n%s\n' "$out" "$uapi_out")
if echo "$out" | grep -Eq ': (ERROR|WARNING|CHECK):'; then
	echo "$out" | sed 's/^/# /'
	echo "not ok 1 - checkpatch --strict is clean on kernel/ and uapi/"
else
	echo "ok 1 - checkpatch --strict is clean on kernel/ and uapi/"
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$top/kernel" "$top/uapi" "$top/Kbuild" "$scratch/"
(cd "$scratch" && find . -name '*.o' -o -name '*.ko' -o -name '.*.cmd' | xargs rm -f)
log=$scratch/build.log
if make -C "$kdir" M="$scratch" W=1 modules >"$log" 2>&1; then
	if grep -E 'warning:|error:' "$log" >/dev/null; then
		grep -E 'warning:|error:' "$log" | sed 's/^/# /'
		echo "not ok 2 - the module builds with W=1 without warnings"
	else
		echo "ok 2 - the module builds with W=1 without warnings"
	fi
else
	sed 's/^/# /' "$log" | tail -n 30
	echo "not ok 2 - the module builds with W=1 without warnings"
fi

if ! command -v sparse >/dev/null; then
	echo "ok 3 - sparse reports nothing # SKIP sparse is not installed"
	exit 0
fi
(cd "$scratch" && find . -name '*.o' -o -name '*.ko' | xargs rm -f)
if make -C "$kdir" M="$scratch" C=2 modules >"$log" 2>&1; then
	# Only reports about our own files count, not the kernel's headers.
	reports=$(grep -E "^$scratch/(kernel|uapi)/.*(warning|error):" "$log")
	if [ -n "$reports" ]; then
		echo "$reports" | sed "s|$scratch/||; s/^/# /"
		echo "not ok 3 - sparse reports nothing"
	else
		echo "ok 3 - sparse reports nothing"
	fi
else
	sed 's/^/# /' "$log" | tail -n 30
	echo "not ok 3 - sparse reports nothing"
fi
