// SPDX-License-Identifier: Apache-2.0
/*
 * The "sqlite" store: one database file, WAL journal, busy timeout so that
 * several processes share it. Each object is kept as its JSON text next to
 * the columns lookups filter on. The schema is versioned: migrations run in
 * order inside one transaction. A file that is not a cinderlib store is
 * refused and never written.
 *
 * Every commit is durable when it returns (synchronous=FULL: one sync of
 * the WAL), not only at the next checkpoint. The last connection to close
 * still checkpoints and removes the WAL: a WAL left behind would have its
 * index rebuilt, frame by frame, by every process that opens the store
 * (the -shm index does not survive its last user), which costs a short
 * cinderctl command more than the checkpoint's two syncs.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include <json-c/json.h>

#include "cl_internal.h"

#define BUSY_TIMEOUT_MS 60000
/* Distinct statements a process keeps prepared (the CLI uses about 10). */
#define STMT_CACHE_SIZE 24

/* Rows parsed lately, per table: the same row is read several times. */
#define PARSED_ROWS 4

struct cached_stmt {
	char *sql;
	sqlite3_stmt *st;
};

struct parsed_row {
	char *json;
	void *obj;		/* what parsing @json gave, kept to copy */
};

enum { VOLUMES, SNAPSHOTS, CONNECTIONS, NR_TABLES };

struct sqlite_store {
	sqlite3 *db;
	char *path;
	int depth;		/* nested begin() calls */
	int nr_cached;
	struct cached_stmt cache[STMT_CACHE_SIZE];
	struct parsed_row parsed[NR_TABLES][PARSED_ROWS];
	int next_parsed[NR_TABLES];
};

/* Schema migrations: index i takes the schema from version i to i + 1. */
static const char *const migrations[] = {
	/* 1: the tables */
	"CREATE TABLE volumes (id TEXT PRIMARY KEY, name TEXT, backend TEXT,"
	"  status TEXT, json TEXT NOT NULL);"
	"CREATE TABLE snapshots (id TEXT PRIMARY KEY, name TEXT, backend TEXT,"
	"  volume_id TEXT, status TEXT, json TEXT NOT NULL);"
	"CREATE TABLE connections (id TEXT PRIMARY KEY, backend TEXT,"
	"  volume_id TEXT, json TEXT NOT NULL);"
	"CREATE TABLE key_values (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	/* 2: indexes for the filtered lookups */
	"CREATE INDEX volumes_backend ON volumes (backend);"
	"CREATE INDEX volumes_name ON volumes (name);"
	"CREATE INDEX snapshots_volume ON snapshots (volume_id);"
	"CREATE INDEX connections_volume ON connections (volume_id);",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int db_error(struct sqlite_store *s, struct cl_error *err,
		    const char *what)
{
	int code = sqlite3_errcode(s->db);
	int ret = -EIO;

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		ret = -EBUSY;
	else if (code == SQLITE_FULL)
		ret = -ENOSPC;
	else if (code == SQLITE_READONLY || code == SQLITE_PERM)
		ret = -EACCES;
	else if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
		ret = -EBADMSG;
	return cl_error_set(err, ret, "store %s: %s: %s", s->path, what,
			    sqlite3_errmsg(s->db));
}

static int exec(struct sqlite_store *s, const char *sql, struct cl_error *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, err, sql);
	return 0;
}

/*
 * The prepared statement for @sql, kept for the next use: a process runs
 * the same few statements again and again, and preparing one (parsing,
 * planning) costs far more than running it on a small table. The caller
 * gives it back with put_stmt(); NULL with the error in the connection.
 */
