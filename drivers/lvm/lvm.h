/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "lvm" driver's internal interfaces: running the lvm tools and reading
 * their JSON reports (lvm_command.c), copying and zeroing block devices
 * (lvm_copy.c). The operations are in lvm_driver.c.
 */
#ifndef CINDERLIB_LVM_H
#define CINDERLIB_LVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cinderlib/driver.h"

#define LVM_GIB (1ULL << 30)
#define LVM_MIB (1ULL << 20)

/* How every lvm command of one backend runs. */
struct lvm_runner {
	char *lvm_path;		/* absolute path of the lvm binary */
	char *system_dir;	/* LVM_SYSTEM_DIR (lvm_conf_file's dir) or NULL */
	char *config;		/* --config text or NULL */
	bool suppress_fd_warnings;
};

/* One logical volume from an lvs report (sizes in bytes). */
struct lvm_lv {
	char name[128];
	char attr[16];		/* lv_attr, e.g. "Vwi-a-tz--" */
	char segtype[32];	/* "linear", "thin", "thin-pool", "mirror", ... */
	char pool[128];		/* pool_lv for thin LVs */
	char origin[128];	/* origin for snapshots */
	uint64_t size;
	uint64_t metadata_size;	/* thin pools */
	double data_percent;	/* thin pools and thin LVs, COW snapshots */
	double metadata_percent;
	bool active;
};

struct lvm_lv_list {
	size_t count;
	struct lvm_lv *items;
};

struct lvm_vg {
	uint64_t size;
	uint64_t free;
	uint64_t extent_size;
};

/*
 * Find @command (a name looked up in $PATH, or a path) and fill @r.
 * -ENOENT with a message saying what to install or set when it is missing.
 */
int lvm_runner_init(struct lvm_runner *r, const char *command,
		    const char *conf_file, const char *config,
		    bool suppress_fd_warnings, struct cl_error *err);
void lvm_runner_free(struct lvm_runner *r);

/*
 * Run "lvm ARGV..." (ARGV NULL-ended, argv[0] the lvm subcommand) with a
 * clean environment and stdin from /dev/null. @out (may be NULL) receives
 * stdout, malloc'd. A non-zero exit gives an error whose message holds the
 * command and its stderr; the code is -ENOSPC, -ENOENT or -EEXIST when
 * stderr says so, else -EIO.
 */
int lvm_run(const struct lvm_runner *r, const char *const *argv, char **out,
	    struct cl_error *err);

/* Replace @err's message by "@what: <the old message>" with @code. */
int lvm_error_wrap(struct cl_error *err, int code, const char *what);

/* The volume group's size and free space. -ENOENT when it does not exist. */
int lvm_vg_report(const struct lvm_runner *r, const char *vg,
		  struct lvm_vg *out, struct cl_error *err);
/*
 * Every LV of @vg (@lv NULL), or only @vg/@lv (-ENOENT when missing).
 * Free with lvm_lv_list_free().
 */
int lvm_lv_report(const struct lvm_runner *r, const char *vg, const char *lv,
		  struct lvm_lv_list *out, struct cl_error *err);
void lvm_lv_list_free(struct lvm_lv_list *list);
const struct lvm_lv *lvm_lv_find(const struct lvm_lv_list *list,
				 const char *name);

/*
 * Copy the first @len bytes of block device @src into @dst with O_DIRECT,
 * @block_size bytes at a time; zero blocks of @src become BLKZEROOUT on
 * @dst (offloaded where the device can).
 */
int lvm_copy_device(const char *src, const char *dst, uint64_t len,
		    size_t block_size, struct cl_error *err);
/* Zero the first @len bytes of @dev (0 = all of it). */
int lvm_zero_device(const char *dev, uint64_t len, struct cl_error *err);
/* Size of a block device in bytes. */
int lvm_device_size(const char *dev, uint64_t *size, struct cl_error *err);

#endif /* CINDERLIB_LVM_H */
