// SPDX-License-Identifier: Apache-2.0
/*
 * "postgresql" persistence plugin: the store in a PostgreSQL database,
 * through libpq, so that several hosts can share it. Each object is kept
 * as its JSON text next to the columns lookups filter on, in tables of a
 * schema of its own (persistence_schema, default "cinderlib"), versioned
 * like the SQLite store: migrations run in order in one transaction,
 * under a transaction-level advisory lock so that two hosts opening a new
 * store at once do not both build it. A schema that holds other tables
 * is refused and never written.
 *
 * Locks: the volume locks are session advisory locks, so that hosts
 * sharing the store never run conflicting operations on one volume, and
 * a host that dies lets its locks go with its session.
 *
 * Statements are prepared once per server session. A session lost
 * between transactions is made again, and the statement that met it runs
 * again (each one is idempotent); a session lost inside a transaction
 * fails it (the server rolled back what was not committed) and the next
 * operation reconnects.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libpq-fe.h>

#include "cinderlib/persistence.h"

#define DEFAULT_SCHEMA "cinderlib"
#define DEFAULT_CONNECT_TIMEOUT "10"
#define SCHEMA_NAME_MAX 63
#define PASSWORD_MAX 1024
/* Distinct statements prepared per session (the library uses about 20). */
#define STMT_CACHE_SIZE 48

struct pg_store {
	PGconn *conn;
	char *schema;
	char where[256];	/* user@host:port/db, for messages */
	int depth;		/* nested begin() calls */
	int locks_held;		/* advisory locks of this session */
	int nr_prepared;
	char *prepared[STMT_CACHE_SIZE];	/* SQL of statement "s<i>" */
};

/* Schema migrations: index i takes the schema from version i to i + 1. */
static const char *const migrations[] = {
	/* 1: the tables; byte order, as the other stores sort */
	"CREATE TABLE %1$s.volumes (id text COLLATE \"C\" PRIMARY KEY,"
	"  name text COLLATE \"C\", backend text COLLATE \"C\", status text,"
	"  json text NOT NULL);"
	"CREATE TABLE %1$s.snapshots (id text COLLATE \"C\" PRIMARY KEY,"
	"  name text COLLATE \"C\", backend text COLLATE \"C\","
	"  volume_id text COLLATE \"C\", status text, json text NOT NULL);"
	"CREATE TABLE %1$s.connections (id text COLLATE \"C\" PRIMARY KEY,"
	"  backend text COLLATE \"C\", volume_id text COLLATE \"C\","
	"  json text NOT NULL);"
	"CREATE TABLE %1$s.key_values (key text COLLATE \"C\" PRIMARY KEY,"
	"  value text NOT NULL);",
	/* 2: indexes for the filtered lookups */
	"CREATE INDEX volumes_backend ON %1$s.volumes (backend);"
	"CREATE INDEX volumes_name ON %1$s.volumes (name);"
	"CREATE INDEX snapshots_volume ON %1$s.snapshots (volume_id);"
	"CREATE INDEX connections_volume ON %1$s.connections (volume_id);",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int nomem(struct cl_error *err)
{
	return cl_error_set(err, -ENOMEM, "out of memory");
}

/* The last error's message, on one line. */
static const char *server_message(struct pg_store *s, const PGresult *res)
{
	static _Thread_local char msg[512];
	const char *m = res ? PQresultErrorMessage(res) : "";
	size_t len;

	if (!m || !*m)
		m = PQerrorMessage(s->conn);
	snprintf(msg, sizeof(msg), "%s", m && *m ? m : "unknown error");
	len = strlen(msg);
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return msg;
}

/* An errno for an SQLSTATE (NULL: no answer from the server). */
static int sqlstate_errno(const char *state)
{
	if (!state)
		return -ENOTCONN;
	if (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3))
		return -ENOTCONN;	/* connection gone, server shutting down */
	if (!strncmp(state, "40", 2) || !strcmp(state, "55P03"))
		return -EAGAIN;		/* serialization failure, lock timeout */
	if (!strcmp(state, "53100"))
		return -ENOSPC;
	if (!strncmp(state, "28", 2) || !strcmp(state, "42501"))
		return -EACCES;
	if (!strcmp(state, "25006"))
		return -EROFS;		/* read-only transaction (a standby) */
	return -EIO;
}

