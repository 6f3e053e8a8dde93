// SPDX-License-Identifier: GPL-2.0
/* Shared helpers of the libcinderlib host tests. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

/* build/tests/host/<test> -> build (NULL when not found). */
static const char *build_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;
	char *slash;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n < 0)
		return NULL;
	dir[n] = '\0';
	for (int i = 0; i < 3; i++) {
		slash = strrchr(dir, '/');
		if (!slash) {
			dir[0] = '\0';
			return NULL;
		}
		*slash = '\0';
	}
	return dir;
}

static const char *store_plugin(const char *name, char *path, size_t len)
{
	const char *build = build_dir();

	if (!build)
		return NULL;
	snprintf(path, len, "%s/persistence/%s.so", build, name);
	return access(path, R_OK) == 0 ? path : NULL;
}

const char *jsonfile_plugin(void)
{
	static char path[PATH_MAX + 32];
	const char *env = getenv("CINDERLIB_TEST_STORE_PLUGIN");

	if (env)
		return access(env, R_OK) == 0 ? env : NULL;
	return store_plugin("jsonfile", path, sizeof(path));
}

const char *postgresql_plugin(void)
{
	static char path[PATH_MAX + 32];

	return store_plugin("postgresql", path, sizeof(path));
}

static char pg_server_dir[64];
static char pg_server_script[PATH_MAX + 64];
static pid_t pg_server_owner;	/* only the starter stops it */

static void pg_test_server_stop(void)
{
	char cmd[PATH_MAX * 2];

	if (!pg_server_dir[0] || getpid() != pg_server_owner)
		return;
	snprintf(cmd, sizeof(cmd), "bash '%s' stop '%s/s'", pg_server_script,
		 pg_server_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not stop the test PostgreSQL in %s\n",
			pg_server_dir);
	rm_rf(pg_server_dir);
}

int pg_test_server_ctl(const char *action)
{
	char cmd[PATH_MAX * 2];

	if (!pg_server_dir[0])
		return -ENOENT;
	snprintf(cmd, sizeof(cmd), "bash '%s' %s '%s/s'", pg_server_script,
		 action, pg_server_dir);
	return system(cmd) == 0 ? 0 : -EIO;
}

/*
 * One throwaway server for the whole program, stopped when it exits (the
 * harness's test children end with _exit and leave it alone).
 */
void pg_test_server_start(void)
{
	const char *top = getenv("CINDERLIB_TOP");
	char *script = pg_server_script, cmd[PATH_MAX * 2], line[512];
	FILE *p;

	if (getenv("CINDERLIB_TEST_POSTGRESQL") || !postgresql_plugin())
		return;
	if (top && *top)
		snprintf(script, sizeof(pg_server_script),
			 "%s/tests/postgresql/server.sh", top);
	else if (build_dir())
		snprintf(script, sizeof(pg_server_script),
			 "%s/../tests/postgresql/server.sh", build_dir());
	else
		return;
	strcpy(pg_server_dir, "/tmp/cl-pg.XXXXXX");
	if (access(script, R_OK) < 0 || !mkdtemp(pg_server_dir)) {
		pg_server_dir[0] = '\0';
		return;
	}
	pg_server_owner = getpid();
	chmod(pg_server_dir, 0755);	/* the server's user goes through */
	snprintf(cmd, sizeof(cmd), "bash '%s' start '%s/s' 2>&1", script,
		 pg_server_dir);
	p = popen(cmd, "r");
	line[0] = '\0';
	while (p && fgets(line, sizeof(line), p))
		;
	if (!p || pclose(p) != 0) {
		fprintf(stderr, "# no test PostgreSQL server: %s", line);
		rm_rf(pg_server_dir);
		pg_server_dir[0] = '\0';
		return;
	}
	line[strcspn(line, "\n")] = '\0';
	setenv("CINDERLIB_TEST_POSTGRESQL", line, 1);
	atexit(pg_test_server_stop);
}

/* A schema of its own for each test environment. */
static void pg_options(struct tenv *t)
{
	char schema[64];
	const char *suffix = strrchr(t->dir, '.');
	size_t n = 0;

	n += (size_t)snprintf(schema, sizeof(schema), "t%d_", (int)getpid());
	for (const char *c = suffix ? suffix + 1 : ""; *c && n < 40; c++)
		schema[n++] = (*c >= 'A' && *c <= 'Z') ? *c - 'A' + 'a' :
			      ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')) ? *c : '_';
	schema[n] = '\0';
	cl_dict_set(&t->store_options, "connection",
		    getenv("CINDERLIB_TEST_POSTGRESQL"));
	cl_dict_set(&t->store_options, "schema", schema);
}

/* Store settings of @t: memory, sqlite file or a plugin store. */
static void store_options(struct tenv *t, struct cl_setup_options *o)
{
	o->persistence = t->persistence;
	if (strcmp(t->persistence, "sqlite") == 0) {
		o->persistence_path = t->store;
	} else if (strcmp(t->persistence, "jsonfile") == 0) {
		o->persistence = jsonfile_plugin();
		o->persistence_path = t->store;
	} else if (strcmp(t->persistence, "postgresql") == 0) {
		o->persistence = postgresql_plugin();
		o->persistence_options = &t->store_options;
	}
}

