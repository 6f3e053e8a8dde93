#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Install the Debian packages that building and testing cinderlib needs.
# Idempotent: when everything is present it only asks dpkg and returns.
set -eu

packages="
	build-essential pkg-config
	linux-headers-amd64 linux-image-amd64 linux-source
	qemu-system-x86 busybox-static kmod cpio
	libnl-3-dev libnl-genl-3-dev libjson-c-dev libsqlite3-dev uuid-dev
	libinih-dev
	fio sparse e2fsprogs xfsprogs util-linux udev lvm2 nbdkit
	nbd-client qemu-utils libnbd-bin nbdkit-plugin-dev
	sqlite3 python3 jq iproute2
	ceph-mon ceph-mgr ceph-osd ceph-common librbd-dev librados-dev
	postgresql libpq-dev
"

missing=
for p in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	"install ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run this script as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
