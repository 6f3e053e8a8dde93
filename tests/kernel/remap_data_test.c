// SPDX-License-Identifier: GPL-2.0
/*
 * Data path of cinderblk's remap backing over brd (and loop where brd lacks
 * a feature): what goes through /dev/cbdN lands at the mapped offsets of
 * the lower device and the reverse, requests that cross extent boundaries
 * are split right, fio verifies a scattered table, discard, write zeroes
 * and flushes reach the lower device when it does them, the lower device
 * is held exclusively, suspend holds I/O, and a reconfigure with a new
 * table changes the size.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fs.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"

#define KIB 1024ULL

FIXTURE(remap) {
	struct cbd_dev d;
	const char *lower_path;
	int lower;		/* O_RDWR | O_DIRECT on the lower device */
};

FIXTURE_SETUP(remap)
{
	int fd;

	memset(&self->d, 0, sizeof(self->d));
	self->d.backing_fd = -1;
	self->lower_path = cbd_brd(1);
	ASSERT_NE(NULL, self->lower_path);
	/* Start from zeros: brd keeps what earlier tests wrote. */
	ASSERT_EQ(0, cbd_system("blkdiscard %s 2>/dev/null || dd if=/dev/zero of=%s bs=1M count=%llu oflag=direct status=none",
				self->lower_path, self->lower_path,
				CBD_BRD_SIZE / CBD_MIB));
	self->lower = open(self->lower_path, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->lower);
	fd = open(self->lower_path, O_RDWR);
	ASSERT_LE(0, fd);
	self->d.backing_fd = fd;	/* handed to the module by add */
}

FIXTURE_TEARDOWN(remap)
{
	cbd_dev_cleanup(&self->d);
	if (self->lower >= 0)
		close(self->lower);
	/* The module let go of the lower device. */
	EXPECT_EQ(0, cbd_wait_node(self->d.index, false, 5000));
	EXPECT_TRUE(cbd_bdev_free(self->lower_path));
}

static int add(FIXTURE_DATA(remap) *self, uint64_t size,
	       const struct cl_extent *ext, size_t nr, uint32_t flags)
{
	return cbd_add_remap(&self->d, self->d.backing_fd, size, ext, nr,
			     flags);
}

static struct cl_dev_info info_of(FIXTURE_DATA(remap) *self)
{
	struct cl_dev_info info;

	memset(&info, 0, sizeof(info));
	cl_kernel_dev_get(cbd_nl(), self->d.index, &info, NULL);
	return info;
}

TEST_F(remap, whole_device_first_and_last_sector)
{
	off_t last = (off_t)CBD_BRD_SIZE - 512;
	char *buf = cbd_alloc(4096);
	struct cl_dev_info info;
	char type[32];
	int fd;

	/* No table: the kernel maps the whole size at lower offset 0. */
	ASSERT_EQ(0, add(self, CBD_BRD_SIZE, NULL, 0, 0));
	ASSERT_EQ(0, cbd_sysfs_read(self->d.index, "backing_type", type,
				    sizeof(type)));
	EXPECT_STREQ("remap", type);
	info = info_of(self);
	EXPECT_EQ(CL_BACKING_REMAP, info.backing_type);
	EXPECT_EQ(CBD_BRD_SIZE, info.size);

	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	EXPECT_EQ(CBD_BRD_SIZE, cbd_bdev_size(fd));
	ASSERT_EQ(0, cbd_write_pattern(fd, 512, 0, 1));
	ASSERT_EQ(0, cbd_write_pattern(fd, 512, last, 2));
	ASSERT_EQ(0, cbd_write_pattern(fd, 64 * KIB, 5 * CBD_MIB, 3));
	EXPECT_TRUE(cbd_has_pattern(self->lower, 512, 0, 1));
	EXPECT_TRUE(cbd_has_pattern(self->lower, 512, last, 2));
	EXPECT_TRUE(cbd_has_pattern(self->lower, 64 * KIB, 5 * CBD_MIB, 3));
	EXPECT_TRUE(cbd_has_zeros(self->lower, 512, 512));
	EXPECT_TRUE(cbd_has_zeros(self->lower, 512, last - 512));

	/* And the reverse: written below, read through the device. */
	ASSERT_EQ(0, cbd_write_pattern(self->lower, 4096, 7 * CBD_MIB, 4));
	EXPECT_TRUE(cbd_has_pattern(fd, 4096, 7 * CBD_MIB, 4));
	/* Reading past the end is refused by the block layer: 0 bytes. */
	EXPECT_EQ(0, pread(fd, buf, 4096, (off_t)CBD_BRD_SIZE));
	close(fd);
	free(buf);

	info = info_of(self);
	EXPECT_LE(3, info.stats.write_ios);
	EXPECT_LE(512 + 512 + 64 * KIB, info.stats.write_bytes);
	EXPECT_LE(1, info.stats.read_ios);
	EXPECT_EQ(0, info.stats.errors);
	EXPECT_EQ(0, info.stats.inflight);
}

