// SPDX-License-Identifier: GPL-2.0
/*
 * Bad requests to cinderblk, over netlink and ioctl: each one must fail
 * with its own errno and leave nothing behind (the dump, the module's
 * live-device counter and /sys/block are unchanged afterwards).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"

FIXTURE(bad) {
	struct cbd_dev d;
	struct cl_kernel *k;
	int ctl;
	int dump_before, live_before, sysfs_before;
};

FIXTURE_SETUP(bad)
{
	self->k = cbd_nl();
	ASSERT_NE(NULL, self->k);
	self->ctl = cbd_ctl_open();
	ASSERT_LE(0, self->ctl);
	ASSERT_EQ(0, cbd_backing_create(&self->d, CBD_DEFAULT_SIZE));
	cbd_make_uuid(self->d.volume_id);
	self->dump_before = cbd_dump_count();
	self->live_before = cbd_live_devices();
	self->sysfs_before = cbd_sysfs_block_count();
	ASSERT_LE(0, self->dump_before);
	ASSERT_LE(0, self->live_before);
	ASSERT_LE(0, self->sysfs_before);
}

FIXTURE_TEARDOWN(bad)
{
	/* Whatever failed must not have created or kept anything. */
	EXPECT_EQ(self->dump_before, cbd_dump_count());
	EXPECT_EQ(self->live_before, cbd_live_devices());
	EXPECT_EQ(self->sysfs_before, cbd_sysfs_block_count());
	cbd_dev_cleanup(&self->d);
	if (self->ctl >= 0)
		close(self->ctl);
}

/* Add through libcinderlib with one field changed by the caller. */
static int add_spec(FIXTURE_DATA(bad) *self, struct cl_dev_spec *spec)
{
	struct cl_dev_info info;
	int ret = cl_kernel_dev_add(self->k, spec, &info, NULL);

	if (ret == 0) {
		/* Should not happen: keep the teardown honest. */
		cl_kernel_dev_remove(self->k, info.index, true, NULL);
	}
	return ret;
}

static void base_spec(FIXTURE_DATA(bad) *self, struct cl_dev_spec *spec)
{
	cbd_spec_for(&self->d, spec);
}

/* A complete raw DEV_ADD message without the attribute @skip. */
static void raw_add(FIXTURE_DATA(bad) *self, struct cbd_msg *m, int skip)
{
	cbd_msg_init(m, CINDERBLK_CMD_DEV_ADD, 0);
	if (skip != CINDERBLK_ATTR_INDEX)
		cbd_msg_put_u32(m, CINDERBLK_ATTR_INDEX, CINDERBLK_INDEX_ANY);
	if (skip != CINDERBLK_ATTR_SIZE)
		cbd_msg_put_u64(m, CINDERBLK_ATTR_SIZE, self->d.size);
	if (skip != CINDERBLK_ATTR_VOLUME_ID)
		cbd_msg_put(m, CINDERBLK_ATTR_VOLUME_ID, self->d.volume_id,
			    CINDERBLK_VOLUME_ID_LEN + 1);
	if (skip != CINDERBLK_ATTR_BACKING_TYPE)
		cbd_msg_put_u32(m, CINDERBLK_ATTR_BACKING_TYPE,
				CINDERBLK_BACKING_FILE);
	if (skip != CINDERBLK_ATTR_BACKING_FD)
		cbd_msg_put_u32(m, CINDERBLK_ATTR_BACKING_FD,
				(uint32_t)self->d.backing_fd);
}

/* Remove whatever a raw add that should have failed created. */
static int send_add(struct cbd_msg *m)
{
	int ret = cbd_msg_send(m);

	return ret;
}

TEST_F(bad, raw_add_complete_message_works)
{
	struct cl_dev_info *devs;
	struct cbd_msg m;
	int before = cbd_dump_count();
	size_t n;

	/* The reference for the raw tests below: nothing missing, it works. */
	raw_add(self, &m, -1);
	ASSERT_EQ(0, send_add(&m));
	ASSERT_EQ(before + 1, cbd_dump_count());
	ASSERT_EQ(0, cl_kernel_dev_list(self->k, &devs, &n, NULL));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(devs[i].volume_id, self->d.volume_id) != 0)
			continue;
		EXPECT_EQ(0, cl_kernel_dev_remove(self->k, devs[i].index,
						  false, NULL));
	}
	free(devs);
}

