// SPDX-License-Identifier: GPL-2.0
/*
 * cinderblk: the "file" backing. Requests go to an open regular file or
 * block device as asynchronous direct I/O kiocbs, submitted straight from
 * queue_rq (no worker thread in between): this is the fast path. Buffered
 * synchronous I/O is the fallback when the file cannot do direct I/O or a
 * request is not aligned for it. Flush, discard and write zeroes run on a
 * workqueue so that they do not hold up the hardware queue.
 *
 * When the file completes I/O synchronously (a file system on a RAM disk or
 * on pmem: the submitter does all the work, copies included), a submitter
 * with many requests in flight would be bound to one CPU. Such requests are
 * shared with an offload worker: see cbd_file_should_offload().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/llist.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/uio.h>

#include "cinderblk.h"

/*
 * Offload: while sharing, the submitter hands a request to the worker when
 * the worker has fewer than CBD_OFFLOAD_DEPTH waiting, and runs it itself
 * beyond that, so that both keep busy. Sharing starts with a probe: one
 * request in probe_interval is handed over while the worker is idle, to find
 * out whether the submitter has more to give. It ends when requests keep
 * finding the worker idle (one request at a time); the interval then doubles
 * if nothing ever overlapped, so that such a submitter loses almost nothing
 * to the probes.
 */
#define CBD_OFFLOAD_DEPTH		4U
#define CBD_OFFLOAD_IDLE_PROBE		2U
#define CBD_OFFLOAD_IDLE_SHARING	128U
#define CBD_OFFLOAD_PROBE_MIN		8U
#define CBD_OFFLOAD_PROBE_MAX		1024U
#define CBD_OFFLOAD_POLL_NS		(50 * NSEC_PER_USEC)

struct cbd_file_backing {
	struct cbd_backing base;
	struct file *file;
	bool direct;			/* kiocbs with IOCB_DIRECT work */
	unsigned int mem_mask;		/* direct I/O alignment masks */
	unsigned int off_mask;

	/* Reads and writes run by the worker, not by the submitter. */
	struct llist_head offload_list;
	struct work_struct offload_work;
	atomic_t offload_pending;	/* handed over, not yet submitted */
	bool sync_completions;		/* the last direct I/O ended inline */
	bool sharing;			/* submitter and worker share requests */
	bool worker_polling;		/* the worker looks for more, awake */
	bool overlapped;		/* ... and requests met a busy worker */
	unsigned int idle_seen;		/* arrivals in a row to an idle worker */
	unsigned int probe_interval;
	unsigned int probe_countdown;
};

/* Per-request data of this backing (cbd_cmd_priv()). */
struct cbd_file_cmd {
	struct kiocb iocb;
	struct bio_vec *bvec;		/* allocated when several bios */
	atomic_t ref;
	long ret;
	struct cbd_file_backing *fb;
	unsigned long offloaded;	/* bit 0: counted in offload_pending */
	union {
		struct work_struct work;	/* flush, discard, zeroes */
		struct llist_node offload_node;	/* reads and writes */
	};
};

static inline struct cbd_file_backing *to_fb(struct cbd_backing *b)
{
	return container_of(b, struct cbd_file_backing, base);
}

/* Zero what a short read (end of file) left unfilled, from @done bytes. */
static void cbd_file_zero_tail(struct request *rq, unsigned int done)
{
	struct req_iterator it;
	struct bio_vec bv;
	unsigned int pos = 0, skip;

	rq_for_each_segment(bv, rq, it) {
		if (pos + bv.bv_len > done) {
			skip = done > pos ? done - pos : 0;
			memzero_page(bv.bv_page, bv.bv_offset + skip,
				     bv.bv_len - skip);
		}
		pos += bv.bv_len;
	}
}

static blk_status_t cbd_file_rw_status(struct request *rq, long ret)
{
	if (ret < 0)
		return errno_to_blk_status(ret);
	if (ret == blk_rq_bytes(rq))
		return BLK_STS_OK;
	if (req_op(rq) == REQ_OP_READ) {
		/* Reading past the end of the file: a hole, zeroes. */
		cbd_file_zero_tail(rq, ret);
		return BLK_STS_OK;
	}
	return BLK_STS_IOERR;
}

/*
 * An offloaded request leaves offload_pending once it is submitted or ended,
 * whichever comes first, and before its completion can bring the next one.
 */
