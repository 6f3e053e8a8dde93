// SPDX-License-Identifier: Apache-2.0
/*
 * Connections: exporting a volume to a host (create_export +
 * initialize_connection) and recording the connection_info; the volume is
 * in-use while it has connections. The local attach (kernel device) fills
 * device_path later through cl_connection_set_device().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cl_internal.h"

void cl_connection_replace(struct cl_connection *dst,
			   struct cl_connection *fresh)
{
	struct cl_connection old = *dst;

	*dst = *fresh;
	*fresh = old;
	cl_connection_free(fresh);
}

int cl_connection_lock(struct cl_context *ctx,
		       const struct cl_connection *conn,
		       struct cl_connection **cur, int *lock,
		       struct cl_error *err)
{
	int ret;

	*cur = NULL;
	*lock = cl_lock_acquire(ctx, "volume", conn->volume_id, err);
	if (*lock < 0)
		return *lock;
	ret = cl_store_get_connection(ctx, conn->id, cur, err);
	if (ret) {
		cl_lock_release(*lock);
		*lock = -1;
	}
	return ret;
}

int cl_volume_connect(struct cl_context *ctx, struct cl_volume *vol,
		      const struct cl_dict *connector, enum cl_attach_mode mode,
		      struct cl_connection **out, struct cl_error *err)
{
	struct cl_model_update upd = { 0 };
	struct cl_connection_info info = { 0 };
	struct cl_dict provider = { 0 };
	struct cl_error derr = { 0 };
	struct cl_connection *conn = NULL;
	struct cl_volume *cur = NULL;
	struct cl_backend *be;
	bool exported = false, remote = false;
	int ret, lock;

	*out = NULL;
	if (!connector || !cl_dict_get(connector, "host"))
		return cl_error_set(err, -EINVAL,
				    "the connector needs at least a 'host'");
	if (mode != CL_ATTACH_RW && mode != CL_ATTACH_RO)
		return cl_error_set(err, -EINVAL, "invalid attach mode");
	ret = cl_check_dict("connector", connector, err);
	if (ret)
		return ret;
	lock = cl_lock_acquire(ctx, "volume", vol->id, err);
	if (lock < 0)
		return lock;
	ret = cl_store_get_volume(ctx, vol->id, &cur, err);
	if (ret)
		goto out;
	if (cur->status != CL_STATUS_AVAILABLE &&
	    cur->status != CL_STATUS_IN_USE) {
		ret = cl_error_set(err, -EBUSY,
				   "cannot connect volume %s: it is %s",
				   cur->id, cl_status_name(cur->status));
		goto out;
	}
	ret = cl_backend_for(ctx, cur->backend_name, &be, err);
	/* Hosts that share a path (no target) keep their own rules. */
	if (!ret && be->target.nbd)
		ret = cl_target_check_exclusive(ctx, cur, connector, mode, err);
	if (ret)
		goto out;
	remote = cl_target_wanted(ctx, be, connector);
	if (be->ops->create_export) {
		ret = be->ops->create_export(be->priv, cur, connector, &upd,
					     &derr);
		if (ret) {
			ret = cl_error_set(err, ret < 0 ? ret : -EIO,
					   "volume %s: export failed: %s",
					   cur->id, derr.msg);
			goto out;
		}
		exported = true;
		cl_apply_update(&cur->provider_location, &cur->provider_id,
				&upd);
	}
	ret = be->ops->initialize_connection(be->priv, cur, connector, &info,
					     &derr);
	if (ret) {
		ret = cl_error_set(err, ret < 0 ? ret : -EIO,
				   "volume %s: initialize_connection failed: %s",
				   cur->id, derr.msg);
		goto out;
	}
	if (remote) {
		ret = cl_target_export(ctx, be, cur, connector, mode, &info,
				       &provider, err);
		if (ret) {
			struct cl_error ignored;

			be->ops->terminate_connection(be->priv, cur, connector,
						      &ignored);
			goto out;
		}
	}
	conn = calloc(1, sizeof(*conn));
	if (!conn || cl_dict_copy(&conn->connector, connector) ||
	    !(conn->backend_name = strdup(be->name)) ||
	    !(conn->attached_host = strdup(cl_dict_get(connector, "host"))) ||
	    cl_dict_set(&info.data, "access_mode",
			cl_attach_mode_name(mode))) {
		ret = cl_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	cl_new_uuid(conn->id);
	memcpy(conn->volume_id, cur->id, CL_ID_LEN);
	conn->status = CL_ATTACH_ATTACHED;
	conn->attach_mode = mode;
	conn->driver_volume_type = info.driver_volume_type;
	info.driver_volume_type = NULL;
	conn->connection_data = info.data;
	info.data = (struct cl_dict){ 0 };
	conn->provider_data = provider;
	provider = (struct cl_dict){ 0 };
	conn->created_at = cl_now_us();
	cur->status = CL_STATUS_IN_USE;
	/* Connection and volume status change together. */
	ret = cl_store_begin(ctx, err);
	if (!ret)
		ret = cl_store_save_connection(ctx, conn, err);
	if (!ret)
		ret = cl_store_save_volume(ctx, cur, err);
	if (!ret)
		ret = cl_store_commit(ctx, err);
	else
		cl_store_rollback(ctx);
	if (ret) {
		struct cl_error ignored;

		cl_target_unexport(ctx, conn, &ignored);
		be->ops->terminate_connection(be->priv, cur, connector,
					      &ignored);
	}
out:
	if (ret && exported && be->ops->remove_export) {
		struct cl_error ignored;

		be->ops->remove_export(be->priv, cur, &ignored);
	}
	cl_lock_release(lock);
	free(info.driver_volume_type);
	cl_dict_clear(&info.data);
	if (provider.count) {
		struct cl_connection unused = { .provider_data = provider };
		struct cl_error ignored;

		cl_target_unexport(ctx, &unused, &ignored);
		cl_dict_clear(&provider);
	}
	if (cur && !ret)
		cl_volume_replace(vol, cur);
	else
		cl_volume_free(cur);
	if (ret) {
		cl_connection_free(conn);
		return ret;
	}
	*out = conn;
	return 0;
}

