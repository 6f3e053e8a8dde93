// SPDX-License-Identifier: GPL-2.0
/*
 * cinderblk: spare disks. Most of what an add costs is adding a disk to the
 * system (device_add_disk(): sysfs, the device node, blk-mq debugfs, the
 * bdi) and allocating its tag set. As loop keeps unbound devices, the module
 * keeps a few blk-mq disks for the file backing made ahead of time: idle (no
 * backing, capacity 0, cannot be opened, not reported by GET or dumps). An
 * add that fits one configures it (cbd_configure_spare()) and a worker makes
 * the next spare in the background. A removed device goes away as before;
 * spares are never reused, so nothing of one volume reaches the next.
 *
 * spare_devices (module parameter, runtime-writable) is how many the pool
 * keeps; 0 makes every add create its disk.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/list.h>
#include <linux/workqueue.h>

#include "cinderblk.h"

/* Idle spares, lowest index first. Under cbd_mutex, as all below. */
static LIST_HEAD(cbd_spare_list);
static unsigned int cbd_nr_idle;
static unsigned int cbd_spare_target = 2;
static bool cbd_spares_on;		/* between start and stop */
static struct cbd_device *cbd_spare_building;	/* reserved, being built */

static void cbd_spare_work_fn(struct work_struct *work);
static DECLARE_WORK(cbd_spare_work, cbd_spare_work_fn);

/*
 * Building a spare takes a few milliseconds: beside the add that took one,
 * on another CPU, not preempting it.
 */
static void cbd_spare_refill(void)
{
	queue_work_on(cbd_other_cpu(), system_long_wq, &cbd_spare_work);
}

static void cbd_spare_insert(struct cbd_device *cbd)
{
	struct cbd_device *pos;

	list_for_each_entry(pos, &cbd_spare_list, spare_node) {
		if (pos->index > cbd->index)
			break;
	}
	list_add_tail(&cbd->spare_node, &pos->spare_node);
	cbd_nr_idle++;
}

/*
 * Make or take away spares until the pool has what spare_devices says.
 * One at a time, by this work item only; a spare is built without
 * cbd_mutex held, so that adds and removes go on meanwhile.
 */
static void cbd_spare_work_fn(struct work_struct *work)
{
	struct cbd_device *cbd;
	unsigned int target;
	int ret;

	for (;;) {
		mutex_lock(&cbd_mutex);
		target = cbd_spares_on ? READ_ONCE(cbd_spare_target) : 0;
		while (cbd_nr_idle > target) {
			cbd = list_last_entry(&cbd_spare_list, struct cbd_device,
					      spare_node);
			cbd_nr_idle--;
			cbd_spare_destroy(cbd);
		}
		if (cbd_nr_idle >= target) {
			mutex_unlock(&cbd_mutex);
			return;
		}
		cbd = cbd_spare_reserve();
		if (IS_ERR(cbd)) {
			mutex_unlock(&cbd_mutex);
			/* Every index in use is no fault: adds make disks. */
			if (PTR_ERR(cbd) != -ENOSPC)
				pr_warn_ratelimited("cannot make a spare disk: %ld\n",
						    PTR_ERR(cbd));
			return;
		}
		cbd_spare_building = cbd;
		mutex_unlock(&cbd_mutex);

		ret = cbd_spare_build(cbd);

		mutex_lock(&cbd_mutex);
		cbd_spare_building = NULL;
		if (ret)
			cbd_spare_unreserve(cbd);
		else
			cbd_spare_insert(cbd);
		mutex_unlock(&cbd_mutex);
		if (ret) {
			pr_warn_ratelimited("cannot make a spare disk: %d\n", ret);
			return;
		}
	}
}

/*
 * An idle spare for an add of @p (file backing, parameters already
 * checked), out of the pool; NULL if none fits, and the add makes its own
 * disk. With an index asked for, only the spare of that index fits.
 */
struct cbd_device *cbd_spare_take(const struct cbd_add_params *p)
{
	struct cbd_device *cbd;

	lockdep_assert_held(&cbd_mutex);
	list_for_each_entry(cbd, &cbd_spare_list, spare_node) {
		if (p->index != CINDERBLK_INDEX_ANY && cbd->index != p->index)
			continue;
		/* Spares differ only in their index: one misfit, all do. */
		if (cbd->nr_hw_queues != p->nr_hw_queues ||
		    cbd->queue_depth != p->queue_depth)
			return NULL;
		list_del_init(&cbd->spare_node);
		cbd_nr_idle--;
		if (cbd_spares_on)
			cbd_spare_refill();
		return cbd;
	}
	return NULL;
}

/*
 * The add of a device at @index does not fit the spare there: away with
 * it. -EAGAIN: that spare is being built; cbd_spares_flush(), then again.
 */
int cbd_spare_evict(u32 index)
{
	struct cbd_device *cbd;

	lockdep_assert_held(&cbd_mutex);
	if (cbd_spare_building && cbd_spare_building->index == index)
		return -EAGAIN;
	list_for_each_entry(cbd, &cbd_spare_list, spare_node) {
		if (cbd->index == index) {
			cbd_nr_idle--;
			cbd_spare_destroy(cbd);
			if (cbd_spares_on)
				cbd_spare_refill();
			return 0;
		}
	}
	return 0;
}

/* Wait for the spare being built, if any (without cbd_mutex held). */
void cbd_spares_flush(void)
{
	flush_work(&cbd_spare_work);
}

/* Module loaded: fill the pool now, so that the first add is fast too. */
void cbd_spares_start(void)
{
	mutex_lock(&cbd_mutex);
	cbd_spares_on = true;
	cbd_spare_refill();
	mutex_unlock(&cbd_mutex);
	flush_work(&cbd_spare_work);
}

/* Module going: no more spares, and away with those there are. */
void cbd_spares_stop(void)
{
	mutex_lock(&cbd_mutex);
	cbd_spares_on = false;
	mutex_unlock(&cbd_mutex);
	cancel_work_sync(&cbd_spare_work);
	/* Not queued again: it would only take spares away. */
	cbd_spare_work_fn(NULL);
}

/*
 * spare_devices: set at load or at any time after. The pool follows in the
 * background; a write does not wait for it.
 */
static int cbd_spare_devices_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (n > CBD_MAX_SPARES)
		return -EINVAL;
	WRITE_ONCE(cbd_spare_target, n);
	/* At load, before init, start fills the pool; while unloading, nothing. */
	mutex_lock(&cbd_mutex);
	if (cbd_spares_on)
		cbd_spare_refill();
	mutex_unlock(&cbd_mutex);
	return 0;
}

static int cbd_spare_devices_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(cbd_spare_target));
}

const struct kernel_param_ops cbd_spare_devices_ops = {
	.set = cbd_spare_devices_set,
	.get = cbd_spare_devices_get,
};
