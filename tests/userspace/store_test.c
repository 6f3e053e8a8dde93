// SPDX-License-Identifier: GPL-2.0
/*
 * Persistence and serialization: JSON round trips, moving a whole state
 * memory -> sqlite -> memory and sqlite -> postgresql -> sqlite,
 * strict/lenient backends, missing and corrupt store files (refused, never
 * written), a process killed mid-operation, a PostgreSQL server that
 * restarts or goes away under a context.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define SOME_ID "3f2504e0-4f89-11d3-9a0c-0305e82c3301"

static const char volume_json[] =
	"{\"class\":\"Volume\",\"id\":\"" SOME_ID "\",\"name\":\"n \\u2603\","
	"\"description\":null,\"size\":7,\"status\":\"in-use\","
	"\"bootable\":true,\"metadata\":{\"a\":\"1\",\"b\":\"x y\"},"
	"\"admin_metadata\":{\"readonly\":\"false\"},"
	"\"extra_specs\":{\"thin\":\"true\"},\"qos_specs\":{},"
	"\"provider_location\":\"/srv/v\",\"provider_id\":\"p-1\","
	"\"source_volid\":null,\"snapshot_id\":null,\"backend\":\"fb\","
	"\"host\":\"h@fb\",\"created_at\":\"2024-02-29T23:59:58.000001Z\","
	"\"updated_at\":\"2024-03-01T00:00:00.999999Z\"}";

TEST(volume_json_round_trip)
{
	struct cl_volume *v = NULL, *w = NULL;
	struct cl_error err;
	char *a = NULL, *b = NULL;

	ASSERT_EQ(0, cl_volume_from_json(volume_json, &v, &err))
		TH_LOG("%s", err.msg);
	EXPECT_STREQ(SOME_ID, v->id);
	EXPECT_STREQ("n \xe2\x98\x83", v->name);
	EXPECT_EQ(NULL, v->description);
	EXPECT_EQ(7, v->size);
	EXPECT_EQ(CL_STATUS_IN_USE, v->status);
	EXPECT_TRUE(v->bootable);
	EXPECT_STREQ("x y", cl_dict_get(&v->metadata, "b"));
	EXPECT_STREQ("p-1", v->provider_id);
	EXPECT_EQ(1709251200999999LL, v->updated_at);
	ASSERT_EQ(0, cl_volume_to_json(v, false, &a, &err));
	ASSERT_EQ(0, cl_volume_from_json(a, &w, &err));
	ASSERT_EQ(0, cl_volume_to_json(w, true, &b, &err));
	free(b);
	ASSERT_EQ(0, cl_volume_to_json(w, false, &b, &err));
	EXPECT_STREQ(a, b);
	EXPECT_EQ(v->created_at, w->created_at);
	EXPECT_TRUE(cl_dict_equal(&v->admin_metadata, &w->admin_metadata));
	free(a);
	free(b);
	cl_volume_free(v);
	cl_volume_free(w);
}

TEST(snapshot_and_connection_round_trip)
{
	struct cl_snapshot s = { .id = SOME_ID, .volume_id = SOME_ID,
				 .volume_size = 3,
				 .status = CL_STATUS_ERROR_DELETING,
				 .created_at = 1, .updated_at = 2 };
	struct cl_connection c = { .id = SOME_ID, .volume_id = SOME_ID,
				   .status = CL_ATTACH_ATTACHED,
				   .attach_mode = CL_ATTACH_RO,
				   .created_at = -1000001, .updated_at = 0 };
	struct cl_snapshot *s2;
	struct cl_connection *c2;
	struct cl_error err;
	char *a, *b;

	s.name = "snap";
	s.backend_name = "fb";
	s.provider_location = "loc";
	c.backend_name = "fb";
	c.driver_volume_type = "file";
	c.device_path = "/dev/cbd3";
	cl_dict_set(&c.connector, "host", "n1");
	cl_dict_set(&c.connection_data, "path", "/x");
	ASSERT_EQ(0, cl_snapshot_to_json(&s, false, &a, &err));
	ASSERT_EQ(0, cl_snapshot_from_json(a, &s2, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, cl_snapshot_to_json(s2, false, &b, &err));
	EXPECT_STREQ(a, b);
	EXPECT_EQ(CL_STATUS_ERROR_DELETING, s2->status);
	EXPECT_STREQ("loc", s2->provider_location);
	free(a);
	free(b);
	cl_snapshot_free(s2);

	ASSERT_EQ(0, cl_connection_to_json(&c, false, &a, &err));
	ASSERT_EQ(0, cl_connection_from_json(a, &c2, &err))
		TH_LOG("%s", err.msg);
	ASSERT_EQ(0, cl_connection_to_json(c2, false, &b, &err));
	EXPECT_STREQ(a, b);
	EXPECT_EQ(CL_ATTACH_RO, c2->attach_mode);
	EXPECT_EQ(-1000001, c2->created_at);
	EXPECT_STREQ("/x", cl_dict_get(&c2->connection_data, "path"));
	EXPECT_STREQ("/dev/cbd3", c2->device_path);
	free(a);
	free(b);
	cl_connection_free(c2);
	cl_dict_clear(&c.connector);
	cl_dict_clear(&c.connection_data);
}

TEST(bad_json_refused)
{
	const char *bad[] = {
		"", "{", "[]", "{\"class\":\"Volume\"}",
		"{\"class\":\"Snapshot\",\"id\":\"" SOME_ID "\"}",
		"{\"id\":\"nope\",\"size\":1,\"status\":\"available\",\"backend\":\"b\"}",
		"{\"id\":\"" SOME_ID "\",\"size\":-1,\"status\":\"available\",\"backend\":\"b\","
		"\"created_at\":\"2024-01-01T00:00:00Z\",\"updated_at\":\"2024-01-01T00:00:00Z\"}",
		"{\"id\":\"" SOME_ID "\",\"size\":1,\"status\":\"sleeping\",\"backend\":\"b\","
		"\"created_at\":\"2024-01-01T00:00:00Z\",\"updated_at\":\"2024-01-01T00:00:00Z\"}",
		"{\"id\":\"" SOME_ID "\",\"size\":1,\"status\":\"available\",\"backend\":\"b\","
		"\"created_at\":\"yesterday\",\"updated_at\":\"2024-01-01T00:00:00Z\"}",
		"{\"id\":\"" SOME_ID "\",\"size\":\"1\",\"status\":\"available\",\"backend\":\"b\"}",
		"{} trailing",
	};
	struct cl_volume *v = NULL;
	struct cl_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, cl_volume_from_json(bad[i], &v, &err))
			TH_LOG("case %zu: %s", i, bad[i]);
		EXPECT_NE(0, err.msg[0]);
	}
	EXPECT_EQ(NULL, v);
}

/* A small state: two volumes, a snapshot, a connection, key/values. */
static void populate(struct __test_metadata *_metadata, struct tenv *t)
{
	struct cl_volume_create_opts o = { .size = 1, .name = "one" };
	struct cl_volume *a, *b;
	struct cl_snapshot *s;
	struct cl_connection *c;
	struct cl_dict conn = { 0 }, md = { 0 };

	cl_dict_set(&md, "purpose", "db");
	o.metadata = &md;
	ASSERT_EQ(0, cl_volume_create(t->be, &o, &a, &t->err));
	o.name = "two";
	o.size = 2;
	o.metadata = NULL;
	ASSERT_EQ(0, cl_volume_create(t->be, &o, &b, &t->err));
	ASSERT_EQ(0, cl_volume_create_snapshot(t->ctx, a, "s", NULL, &s,
					       &t->err));
	cl_dict_set(&conn, "host", "node9");
	ASSERT_EQ(0, cl_volume_connect(t->ctx, b, &conn, CL_ATTACH_RW, &c,
				       &t->err));
	ASSERT_EQ(0, cl_kv_set(t->ctx, "zeta", "last", &t->err));
	ASSERT_EQ(0, cl_kv_set(t->ctx, "alpha", "first", &t->err));
	cl_volume_free(a);
	cl_volume_free(b);
	cl_snapshot_free(s);
	cl_connection_free(c);
	cl_dict_clear(&conn);
	cl_dict_clear(&md);
}

