// SPDX-License-Identifier: Apache-2.0
/*
 * Volumes: create (blank, clone, from snapshot), snapshot, extend, delete,
 * lookups. Every state change is saved before the driver is called (so a
 * crash leaves "creating"/"deleting" in the store, telling what happened)
 * and again after it; a failed driver call leaves the error status saved.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_internal.h"

#define MAX_NAME 255
#define MAX_DESCRIPTION 4096

int cl_check_text(const char *what, const char *s, size_t max,
		  struct cl_error *err)
{
	if (!s)
		return 0;
	if (strlen(s) > max)
		return cl_error_set(err, -EINVAL, "%s is longer than %zu bytes",
				    what, max);
	if (!cl_utf8_valid(s))
		return cl_error_set(err, -EINVAL,
				    "%s is not valid UTF-8 text (or has control characters)",
				    what);
	return 0;
}

int cl_check_size(uint64_t size, struct cl_error *err)
{
	if (size == 0)
		return cl_error_set(err, -EINVAL,
				    "invalid size 0: a volume needs at least 1 GiB");
	if (size > CL_MAX_SIZE_GIB)
		return cl_error_set(err, -EINVAL,
				    "invalid size %llu GiB: more than the maximum of %llu GiB",
				    (unsigned long long)size,
				    (unsigned long long)CL_MAX_SIZE_GIB);
	return 0;
}

int cl_check_dict(const char *what, const struct cl_dict *d,
		  struct cl_error *err)
{
	char label[64];

	for (size_t i = 0; d && i < d->count; i++) {
		snprintf(label, sizeof(label), "%s key", what);
		if (!d->entries[i].key[0])
			return cl_error_set(err, -EINVAL, "empty %s", label);
		if (cl_check_text(label, d->entries[i].key, MAX_NAME, err))
			return err ? err->code : -EINVAL;
		snprintf(label, sizeof(label), "%s value", what);
		if (cl_check_text(label, d->entries[i].value, MAX_DESCRIPTION,
				  err))
			return err ? err->code : -EINVAL;
	}
	return 0;
}

void cl_apply_update(char **location, char **id, struct cl_model_update *u)
{
	if (u->provider_location) {
		free(*location);
		*location = u->provider_location;
	}
	if (u->provider_id) {
		free(*id);
		*id = u->provider_id;
	}
	u->provider_location = u->provider_id = NULL;
}

/* The driver's message, naming the object and the status it was left in. */
int cl_driver_error(int ret, const struct cl_error *derr, const char *what,
		    const char *id, enum cl_status status,
		    struct cl_error *err)
{
	if (ret >= 0)
		ret = -EIO;
	return cl_error_set(err, ret, "%s %s is now %s: %s", what, id,
			    cl_status_name(status),
			    derr->msg[0] ? derr->msg : "driver error");
}

int cl_check_known(struct cl_context *ctx, const char *what, const char *id,
		   const char *backend, struct cl_error *err)
{
	if (!ctx->fail_on_missing_backend || cl_backend_known(ctx, backend))
		return 0;
	return cl_error_set(err, -ENODEV,
			    "%s %s belongs to backend '%s', which is not configured",
			    what, id, backend ? backend : "");
}

void cl_volume_replace(struct cl_volume *dst, struct cl_volume *fresh)
{
	struct cl_volume old = *dst;

	*dst = *fresh;
	*fresh = old;
	cl_volume_free(fresh);
}

static int check_create_opts(const struct cl_volume_create_opts *o,
			     bool size_optional, struct cl_error *err)
{
	int ret = 0;

	if (!o)
		return size_optional ? 0 :
		       cl_error_set(err, -EINVAL, "no volume options given");
	if (o->size || !size_optional)
		ret = cl_check_size(o->size, err);
	if (!ret)
		ret = cl_check_text("name", o->name, MAX_NAME, err);
	if (!ret)
		ret = cl_check_text("description", o->description,
				    MAX_DESCRIPTION, err);
	if (!ret)
		ret = cl_check_dict("metadata", o->metadata, err);
	if (!ret)
		ret = cl_check_dict("extra spec", o->extra_specs, err);
	if (!ret)
		ret = cl_check_dict("QoS spec", o->qos_specs, err);
	if (!ret && o->id && !cl_uuid_valid(o->id))
		ret = cl_error_set(err, -EINVAL, "'%s' is not a UUID", o->id);
	return ret;
}

