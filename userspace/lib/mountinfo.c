// SPDX-License-Identifier: Apache-2.0
/*
 * Is a block device mounted, and where: /proc/self/mountinfo matched by
 * device number against the disk and its partitions (names in mountinfo
 * are not reliable: /dev/root, by-id links, ...).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include "cl_internal.h"

#define MAX_DEVS 64

static bool read_dev(const char *path, dev_t *out)
{
	unsigned int maj, min;
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%u:%u", &maj, &min) == 2;
	fclose(f);
	if (ok)
		*out = makedev(maj, min);
	return ok;
}

/* The device numbers of @disk and its partitions (sysfs). */
static size_t disk_devs(const char *disk, dev_t *devs, size_t max)
{
	char path[512];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/block/%s/dev", disk);
	if (!read_dev(path, &devs[n]))
		return 0;
	n++;
	snprintf(path, sizeof(path), "/sys/block/%s", disk);
	d = opendir(path);
	if (!d)
		return n;
	while ((de = readdir(d)) && n < max) {
		if (strncmp(de->d_name, disk, strlen(disk)) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/%s/dev", disk,
			 de->d_name);
		if (read_dev(path, &devs[n]))
			n++;
	}
	closedir(d);
	return n;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	while (*in && o + 1 < len) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' &&
		    in[2] >= '0' && in[2] <= '7' && in[3] >= '0' &&
		    in[3] <= '7') {
			out[o++] = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 +
					  (in[3] - '0'));
			in += 4;
		} else {
			out[o++] = *in++;
		}
	}
	out[o] = '\0';
}

int cl_device_mount_point(const char *disk, char *mnt, size_t len)
{
	dev_t devs[MAX_DEVS];
	size_t n = disk_devs(disk, devs, MAX_DEVS);
	char line[8192], point[4096];
	int ret = -ENOENT;
	FILE *f;

	if (!n)
		return -ENOENT;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	/* "36 35 98:0 /root /mnt rw,... - ext4 /dev/x rw" */
	while (ret && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;

		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min,
			   point) != 3)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (devs[i] == makedev(maj, min)) {
				unescape(point, mnt, len);
				ret = 0;
				break;
			}
		}
	}
	fclose(f);
	return ret;
}
