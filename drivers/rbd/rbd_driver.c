// SPDX-License-Identifier: Apache-2.0
/*
 * The "rbd" driver: volumes as Ceph RBD images in one pool, through
 * librados and librbd, with Cinder's option names and image names:
 * volume-<id> for volumes, snapshot-<id> for snapshots (protected, so
 * that clones can hang off them). A clone of a volume is a copy-on-write
 * child of a hidden snapshot of its source, volume-<new id>.clone_snap, as
 * in Cinder's driver; chains longer than rbd_max_clone_depth are
 * flattened. A volume whose hidden snapshots still have clones cannot
 * vanish under them: it is renamed volume-<id>.deleted and removed when
 * its last clone goes (doc/source/drivers/rbd.rst).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rbd.h"

/* layering, exclusive-lock, object-map, fast-diff, deep-flatten */
#define VOLUME_FEATURES (RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK | \
			 RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF | \
			 RBD_FEATURE_DEEP_FLATTEN)
#define CLONE_SNAP_SUFFIX ".clone_snap"
#define DELETED_SUFFIX ".deleted"
#define IMAGE_NAME_MAX 128
#define KEYRING_MAX (64 * 1024)

static const struct cl_driver_option rbd_options[] = {
	{ "rbd_pool", CL_OPT_STRING, "rbd",
	  "the RADOS pool where the volumes are stored" },
	{ "rbd_user", CL_OPT_STRING, "",
	  "the Ceph user (without 'client.') the driver and attaches connect as; "
	  "empty: admin, with auth_enabled false in connection_info" },
	{ "rbd_ceph_conf", CL_OPT_STRING, "",
	  "path to the ceph.conf to use (empty: librados' default search)" },
	{ "rbd_keyring_conf", CL_OPT_STRING, "",
	  "path to the keyring of rbd_user; its contents go into connection_info "
	  "so that the attaching host needs no keyring of its own" },
	{ "rbd_cluster_name", CL_OPT_STRING, "ceph",
	  "the name of the Ceph cluster (its conf and keyring file names)" },
	{ "rbd_secret_uuid", CL_OPT_STRING, "",
	  "the libvirt secret's uuid for rbd_user, passed in connection_info" },
	{ "rbd_flatten_volume_from_snapshot", CL_OPT_BOOL, "false",
	  "flatten volumes created from snapshots, so they do not depend on them" },
	{ "rbd_max_clone_depth", CL_OPT_INT, "5",
	  "longest chain of clones before a new clone is flattened; 0: clones "
	  "are always flattened (full copies)" },
	{ "rbd_store_chunk_size", CL_OPT_INT, "4",
	  "volumes are chunked into objects of this many MiB (a power of two, 1 to 32)" },
	{ "rados_connect_timeout", CL_OPT_INT, "-1",
	  "seconds a connection to the cluster, and then each cluster operation, "
	  "may take; < 0: librados' own timeouts" },
	{ "rados_connection_retries", CL_OPT_INT, "3",
	  "attempts at connecting to the cluster" },
	{ "rados_connection_interval", CL_OPT_INT, "5",
	  "seconds between attempts at connecting" },
	{ "report_discard_supported", CL_OPT_BOOL, "true",
	  "tell attaching hosts (connection_info discard) that discard frees space" },
	{ "reserved_percentage", CL_OPT_INT, "0",
	  "percentage of capacity kept free (reported in stats)" },
	{ "max_over_subscription_ratio", CL_OPT_FLOAT, "20.0",
	  "provisioned / total capacity the scheduler may allow (reported in stats)" },
	{ NULL }
};

static const char *opt(const struct cl_driver_config *cfg, const char *name)
{
	const char *v = cl_driver_option_get(cfg, rbd_options, name);

	return v ? v : "";
}

static bool opt_bool(const struct cl_driver_config *cfg, const char *name)
{
	return cl_driver_option_bool(cfg, rbd_options, name);
}

static int opt_int(const struct cl_driver_config *cfg, const char *name)
{
	return (int)strtol(opt(cfg, name), NULL, 10);
}

static void volume_image(char *buf, size_t len, const char *id)
{
	snprintf(buf, len, "volume-%s", id);
}

