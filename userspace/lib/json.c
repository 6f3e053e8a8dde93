// SPDX-License-Identifier: Apache-2.0
/*
 * JSON form of the objects (json-c). Every object carries "class" so that a
 * dump says what it holds; absent strings are null; timestamps are ISO 8601
 * UTC with microseconds, so that a round trip is exact.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cl_internal.h"

#define CL_FORMAT_VERSION 1

static void put_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, val ? json_object_new_string(val) : NULL);
}

static void put_time(struct json_object *o, const char *key, int64_t us)
{
	char buf[48];

	cl_time_format(us, buf, sizeof(buf));
	json_object_object_add(o, key, json_object_new_string(buf));
}

struct json_object *cl_dict_to_jobj(const struct cl_dict *d)
{
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; o && d && i < d->count; i++)
		json_object_object_add(o, d->entries[i].key,
				json_object_new_string(d->entries[i].value));
	return o;
}

/*
 * connection_info.data as Cinder's drivers give it: the values are kept as
 * text, and "true", "false" and JSON arrays (an rbd connection's hosts and
 * ports) are written as JSON booleans and arrays, so that clients such as
 * os-brick read them as they read Cinder's.
 */
static struct json_object *info_data_to_jobj(const struct cl_dict *d)
{
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; o && d && i < d->count; i++) {
		const char *v = d->entries[i].value;
		struct json_object *typed = NULL;

		if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
			typed = json_object_new_boolean(v[0] == 't');
		} else if (v[0] == '[') {
			typed = json_tokener_parse(v);
			if (typed && !json_object_is_type(typed,
							  json_type_array)) {
				json_object_put(typed);
				typed = NULL;
			}
		}
		json_object_object_add(o, d->entries[i].key, typed ? typed :
				       json_object_new_string(v));
	}
	return o;
}

/* ... and back: arrays become their JSON text. */
static int info_data_from_jobj(struct json_object *o, struct cl_dict *d,
			       struct cl_error *err)
{
	if (!json_object_is_type(o, json_type_object))
		return cl_error_set(err, -EINVAL,
				    "connection_info: data is not an object");
	json_object_object_foreach(o, key, val) {
		const char *s;

		if (!val)
			continue;
		if (json_object_is_type(val, json_type_object))
			return cl_error_set(err, -EINVAL,
					    "connection_info: data: value of '%s' is an object",
					    key);
		s = json_object_is_type(val, json_type_array) ?
		    json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN) :
		    json_object_get_string(val);
		if (cl_dict_set(d, key, s))
			return cl_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

struct json_object *cl_volume_to_jobj(const struct cl_volume *v)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	put_str(o, "class", "Volume");
	put_str(o, "id", v->id);
	put_str(o, "name", v->name);
	put_str(o, "description", v->description);
	json_object_object_add(o, "size", json_object_new_uint64(v->size));
	put_str(o, "status", cl_status_name(v->status));
	json_object_object_add(o, "bootable",
			       json_object_new_boolean(v->bootable));
	json_object_object_add(o, "metadata", cl_dict_to_jobj(&v->metadata));
	json_object_object_add(o, "admin_metadata",
			       cl_dict_to_jobj(&v->admin_metadata));
	json_object_object_add(o, "extra_specs",
			       cl_dict_to_jobj(&v->extra_specs));
	json_object_object_add(o, "qos_specs", cl_dict_to_jobj(&v->qos_specs));
	put_str(o, "provider_location", v->provider_location);
	put_str(o, "provider_id", v->provider_id);
	put_str(o, "source_volid", v->source_volid);
	put_str(o, "snapshot_id", v->snapshot_id);
	put_str(o, "backend", v->backend_name);
	put_str(o, "host", v->host);
	put_time(o, "created_at", v->created_at);
	put_time(o, "updated_at", v->updated_at);
	return o;
}

