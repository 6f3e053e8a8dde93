// SPDX-License-Identifier: GPL-2.0
/*
 * A device lets go of what its backing holds: after every kind of
 * removal (plain, forced with I/O in flight, reconfigure away, module
 * unload) the file system under a file backing unmounts, a remap
 * backing's lower device can be opened exclusively again, and the
 * module's live_backing_refs counter is back where it was. An ioctl add
 * whose answer cannot be copied out takes back its own device only.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"

#define BACKING_REFS "/sys/module/cinderblk/parameters/live_backing_refs"

static int backing_refs(void)
{
	char buf[32] = "";
	int fd = open(BACKING_REFS, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -EIO;
}

/* Wait until live_backing_refs is @want; its last value. */
static int wait_refs(int want, int ms)
{
	int64_t end = cbd_now_ms() + ms;
	int v;

	while ((v = backing_refs()) != want && cbd_now_ms() < end)
		usleep(20000);
	return v;
}

/* Unmount the scratch file system that holds the backing files. */
static int umount_scratch(void)
{
	const char *dir = cbd_scratch_dir();

	if (!dir)
		return -EIO;
	return umount(dir) ? -errno : 0;
}

FIXTURE(rel) {
	struct cbd_dev d;
	int refs0;
};

FIXTURE_SETUP(rel)
{
	ASSERT_NE(NULL, cbd_nl());
	ASSERT_EQ(0, cbd_backing_create(&self->d, 16 * CBD_MIB));
	self->refs0 = backing_refs();
	ASSERT_LE(0, self->refs0);
}

FIXTURE_TEARDOWN(rel)
{
	cbd_dev_cleanup(&self->d);
}

/* Our own descriptor of the backing goes: only the device's is left. */
static void drop_backing_fd(struct cbd_dev *d)
{
	close(d->backing_fd);
	d->backing_fd = -1;
}

TEST_F(rel, plain_remove_lets_go_of_the_file)
{
	struct cl_error err = { 0 };

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	EXPECT_EQ(self->refs0 + 1, backing_refs());
	drop_backing_fd(&self->d);
	/* Held by the device, the file system cannot go. */
	EXPECT_EQ(-EBUSY, umount_scratch());
	ASSERT_EQ(0, cl_kernel_dev_remove(cbd_nl(), self->d.index, false, &err))
		TH_LOG("%s", err.msg);
	self->d.added = false;
	EXPECT_EQ(self->refs0, wait_refs(self->refs0, 5000));
	EXPECT_EQ(0, umount_scratch());
}

TEST_F(rel, ioctl_add_and_remove_let_go_of_the_file)
{
	ASSERT_EQ(0, cbd_add_ioctl(&self->d, 0));
	EXPECT_EQ(self->refs0 + 1, backing_refs());
	drop_backing_fd(&self->d);
	cbd_dev_cleanup(&self->d);
	EXPECT_EQ(self->refs0, wait_refs(self->refs0, 5000));
	EXPECT_EQ(0, umount_scratch());
}

TEST_F_TIMEOUT(rel, forced_remove_with_io_in_flight_lets_go, 120)
{
	struct cl_error err = { 0 };
	int status;
	pid_t fio;

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	drop_backing_fd(&self->d);
	fio = fork();
	ASSERT_LE(0, fio);
	if (fio == 0) {
		execlp("fio", "fio", "--name=w", "--filename", self->d.node,
		       "--direct=1", "--ioengine=libaio", "--rw=randrw",
		       "--bs=4k", "--iodepth=32", "--time_based=1",
		       "--runtime=20", "--output=/dev/null", (char *)NULL);
		_exit(127);
	}
	usleep(1500 * 1000);
	ASSERT_EQ(0, cl_kernel_dev_remove(cbd_nl(), self->d.index, true, &err))
		TH_LOG("%s", err.msg);
	self->d.added = false;
	ASSERT_EQ(fio, waitpid(fio, &status, 0));
	/* fio saw I/O errors (it fails); the device let go all the same. */
	EXPECT_EQ(self->refs0, wait_refs(self->refs0, 10000));
	EXPECT_EQ(0, umount_scratch());
}

TEST_F(rel, reconfigure_away_lets_go_of_the_old_file)
{
	struct cl_dev_spec spec;
	struct cl_error err = { 0 };
	char other[] = "/dev/shm/cbd-other.XXXXXX";
	int fd;

	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	ASSERT_EQ(0, cbd_write_pattern(self->d.backing_fd, 64 * 1024, 0, 5));
	drop_backing_fd(&self->d);
	/* The new backing on another file system (tmpfs). */
	fd = mkstemp(other);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, (off_t)self->d.size));
	ASSERT_EQ(0, cbd_write_pattern(fd, 64 * 1024, 0, 9));
	ASSERT_EQ(0, cl_kernel_dev_suspend(cbd_nl(), self->d.index, false,
					   &err)) TH_LOG("%s", err.msg);
	cbd_spec_for(&self->d, &spec);
	spec.backing_fd = fd;
	EXPECT_EQ(0, cl_kernel_dev_reconfigure_spec(cbd_nl(), self->d.index,
						    &spec, &err))
		TH_LOG("%s", err.msg);
	ASSERT_EQ(0, cl_kernel_dev_resume(cbd_nl(), self->d.index, &err));
	close(fd);
	unlink(other);
	EXPECT_EQ(self->refs0 + 1, backing_refs());
	/* The old file system goes while the device lives on the new file. */
	EXPECT_EQ(0, umount_scratch());
	fd = open(self->d.node, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(cbd_has_pattern(fd, 64 * 1024, 0, 9));
	close(fd);
	cbd_dev_cleanup(&self->d);
	EXPECT_EQ(self->refs0, wait_refs(self->refs0, 5000));
}