static void cbd_file_offload_done(struct cbd_file_cmd *fc)
{
	if (test_and_clear_bit(0, &fc->offloaded))
		atomic_dec(&fc->fb->offload_pending);
}

static void cbd_file_end(struct cbd_file_cmd *fc, blk_status_t sts)
{
	cbd_file_offload_done(fc);
	cbd_end_request(cbd_priv_to_rq(fc), sts);
}

static void cbd_file_aio_put(struct cbd_file_cmd *fc)
{
	struct request *rq;

	if (!atomic_dec_and_test(&fc->ref))
		return;
	rq = cbd_priv_to_rq(fc);
	kfree(fc->bvec);
	fc->bvec = NULL;
	cbd_file_end(fc, cbd_file_rw_status(rq, fc->ret));
}

static void cbd_file_aio_complete(struct kiocb *iocb, long ret)
{
	struct cbd_file_cmd *fc = container_of(iocb, struct cbd_file_cmd, iocb);

	fc->ret = ret;
	cbd_file_aio_put(fc);
}

static bool cbd_file_dio_aligned(struct cbd_file_backing *fb,
				 const struct bio_vec *bvec,
				 unsigned int nr_bvec, unsigned int skip,
				 loff_t pos, size_t size)
{
	unsigned int k;
	size_t len;

	if ((pos | size) & fb->off_mask)
		return false;
	for (k = 0; k < nr_bvec && size; k++, skip = 0) {
		len = min_t(size_t, bvec[k].bv_len - skip, size);
		if ((len & fb->off_mask) ||
		    ((bvec[k].bv_offset + skip) & fb->mem_mask))
			return false;
		size -= len;
	}
	return true;
}

static blk_status_t cbd_file_rw_direct(struct cbd_file_backing *fb,
				       struct cbd_file_cmd *fc,
				       struct request *rq, struct iov_iter *iter,
				       loff_t pos, bool write)
{
	struct file *file = fb->file;
	ssize_t ret;

	atomic_set(&fc->ref, 2);
	memset(&fc->iocb, 0, sizeof(fc->iocb));
	fc->iocb.ki_filp = file;
	fc->iocb.ki_pos = pos;
	fc->iocb.ki_complete = cbd_file_aio_complete;
	fc->iocb.ki_flags = IOCB_DIRECT;
	fc->iocb.ki_ioprio = req_get_ioprio(rq);
	if (write)
		fc->iocb.ki_flags |= IOCB_WRITE;
	if (write && (rq->cmd_flags & REQ_FUA))
		fc->iocb.ki_flags |= IOCB_DSYNC;

	if (write)
		ret = file->f_op->write_iter(&fc->iocb, iter);
	else
		ret = file->f_op->read_iter(&fc->iocb, iter);

	/*
	 * Submitted: an offloaded request stops counting as waiting (while
	 * our reference keeps it alive). Then drop that reference; the
	 * completion may run first.
	 */
	cbd_file_offload_done(fc);
	cbd_file_aio_put(fc);
	if (ret != -EIOCBQUEUED)
		cbd_file_aio_complete(&fc->iocb, ret);
	/* A file that finishes I/O inside the call is worth offloading to. */
	if (READ_ONCE(fb->sync_completions) != (ret != -EIOCBQUEUED))
		WRITE_ONCE(fb->sync_completions, ret != -EIOCBQUEUED);
	return BLK_STS_OK;
}

static blk_status_t cbd_file_rw_buffered(struct cbd_file_backing *fb,
					 struct request *rq,
					 struct iov_iter *iter, loff_t pos,
					 bool write)
{
	struct file *file = fb->file;
	struct req_iterator it;
	struct kiocb kiocb;
	struct bio_vec bv;
	ssize_t ret;

	init_sync_kiocb(&kiocb, file);
	kiocb.ki_flags = 0;	/* not the fd's O_DIRECT or O_APPEND */
	kiocb.ki_pos = pos;
	if (write) {
		kiocb.ki_flags |= IOCB_WRITE;
		if (rq->cmd_flags & REQ_FUA)
			kiocb.ki_flags |= IOCB_DSYNC;
		file_start_write(file);
		ret = file->f_op->write_iter(&kiocb, iter);
		file_end_write(file);
	} else {
		ret = file->f_op->read_iter(&kiocb, iter);
		rq_for_each_segment(bv, rq, it)
			flush_dcache_page(bv.bv_page);
	}
	return cbd_file_rw_status(rq, ret);
}

