// SPDX-License-Identifier: Apache-2.0
/*
 * Serialization: dump cinderctl's store as JSON, load the dump into a
 * private memory store, and turn one volume into JSON and back.
 *
 *   cc -o serialization serialization.c -lcinderlib
 *   ./serialization
 */
#include <stdio.h>
#include <stdlib.h>

#include <cinderlib/cinderlib.h>

int main(void)
{
	struct cl_setup_options mem_opts = { .persistence = "memory" };
	struct cl_volume_list vols = { 0 };
	struct cl_filter all = { 0 };
	struct cl_error err = { 0 };
	struct cl_config *cfg = NULL;
	struct cl_context *ctx = NULL, *mem = NULL;
	struct cl_state *state = NULL;
	struct cl_volume *back = NULL;
	char *dump = NULL, *json = NULL;
	int rc = 1;

	if (cl_config_load(NULL, &cfg, &err) ||
	    cl_setup_from_config(cfg, NULL, NULL, &ctx, &err))
		goto out;
	/* Every volume, snapshot, connection and key/value, sorted by id. */
	if (cl_state_dump(ctx, false, &dump, &err))
		goto out;

	/* A second context with its own store; lock files in the state dir. */
	mem_opts.lock_path = cfg->state_dir;
	if (cl_setup(&mem_opts, &mem, &err) ||
	    cl_state_load(mem, dump, true, &state, &err))
		goto out;
	printf("loaded %zu volumes, %zu snapshots, %zu connections, %zu keys\n",
	       state->volumes.count, state->snapshots.count,
	       state->connections.count, state->key_values.count);

	if (cl_volume_find(mem, &all, &vols, &err))
		goto out;
	printf("the memory store holds %zu volumes\n", vols.count);
	if (vols.count) {
		/* One object: to JSON and back, no context needed. */
		if (cl_volume_to_json(vols.items[0], true, &json, &err) ||
		    cl_volume_from_json(json, &back, &err))
			goto out;
		printf("%s\n", json);
		if (!cl_dict_equal(&back->metadata, &vols.items[0]->metadata) ||
		    back->size != vols.items[0]->size) {
			fprintf(stderr, "round trip changed the volume\n");
			goto out;
		}
	}
	rc = 0;
out:
	if (rc && err.code)
		fprintf(stderr, "serialization: %s\n", err.msg);
	free(dump);
	free(json);
	cl_volume_free(back);
	cl_volume_list_free(&vols);
	cl_state_free(state);
	cl_context_free(mem);
	cl_context_free(ctx);
	cl_config_free(cfg);
	return rc;
}