static struct cl_volume *new_volume(struct cl_context *ctx,
				    struct cl_backend *be,
				    const struct cl_volume_create_opts *o,
				    uint64_t size)
{
	struct cl_volume *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	if (o && o->id) {
		for (int i = 0; i < 36; i++)
			v->id[i] = (char)tolower((unsigned char)o->id[i]);
	} else {
		cl_new_uuid(v->id);
	}
	v->size = size;
	v->status = CL_STATUS_CREATING;
	v->bootable = o && o->bootable;
	v->created_at = cl_now_us();
	v->updated_at = v->created_at;
	if ((o && o->name && !(v->name = strdup(o->name))) ||
	    (o && o->description &&
	     !(v->description = strdup(o->description))) ||
	    (o && cl_dict_update(&v->metadata, o->metadata)) ||
	    (o && cl_dict_update(&v->extra_specs, o->extra_specs)) ||
	    (o && cl_dict_update(&v->qos_specs, o->qos_specs)) ||
	    !(v->backend_name = strdup(be->name)) ||
	    asprintf(&v->host, "%s@%s", ctx->host, be->name) < 0) {
		v->host = NULL;
		cl_volume_free(v);
		return NULL;
	}
	return v;
}

/*
 * Blank (src and snap NULL), clone (src) or restore (snap): save as
 * creating, call the driver, save as available or error.
 */
int cl_create_from(struct cl_context *ctx, struct cl_backend *be,
		   const struct cl_volume_create_opts *opts,
		   const struct cl_volume *src, const struct cl_snapshot *snap,
		   struct cl_volume **out, struct cl_error *err)
{
	uint64_t min = src ? src->size : snap ? snap->volume_size : 1;
	uint64_t size = opts && opts->size ? opts->size : min;
	struct cl_model_update upd = { 0 };
	struct cl_error derr = { 0 };
	struct cl_volume *vol, *existing;
	int ret, lock = -1, space_lock;

	if (size < min)
		return cl_error_set(err, -EINVAL,
				    "size %llu GiB is smaller than the source's %llu GiB",
				    (unsigned long long)size,
				    (unsigned long long)min);
	vol = new_volume(ctx, be, opts, size);
	if (!vol)
		return cl_error_set(err, -ENOMEM, "out of memory");
	if (src && cl_set_str(&vol->source_volid, src->id))
		goto oom;
	if (snap && cl_set_str(&vol->snapshot_id, snap->id))
		goto oom;
	if (src && !(opts && opts->extra_specs) &&
	    cl_dict_copy(&vol->extra_specs, &src->extra_specs))
		goto oom;
	/*
	 * Held until the final status is saved: a delete from another
	 * process waits instead of racing the driver; two creators of one
	 * explicit id cannot both win.
	 */
	lock = cl_lock_acquire(ctx, "volume", vol->id, err);
	if (lock < 0) {
		cl_volume_free(vol);
		return lock;
	}
	if (opts && opts->id) {
		if (cl_store_get_volume(ctx, vol->id, &existing, NULL) == 0) {
			cl_volume_free(existing);
			ret = cl_error_set(err, -EEXIST,
					   "volume %s already exists", vol->id);
			goto out;
		}
	}
	/*
	 * Space is taken one driver call at a time per backend, across
	 * processes and hosts, so that a driver's capacity check (LVM thin's
	 * over-subscription) and its allocation hold together. Always inside
	 * the volume's lock: volume, then backend, never the other way.
	 */
	space_lock = cl_lock_acquire(ctx, "backend", be->name, err);
	if (space_lock < 0) {
		ret = space_lock;
		goto out;
	}
	ret = cl_store_save_volume(ctx, vol, err);
	if (ret) {
		cl_lock_release(space_lock);
		goto out;
	}
	cl_log(ctx, CL_LOG_DEBUG, "volume %s: creating on %s", vol->id,
	       be->name);
	if (snap)
		ret = be->ops->create_volume_from_snapshot(be->priv, vol, snap,
							   &upd, &derr);
	else if (src)
		ret = be->ops->create_cloned_volume(be->priv, vol, src, &upd,
						    &derr);
	else
		ret = be->ops->create_volume(be->priv, vol, &upd, &derr);
	cl_lock_release(space_lock);
	cl_apply_update(&vol->provider_location, &vol->provider_id, &upd);
	vol->status = ret ? CL_STATUS_ERROR : CL_STATUS_AVAILABLE;
	if (ret) {
		struct cl_error ignored;

		cl_store_save_volume(ctx, vol, &ignored);
		ret = cl_driver_error(ret, &derr, "volume", vol->id,
				      vol->status, err);
		cl_log(ctx, CL_LOG_ERROR, "%s", err ? err->msg : derr.msg);
		goto out;
	}
	ret = cl_store_save_volume(ctx, vol, err);
	if (!ret)
		cl_log(ctx, CL_LOG_INFO, "volume %s: created (%llu GiB) on %s",
		       vol->id, (unsigned long long)vol->size, be->name);
out:
	cl_lock_release(lock);
	if (ret) {
		cl_volume_free(vol);
		return ret;
	}
	*out = vol;
	return 0;
oom:
	cl_volume_free(vol);
	return cl_error_set(err, -ENOMEM, "out of memory");
}

