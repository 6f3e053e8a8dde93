// SPDX-License-Identifier: GPL-2.0
/*
 * Bad requests for cinderblk's remap backing, over netlink and ioctl: each
 * must fail with its own errno and leave nothing behind (the dump, the
 * live-device counter and /sys/block unchanged) and must let go of the
 * lower device (it can be opened exclusively again).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"

#define KIB 1024ULL
#define SIZE (8 * CBD_MIB)

FIXTURE(rbad) {
	struct cl_kernel *k;
	const char *lower_path;
	int lower;		/* O_RDWR on the lower device */
	int ctl;
	char volume_id[CL_VOLUME_ID_LEN + 1];
	int dump_before, live_before, sysfs_before;
};

FIXTURE_SETUP(rbad)
{
	self->k = cbd_nl();
	ASSERT_NE(NULL, self->k);
	/* ram1: cbd_scratch_dir() (file backings) mounts ram0. */
	self->lower_path = cbd_brd(1);
	ASSERT_NE(NULL, self->lower_path);
	self->lower = open(self->lower_path, O_RDWR);
	ASSERT_LE(0, self->lower);
	self->ctl = cbd_ctl_open();
	ASSERT_LE(0, self->ctl);
	cbd_make_uuid(self->volume_id);
	self->dump_before = cbd_dump_count();
	self->live_before = cbd_live_devices();
	self->sysfs_before = cbd_sysfs_block_count();
	ASSERT_LE(0, self->dump_before);
	ASSERT_LE(0, self->live_before);
	ASSERT_LE(0, self->sysfs_before);
}

FIXTURE_TEARDOWN(rbad)
{
	EXPECT_EQ(self->dump_before, cbd_dump_count());
	EXPECT_EQ(self->live_before, cbd_live_devices());
	EXPECT_EQ(self->sysfs_before, cbd_sysfs_block_count());
	/* No hold on the lower device was kept. */
	EXPECT_TRUE(cbd_bdev_free(self->lower_path));
	close(self->lower);
	close(self->ctl);
}

static void remap_spec(FIXTURE_DATA(rbad) *self, struct cl_dev_spec *spec,
		       const struct cl_extent *ext, size_t nr)
{
	cl_dev_spec_init(spec);
	spec->size = SIZE;
	spec->volume_id = self->volume_id;
	spec->backing_type = CL_BACKING_REMAP;
	spec->backing_fd = self->lower;
	spec->extents = ext;
	spec->nr_extents = nr;
}

/* Add a remap device with @ext; remove it if it (wrongly) worked. */
static int try_add(FIXTURE_DATA(rbad) *self, const struct cl_extent *ext,
		   size_t nr)
{
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	int ret;

	remap_spec(self, &spec, ext, nr);
	ret = cl_kernel_dev_add(self->k, &spec, &info, NULL);
	if (ret == 0)
		cl_kernel_dev_remove(self->k, info.index, true, NULL);
	return ret;
}

TEST_F(rbad, a_good_table_works)
{
	const struct cl_extent ext[] = {
		{ 4 * CBD_MIB, 4 * CBD_MIB, 0 },
		{ 0, 4 * CBD_MIB, 64 * CBD_MIB },
	};
	struct cl_dev_spec spec;
	struct cl_dev_info info;

	/* The reference for the rest: out of order, but complete. */
	remap_spec(self, &spec, ext, 2);
	ASSERT_EQ(0, cl_kernel_dev_add(self->k, &spec, &info, NULL));
	EXPECT_EQ(SIZE, info.size);
	EXPECT_EQ(CL_BACKING_REMAP, info.backing_type);
	EXPECT_FALSE(cbd_bdev_free(self->lower_path));
	EXPECT_EQ(0, cl_kernel_dev_remove(self->k, info.index, false, NULL));
	EXPECT_EQ(0, cbd_wait_node(info.index, false, 5000));
}

TEST_F(rbad, zero_length)
{
	const struct cl_extent ext[] = {
		{ 0, SIZE, 0 },
		{ SIZE, 0, 0 },
	};

	EXPECT_EQ(-EINVAL, try_add(self, ext, 2));
}