TEST_F(bad, missing_size)
{
	struct cbd_msg m;

	raw_add(self, &m, CINDERBLK_ATTR_SIZE);
	EXPECT_EQ(-EINVAL, send_add(&m));
}

TEST_F(bad, missing_volume_id)
{
	struct cbd_msg m;

	raw_add(self, &m, CINDERBLK_ATTR_VOLUME_ID);
	EXPECT_EQ(-EINVAL, send_add(&m));
}

TEST_F(bad, missing_backing_type)
{
	struct cbd_msg m;

	raw_add(self, &m, CINDERBLK_ATTR_BACKING_TYPE);
	EXPECT_EQ(-EINVAL, send_add(&m));
}

TEST_F(bad, missing_backing_fd)
{
	struct cbd_msg m;

	raw_add(self, &m, CINDERBLK_ATTR_BACKING_FD);
	EXPECT_EQ(-EINVAL, send_add(&m));
}

TEST_F(bad, missing_index_on_remove_and_resize)
{
	struct cbd_msg m;

	cbd_msg_init(&m, CINDERBLK_CMD_DEV_REMOVE, 0);
	EXPECT_EQ(-EINVAL, cbd_msg_send(&m));
	cbd_msg_init(&m, CINDERBLK_CMD_DEV_RESIZE, 0);
	cbd_msg_put_u32(&m, CINDERBLK_ATTR_INDEX, 0);
	EXPECT_EQ(-EINVAL, cbd_msg_send(&m));	/* no SIZE */
	cbd_msg_init(&m, CINDERBLK_CMD_DEV_SUSPEND, 0);
	EXPECT_EQ(-EINVAL, cbd_msg_send(&m));
}

TEST_F(bad, u8_where_u32_expected)
{
	struct cbd_msg m;
	uint8_t small = 1;
	int ret;

	raw_add(self, &m, CINDERBLK_ATTR_BACKING_TYPE);
	cbd_msg_put(&m, CINDERBLK_ATTR_BACKING_TYPE, &small, sizeof(small));
	ret = send_add(&m);
	EXPECT_TRUE(ret == -EINVAL || ret == -ERANGE);
	TH_LOG("kernel answered %d", ret);
	cbd_msg_init(&m, CINDERBLK_CMD_DEV_REMOVE, 0);
	cbd_msg_put(&m, CINDERBLK_ATTR_INDEX, &small, sizeof(small));
	ret = cbd_msg_send(&m);
	EXPECT_TRUE(ret == -EINVAL || ret == -ERANGE);
	TH_LOG("kernel answered %d", ret);
}

TEST_F(bad, u32_where_u64_expected)
{
	struct cbd_msg m;
	int ret;

	raw_add(self, &m, CINDERBLK_ATTR_SIZE);
	cbd_msg_put_u32(&m, CINDERBLK_ATTR_SIZE, (uint32_t)self->d.size);
	ret = send_add(&m);
	EXPECT_TRUE(ret == -EINVAL || ret == -ERANGE);
	TH_LOG("kernel answered %d", ret);
}

TEST_F(bad, volume_id_too_long)
{
	char id[64];
	struct cl_dev_spec spec;
	int ret;

	snprintf(id, sizeof(id), "%sa", self->d.volume_id);	/* 37 chars */
	base_spec(self, &spec);
	spec.volume_id = id;
	ret = add_spec(self, &spec);
	EXPECT_TRUE(ret == -EINVAL || ret == -ERANGE);
	TH_LOG("kernel answered %d", ret);
}

TEST_F(bad, volume_id_not_a_uuid)
{
	struct cl_dev_spec spec;

	base_spec(self, &spec);
	spec.volume_id = "not-a-uuid-but-exactly-36-characters";
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
	spec.volume_id = "1234";
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
}

