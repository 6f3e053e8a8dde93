// SPDX-License-Identifier: GPL-2.0
/*
 * libcinderlib's functional scenarios (cinderlib's own functional tests) on
 * the file backend with volumes attached through cinderblk: stats, create,
 * delete, snapshots, attach and detach (volume and connection API), disk
 * I/O, extend (also attached: the device grows live), clone, volume from
 * snapshot, read-only attach, busy and forced detach, failed attach undone,
 * stale attachments reconciled. State and volumes on ext4 over brd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"
#include "cinderlib/cinderlib.h"

#define GIB (1ULL << 30)
#define IO_LEN (1U << 20)

FIXTURE(att) {
	char dir[PATH_MAX];
	char voldir[PATH_MAX + 32];
	struct cl_context *ctx;
	struct cl_backend *be;
	struct cl_error err;
};

FIXTURE_SETUP(att)
{
	struct cl_setup_options o = { 0 };
	struct cl_dict opts = { 0 };
	char store[PATH_MAX + 32];
	const char *scratch = cbd_scratch_dir();

	ASSERT_NE(NULL, scratch);
	snprintf(self->dir, sizeof(self->dir), "%.3000s/attach.XXXXXX", scratch);
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->voldir, sizeof(self->voldir), "%s/volumes", self->dir);
	snprintf(store, sizeof(store), "%s/cinderlib.sqlite", self->dir);
	o.persistence = "sqlite";
	o.persistence_path = store;
	o.persistence_create = true;
	o.lock_path = self->dir;
	ASSERT_EQ(0, cl_setup(&o, &self->ctx, &self->err)) {
		TH_LOG("%s", self->err.msg);
	}
	cl_dict_set(&opts, "volume_driver", "file");
	cl_dict_set(&opts, "file_volume_dir", self->voldir);
	cl_dict_set(&opts, "file_volume_dir_create", "true");
	ASSERT_EQ(0, cl_backend_open(self->ctx, "file", &opts, &self->be,
				     &self->err)) {
		TH_LOG("%s", self->err.msg);
	}
	cl_dict_clear(&opts);
}

FIXTURE_TEARDOWN(att)
{
	struct cl_connection_list conns = { 0 };

	/* Leave no device behind for the next test. */
	if (self->ctx && cl_connection_find(self->ctx, NULL, &conns, NULL) == 0) {
		for (size_t i = 0; i < conns.count; i++)
			cl_connection_detach(self->ctx, conns.items[i], true,
					     NULL);
		cl_connection_list_free(&conns);
	}
	cl_context_free(self->ctx);
	cbd_system("rm -rf '%s'", self->dir);
}

static struct cl_volume *create(FIXTURE_DATA(att) *self, uint64_t gib)
{
	struct cl_volume_create_opts o = { .size = gib };
	struct cl_volume *vol = NULL;

	if (cl_volume_create(self->be, &o, &vol, &self->err))
		return NULL;
	return vol;
}

static uint64_t lsblk_size(const char *dev)
{
	char cmd[128], line[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "lsblk -bdno SIZE %s", dev);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	pclose(p);
	return strtoull(line, NULL, 10);
}

static uint64_t dev_size(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	uint64_t size;

	if (fd < 0)
		return 0;
	size = cbd_bdev_size(fd);
	close(fd);
	return size;
}

