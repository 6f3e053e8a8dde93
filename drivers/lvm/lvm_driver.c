// SPDX-License-Identifier: Apache-2.0
/*
 * The "lvm" driver: volumes as LVM2 logical volumes, thick or thin, driven
 * through the lvm tools as Cinder's LVM driver does, with Cinder's option
 * names and LV names: volume-<id> for volumes, _snapshot-<id> for
 * snapshots. Thin volumes live in one thin pool (<volume_group>-pool unless
 * lvm_pool_name says otherwise); their snapshots and clones are thin
 * snapshots. Thick snapshots are classic COW snapshots as large as their
 * origin; thick clones copy from a temporary COW snapshot of the source.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lvm.h"

/* lvm_type: what volumes are made of. */
enum lvm_kind {
	LVM_THICK,
	LVM_THIN,
};

struct lvm_backend {
	struct lvm_runner run;
	char *vg;
	char *pool;			/* thin pool LV name */
	enum lvm_kind kind;
	int mirrors;
	bool clear_zero;		/* volume_clear = zero */
	uint64_t clear_bytes;		/* volume_clear_size, 0 = all */
	size_t dd_block;		/* volume_dd_blocksize */
	int reserved_percentage;
	double max_over_subscription_ratio;
	bool attach_file;		/* attach_backing = file */
	/*
	 * The VG's LVs as last listed, reused for a few seconds (setup lists
	 * them, the create right after needs them); dropped on every change.
	 */
	struct lvm_lv_list cache;
	struct timespec cache_time;
	bool cached;
};

#define CACHE_SECONDS 5

static const struct cl_driver_option lvm_options[] = {
	{ "volume_group", CL_OPT_STRING, NULL,
	  "name of the volume group holding the volumes" },
	{ "lvm_type", CL_OPT_STRING, "default",
	  "default (thick LVs), thin (thin LVs in a thin pool, created when missing) "
	  "or auto (thin when the thin pool exists, else thick)" },
	{ "lvm_pool_name", CL_OPT_STRING, "",
	  "thin pool LV name (default: <volume_group>-pool, as Cinder)" },
	{ "lvm_mirrors", CL_OPT_INT, "0",
	  "if > 0, create thick LVs with this many mirrors (needs lvm_mirrors + 2 PVs)" },
	{ "volume_clear", CL_OPT_STRING, "zero",
	  "how deleted thick volumes and snapshots are wiped: none or zero" },
	{ "volume_clear_size", CL_OPT_INT, "0",
	  "MiB to wipe at the start of a deleted thick volume (0 = all of it)" },
	{ "volume_dd_blocksize", CL_OPT_STRING, "1M",
	  "block size of thick copies (clones, volumes from snapshots), e.g. 1M or 512K" },
	{ "lvm_suppress_fd_warnings", CL_OPT_BOOL, "false",
	  "run lvm commands with LVM_SUPPRESS_FD_WARNINGS=1" },
	{ "lvm_conf_file", CL_OPT_STRING, "/etc/cinder/lvm.conf",
	  "lvm.conf for the lvm commands (LVM_SYSTEM_DIR is its directory); ignored "
	  "when the file does not exist, 'None' to never use one" },
	{ "lvm_config", CL_OPT_STRING, "",
	  "LVM configuration text given to every lvm command with --config "
	  "(without udev running, udev_sync=0 and udev_rules=0 are added)" },
	{ "lvm_command", CL_OPT_STRING, "lvm",
	  "the lvm binary: a name looked up in PATH, or a path" },
	{ "reserved_percentage", CL_OPT_INT, "0",
	  "percentage of capacity kept free (reported in stats)" },
	{ "max_over_subscription_ratio", CL_OPT_FLOAT, "20.0",
	  "thin pools: provisioned / pool size above which thin creates are refused" },
	{ "attach_backing", CL_OPT_STRING, "remap",
	  "how a local attach reaches the LV: remap (the I/O is remapped onto the LV, "
	  "zero copy) or file (direct I/O on the LV through the file backing)" },
	{ NULL }
};

