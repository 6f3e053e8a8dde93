// SPDX-License-Identifier: GPL-2.0
/*
 * Taking remap devices down: forced remove under fio and while suspended
 * with held I/O, add/remove cycles without leaks, a remap device stacked
 * on another, and module unload: every time the lower device is let go.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"

#define CYCLES 50
#define SIZE (32 * CBD_MIB)

FIXTURE(rdown) {
	struct cbd_dev d;
	struct cl_kernel *k;
	const char *lower_path;
};

FIXTURE_SETUP(rdown)
{
	memset(&self->d, 0, sizeof(self->d));
	self->d.backing_fd = -1;
	self->k = cbd_nl();
	ASSERT_NE(NULL, self->k);
	self->lower_path = cbd_brd(0);
	ASSERT_NE(NULL, self->lower_path);
}

FIXTURE_TEARDOWN(rdown)
{
	cbd_dev_cleanup(&self->d);
}

static int wait_child(pid_t pid, int ms)
{
	int64_t end = cbd_now_ms() + ms;
	int status;

	do {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(20000);
	} while (cbd_now_ms() < end);
	return -1;
}

static int wait_live(int want, int ms)
{
	int64_t end = cbd_now_ms() + ms;

	while (cbd_live_devices() != want) {
		if (cbd_now_ms() > end)
			return -ETIMEDOUT;
		usleep(10000);
	}
	return 0;
}

static int add_over(FIXTURE_DATA(rdown) *self, const char *path)
{
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return -errno;
	return cbd_add_remap(&self->d, fd, SIZE, NULL, 0, 0);
}

TEST_F_TIMEOUT(rdown, force_remove_under_fio, 240)
{
	int live_before = cbd_live_devices();
	int status;
	pid_t pid;

	ASSERT_EQ(0, add_over(self, self->lower_path));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int out = open("/tmp/cbd-remap-force.log",
			       O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		}
		execlp("fio", "fio", "--name=remapforce", "--filename",
		       self->d.node, "--direct=1", "--allow_file_create=0",
		       "--ioengine=libaio",
		       "--rw=randrw", "--bsrange=4k-256k", "--iodepth=32",
		       "--numjobs=2", "--time_based=1", "--runtime=60",
		       "--size=16M", (char *)NULL);
		_exit(127);
	}
	sleep(3);
	ASSERT_EQ(-1, wait_child(pid, 0)) {
		TH_LOG("fio ended before the remove");
	}
	EXPECT_EQ(0, cl_kernel_dev_remove(self->k, self->d.index, true, NULL));
	self->d.added = false;
	EXPECT_FALSE(cbd_dump_has(self->d.index));
	status = wait_child(pid, 60000);
	if (status == -1) {
		kill(pid, SIGKILL);
		status = wait_child(pid, 10000);
	}
	ASSERT_NE(-1, status) {
		TH_LOG("fio hung after the forced remove");
	}
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_NE(0, WEXITSTATUS(status));
	EXPECT_EQ(0, wait_live(live_before, 10000));
	EXPECT_EQ(0, cbd_wait_node(self->d.index, false, 5000));
	/* The lower device was let go once the bios below had ended. */
	EXPECT_TRUE(cbd_bdev_free(self->lower_path));
}

TEST_F_TIMEOUT(rdown, force_remove_while_suspended, 60)
{
	char *buf = cbd_alloc(4096), res = 0;
	struct pollfd pfd;
	int fd, pipefd[2], status;
	pid_t pid;

	ASSERT_EQ(0, add_over(self, self->lower_path));
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cl_kernel_dev_suspend(self->k, self->d.index, false, NULL));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		res = pread(fd, buf, 4096, 0) < 0 ? 'e' : 'y';
		_exit(write(pipefd[1], &res, 1) == 1 ? 0 : 1);
	}
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	EXPECT_EQ(0, poll(&pfd, 1, 1000));
	EXPECT_EQ(0, cl_kernel_dev_remove(self->k, self->d.index, true, NULL));
	self->d.added = false;
	ASSERT_EQ(1, poll(&pfd, 1, 20000));
	ASSERT_EQ(1, read(pipefd[0], &res, 1));
	EXPECT_EQ('e', res);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(pipefd[0]);
	close(fd);
	free(buf);
	EXPECT_TRUE(cbd_bdev_free(self->lower_path));
}

