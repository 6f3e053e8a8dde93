// SPDX-License-Identifier: GPL-2.0
/*
 * Spare disks: the module keeps spare_devices idle disks ready, and an add
 * of a file-backed device with the default queue parameters configures one
 * instead of making a disk. Spares cannot be opened, are no devices to any
 * control operation, are not listed; the pool refills in the background;
 * a configured spare behaves as a device made at add time (sizes, block
 * sizes, flags, timeout, data) and udev hears of it with a change uevent
 * sent after its volume id is in sysfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"

#define DEFAULT_SPARES	2
#define SETTLE_MS	5000

static bool has_index(const uint32_t *set, int n, uint32_t index)
{
	for (int i = 0; i < n; i++)
		if (set[i] == index)
			return true;
	return false;
}

/* /sys/block/cbdN/@attr (any file under the disk) as a number; -1 on error. */
static long long disk_attr(uint32_t index, const char *attr)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s%u/%s",
		 CINDERBLK_DISK_PREFIX, index, attr);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

FIXTURE(spare) {
	struct cbd_dev d;
	struct cl_kernel *k;
	uint32_t spares[8];
	int nr_spares;
};

FIXTURE_SETUP(spare)
{
	self->k = cbd_nl();
	ASSERT_NE(NULL, self->k);
	ASSERT_EQ(0, cbd_backing_create(&self->d, CBD_DEFAULT_SIZE));
	/* Each test starts from a full pool of the default size. */
	ASSERT_EQ(0, cbd_set_spare_devices(DEFAULT_SPARES));
	ASSERT_EQ(0, cbd_wait_spares(DEFAULT_SPARES, SETTLE_MS));
	self->nr_spares = cbd_spare_indexes(self->spares, 8);
	ASSERT_EQ(DEFAULT_SPARES, self->nr_spares);
}

FIXTURE_TEARDOWN(spare)
{
	cbd_dev_cleanup(&self->d);
	cbd_set_spare_devices(DEFAULT_SPARES);
	cbd_wait_spares(DEFAULT_SPARES, SETTLE_MS);
}

TEST_F(spare, spares_are_no_devices)
{
	struct cinderblk_ioc_dev req;
	struct cl_dev_info info;
	char buf[64];
	int ctl, fd;

	EXPECT_EQ(DEFAULT_SPARES, cbd_get_spare_devices());
	EXPECT_EQ(0, cbd_dump_count());
	EXPECT_EQ(0, cbd_live_devices());
	EXPECT_EQ(0, cbd_sysfs_block_count());
	ctl = cbd_ctl_open();
	ASSERT_LE(0, ctl);
	for (int i = 0; i < self->nr_spares; i++) {
		uint32_t index = self->spares[i];
		char node[64];

		TH_LOG("spare cbd%u", index);
		ASSERT_EQ(0, cbd_sysfs_read(index, "volume_id", buf, sizeof(buf)));
		EXPECT_STREQ("", buf);
		ASSERT_EQ(0, cbd_sysfs_read(index, "backing_type", buf,
					    sizeof(buf)));
		EXPECT_STREQ("none", buf);
		EXPECT_EQ(0, disk_attr(index, "size"));

		/* Nothing behind it: no opening it, for reading either. */
		snprintf(node, sizeof(node), "/dev/%s%u",
			 CINDERBLK_DISK_PREFIX, index);
		ASSERT_EQ(0, cbd_wait_node_path(node, true, SETTLE_MS));
		fd = open(node, O_RDONLY);
		EXPECT_EQ(-1, fd);
		EXPECT_EQ(ENXIO, errno);
		if (fd >= 0)
			close(fd);

		EXPECT_EQ(-ENODEV, cl_kernel_dev_get(self->k, index, &info,
						     NULL));
		EXPECT_EQ(-ENODEV, cl_kernel_dev_remove(self->k, index, true,
							NULL));
		EXPECT_EQ(-ENODEV, cl_kernel_dev_resize(self->k, index,
							CBD_MIB, NULL));
		EXPECT_EQ(-ENODEV, cl_kernel_dev_suspend(self->k, index, false,
							 NULL));
		EXPECT_EQ(-ENODEV, cl_kernel_dev_resume(self->k, index, NULL));
		EXPECT_FALSE(cbd_dump_has(index));
		cbd_ioc_init(&req, index);
		EXPECT_EQ(-ENODEV, cbd_ioc(ctl, CINDERBLK_IOC_DEV_GET, &req));
		cbd_ioc_init(&req, index);
		EXPECT_EQ(-ENODEV, cbd_ioc(ctl, CINDERBLK_IOC_DEV_REMOVE, &req));
	}
	close(ctl);
	/* And they are all still there, idle. */
	EXPECT_EQ(DEFAULT_SPARES, cbd_spare_indexes(self->spares, 8));
}