TEST_F(rbad, not_block_aligned)
{
	struct cl_extent ext[] = {
		{ 0, SIZE, 100 },
	};
	const struct cl_extent two[] = {
		{ 0, 4 * CBD_MIB + 256, 0 },
		{ 4 * CBD_MIB + 256, 4 * CBD_MIB - 256, 32 * CBD_MIB },
	};

	EXPECT_EQ(-EINVAL, try_add(self, ext, 1));
	ext[0].lower_offset = 0;
	ext[0].length = SIZE - 100;
	EXPECT_EQ(-EINVAL, try_add(self, ext, 1));
	EXPECT_EQ(-EINVAL, try_add(self, two, 2));
}

TEST_F(rbad, logical_block_size_alignment)
{
	const struct cl_extent ext[] = {
		{ 0, 4 * CBD_MIB, 512 },	/* 512-aligned only */
		{ 4 * CBD_MIB, 4 * CBD_MIB, 16 * CBD_MIB },
	};
	struct cl_dev_spec spec;

	remap_spec(self, &spec, ext, 2);
	spec.logical_block_size = 4096;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_add(self->k, &spec, NULL, NULL));
}

TEST_F(rbad, overlapping_extents)
{
	const struct cl_extent ext[] = {
		{ 0, 5 * CBD_MIB, 0 },
		{ 4 * CBD_MIB, 4 * CBD_MIB, 32 * CBD_MIB },
	};
	const struct cl_extent same_start[] = {
		{ 0, 4 * CBD_MIB, 0 },
		{ 0, 8 * CBD_MIB, 32 * CBD_MIB },
	};

	EXPECT_EQ(-EINVAL, try_add(self, ext, 2));
	EXPECT_EQ(-EINVAL, try_add(self, same_start, 2));
}

TEST_F(rbad, gaps)
{
	const struct cl_extent middle[] = {
		{ 0, 2 * CBD_MIB, 0 },
		{ 4 * CBD_MIB, 4 * CBD_MIB, 32 * CBD_MIB },
	};
	const struct cl_extent not_from_zero[] = {
		{ 512, SIZE - 512, 0 },
	};
	const struct cl_extent short_end[] = {
		{ 0, SIZE - 4096, 0 },
	};
	const struct cl_extent past_end[] = {
		{ 0, SIZE + 4096, 0 },
	};

	EXPECT_EQ(-EINVAL, try_add(self, middle, 2));
	EXPECT_EQ(-EINVAL, try_add(self, not_from_zero, 1));
	EXPECT_EQ(-EINVAL, try_add(self, short_end, 1));
	EXPECT_EQ(-EINVAL, try_add(self, past_end, 1));
}

TEST_F(rbad, beyond_the_lower_device)
{
	const struct cl_extent ext[] = {
		{ 0, SIZE, CBD_BRD_SIZE - 4 * CBD_MIB },
	};
	const struct cl_extent wraps[] = {
		{ 0, SIZE, UINT64_MAX - 4095 },
	};
	const struct cl_extent huge[] = {
		{ 0, UINT64_MAX - 511, 0 },
	};
	struct cl_dev_spec spec;

	EXPECT_EQ(-EINVAL, try_add(self, ext, 1));
	EXPECT_EQ(-EINVAL, try_add(self, wraps, 1));
	EXPECT_EQ(-EINVAL, try_add(self, huge, 1));
	/* Without a table, SIZE itself must fit below. */
	remap_spec(self, &spec, NULL, 0);
	spec.size = CBD_BRD_SIZE + CBD_MIB;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_add(self->k, &spec, NULL, NULL));
}

TEST_F(rbad, too_many_extents)
{
	const size_t nr = 1025;	/* module default max_extents: 1024 */
	struct cl_extent *ext = calloc(nr, sizeof(*ext));
	struct cl_dev_spec spec;

	ASSERT_NE(NULL, ext);
	for (size_t i = 0; i < nr; i++) {
		ext[i].start = i * 4096;
		ext[i].length = 4096;
		ext[i].lower_offset = i * 4096;
	}
	remap_spec(self, &spec, ext, nr);
	spec.size = nr * 4096;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_add(self->k, &spec, NULL, NULL));
	/* 1024 is fine. */
	spec.nr_extents = 1024;
	spec.size = 1024 * 4096;
	{
		struct cl_dev_info info;

		ASSERT_EQ(0, cl_kernel_dev_add(self->k, &spec, &info, NULL));
		EXPECT_EQ(0, cl_kernel_dev_remove(self->k, info.index, false,
						  NULL));
		EXPECT_EQ(0, cbd_wait_node(info.index, false, 5000));
	}
	free(ext);
}

