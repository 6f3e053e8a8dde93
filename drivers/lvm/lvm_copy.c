// SPDX-License-Identifier: Apache-2.0
/*
 * Block device copies and zeroing for thick volumes: O_DIRECT (no page
 * cache pollution, no stale cached data between LVs that reuse extents),
 * one aligned buffer. Runs of all-zero source blocks are not written: the
 * destination range is zeroed by the device (write-zeroes that may unmap,
 * so thin or sparse storage under the VG stays sparse), falling back to
 * BLKZEROOUT, which the kernel turns into plain zero writes when it must.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lvm.h"

#define ALIGN 4096

static int sys_error(struct cl_error *err, const char *what, const char *dev)
{
	int e = errno;

	return cl_error_set(err, -e, "%s %s: %s", what, dev, strerror(e));
}

static int open_dev(const char *dev, int flags, struct cl_error *err)
{
	int fd = open(dev, flags | O_DIRECT | O_CLOEXEC);

	if (fd < 0)
		return sys_error(err, "cannot open", dev);
	return fd;
}

int lvm_device_size(const char *dev, uint64_t *size, struct cl_error *err)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return sys_error(err, "cannot open", dev);
	if (ioctl(fd, BLKGETSIZE64, size) < 0)
		ret = sys_error(err, "cannot get the size of", dev);
	close(fd);
	return ret;
}

static bool all_zero(const char *buf, size_t len)
{
	const uint64_t *w = (const uint64_t *)buf;

	for (size_t i = 0; i < len / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

static int write_all(int fd, const char *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Zero [off, off + len) of @fd: BLKZEROOUT, else plain writes of @zeros. */
static int zero_range(int fd, uint64_t off, uint64_t len, const char *zeros,
		      size_t zlen)
{
	uint64_t range[2] = { off, len };

	if (ioctl(fd, BLKZEROOUT, range) == 0)
		return 0;
	while (len) {
		size_t n = len < zlen ? (size_t)len : zlen;
		int ret = write_all(fd, zeros, n, off);

		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

/* Zero the pending run of zero blocks; @zeros for the last fallback. */
static int flush_zeros(int fd, uint64_t *off, uint64_t *len,
		       const char *zeros, size_t zlen)
{
	int ret = 0;

	if (!*len)
		return 0;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)*off, (off_t)*len) < 0)
		ret = zero_range(fd, *off, *len, zeros, zlen);
	*len = 0;
	return ret;
}

int lvm_copy_device(const char *src, const char *dst, uint64_t len,
		    size_t block_size, struct cl_error *err)
{
	uint64_t off = 0, zero_off = 0, zero_len = 0;
	int in, out, ret = 0;
	char *buf, *zeros = NULL;

	block_size = (block_size + ALIGN - 1) / ALIGN * ALIGN;
	if (!block_size)
		block_size = LVM_MIB;
	in = open_dev(src, O_RDONLY, err);
	if (in < 0)
		return in;
	out = open_dev(dst, O_WRONLY, err);
	if (out < 0) {
		close(in);
		return out;
	}
	if (posix_memalign((void **)&buf, ALIGN, block_size)) {
		ret = cl_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (posix_memalign((void **)&zeros, ALIGN, block_size)) {
		free(buf);
		ret = cl_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	memset(zeros, 0, block_size);
	while (off < len) {
		size_t want = len - off < block_size ? (size_t)(len - off) :
			      block_size;
		ssize_t n = pread(in, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = sys_error(err, "cannot read", src);
			break;
		}
		if (n == 0) {
			ret = cl_error_set(err, -EIO,
					   "%s ended at %llu bytes, %llu expected",
					   src, (unsigned long long)off,
					   (unsigned long long)len);
			break;
		}
		if (all_zero(buf, (size_t)n) && n % 512 == 0) {
			if (!zero_len)
				zero_off = off;
			zero_len += (uint64_t)n;
			off += (uint64_t)n;
			continue;
		}
		ret = flush_zeros(out, &zero_off, &zero_len, zeros, block_size);
		if (!ret)
			ret = write_all(out, buf, (size_t)n, off);
		if (ret) {
			errno = -ret;
			ret = sys_error(err, "cannot write", dst);
			break;
		}
		off += (uint64_t)n;
	}
	if (!ret) {
		ret = flush_zeros(out, &zero_off, &zero_len, zeros, block_size);
		if (ret) {
			errno = -ret;
			ret = sys_error(err, "cannot zero", dst);
		}
	}
	if (!ret && fsync(out) < 0)
		ret = sys_error(err, "cannot sync", dst);
	free(zeros);
	free(buf);
out:
	close(in);
	close(out);
	return ret;
}

int lvm_zero_device(const char *dev, uint64_t len, struct cl_error *err)
{
	uint64_t size;
	char *zeros;
	int fd, ret;

	fd = open_dev(dev, O_WRONLY, err);
	if (fd < 0)
		return fd;
	if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
		ret = sys_error(err, "cannot get the size of", dev);
		goto out;
	}
	if (!len || len > size)
		len = size;
	if (posix_memalign((void **)&zeros, ALIGN, LVM_MIB)) {
		ret = cl_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	memset(zeros, 0, LVM_MIB);
	ret = zero_range(fd, 0, len, zeros, LVM_MIB);
	free(zeros);
	if (ret) {
		errno = -ret;
		ret = sys_error(err, "cannot zero", dev);
	} else if (fsync(fd) < 0) {
		ret = sys_error(err, "cannot sync", dev);
	}
out:
	close(fd);
	return ret;
}