static struct cl_context *plain_context(struct tenv *t, const char *kind,
					const char *path)
{
	struct cl_setup_options o = { .persistence = kind,
				      .persistence_path = path,
				      .persistence_create = true,
				      .lock_path = t->dir };
	struct cl_context *ctx = NULL;

	cl_setup(&o, &ctx, &t->err);
	return ctx;
}

TEST(memory_sqlite_memory_equal_dumps)
{
	struct tenv t;
	struct cl_context *sq, *mem;
	struct cl_state *st = NULL;
	char *d1, *d2, *d3, *d0;
	char path[PATH_MAX + 16];

	ASSERT_EQ(0, tenv_init(&t, "memory"));
	ASSERT_EQ(0, tenv_open_backend(&t));
	populate(_metadata, &t);
	ASSERT_EQ(0, cl_state_dump(t.ctx, true, &d1, &t.err));

	snprintf(path, sizeof(path), "%s/moved.sqlite", t.dir);
	sq = plain_context(&t, "sqlite", path);
	ASSERT_NE(NULL, sq) TH_LOG("%s", t.err.msg);
	/* Without save: parsed, nothing stored. */
	ASSERT_EQ(0, cl_state_load(sq, d1, false, &st, &t.err));
	EXPECT_EQ(2, st->volumes.count);
	EXPECT_EQ(1, st->snapshots.count);
	EXPECT_EQ(1, st->connections.count);
	EXPECT_EQ(2, st->key_values.count);
	cl_state_free(st);
	ASSERT_EQ(0, cl_state_dump(sq, false, &d0, &t.err));
	EXPECT_NE(NULL, strstr(d0, "\"volumes\":[]")) TH_LOG("%s", d0);
	free(d0);

	ASSERT_EQ(0, cl_state_load(sq, d1, true, NULL, &t.err))
		TH_LOG("%s", t.err.msg);
	ASSERT_EQ(0, cl_state_dump(sq, true, &d2, &t.err));
	EXPECT_STREQ(d1, d2);
	cl_context_free(sq);

	/* The sqlite file, reopened, still holds it all. */
	sq = plain_context(&t, "sqlite", path);
	ASSERT_NE(NULL, sq);
	free(d2);
	ASSERT_EQ(0, cl_state_dump(sq, true, &d2, &t.err));
	EXPECT_STREQ(d1, d2);

	mem = plain_context(&t, "memory", NULL);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, cl_state_load(mem, d2, true, NULL, &t.err));
	ASSERT_EQ(0, cl_state_dump(mem, true, &d3, &t.err));
	EXPECT_STREQ(d1, d3);
	free(d1);
	free(d2);
	free(d3);
	cl_context_free(sq);
	cl_context_free(mem);
	tenv_fini(&t);
}