struct json_object *cl_snapshot_to_jobj(const struct cl_snapshot *s)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	put_str(o, "class", "Snapshot");
	put_str(o, "id", s->id);
	put_str(o, "volume_id", s->volume_id);
	put_str(o, "name", s->name);
	put_str(o, "description", s->description);
	json_object_object_add(o, "volume_size",
			       json_object_new_uint64(s->volume_size));
	put_str(o, "status", cl_status_name(s->status));
	json_object_object_add(o, "metadata", cl_dict_to_jobj(&s->metadata));
	put_str(o, "provider_location", s->provider_location);
	put_str(o, "provider_id", s->provider_id);
	put_str(o, "backend", s->backend_name);
	put_time(o, "created_at", s->created_at);
	put_time(o, "updated_at", s->updated_at);
	return o;
}

struct json_object *cl_connection_to_jobj(const struct cl_connection *c)
{
	struct json_object *o = json_object_new_object();
	struct json_object *info;

	if (!o)
		return NULL;
	put_str(o, "class", "Connection");
	put_str(o, "id", c->id);
	put_str(o, "volume_id", c->volume_id);
	put_str(o, "backend", c->backend_name);
	put_str(o, "attach_status", cl_attach_status_name(c->status));
	put_str(o, "attach_mode", cl_attach_mode_name(c->attach_mode));
	json_object_object_add(o, "connector", cl_dict_to_jobj(&c->connector));
	info = json_object_new_object();
	put_str(info, "driver_volume_type", c->driver_volume_type);
	json_object_object_add(info, "data",
			       info_data_to_jobj(&c->connection_data));
	json_object_object_add(o, "connection_info", info);
	put_str(o, "device_path", c->device_path);
	put_str(o, "attached_host", c->attached_host);
	if (c->provider_data.count)
		json_object_object_add(o, "provider_data",
				       cl_dict_to_jobj(&c->provider_data));
	put_time(o, "created_at", c->created_at);
	put_time(o, "updated_at", c->updated_at);
	return o;
}

int cl_jobj_to_string(struct json_object *o, bool pretty, char **json,
		      struct cl_error *err)
{
	int flags = pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			   : JSON_C_TO_STRING_PLAIN;
	const char *s;

