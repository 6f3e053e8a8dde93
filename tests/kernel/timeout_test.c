// SPDX-License-Identifier: GPL-2.0
/*
 * io_timeout_ms does what it says: a request of a file backing that is
 * stuck below (its file system on a suspended dm device) is counted in
 * sysfs and in the device's statistics and reported in the kernel log,
 * and completes with its data once the device below resumes. A remap
 * backing, whose disk has no request timer, refuses the option.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"

#define DM_NAME "cbd-stall"
#define DM_DEV "/dev/mapper/" DM_NAME
#define MNT "/tmp/cbd-stall-mnt"

FIXTURE(stall) {
	char file[64];
	char loop[64];
	struct cbd_dev d;
};

/* loop over a tmpfs file, dm-linear over the loop, ext4 on the dm. */
FIXTURE_SETUP(stall)
{
	FILE *p;
	char cmd[256];
	int fd;

	memset(&self->d, 0, sizeof(self->d));
	self->d.backing_fd = -1;
	snprintf(self->file, sizeof(self->file), "/dev/shm/cbd-stall.XXXXXX");
	fd = mkstemp(self->file);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, (off_t)(64 * CBD_MIB)));
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "modprobe loop 2>/dev/null; losetup -f --show %s", self->file);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, fgets(self->loop, sizeof(self->loop), p));
	pclose(p);
	self->loop[strcspn(self->loop, "\n")] = '\0';
	ASSERT_EQ(0, cbd_system("modprobe dm-mod 2>/dev/null; echo 0 %llu linear %s 0 | "
				"dmsetup create --noudevsync " DM_NAME
				" && dmsetup mknodes " DM_NAME,
				64 * CBD_MIB / 512, self->loop));
	ASSERT_EQ(0, cbd_system("mkfs.ext4 -q -F " DM_DEV " >/dev/null 2>&1"));
	mkdir(MNT, 0755);
	ASSERT_EQ(0, mount(DM_DEV, MNT, "ext4", 0, NULL));
	snprintf(self->d.path, sizeof(self->d.path), MNT "/backing");
	fd = open(self->d.path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	/* Allocated up front: the stuck write needs no new blocks. */
	ASSERT_EQ(0, cbd_write_pattern(fd, 16 * CBD_MIB, 0, 1));
	fsync(fd);
	self->d.backing_fd = fd;
	self->d.size = 16 * CBD_MIB;
}

FIXTURE_TEARDOWN(stall)
{
	cbd_system("dmsetup resume " DM_NAME " 2>/dev/null");
	cbd_dev_cleanup(&self->d);
	umount(MNT);
	cbd_system("dmsetup remove --noudevsync " DM_NAME " 2>/dev/null");
	cbd_system("losetup -d %s 2>/dev/null", self->loop);
	unlink(self->file);
}

static long sysfs_timeouts(uint32_t index)
{
	char buf[32] = "";

	if (cbd_sysfs_read(index, "timeouts", buf, sizeof(buf)))
		return -1;
	return atol(buf);
}

TEST_F_TIMEOUT(stall, stuck_request_is_counted_reported_and_completes, 120)
{
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	struct cl_error err = { 0 };
	int status, fd;
	pid_t writer;

	cbd_spec_for(&self->d, &spec);
	spec.io_timeout_ms = 300;
	ASSERT_EQ(0, cbd_add_nl_spec(&self->d, &spec)) TH_LOG("add failed");
	EXPECT_EQ(0, sysfs_timeouts(self->d.index));
	cbd_system("dmesg -C");
	/* Every I/O to the file system below now waits. */
	ASSERT_EQ(0, cbd_system("dmsetup suspend --nolockfs --noflush " DM_NAME));
	writer = fork();
	ASSERT_LE(0, writer);
	if (writer == 0) {
		int dfd = open(self->d.node, O_RDWR | O_DIRECT | O_CLOEXEC);

		_exit(dfd < 0 || cbd_write_pattern(dfd, 64 * 1024,
						   CBD_MIB, 77) ? 1 : 0);
	}
	/* The block layer's timer has about a second's granularity. */
	sleep(4);
	/* Still stuck, and counted more than once (the timer re-arms). */
	EXPECT_EQ(0, waitpid(writer, &status, WNOHANG));
	EXPECT_LE(2, sysfs_timeouts(self->d.index));
	ASSERT_EQ(0, cl_kernel_dev_get(cbd_nl(), self->d.index, &info, &err));
	EXPECT_LE(2, info.stats.timeouts);
	EXPECT_EQ(300, info.io_timeout_ms);
	EXPECT_EQ(0, cbd_system("dmesg | grep -q '%s: WRITE request at sector.*in flight for.*cannot be cancelled'",
				self->d.node + 5));
	/* The device below comes back: the request completes, data intact. */
	ASSERT_EQ(0, cbd_system("dmsetup resume " DM_NAME));
	ASSERT_EQ(writer, waitpid(writer, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fd = open(self->d.node, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(cbd_has_pattern(fd, 64 * 1024, CBD_MIB, 77));
	EXPECT_TRUE(cbd_has_pattern(fd, 64 * 1024, 0, 1));
	close(fd);
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 64 * 1024, CBD_MIB, 77));
}

TEST_F(stall, remap_refuses_an_io_timeout)
{
	struct cl_extent ext = { .start = 0, .length = 64 * CBD_MIB };
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	struct cl_error err = { 0 };
	char uuid[CL_VOLUME_ID_LEN + 1];
	int lower;

	close(self->d.backing_fd);
	self->d.backing_fd = -1;
	ASSERT_EQ(0, umount(MNT));
	lower = open(DM_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, lower);
	cbd_make_uuid(uuid);
	cl_dev_spec_init(&spec);
	spec.size = 64 * CBD_MIB;
	spec.volume_id = uuid;
	spec.backing_type = CL_BACKING_REMAP;
	spec.backing_fd = lower;
	spec.extents = &ext;
	spec.nr_extents = 1;
	spec.io_timeout_ms = 1000;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_add(cbd_nl(), &spec, &info, &err));
	EXPECT_NE(NULL, strstr(err.msg, "no I/O timeout")) TH_LOG("%s", err.msg);
	/* Without one it works, and reports no timeout of its own. */
	spec.io_timeout_ms = 0;
	ASSERT_EQ(0, cl_kernel_dev_add(cbd_nl(), &spec, &info, &err))
		TH_LOG("%s", err.msg);
	EXPECT_EQ(0, info.io_timeout_ms);
	EXPECT_EQ(0, cl_kernel_dev_remove(cbd_nl(), info.index, true, &err));
	close(lower);
}

TEST_HARNESS_MAIN