TEST_F_TIMEOUT(rdown, add_remove_cycles_leak_nothing, 600)
{
	struct cinderblk_ioc_extent ext[2] = {
		{ .start = 0, .length = SIZE / 2, .lower_offset = SIZE },
		{ .start = SIZE / 2, .length = SIZE / 2, .lower_offset = 0 },
	};
	const struct cl_extent nl_ext[2] = {
		{ 0, SIZE / 2, SIZE },
		{ SIZE / 2, SIZE / 2, 0 },
	};
	int live_before = cbd_live_devices();
	int sysfs_before = cbd_sysfs_block_count();
	int dump_before = cbd_dump_count();
	int ctl = cbd_ctl_open(), lower, fd;
	char id[CL_VOLUME_ID_LEN + 1];
	struct cl_dev_spec spec;
	struct cl_dev_info info;

	ASSERT_LE(0, ctl);
	lower = open(self->lower_path, O_RDWR);
	ASSERT_LE(0, lower);
	cbd_make_uuid(id);
	for (int i = 0; i < CYCLES; i++) {
		struct cinderblk_ioc_dev req;

		if (i % 2 == 0) {
			cl_dev_spec_init(&spec);
			spec.size = SIZE;
			spec.volume_id = id;
			spec.backing_type = CL_BACKING_REMAP;
			spec.backing_fd = lower;
			spec.extents = nl_ext;
			spec.nr_extents = 2;
			ASSERT_EQ(0, cl_kernel_dev_add(self->k, &spec, &info,
						       NULL)) {
				TH_LOG("cycle %d", i);
			}
		} else {
			cbd_ioc_init(&req, CINDERBLK_INDEX_ANY);
			req.size = SIZE;
			req.backing_type = CINDERBLK_BACKING_REMAP;
			req.backing_fd = lower;
			req.extents = (uintptr_t)ext;
			req.nr_extents = 2;
			memcpy(req.volume_id, id, CINDERBLK_VOLUME_ID_LEN);
			ASSERT_EQ(0, cbd_ioc(ctl, CINDERBLK_IOC_DEV_ADD, &req)) {
				TH_LOG("cycle %d", i);
			}
			info.index = req.index;
		}
		/* Held while attached. */
		ASSERT_FALSE(cbd_bdev_free(self->lower_path));
		if (i % 5 == 0) {
			char *buf = cbd_alloc(8192);
			char node[64];

			snprintf(node, sizeof(node), "/dev/cbd%u", info.index);
			ASSERT_EQ(0, cbd_wait_node(info.index, true, 5000));
			fd = open(node, O_RDWR | O_DIRECT);
			ASSERT_LE(0, fd);
			/* Across the boundary. */
			cbd_fill(buf, 8192, i, 7);
			ASSERT_EQ(8192, pwrite(fd, buf, 8192, SIZE / 2 - 4096));
			ASSERT_EQ(8192, pread(fd, buf, 8192, SIZE / 2 - 4096));
			EXPECT_TRUE(cbd_check(buf, 8192, i, 7));
			close(fd);
			free(buf);
		}
		if (i % 2 == 0) {
			ASSERT_EQ(0, cl_kernel_dev_remove(self->k, info.index,
							  false, NULL)) {
				TH_LOG("cycle %d", i);
			}
		} else {
			cbd_ioc_init(&req, info.index);
			ASSERT_EQ(0, cbd_ioc(ctl, CINDERBLK_IOC_DEV_REMOVE, &req)) {
				TH_LOG("cycle %d", i);
			}
		}
		ASSERT_TRUE(cbd_bdev_free(self->lower_path)) {
			TH_LOG("cycle %d: lower device still held", i);
		}
	}
	close(ctl);
	close(lower);
	EXPECT_EQ(dump_before, cbd_dump_count());
	EXPECT_EQ(sysfs_before, cbd_sysfs_block_count());
	EXPECT_EQ(0, wait_live(live_before, 5000));
}

/* A remap device on a remap device: bios go down two levels. */
TEST_F(rdown, stacked_remap_devices)
{
	struct cbd_dev upper;
	char *buf = cbd_alloc(CBD_MIB), *back = cbd_alloc(CBD_MIB);
	int fd, raw;

	ASSERT_EQ(0, add_over(self, self->lower_path));
	fd = open(self->d.node, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cbd_add_remap(&upper, fd, SIZE, NULL, 0, 0));
	/* The lower cbd device is held: remove without force is busy. */
	EXPECT_EQ(-EBUSY, cl_kernel_dev_remove(self->k, self->d.index, false,
					       NULL));
	fd = open(upper.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	cbd_fill(buf, CBD_MIB, 0, 9);
	ASSERT_EQ((ssize_t)CBD_MIB, pwrite(fd, buf, CBD_MIB, 3 * CBD_MIB));
	close(fd);
	raw = open(self->lower_path, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, raw);
	ASSERT_EQ((ssize_t)CBD_MIB, pread(raw, back, CBD_MIB, 3 * CBD_MIB));
	EXPECT_EQ(0, memcmp(buf, back, CBD_MIB));
	close(raw);
	cbd_dev_cleanup(&upper);
	EXPECT_EQ(0, cl_kernel_dev_remove(self->k, self->d.index, false, NULL));
	self->d.added = false;
	free(buf);
	free(back);
}

TEST_F_TIMEOUT(rdown, module_unload_lets_go_of_the_lower_device, 120)
{
	struct cl_kernel *k;

	ASSERT_EQ(0, access(CBD_KO_PATH, R_OK)) {
		TH_LOG("run from the project root: %s not found", CBD_KO_PATH);
	}
	ASSERT_EQ(0, add_over(self, self->lower_path));
	EXPECT_FALSE(cbd_bdev_free(self->lower_path));
	ASSERT_EQ(0, cbd_system("rmmod cinderblk"));
	self->d.added = false;
	EXPECT_TRUE(cbd_bdev_free(self->lower_path));
	ASSERT_EQ(0, cbd_system("insmod " CBD_KO_PATH));
	cbd_nl_reset();
	ASSERT_EQ(0, cl_kernel_open(&k, NULL));
	cl_kernel_close(k);
	self->k = cbd_nl();
	/* And it works again. */
	ASSERT_EQ(0, add_over(self, self->lower_path));
}

TEST_HARNESS_MAIN
