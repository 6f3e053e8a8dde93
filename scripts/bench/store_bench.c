// SPDX-License-Identifier: Apache-2.0
/*
 * What one store costs per operation: N volume creates, snapshots,
 * clones, snapshot deletes and volume deletes on the file driver, through
 * libcinderlib with that store, each kind timed on its own.
 *
 *   store_bench DIR N memory|sqlite|postgresql [CONNINFO [SCHEMA]]
 *
 * DIR gets the state (sqlite file, lock files, the driver's volumes).
 * Prints one line per operation: its name and milliseconds per operation.
 * scripts/bench/controlplane runs it for every store in turn and takes the
 * memory store's figures as the cost of everything but the store.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cinderlib/cinderlib.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, const struct cl_error *err)
{
	fprintf(stderr, "store_bench: %s: %s\n", what,
		err && err->msg[0] ? err->msg : strerror(errno));
	exit(1);
}

static void report(const char *op, double t0, int n)
{
	printf("%s %.3f\n", op, (now_ms() - t0) / n);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 3 ? argv[1] : NULL;
	int n = argc > 3 ? atoi(argv[2]) : 0;
	const char *store = argc > 3 ? argv[3] : NULL;
	struct cl_volume_create_opts opts = { .size = 1 };
	struct cl_volume **vols, **clones;
	struct cl_snapshot **snaps;
	struct cl_error err = { 0 };
	struct cl_context *ctx;
	struct cl_config *cfg;
	struct cl_backend *be;
	char state[4096];
	double t;

	if (!dir || n <= 0) {
		fprintf(stderr, "usage: store_bench DIR N memory|sqlite|postgresql [CONNINFO [SCHEMA]]\n");
		return 2;
	}
	snprintf(state, sizeof(state), "%s/state-%s", dir, store);
	if (mkdir(state, 0700) && errno != EEXIST)
		die(state, NULL);
	if (cl_config_default(state, &cfg, &err))
		die("configuration", &err);
	free(cfg->persistence);
	cfg->persistence = strdup(store);
	if ((argc > 4 && cl_dict_set(&cfg->persistence_options, "connection",
				     argv[4])) ||
	    (argc > 5 && cl_dict_set(&cfg->persistence_options,
				     "schema", argv[5])))
		die("configuration", NULL);
	if (cl_setup_from_config(cfg, NULL, NULL, &ctx, &err))
		die("setup", &err);
	if (cl_backend_get(ctx, "default", &be, &err))
		die("backend", &err);
	vols = calloc((size_t)n, sizeof(*vols));
	clones = calloc((size_t)n, sizeof(*clones));
	snaps = calloc((size_t)n, sizeof(*snaps));
	if (!vols || !clones || !snaps)
		die("calloc", NULL);

	t = now_ms();
	for (int i = 0; i < n; i++)
		if (cl_volume_create(be, &opts, &vols[i], &err))
			die("volume create", &err);
	report("create", t, n);
	t = now_ms();
	for (int i = 0; i < n; i++)
		if (cl_volume_create_snapshot(ctx, vols[i], NULL, NULL,
					      &snaps[i], &err))
			die("snapshot create", &err);
	report("snapshot", t, n);
	t = now_ms();
	for (int i = 0; i < n; i++) {
		struct cl_volume_create_opts none = { 0 };

		if (cl_volume_clone(ctx, vols[i], &none, &clones[i], &err))
			die("volume clone", &err);
	}
	report("clone", t, n);
	t = now_ms();
	for (int i = 0; i < n; i++)
		if (cl_snapshot_delete(ctx, snaps[i], &err))
			die("snapshot delete", &err);
	report("snapshot-delete", t, n);
	t = now_ms();
	for (int i = 0; i < n; i++)
		if (cl_volume_delete(ctx, clones[i], &err) ||
		    cl_volume_delete(ctx, vols[i], &err))
			die("volume delete", &err);
	report("delete", t, 2 * n);

	for (int i = 0; i < n; i++) {
		cl_volume_free(vols[i]);
		cl_volume_free(clones[i]);
		cl_snapshot_free(snaps[i]);
	}
	free(vols);
	free(clones);
	free(snaps);
	cl_context_free(ctx);
	cl_config_free(cfg);
	return 0;
}
