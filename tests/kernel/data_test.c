// SPDX-License-Identifier: GPL-2.0
/*
 * Data path of cinderblk's file backing: what is written through /dev/cbdN
 * is in the backing file and the reverse, discard punches holes, write
 * zeroes reads back zeros, fio verifies, read-only devices refuse writes.
 * Every case runs three times: with the module's choice of who submits to
 * the file (file_offload=auto) and with every read and write handed to the
 * worker (always), both on a spare disk configured by the add (the
 * module's default), and on a disk the add makes itself (spare_devices=0),
 * so that every path sees the same checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fs.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"

FIXTURE(data) {
	struct cbd_dev d;
};

FIXTURE_VARIANT(data) {
	const char *file_offload;
	bool no_spares;
};

FIXTURE_VARIANT_ADD(data, auto_offload) {
	.file_offload = "auto",
};

FIXTURE_VARIANT_ADD(data, worker) {
	.file_offload = "always",
};

FIXTURE_VARIANT_ADD(data, disk_made_at_add) {
	.file_offload = "auto",
	.no_spares = true,
};

FIXTURE_SETUP(data)
{
	ASSERT_EQ(0, cbd_set_file_offload(variant->file_offload));
	if (variant->no_spares) {
		ASSERT_EQ(0, cbd_set_spare_devices(0));
		ASSERT_EQ(0, cbd_wait_spares(0, 5000));
	}
	ASSERT_EQ(0, cbd_backing_create(&self->d, CBD_DEFAULT_SIZE));
	ASSERT_EQ(0, cbd_add_nl(&self->d, CINDERBLK_F_DISCARD |
				CINDERBLK_F_WRITE_ZEROES));
}

FIXTURE_TEARDOWN(data)
{
	cbd_dev_cleanup(&self->d);
	cbd_set_file_offload("auto");
	if (variant->no_spares)
		cbd_set_spare_devices(2);
}

TEST_F(data, direct_4k_writes_land_in_backing)
{
	off_t last = (off_t)self->d.size - 4096;
	int fd = open(self->d.node, O_RDWR | O_DIRECT);

	ASSERT_LE(0, fd);
	ASSERT_EQ(self->d.size, cbd_bdev_size(fd));
	ASSERT_EQ(0, cbd_write_pattern(fd, 4096, 0, 1));
	ASSERT_EQ(0, cbd_write_pattern(fd, 64 * 1024, 5 * CBD_MIB, 2));
	ASSERT_EQ(0, cbd_write_pattern(fd, 4096, last, 3));
	ASSERT_EQ(0, fsync(fd));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 4096, 0, 1));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 64 * 1024, 5 * CBD_MIB, 2));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 4096, last, 3));
	/* What was not written is still zero. */
	EXPECT_TRUE(cbd_has_zeros(self->d.backing_fd, 4096, 4096));
	close(fd);
}

TEST_F(data, direct_512_writes_first_and_last_sector)
{
	off_t last = (off_t)self->d.size - 512;
	int fd = open(self->d.node, O_RDWR | O_DIRECT);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cbd_write_pattern(fd, 512, 0, 11));
	ASSERT_EQ(0, cbd_write_pattern(fd, 512, 512 * 7, 12));
	ASSERT_EQ(0, cbd_write_pattern(fd, 512, last, 13));
	ASSERT_EQ(0, fsync(fd));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 512, 0, 11));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 512, 512 * 7, 12));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 512, last, 13));
	EXPECT_TRUE(cbd_has_zeros(self->d.backing_fd, 512, 512));
	EXPECT_TRUE(cbd_has_zeros(self->d.backing_fd, 512, last - 512));
	/* And back through the device. */
	EXPECT_TRUE(cbd_has_pattern(fd, 512, last, 13));
	close(fd);
}