/* Raw DEV_ADD for a remap backing; the caller adds EXTENTS (or not). */
static void raw_add(FIXTURE_DATA(rbad) *self, struct cbd_msg *m)
{
	cbd_msg_init(m, CINDERBLK_CMD_DEV_ADD, 0);
	cbd_msg_put_u64(m, CINDERBLK_ATTR_SIZE, SIZE);
	cbd_msg_put(m, CINDERBLK_ATTR_VOLUME_ID, self->volume_id,
		    CINDERBLK_VOLUME_ID_LEN + 1);
	cbd_msg_put_u32(m, CINDERBLK_ATTR_BACKING_TYPE, CINDERBLK_BACKING_REMAP);
	cbd_msg_put_u32(m, CINDERBLK_ATTR_BACKING_FD, (uint32_t)self->lower);
}

static void raw_extent(struct cbd_msg *m, uint16_t type, int skip,
		       uint64_t start, uint64_t len, uint64_t lower)
{
	size_t one = cbd_msg_nest_start(m, type);

	if (skip != CINDERBLK_EXTENT_START)
		cbd_msg_put_u64(m, CINDERBLK_EXTENT_START, start);
	if (skip != CINDERBLK_EXTENT_LENGTH)
		cbd_msg_put_u64(m, CINDERBLK_EXTENT_LENGTH, len);
	if (skip != CINDERBLK_EXTENT_LOWER_OFFSET)
		cbd_msg_put_u64(m, CINDERBLK_EXTENT_LOWER_OFFSET, lower);
	cbd_msg_nest_end(m, one);
}

/*
 * Remove the device a raw add that should have failed made anyway.
 * Returns its index, or -1 when there was none.
 */
static int remove_stray(FIXTURE_DATA(rbad) *self)
{
	struct cl_dev_info *devs;
	int index = -1;
	size_t n;

	if (cl_kernel_dev_list(self->k, &devs, &n, NULL))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(devs[i].volume_id, self->volume_id) != 0)
			continue;
		cl_kernel_dev_remove(self->k, devs[i].index, true, NULL);
		index = (int)devs[i].index;
	}
	free(devs);
	return index;
}

TEST_F(rbad, raw_netlink_tables)
{
	struct cbd_msg m;
	size_t list;
	int index;

	/* Complete: works (the reference). */
	raw_add(self, &m);
	list = cbd_msg_nest_start(&m, CINDERBLK_ATTR_EXTENTS);
	raw_extent(&m, 1, -1, 0, SIZE, 0);
	cbd_msg_nest_end(&m, list);
	ASSERT_EQ(0, cbd_msg_send(&m));
	index = remove_stray(self);
	ASSERT_LE(0, index);
	ASSERT_EQ(0, cbd_wait_node(index, false, 5000));

	/* No EXTENTS at all: the one-extent default, also fine. */
	raw_add(self, &m);
	ASSERT_EQ(0, cbd_msg_send(&m));
	remove_stray(self);

	/* An empty table. */
	raw_add(self, &m);
	list = cbd_msg_nest_start(&m, CINDERBLK_ATTR_EXTENTS);
	cbd_msg_nest_end(&m, list);
	EXPECT_EQ(-EINVAL, cbd_msg_send(&m));
	remove_stray(self);

	/* Each field missing in turn. */
	for (int skip = CINDERBLK_EXTENT_START;
	     skip <= CINDERBLK_EXTENT_LOWER_OFFSET; skip++) {
		raw_add(self, &m);
		list = cbd_msg_nest_start(&m, CINDERBLK_ATTR_EXTENTS);
		raw_extent(&m, 1, skip, 0, SIZE, 0);
		cbd_msg_nest_end(&m, list);
		EXPECT_EQ(-EINVAL, cbd_msg_send(&m)) {
			TH_LOG("without attribute %d", skip);
		}
		remove_stray(self);
	}

	/* An extent field of the wrong size. */
	raw_add(self, &m);
	list = cbd_msg_nest_start(&m, CINDERBLK_ATTR_EXTENTS);
	{
		size_t one = cbd_msg_nest_start(&m, 1);

		cbd_msg_put_u32(&m, CINDERBLK_EXTENT_START, 0);
		cbd_msg_put_u64(&m, CINDERBLK_EXTENT_LENGTH, SIZE);
		cbd_msg_put_u64(&m, CINDERBLK_EXTENT_LOWER_OFFSET, 0);
		cbd_msg_nest_end(&m, one);
	}
	cbd_msg_nest_end(&m, list);
	{
		int ret = cbd_msg_send(&m);

		EXPECT_TRUE(ret == -EINVAL || ret == -ERANGE) {
			TH_LOG("kernel answered %d", ret);
		}
	}
	remove_stray(self);

	/* An unknown attribute inside an extent (strict validation). */
	raw_add(self, &m);
	list = cbd_msg_nest_start(&m, CINDERBLK_ATTR_EXTENTS);
	{
		size_t one = cbd_msg_nest_start(&m, 1);

		cbd_msg_put_u64(&m, CINDERBLK_EXTENT_START, 0);
		cbd_msg_put_u64(&m, CINDERBLK_EXTENT_LENGTH, SIZE);
		cbd_msg_put_u64(&m, CINDERBLK_EXTENT_LOWER_OFFSET, 0);
		cbd_msg_put_u64(&m, CINDERBLK_EXTENT_MAX + 1, 0);
		cbd_msg_nest_end(&m, one);
	}
	cbd_msg_nest_end(&m, list);
	EXPECT_EQ(-EINVAL, cbd_msg_send(&m));
	remove_stray(self);

	/* EXTENTS without NLA_F_NESTED. */
	raw_add(self, &m);
	list = cbd_msg_nest_start(&m, CINDERBLK_ATTR_EXTENTS);
	raw_extent(&m, 1, -1, 0, SIZE, 0);
	cbd_msg_nest_end(&m, list);
	((struct nlattr *)(m.buf + list))->nla_type = CINDERBLK_ATTR_EXTENTS;
	EXPECT_EQ(-EINVAL, cbd_msg_send(&m));
	remove_stray(self);

	/* Remap without a backing fd. */
	cbd_msg_init(&m, CINDERBLK_CMD_DEV_ADD, 0);
	cbd_msg_put_u64(&m, CINDERBLK_ATTR_SIZE, SIZE);
	cbd_msg_put(&m, CINDERBLK_ATTR_VOLUME_ID, self->volume_id,
		    CINDERBLK_VOLUME_ID_LEN + 1);
	cbd_msg_put_u32(&m, CINDERBLK_ATTR_BACKING_TYPE, CINDERBLK_BACKING_REMAP);
	EXPECT_EQ(-EINVAL, cbd_msg_send(&m));
	remove_stray(self);
}

