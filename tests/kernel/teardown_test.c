// SPDX-License-Identifier: GPL-2.0
/*
 * Taking cinderblk devices and the module down: remove while open, forced
 * remove under fio and while suspended, add/remove cycles without leaks,
 * module unload and reload after stress.
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

#define CYCLES 200

FIXTURE(down) {
	struct cbd_dev d;
	struct cl_kernel *k;
};

FIXTURE_SETUP(down)
{
	self->k = cbd_nl();
	ASSERT_NE(NULL, self->k);
	ASSERT_EQ(0, cbd_backing_create(&self->d, 32 * CBD_MIB));
}

FIXTURE_TEARDOWN(down)
{
	cbd_dev_cleanup(&self->d);
	cbd_set_file_offload("auto");
}

/* Wait up to @ms for @pid; its status, or -1 if it is still running. */
static int wait_child(pid_t pid, int ms)
{
	int64_t end = cbd_now_ms() + ms;
	int status;

	do {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid)
			return status;
		usleep(20000);
	} while (cbd_now_ms() < end);
	return -1;
}

/* Wait until the module's live-device counter reaches @want. */
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

TEST_F(down, remove_while_open_is_busy)
{
	char *buf = cbd_alloc(4096);
	int fd;

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBUSY, cl_kernel_dev_remove(self->k, self->d.index, false, NULL));
	/* Still there and still working. */
	EXPECT_TRUE(cbd_dump_has(self->d.index));
	cbd_fill(buf, 4096, 0, 3);
	EXPECT_EQ(4096, pwrite(fd, buf, 4096, 0));
	close(fd);
	EXPECT_EQ(0, cl_kernel_dev_remove(self->k, self->d.index, false, NULL));
	self->d.added = false;
	EXPECT_FALSE(cbd_dump_has(self->d.index));
	EXPECT_EQ(0, cbd_wait_node(self->d.index, false, 5000));
	free(buf);
}

/* Forced remove while two fio jobs keep 32 requests each in flight. */
static void force_remove_under_fio(struct __test_metadata *_metadata,
				   FIXTURE_DATA(down) *self)
{
	int live_before = cbd_live_devices();
	char log[] = "/tmp/cbd-fio-force.log";
	int status;
	pid_t pid;

	ASSERT_LE(0, live_before);
	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		}
		execlp("fio", "fio", "--name=cbdforce", "--filename", self->d.node,
		       "--direct=1", "--allow_file_create=0",
		       "--ioengine=libaio", "--rw=randrw",
		       "--bs=4k", "--iodepth=32", "--numjobs=2",
		       "--time_based=1", "--runtime=60", "--size=16M",
		       (char *)NULL);
		_exit(127);
	}
	/* Let fio get going, then pull the device from under it. */
	sleep(3);
	ASSERT_EQ(-1, wait_child(pid, 0)) {
		TH_LOG("fio ended before the remove");
	}
	EXPECT_EQ(0, cl_kernel_dev_remove(self->k, self->d.index, true, NULL));
	self->d.added = false;
	EXPECT_FALSE(cbd_dump_has(self->d.index));
	/* fio sees errors and stops; nothing hangs. */
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
	/* The device's memory goes once fio has closed it. */
	EXPECT_EQ(0, wait_live(live_before, 10000));
	EXPECT_EQ(0, cbd_wait_node(self->d.index, false, 5000));
}

TEST_F_TIMEOUT(down, force_remove_under_fio, 240)
{
	force_remove_under_fio(_metadata, self);
}

/* The same with every read and write queued to the file backing's worker. */
TEST_F_TIMEOUT(down, force_remove_under_fio_offloaded, 240)
{
	ASSERT_EQ(0, cbd_set_file_offload("always"));
	force_remove_under_fio(_metadata, self);
	EXPECT_EQ(0, cbd_set_file_offload("auto"));
}

TEST_F_TIMEOUT(down, force_remove_while_suspended, 60)
{
	struct pollfd pfd;
	char *buf = cbd_alloc(4096), res = 0;
	int fd, pipefd[2], status;
	pid_t pid;

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
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
	/* A held read must not keep the device alive or hang the remove. */
	EXPECT_EQ(0, cl_kernel_dev_remove(self->k, self->d.index, true, NULL));
	self->d.added = false;
	ASSERT_EQ(1, poll(&pfd, 1, 20000));
	ASSERT_EQ(1, read(pipefd[0], &res, 1));
	EXPECT_EQ('e', res);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(pipefd[0]);
	close(fd);
	free(buf);
}

