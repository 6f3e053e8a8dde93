// SPDX-License-Identifier: GPL-2.0
/*
 * The file driver's data path: snapshots, clones and restored volumes hold
 * exactly the source's bytes at the time (patterns written, compared),
 * stay sparse, and extend keeps data. Run with reflink on and off (ext4
 * and tmpfs have no reflink: both then take the sparse-copy path).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define CHUNK (256 * 1024)

FIXTURE(data) {
	struct tenv t;
	struct cl_volume *vol;
};

FIXTURE_VARIANT(data) {
	const char *reflink;
};

FIXTURE_VARIANT_ADD(data, reflink_auto) {
	.reflink = "true",
};

FIXTURE_VARIANT_ADD(data, copy_only) {
	.reflink = "false",
};

/* Offsets of the patterns in a 1 GiB volume: start, middle, last chunk. */
static const off_t offs[] = { 0, 512ULL << 20, (1ULL << 30) - CHUNK };

FIXTURE_SETUP(data)
{
	struct cl_volume_create_opts o = { .size = 1, .name = "data" };
	struct cl_dict opts = { 0 };

	ASSERT_EQ(0, tenv_init(&self->t, "sqlite"));
	ASSERT_EQ(0, mkdir(self->t.voldir, 0700));
	cl_dict_set(&opts, "volume_driver", "file");
	cl_dict_set(&opts, "file_volume_dir", self->t.voldir);
	cl_dict_set(&opts, "file_use_reflink", variant->reflink);
	ASSERT_EQ(0, cl_backend_open(self->t.ctx, "fb", &opts, &self->t.be,
				     &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	cl_dict_clear(&opts);
	ASSERT_EQ(0, cl_volume_create(self->t.be, &o, &self->vol,
				      &self->t.err));
	for (size_t i = 0; i < 3; i++)
		ASSERT_EQ(0, write_pattern(self->vol->provider_location,
					   offs[i], CHUNK, 1));
}

FIXTURE_TEARDOWN(data)
{
	cl_volume_free(self->vol);
	tenv_fini(&self->t);
}

static void expect_pattern(struct __test_metadata *_metadata,
			   const char *path, unsigned seed)
{
	for (size_t k = 0; k < 3; k++) {
		off_t at = offs[k];

		EXPECT_EQ(0, check_pattern(path, at, CHUNK, seed))
			TH_LOG("%s at %lld", path, (long long)at);
	}
}

static void expect_zero(struct __test_metadata *_metadata, const char *path,
			off_t off, size_t len)
{
	char *buf = malloc(len), *zero = calloc(1, len);
	FILE *f = fopen(path, "rb");

	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, fseeko(f, off, SEEK_SET));
	ASSERT_EQ(len, fread(buf, 1, len, f));
	EXPECT_EQ(0, memcmp(buf, zero, len));
	fclose(f);
	free(buf);
	free(zero);
}

static long long allocated_kib(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (long long)st.st_blocks / 2;
}

TEST_F(data, snapshot_restore_exact)
{
	struct cl_snapshot *s = NULL;
	struct cl_volume *r = NULL;
	char snap_path[PATH_MAX + 64];

	ASSERT_EQ(0, cl_volume_create_snapshot(self->t.ctx, self->vol, NULL,
					       NULL, &s, &self->t.err));
	snprintf(snap_path, sizeof(snap_path), "%s/snapshot-%s",
		 self->t.voldir, s->id);
	EXPECT_STREQ(snap_path, s->provider_location);
	EXPECT_EQ(1, files_equal(snap_path, self->vol->provider_location));
	/* Overwrite the volume: the snapshot keeps the old bytes. */
	for (size_t i = 0; i < 3; i++)
		ASSERT_EQ(0, write_pattern(self->vol->provider_location,
					   offs[i], CHUNK, 2));
	expect_pattern(_metadata, snap_path, 1);
	expect_pattern(_metadata, self->vol->provider_location, 2);

	ASSERT_EQ(0, cl_snapshot_create_volume(self->t.ctx, s, NULL, &r,
					       &self->t.err));
	EXPECT_EQ(1, files_equal(snap_path, r->provider_location));
	expect_pattern(_metadata, r->provider_location, 1);
	expect_zero(_metadata, r->provider_location, CHUNK, CHUNK);
	/* Sparse: three chunks of data, not a gigabyte. */
	EXPECT_LT(allocated_kib(r->provider_location), 16 * 1024);
	EXPECT_LT(allocated_kib(snap_path), 16 * 1024);
	cl_volume_free(r);

	/* Restore into a larger volume: data, then zeros to the end. */
	struct cl_volume_create_opts o = { .size = 2 };

	ASSERT_EQ(0, cl_snapshot_create_volume(self->t.ctx, s, &o, &r,
					       &self->t.err));
	EXPECT_EQ((off_t)(2 * GIB), file_size(r->provider_location));
	expect_pattern(_metadata, r->provider_location, 1);
	expect_zero(_metadata, r->provider_location, GIB, CHUNK);
	cl_volume_free(r);
	cl_snapshot_free(s);
}

TEST_F(data, clone_exact)
{
	struct cl_volume_create_opts o = { .size = 3 };
	struct cl_volume *c = NULL, *big = NULL;
	struct stat st;

	ASSERT_EQ(0, cl_volume_clone(self->t.ctx, self->vol, NULL, &c,
				     &self->t.err));
	EXPECT_EQ(1, files_equal(c->provider_location,
				 self->vol->provider_location));
	ASSERT_EQ(0, stat(c->provider_location, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	/* Independent copies. */
	ASSERT_EQ(0, write_pattern(c->provider_location, 0, CHUNK, 3));
	EXPECT_EQ(0, check_pattern(self->vol->provider_location, 0, CHUNK, 1));
	EXPECT_LT(allocated_kib(c->provider_location), 16 * 1024);

	ASSERT_EQ(0, cl_volume_clone(self->t.ctx, self->vol, &o, &big,
				     &self->t.err));
	EXPECT_EQ((off_t)(3 * GIB), file_size(big->provider_location));
	expect_pattern(_metadata, big->provider_location, 1);
	expect_zero(_metadata, big->provider_location, 2 * GIB, CHUNK);
	cl_volume_free(c);
	cl_volume_free(big);
}

TEST_F(data, extend_keeps_data)
{
	ASSERT_EQ(0, cl_volume_extend(self->t.ctx, self->vol, 2,
				      &self->t.err));
	EXPECT_EQ((off_t)(2 * GIB), file_size(self->vol->provider_location));
	expect_pattern(_metadata, self->vol->provider_location, 1);
	expect_zero(_metadata, self->vol->provider_location, GIB + CHUNK,
		    CHUNK);
}

TEST_F(data, connection_points_at_data)
{
	struct cl_dict conn = { 0 };
	struct cl_connection *c = NULL;

	cl_dict_set(&conn, "host", "localhost");
	ASSERT_EQ(0, cl_volume_connect(self->t.ctx, self->vol, &conn,
				       CL_ATTACH_RW, &c, &self->t.err));
	expect_pattern(_metadata, cl_dict_get(&c->connection_data, "path"), 1);
	EXPECT_STREQ("raw", cl_dict_get(&c->connection_data, "format"));
	ASSERT_EQ(0, cl_connection_disconnect(self->t.ctx, c, &self->t.err));
	cl_connection_free(c);
	cl_dict_clear(&conn);
}

TEST_F(data, deletes_leave_nothing)
{
	struct cl_snapshot *s = NULL;
	struct cl_volume *c = NULL;

	ASSERT_EQ(0, cl_volume_create_snapshot(self->t.ctx, self->vol, NULL,
					       NULL, &s, &self->t.err));
	ASSERT_EQ(0, cl_snapshot_create_volume(self->t.ctx, s, NULL, &c,
					       &self->t.err));
	EXPECT_EQ(3, count_files(self->t.voldir, ""));
	EXPECT_EQ(0, cl_volume_delete(self->t.ctx, c, &self->t.err));
	EXPECT_EQ(0, cl_snapshot_delete(self->t.ctx, s, &self->t.err));
	EXPECT_EQ(0, cl_volume_delete(self->t.ctx, self->vol, &self->t.err));
	EXPECT_EQ(0, count_files(self->t.voldir, ""));
	cl_volume_free(c);
	cl_snapshot_free(s);
}

/* The copy runs out of room half-way: clone in error, no file left. */
TEST_F(data, failed_copy_leaves_nothing)
{
	struct rlimit rl = { .rlim_cur = 256ULL << 20,
			     .rlim_max = RLIM_INFINITY };
	struct cl_volume *c = NULL;
	struct cl_volume_list l;

	int ret;

	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
	ret = cl_volume_clone(self->t.ctx, self->vol, NULL, &c, &self->t.err);
	if (ret == 0 && !strcmp(variant->reflink, "true")) {
		cl_volume_free(c);
		SKIP(return, "the filesystem has reflinks: nothing was copied");
	}
	EXPECT_EQ(-EFBIG, ret);
	EXPECT_NE(NULL, strstr(self->t.err.msg, "is now error"))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_EQ(NULL, c);
	EXPECT_EQ(1, count_files(self->t.voldir, ""));
	ASSERT_EQ(0, cl_volume_find(self->t.ctx, NULL, &l, &self->t.err));
	ASSERT_EQ(2, l.count);
	for (size_t i = 0; i < l.count; i++) {
		enum cl_status want = strcmp(l.items[i]->id, self->vol->id) ?
				      CL_STATUS_ERROR : CL_STATUS_AVAILABLE;

		EXPECT_EQ(want, l.items[i]->status);
	}
	cl_volume_list_free(&l);
}

/* Booleans read in any case, as the option check accepts them. */
TEST(booleans_in_any_case)
{
	static const struct {
		const char *value;
		bool creates;
	} cases[] = {
		{ "True", true }, { "YES", true }, { "On", true },
		{ "False", false }, { "NO", false }, { "off", false },
	};
	struct tenv t;
	struct stat st;

	ASSERT_EQ(0, tenv_init(&t, "memory"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cl_dict opts = { 0 };
		struct cl_backend *be = NULL;
		char dir[PATH_MAX + 16];
		char name[16];
		int ret;

		snprintf(dir, sizeof(dir), "%s/%zu", t.voldir, i);
		snprintf(name, sizeof(name), "b%zu", i);
		cl_dict_set(&opts, "volume_driver", "file");
		cl_dict_set(&opts, "file_volume_dir", dir);
		cl_dict_set(&opts, "file_volume_dir_create", cases[i].value);
		ret = cl_backend_open(t.ctx, name, &opts, &be, &t.err);
		cl_dict_clear(&opts);
		if (cases[i].creates) {
			EXPECT_EQ(0, ret) TH_LOG("%s: %s", cases[i].value, t.err.msg);
			EXPECT_EQ(0, stat(dir, &st)) TH_LOG("%s made no directory",
							    cases[i].value);
		} else {
			EXPECT_GT(0, ret) TH_LOG("%s made the directory",
						 cases[i].value);
			EXPECT_NE(0, stat(dir, &st));
		}
		cl_error_clear(&t.err);
	}
	tenv_fini(&t);
}

TEST_HARNESS_MAIN