TEST_F(rbad, extents_with_a_file_backing)
{
	const struct cl_extent ext[] = { { 0, SIZE, 0 } };
	struct cl_dev_spec spec;
	struct cbd_dev file;

	ASSERT_EQ(0, cbd_backing_create(&file, SIZE));
	remap_spec(self, &spec, ext, 1);
	spec.backing_type = CL_BACKING_FILE;
	spec.backing_fd = file.backing_fd;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_add(self->k, &spec, NULL, NULL));
	/* And a regular file is no lower device for remap. */
	remap_spec(self, &spec, ext, 1);
	spec.backing_fd = file.backing_fd;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_add(self->k, &spec, NULL, NULL));
	cbd_dev_cleanup(&file);
}

TEST_F(rbad, bad_descriptors)
{
	const struct cl_extent ext[] = { { 0, SIZE, 0 } };
	struct cl_dev_spec spec;
	int p[2], ro;

	ASSERT_EQ(0, pipe(p));
	remap_spec(self, &spec, ext, 1);
	spec.backing_fd = p[0];
	EXPECT_EQ(-EINVAL, cl_kernel_dev_add(self->k, &spec, NULL, NULL));
	close(p[0]);
	close(p[1]);
	spec.backing_fd = 1000;
	EXPECT_EQ(-EBADF, cl_kernel_dev_add(self->k, &spec, NULL, NULL));
	ro = open(self->lower_path, O_RDONLY);
	ASSERT_LE(0, ro);
	spec.backing_fd = ro;
	EXPECT_EQ(-EBADF, cl_kernel_dev_add(self->k, &spec, NULL, NULL));
	close(ro);
}

