/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cinderblk: definitions shared by the files of the module.
 */
#ifndef _CINDERBLK_INTERNAL_H
#define _CINDERBLK_INTERNAL_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/cinderblk.h>

#include "compat.h"

#define CBD_MINORS		16	/* per disk: the disk and 15 partitions */
#define CBD_MAX_DEVICES		(1U << (MINORBITS - 4))
#define CBD_MAX_QUEUE_DEPTH	4096U
#define CBD_MAX_HW_QUEUES	64U
#define CBD_MAX_IO_TIMEOUT_MS	(3600U * 1000U)
/*
 * cinderblk devices a device may sit on (a file on a file system on a cbd
 * disk, or a remap of one): the file backing runs the lower file system
 * on the submitter's stack, one more level for each.
 */
#define CBD_MAX_STACK_DEPTH	2
#define CBD_MAX_HW_SECTORS	2560U	/* 1.25 MiB per request */
#define CBD_MAX_EXTENTS		65536U	/* ceiling of max_extents */
#define CBD_MAX_SPARES		16U	/* ceiling of spare_devices */

/* Module parameters (main.c). */
extern unsigned int cbd_max_devices;
extern unsigned int cbd_queue_depth;
extern unsigned int cbd_io_timeout_ms;
extern unsigned int cbd_max_extents;

enum cbd_offload_mode {
	CBD_OFFLOAD_NEVER,
	CBD_OFFLOAD_AUTO,
	CBD_OFFLOAD_ALWAYS,
};

extern enum cbd_offload_mode cbd_file_offload;

/* Work items of the data path: flush, discard, write zeroes (main.c). */
extern struct workqueue_struct *cbd_wq;
/* Per-CPU workers that file backings share requests with (main.c). */
extern struct workqueue_struct *cbd_offload_wq;

struct cbd_device;
struct cbd_backing;
struct cbd_dev_info;

/* One extent of a remap table as userspace gives it, in bytes. */
struct cbd_extent {
	u64 start;		/* in the cbd device */
	u64 length;
	u64 lower_offset;	/* in the lower block device */
};

/* What userspace asks for a backing (add, reconfigure). */
struct cbd_backing_params {
	u32 type;		/* enum cinderblk_backing_type */
	int fd;
	/* remap: the table (any order), NULL: [0, size) at lower offset 0 */
	const struct cbd_extent *extents;
	u32 nr_extents;
	/* nbd: negotiated sockets and what the handshake said */
	int socket_fds[CINDERBLK_NBD_MAX_CONNECTIONS];
	u32 nr_socket_fds;
	u32 nbd_flags;
	u32 nbd_max_payload;		/* 0: 32 MiB */
	u32 dead_timeout_ms;		/* 0: 60 s */
	char nbd_uri[CINDERBLK_NBD_URI_MAX];	/* "" when not given */
	bool nbd_replace;		/* reconfigure: replace every socket */
};

/*
 * A backing: where the I/O of a device goes. Each kind lives in its own file
 * (backing_file.c, backing_remap.c, ...) and provides these operations.
 * A backing has either queue_rq (the disk is blk-mq: requests) or
 * submit_bio (the disk is bio-based: bios, remapped and passed on).
 */
struct cbd_backing_ops {
	const char *name;
	/* Bytes of per-request data the backing needs (cbd_cmd_priv()). */
	unsigned int cmd_size;
	/*
	 * Start one request (already started with blk_mq_start_request());
	 * may sleep. The backing ends it with cbd_end_request(), now or later.
	 * Returns BLK_STS_OK once it owns the request, else an error status
	 * (the core ends the request then).
	 */
	blk_status_t (*queue_rq)(struct cbd_backing *b, struct request *rq);
	/*
	 * Take one bio of a bio-based disk (submitter's context, must not
	 * sleep for long). Each piece sent down is bracketed by
	 * cbd_bio_start() and cbd_bio_done(); the backing ends @bio.
	 */
	void (*submit_bio)(struct cbd_backing *b, struct cbd_device *cbd,
			   struct bio *bio);
	/* Make written data durable (suspend). */
	int (*flush)(struct cbd_backing *b);
	/* Describe the backing for sysfs ("backing"); no sleeping. */
	int (*describe)(struct cbd_backing *b, char *buf, size_t len);
	/* The block device the backing's I/O ends on, if any (cycles). */
	struct block_device *(*lower_bdev)(struct cbd_backing *b);
	/* Drop every reference the backing holds; no I/O is in flight. */
	void (*release)(struct cbd_backing *b);
	/*
	 * A blk-mq request outlived io_timeout_ms (the timeouts counter has
	 * counted it). NULL: I/O below cannot be cancelled (ending it early
	 * would free pages the lower layer still uses), so the request is
	 * reported and waited for. A backing that can fail or requeue it
	 * (a network one) decides here.
	 */
	enum blk_eh_timer_return (*timeout)(struct cbd_backing *b,
					    struct request *rq);
	/*
	 * A dispatch ended without its last request (blk-mq's commit_rqs):
	 * what a backing held back for more must go out now.
	 */
	void (*commit)(struct cbd_backing *b);
	/* Set up the backing's part of a request, once per tag set. */
	void (*init_cmd)(struct cbd_backing *b, struct request *rq);
	/* The backing's own figures for replies and events; no sleeping. */
	void (*fill_info)(struct cbd_backing *b, struct cbd_dev_info *info);
	/* The disk is added: I/O may come from now on. */
	void (*start)(struct cbd_backing *b);
	/* Forced removal is coming: fail what waits instead of waiting. */
	void (*kill)(struct cbd_backing *b);
	/*
	 * RECONFIGURE with the same kind of backing on a live device: take
	 * the new connections in (nbd) instead of swapping the backing.
	 */
	int (*reconnect)(struct cbd_backing *b,
			 const struct cbd_backing_params *bp,
			 struct netlink_ext_ack *extack);
};