static void __attribute__((constructor)) start_postgresql(void)
{
	pg_test_server_start();
}

TEST(sqlite_postgresql_sqlite_equal_dumps)
{
	struct tenv t, pg;
	struct cl_context *back;
	char *d1, *d2, *d3;
	char path[PATH_MAX + 16];

	ASSERT_EQ(0, tenv_init(&t, "sqlite"));
	ASSERT_EQ(0, tenv_open_backend(&t));
	populate(_metadata, &t);
	ASSERT_EQ(0, cl_state_dump(t.ctx, true, &d1, &t.err));

	ASSERT_EQ(0, tenv_init(&pg, "postgresql"))
		TH_LOG("no PostgreSQL server or plugin: %s", pg.err.msg);
	ASSERT_EQ(0, cl_state_load(pg.ctx, d1, true, NULL, &pg.err))
		TH_LOG("%s", pg.err.msg);
	ASSERT_EQ(0, cl_state_dump(pg.ctx, true, &d2, &pg.err));
	EXPECT_STREQ(d1, d2);

	snprintf(path, sizeof(path), "%s/back.sqlite", t.dir);
	back = plain_context(&t, "sqlite", path);
	ASSERT_NE(NULL, back) TH_LOG("%s", t.err.msg);
	free(d2);
	ASSERT_EQ(0, cl_state_dump(pg.ctx, false, &d2, &pg.err));
	ASSERT_EQ(0, cl_state_load(back, d2, true, NULL, &t.err));
	ASSERT_EQ(0, cl_state_dump(back, true, &d3, &t.err));
	EXPECT_STREQ(d1, d3);
	free(d1);
	free(d2);
	free(d3);
	cl_context_free(back);
	tenv_fini(&pg);
	tenv_fini(&t);
}