static int db_error(struct pg_store *s, const PGresult *res, const char *what,
		    struct cl_error *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) :
			    NULL;
	int ret = sqlstate_errno(state);

	if (PQstatus(s->conn) != CONNECTION_OK || ret == -ENOTCONN)
		return cl_error_set(err, -ENOTCONN,
				    "store postgresql %s: lost the connection to the server during %s (%s); "
				    "nothing of this operation was committed, the next one reconnects",
				    s->where, what, server_message(s, res));
	return cl_error_set(err, ret, "store postgresql %s: %s: %s", s->where,
			    what, server_message(s, res));
}

static void forget_prepared(struct pg_store *s)
{
	for (int i = 0; i < s->nr_prepared; i++)
		free(s->prepared[i]);
	s->nr_prepared = 0;
}

/*
 * Outside a transaction, a connection that broke is made again: the
 * operation after a server restart works. Inside one, the transaction is
 * lost with its session; its operations fail until the rollback.
 */
static int ensure_connected(struct pg_store *s, struct cl_error *err)
{
	if (PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	/* The server let the locks go with the session: do not go on. */
	if (s->locks_held > 0)
		return cl_error_set(err, -ENOTCONN,
				    "store postgresql %s: the session holding this operation's locks was lost "
				    "(another host may hold them now); the operation stops, run it again",
				    s->where);
	if (s->depth > 0)
		return cl_error_set(err, -ENOTCONN,
				    "store postgresql %s: the connection was lost in the middle of a transaction; "
				    "nothing of it was committed", s->where);
	forget_prepared(s);
	PQreset(s->conn);
	if (PQstatus(s->conn) != CONNECTION_OK)
		return cl_error_set(err, -ENOTCONN,
				    "store postgresql %s: cannot reconnect to the server: %s",
				    s->where, server_message(s, NULL));
	return 0;
}

/* The name of the statement prepared for @sql ("" when it cannot be). */
static const char *statement(struct pg_store *s, const char *sql, int nparams,
			     char name[16], struct cl_error *err, int *ret)
{
	PGresult *res;
	int i;

	*ret = 0;
	for (i = 0; i < s->nr_prepared; i++)
		if (strcmp(s->prepared[i], sql) == 0)
			goto found;
	if (s->nr_prepared == STMT_CACHE_SIZE)
		return "";	/* unnamed: prepared again each time */
	s->prepared[i] = strdup(sql);
	if (!s->prepared[i]) {
		*ret = nomem(err);
		return NULL;
	}
	snprintf(name, 16, "s%d", i);
	res = PQprepare(s->conn, name, sql, nparams, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		*ret = db_error(s, res, "prepare", err);
		PQclear(res);
		free(s->prepared[i]);
		return NULL;
	}
	PQclear(res);
	s->nr_prepared++;
found:
	snprintf(name, 16, "s%d", i);
	return name;
}

/*
 * Run @sql with @vals (NULL = SQL NULL) as a prepared statement. On
 * success *@out (when given; else cleared here) is the result, of status
 * @want, for the caller to clear.
 */
static int run(struct pg_store *s, const char *sql, int n,
	       const char *const *vals, ExecStatusType want, const char *what,
	       PGresult **out, struct cl_error *err)
{
	char buf[16];
	const char *name;
	PGresult *res;
	int ret;

	/*
	 * Outside a transaction every statement here is idempotent (a
	 * select, an upsert or a delete of one row by id): one that met a
	 * dead session (the server restarted) is run again on a new one.
	 */
	for (int attempt = 0;; attempt++) {
		bool idle = s->depth == 0;

		ret = ensure_connected(s, err);
		if (ret)
			return ret;
		name = statement(s, sql, n, buf, err, &ret);
		if (name && *name)
			res = PQexecPrepared(s->conn, name, n, vals, NULL, NULL, 0);
		else if (name)
			res = PQexecParams(s->conn, sql, n, NULL, vals, NULL,
					   NULL, 0);
		else
			res = NULL;
		if (res && PQresultStatus(res) == want)
			break;
		/* Not a COMMIT: its transaction died with the session. */
		if (idle && attempt == 0 && PQstatus(s->conn) != CONNECTION_OK &&
		    strcmp(sql, "COMMIT")) {
			PQclear(res);
			continue;
		}
		if (res)
			ret = db_error(s, res, what, err);
		PQclear(res);
		return ret;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return 0;
}

static int run_command(struct pg_store *s, const char *sql, int n,
		       const char *const *vals, const char *what,
		       struct cl_error *err)
{
	return run(s, sql, n, vals, PGRES_COMMAND_OK, what, NULL, err);
}

/* Unprepared, several statements at once (migrations). */
static int exec_script(struct pg_store *s, const char *sql, const char *what,
		       struct cl_error *err)
{
	PGresult *res = PQexec(s->conn, sql);
	int ret = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		ret = db_error(s, res, what, err);
	PQclear(res);
	return ret;
}

static int pg_begin(void *store, struct cl_error *err)
{
	struct pg_store *s = store;
	int ret = 0;

	if (s->depth == 0)
		ret = run_command(s, "BEGIN", 0, NULL, "begin", err);
	if (!ret)
		s->depth++;
	return ret;
}

static int pg_commit(void *store, struct cl_error *err)
{
	struct pg_store *s = store;
	int ret;

	if (s->depth == 0 || --s->depth > 0)
		return 0;
	ret = run_command(s, "COMMIT", 0, NULL, "commit", err);
	if (ret == -ENOTCONN)
		/* The answer was lost: say that the outcome is not known. */
		return cl_error_set(err, ret,
				    "store postgresql %s: the connection was lost while committing; "
				    "the change may or may not have been saved", s->where);
	return ret;
}

static void pg_rollback(void *store)
{
	struct pg_store *s = store;
	PGresult *res;

	if (s->depth == 0)
		return;
	s->depth = 0;
	if (PQstatus(s->conn) == CONNECTION_OK) {
		res = PQexec(s->conn, "ROLLBACK");
		PQclear(res);
	}
}

/* ---- opening: connection, schema check, migrations ---- */

static bool valid_schema_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > SCHEMA_NAME_MAX ||
	    !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '_' ||
		      (name[i] >= '0' && name[i] <= '9')))
			return false;
	return strncmp(name, "pg_", 3) != 0;
}

