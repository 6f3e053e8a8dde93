// SPDX-License-Identifier: Apache-2.0
/*
 * Control-plane throughput of libcinderlib against the bare system calls
 * doing the same file work, in one run on one directory.
 *
 *   controlplane_bench DIR [N] [STORE]
 *
 * DIR gets a state directory (store, locks, file-driver volumes) and a
 * scratch directory for the bare calls. STORE is sqlite (default) or
 * memory. Prints one line per operation: ops/s through the library, ops/s
 * of the bare calls, and their ratio. Built and run by scripts/bench/
 * controlplane.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cinderlib/cinderlib.h"

#define GiB (1024ULL * 1024 * 1024)
#define PATTERN_BYTES (1024 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct cl_error *err)
{
	fprintf(stderr, "controlplane_bench: %s: %s\n", what,
		err && err->msg[0] ? err->msg : strerror(errno));
	exit(1);
}

/* Some data in a volume, so that copies have something to move. */
static void write_pattern(const char *path)
{
	static char buf[PATTERN_BYTES];
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		die(path, NULL);
	memset(buf, 0xa5, sizeof(buf));
	if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    pwrite(fd, buf, sizeof(buf), GiB / 2) != (ssize_t)sizeof(buf))
		die(path, NULL);
	close(fd);
}

/* ---- bare system calls ---------------------------------------------- */

/*
 * With durable set, the bare calls also fsync what they changed (file and
 * directory), as a store of record must: the fair comparison for a
 * library that keeps state across crashes.
 */
static bool durable;

static void sync_dir_of(const char *path)
{
	char dir[4096];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		die(dir, NULL);
	close(fd);
}

static void bare_unlink(const char *path)
{
	if (unlink(path))
		die(path, NULL);
	if (durable)
		sync_dir_of(path);
}

static void bare_create(const char *path)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);

	if (fd < 0 || ftruncate(fd, GiB) || (durable && fsync(fd)) || close(fd))
		die(path, NULL);
	if (durable)
		sync_dir_of(path);
}

/* Reflink when the filesystem has it, else a sparse copy of the data. */
static void bare_copy(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	off_t data, hole = 0;

	if (in < 0 || out < 0)
		die(dst, NULL);
	if (ioctl(out, FICLONE, in) != 0) {
		if (ftruncate(out, GiB))
			die(dst, NULL);
		while ((data = lseek(in, hole, SEEK_DATA)) >= 0) {
			loff_t off_in, off_out;

			hole = lseek(in, data, SEEK_HOLE);
			off_in = off_out = data;
			while (off_in < hole)
				if (copy_file_range(in, &off_in, out, &off_out,
						    hole - off_in, 0) <= 0)
					die(dst, NULL);
		}
	}
	close(in);
	if ((durable && fsync(out)) || close(out))
		die(dst, NULL);
	if (durable)
		sync_dir_of(dst);
}

static double bare_create_delete(const char *dir, int n)
{
	char path[4096];
	double t = now();

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/bare-%d", dir, i);
		bare_create(path);
		bare_unlink(path);
	}
	return n / (now() - t);
}

/* Snapshot create + delete and clone: a copy of one source each time. */
static double bare_copies(const char *dir, int n, bool keep)
{
	char src[4096], path[4096];
	double t, rate;

	snprintf(src, sizeof(src), "%s/bare-src", dir);
	bare_create(src);
	write_pattern(src);
	t = now();
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/bare-copy-%d", dir, i);
		bare_copy(src, path);
		if (!keep)
			bare_unlink(path);
	}
	rate = n / (now() - t);
	for (int i = 0; keep && i < n; i++) {
		snprintf(path, sizeof(path), "%s/bare-copy-%d", dir, i);
		unlink(path);
	}
	unlink(src);
	return rate;
}

/* ---- the library -------------------------------------------------------- */

static double lib_create_delete(struct cl_context *ctx, struct cl_backend *be,
				int n)
{
	struct cl_volume_create_opts opts = { .size = 1 };
	struct cl_error err = { 0 };
	double t = now();

	for (int i = 0; i < n; i++) {
		struct cl_volume *vol;

		if (cl_volume_create(be, &opts, &vol, &err))
			die("volume create", &err);
		if (cl_volume_delete(ctx, vol, &err))
			die("volume delete", &err);
		cl_volume_free(vol);
	}
	return n / (now() - t);
}

