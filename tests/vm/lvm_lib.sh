# SPDX-License-Identifier: GPL-2.0
#
# What the LVM tests in the VM share (sourced after tests/cli/tap.sh, not a
# test itself): lvm without udev, one report read many times, and volume
# groups on loop devices over sparse files in a private tmpfs.
#   lvm_start PREFIX     $T (a new directory), $CONF in it, cleanup at exit
#   lvm_pv_tmpfs SIZE    the modules loaded, a tmpfs of SIZE at $T/pv
#   lvm_loop SIZE        a sparse file there behind a new loop device,
#                        appended to LOOPS
#   lvmc ARGS            lvm without udev
#   lvs_read             one JSON report of the LVs of $VG into $LVS
#   lv_field LV FIELD, lv_exists LV, lv_names, same_gib A B
# Cleanup removes every cbd device, the VGs named in LVM_VGS, the loop
# devices and the tmpfs.

NOUDEV='activation { udev_sync=0 udev_rules=0 } devices { obtain_device_list_from_udev=0 }'
LOOPS=()
LVM_VGS=()
out= err= rc=0

lvm_cleanup() {
	local d l

	for d in $("$CINDERCTL" device list --json 2>/dev/null | jq -r '.[].index' 2>/dev/null); do
		"$CINDERCTL" device remove --force "$d" >/dev/null 2>&1
	done
	[ ${#LVM_VGS[@]} = 0 ] ||
		vgremove -ff "${LVM_VGS[@]}" --config "$NOUDEV" >/dev/null 2>&1 </dev/null
	for l in "${LOOPS[@]}"; do
		losetup -d "$l" 2>/dev/null
	done
	umount "$T/pv" 2>/dev/null
	rm -rf "$T"
}

lvm_start() {
	T=$(mktemp -d "/tmp/$1.XXXXXX")
	CONF=$T/cinderlib.conf
	trap lvm_cleanup EXIT
}

lvm_pv_tmpfs() {
	modprobe loop 2>/dev/null
	modprobe dm-snapshot 2>/dev/null
	modprobe dm-thin-pool 2>/dev/null
	mkdir -p "$T/pv"
	mount -t tmpfs -o size="$1" tmpfs "$T/pv"
}

lvm_loop() {
	local file=$T/pv/disk${#LOOPS[@]}

	truncate -s "$1" "$file" && LOOPS+=("$(losetup --show -f "$file")")
}

lvmc() {
	lvm "$@" --config "$NOUDEV" </dev/null
}

# lvm calls are slow under emulation: read once, then query.
LVS=
lvs_read() {
	LVS=$(lvm lvs --reportformat json --units b --nosuffix \
		-o lv_name,segtype,lv_size,origin,pool_lv,lv_attr "$VG" \
		2>/dev/null </dev/null)
}

# lv_field LV FIELD: one field of LV in the last report ("" if none).
lv_field() {
	jq -r --arg n "$1" ".report[0].lv[] | select(.lv_name == \$n) | .$2" <<<"$LVS"
}

lv_exists() {
	test -n "$(lv_field "$1" lv_name)"
}

lv_names() {
	jq -r '.report[0].lv[].lv_name' <<<"$LVS" | sort
}

# Floats equal to 0.001 GiB.
same_gib() {
	awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d < 0.001 && d > -0.001) }'
}