/*
 * The password of @path: its first line. Like libpq's password file, it
 * must not be readable by others.
 */
static int read_password(const char *path, char *pw, size_t len,
			 struct cl_error *err)
{
	struct stat st;
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return cl_error_set(err, -errno,
				    "postgresql store: cannot read persistence_password_file %s: %m",
				    path);
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
		fclose(f);
		return cl_error_set(err, -EACCES,
				    "postgresql store: persistence_password_file %s can be read by others: chmod 600 it",
				    path);
	}
	if (!fgets(pw, (int)len, f))
		pw[0] = '\0';
	fclose(f);
	n = strcspn(pw, "\r\n");
	pw[n] = '\0';
	if (!n)
		return cl_error_set(err, -EINVAL,
				    "postgresql store: persistence_password_file %s is empty",
				    path);
	return 0;
}

/* A password in the connection string itself is refused: it leaks. */
static int check_conninfo(const char *conninfo, struct cl_error *err)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
	int ret = 0;

	if (!opts) {
		ret = cl_error_set(err, -EINVAL,
				   "postgresql store: bad persistence_connection: %s",
				   msg ? msg : "out of memory");
		PQfreemem(msg);
		return ret;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && *o->val)
			ret = cl_error_set(err, -EINVAL,
					   "postgresql store: persistence_connection carries a password: "
					   "put it in persistence_password_file (mode 600) or a PGPASSFILE instead");
	PQconninfoFree(opts);
	return ret;
}

static void describe(struct pg_store *s)
{
	const char *user = PQuser(s->conn), *host = PQhost(s->conn);
	const char *port = PQport(s->conn), *db = PQdb(s->conn);

	snprintf(s->where, sizeof(s->where), "%s@%s:%s/%s (schema %s)",
		 user ? user : "?", host ? host : "?", port ? port : "?",
		 db ? db : "?", s->schema);
}