TEST_F(spare, add_takes_lowest_spare_and_pool_refills)
{
	uint32_t after[8];
	char buf[64];
	int fd, n;

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	EXPECT_EQ(self->spares[0], self->d.index);
	ASSERT_EQ(0, cbd_sysfs_read(self->d.index, "state", buf, sizeof(buf)));
	EXPECT_STREQ("live", buf);
	ASSERT_EQ(0, cbd_sysfs_read(self->d.index, "volume_id", buf,
				    sizeof(buf)));
	EXPECT_STREQ(self->d.volume_id, buf);
	EXPECT_EQ(1, cbd_dump_count());
	EXPECT_EQ(1, cbd_live_devices());

	/* Data goes to the file, both ways. */
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	EXPECT_EQ(self->d.size, cbd_bdev_size(fd));
	ASSERT_EQ(0, cbd_write_pattern(fd, 64 * 1024, 0, 7));
	ASSERT_EQ(0, cbd_write_pattern(fd, 4096, self->d.size - 4096, 8));
	ASSERT_EQ(0, fsync(fd));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 64 * 1024, 0, 7));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 4096,
				    self->d.size - 4096, 8));
	ASSERT_EQ(0, cbd_write_pattern(self->d.backing_fd, 4096, 1 << 20, 9));
	ASSERT_EQ(0, fsync(self->d.backing_fd));
	EXPECT_TRUE(cbd_has_pattern(fd, 4096, 1 << 20, 9));
	close(fd);

	/* The pool is full again, without the index now in use. */
	ASSERT_EQ(0, cbd_wait_spares(DEFAULT_SPARES, SETTLE_MS));
	n = cbd_spare_indexes(after, 8);
	ASSERT_EQ(DEFAULT_SPARES, n);
	EXPECT_FALSE(has_index(after, n, self->d.index));
	EXPECT_TRUE(has_index(after, n, self->spares[1]));

	/* Removed, the device goes away entirely: spares are not reused. */
	ASSERT_EQ(0, cl_kernel_dev_remove(self->k, self->d.index, false, NULL));
	self->d.added = false;
	EXPECT_EQ(0, cbd_wait_node(self->d.index, false, SETTLE_MS));
	EXPECT_EQ(0, cbd_live_devices());
	EXPECT_EQ(DEFAULT_SPARES, cbd_spare_indexes(after, 8));
}

TEST_F(spare, configured_spare_has_what_the_add_asked)
{
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	int fd, lbs = 0;
	unsigned int pbs = 0;
	void *buf;

	cbd_spec_for(&self->d, &spec);
	spec.logical_block_size = 4096;
	spec.physical_block_size = 4096;
	spec.io_timeout_ms = 12000;
	spec.flags = CINDERBLK_F_DISCARD | CINDERBLK_F_FUA;
	ASSERT_EQ(0, cbd_add_nl_spec(&self->d, &spec));
	ASSERT_TRUE(has_index(self->spares, self->nr_spares, self->d.index));

	ASSERT_EQ(0, cl_kernel_dev_get(self->k, self->d.index, &info, NULL));
	EXPECT_EQ(4096, info.logical_block_size);
	EXPECT_EQ(4096, info.physical_block_size);
	EXPECT_EQ(12000, info.io_timeout_ms);
	EXPECT_TRUE(info.flags & CINDERBLK_F_DISCARD);
	EXPECT_FALSE(info.flags & CINDERBLK_F_WRITE_ZEROES);
	EXPECT_EQ(12000, disk_attr(self->d.index, "queue/io_timeout"));
	EXPECT_EQ(4096, disk_attr(self->d.index, "queue/logical_block_size"));
	EXPECT_LT(0, disk_attr(self->d.index, "queue/discard_max_bytes"));
	EXPECT_EQ(0, disk_attr(self->d.index, "queue/write_zeroes_max_bytes"));
	EXPECT_EQ(0, disk_attr(self->d.index, "ro"));
	EXPECT_EQ(self->d.size / 512, disk_attr(self->d.index, "size"));

	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, BLKSSZGET, &lbs));
	EXPECT_EQ(4096, lbs);
	ASSERT_EQ(0, ioctl(fd, BLKPBSZGET, &pbs));
	EXPECT_EQ(4096, pbs);
	ASSERT_EQ(0, cbd_write_pattern(fd, 4096, 4096, 21));
	ASSERT_EQ(0, fsync(fd));
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 4096, 4096, 21));
	/* 512-byte direct I/O is below the block size now. */
	buf = cbd_alloc(4096);
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(-1, pread(fd, buf, 512, 0));
	EXPECT_EQ(EINVAL, errno);
	free(buf);
	close(fd);
}