static void snapshot_name(char *buf, size_t len, const char *id)
{
	snprintf(buf, len, "snapshot-%s", id);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int nomem(struct cl_error *err)
{
	return cl_error_set(err, -ENOMEM, "out of memory");
}

static const char *error_hint(int ret)
{
	switch (ret) {
	case -EDQUOT:
		return " (the pool is over its quota)";
	case -ENOSPC:
		return " (the cluster is out of space)";
	case -ETIMEDOUT:
		return " (the cluster did not answer within rados_connect_timeout)";
	default:
		return "";
	}
}

static int rbd_error(struct cl_error *err, int ret, const char *what,
		     const char *pool, const char *image)
{
	return cl_error_set(err, ret, "%s %s/%s: %s%s", what, pool, image,
			    strerror(-ret), error_hint(ret));
}

static int open_image(struct rbd_backend *rb, const char *name,
		      const char *snap, rbd_image_t *img, struct cl_error *err)
{
	int ret = rbd_open(rb->io, name, img, snap);

	if (ret == -ENOENT)
		return cl_error_set(err, ret,
				    "RBD image %s/%s%s%s does not exist (removed outside cinderlib?)",
				    rb->pool, name, snap ? "@" : "",
				    snap ? snap : "");
	if (ret < 0)
		return rbd_error(err, ret, "cannot open RBD image", rb->pool,
				 name);
	return 0;
}

/*
 * Backends with a cluster connection. librados must be shut down before
 * its C++ statics are destroyed at exit, and those were registered when
 * this plugin was loaded: a program that frees its backends from an atexit
 * handler of its own would come too late. Ours, registered at the first
 * setup, runs before them and closes what is still open.
 */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static struct rbd_backend *open_backends;

static void disconnect_all(void)
{
	pthread_mutex_lock(&open_lock);
	for (struct rbd_backend *rb = open_backends; rb; rb = rb->next)
		rbd_cluster_disconnect(rb);
	open_backends = NULL;
	pthread_mutex_unlock(&open_lock);
}

static void register_exit(void)
{
	atexit(disconnect_all);
}

static void track(struct rbd_backend *rb, bool add)
{
	pthread_mutex_lock(&open_lock);
	if (add) {
		rb->next = open_backends;
		open_backends = rb;
	} else {
		for (struct rbd_backend **p = &open_backends; *p;
		     p = &(*p)->next) {
			if (*p == rb) {
				*p = rb->next;
				break;
			}
		}
		rbd_cluster_disconnect(rb);
	}
	pthread_mutex_unlock(&open_lock);
}

static void rbd_teardown(void *priv)
{
	struct rbd_backend *rb = priv;

	if (!rb)
		return;
	track(rb, false);
	free(rb->pool);
	free(rb->cluster_name);
	free(rb->user);
	free(rb->keyring_path);
	free(rb->secret_uuid);
	free(rb);
}

static int chunk_order(int mib)
{
	for (int order = 20; order <= 25; order++)
		if ((1 << (order - 20)) == mib)
			return order;
	return -1;
}

static int rbd_setup(const struct cl_driver_config *cfg, void **priv,
		     struct cl_error *err)
{
	struct rbd_connect_options co = {
		.cluster_name = opt(cfg, "rbd_cluster_name"),
		.user = opt(cfg, "rbd_user"),
		.conf_file = opt(cfg, "rbd_ceph_conf"),
		.keyring = opt(cfg, "rbd_keyring_conf"),
		.timeout_s = opt_int(cfg, "rados_connect_timeout"),
		.attempts = opt_int(cfg, "rados_connection_retries"),
		.interval_s = opt_int(cfg, "rados_connection_interval"),
	};
	const char *pool = opt(cfg, "rbd_pool");
	struct rbd_backend *rb;
	int ret;

	if (!pool[0] || strchr(pool, '/') || strchr(pool, ' '))
		return cl_error_set(err, -EINVAL, "invalid rbd_pool '%s'",
				    pool);
	if (!co.cluster_name[0] || strchr(co.cluster_name, '/'))
		return cl_error_set(err, -EINVAL,
				    "invalid rbd_cluster_name '%s'",
				    co.cluster_name);
	if (strpbrk(co.user, " ,=/"))
		return cl_error_set(err, -EINVAL, "invalid rbd_user '%s'",
				    co.user);
	if (co.attempts < 1 || co.interval_s < 0)
		return cl_error_set(err, -EINVAL,
				    "rados_connection_retries must be 1 or more and rados_connection_interval 0 or more");
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return nomem(err);
	rb->pool = strdup(pool);
	rb->cluster_name = strdup(co.cluster_name);
	rb->user = strdup(co.user);
	rb->keyring_path = strdup(co.keyring);
	rb->secret_uuid = strdup(opt(cfg, "rbd_secret_uuid"));
	if (!rb->pool || !rb->cluster_name || !rb->user || !rb->keyring_path ||
	    !rb->secret_uuid) {
		ret = nomem(err);
		goto fail;
	}
	rb->flatten_from_snapshot = opt_bool(cfg,
					     "rbd_flatten_volume_from_snapshot");
	rb->max_clone_depth = opt_int(cfg, "rbd_max_clone_depth");
	rb->order = chunk_order(opt_int(cfg, "rbd_store_chunk_size"));
	rb->report_discard = opt_bool(cfg, "report_discard_supported");
	rb->reserved_percentage = opt_int(cfg, "reserved_percentage");
	rb->max_over_subscription_ratio =
		strtod(opt(cfg, "max_over_subscription_ratio"), NULL);
	if (rb->max_clone_depth < 0) {
		ret = cl_error_set(err, -EINVAL,
				   "rbd_max_clone_depth must be 0 or more");
		goto fail;
	}
	if (rb->order < 0) {
		ret = cl_error_set(err, -EINVAL,
				   "rbd_store_chunk_size must be a power of two from 1 to 32 (MiB), not '%s'",
				   opt(cfg, "rbd_store_chunk_size"));
		goto fail;
	}
	pthread_once(&exit_once, register_exit);
	ret = rbd_cluster_connect(rb, &co, err);
	if (ret)
		goto fail;
	track(rb, true);
	*priv = rb;
	return 0;
fail:
	rbd_teardown(rb);
	return ret;
}

static int create_image(struct rbd_backend *rb, const char *name,
			uint64_t bytes, struct cl_error *err)
{
	rbd_image_options_t opts;
	int ret;

	rbd_image_options_create(&opts);
	ret = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FORMAT, 2);
	if (!ret)
		ret = rbd_image_options_set_uint64(opts,
						   RBD_IMAGE_OPTION_FEATURES,
						   VOLUME_FEATURES);
	if (!ret)
		ret = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_ORDER,
						   (uint64_t)rb->order);
	if (!ret)
		ret = rbd_create4(rb->io, name, bytes, opts);
	rbd_image_options_destroy(opts);
	if (ret < 0) {
		/* What a create cut short left (id, header); not another's. */
		if (ret != -EEXIST)
			rbd_remove(rb->io, name);
		return rbd_error(err, ret, "cannot create RBD image", rb->pool,
				 name);
	}
	return 0;
}