/* Nodes come from udev when it runs; without it lvm makes them itself. */
#define NO_UDEV_CONFIG \
	"activation { udev_sync=0 udev_rules=0 } " \
	"devices { obtain_device_list_from_udev=0 }"

static bool udev_running(void)
{
	return access("/run/udev/control", F_OK) == 0;
}

static const char *opt(const struct cl_driver_config *cfg, const char *name)
{
	return cl_driver_option_get(cfg, lvm_options, name);
}

static bool opt_bool(const struct cl_driver_config *cfg, const char *name)
{
	return cl_driver_option_bool(cfg, lvm_options, name);
}

/* "1M", "512K", "4096": bytes, 0 when invalid. */
static size_t parse_block_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		return 0;
	switch (*end) {
	case 'k': case 'K':
		v <<= 10;
		end++;
		break;
	case 'm': case 'M':
		v <<= 20;
		end++;
		break;
	case 'g': case 'G':
		v <<= 30;
		end++;
		break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	return *end || v < 512 || v > (64ULL << 20) ? 0 : (size_t)v;
}

static void drop_cache(struct lvm_backend *lb)
{
	if (lb->cached)
		lvm_lv_list_free(&lb->cache);
	lb->cached = false;
}

/* Every LV of the VG, from the cache when fresh. */
static int list_lvs(struct lvm_backend *lb, const struct lvm_lv_list **out,
		    struct cl_error *err)
{
	struct timespec now;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (lb->cached && now.tv_sec - lb->cache_time.tv_sec < CACHE_SECONDS) {
		*out = &lb->cache;
		return 0;
	}
	drop_cache(lb);
	ret = lvm_lv_report(&lb->run, lb->vg, NULL, &lb->cache, err);
	if (ret == -ENOENT) {
		char what[300];

		snprintf(what, sizeof(what), "volume group '%s' not found",
			 lb->vg);
		return lvm_error_wrap(err, -ENOENT, what);
	}
	if (ret)
		return ret;
	lb->cached = true;
	lb->cache_time = now;
	*out = &lb->cache;
	return 0;
}

/* Run one lvm command whose target is in this VG; the VG changes. */
static int run_change(struct lvm_backend *lb, const char *const *argv,
		      struct cl_error *err)
{
	drop_cache(lb);
	return lvm_run(&lb->run, argv, NULL, err);
}

static void lv_name(char *buf, size_t len, const char *kind, const char *id)
{
	snprintf(buf, len, "%s-%s", kind, id);
}

static void lv_path(char *buf, size_t len, const struct lvm_backend *lb,
		    const char *lv)
{
	snprintf(buf, len, "%s/%s", lb->vg, lv);
}

static void dev_path(char *buf, size_t len, const struct lvm_backend *lb,
		     const char *lv)
{
	snprintf(buf, len, "/dev/%s/%s", lb->vg, lv);
}

/* An LV that should be there is not: say so plainly. */
static int missing(struct cl_error *err, const struct lvm_backend *lb,
		   const char *lv, int ret)
{
	char what[300];

	if (ret != -ENOENT)
		return ret;
	snprintf(what, sizeof(what),
		 "logical volume %s/%s does not exist (removed outside cinderlib?)",
		 lb->vg, lv);
	return lvm_error_wrap(err, -ENOENT, what);
}

static void lvm_teardown(void *priv)
{
	struct lvm_backend *lb = priv;

	if (!lb)
		return;
	drop_cache(lb);
	lvm_runner_free(&lb->run);
	free(lb->vg);
	free(lb->pool);
	free(lb);
}

static int build_config(const char *user, char **out)
{
	const char *extra = udev_running() ? "" : NO_UDEV_CONFIG;

	*out = NULL;
	/* lvm keeps the first of duplicate settings: the user's win. */
	if (asprintf(out, "%s%s%s", user, *user && *extra ? " " : "", extra) < 0)
		return -ENOMEM;
	return 0;
}