TEST_F(remap, one_extent_at_a_lower_offset)
{
	struct cl_extent ext = { 0, 16 * CBD_MIB, 40 * CBD_MIB };
	off_t last = 16 * CBD_MIB - 4096;
	int fd;

	ASSERT_EQ(0, add(self, 16 * CBD_MIB, &ext, 1, 0));
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cbd_write_pattern(fd, 4096, 0, 11));
	ASSERT_EQ(0, cbd_write_pattern(fd, 4096, last, 12));
	EXPECT_TRUE(cbd_has_pattern_at(self->lower, 4096, 40 * CBD_MIB, 0, 11));
	EXPECT_TRUE(cbd_has_pattern_at(self->lower, 4096, 40 * CBD_MIB + last,
				   (uint64_t)last, 12));
	/* Nothing below or above the extent was touched. */
	EXPECT_TRUE(cbd_has_zeros(self->lower, 4096, 0));
	EXPECT_TRUE(cbd_has_zeros(self->lower, 4096, 40 * CBD_MIB - 4096));
	EXPECT_TRUE(cbd_has_zeros(self->lower, 4096, 56 * CBD_MIB));
	close(fd);
}

/*
 * Three extents in scattered, out-of-order places below; a 1 MiB O_DIRECT
 * write from 128 KiB crosses both inner boundaries: each piece must land
 * at its own lower offset.
 */
TEST_F(remap, request_split_at_extent_boundaries)
{
	const struct cl_extent ext[] = {
		{ 768 * KIB, 1280 * KIB, 90 * CBD_MIB },	/* listed first */
		{ 0, 256 * KIB, 20 * CBD_MIB },
		{ 256 * KIB, 512 * KIB, 4 * CBD_MIB },
	};
	const size_t len = CBD_MIB;
	const off_t off = 128 * KIB;
	struct cl_dev_info before, after;
	int fd;

	ASSERT_EQ(0, add(self, 2 * CBD_MIB, ext, 3, 0));
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	before = info_of(self);
	ASSERT_EQ(0, cbd_write_pattern(fd, len, off, 21));
	after = info_of(self);
	/* One write, sent down in three pieces, all counted. */
	EXPECT_EQ(before.stats.write_bytes + len, after.stats.write_bytes);
	EXPECT_LE(before.stats.write_ios + 3, after.stats.write_ios);

	/* [128K, 256K) -> 20M + 128K */
	EXPECT_TRUE(cbd_has_pattern_at(self->lower, 128 * KIB,
				   20 * CBD_MIB + 128 * KIB, 128 * KIB, 21));
	/* [256K, 768K) -> 4M */
	EXPECT_TRUE(cbd_has_pattern_at(self->lower, 512 * KIB, 4 * CBD_MIB,
				   256 * KIB, 21));
	/* [768K, 1152K) -> 90M */
	EXPECT_TRUE(cbd_has_pattern_at(self->lower, 384 * KIB, 90 * CBD_MIB,
				   768 * KIB, 21));
	/* Around the write: untouched. */
	EXPECT_TRUE(cbd_has_zeros(self->lower, 128 * KIB, 20 * CBD_MIB));
	EXPECT_TRUE(cbd_has_zeros(self->lower, 4096, 90 * CBD_MIB + 384 * KIB));

	/* Read back through the device in one request, and buffered. */
	EXPECT_TRUE(cbd_has_pattern(fd, len, off, 21));
	close(fd);
	fd = open(self->d.node, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, BLKFLSBUF, 0));
	EXPECT_TRUE(cbd_has_pattern(fd, len, off, 21));
	EXPECT_TRUE(cbd_has_zeros(fd, 128 * KIB, 0));
	close(fd);
}