/*
 * The length of an image's clone chain, recorded in the provider_location
 * of its volume (and of its snapshots) as "clone_depth=N" when the driver
 * made it, so that a clone needs no walk up the chain to decide whether to
 * flatten. An image flattened behind our back only shortens its chain: the
 * recorded depth may be too long, never too short.
 */
#define DEPTH_KEY "clone_depth="

/* The depth @location records, -1 when none (made elsewhere or earlier). */
static int recorded_depth(const char *location)
{
	char *end;
	long d;

	if (!location || strncmp(location, DEPTH_KEY, strlen(DEPTH_KEY)))
		return -1;
	d = strtol(location + strlen(DEPTH_KEY), &end, 10);
	return *end || d < 0 || d > 1024 ? -1 : (int)d;
}

/* Record @depth in @upd; left unrecorded when out of memory. */
static void record_depth(struct cl_model_update *upd, int depth)
{
	char *loc;

	if (depth >= 0 && asprintf(&loc, DEPTH_KEY "%d", depth) >= 0) {
		free(upd->provider_location);
		upd->provider_location = loc;
	}
}

static int rbd_create_volume(void *priv, const struct cl_volume *vol,
			     struct cl_model_update *upd, struct cl_error *err)
{
	char name[IMAGE_NAME_MAX];
	int ret;

	volume_image(name, sizeof(name), vol->id);
	ret = create_image(priv, name, vol->size * RBD_GIB, err);
	if (!ret)
		record_depth(upd, 0);
	return ret;
}

/* Remove an image that a failed operation made; its error is not ours. */
static void remove_quietly(struct rbd_backend *rb, const char *name)
{
	rbd_remove(rb->io, name);
}

static int resize_image(struct rbd_backend *rb, const char *name,
			uint64_t bytes, struct cl_error *err)
{
	uint64_t cur = 0;
	rbd_image_t img;
	int ret = open_image(rb, name, NULL, &img, err);

	if (ret)
		return ret;
	ret = rbd_get_size(img, &cur);
	if (ret == 0 && cur < bytes)
		ret = rbd_resize(img, bytes);
	rbd_close(img);
	if (ret < 0)
		return rbd_error(err, ret, "cannot resize RBD image", rb->pool,
				 name);
	return 0;
}

static int flatten_image(struct rbd_backend *rb, const char *name,
			 struct cl_error *err)
{
	rbd_image_t img;
	int ret = open_image(rb, name, NULL, &img, err);

	if (ret)
		return ret;
	ret = rbd_flatten(img);
	rbd_close(img);
	if (ret < 0)
		return rbd_error(err, ret, "cannot flatten RBD image", rb->pool,
				 name);
	return 0;
}

