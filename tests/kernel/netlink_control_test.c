// SPDX-License-Identifier: GPL-2.0
/*
 * Control of cinderblk devices over generic netlink (through libcinderlib):
 * add, get, dump, resize, suspend/resume, reconfigure, remove; sysfs
 * attributes; events on the multicast group.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fs.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"

#define EVENT_WAIT_MS 5000

FIXTURE(nl) {
	struct cbd_dev d;
	struct cbd_dev more[3];
	struct cl_kernel *k;
};

FIXTURE_SETUP(nl)
{
	for (int i = 0; i < 3; i++)
		self->more[i].backing_fd = -1;
	self->k = cbd_nl();
	ASSERT_NE(NULL, self->k);
	ASSERT_EQ(0, cbd_backing_create(&self->d, CBD_DEFAULT_SIZE));
}

FIXTURE_TEARDOWN(nl)
{
	cbd_dev_cleanup(&self->d);
	for (int i = 0; i < 3; i++)
		cbd_dev_cleanup(&self->more[i]);
}

TEST_F(nl, add_get_remove)
{
	struct cl_dev_info info;
	char name[32];
	int fd;

	ASSERT_EQ(0, cbd_add_nl(&self->d, CINDERBLK_F_DISCARD));
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, self->d.index, &info, NULL));
	EXPECT_EQ(self->d.index, info.index);
	snprintf(name, sizeof(name), "cbd%u", self->d.index);
	EXPECT_STREQ(name, info.disk_name);
	EXPECT_STREQ(self->d.volume_id, info.volume_id);
	EXPECT_EQ(self->d.size, info.size);
	EXPECT_EQ(512, info.logical_block_size);
	EXPECT_EQ(CL_BACKING_FILE, info.backing_type);
	EXPECT_EQ(CL_DEV_STATE_LIVE, info.state);
	EXPECT_EQ(0, info.open_count);
	EXPECT_TRUE(info.flags & CINDERBLK_F_DISCARD);
	EXPECT_FALSE(info.flags & CINDERBLK_F_READ_ONLY);

	fd = open(self->d.node, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(self->d.size, cbd_bdev_size(fd));
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, self->d.index, &info, NULL));
	EXPECT_EQ(1, info.open_count);
	close(fd);

	ASSERT_EQ(0, cl_kernel_dev_remove(self->k, self->d.index, false, NULL));
	self->d.added = false;
	EXPECT_EQ(-ENODEV, cl_kernel_dev_get(self->k, self->d.index, &info, NULL));
	EXPECT_EQ(0, cbd_wait_node(self->d.index, false, 5000));
	EXPECT_FALSE(cbd_dump_has(self->d.index));
}

TEST_F(nl, add_with_block_sizes_and_queues)
{
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	unsigned int lbs = 0, pbs = 0;
	int fd;

	cbd_spec_for(&self->d, &spec);
	spec.logical_block_size = 4096;
	spec.physical_block_size = 4096;
	spec.nr_hw_queues = 1;
	spec.queue_depth = 32;
	spec.io_timeout_ms = 10000;
	ASSERT_EQ(0, cbd_add_nl_spec(&self->d, &spec));
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, self->d.index, &info, NULL));
	EXPECT_EQ(4096, info.logical_block_size);
	EXPECT_EQ(4096, info.physical_block_size);
	EXPECT_EQ(1, info.nr_hw_queues);
	EXPECT_EQ(32, info.queue_depth);
	EXPECT_EQ(10000, info.io_timeout_ms);
	fd = open(self->d.node, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, BLKSSZGET, &lbs));
	ASSERT_EQ(0, ioctl(fd, BLKPBSZGET, &pbs));
	EXPECT_EQ(4096, lbs);
	EXPECT_EQ(4096, pbs);
	close(fd);
}

TEST_F(nl, add_at_index_and_any)
{
	struct cl_dev_spec spec;

	cbd_spec_for(&self->d, &spec);
	spec.index = 17;
	ASSERT_EQ(0, cbd_add_nl_spec(&self->d, &spec));
	EXPECT_EQ(17, self->d.index);
	EXPECT_EQ(0, access("/dev/cbd17", F_OK));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, cbd_backing_create(&self->more[i], CBD_MIB));
		ASSERT_EQ(0, cbd_add_nl(&self->more[i], 0));
	}
	EXPECT_NE(self->more[0].index, self->more[1].index);
	EXPECT_NE(17, self->more[0].index);
	EXPECT_NE(17, self->more[1].index);
}

TEST_F(nl, dump_lists_every_device)
{
	struct cl_dev_info *devs;
	size_t n;
	int before = cbd_dump_count();

	ASSERT_LE(0, before);
	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, cbd_backing_create(&self->more[i], (i + 1) * CBD_MIB));
		ASSERT_EQ(0, cbd_add_nl(&self->more[i], 0));
	}
	ASSERT_EQ(0, cl_kernel_dev_list(self->k, &devs, &n, NULL));
	EXPECT_EQ((size_t)before + 4, n);
	for (int i = 0; i < 3; i++) {
		bool found = false;

		for (size_t j = 0; j < n; j++) {
			if (devs[j].index != self->more[i].index)
				continue;
			found = true;
			EXPECT_STREQ(self->more[i].volume_id, devs[j].volume_id);
			EXPECT_EQ((uint64_t)(i + 1) * CBD_MIB, devs[j].size);
		}
		EXPECT_TRUE(found);
	}
	free(devs);
}

TEST_F(nl, resize_grow_and_shrink)
{
	struct cl_dev_info info;
	char *buf = cbd_alloc(4096);
	int fd;

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	fd = open(self->d.node, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(self->d.backing_fd, 32 * CBD_MIB));
	ASSERT_EQ(0, cl_kernel_dev_resize(self->k, self->d.index, 32 * CBD_MIB, NULL));
	EXPECT_EQ(32 * CBD_MIB, cbd_bdev_size(fd));
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, self->d.index, &info, NULL));
	EXPECT_EQ(32 * CBD_MIB, info.size);

	ASSERT_EQ(0, cl_kernel_dev_resize(self->k, self->d.index, 8 * CBD_MIB, NULL));
	EXPECT_EQ(8 * CBD_MIB, cbd_bdev_size(fd));
	/* Reading past the new end gives nothing. */
	EXPECT_EQ(0, pread(fd, buf, 4096, 8 * CBD_MIB));
	close(fd);
	free(buf);
}

