// SPDX-License-Identifier: GPL-2.0
/*
 * cinderblk: the life of a device (add, remove, get, resize, suspend,
 * resume, reconfigure), the registry of devices, and the glue that every
 * backing shares: blk-mq for backings that take requests (file), a
 * ->submit_bio entry for those that pass bios on (remap).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uuid.h>
#include <linux/wait_bit.h>

#include "cinderblk.h"

/* Serializes the registry and every control operation. */
DEFINE_MUTEX(cbd_mutex);
static DEFINE_IDR(cbd_idr);
static int cbd_major;
/* Allocated devices (removed ones still open included), and spares. */
static atomic_t cbd_nr_devices = ATOMIC_INIT(0);
static atomic_t cbd_nr_spares = ATOMIC_INIT(0);
atomic_t cbd_backing_refs = ATOMIC_INIT(0);

unsigned int cbd_live_devices(void)
{
	return atomic_read(&cbd_nr_devices);
}

/*
 * A CPU other than this one, for work that should run beside the caller,
 * not preempt it. Only a hint: if it goes offline, the work still runs,
 * elsewhere.
 */
int cbd_other_cpu(void)
{
	int cpu = cpumask_next(raw_smp_processor_id(), cpu_online_mask);

	return cpu < nr_cpu_ids ? cpu : cpumask_first(cpu_online_mask);
}

/* ---- data path ---- */

/* Called by a backing when it is done with a request (any context). */
void cbd_end_request(struct request *rq, blk_status_t status)
{
	struct cbd_cmd *cmd = blk_mq_rq_to_pdu(rq);

	cmd->status = status;
	if (likely(!blk_should_fake_timeout(rq->q)))
		blk_mq_complete_request(rq);
}

static void cbd_account(struct cbd_device *cbd, enum req_op op,
			unsigned int bytes, blk_status_t status)
{
	struct cbd_stats __percpu *s = cbd->stats;

	this_cpu_dec(s->inflight);
	if (status) {
		this_cpu_inc(s->errors);
		return;
	}
	switch (op) {
	case REQ_OP_READ:
		this_cpu_inc(s->read_ios);
		this_cpu_add(s->read_bytes, bytes);
		break;
	case REQ_OP_WRITE:
		this_cpu_inc(s->write_ios);
		this_cpu_add(s->write_bytes, bytes);
		break;
	case REQ_OP_FLUSH:
		this_cpu_inc(s->flush_ios);
		break;
	case REQ_OP_DISCARD:
		this_cpu_inc(s->discard_ios);
		break;
	case REQ_OP_WRITE_ZEROES:
		this_cpu_inc(s->write_zeroes_ios);
		break;
	default:
		break;
	}
}

static blk_status_t cbd_queue_rq(struct blk_mq_hw_ctx *hctx,
				 const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;
	struct cbd_device *cbd = hctx->queue->queuedata;
	struct cbd_backing *b = READ_ONCE(cbd->backing);
	unsigned int noio;
	blk_status_t sts;

	blk_mq_start_request(rq);
	this_cpu_inc(cbd->stats->inflight);
	((struct cbd_cmd *)blk_mq_rq_to_pdu(rq))->last = bd->last;

	if (unlikely(!b)) {
		sts = BLK_STS_IOERR;
	} else if (unlikely(op_is_write(req_op(rq)) &&
			    (cbd->flags & CINDERBLK_F_READ_ONLY))) {
		sts = BLK_STS_IOERR;
	} else {
		/* The backing may allocate; never recurse into our own I/O. */
		noio = memalloc_noio_save();
		sts = b->ops->queue_rq(b, rq);
		memalloc_noio_restore(noio);
	}
	if (unlikely(sts == BLK_STS_RESOURCE || sts == BLK_STS_DEV_RESOURCE)) {
		/* Out of memory for now: blk-mq requeues the request. */
		this_cpu_dec(cbd->stats->inflight);
		return sts;
	}
	if (unlikely(sts))
		cbd_end_request(rq, sts);
	return BLK_STS_OK;
}

static void cbd_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct cbd_device *cbd = hctx->queue->queuedata;
	struct cbd_backing *b = READ_ONCE(cbd->backing);

	if (b && b->ops->commit)
		b->ops->commit(b);
}

static void cbd_complete_rq(struct request *rq)
{
	struct cbd_cmd *cmd = blk_mq_rq_to_pdu(rq);

	cbd_account(cmd->cbd, req_op(rq), blk_rq_bytes(rq), cmd->status);
	blk_mq_end_request(rq, cmd->status);
}

/*
 * A request outlived io_timeout_ms: counted (sysfs "timeouts", the
 * TIMEOUTS statistic), then the backing decides. Without a hook of its
 * own it is reported, rate-limited, and waited for: the timer re-arms.
 */
static enum blk_eh_timer_return cbd_timeout(struct request *rq)
{
	struct cbd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct cbd_device *cbd = cmd->cbd;
	struct cbd_backing *b = READ_ONCE(cbd->backing);
	u64 age_ms = 0;

	atomic_inc(&cbd->timeouts);
	if (b && b->ops->timeout)
		return b->ops->timeout(b, rq);
	if (rq->start_time_ns)
		age_ms = div_u64(ktime_get_ns() - rq->start_time_ns,
				 NSEC_PER_MSEC);
	pr_warn_ratelimited("%s: %s request at sector %llu in flight for %llu ms (io_timeout_ms=%u); it cannot be cancelled, waiting for the backing\n",
			    cbd->disk->disk_name, blk_op_str(req_op(rq)),
			    blk_rq_pos(rq), age_ms, cbd->io_timeout_ms);
	return BLK_EH_RESET_TIMER;
}

static int cbd_init_request(struct blk_mq_tag_set *set, struct request *rq,
			    unsigned int hctx_idx, unsigned int numa_node)
{
	struct cbd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct cbd_device *cbd = set->driver_data;

	cmd->cbd = cbd;
	/* A disk made for its backing has it here; spares are for files. */
	if (cbd->backing && cbd->backing->ops->init_cmd)
		cbd->backing->ops->init_cmd(cbd->backing, rq);
	return 0;
}

static const struct blk_mq_ops cbd_mq_ops = {
	.queue_rq	= cbd_queue_rq,
	.commit_rqs	= cbd_commit_rqs,
	.complete	= cbd_complete_rq,
	.timeout	= cbd_timeout,
	.init_request	= cbd_init_request,
};

/* ---- bio-based data path ---- */

/* A piece of a bio sent down by cbd_bio_start() has ended. */
void cbd_bio_done(struct cbd_device *cbd, enum req_op op, unsigned int bytes,
		  blk_status_t status)
{
	/* Flushes come as empty writes with REQ_PREFLUSH: count them so. */
	if (op == REQ_OP_WRITE && !bytes)
		op = REQ_OP_FLUSH;
	cbd_account(cbd, op, bytes, status);
	if (unlikely(READ_ONCE(cbd->draining)))
		wake_up(&cbd->drain_wq);
}