static int connect_server(struct pg_store *s, const struct cl_dict *options,
			  struct cl_error *err)
{
	const char *conninfo = cl_dict_get(options, "connection");
	const char *pwfile = cl_dict_get(options, "password_file");
	const char *timeout = cl_dict_get(options, "connect_timeout");
	const char *keys[5], *vals[5];
	char pw[PASSWORD_MAX];
	int n = 0, ret;

	if (!conninfo || !*conninfo)
		return cl_error_set(err, -EINVAL,
				    "postgresql store: no persistence_connection given "
				    "(a postgresql:// URL or a libpq conninfo)");
	ret = check_conninfo(conninfo, err);
	if (ret)
		return ret;
	keys[n] = "dbname";	/* expanded: the whole connection string */
	vals[n++] = conninfo;
	keys[n] = "connect_timeout";
	vals[n++] = timeout && *timeout ? timeout : DEFAULT_CONNECT_TIMEOUT;
	keys[n] = "application_name";
	vals[n++] = "cinderlib";
	if (pwfile && *pwfile) {
		ret = read_password(pwfile, pw, sizeof(pw), err);
		if (ret)
			return ret;
		keys[n] = "password";
		vals[n++] = pw;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	s->conn = PQconnectdbParams(keys, vals, 1);
	memset(pw, 0, sizeof(pw));
	if (!s->conn)
		return nomem(err);
	describe(s);
	if (PQstatus(s->conn) != CONNECTION_OK)
		return cl_error_set(err, -ECONNREFUSED,
				    "store postgresql %s: cannot connect: %s",
				    s->where, server_message(s, NULL));
	return 0;
}

/* Integer of the single-row, single-column result of @sql, -1 if none. */
static int query_int(struct pg_store *s, const char *sql, int n,
		     const char *const *vals, int *out, struct cl_error *err)
{
	PGresult *res = PQexecParams(s->conn, sql, n, NULL, vals, NULL, NULL, 0);
	int ret = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		ret = db_error(s, res, "schema check", err);
	else
		*out = PQntuples(res) ? atoi(PQgetvalue(res, 0, 0)) : -1;
	PQclear(res);
	return ret;
}

/*
 * Inside the migration transaction: the schema's version, 0 for a schema
 * to create. Refuses a schema that is someone else's.
 */
static int schema_state(struct pg_store *s, bool create, int *version,
			struct cl_error *err)
{
	const char *vals[1] = { s->schema };
	char sql[256];
	int found, others, ret;

	ret = query_int(s, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
			" WHERE n.nspname = $1 AND c.relname = 'cinderlib_store'",
			1, vals, &found, err);
	if (ret)
		return ret;
	if (found > 0) {
		snprintf(sql, sizeof(sql),
			 "SELECT version FROM %s.cinderlib_store", s->schema);
		ret = query_int(s, sql, 0, NULL, version, err);
		if (!ret && *version < 0)
			*version = 0;
		return ret;
	}
	ret = query_int(s, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
			" WHERE n.nspname = $1", 1, vals, &others, err);
	if (ret)
		return ret;
	if (others > 0)
		return cl_error_set(err, -EBADMSG,
				    "store postgresql %s: schema %s holds tables that are not a cinderlib store; "
				    "left untouched (set persistence_schema to another name)",
				    s->where, s->schema);
	if (!create)
		return cl_error_set(err, -ENOENT,
				    "store postgresql %s: no cinderlib store in schema %s",
				    s->where, s->schema);
	*version = -1;
	return 0;
}

/*
 * The 64-bit advisory lock key of @a, @b, @c (FNV-1a, each part ended by
 * 0xff), as SQL text. Keys of distinct objects may collide: then two
 * operations that could have run side by side wait for each other.
 */
static void lock_key(const char *a, const char *b, const char *c,
		     char out[24])
{
	const char *parts[3] = { a, b, c };
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < 3; i++) {
		for (const char *p = parts[i]; p && *p; p++) {
			h ^= (unsigned char)*p;
			h *= 0x100000001b3ULL;
		}
		h ^= 0xff;	/* a separator no text holds */
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 24, "%lld", (long long)h);
}