/* The change uevent is what udev names the device on: after the volume id. */
TEST_F(spare, change_uevent_follows_volume_id)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	char want[64], buf[8192], id[64];
	int64_t end;
	bool seen = false;
	int sk;

	sk = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
		    NETLINK_KOBJECT_UEVENT);
	ASSERT_LE(0, sk);
	ASSERT_EQ(0, bind(sk, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	ASSERT_TRUE(has_index(self->spares, self->nr_spares, self->d.index));
	snprintf(want, sizeof(want), "change@/devices/virtual/block/%s%u",
		 CINDERBLK_DISK_PREFIX, self->d.index);

	end = cbd_now_ms() + SETTLE_MS;
	while (!seen && cbd_now_ms() < end) {
		struct pollfd p = { .fd = sk, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(sk, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		seen = strcmp(buf, want) == 0;
	}
	close(sk);
	EXPECT_TRUE(seen);
	ASSERT_EQ(0, cbd_sysfs_read(self->d.index, "volume_id", id, sizeof(id)));
	EXPECT_STREQ(self->d.volume_id, id);
}

TEST_F(spare, index_of_a_spare_asked_for)
{
	struct cbd_dev other = { .backing_fd = -1 };
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	int fd;

	/* The spare of that index, configured. */
	cbd_spec_for(&self->d, &spec);
	spec.index = self->spares[1];
	ASSERT_EQ(0, cbd_add_nl_spec(&self->d, &spec));
	EXPECT_EQ(self->spares[1], self->d.index);
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, self->d.index, &info, NULL));
	EXPECT_EQ(CL_DEV_STATE_LIVE, info.state);

	/* A device that does not fit a spare: the spare makes room. */
	ASSERT_EQ(0, cbd_backing_create(&other, CBD_DEFAULT_SIZE));
	cbd_spec_for(&other, &spec);
	spec.index = self->spares[0];
	spec.queue_depth = 16;
	ASSERT_EQ(0, cbd_add_nl_spec(&other, &spec));
	EXPECT_EQ(self->spares[0], other.index);
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, other.index, &info, NULL));
	EXPECT_EQ(16, info.queue_depth);
	EXPECT_EQ(16, disk_attr(other.index, "queue/nr_requests"));
	ASSERT_EQ(0, cbd_write_pattern(other.backing_fd, 4096, 0, 3));
	ASSERT_EQ(0, fsync(other.backing_fd));
	fd = open(other.node, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(cbd_has_pattern(fd, 4096, 0, 3));
	close(fd);
	/* An index in use is still refused. */
	cbd_spec_for(&other, &spec);
	spec.index = self->spares[0];
	EXPECT_EQ(-EEXIST, cl_kernel_dev_add(self->k, &spec, &info, NULL));
	cbd_dev_cleanup(&other);
	EXPECT_EQ(0, cbd_wait_spares(DEFAULT_SPARES, SETTLE_MS));
	EXPECT_EQ(1, cbd_live_devices());
}