static void cbd_submit_bio(struct bio *bio)
{
	struct cbd_device *cbd = bio->bi_bdev->bd_disk->private_data;
	struct cbd_backing *b = READ_ONCE(cbd->backing);

	if (unlikely(!b || (op_is_write(bio_op(bio)) &&
			    (cbd->flags & CINDERBLK_F_READ_ONLY)))) {
		this_cpu_inc(cbd->stats->errors);
		bio_io_error(bio);
		return;
	}
	b->ops->submit_bio(b, cbd, bio);
}

/* Pieces in flight. Exact once no new ones start (queue frozen or dead). */
static s64 cbd_bios_in_flight(struct cbd_device *cbd)
{
	s64 n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(per_cpu_ptr(cbd->stats, cpu)->inflight);
	return n;
}

/*
 * Wait for every bio a bio-based disk sent down. The queue is frozen or
 * the disk dead: nothing new starts. A freeze alone does not do it here,
 * it only waits for submitters to leave ->submit_bio.
 */
static void cbd_drain_bios(struct cbd_device *cbd)
{
	if (!cbd->bio_based)
		return;
	WRITE_ONCE(cbd->draining, true);
	smp_mb();	/* draining is seen by completions after their count */
	while (cbd_bios_in_flight(cbd) > 0)
		wait_event_timeout(cbd->drain_wq, cbd_bios_in_flight(cbd) <= 0,
				   HZ / 10);
	WRITE_ONCE(cbd->draining, false);
}

/* ---- block device operations ---- */

static int cbd_open(CBD_OPEN_ARGS)
{
	struct cbd_device *cbd = CBD_OPEN_DISK->private_data;
	int ret = 0;

	spin_lock(&cbd->lock);
	/* A spare has nothing behind it; whoever kept it open would see
	 * the next volume's data once it is configured.
	 */
	if (cbd->state == CINDERBLK_STATE_DYING ||
	    cbd->state == CINDERBLK_STATE_IDLE)
		ret = -ENXIO;
	else
		cbd->open_count++;
	spin_unlock(&cbd->lock);
	return ret;
}

static void cbd_release(CBD_RELEASE_ARGS)
{
	struct cbd_device *cbd = disk->private_data;

	spin_lock(&cbd->lock);
	cbd->open_count--;
	spin_unlock(&cbd->lock);
}

static int cbd_ioctl(struct block_device *bdev, cbd_open_mode_t mode,
		     unsigned int cmd, unsigned long arg)
{
	if (cmd == CINDERBLK_IOC_INFO)
		return cbd_bdev_ioctl_info(bdev->bd_disk->private_data,
					   (void __user *)arg);
	return -ENOTTY;
}

static void cbd_free(struct cbd_device *cbd)
{
	atomic_t *count = cbd->spare ? &cbd_nr_spares : &cbd_nr_devices;

	free_percpu(cbd->stats);
	kfree(cbd);
	if (atomic_dec_and_test(count))
		wake_up_var(&cbd_nr_devices);
}

/* The last reference to an added disk is gone: removed and closed. */
static void cbd_free_disk(struct gendisk *disk)
{
	cbd_free(disk->private_data);
}

const struct block_device_operations cbd_fops = {
	.owner		= THIS_MODULE,
	.open		= cbd_open,
	.release	= cbd_release,
	.ioctl		= cbd_ioctl,
	.compat_ioctl	= blkdev_compat_ptr_ioctl,
	.free_disk	= cbd_free_disk,
};

/* The same for bio-based disks: ->submit_bio is what makes them so. */
static const struct block_device_operations cbd_bio_fops = {
	.owner		= THIS_MODULE,
	.submit_bio	= cbd_submit_bio,
	.open		= cbd_open,
	.release	= cbd_release,
	.ioctl		= cbd_ioctl,
	.compat_ioctl	= blkdev_compat_ptr_ioctl,
	.free_disk	= cbd_free_disk,
};

bool cbd_is_cbd_disk(struct gendisk *disk)
{
	return disk->fops == &cbd_fops || disk->fops == &cbd_bio_fops;
}

/* The cbd device @b's I/O ends on, if it ends on one. */
static struct cbd_device *cbd_backing_lower_cbd(struct cbd_backing *b)
{
	struct block_device *bdev;

	bdev = b && b->ops->lower_bdev ? b->ops->lower_bdev(b) : NULL;
	if (!bdev || !cbd_is_cbd_disk(bdev->bd_disk))
		return NULL;
	return bdev->bd_disk->private_data;
}

/*
 * -ELOOP when backing @b lies on more than CBD_MAX_STACK_DEPTH cinderblk
 * devices: each is one more file system run on the submitter's stack.
 */
static int cbd_check_stack_depth(struct cbd_backing *b,
				 struct netlink_ext_ack *extack)
{
	struct cbd_device *lower;
	int depth = 0;

	lockdep_assert_held(&cbd_mutex);
	while ((lower = cbd_backing_lower_cbd(b))) {
		if (++depth > CBD_MAX_STACK_DEPTH) {
			NL_SET_ERR_MSG(extack,
				       "backing lies on too many stacked cinderblk devices");
			return -ELOOP;
		}
		b = lower->backing;
	}
	return 0;
}

/* ---- validation ---- */

int cbd_check_block_size(u32 bs)
{
	if (bs < SECTOR_SIZE || bs > PAGE_SIZE || bs > 4096 ||
	    !is_power_of_2(bs))
		return -EINVAL;
	return 0;
}

/* @id is NUL-terminated within CINDERBLK_VOLUME_ID_LEN + 1 bytes. */
int cbd_check_volume_id(const char *id, size_t len)
{
	if (len != CINDERBLK_VOLUME_ID_LEN ||
	    strnlen(id, CINDERBLK_VOLUME_ID_LEN + 1) != CINDERBLK_VOLUME_ID_LEN ||
	    !uuid_is_valid(id))
		return -EINVAL;
	return 0;
}

static int cbd_check_size(u64 size, u32 lbs, struct netlink_ext_ack *extack)
{
	if (!size || size % lbs) {
		NL_SET_ERR_MSG(extack,
			       "size must be a non-zero multiple of the logical block size");
		return -EINVAL;
	}
	if (size > MAX_LFS_FILESIZE) {
		NL_SET_ERR_MSG(extack, "size too large");
		return -EINVAL;
	}
	return 0;
}

unsigned int cbd_default_hw_queues(void)
{
	return min3(num_online_cpus(), nr_cpu_ids, CBD_MAX_HW_QUEUES);
}

