// SPDX-License-Identifier: Apache-2.0
/*
 * Local attach: a connection of this host turned into a cinderblk device
 * by the connector of its driver_volume_type (connect + kernel add), and
 * back (kernel remove + disconnect). The device path is saved in the
 * connection, so that any process can detach it later; a recorded device
 * that is gone (reboot, manual removal) makes the attachment stale until
 * it is reconciled. Extend and snapshot of an attached volume go through
 * here too: live resize, and suspend (with freeze) around the snapshot.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cinderlib/kernel.h"
#include "cl_internal.h"

#define GIB (1ULL << 30)
#define NODE_WAIT_MS 2000

static const char *const device_state_names[] = {
	[CL_DEVICE_NONE] = "connected",
	[CL_DEVICE_PRESENT] = "attached",
	[CL_DEVICE_MISSING] = "stale",
	[CL_DEVICE_REMOTE] = "remote",
};

const char *cl_device_state_name(enum cl_device_state state)
{
	if ((unsigned int)state >= sizeof(device_state_names) /
				   sizeof(device_state_names[0]))
		return "unknown";
	return device_state_names[state];
}

/* "/dev/cbdN" -> N and "cbdN"; -EINVAL when it is not such a path. */
static int device_index(const char *path, uint32_t *index, char *disk,
			size_t len)
{
	const char *base;
	unsigned long v;
	char *end;

	if (!path)
		return -EINVAL;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(base, "cbd", 3) != 0 ||
	    !isdigit((unsigned char)base[3]))
		return -EINVAL;
	errno = 0;
	v = strtoul(base + 3, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*index = (uint32_t)v;
	snprintf(disk, len, "%s", base);
	return 0;
}

/* True when the kernel's /sys/block/@disk carries volume @volume_id. */
static bool device_carries(const char *disk, const char *volume_id)
{
	char path[128], buf[64];
	bool same = false;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/cinderblk/volume_id", disk);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		same = strcasecmp(buf, volume_id) == 0;
	}
	fclose(f);
	return same;
}

/* True when the cbd device @disk reaches its volume over NBD. */
static bool device_over_nbd(const char *disk)
{
	char path[300], buf[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/cinderblk/backing_type",
		 disk);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strcmp(buf, "nbd\n") == 0;
}

/* A cbd device carrying @volume_id, those over NBD left out if @skip_nbd. */
static bool find_device(const char *volume_id, bool skip_nbd, char *disk,
			size_t len)
{
	struct dirent *de;
	bool found = false;
	DIR *d = opendir("/sys/block");

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (strncmp(de->d_name, "cbd", 3) != 0 ||
		    !device_carries(de->d_name, volume_id) ||
		    (skip_nbd && device_over_nbd(de->d_name)))
			continue;
		snprintf(disk, len, "%s", de->d_name);
		found = true;
	}
	closedir(d);
	return found;
}

int cl_local_device_of(const char *volume_id, char *disk, size_t len)
{
	return find_device(volume_id, false, disk, len);
}

static bool on_this_host(struct cl_context *ctx,
			 const struct cl_connection *conn)
{
	return !conn->attached_host || strcmp(conn->attached_host,
					      ctx->host) == 0;
}

enum cl_device_state cl_connection_device_state(struct cl_context *ctx,
						const struct cl_connection *conn)
{
	char disk[64];
	uint32_t index;

	if (!conn->device_path)
		return CL_DEVICE_NONE;
	if (!on_this_host(ctx, conn))
		return CL_DEVICE_REMOTE;
	if (device_index(conn->device_path, &index, disk, sizeof(disk)) ||
	    !device_carries(disk, conn->volume_id))
		return CL_DEVICE_MISSING;
	return CL_DEVICE_PRESENT;
}

/* devtmpfs (or udev) makes the node: wait so that the path works. */
void cl_wait_for_node(const char *path)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct stat st;

	for (int waited = 0; waited < NODE_WAIT_MS; waited += 10) {
		if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
			return;
		nanosleep(&ts, NULL);
	}
}