struct cbd_backing {
	const struct cbd_backing_ops *ops;
	u32 type;			/* enum cinderblk_backing_type */
	/* What the backing can do; the device advertises what it also wants. */
	bool can_discard;
	bool can_write_zeroes;
	unsigned int discard_granularity;
	unsigned int dio_mem_align;	/* direct I/O alignment of memory */
	unsigned int dio_offset_align;	/* ... and of offsets and lengths */
	u64 max_size;			/* 0: can grow (a file) */
	/* The device's size is the backing's (max_size): remap tables. */
	bool fixed_size;
	/* Limits taken from below; 0 (false) for the core's defaults. */
	bool stacked;
	bool write_cache;		/* stacked: the lower device caches */
	bool fua;			/* stacked: ... and does FUA */
	unsigned int lower_block_size;	/* stacked: smallest block below */
	unsigned int max_hw_sectors;
	unsigned int dma_alignment;	/* a mask */
	unsigned int max_discard_sectors;
	unsigned int max_write_zeroes_sectors;
};

/* Per-request data: the core's part, then the backing's (cmd_size). */
struct cbd_cmd {
	struct cbd_device *cbd;
	blk_status_t status;
	/* queue_rq: the last request of this dispatch (else more follow). */
	bool last;
};

static inline void *cbd_cmd_priv(struct cbd_cmd *cmd)
{
	return cmd + 1;
}

static inline struct request *cbd_priv_to_rq(void *priv)
{
	return blk_mq_rq_from_pdu((struct cbd_cmd *)priv - 1);
}

/* Statistics, per CPU so that the data path never shares a cache line. */
struct cbd_stats {
	u64 read_ios;
	u64 read_bytes;
	u64 write_ios;
	u64 write_bytes;
	u64 flush_ios;
	u64 discard_ios;
	u64 write_zeroes_ios;
	u64 errors;
	s64 inflight;
	u64 timeouts;		/* in reports only: cbd_device.timeouts */
	/* In reports only, from the backing (nbd). */
	u64 link_downs;
	u64 reconnects;
	u64 requeues;
};

struct cbd_device {
	int index;
	u64 serial;			/* which add made it: never reused */
	char volume_id[CINDERBLK_VOLUME_ID_LEN + 1];
	u32 want_flags;			/* asked for, enum cinderblk_dev_flags */
	u32 flags;			/* in effect (backing permitting) */
	u32 logical_block_size;
	u32 physical_block_size;
	u32 nr_hw_queues;
	u32 queue_depth;
	u32 io_timeout_ms;
	u64 size;

	/* state, open_count and the backing pointer, for readers. */
	spinlock_t lock;
	u32 state;			/* enum cinderblk_dev_state */
	unsigned int open_count;
	struct cbd_backing *backing;	/* changes only while frozen */

	bool fs_frozen;
	unsigned int freeze_memflags;
	atomic_t timeouts;

	/* Bio-based disk (no tag set): in-flight bios are waited for here. */
	bool bio_based;
	bool draining;
	wait_queue_head_t drain_wq;

	struct cbd_stats __percpu *stats;
	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	/* Reads the partition table once the device is added (device.c). */
	struct work_struct part_scan_work;

	/* An idle disk made ahead of time, not a device yet (spare.c). */
	bool spare;
	struct list_head spare_node;	/* in the pool while idle */
};

/* A snapshot of a device, for replies and events. */
struct cbd_dev_info {
	u32 index;
	u64 serial;
	u64 size;
	u32 logical_block_size;
	u32 physical_block_size;
	u32 flags;
	u32 backing_type;
	u32 nr_hw_queues;
	u32 queue_depth;
	u32 io_timeout_ms;
	u32 state;
	u32 open_count;
	/* nbd: connection slots, those connected, the dead timeout */
	u32 connections;
	u32 live_connections;
	u32 dead_timeout_ms;
	char nbd_uri[CINDERBLK_NBD_URI_MAX];
	char volume_id[CINDERBLK_VOLUME_ID_LEN + 1];
	char disk_name[DISK_NAME_LEN];
	struct cbd_stats stats;
};