TEST_F_TIMEOUT(rel, module_unload_lets_go_of_the_file, 120)
{
	ASSERT_EQ(0, access(CBD_KO_PATH, R_OK));
	ASSERT_EQ(0, cbd_add_nl(&self->d, 0));
	drop_backing_fd(&self->d);
	cbd_nl_reset();
	ASSERT_EQ(0, cbd_system("rmmod cinderblk"));
	self->d.added = false;
	EXPECT_EQ(0, umount_scratch());
	ASSERT_EQ(0, cbd_system("insmod " CBD_KO_PATH));
	EXPECT_EQ(0, backing_refs());
}

TEST_F(rel, remap_remove_lets_go_of_the_lower_device)
{
	char file[] = "/dev/shm/cbd-lower.XXXXXX", loop[64] = "", cmd[128];
	struct cl_extent ext = { .start = 0, .length = 16 * CBD_MIB };
	struct cl_error err = { 0 };
	struct cbd_dev r;
	int fd, lower;
	FILE *p;

	fd = mkstemp(file);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, (off_t)(16 * CBD_MIB)));
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "modprobe loop 2>/dev/null; losetup -f --show %s", file);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, fgets(loop, sizeof(loop), p));
	pclose(p);
	loop[strcspn(loop, "\n")] = '\0';
	lower = open(loop, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, lower);
	ASSERT_EQ(0, cbd_add_remap(&r, lower, 16 * CBD_MIB, &ext, 1, 0));
	close(lower);
	EXPECT_EQ(self->refs0 + 1, backing_refs());
	EXPECT_FALSE(cbd_bdev_free(loop));
	EXPECT_EQ(0, cl_kernel_dev_remove(cbd_nl(), r.index, false, &err));
	EXPECT_EQ(self->refs0, wait_refs(self->refs0, 5000));
	EXPECT_TRUE(cbd_bdev_free(loop));
	cbd_system("losetup -d %s", loop);
	unlink(file);
}

/* ---- an add whose answer cannot be copied out ---- */

struct adder {
	volatile bool stop;
	int added;
	int lost;		/* devices of ours gone without our remove */
};

/* Adds and removes its own devices, checking each is still there. */
static void *steady_adder(void *arg)
{
	struct adder *a = arg;
	struct cl_kernel *k;

	if (cl_kernel_open(&k, NULL))
		return NULL;
	while (!a->stop) {
		struct cl_dev_info info;
		struct cl_dev_spec spec;
		struct cbd_dev d;

		if (cbd_backing_create(&d, CBD_DEFAULT_SIZE))
			break;
		cbd_spec_for(&d, &spec);
		if (cl_kernel_dev_add(k, &spec, &info, NULL) == 0) {
			struct cl_dev_info now;

			a->added++;
			usleep(2000);
			if (cl_kernel_dev_get(k, info.index, &now, NULL) ||
			    strcmp(now.volume_id, d.volume_id))
				a->lost++;
			cl_kernel_dev_remove(k, info.index, true, NULL);
		}
		close(d.backing_fd);
		unlink(d.path);
	}
	cl_kernel_close(k);
	return NULL;
}

TEST_F_TIMEOUT(rel, ioctl_add_efault_takes_back_only_its_device, 120)
{
	long page = sysconf(_SC_PAGESIZE);
	struct cinderblk_ioc_dev *req;
	struct adder a = { 0 };
	pthread_t th;
	int ctl, live0, faults = 0;
	void *mem;

	ctl = cbd_ctl_open();
	ASSERT_LE(0, ctl);
	live0 = cbd_live_devices();
	/* The request in a page we can read but the kernel cannot write. */
	mem = mmap(NULL, page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	req = mem;
	cbd_make_uuid(self->d.volume_id);
	cbd_ioc_init(req, CINDERBLK_INDEX_ANY);
	req->size = self->d.size;
	req->backing_type = CINDERBLK_BACKING_FILE;
	req->backing_fd = self->d.backing_fd;
	memcpy(req->volume_id, self->d.volume_id, CL_VOLUME_ID_LEN);
	ASSERT_EQ(0, mprotect(mem, page, PROT_READ));
	EXPECT_EQ(-1, ioctl(ctl, CINDERBLK_IOC_DEV_ADD, req));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(live0, cbd_live_devices());
	EXPECT_EQ(self->refs0, wait_refs(self->refs0, 5000));

	/* Beside a steady adder: its devices never go. */
	ASSERT_EQ(0, pthread_create(&th, NULL, steady_adder, &a));
	for (int i = 0; i < 200; i++)
		if (ioctl(ctl, CINDERBLK_IOC_DEV_ADD, req) < 0 &&
		    errno == EFAULT)
			faults++;
	a.stop = true;
	pthread_join(th, NULL);
	EXPECT_EQ(200, faults);
	EXPECT_LT(0, a.added);
	EXPECT_EQ(0, a.lost);
	EXPECT_EQ(live0, cbd_live_devices());
	EXPECT_EQ(self->refs0, wait_refs(self->refs0, 5000));
	munmap(mem, page);
	close(ctl);
}

TEST_HARNESS_MAIN