static int cbd_check_add_params(struct cbd_add_params *p,
				struct netlink_ext_ack *extack)
{
	if (p->flags & ~CINDERBLK_F_ALL) {
		NL_SET_ERR_MSG(extack, "unknown device flags");
		return -EINVAL;
	}
	if (p->index != CINDERBLK_INDEX_ANY && p->index >= cbd_max_devices) {
		NL_SET_ERR_MSG(extack, "index >= max_devices");
		return -EINVAL;
	}
	if (!p->logical_block_size)
		p->logical_block_size = SECTOR_SIZE;
	if (!p->physical_block_size)
		p->physical_block_size = p->logical_block_size;
	if (cbd_check_block_size(p->logical_block_size) ||
	    cbd_check_block_size(p->physical_block_size)) {
		NL_SET_ERR_MSG(extack, "block sizes must be powers of 2 in 512..4096");
		return -EINVAL;
	}
	if (p->physical_block_size < p->logical_block_size) {
		NL_SET_ERR_MSG(extack, "physical block size below logical block size");
		return -EINVAL;
	}
	if (cbd_check_size(p->size, p->logical_block_size, extack))
		return -EINVAL;
	if (p->nr_hw_queues > CBD_MAX_HW_QUEUES) {
		NL_SET_ERR_MSG(extack, "too many hardware queues");
		return -EINVAL;
	}
	if (p->backing.type == CINDERBLK_BACKING_NBD) {
		/* A queue per connection, as many as can run at once. */
		if (p->nr_hw_queues &&
		    p->nr_hw_queues != p->backing.nr_socket_fds) {
			NL_SET_ERR_MSG(extack,
				       "nbd: the hardware queues are one per socket");
			return -EINVAL;
		}
		p->nr_hw_queues = min(p->backing.nr_socket_fds,
				      cbd_default_hw_queues());
	}
	if (!p->nr_hw_queues)
		p->nr_hw_queues = cbd_default_hw_queues();
	p->nr_hw_queues = min(p->nr_hw_queues, nr_cpu_ids);
	if (p->queue_depth > CBD_MAX_QUEUE_DEPTH) {
		NL_SET_ERR_MSG(extack, "queue depth too large");
		return -EINVAL;
	}
	if (!p->queue_depth)
		p->queue_depth = cbd_queue_depth;
	if (p->io_timeout_ms > CBD_MAX_IO_TIMEOUT_MS) {
		NL_SET_ERR_MSG(extack, "I/O timeout too large");
		return -EINVAL;
	}
	/* A bio-based disk has no request timer: the lower device's apply. */
	if (p->io_timeout_ms && p->backing.type == CINDERBLK_BACKING_REMAP) {
		NL_SET_ERR_MSG(extack,
			       "the remap backing has no I/O timeout of its own (the lower device's applies)");
		return -EINVAL;
	}
	if (!p->io_timeout_ms)
		p->io_timeout_ms = cbd_io_timeout_ms;
	if (cbd_check_volume_id(p->volume_id, strnlen(p->volume_id,
						      sizeof(p->volume_id)))) {
		NL_SET_ERR_MSG(extack, "volume id must be a UUID of 36 characters");
		return -EINVAL;
	}
	return 0;
}

/*
 * @size: what the device must fit in; 0 on a remap reconfigure, where the
 * new table sets the size. @cbd holds block devices exclusively: the same
 * holder across reconfigures, so a new table can use the same device.
 */
static int cbd_backing_create(const struct cbd_backing_params *bp,
			      bool read_only, u32 lbs, u64 size,
			      struct cbd_device *cbd, struct cbd_backing **out,
			      struct netlink_ext_ack *extack)
{
	struct cbd_backing *b;
	int ret;

	if (bp->extents && bp->type != CINDERBLK_BACKING_REMAP) {
		NL_SET_ERR_MSG(extack, "extents are for the remap backing only");
		return -EINVAL;
	}
	if (bp->type == CINDERBLK_BACKING_NBD && !cbd) {
		NL_SET_ERR_MSG(extack, "backing type cannot replace this one");
		return -EINVAL;
	}
	switch (bp->type) {
	case CINDERBLK_BACKING_FILE:
		ret = cbd_file_backing_create(bp, read_only, &b, extack);
		break;
	case CINDERBLK_BACKING_REMAP:
		ret = cbd_remap_backing_create(bp, read_only, lbs, size, cbd,
					       &b, extack);
		break;
	case CINDERBLK_BACKING_NBD:
		ret = cbd_nbd_backing_create(bp, read_only, lbs, cbd, &b,
					     extack);
		break;
	default:
		NL_SET_ERR_MSG(extack, "unknown backing type");
		return -EINVAL;
	}
	if (ret)
		return ret;
	if (b->max_size && size > b->max_size) {
		NL_SET_ERR_MSG(extack, "device larger than its backing");
		b->ops->release(b);
		return -EINVAL;
	}
	*out = b;
	return 0;
}

/* ---- queue limits ---- */

/* The limits a device gets from what it asks and what its backing does. */
static void cbd_make_limits(struct cbd_device *cbd, struct cbd_backing *b,
			    struct cbd_limits *l)
{
	bool writable = !(cbd->flags & CINDERBLK_F_READ_ONLY);

	memset(l, 0, sizeof(*l));
	l->logical_block_size = cbd->logical_block_size;
	l->physical_block_size = cbd->physical_block_size;
	l->max_hw_sectors = CBD_MAX_HW_SECTORS;
	/* Misaligned memory falls back to buffered I/O: ask the default. */
	l->dma_alignment = SECTOR_SIZE - 1;
	/* A file (and a disk) has a volatile cache: flushes must come. */
	l->write_cache = true;
	l->max_discard_sectors = UINT_MAX >> SECTOR_SHIFT;
	l->max_write_zeroes_sectors = UINT_MAX >> SECTOR_SHIFT;
	if (b->stacked) {
		/* Bios go down as they are: the lower device's rules hold. */
		l->max_hw_sectors = b->max_hw_sectors;
		l->dma_alignment = max(l->dma_alignment, b->dma_alignment);
		l->physical_block_size = max(l->physical_block_size,
					     b->lower_block_size);
		l->write_cache = b->write_cache;
		l->max_discard_sectors = b->max_discard_sectors;
		l->max_write_zeroes_sectors = b->max_write_zeroes_sectors;
	}

