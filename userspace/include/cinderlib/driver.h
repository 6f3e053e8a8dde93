/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driver plugin ABI. A driver is a shared object exporting one symbol,
 * CL_DRIVER_SYMBOL, a struct cl_driver_ops with abi_version set to
 * CL_DRIVER_ABI_VERSION. The library loads it with dlopen(), checks the
 * version and the option table, and calls the operations of one backend
 * from one thread at a time (a driver needs no locking of its own for one
 * backend instance; several processes may run the same backend, so shared
 * on-disk state must be safe for that, e.g. by atomic renames).
 *
 * Operations return 0 or a negative errno with a message in @err. Strings a
 * driver returns (struct cl_model_update, connection info) are malloc'd by
 * the driver and freed by the library with free().
 */
#ifndef CINDERLIB_DRIVER_H
#define CINDERLIB_DRIVER_H

#include "cinderlib/cinderlib.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CL_DRIVER_ABI_VERSION 1
#define CL_DRIVER_SYMBOL "cinderlib_driver"

/* What the driver hands back to be saved in the object (may stay NULL). */
struct cl_model_update {
	char *provider_location;
	char *provider_id;
};

struct cl_connection_info {
	char *driver_volume_type;	/* "file", "nbd", "iscsi", ... */
	struct cl_dict data;
};

/* The backend being opened. */
struct cl_driver_config {
	const char *backend_name;
	/*
	 * Options as given (validated against the table); defaults apply
	 * for the missing ones: use cl_driver_option_get().
	 */
	const struct cl_dict *options;
	const char *host;
	const char *state_dir;
};

struct cl_driver_ops {
	uint32_t abi_version;
	const char *name;		/* "file" */
	const char *version;
	const char *description;
	const char *vendor_name;
	const char *storage_protocol;
	/* Cinder volume_driver class paths this driver stands for (NULL-ended). */
	const char *const *cinder_names;
	/* Options, ended by an entry with name NULL. */
	const struct cl_driver_option *options;

	/* Parse options, check the backend is usable (do_setup + check). */
	int (*setup)(const struct cl_driver_config *cfg, void **priv,
		     struct cl_error *err);
	void (*teardown)(void *priv);
	/* Fill @stats (strings and pools malloc'd; the library fills names). */
	int (*get_stats)(void *priv, struct cl_backend_stats *stats,
			 struct cl_error *err);

	int (*create_volume)(void *priv, const struct cl_volume *vol,
			     struct cl_model_update *upd, struct cl_error *err);
	/* Deleting a volume that is not there is success. */
	int (*delete_volume)(void *priv, const struct cl_volume *vol,
			     struct cl_error *err);
	int (*create_snapshot)(void *priv, const struct cl_snapshot *snap,
			       const struct cl_volume *vol,
			       struct cl_model_update *upd,
			       struct cl_error *err);
	int (*delete_snapshot)(void *priv, const struct cl_snapshot *snap,
			       struct cl_error *err);
	/* @vol->size may be larger than the snapshot: grow after copying. */
	int (*create_volume_from_snapshot)(void *priv,
					   const struct cl_volume *vol,
					   const struct cl_snapshot *snap,
					   struct cl_model_update *upd,
					   struct cl_error *err);
	int (*create_cloned_volume)(void *priv, const struct cl_volume *vol,
				    const struct cl_volume *src,
				    struct cl_model_update *upd,
				    struct cl_error *err);
	int (*extend_volume)(void *priv, const struct cl_volume *vol,
			     uint64_t new_size, struct cl_error *err);

	/* Optional (NULL = nothing to do). */
	int (*create_export)(void *priv, const struct cl_volume *vol,
			     const struct cl_dict *connector,
			     struct cl_model_update *upd, struct cl_error *err);
	int (*remove_export)(void *priv, const struct cl_volume *vol,
			     struct cl_error *err);

	int (*initialize_connection)(void *priv, const struct cl_volume *vol,
				     const struct cl_dict *connector,
				     struct cl_connection_info *info,
				     struct cl_error *err);
	int (*terminate_connection)(void *priv, const struct cl_volume *vol,
				    const struct cl_dict *connector,
				    struct cl_error *err);
};

/*
 * Value of option @name for the backend: the configured one, else the
 * table's default (NULL when neither). For drivers.
 */
CL_API const char *cl_driver_option_get(const struct cl_driver_config *cfg,
					const struct cl_driver_option *table,
					const char *name);

/* Put in the driver's one source file that defines the ops. */
#define CL_DRIVER_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif

#endif /* CINDERLIB_DRIVER_H */