static blk_status_t cbd_file_rw(struct cbd_file_backing *fb,
				struct cbd_file_cmd *fc, struct request *rq)
{
	loff_t pos = (loff_t)blk_rq_pos(rq) << SECTOR_SHIFT;
	bool write = req_op(rq) == REQ_OP_WRITE;
	struct req_iterator rq_iter;
	struct bio *bio = rq->bio;
	struct bio_vec tmp, *bvec;
	unsigned int nr_bvec = 0;
	unsigned int offset;
	struct iov_iter iter;
	blk_status_t sts;

	rq_for_each_bvec(tmp, rq, rq_iter)
		nr_bvec++;

	if (rq->bio != rq->biotail) {
		/* Several bios: gather their (multi-page) vectors in one array. */
		bvec = kmalloc_array(nr_bvec, sizeof(*bvec), GFP_NOIO);
		if (!bvec)
			return BLK_STS_RESOURCE;
		fc->bvec = bvec;
		nr_bvec = 0;
		rq_for_each_bvec(tmp, rq, rq_iter)
			bvec[nr_bvec++] = tmp;
		offset = 0;
	} else {
		/* One bio, maybe split: it may start inside a vector. */
		offset = bio->bi_iter.bi_bvec_done;
		bvec = __bvec_iter_bvec(bio->bi_io_vec, bio->bi_iter);
	}
	iov_iter_bvec(&iter, write ? ITER_SOURCE : ITER_DEST, bvec, nr_bvec,
		      blk_rq_bytes(rq));
	iter.iov_offset = offset;

	if (likely(fb->direct &&
		   cbd_file_dio_aligned(fb, bvec, nr_bvec, offset, pos,
					blk_rq_bytes(rq))))
		return cbd_file_rw_direct(fb, fc, rq, &iter, pos, write);

	sts = cbd_file_rw_buffered(fb, rq, &iter, pos, write);
	if (!READ_ONCE(fb->sync_completions))
		WRITE_ONCE(fb->sync_completions, true);
	kfree(fc->bvec);
	fc->bvec = NULL;
	cbd_file_end(fc, sts);
	return BLK_STS_OK;
}

static blk_status_t cbd_file_fallocate(struct cbd_file_backing *fb,
				       struct request *rq, int mode)
{
	loff_t pos = (loff_t)blk_rq_pos(rq) << SECTOR_SHIFT;
	int ret;

	ret = vfs_fallocate(fb->file, mode | FALLOC_FL_KEEP_SIZE, pos,
			    blk_rq_bytes(rq));
	return errno_to_blk_status(ret);
}

static blk_status_t cbd_file_write_zeroes(struct cbd_file_backing *fb,
					  struct request *rq)
{
	blk_status_t sts;

	sts = cbd_file_fallocate(fb, rq, FALLOC_FL_ZERO_RANGE);
	/* tmpfs and others only punch holes: reads of a hole give zeroes. */
	if (sts == BLK_STS_NOTSUPP)
		sts = cbd_file_fallocate(fb, rq, FALLOC_FL_PUNCH_HOLE);
	return sts;
}

static void cbd_file_work(struct work_struct *work)
{
	struct cbd_file_cmd *fc = container_of(work, struct cbd_file_cmd, work);
	struct request *rq = cbd_priv_to_rq(fc);
	struct cbd_file_backing *fb = fc->fb;
	unsigned int noio = memalloc_noio_save();
	blk_status_t sts;

	switch (req_op(rq)) {
	case REQ_OP_FLUSH:
		sts = errno_to_blk_status(vfs_fsync(fb->file, 0));
		break;
	case REQ_OP_DISCARD:
		sts = cbd_file_fallocate(fb, rq, FALLOC_FL_PUNCH_HOLE);
		break;
	case REQ_OP_WRITE_ZEROES:
		sts = cbd_file_write_zeroes(fb, rq);
		break;
	default:
		sts = BLK_STS_NOTSUPP;
		break;
	}
	memalloc_noio_restore(noio);
	cbd_end_request(rq, sts);
}

/* Start one batch taken off the list, oldest first. */
static void cbd_file_run_batch(struct cbd_file_backing *fb,
			       struct llist_node *batch)
{
	struct cbd_file_cmd *fc, *next;
	blk_status_t sts;