/* Child: read 4 KiB at 0 with O_DIRECT through @fd, report on @wfd. */
static void reader(int fd, int wfd)
{
	char *buf = cbd_alloc(4096);
	char ok = pread(fd, buf, 4096, 0) == 4096 && cbd_check(buf, 4096, 0, 77) ?
		  'y' : 'n';

	if (write(wfd, &ok, 1) != 1)
		_exit(2);
	_exit(0);
}

TEST_F(nl, suspend_holds_io_until_resume)
{
	struct cl_dev_info info;
	struct pollfd pfd;
	char *buf = cbd_alloc(4096), state[64], result = 0;
	int fd, pipefd[2], status;
	pid_t pid;

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	cbd_fill(buf, 4096, 0, 77);
	ASSERT_EQ(4096, pwrite(fd, buf, 4096, 0));

	ASSERT_EQ(0, cl_kernel_dev_suspend(self->k, self->d.index, false, NULL));
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, self->d.index, &info, NULL));
	EXPECT_EQ(CL_DEV_STATE_SUSPENDED, info.state);
	ASSERT_EQ(0, cbd_sysfs_read(self->d.index, "state", state, sizeof(state)));
	EXPECT_STREQ("suspended", state);
	/* Suspending twice is refused. */
	EXPECT_EQ(-EBUSY, cl_kernel_dev_suspend(self->k, self->d.index, false, NULL));

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		reader(fd, pipefd[1]);
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	/* The read must wait while the device is suspended. */
	EXPECT_EQ(0, poll(&pfd, 1, 1500));

	ASSERT_EQ(0, cl_kernel_dev_resume(self->k, self->d.index, NULL));
	ASSERT_EQ(1, poll(&pfd, 1, 20000));
	ASSERT_EQ(1, read(pipefd[0], &result, 1));
	EXPECT_EQ('y', result);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, cbd_sysfs_read(self->d.index, "state", state, sizeof(state)));
	EXPECT_STREQ("live", state);
	/* Resuming a live device is refused. */
	EXPECT_EQ(-EINVAL, cl_kernel_dev_resume(self->k, self->d.index, NULL));
	close(pipefd[0]);
	close(fd);
	free(buf);
}

