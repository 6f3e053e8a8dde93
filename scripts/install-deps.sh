#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Install the Debian packages that building and testing cinderlib needs
# (bindep.txt lists them).
# Idempotent: when everything is present it only asks dpkg and returns.
set -eu

# bindep.txt is the one list: its lines for Debian (platform:dpkg) or for
# every platform, first word.
packages=$(sed -e 's/#.*//' "$(dirname "$0")/../bindep.txt" |
	awk 'NF && ($0 !~ /\[/ || $0 ~ /platform:dpkg/) { print $1 }')

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