static struct cl_volume *lib_source(struct cl_backend *be)
{
	struct cl_volume_create_opts opts = { .size = 1, .name = "bench-src" };
	struct cl_error err = { 0 };
	struct cl_volume *vol;

	if (cl_volume_create(be, &opts, &vol, &err))
		die("volume create", &err);
	if (vol->provider_location && access(vol->provider_location, W_OK) == 0)
		write_pattern(vol->provider_location);
	return vol;
}

static double lib_snapshots(struct cl_context *ctx, struct cl_volume *src, int n)
{
	struct cl_error err = { 0 };
	double t = now();

	for (int i = 0; i < n; i++) {
		struct cl_snapshot *snap;

		if (cl_volume_create_snapshot(ctx, src, NULL, NULL, &snap, &err))
			die("snapshot create", &err);
		if (cl_snapshot_delete(ctx, snap, &err))
			die("snapshot delete", &err);
		cl_snapshot_free(snap);
	}
	return n / (now() - t);
}

static double lib_clones(struct cl_context *ctx, struct cl_volume *src, int n)
{
	struct cl_volume_create_opts opts = { 0 };
	struct cl_volume **clones = calloc((size_t)n, sizeof(*clones));
	struct cl_error err = { 0 };
	double t, rate;

	if (!clones)
		die("calloc", NULL);
	t = now();
	for (int i = 0; i < n; i++)
		if (cl_volume_clone(ctx, src, &opts, &clones[i], &err))
			die("volume clone", &err);
	rate = n / (now() - t);
	for (int i = 0; i < n; i++) {
		if (cl_volume_delete(ctx, clones[i], &err))
			die("volume delete", &err);
		cl_volume_free(clones[i]);
	}
	free(clones);
	return rate;
}

/* Each bare figure: without, then with fsync of what changed. */
static void bare_rates(double (*fn)(const char *, int, bool), const char *dir,
		       int n, bool keep, double *fast, double *synced)
{
	durable = false;
	*fast = fn(dir, n, keep);
	durable = true;
	*synced = fn(dir, n, keep);
	durable = false;
}

static double bare_create_delete_fn(const char *dir, int n, bool unused)
{
	(void)unused;
	return bare_create_delete(dir, n);
}

static void report(const char *op, double lib,
		   double (*fn)(const char *, int, bool), const char *dir,
		   int n, bool keep)
{
	double bare, bare_sync;

	bare_rates(fn, dir, n, keep, &bare, &bare_sync);
	printf("  %-24s %9.1f ops/s  bare %9.1f ops/s  bare+fsync %8.1f ops/s  library/bare %.3f  library/bare+fsync %.3f\n",
	       op, lib, bare, bare_sync, lib / bare, lib / bare_sync);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	int n = argc > 2 ? atoi(argv[2]) : 200;
	const char *store = argc > 3 ? argv[3] : "sqlite";
	char state[4096], scratch[4096];
	struct cl_config *cfg;
	struct cl_context *ctx;
	struct cl_backend *be;
	struct cl_volume *src;
	struct cl_error err = { 0 };

	if (!dir || n <= 0) {
		fprintf(stderr, "usage: controlplane_bench DIR [N] [sqlite|memory]\n");
		return 2;
	}
	snprintf(state, sizeof(state), "%s/state-%s", dir, store);
	snprintf(scratch, sizeof(scratch), "%s/bare", dir);
	if ((mkdir(state, 0700) && errno != EEXIST) ||
	    (mkdir(scratch, 0700) && errno != EEXIST))
		die(dir, NULL);
	if (cl_config_default(state, &cfg, &err))
		die("configuration", &err);
	free(cfg->persistence);
	cfg->persistence = strdup(store);
	if (cl_setup_from_config(cfg, NULL, NULL, &ctx, &err))
		die("setup", &err);
	if (cl_backend_get(ctx, "default", &be, &err))
		die("backend", &err);

	printf("store %s, %d operations each, 1 GiB volumes:\n", store, n);
	report("volume-create+delete", lib_create_delete(ctx, be, n),
	       bare_create_delete_fn, scratch, n, false);
	src = lib_source(be);
	report("snapshot-create+delete", lib_snapshots(ctx, src, n),
	       bare_copies, scratch, n, false);
	report("volume-clone", lib_clones(ctx, src, n), bare_copies, scratch,
	       n, true);
	if (cl_volume_delete(ctx, src, &err))
		die("volume delete", &err);
	cl_volume_free(src);
	cl_context_free(ctx);
	cl_config_free(cfg);
	return 0;
}