TEST_F(nl, suspend_flushes_written_data)
{
	char *buf = cbd_alloc(64 * 1024), *back = cbd_alloc(64 * 1024);
	int fd;

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	fd = open(self->d.node, O_RDWR);
	ASSERT_LE(0, fd);
	cbd_fill(buf, 64 * 1024, CBD_MIB, 88);
	ASSERT_EQ(64 * 1024, pwrite(fd, buf, 64 * 1024, CBD_MIB));
	/* Buffered: in the device's page cache until someone flushes. */
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, cl_kernel_dev_suspend(self->k, self->d.index, false, NULL));
	ASSERT_EQ(64 * 1024, pread(self->d.backing_fd, back, 64 * 1024, CBD_MIB));
	EXPECT_TRUE(cbd_check(back, 64 * 1024, CBD_MIB, 88));
	ASSERT_EQ(0, cl_kernel_dev_resume(self->k, self->d.index, NULL));
	close(fd);
	free(buf);
	free(back);
}

TEST_F_TIMEOUT(nl, suspend_freeze_holds_filesystem_writes, 120)
{
	const char *mnt = "/tmp/cbd-freeze-mnt";
	struct pollfd pfd;
	char result = 0;
	int pipefd[2], status;
	pid_t pid;

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	ASSERT_EQ(0, cbd_system("mkfs.ext4 -q -F %s >/dev/null 2>&1", self->d.node));
	mkdir(mnt, 0755);
	ASSERT_EQ(0, cbd_system("mount -t ext4 %s %s", self->d.node, mnt));
	ASSERT_EQ(0, cbd_system("echo before > %s/file && sync", mnt));

	ASSERT_EQ(0, cl_kernel_dev_suspend(self->k, self->d.index, true, NULL));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* A frozen file system holds writers in the VFS. */
		result = cbd_system("echo during > %s/file2", mnt) == 0 ? 'y' : 'n';
		_exit(write(pipefd[1], &result, 1) == 1 ? 0 : 1);
	}
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	EXPECT_EQ(0, poll(&pfd, 1, 1500));
	ASSERT_EQ(0, cl_kernel_dev_resume(self->k, self->d.index, NULL));
	ASSERT_EQ(1, poll(&pfd, 1, 30000));
	ASSERT_EQ(1, read(pipefd[0], &result, 1));
	EXPECT_EQ('y', result);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(pipefd[0]);
	EXPECT_EQ(0, cbd_system("grep -q during %s/file2", mnt));
	EXPECT_EQ(0, cbd_system("umount %s", mnt));
}

TEST_F(nl, reconfigure_switches_backing)
{
	struct cbd_dev *other = &self->more[0];
	char *buf = cbd_alloc(4096), backing[PATH_MAX];
	int fd;

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	ASSERT_EQ(0, cbd_backing_create(other, CBD_DEFAULT_SIZE));
	cbd_fill(buf, 4096, 0, 99);
	ASSERT_EQ(4096, pwrite(other->backing_fd, buf, 4096, 0));
	ASSERT_EQ(0, fsync(other->backing_fd));

	/* Only a suspended device takes a new backing. */
	EXPECT_EQ(-EBUSY, cl_kernel_dev_reconfigure(self->k, self->d.index,
						    other->backing_fd, NULL));
	ASSERT_EQ(0, cl_kernel_dev_suspend(self->k, self->d.index, false, NULL));
	ASSERT_EQ(0, cl_kernel_dev_reconfigure(self->k, self->d.index,
					       other->backing_fd, NULL));
	ASSERT_EQ(0, cl_kernel_dev_resume(self->k, self->d.index, NULL));
	fd = open(self->d.node, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	memset(buf, 0, 4096);
	ASSERT_EQ(4096, pread(fd, buf, 4096, 0));
	EXPECT_TRUE(cbd_check(buf, 4096, 0, 99));
	close(fd);
	ASSERT_EQ(0, cbd_sysfs_read(self->d.index, "backing", backing,
				    sizeof(backing)));
	EXPECT_NE(NULL, strstr(backing, basename(other->path)));
	free(buf);
}

TEST_F(nl, sysfs_attributes)
{
	char buf[PATH_MAX];

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	ASSERT_EQ(0, cbd_sysfs_read(self->d.index, "volume_id", buf, sizeof(buf)));
	EXPECT_STREQ(self->d.volume_id, buf);
	ASSERT_EQ(0, cbd_sysfs_read(self->d.index, "backing", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, basename(self->d.path)));
	ASSERT_EQ(0, cbd_sysfs_read(self->d.index, "state", buf, sizeof(buf)));
	EXPECT_STREQ("live", buf);
}

TEST_F(nl, stats_count_io)
{
	struct cl_dev_info before, after;
	char *buf = cbd_alloc(64 * 1024);
	int fd;

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, self->d.index, &before, NULL));
	ASSERT_TRUE(before.has_stats);
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(64 * 1024, pwrite(fd, buf, 64 * 1024, i * 64 * 1024));
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(64 * 1024, pread(fd, buf, 64 * 1024, i * 64 * 1024));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, self->d.index, &after, NULL));
	EXPECT_EQ(256 * 1024, after.stats.write_bytes - before.stats.write_bytes);
	EXPECT_LE(4, after.stats.write_ios - before.stats.write_ios);
	EXPECT_LE(128 * 1024, after.stats.read_bytes - before.stats.read_bytes);
	EXPECT_LE(1, after.stats.flush_ios - before.stats.flush_ios);
	EXPECT_EQ(0, after.stats.errors);
	EXPECT_EQ(0, after.stats.inflight);
	free(buf);
}