/*
 * A context outlives its server session: after a restart the next calls
 * work; with the server down a call fails, says why and changes nothing.
 */
TEST(postgresql_server_restart_and_outage)
{
	struct cl_volume_create_opts o = { .size = 1, .name = "kept" };
	struct cl_volume *v, *g;
	struct tenv t;
	char file[PATH_MAX + 64];

	ASSERT_EQ(0, tenv_init(&t, "postgresql"))
		TH_LOG("no PostgreSQL server or plugin: %s", t.err.msg);
	ASSERT_EQ(0, tenv_open_backend(&t)) TH_LOG("%s", t.err.msg);
	ASSERT_EQ(0, cl_volume_create(t.be, &o, &v, &t.err));
	snprintf(file, sizeof(file), "%s/volume-%s", t.voldir, v->id);

	ASSERT_EQ(0, pg_test_server_ctl("restart"));
	ASSERT_EQ(0, cl_volume_get(t.ctx, v->id, &g, &t.err))
		TH_LOG("%s", t.err.msg);
	EXPECT_STREQ("kept", g->name);
	cl_volume_free(g);
	ASSERT_EQ(0, cl_volume_extend(t.ctx, v, 2, &t.err)) TH_LOG("%s", t.err.msg);
	EXPECT_EQ(2ULL << 30, (unsigned long long)file_size(file));

	ASSERT_EQ(0, pg_test_server_ctl("halt"));
	EXPECT_EQ(-ENOTCONN, cl_volume_extend(t.ctx, v, 3, &t.err));
	EXPECT_NE(NULL, strstr(t.err.msg, "cannot reconnect")) TH_LOG("%s", t.err.msg);
	EXPECT_EQ(2ULL << 30, (unsigned long long)file_size(file));
	ASSERT_EQ(0, pg_test_server_ctl("resume"));

	ASSERT_EQ(0, cl_volume_get(t.ctx, v->id, &g, &t.err)) TH_LOG("%s", t.err.msg);
	EXPECT_EQ(2, g->size);
	EXPECT_EQ(CL_STATUS_AVAILABLE, g->status);
	cl_volume_free(g);
	EXPECT_EQ(0, cl_volume_extend(t.ctx, v, 3, &t.err)) TH_LOG("%s", t.err.msg);
	EXPECT_EQ(3ULL << 30, (unsigned long long)file_size(file));
	cl_volume_free(v);
	tenv_fini(&t);
}

TEST(plugin_store_round_trip)
{
	const char *plugin = jsonfile_plugin();
	struct cl_setup_options o = { .persistence = plugin,
				      .persistence_create = true };
	char path[PATH_MAX + 16], *d1, *d2, *img;
	struct cl_context *pc = NULL;
	size_t len, len2;
	struct tenv t;

	if (!plugin)
		SKIP(return, "jsonfile plugin not built");
	ASSERT_EQ(0, tenv_init(&t, "memory"));
	ASSERT_EQ(0, tenv_open_backend(&t));
	populate(_metadata, &t);
	ASSERT_EQ(0, cl_state_dump(t.ctx, true, &d1, &t.err));

	snprintf(path, sizeof(path), "%s/state.json", t.dir);
	o.persistence_path = path;
	o.lock_path = t.dir;
	ASSERT_EQ(0, cl_setup(&o, &pc, &t.err)) TH_LOG("%s", t.err.msg);
	ASSERT_EQ(0, cl_state_load(pc, d1, true, NULL, &t.err))
		TH_LOG("%s", t.err.msg);
	cl_context_free(pc);
	ASSERT_EQ(0, cl_setup(&o, &pc, &t.err));
	ASSERT_EQ(0, cl_state_dump(pc, true, &d2, &t.err));
	EXPECT_STREQ(d1, d2);
	cl_context_free(pc);

	/* Damaged: refused with the file's name, and left as it is. */
	img = read_file(path, &len);
	ASSERT_NE(NULL, img);
	img[len / 2] = '}';
	ASSERT_EQ(0, write_file(path, img, len));
	EXPECT_EQ(-EBADMSG, cl_setup(&o, &pc, &t.err));
	EXPECT_NE(NULL, strstr(t.err.msg, path));
	free(d2);
	d2 = read_file(path, &len2);
	ASSERT_EQ(len, len2);
	EXPECT_EQ(0, memcmp(img, d2, len));
	/* A missing file is not created without persistence_create. */
	o.persistence_create = false;
	snprintf(path, sizeof(path), "%s/none.json", t.dir);
	EXPECT_EQ(-ENOENT, cl_setup(&o, &pc, &t.err));
	EXPECT_EQ(-1, file_size(path));
	/* Not a plugin at all. */
	o.persistence = "/dev/null";
	EXPECT_NE(0, cl_setup(&o, &pc, &t.err));
	free(img);
	free(d1);
	free(d2);
	tenv_fini(&t);
}

