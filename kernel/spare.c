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

/* Can an add of @p take spare @cbd (the same queue parameters)? */
static bool cbd_spare_fits(const struct cbd_device *cbd,
			   const struct cbd_add_params *p)
{
	return cbd->nr_hw_queues == p->nr_hw_queues &&
	       cbd->queue_depth == p->queue_depth;
}

/*
 * Spares made when another number of CPUs was online have another default
 * number of hardware queues than adds now ask for: none would fit again.
 */
static bool cbd_spare_is_stale(const struct cbd_device *cbd)
{
	return cbd->nr_hw_queues != cbd_default_hw_queues();
}

static bool cbd_spares_stale(void)
{
	struct cbd_device *cbd;

	list_for_each_entry(cbd, &cbd_spare_list, spare_node) {
		if (cbd_spare_is_stale(cbd))
			return true;
	}
	return false;
}

/* Out of the pool and away with idle spare @cbd. */
static void cbd_spare_delete(struct cbd_device *cbd)
{
	cbd_nr_idle--;
	cbd_spare_destroy(cbd);
}

static void cbd_spares_drop_stale(void)
{
	struct cbd_device *cbd, *next;

	lockdep_assert_held(&cbd_mutex);
	list_for_each_entry_safe(cbd, next, &cbd_spare_list, spare_node) {
		if (cbd_spare_is_stale(cbd))
			cbd_spare_delete(cbd);
	}
}

/*
 * Have the worker bring the pool to its target, if it is short or stale
 * (also after a removal: the index it frees may let a short pool grow).
 * Building a spare takes a few milliseconds: on another CPU than the
 * caller's, beside the add that took one, not preempting it.
 */
void cbd_spares_poke(void)
{
	lockdep_assert_held(&cbd_mutex);
	if (cbd_spares_on && (cbd_nr_idle != READ_ONCE(cbd_spare_target) ||
			      cbd_spares_stale()))
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
		cbd_spares_drop_stale();
		target = cbd_spares_on ? READ_ONCE(cbd_spare_target) : 0;
		while (cbd_nr_idle > target)
			cbd_spare_delete(list_last_entry(&cbd_spare_list,
							 struct cbd_device,
							 spare_node));
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
 * disk. With an index asked for, only the spare of that index will do.
 */
struct cbd_device *cbd_spare_take(const struct cbd_add_params *p)
{
	struct cbd_device *cbd, *found = NULL;

	lockdep_assert_held(&cbd_mutex);
	list_for_each_entry(cbd, &cbd_spare_list, spare_node) {
		if (p->index != CINDERBLK_INDEX_ANY && cbd->index != p->index)
			continue;
		if (cbd_spare_fits(cbd, p)) {
			found = cbd;
			break;
		}
		if (p->index != CINDERBLK_INDEX_ANY)
			break;
	}
	if (found) {
		list_del_init(&found->spare_node);
		cbd_nr_idle--;
	}
	/* Also when none fit: the pool may be short or stale. */
	cbd_spares_poke();
	return found;
}

/*
 * Delete the spare at @index, or with CINDERBLK_INDEX_ANY the highest idle
 * one. -EAGAIN: it is being built; -ENOENT: there is none (with ANY only;
 * a given index without a spare is room already).
 */
static int cbd_spare_evict(u32 index)
{
	struct cbd_device *cbd, *victim = NULL;

	lockdep_assert_held(&cbd_mutex);
	if (cbd_spare_building && (index == CINDERBLK_INDEX_ANY ||
				   cbd_spare_building->index == index))
		return -EAGAIN;
	list_for_each_entry(cbd, &cbd_spare_list, spare_node) {
		if (index == CINDERBLK_INDEX_ANY || cbd->index == index)
			victim = cbd;
	}
	if (!victim)
		return index == CINDERBLK_INDEX_ANY ? -ENOENT : 0;
	cbd_spare_delete(victim);
	cbd_spares_poke();
	return 0;
}

/*
 * An add that cannot take a spare needs the index a spare holds: @index,
 * or with CINDERBLK_INDEX_ANY any (every free index is a spare's). Deletes
 * that spare, waiting for it to be built first: cbd_mutex is dropped for
 * that and taken again. 0 when there is room, -ENOENT when no spare was
 * there to make it.
 */
int cbd_spare_make_room(u32 index)
{
	int ret;

	lockdep_assert_held(&cbd_mutex);
	while ((ret = cbd_spare_evict(index)) == -EAGAIN) {
		mutex_unlock(&cbd_mutex);
		flush_work(&cbd_spare_work);
		mutex_lock(&cbd_mutex);
	}
	return ret;
}

/* Module loaded: fill the pool now, so that the first add is fast too. */
void cbd_spares_start(void)
{
	mutex_lock(&cbd_mutex);
	cbd_spares_on = true;
	cbd_spares_poke();
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
	cbd_spares_poke();
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