/* Next event for @index, skipping others; 0 or -errno. */
static int next_event(struct cl_kernel *ev, uint32_t index,
		      struct cl_kernel_event *out)
{
	int64_t end = cbd_now_ms() + EVENT_WAIT_MS;
	int ret;

	do {
		ret = cl_kernel_event_wait(ev, EVENT_WAIT_MS, out, NULL);
		if (ret)
			return ret;
		if (out->index == index)
			return 0;
	} while (cbd_now_ms() < end);
	return -ETIMEDOUT;
}

TEST_F(nl, events_for_every_change)
{
	struct cl_kernel *ev;
	struct cl_kernel_event e;
	uint32_t index;

	ASSERT_EQ(0, cl_kernel_events_open(&ev, NULL));
	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	index = self->d.index;

	ASSERT_EQ(0, next_event(ev, index, &e));
	EXPECT_EQ(CL_KEVENT_ADDED, e.type);
	EXPECT_EQ(self->d.size, e.size);
	EXPECT_STREQ(self->d.volume_id, e.volume_id);

	ASSERT_EQ(0, cl_kernel_dev_resize(self->k, index, 8 * CBD_MIB, NULL));
	ASSERT_EQ(0, next_event(ev, index, &e));
	EXPECT_EQ(CL_KEVENT_RESIZED, e.type);
	EXPECT_EQ(8 * CBD_MIB, e.size);

	ASSERT_EQ(0, cl_kernel_dev_suspend(self->k, index, false, NULL));
	ASSERT_EQ(0, next_event(ev, index, &e));
	EXPECT_EQ(CL_KEVENT_SUSPENDED, e.type);

	ASSERT_EQ(0, cl_kernel_dev_resume(self->k, index, NULL));
	ASSERT_EQ(0, next_event(ev, index, &e));
	EXPECT_EQ(CL_KEVENT_RESUMED, e.type);

	ASSERT_EQ(0, cl_kernel_dev_remove(self->k, index, false, NULL));
	self->d.added = false;
	ASSERT_EQ(0, next_event(ev, index, &e));
	EXPECT_EQ(CL_KEVENT_REMOVED, e.type);
	EXPECT_STREQ(self->d.volume_id, e.volume_id);

	/* Nothing else is pending. */
	EXPECT_EQ(-ETIMEDOUT, cl_kernel_event_wait(ev, 200, &e, NULL));
	cl_kernel_close(ev);
}

TEST_F(nl, failed_request_sends_no_event)
{
	struct cl_kernel *ev;
	struct cl_kernel_event e;
	struct cl_dev_spec spec;
	struct cl_error err;

	ASSERT_EQ(0, cl_kernel_events_open(&ev, NULL));
	cbd_spec_for(&self->d, &spec);
	spec.size = 1000;	/* not a multiple of 512 */
	cl_error_clear(&err);
	ASSERT_EQ(-EINVAL, cl_kernel_dev_add(self->k, &spec, NULL, &err));
	/* The kernel's own explanation reaches the caller. */
	EXPECT_NE(NULL, strstr(err.msg, "size"));
	EXPECT_EQ(-ETIMEDOUT, cl_kernel_event_wait(ev, 300, &e, NULL));
	cl_kernel_close(ev);
}

TEST_HARNESS_MAIN