/*
 * The parent of open image @img: 1 with its name and snapshot in @parent
 * and @snap, 0 when it has none.
 */
static int image_parent(rbd_image_t img, char *parent, size_t plen,
			char *snap, size_t slen)
{
	rbd_linked_image_spec_t pi;
	rbd_snap_spec_t ps;
	int ret = rbd_get_parent(img, &pi, &ps);

	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	snprintf(parent, plen, "%s", pi.image_name);
	snprintf(snap, slen, "%s", ps.name);
	rbd_linked_image_spec_cleanup(&pi);
	rbd_snap_spec_cleanup(&ps);
	return 1;
}

/*
 * How many ancestors image @name has (0: not a clone), counted up to
 * @limit + 1 (past that the answer changes nothing).
 */
static int clone_depth(struct rbd_backend *rb, const char *name, int limit,
		       struct cl_error *err)
{
	char cur[IMAGE_NAME_MAX], parent[IMAGE_NAME_MAX], snap[IMAGE_NAME_MAX];
	int depth = 0;

	snprintf(cur, sizeof(cur), "%s", name);
	while (depth <= limit) {
		rbd_image_t img;
		int ret = rbd_open_read_only(rb->io, cur, &img, NULL);

		if (ret < 0)
			return rbd_error(err, ret, "cannot open RBD image",
					 rb->pool, cur);
		ret = image_parent(img, parent, sizeof(parent), snap,
				   sizeof(snap));
		rbd_close(img);
		if (ret < 0)
			return rbd_error(err, ret,
					 "cannot read the parent of RBD image",
					 rb->pool, cur);
		if (ret == 0)
			return depth;
		depth++;
		snprintf(cur, sizeof(cur), "%s", parent);
	}
	return depth;
}

static int clone_image(struct rbd_backend *rb, const char *parent,
		       const char *snap, const char *child,
		       struct cl_error *err)
{
	int order = rb->order;
	int ret = rbd_clone(rb->io, parent, snap, rb->io, child,
			    VOLUME_FEATURES, &order);

	if (ret < 0)
		return cl_error_set(err, ret,
				    "cannot clone RBD image %s/%s@%s to %s: %s%s",
				    rb->pool, parent, snap, child,
				    strerror(-ret), error_hint(ret));
	return 0;
}

/*
 * A clone of @parent@@snap as @child, flattened when asked or when its
 * chain would be longer than rbd_max_clone_depth (*@flattened says which),
 * grown to @bytes when @grow. @parent_depth is the parent's recorded clone
 * depth, -1 to count it. On success the child's depth is recorded in
 * @upd; on failure no @child is left.
 */
static int make_clone(struct rbd_backend *rb, const char *parent,
		      const char *snap, const char *child, uint64_t bytes,
		      bool grow, bool flatten, int parent_depth,
		      bool *flattened, struct cl_model_update *upd,
		      struct cl_error *err)
{
	int ret = 0;

	if (!flatten) {
		/* The child's chain: its parent's, and one. */
		if (parent_depth < 0)
			parent_depth = clone_depth(rb, parent,
						   rb->max_clone_depth, err);
		if (parent_depth < 0)
			return parent_depth;
		flatten = parent_depth + 1 > rb->max_clone_depth;
	}
	ret = clone_image(rb, parent, snap, child, err);
	if (ret)
		return ret;
	if (flatten) {
		ret = flatten_image(rb, child, err);
		*flattened = !ret;
	}
	if (!ret && grow)
		ret = resize_image(rb, child, bytes, err);
	if (ret) {
		remove_quietly(rb, child);
		return ret;
	}
	record_depth(upd, flatten ? 0 : parent_depth + 1);
	return 0;
}

static int rbd_create_volume_from_snapshot(void *priv,
					   const struct cl_volume *vol,
					   const struct cl_snapshot *snap,
					   struct cl_model_update *upd,
					   struct cl_error *err)
{
	struct rbd_backend *rb = priv;
	char parent[IMAGE_NAME_MAX], sname[IMAGE_NAME_MAX];
	char child[IMAGE_NAME_MAX];
	bool flattened = false;

	volume_image(parent, sizeof(parent), snap->volume_id);
	snapshot_name(sname, sizeof(sname), snap->id);
	volume_image(child, sizeof(child), vol->id);
	return make_clone(rb, parent, sname, child, vol->size * RBD_GIB,
			  vol->size > snap->volume_size,
			  rb->flatten_from_snapshot,
			  recorded_depth(snap->provider_location), &flattened,
			  upd, err);
}