	cbd->flags = cbd->want_flags;
	if (writable && (cbd->want_flags & CINDERBLK_F_DISCARD) &&
	    b->can_discard) {
		l->discard_granularity = max(cbd->logical_block_size,
					     b->discard_granularity);
	} else {
		l->max_discard_sectors = 0;
		cbd->flags &= ~CINDERBLK_F_DISCARD;
	}
	if (!writable || !(cbd->want_flags & CINDERBLK_F_WRITE_ZEROES) ||
	    !b->can_write_zeroes) {
		l->max_write_zeroes_sectors = 0;
		cbd->flags &= ~CINDERBLK_F_WRITE_ZEROES;
	}
	/*
	 * FUA stays in effect when written data is durable on completion:
	 * below a remap device without a volatile cache it always is.
	 */
	if (writable && (cbd->want_flags & CINDERBLK_F_FUA))
		l->fua = b->stacked ? b->fua : true;
	else
		cbd->flags &= ~CINDERBLK_F_FUA;
}

/* What a spare disk starts with, before it knows its backing. */
static void cbd_make_idle_limits(struct cbd_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->logical_block_size = SECTOR_SIZE;
	l->physical_block_size = SECTOR_SIZE;
	l->max_hw_sectors = CBD_MAX_HW_SECTORS;
	l->dma_alignment = SECTOR_SIZE - 1;
	l->write_cache = true;
}

/* ---- snapshots for replies and events ---- */

void cbd_dev_fill_info(struct cbd_device *cbd, struct cbd_dev_info *info)
{
	int cpu;

	memset(info, 0, sizeof(*info));
	info->index = cbd->index;
	info->serial = cbd->serial;
	info->size = cbd->size;
	info->logical_block_size = cbd->logical_block_size;
	info->physical_block_size = cbd->physical_block_size;
	info->flags = cbd->flags;
	info->nr_hw_queues = cbd->nr_hw_queues;
	info->queue_depth = cbd->queue_depth;
	/* A bio-based disk has no request timer. */
	info->io_timeout_ms = cbd->bio_based ? 0 : cbd->io_timeout_ms;
	info->stats.timeouts = atomic_read(&cbd->timeouts);
	strscpy(info->volume_id, cbd->volume_id, sizeof(info->volume_id));
	if (cbd->disk)
		strscpy(info->disk_name, cbd->disk->disk_name,
			sizeof(info->disk_name));

	spin_lock(&cbd->lock);
	info->state = cbd->state;
	info->open_count = cbd->open_count;
	info->backing_type = cbd->backing ? cbd->backing->type :
					    CINDERBLK_BACKING_NONE;
	if (cbd->backing && cbd->backing->ops->fill_info)
		cbd->backing->ops->fill_info(cbd->backing, info);
	spin_unlock(&cbd->lock);

	for_each_possible_cpu(cpu) {
		const struct cbd_stats *s = per_cpu_ptr(cbd->stats, cpu);

		info->stats.read_ios += s->read_ios;
		info->stats.read_bytes += s->read_bytes;
		info->stats.write_ios += s->write_ios;
		info->stats.write_bytes += s->write_bytes;
		info->stats.flush_ios += s->flush_ios;
		info->stats.discard_ios += s->discard_ios;
		info->stats.write_zeroes_ios += s->write_zeroes_ios;
		info->stats.errors += s->errors;
		info->stats.inflight += s->inflight;
	}
	if (info->stats.inflight < 0)
		info->stats.inflight = 0;
}

static void cbd_set_state(struct cbd_device *cbd, u32 state)
{
	spin_lock(&cbd->lock);
	cbd->state = state;
	spin_unlock(&cbd->lock);
}

static void cbd_event(struct cbd_device *cbd, u8 cmd)
{
	struct cbd_dev_info info;

	cbd_dev_fill_info(cbd, &info);
	cbd_genl_event(cmd, &info);
}

/*
 * A backing's connection was lost (@up false; @all_down: it was the last)
 * or one came: a live device turns link-down and back, never another
 * state (suspended, dying), and the event goes out either way.
 */
void cbd_link_changed(struct cbd_device *cbd, bool up, bool all_down)
{
	spin_lock(&cbd->lock);
	if (!up && all_down && cbd->state == CINDERBLK_STATE_LIVE)
		cbd->state = CINDERBLK_STATE_LINK_DOWN;
	else if (up && cbd->state == CINDERBLK_STATE_LINK_DOWN)
		cbd->state = CINDERBLK_STATE_LIVE;
	spin_unlock(&cbd->lock);
	cbd_event(cbd, up ? CINDERBLK_CMD_EVT_LINK_UP :
			    CINDERBLK_CMD_EVT_LINK_DOWN);
}

/* ---- partitions ---- */

/*
 * Reading the partition table goes through the backing and took most of
 * an add's time when device_add_disk() did it. It happens here instead,
 * right after the add, without opening the disk (an open would make a
 * plain remove fail with EBUSY). Whoever opens the disk first does it
 * instead, under the same open_mutex: partitions are there for any
 * opener, and appear (with their uevents) a moment after the disk's own.
 */
static void cbd_part_scan_work(struct work_struct *work)
{
	struct cbd_device *cbd = container_of(work, struct cbd_device,
					      part_scan_work);
	struct gendisk *disk = cbd->disk;

	mutex_lock(&disk->open_mutex);
	if (test_bit(GD_NEED_PART_SCAN, &disk->state))
		bdev_disk_changed(disk, false);
	mutex_unlock(&disk->open_mutex);
}

/* The disk is added with partition scanning suppressed: arm it now. */
static void cbd_start_part_scan(struct cbd_device *cbd)
{
	struct gendisk *disk = cbd->disk;

	mutex_lock(&disk->open_mutex);
	cbd_suppress_part_scan(disk, false);
	set_bit(GD_NEED_PART_SCAN, &disk->state);
	mutex_unlock(&disk->open_mutex);
	/* Not on this CPU: the scan would preempt the add it follows. */
	queue_work_on(cbd_other_cpu(), system_wq, &cbd->part_scan_work);
}

/* ---- operations ---- */

/* A device in use at @index; spares are not devices to anyone outside. */
static struct cbd_device *cbd_find(u32 index, struct netlink_ext_ack *extack)
{
	struct cbd_device *cbd = NULL;

	lockdep_assert_held(&cbd_mutex);
	if (index <= INT_MAX)
		cbd = idr_find(&cbd_idr, index);
	if (cbd && cbd->spare)
		cbd = NULL;
	if (!cbd)
		NL_SET_ERR_MSG(extack, "no such device");
	return cbd;
}

/* The index, or -ENOSPC (ANY: none free), -EEXIST (@index in use). */
static int cbd_alloc_index(struct cbd_device *cbd, u32 index)
{
	int ret;

	if (index == CINDERBLK_INDEX_ANY)
		return idr_alloc(&cbd_idr, cbd, 0, cbd_max_devices, GFP_KERNEL);
	ret = idr_alloc(&cbd_idr, cbd, index, index + 1, GFP_KERNEL);
	return ret == -ENOSPC ? -EEXIST : ret;
}