int cl_volume_create(struct cl_backend *be,
		     const struct cl_volume_create_opts *opts,
		     struct cl_volume **out, struct cl_error *err)
{
	int ret;

	if (!be || !out)
		return cl_error_set(err, -EINVAL, "no backend given");
	*out = NULL;
	ret = check_create_opts(opts, false, err);
	if (ret)
		return ret;
	return cl_create_from(be->ctx, be, opts, NULL, NULL, out, err);
}

static bool usable_source(enum cl_status st)
{
	return st == CL_STATUS_AVAILABLE || st == CL_STATUS_IN_USE;
}

/*
 * A transitional status exists only while the lock holder works: found by
 * the next holder, it is what a process killed in the middle left. The
 * volume takes the error status of that operation (as a failed driver call
 * would have left it), so that it can be deleted, instead of staying
 * "extending" for ever.
 */
static void recover_interrupted(struct cl_context *ctx, struct cl_volume *cur)
{
	enum cl_status was = cur->status, now;
	struct cl_error ignored;

	switch (was) {
	case CL_STATUS_CREATING:
		now = CL_STATUS_ERROR;
		break;
	case CL_STATUS_EXTENDING:
		now = CL_STATUS_ERROR_EXTENDING;
		break;
	case CL_STATUS_DELETING:
		now = CL_STATUS_ERROR_DELETING;
		break;
	default:
		return;
	}
	cur->status = now;
	if (cl_store_save_volume(ctx, cur, &ignored)) {
		cur->status = was;
		return;
	}
	cl_log(ctx, CL_LOG_WARNING,
	       "volume %s: the process %s it died in the middle: now %s",
	       cur->id, was == CL_STATUS_CREATING ? "creating" :
	       was == CL_STATUS_EXTENDING ? "extending" : "deleting",
	       cl_status_name(now));
}

/* Lock @id and read the current volume from the store. */
static int lock_volume(struct cl_context *ctx, const char *id,
		       struct cl_volume **cur, int *lock, struct cl_error *err)
{
	int ret;

	*lock = cl_lock_acquire(ctx, "volume", id, err);
	if (*lock < 0)
		return *lock;
	ret = cl_store_get_volume(ctx, id, cur, err);
	if (ret) {
		if (ret == -ENOENT)	/* no such volume: no lock file either */
			cl_lock_remove(ctx, "volume", id);
		cl_lock_release(*lock);
		*lock = -1;
		return ret;
	}
	/* Our own transition, seen again by a nested acquire, is no loss. */
	if (cl_lock_is_outermost(*lock))
		recover_interrupted(ctx, *cur);
	return 0;
}

int cl_volume_clone(struct cl_context *ctx, const struct cl_volume *src,
		    const struct cl_volume_create_opts *opts,
		    struct cl_volume **out, struct cl_error *err)
{
	struct cl_volume *cur;
	struct cl_backend *be;
	struct cl_quiesce q;
	int ret, lock;