/* Check (and for lvm_type=thin create) the thin pool. */
static int setup_pool(struct lvm_backend *lb, bool create_missing,
		      struct cl_error *err)
{
	const struct lvm_lv_list *lvs;
	const struct lvm_lv *pool;
	char target[300];
	int ret;

	ret = list_lvs(lb, &lvs, err);
	if (ret)
		return ret;
	pool = lvm_lv_find(lvs, lb->pool);
	if (pool && strcmp(pool->segtype, "thin-pool") != 0)
		return cl_error_set(err, -EINVAL,
				    "%s/%s is a %s LV, not a thin pool", lb->vg,
				    lb->pool, pool->segtype);
	if (pool) {
		lb->kind = LVM_THIN;
		return 0;
	}
	if (!create_missing) {
		lb->kind = LVM_THICK;
		return 0;
	}
	/* As Cinder: the pool takes the VG's free space. */
	lv_path(target, sizeof(target), lb, lb->pool);
	{
		const char *argv[] = { "lvcreate", "--yes", "--type",
				       "thin-pool", "-l", "100%FREE",
				       "--addtag", "cinderlib-created", target,
				       NULL };

		ret = run_change(lb, argv, err);
	}
	if (ret)
		return ret;
	lb->kind = LVM_THIN;
	return 0;
}

static int lvm_setup(const struct cl_driver_config *cfg, void **priv,
		     struct cl_error *err)
{
	const char *type = opt(cfg, "lvm_type");
	const char *clear = opt(cfg, "volume_clear");
	const char *pool = opt(cfg, "lvm_pool_name");
	const char *backing = opt(cfg, "attach_backing");
	struct lvm_backend *lb;
	char *config = NULL;
	int ret;

	if (strcmp(type, "default") && strcmp(type, "thick") &&
	    strcmp(type, "thin") && strcmp(type, "auto"))
		return cl_error_set(err, -EINVAL,
				    "lvm_type must be default, thin or auto, not '%s'",
				    type);
	if (strcmp(clear, "none") && strcmp(clear, "zero"))
		return cl_error_set(err, -EINVAL,
				    "volume_clear must be none or zero, not '%s'",
				    clear);
	if (strcmp(backing, "remap") && strcmp(backing, "file"))
		return cl_error_set(err, -EINVAL,
				    "attach_backing must be remap or file, not '%s'",
				    backing);
	lb = calloc(1, sizeof(*lb));
	if (!lb)
		return cl_error_set(err, -ENOMEM, "out of memory");
	lb->vg = strdup(opt(cfg, "volume_group"));
	if (pool && *pool)
		lb->pool = strdup(pool);
	else if (lb->vg && asprintf(&lb->pool, "%s-pool", lb->vg) < 0)
		lb->pool = NULL;
	if (!lb->vg || !lb->pool || build_config(opt(cfg, "lvm_config"),
						 &config)) {
		ret = cl_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (!*lb->vg || strchr(lb->vg, '/')) {
		ret = cl_error_set(err, -EINVAL, "invalid volume_group '%s'",
				   lb->vg);
		goto fail;
	}
	lb->attach_file = strcmp(backing, "file") == 0;
	lb->mirrors = atoi(opt(cfg, "lvm_mirrors"));
	lb->clear_zero = strcmp(clear, "zero") == 0;
	lb->clear_bytes = (uint64_t)strtoull(opt(cfg, "volume_clear_size"),
					     NULL, 10) * LVM_MIB;
	lb->dd_block = parse_block_size(opt(cfg, "volume_dd_blocksize"));
	lb->reserved_percentage = atoi(opt(cfg, "reserved_percentage"));
	lb->max_over_subscription_ratio =
		strtod(opt(cfg, "max_over_subscription_ratio"), NULL);
	if (!lb->dd_block) {
		ret = cl_error_set(err, -EINVAL,
				   "volume_dd_blocksize '%s' is not a size from 512 to 64M",
				   opt(cfg, "volume_dd_blocksize"));
		goto fail;
	}
	if (lb->mirrors < 0 || (lb->mirrors > 0 && !strcmp(type, "thin"))) {
		ret = cl_error_set(err, -EINVAL,
				   "lvm_mirrors must be 0 or more, and 0 with lvm_type=thin");
		goto fail;
	}
	ret = lvm_runner_init(&lb->run, opt(cfg, "lvm_command"),
			      opt(cfg, "lvm_conf_file"), config,
			      opt_bool(cfg, "lvm_suppress_fd_warnings"), err);
	if (ret)
		goto fail;
	if (!strcmp(type, "default") || !strcmp(type, "thick")) {
		struct lvm_vg vg;

		lb->kind = LVM_THICK;
		ret = lvm_vg_report(&lb->run, lb->vg, &vg, err);
	} else {
		ret = setup_pool(lb, !strcmp(type, "thin"), err);
	}
	if (ret)
		goto fail;
	if (lb->kind == LVM_THIN && lb->mirrors > 0) {
		ret = cl_error_set(err, -EINVAL,
				   "lvm_mirrors does not apply to thin volumes");
		goto fail;
	}
	free(config);
	*priv = lb;
	return 0;
fail:
	free(config);
	lvm_teardown(lb);
	return ret;
}

/* Thin: refuse what would take the pool past max_over_subscription_ratio. */
static int check_over_subscription(struct lvm_backend *lb, uint64_t add,
				   struct cl_error *err)
{
	const struct lvm_lv_list *lvs;
	const struct lvm_lv *pool;
	uint64_t provisioned = add;
	int ret = list_lvs(lb, &lvs, err);

