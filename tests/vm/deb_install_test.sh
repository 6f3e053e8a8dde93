#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The Debian packages, installed as an administrator would on the booted
# kernel: dpkg installs them, DKMS builds cinderblk for this kernel and
# 'modprobe cinderblk' loads that build; a volume's life runs with the
# installed cinderctl (create, attach, write and read back, detach,
# delete); purging the packages leaves no file of theirs behind (the file
# lists of the directories they touched, before and after) and no DKMS
# state. The packages are those tests/packaging/deb_build_test.sh built.
# Runs as root in the test VM; prints TAP.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${CINDERLIB_TOP:-$(pwd)}
: "${BUILD:=$(cd "$here/../.." && pwd)}"
. "$top/tests/cli/tap.sh"

debs=$BUILD/deb
version=$(cat "$top/VERSION")
kver=$(uname -r)
pkgs="libcinderlib0 libcinderlib-dev cinderlib-tools cinderblk-dkms
cinderlib-driver-lvm cinderlib-driver-rbd cinderlib-store-postgresql"
T=$(mktemp -d /tmp/deb-install.XXXXXX)
MNT=/tmp/deb-install-ext4

cleanup() {
	/usr/bin/cinderctl device list --json 2>/dev/null | jq -r '.[].index' 2>/dev/null |
		while read -r d; do /usr/bin/cinderctl device remove --force "$d"; done >/dev/null 2>&1
	# shellcheck disable=SC2086 # a list of names
	dpkg --purge $pkgs >/dev/null 2>&1
	umount "$MNT" 2>/dev/null
	rm -rf "$T"
	# The harness unloads the module after each test: give it back its own.
	lsmod | grep -q '^cinderblk ' || insmod "$top/kernel/cinderblk.ko"
}
trap cleanup EXIT

plan 10

if ! ls "$debs"/*.deb >/dev/null 2>&1 || ! command -v dkms >/dev/null; then
	for i in $(seq 10); do
		skip "Debian packages" "no packages in $debs (deb_build_test makes them) or no dkms"
	done
	exit 0
fi

# The directories the packages put files in, as they are before.
dirs_of() {
	for f in "$debs"/*.deb; do dpkg-deb -c "$f"; done | grep -v /usr/lib/debug/ |
		awk '{ print $6 }' | sed 's|^\./|/|; s|/[^/]*$||' | sort -u |
		while read -r d; do [ -d "$d" ] && echo "$d"; done
}
snapshot() {
	# shellcheck disable=SC2046 # a list of directories
	# DKMS makes its own module signing key at its first build: dkms's.
	find $(cat "$T/dirs") /var/lib/dkms /usr/src -maxdepth 1 2>/dev/null |
		grep -v '^/var/lib/dkms/mok\.\(key\|pub\)$' | sort
}
dirs_of >"$T/dirs"
snapshot >"$T/before"

# check NAME: the result of the commands just run (0 or not) as a TAP line.
check() {
	tap_result $? "$1"
}

rmmod cinderblk 2>/dev/null
# shellcheck disable=SC2046 # a list of files
dpkg -i $(ls "$debs"/*.deb | grep -v -- -dbgsym_) >"$T/dpkg.log" 2>&1
out=$(tail -n 20 "$T/dpkg.log")
check "dpkg installs the packages"

out=$(dkms status cinderblk 2>&1)
grep -q "^cinderblk/$version, $kver, .*: installed" <<<"$out"
check "DKMS built and installed cinderblk $version for $kver"

out=$(modprobe cinderblk 2>&1; modinfo -n cinderblk 2>&1)
lsmod | grep -q '^cinderblk ' && grep -q "/updates/dkms/cinderblk.ko" <<<"$out"
check "modprobe cinderblk loads the DKMS build"

CINDERCTL=/usr/bin/cinderctl
out=$(ldd "$CINDERCTL" 2>&1)
grep -Eq "libcinderlib.so.0 => (/usr)?/lib/.*/libcinderlib.so.0" <<<"$out" &&
	[ "$("$CINDERCTL" --version)" = "cinderctl $version" ]
check "the installed cinderctl runs on the installed library"

# A volume's life on the installed file driver, in a state directory on
# ext4 (direct I/O, as users have it).
modprobe brd rd_nr=1 rd_size=262144 && mkfs.ext4 -q -F /dev/ram0 &&
	mkdir -p "$MNT" && mount /dev/ram0 "$MNT"
CONF=$T/cinderlib.conf
write_config "$CONF" "$MNT/state"
export CINDERLIB_STATE_DIR=$MNT/state
run cctl volume create 1 --name packaged
vol=$out
status_is 0 "installed cinderctl creates a volume on the installed file driver"
run cctl volume attach "$vol"
dev=$out
head -c 4M /dev/urandom >"$T/pattern"
[ "$rc" = 0 ] && [ -b "$dev" ] &&
	dd if="$T/pattern" of="$dev" bs=1M oflag=direct status=none &&
	cmp -n 4M "$T/pattern" "$dev"
check "the volume attaches as $dev; 4 MiB written read back the same"
run cctl volume detach "$vol"
[ "$rc" = 0 ] && ! "$CINDERCTL" --json device list |
	jq -e --arg v "$vol" '.[] | select(.volume_id == $v)' >/dev/null
check "detach removes the volume's device"
run cctl volume delete "$vol"
status_is 0 "the volume is deleted"
umount "$MNT"

rmmod cinderblk
# shellcheck disable=SC2086 # a list of names
dpkg --purge $pkgs >"$T/purge.log" 2>&1
out=$(tail -n 20 "$T/purge.log")
check "dpkg purges every package"

snapshot >"$T/after"
out=$(diff "$T/before" "$T/after"; dkms status cinderblk 2>&1;
	find /lib/modules -name 'cinderblk.ko*' -path '*dkms*')
diff -q "$T/before" "$T/after" >/dev/null && [ -z "$(dkms status cinderblk 2>/dev/null)" ] &&
	[ -z "$(find /lib/modules -name 'cinderblk.ko*' -path '*dkms*')" ]
check "purge leaves no file behind (file lists compared) and no DKMS build"