static int write_at(const char *dev, uint64_t off, uint64_t seed)
{
	void *buf = cbd_alloc(IO_LEN);
	int fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	int ret = -1;

	cbd_fill(buf, IO_LEN, off, seed);
	if (fd >= 0 && pwrite(fd, buf, IO_LEN, (off_t)off) == IO_LEN &&
	    fsync(fd) == 0)
		ret = 0;
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static bool has_at(const char *dev, uint64_t off, uint64_t seed)
{
	void *buf = cbd_alloc(IO_LEN);
	int fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	bool ok = false;

	if (fd >= 0 && pread(fd, buf, IO_LEN, (off_t)off) == IO_LEN)
		ok = cbd_check(buf, IO_LEN, off, seed);
	if (fd >= 0)
		close(fd);
	free(buf);
	return ok;
}

static size_t nr_connections(FIXTURE_DATA(att) *self,
			     const struct cl_volume *vol)
{
	struct cl_connection_list l = { 0 };
	size_t n;

	if (cl_volume_connections(self->ctx, vol, &l, NULL))
		return 999;
	n = l.count;
	cl_connection_list_free(&l);
	return n;
}

static double provisioned(FIXTURE_DATA(att) *self, uint64_t *volumes)
{
	struct cl_backend_stats st = { 0 };
	double gb = -1;

	if (cl_backend_stats(self->be, true, &st, &self->err) == 0 &&
	    st.nr_pools == 1) {
		gb = st.pools[0].provisioned_capacity_gb;
		*volumes = st.pools[0].total_volumes;
	}
	cl_backend_stats_free(&st);
	return gb;
}

TEST_F(att, stats)
{
	struct cl_backend_stats st = { 0 };

	ASSERT_EQ(0, cl_backend_stats(self->be, true, &st, &self->err));
	EXPECT_STREQ("file", st.volume_backend_name);
	ASSERT_EQ(1, st.nr_pools);
	EXPECT_GT(st.pools[0].total_capacity_gb, 0.0);
	EXPECT_GT(st.pools[0].free_capacity_gb, 0.0);
	EXPECT_LE(st.pools[0].free_capacity_gb, st.pools[0].total_capacity_gb);
	EXPECT_EQ(0, st.pools[0].total_volumes);
	EXPECT_TRUE(st.pools[0].thin_provisioning_support);
	cl_backend_stats_free(&st);
}

TEST_F(att, stats_with_creation)
{
	struct cl_volume *vol;
	uint64_t n = 99;

	ASSERT_EQ(0.0, provisioned(self, &n));
	EXPECT_EQ(0, n);
	vol = create(self, 1);
	ASSERT_NE(NULL, vol);
	EXPECT_EQ(1.0, provisioned(self, &n));
	EXPECT_EQ(1, n);
	ASSERT_EQ(0, cl_volume_delete(self->ctx, vol, &self->err));
	EXPECT_EQ(0.0, provisioned(self, &n));
	cl_volume_free(vol);
}

TEST_F(att, create_volume)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_connection *conn = NULL;

	ASSERT_NE(NULL, vol);
	EXPECT_EQ(CL_STATUS_AVAILABLE, vol->status);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW, &conn,
				      &self->err)) {
		TH_LOG("%s", self->err.msg);
	}
	EXPECT_EQ(GIB, lsblk_size(conn->device_path));
	EXPECT_EQ(GIB, dev_size(conn->device_path));
	EXPECT_EQ(0, cl_volume_detach(self->ctx, vol, false, &self->err));
	EXPECT_EQ(0, cl_volume_delete(self->ctx, vol, &self->err));
	cl_connection_free(conn);
	cl_volume_free(vol);
}

TEST_F(att, create_delete_volume)
{
	struct cl_volume *vol = create(self, 1), *found = NULL;
	char path[PATH_MAX + 128];

	ASSERT_NE(NULL, vol);
	snprintf(path, sizeof(path), "%s/volume-%s", self->voldir, vol->id);
	EXPECT_EQ(0, access(path, F_OK));
	ASSERT_EQ(0, cl_volume_delete(self->ctx, vol, &self->err));
	EXPECT_EQ(CL_STATUS_DELETED, vol->status);
	EXPECT_EQ(-ENOENT, cl_volume_get(self->ctx, vol->id, &found, NULL));
	EXPECT_NE(0, access(path, F_OK));
	/* Deleting twice is fine. */
	EXPECT_EQ(0, cl_volume_delete(self->ctx, vol, &self->err));
	cl_volume_free(vol);
}

