// SPDX-License-Identifier: Apache-2.0
/*
 * The "file" driver: volumes and snapshots as files in one directory per
 * backend. Volumes are sparse files named by id (never by the user's name);
 * snapshots and clones are reflinks (FICLONE) where the filesystem can,
 * sparse-aware copies (SEEK_DATA/SEEK_HOLE + copy_file_range) otherwise.
 * Every new file is written under a temporary name and renamed into place,
 * so a failure or a crash never leaves a half-made volume under its name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cinderlib/driver.h"

#define GIB (1ULL << 30)

struct file_backend {
	char *dir;
	int dirfd;
	bool reflink;
	int reserved_percentage;
	double max_over_subscription_ratio;
};

static const struct cl_driver_option file_options[] = {
	{ "file_volume_dir", CL_OPT_PATH, NULL,
	  "directory holding this backend's volume and snapshot files" },
	{ "file_volume_dir_create", CL_OPT_BOOL, "false",
	  "create file_volume_dir when it does not exist" },
	{ "file_use_reflink", CL_OPT_BOOL, "true",
	  "use reflinks (FICLONE) for snapshots and clones when the filesystem supports them" },
	{ "reserved_percentage", CL_OPT_INT, "0",
	  "percentage of capacity kept free (reported in stats)" },
	{ "max_over_subscription_ratio", CL_OPT_FLOAT, "20.0",
	  "thin provisioning over-subscription ratio (reported in stats)" },
	{ NULL }
};

static int sys_error(struct cl_error *err, const char *what, const char *name)
{
	int e = errno;

	return cl_error_set(err, -e, "%s %s: %s", what, name, strerror(e));
}

static int mkdir_p(const char *path)
{
	char *copy = strdup(path);
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(copy, 0700) < 0 && errno != EEXIST) {
			ret = -errno;
			break;
		}
		*p = saved;
		if (!saved)
			break;
	}
	free(copy);
	return ret;
}

static void file_teardown(void *priv)
{
	struct file_backend *fb = priv;

	if (!fb)
		return;
	if (fb->dirfd >= 0)
		close(fb->dirfd);
	free(fb->dir);
	free(fb);
}

static int file_setup(const struct cl_driver_config *cfg, void **priv,
		      struct cl_error *err)
{
	const char *dir = cl_driver_option_get(cfg, file_options,
					       "file_volume_dir");
	struct file_backend *fb;
	bool create = false;
	struct stat st;
	int ret;

	if (!dir || dir[0] != '/')
		return cl_error_set(err, -EINVAL,
				    "file_volume_dir must be an absolute path");
	fb = calloc(1, sizeof(*fb));
	if (!fb || !(fb->dir = strdup(dir))) {
		free(fb);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	fb->dirfd = -1;
	create = cl_driver_option_bool(cfg, file_options, "file_volume_dir_create");
	fb->reflink = cl_driver_option_bool(cfg, file_options, "file_use_reflink");
	fb->reserved_percentage =
		atoi(cl_driver_option_get(cfg, file_options,
					  "reserved_percentage"));
	fb->max_over_subscription_ratio =
		strtod(cl_driver_option_get(cfg, file_options,
					    "max_over_subscription_ratio"),
		       NULL);
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT || !create) {
			ret = cl_error_set(err, -errno,
					   "backend %s: file_volume_dir %s: %s",
					   cfg->backend_name, dir,
					   strerror(errno));
			goto fail;
		}
		ret = mkdir_p(dir);
		if (ret) {
			cl_error_set(err, ret, "cannot create %s: %s", dir,
				     strerror(-ret));
			goto fail;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		ret = cl_error_set(err, -ENOTDIR,
				   "file_volume_dir %s is not a directory", dir);
		goto fail;
	}
	fb->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fb->dirfd < 0) {
		ret = sys_error(err, "cannot open", dir);
		goto fail;
	}
	if (faccessat(fb->dirfd, ".", W_OK, AT_EACCESS) < 0) {
		ret = sys_error(err, "cannot write to", dir);
		goto fail;
	}
	*priv = fb;
	return 0;
fail:
	file_teardown(fb);
	return ret;
}

static void obj_name(char *buf, size_t len, const char *kind, const char *id)
{
	snprintf(buf, len, "%s-%s", kind, id);
}

static char *full_path(struct file_backend *fb, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", fb->dir, name) < 0)
		return NULL;
	return p;
}

/* A fresh temporary file for @name; a stale one from a crash is replaced. */
static int open_tmp(struct file_backend *fb, const char *name, char *tmp,
		    size_t len, struct cl_error *err)
{
	int fd;

	snprintf(tmp, len, ".tmp-%s", name);
	unlinkat(fb->dirfd, tmp, 0);
	fd = openat(fb->dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return sys_error(err, "cannot create volume file in", fb->dir);
	return fd;
}

/* Rename @tmp to @name (never replacing anything), or remove @tmp. */
static int finish(struct file_backend *fb, int fd, const char *tmp,
		  const char *name, int ret, struct cl_error *err)
{
	if (!ret && fsync(fd) < 0)
		ret = sys_error(err, "cannot sync", name);
	if (close(fd) < 0 && !ret)
		ret = sys_error(err, "cannot write", name);
	if (!ret && renameat2(fb->dirfd, tmp, fb->dirfd, name,
			      RENAME_NOREPLACE) < 0)
		ret = errno == EEXIST ?
		      cl_error_set(err, -EEXIST, "%s/%s already exists",
				   fb->dir, name) :
		      sys_error(err, "cannot rename into", name);
	if (ret)
		unlinkat(fb->dirfd, tmp, 0);
	return ret;
}

static int set_size(int fd, uint64_t gib, const char *name,
		    struct cl_error *err)
{
	if (ftruncate(fd, (off_t)(gib * GIB)) < 0)
		return errno == EFBIG ?
		       cl_error_set(err, -EFBIG,
				    "cannot make %s %llu GiB: file too large",
				    name, (unsigned long long)gib) :
		       sys_error(err, "cannot size", name);
	return 0;
}

static int copy_range(int src, int dst, off_t off, off_t end)
{
	const size_t buf_size = 1 << 20;
	char *buf = NULL;
	bool plain = false;
	int ret = 0;

	while (off < end) {
		size_t want = (size_t)(end - off);
		ssize_t n;

		if (!plain) {
			loff_t in = off, out = off;

			n = copy_file_range(src, &in, dst, &out, want, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL ||
				      errno == ENOSYS || errno == EOPNOTSUPP)) {
				plain = true;
				continue;
			}
		} else {
			if (!buf && !(buf = malloc(buf_size)))
				return -ENOMEM;
			if (want > buf_size)
				want = buf_size;
			n = pread(src, buf, want, off);
			if (n > 0 && pwrite(dst, buf, (size_t)n, off) != n)
				n = -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		off += n;
	}
	free(buf);
	return ret;
}

/* Copy @src into the empty @dst: reflink, else only the data extents. */
static int copy_file(struct file_backend *fb, int src, int dst,
		     const char *what, struct cl_error *err)
{
	struct stat st;
	off_t off = 0;
	int ret;

	if (fstat(src, &st) < 0)
		return sys_error(err, "cannot stat", what);
	if (fb->reflink && ioctl(dst, FICLONE, src) == 0)
		return 0;
	if (ftruncate(dst, st.st_size) < 0)
		return sys_error(err, "cannot size copy of", what);
	while (off < st.st_size) {
		off_t data = lseek(src, off, SEEK_DATA), hole;

		if (data < 0) {
			if (errno == ENXIO)
				break;
			return sys_error(err, "cannot read", what);
		}
		hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0)
			return sys_error(err, "cannot read", what);
		ret = copy_range(src, dst, data, hole);
		if (ret) {
			errno = -ret;
			return sys_error(err, "cannot copy", what);
		}
		off = hole;
	}
	return 0;
}