/*
 * Reserve an index for a device not made yet (an empty entry, filled by
 * idr_replace): @index, or any when CINDERBLK_INDEX_ANY. Spares hold every
 * free index: one makes room when needed.
 */
static int cbd_reserve_index(u32 index, struct netlink_ext_ack *extack)
{
	int ret;

	lockdep_assert_held(&cbd_mutex);
	/* A spare on the index asked for makes room. */
	if (index != CINDERBLK_INDEX_ANY)
		cbd_spare_make_room(index);
	ret = cbd_alloc_index(NULL, index);
	if (ret == -ENOSPC && !cbd_spare_make_room(CINDERBLK_INDEX_ANY))
		ret = cbd_alloc_index(NULL, index);
	if (ret == -EEXIST)
		NL_SET_ERR_MSG(extack, "device index in use");
	else if (ret == -ENOSPC)
		NL_SET_ERR_MSG(extack, "all device indexes are in use");
	return ret;
}

/* A device with nothing set up yet but its counters and locks. */
static struct cbd_device *cbd_alloc_device(bool spare)
{
	struct cbd_device *cbd;

	cbd = kzalloc(sizeof(*cbd), GFP_KERNEL);
	if (!cbd)
		return NULL;
	cbd->spare = spare;
	atomic_inc(spare ? &cbd_nr_spares : &cbd_nr_devices);
	cbd->stats = alloc_percpu(struct cbd_stats);
	if (!cbd->stats) {
		cbd_free(cbd);
		return NULL;
	}
	spin_lock_init(&cbd->lock);
	init_waitqueue_head(&cbd->drain_wq);
	INIT_WORK(&cbd->part_scan_work, cbd_part_scan_work);
	INIT_LIST_HEAD(&cbd->spare_node);
	atomic_set(&cbd->timeouts, 0);
	return cbd;
}

/* A blk-mq disk with a tag set sized by the device's queue parameters. */
static int cbd_alloc_mq_disk(struct cbd_device *cbd, unsigned int cmd_size,
			     const struct cbd_limits *lim)
{
	struct gendisk *disk;
	int ret;

	cbd->tag_set.ops = &cbd_mq_ops;
	cbd->tag_set.nr_hw_queues = cbd->nr_hw_queues;
	cbd->tag_set.queue_depth = cbd->queue_depth;
	cbd->tag_set.numa_node = NUMA_NO_NODE;
	cbd->tag_set.cmd_size = sizeof(struct cbd_cmd) + cmd_size;
	/* queue_rq may sleep: it submits to the backing itself, no worker. */
	cbd->tag_set.flags = CBD_MQ_F_MERGE | BLK_MQ_F_BLOCKING;
	cbd->tag_set.timeout = msecs_to_jiffies(cbd->io_timeout_ms);
	cbd->tag_set.driver_data = cbd;
	ret = blk_mq_alloc_tag_set(&cbd->tag_set);
	if (ret)
		return ret;
	disk = cbd_alloc_disk(&cbd->tag_set, lim, cbd);
	if (IS_ERR(disk)) {
		blk_mq_free_tag_set(&cbd->tag_set);
		return PTR_ERR(disk);
	}
	disk->fops = &cbd_fops;
	cbd->disk = disk;
	return 0;
}

/* Undo cbd_alloc_mq_disk() or cbd_alloc_bio_disk() of a disk not added. */
static void cbd_put_unadded_disk(struct cbd_device *cbd)
{
	put_disk(cbd->disk);	/* not added: free_disk is not called */
	cbd->disk = NULL;
	if (!cbd->bio_based)
		blk_mq_free_tag_set(&cbd->tag_set);
}

/*
 * Add the disk to the system. The attributes exist before the add uevent
 * goes out; the partition table is read after the add returns
 * (cbd_start_part_scan()).
 */
static int cbd_add_disk(struct cbd_device *cbd)
{
	struct gendisk *disk = cbd->disk;

	disk->major = cbd_major;
	disk->first_minor = cbd->index * CBD_MINORS;
	disk->minors = CBD_MINORS;
	disk->private_data = cbd;
	snprintf(disk->disk_name, DISK_NAME_LEN, CINDERBLK_DISK_PREFIX "%d",
		 cbd->index);
	set_capacity(disk, cbd->size >> SECTOR_SHIFT);
	cbd_suppress_part_scan(disk, true);
	return device_add_disk(NULL, disk, cbd_disk_groups);
}

/* What an add asks for, kept in the device. */
static void cbd_set_params(struct cbd_device *cbd,
			   const struct cbd_add_params *p)
{
	/* Under the lock: sysfs may read it at any time on a spare. */
	spin_lock(&cbd->lock);
	strscpy(cbd->volume_id, p->volume_id, sizeof(cbd->volume_id));
	spin_unlock(&cbd->lock);
	cbd->want_flags = p->flags;
	cbd->logical_block_size = p->logical_block_size;
	cbd->physical_block_size = p->physical_block_size;
	cbd->nr_hw_queues = p->nr_hw_queues;
	cbd->queue_depth = p->queue_depth;
	cbd->io_timeout_ms = p->io_timeout_ms;
	cbd->size = p->size;
}

/* The device is there for everyone: partitions, the event, the answer. */
static void cbd_announce(struct cbd_device *cbd, struct cbd_dev_info *info)
{
	static u64 last_serial;

	lockdep_assert_held(&cbd_mutex);
	cbd->serial = ++last_serial;
	cbd_start_part_scan(cbd);
	cbd_dev_fill_info(cbd, info);
	cbd_genl_event(CINDERBLK_CMD_EVT_ADDED, info);
}

/*
 * A spare disk for the pool, in two steps: its index is taken under
 * cbd_mutex (cbd_spare_reserve()), the disk is made and added without it
 * (cbd_spare_build()), so that adds and removes do not wait for that.
 * It is blk-mq, made for the file backing with the default queue
 * parameters, capacity 0, state idle. Its add uevent carries no volume id;
 * the change uevent of cbd_configure_spare() does.
 */
struct cbd_device *cbd_spare_reserve(void)
{
	struct cbd_device *cbd;
	int ret;

	lockdep_assert_held(&cbd_mutex);
	cbd = cbd_alloc_device(true);
	if (!cbd)
		return ERR_PTR(-ENOMEM);
	cbd->logical_block_size = SECTOR_SIZE;
	cbd->physical_block_size = SECTOR_SIZE;
	cbd->nr_hw_queues = cbd_default_hw_queues();
	cbd->queue_depth = cbd_queue_depth;
	cbd->io_timeout_ms = cbd_io_timeout_ms;
	cbd->state = CINDERBLK_STATE_IDLE;
	ret = cbd_alloc_index(cbd, CINDERBLK_INDEX_ANY);
	if (ret < 0) {
		cbd_free(cbd);
		return ERR_PTR(ret);
	}
	cbd->index = ret;
	return cbd;
}

