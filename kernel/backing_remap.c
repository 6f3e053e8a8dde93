// SPDX-License-Identifier: GPL-2.0
/*
 * cinderblk: the "remap" backing. The device is a table of extents on one
 * lower block device (an LVM logical volume is one extent). Every bio is
 * cloned onto the lower device at its mapped sector and submitted there:
 * the clone shares the bio's pages, so no data is copied and no thread sits
 * in between. A bio that crosses an extent boundary is sent down one extent
 * at a time: the clone takes the first piece, the bio is advanced past it
 * and submitted again (it ends when its last piece does).
 *
 * The disk is bio-based (->submit_bio), not blk-mq: a request queue, tags
 * and a per-request hop would only add cost in front of the lower device's
 * own queue. This is how dm-linear works, and what lets the device keep up
 * with it.
 *
 * The lower device is opened by number, exclusively, for the life of the
 * backing: nobody can mount it or hand it to another exclusive user
 * meanwhile, and a device that is already held that way is refused.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "cinderblk.h"

/* One extent, in 512-byte sectors. */
struct cbd_remap_extent {
	sector_t start;		/* in the cbd device */
	sector_t len;
	sector_t lower;		/* in the lower device */
};

struct cbd_remap_backing {
	struct cbd_backing base;
	struct cbd_bdev_hold hold;
	/* Clones: struct cbd_remap_io in front of each (front_pad). */
	struct bio_set bs;
	unsigned int nr;
	struct cbd_remap_extent ext[];	/* sorted by start, contiguous */
};

/* One piece of a bio on its way down: the clone and what it ends. */
struct cbd_remap_io {
	struct cbd_device *cbd;
	struct bio *orig;
	struct block_device *part;	/* the cbd disk or partition, for stats */
	unsigned long start_time;
	unsigned int bytes;
	enum req_op op;
	struct bio clone;		/* last: allocated by the bio_set */
};

static inline struct cbd_remap_backing *to_rb(struct cbd_backing *b)
{
	return container_of(b, struct cbd_remap_backing, base);
}

/* The extent holding @sector, or NULL past the end of the table. */
static const struct cbd_remap_extent *
cbd_remap_find(const struct cbd_remap_backing *rb, sector_t sector)
{
	unsigned int lo = 0, hi = rb->nr, mid;
	const struct cbd_remap_extent *e;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (rb->ext[mid].start <= sector)
			lo = mid;
		else
			hi = mid;
	}
	e = &rb->ext[lo];
	return sector - e->start < e->len ? e : NULL;
}

static void cbd_remap_endio(struct bio *clone)
{
	struct cbd_remap_io *io = container_of(clone, struct cbd_remap_io,
					       clone);
	blk_status_t status = clone->bi_status;
	unsigned long start_time = io->start_time;
	struct block_device *part = io->part;
	struct cbd_device *cbd = io->cbd;
	unsigned int bytes = io->bytes;
	struct bio *orig = io->orig;
	enum req_op op = io->op;

	/*
	 * The clone goes back to the backing's pool before the piece stops
	 * counting as in flight: a teardown waiting for that frees the pool.
	 */
	bio_put(clone);
	/* Any failed piece fails the bio. */
	if (unlikely(status))
		orig->bi_status = status;
	cbd_end_io_acct(part, op, bytes >> SECTOR_SHIFT, start_time);
	cbd_bio_done(cbd, op, bytes, status);
	bio_endio(orig);
}

static void cbd_remap_submit_bio(struct cbd_backing *b, struct cbd_device *cbd,
				 struct bio *bio)
{
	struct cbd_remap_backing *rb = to_rb(b);
	unsigned int bytes = bio->bi_iter.bi_size;
	sector_t sector = bio->bi_iter.bi_sector;
	const struct cbd_remap_extent *e;
	struct cbd_remap_io *io;
	struct bio *clone;
	sector_t lower = 0;
	bool more = false;

	switch (bio_op(bio)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
	case REQ_OP_FLUSH:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		break;
	default:
		bio->bi_status = BLK_STS_NOTSUPP;
		bio_endio(bio);
		return;
	}
	if (bytes) {
		e = cbd_remap_find(rb, sector);
		if (unlikely(!e)) {
			/* Only a bio held across a shrinking reconfigure. */
			this_cpu_inc(cbd->stats->errors);
			bio_io_error(bio);
			return;
		}
		lower = e->lower + (sector - e->start);
		if (bio_sectors(bio) > e->start + e->len - sector) {
			bytes = (e->start + e->len - sector) << SECTOR_SHIFT;
			more = true;
		}
	}

	/* From a mempool: with GFP_NOIO this waits, it does not fail. */
	clone = bio_alloc_clone(rb->hold.bdev, bio, GFP_NOIO, &rb->bs);
	if (unlikely(!clone)) {
		bio_io_error(bio);
		return;
	}
	io = container_of(clone, struct cbd_remap_io, clone);
	io->cbd = cbd;
	io->orig = bio;
	io->part = bio->bi_bdev;
	io->bytes = bytes;
	io->op = bio_op(bio);
	clone->bi_iter.bi_sector = lower;
	clone->bi_iter.bi_size = bytes;
	clone->bi_end_io = cbd_remap_endio;

