// SPDX-License-Identifier: Apache-2.0
/* The key/value store: cross-host coordination (nodes publish connectors). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cl_internal.h"

static int check_key(const char *key, struct cl_error *err)
{
	if (!key || !*key)
		return cl_error_set(err, -EINVAL, "empty key");
	return cl_check_text("key", key, 255, err);
}

int cl_kv_get(struct cl_context *ctx, const char *key, char **value,
	      struct cl_error *err)
{
	struct cl_dict all = { 0 };
	const char *v;
	int ret = check_key(key, err);

	if (ret)
		return ret;
	ret = ctx->store_ops->get_key_values(ctx->store, key, &all, err);
	if (ret)
		return ret;
	v = cl_dict_get(&all, key);
	if (!v)
		ret = cl_error_set(err, -ENOENT, "key '%s' is not set", key);
	else if (!(*value = strdup(v)))
		ret = cl_error_set(err, -ENOMEM, "out of memory");
	cl_dict_clear(&all);
	return ret;
}

int cl_kv_set(struct cl_context *ctx, const char *key, const char *value,
	      struct cl_error *err)
{
	int ret = check_key(key, err);

	if (ret)
		return ret;
	if (!value)
		return cl_error_set(err, -EINVAL, "no value for key '%s'", key);
	return ctx->store_ops->set_key_value(ctx->store, key, value, err);
}

int cl_kv_delete(struct cl_context *ctx, const char *key, struct cl_error *err)
{
	int ret = check_key(key, err);

	if (ret)
		return ret;
	return ctx->store_ops->delete_key_value(ctx->store, key, err);
}

int cl_kv_list(struct cl_context *ctx, const char *prefix, struct cl_dict *out,
	       struct cl_error *err)
{
	return ctx->store_ops->get_key_values(ctx->store, prefix, out, err);
}