/* The spare could not be built: give its index back. */
void cbd_spare_unreserve(struct cbd_device *cbd)
{
	lockdep_assert_held(&cbd_mutex);
	idr_remove(&cbd_idr, cbd->index);
	cbd_free(cbd);
}

/* Without cbd_mutex: the idle disk is nobody's business but its maker's. */
int cbd_spare_build(struct cbd_device *cbd)
{
	struct cbd_limits lim;
	int ret;

	cbd_make_idle_limits(&lim);
	ret = cbd_alloc_mq_disk(cbd, cbd_file_cmd_size, &lim);
	if (ret)
		return ret;
	ret = cbd_add_disk(cbd);
	if (ret)
		cbd_put_unadded_disk(cbd);
	return ret;
}

/*
 * Give spare @cbd its backing and parameters: an add without
 * device_add_disk(). Nobody can have it open (cbd_open() refuses spares),
 * so the limits change with no I/O anywhere near.
 */
static int cbd_configure_spare(struct cbd_device *cbd,
			       const struct cbd_add_params *p,
			       struct cbd_backing *b, struct cbd_dev_info *info)
{
	struct gendisk *disk = cbd->disk;
	struct cbd_limits lim;
	int ret;

	lockdep_assert_held(&cbd_mutex);
	/* Its change uevent goes out while the spare has no volume id yet. */
	if (p->flags & CINDERBLK_F_READ_ONLY)
		set_disk_ro(disk, true);
	cbd_set_params(cbd, p);
	cbd->backing = b;
	cbd_make_limits(cbd, b, &lim);
	ret = cbd_update_limits(disk, &lim);
	if (ret)
		return ret;
	blk_queue_rq_timeout(disk->queue, msecs_to_jiffies(cbd->io_timeout_ms));
	set_capacity(disk, cbd->size >> SECTOR_SHIFT);

	/* From here on it counts, and opens, as a device. */
	atomic_inc(&cbd_nr_devices);
	cbd->spare = false;
	atomic_dec(&cbd_nr_spares);
	cbd_set_state(cbd, CINDERBLK_STATE_LIVE);
	/* udev learns the volume id (and size) here, as others on add. */
	kobject_uevent(&disk_to_dev(disk)->kobj, KOBJ_CHANGE);
	cbd_announce(cbd, info);
	return 0;
}

/*
 * Add a device. A file backing with the default queue parameters takes a
 * spare disk (spare.c) when one is ready: that is the fast way. Otherwise
 * the disk is made here.
 */
int cbd_dev_add(struct cbd_add_params *p, struct cbd_dev_info *info,
		struct netlink_ext_ack *extack)
{
	bool read_only = p->flags & CINDERBLK_F_READ_ONLY;
	struct cbd_backing *b = NULL;
	struct cbd_device *cbd;
	struct cbd_limits lim;
	int ret;

	ret = cbd_check_add_params(p, extack);
	if (ret)
		return ret;

	if (p->backing.type == CINDERBLK_BACKING_FILE) {
		/* A file backing has no holder: it can come before the disk. */
		ret = cbd_backing_create(&p->backing, read_only,
					 p->logical_block_size, p->size, NULL,
					 &b, extack);
		if (ret)
			return ret;
		mutex_lock(&cbd_mutex);
		ret = cbd_check_stack_depth(b, extack);
		if (ret) {
			mutex_unlock(&cbd_mutex);
			b->ops->release(b);
			return ret;
		}
		cbd = cbd_spare_take(p);
		if (cbd) {
			ret = cbd_configure_spare(cbd, p, b, info);
			if (ret) {
				/* Never seen by anyone: it goes as a spare. */
				cbd->backing = NULL;
				cbd_spare_destroy(cbd);
			}
			mutex_unlock(&cbd_mutex);
			if (ret)
				b->ops->release(b);
			return ret;
		}
		mutex_unlock(&cbd_mutex);
	}

	cbd = cbd_alloc_device(false);
	if (!cbd) {
		if (b)
			b->ops->release(b);
		return -ENOMEM;
	}
	cbd_set_params(cbd, p);

	/*
	 * The index is reserved (an empty entry: lookups do not see it)
	 * before the backing is made, so that what the backing names after
	 * the device (the nbd receivers) has the right name.
	 */
	mutex_lock(&cbd_mutex);
	ret = cbd_reserve_index(p->index, extack);
	mutex_unlock(&cbd_mutex);
	if (ret < 0)
		goto err_release;
	cbd->index = ret;
	if (!b) {
		/* @cbd holds the lower block device of a remap backing. */
		ret = cbd_backing_create(&p->backing, read_only,
					 p->logical_block_size, p->size, cbd,
					 &b, extack);
		if (ret) {
			mutex_lock(&cbd_mutex);
			idr_remove(&cbd_idr, cbd->index);
			mutex_unlock(&cbd_mutex);
			goto err_release;
		}
	}
	cbd->state = CINDERBLK_STATE_LIVE;
	cbd->backing = b;
	cbd->bio_based = b->ops->submit_bio;

	mutex_lock(&cbd_mutex);
	ret = cbd_check_stack_depth(b, extack);
	if (ret)
		goto err_idr;
	idr_replace(&cbd_idr, cbd, cbd->index);

	cbd_make_limits(cbd, b, &lim);
	if (cbd->bio_based) {
		cbd->disk = cbd_alloc_bio_disk(&lim);
		if (IS_ERR(cbd->disk)) {
			ret = PTR_ERR(cbd->disk);
			goto err_idr;
		}
		cbd->disk->fops = &cbd_bio_fops;
	} else {
		ret = cbd_alloc_mq_disk(cbd, b->ops->cmd_size, &lim);
		if (ret)
			goto err_idr;
	}
	if (read_only)
		set_disk_ro(cbd->disk, true);
	ret = cbd_add_disk(cbd);
	if (ret)
		goto err_disk;
	if (b->ops->start)
		b->ops->start(b);
	cbd_announce(cbd, info);
	mutex_unlock(&cbd_mutex);
	return 0;

err_disk:
	cbd_put_unadded_disk(cbd);
err_idr:
	idr_remove(&cbd_idr, cbd->index);
	mutex_unlock(&cbd_mutex);
err_release:
	if (b)
		b->ops->release(b);
	cbd_free(cbd);
	return ret;
}

/*
 * Take a device down. A forced remove fails new I/O at once; in-flight
 * requests finish on the backing (del_gendisk waits for them). The memory
 * goes when the last opener closes (cbd_free_disk).
 */