static int migrate(struct pg_store *s, bool create, struct cl_error *err)
{
	char key[24], *sql = NULL;
	const char *vals[1] = { key };
	int version = 0, ret;
	PGresult *res;

	lock_key(s->schema, "migrate", NULL, key);
	ret = exec_script(s, "BEGIN", "begin", err);
	if (ret)
		return ret;
	/* Whoever opens a new store at the same time waits here. */
	res = PQexecParams(s->conn, "SELECT pg_advisory_xact_lock($1::bigint)",
			   1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		ret = db_error(s, res, "migration lock", err);
	PQclear(res);
	if (!ret)
		ret = schema_state(s, create, &version, err);
	if (!ret && version > SCHEMA_VERSION)
		ret = cl_error_set(err, -EPROTO,
				   "store postgresql %s has schema version %d, newer than this cinderlib's %d: "
				   "upgrade cinderlib", s->where, version,
				   SCHEMA_VERSION);
	if (!ret && version < 0) {
		if (asprintf(&sql, "CREATE SCHEMA IF NOT EXISTS %1$s;"
			     "CREATE TABLE %1$s.cinderlib_store (version integer NOT NULL);"
			     "INSERT INTO %1$s.cinderlib_store VALUES (0);",
			     s->schema) < 0)
			ret = nomem(err);
		else
			ret = exec_script(s, sql, "create schema", err);
		free(sql);
		version = 0;
	}
	for (; !ret && version < SCHEMA_VERSION; version++) {
		if (asprintf(&sql, migrations[version], s->schema) < 0 ||
		    (ret = exec_script(s, sql, "migration", err)) != 0) {
			ret = ret ? ret : nomem(err);
			free(sql);
			break;
		}
		free(sql);
		if (asprintf(&sql, "UPDATE %s.cinderlib_store SET version = %d",
			     s->schema, version + 1) < 0)
			ret = nomem(err);
		else
			ret = exec_script(s, sql, "migration", err);
		free(sql);
	}
	if (ret) {
		res = PQexec(s->conn, "ROLLBACK");
		PQclear(res);
		return ret;
	}
	return exec_script(s, "COMMIT", "migration commit", err);
}

static void pg_close(void *store)
{
	struct pg_store *s = store;

	if (!s)
		return;
	forget_prepared(s);
	PQfinish(s->conn);
	free(s->schema);
	free(s);
}

static int pg_open(const struct cl_dict *options, void **store,
		   struct cl_error *err)
{
	const char *schema = cl_dict_get(options, "schema");
	const char *create_opt = cl_dict_get(options, "create");
	bool create = create_opt && strcmp(create_opt, "true") == 0;
	struct pg_store *s;
	int ret;

	if (!schema || !*schema)
		schema = DEFAULT_SCHEMA;
	if (!valid_schema_name(schema))
		return cl_error_set(err, -EINVAL,
				    "postgresql store: persistence_schema '%s' is not a plain lower-case name "
				    "(a-z, 0-9, _; at most %d characters; not pg_*)",
				    schema, SCHEMA_NAME_MAX);
	for (size_t i = 0; i < options->count; i++) {
		static const char *const known[] = {
			"connection", "password_file", "schema",
			"connect_timeout", "create", "path",
		};
		bool ok = false;

		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			ok |= strcmp(options->entries[i].key, known[k]) == 0;
		if (!ok)
			return cl_error_set(err, -EINVAL,
					    "postgresql store: unknown option persistence_%s "
					    "(known: persistence_connection, persistence_password_file, "
					    "persistence_schema, persistence_connect_timeout)",
					    options->entries[i].key);
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->schema = strdup(schema))) {
		free(s);
		return nomem(err);
	}
	ret = connect_server(s, options, err);
	if (!ret)
		ret = migrate(s, create, err);
	if (ret) {
		pg_close(s);
		return ret;
	}
	*store = s;
	return 0;
}

/* ---- objects ---- */

enum { F_ID = 1, F_NAME = 2, F_BACKEND = 4, F_VOLUME = 8 };