/* Unprotect and remove snapshot @snap of @img; -EBUSY while it has clones. */
static int drop_snapshot(struct rbd_backend *rb, rbd_image_t img,
			 const char *image, const char *snap,
			 struct cl_error *err)
{
	int prot = 0;
	int ret = rbd_snap_is_protected(img, snap, &prot);

	if (ret == -ENOENT)
		return 0;
	if (ret == 0 && prot)
		ret = rbd_snap_unprotect(img, snap);
	if (ret == -EBUSY)
		return cl_error_set(err, ret,
				    "RBD snapshot %s/%s@%s has clones: delete the volumes made from it first (or set rbd_flatten_volume_from_snapshot)",
				    rb->pool, image, snap);
	if (ret == 0)
		ret = rbd_snap_remove(img, snap);
	if (ret < 0 && ret != -ENOENT)
		return cl_error_set(err, ret,
				    "cannot remove RBD snapshot %s/%s@%s: %s%s",
				    rb->pool, image, snap, strerror(-ret), error_hint(ret));
	return 0;
}

static int drop_snapshot_of(struct rbd_backend *rb, const char *image,
			    const char *snap, struct cl_error *err)
{
	rbd_image_t img;
	int ret = rbd_open(rb->io, image, &img, NULL);

	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return rbd_error(err, ret, "cannot open RBD image", rb->pool,
				 image);
	ret = drop_snapshot(rb, img, image, snap, err);
	rbd_close(img);
	return ret;
}

static int rbd_create_cloned_volume(void *priv, const struct cl_volume *vol,
				    const struct cl_volume *src,
				    struct cl_model_update *upd,
				    struct cl_error *err)
{
	struct rbd_backend *rb = priv;
	char parent[IMAGE_NAME_MAX], child[IMAGE_NAME_MAX];
	char snap[IMAGE_NAME_MAX + sizeof(CLONE_SNAP_SUFFIX)];
	struct cl_error ignored;
	bool flattened = false;
	rbd_image_t img;
	int ret;

	volume_image(parent, sizeof(parent), src->id);
	volume_image(child, sizeof(child), vol->id);
	snprintf(snap, sizeof(snap), "%s%s", child, CLONE_SNAP_SUFFIX);
	ret = open_image(rb, parent, NULL, &img, err);
	if (ret)
		return ret;
	ret = rbd_snap_create(img, snap);
	if (ret == 0) {
		ret = rbd_snap_protect(img, snap);
		if (ret < 0)
			rbd_snap_remove(img, snap);
	}
	rbd_close(img);
	if (ret < 0)
		return cl_error_set(err, ret,
				    "cannot make the clone snapshot %s/%s@%s: %s%s",
				    rb->pool, parent, snap, strerror(-ret), error_hint(ret));
	ret = make_clone(rb, parent, snap, child, vol->size * RBD_GIB,
			 vol->size > src->size, false,
			 recorded_depth(src->provider_location), &flattened,
			 upd, err);
	/* A flattened clone (or none) needs the hidden snapshot no more. */
	if (ret || flattened)
		drop_snapshot_of(rb, parent, snap, ret ? &ignored : err);
	return ret;
}

static bool has_snapshots(rbd_image_t img)
{
	rbd_snap_info_t end;
	int max = 1;

	/* Room for the end marker only: -ERANGE when there are some. */
	return rbd_snap_list(img, &end, &max) != 0;
}

/*
 * After image @child of @parent@@snap went: drop the hidden snapshot it was
 * cloned from when no clone hangs off it any more, and a parent deleted
 * while it had clones (*.deleted) once it has no snapshots left, up the
 * chain. The error of opening @parent, else 0 (what is left to drop is
 * dropped by the next delete).
 */
static int release_parent(struct rbd_backend *rb, const char *parent,
			  const char *snap)
{
	char cur[IMAGE_NAME_MAX], csnap[IMAGE_NAME_MAX];
	char up[IMAGE_NAME_MAX], upsnap[IMAGE_NAME_MAX];

	bool first = true;

	snprintf(cur, sizeof(cur), "%s", parent);
	snprintf(csnap, sizeof(csnap), "%s", snap);
	while (ends_with(csnap, CLONE_SNAP_SUFFIX)) {
		struct cl_error ignored;
		rbd_image_t img;
		int has_parent, ret;

		ret = rbd_open(rb->io, cur, &img, NULL);
		if (ret < 0)
			return first ? ret : 0;
		first = false;
		if (drop_snapshot(rb, img, cur, csnap, &ignored) ||
		    !ends_with(cur, DELETED_SUFFIX)) {
			rbd_close(img);
			return 0;
		}
		if (has_snapshots(img)) {
			rbd_close(img);
			return 0;
		}
		has_parent = image_parent(img, up, sizeof(up), upsnap,
					  sizeof(upsnap));
		rbd_close(img);
		if (rbd_remove(rb->io, cur) < 0 || has_parent <= 0)
			return 0;
		snprintf(cur, sizeof(cur), "%s", up);
		snprintf(csnap, sizeof(csnap), "%s", upsnap);
	}
	return 0;
}