static void cbd_destroy(struct cbd_device *cbd, bool force, u32 old_state)
{
	struct gendisk *disk = cbd->disk;
	struct cbd_backing *b;

	lockdep_assert_held(&cbd_mutex);
	if (force) {
		blk_mark_disk_dead(disk);
		/* What waits on a backing (a server gone) fails now. */
		if (cbd->backing->ops->kill)
			cbd->backing->ops->kill(cbd->backing);
	}
	if (old_state == CINDERBLK_STATE_SUSPENDED) {
		if (cbd->fs_frozen)
			cbd_thaw_bdev(disk->part0);
		cbd->fs_frozen = false;
		cbd_unfreeze_queue(disk->queue, cbd->freeze_memflags);
	}
	/* The queue moves again: a partition scan under way can end. */
	cancel_work_sync(&cbd->part_scan_work);
	del_gendisk(disk);
	/* Bios sent down still use the backing: let them end first. */
	cbd_drain_bios(cbd);
	if (!cbd->bio_based)
		blk_mq_free_tag_set(&cbd->tag_set);
	idr_remove(&cbd_idr, cbd->index);

	spin_lock(&cbd->lock);
	b = cbd->backing;
	cbd->backing = NULL;
	spin_unlock(&cbd->lock);
	if (b)
		b->ops->release(b);
	put_disk(disk);
}

/* Take an idle spare away: nobody can have it open, no I/O is anywhere. */
void cbd_spare_destroy(struct cbd_device *cbd)
{
	lockdep_assert_held(&cbd_mutex);
	list_del_init(&cbd->spare_node);
	cbd_set_state(cbd, CINDERBLK_STATE_DYING);
	cbd_destroy(cbd, false, CINDERBLK_STATE_IDLE);
}

/* Remove device @index; when @serial is not 0, only if that add made it. */
static int cbd_remove(u32 index, u64 serial, bool force,
		      struct netlink_ext_ack *extack)
{
	struct cbd_dev_info info;
	struct cbd_device *cbd;
	u32 old_state;
	int ret = 0;

	mutex_lock(&cbd_mutex);
	cbd = cbd_find(index, extack);
	if (!cbd || (serial && cbd->serial != serial)) {
		ret = -ENODEV;
		goto out;
	}
	spin_lock(&cbd->lock);
	if (cbd->open_count && !force) {
		spin_unlock(&cbd->lock);
		NL_SET_ERR_MSG(extack, "device is open; remove with force");
		ret = -EBUSY;
		goto out;
	}
	old_state = cbd->state;
	cbd->state = CINDERBLK_STATE_DYING;
	spin_unlock(&cbd->lock);

	cbd_dev_fill_info(cbd, &info);
	cbd_destroy(cbd, force, old_state);
	cbd_genl_event(CINDERBLK_CMD_EVT_REMOVED, &info);
	cbd_spares_poke();
out:
	mutex_unlock(&cbd_mutex);
	return ret;
}

int cbd_dev_remove(u32 index, bool force, struct netlink_ext_ack *extack)
{
	return cbd_remove(index, 0, force, extack);
}

/*
 * Undo an add whose caller cannot learn its result: force-remove the
 * device that add made, and nothing else. By now the lock was dropped,
 * so the index alone might name another caller's new device.
 */
void cbd_dev_remove_added(const struct cbd_dev_info *info)
{
	cbd_remove(info->index, info->serial, true, NULL);
}

/* Module unload: nobody has a device open (each opener pins the module). */
void cbd_dev_remove_all(void)
{
	struct cbd_device *cbd;
	u32 old_state;
	int id;

	mutex_lock(&cbd_mutex);
	idr_for_each_entry(&cbd_idr, cbd, id) {
		list_del_init(&cbd->spare_node);
		spin_lock(&cbd->lock);
		old_state = cbd->state;
		cbd->state = CINDERBLK_STATE_DYING;
		spin_unlock(&cbd->lock);
		cbd_destroy(cbd, true, old_state);
	}
	mutex_unlock(&cbd_mutex);
}

int cbd_dev_get(u32 index, struct cbd_dev_info *info)
{
	struct cbd_device *cbd;
	int ret = 0;

	mutex_lock(&cbd_mutex);
	cbd = cbd_find(index, NULL);
	if (cbd)
		cbd_dev_fill_info(cbd, info);
	else
		ret = -ENODEV;
	mutex_unlock(&cbd_mutex);
	return ret;
}

/* The device with the lowest index >= *index, for dumps. */
int cbd_dev_get_next(u32 *index, struct cbd_dev_info *info)
{
	struct cbd_device *cbd;
	int id = *index;
	int ret = 0;

	if (*index > INT_MAX)
		return -ENOENT;
	mutex_lock(&cbd_mutex);
	cbd = idr_get_next(&cbd_idr, &id);
	while (cbd && cbd->spare) {
		id++;
		cbd = idr_get_next(&cbd_idr, &id);
	}
	if (cbd) {
		cbd_dev_fill_info(cbd, info);
		*index = id;
	} else {
		ret = -ENOENT;
	}
	mutex_unlock(&cbd_mutex);
	return ret;
}