/* The connector of @conn's type here; NULL with the reason in @err. */
static const struct cl_connector_type *
local_connector_of(const struct cl_connection *conn, struct cl_error *err)
{
	const struct cl_connector_type *type =
		cl_connector_find(conn->driver_volume_type);

	if (!type)
		cl_error_set(err, -EPROTONOSUPPORT,
			     "%s%s%sno local connector for connection type '%s' (supported: file, block, nbd, rbd)",
			     conn->id[0] ? "connection " : "", conn->id,
			     conn->id[0] ? ": " : "",
			     conn->driver_volume_type ?
			     conn->driver_volume_type : "");
	return type;
}

/*
 * The device @type's connector makes of @conn's connection_info, @size
 * bytes (0: what the file, device or export says); its path into @path.
 */
static int connector_device(struct cl_context *ctx, struct cl_kernel *k,
			    const struct cl_connector_type *type,
			    const struct cl_connection *conn, uint64_t size,
			    bool read_only, struct cl_dev_info *info,
			    char *path, size_t len, struct cl_error *err)
{
	struct cl_attach_request req = { 0 };
	int ret;

	req.volume_id = conn->volume_id;
	req.size = size;
	req.read_only = read_only;
	req.data = &conn->connection_data;
	req.nbd_connections = ctx->nbd_connections;
	req.nbd_io_timeout_ms = ctx->nbd_io_timeout_ms;
	req.nbd_dead_timeout_ms = ctx->nbd_dead_timeout_ms;
	ret = type->connect_volume(k, &req, info, err);
	if (ret)
		return ret;
	snprintf(path, len, "/dev/%s", info->disk_name);
	cl_wait_for_node(path);
	return 0;
}

/* Kernel add for @conn through its connector and record the device. */
static int attach_conn(struct cl_context *ctx, struct cl_kernel *k,
		       struct cl_connection *conn, struct cl_error *err)
{
	const struct cl_connector_type *type;
	struct cl_dev_info info = { 0 };
	struct cl_volume *vol = NULL;
	char path[64];
	int ret;

	if (!on_this_host(ctx, conn))
		return cl_error_set(err, -EINVAL,
				    "connection %s is for host %s, this is %s",
				    conn->id, conn->attached_host, ctx->host);
	type = local_connector_of(conn, err);
	if (!type)
		return -EPROTONOSUPPORT;
	ret = cl_store_get_volume(ctx, conn->volume_id, &vol, err);
	if (ret)
		return ret;
	ret = connector_device(ctx, k, type, conn, vol->size * GIB,
			       conn->attach_mode == CL_ATTACH_RO, &info, path,
			       sizeof(path), err);
	cl_volume_free(vol);
	if (ret)
		return ret;
	ret = cl_connection_set_device(ctx, conn, path, err);
	if (ret) {
		struct cl_error ignored;

		cl_kernel_dev_remove(k, info.index, true, &ignored);
		if (type->disconnect_volume)
			type->disconnect_volume(&conn->connection_data,
						&ignored);
		return ret;
	}
	cl_log(ctx, CL_LOG_INFO, "volume %s: attached at %s (%s)",
	       conn->volume_id, path, cl_attach_mode_name(conn->attach_mode));
	return 0;
}

/*
 * -EBUSY when a cbd device of this host carries @volume_id, whatever the
 * store says: the kernel's list of devices is the truth.
 */
static int check_no_device(const char *volume_id, struct cl_error *err)
{
	char disk[64];

	if (!cl_local_device_of(volume_id, disk, sizeof(disk)))
		return 0;
	return cl_error_set(err, -EBUSY,
			    "volume %s is already attached at /dev/%s",
			    volume_id, disk);
}

int cl_connection_attach(struct cl_context *ctx, struct cl_connection *conn,
			 struct cl_error *err)
{
	struct cl_connection *cur = NULL;
	struct cl_kernel *k = NULL;
	int ret, lock;

