// SPDX-License-Identifier: Apache-2.0
/*
 * The context's store: picks the built-in memory or sqlite store or loads a
 * plugin, and wraps what every caller needs (single gets, saves that stamp
 * updated_at, transactions that a store may not have).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl_internal.h"

static int load_plugin(struct cl_context *ctx, const char *path,
		       struct cl_error *err)
{
	const struct cl_persistence_ops *ops;
	struct cl_persistence_ops *copy;
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!dl)
		return cl_error_set(err, -ENOENT,
				    "cannot load persistence plugin: %s",
				    dlerror());
	ops = dlsym(dl, CL_PERSISTENCE_SYMBOL);
	if (!ops) {
		dlclose(dl);
		return cl_error_set(err, -ENOEXEC,
				    "%s is not a persistence plugin (no symbol %s)",
				    path, CL_PERSISTENCE_SYMBOL);
	}
	if (ops->abi_version < 1 ||
	    ops->abi_version > CL_PERSISTENCE_ABI_VERSION) {
		dlclose(dl);
		return cl_error_set(err, -EPROTO,
				    "persistence plugin %s has ABI version %u, this library takes 1 to %u",
				    path, ops->abi_version,
				    CL_PERSISTENCE_ABI_VERSION);
	}
	if (!ops->open || !ops->close || !ops->get_volumes ||
	    !ops->set_volume || !ops->delete_volume || !ops->get_snapshots ||
	    !ops->set_snapshot || !ops->delete_snapshot ||
	    !ops->get_connections || !ops->set_connection ||
	    !ops->delete_connection || !ops->get_key_values ||
	    !ops->set_key_value || !ops->delete_key_value) {
		dlclose(dl);
		return cl_error_set(err, -EPROTO,
				    "persistence plugin %s lacks operations",
				    path);
	}
	if (ops->abi_version >= 2 && !ops->lock != !ops->unlock) {
		dlclose(dl);
		return cl_error_set(err, -EPROTO,
				    "persistence plugin %s has lock without unlock or the reverse",
				    path);
	}
	/* Our own copy, the operations of later versions NULL in an older one. */
	copy = calloc(1, sizeof(*copy));
	if (!copy) {
		dlclose(dl);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	memcpy(copy, ops, ops->abi_version == 1 ?
	       offsetof(struct cl_persistence_ops, lock) : sizeof(*copy));
	ctx->store_ops = copy;
	ctx->store_ops_copy = copy;
	ctx->store_dl = dl;
	return 0;
}

/*
 * The store name nearest to @name: the built-in ones and the plugins in
 * the directory of @path.
 */
static const char *closest_store(const char *name, const char *path)
{
	static _Thread_local char best[64];
	const char *names[34] = { "memory", "sqlite" };
	char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
	char found[32][64];
	size_t n = 2;
	struct dirent *de;
	DIR *d = NULL;

	if (slash) {
		*slash = '\0';
		d = opendir(dir);
	}
	while (d && n < 34 && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len > 3 && len < 64 && !strcmp(de->d_name + len - 3, ".so")) {
			snprintf(found[n - 2], sizeof(found[0]), "%.*s",
				 (int)(len - 3), de->d_name);
			names[n] = found[n - 2];
			n++;
		}
	}
	if (d)
		closedir(d);
	free(dir);
	snprintf(best, sizeof(best), "%s", cl_closest(name, names, n));
	return best;
}

/*
 * A store plugin by name: NAME.so in the persistence directory, beside the
 * driver directory (LIBDIR/cinderlib/persistence installed,
 * build/persistence in the build tree).
 */
static int load_named_plugin(struct cl_context *ctx, const char *name,
			     struct cl_error *err)
{
	const char *drivers = cl_driver_dir(ctx);
	const char *slash = drivers ? strrchr(drivers, '/') : NULL;
	char *path;
	int ret;

	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-'))
			return cl_error_set(err, -EINVAL,
					    "unknown persistence '%s' (a store name, or a plugin path)",
					    name);
	if (!slash)
		return cl_error_set(err, -ENOENT,
				    "unknown persistence '%s': no persistence directory to look in",
				    name);
	if (asprintf(&path, "%.*s/persistence/%s.so", (int)(slash - drivers),
		     drivers, name) < 0)
		return cl_error_set(err, -ENOMEM, "out of memory");
	if (access(path, F_OK) < 0) {
		ret = cl_error_set(err, -EINVAL,
				   "unknown persistence '%s' (did you mean '%s'? there is no %s)",
				   name, closest_store(name, path), path);
		free(path);
		return ret;
	}
	ret = load_plugin(ctx, path, err);
	free(path);
	return ret;
}