/*
 * Snapshots of @img before its removal: hidden ones without clones are
 * dropped; *@kept says whether some still have clones. A user snapshot
 * left is -EBUSY.
 */
static int drop_clone_snapshots(struct rbd_backend *rb, rbd_image_t img,
				const char *name, bool *kept,
				struct cl_error *err)
{
	rbd_snap_info_t *snaps = NULL;
	int max = 16, n, ret = 0;

	*kept = false;
	for (;;) {
		snaps = calloc((size_t)max, sizeof(*snaps));
		if (!snaps)
			return nomem(err);
		n = rbd_snap_list(img, snaps, &max);
		if (n != -ERANGE)
			break;
		free(snaps);
	}
	if (n < 0) {
		free(snaps);
		return rbd_error(err, n, "cannot list the snapshots of RBD image",
				 rb->pool, name);
	}
	for (int i = 0; i < n && !ret; i++) {
		struct cl_error busy = { 0 };

		if (!ends_with(snaps[i].name, CLONE_SNAP_SUFFIX)) {
			ret = cl_error_set(err, -EBUSY,
					   "RBD image %s/%s has snapshot %s: delete it first",
					   rb->pool, name, snaps[i].name);
			break;
		}
		ret = drop_snapshot(rb, img, name, snaps[i].name, &busy);
		if (ret == -EBUSY) {
			*kept = true;
			ret = 0;
		} else if (ret) {
			cl_error_set(err, ret, "%s", busy.msg);
		}
	}
	if (n > 0)
		rbd_snap_list_end(snaps);
	free(snaps);
	return ret;
}

static int in_use_error(struct rbd_backend *rb, const char *name,
			struct cl_error *err)
{
	return cl_error_set(err, -EBUSY,
			    "RBD image %s/%s is in use (mapped or opened by a client): detach it first",
			    rb->pool, name);
}

/*
 * Delete image @name that still has snapshots: the hidden ones without
 * clones go; with clones left it is kept as *.deleted; a user's snapshot
 * is -EBUSY.
 */
static int delete_with_snapshots(struct rbd_backend *rb, const char *name,
				 struct cl_error *err)
{
	char gone[IMAGE_NAME_MAX + 16];
	char parent[IMAGE_NAME_MAX], psnap[IMAGE_NAME_MAX];
	bool kept = false;
	rbd_image_t img;
	int ret, has_parent;

	ret = open_image(rb, name, NULL, &img, err);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	has_parent = image_parent(img, parent, sizeof(parent), psnap,
				  sizeof(psnap));
	ret = drop_clone_snapshots(rb, img, name, &kept, err);
	rbd_close(img);
	if (ret)
		return ret;
	if (kept) {
		/* Its clones read from it: it goes when the last of them does. */
		snprintf(gone, sizeof(gone), "%s%s", name, DELETED_SUFFIX);
		ret = rbd_rename(rb->io, name, gone);
		if (ret < 0)
			return cl_error_set(err, ret,
					    "cannot rename RBD image %s/%s (it has clones) to %s: %s%s",
					    rb->pool, name, gone,
					    strerror(-ret), error_hint(ret));
		return 0;
	}
	ret = rbd_remove(rb->io, name);
	if (ret == -EBUSY)
		return in_use_error(rb, name, err);
	if (ret < 0 && ret != -ENOENT)
		return rbd_error(err, ret, "cannot remove RBD image", rb->pool,
				 name);
	if (has_parent > 0)
		release_parent(rb, parent, psnap);
	return 0;
}

static int rbd_delete_volume(void *priv, const struct cl_volume *vol,
			     struct cl_error *err)
{
	struct rbd_backend *rb = priv;
	char name[IMAGE_NAME_MAX], src[IMAGE_NAME_MAX + 16];
	char snap[IMAGE_NAME_MAX + sizeof(CLONE_SNAP_SUFFIX)];
	int ret;

