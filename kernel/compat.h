/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cinderblk: the kernel API differences the module meets, each behind one
 * small helper. The module is built and tested on 6.1; the newer branches
 * follow the upstream changes so that it keeps compiling there.
 */
#ifndef _CINDERBLK_COMPAT_H
#define _CINDERBLK_COMPAT_H

#include <linux/version.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/fs.h>
#include <net/genetlink.h>

/* The one place that compares kernel versions. */
#define CBD_KERNEL_AT_LEAST(major, minor) \
	(KERNEL_VERSION(major, minor, 0) <= LINUX_VERSION_CODE)

/* Queue limits and features wanted for a disk, whatever the kernel's API. */
struct cbd_limits {
	unsigned int logical_block_size;
	unsigned int physical_block_size;
	unsigned int max_hw_sectors;
	unsigned int dma_alignment;		/* a mask, like the kernel's */
	unsigned int max_discard_sectors;	/* 0: no discard */
	unsigned int discard_granularity;
	unsigned int max_write_zeroes_sectors;	/* 0: no write zeroes */
	bool write_cache;
	bool fua;
	bool rotational;
};

/*
 * Multicast group permission flags (6.7, backported to some 6.1 kernels):
 * where they exist, listening to the group needs CAP_SYS_ADMIN.
 */
#ifdef GENL_MCAST_CAP_SYS_ADMIN
#define CBD_MCGRP(_name)	{ .name = (_name), .flags = GENL_MCAST_CAP_SYS_ADMIN }
#else
#define CBD_MCGRP(_name)	{ .name = (_name) }
#endif

/* BLK_MQ_F_SHOULD_MERGE went away in 6.14: merging is the default. */
#if CBD_KERNEL_AT_LEAST(6, 14)
#define CBD_MQ_F_MERGE		0
#else
#define CBD_MQ_F_MERGE		BLK_MQ_F_SHOULD_MERGE
#endif

/* block_device_operations open/release/ioctl changed their mode in 6.5. */
#if CBD_KERNEL_AT_LEAST(6, 5)
#define cbd_open_mode_t		blk_mode_t
#define CBD_OPEN_ARGS		struct gendisk *disk, blk_mode_t mode
#define CBD_OPEN_DISK		disk
#define CBD_RELEASE_ARGS	struct gendisk *disk
#else
#define cbd_open_mode_t		fmode_t
#define CBD_OPEN_ARGS		struct block_device *bdev, fmode_t mode
#define CBD_OPEN_DISK		(bdev->bd_disk)
#define CBD_RELEASE_ARGS	struct gendisk *disk, fmode_t mode
#endif

/* Can this open file do direct I/O (kiocbs with IOCB_DIRECT)? */
static inline bool cbd_file_can_direct_io(struct file *file)
{
#if defined(FOP_DIRECT_IO)
	return file->f_op->fop_flags & FOP_DIRECT_IO;
#elif defined(FMODE_CAN_ODIRECT)
	return file->f_mode & FMODE_CAN_ODIRECT;
#else
	return file->f_mapping->a_ops && file->f_mapping->a_ops->direct_IO;
#endif
}

/* The block device behind an opened block device file. */
static inline struct block_device *cbd_file_bdev(struct file *file)
{
#if CBD_KERNEL_AT_LEAST(6, 8)
	return file_bdev(file);
#else
	return I_BDEV(file->f_mapping->host);
#endif
}

/* Freeze/thaw the filesystem on a disk: renamed in 6.8. */
static inline int cbd_freeze_bdev(struct block_device *bdev)
{
#if CBD_KERNEL_AT_LEAST(6, 8)
	return bdev_freeze(bdev);
#else
	return freeze_bdev(bdev);
#endif
}

static inline int cbd_thaw_bdev(struct block_device *bdev)
{
#if CBD_KERNEL_AT_LEAST(6, 8)
	return bdev_thaw(bdev);
#else
	return thaw_bdev(bdev);
#endif
}

/* Queue freeze returns memalloc flags to hand back since 6.14. */
static inline unsigned int cbd_freeze_queue(struct request_queue *q)
{
#if CBD_KERNEL_AT_LEAST(6, 14)
	return blk_mq_freeze_queue(q);
#else
	blk_mq_freeze_queue(q);
	return 0;
#endif
}

static inline void cbd_unfreeze_queue(struct request_queue *q,
				      unsigned int memflags)
{
#if CBD_KERNEL_AT_LEAST(6, 14)
	blk_mq_unfreeze_queue(q, memflags);
#else
	blk_mq_unfreeze_queue(q);
#endif
}

