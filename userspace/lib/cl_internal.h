/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcinderlib internals shared by the library's files (not installed).
 */
#ifndef CINDERLIB_INTERNAL_H
#define CINDERLIB_INTERNAL_H

#include <stdarg.h>

#include "cinderlib/cinderlib.h"
#include "cinderlib/driver.h"
#include "cinderlib/persistence.h"

struct json_object;

/* A backend's exports to other hosts (target.c). */
struct cl_target_config {
	bool nbd;			/* target_protocol = nbd */
	char address[64];		/* target_ip_address */
	unsigned int port;		/* target_port: the first of the range */
	unsigned int port_range;	/* target_port_range */
};

struct cl_backend {
	struct cl_context *ctx;
	struct cl_backend *next;
	char *name;
	char *driver_name;
	struct cl_dict options;
	const struct cl_driver_ops *ops;
	void *dl;
	void *priv;
	struct cl_driver_config cfg;
	struct cl_target_config target;
	struct cl_backend_stats stats;	/* cached by cl_backend_stats() */
	bool have_stats;
};

struct cl_context {
	const struct cl_persistence_ops *store_ops;
	void *store;
	void *store_dl;			/* plugin handle, NULL for built-ins */
	struct cl_persistence_ops *store_ops_copy;	/* a plugin's, padded */
	char *state_dir;
	char *lock_path;
	char *host;
	char *driver_dir;
	bool fail_on_missing_backend;
	unsigned int nbd_connections;	/* cl_setup_options' */
	unsigned int nbd_io_timeout_ms;
	unsigned int nbd_dead_timeout_ms;
	enum cl_log_level log_level;
	cl_log_fn log_fn;
	void *log_data;
	struct cl_backend *backends;	/* open ones */
	size_t nr_defs;
	struct cl_backend_config *defs;	/* defined, opened on first use */
};

