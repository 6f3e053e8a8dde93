// SPDX-License-Identifier: Apache-2.0
/*
 * The "memory" store: deep copies of the objects in arrays, kept sorted by
 * id. Private to one context; gone when it is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cl_internal.h"

struct memory_store {
	struct cl_volume_list volumes;
	struct cl_snapshot_list snapshots;
	struct cl_connection_list connections;
	struct cl_dict kvs;
};

static int mem_open(const struct cl_dict *options, void **store,
		    struct cl_error *err)
{
	*store = calloc(1, sizeof(struct memory_store));
	return *store ? 0 : cl_error_set(err, -ENOMEM, "out of memory");
}

static void mem_close(void *store)
{
	struct memory_store *m = store;

	cl_volume_list_free(&m->volumes);
	cl_snapshot_list_free(&m->snapshots);
	cl_connection_list_free(&m->connections);
	cl_dict_clear(&m->kvs);
	free(m);
}

/*
 * One set/get/delete triple per type: the lists are kept sorted by id so
 * that gets return objects in id order, like the sqlite store.
 */
#define DEFINE_MEM_OPS(type, plural, NAME, BACKEND, VOLID)		\
static int mem_get_##plural(void *store, const struct cl_filter *f,	\
			    struct cl_##type##_list *out,		\
			    struct cl_error *err)			\
{									\
	struct memory_store *m = store;					\
									\
	for (size_t i = 0; i < m->plural.count; i++) {			\
		struct cl_##type *o = m->plural.items[i], *c;		\
									\
		if (!cl_filter_match(f, o->id, NAME(o), BACKEND(o), VOLID(o))) \
			continue;					\
		c = cl_##type##_dup(o);					\
		if (!c || cl_##type##_list_append(out, c)) {		\
			cl_##type##_free(c);				\
			return cl_error_set(err, -ENOMEM, "out of memory"); \
		}							\
	}								\
	return 0;							\
}									\
									\
static int mem_set_##type(void *store, const struct cl_##type *obj,	\
			  struct cl_error *err)				\
{									\
	struct memory_store *m = store;					\
	struct cl_##type *c = cl_##type##_dup(obj);			\
	size_t i;							\
									\
	if (!c)								\
		return cl_error_set(err, -ENOMEM, "out of memory");	\
	for (i = 0; i < m->plural.count; i++) {				\
		int cmp = strcmp(m->plural.items[i]->id, obj->id);	\
									\
		if (cmp == 0) {						\
			cl_##type##_free(m->plural.items[i]);		\
			m->plural.items[i] = c;				\
			return 0;					\
		}							\
		if (cmp > 0)						\
			break;						\
	}								\
	if (cl_##type##_list_append(&m->plural, c)) {			\
		cl_##type##_free(c);					\
		return cl_error_set(err, -ENOMEM, "out of memory");	\
	}								\
	memmove(&m->plural.items[i + 1], &m->plural.items[i],		\
		(m->plural.count - 1 - i) * sizeof(c));			\
	m->plural.items[i] = c;						\
	return 0;							\
}									\
									\
static int mem_delete_##type(void *store, const char *id,		\
			     struct cl_error *err)			\
{									\
	struct memory_store *m = store;					\
									\
	for (size_t i = 0; i < m->plural.count; i++) {			\
		if (strcmp(m->plural.items[i]->id, id) != 0)		\
			continue;					\
		cl_##type##_free(m->plural.items[i]);			\
		memmove(&m->plural.items[i], &m->plural.items[i + 1],	\
			(m->plural.count - i - 1) * sizeof(void *));	\
		m->plural.count--;					\
		break;							\
	}								\
	return 0;							\
}

#define VOL_NAME(o) ((o)->name)
#define SNAP_NAME(o) ((o)->name)
#define CONN_NAME(o) ((const char *)NULL)
#define BE(o) ((o)->backend_name)
#define NO_VOLID(o) ((const char *)NULL)
#define VOLID(o) ((o)->volume_id)

DEFINE_MEM_OPS(volume, volumes, VOL_NAME, BE, NO_VOLID)
DEFINE_MEM_OPS(snapshot, snapshots, SNAP_NAME, BE, VOLID)
DEFINE_MEM_OPS(connection, connections, CONN_NAME, BE, VOLID)

static int mem_get_kvs(void *store, const char *prefix, struct cl_dict *out,
		       struct cl_error *err)
{
	struct memory_store *m = store;

	for (size_t i = 0; i < m->kvs.count; i++) {
		const struct cl_dict_entry *e = &m->kvs.entries[i];

		if (prefix && strncmp(e->key, prefix, strlen(prefix)) != 0)
			continue;
		if (cl_dict_set(out, e->key, e->value))
			return cl_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

static int mem_set_kv(void *store, const char *key, const char *value,
		      struct cl_error *err)
{
	struct memory_store *m = store;

	if (cl_dict_set(&m->kvs, key, value))
		return cl_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int mem_delete_kv(void *store, const char *key, struct cl_error *err)
{
	struct memory_store *m = store;

	cl_dict_set(&m->kvs, key, NULL);
	return 0;
}

const struct cl_persistence_ops cl_memory_store_ops = {
	.abi_version = CL_PERSISTENCE_ABI_VERSION,
	.name = "memory",
	.open = mem_open,
	.close = mem_close,
	.get_volumes = mem_get_volumes,
	.set_volume = mem_set_volume,
	.delete_volume = mem_delete_volume,
	.get_snapshots = mem_get_snapshots,
	.set_snapshot = mem_set_snapshot,
	.delete_snapshot = mem_delete_snapshot,
	.get_connections = mem_get_connections,
	.set_connection = mem_set_connection,
	.delete_connection = mem_delete_connection,
	.get_key_values = mem_get_kvs,
	.set_key_value = mem_set_kv,
	.delete_key_value = mem_delete_kv,
};