TEST_F(att, create_snapshot)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_snapshot *snap = NULL;
	struct cl_snapshot_list l = { 0 };

	ASSERT_NE(NULL, vol);
	ASSERT_EQ(0, cl_volume_create_snapshot(self->ctx, vol, "s", NULL,
					       &snap, &self->err));
	EXPECT_EQ(CL_STATUS_AVAILABLE, snap->status);
	EXPECT_EQ(1, snap->volume_size);
	EXPECT_STREQ(vol->id, snap->volume_id);
	ASSERT_EQ(0, cl_volume_snapshots(self->ctx, vol, &l, &self->err));
	EXPECT_EQ(1, l.count);
	cl_snapshot_list_free(&l);
	EXPECT_EQ(0, cl_snapshot_delete(self->ctx, snap, &self->err));
	EXPECT_EQ(0, cl_volume_delete(self->ctx, vol, &self->err));
	cl_snapshot_free(snap);
	cl_volume_free(vol);
}

TEST_F(att, create_delete_snapshot)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_snapshot *snap = NULL, *found = NULL;

	ASSERT_NE(NULL, vol);
	ASSERT_EQ(0, cl_volume_create_snapshot(self->ctx, vol, NULL, NULL,
					       &snap, &self->err));
	ASSERT_EQ(0, cl_snapshot_delete(self->ctx, snap, &self->err));
	EXPECT_EQ(CL_STATUS_DELETED, snap->status);
	EXPECT_EQ(-ENOENT, cl_snapshot_get(self->ctx, snap->id, &found, NULL));
	EXPECT_EQ(0, cl_snapshot_delete(self->ctx, snap, &self->err));
	EXPECT_EQ(0, cl_volume_delete(self->ctx, vol, &self->err));
	cl_snapshot_free(snap);
	cl_volume_free(vol);
}

TEST_F(att, attach_volume)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_connection *conn = NULL;
	char id[64];
	struct stat st;
	uint32_t index;

	ASSERT_NE(NULL, vol);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW, &conn,
				      &self->err)) {
		TH_LOG("%s", self->err.msg);
	}
	ASSERT_NE(NULL, conn->device_path);
	ASSERT_EQ(0, stat(conn->device_path, &st));
	EXPECT_TRUE(S_ISBLK(st.st_mode));
	EXPECT_EQ(CL_STATUS_IN_USE, vol->status);
	EXPECT_EQ(CL_ATTACH_ATTACHED, conn->status);
	EXPECT_STREQ("file", conn->driver_volume_type);
	EXPECT_EQ(CL_DEVICE_PRESENT,
		  cl_connection_device_state(self->ctx, conn));
	ASSERT_EQ(1, sscanf(conn->device_path, "/dev/cbd%u", &index));
	ASSERT_EQ(0, cbd_sysfs_read(index, "volume_id", id, sizeof(id)));
	EXPECT_STREQ(vol->id, id);
	/* The local connector's properties are recorded. */
	EXPECT_NE(NULL, cl_dict_get(&conn->connector, "ip"));
	EXPECT_STREQ("true", cl_dict_get(&conn->connector, "do_local_attach"));
	EXPECT_EQ(1, nr_connections(self, vol));
	cl_connection_free(conn);
	cl_volume_free(vol);
}

TEST_F(att, attach_detach_volume)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_connection *conn = NULL;
	char node[64];

	ASSERT_NE(NULL, vol);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW, &conn,
				      &self->err));
	snprintf(node, sizeof(node), "%s", conn->device_path);
	ASSERT_EQ(0, cl_volume_detach(self->ctx, vol, false, &self->err)) {
		TH_LOG("%s", self->err.msg);
	}
	EXPECT_EQ(CL_STATUS_AVAILABLE, vol->status);
	EXPECT_EQ(0, nr_connections(self, vol));
	EXPECT_NE(0, access(node, F_OK));
	/* Nothing attached any more. */
	EXPECT_EQ(-ENOENT, cl_volume_detach(self->ctx, vol, false, NULL));
	EXPECT_EQ(0, cl_volume_delete(self->ctx, vol, &self->err));
	cl_connection_free(conn);
	cl_volume_free(vol);
}