/* Sector-sized pieces on both sides of a boundary, unaligned to pages. */
TEST_F(remap, sectors_around_a_boundary)
{
	const struct cl_extent ext[] = {
		{ 0, 1536, 3 * CBD_MIB },		/* three sectors */
		{ 1536, CBD_MIB - 1536, 9 * CBD_MIB + 512 },
	};
	int fd;

	ASSERT_EQ(0, add(self, CBD_MIB, ext, 2, 0));
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	/* 2 KiB from sector 1: two sectors in each extent. */
	ASSERT_EQ(0, cbd_write_pattern(fd, 2048, 512, 31));
	EXPECT_TRUE(cbd_has_pattern_at(self->lower, 1024, 3 * CBD_MIB + 512, 512,
				   31));
	EXPECT_TRUE(cbd_has_pattern_at(self->lower, 1024, 9 * CBD_MIB + 512, 1536,
				   31));
	EXPECT_TRUE(cbd_has_zeros(self->lower, 512, 3 * CBD_MIB));
	EXPECT_TRUE(cbd_has_pattern(fd, 2048, 512, 31));
	close(fd);
}

TEST_F_TIMEOUT(remap, fio_verify_on_64_scattered_extents, 300)
{
	struct cl_extent ext[64];
	const uint64_t piece = 256 * KIB;
	int status;

	/* Device pieces in reverse order below, one piece apart. */
	for (int i = 0; i < 64; i++) {
		ext[i].start = (uint64_t)i * piece;
		ext[i].length = piece;
		ext[i].lower_offset = (uint64_t)(63 - i) * 2 * piece + piece;
	}
	ASSERT_EQ(0, add(self, 64 * piece, ext, 64, 0));
	status = cbd_system("fio --name=remapverify --filename=%s --direct=1 "
			    "--ioengine=libaio --rw=randwrite --bsrange=4k-1m "
			    "--iodepth=16 --numjobs=2 --size=8M --offset_increment=8M "
			    "--verify=crc32c --do_verify=1 --verify_fatal=1 "
			    "--group_reporting >/tmp/cbd-remap-fio.log 2>&1",
			    self->d.node);
	if (status != 0)
		cbd_system("cat /tmp/cbd-remap-fio.log >&2");
	ASSERT_EQ(0, status);
	/* The gaps between the pieces below were never written. */
	for (int i = 0; i < 64; i++)
		EXPECT_TRUE(cbd_has_zeros(self->lower, 4096,
				      (off_t)(i * 2 * piece + piece - 4096)));
}

/* brd does neither discard nor write zeroes: the device must not either. */
TEST_F(remap, advertises_only_what_lower_does)
{
	uint64_t range[2] = { 0, CBD_MIB };
	struct cl_dev_info info;
	char flags[32];
	int fd;

	ASSERT_EQ(0, add(self, 8 * CBD_MIB, NULL, 0,
			 CINDERBLK_F_DISCARD | CINDERBLK_F_WRITE_ZEROES));
	info = info_of(self);
	EXPECT_EQ(0, info.flags & (CINDERBLK_F_DISCARD |
				   CINDERBLK_F_WRITE_ZEROES));
	ASSERT_EQ(0, cbd_sysfs_read(self->d.index, "flags", flags,
				    sizeof(flags)));
	EXPECT_STREQ("0x0", flags);
	fd = open(self->d.node, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, BLKDISCARD, range));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(fd);
}

/*
 * A loop device over a file on ext4 on brd's ram0: loop does discard
 * (punch hole) and write zeroes (zero range), brd does neither.
 */
