/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Persistence plugin ABI. A store plugin is a shared object exporting
 * CL_PERSISTENCE_SYMBOL, a struct cl_persistence_ops with abi_version set to
 * CL_PERSISTENCE_ABI_VERSION. The built-in "memory" and "sqlite" stores
 * implement the same operations.
 *
 * Objects are passed as the public structs; a plugin may keep them as JSON
 * with cl_volume_to_json() / cl_volume_from_json() and friends, indexing
 * the filter fields (id, name, backend, volume id). get_* return deep copies
 * the library frees. A store may be used by several processes at once;
 * transactions (begin/commit/rollback, optional) make multi-step changes
 * atomic. Calls on one store instance come from one thread at a time.
 */
#ifndef CINDERLIB_PERSISTENCE_H
#define CINDERLIB_PERSISTENCE_H

#include "cinderlib/cinderlib.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The ABI version a plugin sets in struct cl_persistence_ops.abi_version.
 * 2 added lock/unlock; plugins of version 1 still load (no store locks).
 */
#define CL_PERSISTENCE_ABI_VERSION 2
/** The name of the one symbol a plugin exports, its struct cl_persistence_ops. */
#define CL_PERSISTENCE_SYMBOL "cinderlib_persistence"

/**
 * A store: its operations. Every one is required but the transactions and
 * the locks (-EPROTO otherwise).
 */
struct cl_persistence_ops {
	uint32_t abi_version;		/**< CL_PERSISTENCE_ABI_VERSION (1 or 2) */
	const char *name;		/**< the store's name */

	/**
	 * Open the store. @p options: "path" (persistence_path) and any persistence_options;
	 * "create" = "true" when a missing store may be created.
	 */
	int (*open)(const struct cl_dict *options, void **store,
		    struct cl_error *err);
	/** Close the store. */
	void (*close)(void *store);

	/** Optional: NULL when the store has no transactions. */
	int (*begin)(void *store, struct cl_error *err);
	/** Optional, with begin: make the transaction's changes durable. */
	int (*commit)(void *store, struct cl_error *err);
	/** Optional, with begin: drop the transaction's changes. */
	void (*rollback)(void *store);

	/** get_*: append matching objects to @p out (sorted by id). */
	int (*get_volumes)(void *store, const struct cl_filter *f,
			   struct cl_volume_list *out, struct cl_error *err);
	/** set_*: insert or replace by id. */
	int (*set_volume)(void *store, const struct cl_volume *vol,
			  struct cl_error *err);
	/** delete_*: a missing id is success. */
	int (*delete_volume)(void *store, const char *id, struct cl_error *err);

	/** As get_volumes, for snapshots. */
	int (*get_snapshots)(void *store, const struct cl_filter *f,
			     struct cl_snapshot_list *out,
			     struct cl_error *err);
	/** As set_volume, for snapshots. */
	int (*set_snapshot)(void *store, const struct cl_snapshot *snap,
			    struct cl_error *err);
	/** As delete_volume, for snapshots. */
	int (*delete_snapshot)(void *store, const char *id,
			       struct cl_error *err);

	/** As get_volumes, for connections. */
	int (*get_connections)(void *store, const struct cl_filter *f,
			       struct cl_connection_list *out,
			       struct cl_error *err);
	/** As set_volume, for connections. */
	int (*set_connection)(void *store, const struct cl_connection *conn,
			      struct cl_error *err);
	/** As delete_volume, for connections. */
	int (*delete_connection)(void *store, const char *id,
				 struct cl_error *err);

	/** Keys starting with @p prefix (NULL = all), added to @p out. */
	int (*get_key_values)(void *store, const char *prefix,
			      struct cl_dict *out, struct cl_error *err);
	/** Set (or replace) @p key. */
	int (*set_key_value)(void *store, const char *key, const char *value,
			     struct cl_error *err);
	/** Remove @p key; a missing key is success. */
	int (*delete_key_value)(void *store, const char *key,
				struct cl_error *err);

	/**
	 * Optional (ABI 2), for stores that several hosts share: exclusive
	 * locks held in the store, by this store instance's session, that
	 * the store releases by itself when the session ends (the process
	 * or its host dies). lock() waits until @p what/@p id ("volume", an id)
	 * is held; -ENOTCONN when the session holding locks was lost (they
	 * may be another's now). With lock NULL the library takes flock()
	 * files under lock_path, which hold between the processes of one
	 * host only.
	 */
	int (*lock)(void *store, const char *what, const char *id,
		    struct cl_error *err);
	/** Optional, with lock: release @p what/@p id. */
	void (*unlock)(void *store, const char *what, const char *id);
};

/**
 * Append @p obj to @p l (growing the lists, for plugins): on success the
 * list owns @p obj. 0 or -ENOMEM.
 */
CL_API int cl_volume_list_append(struct cl_volume_list *l,
				 struct cl_volume *obj);
/** As cl_volume_list_append(), for snapshots. */
CL_API int cl_snapshot_list_append(struct cl_snapshot_list *l,
				   struct cl_snapshot *obj);
/** As cl_volume_list_append(), for connections. */
CL_API int cl_connection_list_append(struct cl_connection_list *l,
				     struct cl_connection *obj);

/** Put in the plugin's one source file that defines the ops. */
#define CL_PERSISTENCE_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif

#endif /* CINDERLIB_PERSISTENCE_H */