TEST_F(att, attach_detach_volume_via_connection)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_connection *conn = NULL;
	struct cl_dict props = { 0 };
	char node[64];

	ASSERT_NE(NULL, vol);
	/* connect + attach of the connection, then Connection.detach(). */
	ASSERT_EQ(0, cl_local_connector(self->ctx, &props, &self->err));
	ASSERT_EQ(0, cl_volume_connect(self->ctx, vol, &props, CL_ATTACH_RW,
				       &conn, &self->err));
	EXPECT_EQ(CL_DEVICE_NONE, cl_connection_device_state(self->ctx, conn));
	ASSERT_EQ(0, cl_connection_attach(self->ctx, conn, &self->err)) {
		TH_LOG("%s", self->err.msg);
	}
	EXPECT_EQ(CL_DEVICE_PRESENT,
		  cl_connection_device_state(self->ctx, conn));
	EXPECT_EQ(-EEXIST, cl_connection_attach(self->ctx, conn, NULL));
	snprintf(node, sizeof(node), "%s", conn->device_path);
	EXPECT_EQ(GIB, dev_size(node));
	ASSERT_EQ(0, cl_connection_detach(self->ctx, conn, false, &self->err));
	EXPECT_EQ(CL_ATTACH_DETACHED, conn->status);
	EXPECT_NE(0, access(node, F_OK));
	ASSERT_EQ(0, cl_volume_refresh(self->ctx, vol, &self->err));
	EXPECT_EQ(CL_STATUS_AVAILABLE, vol->status);
	EXPECT_EQ(0, nr_connections(self, vol));
	/* Detaching again is success. */
	EXPECT_EQ(0, cl_connection_detach(self->ctx, conn, false, &self->err));
	cl_dict_clear(&props);
	cl_connection_free(conn);
	cl_volume_free(vol);
}

TEST_F(att, disk_io)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_connection *conn = NULL;

	ASSERT_NE(NULL, vol);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW, &conn,
				      &self->err));
	ASSERT_EQ(0, write_at(conn->device_path, 0, 1));
	ASSERT_EQ(0, write_at(conn->device_path, GIB - IO_LEN, 2));
	EXPECT_TRUE(has_at(conn->device_path, 0, 1));
	EXPECT_TRUE(has_at(conn->device_path, GIB - IO_LEN, 2));
	ASSERT_EQ(0, cl_volume_detach(self->ctx, vol, false, &self->err));
	cl_connection_free(conn);
	/* Still there after a new attach. */
	ASSERT_EQ(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW, &conn,
				      &self->err));
	EXPECT_TRUE(has_at(conn->device_path, 0, 1));
	EXPECT_TRUE(has_at(conn->device_path, GIB - IO_LEN, 2));
	EXPECT_FALSE(has_at(conn->device_path, IO_LEN, 1));
	cl_connection_free(conn);
	cl_volume_free(vol);
}

TEST_F(att, extend_volume)
{
	struct cl_volume *vol = create(self, 1);
	char path[PATH_MAX + 128];
	struct stat st;

	ASSERT_NE(NULL, vol);
	ASSERT_EQ(0, cl_volume_extend(self->ctx, vol, 2, &self->err));
	EXPECT_EQ(2, vol->size);
	EXPECT_EQ(CL_STATUS_AVAILABLE, vol->status);
	snprintf(path, sizeof(path), "%s/volume-%s", self->voldir, vol->id);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(2 * GIB, (uint64_t)st.st_size);
	cl_volume_free(vol);
}