	if (!o)
		return cl_error_set(err, -ENOMEM, "out of memory");
	flags |= JSON_C_TO_STRING_NOSLASHESCAPE;
	s = json_object_to_json_string_ext(o, flags);
	*json = s ? strdup(s) : NULL;
	json_object_put(o);
	if (!*json)
		return cl_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

int cl_volume_to_json(const struct cl_volume *vol, bool pretty, char **json,
		      struct cl_error *err)
{
	return cl_jobj_to_string(cl_volume_to_jobj(vol), pretty, json, err);
}

int cl_snapshot_to_json(const struct cl_snapshot *snap, bool pretty,
			char **json, struct cl_error *err)
{
	return cl_jobj_to_string(cl_snapshot_to_jobj(snap), pretty, json, err);
}

int cl_connection_to_json(const struct cl_connection *conn, bool pretty,
			  char **json, struct cl_error *err)
{
	return cl_jobj_to_string(cl_connection_to_jobj(conn), pretty, json,
				 err);
}

/* ---- parsing ---- */

struct reader {
	struct json_object *o;
	const char *what;
	struct cl_error *err;
	int ret;
};

static struct json_object *field(struct reader *r, const char *key,
				 json_type type, bool required)
{
	struct json_object *v = NULL;

	if (r->ret)
		return NULL;
	if (!json_object_object_get_ex(r->o, key, &v) || !v) {
		if (required)
			r->ret = cl_error_set(r->err, -EINVAL,
					      "%s: missing field '%s'",
					      r->what, key);
		return NULL;
	}
	if (!json_object_is_type(v, type)) {
		r->ret = cl_error_set(r->err, -EINVAL,
				      "%s: field '%s' has the wrong type",
				      r->what, key);
		return NULL;
	}
	return v;
}

static void get_str(struct reader *r, const char *key, char **dst,
		    bool required)
{
	struct json_object *v = field(r, key, json_type_string, required);

	if (v && !(*dst = strdup(json_object_get_string(v))))
		r->ret = cl_error_set(r->err, -ENOMEM, "out of memory");
}

static void get_id(struct reader *r, const char *key, char dst[CL_ID_LEN])
{
	struct json_object *v = field(r, key, json_type_string, true);

	if (!v)
		return;
	if (!cl_uuid_valid(json_object_get_string(v))) {
		r->ret = cl_error_set(r->err, -EINVAL,
				      "%s: field '%s' is not a UUID", r->what,
				      key);
		return;
	}
	memcpy(dst, json_object_get_string(v), CL_ID_LEN);
}

static void get_u64(struct reader *r, const char *key, uint64_t *dst)
{
	struct json_object *v = field(r, key, json_type_int, true);

	if (!v)
		return;
	if (json_object_get_int64(v) < 0) {
		r->ret = cl_error_set(r->err, -EINVAL, "%s: negative '%s'",
				      r->what, key);
		return;
	}
	*dst = json_object_get_uint64(v);
}

static void get_time(struct reader *r, const char *key, int64_t *dst)
{
	struct json_object *v = field(r, key, json_type_string, true);

	if (v && cl_time_parse(json_object_get_string(v), dst))
		r->ret = cl_error_set(r->err, -EINVAL,
				      "%s: bad timestamp in '%s'", r->what,
				      key);
}

int cl_dict_from_jobj(struct json_object *o, struct cl_dict *d,
		      const char *what, struct cl_error *err)
{
	if (!json_object_is_type(o, json_type_object))
		return cl_error_set(err, -EINVAL, "%s is not an object", what);
	json_object_object_foreach(o, key, val) {
		const char *s;

		if (!val)
			continue;
		/* Cinder specs may hold numbers and booleans: keep text. */
		if (json_object_is_type(val, json_type_object) ||
		    json_object_is_type(val, json_type_array))
			return cl_error_set(err, -EINVAL,
					    "%s: value of '%s' is not a string",
					    what, key);
		s = json_object_get_string(val);
		if (cl_dict_set(d, key, s))
			return cl_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

static void get_dict(struct reader *r, const char *key, struct cl_dict *d)
{
	struct json_object *v = field(r, key, json_type_object, false);
	char what[96];

	if (!v)
		return;
	snprintf(what, sizeof(what), "%s: %s", r->what, key);
	r->ret = cl_dict_from_jobj(v, d, what, r->err);
}

static void check_class(struct reader *r, const char *cls)
{
	struct json_object *v = field(r, "class", json_type_string, false);

	if (v && strcmp(json_object_get_string(v), cls) != 0)
		r->ret = cl_error_set(r->err, -EINVAL,
				      "expected a %s, got a %s", cls,
				      json_object_get_string(v));
}

static void get_status(struct reader *r, enum cl_status *st)
{
	char *s = NULL;

	get_str(r, "status", &s, true);
	if (s && cl_status_parse(s, st))
		r->ret = cl_error_set(r->err, -EINVAL, "%s: unknown status '%s'",
				      r->what, s);
	free(s);
}

static int start(struct reader *r, struct json_object *o, const char *what,
		 struct cl_error *err)
{
	*r = (struct reader){ .o = o, .what = what, .err = err };
	if (!json_object_is_type(o, json_type_object))
		return r->ret = cl_error_set(err, -EINVAL,
					     "%s is not a JSON object", what);
	return 0;
}

int cl_volume_from_jobj(struct json_object *o, struct cl_volume **out,
			struct cl_error *err)
{
	struct cl_volume *v = calloc(1, sizeof(*v));
	struct json_object *b;
	struct reader r;

	if (!v)
		return cl_error_set(err, -ENOMEM, "out of memory");
	if (!start(&r, o, "volume", err)) {
		check_class(&r, "Volume");
		get_id(&r, "id", v->id);
		get_str(&r, "name", &v->name, false);
		get_str(&r, "description", &v->description, false);
		get_u64(&r, "size", &v->size);
		get_status(&r, &v->status);
		b = field(&r, "bootable", json_type_boolean, false);
		v->bootable = b && json_object_get_boolean(b);
		get_dict(&r, "metadata", &v->metadata);
		get_dict(&r, "admin_metadata", &v->admin_metadata);
		get_dict(&r, "extra_specs", &v->extra_specs);
		get_dict(&r, "qos_specs", &v->qos_specs);
		get_str(&r, "provider_location", &v->provider_location, false);
		get_str(&r, "provider_id", &v->provider_id, false);
		get_str(&r, "source_volid", &v->source_volid, false);
		get_str(&r, "snapshot_id", &v->snapshot_id, false);
		get_str(&r, "backend", &v->backend_name, true);
		get_str(&r, "host", &v->host, false);
		get_time(&r, "created_at", &v->created_at);
		get_time(&r, "updated_at", &v->updated_at);
	}
	if (r.ret) {
		cl_volume_free(v);
		return r.ret;
	}
	*out = v;
	return 0;
}

int cl_snapshot_from_jobj(struct json_object *o, struct cl_snapshot **out,
			  struct cl_error *err)
{
	struct cl_snapshot *s = calloc(1, sizeof(*s));
	struct reader r;

	if (!s)
		return cl_error_set(err, -ENOMEM, "out of memory");
	if (!start(&r, o, "snapshot", err)) {
		check_class(&r, "Snapshot");
		get_id(&r, "id", s->id);
		get_id(&r, "volume_id", s->volume_id);
		get_str(&r, "name", &s->name, false);
		get_str(&r, "description", &s->description, false);
		get_u64(&r, "volume_size", &s->volume_size);
		get_status(&r, &s->status);
		get_dict(&r, "metadata", &s->metadata);
		get_str(&r, "provider_location", &s->provider_location, false);
		get_str(&r, "provider_id", &s->provider_id, false);
		get_str(&r, "backend", &s->backend_name, true);
		get_time(&r, "created_at", &s->created_at);
		get_time(&r, "updated_at", &s->updated_at);
	}
	if (r.ret) {
		cl_snapshot_free(s);
		return r.ret;
	}
	*out = s;
	return 0;
}

int cl_connection_from_jobj(struct json_object *o, struct cl_connection **out,
			    struct cl_error *err)
{
	struct cl_connection *c = calloc(1, sizeof(*c));
	struct json_object *info;
	char *st = NULL, *mode = NULL;
	struct reader r;

	if (!c)
		return cl_error_set(err, -ENOMEM, "out of memory");
	if (!start(&r, o, "connection", err)) {
		check_class(&r, "Connection");
		get_id(&r, "id", c->id);
		get_id(&r, "volume_id", c->volume_id);
		get_str(&r, "backend", &c->backend_name, true);
		get_str(&r, "attach_status", &st, true);
		if (st && cl_attach_status_parse(st, &c->status))
			r.ret = cl_error_set(err, -EINVAL,
					     "connection: unknown attach_status '%s'",
					     st);
		get_str(&r, "attach_mode", &mode, false);
		if (mode && strcmp(mode, "ro") == 0)
			c->attach_mode = CL_ATTACH_RO;
		else if (mode && strcmp(mode, "rw") != 0 && !r.ret)
			r.ret = cl_error_set(err, -EINVAL,
					     "connection: attach_mode '%s' is not rw or ro",
					     mode);
		get_dict(&r, "connector", &c->connector);
		info = field(&r, "connection_info", json_type_object, false);
		if (info) {
			struct json_object *data;
			struct reader ri;

			start(&ri, info, "connection_info", err);
			get_str(&ri, "driver_volume_type",
				&c->driver_volume_type, false);
			data = field(&ri, "data", json_type_object, false);
			if (data && !ri.ret)
				ri.ret = info_data_from_jobj(data,
							     &c->connection_data,
							     err);
			r.ret = ri.ret;
		}
		get_str(&r, "device_path", &c->device_path, false);
		get_str(&r, "attached_host", &c->attached_host, false);
		get_dict(&r, "provider_data", &c->provider_data);
		get_time(&r, "created_at", &c->created_at);
		get_time(&r, "updated_at", &c->updated_at);
	}
	free(st);
	free(mode);
	if (r.ret) {
		cl_connection_free(c);
		return r.ret;
	}
	*out = c;
	return 0;
}

static struct json_object *parse(const char *json, struct cl_error *err,
				 int *ret)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	enum json_tokener_error jerr;

	if (!tok) {
		*ret = cl_error_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, json, (int)strlen(json));
	jerr = json_tokener_get_error(tok);
	if (!o || jerr != json_tokener_success ||
	    tok->char_offset != (int)strlen(json)) {
		*ret = cl_error_set(err, -EINVAL, "invalid JSON at offset %d: %s",
				    (int)tok->char_offset,
				    jerr == json_tokener_success ?
				    "trailing data" :
				    json_tokener_error_desc(jerr));
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

#define DEFINE_FROM_JSON(type)						\
int cl_##type##_from_json(const char *json, struct cl_##type **out,	\
			  struct cl_error *err)				\
{									\
	struct json_object *o;						\
	int ret = 0;							\
									\
	if (!json)							\
		return cl_error_set(err, -EINVAL, "no JSON given");	\
	o = parse(json, err, &ret);					\
	if (!o)								\
		return ret;						\
	ret = cl_##type##_from_jobj(o, out, err);			\
	json_object_put(o);						\
	return ret;							\
}

DEFINE_FROM_JSON(volume)
DEFINE_FROM_JSON(snapshot)
DEFINE_FROM_JSON(connection)

/*
 * connection_info copied from another host: a Connection as 'connection
 * show --json' or the serialization prints it (its connection_info,
 * volume_id and attach_mode are read, the rest ignored), or
 * {"driver_volume_type": ..., "data": {...}} alone.
 */
int cl_connection_info_from_json(const char *json, struct cl_connection **out,
				 struct cl_error *err)
{
	struct json_object *o, *info, *data;
	struct cl_connection *c;
	char *id = NULL, *mode = NULL;
	struct reader r, ri;
	int ret = 0;

	*out = NULL;
	if (!json)
		return cl_error_set(err, -EINVAL, "no JSON given");
	o = parse(json, err, &ret);
	if (!o)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c) {
		json_object_put(o);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	info = o;
	if (!start(&r, o, "connection", err) &&
	    json_object_object_get_ex(o, "connection_info", NULL)) {
		info = field(&r, "connection_info", json_type_object, true);
		get_str(&r, "volume_id", &id, false);
		get_str(&r, "attach_mode", &mode, false);
		if (id && !r.ret && strlen(id) >= sizeof(c->volume_id))
			r.ret = cl_error_set(err, -EINVAL,
					     "connection: volume_id '%s' is too long",
					     id);
		if (id && !r.ret)
			memcpy(c->volume_id, id, strlen(id) + 1);
		if (mode && !r.ret)
			c->attach_mode = strcmp(mode, "ro") == 0 ?
					 CL_ATTACH_RO : CL_ATTACH_RW;
	}
	if (!r.ret && !start(&ri, info, "connection_info", err)) {
		get_str(&ri, "driver_volume_type", &c->driver_volume_type,
			true);
		data = field(&ri, "data", json_type_object, true);
		if (data && !ri.ret)
			ri.ret = info_data_from_jobj(data, &c->connection_data,
						     err);
		r.ret = ri.ret;
	} else if (!r.ret) {
		r.ret = -EINVAL;
	}
	free(id);
	free(mode);
	json_object_put(o);
	if (r.ret) {
		cl_connection_free(c);
		return r.ret;
	}
	*out = c;
	return 0;
}

/* ---- the whole state ---- */

void cl_state_free(struct cl_state *state)
{
	if (!state)
		return;
	cl_volume_list_free(&state->volumes);
	cl_snapshot_list_free(&state->snapshots);
	cl_connection_list_free(&state->connections);
	cl_dict_clear(&state->key_values);
	free(state);
}

static int compare_keys(const void *a, const void *b)
{
	const struct cl_dict_entry *x = a, *y = b;

	return strcmp(x->key, y->key);
}

int cl_state_dump(struct cl_context *ctx, bool pretty, char **json,
		  struct cl_error *err)
{
	const struct cl_persistence_ops *s = ctx->store_ops;
	struct cl_volume_list vols = { 0 };
	struct cl_snapshot_list snaps = { 0 };
	struct cl_connection_list conns = { 0 };
	struct cl_dict kvs = { 0 };
	struct json_object *o = NULL, *a;
	int ret;

	ret = s->get_volumes(ctx->store, NULL, &vols, err);
	if (!ret)
		ret = s->get_snapshots(ctx->store, NULL, &snaps, err);
	if (!ret)
		ret = s->get_connections(ctx->store, NULL, &conns, err);
	if (!ret)
		ret = s->get_key_values(ctx->store, NULL, &kvs, err);
	if (ret)
		goto out;
	/* Stores order keys differently: sort so equal stores dump equal. */
	qsort(kvs.entries, kvs.count, sizeof(kvs.entries[0]), compare_keys);
	o = json_object_new_object();
	json_object_object_add(o, "format",
			       json_object_new_int(CL_FORMAT_VERSION));
	a = json_object_new_array();
	for (size_t i = 0; i < vols.count; i++)
		json_object_array_add(a, cl_volume_to_jobj(vols.items[i]));
	json_object_object_add(o, "volumes", a);
	a = json_object_new_array();
	for (size_t i = 0; i < snaps.count; i++)
		json_object_array_add(a, cl_snapshot_to_jobj(snaps.items[i]));
	json_object_object_add(o, "snapshots", a);
	a = json_object_new_array();
	for (size_t i = 0; i < conns.count; i++)
		json_object_array_add(a,
				      cl_connection_to_jobj(conns.items[i]));
	json_object_object_add(o, "connections", a);
	json_object_object_add(o, "key_values", cl_dict_to_jobj(&kvs));
	ret = cl_jobj_to_string(o, pretty, json, err);
out:
	cl_volume_list_free(&vols);
	cl_snapshot_list_free(&snaps);
	cl_connection_list_free(&conns);
	cl_dict_clear(&kvs);
	return ret;
}

static int check_backend(struct cl_context *ctx, const char *what,
			 const char *id, const char *backend,
			 struct cl_error *err)
{
	if (!ctx->fail_on_missing_backend || cl_backend_known(ctx, backend))
		return 0;
	return cl_error_set(err, -ENODEV,
			    "%s %s belongs to backend '%s', which is not configured",
			    what, id, backend);
}

static int load_state(struct cl_context *ctx, struct json_object *o,
		      struct cl_state *st, struct cl_error *err)
{
	struct json_object *a, *fmt;
	int ret;

	if (!json_object_is_type(o, json_type_object))
		return cl_error_set(err, -EINVAL, "state dump is not an object");
	if (!json_object_object_get_ex(o, "format", &fmt) ||
	    json_object_get_int(fmt) != CL_FORMAT_VERSION)
		return cl_error_set(err, -EINVAL,
				    "not a cinderlib state dump of format %d",
				    CL_FORMAT_VERSION);
	if (json_object_object_get_ex(o, "volumes", &a)) {
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct cl_volume *v;

			ret = cl_volume_from_jobj(json_object_array_get_idx(a, i),
						  &v, err);
			if (ret)
				return ret;
			if (cl_volume_list_append(&st->volumes, v)) {
				cl_volume_free(v);
				return cl_error_set(err, -ENOMEM, "out of memory");
			}
			ret = check_backend(ctx, "volume", v->id,
					    v->backend_name, err);
			if (ret)
				return ret;
		}
	}
	if (json_object_object_get_ex(o, "snapshots", &a)) {
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct cl_snapshot *s;

			ret = cl_snapshot_from_jobj(json_object_array_get_idx(a, i),
						    &s, err);
			if (ret)
				return ret;
			if (cl_snapshot_list_append(&st->snapshots, s)) {
				cl_snapshot_free(s);
				return cl_error_set(err, -ENOMEM, "out of memory");
			}
			ret = check_backend(ctx, "snapshot", s->id,
					    s->backend_name, err);
			if (ret)
				return ret;
		}
	}
	if (json_object_object_get_ex(o, "connections", &a)) {
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct cl_connection *c;

			ret = cl_connection_from_jobj(json_object_array_get_idx(a, i),
						      &c, err);
			if (ret)
				return ret;
			if (cl_connection_list_append(&st->connections, c)) {
				cl_connection_free(c);
				return cl_error_set(err, -ENOMEM, "out of memory");
			}
			ret = check_backend(ctx, "connection", c->id,
					    c->backend_name, err);
			if (ret)
				return ret;
		}
	}
	if (json_object_object_get_ex(o, "key_values", &a) && a)
		return cl_dict_from_jobj(a, &st->key_values, "key_values", err);
	return 0;
}