/* Everything DEV_ADD takes, from netlink or ioctl. */
struct cbd_add_params {
	u32 index;			/* CINDERBLK_INDEX_ANY: first free */
	u64 size;
	u32 logical_block_size;		/* 0: 512 */
	u32 physical_block_size;	/* 0: logical */
	u32 flags;
	u32 nr_hw_queues;		/* 0: default */
	u32 queue_depth;		/* 0: module parameter */
	u32 io_timeout_ms;		/* 0: module parameter */
	char volume_id[CINDERBLK_VOLUME_ID_LEN + 1];
	struct cbd_backing_params backing;
};

/* Serializes the registry of devices and every control operation. */
extern struct mutex cbd_mutex;

/* device.c: the operations, shared by netlink and ioctl. */
int cbd_dev_add(struct cbd_add_params *p, struct cbd_dev_info *info,
		struct netlink_ext_ack *extack);
int cbd_dev_remove(u32 index, bool force, struct netlink_ext_ack *extack);
void cbd_dev_remove_added(const struct cbd_dev_info *info);
int cbd_dev_get(u32 index, struct cbd_dev_info *info);
int cbd_dev_get_next(u32 *index, struct cbd_dev_info *info);
int cbd_dev_resize(u32 index, u64 size, struct netlink_ext_ack *extack);
int cbd_dev_suspend(u32 index, bool freeze, struct netlink_ext_ack *extack);
int cbd_dev_resume(u32 index, struct netlink_ext_ack *extack);
int cbd_dev_reconfigure(u32 index, const struct cbd_backing_params *bp,
			struct netlink_ext_ack *extack);
void cbd_dev_remove_all(void);
void cbd_dev_fill_info(struct cbd_device *cbd, struct cbd_dev_info *info);
int cbd_check_block_size(u32 bs);
int cbd_check_volume_id(const char *id, size_t len);
int cbd_device_init(void);
void cbd_device_exit(void);
unsigned int cbd_live_devices(void);
/*
 * Files and block devices that backings hold now: one per file backing
 * (its file), one per remap backing (its lower device). The read-only
 * live_backing_refs parameter, for leak checks.
 */
extern atomic_t cbd_backing_refs;
unsigned int cbd_default_hw_queues(void);
struct cbd_device *cbd_spare_reserve(void);
void cbd_spare_unreserve(struct cbd_device *cbd);
int cbd_spare_build(struct cbd_device *cbd);
void cbd_spare_destroy(struct cbd_device *cbd);
extern const struct block_device_operations cbd_fops;

/* spare.c: the pool of spare disks; take and evict under cbd_mutex. */
struct cbd_device *cbd_spare_take(const struct cbd_add_params *p);
int cbd_spare_make_room(u32 index);
void cbd_spares_poke(void);
void cbd_spares_start(void);
void cbd_spares_stop(void);
extern const struct kernel_param_ops cbd_spare_devices_ops;

/* Data path helpers of the core (device.c). */
int cbd_other_cpu(void);
void cbd_end_request(struct request *rq, blk_status_t status);
/* A connection of the backing went (@up false) or came; state, event. */
void cbd_link_changed(struct cbd_device *cbd, bool up, bool all_down);
bool cbd_is_cbd_disk(struct gendisk *disk);

/* One piece of a bio goes down (bio-based disks); stats and draining. */
static inline void cbd_bio_start(struct cbd_device *cbd)
{
	this_cpu_inc(cbd->stats->inflight);
}

void cbd_bio_done(struct cbd_device *cbd, enum req_op op, unsigned int bytes,
		  blk_status_t status);

/* sysfs.c */
extern const struct attribute_group *cbd_disk_groups[];

/* backing_file.c */
extern const unsigned int cbd_file_cmd_size;
int cbd_file_backing_create(const struct cbd_backing_params *bp,
			    bool read_only, struct cbd_backing **out,
			    struct netlink_ext_ack *extack);

/* backing_remap.c */
int cbd_remap_backing_create(const struct cbd_backing_params *bp,
			     bool read_only, u32 logical_block_size, u64 size,
			     void *holder, struct cbd_backing **out,
			     struct netlink_ext_ack *extack);

/* backing_nbd.c */
int cbd_nbd_backing_create(const struct cbd_backing_params *bp,
			   bool read_only, u32 logical_block_size,
			   struct cbd_device *cbd, struct cbd_backing **out,
			   struct netlink_ext_ack *extack);

/* genl.c */
int cbd_genl_init(void);
void cbd_genl_exit(void);
void cbd_genl_event(u8 cmd, const struct cbd_dev_info *info);

/* control.c */
int cbd_control_init(void);
void cbd_control_exit(void);
int cbd_bdev_ioctl_info(struct cbd_device *cbd, void __user *arg);

#endif /* _CINDERBLK_INTERNAL_H */
