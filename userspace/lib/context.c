// SPDX-License-Identifier: Apache-2.0
/* The context: cinderlib's setup() as an object instead of globals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_internal.h"

int cl_setup(const struct cl_setup_options *opts, struct cl_context **out,
	     struct cl_error *err)
{
	struct cl_setup_options defaults = { 0 };
	struct cl_context *ctx;
	char hostname[256];
	struct stat st;
	int ret;

	if (!opts)
		opts = &defaults;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return cl_error_set(err, -ENOMEM, "out of memory");
	ctx->fail_on_missing_backend = opts->fail_on_missing_backend;
	ctx->nbd_connections = opts->nbd_connections;
	ctx->nbd_io_timeout_ms = opts->nbd_io_timeout_ms;
	ctx->nbd_dead_timeout_ms = opts->nbd_dead_timeout_ms;
	ctx->log_level = opts->log_level;
	ctx->log_fn = opts->log_fn;
	ctx->log_data = opts->log_data;
	ctx->state_dir = opts->state_dir ? strdup(opts->state_dir)
					 : cl_state_dir();
	if (opts->host) {
		ctx->host = strdup(opts->host);
	} else {
		if (gethostname(hostname, sizeof(hostname)) < 0)
			strcpy(hostname, "localhost");
		hostname[sizeof(hostname) - 1] = '\0';
		ctx->host = strdup(hostname);
	}
	ctx->lock_path = strdup(opts->lock_path ? opts->lock_path
			       : ctx->state_dir ? ctx->state_dir : "/tmp");
	ctx->driver_dir = cl_strdup_or_null(opts->driver_dir);
	if (!ctx->state_dir || !ctx->host || !ctx->lock_path ||
	    (opts->driver_dir && !ctx->driver_dir)) {
		ret = cl_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (stat(ctx->lock_path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ret = cl_error_set(err, -ENOENT,
				   "lock path %s is not a directory",
				   ctx->lock_path);
		goto fail;
	}
	ret = cl_store_open(ctx, opts, err);
	if (ret)
		goto fail;
	*out = ctx;
	return 0;
fail:
	cl_context_free(ctx);
	return ret;
}

void cl_context_free(struct cl_context *ctx)
{
	if (!ctx)
		return;
	while (ctx->backends)
		cl_backend_close(ctx->backends);
	cl_store_close(ctx);
	for (size_t i = 0; i < ctx->nr_defs; i++) {
		free(ctx->defs[i].name);
		cl_dict_clear(&ctx->defs[i].options);
	}
	free(ctx->defs);
	free(ctx->state_dir);
	free(ctx->lock_path);
	free(ctx->host);
	free(ctx->driver_dir);
	free(ctx);
}