TEST_F(rbad, lower_device_mounted_or_held)
{
	const struct cl_extent ext[] = { { 0, SIZE, 0 } };
	struct cl_dev_spec spec;
	struct cl_dev_info first;
	int excl;

	/* Held by an O_EXCL opener. */
	excl = open(self->lower_path, O_RDONLY | O_EXCL);
	ASSERT_LE(0, excl);
	EXPECT_EQ(-EBUSY, try_add(self, ext, 1));
	close(excl);

	/* Held by another remap device. */
	remap_spec(self, &spec, ext, 1);
	ASSERT_EQ(0, cl_kernel_dev_add(self->k, &spec, &first, NULL));
	cbd_make_uuid(self->volume_id);
	EXPECT_EQ(-EBUSY, try_add(self, ext, 1));
	EXPECT_EQ(0, cl_kernel_dev_remove(self->k, first.index, false, NULL));
	EXPECT_EQ(0, cbd_wait_node(first.index, false, 5000));

	/* Mounted. */
	ASSERT_EQ(0, cbd_system("mkfs.ext4 -q -F %s >/dev/null 2>&1 && "
				"mkdir -p /tmp/cbd-rbad && "
				"mount -t ext4 %s /tmp/cbd-rbad",
				self->lower_path, self->lower_path));
	EXPECT_EQ(-EBUSY, try_add(self, ext, 1));
	ASSERT_EQ(0, umount("/tmp/cbd-rbad"));
}

TEST_F(rbad, logical_block_size_below_the_lower_devices)
{
	struct cl_dev_spec spec;
	char loopdev[64] = "";
	FILE *p;
	int fd;

	ASSERT_EQ(0, cbd_system("modprobe loop 2>/dev/null; "
				"truncate -s 16M /tmp/cbd-rbad-4k.img"));
	p = popen("losetup --find --show -b 4096 /tmp/cbd-rbad-4k.img", "r");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, fgets(loopdev, sizeof(loopdev), p));
	pclose(p);
	loopdev[strcspn(loopdev, "\n")] = '\0';
	fd = open(loopdev, O_RDWR);
	ASSERT_LE(0, fd);
	remap_spec(self, &spec, NULL, 0);
	spec.backing_fd = fd;
	spec.logical_block_size = 512;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_add(self->k, &spec, NULL, NULL));
	/* With the lower device's block size it works. */
	spec.logical_block_size = 4096;
	{
		struct cl_dev_info info;

		ASSERT_EQ(0, cl_kernel_dev_add(self->k, &spec, &info, NULL));
		EXPECT_EQ(4096, info.logical_block_size);
		EXPECT_EQ(0, cl_kernel_dev_remove(self->k, info.index, false,
						  NULL));
		EXPECT_EQ(0, cbd_wait_node(info.index, false, 5000));
	}
	close(fd);
	EXPECT_TRUE(cbd_bdev_free(loopdev));
	cbd_system("losetup -d %s", loopdev);
}

TEST_F(rbad, resize_and_reconfigure)
{
	const struct cl_extent ext[] = { { 0, SIZE, 0 } };
	const struct cl_extent gap[] = {
		{ 0, 4 * CBD_MIB, 0 },
		{ 8 * CBD_MIB, 4 * CBD_MIB, 0 },
	};
	struct cl_dev_spec spec, re;
	struct cl_dev_info info;
	struct cbd_dev file;
	char node[64];
	int self_fd;

	remap_spec(self, &spec, ext, 1);
	ASSERT_EQ(0, cl_kernel_dev_add(self->k, &spec, &info, NULL));
	EXPECT_EQ(-EOPNOTSUPP, cl_kernel_dev_resize(self->k, info.index,
						    2 * SIZE, NULL));
	/* Reconfigure needs a suspended device. */
	cl_dev_spec_init(&re);
	re.backing_type = CL_BACKING_REMAP;
	re.backing_fd = self->lower;
	EXPECT_EQ(-EBUSY, cl_kernel_dev_reconfigure_spec(self->k, info.index,
							 &re, NULL));
	ASSERT_EQ(0, cl_kernel_dev_suspend(self->k, info.index, false, NULL));
	/* A bad table leaves the old one in place. */
	re.extents = gap;
	re.nr_extents = 2;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_reconfigure_spec(self->k, info.index,
							  &re, NULL));
	/* A file cannot replace a remap backing. */
	ASSERT_EQ(0, cbd_backing_create(&file, SIZE));
	EXPECT_EQ(-EINVAL, cl_kernel_dev_reconfigure(self->k, info.index,
						     file.backing_fd, NULL));
	/* Nor can the device be its own lower device. */
	ASSERT_EQ(0, cbd_wait_node(info.index, true, 5000));
	snprintf(node, sizeof(node), "/dev/cbd%u", info.index);
	self_fd = open(node, O_RDWR);
	ASSERT_LE(0, self_fd);
	re.backing_fd = self_fd;
	re.extents = NULL;
	re.nr_extents = 0;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_reconfigure_spec(self->k, info.index,
							  &re, NULL));
	close(self_fd);
	ASSERT_EQ(0, cl_kernel_dev_resume(self->k, info.index, NULL));
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, info.index, &info, NULL));
	EXPECT_EQ(SIZE, info.size);
	EXPECT_EQ(CL_BACKING_REMAP, info.backing_type);
	EXPECT_EQ(0, cl_kernel_dev_remove(self->k, info.index, false, NULL));
	EXPECT_EQ(0, cbd_wait_node(info.index, false, 5000));

	/* And a remap backing cannot replace a file. */
	spec.backing_type = CL_BACKING_FILE;
	spec.backing_fd = file.backing_fd;
	spec.extents = NULL;
	spec.nr_extents = 0;
	ASSERT_EQ(0, cl_kernel_dev_add(self->k, &spec, &info, NULL));
	ASSERT_EQ(0, cl_kernel_dev_suspend(self->k, info.index, false, NULL));
	re.backing_fd = self->lower;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_reconfigure_spec(self->k, info.index,
							  &re, NULL));
	ASSERT_EQ(0, cl_kernel_dev_resume(self->k, info.index, NULL));
	EXPECT_EQ(0, cl_kernel_dev_remove(self->k, info.index, false, NULL));
	EXPECT_EQ(0, cbd_wait_node(info.index, false, 5000));
	cbd_dev_cleanup(&file);
}

