// SPDX-License-Identifier: GPL-2.0
/*
 * Stacking: cbd devices on files on ext4 on cbd devices work, with their
 * data, up to the cap; one more level is refused with ELOOP, at add and
 * at reconfigure, and nothing is left behind by the refusal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"

#define LEVELS 3	/* the bottom device and two stacked on it */

struct level {
	struct cbd_dev d;
	char mnt[64];
	bool mounted;
};

FIXTURE(stack) {
	struct level l[LEVELS + 1];
};

FIXTURE_SETUP(stack)
{
	memset(self->l, 0, sizeof(self->l));
	for (int i = 0; i <= LEVELS; i++)
		self->l[i].d.backing_fd = -1;
	ASSERT_NE(NULL, cbd_nl());
}

FIXTURE_TEARDOWN(stack)
{
	for (int i = LEVELS; i >= 0; i--) {
		if (self->l[i].d.backing_fd >= 0)
			close(self->l[i].d.backing_fd);
		self->l[i].d.backing_fd = -1;
		if (self->l[i].d.added)
			cl_kernel_dev_remove(cbd_nl(), self->l[i].d.index, true,
					     NULL);
		self->l[i].d.added = false;
		if (self->l[i].mounted)
			umount(self->l[i].mnt);
	}
}

/* ext4 on device @l, mounted, with a backing file of @size for the next. */
static int file_on(struct level *l, struct cbd_dev *next, uint64_t size,
		   int n)
{
	int fd;

	snprintf(l->mnt, sizeof(l->mnt), "/tmp/cbd-stack-%d", n);
	mkdir(l->mnt, 0755);
	if (cbd_system("mkfs.ext4 -q -F %s >/dev/null 2>&1", l->d.node) ||
	    mount(l->d.node, l->mnt, "ext4", 0, NULL))
		return -1;
	l->mounted = true;
	memset(next, 0, sizeof(*next));
	snprintf(next->path, sizeof(next->path), "%s/backing", l->mnt);
	fd = open(next->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size))
		return -1;
	next->backing_fd = fd;
	next->size = size;
	return 0;
}

TEST_F_TIMEOUT(stack, capped_at_two_levels, 180)
{
	uint64_t size[LEVELS + 1] = { 96 * CBD_MIB, 64 * CBD_MIB,
				      32 * CBD_MIB, 16 * CBD_MIB };
	struct cl_dev_spec spec;
	struct cl_error err = { 0 };
	struct cbd_dev x;
	int live, fd;

	ASSERT_EQ(0, cbd_backing_create(&self->l[0].d, size[0]));
	ASSERT_EQ(0, cbd_add_nl(&self->l[0].d, 0));
	for (int i = 1; i < LEVELS; i++) {
		ASSERT_EQ(0, file_on(&self->l[i - 1], &self->l[i].d, size[i], i));
		ASSERT_EQ(0, cbd_add_nl(&self->l[i].d, 0)) TH_LOG("level %d", i);
	}
	/* The top of the allowed stack moves data both ways. */
	fd = open(self->l[LEVELS - 1].d.node, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cbd_write_pattern(fd, 1024 * 1024, 4 * CBD_MIB, 33));
	ASSERT_EQ(0, fsync(fd));
	EXPECT_TRUE(cbd_has_pattern(fd, 1024 * 1024, 4 * CBD_MIB, 33));
	close(fd);
	EXPECT_TRUE(cbd_has_pattern(self->l[LEVELS - 1].d.backing_fd,
				    1024 * 1024, 4 * CBD_MIB, 33));

	/* One level more: refused, and nothing is left of it. */
	ASSERT_EQ(0, file_on(&self->l[LEVELS - 1], &self->l[LEVELS].d,
			     size[LEVELS], LEVELS));
	live = cbd_live_devices();
	cbd_spec_for(&self->l[LEVELS].d, &spec);
	EXPECT_EQ(-ELOOP, cl_kernel_dev_add(cbd_nl(), &spec, NULL, &err));
	EXPECT_NE(NULL, strstr(err.msg, "stacked")) TH_LOG("%s", err.msg);
	EXPECT_EQ(live, cbd_live_devices());
	/* Nor can another device be moved up there by reconfigure. */
	ASSERT_EQ(0, cbd_backing_create(&x, size[LEVELS]));
	ASSERT_EQ(0, cbd_add_nl(&x, 0));
	ASSERT_EQ(0, cl_kernel_dev_suspend(cbd_nl(), x.index, false, &err));
	cbd_spec_for(&x, &spec);
	spec.backing_fd = self->l[LEVELS].d.backing_fd;
	EXPECT_EQ(-ELOOP, cl_kernel_dev_reconfigure_spec(cbd_nl(), x.index,
							 &spec, &err));
	EXPECT_EQ(0, cl_kernel_dev_resume(cbd_nl(), x.index, &err));
	cbd_dev_cleanup(&x);
	fd = open(self->l[LEVELS - 1].d.node, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(cbd_has_pattern(fd, 1024 * 1024, 4 * CBD_MIB, 33));
	close(fd);
}

TEST_HARNESS_MAIN