	if (ret)
		return ret;
	pool = lvm_lv_find(lvs, lb->pool);
	if (!pool)
		return cl_error_set(err, -ENOENT,
				    "thin pool %s/%s does not exist (removed outside cinderlib?)",
				    lb->vg, lb->pool);
	for (size_t i = 0; i < lvs->count; i++)
		if (!strcmp(lvs->items[i].pool, lb->pool))
			provisioned += lvs->items[i].size;
	if (lb->max_over_subscription_ratio > 0 &&
	    (double)provisioned >
	    (double)pool->size * lb->max_over_subscription_ratio)
		return cl_error_set(err, -ENOSPC,
				    "thin pool %s/%s is full: %.2f GiB provisioned would exceed %.2f GiB x max_over_subscription_ratio %.1f",
				    lb->vg, lb->pool,
				    (double)provisioned / LVM_GIB,
				    (double)pool->size / LVM_GIB,
				    lb->max_over_subscription_ratio);
	return 0;
}

/* A new, empty LV @lv of @gib GiB. */
static int create_lv(struct lvm_backend *lb, const char *lv, uint64_t gib,
		     struct cl_error *err)
{
	char size[32], target[300], mirrors[16];
	const char *argv[20];
	size_t n = 0;
	int ret;

	snprintf(size, sizeof(size), "%llug", (unsigned long long)gib);
	argv[n++] = "lvcreate";
	argv[n++] = "--yes";
	argv[n++] = "-n";
	argv[n++] = lv;
	if (lb->kind == LVM_THIN) {
		ret = check_over_subscription(lb, gib * LVM_GIB, err);
		if (ret)
			return ret;
		lv_path(target, sizeof(target), lb, lb->pool);
		argv[n++] = "--type";
		argv[n++] = "thin";
		argv[n++] = "-V";
		argv[n++] = size;
		argv[n++] = target;
	} else {
		argv[n++] = "-L";
		argv[n++] = size;
		if (lb->mirrors > 0) {
			/* Cinder's mirror layout. */
			snprintf(mirrors, sizeof(mirrors), "%d", lb->mirrors);
			argv[n++] = "--type";
			argv[n++] = "mirror";
			argv[n++] = "-m";
			argv[n++] = mirrors;
			argv[n++] = "--nosync";
			argv[n++] = "--mirrorlog";
			argv[n++] = "mirrored";
		}
		argv[n++] = lb->vg;
	}
	argv[n] = NULL;
	return run_change(lb, argv, err);
}

/* Remove @lv; one that is not there is fine. */
static int remove_lv(struct lvm_backend *lb, const char *lv,
		     struct cl_error *err)
{
	char target[300];
	const char *argv[] = { "lvremove", "-f", target, NULL };
	int ret;