	volume_image(name, sizeof(name), vol->id);
	/*
	 * librbd refuses an image with snapshots (ENOTEMPTY) or watchers
	 * (EBUSY) before it removes anything: try the plain case first.
	 * ENOENT: removed behind our back (what a create cut short is
	 * removed all the same).
	 */
	ret = rbd_remove(rb->io, name);
	if (ret == -ENOTEMPTY)
		return delete_with_snapshots(rb, name, err);
	if (ret == -EBUSY)
		return in_use_error(rb, name, err);
	if (ret < 0 && ret != -ENOENT)
		return rbd_error(err, ret, "cannot remove RBD image", rb->pool,
				 name);
	if (vol->source_volid) {
		/* A clone: the hidden snapshot of its source is ours to drop. */
		snprintf(snap, sizeof(snap), "%s%s", name, CLONE_SNAP_SUFFIX);
		volume_image(src, sizeof(src), vol->source_volid);
		if (release_parent(rb, src, snap) == -ENOENT)
			release_parent(rb, strcat(src, DELETED_SUFFIX), snap);
	}
	return 0;
}

static int rbd_create_snapshot(void *priv, const struct cl_snapshot *snap,
			       const struct cl_volume *vol,
			       struct cl_model_update *upd,
			       struct cl_error *err)
{
	struct rbd_backend *rb = priv;
	char name[IMAGE_NAME_MAX], sname[IMAGE_NAME_MAX];
	rbd_image_t img;
	int ret;

	volume_image(name, sizeof(name), vol->id);
	snapshot_name(sname, sizeof(sname), snap->id);
	ret = open_image(rb, name, NULL, &img, err);
	if (ret)
		return ret;
	ret = rbd_snap_create(img, sname);
	if (ret == 0) {
		/* Protected: volumes are cloned from it. */
		ret = rbd_snap_protect(img, sname);
		if (ret < 0)
			rbd_snap_remove(img, sname);
	}
	rbd_close(img);
	if (ret < 0)
		return cl_error_set(err, ret,
				    "cannot snapshot RBD image %s/%s as %s: %s%s",
				    rb->pool, name, sname, strerror(-ret), error_hint(ret));
	/* A clone of the snapshot has the volume's chain, and one. */
	record_depth(upd, recorded_depth(vol->provider_location));
	return 0;
}

static int rbd_delete_snapshot(void *priv, const struct cl_snapshot *snap,
			       struct cl_error *err)
{
	char name[IMAGE_NAME_MAX], sname[IMAGE_NAME_MAX];

	volume_image(name, sizeof(name), snap->volume_id);
	snapshot_name(sname, sizeof(sname), snap->id);
	return drop_snapshot_of(priv, name, sname, err);
}

static int rbd_extend_volume(void *priv, const struct cl_volume *vol,
			     uint64_t new_size, struct cl_error *err)
{
	char name[IMAGE_NAME_MAX];

	volume_image(name, sizeof(name), vol->id);
	return resize_image(priv, name, new_size * RBD_GIB, err);
}

/* "volume-" and a 36-character id, nothing more: one of our volumes. */
static bool is_volume_image(const char *name)
{
	return strncmp(name, "volume-", 7) == 0 && strlen(name) == 7 + 36;
}

static int provisioned(struct rbd_backend *rb, uint64_t *bytes, uint64_t *nr,
		       struct cl_error *err)
{
	rbd_image_spec_t *images = NULL;
	size_t max = 64;
	int ret;

	*bytes = *nr = 0;
	for (;;) {
		images = calloc(max, sizeof(*images));
		if (!images)
			return nomem(err);
		ret = rbd_list2(rb->io, images, &max);
		if (ret != -ERANGE)
			break;
		free(images);
	}
	if (ret < 0) {
		free(images);
		return cl_error_set(err, ret,
				    "cannot list the RBD images of pool %s: %s%s",
				    rb->pool, strerror(-ret), error_hint(ret));
	}
	for (size_t i = 0; i < max; i++) {
		rbd_image_t img;
		uint64_t size;

		if (!is_volume_image(images[i].name) ||
		    rbd_open_read_only(rb->io, images[i].name, &img,
				       NULL) < 0)
			continue;	/* not ours, or removed meanwhile */
		if (rbd_get_size(img, &size) == 0) {
			*bytes += size;
			(*nr)++;
		}
		rbd_close(img);
	}
	rbd_image_spec_list_cleanup(images, max);
	free(images);
	return 0;
}

static int rbd_get_stats(void *priv, struct cl_backend_stats *stats,
			 struct cl_error *err)
{
	struct rbd_backend *rb = priv;
	struct rbd_pool_usage usage = { 0 };
	uint64_t prov, nr;
	struct cl_pool_stats *p;
	int ret;