static int make_loop(char *dev, size_t len, uint64_t size)
{
	FILE *p;
	int n;

	if (!cbd_brd(0) ||
	    cbd_system("modprobe loop 2>/dev/null; mkdir -p /tmp/cbd-loopfs && "
		       "(mountpoint -q /tmp/cbd-loopfs || "
		       "(mkfs.ext4 -q -F /dev/ram0 >/dev/null 2>&1 && "
		       "mount -t ext4 /dev/ram0 /tmp/cbd-loopfs)) && "
		       "rm -f /tmp/cbd-loopfs/loop.img && "
		       "truncate -s %llu /tmp/cbd-loopfs/loop.img",
		       (unsigned long long)size) != 0)
		return -1;
	p = popen("losetup --find --show /tmp/cbd-loopfs/loop.img", "r");
	if (!p)
		return -1;
	n = fgets(dev, (int)len, p) ? (int)strcspn(dev, "\n") : 0;
	dev[n] = '\0';
	pclose(p);
	return n ? 0 : -1;
}

TEST_F(remap, discard_write_zeroes_and_flush_reach_loop)
{
	const struct cl_extent ext[] = {
		{ 0, 2 * CBD_MIB, 6 * CBD_MIB },
		{ 2 * CBD_MIB, 2 * CBD_MIB, 1 * CBD_MIB },
	};
	uint64_t range[2] = { CBD_MIB, 2 * CBD_MIB };	/* crosses */
	uint64_t zrange[2] = { 3 * CBD_MIB, 512 * KIB };
	struct cl_dev_info info;
	char loopdev[64];
	int fd, lfd, lraw;

	ASSERT_EQ(0, make_loop(loopdev, sizeof(loopdev), 16 * CBD_MIB));
	lfd = open(loopdev, O_RDWR);
	ASSERT_LE(0, lfd);
	close(self->d.backing_fd);
	self->d.backing_fd = -1;
	ASSERT_EQ(0, cbd_add_remap(&self->d, lfd, 4 * CBD_MIB, ext, 2,
				   CINDERBLK_F_DISCARD |
				   CINDERBLK_F_WRITE_ZEROES | CINDERBLK_F_FUA));
	info = info_of(self);
	EXPECT_EQ(CINDERBLK_F_DISCARD | CINDERBLK_F_WRITE_ZEROES |
		  CINDERBLK_F_FUA, info.flags);

	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	lraw = open(loopdev, O_RDWR | O_DIRECT);
	ASSERT_LE(0, lraw);
	ASSERT_EQ(0, cbd_write_pattern(fd, 4 * CBD_MIB, 0, 41));
	ASSERT_EQ(0, fsync(fd));
	info = info_of(self);
	EXPECT_LE(1, info.stats.flush_ios);

	ASSERT_EQ(0, ioctl(fd, BLKDISCARD, range));
	ASSERT_EQ(0, ioctl(fd, BLKZEROOUT, zrange));
	info = info_of(self);
	EXPECT_LE(2, info.stats.discard_ios);	/* split at 2 MiB */
	EXPECT_LE(1, info.stats.write_zeroes_ios);
	/* Below: [1M, 2M) of the device is 7M.., [2M, 3M) is 1M.. */
	EXPECT_TRUE(cbd_has_zeros(lraw, CBD_MIB, 7 * CBD_MIB));
	EXPECT_TRUE(cbd_has_zeros(lraw, CBD_MIB, 1 * CBD_MIB));
	EXPECT_TRUE(cbd_has_zeros(lraw, 512 * KIB, 2 * CBD_MIB));
	EXPECT_TRUE(cbd_has_pattern_at(lraw, CBD_MIB, 6 * CBD_MIB, 0, 41));
	EXPECT_TRUE(cbd_has_pattern_at(lraw, 512 * KIB, 2 * CBD_MIB + 512 * KIB,
				   3 * CBD_MIB + 512 * KIB, 41));
	EXPECT_TRUE(cbd_has_zeros(fd, 2 * CBD_MIB, CBD_MIB));
	EXPECT_TRUE(cbd_has_pattern(fd, CBD_MIB, 0, 41));
	close(lraw);
	close(fd);
	cbd_dev_cleanup(&self->d);
	cbd_system("losetup -d %s", loopdev);
	self->d.backing_fd = open(self->lower_path, O_RDWR);
}

