// SPDX-License-Identifier: GPL-2.0
/*
 * cinderblk: /dev/cinderblk-control, the ioctl twin of the netlink family,
 * and CINDERBLK_IOC_INFO on /dev/cbdN.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "cinderblk.h"

/* Which control flags each command takes; anything else is EINVAL. */
static u32 cbd_ioc_ctl_flags(unsigned int cmd)
{
	switch (cmd) {
	case CINDERBLK_IOC_DEV_REMOVE:
		return CINDERBLK_CTL_FORCE;
	case CINDERBLK_IOC_DEV_SUSPEND:
		return CINDERBLK_CTL_FREEZE;
	default:
		return 0;
	}
}

/* The remap fields of the reserved space: add and reconfigure only. */
static bool cbd_ioc_takes_extents(unsigned int cmd,
				  const struct cinderblk_ioc_dev *d)
{
	return (cmd == CINDERBLK_IOC_DEV_ADD ||
		cmd == CINDERBLK_IOC_DEV_RECONFIGURE) &&
	       d->backing_type == CINDERBLK_BACKING_REMAP;
}

static int cbd_ioc_check(unsigned int cmd, const struct cinderblk_ioc_dev *d)
{
	size_t remap_fields = offsetofend(struct cinderblk_ioc_dev, __pad2) -
			      offsetof(struct cinderblk_ioc_dev, extents);

	if (d->version != CINDERBLK_IOCTL_VERSION)
		return -EINVAL;
	if (d->__pad || d->__pad2 ||
	    memchr_inv((const char *)d->reserved + remap_fields, 0,
		       sizeof(d->reserved) - remap_fields))
		return -EINVAL;
	if ((d->extents || d->nr_extents) && !cbd_ioc_takes_extents(cmd, d))
		return -EINVAL;
	if (d->ctl_flags & ~cbd_ioc_ctl_flags(cmd))
		return -EINVAL;
	return 0;
}

/* The extent table of an add or reconfigure into @bp (kvfree() it). */
static int cbd_ioc_get_backing(const struct cinderblk_ioc_dev *d,
			       struct cbd_backing_params *bp)
{
	const struct cinderblk_ioc_extent __user *uext;
	struct cinderblk_ioc_extent x;
	struct cbd_extent *ext;
	u32 i;

	/* Sockets and their negotiated flags have no room in the struct. */
	if (d->backing_type == CINDERBLK_BACKING_NBD)
		return -EOPNOTSUPP;
	bp->type = d->backing_type;
	bp->fd = d->backing_fd;
	bp->extents = NULL;
	bp->nr_extents = 0;
	if (!d->nr_extents)
		return d->extents ? -EINVAL : 0;	/* an empty table */
	if (d->nr_extents > cbd_max_extents)
		return -EINVAL;
	ext = kvcalloc(d->nr_extents, sizeof(*ext), GFP_KERNEL);
	if (!ext)
		return -ENOMEM;
	uext = u64_to_user_ptr(d->extents);
	for (i = 0; i < d->nr_extents; i++) {
		if (copy_from_user(&x, &uext[i], sizeof(x))) {
			kvfree(ext);
			return -EFAULT;
		}
		if (x.reserved) {
			kvfree(ext);
			return -EINVAL;
		}
		ext[i].start = x.start;
		ext[i].length = x.length;
		ext[i].lower_offset = x.lower_offset;
	}
	bp->extents = ext;
	bp->nr_extents = d->nr_extents;
	return 0;
}

static void cbd_ioc_fill(struct cinderblk_ioc_dev *d,
			 const struct cbd_dev_info *info)
{
	memset(d, 0, sizeof(*d));
	d->version = CINDERBLK_IOCTL_VERSION;
	d->index = info->index;
	d->size = info->size;
	d->logical_block_size = info->logical_block_size;
	d->physical_block_size = info->physical_block_size;
	d->flags = info->flags;
	d->backing_type = info->backing_type;
	d->backing_fd = -1;
	d->nr_hw_queues = info->nr_hw_queues;
	d->queue_depth = info->queue_depth;
	d->io_timeout_ms = info->io_timeout_ms;
	d->state = info->state;
	d->open_count = info->open_count;
	strscpy(d->volume_id, info->volume_id, sizeof(d->volume_id));
}