TEST_F(data, buffered_writes_land_in_backing)
{
	off_t last = (off_t)self->d.size - 4096;
	int fd = open(self->d.node, O_RDWR);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cbd_write_pattern(fd, 4096, 0, 21));
	ASSERT_EQ(0, cbd_write_pattern(fd, 3 * 4096 + 512, 8 * CBD_MIB + 512, 22));
	ASSERT_EQ(0, cbd_write_pattern(fd, 4096, last, 23));
	ASSERT_EQ(0, fsync(fd));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 4096, 0, 21));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 3 * 4096 + 512,
				8 * CBD_MIB + 512, 22));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 4096, last, 23));
	close(fd);
}

TEST_F(data, backing_writes_read_through_device)
{
	off_t last = (off_t)self->d.size - 512;
	int fd;

	ASSERT_EQ(0, cbd_write_pattern(self->d.backing_fd, 4096, 0, 31));
	ASSERT_EQ(0, cbd_write_pattern(self->d.backing_fd, 512, last, 32));
	ASSERT_EQ(0, cbd_write_pattern(self->d.backing_fd, 128 * 1024,
				   3 * CBD_MIB, 33));
	ASSERT_EQ(0, fsync(self->d.backing_fd));
	/* O_DIRECT: no page cache of the device between us and the data. */
	fd = open(self->d.node, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(cbd_has_pattern(fd, 4096, 0, 31));
	EXPECT_TRUE(cbd_has_pattern(fd, 512, last, 32));
	EXPECT_TRUE(cbd_has_pattern(fd, 128 * 1024, 3 * CBD_MIB, 33));
	close(fd);
	/* Buffered, after dropping whatever the device had cached. */
	fd = open(self->d.node, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, BLKFLSBUF, 0));
	EXPECT_TRUE(cbd_has_pattern(fd, 4096, 0, 31));
	EXPECT_TRUE(cbd_has_pattern(fd, 512, last, 32));
	close(fd);
}

static long long allocated_bytes(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	return (long long)st.st_blocks * 512;
}

TEST_F(data, discard_punches_holes_in_backing)
{
	uint64_t range[2] = { 2 * CBD_MIB, 4 * CBD_MIB };
	struct cl_dev_info info;
	long long before, after;
	uint64_t discards;
	off_t hole;
	int fd = open(self->d.node, O_RDWR | O_DIRECT);

	ASSERT_LE(0, fd);
	/* Allocate 8 MiB of the backing. */
	ASSERT_EQ(0, cbd_write_pattern(fd, 8 * CBD_MIB, 0, 41));
	ASSERT_EQ(0, fsync(fd));
	before = allocated_bytes(self->d.backing_fd);
	ASSERT_LE(8 * (long long)CBD_MIB, before);
	ASSERT_LE(8 * (off_t)CBD_MIB, lseek(self->d.backing_fd, 0, SEEK_HOLE));

	ASSERT_EQ(0, cl_kernel_dev_get(cbd_nl(), self->d.index, &info, NULL));
	discards = info.stats.discard_ios;
	ASSERT_EQ(0, ioctl(fd, BLKDISCARD, range));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, cl_kernel_dev_get(cbd_nl(), self->d.index, &info, NULL));
	EXPECT_LE(discards + 1, info.stats.discard_ios);
	after = allocated_bytes(self->d.backing_fd);
	EXPECT_GE(before - after, (long long)range[1]);
	hole = lseek(self->d.backing_fd, 0, SEEK_HOLE);
	EXPECT_EQ((off_t)range[0], hole);
	EXPECT_EQ((off_t)(range[0] + range[1]),
		  lseek(self->d.backing_fd, (off_t)range[0], SEEK_DATA));
	/* Data around the hole is intact. */
	EXPECT_TRUE(cbd_has_pattern(fd, CBD_MIB, CBD_MIB, 41));
	EXPECT_TRUE(cbd_has_pattern(fd, CBD_MIB, 6 * CBD_MIB, 41));
	close(fd);
}

