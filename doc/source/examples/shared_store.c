// SPDX-License-Identifier: Apache-2.0
/*
 * Work in the same store and backends as cinderctl: read the configuration
 * (/etc/cinderlib/cinderlib.conf, or the embedded default under the state
 * directory), create a volume with metadata on the default backend and
 * publish a key/value. cinderctl sees both afterwards.
 *
 *   cc -o shared_store shared_store.c -lcinderlib
 *   ./shared_store NAME && cinderctl volume show NAME
 */
#include <stdio.h>
#include <stdlib.h>

#include <cinderlib/cinderlib.h>

int main(int argc, char **argv)
{
	struct cl_dict metadata = { 0 };
	struct cl_volume_create_opts vopts = { .size = 2 };
	struct cl_error err = { 0 };
	struct cl_config *cfg = NULL;
	struct cl_context *ctx = NULL;
	struct cl_backend *be;
	struct cl_volume *vol = NULL;
	char *value = NULL;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s NAME\n", argv[0]);
		return 2;
	}
	/* NULL: the default file, else the embedded default (as cinderctl). */
	if (cl_config_load(NULL, &cfg, &err) ||
	    cl_setup_from_config(cfg, NULL, NULL, &ctx, &err))
		goto out;
	printf("config: %s, store: %s %s\n", cfg->path ? cfg->path : "embedded default",
	       cfg->persistence, cfg->persistence_path ? cfg->persistence_path : "");

	/* The first enabled backend is cinderctl's default one. */
	if (cl_backend_get(ctx, cfg->backends[0].name, &be, &err))
		goto out;

	cl_dict_set(&metadata, "owner", "example");
	vopts.name = argv[1];
	vopts.metadata = &metadata;
	if (cl_volume_create(be, &vopts, &vol, &err))
		goto out;
	/* Metadata changes later: one key at a time, saved at once. */
	if (cl_volume_set_metadata(ctx, vol, "stage", "created", &err))
		goto out;
	printf("volume %s on backend %s: %s\n", vol->id,
	       cl_backend_name(be), cl_status_name(vol->status));

	/* A key/value any user of the store can read. */
	if (cl_kv_set(ctx, "example/last-volume", vol->id, &err) ||
	    cl_kv_get(ctx, "example/last-volume", &value, &err))
		goto out;
	printf("example/last-volume = %s\n", value);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "shared_store: %s\n", err.msg);
	free(value);
	cl_volume_free(vol);
	cl_dict_clear(&metadata);
	cl_context_free(ctx);
	cl_config_free(cfg);
	return rc;
}