TEST_F(spare, other_queue_parameters_make_their_own_disk)
{
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	uint32_t after[8];

	cbd_spec_for(&self->d, &spec);
	spec.nr_hw_queues = 1;
	spec.queue_depth = 32;
	ASSERT_EQ(0, cbd_add_nl_spec(&self->d, &spec));
	EXPECT_FALSE(has_index(self->spares, self->nr_spares, self->d.index));
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, self->d.index, &info, NULL));
	EXPECT_EQ(1, info.nr_hw_queues);
	EXPECT_EQ(32, info.queue_depth);
	/* The pool was not touched. */
	ASSERT_EQ(DEFAULT_SPARES, cbd_spare_indexes(after, 8));
	EXPECT_EQ(self->spares[0], after[0]);
	EXPECT_EQ(self->spares[1], after[1]);
}

TEST_F(spare, parameter_sizes_the_pool)
{
	struct cbd_dev more = { .backing_fd = -1 };
	uint32_t idx[8];
	int fd;

	ASSERT_EQ(0, cbd_set_spare_devices(0));
	ASSERT_EQ(0, cbd_wait_spares(0, SETTLE_MS));
	EXPECT_EQ(0, cbd_get_spare_devices());
	EXPECT_EQ(0, cbd_wait_node(self->spares[0], false, SETTLE_MS));

	/* No spares: the add makes its disk, and it works the same. */
	ASSERT_EQ(0, cbd_add_nl(&self->d, CINDERBLK_F_DISCARD));
	fd = open(self->d.node, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	EXPECT_EQ(self->d.size, cbd_bdev_size(fd));
	ASSERT_EQ(0, cbd_write_pattern(fd, 8192, 4096, 77));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	EXPECT_TRUE(cbd_has_pattern(self->d.backing_fd, 8192, 4096, 77));
	EXPECT_EQ(0, cbd_spare_indexes(idx, 8));

	ASSERT_EQ(0, cbd_set_spare_devices(3));
	ASSERT_EQ(0, cbd_wait_spares(3, SETTLE_MS));
	EXPECT_EQ(3, cbd_spare_indexes(idx, 8));
	EXPECT_FALSE(has_index(idx, 3, self->d.index));
	ASSERT_EQ(0, cbd_backing_create(&more, CBD_DEFAULT_SIZE));
	ASSERT_EQ(0, cbd_add_nl(&more, 0));
	EXPECT_EQ(idx[0], more.index);
	cbd_dev_cleanup(&more);

	EXPECT_EQ(-EINVAL, cbd_set_spare_devices(17));
	EXPECT_EQ(3, cbd_get_spare_devices());
	fd = open(CBD_SPARE_DEVICES, O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, write(fd, "two", 3));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	ASSERT_EQ(0, cbd_set_spare_devices(DEFAULT_SPARES));
	ASSERT_EQ(0, cbd_wait_spares(DEFAULT_SPARES, SETTLE_MS));
	EXPECT_EQ(1, cbd_live_devices());
}

/* Adds faster than the pool refills: some make disks, none fails or leaks. */
TEST_F_TIMEOUT(spare, back_to_back_adds_leak_nothing, 300)
{
	struct cbd_dev devs[6];
	char buf[64];

	for (int i = 0; i < 6; i++) {
		ASSERT_EQ(0, cbd_backing_create(&devs[i], 4 * CBD_MIB));
		ASSERT_EQ(0, cbd_add_nl(&devs[i], 0)) {
			TH_LOG("add %d", i);
		}
		ASSERT_EQ(0, cbd_sysfs_read(devs[i].index, "volume_id", buf,
					    sizeof(buf)));
		EXPECT_STREQ(devs[i].volume_id, buf);
		for (int j = 0; j < i; j++)
			EXPECT_NE(devs[j].index, devs[i].index);
	}
	EXPECT_EQ(6, cbd_dump_count());
	EXPECT_EQ(6, cbd_live_devices());
	EXPECT_EQ(6, cbd_sysfs_block_count());
	for (int round = 0; round < 20; round++) {
		int i = round % 6;

		ASSERT_EQ(0, cl_kernel_dev_remove(self->k, devs[i].index,
						  false, NULL));
		devs[i].added = false;
		devs[i].volume_id[0] = '\0';
		ASSERT_EQ(0, cbd_add_nl(&devs[i], 0)) {
			TH_LOG("round %d", round);
		}
	}
	for (int i = 0; i < 6; i++)
		cbd_dev_cleanup(&devs[i]);
	EXPECT_EQ(0, cbd_dump_count());
	EXPECT_EQ(0, cbd_sysfs_block_count());
	EXPECT_EQ(0, cbd_live_devices());
	EXPECT_EQ(0, cbd_wait_spares(DEFAULT_SPARES, SETTLE_MS));
}

/*
 * An index asked for while the pool grows: the spare there is not built
 * yet, being built, or idle, and the add waits for it where it must.
 */
TEST_F_TIMEOUT(spare, index_asked_for_while_pool_grows, 300)
{
	static const uint32_t want[] = { 15, 9, 12, 5 };
	struct cl_dev_spec spec;
	struct cl_dev_info info;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ASSERT_EQ(0, cbd_set_spare_devices(DEFAULT_SPARES));
		ASSERT_EQ(0, cbd_wait_spares(DEFAULT_SPARES, SETTLE_MS));
		ASSERT_EQ(0, cbd_set_spare_devices(16));
		cbd_spec_for(&self->d, &spec);
		spec.index = want[i];
		spec.queue_depth = 16;	/* no spare fits: it must make room */
		ASSERT_EQ(0, cbd_add_nl_spec(&self->d, &spec)) {
			TH_LOG("index %u", want[i]);
		}
		EXPECT_EQ(want[i], self->d.index);
		ASSERT_EQ(0, cl_kernel_dev_get(self->k, want[i], &info, NULL));
		EXPECT_EQ(16, info.queue_depth);
		EXPECT_EQ(1, cbd_live_devices());
		ASSERT_EQ(0, cl_kernel_dev_remove(self->k, want[i], false,
						  NULL));
		self->d.added = false;
		self->d.volume_id[0] = '\0';
	}
	EXPECT_EQ(0, cbd_wait_spares(16, 4 * SETTLE_MS));
	EXPECT_EQ(0, cbd_live_devices());
}