TEST_F(remap, lower_device_is_held_exclusively)
{
	struct cbd_dev other;
	int fd;

	ASSERT_EQ(0, cbd_system("mkfs.ext4 -q -F %s >/dev/null 2>&1 && "
				"mkdir -p /tmp/cbd-mnt", self->lower_path));
	ASSERT_EQ(0, add(self, 8 * CBD_MIB, NULL, 0, 0));
	EXPECT_FALSE(cbd_bdev_free(self->lower_path));
	/* Mounting the file system on what is attached fails. */
	EXPECT_EQ(-1, mount(self->lower_path, "/tmp/cbd-mnt", "ext4", 0, NULL));
	EXPECT_EQ(EBUSY, errno);
	/* So does a second remap device on it. */
	fd = open(self->lower_path, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBUSY, cbd_add_remap(&other, fd, 8 * CBD_MIB, NULL, 0, 0));
	close(fd);
	/* Shared opens still work (the fd we gave is one). */
	fd = open(self->lower_path, O_RDONLY);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(0, cl_kernel_dev_remove(cbd_nl(), self->d.index, false,
					  NULL));
	self->d.added = false;
	EXPECT_TRUE(cbd_bdev_free(self->lower_path));
}

TEST_F(remap, adding_a_mounted_device_is_busy)
{
	int live = cbd_live_devices(), dump = cbd_dump_count();

	ASSERT_EQ(0, cbd_system("mkfs.ext4 -q -F %s >/dev/null 2>&1 && "
				"mkdir -p /tmp/cbd-mnt && "
				"mount -t ext4 %s /tmp/cbd-mnt",
				self->lower_path, self->lower_path));
	EXPECT_EQ(-EBUSY, add(self, 8 * CBD_MIB, NULL, 0, 0));
	self->d.added = false;
	EXPECT_EQ(live, cbd_live_devices());
	EXPECT_EQ(dump, cbd_dump_count());
	ASSERT_EQ(0, cbd_system("umount /tmp/cbd-mnt"));
	/* Free again: now it works. */
	ASSERT_EQ(0, add(self, 8 * CBD_MIB, NULL, 0, 0));
}

TEST_F_TIMEOUT(remap, suspend_holds_io_until_resume, 60)
{
	struct pollfd pfd;
	char res = 0;
	int fd, pipefd[2], status;
	pid_t pid;

	ASSERT_EQ(0, add(self, 8 * CBD_MIB, NULL, 0, 0));
	ASSERT_EQ(0, cbd_write_pattern(self->lower, 4096, 4 * CBD_MIB, 51));
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cl_kernel_dev_suspend(cbd_nl(), self->d.index, false,
					   NULL));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		res = cbd_has_pattern(fd, 4096, 4 * CBD_MIB, 51) ? 'y' : 'n';
		_exit(write(pipefd[1], &res, 1) == 1 ? 0 : 1);
	}
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	/* Held while suspended. */
	EXPECT_EQ(0, poll(&pfd, 1, 1000));
	ASSERT_EQ(0, cl_kernel_dev_resume(cbd_nl(), self->d.index, NULL));
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(1, read(pipefd[0], &res, 1));
	EXPECT_EQ('y', res);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(pipefd[0]);
	close(fd);
}