	cbd_bio_start(cbd);
	io->start_time = cbd_start_io_acct(io->part, bytes >> SECTOR_SHIFT,
					   io->op);
	if (more) {
		/*
		 * The rest goes round again. The flush before the data was
		 * the first piece's job; FUA stays on every piece.
		 */
		bio_inc_remaining(bio);
		bio_advance(bio, bytes);
		bio->bi_opf &= ~REQ_PREFLUSH;
	}
	/* Inside submit_bio: both are queued and run after we return. */
	submit_bio_noacct(clone);
	if (more)
		submit_bio_noacct(bio);
}

static int cbd_remap_flush(struct cbd_backing *b)
{
	return blkdev_issue_flush(to_rb(b)->hold.bdev);
}

/* "/dev/NAME"; no sleeping (called under the device's spinlock). */
static int cbd_remap_describe(struct cbd_backing *b, char *buf, size_t len)
{
	return scnprintf(buf, len, "/dev/%pg", to_rb(b)->hold.bdev);
}

static struct block_device *cbd_remap_lower_bdev(struct cbd_backing *b)
{
	return to_rb(b)->hold.bdev;
}

static void cbd_remap_release(struct cbd_backing *b)
{
	struct cbd_remap_backing *rb = to_rb(b);

	bioset_exit(&rb->bs);
	cbd_bdev_hold_close(&rb->hold);
	atomic_dec(&cbd_backing_refs);
	kvfree(rb);
}

static const struct cbd_backing_ops cbd_remap_ops = {
	.name		= "remap",
	.submit_bio	= cbd_remap_submit_bio,
	.flush		= cbd_remap_flush,
	.describe	= cbd_remap_describe,
	.lower_bdev	= cbd_remap_lower_bdev,
	.release	= cbd_remap_release,
};

static int cbd_extent_cmp(const void *a, const void *b)
{
	const struct cbd_extent *x = a, *y = b;

	if (x->start < y->start)
		return -1;
	return x->start > y->start;
}

/*
 * Check @ext (sorted by start) against the device and the lower device:
 * every extent non-empty and block aligned, the extents back to back from
 * 0 with neither gap nor overlap, ending at @size (0: anywhere), each
 * inside the lower device.
 */
static int cbd_remap_check(const struct cbd_extent *ext, u32 nr, u32 lbs,
			   u64 size, u64 lower_size,
			   struct netlink_ext_ack *extack)
{
	u64 end = 0, lower_end;
	u32 i;

	for (i = 0; i < nr; i++) {
		const struct cbd_extent *x = &ext[i];

		if (!x->length) {
			NL_SET_ERR_MSG(extack, "extent of length 0");
			return -EINVAL;
		}
		if ((x->start | x->length | x->lower_offset) & (lbs - 1)) {
			NL_SET_ERR_MSG(extack,
				       "extent start, length and lower offset must be multiples of the logical block size");
			return -EINVAL;
		}
		if (x->start < end) {
			NL_SET_ERR_MSG(extack, "extents overlap");
			return -EINVAL;
		}
		if (x->start > end) {
			NL_SET_ERR_MSG(extack,
				       "gap in the extent table: it must cover the device from 0 without holes");
			return -EINVAL;
		}
		if (check_add_overflow(x->start, x->length, &end) ||
		    end > MAX_LFS_FILESIZE) {
			NL_SET_ERR_MSG(extack, "extent beyond the largest device size");
			return -EINVAL;
		}
		if (check_add_overflow(x->lower_offset, x->length, &lower_end) ||
		    lower_end > lower_size) {
			NL_SET_ERR_MSG(extack, "extent beyond the end of the lower device");
			return -EINVAL;
		}
	}
	if (size && end < size) {
		NL_SET_ERR_MSG(extack,
			       "extent table ends before the device does (gap at the end)");
		return -EINVAL;
	}
	if (size && end > size) {
		NL_SET_ERR_MSG(extack, "extent table goes past the device size");
		return -EINVAL;
	}
	return 0;
}

/* The lower device, held exclusively; the descriptor only names it. */
static int cbd_remap_hold_lower(struct cbd_remap_backing *rb, int fd,
				bool read_only, void *holder,
				struct netlink_ext_ack *extack)
{
	struct file *file;
	dev_t dev;
	int ret;

	file = fd >= 0 ? fget(fd) : NULL;
	if (!file) {
		NL_SET_ERR_MSG(extack, "bad backing file descriptor");
		return -EBADF;
	}
	if (!S_ISBLK(file_inode(file)->i_mode)) {
		NL_SET_ERR_MSG(extack, "remap backing must be a block device");
		fput(file);
		return -EINVAL;
	}
	if (!(file->f_mode & FMODE_READ)) {
		NL_SET_ERR_MSG(extack, "backing file descriptor is not open for reading");
		fput(file);
		return -EBADF;
	}
	if (!read_only && !(file->f_mode & FMODE_WRITE)) {
		NL_SET_ERR_MSG(extack, "read-write device needs a backing open for writing");
		fput(file);
		return -EBADF;
	}
	dev = cbd_file_bdev(file)->bd_dev;
	fput(file);