static sqlite3_stmt *get_stmt(struct sqlite_store *s, const char *sql)
{
	struct cached_stmt *c;
	sqlite3_stmt *st;

	for (int i = 0; i < s->nr_cached; i++)
		if (strcmp(s->cache[i].sql, sql) == 0)
			return s->cache[i].st;
	if (s->nr_cached == STMT_CACHE_SIZE) {
		/* Full (a plugin-like caller with many filters): uncached. */
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
			return NULL;
		return st;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK)
		return NULL;
	c = &s->cache[s->nr_cached];
	c->sql = strdup(sql);
	if (!c->sql) {
		sqlite3_finalize(st);
		return NULL;
	}
	c->st = st;
	s->nr_cached++;
	return st;
}

/* Done with @st: reset (ends its read), unbind, finalize if uncached. */
static void put_stmt(struct sqlite_store *s, sqlite3_stmt *st)
{
	for (int i = 0; i < s->nr_cached; i++) {
		if (s->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	}
	sqlite3_finalize(st);
}

/* One statement without parameters or rows (BEGIN, COMMIT...), cached. */
static int exec_cached(struct sqlite_store *s, const char *sql,
		       struct cl_error *err)
{
	sqlite3_stmt *st = get_stmt(s, sql);
	int rc;

	if (!st)
		return db_error(s, err, sql);
	rc = sqlite3_step(st);
	put_stmt(s, st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(s, err, sql);
	return 0;
}

static int sq_begin(void *store, struct cl_error *err)
{
	struct sqlite_store *s = store;
	int ret = 0;

	/*
	 * IMMEDIATE: take the write lock now, waiting on the busy timeout,
	 * rather than failing later on a read-to-write upgrade.
	 */
	if (s->depth == 0)
		ret = exec_cached(s, "BEGIN IMMEDIATE", err);
	if (!ret)
		s->depth++;
	return ret;
}

static int sq_commit(void *store, struct cl_error *err)
{
	struct sqlite_store *s = store;

	if (s->depth == 0 || --s->depth > 0)
		return 0;
	return exec_cached(s, "COMMIT", err);
}

static void sq_rollback(void *store)
{
	struct sqlite_store *s = store;

	if (s->depth == 0)
		return;
	s->depth = 0;
	exec_cached(s, "ROLLBACK", NULL);
}

static int query_int(struct sqlite_store *s, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

/*
 * Refuse anything that is not a SQLite file before sqlite touches it.
 * @wal: the file is in WAL mode already (read and write format version 2,
 * bytes 18 and 19 of the header).
 */
static int check_header(const char *path, bool *wal, struct cl_error *err)
{
	static const char magic[16] = "SQLite format 3";
	unsigned char buf[20];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return cl_error_set(err, -errno, "cannot open store %s: %m",
				    path);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != sizeof(buf) || memcmp(buf, magic, sizeof(magic)) != 0)
		return cl_error_set(err, -EBADMSG,
				    "store %s is not a cinderlib store (not a SQLite database); "
				    "left untouched", path);
	*wal = buf[18] == 2 && buf[19] == 2;
	return 0;
}

static int migrate(struct sqlite_store *s, bool fresh, struct cl_error *err)
{
	int version = 0, has_table = 0, nr_tables = 0, ret;

	ret = sq_begin(s, err);
	if (ret)
		return ret;
	if (query_int(s, "SELECT count(*) FROM sqlite_master WHERE type='table'"
		      " AND name='schema_version'", &has_table) ||
	    query_int(s, "SELECT count(*) FROM sqlite_master", &nr_tables)) {
		ret = db_error(s, err, "reading the schema");
		goto fail;
	}
	if (!has_table && (nr_tables > 0 || !fresh)) {
		ret = cl_error_set(err, -EBADMSG,
				   "store %s is a SQLite database but not a cinderlib store; "
				   "left untouched", s->path);
		goto fail;
	}
	if (!has_table) {
		ret = exec(s, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
			   "INSERT INTO schema_version VALUES (0);", err);
		if (ret)
			goto fail;
	}
	if (query_int(s, "SELECT version FROM schema_version", &version)) {
		ret = db_error(s, err, "reading the schema version");
		goto fail;
	}
	if (version > SCHEMA_VERSION) {
		ret = cl_error_set(err, -EPROTO,
				   "store %s has schema version %d, newer than this library's %d",
				   s->path, version, SCHEMA_VERSION);
		goto fail;
	}
	for (; version < SCHEMA_VERSION; version++) {
		char sql[64];

		ret = exec(s, migrations[version], err);
		if (ret)
			goto fail;
		snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d",
			 version + 1);
		ret = exec(s, sql, err);
		if (ret)
			goto fail;
	}
	return sq_commit(s, err);
fail:
	sq_rollback(s);
	return ret;
}

static int check_ours(struct sqlite_store *s, struct cl_error *err)
{
	int has_table = 0;

	if (query_int(s, "SELECT count(*) FROM sqlite_master WHERE type='table'"
		      " AND name='schema_version'", &has_table))
		return db_error(s, err, "reading the schema");
	if (!has_table)
		return cl_error_set(err, -EBADMSG,
				    "store %s is a SQLite database but not a cinderlib store; "
				    "left untouched", s->path);
	return 0;
}

static void free_parsed(struct sqlite_store *s);

static void sq_close(void *store)
{
	struct sqlite_store *s = store;

	if (!s)
		return;
	free_parsed(s);
	for (int i = 0; i < s->nr_cached; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
	}
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}

static int sq_open(const struct cl_dict *options, void **store,
		   struct cl_error *err);

/*
 * Make a new store atomically: build the schema in a private temporary
 * file, then link it into place. Concurrent creators never see a
 * half-made file; the loser of the race just uses the winner's store.
 */
static int create_store(const char *path, struct cl_error *err)
{
	struct sqlite_store *s;
	char *tmp = NULL;
	int fd, ret;

	if (asprintf(&tmp, "%s.new-XXXXXX", path) < 0)
		return cl_error_set(err, -ENOMEM, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = cl_error_set(err, -errno, "cannot create store %s: %m",
				   path);
		free(tmp);
		return ret;
	}
	close(fd);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		ret = cl_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (sqlite3_open_v2(tmp, &s->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		ret = db_error(s, err, "create");
		sq_close(s);
		goto out;
	}
	ret = migrate(s, true, err);
	sq_close(s);
	if (ret)
		goto out;
	if (link(tmp, path) < 0 && errno != EEXIST)
		ret = cl_error_set(err, -errno, "cannot create store %s: %m",
				   path);
out:
	unlink(tmp);
	free(tmp);
	return ret;
}

#ifdef CL_SQLITE_PRIVATE
/*
 * sqlite is linked into this library, hidden: its settings are ours alone.
 * Without memory statistics every allocation and free skips a global
 * mutex. Must come before sqlite initializes itself (the first open).
 */
static void configure_sqlite(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
#endif

static int sq_open(const struct cl_dict *options, void **store,
		   struct cl_error *err)
{
	const char *path = cl_dict_get(options, "path");
	const char *create_opt = cl_dict_get(options, "create");
	bool create = false;
	struct sqlite_store *s;
	struct stat stbuf;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	bool wal = false;
	int ret, version = -1;

#ifdef CL_SQLITE_PRIVATE
	static pthread_once_t configured = PTHREAD_ONCE_INIT;

	pthread_once(&configured, configure_sqlite);
#endif
	if (!path || !*path)
		return cl_error_set(err, -EINVAL, "sqlite store: no path given");
	if (create_opt)
		cl_parse_bool(create_opt, &create);
	if (stat(path, &stbuf) < 0) {
		if (errno != ENOENT || !create)
			return cl_error_set(err, -errno,
					    "store %s: %m", path);
		ret = create_store(path, err);
		if (ret)
			return ret;
		if (stat(path, &stbuf) < 0)
			return cl_error_set(err, -errno, "store %s: %m", path);
	}
	if (!S_ISREG(stbuf.st_mode))
		return cl_error_set(err, -EINVAL,
				    "store %s is not a regular file", path);
	ret = check_header(path, &wal, err);
	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		ret = db_error(s, err, "open");
		sq_close(s);
		return ret;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/*
	 * Someone else's database: refuse before any write (even WAL). The
	 * version read is that check in the common case; without the table,
	 * check_ours() says what is wrong.
	 */
	if (query_int(s, "SELECT version FROM schema_version", &version))
		ret = check_ours(s, err);
	/* Persistent in the file: set once, when the store is new. */
	if (!ret && !wal)
		ret = exec(s, "PRAGMA journal_mode=WAL", err);
	if (!ret)
		ret = exec(s, "PRAGMA synchronous=FULL", err);
	/* Up to date (the common case): no write lock needed. */
	if (!ret && version != SCHEMA_VERSION)
		ret = migrate(s, false, err);
	if (ret) {
		sq_close(s);
		return ret;
	}
	*store = s;
	return 0;
}

/* ---- objects ---- */

struct where {
	char sql[256];
	const char *args[4];
	int n;
};

static void add_cond(struct where *w, const char *col, const char *val)
{
	if (!val)
		return;
	strcat(w->sql, w->n ? " AND " : " WHERE ");
	strcat(w->sql, col);
	strcat(w->sql, " = ?");
	w->args[w->n++] = val;
}

/* Run "SELECT json FROM table WHERE ... ORDER BY id", one callback a row. */
static int select_json(struct sqlite_store *s, const char *table,
		       const struct cl_filter *f, bool has_name,
		       bool has_volume,
		       int (*row)(struct sqlite_store *s, const char *json,
				  void *out, struct cl_error *err),
		       void *out, struct cl_error *err)
{
	struct where w = { .n = 0 };
	char sql[400];
	sqlite3_stmt *st;
	int rc, ret = 0;

	w.sql[0] = '\0';
	if (f) {
		add_cond(&w, "id", f->id);
		if (has_name)
			add_cond(&w, "name", f->name);
		else if (f->name)
			return 0;	/* nothing has a name here */
		add_cond(&w, "backend", f->backend);
		if (has_volume)
			add_cond(&w, "volume_id", f->volume_id);
	}
	snprintf(sql, sizeof(sql), "SELECT json FROM %s%s ORDER BY id", table,
		 w.sql);
	st = get_stmt(s, sql);
	if (!st)
		return db_error(s, err, "prepare");
	for (int i = 0; i < w.n; i++)
		sqlite3_bind_text(st, i + 1, w.args[i], -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *json = (const char *)sqlite3_column_text(st, 0);

		ret = row(s, json ? json : "", out, err);
		if (ret) {
			char msg[CL_ERROR_MSG_MAX];

			/* Name the store: the object's JSON is damaged. */
			snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
			ret = cl_error_set(err, -EBADMSG,
					   "store %s: corrupt row in %s: %s",
					   s->path, table, msg);
			break;
		}
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_error(s, err, "select");
	put_stmt(s, st);
	return ret;
}

/*
 * A row's object: a copy of the one parsed from the same JSON text before
 * if there is one (parsing is most of the cost of a read), else parsed
 * now and remembered. Equal text gives an equal object: nothing else goes
 * into it.
 */
#define DEFINE_ROW(type, table)						\
static void free_##type(void *obj)					\
{									\
	cl_##type##_free(obj);						\
}									\
									\
static int row_##type(struct sqlite_store *s, const char *json,	\
		      void *out, struct cl_error *err)			\
{									\
	struct parsed_row *p = s->parsed[table];			\
	struct cl_##type *obj = NULL;					\
	int i, ret;							\
									\
	for (i = 0; i < PARSED_ROWS && p[i].json; i++)			\
		if (strcmp(p[i].json, json) == 0)			\
			break;						\
	if (i < PARSED_ROWS && p[i].json) {				\
		obj = cl_##type##_dup(p[i].obj);			\
		if (!obj)						\
			return cl_error_set(err, -ENOMEM, "out of memory"); \
	} else {							\
		ret = cl_##type##_from_json(json, &obj, err);		\
		if (ret)						\
			return ret;					\
		remember(s, table, json, cl_##type##_dup(obj), free_##type); \
	}								\
	if (cl_##type##_list_append(out, obj)) {			\
		cl_##type##_free(obj);					\
		return cl_error_set(err, -ENOMEM, "out of memory");	\
	}								\
	return 0;							\
}

/* Keep @obj (a copy, owned now) as what @json parses to. */
static void remember(struct sqlite_store *s, int table, const char *json,
		     void *obj, void (*free_fn)(void *obj))
{
	struct parsed_row *p = &s->parsed[table][s->next_parsed[table]];
	char *copy = obj ? strdup(json) : NULL;

	if (!copy) {
		if (obj)
			free_fn(obj);
		return;		/* only a lost shortcut */
	}
	if (p->json) {
		free_fn(p->obj);
		free(p->json);
	}
	p->json = copy;
	p->obj = obj;
	s->next_parsed[table] = (s->next_parsed[table] + 1) % PARSED_ROWS;
}

DEFINE_ROW(volume, VOLUMES)
DEFINE_ROW(snapshot, SNAPSHOTS)
DEFINE_ROW(connection, CONNECTIONS)

static void (*const free_obj[NR_TABLES])(void *obj) = {
	[VOLUMES] = free_volume,
	[SNAPSHOTS] = free_snapshot,
	[CONNECTIONS] = free_connection,
};

static void free_parsed(struct sqlite_store *s)
{
	for (int t = 0; t < NR_TABLES; t++) {
		for (int i = 0; i < PARSED_ROWS; i++) {
			struct parsed_row *p = &s->parsed[t][i];

			if (p->json) {
				free_obj[t](p->obj);
				free(p->json);
			}
		}
	}
}

static int sq_get_volumes(void *store, const struct cl_filter *f,
			  struct cl_volume_list *out, struct cl_error *err)
{
	return select_json(store, "volumes", f, true, false, row_volume, out,
			   err);
}

static int sq_get_snapshots(void *store, const struct cl_filter *f,
			    struct cl_snapshot_list *out, struct cl_error *err)
{
	return select_json(store, "snapshots", f, true, true, row_snapshot,
			   out, err);
}

static int sq_get_connections(void *store, const struct cl_filter *f,
			      struct cl_connection_list *out,
			      struct cl_error *err)
{
	return select_json(store, "connections", f, false, true,
			   row_connection, out, err);
}

/* Bind @vals (NULL = SQL NULL) and run one statement. */
static int run(struct sqlite_store *s, const char *sql, const char **vals,
	       int n, struct cl_error *err)
{
	sqlite3_stmt *st = get_stmt(s, sql);
	int rc;

	if (!st)
		return db_error(s, err, "prepare");
	for (int i = 0; i < n; i++) {
		if (vals[i])
			sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, i + 1);
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		/* The message before the reset, which may replace it. */
		int ret = db_error(s, err, "write");

		put_stmt(s, st);
		return ret;
	}
	put_stmt(s, st);
	return 0;
}

static int sq_set_volume(void *store, const struct cl_volume *v,
			 struct cl_error *err)
{
	const char *vals[5];
	char *json;
	int ret = cl_volume_to_json(v, false, &json, err);

	if (ret)
		return ret;
	vals[0] = v->id;
	vals[1] = v->name;
	vals[2] = v->backend_name;
	vals[3] = cl_status_name(v->status);
	vals[4] = json;
	ret = run(store, "INSERT OR REPLACE INTO volumes (id, name, backend, status, json)"
		  " VALUES (?, ?, ?, ?, ?)", vals, 5, err);
	free(json);
	return ret;
}

static int sq_set_snapshot(void *store, const struct cl_snapshot *sn,
			   struct cl_error *err)
{
	const char *vals[6];
	char *json;
	int ret = cl_snapshot_to_json(sn, false, &json, err);

	if (ret)
		return ret;
	vals[0] = sn->id;
	vals[1] = sn->name;
	vals[2] = sn->backend_name;
	vals[3] = sn->volume_id;
	vals[4] = cl_status_name(sn->status);
	vals[5] = json;
	ret = run(store, "INSERT OR REPLACE INTO snapshots (id, name, backend, volume_id,"
		  " status, json) VALUES (?, ?, ?, ?, ?, ?)", vals, 6, err);
	free(json);
	return ret;
}

static int sq_set_connection(void *store, const struct cl_connection *c,
			     struct cl_error *err)
{
	const char *vals[4];
	char *json;
	int ret = cl_connection_to_json(c, false, &json, err);

	if (ret)
		return ret;
	vals[0] = c->id;
	vals[1] = c->backend_name;
	vals[2] = c->volume_id;
	vals[3] = json;
	ret = run(store, "INSERT OR REPLACE INTO connections (id, backend, volume_id, json)"
		  " VALUES (?, ?, ?, ?)", vals, 4, err);
	free(json);
	return ret;
}

static int sq_delete_volume(void *store, const char *id, struct cl_error *err)
{
	return run(store, "DELETE FROM volumes WHERE id = ?", &id, 1, err);
}

static int sq_delete_snapshot(void *store, const char *id,
			      struct cl_error *err)
{
	return run(store, "DELETE FROM snapshots WHERE id = ?", &id, 1, err);
}

static int sq_delete_connection(void *store, const char *id,
				struct cl_error *err)
{
	return run(store, "DELETE FROM connections WHERE id = ?", &id, 1, err);
}

static int sq_get_kvs(void *store, const char *prefix, struct cl_dict *out,
		      struct cl_error *err)
{
	struct sqlite_store *s = store;
	sqlite3_stmt *st = get_stmt(s, "SELECT key, value FROM key_values WHERE"
				    " substr(key, 1, length(?1)) = ?1 ORDER BY key");
	int rc;

	if (!st)
		return db_error(s, err, "prepare");
	sqlite3_bind_text(st, 1, prefix ? prefix : "", -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cl_dict_set(out, (const char *)sqlite3_column_text(st, 0),
				(const char *)sqlite3_column_text(st, 1))) {
			put_stmt(s, st);
			return cl_error_set(err, -ENOMEM, "out of memory");
		}
	}
	if (rc != SQLITE_DONE) {
		int ret = db_error(s, err, "select");

		put_stmt(s, st);
		return ret;
	}
	put_stmt(s, st);
	return 0;
}

static int sq_set_kv(void *store, const char *key, const char *value,
		     struct cl_error *err)
{
	const char *vals[2] = { key, value };

	return run(store, "INSERT OR REPLACE INTO key_values (key, value) VALUES (?, ?)",
		   vals, 2, err);
}

static int sq_delete_kv(void *store, const char *key, struct cl_error *err)
{
	return run(store, "DELETE FROM key_values WHERE key = ?", &key, 1, err);
}

const struct cl_persistence_ops cl_sqlite_store_ops = {
	.abi_version = CL_PERSISTENCE_ABI_VERSION,
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.get_volumes = sq_get_volumes,
	.set_volume = sq_set_volume,
	.delete_volume = sq_delete_volume,
	.get_snapshots = sq_get_snapshots,
	.set_snapshot = sq_set_snapshot,
	.delete_snapshot = sq_delete_snapshot,
	.get_connections = sq_get_connections,
	.set_connection = sq_set_connection,
	.delete_connection = sq_delete_connection,
	.get_key_values = sq_get_kvs,
	.set_key_value = sq_set_kv,
	.delete_key_value = sq_delete_kv,
};