#if CBD_KERNEL_AT_LEAST(6, 9)
static inline void cbd_fill_queue_limits(struct queue_limits *lim,
					 const struct cbd_limits *l)
{
	lim->logical_block_size = l->logical_block_size;
	lim->physical_block_size = l->physical_block_size;
	lim->max_hw_sectors = l->max_hw_sectors;
	lim->dma_alignment = l->dma_alignment;
	lim->max_hw_discard_sectors = l->max_discard_sectors;
	lim->discard_granularity = l->discard_granularity;
	lim->max_write_zeroes_sectors = l->max_write_zeroes_sectors;
#if CBD_KERNEL_AT_LEAST(6, 11)
	lim->features &= ~(BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA |
			   BLK_FEAT_ROTATIONAL);
	if (l->write_cache)
		lim->features |= BLK_FEAT_WRITE_CACHE;
	if (l->fua)
		lim->features |= BLK_FEAT_FUA;
	if (l->rotational)
		lim->features |= BLK_FEAT_ROTATIONAL;
#endif
}
#else
static inline void cbd_set_queue_limits(struct request_queue *q,
					const struct cbd_limits *l)
{
	blk_queue_logical_block_size(q, l->logical_block_size);
	blk_queue_physical_block_size(q, l->physical_block_size);
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_dma_alignment(q, l->dma_alignment);
	blk_queue_max_discard_sectors(q, l->max_discard_sectors);
	q->limits.discard_granularity = l->discard_granularity;
	blk_queue_max_write_zeroes_sectors(q, l->max_write_zeroes_sectors);
	if (l->rotational)
		blk_queue_flag_clear(QUEUE_FLAG_NONROT, q);
	else
		blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
}
#endif

/* Write cache and FUA: queue features since 6.11, a setter before. */
static inline void cbd_set_write_cache(struct request_queue *q,
				       const struct cbd_limits *l)
{
#if !CBD_KERNEL_AT_LEAST(6, 11)
	blk_queue_write_cache(q, l->write_cache, l->fua);
#endif
}

/* Allocate a blk-mq disk with its limits: limits move into the call in 6.9. */
static inline struct gendisk *cbd_alloc_disk(struct blk_mq_tag_set *set,
					     const struct cbd_limits *l,
					     void *queuedata)
{
	struct gendisk *disk;

#if CBD_KERNEL_AT_LEAST(6, 9)
	struct queue_limits lim = { };

	cbd_fill_queue_limits(&lim, l);
	disk = blk_mq_alloc_disk(set, &lim, queuedata);
	if (IS_ERR(disk))
		return disk;
#else
	disk = blk_mq_alloc_disk(set, queuedata);
	if (IS_ERR(disk))
		return disk;
	cbd_set_queue_limits(disk->queue, l);
#endif
	cbd_set_write_cache(disk->queue, l);
	return disk;
}

/* Allocate a bio-based disk (->submit_bio) with its limits. */
static inline struct gendisk *cbd_alloc_bio_disk(const struct cbd_limits *l)
{
	struct gendisk *disk;

#if CBD_KERNEL_AT_LEAST(6, 9)
	struct queue_limits lim = { };

	cbd_fill_queue_limits(&lim, l);
	disk = blk_alloc_disk(&lim, NUMA_NO_NODE);
	if (IS_ERR(disk))
		return disk;
#else
	disk = blk_alloc_disk(NUMA_NO_NODE);
	if (!disk)
		return ERR_PTR(-ENOMEM);
	cbd_set_queue_limits(disk->queue, l);
#endif
	cbd_set_write_cache(disk->queue, l);
	return disk;
}

/*
 * Change the limits of a live disk: the caller has frozen its queue, or
 * nobody can open the disk (a spare being configured).
 */
static inline int cbd_update_limits(struct gendisk *disk,
				    const struct cbd_limits *l)
{
#if CBD_KERNEL_AT_LEAST(6, 9)
	struct queue_limits lim = queue_limits_start_update(disk->queue);
	int ret;

	cbd_fill_queue_limits(&lim, l);
	ret = queue_limits_commit_update(disk->queue, &lim);
	if (ret)
		return ret;
#else
	cbd_set_queue_limits(disk->queue, l);
#endif
	cbd_set_write_cache(disk->queue, l);
	return 0;
}

/*
 * Keep device_add_disk() from scanning partitions: a state bit up to 6.9,
 * the GENHD_FL_NO_PART flag since (GD_SUPPRESS_PART_SCAN went away).
 */