	batch = llist_reverse_order(batch);
	llist_for_each_entry_safe(fc, next, batch, offload_node) {
		/* Once started, the request may end and be reused: hands off. */
		sts = cbd_file_rw(fb, fc, cbd_priv_to_rq(fc));
		if (sts)
			cbd_file_end(fc, sts);
	}
}

/*
 * While a submitter shares its requests, the next one comes within
 * microseconds: the worker waits a little for it rather than sleep, which
 * spares both sides a wake-up per request.
 */
static struct llist_node *cbd_file_poll(struct cbd_file_backing *fb)
{
	u64 end = local_clock() + CBD_OFFLOAD_POLL_NS;
	struct llist_node *batch;

	while (READ_ONCE(fb->sharing) && !need_resched()) {
		batch = llist_del_all(&fb->offload_list);
		if (batch)
			return batch;
		if (local_clock() > end)
			break;
		cpu_relax();
	}
	return NULL;
}

/* Reads and writes handed to the worker, in the order they came. */
static void cbd_file_offload_work(struct work_struct *work)
{
	struct cbd_file_backing *fb =
		container_of(work, struct cbd_file_backing, offload_work);
	unsigned int noio = memalloc_noio_save();
	struct llist_node *batch;

	WRITE_ONCE(fb->worker_polling, true);
	for (;;) {
		batch = llist_del_all(&fb->offload_list);
		if (!batch)
			batch = cbd_file_poll(fb);
		if (batch) {
			cbd_file_run_batch(fb, batch);
			cond_resched();
			continue;
		}
		WRITE_ONCE(fb->worker_polling, false);
		/* Pairs with llist_add() in hand_over: one of us sees the other. */
		smp_mb();
		if (llist_empty(&fb->offload_list))
			break;
		WRITE_ONCE(fb->worker_polling, true);
	}
	memalloc_noio_restore(noio);
}

static void cbd_file_hand_over(struct cbd_file_backing *fb,
			       struct cbd_file_cmd *fc)
{
	fc->fb = fb;
	atomic_inc(&fb->offload_pending);
	set_bit(0, &fc->offloaded);
	/*
	 * A list that was not empty has its worker coming already; a polling
	 * worker looks at the list once more after it stops polling.
	 */
	if (llist_add(&fc->offload_node, &fb->offload_list) &&
	    !READ_ONCE(fb->worker_polling))
		/*
		 * Beside the submitter, not behind it: a worker on the
		 * submitter's CPU would wait while the submitter, finding
		 * it busy, runs requests itself.
		 */
		queue_work_on(cbd_other_cpu(), cbd_offload_wq,
			      &fb->offload_work);
}

/*
 * Should the worker run this read or write, rather than the submitter? Only
 * the submitters of one device race here, and a lost update only moves a
 * probe: plain reads and writes are enough.
 */
static bool cbd_file_should_offload(struct cbd_file_backing *fb)
{
	unsigned int pending = atomic_read(&fb->offload_pending);
	unsigned int interval;

	switch (READ_ONCE(cbd_file_offload)) {
	case CBD_OFFLOAD_NEVER:
		return false;
	case CBD_OFFLOAD_ALWAYS:
		return true;
	default:
		break;
	}
	if (pending) {
		/* Written only on change: the worker polls next to them. */
		if (READ_ONCE(fb->idle_seen))
			WRITE_ONCE(fb->idle_seen, 0);
		if (!READ_ONCE(fb->overlapped))
			WRITE_ONCE(fb->overlapped, true);
		return pending < CBD_OFFLOAD_DEPTH;
	}
	/*
	 * The file completes asynchronously: the submitter waits for nothing.
	 * With one CPU there is nobody to share with.
	 */
	if (!READ_ONCE(fb->sync_completions) || num_online_cpus() < 2)
		return false;
	if (READ_ONCE(fb->sharing)) {
		/*
		 * A worker faster than the submitter is idle at most arrivals
		 * even when the submitter never waits: once requests did
		 * overlap, only a long run of idle arrivals ends the sharing.
		 */
		if (READ_ONCE(fb->idle_seen) < (READ_ONCE(fb->overlapped) ?
						CBD_OFFLOAD_IDLE_SHARING :
						CBD_OFFLOAD_IDLE_PROBE)) {
			WRITE_ONCE(fb->idle_seen, fb->idle_seen + 1);
			return true;
		}
		/* One request at a time: run them here, probe again later. */
		interval = READ_ONCE(fb->probe_interval);
		if (READ_ONCE(fb->overlapped))
			interval = CBD_OFFLOAD_PROBE_MIN;
		else
			interval = min(interval * 2, CBD_OFFLOAD_PROBE_MAX);
		WRITE_ONCE(fb->probe_interval, interval);
		WRITE_ONCE(fb->probe_countdown, interval);
		WRITE_ONCE(fb->sharing, false);
		return false;
	}
	if (READ_ONCE(fb->probe_countdown)) {
		WRITE_ONCE(fb->probe_countdown, fb->probe_countdown - 1);
		return false;
	}
	/* The probe: hand this one over and see whether more come. */
	WRITE_ONCE(fb->overlapped, false);
	WRITE_ONCE(fb->idle_seen, 0);
	WRITE_ONCE(fb->sharing, true);
	return true;
}

