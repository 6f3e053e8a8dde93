// SPDX-License-Identifier: GPL-2.0
/*
 * libcinderlib object operations and their errors, on the built-in stores
 * (memory and sqlite) and the plugin ones (jsonfile, postgresql on a
 * throwaway server) with the file driver.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"

FIXTURE(lib) {
	struct tenv t;
};

FIXTURE_VARIANT(lib) {
	const char *persistence;
};

FIXTURE_VARIANT_ADD(lib, memory) {
	.persistence = "memory",
};

FIXTURE_VARIANT_ADD(lib, sqlite) {
	.persistence = "sqlite",
};

/* The same operations through a store plugin loaded from a .so. */
FIXTURE_VARIANT_ADD(lib, jsonfile_plugin) {
	.persistence = "jsonfile",
};

/* A store shared by hosts: a throwaway server, a schema per test. */
FIXTURE_VARIANT_ADD(lib, postgresql_plugin) {
	.persistence = "postgresql",
};

static void __attribute__((constructor)) start_postgresql(void)
{
	pg_test_server_start();
}

FIXTURE_SETUP(lib)
{
	int ret = tenv_init(&self->t, variant->persistence);

	if (ret == -ENOENT && !strcmp(variant->persistence, "jsonfile"))
		SKIP(return, "jsonfile plugin not built");
	/* Not a skip: this harness would run the test body after one. */
	if (ret == -ENOENT && !strcmp(variant->persistence, "postgresql"))
		ASSERT_EQ(0, ret)
			TH_LOG("no PostgreSQL server or plugin (scripts/install-deps.sh installs postgresql)");
	ASSERT_EQ(0, ret) TH_LOG("%s", self->t.err.msg);
	ASSERT_EQ(0, tenv_open_backend(&self->t)) TH_LOG("%s", self->t.err.msg);
}

FIXTURE_TEARDOWN(lib)
{
	tenv_fini(&self->t);
}

static char *vol_path(struct tenv *t, const char *kind, const char *id)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s-%s", t->voldir, kind, id);
	return path;
}

static struct cl_volume *create(struct __test_metadata *_metadata,
				struct tenv *t, uint64_t size, const char *name)
{
	struct cl_volume_create_opts o = { .size = size, .name = name };
	struct cl_volume *v = NULL;

	EXPECT_EQ(0, cl_volume_create(t->be, &o, &v, &t->err))
		TH_LOG("%s", t->err.msg);
	return v;
}

static size_t nr_volumes(struct tenv *t)
{
	struct cl_volume_list l;
	size_t n;

	if (cl_volume_find(t->ctx, NULL, &l, &t->err))
		return (size_t)-1;
	n = l.count;
	cl_volume_list_free(&l);
	return n;
}

