/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the cinderblk kernel tests: backing files on a file
 * system that can do O_DIRECT (ext4 on brd, set up once per boot), device
 * add/remove over netlink (libcinderlib) and ioctl, raw generic netlink
 * messages for malformed requests, and checks of what the module exposes.
 */
#ifndef CBD_HELPERS_H
#define CBD_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#include <linux/cinderblk.h>

#include "cinderlib/kernel.h"

/* The harness compares int literals with unsigned values everywhere. */
#pragma GCC diagnostic ignored "-Wsign-compare"

#define CBD_MIB			(1024ULL * 1024ULL)
#define CBD_DEFAULT_SIZE	(16 * CBD_MIB)
#define CBD_KO_PATH		"kernel/cinderblk.ko"
#define CBD_LIVE_DEVICES	"/sys/module/cinderblk/parameters/live_devices"
#define CBD_SPARE_DEVICES	"/sys/module/cinderblk/parameters/spare_devices"

/* One backing file and, once added, the device on it. */
struct cbd_dev {
	char path[PATH_MAX];	/* backing file */
	int backing_fd;		/* O_RDWR, -1 when closed */
	uint64_t size;
	bool added;
	uint32_t index;
	char node[64];		/* "/dev/cbdN" */
	char volume_id[CL_VOLUME_ID_LEN + 1];
};

/* Directory on ext4 over brd (O_DIRECT capable); NULL on failure. */
const char *cbd_scratch_dir(void);

/* Create a sparse backing file of @size and open it; 0 or -errno. */
int cbd_backing_create(struct cbd_dev *d, uint64_t size);
/* Random UUID text into @buf (CL_VOLUME_ID_LEN + 1 bytes). */
void cbd_make_uuid(char *buf);
/* Spec for a file-backed device of @d (index ANY, d's size, new UUID). */
void cbd_spec_for(struct cbd_dev *d, struct cl_dev_spec *spec);

/* Per-process netlink handle of libcinderlib; NULL on error. */
struct cl_kernel *cbd_nl(void);
/* Forget that handle (after the module was reloaded). */
void cbd_nl_reset(void);
/* Add @d over netlink with @flags; fills index/node. 0 or -errno. */
int cbd_add_nl(struct cbd_dev *d, uint32_t flags);
int cbd_add_nl_spec(struct cbd_dev *d, struct cl_dev_spec *spec);
/* Add @d over the control device. 0 or -errno. */
int cbd_add_ioctl(struct cbd_dev *d, uint32_t flags);
/* Force-remove the device if added, close and unlink the backing. */
void cbd_dev_cleanup(struct cbd_dev *d);

/* Wait until /dev/cbdN is a block device (@present) or nothing is there. */
int cbd_wait_node(uint32_t index, bool present, int timeout_ms);
/* The same for any block device node @path. */
int cbd_wait_node_path(const char *path, bool present, int timeout_ms);

/* Control device. */
int cbd_ctl_open(void);			/* fd or -errno */
void cbd_ioc_init(struct cinderblk_ioc_dev *d, uint32_t index);
int cbd_ioc(int ctl_fd, unsigned long req, struct cinderblk_ioc_dev *d);

/* What exists now. */
int cbd_dump_count(void);		/* devices in a dump, or -errno */
bool cbd_dump_has(uint32_t index);
int cbd_live_devices(void);		/* module counter, or -errno */
/* Module parameter file_offload: "auto", "always" or "never". */
int cbd_set_file_offload(const char *mode);	/* 0 or -errno */
int cbd_get_file_offload(char *buf, size_t len);	/* 0 or -errno */
int cbd_sysfs_block_count(void);	/* /sys/block/cbd*, spares not */
/* Spare disks (state "idle"): their indexes, lowest first; count or -errno. */
int cbd_spare_indexes(uint32_t *out, int max);
/* Module parameter spare_devices: set it (0 or -errno), read it (>= 0). */
int cbd_set_spare_devices(unsigned int n);
int cbd_get_spare_devices(void);
/* Wait up to @ms until there are @n spares: 0 or -ETIMEDOUT. */
int cbd_wait_spares(int n, int timeout_ms);
/*
 * @n add/remove cycles of 4 MiB devices over the file @path with index ANY,
 * on a netlink handle of their own (for forked children): how many went
 * wrong (add, remove, or the device's volume id in the reply or sysfs).
 */