	/* The check and the add under one lock: one device per connection. */
	ret = cl_connection_lock(ctx, conn, &cur, &lock, err);
	if (ret)
		return ret;
	if (cl_connection_device_state(ctx, cur) == CL_DEVICE_PRESENT) {
		ret = cl_error_set(err, -EEXIST,
				   "connection %s is already attached at %s",
				   cur->id, cur->device_path);
		goto out;
	}
	ret = check_no_device(cur->volume_id, err);
	if (!ret)
		ret = cl_kernel_open(&k, err);
	if (!ret)
		ret = attach_conn(ctx, k, cur, err);
	cl_kernel_close(k);
out:
	cl_lock_release(lock);
	cl_connection_replace(conn, cur);
	return ret;
}

/*
 * -EBUSY when @vol already has a device on this host (store or kernel).
 * Else *@waiting is a connection another host (a controller) made for
 * this one in @mode, with no device yet, or NULL when there is none.
 */
static int check_not_attached(struct cl_context *ctx,
			      const struct cl_volume *vol,
			      enum cl_attach_mode mode,
			      struct cl_connection **waiting,
			      struct cl_error *err)
{
	struct cl_connection_list conns = { 0 };
	int ret = cl_volume_connections(ctx, vol, &conns, err);

	*waiting = NULL;
	for (size_t i = 0; !ret && i < conns.count; i++) {
		struct cl_connection *c = conns.items[i];

		switch (cl_connection_device_state(ctx, c)) {
		case CL_DEVICE_PRESENT:
			ret = cl_error_set(err, -EBUSY,
					   "volume %s is already attached at %s",
					   vol->id, c->device_path);
			break;
		case CL_DEVICE_MISSING:
			ret = cl_error_set(err, -EBUSY,
					   "volume %s is recorded as attached at %s, but that device is gone: reconcile or detach with force first",
					   vol->id, c->device_path);
			break;
		case CL_DEVICE_NONE:
			if (!*waiting && c->attached_host &&
			    strcmp(c->attached_host, ctx->host) == 0 &&
			    c->attach_mode == mode) {
				*waiting = c;
				conns.items[i] = NULL;
			}
			break;
		default:
			break;
		}
	}
	cl_connection_list_free(&conns);
	if (!ret)
		ret = check_no_device(vol->id, err);
	if (ret) {
		cl_connection_free(*waiting);
		*waiting = NULL;
	}
	return ret;
}

int cl_volume_attach(struct cl_context *ctx, struct cl_volume *vol,
		     enum cl_attach_mode mode, struct cl_connection **out,
		     struct cl_error *err)
{
	struct cl_dict connector = { 0 };
	struct cl_connection *conn = NULL;
	struct cl_kernel *k = NULL;
	int ret, lock;

	*out = NULL;
	/*
	 * Held from the check to the recorded device: of concurrent
	 * attaches of one volume, exactly one finds it unattached.
	 */
	lock = cl_lock_acquire(ctx, "volume", vol->id, err);
	if (lock < 0)
		return lock;
	ret = check_not_attached(ctx, vol, mode, &conn, err);
	/* No module: say so before anything is exported. */
	if (!ret)
		ret = cl_kernel_open(&k, err);
	if (ret) {
		cl_connection_free(conn);
		conn = NULL;
		goto out;
	}
	if (conn) {
		/* Connected for us elsewhere: attach that, it stays theirs. */
		ret = attach_conn(ctx, k, conn, err);
		if (ret) {
			cl_connection_free(conn);
			conn = NULL;
			goto out;
		}
		goto attached;
	}
	ret = cl_local_connector(ctx, &connector, err);
	if (!ret)
		ret = cl_volume_connect(ctx, vol, &connector, mode, &conn, err);
	if (ret)
		goto out;
	ret = attach_conn(ctx, k, conn, err);
	if (ret) {
		struct cl_error ignored;

		/* Undo the connection: the volume is as it was. */
		cl_connection_disconnect(ctx, conn, &ignored);
		cl_connection_free(conn);
		conn = NULL;
		cl_volume_refresh(ctx, vol, &ignored);
		goto out;
	}
attached:
	cl_volume_refresh(ctx, vol, NULL);
	*out = conn;
out:
	cl_lock_release(lock);
	cl_kernel_close(k);
	cl_dict_clear(&connector);
	return ret;
}