TEST_F(bad, size_zero)
{
	struct cl_dev_spec spec;

	base_spec(self, &spec);
	spec.size = 0;
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
}

TEST_F(bad, size_not_multiple_of_block_size)
{
	struct cl_dev_spec spec;

	base_spec(self, &spec);
	spec.size = CBD_MIB + 100;
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
	spec.size = CBD_MIB + 512;
	spec.logical_block_size = 4096;
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
}

TEST_F(bad, block_size_not_power_of_two)
{
	struct cl_dev_spec spec;

	base_spec(self, &spec);
	spec.logical_block_size = 1536;
	spec.size = 1536 * 1024;
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
	base_spec(self, &spec);
	spec.physical_block_size = 3072;
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
}

TEST_F(bad, block_size_out_of_range)
{
	struct cl_dev_spec spec;

	base_spec(self, &spec);
	spec.logical_block_size = 256;
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
	spec.logical_block_size = 8192;
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
	base_spec(self, &spec);
	spec.logical_block_size = 4096;
	spec.physical_block_size = 512;	/* below logical */
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
}

TEST_F(bad, unknown_flags_and_backing_type)
{
	struct cl_dev_spec spec;
	int ret;

	base_spec(self, &spec);
	spec.flags = 1U << 30;
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
	base_spec(self, &spec);
	spec.backing_type = (enum cl_backing_type)42;
	ret = add_spec(self, &spec);
	/* An enum out of the policy's range is ERANGE in netlink terms. */
	EXPECT_TRUE(ret == -EINVAL || ret == -ERANGE);
	TH_LOG("kernel answered %d", ret);
}

TEST_F(bad, fd_is_a_pipe)
{
	struct cl_dev_spec spec;
	int p[2];

	ASSERT_EQ(0, pipe(p));
	base_spec(self, &spec);
	spec.backing_fd = p[1];
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
	close(p[0]);
	close(p[1]);
}

