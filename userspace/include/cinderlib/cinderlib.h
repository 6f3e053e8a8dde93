/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * libcinderlib: block storage volumes without a cloud around them.
 *
 * The object model is OpenStack cinderlib's: a context (cinderlib's setup()),
 * backends (a driver plus its options), volumes, snapshots, connections and a
 * key/value store, all kept in a persistence store (memory, sqlite or a
 * plugin) and serializable to JSON.
 *
 * @par Conventions
 * - Every function that can fail returns 0 or a negative errno and, when
 *   @p err is not NULL, fills it with a message meant for a person. The
 *   library never prints and never exits.
 * - Objects handed out (struct cl_volume, cl_snapshot, cl_connection, lists,
 *   strings) belong to the caller and are freed with the matching *_free().
 *   Their fields are for reading; change objects through the functions
 *   (cl_volume_save() saves name, description, bootable and metadata edits).
 * - A failed driver call leaves the object in its error status, saved in the
 *   store; the function returns the driver's code and message.
 * - Sizes are in GiB, as in Cinder. Timestamps are microseconds since the
 *   epoch (UTC).
 *
 * @par Thread safety
 * A struct cl_context, and everything obtained through it (backends,
 * objects), may be used by one thread at a time: the caller serializes the
 * calls. Separate contexts may be used concurrently by separate threads and
 * by separate processes, also on the same sqlite store and the same backend:
 * the library takes flock()-based file locks in the lock path around every
 * state change of a volume and the store serializes its own writers. Objects
 * freed with *_free() may be freed from any thread. cl_dict_* functions and
 * the serialization functions that take no context are reentrant.
 */