static int save_state(struct cl_context *ctx, struct cl_state *st,
		      struct cl_error *err)
{
	const struct cl_persistence_ops *s = ctx->store_ops;
	int ret = cl_store_begin(ctx, err);

	if (ret)
		return ret;
	for (size_t i = 0; !ret && i < st->volumes.count; i++)
		ret = s->set_volume(ctx->store, st->volumes.items[i], err);
	for (size_t i = 0; !ret && i < st->snapshots.count; i++)
		ret = s->set_snapshot(ctx->store, st->snapshots.items[i], err);
	for (size_t i = 0; !ret && i < st->connections.count; i++)
		ret = s->set_connection(ctx->store, st->connections.items[i],
					err);
	for (size_t i = 0; !ret && i < st->key_values.count; i++)
		ret = s->set_key_value(ctx->store, st->key_values.entries[i].key,
				       st->key_values.entries[i].value, err);
	if (ret) {
		cl_store_rollback(ctx);
		return ret;
	}
	return cl_store_commit(ctx, err);
}

int cl_state_load(struct cl_context *ctx, const char *json, bool save,
		  struct cl_state **out, struct cl_error *err)
{
	struct cl_state *st;
	struct json_object *o;
	int ret = 0;

	if (!json)
		return cl_error_set(err, -EINVAL, "no JSON given");
	o = parse(json, err, &ret);
	if (!o)
		return ret;
	st = calloc(1, sizeof(*st));
	if (!st) {
		json_object_put(o);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	ret = load_state(ctx, o, st, err);
	json_object_put(o);
	if (!ret && save)
		ret = save_state(ctx, st, err);
	if (ret || !out)
		cl_state_free(st);
	else
		*out = st;
	return ret;
}

#define DEFINE_LOAD(type, what)						\
int cl_##type##_load(struct cl_context *ctx, const char *json, bool save, \
		     struct cl_##type **out, struct cl_error *err)	\
{									\
	struct cl_##type *obj;						\
	int ret = cl_##type##_from_json(json, &obj, err);		\
									\
	if (ret)							\
		return ret;						\
	ret = check_backend(ctx, what, obj->id, obj->backend_name, err); \
	if (!ret && save)						\
		ret = ctx->store_ops->set_##type(ctx->store, obj, err);	\
	if (ret || !out)						\
		cl_##type##_free(obj);					\
	else								\
		*out = obj;						\
	return ret;							\
}

DEFINE_LOAD(volume, "volume")
DEFINE_LOAD(snapshot, "snapshot")
DEFINE_LOAD(connection, "connection")
