/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "rbd" driver's shared parts: the backend (one librados connection
 * and an I/O context on the pool, kept open while the backend is) and the
 * cluster calls the operations need.
 */
#ifndef CINDERLIB_DRIVER_RBD_H
#define CINDERLIB_DRIVER_RBD_H

#include <stdbool.h>
#include <stdint.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "cinderlib/driver.h"

#define RBD_GIB (1ULL << 30)
#define RBD_MIB (1ULL << 20)

struct rbd_backend {
	rados_t cluster;
	rados_ioctx_t io;
	char *pool;
	char *cluster_name;
	char *user;			/* "" when rbd_user is not set */
	char *keyring_path;		/* "" when rbd_keyring_conf is not set */
	char *secret_uuid;
	bool flatten_from_snapshot;
	int max_clone_depth;
	int order;			/* log2 of the object size */
	bool report_discard;
	int reserved_percentage;
	double max_over_subscription_ratio;
	struct rbd_backend *next;	/* in the list of open backends */
};

/* rbd_cluster.c */
struct rbd_connect_options {
	const char *cluster_name;
	const char *user;
	const char *conf_file;		/* "" for librados' own search */
	const char *keyring;		/* "" for the conf's keyring */
	int timeout_s;			/* <= 0: librados' defaults */
	int attempts;
	int interval_s;
};

/* Connect and open @pool; on failure nothing is left open. */
int rbd_cluster_connect(struct rbd_backend *rb,
			const struct rbd_connect_options *o,
			struct cl_error *err);
void rbd_cluster_disconnect(struct rbd_backend *rb);

struct rbd_pool_usage {
	uint64_t total;			/* bytes the pool can hold */
	uint64_t free;
	uint64_t used;
};

int rbd_pool_usage(struct rbd_backend *rb, struct rbd_pool_usage *out,
		   struct cl_error *err);
/*
 * The monitors' legacy (v1) addresses as JSON arrays of strings, the form
 * Cinder's connection_info gives: hosts ["10.0.0.1"], ports ["6789"].
 */
int rbd_monitor_addresses(struct rbd_backend *rb, char **hosts, char **ports,
			  struct cl_error *err);

#endif /* CINDERLIB_DRIVER_RBD_H */