TEST_F(bad, fd_is_a_socket)
{
	struct cl_dev_spec spec;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	base_spec(self, &spec);
	spec.backing_fd = sv[0];
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(bad, fd_is_a_directory)
{
	struct cl_dev_spec spec;
	int dir = open(cbd_scratch_dir(), O_RDONLY | O_DIRECTORY);

	ASSERT_LE(0, dir);
	base_spec(self, &spec);
	spec.backing_fd = dir;
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
	close(dir);
}

TEST_F(bad, fd_not_open)
{
	struct cl_dev_spec spec;

	base_spec(self, &spec);
	spec.backing_fd = 1000;	/* nothing open there */
	EXPECT_EQ(-EBADF, add_spec(self, &spec));
}

TEST_F(bad, read_only_fd_for_read_write_device)
{
	struct cl_dev_spec spec;
	int ro = open(self->d.path, O_RDONLY);

	ASSERT_LE(0, ro);
	base_spec(self, &spec);
	spec.backing_fd = ro;
	EXPECT_EQ(-EBADF, add_spec(self, &spec));
	/* The same descriptor is fine for a read-only device. */
	spec.flags = CINDERBLK_F_READ_ONLY;
	{
		struct cl_dev_info info;

		ASSERT_EQ(0, cl_kernel_dev_add(self->k, &spec, &info, NULL));
		EXPECT_EQ(0, cl_kernel_dev_remove(self->k, info.index, false, NULL));
	}
	close(ro);
}

TEST_F(bad, cinderblk_device_as_its_own_backing)
{
	struct cbd_dev lower;
	struct cl_dev_spec spec;
	int fd;

	ASSERT_EQ(0, cbd_backing_create(&lower, CBD_DEFAULT_SIZE));
	ASSERT_EQ(0, cbd_add_nl(&lower, 0));
	fd = open(lower.node, O_RDWR);
	ASSERT_LE(0, fd);
	base_spec(self, &spec);
	spec.backing_fd = fd;
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
	close(fd);
	cbd_dev_cleanup(&lower);
}

TEST_F(bad, index_in_use)
{
	struct cbd_dev first;
	struct cl_dev_spec spec;

	ASSERT_EQ(0, cbd_backing_create(&first, CBD_MIB));
	ASSERT_EQ(0, cbd_add_nl(&first, 0));
	base_spec(self, &spec);
	spec.index = first.index;
	EXPECT_EQ(-EEXIST, add_spec(self, &spec));
	/* The first device is unharmed. */
	EXPECT_TRUE(cbd_dump_has(first.index));
	cbd_dev_cleanup(&first);
}

TEST_F(bad, index_beyond_max_devices)
{
	struct cl_dev_spec spec;

	base_spec(self, &spec);
	spec.index = 1U << 20;
	EXPECT_EQ(-EINVAL, add_spec(self, &spec));
}

TEST_F(bad, missing_device_operations)
{
	struct cl_dev_info info;
	struct cinderblk_ioc_dev req;
	uint32_t none = 250;

	EXPECT_EQ(-ENODEV, cl_kernel_dev_remove(self->k, none, false, NULL));
	EXPECT_EQ(-ENODEV, cl_kernel_dev_remove(self->k, none, true, NULL));
	EXPECT_EQ(-ENODEV, cl_kernel_dev_resize(self->k, none, CBD_MIB, NULL));
	EXPECT_EQ(-ENODEV, cl_kernel_dev_get(self->k, none, &info, NULL));
	EXPECT_EQ(-ENODEV, cl_kernel_dev_suspend(self->k, none, false, NULL));
	EXPECT_EQ(-ENODEV, cl_kernel_dev_resume(self->k, none, NULL));
	EXPECT_EQ(-ENODEV, cl_kernel_dev_reconfigure(self->k, none,
						     self->d.backing_fd, NULL));
	cbd_ioc_init(&req, none);
	EXPECT_EQ(-ENODEV, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_REMOVE, &req));
	cbd_ioc_init(&req, none);
	req.size = CBD_MIB;
	EXPECT_EQ(-ENODEV, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_RESIZE, &req));
	cbd_ioc_init(&req, CINDERBLK_INDEX_ANY);
	EXPECT_EQ(-ENODEV, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_GET, &req));
}

TEST_F(bad, resize_to_bad_size)
{
	struct cbd_dev dev;
	struct cl_dev_info info;

	ASSERT_EQ(0, cbd_backing_create(&dev, 4 * CBD_MIB));
	ASSERT_EQ(0, cbd_add_nl(&dev, 0));
	EXPECT_EQ(-EINVAL, cl_kernel_dev_resize(self->k, dev.index, 0, NULL));
	EXPECT_EQ(-EINVAL, cl_kernel_dev_resize(self->k, dev.index,
						CBD_MIB + 1, NULL));
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, dev.index, &info, NULL));
	EXPECT_EQ(4 * CBD_MIB, info.size);
	cbd_dev_cleanup(&dev);
}

/* In a child without CAP_SYS_ADMIN: every mutating request is refused. */
static int unprivileged_child(uint32_t index, int backing_fd,
			      const char *volume_id)
{
	struct cl_kernel *k;
	struct cl_dev_spec spec;
	struct cinderblk_ioc_dev req;
	int ctl, fails = 0;

	if (cbd_drop_sys_admin())
		return 100;
	if (cl_kernel_open(&k, NULL))
		return 101;
	cl_dev_spec_init(&spec);
	spec.size = CBD_MIB;
	spec.volume_id = volume_id;
	spec.backing_fd = backing_fd;
	fails += cl_kernel_dev_add(k, &spec, NULL, NULL) != -EPERM;
	fails += cl_kernel_dev_remove(k, index, true, NULL) != -EPERM;
	fails += cl_kernel_dev_resize(k, index, CBD_MIB, NULL) != -EPERM;
	fails += cl_kernel_dev_suspend(k, index, false, NULL) != -EPERM;
	fails += cl_kernel_dev_resume(k, index, NULL) != -EPERM;
	cl_kernel_close(k);

	ctl = cbd_ctl_open();
	if (ctl >= 0) {
		cbd_ioc_init(&req, CINDERBLK_INDEX_ANY);
		req.size = CBD_MIB;
		req.backing_type = CINDERBLK_BACKING_FILE;
		req.backing_fd = backing_fd;
		memcpy(req.volume_id, volume_id, CINDERBLK_VOLUME_ID_LEN);
		fails += cbd_ioc(ctl, CINDERBLK_IOC_DEV_ADD, &req) != -EPERM;
		cbd_ioc_init(&req, index);
		req.ctl_flags = CINDERBLK_CTL_FORCE;
		fails += cbd_ioc(ctl, CINDERBLK_IOC_DEV_REMOVE, &req) != -EPERM;
		close(ctl);
	} else if (ctl != -EPERM && ctl != -EACCES) {
		fails++;
	}
	return fails;
}