	ret = rbd_pool_usage(rb, &usage, err);
	if (!ret)
		ret = provisioned(rb, &prov, &nr, err);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->pool_name = strdup(rb->pool))) {
		free(p);
		return nomem(err);
	}
	p->total_capacity_gb = (double)usage.total / RBD_GIB;
	p->free_capacity_gb = (double)usage.free / RBD_GIB;
	p->allocated_capacity_gb = (double)usage.used / RBD_GIB;
	p->provisioned_capacity_gb = (double)prov / RBD_GIB;
	p->thin_provisioning_support = true;
	p->thick_provisioning_support = false;
	p->max_over_subscription_ratio = rb->max_over_subscription_ratio;
	p->reserved_percentage = rb->reserved_percentage;
	p->total_volumes = nr;
	stats->pools = p;
	stats->nr_pools = 1;
	return 0;
}

/* The keyring file's text, for attaching hosts without one. */
static int read_keyring(const char *path, char **out, struct cl_error *err)
{
	struct stat st;
	ssize_t n;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cl_error_set(err, -errno, "cannot read keyring %s: %s",
				    path, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_size > KEYRING_MAX) {
		close(fd);
		return cl_error_set(err, -EFBIG,
				    "keyring %s is not a keyring (over %d bytes)",
				    path, KEYRING_MAX);
	}
	*out = calloc(1, (size_t)st.st_size + 1);
	if (!*out) {
		close(fd);
		return nomem(err);
	}
	n = read(fd, *out, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		free(*out);
		*out = NULL;
		return cl_error_set(err, -EIO, "cannot read keyring %s",
				    path);
	}
	return 0;
}

static int rbd_initialize_connection(void *priv, const struct cl_volume *vol,
				     const struct cl_dict *connector,
				     struct cl_connection_info *info,
				     struct cl_error *err)
{
	struct rbd_backend *rb = priv;
	char name[IMAGE_NAME_MAX], spec[IMAGE_NAME_MAX * 2];
	char *hosts = NULL, *ports = NULL, *keyring = NULL;
	struct cl_dict *d = &info->data;
	bool auth = rb->user[0] != '\0';
	int ret;

	volume_image(name, sizeof(name), vol->id);
	snprintf(spec, sizeof(spec), "%s/%s", rb->pool, name);
	ret = rbd_monitor_addresses(rb, &hosts, &ports, err);
	if (!ret && rb->keyring_path[0])
		ret = read_keyring(rb->keyring_path, &keyring, err);
	if (ret)
		goto out;
	info->driver_volume_type = strdup("rbd");
	if (!info->driver_volume_type ||
	    cl_dict_set(d, "name", spec) ||
	    cl_dict_set(d, "hosts", hosts) ||
	    cl_dict_set(d, "ports", ports) ||
	    cl_dict_set(d, "cluster_name", rb->cluster_name) ||
	    cl_dict_set(d, "auth_enabled", auth ? "true" : "false") ||
	    cl_dict_set(d, "auth_username", auth ? rb->user : NULL) ||
	    cl_dict_set(d, "secret_type", "ceph") ||
	    cl_dict_set(d, "secret_uuid", rb->secret_uuid[0] ?
			rb->secret_uuid : NULL) ||
	    cl_dict_set(d, "volume_id", vol->id) ||
	    cl_dict_set(d, "discard", rb->report_discard ? "true" : "false") ||
	    cl_dict_set(d, "keyring", keyring))
		ret = nomem(err);
out:
	free(hosts);
	free(ports);
	free(keyring);
	return ret;
}

static int rbd_terminate_connection(void *priv, const struct cl_volume *vol,
				    const struct cl_dict *connector,
				    struct cl_error *err)
{
	return 0;	/* the attaching host maps and unmaps */
}

static const char *const rbd_cinder_names[] = {
	"cinder.volume.drivers.rbd.RBDDriver",
	NULL
};

CL_DRIVER_EXPORT const struct cl_driver_ops cinderlib_driver = {
	.abi_version = CL_DRIVER_ABI_VERSION,
	.name = "rbd",
	.version = "1.0.0",
	.description = "Ceph RBD images in a RADOS pool, through librbd (Cinder's RBD driver)",
	.vendor_name = "Open Source",
	.storage_protocol = "ceph",
	.cinder_names = rbd_cinder_names,
	.options = rbd_options,
	.setup = rbd_setup,
	.teardown = rbd_teardown,
	.get_stats = rbd_get_stats,
	.create_volume = rbd_create_volume,
	.delete_volume = rbd_delete_volume,
	.create_snapshot = rbd_create_snapshot,
	.delete_snapshot = rbd_delete_snapshot,
	.create_volume_from_snapshot = rbd_create_volume_from_snapshot,
	.create_cloned_volume = rbd_create_cloned_volume,
	.extend_volume = rbd_extend_volume,
	.initialize_connection = rbd_initialize_connection,
	.terminate_connection = rbd_terminate_connection,
};