/*
 * The submitter is inside a file system transaction (a writeback of a file
 * system on our disk holds a journal handle) or reclaims memory: the
 * backing file system must not run under that state, a worker does it.
 */
static bool cbd_file_must_punt(void)
{
	return current->journal_info || (current->flags & PF_MEMALLOC);
}

static blk_status_t cbd_file_queue_rq(struct cbd_backing *b,
				      struct request *rq)
{
	struct cbd_file_backing *fb = to_fb(b);
	struct cbd_file_cmd *fc = cbd_cmd_priv(blk_mq_rq_to_pdu(rq));
	struct bio_list *bio_list;
	struct blk_plug *plug;
	blk_status_t sts;

	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		if (unlikely(cbd_file_must_punt()) ||
		    cbd_file_should_offload(fb)) {
			cbd_file_hand_over(fb, fc);
			return BLK_STS_OK;
		}
		/*
		 * queue_rq runs in the submitter's context: inside submit_bio()
		 * of our disk, or while its plug is being flushed. The backing
		 * file system may sleep and may wait for its own bios right
		 * here (writeback of dirty pages in the range, metadata).
		 * Those bios must neither wait on current->bio_list until we
		 * return nor join the plug being flushed (a sleep would flush
		 * it again, from inside its own flush): detach both while the
		 * backing runs. One more level of block stack, no worker.
		 */
		bio_list = current->bio_list;
		plug = current->plug;
		current->bio_list = NULL;
		current->plug = NULL;
		sts = cbd_file_rw(fb, fc, rq);
		current->plug = plug;
		current->bio_list = bio_list;
		return sts;
	case REQ_OP_FLUSH:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		fc->fb = fb;
		INIT_WORK(&fc->work, cbd_file_work);
		queue_work(cbd_wq, &fc->work);
		return BLK_STS_OK;
	default:
		return BLK_STS_NOTSUPP;
	}
}

static int cbd_file_flush(struct cbd_backing *b)
{
	return vfs_fsync(to_fb(b)->file, 0);
}

static int cbd_file_describe(struct cbd_backing *b, char *buf, size_t len)
{
	char *path = file_path(to_fb(b)->file, buf, len);
	size_t n;

	if (IS_ERR(path))
		return PTR_ERR(path);
	n = strlen(path);
	memmove(buf, path, n + 1);
	return n;
}

static struct block_device *cbd_file_lower_bdev(struct cbd_backing *b)
{
	struct file *file = to_fb(b)->file;
	struct inode *inode = file_inode(file);

	if (S_ISBLK(inode->i_mode))
		return cbd_file_bdev(file);
	return inode->i_sb->s_bdev;
}

static void cbd_file_release(struct cbd_backing *b)
{
	struct cbd_file_backing *fb = to_fb(b);

	/* No request is in flight: the worker may only be on its way out. */
	flush_work(&fb->offload_work);
	fput(fb->file);
	atomic_dec(&cbd_backing_refs);
	kfree(fb);
}

/* Per-request data of this backing: what a spare disk is made with. */
const unsigned int cbd_file_cmd_size = sizeof(struct cbd_file_cmd);

static const struct cbd_backing_ops cbd_file_ops = {
	.name		= "file",
	.cmd_size	= sizeof(struct cbd_file_cmd),
	.queue_rq	= cbd_file_queue_rq,
	.flush		= cbd_file_flush,
	.describe	= cbd_file_describe,
	.lower_bdev	= cbd_file_lower_bdev,
	.release	= cbd_file_release,
};