static int set_location(struct file_backend *fb, const char *name,
			struct cl_model_update *upd, struct cl_error *err)
{
	upd->provider_location = full_path(fb, name);
	if (!upd->provider_location)
		return cl_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int file_create_volume(void *priv, const struct cl_volume *vol,
			      struct cl_model_update *upd,
			      struct cl_error *err)
{
	struct file_backend *fb = priv;
	char name[64], tmp[80];
	int fd, ret;

	obj_name(name, sizeof(name), "volume", vol->id);
	fd = open_tmp(fb, name, tmp, sizeof(tmp), err);
	if (fd < 0)
		return fd;
	ret = set_size(fd, vol->size, name, err);
	ret = finish(fb, fd, tmp, name, ret, err);
	return ret ? ret : set_location(fb, name, upd, err);
}

/* New volume @vol from the file @src_name, grown to vol->size. */
static int create_from_file(struct file_backend *fb,
			    const struct cl_volume *vol, const char *src_name,
			    struct cl_model_update *upd, struct cl_error *err)
{
	char name[64], tmp[80];
	int src, fd, ret;

	src = openat(fb->dirfd, src_name, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return sys_error(err, "cannot open", src_name);
	obj_name(name, sizeof(name), "volume", vol->id);
	fd = open_tmp(fb, name, tmp, sizeof(tmp), err);
	if (fd < 0) {
		close(src);
		return fd;
	}
	ret = copy_file(fb, src, fd, src_name, err);
	close(src);
	if (!ret)
		ret = set_size(fd, vol->size, name, err);
	if (!ret && fchmod(fd, 0600) < 0)
		ret = sys_error(err, "cannot chmod", name);
	ret = finish(fb, fd, tmp, name, ret, err);
	return ret ? ret : set_location(fb, name, upd, err);
}

static int file_create_cloned_volume(void *priv, const struct cl_volume *vol,
				     const struct cl_volume *src,
				     struct cl_model_update *upd,
				     struct cl_error *err)
{
	char src_name[64];