static void ioc_remap(FIXTURE_DATA(rbad) *self, struct cinderblk_ioc_dev *req,
		      const struct cinderblk_ioc_extent *ext, uint32_t nr)
{
	cbd_ioc_init(req, CINDERBLK_INDEX_ANY);
	req->size = SIZE;
	req->backing_type = CINDERBLK_BACKING_REMAP;
	req->backing_fd = self->lower;
	req->extents = (uintptr_t)ext;
	req->nr_extents = nr;
	memcpy(req->volume_id, self->volume_id, CINDERBLK_VOLUME_ID_LEN);
}

TEST_F(rbad, ioctl_extents)
{
	struct cinderblk_ioc_extent ext[2] = {
		{ .start = 4 * CBD_MIB, .length = 4 * CBD_MIB, .lower_offset = 0 },
		{ .start = 0, .length = 4 * CBD_MIB, .lower_offset = 16 * CBD_MIB },
	};
	struct cinderblk_ioc_dev req;

	/* A good table through ioctl: works, and sizes the struct as before. */
	ASSERT_EQ(sizeof(uint64_t) * 8,
		  sizeof(req) - offsetof(struct cinderblk_ioc_dev, reserved));
	ioc_remap(self, &req, ext, 2);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	EXPECT_EQ(CINDERBLK_BACKING_REMAP, req.backing_type);
	EXPECT_EQ(SIZE, req.size);
	cbd_ioc_init(&req, req.index);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_REMOVE, &req));
	ASSERT_EQ(0, cbd_wait_node(req.index, false, 5000));
	/* No table: the default single extent. */
	ioc_remap(self, &req, NULL, 0);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	cbd_ioc_init(&req, req.index);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_REMOVE, &req));
	ASSERT_EQ(0, cbd_wait_node(req.index, false, 5000));

	/* Unreadable table. */
	ioc_remap(self, &req, NULL, 2);
	req.extents = 16;
	EXPECT_EQ(-EFAULT, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	/* An address without a count: an empty table. */
	ioc_remap(self, &req, ext, 0);
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	/* Reserved field of an extent. */
	ext[1].reserved = 1;
	ioc_remap(self, &req, ext, 2);
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	ext[1].reserved = 0;
	/* A gap, through ioctl too. */
	ext[0].start = 5 * CBD_MIB;
	ioc_remap(self, &req, ext, 2);
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	ext[0].start = 4 * CBD_MIB;
	/* Over the module's limit. */
	ioc_remap(self, &req, ext, 1025);
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	/* Remap fields on a file add and on other commands. */
	ioc_remap(self, &req, ext, 2);
	req.backing_type = CINDERBLK_BACKING_FILE;
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	cbd_ioc_init(&req, 0);
	req.nr_extents = 1;
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_REMOVE, &req));
	cbd_ioc_init(&req, 0);
	req.__pad2 = 1;
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_GET, &req));
}

TEST_HARNESS_MAIN