	*out = NULL;
	ret = check_create_opts(opts, true, err);
	if (ret)
		return ret;
	ret = lock_volume(ctx, src->id, &cur, &lock, err);
	if (ret)
		return ret;
	if (!usable_source(cur->status))
		ret = cl_error_set(err, -EBUSY,
				   "cannot clone volume %s: it is %s", cur->id,
				   cl_status_name(cur->status));
	if (!ret)
		ret = cl_backend_for(ctx, cur->backend_name, &be, err);
	/* An attached source is held still while it is copied. */
	if (!ret)
		ret = cl_quiesce_volume(ctx, cur, &q, err);
	if (!ret) {
		ret = cl_create_from(ctx, be, opts, cur, NULL, out, err);
		cl_quiesce_release(ctx, &q);
	}
	cl_lock_release(lock);
	cl_volume_free(cur);
	return ret;
}

int cl_volume_create_snapshot(struct cl_context *ctx,
			      const struct cl_volume *vol, const char *name,
			      const char *description,
			      struct cl_snapshot **out, struct cl_error *err)
{
	struct cl_model_update upd = { 0 };
	struct cl_error derr = { 0 };
	struct cl_snapshot *snap = NULL;
	struct cl_quiesce q;
	struct cl_volume *cur;
	struct cl_backend *be;
	int ret, lock;

	*out = NULL;
	ret = cl_check_text("name", name, MAX_NAME, err);
	if (!ret)
		ret = cl_check_text("description", description,
				    MAX_DESCRIPTION, err);
	if (ret)
		return ret;
	ret = lock_volume(ctx, vol->id, &cur, &lock, err);
	if (ret)
		return ret;
	if (!usable_source(cur->status)) {
		ret = cl_error_set(err, -EBUSY,
				   "cannot snapshot volume %s: it is %s",
				   cur->id, cl_status_name(cur->status));
		goto out;
	}
	ret = cl_backend_for(ctx, cur->backend_name, &be, err);
	if (ret)
		goto out;
	snap = calloc(1, sizeof(*snap));
	if (!snap || (name && !(snap->name = strdup(name))) ||
	    (description && !(snap->description = strdup(description))) ||
	    !(snap->backend_name = strdup(be->name))) {
		ret = cl_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	cl_new_uuid(snap->id);
	memcpy(snap->volume_id, cur->id, CL_ID_LEN);
	snap->volume_size = cur->size;
	snap->status = CL_STATUS_CREATING;
	snap->created_at = snap->updated_at = cl_now_us();
	ret = cl_store_save_snapshot(ctx, snap, err);
	if (ret)
		goto out;
	/*
	 * Attached here: hold the device's I/O (filesystem frozen when
	 * mounted, in-flight I/O drained and flushed) while the driver
	 * copies, and always let it go again.
	 */
	ret = cl_quiesce_volume(ctx, cur, &q, err);
	if (ret) {
		struct cl_error ignored;

		ctx->store_ops->delete_snapshot(ctx->store, snap->id, &ignored);
		goto out;
	}
	ret = be->ops->create_snapshot(be->priv, snap, cur, &upd, &derr);
	cl_quiesce_release(ctx, &q);
	cl_apply_update(&snap->provider_location, &snap->provider_id, &upd);
	snap->status = ret ? CL_STATUS_ERROR : CL_STATUS_AVAILABLE;
	if (ret) {
		struct cl_error ignored;

		cl_store_save_snapshot(ctx, snap, &ignored);
		ret = cl_driver_error(ret, &derr, "snapshot", snap->id,
				      snap->status, err);
		goto out;
	}
	ret = cl_store_save_snapshot(ctx, snap, err);
out:
	cl_lock_release(lock);
	cl_volume_free(cur);
	if (ret) {
		cl_snapshot_free(snap);
		return ret;
	}
	*out = snap;
	return 0;
}

int cl_volume_extend(struct cl_context *ctx, struct cl_volume *vol,
		     uint64_t new_size, struct cl_error *err)
{
	struct cl_error derr = { 0 };
	enum cl_status back;
	struct cl_volume *cur;
	struct cl_backend *be;
	int ret, lock, space_lock;

	ret = cl_check_size(new_size, err);
	if (ret)
		return ret;
	ret = lock_volume(ctx, vol->id, &cur, &lock, err);
	if (ret)
		return ret;
	if (!usable_source(cur->status)) {
		ret = cl_error_set(err, -EBUSY,
				   "cannot extend volume %s: it is %s", cur->id,
				   cl_status_name(cur->status));
		goto out;
	}
	if (new_size <= cur->size) {
		ret = cl_error_set(err, -EINVAL,
				   "cannot extend volume %s to %llu GiB: it already has %llu GiB "
				   "(volumes only grow)", cur->id,
				   (unsigned long long)new_size,
				   (unsigned long long)cur->size);
		goto out;
	}
	ret = cl_backend_for(ctx, cur->backend_name, &be, err);
	if (!ret)
		ret = cl_target_check_exporter(ctx, cur, "extend", err);
	if (ret)
		goto out;
	space_lock = cl_lock_acquire(ctx, "backend", be->name, err);
	if (space_lock < 0) {
		ret = space_lock;
		goto out;
	}
	back = cur->status;
	cur->status = CL_STATUS_EXTENDING;
	ret = cl_store_save_volume(ctx, cur, err);
	if (ret) {
		cl_lock_release(space_lock);
		goto out;
	}
	ret = be->ops->extend_volume(be->priv, cur, new_size, &derr);
	cl_lock_release(space_lock);
	if (ret) {
		struct cl_error ignored;

		cur->status = CL_STATUS_ERROR;
		cl_store_save_volume(ctx, cur, &ignored);
		ret = cl_driver_error(ret, &derr, "volume", cur->id,
				      cur->status, err);
		goto out;
	}
	cur->size = new_size;
	cur->status = back;
	ret = cl_store_save_volume(ctx, cur, err);
	if (!ret)
		cl_log(ctx, CL_LOG_INFO, "volume %s: extended to %llu GiB",
		       cur->id, (unsigned long long)new_size);
	/*
	 * Attached here: the device grows live to the new size. Attached
	 * elsewhere over NBD: new connections see it, and that host's
	 * cl_connection_extend() (or its daemon) grows the device.
	 */
	if (!ret)
		ret = cl_target_note_size(ctx, cur, err);
	if (!ret)
		ret = cl_attach_resize(ctx, cur, err);
out:
	cl_lock_release(lock);
	/* The caller sees what the store holds, error status included. */
	cl_volume_replace(vol, cur);
	return ret;
}

int cl_volume_delete(struct cl_context *ctx, struct cl_volume *vol,
		     struct cl_error *err)
{
	struct cl_snapshot_list snaps = { 0 };
	struct cl_connection_list conns = { 0 };
	struct cl_filter f = { .volume_id = vol->id };
	struct cl_error derr = { 0 };
	struct cl_volume *cur;
	struct cl_backend *be;
	char disk[64];
	enum cl_status was;
	int ret, lock;