TEST(broken_dump_saves_nothing)
{
	struct tenv t;
	char *d, *cut, *after;

	ASSERT_EQ(0, tenv_init(&t, "sqlite"));
	ASSERT_EQ(0, tenv_open_backend(&t));
	populate(_metadata, &t);
	ASSERT_EQ(0, cl_state_dump(t.ctx, false, &d, &t.err));
	tenv_fini(&t);

	ASSERT_EQ(0, tenv_init(&t, "sqlite"));
	/* Break the second volume's status: the first must not land. */
	cut = strstr(strstr(d, "\"status\":\"available\"") + 1,
		     "\"status\":\"available\"");
	ASSERT_NE(NULL, cut);
	memcpy(cut, "\"status\":\"availablX\"", 20);
	EXPECT_EQ(-EINVAL, cl_state_load(t.ctx, d, true, NULL, &t.err));
	EXPECT_NE(NULL, strstr(t.err.msg, "availablX"));
	ASSERT_EQ(0, cl_state_dump(t.ctx, false, &after, &t.err));
	EXPECT_NE(NULL, strstr(after, "\"volumes\":[]"));
	EXPECT_NE(NULL, strstr(after, "\"key_values\":{}"));
	free(after);
	free(d);
	tenv_fini(&t);
}

TEST(strict_and_lenient_backends)
{
	static const char ghost[] =
		"{\"class\":\"Volume\",\"id\":\"" SOME_ID "\",\"size\":1,"
		"\"status\":\"available\",\"backend\":\"ghost\","
		"\"created_at\":\"2024-01-01T00:00:00Z\","
		"\"updated_at\":\"2024-01-01T00:00:00Z\"}";
	struct cl_context *strict;
	struct cl_volume *v = NULL;
	struct tenv t;

	ASSERT_EQ(0, tenv_init(&t, "sqlite"));
	ASSERT_EQ(0, tenv_new_context(&t, true, &strict));
	EXPECT_EQ(-ENODEV, cl_volume_load(strict, ghost, true, &v, &t.err));
	EXPECT_NE(NULL, strstr(t.err.msg, "ghost"));
	EXPECT_EQ(NULL, v);
	/* Lenient: loads and saves; driver calls fail clearly. */
	ASSERT_EQ(0, cl_volume_load(t.ctx, ghost, true, &v, &t.err));
	EXPECT_EQ(-ENODEV, cl_volume_extend(t.ctx, v, 2, &t.err));
	EXPECT_NE(NULL, strstr(t.err.msg, "ghost"));
	EXPECT_EQ(-ENODEV, cl_volume_delete(t.ctx, v, &t.err));
	EXPECT_EQ(CL_STATUS_AVAILABLE, v->status);
	cl_volume_free(v);
	/* The strict context refuses to hand out the stored object. */
	EXPECT_EQ(-ENODEV, cl_volume_get(strict, SOME_ID, &v, &t.err));
	cl_context_free(strict);
	tenv_fini(&t);
}

static int open_store(struct tenv *t, const char *path, bool create)
{
	struct cl_setup_options o = { .persistence = "sqlite",
				      .persistence_path = path,
				      .persistence_create = create,
				      .lock_path = t->dir };
	struct cl_context *ctx = NULL;
	int ret = cl_setup(&o, &ctx, &t->err);

	cl_context_free(ctx);
	return ret;
}