TEST_F(att, extend_attached_volume)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_connection *conn = NULL;
	int fd;

	ASSERT_NE(NULL, vol);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW, &conn,
				      &self->err));
	/* Kept open: the size changes under an opener, no detach. */
	fd = open(conn->device_path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(GIB, cbd_bdev_size(fd));
	ASSERT_EQ(0, write_at(conn->device_path, GIB - IO_LEN, 3));
	ASSERT_EQ(0, cl_volume_extend(self->ctx, vol, 3, &self->err)) {
		TH_LOG("%s", self->err.msg);
	}
	EXPECT_EQ(CL_STATUS_IN_USE, vol->status);
	EXPECT_EQ(3 * GIB, cbd_bdev_size(fd));
	EXPECT_EQ(3 * GIB, lsblk_size(conn->device_path));
	close(fd);
	/* The new space works and the old data stayed. */
	ASSERT_EQ(0, write_at(conn->device_path, 3 * GIB - IO_LEN, 4));
	EXPECT_TRUE(has_at(conn->device_path, 3 * GIB - IO_LEN, 4));
	EXPECT_TRUE(has_at(conn->device_path, GIB - IO_LEN, 3));
	cl_connection_free(conn);
	cl_volume_free(vol);
}

TEST_F(att, clone)
{
	struct cl_volume *vol = create(self, 1), *copy = NULL;
	struct cl_connection *conn = NULL, *cconn = NULL;

	ASSERT_NE(NULL, vol);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW, &conn,
				      &self->err));
	ASSERT_EQ(0, write_at(conn->device_path, 5 * IO_LEN, 5));
	/* Cloned while attached: the source is held still meanwhile. */
	ASSERT_EQ(0, cl_volume_clone(self->ctx, vol, NULL, &copy, &self->err)) {
		TH_LOG("%s", self->err.msg);
	}
	EXPECT_STREQ(vol->id, copy->source_volid);
	EXPECT_EQ(1, copy->size);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, copy, CL_ATTACH_RW, &cconn,
				      &self->err));
	EXPECT_TRUE(has_at(cconn->device_path, 5 * IO_LEN, 5));
	/* Independent: writing the clone leaves the source alone. */
	ASSERT_EQ(0, write_at(cconn->device_path, 5 * IO_LEN, 6));
	EXPECT_TRUE(has_at(conn->device_path, 5 * IO_LEN, 5));
	cl_connection_free(conn);
	cl_connection_free(cconn);
	cl_volume_free(copy);
	cl_volume_free(vol);
}

TEST_F(att, create_volume_from_snapshot)
{
	struct cl_volume *vol = create(self, 1), *restored = NULL;
	struct cl_connection *conn = NULL, *rconn = NULL;
	struct cl_snapshot *snap = NULL;

	ASSERT_NE(NULL, vol);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW, &conn,
				      &self->err));
	ASSERT_EQ(0, write_at(conn->device_path, 0, 7));
	ASSERT_EQ(0, cl_volume_create_snapshot(self->ctx, vol, NULL, NULL,
					       &snap, &self->err)) {
		TH_LOG("%s", self->err.msg);
	}
	/* The device is live again after the snapshot. */
	ASSERT_EQ(0, write_at(conn->device_path, 0, 8));
	EXPECT_TRUE(has_at(conn->device_path, 0, 8));
	ASSERT_EQ(0, cl_snapshot_create_volume(self->ctx, snap, NULL,
					       &restored, &self->err));
	EXPECT_STREQ(snap->id, restored->snapshot_id);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, restored, CL_ATTACH_RO,
				      &rconn, &self->err));
	EXPECT_TRUE(has_at(rconn->device_path, 0, 7));
	EXPECT_FALSE(has_at(rconn->device_path, 0, 8));
	cl_connection_free(conn);
	cl_connection_free(rconn);
	cl_snapshot_free(snap);
	cl_volume_free(restored);
	cl_volume_free(vol);
}

TEST_F(att, read_only_attach_refuses_writes)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_connection *conn = NULL;
	void *buf = cbd_alloc(IO_LEN);
	int fd, ro = 0;

	ASSERT_NE(NULL, vol);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RO, &conn,
				      &self->err));
	EXPECT_EQ(CL_ATTACH_RO, conn->attach_mode);
	fd = open(conn->device_path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ioctl(fd, BLKROGET, &ro));
	EXPECT_EQ(1, ro);
	close(fd);
	fd = open(conn->device_path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd >= 0) {
		memset(buf, 0xab, IO_LEN);
		EXPECT_GT(0, pwrite(fd, buf, IO_LEN, 0));
		close(fd);
	} else {
		EXPECT_TRUE(errno == EACCES || errno == EROFS);
	}
	free(buf);
	cl_connection_free(conn);
	cl_volume_free(vol);
}

