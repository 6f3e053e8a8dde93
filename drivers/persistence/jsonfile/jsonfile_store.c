// SPDX-License-Identifier: Apache-2.0
/*
 * "jsonfile" persistence plugin: the whole state in one JSON file (the
 * format of cl_state_dump()), for small setups and as an example of the
 * persistence ABI. Readers take a shared flock() on FILE.lock, writers an
 * exclusive one; every change rewrites the file atomically (temporary file,
 * fsync, rename), so several processes can share it and a crash leaves
 * either the old or the new state. A file that does not parse is refused
 * and never rewritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cinderlib/persistence.h"

struct jstore {
	char *path;
	int lock_fd;
	int depth;		/* begin() nesting; >0: lock held, state loaded */
	bool dirty;
	struct cl_volume_list volumes;
	struct cl_snapshot_list snapshots;
	struct cl_connection_list connections;
	struct cl_dict kvs;
};

static void clear_state(struct jstore *js)
{
	cl_volume_list_free(&js->volumes);
	cl_snapshot_list_free(&js->snapshots);
	cl_connection_list_free(&js->connections);
	cl_dict_clear(&js->kvs);
	js->dirty = false;
}

#define LOAD_ARRAY(type, key)						\
	do {								\
		struct json_object *a;					\
									\
		if (!json_object_object_get_ex(root, key, &a) || !a)	\
			break;						\
		if (!json_object_is_type(a, json_type_array)) {		\
			ret = -EBADMSG;					\
			break;						\
		}							\
		for (size_t i = 0; !ret && i < json_object_array_length(a); i++) { \
			struct cl_##type *obj;				\
			const char *txt = json_object_to_json_string(	\
				json_object_array_get_idx(a, i));	\
									\
			ret = cl_##type##_from_json(txt, &obj, err);	\
			if (!ret && cl_##type##_list_append(&js->type##s, obj)) { \
				cl_##type##_free(obj);			\
				ret = -ENOMEM;				\
			}						\
		}							\
	} while (0)

static int load(struct jstore *js, struct cl_error *err)
{
	struct json_object *root, *kv;
	int ret = 0;

	clear_state(js);
	root = json_object_from_file(js->path);
	if (!root || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return cl_error_set(err, -EBADMSG,
				    "store %s is not a cinderlib JSON state; left untouched",
				    js->path);
	}
	LOAD_ARRAY(volume, "volumes");
	if (!ret)
		LOAD_ARRAY(snapshot, "snapshots");
	if (!ret)
		LOAD_ARRAY(connection, "connections");
	if (!ret && json_object_object_get_ex(root, "key_values", &kv) && kv) {
		json_object_object_foreach(kv, k, v) {
			if (cl_dict_set(&js->kvs, k, json_object_get_string(v))) {
				ret = -ENOMEM;
				break;
			}
		}
	}
	json_object_put(root);
	if (ret) {
		clear_state(js);
		return cl_error_set(err, ret == -ENOMEM ? ret : -EBADMSG,
				    "store %s: %s", js->path,
				    err && err->msg[0] ? err->msg : "bad content");
	}
	return 0;
}

static int compare_keys(const void *a, const void *b)
{
	return strcmp(((const struct cl_dict_entry *)a)->key,
		      ((const struct cl_dict_entry *)b)->key);
}

#define SAVE_ARRAY(type, key)						\
	do {								\
		struct json_object *a = json_object_new_array();	\
									\
		for (size_t i = 0; i < js->type##s.count; i++) {	\
			char *txt;					\
									\
			if (cl_##type##_to_json(js->type##s.items[i], false, \
						&txt, err) == 0) {	\
				json_object_array_add(a,		\
					json_tokener_parse(txt));	\
				free(txt);				\
			}						\
		}							\
		json_object_object_add(root, key, a);			\
	} while (0)

