// SPDX-License-Identifier: Apache-2.0
/* Snapshots: restore into a new volume, delete, lookups. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cl_internal.h"

static void replace_snapshot(struct cl_snapshot *dst, struct cl_snapshot *f)
{
	struct cl_snapshot old = *dst;

	*dst = *f;
	*f = old;
	cl_snapshot_free(f);
}

int cl_snapshot_create_volume(struct cl_context *ctx,
			      const struct cl_snapshot *snap,
			      const struct cl_volume_create_opts *opts,
			      struct cl_volume **out, struct cl_error *err)
{
	struct cl_snapshot *cur;
	struct cl_backend *be;
	int ret, lock;

	*out = NULL;
	if (opts && opts->size && cl_check_size(opts->size, err))
		return err ? err->code : -EINVAL;
	if (opts && (cl_check_text("name", opts->name, 255, err) ||
		     cl_check_text("description", opts->description, 4096,
				   err) ||
		     cl_check_dict("metadata", opts->metadata, err) ||
		     (opts->id && !cl_uuid_valid(opts->id) &&
		      cl_error_set(err, -EINVAL, "'%s' is not a UUID",
				   opts->id))))
		return err ? err->code : -EINVAL;
	/* The parent volume's lock keeps the snapshot from being deleted. */
	lock = cl_lock_acquire(ctx, "volume", snap->volume_id, err);
	if (lock < 0)
		return lock;
	ret = cl_store_get_snapshot(ctx, snap->id, &cur, err);
	if (ret)
		goto out_unlock;
	if (cur->status != CL_STATUS_AVAILABLE) {
		ret = cl_error_set(err, -EBUSY,
				   "cannot create a volume from snapshot %s: it is %s",
				   cur->id, cl_status_name(cur->status));
		goto out;
	}
	ret = cl_backend_for(ctx, cur->backend_name, &be, err);
	if (!ret)
		ret = cl_create_from(ctx, be, opts, NULL, cur, out, err);
out:
	cl_snapshot_free(cur);
out_unlock:
	cl_lock_release(lock);
	return ret;
}

int cl_snapshot_delete(struct cl_context *ctx, struct cl_snapshot *snap,
		       struct cl_error *err)
{
	struct cl_error derr = { 0 };
	struct cl_snapshot *cur;
	struct cl_backend *be;
	enum cl_status was;
	int ret, lock;

	lock = cl_lock_acquire(ctx, "volume", snap->volume_id, err);
	if (lock < 0)
		return lock;
	ret = cl_store_get_snapshot(ctx, snap->id, &cur, err);
	if (ret == -ENOENT) {
		cl_error_clear(err);
		snap->status = CL_STATUS_DELETED;
		cl_lock_release(lock);
		return 0;
	}
	if (ret)
		goto out_unlock;
	ret = cl_backend_for(ctx, cur->backend_name, &be, err);
	if (ret)
		goto out;
	was = cur->status;
	cur->status = CL_STATUS_DELETING;
	ret = cl_store_save_snapshot(ctx, cur, err);
	if (ret)
		goto out;
	ret = be->ops->delete_snapshot(be->priv, cur, &derr);
	if (ret) {
		struct cl_error ignored;

		/* Busy (clones, users): untouched, as Cinder's *IsBusy. */
		cur->status = ret == -EBUSY ? was : CL_STATUS_ERROR_DELETING;
		cl_store_save_snapshot(ctx, cur, &ignored);
		ret = cl_driver_error(ret, &derr, "snapshot", cur->id,
				      cur->status, err);
		goto out;
	}
	ret = ctx->store_ops->delete_snapshot(ctx->store, cur->id, err);
	if (!ret)
		cur->status = CL_STATUS_DELETED;
out:
	replace_snapshot(snap, cur);
out_unlock:
	cl_lock_release(lock);
	return ret;
}

int cl_snapshot_refresh(struct cl_context *ctx, struct cl_snapshot *snap,
			struct cl_error *err)
{
	struct cl_snapshot *cur;
	int ret = cl_store_get_snapshot(ctx, snap->id, &cur, err);

	if (!ret)
		replace_snapshot(snap, cur);
	return ret;
}

int cl_snapshot_get(struct cl_context *ctx, const char *id,
		    struct cl_snapshot **out, struct cl_error *err)
{
	struct cl_snapshot *s;
	int ret;

	if (!id)
		return cl_error_set(err, -EINVAL, "no snapshot id given");
	ret = cl_store_get_snapshot(ctx, id, &s, err);
	if (ret)
		return ret;
	ret = cl_check_known(ctx, "snapshot", s->id, s->backend_name, err);
	if (ret) {
		cl_snapshot_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

int cl_snapshot_find(struct cl_context *ctx, const struct cl_filter *f,
		     struct cl_snapshot_list *out, struct cl_error *err)
{
	int ret;

	*out = (struct cl_snapshot_list){ 0 };
	ret = ctx->store_ops->get_snapshots(ctx->store, f, out, err);
	for (size_t i = 0; !ret && i < out->count; i++)
		ret = cl_check_known(ctx, "snapshot", out->items[i]->id,
				     out->items[i]->backend_name, err);
	if (ret)
		cl_snapshot_list_free(out);
	return ret;
}

int cl_snapshot_lookup(struct cl_context *ctx, const char *ref,
		       struct cl_snapshot **out, struct cl_error *err)
{
	struct cl_snapshot_list l = { 0 }, all = { 0 };
	struct cl_filter f = { .name = ref };
	int ret;

	if (!ref || !*ref)
		return cl_error_set(err, -EINVAL, "no snapshot given");
	if (cl_uuid_valid(ref) && cl_snapshot_get(ctx, ref, out, NULL) == 0)
		return 0;
	ret = cl_snapshot_find(ctx, &f, &l, err);
	if (!ret && l.count == 0 && strlen(ref) >= 4) {
		ret = cl_snapshot_find(ctx, NULL, &all, err);
		for (size_t i = 0; !ret && i < all.count; i++) {
			if (strncmp(all.items[i]->id, ref, strlen(ref)))
				continue;
			if (cl_snapshot_list_append(&l, all.items[i]))
				ret = cl_error_set(err, -ENOMEM, "out of memory");
			else
				all.items[i] = NULL;
		}
		cl_snapshot_list_free(&all);
	}
	if (!ret && l.count == 0)
		ret = cl_error_set(err, -ENOENT, "no snapshot '%s'", ref);
	else if (!ret && l.count > 1)
		ret = cl_error_set(err, -EEXIST,
				   "snapshot '%s' is ambiguous: %zu match (%s, %s%s)",
				   ref, l.count, l.items[0]->id, l.items[1]->id,
				   l.count > 2 ? ", ..." : "");
	if (!ret) {
		*out = l.items[0];
		l.items[0] = NULL;
	}
	cl_snapshot_list_free(&l);
	return ret;
}
