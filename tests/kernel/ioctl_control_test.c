// SPDX-License-Identifier: GPL-2.0
/*
 * Control of cinderblk devices through the ioctls of /dev/cinderblk-control
 * and CINDERBLK_IOC_INFO on /dev/cbdN.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fs.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"

FIXTURE(ioc) {
	struct cbd_dev d;
	int ctl;
};

FIXTURE_SETUP(ioc)
{
	self->ctl = cbd_ctl_open();
	ASSERT_LE(0, self->ctl);
	ASSERT_EQ(0, cbd_backing_create(&self->d, CBD_DEFAULT_SIZE));
}

FIXTURE_TEARDOWN(ioc)
{
	cbd_dev_cleanup(&self->d);
	if (self->ctl >= 0)
		close(self->ctl);
}

TEST_F(ioc, control_device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat("/dev/" CINDERBLK_CONTROL_NAME, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	/* Nobody but root may write to it. */
	EXPECT_EQ(0, st.st_mode & 0022);
}

TEST_F(ioc, add_get_remove)
{
	struct cinderblk_ioc_dev req;

	ASSERT_EQ(0, cbd_add_ioctl(&self->d, CINDERBLK_F_DISCARD));
	cbd_ioc_init(&req, self->d.index);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_GET, &req));
	EXPECT_EQ(self->d.index, req.index);
	EXPECT_EQ(self->d.size, req.size);
	EXPECT_EQ(512, req.logical_block_size);
	EXPECT_EQ(CINDERBLK_BACKING_FILE, req.backing_type);
	EXPECT_EQ(CINDERBLK_STATE_LIVE, req.state);
	EXPECT_EQ(0, req.open_count);
	EXPECT_TRUE(req.flags & CINDERBLK_F_DISCARD);
	EXPECT_STREQ(self->d.volume_id, req.volume_id);
	EXPECT_TRUE(cbd_dump_has(self->d.index));

	cbd_ioc_init(&req, self->d.index);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_REMOVE, &req));
	self->d.added = false;
	cbd_ioc_init(&req, self->d.index);
	EXPECT_EQ(-ENODEV, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_GET, &req));
	EXPECT_EQ(0, cbd_wait_node(self->d.index, false, 5000));
	EXPECT_FALSE(cbd_dump_has(self->d.index));
}

TEST_F(ioc, add_at_index)
{
	struct cinderblk_ioc_dev req;

	cbd_make_uuid(self->d.volume_id);
	cbd_ioc_init(&req, 23);
	req.size = self->d.size;
	req.backing_type = CINDERBLK_BACKING_FILE;
	req.backing_fd = self->d.backing_fd;
	req.logical_block_size = 4096;
	memcpy(req.volume_id, self->d.volume_id, CINDERBLK_VOLUME_ID_LEN);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_ADD, &req));
	self->d.added = true;
	self->d.index = req.index;
	EXPECT_EQ(23, req.index);
	ASSERT_EQ(0, cbd_wait_node(23, true, 5000));
	cbd_ioc_init(&req, 23);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_GET, &req));
	EXPECT_EQ(4096, req.logical_block_size);
	EXPECT_EQ(4096, req.physical_block_size);
}

TEST_F(ioc, resize_seen_by_blkgetsize64)
{
	struct cinderblk_ioc_dev req;
	int fd;

	ASSERT_EQ(0, cbd_add_ioctl(&self->d, 0));
	fd = open(self->d.node, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(self->d.size, cbd_bdev_size(fd));
	ASSERT_EQ(0, ftruncate(self->d.backing_fd, 48 * CBD_MIB));
	cbd_ioc_init(&req, self->d.index);
	req.size = 48 * CBD_MIB;
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_RESIZE, &req));
	EXPECT_EQ(48 * CBD_MIB, cbd_bdev_size(fd));
	cbd_ioc_init(&req, self->d.index);
	req.size = 4 * CBD_MIB;
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_RESIZE, &req));
	EXPECT_EQ(4 * CBD_MIB, cbd_bdev_size(fd));
	cbd_ioc_init(&req, self->d.index);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_GET, &req));
	EXPECT_EQ(4 * CBD_MIB, req.size);
	close(fd);
}

