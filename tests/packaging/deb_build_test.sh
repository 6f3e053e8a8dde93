#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The Debian packages: 'dpkg-buildpackage -us -uc -b' builds them from a
# copy of the source tree; their version is the project's; lintian finds
# no error (its warnings are listed); between them they hold exactly the
# files 'make install' installs, plus the module's DKMS source, each in
# one package; the library links Debian's shared libraries. The packages
# are left in $BUILD/deb for the VM test that installs them
# (tests/vm/deb_install_test.sh).
set -u
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$top/build}"

. "$top/tests/cli/tap.sh"
plan 7

version=$(cat "$top/VERSION")
out=$BUILD/deb
src=$out/src/cinderlib-$version
rm -rf "$out"
mkdir -p "$src"
T=$(mktemp -d "${TMPDIR:-/tmp}/deb-build.XXXXXX")
trap 'rm -rf "$T" "$out/src"' EXIT

# The tree as committed (or as it is, outside git), without build output.
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -xf - -C "$src"
else
	(cd "$top" && tar -cf - --exclude=./build --exclude=./.git .) | tar -xf - -C "$src"
fi
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1
result $? "dpkg-buildpackage -us -uc -b" "$T/build.log"
mv "$out"/src/*.deb "$out"/src/*.ddeb "$out"/src/*.changes "$out"/src/*.buildinfo \
	"$out"/ 2>/dev/null

pkgs="libcinderlib0 libcinderlib-dev cinderlib-tools cinderblk-dkms cinderlib-driver-lvm cinderlib-driver-rbd cinderlib-store-postgresql"
: >"$T/pkgs"
for p in $pkgs; do
	f=$(ls "$out/${p}_"*.deb 2>/dev/null)
	v=$(dpkg-deb -f "$f" Version 2>/dev/null)
	[ "$v" = "$version" ] || echo "$p: '${f:-no package}' version '$v'" >>"$T/pkgs"
done
chv=$(cd "$top" && dpkg-parsechangelog -S Version)
[ "$chv" = "$version" ] || echo "debian/changelog has $chv, VERSION $version" >>"$T/pkgs"
[ ! -s "$T/pkgs" ]
result $? "the seven packages are built, at version $version (VERSION and debian/changelog)" "$T/pkgs"

lintian --tag-display-limit 0 "$out"/*.changes >"$T/lintian" 2>&1
lintian_rc=$?
! grep -q '^E: ' "$T/lintian" && ! grep -q 'No packages selected' "$T/lintian" &&
	[ "$lintian_rc" = 0 ]
result $? "lintian: no errors (exit $lintian_rc)" "$T/lintian"
grep '^[WI]: ' "$T/lintian" | sed 's/^/# lintian /'

# Every installed file in exactly one package (debhelper adds the
# copyright and changelog, compresses the manuals; the DKMS source and the
# detached debug symbols are not make install's).
for f in "$out"/*.deb; do
	case $f in *-dbgsym_*) continue ;; esac
	dpkg-deb -c "$f" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\.||; s|\(/man/man.*\)\.gz$|\1|'
done | grep -v '^/usr/share/doc/\|^/usr/src/\|^/usr/lib/debug/' | sort >"$T/packaged"
libdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
PREFIX=/usr LIBDIR=$libdir "$top/scripts/install-tree" list | sort >"$T/listed"
diff "$T/listed" "$T/packaged" >"$T/diff"
result $? "the packages hold make install's files, each once" "$T/diff"

dpkg-deb -c "$out"/cinderblk-dkms_*.deb | awk '{ print $6 }' >"$T/dkms"
for f in dkms.conf Kbuild kernel/Kbuild kernel/device.c kernel/backing_nbd.c uapi/linux/cinderblk.h; do
	grep -q "^\./usr/src/cinderblk-$version/$f$" "$T/dkms" || echo "missing $f" >>"$T/dkms.missing"
done
dpkg-deb --fsys-tarfile "$out"/cinderblk-dkms_*.deb |
	tar -xOf - "./usr/src/cinderblk-$version/dkms.conf" >"$T/dkms.conf" 2>&1
grep -q "^PACKAGE_VERSION=\"$version\"" "$T/dkms.conf" || echo "dkms.conf: no version $version" >>"$T/dkms.missing"
[ ! -s "$T/dkms.missing" ]
result $? "cinderblk-dkms has the module's source and dkms.conf for $version" "$T/dkms.missing"

dpkg-deb -x "$out"/libcinderlib0_*.deb "$T/x"
readelf -d "$T/x$libdir/libcinderlib.so.$version" >"$T/dyn"
grep -q 'NEEDED.*libsqlite3.so' "$T/dyn" && grep -q 'NEEDED.*libjson-c.so' "$T/dyn" &&
	grep -q 'BIND_NOW' "$T/dyn"
result $? "the packaged library links sqlite and json-c shared, with Debian's hardening" "$T/dyn"

dpkg-deb -f "$out"/cinderlib-tools_*.deb Depends >"$T/deps"
grep -q "libcinderlib0 (= $version)" "$T/deps" && grep -q 'libjson-c5' "$T/deps"
result $? "cinderlib-tools depends on its library and on what it links" "$T/deps"