	lv_path(target, sizeof(target), lb, lv);
	ret = run_change(lb, argv, err);
	if (ret == -ENOENT) {
		cl_error_clear(err);
		return 0;
	}
	return ret;
}

/* Remove @lv after a failure, keeping the failure's message. */
static void undo_create(struct lvm_backend *lb, const char *lv)
{
	struct cl_error ignored = { 0 };

	remove_lv(lb, lv, &ignored);
}

static int set_location(struct lvm_backend *lb, const char *lv,
			struct cl_model_update *upd, struct cl_error *err)
{
	if (!upd)
		return 0;
	if (asprintf(&upd->provider_location, "/dev/%s/%s", lb->vg, lv) < 0) {
		upd->provider_location = NULL;
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* Make /dev/VG/LV exist: activate @lv (also one with activation skip). */
static int activate(struct lvm_backend *lb, const char *lv,
		    struct cl_error *err)
{
	char dev[PATH_MAX], target[300];
	const char *argv[] = { "lvchange", "-ay", "-K", target, NULL };

	dev_path(dev, sizeof(dev), lb, lv);
	if (access(dev, F_OK) == 0)
		return 0;
	lv_path(target, sizeof(target), lb, lv);
	return missing(err, lb, lv, lvm_run(&lb->run, argv, NULL, err));
}

static int lvm_create_volume(void *priv, const struct cl_volume *vol,
			     struct cl_model_update *upd,
			     struct cl_error *err)
{
	struct lvm_backend *lb = priv;
	char lv[64];
	int ret;

	lv_name(lv, sizeof(lv), "volume", vol->id);
	ret = create_lv(lb, lv, vol->size, err);
	return ret ? ret : set_location(lb, lv, upd, err);
}

/* Thin: a thin snapshot of @src_lv as the active volume @lv, grown. */
static int thin_copy(struct lvm_backend *lb, const char *lv,
		     const char *src_lv, uint64_t src_gib, uint64_t gib,
		     struct cl_error *err)
{
	char src[300], size[32], target[300];
	const char *snap[] = { "lvcreate", "--yes", "-s", "-kn", "-ay", "-n",
			       lv, src, NULL };
	const char *grow[] = { "lvextend", "-L", size, target, NULL };
	int ret;

	ret = check_over_subscription(lb, gib * LVM_GIB, err);
	if (ret)
		return ret;
	lv_path(src, sizeof(src), lb, src_lv);
	ret = missing(err, lb, src_lv, run_change(lb, snap, err));
	if (ret || gib <= src_gib)
		return ret;
	snprintf(size, sizeof(size), "%llug", (unsigned long long)gib);
	lv_path(target, sizeof(target), lb, lv);
	ret = run_change(lb, grow, err);
	if (ret)
		undo_create(lb, lv);
	return ret;
}

/* Thick: new LV @lv of @gib GiB holding a copy of the active @src_lv. */
static int thick_copy(struct lvm_backend *lb, const char *lv,
		      const char *src_lv, uint64_t gib, struct cl_error *err)
{
	char src[PATH_MAX], dst[PATH_MAX];
	uint64_t len;
	int ret;

	ret = activate(lb, src_lv, err);
	if (ret)
		return ret;
	dev_path(src, sizeof(src), lb, src_lv);
	ret = lvm_device_size(src, &len, err);
	if (ret)
		return ret;
	if (len > gib * LVM_GIB)
		return cl_error_set(err, -EINVAL,
				    "%s is larger than the new volume (%llu GiB)",
				    src, (unsigned long long)gib);
	ret = create_lv(lb, lv, gib, err);
	if (ret)
		return ret;
	dev_path(dst, sizeof(dst), lb, lv);
	ret = lvm_copy_device(src, dst, len, lb->dd_block, err);
	if (ret)
		undo_create(lb, lv);
	return ret;
}

static int lvm_create_volume_from_snapshot(void *priv,
					   const struct cl_volume *vol,
					   const struct cl_snapshot *snap,
					   struct cl_model_update *upd,
					   struct cl_error *err)
{
	struct lvm_backend *lb = priv;
	char lv[64], snap_lv[64];
	int ret;

	lv_name(lv, sizeof(lv), "volume", vol->id);
	lv_name(snap_lv, sizeof(snap_lv), "_snapshot", snap->id);
	if (lb->kind == LVM_THIN)
		ret = thin_copy(lb, lv, snap_lv, snap->volume_size, vol->size,
				err);
	else
		ret = thick_copy(lb, lv, snap_lv, vol->size, err);
	return ret ? ret : set_location(lb, lv, upd, err);
}

/* A COW snapshot @snap_lv of the thick @lv, as large as its origin. */
static int cow_snapshot(struct lvm_backend *lb, const char *snap_lv,
			const char *lv, uint64_t gib, struct cl_error *err)
{
	char size[32], origin[300];
	const char *argv[] = { "lvcreate", "--yes", "-s", "-L", size, "-n",
			       snap_lv, origin, NULL };

	snprintf(size, sizeof(size), "%llug", (unsigned long long)gib);
	lv_path(origin, sizeof(origin), lb, lv);
	return missing(err, lb, lv, run_change(lb, argv, err));
}

static int lvm_create_cloned_volume(void *priv, const struct cl_volume *vol,
				    const struct cl_volume *src,
				    struct cl_model_update *upd,
				    struct cl_error *err)
{
	struct lvm_backend *lb = priv;
	char lv[64], src_lv[64], tmp[64];
	int ret;

	lv_name(lv, sizeof(lv), "volume", vol->id);
	lv_name(src_lv, sizeof(src_lv), "volume", src->id);
	if (lb->kind == LVM_THIN) {
		ret = thin_copy(lb, lv, src_lv, src->size, vol->size, err);
		return ret ? ret : set_location(lb, lv, upd, err);
	}
	/* As Cinder: copy from a snapshot, not from a volume in use. */
	lv_name(tmp, sizeof(tmp), "clone-snap", vol->id);
	ret = cow_snapshot(lb, tmp, src_lv, src->size, err);
	if (ret)
		return ret;
	ret = thick_copy(lb, lv, tmp, vol->size, err);
	if (ret) {
		undo_create(lb, tmp);
		return ret;
	}
	ret = remove_lv(lb, tmp, err);
	if (ret) {
		undo_create(lb, lv);
		return ret;
	}
	return set_location(lb, lv, upd, err);
}

static int lvm_create_snapshot(void *priv, const struct cl_snapshot *snap,
			       const struct cl_volume *vol,
			       struct cl_model_update *upd,
			       struct cl_error *err)
{
	struct lvm_backend *lb = priv;
	char lv[64], snap_lv[64], origin[300];
	int ret;

	lv_name(lv, sizeof(lv), "volume", vol->id);
	lv_name(snap_lv, sizeof(snap_lv), "_snapshot", snap->id);
	if (lb->kind == LVM_THIN) {
		/* Thin snapshots get activation skip: activated on use. */
		const char *argv[] = { "lvcreate", "--yes", "-s", "-n", snap_lv,
				       origin, NULL };

		lv_path(origin, sizeof(origin), lb, lv);
		ret = missing(err, lb, lv, run_change(lb, argv, err));
	} else {
		ret = cow_snapshot(lb, snap_lv, lv, vol->size, err);
	}
	return ret ? ret : set_location(lb, snap_lv, upd, err);
}

/* The device-mapper name of VG/LV (dashes doubled) with @suffix. */
static void dm_path(char *buf, size_t len, const struct lvm_backend *lb,
		    const char *lv, const char *suffix)
{
	size_t n = (size_t)snprintf(buf, len, "/dev/mapper/");
	const char *parts[] = { lb->vg, lv };

	for (int p = 0; p < 2 && n + 3 < len; p++) {
		for (const char *c = parts[p]; *c && n + 3 < len; c++) {
			buf[n++] = *c;
			if (*c == '-')
				buf[n++] = '-';
		}
		if (p == 0)
			buf[n++] = '-';
	}
	buf[n] = '\0';
	strncat(buf, suffix, len - n - 1);
}

/*
 * Wipe a thick LV (or a COW snapshot's exception store) before it goes,
 * as Cinder does. 1 when the LV is not there at all.
 */
static int clear_lv(struct lvm_backend *lb, const char *lv, bool snapshot,
		    struct cl_error *err)
{
	char dev[PATH_MAX];
	struct lvm_lv_list one;
	int ret;

	if (!lb->clear_zero || lb->kind == LVM_THIN)
		return 0;
	ret = lvm_lv_report(&lb->run, lb->vg, lv, &one, err);
	if (ret == -ENOENT) {
		cl_error_clear(err);
		return 1;
	}
	if (ret)
		return ret;
	/* Thin LVs of a thick backend (auto) read zeros once gone. */
	if (!strcmp(one.items[0].segtype, "thin")) {
		lvm_lv_list_free(&one);
		return 0;
	}
	lvm_lv_list_free(&one);
	ret = activate(lb, lv, err);
	if (ret)
		return ret;
	if (snapshot)
		dm_path(dev, sizeof(dev), lb, lv, "-cow");
	else
		dev_path(dev, sizeof(dev), lb, lv);
	return lvm_zero_device(dev, lb->clear_bytes, err);
}

static int delete_lv(struct lvm_backend *lb, const char *lv, bool snapshot,
		     struct cl_error *err)
{
	int ret = clear_lv(lb, lv, snapshot, err);

	if (ret == 1)
		return 0;
	if (ret)
		return ret;
	return remove_lv(lb, lv, err);
}

static int lvm_delete_volume(void *priv, const struct cl_volume *vol,
			     struct cl_error *err)
{
	char lv[64];

	lv_name(lv, sizeof(lv), "volume", vol->id);
	return delete_lv(priv, lv, false, err);
}

static int lvm_delete_snapshot(void *priv, const struct cl_snapshot *snap,
			       struct cl_error *err)
{
	char lv[64];

	lv_name(lv, sizeof(lv), "_snapshot", snap->id);
	return delete_lv(priv, lv, true, err);
}

static int lvm_extend_volume(void *priv, const struct cl_volume *vol,
			     uint64_t new_size, struct cl_error *err)
{
	struct lvm_backend *lb = priv;
	char lv[64], size[32], target[300];
	const char *grow[] = { "lvextend", "-L", size, target, NULL };
	const char *off[] = { "lvchange", "-an", target, NULL };
	const char *on[] = { "lvchange", "-ay", target, NULL };
	struct cl_error again = { 0 };
	int ret;

	lv_name(lv, sizeof(lv), "volume", vol->id);
	lv_path(target, sizeof(target), lb, lv);
	snprintf(size, sizeof(size), "%llug", (unsigned long long)new_size);
	ret = missing(err, lb, lv, run_change(lb, grow, err));
	if (!ret || !err || !strstr(err->msg, "only while inactive"))
		return ret;
	/* A thick origin with snapshots grows only while inactive. */
	ret = run_change(lb, off, err);
	if (ret)
		return ret;
	ret = run_change(lb, grow, err);
	if (lvm_run(&lb->run, on, NULL, &again) && !ret)
		ret = cl_error_set(err, again.code, "%s", again.msg);
	return ret;
}

static int lvm_get_stats(void *priv, struct cl_backend_stats *stats,
			 struct cl_error *err)
{
	struct lvm_backend *lb = priv;
	const struct lvm_lv_list *lvs;
	const struct lvm_lv *pool = NULL;
	struct cl_pool_stats *p;
	uint64_t provisioned = 0, nr = 0;
	struct lvm_vg vg = { 0 };
	int ret;

	drop_cache(lb);
	ret = list_lvs(lb, &lvs, err);
	if (ret)
		return ret;
	if (lb->kind == LVM_THIN) {
		pool = lvm_lv_find(lvs, lb->pool);
		if (!pool)
			return cl_error_set(err, -ENOENT,
					    "thin pool %s/%s does not exist (removed outside cinderlib?)",
					    lb->vg, lb->pool);
	} else {
		ret = lvm_vg_report(&lb->run, lb->vg, &vg, err);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < lvs->count; i++) {
		const struct lvm_lv *l = &lvs->items[i];

		if (strncmp(l->name, "volume-", 7) != 0)
			continue;
		if (pool ? strcmp(l->pool, lb->pool) != 0 : l->pool[0] != '\0')
			continue;
		provisioned += l->size;
		nr++;
	}
	p = calloc(1, sizeof(*p));
	if (!p || !(p->pool_name = strdup(pool ? lb->pool : lb->vg))) {
		free(p);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	if (pool) {
		double used = (double)pool->size * pool->data_percent / 100.0;

		p->total_capacity_gb = (double)pool->size / LVM_GIB;
		p->allocated_capacity_gb = used / LVM_GIB;
		p->free_capacity_gb = p->total_capacity_gb -
				      p->allocated_capacity_gb;
		p->thin_provisioning_support = true;
		p->max_over_subscription_ratio =
			lb->max_over_subscription_ratio;
	} else {
		p->total_capacity_gb = (double)vg.size / LVM_GIB;
		p->free_capacity_gb = (double)vg.free / LVM_GIB;
		p->allocated_capacity_gb = (double)(vg.size - vg.free) /
					   LVM_GIB;
		p->thick_provisioning_support = true;
		p->max_over_subscription_ratio = 1.0;
	}
	p->provisioned_capacity_gb = (double)provisioned / LVM_GIB;
	p->reserved_percentage = lb->reserved_percentage;
	p->total_volumes = nr;
	stats->pools = p;
	stats->nr_pools = 1;
	return 0;
}

static int lvm_initialize_connection(void *priv, const struct cl_volume *vol,
				     const struct cl_dict *connector,
				     struct cl_connection_info *info,
				     struct cl_error *err)
{
	struct lvm_backend *lb = priv;
	char lv[64], dev[PATH_MAX];
	int ret;

	lv_name(lv, sizeof(lv), "volume", vol->id);
	ret = activate(lb, lv, err);
	if (ret)
		return ret;
	dev_path(dev, sizeof(dev), lb, lv);
	info->driver_volume_type = strdup("block");
	if (!info->driver_volume_type ||
	    cl_dict_set(&info->data, "device_path", dev) ||
	    cl_dict_set(&info->data, "attach_backing",
			lb->attach_file ? "file" : "remap"))
		return cl_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int lvm_terminate_connection(void *priv, const struct cl_volume *vol,
				    const struct cl_dict *connector,
				    struct cl_error *err)
{
	return 0;	/* a local LV stays active, as with Cinder */
}

static const char *const lvm_cinder_names[] = {
	"cinder.volume.drivers.lvm.LVMVolumeDriver",
	"cinder.volume.drivers.lvm.LVMISCSIDriver",
	NULL
};

CL_DRIVER_EXPORT const struct cl_driver_ops cinderlib_driver = {
	.abi_version = CL_DRIVER_ABI_VERSION,
	.name = "lvm",
	.version = "1.0.0",
	.description = "LVM2 thick and thin logical volumes (Cinder's LVM driver)",
	.vendor_name = "Open Source",
	.storage_protocol = "block",
	.cinder_names = lvm_cinder_names,
	.options = lvm_options,
	.setup = lvm_setup,
	.teardown = lvm_teardown,
	.get_stats = lvm_get_stats,
	.create_volume = lvm_create_volume,
	.delete_volume = lvm_delete_volume,
	.create_snapshot = lvm_create_snapshot,
	.delete_snapshot = lvm_delete_snapshot,
	.create_volume_from_snapshot = lvm_create_volume_from_snapshot,
	.create_cloned_volume = lvm_create_cloned_volume,
	.extend_volume = lvm_extend_volume,
	.initialize_connection = lvm_initialize_connection,
	.terminate_connection = lvm_terminate_connection,
};