TEST_F_TIMEOUT(remap, suspend_resume_under_fio_verify, 300)
{
	int status;
	pid_t pid;

	ASSERT_EQ(0, add(self, 16 * CBD_MIB, NULL, 0, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		_exit(cbd_system("fio --name=remapsusp --filename=%s --direct=1 "
				 "--ioengine=libaio --rw=randwrite --bs=4k "
				 "--iodepth=32 --size=16M --verify=crc32c "
				 "--do_verify=1 --verify_fatal=1 "
				 ">/tmp/cbd-remap-susp.log 2>&1", self->d.node));
	}
	for (int i = 0; i < 5; i++) {
		struct cl_dev_info info;

		usleep(200 * 1000);
		ASSERT_EQ(0, cl_kernel_dev_suspend(cbd_nl(), self->d.index,
						   false, NULL));
		/* Drained: nothing in flight while suspended. */
		ASSERT_EQ(0, cl_kernel_dev_get(cbd_nl(), self->d.index, &info,
					       NULL));
		EXPECT_EQ(0, info.stats.inflight);
		EXPECT_EQ(CL_DEV_STATE_SUSPENDED, info.state);
		usleep(100 * 1000);
		ASSERT_EQ(0, cl_kernel_dev_resume(cbd_nl(), self->d.index,
						  NULL));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		cbd_system("cat /tmp/cbd-remap-susp.log >&2");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(remap, reconfigure_with_a_new_table_resizes)
{
	const struct cl_extent grown[] = {
		{ 0, 4 * CBD_MIB, 0 },
		{ 4 * CBD_MIB, 4 * CBD_MIB, 64 * CBD_MIB },
	};
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	int fd;

	ASSERT_EQ(0, add(self, 4 * CBD_MIB, NULL, 0, 0));
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cbd_write_pattern(fd, 4096, 0, 61));
	/* Resize is refused: the table says what the size is. */
	EXPECT_EQ(-EOPNOTSUPP, cl_kernel_dev_resize(cbd_nl(), self->d.index,
						    8 * CBD_MIB, NULL));
	EXPECT_EQ(0, cl_kernel_dev_resize(cbd_nl(), self->d.index,
					  4 * CBD_MIB, NULL));

	ASSERT_EQ(0, cl_kernel_dev_suspend(cbd_nl(), self->d.index, false,
					   NULL));
	cl_dev_spec_init(&spec);
	spec.backing_type = CL_BACKING_REMAP;
	spec.backing_fd = self->d.backing_fd;
	spec.extents = grown;
	spec.nr_extents = 2;
	/* The same lower device again: one holder per cbd device, not busy. */
	EXPECT_EQ(0, cl_kernel_dev_reconfigure_spec(cbd_nl(), self->d.index,
						    &spec, NULL));
	ASSERT_EQ(0, cl_kernel_dev_resume(cbd_nl(), self->d.index, NULL));
	info = info_of(self);
	EXPECT_EQ(8 * CBD_MIB, info.size);
	EXPECT_EQ(8 * CBD_MIB, cbd_bdev_size(fd));
	EXPECT_TRUE(cbd_has_pattern(fd, 4096, 0, 61));
	ASSERT_EQ(0, cbd_write_pattern(fd, 4096, 8 * CBD_MIB - 4096, 62));
	EXPECT_TRUE(cbd_has_pattern_at(self->lower, 4096, 68 * CBD_MIB - 4096,
				   8 * CBD_MIB - 4096, 62));
	close(fd);
}

TEST_F(remap, read_only_device_refuses_writes)
{
	char buf[4096] __attribute__((aligned(4096)));
	struct cl_dev_info info;
	int ro, fd;

	ro = open(self->lower_path, O_RDONLY);
	ASSERT_LE(0, ro);
	close(self->d.backing_fd);
	self->d.backing_fd = -1;
	ASSERT_EQ(0, cbd_add_remap(&self->d, ro, 8 * CBD_MIB, NULL, 0,
				   CINDERBLK_F_READ_ONLY));
	info = info_of(self);
	EXPECT_TRUE(info.flags & CINDERBLK_F_READ_ONLY);
	ASSERT_EQ(0, cbd_write_pattern(self->lower, 4096, 0, 71));
	fd = open(self->d.node, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(cbd_has_pattern(fd, 4096, 0, 71));
	close(fd);
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	if (fd >= 0) {
		memset(buf, 0x5a, sizeof(buf));
		EXPECT_EQ(-1, pwrite(fd, buf, sizeof(buf), 0));
		close(fd);
	}
	EXPECT_TRUE(cbd_has_pattern(self->lower, 4096, 0, 71));
}

TEST_HARNESS_MAIN