static inline void cbd_suppress_part_scan(struct gendisk *disk, bool suppress)
{
#ifdef GD_SUPPRESS_PART_SCAN
	if (suppress)
		set_bit(GD_SUPPRESS_PART_SCAN, &disk->state);
	else
		clear_bit(GD_SUPPRESS_PART_SCAN, &disk->state);
#else
	if (suppress)
		disk->flags |= GENHD_FL_NO_PART;
	else
		disk->flags &= ~GENHD_FL_NO_PART;
#endif
}

/* Does the queue of @bdev have a volatile write cache / FUA? */
static inline bool cbd_bdev_write_cache(struct block_device *bdev)
{
#if CBD_KERNEL_AT_LEAST(6, 11)
	return bdev_get_queue(bdev)->limits.features & BLK_FEAT_WRITE_CACHE;
#else
	return test_bit(QUEUE_FLAG_WC, &bdev_get_queue(bdev)->queue_flags);
#endif
}

static inline bool cbd_bdev_fua(struct block_device *bdev)
{
#if CBD_KERNEL_AT_LEAST(6, 11)
	return bdev_get_queue(bdev)->limits.features & BLK_FEAT_FUA;
#else
	return test_bit(QUEUE_FLAG_FUA, &bdev_get_queue(bdev)->queue_flags);
#endif
}

/* I/O statistics of a bio-based disk: the sectors moved to the end in 6.3. */
static inline unsigned long cbd_start_io_acct(struct block_device *bdev,
					      unsigned int sectors,
					      enum req_op op)
{
#if CBD_KERNEL_AT_LEAST(6, 3)
	return bdev_start_io_acct(bdev, op, jiffies);
#else
	return bdev_start_io_acct(bdev, sectors, op, jiffies);
#endif
}

static inline void cbd_end_io_acct(struct block_device *bdev, enum req_op op,
				   unsigned int sectors, unsigned long start)
{
#if CBD_KERNEL_AT_LEAST(6, 3)
	bdev_end_io_acct(bdev, op, sectors, start);
#else
	bdev_end_io_acct(bdev, op, start);
#endif
}

/*
 * A block device held open exclusively by the module (remap's lower
 * device), opened by number from a descriptor userspace handed in: the
 * API went from blkdev_get_by_dev() to handles (6.7) to files (6.9).
 */
struct cbd_bdev_hold {
	struct block_device *bdev;
#if CBD_KERNEL_AT_LEAST(6, 9)
	struct file *file;
#elif CBD_KERNEL_AT_LEAST(6, 7)
	struct bdev_handle *handle;
#elif CBD_KERNEL_AT_LEAST(6, 5)
	void *holder;
#else
	fmode_t mode;
#endif
};

static inline int cbd_bdev_hold_open(struct cbd_bdev_hold *h, dev_t dev,
				     bool write, void *holder)
{
#if CBD_KERNEL_AT_LEAST(6, 5)
	blk_mode_t mode = BLK_OPEN_READ | (write ? BLK_OPEN_WRITE : 0);
#endif
#if CBD_KERNEL_AT_LEAST(6, 9)
	struct file *file = bdev_file_open_by_dev(dev, mode, holder, NULL);

	if (IS_ERR(file))
		return PTR_ERR(file);
	h->file = file;
	h->bdev = file_bdev(file);
#elif CBD_KERNEL_AT_LEAST(6, 7)
	struct bdev_handle *handle = bdev_open_by_dev(dev, mode, holder, NULL);

	if (IS_ERR(handle))
		return PTR_ERR(handle);
	h->handle = handle;
	h->bdev = handle->bdev;
#elif CBD_KERNEL_AT_LEAST(6, 5)
	struct block_device *bdev = blkdev_get_by_dev(dev, mode, holder, NULL);

	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	h->holder = holder;
	h->bdev = bdev;
#else
	fmode_t mode = FMODE_READ | FMODE_EXCL | (write ? FMODE_WRITE : 0);
	struct block_device *bdev = blkdev_get_by_dev(dev, mode, holder);

	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	h->mode = mode;
	h->bdev = bdev;
#endif
	return 0;
}

/* Give the device back; the exclusive claim ends before this returns. */
static inline void cbd_bdev_hold_close(struct cbd_bdev_hold *h)
{
#if CBD_KERNEL_AT_LEAST(6, 10)
	bdev_fput(h->file);
#elif CBD_KERNEL_AT_LEAST(6, 9)
	fput(h->file);
#elif CBD_KERNEL_AT_LEAST(6, 7)
	bdev_release(h->handle);
#elif CBD_KERNEL_AT_LEAST(6, 5)
	blkdev_put(h->bdev, h->holder);
#else
	blkdev_put(h->bdev, h->mode);
#endif
	h->bdev = NULL;
}

#endif /* _CINDERBLK_COMPAT_H */