	ret = lock_volume(ctx, vol->id, &cur, &lock, err);
	if (ret == -ENOENT) {
		/* Already gone: deleting is idempotent. */
		cl_error_clear(err);
		vol->status = CL_STATUS_DELETED;
		return 0;
	}
	if (ret)
		return ret;
	/* The kernel's device list decides, whatever the store says. */
	if (cl_local_device_of(cur->id, disk, sizeof(disk))) {
		ret = cl_error_set(err, -EBUSY,
				   "volume %s is attached at /dev/%s on this host: detach it first",
				   cur->id, disk);
		goto out;
	}
	ret = ctx->store_ops->get_snapshots(ctx->store, &f, &snaps, err);
	if (!ret)
		ret = ctx->store_ops->get_connections(ctx->store, &f, &conns,
						      err);
	if (ret)
		goto out;
	if (snaps.count) {
		ret = cl_error_set(err, -EBUSY,
				   "volume %s has %zu snapshot(s): delete them first",
				   cur->id, snaps.count);
		goto out;
	}
	if (conns.count || cur->status == CL_STATUS_IN_USE) {
		ret = cl_error_set(err, -EBUSY,
				   "volume %s is in use (%zu connection(s)): detach or disconnect it first",
				   cur->id, conns.count);
		goto out;
	}
	ret = cl_backend_for(ctx, cur->backend_name, &be, err);
	if (ret)
		goto out;
	was = cur->status;
	cur->status = CL_STATUS_DELETING;
	ret = cl_store_save_volume(ctx, cur, err);
	if (ret)
		goto out;
	ret = be->ops->delete_volume(be->priv, cur, &derr);
	if (ret) {
		struct cl_error ignored;

		/* Busy (clones, users): untouched, as Cinder's *IsBusy. */
		cur->status = ret == -EBUSY ? was : CL_STATUS_ERROR_DELETING;
		cl_store_save_volume(ctx, cur, &ignored);
		ret = cl_driver_error(ret, &derr, "volume", cur->id,
				      cur->status, err);
		goto out;
	}
	ret = ctx->store_ops->delete_volume(ctx->store, cur->id, err);
	if (!ret) {
		cur->status = CL_STATUS_DELETED;
		/* Gone for good (ids are not reused): drop its lock file. */
		cl_lock_remove(ctx, "volume", cur->id);
		cl_log(ctx, CL_LOG_INFO, "volume %s: deleted", cur->id);
	}
out:
	cl_lock_release(lock);
	cl_snapshot_list_free(&snaps);
	cl_connection_list_free(&conns);
	cl_volume_replace(vol, cur);
	return ret;
}

int cl_volume_refresh(struct cl_context *ctx, struct cl_volume *vol,
		      struct cl_error *err)
{
	struct cl_volume *cur;
	int ret = cl_store_get_volume(ctx, vol->id, &cur, err);