/* Children adding and removing while the pool is resized under them. */
TEST_F_TIMEOUT(spare, pool_resized_under_concurrent_adds, 300)
{
	static const unsigned int sizes[] = { 0, 3, 1, 4, 0, 2, 5, 1 };
	pid_t pids[3];
	int status, done = 0;

	for (int i = 0; i < 3; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			_exit(cbd_add_remove_cycles(self->d.path, 15));
	}
	for (int i = 0; done < 3; i++) {
		ASSERT_EQ(0, cbd_set_spare_devices(sizes[i % 8]));
		usleep(20000);
		for (int c = 0; c < 3; c++) {
			if (pids[c] <= 0 || waitpid(pids[c], &status, WNOHANG) <= 0)
				continue;
			EXPECT_TRUE(WIFEXITED(status));
			EXPECT_EQ(0, WEXITSTATUS(status));
			pids[c] = 0;
			done++;
		}
	}
	ASSERT_EQ(0, cbd_set_spare_devices(DEFAULT_SPARES));
	EXPECT_EQ(0, cbd_wait_spares(DEFAULT_SPARES, SETTLE_MS));
	EXPECT_EQ(0, cbd_dump_count());
	EXPECT_EQ(0, cbd_sysfs_block_count());
	EXPECT_EQ(0, cbd_live_devices());
}

/*
 * Indexes: spares hold the lowest free ones, but give them up to adds that
 * cannot take a spare, and the pool grows back when devices go.
 */