int cbd_add_remove_cycles(const char *path, int n);
/* /sys/block/cbdN/cinderblk/@name without the newline; 0 or -errno. */
int cbd_sysfs_read(uint32_t index, const char *name, char *buf, size_t len);

/* Capacity of an open block device, or 0 on error. */
uint64_t cbd_bdev_size(int fd);

/* Data patterns unique per byte offset and seed. */
void cbd_fill(void *buf, size_t len, uint64_t offset, uint64_t seed);
bool cbd_check(const void *buf, size_t len, uint64_t offset, uint64_t seed);
bool cbd_is_zero(const void *buf, size_t len);
void *cbd_alloc(size_t len);		/* 4 KiB aligned, for O_DIRECT */
/* Write @len bytes of pattern @seed at @off through @fd: 0 or -1. */
int cbd_write_pattern(int fd, size_t len, off_t off, uint64_t seed);
/* Does @fd hold, at @off, pattern @seed as written at @pattern_off? */
bool cbd_has_pattern_at(int fd, size_t len, off_t off, uint64_t pattern_off,
			uint64_t seed);
/* ... as written at @off itself? */
bool cbd_has_pattern(int fd, size_t len, off_t off, uint64_t seed);
bool cbd_has_zeros(int fd, size_t len, off_t off);

/* Raw generic netlink, for requests libcinderlib would never build. */
struct cbd_msg {
	size_t len;
	_Alignas(8) unsigned char buf[4096];
};
int cbd_family_id(void);		/* >0, or -errno */
void cbd_msg_init(struct cbd_msg *m, uint8_t cmd, uint16_t flags);
void cbd_msg_put(struct cbd_msg *m, uint16_t type, const void *data, size_t len);
void cbd_msg_put_u32(struct cbd_msg *m, uint16_t type, uint32_t v);
void cbd_msg_put_u64(struct cbd_msg *m, uint16_t type, uint64_t v);
/* Nested attributes: start returns the offset to hand to end. */
size_t cbd_msg_nest_start(struct cbd_msg *m, uint16_t type);
void cbd_msg_nest_end(struct cbd_msg *m, size_t start);
/* Send and wait for the ack: 0 or the kernel's -errno. */
int cbd_msg_send(struct cbd_msg *m);

/*
 * Remap backing: raw lower devices. /dev/ramN of brd loaded with
 * CBD_BRD_COUNT devices of CBD_BRD_SIZE (not together with
 * cbd_scratch_dir(), which loads brd its own way). NULL on failure.
 */
#define CBD_BRD_COUNT		2
#define CBD_BRD_SIZE		(128 * CBD_MIB)
const char *cbd_brd(int n);
/* Add a remap device over the open block device @lower_fd (kept in
 * d->backing_fd, closed by cbd_dev_cleanup()). @ext NULL: the kernel's
 * one-extent default. 0 or -errno. */
int cbd_add_remap(struct cbd_dev *d, int lower_fd, uint64_t size,
		  const struct cl_extent *ext, size_t nr, uint32_t flags);
/* Can @path be opened exclusively (O_EXCL on a block device) now? */
bool cbd_bdev_free(const char *path);

/* Run a shell command; its exit status, or -1. */
int cbd_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Drop CAP_SYS_ADMIN from every capability set of this process. */
int cbd_drop_sys_admin(void);
/* Monotonic milliseconds. */
int64_t cbd_now_ms(void);

#endif /* CBD_HELPERS_H */