	if (ret)
		return ret;
	cl_volume_replace(vol, cur);
	return 0;
}

/* Copy the user-editable fields of @vol into the stored volume. */
/*
 * The end of an edit of @cur, the store's copy, made under @lock: saved
 * unless the edit ran out of memory (@ret), and @vol becomes it.
 */
static int save_edited(struct cl_context *ctx, struct cl_volume *vol,
		       struct cl_volume *cur, int lock, int ret,
		       struct cl_error *err)
{
	if (ret)
		ret = cl_error_set(err, -ENOMEM, "out of memory");
	else
		ret = cl_store_save_volume(ctx, cur, err);
	cl_lock_release(lock);
	if (ret) {
		cl_volume_free(cur);
		return ret;
	}
	cl_volume_replace(vol, cur);
	return 0;
}

static int save_edits(struct cl_context *ctx, struct cl_volume *vol,
		      struct cl_error *err)
{
	struct cl_volume *cur;
	int ret, lock;

	ret = lock_volume(ctx, vol->id, &cur, &lock, err);
	if (ret)
		return ret;
	cur->bootable = vol->bootable;
	ret = cl_set_str(&cur->name, vol->name);
	if (!ret)
		ret = cl_set_str(&cur->description, vol->description);
	if (!ret) {
		cl_dict_clear(&cur->metadata);
		ret = cl_dict_copy(&cur->metadata, &vol->metadata);
	}
	return save_edited(ctx, vol, cur, lock, ret, err);
}

int cl_volume_save(struct cl_context *ctx, struct cl_volume *vol,
		   struct cl_error *err)
{
	int ret = cl_check_text("name", vol->name, MAX_NAME, err);

	if (!ret)
		ret = cl_check_text("description", vol->description,
				    MAX_DESCRIPTION, err);
	if (!ret)
		ret = cl_check_dict("metadata", &vol->metadata, err);
	if (ret)
		return ret;
	return save_edits(ctx, vol, err);
}

int cl_volume_update_metadata(struct cl_context *ctx, struct cl_volume *vol,
			      const struct cl_dict *set,
			      const char *const *unset, struct cl_error *err)
{
	struct cl_volume *cur;
	int ret, lock;

	for (size_t i = 0; set && i < set->count; i++)
		if (!set->entries[i].key[0])
			return cl_error_set(err, -EINVAL, "empty metadata key");
	ret = set ? cl_check_dict("metadata", set, err) : 0;
	if (ret)
		return ret;
	/* On the store's copy: what others changed meanwhile stays. */
	ret = lock_volume(ctx, vol->id, &cur, &lock, err);
	if (ret)
		return ret;
	ret = set ? cl_dict_update(&cur->metadata, set) : 0;
	for (size_t i = 0; !ret && unset && unset[i]; i++)
		ret = cl_dict_set(&cur->metadata, unset[i], NULL);
	return save_edited(ctx, vol, cur, lock, ret, err);
}

int cl_volume_set_metadata(struct cl_context *ctx, struct cl_volume *vol,
			   const char *key, const char *value,
			   struct cl_error *err)
{
	const char *unset[2] = { key, NULL };
	struct cl_dict one = { 0 };
	int ret;