TEST_F_TIMEOUT(spare, spares_give_up_their_indexes, 300)
{
	struct cbd_dev devs[4];
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	uint32_t idx[4];

	for (int i = 0; i < 4; i++)
		devs[i].backing_fd = -1;
	/* Three indexes in all, two of them spares'. */
	cbd_nl_reset();
	ASSERT_EQ(0, cbd_system("rmmod cinderblk"));
	ASSERT_EQ(0, cbd_system("insmod " CBD_KO_PATH " max_devices=3"));
	self->k = cbd_nl();
	ASSERT_NE(NULL, self->k);
	ASSERT_EQ(0, cbd_wait_spares(DEFAULT_SPARES, SETTLE_MS));

	/* Adds that fit no spare (another queue depth) take them all. */
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, cbd_backing_create(&devs[i], 4 * CBD_MIB));
		cbd_spec_for(&devs[i], &spec);
		spec.queue_depth = 16;
		ASSERT_EQ(0, cbd_add_nl_spec(&devs[i], &spec)) {
			TH_LOG("add %d", i);
		}
	}
	EXPECT_EQ(0, cbd_spare_indexes(idx, 4));
	EXPECT_EQ(3, cbd_live_devices());
	ASSERT_EQ(0, cbd_backing_create(&devs[3], 4 * CBD_MIB));
	cbd_spec_for(&devs[3], &spec);
	EXPECT_EQ(-ENOSPC, cl_kernel_dev_add(self->k, &spec, &info, NULL));
	spec.queue_depth = 16;
	EXPECT_EQ(-ENOSPC, cl_kernel_dev_add(self->k, &spec, &info, NULL));

	/* A device goes: a spare takes its index, and the next add it. */
	ASSERT_EQ(0, cl_kernel_dev_remove(self->k, devs[1].index, false, NULL));
	devs[1].added = false;
	ASSERT_EQ(0, cbd_wait_spares(1, SETTLE_MS));
	ASSERT_EQ(1, cbd_spare_indexes(idx, 4));
	EXPECT_EQ(devs[1].index, idx[0]);
	ASSERT_EQ(0, cbd_add_nl(&devs[3], 0));
	EXPECT_EQ(idx[0], devs[3].index);

	for (int i = 0; i < 4; i++)
		cbd_dev_cleanup(&devs[i]);
	EXPECT_EQ(0, cbd_live_devices());
	cbd_nl_reset();
	ASSERT_EQ(0, cbd_system("rmmod cinderblk"));
	ASSERT_EQ(0, cbd_system("insmod " CBD_KO_PATH));
	self->k = cbd_nl();
	ASSERT_NE(NULL, self->k);
}

/* Hardware queues of disk cbdN: its /sys/block/cbdN/mq entries. */
static int mq_count(uint32_t index)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "exit $(ls /sys/block/%s%u/mq | wc -l)",
		 CINDERBLK_DISK_PREFIX, index);
	return cbd_system("%s", cmd);
}

/* Wait until the pool is full of spares with @queues hardware queues. */
static bool wait_spare_queues(int queues)
{
	int64_t end = cbd_now_ms() + SETTLE_MS;
	uint32_t idx[4];
	int n, fit;

	do {
		n = cbd_spare_indexes(idx, 4);
		fit = 0;
		for (int i = 0; i < n && i < 4; i++)
			fit += mq_count(idx[i]) == queues;
		if (n == DEFAULT_SPARES && fit == n)
			return true;
		usleep(20000);
	} while (cbd_now_ms() < end);
	return false;
}

static int set_cpu1_online(int on)
{
	return cbd_system("echo %d > /sys/devices/system/cpu/cpu1/online", on);
}

/*
 * Spares are made with one hardware queue per online CPU, the default of
 * an add: when CPUs come or go, the pool is made again to fit.
 */
TEST_F_TIMEOUT(spare, spares_follow_cpu_hotplug, 300)
{
	struct cbd_dev more = { .backing_fd = -1 };
	struct cl_dev_info info;
	uint32_t idx[4];

	if (access("/sys/devices/system/cpu/cpu1/online", W_OK) != 0)
		SKIP(return, "no second CPU to take offline");
	ASSERT_EQ(2, mq_count(self->spares[0]));
	ASSERT_EQ(0, set_cpu1_online(0));
	/* This add asks for one queue: no spare fits, the pool is redone. */
	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, self->d.index, &info, NULL));
	EXPECT_EQ(1, info.nr_hw_queues);
	ASSERT_TRUE(wait_spare_queues(1));
	ASSERT_EQ(DEFAULT_SPARES, cbd_spare_indexes(idx, 4));
	ASSERT_EQ(0, cbd_backing_create(&more, 4 * CBD_MIB));
	ASSERT_EQ(0, cbd_add_nl(&more, 0));
	EXPECT_EQ(idx[0], more.index);
	cbd_dev_cleanup(&more);

	ASSERT_EQ(0, set_cpu1_online(1));
	ASSERT_EQ(0, cbd_backing_create(&more, 4 * CBD_MIB));
	ASSERT_EQ(0, cbd_add_nl(&more, 0));
	ASSERT_EQ(0, cl_kernel_dev_get(self->k, more.index, &info, NULL));
	EXPECT_EQ(2, info.nr_hw_queues);
	cbd_dev_cleanup(&more);
	EXPECT_TRUE(wait_spare_queues(2));
}

TEST_HARNESS_MAIN