/* The kernel's refusal of a non-forced remove, said plainly. */
static int busy_error(const struct cl_connection *conn, const char *disk,
		      struct cl_error *err)
{
	char mnt[4096];

	if (cl_device_mount_point(disk, mnt, sizeof(mnt)) == 0)
		return cl_error_set(err, -EBUSY,
				    "volume %s: %s is mounted on %s: unmount it first (or detach with force)",
				    conn->volume_id, conn->device_path, mnt);
	return cl_error_set(err, -EBUSY,
			    "volume %s: %s is open (in use by a program): close it first (or detach with force)",
			    conn->volume_id, conn->device_path);
}

/* Remove the recorded device of @conn (state PRESENT). */
static int remove_device(struct cl_connection *conn, bool force,
			 struct cl_error *err)
{
	struct cl_error kerr = { 0 };
	struct cl_kernel *k;
	uint32_t index;
	char disk[64];
	int ret;

	ret = device_index(conn->device_path, &index, disk, sizeof(disk));
	if (ret)
		return cl_error_set(err, ret, "bad device path %s",
				    conn->device_path);
	ret = cl_kernel_open(&k, err);
	if (ret)
		return ret;
	ret = cl_kernel_dev_remove(k, index, force, &kerr);
	cl_kernel_close(k);
	if (ret == -EBUSY)
		return busy_error(conn, disk, err);
	if (ret == -ENODEV)	/* gone meanwhile */
		return 0;
	if (ret)
		return cl_error_set(err, ret, "volume %s: cannot remove %s: %s",
				    conn->volume_id, conn->device_path,
				    kerr.msg);
	return 0;
}

static bool exported_elsewhere(struct cl_context *ctx,
			       const struct cl_connection *conn)
{
	const char *th = cl_dict_get(&conn->provider_data, "target_host");

	return th && strcmp(th, ctx->host) != 0;
}

/* What the connector set up besides the cbd device (an rbd mapping). */
static int connector_disconnect(const struct cl_connection *conn,
				struct cl_error *err)
{
	const struct cl_connector_type *type =
		cl_connector_find(conn->driver_volume_type);

	if (!type || !type->disconnect_volume)
		return 0;
	return type->disconnect_volume(&conn->connection_data, err);
}

int cl_connection_detach(struct cl_context *ctx, struct cl_connection *conn,
			 bool force, struct cl_error *err)
{
	struct cl_connection *cur = NULL;
	int ret, lock;

	/*
	 * From the device's state to the disconnect, under the lock, on
	 * what is stored: another process may have changed it.
	 */
	ret = cl_connection_lock(ctx, conn, &cur, &lock, err);
	if (ret == -ENOENT) {
		cl_error_clear(err);
		conn->status = CL_ATTACH_DETACHED;
		return 0;
	}
	if (ret)
		return ret;
	switch (cl_connection_device_state(ctx, cur)) {
	case CL_DEVICE_REMOTE:
		if (!force) {
			ret = cl_error_set(err, -EBUSY,
					   "connection %s is attached on host %s, not here: detach it there (or with force)",
					   cur->id, cur->attached_host);
			goto out;
		}
		break;
	case CL_DEVICE_PRESENT:
		ret = remove_device(cur, force, err);
		if (ret)
			goto out;
		cl_log(ctx, CL_LOG_INFO, "volume %s: %s removed%s",
		       cur->volume_id, cur->device_path,
		       force ? " (forced)" : "");
		break;
	case CL_DEVICE_MISSING:
		cl_log(ctx, CL_LOG_WARNING,
		       "volume %s: recorded device %s is gone: cleaning up",
		       cur->volume_id, cur->device_path);
		break;
	case CL_DEVICE_NONE:
		break;
	}
	/* No device any more, even if the disconnect below fails. */
	if (cur->device_path)
		ret = cl_connection_set_device(ctx, cur, NULL, err);
	if (!ret && on_this_host(ctx, cur))
		ret = connector_disconnect(cur, err);
	/*
	 * An export another host serves is that host's to end (os-brick's
	 * disconnect_volume here, terminate_connection there).
	 */
	if (!ret && !exported_elsewhere(ctx, cur))
		ret = cl_connection_disconnect(ctx, cur, err);
out:
	cl_lock_release(lock);
	cl_connection_replace(conn, cur);
	return ret;
}