TEST_F(lib, create_get_lookup)
{
	struct cl_dict md = { 0 }, specs = { 0 }, qos = { 0 };
	struct cl_volume_create_opts o = {
		.size = 2, .name = "data", .description = "for tests",
		.bootable = true, .metadata = &md, .extra_specs = &specs,
		.qos_specs = &qos,
	};
	struct cl_volume *v, *g, *l;
	char prefix[9];

	cl_dict_set(&md, "owner", "alice");
	cl_dict_set(&specs, "thin", "true");
	cl_dict_set(&qos, "total_iops_sec", "500");
	ASSERT_EQ(0, cl_volume_create(self->t.be, &o, &v, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_EQ(CL_STATUS_AVAILABLE, v->status);
	EXPECT_EQ(2, v->size);
	EXPECT_STREQ("fb", v->backend_name);
	EXPECT_STREQ("testhost@fb", v->host);
	EXPECT_TRUE(v->bootable);
	EXPECT_STREQ("alice", cl_dict_get(&v->metadata, "owner"));
	EXPECT_STREQ("500", cl_dict_get(&v->qos_specs, "total_iops_sec"));
	ASSERT_NE(NULL, v->provider_location);
	EXPECT_STREQ(vol_path(&self->t, "volume", v->id), v->provider_location);
	EXPECT_EQ((off_t)(2 * GIB), file_size(v->provider_location));
	EXPECT_GE(v->updated_at, v->created_at);

	ASSERT_EQ(0, cl_volume_get(self->t.ctx, v->id, &g, &self->t.err));
	EXPECT_STREQ("for tests", g->description);
	EXPECT_STREQ("true", cl_dict_get(&g->extra_specs, "thin"));
	EXPECT_EQ(v->updated_at, g->updated_at);
	cl_volume_free(g);

	ASSERT_EQ(0, cl_volume_lookup(self->t.ctx, "data", &l, &self->t.err));
	EXPECT_STREQ(v->id, l->id);
	cl_volume_free(l);
	memcpy(prefix, v->id, 8);
	prefix[8] = '\0';
	ASSERT_EQ(0, cl_volume_lookup(self->t.ctx, prefix, &l, &self->t.err));
	EXPECT_STREQ(v->id, l->id);
	cl_volume_free(l);
	EXPECT_EQ(-ENOENT, cl_volume_lookup(self->t.ctx, "nothing", &l,
					    &self->t.err));
	EXPECT_EQ(-ENOENT, cl_volume_get(self->t.ctx,
					 "00000000-0000-0000-0000-000000000000",
					 &l, &self->t.err));
	cl_volume_free(v);
	cl_dict_clear(&md);
	cl_dict_clear(&specs);
	cl_dict_clear(&qos);
}

TEST_F(lib, ambiguous_name)
{
	struct cl_volume *a = create(_metadata, &self->t, 1, "twin");
	struct cl_volume *b = create(_metadata, &self->t, 1, "twin");
	struct cl_volume *l = NULL;

	EXPECT_EQ(-EEXIST, cl_volume_lookup(self->t.ctx, "twin", &l,
					    &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "ambiguous"));
	cl_volume_free(a);
	cl_volume_free(b);
}

TEST_F(lib, explicit_id)
{
	const char *id = "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0";
	struct cl_volume_create_opts o = { .size = 1, .id = id };
	struct cl_volume *v = NULL, *dup = NULL;

	ASSERT_EQ(0, cl_volume_create(self->t.be, &o, &v, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_STREQ("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", v->id);
	EXPECT_EQ(-EEXIST, cl_volume_create(self->t.be, &o, &dup,
					    &self->t.err));
	EXPECT_EQ(NULL, dup);
	o.id = "not-a-uuid";
	EXPECT_EQ(-EINVAL, cl_volume_create(self->t.be, &o, &dup,
					    &self->t.err));
	EXPECT_EQ(1, nr_volumes(&self->t));
	EXPECT_EQ(1, count_files(self->t.voldir, ""));
	cl_volume_free(v);
}

TEST_F(lib, bad_sizes)
{
	uint64_t sizes[] = { 0, CL_MAX_SIZE_GIB + 1, (uint64_t)-1,
			     (uint64_t)-1 / 2 };
	struct cl_volume_create_opts o = { 0 };
	struct cl_volume *v = NULL;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		o.size = sizes[i];
		EXPECT_EQ(-EINVAL, cl_volume_create(self->t.be, &o, &v,
						    &self->t.err));
		EXPECT_NE(NULL, strstr(self->t.err.msg, "size"));
		EXPECT_EQ(NULL, v);
	}
	EXPECT_EQ(0, nr_volumes(&self->t));
	EXPECT_EQ(0, count_files(self->t.voldir, ""));
}

TEST_F(lib, odd_names)
{
	const char *name = "../../etc/passwd ★ «ça» $(rm -rf /)";
	struct cl_volume_create_opts o = { .size = 1, .name = name };
	const char *bad[] = { "\xff\xfe", "a\nb", "\xc0\xaf", "\xed\xa0\x80" };
	struct cl_volume *v = NULL, *l = NULL;

	ASSERT_EQ(0, cl_volume_create(self->t.be, &o, &v, &self->t.err));
	EXPECT_STREQ(name, v->name);
	/* The file is named by id only. */
	EXPECT_EQ((off_t)GIB, file_size(vol_path(&self->t, "volume", v->id)));
	EXPECT_EQ(1, count_files(self->t.voldir, ""));
	ASSERT_EQ(0, cl_volume_lookup(self->t.ctx, name, &l, &self->t.err));
	EXPECT_STREQ(v->id, l->id);
	cl_volume_free(l);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cl_volume *x = NULL;

		o.name = bad[i];
		EXPECT_EQ(-EINVAL, cl_volume_create(self->t.be, &o, &x,
						    &self->t.err));
		EXPECT_NE(NULL, strstr(self->t.err.msg, "UTF-8"));
	}
	EXPECT_EQ(1, nr_volumes(&self->t));
	cl_volume_free(v);
}

TEST_F(lib, extend)
{
	struct cl_volume *v = create(_metadata, &self->t, 1, "grow");

	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, cl_volume_extend(self->t.ctx, v, 3, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_EQ(3, v->size);
	EXPECT_EQ(CL_STATUS_AVAILABLE, v->status);
	EXPECT_EQ((off_t)(3 * GIB), file_size(v->provider_location));
	EXPECT_EQ(-EINVAL, cl_volume_extend(self->t.ctx, v, 3, &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "only grow"));
	EXPECT_EQ(-EINVAL, cl_volume_extend(self->t.ctx, v, 2, &self->t.err));
	EXPECT_EQ(-EINVAL, cl_volume_extend(self->t.ctx, v, 0, &self->t.err));
	EXPECT_EQ(3, v->size);
	EXPECT_EQ(CL_STATUS_AVAILABLE, v->status);
	EXPECT_EQ((off_t)(3 * GIB), file_size(v->provider_location));
	cl_volume_free(v);
}

TEST_F(lib, snapshot_blocks_delete)
{
	struct cl_volume *v = create(_metadata, &self->t, 1, "base"), *g;
	struct cl_snapshot *s = NULL;
	struct cl_snapshot_list sl;
	struct stat st;

	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, cl_volume_create_snapshot(self->t.ctx, v, "s1", "first",
					       &s, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_EQ(CL_STATUS_AVAILABLE, s->status);
	EXPECT_STREQ(v->id, s->volume_id);
	EXPECT_EQ(1, s->volume_size);
	ASSERT_EQ(0, stat(vol_path(&self->t, "snapshot", s->id), &st));
	EXPECT_EQ(0444, st.st_mode & 0777);

	ASSERT_EQ(0, cl_volume_snapshots(self->t.ctx, v, &sl, &self->t.err));
	EXPECT_EQ(1, sl.count);
	cl_snapshot_list_free(&sl);

	EXPECT_EQ(-EBUSY, cl_volume_delete(self->t.ctx, v, &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "snapshot"));
	EXPECT_EQ(CL_STATUS_AVAILABLE, v->status);
	EXPECT_EQ((off_t)GIB, file_size(v->provider_location));

	ASSERT_EQ(0, cl_snapshot_delete(self->t.ctx, s, &self->t.err));
	EXPECT_EQ(CL_STATUS_DELETED, s->status);
	EXPECT_EQ(-1, file_size(vol_path(&self->t, "snapshot", s->id)));
	EXPECT_EQ(0, cl_snapshot_delete(self->t.ctx, s, &self->t.err));

	ASSERT_EQ(0, cl_volume_delete(self->t.ctx, v, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_EQ(CL_STATUS_DELETED, v->status);
	EXPECT_EQ(0, count_files(self->t.voldir, ""));
	EXPECT_EQ(-ENOENT, cl_volume_get(self->t.ctx, v->id, &g, &self->t.err));
	/* Deleting what is gone already is fine. */
	EXPECT_EQ(0, cl_volume_delete(self->t.ctx, v, &self->t.err));
	EXPECT_EQ(0, nr_volumes(&self->t));
	/* No lock file outlives its volume. */
	EXPECT_EQ(0, count_files(self->t.dir, "cinderlib-volume-"));
	cl_snapshot_free(s);
	cl_volume_free(v);
}

TEST_F(lib, clone_and_restore)
{
	struct cl_volume *v = create(_metadata, &self->t, 1, "src");
	struct cl_volume_create_opts o = { 0 };
	struct cl_volume *c = NULL, *r = NULL, *bad = NULL;
	struct cl_snapshot *s = NULL;

	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, cl_volume_clone(self->t.ctx, v, NULL, &c, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_EQ(1, c->size);
	EXPECT_STREQ(v->id, c->source_volid);
	EXPECT_EQ(CL_STATUS_AVAILABLE, c->status);
	cl_volume_free(c);
	o.size = 4;
	o.name = "bigger clone";
	ASSERT_EQ(0, cl_volume_clone(self->t.ctx, v, &o, &c, &self->t.err));
	EXPECT_EQ(4, c->size);
	EXPECT_EQ((off_t)(4 * GIB), file_size(c->provider_location));

	ASSERT_EQ(0, cl_volume_create_snapshot(self->t.ctx, c, NULL, NULL, &s,
					       &self->t.err));
	EXPECT_EQ(4, s->volume_size);
	o.size = 2;
	EXPECT_EQ(-EINVAL, cl_snapshot_create_volume(self->t.ctx, s, &o, &bad,
						     &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "smaller"));
	EXPECT_EQ(NULL, bad);
	ASSERT_EQ(0, cl_snapshot_create_volume(self->t.ctx, s, NULL, &r,
					       &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_STREQ(s->id, r->snapshot_id);
	EXPECT_EQ(4, r->size);
	EXPECT_EQ(4, nr_volumes(&self->t));	/* v, two clones, restored */
	cl_snapshot_free(s);
	cl_volume_free(r);
	cl_volume_free(c);
	cl_volume_free(v);
}

TEST_F(lib, connect_disconnect)
{
	struct cl_volume *v = create(_metadata, &self->t, 1, "attach-me");
	struct cl_connection *c = NULL, *c2 = NULL, *g;
	struct cl_connection_list cl;
	struct cl_dict conn = { 0 };

	ASSERT_NE(NULL, v);
	EXPECT_EQ(-EINVAL, cl_volume_connect(self->t.ctx, v, &conn,
					     CL_ATTACH_RW, &c, &self->t.err));
	cl_dict_set(&conn, "host", "node1");
	cl_dict_set(&conn, "ip", "192.0.2.1");
	ASSERT_EQ(0, cl_volume_connect(self->t.ctx, v, &conn, CL_ATTACH_RW, &c,
				       &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_EQ(CL_STATUS_IN_USE, v->status);
	EXPECT_EQ(CL_ATTACH_ATTACHED, c->status);
	EXPECT_STREQ("file", c->driver_volume_type);
	EXPECT_STREQ(v->provider_location,
		     cl_dict_get(&c->connection_data, "path"));
	EXPECT_STREQ("rw", cl_dict_get(&c->connection_data, "access_mode"));
	EXPECT_STREQ("node1", c->attached_host);
	ASSERT_EQ(0, cl_volume_connect(self->t.ctx, v, &conn, CL_ATTACH_RO,
				       &c2, &self->t.err));
	EXPECT_EQ(CL_ATTACH_RO, c2->attach_mode);

	ASSERT_EQ(0, cl_volume_connections(self->t.ctx, v, &cl, &self->t.err));
	EXPECT_EQ(2, cl.count);
	cl_connection_list_free(&cl);
	EXPECT_EQ(-EBUSY, cl_volume_delete(self->t.ctx, v, &self->t.err));
	EXPECT_EQ(CL_STATUS_IN_USE, v->status);

	ASSERT_EQ(0, cl_connection_set_device(self->t.ctx, c, "/dev/cbd0",
					      &self->t.err));
	ASSERT_EQ(0, cl_connection_get(self->t.ctx, c->id, &g, &self->t.err));
	EXPECT_STREQ("/dev/cbd0", g->device_path);
	EXPECT_STREQ("192.0.2.1", cl_dict_get(&g->connector, "ip"));
	cl_connection_free(g);

	ASSERT_EQ(0, cl_connection_disconnect(self->t.ctx, c, &self->t.err));
	EXPECT_EQ(CL_ATTACH_DETACHED, c->status);
	ASSERT_EQ(0, cl_volume_refresh(self->t.ctx, v, &self->t.err));
	EXPECT_EQ(CL_STATUS_IN_USE, v->status);	/* c2 remains */
	ASSERT_EQ(0, cl_connection_disconnect(self->t.ctx, c2, &self->t.err));
	ASSERT_EQ(0, cl_volume_refresh(self->t.ctx, v, &self->t.err));
	EXPECT_EQ(CL_STATUS_AVAILABLE, v->status);
	EXPECT_EQ(0, cl_connection_disconnect(self->t.ctx, c2, &self->t.err));
	EXPECT_EQ(0, cl_volume_delete(self->t.ctx, v, &self->t.err));
	cl_connection_free(c);
	cl_connection_free(c2);
	cl_volume_free(v);
	cl_dict_clear(&conn);
}

TEST_F(lib, metadata_and_save)
{
	struct cl_volume *v = create(_metadata, &self->t, 1, "md"), *g;

	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, cl_volume_set_metadata(self->t.ctx, v, "k1", "v1",
					    &self->t.err));
	ASSERT_EQ(0, cl_volume_set_metadata(self->t.ctx, v, "k2", "v2",
					    &self->t.err));
	ASSERT_EQ(0, cl_volume_set_metadata(self->t.ctx, v, "k1", NULL,
					    &self->t.err));
	EXPECT_EQ(NULL, cl_dict_get(&v->metadata, "k1"));
	EXPECT_EQ(-EINVAL, cl_volume_set_metadata(self->t.ctx, v, "", "x",
						  &self->t.err));
	free(v->name);
	v->name = strdup("renamed");
	v->bootable = true;
	ASSERT_EQ(0, cl_volume_save(self->t.ctx, v, &self->t.err));
	ASSERT_EQ(0, cl_volume_get(self->t.ctx, v->id, &g, &self->t.err));
	EXPECT_STREQ("renamed", g->name);
	EXPECT_TRUE(g->bootable);
	EXPECT_STREQ("v2", cl_dict_get(&g->metadata, "k2"));
	EXPECT_EQ(1, g->metadata.count);
	EXPECT_EQ(CL_STATUS_AVAILABLE, g->status);
	cl_volume_free(g);
	cl_volume_free(v);
}

TEST_F(lib, key_values)
{
	struct cl_dict all = { 0 };
	char *val = NULL;

	EXPECT_EQ(-ENOENT, cl_kv_get(self->t.ctx, "node/a", &val,
				     &self->t.err));
	ASSERT_EQ(0, cl_kv_set(self->t.ctx, "node/a", "{\"ip\":\"1\"}",
			       &self->t.err));
	ASSERT_EQ(0, cl_kv_set(self->t.ctx, "node/b", "2", &self->t.err));
	ASSERT_EQ(0, cl_kv_set(self->t.ctx, "other", "3", &self->t.err));
	ASSERT_EQ(0, cl_kv_set(self->t.ctx, "node/b", "22", &self->t.err));
	ASSERT_EQ(0, cl_kv_get(self->t.ctx, "node/b", &val, &self->t.err));
	EXPECT_STREQ("22", val);
	free(val);
	ASSERT_EQ(0, cl_kv_list(self->t.ctx, "node/", &all, &self->t.err));
	EXPECT_EQ(2, all.count);
	cl_dict_clear(&all);
	ASSERT_EQ(0, cl_kv_delete(self->t.ctx, "node/a", &self->t.err));
	EXPECT_EQ(0, cl_kv_delete(self->t.ctx, "node/a", &self->t.err));
	EXPECT_EQ(-ENOENT, cl_kv_get(self->t.ctx, "node/a", &val,
				     &self->t.err));
	EXPECT_EQ(-EINVAL, cl_kv_set(self->t.ctx, "", "x", &self->t.err));
}

TEST_F(lib, backend_errors)
{
	struct cl_dict o = { 0 };
	struct cl_backend *be = NULL;

	EXPECT_EQ(-ENOENT, cl_backend_get(self->t.ctx, "fbb", &be,
					  &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "did you mean 'fb'"))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_EQ(-EEXIST, cl_backend_open(self->t.ctx, "fb", &o, &be,
					   &self->t.err));

	cl_dict_set(&o, "volume_driver", "fiel");
	EXPECT_EQ(-ENOENT, cl_backend_open(self->t.ctx, "b2", &o, &be,
					   &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "did you mean 'file'"))
		TH_LOG("%s", self->t.err.msg);
	cl_dict_set(&o, "volume_driver", "../../etc/evil");
	EXPECT_EQ(-ENOENT, cl_backend_open(self->t.ctx, "b2", &o, &be,
					   &self->t.err));
	/* Cinder's class name reaches our lvm driver, which wants its VG. */
	cl_dict_set(&o, "volume_driver",
		    "cinder.volume.drivers.lvm.LVMVolumeDriver");
	EXPECT_EQ(-EINVAL, cl_backend_open(self->t.ctx, "b2", &o, &be,
					   &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "driver lvm needs option volume_group"))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_STREQ("lvm", cl_driver_name_from_cinder(
			     "cinder.volume.drivers.lvm.LVMVolumeDriver"));

	cl_dict_set(&o, "volume_driver", "file");
	EXPECT_EQ(-EINVAL, cl_backend_open(self->t.ctx, "b2", &o, &be,
					   &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "file_volume_dir"));
	cl_dict_set(&o, "file_volume_dri", self->t.voldir);
	EXPECT_EQ(-EINVAL, cl_backend_open(self->t.ctx, "b2", &o, &be,
					   &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg,
			       "unknown option 'file_volume_dri'"));
	EXPECT_NE(NULL, strstr(self->t.err.msg,
			       "did you mean 'file_volume_dir'"))
		TH_LOG("%s", self->t.err.msg);
	cl_dict_set(&o, "file_volume_dri", NULL);
	cl_dict_set(&o, "file_volume_dir", "/nonexistent/cl-test-dir");
	EXPECT_EQ(-ENOENT, cl_backend_open(self->t.ctx, "b2", &o, &be,
					   &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "/nonexistent/cl-test-dir"));
	cl_dict_set(&o, "file_volume_dir", self->t.voldir);
	cl_dict_set(&o, "file_use_reflink", "maybe");
	EXPECT_EQ(-EINVAL, cl_backend_open(self->t.ctx, "b2", &o, &be,
					   &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "boolean"));
	cl_dict_set(&o, "file_use_reflink", "false");
	cl_dict_set(&o, "volume_backend_name", "other");
	EXPECT_EQ(-EINVAL, cl_backend_open(self->t.ctx, "b2", &o, &be,
					   &self->t.err));
	cl_dict_set(&o, "volume_backend_name", "b2");
	ASSERT_EQ(0, cl_backend_open(self->t.ctx, "b2", &o, &be, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_STREQ("file", cl_backend_driver_name(be));
	cl_backend_close(be);
	cl_dict_clear(&o);
}

TEST_F(lib, stats)
{
	struct cl_volume *a = create(_metadata, &self->t, 2, NULL);
	struct cl_volume *b = create(_metadata, &self->t, 3, NULL);
	struct cl_backend_stats st;
	struct cl_volume_list l;

	ASSERT_EQ(0, cl_backend_stats(self->t.be, true, &st, &self->t.err));
	EXPECT_STREQ("fb", st.volume_backend_name);
	EXPECT_STREQ("file", st.driver_name);
	ASSERT_EQ(1, st.nr_pools);
	EXPECT_GT(st.pools[0].total_capacity_gb, 0.0);
	EXPECT_GE(st.pools[0].total_capacity_gb, st.pools[0].free_capacity_gb);
	EXPECT_EQ(5.0, st.pools[0].provisioned_capacity_gb);
	EXPECT_EQ(2, st.pools[0].total_volumes);
	EXPECT_TRUE(st.pools[0].thin_provisioning_support);
	cl_backend_stats_free(&st);
	ASSERT_EQ(0, cl_backend_volumes(self->t.be, &l, &self->t.err));
	EXPECT_EQ(2, l.count);
	cl_volume_list_free(&l);
	cl_volume_free(a);
	cl_volume_free(b);
}

/* A driver failure: the volume is saved in error, no file is left. */
TEST_F(lib, create_fails_file_too_large)
{
	struct cl_volume_create_opts o = { .size = 2, .name = "too big" };
	struct rlimit rl = { .rlim_cur = GIB, .rlim_max = RLIM_INFINITY };
	struct cl_volume_list l;
	struct cl_volume *v = NULL;

	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
	EXPECT_EQ(-EFBIG, cl_volume_create(self->t.be, &o, &v, &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "is now error"))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_EQ(NULL, v);
	EXPECT_EQ(0, count_files(self->t.voldir, ""));
	ASSERT_EQ(0, cl_volume_find(self->t.ctx, NULL, &l, &self->t.err));
	ASSERT_EQ(1, l.count);
	EXPECT_EQ(CL_STATUS_ERROR, l.items[0]->status);
	EXPECT_STREQ("too big", l.items[0]->name);
	/* A volume in error can be deleted. */
	EXPECT_EQ(0, cl_volume_delete(self->t.ctx, l.items[0], &self->t.err));
	cl_volume_list_free(&l);
	EXPECT_EQ(0, nr_volumes(&self->t));
}

TEST_F(lib, extend_fails_file_too_large)
{
	struct rlimit rl = { .rlim_cur = 2 * GIB, .rlim_max = RLIM_INFINITY };
	struct cl_volume *v = create(_metadata, &self->t, 1, NULL), *g;

	ASSERT_NE(NULL, v);
	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
	EXPECT_EQ(-EFBIG, cl_volume_extend(self->t.ctx, v, 5, &self->t.err));
	EXPECT_EQ(CL_STATUS_ERROR, v->status);
	EXPECT_EQ(1, v->size);
	ASSERT_EQ(0, cl_volume_get(self->t.ctx, v->id, &g, &self->t.err));
	EXPECT_EQ(CL_STATUS_ERROR, g->status);
	cl_volume_free(g);
	/* error is not a source for snapshots */
	struct cl_snapshot *s = NULL;

	EXPECT_EQ(-EBUSY, cl_volume_create_snapshot(self->t.ctx, v, NULL, NULL,
						    &s, &self->t.err));
	cl_volume_free(v);
}

TEST_F(lib, backend_dir_removed)
{
	struct cl_volume_create_opts o = { .size = 1 };
	struct cl_volume *v = create(_metadata, &self->t, 1, "before"), *x;
	struct cl_volume_list l;
	struct cl_snapshot *s = NULL;

	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, rm_rf(self->t.voldir));
	EXPECT_EQ(-ENOENT, cl_volume_create(self->t.be, &o, &x, &self->t.err));
	EXPECT_EQ(-ENOENT, cl_volume_create_snapshot(self->t.ctx, v, NULL,
						     NULL, &s, &self->t.err));
	ASSERT_EQ(0, cl_volume_find(self->t.ctx, NULL, &l, &self->t.err));
	ASSERT_EQ(2, l.count);
	for (size_t i = 0; i < l.count; i++) {
		enum cl_status want = strcmp(l.items[i]->id, v->id) == 0 ?
				      CL_STATUS_AVAILABLE : CL_STATUS_ERROR;

		EXPECT_EQ(want, l.items[i]->status);
	}
	cl_volume_list_free(&l);
	cl_volume_free(v);
}

/* The driver cannot delete: the volume is saved as error_deleting. */
TEST_F(lib, delete_fails_immutable_file)
{
	struct cl_volume *v = create(_metadata, &self->t, 1, NULL), *g;
	int fd, flags = 0;

	ASSERT_NE(NULL, v);
	fd = open(v->provider_location, O_RDONLY);
	ASSERT_GE(fd, 0);
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 ||
	    (flags |= FS_IMMUTABLE_FL, ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)) {
		close(fd);
		cl_volume_free(v);
		SKIP(return, "cannot set the immutable flag here");
	}
	EXPECT_EQ(-EPERM, cl_volume_delete(self->t.ctx, v, &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "error_deleting"));
	EXPECT_EQ(CL_STATUS_ERROR_DELETING, v->status);
	ASSERT_EQ(0, cl_volume_get(self->t.ctx, v->id, &g, &self->t.err));
	EXPECT_EQ(CL_STATUS_ERROR_DELETING, g->status);
	cl_volume_free(g);
	flags &= ~FS_IMMUTABLE_FL;
	ioctl(fd, FS_IOC_SETFLAGS, &flags);
	close(fd);
	/* Deleting again once the cause is gone works. */
	EXPECT_EQ(0, cl_volume_delete(self->t.ctx, v, &self->t.err));
	EXPECT_EQ(0, count_files(self->t.voldir, ""));
	cl_volume_free(v);
}

/* Another context (as another process would) sees the same state. */
TEST_F(lib, second_context)
{
	struct cl_volume *v = create(_metadata, &self->t, 1, "shared"), *g;
	struct cl_context *ctx2;

	if (strcmp(variant->persistence, "memory") == 0)
		SKIP(cl_volume_free(v); return,
		     "a memory store is private to its context");
	ASSERT_EQ(0, tenv_new_context(&self->t, false, &ctx2));
	ASSERT_EQ(0, cl_volume_lookup(ctx2, "shared", &g, &self->t.err));
	/* Lazily opens the defined backend "fb" in ctx2. */
	ASSERT_EQ(0, cl_volume_extend(ctx2, g, 2, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	ASSERT_EQ(0, cl_volume_refresh(self->t.ctx, v, &self->t.err));
	EXPECT_EQ(2, v->size);
	cl_volume_free(g);
	cl_context_free(ctx2);
	cl_volume_free(v);
}

TEST_F(lib, supported_drivers)
{
	struct cl_driver_info_list l;
	const struct cl_driver_info *file = NULL;
	bool has_dir = false;

	ASSERT_EQ(0, cl_list_supported_drivers(self->t.ctx, &l, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	for (size_t i = 0; i < l.count; i++)
		if (strcmp(l.items[i].name, "file") == 0)
			file = &l.items[i];
	ASSERT_NE(NULL, file);
	for (size_t i = 0; i < file->nr_options; i++) {
		if (strcmp(file->options[i].name, "file_volume_dir") == 0) {
			has_dir = true;
			EXPECT_EQ(CL_OPT_PATH, file->options[i].type);
			EXPECT_NE(NULL, file->options[i].help);
		}
	}
	EXPECT_TRUE(has_dir);
	cl_driver_info_list_free(&l);
}

struct log_capture {
	int count[CL_LOG_DEBUG + 1];
	char last[256];
};

static void capture(enum cl_log_level level, const char *msg, void *data)
{
	struct log_capture *c = data;

	c->count[level]++;
	snprintf(c->last, sizeof(c->last), "%s", msg);
}

/* The library logs only through the callback, filtered by level. */
TEST(log_callback)
{
	struct log_capture cap = { 0 };
	struct cl_setup_options o = { .log_level = CL_LOG_INFO,
				      .log_fn = capture, .log_data = &cap };
	struct cl_volume_create_opts vo = { .size = 1 };
	struct tenv t;
	struct cl_volume *v;

	ASSERT_EQ(0, tenv_init(&t, "memory"));
	cl_context_free(t.ctx);
	o.lock_path = t.dir;
	ASSERT_EQ(0, cl_setup(&o, &t.ctx, &t.err));
	ASSERT_EQ(0, tenv_open_backend(&t));
	EXPECT_EQ(1, cap.count[CL_LOG_INFO]);
	EXPECT_NE(NULL, strstr(cap.last, "backend fb opened"));
	ASSERT_EQ(0, cl_volume_create(t.be, &vo, &v, &t.err));
	EXPECT_EQ(2, cap.count[CL_LOG_INFO]);
	EXPECT_NE(NULL, strstr(cap.last, v->id));
	EXPECT_EQ(0, cap.count[CL_LOG_DEBUG]);	/* below the level */
	cl_volume_free(v);
	tenv_fini(&t);
}

TEST_HARNESS_MAIN