#ifndef CINDERLIB_CINDERLIB_H
#define CINDERLIB_CINDERLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cinderlib/api.h"
#include "cinderlib/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup cl_limits Identifiers and sizes
 * @{
 */

#define CL_ID_LEN 37			/**< UUID string, 36 chars + NUL */
#define CL_MAX_SIZE_GIB (1ULL << 20)	/**< 1 PiB: larger is refused */

/** @} */

/**
 * @defgroup cl_dict String dictionaries
 * Metadata, specs, driver options, connectors.
 * @{
 */

/** One entry of a struct cl_dict. */
struct cl_dict_entry {
	char *key;		/**< the key */
	char *value;		/**< its value */
};

/**
 * A small ordered string map. A zero-initialized struct is an empty dict;
 * the entries are allocated by the cl_dict_* functions.
 */
struct cl_dict {
	size_t count;			/**< number of entries */
	struct cl_dict_entry *entries;	/**< the entries, in order */
};

/** Value of @p key, or NULL. @p d may be NULL. */
CL_API const char *cl_dict_get(const struct cl_dict *d, const char *key);
/** Set (or replace) @p key; @p value NULL removes the key. 0 or -ENOMEM. */
CL_API int cl_dict_set(struct cl_dict *d, const char *key, const char *value);
/** Copy every entry of @p src into @p dst (replacing equal keys). */
CL_API int cl_dict_update(struct cl_dict *dst, const struct cl_dict *src);
/** Free the entries; @p d is an empty dict afterwards. */
CL_API void cl_dict_clear(struct cl_dict *d);
/** True when both hold the same keys with the same values (any order). */
CL_API bool cl_dict_equal(const struct cl_dict *a, const struct cl_dict *b);

/** @} */

/**
 * @defgroup cl_status Status machine
 * The statuses of volumes, snapshots and connections, as cinderlib has them.
 * @{
 */

/**
 * The status of a volume or a snapshot.
 * @verbatim
   creating -> available | error
   available -> extending -> available (or in-use) | error
   available -> in-use (while connected) -> available
   -> deleting -> deleted (removed from the store) | error_deleting
   @endverbatim
 * Objects in error / error_deleting may be deleted again.
 */
enum cl_status {
	CL_STATUS_CREATING,		/**< "creating" */
	CL_STATUS_AVAILABLE,		/**< "available" */
	CL_STATUS_IN_USE,		/**< "in-use" */
	CL_STATUS_EXTENDING,		/**< "extending" */
	CL_STATUS_DELETING,		/**< "deleting" */
	CL_STATUS_DELETED,		/**< "deleted" */
	CL_STATUS_ERROR,		/**< "error" */
	CL_STATUS_ERROR_DELETING,	/**< "error_deleting" */
	CL_STATUS_ERROR_EXTENDING,	/**< "error_extending" */
	CL_STATUS__COUNT		/**< the number of statuses */
};

/** The name of a status: "creating", "available", "in-use", ... */
CL_API const char *cl_status_name(enum cl_status status);
/** Parse a status name; -EINVAL when unknown. */
CL_API int cl_status_parse(const char *name, enum cl_status *out);

/**
 * The status of a connection: attaching -> attached | error_attaching;
 * detaching -> detached.
 */
enum cl_attach_status {
	CL_ATTACH_ATTACHING,		/**< "attaching" */
	CL_ATTACH_ATTACHED,		/**< "attached" */
	CL_ATTACH_DETACHING,		/**< "detaching" */
	CL_ATTACH_DETACHED,		/**< "detached" */
	CL_ATTACH_ERROR_ATTACHING,	/**< "error_attaching" */
	CL_ATTACH_ERROR_DETACHING,	/**< "error_detaching" */
	CL_ATTACH__COUNT		/**< the number of statuses */
};

/** The name of a connection status: "attaching", "attached", ... */
CL_API const char *cl_attach_status_name(enum cl_attach_status status);
/** Parse a connection status name; -EINVAL when unknown. */
CL_API int cl_attach_status_parse(const char *name, enum cl_attach_status *out);

/** How a connection gives access to the volume. */
enum cl_attach_mode {
	CL_ATTACH_RW,		/**< read-write ("rw") */
	CL_ATTACH_RO,		/**< read-only ("ro") */
};

/** @} */

/**
 * @defgroup cl_objects Objects
 * Volumes, snapshots, connections, their lists and the lookup filter.
 * @{
 */

/** A volume (cinderlib's Volume). */
struct cl_volume {
	char id[CL_ID_LEN];		/**< UUID */
	char *name;			/**< any UTF-8, may be NULL */
	char *description;		/**< may be NULL */
	uint64_t size;			/**< GiB */
	enum cl_status status;		/**< where it is in the status machine */
	bool bootable;			/**< the bootable flag */
	struct cl_dict metadata;	/**< user metadata */
	struct cl_dict admin_metadata;	/**< admin metadata */
	struct cl_dict extra_specs;	/**< volume type extra specs */
	struct cl_dict qos_specs;	/**< QoS specs */
	char *provider_location;	/**< opaque driver data, may be NULL */
	char *provider_id;		/**< opaque driver data, may be NULL */
	char *source_volid;		/**< set for clones */
	char *snapshot_id;		/**< set for volumes made from snapshots */
	char *backend_name;		/**< volume_backend_name */
	char *host;			/**< "host@backend", as Cinder writes it before "#pool" */
	int64_t created_at;		/**< µs since the epoch */
	int64_t updated_at;		/**< µs since the epoch, changes at every save */
};

/** A snapshot (cinderlib's Snapshot). */
struct cl_snapshot {
	char id[CL_ID_LEN];		/**< UUID */
	char volume_id[CL_ID_LEN];	/**< its volume */
	char *name;			/**< may be NULL */
	char *description;		/**< may be NULL */
	uint64_t volume_size;		/**< GiB, the volume's size when taken */
	enum cl_status status;		/**< where it is in the status machine */
	struct cl_dict metadata;	/**< user metadata */
	char *provider_location;	/**< opaque driver data, may be NULL */
	char *provider_id;		/**< opaque driver data, may be NULL */
	char *backend_name;		/**< its volume's backend */
	int64_t created_at;		/**< µs since the epoch */
	int64_t updated_at;		/**< µs since the epoch */
};

/** A connection: a volume exported to a host (cinderlib's Connection). */
struct cl_connection {
	char id[CL_ID_LEN];		/**< UUID */
	char volume_id[CL_ID_LEN];	/**< the volume */
	char *backend_name;		/**< the volume's backend */
	enum cl_attach_status status;	/**< the connection's status */
	enum cl_attach_mode attach_mode;	/**< read-write or read-only */
	struct cl_dict connector;	/**< host, ip, initiator, multipath, ... */
	char *driver_volume_type;	/**< connection_info.driver_volume_type */
	struct cl_dict connection_data;	/**< connection_info.data */
	char *device_path;		/**< set once attached locally, else NULL */
	char *attached_host;		/**< connector's "host" */
	int64_t created_at;		/**< µs since the epoch */
	int64_t updated_at;		/**< µs since the epoch */
	/**
	 * What the target keeps of the connection: for an NBD export, the
	 * host that serves it and its nbdkit (export, target_host, address,
	 * port, pid). Empty for local connections.
	 */
	struct cl_dict provider_data;
};

/** A list of volumes; free the items with cl_volume_list_free(). */
struct cl_volume_list {
	size_t count;			/**< number of items */
	struct cl_volume **items;	/**< the volumes */
};

/** A list of snapshots; free the items with cl_snapshot_list_free(). */
struct cl_snapshot_list {
	size_t count;			/**< number of items */
	struct cl_snapshot **items;	/**< the snapshots */
};

/** A list of connections; free the items with cl_connection_list_free(). */
struct cl_connection_list {
	size_t count;			/**< number of items */
	struct cl_connection **items;	/**< the connections */
};

/**
 * Lookup filter; NULL members match everything. volume_id applies to
 * snapshots and connections only.
 */
struct cl_filter {
	const char *id;			/**< exact id */
	const char *name;		/**< exact name */
	const char *backend;		/**< backend name */
	const char *volume_id;		/**< the volume (snapshots, connections) */
};

/** Free one volume (NULL is fine). */
CL_API void cl_volume_free(struct cl_volume *vol);
/** Free one snapshot (NULL is fine). */
CL_API void cl_snapshot_free(struct cl_snapshot *snap);
/** Free one connection (NULL is fine). */
CL_API void cl_connection_free(struct cl_connection *conn);
/** Free the items of a list; the list struct itself is the caller's. */
CL_API void cl_volume_list_free(struct cl_volume_list *list);
/** Free the items of a list; the list struct itself is the caller's. */
CL_API void cl_snapshot_list_free(struct cl_snapshot_list *list);
/** Free the items of a list; the list struct itself is the caller's. */
CL_API void cl_connection_list_free(struct cl_connection_list *list);
/** A deep copy of a volume; NULL on -ENOMEM. */
CL_API struct cl_volume *cl_volume_dup(const struct cl_volume *vol);
/** A deep copy of a snapshot; NULL on -ENOMEM. */
CL_API struct cl_snapshot *cl_snapshot_dup(const struct cl_snapshot *snap);
/** A deep copy of a connection; NULL on -ENOMEM. */
CL_API struct cl_connection *cl_connection_dup(const struct cl_connection *c);

/** @} */

/**
 * @defgroup cl_setup Setup
 * Contexts: cinderlib.setup().
 * @{
 */

/** How much the library logs. */
enum cl_log_level {
	CL_LOG_ERROR,		/**< errors only */
	CL_LOG_WARNING,		/**< and warnings */
	CL_LOG_INFO,		/**< and information */
	CL_LOG_DEBUG,		/**< everything */
};

/** The log callback: one message at @p level, with the @p data given at setup. */
typedef void (*cl_log_fn)(enum cl_log_level level, const char *msg, void *data);

/** The settings of cl_setup(); a zero-initialized struct means the defaults. */
struct cl_setup_options {
	/**
	 * "memory" (default), "sqlite" or the path of a persistence plugin
	 * (a .so, see cinderlib/persistence.h).
	 */
	const char *persistence;
	/** sqlite: the database file; plugin: passed as its "path" option. */
	const char *persistence_path;
	/** More plugin options (may be NULL). */
	const struct cl_dict *persistence_options;
	/**
	 * sqlite only: create the file when missing. When false a missing
	 * store is an error (-ENOENT). An existing file is never replaced.
	 */
	bool persistence_create;
	/** Directory for the flock() files; NULL = the state directory. */
	const char *lock_path;
	/** Host name recorded in volumes; NULL = gethostname(). */
	const char *host;
	/** Where driver plugins live; NULL = $CINDERLIB_DRIVER_DIR or built-in. */
	const char *driver_dir;
	/**
	 * true: stored objects whose backend is neither open nor configured
	 * are an error when loaded (cinderlib's fail_on_missing_backend);
	 * false: they load, and driver operations on them fail with -ENODEV.
	 */
	bool fail_on_missing_backend;
	/**
	 * The nbd connector (remote attach): connections per device when
	 * the export allows several (0: 4).
	 */
	unsigned int nbd_connections;
	/**
	 * The nbd connector: how long a request may go unanswered before its
	 * connection is dropped (0: the module's io_timeout_ms).
	 */
	unsigned int nbd_io_timeout_ms;
	/**
	 * The nbd connector: how long I/O waits for a new connection when
	 * all are lost (0: 60 s).
	 */
	unsigned int nbd_dead_timeout_ms;
	enum cl_log_level log_level;	/**< what is logged (default: errors) */
	cl_log_fn log_fn;		/**< NULL: no logging */
	void *log_data;			/**< passed to log_fn */
	/**
	 * Where the library keeps its own files (the pid files and logs of
	 * NBD exports; drivers are told it too); NULL: $CINDERLIB_STATE_DIR,
	 * else /var/lib/cinderlib for root, else under $XDG_DATA_HOME.
	 */
	const char *state_dir;
};

/**
 * @struct cl_context
 * A context: the store, the settings and the backends (cinderlib's
 * setup()); opaque.
 */
struct cl_context;
/**
 * @struct cl_backend
 * An open backend: a driver and its options; opaque.
 */
struct cl_backend;

/**
 * Create a context. @p opts may be NULL (memory store, defaults).
 * A missing or corrupt sqlite store gives -ENOENT / -EBADMSG (or the
 * sqlite error) with a message naming the file; the file is left alone.
 */
CL_API int cl_setup(const struct cl_setup_options *opts,
		    struct cl_context **out, struct cl_error *err);
/** Close every backend and the store, free the context. NULL is fine. */
CL_API void cl_context_free(struct cl_context *ctx);

/**
 * State directory: $CINDERLIB_STATE_DIR, else /var/lib/cinderlib for root,
 * else $XDG_DATA_HOME/cinderlib (~/.local/share/cinderlib). Returns a
 * malloc'd string or NULL on -ENOMEM. Does not create it.
 */
CL_API char *cl_state_dir(void);

/** @} */

/**
 * @defgroup cl_config Configuration file
 * The configuration file, INI in cinder.conf style.
 * @{
 */

/** The configuration file read when none is named. */
#define CL_DEFAULT_CONFIG "/etc/cinderlib/cinderlib.conf"

/** One backend section of the configuration file. */
struct cl_backend_config {
	char *name;			/**< section name = volume_backend_name */
	struct cl_dict options;		/**< volume_driver and driver options */
};

/**
 * A configuration file, as read:
 * @verbatim
   [DEFAULT]
     enabled_backends = a, b        backends to define (sections)
     persistence = memory | sqlite | /path/plugin.so
     persistence_path = FILE        (sqlite: default STATE/cinderlib.sqlite)
     lock_path = DIR                (default: state dir)
     host = NAME
     driver_dir = DIR
     fail_on_missing_backend = true | false
     debug = true | false
   [a]
     volume_driver = file | cinder.volume.drivers....
     <driver options>
   @endverbatim
 */
struct cl_config {
	char *path;			/**< file read, NULL for the embedded default */
	char *state_dir;		/**< [DEFAULT] state_dir */
	char *persistence;		/**< [DEFAULT] persistence */
	char *persistence_path;		/**< [DEFAULT] persistence_path */
	struct cl_dict persistence_options;	/**< the other persistence_* keys */
	char *lock_path;		/**< [DEFAULT] lock_path */
	char *host;			/**< [DEFAULT] host */
	char *driver_dir;		/**< [DEFAULT] driver_dir */
	bool fail_on_missing_backend;	/**< [DEFAULT] fail_on_missing_backend */
	unsigned int nbd_connections;	/**< [DEFAULT] nbd_connections */
	unsigned int nbd_io_timeout_ms;	/**< [DEFAULT] nbd_io_timeout */
	unsigned int nbd_dead_timeout_ms;	/**< [DEFAULT] nbd_dead_timeout */
	enum cl_log_level log_level;	/**< [DEFAULT] debug, log_level */
	size_t nr_backends;		/**< number of backends */
	struct cl_backend_config *backends;	/**< the enabled backends' sections */
};

/**
 * Read @p path. With @p path NULL: CL_DEFAULT_CONFIG when it exists, otherwise
 * the embedded default: one backend "default" with the file driver in
 * STATE/volumes and the sqlite store STATE/cinderlib.sqlite. Unknown keys in
 * [DEFAULT] and a missing backend section are errors with the line/name.
 */
CL_API int cl_config_load(const char *path, struct cl_config **out,
			  struct cl_error *err);
/** Free a configuration (NULL is fine). */
CL_API void cl_config_free(struct cl_config *cfg);
/** The embedded default configuration (for @p state_dir, NULL = cl_state_dir()). */
CL_API int cl_config_default(const char *state_dir, struct cl_config **out,
			     struct cl_error *err);

/**
 * cl_setup() with the settings of @p cfg (the sqlite store and the state
 * directory are created when missing) and every backend of @p cfg defined,
 * to be opened on first use by cl_backend_get(). @p log_fn may be NULL.
 */
CL_API int cl_setup_from_config(const struct cl_config *cfg, cl_log_fn log_fn,
				void *log_data, struct cl_context **out,
				struct cl_error *err);

/** @} */

/**
 * @defgroup cl_drivers Drivers
 * The driver plugins and their option tables.
 * @{
 */

/** The type of a driver option's value. */
enum cl_option_type {
	CL_OPT_STRING,		/**< "string" */
	CL_OPT_INT,		/**< "int" */
	CL_OPT_BOOL,		/**< "bool" */
	CL_OPT_FLOAT,		/**< "float" */
	CL_OPT_PATH,		/**< "path" */
};

/** The name of an option type: "string", "int", "bool", "float", "path". */
CL_API const char *cl_option_type_name(enum cl_option_type type);

/** One entry of a driver's option table. */
struct cl_driver_option {
	const char *name;		/**< the option's name */
	enum cl_option_type type;	/**< the type of its value */
	const char *default_value;	/**< NULL: required or no default */
	const char *help;		/**< one line about it */
};

/** What cl_list_supported_drivers() says of one driver. */
struct cl_driver_info {
	char *name;			/**< "file" */
	char *version;			/**< the driver's version */
	char *description;		/**< one line about the driver */
	char *path;			/**< the shared object */
	size_t nr_options;		/**< entries of options */
	struct cl_driver_option *options; /**< strings owned by the info */
};

/** A list of drivers; free it with cl_driver_info_list_free(). */
struct cl_driver_info_list {
	size_t count;			/**< number of items */
	struct cl_driver_info *items;	/**< the drivers */
};

/**
 * Every driver in the driver directory: opts->driver_dir, else
 * $CINDERLIB_DRIVER_DIR, else LIBDIR/cinderlib/drivers or LIBDIR/../drivers
 * next to libcinderlib (installed / build tree), else the compiled-in
 * CINDERLIB_DRIVER_DIR. @p ctx may be NULL. Free with
 * cl_driver_info_list_free().
 */
CL_API int cl_list_supported_drivers(struct cl_context *ctx,
				     struct cl_driver_info_list *out,
				     struct cl_error *err);
/** Free what cl_list_supported_drivers() filled in. */
CL_API void cl_driver_info_list_free(struct cl_driver_info_list *list);

/**
 * Map a volume_driver value to a driver name: "file" stays "file",
 * "cinder.volume.drivers.lvm.LVMVolumeDriver" gives "lvm". NULL if unknown.
 */
CL_API const char *cl_driver_name_from_cinder(const char *volume_driver);

/** @} */

/**
 * @defgroup cl_backends Backends
 * A backend: a driver with its options.
 * @{
 */

/** The capacity of one pool of a backend. */
struct cl_pool_stats {
	char *pool_name;		/**< the pool's name */
	double total_capacity_gb;	/**< GiB */
	double free_capacity_gb;	/**< GiB */
	double provisioned_capacity_gb;	/**< sum of the volumes' sizes */
	double allocated_capacity_gb;	/**< space actually used */
	double max_over_subscription_ratio;	/**< over-subscription ratio */
	int reserved_percentage;	/**< reserved percentage */
	bool thin_provisioning_support;	/**< thin volumes */
	bool thick_provisioning_support;	/**< thick volumes */
	uint64_t total_volumes;		/**< number of volumes */
};

/** What cl_backend_stats() reports: the backend and its pools. */
struct cl_backend_stats {
	char *volume_backend_name;	/**< the backend's name */
	char *driver_name;		/**< the driver's name */
	char *vendor_name;		/**< the driver's vendor */
	char *driver_version;		/**< the driver's version */
	char *storage_protocol;		/**< the driver's protocol */
	size_t nr_pools;		/**< entries of pools */
	struct cl_pool_stats *pools;	/**< one per pool */
};

/** Free what cl_backend_stats() filled in; @p stats is zeroed. */
CL_API void cl_backend_stats_free(struct cl_backend_stats *stats);

/**
 * Open backend @p name with @p options (Cinder names: volume_driver, then the
 * driver's options; volume_backend_name, when given, must equal @p name).
 * Loads the driver plugin, checks every option against its table (an
 * unknown option is -EINVAL naming the closest valid one), runs the
 * driver's setup/check. The backend belongs to @p ctx: it stays open until
 * cl_backend_close() or cl_context_free(). -EEXIST if already open.
 */
CL_API int cl_backend_open(struct cl_context *ctx, const char *name,
			   const struct cl_dict *options,
			   struct cl_backend **out, struct cl_error *err);
/**
 * The open backend @p name, opening it from its configured definition
 * (cl_setup_from_config / cl_backend_define) when needed; -ENOENT when
 * @p name is neither open nor defined.
 */
CL_API int cl_backend_get(struct cl_context *ctx, const char *name,
			  struct cl_backend **out, struct cl_error *err);
/** Define a backend to open later (replaces an earlier definition). */
CL_API int cl_backend_define(struct cl_context *ctx, const char *name,
			     const struct cl_dict *options,
			     struct cl_error *err);
/** Names of the defined and open backends (malloc'd array of strings). */
CL_API int cl_backend_names(struct cl_context *ctx, char ***names,
			    size_t *count, struct cl_error *err);
/** Free the @p count strings of @p v and the array (as cl_backend_names() gives). */
CL_API void cl_strv_free(char **v, size_t count);
/** Close a backend: the driver's teardown, and it leaves its context (NULL is fine). */
CL_API void cl_backend_close(struct cl_backend *be);

/** The backend's name. */
CL_API const char *cl_backend_name(const struct cl_backend *be);
/** The name of the backend's driver ("file", "lvm", ...). */
CL_API const char *cl_backend_driver_name(const struct cl_backend *be);
/** The options the backend was opened with (driver defaults not included). */
CL_API const struct cl_dict *cl_backend_options(const struct cl_backend *be);
/** The context the backend belongs to. */
CL_API struct cl_context *cl_backend_context(const struct cl_backend *be);

/** Capacity; @p refresh asks the driver again, else the cached values. */
CL_API int cl_backend_stats(struct cl_backend *be, bool refresh,
			    struct cl_backend_stats *out, struct cl_error *err);
/** Volumes of this backend in the store. */
CL_API int cl_backend_volumes(struct cl_backend *be, struct cl_volume_list *out,
			      struct cl_error *err);

/** @} */

/**
 * @defgroup cl_volumes Volumes
 * @{
 */

/** What to create: a new volume, a clone, a volume from a snapshot. */
struct cl_volume_create_opts {
	uint64_t size;			/**< GiB, 1..CL_MAX_SIZE_GIB; clones: 0 = source size */
	const char *name;		/**< may be NULL */
	const char *description;	/**< may be NULL */
	bool bootable;			/**< the bootable flag */
	const struct cl_dict *metadata;	/**< user metadata (may be NULL) */
	const struct cl_dict *extra_specs;	/**< volume type extra specs (may be NULL) */
	const struct cl_dict *qos_specs;	/**< QoS specs (may be NULL) */
	const char *id;			/**< explicit UUID, NULL = generate */
};

/**
 * Create a volume on @p be. Saved as "creating" before the driver is called,
 * then "available" or "error". On success *out is the new volume; on failure
 * *out is NULL and the message names the volume when it was saved in error.
 */
CL_API int cl_volume_create(struct cl_backend *be,
			    const struct cl_volume_create_opts *opts,
			    struct cl_volume **out, struct cl_error *err);
/** Clone @p src (same backend); opts->size 0 = src's size, smaller refused. */
CL_API int cl_volume_clone(struct cl_context *ctx, const struct cl_volume *src,
			   const struct cl_volume_create_opts *opts,
			   struct cl_volume **out, struct cl_error *err);
/**
 * Take a snapshot of @p vol (available or in-use), named @p name and
 * @p description (either may be NULL). An attached volume's devices are
 * suspended around the driver's copy, a mounted file system frozen first.
 */
CL_API int cl_volume_create_snapshot(struct cl_context *ctx,
				     const struct cl_volume *vol,
				     const char *name, const char *description,
				     struct cl_snapshot **out,
				     struct cl_error *err);
/**
 * Grow to @p new_size GiB (> current size, else -EINVAL). @p vol is updated
 * to what the store holds afterwards, also on failure (error status).
 */
CL_API int cl_volume_extend(struct cl_context *ctx, struct cl_volume *vol,
			    uint64_t new_size, struct cl_error *err);
/**
 * Delete: refused (-EBUSY) while the volume has snapshots or connections,
 * or while a cbd device of this host carries it (whatever the store says).
 * Deleting a volume that is already gone is success. @p vol's status becomes
 * deleted (or error_deleting). -ENODEV when its backend is not configured.
 */
CL_API int cl_volume_delete(struct cl_context *ctx, struct cl_volume *vol,
			    struct cl_error *err);
/** Reload @p vol from the store (-ENOENT once deleted). */
CL_API int cl_volume_refresh(struct cl_context *ctx, struct cl_volume *vol,
			     struct cl_error *err);
/** Save name, description, bootable, metadata edits made on @p vol. */
CL_API int cl_volume_save(struct cl_context *ctx, struct cl_volume *vol,
			  struct cl_error *err);
/**
 * Metadata changes in one save, made on the store's current copy under
 * the volume's lock, so that what other processes or hosts changed
 * meanwhile stays (cl_volume_save() writes @p vol's whole copy): @p set's
 * keys set, the NULL-ended @p unset's removed; either may be NULL. @p vol is
 * refreshed.
 */
CL_API int cl_volume_update_metadata(struct cl_context *ctx,
				     struct cl_volume *vol,
				     const struct cl_dict *set,
				     const char *const *unset,
				     struct cl_error *err);
/** Set (value != NULL) or remove (value NULL) one metadata key and save. */
CL_API int cl_volume_set_metadata(struct cl_context *ctx, struct cl_volume *vol,
				  const char *key, const char *value,
				  struct cl_error *err);

/** The volume of id @p id (exact); -ENOENT when there is none. */
CL_API int cl_volume_get(struct cl_context *ctx, const char *id,
			 struct cl_volume **out, struct cl_error *err);
/**
 * Find one volume by id, then by name, then by unique id prefix (>= 4
 * chars). -ENOENT when none, -EEXIST (message lists ids) when ambiguous.
 */
CL_API int cl_volume_lookup(struct cl_context *ctx, const char *ref,
			    struct cl_volume **out, struct cl_error *err);
/** The volumes matching @p f (NULL: all) into @p out, sorted by id. */
CL_API int cl_volume_find(struct cl_context *ctx, const struct cl_filter *f,
			  struct cl_volume_list *out, struct cl_error *err);
/** The snapshots of @p vol into @p out. */
CL_API int cl_volume_snapshots(struct cl_context *ctx,
			       const struct cl_volume *vol,
			       struct cl_snapshot_list *out,
			       struct cl_error *err);
/** The connections of @p vol into @p out. */
CL_API int cl_volume_connections(struct cl_context *ctx,
				 const struct cl_volume *vol,
				 struct cl_connection_list *out,
				 struct cl_error *err);

/** @} */

/**
 * @defgroup cl_snapshots Snapshots
 * @{
 */

/**
 * New volume with the snapshot's data (cinderlib's
 * snapshot.create_volume()); opts->size 0 = the snapshot's size. The
 * snapshot must be available (-EBUSY otherwise).
 */
CL_API int cl_snapshot_create_volume(struct cl_context *ctx,
				     const struct cl_snapshot *snap,
				     const struct cl_volume_create_opts *opts,
				     struct cl_volume **out,
				     struct cl_error *err);
/**
 * Delete a snapshot: deleting, then removed from the store (status
 * deleted), or error_deleting when the driver fails; a driver's -EBUSY
 * (the snapshot has clones) leaves it as it was. Deleting a snapshot that
 * is already gone is success. @p snap is updated.
 */
CL_API int cl_snapshot_delete(struct cl_context *ctx, struct cl_snapshot *snap,
			      struct cl_error *err);
/** Reload @p snap from the store (-ENOENT once deleted). */
CL_API int cl_snapshot_refresh(struct cl_context *ctx, struct cl_snapshot *snap,
			       struct cl_error *err);
/** The snapshot of id @p id (exact); -ENOENT when there is none. */
CL_API int cl_snapshot_get(struct cl_context *ctx, const char *id,
			   struct cl_snapshot **out, struct cl_error *err);
/** As cl_volume_lookup() for snapshots. */
CL_API int cl_snapshot_lookup(struct cl_context *ctx, const char *ref,
			      struct cl_snapshot **out, struct cl_error *err);
/** The snapshots matching @p f (NULL: all) into @p out, sorted by id. */
CL_API int cl_snapshot_find(struct cl_context *ctx, const struct cl_filter *f,
			    struct cl_snapshot_list *out,
			    struct cl_error *err);

/** @} */

/**
 * @defgroup cl_connections Connections
 * Volumes exported to hosts, and the NBD exports of this host.
 * @{
 */

/**
 * Export @p vol to the host described by @p connector (at least "host") and
 * record the connection (driver create_export + initialize_connection).
 * The volume becomes in-use; @p vol is updated. For a connector of another
 * host, on a backend with target_protocol = nbd, the volume is served by
 * an nbdkit of the connection's own, to the connector's "ip"/"ips" only,
 * and the connection_info is {"driver_volume_type": "nbd", "data": {host,
 * port, export_name, multi_conn, access_mode, size, uri}}. -EBUSY for a
 * read-write connection while another host has one (on a backend with
 * target_protocol = nbd), unless the volume type's extra spec multiattach
 * is "<is> True".
 */
CL_API int cl_volume_connect(struct cl_context *ctx, struct cl_volume *vol,
			     const struct cl_dict *connector,
			     enum cl_attach_mode mode,
			     struct cl_connection **out, struct cl_error *err);
/**
 * terminate_connection + remove_export, drop the record; the volume goes
 * back to available when it was its last connection. -EBUSY, changing
 * nothing, while the connection's device is attached on this host (detach
 * it: cl_connection_detach()) and, for the last connection, while any cbd
 * device of this host carries the volume.
 */
CL_API int cl_connection_disconnect(struct cl_context *ctx,
				    struct cl_connection *conn,
				    struct cl_error *err);
/** Record a local device path (or NULL) for the connection and save it. */
CL_API int cl_connection_set_device(struct cl_context *ctx,
				    struct cl_connection *conn,
				    const char *device_path,
				    struct cl_error *err);

/** What cl_exports_restore() did with one recorded export of this host. */
enum cl_export_state {
	CL_EXPORT_RUNNING,	/**< its nbdkit was running: left alone */
	CL_EXPORT_RESTORED,	/**< started again on its recorded port */
	CL_EXPORT_REMOVED,	/**< its volume is gone: the connection dropped */
	CL_EXPORT_FAILED,	/**< could not be restored: see message */
};

/** One export cl_exports_restore() handled. */
struct cl_export_report {
	char connection_id[CL_ID_LEN];	/**< the connection */
	char volume_id[CL_ID_LEN];	/**< its volume */
	enum cl_export_state state;	/**< what was done */
	char port[8];			/**< the export's port */
	char message[256];		/**< the reason (failed, removed), else "" */
};

/** The name of an export state: "running", "restored", "removed", "failed". */
CL_API const char *cl_export_state_name(enum cl_export_state state);
/**
 * Bring back the NBD exports this host serves (after a reboot, or an
 * nbdkit that died): every recorded connection exported by this host gets
 * its nbdkit again on its recorded address and port, and one whose volume
 * is gone is dropped. *@p out (free() it) receives one report per export.
 */
CL_API int cl_exports_restore(struct cl_context *ctx,
			      struct cl_export_report **out, size_t *count,
			      struct cl_error *err);
/** The connection of id @p id (exact); -ENOENT when there is none. */
CL_API int cl_connection_get(struct cl_context *ctx, const char *id,
			     struct cl_connection **out, struct cl_error *err);
/** The connections matching @p f (NULL: all) into @p out, sorted by id. */
CL_API int cl_connection_find(struct cl_context *ctx, const struct cl_filter *f,
			      struct cl_connection_list *out,
			      struct cl_error *err);
/** The name of an attach mode: "rw" or "ro". */
CL_API const char *cl_attach_mode_name(enum cl_attach_mode mode);

/** @} */

/**
 * @defgroup cl_attach Local attach
 * The os-brick part: connections as cinderblk devices.
 * @{
 */

/**
 * This host's connector properties (os-brick's get_connector_properties):
 * host (the context's host name), ip (the first non-loopback address, else
 * 127.0.0.1), ips (every address, comma-separated), os_type, platform,
 * multipath ("false") and do_local_attach ("true"). @p out is cleared first.
 */
CL_API int cl_local_connector(struct cl_context *ctx, struct cl_dict *out,
			      struct cl_error *err);
/**
 * Published connectors (a node's properties in the shared store, for the
 * host that connects volumes to it) are kept under the key
 * CL_CONNECTOR_KEY_PREFIX + host as a JSON object.
 */
#define CL_CONNECTOR_KEY_PREFIX "connector/"
/**
 * Publish this host's cl_local_connector(), with @p extra's entries (may be
 * NULL) over it, saved in the store; the result into @p out (may be NULL).
 */
CL_API int cl_connector_publish(struct cl_context *ctx,
				const struct cl_dict *extra,
				struct cl_dict *out, struct cl_error *err);
/** The connector @p host published, into @p out; -ENOENT when none. */
CL_API int cl_connector_published(struct cl_context *ctx, const char *host,
				  struct cl_dict *out, struct cl_error *err);
/**
 * Remove the connector @p host published (NULL: this host's);
 * unpublishing what was never published is success.
 */
CL_API int cl_connector_unpublish(struct cl_context *ctx, const char *host,
				  struct cl_error *err);
/**
 * True when connection_info of this type can be attached here: "file",
 * "block", "nbd" and "rbd".
 */
CL_API bool cl_connector_supported(const char *driver_volume_type);

/**
 * The flow without a shared store: attach here a connection another host
 * made for this one, copied as JSON (cl_connection_info_from_json()). The
 * volume is @p volume_id, else the one the Connection names, else (nbd) the
 * export's name. Nothing is saved: the device, which carries the volume
 * id, is the record, and cl_connection_info_detach() removes it (and what
 * the connector set up besides, an rbd mapping). The path into @p path.
 */
CL_API int cl_connection_info_attach(struct cl_context *ctx,
				     struct cl_connection *conn,
				     const char *volume_id,
				     enum cl_attach_mode mode,
				     char *path, size_t len,
				     struct cl_error *err);
/**
 * Undo cl_connection_info_attach(): remove the device of the volume
 * (found as there) on this host, and what the connector set up besides;
 * -ENOENT when the volume has no device here. @p force as for
 * cl_connection_detach().
 */
CL_API int cl_connection_info_detach(struct cl_context *ctx,
				     struct cl_connection *conn,
				     const char *volume_id, bool force,
				     struct cl_error *err);

/**
 * Attach @p vol to this host: connect with cl_local_connector()'s properties,
 * then turn the connection_info into a /dev/cbdN device through the
 * cinderblk module (read-only for CL_ATTACH_RO). When another host (a
 * controller sharing the store) already connected @p vol for this host in
 * @p mode, that connection is used instead of a new one; detaching it later
 * leaves it to the host that made it. The connection, with its
 * device_path, is saved, so that another process may detach it. On failure
 * nothing is left: no device, no connection. -EBUSY when @p vol is already
 * attached here (also when that attachment is stale: reconcile first);
 * -ENOENT with "cinderblk module not loaded" when the module is missing.
 * @p vol is updated (in-use).
 */
CL_API int cl_volume_attach(struct cl_context *ctx, struct cl_volume *vol,
			    enum cl_attach_mode mode,
			    struct cl_connection **out, struct cl_error *err);
/**
 * Attach an existing connection of this host (made by cl_volume_connect()
 * with this host's name) as a device; -EEXIST when it already has one.
 */
CL_API int cl_connection_attach(struct cl_context *ctx,
				struct cl_connection *conn,
				struct cl_error *err);
/**
 * Remove the connection's device and disconnect (cinderlib's
 * Connection.detach()). Without @p force: -EBUSY while the device is open or
 * mounted (the message names the mount point), or attached on another
 * host. With @p force the device goes away even while in use: its users get
 * I/O errors. A recorded device that is already gone is just cleaned up.
 * Detaching a connection that no longer exists is success. A connection
 * exported by another host (an NBD export of that host) keeps its record:
 * only the device goes; that host's cl_connection_disconnect() ends it.
 */
CL_API int cl_connection_detach(struct cl_context *ctx,
				struct cl_connection *conn, bool force,
				struct cl_error *err);
/**
 * The device of @p conn on this host grows to what the volume is now
 * (cinderlib's Connection.extend()): an nbd device learns the new size
 * from its server (new connections, the device suspended a moment), any
 * other from the store. *@p size: the device's size in bytes after it.
 * -ENODEV when the connection has no device here. Run it on the
 * attaching host after cl_volume_extend() on the exporting one.
 */
CL_API int cl_connection_extend(struct cl_context *ctx,
				struct cl_connection *conn, uint64_t *size,
				struct cl_error *err);
/**
 * Detach every local attachment (connection with a device path) of @p vol;
 * -ENOENT when it has none. @p vol is updated.
 */
CL_API int cl_volume_detach(struct cl_context *ctx, struct cl_volume *vol,
			    bool force, struct cl_error *err);

/** What is behind a connection's device_path, checked live. */
enum cl_device_state {
	CL_DEVICE_NONE,		/**< no device recorded (connected only) */
	CL_DEVICE_PRESENT,	/**< the device exists and carries the volume */
	CL_DEVICE_MISSING,	/**< recorded, but gone or another volume's: stale */
	CL_DEVICE_REMOTE,	/**< attached on another host: not checked */
};

/**
 * Check the recorded device: it must exist and its sysfs volume_id must be
 * the connection's volume.
 */
CL_API enum cl_device_state
cl_connection_device_state(struct cl_context *ctx,
			   const struct cl_connection *conn);
/** "connected", "attached", "stale", "remote". */
CL_API const char *cl_device_state_name(enum cl_device_state state);
/**
 * Clean up stale attachments of this host: every connection whose device
 * is missing is disconnected (its record dropped). @p stale (may be NULL)
 * receives copies of those connections; with @p dry_run nothing changes.
 * Goes on after a failure and returns the first error.
 */
CL_API int cl_connection_reconcile(struct cl_context *ctx, bool dry_run,
				   struct cl_connection_list *stale,
				   struct cl_error *err);
/**
 * Remote attach: give the nbd device cbd<@p index> new connections for those
 * it lost, to the export the kernel recorded at the add (what cinderctl
 * daemon does on each link-down event). 0 when nothing was lost; -ENOENT
 * when the device has no recorded address; the connect or handshake
 * error (naming the server) otherwise.
 */
CL_API int cl_device_reconnect(struct cl_context *ctx, uint32_t index,
			       struct cl_error *err);
/**
 * Remote attach: after the exporting host extended the volume, give the
 * nbd device cbd<@p index> new connections (it is suspended for that
 * moment, I/O waits) and its export's new size, in *@p size (bytes). 0 and
 * the same size when the export did not grow; -EPROTO when it shrank.
 */
CL_API int cl_device_refresh(struct cl_context *ctx, uint32_t index,
			     uint64_t *size, struct cl_error *err);

/** @} */

/**
 * @defgroup cl_kv Key/value store
 * Cross-host coordination.
 * @{
 */

/** The value of @p key: *value is malloc'd; -ENOENT when the key is not set. */
CL_API int cl_kv_get(struct cl_context *ctx, const char *key, char **value,
		     struct cl_error *err);
/** Set (or replace) @p key. */
CL_API int cl_kv_set(struct cl_context *ctx, const char *key, const char *value,
		     struct cl_error *err);
/** Remove @p key; removing a key that is not set is success. */
CL_API int cl_kv_delete(struct cl_context *ctx, const char *key,
			struct cl_error *err);
/** Every key starting with @p prefix (NULL = all) into @p out. */
CL_API int cl_kv_list(struct cl_context *ctx, const char *prefix,
		      struct cl_dict *out, struct cl_error *err);

/** @} */

/**
 * @defgroup cl_json Serialization
 * JSON, with json-c. For each object: *_to_json() gives its JSON text;
 * the *_from_json() functions parse without a context or a store;
 * *_load() parse, check the backend (see fail_on_missing_backend) and,
 * with @p save, write the object into @p ctx's store.
 * @{
 */

/** One volume to JSON text (malloc'd, compact unless @p pretty). */
CL_API int cl_volume_to_json(const struct cl_volume *vol, bool pretty,
			     char **json, struct cl_error *err);
/** Parse a volume's JSON, without a context or a store. */
CL_API int cl_volume_from_json(const char *json, struct cl_volume **out,
			       struct cl_error *err);
/**
 * Parse a volume's JSON, check its backend (see fail_on_missing_backend)
 * and, with @p save, write the volume into @p ctx's store.
 */
CL_API int cl_volume_load(struct cl_context *ctx, const char *json, bool save,
			  struct cl_volume **out, struct cl_error *err);
/** One snapshot to JSON text (malloc'd, compact unless @p pretty). */
CL_API int cl_snapshot_to_json(const struct cl_snapshot *snap, bool pretty,
			       char **json, struct cl_error *err);
/** Parse a snapshot's JSON, without a context or a store. */
CL_API int cl_snapshot_from_json(const char *json, struct cl_snapshot **out,
				 struct cl_error *err);
/**
 * Parse a snapshot's JSON, check its backend (see fail_on_missing_backend)
 * and, with @p save, write the snapshot into @p ctx's store.
 */
CL_API int cl_snapshot_load(struct cl_context *ctx, const char *json,
			    bool save, struct cl_snapshot **out,
			    struct cl_error *err);
/** One connection to JSON text (malloc'd, compact unless @p pretty). */
CL_API int cl_connection_to_json(const struct cl_connection *conn, bool pretty,
				 char **json, struct cl_error *err);
/** Parse a connection's JSON, without a context or a store. */
CL_API int cl_connection_from_json(const char *json,
				   struct cl_connection **out,
				   struct cl_error *err);
/**
 * What another host's 'connection show --json' printed (a Connection), or
 * a bare connection_info {"driver_volume_type", "data"}: a connection
 * with no id or volume id then.
 */
CL_API int cl_connection_info_from_json(const char *json,
					struct cl_connection **out,
					struct cl_error *err);
/**
 * Parse a connection's JSON, check its backend (see
 * fail_on_missing_backend) and, with @p save, write the connection into
 * @p ctx's store.
 */
CL_API int cl_connection_load(struct cl_context *ctx, const char *json,
			      bool save, struct cl_connection **out,
			      struct cl_error *err);

/** The whole state of a store: every object and key/value. */
struct cl_state {
	struct cl_volume_list volumes;		/**< every volume */
	struct cl_snapshot_list snapshots;	/**< every snapshot */
	struct cl_connection_list connections;	/**< every connection */
	struct cl_dict key_values;		/**< every key/value */
};

/**
 * Dump everything in @p ctx's store as one JSON document
 * {"format": 1, "volumes": [...], "snapshots": [...], "connections": [...],
 *  "key_values": {...}}, objects sorted by id so that equal stores give
 * equal text.
 */
CL_API int cl_state_dump(struct cl_context *ctx, bool pretty, char **json,
			 struct cl_error *err);
/**
 * Parse a dump. With @p save every object is written into @p ctx's store (in
 * one transaction when the store has them). @p out (may be NULL) receives
 * the parsed objects; free with cl_state_free().
 */
CL_API int cl_state_load(struct cl_context *ctx, const char *json, bool save,
			 struct cl_state **out, struct cl_error *err);
/** Free what cl_state_load() gave (NULL is fine). */
CL_API void cl_state_free(struct cl_state *state);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CINDERLIB_CINDERLIB_H */