/*
 * "SELECT json FROM table WHERE ... ORDER BY id": one statement per table
 * and set of filter fields, so that each plan can use its index.
 */
static int select_rows(struct pg_store *s, const char *table,
		       const struct cl_filter *f, bool has_name, bool has_volume,
		       PGresult **res, struct cl_error *err)
{
	static const char *const cols[] = { "id", "name", "backend",
					    "volume_id" };
	const char *vals[4];
	char sql[512];
	size_t len;
	int n = 0;

	len = (size_t)snprintf(sql, sizeof(sql), "SELECT json FROM %s.%s",
			       s->schema, table);
	if (f) {
		const char *fields[4] = { f->id, has_name ? f->name : NULL,
					  f->backend,
					  has_volume ? f->volume_id : NULL };

		for (int i = 0; i < 4; i++) {
			if (!fields[i])
				continue;
			vals[n++] = fields[i];
			len += (size_t)snprintf(sql + len, sizeof(sql) - len,
						"%s %s = $%d",
						n == 1 ? " WHERE" : " AND",
						cols[i], n);
		}
	}
	snprintf(sql + len, sizeof(sql) - len, " ORDER BY id");
	return run(s, sql, n, vals, PGRES_TUPLES_OK, "select", res, err);
}

#define DEFINE_GET(type, plural, has_name, has_volume)			\
static int pg_get_##plural(void *store, const struct cl_filter *f,	\
			   struct cl_##type##_list *out,		\
			   struct cl_error *err)			\
{									\
	struct pg_store *s = store;					\
	PGresult *res;							\
	int ret = 0;							\
									\
	if (f && f->name && !(has_name))				\
		return 0;	/* nothing here has a name */		\
	ret = select_rows(s, #plural, f, has_name, has_volume, &res, err); \
	if (ret)							\
		return ret;						\
	for (int i = 0; !ret && i < PQntuples(res); i++) {		\
		struct cl_##type *obj;					\
									\
		ret = cl_##type##_from_json(PQgetvalue(res, i, 0), &obj, err); \
		if (ret) {						\
			char msg[CL_ERROR_MSG_MAX];			\
									\
			snprintf(msg, sizeof(msg), "%s", err ? err->msg : ""); \
			ret = cl_error_set(err, -EBADMSG,		\
					   "store postgresql %s: corrupt row in " #plural ": %s", \
					   s->where, msg);		\
		} else if (cl_##type##_list_append(out, obj)) {		\
			cl_##type##_free(obj);				\
			ret = nomem(err);				\
		}							\
	}								\
	PQclear(res);							\
	return ret;							\
}

DEFINE_GET(volume, volumes, true, false)
DEFINE_GET(snapshot, snapshots, true, true)
DEFINE_GET(connection, connections, false, true)

static int upsert(struct pg_store *s, const char *sql_fmt, int n,
		  const char *const *vals, struct cl_error *err)
{
	char sql[512];

	snprintf(sql, sizeof(sql), sql_fmt, s->schema);
	return run_command(s, sql, n, vals, "write", err);
}

static int pg_set_volume(void *store, const struct cl_volume *v,
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
	ret = upsert(store,
		     "INSERT INTO %s.volumes (id, name, backend, status, json)"
		     " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET"
		     " name = EXCLUDED.name, backend = EXCLUDED.backend,"
		     " status = EXCLUDED.status, json = EXCLUDED.json",
		     5, vals, err);
	free(json);
	return ret;
}

static int pg_set_snapshot(void *store, const struct cl_snapshot *sn,
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
	ret = upsert(store,
		     "INSERT INTO %s.snapshots (id, name, backend, volume_id, status, json)"
		     " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET"
		     " name = EXCLUDED.name, backend = EXCLUDED.backend,"
		     " volume_id = EXCLUDED.volume_id, status = EXCLUDED.status,"
		     " json = EXCLUDED.json", 6, vals, err);
	free(json);
	return ret;
}

static int pg_set_connection(void *store, const struct cl_connection *c,
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
	ret = upsert(store,
		     "INSERT INTO %s.connections (id, backend, volume_id, json)"
		     " VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET"
		     " backend = EXCLUDED.backend, volume_id = EXCLUDED.volume_id,"
		     " json = EXCLUDED.json", 4, vals, err);
	free(json);
	return ret;
}

static int delete_row(struct pg_store *s, const char *table, const char *key,
		      const char *id, struct cl_error *err)
{
	char sql[256];
	const char *vals[1] = { id };

	snprintf(sql, sizeof(sql), "DELETE FROM %s.%s WHERE %s = $1",
		 s->schema, table, key);
	return run_command(s, sql, 1, vals, "delete", err);
}

static int pg_delete_volume(void *store, const char *id, struct cl_error *err)
{
	return delete_row(store, "volumes", "id", id, err);
}

static int pg_delete_snapshot(void *store, const char *id,
			      struct cl_error *err)
{
	return delete_row(store, "snapshots", "id", id, err);
}

static int pg_delete_connection(void *store, const char *id,
				struct cl_error *err)
{
	return delete_row(store, "connections", "id", id, err);
}

static int pg_get_kvs(void *store, const char *prefix, struct cl_dict *out,
		      struct cl_error *err)
{
	struct pg_store *s = store;
	const char *vals[1] = { prefix ? prefix : "" };
	char sql[256];
	PGresult *res;
	int ret = 0;

