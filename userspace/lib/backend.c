// SPDX-License-Identifier: Apache-2.0
/* Backends: a named driver configuration, opened within a context. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cl_internal.h"

static struct cl_backend *find_open(struct cl_context *ctx, const char *name)
{
	for (struct cl_backend *be = ctx->backends; be; be = be->next)
		if (strcmp(be->name, name) == 0)
			return be;
	return NULL;
}

static struct cl_backend_config *find_def(struct cl_context *ctx,
					  const char *name)
{
	for (size_t i = 0; i < ctx->nr_defs; i++)
		if (strcmp(ctx->defs[i].name, name) == 0)
			return &ctx->defs[i];
	return NULL;
}

bool cl_backend_known(struct cl_context *ctx, const char *name)
{
	return name && (find_open(ctx, name) || find_def(ctx, name));
}

static void backend_free(struct cl_backend *be)
{
	if (be->ops && be->ops->teardown && be->priv)
		be->ops->teardown(be->priv);
	if (be->dl)
		dlclose(be->dl);
	if (be->have_stats)
		cl_backend_stats_free(&be->stats);
	cl_dict_clear(&be->options);
	free(be->name);
	free(be);
}

static bool valid_backend_name(const char *name)
{
	return name && *name && strlen(name) <= 255 && cl_utf8_valid(name) &&
	       !strpbrk(name, "/@#");
}

int cl_backend_open(struct cl_context *ctx, const char *name,
		    const struct cl_dict *options, struct cl_backend **out,
		    struct cl_error *err)
{
	const char *given = cl_dict_get(options, "volume_backend_name");
	struct cl_backend *be;
	int ret, lock;

	if (!valid_backend_name(name))
		return cl_error_set(err, -EINVAL,
				    "invalid backend name '%s' (empty, or has '/', '@' or '#')",
				    name ? name : "");
	if (given && strcmp(given, name) != 0)
		return cl_error_set(err, -EINVAL,
				    "volume_backend_name '%s' does not match backend '%s'",
				    given, name);
	if (find_open(ctx, name))
		return cl_error_set(err, -EEXIST, "backend '%s' is already open",
				    name);
	be = calloc(1, sizeof(*be));
	if (!be || !(be->name = strdup(name)) ||
	    cl_dict_copy(&be->options, options)) {
		if (be)
			backend_free(be);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	be->ctx = ctx;
	ret = cl_driver_load(ctx, cl_dict_get(options, "volume_driver"),
			     &be->ops, &be->dl, err);
	if (ret)
		goto fail;
	be->driver_name = (char *)be->ops->name;
	ret = cl_driver_check_options(be->ops, &be->options, err);
	if (!ret)
		ret = cl_target_config_parse(&be->options, &be->target, err);
	if (ret)
		goto fail;
	be->cfg.backend_name = be->name;
	be->cfg.options = &be->options;
	be->cfg.host = ctx->host;
	be->cfg.state_dir = ctx->state_dir;
	/*
	 * One setup at a time per backend, across processes and hosts: a
	 * setup may make what the backend shares (LVM thin's pool).
	 */
	lock = cl_lock_acquire(ctx, "backend", name, err);
	if (lock < 0) {
		ret = lock;
		goto fail;
	}
	ret = be->ops->setup(&be->cfg, &be->priv, err);
	cl_lock_release(lock);
	if (ret) {
		be->priv = NULL;
		goto fail;
	}
	be->next = ctx->backends;
	ctx->backends = be;
	cl_log(ctx, CL_LOG_INFO, "backend %s opened (driver %s)", name,
	       be->driver_name);
	if (out)
		*out = be;
	return 0;
fail:
	backend_free(be);
	return ret;
}

int cl_backend_define(struct cl_context *ctx, const char *name,
		      const struct cl_dict *options, struct cl_error *err)
{
	struct cl_backend_config *def = find_def(ctx, name), *grown;

	if (!valid_backend_name(name))
		return cl_error_set(err, -EINVAL, "invalid backend name '%s'",
				    name ? name : "");
	if (def) {
		cl_dict_clear(&def->options);
		if (cl_dict_copy(&def->options, options))
			return cl_error_set(err, -ENOMEM, "out of memory");
		return 0;
	}
	grown = realloc(ctx->defs, (ctx->nr_defs + 1) * sizeof(*grown));
	if (!grown)
		return cl_error_set(err, -ENOMEM, "out of memory");
	ctx->defs = grown;
	def = &ctx->defs[ctx->nr_defs];
	def->name = strdup(name);
	if (!def->name || cl_dict_copy(&def->options, options)) {
		free(def->name);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	ctx->nr_defs++;
	return 0;
}

int cl_backend_get(struct cl_context *ctx, const char *name,
		   struct cl_backend **out, struct cl_error *err)
{
	struct cl_backend *be = name ? find_open(ctx, name) : NULL;
	struct cl_backend_config *def;

	if (be) {
		*out = be;
		return 0;
	}
	def = name ? find_def(ctx, name) : NULL;
	if (!def) {
		const char **cands = calloc(ctx->nr_defs + 1, sizeof(*cands));
		size_t n = 0;
		const char *best;
		int ret;

		if (!cands)
			return cl_error_set(err, -ENOMEM, "out of memory");
		for (size_t i = 0; i < ctx->nr_defs; i++)
			cands[n++] = ctx->defs[i].name;
		for (be = ctx->backends; be; be = be->next) {
			const char **g = realloc(cands, (n + 1) * sizeof(*g));

			if (!g)
				break;
			cands = g;
			cands[n++] = be->name;
		}
		best = name ? cl_closest(name, cands, n) : NULL;
		if (best)
			ret = cl_error_set(err, -ENOENT,
					   "unknown backend '%s' (did you mean '%s'?)",
					   name ? name : "", best);
		else
			ret = cl_error_set(err, -ENOENT,
					   "unknown backend '%s' (none configured)",
					   name ? name : "");
		free(cands);
		return ret;
	}
	return cl_backend_open(ctx, name, &def->options, out, err);
}

/* The backend an object belongs to, for a driver call. */
int cl_backend_for(struct cl_context *ctx, const char *name,
		   struct cl_backend **out, struct cl_error *err)
{
	int ret = cl_backend_get(ctx, name, out, err);

	if (ret == -ENOENT)
		return cl_error_set(err, -ENODEV,
				    "backend '%s' is not configured",
				    name ? name : "");
	return ret;
}

int cl_backend_names(struct cl_context *ctx, char ***names, size_t *count,
		     struct cl_error *err)
{
	size_t n = 0, max = ctx->nr_defs;
	char **v;

	for (struct cl_backend *be = ctx->backends; be; be = be->next)
		max++;
	v = calloc(max ? max : 1, sizeof(*v));
	if (!v)
		return cl_error_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ctx->nr_defs; i++)
		v[n++] = strdup(ctx->defs[i].name);
	for (struct cl_backend *be = ctx->backends; be; be = be->next)
		if (!find_def(ctx, be->name))
			v[n++] = strdup(be->name);
	for (size_t i = 0; i < n; i++) {
		if (!v[i]) {
			cl_strv_free(v, n);
			return cl_error_set(err, -ENOMEM, "out of memory");
		}
	}
	*names = v;
	*count = n;
	return 0;
}