/*
 * A disconnect never leaves a device writing to a volume the store would
 * call available: refused while this host has the connection's device
 * (or another host, sharing the store, has one on our NBD export), and, for the @last connection of the volume, while any cbd device here
 * carries the volume (one that no connection records, after a crash).
 */
static int check_no_device(struct cl_context *ctx,
				 const struct cl_connection *conn, bool last,
				 struct cl_error *err)
{
	char disk[64];

	/*
	 * The store shared, the attaching host recorded its device on our
	 * export: ending the export would leave that device without it.
	 */
	if (cl_dict_get(&conn->provider_data, "export") &&
	    cl_connection_device_state(ctx, conn) == CL_DEVICE_REMOTE)
		return cl_error_set(err, -EBUSY,
				    "connection %s is attached at %s on host %s: detach it there first ('cinderctl connection detach %s'), or here with --force if that host is gone",
				    conn->id, conn->device_path,
				    conn->attached_host, conn->id);
	if (cl_connection_device_state(ctx, conn) == CL_DEVICE_PRESENT)
		return cl_error_set(err, -EBUSY,
				    "connection %s is attached at %s on this host: detach it first ('cinderctl volume detach %s')",
				    conn->id, conn->device_path,
				    conn->volume_id);
	if (last && cl_local_device_of(conn->volume_id, disk, sizeof(disk)))
		return cl_error_set(err, -EBUSY,
				    "volume %s is still carried by /dev/%s on this host: detach or remove that device first ('cinderctl device remove /dev/%s')",
				    conn->volume_id, disk, disk);
	return 0;
}

int cl_connection_disconnect(struct cl_context *ctx, struct cl_connection *conn,
			     struct cl_error *err)
{
	struct cl_connection_list others = { 0 };
	struct cl_filter f = { .volume_id = conn->volume_id };
	struct cl_error derr = { 0 };
	struct cl_connection *cur = NULL;
	struct cl_volume *vol = NULL;
	struct cl_backend *be;
	int ret, lock;