static int save(struct jstore *js, struct cl_error *err)
{
	struct json_object *root = json_object_new_object(), *kv;
	char *tmp = NULL;
	const char *text;
	int fd, ret = 0;

	json_object_object_add(root, "format", json_object_new_int(1));
	SAVE_ARRAY(volume, "volumes");
	SAVE_ARRAY(snapshot, "snapshots");
	SAVE_ARRAY(connection, "connections");
	kv = json_object_new_object();
	qsort(js->kvs.entries, js->kvs.count, sizeof(js->kvs.entries[0]),
	      compare_keys);
	for (size_t i = 0; i < js->kvs.count; i++)
		json_object_object_add(kv, js->kvs.entries[i].key,
			json_object_new_string(js->kvs.entries[i].value));
	json_object_object_add(root, "key_values", kv);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	if (asprintf(&tmp, "%s.tmp", js->path) < 0) {
		json_object_put(root);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	/* Only the exclusive lock holder writes: one fixed temp name is safe. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fsync(fd) < 0 || rename(tmp, js->path) < 0) {
		ret = cl_error_set(err, -errno, "cannot write store %s: %m",
				   js->path);
		unlink(tmp);
	}
	if (fd >= 0)
		close(fd);
	free(tmp);
	json_object_put(root);
	if (!ret)
		js->dirty = false;
	return ret;
}

static int lock(struct jstore *js, bool exclusive, struct cl_error *err)
{
	if (js->depth > 0)
		return 0;
	while (flock(js->lock_fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
		if (errno != EINTR)
			return cl_error_set(err, -errno, "cannot lock %s: %m",
					    js->path);
	return load(js, err);
}

/* End of one operation: write when changed, drop the lock. */
static int unlock(struct jstore *js, int ret, struct cl_error *err)
{
	if (js->depth > 0)
		return ret;
	if (!ret && js->dirty)
		ret = save(js, err);
	clear_state(js);
	flock(js->lock_fd, LOCK_UN);
	return ret;
}

static void js_close(void *store)
{
	struct jstore *js = store;

	if (!js)
		return;
	clear_state(js);
	if (js->lock_fd >= 0)
		close(js->lock_fd);
	free(js->path);
	free(js);
}

static int js_open(const struct cl_dict *options, void **store,
		   struct cl_error *err)
{
	const char *path = cl_dict_get(options, "path");
	const char *create = cl_dict_get(options, "create");
	struct jstore *js;
	char *lock_path;
	int ret;

	if (!path || !*path)
		return cl_error_set(err, -EINVAL, "jsonfile store: no path given");
	js = calloc(1, sizeof(*js));
	if (!js || !(js->path = strdup(path)) ||
	    asprintf(&lock_path, "%s.lock", path) < 0) {
		if (js)
			free(js->path);
		free(js);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	js->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lock_path);
	if (js->lock_fd < 0) {
		ret = cl_error_set(err, -errno, "cannot open lock of %s: %m",
				   path);
		js_close(js);
		return ret;
	}
	while ((ret = flock(js->lock_fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (ret < 0)
		ret = cl_error_set(err, -errno, "cannot lock %s: %m", path);
	else if (access(path, F_OK) != 0)
		ret = create && strcmp(create, "true") == 0 ?
		      save(js, err) :	/* a new, empty state */
		      cl_error_set(err, -ENOENT, "store %s: %m", path);
	else
		ret = load(js, err);	/* refuse what does not parse */
	clear_state(js);
	flock(js->lock_fd, LOCK_UN);
	if (ret) {
		js_close(js);
		return ret;
	}
	*store = js;
	return 0;
}

static int js_begin(void *store, struct cl_error *err)
{
	struct jstore *js = store;
	int ret = lock(js, true, err);

	if (!ret)
		js->depth++;
	return ret;
}

static int js_commit(void *store, struct cl_error *err)
{
	struct jstore *js = store;

	if (js->depth == 0 || --js->depth > 0)
		return 0;
	return unlock(js, 0, err);
}

static void js_rollback(void *store)
{
	struct jstore *js = store;

	js->depth = 0;
	js->dirty = false;	/* nothing written: the file is unchanged */
	unlock(js, 0, NULL);
}

static bool match(const struct cl_filter *f, const char *id, const char *name,
		  const char *backend, const char *volume_id)
{
	if (!f)
		return true;
	return (!f->id || !strcmp(f->id, id)) &&
	       (!f->name || (name && !strcmp(f->name, name))) &&
	       (!f->backend || (backend && !strcmp(f->backend, backend))) &&
	       (!f->volume_id || (volume_id && !strcmp(f->volume_id, volume_id)));
}

#define NAME_OF_volume(o) ((o)->name)
#define NAME_OF_snapshot(o) ((o)->name)
#define NAME_OF_connection(o) ((const char *)NULL)
#define VOLID_OF_volume(o) ((const char *)NULL)
#define VOLID_OF_snapshot(o) ((o)->volume_id)
#define VOLID_OF_connection(o) ((o)->volume_id)

#define DEFINE_OPS(type)						\
static int js_get_##type##s(void *store, const struct cl_filter *f,	\
			    struct cl_##type##_list *out,		\
			    struct cl_error *err)			\
{									\
	struct jstore *js = store;					\
	int ret = lock(js, false, err);					\
									\
	for (size_t i = 0; !ret && i < js->type##s.count; i++) {	\
		struct cl_##type *o = js->type##s.items[i], *c;		\
									\
		if (!match(f, o->id, NAME_OF_##type(o), o->backend_name, \
			   VOLID_OF_##type(o)))				\
			continue;					\
		c = cl_##type##_dup(o);					\
		if (!c || cl_##type##_list_append(out, c)) {		\
			cl_##type##_free(c);				\
			ret = cl_error_set(err, -ENOMEM, "out of memory"); \
		}							\
	}								\
	return unlock(js, ret, err);					\
}									\
									\
static int js_set_##type(void *store, const struct cl_##type *obj,	\
			 struct cl_error *err)				\
{									\
	struct jstore *js = store;					\
	struct cl_##type *c;						\
	size_t i;							\
	int ret = lock(js, true, err);					\
									\
	if (ret)							\
		return unlock(js, ret, err);				\
	c = cl_##type##_dup(obj);					\
	if (!c)								\
		return unlock(js, cl_error_set(err, -ENOMEM, "out of memory"), \
			      err);					\
	for (i = 0; i < js->type##s.count; i++)				\
		if (strcmp(js->type##s.items[i]->id, obj->id) >= 0)	\
			break;						\
	if (i < js->type##s.count &&					\
	    !strcmp(js->type##s.items[i]->id, obj->id)) {		\
		cl_##type##_free(js->type##s.items[i]);			\
		js->type##s.items[i] = c;				\
	} else if (cl_##type##_list_append(&js->type##s, c)) {		\
		cl_##type##_free(c);					\
		return unlock(js, cl_error_set(err, -ENOMEM, "out of memory"), \
			      err);					\
	} else {							\
		memmove(&js->type##s.items[i + 1], &js->type##s.items[i], \
			(js->type##s.count - 1 - i) * sizeof(c));	\
		js->type##s.items[i] = c;				\
	}								\
	js->dirty = true;						\
	return unlock(js, 0, err);					\
}									\
									\
static int js_delete_##type(void *store, const char *id,		\
			    struct cl_error *err)			\
{									\
	struct jstore *js = store;					\
	int ret = lock(js, true, err);					\
									\
	for (size_t i = 0; !ret && i < js->type##s.count; i++) {	\
		if (strcmp(js->type##s.items[i]->id, id) != 0)		\
			continue;					\
		cl_##type##_free(js->type##s.items[i]);			\
		memmove(&js->type##s.items[i], &js->type##s.items[i + 1], \
			(js->type##s.count - i - 1) * sizeof(void *));	\
		js->type##s.count--;					\
		js->dirty = true;					\
		break;							\
	}								\
	return unlock(js, ret, err);					\
}

DEFINE_OPS(volume)
DEFINE_OPS(snapshot)
DEFINE_OPS(connection)

static int js_get_kvs(void *store, const char *prefix, struct cl_dict *out,
		      struct cl_error *err)
{
	struct jstore *js = store;
	int ret = lock(js, false, err);

	for (size_t i = 0; !ret && i < js->kvs.count; i++) {
		const struct cl_dict_entry *e = &js->kvs.entries[i];

		if (prefix && strncmp(e->key, prefix, strlen(prefix)) != 0)
			continue;
		if (cl_dict_set(out, e->key, e->value))
			ret = cl_error_set(err, -ENOMEM, "out of memory");
	}
	return unlock(js, ret, err);
}

static int js_set_kv(void *store, const char *key, const char *value,
		     struct cl_error *err)
{
	struct jstore *js = store;
	int ret = lock(js, true, err);

	if (!ret && cl_dict_set(&js->kvs, key, value))
		ret = cl_error_set(err, -ENOMEM, "out of memory");
	js->dirty = !ret;
	return unlock(js, ret, err);
}

static int js_delete_kv(void *store, const char *key, struct cl_error *err)
{
	struct jstore *js = store;
	int ret = lock(js, true, err);

	if (!ret && cl_dict_get(&js->kvs, key)) {
		cl_dict_set(&js->kvs, key, NULL);
		js->dirty = true;
	}
	return unlock(js, ret, err);
}

CL_PERSISTENCE_EXPORT const struct cl_persistence_ops cinderlib_persistence = {
	.abi_version = CL_PERSISTENCE_ABI_VERSION,
	.name = "jsonfile",
	.open = js_open,
	.close = js_close,
	.begin = js_begin,
	.commit = js_commit,
	.rollback = js_rollback,
	.get_volumes = js_get_volumes,
	.set_volume = js_set_volume,
	.delete_volume = js_delete_volume,
	.get_snapshots = js_get_snapshots,
	.set_snapshot = js_set_snapshot,
	.delete_snapshot = js_delete_snapshot,
	.get_connections = js_get_connections,
	.set_connection = js_set_connection,
	.delete_connection = js_delete_connection,
	.get_key_values = js_get_kvs,
	.set_key_value = js_set_kv,
	.delete_key_value = js_delete_kv,
};