TEST_F_TIMEOUT(down, add_remove_cycles_leak_nothing, 600)
{
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	int live_before = cbd_live_devices();
	int sysfs_before = cbd_sysfs_block_count();
	int dump_before = cbd_dump_count();
	int ctl = cbd_ctl_open(), fd;

	ASSERT_LE(0, live_before);
	ASSERT_LE(0, ctl);
	for (int i = 0; i < CYCLES; i++) {
		struct cinderblk_ioc_dev req;

		if (i % 2 == 0) {
			cbd_spec_for(&self->d, &spec);
			ASSERT_EQ(0, cl_kernel_dev_add(self->k, &spec, &info, NULL)) {
				TH_LOG("cycle %d", i);
			}
		} else {
			cbd_ioc_init(&req, CINDERBLK_INDEX_ANY);
			req.size = self->d.size;
			req.backing_type = CINDERBLK_BACKING_FILE;
			req.backing_fd = self->d.backing_fd;
			memcpy(req.volume_id, self->d.volume_id,
			       CINDERBLK_VOLUME_ID_LEN);
			ASSERT_EQ(0, cbd_ioc(ctl, CINDERBLK_IOC_DEV_ADD, &req)) {
				TH_LOG("cycle %d", i);
			}
			info.index = req.index;
		}
		/* Every tenth time, open and read before removing. */
		if (i % 10 == 0) {
			char *buf = cbd_alloc(4096);
			char node[64];

			snprintf(node, sizeof(node), "/dev/cbd%u", info.index);
			ASSERT_EQ(0, cbd_wait_node(info.index, true, 5000));
			fd = open(node, O_RDONLY | O_DIRECT);
			ASSERT_LE(0, fd);
			ASSERT_EQ(4096, pread(fd, buf, 4096, 0));
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
	}
	close(ctl);
	EXPECT_EQ(dump_before, cbd_dump_count());
	EXPECT_EQ(sysfs_before, cbd_sysfs_block_count());
	EXPECT_EQ(0, wait_live(live_before, 5000));
	/* Nothing else runs in this VM: everything is back to zero. */
	EXPECT_EQ(0, cbd_dump_count());
	EXPECT_EQ(0, cbd_sysfs_block_count());
	EXPECT_EQ(0, cbd_live_devices());
}

TEST_F_TIMEOUT(down, concurrent_add_remove, 300)
{
	pid_t pids[4];
	int status;

	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			_exit(cbd_add_remove_cycles(self->d.path, 25));
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status));
	}
	EXPECT_EQ(0, cbd_dump_count());
	EXPECT_EQ(0, cbd_sysfs_block_count());
	EXPECT_EQ(0, wait_live(0, 5000));
}

/* rmmod/insmod through the shell: the harness has no module helpers. */
static int unload(void)
{
	return cbd_system("rmmod cinderblk 2>/dev/null");
}

static int reload(void)
{
	return cbd_system("insmod " CBD_KO_PATH);
}

static bool module_loaded(void)
{
	struct stat st;

	return stat("/sys/module/cinderblk", &st) == 0;
}

TEST_F_TIMEOUT(down, module_unload_and_reload_after_stress, 300)
{
	struct cl_dev_info *devs;
	struct cbd_dev extra;
	struct cl_error err;
	struct cl_kernel *k;
	int fd, status;
	size_t n;

	ASSERT_EQ(0, access(CBD_KO_PATH, R_OK)) {
		TH_LOG("run from the project root: %s not found", CBD_KO_PATH);
	}
	/* Stress: two devices, fio on both. */
	ASSERT_EQ(0, cbd_add_nl(&self->d, CINDERBLK_F_DISCARD));
	ASSERT_EQ(0, cbd_backing_create(&extra, 16 * CBD_MIB));
	ASSERT_EQ(0, cbd_add_nl(&extra, 0));
	status = cbd_system("fio --name=a --filename=%s --name=b --filename=%s "
			    "--direct=1 --ioengine=libaio --rw=randrw --bs=4k "
			    "--iodepth=16 --size=8M --time_based=1 --runtime=5 "
			    "--trim_backlog=0 >/tmp/cbd-fio-stress.log 2>&1",
			    self->d.node, extra.node);
	EXPECT_EQ(0, status);

	/* An open device pins the module. */
	fd = open(self->d.node, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_NE(0, unload());
	EXPECT_TRUE(module_loaded());
	close(fd);

	/* Devices that are not open go away with the module. */
	ASSERT_EQ(0, unload());
	self->d.added = false;
	extra.added = false;
	EXPECT_FALSE(module_loaded());
	EXPECT_EQ(0, cbd_sysfs_block_count());
	/* The library says plainly what is missing. */
	cl_error_clear(&err);
	EXPECT_EQ(-ENOENT, cl_kernel_open(&k, &err));
	EXPECT_NE(NULL, strstr(err.msg, "modprobe cinderblk"));
	EXPECT_EQ(0, cbd_wait_node(self->d.index, false, 5000));

	ASSERT_EQ(0, reload());
	ASSERT_TRUE(module_loaded());
	EXPECT_EQ(0, cbd_live_devices());
	/* A fresh handle: the family was registered again. */
	ASSERT_EQ(0, cl_kernel_open(&k, NULL));
	ASSERT_EQ(0, cl_kernel_dev_list(k, &devs, &n, NULL));
	EXPECT_EQ(0, n);
	free(devs);
	cl_kernel_close(k);
	/* And it works again (the old handle knew the old family id). */
	cbd_nl_reset();
	self->k = cbd_nl();
	self->d.volume_id[0] = '\0';
	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	EXPECT_TRUE(cbd_dump_has(self->d.index));
	cbd_dev_cleanup(&extra);
}

TEST_HARNESS_MAIN