	ret = cl_connection_lock(ctx, conn, &cur, &lock, err);
	if (ret == -ENOENT) {
		/* Already disconnected. */
		cl_error_clear(err);
		conn->status = CL_ATTACH_DETACHED;
		return 0;
	}
	if (ret)
		return ret;
	ret = cl_store_get_volume(ctx, cur->volume_id, &vol, err);
	if (!ret)
		ret = cl_backend_for(ctx, cur->backend_name, &be, err);
	if (!ret)
		ret = ctx->store_ops->get_connections(ctx->store, &f, &others,
						      err);
	if (!ret)
		ret = check_no_device(ctx, cur, others.count <= 1, err);
	if (ret)
		goto out;
	/* The export goes first: no host writes while the driver lets go. */
	ret = cl_target_unexport(ctx, cur, &derr);
	if (!ret)
		ret = be->ops->terminate_connection(be->priv, vol,
						    &cur->connector, &derr);
	if (ret) {
		struct cl_error ignored;

		cur->status = CL_ATTACH_ERROR_DETACHING;
		cl_store_save_connection(ctx, cur, &ignored);
		ret = cl_error_set(err, ret < 0 ? ret : -EIO,
				   "connection %s is now %s: %s", cur->id,
				   cl_attach_status_name(cur->status),
				   derr.msg);
		goto out;
	}
	/* The last connection gone: no export, volume available again. */
	if (others.count <= 1) {
		if (be->ops->remove_export) {
			ret = be->ops->remove_export(be->priv, vol, &derr);
			if (ret) {
				ret = cl_error_set(err, ret < 0 ? ret : -EIO,
						   "volume %s: remove_export failed: %s",
						   vol->id, derr.msg);
				goto out;
			}
		}
		if (vol->status == CL_STATUS_IN_USE)
			vol->status = CL_STATUS_AVAILABLE;
	}
	ret = cl_store_begin(ctx, err);
	if (!ret)
		ret = ctx->store_ops->delete_connection(ctx->store, cur->id,
							err);
	if (!ret)
		ret = cl_store_save_volume(ctx, vol, err);
	if (!ret)
		ret = cl_store_commit(ctx, err);
	else
		cl_store_rollback(ctx);
	if (!ret)
		cur->status = CL_ATTACH_DETACHED;
out:
	cl_lock_release(lock);
	cl_connection_list_free(&others);
	cl_volume_free(vol);
	if (cur)
		cl_connection_replace(conn, cur);
	return ret;
}

int cl_connection_set_device(struct cl_context *ctx, struct cl_connection *conn,
			     const char *device_path, struct cl_error *err)
{
	struct cl_connection *cur;
	int ret, lock;

	if (device_path && cl_check_text("device path", device_path, 4096, err))
		return err ? err->code : -EINVAL;
	ret = cl_connection_lock(ctx, conn, &cur, &lock, err);
	if (ret)
		return ret;
	ret = cl_set_str(&cur->device_path, device_path);
	if (ret)
		ret = cl_error_set(err, -ENOMEM, "out of memory");
	else
		ret = cl_store_save_connection(ctx, cur, err);
	if (ret)
		cl_connection_free(cur);
	else
		cl_connection_replace(conn, cur);
	cl_lock_release(lock);
	return ret;
}

int cl_connection_get(struct cl_context *ctx, const char *id,
		      struct cl_connection **out, struct cl_error *err)
{
	struct cl_connection *c;
	int ret;

	if (!id)
		return cl_error_set(err, -EINVAL, "no connection id given");
	ret = cl_store_get_connection(ctx, id, &c, err);
	if (ret)
		return ret;
	ret = cl_check_known(ctx, "connection", c->id, c->backend_name, err);
	if (ret) {
		cl_connection_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

int cl_connection_find(struct cl_context *ctx, const struct cl_filter *f,
		       struct cl_connection_list *out, struct cl_error *err)
{
	int ret;

	*out = (struct cl_connection_list){ 0 };
	ret = ctx->store_ops->get_connections(ctx->store, f, out, err);
	for (size_t i = 0; !ret && i < out->count; i++)
		ret = cl_check_known(ctx, "connection", out->items[i]->id,
				     out->items[i]->backend_name, err);
	if (ret)
		cl_connection_list_free(out);
	return ret;
}