TEST_F(data, write_zeroes_reads_back_zeros)
{
	uint64_t range[2] = { 1 * CBD_MIB + 4096, 256 * 1024 };
	struct cl_dev_info info;
	int fd = open(self->d.node, O_RDWR | O_DIRECT);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cbd_write_pattern(fd, 2 * CBD_MIB, 0, 51));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, ioctl(fd, BLKZEROOUT, range));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, cl_kernel_dev_get(cbd_nl(), self->d.index, &info, NULL));
	EXPECT_LE(1, info.stats.write_zeroes_ios);
	EXPECT_TRUE(cbd_has_zeros(fd, range[1], (off_t)range[0]));
	EXPECT_TRUE(cbd_has_zeros(self->d.backing_fd, range[1], (off_t)range[0]));
	EXPECT_TRUE(cbd_has_pattern(fd, range[0], 0, 51));
	EXPECT_TRUE(cbd_has_pattern(fd, 4096, (off_t)(range[0] + range[1]), 51));
	close(fd);
}

TEST_F_TIMEOUT(data, fio_multijob_verify, 300)
{
	int status;

	/* Four jobs, each on its own 4 MiB region, verified with crc32c. */
	status = cbd_system("fio --name=cbdverify --filename=%s --direct=1 "
			    "--ioengine=libaio --rw=randwrite --bs=4k --iodepth=16 "
			    "--numjobs=4 --size=4M --offset_increment=4M "
			    "--verify=crc32c --do_verify=1 --verify_fatal=1 "
			    "--group_reporting >/tmp/cbd-fio-verify.log 2>&1",
			    self->d.node);
	if (status != 0)
		cbd_system("cat /tmp/cbd-fio-verify.log >&2");
	ASSERT_EQ(0, status);
}

TEST_F_TIMEOUT(data, fio_mixed_sizes_verify, 300)
{
	int status;

	status = cbd_system("fio --name=cbdmixed --filename=%s --direct=1 "
			    "--ioengine=libaio --rw=randrw --bsrange=512-64k "
			    "--iodepth=8 --numjobs=2 --size=6M --offset_increment=6M "
			    "--verify=crc32c --do_verify=1 --verify_fatal=1 "
			    ">/tmp/cbd-fio-mixed.log 2>&1", self->d.node);
	if (status != 0)
		cbd_system("cat /tmp/cbd-fio-mixed.log >&2");
	ASSERT_EQ(0, status);
}

TEST_F_TIMEOUT(data, resize_under_io, 300)
{
	int status, fd;
	pid_t pid;

	/* fio verifies the first 8 MiB while the device grows under it. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		_exit(cbd_system("fio --name=cbdgrow --filename=%s --direct=1 "
				 "--ioengine=libaio --rw=randwrite --bs=4k "
				 "--iodepth=16 --size=8M --verify=crc32c "
				 "--do_verify=1 --verify_fatal=1 "
				 ">/tmp/cbd-fio-grow.log 2>&1", self->d.node));
	}
	usleep(500 * 1000);
	ASSERT_EQ(0, ftruncate(self->d.backing_fd, 32 * CBD_MIB));
	ASSERT_EQ(0, cl_kernel_dev_resize(cbd_nl(), self->d.index,
					  32 * CBD_MIB, NULL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		cbd_system("cat /tmp/cbd-fio-grow.log >&2");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The new space is usable and lands at the right place. */
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	EXPECT_EQ(32 * CBD_MIB, cbd_bdev_size(fd));
	ASSERT_EQ(0, cbd_write_pattern(fd, 4096, 32 * CBD_MIB - 4096, 71));
	ASSERT_EQ(0, fsync(fd));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 4096, 32 * CBD_MIB - 4096, 71));
	close(fd);
}

/* One MBR partition, type Linux, at @start for @sectors (512 bytes). */
static void make_mbr(unsigned char *mbr, uint32_t start, uint32_t sectors)
{
	memset(mbr, 0, 512);
	memcpy(mbr + 446 + 8, &start, 4);
	memcpy(mbr + 446 + 12, &sectors, 4);
	mbr[446 + 4] = 0x83;
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
}