	obj_name(src_name, sizeof(src_name), "volume", src->id);
	return create_from_file(priv, vol, src_name, upd, err);
}

static int file_create_volume_from_snapshot(void *priv,
					    const struct cl_volume *vol,
					    const struct cl_snapshot *snap,
					    struct cl_model_update *upd,
					    struct cl_error *err)
{
	char src_name[64];

	obj_name(src_name, sizeof(src_name), "snapshot", snap->id);
	return create_from_file(priv, vol, src_name, upd, err);
}

static int file_create_snapshot(void *priv, const struct cl_snapshot *snap,
				const struct cl_volume *vol,
				struct cl_model_update *upd,
				struct cl_error *err)
{
	struct file_backend *fb = priv;
	char name[64], tmp[80], src_name[64];
	int src, fd, ret;

	obj_name(src_name, sizeof(src_name), "volume", vol->id);
	src = openat(fb->dirfd, src_name, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return sys_error(err, "cannot open", src_name);
	obj_name(name, sizeof(name), "snapshot", snap->id);
	fd = open_tmp(fb, name, tmp, sizeof(tmp), err);
	if (fd < 0) {
		close(src);
		return fd;
	}
	ret = copy_file(fb, src, fd, src_name, err);
	close(src);
	/* Snapshots are read-only images. */
	if (!ret && fchmod(fd, 0444) < 0)
		ret = sys_error(err, "cannot chmod", name);
	ret = finish(fb, fd, tmp, name, ret, err);
	return ret ? ret : set_location(fb, name, upd, err);
}

static int remove_file(struct file_backend *fb, const char *kind,
		       const char *id, struct cl_error *err)
{
	char name[64], tmp[80];

	obj_name(name, sizeof(name), kind, id);
	snprintf(tmp, sizeof(tmp), ".tmp-%s", name);
	unlinkat(fb->dirfd, tmp, 0);	/* left by a crash, if any */
	if (unlinkat(fb->dirfd, name, 0) < 0 && errno != ENOENT)
		return sys_error(err, "cannot remove", name);
	return 0;
}

static int file_delete_volume(void *priv, const struct cl_volume *vol,
			      struct cl_error *err)
{
	return remove_file(priv, "volume", vol->id, err);
}

static int file_delete_snapshot(void *priv, const struct cl_snapshot *snap,
				struct cl_error *err)
{
	return remove_file(priv, "snapshot", snap->id, err);
}

static int file_extend_volume(void *priv, const struct cl_volume *vol,
			      uint64_t new_size, struct cl_error *err)
{
	struct file_backend *fb = priv;
	char name[64];
	struct stat st;
	int fd, ret;

	obj_name(name, sizeof(name), "volume", vol->id);
	fd = openat(fb->dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sys_error(err, "cannot open", name);
	if (fstat(fd, &st) < 0) {
		ret = sys_error(err, "cannot stat", name);
	} else if ((uint64_t)st.st_size > new_size * GIB) {
		ret = cl_error_set(err, -EINVAL,
				   "%s is larger than %llu GiB already", name,
				   (unsigned long long)new_size);
	} else {
		ret = set_size(fd, new_size, name, err);
	}
	close(fd);
	return ret;
}

static int file_get_stats(void *priv, struct cl_backend_stats *stats,
			  struct cl_error *err)
{
	struct file_backend *fb = priv;
	struct cl_pool_stats *pool;
	struct statvfs vfs;
	struct dirent *de;
	uint64_t provisioned = 0, allocated = 0, nr = 0;
	DIR *d;
	int fd;

	if (fstatvfs(fb->dirfd, &vfs) < 0)
		return sys_error(err, "cannot statvfs", fb->dir);
	fd = openat(fb->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sys_error(err, "cannot list", fb->dir);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return sys_error(err, "cannot list", fb->dir);
	}
	while ((de = readdir(d))) {
		bool vol = strncmp(de->d_name, "volume-", 7) == 0;
		struct stat st;

		if (!vol && strncmp(de->d_name, "snapshot-", 9) != 0)
			continue;
		if (fstatat(fb->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		allocated += (uint64_t)st.st_blocks * 512;
		if (vol) {
			provisioned += (uint64_t)st.st_size;
			nr++;
		}
	}
	closedir(d);
	pool = calloc(1, sizeof(*pool));
	if (!pool || !(pool->pool_name = strdup("default"))) {
		free(pool);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	pool->total_capacity_gb = (double)vfs.f_blocks * vfs.f_frsize / GIB;
	pool->free_capacity_gb = (double)vfs.f_bavail * vfs.f_frsize / GIB;
	pool->provisioned_capacity_gb = (double)provisioned / GIB;
	pool->allocated_capacity_gb = (double)allocated / GIB;
	pool->max_over_subscription_ratio = fb->max_over_subscription_ratio;
	pool->reserved_percentage = fb->reserved_percentage;
	pool->thin_provisioning_support = true;
	pool->thick_provisioning_support = false;
	pool->total_volumes = nr;
	stats->pools = pool;
	stats->nr_pools = 1;
	return 0;
}

static int file_initialize_connection(void *priv, const struct cl_volume *vol,
				      const struct cl_dict *connector,
				      struct cl_connection_info *info,
				      struct cl_error *err)
{
	struct file_backend *fb = priv;
	char name[64], *path;
	int ret;

	obj_name(name, sizeof(name), "volume", vol->id);
	if (faccessat(fb->dirfd, name, F_OK, 0) < 0)
		return sys_error(err, "no volume file", name);
	path = full_path(fb, name);
	info->driver_volume_type = strdup("file");
	if (!path || !info->driver_volume_type) {
		free(path);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	ret = cl_dict_set(&info->data, "path", path);
	if (!ret)
		ret = cl_dict_set(&info->data, "format", "raw");
	free(path);
	return ret ? cl_error_set(err, ret, "out of memory") : 0;
}

static int file_terminate_connection(void *priv, const struct cl_volume *vol,
				     const struct cl_dict *connector,
				     struct cl_error *err)
{
	return 0;	/* a local file has nothing to unexport */
}

CL_DRIVER_EXPORT const struct cl_driver_ops cinderlib_driver = {
	.abi_version = CL_DRIVER_ABI_VERSION,
	.name = "file",
	.version = "1.0.0",
	.description = "Volumes as sparse files in a directory (reflink snapshots)",
	.vendor_name = "cinderlib",
	.storage_protocol = "file",
	.options = file_options,
	.setup = file_setup,
	.teardown = file_teardown,
	.get_stats = file_get_stats,
	.create_volume = file_create_volume,
	.delete_volume = file_delete_volume,
	.create_snapshot = file_create_snapshot,
	.delete_snapshot = file_delete_snapshot,
	.create_volume_from_snapshot = file_create_volume_from_snapshot,
	.create_cloned_volume = file_create_cloned_volume,
	.extend_volume = file_extend_volume,
	.initialize_connection = file_initialize_connection,
	.terminate_connection = file_terminate_connection,
};
