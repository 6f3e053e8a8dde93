// SPDX-License-Identifier: Apache-2.0
/* Dictionaries, status names, object copies, lists and filters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cl_internal.h"

const char *cl_dict_get(const struct cl_dict *d, const char *key)
{
	if (!d || !key)
		return NULL;
	for (size_t i = 0; i < d->count; i++)
		if (strcmp(d->entries[i].key, key) == 0)
			return d->entries[i].value;
	return NULL;
}

int cl_dict_set(struct cl_dict *d, const char *key, const char *value)
{
	struct cl_dict_entry *grown;
	char *k, *v;

	if (!d || !key)
		return -EINVAL;
	for (size_t i = 0; i < d->count; i++) {
		if (strcmp(d->entries[i].key, key) != 0)
			continue;
		if (!value) {
			free(d->entries[i].key);
			free(d->entries[i].value);
			memmove(&d->entries[i], &d->entries[i + 1],
				(d->count - i - 1) * sizeof(d->entries[0]));
			d->count--;
			return 0;
		}
		v = strdup(value);
		if (!v)
			return -ENOMEM;
		free(d->entries[i].value);
		d->entries[i].value = v;
		return 0;
	}
	if (!value)
		return 0;
	grown = realloc(d->entries, (d->count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	d->entries = grown;
	k = strdup(key);
	v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	d->entries[d->count].key = k;
	d->entries[d->count].value = v;
	d->count++;
	return 0;
}

int cl_dict_update(struct cl_dict *dst, const struct cl_dict *src)
{
	if (!src)
		return 0;
	for (size_t i = 0; i < src->count; i++) {
		int ret = cl_dict_set(dst, src->entries[i].key,
				      src->entries[i].value);

		if (ret)
			return ret;
	}
	return 0;
}

int cl_dict_copy(struct cl_dict *dst, const struct cl_dict *src)
{
	int ret;

	*dst = (struct cl_dict){ 0 };
	ret = cl_dict_update(dst, src);
	if (ret)
		cl_dict_clear(dst);
	return ret;
}

void cl_dict_clear(struct cl_dict *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->count; i++) {
		free(d->entries[i].key);
		free(d->entries[i].value);
	}
	free(d->entries);
	d->entries = NULL;
	d->count = 0;
}

bool cl_dict_equal(const struct cl_dict *a, const struct cl_dict *b)
{
	size_t na = a ? a->count : 0, nb = b ? b->count : 0;

	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		const char *v = cl_dict_get(b, a->entries[i].key);

		if (!v || strcmp(v, a->entries[i].value) != 0)
			return false;
	}
	return true;
}

static const char *const status_names[CL_STATUS__COUNT] = {
	[CL_STATUS_CREATING] = "creating",
	[CL_STATUS_AVAILABLE] = "available",
	[CL_STATUS_IN_USE] = "in-use",
	[CL_STATUS_EXTENDING] = "extending",
	[CL_STATUS_DELETING] = "deleting",
	[CL_STATUS_DELETED] = "deleted",
	[CL_STATUS_ERROR] = "error",
	[CL_STATUS_ERROR_DELETING] = "error_deleting",
	[CL_STATUS_ERROR_EXTENDING] = "error_extending",
};

const char *cl_status_name(enum cl_status status)
{
	if ((unsigned int)status >= CL_STATUS__COUNT)
		return "unknown";
	return status_names[status];
}

int cl_status_parse(const char *name, enum cl_status *out)
{
	for (int i = 0; i < CL_STATUS__COUNT; i++) {
		if (name && strcmp(name, status_names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const attach_names[CL_ATTACH__COUNT] = {
	[CL_ATTACH_ATTACHING] = "attaching",
	[CL_ATTACH_ATTACHED] = "attached",
	[CL_ATTACH_DETACHING] = "detaching",
	[CL_ATTACH_DETACHED] = "detached",
	[CL_ATTACH_ERROR_ATTACHING] = "error_attaching",
	[CL_ATTACH_ERROR_DETACHING] = "error_detaching",
};

const char *cl_attach_status_name(enum cl_attach_status status)
{
	if ((unsigned int)status >= CL_ATTACH__COUNT)
		return "unknown";
	return attach_names[status];
}

int cl_attach_status_parse(const char *name, enum cl_attach_status *out)
{
	for (int i = 0; i < CL_ATTACH__COUNT; i++) {
		if (name && strcmp(name, attach_names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *cl_attach_mode_name(enum cl_attach_mode mode)
{
	return mode == CL_ATTACH_RO ? "ro" : "rw";
}

void cl_volume_free(struct cl_volume *vol)
{
	if (!vol)
		return;
	free(vol->name);
	free(vol->description);
	cl_dict_clear(&vol->metadata);
	cl_dict_clear(&vol->admin_metadata);
	cl_dict_clear(&vol->extra_specs);
	cl_dict_clear(&vol->qos_specs);
	free(vol->provider_location);
	free(vol->provider_id);
	free(vol->source_volid);
	free(vol->snapshot_id);
	free(vol->backend_name);
	free(vol->host);
	free(vol);
}

void cl_snapshot_free(struct cl_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->name);
	free(snap->description);
	cl_dict_clear(&snap->metadata);
	free(snap->provider_location);
	free(snap->provider_id);
	free(snap->backend_name);
	free(snap);
}

void cl_connection_free(struct cl_connection *conn)
{
	if (!conn)
		return;
	free(conn->backend_name);
	cl_dict_clear(&conn->connector);
	free(conn->driver_volume_type);
	cl_dict_clear(&conn->connection_data);
	free(conn->device_path);
	free(conn->attached_host);
	cl_dict_clear(&conn->provider_data);
	free(conn);
}

#define DUP_STR(dst, src, field)					\
	do {								\
		if ((src)->field && !((dst)->field = strdup((src)->field))) \
			goto oom;					\
	} while (0)
#define DUP_DICT(dst, src, field)					\
	do {								\
		if (cl_dict_copy(&(dst)->field, &(src)->field))		\
			goto oom;					\
	} while (0)

struct cl_volume *cl_volume_dup(const struct cl_volume *vol)
{
	struct cl_volume *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	memcpy(c->id, vol->id, sizeof(c->id));
	c->size = vol->size;
	c->status = vol->status;
	c->bootable = vol->bootable;
	c->created_at = vol->created_at;
	c->updated_at = vol->updated_at;
	DUP_STR(c, vol, name);
	DUP_STR(c, vol, description);
	DUP_DICT(c, vol, metadata);
	DUP_DICT(c, vol, admin_metadata);
	DUP_DICT(c, vol, extra_specs);
	DUP_DICT(c, vol, qos_specs);
	DUP_STR(c, vol, provider_location);
	DUP_STR(c, vol, provider_id);
	DUP_STR(c, vol, source_volid);
	DUP_STR(c, vol, snapshot_id);
	DUP_STR(c, vol, backend_name);
	DUP_STR(c, vol, host);
	return c;
oom:
	cl_volume_free(c);
	return NULL;
}

struct cl_snapshot *cl_snapshot_dup(const struct cl_snapshot *snap)
{
	struct cl_snapshot *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	memcpy(c->id, snap->id, sizeof(c->id));
	memcpy(c->volume_id, snap->volume_id, sizeof(c->volume_id));
	c->volume_size = snap->volume_size;
	c->status = snap->status;
	c->created_at = snap->created_at;
	c->updated_at = snap->updated_at;
	DUP_STR(c, snap, name);
	DUP_STR(c, snap, description);
	DUP_DICT(c, snap, metadata);
	DUP_STR(c, snap, provider_location);
	DUP_STR(c, snap, provider_id);
	DUP_STR(c, snap, backend_name);
	return c;
oom:
	cl_snapshot_free(c);
	return NULL;
}

struct cl_connection *cl_connection_dup(const struct cl_connection *conn)
{
	struct cl_connection *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	memcpy(c->id, conn->id, sizeof(c->id));
	memcpy(c->volume_id, conn->volume_id, sizeof(c->volume_id));
	c->status = conn->status;
	c->attach_mode = conn->attach_mode;
	c->created_at = conn->created_at;
	c->updated_at = conn->updated_at;
	DUP_STR(c, conn, backend_name);
	DUP_DICT(c, conn, connector);
	DUP_STR(c, conn, driver_volume_type);
	DUP_DICT(c, conn, connection_data);
	DUP_STR(c, conn, device_path);
	DUP_STR(c, conn, attached_host);
	DUP_DICT(c, conn, provider_data);
	return c;
oom:
	cl_connection_free(c);
	return NULL;
}

#define DEFINE_LIST(type)						\
int cl_##type##_list_append(struct cl_##type##_list *l,			\
			    struct cl_##type *obj)			\
{									\
	struct cl_##type **grown;					\
									\
	grown = realloc(l->items, (l->count + 1) * sizeof(*grown));	\
	if (!grown)							\
		return -ENOMEM;						\
	l->items = grown;						\
	l->items[l->count++] = obj;					\
	return 0;							\
}									\
									\
void cl_##type##_list_free(struct cl_##type##_list *l)			\
{									\
	if (!l)								\
		return;							\
	for (size_t i = 0; i < l->count; i++)				\
		cl_##type##_free(l->items[i]);				\
	free(l->items);							\
	l->items = NULL;						\
	l->count = 0;							\
}

DEFINE_LIST(volume)
DEFINE_LIST(snapshot)
DEFINE_LIST(connection)

bool cl_filter_match(const struct cl_filter *f, const char *id,
		     const char *name, const char *backend,
		     const char *volume_id)
{
	if (!f)
		return true;
	if (f->id && strcmp(f->id, id) != 0)
		return false;
	if (f->name && (!name || strcmp(f->name, name) != 0))
		return false;
	if (f->backend && (!backend || strcmp(f->backend, backend) != 0))
		return false;
	if (f->volume_id && (!volume_id || strcmp(f->volume_id, volume_id)))
		return false;
	return true;
}