/* util.c */
char *cl_strdup_or_null(const char *s);
int cl_set_str(char **dst, const char *src);
int64_t cl_now_us(void);
void cl_new_uuid(char out[CL_ID_LEN]);
bool cl_uuid_valid(const char *s);
bool cl_utf8_valid(const char *s);
size_t cl_edit_distance(const char *a, const char *b);
const char *cl_closest(const char *word, const char *const *cands, size_t n);
int cl_mkdir_p(const char *path, mode_t mode);
void cl_log(struct cl_context *ctx, enum cl_log_level level, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
int cl_parse_bool(const char *s, bool *out);
int cl_time_format(int64_t us, char *buf, size_t len);
int cl_time_parse(const char *s, int64_t *us);

/* lock.c: flock() files in the lock path; returns an fd or -errno. */
int cl_lock_acquire(struct cl_context *ctx, const char *what, const char *id,
		    struct cl_error *err);
void cl_lock_release(int fd);
/* True when @fd's holder took it first (not a nested acquire). */
bool cl_lock_is_outermost(int fd);
void cl_lock_remove(struct cl_context *ctx, const char *what, const char *id);

/* objects.c */
bool cl_filter_match(const struct cl_filter *f, const char *id,
		     const char *name, const char *backend,
		     const char *volume_id);
int cl_dict_copy(struct cl_dict *dst, const struct cl_dict *src);

/* json.c */
struct json_object *cl_volume_to_jobj(const struct cl_volume *vol);
struct json_object *cl_snapshot_to_jobj(const struct cl_snapshot *snap);
struct json_object *cl_connection_to_jobj(const struct cl_connection *conn);
int cl_volume_from_jobj(struct json_object *o, struct cl_volume **out,
			struct cl_error *err);
int cl_snapshot_from_jobj(struct json_object *o, struct cl_snapshot **out,
			  struct cl_error *err);
int cl_connection_from_jobj(struct json_object *o, struct cl_connection **out,
			    struct cl_error *err);
struct json_object *cl_dict_to_jobj(const struct cl_dict *d);
int cl_dict_from_jobj(struct json_object *o, struct cl_dict *d,
		      const char *what, struct cl_error *err);
int cl_jobj_to_string(struct json_object *o, bool pretty, char **json,
		      struct cl_error *err);

/* store.c: the context's store, transactions that may be absent */
extern const struct cl_persistence_ops cl_memory_store_ops;
extern const struct cl_persistence_ops cl_sqlite_store_ops;
int cl_store_open(struct cl_context *ctx, const struct cl_setup_options *o,
		  struct cl_error *err);
void cl_store_close(struct cl_context *ctx);
int cl_store_begin(struct cl_context *ctx, struct cl_error *err);
int cl_store_commit(struct cl_context *ctx, struct cl_error *err);
void cl_store_rollback(struct cl_context *ctx);
int cl_store_get_volume(struct cl_context *ctx, const char *id,
			struct cl_volume **out, struct cl_error *err);
int cl_store_get_snapshot(struct cl_context *ctx, const char *id,
			  struct cl_snapshot **out, struct cl_error *err);
int cl_store_get_connection(struct cl_context *ctx, const char *id,
			    struct cl_connection **out, struct cl_error *err);
int cl_store_save_volume(struct cl_context *ctx, struct cl_volume *vol,
			 struct cl_error *err);
int cl_store_save_snapshot(struct cl_context *ctx, struct cl_snapshot *snap,
			   struct cl_error *err);
int cl_store_save_connection(struct cl_context *ctx,
			     struct cl_connection *conn, struct cl_error *err);

/* driver_loader.c */
int cl_driver_load(struct cl_context *ctx, const char *volume_driver,
		   const struct cl_driver_ops **ops, void **dl,
		   struct cl_error *err);
int cl_driver_check_options(const struct cl_driver_ops *ops,
			    const struct cl_dict *options,
			    struct cl_error *err);
const char *cl_driver_dir(struct cl_context *ctx);

/* backend.c */
bool cl_backend_known(struct cl_context *ctx, const char *name);
int cl_backend_for(struct cl_context *ctx, const char *name,
		   struct cl_backend **out, struct cl_error *err);

/* volume.c: helpers shared by the object operations */
int cl_check_text(const char *what, const char *s, size_t max,
		  struct cl_error *err);
int cl_check_size(uint64_t size, struct cl_error *err);
int cl_check_dict(const char *what, const struct cl_dict *d,
		  struct cl_error *err);
void cl_apply_update(char **location, char **id, struct cl_model_update *u);
int cl_driver_error(int ret, const struct cl_error *derr, const char *what,
		    const char *id, enum cl_status status,
		    struct cl_error *err);
int cl_check_known(struct cl_context *ctx, const char *what, const char *id,
		   const char *backend, struct cl_error *err);
/* Move @fresh's contents into @dst and free what @dst held. */
void cl_volume_replace(struct cl_volume *dst, struct cl_volume *fresh);
/* Swap @fresh's contents into @dst and free what @dst held. */
void cl_connection_replace(struct cl_connection *dst,
			   struct cl_connection *fresh);
/*
 * Take the lock of @conn's volume and read the stored connection into
 * *@cur. On failure (-ENOENT: the connection is gone) nothing is held.
 */
int cl_connection_lock(struct cl_context *ctx,
		       const struct cl_connection *conn,
		       struct cl_connection **cur, int *lock,
		       struct cl_error *err);
int cl_create_from(struct cl_context *ctx, struct cl_backend *be,
		   const struct cl_volume_create_opts *opts,
		   const struct cl_volume *src, const struct cl_snapshot *snap,
		   struct cl_volume **out, struct cl_error *err);

/*
 * target.c: exports of volumes to other hosts. A connector is remote when
 * its host is not this one; a backend with target_protocol = nbd then
 * serves the volume with an nbdkit of its own (one per connection).
 */
int cl_target_config_parse(const struct cl_dict *options,
			   struct cl_target_config *out, struct cl_error *err);
bool cl_target_wanted(struct cl_context *ctx, const struct cl_backend *be,
		      const struct cl_dict *connector);
/*
 * Start the export of @vol for @connector; @info holds the driver's local
 * connection_info and is replaced by the nbd one; @provider receives what
 * cl_target_unexport() needs.
 */
int cl_target_export(struct cl_context *ctx, struct cl_backend *be,
		     const struct cl_volume *vol, const struct cl_dict *connector,
		     enum cl_attach_mode mode, struct cl_connection_info *info,
		     struct cl_dict *provider, struct cl_error *err);
/* Stop the export of @conn when it has one here; 0 when none runs. */
int cl_target_unexport(struct cl_context *ctx, const struct cl_connection *conn,
		       struct cl_error *err);
/* True when @conn's nbdkit runs on this host. */
bool cl_target_export_running(struct cl_context *ctx,
			      const struct cl_connection *conn);
/*
 * -EREMOTE when another host exports @vol over NBD: its storage is that
 * host's, for it to @what ("extend").
 */
int cl_target_check_exporter(struct cl_context *ctx,
			     const struct cl_volume *vol, const char *what,
			     struct cl_error *err);
/*
 * After an extend: the connection_info of @vol's exports from this host
 * says the new size (nbdkit serves it to every new connection).
 */
int cl_target_note_size(struct cl_context *ctx, const struct cl_volume *vol,
			struct cl_error *err);
/* -EBUSY when @vol may not get another read-write host (multiattach). */
int cl_target_check_exclusive(struct cl_context *ctx,
			      const struct cl_volume *vol,
			      const struct cl_dict *connector,
			      enum cl_attach_mode mode, struct cl_error *err);

/* connector.c: the table of connector types (driver_volume_type) */
struct cl_kernel;
struct cl_dev_info;

struct cl_attach_request {
	const char *volume_id;
	uint64_t size;			/* bytes */
	bool read_only;
	const struct cl_dict *data;	/* connection_info.data */
	/* nbd: the context's settings, 0 for the defaults */
	unsigned int nbd_connections;
	unsigned int nbd_io_timeout_ms;
	unsigned int nbd_dead_timeout_ms;
};

struct cl_connector_type {
	const char *name;		/* driver_volume_type */
	/* Make the device; @out receives its info. */
	int (*connect_volume)(struct cl_kernel *k,
			      const struct cl_attach_request *req,
			      struct cl_dev_info *out, struct cl_error *err);
	/*
	 * Optional: the block device of this host that a remap device of
	 * connection_info.data @data carries, its size up to date (extend).
	 */
	int (*local_device)(const struct cl_dict *data, char *path,
			    size_t len, struct cl_error *err);
	/*
	 * Optional: undo what connect_volume set up besides the cbd device,
	 * once that is gone (an rbd mapping); done when there is nothing.
	 */
	int (*disconnect_volume)(const struct cl_dict *data,
				 struct cl_error *err);
};

extern const struct cl_connector_type cl_connector_file;
extern const struct cl_connector_type cl_connector_block;
extern const struct cl_connector_type cl_connector_nbd;
extern const struct cl_connector_type cl_connector_rbd;
const struct cl_connector_type *cl_connector_find(const char *type);
/*
 * connector_nbd.c: new connections for the lost ones of nbd device @dev,
 * to the export of its NBD URI, handed in with RECONFIGURE.
 */
int cl_nbd_reconnect_device(struct cl_kernel *k, const struct cl_dev_info *dev,
			    struct cl_error *err);
/*
 * ... and new connections for all of them when the export grew: the
 * device, suspended meanwhile, takes its new size (*@size, bytes).
 */
int cl_nbd_refresh_device(struct cl_kernel *k, const struct cl_dev_info *dev,
			  uint64_t *size, struct cl_error *err);
/* connector_file.c: a device on the file at @path (@want_block: a block
 * device) with @backing (CL_BACKING_FILE or, for a block device, REMAP). */
int cl_connect_path(struct cl_kernel *k, const struct cl_attach_request *req,
		    const char *path, bool want_block, int backing,
		    struct cl_dev_info *out, struct cl_error *err);
/* connector_block.c: the device of a block connection and its backing
 * (data["attach_backing"]: remap, the default, or file). */
const char *cl_block_device_path(const struct cl_dict *data);
int cl_block_backing(const struct cl_dict *data, int *backing,
		     struct cl_error *err);

/* mountinfo.c: where @disk ("cbd0") or one of its partitions is mounted. */
int cl_device_mount_point(const char *disk, char *mnt, size_t len);

/* attach.c: wait (up to 2 s) for block device node @path to appear. */
void cl_wait_for_node(const char *path);
/* attach.c: attached devices of a volume, for extend and snapshots */
/* 1 and its name in @disk when a cbd device here carries @volume_id. */
int cl_local_device_of(const char *volume_id, char *disk, size_t len);
int cl_attach_resize(struct cl_context *ctx, const struct cl_volume *vol,
		     struct cl_error *err);
/* Devices of a volume held suspended (filesystems frozen) for a snapshot. */
struct cl_quiesce {
	struct cl_kernel *k;
	size_t count;		/* suspended so far */
	uint32_t *index;	/* every device of the volume */
};
int cl_quiesce_volume(struct cl_context *ctx, const struct cl_volume *vol,
		      struct cl_quiesce *q, struct cl_error *err);
/* Resume what cl_quiesce_volume() suspended; safe on a zeroed struct. */
void cl_quiesce_release(struct cl_context *ctx, struct cl_quiesce *q);

#endif /* CINDERLIB_INTERNAL_H */