/* Wait up to @ms for /sys/block/cbdN/cbdNp1 to be (or not be) there. */
static bool wait_sysfs_part(const struct cbd_dev *d, bool present, int ms)
{
	char path[128];
	int64_t end = cbd_now_ms() + ms;

	snprintf(path, sizeof(path), "/sys/block/%s%u/%s%up1",
		 CINDERBLK_DISK_PREFIX, d->index, CINDERBLK_DISK_PREFIX,
		 d->index);
	for (;;) {
		if ((access(path, F_OK) == 0) == present)
			return true;
		if (cbd_now_ms() > end)
			return false;
		usleep(5000);
	}
}

TEST_F(data, partitions_map_to_backing_offsets)
{
	unsigned char *mbr = cbd_alloc(512), *buf;
	uint32_t start = 2048, sectors = 8192;	/* 1 MiB in, 4 MiB long */
	char part[80];
	int fd, pfd = -1;

	make_mbr(mbr, start, sectors);
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(512, pwrite(fd, mbr, 512, 0));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, ioctl(fd, BLKRRPART, 0));
	close(fd);
	snprintf(part, sizeof(part), "%sp1", self->d.node);
	for (int i = 0; i < 200 && pfd < 0; i++) {
		pfd = open(part, O_RDWR | O_DIRECT);
		if (pfd < 0)
			usleep(10000);
	}
	ASSERT_LE(0, pfd);
	EXPECT_EQ((uint64_t)sectors * 512, cbd_bdev_size(pfd));
	ASSERT_EQ(0, cbd_write_pattern(pfd, 8192, 4096, 81));
	ASSERT_EQ(0, fsync(pfd));
	close(pfd);
	/* At the partition's offset + 4096 in the backing file. */
	buf = cbd_alloc(8192);
	ASSERT_EQ(8192, pread(self->d.backing_fd, buf, 8192,
			      (off_t)start * 512 + 4096));
	EXPECT_TRUE(cbd_check(buf, 8192, 4096, 81));
	free(buf);
	free(mbr);
}

/*
 * The add does not read the partition table itself; it is read right
 * after, without anybody opening the disk, and the partition maps to the
 * backing. The scan holds no open of its own: a plain remove right after
 * the add is not refused.
 */
TEST(partitions_appear_after_add_without_an_open)
{
	unsigned char *mbr = cbd_alloc(512);
	uint32_t start = 2048, sectors = 8192;
	struct cbd_dev d = { .backing_fd = -1 };
	struct cl_kernel *k = cbd_nl();
	char part[80];
	void *buf;
	int pfd;

	ASSERT_NE(NULL, k);
	ASSERT_EQ(0, cbd_backing_create(&d, CBD_DEFAULT_SIZE));
	make_mbr(mbr, start, sectors);
	ASSERT_EQ(512, pwrite(d.backing_fd, mbr, 512, 0));
	/* What the partition holds at its offset 0. */
	buf = cbd_alloc(8192);
	cbd_fill(buf, 8192, 0, 91);
	ASSERT_EQ(8192, pwrite(d.backing_fd, buf, 8192, (off_t)start * 512));
	free(buf);
	ASSERT_EQ(0, fsync(d.backing_fd));

	ASSERT_EQ(0, cbd_add_nl(&d, 0));
	ASSERT_TRUE(wait_sysfs_part(&d, true, 10000));
	snprintf(part, sizeof(part), "%sp1", d.node);
	ASSERT_EQ(0, cbd_wait_node_path(part, true, 5000));
	pfd = open(part, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, pfd);
	EXPECT_EQ((uint64_t)sectors * 512, cbd_bdev_size(pfd));
	EXPECT_TRUE(cbd_has_pattern(pfd, 8192, 0, 91));
	close(pfd);
	EXPECT_EQ(0, cl_kernel_dev_remove(k, d.index, false, NULL));
	d.added = false;
	EXPECT_EQ(0, cbd_wait_node(d.index, false, 5000));

	/* Added and removed at once, before any scan could end: no EBUSY. */
	for (int i = 0; i < 20; i++) {
		ASSERT_EQ(0, cbd_add_nl(&d, 0));
		ASSERT_EQ(0, cl_kernel_dev_remove(k, d.index, false, NULL));
		d.added = false;
	}
	EXPECT_EQ(0, cbd_sysfs_block_count());
	cbd_dev_cleanup(&d);
	free(mbr);
}