static int cbd_ioc_add(struct cinderblk_ioc_dev *d, void __user *argp)
{
	struct cbd_add_params p = { };
	struct cbd_dev_info info;
	int ret;

	/* 36 characters, then only NULs up to the end of the field. */
	if (memchr_inv(d->volume_id + CINDERBLK_VOLUME_ID_LEN, 0,
		       sizeof(d->volume_id) - CINDERBLK_VOLUME_ID_LEN))
		return -EINVAL;
	p.index = d->index;
	p.size = d->size;
	p.logical_block_size = d->logical_block_size;
	p.physical_block_size = d->physical_block_size;
	p.flags = d->flags;
	p.nr_hw_queues = d->nr_hw_queues;
	p.queue_depth = d->queue_depth;
	p.io_timeout_ms = d->io_timeout_ms;
	memcpy(p.volume_id, d->volume_id, CINDERBLK_VOLUME_ID_LEN);
	ret = cbd_ioc_get_backing(d, &p.backing);
	if (ret)
		return ret;

	ret = cbd_dev_add(&p, &info, NULL);
	kvfree(p.backing.extents);
	if (ret)
		return ret;
	cbd_ioc_fill(d, &info);
	if (copy_to_user(argp, d, sizeof(*d))) {
		/* The caller cannot learn the device: take it away again. */
		cbd_dev_remove_added(&info);
		return -EFAULT;
	}
	return 0;
}

static int cbd_ioc_get(struct cinderblk_ioc_dev *d, void __user *argp)
{
	struct cbd_dev_info info;
	int ret;

	ret = cbd_dev_get(d->index, &info);
	if (ret)
		return ret;
	cbd_ioc_fill(d, &info);
	if (copy_to_user(argp, d, sizeof(*d)))
		return -EFAULT;
	return 0;
}

static long cbd_control_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	void __user *argp = (void __user *)arg;
	struct cbd_backing_params bp;
	struct cinderblk_ioc_dev d;
	int ret;

	switch (cmd) {
	case CINDERBLK_IOC_DEV_GET:
		break;
	case CINDERBLK_IOC_DEV_ADD:
	case CINDERBLK_IOC_DEV_REMOVE:
	case CINDERBLK_IOC_DEV_RESIZE:
	case CINDERBLK_IOC_DEV_SUSPEND:
	case CINDERBLK_IOC_DEV_RESUME:
	case CINDERBLK_IOC_DEV_RECONFIGURE:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		break;
	default:
		return -ENOTTY;
	}

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	ret = cbd_ioc_check(cmd, &d);
	if (ret)
		return ret;

	switch (cmd) {
	case CINDERBLK_IOC_DEV_ADD:
		return cbd_ioc_add(&d, argp);
	case CINDERBLK_IOC_DEV_REMOVE:
		return cbd_dev_remove(d.index, d.ctl_flags & CINDERBLK_CTL_FORCE,
				      NULL);
	case CINDERBLK_IOC_DEV_GET:
		return cbd_ioc_get(&d, argp);
	case CINDERBLK_IOC_DEV_RESIZE:
		return cbd_dev_resize(d.index, d.size, NULL);
	case CINDERBLK_IOC_DEV_SUSPEND:
		return cbd_dev_suspend(d.index,
				       d.ctl_flags & CINDERBLK_CTL_FREEZE, NULL);
	case CINDERBLK_IOC_DEV_RESUME:
		return cbd_dev_resume(d.index, NULL);
	case CINDERBLK_IOC_DEV_RECONFIGURE:
		ret = cbd_ioc_get_backing(&d, &bp);
		if (ret)
			return ret;
		ret = cbd_dev_reconfigure(d.index, &bp, NULL);
		kvfree(bp.extents);
		return ret;
	}
	return -ENOTTY;
}

/* CINDERBLK_IOC_INFO on /dev/cbdN: open to whoever can open the disk. */
int cbd_bdev_ioctl_info(struct cbd_device *cbd, void __user *arg)
{
	struct cinderblk_ioc_info out;
	struct cbd_dev_info info;

	cbd_dev_fill_info(cbd, &info);
	memset(&out, 0, sizeof(out));
	out.version = CINDERBLK_IOCTL_VERSION;
	out.index = info.index;
	out.size = info.size;
	out.backing_type = info.backing_type;
	out.state = info.state;
	out.flags = info.flags;
	strscpy(out.volume_id, info.volume_id, sizeof(out.volume_id));
	if (copy_to_user(arg, &out, sizeof(out)))
		return -EFAULT;
	return 0;
}

static const struct file_operations cbd_control_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= cbd_control_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* Readable by all (GET); every mutation checks CAP_SYS_ADMIN itself. */
static struct miscdevice cbd_control_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= CINDERBLK_CONTROL_NAME,
	.fops	= &cbd_control_fops,
	.mode	= 0644,
};

int cbd_control_init(void)
{
	return misc_register(&cbd_control_dev);
}

void cbd_control_exit(void)
{
	misc_deregister(&cbd_control_dev);
}