TEST_F(ioc, suspend_holds_io_until_resume)
{
	struct cinderblk_ioc_dev req;
	struct pollfd pfd;
	char *buf = cbd_alloc(4096), ok = 0;
	int fd, pipefd[2], status;
	pid_t pid;

	ASSERT_EQ(0, cbd_add_ioctl(&self->d, 0));
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	cbd_ioc_init(&req, self->d.index);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_SUSPEND, &req));
	cbd_ioc_init(&req, self->d.index);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_GET, &req));
	EXPECT_EQ(CINDERBLK_STATE_SUSPENDED, req.state);

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* A write this time, checked in the backing below. */
		cbd_fill(buf, 4096, 8192, 5);
		ok = pwrite(fd, buf, 4096, 8192) == 4096 ? 'y' : 'n';
		_exit(write(pipefd[1], &ok, 1) == 1 ? 0 : 1);
	}
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	EXPECT_EQ(0, poll(&pfd, 1, 1500));
	/* Nothing reached the backing while suspended. */
	ASSERT_EQ(4096, pread(self->d.backing_fd, buf, 4096, 8192));
	EXPECT_TRUE(cbd_is_zero(buf, 4096));

	cbd_ioc_init(&req, self->d.index);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_RESUME, &req));
	ASSERT_EQ(1, poll(&pfd, 1, 20000));
	ASSERT_EQ(1, read(pipefd[0], &ok, 1));
	EXPECT_EQ('y', ok);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(4096, pread(self->d.backing_fd, buf, 4096, 8192));
	EXPECT_TRUE(cbd_check(buf, 4096, 8192, 5));
	cbd_ioc_init(&req, self->d.index);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_GET, &req));
	EXPECT_EQ(CINDERBLK_STATE_LIVE, req.state);
	close(pipefd[0]);
	close(fd);
	free(buf);
}

TEST_F(ioc, info_on_block_device)
{
	struct cinderblk_ioc_info info;
	int fd;

	ASSERT_EQ(0, cbd_add_ioctl(&self->d, CINDERBLK_F_WRITE_ZEROES));
	fd = open(self->d.node, O_RDONLY);
	ASSERT_LE(0, fd);
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, ioctl(fd, CINDERBLK_IOC_INFO, &info));
	EXPECT_EQ(CINDERBLK_IOCTL_VERSION, info.version);
	EXPECT_EQ(self->d.index, info.index);
	EXPECT_EQ(self->d.size, info.size);
	EXPECT_EQ(CINDERBLK_BACKING_FILE, info.backing_type);
	EXPECT_EQ(CINDERBLK_STATE_LIVE, info.state);
	EXPECT_TRUE(info.flags & CINDERBLK_F_WRITE_ZEROES);
	EXPECT_STREQ(self->d.volume_id, info.volume_id);
	for (int i = 0; i < 8; i++)
		EXPECT_EQ(0, info.reserved[i]);
	close(fd);
}

TEST_F(ioc, remove_open_device_needs_force)
{
	struct cinderblk_ioc_dev req;
	char *buf = cbd_alloc(4096);
	int fd;

	ASSERT_EQ(0, cbd_add_ioctl(&self->d, 0));
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	cbd_ioc_init(&req, self->d.index);
	EXPECT_EQ(-EBUSY, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_REMOVE, &req));
	EXPECT_TRUE(cbd_dump_has(self->d.index));
	cbd_ioc_init(&req, self->d.index);
	req.ctl_flags = CINDERBLK_CTL_FORCE;
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_REMOVE, &req));
	self->d.added = false;
	EXPECT_FALSE(cbd_dump_has(self->d.index));
	/* The opener gets no data now: an error, or the end of a disk
	 * whose capacity dropped to 0. */
	EXPECT_GE(0, pread(fd, buf, 4096, 0));
	EXPECT_EQ(-1, pwrite(fd, buf, 4096, 0));
	EXPECT_EQ(0, cbd_bdev_size(fd));
	close(fd);
	free(buf);
}

TEST_F(ioc, reconfigure_while_suspended)
{
	struct cbd_dev other;
	struct cinderblk_ioc_dev req;
	char *buf = cbd_alloc(4096);
	int fd;

	ASSERT_EQ(0, cbd_add_ioctl(&self->d, 0));
	ASSERT_EQ(0, cbd_backing_create(&other, CBD_DEFAULT_SIZE));
	cbd_fill(buf, 4096, 4096, 6);
	ASSERT_EQ(4096, pwrite(other.backing_fd, buf, 4096, 4096));
	ASSERT_EQ(0, fsync(other.backing_fd));

	cbd_ioc_init(&req, self->d.index);
	req.backing_type = CINDERBLK_BACKING_FILE;
	req.backing_fd = other.backing_fd;
	EXPECT_EQ(-EBUSY, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_RECONFIGURE, &req));
	cbd_ioc_init(&req, self->d.index);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_SUSPEND, &req));
	cbd_ioc_init(&req, self->d.index);
	req.backing_type = CINDERBLK_BACKING_FILE;
	req.backing_fd = other.backing_fd;
	EXPECT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_RECONFIGURE, &req));
	cbd_ioc_init(&req, self->d.index);
	ASSERT_EQ(0, cbd_ioc(self->ctl, CINDERBLK_IOC_DEV_RESUME, &req));
	fd = open(self->d.node, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	memset(buf, 0, 4096);
	ASSERT_EQ(4096, pread(fd, buf, 4096, 4096));
	EXPECT_TRUE(cbd_check(buf, 4096, 4096, 6));
	close(fd);
	cbd_dev_cleanup(&other);
	free(buf);
}

TEST_HARNESS_MAIN