FIXTURE(readonly) {
	struct cbd_dev d;
};

FIXTURE_SETUP(readonly)
{
	int ro;

	ASSERT_EQ(0, cbd_backing_create(&self->d, CBD_DEFAULT_SIZE));
	ASSERT_EQ(0, cbd_write_pattern(self->d.backing_fd, 4096, 0, 61));
	ASSERT_EQ(0, fsync(self->d.backing_fd));
	/* Hand the module a read-only descriptor, as losetup -r does. */
	ro = open(self->d.path, O_RDONLY);
	ASSERT_LE(0, ro);
	close(self->d.backing_fd);
	self->d.backing_fd = ro;
	ASSERT_EQ(0, cbd_add_nl(&self->d, CINDERBLK_F_READ_ONLY));
}

FIXTURE_TEARDOWN(readonly)
{
	cbd_dev_cleanup(&self->d);
}

TEST_F(readonly, refuses_writes)
{
	void *buf = cbd_alloc(4096);
	struct cl_dev_info info;
	int fd, ro = 0;
	ssize_t n;

	ASSERT_EQ(0, cl_kernel_dev_get(cbd_nl(), self->d.index, &info, NULL));
	EXPECT_TRUE(info.flags & CINDERBLK_F_READ_ONLY);

	fd = open(self->d.node, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, BLKROGET, &ro));
	EXPECT_EQ(1, ro);
	EXPECT_TRUE(cbd_has_pattern(fd, 4096, 0, 61));
	close(fd);

	fd = open(self->d.node, O_RDWR | O_DIRECT);
	if (fd < 0) {
		/* Refusing the open itself is fine too. */
		EXPECT_TRUE(errno == EROFS || errno == EACCES || errno == EPERM);
	} else {
		memset(buf, 0x5a, 4096);
		n = pwrite(fd, buf, 4096, 0);
		EXPECT_EQ(-1, n);
		EXPECT_TRUE(errno == EPERM || errno == EROFS);
		close(fd);
	}
	fd = open(self->d.node, O_RDWR);
	if (fd >= 0) {
		n = pwrite(fd, buf, 4096, 8192);
		EXPECT_EQ(-1, n);
		EXPECT_TRUE(errno == EPERM || errno == EROFS);
		fsync(fd);
		close(fd);
	}
	/* The backing is untouched. */
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 4096, 0, 61));
	EXPECT_TRUE(cbd_has_zeros(self->d.backing_fd, 4096, 8192));
	free(buf);
}

/* The offload switch takes its three words and nothing else. */
TEST(file_offload_parameter)
{
	const char *modes[] = { "never", "always", "auto" };
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ASSERT_EQ(0, cbd_set_file_offload(modes[i]));
		ASSERT_EQ(0, cbd_get_file_offload(buf, sizeof(buf)));
		EXPECT_STREQ(modes[i], buf);
	}
	EXPECT_EQ(-EINVAL, cbd_set_file_offload("sometimes"));
	EXPECT_EQ(-EINVAL, cbd_set_file_offload("\n"));
	ASSERT_EQ(0, cbd_get_file_offload(buf, sizeof(buf)));
	EXPECT_STREQ("auto", buf);
	/* As echo writes it. */
	ASSERT_EQ(0, cbd_set_file_offload("never\n"));
	ASSERT_EQ(0, cbd_get_file_offload(buf, sizeof(buf)));
	EXPECT_STREQ("never", buf);
	ASSERT_EQ(0, cbd_set_file_offload("auto"));
}

TEST_HARNESS_MAIN