	snprintf(sql, sizeof(sql),
		 "SELECT key, value FROM %s.key_values"
		 " WHERE left(key, length($1)) = $1 ORDER BY key", s->schema);
	ret = run(s, sql, 1, vals, PGRES_TUPLES_OK, "select", &res, err);
	if (ret)
		return ret;
	for (int i = 0; !ret && i < PQntuples(res); i++)
		if (cl_dict_set(out, PQgetvalue(res, i, 0),
				PQgetvalue(res, i, 1)))
			ret = nomem(err);
	PQclear(res);
	return ret;
}

static int pg_set_kv(void *store, const char *key, const char *value,
		     struct cl_error *err)
{
	const char *vals[2] = { key, value };

	return upsert(store,
		      "INSERT INTO %s.key_values (key, value) VALUES ($1, $2)"
		      " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
		      2, vals, err);
}

static int pg_delete_kv(void *store, const char *key, struct cl_error *err)
{
	return delete_row(store, "key_values", "key", key, err);
}

/* ---- locks: session advisory locks, released when a session ends ---- */

static int pg_lock(void *store, const char *what, const char *id,
		   struct cl_error *err)
{
	struct pg_store *s = store;
	char key[24];
	const char *vals[1] = { key };
	int ret;

	lock_key(s->schema, what, id, key);
	ret = run(s, "SELECT pg_advisory_lock($1::bigint)", 1, vals,
		  PGRES_TUPLES_OK, "lock", NULL, err);
	if (!ret)
		s->locks_held++;
	return ret;
}

static void pg_unlock(void *store, const char *what, const char *id)
{
	struct pg_store *s = store;
	char key[24];
	const char *vals[1] = { key };
	PGresult *res;

	if (s->locks_held == 0)
		return;
	s->locks_held--;
	if (PQstatus(s->conn) != CONNECTION_OK)
		return;		/* gone with the session */
	lock_key(s->schema, what, id, key);
	res = PQexecParams(s->conn, "SELECT pg_advisory_unlock($1::bigint)", 1,
			   NULL, vals, NULL, NULL, 0);
	PQclear(res);
}

CL_PERSISTENCE_EXPORT const struct cl_persistence_ops cinderlib_persistence = {
	.abi_version = CL_PERSISTENCE_ABI_VERSION,
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.get_volumes = pg_get_volumes,
	.set_volume = pg_set_volume,
	.delete_volume = pg_delete_volume,
	.get_snapshots = pg_get_snapshots,
	.set_snapshot = pg_set_snapshot,
	.delete_snapshot = pg_delete_snapshot,
	.get_connections = pg_get_connections,
	.set_connection = pg_set_connection,
	.delete_connection = pg_delete_connection,
	.get_key_values = pg_get_kvs,
	.set_key_value = pg_set_kv,
	.delete_key_value = pg_delete_kv,
	.lock = pg_lock,
	.unlock = pg_unlock,
};