	if (!key || !*key)
		return cl_error_set(err, -EINVAL, "empty metadata key");
	if (!value)
		return cl_volume_update_metadata(ctx, vol, NULL, unset, err);
	if (cl_dict_set(&one, key, value))
		return cl_error_set(err, -ENOMEM, "out of memory");
	ret = cl_volume_update_metadata(ctx, vol, &one, NULL, err);
	cl_dict_clear(&one);
	return ret;
}

int cl_volume_get(struct cl_context *ctx, const char *id,
		  struct cl_volume **out, struct cl_error *err)
{
	struct cl_volume *v;
	int ret;

	if (!id)
		return cl_error_set(err, -EINVAL, "no volume id given");
	ret = cl_store_get_volume(ctx, id, &v, err);
	if (ret)
		return ret;
	ret = cl_check_known(ctx, "volume", v->id, v->backend_name, err);
	if (ret) {
		cl_volume_free(v);
		return ret;
	}
	*out = v;
	return 0;
}

int cl_volume_find(struct cl_context *ctx, const struct cl_filter *f,
		   struct cl_volume_list *out, struct cl_error *err)
{
	int ret;

	*out = (struct cl_volume_list){ 0 };
	ret = ctx->store_ops->get_volumes(ctx->store, f, out, err);
	for (size_t i = 0; !ret && i < out->count; i++)
		ret = cl_check_known(ctx, "volume", out->items[i]->id,
				     out->items[i]->backend_name, err);
	if (ret)
		cl_volume_list_free(out);
	return ret;
}

/* Exactly one match in @l, else an error listing the candidates. */
static int pick_one(const char *what, const char *ref, size_t count,
		    const char *const *ids, struct cl_error *err)
{
	char list[256] = "";

	if (count == 1)
		return 0;
	if (count == 0)
		return cl_error_set(err, -ENOENT, "no %s '%s'", what, ref);
	for (size_t i = 0; i < count && i < 4; i++) {
		strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
		strncat(list, ids[i], sizeof(list) - strlen(list) - 1);
	}
	return cl_error_set(err, -EEXIST, "%s '%s' is ambiguous: %zu match (%s%s)",
			    what, ref, count, list, count > 4 ? ", ..." : "");
}

int cl_volume_lookup(struct cl_context *ctx, const char *ref,
		     struct cl_volume **out, struct cl_error *err)
{
	struct cl_volume_list l = { 0 };
	struct cl_filter f = { 0 };
	const char **ids = NULL;
	size_t n = 0;
	int ret;

	if (!ref || !*ref)
		return cl_error_set(err, -EINVAL, "no volume given");
	if (cl_uuid_valid(ref) &&
	    cl_volume_get(ctx, ref, out, NULL) == 0)
		return 0;
	f.name = ref;
	ret = cl_volume_find(ctx, &f, &l, err);
	if (!ret && l.count == 0 && strlen(ref) >= 4) {
		struct cl_volume_list all = { 0 };

		ret = cl_volume_find(ctx, NULL, &all, err);
		for (size_t i = 0; !ret && i < all.count; i++) {
			if (strncmp(all.items[i]->id, ref, strlen(ref)) == 0) {
				if (cl_volume_list_append(&l, all.items[i]))
					ret = cl_error_set(err, -ENOMEM,
							   "out of memory");
				else
					all.items[i] = NULL;
			}
		}
		cl_volume_list_free(&all);
	}
	if (ret)
		goto out;
	ids = calloc(l.count + 1, sizeof(*ids));
	if (!ids) {
		ret = cl_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (n = 0; n < l.count; n++)
		ids[n] = l.items[n]->id;
	ret = pick_one("volume", ref, n, ids, err);
	if (!ret) {
		*out = l.items[0];
		l.items[0] = NULL;
	}
out:
	free(ids);
	cl_volume_list_free(&l);
	return ret;
}

int cl_volume_snapshots(struct cl_context *ctx, const struct cl_volume *vol,
			struct cl_snapshot_list *out, struct cl_error *err)
{
	struct cl_filter f = { .volume_id = vol->id };

	return cl_snapshot_find(ctx, &f, out, err);
}

int cl_volume_connections(struct cl_context *ctx, const struct cl_volume *vol,
			  struct cl_connection_list *out, struct cl_error *err)
{
	struct cl_filter f = { .volume_id = vol->id };

	return cl_connection_find(ctx, &f, out, err);
}
