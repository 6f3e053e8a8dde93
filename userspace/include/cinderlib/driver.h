/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Driver plugin ABI. A driver is a shared object exporting one symbol,
 * CL_DRIVER_SYMBOL, a struct cl_driver_ops with abi_version set to
 * CL_DRIVER_ABI_VERSION. The library loads it with dlopen(), checks the
 * version and the option table, and calls the operations of one backend
 * from one thread at a time (a driver needs no locking of its own for one
 * backend instance; several processes may run the same backend, so shared
 * on-disk state must be safe for that, e.g. by atomic renames).
 *
 * Operations return 0 or a negative errno with a message in @p err. Strings a
 * driver returns (struct cl_model_update, connection info) are malloc'd by
 * the driver and freed by the library with free().
 */
#ifndef CINDERLIB_DRIVER_H
#define CINDERLIB_DRIVER_H

#include "cinderlib/cinderlib.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI version a driver sets in struct cl_driver_ops.abi_version. */
#define CL_DRIVER_ABI_VERSION 1
/** The name of the one symbol a driver exports, its struct cl_driver_ops. */
#define CL_DRIVER_SYMBOL "cinderlib_driver"

/** What the driver hands back to be saved in the object (may stay NULL). */
struct cl_model_update {
	char *provider_location;	/**< saved as the object's provider_location */
	char *provider_id;		/**< saved as the object's provider_id */
};

/** What initialize_connection returns: Cinder's connection_info. */
struct cl_connection_info {
	char *driver_volume_type;	/**< "file", "nbd", "iscsi", ... */
	struct cl_dict data;		/**< connection_info.data */
};

/** The backend being opened. */
struct cl_driver_config {
	const char *backend_name;	/**< the backend's name */
	/**
	 * Options as given (validated against the table); defaults apply
	 * for the missing ones: use cl_driver_option_get().
	 */
	const struct cl_dict *options;
	const char *host;		/**< the context's host name */
	const char *state_dir;		/**< the library's state directory */
};

/**
 * A driver: its description, its option table and its operations. The
 * operations not marked optional are required: a plugin missing one is
 * refused (-EPROTO).
 */
struct cl_driver_ops {
	uint32_t abi_version;		/**< CL_DRIVER_ABI_VERSION */
	const char *name;		/**< "file" */
	const char *version;		/**< the driver's version */
	const char *description;	/**< one line about the driver */
	const char *vendor_name;	/**< reported in the backend's stats */
	const char *storage_protocol;	/**< reported in the backend's stats */
	/** Cinder volume_driver class paths this driver stands for (NULL-ended). */
	const char *const *cinder_names;
	/** Options, ended by an entry with name NULL. */
	const struct cl_driver_option *options;

	/** Parse options, check the backend is usable (do_setup + check). */
	int (*setup)(const struct cl_driver_config *cfg, void **priv,
		     struct cl_error *err);
	/** Optional: free what setup made, when the backend closes. */
	void (*teardown)(void *priv);
	/** Fill @p stats (strings and pools malloc'd; the library fills names). */
	int (*get_stats)(void *priv, struct cl_backend_stats *stats,
			 struct cl_error *err);

	/** Create @p vol (its id, size and specs are set). */
	int (*create_volume)(void *priv, const struct cl_volume *vol,
			     struct cl_model_update *upd, struct cl_error *err);
	/** Deleting a volume that is not there is success. */
	int (*delete_volume)(void *priv, const struct cl_volume *vol,
			     struct cl_error *err);
	/** Take snapshot @p snap of @p vol. */
	int (*create_snapshot)(void *priv, const struct cl_snapshot *snap,
			       const struct cl_volume *vol,
			       struct cl_model_update *upd,
			       struct cl_error *err);
	/** Delete @p snap. */
	int (*delete_snapshot)(void *priv, const struct cl_snapshot *snap,
			       struct cl_error *err);
	/**
	 * Create @p vol with the data of @p snap. @p vol->size may be larger
	 * than the snapshot: grow after copying.
	 */
	int (*create_volume_from_snapshot)(void *priv,
					   const struct cl_volume *vol,
					   const struct cl_snapshot *snap,
					   struct cl_model_update *upd,
					   struct cl_error *err);
	/** Create @p vol as a copy of @p src. */
	int (*create_cloned_volume)(void *priv, const struct cl_volume *vol,
				    const struct cl_volume *src,
				    struct cl_model_update *upd,
				    struct cl_error *err);
	/** Grow @p vol to @p new_size GiB. */
	int (*extend_volume)(void *priv, const struct cl_volume *vol,
			     uint64_t new_size, struct cl_error *err);

	/** Optional (NULL = nothing to do): export @p vol for @p connector. */
	int (*create_export)(void *priv, const struct cl_volume *vol,
			     const struct cl_dict *connector,
			     struct cl_model_update *upd, struct cl_error *err);
	/**
	 * Optional (NULL = nothing to do): when the volume's last connection
	 * ends, and to undo create_export when connecting fails.
	 */
	int (*remove_export)(void *priv, const struct cl_volume *vol,
			     struct cl_error *err);

	/** Fill @p info, the connection_info of @p vol for @p connector. */
	int (*initialize_connection)(void *priv, const struct cl_volume *vol,
				     const struct cl_dict *connector,
				     struct cl_connection_info *info,
				     struct cl_error *err);
	/** End the connection of @p vol to @p connector. */
	int (*terminate_connection)(void *priv, const struct cl_volume *vol,
				    const struct cl_dict *connector,
				    struct cl_error *err);
};

/**
 * Value of option @p name for the backend: the configured one, else the
 * table's default (NULL when neither). For drivers.
 */
CL_API const char *cl_driver_option_get(const struct cl_driver_config *cfg,
					const struct cl_driver_option *table,
					const char *name);

/**
 * Option @p name as a boolean: true, yes, on or 1 (in any case) is true,
 * anything else false; the table's default when it is not configured.
 * The library validated the configured value against the table already.
 * For drivers.
 */
CL_API bool cl_driver_option_bool(const struct cl_driver_config *cfg,
				  const struct cl_driver_option *table,
				  const char *name);

/** Put in the driver's one source file that defines the ops. */
#define CL_DRIVER_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif

#endif /* CINDERLIB_DRIVER_H */