int cbd_dev_resize(u32 index, u64 size, struct netlink_ext_ack *extack)
{
	struct cbd_device *cbd;
	int ret;

	mutex_lock(&cbd_mutex);
	cbd = cbd_find(index, extack);
	if (!cbd) {
		ret = -ENODEV;
		goto out;
	}
	ret = cbd_check_size(size, cbd->logical_block_size, extack);
	if (ret)
		goto out;
	if (cbd->backing->fixed_size && size != cbd->size) {
		NL_SET_ERR_MSG(extack,
			       "a remap device takes its size from its extent table: suspend and reconfigure with a new table");
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (cbd->backing->max_size && size > cbd->backing->max_size) {
		NL_SET_ERR_MSG(extack, "device larger than its backing");
		ret = -EINVAL;
		goto out;
	}
	cbd->size = size;
	set_capacity_and_notify(cbd->disk, size >> SECTOR_SHIFT);
	cbd_event(cbd, CINDERBLK_CMD_EVT_RESIZED);
out:
	mutex_unlock(&cbd_mutex);
	return ret;
}

/*
 * Suspend: optionally freeze the filesystem on the device (it syncs), then
 * freeze the queue (drains in-flight requests; new ones wait for resume)
 * and make the backing durable.
 */
int cbd_dev_suspend(u32 index, bool freeze, struct netlink_ext_ack *extack)
{
	struct cbd_device *cbd;
	struct request_queue *q;
	int ret;

	mutex_lock(&cbd_mutex);
	cbd = cbd_find(index, extack);
	if (!cbd) {
		ret = -ENODEV;
		goto out;
	}
	if (cbd->state != CINDERBLK_STATE_LIVE) {
		NL_SET_ERR_MSG(extack, "device is not live");
		ret = -EBUSY;
		goto out;
	}
	q = cbd->disk->queue;
	/* The partition scan reads the disk: not into a frozen queue. */
	flush_work(&cbd->part_scan_work);
	if (freeze) {
		ret = cbd_freeze_bdev(cbd->disk->part0);
		if (ret) {
			NL_SET_ERR_MSG(extack, "cannot freeze the filesystem");
			goto out;
		}
		cbd->fs_frozen = true;
	}
	cbd->freeze_memflags = cbd_freeze_queue(q);
	cbd_drain_bios(cbd);
	ret = cbd->backing->ops->flush(cbd->backing);
	if (ret) {
		NL_SET_ERR_MSG(extack, "flushing the backing failed");
		cbd_unfreeze_queue(q, cbd->freeze_memflags);
		if (cbd->fs_frozen)
			cbd_thaw_bdev(cbd->disk->part0);
		cbd->fs_frozen = false;
		goto out;
	}
	cbd_set_state(cbd, CINDERBLK_STATE_SUSPENDED);
	cbd_event(cbd, CINDERBLK_CMD_EVT_SUSPENDED);
out:
	mutex_unlock(&cbd_mutex);
	return ret;
}

int cbd_dev_resume(u32 index, struct netlink_ext_ack *extack)
{
	struct cbd_device *cbd;
	int ret = 0;

	mutex_lock(&cbd_mutex);
	cbd = cbd_find(index, extack);
	if (!cbd) {
		ret = -ENODEV;
		goto out;
	}
	if (cbd->state != CINDERBLK_STATE_SUSPENDED) {
		NL_SET_ERR_MSG(extack, "device is not suspended");
		ret = -EINVAL;
		goto out;
	}
	cbd_unfreeze_queue(cbd->disk->queue, cbd->freeze_memflags);
	if (cbd->fs_frozen)
		cbd_thaw_bdev(cbd->disk->part0);
	cbd->fs_frozen = false;
	cbd_set_state(cbd, CINDERBLK_STATE_LIVE);
	cbd_event(cbd, CINDERBLK_CMD_EVT_RESUMED);
out:
	mutex_unlock(&cbd_mutex);
	return ret;
}

/*
 * Would @cbd end up below itself with backing @b (a file on a file system
 * on a cinderblk disk whose backing ... is on @cbd)? Its I/O would never
 * finish.
 */
static bool cbd_backing_loops(struct cbd_device *cbd, struct cbd_backing *b)
{
	struct cbd_device *lower;
	int depth;

	lockdep_assert_held(&cbd_mutex);
	for (depth = 0; b && depth < 64; depth++) {
		lower = cbd_backing_lower_cbd(b);
		if (!lower)
			return false;
		if (lower == cbd)
			return true;
		b = lower->backing;
	}
	return b;
}

/* Swap the backing of a suspended device: nothing is in flight. */
int cbd_dev_reconfigure(u32 index, const struct cbd_backing_params *bp,
			struct netlink_ext_ack *extack)
{
	struct cbd_backing *b, *old;
	struct cbd_device *cbd;
	struct cbd_limits lim;
	u64 new_size;
	u32 old_flags;
	int ret;

	mutex_lock(&cbd_mutex);
	cbd = cbd_find(index, extack);
	if (!cbd) {
		ret = -ENODEV;
		goto out;
	}
	if (bp->type == CINDERBLK_BACKING_NBD ||
	    cbd->backing->type == CINDERBLK_BACKING_NBD) {
		/* New connections to the same export, suspended or not. */
		if (bp->type != cbd->backing->type) {
			NL_SET_ERR_MSG(extack, "backing type cannot replace this one");
			ret = -EINVAL;
		} else {
			ret = cbd->backing->ops->reconnect(cbd->backing, bp,
							   extack);
		}
		goto out;
	}
	if (cbd->state != CINDERBLK_STATE_SUSPENDED) {
		NL_SET_ERR_MSG(extack, "device must be suspended");
		ret = -EBUSY;
		goto out;
	}
	/* A remap table given here sets the size; without one, it is kept. */
	new_size = bp->type == CINDERBLK_BACKING_REMAP && bp->extents ?
		   0 : cbd->size;
	ret = cbd_backing_create(bp, cbd->want_flags & CINDERBLK_F_READ_ONLY,
				 cbd->logical_block_size, new_size, cbd, &b,
				 extack);
	if (ret)
		goto out;
	if (!!b->ops->submit_bio != cbd->bio_based) {
		NL_SET_ERR_MSG(extack, "backing type cannot replace this one");
		b->ops->release(b);
		ret = -EINVAL;
		goto out;
	}
	new_size = b->fixed_size ? b->max_size : cbd->size;
	if (cbd_backing_loops(cbd, b)) {
		NL_SET_ERR_MSG(extack, "backing lies on this device itself");
		b->ops->release(b);
		ret = -EINVAL;
		goto out;
	}
	ret = cbd_check_stack_depth(b, extack);
	if (ret) {
		b->ops->release(b);
		goto out;
	}
	if (!cbd->bio_based &&
	    sizeof(struct cbd_cmd) + b->ops->cmd_size > cbd->tag_set.cmd_size) {
		NL_SET_ERR_MSG(extack, "backing type cannot replace this one");
		b->ops->release(b);
		ret = -EINVAL;
		goto out;
	}
	old_flags = cbd->flags;
	cbd_make_limits(cbd, b, &lim);
	ret = cbd_update_limits(cbd->disk, &lim);
	if (ret) {
		cbd->flags = old_flags;
		b->ops->release(b);
		goto out;
	}
	spin_lock(&cbd->lock);
	old = cbd->backing;
	WRITE_ONCE(cbd->backing, b);
	spin_unlock(&cbd->lock);
	old->ops->release(old);
	if (new_size != cbd->size) {
		cbd->size = new_size;
		set_capacity_and_notify(cbd->disk, new_size >> SECTOR_SHIFT);
		cbd_event(cbd, CINDERBLK_CMD_EVT_RESIZED);
	}
out:
	mutex_unlock(&cbd_mutex);
	return ret;
}

int cbd_device_init(void)
{
	cbd_major = register_blkdev(0, CINDERBLK_DISK_PREFIX);
	if (cbd_major < 0)
		return cbd_major;
	return 0;
}

void cbd_device_exit(void)
{
	/*
	 * The last closer of a removed disk frees it after dropping its
	 * module reference: wait for that before the code goes away.
	 */
	wait_var_event(&cbd_nr_devices, !atomic_read(&cbd_nr_devices) &&
		       !atomic_read(&cbd_nr_spares));
	unregister_blkdev(cbd_major, CINDERBLK_DISK_PREFIX);
	idr_destroy(&cbd_idr);
}