/* The volume a copied connection is of: given, recorded, or its export. */
static int copied_volume_id(struct cl_connection *conn, const char *volume_id,
			    struct cl_error *err)
{
	const char *id = volume_id;

	if (!id && conn->volume_id[0])
		return 0;
	if (!id)
		id = cl_dict_get(&conn->connection_data, "export_name");
	if (!id || !cl_uuid_valid(id))
		return cl_error_set(err, -EINVAL,
				    "%s: the connection_info does not say which volume it is of: give the volume's id",
				    id ? id : "no volume id");
	snprintf(conn->volume_id, sizeof(conn->volume_id), "%s", id);
	return 0;
}

int cl_connection_info_attach(struct cl_context *ctx,
			      struct cl_connection *conn,
			      const char *volume_id, enum cl_attach_mode mode,
			      char *path, size_t len, struct cl_error *err)
{
	const struct cl_connector_type *type;
	struct cl_dev_info info = { 0 };
	struct cl_kernel *k = NULL;
	int ret;

	type = local_connector_of(conn, err);
	if (!type)
		return -EPROTONOSUPPORT;
	ret = copied_volume_id(conn, volume_id, err);
	if (!ret)
		ret = check_no_device(conn->volume_id, err);
	if (!ret)
		ret = cl_kernel_open(&k, err);
	if (ret)
		return ret;
	/* No store to say the size: the file, device or export tells. */
	ret = connector_device(ctx, k, type, conn, 0, mode == CL_ATTACH_RO,
			       &info, path, len, err);
	cl_kernel_close(k);
	if (ret)
		return ret;
	cl_log(ctx, CL_LOG_INFO, "volume %s: attached at %s from a copied connection_info (%s)",
	       conn->volume_id, path, cl_attach_mode_name(mode));
	return 0;
}

int cl_connection_info_detach(struct cl_context *ctx,
			      struct cl_connection *conn,
			      const char *volume_id, bool force,
			      struct cl_error *err)
{
	char disk[64], path[80];
	int ret;

	ret = copied_volume_id(conn, volume_id, err);
	if (ret)
		return ret;
	if (!cl_local_device_of(conn->volume_id, disk, sizeof(disk)))
		return cl_error_set(err, -ENOENT,
				    "volume %s has no device on this host",
				    conn->volume_id);
	snprintf(path, sizeof(path), "/dev/%s", disk);
	free(conn->device_path);
	conn->device_path = strdup(path);
	if (!conn->device_path)
		return cl_error_set(err, -ENOMEM, "out of memory");
	ret = remove_device(conn, force, err);
	if (!ret)
		ret = connector_disconnect(conn, err);
	if (!ret)
		cl_log(ctx, CL_LOG_INFO, "volume %s: %s detached",
		       conn->volume_id, path);
	return ret;
}

int cl_volume_detach(struct cl_context *ctx, struct cl_volume *vol, bool force,
		     struct cl_error *err)
{
	struct cl_connection_list conns = { 0 };
	size_t attached = 0;
	char disk[64];
	int ret, lock;

	lock = cl_lock_acquire(ctx, "volume", vol->id, err);
	if (lock < 0)
		return lock;
	ret = cl_volume_connections(ctx, vol, &conns, err);
	for (size_t i = 0; !ret && i < conns.count; i++) {
		if (!conns.items[i]->device_path)
			continue;
		attached++;
		ret = cl_connection_detach(ctx, conns.items[i], force, err);
	}
	/* A device no connection records: say which, do not guess. */
	if (!ret && !attached && cl_local_device_of(vol->id, disk,
						    sizeof(disk)))
		ret = cl_error_set(err, -EBUSY,
				   "volume %s is carried by /dev/%s, which no connection records: remove it with 'cinderctl device remove /dev/%s'",
				   vol->id, disk, disk);
	else if (!ret && !attached)
		ret = cl_error_set(err, -ENOENT, "volume %s is not attached",
				   vol->id);
	cl_lock_release(lock);
	cl_connection_list_free(&conns);
	if (ret != -ENOENT || attached) {
		struct cl_error ignored;

		cl_volume_refresh(ctx, vol, &ignored);
	}
	return ret;
}

