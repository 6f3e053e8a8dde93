#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# 'make install' and 'make uninstall' into a DESTDIR, with Debian's layout
# (PREFIX=/usr, a multiarch LIBDIR): exactly the files scripts/install-tree
# lists are installed; the installed cinderctl runs with the installed
# library and finds the installed drivers; a program builds from the
# pkg-config file and runs; units name the installed cinderctl; the
# manuals render without warnings; uninstall leaves no file behind.
set -u
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$top/build}"
export BUILD

. "$top/tests/cli/tap.sh"
plan 12

T=$(mktemp -d "${TMPDIR:-/tmp}/install.XXXXXX")
trap 'rm -rf "$T"' EXIT
D=$T/dest
libdir=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
layout=(DESTDIR="$D" PREFIX=/usr LIBDIR="$libdir")
version=$(cat "$top/VERSION")

make -s -C "$top" install-userspace "${layout[@]}" >"$T/log" 2>&1
result $? "make install-userspace DESTDIR=... PREFIX=/usr LIBDIR=$libdir" "$T/log"

(cd "$D" && find . ! -type d | sed 's/^\.//' | sort) >"$T/found"
env "${layout[@]}" "$top/scripts/install-tree" list | sort >"$T/listed"
diff "$T/listed" "$T/found" >"$T/diff"
result $? "the installed files are exactly install-tree's list ($(wc -l <"$T/found") files)" "$T/diff"

for f in /usr/bin/cinderctl "$libdir/libcinderlib.so.$version" \
	"$libdir/pkgconfig/cinderlib.pc" /usr/include/cinderlib/cinderlib.h \
	"$libdir/cinderlib/drivers/file.so" "$libdir/cinderlib/drivers/lvm.so" \
	"$libdir/cinderlib/persistence/postgresql.so" \
	/lib/udev/rules.d/60-cinderblk.rules /usr/lib/modules-load.d/cinderblk.conf \
	/etc/modprobe.d/cinderblk.conf /lib/systemd/system/cinderlib-daemon.service \
	/usr/share/man/man8/cinderctl.8 /usr/share/man/man3/libcinderlib.3 \
	/usr/share/man/man5/cinderlib.conf.5 \
	/usr/share/bash-completion/completions/cinderctl; do
	[ -f "$D$f" ] || echo "missing: $f"
done >"$T/missing"
[ "$(readlink "$D$libdir/libcinderlib.so")" = libcinderlib.so.0 ] &&
	[ "$(readlink "$D$libdir/libcinderlib.so.0")" = "libcinderlib.so.$version" ] ||
	echo "bad library links" >>"$T/missing"
[ ! -s "$T/missing" ]
result $? "library, links, headers, pkg-config, plugins, udev, modprobe, units, manuals, completion" "$T/missing"

readelf -d "$D/usr/bin/cinderctl" >"$T/dyn"
grep -q 'NEEDED.*\[libcinderlib.so.0\]' "$T/dyn" && ! grep -Eq 'RPATH|RUNPATH' "$T/dyn"
result $? "the installed cinderctl needs libcinderlib.so.0 and has no run path" "$T/dyn"

# The installed command with the installed library (as the loader's cache
# would find it) and its plugins: a driver taken away is gone from it.
export LD_LIBRARY_PATH=$D$libdir
out=$("$D/usr/bin/cinderctl" --version 2>&1)
[ "$out" = "cinderctl $version" ]
result $? "installed cinderctl --version: $out"
"$D/usr/bin/cinderctl" --json drivers >"$T/drivers" 2>&1
jq -e 'map(.name) | index("file") and index("lvm")' "$T/drivers" >/dev/null
r1=$?
rm "$D$libdir/cinderlib/drivers/lvm.so"
"$D/usr/bin/cinderctl" --json drivers >"$T/drivers2" 2>&1
jq -e 'map(.name) | index("file") and (index("lvm") | not)' "$T/drivers2" >/dev/null
result $((r1 | $?)) "installed cinderctl loads the drivers installed beside its library" "$T/drivers2"

mkdir -p "$T/state" "$T/vols"
export CINDERLIB_STATE_DIR=$T/state
export PKG_CONFIG_PATH=$D$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
[ "$(pkg-config --modversion cinderlib)" = "$version" ] &&
	cc -std=c11 -Wall -Werror -o "$T/first_program" \
		"$top/doc/source/examples/first_program.c" \
		$(pkg-config --cflags --libs cinderlib) >"$T/cc" 2>&1 &&
	"$T/first_program" "$T/vols" >"$T/cc" 2>&1 &&
	grep -Eq '^volume [0-9a-f-]{36}: deleted$' "$T/cc"
result $? "a program builds with pkg-config cinderlib and runs on the installed library" "$T/cc"
unset LD_LIBRARY_PATH PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

grep -h '^ExecStart=' "$D"/lib/systemd/system/*.service >"$T/units"
[ "$(grep -c '^ExecStart=/usr/bin/cinderctl ' "$T/units")" = 2 ] && ! grep -q @ "$T/units"
result $? "the units run /usr/bin/cinderctl" "$T/units"
: >"$T/man"
for m in "$D"/usr/share/man/man*/*; do
	LC_ALL=C.UTF-8 groff -man -ww -z "$m" >>"$T/man" 2>&1
done
[ ! -s "$T/man" ]
result $? "the manuals render without warnings" "$T/man"

make -s -C "$top" install-userspace "${layout[@]}" >"$T/log" 2>&1
result $? "a second install over the first succeeds" "$T/log"

make -s -C "$top" uninstall-userspace "${layout[@]}" >"$T/log" 2>&1
result $? "make uninstall-userspace" "$T/log"
(cd "$D" && find . ! -type d) >"$T/left"
find "$D" -depth -type d -path '*cinderlib*' >>"$T/left"
[ ! -s "$T/left" ]
result $? "uninstall leaves no file (and none of our directories)" "$T/left"