TEST(missing_store_not_created)
{
	char path[PATH_MAX + 16];
	struct tenv t;

	ASSERT_EQ(0, tenv_init(&t, "memory"));
	snprintf(path, sizeof(path), "%s/absent.sqlite", t.dir);
	EXPECT_EQ(-ENOENT, open_store(&t, path, false));
	EXPECT_NE(NULL, strstr(t.err.msg, "absent.sqlite"));
	EXPECT_EQ(-1, file_size(path));
	EXPECT_EQ(0, open_store(&t, path, true));
	EXPECT_GT(file_size(path), 0);
	tenv_fini(&t);
}

static void expect_refused(struct __test_metadata *_metadata, struct tenv *t,
			   const char *path, const void *data, size_t len)
{
	size_t got_len = 0;
	char *got;

	ASSERT_EQ(0, write_file(path, data, len));
	EXPECT_EQ(-EBADMSG, open_store(t, path, true)) TH_LOG("%s", t->err.msg);
	EXPECT_NE(NULL, strstr(t->err.msg, path));
	got = read_file(path, &got_len);
	ASSERT_NE(NULL, got);
	EXPECT_EQ(len, got_len);
	EXPECT_EQ(0, memcmp(got, data, len));
	free(got);
}

TEST(corrupt_store_untouched)
{
	char path[PATH_MAX + 16], good[PATH_MAX + 16];
	unsigned char junk[8192];
	size_t len;
	char *img;
	struct tenv t;

	ASSERT_EQ(0, tenv_init(&t, "sqlite"));
	ASSERT_EQ(0, tenv_open_backend(&t));
	populate(_metadata, &t);
	cl_context_free(t.ctx);
	t.ctx = NULL;
	snprintf(path, sizeof(path), "%s/bad.sqlite", t.dir);

	expect_refused(_metadata, &t, path, "", 0);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 7 + 3);
	expect_refused(_metadata, &t, path, junk, sizeof(junk));
	expect_refused(_metadata, &t, path, "cinderlib state, honest\n", 24);

	/* A real store with its pages scrambled after the header. */
	snprintf(good, sizeof(good), "%s", t.store);
	img = read_file(good, &len);
	ASSERT_NE(NULL, img);
	ASSERT_GT(len, 4096);
	for (size_t i = 100; i < len; i++)
		img[i] = (char)(img[i] ^ 0x5a);
	expect_refused(_metadata, &t, path, img, len);
	free(img);
	tenv_fini(&t);
}

/* Stores written by hand with the sqlite3 tool (skipped without it). */
static int sqlite3_cli(const char *path, const char *sql)
{
	char *cmd;
	int ret;

	if (asprintf(&cmd, "sqlite3 '%s' \"%s\" >/dev/null 2>&1", path, sql) < 0)
		return -1;
	ret = system(cmd);
	free(cmd);
	return ret;
}