int cl_store_open(struct cl_context *ctx, const struct cl_setup_options *o,
		  struct cl_error *err)
{
	const char *kind = o && o->persistence ? o->persistence : "memory";
	struct cl_dict opts = { 0 };
	int ret;

	if (strcmp(kind, "memory") == 0) {
		ctx->store_ops = &cl_memory_store_ops;
	} else if (strcmp(kind, "sqlite") == 0 || strcmp(kind, "db") == 0) {
		ctx->store_ops = &cl_sqlite_store_ops;
		if (!o->persistence_path)
			return cl_error_set(err, -EINVAL,
					    "sqlite persistence needs persistence_path");
	} else if (strchr(kind, '/')) {
		ret = load_plugin(ctx, kind, err);
		if (ret)
			return ret;
	} else {
		ret = load_named_plugin(ctx, kind, err);
		if (ret)
			return ret;
	}
	ret = o ? cl_dict_update(&opts, o->persistence_options) : 0;
	if (!ret && o && o->persistence_path)
		ret = cl_dict_set(&opts, "path", o->persistence_path);
	if (!ret)
		ret = cl_dict_set(&opts, "create",
				  o && o->persistence_create ? "true" : "false");
	if (ret) {
		cl_dict_clear(&opts);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	ret = ctx->store_ops->open(&opts, &ctx->store, err);
	cl_dict_clear(&opts);
	return ret;
}

void cl_store_close(struct cl_context *ctx)
{
	if (ctx->store_ops && ctx->store)
		ctx->store_ops->close(ctx->store);
	ctx->store = NULL;
	if (ctx->store_dl)
		dlclose(ctx->store_dl);
	ctx->store_dl = NULL;
	free(ctx->store_ops_copy);
	ctx->store_ops_copy = NULL;
	ctx->store_ops = NULL;
}

int cl_store_begin(struct cl_context *ctx, struct cl_error *err)
{
	if (!ctx->store_ops->begin)
		return 0;
	return ctx->store_ops->begin(ctx->store, err);
}

int cl_store_commit(struct cl_context *ctx, struct cl_error *err)
{
	if (!ctx->store_ops->commit)
		return 0;
	return ctx->store_ops->commit(ctx->store, err);
}

void cl_store_rollback(struct cl_context *ctx)
{
	if (ctx->store_ops->rollback)
		ctx->store_ops->rollback(ctx->store);
}

#define DEFINE_GET_ONE(type, plural, what)				\
int cl_store_get_##type(struct cl_context *ctx, const char *id,		\
			struct cl_##type **out, struct cl_error *err)	\
{									\
	struct cl_##type##_list l = { 0 };				\
	struct cl_filter f = { .id = id };				\
	int ret;							\
									\
	ret = ctx->store_ops->get_##plural(ctx->store, &f, &l, err);	\
	if (ret)							\
		return ret;						\
	if (l.count == 0) {						\
		cl_##type##_list_free(&l);				\
		return cl_error_set(err, -ENOENT, what " %s not found", id); \
	}								\
	*out = l.items[0];						\
	l.items[0] = NULL;						\
	for (size_t i = 1; i < l.count; i++)				\
		cl_##type##_free(l.items[i]);				\
	free(l.items);							\
	return 0;							\
}

DEFINE_GET_ONE(volume, volumes, "volume")
DEFINE_GET_ONE(snapshot, snapshots, "snapshot")
DEFINE_GET_ONE(connection, connections, "connection")

int cl_store_save_volume(struct cl_context *ctx, struct cl_volume *vol,
			 struct cl_error *err)
{
	vol->updated_at = cl_now_us();
	return ctx->store_ops->set_volume(ctx->store, vol, err);
}

int cl_store_save_snapshot(struct cl_context *ctx, struct cl_snapshot *snap,
			   struct cl_error *err)
{
	snap->updated_at = cl_now_us();
	return ctx->store_ops->set_snapshot(ctx->store, snap, err);
}

int cl_store_save_connection(struct cl_context *ctx,
			     struct cl_connection *conn, struct cl_error *err)
{
	conn->updated_at = cl_now_us();
	return ctx->store_ops->set_connection(ctx->store, conn, err);
}