/* How direct I/O must be aligned on this file, if it can do it at all. */
static void cbd_file_probe_dio(struct cbd_file_backing *fb)
{
	struct file *file = fb->file;
	struct inode *inode = file_inode(file);
	unsigned int mem_align = SECTOR_SIZE, off_align = SECTOR_SIZE;
	struct block_device *bdev = NULL;
	struct kstat st;

	fb->direct = cbd_file_can_direct_io(file);
	if (S_ISBLK(inode->i_mode))
		bdev = cbd_file_bdev(file);
	else
		bdev = inode->i_sb->s_bdev;
	if (bdev) {
		mem_align = bdev_dma_alignment(bdev) + 1;
		off_align = bdev_logical_block_size(bdev);
	}
#ifdef STATX_DIOALIGN
	if (!vfs_getattr(&file->f_path, &st, STATX_DIOALIGN,
			 AT_STATX_SYNC_AS_STAT) &&
	    (st.result_mask & STATX_DIOALIGN)) {
		if (!st.dio_offset_align) {
			fb->direct = false;
		} else {
			mem_align = max_t(u32, st.dio_mem_align, 1);
			off_align = st.dio_offset_align;
		}
	}
#endif
	fb->mem_mask = mem_align - 1;
	fb->off_mask = off_align - 1;
	fb->base.dio_mem_align = mem_align;
	fb->base.dio_offset_align = off_align;
}

int cbd_file_backing_create(const struct cbd_backing_params *bp,
			    bool read_only, struct cbd_backing **out,
			    struct netlink_ext_ack *extack)
{
	struct cbd_file_backing *fb;
	struct block_device *bdev;
	struct inode *inode;
	struct file *file;
	int ret;

	file = bp->fd >= 0 ? fget(bp->fd) : NULL;
	if (!file) {
		NL_SET_ERR_MSG(extack, "bad backing file descriptor");
		return -EBADF;
	}
	inode = file_inode(file);
	if (!S_ISREG(inode->i_mode) && !S_ISBLK(inode->i_mode)) {
		NL_SET_ERR_MSG(extack, "backing must be a regular file or a block device");
		ret = -EINVAL;
		goto err;
	}
	if (!(file->f_mode & FMODE_READ) || !file->f_op->read_iter) {
		NL_SET_ERR_MSG(extack, "backing file descriptor is not open for reading");
		ret = -EBADF;
		goto err;
	}
	if (!read_only &&
	    (!(file->f_mode & FMODE_WRITE) || !file->f_op->write_iter)) {
		NL_SET_ERR_MSG(extack, "read-write device needs a backing open for writing");
		ret = -EBADF;
		goto err;
	}

	ret = -ENOMEM;
	fb = kzalloc(sizeof(*fb), GFP_KERNEL);
	if (!fb)
		goto err;
	fb->file = file;
	init_llist_head(&fb->offload_list);
	INIT_WORK(&fb->offload_work, cbd_file_offload_work);
	fb->probe_interval = CBD_OFFLOAD_PROBE_MIN;
	fb->base.ops = &cbd_file_ops;
	fb->base.type = CINDERBLK_BACKING_FILE;

	if (S_ISBLK(inode->i_mode)) {
		bdev = cbd_file_bdev(file);
		if (cbd_is_cbd_disk(bdev->bd_disk)) {
			NL_SET_ERR_MSG(extack, "backing is a cinderblk device");
			ret = -EINVAL;
			goto err_free;
		}
		fb->base.max_size = bdev_nr_bytes(bdev);
		/* Punching a hole in a disk is a zeroout without fallback. */
		fb->base.can_discard = bdev_write_zeroes_sectors(bdev) > 0;
		fb->base.can_write_zeroes = true;
		fb->base.discard_granularity = bdev_logical_block_size(bdev);
	} else {
		fb->base.can_discard = !!file->f_op->fallocate;
		fb->base.can_write_zeroes = !!file->f_op->fallocate;
		fb->base.discard_granularity = inode->i_sb->s_blocksize;
	}
	cbd_file_probe_dio(fb);
	atomic_inc(&cbd_backing_refs);
	*out = &fb->base;
	return 0;

err_free:
	kfree(fb);
err:
	fput(file);
	return ret;
}