TEST(schema_versions)
{
	char path[PATH_MAX + 16];
	size_t len1, len2;
	char *before, *after;
	struct tenv t;

	if (system("sqlite3 -version >/dev/null 2>&1") != 0)
		SKIP(return, "no sqlite3 tool");
	ASSERT_EQ(0, tenv_init(&t, "memory"));

	/* Someone else's database: refused, not modified. */
	snprintf(path, sizeof(path), "%s/foreign.db", t.dir);
	ASSERT_EQ(0, sqlite3_cli(path, "CREATE TABLE t (a); INSERT INTO t VALUES (1);"));
	before = read_file(path, &len1);
	EXPECT_EQ(-EBADMSG, open_store(&t, path, true));
	EXPECT_NE(NULL, strstr(t.err.msg, "not a cinderlib store"));
	after = read_file(path, &len2);
	ASSERT_EQ(len1, len2);
	EXPECT_EQ(0, memcmp(before, after, len1));
	free(before);
	free(after);

	/* A newer schema than this library knows: refused. */
	snprintf(path, sizeof(path), "%s/newer.db", t.dir);
	ASSERT_EQ(0, sqlite3_cli(path, "CREATE TABLE schema_version (version INTEGER);"
				 " INSERT INTO schema_version VALUES (99);"));
	EXPECT_EQ(-EPROTO, open_store(&t, path, true));
	EXPECT_NE(NULL, strstr(t.err.msg, "99"));

	/* A version 1 store with data is migrated, data kept. */
	snprintf(path, sizeof(path), "%s/v1.db", t.dir);
	ASSERT_EQ(0, sqlite3_cli(path,
		"CREATE TABLE schema_version (version INTEGER NOT NULL);"
		" INSERT INTO schema_version VALUES (1);"
		" CREATE TABLE volumes (id TEXT PRIMARY KEY, name TEXT, backend TEXT,"
		"  status TEXT, json TEXT NOT NULL);"
		" CREATE TABLE snapshots (id TEXT PRIMARY KEY, name TEXT, backend TEXT,"
		"  volume_id TEXT, status TEXT, json TEXT NOT NULL);"
		" CREATE TABLE connections (id TEXT PRIMARY KEY, backend TEXT,"
		"  volume_id TEXT, json TEXT NOT NULL);"
		" CREATE TABLE key_values (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
		" INSERT INTO key_values VALUES ('old', 'kept');"));
	{
		struct cl_setup_options o = { .persistence = "sqlite",
					      .persistence_path = path,
					      .lock_path = t.dir };
		struct cl_context *ctx;
		char *val = NULL;

		ASSERT_EQ(0, cl_setup(&o, &ctx, &t.err)) TH_LOG("%s", t.err.msg);
		ASSERT_EQ(0, cl_kv_get(ctx, "old", &val, &t.err));
		EXPECT_STREQ("kept", val);
		free(val);
		cl_context_free(ctx);
	}
	{
		char *cmd, line[64] = "";
		FILE *p;

		ASSERT_LE(0, asprintf(&cmd, "sqlite3 '%s' \"SELECT version ||"
				      " (SELECT count(*) FROM sqlite_master WHERE"
				      " type = 'index' AND name = 'volumes_backend')"
				      " FROM schema_version\"", path));
		p = popen(cmd, "r");
		ASSERT_NE(NULL, p);
		fgets(line, sizeof(line), p);
		pclose(p);
		free(cmd);
		EXPECT_STREQ("21\n", line);	/* version 2, index there */
	}
	tenv_fini(&t);
}

/*
 * SIGKILL a process in the middle of creates and deletes: the next run
 * reads the store without error; a volume left "creating"/"deleting" says
 * what happened and can be deleted.
 */
TEST(killed_mid_operation)
{
	struct cl_volume_list l;
	struct tenv t;
	pid_t pid;
	int status, creating = 0;

	ASSERT_EQ(0, tenv_init(&t, "sqlite"));
	ASSERT_EQ(0, tenv_open_backend(&t));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct cl_volume_create_opts o = { .size = 1 };

		for (;;) {
			struct cl_volume *v;

			if (cl_volume_create(t.be, &o, &v, NULL) == 0) {
				if (v->id[0] < '8')
					cl_volume_delete(t.ctx, v, NULL);
				cl_volume_free(v);
			}
		}
	}
	usleep(300 * 1000);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	cl_context_free(t.ctx);
	t.ctx = NULL;

	ASSERT_EQ(0, tenv_new_context(&t, true, &t.ctx)) TH_LOG("%s", t.err.msg);
	ASSERT_EQ(0, cl_volume_find(t.ctx, NULL, &l, &t.err))
		TH_LOG("%s", t.err.msg);
	EXPECT_GT(l.count, 0);
	for (size_t i = 0; i < l.count; i++) {
		struct cl_volume *v = l.items[i];
		char path[PATH_MAX + 64];

		snprintf(path, sizeof(path), "%s/volume-%s", t.voldir, v->id);
		if (v->status == CL_STATUS_AVAILABLE) {
			EXPECT_EQ((off_t)GIB, file_size(path));
		} else {
			creating++;
		}
		EXPECT_TRUE(v->status == CL_STATUS_AVAILABLE ||
			    v->status == CL_STATUS_CREATING ||
			    v->status == CL_STATUS_DELETING);
	}
	EXPECT_LE(creating, 1);
	for (size_t i = 0; i < l.count; i++)
		EXPECT_EQ(0, cl_volume_delete(t.ctx, l.items[i], &t.err))
			TH_LOG("%s", t.err.msg);
	cl_volume_list_free(&l);
	/* Nothing left behind, no temporary file either. */
	EXPECT_EQ(0, count_files(t.voldir, ""));
	tenv_fini(&t);
}

TEST_HARNESS_MAIN