TEST_F(att, busy_detach_refused_forced_works)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_connection *conn = NULL;
	uint32_t index;
	char node[64];
	int fd;

	ASSERT_NE(NULL, vol);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW, &conn,
				      &self->err));
	snprintf(node, sizeof(node), "%s", conn->device_path);
	ASSERT_EQ(1, sscanf(node, "/dev/cbd%u", &index));
	fd = open(node, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EBUSY, cl_volume_detach(self->ctx, vol, false, &self->err));
	EXPECT_NE(NULL, strstr(self->err.msg, "is open"));
	EXPECT_EQ(1, nr_connections(self, vol));
	ASSERT_EQ(0, cl_volume_detach(self->ctx, vol, true, &self->err));
	EXPECT_EQ(0, nr_connections(self, vol));
	EXPECT_EQ(CL_STATUS_AVAILABLE, vol->status);
	close(fd);
	/* Freed once its last opener closed it. */
	EXPECT_EQ(0, cbd_wait_node(index, false, 2000));
	cl_connection_free(conn);
	cl_volume_free(vol);
}

TEST_F(att, failed_attach_is_undone)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_connection *conn = NULL;
	char path[PATH_MAX + 128];
	int before = cbd_sysfs_block_count();

	ASSERT_NE(NULL, vol);
	/* The connector cannot open a directory as the volume. */
	snprintf(path, sizeof(path), "%s/volume-%s", self->voldir, vol->id);
	ASSERT_EQ(0, unlink(path));
	ASSERT_EQ(0, mkdir(path, 0700));
	EXPECT_NE(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW, &conn,
				      &self->err));
	EXPECT_EQ(NULL, conn);
	EXPECT_EQ(0, nr_connections(self, vol));
	EXPECT_EQ(CL_STATUS_AVAILABLE, vol->status);
	EXPECT_EQ(before, cbd_sysfs_block_count());
	rmdir(path);
	cl_volume_free(vol);
}

TEST_F(att, stale_attachment_reconciled)
{
	struct cl_volume *vol = create(self, 1);
	struct cl_connection_list stale = { 0 };
	struct cl_connection *conn = NULL, *again = NULL;
	struct cl_kernel *k = cbd_nl();
	uint32_t index;

	ASSERT_NE(NULL, vol);
	ASSERT_NE(NULL, k);
	ASSERT_EQ(0, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW, &conn,
				      &self->err));
	ASSERT_EQ(1, sscanf(conn->device_path, "/dev/cbd%u", &index));
	/* Gone behind the library's back, as after a reboot. */
	ASSERT_EQ(0, cl_kernel_dev_remove(k, index, true, NULL));
	EXPECT_EQ(CL_DEVICE_MISSING,
		  cl_connection_device_state(self->ctx, conn));
	EXPECT_EQ(-EBUSY, cl_volume_attach(self->ctx, vol, CL_ATTACH_RW,
					   &again, NULL));
	ASSERT_EQ(0, cl_connection_reconcile(self->ctx, true, &stale,
					     &self->err));
	EXPECT_EQ(1, stale.count);
	EXPECT_EQ(1, nr_connections(self, vol));
	cl_connection_list_free(&stale);
	ASSERT_EQ(0, cl_connection_reconcile(self->ctx, false, &stale,
					     &self->err));
	ASSERT_EQ(1, stale.count);
	EXPECT_STREQ(vol->id, stale.items[0]->volume_id);
	EXPECT_EQ(0, nr_connections(self, vol));
	ASSERT_EQ(0, cl_volume_refresh(self->ctx, vol, &self->err));
	EXPECT_EQ(CL_STATUS_AVAILABLE, vol->status);
	cl_connection_list_free(&stale);
	cl_connection_free(conn);
	cl_volume_free(vol);
}

TEST_HARNESS_MAIN