/*
 * Forced detach of @conn if, under the volume's lock, it still is stale:
 * another process may have attached it anew since it was listed.
 */
static int detach_if_stale(struct cl_context *ctx, struct cl_connection *conn,
			   struct cl_error *err)
{
	struct cl_connection *cur = NULL;
	int ret, lock;

	ret = cl_connection_lock(ctx, conn, &cur, &lock, err);
	if (ret == -ENOENT) {
		cl_error_clear(err);
		return 0;
	}
	if (ret)
		return ret;
	if (cl_connection_device_state(ctx, cur) == CL_DEVICE_MISSING)
		ret = cl_connection_detach(ctx, cur, true, err);
	cl_connection_free(cur);
	cl_lock_release(lock);
	return ret;
}

int cl_connection_reconcile(struct cl_context *ctx, bool dry_run,
			    struct cl_connection_list *stale,
			    struct cl_error *err)
{
	struct cl_connection_list all = { 0 };
	struct cl_error one = { 0 };
	int ret, first = 0;

	if (stale)
		*stale = (struct cl_connection_list){ 0 };
	ret = cl_connection_find(ctx, NULL, &all, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < all.count; i++) {
		struct cl_connection *c = all.items[i];

		if (cl_connection_device_state(ctx, c) != CL_DEVICE_MISSING)
			continue;
		if (stale) {
			struct cl_connection *copy = cl_connection_dup(c);

			if (!copy || cl_connection_list_append(stale, copy)) {
				cl_connection_free(copy);
				ret = cl_error_set(err, -ENOMEM, "out of memory");
				break;
			}
		}
		if (dry_run)
			continue;
		ret = detach_if_stale(ctx, c, &one);
		if (ret && !first) {
			first = ret;
			if (err)
				*err = one;
		}
	}
	cl_connection_list_free(&all);
	if (ret == -ENOMEM)
		return ret;
	return first;
}

/* Indexes of the devices of @vol present on this host (*@index: malloc). */
static int local_devices(struct cl_context *ctx, const struct cl_volume *vol,
			 uint32_t **index, size_t *count, struct cl_error *err)
{
	struct cl_connection_list conns = { 0 };
	struct cl_filter f = { .volume_id = vol->id };
	char disk[64];
	int ret;

	*count = 0;
	*index = NULL;
	ret = ctx->store_ops->get_connections(ctx->store, &f, &conns, err);
	if (!ret && conns.count) {
		*index = calloc(conns.count, sizeof(**index));
		if (!*index)
			ret = cl_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; !ret && i < conns.count; i++) {
		const struct cl_connection *c = conns.items[i];

		if (cl_connection_device_state(ctx, c) != CL_DEVICE_PRESENT ||
		    device_index(c->device_path, &(*index)[*count], disk,
				 sizeof(disk)))
			continue;
		(*count)++;
	}
	cl_connection_list_free(&conns);
	return ret;
}

/*
 * Give the device @index a freshly opened backing on the block device of
 * @conn: suspend, reconfigure, resume - resumed even when the kernel
 * refused the new backing. A remap device gets one extent [0, @size) (its
 * new size); a file-backed one learns the block device's new size.
 */
static int reopen_block_backing(struct cl_kernel *k, uint32_t index,
				const struct cl_connection *conn,
				int backing, uint64_t size,
				struct cl_error *err)
{
	const struct cl_connector_type *type =
		cl_connector_find(conn->driver_volume_type);
	struct cl_extent whole = { .start = 0, .length = size };
	struct cl_error ignored;
	struct cl_dev_spec spec;
	char path[PATH_MAX];
	int fd, ret;