int tenv_init(struct tenv *t, const char *persistence)
{
	struct cl_setup_options o = { 0 };

	memset(t, 0, sizeof(*t));
	strcpy(t->dir, "/tmp/cl-test.XXXXXX");
	if (!mkdtemp(t->dir))
		return -errno;
	snprintf(t->voldir, sizeof(t->voldir), "%s/volumes", t->dir);
	snprintf(t->store, sizeof(t->store), "%s/store.%s", t->dir,
		 strcmp(persistence, "jsonfile") ? "sqlite" : "json");
	t->persistence = persistence;
	if (strcmp(persistence, "jsonfile") == 0 && !jsonfile_plugin())
		return -ENOENT;
	if (strcmp(persistence, "postgresql") == 0) {
		if (!postgresql_plugin() || !getenv("CINDERLIB_TEST_POSTGRESQL"))
			return -ENOENT;
		pg_options(t);
	}
	store_options(t, &o);
	o.persistence_create = true;
	o.lock_path = t->dir;
	o.host = "testhost";
	return cl_setup(&o, &t->ctx, &t->err);
}

static void backend_options(struct tenv *t, struct cl_dict *opts)
{
	cl_dict_set(opts, "volume_driver", "file");
	cl_dict_set(opts, "file_volume_dir", t->voldir);
	cl_dict_set(opts, "file_volume_dir_create", "true");
}

int tenv_open_backend(struct tenv *t)
{
	struct cl_dict opts = { 0 };
	int ret;

	backend_options(t, &opts);
	ret = cl_backend_open(t->ctx, "fb", &opts, &t->be, &t->err);
	cl_dict_clear(&opts);
	return ret;
}

int tenv_new_context(struct tenv *t, bool strict, struct cl_context **ctx)
{
	struct cl_setup_options o = { 0 };
	struct cl_dict opts = { 0 };
	int ret;

	store_options(t, &o);
	o.lock_path = t->dir;
	o.host = "testhost";
	o.fail_on_missing_backend = strict;
	ret = cl_setup(&o, ctx, &t->err);
	if (ret)
		return ret;
	backend_options(t, &opts);
	ret = cl_backend_define(*ctx, "fb", &opts, &t->err);
	cl_dict_clear(&opts);
	if (ret)
		cl_context_free(*ctx);
	return ret;
}

void tenv_fini(struct tenv *t)
{
	cl_context_free(t->ctx);
	t->ctx = NULL;
	cl_dict_clear(&t->store_options);
	if (t->dir[0])
		rm_rf(t->dir);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	/* Snapshots are 0444 and a test may have made a dir read-only. */
	if (flag == FTW_DP || flag == FTW_D)
		chmod(path, 0700);
	return remove(path);
}

int rm_rf(const char *path)
{
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int count_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void fill(unsigned char *buf, size_t len, off_t off, unsigned seed)
{
	for (size_t i = 0; i < len; i++) {
		unsigned long long x = (unsigned long long)(off + i) * 2654435761u
				       + seed * 40503u;

		buf[i] = (unsigned char)(x ^ (x >> 13) ^ seed);
	}
}

int write_pattern(const char *path, off_t off, size_t len, unsigned seed)
{
	unsigned char *buf = malloc(len);
	int fd = open(path, O_WRONLY);
	ssize_t n = -1;

	if (buf && fd >= 0) {
		fill(buf, len, off, seed);
		n = pwrite(fd, buf, len, off);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return n == (ssize_t)len ? 0 : -1;
}

int check_pattern(const char *path, off_t off, size_t len, unsigned seed)
{
	unsigned char *want = malloc(len), *got = malloc(len);
	int fd = open(path, O_RDONLY);
	int ret = -1;

	if (want && got && fd >= 0 && pread(fd, got, len, off) == (ssize_t)len) {
		fill(want, len, off, seed);
		ret = memcmp(want, got, len) == 0 ? 0 : -1;
	}
	if (fd >= 0)
		close(fd);
	free(want);
	free(got);
	return ret;
}

int files_equal(const char *a, const char *b)
{
	static char ba[1 << 16], bb[1 << 16];
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
	int ret = -1;

	if (fa < 0 || fb < 0)
		goto out;
	if (file_size(a) != file_size(b)) {
		ret = 0;
		goto out;
	}
	for (;;) {
		ssize_t na = read(fa, ba, sizeof(ba));
		ssize_t nb = read(fb, bb, sizeof(bb));

		if (na < 0 || nb < 0)
			goto out;
		if (na != nb || memcmp(ba, bb, (size_t)na) != 0) {
			ret = 0;
			goto out;
		}
		if (na == 0)
			break;
	}
	ret = 1;
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ret;
}

off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : st.st_size;
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[n] = '\0';
			if (len)
				*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}
