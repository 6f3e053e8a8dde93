// SPDX-License-Identifier: Apache-2.0
/*
 * A first program against libcinderlib: a memory store, one backend on the
 * file driver in DIR, a volume created, snapshotted, restored, listed and
 * deleted.
 *
 *   cc -o first_program first_program.c -lcinderlib
 *   ./first_program DIR
 */
#include <stdio.h>
#include <stdlib.h>

#include <cinderlib/cinderlib.h>

static int fail(const char *what, const struct cl_error *err)
{
	fprintf(stderr, "%s: %s (%d)\n", what, err->msg, err->code);
	return 1;
}

int main(int argc, char **argv)
{
	struct cl_setup_options opts = { .persistence = "memory" };
	struct cl_dict be_opts = { 0 };
	struct cl_volume_create_opts vopts = { .size = 1, .name = "first" };
	struct cl_volume_create_opts ropts = { .name = "restored" };
	struct cl_volume_list vols = { 0 };
	struct cl_error err = { 0 };
	struct cl_context *ctx = NULL;
	struct cl_backend *be;
	struct cl_volume *vol = NULL, *copy = NULL;
	struct cl_snapshot *snap = NULL;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	opts.lock_path = argv[1];	/* flock() files go here */
	if (cl_setup(&opts, &ctx, &err))
		return fail("setup", &err);

	cl_dict_set(&be_opts, "volume_driver", "file");
	cl_dict_set(&be_opts, "file_volume_dir", argv[1]);
	if (cl_backend_open(ctx, "local", &be_opts, &be, &err)) {
		fail("backend", &err);
		goto out;
	}

	if (cl_volume_create(be, &vopts, &vol, &err)) {
		fail("create", &err);
		goto out;
	}
	printf("volume %s: %llu GiB, %s\n", vol->id,
	       (unsigned long long)vol->size, cl_status_name(vol->status));

	if (cl_volume_create_snapshot(ctx, vol, "snap", NULL, &snap, &err) ||
	    cl_snapshot_create_volume(ctx, snap, &ropts, &copy, &err)) {
		fail("snapshot", &err);
		goto out;
	}

	if (cl_backend_volumes(be, &vols, &err)) {
		fail("list", &err);
		goto out;
	}
	for (size_t i = 0; i < vols.count; i++)
		printf("%s  %-8s  %s\n", vols.items[i]->id,
		       vols.items[i]->name, cl_status_name(vols.items[i]->status));

	/* Refused while the snapshot exists: -EBUSY and a message. */
	if (cl_volume_delete(ctx, vol, &err) == 0) {
		fprintf(stderr, "delete with a snapshot was not refused\n");
		goto out;
	}
	printf("refused: %s\n", err.msg);

	if (cl_volume_delete(ctx, copy, &err) ||
	    cl_snapshot_delete(ctx, snap, &err) ||
	    cl_volume_delete(ctx, vol, &err)) {
		fail("delete", &err);
		goto out;
	}
	printf("volume %s: %s\n", vol->id, cl_status_name(vol->status));
	rc = 0;
out:
	cl_volume_list_free(&vols);
	cl_volume_free(vol);
	cl_volume_free(copy);
	cl_snapshot_free(snap);
	cl_dict_clear(&be_opts);
	cl_context_free(ctx);	/* closes the backend and the store */
	return rc;
}