	if (!type || !type->local_device)
		return cl_error_set(err, -EINVAL,
				    "connection %s has no device path", conn->id);
	ret = type->local_device(&conn->connection_data, path, sizeof(path),
				 err);
	if (ret)
		return ret;
	fd = open(path, (conn->attach_mode == CL_ATTACH_RO ? O_RDONLY :
			 O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return cl_error_set(err, -errno, "cannot open %s: %s", path,
				    strerror(errno));
	cl_dev_spec_init(&spec);
	spec.backing_type = backing;
	spec.backing_fd = fd;
	if (backing == CL_BACKING_REMAP) {
		spec.extents = &whole;
		spec.nr_extents = 1;
	}
	ret = cl_kernel_dev_suspend(k, index, false, err);
	if (!ret) {
		ret = cl_kernel_dev_reconfigure_spec(k, index, &spec, err);
		if (cl_kernel_dev_resume(k, index, ret ? &ignored : err) &&
		    !ret)
			ret = err ? err->code : -EIO;
	}
	close(fd);
	return ret;
}

/* Resize the device @index of @conn (remap or any other backing). */
static int resize_device(struct cl_kernel *k, uint32_t index,
			 const struct cl_connection *conn, uint64_t size,
			 struct cl_error *err)
{
	struct cl_dev_info info = { 0 };
	bool block = conn->driver_volume_type &&
		     strcmp(conn->driver_volume_type, "block") == 0;
	int ret = cl_kernel_dev_get(k, index, &info, err);

	if (ret)
		return ret;
	/* A server keeps each connection's size: new ones see the growth. */
	if (info.backing_type == CL_BACKING_NBD) {
		uint64_t now;

		ret = cl_nbd_refresh_device(k, &info, &now, err);
		if (!ret && now < size)
			ret = cl_error_set(err, -EAGAIN,
					   "the NBD server of %s serves %llu bytes, not %llu yet: extend the volume on the exporting host first",
					   info.disk_name,
					   (unsigned long long)now,
					   (unsigned long long)size);
		return ret;
	}
	/* The remap backing has no resize: its table sets the size. */
	if (info.backing_type == CL_BACKING_REMAP)
		return reopen_block_backing(k, index, conn, CL_BACKING_REMAP,
					    size, err);
	/* A file backing knows its block device's size from its start. */
	if (block && info.backing_type == CL_BACKING_FILE) {
		ret = reopen_block_backing(k, index, conn, CL_BACKING_FILE,
					   size, err);
		if (ret)
			return ret;
	}
	return cl_kernel_dev_resize(k, index, size, err);
}

int cl_attach_resize(struct cl_context *ctx, const struct cl_volume *vol,
		     struct cl_error *err)
{
	struct cl_connection_list conns = { 0 };
	struct cl_filter f = { .volume_id = vol->id };
	struct cl_kernel *k = NULL;
	char disk[64];
	int ret;

	ret = ctx->store_ops->get_connections(ctx->store, &f, &conns, err);
	for (size_t i = 0; !ret && i < conns.count; i++) {
		const struct cl_connection *c = conns.items[i];
		struct cl_error kerr = { 0 };
		uint32_t index;

		if (cl_connection_device_state(ctx, c) != CL_DEVICE_PRESENT ||
		    device_index(c->device_path, &index, disk, sizeof(disk)))
			continue;
		if (!k)
			ret = cl_kernel_open(&k, err);
		if (ret)
			break;
		ret = resize_device(k, index, c, vol->size * GIB, &kerr);
		if (ret)
			ret = cl_error_set(err, ret,
					   "volume %s is extended to %llu GiB, but its device /dev/cbd%u was not resized: %s",
					   vol->id,
					   (unsigned long long)vol->size,
					   index, kerr.msg);
		else
			cl_log(ctx, CL_LOG_INFO,
			       "volume %s: /dev/cbd%u resized to %llu GiB",
			       vol->id, index,
			       (unsigned long long)vol->size);
	}
	cl_kernel_close(k);
	cl_connection_list_free(&conns);
	return ret;
}

int cl_connection_extend(struct cl_context *ctx, struct cl_connection *conn,
			 uint64_t *size, struct cl_error *err)
{
	struct cl_connection *cur = NULL;
	struct cl_volume *vol = NULL;
	struct cl_kernel *k = NULL;
	enum cl_device_state state;
	struct cl_dev_info info;
	uint32_t index;
	char disk[64];
	int ret, lock;

	*size = 0;
	ret = cl_connection_lock(ctx, conn, &cur, &lock, err);
	if (ret)
		return ret;
	state = cl_connection_device_state(ctx, cur);
	if (state != CL_DEVICE_PRESENT ||
	    device_index(cur->device_path, &index, disk, sizeof(disk))) {
		ret = cl_error_set(err, -ENODEV,
				   "connection %s has no device on this host (%s): attach it first",
				   cur->id, cl_device_state_name(state));
		goto out;
	}
	ret = cl_kernel_open(&k, err);
	if (!ret)
		ret = cl_kernel_dev_get(k, index, &info, err);
	if (ret)
		goto out;
	*size = info.size;
	if (info.backing_type == CL_BACKING_NBD) {
		/* The exporting host extended it: its server says how far. */
		ret = cl_nbd_refresh_device(k, &info, size, err);
	} else {
		ret = cl_store_get_volume(ctx, cur->volume_id, &vol, err);
		if (!ret && vol->size * GIB > info.size) {
			ret = resize_device(k, index, cur, vol->size * GIB, err);
			if (!ret)
				*size = vol->size * GIB;
		}
	}
	if (!ret && *size != info.size)
		cl_log(ctx, CL_LOG_INFO, "volume %s: %s resized to %llu bytes",
		       cur->volume_id, info.disk_name,
		       (unsigned long long)*size);
out:
	cl_kernel_close(k);
	cl_volume_free(vol);
	cl_lock_release(lock);
	cl_connection_replace(conn, cur);
	return ret;
}

int cl_quiesce_volume(struct cl_context *ctx, const struct cl_volume *vol,
		      struct cl_quiesce *q, struct cl_error *err)
{
	uint32_t *index;
	char unheld[64];
	size_t n;
	int ret;

	*q = (struct cl_quiesce){ 0 };
	ret = local_devices(ctx, vol, &index, &n, err);
	/*
	 * A device no connection of this host records could not be held.
	 * One over NBD is an attach through an export, as another host's:
	 * what it sent is in the volume, what it caches is its host's.
	 */
	if (!ret && !n &&
	    find_device(vol->id, true, unheld, sizeof(unheld)))
		ret = cl_error_set(err, -EBUSY,
				   "volume %s is already attached at /dev/%s",
				   vol->id, unheld);
	if (ret || !n) {
		free(index);
		return ret;
	}
	/* Every device of the volume is held, however many: no silent cap. */
	q->index = index;
	ret = cl_kernel_open(&q->k, err);
	for (size_t i = 0; !ret && i < n; i++) {
		struct cl_error kerr = { 0 };
		char disk[32], mnt[4096];
		bool mounted;

		snprintf(disk, sizeof(disk), "cbd%u", index[i]);
		/* A mounted filesystem is frozen: clean in the snapshot. */
		mounted = cl_device_mount_point(disk, mnt, sizeof(mnt)) == 0;
		ret = cl_kernel_dev_suspend(q->k, index[i], mounted, &kerr);
		if (ret) {
			ret = cl_error_set(err, ret,
					   "volume %s: cannot suspend /dev/%s for a consistent snapshot: %s",
					   vol->id, disk, kerr.msg);
			break;
		}
		q->count++;
	}
	if (ret)
		cl_quiesce_release(ctx, q);
	return ret;
}

void cl_quiesce_release(struct cl_context *ctx, struct cl_quiesce *q)
{
	for (size_t i = 0; i < q->count; i++) {
		struct cl_error kerr = { 0 };

		if (cl_kernel_dev_resume(q->k, q->index[i], &kerr))
			cl_log(ctx, CL_LOG_ERROR,
			       "cannot resume /dev/cbd%u: %s", q->index[i],
			       kerr.msg);
	}
	cl_kernel_close(q->k);
	free(q->index);
	*q = (struct cl_quiesce){ 0 };
}