	ret = cbd_bdev_hold_open(&rb->hold, dev, !read_only, holder);
	if (!ret)
		atomic_inc(&cbd_backing_refs);
	if (ret == -EBUSY)
		NL_SET_ERR_MSG(extack,
			       "lower device is in use (mounted or held exclusively)");
	else if (ret)
		NL_SET_ERR_MSG(extack, "cannot open the lower device");
	return ret;
}

/* What the device can advertise: the lower device's abilities. */
static void cbd_remap_take_limits(struct cbd_remap_backing *rb, bool read_only)
{
	struct block_device *bdev = rb->hold.bdev;
	struct cbd_backing *b = &rb->base;

	b->stacked = true;
	b->max_size = (u64)rb->ext[rb->nr - 1].start + rb->ext[rb->nr - 1].len;
	b->max_size <<= SECTOR_SHIFT;
	b->fixed_size = true;
	b->write_cache = !read_only && cbd_bdev_write_cache(bdev);
	b->fua = b->write_cache && cbd_bdev_fua(bdev);
	b->lower_block_size = bdev_logical_block_size(bdev);
	b->max_hw_sectors = queue_max_hw_sectors(bdev_get_queue(bdev));
	b->dma_alignment = bdev_dma_alignment(bdev);
	b->max_discard_sectors = bdev_max_discard_sectors(bdev);
	b->can_discard = b->max_discard_sectors > 0;
	b->discard_granularity = bdev_discard_granularity(bdev);
	b->max_write_zeroes_sectors = bdev_write_zeroes_sectors(bdev);
	b->can_write_zeroes = b->max_write_zeroes_sectors > 0;
	b->dio_mem_align = bdev_dma_alignment(bdev) + 1;
	b->dio_offset_align = bdev_logical_block_size(bdev);
}

/*
 * @size: the device size the table must end at, or 0 to take the table's
 * (reconfigure). Without a table: one extent, [0, size) at lower offset 0.
 * @holder: the exclusive holder of the lower device, one per cbd device
 * (a reconfigure may take the device the old table holds).
 */
int cbd_remap_backing_create(const struct cbd_backing_params *bp,
			     bool read_only, u32 logical_block_size, u64 size,
			     void *holder, struct cbd_backing **out,
			     struct netlink_ext_ack *extack)
{
	struct cbd_extent whole = { .length = size };
	const struct cbd_extent *src = bp->extents;
	struct cbd_remap_backing *rb;
	struct cbd_extent *sorted;
	u32 nr = bp->nr_extents, i;
	int ret;

	if (!src) {
		if (!size) {
			NL_SET_ERR_MSG(extack, "remap needs an extent table");
			return -EINVAL;
		}
		src = &whole;
		nr = 1;
	}
	if (!nr) {
		NL_SET_ERR_MSG(extack, "empty extent table");
		return -EINVAL;
	}
	if (nr > cbd_max_extents) {
		NL_SET_ERR_MSG(extack, "too many extents (module parameter max_extents)");
		return -EINVAL;
	}

	sorted = kvmalloc_array(nr, sizeof(*sorted), GFP_KERNEL);
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, src, nr * sizeof(*sorted));
	sort(sorted, nr, sizeof(*sorted), cbd_extent_cmp, NULL);

	ret = -ENOMEM;
	rb = kvzalloc(struct_size(rb, ext, nr), GFP_KERNEL);
	if (!rb)
		goto err_sorted;
	rb->base.ops = &cbd_remap_ops;
	rb->base.type = CINDERBLK_BACKING_REMAP;
	rb->nr = nr;

	ret = cbd_remap_hold_lower(rb, bp->fd, read_only, holder, extack);
	if (ret)
		goto err_free;
	if (bdev_logical_block_size(rb->hold.bdev) > logical_block_size) {
		NL_SET_ERR_MSG(extack,
			       "logical block size below the lower device's");
		ret = -EINVAL;
		goto err_hold;
	}
	ret = cbd_remap_check(sorted, nr, logical_block_size, size,
			      bdev_nr_bytes(rb->hold.bdev), extack);
	if (ret)
		goto err_hold;
	for (i = 0; i < nr; i++) {
		rb->ext[i].start = sorted[i].start >> SECTOR_SHIFT;
		rb->ext[i].len = sorted[i].length >> SECTOR_SHIFT;
		rb->ext[i].lower = sorted[i].lower_offset >> SECTOR_SHIFT;
	}
	ret = bioset_init(&rb->bs, BIO_POOL_SIZE,
			  offsetof(struct cbd_remap_io, clone), 0);
	if (ret)
		goto err_hold;
	cbd_remap_take_limits(rb, read_only);
	kvfree(sorted);
	*out = &rb->base;
	return 0;

err_hold:
	cbd_bdev_hold_close(&rb->hold);
	atomic_dec(&cbd_backing_refs);
err_free:
	kvfree(rb);
err_sorted:
	kvfree(sorted);
	return ret;
}