void cl_backend_close(struct cl_backend *be)
{
	struct cl_backend **pp;

	if (!be)
		return;
	for (pp = &be->ctx->backends; *pp; pp = &(*pp)->next) {
		if (*pp == be) {
			*pp = be->next;
			break;
		}
	}
	backend_free(be);
}

const char *cl_backend_name(const struct cl_backend *be)
{
	return be->name;
}

const char *cl_backend_driver_name(const struct cl_backend *be)
{
	return be->driver_name;
}

const struct cl_dict *cl_backend_options(const struct cl_backend *be)
{
	return &be->options;
}

struct cl_context *cl_backend_context(const struct cl_backend *be)
{
	return be->ctx;
}

void cl_backend_stats_free(struct cl_backend_stats *stats)
{
	if (!stats)
		return;
	free(stats->volume_backend_name);
	free(stats->driver_name);
	free(stats->vendor_name);
	free(stats->driver_version);
	free(stats->storage_protocol);
	for (size_t i = 0; i < stats->nr_pools; i++)
		free(stats->pools[i].pool_name);
	free(stats->pools);
	*stats = (struct cl_backend_stats){ 0 };
}

static int copy_stats(struct cl_backend_stats *dst,
		      const struct cl_backend_stats *src)
{
	*dst = (struct cl_backend_stats){ 0 };
	dst->volume_backend_name = cl_strdup_or_null(src->volume_backend_name);
	dst->driver_name = cl_strdup_or_null(src->driver_name);
	dst->vendor_name = cl_strdup_or_null(src->vendor_name);
	dst->driver_version = cl_strdup_or_null(src->driver_version);
	dst->storage_protocol = cl_strdup_or_null(src->storage_protocol);
	dst->pools = calloc(src->nr_pools ? src->nr_pools : 1,
			    sizeof(*dst->pools));
	if (!dst->pools)
		return -ENOMEM;
	dst->nr_pools = src->nr_pools;
	for (size_t i = 0; i < src->nr_pools; i++) {
		dst->pools[i] = src->pools[i];
		dst->pools[i].pool_name =
			cl_strdup_or_null(src->pools[i].pool_name);
	}
	return 0;
}

static int set_default(char **dst, const char *val)
{
	if (*dst)
		return 0;
	return cl_set_str(dst, val);
}

int cl_backend_stats(struct cl_backend *be, bool refresh,
		     struct cl_backend_stats *out, struct cl_error *err)
{
	int ret;

	if (refresh || !be->have_stats) {
		struct cl_backend_stats fresh = { 0 };

		ret = be->ops->get_stats(be->priv, &fresh, err);
		if (ret) {
			cl_backend_stats_free(&fresh);
			return ret;
		}
		ret = set_default(&fresh.volume_backend_name, be->name);
		ret = ret ? ret : set_default(&fresh.driver_name, be->ops->name);
		ret = ret ? ret : set_default(&fresh.vendor_name,
					      be->ops->vendor_name);
		ret = ret ? ret : set_default(&fresh.driver_version,
					      be->ops->version);
		ret = ret ? ret : set_default(&fresh.storage_protocol,
					      be->ops->storage_protocol);
		if (ret) {
			cl_backend_stats_free(&fresh);
			return cl_error_set(err, -ENOMEM, "out of memory");
		}
		if (be->have_stats)
			cl_backend_stats_free(&be->stats);
		be->stats = fresh;
		be->have_stats = true;
	}
	if (copy_stats(out, &be->stats)) {
		cl_backend_stats_free(out);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int cl_backend_volumes(struct cl_backend *be, struct cl_volume_list *out,
		       struct cl_error *err)
{
	struct cl_filter f = { .backend = be->name };

	*out = (struct cl_volume_list){ 0 };
	return be->ctx->store_ops->get_volumes(be->ctx->store, &f, out, err);
}