TEST_F(bad, no_cap_sys_admin)
{
	struct cbd_dev dev;
	char other_id[CL_VOLUME_ID_LEN + 1];
	struct cl_dev_info info;
	int status;
	pid_t pid;

	ASSERT_EQ(0, cbd_backing_create(&dev, 4 * CBD_MIB));
	ASSERT_EQ(0, cbd_add_nl(&dev, 0));
	cbd_make_uuid(other_id);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(unprivileged_child(dev.index, self->d.backing_fd, other_id));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The device is untouched. */
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, dev.index, &info, NULL));
	EXPECT_EQ(4 * CBD_MIB, info.size);
	EXPECT_EQ(CL_DEV_STATE_LIVE, info.state);
	cbd_dev_cleanup(&dev);
}

static void ioc_add_request(FIXTURE_DATA(bad) *self, struct cinderblk_ioc_dev *req)
{
	cbd_ioc_init(req, CINDERBLK_INDEX_ANY);
	req->size = self->d.size;
	req->backing_type = CINDERBLK_BACKING_FILE;
	req->backing_fd = self->d.backing_fd;
	memcpy(req->volume_id, self->d.volume_id, CINDERBLK_VOLUME_ID_LEN);
}

TEST_F(bad, ioctl_wrong_version)
{
	struct cinderblk_ioc_dev req;

	ioc_add_request(self, &req);
	req.version = CINDERBLK_IOCTL_VERSION + 1;
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	ioc_add_request(self, &req);
	req.version = 0;
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	cbd_ioc_init(&req, 0);
	req.version = 7;
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_GET, &req));
}

TEST_F(bad, ioctl_reserved_not_zero)
{
	struct cinderblk_ioc_dev req;

	for (int i = 0; i < 8; i += 7) {
		ioc_add_request(self, &req);
		req.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	}
	ioc_add_request(self, &req);
	req.__pad = 1;
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	cbd_ioc_init(&req, 0);
	req.reserved[3] = 0xff;
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_REMOVE, &req));
}

TEST_F(bad, ioctl_bad_fields)
{
	struct cinderblk_ioc_dev req;
	int p[2];

	/* Volume id without its NUL. */
	ioc_add_request(self, &req);
	memset(req.volume_id, 'a', sizeof(req.volume_id));
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	ioc_add_request(self, &req);
	req.size = 0;
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	ioc_add_request(self, &req);
	req.logical_block_size = 1000;
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	ioc_add_request(self, &req);
	req.ctl_flags = 1U << 20;
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	ASSERT_EQ(0, pipe(p));
	ioc_add_request(self, &req);
	req.backing_fd = p[0];
	EXPECT_EQ(-EINVAL, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	close(p[0]);
	close(p[1]);
	ioc_add_request(self, &req);
	req.backing_fd = -1;
	EXPECT_EQ(-EBADF, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
}

TEST_F(bad, ioctl_unknown_command)
{
	char buf[256] = { 0 };

	EXPECT_EQ(-1, ioctl(self->ctl, _IOWR(CINDERBLK_IOCTL_MAGIC, 0x5f, buf), buf));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_HARNESS_MAIN
